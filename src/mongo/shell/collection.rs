//! The collection-level shell methods (`db.getCollection`, `db.c.insertOne`, `find`,
//! `updateOne`, `bulkWrite`, …) and the glue between the shell's cursors and the query engine.
//!
//! Results print as mongosh's result classes do (`UpdateResult`, `DeleteResult`,
//! `BulkWriteResult`: plain objects with their fields in the class's order). Errors the server
//! returns as write errors (updates, deletes, inserts) print as `MongoServerError: …`; command
//! errors (find, findOneAndUpdate, countDocuments, distinct) carry the code name.

use super::eval::rows::{Found, Shape};
use super::eval::{number_value, valid_db_name, CursorSpec, Js};
use super::{Session, ShellError};
use crate::mongo::index::plan;
use crate::mongo::query::filter::array_index;
use crate::mongo::query::projection::Projection;
use crate::mongo::query::update::{upsert_seed, ApplyContext, Update};
use crate::mongo::query::{server_repr, Filter, QueryError};
use crate::mongo::store::{Collection, InsertError};
use crate::mongo::value::{compare, values_equal, Document, Value};

/// The methods `db.<collection>.<name>` resolves to; any other name is a sub-collection
/// (`db.a.b`), as in mongosh.
pub const COLLECTION_METHODS: &[&str] = &[
    "insertOne",
    "insertMany",
    "find",
    "findOne",
    "countDocuments",
    "estimatedDocumentCount",
    "drop",
    "getName",
    "getFullName",
    "updateOne",
    "updateMany",
    "replaceOne",
    "deleteOne",
    "deleteMany",
    "findOneAndUpdate",
    "findOneAndReplace",
    "findOneAndDelete",
    "distinct",
    "bulkWrite",
    "aggregate",
    "isCapped",
    "createIndex",
    "createIndexes",
    "dropIndex",
    "dropIndexes",
    "getIndexes",
    "getIndexKeys",
    "explain",
    "createSearchIndex",
    "createSearchIndexes",
    "getSearchIndexes",
    "updateSearchIndex",
    "dropSearchIndex",
    "getPlanCache",
];

use crate::mongo::agg::shell::Aggregated;

impl From<QueryError> for ShellError {
    fn from(e: QueryError) -> Self {
        let mut err = ShellError::server(e.code, Some(e.code_name), e.message);
        err.details = e.info.as_deref().map(additional_information);
        err
    }
}

/// A server error returned as a write error: mongosh shows no code name for it.
fn write_error(e: QueryError) -> ShellError {
    let mut err = ShellError::server(e.code, None, e.message);
    err.details = e.info.as_deref().map(additional_information);
    err
}

/// The line mongosh prints under a server error that carries `errInfo` (at full depth).
fn additional_information(info: &Document) -> String {
    let options = crate::mongo::format::Options {
        depth: usize::MAX,
        ..crate::mongo::format::Options::VALUE
    };
    format!(
        "Additional information: {}",
        crate::mongo::format::inspect(&Value::Document(info.clone()), options)
    )
}

const VALIDATION_FAILED: &str = "Document failed validation";

fn invalid_argument(message: impl Into<String>) -> ShellError {
    ShellError::new("MongoInvalidArgumentError", message)
}

fn result_doc(fields: Vec<(&str, Value)>) -> Js {
    Js::Val(Value::Document(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    ))
}

fn count(n: usize) -> Value {
    number_value(n as f64)
}

