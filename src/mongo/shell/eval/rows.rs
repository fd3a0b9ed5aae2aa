//! What a started cursor has left to yield.
//!
//! A find answers with its first batch (101 documents, as the server's first batch) copied;
//! the rest stay in the collection, held by record id in result order, and each is copied
//! and projected only when it is read. That is also what a server's getMore does: it reads
//! the collection as it is then, so a document deleted meanwhile is skipped, an updated one
//! comes as updated, and one updated so that the filter no longer matches is left out. A
//! printed `find()` over a million documents copies the 101 of its first batch, not a million.
//!
//! Cursors that must see a snapshot (a transaction's reads) or whose collection lasts one
//! input (a time series collection's buckets) are given all their documents copied.

use std::collections::VecDeque;

use super::super::collection::run_error;
pub(super) use super::super::collection::FIND_FAILED;
use super::super::ShellError;
use super::pipeline_rows::Stream;
use crate::mongo::index::RecordId;
use crate::mongo::query::projection::Projection;
use crate::mongo::query::Filter;
use crate::mongo::store::{Collection, Store};
use crate::mongo::value::{Document, Value};

/// The documents a find's first batch holds, as the server sends them with the find.
pub(in crate::mongo::shell) const FIRST_BATCH: usize = 101;

pub(super) const GETMORE_FAILED: &str = "Executor error during getMore";

