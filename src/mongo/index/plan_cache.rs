//! The plan cache: when several indexes could serve a find, the planner races them (a trial
//! of up to 101 results each, `plan::choose`); the winner is remembered under the query's
//! shape, so later finds of the same shape with other values run it without a trial, as
//! MongoDB's classic plan cache does.
//!
//! - The key is built as the server builds its `PlanCacheKey`: the query shape (the filter's
//!   predicates, flattened and sorted, with their values left out; the sort; the
//!   projection), then the index discriminators: for each predicate's path, one digit per
//!   index over that path (its key pattern, or its partial filter), 0 when the index cannot
//!   serve this predicate (a sparse index and a null equality, a partial filter the
//!   predicate does not imply). `queryHash` is a hash of the shape alone, `planCacheKey` of
//!   the shape and the discriminators, so an index over a queried field changes
//!   `planCacheKey` and not `queryHash`. The hashes are the sandbox's own (32-bit FNV-1a),
//!   not the server's values.
//! - An entry starts inactive: the next find of its shape races the candidates again and
//!   activates it if its winner took no more works than the entry records, and otherwise
//!   doubles the works the entry will accept (`internalQueryCacheWorksGrowthCoefficient`).
//!   Only an active entry's plan is used without a trial. Only a choice among several
//!   candidates is cached, as on the server.
//! - A run of an active entry's plan that takes more than ten times the works its trial took
//!   (`internalQueryCacheEvictionRatio`) deactivates the entry and races the candidates
//!   again. Entries of a collection whose indexes changed are stale: the server clears a
//!   collection's cache on every index build or drop; here they are dropped when read.
//! - The cache only ever chooses which candidate runs: the bounds are always built from the
//!   find's own values and every fetched document still passes the whole filter, so a
//!   cached plan changes how a find reads the collection, never what it returns. explain()
//!   always races the candidates, as the server's does.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::plan::{conjunction, Predicate};
use crate::mongo::store::Collection;
use crate::mongo::value::{Document, FieldHasher, Value};

/// Entries kept over all collections before the least recently used goes (the server bounds
/// its cache by size too).
const MAX_ENTRIES: usize = 1000;

/// A cached plan runs this many times its trial's works before it is raced again.
pub const EVICTION_RATIO: u64 = 10;

/// An inactive entry's works grow by this factor when a new trial does worse.
const WORKS_GROWTH: f64 = 2.0;

/// The host `$planCacheStats` names (the server's `host:port`).
const HOST: &str = "localhost:27017";

/// Where a query's plan is cached: its shape and its index discriminators.
#[derive(Debug, Clone)]
pub struct CacheKey {
    ns: String,
    shape: String,
    indexability: String,
}

impl CacheKey {
    /// The hash of the query shape alone, as explain's `queryHash`.
    pub fn query_hash(&self) -> u32 {
        fnv1a(self.shape.as_bytes(), FNV_OFFSET)
    }

    /// The hash of the shape and the index discriminators, as explain's `planCacheKey`.
    pub fn plan_cache_key(&self) -> u32 {
        fnv1a(self.indexability.as_bytes(), self.query_hash())
    }

    fn map_key(&self) -> String {
        format!("{}\u{0}{}\u{0}{}", self.ns, self.shape, self.indexability)
    }
}

const FNV_OFFSET: u32 = 0x811c_9dc5;

