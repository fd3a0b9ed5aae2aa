//! Evaluates parsed statements against the sandbox's databases.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::collection::COLLECTION_METHODS;
use super::parser::{DeclKind, Expr, FnBody, FunctionDef, Pattern, Prop, Stmt, StmtKind};
use super::ShellError;
use crate::mongo::query::cursor::sort_keys;
use crate::mongo::store::Store;
use crate::mongo::value::{parse_iso_date, Document, ObjectId, ObjectIdGenerator, Value};

mod fast;
pub(super) mod pipeline_rows;
pub(in crate::mongo) mod rows;

use rows::Rows;
pub(crate) mod giant;
pub(crate) mod to_array;

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
///
/// Arrays and objects are values (`Value`), not shared references: mutation goes through the
/// variable or property written (`arr.push(x)`, `doc.a = 1`), so two names bound to one
/// array do not see each other's changes as they would in JavaScript.
#[derive(Debug, Clone)]
pub(super) enum Js {
    Undefined,
    Val(Value),
    Db,
    Collection {
        db: String,
        name: String,
    },
    Method {
        target: Box<Js>,
        name: String,
    },
    Builtin(Builtin),
    /// A find as collection methods return it; it becomes a `Live` cursor when evaluated.
    Cursor(Box<CursorSpec>),
    /// `db.coll.explain(verbosity)`: its `find(…)` gives a cursor that prints its explain.
    /// Boxed: `Js` is on every frame of the recursive evaluator and must stay small.
    Explainable(Box<Explainable>),
    /// A cursor that remembers its position (`hasNext`, `next`, `it`).
    Live(Rc<RefCell<LiveCursor>>),
    Function(Rc<Closure>),
    /// A global namespace (`Math`, `JSON`, `Object`, …) or one of its functions, by name.
    Native(&'static str),
    /// An object of the installed host (see `host.rs`), by the host's number for it.
    Host(u32),
    /// `db.getMongo()`: the connection.
    Mongo,
    /// A client session, by its number (`db.getMongo().startSession()`).
    ClientSession(u32),
    /// A database other than `db`, or one reached through a session.
    Database(Box<super::sessions::DbRef>),
    /// A collection reached through a session's database.
    SessionColl(Box<super::sessions::CollRef>),
    /// `db.coll.getPlanCache()`.
    PlanCache(Box<super::plan_cache::PlanCacheRef>),
}

/// What `db.coll.explain(verbosity)` returns.
#[derive(Debug, Clone)]
pub(super) struct Explainable {
    pub db: String,
    pub coll: String,
    pub verbosity: Value,
}

/// A function value: its definition and the scope it closes over.
pub(super) struct Closure {
    pub def: Rc<FunctionDef>,
    pub env: ScopeRef,
    /// The name it prints with: its own, or the variable it was first bound to.
    pub name: Option<String>,
}

impl std::fmt::Debug for Closure {
    // The scope may contain the closure itself: print the name only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Closure({:?})", self.name)
    }
}

pub(super) type ScopeRef = Rc<RefCell<Scope>>;

#[derive(Default)]
pub(super) struct Scope {
    vars: HashMap<String, Binding>,
    parent: Option<ScopeRef>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        crate::sort::sort(&mut names);
        write!(f, "Scope({names:?})")
    }
}

#[derive(Debug)]
struct Binding {
    value: Js,
    constant: bool,
}

/// A cursor with a position: the query runs on first use, then documents are taken from
/// the buffer (see `rows`). `maps` are the functions given to `cursor.map`, applied as
/// documents leave.
#[derive(Debug)]
pub(super) struct LiveCursor {
    spec: CursorSpec,
    buffer: Option<Rows>,
    maps: Vec<Js>,
}

/// What a statement did besides its value: loops and functions act on these.
enum Flow {
    Normal,
    Break,
    Continue,
    Return(Js),
}

/// Steps (expressions and statements evaluated) one input may take before it is stopped.
pub const STEP_LIMIT: u64 = 10_000_000;

/// Nesting of evaluation (calls, blocks, expressions) beyond this is a RangeError: the
/// evaluator recurses on the Rust stack, which in wasm is 1 MiB.
pub const MAX_EVAL_DEPTH: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Builtin {
    ObjectId,
    IsoDate,
    Date,
    NumberInt,
    NumberLong,
    Double,
    Decimal128,
    Timestamp,
    MinKey,
    MaxKey,
    Uuid,
    BinData,
    HexData,
    /// `Binary`: only its static constructors are callable.
    Binary,
}

const BUILTINS: &[(&str, Builtin)] = &[
    ("ObjectId", Builtin::ObjectId),
    ("ISODate", Builtin::IsoDate),
    ("Date", Builtin::Date),
    ("NumberInt", Builtin::NumberInt),
    ("Int32", Builtin::NumberInt),
    ("NumberLong", Builtin::NumberLong),
    ("Long", Builtin::NumberLong),
    ("Double", Builtin::Double),
    ("NumberDecimal", Builtin::Decimal128),
    ("Decimal128", Builtin::Decimal128),
    ("Timestamp", Builtin::Timestamp),
    ("MinKey", Builtin::MinKey),
    ("MaxKey", Builtin::MaxKey),
    ("UUID", Builtin::Uuid),
    ("BinData", Builtin::BinData),
    ("HexData", Builtin::HexData),
    ("Binary", Builtin::Binary),
];

pub(crate) const DB_METHODS: &[&str] = &[
    "getName",
    "getCollection",
    "getCollectionNames",
    "dropDatabase",
    "aggregate",
    "createCollection",
    "getCollectionInfos",
    "runCommand",
    "getMongo",
    "getSiblingDB",
    "adminCommand",
];

pub(crate) const CURSOR_METHODS: &[&str] = &[
    "toArray",
    "limit",
    "skip",
    "sort",
    "itcount",
    "pretty",
    "count",
    "size",
    "hasNext",
    "next",
    "tryNext",
    "forEach",
    "map",
    "batchSize",
    "isExhausted",
    "close",
    "objsLeftInBatch",
    "hint",
    "explain",
    "finish",
];

/// A find not yet run: cursors are lazy in mongosh too, so `find().limit(2)` is one query.
#[derive(Debug, Clone)]
pub(super) struct CursorSpec {
    pub(super) db: String,
    pub(super) coll: String,
    pub(super) filter: Document,
    pub(super) projection: Option<Document>,
    pub(super) sort: Option<Document>,
    pub(super) skip: usize,
    pub(super) limit: Option<usize>,
    /// `cursor.hint(…)`: an index name or key pattern, or `{$natural: 1}`.
    pub(super) hint: Option<Value>,
    /// Set by `db.coll.explain(verbosity).find(…)`: the cursor prints its explain.
    pub(super) explain: Option<Value>,
    /// The session whose transaction the cursor reads in, for a find through a session.
    pub(super) session: Option<u32>,
}

/// One mongosh session: current database, the sandbox's data, the cursor `it` continues,
/// and the user's `const`/`let`/`var` bindings.
#[derive(Debug)]
pub struct Session {
    pub store: Store,
    pub db: String,
    pub(crate) oids: ObjectIdGenerator,
    /// The cursor `it` continues: the last one printed.
    pub(super) cursor: Option<Rc<RefCell<LiveCursor>>>,
    pub(super) global: ScopeRef,
    pub(super) scope: ScopeRef,
    pub(super) now_ms: u64,
    pub(super) json: bool,
    steps: u64,
    /// Steps an input may take (`STEP_LIMIT` unless a test lowers it).
    pub step_limit: u64,
    depth: usize,
    /// The completion value of the statements run so far (what a loop at the prompt prints).
    last: Js,
    /// Lines written by print / printjson / console.log, for the console to show in order.
    pub printed: Vec<String>,
    rng: u64,
    /// The (seconds, ordinal) of the last Timestamp an insert filled in.
    pub(super) last_timestamp: (u32, u32),
    /// The write running now asked for `bypassDocumentValidation`.
    pub(super) bypass_validation: bool,
    /// The find the last `.explain()` described, for the page's explain view.
    pub(super) explained: Option<CursorSpec>,
    /// Objects an embedder adds to the language (None in the mongosh console).
    pub host: Option<Box<dyn super::host::Host>>,
    /// What the `resolve` of the `new Promise` running now was called with.
    pub(super) resolved: Option<Js>,
    /// Client sessions and the transactions open in them.
    pub sessions: super::sessions::Sessions,
    /// Winning plans of finds that had several candidates, by query shape.
    pub(crate) plan_cache: RefCell<crate::mongo::index::plan_cache::PlanCache>,
    /// A statement copying a cursor in steps (`to_array`) is under way: the TTL monitor
    /// waits, so that the collection does not change under the copy.
    pub(crate) ttl_held: bool,
}

impl Default for Session {
    fn default() -> Self {
        let global: ScopeRef = Rc::default();
        Session {
            store: Store::default(),
            db: "test".into(),
            oids: ObjectIdGenerator::default(),
            cursor: None,
            scope: global.clone(),
            global,
            now_ms: 0,
            json: false,
            steps: 0,
            step_limit: STEP_LIMIT,
            depth: 0,
            last: Js::Undefined,
            printed: Vec::new(),
            rng: 0x2545_f491_4f6c_dd1d,
            last_timestamp: (0, 0),
            bypass_validation: false,
            explained: None,
            host: None,
            resolved: None,
            sessions: super::sessions::Sessions::default(),
            plan_cache: RefCell::default(),
            ttl_held: false,
        }
    }
}

pub use crate::mongo::value::number_value;

pub(super) fn js_to_number(v: &Value) -> f64 {
    match v {
        Value::Double(x) => *x,
        Value::Int32(i) => f64::from(*i),
        Value::Int64(i) => *i as f64,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Null => 0.0,
        Value::Date(ms) => *ms as f64,
        Value::String(s) => super::js::string_to_number(s),
        Value::Array(items) => match items.as_slice() {
            [] => 0.0,
            [one] => js_to_number(one),
            _ => f64::NAN,
        },
        _ => f64::NAN,
    }
}

pub(super) fn truthy(v: &Js) -> bool {
    match v {
        Js::Undefined => false,
        Js::Val(Value::Bool(b)) => *b,
        Js::Val(Value::Null) => false,
        Js::Val(Value::String(s)) => !s.is_empty(),
        Js::Val(v @ (Value::Double(_) | Value::Int32(_) | Value::Int64(_))) => {
            let n = js_to_number(v);
            n != 0.0 && !n.is_nan()
        }
        Js::Val(Value::Undefined) => false,
        _ => true,
    }
}

/// A global of the shell itself (a BSON constructor or a native), ignoring bindings.
pub(super) fn shell_global(name: &str) -> Js {
    if let Some((_, b)) = BUILTINS.iter().find(|(n, _)| *n == name) {
        return Js::Builtin(*b);
    }
    super::js::global(name).unwrap_or(Js::Undefined)
}

