//! One statement that gives a whole cursor's documents to a variable, `let a =
//! db.c.find().toArray()` (or `const`, `var`, a plain `a = …`; any cursor: a find with its
//! sort, skip, limit, projection or map, an aggregation), run in steps of a budget of
//! documents. In one call a million documents held the page for seconds; in steps the page
//! gets the event loop back between them, shows how far the copy is and can stop it, which
//! leaves the variable as it was.
//!
//! The steps print, bind and change exactly what `Shell::eval_mongosh` of the statement
//! does, with the evaluator's steps and depth as in one call: the first evaluates the cursor
//! as the call does (an aggregation runs there) and starts it, the next ones copy documents
//! as `toArray` does, the last binds the array. A callee that turns out not to be a cursor's
//! own `toArray` (a host's, a session's or an explained cursor's, anything else) is called in
//! the first step, in one go. The page runs nothing else between the steps, and the TTL
//! monitor waits for the last one (`Session::ttl_held`), so the collection stays as it was
//! when the copy began.

use std::cell::RefCell;
use std::rc::Rc;

use super::giant::{end_text, Progress, Step};
use super::{assigned_name, callee_text, named, Js, LiveCursor, Rows};
use crate::mongo::format;
use crate::mongo::shell::parser::{DeclKind, Expr, Pattern, Stmt, StmtKind};
use crate::mongo::shell::{Output, Session, ShellError};
use crate::mongo::value::Value;

pub(crate) struct ToArray {
    src: String,
    now_ms: u64,
    form: Form,
    /// `….toArray`, the callee of the call.
    callee: Expr,
    stage: Stage,
    /// The evaluator's steps and depth, and what print() wrote, kept between the steps:
    /// other calls (a lesson's check, a panel) start inputs of their own meanwhile.
    steps: u64,
    depth: usize,
    printed: Vec<String>,
}

impl std::fmt::Debug for ToArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ToArray({:?})", self.progress())
    }
}

enum Form {
    /// `let`, `const` or `var` of one name.
    Declare(DeclKind, Pattern),
    /// `name = …`.
    Assign(Expr),
}

enum Stage {
    Start,
    Copy(Box<Copy>),
    Over,
}

struct Copy {
    cursor: Rc<RefCell<LiveCursor>>,
    out: Vec<Value>,
    /// How many documents the cursor holds at most (None for an aggregation computed as
    /// it is read).
    total: Option<usize>,
}

/// `init` is `….toArray()`: its callee.
fn to_array_callee(init: &Expr) -> Option<Expr> {
    let Expr::Call { callee, args } = init else {
        return None;
    };
    let to_array = matches!(
        &**callee,
        Expr::Member { name, optional: false, .. } if name == "toArray"
    );
    (to_array && args.is_empty()).then(|| (**callee).clone())
}

fn shape(stmt: &Stmt) -> Option<(Form, Expr)> {
    match &stmt.kind {
        StmtKind::Let { kind, decls } => match decls.as_slice() {
            [(target @ Pattern::Name(_), Some(init))] => {
                Some((Form::Declare(*kind, target.clone()), to_array_callee(init)?))
            }
            _ => None,
        },
        StmtKind::Expr(Expr::Assign { op, target, value })
            if *op == "=" && matches!(**target, Expr::Ident { .. }) =>
        {
            Some((Form::Assign((**target).clone()), to_array_callee(value)?))
        }
        _ => None,
    }
}

/// Whether `toArray` of the cursor reads the collection as this module copies it.
fn steppable(s: &Session, cursor: &RefCell<LiveCursor>) -> bool {
    let c = cursor.borrow();
    s.host.is_none() && c.spec.session.is_none() && c.spec.explain.is_none()
}

impl ToArray {
    /// The stepped run of `stmts`, parsed from `src`, when they are one such statement;
    /// the statements back otherwise.
    pub(crate) fn start(src: &str, now_ms: u64, stmts: Vec<Stmt>) -> Result<ToArray, Vec<Stmt>> {
        let found = match stmts.as_slice() {
            [stmt] => shape(stmt),
            _ => None,
        };
        let Some((form, callee)) = found else {
            return Err(stmts);
        };
        Ok(ToArray {
            src: src.to_string(),
            now_ms,
            form,
            callee,
            stage: Stage::Start,
            steps: 0,
            depth: 0,
            printed: Vec::new(),
        })
    }

