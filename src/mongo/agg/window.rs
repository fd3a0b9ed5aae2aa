//! Window stages: `$setWindowFields` (document and range windows, rank functions, `$shift`,
//! `$derivative`, `$integral`, `$expMovingAvg`, `$locf`, `$linearFill` and every
//! accumulator over a window), `$densify` and `$fill`.
//!
//! Windows are computed per document over the partition's sorted rows; a window spanning the
//! whole partition is computed once. That is O(rows × window) for bounded windows, which is
//! what a teaching dataset needs.

use std::borrow::Cow;
use std::collections::HashMap;

use super::accum::{self, encode_key, AccSpec};
use super::expr::{doc_path, is_nullish, server_text, type_name, Compiler, Env, Expr};
use super::ops::{add_numbers, as_f64, as_i64, compare_keys, int_or_long, sort_key_of, sort_spec};
use super::stages::{set_path, Scope, StageOp};
use super::{AggError, Ctx, Row};
use crate::agg_err;
use crate::mongo::value::{compare, Document, FieldHash, Value};

type Rows<'a> = Vec<Row<'a>>;

#[derive(Debug, Clone, Copy)]
enum Bound {
    Unbounded,
    Current,
    Offset(f64),
}

#[derive(Debug, Clone, Copy)]
enum Window {
    Whole,
    Documents(Bound, Bound),
    /// Bounds relative to the current sort value; with a time unit the sort values are dates
    /// and the bounds are whole units added by calendar, as `$dateAdd` adds them.
    Range(Bound, Bound, Option<&'static str>),
}

/// The units a range window takes (all of `$dateAdd`'s).
const WINDOW_UNITS: &[&str] = &[
    "year",
    "quarter",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
];

#[derive(Debug, Clone)]
enum WinOp {
    Acc(AccSpec),
    Rank,
    DenseRank,
    DocumentNumber,
    Shift {
        output: Expr,
        by: i64,
        default: Expr,
    },
    Derivative {
        input: Expr,
        unit: i64,
    },
    Integral {
        input: Expr,
        unit: i64,
    },
    ExpMovingAvg {
        input: Expr,
        alpha: f64,
    },
    Locf(Expr),
    LinearFill(Expr),
}

struct Output {
    path: Vec<String>,
    op: WinOp,
    window: Window,
}

pub struct SetWindowFields {
    partition: Option<Expr>,
    sort: Option<Vec<(Vec<String>, bool)>>,
    outputs: Vec<Output>,
}

fn unit_ms(v: &Value) -> Result<i64, AggError> {
    Ok(match v {
        Value::String(s) => match s.as_str() {
            "week" => 604_800_000,
            "day" => 86_400_000,
            "hour" => 3_600_000,
            "minute" => 60_000,
            "second" => 1000,
            "millisecond" => 1,
            other => {
                return Err(agg_err!(
                    5490701,
                    "unknown time unit value: {other} (month, quarter and year windows are not supported in this sandbox)"
                ))
            }
        },
        other => {
            return Err(agg_err!(
                5490702,
                "'unit' must be a string, found {}",
                type_name(other)
            ))
        }
    })
}

fn bound(v: &Value) -> Result<Bound, AggError> {
    Ok(match v {
        Value::String(s) if s == "unbounded" => Bound::Unbounded,
        Value::String(s) if s == "current" => Bound::Current,
        v => match as_f64(v) {
            Some(x) => Bound::Offset(x),
            None => {
                return Err(failed(format!(
                    "Window bounds must be 'unbounded', 'current', or a number: {}",
                    server_text(v)
                )))
            }
        },
    })
}

fn failed(m: String) -> AggError {
    super::failed_to_parse(m)
}

fn pair(v: &Value, what: &str) -> Result<(Bound, Bound), AggError> {
    match v {
        Value::Array(items) if items.len() == 2 => {
            let lo = bound(items.first().unwrap_or(&Value::Null))?;
            let hi = bound(items.get(1).unwrap_or(&Value::Null))?;
            Ok((lo, hi))
        }
        _ => Err(failed(format!(
            "Window bounds must be a 2-element array: {what}: {}",
            server_text(v)
        ))),
    }
}

fn parse_window(v: Option<&Value>) -> Result<Option<Window>, AggError> {
    let Some(v) = v else { return Ok(None) };
    let Value::Document(d) = v else {
        return Err(failed("'window' field must be an object".into()));
    };
    let unit = match d.get("unit") {
        Some(Value::String(s)) => Some(
            WINDOW_UNITS
                .iter()
                .find(|u| *u == s)
                .copied()
                .ok_or_else(|| agg_err!(5490701, "unknown time unit value: {s}"))?,
        ),
        Some(other) => {
            return Err(agg_err!(
                5490702,
                "'unit' must be a string, found {}",
                type_name(other)
            ))
        }
        None => None,
    };
    match (d.get("documents"), d.get("range")) {
        (Some(_), None) if unit.is_some() => Err(failed(
            "Window bounds can only specify 'unit' with range-based bounds.".into(),
        )),
        (Some(b), None) => {
            let (lo, hi) = pair(b, "documents")?;
            Ok(Some(Window::Documents(lo, hi)))
        }
        (None, Some(b)) => {
            let (lo, hi) = pair(b, "range")?;
            let fractional = |b: Bound| matches!(b, Bound::Offset(x) if x.fract() != 0.0);
            if unit.is_some() && (fractional(lo) || fractional(hi)) {
                return Err(failed(
                    "With 'unit', range-based bounds must be an integer".into(),
                ));
            }
            Ok(Some(Window::Range(lo, hi, unit)))
        }
        _ => Err(failed(
            "'window' field can only specify one of 'documents' or 'range'".into(),
        )),
    }
}

pub fn compile_set_window_fields(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let Value::Document(spec) = arg else {
        return Err(failed("$setWindowFields must be an object".into()));
    };
    let mut c = sc.compiler();
    let mut partition = None;
    let mut sort = None;
    let mut outputs = Vec::new();
    for (k, v) in spec {
        match k.as_str() {
            "partitionBy" => partition = Some(c.compile(v)?),
            "sortBy" => {
                let Value::Document(s) = v else {
                    return Err(failed("sortBy must be an object".into()));
                };
                sort = Some(sort_spec(s)?);
            }
            "output" => {
                let Value::Document(o) = v else {
                    return Err(failed("output must be an object".into()));
                };
                for (field, f) in o {
                    outputs.push(compile_output(field, f, &mut c, sort.is_some())?);
                }
            }
            other => {
                return Err(failed(format!(
                    "BSON field '$setWindowFields.{other}' is an unknown field."
                )))
            }
        }
    }
    if outputs.is_empty() && !spec.contains_key("output") {
        return Err(failed(
            "BSON field '$setWindowFields.output' is missing but a required field".into(),
        ));
    }
    let needs_sort = outputs.iter().any(|o| {
        matches!(
            o.op,
            WinOp::Rank
                | WinOp::DenseRank
                | WinOp::DocumentNumber
                | WinOp::Shift { .. }
                | WinOp::Derivative { .. }
                | WinOp::Integral { .. }
                | WinOp::ExpMovingAvg { .. }
                | WinOp::LinearFill(_)
                | WinOp::Locf(_)
        ) || matches!(o.window, Window::Range(..))
    });
    if needs_sort && sort.is_none() {
        return Err(agg_err!(
            5339902,
            "Window functions that depend on document order, rank functions and range windows require a sortBy"
        ));
    }
    Ok(Box::new(SetWindowFields {
        partition,
        sort,
        outputs,
    }))
}

fn compile_output(
    field: &str,
    f: &Value,
    c: &mut Compiler,
    _sorted: bool,
) -> Result<Output, AggError> {
    let Value::Document(d) = f else {
        return Err(failed(format!("The field '{field}' must be an object")));
    };
    let window = parse_window(d.get("window"))?;
    let mut ops = d.iter().filter(|(k, _)| k.as_str() != "window");
    let Some((name, arg)) = ops.next() else {
        return Err(failed(format!(
            "Expected a window function in the output field '{field}'"
        )));
    };
    if ops.next().is_some() {
        return Err(failed(format!(
            "Window function found an unknown argument in '{field}'"
        )));
    }
    let named = |k: &str| -> Option<&Value> {
        match arg {
            Value::Document(a) => a.get(k),
            _ => None,
        }
    };
    let op = match name.as_str() {
        "$rank" => WinOp::Rank,
        "$denseRank" => WinOp::DenseRank,
        "$documentNumber" => WinOp::DocumentNumber,
        "$shift" => WinOp::Shift {
            output: c.compile(named("output").unwrap_or(&Value::Null))?,
            by: named("by").and_then(as_i64).ok_or_else(|| {
                failed("'$shift:by' field must be an integer, but found by: missing".into())
            })?,
            default: c.compile(named("default").unwrap_or(&Value::Null))?,
        },
        "$derivative" | "$integral" => {
            let input = c.compile(named("input").unwrap_or(&Value::Null))?;
            let unit = match named("unit") {
                Some(u) => unit_ms(u)?,
                None => 1,
            };
            if name == "$derivative" {
                WinOp::Derivative { input, unit }
            } else {
                WinOp::Integral { input, unit }
            }
        }
        "$expMovingAvg" => {
            let input = c.compile(named("input").unwrap_or(&Value::Null))?;
            let alpha = match (named("N").and_then(as_i64), named("alpha").and_then(as_f64)) {
                (Some(n), None) if n > 0 => 2.0 / (n as f64 + 1.0),
                (None, Some(a)) if a > 0.0 && a < 1.0 => a,
                _ => {
                    return Err(failed(
                        "$expMovingAvg requires exactly one of 'N' (a positive integer) or 'alpha' (between 0 and 1)".into(),
                    ))
                }
            };
            WinOp::ExpMovingAvg { input, alpha }
        }
        "$locf" => WinOp::Locf(c.compile(arg)?),
        "$linearFill" => WinOp::LinearFill(c.compile(arg)?),
        other => match accum::lookup(other) {
            Some(kind) => WinOp::Acc(AccSpec::compile(other, kind, arg, c)?),
            None => return Err(failed(format!("Unrecognized window function, {other}"))),
        },
    };
    Ok(Output {
        path: field.split('.').map(str::to_string).collect(),
        op,
        window: window.unwrap_or(Window::Whole),
    })
}

/// Rows split into partitions (by an expression or by fields), each partition sorted.
fn partitions<'a>(
    rows: Rows<'a>,
    ctx: &Ctx<'a>,
    key_of: &dyn Fn(&Document, &Ctx<'a>) -> Result<Value, AggError>,
    sort: Option<&[(Vec<String>, bool)]>,
) -> Result<Vec<(Value, Rows<'a>)>, AggError> {
    let mut index: HashMap<Vec<u8>, usize, FieldHash> = HashMap::default();
    let mut parts: Vec<(Value, Rows<'a>)> = Vec::new();
    let mut buf = Vec::new();
    for r in rows {
        let key = key_of(&r, ctx)?;
        buf.clear();
        encode_key(&key, &mut buf);
        let i = match index.get(buf.as_slice()) {
            Some(i) => *i,
            None => {
                index.insert(buf.clone(), parts.len());
                parts.push((key, Vec::new()));
                parts.len() - 1
            }
        };
        if let Some(p) = parts.get_mut(i) {
            p.1.push(r);
        }
    }
    crate::sort::sort_by(&mut parts, |a, b| compare(&a.0, &b.0));
    if let Some(keys) = sort {
        for p in parts.iter_mut() {
            let rows = std::mem::take(&mut p.1);
            p.1 = super::stages::sort_rows(rows, keys);
        }
    }
    Ok(parts)
}

fn env<'e>(doc: &'e Document, ctx: &'e Ctx<'_>) -> Env<'e> {
    Env::new(doc, &ctx.vars, ctx.now_ms)
}

