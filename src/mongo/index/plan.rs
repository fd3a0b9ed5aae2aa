//! The query planner: index bounds from a filter, candidate plans, MongoDB's trial-run choice
//! among them, and execution that counts the keys and documents it examines.
//!
//! The filter is always applied in full to every fetched document, so bounds only need to
//! cover every document that can match: where the index cannot say more (a regex, `$ne`, a
//! multikey range), a field's bounds widen, never narrow. The planner chooses how to find
//! documents, never which documents match.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::ops::Bound;

use super::plan_cache::{self, CacheKey, Cached, PlanCache};
use super::{Entry, Index, Key, KeyPart, RecordId};
use crate::mongo::columns::{self, Column, ColumnFilter};
use crate::mongo::query::cursor;
use crate::mongo::query::filter::number_f64;
use crate::mongo::query::{Filter, QueryError};
use crate::mongo::store::Collection;
use crate::mongo::value::{compare, values_equal, Document, ObjectId, Value};

/// An interval of one key field, in value order (`[lo, hi]`, either end open).
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub lo: Value,
    pub lo_incl: bool,
    pub hi: Value,
    pub hi_incl: bool,
}

impl Interval {
    fn point(v: Value) -> Interval {
        Interval {
            lo: v.clone(),
            lo_incl: true,
            hi: v,
            hi_incl: true,
        }
    }

    pub fn full() -> Interval {
        Interval {
            lo: Value::MinKey,
            lo_incl: true,
            hi: Value::MaxKey,
            hi_incl: true,
        }
    }

    fn is_point(&self) -> bool {
        self.lo_incl && self.hi_incl && compare(&self.lo, &self.hi) == Ordering::Equal
    }

    fn is_empty(&self) -> bool {
        match compare(&self.lo, &self.hi) {
            Ordering::Greater => true,
            Ordering::Equal => !(self.lo_incl && self.hi_incl),
            Ordering::Less => false,
        }
    }

    fn contains(&self, v: &Value) -> bool {
        let lo = compare(v, &self.lo);
        let hi = compare(v, &self.hi);
        (lo == Ordering::Greater || (lo == Ordering::Equal && self.lo_incl))
            && (hi == Ordering::Less || (hi == Ordering::Equal && self.hi_incl))
    }

    fn intersect(&self, other: &Interval) -> Interval {
        let (lo, lo_incl) = match compare(&self.lo, &other.lo) {
            Ordering::Greater => (self.lo.clone(), self.lo_incl),
            Ordering::Less => (other.lo.clone(), other.lo_incl),
            Ordering::Equal => (self.lo.clone(), self.lo_incl && other.lo_incl),
        };
        let (hi, hi_incl) = match compare(&self.hi, &other.hi) {
            Ordering::Less => (self.hi.clone(), self.hi_incl),
            Ordering::Greater => (other.hi.clone(), other.hi_incl),
            Ordering::Equal => (self.hi.clone(), self.hi_incl && other.hi_incl),
        };
        Interval {
            lo,
            lo_incl,
            hi,
            hi_incl,
        }
    }

    /// As explain prints it: `[100, 200]`, `(5, inf.0]`, `["abc", "abc"]`, `[MinKey, MaxKey]`.
    /// Reversed, it reads from the high end: `(50, -inf.0]`.
    pub fn render(&self, reversed: bool) -> String {
        let (start, start_incl, end, end_incl) = if reversed {
            (&self.hi, self.hi_incl, &self.lo, self.lo_incl)
        } else {
            (&self.lo, self.lo_incl, &self.hi, self.hi_incl)
        };
        format!(
            "{}{}, {}{}",
            if start_incl { '[' } else { '(' },
            bound_text(start),
            bound_text(end),
            if end_incl { ']' } else { ')' }
        )
    }
}

fn bound_text(v: &Value) -> String {
    match v {
        Value::Double(x) if x.is_infinite() => {
            if *x > 0.0 {
                "inf.0".into()
            } else {
                "-inf.0".into()
            }
        }
        Value::Double(x) if x.is_nan() => "nan.0".into(),
        Value::Double(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.1}"),
        Value::MinKey => "MinKey".into(),
        Value::MaxKey => "MaxKey".into(),
        other => crate::mongo::query::server_repr(other),
    }
}

/// The least and greatest values of a value's type bracket: a range predicate only matches
/// values of its operand's type (`{$gt: 5}` never matches a string).
fn bracket(v: &Value) -> Option<(Value, bool, Value, bool)> {
    Some(match v {
        Value::Int32(_) | Value::Int64(_) | Value::Double(_) => (
            Value::Double(f64::NEG_INFINITY),
            true,
            Value::Double(f64::INFINITY),
            true,
        ),
        Value::String(_) => (
            Value::String(String::new()),
            true,
            Value::Document(Document::default()),
            false,
        ),
        Value::Date(_) => (Value::Date(i64::MIN), true, Value::Date(i64::MAX), true),
        Value::ObjectId(_) => (
            Value::ObjectId(ObjectId([0; 12])),
            true,
            Value::ObjectId(ObjectId([0xff; 12])),
            true,
        ),
        Value::Bool(_) => (Value::Bool(false), true, Value::Bool(true), true),
        _ => return None,
    })
}

/// One top-level predicate of a filter: a path, an operator and its operand.
#[derive(Debug, Clone)]
pub struct Predicate {
    pub path: String,
    pub op: String,
    pub value: Value,
}

/// The top-level conjunction of a filter: field predicates (`{a: 5}` is `a $eq 5`), and the
/// clauses the planner does not look into (`$or`, `$expr`, …).
#[derive(Debug, Default)]
pub struct Conjunction {
    pub predicates: Vec<Predicate>,
    pub others: Vec<(String, Value)>,
}

pub fn conjunction(filter: &Document) -> Conjunction {
    let mut c = Conjunction::default();
    collect_conjunction(filter, &mut c);
    c
}

fn collect_conjunction(filter: &Document, out: &mut Conjunction) {
    for (k, v) in filter {
        if k == "$and" {
            if let Value::Array(items) = v {
                for item in items {
                    if let Value::Document(d) = item {
                        collect_conjunction(d, out);
                    }
                }
                continue;
            }
        }
        if k.starts_with('$') {
            out.others.push((k.clone(), v.clone()));
            continue;
        }
        match v {
            Value::Document(d) if d.keys().next().is_some_and(|op| op.starts_with('$')) => {
                for (op, operand) in d {
                    let value = match (op.as_str(), operand) {
                        // `{$regex: 'ab', $options: 'i'}` is one predicate, as the server
                        // parses it.
                        ("$options", _) if d.contains_key("$regex") => continue,
                        ("$regex", Value::String(pattern)) => Value::Regex {
                            pattern: pattern.clone(),
                            options: match d.get("$options") {
                                Some(Value::String(o)) => o.clone(),
                                _ => String::new(),
                            },
                        },
                        _ => operand.clone(),
                    };
                    out.predicates.push(Predicate {
                        path: k.clone(),
                        op: op.clone(),
                        value,
                    });
                }
            }
            Value::Regex { .. } => out.predicates.push(Predicate {
                path: k.clone(),
                op: "$regex".into(),
                value: v.clone(),
            }),
            _ => out.predicates.push(Predicate {
                path: k.clone(),
                op: "$eq".into(),
                value: v.clone(),
            }),
        }
    }
}

