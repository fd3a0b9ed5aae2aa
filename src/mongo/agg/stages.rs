//! Pipeline stages: one compile function per stage in `STAGES`, each producing a transform
//! over the rows (`StageOp::run`). Every stage object has exactly one key, its name.

use std::borrow::Cow;
use std::collections::HashMap;

use super::accum::{self, encode_key, AccSpec, State};
use super::expr::{doc_path, server_text, truthy, type_name, Compiler, Env, Expr};
use super::ops::{as_f64, as_i64, compare_keys, sort_key_of, sort_spec};
use super::{bad_value, depth_error, AggError, Ctx, Row, MAX_DEPTH};
use crate::agg_err;
use crate::mongo::columns::{self, Column, Found};
use crate::mongo::query::Filter;
use crate::mongo::store::{Collection, Store};
use crate::mongo::value::{
    self, compare, field, values_equal, Document, FieldHash, ObjectIdGenerator, Value,
};

type Rows<'a> = Vec<Row<'a>>;
type Res<'a> = Result<Rows<'a>, AggError>;

pub trait StageOp {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a>;

    /// Runs the stage straight over a collection's documents, for a stage that reads its
    /// input once in order and keeps none of it: the pipeline then builds no list of rows
    /// for the whole collection. None when the stage needs its rows.
    fn run_documents<'a>(&self, _coll: &'a Collection, _ctx: &Ctx<'a>) -> Option<Res<'a>> {
        None
    }

    /// For `$skip` and `$limit`: what they count, so that a pipeline run in batches can
    /// carry the count from one batch to the next.
    fn window(&self) -> Option<Window> {
        None
    }
}

/// A `$skip n` or a `$limit n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    Skip(usize),
    Limit(usize),
}

pub struct Stage {
    pub name: String,
    pub op: Box<dyn StageOp>,
}

/// A final `$out` or `$merge`: applied to the store after the pipeline ran.
#[derive(Debug, Clone)]
pub enum Write {
    Out {
        db: Option<String>,
        coll: String,
    },
    Merge {
        db: Option<String>,
        coll: String,
        on: Vec<String>,
        when_matched: String,
        when_not_matched: String,
        /// `whenMatched: [ … ]`: the stages and the `let` variables they see.
        when_matched_pipeline: Option<MergePipeline>,
    },
}

/// A `$merge` whenMatched pipeline as written: compiled once to check it, and again when the
/// merge runs (the write step holds no compiled state).
#[derive(Debug, Clone)]
pub struct MergePipeline {
    stages: Vec<Value>,
    /// `let` (by default `{new: "$$ROOT"}`), evaluated against each incoming document.
    vars: Vec<(String, Value)>,
}

impl MergePipeline {
    fn compile(&self) -> Result<(Pipeline, Vec<(String, Expr)>), AggError> {
        for stage in &self.stages {
            if let Some((name, _)) = stage_name(stage) {
                // The stages an update pipeline may hold.
                if !crate::mongo::query::update::PIPELINE_STAGES.contains(&name) {
                    return Err(AggError::new(
                        72,
                        "InvalidOptions",
                        format!(
                            "{name} is not allowed to be used within a $merge's 'whenMatched' pipeline"
                        ),
                    ));
                }
            }
        }
        let names: Vec<String> = self.vars.iter().map(|(k, _)| k.clone()).collect();
        let pipeline = compile_pipeline(&self.stages, &names, 1, false)?;
        let mut c = Compiler::default();
        let mut vars = Vec::with_capacity(self.vars.len());
        for (k, v) in &self.vars {
            vars.push((k.clone(), c.compile(v)?));
        }
        Ok((pipeline, vars))
    }

    /// The target document after the pipeline ran over it with `incoming` as `$$new`.
    fn apply(
        compiled: &(Pipeline, Vec<(String, Expr)>),
        target: &Document,
        incoming: &Document,
        now_ms: i64,
    ) -> Result<Document, AggError> {
        let (pipeline, vars) = compiled;
        let mut values = Vec::with_capacity(vars.len());
        for (k, e) in vars {
            values.push((k.clone(), e.eval(&mut Env::new(incoming, &[], now_ms))?));
        }
        let store = Store::default();
        let rng = std::cell::Cell::new(now_ms as u64);
        let examined = std::cell::Cell::new(0u64);
        let ctx = Ctx {
            store: &store,
            db: "",
            now_ms,
            vars: values,
            rng: &rng,
            examined: &examined,
            depth: 1,
        };
        let rows = pipeline.run(vec![Cow::Borrowed(target)], &ctx)?;
        Ok(rows
            .into_iter()
            .next()
            .map(Cow::into_owned)
            .unwrap_or_default())
    }
}

fn stage_name(stage: &Value) -> Option<(&str, &Value)> {
    match stage {
        Value::Document(d) => d.first().map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

pub struct Pipeline {
    pub stages: Vec<Stage>,
    pub write: Option<Write>,
    /// Stage `i` fused with stage `i + 1` (`$unwind` then `$group` never builds the unwound
    /// documents). The flow view runs the stages one by one instead, to show each.
    fused: Vec<Option<Box<dyn StageOp>>>,
}

impl Pipeline {
    pub fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        self.run_from(0, rows, ctx)
    }

    /// Runs the pipeline over a collection's documents, handing them to the first stage
    /// without a list of rows when it can take them so.
    pub fn run_documents<'a>(&self, coll: &'a Collection, ctx: &Ctx<'a>) -> Res<'a> {
        let first = match self.fused.first().and_then(Option::as_ref) {
            Some(f) => Some((f, 2)),
            None => self.stages.first().map(|s| (&s.op, 1)),
        };
        if let Some((op, width)) = first {
            if let Some(rows) = op.run_documents(coll, ctx) {
                let rows = rows.map_err(|mut e| {
                    e.stage.get_or_insert(0);
                    e
                })?;
                return self.run_from(width, rows, ctx);
            }
        }
        self.run_from(0, coll.docs.iter().map(Cow::Borrowed).collect(), ctx)
    }

    fn run_from<'a>(&self, mut i: usize, mut rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        while let Some(s) = self.stages.get(i) {
            let (op, width) = match self.fused.get(i).and_then(Option::as_ref) {
                Some(f) => (f, 2),
                None => (&s.op, 1),
            };
            rows = op.run(rows, ctx).map_err(|mut e| {
                if e.stage.is_none() {
                    e.stage = Some(i);
                }
                e
            })?;
            i += width;
        }
        Ok(rows)
    }
}

/// Compile-time state shared by stage compilers: variables in scope and nesting depth.
pub struct Scope {
    pub vars: Vec<String>,
    pub depth: usize,
}

impl Scope {
    pub fn compiler(&self) -> Compiler {
        Compiler::with_scope(&self.vars)
    }
}

type CompileFn = fn(&Value, &Scope) -> Result<Box<dyn StageOp>, AggError>;

pub static STAGES: &[(&str, CompileFn)] = &[
    ("$match", compile_match),
    ("$project", compile_project),
    ("$addFields", compile_add_fields),
    ("$set", compile_set),
    ("$unset", compile_unset),
    ("$group", compile_group),
    ("$sort", compile_sort),
    ("$limit", compile_limit),
    ("$skip", compile_skip),
    ("$unwind", compile_unwind),
    ("$count", compile_count),
    ("$sortByCount", compile_sort_by_count),
    ("$lookup", compile_lookup),
    ("$graphLookup", compile_graph_lookup),
    ("$facet", compile_facet),
    ("$bucket", compile_bucket),
    ("$bucketAuto", compile_bucket_auto),
    ("$replaceRoot", compile_replace_root),
    ("$replaceWith", compile_replace_with),
    ("$redact", compile_redact),
    ("$sample", compile_sample),
    ("$unionWith", compile_union_with),
    ("$setWindowFields", super::window::compile_set_window_fields),
    ("$densify", super::window::compile_densify),
    ("$fill", super::window::compile_fill),
    ("$documents", compile_documents),
    ("$geoNear", compile_geo_near),
    (
        "$vectorSearch",
        crate::mongo::search::stage::compile_vector_search,
    ),
    ("$search", crate::mongo::search::stage::compile_search),
    (
        "$searchMeta",
        crate::mongo::search::stage::compile_search_meta,
    ),
    (
        "$listSearchIndexes",
        crate::mongo::search::stage::compile_list_search_indexes,
    ),
    // The shell answers it as a pipeline's first stage, from its plan cache.
    ("$planCacheStats", compile_plan_cache_stats),
];

fn compile_plan_cache_stats(_: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    Err(AggError::new(
        40602,
        "Location40602",
        "$planCacheStats is only valid as the first stage in a pipeline",
    ))
}

/// Stages the server has that this sandbox does not: they answer with a clear error.
const OUT_OF_SCOPE: &[&str] = &[
    "$collStats",
    "$indexStats",
    "$currentOp",
    "$listSessions",
    "$listLocalSessions",
    "$changeStream",
    "$shardedDataDistribution",
];

/// Compiles a pipeline; `scope` names the variables a `$lookup`'s `let` put in scope.
pub fn compile_pipeline(
    pipeline: &[Value],
    scope: &[String],
    depth: usize,
    top_level: bool,
) -> Result<Pipeline, AggError> {
    if depth >= MAX_DEPTH / 10 {
        return Err(depth_error());
    }
    let sc = Scope {
        vars: scope.to_vec(),
        depth,
    };
    let mut stages = Vec::with_capacity(pipeline.len());
    let mut write = None;
    for (i, spec) in pipeline.iter().enumerate() {
        let mark = |mut e: AggError| {
            e.stage = Some(i);
            e
        };
        let Value::Document(d) = spec else {
            return Err(mark(AggError::new(
                14,
                "TypeMismatch",
                "Each element of the 'pipeline' array must be an object",
            )));
        };
        if d.len() != 1 {
            return Err(mark(agg_err!(
                40323,
                "A pipeline stage specification object must contain exactly one field."
            )));
        }
        let Some((name, arg)) = d.first() else {
            return Err(mark(agg_err!(
                40323,
                "A pipeline stage specification object must contain exactly one field."
            )));
        };
        if name == "$out" || name == "$merge" {
            if i + 1 != pipeline.len() {
                return Err(mark(agg_err!(
                    40601,
                    "{name} can only be the final stage in the pipeline"
                )));
            }
            if !top_level {
                return Err(mark(agg_err!(
                    51047,
                    "{name} is not allowed within a $lookup's sub-pipeline or a $facet"
                )));
            }
            write = Some(compile_write(name, arg).map_err(mark)?);
            continue;
        }
        if name == "$documents" && i != 0 {
            return Err(mark(agg_err!(
                40602,
                "$documents is only valid as the first stage in a pipeline"
            )));
        }
        if OUT_OF_SCOPE.contains(&name.as_str()) {
            return Err(mark(agg_err!(
                6050104,
                "{name} is not supported in this sandbox: it reports on server internals that a teaching sandbox does not have"
            )));
        }
        let Some((_, compile)) = STAGES.iter().find(|(n, _)| n == name) else {
            return Err(mark(agg_err!(
                40324,
                "Unrecognized pipeline stage name: '{name}'"
            )));
        };
        let op = compile(arg, &sc).map_err(mark)?;
        stages.push(Stage {
            name: name.clone(),
            op,
        });
    }
    let mut fused: Vec<Option<Box<dyn StageOp>>> = stages.iter().map(|_| None).collect();
    for i in 1..stages.len() {
        if let (Some("$match"), Some("$group"), Some(m), Some(g), Some(slot)) = (
            stages.get(i - 1).map(|s| s.name.as_str()),
            stages.get(i).map(|s| s.name.as_str()),
            pipeline.get(i - 1).and_then(stage_arg),
            pipeline.get(i).and_then(stage_arg),
            fused.get_mut(i - 1),
        ) {
            if let Some(filter) = plain_filter(m) {
                *slot = Some(Box::new(MatchGroup {
                    filter,
                    group: group_spec(g, &sc)?,
                }));
            }
            continue;
        }
        if let (Some("$unwind"), Some("$group"), Some(u), Some(g)) = (
            stages.get(i - 1).map(|s| s.name.as_str()),
            stages.get(i).map(|s| s.name.as_str()),
            pipeline.get(i - 1).and_then(stage_arg),
            pipeline.get(i).and_then(stage_arg),
        ) {
            let (unwind, group) = (unwind_spec(u)?, group_spec(g, &sc)?);
            if unwind.path.len() == 1 && unwind.index_field.is_none() {
                if let (Some(keep), Some(slot)) = (group.fields(), fused.get_mut(i - 1)) {
                    *slot = Some(Box::new(UnwindGroup {
                        unwind,
                        group,
                        keep,
                    }));
                }
            }
        }
    }
    Ok(Pipeline {
        stages,
        write,
        fused,
    })
}

