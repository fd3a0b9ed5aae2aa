//! The page's pipeline viewer: for an aggregate statement the student has just run, what
//! every stage did (documents in and out, documents examined, time, its first documents),
//! and which stage failed.
//!
//! The statement has already run in the console, so the viewer runs the pipeline a second
//! time, read-only. That is only safe when running it again cannot change anything, so:
//! - only a lone `db.<coll>.aggregate(...)` (also `db["c"]`, `db.getCollection("c")`,
//!   `db.aggregate(...)`, optionally followed by `.toArray()`) is recognised;
//! - its arguments are evaluated only when they contain no calls (except BSON constructors
//!   such as `ISODate("…")`), assignments, `++`/`--`, `delete` or functions, since those
//!   could write or advance state the statement already advanced;
//! - a pipeline ending in `$out` or `$merge` is not run again (it would write twice, and its
//!   source may be the collection it replaced); the report says so instead.
//!
//! Re-evaluating the arguments with the shell's own evaluator (rather than appending
//! `{flow: true}` to the source text and running that) keeps the stage index of a failure and
//! the per-stage timings, which the shell's printed report does not carry.

use serde::Serialize;

use super::agg::{self, AggError, Source, StageFlow};
use super::format::{inspect, Options};
use super::shell::lexer::tokenize;
use super::shell::parser::{parse, Expr, Prop, StmtKind};
use super::value::{write_ejson_doc, Document, Value};
use super::Shell;

/// Documents kept per stage: the columns show a few, a clicked stage shows them all.
pub const SAMPLE: usize = 20;

/// Constructors whose calls only build a value.
const PURE_CALLS: &[&str] = &[
    "ISODate",
    "ObjectId",
    "NumberLong",
    "NumberInt",
    "NumberDecimal",
    "Decimal128",
    "Timestamp",
    "UUID",
    "BinData",
    "MinKey",
    "MaxKey",
    "Date",
    "RegExp",
    "String",
    "Number",
    "Boolean",
];

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowReport {
    /// Whether the statement is an aggregate call at all; nothing else is set when not.
    pub aggregate: bool,
    pub db: String,
    /// Empty for `db.aggregate(...)`.
    pub collection: String,
    /// Whether the pipeline was run for the viewer (see `note` when not).
    pub ran: bool,
    /// Why the pipeline was not run, when it was not.
    pub note: Option<String>,
    pub stages: Vec<StageReport>,
    /// Documents the whole pipeline returned, when it succeeded.
    pub result_count: Option<usize>,
    pub error: Option<FlowError>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageReport {
    pub index: usize,
    pub name: String,
    /// False for the failing stage and those after it.
    pub ran: bool,
    pub docs_in: usize,
    pub docs_out: usize,
    pub examined: u64,
    pub ms: Option<f64>,
    /// The first documents out, as relaxed Extended JSON v2.
    pub sample: Vec<String>,
    /// The same documents as mongosh prints them.
    pub sample_text: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowError {
    /// The failing stage, when the failure belongs to one.
    pub stage: Option<usize>,
    pub code: Option<i32>,
    pub code_name: Option<String>,
    pub message: String,
}

/// The flow of the aggregate statement `src` at sandbox time `now_ms`; `timer` reads the
/// host's clock in milliseconds (the core never reads one itself).
pub fn flow(shell: &mut Shell, src: &str, now_ms: u64, timer: &dyn Fn() -> f64) -> FlowReport {
    let Some(call) = recognise(src) else {
        return FlowReport::default();
    };
    let db = shell.session.db.clone();
    let mut report = FlowReport {
        aggregate: true,
        db: db.clone(),
        collection: call.coll.clone().unwrap_or_default(),
        ..FlowReport::default()
    };
    let builtin = |name: &str| !shell.session.is_bound(name);
    if !call.args.iter().all(|a| pure(a, &builtin, 0)) {
        report.note = Some(
            "the viewer does not run this pipeline again: its arguments call functions or assign variables"
                .into(),
        );
        return report;
    }
    shell.session.set_context(now_ms, true);
    let args = match shell.session.eval_args_to_bson(&call.args) {
        Ok(a) => a,
        Err(e) => {
            report.error = Some(FlowError {
                stage: None,
                code: None,
                code_name: None,
                message: e.display(),
            });
            return report;
        }
    };
    let pipeline: Vec<Value> = match args.first() {
        Some(Value::Array(stages)) => stages.clone(),
        Some(Value::Document(_)) => args
            .iter()
            .take_while(|a| matches!(a, Value::Document(_)))
            .cloned()
            .collect(),
        None => Vec::new(),
        Some(_) => {
            report.error = Some(FlowError {
                stage: None,
                code: Some(14),
                code_name: Some("TypeMismatch".into()),
                message: "'pipeline' option must be specified as an array".into(),
            });
            return report;
        }
    };
    let names: Vec<String> = pipeline.iter().map(stage_name).collect();
    if matches!(names.last().map(String::as_str), Some("$out" | "$merge")) {
        report.note = Some(format!(
            "the viewer does not run a pipeline ending in {} again: it would write a second time",
            names.last().map(String::as_str).unwrap_or_default()
        ));
        report.stages = not_run(&names, 0);
        return report;
    }
    let source = match &call.coll {
        Some(c) => Source::Collection(c),
        None => Source::Database,
    };
    let store = &mut shell.session.store;
    report.ran = true;
    match agg::run_source(
        store,
        &db,
        source,
        &pipeline,
        now_ms,
        Some(SAMPLE),
        Some(timer),
    ) {
        Ok((docs, flows)) => {
            report.stages = flows
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, f)| stage_report(i, f))
                .collect();
            report.result_count = Some(docs.len());
        }
        Err(e) => {
            let failed = e.stage;
            // The stages before the failing one did run; running just them again (no write
            // stage can come before the last) recovers what they did.
            let mut stages = Vec::new();
            if let Some(at) = failed.filter(|&at| at > 0) {
                if let Ok((_, Some(flows))) = agg::run_source(
                    store,
                    &db,
                    source,
                    pipeline.get(..at).unwrap_or_default(),
                    now_ms,
                    Some(SAMPLE),
                    Some(timer),
                ) {
                    stages = flows
                        .iter()
                        .enumerate()
                        .map(|(i, f)| stage_report(i, f))
                        .collect();
                }
            }
            let from = stages.len();
            stages.extend(not_run(&names, from));
            report.stages = stages;
            report.error = Some(agg_error(e));
        }
    }
    report
}

