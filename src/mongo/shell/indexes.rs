//! The index shell methods (`createIndex`, `createIndexes`, `dropIndex`, `dropIndexes`,
//! `getIndexes`, `getIndexKeys`) and `cursor.explain()`.

use super::eval::{CursorSpec, Explainable, Js};
use super::{Session, ShellError};
use crate::mongo::index::explain::{explain_find, Verbosity};
use crate::mongo::index::plan::{self, Query};
use crate::mongo::index::IndexSpec;
use crate::mongo::query::{server_repr, Filter, QueryError};
use crate::mongo::value::{Document, Value};

fn server_error(e: QueryError) -> ShellError {
    ShellError::server(e.code, Some(e.code_name), e.message)
}

fn ok_doc(fields: Vec<(&str, Value)>) -> Js {
    let mut d: Document = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    d.insert("ok".into(), Value::Int32(1));
    Js::Val(Value::Document(d))
}

fn verbosity_error() -> ShellError {
    ShellError::server(
        2,
        Some("BadValue"),
        "verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}",
    )
}

fn count(n: usize) -> Value {
    Value::Int32(i32::try_from(n).unwrap_or(i32::MAX))
}

impl CursorSpec {
    /// What the planner needs of a find.
    pub(super) fn query<'a>(&'a self, filter: &'a Filter) -> Query<'a> {
        Query {
            filter_doc: &self.filter,
            filter,
            sort: self.sort.as_ref(),
            projection: self.projection.as_ref(),
            hint: self.hint.as_ref(),
            skip: self.skip,
            limit: self.limit,
        }
    }
}

impl Session {
    pub(super) fn index_method(
        &mut self,
        db: &str,
        coll: &str,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        let mut args = args.into_iter();
        let ns = format!("{db}.{coll}");
        match name {
            "createIndex" => {
                let keys = match args.next() {
                    Some(Js::Val(Value::Document(d))) => d,
                    _ => {
                        return Err(ShellError::new(
                            "MongoshInvalidInputError",
                            "[COMMON-10001] The \"keys\" parameter must be an object.",
                        ))
                    }
                };
                let options = match args.next() {
                    Some(Js::Val(Value::Document(d))) => d,
                    _ => Document::default(),
                };
                let spec = IndexSpec::parse(&keys, &options).map_err(server_error)?;
                let (name, _) = self
                    .store
                    .collection_mut(db, coll)
                    .create_index(spec, &ns)
                    .map_err(server_error)?;
                Ok(Js::Val(Value::String(name)))
            }
            "createIndexes" => {
                let list = match args.next() {
                    Some(Js::Val(Value::Array(items))) => items,
                    _ => {
                        return Err(ShellError::new(
                            "MongoshInvalidInputError",
                            "[COMMON-10001] The \"specs\" parameter must be an array of objects.",
                        ))
                    }
                };
                let options = match args.next() {
                    Some(Js::Val(Value::Document(d))) => d,
                    _ => Document::default(),
                };
                // Every spec is checked before any index is built, as one command.
                let mut specs = Vec::with_capacity(list.len());
                for item in &list {
                    let Value::Document(keys) = item else {
                        return Err(ShellError::new(
                            "MongoshInvalidInputError",
                            "[COMMON-10001] The \"specs\" parameter must be an array of objects.",
                        ));
                    };
                    specs.push(IndexSpec::parse(keys, &options).map_err(server_error)?);
                }
                let collection = self.store.collection_mut(db, coll);
                let mut names = Vec::with_capacity(specs.len());
                for spec in specs {
                    let (name, _) = collection.create_index(spec, &ns).map_err(server_error)?;
                    names.push(Value::String(name));
                }
                Ok(Js::Val(Value::Array(names)))
            }
            "getIndexes" | "getIndexKeys" => {
                let Some(c) = self.store.collection(db, coll) else {
                    return Err(ShellError::server(
                        26,
                        Some("NamespaceNotFound"),
                        format!("ns does not exist: {ns}"),
                    ));
                };
                // A time series collection is a view: it has no `_id` index of its own.
                let hidden = usize::from(c.options.timeseries.is_some());
                let list = c
                    .indexes()
                    .iter()
                    .skip(hidden)
                    .map(|ix| {
                        Value::Document(if name == "getIndexes" {
                            ix.spec.describe()
                        } else {
                            ix.spec.key_doc.clone()
                        })
                    })
                    .collect();
                Ok(Js::Val(Value::Array(list)))
            }
            "dropIndex" => {
                let which = match args.next() {
                    Some(Js::Val(v @ (Value::String(_) | Value::Document(_)))) => v,
                    _ => {
                        return Err(ShellError::server(
                            14,
                            Some("TypeMismatch"),
                            "BSON field 'dropIndexes.index' is the wrong type, expected types '[string, object]'",
                        ))
                    }
                };
                if matches!(&which, Value::String(s) if s == "*") {
                    return self.drop_all_indexes(db, coll);
                }
                self.drop_one_index(db, coll, &which)
            }
            "dropIndexes" => match args.next() {
                None | Some(Js::Undefined) => self.drop_all_indexes(db, coll),
                Some(Js::Val(Value::String(s))) if s == "*" => self.drop_all_indexes(db, coll),
                Some(Js::Val(Value::Array(names))) => {
                    let was = self.index_count(db, coll, &ns)?;
                    for n in &names {
                        self.drop_one_index(db, coll, n)?;
                    }
                    Ok(ok_doc(vec![("nIndexesWas", count(was))]))
                }
                Some(Js::Val(v)) => self.drop_one_index(db, coll, &v),
                Some(_) => Err(ShellError::server(
                    14,
                    Some("TypeMismatch"),
                    "BSON field 'dropIndexes.index' is the wrong type, expected types '[string, object]'",
                )),
            },
            "explain" => {
                let verbosity = match args.next() {
                    Some(Js::Val(v)) => v,
                    _ => Value::String("queryPlanner".into()),
                };
                if Verbosity::parse(Some(&verbosity)).is_none() {
                    return Err(verbosity_error());
                }
                Ok(Js::Explainable(Box::new(Explainable {
                    db: db.into(),
                    coll: coll.into(),
                    verbosity,
                })))
            }
            _ => Err(ShellError::type_error(format!(
                "db.{coll}.{name} is not a function"
            ))),
        }
    }