fn fnv1a(bytes: &[u8], start: u32) -> u32 {
    bytes
        .iter()
        .fold(start, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// A hash as the server prints it: eight upper-case hexadecimal digits.
pub fn hex(hash: u32) -> String {
    format!("{hash:08X}")
}

/// What a trial left to show in `$planCacheStats`: the query that created the entry, the
/// winning plan, each candidate's trial statistics and scores (best first).
#[derive(Debug, Clone, Default)]
pub struct DebugInfo {
    pub created_from_query: Document,
    pub cached_plan: Document,
    pub creation_exec_stats: Vec<Value>,
    pub scores: Vec<f64>,
}

#[derive(Debug, Clone)]
struct Entry {
    /// The collection's indexes when the plan was chosen (names and key patterns).
    indexes: u64,
    /// Position of the winning index in the collection's index list.
    winner: usize,
    /// Works the winner took in its trial (grown while the entry is inactive).
    works: u64,
    active: bool,
    query_hash: u32,
    plan_cache_key: u32,
    time_of_creation: i64,
    debug: DebugInfo,
    /// When the entry was last read or written, for listing and eviction order.
    used: u64,
}

/// What the cache holds for a key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cached {
    /// A plan to run without a trial, and the works its trial took.
    Active {
        winner: usize,
        works: u64,
    },
    Inactive,
    Missing,
}

/// Winning plans by query shape and namespace.
#[derive(Debug, Default)]
pub struct PlanCache {
    entries: HashMap<String, Entry>,
    clock: u64,
}

impl PlanCache {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The entry for this key, if the collection's indexes are the ones it was chosen among
    /// (a stale entry is dropped).
    pub fn get(&mut self, key: &CacheKey, coll: &Collection) -> Cached {
        let map_key = key.map_key();
        let now = self.tick();
        let Some(entry) = self.entries.get_mut(&map_key) else {
            return Cached::Missing;
        };
        if entry.indexes != index_signature(coll) {
            self.entries.remove(&map_key);
            return Cached::Missing;
        }
        entry.used = now;
        if entry.active {
            Cached::Active {
                winner: entry.winner,
                works: entry.works,
            }
        } else {
            Cached::Inactive
        }
    }

    /// Records a trial's winner as the server's `PlanCache::set` does: a new entry starts
    /// inactive; an inactive one becomes active when the winner took no more works than it
    /// records, and otherwise asks for more works next time; an active one is replaced only
    /// by a cheaper plan. `debug` is built only when an entry is written.
    pub fn set(
        &mut self,
        key: &CacheKey,
        coll: &Collection,
        (winner, works): (usize, u64),
        now_ms: i64,
        debug: impl FnOnce() -> DebugInfo,
    ) {
        let map_key = key.map_key();
        let signature = index_signature(coll);
        let active = match self.entries.get_mut(&map_key) {
            Some(old) if old.indexes != signature => false,
            None => false,
            Some(old) if works <= old.works => true,
            Some(old) if old.active => return,
            Some(old) => {
                let grown = (old.works as f64 * WORKS_GROWTH) as u64;
                old.works = grown.max(old.works.saturating_add(1));
                return;
            }
        };
        if !self.entries.contains_key(&map_key) && self.entries.len() >= MAX_ENTRIES {
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        let used = self.tick();
        self.entries.insert(
            map_key,
            Entry {
                indexes: signature,
                winner,
                works,
                active,
                query_hash: key.query_hash(),
                plan_cache_key: key.plan_cache_key(),
                time_of_creation: now_ms,
                debug: debug(),
                used,
            },
        );
    }

    /// Marks an entry inactive (its plan did far more work than its trial): the next find of
    /// its shape races the candidates again.
    pub fn deactivate(&mut self, key: &CacheKey) {
        if let Some(entry) = self.entries.get_mut(&key.map_key()) {
            entry.active = false;
        }
    }

    /// Removes the entry for one query shape (`planCacheClear` with a query).
    pub fn remove(&mut self, key: &CacheKey) {
        self.entries.remove(&key.map_key());
    }

    /// Removes every entry of one collection (`planCacheClear`).
    pub fn clear_collection(&mut self, db: &str, coll: &str) {
        let prefix = format!("{db}.{coll}\u{0}");
        self.entries.retain(|k, _| !k.starts_with(&prefix));
    }

    /// Removes every entry of one database (it was dropped).
    pub fn clear_database(&mut self, db: &str) {
        let prefix = format!("{db}.");
        self.entries.retain(|k, _| !k.starts_with(&prefix));
    }

    /// The entries of a collection as `$planCacheStats` returns them, most recently used
    /// first; entries chosen under other indexes are left out (the server has dropped them).
    pub fn stats(&self, db: &str, coll_name: &str, coll: &Collection) -> Vec<Document> {
        let prefix = format!("{db}.{coll_name}\u{0}");
        let signature = index_signature(coll);
        let mut entries: Vec<(&String, &Entry)> = self
            .entries
            .iter()
            .filter(|(k, e)| k.starts_with(&prefix) && e.indexes == signature)
            .collect();
        entries.sort_by_key(|(_, e)| std::cmp::Reverse(e.used));
        entries
            .into_iter()
            .map(|(k, e)| entry_document(k, e))
            .collect()
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

/// One entry in the shape of the server's `planCacheEntryToBSON` (classic engine, version
/// "1") plus the `host` the stage adds.
fn entry_document(map_key: &str, e: &Entry) -> Document {
    let mut d = Document::default();
    d.insert("version".into(), Value::String("1".into()));
    d.insert("queryHash".into(), Value::String(hex(e.query_hash)));
    d.insert("planCacheKey".into(), Value::String(hex(e.plan_cache_key)));
    d.insert("isActive".into(), Value::Bool(e.active));
    d.insert("works".into(), long(e.works));
    d.insert("timeOfCreation".into(), Value::Date(e.time_of_creation));
    d.insert(
        "createdFromQuery".into(),
        Value::Document(e.debug.created_from_query.clone()),
    );
    d.insert(
        "cachedPlan".into(),
        Value::Document(e.debug.cached_plan.clone()),
    );
    d.insert(
        "creationExecStats".into(),
        Value::Array(e.debug.creation_exec_stats.clone()),
    );
    d.insert(
        "candidatePlanScores".into(),
        Value::Array(e.debug.scores.iter().map(|s| Value::Double(*s)).collect()),
    );
    d.insert("indexFilterSet".into(), Value::Bool(false));
    d.insert(
        "estimatedSizeBytes".into(),
        long(estimated_size(map_key, e)),
    );
    d.insert("host".into(), Value::String(HOST.into()));
    d
}

fn long(n: u64) -> Value {
    Value::Int64(i64::try_from(n).unwrap_or(i64::MAX))
}

/// An estimate of the entry's memory, in the spirit of the server's
/// `estimatedEntrySizeBytes`: a fixed part, the key, and the size of what the debug
/// information would take as BSON.
fn estimated_size(map_key: &str, e: &Entry) -> u64 {
    const FIXED: u64 = 1_000;
    let size = crate::mongo::store::bson_size;
    let mut stats = Document::default();
    stats.insert(
        "s".into(),
        Value::Array(e.debug.creation_exec_stats.clone()),
    );
    let docs = size(&e.debug.created_from_query) + size(&e.debug.cached_plan) + size(&stats);
    FIXED + map_key.len() as u64 + docs as u64 + 8 * e.debug.scores.len() as u64
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

/// The cache key of a find on collection `coll` of database `db` (`coll_ref` when it
/// exists: its indexes give the discriminators).
pub fn key(
    (db, coll): (&str, &str),
    coll_ref: Option<&Collection>,
    filter: &Document,
    sort: Option<&Document>,
    projection: Option<&Document>,
) -> CacheKey {
    let mut shape = String::new();
    let mut leaves = Vec::new();
    shape_filter(&mut shape, filter, &mut leaves);
    // An empty sort or projection is none at all.
    shape.push('|');
    if let Some(s) = sort.filter(|s| !s.is_empty()) {
        shape_doc(&mut shape, s);
    }
    shape.push('|');
    if let Some(p) = projection.filter(|p| !p.is_empty()) {
        shape_doc(&mut shape, p);
    }
    let indexability = coll_ref.map_or_else(String::new, |c| indexability(c, &leaves));
    CacheKey {
        ns: format!("{db}.{coll}"),
        shape,
        indexability,
    }
}

/// A filter's shape: its conjunction's predicates sorted by path and operator (the server
/// sorts a query's clauses before encoding it), each as path, operator and what of the
/// value changes the plan; logical operators with their branches' shapes. The predicates
/// are collected, in the same order, for the discriminators.
fn shape_filter(out: &mut String, filter: &Document, leaves: &mut Vec<Predicate>) {
    let conj = conjunction(filter);
    let mut preds: Vec<(String, Predicate)> = conj
        .predicates
        .into_iter()
        .map(|p| {
            let mut s = String::new();
            shape_predicate(&mut s, &p);
            (s, p)
        })
        .collect();
    preds.sort_by(|a, b| a.0.cmp(&b.0));
    let mut others: Vec<(String, String, &Value)> = Vec::new();
    let mut nested = Vec::new();
    for (k, v) in &conj.others {
        let mut s = String::new();
        let mut branch_leaves = Vec::new();
        match (k.as_str(), v) {
            ("$or" | "$nor" | "$and", Value::Array(items)) => {
                let mut branches: Vec<(String, Vec<Predicate>)> = items
                    .iter()
                    .map(|item| {
                        let mut b = String::new();
                        let mut l = Vec::new();
                        if let Value::Document(d) = item {
                            shape_filter(&mut b, d, &mut l);
                        }
                        (b, l)
                    })
                    .collect();
                branches.sort_by(|a, b| a.0.cmp(&b.0));
                s.push('[');
                for (b, l) in branches {
                    s.push_str(&b);
                    s.push(',');
                    branch_leaves.extend(l);
                }
                s.push(']');
            }
            _ => shape_value(&mut s, v),
        }
        others.push((k.clone(), s, v));
        nested.push((k.clone(), branch_leaves));
    }
    others.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out.push('{');
    for (s, p) in preds {
        out.push_str(&s);
        out.push(';');
        leaves.push(p);
    }
    for (k, s, _) in &others {
        push_name(out, k);
        out.push_str(s);
        out.push(';');
    }
    nested.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, l) in nested {
        leaves.extend(l);
    }
    out.push('}');
}

/// Writes a name with its length first, so that no name can look like the syntax.
fn push_name(out: &mut String, name: &str) {
    out.push_str(&name.len().to_string());
    out.push(':');
    out.push_str(name);
}

fn shape_predicate(out: &mut String, p: &Predicate) {
    push_name(out, &p.path);
    push_name(out, &p.op);
    match (p.op.as_str(), &p.value) {
        // `$exists: 0` and `$exists: 1` are different queries (the server parses the first
        // as a negation).
        ("$exists", v) => out.push(if crate::mongo::agg::expr::truthy(v) {
            'T'
        } else {
            'F'
        }),
        // The server tells an `$in` with regexes from one without.
        ("$in" | "$nin", Value::Array(items))
            if items.iter().any(|v| matches!(v, Value::Regex { .. })) =>
        {
            out.push_str("_re");
        }
        // A regex keeps its flags.
        ("$regex", Value::Regex { options, .. }) => {
            out.push('/');
            out.push_str(options);
        }
        // Operators whose operand is itself a query (`$elemMatch`, `$not`) keep its shape.
        (_, Value::Document(d)) if d.keys().next().is_some_and(|k| k.starts_with('$')) => {
            shape_doc(out, d)
        }
        (_, Value::Document(d)) if p.op == "$elemMatch" => {
            let mut ignored = Vec::new();
            shape_filter(out, d, &mut ignored);
        }
        _ => {}
    }
}

/// A sort or projection, or a logical operator's operand: names and the structure of the
/// values, their scalars reduced to their types.
fn shape_doc(out: &mut String, doc: &Document) {
    out.push('{');
    for (k, v) in doc {
        push_name(out, k);
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
        // Sort directions and projection inclusions are part of the shape.
        Value::Int32(_) | Value::Int64(_) | Value::Double(_) | Value::Bool(_) => {
            out.push_str(&crate::mongo::query::server_repr(v));
        }
        _ => out.push('#'),
    }
}

/// The index discriminators of a query's predicates: for each, one digit per index over
/// its path (by index name, as the server's map orders them).
fn indexability(coll: &Collection, leaves: &[Predicate]) -> String {
    let mut indexes: Vec<&super::Index> = coll.indexes().iter().collect();
    indexes.sort_by(|a, b| a.name().cmp(b.name()));
    let mut out = String::new();
    for p in leaves {
        let digits: String = indexes
            .iter()
            .filter_map(|ix| discriminator(ix, p))
            .map(|ok| if ok { '1' } else { '0' })
            .collect();
        if !digits.is_empty() {
            out.push('<');
            out.push_str(&digits);
            out.push('>');
        }
    }
    out
}

/// Whether index `ix` can serve predicate `p`, or None when the index is not over its path.
fn discriminator(ix: &super::Index, p: &Predicate) -> Option<bool> {
    let in_key = ix.spec.key.iter().any(|f| f.path == p.path);
    let partial_preds: Vec<Predicate> = ix
        .spec
        .partial
        .as_ref()
        .map(|d| {
            conjunction(d)
                .predicates
                .into_iter()
                .filter(|need| need.path == p.path)
                .collect()
        })
        .unwrap_or_default();
    if !in_key && partial_preds.is_empty() {
        return None;
    }
    let mut ok = true;
    if in_key && ix.spec.sparse {
        // A sparse index has no key for a missing field, which a null equality matches.
        ok &= match (p.op.as_str(), &p.value) {
            ("$eq", Value::Null) => false,
            ("$in", Value::Array(items)) => !items.iter().any(|v| matches!(v, Value::Null)),
            _ => true,
        };
    }
    ok &= partial_preds
        .iter()
        .all(|need| super::plan::predicate_implies(p, need));
    Some(ok)
}
