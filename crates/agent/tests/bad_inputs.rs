//! The bad-input catalogue (`docs/bad-inputs.md`), as tests: every row's input and the exact
//! error text the user sees. Profile fields (through `cellagent`'s loader), app JSON lines
//! (through the bridge `run` and `encode` use), module replies out of spec and broker
//! refusals (through the quectel-mqtt driver talking to a scripted module on an in-memory
//! duplex), the store's bound. The last test reads the catalogue and checks that every test it
//! names exists and holds the error text the row quotes, so the document cannot drift.

use std::path::{Path, PathBuf};

use quectel_mqtt::commands::{At, Connect, Open, Qos, SignalQuality, TopicFilter};
use quectel_mqtt::driver::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo(cloud: &str) -> String {
    std::fs::read_to_string(root().join(format!("profiles/demo-{cloud}.toml"))).unwrap()
}

/// Loads `text` as a profile (in a directory holding the demo models) the way every
/// subcommand does; returns the error text.
fn profile_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    for m in ["light.tsl.json", "onenet-thermo.json"] {
        std::fs::copy(root().join("profiles/models").join(m), models.join(m)).unwrap();
    }
    std::fs::write(dir.path().join("secret"), "abc").unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, text).unwrap();
    match agent::commands::load(&path) {
        Ok(_) => "(accepted)".into(),
        Err(e) => e
            .to_string()
            .replace(&dir.path().display().to_string(), "DIR"),
    }
}

