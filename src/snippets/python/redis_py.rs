//! redis-py on the sandbox's Redis server: each method builds the command redis-py sends,
//! runs it through the server's normal command path, and shapes the reply with redis-py's
//! own response callbacks (RESP2 shapes: `bytes` unless `decode_responses=True`).

use std::collections::VecDeque;
use std::rc::Rc;

use super::builtins::{json_loads, Args};
use super::interp::{Interp, R};
use super::value::{float_repr, to_str, Obj, PyErr, Val};
use crate::redis::reply::Reply;

/// How a reply is shaped, beyond the command name's default callback.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub withscores: bool,
    pub set_get: bool,
    pub as_score: bool,
    pub geo: Option<[bool; 3]>,
    /// RedisJSON replies that redis-py decodes with `json.loads`.
    pub json: bool,
    pub json_set: bool,
    pub search: bool,
}

pub type Command = (Vec<Vec<u8>>, Shape);

fn data_error(v: &Val) -> PyErr {
    PyErr::new(
        "redis.exceptions.DataError",
        format!(
            "Invalid input of type: '{}'. Convert to a bytes, string, int or float first.",
            v.type_name()
        ),
    )
}

/// redis-py's `Encoder.encode`.
pub fn encode(v: &Val) -> R<Vec<u8>> {
    match v {
        Val::Bytes(b) => Ok(b.to_vec()),
        Val::Str(s) => Ok(s.as_bytes().to_vec()),
        Val::Int(i) => Ok(i.to_string().into_bytes()),
        Val::Float(f) => Ok(float_repr(*f).into_bytes()),
        Val::Obj(o) => match &*o.borrow() {
            Obj::TimeDelta(ms) => Ok((ms / 1000).to_string().into_bytes()),
            _ => Err(data_error(v)),
        },
        _ => Err(data_error(v)),
    }
}

fn seconds(v: &Val, ms: bool) -> R<Vec<u8>> {
    if let Val::Obj(o) = v {
        if let Obj::TimeDelta(d) = &*o.borrow() {
            return Ok(if ms { *d } else { d / 1000 }.to_string().into_bytes());
        }
        if let Obj::DateTime(t, _) = &*o.borrow() {
            return Ok(if ms { *t } else { t / 1000 }.to_string().into_bytes());
        }
    }
    encode(v)
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// The keys of `keys, *args` parameters: a list, or the positional arguments themselves.
fn flatten(interp: &mut Interp, vals: &[Val]) -> R<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for v in vals {
        match v {
            Val::List(_) | Val::Tuple(_) => {
                for i in interp.iterate(v)? {
                    out.push(encode(&i)?);
                }
            }
            other => out.push(encode(other)?),
        }
    }
    Ok(out)
}

fn need(a: &Args, i: usize, name: &str, method: &str) -> R<Vec<u8>> {
    encode(&a.need(i, name, method)?)
}

