//! OneNET status and error codes, mapped to meaningful values.
//!
//! Two families exist (see `shared/clouds/onenet.md` §2 and §5.3):
//!
//! * [`AccessCode`] — the MQTT access layer's log codes (11xx, 10xx), shown in
//!   the device log when a CONNECT or a downlink reply is refused. On the wire
//!   a refused CONNECT is CONNACK return code 4 ("bad user name or password").
//! * [`ServiceCode`] — the `code` of a OneJSON reply: 200 is success; the
//!   thing-model service codes 301–313 are known; anything else is kept as
//!   [`ServiceCode::Other`] and the platform's `msg` is surfaced.

use std::fmt;

/// An access-layer failure code from OneNET's device log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccessCode {
    /// 1101: empty client id, username or password.
    InvalidArgument,
    /// 1103: the token does not hold exactly `version`, `res`, `et`, `method`, `sign`.
    InvalidToken,
    /// 1104: `et` is in the past.
    TokenExpired,
    /// 1105: no key is known for the resource.
    SeckeyNotFound,
    /// 1106: the signature does not match.
    SignNotMatch,
    /// 1107: no device with this product id and device name.
    DeviceNotFound,
    /// 1110: `method` is not md5, sha1 or sha256.
    MethodNotSupported,
    /// 1111: `version` is not a known token version.
    InvalidVersion,
    /// 1112: not MQTT 3.1.1.
    ProtocolNotMatch,
    /// 1114: client id / username differ from the device name / product id in `res`.
    ArgumentNotMatchToken,
    /// 1022: a downlink arrived on a topic the device did not subscribe to.
    SubscriptionNotExist,
    /// 1023: a `set_reply` came after the platform's timeout.
    ReplyTooLate,
    /// 1027: a `set_reply` with a bad `id` or bad JSON.
    BadReply,
    /// 1028: a reply whose id the platform no longer knows.
    ReplyIdNotFound,
}

impl AccessCode {
    /// The numeric log code.
    pub fn code(self) -> u16 {
        match self {
            Self::InvalidArgument => 1101,
            Self::InvalidToken => 1103,
            Self::TokenExpired => 1104,
            Self::SeckeyNotFound => 1105,
            Self::SignNotMatch => 1106,
            Self::DeviceNotFound => 1107,
            Self::MethodNotSupported => 1110,
            Self::InvalidVersion => 1111,
            Self::ProtocolNotMatch => 1112,
            Self::ArgumentNotMatchToken => 1114,
            Self::SubscriptionNotExist => 1022,
            Self::ReplyTooLate => 1023,
            Self::BadReply => 1027,
            Self::ReplyIdNotFound => 1028,
        }
    }

    /// Looks a numeric log code up.
    pub fn from_code(code: u16) -> Option<Self> {
        const ALL: [AccessCode; 14] = [
            AccessCode::InvalidArgument,
            AccessCode::InvalidToken,
            AccessCode::TokenExpired,
            AccessCode::SeckeyNotFound,
            AccessCode::SignNotMatch,
            AccessCode::DeviceNotFound,
            AccessCode::MethodNotSupported,
            AccessCode::InvalidVersion,
            AccessCode::ProtocolNotMatch,
            AccessCode::ArgumentNotMatchToken,
            AccessCode::SubscriptionNotExist,
            AccessCode::ReplyTooLate,
            AccessCode::BadReply,
            AccessCode::ReplyIdNotFound,
        ];
        ALL.into_iter().find(|c| c.code() == code)
    }

    /// The platform's own short description.
    pub fn description(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid argument",
            Self::InvalidToken => "invalid token",
            Self::TokenExpired => "token expired",
            Self::SeckeyNotFound => "seckey not found",
            Self::SignNotMatch => "sign not match",
            Self::DeviceNotFound => "device not found",
            Self::MethodNotSupported => "sign method not supported",
            Self::InvalidVersion => "invalid version",
            Self::ProtocolNotMatch => "protocol not match",
            Self::ArgumentNotMatchToken => "argument not match with token",
            Self::SubscriptionNotExist => "subscription not exist",
            Self::ReplyTooLate => "set reply too late",
            Self::BadReply => "bad id field or bad JSON in reply",
            Self::ReplyIdNotFound => "reply id not found",
        }
    }

    /// The MQTT 3.1.1 CONNACK return code a refused CONNECT gets.
    ///
    /// OneNET's design doc says an authentication failure is answered with
    /// return code 4 (bad user name or password); the notes record no use of
    /// 5, so every credential failure maps to 4.
    pub fn connack_code(self) -> u8 {
        4
    }
}