#[test]
fn profile_fields() {
    let a = demo("aliyun");
    let o = demo("onenet");
    let h = demo("huawei");
    let secret = "device_secret = \"0123456789abcdef0123456789abcdef\"";
    let cases: Vec<(String, &str)> = vec![
        (a.replace("client_index = 0", "client_index = 9"), "profile field `module.client_index`: 9 is outside 0..=5"),
        (a.replace("product_key = ", "productkey = "), "profile field `cloud.aliyun.productkey`: unknown field; expected one of product_key, device_name, device_secret, device_secret_file, sign_method, client_id, region, instance_id, product_secret, product_secret_file, register, ack"),
        (a.replace("port = \"/dev/null\"", ""), "profile field `module.port`: is missing"),
        (a.replace("keepalive = 120", "keepalive = 5000"), "profile field `cloud.keepalive`: 5000 is outside 1..=3600 s"),
        (a.replace("keepalive = 120", "keepalive = \"x\""), "profile field `cloud.keepalive`: wrong type; expected u16"),
        (a.replace("platform = \"aliyun\"", "platform = \"azure\""), "profile field `cloud.platform`: unknown value `azure`; expected one of aliyun, onenet, huawei"),
        (a.replace("auth = \"host\"", "auth = \"both\""), "profile field `cloud.auth`: unknown value `both`; expected one of host, module"),
        (a.replace("sign_method = \"hmacsha256\"", "sign_method = \"sha512\""), "profile field `cloud.aliyun.sign_method`: `sha512` is not one of hmacsha256, hmacsha1, hmacmd5"),
        (a.replace("sign_method", "device_secret_file = \"secret\"\nsign_method"), "profile field `cloud.aliyun.device_secret`: given twice (both the value and a `_file`)"),
        (a.replace(secret, "device_secret_file = \"nope\""), "profile field `cloud.aliyun.device_secret_file`: cannot read DIR/nope: No such file or directory (os error 2)"),
        (a.replace(secret, ""), "profile field `cloud.aliyun.device_secret`: missing (or give product_secret + register)"),
        (a.replace("[store]", "[store]\nmax_bytes = 100"), "profile field `store.max_bytes`: must be at least 1500 (one full payload)"),
        (a.replace("[store]", "[store]\nmax_messages = 0"), "profile field `store.max_messages`: must be at least 1"),
        (a.replace("[agent]", "[agent]\npkt_timeout_s = 0"), "profile field `agent.pkt_timeout_s`: 0 is outside 1..=60 s"),
        (a.replace("[agent]", "[agent]\nretry_times = 11"), "profile field `agent.retry_times`: 11 is outside 0..=10"),
        (a.replace("[agent]", "[agent]\ninput_quiet_s = 0"), "profile field `agent.input_quiet_s`: 0 is outside 1..=300 s"),
        (a.replace("reply_timeout_s = 10", "reply_timeout_s = 0"), "profile field `agent.reply_timeout_s`: must be at least 1"),
        (a.replace("models/light.tsl.json", "models/none.json"), "profile field `thing_model.file`: cannot read DIR/models/none.json: No such file or directory (os error 2)"),
        (a.replace("tls = false", "tls = true"), "profile field `tls.ca_file`: is missing: `cloud.tls = true` needs the PEM file of the CA that signed the broker's certificate (or `tls.verify = \"none\"`, which does not authenticate the broker)"),
        (a.replace("[agent]", "[tls]\nca_file = \"ca.pem\"\n[agent]"), "profile field `tls`: is given but `cloud.tls` is false: set `cloud.tls = true` or remove [tls]"),
        (a.replace("tls = false", "tls = true").replace("[agent]", "[tls]\nca_file = \"secret\"\n[agent]"), "profile field `tls.ca_file`: DIR/secret is not a PEM file holding `-----BEGIN CERTIFICATE-----`"),
        (a.replace("tls = false", "tls = true").replace("[agent]", "[tls]\nverify = \"none\"\ncontext = 6\n[agent]"), "profile field `tls.context`: 6 is outside 0..=5"),
        (o.replace("Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=", "not base64!"), "profile field `cloud.onenet.access_key`: access_key: is not standard base64 (RFC 4648, padded): invalid character at offset 3 (key of 11 characters)"),
        (h.replace("device_id = \"5f1a2b3c4d_dev001\"", ""), "profile field `cloud.huawei.device_id`: is missing (give device_id + secret, or product_id + node_id + product_secret)"),
        (h.replace("sign_type = 0", "sign_type = 3"), "profile field `cloud.huawei.sign_type`: 3 is not 0 or 1"),
        (format!("{a}\n[publish]\nrate_per_s = -1\n"), "profile field `publish.rate_per_s`: -1 is outside 0..=1000 (0 = unlimited)"),
        (format!("{a}\n[publish]\nburst = 0\n"), "profile field `publish.burst`: 0 is outside 1..=1000"),
        (format!("{a}\n[publish]\nwindows = 2\n"), "profile field `publish.windows`: unknown field; expected one of window, batch, rate_per_s, burst"),
    ];
    for (text, want) in cases {
        assert_eq!(profile_error(&text), want);
    }
}

/// Characters that would end or split an AT command line, in profile fields.
#[test]
fn at_framing_characters_in_profile_fields() {
    let a = demo("aliyun");
    let cases: Vec<(String, &str)> = vec![
        (a.replace("[module]", "[module]\napn = \"cm\\\"net\""), "profile field `module.apn`: must be at most 64 bytes without `\"`, CR or LF"),
        (a.replace("host = \"127.0.0.1\"", "host = \"my host\""), "profile field `cloud.host`: must be 1 to 100 bytes without spaces, `\"`, CR or LF"),
        (a.replace("product_key = \"a1B2c3D4e5F\"", "product_key = \"a1\\\"B\""), "profile field `cloud.aliyun`: product_key contains '\"' at position 2, allowed: ASCII letters and digits"),
        (a.replace("device_name = \"dev-001\"", "device_name = \"dev\\r001\""), "profile field `cloud.aliyun`: device_name contains '\\r' at position 3, allowed: ASCII letters, digits and -_@.:"),
    ];
    for (text, want) in cases {
        assert_eq!(profile_error(&text), want);
    }
}