fn numeric_x(v: &Value) -> Option<f64> {
    match v {
        Value::Date(ms) => Some(*ms as f64),
        other => as_f64(other),
    }
}

impl SetWindowFields {
    fn window_range(&self, w: Window, i: usize, xs: &[Option<f64>]) -> (usize, usize) {
        let n = xs.len();
        match w {
            Window::Whole => (0, n),
            Window::Documents(lo, hi) => {
                let at = |b: Bound, is_lo: bool| -> i64 {
                    match b {
                        Bound::Unbounded => {
                            if is_lo {
                                0
                            } else {
                                n as i64
                            }
                        }
                        Bound::Current => i as i64 + i64::from(!is_lo),
                        Bound::Offset(x) => (i as i64)
                            .saturating_add(x as i64)
                            .saturating_add(i64::from(!is_lo)),
                    }
                };
                let a = at(lo, true).clamp(0, n as i64) as usize;
                let b = at(hi, false).clamp(0, n as i64) as usize;
                (a, b.max(a))
            }
            Window::Range(lo, hi, unit) => {
                let Some(x) = xs.get(i).copied().flatten() else {
                    return (i, i);
                };
                let limit = |b: Bound, is_lo: bool| match b {
                    Bound::Unbounded => {
                        if is_lo {
                            f64::NEG_INFINITY
                        } else {
                            f64::INFINITY
                        }
                    }
                    Bound::Current => x,
                    Bound::Offset(o) => match unit {
                        // A bound beyond the dates a date can hold bounds nothing.
                        Some(u) => super::date::add_in_utc(x as i64, u, o as i64).map_or(
                            if o < 0.0 {
                                f64::NEG_INFINITY
                            } else {
                                f64::INFINITY
                            },
                            |ms| ms as f64,
                        ),
                        None => x + o,
                    },
                };
                let (l, h) = (limit(lo, true), limit(hi, false));
                let a = xs
                    .iter()
                    .position(|v| v.is_some_and(|v| v >= l))
                    .unwrap_or(n);
                let b = xs
                    .iter()
                    .rposition(|v| v.is_some_and(|v| v <= h))
                    .map_or(0, |p| p + 1);
                (a, b.max(a))
            }
        }
    }

