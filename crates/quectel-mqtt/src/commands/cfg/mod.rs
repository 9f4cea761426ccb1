//! `AT+QMTCFG` (guide §3.2.1): the 17 options of the guide, each as a set command (a
//! `Cfg…` struct) and as a query ([`CfgQuery`] of that struct), plus the test form
//! [`CfgTest`].
//!
//! The query form is the set form with only `<client_idx>`; its reply,
//! `+QMTCFG: "<option>",<values>`, does not repeat the client index. Option names are compared
//! without regard to case in replies (the guide itself writes both `"ssl"` and `"SSL"`).
//!
//! Every form answers within [`QUICK_TIMEOUT`](super::QUICK_TIMEOUT) (300 ms in the v1.6
//! guide, widened for UART pacing). Settings are not saved by the module and only take effect
//! before the client's connection is opened (the guide's "若指定可选参数且 MQTT 连接未创建").

use std::fmt;
use std::marker::PhantomData;

use super::reply::{Field, ReplyShape};
use super::{final_request, line, QUICK_TIMEOUT};
use crate::error::{Error, ParamError};
use crate::params::{check_client, push_arg_int, push_quoted};
use crate::request::{Info, Request, Response, Timing};
use crate::Command;

mod cloud;
mod connection;
mod data;
mod will;

pub use cloud::{
    AliAuth, CfgAliAuth, CfgHwAuth, CfgHwProdId, CfgOneNet, HwAuth, HwAuthConfig, HwProduct,
    HwProductConfig, OneNetAuth, MAX_CREDENTIAL_LEN,
};
pub use connection::{
    CfgKeepalive, CfgPdpCid, CfgQmtPing, CfgSession, CfgSsl, CfgTimeout, CfgVersion, MqttVersion,
    PacketTimeouts, SslMode,
};
pub use data::{
    CfgDataFormat, CfgEditTimeout, CfgRecvMode, CfgSendMode, CfgViewMode, DataFormat, RecvMode,
};
pub use will::{CfgWill, CfgWillEx, Will, WillEx, WillExConfig};

/// The command's name in errors and logs.
const COMMAND: &str = "AT+QMTCFG";
/// The prefix of query and test replies.
const PREFIX: &str = "+QMTCFG:";

/// One `AT+QMTCFG` option: its name and how its query reply reads.
///
/// Implemented by every `Cfg…` set command of this module, so that
/// `CfgQuery::<CfgKeepalive>::new(0)` queries the option that `CfgKeepalive` sets. Options the
/// guide does not list (`"CTWing"` on some firmware) can be added by
/// implementing this trait.
pub trait CfgOption {
    /// The option's name on the AT line, e.g. `"keepalive"`.
    const NAME: &'static str;
    /// The query reply's shape as the guide writes it, for errors.
    const REPLY_SHAPE: &'static str;
    /// The query reply holds a secret: errors never quote it and the query is marked
    /// [`Request::secret`].
    const SECRET_REPLY: bool = false;
    /// The typed query reply.
    type Reply;
    /// Reads the fields after the option's name; `None` when they do not have the shape.
    fn parse_reply(fields: &[Field<'_>]) -> Option<Self::Reply>;
}

/// The start of every set and query line: `AT+QMTCFG="<option>",<client_idx>`.
pub(crate) fn option_line(option: &str, client: u8) -> Result<Vec<u8>, ParamError> {
    check_client(client)?;
    let mut line = line("AT+QMTCFG=");
    push_quoted(&mut line, option);
    push_arg_int(&mut line, client);
    Ok(line)
}

/// A set form's request: answered by `OK` alone.
pub(crate) fn set_request(line: Vec<u8>) -> Request {
    final_request(COMMAND, line, Info::None, QUICK_TIMEOUT)
}

/// `AT+QMTCFG="<option>",<client_idx>`: reads one option of one client.
pub struct CfgQuery<O> {
    pub client: u8,
    option: PhantomData<fn() -> O>,
}

impl<O: CfgOption> CfgQuery<O> {
    pub fn new(client: u8) -> Self {
        CfgQuery {
            client,
            option: PhantomData,
        }
    }
}

impl<O> Clone for CfgQuery<O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O> Copy for CfgQuery<O> {}

impl<O: CfgOption> fmt::Debug for CfgQuery<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CfgQuery")
            .field("option", &O::NAME)
            .field("client", &self.client)
            .finish()
    }
}

