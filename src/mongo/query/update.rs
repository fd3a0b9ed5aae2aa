//! Update documents: the field operators (`$set`, `$inc`, `$push`, …), replacement documents,
//! the positional `$`, `$[]` and `$[ident]` (with `arrayFilters`), and the seed document of
//! an upsert. Messages and codes follow the server's `src/mongo/db/update/`.
//!
//! As in MongoDB, the operators of one update are applied in the order of their field paths
//! (so new fields are appended in that order), and two operators may not touch the same path
//! or a path and its prefix.

use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;

use super::cursor::element_at_path;
use super::filter::{array_index, bad_value, ElementMatcher, Filter, QueryError};
use super::server_repr;
use crate::mongo::agg::stages::{compile_pipeline, Pipeline, STAGES};
use crate::mongo::agg::Ctx;
use crate::mongo::store::Store;
use crate::mongo::value::{compare, values_equal, Document, Value};

fn type_mismatch(message: impl Into<String>) -> QueryError {
    QueryError::new(14, "TypeMismatch", message)
}

fn failed_to_parse(message: impl Into<String>) -> QueryError {
    QueryError::new(9, "FailedToParse", message)
}

fn path_not_viable(message: impl Into<String>) -> QueryError {
    QueryError::new(28, "PathNotViable", message)
}

/// The most null elements an update may pad an array with, as in the server: `{$set:
/// {"a.777777777": 1}}` would otherwise allocate gigabytes.
const MAX_PADDING: usize = 1_500_000;

/// Refuses an index that would pad `len` elements by more than `MAX_PADDING`.
fn check_padding(len: usize, index: usize) -> Result<(), QueryError> {
    if index.saturating_add(1).saturating_sub(len) > MAX_PADDING {
        return Err(QueryError::new(
            34,
            "CannotBackfillArray",
            format!("can't backfill more than {MAX_PADDING} elements"),
        ));
    }
    Ok(())
}

/// The BSON type name the server's update messages use.
pub fn bson_type_name(v: &Value) -> &'static str {
    match v {
        Value::Double(_) => "double",
        Value::String(_) => "string",
        Value::Document(_) => "object",
        Value::Array(_) => "array",
        Value::Bool(_) => "bool",
        Value::Null => "null",
        Value::Int32(_) => "int",
        Value::Int64(_) => "long",
        Value::Undefined => "undefined",
        Value::ObjectId(_) => "objectId",
        Value::Date(_) => "date",
        Value::Regex { .. } => "regex",
        Value::MinKey => "minKey",
        Value::MaxKey => "maxKey",
        Value::Decimal128(_) => "decimal",
        Value::Timestamp { .. } => "timestamp",
        Value::Binary { .. } => "binData",
    }
}

/// `{a: "x"}` as the server prints one element in its messages.
fn element(name: &str, v: &Value) -> String {
    format!("{{{name}: {}}}", server_repr(v))
}

/// Runs compiled stages over one document outside any aggregate (update pipelines, find
/// projections with expressions): they see no other collection, only the document and time.
pub(crate) fn run_stages(
    pipeline: &Pipeline,
    doc: &Document,
    now_ms: i64,
) -> Result<Document, QueryError> {
    let store = Store::default();
    let rng = Cell::new(now_ms as u64);
    let examined = Cell::new(0u64);
    let ctx = Ctx {
        store: &store,
        db: "",
        now_ms,
        vars: Vec::new(),
        rng: &rng,
        examined: &examined,
        depth: 0,
    };
    let rows = pipeline.run(vec![Cow::Owned(doc.clone())], &ctx)?;
    Ok(rows
        .into_iter()
        .next()
        .map(Cow::into_owned)
        .unwrap_or_default())
}

/// The stages an update pipeline may hold; the server refuses every other stage.
pub(crate) const PIPELINE_STAGES: &[&str] = &[
    "$addFields",
    "$set",
    "$project",
    "$unset",
    "$replaceRoot",
    "$replaceWith",
];

/// A compiled update pipeline (`[{$set: …}, …]`).
pub struct UpdatePipeline(Box<Pipeline>);

impl std::fmt::Debug for UpdatePipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpdatePipeline")
    }
}

/// A compiled update.
#[derive(Debug)]
pub enum Update {
    Replacement(Document),
    Operators(Vec<FieldOp>),
    Pipeline(UpdatePipeline),
}

#[derive(Debug)]
pub struct FieldOp {
    op: Op,
    path: String,
    parts: Vec<String>,
}

enum Op {
    Set(Value),
    SetOnInsert(Value),
    Unset,
    Inc(Value),
    Mul(Value),
    Min(Value),
    Max(Value),
    CurrentDate,
    /// `$currentDate` with `$type: 'timestamp'`: the time in seconds, ordinal 1.
    CurrentTimestamp,
    Rename(Vec<String>),
    Push(PushSpec),
    AddToSet(Vec<Value>),
    Pop(bool),
    Pull(ElementMatcher),
    PullAll(Vec<Value>),
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Op")
    }
}

