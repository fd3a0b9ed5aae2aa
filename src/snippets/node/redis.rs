//! node-redis (v4) and ioredis (v5): each method becomes a command line for the sandbox's
//! Redis server, and each reply the value that driver resolves to (checked against the real
//! packages: see tests/snippets/regenerate-node.mjs).

use crate::mongo::shell::host::{json_parse, json_stringify};
use crate::mongo::shell::{HostArg, ShellError};
use crate::mongo::value::{js_number, number_value, Document, Value};
use crate::redis::reply::Reply;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `createClient()` from the `redis` package.
    NodeRedis,
    /// `new Redis()` from `ioredis`.
    IoRedis,
}

/// How a reply becomes the value the driver resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Strings, numbers, null and arrays of them, as RESP2 gives them.
    Raw,
    /// node-redis turns 0/1 replies of some commands into false/true.
    Bool,
    /// A score or float sent as a string, parsed to a number (node-redis).
    Float,
    /// Field/value pairs as an object (HGETALL). `null_proto`: node-redis builds it with
    /// `Object.create(null)`, and Node prints that as `[Object: null prototype] {…}`.
    Object { null_proto: bool },
    /// ZRANGE … WITHSCORES as node-redis's `[{ value, score }]`.
    WithScores,
    /// A JSON.GET reply parsed back into a value.
    Json,
    /// FT.SEARCH as node-redis's `{ total, documents: [{ id, value }] }`.
    Search,
}

/// One command to send and how to read its reply.
#[derive(Debug, Clone)]
pub struct Command {
    pub argv: Vec<Vec<u8>>,
    pub shape: Shape,
}

/// The text a driver sends for an argument.
fn arg_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Double(x) => js_number(*x),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Undefined => String::new(),
        Value::Array(items) => items.iter().map(arg_text).collect::<Vec<_>>().join(","),
        Value::Document(_) => "[object Object]".into(),
        other => crate::mongo::format::inspect_node(other, &[]),
    }
}

fn bytes(s: impl Into<String>) -> Vec<u8> {
    s.into().into_bytes()
}

fn value_of(a: &HostArg) -> Value {
    match a {
        HostArg::Value(v) => v.clone(),
        _ => Value::Undefined,
    }
}

/// Every argument as command words: arrays spread, and (ioredis, and node-redis's object
/// forms) objects as field/value pairs.
fn flatten(args: &[HostArg], objects: bool, out: &mut Vec<Vec<u8>>) {
    for a in args {
        // A callback (ioredis's `redis.get(key, (err, v) => …)`) is no argument.
        if !matches!(a, HostArg::Function) {
            push_flat(&value_of(a), objects, out);
        }
    }
}

fn push_flat(v: &Value, objects: bool, out: &mut Vec<Vec<u8>>) {
    match v {
        Value::Array(items) => {
            for item in items {
                push_flat(item, objects, out);
            }
        }
        Value::Document(doc) if objects => {
            for (k, v) in doc {
                out.push(bytes(k.as_str()));
                out.push(bytes(arg_text(v)));
            }
        }
        other => out.push(bytes(arg_text(other))),
    }
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Document(d) => d.get(name),
        _ => None,
    }
}

fn type_error(message: impl Into<String>) -> ShellError {
    ShellError::type_error(message)
}

/// The Redis command a node-redis method name stands for (`hGetAll` → `HGETALL`), if the
/// server has one.
pub fn node_redis_command(method: &str) -> Option<String> {
    let name = method.to_ascii_uppercase();
    match name.as_str() {
        "ZRANGEWITHSCORES" => Some("ZRANGE".into()),
        _ => crate::redis::commands::lookup(name.as_bytes()).map(|_| name),
    }
}

