//! VECTOR fields and `=>[KNN k @field $blob AS alias]` queries.
//!
//! Each VECTOR field of an index keeps a store of its own between commands (`Stores`): the
//! vectors of the documents it covers in one block, searched exhaustively for FLAT and
//! through an HNSW graph for HNSW (`crate::vector`). The stores follow the keyspace through
//! db 0's change log (`db::Changes`): after every command, `sync` re-reads the keys written
//! or removed since, and rebuilds a store from a full scan when its index is created or
//! altered, or when the database was flushed or swapped. Keys whose TTL has passed but that
//! are not yet reclaimed stay in a store and are skipped by searches.
//!
//! A KNN over the whole index (`*=>[KNN …]`) asks the store. A KNN behind a filter
//! (`(@tag:{x})=>[KNN …]`) measures every document the filter keeps, which is exact: the
//! filter has already visited every document, so the distances cost little more, and it is
//! what RediSearch itself does when the filter keeps few documents (its ad-hoc brute-force
//! mode); where it would walk the graph in batches instead, its answer may miss neighbours
//! ours finds.

use super::{text, upper, FieldKind, Index, Values};
use crate::redis::db::Db;
use crate::redis::reply::{self, Reply};
use crate::redis::Server;
pub use crate::vector::hnsw::Params;
pub use crate::vector::Metric;
use crate::vector::{hnsw::Hnsw, Flat};

#[derive(Debug, Clone, PartialEq)]
pub struct VectorSpec {
    /// `FLAT` or `HNSW`, as FT.INFO shows it.
    pub algorithm: &'static str,
    pub dim: usize,
    pub metric: Metric,
    /// HNSW's M, EF_CONSTRUCTION, EF_RUNTIME and EPSILON (their defaults for FLAT).
    pub params: Params,
}

/// The distance RediSearch reports between a query and a document's vector.
pub fn distance(metric: Metric, query: &[f32], v: &[f32]) -> f64 {
    f64::from(metric.distance(&metric.prepare(query), &metric.prepare(v)))
}

/// The HNSW parameters that differ from the defaults, as FT.CREATE takes them (for the
/// snapshot's FT.CREATE).
pub fn hnsw_attributes(spec: &VectorSpec) -> Vec<Vec<u8>> {
    let (p, d) = (spec.params, Params::default());
    let mut out = Vec::new();
    if spec.algorithm != "HNSW" {
        return out;
    }
    for (name, value, default) in [
        ("M", p.m, d.m),
        ("EF_CONSTRUCTION", p.ef_construction, d.ef_construction),
        ("EF_RUNTIME", p.ef_runtime, d.ef_runtime),
    ] {
        if value != default {
            out.extend([name.as_bytes().to_vec(), value.to_string().into_bytes()]);
        }
    }
    if p.epsilon != d.epsilon {
        out.extend([b"EPSILON".to_vec(), p.epsilon.to_string().into_bytes()]);
    }
    out
}