fn agg_error(e: AggError) -> FlowError {
    FlowError {
        stage: e.stage,
        code: Some(e.code),
        code_name: Some(e.code_name.to_string()),
        message: e.message,
    }
}

fn stage_report(index: usize, f: &StageFlow) -> StageReport {
    StageReport {
        index,
        name: f.name.clone(),
        ran: true,
        docs_in: f.docs_in,
        docs_out: f.docs_out,
        examined: f.examined,
        ms: f.ms,
        sample: f.sample.iter().map(ejson).collect(),
        sample_text: f
            .sample
            .iter()
            .map(|d| inspect(&Value::Document(d.clone()), Options::VALUE))
            .collect(),
    }
}

fn ejson(doc: &Document) -> String {
    let mut s = String::new();
    write_ejson_doc(&mut s, doc);
    s
}

fn not_run(names: &[String], from: usize) -> Vec<StageReport> {
    names
        .iter()
        .enumerate()
        .skip(from)
        .map(|(index, name)| StageReport {
            index,
            name: name.clone(),
            ran: false,
            docs_in: 0,
            docs_out: 0,
            examined: 0,
            ms: None,
            sample: Vec::new(),
            sample_text: Vec::new(),
        })
        .collect()
}

/// A stage's name as the student wrote it, or a placeholder for a malformed stage (the
/// error message says what is wrong with it).
fn stage_name(spec: &Value) -> String {
    match spec {
        Value::Document(d) => match d.first() {
            Some((name, _)) => name.clone(),
            None => "(empty stage)".into(),
        },
        _ => "(not a stage)".into(),
    }
}

struct AggregateCall {
    /// `None` for `db.aggregate(...)`.
    coll: Option<String>,
    args: Vec<Expr>,
}

