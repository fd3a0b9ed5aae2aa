//! Evaluates parsed statements against the sandbox's databases.

use std::collections::{HashMap, VecDeque};

use super::parser::{Expr, Stmt, StmtKind};
use super::ShellError;
use crate::mongo::query::Filter;
use crate::mongo::store::{InsertError, Store};
use crate::mongo::value::{compare, parse_iso_date, Document, ObjectId, ObjectIdGenerator, Value};

/// Documents a cursor prints per batch (mongosh's `displayBatchSize`).
pub const BATCH_SIZE: usize = 20;

/// What a statement leaves for the console to print.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// `undefined`: mongosh prints nothing.
    Nothing,
    /// A value mongosh inspects (a top-level string prints raw, without quotes).
    Value(Value),
    /// A cursor batch; `more` adds `Type "it" for more`. In JSON mode it holds every document.
    Batch { docs: Vec<Document>, more: bool },
    /// A shell message (`switched to db x`, `show` tables, `no cursor`) with the structured
    /// form JSON mode prints instead.
    Shown { text: String, json: Value },
}

/// Values the evaluator passes around: BSON values plus the shell objects around them.
#[derive(Debug, Clone)]
enum Js {
    Undefined,
    Val(Value),
    Db,
    Collection { db: String, name: String },
    Method { target: Box<Js>, name: String },
    Builtin(Builtin),
    Cursor(Box<CursorSpec>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Builtin {
    ObjectId,
    IsoDate,
    Date,
    NumberInt,
    NumberLong,
}

const BUILTINS: &[(&str, Builtin)] = &[
    ("ObjectId", Builtin::ObjectId),
    ("ISODate", Builtin::IsoDate),
    ("Date", Builtin::Date),
    ("NumberInt", Builtin::NumberInt),
    ("Int32", Builtin::NumberInt),
    ("NumberLong", Builtin::NumberLong),
    ("Long", Builtin::NumberLong),
];

const DB_METHODS: &[&str] = &[
    "getName",
    "getCollection",
    "getCollectionNames",
    "dropDatabase",
    "aggregate",
];

const COLLECTION_METHODS: &[&str] = &[
    "insertOne",
    "insertMany",
    "find",
    "findOne",
    "countDocuments",
    "estimatedDocumentCount",
    "drop",
    "getName",
    "getFullName",
    "aggregate",
];

const CURSOR_METHODS: &[&str] = &[
    "toArray", "limit", "skip", "sort", "itcount", "pretty", "count", "size",
];

/// A find not yet run: cursors are lazy in mongosh too, so `find().limit(2)` is one query.
#[derive(Debug, Clone)]
struct CursorSpec {
    db: String,
    coll: String,
    filter: Document,
    sort: Option<Document>,
    skip: usize,
    limit: Option<usize>,
}

/// One mongosh session: current database, the sandbox's data, the cursor `it` continues,
/// and the user's `const`/`let`/`var` bindings.
#[derive(Debug)]
pub struct Session {
    pub store: Store,
    pub db: String,
    oids: ObjectIdGenerator,
    cursor: Option<VecDeque<Document>>,
    vars: HashMap<String, Js>,
    now_ms: u64,
    json: bool,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            store: Store::default(),
            db: "test".into(),
            oids: ObjectIdGenerator::default(),
            cursor: None,
            vars: HashMap::new(),
            now_ms: 0,
            json: false,
        }
    }
}

/// A JS number as the driver stores it: Int32 when integral and in range, else Double.
pub fn number_value(n: f64) -> Value {
    if n.fract() == 0.0
        && n >= f64::from(i32::MIN)
        && n <= f64::from(i32::MAX)
        && !(n == 0.0 && n.is_sign_negative())
    {
        Value::Int32(n as i32)
    } else {
        Value::Double(n)
    }
}

fn js_to_number(v: &Value) -> f64 {
    match v {
        Value::Double(x) => *x,
        Value::Int32(i) => f64::from(*i),
        Value::Int64(i) => *i as f64,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Null => 0.0,
        Value::Date(ms) => *ms as f64,
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                0.0
            } else {
                t.parse().unwrap_or(f64::NAN)
            }
        }
        _ => f64::NAN,
    }
}

fn truthy(v: &Js) -> bool {
    match v {
        Js::Undefined => false,
        Js::Val(Value::Bool(b)) => *b,
        Js::Val(Value::Null) => false,
        Js::Val(Value::String(s)) => !s.is_empty(),
        Js::Val(v @ (Value::Double(_) | Value::Int32(_) | Value::Int64(_))) => {
            let n = js_to_number(v);
            n != 0.0 && !n.is_nan()
        }
        _ => true,
    }
}

