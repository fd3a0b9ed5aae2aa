//! The Mongo side of the snapshot and of the way out: every database, its collections with
//! their options, indexes and documents.
//!
//! The snapshot writes values in a compact tagged binary form that keeps every BSON type
//! exactly (Int32 is not Int64 is not Double; field order as stored). The way out writes
//! canonical Extended JSON v2, which `mongoimport` reads and which mongosh's
//! `EJSON.deserialize(…, { relaxed: false })` turns back into the same types.

use super::codec::{ReadResult, Reader, Writer};
use super::SEARCH_INDEXES_TAG;
use crate::mongo::decimal::Decimal128;
use crate::mongo::index::IndexSpec;
use crate::mongo::search::{Kind as SearchKind, SearchIndex};
use crate::mongo::shell::ddl::options_document;
use crate::mongo::store::{
    Capped, Collection, CollectionOptions, Database, Store, ValidationAction, ValidationLevel,
};
use crate::mongo::timeseries::{Granularity, TimeSeries};
use crate::mongo::value::{base64_encode, json_string, Document, ObjectId, Value};

/// Nesting a snapshot may hold; deeper is corruption (mongosh refuses literals nested past
/// 120, the server documents past 100), and the reader must not recurse without bound.
const MAX_DEPTH: usize = 200;

/// The decimal128 coefficient bound (34 digits) and exponent range, as IEEE 754-2008 has them.
const DECIMAL_COEF_LIMIT: u128 = 10u128.pow(34);
const DECIMAL_EXP: std::ops::RangeInclusive<i64> = -6176..=6111;

pub fn write_value(w: &mut Writer, v: &Value) {
    match v {
        Value::Double(x) => {
            w.u8(0);
            w.f64(*x);
        }
        Value::Int32(n) => {
            w.u8(1);
            w.u32(*n as u32);
        }
        Value::Int64(n) => {
            w.u8(2);
            w.i64(*n);
        }
        Value::String(s) => {
            w.u8(3);
            w.str(s);
        }
        Value::Bool(b) => {
            w.u8(4);
            w.u8(u8::from(*b));
        }
        Value::Null => w.u8(5),
        Value::Undefined => w.u8(6),
        Value::ObjectId(oid) => {
            w.u8(7);
            w.buf.extend_from_slice(&oid.0);
        }
        Value::Date(ms) => {
            w.u8(8);
            w.i64(*ms);
        }
        Value::Regex { pattern, options } => {
            w.u8(9);
            w.str(pattern);
            w.str(options);
        }
        Value::Array(items) => {
            w.u8(10);
            w.len(items.len());
            for item in items {
                write_value(w, item);
            }
        }
        Value::Document(doc) => {
            w.u8(11);
            write_doc(w, doc);
        }
        Value::MinKey => w.u8(12),
        Value::MaxKey => w.u8(13),
        Value::Decimal128(d) => {
            w.u8(14);
            match *d {
                Decimal128::Finite {
                    negative,
                    exp,
                    coef_hi,
                    coef_lo,
                } => {
                    w.u8(0);
                    w.u8(u8::from(negative));
                    w.i64(i64::from(exp));
                    w.u64(coef_hi);
                    w.u64(coef_lo);
                }
                Decimal128::Infinity { negative } => {
                    w.u8(1);
                    w.u8(u8::from(negative));
                }
                Decimal128::NaN => w.u8(2),
            }
        }
        Value::Timestamp { t, i } => {
            w.u8(15);
            w.u32(*t);
            w.u32(*i);
        }
        Value::Binary { subtype, bytes } => {
            w.u8(16);
            w.u8(*subtype);
            w.bytes(bytes);
        }
    }
}

pub fn write_doc(w: &mut Writer, doc: &Document) {
    w.len(doc.len());
    for (k, v) in doc {
        w.str(k);
        write_value(w, v);
    }
}

fn bool_byte(r: &mut Reader) -> ReadResult<bool> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err("the snapshot holds a malformed boolean".into()),
    }
}