/// The `{"error":…}` text for one app line, through the same bridge `run` uses.
fn line_error(cloud: &str, line: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, demo(cloud)).unwrap();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    for m in ["light.tsl.json", "onenet-thermo.json"] {
        std::fs::copy(
            root().join("profiles/models").join(m),
            dir.path().join("models").join(m),
        )
        .unwrap();
    }
    let (_, platform) = agent::commands::load(&path).unwrap();
    let out: serde_json::Value =
        serde_json::from_str(&agent::bridge::encode_line(platform.as_ref(), line, 1, 1)).unwrap();
    out["error"].as_str().unwrap_or("(accepted)").to_string()
}

#[test]
fn json_lines() {
    for (line, want) in [
        (
            "not json",
            "not valid JSON: expected ident at line 1 column 2",
        ),
        ("[1,2]", "a line must be a JSON object, got an array"),
        (
            "{}",
            "the line has none of the keys `properties`, `event`, `reply`, `topic`",
        ),
        (
            r#"{"properties":{"Brightness":1},"bogus":1}"#,
            "unknown key `bogus` on a `properties` line",
        ),
        (
            r#"{"properties":{}, "qos":2}"#,
            "`qos`: must be 0 or 1, got 2",
        ),
        (
            r#"{"properties":{}, "time":"yesterday"}"#,
            "`time` must be an integer (ms since the Unix epoch), got a string",
        ),
    ] {
        assert_eq!(line_error("aliyun", line), want, "{line}");
    }
}

