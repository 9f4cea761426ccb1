//! Topics of one device, the checks on names the platform refuses, and the classification of
//! received topics.

use thing_model::{check_name, NameError, PlatformError};

/// DeviceName: 4–32 characters, letters, digits and `-_@.:` (console rule).
pub fn check_device_name(dn: &str) -> Result<(), NameError> {
    check_name(
        "device_name",
        dn,
        32,
        "ASCII letters, digits and -_@.:",
        |c| c.is_ascii_alphanumeric() || "-_@.:".contains(c),
    )?;
    if dn.chars().count() < 4 {
        return Err(NameError::TooShort {
            what: "device_name",
            len: dn.chars().count(),
            min: 4,
        });
    }
    Ok(())
}

/// ProductKey: 1–32 ASCII letters and digits (consoles issue 11).
pub fn check_product_key(pk: &str) -> Result<(), NameError> {
    check_name("product_key", pk, 32, "ASCII letters and digits", |c| {
        c.is_ascii_alphanumeric()
    })
}

/// TSL identifier of a property, event or service: 1–50 letters, digits and `_`.
pub fn check_identifier(what: &'static str, id: &str) -> Result<(), NameError> {
    check_name(what, id, 50, "ASCII letters, digits and _", |c| {
        c.is_ascii_alphanumeric() || c == '_'
    })
}

/// The free part of the client id: 1–64 characters, printable ASCII without `|`, `,`, `=`.
pub fn check_client_id(cid: &str) -> Result<(), NameError> {
    check_name(
        "client_id",
        cid,
        64,
        "printable ASCII except | , = and space",
        |c| c.is_ascii_graphic() && !"|,=".contains(c),
    )
}

/// A topic to publish on: begins with `/`, no empty level, no wildcard, printable ASCII, and
/// one of this device's topics (contains `/{pk}/{dn}` or is an `/ext/rrpc/` answer).
pub fn check_publish_topic(pk: &str, dn: &str, topic: &str) -> Result<(), PlatformError> {
    check_name(
        "topic",
        topic,
        512,
        "printable ASCII except + # and space",
        |c| c.is_ascii_graphic() && c != '+' && c != '#',
    )?;
    let bad = |reason: String| PlatformError::Uplink(format!("topic `{topic}`: {reason}"));
    if !topic.starts_with('/') {
        return Err(bad("must begin with `/`".into()));
    }
    if topic[1..].split('/').any(str::is_empty) {
        return Err(bad("has an empty level".into()));
    }
    let own = format!("/{pk}/{dn}");
    if !(topic.starts_with("/ext/rrpc/")
        || topic.contains(&format!("{own}/"))
        || topic.ends_with(&own))
    {
        return Err(bad(format!(
            "is not a topic of this device (must contain `{own}/`)"
        )));
    }
    Ok(())
}

/// Topic builders for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pk: String,
    dn: String,
}

impl Topics {
    /// Topics of `{pk}/{dn}`.
    pub fn new(product_key: &str, device_name: &str) -> Self {
        Topics {
            pk: product_key.to_owned(),
            dn: device_name.to_owned(),
        }
    }

    fn sys(&self, rest: &str) -> String {
        format!("/sys/{}/{}/thing/{rest}", self.pk, self.dn)
    }

    /// `/sys/{pk}/{dn}/thing/event/property/post`.
    pub fn property_post(&self) -> String {
        self.sys("event/property/post")
    }
    /// `/sys/{pk}/{dn}/thing/event/property/batch/post` (several values per property).
    pub fn property_batch_post(&self) -> String {
        self.sys("event/property/batch/post")
    }
    /// `/sys/{pk}/{dn}/thing/event/{event}/post`.
    pub fn event_post(&self, event: &str) -> String {
        self.sys(&format!("event/{event}/post"))
    }
    /// `/sys/{pk}/{dn}/thing/service/property/set` (downlink).
    pub fn property_set(&self) -> String {
        self.sys("service/property/set")
    }
    /// `/sys/{pk}/{dn}/thing/service/property/get` (downlink).
    pub fn property_get(&self) -> String {
        self.sys("service/property/get")
    }
    /// `/sys/{pk}/{dn}/thing/service/{service}` (async call, downlink).
    pub fn service(&self, service: &str) -> String {
        self.sys(&format!("service/{service}"))
    }
    /// `…/thing/service/{service}_reply` (also `property/set_reply`, `property/get_reply`).
    pub fn service_reply(&self, service: &str) -> String {
        self.sys(&format!("service/{service}_reply"))
    }
    /// `/ext/rrpc/{rrpc_id}/sys/{pk}/{dn}/thing/service/{service}`: sync call and its answer.
    pub fn rrpc_service(&self, rrpc_id: &str, service: &str) -> String {
        format!("/ext/rrpc/{rrpc_id}{}", self.service(service))
    }
    /// `/ext/ntp/{pk}/{dn}/request`.
    pub fn ntp_request(&self) -> String {
        format!("/ext/ntp/{}/{}/request", self.pk, self.dn)
    }
    /// `/ext/ntp/{pk}/{dn}/response`.
    pub fn ntp_response(&self) -> String {
        format!("/ext/ntp/{}/{}/response", self.pk, self.dn)
    }
    /// `/{pk}/{dn}/user/{name}` (custom topic; `name` may have several levels).
    pub fn user(&self, name: &str) -> String {
        format!("/{}/{}/user/{name}", self.pk, self.dn)
    }
    /// `/sys/{pk}/{dn}/rrpc/response/{message_id}` (system RRPC answer, QoS 0).
    pub fn rrpc_response(&self, message_id: &str) -> String {
        format!("/sys/{}/{}/rrpc/response/{message_id}", self.pk, self.dn)
    }