    /// The first step evaluates and starts the cursor; each step copies up to `budget` of its
    /// documents, and the last binds the variable and gives what the statement printed (a
    /// cursor of fewer documents than `budget` is over in the first step).
    pub(crate) fn step(&mut self, s: &mut Session, budget: usize) -> Step {
        s.now_ms = self.now_ms;
        s.json = false;
        let ran = match std::mem::replace(&mut self.stage, Stage::Over) {
            Stage::Start => {
                s.begin_input();
                match self.begin(s) {
                    Ok(Ok(copy)) => self.copy(s, copy, budget),
                    Ok(Err(v)) => Ok(Some(v)),
                    Err(e) => Err(e),
                }
            }
            Stage::Copy(copy) => {
                s.steps = self.steps;
                s.depth = self.depth;
                s.scope = s.global.clone();
                s.printed = std::mem::take(&mut self.printed);
                self.copy(s, copy, budget)
            }
            Stage::Over => return Step::Done(String::new()),
        };
        let end = match ran {
            Ok(None) => {
                self.steps = s.steps;
                self.depth = s.depth;
                self.printed = std::mem::take(&mut s.printed);
                return Step::More;
            }
            Ok(Some(v)) => self.bind(s, v),
            Err(e) => Err(e),
        };
        let (o, e) = match end {
            Ok(o) => (o, None),
            Err(e) => (Output::Nothing, Some(e)),
        };
        Step::Done(end_text(s, &self.src, String::new(), o, e))
    }

    /// What `Shell::run_parsed`, `Session::run_shown` and `eval_call` do up to the call of
    /// `toArray`, which starts the cursor (the call's value instead when it is not one this
    /// module steps through).
    fn begin(&mut self, s: &mut Session) -> Result<Result<Box<Copy>, Js>, ShellError> {
        s.depth = 0;
        s.scope = s.global.clone();
        if matches!(self.form, Form::Declare(..)) {
            s.last = Js::Undefined;
        }
        // `exec` of the declaration or `eval` of the assignment, then `eval` of the call.
        s.tick()?;
        s.enter()?;
        s.tick()?;
        s.enter()?;
        let f = s.eval(&self.callee)?;
        let cursor = match &f {
            Js::Method { target, name } if name == "toArray" => match &**target {
                Js::Live(c) if steppable(s, c) => Some(c.clone()),
                _ => None,
            },
            _ => None,
        };
        let Some(cursor) = cursor else {
            return s
                .call(f, Vec::new(), callee_text(&self.callee), false)
                .map(Err);
        };
        // The step `call` takes; `toArray`'s first read starts the cursor.
        s.tick()?;
        s.start_cursor(&cursor)?;
        let total = cursor.borrow().buffer.as_ref().and_then(Rows::pending);
        Ok(Ok(Box::new(Copy {
            cursor,
            out: Vec::with_capacity(total.unwrap_or(0)),
            total,
        })))
    }

    /// Up to `budget` documents of `toArray`'s loop; the array once the cursor is over.
    fn copy(
        &mut self,
        s: &mut Session,
        mut copy: Box<Copy>,
        budget: usize,
    ) -> Result<Option<Js>, ShellError> {
        for _ in 0..budget {
            let Some(doc) = s.cursor_next(&copy.cursor)? else {
                let out = std::mem::take(&mut copy.out);
                return Ok(Some(Js::Val(Value::Array(out))));
            };
            let v = s.to_bson(doc)?;
            copy.out.push(v);
        }
        self.stage = Stage::Copy(copy);
        Ok(None)
    }

    /// What the declaration or assignment does with the call's value `v`, and what the
    /// statement gives to print.
    fn bind(&mut self, s: &mut Session, v: Js) -> Result<Output, ShellError> {
        // Out of the call's `eval`.
        s.leave();
        match &self.form {
            Form::Declare(kind, target) => {
                s.declare(*kind, target, v)?;
                s.leave();
                s.last = Js::Undefined;
                Ok(Output::Nothing)
            }
            Form::Assign(target) => {
                let v = named(assigned_name(target), v);
                let Js::Val(Value::Array(items)) = &v else {
                    s.assign(target, v.clone())?;
                    s.leave();
                    return s.output(v);
                };
                // The array is moved into the variable, not copied: what is printed is
                // read from its first items.
                let options = format::Options::VALUE;
                let shown = options.max_array_length.saturating_add(1);
                let head: Vec<Value> = items.iter().take(shown).cloned().collect();
                let total = items.len();
                s.assign(target, v)?;
                s.leave();
                Ok(Output::Shown {
                    text: format::inspect_array_head(&head, total, options),
                    json: Value::Null,
                })
            }
        }
    }

    /// Where the statement is: `find` until the cursor has started, then `copy` with the
    /// documents copied and how many there are at most (0 when not known).
    pub(crate) fn progress(&self) -> Progress {
        match &self.stage {
            Stage::Copy(c) => Progress {
                stage: "copy",
                done: c.out.len(),
                total: c.total.unwrap_or(0),
            },
            _ => Progress {
                stage: "find",
                done: 0,
                total: 0,
            },
        }
    }
}
