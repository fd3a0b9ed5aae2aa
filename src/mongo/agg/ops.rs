//! Expression operators whose arguments are evaluated before they run: one function per
//! operator, registered in `OPERATORS` with its arity. Operators that decide which
//! arguments to evaluate (`$cond`, `$and`, `$map`, …) live in `expr.rs`.

use std::cmp::Ordering;

use super::date;
use super::expr::{is_nullish, server_text, truthy, type_name, Env};
use super::AggError;
use crate::mongo::decimal::Rounding;
use crate::mongo::query::cursor::element_at_path;
use crate::mongo::query::regex::Regex;
use crate::mongo::value::{compare, values_equal, Decimal128, Document, ObjectId, Value};

pub type OpFn = fn(Vec<Value>, &Env<'_>) -> Result<Value, AggError>;

#[derive(Debug, Clone, Copy)]
pub enum Arity {
    Exact(usize),
    Range(usize, usize),
    AtLeast(usize),
    Any,
    /// An object of named arguments: (all names in argument order, required names).
    Named(&'static [&'static str], &'static [&'static str]),
    /// A date, `[date]` or `{date, timezone}`: arguments are (date, timezone).
    DateParts,
}

pub struct OpDef {
    pub name: &'static str,
    pub arity: Arity,
    pub f: OpFn,
}

impl std::fmt::Debug for OpDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

macro_rules! op {
    ($name:literal, $arity:expr, $f:expr) => {
        OpDef {
            name: $name,
            arity: $arity,
            f: $f,
        }
    };
}

use Arity::*;

pub static OPERATORS: &[OpDef] = &[
    // arithmetic
    op!("$add", Any, add),
    op!("$subtract", Exact(2), subtract),
    op!("$multiply", Any, multiply),
    op!("$divide", Exact(2), divide),
    op!("$mod", Exact(2), modulo),
    op!("$abs", Exact(1), abs),
    op!("$ceil", Exact(1), ceil),
    op!("$floor", Exact(1), floor),
    op!("$round", Range(1, 2), round),
    op!("$trunc", Range(1, 2), trunc),
    op!("$exp", Exact(1), exp),
    op!("$ln", Exact(1), ln),
    op!("$log", Exact(2), log),
    op!("$log10", Exact(1), log10),
    op!("$pow", Exact(2), pow),
    op!("$sqrt", Exact(1), sqrt),
    // trigonometry
    op!("$sin", Exact(1), sin),
    op!("$cos", Exact(1), cos),
    op!("$tan", Exact(1), tan),
    op!("$asin", Exact(1), asin),
    op!("$acos", Exact(1), acos),
    op!("$atan", Exact(1), atan),
    op!("$atan2", Exact(2), atan2),
    op!("$sinh", Exact(1), sinh),
    op!("$cosh", Exact(1), cosh),
    op!("$tanh", Exact(1), tanh),
    op!("$asinh", Exact(1), asinh),
    op!("$acosh", Exact(1), acosh),
    op!("$atanh", Exact(1), atanh),
    op!("$degreesToRadians", Exact(1), degrees_to_radians),
    op!("$radiansToDegrees", Exact(1), radians_to_degrees),
    // array
    op!("$arrayElemAt", Exact(2), array_elem_at),
    op!("$first", Exact(1), first),
    op!("$last", Exact(1), last),
    op!("$slice", Range(2, 3), slice),
    op!("$concatArrays", Any, concat_arrays),
    op!("$in", Exact(2), in_array),
    op!("$indexOfArray", Range(2, 4), index_of_array),
    op!("$isArray", Exact(1), is_array),
    op!("$range", Range(2, 3), range),
    op!("$reverseArray", Exact(1), reverse_array),
    op!("$size", Exact(1), size),
    op!(
        "$zip",
        Named(&["inputs", "useLongestLength", "defaults"], &["inputs"]),
        zip
    ),
    op!(
        "$sortArray",
        Named(&["input", "sortBy"], &["input", "sortBy"]),
        sort_array
    ),
    op!("$setUnion", Any, set_union),
    op!("$setIntersection", Any, set_intersection),
    op!("$setDifference", Exact(2), set_difference),
    op!("$setEquals", AtLeast(2), set_equals),
    op!("$setIsSubset", Exact(2), set_is_subset),
    op!("$anyElementTrue", Exact(1), any_element_true),
    op!("$allElementsTrue", Exact(1), all_elements_true),
    op!("$maxN", Named(&["input", "n"], &["input", "n"]), max_n),
    op!("$minN", Named(&["input", "n"], &["input", "n"]), min_n),
    op!("$firstN", Named(&["input", "n"], &["input", "n"]), first_n),
    op!("$lastN", Named(&["input", "n"], &["input", "n"]), last_n),
    // boolean and comparison
    op!("$not", Exact(1), not),
    op!("$cmp", Exact(2), cmp),
    op!("$eq", Exact(2), eq),
    op!("$ne", Exact(2), ne),
    op!("$gt", Exact(2), gt),
    op!("$gte", Exact(2), gte),
    op!("$lt", Exact(2), lt),
    op!("$lte", Exact(2), lte),
    // accumulator operators used as expressions over their arguments
    op!("$sum", Any, sum_expr),
    op!("$avg", Any, avg_expr),
    op!("$max", Any, max_expr),
    op!("$min", Any, min_expr),
    op!("$stdDevPop", Any, std_dev_pop_expr),
    op!("$stdDevSamp", Any, std_dev_samp_expr),
    op!(
        "$median",
        Named(&["input", "method"], &["input", "method"]),
        median_expr
    ),
    op!(
        "$percentile",
        Named(&["input", "p", "method"], &["input", "p", "method"]),
        percentile_expr
    ),
    // string
    op!("$concat", Any, concat),
    op!("$substr", Exact(3), substr_bytes),
    op!("$substrBytes", Exact(3), substr_bytes),
    op!("$substrCP", Exact(3), substr_cp),
    op!("$split", Exact(2), split),
    op!("$toUpper", Exact(1), to_upper),
    op!("$toLower", Exact(1), to_lower),
    op!("$trim", Named(&["input", "chars"], &["input"]), trim),
    op!("$ltrim", Named(&["input", "chars"], &["input"]), ltrim),
    op!("$rtrim", Named(&["input", "chars"], &["input"]), rtrim),
    op!("$strLenCP", Exact(1), str_len_cp),
    op!("$strLenBytes", Exact(1), str_len_bytes),
    op!("$strcasecmp", Exact(2), strcasecmp),
    op!("$indexOfCP", Range(2, 4), index_of_cp),
    op!("$indexOfBytes", Range(2, 4), index_of_bytes),
    op!(
        "$regexMatch",
        Named(&["input", "regex", "options"], &["input", "regex"]),
        regex_match
    ),
    op!(
        "$regexFind",
        Named(&["input", "regex", "options"], &["input", "regex"]),
        regex_find
    ),
    op!(
        "$regexFindAll",
        Named(&["input", "regex", "options"], &["input", "regex"]),
        regex_find_all
    ),
    op!(
        "$replaceOne",
        Named(
            &["input", "find", "replacement"],
            &["input", "find", "replacement"]
        ),
        replace_one
    ),
    op!(
        "$replaceAll",
        Named(
            &["input", "find", "replacement"],
            &["input", "find", "replacement"]
        ),
        replace_all
    ),
    // type
    op!("$type", Exact(1), type_of),
    op!("$isNumber", Exact(1), is_number),
    op!(
        "$convert",
        Named(&["input", "to", "onError", "onNull"], &["input", "to"]),
        convert
    ),
    op!("$toInt", Exact(1), to_int),
    op!("$toLong", Exact(1), to_long),
    op!("$toDouble", Exact(1), to_double),
    op!("$toDecimal", Exact(1), to_decimal),
    op!("$toString", Exact(1), to_string),
    op!("$toBool", Exact(1), to_bool),
    op!("$toObjectId", Exact(1), to_object_id),
    op!("$toDate", Exact(1), to_date),
    // object
    op!("$mergeObjects", Any, merge_objects),
    op!("$getField", Any, get_field),
    op!(
        "$setField",
        Named(&["field", "input", "value"], &["field", "input", "value"]),
        set_field
    ),
    op!(
        "$unsetField",
        Named(&["field", "input"], &["field", "input"]),
        unset_field
    ),
    op!("$objectToArray", Exact(1), object_to_array),
    op!("$arrayToObject", Exact(1), array_to_object),
    // date
    op!("$year", DateParts, date::year),
    op!("$month", DateParts, date::month),
    op!("$dayOfMonth", DateParts, date::day_of_month),
    op!("$dayOfWeek", DateParts, date::day_of_week),
    op!("$dayOfYear", DateParts, date::day_of_year),
    op!("$hour", DateParts, date::hour),
    op!("$minute", DateParts, date::minute),
    op!("$second", DateParts, date::second),
    op!("$millisecond", DateParts, date::millisecond),
    op!("$week", DateParts, date::week),
    op!("$isoWeek", DateParts, date::iso_week),
    op!("$isoWeekYear", DateParts, date::iso_week_year),
    op!("$isoDayOfWeek", DateParts, date::iso_day_of_week),
    op!(
        "$dateToString",
        Named(&["date", "format", "timezone", "onNull"], &["date"]),
        date::date_to_string
    ),
    op!(
        "$dateFromString",
        Named(
            &["dateString", "format", "timezone", "onError", "onNull"],
            &["dateString"]
        ),
        date::date_from_string
    ),
    op!(
        "$dateAdd",
        Named(
            &["startDate", "unit", "amount", "timezone"],
            &["startDate", "unit", "amount"]
        ),
        date::date_add
    ),
    op!(
        "$dateSubtract",
        Named(
            &["startDate", "unit", "amount", "timezone"],
            &["startDate", "unit", "amount"]
        ),
        date::date_subtract
    ),
    op!(
        "$dateDiff",
        Named(
            &["startDate", "endDate", "unit", "timezone", "startOfWeek"],
            &["startDate", "endDate", "unit"]
        ),
        date::date_diff
    ),
    op!(
        "$dateTrunc",
        Named(
            &["date", "unit", "binSize", "timezone", "startOfWeek"],
            &["date", "unit"]
        ),
        date::date_trunc
    ),
    op!(
        "$dateToParts",
        Named(&["date", "timezone", "iso8601"], &["date"]),
        date::date_to_parts
    ),
    op!(
        "$dateFromParts",
        Named(
            &[
                "year",
                "month",
                "day",
                "hour",
                "minute",
                "second",
                "millisecond",
                "isoWeekYear",
                "isoWeek",
                "isoDayOfWeek",
                "timezone"
            ],
            &[]
        ),
        date::date_from_parts
    ),
    // misc
    op!("$rand", Exact(0), unsupported_rand),
    op!("$meta", Exact(1), unsupported_meta),
    op!("$function", Any, unsupported_function),
    op!("$accumulator", Any, unsupported_function),
];