impl<O: CfgOption> Command for CfgQuery<O> {
    type Output = O::Reply;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let line = option_line(O::NAME, self.client)?;
        let request = final_request(COMMAND, line, Info::Prefix(PREFIX), QUICK_TIMEOUT);
        // The reply of a credential option holds the secret: keep it out of transcripts.
        Ok(Request {
            secret: O::SECRET_REPLY,
            ..request
        })
    }

    fn parse(&self, response: Response) -> Result<O::Reply, Error> {
        let shape = ReplyShape {
            command: COMMAND,
            prefix: PREFIX,
            shape: O::REPLY_SHAPE,
            secret: O::SECRET_REPLY,
        };
        shape.parse_first(&response, |fields| match fields.split_first() {
            Some((name, values)) if name.text().eq_ignore_ascii_case(O::NAME) => {
                O::parse_reply(values)
            }
            _ => None,
        })
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

/// `AT+QMTCFG=?`: the options this firmware supports, with their ranges.
///
/// Real firmware lists more options than the guide (an EC600S adds `"CTWing"` and
/// `"edit/timeout"`) and in another order, so the reply is kept as listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CfgTest;

/// One line of the `AT+QMTCFG=?` listing, e.g. `"keepalive",(0-5),(0-3600)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedOption {
    /// The option's name as listed, e.g. `"keepalive"`.
    pub option: String,
    /// The rest of the line as listed, e.g. `(0-5),(0-3600)`.
    pub ranges: String,
}

impl SupportedOption {
    /// True when this is the option `name` (compared without regard to case).
    pub fn is(&self, name: &str) -> bool {
        self.option.eq_ignore_ascii_case(name)
    }
}

