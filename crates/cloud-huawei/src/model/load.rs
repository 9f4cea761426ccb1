//! Reading both product-model forms. Keys are accepted in snake_case and
//! camelCase; numbers are accepted as JSON numbers or numeric strings.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{
    CommandDef, EventDef, HwType, Limit, Method, ParaDef, ProductModel, PropertyDef, ResponseDef,
    ServiceDef, ServiceOption, ValueSpec,
};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct RawPara {
    #[serde(alias = "paraName", alias = "property_name", alias = "propertyName")]
    para_name: Option<String>,
    #[serde(alias = "dataType")]
    data_type: Option<String>,
    #[serde(default)]
    required: Option<bool>,
    #[serde(alias = "enumList")]
    enum_list: Option<Vec<Value>>,
    min: Option<Value>,
    max: Option<Value>,
    #[serde(alias = "maxLength")]
    max_length: Option<Value>,
    step: Option<Value>,
    unit: Option<String>,
    method: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(alias = "responseName")]
    response_name: Option<String>,
    paras: Option<Vec<RawPara>>,
}

#[derive(Deserialize)]
struct RawCommand {
    #[serde(alias = "commandName")]
    command_name: Option<String>,
    paras: Option<Vec<RawPara>>,
    responses: Option<Vec<RawResponse>>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(alias = "eventType")]
    event_type: Option<String>,
    paras: Option<Vec<RawPara>>,
}

#[derive(Deserialize)]
struct RawService {
    #[serde(alias = "serviceId")]
    service_id: Option<String>,
    #[serde(alias = "serviceType")]
    service_type: Option<String>,
    option: Option<String>,
    description: Option<String>,
    properties: Option<Vec<RawPara>>,
    commands: Option<Vec<RawCommand>>,
    events: Option<Vec<RawEvent>>,
}

#[derive(Deserialize)]
struct RawProduct {
    product_id: Option<String>,
    name: Option<String>,
    #[serde(alias = "model")]
    model: Option<String>,
    #[serde(alias = "deviceType")]
    device_type: Option<String>,
    #[serde(alias = "protocolType")]
    protocol_type: Option<String>,
    #[serde(alias = "dataFormat")]
    data_format: Option<String>,
    #[serde(alias = "serviceCapabilities", alias = "serviceTypeCapabilities")]
    service_capabilities: Option<Vec<RawService>>,
}

#[derive(Deserialize)]
struct RawDeviceFile {
    devices: Vec<RawProduct>,
}

#[derive(Deserialize)]
struct RawServiceFile {
    services: Vec<RawService>,
}

fn json<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|source| Error::Json { what, source })
}

fn err(path: &str, reason: impl Into<String>) -> Error {
    Error::Model {
        path: path.into(),
        reason: reason.into(),
    }
}

fn required(path: &str, field: &str, v: Option<String>) -> Result<String> {
    match v {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(err(path, format!("{field} is missing"))),
    }
}

/// A number or numeric string; `None` for null, "" and absent.
fn number(path: &str, field: &str, v: &Option<Value>) -> Result<Option<Value>> {
    let bad = || {
        err(
            path,
            format!("{field} must be a number or a numeric string"),
        )
    };
    Ok(match v {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(Value::Number(n.clone())),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            let n: serde_json::Number = s.trim().parse().map_err(|_| bad())?;
            Some(Value::Number(n))
        }
        Some(_) => return Err(bad()),
    })
}

fn limit(path: &str, field: &str, v: &Option<Value>, ty: HwType) -> Result<Option<Limit>> {
    let Some(Value::Number(n)) = number(path, field, v)? else {
        return Ok(None);
    };
    if ty == HwType::Decimal {
        return Ok(n.as_f64().map(Limit::Float));
    }
    if let Some(i) = n.as_i64() {
        return Ok(Some(Limit::Int(i)));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(Limit::Int(f as i64))),
        _ => Err(err(
            path,
            format!(
                "{field} {n} is not an integer, but the type is {}",
                ty.as_str()
            ),
        )),
    }
}

