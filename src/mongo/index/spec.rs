//! What `createIndex` asks for: the key pattern, the options, the default name MongoDB gives
//! an index, the document `getIndexes` prints, and the conflicts with existing indexes.

use crate::mongo::query::{server_repr, QueryError};
use crate::mongo::value::{compare, js_number, values_equal, Document, Value};

/// One field of a key pattern.
#[derive(Debug, Clone)]
pub struct KeyField {
    pub path: String,
    pub parts: Vec<String>,
    pub descending: bool,
}

/// What an index is: an ordered tree of field values, or one of the special kinds.
#[derive(Debug, Clone)]
pub enum IndexKind {
    Regular,
    /// A text index: keys are `(term, score)` pairs.
    Text(Box<super::text::TextSpec>),
    /// `2dsphere` (`sphere`) or legacy `2d` on one field: the document's geometry.
    Geo {
        path: Vec<String>,
        sphere: bool,
    },
}

#[derive(Debug, Clone)]
pub struct IndexSpec {
    pub name: String,
    pub kind: IndexKind,
    /// The key pattern as given (`{ item: 1, quantity: -1 }`).
    pub key_doc: Document,
    pub key: Vec<KeyField>,
    pub unique: bool,
    pub sparse: bool,
    pub partial: Option<Document>,
    pub expire_after_secs: Option<f64>,
    /// The options as given, in order, without `name`: what `getIndexes` prints after it.
    pub options: Document,
}

const CANNOT_CREATE: (i32, &str) = (67, "CannotCreateIndex");

fn invalid_option(option: &str, described: &str) -> QueryError {
    QueryError::new(
        197,
        "InvalidIndexSpecificationOption",
        format!(
            "The field '{option}' is not valid for an index specification. Specification: {described}"
        ),
    )
}

fn cannot_create(message: impl Into<String>) -> QueryError {
    QueryError::new(CANNOT_CREATE.0, CANNOT_CREATE.1, message)
}

/// The default name: each field and its value joined by `_` (`item_1_quantity_-1`).
pub fn default_name(key: &Document) -> String {
    let mut parts = Vec::with_capacity(key.len() * 2);
    for (field, v) in key {
        parts.push(field.clone());
        parts.push(match v {
            Value::String(s) => s.clone(),
            Value::Int32(i) => i.to_string(),
            Value::Int64(i) => i.to_string(),
            Value::Double(x) => js_number(*x),
            other => server_repr(other),
        });
    }
    parts.join("_")
}

impl IndexSpec {
    /// The spec of the `_id_` index every collection has.
    pub fn id_index() -> IndexSpec {
        let mut key_doc = Document::default();
        key_doc.insert("_id".into(), Value::Int32(1));
        IndexSpec {
            name: "_id_".into(),
            kind: IndexKind::Regular,
            key_doc,
            key: vec![KeyField {
                path: "_id".into(),
                parts: vec!["_id".into()],
                descending: false,
            }],
            unique: true,
            sparse: false,
            partial: None,
            expire_after_secs: None,
            options: Document::default(),
        }
    }

