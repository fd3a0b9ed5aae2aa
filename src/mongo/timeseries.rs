//! Time series collections: `createCollection(name, {timeseries: {timeField, metaField,
//! granularity}, expireAfterSeconds})`.
//!
//! The server stores measurements in buckets and unpacks them when read; a lesson sees the
//! unpacked documents, so the sandbox keeps each measurement as one document, in the field
//! order the server's unpacking gives (the time field, the meta field, the other fields, then
//! `_id`, as the manual's `findOne` example prints it), and builds the bucket documents
//! from them when `system.buckets.<name>` is read (`buckets`). Inserts check the time field
//! as the server does, and updates are limited as MongoDB 7.0 limits them (`check_update`);
//! `expireAfterSeconds` deletes measurements on the virtual clock, with the TTL monitor.
//! `listCollections` shows the collection as type `timeseries` next to the
//! `system.buckets.<name>` collection and `system.views` the server creates for it.

use super::store::{Collection, Store};
use super::value::{Document, Value};

/// Bucketing granularity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Granularity {
    Seconds,
    Minutes,
    Hours,
}

impl Granularity {
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Seconds => "seconds",
            Granularity::Minutes => "minutes",
            Granularity::Hours => "hours",
        }
    }

    /// `bucketMaxSpanSeconds` for the granularity.
    pub fn max_span_secs(self) -> i32 {
        match self {
            Granularity::Seconds => 3600,
            Granularity::Minutes => 86_400,
            Granularity::Hours => 2_592_000,
        }
    }

    /// `bucketRoundingSeconds` for the granularity.
    pub fn rounding_secs(self) -> i32 {
        match self {
            Granularity::Seconds => 60,
            Granularity::Minutes => 3600,
            Granularity::Hours => 86_400,
        }
    }

    pub fn from_byte(b: u8) -> Option<Granularity> {
        match b {
            0 => Some(Granularity::Seconds),
            1 => Some(Granularity::Minutes),
            2 => Some(Granularity::Hours),
            _ => None,
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Granularity::Seconds => 0,
            Granularity::Minutes => 1,
            Granularity::Hours => 2,
        }
    }
}

/// A time series collection's options.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    pub time_field: String,
    pub meta_field: Option<String>,
    pub granularity: Granularity,
    /// Seconds after its time a measurement is deleted (`expireAfterSeconds`).
    pub expire_after_secs: Option<i64>,
}

/// A refused `create`: code, code name, message.
pub type CreateError = (i32, &'static str, String);

fn field_name(v: &Value, field: &str) -> Result<String, CreateError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err((
            14,
            "TypeMismatch",
            format!(
                "BSON field 'create.timeseries.{field}' is the wrong type '{}', expected type 'string'",
                other.type_name()
            ),
        )),
    }
}

impl TimeSeries {
    /// The `timeseries` option of `create` (and its `expireAfterSeconds`).
    pub fn parse(spec: &Value, expire: Option<&Value>) -> Result<TimeSeries, CreateError> {
        let Value::Document(spec) = spec else {
            return Err((
                14,
                "TypeMismatch",
                format!(
                    "BSON field 'create.timeseries' is the wrong type '{}', expected type 'object'",
                    spec.type_name()
                ),
            ));
        };
        let (mut time_field, mut meta_field, mut granularity) = (None, None, None);
        for (k, v) in spec {
            match k.as_str() {
                "timeField" => time_field = Some(field_name(v, k)?),
                "metaField" => meta_field = Some(field_name(v, k)?),
                "granularity" => {
                    let name = field_name(v, k)?;
                    granularity = Some(match name.as_str() {
                        "seconds" => Granularity::Seconds,
                        "minutes" => Granularity::Minutes,
                        "hours" => Granularity::Hours,
                        other => {
                            return Err((
                                2,
                                "BadValue",
                                format!(
                                    "Enumeration value '{other}' for field \
                                     'create.timeseries.granularity' is not a valid value."
                                ),
                            ))
                        }
                    });
                }
                other => {
                    return Err((
                        40415,
                        "Location40415",
                        format!("BSON field 'create.timeseries.{other}' is an unknown field."),
                    ))
                }
            }
        }
        let Some(time_field) = time_field else {
            return Err((
                40414,
                "Location40414",
                "BSON field 'create.timeseries.timeField' is missing but a required field".into(),
            ));
        };
        if meta_field.as_deref() == Some(time_field.as_str()) {
            return Err((
                72,
                "InvalidOptions",
                "The 'metaField' field cannot be the same as the 'timeField' field".into(),
            ));
        }
        let expire_after_secs = match expire {
            None => None,
            Some(v) if v.is_number() => {
                let secs = crate::mongo::query::filter::number_f64(v);
                if !(secs >= 0.0 && secs <= i64::MAX as f64) {
                    return Err((
                        72,
                        "InvalidOptions",
                        "TTL index 'expireAfterSeconds' option must be within an acceptable \
                         range, try a lower number"
                            .into(),
                    ));
                }
                Some(secs as i64)
            }
            Some(v) => {
                return Err((
                    14,
                    "TypeMismatch",
                    format!(
                        "BSON field 'create.expireAfterSeconds' is the wrong type '{}', expected types '[long, int, decimal, double]'",
                        v.type_name()
                    ),
                ))
            }
        };
        Ok(TimeSeries {
            time_field,
            meta_field,
            granularity: granularity.unwrap_or(Granularity::Seconds),
            expire_after_secs,
        })
    }

