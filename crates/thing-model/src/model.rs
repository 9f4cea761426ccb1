//! Thing-model definitions: properties, events and services with typed data, the union of
//! what Aliyun TSL, OneNET OneJSON and Huawei product models can express.
//!
//! Each cloud crate loads its console's export format into these types; validation is in
//! `validate`.

use std::collections::BTreeMap;

/// Integer range / step / unit (`int`, `int32`, `long`, `int64`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntSpec {
    /// Inclusive minimum.
    pub min: Option<i64>,
    /// Inclusive maximum.
    pub max: Option<i64>,
    /// Step (informational for integers: not enforced).
    pub step: Option<i64>,
    /// Unit symbol, e.g. `%`.
    pub unit: Option<String>,
}

/// Floating-point range / step / unit (`float`, `double`, `decimal`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatSpec {
    /// Inclusive minimum.
    pub min: Option<f64>,
    /// Inclusive maximum.
    pub max: Option<f64>,
    /// Step (informational: not enforced).
    pub step: Option<f64>,
    /// Unit symbol.
    pub unit: Option<String>,
}

/// How a boolean travels on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoolEncoding {
    /// `0` / `1` (Aliyun TSL `bool`). `true`/`false` from apps are converted by normalisation.
    ZeroOne,
    /// JSON `true` / `false` (OneNET, Huawei). `0`/`1` from apps are converted.
    #[default]
    TrueFalse,
}

/// How a date travels on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateEncoding {
    /// UTC ms as a decimal *string* (Aliyun `date`).
    MillisString,
    /// UTC ms as a JSON number (OneNET `date`).
    #[default]
    MillisNumber,
    /// Huawei `DateTime`: a string `yyyyMMdd'T'HHmmss'Z'` (or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`).
    Compact,
}

/// The allowed values of an enum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnumSpec {
    /// Value → label. Keys are the wire values as text (`"0"`, `"1"` or `"ON"`).
    pub values: BTreeMap<String, String>,
    /// True if the wire values are integers (Aliyun, OneNET); false for strings (Huawei).
    pub integer: bool,
}

/// The data type of a property, parameter or member.
#[derive(Debug, Clone, PartialEq)]
pub enum DataType {
    /// 32-bit signed integer (Aliyun `int`, OneNET `int32`, Huawei `int`).
    Int(IntSpec),
    /// 64-bit signed integer (OneNET `int64`, Huawei `long`).
    Long(IntSpec),
    /// Single precision (Aliyun / OneNET `float`).
    Float(FloatSpec),
    /// Double precision (`double`).
    Double(FloatSpec),
    /// Huawei `decimal`.
    Decimal(FloatSpec),
    /// Boolean.
    Bool(BoolEncoding),
    /// Text (Aliyun `text`, OneNET / Huawei `string`), max length in UTF-8 bytes.
    Text {
        /// Maximum length in bytes.
        max_length: Option<usize>,
    },
    /// Enumeration.
    Enum(EnumSpec),
    /// Date / time.
    Date(DateEncoding),
    /// A JSON object with typed members.
    Struct(Vec<Field>),
    /// A JSON array of one item type.
    Array {
        /// Element type.
        item: Box<DataType>,
        /// Maximum number of elements.
        max_size: Option<usize>,
    },
    /// OneNET `bitMap`: an integer using the low `bits` bits.
    Bitmap {
        /// Number of bits (≤ 32).
        bits: u8,
    },
    /// Huawei `jsonObject`: any JSON object.
    JsonObject,
    /// Huawei `string list`: an array of strings.
    StringList {
        /// Maximum length of each string, in bytes.
        max_length: Option<usize>,
    },
}

