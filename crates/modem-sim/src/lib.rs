//! `modem-sim`: an emulated Quectel EC200x / EC600S / EG912Y module.
//!
//! It answers the MQTT AT commands (`AT+QMTCFG`, `AT+QMTOPEN`, `AT+QMTCONN`, `AT+QMTSUB`,
//! `AT+QMTPUBEX`, `AT+QMTRECV`, …) and the usual bring-up commands on a pty or a TCP socket,
//! and carries each MQTT client (index 0–5) as a real MQTT connection to a real broker.
//!
//! The crate has two layers:
//!
//! * a **sans-IO core**: [`parser`] turns host lines into typed [`parser::CommandLine`]s, and
//!   [`Module`] is the module's state machine. It takes host bytes, backend events, timer
//!   expiries and faults, and returns a [`Step`]: the bytes for the host and the [`Action`]s
//!   for the shell (backend commands, timers). It does no I/O and reads no clock;
//! * a **tokio shell** ([`shell`], [`backend`]): pty/TCP front ends, baud-rate pacing, the
//!   MQTT connections (rumqttc's MQTT 3.1.1 codec over TCP or rustls), added latency, the
//!   control interface and the seeded fault schedule.
//!
//! See `docs/modem-sim.md` for the command-line tool and for what differs from hardware.

pub mod api;
pub mod auth;
pub mod backend;
mod basic;
pub mod cfg;
mod connect;
mod contexts;
pub mod derive;
mod dial;
mod fault_state;
#[cfg(test)]
mod fault_tests;
pub mod faults;
pub mod module;
#[cfg(test)]
mod module_tests;
pub mod pacing;
pub mod parser;
mod power;
pub mod pty;
mod qmt;
pub mod shell;
mod tls;

pub use api::{Action, BackendCmd, BackendEvent, ConnectParams, Step, TimerId, TlsSettings, Will};
pub use auth::{Credentials, DeriveError, DeriveInput, Derivers};
pub use basic::{qfupl_checksum, MODEL, REVISION};
pub use cfg::{ClientCfg, CloudAuth, Profile};
pub use faults::{Fault, Schedule, ScheduleKind, UNTIL_CLEARED};
pub use module::{ConnState, Module, ModuleConfig};
pub use pty::PtyMaster;
pub use shell::{SimConfig, Simulator};
