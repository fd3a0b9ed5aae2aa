//! Accumulators for `$group`, `$bucket`, `$bucketAuto` and `$setWindowFields`: one row per
//! operator in `ACCUMULATORS`, each compiled from its spec into an `AccSpec` and run as a
//! small state machine (`State::add` per document, `State::finish` per group).

use std::collections::HashSet;

use super::expr::{is_nullish, server_text, type_name, Compiler, Env, Expr};
use super::ops::{add_numbers, as_f64, as_i64, compare_keys, sort_key_of, sort_spec, std_dev};
use super::AggError;
use crate::agg_err;
use crate::mongo::value::{compare, Document, FieldHash, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Sum,
    Avg,
    Min,
    Max,
    First,
    Last,
    Push,
    AddToSet,
    Count,
    StdDevPop,
    StdDevSamp,
    MergeObjects,
    Top,
    Bottom,
    TopN,
    BottomN,
    FirstN,
    LastN,
    MaxN,
    MinN,
    Median,
    Percentile,
}

pub const ACCUMULATORS: &[(&str, Kind)] = &[
    ("$sum", Kind::Sum),
    ("$avg", Kind::Avg),
    ("$min", Kind::Min),
    ("$max", Kind::Max),
    ("$first", Kind::First),
    ("$last", Kind::Last),
    ("$push", Kind::Push),
    ("$addToSet", Kind::AddToSet),
    ("$count", Kind::Count),
    ("$stdDevPop", Kind::StdDevPop),
    ("$stdDevSamp", Kind::StdDevSamp),
    ("$mergeObjects", Kind::MergeObjects),
    ("$top", Kind::Top),
    ("$bottom", Kind::Bottom),
    ("$topN", Kind::TopN),
    ("$bottomN", Kind::BottomN),
    ("$firstN", Kind::FirstN),
    ("$lastN", Kind::LastN),
    ("$maxN", Kind::MaxN),
    ("$minN", Kind::MinN),
    ("$median", Kind::Median),
    ("$percentile", Kind::Percentile),
];

/// A compiled accumulator: what to evaluate per document and how to combine it.
#[derive(Debug, Clone)]
pub struct AccSpec {
    pub kind: Kind,
    pub arg: Expr,
    pub n: Option<Expr>,
    pub sort: Option<Vec<(Vec<String>, bool)>>,
    pub p: Option<Expr>,
}

pub fn lookup(name: &str) -> Option<Kind> {
    ACCUMULATORS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

fn named<'v>(op: &str, spec: &'v Value, allowed: &[&str]) -> Result<&'v Document, AggError> {
    let Value::Document(d) = spec else {
        return Err(agg_err!(
            5787801,
            "specification must be an object; found {}",
            server_text(spec)
        ));
    };
    for k in d.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(agg_err!(5787901, "Unknown argument for '{op}': {k}"));
        }
    }
    Ok(d)
}

fn required<'v>(op: &str, d: &'v Document, field: &str) -> Result<&'v Value, AggError> {
    d.get(field)
        .ok_or_else(|| agg_err!(5787906, "Missing value for '{field}' in '{op}'"))
}

