//! The collection-level shell methods (`db.getCollection`, `db.c.insertOne`, `find`, …) and
//! the glue between the shell's cursors and the query engine.

use super::eval::{number_value, CursorSpec, Js};
use super::{Session, ShellError};
use crate::mongo::query::cursor::{self, FindSpec};
use crate::mongo::query::{server_repr, Filter, QueryError};
use crate::mongo::store::InsertError;
use crate::mongo::value::{Document, Value};

impl From<QueryError> for ShellError {
    fn from(e: QueryError) -> Self {
        ShellError::server(e.code, Some(e.code_name), e.message)
    }
}

impl Session {
    pub(super) fn run_cursor(&self, spec: &CursorSpec) -> Result<Vec<Document>, ShellError> {
        Ok(self.matching(spec)?.into_iter().cloned().collect())
    }

    /// The documents a cursor yields, borrowed: counting needs no copies.
    pub(super) fn matching(&self, spec: &CursorSpec) -> Result<Vec<&Document>, ShellError> {
        let find = FindSpec {
            filter: &spec.filter,
            sort: spec.sort.as_ref(),
            skip: spec.skip,
            limit: spec.limit,
        };
        // The filter is checked even when the collection does not exist.
        compile_filter(&spec.filter)?;
        let Some(coll) = self.store.collection(&spec.db, &spec.coll) else {
            return Ok(Vec::new());
        };
        Ok(cursor::find(&coll.docs, &find)?)
    }

    pub(super) fn db_method(&mut self, name: &str, args: Vec<Js>) -> Result<Js, ShellError> {
        match name {
            "getName" => Ok(Js::Val(Value::String(self.db.clone()))),
            "getCollection" => match args.into_iter().next() {
                Some(Js::Val(Value::String(coll))) => {
                    if coll.is_empty() || coll.contains('$') || coll.contains('\0') {
                        return Err(ShellError::invalid_input(format!(
                            "Invalid collection name: {coll}"
                        )));
                    }
                    Ok(Js::Collection {
                        db: self.db.clone(),
                        name: coll,
                    })
                }
                _ => Err(ShellError::invalid_input(
                    "Collection name must be a string",
                )),
            },
            "getCollectionNames" => Ok(Js::Val(Value::Array(
                self.collection_names()
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ))),
            "dropDatabase" => {
                let db = self.db.clone();
                self.store.databases.remove(&db);
                let mut d = Document::default();
                d.insert("ok".into(), Value::Int32(1));
                d.insert("dropped".into(), Value::String(db));
                Ok(Js::Val(Value::Document(d)))
            }
            _ => Err(ShellError::type_error(format!(
                "db.{name} is not a function"
            ))),
        }
    }

    pub(super) fn collection_method(
        &mut self,
        db: &str,
        coll: &str,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        let mut args = args.into_iter();
        match name {
            "insertOne" => {
                let doc = match args.next() {
                    Some(Js::Val(Value::Document(d))) => d,
                    _ => {
                        return Err(ShellError::new(
                            "MongoInvalidArgumentError",
                            "Argument \"document\" must be an object",
                        ))
                    }
                };
                let doc = self.prepare_insert(doc);
                let id = doc.get("_id").cloned().unwrap_or(Value::Null);
                self.store
                    .collection_mut(db, coll)
                    .insert(doc)
                    .map_err(|e| insert_error(&e, db, coll, "MongoServerError"))?;
                let mut r = Document::default();
                r.insert("acknowledged".into(), Value::Bool(true));
                r.insert("insertedId".into(), id);
                Ok(Js::Val(Value::Document(r)))
            }
            "insertMany" => {
                let docs = match args.next() {
                    Some(Js::Val(Value::Array(items))) => items,
                    _ => {
                        return Err(ShellError::new(
                            "MongoInvalidArgumentError",
                            "Argument \"docs\" must be an array of documents",
                        ))
                    }
                };
                let ordered = match args.next() {
                    Some(Js::Val(Value::Document(opts))) => {
                        !matches!(opts.get("ordered"), Some(Value::Bool(false)))
                    }
                    _ => true,
                };
                let mut prepared = Vec::with_capacity(docs.len());
                for d in docs {
                    match d {
                        Value::Document(d) => prepared.push(self.prepare_insert(d)),
                        _ => {
                            return Err(ShellError::new(
                                "MongoInvalidArgumentError",
                                "Argument \"docs\" must be an array of documents",
                            ))
                        }
                    }
                }
                let mut ids = Document::default();
                let mut failures = Vec::new();
                let collection = self.store.collection_mut(db, coll);
                for (i, doc) in prepared.into_iter().enumerate() {
                    let id = doc.get("_id").cloned().unwrap_or(Value::Null);
                    let op = doc.clone();
                    match collection.insert(doc) {
                        Ok(()) => {
                            ids.insert(i.to_string(), id);
                        }
                        Err(e) => {
                            failures.push((i, e, op));
                            if ordered {
                                break;
                            }
                        }
                    }
                }
                if !failures.is_empty() {
                    return Err(bulk_write_error(&failures, ids, db, coll));
                }
                let mut r = Document::default();
                r.insert("acknowledged".into(), Value::Bool(true));
                r.insert("insertedIds".into(), Value::Document(ids));
                Ok(Js::Val(Value::Document(r)))
            }
            "find" => {
                let filter = filter_arg(args.next())?;
                if args.next().is_some_and(|p| !matches!(p, Js::Undefined)) {
                    return Err(ShellError::new(
                        "MongoshUnimplementedError",
                        "[COMMON-90002] find() with a projection is not supported in this sandbox yet",
                    ));
                }
                Ok(Js::Cursor(Box::new(CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    sort: None,
                    skip: 0,
                    limit: None,
                })))
            }
            "findOne" => {
                let filter = filter_arg(args.next())?;
                let spec = CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    sort: None,
                    skip: 0,
                    limit: Some(1),
                };
                let docs = self.run_cursor(&spec)?;
                Ok(Js::Val(
                    docs.into_iter().next().map_or(Value::Null, Value::Document),
                ))
            }
            "countDocuments" => {
                let filter = filter_arg(args.next())?;
                let spec = CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    sort: None,
                    skip: 0,
                    limit: None,
                };
                let n = self.matching(&spec)?.len();
                Ok(Js::Val(number_value(n as f64)))
            }
            "estimatedDocumentCount" => {
                let n = self.store.collection(db, coll).map_or(0, |c| c.docs.len());
                Ok(Js::Val(number_value(n as f64)))
            }
            "drop" => {
                // Since MongoDB 7.0 dropping a missing collection succeeds too.
                self.store.drop_collection(db, coll);
                Ok(Js::Val(Value::Bool(true)))
            }
            "getName" => Ok(Js::Val(Value::String(coll.into()))),
            "getFullName" => Ok(Js::Val(Value::String(format!("{db}.{coll}")))),
            _ => Err(ShellError::type_error(format!(
                "db.{coll}.{name} is not a function"
            ))),
        }
    }

    /// Gives a document its `_id` (generated if absent) in first position, as the server
    /// stores it.
    pub(super) fn prepare_insert(&mut self, mut doc: Document) -> Document {
        // The driver tests `doc._id == null`, so an explicit null `_id` also gets a new id.
        match doc
            .shift_remove("_id")
            .filter(|id| !matches!(id, Value::Null))
        {
            Some(id) => {
                doc.shift_insert(0, "_id".into(), id);
            }
            None => {
                let id = Value::ObjectId(self.oids.next(self.now_ms));
                doc.shift_insert(0, "_id".into(), id);
            }
        }
        doc
    }
}