    /// Parses `createIndex(keys, options)` into a spec, with the server's errors.
    pub fn parse(key_doc: &Document, options: &Document) -> Result<IndexSpec, QueryError> {
        let name = match options.get("name") {
            None => default_name(key_doc),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(QueryError::new(
                    14,
                    "TypeMismatch",
                    format!(
                        "BSON field 'createIndexes.indexes.name' is the wrong type '{}', expected type 'string'",
                        other.type_name()
                    ),
                ))
            }
        };
        let request_name = name.clone();
        let described = || describe_request(key_doc, &request_name, options);
        if key_doc.is_empty() {
            return Err(cannot_create(format!(
                "Error in specification {} :: caused by :: Index keys cannot be an empty object.",
                described()
            )));
        }
        if let Some(special) = parse_special(key_doc, options, &name, &described)? {
            return Ok(special);
        }
        let mut key = Vec::with_capacity(key_doc.len());
        for (field, v) in key_doc {
            let descending = match v {
                Value::Int32(_) | Value::Int64(_) | Value::Double(_) => {
                    let x = crate::mongo::query::filter::number_f64(v);
                    if x == 0.0 || x.is_nan() {
                        return Err(cannot_create(format!(
                            "Error in specification {} :: caused by :: Values in the index key pattern can't be all zero or negative zero",
                            described()
                        )));
                    }
                    x < 0.0
                }
                Value::String(kind) if matches!(kind.as_str(), "hashed" | "geoHaystack") =>
                {
                    return Err(QueryError::new(
                        238,
                        "NotImplemented",
                        format!("'{kind}' indexes are not supported in this sandbox yet"),
                    ))
                }
                Value::String(kind) => {
                    return Err(cannot_create(format!(
                        "Error in specification {} :: caused by :: Unknown index plugin '{kind}'",
                        described()
                    )))
                }
                _ => {
                    return Err(cannot_create(format!(
                        "Error in specification {} :: caused by :: Values in v:2 index key pattern cannot be of type {}. Only numbers > 0, numbers < 0, and strings are allowed.",
                        described(),
                        v.type_name()
                    )))
                }
            };
            if field.is_empty() || field.split('.').any(str::is_empty) {
                return Err(cannot_create(format!(
                    "Error in specification {} :: caused by :: Index key contains an illegal field name: field name starts with '$' or is empty.",
                    described()
                )));
            }
            key.push(KeyField {
                path: field.clone(),
                parts: field.split('.').map(str::to_string).collect(),
                descending,
            });
        }
        let mut spec = IndexSpec {
            name,
            kind: IndexKind::Regular,
            key_doc: key_doc.clone(),
            key,
            unique: false,
            sparse: false,
            partial: None,
            expire_after_secs: None,
            options: Document::default(),
        };
        for (option, v) in options {
            match option.as_str() {
                "name" => continue,
                "unique" => spec.unique = crate::mongo::agg::expr::truthy(v),
                "sparse" => spec.sparse = crate::mongo::agg::expr::truthy(v),
                "background" | "hidden" => {}
                "partialFilterExpression" => match v {
                    Value::Document(d) => spec.partial = Some(d.clone()),
                    _ => {
                        return Err(QueryError::new(
                            14,
                            "TypeMismatch",
                            "BSON field 'createIndexes.indexes.partialFilterExpression' is the wrong type, expected type 'object'",
                        ))
                    }
                },
                "expireAfterSeconds" => {
                    if !v.is_number() {
                        return Err(cannot_create(format!(
                            "Error in specification {} :: caused by :: TTL index 'expireAfterSeconds' option must be numeric, but received a type of '{}'. Index spec: {}",
                            described(), v.type_name(), described()
                        )));
                    }
                    spec.expire_after_secs = Some(crate::mongo::query::filter::number_f64(v));
                }
                "collation" => {
                    return Err(QueryError::new(
                        238,
                        "NotImplemented",
                        "collations are not supported in this sandbox (indexes compare strings by their bytes, as the simple collation does)",
                    ))
                }
                other => {
                    return Err(invalid_option(other, &described()))
                }
            }
            spec.options.insert(option.clone(), v.clone());
        }
        if spec.sparse && spec.partial.is_some() {
            return Err(cannot_create(format!(
                "Error in specification {} :: caused by :: cannot mix \"partialFilterExpression\" and \"sparse\" options",
                described()
            )));
        }
        if spec.expire_after_secs.is_some() && spec.key.len() > 1 {
            return Err(cannot_create(format!(
                "Error in specification {} :: caused by :: TTL indexes are single-field indexes, compound indexes do not support TTL. Index spec: {}",
                described(), described()
            )));
        }
        Ok(spec)
    }

    /// The document `getIndexes` prints: `{ v: 2, key: { … }, name: '…', …options }`.
    pub fn describe(&self) -> Document {
        let mut d = Document::default();
        d.insert("v".into(), Value::Int32(2));
        d.insert("key".into(), Value::Document(self.key_doc.clone()));
        d.insert("name".into(), Value::String(self.name.clone()));
        for (k, v) in &self.options {
            d.insert(k.clone(), v.clone());
        }
        d
    }

    /// The same key pattern (`{a: 1}` and `{a: 1.0}` are one pattern).
    pub fn same_key(&self, other: &IndexSpec) -> bool {
        self.has_key(&other.key_doc)
    }

    /// Whether this index's key pattern is `key` (a hint or `dropIndex` argument).
    pub fn has_key(&self, key: &Document) -> bool {
        self.key_doc.len() == key.len()
            && self
                .key_doc
                .iter()
                .zip(key)
                .all(|((a, x), (b, y))| a == b && compare(x, y).is_eq())
    }

    /// The same options that change what the index holds or does.
    pub fn same_options(&self, other: &IndexSpec) -> bool {
        let same_partial = match (&self.partial, &other.partial) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                values_equal(&Value::Document(a.clone()), &Value::Document(b.clone()))
            }
            _ => false,
        };
        let same_special = match (&self.kind, &other.kind) {
            (IndexKind::Regular, IndexKind::Regular) => true,
            _ => values_equal(
                &Value::Document(self.options.clone()),
                &Value::Document(other.options.clone()),
            ),
        };
        same_special
            && self.unique == other.unique
            && self.sparse == other.sparse
            && same_partial
            && self.expire_after_secs == other.expire_after_secs
    }

    /// The index the server means in its errors: `{ v: 2, key: …, name: "…", … }`.
    pub fn server_text(&self) -> String {
        server_repr(&Value::Document(self.describe()))
    }
}

