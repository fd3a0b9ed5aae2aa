//! The library objects: constructors, attributes and methods of the redis-py and pymongo
//! clients and their results, ObjectId, datetime and timedelta.

use std::cell::RefCell;
use std::rc::Rc;

use super::builtins::Args;
use super::interp::{Interp, R};
use super::value::{cmp, datetime_parts, repr, to_str, Obj, PyErr, Val};
use super::{pymongo, redis_py};

pub fn construct(interp: &mut Interp, class: &str, a: Args) -> R<Val> {
    match class {
        "redis.Redis" => {
            if let Some(db) = a.kw("db").and_then(|v| v.as_int()).filter(|d| *d != 0) {
                // `db=N` selects that database on the snippet's connection.
                let reply = redis_py::run_command(interp, &[b"SELECT".to_vec(), db.to_string().into_bytes()]);
                redis_py::raw(&reply, true)?;
            }
            Ok(Val::obj(Obj::Redis {
                decode: a.flag("decode_responses"),
            }))
        }
        "pymongo.MongoClient" => Ok(Val::obj(Obj::MongoClient)),
        "bson.ObjectId" => match &a.get(0, "oid") {
            None | Some(Val::None) => Ok(Val::obj(Obj::ObjectId(pymongo::new_object_id(interp)))),
            Some(Val::Str(s)) => crate::mongo::value::ObjectId::parse_hex(s)
                .map(|o| Val::obj(Obj::ObjectId(o.0)))
                .ok_or_else(|| {
                    PyErr::new(
                        "bson.errors.InvalidId",
                        format!(
                            "{} is not a valid ObjectId, it must be a 12-byte input or a 24-character hex string",
                            repr(&Val::Str(s.clone()))
                        ),
                    )
                }),
            Some(v @ Val::Obj(_)) => Ok(v.clone()),
            Some(v) => Err(PyErr::type_error(format!(
                "id must be an instance of (str, bytes, ObjectId), not {}",
                v.type_name()
            ))),
        },
        "datetime.datetime" => {
            let names = ["year", "month", "day", "hour", "minute", "second", "microsecond"];
            let mut parts = [1970i64, 1, 1, 0, 0, 0, 0];
            for (i, n) in names.iter().enumerate() {
                match a.get(i, n) {
                    Some(v) => {
                        parts[i] = v.as_int().ok_or_else(|| {
                            PyErr::type_error(format!(
                                "'{}' object cannot be interpreted as an integer",
                                v.type_name()
                            ))
                        })?
                    }
                    None if i < 3 => {
                        return Err(PyErr::type_error(format!(
                            "function missing required argument '{n}' (pos {})",
                            i + 1
                        )))
                    }
                    None => {}
                }
            }
            let [y, mo, d, h, mi, s, us] = parts;
            let checks = [
                ((1..=9999).contains(&y), "year"),
                ((1..=12).contains(&mo), "month must be in 1..12"),
                ((1..=31).contains(&d), "day is out of range for month"),
                ((0..24).contains(&h), "hour must be in 0..23"),
                ((0..60).contains(&mi), "minute must be in 0..59"),
                ((0..60).contains(&s), "second must be in 0..59"),
                ((0..1_000_000).contains(&us), "microsecond must be in 0..999999"),
            ];
            for (ok, msg) in checks {
                if !ok {
                    let msg = if msg == "year" {
                        format!("year {y} is out of range")
                    } else {
                        msg.to_string()
                    };
                    return Err(PyErr::new("ValueError", msg));
                }
            }
            let days = crate::mongo::value::days_from_civil(y, mo as u32, d as u32);
            let (_, m2, _) = crate::clock::civil_from_days(days);
            if m2 as i64 != mo {
                return Err(PyErr::new("ValueError", "day is out of range for month"));
            }
            let ms = days * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + us / 1000;
            Ok(Val::obj(Obj::DateTime(ms, (us % 1000) as u16)))
        }
        "datetime.timedelta" => {
            let units = [
                ("days", 86_400_000.0),
                ("seconds", 1000.0),
                ("microseconds", 0.001),
                ("milliseconds", 1.0),
                ("minutes", 60_000.0),
                ("hours", 3_600_000.0),
                ("weeks", 604_800_000.0),
            ];
            let mut ms = 0.0;
            for (i, (n, scale)) in units.iter().enumerate() {
                if let Some(v) = a.get(i, n) {
                    ms += v.as_f64().ok_or_else(|| {
                        PyErr::type_error(format!(
                            "unsupported type for timedelta {n} component: {}",
                            v.type_name()
                        ))
                    })? * scale;
                }
            }
            if !ms.is_finite() || ms.abs() > 8.64e16 {
                return Err(PyErr::new("OverflowError", "days=1000000000; must have magnitude <= 999999999"));
            }
            Ok(Val::obj(Obj::TimeDelta(ms.round() as i64)))
        }
        "redis.commands.json.path.Path" => Ok(a.get(0, "path").unwrap_or(Val::str("."))),
        "redis.commands.search.query.Query" => Ok(Val::dict(vec![(
            Val::str("query"),
            a.need(0, "query_string", "Query")?,
        )])),
        "datetime.date" | "datetime.timezone" | "typing.Any" | "pymongo.ReturnDocument" => {
            Err(PyErr::unsupported(&format!("{class}()")))
        }
        _ => Err(PyErr::type_error(format!("cannot create '{class}' instances"))),
    }
}