impl AccSpec {
    pub fn compile(
        op: &str,
        kind: Kind,
        spec: &Value,
        c: &mut Compiler,
    ) -> Result<AccSpec, AggError> {
        let mut out = AccSpec {
            kind,
            arg: Expr::Const(Value::Null),
            n: None,
            sort: None,
            p: None,
        };
        match kind {
            Kind::Count => {
                if !matches!(spec, Value::Document(d) if d.is_empty()) {
                    return Err(agg_err!(
                        40156,
                        "$count takes no arguments, i.e. $count:{{}}"
                    ));
                }
                out.arg = Expr::Const(Value::Int32(1));
                out.kind = Kind::Sum;
            }
            Kind::Top | Kind::Bottom | Kind::TopN | Kind::BottomN => {
                let with_n = matches!(kind, Kind::TopN | Kind::BottomN);
                let allowed: &[&str] = if with_n {
                    &["n", "sortBy", "output"]
                } else {
                    &["sortBy", "output"]
                };
                let d = named(op, spec, allowed)?;
                out.arg = c.compile(required(op, d, "output")?)?;
                let Value::Document(s) = required(op, d, "sortBy")? else {
                    return Err(agg_err!(5788604, "{op} sortBy must be an object"));
                };
                out.sort = Some(sort_spec(s)?);
                if with_n {
                    out.n = Some(c.compile(required(op, d, "n")?)?);
                }
            }
            Kind::FirstN | Kind::LastN | Kind::MaxN | Kind::MinN => {
                let d = named(op, spec, &["input", "n"])?;
                out.arg = c.compile(required(op, d, "input")?)?;
                out.n = Some(c.compile(required(op, d, "n")?)?);
            }
            Kind::Median | Kind::Percentile => {
                let allowed: &[&str] = if kind == Kind::Median {
                    &["input", "method"]
                } else {
                    &["input", "p", "method"]
                };
                let d = named(op, spec, allowed)?;
                out.arg = c.compile(required(op, d, "input")?)?;
                match required(op, d, "method")? {
                    Value::String(m)
                        if m == "approximate" || m == "discrete" || m == "continuous" => {}
                    other => {
                        return Err(agg_err!(
                        7436101,
                        "Currently only 'approximate' can be used as percentile 'method', found {}",
                        server_text(other)
                    ))
                    }
                }
                if kind == Kind::Percentile {
                    out.p = Some(c.compile(required(op, d, "p")?)?);
                }
            }
            _ => {
                if let Value::Array(items) = spec {
                    if kind != Kind::Push && kind != Kind::AddToSet {
                        if items.len() != 1 {
                            return Err(agg_err!(
                                40237,
                                "The {op} accumulator is a unary operator"
                            ));
                        }
                    } else {
                        return Err(agg_err!(40237, "The {op} accumulator is a unary operator"));
                    }
                    out.arg = c.compile(items.first().unwrap_or(&Value::Null))?;
                } else {
                    out.arg = c.compile(spec)?;
                }
            }
        }
        Ok(out)
    }

    pub fn new_state(&self) -> State {
        match self.kind {
            Kind::Sum => State::Sum(Value::Int32(0), false),
            Kind::Avg => State::Avg(0.0, 0, Value::Int32(0)),
            Kind::Min | Kind::Max | Kind::First | Kind::Last => State::One(None),
            Kind::AddToSet => State::Set(Vec::new(), HashSet::default()),
            Kind::MergeObjects => State::Doc(Document::default()),
            Kind::StdDevPop | Kind::StdDevSamp | Kind::Median | Kind::Percentile => {
                State::Nums(Vec::new())
            }
            Kind::Top | Kind::Bottom | Kind::TopN | Kind::BottomN => State::Sorted(Vec::new()),
            _ => State::Items(Vec::new()),
        }
    }