pub fn lookup(name: &str) -> Option<&'static OpDef> {
    OPERATORS.iter().find(|d| d.name == name)
}

type R = Result<Value, AggError>;

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Undefined)
}

fn take(args: Vec<Value>, i: usize) -> Value {
    args.into_iter().nth(i).unwrap_or(Value::Undefined)
}

fn any_nullish(args: &[Value]) -> bool {
    args.iter().any(is_nullish)
}

pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Double(x) => Some(*x),
        Value::Int32(i) => Some(f64::from(*i)),
        Value::Int64(i) => Some(*i as f64),
        Value::Decimal128(d) => Some(d.to_f64()),
        _ => None,
    }
}

/// An integral number (a double only if it has no fraction and fits).
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int32(i) => Some(i64::from(*i)),
        Value::Int64(i) => Some(*i),
        Value::Double(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Some(*x as i64),
        Value::Decimal128(d) => d.to_i64_exact(),
        _ => None,
    }
}

/// Applies a decimal operation when either operand is a Decimal128: MongoDB then computes
/// in decimal and returns a decimal.
fn decimal_op(
    a: &Value,
    b: &Value,
    op: fn(&Decimal128, &Decimal128) -> Decimal128,
) -> Option<Value> {
    if !matches!(a, Value::Decimal128(_)) && !matches!(b, Value::Decimal128(_)) {
        return None;
    }
    Some(Value::Decimal128(op(&a.to_decimal()?, &b.to_decimal()?)))
}

/// An int that fits in 32 bits, else a long: what integer results narrow to.
pub fn int_or_long(i: i64) -> Value {
    match i32::try_from(i) {
        Ok(x) => Value::Int32(x),
        Err(_) => Value::Int64(i),
    }
}

/// Adds two numbers with MongoDB's widening: int + int overflows into long, long into
/// double; any double makes a double.
pub fn add_numbers(a: &Value, b: &Value) -> Value {
    if let Some(d) = decimal_op(a, b, Decimal128::add) {
        return d;
    }
    match (a, b) {
        (Value::Int32(x), Value::Int32(y)) => match x.checked_add(*y) {
            Some(s) => Value::Int32(s),
            None => Value::Int64(i64::from(*x) + i64::from(*y)),
        },
        (Value::Int32(_) | Value::Int64(_), Value::Int32(_) | Value::Int64(_)) => {
            let (x, y) = (as_i64(a).unwrap_or(0), as_i64(b).unwrap_or(0));
            match x.checked_add(y) {
                Some(s) => Value::Int64(s),
                None => Value::Double(x as f64 + y as f64),
            }
        }
        _ => Value::Double(as_f64(a).unwrap_or(0.0) + as_f64(b).unwrap_or(0.0)),
    }
}

fn multiply_numbers(a: &Value, b: &Value) -> Value {
    if let Some(d) = decimal_op(a, b, Decimal128::mul) {
        return d;
    }
    match (a, b) {
        (Value::Int32(x), Value::Int32(y)) => match x.checked_mul(*y) {
            Some(s) => Value::Int32(s),
            None => Value::Int64(i64::from(*x) * i64::from(*y)),
        },
        (Value::Int32(_) | Value::Int64(_), Value::Int32(_) | Value::Int64(_)) => {
            let (x, y) = (as_i64(a).unwrap_or(0), as_i64(b).unwrap_or(0));
            match x.checked_mul(y) {
                Some(s) => Value::Int64(s),
                None => Value::Double(x as f64 * y as f64),
            }
        }
        _ => Value::Double(as_f64(a).unwrap_or(0.0) * as_f64(b).unwrap_or(0.0)),
    }
}

fn add(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut total = Value::Int32(0);
    let mut date: Option<i64> = None;
    let mut null = false;
    for a in &args {
        match a {
            v if v.is_number() => total = add_numbers(&total, v),
            Value::Date(ms) => {
                if date.is_some() {
                    return Err(agg_err!(
                        16612,
                        "only one date allowed in an $add expression"
                    ));
                }
                date = Some(*ms);
            }
            v if is_nullish(v) => null = true,
            v => {
                return Err(AggError::new(
                    14,
                    "TypeMismatch",
                    format!(
                        "$add only supports numeric or date types, not {}",
                        type_name(v)
                    ),
                ))
            }
        }
    }
    if null {
        return Ok(Value::Null);
    }
    Ok(match date {
        Some(ms) => {
            let delta = match total {
                Value::Double(x) => x.round() as i64,
                other => as_i64(&other).unwrap_or(0),
            };
            Value::Date(ms.saturating_add(delta))
        }
        None => total,
    })
}

fn subtract(args: Vec<Value>, _: &Env<'_>) -> R {
    let (a, b) = (arg(&args, 0), arg(&args, 1));
    if is_nullish(a) || is_nullish(b) {
        return Ok(Value::Null);
    }
    match (a, b) {
        (Value::Date(x), Value::Date(y)) => Ok(Value::Int64(x.saturating_sub(*y))),
        (Value::Date(x), n) if n.is_number() => {
            let d = match n {
                Value::Double(f) => f.round() as i64,
                other => as_i64(other).unwrap_or(0),
            };
            Ok(Value::Date(x.saturating_sub(d)))
        }
        (x, y) if x.is_number() && y.is_number() => Ok(add_numbers(x, &negate(y))),
        _ => Err(agg_err!(
            16556,
            "can't $subtract {} from {}",
            type_name(b),
            type_name(a)
        )),
    }
}

fn negate(v: &Value) -> Value {
    match v {
        Value::Int32(i) => match i.checked_neg() {
            Some(n) => Value::Int32(n),
            None => Value::Int64(-i64::from(*i)),
        },
        Value::Int64(i) => match i.checked_neg() {
            Some(n) => Value::Int64(n),
            None => Value::Double(-(*i as f64)),
        },
        Value::Double(x) => Value::Double(-x),
        Value::Decimal128(d) => Value::Decimal128(d.negate()),
        other => other.clone(),
    }
}

fn multiply(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut total = Value::Int32(1);
    let mut null = false;
    for a in &args {
        match a {
            v if v.is_number() => total = multiply_numbers(&total, v),
            v if is_nullish(v) => null = true,
            v => {
                return Err(agg_err!(
                    16555,
                    "$multiply only supports numeric types, not {}",
                    type_name(v)
                ))
            }
        }
    }
    Ok(if null { Value::Null } else { total })
}

fn divide(args: Vec<Value>, _: &Env<'_>) -> R {
    let (a, b) = (arg(&args, 0), arg(&args, 1));
    if is_nullish(a) || is_nullish(b) {
        return Ok(Value::Null);
    }
    if matches!(a, Value::Decimal128(_)) || matches!(b, Value::Decimal128(_)) {
        if let (Some(x), Some(y)) = (a.to_decimal(), b.to_decimal()) {
            return match x.div(&y) {
                Some(q) => Ok(Value::Decimal128(q)),
                None => Err(AggError::new(2, "BadValue", "can't $divide by zero")),
            };
        }
    }
    match (as_f64(a), as_f64(b)) {
        (Some(x), Some(y)) => {
            if y == 0.0 {
                return Err(AggError::new(2, "BadValue", "can't $divide by zero"));
            }
            Ok(Value::Double(x / y))
        }
        _ => Err(AggError::new(
            14,
            "TypeMismatch",
            format!(
                "$divide only supports numeric types, not {} and {}",
                type_name(a),
                type_name(b)
            ),
        )),
    }
}

fn modulo(args: Vec<Value>, _: &Env<'_>) -> R {
    let (a, b) = (arg(&args, 0), arg(&args, 1));
    if is_nullish(a) || is_nullish(b) {
        return Ok(Value::Null);
    }
    if !a.is_number() || !b.is_number() {
        return Err(agg_err!(
            16611,
            "$mod only supports numeric types, not {} and {}",
            type_name(a),
            type_name(b)
        ));
    }
    match (a, b) {
        (Value::Double(_), _) | (_, Value::Double(_)) => {
            let (x, y) = (as_f64(a).unwrap_or(0.0), as_f64(b).unwrap_or(0.0));
            if y == 0.0 {
                return Err(agg_err!(16610, "can't $mod by zero"));
            }
            Ok(Value::Double(x % y))
        }
        _ => {
            let (x, y) = (as_i64(a).unwrap_or(0), as_i64(b).unwrap_or(0));
            if y == 0 {
                return Err(agg_err!(16610, "can't $mod by zero"));
            }
            let r = x.wrapping_rem(y);
            Ok(if matches!((a, b), (Value::Int32(_), Value::Int32(_))) {
                int_or_long(r)
            } else {
                Value::Int64(r)
            })
        }
    }
}

fn unary_number(name: &str, v: &Value) -> Result<Option<f64>, AggError> {
    match v {
        v if is_nullish(v) => Ok(None),
        v => match as_f64(v) {
            Some(x) => Ok(Some(x)),
            None => Err(agg_err!(
                28765,
                "{name} only supports numeric types, not {}",
                type_name(v)
            )),
        },
    }
}

fn abs(args: Vec<Value>, _: &Env<'_>) -> R {
    let v = arg(&args, 0);
    let Some(x) = unary_number("$abs", v)? else {
        return Ok(Value::Null);
    };
    Ok(match v {
        Value::Int32(i) => match i.checked_abs() {
            Some(a) => Value::Int32(a),
            None => Value::Int64(i64::from(*i).abs()),
        },
        Value::Int64(i) => match i.checked_abs() {
            Some(a) => Value::Int64(a),
            None => {
                return Err(AggError::new(
                    28680,
                    "Location28680",
                    "can't take $abs of long long min",
                ))
            }
        },
        Value::Decimal128(d) => Value::Decimal128(d.abs()),
        _ => Value::Double(x.abs()),
    })
}

fn keep_int(v: &Value, f: fn(f64) -> f64, mode: Rounding) -> R {
    Ok(match v {
        Value::Int32(_) | Value::Int64(_) => v.clone(),
        Value::Double(x) => Value::Double(f(*x)),
        Value::Decimal128(d) => Value::Decimal128(d.quantize(0, mode)),
        _ => Value::Null,
    })
}

