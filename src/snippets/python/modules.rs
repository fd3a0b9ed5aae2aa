//! The modules a snippet may import, their attributes, and the exception hierarchy.

use super::value::{PyErr, Val};

/// Modules importable in the sandbox; everything else is refused by name.
const MODULES: &[&str] = &[
    "redis",
    "redis.asyncio",
    "redis.exceptions",
    "redis.client",
    "redis.commands",
    "redis.commands.json",
    "redis.commands.json.path",
    "redis.commands.search",
    "redis.commands.search.query",
    "pymongo",
    "pymongo.errors",
    "pymongo.results",
    "pymongo.collection",
    "motor",
    "motor.motor_asyncio",
    "bson",
    "bson.objectid",
    "json",
    "time",
    "datetime",
    "asyncio",
    "math",
    "typing",
    "__future__",
];

pub fn import(name: &str) -> Result<Val, PyErr> {
    if MODULES.contains(&name) {
        Ok(Val::Module(name.into()))
    } else {
        Err(PyErr::new(
            "NotImplementedError",
            format!("import of '{name}' is not supported in the sandbox (it has redis, pymongo, motor, bson, json, time, datetime, asyncio and math)"),
        ))
    }
}

/// `(class, parent)`: every exception class the sandbox raises or lets a snippet catch.
const HIERARCHY: &[(&str, &str)] = &[
    ("BaseException", ""),
    ("Exception", "BaseException"),
    ("KeyboardInterrupt", "BaseException"),
    ("ArithmeticError", "Exception"),
    ("ZeroDivisionError", "ArithmeticError"),
    ("OverflowError", "ArithmeticError"),
    ("LookupError", "Exception"),
    ("KeyError", "LookupError"),
    ("IndexError", "LookupError"),
    ("TypeError", "Exception"),
    ("ValueError", "Exception"),
    ("json.decoder.JSONDecodeError", "ValueError"),
    ("NameError", "Exception"),
    ("AttributeError", "Exception"),
    ("RuntimeError", "Exception"),
    ("NotImplementedError", "RuntimeError"),
    ("RecursionError", "RuntimeError"),
    ("AssertionError", "Exception"),
    ("StopIteration", "Exception"),
    ("SyntaxError", "Exception"),
    ("IndentationError", "SyntaxError"),
    ("OSError", "Exception"),
    ("TimeoutError", "OSError"),
    ("redis.exceptions.RedisError", "Exception"),
    (
        "redis.exceptions.ResponseError",
        "redis.exceptions.RedisError",
    ),
    ("redis.exceptions.DataError", "redis.exceptions.RedisError"),
    (
        "redis.exceptions.ConnectionError",
        "redis.exceptions.RedisError",
    ),
    (
        "redis.exceptions.TimeoutError",
        "redis.exceptions.RedisError",
    ),
    ("redis.exceptions.WatchError", "redis.exceptions.RedisError"),
    (
        "redis.exceptions.PubSubError",
        "redis.exceptions.RedisError",
    ),
    (
        "redis.exceptions.ExecAbortError",
        "redis.exceptions.ResponseError",
    ),
    (
        "redis.exceptions.NoScriptError",
        "redis.exceptions.ResponseError",
    ),
    (
        "redis.exceptions.OutOfMemoryError",
        "redis.exceptions.ResponseError",
    ),
    (
        "redis.exceptions.ReadOnlyError",
        "redis.exceptions.ResponseError",
    ),
    (
        "redis.exceptions.AuthenticationError",
        "redis.exceptions.ConnectionError",
    ),
    ("pymongo.errors.PyMongoError", "Exception"),
    (
        "pymongo.errors.OperationFailure",
        "pymongo.errors.PyMongoError",
    ),
    (
        "pymongo.errors.WriteError",
        "pymongo.errors.OperationFailure",
    ),
    (
        "pymongo.errors.DuplicateKeyError",
        "pymongo.errors.WriteError",
    ),
    (
        "pymongo.errors.BulkWriteError",
        "pymongo.errors.OperationFailure",
    ),
    (
        "pymongo.errors.CollectionInvalid",
        "pymongo.errors.PyMongoError",
    ),
    (
        "pymongo.errors.InvalidOperation",
        "pymongo.errors.PyMongoError",
    ),
    (
        "pymongo.errors.ConnectionFailure",
        "pymongo.errors.PyMongoError",
    ),
    (
        "pymongo.errors.ServerSelectionTimeoutError",
        "pymongo.errors.ConnectionFailure",
    ),
    ("bson.errors.InvalidId", "Exception"),
];

