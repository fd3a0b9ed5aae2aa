//! Collection definitions: `db.createCollection(name, options)`, `db.getCollectionInfos()`
//! and `db.runCommand({create | collMod: …})` — validators, validation level and action,
//! capped collections.

use super::eval::{Js, Session};
use super::ShellError;
use crate::mongo::query::filter::Filter;
use crate::mongo::store::{Capped, CollectionOptions, ValidationAction, ValidationLevel};
use crate::mongo::timeseries::TimeSeries;
use crate::mongo::value::{Document, Value};

fn server_error(code: i32, code_name: &'static str, message: impl Into<String>) -> ShellError {
    ShellError::server(code, Some(code_name), message)
}

fn ok() -> Js {
    let mut d = Document::default();
    d.insert("ok".into(), Value::Int32(1));
    Js::Val(Value::Document(d))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int32(i) => Some(f64::from(*i)),
        Value::Int64(i) => Some(*i as f64),
        Value::Double(x) => Some(*x),
        Value::Decimal128(d) => Some(d.to_f64()),
        _ => None,
    }
}

/// Applies `validator`, `validationLevel` and `validationAction` from a create or collMod
/// command to `options`; `command` names the command in error messages.
fn apply_validation(
    options: &mut CollectionOptions,
    key: &str,
    v: &Value,
    command: &str,
) -> Result<bool, ShellError> {
    let enumeration = |s: &str| {
        server_error(
            2,
            "BadValue",
            format!("Enumeration value '{s}' for field '{command}.{key}' is not a valid value."),
        )
    };
    let wrong_type = || {
        server_error(
            14,
            "TypeMismatch",
            format!(
                "BSON field '{command}.{key}' is the wrong type '{}', expected type 'string'",
                v.type_name()
            ),
        )
    };
    match key {
        "validator" => {
            let Value::Document(d) = v else {
                return Err(server_error(
                    14,
                    "TypeMismatch",
                    format!(
                        "BSON field '{command}.validator' is the wrong type '{}', expected type 'object'",
                        v.type_name()
                    ),
                ));
            };
            Filter::compile(d).map_err(ShellError::from)?;
            options.validator = if d.is_empty() { None } else { Some(d.clone()) };
        }
        "validationLevel" | "validationAction" => {
            let Value::String(s) = v else {
                return Err(wrong_type());
            };
            match (key, s.as_str()) {
                ("validationLevel", "strict") => options.validation_level = ValidationLevel::Strict,
                ("validationLevel", "moderate") => {
                    options.validation_level = ValidationLevel::Moderate
                }
                ("validationLevel", "off") => options.validation_level = ValidationLevel::Off,
                ("validationAction", "error") => {
                    options.validation_action = ValidationAction::Error
                }
                ("validationAction", "warn") => options.validation_action = ValidationAction::Warn,
                (_, other) => return Err(enumeration(other)),
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The options document `listCollections` shows: what was set, with the validation
/// defaults filled in once a validator exists.
/// (Also what the mongosh export passes to `createCollection`.)
pub(crate) fn options_document(o: &CollectionOptions) -> Document {
    let mut d = Document::default();
    if let Some(c) = o.capped {
        d.insert("capped".into(), Value::Bool(true));
        d.insert("size".into(), int(c.size as i64));
        if let Some(max) = c.max {
            d.insert("max".into(), int(max as i64));
        }
    }
    if let Some(v) = &o.validator {
        d.insert("validator".into(), Value::Document(v.clone()));
        let level = match o.validation_level {
            ValidationLevel::Strict => "strict",
            ValidationLevel::Moderate => "moderate",
            ValidationLevel::Off => "off",
        };
        let action = match o.validation_action {
            ValidationAction::Error => "error",
            ValidationAction::Warn => "warn",
        };
        d.insert("validationLevel".into(), Value::String(level.into()));
        d.insert("validationAction".into(), Value::String(action.into()));
    }
    if let Some(ts) = &o.timeseries {
        d.extend(ts.options_document());
    }
    d
}

fn int(i: i64) -> Value {
    i32::try_from(i).map_or(Value::Int64(i), Value::Int32)
}

/// A collection's UUID: fixed by its namespace, so that a session replays identically. Its
/// own FNV-1a, so that tuning the documents' field hasher never changes it.
pub(super) fn collection_uuid(db: &str, coll: &str) -> Value {
    let mut bytes = [0u8; 16];
    for (half, salt) in bytes.chunks_mut(8).zip([1u8, 2]) {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in db.bytes().chain([b'.']).chain(coll.bytes()).chain([salt]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        half.copy_from_slice(&h.to_be_bytes());
    }
    bytes[6] = bytes[6] & 0x0f | 0x40;
    bytes[8] = bytes[8] & 0x3f | 0x80;
    Value::Binary {
        subtype: 4,
        bytes: bytes.to_vec(),
    }
}

impl Session {
    /// `db.createCollection(name, options)` and `db.runCommand({create: name, …})`.
    pub(super) fn create_collection(
        &mut self,
        name: &str,
        spec: &Document,
    ) -> Result<Js, ShellError> {
        let db = self.db.clone();
        if name.is_empty() || name.contains('$') || name.contains('\0') {
            return Err(server_error(
                73,
                "InvalidNamespace",
                format!("Invalid collection name: {name}"),
            ));
        }
        if self.store.collection(&db, name).is_some() {
            return Err(server_error(
                48,
                "NamespaceExists",
                format!("Collection {db}.{name} already exists."),
            ));
        }
        let mut options = CollectionOptions::default();
        let (mut capped, mut size, mut max) = (false, None, None);
        let expire = spec.get("expireAfterSeconds");
        for (k, v) in spec {
            if apply_validation(&mut options, k, v, "create")? {
                continue;
            }
            match k.as_str() {
                "timeseries" => {
                    let ts = TimeSeries::parse(v, expire)
                        .map_err(|(code, name, message)| server_error(code, name, message))?;
                    options.timeseries = Some(ts);
                }
                "expireAfterSeconds" => {
                    if !spec.contains_key("timeseries") {
                        return Err(server_error(
                            72,
                            "InvalidOptions",
                            "'expireAfterSeconds' requires clustering to be enabled",
                        ));
                    }
                }
                "capped" => {
                    capped = matches!(v, Value::Bool(true)) || number(v).is_some_and(|x| x != 0.0)
                }
                "size" => size = number(v),
                "max" => max = number(v),
                _ => {
                    return Err(server_error(
                        40415,
                        "Location40415",
                        format!("BSON field 'create.{k}' is an unknown field."),
                    ))
                }
            }
        }
        if capped {
            let Some(size) = size.filter(|s| *s > 0.0) else {
                return Err(server_error(
                    72,
                    "InvalidOptions",
                    "the 'size' field is required when 'capped' is true",
                ));
            };
            // The server rounds a capped collection's size up to a multiple of 256 bytes.
            let size = (size.min(1e15) as u64).div_ceil(256) * 256;
            options.capped = Some(Capped {
                size,
                max: max.filter(|m| *m > 0.0).map(|m| m.min(1e15) as u64),
            });
        }
        let ts_index = options.timeseries.as_ref().and_then(|ts| {
            // Since 6.3 the server indexes a new time series collection on its meta and
            // time fields.
            let meta = ts.meta_field.as_ref()?;
            let mut key = Document::default();
            key.insert(meta.clone(), Value::Int32(1));
            key.insert(ts.time_field.clone(), Value::Int32(1));
            crate::mongo::index::IndexSpec::parse(&key, &Document::default()).ok()
        });
        let collection = self.store.collection_mut(&db, name);
        collection.options = options;
        if let Some(spec) = ts_index {
            // An empty collection takes any index its spec allows.
            let _ = collection.create_index(spec, &format!("{db}.{name}"));
        }
        Ok(ok())
    }

    /// `db.runCommand({collMod: name, validator, validationLevel, validationAction})`.
    fn coll_mod(&mut self, name: &str, spec: &Document) -> Result<Js, ShellError> {
        let db = self.db.clone();
        let Some(current) = self.store.collection(&db, name).map(|c| c.options.clone()) else {
            return Err(server_error(26, "NamespaceNotFound", "ns does not exist"));
        };
        let mut options = current;
        for (k, v) in spec.iter().skip(1) {
            if let Some(ts) = options.timeseries.as_mut() {
                let changed = ts
                    .modify(k, v)
                    .map_err(|(code, name, message)| server_error(code, name, message))?;
                if changed {
                    continue;
                }
            }
            if !apply_validation(&mut options, k, v, "collMod")? {
                return Err(server_error(
                    40415,
                    "Location40415",
                    format!("BSON field 'collMod.{k}' is an unknown field."),
                ));
            }
        }
        self.store.collection_mut(&db, name).options = options;
        Ok(ok())
    }

    /// `db.runCommand(command)` for the collection commands the sandbox knows.
    pub(super) fn run_command(&mut self, command: Option<Js>) -> Result<Js, ShellError> {
        let spec = match command {
            Some(Js::Val(Value::Document(d))) => d,
            Some(Js::Val(Value::String(name))) => {
                let mut d = Document::default();
                d.insert(name, Value::Int32(1));
                d
            }
            _ => {
                return Err(ShellError::invalid_input(
                    "runCommand needs a command document",
                ))
            }
        };
        let Some((name, target)) = spec.first() else {
            return Err(server_error(59, "CommandNotFound", "no such command: ''"));
        };
        match (name.as_str(), target) {
            ("create", Value::String(coll)) => {
                let rest: Document = spec
                    .iter()
                    .skip(1)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                self.create_collection(coll, &rest)
            }
            ("collMod", Value::String(coll)) => self.coll_mod(coll, &spec),
            ("ping", _) => Ok(ok()),
            ("create" | "collMod", other) => Err(server_error(
                73,
                "InvalidNamespace",
                format!("collection name has invalid type {}", other.type_name()),
            )),
            (other, _) => Err(server_error(
                59,
                "CommandNotFound",
                format!("no such command: '{other}'"),
            )),
        }
    }

    /// `db.getCollectionInfos(filter)`: one document per collection, in name order.
    pub(super) fn collection_infos(&self, filter: Option<Js>) -> Result<Js, ShellError> {
        let filter = match filter {
            None | Some(Js::Undefined) => Document::default(),
            Some(Js::Val(Value::Document(d))) => d,
            Some(_) => {
                return Err(ShellError::invalid_input(
                    "getCollectionInfos needs a filter document",
                ))
            }
        };
        let filter = Filter::compile(&filter).map_err(ShellError::from)?;
        let mut out = Vec::new();
        if let Some(database) = self.store.databases.get(&self.db) {
            for (name, c) in &database.collections {
                let mut info = Document::default();
                info.insert("readOnly".into(), Value::Bool(false));
                if c.options.timeseries.is_some() {
                    // A time series collection is a view on its buckets: no uuid, no _id index.
                    let mut d = Document::default();
                    d.insert("name".into(), Value::String(name.clone()));
                    d.insert("type".into(), Value::String("timeseries".into()));
                    d.insert(
                        "options".into(),
                        Value::Document(options_document(&c.options)),
                    );
                    d.insert("info".into(), Value::Document(info));
                    if filter.matches(&d) {
                        out.push(Value::Document(d));
                    }
                    continue;
                }
                info.insert("uuid".into(), collection_uuid(&self.db, name));
                let mut key = Document::default();
                key.insert("_id".into(), Value::Int32(1));
                let mut id_index = Document::default();
                id_index.insert("v".into(), Value::Int32(2));
                id_index.insert("key".into(), Value::Document(key));
                id_index.insert("name".into(), Value::String("_id_".into()));
                let mut d = Document::default();
                d.insert("name".into(), Value::String(name.clone()));
                d.insert("type".into(), Value::String("collection".into()));
                d.insert(
                    "options".into(),
                    Value::Document(options_document(&c.options)),
                );
                d.insert("info".into(), Value::Document(info));
                d.insert("idIndex".into(), Value::Document(id_index));
                if filter.matches(&d) {
                    out.push(Value::Document(d));
                }
            }
        }
        Ok(Js::Val(Value::Array(out)))
    }
}