/// The command a redis-py method sends, or None when the method is not a command.
pub fn build(interp: &mut Interp, method: &str, a: &Args) -> R<Option<Command>> {
    let mut shape = Shape::default();
    let m = method;
    let cmd: Vec<Vec<u8>> = match m {
        "set" => {
            let mut argv = vec![b("SET"), need(a, 0, "name", m)?, need(a, 1, "value", m)?];
            for (kw, word, ms) in [
                ("ex", "EX", false),
                ("px", "PX", true),
                ("exat", "EXAT", false),
                ("pxat", "PXAT", true),
            ] {
                if let Some(v) = a.kw(kw).filter(|v| !matches!(v, Val::None)) {
                    argv.push(b(word));
                    argv.push(seconds(&v, ms)?);
                }
            }
            for (kw, word) in [
                ("keepttl", "KEEPTTL"),
                ("nx", "NX"),
                ("xx", "XX"),
                ("get", "GET"),
            ] {
                if a.flag(kw) {
                    argv.push(b(word));
                }
            }
            shape.set_get = a.flag("get");
            argv
        }
        "setex" | "psetex" => vec![
            b(&m.to_uppercase()),
            need(a, 0, "name", m)?,
            seconds(&a.need(1, "time", m)?, m == "psetex")?,
            need(a, 2, "value", m)?,
        ],
        "expire" | "pexpire" | "expireat" | "pexpireat" => {
            let ms = m.starts_with('p');
            let mut argv = vec![
                b(&m.to_uppercase()),
                need(a, 0, "name", m)?,
                seconds(&a.need(1, "time", m)?, ms)?,
            ];
            for (kw, word) in [("nx", "NX"), ("xx", "XX"), ("gt", "GT"), ("lt", "LT")] {
                if a.flag(kw) {
                    argv.push(b(word));
                }
            }
            argv
        }
        "incr" | "incrby" | "decr" | "decrby" => {
            let word = if m.starts_with("incr") {
                "INCRBY"
            } else {
                "DECRBY"
            };
            let amount = a.get(1, "amount").unwrap_or(Val::Int(1));
            vec![b(word), need(a, 0, "name", m)?, encode(&amount)?]
        }
        "incrbyfloat" => {
            let amount = a.get(1, "amount").unwrap_or(Val::Float(1.0));
            vec![b("INCRBYFLOAT"), need(a, 0, "name", m)?, encode(&amount)?]
        }
        "hincrby" | "hincrbyfloat" => {
            let amount = a.get(2, "amount").unwrap_or(if m == "hincrby" {
                Val::Int(1)
            } else {
                Val::Float(1.0)
            });
            vec![
                b(&m.to_uppercase()),
                need(a, 0, "name", m)?,
                need(a, 1, "key", m)?,
                encode(&amount)?,
            ]
        }
        "mget" | "delete" | "exists" | "unlink" | "touch" => {
            let word = match m {
                "delete" => "DEL",
                other => &other.to_uppercase(),
            };
            let mut argv = vec![b(word)];
            argv.extend(flatten(interp, &a.pos)?);
            argv
        }
        "mset" | "msetnx" => {
            let mapping = a.need(0, "mapping", m)?;
            let mut argv = vec![b(&m.to_uppercase())];
            let Val::Dict(d) = &mapping else {
                return Err(PyErr::new(
                    "redis.exceptions.DataError",
                    "MSET requires **kwargs or a single dict arg",
                ));
            };
            for (k, v) in d.borrow().iter() {
                argv.push(encode(k)?);
                argv.push(encode(v)?);
            }
            argv
        }
        "keys" => vec![
            b("KEYS"),
            encode(&a.get(0, "pattern").unwrap_or(Val::str("*")))?,
        ],
        "hset" => {
            let mut argv = vec![b("HSET"), need(a, 0, "name", m)?];
            if let (Some(k), Some(v)) = (a.get(1, "key"), a.get(2, "value")) {
                if !matches!(k, Val::None) {
                    argv.push(encode(&k)?);
                    argv.push(encode(&v)?);
                }
            }
            if let Some(Val::Dict(d)) = &a.kw("mapping") {
                for (k, v) in d.borrow().iter() {
                    argv.push(encode(k)?);
                    argv.push(encode(v)?);
                }
            }
            if let Some(items) = a.kw("items") {
                for i in interp.iterate(&items)? {
                    argv.push(encode(&i)?);
                }
            }
            if argv.len() == 2 {
                return Err(PyErr::new(
                    "redis.exceptions.DataError",
                    "'hset' with no key value pairs",
                ));
            }
            argv
        }
        "hmget" => {
            let mut argv = vec![b("HMGET"), need(a, 0, "name", m)?];
            argv.extend(flatten(interp, &a.pos[1.min(a.pos.len())..])?);
            argv
        }
        "zadd" => {
            let mut argv = vec![b("ZADD"), need(a, 0, "name", m)?];
            let mapping = a.need(1, "mapping", m)?;
            let Val::Dict(d) = &mapping else {
                return Err(PyErr::new(
                    "redis.exceptions.DataError",
                    "ZADD requires at least one element/score pair",
                ));
            };
            if d.borrow().is_empty() {
                return Err(PyErr::new(
                    "redis.exceptions.DataError",
                    "ZADD requires at least one element/score pair",
                ));
            }
            if a.flag("nx") && a.flag("xx") {
                return Err(PyErr::new(
                    "redis.exceptions.DataError",
                    "ZADD allows either 'nx' or 'xx', not both",
                ));
            }
            if a.flag("incr") && d.borrow().len() != 1 {
                return Err(PyErr::new(
                    "redis.exceptions.DataError",
                    "ZADD option 'incr' only works when passing a single element/score pair",
                ));
            }
            for (kw, word) in [
                ("nx", "NX"),
                ("xx", "XX"),
                ("gt", "GT"),
                ("lt", "LT"),
                ("ch", "CH"),
                ("incr", "INCR"),
            ] {
                if a.flag(kw) {
                    argv.push(b(word));
                }
            }
            shape.as_score = a.flag("incr");
            for (k, v) in d.borrow().iter() {
                argv.push(encode(v)?);
                argv.push(encode(k)?);
            }
            argv
        }
        "zrange" | "zrevrange" => {
            let desc = m == "zrevrange" || a.flag("desc");
            let withscores = a
                .get(3 + usize::from(m == "zrange"), "withscores")
                .is_some_and(|v| v.truthy());
            let byscore = a.flag("byscore");
            let bylex = a.flag("bylex");
            let limited = a.kw("offset").is_some() || a.kw("num").is_some();
            let start = need(a, 1, "start", m)?;
            let end = need(a, 2, "end", m)?;
            let mut argv = if desc && !byscore && !bylex && !limited {
                vec![b("ZREVRANGE"), need(a, 0, "name", m)?, start, end]
            } else {
                let mut argv = vec![b("ZRANGE"), need(a, 0, "name", m)?];
                if desc && (byscore || bylex) {
                    argv.push(end);
                    argv.push(start);
                } else {
                    argv.push(start);
                    argv.push(end);
                }
                if byscore {
                    argv.push(b("BYSCORE"));
                }
                if bylex {
                    argv.push(b("BYLEX"));
                }
                if desc {
                    argv.push(b("REV"));
                }
                if let (Some(o), Some(n)) = (a.kw("offset"), a.kw("num")) {
                    argv.push(b("LIMIT"));
                    argv.push(encode(&o)?);
                    argv.push(encode(&n)?);
                }
                argv
            };
            if withscores {
                argv.push(b("WITHSCORES"));
            }
            shape.withscores = withscores;
            argv
        }
        "zrangebyscore" | "zrevrangebyscore" => {
            let mut argv = vec![
                b(&m.to_uppercase()),
                need(a, 0, "name", m)?,
                need(a, 1, "min", m)?,
                need(a, 2, "max", m)?,
            ];
            if let (Some(s), Some(n)) = (a.get(3, "start"), a.get(4, "num")) {
                argv.push(b("LIMIT"));
                argv.push(encode(&s)?);
                argv.push(encode(&n)?);
            }
            let withscores = a.get(5, "withscores").is_some_and(|v| v.truthy());
            if withscores {
                argv.push(b("WITHSCORES"));
            }
            shape.withscores = withscores;
            argv
        }
        "zincrby" => vec![
            b("ZINCRBY"),
            need(a, 0, "name", m)?,
            need(a, 1, "amount", m)?,
            need(a, 2, "value", m)?,
        ],
        "zrank" | "zrevrank" => {
            let mut argv = vec![
                b(&m.to_uppercase()),
                need(a, 0, "name", m)?,
                need(a, 1, "value", m)?,
            ];
            if a.get(2, "withscore").is_some_and(|v| v.truthy()) {
                argv.push(b("WITHSCORE"));
            }
            argv
        }
        "zpopmin" | "zpopmax" => {
            let mut argv = vec![b(&m.to_uppercase()), need(a, 0, "name", m)?];
            if let Some(c) = a.get(1, "count").filter(|v| !matches!(v, Val::None)) {
                argv.push(encode(&c)?);
            }
            shape.withscores = true;
            argv
        }
        "lpop" | "rpop" | "spop" | "srandmember" => {
            let mut argv = vec![b(&m.to_uppercase()), need(a, 0, "name", m)?];
            if let Some(c) = a
                .get(1, "count")
                .or_else(|| a.kw("number"))
                .filter(|v| !matches!(v, Val::None))
            {
                argv.push(encode(&c)?);
            }
            argv
        }
        "geoadd" => {
            let mut argv = vec![b("GEOADD"), need(a, 0, "name", m)?];
            for (kw, word) in [("nx", "NX"), ("xx", "XX"), ("ch", "CH")] {
                if a.flag(kw) {
                    argv.push(b(word));
                }
            }
            let values = interp.iterate(&a.need(1, "values", m)?)?;
            if values.len() % 3 != 0 {
                return Err(PyErr::new(
                    "redis.exceptions.DataError",
                    "GEOADD requires places with lon, lat and name values",
                ));
            }
            for v in values {
                argv.push(encode(&v)?);
            }
            argv
        }
        "geodist" => {
            let mut argv = vec![
                b("GEODIST"),
                need(a, 0, "name", m)?,
                need(a, 1, "place1", m)?,
                need(a, 2, "place2", m)?,
            ];
            if let Some(u) = a.get(3, "unit").filter(|v| !matches!(v, Val::None)) {
                argv.push(encode(&u)?);
            }
            argv
        }
        "geosearch" => {
            let mut argv = vec![b("GEOSEARCH"), need(a, 0, "name", m)?];
            if let Some(member) = a.get(1, "member").filter(|v| !matches!(v, Val::None)) {
                argv.push(b("FROMMEMBER"));
                argv.push(encode(&member)?);
            }
            if let (Some(lon), Some(lat)) = (a.get(2, "longitude"), a.get(3, "latitude")) {
                argv.push(b("FROMLONLAT"));
                argv.push(encode(&lon)?);
                argv.push(encode(&lat)?);
            }
            let unit = encode(&a.get(4, "unit").unwrap_or(Val::str("m")))?;
            if let Some(r) = a.get(5, "radius").filter(|v| !matches!(v, Val::None)) {
                argv.push(b("BYRADIUS"));
                argv.push(encode(&r)?);
            } else if let (Some(w), Some(h)) = (a.get(6, "width"), a.get(7, "height")) {
                argv.push(b("BYBOX"));
                argv.push(encode(&w)?);
                argv.push(encode(&h)?);
            }
            argv.push(unit);
            if let Some(s) = a.get(8, "sort").filter(|v| !matches!(v, Val::None)) {
                argv.push(encode(&s)?);
            }
            if let Some(c) = a.get(9, "count").filter(|v| !matches!(v, Val::None)) {
                argv.push(b("COUNT"));
                argv.push(encode(&c)?);
                if a.flag("any") {
                    argv.push(b("ANY"));
                }
            }
            let flags = [a.flag("withdist"), a.flag("withhash"), a.flag("withcoord")];
            for (on, word) in [
                (flags[2], "WITHCOORD"),
                (flags[0], "WITHDIST"),
                (flags[1], "WITHHASH"),
            ] {
                if on {
                    argv.push(b(word));
                }
            }
            shape.geo = Some(flags);
            argv
        }
        "publish" => vec![
            b("PUBLISH"),
            need(a, 0, "channel", m)?,
            need(a, 1, "message", m)?,
        ],
        "info" => {
            let mut argv = vec![b("INFO")];
            if let Some(s) = a.get(0, "section").filter(|v| !matches!(v, Val::None)) {
                argv.push(encode(&s)?);
            }
            argv
        }
        "scan" => {
            let mut argv = vec![
                b("SCAN"),
                encode(&a.get(0, "cursor").unwrap_or(Val::Int(0)))?,
            ];
            if let Some(p) = a.get(1, "match").filter(|v| !matches!(v, Val::None)) {
                argv.push(b("MATCH"));
                argv.push(encode(&p)?);
            }
            if let Some(c) = a.get(2, "count").filter(|v| !matches!(v, Val::None)) {
                argv.push(b("COUNT"));
                argv.push(encode(&c)?);
            }
            argv
        }
        "execute_command" => {
            let mut argv = Vec::new();
            for v in &a.pos {
                argv.push(encode(v)?);
            }
            if argv.is_empty() {
                return Err(PyErr::type_error("execute_command() missing the command"));
            }
            argv
        }
        _ => {
            // Methods that pass their positional arguments through (get, ttl, lpush, …).
            let Some(word) = passthrough(m) else {
                return Ok(None);
            };
            if let Some((k, _)) = a.kw.first() {
                return Err(PyErr::unsupported(&format!(
                    "the keyword argument '{k}' of redis-py's {m}()"
                )));
            }
            let mut argv = vec![word.into_bytes()];
            argv.extend(flatten(interp, &a.pos)?);
            argv
        }
    };
    Ok(Some((cmd, shape)))
}

