//! `insertMany` as a run that can stop and go on: its documents are prepared (ids filled
//! in), then inserted, a few at a time, the ids and write errors kept between the calls.
//! `db.c.insertMany(…)` runs it to its end at once; a giant statement runs it in steps
//! (`eval::giant`), and both print and change the same.

use super::eval::Js;
use super::{Session, ShellError};
use crate::mongo::store::InsertError;
use crate::mongo::value::{Document, Value};

pub(crate) struct InsertMany {
    db: String,
    coll: String,
    ordered: bool,
    /// The call asked for `bypassDocumentValidation` (the session's flag is the running
    /// write's, and other calls may run between two steps).
    bypass: bool,
    total: usize,
    /// Documents as given, not yet prepared.
    given: std::vec::IntoIter<Value>,
    prepared: Vec<Document>,
    /// Prepared documents, not yet inserted, and the index of the next.
    inserting: std::vec::IntoIter<Document>,
    next: usize,
    stage: Stage,
    ids: Document,
    failures: Vec<(usize, InsertError, Document)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Preparing,
    Inserting,
    Done,
}

fn not_documents() -> ShellError {
    ShellError::new(
        "MongoInvalidArgumentError",
        "Argument \"docs\" must be an array of documents",
    )
}

impl InsertMany {
    /// The run of `db.<coll>.insertMany(args…)`, once the call's checks have passed (the
    /// session's `bypass_validation` is this call's).
    pub(crate) fn new(
        session: &Session,
        db: &str,
        coll: &str,
        args: Vec<Js>,
    ) -> Result<InsertMany, ShellError> {
        let mut args = args.into_iter();
        let docs = match args.next() {
            Some(Js::Val(Value::Array(items))) => items,
            _ => return Err(not_documents()),
        };
        let ordered = match args.next() {
            Some(Js::Val(Value::Document(opts))) => {
                !matches!(opts.get("ordered"), Some(Value::Bool(false)))
            }
            _ => true,
        };
        Ok(InsertMany {
            db: db.to_string(),
            coll: coll.to_string(),
            ordered,
            bypass: session.bypass_validation,
            total: docs.len(),
            prepared: Vec::with_capacity(docs.len()),
            given: docs.into_iter(),
            inserting: Vec::new().into_iter(),
            next: 0,
            stage: Stage::Preparing,
            ids: Document::default(),
            failures: Vec::new(),
        })
    }

    /// Prepares or inserts up to `budget` documents; true once nothing is left to do.
    pub(crate) fn step(&mut self, s: &mut Session, budget: usize) -> Result<bool, ShellError> {
        s.bypass_validation = self.bypass;
        for _ in 0..budget {
            match self.stage {
                Stage::Preparing => match self.given.next() {
                    Some(Value::Document(d)) => self.prepared.push(s.prepare_insert(d)),
                    Some(_) => return Err(not_documents()),
                    None => {
                        self.inserting = std::mem::take(&mut self.prepared).into_iter();
                        self.stage = Stage::Inserting;
                        // Inserting costs more a document: a budget sized for preparing
                        // would make a long step of it.
                        return Ok(false);
                    }
                },
                Stage::Inserting => {
                    let Some(doc) = self.inserting.next() else {
                        self.stage = Stage::Done;
                        continue;
                    };
                    let i = self.next;
                    self.next += 1;
                    let id = doc.get("_id").cloned().unwrap_or(Value::Null);
                    let op = doc.clone();
                    match s.insert_checked(&self.db, &self.coll, doc) {
                        Ok(()) => {
                            self.ids.insert(i.to_string(), id);
                        }
                        Err(e) => {
                            self.failures.push((i, e, op));
                            if self.ordered {
                                self.stage = Stage::Done;
                            }
                        }
                    }
                }
                Stage::Done => return Ok(true),
            }
        }
        Ok(self.stage == Stage::Done)
    }

    /// What the finished call returns: its result, or the `MongoBulkWriteError` of the
    /// documents that failed.
    pub(crate) fn finish(mut self) -> Result<Js, ShellError> {
        if !self.failures.is_empty() {
            let ids = self.take_ids();
            return Err(self.failure(ids.len(), ids));
        }
        let mut r = Document::default();
        r.insert("acknowledged".into(), Value::Bool(true));
        r.insert("insertedIds".into(), Value::Document(self.ids));
        Ok(Js::Val(Value::Document(r)))
    }

    /// The finished call's `MongoBulkWriteError` written with `ids` as its inserted ids (all
    /// of them, or the first few of the `inserted`).
    pub(crate) fn failure(&self, inserted: usize, ids: Document) -> ShellError {
        super::collection::bulk_write_error(&self.failures, inserted, ids, &self.db, &self.coll)
    }

    /// Whether the finished call failed (`finish` gives its error).
    pub(crate) fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// The ids of the documents inserted, in the order they went in.
    pub(crate) fn take_ids(&mut self) -> Document {
        std::mem::take(&mut self.ids)
    }

    /// Whether the documents are being prepared (true) or inserted.
    pub(crate) fn preparing(&self) -> bool {
        self.stage == Stage::Preparing
    }

    /// Documents prepared (while preparing) or inserted so far, and how many were given.
    pub(crate) fn progress(&self) -> (usize, usize) {
        match self.stage {
            Stage::Preparing => (self.prepared.len(), self.total),
            _ => (self.ids.len(), self.total),
        }
    }
}