fn para(parent: &str, raw: RawPara, notes: &mut Vec<String>) -> Result<ParaDef> {
    let name = required(parent, "para_name/property_name", raw.para_name)?;
    let path = format!("{parent}[{name}]");
    let type_text = required(&path, "data_type", raw.data_type)?;
    let data_type = HwType::parse(&type_text).ok_or_else(|| {
        err(
            &path,
            format!(
                "data_type {type_text:?} is not one of int, long, decimal, string, DateTime, \
                 jsonObject, enum, boolean, string list"
            ),
        )
    })?;
    if type_text == "double" {
        notes.push(format!(
            "{path}: legacy data_type \"double\" read as decimal"
        ));
    }
    let (mut min, mut max) = (None, None);
    if data_type.numeric() {
        min = limit(&path, "min", &raw.min, data_type)?;
        max = limit(&path, "max", &raw.max, data_type)?;
        if let (Some(lo), Some(hi)) = (min, max) {
            if hi.as_f64() == 0.0 && lo.as_f64() > 0.0 {
                notes.push(format!("{path}: max 0 below min read as \"no maximum\""));
                max = None;
            }
        }
    }
    let max_length = match number(&path, "max_length", &raw.max_length)? {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => None,
            Some(l) => Some(l as usize),
            None => return Err(err(&path, "max_length must be a non-negative integer")),
        },
        _ => None,
    };
    let step = match number(&path, "step", &raw.step)? {
        Some(Value::Number(n)) => n.as_f64().filter(|s| *s > 0.0),
        _ => None,
    };
    let enum_list = raw
        .enum_list
        .unwrap_or_default()
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    let spec = ValueSpec {
        data_type,
        min,
        max,
        step,
        max_length,
        enum_list,
        unit: raw.unit.filter(|u| !u.is_empty()),
    };
    Ok(ParaDef {
        name,
        spec,
        required: raw.required.unwrap_or(false),
    })
}

fn paras(parent: &str, raw: Option<Vec<RawPara>>, notes: &mut Vec<String>) -> Result<Vec<ParaDef>> {
    raw.unwrap_or_default()
        .into_iter()
        .map(|p| para(parent, p, notes))
        .collect()
}

fn service(raw: RawService, id: Option<String>, notes: &mut Vec<String>) -> Result<ServiceDef> {
    let service_id = required(
        "services[]",
        "service_id",
        id.or(raw.service_id).or(raw.service_type.clone()),
    )?;
    let at = format!("services[{service_id}]");
    let mut properties = Vec::new();
    for p in raw.properties.unwrap_or_default() {
        let description = p.description.clone();
        let method_text = p.method.clone();
        let def = para(&format!("{at}.properties"), p, notes)?;
        let path = format!("{at}.properties[{}]", def.name);
        let method_text = required(&path, "method", method_text)?;
        let method = Method::parse(&method_text).ok_or_else(|| {
            err(
                &path,
                format!("method {method_text:?} is not a combination of R, W and E"),
            )
        })?;
        properties.push(PropertyDef {
            name: def.name,
            spec: def.spec,
            required: def.required,
            method,
            description,
        });
    }
    let mut commands = Vec::new();
    for c in raw.commands.unwrap_or_default() {
        let name = required(&at, "command_name", c.command_name)?;
        let cat = format!("{at}.commands[{name}]");
        let mut responses = Vec::new();
        for r in c.responses.unwrap_or_default() {
            let rname = required(&cat, "response_name", r.response_name)?;
            let rat = format!("{cat}.responses[{rname}].paras");
            responses.push(ResponseDef {
                paras: paras(&rat, r.paras, notes)?,
                name: rname,
            });
        }
        commands.push(CommandDef {
            paras: paras(&format!("{cat}.paras"), c.paras, notes)?,
            name,
            responses,
        });
    }
    let mut events = Vec::new();
    for e in raw.events.unwrap_or_default() {
        let event_type = required(&at, "event_type", e.event_type)?;
        let eat = format!("{at}.events[{event_type}].paras");
        events.push(EventDef {
            paras: paras(&eat, e.paras, notes)?,
            event_type,
        });
    }
    let option = match raw.option.as_deref() {
        Some("Master") => ServiceOption::Master,
        Some("Mandatory") => ServiceOption::Mandatory,
        Some("Optional") | Some("") | None => ServiceOption::Optional,
        Some(other) => {
            return Err(err(
                &at,
                format!("option {other:?} is not Master, Mandatory or Optional"),
            ))
        }
    };
    Ok(ServiceDef {
        service_id,
        service_type: raw.service_type,
        option,
        description: raw.description.filter(|d| !d.is_empty()),
        properties,
        commands,
        events,
    })
}