/// node-redis: `client.<method>(args)`.
pub fn node_redis(method: &str, args: &[HostArg]) -> Result<Command, ShellError> {
    let Some(name) = node_redis_command(method) else {
        return Err(type_error(format!("client.{method} is not a function")));
    };
    let mut argv = vec![bytes(name.as_str())];
    let mut shape = Shape::Raw;
    let upper = method.to_ascii_uppercase();
    let first =
        |argv: &mut Vec<Vec<u8>>, n: usize| flatten(&args[..n.min(args.len())], false, argv);
    match upper.as_str() {
        "SET" => {
            first(&mut argv, 2);
            if let Some(HostArg::Value(Value::Document(opts))) = args.get(2) {
                set_options(opts, &mut argv);
            }
        }
        "HSET" => {
            // hSet(key, {field: value}) | hSet(key, [f, v, …]) | hSet(key, field, value)
            first(&mut argv, 1);
            flatten(args.get(1..).unwrap_or(&[]), true, &mut argv);
        }
        "MSET" => flatten(args, true, &mut argv),
        "HGETALL" => {
            flatten(args, false, &mut argv);
            shape = Shape::Object { null_proto: true };
        }
        "ZADD" => {
            first(&mut argv, 1);
            if let Some(HostArg::Value(Value::Document(opts))) = args.get(2) {
                for flag in ["NX", "XX", "GT", "LT", "CH"] {
                    if opts.get(flag).is_some_and(|v| v == &Value::Bool(true)) {
                        argv.push(bytes(flag));
                    }
                }
            }
            let members = match args.get(1).map(value_of) {
                Some(Value::Array(items)) => items,
                Some(one) => vec![one],
                None => Vec::new(),
            };
            for m in &members {
                let (Some(score), Some(value)) = (field(m, "score"), field(m, "value")) else {
                    return Err(type_error("Invalid argument type"));
                };
                argv.push(bytes(arg_text(score)));
                argv.push(bytes(arg_text(value)));
            }
        }
        "ZRANGE" | "ZRANGEWITHSCORES" => {
            first(&mut argv, 3);
            if let Some(HostArg::Value(Value::Document(opts))) = args.get(3) {
                zrange_options(opts, &mut argv);
            }
            if upper == "ZRANGEWITHSCORES" {
                argv.push(bytes("WITHSCORES"));
                shape = Shape::WithScores;
            }
        }
        "ZINCRBY" | "ZSCORE" => {
            flatten(args, false, &mut argv);
            shape = Shape::Float;
        }
        "GEOADD" => {
            first(&mut argv, 1);
            let members = match args.get(1).map(value_of) {
                Some(Value::Array(items)) => items,
                Some(one) => vec![one],
                None => Vec::new(),
            };
            for m in &members {
                for key in ["longitude", "latitude", "member"] {
                    let Some(v) = field(m, key) else {
                        return Err(type_error("Invalid argument type"));
                    };
                    argv.push(bytes(arg_text(v)));
                }
            }
        }
        "GEOSEARCH" => {
            first(&mut argv, 1);
            match args.get(1).map(value_of) {
                Some(Value::Document(from)) => {
                    argv.push(bytes("FROMLONLAT"));
                    for key in ["longitude", "latitude"] {
                        argv.push(bytes(from.get(key).map(arg_text).unwrap_or_default()));
                    }
                }
                Some(member) => {
                    argv.push(bytes("FROMMEMBER"));
                    argv.push(bytes(arg_text(&member)));
                }
                None => {}
            }
            if let Some(Value::Document(by)) = args.get(2).map(value_of) {
                if let Some(r) = by.get("radius") {
                    argv.push(bytes("BYRADIUS"));
                    argv.push(bytes(arg_text(r)));
                } else {
                    argv.push(bytes("BYBOX"));
                    for key in ["width", "height"] {
                        argv.push(bytes(by.get(key).map(arg_text).unwrap_or_default()));
                    }
                }
                argv.push(bytes(by.get("unit").map(arg_text).unwrap_or_default()));
            }
            if let Some(Value::Document(opts)) = args.get(3).map(value_of) {
                if let Some(sort) = opts.get("SORT") {
                    argv.push(bytes(arg_text(sort)));
                }
                match opts.get("COUNT") {
                    Some(Value::Document(c)) => {
                        argv.push(bytes("COUNT"));
                        argv.push(bytes(c.get("value").map(arg_text).unwrap_or_default()));
                        if c.get("ANY").is_some_and(|v| v == &Value::Bool(true)) {
                            argv.push(bytes("ANY"));
                        }
                    }
                    Some(n) => {
                        argv.push(bytes("COUNT"));
                        argv.push(bytes(arg_text(n)));
                    }
                    None => {}
                }
            }
        }
        "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT" | "PERSIST" | "HEXISTS" | "SISMEMBER"
        | "SETNX" | "HSETNX" | "MSETNX" | "RENAMENX" | "MOVE" | "COPY" | "SMOVE" => {
            flatten(args, upper == "MSETNX", &mut argv);
            shape = Shape::Bool;
        }
        _ => flatten(args, false, &mut argv),
    }
    Ok(Command { argv, shape })
}