    fn compute<'a>(
        &self,
        out: &Output,
        rows: &Rows<'a>,
        ctx: &Ctx<'a>,
    ) -> Result<Vec<Value>, AggError> {
        let n = rows.len();
        let keys = self.sort.as_deref().unwrap_or(&[]);
        let sort_keys: Vec<Vec<Value>> = rows
            .iter()
            .map(|r| keys.iter().map(|(p, d)| sort_key_of(r, p, *d)).collect())
            .collect();
        if let Window::Range(_, _, unit) = out.window {
            for v in sort_keys.iter().filter_map(|k| k.first()) {
                let is_date = matches!(v, Value::Date(_));
                if unit.is_some() && !is_date {
                    return Err(agg_err!(
                        5429513,
                        "Invalid range: Expected the sortBy field to be a Date, but it was {}",
                        type_name(v)
                    ));
                }
                if unit.is_none() && is_date {
                    return Err(agg_err!(
                        5429413,
                        "Invalid range: For windows that involve date or time ranges, a unit must be provided."
                    ));
                }
            }
        }
        let xs: Vec<Option<f64>> = sort_keys
            .iter()
            .map(|k| k.first().and_then(numeric_x))
            .collect();
        let mut res = Vec::with_capacity(n);
        match &out.op {
            WinOp::Acc(acc) => {
                let mut whole: Option<Value> = None;
                for i in 0..n {
                    if matches!(out.window, Window::Whole) {
                        if let Some(v) = &whole {
                            res.push(v.clone());
                            continue;
                        }
                    }
                    let (a, b) = self.window_range(out.window, i, &xs);
                    let mut st = acc.new_state();
                    for r in rows.get(a..b).unwrap_or_default() {
                        acc.add(&mut st, &mut env(r, ctx))?;
                    }
                    let Some(cur) = rows.get(i) else { break };
                    let v = if a == b
                        && matches!(
                            acc.kind,
                            accum::Kind::Avg | accum::Kind::Min | accum::Kind::Max
                        ) {
                        Value::Null
                    } else {
                        acc.finish(st, &mut env(cur, ctx))?
                    };
                    if matches!(out.window, Window::Whole) {
                        whole = Some(v.clone());
                    }
                    res.push(v);
                }
            }
            WinOp::Rank | WinOp::DenseRank | WinOp::DocumentNumber => {
                let (mut rank, mut dense) = (0usize, 0usize);
                for i in 0..n {
                    let new_value = i == 0
                        || compare_keys(
                            sort_keys.get(i).map_or(&[][..], |v| v.as_slice()),
                            sort_keys.get(i - 1).map_or(&[][..], |v| v.as_slice()),
                            keys,
                        ) != std::cmp::Ordering::Equal;
                    if new_value {
                        rank = i + 1;
                        dense += 1;
                    }
                    res.push(int_or_long(match out.op {
                        WinOp::Rank => rank,
                        WinOp::DenseRank => dense,
                        _ => i + 1,
                    } as i64));
                }
            }
            WinOp::Shift {
                output,
                by,
                default,
            } => {
                for i in 0..n {
                    let j = (i as i64).saturating_add(*by);
                    let v = match usize::try_from(j).ok().and_then(|j| rows.get(j)) {
                        Some(r) => output.eval(&mut env(r, ctx))?,
                        None => match rows.get(i) {
                            Some(r) => default.eval(&mut env(r, ctx))?,
                            None => Value::Null,
                        },
                    };
                    res.push(if matches!(v, Value::Undefined) {
                        Value::Null
                    } else {
                        v
                    });
                }
            }
            WinOp::Derivative { input, unit } | WinOp::Integral { input, unit } => {
                let ys: Vec<Option<f64>> = rows
                    .iter()
                    .map(|r| input.eval(&mut env(r, ctx)).map(|v| numeric_x(&v)))
                    .collect::<Result<_, _>>()?;
                let is_derivative = matches!(out.op, WinOp::Derivative { .. });
                for i in 0..n {
                    let (a, b) = self.window_range(out.window, i, &xs);
                    // Differences of raw milliseconds, divided by the unit afterwards:
                    // dividing epoch milliseconds first would lose most of the digits.
                    let pts: Vec<(f64, f64)> = (a..b)
                        .filter_map(|k| {
                            Some((xs.get(k).copied().flatten()?, ys.get(k).copied().flatten()?))
                        })
                        .collect();
                    let unit = *unit as f64;
                    let v = if is_derivative {
                        match (pts.first(), pts.last()) {
                            (Some(p), Some(q)) if pts.len() >= 2 && q.0 != p.0 => {
                                Value::Double((q.1 - p.1) / ((q.0 - p.0) / unit))
                            }
                            _ => Value::Null,
                        }
                    } else if pts.is_empty() {
                        Value::Null
                    } else {
                        let mut s = 0.0;
                        for w in pts.windows(2) {
                            if let [p, q] = w {
                                s += (q.0 - p.0) / unit * (p.1 + q.1) / 2.0;
                            }
                        }
                        Value::Double(s)
                    };
                    res.push(v);
                }
            }
            WinOp::ExpMovingAvg { input, alpha } => {
                let mut ema: Option<f64> = None;
                for r in rows {
                    let v = input.eval(&mut env(r, ctx))?;
                    match as_f64(&v) {
                        Some(y) => {
                            let e = match ema {
                                None => y,
                                Some(prev) => y * alpha + prev * (1.0 - alpha),
                            };
                            ema = Some(e);
                            res.push(Value::Double(e));
                        }
                        None => res.push(Value::Null),
                    }
                }
            }
            WinOp::Locf(input) => {
                let mut last = Value::Null;
                for r in rows {
                    let v = input.eval(&mut env(r, ctx))?;
                    if !is_nullish(&v) {
                        last = v;
                    }
                    res.push(last.clone());
                }
            }
            WinOp::LinearFill(input) => {
                let ys: Vec<Value> = rows
                    .iter()
                    .map(|r| input.eval(&mut env(r, ctx)))
                    .collect::<Result<_, _>>()?;
                res = linear_fill(&ys, &xs);
            }
        }
        Ok(res)
    }
}