/// redis-py methods whose arguments map one to one onto the command's.
fn passthrough(method: &str) -> Option<String> {
    const NAMES: &[&str] = &[
        "get",
        "getdel",
        "getset",
        "append",
        "strlen",
        "getrange",
        "setrange",
        "setnx",
        "ttl",
        "pttl",
        "persist",
        "type",
        "rename",
        "renamenx",
        "randomkey",
        "dbsize",
        "flushdb",
        "flushall",
        "ping",
        "echo",
        "time",
        "hget",
        "hgetall",
        "hdel",
        "hkeys",
        "hvals",
        "hlen",
        "hexists",
        "hsetnx",
        "hstrlen",
        "lpush",
        "rpush",
        "lpushx",
        "rpushx",
        "lrange",
        "llen",
        "lindex",
        "lset",
        "lrem",
        "ltrim",
        "linsert",
        "lpos",
        "lmove",
        "rpoplpush",
        "sadd",
        "srem",
        "smembers",
        "sismember",
        "smismember",
        "scard",
        "sinter",
        "sunion",
        "sdiff",
        "smove",
        "sinterstore",
        "sunionstore",
        "sdiffstore",
        "zscore",
        "zcard",
        "zrem",
        "zcount",
        "zmscore",
        "zremrangebyrank",
        "zremrangebyscore",
        "zlexcount",
        "geopos",
        "geohash",
        "pfadd",
        "pfcount",
        "pfmerge",
        "setbit",
        "getbit",
        "bitcount",
        "xadd",
        "xlen",
        "xrange",
        "xrevrange",
        "xdel",
        "object",
        "copy",
        "dump",
        "unwatch",
        "watch",
        "hrandfield",
        "getex",
        "expiretime",
        "pexpiretime",
        "lastsave",
    ];
    NAMES.contains(&method).then(|| method.to_uppercase())
}

