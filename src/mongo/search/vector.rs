//! `$vectorSearch`: the stage's fields checked as mongod and mongot check them, the filter
//! subset a vector index allows (on fields indexed as `filter`), and the scores Atlas gives:
//! Lucene's similarity functions normalised to [0, 1], computed in single precision as
//! Lucene computes them (Atlas shows them widened to doubles).
//!
//! | similarity | score |
//! |---|---|
//! | `cosine` | (1 + cos(q, v)) / 2 |
//! | `dotProduct` | max((1 + q·v) / 2, 0) |
//! | `euclidean` | 1 / (1 + ‖q − v‖²) |
//!
//! Exact mode (`exact: true`) scores every indexed document. Approximate mode goes through
//! `approximate_index`, the one place that chooses the structure behind `VectorIndex`: an
//! HNSW graph (`crate::vector::hnsw`) built from the entries, then following the
//! collection's writes node by node, and searched with `numCandidates` as its beam, so, as
//! on Atlas, it may miss a true neighbour.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{
    number, parse_vector_definition, Kind, SearchError, SearchIndex, Similarity, VectorField,
};
use crate::mongo::index::RecordId;
use crate::mongo::query::Filter;
use crate::mongo::store::Collection;
use crate::mongo::value::{Document, Value};
use crate::vector::hnsw::{Hnsw, Params};
use crate::vector::Metric;

/// Where a pipeline keeps a document's vector search score between stages.
pub const SCORE_FIELD: &str = "$__vectorSearchScore";

/// The most candidates Atlas lets a query consider.
pub const MAX_CANDIDATES: i64 = 10_000;

/// Scores `v` against `q` as Lucene's `VectorSimilarityFunction` does.
pub fn score(similarity: Similarity, q: &[f32], v: &[f32]) -> f32 {
    match similarity {
        Similarity::Euclidean => {
            let mut sum = 0f32;
            for (a, b) in q.iter().zip(v) {
                let d = a - b;
                sum += d * d;
            }
            1.0 / (1.0 + sum)
        }
        Similarity::DotProduct => {
            let mut dot = 0f32;
            for (a, b) in q.iter().zip(v) {
                dot += a * b;
            }
            ((1.0 + dot) / 2.0).max(0.0)
        }
        Similarity::Cosine => {
            let (mut dot, mut n1, mut n2) = (0f32, 0f32, 0f32);
            for (a, b) in q.iter().zip(v) {
                dot += a * b;
                n1 += a * a;
                n2 += b * b;
            }
            let denom = (f64::from(n1) * f64::from(n2)).sqrt();
            let cos = if denom == 0.0 {
                0.0
            } else {
                (f64::from(dot) / denom) as f32
            };
            (1.0 + cos) / 2.0
        }
    }
}

/// A structure that finds the vectors nearest a query. Entries are `(record id, vector)`;
/// results are `(record id, score)`, best first.
pub trait VectorIndex: Send + Sync {
    /// Up to `k` best entries that `accept` admits (the pre-filter), looking at about
    /// `candidates` of them (approximate structures; brute force looks at all).
    fn search(
        &self,
        query: &[f32],
        k: usize,
        candidates: usize,
        accept: &dyn Fn(RecordId) -> bool,
    ) -> Vec<(RecordId, f32)>;
}

/// The vectors of one indexed field: every document's that has one of the right length.
pub type Entries = Arc<Vec<(RecordId, Vec<f32>)>>;

/// Scores every entry.
pub struct BruteForce {
    pub similarity: Similarity,
    pub entries: Entries,
}

impl VectorIndex for BruteForce {
    fn search(
        &self,
        query: &[f32],
        k: usize,
        _candidates: usize,
        accept: &dyn Fn(RecordId) -> bool,
    ) -> Vec<(RecordId, f32)> {
        let mut scored: Vec<(RecordId, f32)> = self
            .entries
            .iter()
            .filter(|(rid, _)| accept(*rid))
            .map(|(rid, v)| (*rid, score(self.similarity, query, v)))
            .collect();
        // Highest score first; equal scores keep insertion order, as Lucene's doc ids do.
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }
}

