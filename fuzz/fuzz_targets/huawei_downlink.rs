//! `HuaweiPlatform::decode` (commands, property set/get, shadow, events, messages) for a
//! fixed device with its product model, and without (the selector byte's high bit picks).
//!
//! Input: see `cellagent_fuzz::split_downlink`. Invariants: see
//! `cellagent_fuzz::check_downlink`; the device secret never appears in errors.
#![no_main]

use std::sync::OnceLock;

use cloud_huawei::auth::{DeviceSecretAuth, SignType};
use cloud_huawei::model::ProductModel;
use cloud_huawei::topics::Topics;
use cloud_huawei::{HuaweiPlatform, Login, Secret};
use libfuzzer_sys::fuzz_target;

const DEV: &str = "5f1a2b3c4d_dev001";
const SECRET: &str = "not-the-vector-secret";
const API: &str = include_str!("../../crates/cloud-huawei/tests/fixtures/api_all_types.json");

struct Fixture {
    plain: HuaweiPlatform,
    modelled: HuaweiPlatform,
    topics: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let auth = DeviceSecretAuth::new(DEV, Secret::new(SECRET), SignType::NoTimestampCheck)
            .expect("test device");
        let plain =
            HuaweiPlatform::new("iot.example", 8883, Login::Device(auth)).expect("platform");
        let modelled = plain
            .clone()
            .with_model(ProductModel::from_api_json(API).expect("fixture model"));
        let t = Topics::new(DEV);
        let topics = vec![
            t.command("42"),
            t.property_set("43"),
            t.property_get("44"),
            t.shadow_get_response("45"),
            t.events_down(),
            t.messages_down(),
            t.bootstrap_down(),
            format!("$oc/devices/{DEV}/user/cmd"),
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
    cellagent_fuzz::check_downlink(platform, &topic, payload, &[SECRET]);
});
