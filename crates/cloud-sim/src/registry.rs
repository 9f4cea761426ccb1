//! The device registry: products, devices and (Huawei) registration groups, loaded from a
//! simple TOML file or from a console's device CSV export, and grown at run time by
//! dynamic registration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thing_model::{Secret, ThingModel};

/// Which cloud the simulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Alibaba Cloud IoT Platform.
    Aliyun,
    /// China Mobile OneNET.
    Onenet,
    /// Huawei Cloud IoTDA.
    Huawei,
}

impl Cloud {
    /// `aliyun`, `onenet`, `huawei`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aliyun => "aliyun",
            Cloud::Onenet => "onenet",
            Cloud::Huawei => "huawei",
        }
    }
}

impl std::str::FromStr for Cloud {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "aliyun" => Ok(Cloud::Aliyun),
            "onenet" => Ok(Cloud::Onenet),
            "huawei" => Ok(Cloud::Huawei),
            other => Err(field(
                "cloud",
                format!("`{other}` is not aliyun, onenet or huawei"),
            )),
        }
    }
}

/// Errors loading a registry. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML does not parse.
    #[error("registry TOML: {0}")]
    Toml(String),
    /// A CSV line that cannot be used.
    #[error("registry CSV line {line}: {reason}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
    /// A field with a bad value.
    #[error("registry field `{field}`: {reason}")]
    Field {
        /// Field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

fn field(field: &'static str, reason: impl Into<String>) -> RegistryError {
    RegistryError::Field {
        field,
        reason: reason.into(),
    }
}

/// A product.
#[derive(Debug, Clone, Default)]
pub struct Product {
    /// Aliyun ProductKey, OneNET product id, Huawei product id.
    pub id: String,
    /// Aliyun ProductSecret, OneNET product access key (base64), Huawei product secret.
    pub secret: Option<Secret>,
    /// Aliyun: `register`/`regnwl` logins allowed. OneNET: product-level tokens may log in
    /// devices that are not in the registry. Huawei: `hwprodid` logins of unknown node ids.
    pub dynamic_registration: bool,
    /// The thing model, checked against uplinks.
    pub model: Option<ThingModel>,
}

/// A device.
#[derive(Debug, Clone, Default)]
pub struct Device {
    /// Product id.
    pub product: String,
    /// Aliyun DeviceName, OneNET device name, Huawei node id.
    pub name: String,
    /// Huawei device id (default `{product}_{name}`); for the others `{product}/{name}`.
    pub id: String,
    /// Aliyun DeviceSecret, OneNET device key (base64), Huawei secret.
    pub secret: Option<Secret>,
    /// Aliyun `regnwl`: the issued `(clientId, deviceToken)`.
    pub token: Option<(String, Secret)>,
}

/// A Huawei IoTDP registration group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Scope id.
    pub scope_id: String,
    /// Group secret (base64).
    pub secret: Secret,
}