/// The structure approximate (`exact: false`) queries read, built from a field's entries
/// and then kept in step with them (`HnswIndex::follow`): an HNSW graph with Lucene's
/// defaults for Atlas (16 links per node, a beam of 100 while building), searched with
/// `numCandidates` as its beam. Scores are then computed from the stored vectors exactly as
/// exact mode computes them, so a document found both ways has one score.
pub fn approximate_index(similarity: Similarity, entries: Entries) -> HnswIndex {
    let metric = match similarity {
        Similarity::Euclidean => Metric::L2,
        Similarity::DotProduct => Metric::Ip,
        Similarity::Cosine => Metric::Cosine,
    };
    let dim = entries.first().map_or(0, |(_, v)| v.len());
    let params = Params {
        m: 16,
        ef_construction: 100,
        ..Params::default()
    };
    let mut index = HnswIndex {
        similarity,
        entries: Arc::new(Vec::new()),
        graph: Hnsw::new(dim, metric, params),
        positions: HashMap::new(),
    };
    index.follow(entries);
    index
}

/// An HNSW graph over a field's entries, labelled by record id.
pub struct HnswIndex {
    similarity: Similarity,
    entries: Entries,
    graph: Hnsw<RecordId>,
    /// Where each record's vector is in `entries`.
    positions: HashMap<RecordId, usize>,
}

impl HnswIndex {
    /// Brings the graph to `entries` by the difference from the entries it holds: new
    /// vectors are inserted, removed ones become tombstones (the graph rebuilds itself when
    /// they outnumber the live nodes) and changed ones are replaced, so a write costs the
    /// graph what that write changed, not a whole build.
    pub fn follow(&mut self, entries: Entries) {
        let mut positions = HashMap::with_capacity(entries.len());
        for (at, (rid, vector)) in entries.iter().enumerate() {
            let same = self
                .positions
                .get(rid)
                .and_then(|&old| self.entries.get(old))
                .is_some_and(|(_, old)| old == vector);
            // Every entry has the field's dimensions (`vector_at`), so insertion cannot
            // refuse.
            if same || self.graph.insert(*rid, vector).is_ok() {
                positions.insert(*rid, at);
            }
        }
        for rid in self.positions.keys() {
            if !positions.contains_key(rid) {
                self.graph.remove(rid);
            }
        }
        self.entries = entries;
        self.positions = positions;
    }

    /// Graph nodes, removed ones not yet rebuilt away included.
    pub fn nodes(&self) -> usize {
        self.graph.nodes()
    }
}

