//! Bring-up and support commands: `AT`, `ATE`, `ATI`, SIM/network status, PDP context,
//! clock, the UFS file system (`AT+QFUPL`, `AT+QFLST`, `AT+QFDEL`) and `AT+QSSLCFG`.

use std::time::Duration;

use crate::module::{DataFor, Module, SslCtx};
use crate::parser::{CommandLine, Form, ParseError};
use crate::qmt::{CmdError, CmdResult};

/// The model name printed by `ATI` and `AT+CGMM`.
pub const MODEL: &str = "EC600S";
/// The revision printed by `ATI` and `AT+CGMR`; it says plainly that this is the emulator.
pub const REVISION: &str = concat!("MODEMSIM_", env!("CARGO_PKG_VERSION"));
/// Largest file `AT+QFUPL` accepts.
pub const MAX_UPLOAD: usize = 1 << 20;
/// Time zone of the emulated network clock, in quarters of an hour (UTC+8).
const TZ_QUARTERS: i64 = 32;

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Local time (UTC+8) as (year, month, day, hour, minute, second).
fn local_time(unix_ms: i64) -> (i64, u32, u32, i64, i64, i64) {
    let secs = unix_ms.div_euclid(1000) + TZ_QUARTERS * 15 * 60;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    (y, m, d, s / 3600, s / 60 % 60, s % 60)
}

/// `+QLTS` text: `"yyyy/MM/dd,hh:mm:ss+zz,0"`. As in Quectel's AT manual, modes 0 (the last
/// network time) and 1 (current GMT) print GMT followed by the zone, mode 2 the local time.
pub fn qlts_text(unix_ms: i64, local: bool) -> String {
    let shift = if local {
        0
    } else {
        -TZ_QUARTERS * 15 * 60 * 1000
    };
    let (y, mo, d, h, mi, s) = local_time(unix_ms + shift);
    format!("\"{y:04}/{mo:02}/{d:02},{h:02}:{mi:02}:{s:02}+{TZ_QUARTERS},0\"")
}

/// `+CCLK` text: `"yy/MM/dd,hh:mm:ss+zz"`.
pub fn cclk_text(unix_ms: i64) -> String {
    let (y, mo, d, h, mi, s) = local_time(unix_ms);
    format!(
        "\"{:02}/{mo:02}/{d:02},{h:02}:{mi:02}:{s:02}+{TZ_QUARTERS}\"",
        y % 100
    )
}

/// The `AT+QFUPL` checksum: XOR of the data taken as big-endian 16-bit words (an odd last
/// byte is the high byte of a final word).
pub fn qfupl_checksum(data: &[u8]) -> u16 {
    data.chunks(2).fold(0u16, |acc, w| {
        acc ^ (u16::from(w[0]) << 8 | u16::from(w.get(1).copied().unwrap_or(0)))
    })
}

/// Strips an optional `UFS:` prefix (any case).
pub fn file_key(name: &str) -> String {
    match name.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("UFS:") => name[4..].to_string(),
        _ => name.to_string(),
    }
}

