//! The cloud credential options of `AT+QMTCFG`: "aliauth" (Alibaba Cloud), "onenet"
//! (China Mobile OneNET), "hwauth" and "hwprodid" (Huawei IoT).
//!
//! With one of these set, the module derives the MQTT client id, user name and password
//! itself and `AT+QMTCONN` may omit them (guide §3.2.1 note 5). Every set form carries a
//! secret, so its request is marked [`Request::secret`]; every query reply keeps the secret
//! in a [`Secret`], which `Debug` masks, and errors never quote these replies.

use super::connection::set_command;
use super::{option_line, set_request, CfgOption};
use crate::commands::reply::Field;
use crate::commands::Secret;
use crate::error::{Error, ParamError};
use crate::params::{check_quoted, push_arg_quoted};
use crate::request::{Request, Response, Timing};
use crate::Command;

/// The longest credential field accepted, in bytes. The guide gives none; the clouds' own
/// identifiers and keys are shorter (Huawei device ids, the longest, are at most 128).
pub const MAX_CREDENTIAL_LEN: usize = 128;

/// Checks one credential field (1–[`MAX_CREDENTIAL_LEN`] bytes, no framing characters) and
/// appends it to the line.
fn push_credential(line: &mut Vec<u8>, param: &'static str, value: &str) -> Result<(), ParamError> {
    check_quoted(param, value, 1, MAX_CREDENTIAL_LEN)?;
    push_arg_quoted(line, value);
    Ok(())
}

/// A secret-bearing set request.
fn secret_request(line: Vec<u8>) -> Request {
    Request {
        secret: true,
        ..set_request(line)
    }
}

/// `None` when the module reports the option unset: no values, or only empty ones.
fn unset(fields: &[Field<'_>]) -> bool {
    fields.iter().all(|field| field.text().is_empty())
}

/// Alibaba Cloud device credentials (the "device triple").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliAuth {
    pub product_key: String,
    pub device_name: String,
    pub device_secret: Secret,
}

/// `AT+QMTCFG="aliauth",<client_idx>,"<product_key>","<device_name>","<device_secret>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgAliAuth {
    pub client: u8,
    pub auth: AliAuth,
}

impl CfgOption for CfgAliAuth {
    const NAME: &'static str = "aliauth";
    const REPLY_SHAPE: &'static str =
        "+QMTCFG: \"aliauth\",<product_key>,<device_name>,<device_secret>";
    const SECRET_REPLY: bool = true;
    /// `None` when no credentials are set.
    type Reply = Option<AliAuth>;

    fn parse_reply(fields: &[Field<'_>]) -> Option<Option<AliAuth>> {
        match fields {
            _ if unset(fields) => Some(None),
            [product_key, device_name, device_secret] => Some(Some(AliAuth {
                product_key: product_key.text().to_owned(),
                device_name: device_name.text().to_owned(),
                device_secret: Secret::new(device_secret.text()),
            })),
            _ => None,
        }
    }
}

set_command!(CfgAliAuth, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_credential(&mut line, "product_key", &self.auth.product_key)?;
    push_credential(&mut line, "device_name", &self.auth.device_name)?;
    push_credential(&mut line, "device_secret", self.auth.device_secret.expose())?;
    Ok(secret_request(line))
});

/// OneNET product credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneNetAuth {
    pub product_id: String,
    pub access_key: Secret,
}

/// `AT+QMTCFG="onenet",<client_idx>,"<product_id>","<access_key>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgOneNet {
    pub client: u8,
    pub auth: OneNetAuth,
}

impl CfgOption for CfgOneNet {
    const NAME: &'static str = "onenet";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"onenet\",<product_id>,<access_key>";
    const SECRET_REPLY: bool = true;
    /// `None` when no credentials are set.
    type Reply = Option<OneNetAuth>;

    fn parse_reply(fields: &[Field<'_>]) -> Option<Option<OneNetAuth>> {
        match fields {
            _ if unset(fields) => Some(None),
            [product_id, access_key] => Some(Some(OneNetAuth {
                product_id: product_id.text().to_owned(),
                access_key: Secret::new(access_key.text()),
            })),
            _ => None,
        }
    }
}

set_command!(CfgOneNet, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_credential(&mut line, "product_id", &self.auth.product_id)?;
    push_credential(&mut line, "access_key", self.auth.access_key.expose())?;
    Ok(secret_request(line))
});

/// Huawei IoT device credentials (the guide's test listing calls them "device id" and
/// "device secret"; its parameter table says `<product_id>`, `<access_key>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwAuth {
    pub device_id: String,
    pub device_secret: Secret,
}

/// The query reply of "hwauth".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwAuthConfig {
    pub auth: HwAuth,
    /// `<hw_time_enable>`: the platform checks the password's timestamp; absent on firmware
    /// that does not report it.
    pub timestamp_check: Option<bool>,
}

/// `AT+QMTCFG="hwauth",<client_idx>,"<device_id>","<device_secret>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgHwAuth {
    pub client: u8,
    pub auth: HwAuth,
}

