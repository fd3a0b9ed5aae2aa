//! Sorting a find's documents: BSON order across types, arrays by their extreme element.

use std::cmp::Ordering;

use super::filter::{array_index, QueryError};
use super::server_repr;
use crate::mongo::columns::{Column, Found};
use crate::mongo::value::{compare, field, Document, Value};

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

/// `sort_documents` followed by keeping the first `k`, without sorting the rest: the
/// `k` best so far are kept in order and each other document is compared with the worst of
/// them, one key at a time (find + sort + limit 10 over 100k documents sorts nothing big).
/// Ties keep the documents' order, as the stable sort does.
pub fn sort_documents_top(
    docs: &mut Vec<&Document>,
    sort: &Document,
    k: usize,
) -> Result<(), QueryError> {
    if k >= docs.len() || k > MAX_KEPT {
        sort_documents(docs, sort)?;
        docs.truncate(k);
        return Ok(());
    }
    keep_top(
        docs,
        |d, _, path, dir| Some(sort_key(d, path, dir)),
        sort,
        k,
    )
}

/// `sort_indices` followed by keeping the first `k`, as `sort_documents_top` does for
/// documents. `columns` has, for each sort key, the column of its top-level field when the
/// collection has one (an empty list when none): a key read there is the document's own.
pub fn sort_indices_top(
    docs: &[Document],
    indices: &mut Vec<usize>,
    sort: &Document,
    k: usize,
    columns: &[Option<&Column>],
) -> Result<(), QueryError> {
    if k >= indices.len() || k > MAX_KEPT {
        sort_indices(docs, indices, sort)?;
        indices.truncate(k);
        return Ok(());
    }
    let key_of = |row: &usize, key: usize, path: &[String], dir: i32| {
        let d = docs.get(*row)?;
        if let Some(Some(column)) = columns.get(key) {
            let mut tmp = Value::Null;
            match column.get(*row, &mut tmp) {
                Found::Value(v) => return Some(v.clone()),
                Found::Missing => return Some(Value::Null),
                Found::Unknown => {}
            }
        }
        Some(sort_key(d, path, dir))
    };
    keep_top(indices, key_of, sort, k)
}

/// Beyond this many kept items, inserting into the kept list costs more than sorting all.
const MAX_KEPT: usize = 256;

/// Keeps the `k` first items in sort order, comparing each other item with the worst kept
/// one key by key (computing each key only as far as needed). Ties keep the items' order.
/// `key_of(item, i, path, direction)` is the item's value of sort key `i` (None for an
/// item that is not there any more).
fn keep_top<T: Copy>(
    items: &mut Vec<T>,
    key_of: impl Fn(&T, usize, &[String], i32) -> Option<Value>,
    sort: &Document,
    k: usize,
) -> Result<(), QueryError> {
    let keys = sort_keys(sort)?;
    let order = |a: &[Value], b: &[Value]| {
        for (i, (_, dir)) in keys.iter().enumerate() {
            let c = match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) => compare(x, y),
                _ => Ordering::Equal,
            };
            if c != Ordering::Equal {
                return if *dir < 0 { c.reverse() } else { c };
            }
        }
        Ordering::Equal
    };
    let mut kept: Vec<(Vec<Value>, T)> = Vec::with_capacity(k + 1);
    for item in items.iter() {
        if kept.len() == k {
            let Some((worst, _)) = kept.last() else {
                break;
            };
            let mut beats = false;
            for (i, (path, dir)) in keys.iter().enumerate() {
                let (Some(w), Some(v)) = (worst.get(i), key_of(item, i, path, *dir)) else {
                    break;
                };
                let c = compare(&v, w);
                let c = if *dir < 0 { c.reverse() } else { c };
                if c != Ordering::Equal {
                    beats = c == Ordering::Less;
                    break;
                }
            }
            if !beats {
                continue;
            }
        }
        let key: Option<Vec<Value>> = keys
            .iter()
            .enumerate()
            .map(|(i, (p, dir))| key_of(item, i, p, *dir))
            .collect();
        let Some(key) = key else {
            continue;
        };
        // After every kept item that sorts before or equal to it: ties stay in order.
        let at = kept.partition_point(|(x, _)| order(x, &key) != Ordering::Greater);
        kept.insert(at, (key, *item));
        kept.truncate(k);
    }
    *items = kept.into_iter().map(|(_, item)| item).collect();
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
                        40218,
                        "Location40218",
                        "query requires text score metadata, but it is not available",
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

