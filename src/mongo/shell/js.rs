//! The JavaScript library lessons lean on: operators with JS conversion rules, the methods of
//! strings, arrays, numbers and dates, and the globals (`Math`, `JSON`, `Object`, `Array`,
//! `print`, `parseInt`, …). Everything here works on values; calling back into user
//! functions goes through the session, which counts steps.

use super::eval::{check_depth, js_date_string, js_to_number, number_value, truthy, Js, Session};
use super::ShellError;
use crate::mongo::value::{iso_date, js_number, Document, Value};

pub enum NativeKind {
    Namespace,
    Function,
}

const NAMESPACES: &[&str] = &[
    "Math", "JSON", "EJSON", "Object", "Array", "console", "Number", "String",
];

/// Global functions and the functions of the namespaces, by their full name.
const NATIVE_FUNCTIONS: &[&str] = &[
    "print",
    "printjson",
    "parseInt",
    "parseFloat",
    "isNaN",
    "isFinite",
    "Boolean",
    "Error",
    "Number",
    "String",
    "Object",
    "Array",
    "console.log",
    "console.info",
    "console.warn",
    "console.error",
    "Math.floor",
    "Math.ceil",
    "Math.round",
    "Math.trunc",
    "Math.random",
    "Math.max",
    "Math.min",
    "Math.abs",
    "Math.pow",
    "Math.sqrt",
    "Math.cbrt",
    "Math.sign",
    "Math.log",
    "Math.log10",
    "Math.log2",
    "Math.exp",
    "Math.hypot",
    "JSON.stringify",
    "JSON.parse",
    "EJSON.parse",
    "EJSON.stringify",
    "Object.keys",
    "Object.values",
    "Object.entries",
    "Object.assign",
    "Object.fromEntries",
    "Object.freeze",
    "Array.from",
    "Array.isArray",
    "Array.of",
    "Number.isInteger",
    "Number.isNaN",
    "Number.isFinite",
    "Number.parseInt",
    "Number.parseFloat",
    "String.fromCharCode",
    "Date.now",
    "Decimal128.fromString",
    "Binary.createFromBase64",
    "Binary.createFromHexString",
];

pub fn native_kind(name: &str) -> NativeKind {
    if NAMESPACES.contains(&name) && !NATIVE_FUNCTIONS.contains(&name) {
        NativeKind::Namespace
    } else {
        NativeKind::Function
    }
}

fn native(name: &str) -> Option<&'static str> {
    NATIVE_FUNCTIONS
        .iter()
        .chain(NAMESPACES)
        .find(|n| **n == name)
        .copied()
}

/// A global name other than `db` and the BSON constructors.
pub fn global(name: &str) -> Option<Js> {
    match name {
        "NaN" => Some(Js::Val(Value::Double(f64::NAN))),
        "Infinity" => Some(Js::Val(Value::Double(f64::INFINITY))),
        "globalThis" | "this" => Some(Js::Undefined),
        _ => native(name).map(Js::Native),
    }
}

pub fn native_member(ns: &str, name: &str) -> Js {
    let constant = match (ns, name) {
        ("Math", "PI") => Some(std::f64::consts::PI),
        ("Math", "E") => Some(std::f64::consts::E),
        ("Math", "LN2") => Some(std::f64::consts::LN_2),
        ("Math", "LN10") => Some(std::f64::consts::LN_10),
        ("Math", "SQRT2") => Some(std::f64::consts::SQRT_2),
        ("Number", "MAX_SAFE_INTEGER") => Some(9_007_199_254_740_991.0),
        ("Number", "MIN_SAFE_INTEGER") => Some(-9_007_199_254_740_991.0),
        ("Number", "EPSILON") => Some(f64::EPSILON),
        ("Number", "MAX_VALUE") => Some(f64::MAX),
        ("Number", "POSITIVE_INFINITY") => Some(f64::INFINITY),
        ("Number", "NEGATIVE_INFINITY") => Some(f64::NEG_INFINITY),
        ("Number", "NaN") => Some(f64::NAN),
        _ => None,
    };
    if let Some(c) = constant {
        return Js::Val(number_value(c));
    }
    native(&format!("{ns}.{name}")).map_or(Js::Undefined, Js::Native)
}

pub fn is_callable(v: &Js) -> bool {
    match v {
        Js::Function(_) | Js::Method { .. } | Js::Builtin(_) => true,
        Js::Native(n) => matches!(native_kind(n), NativeKind::Function),
        _ => false,
    }
}

pub fn type_of(v: &Js) -> &'static str {
    match v {
        Js::Undefined | Js::Val(Value::Undefined) => "undefined",
        Js::Val(Value::Double(_) | Value::Int32(_)) => "number",
        Js::Val(Value::String(_)) => "string",
        Js::Val(Value::Bool(_)) => "boolean",
        Js::Val(_) => "object",
        v if is_callable(v) => "function",
        _ => "object",
    }
}

/// JavaScript's ToNumber for a string: blanks are 0, hex/octal/binary prefixes count, and
/// only `Infinity` (not Rust's `inf` or `nan`) names an infinity.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    let (sign, body) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = t.strip_prefix(prefix) {
            return u64::from_str_radix(digits, radix).map_or(f64::NAN, |v| v as f64);
        }
    }
    let valid = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !valid || body.starts_with(['e', 'E']) {
        return f64::NAN;
    }
    body.parse::<f64>().map_or(f64::NAN, |v| sign * v)
}

pub fn to_int32(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    (n.trunc().rem_euclid(4_294_967_296.0) as u32) as i32
}

/// JavaScript's String(v) for a value.
pub fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Double(x) => js_number(*x),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Undefined => "undefined".into(),
        Value::ObjectId(o) => o.to_hex(),
        Value::Date(ms) => js_date_string(*ms),
        Value::Array(items) => items
            .iter()
            .map(|x| match x {
                Value::Null | Value::Undefined => String::new(),
                other => value_to_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Document(_) => "[object Object]".into(),
        Value::Regex { pattern, options } => format!("/{pattern}/{options}"),
        Value::Decimal128(d) => d.to_string(),
        other => crate::mongo::format::inspect(other, crate::mongo::format::Options::VALUE),
    }
}

/// The items `for … of`, spread and Array.from walk over.
pub fn iterate(v: &Js, text: &str) -> Result<Vec<Js>, ShellError> {
    match v {
        Js::Val(Value::Array(items)) => Ok(items.iter().cloned().map(val).collect()),
        Js::Val(Value::String(s)) => Ok(s
            .chars()
            .map(|c| Js::Val(Value::String(c.to_string())))
            .collect()),
        _ => Err(ShellError::type_error(format!("{text} is not iterable"))),
    }
}

/// A stored value as the evaluator sees it: a missing array slot reads as undefined.
fn val(v: Value) -> Js {
    match v {
        Value::Undefined => Js::Undefined,
        other => Js::Val(other),
    }
}

fn is_primitive(v: &Js) -> bool {
    matches!(
        v,
        Js::Undefined
            | Js::Val(
                Value::Double(_)
                    | Value::Int32(_)
                    | Value::Int64(_)
                    | Value::Bool(_)
                    | Value::Null
                    | Value::Undefined
                    | Value::String(_)
            )
    )
}

