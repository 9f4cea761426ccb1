//! The module's clock: `AT+QLTS` (the time the network last sent, or the clock synced from
//! it) and `AT+CCLK?` (the real-time clock). Both write `"yy/MM/dd,hh:mm:ss±zz"`, where `zz`
//! is the time zone in quarter hours; `AT+QLTS` adds `,<dst>`.

use super::reply::{Field, ReplyShape};
use super::{final_request, line, QUICK_TIMEOUT};
use crate::error::{Error, ParamError};
use crate::request::{Info, Request, Response, Timing};
use crate::Command;

/// A time as the module writes it: local time and its offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleTime {
    /// Four digits (two-digit years are in 2000–2099).
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// The time zone in quarter hours (+32 is UTC+8), -48 to +56.
    pub zone_quarters: i8,
    /// `<dst>` of `AT+QLTS`: daylight saving adjustment in hours (0–2), when given.
    pub dst: Option<u8>,
}

impl ModuleTime {
    /// The offset from UTC in minutes.
    pub fn utc_offset_minutes(&self) -> i32 {
        i32::from(self.zone_quarters) * 15
    }

    /// Parses `yy/MM/dd,hh:mm:ss±zz[,dst]` (also with a four-digit year).
    pub fn parse(text: &str) -> Option<ModuleTime> {
        let (date, rest) = text.split_once(',')?;
        let (clock, dst) = match rest.split_once(',') {
            Some((clock, dst)) => (
                clock,
                Some(dst.trim().parse::<u8>().ok().filter(|d| *d <= 2)?),
            ),
            None => (rest, None),
        };
        let mut date_parts = date.split('/');
        let year_text = date_parts.next()?;
        let year: u16 = match year_text.len() {
            2 => 2000 + year_text.parse::<u16>().ok()?,
            4 => year_text.parse().ok()?,
            _ => return None,
        };
        let month = bounded(date_parts.next()?, 1, 12)?;
        let day = bounded(date_parts.next()?, 1, 31)?;
        let zone_at = clock.rfind(['+', '-'])?;
        let (time, zone) = clock.split_at(zone_at);
        let mut time_parts = time.split(':');
        let hour = bounded(time_parts.next()?, 0, 23)?;
        let minute = bounded(time_parts.next()?, 0, 59)?;
        let second = bounded(time_parts.next()?, 0, 59)?;
        let zone_quarters: i8 = zone.parse().ok().filter(|q| (-48..=56).contains(q))?;
        if date_parts.next().is_some() || time_parts.next().is_some() {
            return None;
        }
        Some(ModuleTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            zone_quarters,
            dst,
        })
    }
}

/// A two-digit field in `min..=max`.
fn bounded(text: &str, min: u8, max: u8) -> Option<u8> {
    if text.len() != 2 {
        return None;
    }
    text.parse().ok().filter(|v| (min..=max).contains(v))
}

/// `<mode>` of `AT+QLTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMode {
    /// 0: the time the network last sent (NITZ).
    LastSynced = 0,
    /// 1: the current GMT time computed from the last sync.
    CurrentUtc = 1,
    /// 2: the current local time computed from the last sync.
    CurrentLocal = 2,
}

/// `AT+QLTS[=<mode>]`: the network time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkTimeQuery {
    /// `None` writes `AT+QLTS` (the same as mode 0).
    pub mode: Option<TimeMode>,
}