fn stage_arg(v: &Value) -> Option<&Value> {
    match v {
        Value::Document(d) => d.values().next(),
        _ => None,
    }
}

pub(super) fn env<'e>(doc: &'e Document, ctx: &'e Ctx<'_>) -> Env<'e> {
    Env::new(doc, &ctx.vars, ctx.now_ms)
}

fn as_doc<'v>(v: &'v Value, stage: &str) -> Result<&'v Document, AggError> {
    let found = match v {
        Value::Document(d) => return Ok(d),
        other => type_name(other),
    };
    // Each stage words this its own way (mongod 8.2).
    Err(match stage {
        "$lookup" => failed(format!(
            "the $lookup stage specification must be an object, but found {found}"
        )),
        "$bucketAuto" => agg_err!(
            40240,
            "The argument to $bucketAuto must be an object, but found type: {found}"
        ),
        _ => agg_err!(
            15969,
            "{stage} specification must be an object, found {found}"
        ),
    })
}

/// The value at a dotted path through documents only (no array traversal), as `$unwind`
/// and field writes see it.
pub fn get_nested<'d>(doc: &'d Document, path: &[String]) -> Option<&'d Value> {
    let (first, rest) = path.split_first()?;
    let v = field(doc, first)?;
    if rest.is_empty() {
        return Some(v);
    }
    match v {
        Value::Document(d) => get_nested(d, rest),
        _ => None,
    }
}

/// Sets (or, for `Value::Undefined`, removes) the field at a dotted path, creating
/// documents along the way; arrays of documents get the field set in each element.
pub fn set_path(doc: &mut Document, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        if matches!(value, Value::Undefined) {
            doc.shift_remove(first);
        } else {
            doc.insert(first.clone(), value);
        }
        return;
    }
    match doc.get_mut(first) {
        Some(Value::Document(d)) => set_path(d, rest, value),
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                match item {
                    Value::Document(d) => set_path(d, rest, value.clone()),
                    other => {
                        let mut d = Document::default();
                        set_path(&mut d, rest, value.clone());
                        *other = Value::Document(d);
                    }
                }
            }
        }
        _ => {
            if matches!(value, Value::Undefined) {
                return;
            }
            let mut d = Document::default();
            set_path(&mut d, rest, value);
            doc.insert(first.clone(), Value::Document(d));
        }
    }
}

fn split_path(s: &str) -> Vec<String> {
    s.split('.').map(str::to_string).collect()
}

// ---- $match

struct Match {
    filter: Option<Filter>,
    expr: Option<Expr>,
}

fn compile_match(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let Value::Document(d) = arg else {
        return Err(agg_err!(
            15959,
            "the match filter must be an expression in an object"
        ));
    };
    let mut rest = d.clone();
    let expr = match rest.shift_remove("$expr") {
        Some(e) => Some(sc.compiler().compile(&e)?),
        None => None,
    };
    let filter = if rest.is_empty() {
        None
    } else {
        Some(Filter::compile(&rest).map_err(|e| AggError::new(e.code, e.code_name, e.message))?)
    };
    if let Some(f) = &filter {
        if f.text().is_some() {
            return Err(agg_err!(
                17313,
                "$match with $text is only allowed as the first pipeline stage"
            ));
        }
        if f.near().is_some() {
            return Err(agg_err!(
                5626500,
                "$geoNear, $near, and $nearSphere are not allowed in this context, as these operators require sorting geospatial data. If you do not need sort, consider using $geoWithin instead."
            ));
        }
    }
    Ok(Box::new(Match { filter, expr }))
}

impl StageOp for Match {
    fn run<'a>(&self, mut rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        if let Some(f) = &self.filter {
            // `$expr` nested in `$and`/`$or`/`$nor` reads `$$NOW` through the filter.
            f.set_now(ctx.now_ms);
            rows.retain(|r| f.matches(r));
            if let Some(e) = f.take_error() {
                return Err(AggError::new(e.code, e.code_name, e.message));
            }
        }
        if let Some(e) = &self.expr {
            let mut err = None;
            rows.retain(|r| {
                if err.is_some() {
                    return false;
                }
                match e.eval(&mut env(r, ctx)) {
                    Ok(v) => truthy(&v),
                    Err(x) => {
                        err = Some(x);
                        false
                    }
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
        }
        Ok(rows)
    }
}

/// A `$match` argument that is a filter alone, which can never fail while matching (no
/// `$expr`, `$text` or `$near`), compiled; None for anything else.
fn plain_filter(arg: &Value) -> Option<Filter> {
    let Value::Document(d) = arg else {
        return None;
    };
    let f = Filter::compile(d).ok()?;
    (!f.can_fail() && !f.needs_index()).then_some(f)
}

/// `$match` then `$group`: each document that passes is accumulated at once, with no list of
/// the matching documents in between. Only for filters that cannot fail, so that which
/// error a pipeline reports never depends on the fusion.
struct MatchGroup {
    filter: Filter,
    group: GroupSpec,
}

impl MatchGroup {
    fn group<'d, 'a>(&self, docs: impl Iterator<Item = &'d Document>, ctx: &Ctx<'a>) -> Res<'a> {
        let mut g = Grouper::new(&self.group);
        for d in docs {
            if self.filter.matches(d) {
                g.add(d, ctx)?;
            }
        }
        g.finish(ctx)
    }
}

impl StageOp for MatchGroup {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        self.group(rows.iter().map(|r| r.as_ref()), ctx)
    }

    fn run_documents<'a>(&self, coll: &'a Collection, ctx: &Ctx<'a>) -> Option<Res<'a>> {
        Some(self.group_collection(coll, ctx))
    }
}

impl MatchGroup {
    /// The group over a whole collection, reading the filter's fields, the group key and the
    /// accumulators' fields from the collection's columns where it has them.
    fn group_collection<'a>(&self, coll: &'a Collection, ctx: &Ctx<'a>) -> Res<'a> {
        let mut names = self.filter.top_fields();
        let filter_fields = names.len();
        // A key and accumulators that columns can answer: a top-level field as the key,
        // sums and averages of constants and top-level fields.
        let key = self.group.id.top_field();
        let args: Option<Vec<Option<&str>>> = self
            .group
            .accs
            .iter()
            .map(|(_, a)| a.in_place_field())
            .collect();
        let read = key.zip(args);
        if let Some((key, args)) = &read {
            names.push(key);
            names.extend(args.iter().flatten());
        }
        let Some(columns) = coll.columns(&names) else {
            return self.group(coll.docs.iter(), ctx);
        };
        let cols: Vec<Option<&Column>> = names.iter().map(|n| columns.get(n)).collect();
        let (filter_cols, rest) = cols.split_at(filter_fields.min(cols.len()));
        let mut read = match (read, rest.split_first()) {
            (Some((_, args)), Some((Some(key), arg_cols))) => {
                Some(ColumnGroup::new(key, args, arg_cols))
            }
            _ => None,
        };
        let mut g = Grouper::new(&self.group);
        let mut tests = self.filter.column_filter(filter_cols);
        let mut hits = Vec::new();
        let docs = &coll.docs;
        let n = docs.len();
        let mut start = 0;
        while start < n {
            let end = start.saturating_add(columns::CHUNK).min(n);
            match tests.as_mut() {
                Some(t) => t.select(start..end, &mut hits, |row| {
                    docs.get(row).is_some_and(|d| self.filter.matches(d))
                }),
                None => {
                    hits.clear();
                    hits.extend((start..end).filter(|&row| {
                        docs.get(row)
                            .is_some_and(|d| self.filter.matches_row(d, row, filter_cols))
                    }));
                }
            }
            for &row in &hits {
                let Some(d) = docs.get(row) else {
                    continue;
                };
                match read.as_mut() {
                    Some(r) => r.add(&mut g, d, row, ctx)?,
                    None => g.add(d, ctx)?,
                }
            }
            start = end;
        }
        g.finish(ctx)
    }
}

/// A `$group` whose key is a top-level field and whose accumulators are sums and averages
/// of constants and top-level fields, read from columns where they hold the values.
struct ColumnGroup<'c, 'n> {
    key: &'c Column,
    /// Each accumulator's field (None for a constant).
    args: Vec<Option<&'n str>>,
    /// The columns of the accumulators' fields, in order.
    arg_cols: &'c [Option<&'c Column>],
    /// The group of each of the key column's strings, once met (`usize::MAX` before).
    by_string: Vec<usize>,
    /// Where a value read from a column is held while it is added: each accumulator's.
    tmps: Vec<Value>,
}

impl<'c, 'n> ColumnGroup<'c, 'n> {
    fn new(
        key: &'c Column,
        args: Vec<Option<&'n str>>,
        arg_cols: &'c [Option<&'c Column>],
    ) -> Self {
        ColumnGroup {
            key,
            by_string: vec![usize::MAX; key.distinct_strings()],
            tmps: vec![Value::Null; args.len()],
            args,
            arg_cols,
        }
    }

    /// Accumulates document `row` into its group.
    fn add(
        &mut self,
        g: &mut Grouper<'_>,
        d: &Document,
        row: usize,
        ctx: &Ctx<'_>,
    ) -> Result<(), AggError> {
        // A string key seen before needs only its index.
        let known = self
            .key
            .string_id(row)
            .and_then(|id| self.by_string.get(id))
            .filter(|g| **g != usize::MAX);
        let group = match known {
            Some(&group) => group,
            None => {
                let mut key_tmp = Value::Null;
                let key = match self.key.get(row, &mut key_tmp) {
                    Found::Unknown => return g.add(d, ctx),
                    Found::Value(v) => v,
                    Found::Missing => &Value::Null,
                };
                let group = g.group_of(key, d);
                if let Some(slot) = self
                    .key
                    .string_id(row)
                    .and_then(|id| self.by_string.get_mut(id))
                {
                    *slot = group;
                }
                group
            }
        };
        let spec = g.spec;
        let Some(states) = g.states_mut(group) else {
            return Ok(());
        };
        let mut arg_cols = self.arg_cols.iter();
        for ((arg, tmp), (state, (_, acc))) in self
            .args
            .iter()
            .zip(self.tmps.iter_mut())
            .zip(states.iter_mut().zip(&spec.accs))
        {
            let found = match (arg, &acc.arg) {
                (_, Expr::Const(v)) => Some(v),
                (None, _) => None,
                (Some(name), _) => match arg_cols.next().and_then(Option::as_ref) {
                    Some(c) => match c.get(row, tmp) {
                        Found::Value(v) => Some(v),
                        Found::Missing => None,
                        Found::Unknown => field(d, name),
                    },
                    None => field(d, name),
                },
            };
            accum::add_in_place(state, found);
        }
        Ok(())
    }
}

// ---- $project, $unset, $addFields

#[derive(Debug, Clone)]
enum Proj {
    Include,
    Exclude,
    Computed(Expr),
    Nested(Vec<(String, Proj)>),
}

struct Project {
    inclusion: bool,
    fields: Vec<(String, Proj)>,
}

fn insert_proj(fields: &mut Vec<(String, Proj)>, path: &[String], p: Proj) -> Result<(), AggError> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    if rest.is_empty() {
        if fields.iter().any(|(k, _)| k == first) {
            return Err(agg_err!(31250, "Path collision at {first}"));
        }
        fields.push((first.clone(), p));
        return Ok(());
    }
    match fields.iter_mut().find(|(k, _)| k == first) {
        Some((_, Proj::Nested(sub))) => insert_proj(sub, rest, p),
        Some(_) => Err(agg_err!(31249, "Path collision at {}", path.join("."))),
        None => {
            let mut sub = Vec::new();
            insert_proj(&mut sub, rest, p)?;
            fields.push((first.clone(), Proj::Nested(sub)));
            Ok(())
        }
    }
}

/// Tracks whether a projection includes or excludes, for the mixed-mode errors.
struct Mode {
    inclusion: Option<bool>,
}