fn recognise(src: &str) -> Option<AggregateCall> {
    // The call is named in the source as written: without the word there is none, and a
    // pasted ten-megabyte insertMany is not lexed and parsed a second time to learn it.
    if !src.contains("aggregate") {
        return None;
    }
    let tokens = tokenize(src).ok()?;
    let stmts = parse(src, &tokens).ok()?;
    let mut real = stmts.iter().filter(|s| !matches!(s.kind, StmtKind::Empty));
    let stmt = real.next()?;
    if real.next().is_some() {
        return None;
    }
    let StmtKind::Expr(expr) = &stmt.kind else {
        return None;
    };
    let mut e = expr;
    // `.toArray()` and `.pretty()` only change how the cursor prints.
    if let Expr::Call { callee, args } = e {
        if let Expr::Member { object, name, .. } = callee.as_ref() {
            if args.is_empty() && matches!(name.as_str(), "toArray" | "pretty") {
                e = object;
            }
        }
    }
    let Expr::Call { callee, args } = e else {
        return None;
    };
    let Expr::Member { object, name, .. } = callee.as_ref() else {
        return None;
    };
    if name != "aggregate" {
        return None;
    }
    let coll = match object.as_ref() {
        Expr::Ident { name, .. } if name == "db" => None,
        Expr::Member { object, name, .. } if is_db(object) => Some(name.clone()),
        Expr::Index { object, index, .. } if is_db(object) => match index.as_ref() {
            Expr::Str(s) => Some(s.clone()),
            _ => return None,
        },
        Expr::Call { callee, args } => match (callee.as_ref(), args.as_slice()) {
            (Expr::Member { object, name, .. }, [Expr::Str(s)])
                if is_db(object) && name == "getCollection" =>
            {
                Some(s.clone())
            }
            _ => return None,
        },
        _ => return None,
    };
    Some(AggregateCall {
        coll,
        args: args.clone(),
    })
}

fn is_db(e: &Expr) -> bool {
    matches!(e, Expr::Ident { name, .. } if name == "db")
}