/// Products, devices and groups.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// The cloud named in the file, if any.
    pub cloud: Option<Cloud>,
    /// Products by id.
    pub products: BTreeMap<String, Product>,
    /// Devices.
    pub devices: Vec<Device>,
    /// Huawei registration groups.
    pub groups: Vec<Group>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    cloud: Option<Cloud>,
    #[serde(default)]
    product: Vec<TomlProduct>,
    #[serde(default)]
    device: Vec<TomlDevice>,
    #[serde(default)]
    group: Vec<TomlGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlProduct {
    id: String,
    secret: Option<String>,
    #[serde(default)]
    dynamic_registration: bool,
    model: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlDevice {
    product: String,
    name: String,
    id: Option<String>,
    secret: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlGroup {
    scope_id: String,
    secret: String,
}

/// Loads a thing model in `cloud`'s console export format.
pub fn load_model(cloud: Cloud, path: &Path) -> Result<ThingModel, RegistryError> {
    let bad = |reason: String| field("model", format!("{}: {reason}", path.display()));
    match cloud {
        Cloud::Huawei => cloud_huawei::model::ProductModel::load(path)
            .map(|m| m.to_thing_model())
            .map_err(|e| bad(e.to_string())),
        _ => {
            let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Io {
                path: path.to_owned(),
                source,
            })?;
            match cloud {
                Cloud::Aliyun => cloud_aliyun::tsl::load_tsl(&text).map_err(|e| bad(e.to_string())),
                _ => cloud_onenet::model::load_export(&text).map_err(|e| bad(e.to_string())),
            }
        }
    }
}

impl Registry {
    /// Loads `path`: TOML if it ends in `.toml`, else a CSV export. `cloud` decides the
    /// model format and Huawei device ids; `default_product` fills CSVs without a product
    /// column.
    pub fn load(
        path: &Path,
        cloud: Cloud,
        default_product: Option<&str>,
    ) -> Result<Registry, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Io {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Registry::from_toml(&text, cloud, base)
        } else {
            Registry::from_csv(&text, cloud, default_product)
        }
    }

    /// Parses the TOML form; model paths are relative to `base`.
    pub fn from_toml(text: &str, cloud: Cloud, base: &Path) -> Result<Registry, RegistryError> {
        let file: TomlFile =
            toml::from_str(text).map_err(|e| RegistryError::Toml(e.message().to_owned()))?;
        if let Some(c) = file.cloud {
            if c != cloud {
                return Err(field(
                    "cloud",
                    format!("the file is for {}, not {}", c.as_str(), cloud.as_str()),
                ));
            }
        }
        let mut reg = Registry {
            cloud: file.cloud,
            ..Default::default()
        };
        for p in file.product {
            let model = match p.model {
                Some(m) => Some(load_model(cloud, &base.join(m))?),
                None => None,
            };
            reg.add_product(Product {
                id: p.id,
                secret: p.secret.map(Secret::new),
                dynamic_registration: p.dynamic_registration,
                model,
            })?;
        }
        for d in file.device {
            reg.add_device(cloud, &d.product, &d.name, d.id, d.secret.map(Secret::new))?;
        }
        for g in file.group {
            check_text("group.scope_id", &g.scope_id, 64)?;
            reg.groups.push(Group {
                scope_id: g.scope_id,
                secret: Secret::new(g.secret),
            });
        }
        Ok(reg)
    }

    /// Parses a CSV export with a header line. Columns are found by name (case and `_`
    /// ignored): product (`ProductKey`, `product_id`, `productId`, `产品ID`), device
    /// (`DeviceName`, `device_name`, `node_id`, `name`, `设备名称`), Huawei device id
    /// (`device_id`, `设备ID`), secret (`DeviceSecret`, `secret`, `key`, `sec_key`,
    /// `access_key`, `设备密钥`). Other columns are ignored.
    pub fn from_csv(
        text: &str,
        cloud: Cloud,
        default_product: Option<&str>,
    ) -> Result<Registry, RegistryError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(RegistryError::Csv {
                line: 1,
                reason:
                    "empty file; expected a header line such as ProductKey,DeviceName,DeviceSecret"
                        .into(),
            });
        };
        let cols: Vec<String> = split_csv(header)
            .iter()
            .map(|c| c.trim().to_ascii_lowercase().replace(['_', ' '], ""))
            .collect();
        let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
        let product_col = find(&["productkey", "productid", "产品id", "product"]);
        let name_col = find(&["devicename", "nodeid", "name", "设备名称", "设备标识码"]);
        let id_col = find(&["deviceid", "设备id"]);
        let secret_col = find(&[
            "devicesecret",
            "secret",
            "key",
            "seckey",
            "accesskey",
            "devicekey",
            "设备密钥",
        ]);
        let name_col = name_col.ok_or_else(|| RegistryError::Csv {
            line: 1,
            reason: format!("no device name column among {cols:?}"),
        })?;
        if product_col.is_none() && default_product.is_none() {
            return Err(RegistryError::Csv {
                line: 1,
                reason: "no product column: give the product id with --product".into(),
            });
        }
        let mut reg = Registry::default();
        for (i, line) in lines {
            let cells = split_csv(line);
            let cell = |c: Option<usize>| {
                c.and_then(|c| cells.get(c))
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
            };
            let product = cell(product_col)
                .or(default_product.map(str::to_owned))
                .ok_or_else(|| RegistryError::Csv {
                    line: i + 1,
                    reason: "empty product".into(),
                })?;
            let name = cell(Some(name_col)).ok_or_else(|| RegistryError::Csv {
                line: i + 1,
                reason: "empty device name".into(),
            })?;
            reg.add_device(
                cloud,
                &product,
                &name,
                cell(id_col),
                cell(secret_col).map(Secret::new),
            )
            .map_err(|e| RegistryError::Csv {
                line: i + 1,
                reason: e.to_string(),
            })?;
        }
        Ok(reg)
    }

    fn add_product(&mut self, p: Product) -> Result<(), RegistryError> {
        check_text("product.id", &p.id, 64)?;
        if p.secret.as_ref().is_some_and(Secret::is_empty) {
            return Err(field(
                "product.secret",
                format!("empty for product {}", p.id),
            ));
        }
        if self.products.insert(p.id.clone(), p).is_some() {
            return Err(field("product.id", "listed twice"));
        }
        Ok(())
    }

    /// Adds (or replaces) a device; products are created on first mention.
    pub fn add_device(
        &mut self,
        cloud: Cloud,
        product: &str,
        name: &str,
        id: Option<String>,
        secret: Option<Secret>,
    ) -> Result<&Device, RegistryError> {
        check_text("device.product", product, 64)?;
        check_text("device.name", name, 64)?;
        let id = match (cloud, id) {
            (Cloud::Huawei, Some(id)) => id,
            (Cloud::Huawei, None) => format!("{product}_{name}"),
            (_, _) => format!("{product}/{name}"),
        };
        check_text("device.id", &id, 128)?;
        self.products
            .entry(product.to_owned())
            .or_insert_with(|| Product {
                id: product.to_owned(),
                ..Default::default()
            });
        let dev = Device {
            product: product.into(),
            name: name.into(),
            id,
            secret,
            token: None,
        };
        let at = match self
            .devices
            .iter()
            .position(|d| d.product == product && d.name == name)
        {
            Some(i) => {
                self.devices[i] = dev;
                i
            }
            None => {
                self.devices.push(dev);
                self.devices.len() - 1
            }
        };
        Ok(&self.devices[at])
    }

    /// The device `name` of `product`.
    pub fn device(&self, product: &str, name: &str) -> Option<&Device> {
        self.devices
            .iter()
            .find(|d| d.product == product && d.name == name)
    }

    /// Mutable [`Registry::device`].
    pub fn device_mut(&mut self, product: &str, name: &str) -> Option<&mut Device> {
        self.devices
            .iter_mut()
            .find(|d| d.product == product && d.name == name)
    }

    /// The device with this id (Huawei device id, or `product/name`).
    pub fn device_by_id(&self, id: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.id == id)
    }

    /// Finds a device by id, or by bare name when exactly one device has it.
    pub fn find(&self, key: &str) -> Option<&Device> {
        self.device_by_id(key).or_else(|| {
            let mut it = self.devices.iter().filter(|d| d.name == key);
            match (it.next(), it.next()) {
                (Some(d), None) => Some(d),
                _ => None,
            }
        })
    }

    /// The thing model of `product`.
    pub fn model(&self, product: &str) -> Option<&ThingModel> {
        self.products.get(product).and_then(|p| p.model.as_ref())
    }
}

