//! pymongo on the sandbox's Mongo engine: each method becomes the equivalent mongosh call
//! (built from the Python values, never from the snippet's text), run by the shell, and its
//! value comes back as pymongo's result objects and Python dicts.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::builtins::Args;
use super::interp::{Interp, R};
use super::value::{dict_get, dict_set, repr, str_repr, to_str, Obj, PyErr, Val};
use crate::mongo::shell::ShellError;
use crate::mongo::value::{Document, ObjectId, Value};

/// pymongo's first batch: 101 documents; the rest come with one getMore.
const FIRST_BATCH: usize = 101;

#[derive(Debug)]
pub struct CursorState {
    pub db: String,
    pub coll: String,
    /// `find(filter, projection)` or, for a CommandCursor, the aggregate pipeline.
    pub filter: Val,
    pub projection: Val,
    pub sort: Vec<(String, Val)>,
    pub skip: i64,
    pub limit: i64,
    pub command: bool,
    /// Documents not yet handed out, once the query has run.
    pub results: Option<VecDeque<Val>>,
    /// The session (`session=`) the query runs in: its mongosh variable.
    pub session: Option<Rc<str>>,
}

fn invalid(msg: impl Into<String>) -> PyErr {
    PyErr::new("bson.errors.InvalidDocument", msg)
}

/// A Python value as mongosh source text, so that the shell builds the same BSON that
/// pymongo would send (int → Int32/Int64, float → Double, datetime → Date).
pub fn to_js(v: &Val, out: &mut String, depth: usize) -> R<()> {
    if depth > 100 {
        return Err(invalid("document nested too deeply"));
    }
    match v {
        Val::None => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(i) => {
            if i32::try_from(*i).is_ok() {
                out.push_str(&i.to_string());
            } else {
                out.push_str(&format!("NumberLong(\"{i}\")"));
            }
        }
        Val::Float(f) => {
            if f.is_nan() {
                out.push_str("Double(NaN)");
            } else if f.is_infinite() {
                out.push_str(if *f > 0.0 {
                    "Double(Infinity)"
                } else {
                    "Double(-Infinity)"
                });
            } else {
                out.push_str(&format!("Double({})", super::value::float_repr(*f)));
            }
        }
        Val::Str(s) => {
            let mut j = String::new();
            crate::mongo::value::json_string(&mut j, s);
            out.push_str(&j);
        }
        Val::Bytes(b) => out.push_str(&format!(
            "BinData(0, \"{}\")",
            crate::mongo::value::base64_encode(b)
        )),
        Val::List(_) | Val::Tuple(_) => {
            let items: Vec<Val> = match v {
                Val::List(l) => l.borrow().clone(),
                Val::Tuple(t) => t.to_vec(),
                _ => Vec::new(),
            };
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                to_js(item, out, depth + 1)?;
            }
            out.push(']');
        }
        Val::Dict(d) => {
            out.push('{');
            for (i, (k, val)) in d.borrow().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let Val::Str(key) = k else {
                    return Err(invalid(format!(
                        "documents must have only string keys, key was {}",
                        repr(k)
                    )));
                };
                let mut j = String::new();
                crate::mongo::value::json_string(&mut j, key);
                out.push_str(&j);
                out.push_str(": ");
                to_js(val, out, depth + 1)?;
            }
            out.push('}');
        }
        Val::Obj(o) => match &*o.borrow() {
            Obj::ObjectId(b) => out.push_str(&format!("ObjectId(\"{}\")", ObjectId(*b).to_hex())),
            Obj::DateTime(ms, _) => out.push_str(&format!("new Date({ms})")),
            _ => {
                return Err(invalid(format!(
                    "cannot encode object: {}, of type: {}",
                    repr(v),
                    v.type_name()
                )))
            }
        },
        _ => {
            return Err(invalid(format!(
                "cannot encode object: {}, of type: {}",
                repr(v),
                v.type_name()
            )))
        }
    }
    Ok(())
}

fn js(v: &Val) -> R<String> {
    let mut s = String::new();
    to_js(v, &mut s, 0)?;
    Ok(s)
}

/// A BSON value as pymongo decodes it.
pub fn from_bson(v: &Value) -> Val {
    match v {
        Value::Double(f) => Val::Float(*f),
        Value::Int32(i) => Val::Int(i64::from(*i)),
        Value::Int64(i) => Val::Int(*i),
        Value::String(s) => Val::str(s.as_str()),
        Value::Bool(b) => Val::Bool(*b),
        Value::Null | Value::Undefined => Val::None,
        Value::ObjectId(o) => Val::obj(Obj::ObjectId(o.0)),
        Value::Date(ms) => Val::obj(Obj::DateTime(*ms, 0)),
        Value::Array(items) => Val::list(items.iter().map(from_bson).collect()),
        Value::Document(d) => from_doc(d),
        Value::Binary { bytes, .. } => Val::bytes(bytes.as_slice()),
        Value::Decimal128(d) => Val::str(d.to_string()),
        other => Val::str(crate::mongo::value::to_relaxed_ejson(other)),
    }
}