/// node-redis's ZRANGE options: `{ BY: 'SCORE' | 'LEX', REV: true, LIMIT: { offset, count } }`.
fn zrange_options(opts: &Document, argv: &mut Vec<Vec<u8>>) {
    if let Some(by) = opts.get("BY") {
        argv.push(bytes(format!("BY{}", arg_text(by).to_ascii_uppercase())));
    }
    if opts.get("REV") == Some(&Value::Bool(true)) {
        argv.push(bytes("REV"));
    }
    if let Some(Value::Document(limit)) = opts.get("LIMIT") {
        argv.push(bytes("LIMIT"));
        for key in ["offset", "count"] {
            argv.push(bytes(limit.get(key).map(arg_text).unwrap_or_default()));
        }
    }
}

/// node-redis's SET options object: `{ EX, PX, EXAT, PXAT, KEEPTTL, NX, XX, GET }`.
fn set_options(opts: &Document, argv: &mut Vec<Vec<u8>>) {
    for (k, v) in opts {
        let key = k.to_ascii_uppercase();
        match key.as_str() {
            "EX" | "PX" | "EXAT" | "PXAT" => {
                argv.push(bytes(key));
                argv.push(bytes(arg_text(v)));
            }
            "KEEPTTL" | "NX" | "XX" | "GET" if v == &Value::Bool(true) => argv.push(bytes(key)),
            // node-redis 4 ignores what it does not know (5's `expiration`, `condition`).
            _ => {}
        }
    }
}

/// node-redis's `client.json.<method>`.
pub fn node_redis_json(method: &str, args: &[HostArg]) -> Result<Command, ShellError> {
    let key = args.first().map(value_of).unwrap_or(Value::Undefined);
    let mut argv = vec![bytes(format!("JSON.{}", method.to_ascii_uppercase()))];
    argv.push(bytes(arg_text(&key)));
    let mut shape = Shape::Raw;
    match method {
        "set" => {
            let path = args.get(1).map(value_of).unwrap_or(Value::Undefined);
            argv.push(bytes(arg_text(&path)));
            let json = args.get(2).map(value_of).unwrap_or(Value::Null);
            argv.push(bytes(json_stringify(&json)));
            if let Some(Value::Document(opts)) = args.get(3).map(value_of) {
                for flag in ["NX", "XX"] {
                    if opts.get(flag).is_some_and(|v| v == &Value::Bool(true)) {
                        argv.push(bytes(flag));
                    }
                }
            }
        }
        "get" => {
            if let Some(Value::Document(opts)) = args.get(1).map(value_of) {
                match opts.get("path") {
                    Some(Value::Array(paths)) => {
                        argv.extend(paths.iter().map(|p| bytes(arg_text(p))))
                    }
                    Some(p) => argv.push(bytes(arg_text(p))),
                    None => {}
                }
            }
            shape = Shape::Json;
        }
        "del" | "type" | "strLen" | "arrLen" | "objKeys" | "objLen" | "clear" | "toggle" => {
            argv[0] = bytes(format!("JSON.{}", method.to_ascii_uppercase()));
            flatten(args.get(1..).unwrap_or(&[]), false, &mut argv);
        }
        "numIncrBy" | "numMultBy" | "arrAppend" | "arrInsert" | "strAppend" | "merge" => {
            argv.push(bytes(
                args.get(1)
                    .map(value_of)
                    .map(|p| arg_text(&p))
                    .unwrap_or_default(),
            ));
            for a in args.get(2..).unwrap_or(&[]) {
                argv.push(bytes(json_stringify(&value_of(a))));
            }
            shape = if method.starts_with("num") {
                Shape::Json
            } else {
                Shape::Raw
            };
        }
        _ => {
            return Err(type_error(format!(
                "client.json.{method} is not a function"
            )))
        }
    }
    Ok(Command { argv, shape })
}