/// The intervals an equality with `v` needs: arrays match as a whole or by any element, null
/// matches missing fields and `undefined`.
fn equality_intervals(v: &Value) -> Option<Vec<Interval>> {
    match v {
        Value::Regex { .. } => None,
        Value::Null => Some(vec![
            Interval::point(Value::Undefined),
            Interval::point(Value::Null),
        ]),
        Value::Array(items) => {
            let first = items.first().cloned().unwrap_or(Value::Undefined);
            Some(union(vec![
                Interval::point(first),
                Interval::point(v.clone()),
            ]))
        }
        other => Some(vec![Interval::point(other.clone())]),
    }
}

/// How much of a predicate the index bounds answer (the server's bounds tightness).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tightness {
    /// The bounds hold exactly the matching keys.
    Exact,
    /// The predicate can be checked on the index key, before fetching (a regex).
    Covered,
    /// Only the fetched document can tell.
    Fetch,
}

/// The intervals of `$in`'s list (None when an element cannot be looked up in an index).
fn in_intervals(items: &[Value]) -> Option<(Vec<Interval>, Tightness)> {
    let mut all = Vec::new();
    let mut tight = Tightness::Exact;
    for item in items {
        match item {
            Value::Regex { pattern, options } => {
                let (list, t) = regex_intervals(pattern, options);
                all.extend(list);
                if t != Tightness::Exact {
                    tight = Tightness::Fetch;
                }
            }
            _ => {
                all.extend(equality_intervals(item)?);
                if matches!(item, Value::Null | Value::Array(_)) {
                    tight = Tightness::Fetch;
                }
            }
        }
    }
    Some((union(all), tight))
}

/// The intervals one predicate allows and how tight they are, or None when the index cannot
/// narrow it.
fn predicate_intervals(p: &Predicate) -> Option<(Vec<Interval>, Tightness)> {
    match p.op.as_str() {
        "$eq" => {
            let tight = match p.value {
                Value::Null | Value::Array(_) => Tightness::Fetch,
                _ => Tightness::Exact,
            };
            Some((equality_intervals(&p.value)?, tight))
        }
        "$in" => match &p.value {
            Value::Array(items) => in_intervals(items),
            _ => None,
        },
        "$regex" => match &p.value {
            Value::Regex { pattern, options } => Some(regex_intervals(pattern, options)),
            _ => None,
        },
        // Negations take the complement of what they negate; arrays and regexes are not
        // indexed that way.
        "$ne" => match &p.value {
            Value::Array(_) | Value::Regex { .. } => None,
            v => Some((complement(&equality_intervals(v)?), Tightness::Exact)),
        },
        "$nin" => match &p.value {
            Value::Array(items)
                if !items
                    .iter()
                    .any(|v| matches!(v, Value::Array(_) | Value::Regex { .. })) =>
            {
                Some((complement(&in_intervals(items)?.0), Tightness::Exact))
            }
            _ => None,
        },
        // A missing field is indexed as null: `$exists: false` looks there, `$exists: true`
        // everywhere, and both need the document to tell null from missing.
        "$exists" => {
            let list = if crate::mongo::agg::expr::truthy(&p.value) {
                vec![Interval::full()]
            } else {
                vec![Interval::point(Value::Null)]
            };
            Some((list, Tightness::Fetch))
        }
        "$elemMatch" => {
            let Value::Document(d) = &p.value else {
                return None;
            };
            if !d.keys().next().is_some_and(|k| k.starts_with('$')) {
                return None;
            }
            // Every condition holds for one element: the bounds of each intersect.
            let mut list = vec![Interval::full()];
            let mut any = false;
            for (op, operand) in d {
                let child = Predicate {
                    path: p.path.clone(),
                    op: op.clone(),
                    value: operand.clone(),
                };
                if let Some((l, _)) = predicate_intervals(&child) {
                    list = intersect_lists(&list, &l);
                    any = true;
                }
            }
            any.then_some((list, Tightness::Fetch))
        }
        "$gt" | "$gte" | "$lt" | "$lte" => {
            let (lo, lo_incl, hi, hi_incl) = bracket(&p.value)?;
            let incl = p.op.ends_with('e');
            Some((
                vec![if p.op.starts_with("$g") {
                    Interval {
                        lo: p.value.clone(),
                        lo_incl: incl,
                        hi,
                        hi_incl,
                    }
                } else {
                    Interval {
                        lo,
                        lo_incl,
                        hi: p.value.clone(),
                        hi_incl: incl,
                    }
                }],
                Tightness::Exact,
            ))
        }
        _ => None,
    }
}

/// The complement of sorted, disjoint intervals within `[MinKey, MaxKey]`.
fn complement(list: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    let mut lo = Value::MinKey;
    let mut lo_incl = true;
    for i in list {
        let gap = Interval {
            lo,
            lo_incl,
            hi: i.lo.clone(),
            hi_incl: !i.lo_incl,
        };
        // No value lies between undefined and null (the complement of a null equality).
        let between_null_kinds = matches!((&gap.lo, &gap.hi), (Value::Undefined, Value::Null))
            && !gap.lo_incl
            && !gap.hi_incl;
        if !gap.is_empty() && !between_null_kinds {
            out.push(gap);
        }
        lo = i.hi.clone();
        lo_incl = !i.hi_incl;
    }
    let last = Interval {
        lo,
        lo_incl,
        hi: Value::MaxKey,
        hi_incl: true,
    };
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// A regex's bounds, as the server derives them: a pattern anchored with `^` and starting
/// with literal text scans from that text to the next string after every string with that
/// prefix; any other scans every string. Either way the regex itself is a point (a stored
/// regex equals it). Exact only when the whole pattern is the literal prefix.
fn regex_intervals(pattern: &str, options: &str) -> (Vec<Interval>, Tightness) {
    let (prefix, whole) = literal_prefix(pattern, options);
    let successor = prefix.as_deref().and_then(prefix_successor);
    let strings = match (&prefix, successor) {
        (Some(p), Some(next)) => Interval {
            lo: Value::String(p.clone()),
            lo_incl: true,
            hi: Value::String(next),
            hi_incl: false,
        },
        _ => Interval {
            lo: Value::String(String::new()),
            lo_incl: true,
            hi: Value::Document(Document::default()),
            hi_incl: false,
        },
    };
    let tight = if whole && prefix.is_some() {
        Tightness::Exact
    } else {
        Tightness::Covered
    };
    let point = Interval::point(Value::Regex {
        pattern: pattern.to_string(),
        options: options.to_string(),
    });
    (vec![strings, point], tight)
}

/// The least string above every string starting with `prefix`: its last character
/// incremented (None when there is no next character).
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = (u32::from(last) + 1..=0x10_FFFF).find_map(char::from_u32)?;
    chars.push(next);
    Some(chars.into_iter().collect())
}

