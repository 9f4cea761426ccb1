//! Dynamic registration vectors (MQTT register / regnwl / connwl, HTTPS).

use super::*;

pub(crate) fn dynreg_mqtt(
    v: &Value,
    random: &str,
    mode: RegisterMode,
    instance: Option<&str>,
    o: &Value,
) -> Check {
    let cid = register_client_id(
        pk(v),
        dn(v),
        mode,
        random,
        2,
        SignMethod::HmacSha256,
        instance,
    );
    eq!("client id", cid.to_string(), s(o, "client_id"));
    let password = s(o, "password");
    let creds = dynreg_credentials(pk(v), dn(v), &ps(v), &cid, case_of(password));
    eq!("password", creds.password.expose(), password);
    eq!("username", creds.username, s(o, "username"));
    eq!(
        "sign content",
        dynreg_sign_content(dn(v), pk(v), random),
        s(o, "sign_content")
    );
    // Through the platform's provisioning step.
    let mut prof = AliyunProfile::new(pk(v), dn(v), None);
    prof.product_secret = Some(ps(v));
    prof.register = Some(mode);
    prof.instance_id = instance.map(str::to_owned);
    prof.hex_case = case_of(password);
    let p = AliyunPlatform::new(prof).map_err(|e| e.to_string())?;
    let step = p
        .provision(0, random)
        .map_err(|e| e.to_string())?
        .ok_or("no provisioning step")?;
    eq!(
        "provision client id",
        step.connect.client_id,
        s(o, "client_id")
    );
    eq!(
        "provision password",
        step.connect.password.expose(),
        password
    );
    eq!("provision tls", step.connect.tls, true);
    if !p
        .verify_connect(
            &step.connect.client_id,
            &step.connect.username,
            password.as_bytes(),
            0,
        )
        .is_accept()
    {
        return Err("server-side verification refused the registration CONNECT".into());
    }
    Ok(())
}

pub(crate) fn py_dynreg(v: &Value) -> Check {
    let i = &v["inputs"];
    let mode = if s(i, "auth_type") == "register" {
        RegisterMode::Register
    } else {
        RegisterMode::Regnwl
    };
    dynreg_mqtt(
        v,
        s(i, "random(pinned)"),
        mode,
        i["instance_id"].as_str(),
        &v["outputs"],
    )?;
    let mut prof = AliyunProfile::new(pk(v), dn(v), None);
    prof.instance_id = i["instance_id"].as_str().map(str::to_owned);
    eq!("endpoint", prof.host(), s(&v["outputs"], "endpoint"));
    Ok(())
}

