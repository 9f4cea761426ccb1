//! Bring-up commands (3GPP TS 27.007 and Quectel's AT manual): `AT`, `ATE0`/`ATE1`, `ATI`,
//! `AT+CPIN?`, `AT+CSQ` and `AT+CEREG?`.

use std::time::Duration;

use super::reply::{Field, ReplyShape};
use super::{final_request, line, QUICK_TIMEOUT};
use crate::error::{Error, ParamError};
use crate::request::{Effect, Info, Request, Response, Timing};
use crate::Command;

/// `AT+CPIN?`: 5 s in Quectel's AT manual (the module may be reading the SIM).
pub const CPIN_TIMEOUT: Duration = Duration::from_secs(5);

/// `AT`: checks that the module answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct At;

impl Command for At {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request("AT", line("AT"), Info::None, QUICK_TIMEOUT))
    }

    fn parse(&self, _response: Response) -> Result<(), Error> {
        Ok(())
    }
}

/// `ATE0` / `ATE1`: turns the echo of command lines off or on ([`Effect::Echo`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetEcho {
    pub on: bool,
}

impl Command for SetEcho {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let text = if self.on { "ATE1" } else { "ATE0" };
        Ok(Request {
            effect: Some(Effect::Echo(self.on)),
            ..final_request("ATE", line(text), Info::None, QUICK_TIMEOUT)
        })
    }

    fn parse(&self, _response: Response) -> Result<(), Error> {
        Ok(())
    }
}

/// `ATI`: the module's identity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identify;

/// The answer to `ATI`: `Quectel` / `EC200U` / `Revision: EC200UCNAAR02A01M08`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub manufacturer: String,
    pub model: String,
    pub revision: String,
}

impl Command for Identify {
    type Output = DeviceInfo;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request("ATI", line("ATI"), Info::Text, QUICK_TIMEOUT))
    }

    fn parse(&self, response: Response) -> Result<DeviceInfo, Error> {
        let malformed = || Error::Reply {
            command: "ATI",
            detail: "expected the lines <manufacturer>, <model>, Revision: <revision>".to_owned(),
        };
        let mut lines = response
            .info
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && *l != "ATI");
        let manufacturer = lines.next().ok_or_else(malformed)?;
        let model = lines.next().ok_or_else(malformed)?;
        let revision = lines
            .find_map(|l| l.strip_prefix("Revision:"))
            .ok_or_else(malformed)?;
        Ok(DeviceInfo {
            manufacturer: manufacturer.to_owned(),
            model: model.to_owned(),
            revision: revision.trim().to_owned(),
        })
    }
}

/// `AT+CPIN?`: whether the SIM is ready or waits for a code.
///
/// Without a SIM the module answers `+CME ERROR: 10` ([`Error::Cme`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStatusQuery;

/// `<code>` of `+CPIN: <code>` (TS 27.007 §8.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimState {
    /// `READY`: no code is needed.
    Ready,
    /// `SIM PIN`.
    SimPin,
    /// `SIM PUK`.
    SimPuk,
    /// `SIM PIN2`.
    SimPin2,
    /// `SIM PUK2`.
    SimPuk2,
    /// `PH-SIM PIN`: the phone-to-SIM password.
    PhSimPin,
    /// `PH-FSIM PIN`: the phone-to-first-SIM password.
    PhFsimPin,
    /// `PH-FSIM PUK`.
    PhFsimPuk,
    /// `PH-NET PIN`: the network personalisation password.
    PhNetPin,
    /// `PH-NET PUK`.
    PhNetPuk,
    /// `PH-NETSUB PIN`: the network subset personalisation password.
    PhNetSubPin,
    /// `PH-NETSUB PUK`.
    PhNetSubPuk,
    /// `PH-SP PIN`: the service provider personalisation password.
    PhSpPin,
    /// `PH-SP PUK`.
    PhSpPuk,
    /// `PH-CORP PIN`: the corporate personalisation password.
    PhCorpPin,
    /// `PH-CORP PUK`.
    PhCorpPuk,
    /// Any other code, as given.
    Other(String),
}

impl SimState {
    fn from_text(text: &str) -> SimState {
        match text {
            "READY" => SimState::Ready,
            "SIM PIN" => SimState::SimPin,
            "SIM PUK" => SimState::SimPuk,
            "SIM PIN2" => SimState::SimPin2,
            "SIM PUK2" => SimState::SimPuk2,
            "PH-SIM PIN" => SimState::PhSimPin,
            "PH-FSIM PIN" => SimState::PhFsimPin,
            "PH-FSIM PUK" => SimState::PhFsimPuk,
            "PH-NET PIN" => SimState::PhNetPin,
            "PH-NET PUK" => SimState::PhNetPuk,
            "PH-NETSUB PIN" => SimState::PhNetSubPin,
            "PH-NETSUB PUK" => SimState::PhNetSubPuk,
            "PH-SP PIN" => SimState::PhSpPin,
            "PH-SP PUK" => SimState::PhSpPuk,
            "PH-CORP PIN" => SimState::PhCorpPin,
            "PH-CORP PUK" => SimState::PhCorpPuk,
            other => SimState::Other(other.to_owned()),
        }
    }

    pub fn is_ready(&self) -> bool {
        *self == SimState::Ready
    }
}