fn is_nullish(v: &Js) -> bool {
    matches!(v, Js::Undefined | Js::Val(Value::Null | Value::Undefined))
}

pub fn strict_equals(a: &Js, b: &Js) -> bool {
    match (a, b) {
        (Js::Undefined | Js::Val(Value::Undefined), Js::Undefined | Js::Val(Value::Undefined)) => {
            true
        }
        (Js::Val(x), Js::Val(y)) if x.is_number() && y.is_number() => {
            js_to_number(x) == js_to_number(y)
        }
        (Js::Val(Value::String(x)), Js::Val(Value::String(y))) => x == y,
        (Js::Val(Value::Bool(x)), Js::Val(Value::Bool(y))) => x == y,
        (Js::Val(Value::Null), Js::Val(Value::Null)) => true,
        // Objects compare by identity in JavaScript; values here have none, so equal
        // contents stand in for it.
        (
            Js::Val(
                x @ (Value::Document(_) | Value::Array(_) | Value::ObjectId(_) | Value::Date(_)),
            ),
            Js::Val(y),
        ) => crate::mongo::value::values_equal(x, y),
        _ => false,
    }
}

fn loose_equals(s: &Session, a: &Js, b: &Js) -> bool {
    if is_nullish(a) || is_nullish(b) {
        return is_nullish(a) && is_nullish(b);
    }
    if is_primitive(a) && is_primitive(b) {
        let same_kind = matches!(
            (a, b),
            (Js::Val(Value::String(_)), Js::Val(Value::String(_)))
                | (Js::Val(Value::Bool(_)), Js::Val(Value::Bool(_)))
        );
        if same_kind {
            return strict_equals(a, b);
        }
        return s.to_js_number(a) == s.to_js_number(b);
    }
    if is_primitive(a) != is_primitive(b) {
        let (p, o) = if is_primitive(a) { (a, b) } else { (b, a) };
        let o_str = s.to_js_string(o);
        if let Js::Val(Value::String(ps)) = p {
            return *ps == o_str;
        }
        return s.to_js_number(p) == string_to_number(&o_str);
    }
    strict_equals(a, b)
}

pub fn binary(s: &mut Session, op: &str, l: Js, r: Js) -> Result<Js, ShellError> {
    let num = |x: f64| Ok(Js::Val(number_value(x)));
    let bool_ = |b: bool| Ok(Js::Val(Value::Bool(b)));
    match op {
        "+" => {
            let stringy = |v: &Js| !is_primitive(v) || matches!(v, Js::Val(Value::String(_)));
            if stringy(&l) || stringy(&r) {
                let mut out = s.to_js_string(&l);
                out.push_str(&s.to_js_string(&r));
                check_string_length(out.len())?;
                // Strings are copied, not shared: building one costs steps in proportion
                // to its length, so `s += s` in a loop meets the step budget early.
                s.charge(out.len() as u64 / 64)?;
                return Ok(Js::Val(Value::String(out)));
            }
            num(s.to_js_number(&l) + s.to_js_number(&r))
        }
        "-" => num(s.to_js_number(&l) - s.to_js_number(&r)),
        "*" => num(s.to_js_number(&l) * s.to_js_number(&r)),
        "/" => num(s.to_js_number(&l) / s.to_js_number(&r)),
        "%" => num(s.to_js_number(&l) % s.to_js_number(&r)),
        "**" => num(s.to_js_number(&l).powf(s.to_js_number(&r))),
        "===" => bool_(strict_equals(&l, &r)),
        "!==" => bool_(!strict_equals(&l, &r)),
        "==" => bool_(loose_equals(s, &l, &r)),
        "!=" => bool_(!loose_equals(s, &l, &r)),
        "<" | ">" | "<=" | ">=" => {
            let ord = match (&l, &r) {
                (Js::Val(Value::String(a)), Js::Val(Value::String(b))) => {
                    Some(a.encode_utf16().cmp(b.encode_utf16()))
                }
                _ => s.to_js_number(&l).partial_cmp(&s.to_js_number(&r)),
            };
            let Some(ord) = ord else {
                return bool_(false);
            };
            bool_(match op {
                "<" => ord.is_lt(),
                ">" => ord.is_gt(),
                "<=" => ord.is_le(),
                _ => ord.is_ge(),
            })
        }
        "&" | "|" | "^" | "<<" | ">>" | ">>>" => {
            let a = to_int32(s.to_js_number(&l));
            let b = to_int32(s.to_js_number(&r));
            let shift = (b as u32) & 31;
            num(match op {
                "&" => f64::from(a & b),
                "|" => f64::from(a | b),
                "^" => f64::from(a ^ b),
                "<<" => f64::from(a.wrapping_shl(shift)),
                ">>" => f64::from(a >> shift),
                _ => f64::from((a as u32) >> shift),
            })
        }
        "in" => {
            let key = s.to_js_string(&l);
            bool_(match &r {
                Js::Val(Value::Document(d)) => d.contains_key(key.as_str()),
                Js::Val(Value::Array(a)) => {
                    key == "length" || key.parse::<usize>().is_ok_and(|i| i < a.len())
                }
                _ => {
                    return Err(ShellError::type_error(format!(
                        "Cannot use 'in' operator to search for '{key}' in {}",
                        s.to_js_string(&r)
                    )))
                }
            })
        }
        "instanceof" => bool_(matches!(
            (&l, &r),
            (Js::Val(Value::Array(_)), Js::Native("Array"))
                | (
                    Js::Val(Value::Date(_)),
                    Js::Builtin(super::eval::Builtin::Date)
                )
                | (
                    Js::Val(Value::ObjectId(_)),
                    Js::Builtin(super::eval::Builtin::ObjectId)
                )
                | (
                    Js::Val(Value::Document(_) | Value::Array(_)),
                    Js::Native("Object")
                )
        )),
        _ => Err(ShellError::new(
            "SyntaxError",
            format!("Unexpected operator '{op}'"),
        )),
    }
}

/// Properties of data values: fields, indexes, `length`, and methods by name.
pub fn value_member(v: Value, name: &str) -> Js {
    let method = |v: Value| Js::Method {
        target: Box::new(Js::Val(v)),
        name: name.to_string(),
    };
    match v {
        Value::Document(mut d) => match d.shift_remove(name) {
            Some(x) => val(x),
            None if matches!(name, "hasOwnProperty" | "toString" | "valueOf") => {
                method(Value::Document(d))
            }
            None => Js::Undefined,
        },
        Value::Array(mut items) => {
            if name == "length" {
                return Js::Val(number_value(items.len() as f64));
            }
            if let Ok(i) = name.parse::<usize>() {
                return if i < items.len() {
                    val(items.swap_remove(i))
                } else {
                    Js::Undefined
                };
            }
            if ARRAY_METHODS.contains(&name) || is_array_mutator(name) {
                method(Value::Array(items))
            } else {
                Js::Undefined
            }
        }
        Value::String(s) => {
            if name == "length" {
                return Js::Val(number_value(s.encode_utf16().count() as f64));
            }
            if let Ok(i) = name.parse::<usize>() {
                return s
                    .chars()
                    .nth(i)
                    .map_or(Js::Undefined, |c| Js::Val(Value::String(c.to_string())));
            }
            if STRING_METHODS.contains(&name) {
                method(Value::String(s))
            } else {
                Js::Undefined
            }
        }
        Value::Date(_) if name.starts_with("get") || DATE_METHODS.contains(&name) => method(v),
        Value::ObjectId(_) if OBJECT_ID_METHODS.contains(&name) => method(v),
        Value::Double(_) | Value::Int32(_) | Value::Int64(_)
            if matches!(name, "toFixed" | "toString" | "valueOf" | "toPrecision") =>
        {
            method(v)
        }
        Value::Bool(_) if name == "toString" => method(v),
        // The bson classes' own properties and methods.
        Value::Timestamp { t, i } => match name {
            "t" => Js::Val(number_value(f64::from(t))),
            "i" => Js::Val(number_value(f64::from(i))),
            "toString" | "toJSON" => method(v),
            _ => Js::Undefined,
        },
        Value::Binary { subtype, .. } if name == "sub_type" => {
            Js::Val(Value::Int32(i32::from(subtype)))
        }
        Value::Binary { .. } | Value::Decimal128(_)
            if matches!(name, "toString" | "toJSON" | "toHexString") =>
        {
            method(v)
        }
        Value::Regex { .. } if name == "source" => match v {
            Value::Regex { pattern, .. } => Js::Val(Value::String(pattern)),
            _ => Js::Undefined,
        },
        _ => Js::Undefined,
    }
}