/// `v` bound to the variable `name`: an anonymous function takes its name, as in JavaScript.
fn named(name: Option<&str>, v: Js) -> Js {
    match (name, v) {
        (Some(name), Js::Function(f)) if f.name.is_none() => Js::Function(Rc::new(Closure {
            def: f.def.clone(),
            env: f.env.clone(),
            name: Some(name.to_string()),
        })),
        (_, v) => v,
    }
}

/// The variable an assignment to `target` names, if it is one.
fn assigned_name(target: &Expr) -> Option<&str> {
    match target {
        Expr::Ident { name, .. } => Some(name),
        _ => None,
    }
}

/// The text a callee was written as, for `… is not a function`.
fn callee_text(e: &Expr) -> &str {
    match e {
        Expr::Member { text, .. } | Expr::Index { text, .. } => text,
        Expr::Ident { name, .. } => name,
        _ => "expression",
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// What JavaScript's `Date()` (called without `new`) returns, in the sandbox's UTC zone.
pub(super) fn js_date_string(ms: i64) -> String {
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

pub(super) fn valid_db_name(name: &str) -> bool {
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

impl Session {
    pub fn set_context(&mut self, now_ms: u64, json: bool) {
        self.now_ms = now_ms;
        self.json = json;
        self.drop_buckets_views();
        if !self.ttl_held {
            crate::mongo::index::ttl::tick(&mut self.store, now_ms);
        }
        self.reap_expired_transactions();
    }

    pub fn run(&mut self, stmt: &Stmt) -> Result<Output, ShellError> {
        self.run_shown(stmt, true)
    }

    /// Runs a statement whose value is not printed (a later statement on its line prints
    /// instead): a cursor it gives is not iterated, so `c = db.a.find(); c.toArray()` sees
    /// every document, as in mongosh.
    pub fn run_unshown(&mut self, stmt: &Stmt) -> Result<Output, ShellError> {
        self.run_shown(stmt, false)
    }

    /// Runs a statement whose value is only printed as text (the console's own input): a
    /// statement that is just `cursor.toArray()` copies only the documents mongosh prints
    /// of a long result and counts the rest, instead of copying all of them into an array
    /// that is dropped once printed. Its text is `run`'s.
    pub fn run_printed(&mut self, stmt: &Stmt) -> Result<Output, ShellError> {
        let StmtKind::Expr(Expr::Call { callee, args }) = &stmt.kind else {
            return self.run(stmt);
        };
        let Expr::Member {
            name,
            optional: false,
            ..
        } = &**callee
        else {
            return self.run(stmt);
        };
        if name != "toArray" || !args.is_empty() || self.json {
            return self.run(stmt);
        }
        self.depth = 0;
        self.scope = self.global.clone();
        // The steps and depth `eval` of the call would take.
        self.tick()?;
        self.enter()?;
        let out = self.print_to_array(callee);
        self.leave();
        out
    }

    fn print_to_array(&mut self, callee: &Expr) -> Result<Output, ShellError> {
        let f = self.eval(callee)?;
        if let Js::Method { target, .. } = &f {
            if let Js::Live(cursor) = &**target {
                if let Some(out) = self.printed_array_of(cursor)? {
                    return Ok(out);
                }
            }
        }
        let v = self.call(f, Vec::new(), callee_text(callee), false)?;
        self.output(v)
    }

    /// What printing `cursor.toArray()` shows, from the documents borrowed where they are
    /// stored; None when the cursor is one this cannot read so (begun, mapped, explained,
    /// in a session, with a host watching its reads, or projected with expressions, which
    /// may fail on a document the printer does not reach).
    fn printed_array_of(
        &mut self,
        cursor: &Rc<RefCell<LiveCursor>>,
    ) -> Result<Option<Output>, ShellError> {
        let text = {
            let c = cursor.borrow();
            if c.buffer.is_some()
                || !c.maps.is_empty()
                || c.spec.projection.as_ref().is_some_and(|p| {
                    let plain = crate::mongo::index::text::split_projection(p).0;
                    crate::mongo::query::projection::Projection::compile(&plain, &c.spec.filter)
                        .map_or(true, |p| p.is_some_and(|p| p.can_fail()))
                })
                || c.spec.explain.is_some()
                || c.spec.session.is_some()
                || self.host.is_some()
            {
                return Ok(None);
            }
            // The step `call` would take.
            self.tick()?;
            let found = self.find_for_cursor(&c.spec)?;
            let options = crate::mongo::format::Options::VALUE;
            // The printer reads one item past those it shows.
            let mut head = Vec::new();
            if let Some(coll) = self.store.collection(&c.spec.db, &c.spec.coll) {
                let shown = options.max_array_length.saturating_add(1);
                for (i, &pos) in found.positions.iter().take(shown).enumerate() {
                    if let Some(d) = coll.docs.get(pos) {
                        let d = found.shape.apply(d, found.score(i), rows::FIND_FAILED)?;
                        head.push(Value::Document(d));
                    }
                }
            }
            crate::mongo::format::inspect_array_head(&head, found.positions.len(), options)
        };
        cursor.borrow_mut().buffer = Some(Rows::default());
        Ok(Some(Output::Shown {
            text,
            json: Value::Null,
        }))
    }

    fn run_shown(&mut self, stmt: &Stmt, shown: bool) -> Result<Output, ShellError> {
        self.depth = 0;
        self.scope = self.global.clone();
        match &stmt.kind {
            StmtKind::Use(name) => self.use_db(name),
            StmtKind::Show(what) => self.show(what),
            StmtKind::It => self.next_batch(),
            StmtKind::Expr(e) if !shown => {
                self.eval(e)?;
                Ok(Output::Nothing)
            }
            StmtKind::Expr(e) => {
                let v = self.eval(e)?;
                self.output(v)
            }
            _ => {
                self.last = Js::Undefined;
                if let Flow::Return(_) = self.exec(stmt)? {
                    return Err(ShellError::new(
                        "SyntaxError",
                        "'return' outside of function.",
                    ));
                }
                let v = std::mem::replace(&mut self.last, Js::Undefined);
                self.output(v)
            }
        }
    }

    /// Declares the function statements of a script before any of it runs, as JavaScript
    /// hoists them, so a call may come before the declaration.
    pub fn hoist(&mut self, stmts: &[Stmt]) {
        let scope = self.global.clone();
        self.hoist_into(&scope, stmts);
    }

    fn hoist_into(&mut self, scope: &ScopeRef, stmts: &[Stmt]) {
        for stmt in stmts {
            if let StmtKind::Function(def) = &stmt.kind {
                let f = Js::Function(Rc::new(Closure {
                    def: def.clone(),
                    env: scope.clone(),
                    name: def.name.clone(),
                }));
                if let Some(name) = &def.name {
                    scope.borrow_mut().vars.insert(
                        name.clone(),
                        Binding {
                            value: f,
                            constant: false,
                        },
                    );
                }
            }
        }
    }

    /// Whether the student has bound `name` at the top level (a `function ISODate()` of
    /// their own shadows the built-in).
    pub(crate) fn is_bound(&self, name: &str) -> bool {
        self.global.borrow().vars.contains_key(name)
    }

    /// Evaluates call arguments to BSON values at the top level, with the input's step
    /// budget, for the pipeline viewer. Callers check beforehand that the expressions cannot
    /// write (no calls, assignments or updates), so evaluating them again changes nothing.
    pub(crate) fn eval_args_to_bson(&mut self, args: &[Expr]) -> Result<Vec<Value>, ShellError> {
        self.begin_input();
        self.depth = 0;
        self.scope = self.global.clone();
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            if let Expr::Spread(inner) = a {
                let v = self.eval(inner)?;
                for item in super::js::iterate(&v, "argument")? {
                    out.push(self.to_bson(item)?);
                }
            } else {
                let v = self.eval(a)?;
                out.push(self.to_bson(v)?);
            }
        }
        Ok(out)
    }

    /// Runs `f`, then puts back what a statement leaves for the next one (the cursor `it`
    /// continues, the completion value, the find the last explain described), so that a read
    /// the page makes on the student's behalf (a lesson's check) changes nothing they see.
    pub(crate) fn leaving_no_trace<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let cursor = self.cursor.take();
        let last = std::mem::replace(&mut self.last, Js::Undefined);
        let explained = self.explained.take();
        let out = f(self);
        self.cursor = cursor;
        self.last = last;
        self.explained = explained;
        self.printed.clear();
        out
    }

    /// Starts a new input: fresh step budget, and the time and output mode it runs with.
    pub fn begin_input(&mut self) {
        self.steps = 0;
        self.depth = 0;
        self.printed.clear();
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
                crate::sort::sort(&mut rows);
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
                let listed = crate::mongo::timeseries::collection_names(&self.store, &self.db);
                let names = self.collection_names();
                Ok(Output::Shown {
                    text: crate::mongo::timeseries::show_collections(&listed),
                    json: Value::Array(names.into_iter().map(Value::String).collect()),
                })
            }
            other => Err(ShellError::invalid_input(format!(
                "'{other}' is not a valid argument for \"show\"."
            ))),
        }
    }

    pub(super) fn collection_names(&self) -> Vec<String> {
        crate::mongo::timeseries::collection_names(&self.store, &self.db)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    /// `it`: a batch's error (a getMore's) is printed, and the cursor is gone after it.
    fn next_batch(&mut self) -> Result<Output, ShellError> {
        let Some(cursor) = self.cursor.clone() else {
            return Ok(no_cursor());
        };
        match self.cursor_batch(&cursor, Some(BATCH_SIZE)) {
            Ok(Some(out)) => Ok(out),
            Ok(None) => {
                self.cursor = None;
                Ok(no_cursor())
            }
            Err(e) => {
                self.cursor = None;
                Err(e)
            }
        }
    }

    /// The next batch of a cursor (all of it when `n` is None), or None when it is exhausted.
    fn cursor_batch(
        &mut self,
        cursor: &Rc<RefCell<LiveCursor>>,
        n: Option<usize>,
    ) -> Result<Option<Output>, ShellError> {
        self.start_cursor(cursor)?;
        let (docs, more, maps) = {
            let mut c = cursor.borrow_mut();
            let maps = c.maps.clone();
            let Some(rows) = c.buffer.as_mut() else {
                return Ok(None);
            };
            let docs = rows.take(n, &self.store)?;
            if docs.is_empty() {
                return Ok(None);
            }
            (docs, !rows.is_empty(), maps)
        };
        if maps.is_empty() {
            return Ok(Some(Output::Batch { docs, more }));
        }
        let mut items = Vec::with_capacity(docs.len());
        for d in docs {
            let v = self.apply_maps(&maps, Js::Val(Value::Document(d)))?;
            items.push(self.to_bson(v)?);
        }
        Ok(Some(Output::Value(Value::Array(items))))
    }

    /// A cursor over documents already computed (an aggregation's result): started, so it
    /// is printed in batches and iterated like find's, and never re-run.
    pub(super) fn cursor_over(db: &str, coll: &str, docs: Vec<Document>) -> Js {
        Session::cursor_of(db, coll, Rows::copied(docs))
    }

    /// A started cursor over `rows`.
    pub(super) fn cursor_of(db: &str, coll: &str, rows: Rows) -> Js {
        Js::Live(Rc::new(RefCell::new(LiveCursor {
            spec: CursorSpec {
                db: db.to_string(),
                coll: coll.to_string(),
                filter: Document::default(),
                projection: None,
                sort: None,
                skip: 0,
                limit: None,
                hint: None,
                explain: None,
                session: None,
            },
            buffer: Some(rows),
            maps: Vec::new(),
        })))
    }

    fn start_cursor(&mut self, cursor: &Rc<RefCell<LiveCursor>>) -> Result<(), ShellError> {
        if cursor.borrow().buffer.is_some() {
            return Ok(());
        }
        let session = cursor.borrow().spec.session;
        let rows = match session {
            // A transaction reads its snapshot: the documents are copied as it sees them.
            Some(id) => {
                let spec = cursor.borrow().spec.clone();
                Rows::copied(self.in_session(id, |s| s.run_cursor(&spec))?)
            }
            None => {
                let c = cursor.borrow();
                if c.spec
                    .coll
                    .starts_with(crate::mongo::timeseries::BUCKETS_PREFIX)
                    || rows::copy_all()
                {
                    // A buckets collection is built for this input only: the next
                    // input's `it` would find none of its records.
                    Rows::copied(self.run_cursor(&c.spec)?)
                } else {
                    let found = self.find_for_cursor(&c.spec)?;
                    Rows::open(&self.store, &c.spec.db, &c.spec.coll, found)?
                }
            }
        };
        cursor.borrow_mut().buffer = Some(rows);
        Ok(())
    }

    fn apply_maps(&mut self, maps: &[Js], mut v: Js) -> Result<Js, ShellError> {
        for f in maps {
            v = self.call_value(f, vec![v])?;
        }
        Ok(v)
    }

    /// The next document of a cursor (mapped), or None at its end.
    fn cursor_next(&mut self, cursor: &Rc<RefCell<LiveCursor>>) -> Result<Option<Js>, ShellError> {
        self.start_cursor(cursor)?;
        let (doc, maps) = {
            let mut c = cursor.borrow_mut();
            let doc = match c.buffer.as_mut() {
                Some(rows) => rows.next(&self.store)?,
                None => None,
            };
            (doc, c.maps.clone())
        };
        match doc {
            Some(d) => Ok(Some(self.apply_maps(&maps, Js::Val(Value::Document(d)))?)),
            None => Ok(None),
        }
    }

    fn output(&mut self, v: Js) -> Result<Output, ShellError> {
        Ok(match v {
            Js::Undefined => Output::Nothing,
            Js::Val(v) => Output::Value(v),
            Js::ClientSession(id) => Output::Value(self.session_value(id)),
            Js::Live(cursor) if cursor.borrow().spec.explain.is_some() => {
                let spec = cursor.borrow().spec.clone();
                let explained = self.explain_find(&spec, spec.explain.as_ref())?;
                self.explained = Some(spec);
                Output::Value(Value::Document(explained))
            }
            Js::Live(cursor) => {
                let n = if self.json { None } else { Some(BATCH_SIZE) };
                match self.cursor_batch(&cursor, n)? {
                    Some(out) => {
                        let more = matches!(out, Output::Batch { more: true, .. });
                        self.cursor = if more { Some(cursor) } else { None };
                        out
                    }
                    None => {
                        self.cursor = None;
                        Output::Batch {
                            docs: Vec::new(),
                            more: false,
                        }
                    }
                }
            }
            Js::Cursor(spec) => {
                let live = Js::Live(Rc::new(RefCell::new(LiveCursor {
                    spec: *spec,
                    buffer: None,
                    maps: Vec::new(),
                })));
                return self.output(live);
            }
            other => Output::Value(Value::String(self.describe(&other))),
        })
    }

    /// How mongosh prints a shell object that is not data.
    fn describe(&self, v: &Js) -> String {
        match v {
            Js::Db => self.db.clone(),
            Js::Collection { db, name } => format!("{db}.{name}"),
            Js::Method { name, .. } => format!("[Function: {name}]"),
            Js::Builtin(b) => {
                let name = BUILTINS
                    .iter()
                    .find(|(_, x)| x == b)
                    .map_or("anonymous", |(n, _)| n);
                format!("[Function: {name}]")
            }
            Js::Function(f) => match &f.name {
                Some(n) => format!("[Function: {n}]"),
                None => "[Function (anonymous)]".into(),
            },
            Js::Native(name) => match super::js::native_kind(name) {
                super::js::NativeKind::Namespace => format!("Object [{name}]"),
                super::js::NativeKind::Function => {
                    format!("[Function: {}]", name.rsplit('.').next().unwrap_or(name))
                }
            },
            Js::Live(_) | Js::Cursor(_) => "Cursor".into(),
            Js::Host(id) => self
                .host
                .as_ref()
                .map_or_else(|| "[object]".into(), |h| h.describe(*id)),
            Js::Explainable(e) => format!("Explainable({}.{})", e.db, e.coll),
            Js::Mongo => super::sessions::CONNECTION_STRING.into(),
            Js::ClientSession(id) => crate::mongo::format::inspect(
                &self.session_value(*id),
                crate::mongo::format::Options::VALUE,
            ),
            Js::Database(d) => d.name.clone(),
            Js::SessionColl(c) => format!("{}.{}", c.db, c.name),
            Js::PlanCache(p) => super::plan_cache::describe(p),
            Js::Undefined => "undefined".into(),
            Js::Val(v) => crate::mongo::format::inspect(v, crate::mongo::format::Options::VALUE),
        }
    }

    fn tick(&mut self) -> Result<(), ShellError> {
        self.steps += 1;
        if self.steps > self.step_limit {
            return Err(ShellError::new(
                "Error",
                format!(
                    "sandbox step limit reached ({} steps; does a loop never end?)",
                    self.step_limit
                ),
            ));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), ShellError> {
        self.depth += 1;
        if self.depth > MAX_EVAL_DEPTH {
            self.depth -= 1;
            return Err(ShellError::new(
                "RangeError",
                "Maximum call stack size exceeded",
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Runs a statement in the current scope.
    fn exec(&mut self, stmt: &Stmt) -> Result<Flow, ShellError> {
        self.tick()?;
        self.enter()?;
        let r = self.exec_inner(stmt);
        self.leave();
        r
    }

    #[inline(never)]
    fn exec_inner(&mut self, stmt: &Stmt) -> Result<Flow, ShellError> {
        // Conditionals, loops and try produce undefined when their body leaves no value
        // (ECMAScript's UpdateEmpty(…, undefined)), which is what the prompt then prints.
        if matches!(
            stmt.kind,
            StmtKind::If { .. }
                | StmtKind::For { .. }
                | StmtKind::ForEach { .. }
                | StmtKind::While { .. }
                | StmtKind::DoWhile { .. }
                | StmtKind::Try { .. }
        ) {
            self.last = Js::Undefined;
        }
        match &stmt.kind {
            StmtKind::Expr(e) => {
                let v = self.eval(e)?;
                self.last = v;
            }
            StmtKind::Let { kind, decls } => self.exec_let(*kind, decls)?,
            StmtKind::Function(_) => {
                let scope = self.scope.clone();
                self.hoist_into(&scope, std::slice::from_ref(stmt));
            }
            StmtKind::If {
                test,
                then,
                otherwise,
            } => return self.exec_if(test, then, otherwise.as_deref()),
            StmtKind::Block(stmts) => return self.exec_block(stmts),
            StmtKind::For {
                init,
                test,
                update,
                body,
            } => return self.exec_for(init.as_deref(), test.as_ref(), update.as_ref(), body),
            StmtKind::ForEach {
                kind,
                target,
                of,
                iter,
                body,
            } => return self.exec_for_each(*kind, target, *of, iter, body),
            StmtKind::While { test, body } => return self.exec_while(test, body),
            StmtKind::DoWhile { body, test } => return self.exec_do_while(body, test),
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Js::Undefined,
                };
                return Ok(Flow::Return(v));
            }
            StmtKind::Throw(e) => {
                let v = self.eval(e)?;
                return Err(thrown(v));
            }
            StmtKind::Try {
                block,
                param,
                handler,
                finalizer,
            } => {
                return self.exec_try(
                    block,
                    param.as_ref(),
                    handler.as_deref(),
                    finalizer.as_deref(),
                )
            }
            StmtKind::Use(_) | StmtKind::Show(_) | StmtKind::It => {
                let out = match &stmt.kind {
                    StmtKind::Use(n) => self.use_db(n)?,
                    StmtKind::Show(w) => self.show(w)?,
                    _ => self.next_batch()?,
                };
                if let Output::Shown { text, .. } = out {
                    self.last = Js::Val(Value::String(text));
                }
            }
            StmtKind::Empty => {}
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn exec_let(
        &mut self,
        kind: DeclKind,
        decls: &[(Pattern, Option<Expr>)],
    ) -> Result<(), ShellError> {
        for (target, value) in decls {
            let v = match value {
                Some(e) => self.eval(e)?,
                None => Js::Undefined,
            };
            self.declare(kind, target, v)?;
        }
        Ok(())
    }

    /// Binds a declared `target` to its initial value.
    fn declare(&mut self, kind: DeclKind, target: &Pattern, v: Js) -> Result<(), ShellError> {
        let name = match target {
            Pattern::Name(n) => Some(n.as_str()),
            _ => None,
        };
        self.bind_pattern(target, named(name, v), Some(kind))
    }

    #[inline(never)]
    fn exec_if(
        &mut self,
        test: &Expr,
        then: &Stmt,
        otherwise: Option<&Stmt>,
    ) -> Result<Flow, ShellError> {
        let t = self.eval(test)?;
        if truthy(&t) {
            self.exec_scoped(then)
        } else if let Some(o) = otherwise {
            self.exec_scoped(o)
        } else {
            Ok(Flow::Normal)
        }
    }

    #[inline(never)]
    fn exec_while(&mut self, test: &Expr, body: &Stmt) -> Result<Flow, ShellError> {
        loop {
            let t = self.eval(test)?;
            if !truthy(&t) {
                return Ok(Flow::Normal);
            }
            match self.exec_scoped(body)? {
                Flow::Break => return Ok(Flow::Normal),
                Flow::Return(v) => return Ok(Flow::Return(v)),
                _ => {}
            }
        }
    }

    #[inline(never)]
    fn exec_do_while(&mut self, body: &Stmt, test: &Expr) -> Result<Flow, ShellError> {
        loop {
            match self.exec_scoped(body)? {
                Flow::Break => return Ok(Flow::Normal),
                Flow::Return(v) => return Ok(Flow::Return(v)),
                _ => {}
            }
            let t = self.eval(test)?;
            if !truthy(&t) {
                return Ok(Flow::Normal);
            }
        }
    }

    #[inline(never)]
    fn exec_try(
        &mut self,
        block: &[Stmt],
        param: Option<&Pattern>,
        handler: Option<&[Stmt]>,
        finalizer: Option<&[Stmt]>,
    ) -> Result<Flow, ShellError> {
        let r = self.exec_block(block);
        let r = match (r, handler) {
            (Err(e), Some(h)) if !is_budget_error(&e) => {
                let outer = self.push_scope();
                let bound = match param {
                    Some(p) => self.bind_pattern(p, error_value(&e), Some(DeclKind::Let)),
                    None => Ok(()),
                };
                let r = bound.and_then(|()| self.exec_block(h));
                self.scope = outer;
                r
            }
            (r, _) => r,
        };
        if let Some(f) = finalizer {
            if let flow @ (Flow::Return(_) | Flow::Break | Flow::Continue) = self.exec_block(f)? {
                return Ok(flow);
            }
        }
        r
    }

    fn push_scope(&mut self) -> ScopeRef {
        let inner = Rc::new(RefCell::new(Scope {
            vars: HashMap::new(),
            parent: Some(self.scope.clone()),
        }));
        std::mem::replace(&mut self.scope, inner)
    }

    fn exec_block(&mut self, stmts: &[Stmt]) -> Result<Flow, ShellError> {
        let outer = self.push_scope();
        let scope = self.scope.clone();
        self.hoist_into(&scope, stmts);
        let mut r = Ok(Flow::Normal);
        for s in stmts {
            match self.exec(s) {
                Ok(Flow::Normal) => {}
                other => {
                    r = other;
                    break;
                }
            }
        }
        self.scope = outer;
        r
    }

    /// A loop or `if` body: a block gets its scope from exec_block, a lone statement runs in
    /// a scope of its own so a `let` in it stays local.
    fn exec_scoped(&mut self, stmt: &Stmt) -> Result<Flow, ShellError> {
        if let StmtKind::Block(stmts) = &stmt.kind {
            self.tick()?;
            self.enter()?;
            let r = self.exec_block(stmts);
            self.leave();
            return r;
        }
        let outer = self.push_scope();
        let r = self.exec(stmt);
        self.scope = outer;
        r
    }

    fn exec_for(
        &mut self,
        init: Option<&Stmt>,
        test: Option<&Expr>,
        update: Option<&Expr>,
        body: &Stmt,
    ) -> Result<Flow, ShellError> {
        let outer = self.push_scope();
        let r = (|| {
            if let Some(init) = init {
                self.exec(init)?;
            }
            loop {
                if let Some(t) = test {
                    let v = self.eval(t)?;
                    if !truthy(&v) {
                        break;
                    }
                }
                match self.exec_scoped(body)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    _ => {}
                }
                if let Some(u) = update {
                    self.eval(u)?;
                }
            }
            Ok(Flow::Normal)
        })();
        self.scope = outer;
        r
    }

    fn exec_for_each(
        &mut self,
        kind: Option<DeclKind>,
        target: &Pattern,
        of: bool,
        iter: &Expr,
        body: &Stmt,
    ) -> Result<Flow, ShellError> {
        let source = self.eval(iter)?;
        let items: Vec<Js> = if of {
            match source {
                Js::Live(c) => {
                    // Iterating a cursor takes documents as they come.
                    if c.borrow().buffer.is_none() {
                        self.host_cursor_read();
                    }
                    while let Some(v) = self.cursor_next(&c)? {
                        self.tick()?;
                        match self.loop_item(target, v, kind, body)? {
                            Flow::Break => break,
                            Flow::Return(v) => return Ok(Flow::Return(v)),
                            _ => {}
                        }
                    }
                    return Ok(Flow::Normal);
                }
                Js::Cursor(spec) => self
                    .run_cursor(&spec)?
                    .into_iter()
                    .map(|d| Js::Val(Value::Document(d)))
                    .collect(),
                other => super::js::iterate(&other, callee_text(iter))?,
            }
        } else {
            match source {
                Js::Val(Value::Document(d)) => d
                    .keys()
                    .map(|k| Js::Val(Value::String(k.clone())))
                    .collect(),
                Js::Val(Value::Array(a)) => (0..a.len())
                    .map(|i| Js::Val(Value::String(i.to_string())))
                    .collect(),
                Js::Val(Value::String(s)) => (0..s.chars().count())
                    .map(|i| Js::Val(Value::String(i.to_string())))
                    .collect(),
                _ => Vec::new(),
            }
        };
        for item in items {
            match self.loop_item(target, item, kind, body)? {
                Flow::Break => break,
                Flow::Return(v) => return Ok(Flow::Return(v)),
                _ => {}
            }
        }
        Ok(Flow::Normal)
    }

    /// One pass of a `for … of` / `for … in` body, with the item bound in a scope of its own.
    fn loop_item(
        &mut self,
        target: &Pattern,
        item: Js,
        kind: Option<DeclKind>,
        body: &Stmt,
    ) -> Result<Flow, ShellError> {
        let outer = self.push_scope();
        let r = self
            .bind_pattern(target, item, kind)
            .and_then(|()| self.exec_scoped(body));
        self.scope = outer;
        r
    }

    /// Binds a declaration target (`kind` given) or assigns to existing names (`kind` None).
    fn bind_pattern(
        &mut self,
        target: &Pattern,
        v: Js,
        kind: Option<DeclKind>,
    ) -> Result<(), ShellError> {
        match target {
            Pattern::Name(name) => match kind {
                Some(k) => {
                    // `var` belongs to the function (here: the global scope at the prompt);
                    // `let`/`const` to the block. A name declared again at the prompt is
                    // replaced, so a lesson's cell can run twice.
                    let scope = if k == DeclKind::Var && Rc::ptr_eq(&self.scope, &self.global) {
                        self.global.clone()
                    } else {
                        self.scope.clone()
                    };
                    scope.borrow_mut().vars.insert(
                        name.clone(),
                        Binding {
                            value: v,
                            constant: k == DeclKind::Const,
                        },
                    );
                    Ok(())
                }
                None => self.set_var(name, v),
            },
            Pattern::Object(props) => {
                if matches!(v, Js::Undefined | Js::Val(Value::Null)) {
                    return Err(ShellError::type_error(format!(
                        "Cannot destructure '{}' as it is {}.",
                        self.describe(&v),
                        if matches!(v, Js::Undefined) {
                            "undefined"
                        } else {
                            "null"
                        }
                    )));
                }
                for (key, sub, default) in props {
                    let mut item = self.member(v.clone(), key)?;
                    if let (Js::Undefined, Some(d)) = (&item, default) {
                        item = self.eval(d)?;
                    }
                    self.bind_pattern(sub, item, kind)?;
                }
                Ok(())
            }
            Pattern::Array(items) => {
                let values = super::js::iterate(&v, &self.describe(&v))?;
                for (i, slot) in items.iter().enumerate() {
                    let Some((sub, default)) = slot else {
                        continue;
                    };
                    let mut item = values.get(i).cloned().unwrap_or(Js::Undefined);
                    if let (Js::Undefined, Some(d)) = (&item, default) {
                        item = self.eval(d)?;
                    }
                    self.bind_pattern(sub, item, kind)?;
                }
                Ok(())
            }
        }
    }

    fn find_scope(&self, name: &str) -> Option<ScopeRef> {
        let mut cur = Some(self.scope.clone());
        while let Some(s) = cur {
            if s.borrow().vars.contains_key(name) {
                return Some(s);
            }
            cur = s.borrow().parent.clone();
        }
        None
    }

    fn set_var(&mut self, name: &str, v: Js) -> Result<(), ShellError> {
        match self.find_scope(name) {
            Some(scope) => {
                let mut s = scope.borrow_mut();
                if let Some(b) = s.vars.get_mut(name) {
                    if b.constant {
                        return Err(ShellError::type_error("Assignment to constant variable."));
                    }
                    b.value = v;
                }
                Ok(())
            }
            None => {
                // Sloppy mode, as at mongosh's prompt: assigning an unknown name creates a
                // global.
                self.global.borrow_mut().vars.insert(
                    name.to_string(),
                    Binding {
                        value: v,
                        constant: false,
                    },
                );
                Ok(())
            }
        }
    }

    /// Calls a function value with arguments.
    pub(super) fn call_value(&mut self, f: &Js, args: Vec<Js>) -> Result<Js, ShellError> {
        // A callback runs once per element: its name is only wanted for an error.
        if let Js::Function(c) = f {
            self.tick()?;
            return self.call_closure(c, args);
        }
        let text = self.describe(f);
        self.call(f.clone(), args, &text, false)
    }

    fn call_closure(&mut self, f: &Closure, args: Vec<Js>) -> Result<Js, ShellError> {
        self.tick()?;
        self.enter()?;
        let scope = Rc::new(RefCell::new(Scope {
            vars: HashMap::new(),
            parent: Some(f.env.clone()),
        }));
        let outer = std::mem::replace(&mut self.scope, scope);
        let saved_last = std::mem::replace(&mut self.last, Js::Undefined);
        let r = self.run_closure(f, args);
        self.scope = outer;
        self.last = saved_last;
        self.leave();
        r
    }

    fn run_closure(&mut self, f: &Closure, args: Vec<Js>) -> Result<Js, ShellError> {
        let mut args = args.into_iter();
        for p in &f.def.params {
            let v = if p.rest {
                let rest: Result<Vec<Value>, ShellError> =
                    args.by_ref().map(|a| self.to_bson(a)).collect();
                Js::Val(Value::Array(rest?))
            } else {
                match (args.next(), &p.default) {
                    (None | Some(Js::Undefined), Some(d)) => self.eval(d)?,
                    (Some(v), _) => v,
                    (None, None) => Js::Undefined,
                }
            };
            self.bind_pattern(&p.pattern, v, Some(DeclKind::Let))?;
        }
        match &f.def.body {
            FnBody::Expr(e) => self.eval(e),
            FnBody::Block(stmts) => {
                let scope = self.scope.clone();
                self.hoist_into(&scope, stmts);
                for s in stmts {
                    match self.exec(s)? {
                        Flow::Return(v) => return Ok(v),
                        Flow::Normal => {}
                        Flow::Break | Flow::Continue => break,
                    }
                }
                Ok(Js::Undefined)
            }
        }
    }

    /// Dispatches on the expression kind; each compound kind has its own non-inlined
    /// function so that the frame repeated at every nesting level stays small (nesting is
    /// capped by the parser and by MAX_EVAL_DEPTH, but wasm's stack is only 1 MiB).
    fn eval(&mut self, e: &Expr) -> Result<Js, ShellError> {
        self.tick()?;
        match e {
            Expr::Num(n) => Ok(Js::Val(number_value(*n))),
            Expr::Str(s) => Ok(Js::Val(Value::String(s.clone()))),
            Expr::Bool(b) => Ok(Js::Val(Value::Bool(*b))),
            Expr::Null => Ok(Js::Val(Value::Null)),
            Expr::Undefined => Ok(Js::Undefined),
            Expr::Ident { name, .. } => self.lookup(name),
            _ => {
                self.enter()?;
                let r = self.eval_compound(e);
                self.leave();
                r
            }
        }
    }

    #[inline(never)]
    fn eval_compound(&mut self, e: &Expr) -> Result<Js, ShellError> {
        match e {
            Expr::Regex { pattern, flags } => Ok(Js::Val(Value::Regex {
                pattern: pattern.clone(),
                options: flags.clone(),
            })),
            Expr::Array(items) => self.eval_array(items),
            Expr::Object(fields) => self.eval_object(fields),
            Expr::Value(v) => Ok(Js::Val(v.clone())),
            Expr::Template { quasis, exprs } => self.eval_template(quasis, exprs),
            Expr::Member {
                object,
                name,
                optional,
                ..
            } => self.eval_member(e, object, name, *optional),
            Expr::Index {
                object,
                index,
                optional,
                ..
            } => self.eval_index(object, index, *optional),
            Expr::Call { callee, args } => self.eval_call(callee, args, false),
            Expr::New { callee, args } => self.eval_call(callee, args, true),
            Expr::Neg(inner) | Expr::Plus(inner) | Expr::Not(inner) => self.eval_unary(e, inner),
            Expr::Unary { op, arg } => self.eval_keyword_unary(op, arg),
            Expr::Binary { op, left, right } => self.eval_binary(op, left, right),
            Expr::Logical { op, left, right } => self.eval_logical(op, left, right),
            Expr::Cond {
                test,
                then,
                otherwise,
            } => self.eval_cond(test, then, otherwise),
            Expr::Assign { op, target, value } => self.eval_assign(op, target, value),
            Expr::Update { op, prefix, target } => self.eval_update(op, *prefix, target),
            Expr::Seq(items) => self.eval_seq(items),
            Expr::Function(def) => Ok(self.make_closure(def)),
            Expr::Spread(_) => Err(ShellError::new("SyntaxError", "Unexpected token '...'")),
            Expr::Num(_)
            | Expr::Str(_)
            | Expr::Bool(_)
            | Expr::Null
            | Expr::Undefined
            | Expr::Ident { .. } => self.eval(e),
        }
    }

    #[inline(never)]
    fn eval_template(&mut self, quasis: &[String], exprs: &[Expr]) -> Result<Js, ShellError> {
        let mut out = String::new();
        for (i, q) in quasis.iter().enumerate() {
            out.push_str(q);
            if let Some(e) = exprs.get(i) {
                let v = self.eval(e)?;
                out.push_str(&self.to_js_string(&v));
            }
        }
        Ok(Js::Val(Value::String(out)))
    }

    #[inline(never)]
    fn eval_binary(&mut self, op: &str, left: &Expr, right: &Expr) -> Result<Js, ShellError> {
        let l = self.eval(left)?;
        let r = self.eval(right)?;
        self.binary(op, l, r)
    }

    #[inline(never)]
    fn eval_logical(&mut self, op: &str, left: &Expr, right: &Expr) -> Result<Js, ShellError> {
        let l = self.eval(left)?;
        let short = match op {
            "&&" => !truthy(&l),
            "||" => truthy(&l),
            _ => !matches!(l, Js::Undefined | Js::Val(Value::Null)),
        };
        if short {
            Ok(l)
        } else {
            self.eval(right)
        }
    }

    #[inline(never)]
    fn eval_cond(&mut self, test: &Expr, then: &Expr, otherwise: &Expr) -> Result<Js, ShellError> {
        let t = self.eval(test)?;
        if truthy(&t) {
            self.eval(then)
        } else {
            self.eval(otherwise)
        }
    }

    #[inline(never)]
    fn eval_update(&mut self, op: &str, prefix: bool, target: &Expr) -> Result<Js, ShellError> {
        let old = self.eval(target)?;
        let n = self.to_js_number(&old);
        let new = if op == "++" { n + 1.0 } else { n - 1.0 };
        self.assign(target, Js::Val(number_value(new)))?;
        Ok(Js::Val(number_value(if prefix { new } else { n })))
    }

    #[inline(never)]
    fn eval_seq(&mut self, items: &[Expr]) -> Result<Js, ShellError> {
        let mut last = Js::Undefined;
        for i in items {
            last = self.eval(i)?;
        }
        Ok(last)
    }

    fn make_closure(&self, def: &Rc<FunctionDef>) -> Js {
        Js::Function(Rc::new(Closure {
            def: def.clone(),
            env: self.scope.clone(),
            name: def.name.clone(),
        }))
    }

    #[inline(never)]
    fn eval_keyword_unary(&mut self, op: &str, arg: &Expr) -> Result<Js, ShellError> {
        match op {
            "typeof" => {
                // typeof of an undeclared name is "undefined", not a ReferenceError.
                let v = match arg {
                    Expr::Ident { name, .. } => self.lookup(name).unwrap_or(Js::Undefined),
                    _ => self.eval(arg)?,
                };
                Ok(Js::Val(Value::String(super::js::type_of(&v).into())))
            }
            "void" => {
                self.eval(arg)?;
                Ok(Js::Undefined)
            }
            "delete" => {
                let path = self.place_path(arg)?;
                if let Some((root, keys)) = path {
                    if let Some((last, parents)) = keys.split_last() {
                        self.with_place(&root, parents, |slot| {
                            match slot {
                                Js::Val(Value::Document(d)) => {
                                    d.shift_remove(last.as_str());
                                }
                                Js::Val(Value::Array(a)) => {
                                    if let Some(x) =
                                        last.parse::<usize>().ok().and_then(|i| a.get_mut(i))
                                    {
                                        *x = Value::Undefined;
                                    }
                                }
                                _ => {}
                            }
                            Ok(())
                        })?;
                    }
                }
                Ok(Js::Val(Value::Bool(true)))
            }
            _ => {
                // `~`
                let v = self.eval(arg)?;
                let n = super::js::to_int32(self.to_js_number(&v));
                Ok(Js::Val(number_value(f64::from(!n))))
            }
        }
    }

    #[inline(never)]
    fn eval_array(&mut self, items: &[Expr]) -> Result<Js, ShellError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Expr::Spread(inner) = item {
                let v = self.eval(inner)?;
                for x in super::js::iterate(&v, callee_text(inner))? {
                    out.push(self.to_bson(x)?);
                }
                continue;
            }
            let v = self.eval(item)?;
            out.push(self.to_bson(v)?);
        }
        let v = Value::Array(out);
        check_depth(&v)?;
        Ok(Js::Val(v))
    }

    #[inline(never)]
    fn eval_object(&mut self, fields: &[Prop]) -> Result<Js, ShellError> {
        let mut doc = Document::with_capacity_and_hasher(fields.len(), Default::default());
        for prop in fields {
            match prop {
                Prop::Field(k, item) => {
                    let v = self.eval(item)?;
                    doc.insert(k.clone(), self.to_bson(v)?);
                }
                Prop::Computed(k, item) => {
                    let k = self.eval(k)?;
                    let k = self.to_js_string(&k);
                    let v = self.eval(item)?;
                    doc.insert(k, self.to_bson(v)?);
                }
                Prop::Spread(e) => match self.eval(e)? {
                    Js::Val(Value::Document(d)) => {
                        for (k, v) in d {
                            doc.insert(k, v);
                        }
                    }
                    Js::Val(Value::Array(a)) => {
                        for (i, v) in a.into_iter().enumerate() {
                            doc.insert(i.to_string(), v);
                        }
                    }
                    _ => {}
                },
            }
        }
        let v = Value::Document(doc);
        check_depth(&v)?;
        Ok(Js::Val(v))
    }

    #[inline(never)]
    fn eval_member(
        &mut self,
        whole: &Expr,
        object: &Expr,
        name: &str,
        optional: bool,
    ) -> Result<Js, ShellError> {
        // Reading through a variable borrows it instead of copying the whole value, so
        // `arr[i].x` in a loop costs the element, not the array.
        if let Some(v) = self.read_by_reference(whole)? {
            return Ok(v);
        }
        let target = self.eval(object)?;
        if optional && matches!(target, Js::Undefined | Js::Val(Value::Null)) {
            return Ok(Js::Undefined);
        }
        self.member(target, name)
    }

    #[inline(never)]
    fn eval_index(
        &mut self,
        object: &Expr,
        index: &Expr,
        optional: bool,
    ) -> Result<Js, ShellError> {
        let target = self.eval(object)?;
        if optional && matches!(target, Js::Undefined | Js::Val(Value::Null)) {
            return Ok(Js::Undefined);
        }
        let key = self.eval(index)?;
        let key = self.property_key(key)?;
        self.member(target, &key)
    }

    fn property_key(&self, key: Js) -> Result<String, ShellError> {
        Ok(match key {
            Js::Val(Value::String(s)) => s,
            Js::Val(v @ (Value::Int32(_) | Value::Double(_) | Value::Int64(_))) => {
                crate::mongo::value::js_number(js_to_number(&v))
            }
            other => self.to_js_string(&other),
        })
    }

    /// A member chain rooted at a variable holding data, read without copying the root.
    fn read_by_reference(&mut self, e: &Expr) -> Result<Option<Js>, ShellError> {
        // Most chains (`db.c.find`, a cursor's method) are not rooted at data: find out
        // before gathering their keys.
        if !self.rooted_at_data(e) {
            return Ok(None);
        }
        let mut keys = Vec::new();
        let mut cur = e;
        loop {
            match cur {
                Expr::Member {
                    object,
                    name,
                    optional: false,
                    ..
                } => {
                    keys.push(name.clone());
                    cur = object;
                }
                Expr::Index {
                    object,
                    index,
                    optional: false,
                    ..
                } => match index.as_ref() {
                    Expr::Num(n) => {
                        keys.push(crate::mongo::value::js_number(*n));
                        cur = object;
                    }
                    Expr::Str(s) => {
                        keys.push(s.clone());
                        cur = object;
                    }
                    Expr::Ident { name, .. } => {
                        let k = self.lookup(name)?;
                        keys.push(self.property_key(k)?);
                        cur = object;
                    }
                    _ => return Ok(None),
                },
                Expr::Ident { name, .. } => {
                    let Some(scope) = self.find_scope(name) else {
                        return Ok(None);
                    };
                    let s = scope.borrow();
                    let Some(Binding {
                        value: Js::Val(root),
                        ..
                    }) = s.vars.get(name)
                    else {
                        return Ok(None);
                    };
                    let mut v = root;
                    // Keys were gathered from the outside in.
                    let path: Vec<&String> = keys.iter().rev().collect();
                    for (idx, k) in path.iter().enumerate() {
                        let last = idx + 1 == path.len();
                        let next = match v {
                            Value::Document(d) => d.get(k.as_str()),
                            Value::Array(a) if k.as_str() == "length" && last => {
                                return Ok(Some(Js::Val(number_value(a.len() as f64))));
                            }
                            Value::String(t) if k.as_str() == "length" && last => {
                                let n = t.encode_utf16().count();
                                return Ok(Some(Js::Val(number_value(n as f64))));
                            }
                            Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
                            _ => None,
                        };
                        match next {
                            Some(n) => v = n,
                            None => {
                                // Let the general path decide (methods, length, errors).
                                let base = Js::Val(v.clone());
                                let remaining: Vec<String> =
                                    path.iter().skip(idx).map(|k| (*k).clone()).collect();
                                drop(s);
                                let mut out = base;
                                for k in remaining {
                                    out = self.member(out, &k)?;
                                }
                                return Ok(Some(out));
                            }
                        }
                    }
                    return Ok(Some(Js::Val(v.clone())));
                }
                _ => return Ok(None),
            }
        }
    }

    /// Whether a member chain that `read_by_reference` could read starts at a variable
    /// bound to data.
    fn rooted_at_data(&self, e: &Expr) -> bool {
        let mut cur = e;
        loop {
            match cur {
                Expr::Member {
                    object,
                    optional: false,
                    ..
                } => cur = object,
                Expr::Index {
                    object,
                    index,
                    optional: false,
                    ..
                } if matches!(
                    index.as_ref(),
                    Expr::Num(_) | Expr::Str(_) | Expr::Ident { .. }
                ) =>
                {
                    cur = object
                }
                Expr::Ident { name, .. } => {
                    return self.find_scope(name).is_some_and(|scope| {
                        matches!(
                            scope.borrow().vars.get(name),
                            Some(Binding {
                                value: Js::Val(_),
                                ..
                            })
                        )
                    })
                }
                _ => return false,
            }
        }
    }

    #[inline(never)]
    fn eval_assign(&mut self, op: &str, target: &Expr, value: &Expr) -> Result<Js, ShellError> {
        let v = match op {
            "=" => {
                let v = self.eval(value)?;
                named(assigned_name(target), v)
            }
            "&&=" | "||=" | "??=" => {
                let cur = self.eval(target)?;
                let keep = match op {
                    "&&=" => !truthy(&cur),
                    "||=" => truthy(&cur),
                    _ => !matches!(cur, Js::Undefined | Js::Val(Value::Null)),
                };
                if keep {
                    return Ok(cur);
                }
                self.eval(value)?
            }
            _ => {
                let cur = self.eval(target)?;
                let rhs = self.eval(value)?;
                let bin = op.strip_suffix('=').unwrap_or(op);
                self.binary(bin, cur, rhs)?
            }
        };
        self.assign(target, v.clone())?;
        Ok(v)
    }

    /// `root.k1[k2]…` with its keys evaluated, when the expression is such a place.
    fn place_path(&mut self, e: &Expr) -> Result<Option<(String, Vec<String>)>, ShellError> {
        match e {
            Expr::Ident { name, .. } => Ok(Some((name.clone(), Vec::new()))),
            Expr::Member { object, name, .. } => Ok(self.place_path(object)?.map(|(r, mut k)| {
                k.push(name.clone());
                (r, k)
            })),
            Expr::Index { object, index, .. } => {
                let path = self.place_path(object)?;
                let key = self.eval(index)?;
                let key = self.property_key(key)?;
                Ok(path.map(|(r, mut k)| {
                    k.push(key);
                    (r, k)
                }))
            }
            _ => Ok(None),
        }
    }

    /// Runs `f` on the value at `root.keys…`, in place.
    fn with_place<R>(
        &mut self,
        root: &str,
        keys: &[String],
        f: impl FnOnce(&mut Js) -> Result<R, ShellError>,
    ) -> Result<R, ShellError> {
        let Some(scope) = self.find_scope(root) else {
            return Err(ShellError::new(
                "ReferenceError",
                format!("{root} is not defined"),
            ));
        };
        let mut s = scope.borrow_mut();
        let Some(binding) = s.vars.get_mut(root) else {
            return Err(ShellError::new(
                "ReferenceError",
                format!("{root} is not defined"),
            ));
        };
        if keys.is_empty() {
            return f(&mut binding.value);
        }
        let mut v: &mut Value = match &mut binding.value {
            Js::Val(v) => v,
            Js::Undefined => {
                return Err(cannot_read(
                    "undefined",
                    keys.first().map_or("", String::as_str),
                ))
            }
            _ => {
                return Err(ShellError::type_error(
                    "this sandbox cannot change properties of shell objects",
                ))
            }
        };
        for (i, k) in keys.iter().enumerate() {
            let next = match v {
                Value::Document(d) => d.get_mut(k.as_str()),
                Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                Value::Null => return Err(cannot_read("null", k)),
                Value::Undefined => return Err(cannot_read("undefined", k)),
                _ => None,
            };
            v = match next {
                Some(n) => n,
                None => {
                    let after = keys.get(i + 1).unwrap_or(k);
                    return Err(cannot_read("undefined", after));
                }
            };
        }
        let mut tmp = Js::Val(std::mem::replace(v, Value::Null));
        let r = f(&mut tmp);
        *v = match tmp {
            Js::Val(x) => x,
            _ => Value::Null,
        };
        r
    }

    fn assign(&mut self, target: &Expr, v: Js) -> Result<(), ShellError> {
        match target {
            Expr::Ident { name, .. } => self.set_var(name, v),
            Expr::Member { object, name, .. } => {
                let path = self.place_path(object)?;
                self.assign_property(path, object, name.clone(), v)
            }
            Expr::Index { object, index, .. } => {
                let path = self.place_path(object)?;
                let key = self.eval(index)?;
                let key = self.property_key(key)?;
                self.assign_property(path, object, key, v)
            }
            _ => Err(ShellError::new(
                "SyntaxError",
                "Invalid left-hand side in assignment",
            )),
        }
    }

    fn assign_property(
        &mut self,
        path: Option<(String, Vec<String>)>,
        object: &Expr,
        key: String,
        v: Js,
    ) -> Result<(), ShellError> {
        let value = match v {
            Js::Undefined => Value::Undefined,
            other => self.to_bson(other)?,
        };
        check_depth(&value)?;
        let Some((root, keys)) = path else {
            // A temporary (`f().x = 1`): JavaScript assigns and forgets; so do we.
            let _ = self.eval(object)?;
            return Ok(());
        };
        self.with_place(&root, &keys, |slot| match slot {
            Js::Val(Value::Document(d)) => {
                d.insert(key, value);
                Ok(())
            }
            Js::Val(Value::Array(a)) => {
                if let Ok(i) = key.parse::<usize>() {
                    if i >= a.len() {
                        if i > a.len() + 1_000_000 {
                            return Err(ShellError::new("RangeError", "Invalid array length"));
                        }
                        a.resize(i + 1, Value::Undefined);
                    }
                    if let Some(x) = a.get_mut(i) {
                        *x = value;
                    }
                }
                Ok(())
            }
            Js::Undefined => Err(ShellError::type_error(format!(
                "Cannot set properties of undefined (setting '{key}')"
            ))),
            Js::Val(Value::Null) => Err(ShellError::type_error(format!(
                "Cannot set properties of null (setting '{key}')"
            ))),
            _ => Ok(()),
        })
    }

    #[inline(never)]
    fn eval_call(&mut self, callee: &Expr, args: &[Expr], is_new: bool) -> Result<Js, ShellError> {
        // Array methods that change the array write it back to the variable it came from.
        if let Expr::Member { object, name, .. } = callee {
            if !is_new && super::js::is_array_mutator(name) {
                if let Some((root, keys)) = self.place_path(object)? {
                    let argv = self.eval_args(args)?;
                    return self.call_mutator(&root, &keys, name, argv, callee);
                }
            }
        }
        let f = self.eval(callee)?;
        let argv = self.eval_args(args)?;
        if is_new
            && !matches!(
                f,
                Js::Builtin(_) | Js::Native("Array" | "Error" | "Object" | "Promise") | Js::Host(_)
            )
        {
            return Err(ShellError::type_error(format!(
                "{} is not a constructor",
                callee_text(callee)
            )));
        }
        self.call(f, argv, callee_text(callee), is_new)
    }

    fn eval_args(&mut self, args: &[Expr]) -> Result<Vec<Js>, ShellError> {
        let mut argv = Vec::with_capacity(args.len());
        for a in args {
            if let Expr::Spread(inner) = a {
                let v = self.eval(inner)?;
                argv.extend(super::js::iterate(&v, callee_text(inner))?);
            } else {
                argv.push(self.eval(a)?);
            }
        }
        Ok(argv)
    }

    fn call_mutator(
        &mut self,
        root: &str,
        keys: &[String],
        name: &str,
        argv: Vec<Js>,
        callee: &Expr,
    ) -> Result<Js, ShellError> {
        if name == "push" {
            let mut values = Vec::with_capacity(argv.len());
            for a in &argv {
                let v = match a {
                    Js::Undefined => Value::Undefined,
                    other => self.to_bson(other.clone())?,
                };
                check_depth(&v)?;
                values.push(v);
            }
            let pushed = self.with_place(root, keys, |slot| match slot {
                Js::Val(Value::Array(items)) => {
                    items.extend(values);
                    Ok(Some(items.len()))
                }
                _ => Ok(None),
            })?;
            if let Some(n) = pushed {
                return Ok(Js::Val(number_value(n as f64)));
            }
        }
        let current = self.with_place(root, keys, |slot| Ok(slot.clone()))?;
        match current {
            Js::Val(Value::Array(items)) => {
                let (items, ret) = super::js::array_mutate(self, items, name, argv)?;
                self.with_place(root, keys, |slot| {
                    *slot = Js::Val(Value::Array(items));
                    Ok(())
                })?;
                Ok(ret)
            }
            other => {
                let f = self.member(other, name)?;
                self.call(f, argv, callee_text(callee), false)
            }
        }
    }

    #[inline(never)]
    fn eval_unary(&mut self, e: &Expr, inner: &Expr) -> Result<Js, ShellError> {
        let v = self.eval(inner)?;
        Ok(match (e, v) {
            (Expr::Not(_), v) => Js::Val(Value::Bool(!truthy(&v))),
            (Expr::Neg(_), Js::Val(Value::Int32(0))) => Js::Val(Value::Double(-0.0)),
            (Expr::Neg(_), v) => Js::Val(number_value(-self.to_js_number(&v))),
            (_, v) => Js::Val(number_value(self.to_js_number(&v))),
        })
    }

    pub(super) fn to_js_number(&self, v: &Js) -> f64 {
        match v {
            Js::Val(v) => js_to_number(v),
            _ => f64::NAN,
        }
    }

    pub(super) fn to_js_string(&self, v: &Js) -> String {
        match v {
            Js::Val(v) => super::js::value_to_string(v),
            Js::Undefined => "undefined".into(),
            other => self.describe(other),
        }
    }

    fn binary(&mut self, op: &str, l: Js, r: Js) -> Result<Js, ShellError> {
        super::js::binary(self, op, l, r)
    }

    fn lookup(&self, name: &str) -> Result<Js, ShellError> {
        let mut cur = Some(self.scope.clone());
        while let Some(s) = cur {
            if let Some(b) = s.borrow().vars.get(name) {
                return Ok(b.value.clone());
            }
            cur = s.borrow().parent.clone();
        }
        if let Some(v) = self.host_global(name) {
            return v;
        }
        if name == "db" {
            return Ok(Js::Db);
        }
        if let Some((_, b)) = BUILTINS.iter().find(|(n, _)| *n == name) {
            return Ok(Js::Builtin(*b));
        }
        if let Some(n) = super::js::global(name) {
            return Ok(n);
        }
        Err(ShellError::new(
            "ReferenceError",
            format!("{name} is not defined"),
        ))
    }

    pub(super) fn member(&self, target: Js, name: &str) -> Result<Js, ShellError> {
        if let Some(v) = self.host_member(&target, name) {
            return Ok(v);
        }
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
            Js::Mongo | Js::ClientSession(_) => {
                let methods = if matches!(target, Js::Mongo) {
                    super::sessions::MONGO_METHODS
                } else {
                    super::sessions::SESSION_METHODS
                };
                if methods.contains(&name) {
                    Js::Method {
                        target: Box::new(target),
                        name: name.into(),
                    }
                } else if let (Js::ClientSession(id), "id") = (&target, name) {
                    match self.session_value(*id) {
                        Value::Document(d) => Js::Val(d.get("id").cloned().unwrap_or(Value::Null)),
                        _ => Js::Undefined,
                    }
                } else {
                    Js::Undefined
                }
            }
            Js::Database(d) => Self::database_member(&d, name),
            Js::PlanCache(p) if super::plan_cache::PLAN_CACHE_METHODS.contains(&name) => {
                Js::Method {
                    target: Box::new(Js::PlanCache(p)),
                    name: name.into(),
                }
            }
            Js::SessionColl(c) => {
                if COLLECTION_METHODS.contains(&name) {
                    Js::Method {
                        target: Box::new(Js::SessionColl(c)),
                        name: name.into(),
                    }
                } else {
                    let mut sub = *c;
                    sub.name = format!("{}.{name}", sub.name);
                    Js::SessionColl(Box::new(sub))
                }
            }
            Js::Explainable(_) if name == "find" => Js::Method {
                target: Box::new(target),
                name: name.into(),
            },
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
                let live = Js::Live(Rc::new(RefCell::new(LiveCursor {
                    spec: *spec,
                    buffer: None,
                    maps: Vec::new(),
                })));
                return self.member(live, name);
            }
            Js::Live(c) => {
                if CURSOR_METHODS.contains(&name) {
                    Js::Method {
                        target: Box::new(Js::Live(c)),
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
                return Err(cannot_read(what, name));
            }
            Js::Val(Value::Undefined) => return Err(cannot_read("undefined", name)),
            Js::Native(ns) => super::js::native_member(ns, name),
            Js::Builtin(Builtin::Date) if name == "now" => Js::Native("Date.now"),
            Js::Builtin(Builtin::Decimal128) => super::js::native_member("Decimal128", name),
            Js::Builtin(Builtin::Binary) => super::js::native_member("Binary", name),
            Js::Function(f) if name == "name" => {
                Js::Val(Value::String(f.name.clone().unwrap_or_default()))
            }
            Js::Val(v) => super::js::value_member(v, name),
            _ => Js::Undefined,
        })
    }

    pub(super) fn to_bson(&self, v: Js) -> Result<Value, ShellError> {
        match v {
            Js::Val(v) => Ok(v),
            // The driver stores `undefined` as null unless told to ignore it.
            Js::Undefined => Ok(Value::Null),
            Js::Db => Ok(Value::String(self.db.clone())),
            Js::Live(c) => {
                // A cursor inside an array or document: its remaining documents, as an
                // inspected cursor would show them.
                let c = c.borrow();
                let docs = match &c.buffer {
                    Some(b) => b
                        .remaining(&self.store)?
                        .into_iter()
                        .map(Value::Document)
                        .collect(),
                    None => self
                        .run_cursor(&c.spec)?
                        .into_iter()
                        .map(Value::Document)
                        .collect(),
                };
                Ok(Value::Array(docs))
            }
            Js::Cursor(spec) => Ok(Value::Array(
                self.run_cursor(&spec)?
                    .into_iter()
                    .map(Value::Document)
                    .collect(),
            )),
            // A driver's `{ session }` option.
            Js::ClientSession(id) if self.host.is_some() => Ok(Session::session_mark(id)),
            _ => Err(ShellError::type_error(
                "this sandbox cannot store functions or shell objects in an array or document",
            )),
        }
    }

    fn call(&mut self, f: Js, args: Vec<Js>, text: &str, is_new: bool) -> Result<Js, ShellError> {
        self.tick()?;
        if self.is_host_callable(&f) {
            return self.host_call(&f, args, is_new);
        }
        match f {
            Js::Builtin(b) => self.call_builtin(b, args, is_new),
            Js::Function(c) => self.call_closure(&c, args),
            Js::Native(name) => super::js::call_native(self, name, args, is_new),
            Js::Method { target, name } => match *target {
                Js::Db if name == "aggregate" && !self.in_transaction() => {
                    self.outside_db_aggregate(args)
                }
                Js::Db => self.db_method(&name, args),
                Js::Mongo => self.mongo_method(&name, args),
                Js::ClientSession(id) => self.session_method(id, &name, args),
                Js::Database(d) => self.database_call(&d, &name, args),
                Js::PlanCache(p) => self.plan_cache_method(&p, &name, args),
                Js::Collection { .. } | Js::SessionColl(_) => {
                    let r = match *target {
                        Js::SessionColl(c) => self.session_collection_call(&c, &name, args)?,
                        Js::Collection { db, name: coll } if self.host.is_some() => {
                            self.host_collection_call(&db, &coll, &name, args)?
                        }
                        Js::Collection { db, name: coll } => {
                            self.outside_collection_call(&db, &coll, &name, args)?
                        }
                        _ => Js::Undefined,
                    };
                    Ok(match r {
                        Js::Cursor(spec) => Js::Live(Rc::new(RefCell::new(LiveCursor {
                            spec: *spec,
                            buffer: None,
                            maps: Vec::new(),
                        }))),
                        other => other,
                    })
                }
                Js::Live(c) => {
                    let session = c.borrow().spec.session;
                    match session {
                        Some(id) if matches!(name.as_str(), "count" | "size" | "explain") => {
                            self.session_cursor_method(id, &c, &name, args)
                        }
                        _ => self.cursor_method(&c, &name, args),
                    }
                }
                Js::Explainable(e) => match self.collection_method(&e.db, &e.coll, &name, args)? {
                    Js::Cursor(mut spec) => {
                        spec.explain = Some(e.verbosity);
                        Ok(Js::Live(Rc::new(RefCell::new(LiveCursor {
                            spec: *spec,
                            buffer: None,
                            maps: Vec::new(),
                        }))))
                    }
                    other => Ok(other),
                },
                Js::Val(v) => super::js::value_method(self, v, &name, args),
                _ => Err(ShellError::type_error(format!("{text} is not a function"))),
            },
            _ => Err(ShellError::type_error(format!("{text} is not a function"))),
        }
    }

    /// Writes a line of print / printjson / console.log output.
    pub(super) fn print_line(&mut self, line: String) {
        self.printed.push(line);
    }

    /// The next number of the session's Math.random: xorshift64*, seeded the same in every
    /// session so that lessons' generated data is reproducible.
    pub(super) fn random(&mut self) -> f64 {
        (self.random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn random_u64(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn steps_used(&self) -> u64 {
        self.steps
    }

    /// Counts work that is not a step of its own (allocating a long array) against the budget.
    pub(super) fn charge(&mut self, steps: u64) -> Result<(), ShellError> {
        self.steps = self.steps.saturating_add(steps).min(self.step_limit);
        self.tick()
    }

    pub(super) fn now(&self) -> u64 {
        self.now_ms
    }

    fn call_builtin(&mut self, b: Builtin, args: Vec<Js>, is_new: bool) -> Result<Js, ShellError> {
        let mut args = args.into_iter();
        let first = args.next();
        let args_rest: Vec<Js> = args.collect();
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
                if !args_rest.is_empty() {
                    // new Date(year, month, day, …): the sandbox's time zone is UTC.
                    let mut parts = vec![first.as_ref().map_or(f64::NAN, |v| self.to_js_number(v))];
                    parts.extend(args_rest.iter().map(|v| self.to_js_number(v)));
                    let get = |i: usize, d: f64| parts.get(i).copied().unwrap_or(d);
                    let (y, mo) = (get(0, f64::NAN), get(1, 0.0));
                    if parts.iter().any(|x| !x.is_finite()) {
                        return Err(ShellError::new("RangeError", "Invalid time value"));
                    }
                    let y = y + (mo / 12.0).floor();
                    let mo = mo.rem_euclid(12.0);
                    let days = crate::mongo::value::days_from_civil(y as i64, mo as u32 + 1, 1)
                        as f64
                        + get(2, 1.0)
                        - 1.0;
                    let ms = days * 86_400_000.0
                        + get(3, 0.0) * 3_600_000.0
                        + get(4, 0.0) * 60_000.0
                        + get(5, 0.0) * 1000.0
                        + get(6, 0.0);
                    if ms.abs() > 8.64e15 {
                        return Err(ShellError::new("RangeError", "Invalid time value"));
                    }
                    return Ok(Js::Val(Value::Date(ms as i64)));
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
            Builtin::Decimal128 => super::bson::decimal(first.as_ref())?,
            Builtin::Timestamp => {
                let all: Vec<Js> = first.into_iter().chain(args_rest).collect();
                super::bson::timestamp(&all)?
            }
            Builtin::Double => Value::Double(match first {
                Some(Js::Val(v)) => js_to_number(&v),
                _ => 0.0,
            }),
            Builtin::MinKey => Value::MinKey,
            Builtin::MaxKey => Value::MaxKey,
            Builtin::Uuid => super::bson::uuid(first.as_ref(), || {
                let (a, b) = (self.random_u64(), self.random_u64());
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&a.to_be_bytes());
                bytes[8..].copy_from_slice(&b.to_be_bytes());
                bytes
            })?,
            Builtin::BinData => super::bson::binary_from_base64(args_rest.first(), first.as_ref())?,
            Builtin::HexData => super::bson::binary_from_hex(args_rest.first(), first.as_ref())?,
            Builtin::Binary => {
                return Err(ShellError::type_error(
                    "this sandbox builds Binary values with Binary.createFromBase64(), BinData() or UUID()",
                ))
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

    pub(super) fn cursor_method(
        &mut self,
        cursor: &Rc<RefCell<LiveCursor>>,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        let started = cursor.borrow().buffer.is_some();
        if !started
            && matches!(
                name,
                "toArray" | "next" | "hasNext" | "tryNext" | "forEach" | "itcount"
            )
        {
            self.host_cursor_read();
        }
        let mut args = args.into_iter();
        let first = args.next();
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
        // The driver refuses to change a query once documents have been fetched.
        if started && matches!(name, "limit" | "skip" | "sort" | "batchSize" | "hint") {
            return Err(ShellError::new(
                "MongoCursorInUseError",
                "Cursor is already initialized",
            ));
        }
        let same = Js::Live(cursor.clone());
        match name {
            "limit" => {
                let n = count_arg(first, "limit")?;
                cursor.borrow_mut().spec.limit = Some(n);
                Ok(same)
            }
            "skip" => {
                let n = count_arg(first, "skip")?;
                cursor.borrow_mut().spec.skip = n;
                Ok(same)
            }
            "sort" => match first {
                Some(Js::Val(Value::Document(d))) => {
                    // Text-score keys are checked when the query runs (they need `$text`).
                    sort_keys(&crate::mongo::index::text::split_projection(&d).0)?;
                    let mut c = cursor.borrow_mut();
                    if d.len() == 1 && d.contains_key("$natural") {
                        // Natural order is the order of a collection scan, forwards or
                        // backwards (the newest first in a capped collection).
                        c.spec.hint = Some(Value::Document(d));
                        c.spec.sort = None;
                    } else {
                        c.spec.sort = Some(d);
                    }
                    Ok(same)
                }
                _ => Err(ShellError::invalid_input("sort requires a document")),
            },
            "batchSize" => {
                count_arg(first, "batchSize")?;
                Ok(same)
            }
            "hint" => match first {
                Some(Js::Val(v @ (Value::String(_) | Value::Document(_)))) => {
                    cursor.borrow_mut().spec.hint = Some(v);
                    Ok(same)
                }
                _ => Err(ShellError::invalid_input(
                    "hint requires an index name or a key pattern",
                )),
            },
            "explain" => {
                let spec = cursor.borrow().spec.clone();
                let verbosity = match &first {
                    Some(Js::Val(v)) => Some(v),
                    _ => None,
                };
                let explained = self.explain_find(&spec, verbosity)?;
                self.explained = Some(spec);
                Ok(Js::Val(Value::Document(explained)))
            }
            // An explainable cursor's explain document (`db.c.explain().find(…).finish()`).
            "finish" => {
                let spec = cursor.borrow().spec.clone();
                let Some(verbosity) = spec.explain.clone() else {
                    return Err(ShellError::type_error("cursor.finish is not a function"));
                };
                let explained = self.explain_find(&spec, Some(&verbosity))?;
                self.explained = Some(spec);
                Ok(Js::Val(Value::Document(explained)))
            }
            "pretty" => Ok(same),
            "map" => {
                let Some(f) = first.filter(super::js::is_callable) else {
                    return Err(ShellError::type_error("cursor.map requires a function"));
                };
                cursor.borrow_mut().maps.push(f);
                Ok(same)
            }
            "hasNext" => {
                self.start_cursor(cursor)?;
                let has = match cursor.borrow_mut().buffer.as_mut() {
                    Some(rows) => rows.has_next(&self.store)?,
                    None => false,
                };
                Ok(Js::Val(Value::Bool(has)))
            }
            "next" => Ok(self.cursor_next(cursor)?.unwrap_or(Js::Val(Value::Null))),
            "tryNext" => Ok(self.cursor_next(cursor)?.unwrap_or(Js::Val(Value::Null))),
            "forEach" => {
                let Some(f) = first.filter(super::js::is_callable) else {
                    return Err(ShellError::type_error("cursor.forEach requires a function"));
                };
                while let Some(doc) = self.cursor_next(cursor)? {
                    // Returning false stops the iteration, as in the driver.
                    if let Js::Val(Value::Bool(false)) = self.call_value(&f, vec![doc])? {
                        break;
                    }
                }
                Ok(Js::Undefined)
            }
            "toArray" => {
                let mut out = Vec::new();
                while let Some(doc) = self.cursor_next(cursor)? {
                    out.push(self.to_bson(doc)?);
                }
                Ok(Js::Val(Value::Array(out)))
            }
            "itcount" => {
                let mut n = 0usize;
                if cursor.borrow().maps.is_empty() {
                    // Nothing runs per document: count without copying.
                    self.start_cursor(cursor)?;
                    if let Some(rows) = cursor.borrow_mut().buffer.as_mut() {
                        n = rows.count_rest(&self.store)?;
                    }
                } else {
                    while self.cursor_next(cursor)?.is_some() {
                        n += 1;
                    }
                }
                Ok(Js::Val(number_value(n as f64)))
            }
            "count" | "size" => {
                let mut spec = cursor.borrow().spec.clone();
                if name == "count" {
                    // count() ignores skip and limit unless asked (applySkipLimit).
                    if !first.as_ref().is_some_and(truthy) {
                        spec.skip = 0;
                        spec.limit = None;
                    }
                }
                let n = self.matching(&spec)?.len();
                Ok(Js::Val(number_value(n as f64)))
            }
            "isExhausted" => {
                let exhausted = cursor.borrow().buffer.as_ref().is_some_and(Rows::is_empty);
                Ok(Js::Val(Value::Bool(exhausted)))
            }
            "close" => {
                cursor.borrow_mut().buffer = Some(Rows::default());
                Ok(Js::Undefined)
            }
            "objsLeftInBatch" => {
                self.start_cursor(cursor)?;
                let n = cursor.borrow().buffer.as_ref().map_or(0, Rows::buffered);
                Ok(Js::Val(number_value(n as f64)))
            }
            _ => Err(ShellError::type_error(format!(
                "cursor.{name} is not a function"
            ))),
        }
    }
}

fn no_cursor() -> Output {
    Output::Shown {
        text: "no cursor".into(),
        json: Value::String("no cursor".into()),
    }
}

pub(super) fn cannot_read(what: &str, name: &str) -> ShellError {
    ShellError::type_error(format!(
        "Cannot read properties of {what} (reading '{name}')"
    ))
}

/// Values nest at most as deep as the parser lets literals nest, so that building them in a loop
/// (`a = [a]`) cannot make printing or dropping them overflow the stack.
pub(super) const MAX_VALUE_DEPTH: usize = 120;

pub(super) fn check_depth(v: &Value) -> Result<(), ShellError> {
    fn deeper_than(v: &Value, limit: usize) -> bool {
        match v {
            Value::Array(items) => limit == 0 || items.iter().any(|x| deeper_than(x, limit - 1)),
            Value::Document(d) => limit == 0 || d.values().any(|x| deeper_than(x, limit - 1)),
            _ => false,
        }
    }
    if deeper_than(v, MAX_VALUE_DEPTH) {
        return Err(ShellError::new(
            "RangeError",
            "Maximum call stack size exceeded",
        ));
    }
    Ok(())
}

/// The error a `throw` statement raises: an Error-like object keeps its name and message.
pub(super) fn thrown(v: Js) -> ShellError {
    match &v {
        Js::Val(Value::Document(d)) if d.contains_key("message") => {
            let name = match d.get("name") {
                Some(Value::String(n)) => n.clone(),
                _ => "Error".into(),
            };
            let message = match d.get("message") {
                Some(Value::String(m)) => m.clone(),
                _ => String::new(),
            };
            ShellError::new(&name, message)
        }
        Js::Val(Value::String(s)) => {
            let mut e = ShellError::new("Uncaught", s.clone());
            e.name = String::new();
            e
        }
        Js::Val(v) => {
            let mut e = ShellError::new(
                "",
                crate::mongo::format::inspect(v, crate::mongo::format::Options::VALUE),
            );
            e.name = String::new();
            e
        }
        _ => ShellError::new("Error", "undefined"),
    }
}

/// The step budget is not an exception a script can catch.
fn is_budget_error(e: &ShellError) -> bool {
    e.name == "Error" && e.message.starts_with("sandbox step limit reached")
}

/// What `catch (e)` binds: an object with the error's name, message and code.
fn error_value(e: &ShellError) -> Js {
    let mut d = Document::default();
    d.insert("name".into(), Value::String(e.name.clone()));
    d.insert("message".into(), Value::String(e.message.clone()));
    if let Some(code) = e.code {
        d.insert("code".into(), Value::Int32(code));
    }
    if let Some(code_name) = e.code_name {
        d.insert("codeName".into(), Value::String(code_name.into()));
    }
    if !e.labels.is_empty() {
        let labels = e
            .labels
            .iter()
            .map(|l| Value::String((*l).into()))
            .collect();
        d.insert("errorLabels".into(), Value::Array(labels));
    }
    Js::Val(Value::Document(d))
}

/// A write from outside a transaction to a document an open transaction has written: the
/// server would retry it until the transaction ends; the sandbox cannot wait and reports
/// the conflict as the command's error.
pub(super) fn outside_conflict(mut e: ShellError) -> ShellError {
    if e.code == Some(112) {
        e.name = "MongoServerError".into();
        e.code_name = Some("WriteConflict");
    }
    e
}

fn bad_object_id() -> ShellError {
    ShellError::new(
        "BSONError",
        "input must be a 24 character hex string, 12 byte Uint8Array, or an integer",
    )
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