/// The text of a server error as redis-py raises it: the class its code maps to, and the
/// message without the generic codes (`ERR `).
pub fn error(text: &str) -> PyErr {
    let code = text.split(' ').next().unwrap_or("");
    let rest = text.get(code.len() + 1..).unwrap_or("");
    let class = match code {
        "ERR" => "redis.exceptions.ResponseError",
        "EXECABORT" => "redis.exceptions.ExecAbortError",
        "NOSCRIPT" => "redis.exceptions.NoScriptError",
        "READONLY" => "redis.exceptions.ReadOnlyError",
        "OOM" => "redis.exceptions.OutOfMemoryError",
        "LOADING" => "redis.exceptions.BusyLoadingError",
        "NOAUTH" | "WRONGPASS" => "redis.exceptions.AuthenticationError",
        _ => return PyErr::new("redis.exceptions.ResponseError", text),
    };
    PyErr::new(class, rest)
}

/// A reply as redis-py's parser gives it, before the command's callback.
pub fn raw(reply: &Reply, decode: bool) -> Result<Val, PyErr> {
    Ok(match reply {
        Reply::Bulks(bulks) => return raw(&bulks.expand(), decode),
        Reply::Status(s) => text(s.as_bytes(), decode),
        Reply::Error(e) => return Err(error(e)),
        Reply::Integer(i) => Val::Int(*i),
        Reply::Bulk(bytes) => text(bytes, decode),
        Reply::Nil | Reply::NilArray | Reply::Blocked => Val::None,
        Reply::Array(items) | Reply::Set(items) | Reply::Many(items) => Val::list(
            items
                .iter()
                .map(|r| raw(r, decode).unwrap_or_else(|e| Val::Exception(Rc::new(e))))
                .collect(),
        ),
        Reply::Map(pairs) => Val::list(
            pairs
                .iter()
                .flat_map(|(k, v)| [k, v])
                .map(|r| raw(r, decode).unwrap_or_else(|e| Val::Exception(Rc::new(e))))
                .collect(),
        ),
        Reply::Double(d) => Val::Float(d.parse().unwrap_or(0.0)),
    })
}

fn text(bytes: &[u8], decode: bool) -> Val {
    if decode {
        Val::str(String::from_utf8_lossy(bytes).as_ref())
    } else {
        Val::bytes(bytes)
    }
}

fn float_of(v: &Val) -> R<Val> {
    match v {
        Val::None => Ok(Val::None),
        Val::Float(_) => Ok(v.clone()),
        Val::Int(i) => Ok(Val::Float(*i as f64)),
        other => {
            let s = to_str_bytes(other);
            s.trim()
                .parse::<f64>()
                .map(Val::Float)
                .or_else(|_| match s.as_str() {
                    "inf" | "+inf" => Ok(Val::Float(f64::INFINITY)),
                    "-inf" => Ok(Val::Float(f64::NEG_INFINITY)),
                    _ => Err(PyErr::new(
                        "ValueError",
                        format!(
                            "could not convert string to float: {}",
                            super::value::repr(other)
                        ),
                    )),
                })
        }
    }
}

fn to_str_bytes(v: &Val) -> String {
    match v {
        Val::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => to_str(other),
    }
}

fn is_ok(v: &Val) -> bool {
    to_str_bytes(v) == "OK"
}

fn items(v: &Val) -> Vec<Val> {
    match v {
        Val::List(l) => l.borrow().clone(),
        _ => Vec::new(),
    }
}

