//! `quectel-mqtt`: an async, typed transport for the MQTT AT commands of Quectel
//! EC200x / EC600S / EG912Y LTE modules (`AT+QMTCFG`, `AT+QMTOPEN`, `AT+QMTCONN`,
//! `AT+QMTSUB`, `AT+QMTPUBEX`, … and the `+QMTSTAT` / `+QMTRECV` / `+QMTPING` URCs).
//!
//! The crate has two layers, in the manner of quinn-proto and rustls:
//!
//! * a **sans-IO core** — [`Decoder`] turns module bytes into [`Frame`]s (result codes,
//!   information lines, the `>` prompt, `+QMTRECV` messages read by length), and
//!   [`Session`] keeps one command in flight, matches result URCs to the commands that wait
//!   for them, tracks each client's state and publish window, and never hands a late `OK`
//!   of a timed-out command to the next one. It does no I/O and reads no clock: tests drive it
//!   with byte slices and instants;
//! * a **thin tokio driver** ([`driver`], feature `tokio`, on by default) that owns the port
//!   and exposes a cloneable [`driver::Client`].
//!
//! Every AT command of the guide has a typed form in [`commands`]; each validates its
//! parameters (ranges and lengths from the guide; no `"`, CR or LF in a quoted string) before
//! a byte is written, knows its maximum response time and how it completes.
//!
//! # The core without I/O
//!
//! ```
//! use std::time::Instant;
//! use quectel_mqtt::commands::Open;
//! use quectel_mqtt::{Command, Event, OpenResult, Session, Timing, Urc};
//!
//! let mut session = Session::default();
//! let now = Instant::now();
//! let open = Open { client: 0, host: "broker.example.com".into(), port: 1883 };
//! let id = session.submit(open.request(&Timing::default()).unwrap(), now);
//! // What to write to the port:
//! assert_eq!(&session.poll_transmit().unwrap()[..], b"AT+QMTOPEN=0,\"broker.example.com\",1883\r");
//! // What the module answered (a URC may come between the command and its result):
//! session.handle_input(b"\r\nOK\r\n\r\n+QMTSTAT: 1,1\r\n\r\n+QMTOPEN: 0,0\r\n", now);
//! assert!(matches!(session.poll_event(), Some(Event::Urc(Urc::Stat { client: 1, .. }))));
//! match session.poll_event() {
//!     Some(Event::Completed { id: done, result: Ok(response) }) => {
//!         assert_eq!(done, id);
//!         assert_eq!(open.parse(response), Ok(()));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # let _ = OpenResult::Opened;
//! ```
pub mod codes;
pub mod commands;
pub mod decoder;
pub mod error;
pub mod params;
pub mod request;
pub mod session;
pub mod urc;

#[cfg(feature = "tokio")]
pub mod driver;

pub use decoder::{DecodeError, Decoder, FinalCode, Frame};
pub use error::{Error, ParamError};
pub use request::{Completion, Data, Effect, Info, Request, Response, Timing, UrcKey};
pub use session::{Event, RequestId, Session};
pub use urc::{ConnectReturnCode, Message, OpenResult, PacketResult, StatCode, Urc, UrcKind};

/// The highest MQTT client index (`<client_idx>` is 0–5).
pub const MAX_CLIENT: u8 = 5;
/// The most payload bytes one `AT+QMTPUBEX` takes (guide §3.2.8, note 2).
pub const MAX_PAYLOAD: usize = 1500;
/// Publishes a client may have awaiting their `+QMTPUBEX` result (the sliding window, §3.2.8).
pub const PUBLISH_WINDOW: usize = 5;

/// A typed AT command: builds its [`Request`] and reads its [`Response`].
pub trait Command {
    /// What a successful command yields.
    type Output;
    /// Validates the parameters and encodes the command. `timing` is the addressed client's
    /// configured `pkt_timeout` / `retry_times` (it sets the time limit of CONN, SUB, UNS and
    /// PUBEX).
    fn request(&self, timing: &Timing) -> Result<Request, ParamError>;
    /// Reads the module's answer.
    fn parse(&self, response: Response) -> Result<Self::Output, Error>;
    /// The client index this command addresses, if any (its timing applies).
    fn client(&self) -> Option<u8> {
        None
    }
}
