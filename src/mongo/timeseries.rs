//! Time series collections: `createCollection(name, {timeseries: {timeField, metaField,
//! granularity}, expireAfterSeconds})`.
//!
//! The server stores measurements in buckets and unpacks them when read; a lesson sees the
//! unpacked documents, so the sandbox keeps each measurement as one document, in the field
//! order the server's unpacking gives (the time field, the meta field, the other fields, then
//! `_id`, as the manual's `findOne` example prints it). Inserts check the time field as the
//! server does; `expireAfterSeconds` deletes measurements on the virtual clock, with the TTL
//! monitor. `listCollections` shows the collection as type `timeseries` next to the
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
        for field in std::iter::once(&self.time_field).chain(self.meta_field.as_ref()) {
            if let Some(v) = doc.shift_remove(field) {
                out.insert(field.clone(), v);
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