pub fn from_doc(d: &Document) -> Val {
    Val::dict(
        d.iter()
            .map(|(k, v)| (Val::str(k.as_str()), from_bson(v)))
            .collect(),
    )
}

fn field(v: &Value, name: &str) -> Option<Value> {
    match v {
        Value::Document(d) => d.get(name).cloned(),
        _ => None,
    }
}

fn int_field(v: &Value, name: &str) -> i64 {
    match field(v, name) {
        Some(Value::Int32(i)) => i64::from(i),
        Some(Value::Int64(i)) => i,
        Some(Value::Double(f)) => f as i64,
        _ => 0,
    }
}

/// Which pymongo exception a shell error becomes: write errors for writes, command
/// failures otherwise; the text ends with pymongo's `, full error: {…}`.
fn mongo_error(e: &ShellError, write: bool, doc: Option<&Val>) -> PyErr {
    let Some(code) = e.code else {
        return PyErr::new("pymongo.errors.OperationFailure", e.message.clone());
    };
    let mut full: Vec<(Val, Val)> = Vec::new();
    if write {
        full.push((Val::str("index"), Val::Int(0)));
        full.push((Val::str("code"), Val::Int(i64::from(code))));
        full.push((Val::str("errmsg"), Val::str(e.message.as_str())));
        if code == 11000 {
            // The index name (`title_1_views_-1`) gives the key pattern; the document the
            // values.
            let index = e
                .message
                .split(" index: ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .unwrap_or("_id_");
            let pattern = key_pattern(index);
            let mut values = Vec::new();
            for (k, _) in &pattern {
                let value = match doc {
                    Some(Val::Dict(d)) => dict_get(&d.borrow(), k).unwrap_or(Val::None),
                    _ => Val::None,
                };
                values.push((k.clone(), value));
            }
            full.push((Val::str("keyPattern"), Val::dict(pattern)));
            full.push((Val::str("keyValue"), Val::dict(values)));
        }
    } else {
        full.push((Val::str("ok"), Val::Float(0.0)));
        full.push((Val::str("errmsg"), Val::str(e.message.as_str())));
        full.push((Val::str("code"), Val::Int(i64::from(code))));
        if let Some(name) = e.code_name {
            full.push((Val::str("codeName"), Val::str(name)));
        }
    }
    let class = match (code, write) {
        (11000, _) => "pymongo.errors.DuplicateKeyError",
        (_, true) => "pymongo.errors.WriteError",
        _ => "pymongo.errors.OperationFailure",
    };
    PyErr::new(
        class,
        format!("{}, full error: {}", e.message, repr(&Val::dict(full))),
    )
}

fn key_pattern(index: &str) -> Vec<(Val, Val)> {
    if index == "_id_" {
        return vec![(Val::str("_id"), Val::Int(1))];
    }
    let parts: Vec<&str> = index.split('_').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < parts.len() {
        let dir = parts[i + 1]
            .parse::<i64>()
            .map(Val::Int)
            .unwrap_or(Val::str(parts[i + 1]));
        out.push((Val::str(parts[i]), dir));
        i += 2;
    }
    out
}

/// The error's code (`e.code`) as pymongo exposes it.
pub fn error_code(e: &PyErr) -> Val {
    e.msg
        .split("'code': ")
        .nth(1)
        .and_then(|r| r.split([',', '}']).next())
        .and_then(|c| c.trim().parse::<i64>().ok())
        .map_or(Val::None, Val::Int)
}

pub fn error_details(e: &PyErr) -> Val {
    let mut d = vec![(Val::str("code"), error_code(e))];
    if let Some((msg, _)) = e.msg.split_once(", full error: ") {
        d.push((Val::str("errmsg"), Val::str(msg)));
    }
    Val::dict(d)
}

fn coll_js(coll: &str) -> String {
    let mut c = String::new();
    crate::mongo::value::json_string(&mut c, coll);
    format!("db.getCollection({c})")
}

/// Runs a mongosh expression with `db` as database `db`; one round trip.
fn run(interp: &mut Interp, db: &str, src: &str, write: bool, doc: Option<&Val>) -> R<Value> {
    interp.round_trips += 1;
    let now = interp.now_ms();
    interp
        .engines
        .mongo
        .eval_value(db, src, now)
        .map_err(|e| mongo_error(&e, write, doc))
}

/// A new ObjectId as pymongo makes them: the time, a per-run process part, a counter.
pub fn new_object_id(interp: &mut Interp) -> [u8; 12] {
    interp.oid_counter = interp.oid_counter.wrapping_add(1);
    let secs = (interp.now_ms() / 1000) as u32;
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&secs.to_be_bytes());
    // A per-run process part, as pymongo keeps one per process.
    let seed = interp.engines.host_ms.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    b[4..9].copy_from_slice(&seed.to_be_bytes()[..5]);
    let c = interp.oid_counter.to_be_bytes();
    b[9..].copy_from_slice(&c[1..]);
    b
}

