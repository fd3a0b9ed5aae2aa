//! Python values, their `repr` / `str`, equality and ordering, and exceptions.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use super::parser::FuncDef;

/// A raised exception: its class (as the last traceback line names it) and message.
#[derive(Debug, Clone, PartialEq)]
pub struct PyErr {
    pub class: String,
    pub msg: String,
    /// Stops the snippet whatever `except` clauses say (the sandbox's step budget).
    pub fatal: bool,
}

impl PyErr {
    pub fn new(class: &str, msg: impl Into<String>) -> PyErr {
        PyErr {
            class: class.to_string(),
            msg: msg.into(),
            fatal: false,
        }
    }
    pub fn type_error(msg: impl Into<String>) -> PyErr {
        PyErr::new("TypeError", msg)
    }
    pub fn unsupported(what: &str) -> PyErr {
        PyErr::new(
            "NotImplementedError",
            format!("{what} is not supported in the sandbox"),
        )
    }
    /// The last line of the traceback CPython prints.
    pub fn line(&self) -> String {
        if self.msg.is_empty() {
            self.class.clone()
        } else {
            format!("{}: {}", self.class, self.msg)
        }
    }
}

pub type Dict = Vec<(Val, Val)>;

#[derive(Debug, Clone)]
pub enum Val {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<RefCell<Vec<Val>>>),
    Tuple(Rc<Vec<Val>>),
    Dict(Rc<RefCell<Dict>>),
    Set(Rc<RefCell<Vec<Val>>>),
    Range(i64, i64, i64),
    Func(Rc<Function>),
    /// A built-in function or module function, by its dotted name (`len`, `json.dumps`).
    Builtin(Rc<str>),
    /// A class (`int`, `redis.exceptions.ResponseError`), by its qualified name.
    Class(Rc<str>),
    Module(Rc<str>),
    /// A method bound to its object.
    Method(Rc<(Val, String)>),
    Obj(Rc<RefCell<Obj>>),
    Exception(Rc<PyErr>),
}

#[derive(Debug)]
pub struct Function {
    pub def: Rc<FuncDef>,
    pub defaults: Vec<Option<Val>>,
    /// Names visible where a lambda or nested function was made.
    pub closure: Option<Rc<std::collections::HashMap<String, Val>>>,
}

/// The driver and library objects a snippet can hold.
#[derive(Debug)]
pub enum Obj {
    Redis {
        decode: bool,
    },
    Pipeline {
        decode: bool,
        transaction: bool,
        /// Commands queued since the last execute (or since `multi()` under WATCH).
        queue: Vec<super::redis_py::Command>,
        /// After `watch()` and before `multi()`, commands run at once.
        immediate: bool,
        watching: bool,
    },
    PubSub {
        decode: bool,
        /// `pubsub(ignore_subscribe_messages=True)`.
        ignore: bool,
        client: Option<u64>,
        pending: std::collections::VecDeque<Val>,
    },
    RedisJson {
        decode: bool,
    },
    Search {
        decode: bool,
        index: String,
    },
    SearchResult {
        total: i64,
        docs: Vec<Val>,
    },
    SearchDoc {
        fields: Dict,
    },
    MongoClient,
    /// A pymongo `ClientSession`: the mongosh variable holding the shell session behind it.
    MongoSession(Rc<str>),
    /// What `start_transaction()` returns: the context that commits or aborts on exit.
    MongoTransaction(Rc<str>),
    Database(String),
    Collection(String, String),
    Cursor(Box<super::pymongo::CursorState>),
    /// insert_one / insert_many / update / delete results: the class name and its fields.
    WriteResult {
        class: &'static str,
        raw: Val,
        fields: Dict,
    },
    ObjectId([u8; 12]),
    /// Naive datetime in milliseconds since the epoch, plus the sub-millisecond microseconds.
    DateTime(i64, u16),
    TimeDelta(i64),
    /// A list-like iterator over materialised items (enumerate, zip, map, reversed).
    Iter(&'static str, Vec<Val>),
}

impl Val {
    pub fn str(s: impl Into<Rc<str>>) -> Val {
        Val::Str(s.into())
    }
    pub fn list(items: Vec<Val>) -> Val {
        Val::List(Rc::new(RefCell::new(items)))
    }
    pub fn tuple(items: Vec<Val>) -> Val {
        Val::Tuple(Rc::new(items))
    }
    pub fn dict(items: Dict) -> Val {
        Val::Dict(Rc::new(RefCell::new(items)))
    }
    pub fn bytes(b: impl Into<Rc<[u8]>>) -> Val {
        Val::Bytes(b.into())
    }
    pub fn obj(o: Obj) -> Val {
        Val::Obj(Rc::new(RefCell::new(o)))
    }

