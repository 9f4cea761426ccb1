//! IoTDA v5 `$oc/devices/{device_id}/…` topics, built and parsed.

use crate::error::{Error, Result};

/// The topics of one device (for a gateway, the gateway's own ID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
}

/// A topic the platform publishes to the device, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DownTopic {
    /// `…/sys/messages/down`.
    MessageDown,
    /// `…/sys/commands/request_id={id}`.
    Command {
        /// Echo it in the response topic.
        request_id: String,
    },
    /// `…/sys/properties/set/request_id={id}`.
    PropertySet {
        /// Echo it in the response topic.
        request_id: String,
    },
    /// `…/sys/properties/get/request_id={id}`.
    PropertyGet {
        /// Echo it in the response topic.
        request_id: String,
    },
    /// `…/sys/shadow/get/response/request_id={id}`.
    ShadowGetResponse {
        /// The ID the device chose for its shadow get.
        request_id: String,
    },
    /// `…/sys/events/down`.
    EventDown,
    /// `…/sys/bootstrap/down` (IoTDP).
    BootstrapDown,
    /// `…/user/{rest}`: a custom topic.
    User(String),
}

/// A topic the device publishes, parsed (for simulators).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpTopic {
    /// `…/sys/properties/report`.
    PropertiesReport,
    /// `…/sys/gateway/sub_devices/properties/report`.
    GatewayReport,
    /// `…/sys/messages/up`.
    MessageUp,
    /// `…/sys/commands/response/request_id={id}`.
    CommandResponse(String),
    /// `…/sys/properties/set/response/request_id={id}`.
    PropertySetResponse(String),
    /// `…/sys/properties/get/response/request_id={id}`.
    PropertyGetResponse(String),
    /// `…/sys/shadow/get/request_id={id}`.
    ShadowGet(String),
    /// `…/sys/events/up`.
    EventUp,
    /// `…/sys/bootstrap/up`.
    BootstrapUp,
    /// `…/user/{rest}`.
    User(String),
}

impl Topics {
    /// The topics of `device_id`.
    pub fn new(device_id: &str) -> Self {
        Self {
            prefix: format!("$oc/devices/{device_id}"),
        }
    }

    fn sys(&self, rest: &str) -> String {
        format!("{}/sys/{rest}", self.prefix)
    }

    /// `…/sys/properties/report`.
    pub fn properties_report(&self) -> String {
        self.sys("properties/report")
    }
    /// `…/sys/gateway/sub_devices/properties/report`.
    pub fn gateway_report(&self) -> String {
        self.sys("gateway/sub_devices/properties/report")
    }
    /// `…/sys/messages/up`.
    pub fn messages_up(&self) -> String {
        self.sys("messages/up")
    }
    /// `…/sys/messages/down`.
    pub fn messages_down(&self) -> String {
        self.sys("messages/down")
    }
    /// `…/sys/commands/response/request_id={id}`.
    pub fn command_response(&self, request_id: &str) -> String {
        self.sys(&format!("commands/response/request_id={request_id}"))
    }
    /// `…/sys/properties/set/response/request_id={id}`.
    pub fn property_set_response(&self, request_id: &str) -> String {
        self.sys(&format!("properties/set/response/request_id={request_id}"))
    }
    /// `…/sys/properties/get/response/request_id={id}`.
    pub fn property_get_response(&self, request_id: &str) -> String {
        self.sys(&format!("properties/get/response/request_id={request_id}"))
    }
    /// `…/sys/shadow/get/request_id={id}`.
    pub fn shadow_get(&self, request_id: &str) -> String {
        self.sys(&format!("shadow/get/request_id={request_id}"))
    }
    /// `…/sys/events/up`.
    pub fn events_up(&self) -> String {
        self.sys("events/up")
    }
    /// `…/sys/events/down`.
    pub fn events_down(&self) -> String {
        self.sys("events/down")
    }
    /// `…/sys/bootstrap/up`.
    pub fn bootstrap_up(&self) -> String {
        self.sys("bootstrap/up")
    }
    /// `…/sys/bootstrap/down`.
    pub fn bootstrap_down(&self) -> String {
        self.sys("bootstrap/down")
    }
    /// `…/sys/commands/request_id={id}` (what the platform publishes).
    pub fn command(&self, request_id: &str) -> String {
        self.sys(&format!("commands/request_id={request_id}"))
    }
    /// `…/sys/properties/set/request_id={id}`.
    pub fn property_set(&self, request_id: &str) -> String {
        self.sys(&format!("properties/set/request_id={request_id}"))
    }
    /// `…/sys/properties/get/request_id={id}`.
    pub fn property_get(&self, request_id: &str) -> String {
        self.sys(&format!("properties/get/request_id={request_id}"))
    }
    /// `…/sys/shadow/get/response/request_id={id}`.
    pub fn shadow_get_response(&self, request_id: &str) -> String {
        self.sys(&format!("shadow/get/response/request_id={request_id}"))
    }