/// The literal text a pattern anchored at the start must begin with, and whether that text
/// is the whole pattern (the server's `simpleRegex`). None when the pattern is not anchored
/// with `^` or `\A`, has an alternation, or has flags other than `m` (with `\A` only), `s`
/// and `x`.
fn literal_prefix(pattern: &str, options: &str) -> (Option<String>, bool) {
    let (body, multiline_ok) = if let Some(rest) = pattern.strip_prefix("\\A") {
        (rest, true)
    } else if let Some(rest) = pattern.strip_prefix('^') {
        (rest, false)
    } else {
        return (None, false);
    };
    if has_unescaped_pipe(body) {
        return (None, false);
    }
    let mut extended = false;
    for flag in options.chars() {
        match flag {
            'm' if multiline_ok => {}
            's' => {}
            'x' => extended = true,
            _ => return (None, false),
        }
    }
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // These make the character before them optional.
            '*' | '?' => {
                out.pop();
                return (non_empty(out), false);
            }
            '\\' => match chars.next() {
                Some('Q') => {
                    while let Some(q) = chars.next() {
                        if q == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        out.push(q);
                    }
                }
                Some(e) if e.is_ascii_alphanumeric() => return (non_empty(out), false),
                None => return (non_empty(out), false),
                Some(e) => out.push(e),
            },
            '^' | '$' | '.' | '[' | '(' | ')' | '+' | '{' => return (non_empty(out), false),
            '#' if extended => return (non_empty(out), false),
            c if extended && c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    let whole = !out.is_empty();
    (non_empty(out), whole)
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Whether a pattern may have an alternation: a `|` not escaped by a backslash (erring
/// towards yes, as the server does).
fn has_unescaped_pipe(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'|' && (i == 0 || b[i - 1] != b'\\' || (i >= 2 && b[i - 2] == b'\\')))
}

/// Sorted, merged intervals.
fn union(mut all: Vec<Interval>) -> Vec<Interval> {
    all.retain(|i| !i.is_empty());
    crate::sort::sort_by(&mut all, |a, b| {
        compare(&a.lo, &b.lo).then(b.lo_incl.cmp(&a.lo_incl))
    });
    let mut out: Vec<Interval> = Vec::with_capacity(all.len());
    for i in all {
        if let Some(last) = out.last_mut() {
            let c = compare(&i.lo, &last.hi);
            if c == Ordering::Less || (c == Ordering::Equal && (i.lo_incl || last.hi_incl)) {
                match compare(&i.hi, &last.hi) {
                    Ordering::Greater => {
                        last.hi = i.hi;
                        last.hi_incl = i.hi_incl;
                    }
                    Ordering::Equal => last.hi_incl |= i.hi_incl,
                    Ordering::Less => {}
                }
                continue;
            }
        }
        out.push(i);
    }
    out
}

fn intersect_lists(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let i = x.intersect(y);
            if !i.is_empty() {
                out.push(i);
            }
        }
    }
    union(out)
}

/// The bounds of one key field: its intervals, whether some predicate narrowed them, and
/// whether they say exactly what the predicates on that field say.
#[derive(Debug, Clone)]
pub struct FieldBounds {
    pub intervals: Vec<Interval>,
    pub narrowed: bool,
    pub exact: bool,
    /// A narrowing predicate that could match a missing field (null equality).
    pub admits_missing: bool,
}

fn field_bounds(preds: &[&Predicate], multikey: bool) -> FieldBounds {
    let mut intervals = vec![Interval::full()];
    let mut narrowed = false;
    let mut exact = true;
    let mut admits_missing = false;
    for p in preds {
        match predicate_intervals(p) {
            Some((mut list, tight)) => {
                if tight != Tightness::Exact {
                    exact = false;
                }
                if narrowed && multikey {
                    // Bounds of two predicates on a multikey field cannot be intersected: each
                    // may be met by a different element.
                    exact = false;
                    continue;
                }
                let negation = matches!(p.op.as_str(), "$ne" | "$nin");
                if negation && multikey && !list.iter().any(|i| i.contains(&Value::Undefined)) {
                    // An empty array is indexed as undefined, and no element of it equals
                    // what a negation excludes.
                    list = union(
                        list.into_iter()
                            .chain([Interval::point(Value::Undefined)])
                            .collect(),
                    );
                }
                let exists_true = p.op == "$exists" && crate::mongo::agg::expr::truthy(&p.value);
                if !exists_true && list.iter().any(|i| i.contains(&Value::Null)) {
                    admits_missing = true;
                }
                intervals = if narrowed {
                    intersect_lists(&intervals, &list)
                } else {
                    list
                };
                narrowed = true;
            }
            None => exact = false,
        }
    }
    if multikey && narrowed {
        exact = false;
    }
    FieldBounds {
        intervals,
        narrowed,
        exact,
        admits_missing,
    }
}

/// How a plan reads the collection.
#[derive(Debug, Clone)]
pub enum Access {
    CollScan {
        backward: bool,
    },
    IxScan {
        index: usize,
        bounds: Vec<FieldBounds>,
        backward: bool,
        /// Leading key fields whose points scan separately and merge in sort order (an
        /// `$in` before the sort fields); 0 for one scan.
        exploded: usize,
    },
    /// `$text` through the text index at `index`: one key scan per term.
    Text {
        index: usize,
        query: Box<super::text::TextQuery>,
    },
    /// A rooted `$or` whose every branch reads an index: each branch's filter and plan, the
    /// results deduplicated in branch order, or merged in sort order (`merge`) when every
    /// branch gives the sort.
    Or {
        branches: Vec<(Document, Plan)>,
        merge: bool,
    },
    /// `$near` / `$nearSphere` through the geo index at `index`, nearest first.
    GeoNear {
        index: usize,
        near: Box<super::geo::Near>,
    },
}

/// A candidate plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub access: Access,
    /// The sort is given by the index order: no blocking SORT stage.
    pub provides_sort: bool,
    /// The predicates the index bounds do not fully answer, checked on each fetched document.
    pub residual: Vec<Predicate>,
    /// Predicates checked on each index key in bounds, before its document is fetched.
    pub key_filter: Vec<Predicate>,
    pub residual_others: Vec<(String, Value)>,
    /// Answered from index keys alone (a covered query): no document fetched.
    pub covered: bool,
}

/// What one find asks the planner.
pub struct Query<'a> {
    pub filter_doc: &'a Document,
    pub filter: &'a Filter,
    pub sort: Option<&'a Document>,
    pub projection: Option<&'a Document>,
    pub hint: Option<&'a Value>,
    pub skip: usize,
    pub limit: Option<usize>,
}

/// The work one plan did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub keys_examined: u64,
    pub docs_examined: u64,
    /// Documents that passed the filter, before sort, skip and limit.
    pub matched: u64,
    pub works: u64,
    /// Index keys inside the bounds and not seen before: the documents the scan hands on.
    pub keys_passed: u64,
    /// Index ranges opened (one per pinned prefix and interval).
    pub seeks: u64,
    pub dups_dropped: u64,
    pub eof: bool,
    /// Per branch of an `$or` plan, the work that branch did.
    pub branches: Vec<Stats>,
}

/// The outcome of planning and running a find.
pub struct Execution {
    /// Positions in the collection's `docs`, in the order the find returns them (after
    /// sort, skip and limit).
    pub positions: Vec<usize>,
    pub winner: Plan,
    pub rejected: Vec<Plan>,
    pub stats: Stats,
    /// Text scores of the returned documents, by position (`$text` queries only).
    pub scores: std::collections::HashMap<usize, f64>,
}

pub fn hint_error() -> QueryError {
    QueryError::new(
        2,
        "BadValue",
        "hint provided does not correspond to an existing index",
    )
}

/// The candidate plans for a query (COLLSCAN only when no index applies), or the hint's.
pub fn candidates(coll: &Collection, q: &Query) -> Result<Vec<Plan>, QueryError> {
    candidates_with(coll, q, None)
}

/// How a rooted `$or` picks the plan of a branch with several candidates: given the
/// branch's filter and its candidates, the position of the one to run.
type BranchChoice<'c> = &'c mut dyn FnMut(&Document, &[Plan]) -> usize;