/// redis-py's response callback for a command (by its name) applied to a raw reply.
pub fn shape(argv: &[Vec<u8>], v: Val, s: &Shape, decode: bool) -> R<Val> {
    let name = String::from_utf8_lossy(argv.first().map_or(&[][..], |n| n)).to_uppercase();
    if let Val::Exception(e) = &v {
        return Err((**e).clone());
    }
    Ok(match name.as_str() {
        "SET" => {
            if s.set_get {
                v
            } else if v.truthy() {
                Val::Bool(is_ok(&v))
            } else {
                v
            }
        }
        "COPY" | "EXPIRE" | "EXPIREAT" | "HEXISTS" | "HMSET" | "MOVE" | "MSETNX" | "PERSIST"
        | "PSETEX" | "PEXPIRE" | "PEXPIREAT" | "RENAMENX" | "SETEX" | "SETNX" | "SMOVE" => {
            Val::Bool(v.truthy())
        }
        "HINCRBYFLOAT" | "INCRBYFLOAT" => float_of(&v)?,
        "FLUSHALL" | "FLUSHDB" | "LSET" | "LTRIM" | "MSET" | "PFMERGE" | "RENAME" | "SELECT"
        | "SWAPDB" | "WATCH" | "UNWATCH" => Val::Bool(is_ok(&v)),
        "PING" => Val::Bool(to_str_bytes(&v) == "PONG"),
        "GEODIST" | "ZINCRBY" | "ZSCORE" => float_of(&v)?,
        "SMEMBERS" | "SDIFF" | "SINTER" | "SUNION" => {
            let mut set = Vec::new();
            for i in items(&v) {
                super::value::set_add(&mut set, i);
            }
            Val::Set(Rc::new(std::cell::RefCell::new(set)))
        }
        "ZRANGE" | "ZRANGEBYSCORE" | "ZREVRANGE" | "ZREVRANGEBYSCORE" | "ZPOPMAX" | "ZPOPMIN" => {
            if !s.withscores || !v.truthy() {
                return Ok(v);
            }
            let flat = items(&v);
            let mut out = Vec::new();
            for pair in flat.chunks(2) {
                if let [m, score] = pair {
                    out.push(Val::tuple(vec![m.clone(), float_of(score)?]));
                }
            }
            Val::list(out)
        }
        "ZRANK" | "ZREVRANK" => {
            let it = items(&v);
            if let [rank, score] = it.as_slice() {
                Val::list(vec![rank.clone(), float_of(score)?])
            } else {
                v
            }
        }
        "ZADD" => match v {
            Val::None => Val::None,
            other if s.as_score => float_of(&other)?,
            other => other,
        },
        "ZMSCORE" => Val::list(items(&v).iter().map(float_of).collect::<R<_>>()?),
        "HGETALL" => {
            let flat = items(&v);
            let mut d = Vec::new();
            for pair in flat.chunks(2) {
                if let [k, val] = pair {
                    super::value::dict_set(&mut d, k.clone(), val.clone());
                }
            }
            Val::dict(d)
        }
        "GEOPOS" => Val::list(
            items(&v)
                .iter()
                .map(|p| match items(p).as_slice() {
                    [lon, lat] => Ok(Val::tuple(vec![float_of(lon)?, float_of(lat)?])),
                    _ => Ok(Val::None),
                })
                .collect::<R<_>>()?,
        ),
        "GEOSEARCH" | "GEORADIUS" | "GEORADIUSBYMEMBER" => match s.geo {
            Some([dist, hash, coord]) if dist || hash || coord => {
                let mut out = Vec::new();
                for row in items(&v) {
                    let cols = items(&row);
                    let mut it = cols.into_iter();
                    let mut r = vec![it.next().unwrap_or(Val::None)];
                    if dist {
                        r.push(float_of(&it.next().unwrap_or(Val::None))?);
                    }
                    if hash {
                        r.push(it.next().unwrap_or(Val::None));
                    }
                    if coord {
                        let ll = items(&it.next().unwrap_or(Val::None));
                        match ll.as_slice() {
                            [lon, lat] => r.push(Val::tuple(vec![float_of(lon)?, float_of(lat)?])),
                            _ => r.push(Val::None),
                        }
                    }
                    out.push(Val::list(r));
                }
                Val::list(out)
            }
            _ => v,
        },
        "INFO" => parse_info(&to_str_bytes(&v)),
        "GEOHASH" => Val::list(
            items(&v)
                .iter()
                .map(|h| match h {
                    Val::None => Val::None,
                    other => Val::str(to_str_bytes(other)),
                })
                .collect(),
        ),
        "TYPE" if !decode => v,
        "SCAN" => {
            let it = items(&v);
            match it.as_slice() {
                [cursor, keys] => Val::tuple(vec![
                    Val::Int(to_str_bytes(cursor).parse().unwrap_or(0)),
                    keys.clone(),
                ]),
                _ => v,
            }
        }
        "TIME" => {
            let it = items(&v);
            match it.as_slice() {
                [sec, us] => Val::tuple(vec![
                    Val::Int(to_str_bytes(sec).parse().unwrap_or(0)),
                    Val::Int(to_str_bytes(us).parse().unwrap_or(0)),
                ]),
                _ => v,
            }
        }
        "BLPOP" | "BRPOP" => match &v {
            Val::List(l) => Val::tuple(l.borrow().clone()),
            other => other.clone(),
        },
        "JSON.SET" => {
            if v.truthy() {
                Val::Bool(is_ok(&v))
            } else {
                Val::None
            }
        }
        "FT.SEARCH" if s.search => search_result(&v)?,
        n if n.starts_with("JSON.") && s.json => json_decode(v)?,
        _ => v,
    })
}

fn json_decode(v: Val) -> R<Val> {
    match &v {
        Val::Bytes(b) => json_loads(&String::from_utf8_lossy(b)),
        Val::Str(s) => json_loads(s),
        Val::List(l) => {
            let items = l.borrow().clone();
            let mut out = Vec::new();
            for i in items {
                out.push(json_decode(i)?);
            }
            Ok(Val::list(out))
        }
        _ => Ok(v),
    }
}

fn search_result(v: &Val) -> R<Val> {
    let flat = items(v);
    let total = flat.first().and_then(Val::as_int).unwrap_or(0);
    let mut docs = Vec::new();
    let mut i = 1;
    while i < flat.len() {
        let id = Val::str(to_str_bytes(&flat[i]));
        let mut fields: Vec<(Val, Val)> =
            vec![(Val::str("id"), id), (Val::str("payload"), Val::None)];
        let mut json = None;
        if let Some(f) = flat.get(i + 1) {
            for pair in items(f).chunks(2) {
                if let [k, val] = pair {
                    let key = to_str_bytes(k);
                    let value = Val::str(to_str_bytes(val));
                    match key.as_str() {
                        "id" => {}
                        "$" => json = Some(value),
                        _ => super::value::dict_set(&mut fields, Val::str(key), value),
                    }
                }
            }
        }
        if let Some(j) = json {
            fields.push((Val::str("json"), j));
        }
        docs.push(Val::obj(Obj::SearchDoc { fields }));
        i += 2;
    }
    Ok(Val::obj(Obj::SearchResult { total, docs }))
}