    fn index_count(&self, db: &str, coll: &str, ns: &str) -> Result<usize, ShellError> {
        match self.store.collection(db, coll) {
            Some(c) => Ok(c.indexes().len()),
            None => Err(ShellError::server(
                26,
                Some("NamespaceNotFound"),
                format!("ns not found {ns}"),
            )),
        }
    }

    fn drop_all_indexes(&mut self, db: &str, coll: &str) -> Result<Js, ShellError> {
        let was = self.index_count(db, coll, &format!("{db}.{coll}"))?;
        if let Some(c) = self
            .store
            .databases
            .get_mut(db)
            .and_then(|d| d.collections.get_mut(coll))
        {
            while c.indexes().len() > 1 {
                c.drop_index_at(c.indexes().len() - 1);
            }
        }
        Ok(ok_doc(vec![
            ("nIndexesWas", count(was)),
            (
                "msg",
                Value::String("non-_id indexes dropped for collection".into()),
            ),
        ]))
    }

    fn drop_one_index(&mut self, db: &str, coll: &str, which: &Value) -> Result<Js, ShellError> {
        let ns = format!("{db}.{coll}");
        let was = self.index_count(db, coll, &ns)?;
        let Some(c) = self
            .store
            .databases
            .get_mut(db)
            .and_then(|d| d.collections.get_mut(coll))
        else {
            return Err(ShellError::server(
                26,
                Some("NamespaceNotFound"),
                format!("ns not found {ns}"),
            ));
        };
        let position = match which {
            Value::String(name) => {
                if name == "_id_" {
                    return Err(ShellError::server(
                        72,
                        Some("InvalidOptions"),
                        "cannot drop _id index",
                    ));
                }
                c.indexes().iter().position(|ix| ix.name() == name).ok_or_else(|| {
                    ShellError::server(
                        27,
                        Some("IndexNotFound"),
                        format!("index not found with name [{name}]"),
                    )
                })?
            }
            Value::Document(key) => {
                let found = c.indexes().iter().position(|ix| ix.spec.has_key(key));
                match found {
                    Some(0) => {
                        return Err(ShellError::server(
                            72,
                            Some("InvalidOptions"),
                            "cannot drop _id index",
                        ))
                    }
                    Some(p) => p,
                    None => {
                        return Err(ShellError::server(
                            27,
                            Some("IndexNotFound"),
                            format!(
                                "can't find index with key: {}",
                                server_repr(&Value::Document(key.clone()))
                            ),
                        ))
                    }
                }
            }
            _ => {
                return Err(ShellError::server(
                    14,
                    Some("TypeMismatch"),
                    "BSON field 'dropIndexes.index' is the wrong type, expected types '[string, object]'",
                ))
            }
        };
        c.drop_index_at(position);
        Ok(ok_doc(vec![("nIndexesWas", count(was))]))
    }

    /// `cursor.explain(verbosity)`: plans (and for `executionStats` runs) the find.
    pub(super) fn explain_find(
        &self,
        spec: &CursorSpec,
        verbosity: Option<&Value>,
    ) -> Result<Document, ShellError> {
        let Some(verbosity) = Verbosity::parse(verbosity) else {
            return Err(verbosity_error());
        };
        let filter = super::collection::compile_filter(&spec.filter)?.at(self.now_ms as i64);
        let query = spec.query(&filter);
        let coll = self.store.collection(&spec.db, &spec.coll);
        let exec = match coll {
            Some(c) => Some(plan::execute(c, &query).map_err(server_error)?),
            None => None,
        };
        filter.take_error();
        Ok(explain_find(
            &format!("{}.{}", spec.db, spec.coll),
            coll,
            &query,
            exec.as_ref(),
            verbosity,
        ))
    }

    /// The last explained find, run again with `executionStats` as the planner chooses and
    /// without any index (`hint({$natural: 1})`), as relaxed Extended JSON
    /// `{"explain": …, "withoutIndex": …}`; None when no explain ran since the last call.
    pub fn take_explained(&mut self) -> Option<String> {
        let spec = self.explained.take()?;
        let stats = Value::String("executionStats".into());
        let planned = self.explain_find(&spec, Some(&stats)).ok()?;
        let mut natural = Document::default();
        natural.insert("$natural".into(), Value::Int32(1));
        let scan = CursorSpec {
            hint: Some(Value::Document(natural)),
            ..spec
        };
        let without = self.explain_find(&scan, Some(&stats)).ok()?;
        let mut both = Document::default();
        both.insert("explain".into(), Value::Document(planned));
        both.insert("withoutIndex".into(), Value::Document(without));
        Some(crate::mongo::value::to_relaxed_ejson(&Value::Document(
            both,
        )))
    }
}