/// `candidates`, with a rooted `$or`'s branches chosen by `choice` (a trial each when None).
fn candidates_with(
    coll: &Collection,
    q: &Query,
    choice: Option<BranchChoice>,
) -> Result<Vec<Plan>, QueryError> {
    let conj = conjunction(q.filter_doc);
    let sort_keys = match q.sort {
        Some(s) => cursor::sort_keys(s)?,
        None => Vec::new(),
    };
    if let Some(hint) = q.hint {
        let index = match hint {
            Value::String(name) => coll.indexes().iter().position(|ix| ix.name() == name),
            Value::Document(d) => {
                if let Some(dir) = d.get("$natural") {
                    let backward = number_f64(dir) < 0.0;
                    return Ok(vec![collscan_plan(&conj, backward, &sort_keys)]);
                }
                coll.indexes().iter().position(|ix| ix.spec.has_key(d))
            }
            _ => None,
        };
        let Some(index) = index else {
            return Err(hint_error());
        };
        return Ok(vec![index_plan(
            coll,
            index,
            &conj,
            &sort_keys,
            q.projection,
            true,
        )
        .unwrap_or_else(|| collscan_plan(&conj, false, &sort_keys))]);
    }
    if let Some(branches) = rooted_or(q.filter_doc) {
        // As the server's subplanner: each branch planned on its own; one branch that no
        // index serves makes the whole query a collection scan.
        let now_ms = q.filter.now_ms();
        let mut trial_each = |doc: &Document, plans: &[Plan]| {
            Filter::compile(doc).map_or(0, |f| choose(coll, plans, &f.at(now_ms)))
        };
        let planned = match choice {
            Some(choice) => or_plan(coll, branches, &sort_keys, choice),
            None => or_plan(coll, branches, &sort_keys, &mut trial_each),
        };
        let plan = planned.unwrap_or_else(|| collscan_plan(&conj, false, &sort_keys));
        return Ok(vec![plan]);
    }
    let mut plans = Vec::new();
    for i in 0..coll.indexes().len() {
        if let Some(p) = index_plan(coll, i, &conj, &sort_keys, q.projection, false) {
            plans.push(p);
        }
    }
    if plans.is_empty() {
        plans.push(collscan_plan(&conj, false, &sort_keys));
    }
    Ok(plans)
}

/// The branches of a filter that is one `$or` and nothing else.
pub fn rooted_or(filter: &Document) -> Option<&[Value]> {
    match (filter.len(), filter.get("$or")) {
        (1, Some(Value::Array(branches))) if !branches.is_empty() => Some(branches),
        _ => None,
    }
}

/// The plan of a rooted `$or` when an index serves every branch.
fn or_plan(
    coll: &Collection,
    branches: &[Value],
    sort: &[(Vec<String>, i32)],
    choice: BranchChoice,
) -> Option<Plan> {
    let mut planned = Vec::with_capacity(branches.len());
    for branch in branches {
        let Value::Document(doc) = branch else {
            return None;
        };
        let conj = conjunction(doc);
        let mut plans: Vec<Plan> = (0..coll.indexes().len())
            .filter_map(|i| index_plan(coll, i, &conj, sort, None, false))
            .collect();
        let pick = match plans.len() {
            0 => return None,
            1 => 0,
            _ => choice(doc, &plans),
        };
        if pick >= plans.len() {
            return None;
        }
        planned.push((doc.clone(), plans.swap_remove(pick)));
    }
    let merge = !sort.is_empty() && planned.iter().all(|(_, p)| p.provides_sort);
    Some(Plan {
        access: Access::Or {
            branches: planned,
            merge,
        },
        provides_sort: sort.is_empty() || merge,
        residual: Vec::new(),
        key_filter: Vec::new(),
        residual_others: Vec::new(),
        covered: false,
    })
}

/// Whether the plan's output still has to be put in sort order after it ran: a blocking
/// sort, or the merge of `$or` branches (which run one after the other here).
fn sorts_after_run(plan: &Plan) -> bool {
    !plan.provides_sort
        || matches!(
            plan.access,
            Access::Or { merge: true, .. } | Access::IxScan { exploded: 1.., .. }
        )
}

fn collscan_plan(conj: &Conjunction, backward: bool, sort: &[(Vec<String>, i32)]) -> Plan {
    Plan {
        access: Access::CollScan { backward },
        provides_sort: sort.is_empty(),
        residual: conj.predicates.clone(),
        key_filter: Vec::new(),
        residual_others: conj.others.clone(),
        covered: false,
    }
}

/// The plan that reads index `i`, if the query can use it (always, when hinted).
fn index_plan(
    coll: &Collection,
    i: usize,
    conj: &Conjunction,
    sort: &[(Vec<String>, i32)],
    projection: Option<&Document>,
    hinted: bool,
) -> Option<Plan> {
    let index = coll.indexes().get(i)?;
    if let super::IndexKind::Geo { .. } = index.spec.kind {
        return super::geo::cells_plan(i, index, conj, sort);
    }
    if !matches!(index.spec.kind, super::IndexKind::Regular) {
        // Text keys are not field values: only `$text` reads them.
        return None;
    }
    let bounds: Vec<FieldBounds> = index
        .spec
        .key
        .iter()
        .enumerate()
        .map(|(f, field)| {
            let preds: Vec<&Predicate> = conj
                .predicates
                .iter()
                .filter(|p| p.path == field.path)
                .collect();
            field_bounds(&preds, index.field_is_multikey(f))
        })
        .collect();
    let first_narrowed = bounds.first().is_some_and(|b| b.narrowed);
    // Which way (if any) the index order gives the requested sort.
    let mut sort_direction = sort_order(index, &bounds, sort);
    let mut exploded = 0;
    if sort_direction.is_none() {
        if let Some((fields, backward)) = explode_order(index, &bounds, sort) {
            exploded = fields;
            sort_direction = Some(backward);
        }
    }
    let provides_sort = sort.is_empty() || sort_direction.is_some();
    if !hinted {
        let complete = if index.spec.sparse {
            bounds.iter().any(|b| b.narrowed && !b.admits_missing)
        } else {
            true
        };
        let partial_ok = index.spec.partial.as_ref().is_none_or(|p| implies(conj, p));
        let useful = first_narrowed || (!sort.is_empty() && sort_direction.is_some());
        if !(useful && complete && partial_ok) {
            return None;
        }
    }
    // Each predicate is answered by the bounds, checked on the key before the fetch (a regex
    // on a field that is not multikey), or checked on the fetched document.
    // On a multikey field only the first predicate narrows the bounds (each may be met by a
    // different element), and a negation's bounds still let other elements through.
    let mut residual = Vec::new();
    let mut key_filter = Vec::new();
    let mut multikey_used: Vec<usize> = Vec::new();
    for p in &conj.predicates {
        let field = index.spec.key.iter().position(|f| f.path == p.path);
        let tight = predicate_intervals(p).map(|(_, t)| t);
        match (field, tight) {
            (Some(f), Some(t)) if index.field_is_multikey(f) => {
                let first = !multikey_used.contains(&f);
                multikey_used.push(f);
                let negation = matches!(p.op.as_str(), "$ne" | "$nin");
                if !(first && t == Tightness::Exact && !negation) {
                    residual.push(p.clone());
                }
            }
            (Some(_), Some(Tightness::Exact)) => {}
            (Some(_), Some(Tightness::Covered)) => key_filter.push(p.clone()),
            _ => residual.push(p.clone()),
        }
    }
    let covered = residual.is_empty()
        && conj.others.is_empty()
        && !index.is_multikey()
        && projection.is_some_and(|p| covers(index, p));
    Some(Plan {
        access: Access::IxScan {
            index: i,
            bounds,
            backward: sort_direction == Some(true),
            exploded,
        },
        provides_sort,
        residual,
        key_filter,
        residual_others: conj.others.clone(),
        covered,
    })
}

/// Scans exploded into at most this many point scans (the server's
/// `internalQueryMaxScansToExplode`).
const MAX_SCANS_TO_EXPLODE: usize = 200;

