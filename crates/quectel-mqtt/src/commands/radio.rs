//! The recovery commands (3GPP TS 27.007 and Quectel's AT manuals) an agent escalates through
//! when reconnecting does not help: `AT+CGACT` (PDP context off/on), `AT+CFUN` (radio off/on,
//! or a module reset) and `AT+QPOWD` (power down). None of these is in the MQTT guide; the
//! time limits are the EC200x AT manual's.

use std::time::Duration;

use super::{final_request, line};
use crate::error::{Error, ParamError};
use crate::request::{Info, Request, Response, Timing};
use crate::Command;

/// `AT+CGACT`: up to 150 s in Quectel's AT manuals (the network decides).
pub const CGACT_TIMEOUT: Duration = Duration::from_secs(150);
/// `AT+CFUN`: up to 15 s.
pub const CFUN_TIMEOUT: Duration = Duration::from_secs(15);
/// `AT+QPOWD`: 300 ms for the `OK`; `POWERED DOWN` follows as a URC.
pub const QPOWD_TIMEOUT: Duration = Duration::from_secs(1);

/// `AT+CGACT=<state>,<cid>`: deactivates (`active: false`) or activates a PDP context (1–15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdpActivate {
    pub context: u8,
    pub active: bool,
}

impl Command for PdpActivate {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        if !(1..=15).contains(&self.context) {
            return Err(ParamError::OutOfRange {
                param: "cid",
                value: i64::from(self.context),
                min: 1,
                max: 15,
            });
        }
        let text = format!("AT+CGACT={},{}", u8::from(self.active), self.context);
        Ok(final_request(
            "AT+CGACT",
            line(&text),
            Info::None,
            CGACT_TIMEOUT,
        ))
    }

    fn parse(&self, _response: Response) -> Result<(), Error> {
        Ok(())
    }
}

/// The `<fun>` of `AT+CFUN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Functionality {
    /// 0: minimum functionality (radio and SIM off).
    Minimum,
    /// 1: full functionality.
    Full,
    /// 4: radio off (flight mode), SIM on.
    RadioOff,
}

/// `AT+CFUN=<fun>[,1]`: sets the functionality; `reset` (only with [`Functionality::Full`])
/// restarts the module, which then prints `RDY` again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetFunctionality {
    pub fun: Functionality,
    pub reset: bool,
}

impl Command for SetFunctionality {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let fun = match self.fun {
            Functionality::Minimum => 0,
            Functionality::Full => 1,
            Functionality::RadioOff => 4,
        };
        if self.reset && self.fun != Functionality::Full {
            return Err(ParamError::Invalid {
                param: "rst",
                reason: "a reset needs <fun> 1 (full functionality)",
            });
        }
        let text = if self.reset {
            format!("AT+CFUN={fun},1")
        } else {
            format!("AT+CFUN={fun}")
        };
        Ok(final_request(
            "AT+CFUN",
            line(&text),
            Info::None,
            CFUN_TIMEOUT,
        ))
    }

    fn parse(&self, _response: Response) -> Result<(), Error> {
        Ok(())
    }
}

/// `AT+QPOWD=1`: normal power down; the module answers `OK`, then `POWERED DOWN`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PowerDown;

impl Command for PowerDown {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            "AT+QPOWD",
            line("AT+QPOWD=1"),
            Info::None,
            QPOWD_TIMEOUT,
        ))
    }

    fn parse(&self, _response: Response) -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(c: &impl Command) -> String {
        String::from_utf8(c.request(&Timing::default()).unwrap().line).unwrap()
    }

    #[test]
    fn lines_and_limits() {
        let on = PdpActivate {
            context: 1,
            active: true,
        };
        assert_eq!(text(&on), "AT+CGACT=1,1");
        let off = PdpActivate {
            context: 15,
            active: false,
        };
        assert_eq!(text(&off), "AT+CGACT=0,15");
        let err = PdpActivate {
            context: 16,
            active: true,
        }
        .request(&Timing::default())
        .unwrap_err();
        assert!(err.to_string().contains("cid") && err.to_string().contains("1..=15"));
        let reset = SetFunctionality {
            fun: Functionality::Full,
            reset: true,
        };
        assert_eq!(text(&reset), "AT+CFUN=1,1");
        let off = SetFunctionality {
            fun: Functionality::Minimum,
            reset: false,
        };
        assert_eq!(text(&off), "AT+CFUN=0");
        assert!(SetFunctionality {
            fun: Functionality::RadioOff,
            reset: true
        }
        .request(&Timing::default())
        .is_err());
        assert_eq!(text(&PowerDown), "AT+QPOWD=1");
        assert_eq!(
            reset.request(&Timing::default()).unwrap().timeout,
            CFUN_TIMEOUT
        );
    }
}