    /// Downlink topic filters: property set/get, async services (`service/+`), sync services
    /// (`/ext/rrpc/+/…/service/+`), post replies (`event/+/post_reply`, `event/property/batch/post_reply`), system RRPC, NTP.
    pub fn downlink_filters(&self) -> Vec<String> {
        vec![
            self.property_set(),
            self.property_get(),
            self.sys("service/+"),
            format!("/ext/rrpc/+{}", self.sys("service/+")),
            self.sys("event/+/post_reply"),
            // `event/+/post_reply` does not reach one level deeper.
            self.sys("event/property/batch/post_reply"),
            format!("/sys/{}/{}/rrpc/request/+", self.pk, self.dn),
            self.ntp_response(),
        ]
    }

    /// Classifies a received topic.
    pub fn classify<'t>(&self, topic: &'t str) -> Incoming<'t> {
        let sys_prefix = format!("/sys/{}/{}/", self.pk, self.dn);
        if topic == "/ext/register" || topic == "/ext/regnwl" {
            return Incoming::Registration;
        }
        if topic == self.ntp_response() {
            return Incoming::NtpResponse;
        }
        if let Some(rest) = topic.strip_prefix("/ext/rrpc/") {
            let (rrpc_id, inner) = rest.split_once('/').unwrap_or((rest, ""));
            let inner_topic = &topic[topic.len() - inner.len() - 1..];
            if let Some(svc) = inner_topic
                .strip_prefix(&sys_prefix)
                .and_then(|r| r.strip_prefix("thing/service/"))
            {
                if !svc.is_empty() && !svc.contains('/') {
                    return Incoming::SyncService {
                        rrpc_id,
                        service: svc,
                    };
                }
            }
            return Incoming::Other;
        }
        let Some(rest) = topic.strip_prefix(&sys_prefix) else {
            return Incoming::Other;
        };
        if let Some(msg) = rest.strip_prefix("rrpc/request/") {
            return Incoming::SystemRrpc { message_id: msg };
        }
        let Some(thing) = rest.strip_prefix("thing/") else {
            return Incoming::Other;
        };
        match thing {
            "service/property/set" => return Incoming::PropertySet,
            "service/property/get" => return Incoming::PropertyGet,
            _ => {}
        }
        if let Some(svc) = thing.strip_prefix("service/") {
            if svc.ends_with("_reply") {
                return Incoming::OwnReply;
            }
            if !svc.contains('/') {
                return Incoming::Service { service: svc };
            }
        }
        if let Some(ev) = thing
            .strip_prefix("event/")
            .and_then(|r| r.strip_suffix("/post_reply"))
        {
            return Incoming::PostReply {
                event: (ev != "property").then_some(ev),
            };
        }
        Incoming::Other
    }
}

/// What a received topic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'t> {
    /// Property set.
    PropertySet,
    /// Property get.
    PropertyGet,
    /// Async service call.
    Service {
        /// Service identifier.
        service: &'t str,
    },
    /// Sync service call over RRPC.
    SyncService {
        /// RRPC message id.
        rrpc_id: &'t str,
        /// Service identifier.
        service: &'t str,
    },
    /// Reply to a property post (`event` = None) or an event post.
    PostReply {
        /// Event identifier.
        event: Option<&'t str>,
    },
    /// One of our own `…_reply` publishes echoed back through `service/+`.
    OwnReply,
    /// System RRPC request.
    SystemRrpc {
        /// Message id.
        message_id: &'t str,
    },
    /// NTP answer.
    NtpResponse,
    /// `/ext/register` or `/ext/regnwl`.
    Registration,
    /// Anything else (custom topics, custom RRPC, OTA, shadow …).
    Other,
}