/// When the leading key fields are unions of points and the fields after them give the
/// sort: how many fields to explode into separate scans (merged in sort order), and whether
/// each scan runs backwards.
fn explode_order(
    index: &Index,
    bounds: &[FieldBounds],
    sort: &[(Vec<String>, i32)],
) -> Option<(usize, bool)> {
    if sort.is_empty() {
        return None;
    }
    let fields = &index.spec.key;
    let mut n = 0;
    let mut scans = 1usize;
    while let (Some(_), Some(b)) = (fields.get(n), bounds.get(n)) {
        if !(b.narrowed && b.intervals.iter().all(Interval::is_point)) {
            break;
        }
        scans = scans.saturating_mul(b.intervals.len());
        n += 1;
    }
    if n == 0 || n >= fields.len() || !(2..=MAX_SCANS_TO_EXPLODE).contains(&scans) {
        return None;
    }
    let rest = fields.get(n..)?;
    if sort.len() > rest.len() {
        return None;
    }
    let backward = direction_for(
        index,
        sort.iter()
            .zip(rest.iter().enumerate().map(|(k, f)| (n + k, f))),
    )?;
    Some((n, backward?))
}

/// Which way key fields (with their positions in the key) give the sort keys paired with
/// them: Some(backward), or None when they cannot (another field, a multikey field, mixed
/// directions); an empty pairing gives Some(None).
fn direction_for<'s, 'k>(
    index: &Index,
    pairs: impl Iterator<Item = (&'s (Vec<String>, i32), (usize, &'k super::spec::KeyField))>,
) -> Option<Option<bool>> {
    let mut backward = None;
    for ((path, dir), (f, field)) in pairs {
        if field.path != path.join(".") || index.field_is_multikey(f) {
            return None;
        }
        let reversed = (*dir < 0) != field.descending;
        match backward {
            None => backward = Some(reversed),
            Some(b) if b != reversed => return None,
            _ => {}
        }
    }
    Some(backward)
}

/// Whether the index order gives the sort, and if so whether backwards. Fields pinned to one
/// value by the query drop out of both the index and the sort.
fn sort_order(index: &Index, bounds: &[FieldBounds], sort: &[(Vec<String>, i32)]) -> Option<bool> {
    if sort.is_empty() {
        return None;
    }
    let pinned =
        |b: &FieldBounds| b.narrowed && b.intervals.len() == 1 && b.intervals[0].is_point();
    let fields: Vec<(usize, &super::spec::KeyField)> = index
        .spec
        .key
        .iter()
        .enumerate()
        .filter(|(f, _)| !bounds.get(*f).is_some_and(pinned))
        .collect();
    let wanted: Vec<&(Vec<String>, i32)> = sort
        .iter()
        .filter(|(path, _)| {
            let joined = path.join(".");
            !index
                .spec
                .key
                .iter()
                .zip(bounds)
                .any(|(f, b)| f.path == joined && pinned(b))
        })
        .collect();
    if wanted.len() > fields.len() {
        return None;
    }
    direction_for(index, wanted.into_iter().zip(fields)).map(|b| b.unwrap_or(false))
}

/// Whether a projection needs only fields the index holds (and leaves `_id` out unless it is
/// indexed).
fn covers(index: &Index, projection: &Document) -> bool {
    let in_index = |path: &str| index.spec.key.iter().any(|f| f.path == path);
    let mut id_included = true;
    let mut any_included = false;
    for (k, v) in projection {
        let include = match v {
            Value::Bool(b) => *b,
            v if v.is_number() => number_f64(v) != 0.0,
            _ => return false,
        };
        if k == "_id" {
            id_included = include;
            continue;
        }
        if !include {
            return false;
        }
        any_included = true;
        if !in_index(k) {
            return false;
        }
    }
    any_included && (!id_included || in_index("_id"))
}

/// Whether every clause of a partial filter follows from the query's predicates.
fn implies(conj: &Conjunction, partial: &Document) -> bool {
    let needed = conjunction(partial);
    if !needed.others.is_empty() {
        return false;
    }
    needed.predicates.iter().all(|need| {
        conj.predicates
            .iter()
            .filter(|p| p.path == need.path)
            .any(|p| predicate_implies(p, need))
    })
}

pub(super) fn predicate_implies(have: &Predicate, need: &Predicate) -> bool {
    let c = compare(&have.value, &need.value);
    let same_type =
        crate::mongo::value::type_rank(&have.value) == crate::mongo::value::type_rank(&need.value);
    match (have.op.as_str(), need.op.as_str()) {
        (h, n) if h == n && values_equal(&have.value, &need.value) => true,
        ("$eq", "$exists") => {
            crate::mongo::agg::expr::truthy(&need.value) && !matches!(have.value, Value::Null)
        }
        ("$gt" | "$gte" | "$lt" | "$lte", "$exists") => {
            crate::mongo::agg::expr::truthy(&need.value)
        }
        ("$eq", n) if same_type => match n {
            "$gt" => c == Ordering::Greater,
            "$gte" => c != Ordering::Less,
            "$lt" => c == Ordering::Less,
            "$lte" => c != Ordering::Greater,
            _ => false,
        },
        ("$gt" | "$gte", "$gt" | "$gte") if same_type => {
            c == Ordering::Greater
                || (c == Ordering::Equal && (have.op == "$gt" || need.op == "$gte"))
        }
        ("$lt" | "$lte", "$lt" | "$lte") if same_type => {
            c == Ordering::Less || (c == Ordering::Equal && (have.op == "$lt" || need.op == "$lte"))
        }
        _ => false,
    }
}

/// The ranges of index entries a scan visits, in index order: the leading fields pinned to a
/// few values, then one field's intervals; later fields are checked key by key.
fn scan_ranges(index: &Index, bounds: &[FieldBounds]) -> Vec<(Bound<Entry>, Bound<Entry>)> {
    const MAX_PREFIXES: usize = 1000;
    let fields = &index.spec.key;
    // Prefixes of points on the leading fields, each extended field multiplying them.
    let mut prefixes: Vec<Key> = vec![Key::with_capacity(fields.len())];
    let mut f = 0;
    while let (Some(field), Some(b)) = (fields.get(f), bounds.get(f)) {
        if !b.intervals.iter().all(Interval::is_point)
            || prefixes.len() * b.intervals.len() > MAX_PREFIXES
        {
            break;
        }
        let mut next = Vec::with_capacity(prefixes.len() * b.intervals.len());
        for p in &prefixes {
            for i in &b.intervals {
                let mut np = p.clone();
                np.push(KeyPart {
                    value: i.lo.clone(),
                    descending: field.descending,
                });
                next.push(np);
            }
        }
        prefixes = next;
        f += 1;
    }
    // The intervals of the field after the prefix, in index order.
    let tail: Vec<Interval> = match (fields.get(f), bounds.get(f)) {
        (Some(field), Some(b)) => {
            let mut list = b.intervals.clone();
            if field.descending {
                list.reverse();
            }
            list
        }
        _ => Vec::new(),
    };
    // Keys beyond the tail field at their index-order extremes.
    let fill = |key: &mut Key, from: usize, low: bool| {
        for field in fields.iter().skip(from) {
            let least = low != field.descending;
            key.push(KeyPart {
                value: if least { Value::MinKey } else { Value::MaxKey },
                descending: field.descending,
            });
        }
    };
    let mut ranges = Vec::new();
    // Prefixes come out in index order already when there is a single pinned field; with
    // several they are sorted as keys.
    crate::sort::sort(&mut prefixes);
    for p in &prefixes {
        if f >= fields.len() || tail.is_empty() {
            if f >= fields.len() {
                let mut lo = p.clone();
                let hi = p.clone();
                fill(&mut lo, f, true);
                ranges.push((
                    Bound::Included((lo, RecordId::MIN)),
                    Bound::Included((hi, RecordId::MAX)),
                ));
            }
            continue;
        }
        let desc = fields.get(f).is_some_and(|field| field.descending);
        for i in &tail {
            // In index order a descending field starts at its interval's high end.
            let (start, start_incl, end, end_incl) = if desc {
                (&i.hi, i.hi_incl, &i.lo, i.lo_incl)
            } else {
                (&i.lo, i.lo_incl, &i.hi, i.hi_incl)
            };
            let mut lo = p.clone();
            lo.push(KeyPart {
                value: start.clone(),
                descending: desc,
            });
            // An open start skips every key equal on this field: start past their largest.
            fill(&mut lo, f + 1, start_incl);
            let mut hi = p.clone();
            hi.push(KeyPart {
                value: end.clone(),
                descending: desc,
            });
            fill(&mut hi, f + 1, !end_incl);
            let lo_bound = if start_incl {
                Bound::Included((lo, RecordId::MIN))
            } else {
                Bound::Excluded((lo, RecordId::MAX))
            };
            let hi_bound = if end_incl {
                Bound::Included((hi, RecordId::MAX))
            } else {
                Bound::Excluded((hi, RecordId::MIN))
            };
            ranges.push((lo_bound, hi_bound));
        }
    }
    ranges
}