pub fn read_value(r: &mut Reader, depth: usize) -> ReadResult<Value> {
    if depth > MAX_DEPTH {
        return Err("the snapshot nests documents too deeply".into());
    }
    Ok(match r.u8()? {
        0 => Value::Double(r.f64()?),
        1 => Value::Int32(r.u32()? as i32),
        2 => Value::Int64(r.i64()?),
        3 => Value::String(r.string()?),
        4 => Value::Bool(bool_byte(r)?),
        5 => Value::Null,
        6 => Value::Undefined,
        7 => {
            let mut oid = [0u8; 12];
            oid.copy_from_slice(r.take(12)?);
            Value::ObjectId(ObjectId(oid))
        }
        8 => Value::Date(r.i64()?),
        9 => Value::Regex {
            pattern: r.string()?,
            options: r.string()?,
        },
        10 => {
            let n = r.count(1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(read_value(r, depth + 1)?);
            }
            Value::Array(items)
        }
        11 => Value::Document(read_doc(r, depth + 1)?),
        12 => Value::MinKey,
        13 => Value::MaxKey,
        14 => Value::Decimal128(match r.u8()? {
            0 => {
                let negative = bool_byte(r)?;
                let exp = r.i64()?;
                let (coef_hi, coef_lo) = (r.u64()?, r.u64()?);
                let coef = u128::from(coef_hi) << 64 | u128::from(coef_lo);
                if coef >= DECIMAL_COEF_LIMIT || !DECIMAL_EXP.contains(&exp) {
                    return Err("the snapshot holds a malformed Decimal128".into());
                }
                Decimal128::Finite {
                    negative,
                    exp: exp as i16,
                    coef_hi,
                    coef_lo,
                }
            }
            1 => Decimal128::Infinity {
                negative: bool_byte(r)?,
            },
            2 => Decimal128::NaN,
            _ => return Err("the snapshot holds a malformed Decimal128".into()),
        }),
        15 => Value::Timestamp {
            t: r.u32()?,
            i: r.u32()?,
        },
        16 => Value::Binary {
            subtype: r.u8()?,
            bytes: r.bytes()?.to_vec(),
        },
        tag => return Err(format!("the snapshot holds an unknown value type ({tag})")),
    })
}

pub fn read_doc(r: &mut Reader, depth: usize) -> ReadResult<Document> {
    let n = r.count(2)?;
    let mut doc = Document::default();
    doc.reserve(n);
    for _ in 0..n {
        let k = r.string()?;
        let v = read_value(r, depth + 1)?;
        doc.insert(k, v);
    }
    Ok(doc)
}

fn write_options(w: &mut Writer, o: &CollectionOptions) {
    match &o.validator {
        Some(v) => {
            w.u8(1);
            write_doc(w, v);
        }
        None => w.u8(0),
    }
    w.u8(match o.validation_level {
        ValidationLevel::Strict => 0,
        ValidationLevel::Moderate => 1,
        ValidationLevel::Off => 2,
    });
    w.u8(match o.validation_action {
        ValidationAction::Error => 0,
        ValidationAction::Warn => 1,
    });
    // Bit 0: capped limits follow; bit 1: time series options follow them (a later
    // addition: snapshots written before it have 0 or 1 here and read as before).
    let flags = u8::from(o.capped.is_some()) | u8::from(o.timeseries.is_some()) << 1;
    w.u8(flags);
    if let Some(c) = o.capped {
        w.u64(c.size);
        match c.max {
            Some(m) => {
                w.u8(1);
                w.u64(m);
            }
            None => w.u8(0),
        }
    }
    if let Some(ts) = &o.timeseries {
        w.str(&ts.time_field);
        match &ts.meta_field {
            Some(m) => {
                w.u8(1);
                w.str(m);
            }
            None => w.u8(0),
        }
        w.u8(ts.granularity.byte());
        match ts.expire_after_secs {
            Some(secs) => {
                w.u8(1);
                w.i64(secs);
            }
            None => w.u8(0),
        }
    }
}

fn read_options(r: &mut Reader) -> ReadResult<CollectionOptions> {
    let malformed = || "the snapshot holds malformed collection options".to_string();
    let validator = if bool_byte(r)? {
        Some(read_doc(r, 0)?)
    } else {
        None
    };
    let validation_level = match r.u8()? {
        0 => ValidationLevel::Strict,
        1 => ValidationLevel::Moderate,
        2 => ValidationLevel::Off,
        _ => return Err(malformed()),
    };
    let validation_action = match r.u8()? {
        0 => ValidationAction::Error,
        1 => ValidationAction::Warn,
        _ => return Err(malformed()),
    };
    let flags = r.u8()?;
    if flags > 3 {
        return Err(malformed());
    }
    let capped = if flags & 1 == 1 {
        let size = r.u64()?;
        let max = if bool_byte(r)? { Some(r.u64()?) } else { None };
        Some(Capped { size, max })
    } else {
        None
    };
    let timeseries = if flags & 2 == 2 {
        let time_field = r.string()?;
        let meta_field = if bool_byte(r)? {
            Some(r.string()?)
        } else {
            None
        };
        let granularity = Granularity::from_byte(r.u8()?).ok_or_else(malformed)?;
        let expire_after_secs = if bool_byte(r)? { Some(r.i64()?) } else { None };
        Some(TimeSeries {
            time_field,
            meta_field,
            granularity,
            expire_after_secs,
        })
    } else {
        None
    };
    Ok(CollectionOptions {
        validator,
        validation_level,
        validation_action,
        capped,
        timeseries,
    })
}

