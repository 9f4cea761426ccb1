//! The built-in credential derivations, calling the cloud crates' signing functions.
//!
//! The firmware's choices are undocumented; these are the emulator's (see
//! `docs/modem-sim.md`):
//!
//! * `aliauth`: client id `<clientid>|securemode=3,signmethod=hmacsha1,timestamp=<ms>|`
//!   (`securemode=2` over TLS), user name `<dn>&<pk>`, password = lower-case hex
//!   HMAC-SHA1 (`cloud_aliyun::auth::device_credentials`). `<username>`/`<password>` given to
//!   `AT+QMTCONN` are ignored.
//! * `onenet`: client id = the `AT+QMTCONN` `<clientid>` (the device name), user name = the
//!   product id, password = a token version 2018-10-31, `res=products/<pid>/devices/<dn>`,
//!   `method=sha1`, `et=2524579200` (2050-01-01, the value OneNET's C SDK hard-codes),
//!   signed with the access key (`cloud_onenet::token`).
//! * `hwauth`: client id `<device_id>_0_<t>_<YYYYMMDDHH>` (`t` = `<hw_time_enable>`, 0 when
//!   omitted), user name = device id, password = HMAC-SHA256 keyed by the hour stamp
//!   (`cloud_huawei::auth::DeviceSecretAuth`). The `AT+QMTCONN` `<clientid>` is ignored.
//! * `hwprodid`: the product-secret login
//!   (`cloud_huawei::provision::ProductSecretAuth`): client id
//!   `<product_id>_<node_id>_1_<t>_<YYYYMMDDHH>`, user name = product id.
//! * `CTWing`: no cloud crate; not implemented (`AT+QMTCONN` answers `ERROR`).

use thing_model::Secret;

use crate::auth::{Credentials, DeriveError, DeriveInput};
use crate::cfg::CloudAuth;

/// The OneNET token expiry the emulator uses (2050-01-01T00:00:00Z).
pub const ONENET_ET: u64 = 2_524_579_200;

fn failed(kind: &'static str) -> impl Fn(String) -> DeriveError {
    move |e| DeriveError::Failed(kind, e)
}

/// `aliauth`.
pub fn aliyun(i: &DeriveInput<'_>) -> Result<Credentials, DeriveError> {
    use cloud_aliyun::auth::{device_credentials, ClientId, HexCase};
    let CloudAuth::Aliyun {
        product_key,
        device_name,
        device_secret,
    } = i.auth
    else {
        return Err(DeriveError::Failed(
            "aliauth",
            "wrong credential kind".into(),
        ));
    };
    let id = ClientId::new(i.client_id)
        .with("securemode", if i.tls { "2" } else { "3" })
        .with("signmethod", "hmacsha1")
        .with("timestamp", i.now_unix_ms.to_string());
    let c = device_credentials(
        product_key,
        device_name,
        &Secret::new(device_secret.clone()),
        &id,
        HexCase::Lower,
    );
    Ok(Credentials {
        client_id: c.client_id,
        username: Some(c.username),
        password: Some(c.password.expose().to_string()),
    })
}

/// `onenet`.
pub fn onenet(i: &DeriveInput<'_>) -> Result<Credentials, DeriveError> {
    use cloud_onenet::token::{AccessKey, Resource, SignMethod, TokenSpec, TokenVersion};
    let CloudAuth::OneNet {
        product_id,
        access_key,
    } = i.auth
    else {
        return Err(DeriveError::Failed(
            "onenet",
            "wrong credential kind".into(),
        ));
    };
    let f = failed("onenet");
    let key = AccessKey::from_base64(access_key).map_err(|e| f(e.to_string()))?;
    let res = Resource::device(product_id, i.client_id).map_err(|e| f(e.to_string()))?;
    let spec = TokenSpec {
        version: TokenVersion::V2018_10_31,
        res,
        et: ONENET_ET,
        method: SignMethod::Sha1,
    };
    Ok(Credentials {
        client_id: i.client_id.to_string(),
        username: Some(product_id.clone()),
        password: Some(spec.sign(&key).expose()),
    })
}

fn sign_type(t: Option<bool>) -> cloud_huawei::auth::SignType {
    use cloud_huawei::auth::SignType;
    if t == Some(true) {
        SignType::TimestampCheck
    } else {
        SignType::NoTimestampCheck
    }
}

/// `hwauth`.
pub fn huawei_device(i: &DeriveInput<'_>) -> Result<Credentials, DeriveError> {
    use cloud_huawei::auth::{DeviceSecretAuth, HourStamp};
    let CloudAuth::HuaweiDevice {
        device_id,
        secret,
        time_check,
    } = i.auth
    else {
        return Err(DeriveError::Failed(
            "hwauth",
            "wrong credential kind".into(),
        ));
    };
    let f = failed("hwauth");
    let auth = DeviceSecretAuth::new(
        device_id,
        Secret::new(secret.clone()),
        sign_type(*time_check),
    )
    .map_err(|e| f(e.to_string()))?;
    let at = HourStamp::from_unix_ms(i.now_unix_ms).map_err(|e| f(e.to_string()))?;
    let c = auth.credentials(at);
    Ok(Credentials {
        client_id: c.client_id,
        username: Some(c.username),
        password: Some(c.password.expose().to_string()),
    })
}