/// The key filter's regexes, each with the key field it reads and the regex as a value.
type KeyTest = (usize, crate::mongo::query::regex::Regex, Value);

fn key_tests(index: &Index, filter: &[Predicate]) -> Vec<KeyTest> {
    filter
        .iter()
        .filter_map(|p| {
            let f = index.spec.key.iter().position(|k| k.path == p.path)?;
            let Value::Regex { pattern, options } = &p.value else {
                return None;
            };
            let re = crate::mongo::query::regex::Regex::new(pattern, options).ok()?;
            Some((f, re, p.value.clone()))
        })
        .collect()
}

fn passes(key: &Key, tests: &[KeyTest]) -> bool {
    tests.iter().all(|(f, re, literal)| {
        key.value(*f)
            .is_some_and(|v| crate::mongo::query::filter::regex_matches(re, literal, v))
    })
}

/// Whether the bounds of an index scan say all that the filter says, so that a fetched
/// document needs no second test (the server leaves such predicates out of its FETCH too).
/// Trusted only where the filter's test and the index order agree by construction: equality
/// with strings, numbers, booleans, ObjectIds and dates on top-level fields that hold no
/// arrays, and nothing else in the filter.
fn bounds_are_filter(plan: &Plan, ix: &Index, bounds: &[FieldBounds]) -> bool {
    let point = |i: &Interval| {
        i.lo_incl
            && i.hi_incl
            && compare(&i.lo, &i.hi) == Ordering::Equal
            && match &i.lo {
                Value::Double(d) => !d.is_nan(),
                v => matches!(
                    v,
                    Value::String(_)
                        | Value::Int32(_)
                        | Value::Int64(_)
                        | Value::Bool(_)
                        | Value::ObjectId(_)
                        | Value::Date(_)
                ),
            }
    };
    matches!(ix.spec.kind, super::IndexKind::Regular)
        && plan.residual.is_empty()
        && plan.residual_others.is_empty()
        && plan.key_filter.is_empty()
        && !ix.is_multikey()
        && bounds.len() == ix.spec.key.len()
        && bounds.iter().zip(&ix.spec.key).all(|(b, field)| {
            !b.narrowed || (b.exact && !field.path.contains('.') && b.intervals.iter().all(point))
        })
}

fn key_in_bounds(key: &Key, bounds: &[FieldBounds]) -> bool {
    key.values()
        .zip(bounds)
        .all(|(v, b)| b.intervals.iter().any(|i| i.contains(v)))
}

/// Runs a plan: the positions of the matching documents in plan order, stopping after
/// `want` of them (when the order is final) or after `max_works` units of work.
fn run(
    coll: &Collection,
    plan: &Plan,
    filter: &Filter,
    want: Option<usize>,
    max_works: Option<u64>,
    trace: Option<&mut Vec<u64>>,
) -> (Vec<usize>, Stats) {
    let mut stats = Stats::default();
    let mut out = Vec::new();
    let mut advances = trace;
    let stop_at = if sorts_after_run(plan) { None } else { want };
    let over_budget = |s: &Stats| max_works.is_some_and(|m| s.works >= m);
    // A collection scan reads the filter's top-level fields from their columns.
    let names = filter.top_fields();
    let columns = match plan.access {
        Access::CollScan { .. } => coll.columns(&names),
        _ => None,
    };
    let columns: Vec<Option<&Column>> = match &columns {
        Some(c) => names.iter().map(|n| c.get(n)).collect(),
        None => Vec::new(),
    };
    if let (Access::CollScan { backward: false }, None, None, false) =
        (&plan.access, max_works, &advances, plan.covered)
    {
        if let Some(mut tests) = filter.column_filter(&columns) {
            return scan_columns(coll, &mut tests, filter, stop_at);
        }
    }
    let recheck = match &plan.access {
        Access::IxScan { index, bounds, .. } => coll
            .indexes()
            .get(*index)
            .is_none_or(|ix| !bounds_are_filter(plan, ix, bounds)),
        _ => true,
    };
    let mut accept = |pos: usize, stats: &mut Stats, out: &mut Vec<usize>| -> bool {
        let Some(doc) = coll.docs.get(pos) else {
            return false;
        };
        if !plan.covered {
            stats.docs_examined += 1;
        }
        let passes = || {
            if columns.is_empty() {
                filter.matches(doc)
            } else {
                filter.matches_row(doc, pos, &columns)
            }
        };
        if !recheck || passes() {
            stats.matched += 1;
            out.push(pos);
            if plan.provides_sort {
                if let Some(t) = advances.as_deref_mut() {
                    t.push(stats.works);
                }
            }
        }
        stop_at.is_some_and(|n| out.len() >= n)
    };
    match &plan.access {
        Access::CollScan { backward } => {
            let n = coll.docs.len();
            let mut finished = true;
            for k in 0..n {
                let pos = if *backward { n - 1 - k } else { k };
                stats.works += 1;
                if accept(pos, &mut stats, &mut out) || over_budget(&stats) {
                    finished = k + 1 == n;
                    break;
                }
            }
            stats.eof = finished;
        }
        Access::IxScan {
            index,
            bounds,
            backward,
            ..
        } => {
            let Some(ix) = coll.indexes().get(*index) else {
                return (out, stats);
            };
            let mut ranges = scan_ranges(ix, bounds);
            if *backward {
                ranges.reverse();
            }
            let dedup = ix.is_multikey();
            let mut seen: HashSet<RecordId> = HashSet::new();
            let key_tests = key_tests(ix, &plan.key_filter);
            let mut finished = true;
            'ranges: for range in ranges {
                stats.seeks += 1;
                for (key, rid) in ix.scan(range, *backward) {
                    stats.keys_examined += 1;
                    stats.works += 1;
                    if key_in_bounds(key, bounds) && passes(key, &key_tests) {
                        if dedup && !seen.insert(*rid) {
                            stats.dups_dropped += 1;
                        } else if let Some(pos) = coll.position_of(*rid) {
                            stats.keys_passed += 1;
                            if accept(pos, &mut stats, &mut out) {
                                finished = false;
                                break 'ranges;
                            }
                        }
                    }
                    if over_budget(&stats) {
                        finished = false;
                        break 'ranges;
                    }
                }
            }
            stats.eof = finished;
        }
        Access::Or { branches, merge } => {
            let mut seen: HashSet<usize> = HashSet::new();
            let now = filter.now_ms();
            let stop = if *merge { None } else { stop_at };
            'branches: for (doc, branch) in branches {
                let Ok(branch_filter) = Filter::compile(doc) else {
                    continue;
                };
                let branch_filter = branch_filter.at(now);
                let (found, s) = run(coll, branch, &branch_filter, None, None, None);
                stats.keys_examined += s.keys_examined;
                stats.docs_examined += s.docs_examined;
                stats.works += s.works;
                stats.keys_passed += s.keys_passed;
                stats.seeks += s.seeks;
                stats.branches.push(s);
                for pos in found {
                    if !seen.insert(pos) {
                        stats.dups_dropped += 1;
                        continue;
                    }
                    stats.matched += 1;
                    out.push(pos);
                    if stop.is_some_and(|n| out.len() >= n) {
                        break 'branches;
                    }
                }
            }
            stats.eof = true;
        }
        // Never candidates: `execute` runs these plans itself.
        Access::Text { .. } | Access::GeoNear { .. } => stats.eof = true,
    }
    if stats.eof {
        stats.works += 1;
        if !plan.provides_sort {
            if let Some(t) = advances {
                t.extend(std::iter::repeat_n(stats.works, out.len()));
            }
        }
    }
    (out, stats)
}