/// pymongo adds `_id` to the caller's dict before sending it.
fn ensure_id(interp: &mut Interp, doc: &Val) -> R<Val> {
    let Val::Dict(d) = doc else {
        return Err(PyErr::type_error(format!(
            "document must be an instance of dict, bson.son.SON, bson.raw_bson.RawBSONDocument, or a type that inherits from collections.MutableMapping, not {}",
            doc.type_name()
        )));
    };
    if let Some(id) = dict_get(&d.borrow(), &Val::str("_id")) {
        return Ok(id);
    }
    let id = Val::obj(Obj::ObjectId(new_object_id(interp)));
    d.borrow_mut().push((Val::str("_id"), id.clone()));
    Ok(id)
}

fn write_result(class: &'static str, raw: Val, fields: Vec<(Val, Val)>) -> Val {
    Val::obj(Obj::WriteResult { class, raw, fields })
}

fn opt(a: &Args, i: usize, name: &str) -> Option<Val> {
    a.get(i, name).filter(|v| !matches!(v, Val::None))
}

fn filter_js(a: &Args, i: usize) -> R<String> {
    match opt(a, i, "filter") {
        Some(f) => js(&f),
        None => Ok("{}".into()),
    }
}

/// `[("a", 1)]`, `"a"` or `{"a": 1}` as a list of (field, direction).
fn key_list(interp: &mut Interp, keys: &Val, direction: Option<Val>) -> R<Vec<(String, Val)>> {
    match keys {
        Val::Str(s) => Ok(vec![(s.to_string(), direction.unwrap_or(Val::Int(1)))]),
        Val::Dict(d) => Ok(d
            .borrow()
            .iter()
            .map(|(k, v)| (to_str(k), v.clone()))
            .collect()),
        other => {
            let mut out = Vec::new();
            for pair in interp.iterate(other)? {
                let kv = interp.iterate(&pair)?;
                match kv.as_slice() {
                    [k, v] => out.push((to_str(k), v.clone())),
                    _ => {
                        return Err(PyErr::type_error(
                            "if no direction is specified, key_or_list must be an instance of list",
                        ))
                    }
                }
            }
            Ok(out)
        }
    }
}

fn keys_js(keys: &[(String, Val)]) -> R<String> {
    let d = Val::dict(
        keys.iter()
            .map(|(k, v)| (Val::str(k.as_str()), v.clone()))
            .collect(),
    );
    js(&d)
}

