//! Sorting a find's documents: BSON order across types, arrays by their extreme element.

use std::cmp::Ordering;

use super::filter::{array_index, QueryError};
use super::server_repr;
use crate::mongo::value::{compare, Document, Value};

/// Sorts stably by a sort document (BSON order across types, arrays by their smallest element
/// ascending and largest descending, missing fields as null).
pub fn sort_documents(docs: &mut [&Document], sort: &Document) -> Result<(), QueryError> {
    let keys = sort_keys(sort)?;
    // Each document's key values, computed once.
    let mut keyed: Vec<(Vec<Value>, &Document)> = docs
        .iter()
        .map(|d| {
            let values = keys
                .iter()
                .map(|(path, dir)| sort_key(d, path, *dir))
                .collect();
            (values, *d)
        })
        .collect();
    // The standard sort, not crate::sort: sorting documents is a hot path, and moving the
    // elements is about twice as fast as sorting indices to them.
    keyed.sort_by(|(a, _), (b, _)| {
        for (i, (_, dir)) in keys.iter().enumerate() {
            let c = compare(&a[i], &b[i]);
            if c != Ordering::Equal {
                return if *dir < 0 { c.reverse() } else { c };
            }
        }
        Ordering::Equal
    });
    for (slot, (_, d)) in docs.iter_mut().zip(keyed) {
        *slot = d;
    }
    Ok(())
}

/// Sorts positions into `docs` the way `sort_documents` sorts the documents themselves.
pub fn sort_indices(
    docs: &[Document],
    indices: &mut [usize],
    sort: &Document,
) -> Result<(), QueryError> {
    let mut refs: Vec<(usize, &Document)> = indices.iter().map(|&i| (i, &docs[i])).collect();
    let keys = sort_keys(sort)?;
    let mut keyed: Vec<(Vec<Value>, usize)> = refs
        .drain(..)
        .map(|(i, d)| {
            (
                keys.iter().map(|(p, dir)| sort_key(d, p, *dir)).collect(),
                i,
            )
        })
        .collect();
    // The standard sort, not crate::sort: sorting documents is a hot path, and moving the
    // elements is about twice as fast as sorting indices to them.
    keyed.sort_by(|(a, _), (b, _)| {
        for (k, (_, dir)) in keys.iter().enumerate() {
            let c = compare(&a[k], &b[k]);
            if c != Ordering::Equal {
                return if *dir < 0 { c.reverse() } else { c };
            }
        }
        Ordering::Equal
    });
    for (slot, (_, i)) in indices.iter_mut().zip(keyed) {
        *slot = i;
    }
    Ok(())
}

/// A sort document's keys as (path, direction), or the server's error for a bad direction.
pub fn sort_keys(sort: &Document) -> Result<Vec<(Vec<String>, i32)>, QueryError> {
    sort.iter()
        .map(|(k, v)| {
            if let Value::Document(d) = v {
                if d.contains_key("$meta") {
                    return Err(QueryError::new(
                        238,
                        "NotImplemented",
                        "$meta sort keys are not supported in this sandbox",
                    ));
                }
                return Err(QueryError::new(
                    17312,
                    "Location17312",
                    "$meta is the only expression supported by $sort right now",
                ));
            }
            if !v.is_number() {
                return Err(QueryError::new(
                    15974,
                    "Location15974",
                    format!(
                        "Illegal key in $sort specification: {k}: {}",
                        server_repr(v)
                    ),
                ));
            }
            let x = match v {
                Value::Int32(i) => f64::from(*i),
                Value::Int64(i) => *i as f64,
                Value::Double(x) => *x,
                _ => 0.0,
            };
            if x != 1.0 && x != -1.0 {
                return Err(QueryError::new(
                    15975,
                    "Location15975",
                    "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
                ));
            }
            Ok((k.split('.').map(str::to_string).collect(), x as i32))
        })
        .collect()
}

/// The value a document sorts by for one key: the smallest (ascending) or largest
/// (descending) of the values the path reaches, arrays contributing their elements; null
/// when nothing is reached; an empty array sorts below null.
pub fn sort_key(doc: &Document, path: &[String], dir: i32) -> Value {
    let mut values = Vec::new();
    let mut missing = false;
    collect_doc(doc, path, &mut values, &mut missing);
    if values.is_empty() || missing {
        values.push(Value::Null);
    }
    let pick = values.into_iter().reduce(|best, v| {
        let c = compare(&v, &best);
        if (dir >= 0 && c == Ordering::Less) || (dir < 0 && c == Ordering::Greater) {
            v
        } else {
            best
        }
    });
    pick.unwrap_or(Value::Null)
}

fn collect_doc(d: &Document, path: &[String], out: &mut Vec<Value>, missing: &mut bool) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match d.get(first) {
        Some(next) => collect(next, rest, out, missing),
        None => *missing = true,
    }
}

fn collect(v: &Value, path: &[String], out: &mut Vec<Value>, missing: &mut bool) {
    let Some((first, rest)) = path.split_first() else {
        match v {
            Value::Array(items) if items.is_empty() => out.push(Value::Undefined),
            Value::Array(items) => out.extend(items.iter().cloned()),
            other => out.push(other.clone()),
        }
        return;
    };
    match v {
        Value::Document(d) => collect_doc(d, path, out, missing),
        Value::Array(items) => {
            if let Some(i) = array_index(first) {
                if let Some(item) = items.get(i) {
                    collect(item, rest, out, missing);
                    return;
                }
            }
            for item in items {
                match item {
                    Value::Document(_) => collect(item, path, out, missing),
                    _ => *missing = true,
                }
            }
        }
        _ => *missing = true,
    }
}

/// The value a path names in a document (no array traversal except numeric components), or
/// null when absent.
pub fn lookup_path(doc: &Document, path: &[String]) -> Value {
    let mut cur: Option<&Value> = None;
    for (i, part) in path.iter().enumerate() {
        let next = if i == 0 {
            doc.get(part)
        } else {
            match cur {
                Some(Value::Document(d)) => d.get(part),
                Some(Value::Array(items)) => array_index(part).and_then(|n| items.get(n)),
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