/// A text, `2dsphere` or `2d` index: its spec, or `None` for an ordinary key pattern.
fn parse_special(
    key_doc: &Document,
    options: &Document,
    name: &str,
    described: &dyn Fn() -> String,
) -> Result<Option<IndexSpec>, QueryError> {
    let special =
        |v: &Value| matches!(v, Value::String(s) if s == "text" || s == "2dsphere" || s == "2d");
    let Some(kind) = key_doc.values().find(|v| special(v)) else {
        return Ok(None);
    };
    let mut rest = Document::default();
    for (option, v) in options {
        match option.as_str() {
            "name" | "background" | "hidden" => {}
            "unique" | "expireAfterSeconds" | "collation" => {
                return Err(QueryError::new(
                    238,
                    "NotImplemented",
                    format!(
                        "'{option}' on a text or geospatial index is not supported in this sandbox"
                    ),
                ))
            }
            _ => {
                rest.insert(option.clone(), v.clone());
            }
        }
    }
    let field = |path: &str| KeyField {
        path: path.to_string(),
        parts: path.split('.').map(str::to_string).collect(),
        descending: false,
    };
    if matches!(kind, Value::String(s) if s == "text") {
        let (text, stored_key, shown) = super::text::parse_spec(key_doc, &rest)?;
        return Ok(Some(IndexSpec {
            name: name.to_string(),
            kind: IndexKind::Text(Box::new(text)),
            key_doc: stored_key,
            key: vec![field("_fts"), field("_ftsx")],
            unique: false,
            sparse: false,
            partial: None,
            expire_after_secs: None,
            options: shown,
        }));
    }
    let sphere = matches!(kind, Value::String(s) if s == "2dsphere");
    let (Some((path, _)), 1) = (key_doc.iter().next(), key_doc.len()) else {
        return Err(QueryError::new(
            238,
            "NotImplemented",
            "compound geospatial indexes are not supported in this sandbox: index one field",
        ));
    };
    if path.is_empty() || path.starts_with('$') || path.split('.').any(str::is_empty) {
        return Err(cannot_create(format!(
            "Error in specification {} :: caused by :: Index key contains an illegal field name: field name starts with '$' or is empty.",
            described()
        )));
    }
    let mut shown = Document::default();
    for (option, v) in &rest {
        match option.as_str() {
            "2dsphereIndexVersion" if sphere => {}
            "bits" | "min" | "max" if !sphere => {
                shown.insert(option.clone(), v.clone());
            }
            "sparse" => {
                shown.insert(option.clone(), v.clone());
            }
            other => return Err(invalid_option(other, &described())),
        }
    }
    if sphere {
        shown.insert("2dsphereIndexVersion".into(), Value::Int32(3));
    }
    Ok(Some(IndexSpec {
        name: name.to_string(),
        kind: IndexKind::Geo {
            path: field(path).parts,
            sphere,
        },
        key_doc: key_doc.clone(),
        key: vec![field(path)],
        unique: false,
        sparse: false,
        partial: None,
        expire_after_secs: None,
        options: shown,
    }))
}

/// The requested spec as the server prints it inside errors: `{ key: { … }, name: "…" }`.
fn describe_request(key_doc: &Document, name: &str, options: &Document) -> String {
    let mut d = Document::default();
    d.insert("key".into(), Value::Document(key_doc.clone()));
    d.insert("name".into(), Value::String(name.to_string()));
    for (k, v) in options {
        if k != "name" {
            d.insert(k.clone(), v.clone());
        }
    }
    server_repr(&Value::Document(d))
}

/// What creating `new` means next to the existing indexes: already there (its name), a
/// new index, or the server's conflict error.
pub fn check_conflicts<'a>(
    existing: impl Iterator<Item = &'a IndexSpec>,
    new: &IndexSpec,
) -> Result<Option<String>, QueryError> {
    for old in existing {
        let same_key = old.same_key(new);
        let same_name = old.name == new.name;
        let same_options = old.same_options(new);
        match (same_name, same_key, same_options) {
            (true, true, true) => return Ok(Some(old.name.clone())),
            (true, true, false) => {
                return Err(QueryError::new(
                    85,
                    "IndexOptionsConflict",
                    format!(
                        "An equivalent index already exists with the same name but different options. Requested index: {}, existing index: {}",
                        new.server_text(),
                        old.server_text()
                    ),
                ))
            }
            (true, false, _) => {
                return Err(QueryError::new(
                    86,
                    "IndexKeySpecsConflict",
                    format!(
                        "An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: {}, existing index: {}",
                        new.server_text(),
                        old.server_text()
                    ),
                ))
            }
            // Indexes that differ only in partial filters may share a key pattern.
            (false, true, _) if old.partial.is_some() && new.partial.is_some() && !same_options => {}
            (false, true, true) => {
                return Err(QueryError::new(
                    85,
                    "IndexOptionsConflict",
                    format!("Index already exists with a different name: {}", old.name),
                ))
            }
            (false, true, false) => {
                return Err(QueryError::new(
                    85,
                    "IndexOptionsConflict",
                    format!(
                        "An equivalent index already exists with a different name and options. Requested index: {}, existing index: {}",
                        new.server_text(),
                        old.server_text()
                    ),
                ))
            }
            (false, false, _) => {}
        }
    }
    Ok(None)
}