impl Module {
    pub(crate) fn cmd_basic(&mut self, c: &CommandLine) -> CmdResult {
        let a = &c.args;
        let read = c.form == Form::Read;
        let info = |m: &mut Module, l: &str| m.info_ok(&[l.to_string()]);
        let on = self.radio.on();
        match (c.name.as_str(), c.form) {
            ("", _) | ("V1", _) | ("&F", _) | ("&W", _) => self.ok(),
            ("E0", _) | ("E", _) => {
                self.echo = false;
                self.ok();
            }
            ("E1", _) => {
                self.echo = true;
                self.ok();
            }
            ("I", _) => self.info_ok(&[
                "Quectel".into(),
                MODEL.into(),
                format!("Revision: {REVISION}"),
            ]),
            ("+CGMI", Form::Exec) => info(self, "Quectel"),
            ("+CGMM", Form::Exec) => info(self, MODEL),
            ("+CGMR", Form::Exec) => info(self, REVISION),
            ("+CGSN", Form::Exec) | ("+GSN", Form::Exec) => info(self, "866000000000001"),
            ("+CIMI", Form::Exec) => info(self, "460000000000001"),
            ("+QCCID", Form::Exec) => info(self, "+QCCID: 89860000000000000001"),
            ("+CPIN", Form::Read) => info(self, "+CPIN: READY"),
            ("+CSQ", Form::Exec) if !on => info(self, "+CSQ: 99,99"),
            ("+CSQ", Form::Exec) => info(self, "+CSQ: 31,99"),
            ("+CSQ", Form::Test) => info(self, "+CSQ: (0-31,99),(0-7,99)"),
            // With the radio off (AT+CFUN=0/4): not registered, not searching.
            ("+CEREG", Form::Read) => info(self, &format!("+CEREG: 0,{}", u8::from(on))),
            ("+CREG", Form::Read) => info(self, &format!("+CREG: 0,{}", u8::from(on))),
            ("+CGREG", Form::Read) => info(self, &format!("+CGREG: 0,{}", u8::from(on))),
            ("+CGATT", Form::Read) => info(self, &format!("+CGATT: {}", u8::from(on))),
            ("+COPS", Form::Read) if !on => info(self, "+COPS: 0"),
            ("+COPS", Form::Read) => info(self, "+COPS: 0,0,\"CHINA MOBILE\",7"),
            ("+CEREG", Form::Set) | ("+CREG", Form::Set) | ("+CGREG", Form::Set) => {
                a.int_in(0, 0, 2)?;
                self.ok();
            }
            ("+CMEE", Form::Set) => {
                a.int_in(0, 0, 2)?;
                self.ok();
            }
            ("+QICSGP", Form::Set) => self.qicsgp(c)?,
            ("+QLTS", Form::Exec) | ("+QLTS", Form::Set) => {
                let mode = if c.form == Form::Set {
                    a.int_in(0, 0, 2)?
                } else {
                    0
                };
                let t = qlts_text(self.clock_ms(), mode == 2);
                info(self, &format!("+QLTS: {t}"));
            }
            ("+CCLK", Form::Read) => {
                let t = cclk_text(self.clock_ms());
                info(self, &format!("+CCLK: {t}"));
            }
            ("+QSSLCFG", _) => self.qsslcfg(c)?,
            ("+QFUPL", Form::Set) => self.qfupl(c)?,
            ("+QFLST", _) => {
                let lines = self
                    .files
                    .iter()
                    .map(|(n, d)| format!("+QFLST: \"UFS:{n}\",{}", d.len()))
                    .collect::<Vec<_>>();
                self.info_ok(&lines);
            }
            ("+QFDEL", Form::Set) => {
                let name = a.string(0)?;
                if name == "*" {
                    self.files.clear();
                } else if self.files.remove(&file_key(&name)).is_none() {
                    return Err(CmdError::State("no such file"));
                }
                self.ok();
            }
            _ if read => return Err(CmdError::Unknown),
            _ => return Err(CmdError::Unknown),
        }
        Ok(())
    }

    /// `AT+QICSGP=<cid>[,<type>,"<APN>"[,"<user>","<password>"[,<auth>]]]` (Quectel's TCP/IP
    /// manual); `AT+QICSGP=<cid>` answers
    /// `+QICSGP: <type>,"<APN>","<user>","<password>",<auth>`. Omitted parameters keep their
    /// values.
    fn qicsgp(&mut self, c: &CommandLine) -> CmdResult {
        let a = &c.args;
        let cid = a.int_in(0, 1, 15)? as usize;
        if a.len() == 1 {
            let p = &self.pdp[cid - 1];
            let l = format!(
                "+QICSGP: {},\"{}\",\"{}\",\"{}\",{}",
                p.context_type, p.apn, p.username, p.password, p.auth
            );
            self.info_ok(&[l]);
            return Ok(());
        }
        if a.len() > 6 || a.len() == 4 {
            return Err(ParseError::BadArg(a.len().min(6)).into());
        }
        let mut p = self.pdp[cid - 1].clone();
        p.context_type = a.int_in(1, 1, 3)? as u8;
        if a.len() > 2 {
            p.apn = a.string_len(2, 0, 100)?;
        }
        if a.len() > 4 {
            p.username = a.string_len(3, 0, 127)?;
            p.password = a.string_len(4, 0, 127)?;
        }
        if a.len() > 5 {
            p.auth = a.int_in(5, 0, 3)? as u8;
        }
        self.pdp[cid - 1] = p;
        self.ok();
        Ok(())
    }

    fn qfupl(&mut self, c: &CommandLine) -> CmdResult {
        let a = &c.args;
        let key = file_key(&a.string_len(0, 1, 80)?);
        if key.is_empty() {
            return Err(ParseError::BadArg(0).into());
        }
        let size = a.int_in(1, 1, MAX_UPLOAD as i64)? as usize;
        let timeout = if a.len() > 2 {
            a.int_in(2, 1, 65535)?
        } else {
            5
        };
        if a.len() > 3 {
            a.int_in(3, 0, 1)?;
        }
        if self.files.contains_key(&key) {
            return Err(CmdError::State("file exists (delete it with AT+QFDEL)"));
        }
        self.frame(b"CONNECT");
        self.expect_data(
            size,
            DataFor::Upload { name: key },
            Some(Duration::from_secs(timeout as u64)),
        );
        Ok(())
    }

