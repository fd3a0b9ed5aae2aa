//! One giant statement, read, run and printed in steps of bounded work: the
//! `db.<coll>.insertMany([ … ], { … })` (or `db.getCollection("…").insertMany(…)`) that
//! lessons and dumps paste, megabytes long. Run in one call it held the page for most of a
//! second; in steps the page gets the event loop back between them.
//!
//! The steps print and change exactly what `Shell::eval_mongosh` of the same text does. The
//! whole text is read before anything runs, as mongosh parses a statement before running it:
//! tokens one after another from where the last step stopped (a lexing error anywhere wins,
//! as `tokenize` runs before the parser), the array's elements each parsed as the parser
//! parses them as it meets them (the first error among them wins, then any error after the
//! array), and the call around the array parsed from its own tokens with the array standing
//! in as one name. Then the elements are evaluated, the documents prepared and inserted, and
//! the result printed, each a batch a step, with the evaluator's steps, depth and the order
//! of every side effect as in one call. A text that turns out not to be that one call (more
//! statements, a spread, the array used further) is parsed and run whole instead; a call
//! that is not the shell's own `insertMany` when it runs (`db` rebound, a host, an open
//! transaction) runs in one step once its array is evaluated. A failed insert's
//! `MongoBulkWriteError` is printed a few inserted ids a step too, around the text the error
//! has with the first few ids only.

use super::{callee_text, check_depth, outside_conflict, Js};
use crate::mongo::format;
use crate::mongo::shell::insert_many::InsertMany;
use crate::mongo::shell::lexer::{next_token, LexPosition, Tok, Token};
use crate::mongo::shell::parser::{array_element, parse, Expr, StmtKind, CALL_ARRAY_DEPTH};
use crate::mongo::shell::{Output, Session, ShellError};
use crate::mongo::value::{number_value, Document, Value};

/// What `step` did.
pub(crate) enum Step {
    /// There is more to do.
    More,
    /// The statement is over: what it printed.
    Done(String),
    /// The text is not the statement this module runs in steps: it runs as any other input.
    Whole(String),
}

/// Where a stepped statement is, for the page's progress line: the stage and how far
/// into it (bytes read, documents evaluated, prepared or inserted, ids printed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub stage: &'static str,
    pub done: usize,
    pub total: usize,
}

pub(crate) struct Giant {
    src: String,
    now_ms: u64,
    stage: Stage,
    /// The evaluation steps the statement has taken (other inputs between two steps start
    /// their own count).
    steps: u64,
}

impl std::fmt::Debug for Giant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Giant({:?})", self.progress())
    }
}

enum Stage {
    Read(Box<Reader>),
    Run(Box<Run>),
    Print(Box<Printer>),
    /// Handed back (`Step::Done` or `Step::Whole`).
    Over,
}

/// The leading tokens of the statements this module steps through; `Any` is one token of
/// any kind of the one named, the last `[` opens the array.
const PREFIXES: [&[Want]; 2] = [
    &[
        Want::Word("db"),
        Want::Punct("."),
        Want::AnyWord,
        Want::Punct("."),
        Want::Word("insertMany"),
        Want::Punct("("),
        Want::Punct("["),
    ],
    &[
        Want::Word("db"),
        Want::Punct("."),
        Want::Word("getCollection"),
        Want::Punct("("),
        Want::AnyString,
        Want::Punct(")"),
        Want::Punct("."),
        Want::Word("insertMany"),
        Want::Punct("("),
        Want::Punct("["),
    ],
];

