//! IoTDA product models (产品模型): loading, checking, and mapping onto
//! `thing-model`.
//!
//! Two source forms are read ([`ProductModel::load`]):
//! * the **API form** (CreateProduct / ShowProduct / model export, snake_case):
//!   `{"product_id", …, "service_capabilities": [{"service_id", "properties": [{"property_name",
//!   "data_type", "min": "0", …}], "commands": […], "events": […]}]}`;
//! * the **offline form** (the console's profile zip, unpacked):
//!   `profile/devicetype-capability.json` + `service/<id>/profile/servicetype-capability.json`,
//!   with camelCase (older) or snake_case (2024) keys.
//!
//! Data types: `int`, `long`, `decimal`, `string`, `DateTime`, `jsonObject`,
//! `enum`, `boolean`, `string list` (exact spelling; the legacy `double` is read
//! as `decimal`).

mod load;
mod map;

pub use map::{group_by_service, ServiceMap};

use crate::error::{Error, Result};

/// Longest `service_id`.
pub const SERVICE_ID_MAX: usize = 32;
/// Longest `property_name` / `command_name`.
pub const PROPERTY_NAME_MAX: usize = 64;
/// Longest `para_name`.
pub const PARA_NAME_MAX: usize = 32;
/// Longest `response_name`.
pub const RESPONSE_NAME_MAX: usize = 128;

/// An IoTDA data type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HwType {
    /// `int` (32-bit).
    Int,
    /// `long` (64-bit).
    Long,
    /// `decimal` (a JSON number; legacy `double`).
    Decimal,
    /// `string`.
    String,
    /// `DateTime`: a string, `yyyyMMdd'T'HHmmss'Z'`.
    DateTime,
    /// `jsonObject`: any JSON object.
    JsonObject,
    /// `enum`: a string from `enum_list`.
    Enum,
    /// `boolean`.
    Boolean,
    /// `string list`: an array of strings.
    StringList,
}

impl HwType {
    /// Parses the model spelling (case-sensitive, as IoTDA is). `double` is a
    /// legacy OceanConnect spelling of `decimal`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "int" => Self::Int,
            "long" => Self::Long,
            "decimal" | "double" => Self::Decimal,
            "string" => Self::String,
            "DateTime" => Self::DateTime,
            "jsonObject" => Self::JsonObject,
            "enum" => Self::Enum,
            "boolean" => Self::Boolean,
            "string list" => Self::StringList,
            _ => return None,
        })
    }

    /// The model spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Int => "int",
            Self::Long => "long",
            Self::Decimal => "decimal",
            Self::String => "string",
            Self::DateTime => "DateTime",
            Self::JsonObject => "jsonObject",
            Self::Enum => "enum",
            Self::Boolean => "boolean",
            Self::StringList => "string list",
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Self::Int | Self::Long | Self::Decimal)
    }
}

/// A numeric bound, kept exact for integers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    /// An integer bound.
    Int(i64),
    /// A decimal bound.
    Float(f64),
}

impl Limit {
    /// As `f64`.
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }
}

/// Type and constraints of a property or parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueSpec {
    /// The type.
    pub data_type: HwType,
    /// Inclusive minimum (numeric types only).
    pub min: Option<Limit>,
    /// Inclusive maximum (numeric types only).
    pub max: Option<Limit>,
    /// Step (informational; IoTDA does not document enforcing it).
    pub step: Option<f64>,
    /// Maximum length (strings, each element of a string list); 0 in a file means unset.
    pub max_length: Option<usize>,
    /// Allowed values (`enum`, or a `string` restricted to a list).
    pub enum_list: Vec<String>,
    /// Unit.
    pub unit: Option<String>,
}

/// `method`: R = readable, W = writable, E = reported on change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Method {
    /// `R`.
    pub read: bool,
    /// `W`.
    pub write: bool,
    /// `E`.
    pub event: bool,
}

impl Method {
    /// Parses `RWE, RW, RE, WE, E, W, R` (letters in any order).
    pub fn parse(text: &str) -> Option<Self> {
        let mut m = Self::default();
        if text.is_empty() {
            return None;
        }
        for c in text.chars() {
            let slot = match c {
                'R' | 'r' => &mut m.read,
                'W' | 'w' => &mut m.write,
                'E' | 'e' => &mut m.event,
                _ => return None,
            };
            if *slot {
                return None;
            }
            *slot = true;
        }
        Some(m)
    }
}

/// A property.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyDef {
    /// `property_name`.
    pub name: String,
    /// Type and constraints.
    pub spec: ValueSpec,
    /// `required`.
    pub required: bool,
    /// `method`.
    pub method: Method,
    /// `description`.
    pub description: Option<String>,
}

/// A command or response parameter, or an event parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParaDef {
    /// `para_name`.
    pub name: String,
    /// Type and constraints.
    pub spec: ValueSpec,
    /// `required`.
    pub required: bool,
}

/// A command response.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseDef {
    /// `response_name`.
    pub name: String,
    /// Its parameters.
    pub paras: Vec<ParaDef>,
}

/// A command.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandDef {
    /// `command_name`.
    pub name: String,
    /// Input parameters.
    pub paras: Vec<ParaDef>,
    /// Responses (usually one).
    pub responses: Vec<ResponseDef>,
}

