//! `AT+QICSGP` (Quectel TCP/IP AT manual): the APN and authentication of a PDP context, which
//! `AT+QMTCFG="pdpcid"` points an MQTT client at.

use super::reply::ReplyShape;
use super::{final_request, line, Secret, QUICK_TIMEOUT};
use crate::error::{Error, ParamError};
use crate::params::{check_quoted, check_range, push_arg_int, push_arg_quoted};
use crate::request::{Info, Request, Response, Timing};
use crate::Command;

/// `<APN>`: at most 100 bytes (the 3GPP TS 23.003 limit; Quectel's manual gives none).
const APN_MAX: usize = 100;
/// `<username>` and `<password>`: at most 127 bytes (our bound; Quectel's manual gives none).
const PDP_CREDENTIAL_MAX: usize = 127;

/// `<context_type>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextType {
    /// 1.
    Ipv4,
    /// 2.
    Ipv6,
    /// 3.
    Ipv4v6,
}

impl ContextType {
    pub fn code(self) -> u8 {
        match self {
            ContextType::Ipv4 => 1,
            ContextType::Ipv6 => 2,
            ContextType::Ipv4v6 => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(ContextType::Ipv4),
            2 => Some(ContextType::Ipv6),
            3 => Some(ContextType::Ipv4v6),
            _ => None,
        }
    }
}

/// `<authentication>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdpAuth {
    /// 0.
    None,
    /// 1.
    Pap,
    /// 2.
    Chap,
    /// 3: PAP or CHAP.
    PapOrChap,
}

impl PdpAuth {
    pub fn code(self) -> u8 {
        match self {
            PdpAuth::None => 0,
            PdpAuth::Pap => 1,
            PdpAuth::Chap => 2,
            PdpAuth::PapOrChap => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(PdpAuth::None),
            1 => Some(PdpAuth::Pap),
            2 => Some(PdpAuth::Chap),
            3 => Some(PdpAuth::PapOrChap),
            _ => None,
        }
    }
}

/// A PDP context's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdpContext {
    pub kind: ContextType,
    /// 0–100 bytes.
    pub apn: String,
    /// 0–127 bytes.
    pub username: String,
    /// 0–127 bytes.
    pub password: Secret,
    pub auth: PdpAuth,
}

/// Checks a context id: 1–15.
fn check_context(context: u8) -> Result<(), ParamError> {
    check_range("contextID", context.into(), 1, 15)
}

/// `AT+QICSGP=<contextID>,<context_type>,"<APN>","<username>","<password>",<authentication>`.
///
/// The line holds the password, so the request is always marked secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdpContextSet {
    /// 1–15.
    pub context: u8,
    pub config: PdpContext,
}

impl Command for PdpContextSet {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        check_context(self.context)?;
        let config = &self.config;
        check_quoted("APN", &config.apn, 0, APN_MAX)?;
        check_quoted("username", &config.username, 0, PDP_CREDENTIAL_MAX)?;
        check_quoted("password", config.password.expose(), 0, PDP_CREDENTIAL_MAX)?;
        let mut line = line("AT+QICSGP=");
        line.extend_from_slice(self.context.to_string().as_bytes());
        push_arg_int(&mut line, config.kind.code());
        push_arg_quoted(&mut line, &config.apn);
        push_arg_quoted(&mut line, &config.username);
        push_arg_quoted(&mut line, config.password.expose());
        push_arg_int(&mut line, config.auth.code());
        Ok(Request {
            secret: true,
            ..final_request("AT+QICSGP", line, Info::None, QUICK_TIMEOUT)
        })
    }

    fn parse(&self, _response: Response) -> Result<(), Error> {
        Ok(())
    }
}

/// `AT+QICSGP=<contextID>`: reads a context's settings. The reply holds the password, which
/// is kept in a [`Secret`]; errors never quote the reply and the query is marked secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdpContextQuery {
    /// 1–15.
    pub context: u8,
}

