//! The search stages in a pipeline. Like `$geoNear`, each must come first: the pipeline
//! runner asks `leading` for its documents, then compiles the stage as a pass-through. The
//! scores travel in hidden top-level fields (`vector::SCORE_FIELD`, `fulltext::SCORE_FIELD`)
//! that `{ $meta: "vectorSearchScore" }` / `{ $meta: "searchScore" }` read and that the
//! runner removes from the results.

use super::{fulltext, vector, SearchError};
use crate::mongo::agg::stages::{Scope, StageOp};
use crate::mongo::agg::{AggError, Ctx, Row};
use crate::mongo::store::Collection;
use crate::mongo::value::{Document, Value};

/// The stages this module answers.
pub const STAGES: &[&str] = &[
    "$vectorSearch",
    "$search",
    "$searchMeta",
    "$listSearchIndexes",
];

/// The hidden fields a search stage adds to its documents.
pub const HIDDEN_FIELDS: &[&str] = &[vector::SCORE_FIELD, fulltext::SCORE_FIELD];

/// The argument a leading search stage is compiled with once its documents were produced.
pub const PREPARED: &str = "$__preparedSearch";

impl From<SearchError> for AggError {
    fn from(e: SearchError) -> Self {
        AggError::new(e.code, e.code_name, e.message)
    }
}

fn with_score(doc: &Document, field: &str, score: f64) -> Document {
    let mut d = doc.clone();
    d.insert(field.into(), Value::Double(score));
    d
}

/// The documents a leading search stage produces (over a missing collection: none).
pub fn leading(
    coll: Option<&Collection>,
    name: &str,
    arg: &Value,
    now_ms: i64,
) -> Result<Vec<Document>, AggError> {
    let (indexes, docs) = match coll {
        Some(c) => (c.search_indexes.as_slice(), c.docs.as_slice()),
        None => (&[][..], &[][..]),
    };
    Ok(match name {
        "$vectorSearch" => match coll {
            Some(c) => vector::run(c, arg, now_ms)?,
            None => Vec::new(),
        }
        .into_iter()
        .filter_map(|(pos, s)| Some(with_score(docs.get(pos)?, vector::SCORE_FIELD, s)))
        .collect(),
        "$search" => {
            let req = fulltext::SearchRequest::parse(arg, name)?;
            fulltext::run(coll, &req)?
                .into_iter()
                .filter_map(|(pos, s)| Some(with_score(docs.get(pos)?, fulltext::SCORE_FIELD, s)))
                .collect()
        }
        "$searchMeta" => {
            let req = fulltext::SearchRequest::parse(arg, name)?;
            let n = fulltext::run(coll, &req)?.len();
            let mut count = Document::default();
            count.insert(
                if req.count_total {
                    "total"
                } else {
                    "lowerBound"
                }
                .into(),
                Value::Int64(n as i64),
            );
            let mut meta = Document::default();
            meta.insert("count".into(), Value::Document(count));
            vec![meta]
        }
        _ => {
            let spec = match arg {
                Value::Document(d) => d.clone(),
                _ => {
                    return Err(AggError::new(
                        14,
                        "TypeMismatch",
                        "$listSearchIndexes value must be an object",
                    ))
                }
            };
            super::list(indexes, &spec)?
        }
    })
}

/// The `{ $meta: … }` values a search stage provides, from the hidden fields of `root`.
/// None when `kind` is not one of them.
pub fn meta(kind: &str, root: &Document) -> Option<Result<Value, AggError>> {
    let field = match kind {
        "vectorSearchScore" => vector::SCORE_FIELD,
        "searchScore" => fulltext::SCORE_FIELD,
        _ => return None,
    };
    Some(match root.get(field) {
        Some(v) => Ok(v.clone()),
        None => Err(AggError::new(
            40218,
            "Location40218",
            format!("query requires {kind} metadata, but it is not available"),
        )),
    })
}

/// The hidden field a `$sort` key `{ $meta: "searchScore" }` (or `"vectorSearchScore"`)
/// sorts by, highest first.
pub fn sort_field(v: &Value) -> Option<&'static str> {
    let Value::Document(d) = v else { return None };
    match (d.len(), d.get("$meta")) {
        (1, Some(Value::String(k))) if k == "searchScore" => Some(fulltext::SCORE_FIELD),
        (1, Some(Value::String(k))) if k == "vectorSearchScore" => Some(vector::SCORE_FIELD),
        _ => None,
    }
}

struct PassThrough;

impl StageOp for PassThrough {
    fn run<'a>(&self, rows: Vec<Row<'a>>, _: &Ctx<'a>) -> Result<Vec<Row<'a>>, AggError> {
        Ok(rows)
    }
}

fn compile(name: &str, arg: &Value) -> Result<Box<dyn StageOp>, AggError> {
    if matches!(arg, Value::Document(d) if d.contains_key(PREPARED)) {
        return Ok(Box::new(PassThrough));
    }
    Err(AggError::new(
        40602,
        "Location40602",
        format!("{name} is only valid as the first stage in a pipeline"),
    ))
}

pub fn compile_vector_search(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    compile("$vectorSearch", arg)
}

pub fn compile_search(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    compile("$search", arg)
}

pub fn compile_search_meta(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    compile("$searchMeta", arg)
}

pub fn compile_list_search_indexes(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    compile("$listSearchIndexes", arg)
}