pub(crate) fn linksdk_dynreg(v: &Value) -> Check {
    let o = &v["outputs"];
    let cid = s(o, "connect.client_id");
    let mode = if cid.contains("authType=register") {
        RegisterMode::Register
    } else {
        RegisterMode::Regnwl
    };
    let instance = ClientId::parse(cid)
        .unwrap()
        .get("instanceId")
        .map(str::to_owned);
    dynreg_mqtt(
        v,
        s(o, "random_used"),
        mode,
        instance.as_deref(),
        &o["connect"],
    )?;
    let c = &o["connect"];
    eq!(
        "packet",
        connect_packet(
            cid,
            s(c, "username"),
            s(c, "password"),
            c["keepalive_s"].as_u64().unwrap() as u16
        ),
        s(c, "packet_hex")
    );
    let mut prof = AliyunProfile::new(pk(v), dn(v), None);
    prof.instance_id = instance;
    eq!("host", prof.host(), s(o, "host"));
    eq!("port", u64::from(prof.port()), o["port"].as_u64().unwrap());
    // The cloud's answer, then the next login.
    let mut prof = AliyunProfile::new(pk(v), dn(v), None);
    prof.product_secret = Some(ps(v));
    prof.register = Some(mode);
    prof.client_id_params
        .insert("_v".into(), "sdk-c-4.2.0".into());
    prof.ext = Some(3);
    let mut p = AliyunPlatform::new(prof).unwrap();
    let (topic, payload, expect_cid) = match mode {
        RegisterMode::Register => (
            "/ext/register",
            serde_json::json!({"deviceSecret": s(o, "recv_wl.device_secret")}),
            None,
        ),
        RegisterMode::Regnwl => {
            let want = ClientId::parse(s(o, "recv_nwl.clientid")).unwrap();
            let token = s(o, "recv_nwl.password");
            (
                "/ext/regnwl",
                serde_json::json!({"clientId": want.id, "deviceToken": token}),
                Some(want.to_string()),
            )
        }
    };
    let got = p
        .provision_response(topic, payload.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let got = got.ok_or("registration answer not recognised")?;
    p.apply_provisioned(&got).map_err(|e| e.to_string())?;
    let conn = p.connect(0).map_err(|e| e.to_string())?;
    match expect_cid {
        Some(cid) => {
            eq!("connwl client id", conn.client_id, cid);
            eq!(
                "connwl password",
                conn.password.expose(),
                s(o, "recv_nwl.password")
            );
            eq!("connwl username", conn.username, s(o, "recv_nwl.username"));
        }
        None => {
            let sec = Secret::new(s(o, "recv_wl.device_secret"));
            let cid = ClientId::parse(&conn.client_id).unwrap();
            eq!(
                "post-register password",
                conn.password,
                device_credentials(PK, DN, &sec, &cid, HexCase::Lower).password
            );
        }
    }
    if !p
        .verify_connect(
            &conn.client_id,
            &conn.username,
            conn.password.expose().as_bytes(),
            0,
        )
        .is_accept()
    {
        return Err("server refused the login after registration".into());
    }
    Ok(())
}

pub(crate) fn py_connwl(v: &Value) -> Check {
    let o = &v["outputs"];
    let payload = v["inputs"]["payload"].to_string();
    let extras = [
        ("lan".to_owned(), "Python".to_owned()),
        ("_v".to_owned(), "1.2.13".to_owned()),
    ];
    let issued = s(&v["inputs"], "payload.clientId");
    eq!(
        "client id",
        connwl_client_id(issued, &extras).to_string(),
        s(o, "client_id")
    );
    let mut prof = AliyunProfile::new(PK, DN, None);
    prof.product_secret = Some(Secret::new("ProdSecret012345"));
    prof.register = Some(RegisterMode::Regnwl);
    let mut p = AliyunPlatform::new(prof).unwrap();
    let got: Provisioned = p
        .provision_response("/ext/regnwl", payload.as_bytes())
        .unwrap()
        .unwrap();
    p.apply_provisioned(&got).unwrap();
    let conn = p.connect(0).unwrap();
    eq!("username", conn.username, s(o, "username"));
    eq!("password", conn.password.expose(), s(o, "password"));
    eq!(
        "client id prefix",
        ClientId::parse(&conn.client_id).unwrap().id,
        issued
    );
    eq!(
        "verify",
        p.verify_connect(
            &conn.client_id,
            &conn.username,
            conn.password.expose().as_bytes(),
            0
        )
        .is_accept(),
        true
    );
    Ok(())
}

pub(crate) fn https_dynreg(v: &Value) -> Check {
    let o = &v["outputs"];
    let form = s(o, "form_body");
    let field = |k: &str| {
        form.split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_owned()
    };
    let method = SignMethod::parse(&field("signMethod")).unwrap();
    let random = field("random");
    let req = https_register_request(
        "cn-shanghai",
        pk(v),
        dn(v),
        &ps(v),
        &random,
        method,
        case_of(&field("sign")),
    );
    eq!("form body", req.form_body, form);
    eq!(
        "sign content",
        dynreg_sign_content(dn(v), pk(v), &random),
        s(o, "sign_content")
    );
    if let Some(url) = o["url"].as_str() {
        eq!(
            "url path",
            url.split_once("://").unwrap().1,
            req.url().split_once("://").unwrap().1
        );
    }
    if let Some(http) = o["http_request"].as_str() {
        eq!("http request", req.http_request(), http);
    }
    if let Some(resp) = o.get("mock_response_passed_to_cb") {
        let ds = parse_https_register_response(resp.to_string().as_bytes())
            .map_err(|e| e.to_string())?;
        eq!("parsed secret", ds.expose(), s(resp, "data.deviceSecret"));
    }
    Ok(())
}