/// node-redis's `client.ft.search(index, query, options)`.
pub fn node_redis_ft(method: &str, args: &[HostArg]) -> Result<Command, ShellError> {
    let mut argv = vec![bytes(format!("FT.{}", method.to_ascii_uppercase()))];
    match method {
        "search" => {
            flatten(args.get(..2).unwrap_or(args), false, &mut argv);
            if let Some(Value::Document(opts)) = args.get(2).map(value_of) {
                if let Some(Value::Document(limit)) = opts.get("LIMIT") {
                    argv.push(bytes("LIMIT"));
                    for key in ["from", "size"] {
                        argv.push(bytes(limit.get(key).map(arg_text).unwrap_or_default()));
                    }
                }
                if let Some(sort) = opts.get("SORTBY") {
                    argv.push(bytes("SORTBY"));
                    match sort {
                        Value::Document(d) => {
                            argv.push(bytes(d.get("BY").map(arg_text).unwrap_or_default()));
                            if let Some(dir) = d.get("DIRECTION") {
                                argv.push(bytes(arg_text(dir)));
                            }
                        }
                        other => argv.push(bytes(arg_text(other))),
                    }
                }
                if let Some(Value::Document(params)) = opts.get("PARAMS") {
                    argv.push(bytes("PARAMS"));
                    argv.push(bytes((params.len() * 2).to_string()));
                    for (k, v) in params {
                        argv.push(bytes(k.as_str()));
                        argv.push(bytes(arg_text(v)));
                    }
                }
                if let Some(d) = opts.get("DIALECT") {
                    argv.push(bytes("DIALECT"));
                    argv.push(bytes(arg_text(d)));
                }
            }
            Ok(Command {
                argv,
                shape: Shape::Search,
            })
        }
        "dropIndex" | "info" | "_list" => {
            argv[0] = bytes(match method {
                "dropIndex" => "FT.DROPINDEX",
                "info" => "FT.INFO",
                _ => "FT._LIST",
            });
            flatten(args, false, &mut argv);
            Ok(Command {
                argv,
                shape: Shape::Raw,
            })
        }
        _ => Err(type_error(format!("client.ft.{method} is not a function"))),
    }
}

/// node-redis's `client.sendCommand([...])` and ioredis's `redis.call(...)`: words as given.
pub fn raw(args: &[HostArg]) -> Command {
    let mut argv = Vec::new();
    flatten(args, false, &mut argv);
    Command {
        argv,
        shape: Shape::Raw,
    }
}

/// ioredis: `redis.<command>(args)`, objects flattened for the commands that take pairs.
pub fn ioredis(method: &str, args: &[HostArg]) -> Result<Command, ShellError> {
    let name = method.to_ascii_uppercase();
    if crate::redis::commands::lookup(name.as_bytes()).is_none() {
        return Err(type_error(format!("redis.{method} is not a function")));
    }
    let objects = matches!(name.as_str(), "HSET" | "HMSET" | "MSET" | "MSETNX");
    let mut argv = vec![bytes(name.as_str())];
    flatten(args, objects, &mut argv);
    let shape = match name.as_str() {
        "HGETALL" => Shape::Object { null_proto: false },
        _ => Shape::Raw,
    };
    Ok(Command { argv, shape })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A reply as the driver's plain RESP2 value; an error reply is Err(message).
pub fn raw_value(r: Reply) -> Result<Value, String> {
    Ok(match r {
        Reply::Bulks(bulks) => return raw_value(bulks.expand()),
        Reply::Status(s) => Value::String(s.into_owned()),
        Reply::Error(e) => return Err(e),
        Reply::Integer(i) => number_value(i as f64),
        Reply::Bulk(b) => Value::String(text(&b)),
        Reply::Nil | Reply::NilArray | Reply::Blocked => Value::Null,
        Reply::Array(items) | Reply::Set(items) | Reply::Many(items) => {
            Value::Array(items.into_iter().map(nested_value).collect())
        }
        Reply::Map(pairs) => Value::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [nested_value(k), nested_value(v)])
                .collect(),
        ),
        Reply::Double(s) => Value::String(s),
    })
}