fn parse_projection(
    spec: &Document,
    prefix: &str,
    c: &mut Compiler,
    mode: &mut Mode,
    out: &mut Vec<(String, Proj)>,
) -> Result<(), AggError> {
    for (k, v) in spec {
        let full = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if super::field_path_too_deep(&full) {
            return Err(super::field_path_too_long());
        }
        if k.starts_with('$') {
            return Err(agg_err!(
                16410,
                "FieldPath field names may not start with '$'. Consider using $getField or $setField."
            ));
        }
        let p = match v {
            Value::Bool(_)
            | Value::Int32(_)
            | Value::Int64(_)
            | Value::Double(_)
            | Value::Decimal128(_) => {
                if truthy(v) {
                    Proj::Include
                } else {
                    Proj::Exclude
                }
            }
            Value::Document(d) if d.keys().next().is_some_and(|k| !k.starts_with('$')) => {
                let mut sub = Vec::new();
                parse_projection(d, &full, c, mode, &mut sub)?;
                for (sk, sp) in sub {
                    let mut path = split_path(k);
                    path.push(sk);
                    insert_proj(out, &path, sp)?;
                }
                continue;
            }
            Value::Document(d) if d.is_empty() => {
                return Err(agg_err!(
                    51270,
                    "An empty sub-projection is not a valid value. Found empty object at path"
                ));
            }
            other => Proj::Computed(c.compile(other)?),
        };
        let is_id = full == "_id";
        match (&p, mode.inclusion) {
            (Proj::Exclude, _) if is_id => {}
            (Proj::Exclude, Some(true)) => {
                return Err(agg_err!(
                    31254,
                    "Cannot do exclusion on field {full} in inclusion projection"
                ))
            }
            (Proj::Include | Proj::Computed(_), Some(false)) => {
                return Err(if matches!(p, Proj::Include) {
                    agg_err!(
                        31253,
                        "Cannot do inclusion on field {full} in exclusion projection"
                    )
                } else {
                    agg_err!(
                        31252,
                        "Cannot use expression other than $meta in exclusion projection"
                    )
                })
            }
            (Proj::Exclude, None) => mode.inclusion = Some(false),
            (Proj::Include | Proj::Computed(_), None) => mode.inclusion = Some(true),
            _ => {}
        }
        insert_proj(out, &split_path(k), p)?;
    }
    Ok(())
}

fn compile_project(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let wrap = |e: AggError| e.caused_by("Invalid $project");
    let Value::Document(spec) = arg else {
        return Err(agg_err!(15969, "$project specification must be an object"));
    };
    if spec.is_empty() {
        return Err(wrap(agg_err!(
            51272,
            "projection specification must have at least one field"
        )));
    }
    let mut c = sc.compiler();
    let mut mode = Mode { inclusion: None };
    let mut fields = Vec::new();
    parse_projection(spec, "", &mut c, &mut mode, &mut fields).map_err(wrap)?;
    // `{_id: 0}` alone is an exclusion projection.
    let inclusion = mode.inclusion.unwrap_or(false);
    if inclusion && !fields.iter().any(|(k, _)| k == "_id") {
        fields.insert(0, ("_id".into(), Proj::Include));
    }
    Ok(Box::new(Project { inclusion, fields }))
}

fn compile_unset(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let names: Vec<&str> = match arg {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) if !items.is_empty() => {
            let mut v = Vec::new();
            for i in items {
                match i {
                    Value::String(s) => v.push(s.as_str()),
                    _ => {
                        return Err(agg_err!(
                            31120,
                            "$unset specification must be a string or an array containing only string values"
                        ))
                    }
                }
            }
            v
        }
        Value::Array(_) => {
            return Err(agg_err!(
                31119,
                "$unset specification must be a string or an array with at least one field"
            ))
        }
        _ => {
            return Err(agg_err!(
                31002,
                "$unset specification must be a string or an array"
            ))
        }
    };
    let mut fields = Vec::new();
    for n in names {
        if n.is_empty() {
            return Err(agg_err!(
                40352,
                "FieldPath cannot be constructed with empty string"
            ));
        }
        if n.starts_with('$') {
            return Err(agg_err!(
                31002,
                "$unset specification must be a string or an array with at least one field"
            ));
        }
        insert_proj(&mut fields, &split_path(n), Proj::Exclude)?;
    }
    Ok(Box::new(Project {
        inclusion: false,
        fields,
    }))
}

fn include_doc(
    doc: &Document,
    fields: &[(String, Proj)],
    e: &mut Env<'_>,
) -> Result<Document, AggError> {
    let mut out = Document::with_capacity_and_hasher(fields.len(), Default::default());
    for (k, v) in doc {
        let Some((_, p)) = fields.iter().find(|(f, _)| f == k) else {
            continue;
        };
        match p {
            Proj::Include => {
                out.insert(k.clone(), v.clone());
            }
            Proj::Nested(sub) => {
                if let Some(x) = include_value(v, sub, e)? {
                    out.insert(k.clone(), x);
                }
            }
            _ => {}
        }
    }
    for (k, p) in fields {
        match p {
            Proj::Computed(x) => {
                let v = x.eval(e)?;
                if !matches!(v, Value::Undefined) {
                    out.insert(k.clone(), v);
                }
            }
            Proj::Nested(sub) if has_computed(sub) && !out.contains_key(k) => {
                let d = include_doc(&Document::default(), sub, e)?;
                out.insert(k.clone(), Value::Document(d));
            }
            _ => {}
        }
    }
    Ok(out)
}

fn has_computed(fields: &[(String, Proj)]) -> bool {
    fields.iter().any(|(_, p)| match p {
        Proj::Computed(_) => true,
        Proj::Nested(sub) => has_computed(sub),
        _ => false,
    })
}

fn include_value(
    v: &Value,
    sub: &[(String, Proj)],
    e: &mut Env<'_>,
) -> Result<Option<Value>, AggError> {
    Ok(match v {
        Value::Document(d) => Some(Value::Document(include_doc(d, sub, e)?)),
        Value::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                if let Some(x) = include_value(i, sub, e)? {
                    if matches!(i, Value::Document(_) | Value::Array(_)) {
                        out.push(x);
                    }
                }
            }
            Some(Value::Array(out))
        }
        _ if has_computed(sub) => Some(Value::Document(include_doc(&Document::default(), sub, e)?)),
        _ => None,
    })
}

fn exclude_doc(doc: &mut Document, fields: &[(String, Proj)]) {
    for (k, p) in fields {
        match p {
            Proj::Exclude => {
                doc.shift_remove(k);
            }
            Proj::Nested(sub) => {
                if let Some(v) = doc.get_mut(k) {
                    exclude_value(v, sub);
                }
            }
            _ => {}
        }
    }
}

fn exclude_value(v: &mut Value, sub: &[(String, Proj)]) {
    match v {
        Value::Document(d) => exclude_doc(d, sub),
        Value::Array(items) => {
            for i in items {
                exclude_value(i, sub);
            }
        }
        _ => {}
    }
}

impl StageOp for Project {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if self.inclusion {
                let d = include_doc(&r, &self.fields, &mut env(&r, ctx))?;
                out.push(Cow::Owned(d));
            } else {
                let mut d = r.into_owned();
                exclude_doc(&mut d, &self.fields);
                out.push(Cow::Owned(d));
            }
        }
        Ok(out)
    }
}

struct AddFields {
    fields: Vec<(Vec<String>, Expr)>,
}

fn flatten_add_fields(
    spec: &Document,
    prefix: &[String],
    c: &mut Compiler,
    out: &mut Vec<(Vec<String>, Expr)>,
) -> Result<(), AggError> {
    for (k, v) in spec {
        if k.starts_with('$') {
            return Err(agg_err!(
                16410,
                "FieldPath field names may not start with '$'. Consider using $getField or $setField."
            ));
        }
        let mut path = prefix.to_vec();
        path.extend(split_path(k));
        if path.len() > super::MAX_FIELD_PATH_PARTS {
            return Err(super::field_path_too_long());
        }
        if path.iter().any(String::is_empty) {
            return Err(agg_err!(
                15998,
                "FieldPath field names may not be empty strings."
            ));
        }
        match v {
            Value::Document(d)
                if !d.is_empty() && d.keys().next().is_some_and(|k| !k.starts_with('$')) =>
            {
                flatten_add_fields(d, &path, c, out)?;
            }
            other => out.push((path, c.compile(other)?)),
        }
    }
    Ok(())
}

fn compile_add_fields_named(
    arg: &Value,
    sc: &Scope,
    name: &str,
) -> Result<Box<dyn StageOp>, AggError> {
    let Value::Document(spec) = arg else {
        return Err(agg_err!(
            40272,
            "{name} specification stage must be an object, got {}",
            type_name(arg)
        ));
    };
    let mut fields = Vec::new();
    flatten_add_fields(spec, &[], &mut sc.compiler(), &mut fields)
        .map_err(|e| e.caused_by(&format!("Invalid {name}")))?;
    Ok(Box::new(AddFields { fields }))
}

fn compile_add_fields(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    compile_add_fields_named(arg, sc, "$addFields")
}

fn compile_set(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    compile_add_fields_named(arg, sc, "$set")
}

impl StageOp for AddFields {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut values = Vec::with_capacity(self.fields.len());
            {
                let mut e = env(&r, ctx);
                for (_, x) in &self.fields {
                    values.push(x.eval(&mut e)?);
                }
            }
            let mut d = r.into_owned();
            for ((path, _), v) in self.fields.iter().zip(values) {
                set_path(&mut d, path, v);
            }
            out.push(Cow::Owned(d));
        }
        Ok(out)
    }
}

// ---- $group

pub struct GroupSpec {
    pub id: Expr,
    pub accs: Vec<(String, AccSpec)>,
}

pub fn parse_accumulators(
    spec: &Document,
    c: &mut Compiler,
    skip_id: bool,
) -> Result<Vec<(String, AccSpec)>, AggError> {
    let mut accs = Vec::new();
    for (k, v) in spec {
        if skip_id && k == "_id" {
            continue;
        }
        if k.contains('.') {
            return Err(agg_err!(40235, "The field name '{k}' cannot contain '.'"));
        }
        if k.starts_with('$') {
            return Err(agg_err!(
                40236,
                "The field name '{k}' cannot be an operator name"
            ));
        }
        let Value::Document(a) = v else {
            return Err(agg_err!(
                40234,
                "The field '{k}' must be an accumulator object"
            ));
        };
        if a.len() != 1 {
            return Err(agg_err!(
                40238,
                "The field '{k}' must specify one accumulator"
            ));
        }
        let Some((op, operand)) = a.first() else {
            return Err(agg_err!(
                40234,
                "The field '{k}' must be an accumulator object"
            ));
        };
        let Some(kind) = accum::lookup(op) else {
            return Err(agg_err!(15952, "unknown group operator '{op}'"));
        };
        accs.push((k.clone(), AccSpec::compile(op, kind, operand, c)?));
    }
    Ok(accs)
}

fn compile_group(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    Ok(Box::new(group_spec(arg, sc)?))
}

fn group_spec(arg: &Value, sc: &Scope) -> Result<GroupSpec, AggError> {
    let Value::Document(spec) = arg else {
        return Err(agg_err!(
            15947,
            "a group's fields must be specified in an object"
        ));
    };
    let mut c = sc.compiler();
    let Some(id) = spec.get("_id") else {
        return Err(agg_err!(15955, "a group specification must include an _id"));
    };
    let id = c.compile(id)?;
    let accs = parse_accumulators(spec, &mut c, true)?;
    Ok(GroupSpec { id, accs })
}

/// `$group`'s accumulation one document at a time, so that documents a fused stage builds
/// on the fly need not be kept.
struct Grouper<'s> {
    spec: &'s GroupSpec,
    index: HashMap<Vec<u8>, usize, FieldHash>,
    groups: Vec<(Value, Vec<State>, Document)>,
    /// Accumulators with `n` or `p` evaluate them against the group's first document.
    keep_first: bool,
    buf: Vec<u8>,
}

impl<'s> Grouper<'s> {
    fn new(spec: &'s GroupSpec) -> Self {
        Grouper {
            spec,
            index: HashMap::default(),
            groups: Vec::new(),
            keep_first: spec
                .accs
                .iter()
                .any(|(_, a)| a.n.is_some() || a.p.is_some()),
            buf: Vec::with_capacity(32),
        }
    }

    fn add(&mut self, doc: &Document, ctx: &Ctx<'_>) -> Result<(), AggError> {
        let borrowed = self.spec.id.field_ref(doc);
        let owned = match borrowed {
            Some(_) => None,
            None => Some(self.spec.id.eval(&mut env(doc, ctx))?),
        };
        let key: &Value = match (&owned, borrowed) {
            (Some(v), _) => v,
            (None, Some(Some(v))) => v,
            _ => &Value::Null,
        };
        self.add_keyed(key, doc, ctx)
    }