#[derive(Debug)]
struct PushSpec {
    each: Vec<Value>,
    position: Option<i64>,
    slice: Option<i64>,
    sort: Option<PushSort>,
}

#[derive(Debug)]
enum PushSort {
    Whole(i32),
    Fields(Vec<(Vec<String>, i32)>),
}

/// What an update is applied with.
pub struct ApplyContext<'a> {
    /// The query, for the positional `$`.
    pub filter: Option<&'a Filter>,
    /// Compiled `arrayFilters`, by identifier.
    pub array_filters: &'a [(String, Filter)],
    /// The document is being inserted by an upsert (`$setOnInsert` applies).
    pub inserting: bool,
    pub now_ms: i64,
}

pub const OPERATORS: &[&str] = &[
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$rename",
    "$min",
    "$max",
    "$currentDate",
    "$setOnInsert",
    "$push",
    "$addToSet",
    "$pop",
    "$pull",
    "$pullAll",
    "$bit",
];

fn check_path(path: &str) -> Result<Vec<String>, QueryError> {
    if path.is_empty() {
        return Err(QueryError::new(
            56,
            "EmptyFieldName",
            "An empty update path is not valid.",
        ));
    }
    let parts: Vec<String> = path.split('.').map(str::to_string).collect();
    if parts.iter().any(String::is_empty) {
        return Err(QueryError::new(
            56,
            "EmptyFieldName",
            format!("The update path '{path}' contains an empty field name, which is not allowed."),
        ));
    }
    Ok(parts)
}

fn is_positional(part: &str) -> bool {
    part == "$" || (part.starts_with("$[") && part.ends_with(']'))
}

impl Update {
    /// Compiles an update document: all operators, or a replacement (no `$` fields).
    pub fn compile(update: &Document) -> Result<Update, QueryError> {
        let first_is_op = update.keys().next().is_some_and(|k| k.starts_with('$'));
        if !first_is_op {
            check_no_dollar_fields(update, "")?;
            return Ok(Update::Replacement(update.clone()));
        }
        let mut ops = Vec::new();
        // Every path the update touches (a rename touches two), for the conflict check.
        let mut touched: Vec<(String, Vec<String>)> = Vec::new();
        for (name, arg) in update {
            if !OPERATORS.contains(&name.as_str()) {
                return Err(failed_to_parse(format!(
                    "Unknown modifier: {name}. Expected a valid update modifier or pipeline-style update specified as an array"
                )));
            }
            let Value::Document(fields) = arg else {
                return Err(failed_to_parse(format!(
                    "Modifiers operate on fields but we found type {} instead. For example: {{$mod: {{<field>: ...}}}} not {{{name}: {}}}",
                    bson_type_name(arg),
                    server_repr(arg)
                )));
            };
            for (path, value) in fields {
                let parts = check_path(path)?;
                let op = compile_op(name, path, value)?;
                let mut paths = vec![(path.clone(), parts.clone())];
                if let Op::Rename(to) = &op {
                    paths.push((to.join("."), to.clone()));
                }
                for (new_path, new_parts) in paths {
                    for (_, old) in &touched {
                        let n = new_parts.len().min(old.len());
                        if new_parts[..n] == old[..n] {
                            return Err(QueryError::new(
                                40,
                                "ConflictingUpdateOperators",
                                format!(
                                    "Updating the path '{new_path}' would create a conflict at '{}'",
                                    new_parts[..n].join(".")
                                ),
                            ));
                        }
                    }
                    touched.push((new_path, new_parts));
                }
                ops.push(FieldOp {
                    op,
                    path: path.clone(),
                    parts,
                });
            }
        }
        crate::sort::sort_by(&mut ops, |a, b| compare_paths(&a.parts, &b.parts));
        Ok(Update::Operators(ops))
    }

    /// Compiles an update pipeline: only the stages that reshape one document are allowed.
    pub fn compile_pipeline(stages: &[Value]) -> Result<Update, QueryError> {
        for stage in stages {
            if let Value::Document(d) = stage {
                if let Some((name, _)) = d.first() {
                    // An unknown name gets the pipeline's own "Unrecognized" error below.
                    let known = STAGES.iter().any(|(n, _)| n == name)
                        || matches!(name.as_str(), "$out" | "$merge");
                    if known && !PIPELINE_STAGES.contains(&name.as_str()) {
                        return Err(QueryError::new(
                            72,
                            "InvalidOptions",
                            format!("{name} is not allowed to be used within an update"),
                        ));
                    }
                }
            }
        }
        let pipeline = compile_pipeline(stages, &[], 0, false)
            .map_err(|e| QueryError::new(e.code, e.code_name, e.message))?;
        Ok(Update::Pipeline(UpdatePipeline(Box::new(pipeline))))
    }