fn check_text(what: &'static str, s: &str, max: usize) -> Result<(), RegistryError> {
    if s.is_empty() || s.len() > max {
        return Err(field(
            what,
            format!("is {} bytes; it must be 1 to {max}", s.len()),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() || c == '/' && what != "device.id")
    {
        return Err(field(
            what,
            format!("`{s}` contains a control character or '/'"),
        ));
    }
    Ok(())
}

/// Splits one CSV line (RFC 4180 quoting; no line breaks inside fields).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_csv_export() {
        let csv = "\u{feff}ProductKey,DeviceName,DeviceSecret\r\na1B2c3D4e5F,dev-001,0123456789abcdef\r\n\r\na1B2c3D4e5F,\"dev,2\",s2\r\n";
        let reg = Registry::from_csv(csv, Cloud::Aliyun, None).unwrap();
        assert_eq!(reg.devices.len(), 2);
        let d = reg.device("a1B2c3D4e5F", "dev-001").unwrap();
        assert_eq!(d.secret.as_ref().unwrap().expose(), "0123456789abcdef");
        assert_eq!(d.id, "a1B2c3D4e5F/dev-001");
        assert!(reg.device("a1B2c3D4e5F", "dev,2").is_some());
        assert!(reg.products.contains_key("a1B2c3D4e5F"));
    }

    #[test]
    fn huawei_and_onenet_csv_columns() {
        let hw = Registry::from_csv(
            "node_id,device_id,secret\nnode1,p_node1,s\nnode2,,s2\n",
            Cloud::Huawei,
            Some("p"),
        )
        .unwrap();
        assert_eq!(hw.find("p_node1").unwrap().name, "node1");
        assert_eq!(hw.find("node2").unwrap().id, "p_node2");
        let err = Registry::from_csv("设备名称,key\nd1,a2V5\n", Cloud::Onenet, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "registry CSV line 1: no product column: give the product id with --product"
        );
        let on = Registry::from_csv("设备名称,key\nd1,a2V5\n", Cloud::Onenet, Some("pid")).unwrap();
        assert_eq!(
            on.find("pid/d1").unwrap().secret.as_ref().unwrap().expose(),
            "a2V5"
        );
    }

    #[test]
    fn toml_form_and_errors_without_secrets() {
        let text = r#"
            cloud = "aliyun"
            [[product]]
            id = "a1B2c3D4e5F"
            secret = "ProdSecret012345"
            dynamic_registration = true
            [[device]]
            product = "a1B2c3D4e5F"
            name = "dev-001"
            secret = "topsecret"
        "#;
        let reg = Registry::from_toml(text, Cloud::Aliyun, Path::new(".")).unwrap();
        assert!(reg.products["a1B2c3D4e5F"].dynamic_registration);
        assert!(!format!("{reg:?}").contains("topsecret"));
        let err = Registry::from_toml(text, Cloud::Huawei, Path::new(".")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "registry field `cloud`: the file is for aliyun, not huawei"
        );
        let long = format!(
            "[[device]]\nproduct = \"p\"\nname = \"{}\"\nsecret = \"hidden\"\n",
            "n".repeat(65)
        );
        let err = Registry::from_toml(&long, Cloud::Aliyun, Path::new("."))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "registry field `device.name`: is 65 bytes; it must be 1 to 64"
        );
        let err = Registry::from_toml("[[device]]\nproduct = 1\n", Cloud::Aliyun, Path::new("."))
            .unwrap_err();
        assert!(err.to_string().starts_with("registry TOML:"), "{err}");
    }
}
