//! A printed aggregation that only reshapes or drops documents one at a time runs in
//! batches, as the server runs it: the `aggregate` computes the first batch (101 documents)
//! and every later batch is computed when `it`, `next()`, `forEach`, `toArray()` or
//! `itcount()` reaches it, as a getMore would. `db.c.aggregate([{ $match: {} }])` over a
//! million documents then reads 101 of them before it prints, not a million.
//!
//! Only pipelines made of `$match`, `$project`, `$addFields` / `$set`, `$unset`,
//! `$replaceRoot` / `$replaceWith`, `$skip` and `$limit` run so: each keeps at most one
//! output per input, in input order, so running them over the collection a batch at a time
//! gives the documents running them over all of it gives (`$skip` and `$limit` carry their
//! counts from batch to batch). Everything else (a `$sort`, `$group`, `$lookup`, `$out`,
//! the flow view, explain, a leading `$text`, a transaction's snapshot) is run
//! whole as before.
//!
//! Later batches read the collection as it is then, as a getMore's collection scan does:
//! a document deleted meanwhile is not returned, an updated one comes as updated, and
//! documents inserted after the `aggregate` are not reached (as `find`'s cursors, which
//! hold the record ids they found). An expression that fails on a document of a later batch
//! raises its error when that batch is computed, prefixed as the server prefixes a
//! getMore's error; the documents printed before it stay printed. (The server's getMore
//! fills up to 16 MB, so it may meet such a document sooner than a batch of 101 does.)

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use super::rows::{Rows, FIRST_BATCH};
use crate::mongo::agg::stages::{compile_pipeline, Pipeline, Window};
use crate::mongo::agg::{AggError, Ctx, Row};
use crate::mongo::index::RecordId;
use crate::mongo::shell::ShellError;
use crate::mongo::store::{Collection, Store};
use crate::mongo::value::{Document, Value};

/// The stages that keep at most one output per input document, in input order.
const STREAMING: &[&str] = &[
    "$match",
    "$project",
    "$addFields",
    "$set",
    "$unset",
    "$replaceRoot",
    "$replaceWith",
    "$skip",
    "$limit",
];

/// The rest of a pipeline's result, computed a batch at a time.
#[derive(Clone)]
pub(super) struct Stream {
    pipeline: Rc<Pipeline>,
    db: String,
    coll: String,
    /// As in `rows::Later`: record ids of a dropped and re-created collection name other
    /// documents, and the cursor ends.
    incarnation: u64,
    source: Source,
    /// For each `$skip` / `$limit` stage, what it still skips or lets through.
    left: Vec<usize>,
    now_ms: i64,
    rng: u64,
    done: bool,
}

#[derive(Clone)]
enum Source {
    /// The collection in natural order: the next record id to read, and the end (one past
    /// the last record id when the aggregate ran).
    Scan { next: RecordId, end: RecordId },
    /// What an index gave a leading `$match`, in index order.
    Ids(VecDeque<RecordId>),
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("ns", &format_args!("{}.{}", self.db, self.coll))
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// The stages of `aggregate`'s arguments when they can run in batches: a pipeline of
/// streaming stages only, with no option that asks for another kind of answer.
fn streaming_pipeline(args: &[Value]) -> Option<Vec<Value>> {
    let stages = match args.first() {
        Some(Value::Array(stages)) => {
            if let Some(Value::Document(o)) = args.get(1) {
                if ["flow", "flowSample", "explain"]
                    .iter()
                    .any(|k| o.contains_key(*k))
                {
                    return None;
                }
            }
            stages.clone()
        }
        Some(Value::Document(_)) => args.to_vec(),
        _ => return None,
    };
    for (i, stage) in stages.iter().enumerate() {
        let Value::Document(d) = stage else {
            return None;
        };
        let (Some((name, arg)), 1) = (d.first(), d.len()) else {
            return None;
        };
        if !STREAMING.contains(&name.as_str()) {
            return None;
        }
        // A leading `$text` reads through its index and scores the documents first.
        if i == 0 && matches!(arg, Value::Document(f) if f.contains_key("$text")) {
            return None;
        }
    }
    Some(stages)
}

/// A cursor over `db.coll.aggregate(args)` with its first batch computed, or None when
/// the pipeline must run whole (see the module doc).
pub(in crate::mongo::shell) fn open(
    store: &Store,
    db: &str,
    coll: &str,
    args: &[Value],
    now_ms: u64,
) -> Result<Option<Rows>, ShellError> {
    let Some(c) = store.collection(db, coll) else {
        return Ok(None);
    };
    if coll.starts_with(crate::mongo::timeseries::BUCKETS_PREFIX) || c.options.timeseries.is_some()
    {
        return Ok(None);
    }
    let Some(stages) = streaming_pipeline(args) else {
        return Ok(None);
    };
    let pipeline = compile_pipeline(&stages, &[], 0, true)?;
    let now = now_ms as i64;
    // As the whole run does: a leading `$match` reads through an index that serves it, in
    // the index's order, and the stage still runs over what the index gave.
    let leading = match stages.first() {
        Some(Value::Document(stage)) => match stage.get("$match") {
            Some(Value::Document(filter)) => Some(filter),
            _ => None,
        },
        _ => None,
    };
    let source = match leading.and_then(|f| crate::mongo::index::plan::indexed_matches(c, f, now)) {
        Some(positions) => {
            let rids = c.record_ids();
            Source::Ids(
                positions
                    .into_iter()
                    .filter_map(|p| rids.get(p).copied())
                    .collect(),
            )
        }
        None => Source::Scan {
            next: 0,
            end: c.record_ids().last().map_or(0, |r| r.saturating_add(1)),
        },
    };
    let left = pipeline
        .stages
        .iter()
        .map(|s| match s.op.window() {
            Some(Window::Skip(n) | Window::Limit(n)) => n,
            None => 0,
        })
        .collect();
    let mut stream = Stream {
        pipeline: Rc::new(pipeline),
        db: db.to_string(),
        coll: coll.to_string(),
        incarnation: c.incarnation(),
        source,
        left,
        now_ms: now,
        rng: now_ms ^ 0x5eed_0f5a_3b1e_u64,
        done: false,
    };
    let first = stream.fetch(store, FIRST_BATCH)?;
    Ok(Some(Rows::streamed(first, stream)))
}

impl Stream {
    pub fn done(&self) -> bool {
        self.done
    }