impl Command for CfgTest {
    type Output = Vec<SupportedOption>;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            COMMAND,
            line("AT+QMTCFG=?"),
            Info::Prefix(PREFIX),
            QUICK_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<Vec<SupportedOption>, Error> {
        let shape = ReplyShape {
            command: COMMAND,
            prefix: PREFIX,
            shape: "+QMTCFG: \"<option>\",<ranges>",
            secret: false,
        };
        shape
            .lines(&response)
            .map(|(line, body)| {
                let after_quote = body
                    .strip_prefix('"')
                    .ok_or_else(|| shape.malformed(line))?;
                let (option, rest) = after_quote
                    .split_once('"')
                    .ok_or_else(|| shape.malformed(line))?;
                let ranges = rest
                    .trim_start_matches(' ')
                    .strip_prefix(',')
                    .unwrap_or(rest)
                    .trim();
                Ok(SupportedOption {
                    option: option.to_owned(),
                    ranges: ranges.to_owned(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::{encode, info, request};

    /// The `AT+QMTCFG=?` listing of a real EC600S (shared/at-logs/09).
    const EC600S_LISTING: &[&str] = &[
        "+QMTCFG: \"version\",(0-5),(3,4)",
        "+QMTCFG: \"pdpcid\",(0-5),(1-15)",
        "+QMTCFG: \"ssl\",(0-5),(0,1),(0-5)",
        "+QMTCFG: \"keepalive\",(0-5),(0-3600)",
        "+QMTCFG: \"session\",(0-5),(0,1)",
        "+QMTCFG: \"timeout\",(0-5),(1-1200),(1-10),(0,1)",
        "+QMTCFG: \"will\",(0-5),(0,1),(0-2),(0,1),\"willtopic\",\"willmessage\"",
        "+QMTCFG: \"willex\",(0-5),(0,1),(0-2),(0,1),\"willtopic\",(0-256)",
        "+QMTCFG: \"recv/mode\",(0-5),(0,1),(0,1)",
        "+QMTCFG: \"send/mode\",(0-5),(0,1)",
        "+QMTCFG: \"onenet\",(0-5),\"product id\",\"access key\"",
        "+QMTCFG: \"aliauth\",(0-5),\"product key\",\"device name\",\"device secret\"",
        "+QMTCFG: \"hwauth\",(0-5),\"device id\",\"device secret\"",
        "+QMTCFG: \"hwprodid\",(0-5),\"product id\",\"product secret\",\"nodeid\"",
        "+QMTCFG: \"qmtping\",(0-5),(5-60)",
        "+QMTCFG: \"dataformat\",(0-5),(0,1),(0,1)",
        "+QMTCFG: \"view/mode\",(0-5),(0,1)",
        "+QMTCFG: \"CTWing\",(0-5),\"client_id\",\"feature_string\"",
        "+QMTCFG: \"edit/timeout\",(0-5),(0,1),(1-180)",
    ];

    #[test]
    fn test_form_lists_every_option_of_a_real_module() {
        assert_eq!(encode(&CfgTest), "AT+QMTCFG=?");
        let req = request(&CfgTest);
        assert_eq!(req.info, Info::Prefix("+QMTCFG:"));
        assert_eq!(req.timeout, QUICK_TIMEOUT);
        let listed = CfgTest.parse(info(EC600S_LISTING)).unwrap();
        assert_eq!(listed.len(), 19);
        assert_eq!(
            listed[0],
            SupportedOption {
                option: "version".into(),
                ranges: "(0-5),(3,4)".into()
            }
        );
        assert_eq!(
            listed[13].ranges,
            "(0-5),\"product id\",\"product secret\",\"nodeid\""
        );
        assert!(listed.iter().any(|o| o.is("ctwing")));
        assert!(listed.iter().any(|o| o.is("edit/timeout")));
        for option in [
            "version",
            "pdpcid",
            "ssl",
            "keepalive",
            "session",
            "timeout",
            "will",
            "willex",
            "recv/mode",
            "aliauth",
            "qmtping",
            "send/mode",
            "onenet",
            "hwauth",
            "hwprodid",
            "dataformat",
            "view/mode",
        ] {
            assert!(listed.iter().any(|o| o.is(option)), "{option}");
        }
    }

    #[test]
    fn test_form_refuses_an_unquoted_option() {
        let err = CfgTest
            .parse(info(&["+QMTCFG: version,(0-5)"]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Reply {
                    command: "AT+QMTCFG",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(CfgTest.parse(info(&[])).unwrap(), vec![]);
    }

    #[test]
    fn query_is_the_option_with_only_the_client_index() {
        let query = CfgQuery::<CfgKeepalive>::new(3);
        assert_eq!(encode(&query), "AT+QMTCFG=\"keepalive\",3");
        let req = request(&query);
        assert_eq!(
            (req.info, req.timeout, req.effect, req.secret),
            (Info::Prefix("+QMTCFG:"), QUICK_TIMEOUT, None, false)
        );
        assert_eq!(query.client(), Some(3));
        assert!(CfgQuery::<CfgKeepalive>::new(6)
            .request(&Timing::default())
            .is_err());
        assert_eq!(
            format!("{query:?}"),
            "CfgQuery { option: \"keepalive\", client: 3 }"
        );
    }

    #[test]
    fn query_reply_must_name_the_queried_option() {
        let query = CfgQuery::<CfgKeepalive>::new(0);
        assert_eq!(
            query.parse(info(&["+QMTCFG: \"KeepAlive\",120"])).unwrap(),
            120
        );
        for bad in [
            &["+QMTCFG: \"session\",120"][..],
            &["+QMTCFG: \"keepalive\",x"],
            &["+QMTCFG: \"keepalive\""],
            &[],
        ] {
            let err = query.parse(info(bad)).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Reply {
                        command: "AT+QMTCFG",
                        ..
                    }
                ),
                "{bad:?}: {err}"
            );
        }
    }
}
