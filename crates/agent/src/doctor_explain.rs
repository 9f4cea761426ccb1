//! What `doctor` says about each answer: the signal rating, the registration states, the
//! `+QMTOPEN` results and the CONNACK return codes with per-cloud hints. Pure tables, so
//! `docs/operations.md` can quote them and tests can check them.

use crate::profile::CloudKind;

/// The plain-words rating of `AT+CSQ`'s `<rssi>` (see `docs/operations.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalRating {
    /// 0–9 (-113 to -95 dBm): connections drop and time out.
    Marginal,
    /// 10–14 (-93 to -85 dBm): works, with retries.
    Ok,
    /// 15–19 (-83 to -75 dBm).
    Good,
    /// 20–31 (-73 dBm and better).
    Excellent,
    /// 99 (or out of range): the module does not know — no service, or the radio is off.
    Unknown,
}

impl SignalRating {
    /// The rating of `<rssi>`.
    pub fn of(rssi: u8) -> SignalRating {
        match rssi {
            0..=9 => SignalRating::Marginal,
            10..=14 => SignalRating::Ok,
            15..=19 => SignalRating::Good,
            20..=31 => SignalRating::Excellent,
            _ => SignalRating::Unknown,
        }
    }

    /// The word printed.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalRating::Marginal => "marginal",
            SignalRating::Ok => "ok",
            SignalRating::Good => "good",
            SignalRating::Excellent => "excellent",
            SignalRating::Unknown => "unknown",
        }
    }

    /// What to do about it, when something should be done.
    pub fn hint(self) -> Option<&'static str> {
        match self {
            SignalRating::Marginal => Some(
                "expect drops and timeouts: check the antenna and its cable, move it (higher, \
                 away from metal), or use an external antenna",
            ),
            SignalRating::Unknown => Some(
                "no signal measured: check the antenna, that the radio is on (AT+CFUN? = 1) and \
                 that the band is covered here",
            ),
            _ => None,
        }
    }
}

/// The meaning of `<stat>` in `+CEREG` / `+CREG` (TS 27.007), and whether data can flow.
pub fn registration_meaning(stat: u8) -> (&'static str, bool) {
    match stat {
        0 => ("not registered, not searching", false),
        1 => ("registered, home network", true),
        2 => ("not registered, searching", false),
        3 => ("registration denied", false),
        4 => ("unknown (e.g. out of coverage)", false),
        5 => ("registered, roaming", true),
        6 => ("registered for SMS only, home network", false),
        7 => ("registered for SMS only, roaming", false),
        8 => ("emergency bearer services only", false),
        _ => ("a state TS 27.007 does not define", false),
    }
}

/// What to do about a registration state that does not carry data.
pub fn registration_hint(stat: u8) -> &'static str {
    match stat {
        0 => "the module is not trying: check AT+CFUN? (must be 1) and AT+COPS? (automatic)",
        2 => {
            "still searching: wait a minute; if it stays, check the antenna, coverage and the \
              module's bands for this carrier"
        }
        3 => {
            "the network refuses the SIM: check that it is activated, has a data plan and is \
              not barred (ask the carrier)"
        }
        4 => "out of coverage or unknown: check the antenna and coverage",
        6 | 7 => "the SIM is registered for SMS only: ask the carrier to enable data",
        8 => "emergency service only: the SIM is not accepted (activation, plan, or PIN)",
        _ => "check the antenna, the SIM and coverage",
    }
}

/// The guide's meaning of a `+QMTOPEN` `<result>` (guide §3.2.2) and the likely fix.
pub fn open_result(result: i32) -> (&'static str, &'static str) {
    match result {
        -1 => (
            "failed to open the network",
            "the broker did not accept a connection: check the host and port (cloud.host, \
             cloud.port), that TLS matches the port (cloud.tls), signal and registration",
        ),
        0 => ("network opened", ""),
        1 => (
            "wrong parameter",
            "the host name (1–100 bytes) or port in the profile is not valid",
        ),
        2 => (
            "the MQTT client identifier is occupied",
            "an earlier session holds the client index: AT+QMTCLOSE it (the agent does at start) \
             or pick another module.client_index; power-cycle if it persists",
        ),
        3 => (
            "failed to activate PDP",
            "the data context would not come up: check the APN (module.apn) with the carrier, \
             that the SIM has a data plan, and AT+CGACT?; re-activating the context \
             (AT+CGACT=0,1 then =1,1) or a radio reset (AT+CFUN=0 then =1) may clear it",
        ),
        4 => (
            "failed to parse the domain name",
            "DNS failed: check the host name (cloud.host) for typos, and the carrier's DNS — \
             re-activating the PDP context fetches fresh DNS servers; the broker's IP address \
             in cloud.host tells a DNS fault from a network one",
        ),
        5 => (
            "network connection error",
            "the network went away: check registration (AT+CEREG?), signal and the antenna",
        ),
        _ => (
            "a result the guide does not define",
            "see the module's AT manual",
        ),
    }
}