impl VectorIndex for HnswIndex {
    fn search(
        &self,
        query: &[f32],
        k: usize,
        candidates: usize,
        accept: &dyn Fn(RecordId) -> bool,
    ) -> Vec<(RecordId, f32)> {
        // All the beam's candidates, so that equal scores are settled by record id (as
        // exact mode settles them) whatever order the nodes were added in.
        let beam = candidates.max(k);
        let found = self
            .graph
            .search(query, beam, beam, |rid: &RecordId| accept(*rid))
            .unwrap_or_default();
        let mut scored: Vec<(RecordId, f32)> = found
            .into_iter()
            .filter_map(|(rid, _)| {
                let (_, v) = self.entries.get(*self.positions.get(&rid)?)?;
                Some((rid, score(self.similarity, query, v)))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }
}

/// One vector field as built for queries.
struct Built {
    entries: Entries,
    approximate: HnswIndex,
}

/// What a vector index keeps between queries: per vector field, the entries and the
/// approximate structure. They are current while the collection and the definition are as
/// they were (`key`); after a write, the next query of a field re-reads its entries and
/// brings the graph it has to them. Cloning a collection's index starts it empty.
#[derive(Default)]
pub struct Cache(Mutex<Option<Cached>>);

struct Cached {
    key: CacheKey,
    fields: BuiltFields,
    /// The fields brought up to `key`.
    current: std::collections::HashSet<String>,
}

/// The collection's writes, length and last record id, and the definition's version.
type CacheKey = (u64, usize, Option<RecordId>, i32);

/// Per vector field path.
type BuiltFields = HashMap<String, Arc<Built>>;

impl Cache {
    fn get(&self, coll: &Collection, ix: &SearchIndex, field: &VectorField) -> Arc<Built> {
        let key = (
            coll.writes(),
            coll.docs.len(),
            coll.record_ids().last().copied(),
            ix.version,
        );
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let cached = guard.get_or_insert_with(|| Cached {
            key,
            fields: HashMap::new(),
            current: Default::default(),
        });
        if cached.key != key {
            cached.key = key;
            cached.current.clear();
        }
        if let Some(built) = cached.fields.get(&field.path) {
            if cached.current.contains(&field.path) {
                return Arc::clone(built);
            }
        }
        let entries: Entries = Arc::new(
            coll.docs
                .iter()
                .zip(coll.record_ids())
                .filter_map(|(d, &rid)| {
                    vector_at(d, &field.path, field.dimensions).map(|v| (rid, v))
                })
                .collect(),
        );
        let built = match cached.fields.remove(&field.path).map(Arc::try_unwrap) {
            Some(Ok(mut built)) => {
                built.approximate.follow(Arc::clone(&entries));
                built.entries = entries;
                built
            }
            // A query still holds the old structure, or there is none: build anew.
            _ => Built {
                approximate: approximate_index(field.similarity, Arc::clone(&entries)),
                entries,
            },
        };
        let built = Arc::new(built);
        cached.fields.insert(field.path.clone(), Arc::clone(&built));
        cached.current.insert(field.path.clone());
        built
    }
}

/// The vector a document holds at `path`: an array of exactly `dims` numbers (Atlas indexes
/// nothing for a document whose field has another length or type).
fn vector_at(doc: &Document, path: &str, dims: usize) -> Option<Vec<f32>> {
    let Value::Array(items) = lookup(doc, path)? else {
        return None;
    };
    if items.len() != dims {
        return None;
    }
    items.iter().map(|v| number(v).map(|x| x as f32)).collect()
}

/// The value at a dotted path through embedded documents (not arrays).
pub fn lookup<'d>(doc: &'d Document, path: &str) -> Option<&'d Value> {
    let mut parts = path.split('.');
    let mut cur = crate::mongo::value::field(doc, parts.next()?)?;
    for p in parts {
        match cur {
            Value::Document(d) => cur = crate::mongo::value::field(d, p)?,
            _ => return None,
        }
    }
    Some(cur)
}

fn err(message: impl std::fmt::Display) -> SearchError {
    SearchError::in_aggregation(message)
}

/// A parsed `$vectorSearch` (`index` is required, as the Atlas page lists it).
pub struct VectorQuery {
    pub index: String,
    pub path: String,
    pub query: Vec<f32>,
    pub limit: usize,
    pub num_candidates: Option<usize>,
    pub filter: Option<Document>,
    pub exact: bool,
}