const STRING_METHODS: &[&str] = &[
    "toUpperCase",
    "toLowerCase",
    "trim",
    "trimStart",
    "trimEnd",
    "split",
    "includes",
    "startsWith",
    "endsWith",
    "indexOf",
    "lastIndexOf",
    "slice",
    "substring",
    "substr",
    "charAt",
    "charCodeAt",
    "replace",
    "replaceAll",
    "padStart",
    "padEnd",
    "repeat",
    "concat",
    "at",
    "toString",
    "valueOf",
    "localeCompare",
];

const ARRAY_METHODS: &[&str] = &[
    "forEach",
    "map",
    "filter",
    "reduce",
    "find",
    "findIndex",
    "findLast",
    "some",
    "every",
    "slice",
    "concat",
    "join",
    "includes",
    "indexOf",
    "lastIndexOf",
    "flat",
    "flatMap",
    "at",
    "toString",
    "keys",
    "entries",
];

const DATE_METHODS: &[&str] = &[
    "toISOString",
    "toJSON",
    "toString",
    "valueOf",
    "toDateString",
];

const OBJECT_ID_METHODS: &[&str] = &[
    "toString",
    "toHexString",
    "getTimestamp",
    "equals",
    "valueOf",
];

pub fn is_array_mutator(name: &str) -> bool {
    matches!(
        name,
        "push" | "pop" | "shift" | "unshift" | "splice" | "sort" | "reverse" | "fill"
    )
}

fn arg(args: &[Js], i: usize) -> Js {
    args.get(i).cloned().unwrap_or(Js::Undefined)
}

/// A relative index argument (`slice(-2)`) resolved against a length.
fn rel_index(s: &Session, v: &Js, len: usize, default: usize) -> usize {
    if matches!(v, Js::Undefined) {
        return default;
    }
    let n = s.to_js_number(v);
    let n = if n.is_nan() { 0.0 } else { n.trunc() };
    if n < 0.0 {
        (len as f64 + n).max(0.0) as usize
    } else {
        n.min(len as f64) as usize
    }
}

fn callback(args: &[Js], what: &str) -> Result<Js, ShellError> {
    match args.first() {
        Some(f) if is_callable(f) => Ok(f.clone()),
        Some(other) => Err(ShellError::type_error(format!(
            "{} is not a function",
            describe_plain(other)
        ))),
        None => Err(ShellError::type_error(format!(
            "undefined is not a function ({what})"
        ))),
    }
}

fn describe_plain(v: &Js) -> String {
    match v {
        Js::Val(Value::String(s)) => format!("\"{s}\""),
        Js::Val(v) => value_to_string(v),
        Js::Undefined => "undefined".into(),
        _ => "object".into(),
    }
}

/// Array methods that change the array: the new contents and what the call returns.
pub fn array_mutate(
    s: &mut Session,
    mut items: Vec<Value>,
    name: &str,
    args: Vec<Js>,
) -> Result<(Vec<Value>, Js), ShellError> {
    let ret = match name {
        "push" => {
            for a in args {
                items.push(to_stored(s, a)?);
            }
            Js::Val(number_value(items.len() as f64))
        }
        "pop" => items.pop().map_or(Js::Undefined, val),
        "shift" => {
            if items.is_empty() {
                Js::Undefined
            } else {
                val(items.remove(0))
            }
        }
        "unshift" => {
            let mut front = Vec::with_capacity(args.len());
            for a in args {
                front.push(to_stored(s, a)?);
            }
            items.splice(0..0, front);
            Js::Val(number_value(items.len() as f64))
        }
        "splice" => {
            let len = items.len();
            let start = rel_index(s, &arg(&args, 0), len, 0);
            let count = match args.get(1) {
                None => len - start,
                Some(v) => {
                    let n = s.to_js_number(v);
                    if n.is_nan() || n < 0.0 {
                        0
                    } else {
                        (n as usize).min(len - start)
                    }
                }
            };
            let mut insert = Vec::new();
            for a in args.into_iter().skip(2) {
                insert.push(to_stored(s, a)?);
            }
            let removed: Vec<Value> = items.splice(start..start + count, insert).collect();
            Js::Val(Value::Array(removed))
        }
        "reverse" => {
            items.reverse();
            Js::Val(Value::Array(items.clone()))
        }
        "fill" => {
            let v = to_stored(s, arg(&args, 0))?;
            let len = items.len();
            let start = rel_index(s, &arg(&args, 1), len, 0);
            let end = rel_index(s, &arg(&args, 2), len, len);
            for x in items.iter_mut().take(end).skip(start) {
                *x = v.clone();
            }
            Js::Val(Value::Array(items.clone()))
        }
        _ => {
            // sort
            let cmp = args.into_iter().next().filter(is_callable);
            items = merge_sort(s, items, cmp.as_ref())?;
            Js::Val(Value::Array(items.clone()))
        }
    };
    check_depth(&Value::Array(Vec::new()))?;
    Ok((items, ret))
}

fn to_stored(s: &Session, v: Js) -> Result<Value, ShellError> {
    let v = match v {
        Js::Undefined => Value::Undefined,
        other => s.to_bson(other)?,
    };
    check_depth(&v)?;
    Ok(v)
}