/// redis-py's `parse_info`.
fn parse_info(text: &str) -> Val {
    fn value(s: &str) -> Val {
        if !s.contains(',') && !s.contains('=') {
            if s.contains('.') {
                if let Ok(f) = s.parse::<f64>() {
                    return Val::Float(f);
                }
            } else if let Ok(i) = s.parse::<i64>() {
                return Val::Int(i);
            }
            return Val::str(s);
        }
        if !s.contains('=') {
            return Val::list(s.split(',').filter(|p| !p.is_empty()).map(value).collect());
        }
        let mut d = Vec::new();
        for item in s.split(',').filter(|p| !p.is_empty()) {
            match item.rsplit_once('=') {
                Some((k, v)) => super::value::dict_set(&mut d, Val::str(k), value(v)),
                None => super::value::dict_set(&mut d, Val::str(item), Val::Bool(true)),
            }
        }
        Val::dict(d)
    }
    let mut info = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) => {
                let v = if k == "cmdstat_host" {
                    Val::str(v)
                } else {
                    value(v)
                };
                super::value::dict_set(&mut info, Val::str(k), v);
            }
            None => {
                let entry = info
                    .iter_mut()
                    .find(|(k, _)| matches!(k, Val::Str(s) if &**s == "__raw__"));
                match entry {
                    Some((_, Val::List(l))) => l.borrow_mut().push(Val::str(line)),
                    _ => info.push((Val::str("__raw__"), Val::list(vec![Val::str(line)]))),
                }
            }
        }
    }
    Val::dict(info)
}

/// Runs one command as the snippet's own connection; one round trip.
pub fn run_command(interp: &mut Interp, argv: &[Vec<u8>]) -> Reply {
    interp.round_trips += 1;
    let now = interp.now_ms();
    interp.engines.redis.execute(argv, now)
}

pub fn call(interp: &mut Interp, decode: bool, cmd: Command) -> R<Val> {
    let (argv, s) = cmd;
    let reply = run_command(interp, &argv);
    let v = raw(&reply, decode)?;
    shape(&argv, v, &s, decode)
}

/// A method of `redis.Redis`.
pub fn client_method(interp: &mut Interp, decode: bool, method: &str, a: &Args) -> R<Val> {
    match method {
        "pipeline" => {
            let transaction = a.get(0, "transaction").is_none_or(|v| v.truthy());
            return Ok(Val::obj(Obj::Pipeline {
                decode,
                transaction,
                queue: Vec::new(),
                immediate: false,
                watching: false,
            }));
        }
        "pubsub" => {
            return Ok(Val::obj(Obj::PubSub {
                decode,
                ignore: a.flag("ignore_subscribe_messages"),
                client: None,
                pending: VecDeque::new(),
            }))
        }
        "json" => return Ok(Val::obj(Obj::RedisJson { decode })),
        "ft" => {
            let index = to_str(&a.get(0, "index_name").unwrap_or(Val::str("idx")));
            return Ok(Val::obj(Obj::Search { decode, index }));
        }
        "close" | "aclose" | "connection_pool" => return Ok(Val::None),
        "scan_iter" => {
            let mut cursor = Val::Int(0);
            let mut keys = Vec::new();
            loop {
                interp.step(1)?;
                let args = Args::new(
                    vec![cursor],
                    vec![
                        ("match".into(), a.get(0, "match").unwrap_or(Val::None)),
                        ("count".into(), a.get(1, "count").unwrap_or(Val::None)),
                    ],
                );
                let Some(cmd) = build(interp, "scan", &args)? else {
                    break;
                };
                let page = call(interp, decode, cmd)?;
                let parts = interp.iterate(&page)?;
                let [next, batch] = parts.as_slice() else {
                    break;
                };
                keys.extend(interp.iterate(batch)?);
                if next.as_int().unwrap_or(0) == 0 {
                    break;
                }
                cursor = next.clone();
            }
            return Ok(Val::obj(Obj::Iter("generator", keys)));
        }
        "transaction" => return Err(PyErr::unsupported("redis-py's transaction() helper")),
        _ => {}
    }
    match build(interp, method, a)? {
        Some(cmd) => call(interp, decode, cmd),
        None => Err(PyErr::new(
            "AttributeError",
            format!(
                "'Redis' object has no attribute '{method}' (or the sandbox does not support it)"
            ),
        )),
    }
}

/// `r.json().<method>(…)`: RedisJSON through redis-py's JSON commands.
pub fn json_method(interp: &mut Interp, decode: bool, method: &str, a: &Args) -> R<Val> {
    let dumps = |interp: &mut Interp, v: &Val| -> R<Vec<u8>> {
        let s = super::builtins::call(interp, "json.dumps", vec![v.clone()], Vec::new())?;
        Ok(to_str(&s).into_bytes())
    };
    let name = encode(&a.need(0, "name", method)?)?;
    let path = |i: usize, default: &str| -> R<Vec<u8>> {
        match a.get(i, "path") {
            Some(Val::None) | None => Ok(default.as_bytes().to_vec()),
            Some(p) => encode(&path_text(&p)),
        }
    };
    let mut s = Shape {
        json: true,
        ..Shape::default()
    };
    let argv = match method {
        "set" => {
            let mut argv = vec![
                b("JSON.SET"),
                name,
                path(1, "$")?,
                dumps(interp, &a.need(2, "obj", method)?)?,
            ];
            if a.flag("nx") {
                argv.push(b("NX"));
            }
            if a.flag("xx") {
                argv.push(b("XX"));
            }
            s.json = false;
            s.json_set = true;
            argv
        }
        "get" => {
            let mut argv = vec![b("JSON.GET"), name];
            if a.pos.len() <= 1 {
                argv.push(b("."));
            } else {
                for p in &a.pos[1..] {
                    argv.push(encode(&path_text(p))?);
                }
            }
            argv
        }
        "delete" | "forget" => {
            s.json = false;
            vec![b("JSON.DEL"), name, path(1, ".")?]
        }
        "numincrby" | "nummultby" => vec![
            b(&format!("JSON.{}", method.to_uppercase())),
            name,
            path(1, "$")?,
            dumps(interp, &a.need(2, "number", method)?)?,
        ],
        "arrappend" => {
            let mut argv = vec![b("JSON.ARRAPPEND"), name, path(1, ".")?];
            for v in a.pos.iter().skip(2) {
                argv.push(dumps(interp, v)?);
            }
            s.json = false;
            argv
        }
        "type" | "strlen" | "arrlen" | "objlen" | "objkeys" | "clear" | "toggle" => {
            s.json = false;
            vec![
                b(&format!("JSON.{}", method.to_uppercase())),
                name,
                path(1, ".")?,
            ]
        }
        "mget" => {
            let keys = interp.iterate(&a.need(0, "keys", method)?)?;
            let mut argv = vec![b("JSON.MGET")];
            for k in keys {
                argv.push(encode(&k)?);
            }
            argv.push(encode(&path_text(&a.need(1, "path", method)?))?);
            argv
        }
        _ => return Err(PyErr::unsupported(&format!("redis-py's json().{method}()"))),
    };
    call(interp, decode, (argv, s))
}