impl VectorQuery {
    pub fn parse(arg: &Value) -> Result<VectorQuery, SearchError> {
        let Value::Document(spec) = arg else {
            return Err(SearchError {
                code: 14,
                code_name: "TypeMismatch",
                message: "$vectorSearch value must be an object".into(),
            });
        };
        for k in spec.keys() {
            if !matches!(
                k.as_str(),
                "index" | "path" | "queryVector" | "numCandidates" | "limit" | "filter" | "exact"
            ) {
                return Err(SearchError {
                    code: 40415,
                    code_name: "Location40415",
                    message: format!("BSON field '$vectorSearch.{k}' is an unknown field."),
                });
            }
        }
        let index = match spec.get("index") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => return Err(err("\"index\" is required")),
            Some(_) => return Err(err("\"index\" must be a string")),
        };
        let path = match spec.get("path") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => return Err(err("\"path\" is required")),
            Some(_) => return Err(err("\"path\" must be a string")),
        };
        let exact = match spec.get("exact") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(err("\"exact\" must be a boolean")),
        };
        let limit = match spec.get("limit") {
            None | Some(Value::Null) => return Err(err("\"limit\" is required")),
            Some(v) => super::integer(v).ok_or_else(|| err("\"limit\" must be an integer"))?,
        };
        if limit <= 0 {
            return Err(err("\"limit\" must be positive"));
        }
        let num_candidates = match spec.get("numCandidates") {
            None => None,
            Some(v) => {
                let n =
                    super::integer(v).ok_or_else(|| err("\"numCandidates\" must be an integer"))?;
                if !(1..=MAX_CANDIDATES).contains(&n) {
                    return Err(err(format!(
                        "\"numCandidates\" must be within bounds [1..{MAX_CANDIDATES}]"
                    )));
                }
                Some(n)
            }
        };
        match (exact, num_candidates) {
            (true, Some(_)) => {
                return Err(err(
                    "\"numCandidates\" must be omitted when \"exact\" is set to true",
                ))
            }
            (false, None) => {
                return Err(err(
                    "numCandidates is required for approximate vector search",
                ))
            }
            (false, Some(n)) if limit > n => {
                return Err(err("limit should be less than or equal to numCandidates"))
            }
            _ => {}
        }
        let query = match spec.get("queryVector") {
            Some(Value::Array(items)) => {
                let mut q = Vec::with_capacity(items.len());
                for (i, v) in items.iter().enumerate() {
                    let x = number(v)
                        .ok_or_else(|| err(format!("\"queryVector[{i}]\" must be a number")))?;
                    if !(x as f32).is_finite() {
                        return Err(err(format!("\"queryVector[{i}]\" non-finite value")));
                    }
                    q.push(x as f32);
                }
                if q.is_empty() {
                    return Err(err("\"queryVector\" must not be empty"));
                }
                q
            }
            None | Some(Value::Null) => {
                return Err(err(
                    "Exactly one and only one of query and queryVector can be present",
                ))
            }
            Some(_) => return Err(err("\"queryVector\" must be an array")),
        };
        let filter = match spec.get("filter") {
            None => None,
            Some(Value::Document(d)) => Some(d.clone()),
            Some(_) => return Err(err("\"filter\" must be a document")),
        };
        Ok(VectorQuery {
            index,
            path,
            query,
            limit: limit as usize,
            num_candidates: num_candidates.map(|n| n as usize),
            filter,
            exact,
        })
    }
}

/// The comparison operators a vector search filter may use.
const FILTER_OPERATORS: &[&str] = &[
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$not",
];

/// Checks a filter against the fields the index has as `filter`, with mongot's errors.
fn check_filter(filter: &Document, filters: &[String], at: &str) -> Result<(), SearchError> {
    for (k, v) in filter {
        let here = if at.is_empty() {
            format!("filter.{k}")
        } else {
            format!("{at}.{k}")
        };
        match k.as_str() {
            "$and" | "$or" | "$nor" => {
                let Value::Array(items) = v else {
                    return Err(err(format!("\"{here}\" must be an array")));
                };
                if items.is_empty() {
                    return Err(err(format!("\"{here}\" cannot be empty")));
                }
                for (i, item) in items.iter().enumerate() {
                    let Value::Document(d) = item else {
                        return Err(err(format!("\"{here}[{i}]\" must be a document")));
                    };
                    check_filter(d, filters, &format!("{here}[{i}]"))?;
                }
            }
            op if op.starts_with('$') => {
                return Err(err(format!("\"{here}\" is not a supported operator")));
            }
            path => {
                if !filters.iter().any(|f| f == path) {
                    return Err(err(format!("Path '{path}' needs to be indexed as filter")));
                }
                check_condition(v, &here)?;
            }
        }
    }
    Ok(())
}

