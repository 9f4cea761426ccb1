//! Result codes: CONNACK, device-side `result_code`, OTA.

/// CONNACK return codes as IoTDA documents them (设备连接鉴权).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnackCode {
    /// 0x00: accepted.
    Accepted = 0,
    /// 0x01: protocol version refused.
    BadProtocolVersion = 1,
    /// 0x02: client ID not in the required format, or keepalive outside 30..=1200 s.
    IdentifierRejected = 2,
    /// 0x03: server unavailable.
    ServerUnavailable = 3,
    /// 0x04: bad username or password.
    BadCredentials = 4,
    /// 0x05: not authorised.
    NotAuthorized = 5,
}

impl ConnackCode {
    /// From the CONNACK byte (`+QMTCONN: <idx>,0,<ret_code>`).
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Accepted,
            1 => Self::BadProtocolVersion,
            2 => Self::IdentifierRejected,
            3 => Self::ServerUnavailable,
            4 => Self::BadCredentials,
            5 => Self::NotAuthorized,
            _ => return None,
        })
    }

    /// What IoTDA means by it.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Accepted => "connection accepted",
            Self::BadProtocolVersion => "MQTT protocol version not supported",
            Self::IdentifierRejected => {
                "client ID not in the required format, or keepalive outside 30..=1200 s"
            }
            Self::ServerUnavailable => "server unavailable",
            Self::BadCredentials => "bad username or password",
            Self::NotAuthorized => "not authorised",
        }
    }
}

/// Keepalive limits IoTDA enforces (seconds); 120 is recommended.
pub const KEEPALIVE_RANGE: std::ops::RangeInclusive<u16> = 30..=1200;

/// The Python SDK's `IotResult` codes, used in command and property-set responses.
pub mod iot_result {
    /// Success.
    pub const SUCCESS: i64 = 0;
    /// Failure.
    pub const FAIL: i64 = 1;
    /// Timeout (the agent answers with this when the app does not reply in time).
    pub const TIMEOUT: i64 = 2;
}

/// Maps an app-side reply code (`200` = success, as on the other clouds; `0`
/// accepted too) to an IoTDA `result_code` (0 = success). Other codes pass
/// through unchanged so the application sees them in the console.
pub fn result_code_from_app(code: i64) -> i64 {
    if code == 200 || code == 0 {
        iot_result::SUCCESS
    } else {
        code
    }
}

/// OTA `upgrade_progress_report` result codes (iot_06_v5_3031).
pub fn ota_result_meaning(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "success",
        1 => "device in use",
        2 => "poor signal",
        3 => "already the latest version",
        4 => "low battery",
        5 => "insufficient storage",
        6 => "download timeout",
        7 => "package verification failure",
        8 => "unsupported package type",
        9 => "insufficient memory",
        10 => "install failure",
        255 => "internal exception",
        _ => return None,
    })
}