fn linear_fill(ys: &[Value], xs: &[Option<f64>]) -> Vec<Value> {
    let mut out: Vec<Value> = ys
        .iter()
        .map(|v| {
            if matches!(v, Value::Undefined) {
                Value::Null
            } else {
                v.clone()
            }
        })
        .collect();
    let known: Vec<usize> = (0..ys.len())
        .filter(|i| ys.get(*i).is_some_and(|v| as_f64(v).is_some()))
        .collect();
    for w in known.windows(2) {
        let [a, b] = w else { continue };
        let (Some(Some(xa)), Some(Some(xb))) = (xs.get(*a), xs.get(*b)) else {
            continue;
        };
        let (Some(ya), Some(yb)) = (ys.get(*a).and_then(as_f64), ys.get(*b).and_then(as_f64))
        else {
            continue;
        };
        for k in a + 1..*b {
            if let (Some(Some(x)), Some(slot)) = (xs.get(k), out.get_mut(k)) {
                if xb != xa {
                    *slot = Value::Double(ya + (x - xa) * (yb - ya) / (xb - xa));
                }
            }
        }
    }
    out
}

impl StageOp for SetWindowFields {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Result<Rows<'a>, AggError> {
        let key_of = |d: &Document, ctx: &Ctx<'a>| -> Result<Value, AggError> {
            match &self.partition {
                Some(p) => p.eval(&mut env(d, ctx)),
                None => Ok(Value::Null),
            }
        };
        let parts = partitions(rows, ctx, &key_of, self.sort.as_deref())?;
        let mut out = Vec::new();
        for (_, rows) in parts {
            let mut columns = Vec::with_capacity(self.outputs.len());
            for o in &self.outputs {
                columns.push(self.compute(o, &rows, ctx)?);
            }
            for (i, r) in rows.into_iter().enumerate() {
                let mut d = r.into_owned();
                for (o, col) in self.outputs.iter().zip(columns.iter()) {
                    if let Some(v) = col.get(i) {
                        set_path(&mut d, &o.path, v.clone());
                    }
                }
                out.push(Cow::Owned(d));
            }
        }
        Ok(out)
    }
}