impl Command for NetworkTimeQuery {
    /// `None` when the network has not sent the time (`+QLTS: ""`).
    type Output = Option<ModuleTime>;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let text = match self.mode {
            None => "AT+QLTS".to_owned(),
            Some(mode) => format!("AT+QLTS={}", mode as u8),
        };
        Ok(final_request(
            "AT+QLTS",
            text.into_bytes(),
            Info::Prefix("+QLTS:"),
            QUICK_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<Option<ModuleTime>, Error> {
        let shape = ReplyShape {
            command: "AT+QLTS",
            prefix: "+QLTS:",
            shape: "+QLTS: \"yy/MM/dd,hh:mm:ss±zz,dst\"",
            secret: false,
        };
        shape.parse_first(&response, |fields| match fields {
            [Field::Quoted("")] => Some(None),
            [Field::Quoted(time)] => ModuleTime::parse(time).map(Some),
            _ => None,
        })
    }
}

/// `AT+CCLK?`: the real-time clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockQuery;

impl Command for ClockQuery {
    type Output = ModuleTime;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            "AT+CCLK",
            line("AT+CCLK?"),
            Info::Prefix("+CCLK:"),
            QUICK_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<ModuleTime, Error> {
        let shape = ReplyShape {
            command: "AT+CCLK",
            prefix: "+CCLK:",
            shape: "+CCLK: \"yy/MM/dd,hh:mm:ss±zz\"",
            secret: false,
        };
        shape.parse_first(&response, |fields| match fields {
            [Field::Quoted(time)] => ModuleTime::parse(time),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::{encode, info, request};

    #[test]
    fn qlts_forms() {
        assert_eq!(encode(&NetworkTimeQuery { mode: None }), "AT+QLTS");
        assert_eq!(
            encode(&NetworkTimeQuery {
                mode: Some(TimeMode::LastSynced)
            }),
            "AT+QLTS=0"
        );
        assert_eq!(
            encode(&NetworkTimeQuery {
                mode: Some(TimeMode::CurrentUtc)
            }),
            "AT+QLTS=1"
        );
        assert_eq!(
            encode(&NetworkTimeQuery {
                mode: Some(TimeMode::CurrentLocal)
            }),
            "AT+QLTS=2"
        );
        let req = request(&NetworkTimeQuery::default());
        assert_eq!(
            (req.info, req.timeout),
            (Info::Prefix("+QLTS:"), QUICK_TIMEOUT)
        );
    }

    #[test]
    fn qlts_reply_with_quarter_hour_zone_and_dst() {
        let time = NetworkTimeQuery::default()
            .parse(info(&["+QLTS: \"24/11/25,10:20:30+32,0\""]))
            .unwrap()
            .unwrap();
        assert_eq!(
            time,
            ModuleTime {
                year: 2024,
                month: 11,
                day: 25,
                hour: 10,
                minute: 20,
                second: 30,
                zone_quarters: 32,
                dst: Some(0)
            }
        );
        assert_eq!(time.utc_offset_minutes(), 480);
        let west = NetworkTimeQuery::default()
            .parse(info(&["+QLTS: \"2017/01/13,03:40:48-22,1\""]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                west.year,
                west.zone_quarters,
                west.utc_offset_minutes(),
                west.dst
            ),
            (2017, -22, -330, Some(1))
        );
        assert_eq!(
            NetworkTimeQuery::default()
                .parse(info(&["+QLTS: \"\""]))
                .unwrap(),
            None
        );
    }

    #[test]
    fn malformed_times_are_refused() {
        for bad in [
            "+QLTS: \"24/13/25,10:20:30+32,0\"",
            "+QLTS: \"24/11/25,24:20:30+32,0\"",
            "+QLTS: \"24/11/25,10:20:30+57,0\"",
            "+QLTS: \"24/11/25,10:20:30+32,3\"",
            "+QLTS: \"24/11/25,10:20:30,0\"",
            "+QLTS: \"24/11/25 10:20:30+32\"",
            "+QLTS: 24/11/25",
        ] {
            let err = NetworkTimeQuery::default().parse(info(&[bad])).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Reply {
                        command: "AT+QLTS",
                        ..
                    }
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            NetworkTimeQuery::default().parse(info(&[])),
            Err(Error::Reply { .. })
        ));
    }

    #[test]
    fn cclk() {
        let req = request(&ClockQuery);
        assert_eq!(
            (req.line.as_slice(), req.info),
            (&b"AT+CCLK?"[..], Info::Prefix("+CCLK:"))
        );
        let time = ClockQuery
            .parse(info(&["+CCLK: \"08/11/26,10:15:02+32\""]))
            .unwrap();
        assert_eq!(
            (time.year, time.month, time.day, time.second, time.dst),
            (2008, 11, 26, 2, None)
        );
        assert_eq!(time.utc_offset_minutes(), 480);
        assert!(matches!(
            ClockQuery.parse(info(&["+CCLK: \"\""])),
            Err(Error::Reply {
                command: "AT+CCLK",
                ..
            })
        ));
    }
}