/// A stable merge sort whose comparison may fail or be inconsistent (a comparator of
/// `Math.random() - 0.5` shuffles, and must not upset the sort).
fn merge_sort(
    s: &mut Session,
    items: Vec<Value>,
    cmp: Option<&Js>,
) -> Result<Vec<Value>, ShellError> {
    // JavaScript sorts undefined to the end without asking the comparator.
    let (mut defined, undefined): (Vec<Value>, Vec<Value>) = items
        .into_iter()
        .partition(|v| !matches!(v, Value::Undefined));
    let mut width = 1;
    let n = defined.len();
    while width < n {
        let mut out = Vec::with_capacity(n);
        let mut iter = defined.into_iter().peekable();
        loop {
            let left: Vec<Value> = iter.by_ref().take(width).collect();
            if left.is_empty() {
                break;
            }
            let right: Vec<Value> = iter.by_ref().take(width).collect();
            let (mut li, mut ri) = (left.into_iter().peekable(), right.into_iter().peekable());
            loop {
                match (li.peek(), ri.peek()) {
                    (Some(a), Some(b)) => {
                        let after = match cmp {
                            Some(f) => {
                                let r =
                                    s.call_value(f, vec![Js::Val(a.clone()), Js::Val(b.clone())])?;
                                s.to_js_number(&r) > 0.0
                            }
                            None => {
                                let (x, y) = (value_to_string(a), value_to_string(b));
                                x.encode_utf16().cmp(y.encode_utf16()).is_gt()
                            }
                        };
                        let next = if after { ri.next() } else { li.next() };
                        out.extend(next);
                    }
                    (Some(_), None) => out.extend(li.by_ref()),
                    (None, Some(_)) => out.extend(ri.by_ref()),
                    (None, None) => break,
                }
            }
        }
        defined = out;
        width *= 2;
    }
    defined.extend(undefined);
    Ok(defined)
}

/// Calls a method of a data value.
pub fn value_method(
    s: &mut Session,
    v: Value,
    name: &str,
    args: Vec<Js>,
) -> Result<Js, ShellError> {
    match v {
        Value::Array(items) => array_method(s, items, name, args),
        Value::String(text) => string_method(s, &text, name, &args),
        Value::Date(ms) => date_method(ms, name),
        Value::Decimal128(d) if name == "toJSON" => Ok(Js::Val(Value::Document(
            std::iter::once(("$numberDecimal".to_string(), Value::String(d.to_string()))).collect(),
        ))),
        Value::Decimal128(d) => Ok(Js::Val(Value::String(d.to_string()))),
        Value::Timestamp { t, i } => Ok(Js::Val(Value::String(
            ((u64::from(t) << 32) | u64::from(i)).to_string(),
        ))),
        Value::Binary { subtype, bytes } => {
            Ok(Js::Val(Value::String(match (name, args.first()) {
                ("toHexString", _) => crate::mongo::value::hex_string(&bytes),
                (_, None) if subtype == 4 && bytes.len() == 16 => {
                    crate::mongo::value::format_uuid(&bytes)
                }
                (_, Some(Js::Val(Value::String(enc)))) if enc == "hex" => {
                    crate::mongo::value::hex_string(&bytes)
                }
                (_, Some(Js::Val(Value::String(enc)))) if enc == "base64" => {
                    crate::mongo::value::base64_encode(&bytes)
                }
                // bson's Binary.toString() reads the bytes as UTF-8 by default.
                _ => String::from_utf8_lossy(&bytes).into_owned(),
            })))
        }
        Value::ObjectId(o) => Ok(match name {
            "getTimestamp" => Js::Val(Value::Date(i64::from(o.timestamp_secs()) * 1000)),
            "equals" => Js::Val(Value::Bool(
                matches!(args.first(), Some(Js::Val(Value::ObjectId(p))) if *p == o)
                    || matches!(args.first(), Some(Js::Val(Value::String(h))) if *h == o.to_hex()),
            )),
            _ => Js::Val(Value::String(o.to_hex())),
        }),
        Value::Document(d) => Ok(match name {
            "hasOwnProperty" => {
                let key = s.to_js_string(&arg(&args, 0));
                Js::Val(Value::Bool(d.contains_key(key.as_str())))
            }
            "toString" => Js::Val(Value::String("[object Object]".into())),
            _ => Js::Val(Value::Document(d)),
        }),
        n @ (Value::Double(_) | Value::Int32(_) | Value::Int64(_)) => {
            let x = js_to_number(&n);
            Ok(match name {
                "toFixed" => {
                    let digits = s.to_js_number(&arg(&args, 0));
                    let digits = if digits.is_nan() { 0.0 } else { digits };
                    if !(0.0..=100.0).contains(&digits) {
                        return Err(ShellError::new(
                            "RangeError",
                            "toFixed() digits argument must be between 0 and 100",
                        ));
                    }
                    let d = digits as usize;
                    // JavaScript rounds a tie away from zero; nudge by an ulp so Rust does too.
                    let nudged = if x >= 0.0 {
                        x + x * f64::EPSILON
                    } else {
                        x - x.abs() * f64::EPSILON
                    };
                    Js::Val(Value::String(if x.abs() >= 1e21 {
                        js_number(x)
                    } else {
                        format!("{nudged:.d$}")
                    }))
                }
                "toString" => {
                    let radix = match args.first() {
                        Some(r) => s.to_js_number(r),
                        None => 10.0,
                    };
                    Js::Val(Value::String(
                        if radix == 10.0 || !x.is_finite() || x.fract() != 0.0 {
                            value_to_string(&n)
                        } else {
                            int_to_radix(x as i64, radix as u32)
                        },
                    ))
                }
                "toPrecision" => Js::Val(Value::String(js_number(x))),
                _ => Js::Val(n),
            })
        }
        Value::Bool(b) => Ok(Js::Val(Value::String(b.to_string()))),
        other => Ok(Js::Val(other)),
    }
}

fn int_to_radix(mut n: i64, radix: u32) -> String {
    if !(2..=36).contains(&radix) {
        return n.to_string();
    }
    let neg = n < 0;
    let mut digits = Vec::new();
    loop {
        let d = (n % i64::from(radix)).unsigned_abs() as u32;
        digits.push(std::char::from_digit(d, radix).unwrap_or('0'));
        n /= i64::from(radix);
        if n == 0 {
            break;
        }
    }
    if neg {
        digits.push('-');
    }
    digits.iter().rev().collect()
}

