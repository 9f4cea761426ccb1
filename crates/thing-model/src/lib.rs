//! `thing-model`: the cloud-neutral messages apps and the agent speak, thing-model
//! definitions with validation, and the [`Platform`] trait each cloud crate implements.
//! No I/O, no AT commands.
//!
//! # API notes (stable; changes are additive only)
//!
//! * **App lines** (`shared/contracts/app-json.md`): [`parse_uplink_line`] / [`uplink_from_value`]
//!   → [`Uplink`] (errors: [`LineError`], naming the key); [`uplink_to_value`];
//!   [`AgentLine`] (`to_line`) for downlinks, `ack`, `delivered`, `time`, `status`, `error`.
//!   `Uplink` implements serde `Serialize`/`Deserialize` through the same mapping.
//! * **Messages**: [`Uplink`] = [`UplinkBody`] (`Properties`, `Event`, `Reply`, `Raw`) + the
//!   optional `id`, `time` (ms), `service`, `qos`. [`Downlink`] = `Set`, `Get`, `Call`, `Ack`,
//!   `Time` ([`TimeSync`]), `Raw`. Values are `serde_json` maps ([`Values`]), insertion-ordered.
//!   Downlink ids are opaque strings chosen by the cloud crate; apps echo them in `reply`.
//!   Result codes are neutral and HTTP-like: 200 = success; the cloud crate maps them.
//! * **Thing model**: [`ThingModel`] of [`Property`], [`Event`], [`Service`] with
//!   [`DataType`] (`Int`, `Long`, `Float`, `Double`, `Decimal`, `Bool`, `Text`, `Enum`, `Date`,
//!   `Struct`, `Array`, `Bitmap`, `JsonObject`, `StringList`). `validate_properties`,
//!   `validate_set`, `validate_event`, `validate_service_input` / `_output` return the values
//!   in wire form or a [`ValidationError`] (`what`, `path`, [`Rule`]). [`check_name`] checks
//!   identifiers / names against a character set and length.
//! * **Platform**: [`Platform`] (object-safe): `connect(now_ms)` → [`MqttConnect`];
//!   `module_connect()` → [`ModuleConnect`] with a [`ModuleAuth`]; `subscriptions()`;
//!   `encode(&Uplink, msg_id)` → [`Publish`]; `decode(topic, payload)` → `Option<Downlink>`;
//!   `time_request(device_ms, msg_id)`; `verify_connect(..)` → [`ConnectVerdict`];
//!   `thing_model()`; provisioning: `provision` → [`ProvisionStep`], `provision_response` →
//!   [`Provisioned`], `apply_provisioned`. Errors: [`PlatformError`].
//! * **Secrets**: [`Secret`] masks itself in `Debug`; no error message carries a secret.
//!
//! # Example
//!
//! ```
//! use thing_model::{parse_uplink_line, DataType, IntSpec, Property, Access, ThingModel, UplinkBody};
//!
//! let model = ThingModel {
//!     properties: vec![Property {
//!         identifier: "level".into(),
//!         name: None,
//!         data_type: DataType::Int(IntSpec { min: Some(0), max: Some(100), ..Default::default() }),
//!         access: Access::RW,
//!         required: false,
//!         service: None,
//!     }],
//!     ..Default::default()
//! };
//! let up = parse_uplink_line(r#"{"properties": {"level": 120}}"#).unwrap();
//! let UplinkBody::Properties(values) = &up.body else { unreachable!() };
//! let err = model.validate_properties(values).unwrap_err();
//! assert_eq!(err.to_string(), "property `level`: 120 is above the maximum 100");
//! ```

mod line;
mod message;
mod model;
mod platform;
mod secret;
mod validate;

pub use line::{
    parse_uplink_line, uplink_from_value, uplink_to_value, AgentLine, LineError, LinkState,
};
pub use message::{Downlink, Payload, Reply, ReplyTo, TimeSync, Uplink, UplinkBody, Values};
pub use model::{
    Access, BoolEncoding, CallType, DataType, DateEncoding, EnumSpec, Event, EventKind, Field,
    FloatSpec, IntSpec, Property, Service, ThingModel,
};
pub use platform::{
    ConnectVerdict, ModuleAuth, ModuleConnect, MqttConnect, Platform, PlatformError, ProvisionStep,
    Provisioned, Publish, Subscription,
};
pub use secret::Secret;
pub use validate::{
    check_name, format_compact_utc, normalize_value, NameError, Rule, ValidationError,
};
