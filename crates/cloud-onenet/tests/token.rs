//! Token pieces: URL-encoding, parse/expose round trips, secrets kept out of Debug.

use cloud_onenet::token::{
    percent_decode, percent_encode, verify, AccessKey, Expiry, Resource, SignMethod, Token,
    TokenSpec, TokenVersion,
};

#[test]
fn percent_encoding_follows_the_onenet_table() {
    assert_eq!(percent_encode("+ /?%#&="), "%2B%20%2F%3F%25%23%26%3D");
    assert_eq!(
        percent_encode("AZaz09-_.~*"),
        "AZaz09-_.~*",
        "only the table (and non-printables) is encoded"
    );
    assert_eq!(percent_encode("\n\u{e9}"), "%0A%C3%A9");
    for s in [
        "",
        "a+b/c==",
        "products/p/devices/d",
        "é ü +/=%%",
        "%2F literal",
    ] {
        assert_eq!(
            percent_decode(&percent_encode(s)).as_deref(),
            Some(s),
            "{s}"
        );
    }
    assert_eq!(
        percent_decode("%2f%3d").as_deref(),
        Some("/="),
        "lower-case hex decodes"
    );
    for bad in ["%", "%2", "%zz", "%+1", "%C3"] {
        assert_eq!(percent_decode(bad), None, "{bad}");
    }
}

#[test]
fn every_method_and_resource_round_trips_through_parse() {
    let key = AccessKey::from_bytes((0u8..=255).collect()).unwrap();
    let resources = [
        Resource::device("Aw9oB4n7zB", &"d".repeat(64)).unwrap(),
        Resource::product("123123").unwrap(),
        Resource::user("12345").unwrap(),
    ];
    for res in resources {
        for method in [SignMethod::Md5, SignMethod::Sha1, SignMethod::Sha256] {
            for version in [
                TokenVersion::V2018_10_31,
                TokenVersion::V2020_05_29,
                TokenVersion::V2022_05_01,
            ] {
                let spec =
                    TokenSpec::new(version, res.clone(), method, Expiry::At(u64::MAX), 0).unwrap();
                let tok = spec.sign(&key);
                assert_eq!(
                    tok.expose_sign().len(),
                    method.digest_len().div_ceil(3) * 4,
                    "padded base64"
                );
                let parsed = Token::parse(&tok.expose()).unwrap();
                assert_eq!(parsed, tok);
                assert_eq!(verify(&tok.expose(), &key, u64::MAX).unwrap(), spec);
            }
        }
    }
}

#[test]
fn fields_may_come_in_any_order_but_not_twice() {
    let key = AccessKey::from_bytes(vec![9; 16]).unwrap();
    let spec = TokenSpec {
        version: TokenVersion::V2018_10_31,
        res: Resource::device("p", "d").unwrap(),
        et: 500,
        method: SignMethod::Sha1,
    };
    let tok = spec.sign(&key).expose();
    let mut parts: Vec<&str> = tok.split('&').collect();
    parts.reverse();
    assert_eq!(verify(&parts.join("&"), &key, 1).unwrap(), spec);
    assert!(verify(&format!("{tok}&method=sha1"), &key, 1).is_err());
}

#[test]
fn debug_output_never_contains_secrets() {
    let key_b64 = "KuF3NT/jUBJ62LNBB/A8XZA9CqS3Cu79B/ABmfA1UCw=";
    let key = AccessKey::from_base64(key_b64).unwrap();
    assert_eq!(format!("{key:?}"), "AccessKey(<redacted, 32 bytes>)");
    let tok = TokenSpec::new(
        TokenVersion::V2018_10_31,
        Resource::device("p", "d").unwrap(),
        SignMethod::Sha256,
        Expiry::Lifetime(10),
        100,
    )
    .unwrap()
    .sign(&key);
    let dbg = format!("{tok:?}");
    assert!(
        dbg.contains("<redacted>") && dbg.contains("et: 110"),
        "{dbg}"
    );
    assert!(!dbg.contains(tok.expose_sign()) && !dbg.contains(&percent_encode(tok.expose_sign())));
    // Errors about a wrong signature do not print it either.
    let other = AccessKey::from_bytes(vec![1]).unwrap();
    let err = verify(&tok.expose(), &other, 100).unwrap_err().to_string();
    assert!(!err.contains(tok.expose_sign()), "{err}");
    assert_eq!(
        key.to_base64(),
        key_b64,
        "canonical keys re-encode unchanged"
    );
}

#[test]
fn method_and_version_strings_are_exact() {
    assert!("SHA1"
        .parse::<SignMethod>()
        .unwrap_err()
        .to_string()
        .starts_with("method:"));
    assert!("hmacsha1".parse::<SignMethod>().is_err());
    assert!("2018-10-30"
        .parse::<TokenVersion>()
        .unwrap_err()
        .to_string()
        .starts_with("version:"));
    assert!(Resource::parse("products/p/devices").is_err());
    assert!(Resource::user("12a")
        .unwrap_err()
        .to_string()
        .starts_with("user_id:"));
}