// ---- $densify

/// `internalQueryMaxAllowedDensifyDocs`: documents one `$densify` may generate, over all its
/// partitions, before the server stops it.
const MAX_DENSIFY_DOCS: usize = 500_000;

struct Densify {
    field: Vec<String>,
    partition_fields: Vec<Vec<String>>,
    step: Value,
    unit: Option<String>,
    bounds: DensifyBounds,
}

enum DensifyBounds {
    Full,
    Partition,
    Explicit(Value, Value),
}

pub fn compile_densify(arg: &Value, _: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let Value::Document(spec) = arg else {
        return Err(failed("$densify must be an object".into()));
    };
    let field = match spec.get("field") {
        Some(Value::String(s)) => s.split('.').map(str::to_string).collect(),
        _ => {
            return Err(failed(
                "BSON field '$densify.field' is missing but a required field".into(),
            ))
        }
    };
    let partition_fields = match spec.get("partitionByFields") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.split('.').map(str::to_string).collect()),
                _ => None,
            })
            .collect(),
        Some(_) => {
            return Err(failed(
                "'partitionByFields' must be an array of strings".into(),
            ))
        }
    };
    let Some(Value::Document(range)) = spec.get("range") else {
        return Err(failed(
            "BSON field '$densify.range' is missing but a required field".into(),
        ));
    };
    let step = range.get("step").cloned().unwrap_or(Value::Null);
    if !as_f64(&step).is_some_and(|s| s > 0.0) {
        return Err(agg_err!(
            5733401,
            "the step parameter in a range statement must be a strictly positive numeric value"
        ));
    }
    let unit = match range.get("unit") {
        Some(Value::String(u)) => Some(u.clone()),
        _ => None,
    };
    let bounds = match range.get("bounds") {
        Some(Value::String(s)) if s == "full" => DensifyBounds::Full,
        Some(Value::String(s)) if s == "partition" => DensifyBounds::Partition,
        Some(Value::Array(b)) if b.len() == 2 => DensifyBounds::Explicit(
            b.first().cloned().unwrap_or(Value::Null),
            b.get(1).cloned().unwrap_or(Value::Null),
        ),
        _ => {
            return Err(agg_err!(
                5946800,
                "Bounds string must either be 'full' or 'partition', or an array of two values"
            ))
        }
    };
    Ok(Box::new(Densify {
        field,
        partition_fields,
        step,
        unit,
        bounds,
    }))
}