impl Command for SimStatusQuery {
    type Output = SimState;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            "AT+CPIN",
            line("AT+CPIN?"),
            Info::Prefix("+CPIN:"),
            CPIN_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<SimState, Error> {
        let shape = ReplyShape {
            command: "AT+CPIN",
            prefix: "+CPIN:",
            shape: "+CPIN: <code>",
            secret: false,
        };
        let (line, body) = shape
            .lines(&response)
            .next()
            .ok_or_else(|| shape.missing())?;
        match body.trim() {
            "" => Err(shape.malformed(line)),
            code => Ok(SimState::from_text(code)),
        }
    }
}

/// `AT+CSQ`: received signal strength and bit error rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignalQuality;

/// `+CSQ: <rssi>,<ber>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// 0–31, or 99 when not known or not detectable.
    pub rssi: u8,
    /// 0–7 (RXQUAL), or 99 when not known.
    pub ber: u8,
}

impl Signal {
    /// The signal strength in dBm per TS 27.007: 0 is -113 dBm or less, 31 is -51 dBm or
    /// more, two dB a step; `None` for 99 and values outside 0–31.
    pub fn dbm(&self) -> Option<i16> {
        (self.rssi <= 31).then(|| -113 + 2 * i16::from(self.rssi))
    }

    /// The bit error rate class, `None` when the module does not know it (99).
    pub fn bit_error_rate(&self) -> Option<u8> {
        (self.ber <= 7).then_some(self.ber)
    }
}

impl Command for SignalQuality {
    type Output = Signal;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            "AT+CSQ",
            line("AT+CSQ"),
            Info::Prefix("+CSQ:"),
            QUICK_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<Signal, Error> {
        let shape = ReplyShape {
            command: "AT+CSQ",
            prefix: "+CSQ:",
            shape: "+CSQ: <rssi>,<ber>",
            secret: false,
        };
        shape.parse_first(&response, |fields| match fields {
            [rssi, ber] => Some(Signal {
                rssi: rssi.int()?,
                ber: ber.int()?,
            }),
            _ => None,
        })
    }
}

/// `AT+CEREG?`: EPS (LTE) network registration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistrationQuery;

/// `<stat>` of `+CEREG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegStatus {
    /// 0: not registered, not searching.
    NotRegistered,
    /// 1: registered, home network.
    Home,
    /// 2: not registered, searching.
    Searching,
    /// 3: registration denied.
    Denied,
    /// 4: unknown (e.g. out of coverage).
    Unknown,
    /// 5: registered, roaming.
    Roaming,
    /// Another value of TS 27.007 (e.g. 8: emergency bearer services only).
    Other(u8),
}

impl RegStatus {
    pub fn from_code(code: u8) -> RegStatus {
        match code {
            0 => RegStatus::NotRegistered,
            1 => RegStatus::Home,
            2 => RegStatus::Searching,
            3 => RegStatus::Denied,
            4 => RegStatus::Unknown,
            5 => RegStatus::Roaming,
            other => RegStatus::Other(other),
        }
    }

    /// Registered on the home network or roaming: data can flow.
    pub fn is_registered(self) -> bool {
        matches!(self, RegStatus::Home | RegStatus::Roaming)
    }
}

/// `+CEREG: <n>,<stat>[,[<tac>],[<ci>],[<AcT>]…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpsRegistration {
    /// `<n>`: which `+CEREG` URCs the module sends (0–5).
    pub urc_mode: u8,
    pub status: RegStatus,
    /// `<tac>`: tracking area code, hex (with `<n>` ≥ 2).
    pub tac: Option<String>,
    /// `<ci>`: cell id, hex (with `<n>` ≥ 2).
    pub cell_id: Option<String>,
    /// `<AcT>`: access technology (7: E-UTRAN, 9: NB-IoT…).
    pub access_technology: Option<u8>,
}

impl Command for RegistrationQuery {
    type Output = EpsRegistration;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            "AT+CEREG",
            line("AT+CEREG?"),
            Info::Prefix("+CEREG:"),
            QUICK_TIMEOUT,
        ))
    }

    /// Reads the first line whose second field is a bare number: a `+CEREG: <stat>[,"<tac>",…]`
    /// URC caught while the query is in flight has one field or a quoted second one.
    fn parse(&self, response: Response) -> Result<EpsRegistration, Error> {
        let shape = ReplyShape {
            command: "AT+CEREG",
            prefix: "+CEREG:",
            shape: "+CEREG: <n>,<stat>[,<tac>,<ci>[,<AcT>]]",
            secret: false,
        };
        let mut read = None;
        for (line, body) in shape.lines(&response) {
            let fields = super::split_fields(body).ok_or_else(|| shape.malformed(line))?;
            if let [_, Field::Bare(_), ..] = fields.as_slice() {
                read = Some(registration(&fields).ok_or_else(|| shape.malformed(line))?);
                break;
            }
        }
        read.ok_or_else(|| shape.missing())
    }
}

fn registration(fields: &[Field<'_>]) -> Option<EpsRegistration> {
    let optional_text = |i: usize| {
        fields
            .get(i)
            .map(|f| f.text())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let access_technology = match fields.get(4) {
        Some(field) if !field.text().is_empty() => Some(field.int()?),
        _ => None,
    };
    Some(EpsRegistration {
        urc_mode: fields.first()?.int()?,
        status: RegStatus::from_code(fields.get(1)?.int()?),
        tac: optional_text(2),
        cell_id: optional_text(3),
        access_technology,
    })
}

#[cfg(test)]
#[path = "basic_tests.rs"]
mod tests;
