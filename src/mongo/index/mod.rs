//! Secondary indexes: ordered trees of keys kept in step with every write, the planner that
//! picks among them, and the explain documents that show its choice.
//!
//! - `Index` (here): a key pattern, its options, and a `BTreeSet` of `(key, record id)`
//!   entries ordered as MongoDB orders index keys (BSON comparison, per-field direction).
//!   Arrays expand into one key per element (multikey); two arrays in one key pattern are
//!   refused as MongoDB refuses them.
//! - `spec`: parsing `createIndex` arguments into an `IndexSpec`, default names, the
//!   `getIndexes` form, and the conflicts between a new index and the existing ones.
//! - `plan`: index bounds from a filter, candidate plans, MongoDB's trial-run choice among
//!   them, execution that counts keys and documents examined, and explain documents.
//! - `ttl`: expiry of documents by TTL indexes on the virtual clock.
//! - `text` (with `stem`): text indexes, `$text` and its scores; `geo`: `2dsphere` / `2d`
//!   indexes, the geo operators and distances.

pub mod explain;
pub mod geo;
pub mod geocell;
pub mod plan;
pub mod plan_cache;
pub mod spec;
pub mod stem;
pub mod text;
pub mod ttl;

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::Bound;

use crate::mongo::query::{server_repr, Filter, QueryError};
use crate::mongo::value::{compare, Document, Value};

pub use spec::{IndexKind, IndexSpec};

/// Identifies a document for the life of its collection; record ids grow with insertion, so
/// the collection's documents (kept in insertion order) are sorted by them.
pub type RecordId = u64;

/// One field of an index key, ordered by BSON comparison, reversed for a descending field.
#[derive(Debug, Clone)]
pub struct KeyPart {
    pub value: Value,
    pub descending: bool,
}

impl PartialEq for KeyPart {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for KeyPart {}
impl PartialOrd for KeyPart {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for KeyPart {
    fn cmp(&self, other: &Self) -> Ordering {
        let c = compare(&self.value, &other.value);
        if self.descending {
            c.reverse()
        } else {
            c
        }
    }
}

/// An index key: one part per field of the key pattern. A key of one ascending field, the
/// usual index, holds its value inline, in the tree's own node: a seek then compares against
/// the node's memory and the value's own bytes, with no hop through a vector of one part.
/// Every key also carries its head: its first part's type rank and the first 15 bytes of a
/// string, packed so that comparing heads as integers orders keys as comparing them does,
/// except where the heads are equal. Most comparisons of a seek are then decided in the
/// tree's node, without reading the compared string's bytes from elsewhere in memory (one
/// cache miss each). Ordered as the list of its parts.
#[derive(Debug, Clone)]
pub struct Key {
    head: Head,
    parts: Parts,
}

/// The type rank of a key's first part in the top byte, then up to 15 bytes of a string
/// (zero-padded; other types leave them zero), all bits inverted for a descending part.
/// Ranks are below 128, so the top bit tells the direction: heads of keys whose first parts
/// are in different directions order nothing, and a key with no part has the head 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Head(u64, u64);

impl Head {
    const EMPTY: Head = Head(0, 0);

    fn of(value: &Value, descending: bool) -> Head {
        let mut bytes = [0u8; 16];
        bytes[0] = crate::mongo::value::type_rank(value);
        if let Value::String(s) = value {
            for (to, from) in bytes[1..].iter_mut().zip(s.as_bytes()) {
                *to = *from;
            }
        }
        let packed = u128::from_be_bytes(bytes);
        let head = Head((packed >> 64) as u64, packed as u64);
        if descending {
            Head(!head.0, !head.1)
        } else {
            head
        }
    }

    /// The order of two keys as far as their heads tell it: `Equal` when they do not.
    fn order(self, other: Head) -> Ordering {
        if (self.0 ^ other.0) >> 63 != 0 {
            return Ordering::Equal;
        }
        self.cmp(&other)
    }
}

#[derive(Debug, Clone)]
enum Parts {
    /// One ascending part (no room for the direction: a tag would cost 8 bytes an entry).
    Asc(Value),
    /// No part, several, or one descending.
    Many(Vec<KeyPart>),
}

impl Key {
    pub fn one(part: KeyPart) -> Key {
        let head = Head::of(&part.value, part.descending);
        let parts = if part.descending {
            Parts::Many(vec![part])
        } else {
            Parts::Asc(part.value)
        };
        Key { head, parts }
    }

    /// An empty key with room for `n` parts.
    pub fn with_capacity(n: usize) -> Key {
        Key {
            head: Head::EMPTY,
            parts: Parts::Many(Vec::with_capacity(if n > 1 { n } else { 0 })),
        }
    }

