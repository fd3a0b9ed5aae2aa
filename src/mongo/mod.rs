//! The MongoDB engine: BSON-like values, the mongosh-syntax shell, the query language, a
//! store of databases and collections, and the mongosh / Extended JSON formatters.
//!
//! - `value`: `Value`, `Document`, BSON comparison order, relaxed Extended JSON v2.
//! - `decimal`: Decimal128 (34-digit decimal floating point) parsing, printing, arithmetic
//!   and exact comparison with the other number types.
//! - `shell`: lexer, parser and evaluator for what students type: mongosh's shell commands
//!   and the JavaScript subset lessons use (bindings, operators, control flow, functions,
//!   closures, array/string/Math/JSON/Date library, cursors as objects).
//! - `query`: filters compiled once into predicates (one function per operator).
//! - `store`: databases by name → collections by name → documents in insertion order, each
//!   with a record id the indexes point at, and each collection's options (validator,
//!   validation level and action, capped limits).
//! - `index`: secondary indexes (ordered key trees kept in step with every write), the query
//!   planner that chooses among them, explain documents, and TTL expiry.
//! - `search`: Atlas Search and Vector Search: search indexes, `$search`, `$searchMeta`,
//!   `$vectorSearch`.
//! - `format`: what mongosh prints (Node's `util.inspect` layout rules).

pub mod agg;
pub mod check;
pub mod columns;
pub mod completion;
pub mod decimal;
pub mod ejson;
pub mod flow;
pub mod format;
pub mod index;
pub mod query;
pub mod search;
pub mod shell;
pub mod snapshot;
pub mod store;
pub mod timeseries;
pub mod txn;
pub mod value;

// The stand-in a build without this engine has (`lib.rs`), held to this engine's answers.
#[cfg(test)]
#[path = "absent.rs"]
mod absent;
#[cfg(test)]
mod absent_tests;
#[cfg(test)]
mod agg_cursor_tests;
#[cfg(test)]
mod cursor_tests;
#[cfg(test)]
mod prepared_tests;
#[cfg(test)]
mod to_array_steps_tests;
#[cfg(test)]
mod to_array_tests;

use shell::lexer::{tokenize, Tok};
use shell::parser::parse;
use shell::{Output, Session, ShellError};
use value::Value;

/// A mongosh session: the current database name and all databases of the sandbox.
#[derive(Debug, Default)]
pub struct Shell {
    session: Session,
    /// An input `prepare_mongosh` parsed, or began to read, waiting for `run_prepared`.
    prepared: Option<Prepared>,
}

#[derive(Debug)]
enum Prepared {
    Parsed(String, Vec<shell::parser::Stmt>),
    /// A giant `insertMany` statement, read and run in steps (`step_prepared`).
    Steps(Box<shell::eval::giant::Giant>),
    /// `let a = <cursor>.toArray()`, its documents copied in steps.
    ToArray(Box<shell::eval::to_array::ToArray>),
}

pub use shell::eval::giant::Progress;

impl Shell {
    pub fn new() -> Self {
        Shell::default()
    }

    /// Lowers (or raises) the number of evaluation steps one input may take before it is
    /// stopped with `Error: sandbox step limit reached (…)`; the default is
    /// `shell::eval::STEP_LIMIT` (10 million, about half a second of work in wasm).
    pub fn set_step_limit(&mut self, steps: u64) {
        self.session.step_limit = steps;
    }

    /// Sets how many bytes of documents (their BSON size, over all databases and
    /// collections) the sandbox holds; a write past it fails with `MongoServerError: Sandbox
    /// memory limit reached …`. The default is `store::DEFAULT_MEMORY_LIMIT` (256 MiB).
    pub fn set_memory_limit(&mut self, bytes: usize) {
        self.session.store.set_memory_limit(bytes);
    }

    /// Steps the last input took (at most the step limit, plus one).
    pub fn steps_used(&self) -> u64 {
        self.session.steps_used()
    }

