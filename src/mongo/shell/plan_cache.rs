//! `db.coll.getPlanCache()`: mongosh's `PlanCache` object over the session's plan cache
//! (`crate::mongo::index::plan_cache`), with `list(pipeline?)` (the `$planCacheStats`
//! stage and the given stages after it, as mongosh runs it), `clear()` and
//! `clearPlansByQuery(query, projection?, sort?)` (the `planCacheClear` command), and
//! `help()` in mongosh's words. `db.coll.aggregate([{ $planCacheStats: {} }, …])` answers
//! from the same entries.

use super::eval::Js;
use super::{Session, ShellError};
use crate::mongo::agg::shell::Aggregated;
use crate::mongo::index::plan_cache;
use crate::mongo::value::{Document, Value};

/// The collection a `PlanCache` object belongs to.
#[derive(Debug, Clone)]
pub(super) struct PlanCacheRef {
    pub db: String,
    pub coll: String,
}

pub(crate) const PLAN_CACHE_METHODS: &[&str] = &[
    "clear",
    "clearPlansByQuery",
    "list",
    "listQueryShapes",
    "getPlansByQuery",
    "help",
];

/// What `print(db.coll.getPlanCache())` shows (mongosh's `asPrintable`).
pub(super) fn describe(p: &PlanCacheRef) -> String {
    format!("PlanCache for collection {}.", p.coll)
}

/// mongosh's `PlanCache` help: the class description, one line per method (the name padded
/// to 47 columns, as mongosh's help formatter pads it), and the manual's page.
const HELP: &[(&str, &str)] = &[
    ("clear", "Removes cached query plan(s) for a collection."),
    (
        "clearPlansByQuery",
        "Removes cached query plan(s) for a collection of the specified query shape.",
    ),
    ("list", "Lists cached query plan(s) for a collection."),
    (
        "listQueryShapes",
        "Deprecated. Please use PlanCache.list instead",
    ),
    (
        "getPlansByQuery",
        "Deprecated. Please use PlanCache.list instead",
    ),
];

pub(crate) fn help_text() -> String {
    let mut out = String::from(
        "\n  An interface to access the query plan cache object and associated PlanCache methods for a collection.:\n\n",
    );
    for (name, description) in HELP {
        let head = format!("    {name}");
        out.push_str(&format!("{head:<47}{description}\n"));
    }
    out.push_str(
        "\n  For more information on usage: https://mongodb.com/docs/manual/reference/method/js-plan-cache/",
    );
    out
}

fn ok() -> Js {
    let mut d = Document::default();
    d.insert("ok".into(), Value::Int32(1));
    Js::Val(Value::Document(d))
}

fn bad_value(message: &str) -> ShellError {
    ShellError::server(2, Some("BadValue"), message)
}

impl Session {
    pub(super) fn plan_cache_method(
        &mut self,
        p: &PlanCacheRef,
        name: &str,
        args: Vec<Js>,
    ) -> Result<Js, ShellError> {
        match name {
            "help" => Ok(Js::Val(Value::String(help_text()))),
            "clear" => {
                self.plan_cache
                    .borrow_mut()
                    .clear_collection(&p.db, &p.coll);
                Ok(ok())
            }
            "clearPlansByQuery" => {
                let mut args = args.into_iter();
                // mongosh sends projection and sort only when given (and truthy).
                let query = self.to_bson(args.next().unwrap_or(Js::Undefined))?;
                let mut optional = |field: &str| -> Result<Option<Document>, ShellError> {
                    match args.next() {
                        None | Some(Js::Undefined) | Some(Js::Val(Value::Null)) => Ok(None),
                        Some(Js::Val(Value::Document(d))) => Ok(Some(d)),
                        Some(_) => Err(bad_value(&format!(
                            "optional field {field} must be an object"
                        ))),
                    }
                };
                let projection = optional("projection")?;
                let sort = optional("sort")?;
                let Value::Document(query) = query else {
                    return Err(bad_value("required field query must be an object"));
                };
                // The query must parse, as the server canonicalizes it first.
                super::collection::compile_filter(&query)?;
                if let Some(coll) = self.store.collection(&p.db, &p.coll) {
                    let key = plan_cache::key(
                        (&p.db, &p.coll),
                        Some(coll),
                        &query,
                        sort.as_ref(),
                        projection.as_ref(),
                    );
                    self.plan_cache.borrow_mut().remove(&key);
                }
                Ok(ok())
            }
            "list" => {
                let rest = match args.into_iter().next() {
                    None | Some(Js::Undefined) => Vec::new(),
                    Some(Js::Val(Value::Array(stages))) => stages,
                    Some(other) => vec![self.to_bson(other)?],
                };
                let docs = self.plan_cache_stats(&p.db, &p.coll, &Value::Document(Document::default()), &rest)?;
                Ok(Js::Val(Value::Array(
                    docs.into_iter().map(Value::Document).collect(),
                )))
            }
            "listQueryShapes" | "getPlansByQuery" => Err(ShellError::new(
                "MongoshDeprecatedError",
                format!(
                    "[COMMON-10003] PlanCache.{name} was deprecated, please use PlanCache.list instead"
                ),
            )),
            _ => Err(ShellError::type_error(format!(
                "db.{}.getPlanCache().{name} is not a function",
                p.coll
            ))),
        }
    }

