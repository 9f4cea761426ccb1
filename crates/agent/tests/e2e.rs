//! End to end over a pty: `cellagent run` ⇄ modem-sim ⇄ cloud-sim, for the three clouds.

#[path = "../src/chain.rs"]
mod chain;

use std::path::Path;
use std::time::Duration;

use chain::{is_status, start, AgentProc, Which};
use cloud_sim::Kind;
use modem_sim::Fault;
use serde_json::{json, Value};
use thing_model::Downlink;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const T: Duration = Duration::from_secs(20);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn values(v: Value) -> thing_model::Values {
    v.as_object().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_telemetry_acks_downlinks_replies_and_bad_lines() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();

    // After connecting the agent asks for the cloud's clock (Alink NTP).
    let t = a
        .wait(T, "the cloud's time", |v| v.get("time").is_some())
        .await
        .unwrap();
    assert!(
        (t["time"].as_i64().unwrap() - chrono_now()).abs() < 60_000,
        "{t}"
    );

    // Bad lines: each gets an error naming the problem and its line number.
    a.send("not json").await.unwrap();
    a.send(r#"{"properties":{"Brightness":160}}"#)
        .await
        .unwrap();
    a.send(r#"{"properties":{"Colour":1}}"#).await.unwrap();
    a.send(r#"{"topic":"/a1B2c3D4e5F/dev-001/user/up\r","payload":"x"}"#)
        .await
        .unwrap();
    let big = "x".repeat(1600);
    a.send(&format!(
        r#"{{"topic":"/a1B2c3D4e5F/dev-001/user/up","payload":"{big}"}}"#
    ))
    .await
    .unwrap();
    a.send(r#"{"properties":{"Brightness":5},"id":"a\"b"}"#)
        .await
        .unwrap();
    a.send(r#"{"properties":{"Brightness":60},"id":"t1"}"#)
        .await
        .unwrap();
    for (line, needle) in [
        (1, "not valid JSON"),
        (2, "above the maximum 100"),
        (3, "Colour"),
        (4, "topic"),
        (5, "1500"),
        (6, "`id`"),
    ] {
        let e = a
            .wait(T, "an error line", |v| v.get("line") == Some(&json!(line)))
            .await
            .unwrap();
        assert!(
            e["error"].as_str().unwrap().contains(needle),
            "line {line}: {e}"
        );
    }
    // The good line is delivered and acked by the cloud; it arrives in Alink form.
    a.wait(T, "delivered t1", |v| v["delivered"] == "t1")
        .await
        .unwrap();
    let ack = a.wait(T, "ack t1", |v| v["ack"] == "t1").await.unwrap();
    assert_eq!(ack["code"], 200);
    let up = c
        .record(T, "the property post", |r| {
            r.kind == Kind::Uplink && r.what.as_deref() == Some("property_post")
        })
        .await
        .unwrap();
    assert_eq!(
        up.topic.as_deref(),
        Some("/sys/a1B2c3D4e5F/dev-001/thing/event/property/post")
    );
    let p = up.payload.unwrap();
    assert_eq!(p["params"], json!({"Brightness": 60}));
    assert_eq!(p["method"], "thing.event.property.post");

    // A downlink comes out on stdout; the reply flows back and is correlated.
    let sent = c
        .sim
        .send_downlink(
            Which::Aliyun.device(),
            Downlink::Set {
                id: String::new(),
                values: values(json!({"LightSwitch": 1})),
                service: None,
            },
        )
        .await
        .unwrap();
    let set = a
        .wait(T, "the set downlink", |v| v.get("set").is_some())
        .await
        .unwrap();
    assert_eq!(set["set"], json!({"LightSwitch": 1}));
    let id = set["id"].as_str().unwrap().to_string();
    a.send(&format!(r#"{{"reply":"{id}","code":200}}"#))
        .await
        .unwrap();
    let ans = c
        .record(T, "the set reply", |r| {
            r.kind == Kind::Answer && r.id.as_deref() == Some(&sent.id)
        })
        .await
        .unwrap();
    assert_eq!(ans.code, Some(200), "{ans:?}");

    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

/// `[cloud.aliyun] ack = false`: posts carry `"sys":{"ack":0}`, the cloud sends no
/// `post_reply`, and the app gets `delivered` but no `ack` lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_without_post_replies() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    let text = std::fs::read_to_string(&c.profile).unwrap();
    assert!(text.contains("[cloud.aliyun]\n"), "{text}");
    std::fs::write(
        &c.profile,
        text.replacen("[cloud.aliyun]\n", "[cloud.aliyun]\nack = false\n", 1),
    )
    .unwrap();
    let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    for i in 1..=3 {
        a.send(&format!(
            r#"{{"properties":{{"Brightness":{}}},"id":"n{i}"}}"#,
            10 + i
        ))
        .await
        .unwrap();
    }
    for i in 1..=3 {
        a.wait(T, "delivered", |v| v["delivered"] == format!("n{i}"))
            .await
            .unwrap();
    }
    let up = c
        .record(T, "the property post", |r| {
            r.kind == Kind::Uplink && r.what.as_deref() == Some("property_post")
        })
        .await
        .unwrap();
    assert_eq!(up.payload.unwrap()["sys"]["ack"], 0);
    // With replies on, the `ack` follows `delivered` within milliseconds.
    let none = a
        .wait(Duration::from_secs(2), "an ack line", |v| {
            v.get("ack").is_some()
        })
        .await;
    assert!(none.is_err(), "an ack came: {none:?}");
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onenet_telemetry_socket_and_timeout_answer() {
    let c = start(Which::Onenet, 0, None).await.unwrap();
    let sock = c.dir.path().join("agent.sock");
    let env = [("CELLAGENT_AGENT__REPLY_TIMEOUT_S", "1")];
    let mut a = AgentProc::spawn(
        bin(),
        &c.profile,
        &env,
        &["--socket", sock.to_str().unwrap()],
    )
    .unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();

    a.send(r#"{"properties":{"temp":23.5},"id":"o1"}"#)
        .await
        .unwrap();
    a.wait(T, "delivered o1", |v| v["delivered"] == "o1")
        .await
        .unwrap();
    let ack = a.wait(T, "ack o1", |v| v["ack"] == "o1").await.unwrap();
    assert_eq!(ack["code"], 200);
    let up = c
        .record(T, "the property post", |r| {
            r.kind == Kind::Uplink
                && r.topic.as_deref() == Some("$sys/Aw9oB4n7zB/dev-001/thing/property/post")
        })
        .await
        .unwrap();
    assert_eq!(up.payload.unwrap()["params"]["temp"]["value"], json!(23.5));

    // The unix socket: lines in, errors to that client only, delivered to everybody.
    let s = tokio::net::UnixStream::connect(&sock).await.unwrap();
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r).lines();
    w.write_all(b"{\"properties\":{\"temp\":999}}\n{\"properties\":{\"temp\":20},\"id\":\"s1\"}\n")
        .await
        .unwrap();
    let mut got_error = false;
    let bounded = tokio::time::timeout(T, async {
        while let Ok(Some(line)) = r.next_line().await {
            let v: Value = serde_json::from_str(&line).unwrap();
            if v.get("error").is_some() {
                assert_eq!(v["line"], 1, "{v}");
                assert!(v["error"].as_str().unwrap().contains("temp"), "{v}");
                got_error = true;
            }
            if v["delivered"] == "s1" {
                return;
            }
        }
    });
    bounded.await.expect("socket client got its delivered line");
    assert!(
        got_error,
        "the socket client got the error for its bad line"
    );

    // A set nobody answers is answered by the agent after the reply timeout.
    let sent = c
        .sim
        .send_downlink(
            Which::Onenet.device(),
            Downlink::Set {
                id: String::new(),
                values: values(json!({"Power": true})),
                service: None,
            },
        )
        .await
        .unwrap();
    a.wait(T, "the set downlink", |v| v.get("set").is_some())
        .await
        .unwrap();
    let ans = c
        .record(T, "the timeout answer", |r| {
            r.kind == Kind::Answer && r.id.as_deref() == Some(&sent.id)
        })
        .await
        .unwrap();
    assert_ne!(ans.code, Some(200), "{ans:?}");
    assert!(
        a.stdout.lock().unwrap().iter().all(|l| !l.contains("999")),
        "the socket's error stayed on the socket"
    );
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_module_auth_telemetry_command_and_reply() {
    let c = start(Which::Huawei, 0, None).await.unwrap();
    let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    a.send(r#"{"properties":{"temperature":21.5},"id":"h1"}"#)
        .await
        .unwrap();
    a.wait(T, "delivered h1", |v| v["delivered"] == "h1")
        .await
        .unwrap();
    let up = c
        .record(T, "the report", |r| {
            r.kind == Kind::Uplink
                && r.topic
                    .as_deref()
                    .is_some_and(|t| t.ends_with("/properties/report"))
        })
        .await
        .unwrap();
    assert_eq!(
        up.topic.as_deref(),
        Some("$oc/devices/5f1a2b3c4d_dev001/sys/properties/report")
    );
    assert_eq!(
        up.payload.unwrap()["services"][0],
        json!({"service_id": "Sensor", "properties": {"temperature": 21.5}})
    );

    let sent = c
        .sim
        .send_downlink(
            Which::Huawei.device(),
            Downlink::Call {
                id: String::new(),
                name: "reboot".into(),
                params: values(json!({"delay": 5})),
                service: Some("Sensor".into()),
            },
        )
        .await
        .unwrap();
    let call = a
        .wait(T, "the command", |v| v.get("call").is_some())
        .await
        .unwrap();
    assert_eq!(
        (
            call["call"].clone(),
            call["service"].clone(),
            call["params"].clone()
        ),
        (json!("reboot"), json!("Sensor"), json!({"delay": 5}))
    );
    let id = call["id"].as_str().unwrap().to_string();
    a.send(&format!(
        r#"{{"reply":"{id}","code":200,"data":{{"result":"ok"}}}}"#
    ))
    .await
    .unwrap();
    let ans = c
        .record(T, "the command response", |r| {
            r.kind == Kind::Answer && r.id.as_deref() == Some(&sent.id)
        })
        .await
        .unwrap();
    assert_eq!(ans.code, Some(0), "Huawei result_code 0 = success: {ans:?}");
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_link_drop_ping_failure_reboot_and_a_stalled_publish() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    // A 1 s packet timeout with one retry keeps the ping and publish failures quick. The
    // stalled publish never gets its `>` (modem-sim swallows the line): 2 s of input quiet
    // instead of 35 before the transport probes again.
    let env = [
        ("CELLAGENT_AGENT__PKT_TIMEOUT_S", "1"),
        ("CELLAGENT_AGENT__RETRY_TIMES", "1"),
        ("CELLAGENT_AGENT__INPUT_QUIET_S", "2"),
    ];
    let mut a = AgentProc::spawn(bin(), &c.profile, &env, &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    let faults = [
        (1, Fault::DropLink(0), "+QMTSTAT"),
        (2, Fault::PingFail(0), "+QMTPING"),
        (3, Fault::Reboot, "RDY"),
    ];
    for (n, fault, why) in faults {
        c.modem.inject(fault);
        let d = a
            .wait(T, "disconnected", |v| is_status(v, "disconnected"))
            .await
            .unwrap();
        assert!(d["reason"].as_str().unwrap().contains(why), "{d}");
        a.wait(T, "connected again", |v| is_status(v, "connected"))
            .await
            .unwrap();
        a.send(&format!(
            r#"{{"properties":{{"Brightness":{n}}},"id":"r{n}"}}"#
        ))
        .await
        .unwrap();
        a.wait(T, "delivered after reconnect", |v| {
            v["delivered"] == format!("r{n}")
        })
        .await
        .unwrap();
    }
    // A publish the module swallows times out; the line stays in the store and is delivered
    // after the reconnect.
    c.modem.inject(Fault::Stall(1));
    a.send(r#"{"properties":{"Brightness":9},"id":"stalled"}"#)
        .await
        .unwrap();
    let d = a
        .wait(T, "disconnected", |v| is_status(v, "disconnected"))
        .await
        .unwrap();
    assert!(d["reason"].as_str().unwrap().contains("publish"), "{d}");
    a.wait(T, "the stalled line delivered", |v| {
        v["delivered"] == "stalled"
    })
    .await
    .unwrap();
    // Each reconnect logged in again (fresh credentials) and re-subscribed: a downlink arrives.
    let logins = c
        .sim
        .records()
        .into_iter()
        .filter(|r| r.kind == Kind::Connect)
        .count();
    assert!(logins >= 5, "{logins} logins");
    c.sim
        .send_downlink(
            Which::Aliyun.device(),
            Downlink::Get {
                id: String::new(),
                names: vec!["Brightness".into()],
                service: None,
            },
        )
        .await
        .unwrap();
    a.wait(T, "a get after reconnecting", |v| v.get("get").is_some())
        .await
        .unwrap();
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_delivers_the_backlog_in_order() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    // First run: the cloud is unreachable (port 1 is closed), lines go to the store.
    let mut a = AgentProc::spawn(
        bin(),
        &c.profile,
        &[
            ("CELLAGENT_CLOUD__PORT", "1"),
            ("CELLAGENT_STORE__MAX_MESSAGES", "3"),
        ],
        &[],
    )
    .unwrap();
    a.wait(T, "disconnected", |v| is_status(v, "disconnected"))
        .await
        .unwrap();
    for n in 1..=3 {
        a.send(&format!(
            r#"{{"properties":{{"Brightness":{n}}},"id":"b{n}"}}"#
        ))
        .await
        .unwrap();
    }
    // The store holds 3: a fourth line is refused (and proves the three before it were taken).
    a.send(r#"{"properties":{"Brightness":4},"id":"b4"}"#)
        .await
        .unwrap();
    let full = a
        .wait(T, "the error for line 4", |v| v["line"] == 4)
        .await
        .unwrap();
    assert!(
        full["error"].as_str().unwrap().contains("store full"),
        "{full}"
    );
    assert!(a.seen.iter().all(|v| v.get("delivered").is_none()));
    assert_eq!(a.terminate(T).await.unwrap(), 0);

    // Second run: the backlog goes first, in order.
    let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
    let st = a
        .wait(T, "connecting with a backlog", |v| {
            is_status(v, "connecting")
        })
        .await
        .unwrap();
    assert_eq!(st["backlog"], 3);
    for n in 1..=3 {
        a.wait(T, "delivered", |v| v["delivered"] == format!("b{n}"))
            .await
            .unwrap();
    }
    let drained = a
        .wait(T, "the drained backlog", |v| is_status(v, "backlog"))
        .await
        .unwrap();
    assert_eq!(drained["backlog"], 0);
    let order: Vec<Value> = c
        .uplinks()
        .into_iter()
        .filter(|r| r.what.as_deref() == Some("property_post"))
        .map(|r| r.payload.unwrap()["params"]["Brightness"].clone())
        .collect();
    assert_eq!(
        order,
        vec![json!(1), json!(2), json!(3)],
        "in order, b4 never stored"
    );
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_product_secret_registration_through_the_module() {
    let c = start(Which::Huawei, 0, None).await.unwrap();
    let text = std::fs::read_to_string(&c.profile).unwrap().replace(
        "device_id = \"5f1a2b3c4d_dev001\"\nsecret = \"s3cr3t-Passw0rd\"",
        "product_id = \"5f1a2b3c4d\"\nnode_id = \"dev009\"\nproduct_secret = \"pr0duct-Secret\"",
    );
    assert!(text.contains("node_id"));
    std::fs::write(&c.profile, text).unwrap();
    let out = tokio::process::Command::new(bin())
        .args(["provision", "--register", "--profile"])
        .arg(&c.profile)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let updated = std::fs::read_to_string(&c.profile).unwrap();
    assert!(
        updated.contains("device_id = \"5f1a2b3c4d_dev009\""),
        "{updated}"
    );
    assert!(
        !updated.contains("pr0duct-Secret"),
        "the product secret is gone"
    );
    c.record(T, "the registration", |r| r.kind == Kind::Registered)
        .await
        .unwrap();

    // The issued secret logs in (module-side hwauth) and telemetry flows.
    let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    a.send(r#"{"properties":{"temperature":1},"id":"n1"}"#)
        .await
        .unwrap();
    a.wait(T, "delivered n1", |v| v["delivered"] == "n1")
        .await
        .unwrap();
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}
