//! The aggregation pipeline: stages, expressions and accumulators, each one function per
//! operator registered in a per-kind table (`stages::STAGES`, `expr::OPERATORS`,
//! `accum::ACCUMULATORS`).
//!
//! A pipeline compiles once (every stage, every expression inside it) and then runs as a
//! sequence of transforms over a vector of rows. Rows are `Cow`s: documents read from the
//! store stay borrowed through `$match`, `$sort`, `$skip`, `$limit` and `$group`'s reads, and
//! are copied only when a stage builds a new document.
//!
//! `run_with_flow` runs the same pipeline in "explain the flow" mode: for every stage it
//! records the number of documents in and out, a work counter (documents examined, including
//! those a `$lookup` reads from the other collection), and the first N documents out, in the
//! one pass that computes the result. Timing: the core never reads a clock, so the host may
//! pass a timer (`&dyn Fn() -> f64`, milliseconds) whose readings around each stage fill
//! `StageFlow::ms`; without one, `ms` stays `None`.

pub mod accum;
pub mod date;
pub mod expr;
mod lookup;
pub mod shell;
pub mod stages;
pub mod window;

use std::borrow::Cow;
use std::cell::Cell;

use crate::mongo::store::{Collection, Store};
use crate::mongo::value::{Document, Value};

/// A row flowing between stages: borrowed from the store until a stage rewrites it.
pub type Row<'a> = Cow<'a, Document>;

/// Nesting beyond this depth (expressions inside expressions, pipelines inside `$lookup` or
/// `$facet`) is refused with an error instead of risking the stack.
pub const MAX_DEPTH: usize = 150;

/// An aggregation error as the server reports it: code, code name and message, plus the
/// index of the stage that failed (for the flow view).
#[derive(Debug, Clone, PartialEq)]
pub struct AggError {
    pub code: i32,
    pub code_name: &'static str,
    pub message: String,
    pub stage: Option<usize>,
}

impl AggError {
    pub fn new(code: i32, code_name: &'static str, message: impl Into<String>) -> Self {
        AggError {
            code,
            code_name,
            message: message.into(),
            stage: None,
        }
    }

    /// Prefixes the message the way the server wraps a nested failure.
    pub fn caused_by(mut self, context: &str) -> Self {
        self.message = format!("{context} :: caused by :: {}", self.message);
        self
    }
}

/// An error with a numeric code and no symbolic name: mongosh shows it as `Location<code>`.
#[macro_export]
macro_rules! agg_err {
    ($code:literal, $($fmt:tt)*) => {
        $crate::mongo::agg::AggError::new($code, concat!("Location", stringify!($code)), format!($($fmt)*))
    };
}

/// The server's `BSONDepth::kDefaultMaxAllowableDepth`: a field path of more parts is refused.
pub const MAX_FIELD_PATH_PARTS: usize = 200;

/// Whether a dotted path has more parts than the server's FieldPath takes. Refusing it is
/// also what keeps a pasted path thousands of parts deep from costing time quadratic in its
/// depth.
pub fn field_path_too_deep(path: &str) -> bool {
    path.bytes().filter(|&b| b == b'.').count() >= MAX_FIELD_PATH_PARTS
}

pub fn field_path_too_long() -> AggError {
    AggError::new(15, "Overflow", "FieldPath is too long")
}

pub fn bad_value(message: impl Into<String>) -> AggError {
    AggError::new(2, "BadValue", message)
}

pub fn type_mismatch(message: impl Into<String>) -> AggError {
    AggError::new(14, "TypeMismatch", message)
}

pub fn failed_to_parse(message: impl Into<String>) -> AggError {
    AggError::new(9, "FailedToParse", message)
}

/// What a pipeline runs against: the store (read only while stages run), the database,
/// the sandbox time, variables in scope, a seeded random source and the work counter.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub db: &'a str,
    pub now_ms: i64,
    pub vars: Vec<(String, Value)>,
    pub rng: &'a Cell<u64>,
    pub examined: &'a Cell<u64>,
    pub depth: usize,
}

impl<'a> Ctx<'a> {
    /// A context for a nested pipeline with extra variables.
    pub fn nested(&self, vars: Vec<(String, Value)>) -> Result<Ctx<'a>, AggError> {
        if self.depth >= MAX_DEPTH {
            return Err(depth_error());
        }
        Ok(Ctx {
            store: self.store,
            db: self.db,
            now_ms: self.now_ms,
            vars,
            rng: self.rng,
            examined: self.examined,
            depth: self.depth + 1,
        })
    }

    pub fn count(&self, n: usize) {
        self.examined
            .set(self.examined.get().saturating_add(n as u64));
    }

    /// The next number of a splitmix64 sequence: reproducible for a given seed.
    pub fn random(&self) -> u64 {
        let x = self.rng.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.rng.set(x);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

pub fn depth_error() -> AggError {
    agg_err!(
        6050100,
        "pipeline or expression nesting is deeper than this sandbox allows ({MAX_DEPTH} levels)"
    )
}

/// What one stage did, for the flow view.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFlow {
    /// The stage's name, `$match`, `$group`, …
    pub name: String,
    pub docs_in: usize,
    pub docs_out: usize,
    /// Documents the stage looked at, its own input plus any read from other collections.
    pub examined: u64,
    /// Milliseconds, when the host passed a timer.
    pub ms: Option<f64>,
    /// The first documents the stage produced.
    pub sample: Vec<Document>,
}