pub(super) fn insert_error(e: &InsertError, db: &str, coll: &str, name: &str) -> ShellError {
    let (code, message) = match e {
        InsertError::DuplicateId(id) => (
            11000,
            format!(
                "E11000 duplicate key error collection: {db}.{coll} index: _id_ dup key: {{ _id: {} }}",
                server_repr(id)
            ),
        ),
        InsertError::IdIsArray => (53, "The '_id' value cannot be of type array".to_string()),
    };
    let mut err = ShellError::server(code, None, message);
    err.name = name.into();
    err
}

/// The `MongoBulkWriteError` of a failed insertMany, with the `Result:` and `Write Errors:`
/// lines mongosh prints after the message (the driver's BulkWriteResult and WriteErrors).
pub(super) fn bulk_write_error(
    failures: &[(usize, InsertError, Document)],
    inserted_ids: Document,
    db: &str,
    coll: &str,
) -> ShellError {
    let Some((_, first, _)) = failures.first() else {
        return ShellError::new("MongoBulkWriteError", "bulk write failed");
    };
    let mut err = insert_error(first, db, coll, "MongoBulkWriteError");
    let mut result = Document::default();
    result.insert(
        "insertedCount".into(),
        number_value(inserted_ids.len() as f64),
    );
    for field in [
        "matchedCount",
        "modifiedCount",
        "deletedCount",
        "upsertedCount",
    ] {
        result.insert(field.into(), Value::Int32(0));
    }
    result.insert("upsertedIds".into(), Value::Document(Document::default()));
    result.insert("insertedIds".into(), Value::Document(inserted_ids));
    let write_errors: Vec<Document> = failures
        .iter()
        .map(|(index, e, op)| {
            let one = insert_error(e, db, coll, "WriteError");
            let mut inner = Document::default();
            inner.insert("index".into(), number_value(*index as f64));
            inner.insert(
                "code".into(),
                number_value(f64::from(one.code.unwrap_or(0))),
            );
            inner.insert("errmsg".into(), Value::String(one.message.clone()));
            inner.insert("errInfo".into(), Value::Undefined);
            inner.insert("op".into(), Value::Document(op.clone()));
            let mut outer = Document::default();
            outer.insert("err".into(), Value::Document(inner));
            outer
        })
        .collect();
    err.details = Some(format!(
        "Result: {}\nWrite Errors: {}",
        crate::mongo::format::inspect_instance("BulkWriteResult", &result),
        crate::mongo::format::inspect_instances("WriteError", &write_errors)
    ));
    err
}

/// A filter argument: absent means `{}`, an ObjectId means `{_id: it}` (as the driver does).
pub(super) fn filter_arg(v: Option<Js>) -> Result<Document, ShellError> {
    match v {
        None | Some(Js::Undefined) | Some(Js::Val(Value::Null)) => Ok(Document::default()),
        Some(Js::Val(Value::Document(d))) => Ok(d),
        Some(Js::Val(Value::ObjectId(o))) => {
            let mut d = Document::default();
            d.insert("_id".into(), Value::ObjectId(o));
            Ok(d)
        }
        Some(_) => Err(ShellError::new(
            "MongoInvalidArgumentError",
            "Query filter must be a plain object or ObjectId",
        )),
    }
}

pub(super) fn compile_filter(filter: &Document) -> Result<Filter, ShellError> {
    Filter::compile(filter).map_err(|e| ShellError::server(e.code, Some(e.code_name), e.message))
}
