//! `cloud-huawei`: Huawei Cloud IoTDA (设备接入) for `cellagent`.
//!
//! * [`auth`] — `hwauth`, the device-secret login computed on the host
//!   (client ID `{device_id}_0_{sign}_{YYYYMMDDHH}`, username = device ID,
//!   password = hex HMAC-SHA256 keyed with the hour over the secret). Times are
//!   always inputs; nothing here reads the clock.
//! * [`provision`] — `hwprodid`: the legacy product-secret login with its
//!   `secretNotify`/`secretACK` flow, and the IoTDP registration group with its
//!   bootstrap topics. Only the registration group is documented by today's
//!   IoTDA; see the module docs.
//! * [`at`] — the module-side mode, `AT+QMTCFG="hwauth"|"hwprodid",…`.
//! * [`topics`], [`payload`], [`codes`] — `$oc/devices/{id}/sys/…` topics, the
//!   JSON bodies, result codes and the time-sync formula.
//! * [`model`] — IoTDA product models (API form and offline form), checked and
//!   mapped onto `thing-model`, and flat property names mapped onto services.
//! * [`HuaweiPlatform`] — the `thing_model::Platform` implementation.
//!
//! Secrets are [`Secret`]s: `Debug` masks them and no error message carries one.
//!
//! # Example
//!
//! ```
//! use cloud_huawei::auth::{DeviceSecretAuth, HourStamp, SignType};
//! use cloud_huawei::{HuaweiPlatform, Login, Secret};
//! use thing_model::{parse_uplink_line, Platform};
//!
//! let auth = DeviceSecretAuth::new("5f1a2b3c4d_dev001", Secret::new("s3cr3t-Passw0rd"),
//!                                  SignType::NoTimestampCheck).unwrap();
//! let creds = auth.credentials(HourStamp::parse("2026112417").unwrap());
//! assert_eq!(creds.client_id, "5f1a2b3c4d_dev001_0_0_2026112417");
//! assert_eq!(creds.password.expose().len(), 64);
//! assert!(!format!("{creds:?}").contains("s3cr3t"));
//!
//! let platform = HuaweiPlatform::new("iot-mqtts.cn-north-4.myhuaweicloud.com", 8883,
//!                                    Login::Device(auth)).unwrap()
//!     .with_default_service("Temperature");
//! let up = parse_uplink_line(r#"{"properties": {"value": 57}, "time": 0}"#).unwrap();
//! let publish = platform.encode(&up, 1).unwrap();
//! assert_eq!(publish.topic, "$oc/devices/5f1a2b3c4d_dev001/sys/properties/report");
//! assert_eq!(
//!     String::from_utf8(publish.payload).unwrap(),
//!     r#"{"services":[{"service_id":"Temperature","properties":{"value":57},"event_time":"19700101T000000Z"}]}"#
//! );
//! ```

pub mod at;
pub mod auth;
mod codec;
pub mod codes;
mod error;
pub mod model;
pub mod payload;
mod platform;
pub mod provision;
pub mod topics;

pub use error::{Error, Result};
pub use platform::{HuaweiPlatform, Login, BOOTSTRAP_HOST, MQTTS_PORT};
pub use thing_model::Secret;