pub fn collection_method(
    interp: &mut Interp,
    db: &str,
    coll: &str,
    method: &str,
    a: &Args,
) -> R<Val> {
    let session = session_arg(a)?;
    let target = session_coll_js(session.as_deref(), db, coll);
    let ack = |fields| fields;
    match method {
        "insert_one" => {
            let doc = a.need(0, "document", method)?;
            let id = ensure_id(interp, &doc)?;
            run(interp, db, &format!("{target}.insertOne({})", js(&doc)?), true, Some(&doc))?;
            Ok(write_result(
                "InsertOneResult",
                id.clone(),
                ack(vec![(Val::str("inserted_id"), id)]),
            ))
        }
        "insert_many" => {
            let docs = interp.iterate(&a.need(0, "documents", method)?)?;
            if docs.is_empty() {
                return Err(PyErr::type_error("documents must be a non-empty list"));
            }
            let mut ids = Vec::new();
            let mut text = String::from("[");
            for (i, d) in docs.iter().enumerate() {
                ids.push(ensure_id(interp, d)?);
                if i > 0 {
                    text.push_str(", ");
                }
                text.push_str(&js(d)?);
            }
            text.push(']');
            let ordered = a.kw("ordered").is_none_or(|v| v.truthy());
            run(interp, db, &format!("{target}.insertMany({text}, {{ordered: {ordered}}})"),
                true,
                docs.first(),
            )
            .map_err(bulk_error)?;
            let ids = Val::list(ids);
            Ok(write_result("InsertManyResult", ids.clone(), vec![(Val::str("inserted_ids"), ids)]))
        }
        "find" | "find_one" => {
            let filter = opt(a, 0, "filter").unwrap_or_else(|| Val::dict(Vec::new()));
            let filter = match filter {
                Val::Dict(_) => filter,
                // find_one(id) looks up by _id.
                other => Val::dict(vec![(Val::str("_id"), other)]),
            };
            let projection = opt(a, 1, "projection").unwrap_or(Val::None);
            let projection = match projection {
                Val::List(_) | Val::Tuple(_) => {
                    let fields = interp.iterate(&projection)?;
                    Val::dict(fields.into_iter().map(|f| (f, Val::Int(1))).collect())
                }
                other => other,
            };
            let sort = match a.kw("sort") {
                Some(s) if !matches!(s, Val::None) => key_list(interp, &s, None)?,
                _ => Vec::new(),
            };
            let state = CursorState {
                db: db.to_string(),
                coll: coll.to_string(),
                filter,
                projection,
                sort,
                skip: a.kw("skip").and_then(|v| v.as_int()).unwrap_or(0),
                limit: a.kw("limit").and_then(|v| v.as_int()).unwrap_or(0),
                command: false,
                results: None,
                session: session.clone(),
            };
            if method == "find" {
                return Ok(Val::obj(Obj::Cursor(Box::new(state))));
            }
            let mut state = state;
            state.limit = -1;
            let docs = run_cursor(interp, &state)?;
            Ok(docs.into_iter().next().unwrap_or(Val::None))
        }
        "update_one" | "update_many" | "replace_one" => {
            let filter = filter_js(a, 0)?;
            let update = a.need(1, if method == "replace_one" { "replacement" } else { "update" }, method)?;
            let upsert = a.get(2, "upsert").is_some_and(|v| v.truthy());
            let shell = match method {
                "update_one" => "updateOne",
                "update_many" => "updateMany",
                _ => "replaceOne",
            };
            let r = run(interp, db, &format!("{target}.{shell}({filter}, {}, {{upsert: {upsert}}})", js(&update)?),
                true,
                Some(&update),
            )?;
            let matched = int_field(&r, "matchedCount");
            let modified = int_field(&r, "modifiedCount");
            let upserted = int_field(&r, "upsertedCount");
            let mut raw = vec![
                (Val::str("n"), Val::Int(matched + upserted)),
                (Val::str("nModified"), Val::Int(modified)),
            ];
            let mut upserted_id = Val::None;
            if upserted > 0 {
                upserted_id = field(&r, "insertedId").map_or(Val::None, |v| from_bson(&v));
                raw.push((Val::str("upserted"), upserted_id.clone()));
            }
            raw.push((Val::str("ok"), Val::Float(1.0)));
            raw.push((Val::str("updatedExisting"), Val::Bool(matched > 0)));
            Ok(write_result(
                "UpdateResult",
                Val::dict(raw),
                vec![
                    (Val::str("matched_count"), Val::Int(matched)),
                    (Val::str("modified_count"), Val::Int(modified)),
                    (Val::str("upserted_id"), upserted_id),
                ],
            ))
        }
        "delete_one" | "delete_many" => {
            let filter = filter_js(a, 0)?;
            let shell = if method == "delete_one" { "deleteOne" } else { "deleteMany" };
            let r = run(interp, db, &format!("{target}.{shell}({filter})"), true, None)?;
            let n = int_field(&r, "deletedCount");
            Ok(write_result(
                "DeleteResult",
                Val::dict(vec![(Val::str("n"), Val::Int(n)), (Val::str("ok"), Val::Float(1.0))]),
                vec![(Val::str("deleted_count"), Val::Int(n))],
            ))
        }
        "count_documents" => {
            let filter = match opt(a, 0, "filter") {
                Some(f) => js(&f)?,
                None => return Err(PyErr::type_error("count_documents() missing 1 required positional argument: 'filter'")),
            };
            let r = run(interp, db, &format!("{target}.countDocuments({filter})"), false, None)?;
            Ok(from_bson(&r))
        }
        "estimated_document_count" => {
            let r = run(interp, db, &format!("{target}.estimatedDocumentCount()"), false, None)?;
            Ok(from_bson(&r))
        }
        "distinct" => {
            let key = js(&a.need(0, "key", method)?)?;
            let filter = filter_js(a, 1)?;
            let r = run(interp, db, &format!("{target}.distinct({key}, {filter})"), false, None)?;
            Ok(from_bson(&r))
        }
        "aggregate" => {
            let pipeline = a.need(0, "pipeline", method)?;
            Ok(Val::obj(Obj::Cursor(Box::new(CursorState {
                db: db.to_string(),
                coll: coll.to_string(),
                filter: pipeline,
                projection: Val::None,
                sort: Vec::new(),
                skip: 0,
                limit: 0,
                command: true,
                results: None,
                session: session.clone(),
            }))))
            .and_then(|c| {
                // aggregate runs at once (pymongo sends the command when called).
                if let Val::Obj(o) = &c {
                    fill(interp, o)?;
                }
                Ok(c)
            })
        }
        "create_index" => {
            let keys = key_list(interp, &a.need(0, "keys", method)?, None)?;
            let mut options = Vec::new();
            for (k, v) in &a.kw {
                let name = match k.as_str() {
                    "unique" | "name" | "sparse" | "background" => k.clone(),
                    "expireAfterSeconds" => k.clone(),
                    "partialFilterExpression" => k.clone(),
                    other => return Err(PyErr::unsupported(&format!("create_index option '{other}'"))),
                };
                options.push((Val::str(name), v.clone()));
            }
            let r = run(interp, db, &format!("{target}.createIndex({}, {})", keys_js(&keys)?, js(&Val::dict(options))?),
                false,
                None,
            )?;
            Ok(from_bson(&r))
        }
        "drop_index" => {
            let name = a.need(0, "index_or_name", method)?;
            let arg = match &name {
                Val::Str(_) => js(&name)?,
                other => keys_js(&key_list(interp, other, None)?)?,
            };
            run(interp, db, &format!("{target}.dropIndex({arg})"), false, None)?;
            Ok(Val::None)
        }
        "index_information" => {
            let r = run(interp, db, &format!("{target}.getIndexes()"), false, None)?;
            let mut out = Vec::new();
            if let Value::Array(items) = r {
                for ix in items {
                    let name = field(&ix, "name").map(|n| from_bson(&n)).unwrap_or(Val::None);
                    let mut info = vec![(Val::str("v"), Val::Int(2))];
                    if let Some(Value::Document(k)) = field(&ix, "key") {
                        info.push((
                            Val::str("key"),
                            Val::list(k.iter().map(|(f, d)| Val::tuple(vec![Val::str(f.as_str()), from_bson(d)])).collect()),
                        ));
                    }
                    if let Some(u) = field(&ix, "unique") {
                        info.push((Val::str("unique"), from_bson(&u)));
                    }
                    out.push((name, Val::dict(info)));
                }
            }
            Ok(Val::dict(out))
        }
        "drop" => {
            run(interp, db, &format!("{target}.drop()"), false, None)?;
            Ok(Val::None)
        }
        "find_one_and_update" | "find_one_and_replace" | "find_one_and_delete" => {
            let filter = filter_js(a, 0)?;
            let shell = match method {
                "find_one_and_update" => "findOneAndUpdate",
                "find_one_and_replace" => "findOneAndReplace",
                _ => "findOneAndDelete",
            };
            let mut options = Vec::new();
            if a.flag("upsert") {
                options.push((Val::str("upsert"), Val::Bool(true)));
            }
            if let Some(p) = opt(a, usize::MAX, "projection") {
                options.push((Val::str("projection"), p));
            }
            if let Some(s) = opt(a, usize::MAX, "sort") {
                let keys = key_list(interp, &s, None)?;
                options.push((Val::str("sort"), Val::dict(keys.into_iter().map(|(k, v)| (Val::str(k), v)).collect())));
            }
            if a.flag("return_document") {
                options.push((Val::str("returnDocument"), Val::str("after")));
            }
            let call = if method == "find_one_and_delete" {
                format!("{target}.{shell}({filter}, {})", js(&Val::dict(options))?)
            } else {
                let update = a.need(1, "update", method)?;
                format!("{target}.{shell}({filter}, {}, {})", js(&update)?, js(&Val::dict(options))?)
            };
            let r = run(interp, db, &call, true, None)?;
            Ok(from_bson(&r))
        }
        _ => Err(PyErr::new(
            "AttributeError",
            format!("'Collection' object has no attribute '{method}' (or the sandbox does not support it)"),
        )),
    }
}