/// A model event.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDef {
    /// `event_type`.
    pub event_type: String,
    /// Its parameters.
    pub paras: Vec<ParaDef>,
}

/// `option` of a service in the device type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ServiceOption {
    /// `Master`.
    Master,
    /// `Mandatory`.
    Mandatory,
    /// `Optional` (also for empty or missing).
    #[default]
    Optional,
}

/// A service (服务) of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceDef {
    /// `service_id`: what goes on the wire.
    pub service_id: String,
    /// `service_type`.
    pub service_type: Option<String>,
    /// `option`.
    pub option: ServiceOption,
    /// `description`.
    pub description: Option<String>,
    /// Properties.
    pub properties: Vec<PropertyDef>,
    /// Commands.
    pub commands: Vec<CommandDef>,
    /// Events.
    pub events: Vec<EventDef>,
}

/// A whole product model.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ProductModel {
    /// `product_id` (API form only).
    pub product_id: Option<String>,
    /// `name` (API form) or `model` (offline form).
    pub name: Option<String>,
    /// `device_type`.
    pub device_type: Option<String>,
    /// `protocol_type`.
    pub protocol_type: Option<String>,
    /// `data_format` (`json` / `binary`).
    pub data_format: Option<String>,
    /// The services, in file order.
    pub services: Vec<ServiceDef>,
    /// What the loader normalised (legacy spellings, `max: 0` meaning unset, …).
    pub notes: Vec<String>,
}

impl ProductModel {
    /// The service with this ID.
    pub fn service(&self, service_id: &str) -> Option<&ServiceDef> {
        self.services.iter().find(|s| s.service_id == service_id)
    }

    /// Checks the model's own consistency: unique names per scope, name
    /// lengths, `enum` types with a list, `min <= max`. The loaders call this.
    pub fn check(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for s in &self.services {
            let at = format!("services[{}]", s.service_id);
            name_ok(&at, "service_id", &s.service_id, SERVICE_ID_MAX)?;
            if !seen.insert(s.service_id.as_str()) {
                return Err(model_err(at, "service_id appears twice"));
            }
            unique(
                &at,
                "property",
                s.properties.iter().map(|p| p.name.as_str()),
            )?;
            unique(&at, "command", s.commands.iter().map(|c| c.name.as_str()))?;
            unique(&at, "event", s.events.iter().map(|e| e.event_type.as_str()))?;
            for p in &s.properties {
                let at = format!("{at}.properties[{}]", p.name);
                name_ok(&at, "property_name", &p.name, PROPERTY_NAME_MAX)?;
                spec_ok(&at, &p.spec)?;
            }
            for c in &s.commands {
                let at = format!("{at}.commands[{}]", c.name);
                name_ok(&at, "command_name", &c.name, PROPERTY_NAME_MAX)?;
                paras_ok(&at, &c.paras)?;
                for r in &c.responses {
                    let at = format!("{at}.responses[{}]", r.name);
                    name_ok(&at, "response_name", &r.name, RESPONSE_NAME_MAX)?;
                    paras_ok(&at, &r.paras)?;
                }
            }
            for e in &s.events {
                let at = format!("{at}.events[{}]", e.event_type);
                name_ok(&at, "event_type", &e.event_type, PROPERTY_NAME_MAX)?;
                paras_ok(&at, &e.paras)?;
            }
        }
        Ok(())
    }
}

fn model_err(path: String, reason: impl Into<String>) -> Error {
    Error::Model {
        path,
        reason: reason.into(),
    }
}

fn name_ok(at: &str, field: &str, name: &str, max: usize) -> Result<()> {
    let len = name.chars().count();
    if len == 0 {
        return Err(model_err(at.into(), format!("{field} is empty")));
    }
    if len > max {
        return Err(model_err(
            at.into(),
            format!("{field} is {len} characters; the limit is {max}"),
        ));
    }
    Ok(())
}

fn unique<'a>(at: &str, what: &str, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(model_err(at.into(), format!("{what} {n:?} appears twice")));
        }
    }
    Ok(())
}

fn paras_ok(at: &str, paras: &[ParaDef]) -> Result<()> {
    unique(at, "para", paras.iter().map(|p| p.name.as_str()))?;
    for p in paras {
        let at = format!("{at}.paras[{}]", p.name);
        name_ok(&at, "para_name", &p.name, PARA_NAME_MAX)?;
        spec_ok(&at, &p.spec)?;
    }
    Ok(())
}

fn spec_ok(at: &str, spec: &ValueSpec) -> Result<()> {
    if spec.data_type == HwType::Enum && spec.enum_list.is_empty() {
        return Err(model_err(
            at.into(),
            "data_type enum needs a non-empty enum_list",
        ));
    }
    if let (Some(min), Some(max)) = (spec.min, spec.max) {
        if min.as_f64() > max.as_f64() {
            return Err(model_err(
                at.into(),
                format!("min {} is greater than max {}", min.as_f64(), max.as_f64()),
            ));
        }
    }
    if !spec.data_type.numeric() && (spec.min.is_some() || spec.max.is_some()) {
        return Err(model_err(
            at.into(),
            format!("min/max apply to numbers, not {}", spec.data_type.as_str()),
        ));
    }
    Ok(())
}