/// An element of an array reply: an error inside (an EXEC result) stays a value.
fn nested_value(r: Reply) -> Value {
    raw_value(r).unwrap_or_else(|e| error_document("ReplyError", &e))
}

/// An error as the evaluator hands it to `catch` and as `console.log` recognises it.
pub fn error_document(name: &str, message: &str) -> Value {
    let mut d = Document::default();
    d.insert("name".into(), Value::String(name.into()));
    d.insert("message".into(), Value::String(message.into()));
    Value::Document(d)
}

fn parse_number(v: &Value) -> Value {
    match v {
        Value::String(s) => match s.as_str() {
            "inf" | "+inf" => Value::Double(f64::INFINITY),
            "-inf" => Value::Double(f64::NEG_INFINITY),
            _ => s
                .parse::<f64>()
                .map_or(Value::Double(f64::NAN), number_value),
        },
        other => other.clone(),
    }
}

/// A search hit's fields; a JSON document's `$` field is its JSON text, merged in parsed.
fn search_document(fields: Vec<Value>) -> Document {
    let mut doc = Document::default();
    let mut it = fields.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let key = arg_text(&k);
        if key == "$" {
            if let Some(Value::Document(parsed)) = json_parse(&arg_text(&v)) {
                doc.extend(parsed);
                continue;
            }
        }
        doc.insert(key, v);
    }
    doc
}

fn pairs_to_document(items: Vec<Value>) -> Document {
    let mut doc = Document::default();
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        doc.insert(arg_text(&k), v);
    }
    doc
}

/// The value a reply resolves to under `shape`.
pub fn shape_reply(shape: Shape, r: Reply) -> Result<Value, String> {
    let v = raw_value(r)?;
    Ok(match (shape, v) {
        (Shape::Raw, v) => v,
        (Shape::Bool, Value::Int32(i)) => Value::Bool(i != 0),
        (Shape::Float, v) => parse_number(&v),
        (Shape::Object { .. }, Value::Array(items)) => Value::Document(pairs_to_document(items)),
        (Shape::WithScores, Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(value), Some(score)) = (it.next(), it.next()) {
                let mut d = Document::default();
                d.insert("value".into(), value);
                d.insert("score".into(), parse_number(&score));
                out.push(Value::Document(d));
            }
            Value::Array(out)
        }
        (Shape::Json, Value::String(s)) => json_parse(&s).unwrap_or(Value::String(s)),
        (Shape::Search, Value::Array(items)) => {
            let mut it = items.into_iter();
            let total = it.next().unwrap_or(Value::Int32(0));
            let mut documents = Vec::new();
            let rest: Vec<Value> = it.collect();
            let mut i = 0;
            while let Some(id) = rest.get(i) {
                let mut d = Document::default();
                d.insert("id".into(), id.clone());
                let value = match rest.get(i + 1) {
                    Some(Value::Array(fields)) => {
                        i += 2;
                        search_document(fields.clone())
                    }
                    _ => {
                        i += 1;
                        Document::default()
                    }
                };
                d.insert("value".into(), Value::Document(value));
                documents.push(Value::Document(d));
            }
            let mut out = Document::default();
            out.insert("total".into(), total);
            out.insert("documents".into(), Value::Array(documents));
            Value::Document(out)
        }
        (_, v) => v,
    })
}