/// Every database, collection, index (as `getIndexes` describes it, so that parsing it
/// again gives the same index) and document.
pub fn write_store(w: &mut Writer, store: &Store) {
    StoreCursor::default().next(w, store, usize::MAX);
}

/// Where `write_store` stands between batches, so that a large store can be written a few
/// documents at a time (the page's stepped save); the store must not change meanwhile.
#[derive(Debug, Default, Clone)]
pub struct StoreCursor {
    started: bool,
    db: usize,
    coll: usize,
    /// The next document of the current collection; `None` before its head is written.
    doc: Option<usize>,
    done: bool,
}

impl StoreCursor {
    /// Writes up to `budget` more documents (at least one); returns whether the store is
    /// complete.
    pub fn next(&mut self, w: &mut Writer, store: &Store, budget: usize) -> bool {
        if self.done {
            return true;
        }
        if !self.started {
            self.started = true;
            w.len(store.databases.len());
        }
        let mut left = budget.max(1);
        while let Some((db_name, db)) = store.databases.iter().nth(self.db) {
            if self.coll == 0 && self.doc.is_none() {
                w.str(db_name);
                w.len(db.collections.len());
            }
            let Some((coll_name, coll)) = db.collections.iter().nth(self.coll) else {
                self.db += 1;
                self.coll = 0;
                self.doc = None;
                continue;
            };
            let mut k = match self.doc {
                Some(k) => k,
                None => {
                    w.str(coll_name);
                    write_options(w, &coll.options);
                    let secondary = coll.indexes().get(1..).unwrap_or_default();
                    w.len(secondary.len());
                    for index in secondary {
                        write_doc(w, &index.spec.describe());
                    }
                    w.len(coll.docs.len());
                    0
                }
            };
            for doc in coll.docs.iter().skip(k) {
                if left == 0 {
                    self.doc = Some(k);
                    return false;
                }
                left -= 1;
                write_doc(w, doc);
                k += 1;
            }
            self.coll += 1;
            self.doc = None;
            // The next collection's head must not repeat its database's.
            if self.coll >= db.collections.len() {
                self.db += 1;
                self.coll = 0;
            } else {
                continue;
            }
        }
        self.done = true;
        true
    }
}

pub fn read_store(r: &mut Reader) -> ReadResult<Store> {
    let mut store = Store::default();
    let n_dbs = r.count(2)?;
    for _ in 0..n_dbs {
        let db_name = r.string()?;
        let mut db = Database::default();
        let n_colls = r.count(2)?;
        for _ in 0..n_colls {
            let coll_name = r.string()?;
            let ns = format!("{db_name}.{coll_name}");
            let mut coll = Collection::default();
            coll.options = read_options(r)?;
            let n_indexes = r.count(2)?;
            for _ in 0..n_indexes {
                let mut described = read_doc(r, 0)?;
                let key = match described.shift_remove("key") {
                    Some(Value::Document(k)) => k,
                    _ => return Err(format!("the snapshot holds a malformed index of {ns}")),
                };
                described.shift_remove("v");
                let spec = IndexSpec::parse(&key, &described)
                    .map_err(|e| format!("an index of {ns} cannot be rebuilt: {}", e.message))?;
                coll.create_index(spec, &ns)
                    .map_err(|e| format!("an index of {ns} cannot be rebuilt: {}", e.message))?;
            }
            let n_docs = r.count(2)?;
            coll.docs.reserve(n_docs);
            for _ in 0..n_docs {
                let doc = read_doc(r, 0)?;
                coll.insert(doc)
                    .map_err(|e| format!("a document of {ns} cannot be restored: {e:?}"))?;
            }
            db.collections.insert(coll_name, coll);
        }
        store.databases.insert(db_name, db);
    }
    Ok(store)
}