    /// The session itself, for an embedder that runs its own JavaScript against the same
    /// databases (the driver-snippet mode installs a host on it).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The database `db` refers to (for the console's prompt).
    /// The most bytes of documents the sandbox holds (`set_memory_limit`).
    pub fn memory_limit(&self) -> usize {
        self.session.store.memory().limit()
    }

    pub fn current_db(&self) -> &str {
        &self.session.db
    }

    /// Lets the TTL monitor run at sandbox time `now_ms` (every 60 s of sandbox time, as
    /// MongoDB's does); returns the number of documents it deleted.
    pub fn tick(&mut self, now_ms: u64) -> usize {
        if self.session.ttl_held {
            return 0;
        }
        index::ttl::tick(&mut self.session.store, now_ms)
    }

    /// After a statement that ran `.explain()`: that find explained with `executionStats`,
    /// and again without any index, as JSON `{"explain": …, "withoutIndex": …}` (the page's
    /// explain view and its compare action). None when no explain ran since the last call.
    pub fn take_explained(&mut self) -> Option<String> {
        self.session.take_explained()
    }

    /// What a snapshot keeps of the shell besides the store: the database `db` refers to
    /// and the ObjectId generator.
    pub fn session_state(&self) -> (&str, ([u8; 5], u32)) {
        (&self.session.db, self.session.oids.state())
    }

    /// A shell over a restored store, on database `db`, with the ObjectId generator's state.
    pub fn restore(store: store::Store, db: String, oids: ([u8; 5], u32)) -> Shell {
        let mut shell = Shell::default();
        shell.session.store = store;
        shell.session.db = db;
        shell.session.oids = value::ObjectIdGenerator::from_state(oids.0, oids.1);
        shell
    }

    /// Every database of the sandbox, read-only (for the collections panel).
    pub fn store(&self) -> &store::Store {
        &self.session.store
    }

    /// Runs mongosh source (one or more statements) at sandbox time `now_ms` and returns what
    /// mongosh prints for it, each printed result followed by a newline.
    ///
    /// Statements that share a line print only the last value, as when a line is typed into
    /// mongosh; statements on separate lines each print, as when lines are pasted one by one.
    /// An error prints and skips the rest of its line; later lines still run.
    ///
    /// Text written by `print`, `printjson` and `console.log` comes first, line by line, in
    /// the order it was written. An input that runs more than the step limit (10 million
    /// evaluation steps by default, see `set_step_limit`) stops with
    /// `Error: sandbox step limit reached (10000000 steps; does a loop never end?)`, and
    /// nesting of calls or expressions beyond the sandbox's stack budget stops with
    /// `RangeError: Maximum call stack size exceeded`; the session stays usable after both.
    pub fn eval_mongosh(&mut self, src: &str, now_ms: u64) -> String {
        self.eval(src, now_ms, false)
    }

    /// Like `eval_mongosh`, but each statement that yields a value gives one line of relaxed
    /// Extended JSON v2; an error gives `{"error": {"name": …, "code": …, "message": …}}`.
    ///
    /// Printed text (`print`, `console.log`) gives one JSON string per line written.
    /// Shell messages become JSON strings (`"switched to db x"`, `"no cursor"`), `show dbs`
    /// an array of `{"name", "sizeOnDisk"}`, `show collections` an array of names, and a
    /// cursor the array of all its documents.
    pub fn eval_json(&mut self, src: &str, now_ms: u64) -> String {
        self.eval(src, now_ms, true)
    }

    /// Runs mongosh source for a driver snippet, with `db` meaning database `db_name`
    /// (the console's own current database is left as it was), and gives the last
    /// statement's value instead of its text: a cursor gives the array of all its
    /// documents, a statement with no value `Undefined`. What it prints is dropped; the
    /// first error stops it.
    pub fn eval_value(
        &mut self,
        db_name: &str,
        src: &str,
        now_ms: u64,
    ) -> Result<Value, ShellError> {
        let console_db = std::mem::replace(&mut self.session.db, db_name.to_string());
        let result = self.eval_value_in_db(src, now_ms);
        self.session.db = console_db;
        result
    }

