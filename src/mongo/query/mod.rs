//! The query language: filters, projections, update operators, and running a find (sort,
//! skip, limit, projection) over a collection.

pub mod case;
pub mod cursor;
pub mod filter;
pub mod projection;
pub mod regex;
pub mod schema;
pub mod update;
pub mod validation;

pub use filter::{Filter, QueryError};

use crate::mongo::value::Value;

/// A value in the server's own (shell-like, double-quoted) notation, as its error messages
/// print it: `{ _id: 1 }`, `{ _id: "a" }`, `{ _id: ObjectId('…') }`.
pub fn server_repr(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::ObjectId(o) => format!("ObjectId('{}')", o.to_hex()),
        Value::Double(x) => crate::mongo::value::js_number(*x),
        Value::Int64(i) => i.to_string(),
        Value::Date(ms) => format!("new Date({ms})"),
        Value::Document(d) => {
            if d.is_empty() {
                return "{}".into();
            }
            let inner: Vec<String> = d
                .iter()
                .map(|(k, v)| format!("{k}: {}", server_repr(v)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(server_repr).collect();
            format!("[ {} ]", inner.join(", "))
        }
        other => crate::mongo::format::inspect(other, crate::mongo::format::Options::VALUE),
    }
}