    pub fn push(&mut self, part: KeyPart) {
        match &mut self.parts {
            Parts::Many(v) if v.is_empty() => *self = Key::one(part),
            Parts::Many(v) => v.push(part),
            Parts::Asc(_) => {
                let Parts::Asc(first) = std::mem::replace(&mut self.parts, Parts::Many(Vec::new()))
                else {
                    return;
                };
                let first = KeyPart {
                    value: first,
                    descending: false,
                };
                self.parts = Parts::Many(vec![first, part]);
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.parts {
            Parts::Asc(_) => 1,
            Parts::Many(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each part's value and whether its field is descending, in key pattern order.
    pub fn parts(&self) -> impl Iterator<Item = (&Value, bool)> {
        let (one, many) = match &self.parts {
            Parts::Asc(v) => (Some(v), &[][..]),
            Parts::Many(parts) => (None, &parts[..]),
        };
        one.map(|v| (v, false))
            .into_iter()
            .chain(many.iter().map(|p| (&p.value, p.descending)))
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.parts().map(|(v, _)| v)
    }

    /// The value of the key's `i`th field.
    pub fn value(&self, i: usize) -> Option<&Value> {
        match &self.parts {
            Parts::Asc(v) => (i == 0).then_some(v),
            Parts::Many(parts) => parts.get(i).map(|p| &p.value),
        }
    }

    /// Replaces the value of the key's first field (a key of no field stays as it is).
    pub fn set_first_value(&mut self, value: Value) {
        let (slot, descending) = match &mut self.parts {
            Parts::Asc(v) => (v, false),
            Parts::Many(parts) => match parts.first_mut() {
                Some(p) => (&mut p.value, p.descending),
                None => return,
            },
        };
        self.head = Head::of(&value, descending);
        *slot = value;
    }
}

impl From<Vec<KeyPart>> for Key {
    fn from(parts: Vec<KeyPart>) -> Key {
        let mut key = Key::with_capacity(parts.len());
        for p in parts {
            key.push(p);
        }
        key
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_head = self.head.order(other.head);
        if by_head != Ordering::Equal {
            return by_head;
        }
        self.cmp_parts(other)
    }
}

impl Key {
    /// The order of the parts alone, without the heads' shortcut.
    fn cmp_parts(&self, other: &Self) -> Ordering {
        if let (Parts::Asc(a), Parts::Asc(b)) = (&self.parts, &other.parts) {
            return compare(a, b);
        }
        let mut theirs = other.parts();
        for (a, descending) in self.parts() {
            let Some((b, _)) = theirs.next() else {
                return Ordering::Greater;
            };
            let c = compare(a, b);
            let c = if descending { c.reverse() } else { c };
            if c != Ordering::Equal {
                return c;
            }
        }
        if theirs.next().is_some() {
            Ordering::Less
        } else {
            Ordering::Equal
        }
    }
}

/// An index entry: the key, then the record it points at (so equal keys keep record order).
pub type Entry = (Key, RecordId);

/// A compiled `partialFilterExpression` with the document it came from.
pub struct PartialFilter {
    pub doc: Document,
    pub filter: Filter,
}

impl std::fmt::Debug for PartialFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartialFilter({:?})", self.doc)
    }
}

/// Why a document cannot be written because of an index.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyError {
    /// A unique index already holds this key: the index name and the `dup key` document.
    Duplicate { index: String, key: Document },
    /// Two fields of one key pattern are arrays in the same document.
    ParallelArrays { later: String, earlier: String },
    /// A compound key over one shared array would give more than `MAX_KEYS_PER_DOCUMENT`.
    TooManyKeys,
    /// A geo index cannot read the document's geometry: the document and the reason.
    Geo { doc: String, reason: String },
}

/// Keys one document may give one index: a sandbox limit, so that a compound index over two
/// fields of one large array cannot freeze the tab.
pub const MAX_KEYS_PER_DOCUMENT: usize = 100_000;

impl KeyError {
    /// The server's error for a write refused by an index, with the collection's namespace.
    pub fn to_query_error(&self, ns: &str) -> QueryError {
        match self {
            KeyError::Duplicate { index, key } => QueryError::new(
                11000,
                "DuplicateKey",
                format!(
                    "E11000 duplicate key error collection: {ns} index: {index} dup key: {}",
                    server_repr(&Value::Document(key.clone()))
                ),
            ),
            KeyError::ParallelArrays { later, earlier } => QueryError::new(
                171,
                "CannotIndexParallelArrays",
                format!("cannot index parallel arrays [{later}] [{earlier}]"),
            ),
            KeyError::Geo { doc, reason } => QueryError::new(
                16755,
                "Location16755",
                format!("Can't extract geo keys: {doc}  {reason}"),
            ),
            KeyError::TooManyKeys => QueryError::new(
                2,
                "BadValue",
                format!(
                    "(sandbox) a document may give one index at most {MAX_KEYS_PER_DOCUMENT} keys"
                ),
            ),
        }
    }
}

#[derive(Debug)]
pub struct Index {
    pub spec: IndexSpec,
    partial: Option<PartialFilter>,
    entries: BTreeSet<Entry>,
    /// Per field of the key pattern, the path prefixes at which some document had an array
    /// (explain's `multiKeyPaths`).
    multikey_paths: Vec<BTreeSet<String>>,
    /// Running total of `entry_bytes` over the entries, for the collections panel.
    bytes: usize,
    /// For a geo index, a bit per cell level coarser than a leaf that some key has had:
    /// the levels a near search must look up above the cells it reads.
    geo_coarse_levels: u64,
}

fn entry_bytes(key: &Key) -> usize {
    8 + key.values().map(approx_value_bytes).sum::<usize>()
}

impl Index {
    pub fn new(spec: IndexSpec) -> Result<Index, QueryError> {
        let partial = match &spec.partial {
            Some(doc) => Some(PartialFilter {
                doc: doc.clone(),
                filter: Filter::compile(doc)?,
            }),
            None => None,
        };
        let fields = spec.key.len();
        Ok(Index {
            spec,
            partial,
            entries: BTreeSet::new(),
            multikey_paths: vec![BTreeSet::new(); fields],
            bytes: 0,
            geo_coarse_levels: 0,
        })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn is_multikey(&self) -> bool {
        self.multikey_paths.iter().any(|p| !p.is_empty())
    }

    pub fn multikey_paths(&self) -> &[BTreeSet<String>] {
        &self.multikey_paths
    }

    /// Whether a field of the key pattern is multikey.
    pub fn field_is_multikey(&self, field: usize) -> bool {
        self.multikey_paths
            .get(field)
            .is_some_and(|p| !p.is_empty())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Rough size of the index for the collections panel: each entry's key and record id.
    pub fn approx_bytes(&self) -> usize {
        self.entries.iter().map(|(k, _)| entry_bytes(k)).sum()
    }

    /// The keys a document contributes (none when sparse or partial leave it out), sorted and
    /// without repeats, and the multikey paths it reveals.
    pub fn keys_for(&self, doc: &Document) -> Result<(Vec<Key>, Vec<Vec<String>>), KeyError> {
        if let Some(p) = &self.partial {
            if !p.filter.matches(doc) {
                return Ok((Vec::new(), Vec::new()));
            }
        }
        match &self.spec.kind {
            IndexKind::Regular => {}
            IndexKind::Text(text) => {
                let keys = text
                    .term_scores(doc)
                    .into_iter()
                    .map(|(term, score)| {
                        Key::from(vec![
                            KeyPart {
                                value: Value::String(term),
                                descending: false,
                            },
                            KeyPart {
                                value: Value::Double(score),
                                descending: false,
                            },
                        ])
                    })
                    .collect();
                return Ok((keys, Vec::new()));
            }
            IndexKind::Geo { path, sphere } => {
                let Some(v) = geo_value(doc, path) else {
                    return Ok((Vec::new(), Vec::new()));
                };
                let cells = geo::index_cells(!sphere, v).map_err(|reason| KeyError::Geo {
                    doc: server_repr(&Value::Document(doc.clone())),
                    reason,
                })?;
                // A geometry keyed by several cells makes the index multikey, as the server's
                // does: a scan then drops the repeats.
                let arrays = if cells.len() > 1 {
                    vec![vec![path.join(".")]]
                } else {
                    Vec::new()
                };
                let keys = cells
                    .into_iter()
                    .map(|cell| {
                        Key::one(KeyPart {
                            value: Value::Int64(i64::try_from(cell).unwrap_or(i64::MAX)),
                            descending: false,
                        })
                    })
                    .collect();
                return Ok((keys, arrays));
            }
        }
        let mut per_field: Vec<Vec<Value>> = Vec::with_capacity(self.spec.key.len());
        let mut array_paths: Vec<Vec<String>> = Vec::with_capacity(self.spec.key.len());
        let mut any_present = false;
        let mut array_field: Option<usize> = None;
        for (i, field) in self.spec.key.iter().enumerate() {
            let mut values = Vec::new();
            let mut arrays = Vec::new();
            let present = collect_key_values(doc, &field.parts, &mut values, &mut arrays);
            any_present |= present;
            if !arrays.is_empty() {
                // Fields under one shared array (`a.x`, `a.y`) are allowed; two arrays are not.
                match array_field.and_then(|e| array_paths.get(e)) {
                    Some(earlier) if *earlier != arrays => {
                        return Err(KeyError::ParallelArrays {
                            later: last_component(arrays.first()),
                            earlier: last_component(earlier.first()),
                        });
                    }
                    _ => array_field = Some(i),
                }
            }
            if values.is_empty() {
                values.push(Value::Null);
            }
            per_field.push(values);
            array_paths.push(arrays);
        }
        if self.spec.sparse && !any_present {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut keys: Vec<Key> = vec![Key::with_capacity(self.spec.key.len())];
        for (field, values) in self.spec.key.iter().zip(per_field) {
            let descending = field.descending;
            if values.len() == 1 {
                for k in &mut keys {
                    k.push(KeyPart {
                        value: values[0].clone(),
                        descending,
                    });
                }
                continue;
            }
            // Fields under one shared array multiply out: a superset of the pairs MongoDB
            // keeps, so every query the index answers still finds every document.
            if keys.len().saturating_mul(values.len()) > MAX_KEYS_PER_DOCUMENT {
                return Err(KeyError::TooManyKeys);
            }
            let mut expanded = Vec::with_capacity(keys.len() * values.len());
            for k in &keys {
                for v in &values {
                    let mut nk = k.clone();
                    nk.push(KeyPart {
                        value: v.clone(),
                        descending,
                    });
                    expanded.push(nk);
                }
            }
            keys = expanded;
        }
        crate::sort::sort(&mut keys);
        keys.dedup();
        Ok((keys, array_paths))
    }

    /// Whether any of these keys is already held by a record other than `rid`.
    pub fn duplicate_of<'k>(&self, keys: &'k [Key], rid: RecordId) -> Option<&'k Key> {
        if !self.spec.unique {
            return None;
        }
        keys.iter().find(|k| {
            self.scan(entry_range(k), false)
                .any(|(_, other)| *other != rid)
        })
    }

    /// The `dup key` document of a duplicate: each field's name and the key's value.
    pub fn dup_key_doc(&self, key: &Key) -> Document {
        self.spec
            .key
            .iter()
            .zip(key.values())
            .map(|(f, v)| (f.path.clone(), v.clone()))
            .collect()
    }

    pub fn add(&mut self, keys: Vec<Key>, arrays: &[Vec<String>], rid: RecordId) {
        for (paths, found) in self.multikey_paths.iter_mut().zip(arrays) {
            for p in found {
                paths.insert(p.clone());
            }
        }
        if matches!(self.spec.kind, IndexKind::Geo { .. }) {
            for k in &keys {
                if let Some(Value::Int64(cell)) = k.value(0) {
                    let level = geocell::level(u64::try_from(*cell).unwrap_or(0));
                    if level < geocell::MAX_LEVEL {
                        self.geo_coarse_levels |= 1 << level;
                    }
                }
            }
        }
        for k in keys {
            let size = entry_bytes(&k);
            if self.entries.insert((k, rid)) {
                self.bytes += size;
            }
        }
    }

    pub fn remove(&mut self, keys: &[Key], rid: RecordId) {
        for k in keys {
            if self.entries.remove(&(k.clone(), rid)) {
                self.bytes = self.bytes.saturating_sub(entry_bytes(k));
            }
        }
    }

    /// The record ids whose key equals `key` (for `_id` lookups).
    pub fn lookup(&self, key: &Key) -> impl Iterator<Item = RecordId> + '_ {
        self.scan(entry_range(key), false).map(|(_, rid)| *rid)
    }

    /// The entries within `range`, in index order or backwards. One descent of the tree
    /// finds the first of them and the walk stops at the far bound: `BTreeSet::range`
    /// descends once per bound, twice the comparisons for the few entries an equality
    /// reads (and it panics on bounds out of order, which here give nothing).
    pub fn scan<'a>(
        &'a self,
        range: (Bound<Entry>, Bound<Entry>),
        backward: bool,
    ) -> Box<dyn Iterator<Item = &'a Entry> + 'a> {
        let (lo, hi) = range;
        if backward {
            let from = self.entries.range((Bound::Unbounded, hi));
            Box::new(from.rev().take_while(move |e| match &lo {
                Bound::Included(b) => *e >= b,
                Bound::Excluded(b) => *e > b,
                Bound::Unbounded => true,
            }))
        } else {
            let from = self.entries.range((lo, Bound::Unbounded));
            Box::new(from.take_while(move |e| match &hi {
                Bound::Included(b) => *e <= b,
                Bound::Excluded(b) => *e < b,
                Bound::Unbounded => true,
            }))
        }
    }

    /// For a geo index, a bit per coarser-than-leaf cell level its keys have used.
    pub fn geo_coarse_levels(&self) -> u64 {
        self.geo_coarse_levels
    }

    /// The entries in index order from `start` (inclusive or not) onwards, or backwards.
    pub fn entries(&self) -> &BTreeSet<Entry> {
        &self.entries
    }
}

/// The value a geo index reads: the field itself, arrays taken whole (a legacy pair and a
/// GeoJSON object's coordinates are arrays).
pub fn geo_value<'d>(doc: &'d Document, path: &[String]) -> Option<&'d Value> {
    let (first, rest) = path.split_first()?;
    let mut v = doc.get(first)?;
    for p in rest {
        v = match v {
            Value::Document(d) => d.get(p)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The position and document of a record an index entry points at, counted as one
/// document examined (how the text and geo scans fetch).
pub fn fetch<'c>(
    coll: &'c crate::mongo::store::Collection,
    rid: RecordId,
    stats: &mut plan::Stats,
) -> Option<(usize, &'c Document)> {
    let pos = coll.position_of(rid)?;
    let doc = coll.docs.get(pos)?;
    stats.keys_passed += 1;
    stats.docs_examined += 1;
    Some((pos, doc))
}

/// The entries whose key is exactly `key`, whatever their record id.
fn entry_range(key: &Key) -> (Bound<Entry>, Bound<Entry>) {
    (
        Bound::Included((key.clone(), RecordId::MIN)),
        Bound::Included((key.clone(), RecordId::MAX)),
    )
}

fn last_component(path: Option<&String>) -> String {
    path.and_then(|p| p.rsplit('.').next())
        .unwrap_or_default()
        .to_string()
}

/// Collects the values a key path reaches in a document, expanding arrays into their
/// elements (an empty array gives `undefined`, as MongoDB indexes it), and the path prefixes
/// where arrays were met. Returns whether the path reached anything at all.
fn collect_key_values(
    doc: &Document,
    parts: &[String],
    out: &mut Vec<Value>,
    arrays: &mut Vec<String>,
) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return false;
    };
    match doc.get(first) {
        Some(v) => {
            collect_from_value(v, rest, first.clone(), out, arrays);
            true
        }
        None => false,
    }
}

fn collect_from_value(
    v: &Value,
    rest: &[String],
    at: String,
    out: &mut Vec<Value>,
    arrays: &mut Vec<String>,
) {
    match (v, rest.split_first()) {
        (Value::Array(items), None) => {
            if !arrays.contains(&at) {
                arrays.push(at);
            }
            if items.is_empty() {
                out.push(Value::Undefined);
            }
            out.extend(items.iter().cloned());
        }
        (other, None) => out.push(other.clone()),
        (Value::Document(d), Some((next, more))) => {
            if let Some(inner) = d.get(next) {
                collect_from_value(inner, more, format!("{at}.{next}"), out, arrays);
            }
        }
        (Value::Array(items), Some((next, more))) => {
            if !arrays.contains(&at) {
                arrays.push(at.clone());
            }
            if let Some(i) = crate::mongo::query::filter::array_index(next) {
                if let Some(item) = items.get(i) {
                    collect_from_value(item, more, format!("{at}.{next}"), out, arrays);
                }
            }
            for item in items {
                if let Value::Document(d) = item {
                    if let Some(inner) = d.get(next) {
                        collect_from_value(inner, more, format!("{at}.{next}"), out, arrays);
                    }
                }
            }
        }
        _ => {}
    }
}

fn approx_value_bytes(v: &Value) -> usize {
    match v {
        Value::String(s) => 5 + s.len(),
        Value::Document(d) => {
            5 + d
                .iter()
                .map(|(k, v)| k.len() + approx_value_bytes(v))
                .sum::<usize>()
        }
        Value::Array(items) => 5 + items.iter().map(approx_value_bytes).sum::<usize>(),
        Value::ObjectId(_) => 12,
        Value::Int32(_) => 4,
        Value::Bool(_) | Value::Null | Value::Undefined | Value::MinKey | Value::MaxKey => 1,
        _ => 8,
    }
}

#[cfg(test)]
mod tests;