/// An options argument: absent means `{}`.
fn options_arg(v: Option<Js>) -> Document {
    match v {
        Some(Js::Val(Value::Document(d))) => d,
        _ => Document::default(),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Undefined) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Int32(i)) => *i != 0,
        Some(Value::Int64(i)) => *i != 0,
        Some(Value::Double(x)) => *x != 0.0 && !x.is_nan(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// The first key of an update starts with `$` (the driver's `hasAtomicOperators`).
fn has_atomic_operators(update: &Value) -> bool {
    match update {
        Value::Document(d) => d.keys().next().is_some_and(|k| k.starts_with('$')),
        Value::Array(items) => items.iter().any(has_atomic_operators),
        _ => false,
    }
}

/// What one update statement asks for.
struct UpdateRequest {
    filter: Document,
    update: Update,
    upsert: bool,
    multi: bool,
    array_filters: Vec<(String, Filter)>,
    /// findOneAnd*: which document, when several match.
    sort: Option<Document>,
}

#[derive(Default)]
struct UpdateOutcome {
    matched: usize,
    modified: usize,
    upserted_id: Option<Value>,
    before: Option<Document>,
    after: Option<Document>,
}

/// The update argument of updateOne/updateMany/findOneAndUpdate (operators required).
fn update_arg(v: Option<Js>) -> Result<(Update, Value), ShellError> {
    let update = match v {
        Some(Js::Val(v)) => v,
        _ => Value::Document(Document::default()),
    };
    if !has_atomic_operators(&update) {
        return Err(invalid_argument(
            "Update document requires atomic operators",
        ));
    }
    if let Value::Array(stages) = &update {
        return Ok((
            Update::compile_pipeline(stages).map_err(write_error)?,
            update.clone(),
        ));
    }
    let Value::Document(d) = &update else {
        return Err(invalid_argument(
            "Update document requires atomic operators",
        ));
    };
    Ok((Update::compile(d).map_err(write_error)?, update))
}

/// The replacement argument of replaceOne/findOneAndReplace (no operators allowed).
fn replacement_arg(v: Option<Js>) -> Result<(Update, Value), ShellError> {
    let replacement = match v {
        Some(Js::Val(Value::Document(d))) => d,
        _ => Document::default(),
    };
    if has_atomic_operators(&Value::Document(replacement.clone())) {
        return Err(invalid_argument(
            "Replacement document must not contain atomic operators",
        ));
    }
    let update = Update::compile(&replacement).map_err(write_error)?;
    Ok((update, Value::Document(replacement)))
}

/// `arrayFilters`: each filter's fields share one identifier (`{"elem.grade": {$gte: 85}}`).
fn array_filters_arg(
    opts: &Document,
    update: &Update,
    update_doc: &Value,
) -> Result<Vec<(String, Filter)>, QueryError> {
    let mut out: Vec<(String, Filter)> = Vec::new();
    let Some(v) = opts.get("arrayFilters") else {
        if let Some((id, path)) = update.identifiers().into_iter().next() {
            return Err(crate::mongo::query::filter::bad_value(format!(
                "No array filter found for identifier '{id}' in path '{path}'"
            )));
        }
        return Ok(out);
    };
    let Value::Array(items) = v else {
        return Err(QueryError::new(
            14,
            "TypeMismatch",
            "BSON field 'update.updates.arrayFilters' is the wrong type, expected type 'array'",
        ));
    };
    for item in items {
        let Value::Document(d) = item else {
            return Err(crate::mongo::query::filter::failed_to_parse(
                "Error parsing array filter :: caused by :: array filters must be objects",
            ));
        };
        let mut ident: Option<String> = None;
        for k in d.keys() {
            let first = k.split('.').next().unwrap_or("").to_string();
            let valid = first.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && first.chars().all(|c| c.is_ascii_alphanumeric());
            if !valid {
                return Err(crate::mongo::query::filter::bad_value(format!(
                    "Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '{first}'"
                )));
            }
            match &ident {
                Some(id) if *id != first => {
                    return Err(crate::mongo::query::filter::failed_to_parse(format!(
                        "Error parsing array filter :: caused by :: Expected a single top-level field name, found '{id}' and '{first}'"
                    )))
                }
                _ => ident = Some(first),
            }
        }
        let Some(id) = ident else {
            return Err(crate::mongo::query::filter::failed_to_parse(
                "Cannot use an expression without a top-level field name in arrayFilters",
            ));
        };
        if out.iter().any(|(n, _)| *n == id) {
            return Err(crate::mongo::query::filter::failed_to_parse(format!(
                "Found multiple array filters with the same top-level field name {id}"
            )));
        }
        out.push((id, Filter::compile(d)?));
    }
    let used = update.identifiers();
    for (id, _) in &out {
        if !used.iter().any(|(u, _)| u == id) {
            return Err(QueryError::new(
                9,
                "FailedToParse",
                format!(
                    "The array filter for identifier '{id}' was not used in the update {}",
                    server_repr(update_doc)
                ),
            ));
        }
    }
    for (id, path) in used {
        if !out.iter().any(|(n, _)| *n == id) {
            return Err(crate::mongo::query::filter::bad_value(format!(
                "No array filter found for identifier '{id}' in path '{path}'"
            )));
        }
    }
    Ok(out)
}

/// Unwinds the values at a dotted path for `distinct`: arrays contribute their elements.
fn distinct_values(v: &Value, path: &[&str], out: &mut Vec<Value>) {
    let Some((first, rest)) = path.split_first() else {
        match v {
            Value::Array(items) => out.extend(items.iter().cloned()),
            other => out.push(other.clone()),
        }
        return;
    };
    match v {
        Value::Document(d) => {
            if let Some(next) = d.get(*first) {
                distinct_values(next, rest, out);
            }
        }
        Value::Array(items) => {
            if let Some(i) = array_index(first) {
                if let Some(item) = items.get(i) {
                    distinct_values(item, rest, out);
                }
                return;
            }
            for item in items {
                if let Value::Document(_) = item {
                    distinct_values(item, path, out);
                }
            }
        }
        _ => {}
    }
}

impl Session {
    pub(super) fn run_cursor(&self, spec: &CursorSpec) -> Result<Vec<Document>, ShellError> {
        let found = self.find_for_cursor(spec)?;
        let Some(coll) = self.store.collection(&spec.db, &spec.coll) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(found.positions.len());
        for (i, &pos) in found.positions.iter().enumerate() {
            if let Some(d) = coll.docs.get(pos) {
                out.push(found.shape.apply(d, found.score(i), FIND_FAILED)?);
            }
        }
        Ok(out)
    }

    /// A find run up to the point where documents would be copied: the positions of the
    /// documents it yields, in order, and how to shape each one.
    pub(super) fn find_for_cursor(&self, spec: &CursorSpec) -> Result<Found, ShellError> {
        // `{ $meta: "textScore" }` fields are added after the projection, as metadata.
        let (projection, score_fields) = match &spec.projection {
            Some(p) => {
                let (rest, scores) = crate::mongo::index::text::split_projection(p);
                (Projection::compile(&rest, &spec.filter)?, scores)
            }
            None => (None, Vec::new()),
        };
        let (positions, filter, scores) = self.find_positions(spec, FIND_FAILED)?;
        if !score_fields.is_empty() && filter.text().is_none() {
            return Err(ShellError::server(
                40218,
                Some("Location40218"),
                "query requires text score metadata, but it is not available".to_string(),
            ));
        }
        let scores = if score_fields.is_empty() {
            Vec::new()
        } else {
            scores
        };
        Ok(Found {
            positions,
            scores,
            shape: Shape {
                projection: projection.map(|p| p.at(self.now_ms as i64)),
                filter,
                score_fields,
            },
        })
    }

    /// The documents a cursor yields, borrowed: counting needs no copies.
    pub(super) fn matching(&self, spec: &CursorSpec) -> Result<Vec<&Document>, ShellError> {
        Ok(self.find_with_filter(spec, FIND_FAILED)?.0)
    }

    /// Filter, sort, skip and limit, with `$expr` seeing sandbox time; the compiled filter
    /// comes back for the positional projection.
    fn find_with_filter(
        &self,
        spec: &CursorSpec,
        failed: &str,
    ) -> Result<(Vec<&Document>, Filter), ShellError> {
        let (positions, filter, _) = self.find_positions(spec, failed)?;
        let found = match self.store.collection(&spec.db, &spec.coll) {
            Some(coll) => positions
                .into_iter()
                .filter_map(|i| coll.docs.get(i))
                .collect(),
            None => Vec::new(),
        };
        Ok((found, filter))
    }

    /// The positions in the collection's `docs` of what `find_with_filter` finds, with each
    /// one's text score (0 without `$text`).
    fn find_positions(
        &self,
        spec: &CursorSpec,
        failed: &str,
    ) -> Result<(Vec<usize>, Filter, Vec<f64>), ShellError> {
        // The filter is checked even when the collection does not exist.
        let filter = compile_filter(&spec.filter)?.at(self.now_ms as i64);
        let Some(coll) = self.store.collection(&spec.db, &spec.coll) else {
            if filter.text().is_some() {
                return Err(crate::mongo::index::text::no_text_index().into());
            }
            if filter.near().is_some() {
                return Err(crate::mongo::index::geo::no_geo_index().into());
            }
            return Ok((Vec::new(), filter, Vec::new()));
        };
        let found = plan::execute_cached(
            coll,
            &spec.query(&filter),
            &mut self.plan_cache.borrow_mut(),
            (&spec.db, &spec.coll),
        );
        if let Some(e) = filter.take_error() {
            return Err(run_error(e, failed));
        }
        let exec = found?;
        let scores = if exec.scores.is_empty() {
            Vec::new()
        } else {
            exec.positions
                .iter()
                .map(|p| exec.scores.get(p).copied().unwrap_or(0.0))
                .collect()
        };
        Ok((exec.positions, filter, scores))
    }

    /// What every collection method does first: refuse what a transaction may not run, and
    /// note whether the write bypasses validation.
    pub(super) fn begin_collection_method(
        &mut self,
        db: &str,
        coll: &str,
        name: &str,
        args: &[Js],
    ) -> Result<(), ShellError> {
        // Where the options document sits, for the writes that may bypass validation.
        let options_at = match name {
            "insertOne" | "insertMany" | "bulkWrite" => 1,
            "updateOne" | "updateMany" | "replaceOne" | "findOneAndUpdate"
            | "findOneAndReplace" => 2,
            _ => usize::MAX,
        };
        self.check_transaction_allows(db, coll, name, args)?;
        self.bypass_validation = matches!(
            args.get(options_at),
            Some(Js::Val(Value::Document(o))) if truthy(o.get("bypassDocumentValidation"))
        );
        Ok(())
    }

    /// The `errInfo` of a document the collection's validator refuses; `None` when it may
    /// be written (valid, no validator, or the write bypasses validation).
    fn refused(
        &self,
        db: &str,
        coll: &str,
        doc: &Document,
        old: Option<&Document>,
    ) -> Option<Box<Document>> {
        if self.bypass_validation {
            return None;
        }
        self.store
            .collection(db, coll)?
            .validate(doc, old, self.now_ms as i64)
    }

    /// Inserts a prepared document after the validator has accepted it.
    pub(super) fn insert_checked(
        &mut self,
        db: &str,
        coll: &str,
        doc: Document,
    ) -> Result<(), InsertError> {
        if let Some(info) = self.refused(db, coll, &doc, None) {
            return Err(InsertError::Validation(info));
        }
        let doc = match self.time_series(db, coll) {
            Some(ts) => ts.prepare(doc).map_err(InsertError::TimeSeries)?,
            None => doc,
        };
        self.store.collection_mut(db, coll).insert(doc)
    }

    /// The options of a time series collection.
    fn time_series(&self, db: &str, coll: &str) -> Option<&crate::mongo::timeseries::TimeSeries> {
        self.store.collection(db, coll)?.options.timeseries.as_ref()
    }

    /// `findAndModify` on a time series collection fails as on MongoDB 7.0.
    fn refuse_find_and_modify_on_time_series(
        &self,
        db: &str,
        coll: &str,
    ) -> Result<(), ShellError> {
        if self.time_series(db, coll).is_none() {
            return Ok(());
        }
        let (code, name, message) = crate::mongo::timeseries::find_and_modify_refusal(db, coll);
        Err(ShellError::server(code, Some(name), message))
    }

    fn coll_mut(&mut self, db: &str, coll: &str) -> Option<&mut Collection> {
        self.store.databases.get_mut(db)?.collections.get_mut(coll)
    }

    /// Runs one update statement (updateOne/updateMany/replaceOne/findOneAnd*/bulkWrite).
    fn run_update(
        &mut self,
        db: &str,
        coll: &str,
        req: &UpdateRequest,
    ) -> Result<UpdateOutcome, QueryError> {
        let now_ms = self.now_ms as i64;
        let filter = Filter::compile(&req.filter)?.at(now_ms);
        let mut outcome = UpdateOutcome::default();
        let targets: Vec<usize> = match self.store.collection(db, coll) {
            None => Vec::new(),
            Some(c) => targets(c, &req.filter, &filter, req.sort.as_ref(), req.multi)?,
        };
        let ctx = ApplyContext {
            filter: Some(&filter),
            array_filters: &req.array_filters,
            inserting: false,
            now_ms,
        };
        for i in targets {
            let Some(c) = self.coll_mut(db, coll) else {
                break;
            };
            let mut doc = c.docs[i].clone();
            outcome.matched += 1;
            let changed = req.update.apply(&mut doc, &ctx)?;
            let old = c.docs[i].clone();
            if changed {
                if let Some(info) = self.refused(db, coll, &doc, Some(&old)) {
                    let mut e =
                        QueryError::new(121, "DocumentValidationFailure", VALIDATION_FAILED);
                    e.info = Some(info);
                    return Err(e);
                }
                if let Some(c) = self.coll_mut(db, coll) {
                    c.replace(i, doc.clone())
                        .map_err(|e| insert_query_error(&e, db, coll))?;
                }
                outcome.modified += 1;
            }
            if outcome.before.is_none() {
                outcome.before = Some(old);
            }
            if outcome.after.is_none() {
                outcome.after = Some(doc);
            }
        }
        if outcome.matched == 0 && req.upsert {
            let seed = upsert_seed(&req.filter)?;
            let mut doc = match &req.update {
                Update::Replacement(r) => {
                    let mut d = r.clone();
                    if !d.contains_key("_id") {
                        if let Some(id) = seed.get("_id") {
                            d.insert("_id".into(), id.clone());
                        }
                    }
                    d
                }
                Update::Operators(_) | Update::Pipeline(_) => {
                    let mut d = seed;
                    let ctx = ApplyContext {
                        filter: Some(&filter),
                        array_filters: &req.array_filters,
                        inserting: true,
                        now_ms,
                    };
                    req.update.apply(&mut d, &ctx)?;
                    d
                }
            };
            let id = match doc.shift_remove("_id") {
                Some(id) => id,
                None => Value::ObjectId(self.oids.next(self.now_ms)),
            };
            doc.shift_insert(0, "_id".into(), id.clone());
            self.insert_checked(db, coll, doc.clone())
                .map_err(|e| insert_query_error(&e, db, coll))?;
            outcome.upserted_id = Some(id);
            outcome.after = Some(doc);
        }
        Ok(outcome)
    }

    /// Deletes the first (or every) matching document; returns the deleted documents.
    fn run_delete(
        &mut self,
        db: &str,
        coll: &str,
        filter: &Document,
        multi: bool,
        sort: Option<&Document>,
    ) -> Result<Vec<Document>, QueryError> {
        let compiled = Filter::compile(filter)?.at(self.now_ms as i64);
        let Some(c) = self.coll_mut(db, coll) else {
            return Ok(Vec::new());
        };
        let mut targets = targets(c, filter, &compiled, sort, multi)?;
        crate::sort::sort(&mut targets);
        if targets
            .iter()
            .any(|&i| c.docs.get(i).is_some_and(|d| c.is_locked(d)))
        {
            return Err(QueryError::new(
                112,
                "WriteConflict",
                crate::mongo::store::WRITE_CONFLICT_MESSAGE,
            ));
        }
        let mut deleted = Vec::with_capacity(targets.len());
        for i in targets.into_iter().rev() {
            deleted.push(c.remove(i));
        }
        deleted.reverse();
        Ok(deleted)
    }

    pub(super) fn db_method(&mut self, name: &str, args: Vec<Js>) -> Result<Js, ShellError> {
        self.check_transaction_allows_db(name, &args)?;
        match name {
            "getMongo" => Ok(Js::Mongo),
            "getSiblingDB" => match args.into_iter().next() {
                Some(Js::Val(Value::String(name))) if valid_db_name(&name) => {
                    Ok(Js::Database(Box::new(super::sessions::DbRef {
                        name,
                        session: None,
                    })))
                }
                Some(Js::Val(Value::String(name))) => Err(ShellError::invalid_input(format!(
                    "Invalid database name: {name}"
                ))),
                _ => Err(ShellError::invalid_input(
                    "Missing required argument at position 0 (Database.getSiblingDB)",
                )),
            },
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
            "aggregate" => {
                let db = self.db.clone();
                self.aggregate(&db, None, args)
            }
            "createCollection" => {
                let mut args = args.into_iter();
                let name = match args.next() {
                    Some(Js::Val(Value::String(s))) => s,
                    _ => {
                        return Err(ShellError::invalid_input(
                            "createCollection needs a collection name",
                        ))
                    }
                };
                let options = match args.next() {
                    Some(Js::Val(Value::Document(d))) => d,
                    _ => Document::default(),
                };
                self.create_collection(&name, &options)
            }
            "getCollectionInfos" => self.collection_infos(args.into_iter().next()),
            "runCommand" => self.run_command(args.into_iter().next()),
            "adminCommand" => self.admin_command(args.into_iter().next()),
            "dropDatabase" => {
                let db = self.db.clone();
                self.store.databases.remove(&db);
                self.plan_cache.borrow_mut().clear_database(&db);
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

    /// `db.coll.aggregate(...)` (or `db.aggregate(...)` when `coll` is None): the results
    /// become a cursor like find's, the flow report prints as it is.
    fn aggregate(&mut self, db: &str, coll: Option<&str>, args: Vec<Js>) -> Result<Js, ShellError> {
        let argv = args
            .into_iter()
            .map(|a| self.to_bson(a))
            .collect::<Result<Vec<_>, _>>()?;
        let source_coll = coll.unwrap_or("");
        if let Some(entries) = coll.and_then(|c| self.plan_cache_aggregate(db, c, &argv)) {
            return Ok(Session::cursor_over(db, source_coll, entries?));
        }
        if let Some(c) = coll.filter(|_| !self.in_transaction() && !super::eval::rows::copy_all()) {
            if let Some(rows) =
                super::eval::pipeline_rows::open(&self.store, db, c, &argv, self.now_ms)?
            {
                return Ok(Session::cursor_of(db, c, rows));
            }
        }
        match crate::mongo::agg::shell::aggregate(
            &mut self.store,
            db,
            coll,
            &argv,
            self.now_ms,
            self.json,
        )? {
            Aggregated::Flow(report) => Ok(Js::Val(report)),
            Aggregated::Docs(docs) => Ok(Session::cursor_over(db, source_coll, docs)),
        }
    }

    pub(super) fn collection_method(
        &mut self,
        db: &str,
        coll: &str,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        self.begin_collection_method(db, coll, name, &args)?;
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
                self.insert_checked(db, coll, doc)
                    .map_err(|e| insert_error(&e, db, coll, "MongoServerError"))?;
                let mut r = Document::default();
                r.insert("acknowledged".into(), Value::Bool(true));
                r.insert("insertedId".into(), id);
                Ok(Js::Val(Value::Document(r)))
            }
            "insertMany" => {
                let mut run = super::insert_many::InsertMany::new(self, db, coll, args.collect())?;
                while !run.step(self, usize::MAX)? {}
                run.finish()
            }
            "find" => {
                let filter = filter_arg(args.next())?;
                let projection = match args.next() {
                    Some(Js::Val(Value::Document(p))) => Some(p),
                    _ => None,
                };
                Ok(Js::Cursor(Box::new(CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    projection,
                    sort: None,
                    skip: 0,
                    limit: None,
                    hint: None,
                    explain: None,
                    session: None,
                })))
            }
            "findOne" => {
                let filter = filter_arg(args.next())?;
                let projection = match args.next() {
                    Some(Js::Val(Value::Document(p))) => Some(p),
                    _ => None,
                };
                let spec = CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    projection,
                    sort: None,
                    skip: 0,
                    limit: Some(1),
                    hint: None,
                    explain: None,
                    session: None,
                };
                let docs = self.run_cursor(&spec)?;
                Ok(Js::Val(
                    docs.into_iter().next().map_or(Value::Null, Value::Document),
                ))
            }
            "countDocuments" => {
                let filter = filter_arg(args.next())?;
                let opts = options_arg(args.next());
                let number = |k: &str| match opts.get(k) {
                    Some(v) if v.is_number() => {
                        let x = crate::mongo::query::filter::number_f64(v);
                        if x > 0.0 {
                            Some(x as usize)
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                let spec = CursorSpec {
                    db: db.into(),
                    coll: coll.into(),
                    filter,
                    projection: None,
                    sort: None,
                    skip: number("skip").unwrap_or(0),
                    limit: number("limit"),
                    hint: opts.get("hint").cloned(),
                    explain: None,
                    session: None,
                };
                // countDocuments runs as an aggregation on the server, and fails as one.
                let n = self
                    .find_with_filter(&spec, "PlanExecutor error during aggregation")?
                    .0
                    .len();
                Ok(Js::Val(count(n)))
            }
            "isCapped" => Ok(Js::Val(Value::Bool(
                self.store
                    .collection(db, coll)
                    .is_some_and(|c| c.options.capped.is_some()),
            ))),
            "estimatedDocumentCount" => {
                let n = self.store.collection(db, coll).map_or(0, |c| c.docs.len());
                Ok(Js::Val(count(n)))
            }
            "updateOne" | "updateMany" | "replaceOne" => {
                let filter = filter_arg(args.next())?;
                let (update, raw) = if name == "replaceOne" {
                    replacement_arg(args.next())?
                } else {
                    update_arg(args.next())?
                };
                let opts = options_arg(args.next());
                let array_filters = array_filters_arg(&opts, &update, &raw).map_err(write_error)?;
                let req = UpdateRequest {
                    filter,
                    update,
                    upsert: truthy(opts.get("upsert")),
                    multi: name == "updateMany",
                    array_filters,
                    sort: None,
                };
                if let Some(ts) = self.time_series(db, coll) {
                    ts.check_update(&req.filter, &raw, req.multi, req.upsert)
                        .map_err(|m| ShellError::server(72, None, m))?;
                }
                let out = self.run_update(db, coll, &req).map_err(write_error)?;
                Ok(result_doc(vec![
                    ("acknowledged", Value::Bool(true)),
                    ("insertedId", out.upserted_id.clone().unwrap_or(Value::Null)),
                    ("matchedCount", count(out.matched)),
                    ("modifiedCount", count(out.modified)),
                    (
                        "upsertedCount",
                        count(usize::from(out.upserted_id.is_some())),
                    ),
                ]))
            }
            "deleteOne" | "deleteMany" => {
                let filter = filter_arg(args.next())?;
                let deleted = self
                    .run_delete(db, coll, &filter, name == "deleteMany", None)
                    .map_err(write_error)?;
                Ok(result_doc(vec![
                    ("acknowledged", Value::Bool(true)),
                    ("deletedCount", count(deleted.len())),
                ]))
            }
            "findOneAndUpdate" | "findOneAndReplace" => {
                let filter = filter_arg(args.next())?;
                let (update, raw) = if name == "findOneAndReplace" {
                    replacement_arg(args.next())?
                } else {
                    update_arg(args.next())?
                };
                let opts = options_arg(args.next());
                let array_filters = array_filters_arg(&opts, &update, &raw)?;
                let after = matches!(opts.get("returnDocument"), Some(Value::String(s)) if s == "after")
                    || truthy(opts.get("returnNewDocument"));
                if let Some(v) = opts.get("returnDocument") {
                    if !matches!(v, Value::String(s) if s == "after" || s == "before") {
                        return Err(invalid_argument(
                            "returnDocument must be either 'before' or 'after'",
                        ));
                    }
                }
                self.refuse_find_and_modify_on_time_series(db, coll)?;
                let sort = match opts.get("sort") {
                    Some(Value::Document(d)) => Some(d.clone()),
                    _ => None,
                };
                let projection = match opts.get("projection") {
                    Some(Value::Document(d)) => Projection::compile(d, &filter)?,
                    _ => None,
                };
                let req = UpdateRequest {
                    filter,
                    update,
                    upsert: truthy(opts.get("upsert")),
                    multi: false,
                    array_filters,
                    sort,
                };
                let out = self.run_update(db, coll, &req)?;
                let doc = if after {
                    out.after
                } else if out.upserted_id.is_some() {
                    None
                } else {
                    out.before
                };
                let compiled = Filter::compile(&req.filter)?.at(self.now_ms as i64);
                let doc = match (doc, projection) {
                    (Some(d), Some(p)) => {
                        Some(p.at(self.now_ms as i64).try_apply(&d, Some(&compiled))?)
                    }
                    (d, _) => d,
                };
                Ok(Js::Val(doc.map_or(Value::Null, Value::Document)))
            }
            "findOneAndDelete" => {
                let filter = filter_arg(args.next())?;
                let opts = options_arg(args.next());
                self.refuse_find_and_modify_on_time_series(db, coll)?;
                let sort = match opts.get("sort") {
                    Some(Value::Document(d)) => Some(d.clone()),
                    _ => None,
                };
                let projection = match opts.get("projection") {
                    Some(Value::Document(d)) => Projection::compile(d, &filter)?,
                    _ => None,
                };
                let compiled = Filter::compile(&filter)?.at(self.now_ms as i64);
                let deleted = self.run_delete(db, coll, &filter, false, sort.as_ref())?;
                let doc = match (deleted.into_iter().next(), projection) {
                    (Some(d), Some(p)) => {
                        Some(p.at(self.now_ms as i64).try_apply(&d, Some(&compiled))?)
                    }
                    (d, _) => d,
                };
                Ok(Js::Val(doc.map_or(Value::Null, Value::Document)))
            }
            "distinct" => {
                let field =
                    match args.next() {
                        Some(Js::Val(Value::String(f))) => f,
                        _ => return Err(ShellError::server(
                            14,
                            Some("TypeMismatch"),
                            "BSON field 'distinct.key' is the wrong type, expected type 'string'",
                        )),
                    };
                let filter = filter_arg(args.next())?;
                let compiled = compile_filter(&filter)?.at(self.now_ms as i64);
                let path: Vec<&str> = field.split('.').collect();
                let mut values: Vec<Value> = Vec::new();
                if let Some(c) = self.store.collection(db, coll) {
                    // `$text` and `$near` are answered by the planner through their index.
                    let matched: Vec<&Document> = if compiled.needs_index() {
                        let q = plan::Query {
                            filter_doc: &filter,
                            filter: &compiled,
                            sort: None,
                            projection: None,
                            hint: None,
                            skip: 0,
                            limit: None,
                        };
                        let exec = plan::execute(c, &q)?;
                        exec.positions
                            .iter()
                            .filter_map(|&i| c.docs.get(i))
                            .collect()
                    } else {
                        c.docs.iter().filter(|d| compiled.matches(d)).collect()
                    };
                    for d in matched {
                        let mut found = Vec::new();
                        if let Some((first, rest)) = path.split_first() {
                            if let Some(v) = d.get(*first) {
                                distinct_values(v, rest, &mut found);
                            }
                        }
                        for v in found {
                            if !values.iter().any(|w| values_equal(w, &v)) {
                                values.push(v);
                            }
                        }
                    }
                }
                crate::sort::sort_by(&mut values, compare);
                Ok(Js::Val(Value::Array(values)))
            }
            "bulkWrite" => {
                let ops = match args.next() {
                    Some(Js::Val(Value::Array(items))) => items,
                    _ => {
                        return Err(invalid_argument(
                            "Argument \"operations\" must be an array of documents",
                        ))
                    }
                };
                let opts = options_arg(args.next());
                let ordered = !matches!(opts.get("ordered"), Some(Value::Bool(false)));
                self.bulk_write(db, coll, ops, ordered)
            }
            "drop" => {
                // Since MongoDB 7.0 dropping a missing collection succeeds too.
                self.store.drop_collection(db, coll);
                self.plan_cache.borrow_mut().clear_collection(db, coll);
                Ok(Js::Val(Value::Bool(true)))
            }
            "aggregate" => self.aggregate(db, Some(coll), args.collect()),
            "getName" => Ok(Js::Val(Value::String(coll.into()))),
            "getFullName" => Ok(Js::Val(Value::String(format!("{db}.{coll}")))),
            "getPlanCache" => Ok(Js::PlanCache(Box::new(super::plan_cache::PlanCacheRef {
                db: db.into(),
                coll: coll.into(),
            }))),
            n if super::search_indexes::SEARCH_INDEX_METHODS.contains(&n) => {
                self.search_index_method(db, coll, name, args.collect())
            }
            _ => {
                let count = |s: &Session| s.store.collection(db, coll).map(|c| c.indexes().len());
                let before = count(self);
                let r = self.index_method(db, coll, name, args.collect());
                if count(self) != before {
                    // The server clears a collection's plan cache when its indexes change.
                    self.plan_cache.borrow_mut().clear_collection(db, coll);
                }
                r
            }
        }
    }

    fn bulk_write(
        &mut self,
        db: &str,
        coll: &str,
        ops: Vec<Value>,
        ordered: bool,
    ) -> Result<Js, ShellError> {
        // Validate every model first, as the driver does before sending anything.
        enum Model {
            Insert(Document),
            Update(UpdateRequest, Document),
            Delete(Document, bool),
        }
        let mut models = Vec::with_capacity(ops.len());
        for op in ops {
            let Value::Document(op) = op else {
                return Err(invalid_argument("Invalid BulkWriteOperation"));
            };
            let Some((kind, body)) = op.iter().next() else {
                return Err(invalid_argument("Invalid BulkWriteOperation"));
            };
            let body = match body {
                Value::Document(d) => d.clone(),
                _ => Document::default(),
            };
            let get = |k: &str| body.get(k).cloned().map(Js::Val);
            let model = match kind.as_str() {
                "insertOne" => match body.get("document") {
                    Some(Value::Document(d)) => Model::Insert(self.prepare_insert(d.clone())),
                    _ => return Err(invalid_argument("Argument \"document\" must be an object")),
                },
                "updateOne" | "updateMany" | "replaceOne" => {
                    let filter = filter_arg(get("filter"))?;
                    let (update, raw) = if kind == "replaceOne" {
                        replacement_arg(get("replacement"))?
                    } else {
                        update_arg(get("update"))?
                    };
                    let array_filters =
                        array_filters_arg(&body, &update, &raw).map_err(write_error)?;
                    let mut op_doc = Document::default();
                    op_doc.insert("q".into(), Value::Document(filter.clone()));
                    op_doc.insert(
                        "u".into(),
                        body.get(if kind == "replaceOne" {
                            "replacement"
                        } else {
                            "update"
                        })
                        .cloned()
                        .unwrap_or(Value::Null),
                    );
                    if let Some(a) = body.get("arrayFilters") {
                        op_doc.insert("arrayFilters".into(), a.clone());
                    }
                    op_doc.insert("upsert".into(), Value::Bool(truthy(body.get("upsert"))));
                    op_doc.insert("multi".into(), Value::Bool(kind == "updateMany"));
                    Model::Update(
                        UpdateRequest {
                            filter,
                            update,
                            upsert: truthy(body.get("upsert")),
                            multi: kind == "updateMany",
                            array_filters,
                            sort: None,
                        },
                        op_doc,
                    )
                }
                "deleteOne" | "deleteMany" => {
                    Model::Delete(filter_arg(get("filter"))?, kind == "deleteMany")
                }
                other => {
                    return Err(invalid_argument(format!(
                        "Invalid BulkWriteOperation: {other}"
                    )))
                }
            };
            models.push(model);
        }
        // Unordered, the driver sends one batch per kind: every insert, then every update,
        // then every delete, each in the order given (indexes stay the given ones).
        let mut models: Vec<(usize, Model)> = models.into_iter().enumerate().collect();
        if !ordered {
            models.sort_by_key(|(_, model)| match model {
                Model::Insert(_) => 0,
                Model::Update(..) => 1,
                Model::Delete(..) => 2,
            });
        }
        let mut result = BulkCounts::default();
        let mut failures: Vec<(usize, i32, String, Document)> = Vec::new();
        for (i, model) in models {
            let outcome = match model {
                Model::Insert(doc) => {
                    let id = doc.get("_id").cloned().unwrap_or(Value::Null);
                    let op = doc.clone();
                    match self.insert_checked(db, coll, doc) {
                        Ok(()) => {
                            result.inserted += 1;
                            result.inserted_ids.insert(i.to_string(), id);
                            Ok(())
                        }
                        Err(e) => Err((insert_query_error(&e, db, coll), op)),
                    }
                }
                Model::Update(req, op) => match self
                    .refuse_time_series_update(db, coll, &req, &op)
                    .and_then(|()| self.run_update(db, coll, &req))
                {
                    Ok(out) => {
                        result.matched += out.matched;
                        result.modified += out.modified;
                        if let Some(id) = out.upserted_id {
                            result.upserted += 1;
                            result.upserted_ids.insert(i.to_string(), id);
                        }
                        Ok(())
                    }
                    Err(e) => Err((e, op)),
                },
                Model::Delete(filter, multi) => {
                    match self.run_delete(db, coll, &filter, multi, None) {
                        Ok(deleted) => {
                            result.deleted += deleted.len();
                            Ok(())
                        }
                        Err(e) => {
                            let mut op = Document::default();
                            op.insert("q".into(), Value::Document(filter));
                            op.insert("limit".into(), Value::Int32(if multi { 0 } else { 1 }));
                            Err((e, op))
                        }
                    }
                }
            };
            if let Err((e, op)) = outcome {
                failures.push((i, e.code, e.message, op));
                if ordered {
                    break;
                }
            }
        }
        if !failures.is_empty() {
            return Err(bulk_error(&failures, &result));
        }
        Ok(result_doc(vec![
            ("acknowledged", Value::Bool(true)),
            ("insertedCount", count(result.inserted)),
            ("insertedIds", Value::Document(result.inserted_ids)),
            ("matchedCount", count(result.matched)),
            ("modifiedCount", count(result.modified)),
            ("deletedCount", count(result.deleted)),
            ("upsertedCount", count(result.upserted)),
            ("upsertedIds", Value::Document(result.upserted_ids)),
        ]))
    }

    /// An update a time series collection refuses, as the write error MongoDB 7.0 gives
    /// that statement of an `update` command (`op` is the statement as sent, `u` its update).
    fn refuse_time_series_update(
        &self,
        db: &str,
        coll: &str,
        req: &UpdateRequest,
        op: &Document,
    ) -> Result<(), QueryError> {
        let Some(ts) = self.time_series(db, coll) else {
            return Ok(());
        };
        let update = op.get("u").unwrap_or(&Value::Null);
        ts.check_update(&req.filter, update, req.multi, req.upsert)
            .map_err(|m| QueryError::new(72, "InvalidOptions", m))
    }

    pub(super) fn prepare_insert(&mut self, mut doc: Document) -> Document {
        super::bson::fill_timestamps(&mut doc, self.now_ms, &mut self.last_timestamp);
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
        InsertError::Validation(_) => (121, VALIDATION_FAILED.to_string()),
        InsertError::Key(k) => {
            let e = k.to_query_error(&format!("{db}.{coll}"));
            (e.code, e.message)
        }
        InsertError::MemoryLimit(limit) => (
            crate::mongo::store::MEMORY_LIMIT_CODE,
            InsertError::memory_limit_message(*limit),
        ),
        InsertError::WriteConflict => (112, crate::mongo::store::WRITE_CONFLICT_MESSAGE.into()),
        InsertError::TimeSeries(message) => (2, message.clone()),
    };
    let mut err = ShellError::server(code, None, message);
    err.name = name.into();
    if let InsertError::Validation(info) = e {
        err.details = Some(additional_information(info));
    }
    err
}

/// The `MongoBulkWriteError` of a failed insertMany, with the `Result:` and `Write Errors:`
/// lines mongosh prints after the message (the driver's BulkWriteResult and WriteErrors).
/// `inserted` documents went in; `inserted_ids` are their ids (or, for a giant statement
/// that prints them a few at a time, the first of them).
pub(super) fn bulk_write_error(
    failures: &[(usize, InsertError, Document)],
    inserted: usize,
    inserted_ids: Document,
    db: &str,
    coll: &str,
) -> ShellError {
    let Some((_, first, _)) = failures.first() else {
        return ShellError::new("MongoBulkWriteError", "bulk write failed");
    };
    let mut err = insert_error(first, db, coll, "MongoBulkWriteError");
    let mut result = Document::default();
    result.insert("insertedCount".into(), number_value(inserted as f64));
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
            let info = match e {
                InsertError::Validation(info) => Value::Document((**info).clone()),
                _ => Value::Undefined,
            };
            inner.insert("errInfo".into(), info);
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

pub(super) const FIND_FAILED: &str = "Executor error during find command";

/// The positions of the documents an update or delete acts on (the first one in plan and
/// sort order, or all of them), found through the planner as a find finds them.
fn targets(
    c: &Collection,
    filter_doc: &Document,
    filter: &Filter,
    sort: Option<&Document>,
    multi: bool,
) -> Result<Vec<usize>, QueryError> {
    let query = plan::Query {
        filter_doc,
        filter,
        sort,
        projection: None,
        hint: None,
        skip: 0,
        limit: if multi { None } else { Some(1) },
    };
    let found = plan::execute(c, &query);
    if let Some(e) = filter.take_error() {
        return Err(e);
    }
    Ok(found?.positions)
}

/// A failure while running a query (an `$expr` or a projection expression), worded as the
/// server reports it: what failed, then the cause.
pub(super) fn run_error(e: QueryError, failed: &str) -> ShellError {
    ShellError::server(
        e.code,
        Some(e.code_name),
        format!("{failed} :: caused by :: {}", e.message),
    )
}

pub(super) fn compile_filter(filter: &Document) -> Result<Filter, ShellError> {
    Filter::compile(filter).map_err(|e| ShellError::server(e.code, Some(e.code_name), e.message))
}

#[derive(Default)]
struct BulkCounts {
    inserted: usize,
    matched: usize,
    modified: usize,
    deleted: usize,
    upserted: usize,
    inserted_ids: Document,
    upserted_ids: Document,
}

fn insert_query_error(e: &InsertError, db: &str, coll: &str) -> QueryError {
    let err = insert_error(e, db, coll, "MongoServerError");
    let mut q = QueryError::new(err.code.unwrap_or(0), "", err.message.clone());
    if let InsertError::Validation(info) = e {
        q.info = Some(info.clone());
    }
    q
}

/// The `MongoBulkWriteError` of a failed bulkWrite, printed like insertMany's.
fn bulk_error(failures: &[(usize, i32, String, Document)], counts: &BulkCounts) -> ShellError {
    let Some((_, code, message, _)) = failures.first() else {
        return ShellError::new("MongoBulkWriteError", "bulk write failed");
    };
    let mut err = ShellError::server(*code, None, message.clone());
    err.name = "MongoBulkWriteError".into();
    let mut result = Document::default();
    result.insert("insertedCount".into(), count(counts.inserted));
    result.insert("matchedCount".into(), count(counts.matched));
    result.insert("modifiedCount".into(), count(counts.modified));
    result.insert("deletedCount".into(), count(counts.deleted));
    result.insert("upsertedCount".into(), count(counts.upserted));
    result.insert(
        "upsertedIds".into(),
        Value::Document(counts.upserted_ids.clone()),
    );
    result.insert(
        "insertedIds".into(),
        Value::Document(counts.inserted_ids.clone()),
    );
    let write_errors: Vec<Document> = failures
        .iter()
        .map(|(index, code, message, op)| {
            let mut inner = Document::default();
            inner.insert("index".into(), count(*index));
            inner.insert("code".into(), number_value(f64::from(*code)));
            inner.insert("errmsg".into(), Value::String(message.clone()));
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
