//! Atlas Search and Atlas Vector Search, as a local Atlas deployment teaches them: search
//! indexes (`createSearchIndex`, `getSearchIndexes`, `$listSearchIndexes`, …) and the
//! `$search`, `$searchMeta` and `$vectorSearch` stages.
//!
//! - `mod` (here): a search index's definition, checked as mongot checks it, and the
//!   management operations with their errors.
//! - `vector`: `$vectorSearch` (its validation, the filter subset, Lucene's score
//!   normalisation) over a `VectorIndex` (brute force today; see `vector::Approximate`).
//! - `fulltext`: the analyzers (`lucene.standard`, `lucene.english`, `lucene.keyword`,
//!   `lucene.simple`, `lucene.whitespace`, autocomplete's edgeGram / nGram) and the `$search`
//!   operators (`text`, `phrase`, `autocomplete`, `compound`, `equals`, `range`, `exists`)
//!   with a BM25 score (Lucene's defaults, k1 = 1.2, b = 0.75).
//! - `postings`: a full-text index's per-field postings and BM25, kept between queries and
//!   brought up to date by the record ids the collection's writes touched (`ChangeLog`).
//! - `stage`: the glue with the pipeline: a leading search stage produces its documents
//!   with their score in a hidden field, which `{ $meta: … }` reads.
//!
//! Indexes are definitions kept with their collection (and saved with it); the structures
//! a query reads are built from the collection's documents at its first query and brought
//! up to the documents as they are when each later query runs, so a search always sees
//! every insert, update and delete (Atlas itself is eventually consistent: a write shows up
//! in search results a moment later).

pub mod fulltext;
pub mod postings;
pub mod stage;
pub mod vector;

pub use postings::ChangeLog;

use crate::mongo::value::{Document, Value};

/// Whether an index serves `$search` or `$vectorSearch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Search,
    VectorSearch,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Search => "search",
            Kind::VectorSearch => "vectorSearch",
        }
    }
}

/// One search index of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchIndex {
    /// The 24 hex digits `getSearchIndexes` shows as `id`.
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// The definition as the user gave it (what `latestDefinition` shows).
    pub definition: Document,
    /// Starts at 0, one more at every `updateSearchIndex`.
    pub version: i32,
    /// Sandbox time of the latest definition.
    pub created_at_ms: i64,
    /// What queries built from the documents and may reuse.
    pub cache: Caches,
}

/// The structures a search index's queries build and later ones reuse. They follow from the
/// definition and the documents, so a cloned index starts without them and two indexes
/// compare equal whatever they hold.
#[derive(Default)]
pub struct Caches {
    pub vector: vector::Cache,
    pub text: postings::Cache,
}

impl Clone for Caches {
    fn clone(&self) -> Self {
        Caches::default()
    }
}

impl PartialEq for Caches {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caches")
    }
}

/// A management or query error in the server's words: code, code name, message.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchError {
    pub code: i32,
    pub code_name: &'static str,
    pub message: String,
}

impl SearchError {
    /// mongot's own parse and query errors, as mongod passes them on.
    pub fn mongot(message: impl Into<String>) -> Self {
        SearchError {
            code: 8,
            code_name: "UnknownError",
            message: message.into(),
        }
    }

    /// A query error as it reaches the shell from inside an aggregation.
    pub fn in_aggregation(message: impl std::fmt::Display) -> Self {
        SearchError::mongot(format!(
            "PlanExecutor error during aggregation :: caused by :: {message}"
        ))
    }

    fn bad_value(message: impl Into<String>) -> Self {
        SearchError {
            code: 2,
            code_name: "BadValue",
            message: message.into(),
        }
    }
}

/// mongot's parse errors name the field in quotes: `"fields[0].numDimensions" is required`.
fn field_error(path: &str, what: &str) -> SearchError {
    SearchError::bad_value(format!("\"{path}\" {what}"))
}

/// The largest `numDimensions` Atlas accepts.
pub const MAX_DIMENSIONS: i64 = 8192;

/// Lucene's vector similarity functions, as `similarity` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Similarity {
    Euclidean,
    Cosine,
    DotProduct,
}

/// One `{type: "vector"}` field of a vector index.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorField {
    pub path: String,
    pub dimensions: usize,
    pub similarity: Similarity,
}

/// What a `vectorSearch` definition indexes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorDefinition {
    pub vectors: Vec<VectorField>,
    pub filters: Vec<String>,
}

pub fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Int32(n) => Some(i64::from(*n)),
        Value::Int64(n) => Some(*n),
        Value::Double(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(*x as i64),
        _ => None,
    }
}

pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int32(n) => Some(f64::from(*n)),
        Value::Int64(n) => Some(*n as f64),
        Value::Double(x) => Some(*x),
        Value::Decimal128(d) => Some(d.to_f64()),
        _ => None,
    }
}

/// Parses (and so checks) a `vectorSearch` index definition.
pub fn parse_vector_definition(def: &Document) -> Result<VectorDefinition, SearchError> {
    if let Some(k) = def.keys().find(|k| k.as_str() != "fields") {
        return Err(SearchError::bad_value(format!(
            "unrecognized field \"{k}\""
        )));
    }
    let fields = match def.get("fields") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Err(field_error("fields", "is required")),
        Some(_) => return Err(field_error("fields", "must be a list")),
    };
    let mut out = VectorDefinition::default();
    for (i, item) in fields.iter().enumerate() {
        let at = |f: &str| format!("fields[{i}].{f}");
        let Value::Document(f) = item else {
            return Err(field_error(&format!("fields[{i}]"), "must be a document"));
        };
        let path = match f.get("path") {
            Some(Value::String(p)) => p.clone(),
            None | Some(Value::Null) => return Err(field_error(&at("path"), "is required")),
            Some(_) => return Err(field_error(&at("path"), "must be a string")),
        };
        let taken = out.vectors.iter().any(|v| v.path == path) || out.filters.contains(&path);
        match f.get("type") {
            Some(Value::String(t)) if t == "vector" => {
                let dims = match f.get("numDimensions") {
                    None | Some(Value::Null) => {
                        return Err(field_error(&at("numDimensions"), "is required"))
                    }
                    Some(v) => integer(v)
                        .ok_or_else(|| field_error(&at("numDimensions"), "must be an integer"))?,
                };
                if !(1..=MAX_DIMENSIONS).contains(&dims) {
                    return Err(field_error(
                        &at("numDimensions"),
                        &format!("must be within bounds [1..{MAX_DIMENSIONS}]"),
                    ));
                }
                let similarity = match f.get("similarity") {
                    Some(Value::String(s)) if s == "euclidean" => Similarity::Euclidean,
                    Some(Value::String(s)) if s == "cosine" => Similarity::Cosine,
                    Some(Value::String(s)) if s == "dotProduct" => Similarity::DotProduct,
                    None | Some(Value::Null) => {
                        return Err(field_error(&at("similarity"), "is required"))
                    }
                    Some(_) => {
                        return Err(field_error(
                            &at("similarity"),
                            "must be one of [euclidean, cosine, dotProduct]",
                        ))
                    }
                };
                for k in f.keys() {
                    if !matches!(
                        k.as_str(),
                        "type" | "path" | "numDimensions" | "similarity" | "quantization"
                    ) {
                        return Err(field_error(
                            &format!("fields[{i}]"),
                            &format!("unrecognized field \"{k}\""),
                        ));
                    }
                }
                if taken {
                    return Err(SearchError::bad_value(format!(
                        "Duplicate field path in definition: {path}"
                    )));
                }
                out.vectors.push(VectorField {
                    path,
                    dimensions: dims as usize,
                    similarity,
                });
            }
            Some(Value::String(t)) if t == "filter" => {
                if let Some(k) = f.keys().find(|k| !matches!(k.as_str(), "type" | "path")) {
                    return Err(field_error(
                        &format!("fields[{i}]"),
                        &format!("unrecognized field \"{k}\""),
                    ));
                }
                if taken {
                    return Err(SearchError::bad_value(format!(
                        "Duplicate field path in definition: {path}"
                    )));
                }
                out.filters.push(path);
            }
            None | Some(Value::Null) => return Err(field_error(&at("type"), "is required")),
            Some(_) => return Err(field_error(&at("type"), "must be one of [vector, filter]")),
        }
    }
    if out.vectors.is_empty() {
        return Err(SearchError::bad_value(
            "Invalid index definition: at least one field must be of type vector",
        ));
    }
    Ok(out)
}

/// Checks a definition of either kind.
pub fn check_definition(kind: Kind, def: &Document) -> Result<(), SearchError> {
    match kind {
        Kind::VectorSearch => parse_vector_definition(def).map(|_| ()),
        Kind::Search => fulltext::Mappings::parse(def).map(|_| ()),
    }
}

/// What `createSearchIndexes` receives for one index: `{name, type, definition}`.
pub struct NewIndex {
    pub name: String,
    pub kind: Kind,
    pub definition: Document,
}