/// Where the documents come from: a collection, or nothing (`db.aggregate`, which needs a
/// `$documents` first stage).
#[derive(Debug, Clone, Copy)]
pub enum Source<'s> {
    Collection(&'s str),
    Database,
}

/// Runs `pipeline` over `db.coll` at sandbox time `now_ms`.
pub fn run(
    store: &mut Store,
    db: &str,
    coll: &str,
    pipeline: &[Value],
    now_ms: u64,
) -> Result<Vec<Document>, AggError> {
    run_source(
        store,
        db,
        Source::Collection(coll),
        pipeline,
        now_ms,
        None,
        None,
    )
    .map(|r| r.0)
}

/// Runs `pipeline` and reports every stage's flow (see the module doc): counts, the work
/// counter and the first `sample_n` documents each stage produced. An error carries the
/// index of the failing stage in `AggError::stage`.
pub fn run_with_flow(
    store: &mut Store,
    db: &str,
    coll: &str,
    pipeline: &[Value],
    now_ms: u64,
    sample_n: usize,
    timer: Option<&dyn Fn() -> f64>,
) -> Result<(Vec<Document>, Vec<StageFlow>), AggError> {
    let (docs, flow) = run_source(
        store,
        db,
        Source::Collection(coll),
        pipeline,
        now_ms,
        Some(sample_n),
        timer,
    )?;
    Ok((docs, flow.unwrap_or_default()))
}

