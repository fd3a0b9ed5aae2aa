//! What the page's collections panel shows: databases, their collections with document
//! counts and sizes, and one page of a collection's documents. Read-only: a panel looking at
//! a collection is not a query (no cursor is opened, nothing is created).

use serde::Serialize;

use super::format::{inspect, Options};
use super::index::ttl::expires_at;
use super::store::Store;
use super::value::{write_ejson_doc, Value};

/// Most documents one page returns, whatever the page asks for.
pub const MAX_PAGE: usize = 200;
/// Characters of one table cell; the whole document is in `ejson` and `text`.
pub const CELL_CHARS: usize = 80;
/// Nesting mongosh-style cells show before `[Object]`, so a cell stays one short line.
const CELL_OPTIONS: Options = Options {
    depth: 1,
    max_array_length: 10,
    max_string_length: CELL_CHARS,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    pub databases: Vec<DatabaseInfo>,
    pub memory: MemoryUsage,
}

/// The documents' BSON size over every collection, against the sandbox's limit: a write
/// past `limit` fails with `Sandbox memory limit reached …` (code 146).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryUsage {
    pub used: u64,
    pub limit: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseInfo {
    pub name: String,
    pub collections: Vec<CollectionInfo>,
    pub size_on_disk: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionInfo {
    pub name: String,
    pub count: usize,
    /// The same rough estimate `show dbs` uses.
    pub approx_bytes: u64,
    /// `_id_` first, then the secondary indexes in creation order.
    pub indexes: Vec<IndexInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexInfo {
    pub name: String,
    /// The key pattern as mongosh prints it: `{ item: 1, quantity: -1 }`.
    pub key: String,
    /// Index entries (more than the documents when arrays make it multikey).
    pub entries: usize,
    /// Rough size of the entries' keys and record ids.
    pub approx_bytes: u64,
    /// What sets it apart: `unique`, `sparse`, `partial`, `multikey`, `TTL 3600 s`.
    pub properties: Vec<String>,
}

fn index_info(index: &crate::mongo::index::Index) -> IndexInfo {
    let spec = &index.spec;
    let mut properties = Vec::new();
    if spec.unique {
        properties.push("unique".to_string());
    }
    if spec.sparse {
        properties.push("sparse".to_string());
    }
    if spec.partial.is_some() {
        properties.push("partial".to_string());
    }
    if index.is_multikey() {
        properties.push("multikey".to_string());
    }
    if let Some(secs) = spec.expire_after_secs {
        properties.push(format!("TTL {} s", crate::mongo::value::js_number(secs)));
    }
    IndexInfo {
        name: spec.name.clone(),
        key: inspect(&Value::Document(spec.key_doc.clone()), Options::VALUE),
        entries: index.len(),
        approx_bytes: index.approx_bytes() as u64,
        properties,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentPage {
    pub db: String,
    pub collection: String,
    /// Whether the collection exists (a dropped one reads as an empty page).
    pub exists: bool,
    pub total: usize,
    pub offset: usize,
    /// Top-level field names of this page's documents, in first-seen order (`_id` first).
    pub columns: Vec<String>,
    pub documents: Vec<DocumentRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentRow {
    /// One mongosh-style cell per entry of `columns`; `None` where the field is missing.
    pub cells: Vec<Option<String>>,
    /// The whole document as relaxed Extended JSON v2.
    pub ejson: String,
    /// The whole document as mongosh prints it.
    pub text: String,
    /// When a TTL index lets it expire (sandbox milliseconds); `null` if none does.
    #[serde(rename = "expireAt")]
    pub expire_at: Option<f64>,
}

/// Databases and collections in name order.
pub fn catalog(store: &Store) -> Catalog {
    Catalog {
        databases: store
            .databases
            .iter()
            .map(|(name, db)| {
                let collections: Vec<CollectionInfo> = db
                    .collections
                    .iter()
                    .map(|(cname, coll)| CollectionInfo {
                        name: cname.clone(),
                        count: coll.docs.len(),
                        approx_bytes: coll.approx_bytes() as u64,
                        indexes: coll.indexes().iter().map(index_info).collect(),
                    })
                    .collect();
                DatabaseInfo {
                    name: name.clone(),
                    size_on_disk: collections.iter().map(|c| c.approx_bytes).sum(),
                    collections,
                }
            })
            .collect(),
        memory: MemoryUsage {
            used: store.memory().used() as u64,
            limit: store.memory().limit() as u64,
        },
    }
}

/// Documents `offset..offset + limit` of `db.coll` in insertion order (natural order, as an
/// unsorted find returns them).
pub fn documents(store: &Store, db: &str, coll: &str, offset: usize, limit: usize) -> DocumentPage {
    let collection = store.collection(db, coll);
    let docs = collection.map(|c| c.docs.as_slice()).unwrap_or_default();
    let total = docs.len();
    let offset = offset.min(total);
    let end = offset.saturating_add(limit.min(MAX_PAGE)).min(total);
    let page = docs.get(offset..end).unwrap_or_default();

    let mut columns: Vec<String> = Vec::new();
    for doc in page {
        for name in doc.keys() {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    if let Some(at) = columns.iter().position(|c| c == "_id") {
        let id = columns.remove(at);
        columns.insert(0, id);
    }
    let documents = page
        .iter()
        .map(|doc| {
            let mut ejson = String::new();
            write_ejson_doc(&mut ejson, doc);
            DocumentRow {
                cells: columns.iter().map(|c| doc.get(c).map(cell)).collect(),
                ejson,
                text: inspect(&Value::Document(doc.clone()), Options::VALUE),
                expire_at: collection.and_then(|c| expires_at(c, doc)),
            }
        })
        .collect();
    DocumentPage {
        db: db.to_string(),
        collection: coll.to_string(),
        exists: collection.is_some(),
        total,
        offset,
        columns,
        documents,
    }
}

/// A value as mongosh shows it, on one line and cut to `CELL_CHARS` characters.
fn cell(v: &Value) -> String {
    let text = inspect(v, CELL_OPTIONS);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > CELL_CHARS {
        let mut cut: String = one_line.chars().take(CELL_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::Shell;

    fn shell(src: &str) -> Shell {
        let mut shell = Shell::new();
        let out = shell.eval_mongosh(src, 1_795_671_600_000);
        assert!(!out.contains("Error"), "{out}");
        shell
    }

    #[test]
    fn catalog_lists_databases_collections_and_counts() {
        let sh = shell(
            "db.posts.insertMany([{a: 1}, {a: 2}, {a: 3}])\n\
             db.users.insertOne({name: 'x'})\n\
             use shop\n\
             db.orders.insertOne({total: 5})",
        );
        let cat = catalog(sh.store());
        let summary: Vec<(String, Vec<(String, usize)>)> = cat
            .databases
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.collections
                        .iter()
                        .map(|c| (c.name.clone(), c.count))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("shop".into(), vec![("orders".into(), 1)]),
                (
                    "test".into(),
                    vec![("posts".into(), 3), ("users".into(), 1)]
                ),
            ]
        );
        assert!(cat.databases.iter().all(|d| d.size_on_disk > 0));
    }

    #[test]
    fn catalog_counts_the_documents_against_the_memory_limit() {
        let mut sh =
            shell("db.a.insertOne({_id: 1, s: 'xxxx'})\nuse other\ndb.b.insertOne({_id: 2})");
        // Each document's BSON size: the 5-byte frame, then per field a type byte, the name
        // and its NUL, and the value (a whole number is an Int32, 4 bytes, as mongosh stores
        // it; a string is 4 + its bytes + NUL).
        let first = 5 + (2 + 3 + 4) + (2 + 1 + 4 + 5);
        let second = 5 + (2 + 3 + 4);
        let memory = catalog(sh.store()).memory;
        assert_eq!(
            (memory.used, memory.limit),
            (first + second, 256 * 1024 * 1024)
        );
        sh.set_memory_limit(first as usize + second as usize + 10);
        let out = sh.eval_mongosh("db.b.insertOne({_id: 3, pad: 'x'})", 1_795_671_600_000);
        assert!(out.contains("Sandbox memory limit reached"), "{out}");
        let limit = first + second + 10;
        assert_eq!(
            catalog(sh.store()).memory,
            MemoryUsage {
                used: first + second,
                limit
            }
        );
        sh.eval_mongosh("db.dropDatabase()", 1_795_671_600_000);
        assert_eq!(catalog(sh.store()).memory.used, first);
    }

    #[test]
    fn a_page_has_columns_cells_and_whole_documents() {
        let sh = shell(
            "db.p.insertMany([{_id: 1, title: 'Hi', tags: ['a', 'b']}, \
             {_id: 2, author: {name: 'Ann'}}, {_id: 3, title: 'Third'}])",
        );
        let page = documents(sh.store(), "test", "p", 0, 2);
        assert_eq!((page.total, page.offset, page.exists), (3, 0, true));
        assert_eq!(page.columns, vec!["_id", "title", "tags", "author"]);
        let cells: Vec<Vec<Option<&str>>> = page
            .documents
            .iter()
            .map(|d| d.cells.iter().map(|c| c.as_deref()).collect())
            .collect();
        assert_eq!(
            cells,
            vec![
                vec![Some("1"), Some("'Hi'"), Some("[ 'a', 'b' ]"), None],
                vec![Some("2"), None, None, Some("{ name: 'Ann' }")],
            ]
        );
        assert_eq!(
            page.documents[0].ejson,
            r#"{"_id": 1, "title": "Hi", "tags": ["a", "b"]}"#
        );
        assert_eq!(
            page.documents[1].text,
            "{ _id: 2, author: { name: 'Ann' } }"
        );
    }

    #[test]
    fn paging_is_bounded_and_never_fails() {
        let sh = shell("db.n.insertMany([{i: 0}, {i: 1}, {i: 2}, {i: 3}, {i: 4}])");
        for (offset, limit, expected) in [
            (0, 2, vec!["0", "1"]),
            (3, 10, vec!["3", "4"]),
            (5, 10, vec![]),
            (usize::MAX, usize::MAX, vec![]),
        ] {
            let page = documents(sh.store(), "test", "n", offset, limit);
            let got: Vec<String> = page
                .documents
                .iter()
                .map(|d| d.cells.last().cloned().flatten().unwrap_or_default())
                .collect();
            assert_eq!(got, expected, "{offset} {limit}");
            assert_eq!(page.total, 5);
        }
        let missing = documents(sh.store(), "nope", "none", 0, 10);
        assert_eq!(
            (missing.exists, missing.total, missing.columns.len()),
            (false, 0, 0)
        );
    }

    #[test]
    fn long_cells_are_cut_to_one_short_line() {
        let long = "y".repeat(500);
        let sh = shell(&format!(
            "db.c.insertOne({{_id: 1, s: '{long}', deep: {{a: {{b: {{c: 1}}}}}}}})"
        ));
        let page = documents(sh.store(), "test", "c", 0, 1);
        for cell in page.documents[0].cells.iter().flatten() {
            assert!(cell.chars().count() <= CELL_CHARS, "{cell}");
            assert!(!cell.contains('\n'), "{cell}");
        }
        assert!(page.documents[0].ejson.contains(&long));
    }

    #[test]
    fn pages_show_the_bson_types_as_mongosh_and_extended_json_do() {
        let sh = shell(
            "db.t.insertOne({_id: 1, d: NumberDecimal('0.30'), ts: Timestamp({t: 1, i: 2}), \
             u: UUID('3b241101-e2bb-4255-8caf-4136c566a962'), lo: MinKey()})",
        );
        let page = documents(sh.store(), "test", "t", 0, 10);
        let row = &page.documents[0];
        assert_eq!(
            row.cells,
            vec![
                Some("1".to_string()),
                Some("Decimal128('0.30')".to_string()),
                Some("Timestamp({ t: 1, i: 2 })".to_string()),
                Some("UUID('3b241101-e2bb-4255-8caf-4136c566a962')".to_string()),
                Some("MinKey()".to_string()),
            ]
        );
        assert_eq!(
            row.ejson,
            r#"{"_id": 1, "d": {"$numberDecimal": "0.30"}, "ts": {"$timestamp": {"t": 1, "i": 2}}, "u": {"$binary": {"base64": "OyQRAeK7QlWMr0E2xWapYg==", "subType": "04"}}, "lo": {"$minKey": 1}}"#
        );
    }

    #[test]
    fn documents_under_a_ttl_index_carry_their_expiry() {
        let sh = shell(
            "db.s.insertMany([{_id: 1, at: ISODate('2030-01-01T10:00:00Z')}, \
             {_id: 2, at: [ISODate('2030-01-01T10:05:00Z'), ISODate('2030-01-01T10:01:00Z')]}, \
             {_id: 3, at: 'never'}, {_id: 4}, {_id: 5, at: [1, 'x']}])\n\
             db.s.createIndex({at: 1}, {expireAfterSeconds: 60})\n\
             db.plain.insertOne({at: ISODate('2030-01-01T10:00:00Z')})",
        );
        let at = |iso: &str| {
            let ms = crate::mongo::value::parse_iso_date(iso).unwrap_or_default();
            Some(ms as f64 + 60_000.0)
        };
        let page = documents(sh.store(), "test", "s", 0, 10);
        let got: Vec<Option<f64>> = page.documents.iter().map(|d| d.expire_at).collect();
        assert_eq!(
            got,
            vec![
                at("2030-01-01T10:00:00Z"),
                at("2030-01-01T10:01:00Z"),
                None,
                None,
                None
            ]
        );
        let plain = documents(sh.store(), "test", "plain", 0, 10);
        assert_eq!(plain.documents[0].expire_at, None);
    }
}