    /// Adds one document's contribution.
    // One arm per (kind, state) pair reads better than guards spread over the arms.
    #[allow(clippy::collapsible_match)]
    pub fn add(&self, state: &mut State, env: &mut Env<'_>) -> Result<(), AggError> {
        // Sums and averages of a constant (`$sum: 1`) or a plain field read it in place.
        if matches!(self.kind, Kind::Sum | Kind::Avg) {
            let in_place = match &self.arg {
                Expr::Const(v) => Some(Some(v)),
                arg => arg.field_ref(env.root),
            };
            if let Some(found) = in_place {
                add_in_place(state, found);
                return Ok(());
            }
        }
        let v = self.arg.eval(env)?;
        match (self.kind, state) {
            (Kind::Sum, State::Sum(total, _)) => {
                if v.is_number() {
                    *total = add_numbers(total, &v);
                }
            }
            (Kind::Avg, State::Avg(sum, count, exact)) => {
                if let Some(x) = as_f64(&v) {
                    *sum += x;
                    *count += 1;
                    *exact = add_numbers(exact, &v);
                }
            }
            (Kind::Min | Kind::Max, State::One(best)) => {
                if !is_nullish(&v) {
                    let better = match best {
                        None => true,
                        Some(b) => {
                            let c = compare(&v, b);
                            if self.kind == Kind::Min {
                                c.is_lt()
                            } else {
                                c.is_gt()
                            }
                        }
                    };
                    if better {
                        *best = Some(v);
                    }
                }
            }
            (Kind::First, State::One(best)) => {
                if best.is_none() {
                    *best = Some(missing_to_null(v));
                }
            }
            (Kind::Last, State::One(best)) => *best = Some(missing_to_null(v)),
            (Kind::Push, State::Items(items)) => {
                if !matches!(v, Value::Undefined) {
                    items.push(v);
                }
            }
            (Kind::AddToSet, State::Set(items, seen)) => {
                if !matches!(v, Value::Undefined) {
                    let mut key = Vec::new();
                    encode_key(&v, &mut key);
                    if seen.insert(key) {
                        items.push(v);
                    }
                }
            }
            (Kind::MergeObjects, State::Doc(doc)) => match v {
                Value::Document(d) => {
                    for (k, x) in d {
                        doc.insert(k, x);
                    }
                }
                v if is_nullish(&v) => {}
                v => {
                    return Err(agg_err!(
                        40400,
                        "$mergeObjects requires object inputs, but input {} is of type {}",
                        server_text(&v),
                        type_name(&v)
                    ))
                }
            },
            (_, State::Nums(nums)) => {
                if let Some(x) = as_f64(&v) {
                    nums.push(x);
                }
            }
            (Kind::Top | Kind::Bottom | Kind::TopN | Kind::BottomN, State::Sorted(items)) => {
                let keys = self.sort.as_deref().unwrap_or(&[]);
                let k: Vec<Value> = keys
                    .iter()
                    .map(|(p, desc)| sort_key_of(env.root, p, *desc))
                    .collect();
                items.push((k, missing_to_null(v)));
            }
            (Kind::MaxN | Kind::MinN, State::Items(items)) => {
                if !is_nullish(&v) {
                    items.push(v);
                }
            }
            (Kind::FirstN | Kind::LastN, State::Items(items)) => items.push(missing_to_null(v)),
            _ => {}
        }
        Ok(())
    }

    fn count_n(&self, env: &mut Env<'_>, _op: &str) -> Result<usize, AggError> {
        let Some(n) = &self.n else { return Ok(1) };
        let v = n.eval(env)?;
        match as_i64(&v) {
            Some(x) if x > 0 => Ok(x as usize),
            _ => Err(agg_err!(
                5787908,
                "'n' must be greater than 0, found {}",
                server_text(&v)
            )),
        }
    }