    /// The identifiers `$[ident]` this update uses, each with the first path using it.
    pub fn identifiers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        if let Update::Operators(ops) = self {
            for op in ops {
                for p in &op.parts {
                    if let Some(id) = p.strip_prefix("$[").and_then(|r| r.strip_suffix(']')) {
                        if !id.is_empty() && !out.iter().any(|(o, _)| o == id) {
                            out.push((id.to_string(), op.path.clone()));
                        }
                    }
                }
            }
        }
        out
    }

    /// Applies the update to `doc`; returns whether the document changed.
    pub fn apply(&self, doc: &mut Document, ctx: &ApplyContext) -> Result<bool, QueryError> {
        let before = doc.clone();
        match self {
            Update::Replacement(replacement) => {
                let mut new = replacement.clone();
                let old_id = doc.get("_id").cloned();
                match (new.get("_id"), &old_id) {
                    (Some(new_id), Some(old))
                        if !values_equal(new_id, old) || type_code_differs(new_id, old) =>
                    {
                        return Err(QueryError::new(
                            66,
                            "ImmutableField",
                            format!(
                                "After applying the update, the (immutable) field '_id' was found to have been altered to _id: {}",
                                server_repr(new_id)
                            ),
                        ));
                    }
                    _ => {}
                }
                new.shift_remove("_id");
                if let Some(id) = old_id {
                    new.shift_insert(0, "_id".into(), id);
                }
                *doc = new;
            }
            Update::Pipeline(UpdatePipeline(p)) => {
                let mut new = run_stages(p, doc, ctx.now_ms)?;
                match (new.get("_id"), before.get("_id")) {
                    (Some(new_id), Some(old))
                        if !ctx.inserting
                            && (!values_equal(new_id, old) || type_code_differs(new_id, old)) =>
                    {
                        return Err(QueryError::new(
                            66,
                            "ImmutableField",
                            format!(
                                "After applying the update, the (immutable) field '_id' was found to have been altered to _id: {}",
                                server_repr(new_id)
                            ),
                        ));
                    }
                    _ => {}
                }
                // A pipeline that drops `_id` keeps the stored one, as a replacement does, and
                // the stored document always starts with it.
                if let Some(id) = new
                    .shift_remove("_id")
                    .or_else(|| before.get("_id").cloned())
                {
                    new.shift_insert(0, "_id".into(), id);
                }
                *doc = new;
            }
            Update::Operators(ops) => {
                for op in ops {
                    apply_op(op, doc, ctx)?;
                }
                let changed_id = match (before.get("_id"), doc.get("_id")) {
                    (Some(a), Some(b)) => a != b,
                    (a, b) => a.is_some() != b.is_some(),
                };
                if changed_id && !ctx.inserting {
                    return Err(QueryError::new(
                        66,
                        "ImmutableField",
                        "Performing an update on the path '_id' would modify the immutable field '_id'",
                    ));
                }
            }
        }
        Ok(*doc != before)
    }
}

/// A replacement document may not hold `$`-prefixed field names at any depth.
fn check_no_dollar_fields(doc: &Document, prefix: &str) -> Result<(), QueryError> {
    for (k, v) in doc {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if k.starts_with('$') {
            return Err(QueryError::new(
                52,
                "DollarPrefixedFieldName",
                format!("The dollar ($) prefixed field '{k}' in '{path}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith."),
            ));
        }
        check_value_fields(v, &path)?;
    }
    Ok(())
}

