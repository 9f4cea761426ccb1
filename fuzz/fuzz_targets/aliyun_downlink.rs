//! `AliyunPlatform::decode` (Alink JSON, RRPC, NTP, custom topics) for a fixed device.
//!
//! Input: see `cellagent_fuzz::split_downlink` — a topic among the device's real downlink
//! topics (or an arbitrary one), then payload bytes. Invariants: see
//! `cellagent_fuzz::check_downlink` (no panic; no secret in errors; the app line is one JSON
//! line; answering the downlink encodes on a topic without wildcards).
#![no_main]

use std::sync::OnceLock;

use cloud_aliyun::{AliyunPlatform, AliyunProfile};
use libfuzzer_sys::fuzz_target;
use thing_model::Secret;

const PK: &str = "a1B2c3D4e5F";
const DN: &str = "dev-001";
const DS: &str = "0123456789abcdef0123456789abcdef";

struct Fixture {
    platform: AliyunPlatform,
    topics: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut profile = AliyunProfile::new(PK, DN, Some(Secret::new(DS)));
        profile.subscribe = vec!["get".into()];
        profile.rrpc_topics = vec!["cmd".into()];
        let platform = AliyunPlatform::new(profile).expect("test profile");
        let t = platform.topics();
        let topics = vec![
            t.property_set(),
            t.property_get(),
            t.service("Reboot"),
            format!("/ext/rrpc/1234567890123456789/sys/{PK}/{DN}/thing/service/GetStatus"),
            format!("/sys/{PK}/{DN}/thing/event/property/post_reply"),
            format!("/sys/{PK}/{DN}/thing/event/HighTemp/post_reply"),
            format!("/sys/{PK}/{DN}/thing/service/Reboot_reply"),
            format!("/sys/{PK}/{DN}/rrpc/request/99"),
            t.ntp_response(),
            t.user("get"),
            format!("/ext/rrpc/77/{PK}/{DN}/user/cmd"),
            "/ext/register".into(),
        ];
        Fixture { platform, topics }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((topic, payload)) = cellagent_fuzz::split_downlink(data, &f.topics) else {
        return;
    };
    cellagent_fuzz::check_downlink(&f.platform, &topic, payload, &[DS]);
});