impl fmt::Display for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.description())
    }
}

/// The meaning of a OneJSON reply `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServiceCode {
    /// 200: success.
    Success,
    /// 100: the official C SDK's answer when a property write callback fails.
    DeviceFailure,
    /// 301: JSON format error.
    JsonFormat,
    /// 302: data type error (the value does not match the thing model).
    DataType,
    /// 303: platform internal error.
    Internal,
    /// 304: response error.
    Response,
    /// 305: the product has no thing model.
    NoThingModel,
    /// 306: the device did not answer a set in time.
    Timeout,
    /// 307: invalid product id or device name.
    InvalidDevice,
    /// 308: the device is not online.
    DeviceOffline,
    /// 309: the identifier is not in the thing model.
    IdentifierNotExist,
    /// 310: MQTT access error.
    MqttAccess,
    /// 311: CoAP access error.
    CoapAccess,
    /// 312: invalid message id (must be a string of at most 13 digits).
    InvalidMessageId,
    /// 313: bad request.
    BadRequest,
    /// Any other code.
    Other(i64),
}

impl ServiceCode {
    /// Maps a reply's numeric `code`.
    pub fn from_code(code: i64) -> Self {
        match code {
            200 => Self::Success,
            100 => Self::DeviceFailure,
            301 => Self::JsonFormat,
            302 => Self::DataType,
            303 => Self::Internal,
            304 => Self::Response,
            305 => Self::NoThingModel,
            306 => Self::Timeout,
            307 => Self::InvalidDevice,
            308 => Self::DeviceOffline,
            309 => Self::IdentifierNotExist,
            310 => Self::MqttAccess,
            311 => Self::CoapAccess,
            312 => Self::InvalidMessageId,
            313 => Self::BadRequest,
            other => Self::Other(other),
        }
    }

    /// The numeric code.
    pub fn code(self) -> i64 {
        match self {
            Self::Success => 200,
            Self::DeviceFailure => 100,
            Self::JsonFormat => 301,
            Self::DataType => 302,
            Self::Internal => 303,
            Self::Response => 304,
            Self::NoThingModel => 305,
            Self::Timeout => 306,
            Self::InvalidDevice => 307,
            Self::DeviceOffline => 308,
            Self::IdentifierNotExist => 309,
            Self::MqttAccess => 310,
            Self::CoapAccess => 311,
            Self::InvalidMessageId => 312,
            Self::BadRequest => 313,
            Self::Other(c) => c,
        }
    }

    /// Whether the code means success.
    pub fn is_success(self) -> bool {
        self == Self::Success
    }

    /// A short description.
    pub fn description(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::DeviceFailure => "device failed to apply the request",
            Self::JsonFormat => "json format error",
            Self::DataType => "data type error",
            Self::Internal => "internal error",
            Self::Response => "resp error",
            Self::NoThingModel => "no thing-model",
            Self::Timeout => "timeout",
            Self::InvalidDevice => "invalid pid or devName",
            Self::DeviceOffline => "device not online",
            Self::IdentifierNotExist => "identifier not exist",
            Self::MqttAccess => "mqtt acc error",
            Self::CoapAccess => "coap acc error",
            Self::InvalidMessageId => "invalid msg id",
            Self::BadRequest => "bad request",
            Self::Other(_) => "unlisted code",
        }
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_codes_round_trip_and_refuse_with_connack_4() {
        for code in [
            1101u16, 1103, 1104, 1105, 1106, 1107, 1110, 1111, 1112, 1114, 1022, 1023, 1027, 1028,
        ] {
            let c = AccessCode::from_code(code).expect("listed code");
            assert_eq!(c.code(), code);
            assert_eq!(c.connack_code(), 4);
        }
        assert_eq!(AccessCode::from_code(1999), None);
        assert_eq!(AccessCode::TokenExpired.to_string(), "1104 token expired");
    }

    #[test]
    fn service_codes_round_trip() {
        for code in [
            100i64, 200, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312, 313, 999,
        ] {
            assert_eq!(ServiceCode::from_code(code).code(), code);
        }
        assert!(ServiceCode::from_code(200).is_success());
        assert!(!ServiceCode::from_code(302).is_success());
        assert_eq!(ServiceCode::from_code(309), ServiceCode::IdentifierNotExist);
        assert_eq!(ServiceCode::from_code(42), ServiceCode::Other(42));
    }
}