    pub(crate) fn upload_done(&mut self, name: String, data: Vec<u8>) {
        let line = format!("+QFUPL: {},{:x}", data.len(), qfupl_checksum(&data));
        self.files.insert(name, data);
        self.info_ok(&[line]);
    }

    fn qsslcfg(&mut self, c: &CommandLine) -> CmdResult {
        if c.form == Form::Test {
            self.info_ok(&[
                "+QSSLCFG: \"sslversion\",(0-5),(0-4)".into(),
                "+QSSLCFG: \"ciphersuite\",(0-5),(0X0035,0X002F,0X0005,0X0004,0X000A,0X003D,0XFFFF)".into(),
                "+QSSLCFG: \"cacert\",(0-5),<cacertpath>".into(),
                "+QSSLCFG: \"clientcert\",(0-5),<client_cert_path>".into(),
                "+QSSLCFG: \"clientkey\",(0-5),<client_key_path>".into(),
                "+QSSLCFG: \"seclevel\",(0-5),(0-2)".into(),
                "+QSSLCFG: \"ignorelocaltime\",(0-5),(0,1)".into(),
                "+QSSLCFG: \"negotiatetime\",(0-5),(10-300)".into(),
                "+QSSLCFG: \"sni\",(0-5),(0,1)".into(),
            ]);
            return Ok(());
        }
        if c.form != Form::Set {
            return Err(CmdError::Unknown);
        }
        let a = &c.args;
        let opt = a.string(0)?.to_ascii_lowercase();
        let ctx_i = a.int_in(1, 0, 5)? as usize;
        let query = a.len() == 2;
        if a.len() > 3 {
            return Err(ParseError::TooMany.into());
        }
        let ctx: &mut SslCtx = &mut self.ssl[ctx_i];
        let path = |p: &Option<String>| match p {
            Some(p) => format!("\"UFS:{p}\""),
            None => "\"\"".into(),
        };
        let shown = match opt.as_str() {
            "sslversion" if query => ctx.sslversion.to_string(),
            "sslversion" => {
                ctx.sslversion = a.int_in(2, 0, 4)? as u8;
                String::new()
            }
            "ciphersuite" if query => format!("0X{:04X}", ctx.ciphersuite),
            "ciphersuite" => {
                ctx.ciphersuite = a.int_in(2, 0, 0xFFFF)? as u32;
                String::new()
            }
            "seclevel" if query => ctx.seclevel.to_string(),
            "seclevel" => {
                ctx.seclevel = a.int_in(2, 0, 2)? as u8;
                String::new()
            }
            "ignorelocaltime" if query => ctx.ignorelocaltime.to_string(),
            "ignorelocaltime" => {
                ctx.ignorelocaltime = a.int_in(2, 0, 1)? as u8;
                String::new()
            }
            "negotiatetime" if query => ctx.negotiatetime.to_string(),
            "negotiatetime" => {
                ctx.negotiatetime = a.int_in(2, 10, 300)? as u16;
                String::new()
            }
            "sni" if query => ctx.sni.to_string(),
            "sni" => {
                ctx.sni = a.int_in(2, 0, 1)? as u8;
                String::new()
            }
            "cacert" if query => path(&ctx.cacert),
            "clientcert" if query => path(&ctx.clientcert),
            "clientkey" if query => path(&ctx.clientkey),
            "cacert" | "clientcert" | "clientkey" => {
                let v = Some(file_key(&a.string_len(2, 1, 80)?));
                match opt.as_str() {
                    "cacert" => ctx.cacert = v,
                    "clientcert" => ctx.clientcert = v,
                    _ => ctx.clientkey = v,
                }
                String::new()
            }
            _ => return Err(ParseError::BadArg(0).into()),
        };
        if query {
            self.info_ok(&[format!("+QSSLCFG: \"{opt}\",{ctx_i},{shown}")]);
        } else {
            self.ok();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_texts() {
        // 2020-08-12 00:00:00 UTC = 08:00:00 in UTC+8.
        let t = 1_597_190_400_000;
        assert_eq!(qlts_text(t, true), "\"2020/08/12,08:00:00+32,0\"");
        assert_eq!(qlts_text(t, false), "\"2020/08/12,00:00:00+32,0\"");
        assert_eq!(cclk_text(t), "\"20/08/12,08:00:00+32\"");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn checksum_and_names() {
        assert_eq!(qfupl_checksum(b"\x12\x34\x56\x78"), 0x1234 ^ 0x5678);
        assert_eq!(qfupl_checksum(b"\x12\x34\x56"), 0x1234 ^ 0x5600);
        assert_eq!(file_key("UFS:cacert.pem"), "cacert.pem");
        assert_eq!(file_key("ufs:a"), "a");
        assert_eq!(file_key("cacert.pem"), "cacert.pem");
    }
}