impl ProductModel {
    /// Loads the API form: a product object with `service_capabilities`.
    pub fn from_api_json(text: &str) -> Result<Self> {
        let raw: RawProduct = json("product model (API form)", text)?;
        let caps = raw
            .service_capabilities
            .ok_or_else(|| err("$", "service_capabilities is missing"))?;
        let mut notes = Vec::new();
        let services = caps
            .into_iter()
            .map(|s| service(s, None, &mut notes))
            .collect::<Result<_>>()?;
        let model = Self {
            product_id: raw.product_id,
            name: raw.name.or(raw.model),
            device_type: raw.device_type,
            protocol_type: raw.protocol_type,
            data_format: raw.data_format,
            services,
            notes,
        };
        model.check()?;
        Ok(model)
    }

    /// Loads the offline form from the texts of `devicetype-capability.json`
    /// and each `servicetype-capability.json`. Services are joined by
    /// `serviceType`; their order is the device type's.
    pub fn from_offline_json(devicetype: &str, service_files: &[&str]) -> Result<Self> {
        let dev: RawDeviceFile = json("devicetype-capability.json", devicetype)?;
        let mut devices = dev.devices.into_iter();
        let device = devices
            .next()
            .ok_or_else(|| err("devicetype-capability.json", "devices is empty"))?;
        if devices.next().is_some() {
            return Err(err(
                "devicetype-capability.json",
                "more than one device type",
            ));
        }
        let mut defs = Vec::new();
        for text in service_files {
            let file: RawServiceFile = json("servicetype-capability.json", text)?;
            defs.extend(file.services);
        }
        let mut notes = Vec::new();
        let mut services = Vec::new();
        for cap in device.service_capabilities.unwrap_or_default() {
            let id = required("serviceTypeCapabilities[]", "serviceId", cap.service_id)?;
            let ty = cap.service_type.unwrap_or_else(|| id.clone());
            let pos = defs
                .iter()
                .position(|d| {
                    d.service_type.as_deref() == Some(&ty) || d.service_id.as_deref() == Some(&id)
                })
                .ok_or_else(|| {
                    err(
                        &format!("services[{id}]"),
                        format!("no service file has serviceType {ty:?}"),
                    )
                })?;
            let mut raw = defs.remove(pos);
            raw.option = cap.option.or(raw.option);
            services.push(service(raw, Some(id), &mut notes)?);
        }
        if let Some(extra) = defs.first() {
            return Err(err(
                "servicetype-capability.json",
                format!(
                    "service {:?} is not listed in devicetype-capability.json",
                    extra
                        .service_type
                        .as_deref()
                        .or(extra.service_id.as_deref())
                        .unwrap_or("?")
                ),
            ));
        }
        let model = Self {
            product_id: None,
            name: device.model.or(device.name),
            device_type: device.device_type,
            protocol_type: device.protocol_type,
            data_format: device.data_format,
            services,
            notes,
        };
        model.check()?;
        Ok(model)
    }

    /// Loads an unpacked offline export: `dir/profile/devicetype-capability.json`
    /// and `dir/service/*/profile/servicetype-capability.json`. (Zip files are
    /// not read: unpack them first.)
    pub fn load_offline_dir(dir: &Path) -> Result<Self> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| Error::Io {
                path: p.display().to_string(),
                source,
            })
        };
        let devicetype = read(&dir.join("profile/devicetype-capability.json"))?;
        let service_dir = dir.join("service");
        let entries = std::fs::read_dir(&service_dir).map_err(|source| Error::Io {
            path: service_dir.display().to_string(),
            source,
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("profile/servicetype-capability.json"))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        let texts = paths.iter().map(|p| read(p)).collect::<Result<Vec<_>>>()?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        Self::from_offline_json(&devicetype, &refs)
    }

    /// Loads either form from a path: a directory is the offline form, a file
    /// the API form. A `.zip` is refused with a clear error.
    pub fn load(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Self::load_offline_dir(path);
        }
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            return Err(Error::NotImplemented(
                "reading a product-model .zip; unpack it and pass the directory",
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_api_json(&text)
    }
}