fn bulk_error(e: PyErr) -> PyErr {
    if e.class == "pymongo.errors.DuplicateKeyError" {
        let detail = e
            .msg
            .split_once(", full error: ")
            .map_or("{}", |(_, d)| d)
            .to_string();
        return PyErr::new(
            "pymongo.errors.BulkWriteError",
            format!(
                "batch op errors occurred, full error: {{'writeErrors': [{detail}], 'writeConcernErrors': [], 'nInserted': 0, 'nUpserted': 0, 'nMatched': 0, 'nModified': 0, 'nRemoved': 0, 'upserted': []}}"
            ),
        );
    }
    e
}

pub fn database_method(interp: &mut Interp, db: &str, method: &str, a: &Args) -> R<Val> {
    let mut name = String::new();
    crate::mongo::value::json_string(&mut name, db);
    match method {
        "list_collection_names" => {
            let r = run(interp, db, "db.getCollectionNames()", false, None)?;
            Ok(from_bson(&r))
        }
        "get_collection" | "create_collection" => {
            let coll = to_str(&a.need(0, "name", method)?);
            if method == "create_collection" {
                let mut c = String::new();
                crate::mongo::value::json_string(&mut c, &coll);
                run(interp, db, &format!("db.createCollection({c})"), false, None)?;
            }
            Ok(Val::obj(Obj::Collection(db.to_string(), coll)))
        }
        "drop_collection" => {
            let coll = match &a.need(0, "name_or_collection", method)? {
                Val::Obj(o) => match &*o.borrow() {
                    Obj::Collection(_, c) => c.clone(),
                    _ => String::new(),
                },
                other => to_str(other),
            };
            run(interp, db, &format!("{}.drop()", coll_js(&coll)), false, None)?;
            Ok(Val::None)
        }
        "command" => {
            let cmd = a.need(0, "command", method)?;
            let text = match &cmd {
                Val::Str(s) => format!("{{{}: 1}}", str_repr(s).replace('\'', "\"")),
                other => js(other)?,
            };
            let r = run(interp, db, &format!("db.runCommand({text})"), false, None)?;
            Ok(from_bson(&r))
        }
        _ => Err(PyErr::new(
            "AttributeError",
            format!("'Database' object has no attribute '{method}' (or the sandbox does not support it)"),
        )),
    }
}