fn path_text(p: &Val) -> Val {
    p.clone()
}

/// `r.ft(index).<method>(…)`.
pub fn search_method(
    interp: &mut Interp,
    decode: bool,
    index: &str,
    method: &str,
    a: &Args,
) -> R<Val> {
    match method {
        "search" => {
            let q = a.need(0, "query", method)?;
            let text = match &q {
                Val::Dict(d) => {
                    super::value::dict_get(&d.borrow(), &Val::str("query")).unwrap_or(Val::str("*"))
                }
                other => other.clone(),
            };
            let argv = vec![
                b("FT.SEARCH"),
                b(index),
                encode(&text)?,
                b("DIALECT"),
                b("2"),
                b("LIMIT"),
                b("0"),
                b("10"),
            ];
            call(
                interp,
                decode,
                (
                    argv,
                    Shape {
                        search: true,
                        ..Shape::default()
                    },
                ),
            )
        }
        "dropindex" => {
            let mut argv = vec![b("FT.DROPINDEX"), b(index)];
            if a.get(0, "delete_documents").is_some_and(|v| v.truthy()) {
                argv.push(b("DD"));
            }
            call(interp, decode, (argv, Shape::default()))
        }
        _ => Err(PyErr::unsupported(&format!("redis-py's ft().{method}()"))),
    }
}

/// Pipeline methods: queue commands, run them in one round trip on `execute()`.
pub fn pipeline_method(
    interp: &mut Interp,
    this: &Val,
    o: &Rc<std::cell::RefCell<Obj>>,
    method: &str,
    a: &Args,
) -> R<Val> {
    let (decode, transaction, immediate) = match &*o.borrow() {
        Obj::Pipeline {
            decode,
            transaction,
            immediate,
            ..
        } => (*decode, *transaction, *immediate),
        _ => return Ok(Val::None),
    };
    match method {
        "execute" => {
            let queue = match &mut *o.borrow_mut() {
                Obj::Pipeline {
                    queue,
                    immediate,
                    watching,
                    ..
                } => {
                    *immediate = false;
                    *watching = false;
                    std::mem::take(queue)
                }
                _ => Vec::new(),
            };
            execute(interp, decode, transaction, queue)
        }
        "watch" => {
            let mut argv = vec![b("WATCH")];
            argv.extend(flatten(interp, &a.pos)?);
            if let Obj::Pipeline {
                immediate,
                watching,
                ..
            } = &mut *o.borrow_mut()
            {
                *immediate = true;
                *watching = true;
            }
            call(interp, decode, (argv, Shape::default()))
        }
        "multi" => {
            if let Obj::Pipeline { immediate, .. } = &mut *o.borrow_mut() {
                *immediate = false;
            }
            Ok(Val::None)
        }
        "unwatch" | "reset" => {
            if let Obj::Pipeline {
                immediate,
                watching,
                queue,
                ..
            } = &mut *o.borrow_mut()
            {
                *immediate = false;
                *watching = false;
                queue.clear();
            }
            if method == "unwatch" {
                return call(interp, decode, (vec![b("UNWATCH")], Shape::default()));
            }
            Ok(Val::None)
        }
        _ => {
            let Some(cmd) = build(interp, method, a)? else {
                return Err(PyErr::new(
                    "AttributeError",
                    format!("'Pipeline' object has no attribute '{method}' (or the sandbox does not support it)"),
                ));
            };
            if immediate {
                return call(interp, decode, cmd);
            }
            if let Obj::Pipeline { queue, .. } = &mut *o.borrow_mut() {
                queue.push(cmd);
            }
            Ok(this.clone())
        }
    }
}

fn annotate(e: &PyErr, i: usize, argv: &[Vec<u8>]) -> PyErr {
    let cmd: Vec<String> = argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let mut text = cmd.join(" ");
    if text.chars().count() > 100 {
        text = text.chars().take(97).collect::<String>() + "...";
    }
    PyErr::new(
        &e.class,
        format!(
            "Command # {} ({text}) of pipeline caused error: {}",
            i + 1,
            e.msg
        ),
    )
}