fn ceil(args: Vec<Value>, _: &Env<'_>) -> R {
    let v = arg(&args, 0);
    if unary_number("$ceil", v)?.is_none() {
        return Ok(Value::Null);
    }
    keep_int(v, f64::ceil, Rounding::Ceiling)
}

fn floor(args: Vec<Value>, _: &Env<'_>) -> R {
    let v = arg(&args, 0);
    if unary_number("$floor", v)?.is_none() {
        return Ok(Value::Null);
    }
    keep_int(v, f64::floor, Rounding::Floor)
}

fn round_like(args: &[Value], name: &str, half_even: bool) -> R {
    let v = arg(args, 0);
    let Some(x) = unary_number(name, v)? else {
        return Ok(Value::Null);
    };
    let place = match args.get(1) {
        None => 0,
        Some(p) if is_nullish(p) => return Ok(Value::Null),
        Some(p) => match as_i64(p) {
            Some(n) if (-20..=100).contains(&n) => n as i32,
            _ => {
                return Err(agg_err!(
                    51155,
                    "{name} requires \"place\" argument to be an integer between -20 and 100, but got {}",
                    server_text(p)
                ))
            }
        },
    };
    let apply = |x: f64| -> f64 {
        let scale = 10f64.powi(place);
        let y = x * scale;
        let r = if half_even {
            let r = y.round();
            if (y - y.trunc()).abs() == 0.5 {
                2.0 * (y / 2.0).round()
            } else {
                r
            }
        } else {
            y.trunc()
        };
        r / scale
    };
    Ok(match v {
        Value::Int32(_) | Value::Int64(_) if place >= 0 => v.clone(),
        Value::Int32(_) => int_or_long(apply(x) as i64).clone(),
        Value::Int64(_) => Value::Int64(apply(x) as i64),
        Value::Decimal128(d) => {
            let mode = if half_even {
                Rounding::HalfEven
            } else {
                Rounding::Down
            };
            Value::Decimal128(d.quantize(-place, mode))
        }
        _ => Value::Double(apply(x)),
    })
}

fn round(args: Vec<Value>, _: &Env<'_>) -> R {
    round_like(&args, "$round", true)
}

fn trunc(args: Vec<Value>, _: &Env<'_>) -> R {
    round_like(&args, "$trunc", false)
}

fn exp(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(unary_number("$exp", arg(&args, 0))?.map_or(Value::Null, |x| Value::Double(x.exp())))
}

fn ln(args: Vec<Value>, _: &Env<'_>) -> R {
    let v = arg(&args, 0);
    match unary_number("$ln", v)? {
        None => Ok(Value::Null),
        Some(x) if x <= 0.0 => Err(agg_err!(
            28766,
            "$ln's argument must be a positive number, but is {}",
            server_text(v)
        )),
        Some(x) => Ok(Value::Double(x.ln())),
    }
}

fn log10(args: Vec<Value>, _: &Env<'_>) -> R {
    let v = arg(&args, 0);
    match unary_number("$log10", v)? {
        None => Ok(Value::Null),
        Some(x) if x <= 0.0 => Err(agg_err!(
            28761,
            "$log10's argument must be a positive number, but is {}",
            server_text(v)
        )),
        Some(x) => Ok(Value::Double(x.log10())),
    }
}

fn log(args: Vec<Value>, _: &Env<'_>) -> R {
    let (v, b) = (arg(&args, 0), arg(&args, 1));
    let (Some(x), Some(base)) = (unary_number("$log", v)?, unary_number("$log", b)?) else {
        return Ok(Value::Null);
    };
    if x <= 0.0 {
        return Err(agg_err!(
            28758,
            "$log's argument must be a positive number, but is {}",
            server_text(v)
        ));
    }
    if base <= 0.0 || base == 1.0 {
        return Err(agg_err!(
            28759,
            "$log's base must be a positive number not equal to 1, but is {}",
            server_text(b)
        ));
    }
    Ok(Value::Double(x.ln() / base.ln()))
}

fn pow(args: Vec<Value>, _: &Env<'_>) -> R {
    let (a, b) = (arg(&args, 0), arg(&args, 1));
    let (Some(x), Some(y)) = (unary_number("$pow", a)?, unary_number("$pow", b)?) else {
        return Ok(Value::Null);
    };
    if x == 0.0 && y < 0.0 {
        return Err(agg_err!(
            28764,
            "$pow cannot take a base of 0 and a negative exponent"
        ));
    }
    match (a, b) {
        (Value::Int32(_) | Value::Int64(_), Value::Int32(_) | Value::Int64(_)) => {
            let (base, e) = (as_i64(a).unwrap_or(0), as_i64(b).unwrap_or(0));
            if e < 0 {
                // Only 1 and -1 stay integral under a negative exponent.
                return Ok(match base {
                    1 => a.clone(),
                    -1 => int_or_long(if e % 2 == 0 { 1 } else { -1 }),
                    _ => Value::Double(x.powf(y)),
                });
            }
            let r = u32::try_from(e).ok().and_then(|e| base.checked_pow(e));
            Ok(match r {
                Some(r) if matches!((a, b), (Value::Int32(_), Value::Int32(_))) => int_or_long(r),
                Some(r) => Value::Int64(r),
                None => Value::Double(x.powf(y)),
            })
        }
        _ => Ok(Value::Double(x.powf(y))),
    }
}

fn sqrt(args: Vec<Value>, _: &Env<'_>) -> R {
    match unary_number("$sqrt", arg(&args, 0))? {
        None => Ok(Value::Null),
        Some(x) if x < 0.0 => Err(agg_err!(
            28714,
            "$sqrt's argument must be greater than or equal to 0"
        )),
        Some(x) => Ok(Value::Double(x.sqrt())),
    }
}

// ---- trigonometry

/// The domain a trigonometric operator accepts, as the server checks and words it.
#[derive(Clone, Copy)]
enum Domain {
    All,
    /// Between the bounds, both excluded (`$sin` and friends refuse the infinities).
    Open(f64, f64),
    Closed(f64, f64),
}

/// A double as the server's C++ stream writes it into an error: six significant digits,
/// `inf`, `nan`.
fn c_stream_double(x: f64) -> String {
    crate::printf::format_g(x, 6)
}

/// One-argument trigonometry: null stays null, NaN stays NaN, a Decimal128 gives a
/// Decimal128 (computed through a double), any other number a double.
fn trig(args: &[Value], name: &str, domain: Domain, f: fn(f64) -> f64) -> R {
    let v = arg(args, 0);
    let Some(x) = unary_number(name, v)? else {
        return Ok(Value::Null);
    };
    if x.is_nan() {
        return Ok(v.clone());
    }
    let (inside, brackets, (lo, hi)) = match domain {
        Domain::All => (true, ("", ""), (0.0, 0.0)),
        Domain::Open(lo, hi) => (lo < x && x < hi, ("(", ")"), (lo, hi)),
        Domain::Closed(lo, hi) => (lo <= x && x <= hi, ("[", "]"), (lo, hi)),
    };
    if !inside {
        let input = match v {
            Value::Decimal128(d) => d.to_string(),
            _ => c_stream_double(x),
        };
        return Err(agg_err!(
            50989,
            "cannot apply {name} to {input}, value must in {}{},{}{}",
            brackets.0,
            c_stream_double(lo),
            c_stream_double(hi),
            brackets.1
        ));
    }
    Ok(match v {
        Value::Decimal128(_) => Value::Decimal128(Decimal128::from_f64(f(x))),
        _ => Value::Double(f(x)),
    })
}

const REAL_LINE: Domain = Domain::Open(f64::NEG_INFINITY, f64::INFINITY);

fn sin(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$sin", REAL_LINE, f64::sin)
}

fn cos(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$cos", REAL_LINE, f64::cos)
}

fn tan(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$tan", REAL_LINE, f64::tan)
}

fn asin(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$asin", Domain::Closed(-1.0, 1.0), f64::asin)
}

fn acos(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$acos", Domain::Closed(-1.0, 1.0), f64::acos)
}

fn atan(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$atan", Domain::All, f64::atan)
}

fn sinh(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$sinh", Domain::All, f64::sinh)
}

fn cosh(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$cosh", Domain::All, f64::cosh)
}

fn tanh(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$tanh", Domain::All, f64::tanh)
}

fn asinh(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$asinh", Domain::All, f64::asinh)
}

fn acosh(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(
        &args,
        "$acosh",
        Domain::Closed(1.0, f64::INFINITY),
        f64::acosh,
    )
}

fn atanh(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$atanh", Domain::Closed(-1.0, 1.0), f64::atanh)
}

fn degrees_to_radians(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$degreesToRadians", Domain::All, f64::to_radians)
}

fn radians_to_degrees(args: Vec<Value>, _: &Env<'_>) -> R {
    trig(&args, "$radiansToDegrees", Domain::All, f64::to_degrees)
}

/// `$atan2: [y, x]`: null if either is, a Decimal128 if either is, else a double.
fn atan2(args: Vec<Value>, _: &Env<'_>) -> R {
    let (y, x) = (arg(&args, 0), arg(&args, 1));
    if is_nullish(y) || is_nullish(x) {
        return Ok(Value::Null);
    }
    let (Some(a), Some(b)) = (as_f64(y), as_f64(x)) else {
        let (a, b) = (type_name(y), type_name(x));
        return Err(if matches!(y, Value::Double(_)) {
            agg_err!(51045, "$atan2 only supports numeric types, not {a} and {b}")
        } else {
            agg_err!(51044, "$atan2 only supports numeric types, not {a} and {b}")
        });
    };
    Ok(match (y, x) {
        (Value::Decimal128(_), _) | (_, Value::Decimal128(_)) => {
            Value::Decimal128(Decimal128::from_f64(a.atan2(b)))
        }
        _ => Value::Double(a.atan2(b)),
    })
}

// ---- arrays

fn array_arg(
    v: &Value,
    what: impl FnOnce(&Value) -> AggError,
) -> Result<Option<&Vec<Value>>, AggError> {
    match v {
        Value::Array(items) => Ok(Some(items)),
        v if is_nullish(v) => Ok(None),
        v => Err(what(v)),
    }
}