    /// Accumulates `doc` into the group of `key`, already computed.
    fn add_keyed(&mut self, key: &Value, doc: &Document, ctx: &Ctx<'_>) -> Result<(), AggError> {
        let mut e = env(doc, ctx);
        let g = self.group_of(key, doc);
        if let Some((_, states, _)) = self.groups.get_mut(g) {
            for ((_, a), s) in self.spec.accs.iter().zip(states.iter_mut()) {
                a.add(s, &mut e)?;
            }
        }
        Ok(())
    }

    /// Accumulates into group `g` the argument of accumulator `i`, read already (a `$sum`
    /// or `$avg` in place: see `AccSpec::in_place_field`; None for a constant's).
    fn add_in_place(&mut self, g: usize, i: usize, found: Option<&Value>) {
        let (Some((_, states, _)), Some((_, a))) = (self.groups.get_mut(g), self.spec.accs.get(i))
        else {
            return;
        };
        let found = match &a.arg {
            Expr::Const(v) => Some(v),
            _ => found,
        };
        if let Some(s) = states.get_mut(i) {
            accum::add_in_place(s, found);
        }
    }

    /// The accumulator states of group `g`.
    fn states_mut(&mut self, g: usize) -> Option<&mut [State]> {
        self.groups
            .get_mut(g)
            .map(|(_, states, _)| states.as_mut_slice())
    }

    /// The group of `key` (made, with `doc` as its first document, when new).
    fn group_of(&mut self, key: &Value, doc: &Document) -> usize {
        self.buf.clear();
        encode_key(key, &mut self.buf);
        match self.index.get(self.buf.as_slice()) {
            Some(g) => *g,
            None => {
                self.index.insert(self.buf.clone(), self.groups.len());
                let key = match key {
                    Value::Undefined => Value::Null,
                    v => v.clone(),
                };
                let first = if self.keep_first {
                    doc.clone()
                } else {
                    Document::default()
                };
                let states = self.spec.accs.iter().map(|(_, a)| a.new_state()).collect();
                self.groups.push((key, states, first));
                self.groups.len() - 1
            }
        }
    }

    fn finish<'a>(self, ctx: &Ctx<'a>) -> Res<'a> {
        let mut out = Vec::with_capacity(self.groups.len());
        for (key, states, first) in self.groups {
            out.push(Cow::Owned(finish_group(
                "_id",
                key,
                states,
                &self.spec.accs,
                &first,
                ctx,
            )?));
        }
        Ok(out)
    }
}

/// `$unwind` then `$group`: each array element is put into one scratch document (holding
/// only the fields the group reads) and accumulated at once.
struct UnwindGroup {
    unwind: Unwind,
    group: GroupSpec,
    keep: Vec<String>,
}

impl StageOp for UnwindGroup {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        self.group(rows.iter().map(|r| r.as_ref()), ctx)
    }

    fn run_documents<'a>(&self, coll: &'a Collection, ctx: &Ctx<'a>) -> Option<Res<'a>> {
        // Counting elements by value: arrays of strings are read from the field's column.
        let field = self.unwind.path.first().map_or("", String::as_str);
        let counts = self
            .group
            .accs
            .iter()
            .all(|(_, a)| a.in_place_field() == Some(None));
        let columns = if counts { coll.columns(&[field]) } else { None };
        let column = columns.as_ref().and_then(|c| c.get(field));
        Some(self.group_with(coll.docs.iter(), column, ctx))
    }
}

impl UnwindGroup {
    fn group<'d, 'a>(&self, rows: impl Iterator<Item = &'d Document>, ctx: &Ctx<'a>) -> Res<'a> {
        self.group_with(rows, None, ctx)
    }

    /// `column`, when given, is the unwound field's column over `rows` (a whole collection),
    /// and every accumulator a sum or average of a constant.
    fn group_with<'d, 'a>(
        &self,
        rows: impl Iterator<Item = &'d Document>,
        column: Option<&Column>,
        ctx: &Ctx<'a>,
    ) -> Res<'a> {
        let mut g = Grouper::new(&self.group);
        let path = &self.unwind.path;
        let field = path.first().map_or("", String::as_str);
        let mut scratch = Document::default();
        // Grouping by the unwound field itself with constant accumulators (the usual count
        // per tag): each element is the key as it is, with no copy into a
        // scratch document.
        let by_element = matches!(&self.group.id, Expr::Field(p, _) if p.len() == 1 && p.first().is_some_and(|f| f == field))
            && self.group.accs.iter().all(|(_, a)| {
                matches!(a.arg, Expr::Const(_))
                    && a.n.is_none()
                    && a.p.is_none()
                    && a.sort.is_none()
            });
        let empty = Document::default();
        let hint = std::cell::Cell::new(0);
        let column = column.filter(|_| by_element);
        // The group of each of the column's strings, once met (`usize::MAX` before).
        let mut by_string = vec![usize::MAX; column.map_or(0, Column::distinct_strings)];
        for (row, r) in rows.enumerate() {
            if let Some(ids) = column.and_then(|c| c.string_list(row)) {
                if !ids.is_empty() {
                    for &id in ids {
                        let id = id as usize;
                        let key = column.and_then(|c| c.string(id)).unwrap_or(&Value::Null);
                        let group = match by_string.get_mut(id) {
                            Some(known) if *known != usize::MAX => *known,
                            Some(slot) => {
                                *slot = g.group_of(key, &empty);
                                *slot
                            }
                            None => g.group_of(key, &empty),
                        };
                        for i in 0..self.group.accs.len() {
                            g.add_in_place(group, i, None);
                        }
                    }
                    continue;
                }
            }
            match value::field_hinted(r, field, &hint) {
                Some(Value::Array(items)) if by_element => {
                    for item in items {
                        g.add_keyed(item, &empty, ctx)?;
                    }
                    if items.is_empty() && self.unwind.preserve {
                        let mut d = clone_without(r, path, Some(&self.keep));
                        d.shift_remove(field);
                        g.add(&d, ctx)?;
                    }
                }
                Some(Value::Array(items)) if !items.is_empty() => {
                    refill_scratch(&mut scratch, r, field, &self.keep);
                    for item in items {
                        if let Some(slot) = scratch.get_mut(field) {
                            *slot = item.clone();
                        }
                        g.add(&scratch, ctx)?;
                    }
                }
                Some(Value::Array(_)) => {
                    if self.unwind.preserve {
                        let mut d = clone_without(r, path, Some(&self.keep));
                        d.shift_remove(field);
                        g.add(&d, ctx)?;
                    }
                }
                None | Some(Value::Null) | Some(Value::Undefined) => {
                    if self.unwind.preserve {
                        g.add(r, ctx)?;
                    }
                }
                Some(_) => g.add(r, ctx)?,
            }
        }
        g.finish(ctx)
    }
}

/// Groups rows by a key expression: (key value, accumulator states, first row index), in
/// order of first appearance.
pub fn group_rows(
    rows: &[Row<'_>],
    ctx: &Ctx<'_>,
    key_expr: Option<&Expr>,
    key_of: &mut dyn FnMut(&mut Env<'_>) -> Result<Value, AggError>,
    accs: &[(String, AccSpec)],
) -> Result<Vec<(Value, Vec<State>, usize)>, AggError> {
    let mut index: HashMap<Vec<u8>, usize, FieldHash> = HashMap::default();
    let mut groups: Vec<(Value, Vec<State>, usize)> = Vec::new();
    let mut buf = Vec::with_capacity(32);
    for (i, r) in rows.iter().enumerate() {
        let mut e = env(r, ctx);
        // A key that is a plain field is encoded in place and copied only for a new group.
        let borrowed = key_expr.and_then(|k| k.field_ref(r));
        let owned = match borrowed {
            Some(_) => None,
            None => Some(match key_of(&mut e)? {
                Value::Undefined => Value::Null,
                v => v,
            }),
        };
        let key: &Value = match (&owned, borrowed) {
            (Some(v), _) => v,
            (None, Some(Some(v))) => v,
            _ => &Value::Null,
        };
        buf.clear();
        encode_key(key, &mut buf);
        let g = match index.get(buf.as_slice()) {
            Some(g) => *g,
            None => {
                index.insert(buf.clone(), groups.len());
                let key = match key {
                    Value::Undefined => Value::Null,
                    v => v.clone(),
                };
                groups.push((key, accs.iter().map(|(_, a)| a.new_state()).collect(), i));
                groups.len() - 1
            }
        };
        if let Some((_, states, _)) = groups.get_mut(g) {
            for ((_, a), s) in accs.iter().zip(states.iter_mut()) {
                a.add(s, &mut e)?;
            }
        }
    }
    Ok(groups)
}

pub fn finish_group(
    id_field: &str,
    key: Value,
    states: Vec<State>,
    accs: &[(String, AccSpec)],
    first: &Document,
    ctx: &Ctx<'_>,
) -> Result<Document, AggError> {
    let mut d = Document::with_capacity_and_hasher(accs.len() + 1, Default::default());
    d.insert(id_field.into(), key);
    let mut e = env(first, ctx);
    for ((name, a), s) in accs.iter().zip(states) {
        d.insert(name.clone(), a.finish(s, &mut e)?);
    }
    Ok(d)
}

impl GroupSpec {
    fn fields(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut ok = self.id.fields(&mut out);
        for (_, a) in &self.accs {
            ok &= a.arg.fields(&mut out);
            ok &= a.n.as_ref().is_none_or(|n| n.fields(&mut out));
            ok &= a.p.as_ref().is_none_or(|p| p.fields(&mut out));
            for (path, _) in a.sort.iter().flatten() {
                out.extend(path.first().cloned());
            }
        }
        ok.then_some(out)
    }
}

impl StageOp for GroupSpec {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let mut g = Grouper::new(self);
        for r in &rows {
            g.add(r, ctx)?;
        }
        drop(rows);
        g.finish(ctx)
    }
}

// ---- $sort, $limit, $skip

pub struct Sort {
    pub keys: Vec<(Vec<String>, bool)>,
}

fn compile_sort(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let Value::Document(spec) = arg else {
        return Err(agg_err!(
            15973,
            "the $sort key specification must be an object"
        ));
    };
    // `{ $meta: "textScore" }` sorts by the score a leading `$text` match left, highest first.
    let mut plain = Document::default();
    for (k, v) in spec {
        if crate::mongo::index::text::is_score_meta(v) {
            plain.insert(
                crate::mongo::index::text::SCORE_FIELD.into(),
                Value::Int32(-1),
            );
        } else if let Some(hidden) = crate::mongo::search::stage::sort_field(v) {
            plain.insert(hidden.into(), Value::Int32(-1));
        } else {
            plain.insert(k.clone(), v.clone());
        }
    }
    Ok(Box::new(Sort {
        keys: sort_spec(&plain)?,
    }))
}

pub fn sort_rows<'a>(rows: Rows<'a>, keys: &[(Vec<String>, bool)]) -> Rows<'a> {
    let mut keyed: Vec<(Vec<Value>, Row<'a>)> = rows
        .into_iter()
        .map(|r| {
            let k = keys
                .iter()
                .map(|(p, desc)| sort_key_of(&r, p, *desc))
                .collect();
            (k, r)
        })
        .collect();
    // The standard sort, not crate::sort: `$sort` is a hot path, and moving the elements is
    // about twice as fast as sorting indices to them.
    keyed.sort_by(|a, b| compare_keys(&a.0, &b.0, keys));
    keyed.into_iter().map(|(_, r)| r).collect()
}

impl StageOp for Sort {
    fn run<'a>(&self, rows: Rows<'a>, _: &Ctx<'a>) -> Res<'a> {
        Ok(sort_rows(rows, &self.keys))
    }
}

struct Limit(usize);
struct Skip(usize);

fn compile_limit(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    match stage_count(arg, "$limit", 5107201, "Location5107201")? {
        0 => Err(agg_err!(15958, "the limit must be positive")),
        n => Ok(Box::new(Limit(usize::try_from(n).unwrap_or(usize::MAX)))),
    }
}

fn compile_skip(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let n = stage_count(arg, "$skip", 5107200, "Location5107200")?;
    Ok(Box::new(Skip(usize::try_from(n).unwrap_or(usize::MAX))))
}