    /// `[{ $planCacheStats: spec }, ...rest]` on `db.coll`: the collection's cache entries,
    /// then the rest of the pipeline over them.
    pub(super) fn plan_cache_stats(
        &mut self,
        db: &str,
        coll: &str,
        spec: &Value,
        rest: &[Value],
    ) -> Result<Vec<Document>, ShellError> {
        let type_name = crate::mongo::agg::expr::type_name;
        match spec {
            Value::Document(d) if d.is_empty() => {}
            Value::Document(_) => {
                return Err(ShellError::server(
                    9,
                    Some("FailedToParse"),
                    format!(
                        "$planCacheStats parameters object must be empty. Found: {}",
                        type_name(spec)
                    ),
                ))
            }
            other => {
                return Err(ShellError::server(
                    9,
                    Some("FailedToParse"),
                    format!(
                        "$planCacheStats value must be an object. Found: {}",
                        type_name(other)
                    ),
                ))
            }
        }
        let Some(c) = self.store.collection(db, coll) else {
            return Err(ShellError::server(
                50933,
                Some("Location50933"),
                format!("collection '{db}.{coll}' does not exist"),
            ));
        };
        let entries = self.plan_cache.borrow().stats(db, coll, c);
        if rest.is_empty() {
            return Ok(entries);
        }
        // The later stages run over the entries as over any documents.
        let mut source = Document::default();
        let mut literal = Document::default();
        literal.insert(
            "$literal".into(),
            Value::Array(entries.into_iter().map(Value::Document).collect()),
        );
        source.insert("$documents".into(), Value::Document(literal));
        let mut pipeline = vec![Value::Document(source)];
        pipeline.extend(rest.iter().cloned());
        match crate::mongo::agg::shell::aggregate(
            &mut self.store,
            db,
            None,
            &[Value::Array(pipeline)],
            self.now_ms,
            false,
        )? {
            Aggregated::Docs(docs) => Ok(docs),
            Aggregated::Flow(_) => Ok(Vec::new()),
        }
    }

    /// `db.coll.aggregate(pipeline)` whose first stage is `$planCacheStats`, or None for any
    /// other pipeline.
    pub(super) fn plan_cache_aggregate(
        &mut self,
        db: &str,
        coll: &str,
        args: &[Value],
    ) -> Option<Result<Vec<Document>, ShellError>> {
        let stages = match args.first() {
            Some(Value::Array(stages)) => stages.as_slice(),
            Some(Value::Document(_)) => args,
            _ => return None,
        };
        let (first, rest) = stages.split_first()?;
        let Value::Document(stage) = first else {
            return None;
        };
        let spec = stage.get("$planCacheStats").filter(|_| stage.len() == 1)?;
        Some(self.plan_cache_stats(db, coll, spec, rest))
    }
}
