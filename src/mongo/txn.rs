//! Multi-document transactions with snapshot isolation, inside one sandbox.
//!
//! A transaction's first operation copies the store (`Store::snapshot`); its reads and writes
//! then run on that copy, so nothing outside sees its writes and it sees nothing written
//! outside after it began. Each write in the copy is journaled with the document as it was;
//! after every operation the journal is checked, as WiredTiger checks an update chain:
//! a document that changed outside since the snapshot, or that another open transaction has
//! written, is a write conflict, and the transaction is aborted. The documents a
//! transaction has written are locked in the real store. A write from outside to one of
//! them waits, on the real server, until the transaction ends; in the sandbox nothing else
//! can run meanwhile, so the only end is the server's own: the transaction expires
//! `transactionLifetimeLimitSeconds` after it began (see `shell::sessions`). Committing swaps in the transaction's copy of each collection it wrote
//! when nothing else wrote that collection since the snapshot, and otherwise applies its
//! writes document by document; aborting drops the copy, with its indexes and all.

use std::collections::BTreeMap;

use super::index::{Key, KeyPart};
use super::store::{Collection, Store};
use super::value::{Document, Value};

/// A collection by database and name.
pub type Namespace = (String, String);

/// The server side of an open transaction.
#[derive(Debug)]
pub struct OpenTxn {
    /// The transaction's copy of the store.
    pub work: Store,
    /// Each collection's stamp when the snapshot was taken.
    stamps: BTreeMap<Namespace, u64>,
    /// Per collection, each document written: its `_id` and the document as the snapshot
    /// had it (None when it did not exist).
    written: BTreeMap<Namespace, BTreeMap<Key, (Value, Option<Document>)>>,
    /// The server aborted it (an error, a conflict, or its lifetime ran out); the session
    /// still thinks it is open.
    pub aborted: bool,
    /// Sandbox time at which the server aborts it (`transactionLifetimeLimitSeconds` after
    /// its first operation, with the limit in force then).
    pub expires_ms: u64,
}

fn id_key(id: &Value) -> Key {
    Key::one(KeyPart {
        value: id.clone(),
        descending: false,
    })
}

/// Two transactions (or a transaction and the world outside) wrote the same document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conflict;

impl OpenTxn {
    /// Starts a transaction on a snapshot of `main`, to expire at `expires_ms`.
    pub fn begin(main: &Store, expires_ms: u64) -> OpenTxn {
        let stamps = main
            .databases
            .iter()
            .flat_map(|(db, d)| {
                d.collections
                    .iter()
                    .map(move |(c, coll)| ((db.clone(), c.clone()), coll.stamp()))
            })
            .collect();
        OpenTxn {
            work: main.snapshot(),
            stamps,
            written: BTreeMap::new(),
            aborted: false,
            expires_ms,
        }
    }

    /// The server aborts it: its locks go, its copy is dropped, and what the session sends
    /// next under its number gets `NoSuchTransaction`.
    pub fn abort(&mut self, main: &mut Store) {
        self.release(main);
        self.work = Store::default();
        self.written.clear();
        self.aborted = true;
    }

    /// Whether it holds a lock on a document of collection `ns`.
    pub fn holds_locks_in(&self, ns: &Namespace) -> bool {
        !self.aborted && self.written.get(ns).is_some_and(|w| !w.is_empty())
    }

    /// Whether the transaction has written the document with this `_id`.
    pub fn has_written(&self, ns: &Namespace, id: &Value) -> bool {
        self.written
            .get(ns)
            .is_some_and(|w| w.contains_key(&id_key(id)))
    }

    /// Takes in the writes the last operation journaled: each document written for the
    /// first time must be as the snapshot had it in `main` too, and no other transaction may
    /// have written it; then it is locked in `main`.
    pub fn absorb(&mut self, main: &mut Store, others: &[&OpenTxn]) -> Result<(), Conflict> {
        let mut fresh: Vec<(Namespace, Value, Option<Document>)> = Vec::new();
        for (db, d) in self.work.databases.iter_mut() {
            for (c, coll) in d.collections.iter_mut() {
                for (id, before) in coll.take_journal() {
                    fresh.push(((db.clone(), c.clone()), id, before));
                }
            }
        }
        let mut conflict = false;
        for (ns, id, before) in fresh {
            let key = id_key(&id);
            let seen = self.written.entry(ns.clone()).or_default();
            if seen.contains_key(&key) {
                continue;
            }
            if others.iter().any(|t| t.has_written(&ns, &id))
                || current(main, &ns, &id) != before.as_ref()
            {
                conflict = true;
            }
            if let Some(coll) = main_collection(main, &ns) {
                coll.set_locked(&id, true);
            }
            seen.insert(key, (id, before));
        }
        if conflict {
            Err(Conflict)
        } else {
            Ok(())
        }
    }