/// The meaning of a CONNACK return code (`<ret_code>` of `+QMTCONN`, MQTT 3.1.1 §3.2.2.3).
pub fn connack_meaning(code: i32) -> &'static str {
    match code {
        0 => "connection accepted",
        1 => "refused: unacceptable protocol version",
        2 => "refused: identifier rejected",
        3 => "refused: server unavailable",
        4 => "refused: bad user name or password",
        5 => "refused: not authorized",
        _ => "a return code MQTT 3.1.1 does not define",
    }
}

/// What to check when `cloud` refuses a login with CONNACK `code`.
pub fn connack_hint(cloud: CloudKind, code: i32) -> String {
    let generic = match code {
        1 => return "the cloud wants MQTT 3.1.1: do not set the module's \"version\" to 3".into(),
        3 => {
            return "the cloud is unavailable or throttling this device: wait and retry; check \
                    that the host is the right instance or region"
                .into()
        }
        _ => "",
    };
    let cloud_hint = match cloud {
        CloudKind::Aliyun => {
            "Aliyun: check the device secret (cloud.aliyun.device_secret), the product key and \
             device name, and the sign method (cloud.aliyun.sign_method); a device that is \
             disabled or deleted in the console is refused too"
        }
        CloudKind::Huawei => {
            "Huawei: check the device id and secret (cloud.huawei.device_id / secret), and the \
             sign type (cloud.huawei.sign_type): with 1 the platform checks the timestamp, so \
             the clock must be right (see the clock probe)"
        }
        CloudKind::Onenet => {
            "OneNET: check the token — product id (cloud.onenet.product_id), device name, \
             access key and key level (cloud.onenet.key_level); an expired token \
             (cloud.onenet.expires_at / token_ttl) or a wrong clock is refused"
        }
    };
    if generic.is_empty() && code == 2 {
        return format!("the client id was rejected — {cloud_hint}");
    }
    cloud_hint.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_ratings_follow_the_table() {
        let r = |v| SignalRating::of(v).as_str();
        assert_eq!(
            [
                r(0),
                r(9),
                r(10),
                r(14),
                r(15),
                r(19),
                r(20),
                r(31),
                r(32),
                r(99)
            ],
            [
                "marginal",
                "marginal",
                "ok",
                "ok",
                "good",
                "good",
                "excellent",
                "excellent",
                "unknown",
                "unknown"
            ]
        );
        assert!(SignalRating::Marginal.hint().unwrap().contains("antenna"));
        assert!(SignalRating::Good.hint().is_none());
    }

    #[test]
    fn registration_states() {
        assert_eq!(registration_meaning(1), ("registered, home network", true));
        assert!(registration_meaning(5).1);
        assert_eq!(registration_meaning(3), ("registration denied", false));
        assert!(registration_hint(3).contains("data plan"));
        assert!(registration_hint(0).contains("AT+CFUN"));
    }

    #[test]
    fn open_results_name_their_fix() {
        assert!(open_result(4).1.contains("DNS"));
        assert!(open_result(3).1.contains("APN"));
        assert!(open_result(-1).1.contains("host and port"));
        assert!(open_result(5).1.contains("registration"));
        assert_eq!(open_result(4).0, "failed to parse the domain name");
    }

    #[test]
    fn refusals_get_per_cloud_hints() {
        assert!(connack_hint(CloudKind::Aliyun, 4).contains("device secret"));
        assert!(connack_hint(CloudKind::Aliyun, 5).contains("sign method"));
        assert!(connack_hint(CloudKind::Huawei, 4).contains("sign type"));
        assert!(connack_hint(CloudKind::Huawei, 4).contains("clock"));
        assert!(connack_hint(CloudKind::Onenet, 5).contains("expired token"));
        assert!(connack_hint(CloudKind::Onenet, 3).contains("unavailable"));
        assert_eq!(connack_meaning(4), "refused: bad user name or password");
    }
}