fn check_condition(v: &Value, at: &str) -> Result<(), SearchError> {
    match v {
        Value::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')) => {
            for (op, arg) in d {
                if !FILTER_OPERATORS.contains(&op.as_str()) {
                    return Err(err(format!("\"{at}\" unrecognized field \"{op}\"")));
                }
                match (op.as_str(), arg) {
                    ("$in" | "$nin", Value::Array(items)) => {
                        if items.is_empty() {
                            return Err(err(format!("\"{at}.{op}\" cannot be empty")));
                        }
                        for item in items {
                            check_value(item, &format!("{at}.{op}"))?;
                        }
                    }
                    ("$in" | "$nin", _) => {
                        return Err(err(format!("\"{at}.{op}\" must be an array")))
                    }
                    ("$exists", Value::Bool(_)) => {}
                    ("$exists", _) => return Err(err(format!("\"{at}.{op}\" must be a boolean"))),
                    ("$not", inner) => check_condition(inner, &format!("{at}.{op}"))?,
                    (_, value) => check_value(value, &format!("{at}.{op}"))?,
                }
            }
            Ok(())
        }
        other => check_value(other, &format!("{at}.$eq")),
    }
}

/// The value types a vector filter compares: booleans, numbers, strings, ObjectIds, dates,
/// null and UUIDs.
fn check_value(v: &Value, at: &str) -> Result<(), SearchError> {
    match v {
        Value::Bool(_)
        | Value::Int32(_)
        | Value::Int64(_)
        | Value::Double(_)
        | Value::String(_)
        | Value::ObjectId(_)
        | Value::Date(_)
        | Value::Null => Ok(()),
        Value::Binary { subtype: 4, .. } => Ok(()),
        Value::Array(items) if at.ends_with("$eq") || at.ends_with("$ne") => {
            items.iter().try_for_each(|i| check_value(i, at))
        }
        _ => Err(err(format!(
            "\"{at}\" must be a boolean, objectId, number, string, date, uuid, or null"
        ))),
    }
}

