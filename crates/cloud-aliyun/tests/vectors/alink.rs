//! Alink payload, gateway sign and NTP vectors.

use super::*;

pub(crate) fn alink(v: &Value) -> Check {
    let i = &v["inputs"];
    let published = v["outputs"]["published"].as_array().unwrap();
    let p = AliyunPlatform::new(AliyunProfile::new(PK, DN, Some(Secret::new("x")))).unwrap();
    let prop = serde_json::json!({"properties": i["thing_post_property"], "qos": 1});
    let ev = &i["thing_trigger_event"];
    let event = serde_json::json!({"event": ev[0], "params": ev[1], "qos": 0});
    let sv = &i["thing_answer_service"];
    let reply = serde_json::json!({"reply": sv[1], "code": sv[2], "data": sv[3], "to": "call", "name": sv[0], "qos": 0});
    let set = &i["downlink_property_set"];
    let set_payload = set["payload"].to_string();
    let down = p
        .decode(s(set, "topic"), set_payload.as_bytes())
        .map_err(|e| e.to_string())?;
    let Some(Downlink::Set { id, values, .. }) = down else {
        return Err(format!("property set decoded as {down:?}"));
    };
    eq!(
        "set values",
        Value::Object(values),
        set["payload"]["params"]
    );
    let set_reply = serde_json::json!({"reply": id, "code": 200, "to": "set"});
    for (k, (line, pubd)) in [prop, event, reply, set_reply]
        .iter()
        .zip(published)
        .enumerate()
    {
        let up = parse_uplink_line(&line.to_string()).map_err(|e| e.to_string())?;
        let ours = p.encode(&up, k as u32 + 1).map_err(|e| e.to_string())?;
        eq!(format!("#{k} topic"), ours.topic, s(pubd, "topic"));
        eq!(
            format!("#{k} qos"),
            u64::from(ours.qos),
            pubd["qos"].as_u64().unwrap()
        );
        // Same JSON, same key order; Python only adds spaces after `:` and `,`.
        let theirs: Value = serde_json::from_str(s(pubd, "payload")).unwrap();
        eq!(
            format!("#{k} payload"),
            String::from_utf8(ours.payload).unwrap(),
            theirs.to_string()
        );
    }
    Ok(())
}

pub(crate) fn gateway_signs(v: &Value) -> Check {
    let ds = Secret::new(v["inputs"]["subdev"][2].as_str().unwrap());
    for pubd in v["outputs"]["published"].as_array().unwrap() {
        let payload: Value = serde_json::from_str(s(pubd, "payload")).unwrap();
        let list = payload["params"]
            .as_array()
            .or(payload["params"]["deviceList"].as_array())
            .unwrap();
        for d in list {
            let content = device_sign_content(
                s(d, "clientId"),
                s(d, "deviceName"),
                s(d, "productKey"),
                Some(s(d, "timestamp")),
            );
            eq!(
                "sub-device sign",
                hmac_hex(
                    SignMethod::HmacSha256,
                    ds.expose().as_bytes(),
                    content.as_bytes(),
                    HexCase::Lower
                ),
                s(d, "sign")
            );
        }
    }
    Ok(())
}

pub(crate) fn ntp(v: &Value) -> Check {
    let p = AliyunPlatform::new(profile(v)).unwrap();
    let pkt = &v["outputs"]["packets"][0];
    let ours = p
        .time_request(v["outputs"]["sysdep_time_ms"].as_i64().unwrap(), 1)
        .unwrap();
    eq!("topic", ours.topic, s(pkt, "topic"));
    eq!(
        "payload",
        String::from_utf8(ours.payload).unwrap(),
        s(pkt, "payload")
    );
    eq!("qos", u64::from(ours.qos), pkt["qos"].as_u64().unwrap());
    Ok(())
}
