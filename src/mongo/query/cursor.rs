//! Running a find: filter, sort, skip and limit over one collection's documents.

use std::cmp::Ordering;

use super::{server_repr, Filter, QueryError};
use crate::mongo::value::{compare, Document, Value};

/// What a find asks for, borrowed from the cursor that holds it.
#[derive(Debug, Clone, Copy)]
pub struct FindSpec<'a> {
    pub filter: &'a Document,
    pub sort: Option<&'a Document>,
    pub skip: usize,
    /// `None` or `Some(0)`: no limit.
    pub limit: Option<usize>,
}

/// The documents a find yields, borrowed from `docs` (counting needs no copies).
pub fn find<'d>(docs: &'d [Document], spec: &FindSpec) -> Result<Vec<&'d Document>, QueryError> {
    let filter = Filter::compile(spec.filter)?;
    let mut out: Vec<&Document> = docs.iter().filter(|d| filter.matches(d)).collect();
    if let Some(sort) = spec.sort {
        let keys = sort_keys(sort)?;
        out.sort_by(|a, b| {
            for (path, dir) in &keys {
                let va = lookup_path(a, path);
                let vb = lookup_path(b, path);
                let c = compare(&va, &vb);
                if c != Ordering::Equal {
                    return if *dir < 0 { c.reverse() } else { c };
                }
            }
            Ordering::Equal
        });
    }
    let out = out.into_iter().skip(spec.skip);
    Ok(match spec.limit {
        Some(n) if n > 0 => out.take(n).collect(),
        _ => out.collect(),
    })
}

/// A sort document's keys as (path, direction), or the server's error for a bad direction.
pub fn sort_keys(sort: &Document) -> Result<Vec<(Vec<String>, i32)>, QueryError> {
    sort.iter()
        .map(|(k, v)| {
            let dir = match v {
                Value::Int32(1) | Value::Int64(1) => 1,
                Value::Double(x) if *x == 1.0 => 1,
                Value::Int32(-1) | Value::Int64(-1) => -1,
                Value::Double(x) if *x == -1.0 => -1,
                _ => {
                    return Err(QueryError {
                        code: 15974,
                        code_name: "Location15974",
                        message: format!(
                            "Illegal key in $sort specification: {k}: {}",
                            server_repr(v)
                        ),
                    })
                }
            };
            Ok((k.split('.').map(str::to_string).collect(), dir))
        })
        .collect()
}

/// The value a sort key sees: the field at the path, or null when absent.
pub fn lookup_path(doc: &Document, path: &[String]) -> Value {
    let mut cur: Option<&Value> = None;
    for (i, part) in path.iter().enumerate() {
        let next = if i == 0 {
            doc.get(part)
        } else {
            match cur {
                Some(Value::Document(d)) => d.get(part),
                Some(Value::Array(items)) => part.parse::<usize>().ok().and_then(|n| items.get(n)),
                _ => None,
            }
        };
        match next {
            Some(v) => cur = Some(v),
            None => return Value::Null,
        }
    }
    cur.cloned().unwrap_or(Value::Null)
}
