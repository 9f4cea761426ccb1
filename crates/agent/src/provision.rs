//! `provision`: a console's device export (CSV) → one profile per device.
//!
//! Columns are found by header name (case, `_` and spaces ignored):
//! Aliyun `ProductKey,DeviceName,DeviceSecret`; OneNET `product_id,device_name,key`
//! (also `access_key`, `device_key`); Huawei `device_id,secret` (also `node_id`,
//! `product_id`). Every profile is checked by loading it back before the next is written.
//! Registration through the module (Huawei product secret, Aliyun dynamic registration) is
//! `provision --register --profile FILE` ([`crate::register`]).

use std::path::Path;

use crate::profile::{CloudKind, Profile};
use crate::AgentError;

fn norm(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| *c != '_' && *c != ' ')
        .flat_map(char::to_lowercase)
        .collect()
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// One device row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// File name stem.
    pub name: String,
    /// The `[cloud.<p>]` table body.
    pub table: String,
}

/// Parses the export into rows. Errors name the line and column.
pub fn parse(cloud: CloudKind, text: &str) -> Result<Vec<Row>, AgentError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = split_csv(lines.next().unwrap_or_default())
        .iter()
        .map(|h| norm(h))
        .collect();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let need = |names: &[&str], what: &str| {
        col(names).ok_or_else(|| {
            AgentError::Usage(format!(
                "--csv: no `{what}` column (accepted headers: {})",
                names.join(", ")
            ))
        })
    };
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let f = split_csv(line);
        let get = |c: usize, what: &str| {
            f.get(c).filter(|v| !v.is_empty()).cloned().ok_or_else(|| {
                AgentError::Usage(format!("--csv line {}: `{what}` is empty", i + 2))
            })
        };
        let row = match cloud {
            CloudKind::Aliyun => {
                let pk = get(need(&["productkey"], "ProductKey")?, "ProductKey")?;
                let dn = get(need(&["devicename"], "DeviceName")?, "DeviceName")?;
                let ds = get(need(&["devicesecret"], "DeviceSecret")?, "DeviceSecret")?;
                Row {
                    name: format!("{pk}_{dn}"),
                    table: format!(
                        "product_key = {}\ndevice_name = {}\ndevice_secret = {}\n",
                        toml_str(&pk),
                        toml_str(&dn),
                        toml_str(&ds)
                    ),
                }
            }
            CloudKind::Onenet => {
                let pid = get(need(&["productid"], "product_id")?, "product_id")?;
                let dn = get(need(&["devicename", "name"], "device_name")?, "device_name")?;
                let key = get(
                    need(&["key", "accesskey", "devicekey", "seckey"], "key")?,
                    "key",
                )?;
                Row {
                    name: format!("{pid}_{dn}"),
                    table: format!(
                        "product_id = {}\ndevice_name = {}\naccess_key = {}\n",
                        toml_str(&pid),
                        toml_str(&dn),
                        toml_str(&key)
                    ),
                }
            }
            CloudKind::Huawei => {
                let secret = get(need(&["secret", "devicesecret"], "secret")?, "secret")?;
                let id = match col(&["deviceid"]) {
                    Some(c) => get(c, "device_id")?,
                    None => {
                        let pid = get(need(&["productid"], "product_id")?, "product_id")?;
                        let node = get(need(&["nodeid"], "node_id")?, "node_id")?;
                        format!("{pid}_{node}")
                    }
                };
                Row {
                    name: id.clone(),
                    table: format!(
                        "device_id = {}\nsecret = {}\nsign_type = 0\n",
                        toml_str(&id),
                        toml_str(&secret)
                    ),
                }
            }
        };
        if row.name.contains(['/', '\\']) || row.name.starts_with('.') {
            return Err(AgentError::Usage(format!(
                "--csv line {}: the device name cannot be a file name",
                i + 2
            )));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The profile text for one row.
pub fn profile_text(cloud: CloudKind, row: &Row) -> String {
    format!(
        "# generated by `cellagent provision`; set module.port for the device\n\
         [module]\nport = \"/dev/ttyUSB2\"\nbaud = 115200\nclient_index = 0\n\n\
         [cloud]\nplatform = \"{c}\"\nauth = \"host\"\nkeepalive = 120\n\n\
         [cloud.{c}]\n{table}\n\
         [store]\npath = \"/var/lib/cellagent/{name}.redb\"\n",
        c = cloud.as_str(),
        table = row.table,
        name = row.name,
    )
}

/// Writes one profile per row into `out`, with a progress bar. Returns the count.
pub fn provision(cloud: CloudKind, csv: &Path, out: &Path) -> Result<usize, AgentError> {
    let text = std::fs::read_to_string(csv)
        .map_err(|e| AgentError::Usage(format!("--csv {}: {e}", csv.display())))?;
    let rows = parse(cloud, &text)?;
    std::fs::create_dir_all(out)
        .map_err(|e| AgentError::Runtime(format!("--out {}: {e}", out.display())))?;
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for row in &rows {
        bar.set_message(row.name.clone());
        let text = profile_text(cloud, row);
        Profile::from_toml(&text, out)
            .and_then(|p| crate::cloud::build_platform(&p).map(|_| ()))?;
        let path = out.join(format!("{}.toml", row.name));
        write_private(&path, &text)
            .map_err(|e| AgentError::Runtime(format!("{}: {e}", path.display())))?;
        bar.inc(1);
    }
    bar.finish_with_message("done");
    Ok(rows.len())
}

/// Writes `text` to `path` with mode 0600 (profiles hold secrets).
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_export_becomes_loadable_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("d.csv");
        std::fs::write(
            &csv,
            "ProductKey,DeviceName,DeviceSecret\na1B2c3D4e5F,dev-001,0123456789abcdef0123456789abcdef\na1B2c3D4e5F,\"dev-002\",fedcba9876543210fedcba9876543210\n",
        )
        .unwrap();
        let out = dir.path().join("out");
        assert_eq!(provision(CloudKind::Aliyun, &csv, &out).unwrap(), 2);
        let p = Profile::load(&out.join("a1B2c3D4e5F_dev-002.toml")).unwrap();
        assert_eq!(
            p.cloud.aliyun.unwrap().device_name.as_deref(),
            Some("dev-002")
        );
    }

    #[test]
    fn missing_column_is_named() {
        let e = parse(CloudKind::Onenet, "product_id,device_name\np,d\n").unwrap_err();
        assert!(e.to_string().contains("`key` column"), "{e}");
    }
}
