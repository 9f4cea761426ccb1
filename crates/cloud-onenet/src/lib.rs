pub mod codes;
pub mod connect;
pub mod error;
pub mod names;
pub mod onejson;
pub mod token;
pub mod topics;
pub use error::{Error, Result};