fn array_method(
    s: &mut Session,
    items: Vec<Value>,
    name: &str,
    args: Vec<Js>,
) -> Result<Js, ShellError> {
    if is_array_mutator(name) {
        return array_mutate(s, items, name, args).map(|(_, r)| r);
    }
    let each = |s: &mut Session, f: &Js, x: &Value, i: usize| {
        s.call_value(f, vec![val(x.clone()), Js::Val(number_value(i as f64))])
    };
    Ok(match name {
        "forEach" => {
            let f = callback(&args, "forEach")?;
            for (i, x) in items.iter().enumerate() {
                each(s, &f, x, i)?;
            }
            Js::Undefined
        }
        "map" => {
            let f = callback(&args, "map")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                let v = each(s, &f, x, i)?;
                out.push(to_stored(s, v)?);
            }
            Js::Val(Value::Array(out))
        }
        "flatMap" => {
            let f = callback(&args, "flatMap")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                match each(s, &f, x, i)? {
                    Js::Val(Value::Array(inner)) => out.extend(inner),
                    v => out.push(to_stored(s, v)?),
                }
            }
            Js::Val(Value::Array(out))
        }
        "filter" => {
            let f = callback(&args, "filter")?;
            let mut out = Vec::new();
            for (i, x) in items.iter().enumerate() {
                if truthy(&each(s, &f, x, i)?) {
                    out.push(x.clone());
                }
            }
            Js::Val(Value::Array(out))
        }
        "find" | "findIndex" | "findLast" | "some" | "every" => {
            let f = callback(&args, name)?;
            let order: Vec<usize> = if name == "findLast" {
                (0..items.len()).rev().collect()
            } else {
                (0..items.len()).collect()
            };
            let mut found = None;
            for i in order {
                let Some(x) = items.get(i) else { continue };
                let hit = truthy(&each(s, &f, x, i)?);
                if hit != (name == "every") {
                    found = Some(i);
                    break;
                }
            }
            match (name, found) {
                ("find" | "findLast", Some(i)) => items.get(i).cloned().map_or(Js::Undefined, val),
                ("find" | "findLast", None) => Js::Undefined,
                ("findIndex", Some(i)) => Js::Val(number_value(i as f64)),
                ("findIndex", None) => Js::Val(Value::Int32(-1)),
                ("some", f) => Js::Val(Value::Bool(f.is_some())),
                (_, f) => Js::Val(Value::Bool(f.is_none())),
            }
        }
        "reduce" => {
            let f = callback(&args, "reduce")?;
            let mut iter = items.into_iter().enumerate();
            let mut acc = match args.get(1) {
                Some(init) => init.clone(),
                None => match iter.next() {
                    Some((_, first)) => val(first),
                    None => {
                        return Err(ShellError::type_error(
                            "Reduce of empty array with no initial value",
                        ))
                    }
                },
            };
            for (i, x) in iter {
                acc = s.call_value(&f, vec![acc, val(x), Js::Val(number_value(i as f64))])?;
            }
            acc
        }
        "slice" => {
            let len = items.len();
            let start = rel_index(s, &arg(&args, 0), len, 0);
            let end = rel_index(s, &arg(&args, 1), len, len);
            Js::Val(Value::Array(
                items.get(start..end.max(start)).unwrap_or(&[]).to_vec(),
            ))
        }
        "concat" => {
            let mut out = items;
            for a in args {
                match a {
                    Js::Val(Value::Array(more)) => out.extend(more),
                    other => out.push(to_stored(s, other)?),
                }
            }
            Js::Val(Value::Array(out))
        }
        "join" => {
            let sep = match args.first() {
                None | Some(Js::Undefined) => ",".to_string(),
                Some(v) => s.to_js_string(v),
            };
            let parts: Vec<String> = items
                .iter()
                .map(|x| match x {
                    Value::Null | Value::Undefined => String::new(),
                    other => value_to_string(other),
                })
                .collect();
            Js::Val(Value::String(parts.join(&sep)))
        }
        "toString" => Js::Val(Value::String(value_to_string(&Value::Array(items)))),
        "includes" | "indexOf" | "lastIndexOf" => {
            let needle = arg(&args, 0);
            let matches = |x: &Value| {
                let x = val(x.clone());
                if name == "includes" {
                    // includes finds NaN; indexOf does not.
                    strict_equals(&x, &needle)
                        || (s.to_js_number(&x).is_nan()
                            && s.to_js_number(&needle).is_nan()
                            && matches!(x, Js::Val(Value::Double(_))))
                } else {
                    strict_equals(&x, &needle)
                }
            };
            let pos = if name == "lastIndexOf" {
                items.iter().rposition(matches)
            } else {
                items.iter().position(matches)
            };
            if name == "includes" {
                Js::Val(Value::Bool(pos.is_some()))
            } else {
                Js::Val(number_value(pos.map_or(-1.0, |p| p as f64)))
            }
        }
        "flat" => {
            let mut out = Vec::new();
            for x in items {
                match x {
                    Value::Array(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            Js::Val(Value::Array(out))
        }
        "at" => {
            let n = s.to_js_number(&arg(&args, 0));
            let n = if n.is_nan() { 0.0 } else { n.trunc() };
            let i = if n < 0.0 { items.len() as f64 + n } else { n };
            if i < 0.0 {
                Js::Undefined
            } else {
                items.get(i as usize).cloned().map_or(Js::Undefined, val)
            }
        }
        "keys" => Js::Val(Value::Array(
            (0..items.len()).map(|i| number_value(i as f64)).collect(),
        )),
        "entries" => Js::Val(Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, x)| Value::Array(vec![number_value(i as f64), x]))
                .collect(),
        )),
        _ => {
            return Err(ShellError::type_error(format!(
                "array.{name} is not a function"
            )))
        }
    })
}