/// The value an array element sorts by under `$sortArray` and `$push`'s `$sort` (the
/// server's `extractElementAtDottedPath`): a document is read by field and an array by
/// position (as a document whose fields are "0", "1", ...), and the value the path ends at
/// counts whole, an array included. Unlike `sort_key`, nothing is flattened; `None` is a
/// missing value, which sorts as null.
pub fn element_at_path<'d>(doc: &'d Document, path: &[String]) -> Option<&'d Value> {
    let (first, rest) = path.split_first()?;
    let mut at = field(doc, first)?;
    for part in rest {
        at = match at {
            Value::Document(d) => field(d, part)?,
            // A BSON array's field names are "0", "1", ...: "01" names nothing.
            Value::Array(items) => array_index(part)
                .filter(|i| i.to_string() == *part)
                .and_then(|i| items.get(i))?,
            _ => return None,
        };
    }
    Some(at)
}

/// The value a document sorts by for one key: the smallest (ascending) or largest
/// (descending) of the values the path reaches, arrays contributing their elements; null
/// when nothing is reached; an empty array sorts below null.
pub fn sort_key(doc: &Document, path: &[String], dir: i32) -> Value {
    // A top-level field that is not an array is its own key (the usual sort).
    if let [name] = path {
        match field(doc, name) {
            None => return Value::Null,
            Some(Value::Array(_)) => {}
            Some(v) => return v.clone(),
        }
    }
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
    match field(d, first) {
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
            field(doc, part)
        } else {
            match cur {
                Some(Value::Document(d)) => field(d, part),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(i: i32) -> Document {
        let mut d = Document::default();
        d.insert("_id".into(), Value::Int32(i));
        // Few distinct values (ties), some arrays, some missing, mixed types.
        match i % 5 {
            0 => {}
            1 => {
                d.insert("k".into(), Value::Int32(i % 7));
            }
            2 => {
                d.insert(
                    "k".into(),
                    Value::Array(vec![Value::Int32(i % 3), Value::Double(f64::from(i % 11))]),
                );
            }
            3 => {
                d.insert("k".into(), Value::String(format!("s{}", i % 4)));
            }
            _ => {
                d.insert("k".into(), Value::Double(f64::from(i % 7) + 0.5));
            }
        }
        d.insert("j".into(), Value::Int32(i % 2));
        d
    }

    #[test]
    fn top_k_equals_sort_then_limit() {
        let docs: Vec<Document> = (0..200).map(doc).collect();
        for spec in [vec![("k", 1)], vec![("k", -1)], vec![("j", -1), ("k", 1)]] {
            let sort: Document = spec
                .iter()
                .map(|(k, d)| (k.to_string(), Value::Int32(*d)))
                .collect();
            for k in [1, 3, 10, 57, 199, 200, 500] {
                let mut full: Vec<&Document> = docs.iter().collect();
                assert!(sort_documents(&mut full, &sort).is_ok());
                full.truncate(k);
                let mut top: Vec<&Document> = docs.iter().collect();
                assert!(sort_documents_top(&mut top, &sort, k).is_ok());
                let ids =
                    |v: &[&Document]| v.iter().map(|d| d.get("_id").cloned()).collect::<Vec<_>>();
                assert_eq!(ids(&top), ids(&full), "{spec:?} k={k}");
            }
        }
    }
}
