//! `OneNet::decode` (OneJSON replies, property set/get, service invoke, legacy topics) for a
//! fixed device, with and without its thing model (the selector byte's high bit picks).
//!
//! Input: see `cellagent_fuzz::split_downlink`. Invariants: see
//! `cellagent_fuzz::check_downlink`; the access key (base64 and raw) never appears in errors.
#![no_main]

use std::sync::OnceLock;

use cloud_onenet::connect::DeviceConfig;
use cloud_onenet::model::load_export;
use cloud_onenet::token::AccessKey;
use cloud_onenet::OneNet;
use libfuzzer_sys::fuzz_target;

const PID: &str = "Aw9oB4n7zB";
const DN: &str = "dev-001";
const KEY_B64: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const KEY_RAW: &str = "0123456789abcdef0123456789abcdef";
const MODEL: &str = include_str!("../../crates/cloud-onenet/tests/fixtures/onenet-all-types.json");

struct Fixture {
    plain: OneNet,
    modelled: OneNet,
    topics: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = AccessKey::from_base64(KEY_B64).expect("test key");
        let plain = OneNet::new(DeviceConfig::new(PID, DN, key).expect("config")).expect("device");
        let modelled = plain
            .clone()
            .with_model(load_export(MODEL).expect("fixture model"));
        let t = plain.topics();
        let topics = vec![
            t.property_set(),
            t.property_get(),
            t.service_invoke("add").expect("topic"),
            t.service_invoke("$SyncGetFile").expect("topic"),
            t.property_post_reply(),
            t.event_post_reply(),
            t.desired_get_reply(),
            t.desired_delete_reply(),
            t.pack_post_reply(),
            t.history_post_reply(),
            t.legacy_cmd_request("c1").expect("topic"),
            t.legacy_dp_post_json_accepted(),
            t.legacy_dp_post_json_rejected(),
        ];
        Fixture {
            plain,
            modelled,
            topics,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((topic, payload)) = cellagent_fuzz::split_downlink(data, &f.topics) else {
        return;
    };
    let platform = if data[0] & 0x80 != 0 {
        &f.modelled
    } else {
        &f.plain
    };
    cellagent_fuzz::check_downlink(platform, &topic, payload, &[KEY_B64, KEY_RAW]);
});