/// The text a callee was written as, for `… is not a function`.
fn callee_text(e: &Expr) -> String {
    match e {
        Expr::Member { text, .. } | Expr::Index { text, .. } => text.clone(),
        Expr::Ident { name, .. } => name.clone(),
        _ => "expression".into(),
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// What JavaScript's `Date()` (called without `new`) returns, in the sandbox's UTC zone.
fn js_date_string(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::clock::civil_from_days(days);
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    let month = MONTHS[(m as usize).saturating_sub(1) % 12];
    format!(
        "{weekday} {month} {d:02} {y:04} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn valid_db_name(name: &str) -> bool {
    !name.is_empty() && name.len() < 64 && !name.contains(['/', '\\', '.', ' ', '"', '$', '\0'])
}

/// Formats a size the way mongosh's `show dbs` does (numeral's `0.00 ib`).
fn format_bytes(bytes: u64) -> String {
    if bytes <= 1000 {
        return format!("{bytes} B");
    }
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", units[unit])
}

/// The key part of an E11000 message, which the server prints in its own (shell-like,
/// double-quoted) notation: `{ _id: 1 }`, `{ _id: "a" }`, `{ _id: ObjectId('…') }`.
fn server_repr(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::ObjectId(o) => format!("ObjectId('{}')", o.to_hex()),
        Value::Double(x) => crate::mongo::value::js_number(*x),
        Value::Int64(i) => i.to_string(),
        Value::Date(ms) => format!("new Date({ms})"),
        Value::Document(d) => {
            if d.is_empty() {
                return "{}".into();
            }
            let inner: Vec<String> = d
                .iter()
                .map(|(k, v)| format!("{k}: {}", server_repr(v)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(server_repr).collect();
            format!("[ {} ]", inner.join(", "))
        }
        other => crate::mongo::format::inspect(other, crate::mongo::format::Options::VALUE),
    }
}

impl Session {
    pub fn set_context(&mut self, now_ms: u64, json: bool) {
        self.now_ms = now_ms;
        self.json = json;
    }

    pub fn run(&mut self, stmt: &Stmt) -> Result<Output, ShellError> {
        match &stmt.kind {
            StmtKind::Use(name) => self.use_db(name),
            StmtKind::Show(what) => self.show(what),
            StmtKind::It => Ok(self.next_batch()),
            StmtKind::Let { name, value } => {
                let v = match value {
                    Some(e) => self.eval(e)?,
                    None => Js::Undefined,
                };
                self.vars.insert(name.clone(), v);
                Ok(Output::Nothing)
            }
            StmtKind::Expr(e) => {
                let v = self.eval(e)?;
                self.output(v)
            }
        }
    }

    fn use_db(&mut self, name: &str) -> Result<Output, ShellError> {
        if !valid_db_name(name) {
            return Err(ShellError::invalid_input(format!(
                "Invalid database name: {name}"
            )));
        }
        let text = if self.db == name {
            format!("already on db {name}")
        } else {
            self.db = name.to_string();
            format!("switched to db {name}")
        };
        Ok(Output::Shown {
            json: Value::String(text.clone()),
            text,
        })
    }

    fn show(&mut self, what: &str) -> Result<Output, ShellError> {
        match what {
            "dbs" | "databases" => {
                // A fresh server lists its three system databases next to the user's.
                let mut rows: Vec<(String, u64)> = vec![
                    ("admin".into(), 40 * 1024),
                    ("config".into(), 12 * 1024),
                    ("local".into(), 40 * 1024),
                ];
                for (name, db) in &self.store.databases {
                    let bytes: usize = db
                        .collections
                        .values()
                        .map(|c| 8192 + 4096 + c.approx_bytes().div_ceil(4096) * 4096)
                        .sum();
                    match rows.iter_mut().find(|(n, _)| n == name) {
                        Some(row) => row.1 += bytes as u64,
                        None => rows.push((name.clone(), bytes as u64)),
                    }
                }
                rows.sort();
                let sizes: Vec<String> = rows.iter().map(|(_, b)| format_bytes(*b)).collect();
                let name_w = rows
                    .iter()
                    .map(|(n, _)| n.chars().count())
                    .max()
                    .unwrap_or(0);
                let size_w = sizes.iter().map(String::len).max().unwrap_or(0);
                let lines: Vec<String> = rows
                    .iter()
                    .zip(&sizes)
                    .map(|((n, _), s)| format!("{n:<name_w$}  {s:>size_w$}"))
                    .collect();
                let json = Value::Array(
                    rows.iter()
                        .map(|(n, b)| {
                            let mut d = Document::default();
                            d.insert("name".into(), Value::String(n.clone()));
                            d.insert("sizeOnDisk".into(), Value::Int64(*b as i64));
                            Value::Document(d)
                        })
                        .collect(),
                );
                Ok(Output::Shown {
                    text: lines.join("\n"),
                    json,
                })
            }
            "collections" | "tables" => {
                let names = self.collection_names();
                Ok(Output::Shown {
                    text: names.join("\n"),
                    json: Value::Array(names.into_iter().map(Value::String).collect()),
                })
            }
            other => Err(ShellError::invalid_input(format!(
                "'{other}' is not a valid argument for \"show\"."
            ))),
        }
    }

    fn collection_names(&self) -> Vec<String> {
        self.store
            .databases
            .get(&self.db)
            .map(|d| d.collections.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn next_batch(&mut self) -> Output {
        match self.cursor.as_mut() {
            Some(rest) if !rest.is_empty() => {
                let n = rest.len().min(BATCH_SIZE);
                let docs: Vec<Document> = rest.drain(..n).collect();
                let more = !rest.is_empty();
                if !more {
                    self.cursor = None;
                }
                Output::Batch { docs, more }
            }
            _ => {
                self.cursor = None;
                Output::Shown {
                    text: "no cursor".into(),
                    json: Value::String("no cursor".into()),
                }
            }
        }
    }

    fn output(&mut self, v: Js) -> Result<Output, ShellError> {
        Ok(match v {
            Js::Undefined => Output::Nothing,
            Js::Val(v) => Output::Value(v),
            Js::Db => Output::Value(Value::String(self.db.clone())),
            Js::Collection { db, name } => Output::Value(Value::String(format!("{db}.{name}"))),
            Js::Method { name, .. } => Output::Value(Value::String(format!("[Function: {name}]"))),
            Js::Builtin(b) => {
                let name = BUILTINS
                    .iter()
                    .find(|(_, x)| *x == b)
                    .map_or("anonymous", |(n, _)| n);
                Output::Value(Value::String(format!("[Function: {name}]")))
            }
            Js::Cursor(spec) => {
                let docs = self.run_cursor(&spec)?;
                if self.json {
                    // A machine wants the whole result, not a console page of it.
                    self.cursor = None;
                    Output::Batch { docs, more: false }
                } else {
                    let mut rest: VecDeque<Document> = docs.into();
                    let n = rest.len().min(BATCH_SIZE);
                    let first: Vec<Document> = rest.drain(..n).collect();
                    let more = !rest.is_empty();
                    self.cursor = if more { Some(rest) } else { None };
                    Output::Batch { docs: first, more }
                }
            }
        })
    }

    fn run_cursor(&self, spec: &CursorSpec) -> Result<Vec<Document>, ShellError> {
        Ok(self.matching(spec)?.into_iter().cloned().collect())
    }

    /// The documents a cursor yields, borrowed: counting needs no copies.
    fn matching(&self, spec: &CursorSpec) -> Result<Vec<&Document>, ShellError> {
        let filter = compile_filter(&spec.filter)?;
        let Some(coll) = self.store.collection(&spec.db, &spec.coll) else {
            return Ok(Vec::new());
        };
        let mut docs: Vec<&Document> = coll.docs.iter().filter(|d| filter.matches(d)).collect();
        if let Some(sort) = &spec.sort {
            let keys = sort_keys(sort)?;
            docs.sort_by(|a, b| {
                for (path, dir) in &keys {
                    let va = lookup_path(a, path);
                    let vb = lookup_path(b, path);
                    let c = compare(&va, &vb);
                    if c != std::cmp::Ordering::Equal {
                        return if *dir < 0 { c.reverse() } else { c };
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let docs = docs.into_iter().skip(spec.skip);
        Ok(match spec.limit {
            Some(n) if n > 0 => docs.take(n).collect(),
            _ => docs.collect(),
        })
    }

    /// Dispatches on the expression kind; each compound kind has its own non-inlined
    /// function so that the frame repeated at every nesting level stays small (nesting is
    /// capped by the parser, but wasm's stack is only 1 MiB).
    fn eval(&mut self, e: &Expr) -> Result<Js, ShellError> {
        match e {
            Expr::Num(n) => Ok(Js::Val(number_value(*n))),
            Expr::Str(s) => Ok(Js::Val(Value::String(s.clone()))),
            Expr::Bool(b) => Ok(Js::Val(Value::Bool(*b))),
            Expr::Null => Ok(Js::Val(Value::Null)),
            Expr::Undefined => Ok(Js::Undefined),
            Expr::Regex { pattern, flags } => Ok(Js::Val(Value::Regex {
                pattern: pattern.clone(),
                options: flags.clone(),
            })),
            Expr::Array(items) => self.eval_array(items),
            Expr::Object(fields) => self.eval_object(fields),
            Expr::Ident { name, .. } => self.lookup(name),
            Expr::Member { object, name, .. } => self.eval_member(object, name),
            Expr::Index { object, index, .. } => self.eval_index(object, index),
            Expr::Call { callee, args } => self.eval_call(callee, args, false),
            Expr::New { callee, args } => self.eval_call(callee, args, true),
            Expr::Neg(inner) | Expr::Plus(inner) | Expr::Not(inner) => self.eval_unary(e, inner),
        }
    }

    #[inline(never)]
    fn eval_array(&mut self, items: &[Expr]) -> Result<Js, ShellError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let v = self.eval(item)?;
            out.push(self.to_bson(v)?);
        }
        Ok(Js::Val(Value::Array(out)))
    }

    #[inline(never)]
    fn eval_object(&mut self, fields: &[(String, Expr)]) -> Result<Js, ShellError> {
        let mut doc = Document::with_capacity_and_hasher(fields.len(), Default::default());
        for (k, item) in fields {
            let v = self.eval(item)?;
            doc.insert(k.clone(), self.to_bson(v)?);
        }
        Ok(Js::Val(Value::Document(doc)))
    }

    #[inline(never)]
    fn eval_member(&mut self, object: &Expr, name: &str) -> Result<Js, ShellError> {
        let target = self.eval(object)?;
        self.member(target, name)
    }

    #[inline(never)]
    fn eval_index(&mut self, object: &Expr, index: &Expr) -> Result<Js, ShellError> {
        let target = self.eval(object)?;
        let key = match self.eval(index)? {
            Js::Val(Value::String(s)) => s,
            Js::Val(v @ (Value::Int32(_) | Value::Double(_) | Value::Int64(_))) => {
                crate::mongo::value::js_number(js_to_number(&v))
            }
            Js::Undefined => "undefined".into(),
            _ => return Err(ShellError::type_error("Unsupported property key")),
        };
        self.member(target, &key)
    }

    #[inline(never)]
    fn eval_call(&mut self, callee: &Expr, args: &[Expr], is_new: bool) -> Result<Js, ShellError> {
        let f = self.eval(callee)?;
        let mut argv = Vec::with_capacity(args.len());
        for a in args {
            argv.push(self.eval(a)?);
        }
        if is_new && !matches!(f, Js::Builtin(_)) {
            return Err(ShellError::type_error(format!(
                "{} is not a constructor",
                callee_text(callee)
            )));
        }
        self.call(f, argv, &callee_text(callee), is_new)
    }

    #[inline(never)]
    fn eval_unary(&mut self, e: &Expr, inner: &Expr) -> Result<Js, ShellError> {
        let v = self.eval(inner)?;
        Ok(match (e, v) {
            (Expr::Not(_), v) => Js::Val(Value::Bool(!truthy(&v))),
            (Expr::Neg(_), Js::Val(Value::Int32(0))) => Js::Val(Value::Double(-0.0)),
            (Expr::Neg(_), Js::Val(v)) => Js::Val(number_value(-js_to_number(&v))),
            (_, Js::Val(v)) => Js::Val(number_value(js_to_number(&v))),
            _ => Js::Val(Value::Double(f64::NAN)),
        })
    }

    fn lookup(&self, name: &str) -> Result<Js, ShellError> {
        if let Some(v) = self.vars.get(name) {
            return Ok(v.clone());
        }
        if name == "db" {
            return Ok(Js::Db);
        }
        if let Some((_, b)) = BUILTINS.iter().find(|(n, _)| *n == name) {
            return Ok(Js::Builtin(*b));
        }
        match name {
            "NaN" => Ok(Js::Val(Value::Double(f64::NAN))),
            "Infinity" => Ok(Js::Val(Value::Double(f64::INFINITY))),
            _ => Err(ShellError::new(
                "ReferenceError",
                format!("{name} is not defined"),
            )),
        }
    }

    fn member(&self, target: Js, name: &str) -> Result<Js, ShellError> {
        Ok(match target {
            Js::Db => {
                if DB_METHODS.contains(&name) {
                    Js::Method {
                        target: Box::new(Js::Db),
                        name: name.into(),
                    }
                } else {
                    Js::Collection {
                        db: self.db.clone(),
                        name: name.into(),
                    }
                }
            }
            Js::Collection { db, name: coll } => {
                if COLLECTION_METHODS.contains(&name) {
                    Js::Method {
                        target: Box::new(Js::Collection { db, name: coll }),
                        name: name.into(),
                    }
                } else {
                    // mongosh reads `db.a.b` as the collection `a.b`.
                    Js::Collection {
                        db,
                        name: format!("{coll}.{name}"),
                    }
                }
            }
            Js::Cursor(spec) => {
                if CURSOR_METHODS.contains(&name) {
                    Js::Method {
                        target: Box::new(Js::Cursor(spec)),
                        name: name.into(),
                    }
                } else {
                    Js::Undefined
                }
            }
            Js::Undefined | Js::Val(Value::Null) => {
                let what = if matches!(target, Js::Undefined) {
                    "undefined"
                } else {
                    "null"
                };
                return Err(ShellError::type_error(format!(
                    "Cannot read properties of {what} (reading '{name}')"
                )));
            }
            Js::Val(Value::Document(d)) => d.get(name).cloned().map_or(Js::Undefined, Js::Val),
            Js::Val(Value::Array(items)) => {
                if name == "length" {
                    Js::Val(number_value(items.len() as f64))
                } else {
                    name.parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i).cloned())
                        .map_or(Js::Undefined, Js::Val)
                }
            }
            Js::Val(Value::String(s)) if name == "length" => {
                Js::Val(number_value(s.encode_utf16().count() as f64))
            }
            _ => Js::Undefined,
        })
    }

    fn to_bson(&self, v: Js) -> Result<Value, ShellError> {
        match v {
            Js::Val(v) => Ok(v),
            // The driver stores `undefined` as null unless told to ignore it.
            Js::Undefined => Ok(Value::Null),
            Js::Db => Ok(Value::String(self.db.clone())),
            _ => Err(ShellError::type_error(
                "this sandbox cannot store shell objects (collections, cursors, functions) in a document",
            )),
        }
    }

    fn call(&mut self, f: Js, args: Vec<Js>, text: &str, is_new: bool) -> Result<Js, ShellError> {
        match f {
            Js::Builtin(b) => self.call_builtin(b, args, is_new),
            Js::Method { target, name } => match *target {
                Js::Db => self.db_method(&name, args),
                Js::Collection { db, name: coll } => {
                    self.collection_method(&db, &coll, &name, args)
                }
                Js::Cursor(spec) => self.cursor_method(*spec, &name, args),
                _ => Err(ShellError::type_error(format!("{text} is not a function"))),
            },
            _ => Err(ShellError::type_error(format!("{text} is not a function"))),
        }
    }

    fn call_builtin(&mut self, b: Builtin, args: Vec<Js>, is_new: bool) -> Result<Js, ShellError> {
        let first = args.into_iter().next();
        let v = match b {
            Builtin::ObjectId => match first {
                None | Some(Js::Undefined) => Value::ObjectId(self.oids.next(self.now_ms)),
                Some(Js::Val(Value::String(s))) => match ObjectId::parse_hex(&s) {
                    Some(oid) => Value::ObjectId(oid),
                    None => return Err(bad_object_id()),
                },
                Some(Js::Val(Value::ObjectId(o))) => Value::ObjectId(o),
                Some(Js::Val(n @ (Value::Int32(_) | Value::Double(_)))) => {
                    let secs = js_to_number(&n);
                    if !(0.0..=f64::from(u32::MAX)).contains(&secs) {
                        return Err(bad_object_id());
                    }
                    let mut oid = self.oids.next(0);
                    oid.0[..4].copy_from_slice(&(secs as u32).to_be_bytes());
                    Value::ObjectId(oid)
                }
                _ => return Err(bad_object_id()),
            },
            Builtin::IsoDate => match first {
                None | Some(Js::Undefined) => Value::Date(self.now_ms as i64),
                Some(Js::Val(Value::String(s))) => match parse_iso_date(&s) {
                    Some(ms) => Value::Date(ms),
                    None => {
                        return Err(ShellError::invalid_input(format!(
                            "{} is not a valid ISODate",
                            serde_json::to_string(&s).unwrap_or_default()
                        )))
                    }
                },
                Some(Js::Val(Value::Date(ms))) => Value::Date(ms),
                Some(Js::Val(n)) if n.is_number() => Value::Date(js_to_number(&n) as i64),
                Some(_) => return Err(ShellError::invalid_input("ISODate needs a string")),
            },
            Builtin::Date => {
                if !is_new {
                    return Ok(Js::Val(Value::String(js_date_string(self.now_ms as i64))));
                }
                match first {
                    None => Value::Date(self.now_ms as i64),
                    Some(Js::Val(Value::String(s))) => match parse_iso_date(&s) {
                        Some(ms) => Value::Date(ms),
                        None => return Err(ShellError::new("RangeError", "Invalid time value")),
                    },
                    Some(Js::Val(Value::Date(ms))) => Value::Date(ms),
                    Some(Js::Val(n)) if n.is_number() => {
                        let ms = js_to_number(&n);
                        if !ms.is_finite() || ms.abs() > 8.64e15 {
                            return Err(ShellError::new("RangeError", "Invalid time value"));
                        }
                        Value::Date(ms.trunc() as i64)
                    }
                    Some(_) => return Err(ShellError::new("RangeError", "Invalid time value")),
                }
            }
            Builtin::NumberInt => {
                let n = match first {
                    Some(Js::Val(v)) => js_to_number(&v),
                    _ => 0.0,
                };
                // Int32 keeps the integer part; NaN becomes 0, as the bson library does.
                let n = if n.is_nan() { 0.0 } else { n.trunc() };
                Value::Int32(n.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32)
            }
            Builtin::NumberLong => match first {
                None | Some(Js::Undefined) => Value::Int64(0),
                Some(Js::Val(Value::String(s))) => match s.trim().parse::<i64>() {
                    Ok(i) => Value::Int64(i),
                    Err(_) => {
                        return Err(ShellError::new(
                            "BSONError",
                            format!("Input: '{s}' is not a valid Long"),
                        ))
                    }
                },
                Some(Js::Val(Value::Int64(i))) => Value::Int64(i),
                Some(Js::Val(v)) => {
                    let n = js_to_number(&v);
                    Value::Int64(if n.is_nan() { 0 } else { n.trunc() as i64 })
                }
                Some(_) => Value::Int64(0),
            },
        };
        Ok(Js::Val(v))
    }

    fn db_method(&mut self, name: &str, args: Vec<Js>) -> Result<Js, ShellError> {
        match name {
            "getName" => Ok(Js::Val(Value::String(self.db.clone()))),
            "getCollection" => match args.into_iter().next() {
                Some(Js::Val(Value::String(coll))) => {
                    if coll.is_empty() || coll.contains('$') || coll.contains('\0') {
                        return Err(ShellError::invalid_input(format!(
                            "Invalid collection name: {coll}"
                        )));
                    }
                    Ok(Js::Collection {
                        db: self.db.clone(),
                        name: coll,
                    })
                }
                _ => Err(ShellError::invalid_input(
                    "Collection name must be a string",
                )),
            },
            "getCollectionNames" => Ok(Js::Val(Value::Array(
                self.collection_names()
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ))),
            "aggregate" => {
                let argv = args
                    .into_iter()
                    .map(|a| self.to_bson(a))
                    .collect::<Result<Vec<_>, _>>()?;
                let db = self.db.clone();
                let (shown, rest) = crate::mongo::agg::shell::aggregate(
                    &mut self.store,
                    &db,
                    None,
                    &argv,
                    self.now_ms,
                    self.json,
                )?;
                self.cursor = rest;
                Ok(shown.map_or(Js::Undefined, Js::Val))
            }
            "dropDatabase" => {
                let db = self.db.clone();
                self.store.databases.remove(&db);
                let mut d = Document::default();
                d.insert("ok".into(), Value::Int32(1));
                d.insert("dropped".into(), Value::String(db));
                Ok(Js::Val(Value::Document(d)))
            }
            _ => Err(ShellError::type_error(format!(
                "db.{name} is not a function"
            ))),
        }
    }

    fn collection_method(
        &mut self,
        db: &str,
        coll: &str,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        let mut args = args.into_iter();
        match name {
            "insertOne" => {
                let doc = match args.next() {
                    Some(Js::Val(Value::Document(d))) => d,
                    _ => {
                        return Err(ShellError::new(
                            "MongoInvalidArgumentError",
                            "Argument \"document\" must be an object",
                        ))
                    }
                };
                let doc = self.prepare_insert(doc);
                let id = doc.get("_id").cloned().unwrap_or(Value::Null);
                self.store
                    .collection_mut(db, coll)
                    .insert(doc)
                    .map_err(|e| insert_error(&e, db, coll, "MongoServerError"))?;
                let mut r = Document::default();
                r.insert("acknowledged".into(), Value::Bool(true));
                r.insert("insertedId".into(), id);
                Ok(Js::Val(Value::Document(r)))
            }
            "insertMany" => {
                let docs = match args.next() {
                    Some(Js::Val(Value::Array(items))) => items,
                    _ => {
                        return Err(ShellError::new(
                            "MongoInvalidArgumentError",
                            "Argument \"docs\" must be an array of documents",
                        ))
                    }
                };
                let ordered = match args.next() {
                    Some(Js::Val(Value::Document(opts))) => {
                        !matches!(opts.get("ordered"), Some(Value::Bool(false)))
                    }
                    _ => true,
                };
                let mut prepared = Vec::with_capacity(docs.len());
                for d in docs {
                    match d {
                        Value::Document(d) => prepared.push(self.prepare_insert(d)),
                        _ => {
                            return Err(ShellError::new(
                                "MongoInvalidArgumentError",
                                "Argument \"docs\" must be an array of documents",
                            ))
                        }
                    }
                }
                let mut ids = Document::default();
                let mut failures = Vec::new();
                let collection = self.store.collection_mut(db, coll);
                for (i, doc) in prepared.into_iter().enumerate() {
                    let id = doc.get("_id").cloned().unwrap_or(Value::Null);
                    let op = doc.clone();
                    match collection.insert(doc) {
                        Ok(()) => {
                            ids.insert(i.to_string(), id);
                        }
                        Err(e) => {
                            failures.push((i, e, op));
                            if ordered {
                                break;
                            }
                        }
                    }
                }
                if !failures.is_empty() {
                    return Err(bulk_write_error(&failures, ids, db, coll));
                }
                let mut r = Document::default();
                r.insert("acknowledged".into(), Value::Bool(true));
                r.insert("insertedIds".into(), Value::Document(ids));
                Ok(Js::Val(Value::Document(r)))
            }
            "find" => {
                let filter = filter_arg(args.next())?;
                if args.next().is_some_and(|p| !matches!(p, Js::Undefined)) {
                    return Err(ShellError::new(
                        "MongoshUnimplementedError",
                        "[COMMON-90002] find() with a projection is not supported in this sandbox yet",
                    ));
                }
                Ok(Js::Cursor(Box::new(CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    sort: None,
                    skip: 0,
                    limit: None,
                })))
            }
            "findOne" => {
                let filter = filter_arg(args.next())?;
                let spec = CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    sort: None,
                    skip: 0,
                    limit: Some(1),
                };
                let docs = self.run_cursor(&spec)?;
                Ok(Js::Val(
                    docs.into_iter().next().map_or(Value::Null, Value::Document),
                ))
            }
            "countDocuments" => {
                let filter = filter_arg(args.next())?;
                let spec = CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    sort: None,
                    skip: 0,
                    limit: None,
                };
                let n = self.matching(&spec)?.len();
                Ok(Js::Val(number_value(n as f64)))
            }
            "estimatedDocumentCount" => {
                let n = self.store.collection(db, coll).map_or(0, |c| c.docs.len());
                Ok(Js::Val(number_value(n as f64)))
            }
            "drop" => {
                // Since MongoDB 7.0 dropping a missing collection succeeds too.
                self.store.drop_collection(db, coll);
                Ok(Js::Val(Value::Bool(true)))
            }
            "aggregate" => {
                let argv = args
                    .map(|a| self.to_bson(a))
                    .collect::<Result<Vec<_>, _>>()?;
                let (shown, rest) = crate::mongo::agg::shell::aggregate(
                    &mut self.store,
                    db,
                    Some(coll),
                    &argv,
                    self.now_ms,
                    self.json,
                )?;
                self.cursor = rest;
                Ok(shown.map_or(Js::Undefined, Js::Val))
            }
            "getName" => Ok(Js::Val(Value::String(coll.into()))),
            "getFullName" => Ok(Js::Val(Value::String(format!("{db}.{coll}")))),
            _ => Err(ShellError::type_error(format!(
                "db.{coll}.{name} is not a function"
            ))),
        }
    }

    fn cursor_method(
        &mut self,
        mut spec: CursorSpec,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        let first = args.into_iter().next();
        let count_arg = |v: Option<Js>, what: &str| -> Result<usize, ShellError> {
            match v {
                Some(Js::Val(n)) if n.is_number() => {
                    let x = js_to_number(&n);
                    Ok(if x.is_finite() && x > 0.0 {
                        x as usize
                    } else {
                        0
                    })
                }
                _ => Err(ShellError::invalid_input(format!(
                    "{what} requires a number"
                ))),
            }
        };
        match name {
            "limit" => {
                spec.limit = Some(count_arg(first, "limit")?);
                Ok(Js::Cursor(Box::new(spec)))
            }
            "skip" => {
                spec.skip = count_arg(first, "skip")?;
                Ok(Js::Cursor(Box::new(spec)))
            }
            "sort" => match first {
                Some(Js::Val(Value::Document(d))) => {
                    sort_keys(&d)?;
                    spec.sort = Some(d);
                    Ok(Js::Cursor(Box::new(spec)))
                }
                _ => Err(ShellError::invalid_input("sort requires a document")),
            },
            "pretty" => Ok(Js::Cursor(Box::new(spec))),
            "toArray" => {
                let docs = self.run_cursor(&spec)?;
                Ok(Js::Val(Value::Array(
                    docs.into_iter().map(Value::Document).collect(),
                )))
            }
            "itcount" | "count" | "size" => {
                let n = self.matching(&spec)?.len();
                Ok(Js::Val(number_value(n as f64)))
            }
            _ => Err(ShellError::type_error(format!(
                "cursor.{name} is not a function"
            ))),
        }
    }

    /// Gives a document its `_id` (generated if absent) in first position, as the server
    /// stores it.
    fn prepare_insert(&mut self, mut doc: Document) -> Document {
        // The driver tests `doc._id == null`, so an explicit null `_id` also gets a new id.
        match doc
            .shift_remove("_id")
            .filter(|id| !matches!(id, Value::Null))
        {
            Some(id) => {
                doc.shift_insert(0, "_id".into(), id);
            }
            None => {
                let id = Value::ObjectId(self.oids.next(self.now_ms));
                doc.shift_insert(0, "_id".into(), id);
            }
        }
        doc
    }
}

fn bad_object_id() -> ShellError {
    ShellError::new(
        "BSONError",
        "input must be a 24 character hex string, 12 byte Uint8Array, or an integer",
    )
}

fn insert_error(e: &InsertError, db: &str, coll: &str, name: &str) -> ShellError {
    let (code, message) = match e {
        InsertError::DuplicateId(id) => (
            11000,
            format!(
                "E11000 duplicate key error collection: {db}.{coll} index: _id_ dup key: {{ _id: {} }}",
                server_repr(id)
            ),
        ),
        InsertError::IdIsArray => (53, "The '_id' value cannot be of type array".to_string()),
    };
    let mut err = ShellError::server(code, None, message);
    err.name = name.into();
    err
}

/// The `MongoBulkWriteError` of a failed insertMany, with the `Result:` and `Write Errors:`
/// lines mongosh prints after the message (the driver's BulkWriteResult and WriteErrors).
fn bulk_write_error(
    failures: &[(usize, InsertError, Document)],
    inserted_ids: Document,
    db: &str,
    coll: &str,
) -> ShellError {
    let Some((_, first, _)) = failures.first() else {
        return ShellError::new("MongoBulkWriteError", "bulk write failed");
    };
    let mut err = insert_error(first, db, coll, "MongoBulkWriteError");
    let mut result = Document::default();
    result.insert(
        "insertedCount".into(),
        number_value(inserted_ids.len() as f64),
    );
    for field in [
        "matchedCount",
        "modifiedCount",
        "deletedCount",
        "upsertedCount",
    ] {
        result.insert(field.into(), Value::Int32(0));
    }
    result.insert("upsertedIds".into(), Value::Document(Document::default()));
    result.insert("insertedIds".into(), Value::Document(inserted_ids));
    let write_errors: Vec<Document> = failures
        .iter()
        .map(|(index, e, op)| {
            let one = insert_error(e, db, coll, "WriteError");
            let mut inner = Document::default();
            inner.insert("index".into(), number_value(*index as f64));
            inner.insert(
                "code".into(),
                number_value(f64::from(one.code.unwrap_or(0))),
            );
            inner.insert("errmsg".into(), Value::String(one.message.clone()));
            inner.insert("errInfo".into(), Value::Undefined);
            inner.insert("op".into(), Value::Document(op.clone()));
            let mut outer = Document::default();
            outer.insert("err".into(), Value::Document(inner));
            outer
        })
        .collect();
    err.details = Some(format!(
        "Result: {}\nWrite Errors: {}",
        crate::mongo::format::inspect_instance("BulkWriteResult", &result),
        crate::mongo::format::inspect_instances("WriteError", &write_errors)
    ));
    err
}

/// A filter argument: absent means `{}`, an ObjectId means `{_id: it}` (as the driver does).
fn filter_arg(v: Option<Js>) -> Result<Document, ShellError> {
    match v {
        None | Some(Js::Undefined) | Some(Js::Val(Value::Null)) => Ok(Document::default()),
        Some(Js::Val(Value::Document(d))) => Ok(d),
        Some(Js::Val(Value::ObjectId(o))) => {
            let mut d = Document::default();
            d.insert("_id".into(), Value::ObjectId(o));
            Ok(d)
        }
        Some(_) => Err(ShellError::new(
            "MongoInvalidArgumentError",
            "Query filter must be a plain object or ObjectId",
        )),
    }
}

fn compile_filter(filter: &Document) -> Result<Filter, ShellError> {
    Filter::compile(filter).map_err(|e| ShellError::server(e.code, Some(e.code_name), e.message))
}

fn sort_keys(sort: &Document) -> Result<Vec<(Vec<String>, i32)>, ShellError> {
    sort.iter()
        .map(|(k, v)| {
            let dir = match v {
                Value::Int32(1) | Value::Int64(1) => 1,
                Value::Double(x) if *x == 1.0 => 1,
                Value::Int32(-1) | Value::Int64(-1) => -1,
                Value::Double(x) if *x == -1.0 => -1,
                _ => {
                    return Err(ShellError::server(
                        15974,
                        Some("Location15974"),
                        "Illegal key in $sort specification: {}"
                            .replace("{}", &format!("{k}: {}", server_repr(v))),
                    ))
                }
            };
            Ok((k.split('.').map(str::to_string).collect(), dir))
        })
        .collect()
}

/// The value a sort key sees: the field at the path, or null when absent.
fn lookup_path(doc: &Document, path: &[String]) -> Value {
    let mut cur: Option<&Value> = None;
    for (i, part) in path.iter().enumerate() {
        let next = if i == 0 {
            doc.get(part)
        } else {
            match cur {
                Some(Value::Document(d)) => d.get(part),
                Some(Value::Array(items)) => part.parse::<usize>().ok().and_then(|n| items.get(n)),
                _ => None,
            }
        };
        match next {
            Some(v) => cur = Some(v),
            None => return Value::Null,
        }
    }
    cur.cloned().unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_numbers_become_int32_or_double() {
        assert_eq!(number_value(1.0), Value::Int32(1));
        assert_eq!(number_value(-2147483648.0), Value::Int32(i32::MIN));
        assert_eq!(number_value(2147483648.0), Value::Double(2147483648.0));
        assert_eq!(number_value(1.5), Value::Double(1.5));
        assert!(matches!(number_value(-0.0), Value::Double(x) if x.is_sign_negative()));
    }

    #[test]
    fn date_string_and_sizes() {
        assert_eq!(
            js_date_string(1_795_671_600_000),
            "Thu Nov 26 2026 05:40:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(format_bytes(40 * 1024), "40.00 KiB");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3 * 1024 * 1024), "3.00 MiB");
    }
}