    pub fn type_name(&self) -> String {
        match self {
            Val::None => "NoneType".into(),
            Val::Bool(_) => "bool".into(),
            Val::Int(_) => "int".into(),
            Val::Float(_) => "float".into(),
            Val::Str(_) => "str".into(),
            Val::Bytes(_) => "bytes".into(),
            Val::List(_) => "list".into(),
            Val::Tuple(_) => "tuple".into(),
            Val::Dict(_) => "dict".into(),
            Val::Set(_) => "set".into(),
            Val::Range(..) => "range".into(),
            Val::Func(_) => "function".into(),
            Val::Builtin(_) => "builtin_function_or_method".into(),
            Val::Class(_) => "type".into(),
            Val::Module(_) => "module".into(),
            Val::Method(_) => "method".into(),
            Val::Exception(e) => short(&e.class).to_string(),
            Val::Obj(o) => obj_class(&o.borrow()).to_string(),
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Val::None => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::Bytes(b) => !b.is_empty(),
            Val::List(l) | Val::Set(l) => !l.borrow().is_empty(),
            Val::Tuple(t) => !t.is_empty(),
            Val::Dict(d) => !d.borrow().is_empty(),
            Val::Range(a, b, s) => range_len(*a, *b, *s) > 0,
            _ => true,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Bool(b) => Some(f64::from(u8::from(*b))),
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Bool(b) => Some(i64::from(*b)),
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }
}

pub fn short(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

pub fn obj_class(o: &Obj) -> &'static str {
    match o {
        Obj::Redis { .. } => "Redis",
        Obj::Pipeline { .. } => "Pipeline",
        Obj::PubSub { .. } => "PubSub",
        Obj::RedisJson { .. } => "JSON",
        Obj::Search { .. } => "Search",
        Obj::SearchResult { .. } => "Result",
        Obj::SearchDoc { .. } => "Document",
        Obj::MongoClient => "MongoClient",
        Obj::MongoSession(_) => "ClientSession",
        Obj::MongoTransaction(_) => "_TransactionContext",
        Obj::Database(_) => "Database",
        Obj::Collection(..) => "Collection",
        Obj::Cursor(c) => {
            if c.command {
                "CommandCursor"
            } else {
                "Cursor"
            }
        }
        Obj::WriteResult { class, .. } => class,
        Obj::ObjectId(_) => "ObjectId",
        Obj::DateTime(..) => "datetime",
        Obj::TimeDelta(_) => "timedelta",
        Obj::Iter(name, _) => name,
    }
}

pub fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    if step > 0 && start < stop {
        ((stop as i128 - start as i128 - 1) / step as i128 + 1) as i64
    } else if step < 0 && start > stop {
        ((start as i128 - stop as i128 - 1) / (-(step as i128)) + 1) as i64
    } else {
        0
    }
}

/// Python's `repr(float)`: the shortest text that reads back, in fixed notation for
/// exponents -4..16 and scientific (`1e+20`, `1e-05`) otherwise.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point >= n {
            format!("{}{}.0", digits, "0".repeat((point - n) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let rest = &digits[1..];
        let m = if rest.is_empty() {
            digits[..1].to_string()
        } else {
            format!("{}.{}", &digits[..1], rest)
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

pub fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
    out
}

/// `datetime.datetime(2026, 11, 26, 10, 0)`: seconds and microseconds only when not zero.
pub fn datetime_parts(ms: i64, micros: u16) -> (i64, u32, u32, i64, i64, i64, i64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = crate::clock::civil_from_days(days);
    let us = (rem % 1000) * 1000 + i64::from(micros);
    (
        y,
        m,
        d,
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        us,
    )
}

pub fn datetime_repr(ms: i64, micros: u16) -> String {
    let (y, mo, d, h, mi, s, us) = datetime_parts(ms, micros);
    let mut out = format!("datetime.datetime({y}, {mo}, {d}, {h}, {mi}");
    if s != 0 || us != 0 {
        out.push_str(&format!(", {s}"));
    }
    if us != 0 {
        out.push_str(&format!(", {us}"));
    }
    out.push(')');
    out
}

pub fn datetime_str(ms: i64, micros: u16) -> String {
    let (y, mo, d, h, mi, s, us) = datetime_parts(ms, micros);
    let mut out = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    if us != 0 {
        out.push_str(&format!(".{us:06}"));
    }
    out
}

pub fn timedelta_repr(ms: i64) -> String {
    let us = i128::from(ms) * 1000;
    let days = us.div_euclid(86_400_000_000);
    let rem = us.rem_euclid(86_400_000_000);
    let secs = rem / 1_000_000;
    let micro = rem % 1_000_000;
    let mut parts = Vec::new();
    if days != 0 {
        parts.push(format!("days={days}"));
    }
    if secs != 0 {
        parts.push(format!("seconds={secs}"));
    }
    if micro != 0 {
        parts.push(format!("microseconds={micro}"));
    }
    if parts.is_empty() {
        parts.push("0".into());
    }
    format!("datetime.timedelta({})", parts.join(", "))
}

pub fn timedelta_str(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let body = format!(
        "{}:{:02}:{:02}",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60
    );
    let body = if rem % 1000 != 0 {
        format!("{body}.{:06}", rem % 1000 * 1000)
    } else {
        body
    };
    match days {
        0 => body,
        1 | -1 => format!("{days} day, {body}"),
        _ => format!("{days} days, {body}"),
    }
}

/// `repr(value)`; nesting is bounded by how deep a snippet can build values.
pub fn repr(v: &Val) -> String {
    let mut out = String::new();
    write_repr(v, &mut out, 0);
    out
}

fn write_seq(items: &[Val], open: &str, close: &str, out: &mut String, depth: usize) {
    out.push_str(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_repr(item, out, depth + 1);
    }
    out.push_str(close);
}

fn write_repr(v: &Val, out: &mut String, depth: usize) {
    if depth > 200 {
        out.push_str("...");
        return;
    }
    match v {
        Val::None => out.push_str("None"),
        Val::Bool(true) => out.push_str("True"),
        Val::Bool(false) => out.push_str("False"),
        Val::Int(i) => out.push_str(&i.to_string()),
        Val::Float(f) => out.push_str(&float_repr(*f)),
        Val::Str(s) => out.push_str(&str_repr(s)),
        Val::Bytes(b) => out.push_str(&bytes_repr(b)),
        Val::List(l) => match l.try_borrow() {
            Ok(items) => write_seq(&items, "[", "]", out, depth),
            Err(_) => out.push_str("[...]"),
        },
        Val::Tuple(t) => {
            if t.len() == 1 {
                out.push('(');
                write_repr(&t[0], out, depth + 1);
                out.push_str(",)");
            } else {
                write_seq(t, "(", ")", out, depth);
            }
        }
        Val::Set(s) => match s.try_borrow() {
            Ok(items) if items.is_empty() => out.push_str("set()"),
            Ok(items) => write_seq(&items, "{", "}", out, depth),
            Err(_) => out.push_str("{...}"),
        },
        Val::Dict(d) => match d.try_borrow() {
            Ok(items) => {
                out.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(k, out, depth + 1);
                    out.push_str(": ");
                    write_repr(v, out, depth + 1);
                }
                out.push('}');
            }
            Err(_) => out.push_str("{...}"),
        },
        Val::Range(a, b, s) => {
            if *s == 1 {
                out.push_str(&format!("range({a}, {b})"));
            } else {
                out.push_str(&format!("range({a}, {b}, {s})"));
            }
        }
        Val::Func(f) => out.push_str(&format!("<function {} at 0x7f3a2c1e0a40>", f.def.name)),
        Val::Builtin(name) => out.push_str(&format!("<built-in function {}>", short(name))),
        Val::Class(name) => out.push_str(&format!("<class '{name}'>")),
        Val::Module(name) => out.push_str(&format!("<module '{name}'>")),
        Val::Method(m) => out.push_str(&format!(
            "<bound method {}.{} of {}>",
            m.0.type_name(),
            m.1,
            repr(&m.0)
        )),
        Val::Exception(e) => out.push_str(&format!("{}({})", short(&e.class), str_repr(&e.msg))),
        Val::Obj(o) => match o.try_borrow() {
            Ok(o) => write_obj_repr(&o, out, depth),
            Err(_) => out.push_str("<...>"),
        },
    }
}

/// The addresses CPython would print vary from run to run; the sandbox prints fixed ones.
pub const FAKE_ADDRESS: &str = "0x7f3a2c1e0a40";

fn write_obj_repr(o: &Obj, out: &mut String, depth: usize) {
    match o {
        // redis-py 5's form: later versions list every connection option, with addresses.
        Obj::Redis { .. } => out.push_str(
            "<redis.client.Redis(<redis.connection.ConnectionPool(<redis.connection.Connection(host=localhost,port=6379,db=0)>)>)>",
        ),
        Obj::Pipeline { .. } => out.push_str(
            "<redis.client.Pipeline(<redis.connection.ConnectionPool(<redis.connection.Connection(host=localhost,port=6379,db=0)>)>)>",
        ),
        Obj::PubSub { .. } => out.push_str(&format!(
            "<redis.client.PubSub object at {FAKE_ADDRESS}>"
        )),
        Obj::RedisJson { .. } => out.push_str(&format!(
            "<redis.commands.json.JSON object at {FAKE_ADDRESS}>"
        )),
        Obj::Search { .. } => out.push_str(&format!(
            "<redis.commands.search.Search object at {FAKE_ADDRESS}>"
        )),
        Obj::SearchResult { total, docs } => {
            out.push_str(&format!("Result{{{total} total, docs: "));
            write_seq(docs, "[", "]", out, depth);
            out.push('}');
        }
        Obj::SearchDoc { fields } => {
            out.push_str("Document ");
            write_repr(&Val::dict(fields.clone()), out, depth + 1);
        }
        Obj::MongoClient => out.push_str(
            "MongoClient(host=['localhost:27017'], document_class=dict, tz_aware=False, connect=True)",
        ),
        Obj::MongoSession(_) => {
            out.push_str("<pymongo.synchronous.client_session.ClientSession object>")
        }
        Obj::MongoTransaction(_) => {
            out.push_str("<pymongo.synchronous.client_session._TransactionContext object>")
        }
        Obj::Database(name) => out.push_str(&format!(
            "Database(MongoClient(host=['localhost:27017'], document_class=dict, tz_aware=False, connect=True), {})",
            str_repr(name)
        )),
        Obj::Collection(db, name) => out.push_str(&format!(
            "Collection(Database(MongoClient(host=['localhost:27017'], document_class=dict, tz_aware=False, connect=True), {}), {})",
            str_repr(db),
            str_repr(name)
        )),
        Obj::Cursor(c) => {
            let class = if c.command {
                "pymongo.synchronous.command_cursor.CommandCursor"
            } else {
                "pymongo.synchronous.cursor.Cursor"
            };
            out.push_str(&format!("<{class} object at {FAKE_ADDRESS}>"));
        }
        Obj::WriteResult { class, raw, .. } => {
            out.push_str(class);
            out.push('(');
            write_repr(raw, out, depth + 1);
            out.push_str(", acknowledged=True)");
        }
        Obj::ObjectId(bytes) => {
            out.push_str("ObjectId('");
            for b in bytes {
                out.push_str(&format!("{b:02x}"));
            }
            out.push_str("')");
        }
        Obj::DateTime(ms, us) => out.push_str(&datetime_repr(*ms, *us)),
        Obj::TimeDelta(ms) => out.push_str(&timedelta_repr(*ms)),
        Obj::Iter(name, items) if name.starts_with("dict_") => {
            out.push_str(name);
            out.push('(');
            write_seq(items, "[", "]", out, depth);
            out.push(')');
        }
        Obj::Iter(name, _) => out.push_str(&format!("<{name} object at {FAKE_ADDRESS}>")),
    }
}

/// `str(value)`: strings as they are, everything else as its repr.
pub fn to_str(v: &Val) -> String {
    match v {
        Val::Str(s) => s.to_string(),
        Val::Exception(e) => e.msg.clone(),
        Val::Obj(o) => match &*o.borrow() {
            Obj::ObjectId(b) => b.iter().map(|b| format!("{b:02x}")).collect(),
            Obj::DateTime(ms, us) => datetime_str(*ms, *us),
            Obj::TimeDelta(ms) => timedelta_str(*ms),
            _ => repr(v),
        },
        _ => repr(v),
    }
}

/// Containers nested deeper than this compare unequal (CPython raises RecursionError);
/// comparisons recurse on the Rust stack.
const MAX_COMPARE_DEPTH: usize = 200;

/// Python's `==`.
pub fn eq(a: &Val, b: &Val) -> bool {
    eq_at(a, b, 0)
}

fn eq_at(a: &Val, b: &Val, depth: usize) -> bool {
    if depth > MAX_COMPARE_DEPTH {
        return false;
    }
    let eq = |x: &Val, y: &Val| eq_at(x, y, depth + 1);
    let seq_eq = |x: &[Val], y: &[Val]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq_at(p, q, depth + 1))
    };
    match (a, b) {
        (Val::None, Val::None) => true,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Bytes(x), Val::Bytes(y)) => x == y,
        (Val::List(x), Val::List(y)) => Rc::ptr_eq(x, y) || seq_eq(&x.borrow(), &y.borrow()),
        (Val::Tuple(x), Val::Tuple(y)) => seq_eq(x, y),
        (Val::Set(x), Val::Set(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|i| y.iter().any(|j| eq(i, j)))
        }
        (Val::Dict(x), Val::Dict(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| eq(k, k2) && eq(v, v2)))
        }
        (Val::Range(a, b, c), Val::Range(d, e, f)) => (a, b, c) == (d, e, f),
        (Val::Class(x), Val::Class(y)) => x == y,
        (Val::Module(x), Val::Module(y)) => x == y,
        (Val::Builtin(x), Val::Builtin(y)) => x == y,
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        (Val::Obj(x), Val::Obj(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            match (&*x.borrow(), &*y.borrow()) {
                (Obj::ObjectId(p), Obj::ObjectId(q)) => p == q,
                (Obj::DateTime(p, q), Obj::DateTime(r, s)) => (p, q) == (r, s),
                (Obj::TimeDelta(p), Obj::TimeDelta(q)) => p == q,
                (Obj::Database(p), Obj::Database(q)) => p == q,
                (Obj::Collection(p, q), Obj::Collection(r, s)) => (p, q) == (r, s),
                _ => false,
            }
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => match (a.as_int(), b.as_int()) {
                (Some(i), Some(j)) => i == j,
                _ => x == y,
            },
            _ => false,
        },
    }
}