/// `hwprodid`.
pub fn huawei_product(i: &DeriveInput<'_>) -> Result<Credentials, DeriveError> {
    use cloud_huawei::auth::HourStamp;
    use cloud_huawei::provision::ProductSecretAuth;
    let CloudAuth::HuaweiProduct {
        product_id,
        secret,
        node_id,
        time_check,
    } = i.auth
    else {
        return Err(DeriveError::Failed(
            "hwprodid",
            "wrong credential kind".into(),
        ));
    };
    let f = failed("hwprodid");
    let auth = ProductSecretAuth::new(
        product_id,
        node_id,
        Secret::new(secret.clone()),
        sign_type(*time_check),
    )
    .map_err(|e| f(e.to_string()))?;
    let at = HourStamp::from_unix_ms(i.now_unix_ms).map_err(|e| f(e.to_string()))?;
    let c = auth.credentials(at);
    Ok(Credentials {
        client_id: c.client_id,
        username: Some(c.username),
        password: Some(c.password.expose().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(auth: &CloudAuth, tls: bool) -> DeriveInput<'_> {
        DeriveInput {
            auth,
            client_id: "dev1",
            username: Some("ignored"),
            password: Some("ignored"),
            tls,
            now_unix_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn aliyun_client_id_and_verifiable_password() {
        let auth = CloudAuth::Aliyun {
            product_key: "a1B2c3D4e5F".into(),
            device_name: "dev-001".into(),
            device_secret: "0123456789abcdef0123456789abcdef".into(),
        };
        let c = aliyun(&input(&auth, false)).unwrap();
        assert_eq!(
            c.client_id,
            "dev1|securemode=3,signmethod=hmacsha1,timestamp=1700000000000|"
        );
        assert_eq!(c.username.as_deref(), Some("dev-001&a1B2c3D4e5F"));
        // HMAC-SHA1 over the documented content, checked with the crate's own HMAC.
        let content = "clientIddev1deviceNamedev-001productKeya1B2c3D4e5Ftimestamp1700000000000";
        let want = cloud_aliyun::auth::hmac_hex(
            cloud_aliyun::auth::SignMethod::HmacSha1,
            b"0123456789abcdef0123456789abcdef",
            content.as_bytes(),
            cloud_aliyun::auth::HexCase::Lower,
        );
        assert_eq!(c.password.as_deref(), Some(want.as_str()));
        let tls = aliyun(&input(&auth, true)).unwrap();
        assert!(tls.client_id.contains("securemode=2"));
    }

    #[test]
    fn onenet_token_fields() {
        let auth = CloudAuth::OneNet {
            product_id: "Aw9oB4n7zB".into(),
            access_key: "Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=".into(),
        };
        let c = onenet(&input(&auth, false)).unwrap();
        assert_eq!(c.client_id, "dev1");
        assert_eq!(c.username.as_deref(), Some("Aw9oB4n7zB"));
        let pw = c.password.unwrap();
        assert!(pw.starts_with("version=2018-10-31&res=products%2FAw9oB4n7zB%2Fdevices%2Fdev1&et=2524579200&method=sha1&sign="), "{pw}");
        let bad = CloudAuth::OneNet {
            product_id: "p".into(),
            access_key: "not base64!".into(),
        };
        assert!(matches!(
            onenet(&input(&bad, false)),
            Err(DeriveError::Failed("onenet", _))
        ));
    }

    #[test]
    fn huawei_device_and_product() {
        let auth = CloudAuth::HuaweiDevice {
            device_id: "dev_1".into(),
            secret: "s3cret".into(),
            time_check: None,
        };
        let c = huawei_device(&input(&auth, false)).unwrap();
        // 1_700_000_000_000 ms = 2023-11-14T22:13:20Z.
        assert_eq!(c.client_id, "dev_1_0_0_2023111422");
        assert_eq!(c.username.as_deref(), Some("dev_1"));
        assert_eq!(c.password.as_ref().map(String::len), Some(64));
        let auth = CloudAuth::HuaweiProduct {
            product_id: "prod".into(),
            secret: "ps".into(),
            node_id: "node9".into(),
            time_check: Some(true),
        };
        let c = huawei_product(&input(&auth, false)).unwrap();
        assert_eq!(c.client_id, "prod_node9_1_1_2023111422");
        assert_eq!(c.username.as_deref(), Some("prod"));
    }
}