/// A FLOAT32 blob (little-endian) of exactly `dim` numbers.
pub fn from_blob(bytes: &[u8], dim: usize) -> Option<Vec<f32>> {
    if bytes.len() != dim.checked_mul(4)? {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// `VECTOR {FLAT | HNSW} count attribute value ...` after the field name; returns the spec
/// and how many arguments it took.
pub fn parse_spec(args: &[Vec<u8>], field: &str) -> Result<(VectorSpec, usize), Reply> {
    let algorithm = match args.first().map(|a| upper(a)).as_deref() {
        Some("FLAT") => "FLAT",
        Some("HNSW") => "HNSW",
        _ => return Err(reply::error(&format!("Bad arguments for vector similarity algorithm: Unknown vector similarity algorithm for field `{field}`"))),
    };
    let count = args
        .get(1)
        .and_then(|a| text(a).parse::<usize>().ok())
        .filter(|c| c % 2 == 0 && *c <= args.len().saturating_sub(2))
        .ok_or_else(|| reply::error(&format!("Bad arguments for vector similarity number of parameters: Expected an argument, but none provided for field `{field}`")))?;
    let (mut dim, mut metric, mut float32) = (None, None, false);
    let mut params = Params::default();
    let hnsw = algorithm == "HNSW";
    for pair in args[2..2 + count].chunks_exact(2) {
        let value = upper(&pair[1]);
        let name = upper(&pair[0]);
        let bad = |what: &str, why: &str| {
            reply::error(&format!(
                "Bad arguments for vector similarity HNSW index {what}: {why}"
            ))
        };
        let positive = |what: &str| -> Result<usize, Reply> {
            match value.parse::<i64>() {
                Ok(n) if n > 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
                Ok(_) => Err(bad(what, "Value is outside acceptable bounds")),
                Err(_) => Err(bad(what, "Could not convert argument to expected type")),
            }
        };
        match name.as_str() {
            "TYPE" => float32 = value == "FLOAT32",
            "DIM" => {
                dim = value
                    .parse::<usize>()
                    .ok()
                    .filter(|d| (1..=32_768).contains(d))
            }
            "DISTANCE_METRIC" => {
                metric = match value.as_str() {
                    "L2" => Some(Metric::L2),
                    "IP" => Some(Metric::Ip),
                    "COSINE" => Some(Metric::Cosine),
                    _ => None,
                }
            }
            "INITIAL_CAP" => {}
            "BLOCK_SIZE" if !hnsw => {}
            "M" if hnsw => params.m = positive("m")?,
            "EF_CONSTRUCTION" if hnsw => params.ef_construction = positive("efConstruction")?,
            "EF_RUNTIME" if hnsw => params.ef_runtime = positive("efRuntime")?,
            "EPSILON" if hnsw => {
                params.epsilon = match value.parse::<f64>() {
                    Ok(e) if e > 0.0 && e.is_finite() => e,
                    Ok(_) => return Err(bad("epsilon", "Value is outside acceptable bounds")),
                    Err(_) => {
                        return Err(bad(
                            "epsilon",
                            "Could not convert argument to expected type",
                        ))
                    }
                }
            }
            _ => {
                return Err(reply::error(&format!(
                    "Bad arguments for algorithm {algorithm}: {}",
                    text(&pair[0])
                )))
            }
        }
    }
    match (dim, metric, float32) {
        (Some(dim), Some(metric), true) => Ok((
            VectorSpec {
                algorithm,
                dim,
                metric,
                params,
            },
            2 + count,
        )),
        _ => Err(reply::error(&format!(
            "Bad arguments for vector similarity {algorithm} index: the sandbox supports TYPE FLOAT32 with DIM and DISTANCE_METRIC L2, IP or COSINE for field `{field}`"
        ))),
    }
}

/// `[KNN k @field $param [attribute value ...] [AS alias]]`, the part of a query after `=>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Knn {
    pub k: usize,
    pub field: String,
    pub param: String,
    pub alias: String,
    /// Query attributes as written (`EF_RUNTIME 100`, `EF_RUNTIME $ef`), checked against the
    /// field by `ef_runtime`.
    pub attributes: Vec<(String, String)>,
}

pub fn parse_knn(clause: &str) -> Result<Knn, String> {
    let inner = clause
        .trim()
        .strip_prefix('[')
        .and_then(|c| c.strip_suffix(']'))
        .ok_or_else(|| format!("Syntax error at offset 0 near {clause}"))?;
    let words: Vec<&str> = inner.split_whitespace().collect();
    let bad = || "Syntax error: expected KNN k @field $blob [AS alias]".to_string();
    match words.as_slice() {
        [knn, k, field, param, rest @ ..] if knn.eq_ignore_ascii_case("KNN") => {
            let k = k.parse::<usize>().map_err(|_| bad())?;
            let field = field.strip_prefix('@').ok_or_else(bad)?.to_string();
            let param = param.strip_prefix('$').ok_or_else(bad)?.to_string();
            let mut rest = rest;
            let mut attributes = Vec::new();
            let mut alias = format!("__{field}_score");
            loop {
                match rest {
                    [] => break,
                    [as_word, name] if as_word.eq_ignore_ascii_case("AS") => {
                        alias = name.to_string();
                        break;
                    }
                    [name, value, more @ ..] if !name.eq_ignore_ascii_case("AS") => {
                        attributes.push((name.to_ascii_uppercase(), value.to_string()));
                        rest = more;
                    }
                    _ => return Err(bad()),
                }
            }
            Ok(Knn {
                k,
                field,
                param,
                alias,
                attributes,
            })
        }
        _ => Err(bad()),
    }
}

/// The candidates a KNN query keeps (`EF_RUNTIME`, a number or a `$param`), if it names
/// them; errors in RediSearch's words for what a KNN query may not carry.
pub fn ef_runtime(
    knn: &Knn,
    spec: &VectorSpec,
    params: &[(String, Vec<u8>)],
) -> Result<Option<usize>, Reply> {
    let refuse = |why: &str| {
        Err(reply::error(&format!(
            "Error parsing vector similarity parameters: {why}"
        )))
    };
    let mut ef = None;
    for (i, (name, value)) in knn.attributes.iter().enumerate() {
        if knn.attributes[..i].iter().any(|(n, _)| n == name) {
            return refuse("Parameter was specified twice");
        }
        let value = match value.strip_prefix('$') {
            Some(param) => match params.iter().find(|(n, _)| n == param) {
                Some((_, v)) => text(v),
                None => return Err(reply::error(&format!("No such parameter `{param}`"))),
            },
            None => value.clone(),
        };
        match name.as_str() {
            "EF_RUNTIME" if spec.algorithm == "HNSW" => match value.parse::<usize>() {
                Ok(n) if n > 0 => ef = Some(n),
                _ => return refuse("Invalid value was given"),
            },
            "EPSILON" => return refuse("range query attributes were sent for a non-range query"),
            _ => return refuse("Invalid option"),
        }
    }
    Ok(ef)
}

// ---------------------------------------------------------------------------------------
// What VECTOR fields keep between commands
// ---------------------------------------------------------------------------------------

enum Store {
    Flat(Flat<Vec<u8>>),
    Hnsw(Box<Hnsw<Vec<u8>>>),
}

/// The store of one VECTOR field of one index.
struct FieldStore {
    index: String,
    attribute: String,
    /// The index's definition (`Index::revision`) when the store was built: another one means
    /// a rebuild.
    revision: u64,
    /// Where the field sits in the index's schema.
    at: usize,
    store: Store,
}

/// Every VECTOR field's store.
#[derive(Default)]
pub struct Stores {
    fields: Vec<FieldStore>,
    /// The last `Index::revision` handed out.
    revisions: u64,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for s in &self.fields {
            list.entry(&(&s.index, &s.attribute, s.store.len()));
        }
        list.finish()
    }
}