    /// `collMod` of a time series collection: `expireAfterSeconds` (a number of seconds, or
    /// `"off"`) and a coarser `timeseries.granularity`. False for other fields.
    pub fn modify(&mut self, key: &str, v: &Value) -> Result<bool, CreateError> {
        match (key, v) {
            ("expireAfterSeconds", Value::String(s)) if s == "off" => {
                self.expire_after_secs = None;
            }
            ("expireAfterSeconds", Value::String(s)) => {
                return Err((
                    72,
                    "InvalidOptions",
                    format!("Invalid string value for the 'clusteredIndex::expireAfterSeconds' option. Got: '{s}'. Accepted value is 'off'"),
                ))
            }
            ("expireAfterSeconds", v) => {
                let parsed = TimeSeries::parse(
                    &Value::Document(self.spec_document()),
                    Some(v),
                )?;
                self.expire_after_secs = parsed.expire_after_secs;
            }
            ("timeseries", Value::Document(d)) => {
                for (k, g) in d {
                    if k != "granularity" {
                        return Err((
                            72,
                            "InvalidOptions",
                            format!("Invalid option for timeseries collMod: '{k}'"),
                        ));
                    }
                    let mut spec = self.spec_document();
                    spec.insert("granularity".into(), g.clone());
                    let target = TimeSeries::parse(&Value::Document(spec), None)?.granularity;
                    if target.byte() < self.granularity.byte() {
                        return Err((
                            72,
                            "InvalidOptions",
                            "Invalid transition for timeseries.granularity. Can only \
                             transition from 'seconds' to 'minutes' or 'minutes' to 'hours'."
                                .into(),
                        ));
                    }
                    self.granularity = target;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The `timeseries` document as `create` takes it.
    fn spec_document(&self) -> Document {
        let mut d = Document::default();
        d.insert("timeField".into(), Value::String(self.time_field.clone()));
        if let Some(m) = &self.meta_field {
            d.insert("metaField".into(), Value::String(m.clone()));
        }
        d.insert(
            "granularity".into(),
            Value::String(self.granularity.name().into()),
        );
        d
    }

    /// What `listCollections` shows under `options`.
    pub fn options_document(&self) -> Document {
        let mut ts = self.spec_document();
        ts.insert(
            "bucketMaxSpanSeconds".into(),
            Value::Int32(self.granularity.max_span_secs()),
        );
        let mut d = Document::default();
        d.insert("timeseries".into(), Value::Document(ts));
        if let Some(secs) = self.expire_after_secs {
            d.insert("expireAfterSeconds".into(), Value::Int64(secs));
        }
        d
    }

    /// Checks a measurement and puts its fields in the order reads return them; the error
    /// is the server's message.
    pub fn prepare(&self, doc: Document) -> Result<Document, String> {
        if !matches!(doc.get(&self.time_field), Some(Value::Date(_))) {
            return Err(format!(
                "'{}' must be present and contain a valid BSON UTC datetime value",
                self.time_field
            ));
        }
        let mut doc = doc;
        let mut out = Document::default();
        if let Some(v) = doc.shift_remove(&self.time_field) {
            out.insert(self.time_field.clone(), v);
        }
        // Reads take the meta value from the bucket, where it is stored normalized.
        if let Some(meta) = &self.meta_field {
            if let Some(v) = doc.shift_remove(meta) {
                out.insert(meta.clone(), normalize_meta(&v));
            }
        }
        let id = doc.shift_remove("_id");
        for (k, v) in doc {
            out.insert(k, v);
        }
        if let Some(id) = id {
            out.insert("_id".into(), id);
        }
        Ok(out)
    }
}

/// When a time series collection's `expireAfterSeconds` lets a measurement expire, in
/// sandbox milliseconds (for the page's countdown).
pub fn expires_at(coll: &Collection, doc: &Document) -> Option<f64> {
    let ts = coll.options.timeseries.as_ref()?;
    let secs = ts.expire_after_secs?;
    match doc.get(&ts.time_field) {
        Some(Value::Date(t)) => Some(*t as f64 + secs as f64 * 1000.0),
        _ => None,
    }
}

/// Deletes the measurements whose time is more than `expireAfterSeconds` before `now_ms`
/// (the TTL monitor calls it on its pass); returns how many.
pub fn expire_collection(coll: &mut Collection, now_ms: u64) -> usize {
    let Some(ts) = coll.options.timeseries.clone() else {
        return 0;
    };
    let Some(secs) = ts.expire_after_secs else {
        return 0;
    };
    let cutoff = now_ms as i128 - i128::from(secs) * 1000;
    let expired: Vec<usize> = coll
        .docs
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            matches!(d.get(&ts.time_field), Some(Value::Date(t)) if i128::from(*t) < cutoff)
                && !coll.is_locked(d)
        })
        .map(|(i, _)| i)
        .collect();
    for &i in expired.iter().rev() {
        coll.remove(i);
    }
    expired.len()
}

/// The names `listCollections` gives for database `db`: its collections, and for each time
/// series collection the `system.buckets.<name>` collection and `system.views`.
pub fn collection_names(store: &Store, db: &str) -> Vec<(String, Option<&'static str>)> {
    let Some(database) = store.databases.get(db) else {
        return Vec::new();
    };
    let mut names: Vec<(String, Option<&'static str>)> = Vec::new();
    for (name, c) in &database.collections {
        let of_time_series = name.strip_prefix(BUCKETS_PREFIX).is_some_and(|base| {
            database
                .collections
                .get(base)
                .is_some_and(|b| b.options.timeseries.is_some())
        });
        if of_time_series {
            // A read's bucket documents (`shell::buckets`): listed below with their
            // time series collection.
            continue;
        }
        if c.options.timeseries.is_some() {
            names.push((name.clone(), Some("[time-series]")));
            names.push((format!("system.buckets.{name}"), None));
        } else {
            names.push((name.clone(), None));
        }
    }
    if database
        .collections
        .values()
        .any(|c| c.options.timeseries.is_some())
    {
        names.push(("system.views".into(), None));
    }
    crate::sort::sort(&mut names);
    names
}

/// `show collections` as mongosh prints it: a table of names and badges (`[time-series]`),
/// system collections last, trailing spaces trimmed.
pub fn show_collections(names: &[(String, Option<&'static str>)]) -> String {
    let (system, other): (Vec<_>, Vec<_>) =
        names.iter().partition(|(n, _)| n.starts_with("system."));
    let width = names
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    other
        .into_iter()
        .chain(system)
        .map(|(n, badge)| match badge {
            Some(b) => format!("{n:<width$}  {b}"),
            None => n.clone(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A write a time series collection refuses, in MongoDB 7.0's words (all `InvalidOptions`,
/// reported as write errors).
pub type WriteRefusal = String;

impl TimeSeries {
    /// Whether MongoDB 7.0 runs this update on the collection. Updates there may only
    /// touch the meta field: they must be multi, not upserts, filter on the meta field
    /// alone and change it alone, with update operators (arbitrary updates came with 8.0).
    /// The checks run in the server's order.
    pub fn check_update(
        &self,
        filter: &Document,
        update: &Value,
        multi: bool,
        upsert: bool,
    ) -> Result<(), WriteRefusal> {
        let Some(meta) = self.meta_field.as_deref() else {
            return Err(
                "Cannot perform an update on a time-series collection that does not have a \
                 metaField"
                    .into(),
            );
        };
        if !multi {
            return Err("Cannot perform a non-multi update on a time-series collection".into());
        }
        if upsert {
            return Err("Cannot perform an upsert on a time-series collection".into());
        }
        for (k, v) in filter {
            check_query_field(k, v, true, meta)?;
        }
        let ops = match update {
            Value::Array(_) => {
                return Err(
                    "Cannot perform an update on a time-series collection using a pipeline \
                     update"
                        .into(),
                )
            }
            Value::Document(d) if d.keys().all(|k| k.starts_with('$')) => d,
            _ => {
                return Err(
                    "Cannot perform an update on a time-series collection using a \
                     replacement document"
                        .into(),
                )
            }
        };
        let not_meta = || {
            format!(
                "Cannot perform an update on a time-series collection which updates a field \
                 that is not the metaField '{meta}'"
            )
        };
        for (op, fields) in ops {
            let Value::Document(fields) = fields else {
                continue;
            };
            for (path, v) in fields {
                if !on_field(path, meta) {
                    return Err(not_meta());
                }
                let renamed_to_meta = matches!(v, Value::String(to) if on_field(to, meta));
                if op == "$rename" && !renamed_to_meta {
                    return Err(not_meta());
                }
            }
        }
        Ok(())
    }
}

/// MongoDB 7.0's answer to `findAndModify` (`findOneAndUpdate`, `findOneAndReplace`,
/// `findOneAndDelete`) on a time series collection: the command takes a collection lock,
/// which a time series collection (a view over its buckets) refuses before the command looks
/// at its query or update. 7.1 runs them (deletes, then updates, arrived with arbitrary
/// time series writes).
pub fn find_and_modify_refusal(db: &str, coll: &str) -> CreateError {
    (
        166,
        "CommandNotSupportedOnView",
        format!("Taking {db}.{coll} lock for timeseries is not allowed"),
    )
}

/// Whether a dotted path starts at field `meta`.
fn on_field(path: &str, meta: &str) -> bool {
    path.split('.').next() == Some(meta)
}

/// The server's walk over an update's filter: `$expr` and `$where` are refused anywhere,
/// and every field name at the top of the filter, or of a document inside an operator's
/// array (`$and: [{…}]`), must be on the meta field.
fn check_query_field(
    name: &str,
    v: &Value,
    top_level: bool,
    meta: &str,
) -> Result<(), WriteRefusal> {
    if name == "$expr" || name == "$where" {
        return Err(format!(
            "Cannot use {name} when performing an update or delete on a time-series collection"
        ));
    }
    if top_level && !name.starts_with('$') && !on_field(name, meta) {
        return Err(format!(
            "Cannot perform an update or delete on a time-series collection when querying on \
             a field that is not the metaField '{meta}'"
        ));
    }
    match v {
        Value::Document(d) => {
            for (k, v) in d {
                check_query_field(k, v, false, meta)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Value::Document(d) = item {
                    for (k, v) in d {
                        check_query_field(k, v, true, meta)?;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The most measurements MongoDB puts in one bucket.
const BUCKET_MAX_COUNT: usize = 1000;

/// The prefix of a time series collection's buckets collection.
pub const BUCKETS_PREFIX: &str = "system.buckets.";

/// A meta value as the bucket catalog keys and stores it: the fields of every embedded
/// document sorted by name (so `{b, a}` and `{a, b}` share buckets).
fn normalize_meta(v: &Value) -> Value {
    match v {
        Value::Document(d) => {
            let mut fields: Vec<(&String, &Value)> = d.iter().collect();
            fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            Value::Document(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.clone(), normalize_meta(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(normalize_meta).collect()),
        other => other.clone(),
    }
}

/// Folds `v` into a running minimum or maximum as the bucket catalog does: embedded
/// documents field by field and arrays element by element, other values by BSON order.
fn fold_extreme(slot: &mut Value, v: &Value, keep: std::cmp::Ordering) {
    match (&mut *slot, v) {
        (Value::Document(cur), Value::Document(new)) => {
            for (k, nv) in new {
                match cur.get_mut(k) {
                    Some(cv) => fold_extreme(cv, nv, keep),
                    None => {
                        cur.insert(k.clone(), nv.clone());
                    }
                }
            }
        }
        (Value::Array(cur), Value::Array(new)) => {
            for (i, nv) in new.iter().enumerate() {
                match cur.get_mut(i) {
                    Some(cv) => fold_extreme(cv, nv, keep),
                    None => cur.push(nv.clone()),
                }
            }
        }
        (cur, new) => {
            if super::value::compare(new, cur) == keep {
                *cur = new.clone();
            }
        }
    }
}

struct Bucket<'a> {
    meta: Option<Value>,
    min_ms: i64,
    measurements: Vec<&'a Document>,
}

/// The bucket documents of a time series collection, as `db.system.buckets.<name>.find()`
/// shows them on MongoDB 7.0: uncompressed (`control.version: 1`), one column per field
/// under `data` keyed by each measurement's position, `control.min` / `control.max` per
/// field, the time's minimum rounded down to the granularity. Measurements go, in the
/// order they were inserted, to a bucket of their meta value whose span covers their time
/// and that holds fewer than 1000 of them, else to a new one (the server's catalog also
/// closes buckets at 125 KB, and compresses closed buckets to `version: 2`; the sandbox
/// does neither). A bucket's `_id` carries its minimum time, as the server's does; its
/// other bytes are the sandbox's own.
pub fn buckets(coll: &Collection) -> Vec<Document> {
    let Some(ts) = coll.options.timeseries.as_ref() else {
        return Vec::new();
    };
    let rounding = i64::from(ts.granularity.rounding_secs()) * 1000;
    let span = i64::from(ts.granularity.max_span_secs()) * 1000;
    let mut open: Vec<Bucket> = Vec::new();
    // Each meta value's buckets (positions in `open`), so that a collection with many
    // series is not scanned once per measurement.
    let mut by_meta: std::collections::BTreeMap<super::index::KeyPart, Vec<usize>> =
        std::collections::BTreeMap::new();
    for doc in &coll.docs {
        let Some(Value::Date(t)) = doc.get(&ts.time_field) else {
            continue;
        };
        let meta = ts
            .meta_field
            .as_ref()
            .and_then(|m| doc.get(m))
            .map(normalize_meta);
        let fits = |b: &Bucket| {
            b.meta == meta
                && b.min_ms <= *t
                && t.saturating_sub(b.min_ms) < span
                && b.measurements.len() < BUCKET_MAX_COUNT
        };
        let series = by_meta
            .entry(super::index::KeyPart {
                value: meta.clone().unwrap_or(Value::Undefined),
                descending: false,
            })
            .or_default();
        let found = series
            .iter()
            .rev()
            .copied()
            .find(|&i| open.get(i).is_some_and(fits));
        match found.and_then(|i| open.get_mut(i)) {
            Some(b) => b.measurements.push(doc),
            None => {
                series.push(open.len());
                open.push(Bucket {
                    meta,
                    min_ms: t.div_euclid(rounding).checked_mul(rounding).unwrap_or(*t),
                    measurements: vec![doc],
                });
            }
        }
    }
    // The buckets collection is clustered by `_id` (minimum time first): its natural order.
    let mut order: Vec<(usize, &Bucket)> = open.iter().enumerate().collect();
    crate::sort::sort_by_key(&mut order, |(n, b)| (b.min_ms.div_euclid(1000), *n));
    order
        .into_iter()
        .map(|(n, b)| bucket_document(ts, b, n))
        .collect()
}

fn bucket_document(ts: &TimeSeries, b: &Bucket, n: usize) -> Document {
    let mut data = Document::default();
    let mut min = Document::default();
    let mut max = Document::default();
    for (i, m) in b.measurements.iter().enumerate() {
        for (k, v) in m.iter() {
            if Some(k) == ts.meta_field.as_ref() {
                continue;
            }
            if let Value::Document(column) = data
                .entry(k.clone())
                .or_insert_with(|| Value::Document(Document::default()))
            {
                column.insert(i.to_string(), v.clone());
            }
            match min.get_mut(k) {
                Some(cur) => fold_extreme(cur, v, std::cmp::Ordering::Less),
                None => {
                    min.insert(k.clone(), v.clone());
                }
            }
            match max.get_mut(k) {
                Some(cur) => fold_extreme(cur, v, std::cmp::Ordering::Greater),
                None => {
                    max.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if let Some(t) = min.get_mut(&ts.time_field) {
        *t = Value::Date(b.min_ms);
    }
    let mut control = Document::default();
    control.insert("version".into(), Value::Int32(1));
    control.insert("min".into(), Value::Document(min));
    control.insert("max".into(), Value::Document(max));
    let mut oid = [0u8; 12];
    let secs = b.min_ms.div_euclid(1000) as u32;
    oid[..4].copy_from_slice(&secs.to_be_bytes());
    oid[8..].copy_from_slice(&(n as u32).to_be_bytes());
    let mut out = Document::default();
    out.insert("_id".into(), Value::ObjectId(super::value::ObjectId(oid)));
    out.insert("control".into(), Value::Document(control));
    if let Some(meta) = &b.meta {
        out.insert("meta".into(), meta.clone());
    }
    out.insert("data".into(), Value::Document(data));
    out
}
