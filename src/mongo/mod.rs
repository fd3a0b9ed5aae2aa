//! The MongoDB engine: BSON-like values, the mongosh-syntax shell, the query language, a
//! store of databases and collections, and the mongosh / Extended JSON formatters.
//!
//! - `value`: `Value`, `Document`, BSON comparison order, relaxed Extended JSON v2.
//! - `shell`: lexer, parser and evaluator for the mongosh statements students type.
//! - `query`: filters compiled once into predicates (one function per operator).
//! - `store`: databases by name → collections by name → documents in insertion order.
//! - `format`: what mongosh prints (Node's `util.inspect` layout rules).

pub mod agg;
pub mod format;
pub mod query;
pub mod shell;
pub mod store;
pub mod value;

use shell::lexer::{tokenize, Tok};
use shell::parser::parse;
use shell::{Output, Session, ShellError};
use value::Value;

/// A mongosh session: the current database name and all databases of the sandbox.
#[derive(Debug, Default)]
pub struct Shell {
    session: Session,
}

impl Shell {
    pub fn new() -> Self {
        Shell::default()
    }

    /// The database `db` refers to (for the console's prompt).
    pub fn current_db(&self) -> &str {
        &self.session.db
    }

    /// Runs mongosh source (one or more statements) at sandbox time `now_ms` and returns what
    /// mongosh prints for it, each printed result followed by a newline.
    ///
    /// Statements that share a line print only the last value, as when a line is typed into
    /// mongosh; statements on separate lines each print, as when lines are pasted one by one.
    /// An error prints and skips the rest of its line; later lines still run.
    pub fn eval_mongosh(&mut self, src: &str, now_ms: u64) -> String {
        self.eval(src, now_ms, false)
    }

    /// Like `eval_mongosh`, but each statement that yields a value gives one line of relaxed
    /// Extended JSON v2; an error gives `{"error": {"name": …, "code": …, "message": …}}`.
    ///
    /// Shell messages become JSON strings (`"switched to db x"`, `"no cursor"`), `show dbs`
    /// an array of `{"name", "sizeOnDisk"}`, `show collections` an array of names, and a
    /// cursor the array of all its documents.
    pub fn eval_json(&mut self, src: &str, now_ms: u64) -> String {
        self.eval(src, now_ms, true)
    }

    fn eval(&mut self, src: &str, now_ms: u64, json: bool) -> String {
        self.session.set_context(now_ms, json);
        let render_error = |e: &ShellError| {
            if json {
                e.to_json() + "\n"
            } else {
                e.render(src)
            }
        };
        // A script with a syntax error anywhere does not run at all, as in JavaScript.
        let tokens = match tokenize(src) {
            Ok(t) => t,
            Err(e) => return render_error(&e),
        };
        let stmts = match parse(src, &tokens) {
            Ok(s) => s,
            Err(e) => return render_error(&e),
        };
        let mut out = String::new();
        let mut i = 0;
        while i < stmts.len() {
            // A line group: statements joined by sharing a line.
            let mut end = i + 1;
            while end < stmts.len() && stmts[end].first_line <= stmts[end - 1].last_line {
                end += 1;
            }
            let mut last = Output::Nothing;
            for stmt in &stmts[i..end] {
                match self.session.run(stmt) {
                    Ok(o) => {
                        if json {
                            out.push_str(&render_json(&o));
                        }
                        last = o;
                    }
                    Err(e) => {
                        out.push_str(&render_error(&e));
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
        out
    }
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

fn render_json(o: &Output) -> String {
    match o {
        Output::Nothing => String::new(),
        Output::Value(v) | Output::Shown { json: v, .. } => value::to_relaxed_ejson(v) + "\n",
        Output::Batch { docs, .. } => {
            let mut s = String::from("[");
            for (i, d) in docs.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                value::write_ejson_doc(&mut s, d);
            }
            s + "]\n"
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
    // A trailing `.` or `,` means the expression goes on (`db.posts.find()` then `.limit(2)`).
    depth == 0
        && !matches!(
            tokens.last().map(|t| &t.tok),
            Some(Tok::Punct("." | "," | "?."))
        )
}