#[cfg(test)]
thread_local! {
    /// Makes every cursor copy all its documents when it starts, as cursors did before
    /// `Rows` kept record ids: tests compare the two.
    pub(in crate::mongo) static COPY_ALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub(in crate::mongo::shell) fn copy_all() -> bool {
    #[cfg(test)]
    return COPY_ALL.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

/// How a cursor makes the document it yields from a stored one.
#[derive(Debug)]
pub(in crate::mongo::shell) struct Shape {
    /// The compiled filter: for the positional projection, and to test a document written
    /// since the find again.
    pub filter: Filter,
    pub projection: Option<Projection>,
    /// Fields given `{ $meta: "textScore" }`, added after the projection.
    pub score_fields: Vec<String>,
}

impl Shape {
    pub fn apply(&self, doc: &Document, score: f64, failed: &str) -> Result<Document, ShellError> {
        let mut out = match &self.projection {
            None => doc.clone(),
            Some(p) => p
                .try_apply(doc, Some(&self.filter))
                .map_err(|e| run_error(e, failed))?,
        };
        for f in &self.score_fields {
            out.insert(f.clone(), Value::Double(score));
        }
        Ok(out)
    }
}

/// A find run up to the point where documents would be copied.
pub(in crate::mongo::shell) struct Found {
    /// Positions in the collection's `docs`, in result order.
    pub positions: Vec<usize>,
    /// The text score of each (empty when no field asks for it).
    pub scores: Vec<f64>,
    pub shape: Shape,
}

impl Found {
    pub fn score(&self, i: usize) -> f64 {
        self.scores.get(i).copied().unwrap_or(0.0)
    }
}

/// A started cursor's documents: those fetched, then those still in the collection.
#[derive(Debug, Default)]
pub(in crate::mongo::shell) struct Rows {
    ready: VecDeque<Document>,
    later: Option<Box<Later>>,
    /// An aggregation computed a batch at a time (`pipeline_rows`).
    stream: Option<Box<Stream>>,
}

/// The documents of a cursor not fetched yet, by record id.
#[derive(Debug)]
struct Later {
    db: String,
    coll: String,
    /// The collection's incarnation when the find ran: record ids of a collection dropped
    /// and created again name other documents.
    incarnation: u64,
    /// The collection's write count when the find ran: while it is unchanged, every
    /// document still matches and needs no second test.
    writes: u64,
    rids: VecDeque<RecordId>,
    scores: VecDeque<f64>,
    shape: Shape,
    /// Whether a written document is tested against the filter again (not for `$text`
    /// and `$near`, which only an index answers).
    recheck: bool,
}

impl Rows {
    /// A cursor over documents already copied.
    pub fn copied(docs: Vec<Document>) -> Rows {
        Rows {
            ready: docs.into(),
            later: None,
            stream: None,
        }
    }

    /// A cursor over an aggregation's first batch, the rest computed as it is read.
    pub(super) fn streamed(first: Vec<Document>, stream: Stream) -> Rows {
        Rows {
            ready: first.into(),
            later: None,
            stream: Some(Box::new(stream)),
        }
    }

    /// Copies a find's first batch and keeps the record ids of the rest.
    pub fn open(store: &Store, db: &str, coll: &str, found: Found) -> Result<Rows, ShellError> {
        let Some(c) = store.collection(db, coll) else {
            return Ok(Rows::default());
        };
        let first = found.positions.len().min(FIRST_BATCH);
        let mut ready = VecDeque::with_capacity(first);
        for (i, &pos) in found.positions.iter().take(first).enumerate() {
            if let Some(d) = c.docs.get(pos) {
                ready.push_back(found.shape.apply(d, found.score(i), FIND_FAILED)?);
            }
        }
        let Some(rest) = found.positions.get(first..).filter(|r| !r.is_empty()) else {
            return Ok(Rows {
                ready,
                later: None,
                stream: None,
            });
        };
        let record_ids = c.record_ids();
        let rids = rest
            .iter()
            .filter_map(|&p| record_ids.get(p).copied())
            .collect();
        let scores = found
            .scores
            .get(first..)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        let recheck = found.shape.filter.text().is_none() && found.shape.filter.near().is_none();
        Ok(Rows {
            ready,
            later: Some(Box::new(Later {
                db: db.to_string(),
                coll: coll.to_string(),
                incarnation: c.incarnation(),
                writes: c.writes(),
                rids,
                scores,
                shape: found.shape,
                recheck,
            })),
            stream: None,
        })
    }

    /// Whether nothing is left, not even record ids whose documents may be gone by now.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
            && self.later.as_ref().is_none_or(|l| l.rids.is_empty())
            && self.stream.as_ref().is_none_or(|s| s.done())
    }

    /// How many documents are left at most (some may be gone by the time they are read);
    /// None while an aggregation computes them as they are read.
    pub fn pending(&self) -> Option<usize> {
        if self.stream.is_some() {
            return None;
        }
        Some(self.ready.len() + self.later.as_ref().map_or(0, |l| l.rids.len()))
    }

    /// The documents fetched and not yet taken (`objsLeftInBatch`).
    pub fn buffered(&self) -> usize {
        self.ready.len()
    }

    pub fn next(&mut self, store: &Store) -> Result<Option<Document>, ShellError> {
        if let Some(d) = self.ready.pop_front() {
            return Ok(Some(d));
        }
        if let Some(s) = self.stream.as_mut() {
            self.ready.extend(s.get_more(store, FIRST_BATCH)?);
            return Ok(self.ready.pop_front());
        }
        match self.later.as_mut() {
            Some(l) => l.pop(store),
            None => Ok(None),
        }
    }

    /// Up to `n` documents (all when None).
    pub fn take(&mut self, n: Option<usize>, store: &Store) -> Result<Vec<Document>, ShellError> {
        let n = n.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        while out.len() < n {
            match self.next(store)? {
                Some(d) => out.push(d),
                None => break,
            }
        }
        // Whether more comes is printed after the batch: an aggregation's next batch is
        // computed now to know it, as the driver's `hasNext` asks for it.
        if let Some(s) = self.stream.as_mut().filter(|_| self.ready.is_empty()) {
            self.ready.extend(s.get_more(store, FIRST_BATCH)?);
        }
        Ok(out)
    }

    /// Whether another document comes; fetches it, as the driver's `hasNext` does.
    pub fn has_next(&mut self, store: &Store) -> Result<bool, ShellError> {
        if self.ready.is_empty() {
            // In front: fetching it may have brought a whole batch after it.
            if let Some(d) = self.next(store)? {
                self.ready.push_front(d);
            }
        }
        Ok(!self.ready.is_empty())
    }

    /// Takes every document left and says how many there were, copying none.
    pub fn count_rest(&mut self, store: &Store) -> Result<usize, ShellError> {
        let mut n = std::mem::take(&mut self.ready).len();
        if let Some(s) = self.stream.as_mut() {
            n += s.count_rest(store)?;
        }
        if let Some(l) = self.later.as_mut() {
            let rids = std::mem::take(&mut l.rids);
            l.scores.clear();
            if let Some(c) = l.collection(store) {
                for rid in rids {
                    if l.read(c, rid)?.is_some() {
                        n += 1;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Copies of the documents left, leaving the cursor where it is.
    pub fn remaining(&self, store: &Store) -> Result<Vec<Document>, ShellError> {
        let mut out: Vec<Document> = self.ready.iter().cloned().collect();
        if let Some(s) = &self.stream {
            out.extend(s.as_ref().clone().get_more(store, usize::MAX)?);
        }
        let Some(l) = &self.later else {
            return Ok(out);
        };
        let Some(c) = l.collection(store) else {
            return Ok(out);
        };
        for (i, &rid) in l.rids.iter().enumerate() {
            if let Some(d) = l.read(c, rid)? {
                let score = l.scores.get(i).copied().unwrap_or(0.0);
                out.push(l.shape.apply(d, score, GETMORE_FAILED)?);
            }
        }
        Ok(out)
    }
}

impl Later {
    /// The cursor's collection, unless it was dropped (and maybe created again) since.
    fn collection<'s>(&self, store: &'s Store) -> Option<&'s Collection> {
        store
            .collection(&self.db, &self.coll)
            .filter(|c| c.incarnation() == self.incarnation)
    }

    /// The stored document a record id gives now: None once deleted, or when a write
    /// since the find made the filter reject it.
    fn read<'c>(
        &self,
        c: &'c Collection,
        rid: RecordId,
    ) -> Result<Option<&'c Document>, ShellError> {
        let Some(doc) = c.position_of(rid).and_then(|p| c.docs.get(p)) else {
            return Ok(None);
        };
        if self.recheck && c.writes() != self.writes {
            let keep = self.shape.filter.matches(doc);
            if let Some(e) = self.shape.filter.take_error() {
                return Err(run_error(e, GETMORE_FAILED));
            }
            if !keep {
                return Ok(None);
            }
        }
        Ok(Some(doc))
    }

    fn pop(&mut self, store: &Store) -> Result<Option<Document>, ShellError> {
        let Some(c) = self.collection(store) else {
            // A dropped collection's cursor ends.
            self.rids.clear();
            self.scores.clear();
            return Ok(None);
        };
        while let Some(rid) = self.rids.pop_front() {
            let score = self.scores.pop_front().unwrap_or(0.0);
            if let Some(d) = self.read(c, rid)? {
                return self.shape.apply(d, score, GETMORE_FAILED).map(Some);
            }
        }
        Ok(None)
    }
}