impl CfgOption for CfgHwAuth {
    const NAME: &'static str = "hwauth";
    const REPLY_SHAPE: &'static str =
        "+QMTCFG: \"hwauth\",<product_id>,<access_key>[,<hw_time_enable>]";
    const SECRET_REPLY: bool = true;
    /// `None` when no credentials are set.
    type Reply = Option<HwAuthConfig>;

    fn parse_reply(fields: &[Field<'_>]) -> Option<Option<HwAuthConfig>> {
        let (auth_fields, timestamp_check) = match fields {
            _ if unset(fields) => return Some(None),
            [id, secret] => ([id, secret], None),
            [id, secret, time] => ([id, secret], Some(time.flag()?)),
            _ => return None,
        };
        let auth = HwAuth {
            device_id: auth_fields[0].text().to_owned(),
            device_secret: Secret::new(auth_fields[1].text()),
        };
        Some(Some(HwAuthConfig {
            auth,
            timestamp_check,
        }))
    }
}

set_command!(CfgHwAuth, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_credential(&mut line, "device_id", &self.auth.device_id)?;
    push_credential(&mut line, "device_secret", self.auth.device_secret.expose())?;
    Ok(secret_request(line))
});

/// Huawei IoT product-level credentials ("one secret per product").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwProduct {
    pub product_id: String,
    pub product_secret: Secret,
    /// `<product_node>`: the device's node id.
    pub node_id: String,
}

/// The query reply of "hwprodid".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwProductConfig {
    pub auth: HwProduct,
    /// `<hw_time_enable>`, when the firmware reports it.
    pub timestamp_check: Option<bool>,
}

/// `AT+QMTCFG="hwprodid",<client_idx>,"<product_id>","<product_secret>","<product_node>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgHwProdId {
    pub client: u8,
    pub auth: HwProduct,
}

impl CfgOption for CfgHwProdId {
    const NAME: &'static str = "hwprodid";
    const REPLY_SHAPE: &'static str =
        "+QMTCFG: \"hwprodid\",<product_id>,<product_secret>,<product_node>[,<hw_time_enable>]";
    const SECRET_REPLY: bool = true;
    /// `None` when no credentials are set.
    type Reply = Option<HwProductConfig>;

    fn parse_reply(fields: &[Field<'_>]) -> Option<Option<HwProductConfig>> {
        let (auth_fields, timestamp_check) = match fields {
            _ if unset(fields) => return Some(None),
            [id, secret, node] => ([id, secret, node], None),
            [id, secret, node, time] => ([id, secret, node], Some(time.flag()?)),
            _ => return None,
        };
        let auth = HwProduct {
            product_id: auth_fields[0].text().to_owned(),
            product_secret: Secret::new(auth_fields[1].text()),
            node_id: auth_fields[2].text().to_owned(),
        };
        Some(Some(HwProductConfig {
            auth,
            timestamp_check,
        }))
    }
}

set_command!(CfgHwProdId, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_credential(&mut line, "product_id", &self.auth.product_id)?;
    push_credential(
        &mut line,
        "product_secret",
        self.auth.product_secret.expose(),
    )?;
    push_credential(&mut line, "product_node", &self.auth.node_id)?;
    Ok(secret_request(line))
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::{encode, info, refused_param, request};
    use crate::commands::CfgQuery;

    const GUIDE_SECRET: &str = "wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ";

    fn guide_aliauth() -> CfgAliAuth {
        let auth = AliAuth {
            product_key: "oyjtmPI5a5j".into(),
            device_name: "MQTT_TEST".into(),
            device_secret: Secret::new(GUIDE_SECRET),
        };
        CfgAliAuth { client: 0, auth }
    }

    #[test]
    fn aliauth_matches_the_guide_and_is_secret() {
        let req = request(&guide_aliauth());
        assert_eq!(
            String::from_utf8(req.line.clone()).unwrap(),
            "AT+QMTCFG=\"aliauth\",0,\"oyjtmPI5a5j\",\"MQTT_TEST\",\"wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ\""
        );
        assert!(req.secret);
        let mut long = guide_aliauth();
        long.auth.device_secret = Secret::new("s".repeat(MAX_CREDENTIAL_LEN));
        assert!(long.request(&Timing::default()).is_ok());
        long.auth.device_secret = Secret::new("s".repeat(MAX_CREDENTIAL_LEN + 1));
        assert_eq!(refused_param(&long), "device_secret");
        long.auth.device_secret = Secret::new("");
        assert_eq!(refused_param(&long), "device_secret");
        let mut quoted = guide_aliauth();
        quoted.auth.product_key = "a\"b".into();
        assert_eq!(refused_param(&quoted), "product_key");
    }

    #[test]
    fn secret_bearing_values_never_show_the_secret() {
        let set = guide_aliauth();
        assert!(!format!("{set:?}").contains(GUIDE_SECRET), "{set:?}");
        assert!(!format!("{:?}", request(&set)).contains(GUIDE_SECRET));
        let mut bad = guide_aliauth();
        bad.auth.device_secret = Secret::new(format!("{GUIDE_SECRET}\r\n"));
        let err = bad.request(&Timing::default()).unwrap_err();
        assert!(
            !err.to_string().contains(GUIDE_SECRET) && err.to_string().contains("device_secret"),
            "{err}"
        );

        let reply =
            format!("+QMTCFG: \"aliauth\",\"oyjtmPI5a5j\",\"MQTT_TEST\",\"{GUIDE_SECRET}\"");
        let parsed = CfgQuery::<CfgAliAuth>::new(0)
            .parse(info(&[&reply]))
            .unwrap()
            .unwrap();
        assert_eq!(parsed, set.auth);
        assert!(!format!("{parsed:?}").contains(GUIDE_SECRET), "{parsed:?}");
        // A malformed reply's error must not quote the line either.
        let broken = format!("+QMTCFG: \"aliauth\",\"oyjtmPI5a5j\",\"{GUIDE_SECRET}\"");
        let err = CfgQuery::<CfgAliAuth>::new(0)
            .parse(info(&[&broken]))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Reply {
                command: "AT+QMTCFG",
                ..
            }
        ));
        assert!(!err.to_string().contains(GUIDE_SECRET), "{err}");

