//! `cloud-aliyun`: Alibaba Cloud IoT Platform (阿里云物联网平台) for `cellagent`.
//!
//! * [`AliyunPlatform`] implements [`thing_model::Platform`]: MQTT credentials for one device
//!   one secret (client id `{id}|securemode=2,signmethod=hmacsha256,timestamp=…,_ss=1,ext=1|`,
//!   user name `{dn}&{pk}`, password = hex HMAC over the sorted content), the module-side
//!   `aliauth` description, subscriptions, Alink JSON encode/decode, NTP, server-side CONNECT
//!   verification, and dynamic registration (`register` / `regnwl` → `connwl`) as
//!   provisioning steps.
//! * [`auth`], [`dynreg`], [`alink`], [`topics`]: the pure building blocks.
//! * [`tsl`]: loads the console's TSL export into a [`thing_model::ThingModel`].
//!
//! All functions are pure; times and random tokens are inputs.
//!
//! # Example
//!
//! ```
//! use cloud_aliyun::{AliyunPlatform, AliyunProfile};
//! use thing_model::{parse_uplink_line, Platform, Secret};
//!
//! let profile = AliyunProfile::new("a1B2c3D4e5F", "dev-001",
//!     Some(Secret::new("0123456789abcdef0123456789abcdef")));
//! let cloud = AliyunPlatform::new(profile).unwrap();
//!
//! let conn = cloud.connect(1_700_000_000_000).unwrap();
//! assert_eq!(conn.host, "a1B2c3D4e5F.iot-as-mqtt.cn-shanghai.aliyuncs.com");
//! assert_eq!(conn.client_id,
//!     "a1B2c3D4e5F.dev-001|securemode=2,signmethod=hmacsha256,timestamp=1700000000000,_ss=1,ext=1|");
//! assert_eq!(conn.username, "dev-001&a1B2c3D4e5F");
//! assert!(format!("{conn:?}").contains("Secret(***)"));
//! assert!(cloud.verify_connect(&conn.client_id, &conn.username,
//!     conn.password.expose().as_bytes(), 0).is_accept());
//!
//! let up = parse_uplink_line(r#"{"properties": {"temp": 23.5}}"#).unwrap();
//! let publish = cloud.encode(&up, 1).unwrap();
//! assert_eq!(publish.topic, "/sys/a1B2c3D4e5F/dev-001/thing/event/property/post");
//! assert_eq!(String::from_utf8(publish.payload).unwrap(),
//!     r#"{"id":"1","version":"1.0","params":{"temp":23.5},"method":"thing.event.property.post"}"#);
//! ```

pub mod alink;
pub mod auth;
pub mod dynreg;
mod platform;
mod profile;
pub mod topics;
pub mod tsl;

pub use platform::{AliyunPlatform, RRPC_ID_SEPARATOR};
pub use profile::{AliyunProfile, TimestampMode};