fn string_method(s: &mut Session, text: &str, name: &str, args: &[Js]) -> Result<Js, ShellError> {
    let str_arg = |s: &Session, i: usize| match args.get(i) {
        None | Some(Js::Undefined) => "undefined".to_string(),
        Some(v) => s.to_js_string(v),
    };
    let string = |x: String| Js::Val(Value::String(x));
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len();
    let sub = |a: usize, b: usize| -> String {
        chars
            .get(a..b.max(a))
            .map_or(String::new(), |c| c.iter().collect())
    };
    Ok(match name {
        "toUpperCase" => string(text.to_uppercase()),
        "toLowerCase" => string(text.to_lowercase()),
        "trim" => string(text.trim().into()),
        "trimStart" => string(text.trim_start().into()),
        "trimEnd" => string(text.trim_end().into()),
        "toString" | "valueOf" => string(text.into()),
        "split" => {
            let parts: Vec<Value> = match args.first() {
                None | Some(Js::Undefined) => vec![Value::String(text.into())],
                Some(Js::Val(Value::Regex { .. })) => {
                    return Err(ShellError::type_error(
                        "split with a regular expression is not supported in this sandbox",
                    ))
                }
                Some(sep) => {
                    let sep = s.to_js_string(sep);
                    if sep.is_empty() {
                        chars.iter().map(|c| Value::String(c.to_string())).collect()
                    } else {
                        text.split(sep.as_str())
                            .map(|p| Value::String(p.into()))
                            .collect()
                    }
                }
            };
            let limit = match args.get(1) {
                Some(Js::Val(n)) if n.is_number() => js_to_number(n).max(0.0) as usize,
                _ => usize::MAX,
            };
            Js::Val(Value::Array(parts.into_iter().take(limit).collect()))
        }
        "includes" => Js::Val(Value::Bool(text.contains(str_arg(s, 0).as_str()))),
        "startsWith" => Js::Val(Value::Bool(text.starts_with(str_arg(s, 0).as_str()))),
        "endsWith" => Js::Val(Value::Bool(text.ends_with(str_arg(s, 0).as_str()))),
        "indexOf" | "lastIndexOf" => {
            let needle = str_arg(s, 0);
            let byte = if name == "indexOf" {
                text.find(needle.as_str())
            } else {
                text.rfind(needle.as_str())
            };
            Js::Val(number_value(byte.map_or(-1.0, |b| {
                text.get(..b).map_or(0, |p| p.chars().count()) as f64
            })))
        }
        "slice" => {
            let a = rel_index(s, &arg(args, 0), len, 0);
            let b = rel_index(s, &arg(args, 1), len, len);
            string(sub(a, b))
        }
        "substring" => {
            let clamp = |v: &Js, d: usize| {
                if matches!(v, Js::Undefined) {
                    return d;
                }
                let n = s.to_js_number(v);
                if n.is_nan() || n < 0.0 {
                    0
                } else {
                    (n as usize).min(len)
                }
            };
            let a = clamp(&arg(args, 0), 0);
            let b = clamp(&arg(args, 1), len);
            string(sub(a.min(b), a.max(b)))
        }
        "substr" => {
            let a = rel_index(s, &arg(args, 0), len, 0);
            let n = match args.get(1) {
                None | Some(Js::Undefined) => len,
                Some(v) => s.to_js_number(v).max(0.0) as usize,
            };
            string(sub(a, a.saturating_add(n).min(len)))
        }
        "charAt" | "at" => {
            let n = s.to_js_number(&arg(args, 0));
            let n = if n.is_nan() { 0.0 } else { n.trunc() };
            let i = if n < 0.0 && name == "at" {
                len as f64 + n
            } else {
                n
            };
            let c = if i < 0.0 { None } else { chars.get(i as usize) };
            match (c, name) {
                (Some(c), _) => string(c.to_string()),
                (None, "at") => Js::Undefined,
                (None, _) => string(String::new()),
            }
        }
        "charCodeAt" => {
            let n = s.to_js_number(&arg(args, 0));
            let n = if n.is_nan() { 0.0 } else { n };
            let units: Vec<u16> = text.encode_utf16().collect();
            match units.get(n as usize) {
                Some(u) if n >= 0.0 => Js::Val(number_value(f64::from(*u))),
                _ => Js::Val(Value::Double(f64::NAN)),
            }
        }
        "replace" | "replaceAll" => {
            if matches!(args.first(), Some(Js::Val(Value::Regex { .. }))) {
                return Err(ShellError::type_error(
                    "replace with a regular expression is not supported in this sandbox",
                ));
            }
            let from = str_arg(s, 0);
            let replacement = arg(args, 1);
            let mut out = String::new();
            let mut rest = text;
            loop {
                let Some(at) = rest.find(from.as_str()) else {
                    out.push_str(rest);
                    break;
                };
                out.push_str(rest.get(..at).unwrap_or(""));
                let with = if is_callable(&replacement) {
                    let r = s.call_value(&replacement, vec![string(from.clone())])?;
                    s.to_js_string(&r)
                } else {
                    s.to_js_string(&replacement)
                };
                out.push_str(&with);
                rest = rest.get(at + from.len()..).unwrap_or("");
                if name == "replace" || from.is_empty() {
                    out.push_str(rest);
                    break;
                }
            }
            string(out)
        }
        "padStart" | "padEnd" => {
            let target = s.to_js_number(&arg(args, 0));
            let target = if target.is_nan() {
                0
            } else {
                target.min(1e6) as usize
            };
            let fill = match args.get(1) {
                None | Some(Js::Undefined) => " ".to_string(),
                Some(v) => s.to_js_string(v),
            };
            if target <= len || fill.is_empty() {
                string(text.into())
            } else {
                let pad: String = fill.chars().cycle().take(target - len).collect();
                string(if name == "padStart" {
                    pad + text
                } else {
                    format!("{text}{pad}")
                })
            }
        }
        "repeat" => {
            let n = s.to_js_number(&arg(args, 0));
            if n < 0.0 || n.is_infinite() {
                return Err(ShellError::new(
                    "RangeError",
                    format!("Invalid count value: {}", js_number(n)),
                ));
            }
            let n = if n.is_nan() { 0 } else { n as usize };
            check_string_length(text.len().saturating_mul(n))?;
            s.charge((text.len().saturating_mul(n) / 64) as u64)?;
            string(text.repeat(n))
        }
        "concat" => {
            let mut out = text.to_string();
            for a in args {
                out.push_str(&s.to_js_string(a));
            }
            string(out)
        }
        "localeCompare" => {
            let other = str_arg(s, 0);
            Js::Val(number_value(match text.cmp(other.as_str()) {
                std::cmp::Ordering::Less => -1.0,
                std::cmp::Ordering::Equal => 0.0,
                std::cmp::Ordering::Greater => 1.0,
            }))
        }
        _ => {
            return Err(ShellError::type_error(format!(
                "string.{name} is not a function"
            )))
        }
    })
}

fn date_method(ms: i64, name: &str) -> Result<Js, ShellError> {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::clock::civil_from_days(days);
    let n = |x: i64| Ok(Js::Val(number_value(x as f64)));
    let field = name
        .strip_prefix("getUTC")
        .or_else(|| name.strip_prefix("get"));
    match (name, field) {
        ("getTime" | "valueOf", _) => n(ms),
        ("toISOString" | "toJSON", _) => Ok(Js::Val(Value::String(iso_date(ms)))),
        ("toString", _) => Ok(Js::Val(Value::String(js_date_string(ms)))),
        ("toDateString", _) => Ok(Js::Val(Value::String(
            js_date_string(ms).chars().take(15).collect(),
        ))),
        (_, Some("FullYear")) => n(y),
        (_, Some("Month")) => n(i64::from(m) - 1),
        (_, Some("Date")) => n(i64::from(d)),
        (_, Some("Day")) => n((days + 4).rem_euclid(7)),
        (_, Some("Hours")) => n(rem / 3600),
        (_, Some("Minutes")) => n(rem % 3600 / 60),
        (_, Some("Seconds")) => n(rem % 60),
        (_, Some("Milliseconds")) => n(ms.rem_euclid(1000)),
        (_, Some("TimezoneOffset")) => n(0),
        _ => Err(ShellError::type_error(format!(
            "date.{name} is not a function"
        ))),
    }
}