/// The non-negative integer `$limit` and `$skip` take, refused in the server's words: a
/// fraction, NaN, a negative number and a non-number each have their own.
fn stage_count(
    arg: &Value,
    stage: &str,
    code: i32,
    code_name: &'static str,
) -> Result<u64, AggError> {
    let text = server_text(arg);
    let reason = match arg {
        Value::Double(x) if x.is_nan() => {
            format!("Expected an integer, but found NaN in: {stage}: nan")
        }
        Value::Double(x) if x.fract() != 0.0 => format!("Expected an integer: {stage}: {text}"),
        v if !v.is_number() => format!("Expected a number in: {stage}: {text}"),
        v => match as_i64(v) {
            Some(n) => match u64::try_from(n) {
                Ok(n) => return Ok(n),
                Err(_) => format!("Expected a non-negative number in: {stage}: {text}"),
            },
            None => format!("Cannot represent as a 64-bit integer: {stage}: {text}"),
        },
    };
    Err(AggError::new(
        code,
        code_name,
        format!("invalid argument to {stage} stage: {reason}"),
    ))
}

impl StageOp for Limit {
    fn run<'a>(&self, mut rows: Rows<'a>, _: &Ctx<'a>) -> Res<'a> {
        rows.truncate(self.0);
        Ok(rows)
    }

    fn window(&self) -> Option<Window> {
        Some(Window::Limit(self.0))
    }
}

impl StageOp for Skip {
    fn run<'a>(&self, mut rows: Rows<'a>, _: &Ctx<'a>) -> Res<'a> {
        let n = self.0.min(rows.len());
        rows.drain(..n);
        Ok(rows)
    }

    fn window(&self) -> Option<Window> {
        Some(Window::Skip(self.0))
    }
}

// ---- $unwind

struct Unwind {
    path: Vec<String>,
    index_field: Option<Vec<String>>,
    preserve: bool,
}

fn unwind_path(s: &str) -> Result<Vec<String>, AggError> {
    if s.is_empty() {
        return Err(agg_err!(28812, "no path specified to $unwind stage"));
    }
    match s.strip_prefix('$') {
        Some(p) if !p.is_empty() => Ok(split_path(p)),
        _ => Err(agg_err!(
            28818,
            "path option to $unwind stage should be prefixed with a '$': {s}"
        )),
    }
}

fn compile_unwind(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    Ok(Box::new(unwind_spec(arg)?))
}

fn unwind_spec(arg: &Value) -> Result<Unwind, AggError> {
    match arg {
        Value::String(s) => Ok(Unwind {
            path: unwind_path(s)?,
            index_field: None,
            preserve: false,
        }),
        Value::Document(d) => {
            let mut path = None;
            let mut index_field = None;
            let mut preserve = false;
            for (k, v) in d {
                match (k.as_str(), v) {
                    ("path", Value::String(s)) => path = Some(unwind_path(s)?),
                    ("path", other) => {
                        return Err(agg_err!(
                            28808,
                            "expected a string as the path for $unwind stage, got {}",
                            type_name(other)
                        ))
                    }
                    ("includeArrayIndex", Value::String(s)) => {
                        if s.is_empty() || s.starts_with('$') {
                            return Err(agg_err!(
                                28822,
                                "includeArrayIndex option to $unwind stage should not be prefixed with a '$': {s}"
                            ));
                        }
                        index_field = Some(split_path(s));
                    }
                    ("includeArrayIndex", other) => {
                        return Err(agg_err!(
                            28810,
                            "expected a non-empty string for the includeArrayIndex option to $unwind stage, got {}",
                            type_name(other)
                        ))
                    }
                    ("preserveNullAndEmptyArrays", Value::Bool(b)) => preserve = *b,
                    ("preserveNullAndEmptyArrays", other) => {
                        return Err(agg_err!(
                            28809,
                            "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage, got {}",
                            type_name(other)
                        ))
                    }
                    (other, _) => {
                        return Err(agg_err!(
                            28811,
                            "unrecognized option to $unwind stage: {other}"
                        ))
                    }
                }
            }
            let Some(path) = path else {
                return Err(agg_err!(28812, "no path specified to $unwind stage"));
            };
            Ok(Unwind {
                path,
                index_field,
                preserve,
            })
        }
        other => Err(agg_err!(
            15981,
            "expected either a string or an object as specification for $unwind stage, got {}",
            type_name(other)
        )),
    }
}

impl StageOp for Unwind {
    fn run<'a>(&self, rows: Rows<'a>, _: &Ctx<'a>) -> Res<'a> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let items = match get_nested(&r, &self.path) {
                Some(Value::Array(items)) => Some(items.len()),
                _ => None,
            };
            match items {
                Some(n) if n > 0 => {
                    let Some(Value::Array(items)) = get_nested(&r, &self.path) else {
                        continue;
                    };
                    let template = clone_without(&r, &self.path, None);
                    for (i, item) in items.iter().enumerate() {
                        let mut d = template.clone();
                        set_path(&mut d, &self.path, item.clone());
                        if let Some(f) = &self.index_field {
                            set_path(&mut d, f, Value::Int64(i as i64));
                        }
                        out.push(Cow::Owned(d));
                    }
                }
                Some(_) => {
                    if self.preserve {
                        let mut d = r.into_owned();
                        set_path(&mut d, &self.path, Value::Undefined);
                        if let Some(f) = &self.index_field {
                            set_path(&mut d, f, Value::Null);
                        }
                        out.push(Cow::Owned(d));
                    }
                }
                None => {
                    let v = get_nested(&r, &self.path);
                    let keep = match v {
                        None | Some(Value::Null) | Some(Value::Undefined) => self.preserve,
                        Some(_) => true,
                    };
                    if keep {
                        match &self.index_field {
                            Some(f) => {
                                let mut d = r.into_owned();
                                set_path(&mut d, f, Value::Null);
                                out.push(Cow::Owned(d));
                            }
                            None => out.push(r),
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Makes `scratch` hold what `clone_without(doc, [unwound], keep)` would, reusing the keys
/// and allocations the previous row left in it (rows of one collection mostly share their
/// fields), so that unwinding into a group builds no document per row. Field order may
/// differ from `doc`'s; the group reads fields by name only (`keep` exists only then).
fn refill_scratch(scratch: &mut Document, doc: &Document, unwound: &str, keep: &[String]) {
    scratch.retain(|k, _| value::field(doc, k).is_some());
    for (k, v) in doc {
        let v = if k == unwound {
            Value::Null
        } else if keep.iter().any(|f| f == k) {
            v.clone()
        } else {
            continue;
        };
        match scratch.get_mut(k.as_str()) {
            Some(slot) => *slot = v,
            None => {
                scratch.insert(k.clone(), v);
            }
        }
    }
}

/// A copy of `doc` in which a top-level array being unwound is not copied (it is replaced
/// right after): copying it once per element would make unwinding quadratic.
fn clone_without(doc: &Document, path: &[String], keep: Option<&[String]>) -> Document {
    let unwound = path.first().map_or("", String::as_str);
    let kept = |k: &str| k == unwound || keep.is_none_or(|keep| keep.iter().any(|f| f == k));
    let mut out = Document::with_capacity_and_hasher(doc.len(), Default::default());
    for (k, v) in doc {
        if !kept(k) {
            continue;
        }
        let v = if path.len() == 1 && k == unwound {
            Value::Null
        } else {
            v.clone()
        };
        out.insert(k.clone(), v);
    }
    out
}

// ---- $count, $sortByCount

struct Count(String);

fn compile_count(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let Value::String(s) = arg else {
        return Err(agg_err!(
            40156,
            "the count field must be a non-empty string"
        ));
    };
    if s.is_empty() {
        return Err(agg_err!(
            40157,
            "the count field must be a non-empty string"
        ));
    }
    if s.starts_with('$') {
        return Err(agg_err!(
            40158,
            "the count field cannot be a $-prefixed path"
        ));
    }
    if s.contains('.') {
        return Err(agg_err!(40160, "the count field cannot contain '.'"));
    }
    Ok(Box::new(Count(s.clone())))
}

impl StageOp for Count {
    fn run<'a>(&self, rows: Rows<'a>, _: &Ctx<'a>) -> Res<'a> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut d = Document::default();
        d.insert(self.0.clone(), super::ops::int_or_long(rows.len() as i64));
        Ok(vec![Cow::Owned(d)])
    }
}

struct SortByCount(Expr);

fn compile_sort_by_count(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let ok = match arg {
        Value::String(s) => s.starts_with('$'),
        Value::Document(d) => d.len() == 1 && d.keys().next().is_some_and(|k| k.starts_with('$')),
        _ => false,
    };
    if !ok {
        return Err(agg_err!(
            40148,
            "the sortByCount field must be defined as a $-prefixed path or an expression"
        ));
    }
    Ok(Box::new(SortByCount(sc.compiler().compile(arg)?)))
}

impl StageOp for SortByCount {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let count = AccSpec {
            kind: accum::Kind::Sum,
            arg: Expr::Const(Value::Int32(1)),
            n: None,
            sort: None,
            p: None,
        };
        let accs = vec![("count".to_string(), count)];
        let groups = group_rows(&rows, ctx, Some(&self.0), &mut |e| self.0.eval(e), &accs)?;
        let empty = Document::default();
        let mut out = Vec::with_capacity(groups.len());
        for (key, states, first) in groups {
            let doc = rows.get(first).map_or(&empty, |r| r.as_ref());
            out.push(Cow::Owned(finish_group(
                "_id", key, states, &accs, doc, ctx,
            )?));
        }
        let keys = vec![(vec!["count".to_string()], true)];
        Ok(sort_rows(out, &keys))
    }
}

// ---- $lookup, $graphLookup, $unionWith

/// Encoded keys (`encode_key`) to the positions of the documents holding them, in three
/// flat vectors: a table from the key's hash to its newest entry, entries chained to older
/// ones with the same hash, key bytes in one arena. Indexing 100k documents thus allocates
/// a few growing vectors rather than a key buffer and a position list per document.
#[derive(Default)]
pub(super) struct KeyIndex {
    heads: HashMap<u64, usize, FieldHash>,
    /// (document position, previous entry with the same hash or `usize::MAX`, key start, key length)
    entries: Vec<(usize, usize, usize, usize)>,
    arena: Vec<u8>,
}

impl KeyIndex {
    fn hash(key: &[u8]) -> u64 {
        use std::hash::Hasher as _;
        let mut h = value::FieldHasher::default();
        h.write(key);
        h.finish()
    }

    pub(super) fn add(&mut self, key: &[u8], doc: usize) {
        let h = Self::hash(key);
        let prev = self.heads.get(&h).copied().unwrap_or(usize::MAX);
        self.entries.push((doc, prev, self.arena.len(), key.len()));
        self.arena.extend_from_slice(key);
        self.heads.insert(h, self.entries.len() - 1);
    }

    /// Indexes `doc` under the value at `path` when it is reached through documents only
    /// and is not an array: that value is the one key, encoded in place instead of copied
    /// out (the usual join on `_id` or a scalar field). False when the path is not so.
    pub(super) fn add_scalar(
        &mut self,
        doc: &Document,
        path: &[String],
        pos: usize,
        buf: &mut Vec<u8>,
    ) -> bool {
        match get_nested(doc, path) {
            Some(v) if !matches!(v, Value::Array(_)) => {
                buf.clear();
                encode_key(v, buf);
                self.add(buf, pos);
                true
            }
            _ => false,
        }
    }

    /// Appends the positions of the documents indexed under `key`, newest first.
    pub(super) fn hits(&self, key: &[u8], out: &mut Vec<usize>) {
        let mut at = self
            .heads
            .get(&Self::hash(key))
            .copied()
            .unwrap_or(usize::MAX);
        while let Some(&(doc, prev, start, len)) = self.entries.get(at) {
            if self.arena.get(start..start + len) == Some(key) {
                out.push(doc);
            }
            at = prev;
        }
    }
}

fn matches_by_index(idx: &KeyIndex, keys: &[Value]) -> Vec<usize> {
    let mut hits = Vec::new();
    let mut buf = Vec::new();
    for k in keys {
        buf.clear();
        encode_key(k, &mut buf);
        idx.hits(&buf, &mut hits);
    }
    crate::sort::sort(&mut hits);
    hits.dedup();
    hits
}

fn coll_ref(v: &Value, stage: &str) -> Result<(Option<String>, String), AggError> {
    match v {
        Value::String(s) => Ok((None, s.clone())),
        Value::Document(d) => match (d.get("db"), d.get("coll")) {
            (Some(Value::String(db)), Some(Value::String(c))) => Ok((Some(db.clone()), c.clone())),
            _ => Err(failed(format!(
                "{stage} 'from' field must specify both 'db' and 'coll'"
            ))),
        },
        other => Err(failed(format!(
            "{stage} 'from' field must be a string or an object, but found {}",
            type_name(other)
        ))),
    }
}

fn failed(m: String) -> AggError {
    super::failed_to_parse(m)
}

fn compile_lookup(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let spec = as_doc(arg, "$lookup")?;
    let mut from = None;
    let (mut local, mut foreign, mut as_path) = (None, None, None);
    let mut lets = Vec::new();
    let mut pipeline_src = None;
    let mut c = sc.compiler();
    for (k, v) in spec {
        let string = |v: &Value| -> Result<String, AggError> {
            match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(failed(format!(
                    "$lookup argument '{k}: {}' must be a string, is type {}",
                    server_text(other),
                    type_name(other)
                ))),
            }
        };
        match k.as_str() {
            "from" => from = Some(coll_ref(v, "$lookup")?),
            "localField" => local = Some(split_path(&string(v)?)),
            "foreignField" => foreign = Some(split_path(&string(v)?)),
            "as" => as_path = Some(split_path(&string(v)?)),
            "let" => {
                let Value::Document(d) = v else {
                    return Err(failed("$lookup argument 'let' must be an object".into()));
                };
                for (name, e) in d {
                    lets.push((name.clone(), c.compile(e)?));
                }
            }
            "pipeline" => {
                let Value::Array(p) = v else {
                    return Err(failed(
                        "'pipeline' option must be specified as an array".into(),
                    ));
                };
                pipeline_src = Some(p.clone());
            }
            other => {
                return Err(failed(format!("unknown argument to $lookup: {other}")));
            }
        }
    }
    let Some(as_path) = as_path else {
        return Err(failed("must specify 'as' field for a $lookup".into()));
    };
    if local.is_some() != foreign.is_some() {
        return Err(failed(
            "$lookup requires both or neither of 'localField' and 'foreignField' to be specified"
                .to_string(),
        ));
    }
    if pipeline_src.is_none() && local.is_none() {
        return Err(failed(
            "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified".into(),
        ));
    }
    if !lets.is_empty() && pipeline_src.is_none() {
        return Err(failed(
            "$lookup with 'let' must also specify 'pipeline'".into(),
        ));
    }
    let pipeline = match &pipeline_src {
        Some(p) => {
            let mut scope = sc.vars.clone();
            scope.extend(lets.iter().map(|(n, _)| n.clone()));
            Some(compile_pipeline(p, &scope, sc.depth + 1, false)?)
        }
        None => None,
    };
    let starts_with_documents = pipeline
        .as_ref()
        .and_then(|p| p.stages.first())
        .is_some_and(|s| s.name == "$documents");
    if from.is_none() && !starts_with_documents {
        return Err(failed("must specify 'from' field for a $lookup".into()));
    }
    Ok(Box::new(super::lookup::Lookup {
        from,
        local,
        foreign,
        as_path,
        lets,
        pipeline,
    }))
}

pub(super) fn foreign_docs<'a>(
    ctx: &Ctx<'a>,
    from: &Option<(Option<String>, String)>,
) -> &'a [Document] {
    let store: &'a Store = ctx.store;
    match from {
        Some((db, coll)) => store
            .collection(db.as_deref().unwrap_or(ctx.db), coll)
            .map_or(&[], |c| c.docs.as_slice()),
        None => &[],
    }
}

