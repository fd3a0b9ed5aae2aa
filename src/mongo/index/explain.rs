//! Explain documents in the shape `explain()` returns: `queryPlanner` with the winning and
//! rejected plans as stage trees, and `executionStats` with the counts of the work done.

use super::plan::{Access, Execution, FieldBounds, Plan, Predicate, Query, Stats};
use crate::mongo::store::Collection;
use crate::mongo::value::{Document, Value};

/// How much explain runs: the plan only, or the plan and its execution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verbosity {
    QueryPlanner,
    ExecutionStats,
    AllPlansExecution,
}

impl Verbosity {
    /// `explain()`, `explain(true)`, `explain("executionStats")`, …; None for an unknown mode.
    pub fn parse(v: Option<&Value>) -> Option<Verbosity> {
        match v {
            None | Some(Value::Undefined) => Some(Verbosity::QueryPlanner),
            Some(Value::Bool(true)) => Some(Verbosity::AllPlansExecution),
            Some(Value::Bool(false)) => Some(Verbosity::QueryPlanner),
            Some(Value::String(s)) => match s.as_str() {
                "queryPlanner" => Some(Verbosity::QueryPlanner),
                "executionStats" => Some(Verbosity::ExecutionStats),
                "allPlansExecution" => Some(Verbosity::AllPlansExecution),
                _ => None,
            },
            _ => None,
        }
    }
}

