//! One module per data type, each with its type API and then its commands (as Redis's
//! `t_string.c`, `t_hash.c`, ...).

pub mod bitmap;
pub mod geo;
pub mod hash;
pub mod hll;
#[cfg(feature = "json")]
pub mod json;
/// Without the `json` feature (the page's first module) no JSON key can exist: JSON.* answer
/// that the module is not loaded, and the page moves to the full module before running one.
#[cfg(not(feature = "json"))]
#[path = "json_absent.rs"]
pub mod json;
#[cfg(feature = "json")]
pub mod json_path;
pub mod list;
pub mod set;
pub mod sort;
#[cfg(feature = "streams")]
pub mod stream;
/// Without the `streams` feature no stream can exist; X* answer that this build lacks them.
#[cfg(not(feature = "streams"))]
#[path = "stream_absent.rs"]
pub mod stream;
pub mod string;
pub mod zset;

use super::reply::{self, Reply};

/// A value stored under a key. The collections are boxed so that an entry stays as small as
/// a string's: the keyspace moves entries whenever it grows, and most keys are strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Vec<u8>),
    Hash(Box<hash::Hash>),
    List(Box<list::List>),
    Set(Box<set::Set>),
    ZSet(Box<zset::ZSet>),
    #[cfg(feature = "streams")]
    Stream(Box<stream::Stream>),
    /// A RedisJSON document.
    #[cfg(feature = "json")]
    Json(Box<serde_json::Value>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            #[cfg(feature = "streams")]
            Value::Stream(_) => "stream",
            #[cfg(feature = "json")]
            Value::Json(_) => json::TYPE_NAME,
        }
    }

    /// OBJECT ENCODING for the non-string types (strings depend on their key too; see
    /// `string::encoding_of`).
    pub fn container_encoding(&self) -> Option<&'static str> {
        match self {
            Value::Str(_) => None,
            #[cfg(feature = "json")]
            Value::Json(_) => None,
            Value::Hash(v) => Some(v.encoding()),
            Value::List(v) => Some(v.encoding()),
            Value::Set(v) => Some(v.encoding()),
            Value::ZSet(v) => Some(v.encoding()),
            #[cfg(feature = "streams")]
            Value::Stream(v) => Some(v.encoding()),
        }
    }
}

/// The one WRONGTYPE error every command gives for a key of another type.
pub fn wrong_type() -> Reply {
    reply::error(reply::WRONGTYPE)
}