impl NewIndex {
    /// Reads and checks one index description; `name` defaults to `default`, `type` to
    /// `search`.
    pub fn parse(spec: &Document) -> Result<NewIndex, SearchError> {
        let name = match spec.get("name") {
            None | Some(Value::Null) | Some(Value::Undefined) => "default".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(SearchError {
                    code: 14,
                    code_name: "TypeMismatch",
                    message: "BSON field 'createSearchIndexes.indexes.name' is the wrong type, expected type 'string'".into(),
                })
            }
        };
        let kind = match spec.get("type") {
            None | Some(Value::Null) | Some(Value::Undefined) => Kind::Search,
            Some(Value::String(s)) if s == "search" => Kind::Search,
            Some(Value::String(s)) if s == "vectorSearch" => Kind::VectorSearch,
            Some(other) => {
                let shown = match other {
                    Value::String(s) => s.clone(),
                    v => crate::mongo::query::server_repr(v),
                };
                return Err(SearchError::bad_value(format!(
                    "Invalid index type '{shown}'. Allowed types are 'search' and 'vectorSearch'"
                )));
            }
        };
        let definition = match spec.get("definition") {
            Some(Value::Document(d)) => d.clone(),
            None | Some(Value::Null) | Some(Value::Undefined) => {
                return Err(SearchError {
                    code: 40414,
                    code_name: "Location40414",
                    message: "BSON field 'createSearchIndexes.indexes.definition' is missing but a required field".into(),
                })
            }
            Some(_) => {
                return Err(SearchError {
                    code: 14,
                    code_name: "TypeMismatch",
                    message: "BSON field 'createSearchIndexes.indexes.definition' is the wrong type, expected type 'object'".into(),
                })
            }
        };
        check_definition(kind, &definition)?;
        Ok(NewIndex {
            name,
            kind,
            definition,
        })
    }
}

fn duplicate(name: &str) -> SearchError {
    SearchError {
        code: 68,
        code_name: "IndexAlreadyExists",
        message: format!("Duplicate Index: an index named {name} already exists"),
    }
}

pub fn not_found(name: &str) -> SearchError {
    SearchError {
        code: 27,
        code_name: "IndexNotFound",
        message: format!("Search index {name} not found"),
    }
}

/// Adds the checked indexes to `list` as one command: a name already there (or twice in
/// the command) with another definition refuses them all; the same definition again is a
/// no-op that answers its name, as Atlas does. `ids` gives each new index its id.
pub fn create(
    list: &mut Vec<SearchIndex>,
    new: Vec<NewIndex>,
    now_ms: i64,
    mut ids: impl FnMut() -> String,
) -> Result<Vec<String>, SearchError> {
    for (i, n) in new.iter().enumerate() {
        let same = |ix_kind: Kind, def: &Document| ix_kind == n.kind && def == &n.definition;
        if let Some(existing) = list.iter().find(|ix| ix.name == n.name) {
            if !same(existing.kind, &existing.definition) {
                return Err(duplicate(&n.name));
            }
        }
        if new.iter().take(i).any(|m| m.name == n.name) {
            return Err(duplicate(&n.name));
        }
    }
    let mut names = Vec::with_capacity(new.len());
    for n in new {
        if !list.iter().any(|ix| ix.name == n.name) {
            list.push(SearchIndex {
                id: ids(),
                name: n.name.clone(),
                kind: n.kind,
                definition: n.definition,
                version: 0,
                created_at_ms: now_ms,
                cache: Caches::default(),
            });
        }
        names.push(n.name);
    }
    Ok(names)
}

/// `updateSearchIndex`: a new definition for an existing index, checked against its kind.
pub fn update(
    list: &mut [SearchIndex],
    name: &str,
    definition: Document,
    now_ms: i64,
) -> Result<(), SearchError> {
    let Some(ix) = list.iter_mut().find(|ix| ix.name == name) else {
        return Err(not_found(name));
    };
    check_definition(ix.kind, &definition)?;
    ix.definition = definition;
    ix.version = ix.version.saturating_add(1);
    ix.created_at_ms = now_ms;
    ix.cache = Caches::default();
    Ok(())
}

/// `dropSearchIndex`.
pub fn drop(list: &mut Vec<SearchIndex>, name: &str) -> Result<(), SearchError> {
    let Some(pos) = list.iter().position(|ix| ix.name == name) else {
        return Err(not_found(name));
    };
    list.remove(pos);
    Ok(())
}

/// One index as `getSearchIndexes` / `$listSearchIndexes` show it. The sandbox builds
/// every index at once, so it is always `READY` and queryable.
pub fn describe(ix: &SearchIndex) -> Document {
    let mut d = Document::default();
    d.insert("id".into(), Value::String(ix.id.clone()));
    d.insert("name".into(), Value::String(ix.name.clone()));
    d.insert("type".into(), Value::String(ix.kind.name().into()));
    d.insert("status".into(), Value::String("READY".into()));
    d.insert("queryable".into(), Value::Bool(true));
    let mut version = Document::default();
    version.insert("version".into(), Value::Int32(ix.version));
    version.insert("createdAt".into(), Value::Date(ix.created_at_ms));
    d.insert("latestDefinitionVersion".into(), Value::Document(version));
    d.insert(
        "latestDefinition".into(),
        Value::Document(ix.definition.clone()),
    );
    d
}