/// Runs a `$vectorSearch` over a collection: the matching documents' positions, best
/// first, each with its score. A missing index gives no documents and no error, as Atlas.
pub fn run(coll: &Collection, arg: &Value, now_ms: i64) -> Result<Vec<(usize, f64)>, SearchError> {
    let q = VectorQuery::parse(arg)?;
    let Some(ix) = coll.search_indexes.iter().find(|ix| ix.name == q.index) else {
        return Ok(Vec::new());
    };
    if ix.kind != Kind::VectorSearch {
        return Err(err(format!("{} is not indexed as vector", q.path)));
    }
    let def = parse_vector_definition(&ix.definition).map_err(|e| err(e.message))?;
    let Some(field) = def.vectors.iter().find(|v| v.path == q.path) else {
        return Err(err(format!("{} is not indexed as vector", q.path)));
    };
    if field.dimensions != q.query.len() {
        return Err(err(format!(
            "vector field is indexed with {} dimensions but queried with {}",
            field.dimensions,
            q.query.len()
        )));
    }
    let compiled = match &q.filter {
        Some(f) => {
            check_filter(f, &def.filters, "")?;
            Some(Filter::compile(f).map_err(|e| err(e.message))?.at(now_ms))
        }
        None => None,
    };
    let built = ix.cache.vector.get(coll, ix, field);
    let accept = |rid: RecordId| {
        let doc = coll.position_of(rid).and_then(|p| coll.docs.get(p));
        match (&compiled, doc) {
            (Some(f), Some(d)) => f.matches(d),
            (None, Some(_)) => true,
            (_, None) => false,
        }
    };
    let found = if q.exact {
        BruteForce {
            similarity: field.similarity,
            entries: Arc::clone(&built.entries),
        }
        .search(&q.query, q.limit, usize::MAX, &accept)
    } else {
        built.approximate.search(
            &q.query,
            q.limit,
            q.num_candidates.unwrap_or(q.limit),
            &accept,
        )
    };
    Ok(found
        .into_iter()
        .filter_map(|(rid, s)| Some((coll.position_of(rid)?, f64::from(s))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points near one of a few centres in 16 dimensions, from a seeded generator.
    fn clustered(n: usize, seed: u64, first_rid: RecordId) -> Vec<(RecordId, Vec<f32>)> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..8).map(|_| (0..16).map(|_| next()).collect()).collect();
        (0..n)
            .map(|i| {
                let c = &centres[i % centres.len()];
                let v = c.iter().map(|x| x + 0.2 * next()).collect();
                (first_rid + i as RecordId, v)
            })
            .collect()
    }

    fn recall(
        index: &dyn VectorIndex,
        exact: &BruteForce,
        queries: &[Vec<f32>],
        cands: usize,
    ) -> f64 {
        let mut hit = 0;
        for q in queries {
            let want: Vec<RecordId> = exact
                .search(q, 10, usize::MAX, &|_| true)
                .iter()
                .map(|x| x.0)
                .collect();
            let got = index.search(q, 10, cands, &|_| true);
            hit += got.iter().filter(|(rid, _)| want.contains(rid)).count();
        }
        hit as f64 / (10 * queries.len()) as f64
    }

    #[test]
    fn the_graph_follows_writes_in_place() {
        let start = clustered(1_500, 1, 0);
        let mut index = approximate_index(Similarity::Euclidean, Arc::new(start.clone()));
        assert_eq!(index.nodes(), 1_500);
        // Remove every third, move every fifth, add 300 more.
        let mut next: Vec<(RecordId, Vec<f32>)> = start
            .into_iter()
            .filter(|(rid, _)| rid % 3 != 0)
            .map(|(rid, v)| {
                if rid % 5 == 0 {
                    (rid, v.iter().map(|x| -x).collect())
                } else {
                    (rid, v)
                }
            })
            .collect();
        next.extend(clustered(300, 2, 10_000));
        let live = next.len();
        let moved = next
            .iter()
            .filter(|(rid, _)| rid % 5 == 0 && *rid < 10_000)
            .count();
        index.follow(Arc::new(next.clone()));
        // The old nodes stay as tombstones beside the new ones: nothing was rebuilt.
        assert_eq!(index.nodes(), 1_500 + moved + 300);
        assert_eq!(index.positions.len(), live);

        let entries: Entries = Arc::new(next);
        let exact = BruteForce {
            similarity: Similarity::Euclidean,
            entries: Arc::clone(&entries),
        };
        let queries: Vec<Vec<f32>> = clustered(40, 3, 0).into_iter().map(|(_, v)| v).collect();
        // With a beam as wide as the collection the graph finds what brute force finds.
        for q in &queries[..5] {
            assert_eq!(
                index.search(q, 10, 10_000, &|_| true),
                exact.search(q, 10, usize::MAX, &|_| true)
            );
        }
        let followed = recall(&index, &exact, &queries, 100);
        let fresh = recall(
            &approximate_index(Similarity::Euclidean, entries),
            &exact,
            &queries,
            100,
        );
        assert!(
            followed >= 0.95,
            "recall after writes {followed}, fresh build {fresh}"
        );
        // Nothing removed is ever returned.
        let removed_found = queries
            .iter()
            .flat_map(|q| index.search(q, 50, 200, &|_| true))
            .any(|(rid, _)| rid % 3 == 0 && rid < 10_000);
        assert!(!removed_found);
    }

    #[test]
    fn scores_are_lucenes_normalised_similarities() {
        let q = [1.0f32, 0.0];
        let cases = [
            (Similarity::Cosine, [1.0f32, 0.0], 1.0f32),
            (Similarity::Cosine, [-1.0, 0.0], 0.0),
            (Similarity::Cosine, [0.0, 2.0], 0.5),
            (Similarity::DotProduct, [0.6, 0.8], 0.8),
            (Similarity::DotProduct, [-1.0, 0.0], 0.0),
            (Similarity::Euclidean, [1.0, 0.0], 1.0),
            (Similarity::Euclidean, [1.0, 2.0], 0.2),
        ];
        for (sim, v, want) in cases {
            assert_eq!(score(sim, &q, &v), want, "{sim:?} {v:?}");
        }
    }
}