impl Stores {
    pub fn is_some(&self) -> bool {
        !self.fields.is_empty()
    }

    pub fn next_revision(&mut self) -> u64 {
        self.revisions += 1;
        self.revisions
    }
}

impl Store {
    fn new(spec: &VectorSpec) -> Store {
        match spec.algorithm {
            "HNSW" => Store::Hnsw(Box::new(Hnsw::new(spec.dim, spec.metric, spec.params))),
            _ => Store::Flat(Flat::new(spec.dim, spec.metric)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Store::Flat(f) => f.len(),
            Store::Hnsw(h) => h.len(),
        }
    }

    /// Indexes `key`'s vector, or forgets the key when it has none.
    fn put(&mut self, key: &[u8], vector: Option<&[f32]>) {
        match (self, vector) {
            (Store::Flat(f), Some(v)) => {
                let _ = f.insert(key.to_vec(), v);
            }
            (Store::Hnsw(h), Some(v)) => {
                // Rewriting a document with the same vector (another field changed) keeps its node.
                if h.vector_of(key) != Some(h.metric().prepare(v).as_slice()) {
                    let _ = h.insert(key.to_vec(), v);
                }
            }
            (Store::Flat(f), None) => {
                f.remove(key);
            }
            (Store::Hnsw(h), None) => {
                h.remove(key);
            }
        }
    }
}

/// `key`'s vector for field `at` of `index`, if the index covers the key and can index it.
fn vector_of(index: &Index, at: usize, db: &Db, key: &[u8]) -> Option<Vec<f32>> {
    let entry = db.stored(key)?;
    let doc = index.document(key, &entry.value, false)?;
    match doc.values.into_iter().nth(at) {
        Some(Values::Vector(v)) => Some(v),
        _ => None,
    }
}

/// The VECTOR fields of `index`: where each sits in its schema, and its spec.
fn vector_fields(index: &Index) -> impl Iterator<Item = (usize, &VectorSpec)> {
    (index.fields.iter().enumerate()).filter_map(|(at, field)| match &field.kind {
        FieldKind::Vector(spec) => Some((at, spec)),
        _ => None,
    })
}

/// Brings every VECTOR field's store up to date with db 0 (RediSearch indexes db 0 only):
/// new and altered indexes are built from a scan, dropped ones forgotten, and the keys
/// changed since the last call re-read. Runs after every command while an index exists.
pub fn sync(server: &mut Server) {
    let Server {
        search,
        vector_stores,
        dbs,
        ..
    } = server;
    if !vector_stores.is_some() && !search.values().any(|i| vector_fields(i).next().is_some()) {
        return;
    }
    let Some((db, others)) = dbs.split_first_mut() else {
        return;
    };
    // After SWAPDB another database is db 0, one whose changes were not followed.
    let lost = !db.changes.on || db.changes.reset;
    let changed = std::mem::take(&mut db.changes.keys);
    vector_stores.fields.retain(|s| {
        !lost
            && search
                .get(&s.index)
                .is_some_and(|index| index.revision == s.revision)
    });
    for s in &mut vector_stores.fields {
        let Some(index) = search.get(&s.index) else {
            continue;
        };
        for key in &changed {
            s.store.put(key, vector_of(index, s.at, db, key).as_deref());
        }
    }
    for (name, index) in search.iter() {
        for (at, spec) in vector_fields(index) {
            let built = vector_stores
                .fields
                .iter()
                .any(|s| s.index == *name && s.at == at);
            if built {
                continue;
            }
            let mut store = Store::new(spec);
            for (key, entry) in db.iter() {
                if let Some(doc) = index.document(key, &entry.value, false) {
                    if let Some(Values::Vector(v)) = doc.values.get(at) {
                        store.put(key, Some(v));
                    }
                }
            }
            vector_stores.fields.push(FieldStore {
                index: name.clone(),
                attribute: index
                    .fields
                    .get(at)
                    .map(|f| f.attribute.clone())
                    .unwrap_or_default(),
                revision: index.revision,
                at,
                store,
            });
        }
    }
    db.changes.on = vector_stores.is_some();
    db.changes.reset = false;
    for other in others {
        other.changes = Default::default();
    }
}

/// The `k` keys nearest to `query` in a field's store, nearest first, with their
/// distances; `None` when the field keeps no store (the caller then scans). Keys already
/// due to expire are passed over.
pub fn nearest(
    server: &Server,
    index: &str,
    attribute: &str,
    query: &[f32],
    k: usize,
    ef: Option<usize>,
) -> Option<Vec<(Vec<u8>, f64)>> {
    let store = server
        .vector_stores
        .fields
        .iter()
        .find(|s| s.index == index && s.attribute == attribute)?;
    let db = server.dbs.first()?;
    let now = server.now;
    let live = |key: &Vec<u8>| {
        db.stored(key)
            .is_some_and(|e| e.expire_at.is_none_or(|at| at > now))
    };
    let found = match &store.store {
        Store::Flat(f) => f.search(query, k, live),
        Store::Hnsw(h) => h.search(query, k, ef.unwrap_or(h.params().ef_runtime), live),
    };
    found.ok().map(|hits| {
        hits.into_iter()
            .map(|(key, d)| (key, f64::from(d)))
            .collect()
    })
}

/// A distance as RediSearch prints it: 12 significant digits, trailing zeros dropped.
pub fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0".to_string();
    }
    let digits = 11 - d.abs().log10().floor() as i32;
    let text = format!("{:.*}", digits.clamp(0, 40) as usize, d);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FLOAT32 blob in redis-cli's quoted form.
    fn blob(v: &[f32]) -> String {
        let hex: String = v
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .map(|b| format!("\\x{b:02x}"))
            .collect();
        format!("\"{hex}\"")
    }

    fn run(server: &mut Server, line: &str, now: u64) -> String {
        let argv = crate::redis::cli::split_args(line).expect("balanced line");
        server.execute(&argv, now).to_cli_text()
    }

    /// The same KNN three ways: the HNSW graph (with enough candidates to be exhaustive),
    /// the FLAT store, and the scan behind a filter every document passes. After every
    /// kind of write they must agree with each other, that is, with the keyspace.
    fn three_ways(server: &mut Server, q: &[f32], now: u64) -> String {
        let ask = |index: &str, filter: &str, extra: &str| {
            format!(
                "FT.SEARCH {index} \"{filter}=>[KNN 7 @v $q{extra} AS d]\" PARAMS 2 q {} SORTBY d RETURN 1 d DIALECT 2",
                blob(q)
            )
        };
        let hnsw = run(server, &ask("h", "*", " EF_RUNTIME 1000"), now);
        let flat = run(server, &ask("f", "*", ""), now);
        let scan = run(server, &ask("f", "@t:{x}", ""), now);
        assert_eq!(hnsw, scan, "HNSW against the keyspace");
        assert_eq!(flat, scan, "FLAT against the keyspace");
        hnsw
    }

    #[test]
    fn stores_follow_every_write_delete_expiry_flush_and_swap() {
        let mut server = Server::new();
        let now = 1_000;
        for create in [
            "FT.CREATE h PREFIX 1 k: SCHEMA v VECTOR HNSW 10 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 M 4 EF_CONSTRUCTION 20 t TAG",
            "FT.CREATE f PREFIX 1 k: SCHEMA v VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 t TAG",
        ] {
            assert_eq!(run(&mut server, create, now), "OK\n");
        }
        let point = |i: u32| {
            [
                ((i * 7919) % 1000) as f32 / 37.0,
                ((i * 104_729) % 997) as f32 / 41.0,
            ]
        };
        for i in 0..300 {
            let line = format!("HSET k:{i} v {} t x", blob(&point(i)));
            run(&mut server, &line, now);
        }
        let q = [3.2, 4.1];
        let first = three_ways(&mut server, &q, now);
        assert!(first.starts_with(" 1) (integer) 7\n"), "{first}");
        // Each step changes the nearest documents of the previous answer (`{0}`, `{1}`).
        let steps = [
            "DEL {0} {1}",
            "HSET k:500 v \"\\x00\\x00\\x40\\x40\\x00\\x00\\x80\\x40\" t x",
            // A vector of the wrong size makes the document unindexable: it leaves the index.
            "HSET {0} v \"\\x00\\x00\"",
            "HSET {0} v \"\\x00\\x00\\x40\\x40\\x9a\\x99\\x89\\x40\"",
            "RENAME {0} k:900",
            "RENAME {0} other:125",
            "PEXPIRE {0} 10",
            "SET {1} plain",
            "UNLINK {0}",
            "EVAL \"redis.call('DEL', KEYS[1]); return redis.call('HSET', 'k:1000', 'v', ARGV[1], 't', 'x')\" 1 {0} \"\\x33\\x33\\x53\\x40\\x33\\x33\\x83\\x40\"",
        ];
        let (mut later, mut answer) = (now, first);
        // The last step's EVAL needs the Lua engine (the `scripting` feature).
        let steps = &steps[..steps.len() - usize::from(!cfg!(feature = "scripting"))];
        for step in steps {
            let nearest: Vec<&str> = answer
                .lines()
                .filter_map(|l| {
                    l.split_once(") \"k:")
                        .map(|(_, rest)| rest.trim_end_matches('"'))
                })
                .collect();
            let line = step
                .replace("{0}", &format!("k:{}", nearest[0]))
                .replace("{1}", &format!("k:{}", nearest[1]));
            later += 100;
            let reply = run(&mut server, &line, later);
            assert!(!reply.starts_with("(error)"), "{line}: {reply}");
            // Asked a little later, once a 10 ms TTL has run out.
            let next = three_ways(&mut server, &q, later + 50);
            assert_ne!(next, answer, "{line} changed the answer");
            answer = next;
        }
        // Keys leave the index when the database goes, and come back with it.
        run(&mut server, "SWAPDB 0 1", later);
        assert_eq!(three_ways(&mut server, &q, later), "1) (integer) 0\n");
        run(&mut server, "SWAPDB 0 1", later);
        assert_eq!(
            three_ways(&mut server, &q, later).lines().count(),
            1 + 7 * 3
        );
        run(&mut server, "FLUSHALL", later);
        assert_eq!(three_ways(&mut server, &q, later), "1) (integer) 0\n");
        run(&mut server, &format!("HSET k:1 v {} t x", blob(&q)), later);
        assert!(three_ways(&mut server, &q, later).contains("\"k:1\""));
        // A dropped and re-created index starts from the keyspace again.
        run(&mut server, "FT.DROPINDEX h", later);
        run(
            &mut server,
            "HSET k:2 v \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\" t x",
            later,
        );
        run(&mut server, "FT.CREATE h PREFIX 1 k: SCHEMA v VECTOR HNSW 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 t TAG", later);
        assert!(three_ways(&mut server, &q, later).starts_with("1) (integer) 2\n"));
    }

    #[test]
    fn hnsw_answers_like_flat_on_many_documents_and_after_a_snapshot() {
        use crate::clock::Clock;
        let mut server = Server::new();
        for line in [
            "FT.CREATE h SCHEMA v VECTOR HNSW 10 TYPE FLOAT32 DIM 3 DISTANCE_METRIC COSINE M 8 EF_RUNTIME 400 t TAG",
            "FT.CREATE f SCHEMA v VECTOR FLAT 6 TYPE FLOAT32 DIM 3 DISTANCE_METRIC COSINE t TAG",
        ] {
            assert_eq!(run(&mut server, line, 0), "OK\n");
        }
        let mut x = 7u32;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as f32 / 65_536.0 - 0.5
        };
        for i in 0..400 {
            let v = [next(), next(), next()];
            run(&mut server, &format!("HSET d:{i} v {} t x", blob(&v)), 0);
        }
        let q = [0.3, -0.2, 0.1];
        let expected = three_ways(&mut server, &q, 0);
        let clock = Clock::from_parts(0, 0, 1000, Some(0));
        let mongo = crate::mongo::Shell::new();
        let bytes = crate::persist::save(&server, &mongo, &clock, b"{\"history\":[]}", 0);
        let mut restored = crate::persist::load(&bytes, 0).expect("loads").redis;
        assert_eq!(three_ways(&mut restored, &q, 0), expected);
        let info = run(&mut restored, "FT.INFO h", 0);
        assert!(info.contains("\"M\"\n") || info.contains("M\n"), "{info}");
        assert_eq!(
            run(&mut restored, "FT.INFO h", 0),
            run(&mut server, "FT.INFO h", 0)
        );
    }

    #[test]
    fn knn_attributes_and_hnsw_parameters_are_checked_as_redisearch_checks_them() {
        let mut server = Server::new();
        let q = blob(&[1.0, 0.0]);
        let cases = [
            ("FT.CREATE e SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 M abc", "(error) Bad arguments for vector similarity HNSW index m: Could not convert argument to expected type"),
            ("FT.CREATE e SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 M 0", "(error) Bad arguments for vector similarity HNSW index m: Value is outside acceptable bounds"),
            ("FT.CREATE e SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 EF_CONSTRUCTION 0", "(error) Bad arguments for vector similarity HNSW index efConstruction: Value is outside acceptable bounds"),
            ("FT.CREATE e SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 EF_RUNTIME 0", "(error) Bad arguments for vector similarity HNSW index efRuntime: Value is outside acceptable bounds"),
            ("FT.CREATE e SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 EPSILON x", "(error) Bad arguments for vector similarity HNSW index epsilon: Could not convert argument to expected type"),
            ("FT.CREATE e SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 FOO 1", "(error) Bad arguments for algorithm HNSW: FOO"),
            ("FT.CREATE e SCHEMA v VECTOR FLAT 8 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 M 4", "(error) Bad arguments for algorithm FLAT: M"),
            ("FT.CREATE h SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2 INITIAL_CAP 10", "OK"),
            ("FT.CREATE f SCHEMA w VECTOR FLAT 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2", "OK"),
            ("HSET a v \"\\x00\\x00\\x80\\x3f\\x00\\x00\\x00\\x00\" w \"\\x00\\x00\\x80\\x3f\\x00\\x00\\x00\\x00\"", "(integer) 2"),
            ("FT.SEARCH h \"*=>[KNN 2 @v $q EF_RUNTIME $ef AS s]\" PARAMS 4 q Q ef 7 DIALECT 2 NOCONTENT", "1) (integer) 1\n2) \"a\""),
            ("FT.SEARCH h \"*=>[KNN 2 @v $q EF_RUNTIME 0]\" PARAMS 2 q Q DIALECT 2", "(error) Error parsing vector similarity parameters: Invalid value was given"),
            ("FT.SEARCH h \"*=>[KNN 2 @v $q EPSILON 0.1]\" PARAMS 2 q Q DIALECT 2", "(error) Error parsing vector similarity parameters: range query attributes were sent for a non-range query"),
            ("FT.SEARCH h \"*=>[KNN 2 @v $q FOO 1]\" PARAMS 2 q Q DIALECT 2", "(error) Error parsing vector similarity parameters: Invalid option"),
            ("FT.SEARCH h \"*=>[KNN 2 @v $q EF_RUNTIME $nope]\" PARAMS 2 q Q DIALECT 2", "(error) No such parameter `nope`"),
            ("FT.SEARCH h \"*=>[KNN 2 @v $q EF_RUNTIME 5 EF_RUNTIME 6]\" PARAMS 2 q Q DIALECT 2", "(error) Error parsing vector similarity parameters: Parameter was specified twice"),
            ("FT.SEARCH f \"*=>[KNN 2 @w $q EF_RUNTIME 5]\" PARAMS 2 q Q DIALECT 2", "(error) Error parsing vector similarity parameters: Invalid option"),
        ];
        for (line, expected) in cases {
            let line = line.replace(" Q ", &format!(" {q} "));
            assert_eq!(run(&mut server, &line, 0).trim_end(), expected, "{line}");
        }
    }

    #[test]
    fn distances_and_their_text_match_redisearch() {
        let (a, b, c) = ([1.0f32, 0.0], [0.0f32, 1.0], [2.0f32, 2.0]);
        let cases = [
            (Metric::L2, a, b, "2"),
            (Metric::L2, a, c, "5"),
            (Metric::Ip, a, b, "1"),
            (Metric::Ip, a, c, "-1"),
            (Metric::Cosine, a, a, "0"),
            (Metric::Cosine, a, c, "0.292893230915"),
        ];
        for (metric, x, y, expected) in cases {
            assert_eq!(
                format_distance(distance(metric, &x, &y)),
                expected,
                "{metric:?}"
            );
        }
    }

    #[test]
    fn knn_clauses_parse() {
        assert_eq!(
            parse_knn("[KNN 10 @vec $blob AS score]").unwrap(),
            Knn {
                k: 10,
                field: "vec".into(),
                param: "blob".into(),
                alias: "score".into(),
                attributes: vec![],
            }
        );
        let with_ef = parse_knn("[KNN 10 @vec $blob ef_runtime $ef AS score]").unwrap();
        assert_eq!(with_ef.attributes, [("EF_RUNTIME".into(), "$ef".into())]);
        assert_eq!(with_ef.alias, "score");
        assert!(parse_knn("[KNN 3 @v $q AS s EF_RUNTIME 5]").is_err());
        assert!(parse_knn("[KNN 3 @v $q EF_RUNTIME]").is_err());
        assert_eq!(parse_knn("[KNN 3 @v $q]").unwrap().alias, "__v_score");
        assert!(parse_knn("[KNN x @v $q]").is_err());
        assert!(parse_knn("KNN 3 @v $q").is_err());
    }

    /// `cargo test --release --lib knn_latency -- --ignored --nocapture`: FLAT KNN over 100k
    /// 128-dimension vectors, natively. A measurement, never an assertion on time.
    #[test]
    #[ignore]
    fn knn_latency() {
        use crate::redis::Server;
        let mut server = Server::new();
        let argv = |words: &[&[u8]]| -> Vec<Vec<u8>> { words.iter().map(|w| w.to_vec()).collect() };
        server.execute(
            &argv(&[
                b"FT.CREATE",
                b"v",
                b"SCHEMA",
                b"vec",
                b"VECTOR",
                b"FLAT",
                b"6",
                b"TYPE",
                b"FLOAT32",
                b"DIM",
                b"128",
                b"DISTANCE_METRIC",
                b"L2",
            ]),
            0,
        );
        let mut rng = crate::redis::fuzz::Rng(7);
        let blob = |rng: &mut crate::redis::fuzz::Rng| -> Vec<u8> {
            (0..128)
                .flat_map(|_| ((rng.below(1000) as f32) / 1000.0).to_le_bytes())
                .collect()
        };
        for i in 0..100_000 {
            let key = format!("doc:{i}");
            let v = blob(&mut rng);
            server.execute(&argv(&[b"HSET", key.as_bytes(), b"vec", &v]), 0);
        }
        let query = blob(&mut rng);
        let start = std::time::Instant::now();
        let runs = 5;
        for _ in 0..runs {
            let reply = server.execute(
                &argv(&[
                    b"FT.SEARCH",
                    b"v",
                    b"*=>[KNN 10 @vec $q AS d]",
                    b"PARAMS",
                    b"2",
                    b"q",
                    &query,
                    b"NOCONTENT",
                    b"DIALECT",
                    b"2",
                ]),
                0,
            );
            assert!(matches!(reply, Reply::Array(ref items) if items.len() == 11));
        }
        println!(
            "FLAT KNN 10 over 100k x 128: {:?} per query",
            start.elapsed() / runs
        );
    }
}
