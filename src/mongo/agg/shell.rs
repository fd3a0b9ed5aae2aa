//! The mongosh face of the pipeline: `db.coll.aggregate(pipeline, options)` and
//! `db.aggregate(pipeline)`, printed as a cursor, plus the sandbox-only flow view.
//!
//! Flow view: `db.coll.aggregate([...], {flow: true})` prints, for every stage, its name,
//! documents in and out, the documents it examined, and its first documents out (three by
//! default; `flowSample: n` changes that). It is an option rather than a cursor method so
//! that it works wherever `aggregate` does, and a real server would reject the unknown
//! option loudly instead of silently differing.

use super::{run_source, AggError, Source, StageFlow};
use crate::mongo::format;
use crate::mongo::shell::ShellError;
use crate::mongo::store::Store;
use crate::mongo::value::{Document, Value};

impl From<AggError> for ShellError {
    fn from(e: AggError) -> Self {
        ShellError::server(e.code, Some(e.code_name), e.message)
    }
}

/// What an `aggregate` call gives the shell: the result documents, which become a cursor
/// (printed in batches, `it`, `toArray`, `forEach`), or the flow report to print as it is.
pub enum Aggregated {
    Docs(Vec<Document>),
    Flow(Value),
}

/// Runs `aggregate` with the shell's arguments; `coll` is `None` for `db.aggregate`.
pub fn aggregate(
    store: &mut Store,
    db: &str,
    coll: Option<&str>,
    args: &[Value],
    now_ms: u64,
    json: bool,
) -> Result<Aggregated, ShellError> {
    let (pipeline, options): (Vec<Value>, Option<&Document>) = match args.first() {
        Some(Value::Array(stages)) => (
            stages.clone(),
            match args.get(1) {
                Some(Value::Document(o)) => Some(o),
                _ => None,
            },
        ),
        // mongosh also takes the stages as separate arguments.
        Some(Value::Document(_)) => (args.to_vec(), None),
        None => (Vec::new(), None),
        Some(_) => {
            return Err(ShellError::server(
                14,
                Some("TypeMismatch"),
                "'pipeline' option must be specified as an array",
            ))
        }
    };
    let flow = options.is_some_and(|o| matches!(o.get("flow"), Some(Value::Bool(true))));
    let sample_n = options
        .and_then(|o| o.get("flowSample"))
        .and_then(super::ops::as_i64)
        .map_or(3, |n| n.clamp(0, 1000) as usize);
    if let Some(o) = options {
        if o.get("explain").is_some_and(super::expr::truthy) {
            return Err(ShellError::new(
                "MongoshUnimplementedError",
                "[COMMON-90002] aggregate explain is not supported in this sandbox yet; use {flow: true} to see every stage's output",
            ));
        }
    }
    let source = match coll {
        Some(c) => Source::Collection(c),
        None => Source::Database,
    };
    let (docs, flows) = run_source(
        store,
        db,
        source,
        &pipeline,
        now_ms,
        flow.then_some(sample_n),
        None,
    )
    .map_err(ShellError::from)?;
    Ok(match flows {
        Some(flows) => Aggregated::Flow(flow_value(&flows, docs.len(), json)),
        None => Aggregated::Docs(docs),
    })
}

/// The flow report: readable text for the console, structured data for JSON mode.
fn flow_value(flows: &[StageFlow], result_len: usize, json: bool) -> Value {
    if json {
        return Value::Array(
            flows
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let mut d = Document::default();
                    d.insert("stage".into(), Value::Int32(i as i32 + 1));
                    d.insert("name".into(), Value::String(f.name.clone()));
                    d.insert("docsIn".into(), Value::Int64(f.docs_in as i64));
                    d.insert("docsOut".into(), Value::Int64(f.docs_out as i64));
                    d.insert("examined".into(), Value::Int64(f.examined as i64));
                    d.insert(
                        "sample".into(),
                        Value::Array(f.sample.iter().cloned().map(Value::Document).collect()),
                    );
                    Value::Document(d)
                })
                .collect(),
        );
    }
    Value::String(flow_text(flows, result_len))
}

/// One block per stage: `Stage 2 $group: 7 in -> 3 out (examined 7)`, then its first
/// documents as mongosh prints a batch.
pub fn flow_text(flows: &[StageFlow], result_len: usize) -> String {
    let mut out = String::new();
    for (i, f) in flows.iter().enumerate() {
        out.push_str(&format!(
            "Stage {} {}: {} in -> {} out (examined {})\n",
            i + 1,
            f.name,
            f.docs_in,
            f.docs_out,
            f.examined
        ));
        if f.sample.is_empty() {
            out.push_str("  (no documents)\n");
        } else {
            let shown = format::inspect_documents(&f.sample);
            for line in shown.lines() {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
            if f.docs_out > f.sample.len() {
                out.push_str(&format!("  ... {} more\n", f.docs_out - f.sample.len()));
            }
        }
    }
    out.push_str(&format!(
        "Result: {result_len} document{}",
        if result_len == 1 { "" } else { "s" }
    ));
    out
}
