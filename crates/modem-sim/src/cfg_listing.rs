//! The `AT+QMTCFG=?` listing of each firmware profile.

use super::Profile;

/// The `AT+QMTCFG=?` listing of a profile (without the final `OK`).
pub fn test_lines(profile: Profile) -> Vec<String> {
    let lines: &[&str] = match profile {
        Profile::Guide | Profile::GuideV10 => &[
            r#""version",(0-5),(3,4)"#,
            r#""pdpcid",(0-5),(1-15)"#,
            r#""ssl",(0-5),(0,1),(0-5)"#,
            r#""keepalive",(0-5),(0-3600)"#,
            r#""session",(0-5),(0,1)"#,
            r#""timeout",(0-5),(1-60),(0-10),(0,1)"#,
            r#""will",(0-5),(0,1),(0-2),(0,1),"willtopic","willmessage""#,
            r#""willex",(0-5),(0,1),(0-2),(0,1),"willtopic",(0-256)"#,
            r#""recv/mode",(0-5),(0,1),(0,1)"#,
            r#""aliauth",(0-5),"productkey","devicename","devicesecret""#,
            r#""qmtping",(0-5),(5-60)"#,
            r#""send/mode",(0-5),(0,1)"#,
            r#""onenet",(0-5),"product id","access key""#,
            r#""hwauth",(0-5),"device id","device secret""#,
            r#""hwprodid",(0-5),"product id","product secret","nodeid""#,
            r#""dataformat",(0-5),(0,1),(0,1)"#,
            r#""view/mode",(0-5),(0,1)"#,
            r#""edit/timeout",(0-5),(0,1),(1-120)"#,
        ],
        Profile::Ec600s => &[
            r#""version",(0-5),(3,4)"#,
            r#""pdpcid",(0-5),(1-15)"#,
            r#""ssl",(0-5),(0,1),(0-5)"#,
            r#""keepalive",(0-5),(0-3600)"#,
            r#""session",(0-5),(0,1)"#,
            r#""timeout",(0-5),(1-1200),(1-10),(0,1)"#,
            r#""will",(0-5),(0,1),(0-2),(0,1),"willtopic","willmessage""#,
            r#""willex",(0-5),(0,1),(0-2),(0,1),"willtopic",(0-256)"#,
            r#""recv/mode",(0-5),(0,1),(0,1)"#,
            r#""send/mode",(0-5),(0,1)"#,
            r#""onenet",(0-5),"product id","access key""#,
            r#""aliauth",(0-5),"product key","device name","device secret""#,
            r#""hwauth",(0-5),"device id","device secret""#,
            r#""hwprodid",(0-5),"product id","product secret","nodeid""#,
            r#""qmtping",(0-5),(5-60)"#,
            r#""dataformat",(0-5),(0,1),(0,1)"#,
            r#""view/mode",(0-5),(0,1)"#,
            r#""CTWing",(0-5),"client_id","feature_string""#,
            r#""edit/timeout",(0-5),(0,1),(1-180)"#,
        ],
    };
    lines
        .iter()
        .filter(|l| profile.has_edit_timeout() || !l.starts_with(r#""edit/timeout""#))
        .map(|l| format!("+QMTCFG: {l}"))
        .collect()
}