/// Python's ordering for `<` and `sorted`; None when the types do not compare.
pub fn cmp(a: &Val, b: &Val) -> Option<Ordering> {
    cmp_at(a, b, 0)
}

fn cmp_at(a: &Val, b: &Val, depth: usize) -> Option<Ordering> {
    if depth > MAX_COMPARE_DEPTH {
        return None;
    }
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bytes(x), Val::Bytes(y)) => Some(x.cmp(y)),
        (Val::List(x), Val::List(y)) => seq_cmp(&x.borrow(), &y.borrow(), depth),
        (Val::Tuple(x), Val::Tuple(y)) => seq_cmp(x, y, depth),
        (Val::Obj(x), Val::Obj(y)) => match (&*x.borrow(), &*y.borrow()) {
            (Obj::ObjectId(p), Obj::ObjectId(q)) => Some(p.cmp(q)),
            (Obj::DateTime(p, q), Obj::DateTime(r, s)) => Some((p, q).cmp(&(r, s))),
            (Obj::TimeDelta(p), Obj::TimeDelta(q)) => Some(p.cmp(q)),
            _ => None,
        },
        _ => match (a.as_int(), b.as_int()) {
            (Some(i), Some(j)) => Some(i.cmp(&j)),
            _ => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => None,
            },
        },
    }
}