impl Densify {
    fn next(&self, v: &Value) -> Option<Value> {
        match (v, &self.unit) {
            (Value::Date(ms), Some(unit)) => {
                let amount = as_i64(&self.step)?;
                super::date::add_in_utc(*ms, unit, amount).map(Value::Date)
            }
            (n, None) if n.is_number() => Some(add_numbers(n, &self.step)),
            _ => None,
        }
    }
}

impl StageOp for Densify {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Result<Rows<'a>, AggError> {
        let key_of = |d: &Document, _: &Ctx<'a>| -> Result<Value, AggError> {
            Ok(Value::Array(
                self.partition_fields
                    .iter()
                    .map(|p| doc_path(d, p))
                    .collect(),
            ))
        };
        let sort = vec![(self.field.clone(), false)];
        let (global_lo, global_hi) = {
            let vals: Vec<Value> = rows
                .iter()
                .map(|r| doc_path(r, &self.field))
                .filter(|v| !is_nullish(v))
                .collect();
            (
                vals.iter().min_by(|a, b| compare(a, b)).cloned(),
                vals.iter().max_by(|a, b| compare(a, b)).cloned(),
            )
        };
        let parts = partitions(rows, ctx, &key_of, Some(&sort))?;
        let mut out: Rows<'a> = Vec::new();
        let mut generated_total = 0usize;
        for (key, rows) in parts {
            let present: Vec<Value> = rows
                .iter()
                .map(|r| doc_path(r, &self.field))
                .filter(|v| !is_nullish(v))
                .collect();
            let (lo, hi, inclusive) = match &self.bounds {
                DensifyBounds::Full => (global_lo.clone(), global_hi.clone(), true),
                DensifyBounds::Partition => {
                    (present.first().cloned(), present.last().cloned(), true)
                }
                DensifyBounds::Explicit(a, b) => (Some(a.clone()), Some(b.clone()), false),
            };
            let mut generated = Vec::new();
            if let (Some(lo), Some(hi)) = (lo, hi) {
                let mut v = lo;
                while compare(&v, &hi).is_lt() || (inclusive && compare(&v, &hi).is_eq()) {
                    if !present.iter().any(|p| compare(p, &v).is_eq()) {
                        generated_total += 1;
                        if generated_total > MAX_DENSIFY_DOCS {
                            return Err(agg_err!(
                                5897900,
                                "PlanExecutor error during aggregation :: caused by :: Generated {generated_total} documents in $densify, which is over the limit of {MAX_DENSIFY_DOCS}. Increase the 'internalQueryMaxAllowedDensifyDocs' parameter to allow more generated documents"
                            ));
                        }
                        generated.push(v.clone());
                    }
                    // A step lost to rounding (1e-300 after 1e18) would never reach the
                    // bound: every value is visited once, so the loop ends.
                    match self.next(&v) {
                        Some(n) if compare(&n, &v).is_gt() => v = n,
                        _ => break,
                    }
                }
            }
            let Value::Array(key_vals) = key else {
                continue;
            };
            let mut merged: Vec<(Value, Row<'a>)> = rows
                .into_iter()
                .map(|r| (doc_path(&r, &self.field), r))
                .collect();
            for g in generated {
                let mut d = Document::default();
                set_path(&mut d, &self.field, g.clone());
                for (p, v) in self.partition_fields.iter().zip(key_vals.iter()) {
                    if !matches!(v, Value::Undefined) {
                        set_path(&mut d, p, v.clone());
                    }
                }
                merged.push((g, Cow::Owned(d)));
            }
            crate::sort::sort_by(&mut merged, |a, b| compare(&a.0, &b.0));
            out.extend(merged.into_iter().map(|(_, r)| r));
        }
        Ok(out)
    }
}