fn array_elem_at(args: Vec<Value>, _: &Env<'_>) -> R {
    let (a, i) = (arg(&args, 0), arg(&args, 1));
    if is_nullish(a) || is_nullish(i) {
        return Ok(Value::Null);
    }
    let Value::Array(items) = a else {
        return Err(agg_err!(
            28689,
            "$arrayElemAt's first argument must be an array, but is {}",
            type_name(a)
        ));
    };
    let Some(idx) = as_i64(i) else {
        return Err(if i.is_number() {
            agg_err!(
                28691,
                "$arrayElemAt's second argument must be representable as a 32-bit integer: {}",
                server_text(i)
            )
        } else {
            agg_err!(
                28690,
                "$arrayElemAt's second argument must be a numeric value, but is {}",
                type_name(i)
            )
        });
    };
    Ok(elem_at(items, idx))
}

fn elem_at(items: &[Value], idx: i64) -> Value {
    let len = items.len() as i64;
    let pos = if idx < 0 { len + idx } else { idx };
    if pos < 0 || pos >= len {
        return Value::Undefined;
    }
    items.get(pos as usize).cloned().unwrap_or(Value::Undefined)
}

fn first(args: Vec<Value>, _: &Env<'_>) -> R {
    let v = arg(&args, 0);
    match array_arg(v, |v| {
        agg_err!(
            28689,
            "$first's argument must be an array, but is {}",
            type_name(v)
        )
    })? {
        None => Ok(Value::Null),
        Some(items) => Ok(elem_at(items, 0)),
    }
}

fn last(args: Vec<Value>, _: &Env<'_>) -> R {
    let v = arg(&args, 0);
    match array_arg(v, |v| {
        agg_err!(
            28689,
            "$last's argument must be an array, but is {}",
            type_name(v)
        )
    })? {
        None => Ok(Value::Null),
        Some(items) => Ok(elem_at(items, -1)),
    }
}

fn slice(args: Vec<Value>, _: &Env<'_>) -> R {
    if any_nullish(&args) {
        return Ok(Value::Null);
    }
    let a = arg(&args, 0);
    let Value::Array(items) = a else {
        return Err(agg_err!(
            28724,
            "First argument to $slice must be an array, but is of type: {}",
            type_name(a)
        ));
    };
    let len = items.len() as i64;
    let num = |v: &Value, code_msg: &str| -> Result<i64, AggError> {
        as_i64(v).ok_or_else(|| agg_err!(28725, "{code_msg} {}", type_name(v)))
    };
    let (start, count) = if args.len() == 2 {
        let n = num(
            arg(&args, 1),
            "Second argument to $slice must be a numeric value, but is of type:",
        )?;
        if n < 0 {
            (len.saturating_add(n).max(0), n.saturating_neg())
        } else {
            (0, n)
        }
    } else {
        let p = num(
            arg(&args, 1),
            "Second argument to $slice must be a numeric value, but is of type:",
        )?;
        let n = num(
            arg(&args, 2),
            "Third argument to $slice must be numeric, but is of type:",
        )?;
        if n <= 0 {
            return Err(agg_err!(
                28729,
                "Third argument to $slice must be positive: {n}"
            ));
        }
        let start = if p < 0 {
            len.saturating_add(p).max(0)
        } else {
            p.min(len)
        };
        (start, n)
    };
    Ok(Value::Array(
        items
            .iter()
            .skip(start as usize)
            .take(count.max(0) as usize)
            .cloned()
            .collect(),
    ))
}

fn concat_arrays(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut out = Vec::new();
    for a in args {
        match a {
            Value::Array(items) => out.extend(items),
            v if is_nullish(&v) => return Ok(Value::Null),
            v => {
                return Err(agg_err!(
                    28664,
                    "$concatArrays only supports arrays, not {}",
                    type_name(&v)
                ))
            }
        }
    }
    Ok(Value::Array(out))
}

fn in_array(args: Vec<Value>, _: &Env<'_>) -> R {
    let (x, a) = (arg(&args, 0), arg(&args, 1));
    let Value::Array(items) = a else {
        return Err(agg_err!(
            40081,
            "$in requires an array as a second argument, found: {}",
            type_name(a)
        ));
    };
    Ok(Value::Bool(items.iter().any(|i| values_equal(i, x))))
}

fn index_of_array(args: Vec<Value>, _: &Env<'_>) -> R {
    let a = arg(&args, 0);
    let Some(items) = array_arg(a, |v| {
        agg_err!(
            40090,
            "$indexOfArray requires an array as a first argument, found: {}",
            type_name(v)
        )
    })?
    else {
        return Ok(Value::Null);
    };
    let x = arg(&args, 1);
    let (start, end) = bounds(&args, items.len(), "$indexOfArray")?;
    for (i, item) in items.iter().enumerate().take(end).skip(start) {
        if values_equal(item, x) {
            return Ok(int_or_long(i as i64));
        }
    }
    Ok(Value::Int32(-1))
}

/// The optional start and end index arguments of `$indexOf*` (positions 2 and 3).
fn bounds(args: &[Value], len: usize, name: &str) -> Result<(usize, usize), AggError> {
    let get = |i: usize, default: usize| -> Result<usize, AggError> {
        match args.get(i) {
            None => Ok(default),
            Some(v) => match as_i64(v) {
                Some(n) if n >= 0 => Ok(n as usize),
                Some(_) => Err(agg_err!(
                    40097,
                    "{name} requires a nonnegative {} index, found: {}",
                    if i == 2 { "start" } else { "ending" },
                    server_text(v)
                )),
                None => Err(agg_err!(
                    40096,
                    "{name} requires an integral {} index, found a value of type: {}, with value: {}",
                    if i == 2 { "starting" } else { "ending" },
                    type_name(v),
                    server_text(v)
                )),
            },
        }
    };
    Ok((get(2, 0)?, get(3, len)?.min(len)))
}

fn is_array(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(matches!(arg(&args, 0), Value::Array(_))))
}

fn range(args: Vec<Value>, _: &Env<'_>) -> R {
    let get = |i: usize, what: &str| -> Result<i64, AggError> {
        let v = arg(&args, i);
        as_i64(v).ok_or_else(|| {
            agg_err!(
                34443,
                "$range requires a numeric {what}, found value of type: {}",
                type_name(v)
            )
        })
    };
    let start = get(0, "starting value")?;
    let end = get(1, "ending value")?;
    let step = if args.len() > 2 {
        get(2, "step value")?
    } else {
        1
    };
    if step == 0 {
        return Err(agg_err!(34449, "$range requires a non-zero step value"));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < end) || (step < 0 && i > end) {
        // A million elements is already tens of megabytes in a browser tab.
        if out.len() >= 1_000_000 {
            return Err(agg_err!(
                20,
                "$range would use too much memory and cannot spill"
            ));
        }
        out.push(int_or_long(i));
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(Value::Array(out))
}

fn reverse_array(args: Vec<Value>, _: &Env<'_>) -> R {
    match take(args, 0) {
        Value::Array(mut items) => {
            items.reverse();
            Ok(Value::Array(items))
        }
        v if is_nullish(&v) => Ok(Value::Null),
        v => Err(agg_err!(
            34435,
            "The argument to $reverseArray must be an array, but was of type: {}",
            type_name(&v)
        )),
    }
}

fn size(args: Vec<Value>, _: &Env<'_>) -> R {
    match arg(&args, 0) {
        Value::Array(items) => Ok(int_or_long(items.len() as i64)),
        v => Err(agg_err!(
            17124,
            "The argument to $size must be an array. Type of argument: {}",
            type_name(v)
        )),
    }
}

fn zip(args: Vec<Value>, _: &Env<'_>) -> R {
    let inputs = match arg(&args, 0) {
        Value::Array(items) => items,
        v => {
            return Err(agg_err!(
                34461,
                "inputs must be an array of expressions, found {}",
                type_name(v)
            ))
        }
    };
    let longest = truthy(arg(&args, 1));
    let mut arrays = Vec::with_capacity(inputs.len());
    for i in inputs {
        match i {
            Value::Array(a) => arrays.push(a),
            v if is_nullish(v) => return Ok(Value::Null),
            v => {
                return Err(agg_err!(
                    34468,
                    "$zip found a non-array expression in input: {}",
                    server_text(v)
                ))
            }
        }
    }
    let defaults: Vec<Value> = match arg(&args, 2) {
        Value::Array(d) => {
            if !longest {
                return Err(agg_err!(
                    34466,
                    "cannot specify defaults unless useLongestLength is true"
                ));
            }
            d.clone()
        }
        _ => Vec::new(),
    };
    let n = if longest {
        arrays.iter().map(|a| a.len()).max().unwrap_or(0)
    } else {
        arrays.iter().map(|a| a.len()).min().unwrap_or(0)
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(Value::Array(
            arrays
                .iter()
                .enumerate()
                .map(|(j, a)| {
                    a.get(i)
                        .cloned()
                        .unwrap_or_else(|| defaults.get(j).cloned().unwrap_or(Value::Null))
                })
                .collect(),
        ));
    }
    Ok(Value::Array(out))
}

/// Parses a sort specification (`{a: 1, "b.c": -1}`) into paths and directions.
pub fn sort_spec(spec: &Document) -> Result<Vec<(Vec<String>, bool)>, AggError> {
    let mut keys = Vec::with_capacity(spec.len());
    for (k, v) in spec {
        let desc = match as_i64(v) {
            Some(1) => false,
            Some(-1) => true,
            _ => {
                return Err(agg_err!(
                    15975,
                    "$sort key ordering must be 1 (for ascending) or -1 (for descending)"
                ))
            }
        };
        keys.push((k.split('.').map(str::to_string).collect(), desc));
    }
    if keys.is_empty() {
        return Err(agg_err!(
            15976,
            "$sort stage must have at least one sort key"
        ));
    }
    Ok(keys)
}

fn sort_array(args: Vec<Value>, _: &Env<'_>) -> R {
    let input = arg(&args, 0);
    let items = match input {
        Value::Array(items) => items.clone(),
        v if is_nullish(v) => return Ok(Value::Null),
        v => {
            return Err(agg_err!(
                2942504,
                "$sortArray requires an array as input, found: {}",
                type_name(v)
            ))
        }
    };
    let mut items = items;
    match arg(&args, 1) {
        Value::Document(spec) => {
            let keys = sort_spec(spec)?;
            let mut keyed: Vec<(Vec<Value>, Value)> = items
                .into_iter()
                .map(|item| {
                    let k = keys
                        .iter()
                        .map(|(p, _)| match &item {
                            Value::Document(d) => {
                                element_at_path(d, p).cloned().unwrap_or(Value::Null)
                            }
                            _ => Value::Null,
                        })
                        .collect();
                    (k, item)
                })
                .collect();
            crate::sort::sort_by(&mut keyed, |a, b| compare_keys(&a.0, &b.0, &keys));
            Ok(Value::Array(keyed.into_iter().map(|(_, v)| v).collect()))
        }
        v => match as_i64(v) {
            Some(d @ (1 | -1)) => {
                crate::sort::sort_by(&mut items, |a, b| {
                    let c = compare(a, b);
                    if d < 0 {
                        c.reverse()
                    } else {
                        c
                    }
                });
                Ok(Value::Array(items))
            }
            _ => Err(agg_err!(
                2942505,
                "$sortArray requires sortBy to be either 1, -1 or an object"
            )),
        },
    }
}

/// The value a document sorts by on one key in `$sort`, `$setWindowFields` and the
/// `$top`/`$bottom` family: the key `find`'s sort uses, as the server has used one key
/// generator for both since 3.6 (SERVER-19402).
pub fn sort_key_of(doc: &Document, path: &[String], desc: bool) -> Value {
    crate::mongo::query::cursor::sort_key(doc, path, if desc { -1 } else { 1 })
}

pub fn compare_keys(a: &[Value], b: &[Value], keys: &[(Vec<String>, bool)]) -> Ordering {
    for ((x, y), (_, desc)) in a.iter().zip(b.iter()).zip(keys.iter()) {
        let c = compare(x, y);
        if c != Ordering::Equal {
            return if *desc { c.reverse() } else { c };
        }
    }
    Ordering::Equal
}

fn set_of(v: &Value, name: &str, position: usize) -> Result<Option<Vec<Value>>, AggError> {
    match v {
        Value::Array(items) => {
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for i in items {
                if !out.iter().any(|o| values_equal(o, i)) {
                    out.push(i.clone());
                }
            }
            Ok(Some(out))
        }
        v if is_nullish(v) => Ok(None),
        v => Err(agg_err!(
            17044,
            "All operands of {name} must be arrays. {} argument is of type: {}",
            ordinal(position),
            type_name(v)
        )),
    }
}

fn ordinal(i: usize) -> &'static str {
    match i {
        0 => "One",
        1 => "Two",
        _ => "One",
    }
}

