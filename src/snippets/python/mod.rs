//! The Python snippet mode: a small, safe evaluator of the Python that redis-py and pymongo
//! lessons use, run against the sandbox's engines.
//!
//! - `lexer`, `parser`: Python's tokens (indentation included) and the syntax tree of the
//!   subset snippets use; anything else is a `SyntaxError` or `NotImplementedError` naming
//!   the line.
//! - `interp`: statements, expressions, scopes, calls, and the step budget (the mongosh
//!   evaluator's, `mongo::shell::eval::STEP_LIMIT`).
//! - `value`: Python values and their `repr`; `builtins`: built-in functions, operators,
//!   str/list/dict methods, json; `modules`: importable modules and the exception classes.
//! - `redis_py`, `pymongo`, `objects`: the driver surfaces, mapped onto the engines.

mod builtins;
mod interp;
mod lexer;
mod modules;
mod objects;
mod parser;
mod pymongo;
mod redis_py;
mod value;

use super::{Engines, SnippetRun};
use parser::StmtKind;
use value::{repr, Val};

/// Runs a snippet as `python snippet.py` would, plus the REPL's echo of a last bare
/// expression: what it printed, then the value's repr (when not None), then the last line
/// of the traceback if it raised.
pub fn run(engines: &mut Engines, source: &str) -> SnippetRun {
    run_with_limit(engines, source, crate::mongo::shell::eval::STEP_LIMIT)
}

/// `run` with another step budget (tests and fuzzing lower it).
pub fn run_with_limit(engines: &mut Engines, source: &str, step_limit: u64) -> SnippetRun {
    let stmts = match parser::parse(source) {
        Ok(s) => s,
        Err(e) => {
            return SnippetRun {
                output: e.line() + "\n",
                round_trips: 0,
                failed: true,
            }
        }
    };
    let mut interp = interp::Interp::new(engines);
    interp.step_limit = step_limit;
    let mut failed = false;
    let last = stmts.len().saturating_sub(1);
    for (i, stmt) in stmts.iter().enumerate() {
        let result = match (&stmt.kind, i == last) {
            (StmtKind::Expr(e), true) => match interp.eval(e) {
                Ok(v) => {
                    if !matches!(v, Val::None) {
                        interp.out.push_str(&repr(&v));
                        interp.out.push('\n');
                    }
                    Ok(())
                }
                Err(e) => Err(interp::at_line(e, stmt.line)),
            },
            _ => interp.exec(stmt).map(|_| ()),
        };
        if let Err(e) = result {
            interp.out.push_str(&e.line());
            interp.out.push('\n');
            failed = true;
            break;
        }
    }
    for id in std::mem::take(&mut interp.extra_clients) {
        interp.engines.redis.close_client(id);
    }
    SnippetRun {
        output: std::mem::take(&mut interp.out),
        round_trips: interp.round_trips,
        failed,
    }
}