    /// The group's result; `env` is the group's first document (for `n` and `p`).
    pub fn finish(&self, state: State, env: &mut Env<'_>) -> Result<Value, AggError> {
        Ok(match (self.kind, state) {
            (_, State::Sum(total, _)) => total,
            (_, State::Avg(sum, count, exact)) => {
                if count == 0 {
                    Value::Null
                } else {
                    // An exact integer sum divides without the rounding a float sum gathers.
                    let total = match &exact {
                        Value::Int32(_) | Value::Int64(_) => as_f64(&exact).unwrap_or(sum),
                        // Any decimal makes the average a decimal, computed in decimal.
                        Value::Decimal128(d) => {
                            let n = crate::mongo::value::Decimal128::from_i64(count as i64);
                            return Ok(d.div(&n).map_or(Value::Null, Value::Decimal128));
                        }
                        _ => sum,
                    };
                    Value::Double(total / count as f64)
                }
            }
            (_, State::One(v)) => v.unwrap_or(Value::Null),
            (_, State::Items(items)) => {
                let n = |s: &Self, env: &mut Env<'_>| s.count_n(env, "");
                match self.kind {
                    Kind::Push => Value::Array(items),
                    Kind::FirstN => {
                        let n = n(self, env)?;
                        Value::Array(items.into_iter().take(n).collect())
                    }
                    Kind::LastN => {
                        let n = n(self, env)?;
                        let skip = items.len().saturating_sub(n);
                        Value::Array(items.into_iter().skip(skip).collect())
                    }
                    Kind::MaxN | Kind::MinN => {
                        let n = n(self, env)?;
                        let mut items = items;
                        if self.kind == Kind::MaxN {
                            crate::sort::sort_by(&mut items, |a, b| compare(b, a));
                        } else {
                            crate::sort::sort_by(&mut items, compare);
                        }
                        items.truncate(n);
                        Value::Array(items)
                    }
                    _ => Value::Array(items),
                }
            }
            (_, State::Set(items, _)) => Value::Array(items),
            (_, State::Doc(d)) => Value::Document(d),
            (Kind::StdDevPop, State::Nums(nums)) => std_dev(&nums, false),
            (Kind::StdDevSamp, State::Nums(nums)) => std_dev(&nums, true),
            (Kind::Median, State::Nums(nums)) => percentile(nums, &[0.5])
                .into_iter()
                .next()
                .unwrap_or(Value::Null),
            (Kind::Percentile, State::Nums(nums)) => {
                let pv = match &self.p {
                    Some(p) => p.eval(env)?,
                    None => Value::Array(Vec::new()),
                };
                let Value::Array(ps) = &pv else {
                    return Err(agg_err!(
                        7750301,
                        "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: {}",
                        server_text(&pv)
                    ));
                };
                let mut fs = Vec::with_capacity(ps.len());
                for p in ps {
                    match as_f64(p) {
                        Some(x) if (0.0..=1.0).contains(&x) => fs.push(x),
                        _ => {
                            return Err(agg_err!(
                                7750301,
                                "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: {}",
                                server_text(&pv)
                            ))
                        }
                    }
                }
                let r = percentile(nums, &fs);
                if r.iter().all(|v| matches!(v, Value::Null)) {
                    Value::Null
                } else {
                    Value::Array(r)
                }
            }
            (_, State::Nums(_)) => Value::Null,
            (kind, State::Sorted(mut items)) => {
                let keys = self.sort.clone().unwrap_or_default();
                crate::sort::sort_by(&mut items, |a, b| compare_keys(&a.0, &b.0, &keys));
                match kind {
                    Kind::Top => items.into_iter().next().map_or(Value::Null, |x| x.1),
                    Kind::Bottom => items.pop().map_or(Value::Null, |x| x.1),
                    Kind::TopN => {
                        let n = self.count_n(env, "$topN")?;
                        Value::Array(items.into_iter().take(n).map(|x| x.1).collect())
                    }
                    _ => {
                        let n = self.count_n(env, "$bottomN")?;
                        let skip = items.len().saturating_sub(n);
                        Value::Array(items.into_iter().skip(skip).map(|x| x.1).collect())
                    }
                }
            }
        })
    }
}

fn missing_to_null(v: Value) -> Value {
    match v {
        Value::Undefined => Value::Null,
        v => v,
    }
}

/// Nearest-rank percentiles (what the server's approximate method gives on small inputs).
pub fn percentile(mut nums: Vec<f64>, ps: &[f64]) -> Vec<Value> {
    if nums.is_empty() {
        return ps.iter().map(|_| Value::Null).collect();
    }
    crate::sort::sort_by(&mut nums, |a, b| {
        a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
    });
    let n = nums.len();
    ps.iter()
        .map(|p| {
            let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
            Value::Double(nums.get(rank - 1).copied().unwrap_or(f64::NAN))
        })
        .collect()
}