struct GraphLookup {
    from: (Option<String>, String),
    start_with: Expr,
    connect_from: Vec<String>,
    connect_to: Vec<String>,
    as_field: Vec<String>,
    max_depth: Option<i64>,
    depth_field: Option<Vec<String>>,
    restrict: Option<Filter>,
}

fn compile_graph_lookup(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let spec = as_doc(arg, "$graphLookup")?;
    let string = |k: &str| -> Result<Option<String>, AggError> {
        match spec.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(agg_err!(
                40103,
                "expected string as argument for {k}, found: {}",
                type_name(other)
            )),
        }
    };
    for k in spec.keys() {
        if !matches!(
            k.as_str(),
            "from"
                | "startWith"
                | "connectFromField"
                | "connectToField"
                | "as"
                | "maxDepth"
                | "depthField"
                | "restrictSearchWithMatch"
        ) {
            return Err(agg_err!(40104, "Unknown argument to $graphLookup: {k}"));
        }
    }
    let need =
        |v: Option<String>, k: &str| v.ok_or_else(|| agg_err!(40105, "{k} was not specified"));
    let from = match spec.get("from") {
        Some(v) => coll_ref(v, "$graphLookup")?,
        None => return Err(agg_err!(40105, "from was not specified")),
    };
    let start_with = match spec.get("startWith") {
        Some(v) => sc.compiler().compile(v)?,
        None => return Err(agg_err!(40105, "startWith was not specified")),
    };
    let max_depth = match spec.get("maxDepth") {
        None => None,
        Some(v) => match as_i64(v) {
            Some(n) if n >= 0 => Some(n),
            _ => {
                return Err(agg_err!(
                    40101,
                    "maxDepth requires a nonnegative argument, found: {}",
                    server_text(v)
                ))
            }
        },
    };
    let restrict = match spec.get("restrictSearchWithMatch") {
        None => None,
        Some(Value::Document(d)) => {
            Some(Filter::compile(d).map_err(|e| AggError::new(e.code, e.code_name, e.message))?)
        }
        Some(other) => {
            return Err(agg_err!(
                40185,
                "restrictSearchWithMatch must be an object, found {}",
                type_name(other)
            ))
        }
    };
    Ok(Box::new(GraphLookup {
        from,
        start_with,
        connect_from: split_path(&need(string("connectFromField")?, "connectFromField")?),
        connect_to: split_path(&need(string("connectToField")?, "connectToField")?),
        as_field: split_path(&need(string("as")?, "as")?),
        max_depth,
        depth_field: string("depthField")?.map(|s| split_path(&s)),
        restrict,
    }))
}

impl GraphLookup {
    /// Positions of the foreign documents `{ connectToField: { $in: [regexes] } }` matches,
    /// for the regexes among `values`.
    fn regex_matches(&self, foreign: &[Document], values: &[Value]) -> Vec<usize> {
        let regexes: Vec<Value> = values
            .iter()
            .filter(|v| matches!(v, Value::Regex { .. }))
            .cloned()
            .collect();
        let mut cond = Document::default();
        cond.insert("$in".into(), Value::Array(regexes));
        let mut query = Document::default();
        query.insert(self.connect_to.join("."), Value::Document(cond));
        let Ok(filter) = Filter::compile(&query) else {
            return Vec::new();
        };
        (0..foreign.len())
            .filter(|&i| foreign.get(i).is_some_and(|d| filter.matches(d)))
            .collect()
    }
}

impl StageOp for GraphLookup {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let foreign = foreign_docs(ctx, &Some(self.from.clone()));
        ctx.count(foreign.len());
        if let Some(f) = &self.restrict {
            f.set_now(ctx.now_ms);
        }
        // The server looks each round's values up as `{ connectToField: { $in: values } }`,
        // except that null finds only an explicit null, not a missing field.
        let idx = super::lookup::index_foreign(foreign, &self.connect_to, false);
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            // A missing start finds nothing; an array starts from each element.
            let mut frontier = match self.start_with.eval(&mut env(&r, ctx))? {
                Value::Undefined => Vec::new(),
                Value::Array(items) => items,
                v => vec![v],
            };
            let mut visited: Vec<bool> = vec![false; foreign.len()];
            let mut found: Vec<Value> = Vec::new();
            let mut depth = 0i64;
            while !frontier.is_empty() && self.max_depth.is_none_or(|m| depth <= m) {
                let mut next = Vec::new();
                let mut hits = matches_by_index(&idx, &frontier);
                if frontier.iter().any(|v| matches!(v, Value::Regex { .. })) {
                    // In `$in` a regex matches the strings it matches, which no key lookup
                    // finds: the foreign documents are tested one by one.
                    hits.extend(self.regex_matches(foreign, &frontier));
                    crate::sort::sort(&mut hits);
                    hits.dedup();
                }
                for i in hits {
                    let (Some(seen), Some(d)) = (visited.get_mut(i), foreign.get(i)) else {
                        continue;
                    };
                    if *seen || self.restrict.as_ref().is_some_and(|f| !f.matches(d)) {
                        continue;
                    }
                    *seen = true;
                    // Every value the path reaches (null included, a missing field not), an
                    // array among them followed by its elements.
                    super::lookup::path_values(d, &self.connect_from, &mut |v| match v {
                        Value::Array(items) => next.extend(items.iter().cloned()),
                        v => next.push(v.clone()),
                    });
                    let mut doc = d.clone();
                    if let Some(f) = &self.depth_field {
                        set_path(&mut doc, f, Value::Int64(depth));
                    }
                    found.push(Value::Document(doc));
                }
                frontier = next;
                depth += 1;
            }
            let mut d = r.into_owned();
            set_path(&mut d, &self.as_field, Value::Array(found));
            out.push(Cow::Owned(d));
        }
        Ok(out)
    }
}

struct UnionWith {
    from: (Option<String>, String),
    pipeline: Option<Pipeline>,
}

fn compile_union_with(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    match arg {
        Value::String(s) => Ok(Box::new(UnionWith {
            from: (None, s.clone()),
            pipeline: None,
        })),
        Value::Document(d) => {
            let mut from = None;
            let mut pipeline = None;
            for (k, v) in d {
                match (k.as_str(), v) {
                    ("coll", Value::String(s)) => from = Some((None, s.clone())),
                    ("pipeline", Value::Array(p)) => {
                        pipeline = Some(compile_pipeline(p, &sc.vars, sc.depth + 1, false)?)
                    }
                    _ => {
                        return Err(failed(format!(
                            "BSON field '$unionWith.{k}' is an unknown field or has the wrong type."
                        )))
                    }
                }
            }
            let from = match from {
                Some(f) => f,
                None if pipeline
                    .as_ref()
                    .and_then(|p| p.stages.first())
                    .is_some_and(|s| s.name == "$documents") =>
                {
                    (None, String::new())
                }
                None => {
                    return Err(failed(
                        "BSON field '$unionWith.coll' is missing but a required field".into(),
                    ))
                }
            };
            Ok(Box::new(UnionWith { from, pipeline }))
        }
        other => Err(failed(format!(
            "the $unionWith stage specification must be an object or string, but found {}",
            type_name(other)
        ))),
    }
}

impl StageOp for UnionWith {
    fn run<'a>(&self, mut rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let other = foreign_docs(ctx, &Some(self.from.clone()));
        ctx.count(other.len());
        let input: Rows<'a> = other.iter().map(Cow::Borrowed).collect();
        let extra = match &self.pipeline {
            Some(p) => p.run(input, &ctx.nested(ctx.vars.clone())?)?,
            None => input,
        };
        rows.extend(extra);
        Ok(rows)
    }
}

// ---- $facet

struct Facet(Vec<(String, Pipeline)>);

fn compile_facet(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let spec = as_doc(arg, "$facet")?;
    if spec.is_empty() {
        return Err(agg_err!(
            40169,
            "the $facet specification must be a non-empty object"
        ));
    }
    let mut facets = Vec::new();
    for (k, v) in spec {
        let Value::Array(p) = v else {
            return Err(agg_err!(
                40170,
                "arguments to $facet must be arrays, {k} is type {}",
                type_name(v)
            ));
        };
        for s in p {
            if let Value::Document(d) = s {
                if let Some(name) = d.keys().next() {
                    if matches!(
                        name.as_str(),
                        "$facet"
                            | "$out"
                            | "$merge"
                            | "$collStats"
                            | "$indexStats"
                            | "$geoNear"
                            | "$documents"
                    ) {
                        return Err(agg_err!(
                            40600,
                            "{name} is not allowed to be used within a $facet stage"
                        ));
                    }
                }
            }
        }
        facets.push((
            k.clone(),
            compile_pipeline(p, &sc.vars, sc.depth + 1, false)?,
        ));
    }
    Ok(Box::new(Facet(facets)))
}

impl StageOp for Facet {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let mut d = Document::default();
        for (name, p) in &self.0 {
            let res = p.run(rows.clone(), ctx)?;
            d.insert(
                name.clone(),
                Value::Array(
                    res.into_iter()
                        .map(|r| Value::Document(r.into_owned()))
                        .collect(),
                ),
            );
        }
        Ok(vec![Cow::Owned(d)])
    }
}

// ---- $bucket, $bucketAuto

fn default_count() -> Vec<(String, AccSpec)> {
    vec![(
        "count".to_string(),
        AccSpec {
            kind: accum::Kind::Sum,
            arg: Expr::Const(Value::Int32(1)),
            n: None,
            sort: None,
            p: None,
        },
    )]
}

