//! The control socket: one JSON request line per unix-socket connection, answered with JSON
//! lines. Requests use the app contract's downlink keys plus `device`:
//!
//! | request | answer |
//! |---|---|
//! | `{"device":"pk/dn","set":{"on":true}}` | `{"sent":"7","device":…,"topic":…}` |
//! | `{"device":…,"get":["temp"]}` | same |
//! | `{"device":…,"call":"reboot","params":{…}}` | same |
//! | `{"device":…,"topic":"…","payload":…}` | same (a raw message) |
//! | any of those with `"wait": 10` | then the device's answer record, or `{"error":…}` |
//! | `{"tail":true}` (`"history":true` to start with the records so far) | every record, live |
//!
//! `"service"` names a Huawei service. Errors come back as `{"error":"…"}`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use thing_model::{Downlink, Payload, Values};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

use crate::log::Kind;
use crate::{CloudSim, SimError};

/// A parsed control request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Send a downlink, and maybe wait for the answer.
    Send {
        /// Device key.
        device: String,
        /// What.
        downlink: Downlink,
        /// Seconds to wait for the answer.
        wait: Option<f64>,
    },
    /// Stream records.
    Tail {
        /// Start with the records so far.
        history: bool,
    },
}

fn text(v: &Value, key: &str) -> Result<Option<String>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

/// Parses one request line.
pub fn parse_request(line: &str) -> Result<Request, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("the request must be a JSON object".into());
    }
    if v.get("tail").and_then(Value::as_bool) == Some(true) {
        return Ok(Request::Tail {
            history: v.get("history").and_then(Value::as_bool).unwrap_or(false),
        });
    }
    let device =
        text(&v, "device")?.ok_or("`device` is missing (product/name or Huawei device id)")?;
    let service = text(&v, "service")?;
    let wait = match v.get("wait") {
        None | Some(Value::Null) => None,
        Some(w) => Some(
            w.as_f64()
                .filter(|s| (0.0..=3600.0).contains(s))
                .ok_or("`wait` must be 0 to 3600 seconds")?,
        ),
    };
    let object = |key: &str| -> Result<Values, String> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(Values::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => Err(format!("`{key}` must be an object")),
        }
    };
    let id = String::new();
    let downlink = if let Some(set) = v.get("set") {
        let values = set
            .as_object()
            .cloned()
            .ok_or("`set` must be an object of values")?;
        Downlink::Set {
            id,
            values,
            service,
        }
    } else if let Some(get) = v.get("get") {
        let names = get
            .as_array()
            .and_then(|a| {
                a.iter()
                    .map(|n| n.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or("`get` must be an array of property names")?;
        Downlink::Get { id, names, service }
    } else if let Some(name) = text(&v, "call")? {
        Downlink::Call {
            id,
            name,
            params: object("params")?,
            service,
        }
    } else if let Some(topic) = text(&v, "topic")? {
        let payload = match v.get("payload") {
            Some(Value::String(s)) => Payload::Text(s.clone()),
            Some(other) => Payload::Json(other.clone()),
            None => Payload::Text(String::new()),
        };
        Downlink::Raw { topic, payload }
    } else {
        return Err("expected one of `set`, `get`, `call`, `topic` or `tail`".into());
    };
    Ok(Request::Send {
        device,
        downlink,
        wait,
    })
}

/// Serves the control socket at `path` (an existing socket file there is replaced).
pub fn serve(path: &Path, sim: Arc<CloudSim>) -> Result<JoinHandle<()>, SimError> {
    if path.exists() {
        std::fs::remove_file(path)
            .map_err(|e| SimError::io(format!("remove stale {}", path.display()), e))?;
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| SimError::io(format!("bind {}", path.display()), e))?;
    Ok(tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, sim.clone()));
        }
    }))
}

async fn connection(stream: UnixStream, sim: Arc<CloudSim>) {
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let Ok(Some(line)) = lines.next_line().await else {
        return;
    };
    let out = |v: Value| {
        let mut s = v.to_string();
        s.push('\n');
        s
    };
    let reply = match parse_request(&line) {
        Err(e) => out(json!({ "error": e })),
        Ok(Request::Tail { history }) => {
            let mut rx = sim.subscribe();
            if history {
                for r in sim.records() {
                    if w.write_all(format!("{}\n", r.to_line()).as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
            while let Ok(r) = rx.recv().await {
                if w.write_all(format!("{}\n", r.to_line()).as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
            }
            return;
        }
        Ok(Request::Send {
            device,
            downlink,
            wait,
        }) => match sim.send_downlink(&device, downlink).await {
            Err(e) => out(json!({ "error": e.to_string() })),
            Ok(sent) => {
                let mut s =
                    out(json!({"sent": sent.id, "device": sent.device, "topic": sent.topic}));
                if let Some(secs) = wait {
                    let answer = sim
                        .wait_for(
                            |r| {
                                r.kind == Kind::Answer
                                    && r.id.as_deref() == Some(&sent.id)
                                    && r.device.as_deref() == Some(&sent.device)
                            },
                            Duration::from_secs_f64(secs),
                        )
                        .await;
                    s.push_str(&match answer {
                        Some(r) => format!("{}\n", r.to_line()),
                        None => out(json!({"error": format!("no answer from {} within {secs} s", sent.device)})),
                    });
                }
                s
            }
        },
    };
    let _ = w.write_all(reply.as_bytes()).await;
    let _ = w.shutdown().await;
}

/// Client side: sends one request line to the socket at `path` and calls `on_line` for
/// each answer line until the simulator closes the connection.
pub async fn request(
    path: &PathBuf,
    line: &str,
    mut on_line: impl FnMut(&str),
) -> Result<(), SimError> {
    let stream = UnixStream::connect(path).await.map_err(|e| {
        SimError::io(
            format!("connect to the control socket {}", path.display()),
            e,
        )
    })?;
    let (r, mut w) = stream.into_split();
    w.write_all(format!("{}\n", line.trim_end()).as_bytes())
        .await
        .map_err(|e| SimError::io("write the request", e))?;
    let mut lines = BufReader::new(r).lines();
    while let Some(l) = lines
        .next_line()
        .await
        .map_err(|e| SimError::io("read the answer", e))?
    {
        on_line(&l);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_errors_name_the_key() {
        let r = parse_request(r#"{"device":"p/d","set":{"on":true},"wait":5}"#).unwrap();
        let Request::Send {
            device,
            downlink: Downlink::Set { values, .. },
            wait,
        } = r
        else {
            panic!("{r:?}")
        };
        assert_eq!(
            (device.as_str(), wait, values["on"].clone()),
            ("p/d", Some(5.0), Value::Bool(true))
        );
        let r =
            parse_request(r#"{"device":"d","call":"reboot","params":{"delay":5},"service":"S"}"#)
                .unwrap();
        assert!(
            matches!(r, Request::Send { downlink: Downlink::Call { ref name, ref service, .. }, .. } if name == "reboot" && service.as_deref() == Some("S"))
        );
        assert_eq!(
            parse_request(r#"{"tail":true}"#).unwrap(),
            Request::Tail { history: false }
        );
        assert_eq!(
            parse_request(r#"{"set":{}}"#).unwrap_err(),
            "`device` is missing (product/name or Huawei device id)"
        );
        assert_eq!(
            parse_request(r#"{"device":"d","get":[1]}"#).unwrap_err(),
            "`get` must be an array of property names"
        );
        assert_eq!(
            parse_request(r#"{"device":"d","wait":-1,"get":[]}"#).unwrap_err(),
            "`wait` must be 0 to 3600 seconds"
        );
    }
}