// ---- $fill

enum FillMethod {
    Value(Expr),
    Locf,
    Linear,
}

struct Fill {
    partition: Option<Expr>,
    partition_fields: Vec<Vec<String>>,
    sort: Option<Vec<(Vec<String>, bool)>>,
    outputs: Vec<(Vec<String>, FillMethod)>,
}

pub fn compile_fill(arg: &Value, sc: &Scope) -> Result<Box<dyn StageOp>, AggError> {
    let Value::Document(spec) = arg else {
        return Err(failed("$fill must be an object".into()));
    };
    let mut c = sc.compiler();
    let mut fill = Fill {
        partition: None,
        partition_fields: Vec::new(),
        sort: None,
        outputs: Vec::new(),
    };
    for (k, v) in spec {
        match (k.as_str(), v) {
            ("partitionBy", v) => fill.partition = Some(c.compile(v)?),
            ("partitionByFields", Value::Array(items)) => {
                fill.partition_fields = items
                    .iter()
                    .filter_map(|i| match i {
                        Value::String(s) => Some(s.split('.').map(str::to_string).collect()),
                        _ => None,
                    })
                    .collect()
            }
            ("sortBy", Value::Document(s)) => fill.sort = Some(sort_spec(s)?),
            ("output", Value::Document(o)) => {
                for (field, f) in o {
                    let Value::Document(fd) = f else {
                        return Err(failed(format!("$fill output '{field}' must be an object")));
                    };
                    let m = match (fd.get("value"), fd.get("method")) {
                        (Some(v), None) => FillMethod::Value(c.compile(v)?),
                        (None, Some(Value::String(m))) if m == "locf" => FillMethod::Locf,
                        (None, Some(Value::String(m))) if m == "linear" => FillMethod::Linear,
                        _ => {
                            return Err(agg_err!(
                                6050201,
                                "Exactly one of 'value' and 'method' must be specified; 'method' must be 'locf' or 'linear'"
                            ))
                        }
                    };
                    fill.outputs
                        .push((field.split('.').map(str::to_string).collect(), m));
                }
            }
            (other, _) => {
                return Err(failed(format!(
                    "BSON field '$fill.{other}' is an unknown field or has the wrong type."
                )))
            }
        }
    }
    let needs_sort = fill
        .outputs
        .iter()
        .any(|(_, m)| !matches!(m, FillMethod::Value(_)));
    if needs_sort && fill.sort.is_none() {
        return Err(agg_err!(
            6050202,
            "$fill with method 'locf' or 'linear' requires a sortBy field"
        ));
    }
    Ok(Box::new(fill))
}