fn doc(fields: Vec<(&str, Value)>) -> Document {
    fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

pub(super) fn int(n: u64) -> Value {
    Value::Int32(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Predicates as the server prints a parsed filter: `{ a: { '$eq': 5 } }`, several under
/// `$and`.
pub fn parsed_filter(preds: &[Predicate], others: &[(String, Value)]) -> Document {
    let mut clauses: Vec<Value> = preds
        .iter()
        .map(|p| {
            let mut inner = Document::default();
            match (p.op.as_str(), &p.value) {
                // The server prints a regex predicate as its pattern and options.
                ("$regex", Value::Regex { pattern, options }) => {
                    inner.insert("$regex".into(), Value::String(pattern.clone()));
                    if !options.is_empty() {
                        inner.insert("$options".into(), Value::String(options.clone()));
                    }
                }
                _ => {
                    inner.insert(p.op.clone(), p.value.clone());
                }
            }
            let mut d = Document::default();
            d.insert(p.path.clone(), Value::Document(inner));
            Value::Document(d)
        })
        .collect();
    for (k, v) in others {
        let mut d = Document::default();
        let v = match (k.as_str(), v) {
            // Branches of a logical operator print parsed, as the server prints them.
            ("$or" | "$nor" | "$and", Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|item| match item {
                        Value::Document(b) => {
                            let c = super::plan::conjunction(b);
                            Value::Document(parsed_filter(&c.predicates, &c.others))
                        }
                        other => other.clone(),
                    })
                    .collect(),
            ),
            _ => v.clone(),
        };
        d.insert(k.clone(), v);
        clauses.push(Value::Document(d));
    }
    match clauses.len() {
        0 => Document::default(),
        1 => match clauses.pop() {
            Some(Value::Document(d)) => d,
            _ => Document::default(),
        },
        _ => doc(vec![("$and", Value::Array(clauses))]),
    }
}

/// Per-stage counts for `executionStats`, or None for `queryPlanner`.
struct Counts<'a> {
    stats: &'a Stats,
    returned: u64,
}

fn with_counts(stage: &mut Document, n_returned: u64, works: u64) {
    stage.insert("nReturned".into(), int(n_returned));
    stage.insert("executionTimeMillisEstimate".into(), Value::Int32(0));
    stage.insert("works".into(), int(works));
    stage.insert("advanced".into(), int(n_returned));
    stage.insert("needTime".into(), int(works.saturating_sub(n_returned + 1)));
    stage.insert("needYield".into(), Value::Int32(0));
    stage.insert("saveState".into(), Value::Int32(0));
    stage.insert("restoreState".into(), Value::Int32(0));
    stage.insert("isEOF".into(), Value::Int32(1));
}

/// A find by `_id` equality alone (no sort, skip, limit, projection or hint), which the server
/// runs as its IDHACK fast path.
fn is_id_lookup(q: &Query, plan: &Plan) -> bool {
    let by_id = q.filter_doc.len() == 1
        && q.filter_doc.get("_id").is_some_and(|v| {
            !matches!(
                v,
                Value::Document(_) | Value::Array(_) | Value::Regex { .. } | Value::Null
            )
        });
    by_id
        && q.sort.is_none()
        && q.projection.is_none()
        && q.hint.is_none()
        && q.skip == 0
        && q.limit.is_none_or(|n| n == 0)
        && matches!(plan.access, Access::IxScan { index: 0, .. })
}

/// The stage tree of a plan.
fn stage_tree(coll: &Collection, q: &Query, plan: &Plan, counts: Option<&Counts>) -> Document {
    let residual = parsed_filter(&plan.residual, &plan.residual_others);
    if is_id_lookup(q, plan) {
        // The server answers `{_id: value}` by a direct lookup, without planning.
        let mut d = doc(vec![("stage", Value::String("IDHACK".into()))]);
        if let Some(c) = counts {
            with_counts(&mut d, c.stats.matched, c.stats.works);
            d.insert("keysExamined".into(), int(c.stats.keys_examined));
            d.insert("docsExamined".into(), int(c.stats.docs_examined));
        }
        return d;
    }
    let mut tree = match &plan.access {
        Access::Text { index, query } => {
            let conj = super::plan::conjunction(q.filter_doc);
            let others: Vec<(String, Value)> = conj
                .others
                .into_iter()
                .filter(|(k, _)| k != "$text")
                .collect();
            let rest = parsed_filter(&conj.predicates, &others);
            super::text::explain_stage(coll, *index, query, Some(rest), counts.map(|c| c.stats))
        }
        Access::GeoNear { index, .. } => {
            super::geo::explain_stage(coll, *index, counts.map(|c| c.stats))
        }
        Access::CollScan { backward } => {
            let mut d = doc(vec![("stage", Value::String("COLLSCAN".into()))]);
            if !residual.is_empty() {
                d.insert("filter".into(), Value::Document(residual.clone()));
            }
            if let Some(c) = counts {
                with_counts(&mut d, c.stats.matched, c.stats.works);
            }
            d.insert(
                "direction".into(),
                Value::String(if *backward { "backward" } else { "forward" }.into()),
            );
            if let Some(c) = counts {
                d.insert("docsExamined".into(), int(c.stats.docs_examined));
            }
            d
        }
        Access::IxScan { .. } => index_access(coll, plan, counts.map(|c| c.stats), true),
        Access::Or { branches, merge } => {
            let stats = counts.map(|c| c.stats);
            let children: Vec<Document> = branches
                .iter()
                .enumerate()
                .map(|(i, (_, branch))| {
                    let branch_stats = stats.and_then(|s| s.branches.get(i));
                    index_access(coll, branch, branch_stats.or(stats.map(|_| &EMPTY)), false)
                })
                .collect();
            let all_fetched = children
                .iter()
                .all(|c| matches!(c.get("stage"), Some(Value::String(s)) if s == "FETCH"));
            let mut node = doc(vec![(
                "stage",
                Value::String(if *merge { "SORT_MERGE" } else { "OR" }.into()),
            )]);
            if let Some(s) = stats {
                with_counts(&mut node, s.matched, s.works);
            }
            if let (true, Some(sort)) = (*merge, q.sort) {
                node.insert("sortPattern".into(), Value::Document(sort.clone()));
            }
            if let Some(s) = stats {
                node.insert("dupsTested".into(), int(s.matched + s.dups_dropped));
                node.insert("dupsDropped".into(), int(s.dups_dropped));
            }
            node.insert(
                "inputStages".into(),
                Value::Array(children.into_iter().map(Value::Document).collect()),
            );
            if all_fetched {
                node
            } else {
                let mut fetch = doc(vec![("stage", Value::String("FETCH".into()))]);
                if let Some(s) = stats {
                    with_counts(&mut fetch, s.matched, s.works);
                    fetch.insert("docsExamined".into(), int(s.docs_examined));
                    fetch.insert("alreadyHasObj".into(), Value::Int32(0));
                }
                fetch.insert("inputStage".into(), Value::Document(node));
                fetch
            }
        }
    };
    let works = counts.map_or(0, |c| c.stats.works);
    let wrap = |stage: &str, fields: Vec<(&str, Value)>, input: Document, n: Option<u64>| {
        let mut d = doc(vec![("stage", Value::String(stage.into()))]);
        if let Some(n) = n {
            with_counts(&mut d, n, works);
        }
        for (k, v) in fields {
            d.insert(k.into(), v);
        }
        d.insert("inputStage".into(), Value::Document(input));
        d
    };
    let returned = counts.map(|c| c.returned);
    let limit = q.limit.filter(|&n| n > 0);
    let blocking_sort = q.sort.is_some() && !plan.provides_sort;
    if let (true, Some(sort)) = (blocking_sort, q.sort) {
        let mut fields = vec![
            ("sortPattern", Value::Document(sort.clone())),
            ("memLimit", Value::Int32(104_857_600)),
        ];
        if let Some(n) = limit {
            fields.push(("limitAmount", int((n + q.skip) as u64)));
        }
        fields.push(("type", Value::String("simple".into())));
        let sorted = counts.map(|c| match limit {
            Some(n) => c.stats.matched.min((n + q.skip) as u64),
            None => c.stats.matched,
        });
        tree = wrap("SORT", fields, tree, sorted);
    }
    if q.skip > 0 {
        let skipped = counts.map(|c| c.returned);
        tree = wrap(
            "SKIP",
            vec![("skipAmount", int(q.skip as u64))],
            tree,
            skipped,
        );
    }
    if let (Some(n), false) = (limit, blocking_sort) {
        tree = wrap(
            "LIMIT",
            vec![("limitAmount", int(n as u64))],
            tree,
            returned,
        );
    }
    if let Some(p) = q.projection {
        let simple = p
            .iter()
            .all(|(k, v)| !k.contains('.') && (matches!(v, Value::Bool(_)) || v.is_number()));
        let stage = if plan.covered {
            "PROJECTION_COVERED"
        } else if simple {
            "PROJECTION_SIMPLE"
        } else {
            "PROJECTION_DEFAULT"
        };
        tree = wrap(
            stage,
            vec![("transformBy", Value::Document(p.clone()))],
            tree,
            returned,
        );
    }
    if super::plan::rooted_or(q.filter_doc).is_some() && q.hint.is_none() {
        // A rooted `$or` is planned branch by branch under a SUBPLAN stage.
        tree = wrap("SUBPLAN", Vec::new(), tree, returned);
    }
    tree
}

/// The whole explain document for a find.
pub fn explain_find(
    namespace: &str,
    coll: Option<&Collection>,
    q: &Query,
    exec: Option<&Execution>,
    verbosity: Verbosity,
) -> Document {
    let conj = super::plan::conjunction(q.filter_doc);
    let mut planner = Document::default();
    planner.insert("namespace".into(), Value::String(namespace.into()));
    planner.insert("indexFilterSet".into(), Value::Bool(false));
    planner.insert(
        "parsedQuery".into(),
        Value::Document(parsed_filter(&conj.predicates, &conj.others)),
    );
    if let Some(c) = coll {
        // The server prints both hashes whenever the collection exists.
        let (db, coll_name) = namespace.split_once('.').unwrap_or((namespace, ""));
        let key =
            super::plan_cache::key((db, coll_name), Some(c), q.filter_doc, q.sort, q.projection);
        planner.insert(
            "queryHash".into(),
            Value::String(super::plan_cache::hex(key.query_hash())),
        );
        planner.insert(
            "planCacheKey".into(),
            Value::String(super::plan_cache::hex(key.plan_cache_key())),
        );
    }
    for flag in [
        "maxIndexedOrSolutionsReached",
        "maxIndexedAndSolutionsReached",
        "maxScansToExplodeReached",
    ] {
        planner.insert(flag.into(), Value::Bool(false));
    }
    let (winning, rejected) = match (coll, exec) {
        (Some(c), Some(e)) => (
            stage_tree(c, q, &e.winner, None),
            e.rejected
                .iter()
                .map(|p| Value::Document(stage_tree(c, q, p, None)))
                .collect(),
        ),
        _ => (
            doc(vec![("stage", Value::String("EOF".into()))]),
            Vec::new(),
        ),
    };
    planner.insert("winningPlan".into(), Value::Document(winning));
    planner.insert("rejectedPlans".into(), Value::Array(rejected));
    let mut out = Document::default();
    out.insert("explainVersion".into(), Value::String("1".into()));
    out.insert("queryPlanner".into(), Value::Document(planner));
    if verbosity != Verbosity::QueryPlanner {
        let empty = Stats::default();
        let (stats, returned) = match exec {
            Some(e) => (&e.stats, e.positions.len() as u64),
            None => (&empty, 0),
        };
        let mut es = Document::default();
        es.insert("executionSuccess".into(), Value::Bool(true));
        es.insert("nReturned".into(), int(returned));
        es.insert("executionTimeMillis".into(), Value::Int32(0));
        es.insert("totalKeysExamined".into(), int(stats.keys_examined));
        es.insert("totalDocsExamined".into(), int(stats.docs_examined));
        let stages = match (coll, exec) {
            (Some(c), Some(e)) => stage_tree(c, q, &e.winner, Some(&Counts { stats, returned })),
            _ => doc(vec![("stage", Value::String("EOF".into()))]),
        };
        es.insert("executionStages".into(), Value::Document(stages));
        if verbosity == Verbosity::AllPlansExecution {
            es.insert("allPlansExecution".into(), Value::Array(Vec::new()));
        }
        out.insert("executionStats".into(), Value::Document(es));
    }
    let mut command = Document::default();
    let (db, coll_name) = namespace.split_once('.').unwrap_or((namespace, ""));
    command.insert("find".into(), Value::String(coll_name.into()));
    command.insert("filter".into(), Value::Document(q.filter_doc.clone()));
    if let Some(s) = q.sort {
        command.insert("sort".into(), Value::Document(s.clone()));
    }
    if let Some(p) = q.projection {
        command.insert("projection".into(), Value::Document(p.clone()));
    }
    if let Some(h) = q.hint {
        command.insert("hint".into(), h.clone());
    }
    if q.skip > 0 {
        command.insert("skip".into(), int(q.skip as u64));
    }
    if let Some(n) = q.limit.filter(|&n| n > 0) {
        command.insert("limit".into(), int(n as u64));
    }
    command.insert("$db".into(), Value::String(db.into()));
    out.insert("command".into(), Value::Document(command));
    out.insert("ok".into(), Value::Int32(1));
    out
}

/// What `$planCacheStats` shows of the trial that chose a cached plan: the query, the
/// winner's stage tree, and each candidate's trial statistics, best first (`trial` holds
/// the candidates' positions in `plans` and their work until the trial ended).
pub fn cache_debug(
    coll: &Collection,
    q: &Query,
    plans: &[Plan],
    trial: &[(usize, Stats)],
    scores: &[f64],
) -> super::plan_cache::DebugInfo {
    let or_empty = |d: Option<&Document>| Value::Document(d.cloned().unwrap_or_default());
    let created_from_query = doc(vec![
        ("query", Value::Document(q.filter_doc.clone())),
        ("sort", or_empty(q.sort)),
        ("projection", or_empty(q.projection)),
    ]);
    let cached_plan = trial
        .first()
        .and_then(|(i, _)| plans.get(*i))
        .map(|p| stage_tree(coll, q, p, None))
        .unwrap_or_default();
    let creation_exec_stats = trial
        .iter()
        .filter_map(|(i, stats)| {
            let plan = plans.get(*i)?;
            let counts = Counts {
                stats,
                returned: stats.matched,
            };
            Some(Value::Document(doc(vec![
                ("nReturned", int(stats.matched)),
                ("executionTimeMillisEstimate", Value::Int32(0)),
                ("totalKeysExamined", int(stats.keys_examined)),
                ("totalDocsExamined", int(stats.docs_examined)),
                (
                    "executionStages",
                    Value::Document(stage_tree(coll, q, plan, Some(&counts))),
                ),
            ])))
        })
        .collect();
    super::plan_cache::DebugInfo {
        created_from_query,
        cached_plan,
        creation_exec_stats,
        scores: scores.to_vec(),
    }
}

static EMPTY: Stats = Stats {
    keys_examined: 0,
    docs_examined: 0,
    matched: 0,
    works: 0,
    keys_passed: 0,
    seeks: 0,
    dups_dropped: 0,
    eof: true,
    branches: Vec::new(),
};

/// The stages that read an index: IXSCAN (with its key filter), under a FETCH with the
/// residual filter unless the plan is covered; an `$or` branch (`always_fetch` false) gets a
/// FETCH only when it has a residual filter.
fn index_access(
    coll: &Collection,
    plan: &Plan,
    stats: Option<&Stats>,
    always_fetch: bool,
) -> Document {
    let Access::IxScan {
        index,
        bounds,
        backward,
        exploded,
    } = &plan.access
    else {
        return doc(vec![("stage", Value::String("EOF".into()))]);
    };
    let residual = parsed_filter(&plan.residual, &plan.residual_others);
    let counts = stats.map(|stats| Counts { stats, returned: 0 });
    let counts = counts.as_ref();
    let Some(ix) = coll.indexes().get(*index) else {
        return doc(vec![("stage", Value::String("EOF".into()))]);
    };
    let mut scan = match exploded {
        0 => ixscan(ix, plan, bounds, *backward, counts.map(|c| c.stats)),
        n => merge_of_point_scans(ix, plan, bounds, *n, *backward, counts.map(|c| c.stats)),
    };
    if let (Some(c), true) = (counts, *exploded > 0) {
        with_counts(&mut scan, c.stats.keys_passed, c.stats.works);
    }
    if plan.covered || (!always_fetch && residual.is_empty()) {
        scan
    } else {
        let mut fetch = doc(vec![("stage", Value::String("FETCH".into()))]);
        if !residual.is_empty() {
            fetch.insert("filter".into(), Value::Document(residual.clone()));
        }
        if let Some(c) = counts {
            with_counts(&mut fetch, c.stats.matched, c.stats.works);
            fetch.insert("docsExamined".into(), int(c.stats.docs_examined));
            fetch.insert("alreadyHasObj".into(), Value::Int32(0));
        }
        fetch.insert("inputStage".into(), Value::Document(scan));
        fetch
    }
}

/// One IXSCAN stage over `bounds`.
fn ixscan(
    ix: &super::Index,
    plan: &Plan,
    bounds: &[FieldBounds],
    backward: bool,
    stats: Option<&Stats>,
) -> Document {
    let counts = stats.map(|stats| Counts { stats, returned: 0 });
    let counts = counts.as_ref();
    let mut scan = doc(vec![("stage", Value::String("IXSCAN".into()))]);
    if !plan.key_filter.is_empty() {
        scan.insert(
            "filter".into(),
            Value::Document(parsed_filter(&plan.key_filter, &[])),
        );
    }
    if let Some(c) = counts {
        with_counts(&mut scan, c.stats.keys_passed, c.stats.works);
    }
    scan.insert(
        "keyPattern".into(),
        Value::Document(ix.spec.key_doc.clone()),
    );
    scan.insert("indexName".into(), Value::String(ix.name().into()));
    scan.insert("isMultiKey".into(), Value::Bool(ix.is_multikey()));
    let paths: Document = ix
        .spec
        .key
        .iter()
        .zip(ix.multikey_paths())
        .map(|(f, p)| {
            (
                f.path.clone(),
                Value::Array(p.iter().cloned().map(Value::String).collect()),
            )
        })
        .collect();
    scan.insert("multiKeyPaths".into(), Value::Document(paths));
    scan.insert("isUnique".into(), Value::Bool(ix.spec.unique));
    scan.insert("isSparse".into(), Value::Bool(ix.spec.sparse));
    scan.insert("isPartial".into(), Value::Bool(ix.spec.partial.is_some()));
    scan.insert("indexVersion".into(), Value::Int32(2));
    scan.insert(
        "direction".into(),
        Value::String(if backward { "backward" } else { "forward" }.into()),
    );
    let rendered: Document = ix
        .spec
        .key
        .iter()
        .zip(bounds)
        .map(|(f, b)| {
            // Bounds print in scan order: a descending field (or a backward scan of
            // an ascending one) lists its intervals from the high end.
            let reversed = f.descending != backward;
            let mut list: Vec<Value> = b
                .intervals
                .iter()
                .map(|i| Value::String(i.render(reversed)))
                .collect();
            if reversed {
                list.reverse();
            }
            (f.path.clone(), Value::Array(list))
        })
        .collect();
    scan.insert("indexBounds".into(), Value::Document(rendered));
    if let Some(c) = counts {
        scan.insert("keysExamined".into(), int(c.stats.keys_examined));
        scan.insert("seeks".into(), int(c.stats.seeks));
        scan.insert(
            "dupsTested".into(),
            int(if ix.is_multikey() {
                c.stats.keys_passed + c.stats.dups_dropped
            } else {
                0
            }),
        );
        scan.insert("dupsDropped".into(), int(c.stats.dups_dropped));
    }
    scan
}

/// The SORT_MERGE of one IXSCAN per combination of the points of the first `fields` key
/// fields, as the server explodes an `$in` to give a sort on the fields after it. The work
/// is counted on the merge.
fn merge_of_point_scans(
    ix: &super::Index,
    plan: &Plan,
    bounds: &[FieldBounds],
    fields: usize,
    backward: bool,
    stats: Option<&Stats>,
) -> Document {
    let mut combos: Vec<Vec<FieldBounds>> = vec![Vec::new()];
    for b in bounds.iter().take(fields) {
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                b.intervals.iter().map(move |i| {
                    let mut next = prefix.clone();
                    next.push(FieldBounds {
                        intervals: vec![i.clone()],
                        ..b.clone()
                    });
                    next
                })
            })
            .collect();
    }
    let empty = Stats::default();
    let children: Vec<Value> = combos
        .into_iter()
        .map(|mut combo| {
            combo.extend(bounds.iter().skip(fields).cloned());
            Value::Document(ixscan(ix, plan, &combo, backward, stats.map(|_| &empty)))
        })
        .collect();
    let mut merge = doc(vec![("stage", Value::String("SORT_MERGE".into()))]);
    let sort: Document = ix
        .spec
        .key
        .iter()
        .skip(fields)
        .map(|f| {
            let ascending = f.descending == backward;
            (f.path.clone(), Value::Int32(if ascending { 1 } else { -1 }))
        })
        .collect();
    merge.insert("sortPattern".into(), Value::Document(sort));
    merge.insert("inputStages".into(), Value::Array(children));
    merge
}
