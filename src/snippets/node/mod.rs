//! The JavaScript driver mode: node-redis, ioredis and the Node MongoDB driver on the same
//! evaluator as the mongosh subset.
//!
//! The snippet runs as one script (top-level `await` allowed, every promise settled at once)
//! in a scope of its own on the Mongo shell's session, with a host (`host.rs`) that provides
//! `require`, `console` and the drivers. Redis clients are connections of their own to the
//! sandbox's server, closed when the snippet ends. What is printed is what Node prints:
//! `console.log` through `util.inspect` (depth 2, `new ObjectId('…')`), then the last
//! expression statement's value as the Node REPL shows it (strings quoted; `undefined`
//! shows nothing here), then for an uncaught exception the line Node prints for it.
//!
//! Round trips: one per driver call that reaches a server (a command, a collection method,
//! a find cursor's first batch); a pipeline or MULTI batch is one. Connecting and closing
//! are not counted.

mod host;
pub mod redis;

use super::{Engines, SnippetRun};
use crate::mongo::shell::lexer::tokenize;
use crate::mongo::shell::parser::{parse, StmtKind};
use crate::mongo::shell::{Output, ShellError};
use crate::mongo::value::Value;
use host::{render_error, NodeHost, OBJECT_MARK};

pub fn run(engines: &mut Engines, source: &str) -> SnippetRun {
    let start = engines.clock.now(engines.host_ms);
    let stmts = match tokenize(source).and_then(|tokens| parse(source, &tokens)) {
        Ok(stmts) => stmts,
        Err(e) => {
            return SnippetRun {
                output: format!("{}\n", render_error(&e.name, &e.message)),
                round_trips: 0,
                failed: true,
            }
        }
    };
    let server = std::mem::take(engines.redis);
    let session = engines.mongo.session_mut();
    session.set_context(start, false);
    session.begin_input();
    let stashed = session.install_host(Box::new(NodeHost::new(server)));
    session.hoist(&stmts);
    let mut last = Output::Nothing;
    let mut error: Option<ShellError> = None;
    let mut printed = String::new();
    for (i, stmt) in stmts.iter().enumerate() {
        let result = session.run(stmt);
        for line in session.printed.drain(..) {
            printed.push_str(&line);
            printed.push('\n');
        }
        match result {
            Ok(out) if i + 1 == stmts.len() && matches!(stmt.kind, StmtKind::Expr(_)) => {
                last = out;
            }
            Ok(_) => {}
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let elapsed = session.now_ms().saturating_sub(start);
    session.drop_buckets_views();
    let host = session.remove_host(stashed);
    let Some(host) = host.and_then(|h| h.into_any().downcast::<NodeHost>().ok()) else {
        return SnippetRun::default();
    };
    let mut host = *host;
    for conn in std::mem::take(&mut host.connections) {
        host.redis.disconnect(conn);
    }
    let mut output = printed;
    output.push_str(&host.output);
    match last {
        Output::Value(Value::String(s)) if s.starts_with(OBJECT_MARK) => {}
        Output::Value(v) => {
            output.push_str(&host.inspect(&v));
            output.push('\n');
        }
        Output::Batch { docs, .. } => {
            let docs = Value::Array(docs.into_iter().map(Value::Document).collect());
            output.push_str(&host.inspect(&docs));
            output.push('\n');
        }
        Output::Shown { text, .. } if !text.is_empty() => {
            output.push_str(&text);
            output.push('\n');
        }
        _ => {}
    }
    let failed = error.is_some();
    if let Some(e) = error {
        output.push_str(&render_error(&e.name, &e.message));
        output.push('\n');
    }
    *engines.redis = host.redis;
    engines
        .clock
        .advance(i64::try_from(elapsed).unwrap_or(i64::MAX));
    SnippetRun {
        output,
        round_trips: host.round_trips,
        failed,
    }
}