fn set_union(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut out: Vec<Value> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let Some(s) = set_of(a, "$setUnion", i)? else {
            return Ok(Value::Null);
        };
        for v in s {
            if !out.iter().any(|o| values_equal(o, &v)) {
                out.push(v);
            }
        }
    }
    // The server collects union and intersection in an ordered set: they come out sorted.
    crate::sort::sort_by(&mut out, compare);
    Ok(Value::Array(out))
}

fn set_intersection(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut out: Option<Vec<Value>> = None;
    for (i, a) in args.iter().enumerate() {
        let Some(s) = set_of(a, "$setIntersection", i)? else {
            return Ok(Value::Null);
        };
        out = Some(match out {
            None => s,
            Some(cur) => cur
                .into_iter()
                .filter(|v| s.iter().any(|o| values_equal(o, v)))
                .collect(),
        });
    }
    let mut out = out.unwrap_or_default();
    crate::sort::sort_by(&mut out, compare);
    Ok(Value::Array(out))
}

fn set_difference(args: Vec<Value>, _: &Env<'_>) -> R {
    let a = set_of(arg(&args, 0), "$setDifference", 0);
    let b = set_of(arg(&args, 1), "$setDifference", 1);
    match (a?, b?) {
        (Some(a), Some(b)) => Ok(Value::Array(
            a.into_iter()
                .filter(|v| !b.iter().any(|o| values_equal(o, v)))
                .collect(),
        )),
        _ => Ok(Value::Null),
    }
}

fn strict_set(v: &Value, name: &str, position: usize) -> Result<Vec<Value>, AggError> {
    match set_of(v, name, position)? {
        Some(s) => Ok(s),
        None => Err(agg_err!(
            17044,
            "All operands of {name} must be arrays. {} argument is of type: {}",
            ordinal(position),
            type_name(v)
        )),
    }
}

fn set_equals(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut sets = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        sets.push(strict_set(a, "$setEquals", i)?);
    }
    let Some((first, rest)) = sets.split_first() else {
        return Ok(Value::Bool(true));
    };
    Ok(Value::Bool(rest.iter().all(|s| {
        s.len() == first.len() && s.iter().all(|v| first.iter().any(|o| values_equal(o, v)))
    })))
}

fn set_is_subset(args: Vec<Value>, _: &Env<'_>) -> R {
    let a = strict_set(arg(&args, 0), "$setIsSubset", 0)?;
    let b = strict_set(arg(&args, 1), "$setIsSubset", 1)?;
    Ok(Value::Bool(
        a.iter().all(|v| b.iter().any(|o| values_equal(o, v))),
    ))
}

fn elements(v: &Value, name: &str) -> Result<Vec<Value>, AggError> {
    match v {
        Value::Array(items) => Ok(items.clone()),
        v => Err(agg_err!(
            17041,
            "{name}'s argument must be an array, but is {}",
            type_name(v)
        )),
    }
}

fn any_element_true(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(
        elements(arg(&args, 0), "$anyElementTrue")?
            .iter()
            .any(truthy),
    ))
}

fn all_elements_true(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(
        elements(arg(&args, 0), "$allElementsTrue")?
            .iter()
            .all(truthy),
    ))
}

fn n_args(args: &[Value], name: &str) -> Result<Option<(Vec<Value>, usize)>, AggError> {
    let n = arg(args, 1);
    let count = match as_i64(n) {
        Some(c) if c > 0 => c as usize,
        _ => {
            return Err(agg_err!(
                5787908,
                "Value for 'n' must be a positive integer, found {}",
                server_text(n)
            ))
        }
    };
    match arg(args, 0) {
        Value::Array(items) => Ok(Some((items.clone(), count))),
        v if is_nullish(v) => Ok(None),
        v => Err(agg_err!(
            5788200,
            "Input to {name} must be an array, found {}",
            type_name(v)
        )),
    }
}

fn max_n(args: Vec<Value>, _: &Env<'_>) -> R {
    let Some((mut items, n)) = n_args(&args, "$maxN")? else {
        return Ok(Value::Null);
    };
    items.retain(|v| !is_nullish(v));
    crate::sort::sort_by(&mut items, |a, b| compare(b, a));
    items.truncate(n);
    Ok(Value::Array(items))
}

fn min_n(args: Vec<Value>, _: &Env<'_>) -> R {
    let Some((mut items, n)) = n_args(&args, "$minN")? else {
        return Ok(Value::Null);
    };
    items.retain(|v| !is_nullish(v));
    crate::sort::sort_by(&mut items, compare);
    items.truncate(n);
    Ok(Value::Array(items))
}

fn first_n(args: Vec<Value>, _: &Env<'_>) -> R {
    let Some((mut items, n)) = n_args(&args, "$firstN")? else {
        return Ok(Value::Null);
    };
    items.truncate(n);
    Ok(Value::Array(items))
}

fn last_n(args: Vec<Value>, _: &Env<'_>) -> R {
    let Some((items, n)) = n_args(&args, "$lastN")? else {
        return Ok(Value::Null);
    };
    let skip = items.len().saturating_sub(n);
    Ok(Value::Array(items.into_iter().skip(skip).collect()))
}

// ---- boolean and comparison

fn not(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(!truthy(arg(&args, 0))))
}

fn ord(args: &[Value]) -> Ordering {
    compare(arg(args, 0), arg(args, 1))
}

fn cmp(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Int32(match ord(&args) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

fn eq(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(ord(&args) == Ordering::Equal))
}

fn ne(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(ord(&args) != Ordering::Equal))
}

fn gt(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(ord(&args) == Ordering::Greater))
}

fn gte(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(ord(&args) != Ordering::Less))
}

fn lt(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(ord(&args) == Ordering::Less))
}

fn lte(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(ord(&args) != Ordering::Greater))
}

/// `{$sum: [..]}` etc. in an expression: a single array argument is the list of values.
fn expr_values(args: Vec<Value>) -> Vec<Value> {
    if args.len() == 1 {
        if let Some(Value::Array(items)) = args.first() {
            return items.clone();
        }
    }
    args
}

fn sum_expr(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut total = Value::Int32(0);
    for v in expr_values(args) {
        if v.is_number() {
            total = add_numbers(&total, &v);
        }
    }
    Ok(total)
}

fn avg_expr(args: Vec<Value>, _: &Env<'_>) -> R {
    let nums: Vec<f64> = expr_values(args).iter().filter_map(as_f64).collect();
    if nums.is_empty() {
        return Ok(Value::Null);
    }
    Ok(Value::Double(nums.iter().sum::<f64>() / nums.len() as f64))
}

fn max_expr(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(expr_values(args)
        .into_iter()
        .filter(|v| !is_nullish(v))
        .max_by(compare)
        .unwrap_or(Value::Null))
}

fn min_expr(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(expr_values(args)
        .into_iter()
        .filter(|v| !is_nullish(v))
        .min_by(compare)
        .unwrap_or(Value::Null))
}

pub fn std_dev(nums: &[f64], sample: bool) -> Value {
    let n = nums.len();
    if n == 0 || (sample && n < 2) {
        return Value::Null;
    }
    let mean = nums.iter().sum::<f64>() / n as f64;
    let ss: f64 = nums.iter().map(|x| (x - mean) * (x - mean)).sum();
    let d = if sample { n - 1 } else { n } as f64;
    Value::Double((ss / d).sqrt())
}

fn std_dev_pop_expr(args: Vec<Value>, _: &Env<'_>) -> R {
    let nums: Vec<f64> = expr_values(args).iter().filter_map(as_f64).collect();
    Ok(std_dev(&nums, false))
}

fn std_dev_samp_expr(args: Vec<Value>, _: &Env<'_>) -> R {
    let nums: Vec<f64> = expr_values(args).iter().filter_map(as_f64).collect();
    Ok(std_dev(&nums, true))
}

/// The numbers `$median` and `$percentile` read: an array's numeric elements, or one number.
fn numeric_input(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().filter_map(as_f64).collect(),
        other => as_f64(other).into_iter().collect(),
    }
}

fn median_expr(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(
        super::accum::percentile(numeric_input(arg(&args, 0)), &[0.5])
            .into_iter()
            .next()
            .unwrap_or(Value::Null),
    )
}

fn percentile_expr(args: Vec<Value>, _: &Env<'_>) -> R {
    let ps = match arg(&args, 1) {
        Value::Array(items) => items
            .iter()
            .map(|p| as_f64(p).filter(|x| (0.0..=1.0).contains(x)))
            .collect::<Option<Vec<f64>>>(),
        _ => None,
    };
    let Some(ps) = ps else {
        return Err(agg_err!(
            7750301,
            "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: {}",
            server_text(arg(&args, 1))
        ));
    };
    Ok(Value::Array(super::accum::percentile(
        numeric_input(arg(&args, 0)),
        &ps,
    )))
}