/// The name of a top-level field path.
fn top(path: &[String]) -> Option<&str> {
    match path {
        [name] => Some(name.as_str()),
        _ => None,
    }
}

/// A forward collection scan whose filter runs over columns (`Filter::column_filter`): the
/// same positions and counts the document-by-document scan gives.
fn scan_columns(
    coll: &Collection,
    tests: &mut ColumnFilter<'_>,
    filter: &Filter,
    stop_at: Option<usize>,
) -> (Vec<usize>, Stats) {
    let mut stats = Stats::default();
    let mut out = Vec::new();
    let mut hits = Vec::new();
    let n = coll.docs.len();
    let mut start = 0;
    let mut finished = true;
    'chunks: while start < n {
        let end = start.saturating_add(columns::CHUNK).min(n);
        tests.select(start..end, &mut hits, |row| {
            coll.docs.get(row).is_some_and(|d| filter.matches(d))
        });
        // Documents before `next` are counted.
        let mut next = start;
        for &row in &hits {
            let seen = (row + 1 - next) as u64;
            stats.works += seen;
            stats.docs_examined += seen;
            next = row + 1;
            stats.matched += 1;
            out.push(row);
            if stop_at.is_some_and(|k| out.len() >= k) {
                finished = next == n;
                break 'chunks;
            }
        }
        let seen = (end - next) as u64;
        stats.works += seen;
        stats.docs_examined += seen;
        start = end;
    }
    stats.eof = finished;
    if finished {
        stats.works += 1;
    }
    (out, stats)
}

/// Results a trial stops at, as MongoDB's `internalQueryPlanEvaluationMaxResults`.
const TRIAL_RESULTS: usize = 101;

/// Picks the winner among several plans as MongoDB's multi-planner does: each runs until one
/// of them returns 101 documents or finishes (or the work budget runs out), and the plan
/// with the most results per unit of work wins, small bonuses going to plans that need no
/// fetch and no blocking sort, and a whole point to a plan that reached its end within the
/// trial. Ties go to the earlier candidate.
fn choose(coll: &Collection, plans: &[Plan], filter: &Filter) -> usize {
    trial(coll, plans, filter).winner()
}

/// The outcome of a multi-planner trial.
struct Trial {
    /// Candidates, best first.
    order: Vec<usize>,
    /// Their scores, in `order`.
    scores: Vec<f64>,
    /// The works each candidate had taken when the trial ended, by candidate.
    works: Vec<u64>,
    /// The works at which the trial ended.
    cutoff: u64,
}

impl Trial {
    fn winner(&self) -> usize {
        self.order.first().copied().unwrap_or(0)
    }
}

fn trial(coll: &Collection, plans: &[Plan], filter: &Filter) -> Trial {
    let budget = 10_000u64.max((coll.docs.len() as f64 * 0.3) as u64);
    let traces: Vec<(Vec<u64>, Stats)> = plans
        .iter()
        .map(|p| {
            let mut trace = Vec::new();
            let (_, stats) = run(coll, p, filter, None, Some(budget), Some(&mut trace));
            (trace, stats)
        })
        .collect();
    // The trial ends when the first plan reaches 101 results or its end.
    let cutoff = traces
        .iter()
        .map(|(t, s)| {
            let done_at = t.get(TRIAL_RESULTS - 1).copied();
            match (done_at, s.eof) {
                (Some(w), _) => w,
                (None, true) => s.works,
                (None, false) => budget,
            }
        })
        .min()
        .unwrap_or(budget);
    let mut scored = Vec::with_capacity(plans.len());
    let mut works_at_cutoff = Vec::with_capacity(plans.len());
    for (i, ((trace, stats), plan)) in traces.iter().zip(plans).enumerate() {
        let works = stats.works.min(cutoff).max(1);
        let advanced = trace.iter().filter(|&&w| w <= cutoff).count() as f64;
        let epsilon = (1.0 / (10.0 * works as f64)).min(1e-4);
        // No plan here intersects indexes: each gets the server's no-intersection bonus.
        let mut score = 1.0 + advanced / works as f64 + epsilon;
        if plan.covered {
            score += epsilon;
        }
        if plan.provides_sort {
            score += epsilon;
        }
        // A plan that finished within the trial ranks a whole point higher; the scores
        // kept (candidatePlanScores) leave that bonus out, as the server's do.
        let finished = stats.eof && stats.works <= cutoff;
        let rank = score + if finished { 1.0 } else { 0.0 };
        scored.push((i, rank, score));
        works_at_cutoff.push(works);
    }
    // Best first; a stable sort keeps ties in candidate order.
    scored.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal));
    Trial {
        order: scored.iter().map(|(i, _, _)| *i).collect(),
        scores: scored.iter().map(|(_, _, s)| *s).collect(),
        works: works_at_cutoff,
        cutoff,
    }
}

/// The index each plan reads (`usize::MAX` for one that reads none), by which the cache
/// names its winners.
fn plan_indexes(plans: &[Plan]) -> Vec<usize> {
    plans
        .iter()
        .map(|p| match p.access {
            Access::IxScan { index, .. } => index,
            _ => usize::MAX,
        })
        .collect()
}

/// Races the candidates and records the winner in the cache (with what `$planCacheStats`
/// shows of the trial): the winner's position among `plans`.
fn race_and_cache(
    coll: &Collection,
    q: &Query,
    plans: &[Plan],
    indexes: &[usize],
    cache: &mut PlanCache,
    key: &CacheKey,
) -> usize {
    let t = trial(coll, plans, q.filter);
    let at = t.winner();
    if let Some(&index) = indexes.get(at) {
        let works = t.works.get(at).copied().unwrap_or(1);
        cache.set(key, coll, (index, works), q.filter.now_ms(), || {
            // Each candidate's work up to the end of the trial, best first.
            let stats: Vec<(usize, Stats)> = t
                .order
                .iter()
                .filter_map(|&i| {
                    let plan = plans.get(i)?;
                    Some((i, run(coll, plan, q.filter, None, Some(t.cutoff), None).1))
                })
                .collect();
            super::explain::cache_debug(coll, q, plans, &stats, &t.scores)
        });
    }
    at
}