/// A `$sum` or `$avg` taking `found` (its argument's value; None for a missing field).
pub fn add_in_place(state: &mut State, found: Option<&Value>) {
    let v = found.unwrap_or(&Value::Undefined);
    match state {
        State::Sum(total, _) if v.is_number() => add_to(total, v),
        State::Avg(sum, count, exact) => {
            if let Some(x) = as_f64(v) {
                *sum += x;
                *count += 1;
                add_to(exact, v);
            }
        }
        _ => {}
    }
}

/// `*total = add_numbers(total, v)`, in place for the usual pairs (a sum of int32s that
/// stays an int32, doubles), which a group adds once per document.
#[inline]
fn add_to(total: &mut Value, v: &Value) {
    match (&mut *total, v) {
        (Value::Int32(t), Value::Int32(x)) => {
            if let Some(s) = t.checked_add(*x) {
                *t = s;
                return;
            }
        }
        (Value::Int64(t), Value::Int32(x)) => {
            if let Some(s) = t.checked_add(i64::from(*x)) {
                *t = s;
                return;
            }
        }
        (Value::Int64(t), Value::Int64(x)) => {
            if let Some(s) = t.checked_add(*x) {
                *t = s;
                return;
            }
        }
        (Value::Double(t), Value::Double(x)) => {
            *t += x;
            return;
        }
        (Value::Double(t), Value::Int32(x)) => {
            *t += f64::from(*x);
            return;
        }
        _ => {}
    }
    *total = add_numbers(total, v);
}

impl AccSpec {
    /// For a `$sum` or `$avg` of a constant or a top-level field, with no other argument:
    /// the field's name (None for the constant), so that the argument can be read from a
    /// column and added by `add_in_place`. None (outer) for any other accumulator.
    pub fn in_place_field(&self) -> Option<Option<&str>> {
        if !matches!(self.kind, Kind::Sum | Kind::Avg)
            || self.n.is_some()
            || self.p.is_some()
            || self.sort.is_some()
        {
            return None;
        }
        match &self.arg {
            Expr::Const(_) => Some(None),
            arg => arg.top_field().map(Some),
        }
    }
}

#[derive(Debug, Clone)]
pub enum State {
    Sum(Value, bool),
    Avg(f64, u64, Value),
    One(Option<Value>),
    Items(Vec<Value>),
    Set(Vec<Value>, HashSet<Vec<u8>, FieldHash>),
    Doc(Document),
    Nums(Vec<f64>),
    Sorted(Vec<(Vec<Value>, Value)>),
}