impl StageOp for Fill {
    fn run<'a>(&self, rows: Rows<'a>, ctx: &Ctx<'a>) -> Result<Rows<'a>, AggError> {
        let key_of = |d: &Document, ctx: &Ctx<'a>| -> Result<Value, AggError> {
            if let Some(p) = &self.partition {
                return p.eval(&mut env(d, ctx));
            }
            Ok(Value::Array(
                self.partition_fields
                    .iter()
                    .map(|p| doc_path(d, p))
                    .collect(),
            ))
        };
        let parts =
            if self.sort.is_some() || self.partition.is_some() || !self.partition_fields.is_empty()
            {
                partitions(rows, ctx, &key_of, self.sort.as_deref())?
            } else {
                vec![(Value::Null, rows)]
            };
        let mut out = Vec::new();
        for (_, rows) in parts {
            let xs: Vec<Option<f64>> = rows
                .iter()
                .map(|r| {
                    self.sort
                        .as_ref()
                        .and_then(|k| k.first())
                        .and_then(|(p, _)| numeric_x(&doc_path(r, p)))
                })
                .collect();
            let mut columns = Vec::with_capacity(self.outputs.len());
            for (path, m) in &self.outputs {
                let current: Vec<Value> = rows.iter().map(|r| doc_path(r, path)).collect();
                let col: Vec<Option<Value>> = match m {
                    FillMethod::Value(e) => rows
                        .iter()
                        .zip(current.iter())
                        .map(|(r, v)| {
                            if is_nullish(v) {
                                e.eval(&mut env(r, ctx)).map(Some)
                            } else {
                                Ok(None)
                            }
                        })
                        .collect::<Result<_, _>>()?,
                    FillMethod::Locf => {
                        let mut last: Option<Value> = None;
                        current
                            .iter()
                            .map(|v| {
                                if is_nullish(v) {
                                    last.clone()
                                } else {
                                    last = Some(v.clone());
                                    None
                                }
                            })
                            .collect()
                    }
                    FillMethod::Linear => linear_fill(&current, &xs)
                        .into_iter()
                        .zip(current.iter())
                        .map(|(f, v)| {
                            if is_nullish(v) && !is_nullish(&f) {
                                Some(f)
                            } else {
                                None
                            }
                        })
                        .collect(),
                };
                columns.push(col);
            }
            for (i, r) in rows.into_iter().enumerate() {
                let changes: Vec<(&Vec<String>, Value)> = self
                    .outputs
                    .iter()
                    .zip(columns.iter())
                    .filter_map(|((p, _), col)| col.get(i).cloned().flatten().map(|v| (p, v)))
                    .collect();
                if changes.is_empty() {
                    out.push(r);
                } else {
                    let mut d = r.into_owned();
                    for (p, v) in changes {
                        set_path(&mut d, p, v);
                    }
                    out.push(Cow::Owned(d));
                }
            }
        }
        Ok(out)
    }
}