/// How print / console.log show a value: strings raw, everything else inspected.
fn print_text(s: &Session, args: &[Js]) -> String {
    args.iter()
        .map(|a| match a {
            Js::Val(Value::String(t)) => t.clone(),
            Js::Val(v) => crate::mongo::format::inspect(v, crate::mongo::format::Options::VALUE),
            Js::Live(_) | Js::Cursor(_) => match s.to_bson(a.clone()) {
                Ok(v) => crate::mongo::format::inspect(&v, crate::mongo::format::Options::CURSOR),
                Err(_) => "Cursor".into(),
            },
            other => s.to_js_string(other),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn call_native(
    s: &mut Session,
    name: &str,
    args: Vec<Js>,
    is_new: bool,
) -> Result<Js, ShellError> {
    let num = |x: f64| Ok(Js::Val(number_value(x)));
    let n0 = s.to_js_number(&arg(&args, 0));
    match name {
        "print" | "printjson" | "console.log" | "console.info" | "console.warn"
        | "console.error" => {
            let text = print_text(s, &args);
            s.print_line(text);
            Ok(Js::Undefined)
        }
        "Math.floor" => num(n0.floor()),
        "Math.ceil" => num(n0.ceil()),
        // JavaScript rounds halves up (toward +Infinity), Rust away from zero.
        "Math.round" => num((n0 + 0.5).floor()),
        "Math.trunc" => num(n0.trunc()),
        "Math.abs" => num(n0.abs()),
        "Math.sqrt" => num(n0.sqrt()),
        "Math.cbrt" => num(n0.cbrt()),
        "Math.sign" => num(if n0.is_nan() || n0 == 0.0 {
            n0
        } else {
            n0.signum()
        }),
        "Math.log" => num(n0.ln()),
        "Math.log10" => num(n0.log10()),
        "Math.log2" => num(n0.log2()),
        "Math.exp" => num(n0.exp()),
        "Math.pow" => num(n0.powf(s.to_js_number(&arg(&args, 1)))),
        "Math.random" => num(s.random()),
        "Math.max" | "Math.min" | "Math.hypot" => {
            let xs: Vec<f64> = args.iter().map(|a| s.to_js_number(a)).collect();
            if xs.iter().any(|x| x.is_nan()) {
                return num(f64::NAN);
            }
            num(match name {
                "Math.max" => xs.into_iter().fold(f64::NEG_INFINITY, f64::max),
                "Math.min" => xs.into_iter().fold(f64::INFINITY, f64::min),
                _ => xs.into_iter().map(|x| x * x).sum::<f64>().sqrt(),
            })
        }
        "parseInt" | "Number.parseInt" => {
            let text = s.to_js_string(&arg(&args, 0));
            let radix = match args.get(1) {
                Some(r) => s.to_js_number(r),
                None => 0.0,
            };
            num(parse_int(&text, radix))
        }
        "parseFloat" | "Number.parseFloat" => {
            let text = s.to_js_string(&arg(&args, 0));
            num(parse_float(&text))
        }
        "isNaN" => Ok(Js::Val(Value::Bool(n0.is_nan()))),
        "isFinite" => Ok(Js::Val(Value::Bool(n0.is_finite()))),
        "Number.isNaN" => Ok(Js::Val(Value::Bool(
            matches!(args.first(), Some(Js::Val(v)) if v.is_number()) && n0.is_nan(),
        ))),
        "Number.isFinite" => Ok(Js::Val(Value::Bool(
            matches!(args.first(), Some(Js::Val(v)) if v.is_number()) && n0.is_finite(),
        ))),
        "Number.isInteger" => Ok(Js::Val(Value::Bool(
            matches!(args.first(), Some(Js::Val(v)) if v.is_number())
                && n0.is_finite()
                && n0.fract() == 0.0,
        ))),
        "Number" => num(if args.is_empty() { 0.0 } else { n0 }),
        "String" => Ok(Js::Val(Value::String(match args.first() {
            None => String::new(),
            Some(v) => s.to_js_string(v),
        }))),
        "Boolean" => Ok(Js::Val(Value::Bool(truthy(&arg(&args, 0))))),
        "String.fromCharCode" => Ok(Js::Val(Value::String(
            args.iter()
                .map(|a| {
                    char::from_u32(to_int32(s.to_js_number(a)) as u32 & 0xffff)
                        .unwrap_or('\u{fffd}')
                })
                .collect(),
        ))),
        "Error" => {
            let mut d = Document::default();
            d.insert("name".into(), Value::String("Error".into()));
            d.insert(
                "message".into(),
                Value::String(match args.first() {
                    None | Some(Js::Undefined) => String::new(),
                    Some(v) => s.to_js_string(v),
                }),
            );
            Ok(Js::Val(Value::Document(d)))
        }
        "Date.now" => num(s.now() as f64),
        "Decimal128.fromString" => Ok(Js::Val(super::bson::decimal(args.first())?)),
        "Binary.createFromBase64" => Ok(Js::Val(super::bson::binary_from_base64(
            args.first(),
            args.get(1),
        )?)),
        "Binary.createFromHexString" => Ok(Js::Val(super::bson::binary_from_hex(
            args.first(),
            args.get(1),
        )?)),
        "JSON.stringify" => {
            let indent = match args.get(2) {
                Some(Js::Val(v)) if v.is_number() => {
                    " ".repeat(js_to_number(v).clamp(0.0, 10.0) as usize)
                }
                Some(Js::Val(Value::String(t))) => t.chars().take(10).collect(),
                _ => String::new(),
            };
            match args.into_iter().next() {
                None | Some(Js::Undefined) => Ok(Js::Undefined),
                Some(v) if is_callable(&v) => Ok(Js::Undefined),
                Some(v) => {
                    let v = s.to_bson(v)?;
                    let mut out = String::new();
                    json_stringify(&mut out, &v, &indent, "");
                    Ok(Js::Val(Value::String(out)))
                }
            }
        }
        "EJSON.stringify" => {
            // Our relaxed Extended JSON, re-serialized compactly as bson's EJSON.stringify writes it.
            let v = s.to_bson(arg(&args, 0))?;
            let text = crate::mongo::value::to_relaxed_ejson(&v);
            let compact = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|j| serde_json::to_string(&j).ok())
                .unwrap_or(text);
            Ok(Js::Val(Value::String(compact)))
        }
        "JSON.parse" | "EJSON.parse" => {
            let ejson = name == "EJSON.parse";
            let text = s.to_js_string(&arg(&args, 0));
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(j) => {
                    let v = from_json(&j, 0, ejson)?;
                    check_depth(&v)?;
                    Ok(val(v))
                }
                Err(e) => Err(ShellError::new(
                    "SyntaxError",
                    if e.is_eof() {
                        "Unexpected end of JSON input".to_string()
                    } else {
                        format!(
                            "Unexpected token in JSON at line {} column {}",
                            e.line(),
                            e.column()
                        )
                    },
                )),
            }
        }
        "Object.keys" | "Object.values" | "Object.entries" => {
            let pairs: Vec<(String, Value)> = match args.into_iter().next() {
                Some(Js::Val(Value::Document(d))) => d.into_iter().collect(),
                Some(Js::Val(Value::Array(a))) => a
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v))
                    .collect(),
                Some(Js::Val(Value::String(t))) => t
                    .chars()
                    .enumerate()
                    .map(|(i, c)| (i.to_string(), Value::String(c.to_string())))
                    .collect(),
                None | Some(Js::Undefined) | Some(Js::Val(Value::Null)) => {
                    return Err(ShellError::type_error(
                        "Cannot convert undefined or null to object",
                    ))
                }
                _ => Vec::new(),
            };
            Ok(Js::Val(Value::Array(
                pairs
                    .into_iter()
                    .map(|(k, v)| match name {
                        "Object.keys" => Value::String(k),
                        "Object.values" => v,
                        _ => Value::Array(vec![Value::String(k), v]),
                    })
                    .collect(),
            )))
        }
        "Object.assign" => {
            let mut iter = args.into_iter();
            let mut target = match iter.next() {
                Some(Js::Val(Value::Document(d))) => d,
                _ => Document::default(),
            };
            for a in iter {
                if let Js::Val(Value::Document(d)) = a {
                    for (k, v) in d {
                        target.insert(k, v);
                    }
                }
            }
            Ok(Js::Val(Value::Document(target)))
        }
        "Object.fromEntries" => {
            let mut d = Document::default();
            if let Some(Js::Val(Value::Array(pairs))) = args.first() {
                for p in pairs {
                    if let Value::Array(kv) = p {
                        let k = kv.first().map(value_to_string).unwrap_or_default();
                        d.insert(k, kv.get(1).cloned().unwrap_or(Value::Undefined));
                    }
                }
            }
            Ok(Js::Val(Value::Document(d)))
        }
        "Object.freeze" => Ok(arg(&args, 0)),
        "Object" => Ok(match args.into_iter().next() {
            Some(v @ Js::Val(Value::Document(_))) => v,
            _ => Js::Val(Value::Document(Document::default())),
        }),
        "Array.isArray" => Ok(Js::Val(Value::Bool(matches!(
            args.first(),
            Some(Js::Val(Value::Array(_)))
        )))),
        "Array.of" => {
            let mut out = Vec::new();
            for a in args {
                out.push(to_stored(s, a)?);
            }
            Ok(Js::Val(Value::Array(out)))
        }
        "Array" => {
            if let [Js::Val(n)] = args.as_slice() {
                if n.is_number() {
                    let len = js_to_number(n);
                    if len < 0.0 || len.fract() != 0.0 || len > 10_000_000.0 {
                        return Err(ShellError::new("RangeError", "Invalid array length"));
                    }
                    s.charge(len as u64)?;
                    return Ok(Js::Val(Value::Array(vec![Value::Undefined; len as usize])));
                }
            }
            let _ = is_new;
            let mut out = Vec::new();
            for a in args {
                out.push(to_stored(s, a)?);
            }
            Ok(Js::Val(Value::Array(out)))
        }
        "Array.from" => {
            let mut iter = args.into_iter();
            let source = iter.next().unwrap_or(Js::Undefined);
            let f = iter.next().filter(is_callable);
            let items: Vec<Js> =
                match &source {
                    Js::Val(Value::Document(d)) => {
                        let len = d.get("length").map_or(0.0, js_to_number);
                        let len = if len.is_nan() || len < 0.0 {
                            0.0
                        } else {
                            len.trunc()
                        };
                        if len > 10_000_000.0 {
                            return Err(ShellError::new("RangeError", "Invalid array length"));
                        }
                        s.charge(len as u64)?;
                        (0..len as usize)
                            .map(|i| {
                                d.get(i.to_string().as_str())
                                    .cloned()
                                    .map_or(Js::Undefined, val)
                            })
                            .collect()
                    }
                    Js::Undefined | Js::Val(Value::Null) => return Err(ShellError::type_error(
                        "undefined is not iterable (cannot read property Symbol(Symbol.iterator))",
                    )),
                    other => iterate(other, "object").unwrap_or_default(),
                };
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.into_iter().enumerate() {
                let v = match &f {
                    Some(f) => s.call_value(f, vec![x, Js::Val(number_value(i as f64))])?,
                    None => x,
                };
                out.push(to_stored(s, v)?);
            }
            Ok(Js::Val(Value::Array(out)))
        }
        _ => Err(ShellError::type_error(format!("{name} is not a function"))),
    }
}