#[test]
fn payload_and_topic_sizes() {
    let big = "x".repeat(1600);
    let long = "t".repeat(300);
    for (line, want) in [
        (
            format!(r#"{{"topic":"/a1B2c3D4e5F/dev-001/user/up","payload":"{big}"}}"#),
            "payload is 1600 bytes; the module's limit is 1500 bytes",
        ),
        (
            format!(r#"{{"topic":"/a1B2c3D4e5F/dev-001/{long}","payload":"x"}}"#),
            "topic is 321 bytes; the module's limit is 256 bytes",
        ),
    ] {
        for cloud in ["aliyun", "onenet", "huawei"] {
            assert_eq!(line_error(cloud, &line), want, "{cloud}");
        }
    }
    let at_limit = "x".repeat(1500 - 2);
    let line = format!(r#"{{"topic":"/a1B2c3D4e5F/dev-001/user/up","payload":"{at_limit}"}}"#);
    assert_eq!(line_error("huawei", &line), "(accepted)", "1500 bytes fit");
}

#[test]
fn at_framing_characters_in_json_lines() {
    for (line, want) in [
        (
            r#"{"properties":{}, "id":"a\"b"}"#,
            "`id` holds `\"`, CR or LF, which the module's AT line cannot carry",
        ),
        (
            r#"{"properties":{}, "id":"a\rb"}"#,
            "`id` holds `\"`, CR or LF, which the module's AT line cannot carry",
        ),
        (
            r#"{"reply":"a\nb","code":200}"#,
            "`reply` holds `\"`, CR or LF, which the module's AT line cannot carry",
        ),
        (
            r#"{"topic":"/a1B2c3D4e5F/dev-001/user/\"up","payload":"x"}"#,
            "`topic` holds `\"`, CR or LF, which the module's AT line cannot carry",
        ),
    ] {
        assert_eq!(line_error("onenet", line), want, "{line}");
    }
    // Aliyun checks its custom topics first, with its own words.
    assert_eq!(
        line_error(
            "aliyun",
            r#"{"topic":"/a1B2c3D4e5F/dev-001/user/up\r","payload":"x"}"#
        ),
        "topic contains '\\r' at position 28, allowed: printable ASCII except + # and space"
    );
}

#[test]
fn thing_model_violations() {
    for (cloud, line, want) in [
        (
            "aliyun",
            r#"{"properties":{"Colour":1}}"#,
            "property `Colour`: not in the thing model",
        ),
        (
            "aliyun",
            r#"{"properties":{"Brightness":160}}"#,
            "property `Brightness`: 160 is above the maximum 100",
        ),
        (
            "aliyun",
            r#"{"properties":{"Brightness":"x"}}"#,
            "property `Brightness`: expected an integer, got a string",
        ),
        (
            "aliyun",
            r#"{"event":"Nope","params":{}}"#,
            "event `Nope`: not in the thing model",
        ),
        (
            "aliyun",
            r#"{"event":"Error","params":{"ErrorCode":99}}"#,
            "event `Error` parameter `ErrorCode`: 99 is above the maximum 9",
        ),
        (
            "onenet",
            r#"{"properties":{"temp":500}}"#,
            "property `temp`: 500 is above the maximum 120",
        ),
        (
            "onenet",
            r#"{"properties":{"temp":"hot"}}"#,
            "property `temp`: expected a number, got a string",
        ),
    ] {
        assert_eq!(line_error(cloud, line), want, "{cloud} {line}");
    }
}

#[test]
fn store_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = agent::store::Store::open(&dir.path().join("q.redb"), 2, 1500).unwrap();
    s.push(b"1").unwrap();
    s.push(b"2").unwrap();
    assert_eq!(
        s.push(b"3").unwrap_err().to_string(),
        "store full: 2 messages / 2 bytes waiting (limits: store.max_messages = 2, store.max_bytes = 1500); the line was not accepted"
    );
    let mut s = agent::store::Store::open(&dir.path().join("r.redb"), 20, 1500).unwrap();
    s.push(&[b'x'; 1000]).unwrap();
    assert_eq!(
        s.push(&[b'x'; 1000]).unwrap_err().to_string(),
        "store full: 1 messages / 1000 bytes waiting (limits: store.max_messages = 20, store.max_bytes = 1500); the line was not accepted"
    );
    assert_eq!(s.len(), 1, "nothing accepted is dropped");
}

/// A module that answers each command line starting with a script prefix with that reply
/// (`OK` otherwise), over an in-memory duplex the real driver talks to.
fn scripted_module(script: &[(&'static str, &'static str)]) -> Client {
    let script = script.to_vec();
    let (host, mut module) = tokio::io::duplex(4096);
    tokio::spawn(async move {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while module.read_exact(&mut byte).await.is_ok() {
            if byte[0] != b'\r' {
                line.push(byte[0]);
                continue;
            }
            let text = String::from_utf8_lossy(&line).trim().to_string();
            line.clear();
            let reply = script
                .iter()
                .find(|(prefix, _)| text.starts_with(prefix))
                .map_or("\r\nOK\r\n", |(_, reply)| reply);
            if module.write_all(reply.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    Client::spawn(host).0
}

fn open() -> Open {
    Open {
        client: 0,
        host: "broker.example".into(),
        port: 1883,
    }
}

fn connect() -> Connect {
    Connect {
        client: 0,
        client_id: "dev".into(),
        credentials: None,
    }
}

async fn open_error(reply: &'static str) -> String {
    let c = scripted_module(&[("AT+QMTOPEN", reply)]);
    match c.execute(open()).await {
        Ok(()) => "(ok)".into(),
        Err(e) => e.to_string(),
    }
}

async fn connect_error(reply: &'static str) -> String {
    let c = scripted_module(&[("AT+QMTCONN", reply)]);
    match c.execute(connect()).await {
        Ok(()) => "(ok)".into(),
        Err(e) => e.to_string(),
    }
}

// Paused time: a module that never answers times out at once (tokio advances the clock).
#[tokio::test(start_paused = true)]
async fn module_replies_out_of_spec() {
    assert_eq!(
        open_error("\r\nERROR\r\n").await,
        "AT+QMTOPEN: the module answered ERROR"
    );
    assert_eq!(
        open_error("\r\n+CME ERROR: 58\r\n").await,
        "AT+QMTOPEN: the module answered +CME ERROR: 58"
    );
    assert_eq!(
        open_error("\x00\x7f#!\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n").await,
        "(ok)",
        "garbage bytes are skipped"
    );
    assert_eq!(
        open_error("\r\nRDY\r\n").await,
        "AT+QMTOPEN: the module restarted before answering"
    );
    assert_eq!(open_error("").await, "AT+QMTOPEN: no answer within 122s");
    assert_eq!(
        open_error("\r\nOK\r\n\r\n+QMTOPEN: 0,garbage\r\n").await,
        "AT+QMTOPEN: no answer within 122s"
    );
    assert_eq!(
        connect_error("\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n").await,
        "AT+QMTCONN: the MQTT link went down first: +QMTSTAT code 1 (connection closed or reset by the server; remedy: reopen the MQTT connection with AT+QMTOPEN)"
    );
    let c = scripted_module(&[("AT+CSQ", "\r\n+CSQ: abc\r\n\r\nOK\r\n")]);
    assert_eq!(
        c.execute(SignalQuality).await.unwrap_err().to_string(),
        "AT+CSQ: unexpected reply: expected +CSQ: <rssi>,<ber>, got \"+CSQ: abc\""
    );
    let c = scripted_module(&[("AT", "")]);
    assert_eq!(
        c.execute(At).await.unwrap_err().to_string(),
        "AT: no answer within 5s"
    );
}

#[tokio::test(start_paused = true)]
async fn broker_refusals() {
    for (reply, want) in [
        ("\r\nOK\r\n\r\n+QMTCONN: 0,0,1\r\n", "AT+QMTCONN failed: result 0 (acknowledged), ret_code 1 (refused: unacceptable protocol version)"),
        ("\r\nOK\r\n\r\n+QMTCONN: 0,0,2\r\n", "AT+QMTCONN failed: result 0 (acknowledged), ret_code 2 (refused: identifier rejected)"),
        ("\r\nOK\r\n\r\n+QMTCONN: 0,0,3\r\n", "AT+QMTCONN failed: result 0 (acknowledged), ret_code 3 (refused: server unavailable)"),
        ("\r\nOK\r\n\r\n+QMTCONN: 0,0,4\r\n", "AT+QMTCONN failed: result 0 (acknowledged), ret_code 4 (refused: bad user name or password)"),
        ("\r\nOK\r\n\r\n+QMTCONN: 0,0,5\r\n", "AT+QMTCONN failed: result 0 (acknowledged), ret_code 5 (refused: not authorized)"),
        ("\r\nOK\r\n\r\n+QMTCONN: 0,2\r\n", "AT+QMTCONN failed: result 2 (failed to send)"),
    ] {
        assert_eq!(connect_error(reply).await, want);
    }
    for (reply, want) in [
        ("\r\nOK\r\n\r\n+QMTOPEN: 0,-1\r\n", "AT+QMTOPEN failed: result -1 (the network could not be opened: check signal, registration and the host/port)"),
        ("\r\nOK\r\n\r\n+QMTOPEN: 0,1\r\n", "AT+QMTOPEN failed: result 1 (a parameter was wrong: check the host name (≤100 bytes) and port)"),
        ("\r\nOK\r\n\r\n+QMTOPEN: 0,2\r\n", "AT+QMTOPEN failed: result 2 (the client index is already open: AT+QMTCLOSE it first)"),
        ("\r\nOK\r\n\r\n+QMTOPEN: 0,3\r\n", "AT+QMTOPEN failed: result 3 (PDP activation failed: check the APN (AT+QICSGP) and AT+QIACT)"),
        ("\r\nOK\r\n\r\n+QMTOPEN: 0,4\r\n", "AT+QMTOPEN failed: result 4 (DNS lookup failed: check the host name and the carrier's DNS)"),
        ("\r\nOK\r\n\r\n+QMTOPEN: 0,5\r\n", "AT+QMTOPEN failed: result 5 (the network is disconnected: check registration (AT+CEREG?))"),
    ] {
        assert_eq!(open_error(reply).await, want);
    }
}

/// What the transport itself refuses before anything reaches the wire (a last line of
/// defence behind the bridge's checks).
#[tokio::test(start_paused = true)]
async fn transport_parameter_checks() {
    let c = scripted_module(&[]);
    let sub = c
        .subscribe(
            0,
            vec![TopicFilter {
                topic: "a\"b".into(),
                qos: Qos::AtLeastOnce,
            }],
        )
        .await;
    assert_eq!(
        sub.unwrap_err().to_string(),
        "invalid parameter: topic: holds a double quote (\"), which would break AT command framing"
    );
    let publish = c
        .publish(0, "t", Qos::AtLeastOnce, false, vec![0u8; 1501])
        .await;
    assert_eq!(
        publish.unwrap_err().to_string(),
        "invalid parameter: payload: 1501 bytes is outside the allowed length 0..=1500 bytes"
    );
    let conn = c
        .execute(Connect {
            client: 0,
            client_id: "a\r\nb".into(),
            credentials: None,
        })
        .await;
    assert_eq!(
        conn.unwrap_err().to_string(),
        "invalid parameter: clientid: holds a carriage return (CR), which would break AT command framing"
    );
}

/// The code spans of a markdown table cell (CommonMark: a run of n backticks up to the next
/// run of n; one space each side is stripped when both are there).
fn code_spans(cell: &str) -> Vec<String> {
    let bytes = cell.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let n = bytes[i..].iter().take_while(|b| **b == b'`').count();
        let fence = "`".repeat(n);
        let start = i + n;
        let mut j = start;
        let end = loop {
            match cell[j..].find(&fence) {
                None => break None,
                Some(k) => {
                    let at = j + k;
                    let run = bytes[at..].iter().take_while(|b| **b == b'`').count();
                    if run == n {
                        break Some(at);
                    }
                    j = at + run;
                }
            }
        };
        let Some(end) = end else { break };
        let inner = &cell[start..end];
        let inner = if inner.len() > 2 && inner.starts_with(' ') && inner.ends_with(' ') {
            &inner[1..inner.len() - 1]
        } else {
            inner
        };
        out.push(inner.to_string());
        i = end + n;
    }
    out
}

/// Every row of `docs/bad-inputs.md` names a test that exists and whose source holds each
/// error text the row quotes (code spans of the "error" column).
#[test]
fn the_catalogue_names_real_tests_and_their_texts() {
    let doc = std::fs::read_to_string(root().join("docs/bad-inputs.md")).unwrap();
    let mut rows = 0;
    for line in doc.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.len() != 4 || cells[0] == "class" || cells[0].starts_with("---") {
            continue;
        }
        rows += 1;
        let test = code_spans(cells[3]);
        assert_eq!(test.len(), 1, "one test per row: {line}");
        let (file, name) = test[0]
            .split_once("::")
            .unwrap_or_else(|| panic!("`path::name`: {line}"));
        let source = std::fs::read_to_string(root().join(file))
            .unwrap_or_else(|e| panic!("{file}: {e} (row: {line})"));
        let start = source
            .find(&format!("fn {name}("))
            .unwrap_or_else(|| panic!("{file} has no test `{name}` (row: {line})"));
        // The test's body: up to the next item at the start of a line.
        let body = &source[start..];
        let body = &body[..body.find("\n}\n").map_or(body.len(), |e| e + 3)];
        // The source writes `"` and `\` escaped inside string literals.
        let unescaped = body.replace("\\\"", "\"").replace("\\\\", "\\");
        let texts = code_spans(cells[2]);
        assert!(!texts.is_empty(), "the row quotes no error text: {line}");
        for text in texts {
            assert!(
                body.contains(&text) || unescaped.contains(&text),
                "{file}::{name} does not hold the error text `{text}` (row: {line})"
            );
        }
    }
    assert!(rows >= 40, "only {rows} rows in the catalogue");
}