    /// The filters to SUBSCRIBE at QoS 1 (the platform auto-subscribes system
    /// topics at QoS 0 only), as the C SDK's `SubscribeAllQos(1)` does.
    pub fn subscriptions(&self) -> Vec<String> {
        [
            "messages/down",
            "commands/#",
            "properties/set/#",
            "properties/get/#",
            "shadow/get/response/#",
            "events/down",
        ]
        .iter()
        .map(|t| self.sys(t))
        .collect()
    }

    fn strip<'a>(&self, topic: &'a str) -> Result<&'a str> {
        topic
            .strip_prefix(self.prefix.as_str())
            .and_then(|t| t.strip_prefix('/'))
            .ok_or_else(|| Error::Topic {
                topic: topic.into(),
                reason: "not a topic of this device",
            })
    }

    /// Parses a topic the platform published to this device.
    pub fn parse_down(&self, topic: &str) -> Result<DownTopic> {
        let rest = self.strip(topic)?;
        let unknown = || Error::Topic {
            topic: topic.into(),
            reason: "not a known IoTDA downlink topic",
        };
        if let Some(user) = rest.strip_prefix("user/") {
            return Ok(DownTopic::User(user.into()));
        }
        let sys = rest.strip_prefix("sys/").ok_or_else(unknown)?;
        Ok(match sys {
            "messages/down" => DownTopic::MessageDown,
            "events/down" => DownTopic::EventDown,
            "bootstrap/down" => DownTopic::BootstrapDown,
            _ => {
                let (kind, id) = split_request(topic, sys)?;
                match kind {
                    "commands/" => DownTopic::Command { request_id: id },
                    "properties/set/" => DownTopic::PropertySet { request_id: id },
                    "properties/get/" => DownTopic::PropertyGet { request_id: id },
                    "shadow/get/response/" => DownTopic::ShadowGetResponse { request_id: id },
                    _ => return Err(unknown()),
                }
            }
        })
    }

    /// Parses a topic this device published (query strings such as `?request_id=` are ignored).
    pub fn parse_up(&self, topic: &str) -> Result<UpTopic> {
        let rest = self.strip(topic)?;
        let unknown = || Error::Topic {
            topic: topic.into(),
            reason: "not a known IoTDA uplink topic",
        };
        if let Some(user) = rest.strip_prefix("user/") {
            return Ok(UpTopic::User(user.into()));
        }
        let sys = rest.strip_prefix("sys/").ok_or_else(unknown)?;
        let plain = sys.split('?').next().unwrap_or(sys);
        Ok(match plain {
            "properties/report" => UpTopic::PropertiesReport,
            "gateway/sub_devices/properties/report" => UpTopic::GatewayReport,
            "messages/up" => UpTopic::MessageUp,
            "events/up" => UpTopic::EventUp,
            "bootstrap/up" => UpTopic::BootstrapUp,
            _ => {
                let (kind, id) = split_request(topic, sys)?;
                match kind {
                    "commands/response/" => UpTopic::CommandResponse(id),
                    "properties/set/response/" => UpTopic::PropertySetResponse(id),
                    "properties/get/response/" => UpTopic::PropertyGetResponse(id),
                    "shadow/get/" => UpTopic::ShadowGet(id),
                    _ => return Err(unknown()),
                }
            }
        })
    }
}

/// Splits `kind/request_id={id}` at the last `request_id=` (as the Python and
/// Java SDKs do); the ID must be non-empty and contain no `/`.
fn split_request<'a>(topic: &str, sys: &'a str) -> Result<(&'a str, String)> {
    let at = sys.rfind("request_id=").ok_or_else(|| Error::Topic {
        topic: topic.into(),
        reason: "expected request_id= in this topic",
    })?;
    let id = &sys[at + "request_id=".len()..];
    if id.is_empty() || id.contains('/') {
        return Err(Error::Topic {
            topic: topic.into(),
            reason: "request_id must be non-empty and contain no '/'",
        });
    }
    Ok((&sys[..at], id.into()))
}
