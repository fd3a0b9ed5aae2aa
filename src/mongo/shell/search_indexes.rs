//! The search index shell methods, as mongosh 2 has them: `createSearchIndex` (all four
//! call forms), `createSearchIndexes`, `getSearchIndexes`, `updateSearchIndex` and
//! `dropSearchIndex`. `createSearchIndex` answers the index's name; `dropSearchIndex` and
//! `updateSearchIndex` answer nothing (mongosh prints nothing for them).

use super::eval::Js;
use super::{Session, ShellError};
use crate::mongo::search::{self, NewIndex, SearchError, SearchIndex};
use crate::mongo::value::{Document, Value};

pub(super) const SEARCH_INDEX_METHODS: &[&str] = &[
    "createSearchIndex",
    "createSearchIndexes",
    "getSearchIndexes",
    "updateSearchIndex",
    "dropSearchIndex",
];

impl From<SearchError> for ShellError {
    fn from(e: SearchError) -> Self {
        ShellError::server(e.code, Some(e.code_name), e.message)
    }
}

fn value(arg: Option<Js>) -> Option<Value> {
    match arg {
        Some(Js::Val(v)) if !matches!(v, Value::Undefined | Value::Null) => Some(v),
        _ => None,
    }
}

/// mongosh's `createSearchIndex(nameOrOptions?, typeOrDefinition?, definition?)` turned into
/// the one index description it sends.
fn description(args: Vec<Js>) -> Document {
    let mut args = args.into_iter();
    let (first, second, third) = (value(args.next()), value(args.next()), value(args.next()));
    if let Some(Value::Document(d)) = &first {
        let has_definition = matches!(
            d.get("definition"),
            Some(v) if !matches!(v, Value::Null | Value::Undefined | Value::Bool(false))
        );
        if has_definition {
            return d.clone();
        }
    }
    let mut name = None;
    let mut kind = None;
    let mut definition = match third {
        Some(Value::Document(d)) => Some(d),
        _ => None,
    };
    match second {
        Some(Value::Document(d)) => definition = Some(d),
        Some(v) => kind = Some(v),
        None => {}
    }
    match first {
        Some(Value::Document(d)) => definition = Some(d),
        Some(v) => name = Some(v),
        None => {}
    }
    let mut out = Document::default();
    out.insert(
        "name".into(),
        name.unwrap_or_else(|| Value::String("default".into())),
    );
    if let Some(k) = kind.filter(|k| !matches!(k, Value::String(s) if s == "search")) {
        out.insert("type".into(), k);
    }
    out.insert(
        "definition".into(),
        Value::Document(definition.unwrap_or_default()),
    );
    out
}

fn missing_collection(db: &str, coll: &str) -> ShellError {
    ShellError::server(
        26,
        Some("NamespaceNotFound"),
        format!("Collection '{db}.{coll}' does not exist."),
    )
}

fn name_arg(arg: Option<Js>, command: &str) -> Result<String, ShellError> {
    match value(arg) {
        Some(Value::String(s)) => Ok(s),
        None => Err(ShellError::server(
            40414,
            Some("Location40414"),
            format!("BSON field '{command}.name' is missing but a required field"),
        )),
        Some(_) => Err(ShellError::server(
            14,
            Some("TypeMismatch"),
            format!("BSON field '{command}.name' is the wrong type, expected type 'string'"),
        )),
    }
}

impl Session {
    fn search_indexes_mut(
        &mut self,
        db: &str,
        coll: &str,
    ) -> Result<&mut Vec<SearchIndex>, ShellError> {
        match self
            .store
            .databases
            .get_mut(db)
            .and_then(|d| d.collections.get_mut(coll))
        {
            Some(c) => Ok(&mut c.search_indexes),
            None => Err(missing_collection(db, coll)),
        }
    }

    fn create_search_indexes(
        &mut self,
        db: &str,
        coll: &str,
        specs: &[Document],
    ) -> Result<Vec<String>, ShellError> {
        let new = specs
            .iter()
            .map(NewIndex::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.now_ms;
        let mut ids = Vec::with_capacity(new.len());
        for _ in &new {
            ids.push(self.oids.next(now).to_hex());
        }
        let mut ids = ids.into_iter();
        let list = self.search_indexes_mut(db, coll)?;
        Ok(search::create(list, new, now as i64, || {
            ids.next().unwrap_or_default()
        })?)
    }

    pub(super) fn search_index_method(
        &mut self,
        db: &str,
        coll: &str,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        match name {
            "createSearchIndex" => {
                let spec = description(args);
                let names = self.create_search_indexes(db, coll, &[spec])?;
                Ok(Js::Val(Value::String(
                    names.into_iter().next().unwrap_or_default(),
                )))
            }
            "createSearchIndexes" => {
                let specs = match value(args.into_iter().next()) {
                    Some(Value::Array(items)) => items
                        .into_iter()
                        .map(|i| match i {
                            Value::Document(d) => Ok(d),
                            _ => Err(ShellError::server(
                                14,
                                Some("TypeMismatch"),
                                "BSON field 'createSearchIndexes.indexes' is the wrong type, expected type 'object'",
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => {
                        return Err(ShellError::server(
                            14,
                            Some("TypeMismatch"),
                            "BSON field 'createSearchIndexes.indexes' is the wrong type, expected type 'array'",
                        ))
                    }
                };
                let names = self.create_search_indexes(db, coll, &specs)?;
                Ok(Js::Val(Value::Array(
                    names.into_iter().map(Value::String).collect(),
                )))
            }
            "getSearchIndexes" => {
                let mut spec = Document::default();
                if let Some(v @ Value::String(_)) = value(args.into_iter().next()) {
                    spec.insert("name".into(), v);
                }
                let Some(c) = self.store.collection(db, coll) else {
                    return Err(missing_collection(db, coll));
                };
                let list = search::list(&c.search_indexes, &spec)?;
                Ok(Js::Val(Value::Array(
                    list.into_iter().map(Value::Document).collect(),
                )))
            }
            "updateSearchIndex" => {
                let mut args = args.into_iter();
                let index = name_arg(args.next(), "updateSearchIndex")?;
                let definition = match value(args.next()) {
                    Some(Value::Document(d)) => d,
                    _ => return Err(ShellError::server(
                        40414,
                        Some("Location40414"),
                        "BSON field 'updateSearchIndex.definition' is missing but a required field",
                    )),
                };
                let now = self.now_ms as i64;
                let list = self.search_indexes_mut(db, coll)?;
                search::update(list, &index, definition, now)?;
                Ok(Js::Undefined)
            }
            _ => {
                let index = name_arg(args.into_iter().next(), "dropSearchIndex")?;
                let list = self.search_indexes_mut(db, coll)?;
                search::drop(list, &index)?;
                Ok(Js::Undefined)
            }
        }
    }
}