impl Command for PdpContextQuery {
    type Output = PdpContext;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        check_context(self.context)?;
        let line = format!("AT+QICSGP={}", self.context).into_bytes();
        let request = final_request("AT+QICSGP", line, Info::Prefix("+QICSGP:"), QUICK_TIMEOUT);
        // The reply holds the password.
        Ok(Request {
            secret: true,
            ..request
        })
    }

    fn parse(&self, response: Response) -> Result<PdpContext, Error> {
        let shape = ReplyShape {
            command: "AT+QICSGP",
            prefix: "+QICSGP:",
            shape: "+QICSGP: <context_type>,<APN>,<username>,<password>,<authentication>",
            secret: true,
        };
        shape.parse_first(&response, |fields| match fields {
            [kind, apn, username, password, auth] => Some(PdpContext {
                kind: ContextType::from_code(kind.int()?)?,
                apn: apn.quoted()?.to_owned(),
                username: username.quoted()?.to_owned(),
                password: Secret::new(password.quoted()?),
                auth: PdpAuth::from_code(auth.int()?)?,
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::{encode, info, refused_param, request};

    fn set(context: u8, apn: &str, username: &str, password: &str) -> PdpContextSet {
        let config = PdpContext {
            kind: ContextType::Ipv4,
            apn: apn.into(),
            username: username.into(),
            password: Secret::new(password),
            auth: PdpAuth::Pap,
        };
        PdpContextSet { context, config }
    }

    #[test]
    fn set_matches_a_real_log_and_is_secret() {
        // shared/at-logs/01: AT+QICSGP=1,1,"wsim","","",1
        let req = request(&set(1, "wsim", "", ""));
        assert_eq!(req.line, b"AT+QICSGP=1,1,\"wsim\",\"\",\"\",1");
        assert!(req.secret);
        assert_eq!((req.info, req.timeout), (Info::None, QUICK_TIMEOUT));
        let with_password = set(15, "cmnet", "user", "pdpS3cret");
        assert_eq!(
            encode(&with_password),
            "AT+QICSGP=15,1,\"cmnet\",\"user\",\"pdpS3cret\",1"
        );
        assert!(!format!("{with_password:?}").contains("pdpS3cret"));
        assert!(!format!("{:?}", request(&with_password)).contains("pdpS3cret"));
    }

    #[test]
    fn set_bounds() {
        assert_eq!(refused_param(&set(0, "a", "", "")), "contextID");
        assert_eq!(refused_param(&set(16, "a", "", "")), "contextID");
        assert!(set(1, &"a".repeat(APN_MAX), "", "")
            .request(&Timing::default())
            .is_ok());
        assert_eq!(
            refused_param(&set(1, &"a".repeat(APN_MAX + 1), "", "")),
            "APN"
        );
        assert_eq!(
            refused_param(&set(1, "a", &"u".repeat(PDP_CREDENTIAL_MAX + 1), "")),
            "username"
        );
        assert_eq!(
            refused_param(&set(1, "a", "", &"p".repeat(PDP_CREDENTIAL_MAX + 1))),
            "password"
        );
        assert_eq!(refused_param(&set(1, "a\r", "", "")), "APN");
        let err = set(1, "a", "", "p\"w")
            .request(&Timing::default())
            .unwrap_err();
        assert!(
            !err.to_string().contains("p\"w") && err.to_string().contains("password"),
            "{err}"
        );
    }

    #[test]
    fn query() {
        let query = PdpContextQuery { context: 1 };
        let req = request(&query);
        assert_eq!(
            (req.line.as_slice(), req.info),
            (&b"AT+QICSGP=1"[..], Info::Prefix("+QICSGP:"))
        );
        assert!(req.secret);
        assert_eq!(refused_param(&PdpContextQuery { context: 16 }), "contextID");
        let reply = query
            .parse(info(&["+QICSGP: 3,\"CMNET\",\"u\",\"pdpS3cret\",3"]))
            .unwrap();
        assert_eq!(
            (reply.kind, reply.apn.as_str(), reply.auth),
            (ContextType::Ipv4v6, "CMNET", PdpAuth::PapOrChap)
        );
        assert_eq!(reply.password.expose(), "pdpS3cret");
        assert!(!format!("{reply:?}").contains("pdpS3cret"));
        let err = query
            .parse(info(&["+QICSGP: 4,\"CMNET\",\"u\",\"pdpS3cret\",3"]))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Reply {
                command: "AT+QICSGP",
                ..
            }
        ));
        assert!(!err.to_string().contains("pdpS3cret"), "{err}");
    }
}
