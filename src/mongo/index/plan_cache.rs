//! The plan cache: when several indexes could serve a find, the planner races them (a trial
//! of up to 101 results each, `plan::choose`); the winner is remembered under the query's
//! shape, so the next find of the same shape with other values runs it without a trial, as
//! MongoDB's classic plan cache does.
//!
//! - The shape is the filter's fields and operators with each value reduced to its type (a
//!   regex keeps its pattern, `$exists` its truthiness, an array its elements' types: what
//!   changes the bounds or the candidates), plus the sort and the projection, plus which
//!   indexes are candidates for these values (the server's index discriminators: a partial
//!   or sparse index may serve one value of a shape and not another).
//! - Only a choice among several candidates is cached; a single candidate needs no trial,
//!   and the server does not cache it either.
//! - An entry is dropped when the collection's indexes change (their names and key patterns
//!   are part of the entry) and when a run of the cached plan takes more than ten times the
//!   works its trial took (`internalQueryCacheEvictionRatio`): the data moved and the plan
//!   is raced again on the next find.
//! - The cache only ever chooses which candidate runs: the bounds are always built from the
//!   find's own values and every fetched document still passes the whole filter, so a
//!   cached plan changes how a find reads the collection, never what it returns. explain()
//!   always races the candidates, as the server's does.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::mongo::store::Collection;
use crate::mongo::value::{type_rank, Document, FieldHasher, Value};

/// Entries kept over all collections before the cache starts over (the server bounds its
/// cache by size too).
const MAX_ENTRIES: usize = 1000;

/// A cached plan runs this many times its trial's works before it is raced again.
const EVICTION_RATIO: u64 = 10;

#[derive(Debug, Clone)]
struct Entry {
    /// The collection's indexes when the plan was chosen (names and key patterns).
    indexes: u64,
    /// Position of the winning index in the collection's index list.
    winner: usize,
    /// Works the winner took in its trial.
    works: u64,
}

/// Winning plans by query shape (namespace included, see `shape`).
#[derive(Debug, Default)]
pub struct PlanCache {
    entries: HashMap<String, Entry>,
}

impl PlanCache {
    /// The cached winner for this shape, if the collection's indexes are the ones it was
    /// chosen among (a stale entry is dropped).
    pub fn winner(&mut self, shape: &str, coll: &Collection) -> Option<usize> {
        let entry = self.entries.get(shape)?;
        if entry.indexes != index_signature(coll) {
            self.entries.remove(shape);
            return None;
        }
        Some(entry.winner)
    }

    /// Remembers the winner of a trial.
    pub fn insert(&mut self, shape: String, coll: &Collection, winner: usize, works: u64) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.clear();
        }
        self.entries.insert(
            shape,
            Entry {
                indexes: index_signature(coll),
                winner,
                works,
            },
        );
    }

    /// After a run of the cached plan: drops the entry when the run took far more work than
    /// the trial that chose it.
    pub fn ran(&mut self, shape: &str, works: u64) {
        if let Some(entry) = self.entries.get(shape) {
            if works > entry.works.max(1).saturating_mul(EVICTION_RATIO) {
                self.entries.remove(shape);
            }
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The indexes of a collection, names and key patterns, as one number.
fn index_signature(coll: &Collection) -> u64 {
    let mut h = FieldHasher::default();
    for ix in coll.indexes() {
        ix.name().hash(&mut h);
        for field in &ix.spec.key {
            field.path.hash(&mut h);
            field.descending.hash(&mut h);
        }
    }
    h.finish()
}

/// The shape of a find on collection `coll` of database `db`: its filter with values reduced
/// to what can change the plan, its sort and projection, and the candidate indexes for its
/// values.
pub fn shape(
    (db, coll): (&str, &str),
    filter: &Document,
    sort: Option<&Document>,
    projection: Option<&Document>,
    candidates: &[usize],
) -> String {
    let mut out = format!("{}:{db}.{coll}|", db.len());
    shape_doc(&mut out, filter);
    out.push('|');
    if let Some(s) = sort {
        shape_doc(&mut out, s);
    }
    out.push('|');
    if let Some(p) = projection {
        shape_doc(&mut out, p);
    }
    out.push('|');
    for c in candidates {
        out.push_str(&c.to_string());
        out.push(',');
    }
    out
}

fn shape_doc(out: &mut String, doc: &Document) {
    out.push('{');
    for (k, v) in doc {
        // Keys are written with their length, so that no key can look like the syntax.
        out.push_str(&k.len().to_string());
        out.push(':');
        out.push_str(k);
        if k == "$exists" {
            // `$exists: 0` and `$exists: 1` read different bounds.
            out.push(if crate::mongo::agg::expr::truthy(v) {
                'T'
            } else {
                'F'
            });
            continue;
        }
        shape_value(out, v);
    }
    out.push('}');
}

fn shape_value(out: &mut String, v: &Value) {
    match v {
        Value::Document(d) => shape_doc(out, d),
        Value::Array(items) => {
            out.push('[');
            for item in items {
                shape_value(out, item);
            }
            out.push(']');
        }
        Value::Regex { pattern, options } => {
            out.push('/');
            out.push_str(&pattern.len().to_string());
            out.push(':');
            out.push_str(pattern);
            out.push('/');
            out.push_str(options);
        }
        Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Value::Null => out.push('N'),
        Value::Undefined => out.push('U'),
        other => {
            out.push('#');
            out.push_str(&type_rank(other).to_string());
        }
    }
}