struct Bucket {
    group_by: Expr,
    boundaries: Vec<Value>,
    default: Option<Value>,
    accs: Vec<(String, AccSpec)>,
}

fn compile_bucket(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let spec = as_doc(arg, "$bucket")?;
    let mut c = sc.compiler();
    let mut group_by = None;
    let mut boundaries = None;
    let mut default = None;
    let mut accs = None;
    for (k, v) in spec {
        match k.as_str() {
            "groupBy" => {
                let ok = matches!(v, Value::String(s) if s.starts_with('$'))
                    || matches!(v, Value::Document(_));
                if !ok {
                    return Err(agg_err!(
                        40202,
                        "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: {}",
                        server_text(v)
                    ));
                }
                group_by = Some(c.compile(v)?)
            }
            "boundaries" => {
                let Value::Array(b) = v else {
                    return Err(agg_err!(
                        40200,
                        "The $bucket 'boundaries' field must be an array, but found type: {}",
                        type_name(v)
                    ));
                };
                if b.len() < 2 {
                    return Err(agg_err!(
                        40192,
                        "The $bucket 'boundaries' field must have at least 2 values, but found {} value(s).",
                        b.len()
                    ));
                }
                for w in b.windows(2) {
                    if let [x, y] = w {
                        if compare(x, y).is_ge() {
                            return Err(agg_err!(
                                40194,
                                "The 'boundaries' option to $bucket must be sorted in ascending order, but elements {} and {} are not in ascending order ({} is not less than {}).",
                                0, 1, server_text(x), server_text(y)
                            ));
                        }
                    }
                }
                boundaries = Some(b.clone());
            }
            "default" => default = Some(v.clone()),
            "output" => {
                let Value::Document(o) = v else {
                    return Err(agg_err!(
                        40196,
                        "The $bucket 'output' field must be an object, but found type: {}",
                        type_name(v)
                    ));
                };
                accs = Some(parse_accumulators(o, &mut c, false)?);
            }
            other => {
                return Err(agg_err!(40197, "Unrecognized option to $bucket: {other}."));
            }
        }
    }
    let (Some(group_by), Some(boundaries)) = (group_by, boundaries) else {
        return Err(agg_err!(
            40198,
            "$bucket requires 'groupBy' and 'boundaries' to be specified."
        ));
    };
    if let (Some(d), Some(first), Some(last)) = (&default, boundaries.first(), boundaries.last()) {
        let same_type = super::super::value::type_rank(d) == super::super::value::type_rank(first);
        if same_type && compare(d, first).is_ge() && compare(d, last).is_lt() {
            return Err(agg_err!(
                40199,
                "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary."
            ));
        }
    }
    Ok(Box::new(Bucket {
        group_by,
        boundaries,
        default,
        accs: accs.unwrap_or_else(default_count),
    }))
}

impl StageOp for Bucket {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let n = self.boundaries.len() - 1;
        let mut err = None;
        let groups = group_rows(
            &rows,
            ctx,
            None,
            &mut |e| {
                let v = self.group_by.eval(e)?;
                let v = if matches!(v, Value::Undefined) {
                    Value::Null
                } else {
                    v
                };
                for i in 0..n {
                    let (Some(lo), Some(hi)) = (self.boundaries.get(i), self.boundaries.get(i + 1))
                    else {
                        break;
                    };
                    let rank = super::super::value::type_rank;
                    if rank(&v) == rank(lo) && compare(&v, lo).is_ge() && compare(&v, hi).is_lt() {
                        return Ok(lo.clone());
                    }
                }
                match &self.default {
                    Some(d) => Ok(Value::Array(vec![d.clone()])),
                    None => {
                        let e = agg_err!(
                            40066,
                            "$switch could not find a matching branch for an input, and no default was specified."
                        );
                        err = Some(e.clone());
                        Err(e)
                    }
                }
            },
            &self.accs,
        );
        let groups = match (groups, err) {
            (Ok(g), _) => g,
            (Err(e), _) => return Err(e),
        };
        let empty = Document::default();
        let mut keyed = Vec::new();
        for (key, states, first) in groups {
            // Defaults were wrapped in an array to keep them apart from boundary values.
            let (order, id) = match key {
                Value::Array(mut d) if self.default.is_some() && d.len() == 1 => {
                    (usize::MAX, d.pop().unwrap_or(Value::Null))
                }
                k => (
                    self.boundaries
                        .iter()
                        .position(|b| values_equal(b, &k))
                        .unwrap_or(0),
                    k,
                ),
            };
            let doc = rows.get(first).map_or(&empty, |r| r.as_ref());
            keyed.push((
                order,
                finish_group("_id", id, states, &self.accs, doc, ctx)?,
            ));
        }
        crate::sort::sort_by_key(&mut keyed, |(o, _)| *o);
        Ok(keyed.into_iter().map(|(_, d)| Cow::Owned(d)).collect())
    }
}

struct BucketAuto {
    group_by: Expr,
    buckets: usize,
    accs: Vec<(String, AccSpec)>,
}

fn compile_bucket_auto(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let spec = as_doc(arg, "$bucketAuto")?;
    let mut c = sc.compiler();
    let mut group_by = None;
    let mut buckets = None;
    let mut accs = None;
    for (k, v) in spec {
        match k.as_str() {
            "groupBy" => group_by = Some(c.compile(v)?),
            "buckets" => match as_i64(v) {
                Some(n) if n > 0 => buckets = Some(n as usize),
                _ => {
                    return Err(agg_err!(
                        40243,
                        "The $bucketAuto 'buckets' field must be greater than 0, but found: {}",
                        server_text(v)
                    ))
                }
            },
            "output" => {
                let Value::Document(o) = v else {
                    return Err(agg_err!(
                        40244,
                        "The $bucketAuto 'output' field must be an object"
                    ));
                };
                accs = Some(parse_accumulators(o, &mut c, false)?);
            }
            "granularity" => {
                return Err(agg_err!(
                    6050105,
                    "$bucketAuto 'granularity' is not supported in this sandbox yet"
                ))
            }
            other => {
                return Err(agg_err!(
                    40245,
                    "Unrecognized option to $bucketAuto: {other}."
                ))
            }
        }
    }
    let (Some(group_by), Some(buckets)) = (group_by, buckets) else {
        return Err(agg_err!(
            40246,
            "$bucketAuto requires 'groupBy' and 'buckets' to be specified"
        ));
    };
    Ok(Box::new(BucketAuto {
        group_by,
        buckets,
        accs: accs.unwrap_or_else(default_count),
    }))
}

impl StageOp for BucketAuto {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let mut keyed: Vec<(Value, Row<'a>)> = Vec::with_capacity(rows.len());
        for r in rows {
            let v = match self.group_by.eval(&mut env(&r, ctx))? {
                Value::Undefined => Value::Null,
                v => v,
            };
            keyed.push((v, r));
        }
        crate::sort::sort_by(&mut keyed, |a, b| compare(&a.0, &b.0));
        let n = keyed.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let size = ((n as f64) / (self.buckets as f64)).round().max(1.0) as usize;
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < n {
            let mut end = (i + size).min(n);
            if ranges.len() + 1 == self.buckets {
                end = n;
            }
            while end < n && keyed.get(end).map(|x| &x.0) == keyed.get(end - 1).map(|x| &x.0) {
                end += 1;
            }
            ranges.push((i, end));
            i = end;
        }
        let mut out = Vec::with_capacity(ranges.len());
        for (k, (lo, hi)) in ranges.iter().enumerate() {
            let min = keyed.get(*lo).map_or(Value::Null, |x| x.0.clone());
            let max = match ranges.get(k + 1) {
                Some((next, _)) => keyed.get(*next).map_or(Value::Null, |x| x.0.clone()),
                None => keyed.get(hi - 1).map_or(Value::Null, |x| x.0.clone()),
            };
            let slice: Rows<'a> = keyed
                .get(*lo..*hi)
                .unwrap_or_default()
                .iter()
                .map(|x| x.1.clone())
                .collect();
            let mut states: Vec<State> = self.accs.iter().map(|(_, a)| a.new_state()).collect();
            for r in &slice {
                let mut e = env(r, ctx);
                for ((_, a), s) in self.accs.iter().zip(states.iter_mut()) {
                    a.add(s, &mut e)?;
                }
            }
            let mut id = Document::default();
            id.insert("min".into(), min);
            id.insert("max".into(), max);
            let empty = Document::default();
            let first = slice.first().map_or(&empty, |r| r.as_ref());
            out.push(Cow::Owned(finish_group(
                "_id",
                Value::Document(id),
                states,
                &self.accs,
                first,
                ctx,
            )?));
        }
        Ok(out)
    }
}

// ---- $replaceRoot, $replaceWith, $redact, $sample, $documents, $geoNear

struct ReplaceRoot(Expr);

fn compile_replace_root(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let spec = as_doc(arg, "$replaceRoot")?;
    let Some(root) = spec.get("newRoot") else {
        return Err(agg_err!(
            40231,
            "no newRoot specified for the $replaceRoot stage"
        ));
    };
    if let Some(k) = spec.keys().find(|k| *k != "newRoot") {
        return Err(failed(format!(
            "BSON field '$replaceRoot.{k}' is an unknown field."
        )));
    }
    Ok(Box::new(ReplaceRoot(sc.compiler().compile(root)?)))
}

fn compile_replace_with(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    Ok(Box::new(ReplaceRoot(sc.compiler().compile(arg)?)))
}

impl StageOp for ReplaceRoot {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            match self.0.eval(&mut env(&r, ctx))? {
                Value::Document(d) => out.push(Cow::Owned(d)),
                v => {
                    return Err(agg_err!(
                        40228,
                        "'newRoot' expression must evaluate to an object, but resulting value was: {}. Type of resulting value: '{}'. Input document: {}",
                        if matches!(v, Value::Undefined) { "MISSING".to_string() } else { server_text(&v) },
                        type_name(&v),
                        server_text(&Value::Document(r.into_owned()))
                    ))
                }
            }
        }
        Ok(out)
    }
}

struct Redact(Expr);

fn compile_redact(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    Ok(Box::new(Redact(sc.compiler().compile(arg)?)))
}

impl Redact {
    fn redact(
        &self,
        doc: &Document,
        ctx: &Ctx<'_>,
        depth: usize,
    ) -> Result<Option<Document>, AggError> {
        if depth > MAX_DEPTH {
            return Err(depth_error());
        }
        let v = self.0.eval(&mut env(doc, ctx))?;
        match &v {
            Value::String(s) if s == "$$KEEP" => Ok(Some(doc.clone())),
            Value::String(s) if s == "$$PRUNE" => Ok(None),
            Value::String(s) if s == "$$DESCEND" => {
                let mut out = Document::default();
                for (k, x) in doc {
                    if let Some(x) = self.redact_value(x, ctx, depth + 1)? {
                        out.insert(k.clone(), x);
                    }
                }
                Ok(Some(out))
            }
            other => Err(agg_err!(
                17053,
                "$redact's expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned {}",
                server_text(other)
            )),
        }
    }

    fn redact_value(
        &self,
        v: &Value,
        ctx: &Ctx<'_>,
        depth: usize,
    ) -> Result<Option<Value>, AggError> {
        Ok(match v {
            Value::Document(d) => self.redact(d, ctx, depth)?.map(Value::Document),
            Value::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    if let Some(x) = self.redact_value(i, ctx, depth + 1)? {
                        out.push(x);
                    }
                }
                Some(Value::Array(out))
            }
            other => Some(other.clone()),
        })
    }
}

impl StageOp for Redact {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(d) = self.redact(&r, ctx, 0)? {
                out.push(Cow::Owned(d));
            }
        }
        Ok(out)
    }
}

struct Sample(usize);

fn compile_sample(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let spec = match arg {
        Value::Document(d) => d,
        _ => {
            return Err(agg_err!(
                28745,
                "the $sample stage specification must be an object"
            ))
        }
    };
    let mut size = None;
    for (k, v) in spec {
        if k != "size" {
            return Err(agg_err!(28748, "unrecognized option to $sample: {k}"));
        }
        size = Some(match as_f64(v) {
            Some(x) if x >= 0.0 => x as usize,
            Some(_) => {
                return Err(agg_err!(
                    28747,
                    "size argument to $sample must not be negative"
                ))
            }
            None => return Err(agg_err!(28746, "size argument to $sample must be a number")),
        });
    }
    match size {
        Some(n) => Ok(Box::new(Sample(n))),
        None => Err(agg_err!(28749, "$sample stage must specify a size")),
    }
}