// ---- strings

fn concat(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut out = String::new();
    for a in &args {
        match a {
            Value::String(s) => out.push_str(s),
            v if is_nullish(v) => return Ok(Value::Null),
            v => {
                return Err(agg_err!(
                    16702,
                    "$concat only supports strings, not {}",
                    type_name(v)
                ))
            }
        }
    }
    Ok(Value::String(out))
}

/// The string form `$substr`, `$toUpper` and friends give non-string input.
fn coerce_string(v: &Value, _name: &str) -> Result<String, AggError> {
    Ok(match v {
        Value::String(s) => s.clone(),
        Value::Null | Value::Undefined => String::new(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Double(x) => crate::mongo::value::js_number(*x),
        Value::Date(ms) => date::format_date(*ms, "%Y-%m-%dT%H:%M:%S.%LZ", 0),
        v => {
            return Err(agg_err!(
                16007,
                "can't convert from BSON type {} to String",
                type_name(v)
            ))
        }
    }
    .to_string())
}

fn substr_bytes(args: Vec<Value>, _: &Env<'_>) -> R {
    let s = coerce_string(arg(&args, 0), "$substrBytes")?;
    let (start, len) = (arg(&args, 1), arg(&args, 2));
    let start = as_i64(start).ok_or_else(|| {
        agg_err!(
            16034,
            "$substrBytes:  starting index must be a numeric type (is BSON type {})",
            type_name(start)
        )
    })?;
    let len = as_i64(len).ok_or_else(|| {
        agg_err!(
            16035,
            "$substrBytes:  length must be a numeric type (is BSON type {})",
            type_name(len)
        )
    })?;
    let bytes = s.as_bytes();
    if start < 0 || start as usize >= bytes.len() {
        return Ok(Value::String(String::new()));
    }
    let start = start as usize;
    let end = if len < 0 {
        bytes.len()
    } else {
        start.saturating_add(len as usize).min(bytes.len())
    };
    if !s.is_char_boundary(start) {
        return Err(agg_err!(
            28656,
            "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte."
        ));
    }
    if !s.is_char_boundary(end) {
        return Err(agg_err!(
            28657,
            "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 character."
        ));
    }
    Ok(Value::String(
        s.get(start..end).unwrap_or_default().to_string(),
    ))
}

fn substr_cp(args: Vec<Value>, _: &Env<'_>) -> R {
    let s = coerce_string(arg(&args, 0), "$substrCP")?;
    let (start, len) = (arg(&args, 1), arg(&args, 2));
    let Some(start) = as_i64(start) else {
        return Err(agg_err!(
            34450,
            "$substrCP: starting index must be a numeric type (is BSON type {})",
            type_name(start)
        ));
    };
    let Some(len) = as_i64(len) else {
        return Err(agg_err!(
            34452,
            "$substrCP: length must be a numeric type (is BSON type {})",
            type_name(len)
        ));
    };
    if start < 0 {
        return Err(agg_err!(
            34455,
            "$substrCP: starting index must be non-negative (got: {start})"
        ));
    }
    if len < 0 {
        return Err(agg_err!(
            34456,
            "$substrCP: length must be a nonnegative integer."
        ));
    }
    Ok(Value::String(
        s.chars().skip(start as usize).take(len as usize).collect(),
    ))
}

fn split(args: Vec<Value>, _: &Env<'_>) -> R {
    let (s, d) = (arg(&args, 0), arg(&args, 1));
    if is_nullish(s) || is_nullish(d) {
        return Ok(Value::Null);
    }
    let Value::String(s) = s else {
        return Err(agg_err!(
            40085,
            "$split requires an expression that evaluates to a string as a first argument, found: {}",
            type_name(s)
        ));
    };
    let Value::String(d) = d else {
        return Err(agg_err!(
            40086,
            "$split requires an expression that evaluates to a string as a second argument, found: {}",
            type_name(d)
        ));
    };
    if d.is_empty() {
        return Err(agg_err!(40087, "$split requires a non-empty separator"));
    }
    Ok(Value::Array(
        s.split(d.as_str())
            .map(|p| Value::String(p.to_string()))
            .collect(),
    ))
}

fn to_upper(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::String(
        coerce_string(arg(&args, 0), "$toUpper")?.to_ascii_uppercase(),
    ))
}

fn to_lower(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::String(
        coerce_string(arg(&args, 0), "$toLower")?.to_ascii_lowercase(),
    ))
}

/// The characters `$trim` removes by default: the Unicode spaces the manual lists.
const DEFAULT_TRIM: &[char] = &[
    '\0', ' ', '\t', '\n', '\u{0B}', '\u{0C}', '\r', '\u{A0}', '\u{1680}', '\u{2000}', '\u{2001}',
    '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}',
    '\u{200A}',
];

fn trim_impl(args: &[Value], name: &str, left: bool, right: bool) -> R {
    let input = arg(args, 0);
    let s = match input {
        Value::String(s) => s,
        v if is_nullish(v) => return Ok(Value::Null),
        v => {
            return Err(agg_err!(
                50699,
                "{name} requires its input to be a string, got {} (of type {}) instead.",
                server_text(v),
                type_name(v)
            ))
        }
    };
    let chars: Vec<char> = match arg(args, 1) {
        Value::String(c) => c.chars().collect(),
        Value::Undefined => DEFAULT_TRIM.to_vec(),
        v if is_nullish(v) => return Ok(Value::Null),
        v => {
            return Err(agg_err!(
                50700,
                "{name} requires 'chars' to be a string, got {} (of type {}) instead.",
                server_text(v),
                type_name(v)
            ))
        }
    };
    let mut t = s.as_str();
    if left {
        t = t.trim_start_matches(chars.as_slice());
    }
    if right {
        t = t.trim_end_matches(chars.as_slice());
    }
    Ok(Value::String(t.to_string()))
}

fn trim(args: Vec<Value>, _: &Env<'_>) -> R {
    trim_impl(&args, "$trim", true, true)
}

fn ltrim(args: Vec<Value>, _: &Env<'_>) -> R {
    trim_impl(&args, "$ltrim", true, false)
}

fn rtrim(args: Vec<Value>, _: &Env<'_>) -> R {
    trim_impl(&args, "$rtrim", false, true)
}

fn str_len_cp(args: Vec<Value>, _: &Env<'_>) -> R {
    match arg(&args, 0) {
        Value::String(s) => Ok(int_or_long(s.chars().count() as i64)),
        v => Err(agg_err!(
            34471,
            "$strLenCP requires a string argument, found: {}",
            type_name(v)
        )),
    }
}

fn str_len_bytes(args: Vec<Value>, _: &Env<'_>) -> R {
    match arg(&args, 0) {
        Value::String(s) => Ok(int_or_long(s.len() as i64)),
        v => Err(agg_err!(
            34473,
            "$strLenBytes requires a string argument, found: {}",
            type_name(v)
        )),
    }
}