/// Plans and runs a find: the matching documents' positions after sort, skip and limit.
pub fn execute(coll: &Collection, q: &Query) -> Result<Execution, QueryError> {
    execute_with(coll, q, None)
}

/// `execute` on collection `ns` (database and collection name), with a choice among several
/// candidate plans taken from (or put into) the plan cache (see `plan_cache`).
pub fn execute_cached(
    coll: &Collection,
    q: &Query,
    cache: &mut PlanCache,
    ns: (&str, &str),
) -> Result<Execution, QueryError> {
    execute_with(coll, q, Some((cache, ns)))
}

fn execute_with(
    coll: &Collection,
    q: &Query,
    cache: Option<(&mut PlanCache, (&str, &str))>,
) -> Result<Execution, QueryError> {
    if q.filter.text().is_some() && q.filter.near().is_some() {
        return Err(QueryError::new(
            2,
            "BadValue",
            "text and geoNear not allowed in same query",
        ));
    }
    if let Some(operand) = q.filter.text() {
        return super::text::execute(coll, q, operand);
    }
    if let Some((path, near)) = q.filter.near() {
        return super::geo::execute_near(coll, q, path, near);
    }
    let mut cache = cache;
    let mut plans = match cache.as_mut() {
        // As the server's subplanner: each branch of a rooted `$or` with several candidates
        // is planned, and cached, as a query of its own (with the find's sort and
        // projection); the branch plans of an active entry run without a trial.
        Some((cache, ns)) if q.hint.is_none() && rooted_or(q.filter_doc).is_some() => {
            let ns = *ns;
            let mut cached_choice = |doc: &Document, branch_plans: &[Plan]| {
                let Ok(filter) = Filter::compile(doc) else {
                    return 0;
                };
                let filter = filter.at(q.filter.now_ms());
                let branch_q = Query {
                    filter_doc: doc,
                    filter: &filter,
                    sort: q.sort,
                    projection: q.projection,
                    hint: None,
                    skip: 0,
                    limit: None,
                };
                let indexes = plan_indexes(branch_plans);
                let key = plan_cache::key(ns, Some(coll), doc, q.sort, q.projection);
                match cache.get(&key, coll) {
                    Cached::Active { winner, .. } => {
                        if let Some(at) = indexes.iter().position(|&i| i == winner) {
                            return at;
                        }
                    }
                    Cached::Inactive | Cached::Missing => {}
                }
                race_and_cache(coll, &branch_q, branch_plans, &indexes, cache, &key)
            };
            candidates_with(coll, q, Some(&mut cached_choice))?
        }
        _ => candidates(coll, q)?,
    };
    let mut cache = match cache {
        Some((cache, ns)) if plans.len() > 1 && q.hint.is_none() => Some((
            cache,
            plan_cache::key(ns, Some(coll), q.filter_doc, q.sort, q.projection),
        )),
        _ => None,
    };
    // The candidates' indexes, by which the cache names its winners.
    let indexes = plan_indexes(&plans);
    // The works of the trial that chose the plan, when it came from the cache.
    let mut from_cache = None;
    let mut winner_at = match cache.as_mut() {
        Some((cache, key)) => {
            let cached = match cache.get(key, coll) {
                Cached::Active { winner, works } => indexes
                    .iter()
                    .position(|&i| i == winner)
                    .map(|at| (at, works)),
                Cached::Inactive | Cached::Missing => None,
            };
            match cached {
                Some((at, works)) => {
                    from_cache = Some(works);
                    at
                }
                None => race_and_cache(coll, q, &plans, &indexes, cache, key),
            }
        }
        None if plans.len() > 1 => choose(coll, &plans, q.filter),
        None => 0,
    };
    let run_winner = |at: usize, traced: bool| {
        let Some(winner) = plans.get(at) else {
            return (Vec::new(), Stats::default(), Vec::new(), None);
        };
        // A geo index hands documents on in cell order; they are put back in record order,
        // as a collection scan gives them, so that creating the index never reorders an
        // answer.
        let in_cells = super::geo::reads_cells(coll, winner);
        let want = q.limit.filter(|&n| n > 0 && !in_cells).map(|n| n + q.skip);
        let mut trace = Vec::new();
        let (mut positions, stats) = run(
            coll,
            winner,
            q.filter,
            want,
            None,
            traced.then_some(&mut trace),
        );
        if in_cells {
            positions.sort_unstable();
        }
        (positions, stats, trace, want)
    };
    let (mut positions, mut stats, trace, mut want) = run_winner(winner_at, from_cache.is_some());
    if let (Some(trial_works), Some((cache, key))) = (from_cache, cache.as_mut()) {
        // The works a trial of this plan would have taken: to its 101st result or its end.
        let took = trace.get(TRIAL_RESULTS - 1).copied().unwrap_or(stats.works);
        if took
            > trial_works
                .max(1)
                .saturating_mul(plan_cache::EVICTION_RATIO)
        {
            // The data moved under the cached plan: the server deactivates the entry and
            // plans the query again.
            cache.deactivate(key);
            let again = race_and_cache(coll, q, &plans, &indexes, cache, key);
            if again != winner_at {
                winner_at = again;
                (positions, stats, _, want) = run_winner(winner_at, false);
            }
        }
    }
    let winner = plans.remove(winner_at.min(plans.len().saturating_sub(1)));
    if sorts_after_run(&winner) {
        if let Some(sort) = q.sort {
            match want {
                Some(k) => {
                    // The sort keys that are top-level fields are read from their columns.
                    let keys = cursor::sort_keys(sort)?;
                    let names: Vec<&str> = keys.iter().filter_map(|(p, _)| top(p)).collect();
                    let guard = coll.columns(&names);
                    let columns: Vec<Option<&Column>> = match &guard {
                        Some(g) => keys.iter().map(|(p, _)| g.get(top(p)?)).collect(),
                        None => Vec::new(),
                    };
                    cursor::sort_indices_top(&coll.docs, &mut positions, sort, k, &columns)?
                }
                None => cursor::sort_indices(&coll.docs, &mut positions, sort)?,
            }
        }
    }
    let positions: Vec<usize> = positions.into_iter().skip(q.skip).collect();
    let positions = match q.limit {
        Some(n) if n > 0 => positions.into_iter().take(n).collect(),
        _ => positions,
    };
    Ok(Execution {
        positions,
        winner,
        rejected: plans,
        stats,
        scores: Default::default(),
    })
}

/// Skip, then limit (0 means none), as a find applies them after its sort.
pub fn skip_limit(positions: Vec<usize>, q: &Query) -> Vec<usize> {
    let rest = positions.into_iter().skip(q.skip);
    match q.limit {
        Some(n) if n > 0 => rest.take(n).collect(),
        _ => rest.collect(),
    }
}

/// The positions of the documents a filter matches, in index order, when an index serves it
/// (None when the planner would scan the collection): how an aggregation's leading `$match`
/// reads through an index, as the server pushes that stage down into the find layer.
pub fn indexed_matches(
    coll: &Collection,
    filter_doc: &Document,
    now_ms: i64,
) -> Option<Vec<usize>> {
    let filter = Filter::compile(filter_doc).ok()?.at(now_ms);
    let q = Query {
        filter_doc,
        filter: &filter,
        sort: None,
        projection: None,
        hint: None,
        skip: 0,
        limit: None,
    };
    let plans = candidates(coll, &q).ok()?;
    if plans
        .iter()
        .all(|p| matches!(p.access, Access::CollScan { .. }))
    {
        return None;
    }
    let exec = execute(coll, &q).ok()?;
    if filter.take_error().is_some() {
        return None;
    }
    Some(exec.positions)
}