/// The indexes `$listSearchIndexes` (`{id}` or `{name}`, not both) and `getSearchIndexes`
/// (a name or nothing) select.
pub fn list(indexes: &[SearchIndex], spec: &Document) -> Result<Vec<Document>, SearchError> {
    let (id, name) = (spec.get("id"), spec.get("name"));
    if id.is_some() && name.is_some() {
        return Err(SearchError::bad_value(
            "Cannot set both 'name' and 'id' to select an index",
        ));
    }
    if let Some(k) = spec.keys().find(|k| !matches!(k.as_str(), "id" | "name")) {
        return Err(SearchError {
            code: 40415,
            code_name: "Location40415",
            message: format!("BSON field '$listSearchIndexes.{k}' is an unknown field."),
        });
    }
    Ok(indexes
        .iter()
        .filter(|ix| match (id, name) {
            (Some(Value::String(i)), _) => &ix.id == i,
            (_, Some(Value::String(n))) => &ix.name == n,
            (Some(_), _) | (_, Some(_)) => false,
            (None, None) => true,
        })
        .map(describe)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::agg::tests_support::parse;

    fn doc(json: &str) -> Document {
        match parse(json) {
            Value::Document(d) => d,
            _ => Document::default(),
        }
    }

    #[test]
    fn vector_definitions_are_checked_as_mongot_checks_them() {
        let cases: &[(&str, Result<(), &str>)] = &[
            (
                r#"{"fields":[{"type":"vector","path":"v","numDimensions":3,"similarity":"cosine"},{"type":"filter","path":"year"}]}"#,
                Ok(()),
            ),
            (r#"{}"#, Err(r#""fields" is required"#)),
            (
                r#"{"fields":[{"type":"vector","path":"v","similarity":"cosine"}]}"#,
                Err(r#""fields[0].numDimensions" is required"#),
            ),
            (
                r#"{"fields":[{"type":"vector","path":"v","numDimensions":0,"similarity":"cosine"}]}"#,
                Err(r#""fields[0].numDimensions" must be within bounds [1..8192]"#),
            ),
            (
                r#"{"fields":[{"type":"vector","path":"v","numDimensions":2,"similarity":"manhattan"}]}"#,
                Err(r#""fields[0].similarity" must be one of [euclidean, cosine, dotProduct]"#),
            ),
            (
                r#"{"fields":[{"type":"filter","path":"year"}]}"#,
                Err("Invalid index definition: at least one field must be of type vector"),
            ),
            (
                r#"{"fields":[{"type":"knn","path":"v"}]}"#,
                Err(r#""fields[0].type" must be one of [vector, filter]"#),
            ),
        ];
        for (def, want) in cases {
            let got = parse_vector_definition(&doc(def))
                .map(|_| ())
                .map_err(|e| e.message);
            assert_eq!(got, want.map_err(str::to_string), "{def}");
        }
    }

    #[test]
    fn creating_the_same_index_again_is_a_no_op_and_another_definition_is_refused() {
        let mut list = Vec::new();
        let mut n = 0;
        let mut ids = || {
            n += 1;
            format!("{n:024x}")
        };
        let spec = doc(r#"{"definition":{"mappings":{"dynamic":true}}}"#);
        let new = vec![NewIndex::parse(&spec).unwrap_or_else(|e| panic!("{e:?}"))];
        assert_eq!(
            create(&mut list, new, 0, &mut ids),
            Ok(vec!["default".into()])
        );
        let again = vec![NewIndex::parse(&spec).unwrap_or_else(|e| panic!("{e:?}"))];
        assert_eq!(
            create(&mut list, again, 0, &mut ids),
            Ok(vec!["default".into()])
        );
        assert_eq!(list.len(), 1);
        let other = doc(r#"{"definition":{"mappings":{"dynamic":false}}}"#);
        let other = vec![NewIndex::parse(&other).unwrap_or_else(|e| panic!("{e:?}"))];
        assert_eq!(
            create(&mut list, other, 0, &mut ids).map_err(|e| e.code_name),
            Err("IndexAlreadyExists")
        );
        assert_eq!(drop(&mut list, "nope").map_err(|e| e.code), Err(27));
        assert_eq!(drop(&mut list, "default"), Ok(()));
        assert!(list.is_empty());
    }
}
