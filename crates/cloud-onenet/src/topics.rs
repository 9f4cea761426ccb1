//! OneNET thing-model topics (`$sys/{pid}/{dn}/thing/…`) and their classification.
//!
//! ```
//! use cloud_onenet::topics::{Topics, Incoming};
//! let t = Topics::new("Aw9oB4n7zB", "dev-001")?;
//! assert_eq!(t.property_post(), "$sys/Aw9oB4n7zB/dev-001/thing/property/post");
//! assert_eq!(
//!     t.classify("$sys/Aw9oB4n7zB/dev-001/thing/service/add/invoke")?,
//!     Incoming::ServiceInvoke("add".into())
//! );
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::names::{validate_device_name, validate_identifier, validate_product_id};

/// A topic a device receives, by meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// `…/thing/property/post/reply`.
    PropertyPostReply,
    /// `…/thing/event/post/reply`.
    EventPostReply,
    /// `…/thing/property/set`.
    PropertySet,
    /// `…/thing/property/get`.
    PropertyGet,
    /// `…/thing/service/{identifier}/invoke`.
    ServiceInvoke(String),
    /// `…/thing/property/desired/get/reply`.
    DesiredGetReply,
    /// `…/thing/property/desired/delete/reply`.
    DesiredDeleteReply,
    /// `…/thing/pack/post/reply`.
    PackPostReply,
    /// `…/thing/history/post/reply`.
    HistoryPostReply,
    /// Legacy MQTTS kit `…/cmd/request/{cmdid}` (opaque payload).
    LegacyCommand(String),
    /// Legacy MQTTS kit `…/dp/post/json/accepted`.
    LegacyDpAccepted,
    /// Legacy MQTTS kit `…/dp/post/json/rejected`.
    LegacyDpRejected,
}

/// The topics of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    device: String,
    thing: String,
}

impl Topics {
    /// Topics for product `pid`, device `dn` (both validated).
    pub fn new(product_id: &str, device_name: &str) -> Result<Self> {
        validate_product_id(product_id)?;
        validate_device_name(device_name)?;
        let device = format!("$sys/{product_id}/{device_name}");
        Ok(Self {
            thing: format!("{device}/thing"),
            device,
        })
    }

    fn t(&self, suffix: &str) -> String {
        format!("{}/{suffix}", self.thing)
    }

    /// `$sys/{pid}/{dn}/thing/#`: the one subscription the official C SDK makes.
    pub fn subscribe_all(&self) -> String {
        self.t("#")
    }
    /// Property report (publish).
    pub fn property_post(&self) -> String {
        self.t("property/post")
    }
    /// Reply to a property report (subscribe).
    pub fn property_post_reply(&self) -> String {
        self.t("property/post/reply")
    }
    /// Property set from the cloud (subscribe).
    pub fn property_set(&self) -> String {
        self.t("property/set")
    }
    /// Answer to a property set (publish).
    pub fn property_set_reply(&self) -> String {
        self.t("property/set_reply")
    }
    /// Property get from the cloud (subscribe).
    pub fn property_get(&self) -> String {
        self.t("property/get")
    }
    /// Answer to a property get (publish).
    pub fn property_get_reply(&self) -> String {
        self.t("property/get_reply")
    }
    /// Event report (publish).
    pub fn event_post(&self) -> String {
        self.t("event/post")
    }
    /// Reply to an event report (subscribe).
    pub fn event_post_reply(&self) -> String {
        self.t("event/post/reply")
    }
    /// Ask for desired values (publish).
    pub fn desired_get(&self) -> String {
        self.t("property/desired/get")
    }
    /// Desired values (subscribe).
    pub fn desired_get_reply(&self) -> String {
        self.t("property/desired/get/reply")
    }
    /// Delete desired values (publish).
    pub fn desired_delete(&self) -> String {
        self.t("property/desired/delete")
    }
    /// Reply to a desired delete (subscribe).
    pub fn desired_delete_reply(&self) -> String {
        self.t("property/desired/delete/reply")
    }
    /// Service invocation (subscribe); the identifier is validated.
    pub fn service_invoke(&self, identifier: &str) -> Result<String> {
        validate_identifier("service", identifier)?;
        Ok(self.t(&format!("service/{identifier}/invoke")))
    }
    /// Answer to a service invocation (publish); the identifier is validated.
    pub fn service_invoke_reply(&self, identifier: &str) -> Result<String> {
        validate_identifier("service", identifier)?;
        Ok(self.t(&format!("service/{identifier}/invoke_reply")))
    }
    /// Batch report of properties and events (publish).
    pub fn pack_post(&self) -> String {
        self.t("pack/post")
    }
    /// Reply to a batch report (subscribe).
    pub fn pack_post_reply(&self) -> String {
        self.t("pack/post/reply")
    }
    /// History report (publish).
    pub fn history_post(&self) -> String {
        self.t("history/post")
    }
    /// Reply to a history report (subscribe).
    pub fn history_post_reply(&self) -> String {
        self.t("history/post/reply")
    }
    /// Legacy MQTTS kit data-point report (publish).
    pub fn legacy_dp_post_json(&self) -> String {
        format!("{}/dp/post/json", self.device)
    }
    /// Legacy MQTTS kit data-point result (subscribe).
    pub fn legacy_dp_post_json_accepted(&self) -> String {
        format!("{}/dp/post/json/accepted", self.device)
    }
    /// Legacy MQTTS kit data-point refusal (subscribe).
    pub fn legacy_dp_post_json_rejected(&self) -> String {
        format!("{}/dp/post/json/rejected", self.device)
    }
    /// Legacy MQTTS kit command (subscribe); `cmdid` is validated.
    pub fn legacy_cmd_request(&self, cmdid: &str) -> Result<String> {
        validate_identifier("cmdid", cmdid)?;
        Ok(format!("{}/cmd/request/{cmdid}", self.device))
    }
    /// Legacy MQTTS kit command answer (publish); `cmdid` is validated.
    pub fn legacy_cmd_response(&self, cmdid: &str) -> Result<String> {
        validate_identifier("cmdid", cmdid)?;
        Ok(format!("{}/cmd/response/{cmdid}", self.device))
    }