impl StageOp for Sample {
    fn run<'a>(&self, mut rows: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        // A partial Fisher–Yates shuffle from the seeded source: the same sandbox time
        // samples the same documents.
        let n = self.0.min(rows.len());
        for i in 0..n {
            let remaining = (rows.len() - i) as u64;
            let j = i + (ctx.random() % remaining) as usize;
            rows.swap(i, j);
        }
        rows.truncate(n);
        Ok(rows)
    }
}

struct Documents(Expr);

fn compile_documents(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    Ok(Box::new(Documents(sc.compiler().compile(arg)?)))
}

impl StageOp for Documents {
    fn run<'a>(&self, _: Rows<'a>, ctx: &Ctx<'a>) -> Res<'a> {
        let empty = Document::default();
        match self.0.eval(&mut env(&empty, ctx))? {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    match i {
                        Value::Document(d) => out.push(Cow::Owned(d)),
                        other => {
                            return Err(agg_err!(
                                40228,
                                "'newRoot' expression must evaluate to an object, but resulting value was: {}. Type of resulting value: '{}'. Input document: {{}}",
                                server_text(&other),
                                type_name(&other)
                            ))
                        }
                    }
                }
                Ok(out)
            }
            other => Err(agg_err!(
                5858203,
                "an array is expected, found {}",
                type_name(&other)
            )),
        }
    }
}

/// The argument a leading `$geoNear` is compiled with once its documents were read through
/// the geo index (see `agg::leading_index_stage`).
pub const PREPARED_GEO_NEAR: &str = "$__prepared";

struct PassThrough;

impl StageOp for PassThrough {
    fn run<'a>(&self, rows: Rows<'a>, _: &Ctx<'a>) -> Res<'a> {
        Ok(rows)
    }
}

fn compile_geo_near(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    if matches!(arg, Value::Document(d) if d.contains_key(PREPARED_GEO_NEAR)) {
        return Ok(Box::new(PassThrough));
    }
    Err(AggError::new(
        40602,
        "Location40602",
        "$geoNear is only valid as the first stage in a pipeline",
    ))
}

// ---- $out, $merge

fn compile_write(name: &str, arg: &Value) -> Result<Write, AggError> {
    let target = |v: &Value| -> Result<(Option<String>, String), AggError> {
        match v {
            Value::String(s) if !s.is_empty() => Ok((None, s.clone())),
            Value::Document(d) => match (d.get("db"), d.get("coll")) {
                (db, Some(Value::String(c))) => Ok((
                    match db {
                        Some(Value::String(s)) => Some(s.clone()),
                        _ => None,
                    },
                    c.clone(),
                )),
                _ => Err(failed(format!("{name} target must name a collection"))),
            },
            Value::String(_) => Err(failed(format!(
                "{name} target must be a string or an object"
            ))),
            other if name == "$out" => Err(agg_err!(
                16990,
                "$out only supports a string or object argument, but found {}",
                type_name(other)
            )),
            other => Err(AggError::new(
                14,
                "TypeMismatch",
                format!(
                    "$merge requires a string or object argument, but found {}",
                    type_name(other)
                ),
            )),
        }
    };
    if name == "$out" {
        let (db, coll) = target(arg)?;
        return Ok(Write::Out { db, coll });
    }
    let (into, rest) = match arg {
        Value::Document(d) => (
            d.get("into").ok_or_else(|| {
                failed("BSON field '$merge.into' is missing but a required field".into())
            })?,
            Some(d),
        ),
        other => (other, None),
    };
    let (db, coll) = target(into)?;
    let mut on = vec!["_id".to_string()];
    let mut when_matched = "merge".to_string();
    let mut when_not_matched = "insert".to_string();
    let mut when_matched_pipeline = None;
    let mut let_vars = None;
    if let Some(d) = rest {
        for (k, v) in d {
            match (k.as_str(), v) {
                ("into", _) => {}
                ("on", Value::String(s)) => on = vec![s.clone()],
                ("on", Value::Array(items)) => {
                    on = items
                        .iter()
                        .filter_map(|i| match i {
                            Value::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect()
                }
                ("whenMatched", Value::String(s))
                    if matches!(s.as_str(), "replace" | "keepExisting" | "merge" | "fail") =>
                {
                    when_matched = s.clone()
                }
                ("whenMatched", Value::Array(stages)) => {
                    when_matched = "pipeline".into();
                    when_matched_pipeline = Some(stages.clone());
                }
                ("let", Value::Document(vars)) => {
                    let_vars = Some(
                        vars.iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<Vec<_>>(),
                    );
                }
                ("whenNotMatched", Value::String(s))
                    if matches!(s.as_str(), "insert" | "discard" | "fail") =>
                {
                    when_not_matched = s.clone()
                }
                _ => {
                    return Err(failed(format!(
                        "BSON field '$merge.{k}' is an unknown field or has the wrong type."
                    )))
                }
            }
        }
    }
    let when_matched_pipeline = match when_matched_pipeline {
        Some(stages) => {
            let merge = MergePipeline {
                stages,
                vars: let_vars
                    .unwrap_or_else(|| vec![("new".to_string(), Value::String("$$ROOT".into()))]),
            };
            merge.compile()?;
            Some(merge)
        }
        None if let_vars.is_some() => {
            return Err(agg_err!(
                51199,
                "Cannot use 'let' variables with 'whenMatched: {when_matched}' mode"
            ))
        }
        None => None,
    };
    Ok(Write::Merge {
        db,
        coll,
        on,
        when_matched,
        when_not_matched,
        when_matched_pipeline,
    })
}

impl Write {
    pub fn apply(
        &self,
        store: &mut Store,
        db: &str,
        docs: &[Document],
        now_ms: i64,
    ) -> Result<(), AggError> {
        let mut oids = ObjectIdGenerator::new(docs.len() as u64 ^ 0x006f_7574);
        let with_id = |d: &Document, oids: &mut ObjectIdGenerator| -> Document {
            if d.contains_key("_id") {
                return d.clone();
            }
            let mut n = Document::with_capacity_and_hasher(d.len() + 1, Default::default());
            n.insert("_id".into(), Value::ObjectId(oids.next(0)));
            for (k, v) in d {
                n.insert(k.clone(), v.clone());
            }
            n
        };
        match self {
            Write::Out {
                db: target_db,
                coll,
            } => {
                let target_db = target_db.as_deref().unwrap_or(db);
                if store
                    .collection(target_db, coll)
                    .is_some_and(|c| c.holds_locks())
                {
                    // Replacing a collection an open transaction has written waits for it.
                    return Err(AggError::new(
                        112,
                        "WriteConflict",
                        crate::mongo::store::WRITE_CONFLICT_MESSAGE,
                    ));
                }
                // The replaced collection keeps its options (validator, capped), and the new
                // documents must pass its validator.
                let mut fresh = store.new_collection();
                fresh.options = store
                    .collection(target_db, coll)
                    .map(|c| c.options.clone())
                    .unwrap_or_default();
                // $out keeps the indexes of the collection it replaces.
                let kept: Vec<crate::mongo::index::IndexSpec> = store
                    .collection(target_db, coll)
                    .map(|c| {
                        c.indexes()
                            .iter()
                            .skip(1)
                            .map(|ix| ix.spec.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let ns = format!("{target_db}.{coll}");
                for spec in kept {
                    fresh
                        .create_index(spec, &ns)
                        .map_err(|e| AggError::new(e.code, e.code_name, e.message))?;
                }
                for d in docs {
                    let d = with_id(d, &mut oids);
                    if fresh.validate(&d, None, now_ms).is_some() {
                        return Err(validation_failed());
                    }
                    fresh
                        .insert(d)
                        .map_err(|e| dup_error(&e, target_db, coll))?;
                }
                let keep = !fresh.docs.is_empty() || fresh.options != Default::default();
                store.drop_collection(target_db, coll);
                if keep {
                    *store.collection_mut(target_db, coll) = fresh;
                }
                Ok(())
            }
            Write::Merge {
                db: target_db,
                coll,
                on,
                when_matched,
                when_not_matched,
                when_matched_pipeline,
            } => {
                let compiled = match when_matched_pipeline {
                    Some(p) => Some(p.compile()?),
                    None => None,
                };
                let target_db = target_db.as_deref().unwrap_or(db);
                let target = store.collection_mut(target_db, coll);
                let paths: Vec<Vec<String>> = on.iter().map(|s| split_path(s)).collect();
                for d in docs {
                    let d = with_id(d, &mut oids);
                    let pos = target.docs.iter().position(|t| {
                        paths
                            .iter()
                            .all(|p| values_equal(&doc_path(t, p), &doc_path(&d, p)))
                    });
                    match (pos, when_matched.as_str(), when_not_matched.as_str()) {
                        (Some(_), "keepExisting", _) => {}
                        (Some(_), "fail", _) => {
                            return Err(AggError::new(
                                11000,
                                "DuplicateKey",
                                format!(
                                    "$merge failed due to a DuplicateKey error :: caused by :: E11000 duplicate key error collection: {target_db}.{coll} index: _id_"
                                ),
                            ))
                        }
                        (Some(i), mode, _) => {
                            let Some(old) = target.docs.get(i).cloned() else {
                                continue;
                            };
                            let id = old.get("_id").cloned();
                            let mut new = match &compiled {
                                Some(compiled) => {
                                    let updated = MergePipeline::apply(compiled, &old, &d, now_ms)?;
                                    if updated.get("_id").is_some_and(|new| {
                                        id.as_ref().is_none_or(|old| !values_equal(old, new))
                                    }) {
                                        return Err(AggError::new(
                                            66,
                                            "ImmutableField",
                                            "$merge failed to update the matching document, did you attempt to modify the _id or the shard key? :: caused by :: Performing an update on the path '_id' would modify the immutable field '_id'",
                                        ));
                                    }
                                    updated
                                }
                                None if mode == "replace" => d,
                                None => {
                                    let mut merged = old.clone();
                                    for (k, v) in d {
                                        merged.insert(k, v);
                                    }
                                    merged
                                }
                            };
                            if let Some(id) = id {
                                new.insert("_id".into(), id);
                            }
                            if target.validate(&new, Some(&old), now_ms).is_some() {
                                return Err(validation_failed());
                            }
                            target
                                .replace(i, new)
                                .map_err(|e| dup_error(&e, target_db, coll))?;
                        }
                        (None, _, "insert") => {
                            if target.validate(&d, None, now_ms).is_some() {
                                return Err(validation_failed());
                            }
                            target.insert(d).map_err(|e| dup_error(&e, target_db, coll))?;
                        }
                        (None, _, "fail") => {
                            return Err(agg_err!(
                                13113,
                                "$merge could not find a matching document in the target collection for at least one document in the source collection"
                            ))
                        }
                        _ => {}
                    }
                }
                if target.docs.is_empty() && target.options == Default::default() {
                    store.drop_collection(target_db, coll);
                }
                Ok(())
            }
        }
    }
}

fn dup_error(e: &crate::mongo::store::InsertError, db: &str, coll: &str) -> AggError {
    match e {
        crate::mongo::store::InsertError::DuplicateId(id) => AggError::new(
            11000,
            "DuplicateKey",
            format!(
                "E11000 duplicate key error collection: {db}.{coll} index: _id_ dup key: {{ _id: {} }}",
                server_text(id)
            ),
        ),
        crate::mongo::store::InsertError::IdIsArray => bad_value("The '_id' value cannot be of type array"),
        crate::mongo::store::InsertError::Validation(_) => validation_failed(),
        crate::mongo::store::InsertError::Key(k) => {
            let e = k.to_query_error(&format!("{db}.{coll}"));
            AggError::new(e.code, e.code_name, e.message)
        }
        crate::mongo::store::InsertError::MemoryLimit(limit) => AggError::new(
            crate::mongo::store::MEMORY_LIMIT_CODE,
            "ExceededMemoryLimit",
            crate::mongo::store::InsertError::memory_limit_message(*limit),
        ),
        crate::mongo::store::InsertError::TimeSeries(m) => bad_value(m),
        crate::mongo::store::InsertError::WriteConflict => AggError::new(
            112,
            "WriteConflict",
            crate::mongo::store::WRITE_CONFLICT_MESSAGE,
        ),
    }
}

fn validation_failed() -> AggError {
    AggError::new(
        121,
        "DocumentValidationFailure",
        "Document failed validation",
    )
}
