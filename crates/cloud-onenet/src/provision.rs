//! Provisioning: what OneNET allows over MQTT alone.
//!
//! * **Product access key ("一型一密").** The product key can sign a
//!   *device-level* token (`res=products/{pid}/devices/{dn}`): both official
//!   SDKs (C `tm_login`, Java `MqttClientContext`) do this, so a factory can
//!   burn one product key into every unit. The device must already exist on
//!   the platform. Use [`device_token_with_product_key`], or set
//!   [`KeyScope::Product`](crate::connect::KeyScope) in the configuration.
//! * **Product-level login** (`res=products/{pid}`, client id = device name):
//!   LuatOS' `iotcloud` does it; whether OneNET then creates unknown devices
//!   (and which product switch enables it) is **not confirmed** by any
//!   official text. Available as [`AuthLevel::Product`](crate::connect::AuthLevel).
//! * **Device registration** is HTTP only: `POST /mqtt/v1/devices/reg` (MQTTS
//!   kit, product-level token in `Authorization`) or
//!   `POST https://iot-api.heclouds.com/device/create` (current platform,
//!   user-level 2022-05-01 token), answering with the device key. That needs
//!   the module's HTTP(S) stack (`AT+QHTTP*`), which this agent does not drive,
//!   so [`register_over_http`] returns [`Error::NotImplemented`] instead of
//!   pretending. A key obtained elsewhere can be adopted with
//!   `Platform::apply_provisioned` (state key `access_key`).
//!
//! ```
//! use cloud_onenet::{provision, token::{AccessKey, Expiry, SignMethod}};
//! let product_key = AccessKey::from_base64("KuF3NT/jUBJ62LNBB/A8XZA9CqS3Cu79B/ABmfA1UCw=")?;
//! let t = provision::device_token_with_product_key("Ck2AF9QD2K", "test", &product_key,
//!     SignMethod::Sha1, Expiry::At(32472115200), 1_700_000_000)?;
//! assert_eq!(t.spec().res.to_string(), "products/Ck2AF9QD2K/devices/test");
//! assert!(provision::register_over_http().is_err());
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::token::{AccessKey, Expiry, Resource, SignMethod, Token, TokenSpec, TokenVersion};

/// A device login token signed with the product access key.
pub fn device_token_with_product_key(
    product_id: &str,
    device_name: &str,
    product_key: &AccessKey,
    method: SignMethod,
    expiry: Expiry,
    now: u64,
) -> Result<Token> {
    let res = Resource::device(product_id, device_name)?;
    Ok(TokenSpec::new(TokenVersion::V2018_10_31, res, method, expiry, now)?.sign(product_key))
}

/// A product-level token (`res=products/{pid}`): the `Authorization` of the
/// MQTTS-kit registration API, and LuatOS' product-level MQTT login.
pub fn product_token(
    product_id: &str,
    product_key: &AccessKey,
    method: SignMethod,
    expiry: Expiry,
    now: u64,
) -> Result<Token> {
    let res = Resource::product(product_id)?;
    Ok(TokenSpec::new(TokenVersion::V2018_10_31, res, method, expiry, now)?.sign(product_key))
}

/// OneNET device registration over HTTP: not available (see the module docs).
pub fn register_over_http() -> Result<()> {
    Err(Error::NotImplemented(
        "OneNET device registration is an HTTP API (POST /mqtt/v1/devices/reg or \
         iot-api.heclouds.com/device/create); it needs the module's HTTP stack (AT+QHTTP*), \
         which cellagent does not drive. Create the device in the console or OpenAPI, or use \
         the product access key with a device-level token.",
    ))
}