impl DataType {
    /// A short name for messages: `int`, `text`, `struct`, …
    pub fn name(&self) -> &'static str {
        match self {
            DataType::Int(_) => "int",
            DataType::Long(_) => "long",
            DataType::Float(_) => "float",
            DataType::Double(_) => "double",
            DataType::Decimal(_) => "decimal",
            DataType::Bool(_) => "bool",
            DataType::Text { .. } => "text",
            DataType::Enum(_) => "enum",
            DataType::Date(_) => "date",
            DataType::Struct(_) => "struct",
            DataType::Array { .. } => "array",
            DataType::Bitmap { .. } => "bitmap",
            DataType::JsonObject => "jsonObject",
            DataType::StringList { .. } => "string list",
        }
    }
}

/// A named, typed value: an event output, a service input/output, or a struct member.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Identifier (the JSON key).
    pub identifier: String,
    /// Display name.
    pub name: Option<String>,
    /// Type.
    pub data_type: DataType,
    /// Must be present.
    pub required: bool,
}

impl Field {
    /// An optional field.
    pub fn new(identifier: impl Into<String>, data_type: DataType) -> Self {
        Field {
            identifier: identifier.into(),
            name: None,
            data_type,
            required: false,
        }
    }
}

/// Property access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The cloud may read it.
    pub read: bool,
    /// The cloud may set it.
    pub write: bool,
    /// Reported on change (Huawei `E`).
    pub notify: bool,
}

impl Access {
    /// Read-only.
    pub const R: Access = Access {
        read: true,
        write: false,
        notify: false,
    };
    /// Read-write.
    pub const RW: Access = Access {
        read: true,
        write: true,
        notify: false,
    };

    /// Parses `r`, `rw`, `w`, and Huawei combinations such as `RWE` (case-insensitive).
    pub fn parse(s: &str) -> Option<Access> {
        let mut a = Access {
            read: false,
            write: false,
            notify: false,
        };
        if s.is_empty() {
            return None;
        }
        for c in s.chars() {
            match c.to_ascii_lowercase() {
                'r' => a.read = true,
                'w' => a.write = true,
                'e' => a.notify = true,
                _ => return None,
            }
        }
        Some(a)
    }
}

/// A property.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// Identifier.
    pub identifier: String,
    /// Display name.
    pub name: Option<String>,
    /// Type.
    pub data_type: DataType,
    /// Access.
    pub access: Access,
    /// Required by the model.
    pub required: bool,
    /// Huawei `service_id` this property belongs to.
    pub service: Option<String>,
}

/// Event severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventKind {
    /// Information.
    #[default]
    Info,
    /// Alert.
    Alert,
    /// Error / fault.
    Error,
}

/// An event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Identifier.
    pub identifier: String,
    /// Display name.
    pub name: Option<String>,
    /// Severity.
    pub kind: EventKind,
    /// Output parameters.
    pub output: Vec<Field>,
    /// Huawei `service_id`.
    pub service: Option<String>,
}

/// Synchronous (the cloud waits, e.g. Aliyun RRPC) or asynchronous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallType {
    /// Asynchronous.
    #[default]
    Async,
    /// Synchronous.
    Sync,
}

/// A service (Aliyun service, OneNET service, Huawei command).
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Identifier (command name).
    pub identifier: String,
    /// Display name.
    pub name: Option<String>,
    /// Call type.
    pub call_type: CallType,
    /// Input parameters.
    pub input: Vec<Field>,
    /// Output parameters.
    pub output: Vec<Field>,
    /// Huawei `service_id`.
    pub service: Option<String>,
}

/// A whole thing model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ThingModel {
    /// Properties.
    pub properties: Vec<Property>,
    /// Events (not the Aliyun built-in `post`).
    pub events: Vec<Event>,
    /// Services (not the Aliyun built-in `set` / `get`).
    pub services: Vec<Service>,
}

impl ThingModel {
    /// The property with this identifier.
    pub fn property(&self, id: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.identifier == id)
    }

    /// The event with this identifier.
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.identifier == id)
    }

    /// The service with this identifier. With `service_id` given (Huawei), it must match too.
    pub fn service(&self, id: &str, service_id: Option<&str>) -> Option<&Service> {
        self.services.iter().find(|s| {
            s.identifier == id && (service_id.is_none() || s.service.as_deref() == service_id)
        })
    }
}
