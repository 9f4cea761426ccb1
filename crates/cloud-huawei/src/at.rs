//! Module-side authentication: let the Quectel module compute the IoTDA
//! credentials itself.
//!
//! ```text
//! AT+QMTCFG="hwauth",<client_idx>,"<device id>","<device secret>"[,<hw_time_enable>]
//! AT+QMTCFG="hwprodid",<client_idx>,"<product id>","<product secret>","<node id>"[,<hw_time_enable>]
//! ```
//!
//! The parameter lists come from an EC600S answering `AT+QMTCFG=?` and the
//! EC200x/EC600S MQTT guide v1.0. `<hw_time_enable>` appears in the guide only in
//! the *query* response; whether the set form takes it is undocumented, so it is
//! only written when asked for. What the module computes is not published
//! either; the parameter sets match Huawei's Tiny SDK (static = [`crate::auth`],
//! dynamic = [`crate::provision::ProductSecretAuth`]). The portable choice is
//! host-side: compute the credentials and pass them to `AT+QMTCONN` explicitly.

use std::fmt;

use crate::auth::{DeviceSecretAuth, SignType};
use crate::error::{Error, Result};
use crate::provision::ProductSecretAuth;
use crate::Secret;

/// Highest `<client_idx>` the modules accept.
pub const CLIENT_IDX_MAX: u8 = 5;

/// One argument of an AT command.
#[derive(Clone, PartialEq, Eq)]
enum Arg {
    Int(u32),
    Text(String),
    Secret(Secret),
}

/// An `AT+QMTCFG="hwauth"|"hwprodid",…` command. `Debug` masks the secret;
/// [`QmtCfg::line_with_secret`] gives the real line.
#[derive(Clone, PartialEq, Eq)]
pub struct QmtCfg {
    key: &'static str,
    args: Vec<Arg>,
}

fn quoted_ok(field: &'static str, value: &str, secret: bool) -> Result<()> {
    if value.is_empty() {
        return Err(Error::Empty { field });
    }
    if let Some(found) = value.chars().find(|c| *c == '"' || c.is_control()) {
        if secret {
            return Err(Error::Invalid {
                field,
                reason: "contains '\"' or a control character, which an AT string cannot carry"
                    .into(),
            });
        }
        return Err(Error::BadChar {
            field,
            found,
            allowed: "characters other than '\"' and control characters",
        });
    }
    Ok(())
}

fn idx_ok(client_idx: u8) -> Result<()> {
    if client_idx > CLIENT_IDX_MAX {
        return Err(Error::Invalid {
            field: "client_idx",
            reason: format!("{client_idx} is outside 0..={CLIENT_IDX_MAX}"),
        });
    }
    Ok(())
}

fn time_enable(sign: SignType) -> Result<u32> {
    match sign {
        SignType::NoTimestampCheck => Ok(0),
        SignType::TimestampCheck => Ok(1),
        SignType::Sm3 => Err(Error::Invalid {
            field: "sign_type",
            reason: "the module's hw_time_enable selects only 0 or 1 (HMAC-SHA256)".into(),
        }),
    }
}

impl QmtCfg {
    /// `AT+QMTCFG="hwauth",idx,"device id","device secret"` — with
    /// `,<hw_time_enable>` (the sign type, 0 or 1) appended when `with_time_enable`.
    pub fn hwauth(client_idx: u8, auth: &DeviceSecretAuth, with_time_enable: bool) -> Result<Self> {
        idx_ok(client_idx)?;
        quoted_ok("device_id", auth.device_id(), false)?;
        quoted_ok("device_secret", auth.secret().expose(), true)?;
        let mut args = vec![
            Arg::Int(client_idx.into()),
            Arg::Text(auth.device_id().into()),
            Arg::Secret(auth.secret().clone()),
        ];
        if with_time_enable {
            args.push(Arg::Int(time_enable(auth.sign_type())?));
        }
        Ok(Self {
            key: "hwauth",
            args,
        })
    }

    /// `AT+QMTCFG="hwprodid",idx,"product id","product secret","node id"`, with
    /// `,<hw_time_enable>` appended when `with_time_enable`.
    pub fn hwprodid(
        client_idx: u8,
        auth: &ProductSecretAuth,
        with_time_enable: bool,
    ) -> Result<Self> {
        idx_ok(client_idx)?;
        quoted_ok("product_id", auth.product_id(), false)?;
        quoted_ok("product_secret", auth.product_secret().expose(), true)?;
        quoted_ok("node_id", auth.node_id(), false)?;
        let mut args = vec![
            Arg::Int(client_idx.into()),
            Arg::Text(auth.product_id().into()),
            Arg::Secret(auth.product_secret().clone()),
            Arg::Text(auth.node_id().into()),
        ];
        if with_time_enable {
            args.push(Arg::Int(time_enable(auth.sign_type())?));
        }
        Ok(Self {
            key: "hwprodid",
            args,
        })
    }

    /// `hwauth` or `hwprodid`.
    pub fn key(&self) -> &'static str {
        self.key
    }

    fn render(&self, show_secret: bool) -> String {
        let mut line = format!("AT+QMTCFG=\"{}\"", self.key);
        for arg in &self.args {
            match arg {
                Arg::Int(n) => line.push_str(&format!(",{n}")),
                Arg::Text(t) => line.push_str(&format!(",\"{t}\"")),
                Arg::Secret(s) if show_secret => line.push_str(&format!(",\"{}\"", s.expose())),
                Arg::Secret(_) => line.push_str(",\"***\""),
            }
        }
        line
    }

    /// The command line (without CR), secret included, wrapped as a [`Secret`].
    pub fn line_with_secret(&self) -> Secret {
        Secret::new(self.render(true))
    }

    /// The command line with the secret replaced by `***`, for logs.
    pub fn redacted(&self) -> String {
        self.render(false)
    }
}

impl fmt::Debug for QmtCfg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("QmtCfg").field(&self.redacted()).finish()
    }
}
