//! From a [`ProductModel`] to `thing-model` types, and from flat property
//! names to IoTDA services.

use std::collections::BTreeMap;

use thing_model::{
    Access, BoolEncoding, CallType, DataType, DateEncoding, EnumSpec, Event, EventKind, Field,
    FloatSpec, IntSpec, Property, Service, ThingModel,
};

use super::{HwType, Limit, ParaDef, ProductModel, ValueSpec};
use crate::error::{Error, Result};
use crate::payload::Object;

fn int(l: Option<Limit>) -> Option<i64> {
    l.map(|l| match l {
        Limit::Int(i) => i,
        Limit::Float(f) => f as i64,
    })
}

/// The `thing-model` type of an IoTDA value spec. A `string` with an
/// `enum_list` becomes a string enum, as IoTDA restricts it to the list.
pub(crate) fn data_type(spec: &ValueSpec) -> DataType {
    let unit = spec.unit.clone();
    let enum_of = |list: &[String]| {
        DataType::Enum(EnumSpec {
            values: list
                .iter()
                .map(|v| (v.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
            integer: false,
        })
    };
    match spec.data_type {
        HwType::Int | HwType::Long => {
            let s = IntSpec {
                min: int(spec.min),
                max: int(spec.max),
                step: spec.step.map(|s| s as i64).filter(|s| *s > 0),
                unit,
            };
            if spec.data_type == HwType::Int {
                DataType::Int(s)
            } else {
                DataType::Long(s)
            }
        }
        HwType::Decimal => DataType::Decimal(FloatSpec {
            min: spec.min.map(Limit::as_f64),
            max: spec.max.map(Limit::as_f64),
            step: spec.step,
            unit,
        }),
        HwType::String if !spec.enum_list.is_empty() => enum_of(&spec.enum_list),
        HwType::String => DataType::Text {
            max_length: spec.max_length,
        },
        HwType::Enum => enum_of(&spec.enum_list),
        HwType::DateTime => DataType::Date(DateEncoding::Compact),
        HwType::JsonObject => DataType::JsonObject,
        HwType::Boolean => DataType::Bool(BoolEncoding::TrueFalse),
        HwType::StringList => DataType::StringList {
            max_length: spec.max_length,
        },
    }
}

fn fields(paras: &[ParaDef]) -> Vec<Field> {
    paras
        .iter()
        .map(|p| Field {
            identifier: p.name.clone(),
            name: None,
            data_type: data_type(&p.spec),
            required: p.required,
        })
        .collect()
}

impl ProductModel {
    /// The whole model as a [`ThingModel`]; every item carries its `service`.
    /// Commands become services (input = paras, output = the first response's
    /// paras); model events become events.
    ///
    /// IoTDA property names are unique only within a service; validate with
    /// [`ProductModel::service_thing_model`] when names repeat across services.
    pub fn to_thing_model(&self) -> ThingModel {
        let mut tm = ThingModel::default();
        for s in &self.services {
            let service = Some(s.service_id.clone());
            for p in &s.properties {
                tm.properties.push(Property {
                    identifier: p.name.clone(),
                    name: p.description.clone(),
                    data_type: data_type(&p.spec),
                    access: Access {
                        read: p.method.read,
                        write: p.method.write,
                        notify: p.method.event,
                    },
                    required: p.required,
                    service: service.clone(),
                });
            }
            for c in &s.commands {
                tm.services.push(Service {
                    identifier: c.name.clone(),
                    name: c.responses.first().map(|r| r.name.clone()),
                    call_type: CallType::Async,
                    input: fields(&c.paras),
                    output: c
                        .responses
                        .first()
                        .map(|r| fields(&r.paras))
                        .unwrap_or_default(),
                    service: service.clone(),
                });
            }
            for e in &s.events {
                tm.events.push(Event {
                    identifier: e.event_type.clone(),
                    name: None,
                    kind: EventKind::Info,
                    output: fields(&e.paras),
                    service: service.clone(),
                });
            }
        }
        tm
    }

    /// Only the items of one service, for validating values of that service.
    pub fn service_thing_model(&self, service_id: &str) -> Option<ThingModel> {
        let s = self.service(service_id)?;
        let one = ProductModel {
            services: vec![s.clone()],
            ..Default::default()
        };
        Some(one.to_thing_model())
    }
}

/// Which services define each property name, plus a default service for
/// names the model does not know (or when there is no model).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ServiceMap {
    by_property: BTreeMap<String, Vec<String>>,
    default_service: Option<String>,
}

impl ServiceMap {
    /// From a thing model's properties (their `service`) and a profile's default service.
    pub fn new(model: Option<&ThingModel>, default_service: Option<&str>) -> Self {
        let mut by_property: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in model.map(|m| m.properties.as_slice()).unwrap_or_default() {
            if let Some(s) = &p.service {
                by_property
                    .entry(p.identifier.clone())
                    .or_default()
                    .push(s.clone());
            }
        }
        Self {
            by_property,
            default_service: default_service.map(str::to_owned),
        }
    }

    /// The service for `property`: the only service defining it; else, with
    /// several, the default service when it is one of them; else the default
    /// service when the model does not know the name.
    pub fn service_of(&self, property: &str) -> Result<String> {
        match self.by_property.get(property).map(Vec::as_slice) {
            Some([only]) => Ok(only.clone()),
            Some(many) => match &self.default_service {
                Some(d) if many.contains(d) => Ok(d.clone()),
                _ => Err(Error::Value {
                    path: property.into(),
                    reason: format!(
                        "is defined by services {many:?}; name one with \"service\" \
                         or set the profile's default service to one of them"
                    ),
                }),
            },
            None => self.default_service.clone().ok_or_else(|| Error::Value {
                path: property.into(),
                reason: "is in no service of the product model, and the profile sets \
                         no default service"
                    .into(),
            }),
        }
    }
}

/// Splits flat `{"name": value}` into per-service objects, in first-seen order.
/// With `explicit` (the uplink's `"service"`), everything goes to that service.
pub fn group_by_service(
    values: &Object,
    explicit: Option<&str>,
    map: &ServiceMap,
) -> Result<Vec<(String, Object)>> {
    let mut groups: Vec<(String, Object)> = Vec::new();
    for (name, value) in values {
        let service = match explicit {
            Some(s) => s.to_owned(),
            None => map.service_of(name)?,
        };
        match groups.iter_mut().find(|(s, _)| *s == service) {
            Some((_, obj)) => {
                obj.insert(name.clone(), value.clone());
            }
            None => {
                let mut obj = Object::new();
                obj.insert(name.clone(), value.clone());
                groups.push((service, obj));
            }
        }
    }
    Ok(groups)
}