/// The general entry: any source, flow recorded when `sample_n` is given.
pub fn run_source(
    store: &mut Store,
    db: &str,
    source: Source<'_>,
    pipeline: &[Value],
    now_ms: u64,
    sample_n: Option<usize>,
    timer: Option<&dyn Fn() -> f64>,
) -> Result<(Vec<Document>, Option<Vec<StageFlow>>), AggError> {
    // A leading `$geoNear`, or `$match` with `$text`, reads through its index here: the
    // stage is then compiled as a pass-through, so stage numbers stay those of the pipeline.
    let (prepared, rewritten) = match source {
        Source::Collection(coll) => {
            leading_index_stage(store.collection(db, coll), pipeline, now_ms as i64)?
        }
        Source::Database => (None, None),
    };
    let pipeline = rewritten.as_deref().unwrap_or(pipeline);
    let compiled = stages::compile_pipeline(pipeline, &[], 0, true)?;
    if matches!(source, Source::Database) {
        let first_is_documents = compiled
            .stages
            .first()
            .is_some_and(|s| s.name == "$documents");
        if !first_is_documents {
            return Err(bad_value(
                "$documents must be the first stage of a db.aggregate() pipeline in this sandbox",
            ));
        }
    }
    let rng = Cell::new(now_ms ^ 0x5eed_0f5a_3b1e_u64);
    let examined = Cell::new(0u64);
    let (docs, flow): (Vec<Document>, Option<Vec<StageFlow>>) = {
        let ctx = Ctx {
            store,
            db,
            now_ms: now_ms as i64,
            vars: Vec::new(),
            rng: &rng,
            examined: &examined,
            depth: 0,
        };
        // A whole collection with no index to read through goes to the pipeline as the
        // collection's own slice, which its first stage may read without a list of rows.
        let mut whole: Option<&Collection> = None;
        let input: Vec<Row<'_>> = match source {
            Source::Collection(_) if prepared.is_some() => prepared
                .as_ref()
                .map(|docs| docs.iter().map(Cow::Borrowed).collect())
                .unwrap_or_default(),
            Source::Collection(coll) => store
                .collection(db, coll)
                .map(|c| {
                    // A leading $match reads through an index when one serves it; the stage
                    // still runs, so the answer is the same either way. The flow view keeps
                    // the whole collection as the stage's input, as the pipeline defines it.
                    let leading_match = match pipeline.first().filter(|_| sample_n.is_none()) {
                        Some(Value::Document(stage)) if stage.len() == 1 => {
                            match stage.get("$match") {
                                Some(Value::Document(filter)) => Some(filter),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    match leading_match.and_then(|f| {
                        crate::mongo::index::plan::indexed_matches(c, f, now_ms as i64)
                    }) {
                        Some(positions) => positions
                            .into_iter()
                            .filter_map(|i| c.docs.get(i).map(Cow::Borrowed))
                            .collect(),
                        None if sample_n.is_none() => {
                            whole = Some(c);
                            Vec::new()
                        }
                        None => c.docs.iter().map(Cow::Borrowed).collect(),
                    }
                })
                .unwrap_or_default(),
            Source::Database => Vec::new(),
        };
        match sample_n {
            None => {
                let rows = match whole {
                    Some(coll) => compiled.run_documents(coll, &ctx)?,
                    None => compiled.run(input, &ctx)?,
                };
                (rows.into_iter().map(Cow::into_owned).collect(), None)
            }
            Some(n) => {
                let mut flows = Vec::with_capacity(compiled.stages.len());
                let mut rows = input;
                for (i, stage) in compiled.stages.iter().enumerate() {
                    let docs_in = rows.len();
                    examined.set(docs_in as u64);
                    let start = timer.map(|t| t());
                    rows = stage.op.run(rows, &ctx).map_err(|mut e| {
                        e.stage = Some(i);
                        e
                    })?;
                    let ms = match (timer, start) {
                        (Some(t), Some(s)) => Some((t() - s).max(0.0)),
                        _ => None,
                    };
                    flows.push(StageFlow {
                        name: stage.name.clone(),
                        docs_in,
                        docs_out: rows.len(),
                        examined: examined.get(),
                        ms,
                        sample: rows
                            .iter()
                            .take(n)
                            .map(|r| without_hidden(r.as_ref().clone()))
                            .collect(),
                    });
                }
                (rows.into_iter().map(Cow::into_owned).collect(), Some(flows))
            }
        }
    };
    let mut docs = docs;
    if prepared.is_some() {
        docs = docs.into_iter().map(without_hidden).collect();
    }
    if let Some(write) = &compiled.write {
        write.apply(store, db, &docs, now_ms as i64)?;
        // $out and $merge return no documents.
        return Ok((Vec::new(), flow));
    }
    Ok((docs, flow))
}

pub mod ops;

/// A document without the scores a leading `$text` match or search stage keeps in hidden
/// fields for `{ $meta: … }`.
fn without_hidden(mut d: Document) -> Document {
    d.shift_remove(crate::mongo::index::text::SCORE_FIELD);
    for hidden in crate::mongo::search::stage::HIDDEN_FIELDS {
        d.shift_remove(*hidden);
    }
    d
}

/// The documents a leading `$geoNear` or `{ $match: { $text } }` produces through its index,
/// and the pipeline with that stage made a pass-through (`$geoNear` marked as prepared,
/// `$match` emptied).
#[allow(clippy::type_complexity)]
fn leading_index_stage(
    coll: Option<&crate::mongo::store::Collection>,
    pipeline: &[Value],
    now_ms: i64,
) -> Result<(Option<Vec<Document>>, Option<Vec<Value>>), AggError> {
    let Some(Value::Document(first)) = pipeline.first() else {
        return Ok((None, None));
    };
    let (Some((name, arg)), 1) = (first.iter().next(), first.len()) else {
        return Ok((None, None));
    };
    let (docs, replacement) = match (name.as_str(), arg) {
        ("$geoNear", spec) => {
            let docs = crate::mongo::index::geo::geo_near_stage(coll, spec, now_ms)
                .map_err(|e| AggError::new(e.code, e.code_name, e.message))?;
            let mut marker = Document::default();
            marker.insert(stages::PREPARED_GEO_NEAR.into(), Value::Bool(true));
            (docs, ("$geoNear", marker))
        }
        ("$match", Value::Document(filter)) if filter.contains_key("$text") => {
            let docs = crate::mongo::index::text::aggregate_source(coll, filter, now_ms)
                .map_err(|e| AggError::new(e.code, e.code_name, e.message))?;
            (docs, ("$match", Document::default()))
        }
        (search, spec) if crate::mongo::search::stage::STAGES.contains(&search) => {
            let docs = crate::mongo::search::stage::leading(coll, search, spec, now_ms)?;
            let mut marker = Document::default();
            marker.insert(
                crate::mongo::search::stage::PREPARED.into(),
                Value::Bool(true),
            );
            (docs, (search, marker))
        }
        _ => return Ok((None, None)),
    };
    let mut rewritten = pipeline.to_vec();
    let mut stage = Document::default();
    stage.insert(replacement.0.into(), Value::Document(replacement.1));
    rewritten[0] = Value::Document(stage);
    Ok((Some(docs), Some(rewritten)))
}

/// JSON text to a `Value` for table-driven unit tests (integers become Int32 when they fit).
#[cfg(test)]
pub(crate) mod tests_support {
    use crate::mongo::value::{Document, Value};

    pub fn parse(json: &str) -> Value {
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(v) => convert(&v),
            Err(_) => Value::String(format!("bad json: {json}")),
        }
    }

    fn convert(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => match i32::try_from(i) {
                    Ok(x) => Value::Int32(x),
                    Err(_) => Value::Int64(i),
                },
                None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
            serde_json::Value::Object(o) => {
                let mut d = Document::default();
                for (k, v) in o {
                    d.insert(k.clone(), convert(v));
                }
                Value::Document(d)
            }
        }
    }
}