pub fn is_exception_class(name: &str) -> bool {
    HIERARCHY.iter().any(|(c, _)| *c == name)
}

pub fn is_subclass(class: &str, of: &str) -> bool {
    let mut c = class;
    for _ in 0..HIERARCHY.len() {
        if c == of {
            return true;
        }
        match HIERARCHY.iter().find(|(name, _)| *name == c) {
            Some((_, parent)) if !parent.is_empty() => c = parent,
            _ => return false,
        }
    }
    false
}

/// `module.attr`.
pub fn attr(module: &str, name: &str) -> Option<Val> {
    let class = |c: &str| Some(Val::Class(c.into()));
    let func = |f: String| Some(Val::Builtin(f.into()));
    let exc = |prefix: &str| -> Option<Val> {
        let full = format!("{prefix}.{name}");
        if is_exception_class(&full) {
            Some(Val::Class(full.into()))
        } else {
            None
        }
    };
    match (module, name) {
        ("redis" | "redis.asyncio", "Redis" | "StrictRedis") => class("redis.Redis"),
        ("redis" | "redis.asyncio", "from_url") => func("redis.from_url".into()),
        ("redis" | "redis.asyncio", "exceptions") => Some(Val::Module("redis.exceptions".into())),
        ("redis", "asyncio") => Some(Val::Module("redis.asyncio".into())),
        ("redis" | "redis.asyncio", _) => exc("redis.exceptions"),
        ("redis.exceptions", _) => exc("redis.exceptions"),
        ("redis.commands.json.path", "Path") => class("redis.commands.json.path.Path"),
        ("redis.commands.search.query", "Query") => class("redis.commands.search.query.Query"),
        ("pymongo" | "motor.motor_asyncio", "MongoClient" | "AsyncIOMotorClient") => {
            class("pymongo.MongoClient")
        }
        ("motor", "motor_asyncio") => Some(Val::Module("motor.motor_asyncio".into())),
        ("pymongo", "ASCENDING") => Some(Val::Int(1)),
        ("pymongo", "DESCENDING") => Some(Val::Int(-1)),
        ("pymongo", "TEXT") => Some(Val::str("text")),
        ("pymongo", "GEOSPHERE") => Some(Val::str("2dsphere")),
        ("pymongo", "ReturnDocument") => class("pymongo.ReturnDocument"),
        ("pymongo", "errors") => Some(Val::Module("pymongo.errors".into())),
        ("pymongo.errors", _) => exc("pymongo.errors"),
        ("bson" | "bson.objectid" | "pymongo", "ObjectId") => class("bson.ObjectId"),
        ("json", "dumps" | "loads") => func(format!("json.{name}")),
        ("json", "JSONDecodeError") => class("json.decoder.JSONDecodeError"),
        ("time", "sleep" | "time" | "monotonic" | "perf_counter") => func(format!("time.{name}")),
        ("datetime", "datetime" | "timedelta" | "date" | "timezone") => {
            class(&format!("datetime.{name}"))
        }
        ("asyncio", "run" | "sleep" | "gather") => func(format!("asyncio.{name}")),
        ("math", "floor" | "ceil" | "sqrt") => func(format!("math.{name}")),
        ("math", "pi") => Some(Val::Float(std::f64::consts::PI)),
        ("math", "inf") => Some(Val::Float(f64::INFINITY)),
        ("typing", _) => class("typing.Any"),
        ("__future__", _) => Some(Val::None),
        _ => None,
    }
}