#[derive(Clone, Copy)]
enum Want {
    Word(&'static str),
    AnyWord,
    AnyString,
    Punct(&'static str),
}

impl Want {
    fn matches(self, t: &Tok) -> bool {
        match (self, t) {
            (Want::Word(w), Tok::Ident(x)) => x == w,
            (Want::AnyWord, Tok::Ident(_)) | (Want::AnyString, Tok::Str(_)) => true,
            (Want::Punct(p), Tok::Punct(q)) => p == *q,
            _ => false,
        }
    }
}

/// The name the array stands in as while the call around it is parsed: no one can type it.
const ARRAY_STANDS_IN: &str = "\u{0}array";

struct Reader {
    at: LexPosition,
    prev: Option<Tok>,
    /// The call's tokens before the array, then the array's opening bracket.
    head: Vec<Token>,
    /// The tokens of the element being read, and the brackets open in it now and at most.
    item: Vec<Token>,
    open: usize,
    nest: usize,
    items: Vec<Expr>,
    /// Every element is a literal the parser would have folded, with the array, into one
    /// value (`Parser::literal_value`): then evaluating the array takes one step, not one
    /// an element.
    literal: bool,
    /// The array's closing bracket, once read, and the tokens after it.
    close: Option<Token>,
    tail: Vec<Token>,
    /// The first error parsing the elements: it is the statement's unless lexing the rest
    /// fails, as the whole text is lexed before it is parsed.
    failed: Option<ShellError>,
}

/// Brackets deeper than this inside an element keep the array from being one literal
/// (`Parser::literal_value` gives up below 32 levels under the array).
const LITERAL_NESTING: usize = 32;

enum Read {
    More,
    Parsed(Box<Run>),
    Failed(ShellError),
    Whole,
}

impl Reader {
    fn step(&mut self, src: &str, budget: usize) -> Read {
        let stop = self.at.offset().saturating_add(budget.max(1));
        while self.at.offset() < stop {
            let token = match next_token(src, &mut self.at, self.prev.as_ref()) {
                Ok(Some(t)) => t,
                Ok(None) => return self.end(src),
                Err(e) => return Read::Failed(e),
            };
            self.prev = Some(token.tok.clone());
            if self.failed.is_some() {
                continue;
            }
            if self.close.is_some() {
                self.tail.push(token);
                continue;
            }
            if let Err(e) = self.element_token(src, token) {
                self.failed = Some(e);
                self.item = Vec::new();
            }
        }
        Read::More
    }

    /// Takes the next token of the array (what `Parser::array` reads).
    fn element_token(&mut self, src: &str, t: Token) -> Result<(), ShellError> {
        if self.item.is_empty() {
            match t.tok {
                Tok::Punct("]") => {
                    self.close = Some(t);
                    return Ok(());
                }
                Tok::Punct(",") => {
                    // A hole, as in `[1, , 2]`.
                    self.items.push(Expr::Undefined);
                    self.literal = false;
                    return Ok(());
                }
                _ => {}
            }
        }
        let ends = match t.tok {
            Tok::Punct("(" | "[" | "{") => {
                self.open += 1;
                self.nest = self.nest.max(self.open);
                false
            }
            // Any closing bracket closes the innermost open one, as `bracket_pairs` pairs
            // them, so an element's brackets pair among themselves as in the whole text.
            Tok::Punct(")" | "]" | "}") if self.open == 0 => true,
            Tok::Punct(")" | "]" | "}") => {
                self.open -= 1;
                false
            }
            Tok::Punct(",") => self.open == 0,
            _ => false,
        };
        self.item.push(t);
        if !ends {
            return Ok(());
        }
        let (item, more) = array_element(src, &self.item, CALL_ARRAY_DEPTH)?;
        self.literal &= self.nest <= LITERAL_NESTING && is_literal(&item);
        self.items.push(item);
        if !more {
            self.close = self.item.pop();
        }
        self.item.clear();
        self.nest = 0;
        Ok(())
    }

    /// The end of the text: what the parser makes of it.
    fn end(&mut self, src: &str) -> Read {
        if let Some(e) = self.failed.take() {
            return Read::Failed(e);
        }
        let Some(close) = self.close.take() else {
            // The array never closes: the error is where the element being read ends.
            return match array_element(src, &self.item, CALL_ARRAY_DEPTH) {
                Err(e) => Read::Failed(e),
                Ok(_) => Read::Whole,
            };
        };
        let Some(open) = self.head.pop() else {
            return Read::Whole;
        };
        let mut tokens = std::mem::take(&mut self.head);
        tokens.push(Token {
            tok: Tok::Ident(ARRAY_STANDS_IN.into()),
            start: open.start,
            end: close.end,
            line: open.line,
            col: open.col,
            newline_before: open.newline_before,
        });
        tokens.append(&mut self.tail);
        let mut stmts = match parse(src, &tokens) {
            Ok(stmts) => stmts,
            Err(e) => return Read::Failed(e),
        };
        let (Some(stmt), None) = (stmts.pop(), stmts.pop()) else {
            return Read::Whole;
        };
        let StmtKind::Expr(Expr::Call { callee, mut args }) = stmt.kind else {
            return Read::Whole;
        };
        let stands_in = |e: &Expr| matches!(e, Expr::Ident { name, .. } if name == ARRAY_STANDS_IN);
        if args.is_empty() || !stands_in(&args[0]) {
            return Read::Whole;
        }
        let items = std::mem::take(&mut self.items);
        if items.iter().any(|e| matches!(e, Expr::Spread(_))) {
            return Read::Whole;
        }
        args.remove(0);
        Read::Parsed(Box::new(Run {
            callee: *callee,
            rest: args,
            total: items.len(),
            items: items.into_iter(),
            literal: self.literal,
            values: Vec::new(),
            f: None,
            insert: None,
            printed: Vec::new(),
        }))
    }
}

/// Whether the parser folds an element like this into a literal array's value
/// (`Parser::literal_item`).
fn is_literal(e: &Expr) -> bool {
    match e {
        Expr::Value(_) | Expr::Num(_) | Expr::Str(_) | Expr::Bool(_) | Expr::Null => true,
        Expr::Neg(inner) => matches!(**inner, Expr::Num(_)),
        _ => false,
    }
}

/// The value of an element `is_literal` accepts, as evaluating it gives it.
fn literal_value(e: Expr) -> Result<Value, Expr> {
    Ok(match e {
        Expr::Value(v) => v,
        Expr::Num(n) => number_value(n),
        Expr::Str(s) => Value::String(s),
        Expr::Bool(b) => Value::Bool(b),
        Expr::Null => Value::Null,
        // Negating the Int32 0 gives the double -0, as evaluation does.
        Expr::Neg(inner) => match *inner {
            Expr::Num(0.0) => Value::Double(-0.0),
            Expr::Num(n) => number_value(-n),
            other => return Err(Expr::Neg(Box::new(other))),
        },
        other => return Err(other),
    })
}

/// The statement once read: `callee(array, ...rest)`.
struct Run {
    callee: Expr,
    rest: Vec<Expr>,
    items: std::vec::IntoIter<Expr>,
    total: usize,
    literal: bool,
    values: Vec<Value>,
    /// The callee's value, once evaluated.
    f: Option<Js>,
    insert: Option<InsertMany>,
    /// What print() wrote, kept between the steps: other calls (a lesson's check, a
    /// panel) start inputs of their own meanwhile.
    printed: Vec<String>,
}

/// The evaluator's depth while it evaluates the array's elements: the statement's call and
/// the argument (`Session::eval` enters once for each).
const ELEMENT_DEPTH: usize = 2;

enum Ran {
    More,
    /// The call's value, and whether it is the result of the stepped `insertMany` (whose
    /// ids are numbered in order).
    Value(Js, bool),
    /// The stepped `insertMany` failed after inserting documents enough to print in steps.
    Failed(Box<InsertMany>),
}

impl Session {
    /// `run_step` with the statement's own printed lines.
    fn resume(&mut self, run: &mut Run, budget: usize) -> Result<Ran, ShellError> {
        self.printed = std::mem::take(&mut run.printed);
        let ran = self.run_step(run, budget);
        if matches!(ran, Ok(Ran::More)) {
            run.printed = std::mem::take(&mut self.printed);
        }
        ran
    }

    /// A step of `run`: the callee, then elements, then the call, up to `budget` of them.
    fn run_step(&mut self, run: &mut Run, budget: usize) -> Result<Ran, ShellError> {
        self.scope = self.global.clone();
        if let Some(insert) = &mut run.insert {
            self.depth = 1;
            if !insert.step(self, budget)? {
                return Ok(Ran::More);
            }
            let Some(insert) = run.insert.take() else {
                return Ok(Ran::More);
            };
            if insert.failed() && insert.progress().0 >= PRINTED_IN_STEPS {
                return Ok(Ran::Failed(Box::new(insert)));
            }
            let v = insert.finish().map_err(outside_conflict)?;
            self.leave();
            return Ok(Ran::Value(v, true));
        }
        if run.f.is_none() {
            // What `run_shown` and `eval` of the call statement do before the callee.
            self.depth = 0;
            self.tick()?;
            self.enter()?;
            run.f = Some(self.eval(&run.callee)?);
            // `eval` of the array argument.
            self.tick()?;
            self.enter()?;
            run.values.reserve_exact(run.total);
        }
        self.depth = ELEMENT_DEPTH;
        for _ in 0..budget {
            let Some(item) = run.items.next() else {
                return self.call_step(run);
            };
            let literal = if run.literal {
                literal_value(item)
            } else {
                Err(item)
            };
            let v = match literal {
                Ok(v) => v,
                Err(item) => {
                    let v = self.eval(&item)?;
                    self.to_bson(v)?
                }
            };
            run.values.push(v);
        }
        Ok(Ran::More)
    }

    /// The array is evaluated: the rest of the arguments, then the call, which starts the
    /// insert when it is the shell's own `insertMany` on a collection.
    fn call_step(&mut self, run: &mut Run) -> Result<Ran, ShellError> {
        let array = Value::Array(std::mem::take(&mut run.values));
        if !run.literal {
            check_depth(&array)?;
        }
        self.leave();
        let mut argv = vec![Js::Val(array)];
        argv.extend(self.eval_args(&run.rest)?);
        let f = run.f.take().unwrap_or(Js::Undefined);
        let target = match &f {
            Js::Method { target, name } if name == "insertMany" => match &**target {
                Js::Collection { db, name } => Some((db.clone(), name.clone())),
                _ => None,
            },
            _ => None,
        };
        let stepped = target
            .filter(|_| self.host.is_none() && !self.in_transaction() && !self.sessions.any_open());
        let Some((db, coll)) = stepped else {
            let v = self.call(f, argv, callee_text(&run.callee), false)?;
            self.leave();
            return Ok(Ran::Value(v, false));
        };
        // What `call` and `collection_method` do before inserting (`outside_collection_call`
        // waits for no transaction: none is open).
        self.tick()?;
        self.prepare_buckets_view(&db, &coll, "insertMany", true)?;
        self.begin_collection_method(&db, &coll, "insertMany", &argv)?;
        run.insert = Some(InsertMany::new(self, &db, &coll, argv)?);
        Ok(Ran::More)
    }
}

/// The printed result of an `insertMany` with many ids, written a few ids a step:
/// `{ acknowledged: true, insertedIds: { '0': …, … } }` over one line an id, as `inspect`
/// lays out any object of more than a handful of fields. The ids are numbered in order (as
/// `InsertMany` numbers them), the order JavaScript gives an object's index keys.
struct Printer {
    out: String,
    ids: Document,
    next: usize,
    /// What follows the ids.
    end: String,
}

/// The ids a failed insert's error is first written with: enough that `inspect` lays them
/// out a line each, as it lays out all of them (sixteen ids of at least six characters are
/// over the 80 it puts on one line).
const SAMPLE_IDS: usize = 16;

/// One id's line, as `inspect` writes an object's field two levels deep over many lines.
fn id_line(k: &str, v: &Value) -> String {
    format!(
        "    {}",
        format::inspect_field(k, v, 2, format::Options::VALUE)
    )
}

/// Results with fewer ids print in one go (an object that short might fit on one line).
const PRINTED_IN_STEPS: usize = 100;

impl Printer {
    fn new(printed: &str, v: &mut Js) -> Option<Printer> {
        let Js::Val(Value::Document(doc)) = v else {
            return None;
        };
        let acknowledged = doc.len() == 2
            && matches!(doc.get_index(0), Some((k, Value::Bool(true))) if k == "acknowledged");
        let ids = match doc.get_index_mut(1) {
            Some((k, Value::Document(ids))) if k == "insertedIds" => ids,
            _ => return None,
        };
        if !acknowledged || ids.len() < PRINTED_IN_STEPS {
            return None;
        }
        let ids = std::mem::take(ids);
        let mut out = printed.to_string();
        out.push_str("{\n  acknowledged: true,\n  insertedIds: {\n");
        Some(Printer {
            out,
            ids,
            next: 0,
            end: "\n  }\n}\n".into(),
        })
    }

    /// The printer of `text`, a failed insert's output whose error holds the first
    /// `SAMPLE_IDS` of `ids`, with all of `ids` in their place; the ids back if the sample's
    /// lines are not where and what this printer would write (the error is then written
    /// whole, in one go).
    fn around_ids(text: &str, ids: Document) -> Result<Printer, Document> {
        const RESULT: &str = "\nResult: BulkWriteResult {\n";
        const OPEN: &str = "\n  insertedIds: {\n";
        const CLOSE: &str = "\n  }\n}\nWrite Errors: ";
        let cut = || {
            let result = text.find(RESULT)?;
            let open = result + text.get(result..)?.find(OPEN)? + OPEN.len();
            let close = open + text.get(open..)?.find(CLOSE)?;
            Some((
                text.get(..open)?,
                text.get(open..close)?,
                text.get(close..)?,
            ))
        };
        let Some((before, sample, after)) = cut() else {
            return Err(ids);
        };
        let lines: Vec<String> = ids
            .iter()
            .take(SAMPLE_IDS)
            .map(|(k, v)| id_line(k, v))
            .collect();
        if sample != lines.join(",\n") {
            return Err(ids);
        }
        Ok(Printer {
            out: before.to_string(),
            ids,
            next: 0,
            end: after.to_string(),
        })
    }

    /// Writes up to `budget` ids; the whole text once all are written.
    fn step(&mut self, budget: usize) -> Option<String> {
        for _ in 0..budget {
            let Some((k, v)) = self.ids.get_index(self.next) else {
                self.out.push_str(&self.end);
                return Some(std::mem::take(&mut self.out));
            };
            if self.next > 0 {
                self.out.push_str(",\n");
            }
            self.out.push_str(&id_line(k, v));
            self.next += 1;
        }
        None
    }
}

impl Giant {
    /// The stepped run of `src` at sandbox time `now_ms` when it starts as the statements
    /// this module steps through (a few tokens are read to tell); None otherwise.
    pub(crate) fn start(src: &str, now_ms: u64) -> Option<Giant> {
        let mut at = LexPosition::default();
        let mut head: Vec<Token> = Vec::new();
        let mut candidates: Vec<&[Want]> = PREFIXES.to_vec();
        loop {
            let prev = head.last().map(|t| &t.tok);
            let t = next_token(src, &mut at, prev).ok()??;
            let i = head.len();
            candidates.retain(|p| p.get(i).is_some_and(|w| w.matches(&t.tok)));
            head.push(t);
            match candidates.first() {
                None => return None,
                Some(p) if p.len() == head.len() => break,
                Some(_) => {}
            }
        }
        Some(Giant {
            src: src.to_string(),
            now_ms,
            steps: 0,
            stage: Stage::Read(Box::new(Reader {
                at,
                prev: head.last().map(|t| t.tok.clone()),
                head,
                item: Vec::new(),
                open: 0,
                nest: 0,
                items: Vec::new(),
                literal: true,
                close: None,
                tail: Vec::new(),
                failed: None,
            })),
        })
    }

    /// Does about `budget` of work (bytes read, elements evaluated, documents prepared or
    /// inserted, ids printed) of the statement.
    pub(crate) fn step(&mut self, s: &mut Session, budget: usize) -> Step {
        s.now_ms = self.now_ms;
        s.json = false;
        if !matches!(self.stage, Stage::Read(_)) {
            s.steps = self.steps;
        }
        let step = self.step_stage(s, budget);
        self.steps = s.steps;
        step
    }

    fn step_stage(&mut self, s: &mut Session, budget: usize) -> Step {
        match std::mem::replace(&mut self.stage, Stage::Over) {
            Stage::Read(mut reader) => match reader.step(&self.src, budget) {
                Read::More => self.stage = Stage::Read(reader),
                Read::Parsed(run) => {
                    s.begin_input();
                    self.stage = Stage::Run(run);
                }
                Read::Failed(e) => return Step::Done(e.render(&self.src)),
                Read::Whole => return Step::Whole(std::mem::take(&mut self.src)),
            },
            Stage::Run(mut run) => match s.resume(&mut run, budget) {
                Ok(Ran::More) => self.stage = Stage::Run(run),
                Ok(Ran::Value(v, inserted)) => return self.print(s, v, inserted),
                Ok(Ran::Failed(insert)) => return self.print_failure(s, *insert),
                Err(e) => return self.end(s, String::new(), Output::Nothing, Some(e)),
            },
            Stage::Print(mut printer) => match printer.step(budget) {
                Some(out) => {
                    s.drop_buckets_views();
                    return Step::Done(out);
                }
                None => self.stage = Stage::Print(printer),
            },
            Stage::Over => return Step::Done(String::new()),
        }
        Step::More
    }

    fn print(&mut self, s: &mut Session, mut v: Js, inserted: bool) -> Step {
        let printed = take_printed(s);
        let printer = if inserted {
            Printer::new(&printed, &mut v)
        } else {
            None
        };
        if let Some(printer) = printer {
            self.stage = Stage::Print(Box::new(printer));
            return Step::More;
        }
        match s.output(v) {
            Ok(o) => self.end(s, printed, o, None),
            Err(e) => self.end(s, printed, Output::Nothing, Some(e)),
        }
    }

    /// What `end` prints for the failed insert's error, its inserted ids written a batch a
    /// step when they are many.
    fn print_failure(&mut self, s: &mut Session, mut insert: InsertMany) -> Step {
        let ids = insert.take_ids();
        let sample = ids.iter().take(SAMPLE_IDS);
        let sample = sample.map(|(k, v)| (k.clone(), v.clone())).collect();
        let e = outside_conflict(insert.failure(ids.len(), sample));
        let printed = take_printed(s);
        let text = format!("{printed}{}", e.render(&self.src));
        match Printer::around_ids(&text, ids) {
            Ok(printer) => {
                self.stage = Stage::Print(Box::new(printer));
                Step::More
            }
            Err(ids) => {
                let e = outside_conflict(insert.failure(ids.len(), ids));
                self.end(s, printed, Output::Nothing, Some(e))
            }
        }
    }

    /// What `Shell::run_parsed` prints for the statement's value or error, after what
    /// print() wrote.
    fn end(&mut self, s: &mut Session, out: String, o: Output, e: Option<ShellError>) -> Step {
        Step::Done(end_text(s, &self.src, out, o, e))
    }

    /// Where the statement is.
    pub(crate) fn progress(&self) -> Progress {
        let (stage, done, total) = match &self.stage {
            Stage::Read(r) => ("read", r.at.offset(), self.src.len()),
            Stage::Run(run) => match &run.insert {
                Some(insert) => {
                    let (done, total) = insert.progress();
                    (
                        if insert.preparing() {
                            "prepare"
                        } else {
                            "insert"
                        },
                        done,
                        total,
                    )
                }
                None => ("evaluate", run.total - run.items.len(), run.total),
            },
            Stage::Print(p) => ("print", p.next, p.ids.len()),
            Stage::Over => ("done", 0, 0),
        };
        Progress { stage, done, total }
    }
}

/// What `Shell::run_parsed` prints for a statement of `src` that ended with `o` or `e`,
/// after `out` and what print() wrote.
pub(super) fn end_text(
    s: &mut Session,
    src: &str,
    mut out: String,
    o: Output,
    e: Option<ShellError>,
) -> String {
    out.push_str(&take_printed(s));
    match e {
        Some(e) => out.push_str(&e.render(src)),
        None => out.push_str(&crate::mongo::render_text(&o)),
    }
    s.drop_buckets_views();
    out
}

/// What print() wrote, a line each, as `Shell::run_parsed` puts it before a statement's
/// value or error.
fn take_printed(s: &mut Session) -> String {
    let mut out = String::new();
    for line in s.printed.drain(..) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}