    /// Unlocks, in `main`, every document the transaction wrote.
    pub fn release(&self, main: &mut Store) {
        for (ns, docs) in &self.written {
            if let Some(coll) = main_collection(main, ns) {
                for (id, _) in docs.values() {
                    coll.set_locked(id, false);
                }
            }
        }
    }

    /// The collections the transaction changed: written, created, or given an index.
    fn touched(&self) -> Vec<Namespace> {
        let mut out = Vec::new();
        for (db, d) in &self.work.databases {
            for (c, coll) in &d.collections {
                let ns = (db.clone(), c.clone());
                if self.stamps.get(&ns) != Some(&coll.stamp()) || self.written.contains_key(&ns) {
                    out.push(ns);
                }
            }
        }
        out
    }

    /// Applies the transaction to `main` (and unlocks what it wrote); on a conflict
    /// `main` is left as it was.
    pub fn commit(mut self, main: &mut Store) -> Result<(), Conflict> {
        self.release(main);
        let touched = self.touched();
        for ns in &touched {
            let created = !self.stamps.contains_key(ns);
            if created && main_collection(main, ns).is_some() {
                return Err(Conflict);
            }
            for (id, before) in self.written.get(ns).into_iter().flat_map(|w| w.values()) {
                if current(main, ns, id) != before.as_ref() {
                    return Err(Conflict);
                }
            }
        }
        // Collections a merge changes, as they were, to put back if a later one fails.
        let mut saved: Vec<(Namespace, Option<Collection>)> = Vec::new();
        let mut failed = false;
        for ns in &touched {
            let Some(mut work) = self
                .work
                .databases
                .get_mut(&ns.0)
                .and_then(|d| d.collections.remove(&ns.1))
            else {
                continue;
            };
            work.stop_journal();
            let unchanged = match main_collection(main, ns) {
                None => !self.stamps.contains_key(ns),
                Some(c) => self.stamps.get(ns) == Some(&c.stamp()),
            };
            let target = main.collection_mut(&ns.0, &ns.1);
            saved.push((ns.clone(), Some(target.snapshot(false))));
            if unchanged {
                work.take_locks_from(target);
                *target = work;
                continue;
            }
            for (id, _) in self.written.get(ns).into_iter().flat_map(|w| w.values()) {
                let now = work.find_id(id).map(|(_, d)| d.clone());
                let at = target.find_id(id).map(|(pos, _)| pos);
                let result = match (now, at) {
                    (Some(doc), Some(pos)) => target.replace(pos, doc),
                    (Some(doc), None) => target.insert(doc),
                    (None, Some(pos)) => {
                        target.remove(pos);
                        Ok(())
                    }
                    (None, None) => Ok(()),
                };
                if result.is_err() {
                    failed = true;
                    break;
                }
            }
            if failed {
                break;
            }
        }
        if failed {
            for (ns, coll) in saved.into_iter().rev() {
                if let Some(mut coll) = coll {
                    let target = main.collection_mut(&ns.0, &ns.1);
                    coll.take_locks_from(target);
                    *target = coll;
                }
            }
            return Err(Conflict);
        }
        Ok(())
    }
}

fn main_collection<'a>(main: &'a mut Store, ns: &Namespace) -> Option<&'a mut Collection> {
    main.databases.get_mut(&ns.0)?.collections.get_mut(&ns.1)
}

/// The document with this `_id` in `main` now.
fn current<'a>(main: &'a Store, ns: &Namespace, id: &Value) -> Option<&'a Document> {
    main.collection(&ns.0, &ns.1)?.find_id(id).map(|(_, d)| d)
}