    /// The next batch, as a getMore computes it.
    pub fn get_more(&mut self, store: &Store, n: usize) -> Result<Vec<Document>, ShellError> {
        self.fetch(store, n).map_err(getmore_error)
    }

    /// Runs the rest of the pipeline and counts its documents, copying none.
    pub fn count_rest(&mut self, store: &Store) -> Result<usize, ShellError> {
        let mut n = 0;
        self.each(store, usize::MAX, |_| n += 1)
            .map_err(getmore_error)?;
        Ok(n)
    }

    /// At least `n` more documents of the result (fewer at its end).
    fn fetch(&mut self, store: &Store, n: usize) -> Result<Vec<Document>, AggError> {
        // Sized once rather than grown by doubling while the documents are copied: a
        // whole `toArray` measured a few per cent faster so.
        let mut out = Vec::with_capacity(n.min(FIRST_BATCH * 64));
        self.each(store, n, |r| out.push(r.into_owned()))?;
        Ok(out)
    }

    /// Hands `emit` at least `n` more documents of the result (fewer at its end); reads
    /// only as many documents of the collection as that takes.
    fn each(
        &mut self,
        store: &Store,
        n: usize,
        mut emit: impl FnMut(Row<'_>),
    ) -> Result<(), AggError> {
        let mut produced = 0usize;
        while produced < n && !self.done {
            let Some(c) = store
                .collection(&self.db, &self.coll)
                .filter(|c| c.incarnation() == self.incarnation)
            else {
                self.done = true;
                break;
            };
            // A count reads in slices, not the whole collection's rows at once.
            let mut rows = self.source.read(c, (n - produced).min(FIRST_BATCH * 64));
            if rows.is_empty() {
                self.done = true;
                break;
            }
            let rng = Cell::new(self.rng);
            let examined = Cell::new(0u64);
            let ctx = Ctx {
                store,
                db: &self.db,
                now_ms: self.now_ms,
                vars: Vec::new(),
                rng: &rng,
                examined: &examined,
                depth: 0,
            };
            for (stage, left) in self.pipeline.stages.iter().zip(self.left.iter_mut()) {
                rows = match stage.op.window() {
                    Some(Window::Skip(_)) => {
                        let k = (*left).min(rows.len());
                        rows.drain(..k);
                        *left -= k;
                        rows
                    }
                    Some(Window::Limit(_)) => {
                        rows.truncate(*left);
                        *left -= rows.len();
                        if *left == 0 {
                            // Nothing read from here on can get past this stage.
                            self.done = true;
                        }
                        rows
                    }
                    None => stage.op.run(rows, &ctx)?,
                };
            }
            self.rng = rng.get();
            produced += rows.len();
            rows.into_iter().for_each(&mut emit);
        }
        Ok(())
    }
}

fn getmore_error(e: AggError) -> ShellError {
    ShellError::server(
        e.code,
        Some(e.code_name),
        format!(
            "{} :: caused by :: {}",
            super::rows::GETMORE_FAILED,
            e.message
        ),
    )
}

impl Source {
    /// Up to `n` documents, from where the last read stopped; skips those gone since.
    fn read<'c>(&mut self, c: &'c Collection, n: usize) -> Vec<Row<'c>> {
        let mut rows = Vec::with_capacity(n);
        match self {
            Source::Scan { next, end } => {
                let rids = c.record_ids();
                let mut pos = rids.partition_point(|r| r < next);
                while rows.len() < n {
                    match (rids.get(pos), c.docs.get(pos)) {
                        (Some(&rid), Some(d)) if rid < *end => {
                            rows.push(Cow::Borrowed(d));
                            *next = rid.saturating_add(1);
                            pos += 1;
                        }
                        _ => break,
                    }
                }
            }
            Source::Ids(ids) => {
                while rows.len() < n {
                    let Some(rid) = ids.pop_front() else {
                        break;
                    };
                    if let Some(d) = c.position_of(rid).and_then(|p| c.docs.get(p)) {
                        rows.push(Cow::Borrowed(d));
                    }
                }
            }
        }
        rows
    }
}
