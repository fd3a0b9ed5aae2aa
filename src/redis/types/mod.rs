//! One module per data type, each with its type API and then its commands (as Redis's
//! `t_string.c`, `t_hash.c`, ...).

pub mod string;

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