fn strcasecmp(args: Vec<Value>, _: &Env<'_>) -> R {
    let a = coerce_string(arg(&args, 0), "$strcasecmp")?.to_ascii_uppercase();
    let b = coerce_string(arg(&args, 1), "$strcasecmp")?.to_ascii_uppercase();
    Ok(Value::Int32(match a.cmp(&b) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

fn index_of_cp(args: Vec<Value>, _: &Env<'_>) -> R {
    let s = match arg(&args, 0) {
        Value::String(s) => s,
        v if is_nullish(v) => return Ok(Value::Null),
        v => {
            return Err(agg_err!(
                40093,
                "$indexOfCP requires a string as the first argument, found: {}",
                type_name(v)
            ))
        }
    };
    let Value::String(needle) = arg(&args, 1) else {
        return Err(agg_err!(
            40094,
            "$indexOfCP requires a string as the second argument, found: {}",
            type_name(arg(&args, 1))
        ));
    };
    let chars: Vec<char> = s.chars().collect();
    let n: Vec<char> = needle.chars().collect();
    let (start, end) = bounds(&args, chars.len(), "$indexOfCP")?;
    if start > end {
        return Ok(Value::Int32(-1));
    }
    let mut i = start;
    while i + n.len() <= end {
        if chars.get(i..i + n.len()) == Some(n.as_slice()) {
            return Ok(int_or_long(i as i64));
        }
        i += 1;
    }
    Ok(Value::Int32(-1))
}

fn index_of_bytes(args: Vec<Value>, _: &Env<'_>) -> R {
    let s = match arg(&args, 0) {
        Value::String(s) => s,
        v if is_nullish(v) => return Ok(Value::Null),
        v => {
            return Err(agg_err!(
                40091,
                "$indexOfBytes requires a string as the first argument, found: {}",
                type_name(v)
            ))
        }
    };
    let Value::String(needle) = arg(&args, 1) else {
        return Err(agg_err!(
            40092,
            "$indexOfBytes requires a string as the second argument, found: {}",
            type_name(arg(&args, 1))
        ));
    };
    let bytes = s.as_bytes();
    let n = needle.as_bytes();
    let (start, end) = bounds(&args, bytes.len(), "$indexOfBytes")?;
    let mut i = start;
    while i + n.len() <= end {
        if bytes.get(i..i + n.len()) == Some(n) {
            return Ok(int_or_long(i as i64));
        }
        i += 1;
    }
    Ok(Value::Int32(-1))
}

/// The input string and compiled regex of a `$regex*` operator; `None` for a null input.
fn regex_args(args: &[Value], name: &str) -> Result<Option<(String, Regex)>, AggError> {
    let input = match arg(args, 0) {
        Value::String(s) => s.clone(),
        v if is_nullish(v) => return Ok(None),
        _ => return Err(agg_err!(51104, "{name} needs 'input' to be of type string")),
    };
    let (pattern, mut options) = match arg(args, 1) {
        Value::String(p) => (p.clone(), String::new()),
        Value::Regex { pattern, options } => (pattern.clone(), options.clone()),
        v if is_nullish(v) => return Ok(None),
        _ => {
            return Err(agg_err!(
                51105,
                "{name} needs 'regex' to be of type string or regex"
            ))
        }
    };
    match arg(args, 2) {
        Value::String(o) => {
            if !options.is_empty() {
                return Err(agg_err!(
                    51107,
                    "{name} found regex option(s) specified in both 'regex' and 'option' fields"
                ));
            }
            options = o.clone();
        }
        v if is_nullish(v) => {}
        _ => {
            return Err(agg_err!(
                51106,
                "{name} needs 'options' to be of type string"
            ))
        }
    }
    let re = Regex::new(&pattern, &options)
        .map_err(|m| agg_err!(51111, "Invalid Regex in {name}: {m}"))?;
    Ok(Some((input, re)))
}

fn match_doc(input: &str, caps: &[Option<(usize, usize)>]) -> Value {
    let mut d = Document::default();
    let whole = caps.first().copied().flatten().unwrap_or((0, 0));
    d.insert(
        "match".into(),
        Value::String(input.get(whole.0..whole.1).unwrap_or_default().to_string()),
    );
    d.insert(
        "idx".into(),
        int_or_long(input.get(..whole.0).map_or(0, |p| p.chars().count()) as i64),
    );
    d.insert(
        "captures".into(),
        Value::Array(
            caps.iter()
                .skip(1)
                .map(|c| match c {
                    Some((a, b)) => {
                        Value::String(input.get(*a..*b).unwrap_or_default().to_string())
                    }
                    None => Value::Null,
                })
                .collect(),
        ),
    );
    Value::Document(d)
}

fn regex_match(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(match regex_args(&args, "$regexMatch")? {
        Some((input, re)) => re.is_match(&input),
        None => false,
    }))
}

fn regex_find(args: Vec<Value>, _: &Env<'_>) -> R {
    let Some((input, re)) = regex_args(&args, "$regexFind")? else {
        return Ok(Value::Null);
    };
    Ok(match re.find_at(&input, 0) {
        Some(caps) => match_doc(&input, &caps),
        None => Value::Null,
    })
}

fn regex_find_all(args: Vec<Value>, _: &Env<'_>) -> R {
    let Some((input, re)) = regex_args(&args, "$regexFindAll")? else {
        return Ok(Value::Array(Vec::new()));
    };
    let mut out = Vec::new();
    let mut pos = 0;
    while pos <= input.len() {
        let Some(caps) = re.find_at(&input, pos) else {
            break;
        };
        let (a, b) = caps.first().copied().flatten().unwrap_or((pos, pos));
        out.push(match_doc(&input, &caps));
        pos = if b > a {
            b
        } else {
            // An empty match moves on by one character.
            b + input
                .get(b..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8)
        };
    }
    Ok(Value::Array(out))
}

fn replace_impl(args: &[Value], name: &str, all: bool) -> R {
    let mut strs = Vec::with_capacity(3);
    let mut null = false;
    for (i, what) in ["input", "find", "replacement"].iter().enumerate() {
        match arg(args, i) {
            Value::String(s) => strs.push(s.clone()),
            v if is_nullish(v) => null = true,
            v => {
                return Err(agg_err!(
                    51746,
                    "{name} requires that '{what}' be a string, found: {}",
                    server_text(v)
                ))
            }
        }
    }
    if null {
        return Ok(Value::Null);
    }
    let [input, find, repl] = strs.as_slice() else {
        return Ok(Value::Null);
    };
    Ok(Value::String(if all {
        if find.is_empty() {
            input.clone()
        } else {
            input.replace(find.as_str(), repl)
        }
    } else {
        input.replacen(find.as_str(), repl, 1)
    }))
}

fn replace_one(args: Vec<Value>, _: &Env<'_>) -> R {
    replace_impl(&args, "$replaceOne", false)
}

fn replace_all(args: Vec<Value>, _: &Env<'_>) -> R {
    replace_impl(&args, "$replaceAll", true)
}

// ---- types

fn type_of(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::String(type_name(arg(&args, 0)).to_string()))
}

fn is_number(args: Vec<Value>, _: &Env<'_>) -> R {
    Ok(Value::Bool(arg(&args, 0).is_number()))
}

fn conversion_error(message: String) -> AggError {
    AggError::new(241, "ConversionFailure", message)
}

fn parse_number_string(s: &str, to: &str) -> Result<Value, AggError> {
    let fail = || {
        conversion_error(format!(
            "Failed to parse number '{s}' in $convert with no onError value: Did not consume whole string."
        ))
    };
    match to {
        "int" => s.parse::<i32>().map(Value::Int32).map_err(|_| fail()),
        "long" => s.parse::<i64>().map(Value::Int64).map_err(|_| fail()),
        _ => {
            let t = s.trim();
            if t != s || t.is_empty() {
                return Err(fail());
            }
            match t.to_ascii_lowercase().as_str() {
                "nan" => return Ok(Value::Double(f64::NAN)),
                "inf" | "infinity" => return Ok(Value::Double(f64::INFINITY)),
                "-inf" | "-infinity" => return Ok(Value::Double(f64::NEG_INFINITY)),
                _ => {}
            }
            t.parse::<f64>().map(Value::Double).map_err(|_| fail())
        }
    }
}

/// Converts `v` to the type named `to` (`$convert`'s rules); `Ok(None)` for null input.
pub fn convert_value(v: &Value, to: &str) -> Result<Value, AggError> {
    let unsupported = || {
        conversion_error(format!(
            "Unsupported conversion from {} to {to} in $convert with no onError value",
            type_name(v)
        ))
    };
    let f2i = |x: f64, lo: f64, hi: f64| -> Result<i64, AggError> {
        if x.is_nan() {
            return Err(conversion_error(
                "Attempt to convert NaN value to integer type in $convert with no onError value"
                    .into(),
            ));
        }
        if !x.is_finite() {
            return Err(conversion_error(
                "Attempt to convert infinity value to integer type in $convert with no onError value"
                    .into(),
            ));
        }
        if x < lo || x >= hi {
            return Err(conversion_error(format!(
                "Conversion would overflow target type in $convert with no onError value: {}",
                crate::mongo::value::js_number(x)
            )));
        }
        Ok(x.trunc() as i64)
    };
    Ok(match to {
        "double" => match v {
            Value::Double(_) => v.clone(),
            Value::Int32(i) => Value::Double(f64::from(*i)),
            Value::Int64(i) => Value::Double(*i as f64),
            Value::Bool(b) => Value::Double(f64::from(u8::from(*b))),
            Value::Date(ms) => Value::Double(*ms as f64),
            Value::Decimal128(d) => Value::Double(d.to_f64()),
            Value::String(s) => parse_number_string(s, "double")?,
            _ => return Err(unsupported()),
        },
        "int" => match v {
            Value::Int32(_) => v.clone(),
            Value::Int64(i) => match i32::try_from(*i) {
                Ok(x) => Value::Int32(x),
                Err(_) => {
                    return Err(conversion_error(format!(
                        "Conversion would overflow target type in $convert with no onError value: {i}"
                    )))
                }
            },
            Value::Double(x) => Value::Int32(f2i(*x, -2147483648.0, 2147483648.0)? as i32),
            Value::Decimal128(d) => {
                let i = decimal_to_integer(d, &f2i)?;
                match i32::try_from(i) {
                    Ok(x) => Value::Int32(x),
                    Err(_) => {
                        return Err(conversion_error(format!(
                            "Conversion would overflow target type in $convert with no onError value: {d}"
                        )))
                    }
                }
            }
            Value::Bool(b) => Value::Int32(i32::from(*b)),
            Value::String(s) => parse_number_string(s, "int")?,
            _ => return Err(unsupported()),
        },
        "long" => match v {
            Value::Int64(_) => v.clone(),
            Value::Int32(i) => Value::Int64(i64::from(*i)),
            Value::Double(x) => Value::Int64(f2i(*x, -9.223372036854776e18, 9.223372036854776e18)?),
            Value::Decimal128(d) => Value::Int64(decimal_to_integer(d, &f2i)?),
            Value::Bool(b) => Value::Int64(i64::from(*b)),
            Value::Date(ms) => Value::Int64(*ms),
            Value::String(s) => parse_number_string(s, "long")?,
            _ => return Err(unsupported()),
        },
        "bool" => match v {
            Value::Bool(_) => v.clone(),
            Value::Int32(i) => Value::Bool(*i != 0),
            Value::Int64(i) => Value::Bool(*i != 0),
            Value::Double(x) => Value::Bool(*x != 0.0),
            Value::Decimal128(d) => Value::Bool(!d.is_zero()),
            _ => Value::Bool(true),
        },
        "string" => match v {
            Value::String(_) => v.clone(),
            Value::Bool(b) => Value::String(b.to_string()),
            Value::Int32(i) => Value::String(i.to_string()),
            Value::Int64(i) => Value::String(i.to_string()),
            Value::Double(x) => Value::String(crate::mongo::value::js_number(*x)),
            Value::Decimal128(d) => Value::String(d.to_string()),
            Value::ObjectId(o) => Value::String(o.to_hex()),
            Value::Date(ms) => Value::String(date::format_date(*ms, "%Y-%m-%dT%H:%M:%S.%LZ", 0)),
            _ => return Err(unsupported()),
        },
        "objectId" => match v {
            Value::ObjectId(_) => v.clone(),
            Value::String(s) => match ObjectId::parse_hex(s) {
                Some(o) => Value::ObjectId(o),
                None => {
                    return Err(conversion_error(format!(
                        "Failed to parse objectId '{s}' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found {}",
                        s.len()
                    )))
                }
            },
            _ => return Err(unsupported()),
        },
        "date" => match v {
            Value::Date(_) => v.clone(),
            Value::Int64(i) => Value::Date(*i),
            Value::Double(x) => Value::Date(f2i(*x, -9.223372036854776e18, 9.223372036854776e18)?),
            Value::Decimal128(d) => Value::Date(decimal_to_integer(d, &f2i)?),
            Value::ObjectId(o) => Value::Date(i64::from(o.timestamp_secs()) * 1000),
            Value::String(s) => match date::parse_date_string(s) {
                Some(ms) => Value::Date(ms),
                None => {
                    return Err(conversion_error(format!(
                        "Error parsing date string '{s}'; 0: passing a time zone identifier as part of the string is not allowed"
                    )))
                }
            },
            _ => return Err(unsupported()),
        },
        "decimal" => match v {
            Value::Bool(b) => Value::Decimal128(Decimal128::from_i64(i64::from(*b))),
            Value::Date(ms) => Value::Decimal128(Decimal128::from_i64(*ms)),
            Value::String(s) => match Decimal128::parse(s) {
                Ok(d) => Value::Decimal128(d),
                Err(_) => {
                    return Err(conversion_error(format!(
                        "Failed to parse number '{s}' in $convert with no onError value: Failed to parse string to decimal"
                    )))
                }
            },
            n => match n.to_decimal() {
                Some(d) => Value::Decimal128(d),
                None => return Err(unsupported()),
            },
        },
        _ => {
            return Err(bad_to(to));
        }
    })
}

/// A decimal's integer part for `int`/`long`/`date` targets, with the same NaN, infinity
/// and overflow errors a double gets.
fn decimal_to_integer(
    d: &Decimal128,
    f2i: &dyn Fn(f64, f64, f64) -> Result<i64, AggError>,
) -> Result<i64, AggError> {
    match d.trunc_i64() {
        Some(i) => Ok(i),
        None => {
            f2i(d.to_f64(), -9.223372036854776e18, 9.223372036854776e18)?;
            Err(conversion_error(format!(
                "Conversion would overflow target type in $convert with no onError value: {d}"
            )))
        }
    }
}

fn bad_to(to: &str) -> AggError {
    AggError::new(2, "BadValue", format!("Unknown type name: {to}"))
}

/// The type `to` names, by string or BSON type number.
fn target_type(v: &Value) -> Result<String, AggError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        n if n.is_number() => Ok(match as_i64(n) {
            Some(1) => "double",
            Some(2) => "string",
            Some(7) => "objectId",
            Some(8) => "bool",
            Some(9) => "date",
            Some(16) => "int",
            Some(18) => "long",
            Some(19) => "decimal",
            _ => {
                return Err(AggError::new(
                    2,
                    "BadValue",
                    format!("Invalid type code: {}", server_text(n)),
                ))
            }
        }
        .to_string()),
        v => Err(agg_err!(
            4341105,
            "$convert's 'to' argument must be a string or number, but is {}",
            type_name(v)
        )),
    }
}