/// Attributes that are not methods; None when the name is not an attribute at all.
pub fn getattr(
    _interp: &mut Interp,
    this: &Val,
    o: &Rc<RefCell<Obj>>,
    name: &str,
) -> R<Option<Val>> {
    let method = || Ok(Some(Val::Method(Rc::new((this.clone(), name.to_string())))));
    let b = o.borrow();
    match &*b {
        Obj::MongoClient => {
            if is_method(
                name,
                &[
                    "list_database_names",
                    "get_database",
                    "get_default_database",
                    "drop_database",
                    "close",
                    "server_info",
                    "start_session",
                ],
            ) {
                return method();
            }
            if name.starts_with('_') {
                return Ok(None);
            }
            Ok(Some(Val::obj(Obj::Database(name.to_string()))))
        }
        Obj::MongoSession(_) => Ok(super::pymongo::session_attribute(this, name)),
        Obj::Database(db) => {
            if is_method(
                name,
                &[
                    "list_collection_names",
                    "get_collection",
                    "create_collection",
                    "drop_collection",
                    "command",
                ],
            ) {
                return method();
            }
            if name == "name" {
                return Ok(Some(Val::str(db.as_str())));
            }
            if name.starts_with('_') {
                return Ok(None);
            }
            Ok(Some(Val::obj(Obj::Collection(
                db.clone(),
                name.to_string(),
            ))))
        }
        Obj::Collection(db, coll) => match name {
            "name" => Ok(Some(Val::str(coll.as_str()))),
            "full_name" => Ok(Some(Val::str(format!("{db}.{coll}")))),
            "database" => Ok(Some(Val::obj(Obj::Database(db.clone())))),
            _ if name.starts_with('_') => Ok(None),
            _ if is_method(name, COLLECTION_METHODS) => method(),
            // `db.posts.comments` is the collection `posts.comments`.
            _ => Ok(Some(Val::obj(Obj::Collection(
                db.clone(),
                format!("{coll}.{name}"),
            )))),
        },
        Obj::WriteResult { class, fields, raw } => {
            Ok(pymongo::result_attr(class, fields, raw, name))
        }
        Obj::SearchResult { total, docs } => match name {
            "total" => Ok(Some(Val::Int(*total))),
            "docs" => Ok(Some(Val::list(docs.clone()))),
            "duration" => Ok(Some(Val::Float(0.0))),
            _ => Ok(None),
        },
        Obj::SearchDoc { fields } => Ok(super::value::dict_get(fields, &Val::str(name))),
        Obj::ObjectId(bytes) => match name {
            "generation_time" => {
                let secs = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                Ok(Some(Val::obj(Obj::DateTime(i64::from(secs) * 1000, 0))))
            }
            "binary" => Ok(Some(Val::bytes(bytes.as_slice()))),
            _ => Ok(None),
        },
        Obj::DateTime(ms, us) => {
            let (y, mo, d, h, mi, s, micro) = datetime_parts(*ms, *us);
            Ok(match name {
                "year" => Some(Val::Int(y)),
                "month" => Some(Val::Int(i64::from(mo))),
                "day" => Some(Val::Int(i64::from(d))),
                "hour" => Some(Val::Int(h)),
                "minute" => Some(Val::Int(mi)),
                "second" => Some(Val::Int(s)),
                "microsecond" => Some(Val::Int(micro)),
                "isoformat" | "timestamp" | "strftime" | "replace" | "date" => {
                    return method();
                }
                _ => None,
            })
        }
        Obj::TimeDelta(ms) => Ok(match name {
            "days" => Some(Val::Int(ms.div_euclid(86_400_000))),
            "seconds" => Some(Val::Int(ms.rem_euclid(86_400_000) / 1000)),
            "microseconds" => Some(Val::Int(ms.rem_euclid(1000) * 1000)),
            "total_seconds" => return method(),
            _ => None,
        }),
        Obj::Cursor(_) => {
            if name == "alive" {
                drop(b);
                return Ok(Some(Val::Bool(true)));
            }
            method()
        }
        Obj::PubSub { .. } if name == "channels" => Ok(Some(Val::dict(Vec::new()))),
        Obj::Iter(..) => Ok(None),
        _ => {
            if name.starts_with('_') {
                return Ok(None);
            }
            method()
        }
    }
}