pub fn client_method(interp: &mut Interp, method: &str, a: &Args) -> R<Val> {
    match method {
        "list_database_names" => {
            let r = run(interp, "admin", "db.adminCommand({listDatabases: 1})", false, None)?;
            let mut names = Vec::new();
            if let Some(Value::Array(dbs)) = field(&r, "databases") {
                for d in dbs {
                    if let Some(n) = field(&d, "name") {
                        names.push(from_bson(&n));
                    }
                }
            }
            Ok(Val::list(names))
        }
        "get_database" | "get_default_database" => {
            let name = a.get(0, "name").map_or("test".to_string(), |v| to_str(&v));
            Ok(Val::obj(Obj::Database(name)))
        }
        "drop_database" => {
            let name = to_str(&a.need(0, "name_or_database", method)?);
            let mut n = String::new();
            crate::mongo::value::json_string(&mut n, &name);
            run(interp, &name, "db.dropDatabase()", false, None)?;
            Ok(Val::None)
        }
        "close" | "server_info" => Ok(Val::None),
        "start_session" => start_session(interp),
        _ => Err(PyErr::new(
            "AttributeError",
            format!("'MongoClient' object has no attribute '{method}' (or the sandbox does not support it)"),
        )),
    }
}

/// Runs the cursor's query: all its documents, counting pymongo's round trips.
fn run_cursor(interp: &mut Interp, c: &CursorState) -> R<Vec<Val>> {
    let target = session_coll_js(c.session.as_deref(), &c.db, &c.coll);
    let src = if c.command {
        format!("{target}.aggregate({})", js(&c.filter)?)
    } else {
        let mut s = format!("{target}.find({}", js(&c.filter)?);
        if !matches!(c.projection, Val::None) {
            s.push_str(", ");
            s.push_str(&js(&c.projection)?);
        }
        s.push(')');
        if !c.sort.is_empty() {
            s.push_str(&format!(".sort({})", keys_js(&c.sort)?));
        }
        if c.skip > 0 {
            s.push_str(&format!(".skip({})", c.skip));
        }
        if c.limit != 0 {
            s.push_str(&format!(".limit({})", c.limit.abs()));
        }
        s
    };
    let r = run(interp, &c.db, &src, false, None)?;
    let docs: Vec<Val> = match r {
        Value::Array(items) => items.iter().map(from_bson).collect(),
        other => vec![from_bson(&other)],
    };
    if docs.len() > FIRST_BATCH && c.limit <= 0
        || (c.limit > FIRST_BATCH as i64 && docs.len() > FIRST_BATCH)
    {
        interp.round_trips += 1;
    }
    Ok(docs)
}