fn convert(args: Vec<Value>, _: &Env<'_>) -> R {
    let input = arg(&args, 0);
    let to = target_type(arg(&args, 1))?;
    if is_nullish(input) {
        return Ok(match arg(&args, 3) {
            Value::Undefined => Value::Null,
            v => v.clone(),
        });
    }
    match convert_value(input, &to) {
        Ok(v) => Ok(v),
        Err(e) if e.code == 241 => match arg(&args, 2) {
            Value::Undefined => Err(e),
            v => Ok(v.clone()),
        },
        Err(e) => Err(e),
    }
}

fn convert_to(args: &[Value], to: &str) -> R {
    let v = arg(args, 0);
    if is_nullish(v) {
        return Ok(Value::Null);
    }
    convert_value(v, to)
}

fn to_int(args: Vec<Value>, _: &Env<'_>) -> R {
    convert_to(&args, "int")
}

fn to_long(args: Vec<Value>, _: &Env<'_>) -> R {
    convert_to(&args, "long")
}

fn to_double(args: Vec<Value>, _: &Env<'_>) -> R {
    convert_to(&args, "double")
}

fn to_decimal(args: Vec<Value>, _: &Env<'_>) -> R {
    convert_to(&args, "decimal")
}

fn to_string(args: Vec<Value>, _: &Env<'_>) -> R {
    convert_to(&args, "string")
}

fn to_bool(args: Vec<Value>, _: &Env<'_>) -> R {
    convert_to(&args, "bool")
}

fn to_object_id(args: Vec<Value>, _: &Env<'_>) -> R {
    convert_to(&args, "objectId")
}

fn to_date(args: Vec<Value>, _: &Env<'_>) -> R {
    convert_to(&args, "date")
}

// ---- objects

fn merge_objects(args: Vec<Value>, _: &Env<'_>) -> R {
    let mut out = Document::default();
    for a in args {
        match a {
            Value::Document(d) => {
                for (k, v) in d {
                    out.insert(k, v);
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
        }
    }
    Ok(Value::Document(out))
}

fn get_field(args: Vec<Value>, env: &Env<'_>) -> R {
    // `{$getField: "name"}` or `{$getField: {field, input}}`, evaluated already: a document
    // argument with `field` is the long form.
    let (field, input) = match args.as_slice() {
        [Value::Document(d)] if d.contains_key("field") => (
            d.get("field").cloned().unwrap_or(Value::Undefined),
            d.get("input")
                .cloned()
                .unwrap_or_else(|| Value::Document(env.root.clone())),
        ),
        [f] => (f.clone(), Value::Document(env.root.clone())),
        _ => {
            return Err(agg_err!(
                3041703,
                "$getField requires 'field' to be specified"
            ))
        }
    };
    let Value::String(field) = field else {
        return Err(agg_err!(
            5654602,
            "$getField requires 'field' to evaluate to type String, but got {}",
            type_name(&field)
        ));
    };
    Ok(match input {
        Value::Document(d) => d.get(&field).cloned().unwrap_or(Value::Undefined),
        v if is_nullish(&v) => Value::Null,
        _ => Value::Undefined,
    })
}

fn set_field(args: Vec<Value>, _: &Env<'_>) -> R {
    let Value::String(field) = arg(&args, 0).clone() else {
        return Err(agg_err!(
            4161106,
            "$setField requires 'field' to evaluate to type String"
        ));
    };
    let mut d = match take(args.clone(), 1) {
        Value::Document(d) => d,
        v if is_nullish(&v) => return Ok(Value::Null),
        v => {
            return Err(agg_err!(
                4161105,
                "$setField requires 'input' to evaluate to type Object, but got {}",
                type_name(&v)
            ))
        }
    };
    match take(args, 2) {
        Value::Undefined => {
            d.shift_remove(&field);
        }
        v => {
            d.insert(field, v);
        }
    }
    Ok(Value::Document(d))
}

fn unset_field(args: Vec<Value>, env: &Env<'_>) -> R {
    let mut a = args;
    a.push(Value::Undefined);
    set_field(a, env)
}

fn object_to_array(args: Vec<Value>, _: &Env<'_>) -> R {
    match take(args, 0) {
        Value::Document(d) => Ok(Value::Array(
            d.into_iter()
                .map(|(k, v)| {
                    let mut e = Document::default();
                    e.insert("k".into(), Value::String(k));
                    e.insert("v".into(), v);
                    Value::Document(e)
                })
                .collect(),
        )),
        v if is_nullish(&v) => Ok(Value::Null),
        v => Err(agg_err!(
            40390,
            "$objectToArray requires a document input, found: {}",
            type_name(&v)
        )),
    }
}

fn array_to_object(args: Vec<Value>, _: &Env<'_>) -> R {
    let items = match take(args, 0) {
        Value::Array(items) => items,
        v if is_nullish(&v) => return Ok(Value::Null),
        v => {
            return Err(agg_err!(
                40386,
                "$arrayToObject requires an array input, found: {}",
                type_name(&v)
            ))
        }
    };
    let mut out = Document::default();
    for item in items {
        let (k, v) = match item {
            Value::Array(pair) => {
                if pair.len() != 2 {
                    return Err(agg_err!(
                        40397,
                        "$arrayToObject requires an array of size 2 arrays,found array of size: {}",
                        pair.len()
                    ));
                }
                let mut it = pair.into_iter();
                (
                    it.next().unwrap_or(Value::Null),
                    it.next().unwrap_or(Value::Null),
                )
            }
            Value::Document(mut d) => {
                if d.len() != 2 || !d.contains_key("k") || !d.contains_key("v") {
                    return Err(agg_err!(
                        40392,
                        "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of keys:{}",
                        d.len()
                    ));
                }
                (
                    d.shift_remove("k").unwrap_or(Value::Null),
                    d.shift_remove("v").unwrap_or(Value::Null),
                )
            }
            v => {
                return Err(agg_err!(
                    40398,
                    "Unrecognised input type format for $arrayToObject: {}",
                    type_name(&v)
                ))
            }
        };
        let Value::String(k) = k else {
            return Err(agg_err!(
                40394,
                "$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' is of type 'string'. Found type: {}",
                type_name(&k)
            ));
        };
        out.insert(k, v);
    }
    Ok(Value::Document(out))
}

fn unsupported_rand(_: Vec<Value>, _: &Env<'_>) -> R {
    Err(agg_err!(
        6050101,
        "$rand is not available in this sandbox (results must be reproducible); use $sample"
    ))
}

fn unsupported_meta(args: Vec<Value>, env: &Env<'_>) -> R {
    if let Some(Value::String(kind)) = args.first() {
        if let Some(v) = crate::mongo::search::stage::meta(kind, env.root) {
            return v;
        }
    }
    if matches!(args.first(), Some(Value::String(s)) if s == "textScore") {
        return match env.root.get(crate::mongo::index::text::SCORE_FIELD) {
            Some(v) => Ok(v.clone()),
            None => Err(agg_err!(
                40218,
                "query requires text score metadata, but it is not available"
            )),
        };
    }
    Err(agg_err!(
        6050102,
        "this $meta is not available in this sandbox (it has textScore, searchScore and vectorSearchScore)"
    ))
}

fn unsupported_function(_: Vec<Value>, _: &Env<'_>) -> R {
    Err(agg_err!(
        6050103,
        "server-side JavaScript ($function, $accumulator) is not available in this sandbox"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_in_trigonometry_errors_read_as_the_servers_stream_writes_them() {
        for (x, text) in [
            (2.0, "2"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1234567.0, "1.23457e+06"),
            (999999.5, "1e+06"),
            (123456.0, "123456"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (0.0, "0"),
        ] {
            assert_eq!(c_stream_double(x), text, "{x}");
        }
    }

    #[test]
    fn trigonometry_keeps_decimal_and_nan_and_checks_bounds() {
        let one = |v: Value| vec![v];
        let dec = Decimal128::from_f64(0.5);
        match trig(
            &one(Value::Decimal128(dec)),
            "$asin",
            Domain::Closed(-1.0, 1.0),
            f64::asin,
        ) {
            Ok(Value::Decimal128(d)) => assert!((d.to_f64() - 0.5f64.asin()).abs() < 1e-12),
            other => panic!("{other:?}"),
        }
        match trig(
            &one(Value::Double(f64::NAN)),
            "$acos",
            Domain::Closed(-1.0, 1.0),
            f64::acos,
        ) {
            Ok(Value::Double(x)) => assert!(x.is_nan()),
            other => panic!("{other:?}"),
        }
        assert!(trig(
            &one(Value::Int32(-2)),
            "$atanh",
            Domain::Closed(-1.0, 1.0),
            f64::atanh
        )
        .is_err());
        assert!(matches!(
            trig(&one(Value::Int64(1)), "$acosh", Domain::Closed(1.0, f64::INFINITY), f64::acosh),
            Ok(Value::Double(x)) if x == 0.0
        ));
    }
}