        let onenet = CfgQuery::<CfgOneNet>::new(0)
            .parse(info(&["+QMTCFG: \"onenet\",\"123456\",\"k3y==\""]))
            .unwrap();
        assert!(!format!("{onenet:?}").contains("k3y=="));
        let hw = CfgQuery::<CfgHwAuth>::new(0)
            .parse(info(&["+QMTCFG: \"hwauth\",\"dev_1\",\"hwS3cret\",1"]))
            .unwrap();
        assert!(!format!("{hw:?}").contains("hwS3cret"));
    }

    #[test]
    fn aliauth_unset_reply() {
        let query = CfgQuery::<CfgAliAuth>::new(0);
        assert_eq!(query.parse(info(&["+QMTCFG: \"aliauth\""])).unwrap(), None);
        assert_eq!(
            query
                .parse(info(&["+QMTCFG: \"aliauth\",\"\",\"\",\"\""]))
                .unwrap(),
            None
        );
        // The line holds no secret but the reply does.
        assert!(query.request(&Timing::default()).is_ok_and(|r| r.secret));
    }

    #[test]
    fn onenet_set_and_query() {
        let set = CfgOneNet {
            client: 1,
            auth: OneNetAuth {
                product_id: "123456".into(),
                access_key: Secret::new("k3y=="),
            },
        };
        let req = request(&set);
        assert_eq!(req.line, b"AT+QMTCFG=\"onenet\",1,\"123456\",\"k3y==\"");
        assert!(req.secret);
        let reply = CfgQuery::<CfgOneNet>::new(1)
            .parse(info(&["+QMTCFG: \"onenet\",\"123456\",\"k3y==\""]))
            .unwrap();
        assert_eq!(reply, Some(set.auth));
        assert!(CfgQuery::<CfgOneNet>::new(1)
            .parse(info(&["+QMTCFG: \"onenet\",\"123456\""]))
            .is_err());
    }

    #[test]
    fn hwauth_set_and_query() {
        let auth = HwAuth {
            device_id: "dev_1".into(),
            device_secret: Secret::new("hwS3cret"),
        };
        let req = request(&CfgHwAuth {
            client: 2,
            auth: auth.clone(),
        });
        assert_eq!(req.line, b"AT+QMTCFG=\"hwauth\",2,\"dev_1\",\"hwS3cret\"");
        assert!(req.secret);
        let query = CfgQuery::<CfgHwAuth>::new(2);
        let reply = query
            .parse(info(&["+QMTCFG: \"hwauth\",\"dev_1\",\"hwS3cret\",1"]))
            .unwrap();
        assert_eq!(
            reply,
            Some(HwAuthConfig {
                auth: auth.clone(),
                timestamp_check: Some(true)
            })
        );
        let reply = query
            .parse(info(&["+QMTCFG: \"hwauth\",\"dev_1\",\"hwS3cret\""]))
            .unwrap();
        assert_eq!(
            reply,
            Some(HwAuthConfig {
                auth,
                timestamp_check: None
            })
        );
        assert!(query
            .parse(info(&["+QMTCFG: \"hwauth\",\"dev_1\",\"s\",2"]))
            .is_err());
    }

    #[test]
    fn hwprodid_set_and_query() {
        let auth = HwProduct {
            product_id: "p1".into(),
            product_secret: Secret::new("ps"),
            node_id: "n1".into(),
        };
        let set = CfgHwProdId {
            client: 0,
            auth: auth.clone(),
        };
        assert_eq!(
            encode(&set),
            "AT+QMTCFG=\"hwprodid\",0,\"p1\",\"ps\",\"n1\""
        );
        assert!(request(&set).secret);
        let mut no_node = set.clone();
        no_node.auth.node_id.clear();
        assert_eq!(refused_param(&no_node), "product_node");
        let query = CfgQuery::<CfgHwProdId>::new(0);
        let reply = query
            .parse(info(&["+QMTCFG: \"hwprodid\",\"p1\",\"ps\",\"n1\",0"]))
            .unwrap();
        assert_eq!(
            reply,
            Some(HwProductConfig {
                auth,
                timestamp_check: Some(false)
            })
        );
    }
}