fn seq_cmp(a: &[Val], b: &[Val], depth: usize) -> Option<Ordering> {
    for (x, y) in a.iter().zip(b) {
        if !eq_at(x, y, depth + 1) {
            return cmp_at(x, y, depth + 1);
        }
    }
    Some(a.len().cmp(&b.len()))
}

pub fn hashable(v: &Val) -> Result<(), PyErr> {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Val::List(_) | Val::Dict(_) | Val::Set(_) => {
                return Err(PyErr::type_error(format!(
                    "unhashable type: '{}'",
                    v.type_name()
                )))
            }
            Val::Tuple(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    Ok(())
}

/// Dropping a deeply nested value frees it level by level, not by recursion, so that
/// `a = [a]` in a long loop cannot overflow the stack when `a` goes.
impl Drop for Val {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        take_children(self, &mut stack);
        while let Some(mut v) = stack.pop() {
            take_children(&mut v, &mut stack);
        }
    }
}

fn take_children(v: &mut Val, stack: &mut Vec<Val>) {
    match v {
        Val::List(l) | Val::Set(l) if Rc::strong_count(l) == 1 => {
            if let Ok(mut items) = l.try_borrow_mut() {
                stack.append(&mut items);
            }
        }
        Val::Tuple(t) => {
            if let Some(items) = Rc::get_mut(t) {
                stack.append(items);
            }
        }
        Val::Dict(d) if Rc::strong_count(d) == 1 => {
            if let Ok(mut pairs) = d.try_borrow_mut() {
                for (k, v) in pairs.drain(..) {
                    stack.push(k);
                    stack.push(v);
                }
            }
        }
        _ => {}
    }
}

pub fn dict_get(d: &Dict, key: &Val) -> Option<Val> {
    d.iter().find(|(k, _)| eq(k, key)).map(|(_, v)| v.clone())
}

pub fn dict_set(d: &mut Dict, key: Val, value: Val) {
    match d.iter_mut().find(|(k, _)| eq(k, &key)) {
        Some(slot) => slot.1 = value,
        None => d.push((key, value)),
    }
}

pub fn set_add(s: &mut Vec<Val>, v: Val) {
    if !s.iter().any(|x| eq(x, &v)) {
        s.push(v);
    }
}