fn check_value_fields(v: &Value, path: &str) -> Result<(), QueryError> {
    match v {
        Value::Document(d) => check_no_dollar_fields(d, path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_value_fields(item, &format!("{path}.{i}"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Update order: field names lexicographically, numeric names numerically (MongoDB 5.0+).
fn compare_paths(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        // Array indices first, by number, then names as text: comparing an index with a
        // name as text while indices compare by number is no total order ("2" < "10" <
        // "1a" < "2"), and the sort panics on such a comparator.
        let c = match (array_index(x), array_index(y)) {
            (Some(i), Some(j)) => i.cmp(&j),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.cmp(y),
        };
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

fn type_code_differs(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) != std::mem::discriminant(b)
}

fn number_arg(op: &str, path: &str, v: &Value) -> Result<Value, QueryError> {
    if v.is_number() {
        return Ok(v.clone());
    }
    let verb = if op == "$inc" {
        "increment"
    } else {
        "multiply"
    };
    Err(type_mismatch(format!(
        "Cannot {verb} with non-numeric argument: {}",
        element(path, v)
    )))
}

fn compile_op(name: &str, path: &str, v: &Value) -> Result<Op, QueryError> {
    Ok(match name {
        "$set" => Op::Set(v.clone()),
        "$setOnInsert" => Op::SetOnInsert(v.clone()),
        "$unset" => Op::Unset,
        "$inc" => Op::Inc(number_arg(name, path, v)?),
        "$mul" => Op::Mul(number_arg(name, path, v)?),
        "$min" => Op::Min(v.clone()),
        "$max" => Op::Max(v.clone()),
        "$currentDate" => {
            match v {
                Value::Bool(_) => {}
                Value::Document(d) => {
                    let ok = d.len() == 1
                        && matches!(d.get("$type"), Some(Value::String(t)) if t == "date" || t == "timestamp");
                    if !ok {
                        return Err(bad_value(
                            "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}",
                        ));
                    }
                    if matches!(d.get("$type"), Some(Value::String(t)) if t == "timestamp") {
                        return Ok(Op::CurrentTimestamp);
                    }
                }
                _ => {
                    return Err(bad_value(format!(
                        "{} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({{$type: 'timestamp/date'}}).",
                        bson_type_name(v)
                    )))
                }
            }
            Op::CurrentDate
        }
        "$rename" => {
            let Value::String(to) = v else {
                return Err(bad_value(format!(
                    "The 'to' field for $rename must be a string: {path}: {}",
                    server_repr(v)
                )));
            };
            if to == path {
                return Err(bad_value(format!(
                    "The source and target field for $rename must differ: {path}: {}",
                    server_repr(v)
                )));
            }
            if to.starts_with(&format!("{path}.")) || path.starts_with(&format!("{to}.")) {
                return Err(bad_value(format!(
                    "The source and target field for $rename must not be on the same path: {path}: {}",
                    server_repr(v)
                )));
            }
            if path.split('.').any(is_positional) {
                return Err(bad_value(format!(
                    "The source field for $rename may not be dynamic: {path}"
                )));
            }
            if to.split('.').any(is_positional) {
                return Err(bad_value(format!(
                    "The destination field for $rename may not be dynamic: {to}"
                )));
            }
            Op::Rename(check_path(to)?)
        }
        "$push" => Op::Push(push_spec(v)?),
        "$addToSet" => {
            let values = match v {
                Value::Document(d) if d.keys().next().is_some_and(|k| k == "$each") => {
                    match d.get("$each") {
                        Some(Value::Array(items)) => {
                            if d.len() > 1 {
                                return Err(bad_value(format!(
                                    "Found unexpected fields after $each in $addToSet: {}",
                                    server_repr(v)
                                )));
                            }
                            items.clone()
                        }
                        Some(other) => {
                            return Err(type_mismatch(format!(
                                "The argument to $each in $addToSet must be an array but it was of type {}",
                                bson_type_name(other)
                            )))
                        }
                        None => vec![],
                    }
                }
                other => vec![other.clone()],
            };
            Op::AddToSet(values)
        }
        "$pop" => {
            let n = match v {
                Value::Int32(i) => f64::from(*i),
                Value::Int64(i) => *i as f64,
                Value::Double(x) => *x,
                _ => {
                    return Err(failed_to_parse(format!(
                        "Expected a number in: {path}: {}",
                        server_repr(v)
                    )))
                }
            };
            if n != 1.0 && n != -1.0 {
                return Err(failed_to_parse(format!(
                    "$pop expects 1 or -1, found: {}",
                    server_repr(v)
                )));
            }
            Op::Pop(n < 0.0)
        }
        "$pull" => Op::Pull(ElementMatcher::compile(v)?),
        "$pullAll" => {
            let Value::Array(items) = v else {
                return Err(bad_value(format!(
                    "$pullAll requires an array argument but was given a {}",
                    bson_type_name(v)
                )));
            };
            Op::PullAll(items.clone())
        }
        "$bit" => {
            return Err(QueryError::new(
                238,
                "NotImplemented",
                "$bit is not supported in this sandbox yet",
            ))
        }
        // Callers check names against OPERATORS first; a name missing here answers as the
        // server does rather than crashing the session.
        _ => {
            return Err(failed_to_parse(format!(
                "Unknown modifier: {name}. Expected a valid update modifier or pipeline-style update specified as an array"
            )))
        }
    })
}

fn push_spec(v: &Value) -> Result<PushSpec, QueryError> {
    let Value::Document(d) = v else {
        return Ok(PushSpec {
            each: vec![v.clone()],
            position: None,
            slice: None,
            sort: None,
        });
    };
    if !d.contains_key("$each") {
        return Ok(PushSpec {
            each: vec![v.clone()],
            position: None,
            slice: None,
            sort: None,
        });
    }
    let mut spec = PushSpec {
        each: Vec::new(),
        position: None,
        slice: None,
        sort: None,
    };
    for (k, arg) in d {
        match k.as_str() {
            "$each" => match arg {
                Value::Array(items) => spec.each = items.clone(),
                other => {
                    return Err(bad_value(format!(
                        "The argument to $each in $push must be an array but it was of type: {}",
                        bson_type_name(other)
                    )))
                }
            },
            "$slice" => {
                let n = integral(arg).ok_or_else(|| {
                    bad_value(format!(
                        "The value for $slice must be an integer value but was given type: {}",
                        bson_type_name(arg)
                    ))
                })?;
                spec.slice = Some(n);
            }
            "$position" => {
                let n = integral(arg).ok_or_else(|| {
                    bad_value(format!(
                        "The value for $position must be an integer value, not of type: {}",
                        bson_type_name(arg)
                    ))
                })?;
                spec.position = Some(n);
            }
            "$sort" => {
                spec.sort = Some(match arg {
                    Value::Document(fields) => {
                        if fields.is_empty() {
                            return Err(bad_value(
                                "The $sort pattern is empty when it should be a set of fields.",
                            ));
                        }
                        let mut keys = Vec::new();
                        for (f, dir) in fields {
                            let d =
                                integral(dir)
                                    .filter(|d| *d == 1 || *d == -1)
                                    .ok_or_else(|| {
                                        bad_value("The $sort element value must be either 1 or -1")
                                    })?;
                            keys.push((f.split('.').map(str::to_string).collect(), d as i32));
                        }
                        PushSort::Fields(keys)
                    }
                    other => {
                        let d = integral(other).filter(|d| *d == 1 || *d == -1).ok_or_else(|| {
                            bad_value("The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields")
                        })?;
                        PushSort::Whole(d as i32)
                    }
                });
            }
            other => {
                return Err(bad_value(format!("Unrecognized clause in $push: {other}")));
            }
        }
    }
    Ok(spec)
}

fn integral(v: &Value) -> Option<i64> {
    match v {
        Value::Int32(i) => Some(i64::from(*i)),
        Value::Int64(i) => Some(*i),
        Value::Double(x) if x.fract() == 0.0 && x.is_finite() => Some(*x as i64),
        _ => None,
    }
}

/// The concrete paths an operator's path stands for in this document, with `$`, `$[]` and
/// `$[ident]` resolved.
fn expand(
    parts: &[String],
    path: &str,
    doc: &Document,
    ctx: &ApplyContext,
) -> Result<Vec<Vec<String>>, QueryError> {
    if !parts.iter().any(|p| is_positional(p)) {
        return Ok(vec![parts.to_vec()]);
    }
    let mut out = Vec::new();
    expand_from(
        &Value::Document(doc.clone()),
        parts,
        0,
        &mut Vec::new(),
        path,
        doc,
        ctx,
        &mut out,
    )?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn expand_from(
    cur: &Value,
    parts: &[String],
    i: usize,
    prefix: &mut Vec<String>,
    path: &str,
    doc: &Document,
    ctx: &ApplyContext,
    out: &mut Vec<Vec<String>>,
) -> Result<(), QueryError> {
    let Some(part) = parts.get(i) else {
        out.push(prefix.clone());
        return Ok(());
    };
    let next = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
    if part == "$" {
        let filter = ctx.filter.filter(|_| !ctx.inserting);
        let index = filter.and_then(|f| f.first_matching_index(doc, prefix));
        let Some(index) = index else {
            return Err(bad_value(
                "The positional operator did not find the match needed from the query.",
            ));
        };
        prefix.push(index.to_string());
        let item = match cur {
            Value::Array(items) => next(items.get(index)),
            _ => Value::Null,
        };
        expand_from(&item, parts, i + 1, prefix, path, doc, ctx, out)?;
        prefix.pop();
        return Ok(());
    }
    if let Some(id) = part.strip_prefix("$[").and_then(|r| r.strip_suffix(']')) {
        let Value::Array(items) = cur else {
            if matches!(cur, Value::Null) && ctx.inserting {
                return Ok(());
            }
            let field = prefix.last().cloned().unwrap_or_default();
            return Err(bad_value(format!(
                "Cannot apply array updates to non-array element {field}: {}",
                server_repr(cur)
            )));
        };
        let filter = if id.is_empty() {
            None
        } else {
            match ctx.array_filters.iter().find(|(name, _)| name == id) {
                Some((_, f)) => Some(f),
                None => {
                    return Err(bad_value(format!(
                        "No array filter found for identifier '{id}' in path '{path}'"
                    )))
                }
            }
        };
        for (index, item) in items.iter().enumerate() {
            if let Some(f) = filter {
                let mut wrapped = Document::default();
                wrapped.insert(id.to_string(), item.clone());
                if !f.matches(&wrapped) {
                    continue;
                }
            }
            prefix.push(index.to_string());
            expand_from(item, parts, i + 1, prefix, path, doc, ctx, out)?;
            prefix.pop();
        }
        return Ok(());
    }
    let item = match cur {
        Value::Document(d) => next(d.get(part)),
        Value::Array(items) => next(array_index(part).and_then(|n| items.get(n))),
        _ => Value::Null,
    };
    prefix.push(part.clone());
    expand_from(&item, parts, i + 1, prefix, path, doc, ctx, out)?;
    prefix.pop();
    Ok(())
}

/// Where a path leads: the container of its last component, created as needed.
enum Slot<'a> {
    Field(&'a mut Document, String),
    Element(&'a mut Vec<Value>, usize),
}

/// Walks to the parent of the last component, creating embedded documents when `create` is
/// set; `None` when the path does not exist and is not to be created.
fn slot<'a>(
    doc: &'a mut Document,
    parts: &[String],
    create: bool,
) -> Result<Option<Slot<'a>>, QueryError> {
    let Some((last, init)) = parts.split_last() else {
        return Ok(None);
    };
    let mut cur: &mut Value;
    let Some((first, rest)) = init.split_first() else {
        return Ok(Some(Slot::Field(doc, last.clone())));
    };
    if !doc.contains_key(first) {
        if !create {
            return Ok(None);
        }
        doc.insert(first.clone(), Value::Document(Document::default()));
    }
    let Some(first_value) = doc.get_mut(first) else {
        return Ok(None);
    };
    cur = first_value;
    let mut name = first.clone();
    for part in rest {
        cur = match cur {
            Value::Document(d) => {
                if !d.contains_key(part) {
                    if !create {
                        return Ok(None);
                    }
                    d.insert(part.clone(), Value::Document(Document::default()));
                }
                match d.get_mut(part) {
                    Some(v) => v,
                    None => return Ok(None),
                }
            }
            Value::Array(items) => {
                let Some(i) = array_index(part) else {
                    if !create {
                        return Ok(None);
                    }
                    return Err(path_not_viable(format!(
                        "Cannot create field '{part}' in element {}",
                        element(&name, &Value::Array(items.clone()))
                    )));
                };
                if i >= items.len() {
                    if !create {
                        return Ok(None);
                    }
                    check_padding(items.len(), i)?;
                    items.resize(i + 1, Value::Null);
                    items[i] = Value::Document(Document::default());
                } else if matches!(items[i], Value::Null) && create {
                    items[i] = Value::Document(Document::default());
                }
                &mut items[i]
            }
            other => {
                if !create {
                    return Ok(None);
                }
                return Err(path_not_viable(format!(
                    "Cannot create field '{part}' in element {}",
                    element(&name, other)
                )));
            }
        };
        name = part.clone();
    }
    match cur {
        Value::Document(d) => Ok(Some(Slot::Field(d, last.clone()))),
        Value::Array(items) => match array_index(last) {
            Some(i) => match check_padding(items.len(), i) {
                Ok(()) => Ok(Some(Slot::Element(items, i))),
                // Nothing is there to read or remove.
                Err(_) if !create => Ok(None),
                Err(e) => Err(e),
            },
            None => {
                if !create {
                    return Ok(None);
                }
                Err(path_not_viable(format!(
                    "Cannot create field '{last}' in element {}",
                    element(&name, &Value::Array(items.clone()))
                )))
            }
        },
        other => {
            if !create {
                return Ok(None);
            }
            Err(path_not_viable(format!(
                "Cannot create field '{last}' in element {}",
                element(&name, other)
            )))
        }
    }
}

impl Slot<'_> {
    fn get(&self) -> Option<&Value> {
        match self {
            Slot::Field(d, k) => d.get(k),
            Slot::Element(items, i) => items.get(*i),
        }
    }

    fn set(&mut self, v: Value) {
        match self {
            Slot::Field(d, k) => {
                if let Some(slot) = d.get_mut(k.as_str()) {
                    *slot = v;
                } else {
                    d.insert(k.clone(), v);
                }
            }
            Slot::Element(items, i) => {
                if *i >= items.len() {
                    items.resize(*i + 1, Value::Null);
                }
                items[*i] = v;
            }
        }
    }

    fn remove(&mut self) -> Option<Value> {
        match self {
            Slot::Field(d, k) => d.shift_remove(k.as_str()),
            // An array keeps its length: the element becomes null.
            Slot::Element(items, i) => items
                .get_mut(*i)
                .map(|slot| std::mem::replace(slot, Value::Null)),
        }
    }
}

fn doc_id(doc: &Document) -> String {
    match doc.get("_id") {
        Some(id) => element("_id", id),
        None => "{}".into(),
    }
}

fn apply_op(op: &FieldOp, doc: &mut Document, ctx: &ApplyContext) -> Result<(), QueryError> {
    if let Op::Rename(to) = &op.op {
        let value = match slot(doc, &op.parts, false)? {
            Some(mut s) => match s {
                Slot::Element(..) => {
                    return Err(bad_value(format!(
                        "The source field cannot be an array element, '{}' in doc with {}",
                        op.path,
                        doc_id(doc)
                    )))
                }
                Slot::Field(..) => s.remove(),
            },
            None => None,
        };
        if let Some(v) = value {
            if let Some(mut s) = slot(doc, to, true)? {
                s.set(v);
            }
        }
        return Ok(());
    }
    let id = doc_id(doc);
    for parts in expand(&op.parts, &op.path, doc, ctx)? {
        let path = parts.join(".");
        let create = !matches!(op.op, Op::Unset | Op::Pop(_) | Op::Pull(_) | Op::PullAll(_));
        let Some(mut s) = slot(doc, &parts, create)? else {
            continue;
        };
        let current = s.get().cloned();
        match &op.op {
            Op::Set(v) => s.set(v.clone()),
            Op::SetOnInsert(v) => {
                if ctx.inserting {
                    s.set(v.clone());
                }
            }
            Op::Unset => {
                s.remove();
            }
            Op::Inc(v) | Op::Mul(v) => {
                let is_inc = matches!(op.op, Op::Inc(_));
                let name = if is_inc { "$inc" } else { "$mul" };
                match current {
                    None => s.set(if is_inc { v.clone() } else { zero_like(v) }),
                    Some(cur) if cur.is_number() => s.set(arith(&cur, v, is_inc)),
                    Some(cur) => {
                        let field = parts.last().cloned().unwrap_or_default();
                        return Err(type_mismatch(format!(
                            "Cannot apply {name} to a value of non-numeric type. {id} has the field '{field}' of non-numeric type {}",
                            bson_type_name(&cur)
                        )));
                    }
                }
            }
            Op::Min(v) | Op::Max(v) => {
                let want = if matches!(op.op, Op::Min(_)) {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                match current {
                    Some(cur) if compare(v, &cur) != want => {}
                    _ => s.set(v.clone()),
                }
            }
            Op::CurrentDate => s.set(Value::Date(ctx.now_ms)),
            Op::CurrentTimestamp => s.set(Value::Timestamp {
                t: (ctx.now_ms.max(0) / 1000).min(i64::from(u32::MAX)) as u32,
                i: 1,
            }),
            Op::Push(spec) => {
                let mut items = match current {
                    None => Vec::new(),
                    Some(Value::Array(items)) => items,
                    Some(other) => {
                        return Err(bad_value(format!(
                        "The field '{path}' must be an array but is of type {} in document {id}",
                        bson_type_name(&other)
                    )))
                    }
                };
                let len = items.len() as i64;
                let at = match spec.position {
                    None => len,
                    Some(p) if p >= 0 => p.min(len),
                    Some(p) => (len + p).max(0),
                } as usize;
                items.splice(at..at, spec.each.iter().cloned());
                if let Some(sort) = &spec.sort {
                    sort_array(&mut items, sort);
                }
                if let Some(n) = spec.slice {
                    let len = items.len() as i64;
                    if n >= 0 {
                        items.truncate(n.min(len) as usize);
                    } else {
                        // unsigned_abs: `$slice` may be i64::MIN, which `-n` overflows.
                        let keep = n.unsigned_abs().min(len as u64) as usize;
                        items.drain(..items.len() - keep);
                    }
                }
                s.set(Value::Array(items));
            }
            Op::AddToSet(values) => {
                let mut items = match current {
                    None => Vec::new(),
                    Some(Value::Array(items)) => items,
                    Some(other) => {
                        let field = parts.last().cloned().unwrap_or_default();
                        return Err(bad_value(format!(
                            "Cannot apply $addToSet to non-array field. Field named '{field}' has non-array type {}",
                            bson_type_name(&other)
                        )));
                    }
                };
                for v in values {
                    if !items.iter().any(|i| values_equal(i, v)) {
                        items.push(v.clone());
                    }
                }
                s.set(Value::Array(items));
            }
            Op::Pop(first) => match current {
                None => {}
                Some(Value::Array(mut items)) if !items.is_empty() => {
                    if *first {
                        items.remove(0);
                    } else {
                        items.pop();
                    }
                    s.set(Value::Array(items));
                }
                Some(Value::Array(_)) => {}
                Some(other) => {
                    return Err(type_mismatch(format!(
                        "Path '{path}' contains an element of non-array type '{}'",
                        bson_type_name(&other)
                    )))
                }
            },
            Op::Pull(matcher) => match current {
                None => {}
                Some(Value::Array(items)) => {
                    let kept: Vec<Value> =
                        items.into_iter().filter(|i| !matcher.matches(i)).collect();
                    s.set(Value::Array(kept));
                }
                Some(_) => return Err(bad_value("Cannot apply $pull to a non-array value")),
            },
            Op::PullAll(values) => match current {
                None => {}
                Some(Value::Array(items)) => {
                    let kept: Vec<Value> = items
                        .into_iter()
                        .filter(|i| !values.iter().any(|v| values_equal(i, v)))
                        .collect();
                    s.set(Value::Array(kept));
                }
                Some(_) => return Err(bad_value("Cannot apply $pull to a non-array value")),
            },
            Op::Rename(_) => {}
        }
    }
    Ok(())
}

fn sort_array(items: &mut [Value], sort: &PushSort) {
    match sort {
        PushSort::Whole(dir) => crate::sort::sort_by(items, |a, b| {
            let c = compare(a, b);
            if *dir < 0 {
                c.reverse()
            } else {
                c
            }
        }),
        PushSort::Fields(keys) => {
            let empty = Document::default();
            crate::sort::sort_by(items, |a, b| {
                let da = match a {
                    Value::Document(d) => d,
                    _ => &empty,
                };
                let db = match b {
                    Value::Document(d) => d,
                    _ => &empty,
                };
                for (path, dir) in keys {
                    let key = |d| element_at_path(d, path).unwrap_or(&Value::Null);
                    let c = compare(key(da), key(db));
                    if c != Ordering::Equal {
                        return if *dir < 0 { c.reverse() } else { c };
                    }
                }
                Ordering::Equal
            });
        }
    }
}

fn zero_like(v: &Value) -> Value {
    match v {
        Value::Double(_) => Value::Double(0.0),
        Value::Decimal128(_) => Value::Decimal128(crate::mongo::value::Decimal128::ZERO),
        Value::Int64(_) => Value::Int64(0),
        _ => Value::Int32(0),
    }
}

/// `$inc`/`$mul` arithmetic: Int32 overflowing becomes Int64, Int64 overflowing becomes a
/// Double, and any Double makes a Double.
pub fn arith(a: &Value, b: &Value, add: bool) -> Value {
    let f = |x: f64, y: f64| if add { x + y } else { x * y };
    if let (Value::Decimal128(_), _) | (_, Value::Decimal128(_)) = (a, b) {
        if let (Some(x), Some(y)) = (a.to_decimal(), b.to_decimal()) {
            return Value::Decimal128(if add { x.add(&y) } else { x.mul(&y) });
        }
    }
    match (a, b) {
        (Value::Double(_), _) | (_, Value::Double(_)) => Value::Double(f(as_f64(a), as_f64(b))),
        (Value::Int32(x), Value::Int32(y)) => {
            let r = if add {
                x.checked_add(*y)
            } else {
                x.checked_mul(*y)
            };
            match r {
                Some(r) => Value::Int32(r),
                None => long_arith(i64::from(*x), i64::from(*y), add),
            }
        }
        _ => long_arith(as_i64(a), as_i64(b), add),
    }
}

fn long_arith(x: i64, y: i64, add: bool) -> Value {
    let r = if add {
        x.checked_add(y)
    } else {
        x.checked_mul(y)
    };
    match r {
        Some(r) => Value::Int64(r),
        None => Value::Double(if add {
            x as f64 + y as f64
        } else {
            x as f64 * y as f64
        }),
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Double(x) => *x,
        Value::Int32(i) => f64::from(*i),
        Value::Int64(i) => *i as f64,
        Value::Decimal128(d) => d.to_f64(),
        _ => 0.0,
    }
}

fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Int32(i) => i64::from(*i),
        Value::Int64(i) => *i,
        Value::Double(x) => *x as i64,
        _ => 0,
    }
}

/// The document an upsert starts from: the filter's equality conditions (`{a: 1}`,
/// `{a: {$eq: 1}}`, inside `$and`), dotted paths building embedded documents.
pub fn upsert_seed(filter: &Document) -> Result<Document, QueryError> {
    let mut seed = Document::default();
    seed_from(filter, &mut seed)?;
    Ok(seed)
}

fn seed_from(filter: &Document, seed: &mut Document) -> Result<(), QueryError> {
    for (k, v) in filter {
        if k == "$and" {
            if let Value::Array(items) = v {
                for item in items {
                    if let Value::Document(d) = item {
                        seed_from(d, seed)?;
                    }
                }
            }
            continue;
        }
        if k == "$or" {
            if let Value::Array(items) = v {
                if let [Value::Document(d)] = items.as_slice() {
                    seed_from(d, seed)?;
                }
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        let value = match v {
            Value::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')) => {
                match d.get("$eq") {
                    Some(eq) => eq.clone(),
                    None => continue,
                }
            }
            Value::Regex { .. } => continue,
            other => other.clone(),
        };
        let parts: Vec<String> = k.split('.').map(str::to_string).collect();
        if let Some(mut s) = slot(seed, &parts, true)? {
            s.set(value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod path_order_tests {
    use super::compare_paths;
    use std::cmp::Ordering;

    /// The order the operators of an update are sorted in must be total: "2" < "10" < "1a"
    /// < "2" (numbers where both are indices, text otherwise) made the sort panic.
    #[test]
    fn update_paths_are_totally_ordered() {
        let names = [
            "2",
            "10",
            "1a",
            "a",
            "0",
            "b0",
            "01",
            "99999999999999999999999",
        ];
        let path = |s: &str| vec!["a".to_string(), s.to_string()];
        for x in names {
            for y in names {
                for z in names {
                    let (a, b, c) = (path(x), path(y), path(z));
                    if compare_paths(&a, &b) != Ordering::Greater
                        && compare_paths(&b, &c) != Ordering::Greater
                    {
                        assert_ne!(compare_paths(&a, &c), Ordering::Greater, "{x} {y} {z}");
                    }
                }
            }
        }
    }
}