    fn eval_value_in_db(&mut self, src: &str, now_ms: u64) -> Result<Value, ShellError> {
        self.session.set_context(now_ms, true);
        let tokens = tokenize(src)?;
        let stmts = parse(src, &tokens)?;
        self.session.begin_input();
        let mut last = Output::Nothing;
        let mut result = Ok(());
        for stmt in &stmts {
            match self.session.run(stmt) {
                Ok(o) => last = o,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.session.printed.clear();
        self.session.drop_buckets_views();
        result?;
        Ok(match last {
            Output::Nothing => Value::Undefined,
            Output::Value(v) | Output::Shown { json: v, .. } => v,
            Output::Batch { docs, .. } => {
                Value::Array(docs.into_iter().map(Value::Document).collect())
            }
        })
    }

    /// `eval_mongosh` in two calls or more, so that a giant input holds its caller (the
    /// page) for shorter spells instead of one: this one takes `src` at sandbox time
    /// `now_ms` and keeps it for `step_prepared` or `run_prepared` (None), or gives what a
    /// syntax error prints (then nothing is kept). A `db.<coll>.insertMany([…])` statement
    /// is only begun here, and read, run and printed in the steps (`shell::eval::giant`);
    /// other input is lexed and parsed here, and runs in the first step, except a statement
    /// `let a = <cursor>.toArray()`, whose documents the steps copy a budget at a time
    /// (`shell::eval::to_array`). Together they print and change what one `eval_mongosh`
    /// would.
    pub fn prepare_mongosh(&mut self, src: &str, now_ms: u64) -> Option<String> {
        self.session.ttl_held = false;
        self.session.set_context(now_ms, false);
        if let Some(giant) = shell::eval::giant::Giant::start(src, now_ms) {
            self.prepared = Some(Prepared::Steps(Box::new(giant)));
            return None;
        }
        match parse_input(src, false) {
            Ok(stmts) => {
                self.prepared = Some(
                    match shell::eval::to_array::ToArray::start(src, now_ms, stmts) {
                        Ok(walk) => Prepared::ToArray(Box::new(walk)),
                        Err(stmts) => Prepared::Parsed(src.to_string(), stmts),
                    },
                );
                self.session.ttl_held = matches!(self.prepared, Some(Prepared::ToArray(_)));
                None
            }
            Err(text) => {
                self.prepared = None;
                Some(text)
            }
        }
    }

    /// Does about `budget` units of the work `prepare_mongosh` kept (bytes of a giant
    /// statement read, or of its documents evaluated, prepared, inserted or of its ids
    /// printed), and gives what the input printed once it is over (None while there is
    /// more; `Some("")` when nothing was kept).
    pub fn step_prepared(&mut self, budget: usize) -> Option<String> {
        use shell::eval::giant::Step;
        let step = match self.prepared.take() {
            None => return Some(String::new()),
            Some(Prepared::Parsed(src, stmts)) => return Some(self.run_parsed(&src, stmts, false)),
            Some(Prepared::Steps(mut giant)) => {
                let step = giant.step(&mut self.session, budget);
                if matches!(step, Step::More) {
                    self.prepared = Some(Prepared::Steps(giant));
                }
                step
            }
            Some(Prepared::ToArray(mut walk)) => {
                let step = walk.step(&mut self.session, budget);
                if matches!(step, Step::More) {
                    self.prepared = Some(Prepared::ToArray(walk));
                }
                step
            }
        };
        self.session.ttl_held = matches!(self.prepared, Some(Prepared::ToArray(_)));
        match step {
            Step::More => None,
            Step::Done(text) => Some(text),
            Step::Whole(src) => Some(match parse_input(&src, false) {
                Ok(stmts) => self.run_parsed(&src, stmts, false),
                Err(text) => text,
            }),
        }
    }

    /// Runs what `prepare_mongosh` kept to its end (empty when nothing is). The sandbox
    /// time is the one `prepare_mongosh` was given, as for one `eval_mongosh`.
    pub fn run_prepared(&mut self, _now_ms: u64) -> String {
        loop {
            if let Some(text) = self.step_prepared(usize::MAX) {
                return text;
            }
        }
    }

    /// Where a stepped statement `prepare_mongosh` kept is (None when there is none).
    pub fn prepared_progress(&self) -> Option<Progress> {
        match &self.prepared {
            Some(Prepared::Steps(giant)) => Some(giant.progress()),
            Some(Prepared::ToArray(walk)) => Some(walk.progress()),
            _ => None,
        }
    }

    /// Stops what `prepare_mongosh` kept, as an interrupted mongosh stops: what the steps
    /// inserted stays. Gives where it was.
    pub fn stop_prepared(&mut self) -> Option<Progress> {
        let progress = self.prepared_progress();
        self.prepared = None;
        self.session.ttl_held = false;
        self.session.drop_buckets_views();
        progress
    }

    fn eval(&mut self, src: &str, now_ms: u64, json: bool) -> String {
        self.session.set_context(now_ms, json);
        if let Some(out) = self.session.run_fast_json(src) {
            self.session.drop_buckets_views();
            return out;
        }
        match parse_input(src, json) {
            Ok(stmts) => self.run_parsed(src, stmts, json),
            Err(text) => text,
        }
    }

    fn run_parsed(&mut self, src: &str, stmts: Vec<shell::parser::Stmt>, json: bool) -> String {
        self.session.begin_input();
        self.session.hoist(&stmts);
        let mut out = String::new();
        let mut i = 0;
        while i < stmts.len() {
            // A line group: statements joined by sharing a line.
            let mut end = i + 1;
            while end < stmts.len() && stmts[end].first_line <= stmts[end - 1].last_line {
                end += 1;
            }
            let mut last = Output::Nothing;
            let group = &stmts[i..end];
            // The statement whose value the line prints: the last one that is not a
            // declaration (JSON mode prints every statement).
            let printed = group.iter().rposition(|s| !is_declaration(s));
            for (k, stmt) in group.iter().enumerate() {
                let result = if json {
                    self.session.run(stmt)
                } else if printed.is_none_or(|p| k >= p) {
                    self.session.run_printed(stmt)
                } else {
                    self.session.run_unshown(stmt)
                };
                // What print() wrote comes before the statement's own value or error.
                for line in self.session.printed.drain(..) {
                    if json {
                        value::json_string(&mut out, &line);
                    } else {
                        out.push_str(&line);
                    }
                    out.push('\n');
                }
                match result {
                    Ok(o) => {
                        if json {
                            render_json(&mut out, &o);
                        }
                        // Declarations complete with no value, so the line keeps the value
                        // before them, as a JavaScript script's completion value does.
                        if !is_declaration(stmt) {
                            last = o;
                        }
                    }
                    Err(e) => {
                        out.push_str(&render_error(src, &e, json));
                        last = Output::Nothing;
                        break;
                    }
                }
            }
            if !json {
                out.push_str(&render_text(&last));
            }
            i = end;
        }
        self.session.drop_buckets_views();
        out
    }
}

/// The statements of `src`, or what its syntax error prints: a script with a syntax error
/// anywhere does not run at all, as in JavaScript.
fn parse_input(src: &str, json: bool) -> Result<Vec<shell::parser::Stmt>, String> {
    let tokens = tokenize(src).map_err(|e| render_error(src, &e, json))?;
    // The tree owns what it needs: a pasted statement's tokens (tens of bytes for each
    // character of a literal's punctuation) need not stay live while it runs.
    parse(src, &tokens).map_err(|e| render_error(src, &e, json))
}

fn render_error(src: &str, e: &ShellError, json: bool) -> String {
    if json {
        e.to_json() + "\n"
    } else {
        e.render(src)
    }
}

fn is_declaration(stmt: &shell::parser::Stmt) -> bool {
    matches!(
        stmt.kind,
        shell::parser::StmtKind::Let { .. }
            | shell::parser::StmtKind::Function(_)
            | shell::parser::StmtKind::Empty
    )
}

fn render_text(o: &Output) -> String {
    match o {
        Output::Nothing => String::new(),
        // mongosh prints a top-level string as is, without quotes.
        Output::Value(Value::String(s)) => format!("{s}\n"),
        Output::Value(v) => format::inspect(v, format::Options::VALUE) + "\n",
        Output::Batch { docs, more } => {
            if docs.is_empty() {
                return String::new();
            }
            let mut s = format::inspect_documents(docs);
            if *more {
                s.push_str("\nType \"it\" for more");
            }
            s + "\n"
        }
        Output::Shown { text, .. } => {
            if text.is_empty() {
                String::new()
            } else {
                format!("{text}\n")
            }
        }
    }
}

/// Appends a statement's JSON line to `out`, written in place.
fn render_json(out: &mut String, o: &Output) {
    match o {
        Output::Nothing => {}
        Output::Value(v) | Output::Shown { json: v, .. } => {
            value::write_ejson(out, v);
            out.push('\n');
        }
        Output::Batch { docs, .. } => {
            let mut w = ejson::Ejson::default();
            w.docs(docs.iter());
            w.raw("\n");
            w.finish_into(out);
        }
    }
}

/// Whether `src` is a complete input (brackets, strings, template strings and comments
/// closed), so a console knows whether Enter runs it or starts a new line.
pub fn input_is_complete(src: &str) -> bool {
    let tokens = match tokenize(src) {
        Ok(t) => t,
        // Only constructs that may span lines keep the input open; any other lexical error
        // is complete, so that running it reports the error.
        Err(e) => {
            return !(e.message.starts_with("Unterminated template")
                || e.message.starts_with("Unterminated comment"))
        }
    };
    let mut depth: i64 = 0;
    for t in &tokens {
        if let Tok::Punct(p) = t.tok {
            match p {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return true;
            }
        }
    }
    if depth != 0 {
        return false;
    }
    match tokens.last().map(|t| &t.tok) {
        // A trailing `.`, `,` or binary operator means the expression goes on
        // (`db.posts.find()` then `.limit(2)`; `const total = a +` then `b`).
        Some(Tok::Punct(p)) if *p != ")" && *p != "]" && *p != "}" && *p != ";" => {
            matches!(*p, "++" | "--")
        }
        // `if (…)`, `for (…)`, `while (…)` wait for their body, and `else` / `do` too.
        Some(Tok::Punct(")")) => !control_header_ends(&tokens),
        Some(Tok::Ident(w)) => !matches!(w.as_str(), "else" | "do" | "return" | "typeof"),
        _ => true,
    }
}

/// Whether the tokens end with the closing parenthesis of an `if`, `for` or `while` header.
fn control_header_ends(tokens: &[shell::lexer::Token]) -> bool {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().rev() {
        match t.tok {
            Tok::Punct(")") => depth += 1,
            Tok::Punct("(") => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let before = i.checked_sub(1).and_then(|j| tokens.get(j));
                    return matches!(
                        before.map(|b| &b.tok),
                        Some(Tok::Ident(w)) if matches!(w.as_str(), "if" | "for" | "while")
                    ) && !is_do_while_tail(tokens, i);
                }
            }
            _ => {}
        }
    }
    false
}

/// `do { … } while (…)`: that `while` ends the statement rather than opening a loop.
fn is_do_while_tail(tokens: &[shell::lexer::Token], open: usize) -> bool {
    open >= 2
        && matches!(tokens.get(open - 2).map(|t| &t.tok), Some(Tok::Punct("}")))
        && tokens
            .iter()
            .take(open)
            .any(|t| matches!(&t.tok, Tok::Ident(w) if w == "do"))
}
