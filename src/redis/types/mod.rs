//! One module per data type, each with its type API and then its commands (as Redis's
//! `t_string.c`, `t_hash.c`, ...).

pub mod bitmap;
pub mod string;

use super::reply::{self, Reply};

/// A value stored under a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Vec<u8>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }
}

/// The one WRONGTYPE error every command gives for a key of another type.
pub fn wrong_type() -> Reply {
    reply::error(reply::WRONGTYPE)
}