/// Every collection's search indexes, after the store: the tag, then for each collection
/// that has some its database, name and indexes (id, name, type, definition, version, time).
pub fn write_search_indexes(w: &mut Writer, store: &Store) {
    let with: Vec<(&String, &String, &Collection)> = store
        .databases
        .iter()
        .flat_map(|(d, db)| db.collections.iter().map(move |(c, coll)| (d, c, coll)))
        .filter(|(_, _, c)| !c.search_indexes.is_empty())
        .collect();
    w.str(SEARCH_INDEXES_TAG);
    w.len(with.len());
    for (db, coll, c) in with {
        w.str(db);
        w.str(coll);
        w.len(c.search_indexes.len());
        for ix in &c.search_indexes {
            w.str(&ix.id);
            w.str(&ix.name);
            w.u8(match ix.kind {
                SearchKind::Search => 0,
                SearchKind::VectorSearch => 1,
            });
            write_doc(w, &ix.definition);
            w.u32(ix.version as u32);
            w.i64(ix.created_at_ms);
        }
    }
}

/// Reads what `write_search_indexes` wrote, if the snapshot has it; each definition is
/// checked again, so a crafted file cannot hold an index the sandbox would refuse.
pub fn read_search_indexes(r: &mut Reader, store: &mut Store) -> ReadResult<()> {
    if r.is_at_end() {
        return Ok(());
    }
    if r.string()? != SEARCH_INDEXES_TAG {
        return Err("the snapshot holds an unknown part after its databases".into());
    }
    let n = r.count(3)?;
    for _ in 0..n {
        let db = r.string()?;
        let coll = r.string()?;
        let Some(c) = store
            .databases
            .get_mut(&db)
            .and_then(|d| d.collections.get_mut(&coll))
        else {
            return Err(format!(
                "the snapshot holds search indexes of a missing collection {db}.{coll}"
            ));
        };
        let m = r.count(4)?;
        for _ in 0..m {
            let id = r.string()?;
            let name = r.string()?;
            let kind = match r.u8()? {
                0 => SearchKind::Search,
                1 => SearchKind::VectorSearch,
                _ => {
                    return Err(format!(
                        "the snapshot holds a malformed search index of {db}.{coll}"
                    ))
                }
            };
            let definition = read_doc(r, 0)?;
            let version = r.u32()? as i32;
            let created_at_ms = r.i64()?;
            crate::mongo::search::check_definition(kind, &definition).map_err(|e| {
                format!(
                    "a search index of {db}.{coll} cannot be rebuilt: {}",
                    e.message
                )
            })?;
            if c.search_indexes.iter().any(|ix| ix.name == name) {
                return Err(format!(
                    "the snapshot holds two search indexes named {name} on {db}.{coll}"
                ));
            }
            c.search_indexes.push(SearchIndex {
                id,
                name,
                kind,
                definition,
                version,
                created_at_ms,
                cache: Default::default(),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The way out: canonical Extended JSON and a mongosh script
// ---------------------------------------------------------------------------------------

fn canonical_double(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x:?}")
    }
}

/// Canonical Extended JSON v2 of one value: every number says its type.
pub fn write_canonical(out: &mut String, v: &Value) {
    let wrap = |out: &mut String, key: &str, inner: &str| {
        out.push_str("{\"");
        out.push_str(key);
        out.push_str("\":");
        out.push_str(inner);
        out.push('}');
    };
    let quoted = |s: &str| {
        let mut q = String::new();
        json_string(&mut q, s);
        q
    };
    match v {
        Value::Double(x) => wrap(out, "$numberDouble", &quoted(&canonical_double(*x))),
        Value::Int32(n) => wrap(out, "$numberInt", &quoted(&n.to_string())),
        Value::Int64(n) => wrap(out, "$numberLong", &quoted(&n.to_string())),
        Value::String(s) => json_string(out, s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
        Value::Undefined => wrap(out, "$undefined", "true"),
        Value::ObjectId(oid) => wrap(out, "$oid", &quoted(&oid.to_hex())),
        Value::Date(ms) => wrap(
            out,
            "$date",
            &format!("{{\"$numberLong\":{}}}", quoted(&ms.to_string())),
        ),
        Value::Regex { pattern, options } => wrap(
            out,
            "$regularExpression",
            &format!(
                "{{\"pattern\":{},\"options\":{}}}",
                quoted(pattern),
                quoted(options)
            ),
        ),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::Document(doc) => write_canonical_doc(out, doc),
        Value::MinKey => wrap(out, "$minKey", "1"),
        Value::MaxKey => wrap(out, "$maxKey", "1"),
        Value::Decimal128(d) => wrap(out, "$numberDecimal", &quoted(&d.to_string())),
        Value::Timestamp { t, i } => {
            wrap(out, "$timestamp", &format!("{{\"t\":{t},\"i\":{i}}}"));
        }
        Value::Binary { subtype, bytes } => wrap(
            out,
            "$binary",
            &format!(
                "{{\"base64\":{},\"subType\":\"{subtype:02x}\"}}",
                quoted(&base64_encode(bytes))
            ),
        ),
    }
}

pub fn write_canonical_doc(out: &mut String, doc: &Document) {
    out.push('{');
    for (i, (k, v)) in doc.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, k);
        out.push(':');
        write_canonical(out, v);
    }
    out.push('}');
}

/// One `mongoimport`-ready file per collection: `<db>.<collection>.json`, one document per
/// line in canonical Extended JSON (`mongoimport --db D --collection C --file D.C.json`).
pub fn mongoimport_files(store: &Store) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (db_name, db) in &store.databases {
        for (coll_name, coll) in &db.collections {
            let mut text = String::new();
            for doc in &coll.docs {
                write_canonical_doc(&mut text, doc);
                text.push('\n');
            }
            files.push((format!("{db_name}.{coll_name}.json"), text));
        }
    }
    files
}

/// Documents per `insertMany` of the mongosh script.
const DOCS_PER_INSERT: usize = 1_000;

fn ejson_arg(doc: &Document) -> String {
    let mut s = String::from("EJSON.deserialize(");
    write_canonical_doc(&mut s, doc);
    s.push_str(", { relaxed: false })");
    s
}

/// A mongosh script that recreates every collection on a real server (`mongosh URI file.js`):
/// createCollection with its options, createIndex, createSearchIndex (Atlas or a local Atlas
/// deployment builds it once the documents are in), then insertMany of Extended JSON that
/// `EJSON.deserialize` turns back into exactly typed values.
pub fn mongosh_script(store: &Store) -> String {
    let mut out = String::from(
        "// Recreates the sandbox's MongoDB databases: mongosh \"mongodb://HOST\" this-file.js\n",
    );
    for (db_name, db) in &store.databases {
        let mut name = String::new();
        json_string(&mut name, db_name);
        out.push_str(&format!("\ndb = db.getSiblingDB({name});\n"));
        for (coll_name, coll) in &db.collections {
            let mut c = String::new();
            json_string(&mut c, coll_name);
            let mut options = options_document(&coll.options);
            // The bucket span follows from the granularity; given alone, a server that
            // also takes bucketRoundingSeconds refuses it.
            if let Some(Value::Document(ts)) = options.get_mut("timeseries") {
                ts.shift_remove("bucketMaxSpanSeconds");
            }
            out.push_str(&format!(
                "db.createCollection({c}, {});\n",
                ejson_arg(&options)
            ));
            for index in coll.indexes().get(1..).unwrap_or_default() {
                let mut options = index.spec.describe();
                options.shift_remove("v");
                options.shift_remove("key");
                out.push_str(&format!(
                    "db.getCollection({c}).createIndex({}, {});\n",
                    ejson_arg(&index.spec.key_doc),
                    ejson_arg(&options)
                ));
            }
            for ix in &coll.search_indexes {
                let mut spec = Document::default();
                spec.insert("name".into(), Value::String(ix.name.clone()));
                if ix.kind == SearchKind::VectorSearch {
                    spec.insert("type".into(), Value::String(ix.kind.name().into()));
                }
                spec.insert("definition".into(), Value::Document(ix.definition.clone()));
                out.push_str(&format!(
                    "db.getCollection({c}).createSearchIndex({});\n",
                    ejson_arg(&spec)
                ));
            }
            for chunk in coll.docs.chunks(DOCS_PER_INSERT) {
                let mut docs = String::from("[");
                for (i, doc) in chunk.iter().enumerate() {
                    if i > 0 {
                        docs.push_str(",\n  ");
                    }
                    write_canonical_doc(&mut docs, doc);
                }
                docs.push(']');
                out.push_str(&format!(
                    "db.getCollection({c}).insertMany(EJSON.deserialize({docs}, {{ relaxed: false }}));\n"
                ));
            }
        }
    }
    out
}