fn fill(interp: &mut Interp, o: &Rc<RefCell<Obj>>) -> R<()> {
    let pending = match &*o.borrow() {
        Obj::Cursor(c) => c.results.is_none(),
        _ => false,
    };
    if !pending {
        return Ok(());
    }
    let docs = {
        let b = o.borrow();
        let Obj::Cursor(c) = &*b else {
            return Ok(());
        };
        // The borrow is released before the engines run.
        let snapshot = CursorState {
            db: c.db.clone(),
            coll: c.coll.clone(),
            filter: c.filter.clone(),
            projection: c.projection.clone(),
            sort: c.sort.clone(),
            skip: c.skip,
            limit: c.limit,
            command: c.command,
            results: None,
            session: c.session.clone(),
        };
        drop(b);
        run_cursor(interp, &snapshot)?
    };
    if let Obj::Cursor(c) = &mut *o.borrow_mut() {
        c.results = Some(docs.into());
    }
    Ok(())
}

/// What iterating the cursor gives: the documents not yet consumed.
pub fn drain_cursor(interp: &mut Interp, o: &Rc<RefCell<Obj>>) -> R<Vec<Val>> {
    fill(interp, o)?;
    Ok(match &mut *o.borrow_mut() {
        Obj::Cursor(c) => c
            .results
            .as_mut()
            .map(|r| r.drain(..).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    })
}

pub fn cursor_next(interp: &mut Interp, o: &Rc<RefCell<Obj>>) -> R<Option<Val>> {
    fill(interp, o)?;
    Ok(match &mut *o.borrow_mut() {
        Obj::Cursor(c) => c.results.as_mut().and_then(VecDeque::pop_front),
        _ => None,
    })
}

pub fn cursor_method(
    interp: &mut Interp,
    this: &Val,
    o: &Rc<RefCell<Obj>>,
    method: &str,
    a: &Args,
) -> R<Val> {
    let started = matches!(&*o.borrow(), Obj::Cursor(c) if c.results.is_some());
    let modifier = matches!(method, "sort" | "limit" | "skip");
    if modifier && started {
        return Err(PyErr::new(
            "pymongo.errors.InvalidOperation",
            "cannot set options after executing query",
        ));
    }
    match method {
        "sort" => {
            let keys = key_list(
                interp,
                &a.need(0, "key_or_list", method)?,
                a.get(1, "direction"),
            )?;
            if let Obj::Cursor(c) = &mut *o.borrow_mut() {
                c.sort = keys;
            }
            Ok(this.clone())
        }
        "limit" | "skip" => {
            let n = a
                .need(0, method, method)?
                .as_int()
                .ok_or_else(|| PyErr::type_error(format!("{method} must be an integer")))?;
            if method == "skip" && n < 0 {
                return Err(PyErr::new("ValueError", "skip must be >= 0"));
            }
            if let Obj::Cursor(c) = &mut *o.borrow_mut() {
                if method == "limit" {
                    c.limit = n;
                } else {
                    c.skip = n;
                }
            }
            Ok(this.clone())
        }
        "batch_size" | "max_time_ms" | "hint" | "comment" | "allow_disk_use" => Ok(this.clone()),
        "to_list" => Ok(Val::list(drain_cursor(interp, o)?)),
        "next" => cursor_next(interp, o)?.ok_or_else(|| PyErr::new("StopIteration", "")),
        "close" => {
            if let Obj::Cursor(c) = &mut *o.borrow_mut() {
                c.results = Some(VecDeque::new());
            }
            Ok(Val::None)
        }
        "alive" => Ok(Val::Bool(!started)),
        _ => Err(PyErr::new(
            "AttributeError",
            format!(
                "'Cursor' object has no attribute '{method}' (or the sandbox does not support it)"
            ),
        )),
    }
}

pub fn result_attr(class: &str, fields: &[(Val, Val)], raw: &Val, name: &str) -> Option<Val> {
    match name {
        "acknowledged" => Some(Val::Bool(true)),
        "raw_result" if class != "InsertOneResult" && class != "InsertManyResult" => {
            Some(raw.clone())
        }
        _ => {
            let mut d = Vec::new();
            for (k, v) in fields {
                dict_set(&mut d, k.clone(), v.clone());
            }
            dict_get(&d, &Val::str(name))
        }
    }
}

// ---- sessions and transactions ----
//
// A `ClientSession` is a session of the Mongo shell, started by a mongosh statement and kept
// in a shell variable (`__pymongo_session_<n>`); an operation given `session=` runs on that
// session's database (`<var>.getDatabase(db)`), so it runs in the session's transaction as
// the shell runs it: snapshot reads, writes invisible outside until the commit, conflicts.

/// The collection expression an operation runs on: in a session, or on `db`.
fn session_coll_js(session: Option<&str>, db: &str, coll: &str) -> String {
    match session {
        None => coll_js(coll),
        Some(var) => {
            let (mut d, mut c) = (String::new(), String::new());
            crate::mongo::value::json_string(&mut d, db);
            crate::mongo::value::json_string(&mut c, coll);
            format!("{var}.getDatabase({d}).getCollection({c})")
        }
    }
}

/// The `session=` keyword of a collection method.
fn session_arg(a: &Args) -> R<Option<Rc<str>>> {
    match &a.kw("session") {
        None | Some(Val::None) => Ok(None),
        Some(Val::Obj(o)) => match &*o.borrow() {
            Obj::MongoSession(var) => Ok(Some(var.clone())),
            other => Err(PyErr::type_error(format!(
                "session must be an instance of ClientSession, not {}",
                super::value::obj_class(other)
            ))),
        },
        Some(other) => Err(PyErr::type_error(format!(
            "session must be an instance of ClientSession, not {}",
            other.type_name()
        ))),
    }
}

/// Runs a mongosh statement about a session; `round_trip` when it reaches the server.
fn session_run(interp: &mut Interp, src: &str, round_trip: bool) -> R<Value> {
    if round_trip {
        interp.round_trips += 1;
    }
    let now = interp.now_ms();
    interp
        .engines
        .mongo
        .eval_value("test", src, now)
        .map_err(|e| match e.name.as_str() {
            // The driver's own checks: pymongo raises InvalidOperation with the same words.
            "MongoTransactionError" => {
                PyErr::new("pymongo.errors.InvalidOperation", e.message.clone())
            }
            "MongoExpiredSessionError" => PyErr::new(
                "pymongo.errors.InvalidOperation",
                "Cannot use ended session",
            ),
            _ => mongo_error(&e, false, None),
        })
}

fn start_session(interp: &mut Interp) -> R<Val> {
    let var: Rc<str> = format!("__pymongo_session_{}", interp.mongo_sessions).into();
    interp.mongo_sessions += 1;
    session_run(
        interp,
        &format!("{var} = db.getMongo().startSession()"),
        false,
    )?;
    Ok(Val::obj(Obj::MongoSession(var)))
}

/// The attributes of a `ClientSession`.
pub fn session_attribute(this: &Val, name: &str) -> Option<Val> {
    const METHODS: &[&str] = &[
        "start_transaction",
        "commit_transaction",
        "abort_transaction",
        "with_transaction",
        "end_session",
    ];
    METHODS
        .contains(&name)
        .then(|| Val::Method(Rc::new((this.clone(), name.to_string()))))
}

pub fn session_method(
    interp: &mut Interp,
    this: &Val,
    var: &Rc<str>,
    method: &str,
    a: &Args,
) -> R<Val> {
    match method {
        "start_transaction" => {
            session_run(interp, &format!("{var}.startTransaction()"), false)?;
            Ok(Val::obj(Obj::MongoTransaction(var.clone())))
        }
        "commit_transaction" => {
            session_run(interp, &format!("{var}.commitTransaction()"), true)?;
            Ok(Val::None)
        }
        "abort_transaction" => {
            session_run(interp, &format!("{var}.abortTransaction()"), true)?;
            Ok(Val::None)
        }
        "end_session" => {
            session_run(interp, &format!("{var}.endSession()"), false)?;
            Ok(Val::None)
        }
        "with_transaction" => {
            // pymongo retries on TransientTransactionError for up to 120 s; in the sandbox
            // nothing else runs between attempts, so the first outcome is the outcome.
            let callback = a.need(0, "callback", method)?;
            session_run(interp, &format!("{var}.startTransaction()"), false)?;
            match interp.call(&callback, vec![this.clone()], Vec::new()) {
                Ok(v) => {
                    session_run(interp, &format!("{var}.commitTransaction()"), true)?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = session_run(interp, &format!("{var}.abortTransaction()"), true);
                    Err(e)
                }
            }
        }
        _ => Err(PyErr::new(
            "AttributeError",
            format!("'ClientSession' object has no attribute '{method}' (or the sandbox does not support it)"),
        )),
    }
}

/// Leaving `with client.start_session()` ends the session; leaving `with
/// s.start_transaction()` commits, or aborts when the block raised.
pub fn session_exit(interp: &mut Interp, var: &str, transaction: bool, failed: bool) -> R<()> {
    let src = match (transaction, failed) {
        (false, _) => format!("{var}.endSession()"),
        (true, false) => format!("{var}.commitTransaction()"),
        (true, true) => format!("{var}.abortTransaction()"),
    };
    let result = session_run(interp, &src, transaction);
    if failed {
        // The block's own exception is the one that propagates.
        return Ok(());
    }
    result.map(|_| ())
}