/// A byte encoding under which two values are equal exactly when MongoDB groups them
/// together: numbers by value across types, missing as null, documents in field order.
pub fn encode_key(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null | Value::Undefined => out.push(0),
        Value::Int32(i) => {
            out.push(1);
            out.extend_from_slice(&i64::from(*i).to_le_bytes());
        }
        Value::Int64(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Double(x) => {
            if x.fract() == 0.0 && x.abs() < 9.2e18 {
                out.push(1);
                out.extend_from_slice(&(*x as i64).to_le_bytes());
            } else if x.is_nan() {
                out.push(3);
            } else {
                out.push(2);
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
        }
        Value::String(s) => {
            out.push(4);
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Document(d) => {
            out.push(5);
            out.extend_from_slice(&(d.len() as u64).to_le_bytes());
            for (k, x) in d {
                out.extend_from_slice(&(k.len() as u64).to_le_bytes());
                out.extend_from_slice(k.as_bytes());
                encode_key(x, out);
            }
        }
        Value::Array(items) => {
            out.push(6);
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for x in items {
                encode_key(x, out);
            }
        }
        Value::ObjectId(o) => {
            out.push(7);
            out.extend_from_slice(&o.0);
        }
        Value::Bool(b) => out.extend_from_slice(&[8, u8::from(*b)]),
        Value::Date(ms) => {
            out.push(9);
            out.extend_from_slice(&ms.to_le_bytes());
        }
        Value::Regex { pattern, options } => {
            out.push(10);
            out.extend_from_slice(&(pattern.len() as u64).to_le_bytes());
            out.extend_from_slice(pattern.as_bytes());
            out.extend_from_slice(options.as_bytes());
        }
        Value::MinKey => out.push(11),
        Value::MaxKey => out.push(12),
        Value::Decimal128(d) => {
            // A decimal equal to an integer or to a double groups with it.
            if let Some(i) = d.to_i64_exact() {
                encode_key(&Value::Int64(i), out);
            } else if d.is_nan() || d.cmp_f64(d.to_f64()) == std::cmp::Ordering::Equal {
                encode_key(&Value::Double(d.to_f64()), out);
            } else if let Some((negative, coef, exp)) = d.canonical() {
                out.push(13);
                out.push(u8::from(negative));
                out.extend_from_slice(&coef.to_le_bytes());
                out.extend_from_slice(&exp.to_le_bytes());
            }
        }
        Value::Timestamp { t, i } => {
            out.push(14);
            out.extend_from_slice(&t.to_le_bytes());
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Binary { subtype, bytes } => {
            out.push(15);
            out.push(*subtype);
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::agg::tests_support::parse;

    fn run(op: &str, spec: &str, inputs: &[&str]) -> Value {
        let kind = lookup(op).unwrap_or(Kind::Sum);
        let mut c = Compiler::default();
        let Ok(acc) = AccSpec::compile(op, kind, &parse(spec), &mut c) else {
            return Value::String("compile error".into());
        };
        let mut st = acc.new_state();
        let docs: Vec<Document> = inputs
            .iter()
            .map(|j| match parse(j) {
                Value::Document(d) => d,
                _ => Document::default(),
            })
            .collect();
        for d in &docs {
            let mut env = Env::new(d, &[], 0);
            if acc.add(&mut st, &mut env).is_err() {
                return Value::String("add error".into());
            }
        }
        let empty = Document::default();
        let mut env = Env::new(docs.first().unwrap_or(&empty), &[], 0);
        acc.finish(st, &mut env)
            .unwrap_or(Value::String("finish error".into()))
    }

    #[test]
    fn accumulators_combine_like_mongodb() {
        let d = [
            r#"{"a": 1, "s": "x"}"#,
            r#"{"a": 2.5, "s": "y"}"#,
            r#"{"s": "x"}"#,
        ];
        let cases: &[(&str, &str, &str)] = &[
            ("$sum", r#""$a""#, "3.5"),
            ("$sum", "1", "3"),
            ("$avg", r#""$a""#, "1.75"),
            ("$min", r#""$a""#, "1"),
            ("$max", r#""$s""#, r#""y""#),
            ("$first", r#""$a""#, "1"),
            ("$last", r#""$a""#, "null"),
            ("$push", r#""$a""#, "[1, 2.5]"),
            ("$addToSet", r#""$s""#, r#"["x", "y"]"#),
            ("$count", "{}", "3"),
            ("$top", r#"{"sortBy": {"a": -1}, "output": "$s"}"#, r#""y""#),
            (
                "$bottomN",
                r#"{"n": 2, "sortBy": {"a": -1}, "output": "$s"}"#,
                r#"["x", "x"]"#,
            ),
            ("$maxN", r#"{"input": "$a", "n": 5}"#, "[2.5, 1]"),
            (
                "$median",
                r#"{"input": "$a", "method": "approximate"}"#,
                "1.0",
            ),
        ];
        for (op, spec, want) in cases {
            assert_eq!(run(op, spec, &d), parse(want), "{op} {spec}");
        }
    }

    #[test]
    fn int_sums_widen() {
        let d = [r#"{"a": 2147483647}"#, r#"{"a": 1}"#];
        assert_eq!(run("$sum", r#""$a""#, &d), Value::Int64(2_147_483_648));
    }
}