/// The longest string the sandbox builds (V8 allows about 512 MiB; a browser tab running a
/// lesson has no use for more than this).
const MAX_STRING_BYTES: usize = 16 * 1024 * 1024;

fn check_string_length(len: usize) -> Result<(), ShellError> {
    if len > MAX_STRING_BYTES {
        return Err(ShellError::new("RangeError", "Invalid string length"));
    }
    Ok(())
}

fn parse_int(text: &str, radix: f64) -> f64 {
    let t = text.trim_start();
    let (sign, mut body) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut radix = if radix.is_nan() { 0 } else { radix as u32 };
    if radix == 0 || radix == 16 {
        if let Some(rest) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            body = rest;
            radix = 16;
        }
    }
    if radix == 0 {
        radix = 10;
    }
    if !(2..=36).contains(&radix) {
        return f64::NAN;
    }
    let mut value = 0f64;
    let mut any = false;
    for c in body.chars() {
        match c.to_digit(radix) {
            Some(d) => {
                value = value * f64::from(radix) + f64::from(d);
                any = true;
            }
            None => break,
        }
    }
    if any {
        sign * value
    } else {
        f64::NAN
    }
}

fn parse_float(text: &str) -> f64 {
    let t = text.trim_start();
    if let Some(rest) = t
        .strip_prefix("Infinity")
        .or_else(|| t.strip_prefix("+Infinity"))
    {
        let _ = rest;
        return f64::INFINITY;
    }
    if t.starts_with("-Infinity") {
        return f64::NEG_INFINITY;
    }
    // The longest prefix that reads as a decimal number.
    let mut best = f64::NAN;
    for (i, c) in t.char_indices() {
        if !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) {
            break;
        }
        let end = i + c.len_utf8();
        if let Some(Ok(v)) = t.get(..end).map(str::parse::<f64>) {
            best = v;
        }
    }
    best
}

/// A parsed JSON value read as `EJSON.parse` reads it (the fuzz targets' document input).
// Only the fuzz targets read documents as Extended JSON text (see lib.rs for their gate).
#[cfg(all(not(target_arch = "wasm32"), feature = "search"))]
pub(crate) fn value_from_ejson(j: &serde_json::Value) -> Result<Value, ShellError> {
    from_json(j, 0, true)
}

/// A parsed JSON value as a BSON value; with `ejson`, Extended JSON wrappers (`{"$oid": …}`,
/// `{"$numberDecimal": …}`, …) become the values they stand for, as `EJSON.parse` reads them.
pub(super) fn from_json(
    j: &serde_json::Value,
    depth: usize,
    ejson: bool,
) -> Result<Value, ShellError> {
    if depth > super::eval::MAX_VALUE_DEPTH {
        return Err(ShellError::new(
            "RangeError",
            "Maximum call stack size exceeded",
        ));
    }
    Ok(match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => number_value(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| from_json(x, depth + 1, ejson))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(o) => {
            if ejson {
                if let Some(v) = crate::mongo::value::from_ejson_wrapper(o) {
                    return v.map_err(|m| ShellError::new("BSONError", m));
                }
            }
            let mut d = Document::default();
            for (k, v) in o {
                d.insert(k.clone(), from_json(v, depth + 1, ejson)?);
            }
            Value::Document(d)
        }
    })
}

/// JSON.stringify: ObjectIds and dates as their toJSON strings, undefined fields left out.
pub(super) fn json_stringify(out: &mut String, v: &Value, indent: &str, cur: &str) {
    let inner = format!("{cur}{indent}");
    let (open_nl, close_nl, colon) = if indent.is_empty() {
        (String::new(), String::new(), ":")
    } else {
        (format!("\n{inner}"), format!("\n{cur}"), ": ")
    };
    match v {
        Value::String(s) => crate::mongo::value::json_string(out, s),
        Value::Double(x) if !x.is_finite() => out.push_str("null"),
        Value::Double(_) | Value::Int32(_) | Value::Int64(_) => out.push_str(&value_to_string(v)),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::ObjectId(o) => crate::mongo::value::json_string(out, &o.to_hex()),
        Value::Date(ms) => crate::mongo::value::json_string(out, &iso_date(*ms)),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&open_nl);
                match x {
                    Value::Undefined => out.push_str("null"),
                    other => json_stringify(out, other, indent, &inner),
                }
            }
            out.push_str(&close_nl);
            out.push(']');
        }
        Value::Document(d) => {
            let fields: Vec<_> = d
                .iter()
                .filter(|(_, x)| !matches!(x, Value::Undefined))
                .collect();
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, x)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&open_nl);
                crate::mongo::value::json_string(out, k);
                out.push_str(colon);
                json_stringify(out, x, indent, &inner);
            }
            out.push_str(&close_nl);
            out.push('}');
        }
        Value::Regex { .. } => out.push_str("{}"),
        // The bson classes' toJSON gives their Extended JSON.
        Value::Decimal128(_) | Value::MinKey | Value::MaxKey | Value::Binary { .. } => {
            // No strings with separators inside these, so compacting the text is safe.
            let ejson = crate::mongo::value::to_relaxed_ejson(v);
            out.push_str(&ejson.replace(": ", ":").replace(", ", ","));
        }
        _ => out.push_str("null"),
    }
}