fn execute(interp: &mut Interp, decode: bool, transaction: bool, queued: Vec<Command>) -> R<Val> {
    let (queue, shapes): (Vec<Vec<Vec<u8>>>, Vec<Shape>) = queued.into_iter().unzip();
    if queue.is_empty() {
        return Ok(Val::list(Vec::new()));
    }
    interp.round_trips += 1;
    let now = interp.now_ms();
    let server = &mut *interp.engines.redis;
    let replies: Vec<Reply> = if transaction {
        server.execute(&[b("MULTI")], now);
        let mut queued_errors = Vec::new();
        for (i, argv) in queue.iter().enumerate() {
            let r = server.execute(argv, now);
            if let Reply::Error(e) = r {
                queued_errors.push((i, e));
            }
        }
        let exec = server.execute(&[b("EXEC")], now);
        match exec {
            Reply::Array(items) => items,
            Reply::Nil | Reply::NilArray => {
                return Err(PyErr::new(
                    "redis.exceptions.WatchError",
                    "Watched variable changed.",
                ))
            }
            Reply::Error(e) => {
                if let Some((i, q)) = queued_errors.first() {
                    return Err(annotate(&error(q), *i, &queue[*i]));
                }
                return Err(error(&e));
            }
            _ => Vec::new(),
        }
    } else {
        queue.iter().map(|argv| server.execute(argv, now)).collect()
    };
    let mut out = Vec::new();
    let mut first_error = None;
    for (i, (reply, argv)) in replies.iter().zip(&queue).enumerate() {
        let s = shapes.get(i).cloned().unwrap_or_default();
        let v = match raw(reply, decode) {
            Ok(v) => shape(argv, v, &s, decode),
            Err(e) => Err(e),
        };
        match v {
            Ok(v) => out.push(v),
            Err(e) => {
                if first_error.is_none() {
                    first_error = Some(annotate(&e, i, argv));
                }
                out.push(Val::Exception(Rc::new(e)));
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(Val::list(out))
}

/// `pubsub.<method>(…)`: the subscriber is a connection of its own on the server.
pub fn pubsub_method(
    interp: &mut Interp,
    o: &Rc<std::cell::RefCell<Obj>>,
    method: &str,
    a: &Args,
) -> R<Val> {
    let (decode, client) = match &*o.borrow() {
        Obj::PubSub { decode, client, .. } => (*decode, *client),
        _ => return Ok(Val::None),
    };
    collect_messages(interp, o, decode, client);
    match method {
        "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" => {
            let id = match client {
                Some(id) => id,
                None => {
                    let id = interp.engines.redis.connect();
                    interp.extra_clients.push(id);
                    if let Obj::PubSub { client, .. } = &mut *o.borrow_mut() {
                        *client = Some(id);
                    }
                    id
                }
            };
            let mut argv = vec![b(&method.to_uppercase())];
            argv.extend(flatten(interp, &a.pos)?);
            for (k, _) in &a.kw {
                argv.push(k.as_bytes().to_vec());
            }
            let me = interp.engines.redis.client_id();
            interp.engines.redis.switch_client(id);
            let reply = run_command(interp, &argv);
            interp.engines.redis.switch_client(me);
            let replies = match reply {
                Reply::Many(items) => items,
                Reply::Error(e) => return Err(error(&e)),
                other => vec![other],
            };
            if let Obj::PubSub { pending, .. } = &mut *o.borrow_mut() {
                for r in replies {
                    pending.push_back(message(&r, decode));
                }
            }
            Ok(Val::None)
        }
        "get_message" => {
            // Each call reads one message; a subscribe confirmation that is ignored reads
            // as None, as in redis-py.
            let (message, ignore) = match &mut *o.borrow_mut() {
                Obj::PubSub {
                    pending, ignore, ..
                } => (pending.pop_front(), *ignore),
                _ => (None, false),
            };
            let ignore = ignore || a.flag("ignore_subscribe_messages");
            let Some(m) = message else {
                return Ok(Val::None);
            };
            let kind = match &m {
                Val::Dict(d) => super::value::dict_get(&d.borrow(), &Val::str("type"))
                    .map(|t| to_str(&t))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            if ignore && kind.contains("subscribe") {
                return Ok(Val::None);
            }
            Ok(m)
        }
        "listen" => {
            let pending = match &mut *o.borrow_mut() {
                Obj::PubSub { pending, .. } => std::mem::take(pending),
                _ => VecDeque::new(),
            };
            Ok(Val::obj(Obj::Iter(
                "generator",
                pending.into_iter().collect(),
            )))
        }
        "close" | "aclose" | "reset" => {
            if let Some(id) = client {
                interp.engines.redis.close_client(id);
            }
            if let Obj::PubSub {
                client, pending, ..
            } = &mut *o.borrow_mut()
            {
                *client = None;
                pending.clear();
            }
            Ok(Val::None)
        }
        _ => Err(PyErr::unsupported(&format!("redis-py's PubSub.{method}()"))),
    }
}

fn collect_messages(
    interp: &mut Interp,
    o: &Rc<std::cell::RefCell<Obj>>,
    decode: bool,
    client: Option<u64>,
) {
    let Some(id) = client else {
        return;
    };
    let replies = interp.engines.redis.take_outbox(id);
    if let Obj::PubSub { pending, .. } = &mut *o.borrow_mut() {
        for r in replies {
            match r {
                Reply::Many(items) => pending.extend(items.iter().map(|r| message(r, decode))),
                other => pending.push_back(message(&other, decode)),
            }
        }
    }
}

/// A pushed pub/sub reply as redis-py's `get_message` returns it.
fn message(r: &Reply, decode: bool) -> Val {
    let parts = match &raw(r, decode) {
        Ok(Val::List(l)) => l.borrow().clone(),
        _ => Vec::new(),
    };
    let kind = parts.first().map(to_str_bytes).unwrap_or_default();
    let (pattern, channel, data) = if kind == "pmessage" {
        (
            parts.get(1).cloned().unwrap_or(Val::None),
            parts.get(2).cloned().unwrap_or(Val::None),
            parts.get(3).cloned().unwrap_or(Val::None),
        )
    } else {
        (
            Val::None,
            parts.get(1).cloned().unwrap_or(Val::None),
            parts.get(2).cloned().unwrap_or(Val::None),
        )
    };
    Val::dict(vec![
        (Val::str("type"), Val::str(kind)),
        (Val::str("pattern"), pattern),
        (Val::str("channel"), channel),
        (Val::str("data"), data),
    ])
}