const COLLECTION_METHODS: &[&str] = &[
    "insert_one",
    "insert_many",
    "find",
    "find_one",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "count_documents",
    "estimated_document_count",
    "distinct",
    "aggregate",
    "create_index",
    "drop_index",
    "index_information",
    "drop",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
];

fn is_method(name: &str, methods: &[&str]) -> bool {
    methods.contains(&name)
}

pub fn call_method(
    interp: &mut Interp,
    this: &Val,
    o: &Rc<RefCell<Obj>>,
    name: &str,
    a: Args,
) -> R<Val> {
    // Copy out what dispatch needs, so no borrow is held while the engines run.
    enum Kind {
        Redis(bool),
        Pipeline,
        PubSub,
        Json(bool),
        Search(bool, String),
        Client,
        Session(Rc<str>),
        Db(String),
        Coll(String, String),
        Cursor,
        DateTime(i64, u16),
        TimeDelta(i64),
        Other(&'static str),
    }
    let kind = match &*o.borrow() {
        Obj::Redis { decode } => Kind::Redis(*decode),
        Obj::Pipeline { .. } => Kind::Pipeline,
        Obj::PubSub { .. } => Kind::PubSub,
        Obj::RedisJson { decode } => Kind::Json(*decode),
        Obj::Search { decode, index } => Kind::Search(*decode, index.clone()),
        Obj::MongoClient => Kind::Client,
        Obj::MongoSession(var) => Kind::Session(var.clone()),
        Obj::Database(d) => Kind::Db(d.clone()),
        Obj::Collection(d, c) => Kind::Coll(d.clone(), c.clone()),
        Obj::Cursor(_) => Kind::Cursor,
        Obj::DateTime(ms, us) => Kind::DateTime(*ms, *us),
        Obj::TimeDelta(ms) => Kind::TimeDelta(*ms),
        other => Kind::Other(super::value::obj_class(other)),
    };
    match kind {
        Kind::Redis(decode) => redis_py::client_method(interp, decode, name, &a),
        Kind::Pipeline => redis_py::pipeline_method(interp, this, o, name, &a),
        Kind::PubSub => redis_py::pubsub_method(interp, o, name, &a),
        Kind::Json(decode) => redis_py::json_method(interp, decode, name, &a),
        Kind::Search(decode, index) => redis_py::search_method(interp, decode, &index, name, &a),
        Kind::Client => pymongo::client_method(interp, name, &a),
        Kind::Session(var) => pymongo::session_method(interp, this, &var, name, &a),
        Kind::Db(db) => pymongo::database_method(interp, &db, name, &a),
        Kind::Coll(db, coll) => pymongo::collection_method(interp, &db, &coll, name, &a),
        Kind::Cursor => pymongo::cursor_method(interp, this, o, name, &a),
        Kind::DateTime(ms, us) => match name {
            "isoformat" => {
                let s = super::value::datetime_str(ms, us);
                Ok(Val::str(s.replacen(' ', "T", 1)))
            }
            "timestamp" => Ok(Val::Float(ms as f64 / 1000.0 + f64::from(us) / 1e6)),
            "date" | "replace" | "strftime" => {
                Err(PyErr::unsupported(&format!("datetime.{name}()")))
            }
            _ => Err(no_attr("datetime.datetime", name)),
        },
        Kind::TimeDelta(ms) => match name {
            "total_seconds" => Ok(Val::Float(ms as f64 / 1000.0)),
            _ => Err(no_attr("datetime.timedelta", name)),
        },
        Kind::Other(class) => Err(no_attr(class, name)),
    }
}

fn no_attr(class: &str, name: &str) -> PyErr {
    PyErr::new(
        "AttributeError",
        format!("'{class}' object has no attribute '{name}'"),
    )
}

pub fn get_item(interp: &mut Interp, this: &Val, o: &Rc<RefCell<Obj>>, i: &Val) -> R<Val> {
    let _ = interp;
    let b = o.borrow();
    match &*b {
        Obj::MongoClient => Ok(Val::obj(Obj::Database(to_str(i)))),
        Obj::Database(db) => Ok(Val::obj(Obj::Collection(db.clone(), to_str(i)))),
        Obj::Collection(db, c) => Ok(Val::obj(Obj::Collection(
            db.clone(),
            format!("{c}.{}", to_str(i)),
        ))),
        Obj::SearchDoc { fields } => {
            super::value::dict_get(fields, i).ok_or_else(|| no_attr("Document", &to_str(i)))
        }
        Obj::Iter(kind, items) if !kind.starts_with("dict") => {
            let items = items.clone();
            drop(b);
            super::builtins::get_item(interp, &Val::list(items), i)
        }
        _ => Err(PyErr::type_error(format!(
            "'{}' object is not subscriptable",
            this.type_name()
        ))),
    }
}

/// datetime ± timedelta, datetime − datetime, timedelta arithmetic and comparisons.
pub fn binary(op: &str, a: &Val, b: &Val) -> Option<Val> {
    let time = |v: &Val| -> Option<(char, i64, u16)> {
        match v {
            Val::Obj(o) => match &*o.borrow() {
                Obj::DateTime(ms, us) => Some(('d', *ms, *us)),
                Obj::TimeDelta(ms) => Some(('t', *ms, 0)),
                _ => None,
            },
            _ => None,
        }
    };
    let x = time(a)?;
    match (op, x, time(b)) {
        ("+", ('d', ms, us), Some(('t', d, _))) | ("+", ('t', d, _), Some(('d', ms, us))) => {
            Some(Val::obj(Obj::DateTime(ms.checked_add(d)?, us)))
        }
        ("-", ('d', ms, us), Some(('t', d, _))) => {
            Some(Val::obj(Obj::DateTime(ms.checked_sub(d)?, us)))
        }
        ("-", ('d', p, _), Some(('d', q, _))) => Some(Val::obj(Obj::TimeDelta(p.checked_sub(q)?))),
        ("+", ('t', p, _), Some(('t', q, _))) => Some(Val::obj(Obj::TimeDelta(p.checked_add(q)?))),
        ("-", ('t', p, _), Some(('t', q, _))) => Some(Val::obj(Obj::TimeDelta(p.checked_sub(q)?))),
        ("*", ('t', p, _), None) => {
            let n = b.as_f64()?;
            Some(Val::obj(Obj::TimeDelta((p as f64 * n).round() as i64)))
        }
        ("/", ('t', p, _), Some(('t', q, _))) if q != 0 => Some(Val::Float(p as f64 / q as f64)),
        _ => {
            let _ = cmp(a, b);
            None
        }
    }
}