/// Whether evaluating `e` can only read (see the module doc). `depth` guards the walk the
/// way the parser guards nesting.
pub(crate) fn pure(e: &Expr, builtin: &dyn Fn(&str) -> bool, depth: usize) -> bool {
    if depth > super::shell::parser::MAX_DEPTH * 2 {
        return false;
    }
    let p = |x: &Expr| pure(x, builtin, depth + 1);
    match e {
        Expr::Num(_)
        | Expr::Str(_)
        | Expr::Bool(_)
        | Expr::Null
        | Expr::Undefined
        | Expr::Regex { .. }
        | Expr::Value(_)
        | Expr::Ident { .. } => true,
        Expr::Array(items) | Expr::Seq(items) => items.iter().all(p),
        Expr::Object(props) => props.iter().all(|prop| match prop {
            Prop::Field(_, v) | Prop::Spread(v) => p(v),
            Prop::Computed(k, v) => p(k) && p(v),
        }),
        Expr::Template { exprs, .. } => exprs.iter().all(p),
        Expr::Member { object, .. } => p(object),
        Expr::Index { object, index, .. } => p(object) && p(index),
        Expr::Spread(x) | Expr::Neg(x) | Expr::Plus(x) | Expr::Not(x) => p(x),
        Expr::Unary { op, arg } => *op != "delete" && p(arg),
        Expr::Binary { left, right, .. } | Expr::Logical { left, right, .. } => p(left) && p(right),
        Expr::Cond {
            test,
            then,
            otherwise,
        } => p(test) && p(then) && p(otherwise),
        Expr::Call { callee, args } | Expr::New { callee, args } => {
            let constructor = match callee.as_ref() {
                Expr::Ident { name, .. } => PURE_CALLS.contains(&name.as_str()) && builtin(name),
                // Math.random draws from the session's generator, so a second run would differ.
                Expr::Member { object, name, .. } => {
                    matches!(object.as_ref(), Expr::Ident { name: m, .. } if m == "Math" && builtin(m))
                        && name != "random"
                }
                _ => false,
            };
            // A bare ObjectId() draws from the session's id counter.
            let draws_id = matches!(
                callee.as_ref(),
                Expr::Ident { name, .. } if name == "ObjectId"
            ) && args.is_empty();
            constructor && !draws_id && args.iter().all(p)
        }
        Expr::Assign { .. } | Expr::Update { .. } | Expr::Function(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell_with_docs() -> Shell {
        let mut sh = Shell::new();
        sh.eval_mongosh(
            r#"db.s.insertMany([{k: "a", n: 1}, {k: "a", n: 2}, {k: "b", n: 3}, {k: "b", n: 4}, {k: "c", n: 5}])"#,
            0,
        );
        sh
    }

    #[test]
    fn counts_per_stage() {
        let mut sh = shell_with_docs();
        let r = flow(
            &mut sh,
            r#"db.s.aggregate([{$match: {n: {$lte: 3}}}, {$group: {_id: "$k", t: {$sum: "$n"}}}, {$sort: {_id: 1}}])"#,
            0,
            &|| 1.0,
        );
        assert!(r.aggregate && r.ran && r.error.is_none());
        let counts: Vec<(usize, usize)> =
            r.stages.iter().map(|s| (s.docs_in, s.docs_out)).collect();
        assert_eq!(counts, vec![(5, 3), (3, 2), (2, 2)]);
        assert_eq!(
            r.stages[2].sample,
            vec![r#"{"_id": "a", "t": 3}"#, r#"{"_id": "b", "t": 3}"#]
        );
        assert_eq!(r.stages[0].ms, Some(0.0));
        assert_eq!(r.result_count, Some(2));
    }

    #[test]
    fn failing_stage_keeps_earlier_stages() {
        let mut sh = shell_with_docs();
        let r = flow(
            &mut sh,
            "db.s.aggregate([{$match: {}}, {$foo: 1}, {$limit: 1}])",
            0,
            &|| 0.0,
        );
        let e = r.error.expect("error");
        assert_eq!(e.stage, Some(1));
        assert!(
            e.message.contains("Unrecognized pipeline stage name"),
            "{}",
            e.message
        );
        assert_eq!(r.stages.len(), 3);
        assert!(r.stages[0].ran && !r.stages[1].ran && !r.stages[2].ran);
        assert_eq!(r.stages[0].docs_out, 5);
    }

    #[test]
    fn writes_and_side_effects_are_not_repeated() {
        let mut sh = shell_with_docs();
        let r = flow(
            &mut sh,
            r#"db.s.aggregate([{$match: {}}, {$out: "t"}])"#,
            0,
            &|| 0.0,
        );
        assert!(r.aggregate && !r.ran && r.note.is_some());
        assert!(sh.store().collection("test", "t").is_none());
        sh.eval_mongosh("let i = 0", 0);
        let r = flow(&mut sh, "db.s.aggregate([{$limit: i++}])", 0, &|| 0.0);
        assert!(!r.ran && r.note.is_some());
        assert_eq!(sh.eval_mongosh("i", 0), "0\n");
        sh.eval_mongosh("function ISODate(s) { i++; return s }", 0);
        let r = flow(
            &mut sh,
            "db.s.aggregate([{$match: {d: ISODate('x')}}])",
            0,
            &|| 0.0,
        );
        assert!(!r.ran && r.note.is_some());
        let r = flow(
            &mut sh,
            "db.s.aggregate([{$limit: Math.max(1, 2)}])",
            0,
            &|| 0.0,
        );
        assert!(r.ran && r.result_count == Some(2));
        let r = flow(
            &mut sh,
            "db.s.aggregate([{$limit: Math.random()}])",
            0,
            &|| 0.0,
        );
        assert!(!r.ran);
        assert_eq!(sh.eval_mongosh("i", 0), "0\n");
    }

    #[test]
    fn odd_input_gives_a_report_not_a_panic() {
        let mut sh = shell_with_docs();
        let deep = format!("db.s.aggregate({}{})", "[".repeat(400), "]".repeat(400));
        let deep_doc = format!(
            "db.s.aggregate([{{$match: {}1{}}}])",
            "{a: ".repeat(110),
            "}".repeat(110)
        );
        for src in [
            deep.as_str(),
            deep_doc.as_str(),
            "db.s.aggregate(1)",
            "db.s.aggregate([1, 2])",
            "db.s.aggregate([{}])",
            "db.s.aggregate([{$group: {}}])",
            "db.aggregate([{$match: {}}])",
            "db.s.aggregate([{$out: 'x'}, {$match: {}}])",
            "db.s.aggregate([{$project: {x: {$divide: [1, 0]}}}])",
            "db.s.aggregate(...[[{$limit: 1}]])",
            "db[1].aggregate([])",
            "db.s.aggregate([{$match: {$where: 'x'}}], {flow: true})",
        ] {
            let r = flow(&mut sh, src, 0, &|| f64::NAN);
            assert!(serde_json::to_string(&r).is_ok(), "{src}");
        }
        assert!(sh.store().collection("test", "x").is_none());
    }

    #[test]
    fn recognises_only_aggregate_statements() {
        let mut sh = shell_with_docs();
        for src in [
            "db.s.find()",
            "1 +",
            "db.s.aggregate([]); db.s.find()",
            "",
            "x.aggregate([])",
        ] {
            assert!(!flow(&mut sh, src, 0, &|| 0.0).aggregate, "{src}");
        }
        for src in [
            "db.s.aggregate([{$count: 'n'}]).toArray()",
            "db['s'].aggregate({$count: 'n'})",
            "db.getCollection('s').aggregate([{$count: 'n'}]);",
        ] {
            let r = flow(&mut sh, src, 0, &|| 0.0);
            assert_eq!(r.result_count, Some(1), "{src}");
        }
        let r = flow(&mut sh, "db.s.aggregate(nope)", 0, &|| 0.0);
        assert!(r.error.is_some_and(|e| e.message.contains("nope")));
    }
}