    /// The thing-model topics a device subscribes to one by one (fewer than
    /// OneNET's 10-subscription limit): every reply and downlink, with the
    /// service invocations as one `+` wildcard.
    pub fn subscriptions(&self) -> Vec<String> {
        vec![
            self.property_post_reply(),
            self.event_post_reply(),
            self.property_set(),
            self.property_get(),
            self.t("service/+/invoke"),
            self.desired_get_reply(),
            self.desired_delete_reply(),
            self.pack_post_reply(),
        ]
    }

    /// What an incoming topic is. Refuses topics of other devices and ones
    /// OneNET does not define.
    pub fn classify(&self, topic: &str) -> Result<Incoming> {
        let unknown = |reason: &str| Error::UnknownTopic {
            topic: topic.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = topic
            .strip_prefix(self.device.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| unknown(&format!("does not start with {}/", self.device)))?;
        let parts: Vec<&str> = rest.split('/').collect();
        let found = match parts.as_slice() {
            ["thing", "property", "post", "reply"] => Incoming::PropertyPostReply,
            ["thing", "event", "post", "reply"] => Incoming::EventPostReply,
            ["thing", "property", "set"] => Incoming::PropertySet,
            ["thing", "property", "get"] => Incoming::PropertyGet,
            ["thing", "service", id, "invoke"] => {
                validate_identifier("service", id).map_err(|e| unknown(&e.to_string()))?;
                Incoming::ServiceInvoke((*id).to_owned())
            }
            ["thing", "property", "desired", "get", "reply"] => Incoming::DesiredGetReply,
            ["thing", "property", "desired", "delete", "reply"] => Incoming::DesiredDeleteReply,
            ["thing", "pack", "post", "reply"] => Incoming::PackPostReply,
            ["thing", "history", "post", "reply"] => Incoming::HistoryPostReply,
            ["cmd", "request", id] if !id.is_empty() => Incoming::LegacyCommand((*id).to_owned()),
            ["dp", "post", "json", "accepted"] => Incoming::LegacyDpAccepted,
            ["dp", "post", "json", "rejected"] => Incoming::LegacyDpRejected,
            _ => return Err(unknown("not a OneNET downlink or reply topic")),
        };
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_round_trips_every_downlink_topic() {
        let t = Topics::new("Aw9oB4n7zB", "dev-001").unwrap();
        let cases = [
            (t.property_post_reply(), Incoming::PropertyPostReply),
            (t.event_post_reply(), Incoming::EventPostReply),
            (t.property_set(), Incoming::PropertySet),
            (t.property_get(), Incoming::PropertyGet),
            (
                t.service_invoke("$SyncGetFile").unwrap(),
                Incoming::ServiceInvoke("$SyncGetFile".into()),
            ),
            (t.desired_get_reply(), Incoming::DesiredGetReply),
            (t.desired_delete_reply(), Incoming::DesiredDeleteReply),
            (t.pack_post_reply(), Incoming::PackPostReply),
            (t.history_post_reply(), Incoming::HistoryPostReply),
            (
                t.legacy_cmd_request("c1").unwrap(),
                Incoming::LegacyCommand("c1".into()),
            ),
            (t.legacy_dp_post_json_accepted(), Incoming::LegacyDpAccepted),
            (t.legacy_dp_post_json_rejected(), Incoming::LegacyDpRejected),
        ];
        for (topic, want) in cases {
            assert_eq!(t.classify(&topic).unwrap(), want, "{topic}");
        }
    }

    #[test]
    fn classify_refuses_other_devices_and_uplink_topics() {
        let t = Topics::new("Aw9oB4n7zB", "dev-001").unwrap();
        let other = Topics::new("Aw9oB4n7zB", "dev-002").unwrap();
        let err = t.classify(&other.property_set()).unwrap_err().to_string();
        assert!(
            err.contains("does not start with $sys/Aw9oB4n7zB/dev-001/"),
            "{err}"
        );
        assert!(t.classify(&t.property_post()).is_err());
        assert!(t
            .classify("$sys/Aw9oB4n7zB/dev-001-x/thing/property/set")
            .is_err());
        assert!(t.service_invoke("a/b").is_err());
        assert!(Topics::new("Aw9oB4n7zB", "dev+1").is_err());
    }

    #[test]
    fn subscriptions_stay_within_onenet_limit() {
        let t = Topics::new("p", "d").unwrap();
        assert!(t.subscriptions().len() <= 10);
        assert_eq!(t.subscribe_all(), "$sys/p/d/thing/#");
    }
}
