//! Python's built-in functions, operators, the methods of str / bytes / list / dict / set,
//! and the json, time, datetime and asyncio functions snippets call.

use std::cell::RefCell;
use std::rc::Rc;

use super::interp::{Interp, R};
use super::modules;
use super::value::{
    cmp, dict_get, dict_set, eq, float_repr, hashable, range_len, repr, set_add, short, to_str,
    Dict, Obj, PyErr, Val,
};

const FUNCTIONS: &[&str] = &[
    "print",
    "len",
    "repr",
    "sum",
    "min",
    "max",
    "sorted",
    "enumerate",
    "zip",
    "isinstance",
    "round",
    "abs",
    "any",
    "all",
    "map",
    "filter",
    "reversed",
    "hasattr",
    "getattr",
    "iter",
    "next",
    "divmod",
    "hex",
    "chr",
    "ord",
    "id",
    "hash",
    "callable",
    "input",
    "open",
    "eval",
    "exec",
    "compile",
    "__import__",
    "globals",
    "locals",
    "vars",
    "dir",
    "setattr",
];

const TYPES: &[&str] = &[
    "int",
    "float",
    "str",
    "bool",
    "list",
    "dict",
    "tuple",
    "set",
    "bytes",
    "range",
    "type",
    "object",
    "frozenset",
];

/// Arguments by position or keyword.
pub struct Args {
    pub pos: Vec<Val>,
    pub kw: Vec<(String, Val)>,
}

impl Args {
    pub fn new(pos: Vec<Val>, kw: Vec<(String, Val)>) -> Args {
        Args { pos, kw }
    }
    pub fn get(&self, i: usize, name: &str) -> Option<Val> {
        self.pos.get(i).cloned().or_else(|| self.kw(name))
    }
    pub fn kw(&self, name: &str) -> Option<Val> {
        self.kw
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
    pub fn flag(&self, name: &str) -> bool {
        self.kw(name).is_some_and(|v| v.truthy())
    }
    pub fn need(&self, i: usize, name: &str, func: &str) -> R<Val> {
        self.get(i, name).ok_or_else(|| {
            PyErr::type_error(format!(
                "{func}() missing 1 required positional argument: '{name}'"
            ))
        })
    }
}

pub fn overflow() -> PyErr {
    PyErr::new(
        "OverflowError",
        "integer beyond 64 bits (the sandbox's ints are 64-bit)",
    )
}

pub fn lookup(name: &str) -> Option<Val> {
    if FUNCTIONS.contains(&name) {
        return Some(Val::Builtin(name.into()));
    }
    if TYPES.contains(&name) {
        return Some(Val::Class(name.into()));
    }
    if modules::is_exception_class(name) {
        return Some(Val::Class(name.into()));
    }
    None
}

fn int_of(v: &Val, what: &str) -> R<i64> {
    v.as_int().ok_or_else(|| {
        PyErr::type_error(format!(
            "'{}' object cannot be interpreted as an integer{what}",
            v.type_name()
        ))
    })
}

pub fn call(interp: &mut Interp, name: &str, pos: Vec<Val>, kw: Vec<(String, Val)>) -> R<Val> {
    let a = Args::new(pos, kw);
    match name {
        "print" => {
            let sep = match a.kw("sep") {
                Some(Val::None) | None => " ".to_string(),
                Some(v) => to_str(&v),
            };
            let end = match a.kw("end") {
                Some(Val::None) | None => "\n".to_string(),
                Some(v) => to_str(&v),
            };
            let text: Vec<String> = a.pos.iter().map(to_str).collect();
            interp.out.push_str(&text.join(&sep));
            interp.out.push_str(&end);
            Ok(Val::None)
        }
        "len" => {
            let v = a.need(0, "obj", "len")?;
            let n = match &v {
                Val::Str(s) => s.chars().count(),
                Val::Bytes(b) => b.len(),
                Val::List(l) | Val::Set(l) => l.borrow().len(),
                Val::Tuple(t) => t.len(),
                Val::Dict(d) => d.borrow().len(),
                Val::Range(x, y, z) => range_len(*x, *y, *z) as usize,
                _ => {
                    return Err(PyErr::type_error(format!(
                        "object of type '{}' has no len()",
                        v.type_name()
                    )))
                }
            };
            Ok(Val::Int(n as i64))
        }
        "repr" => Ok(Val::str(repr(&a.need(0, "obj", "repr")?))),
        "sum" => {
            let items = interp.iterate(&a.need(0, "iterable", "sum")?)?;
            let mut total = a.get(1, "start").unwrap_or(Val::Int(0));
            for i in items {
                total = binary(interp, "+", &total, &i)?;
            }
            Ok(total)
        }
        "min" | "max" => {
            let items = if a.pos.len() == 1 {
                interp.iterate(&a.pos[0])?
            } else {
                a.pos.clone()
            };
            let key = a.kw("key");
            let mut best: Option<(Val, Val)> = None;
            for i in items {
                let k = match &key {
                    Some(f) => interp.call(f, vec![i.clone()], Vec::new())?,
                    None => i.clone(),
                };
                let better = match &best {
                    None => true,
                    Some((bk, _)) => {
                        let o = cmp(&k, bk).ok_or_else(|| {
                            PyErr::type_error(format!(
                                "'<' not supported between instances of '{}' and '{}'",
                                k.type_name(),
                                bk.type_name()
                            ))
                        })?;
                        if name == "min" {
                            o.is_lt()
                        } else {
                            o.is_gt()
                        }
                    }
                };
                if better {
                    best = Some((k, i));
                }
            }
            match best {
                Some((_, v)) => Ok(v),
                None => a.kw("default").ok_or_else(|| {
                    PyErr::new("ValueError", format!("{name}() iterable argument is empty"))
                }),
            }
        }
        "sorted" => {
            let items = interp.iterate(&a.need(0, "iterable", "sorted")?)?;
            let items = sort_values(interp, items, a.kw("key"), a.flag("reverse"))?;
            Ok(Val::list(items))
        }
        "enumerate" => {
            let items = interp.iterate(&a.need(0, "iterable", "enumerate")?)?;
            let start = match a.get(1, "start") {
                Some(v) => int_of(&v, "")?,
                None => 0,
            };
            Ok(Val::obj(Obj::Iter(
                "enumerate",
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| Val::tuple(vec![Val::Int(start + i as i64), v]))
                    .collect(),
            )))
        }
        "zip" => {
            let mut lists = Vec::new();
            for v in &a.pos {
                lists.push(interp.iterate(v)?);
            }
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            let rows = (0..n)
                .map(|i| Val::tuple(lists.iter().map(|l| l[i].clone()).collect()))
                .collect();
            Ok(Val::obj(Obj::Iter("zip", rows)))
        }
        "reversed" => {
            let mut items = interp.iterate(&a.need(0, "sequence", "reversed")?)?;
            items.reverse();
            Ok(Val::obj(Obj::Iter("list_reverseiterator", items)))
        }
        "map" | "filter" => {
            let f = a.need(0, "function", name)?;
            let items = interp.iterate(&a.need(1, "iterable", name)?)?;
            let mut out = Vec::new();
            for i in items {
                if name == "map" {
                    out.push(interp.call(&f, vec![i], Vec::new())?);
                } else {
                    let keep = match &f {
                        Val::None => i.truthy(),
                        f => interp.call(f, vec![i.clone()], Vec::new())?.truthy(),
                    };
                    if keep {
                        out.push(i);
                    }
                }
            }
            Ok(Val::obj(Obj::Iter(
                if name == "map" { "map" } else { "filter" },
                out,
            )))
        }
        "iter" => Ok(Val::obj(Obj::Iter(
            "iterator",
            interp.iterate(&a.need(0, "object", "iter")?)?,
        ))),
        "next" => {
            let v = a.need(0, "iterator", "next")?;
            if let Val::Obj(o) = &v {
                if let Obj::Iter(_, items) = &mut *o.borrow_mut() {
                    if !items.is_empty() {
                        return Ok(items.remove(0));
                    }
                    return a
                        .get(1, "default")
                        .ok_or_else(|| PyErr::new("StopIteration", ""));
                }
                if matches!(&*o.borrow(), Obj::Cursor(_)) {
                    return super::pymongo::cursor_next(interp, o)?
                        .or_else(|| a.get(1, "default"))
                        .ok_or_else(|| PyErr::new("StopIteration", ""));
                }
            }
            Err(PyErr::type_error(format!(
                "'{}' object is not an iterator",
                v.type_name()
            )))
        }
        "isinstance" => {
            let v = a.need(0, "obj", "isinstance")?;
            let c = a.need(1, "class_or_tuple", "isinstance")?;
            Ok(Val::Bool(isinstance(&v, &c)))
        }
        "round" => {
            let v = a.need(0, "number", "round")?;
            match a.get(1, "ndigits") {
                None | Some(Val::None) => match v {
                    Val::Float(f) => {
                        let r = round_half_even(f);
                        if r.is_finite() && r.abs() < 9.2e18 {
                            Ok(Val::Int(r as i64))
                        } else {
                            Err(PyErr::new(
                                "OverflowError",
                                "cannot convert float infinity to integer",
                            ))
                        }
                    }
                    Val::Int(_) | Val::Bool(_) => Ok(Val::Int(v.as_int().unwrap_or(0))),
                    _ => Err(PyErr::type_error(format!(
                        "type {} doesn't define __round__ method",
                        v.type_name()
                    ))),
                },
                Some(n) => {
                    let n = int_of(&n, "")?.clamp(-308, 308);
                    match v {
                        Val::Float(f) => {
                            // Formatting rounds the decimal text half-even, as CPython does.
                            if n >= 0 {
                                let text = format!("{:.*}", n as usize, f);
                                Ok(Val::Float(text.parse().unwrap_or(f)))
                            } else {
                                let p = 10f64.powi((-n) as i32);
                                Ok(Val::Float(round_half_even(f / p) * p))
                            }
                        }
                        Val::Int(_) | Val::Bool(_) => Ok(Val::Int(v.as_int().unwrap_or(0))),
                        _ => Err(PyErr::type_error("type doesn't define __round__ method")),
                    }
                }
            }
        }
        "abs" => match a.need(0, "x", "abs")? {
            Val::Int(i) => i.checked_abs().map(Val::Int).ok_or_else(overflow),
            Val::Bool(b) => Ok(Val::Int(i64::from(b))),
            Val::Float(f) => Ok(Val::Float(f.abs())),
            v => Err(PyErr::type_error(format!(
                "bad operand type for abs(): '{}'",
                v.type_name()
            ))),
        },
        "any" | "all" => {
            let items = interp.iterate(&a.need(0, "iterable", name)?)?;
            Ok(Val::Bool(if name == "any" {
                items.iter().any(Val::truthy)
            } else {
                items.iter().all(Val::truthy)
            }))
        }
        "divmod" => {
            let x = a.need(0, "x", "divmod")?;
            let y = a.need(1, "y", "divmod")?;
            Ok(Val::tuple(vec![
                binary(interp, "//", &x, &y)?,
                binary(interp, "%", &x, &y)?,
            ]))
        }
        "hex" => {
            let i = int_of(&a.need(0, "x", "hex")?, "")?;
            Ok(Val::str(if i < 0 {
                format!("-0x{:x}", i.unsigned_abs())
            } else {
                format!("0x{i:x}")
            }))
        }
        "chr" => {
            let i = int_of(&a.need(0, "i", "chr")?, "")?;
            u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .map(|c| Val::str(c.to_string()))
                .ok_or_else(|| PyErr::new("ValueError", "chr() arg not in range(0x110000)"))
        }
        "ord" => match &a.need(0, "c", "ord")? {
            Val::Str(s) if s.chars().count() == 1 => {
                Ok(Val::Int(s.chars().next().map_or(0, |c| c as i64)))
            }
            v => Err(PyErr::type_error(format!(
                "ord() expected a character, but string of length {} found",
                repr(v).len()
            ))),
        },
        "hasattr" => {
            let v = a.need(0, "obj", "hasattr")?;
            let n = to_str(&a.need(1, "name", "hasattr")?);
            Ok(Val::Bool(interp.getattr(&v, &n).is_ok()))
        }
        "getattr" => {
            let v = a.need(0, "obj", "getattr")?;
            let n = to_str(&a.need(1, "name", "getattr")?);
            match interp.getattr(&v, &n) {
                Ok(x) => Ok(x),
                Err(e) => a.get(2, "default").ok_or(e),
            }
        }
        "callable" => Ok(Val::Bool(matches!(
            a.need(0, "obj", "callable")?,
            Val::Func(_) | Val::Builtin(_) | Val::Class(_) | Val::Method(_)
        ))),
        "id" | "hash" => Ok(Val::Int(140_000_000_000_000)),
        "json.dumps" => json_dumps(interp, &a),
        "json.loads" => {
            let text = match &a.need(0, "s", "loads")? {
                Val::Str(s) => s.to_string(),
                Val::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                v => {
                    return Err(PyErr::type_error(format!(
                        "the JSON object must be str, bytes or bytearray, not {}",
                        v.type_name()
                    )))
                }
            };
            json_loads(&text)
        }
        "time.sleep" | "asyncio.sleep" => {
            let secs = a.need(0, "secs", "sleep")?.as_f64().ok_or_else(|| {
                PyErr::type_error("'str' object cannot be interpreted as an integer")
            })?;
            if secs < 0.0 {
                return Err(PyErr::new(
                    "ValueError",
                    "sleep length must be non-negative",
                ));
            }
            let ms = (secs * 1000.0).round().min(1e15) as i64;
            interp.engines.clock.advance(ms);
            Ok(Val::None)
        }
        "time.time" => Ok(Val::Float(interp.now_ms() as f64 / 1000.0)),
        "time.monotonic" | "time.perf_counter" => Ok(Val::Float(interp.now_ms() as f64 / 1000.0)),
        "asyncio.run" => Ok(a.need(0, "main", "run")?),
        "asyncio.gather" => Ok(Val::list(a.pos.clone())),
        "math.floor" | "math.ceil" => {
            let x = a
                .need(0, "x", name)?
                .as_f64()
                .ok_or_else(|| PyErr::type_error("must be real number"))?;
            let r = if name == "math.floor" {
                x.floor()
            } else {
                x.ceil()
            };
            Ok(Val::Int(r as i64))
        }
        "math.sqrt" => {
            let x = a
                .need(0, "x", name)?
                .as_f64()
                .ok_or_else(|| PyErr::type_error("must be real number"))?;
            if x < 0.0 {
                return Err(PyErr::new("ValueError", "math domain error"));
            }
            Ok(Val::Float(x.sqrt()))
        }
        "datetime.datetime.now" | "datetime.datetime.utcnow" => {
            Ok(Val::obj(Obj::DateTime(interp.now_ms() as i64, 0)))
        }
        "datetime.datetime.fromtimestamp" | "datetime.datetime.utcfromtimestamp" => {
            let t = a
                .need(0, "timestamp", "fromtimestamp")?
                .as_f64()
                .ok_or_else(|| PyErr::type_error("an integer is required"))?;
            Ok(Val::obj(Obj::DateTime((t * 1000.0).round() as i64, 0)))
        }
        "redis.from_url" => Ok(Val::obj(Obj::Redis {
            decode: a.flag("decode_responses"),
        })),
        "input" | "open" | "eval" | "exec" | "compile" | "__import__" | "globals" | "locals"
        | "vars" | "dir" | "setattr" => Err(PyErr::unsupported(&format!("{name}()"))),
        _ => Err(PyErr::unsupported(&format!("{name}()"))),
    }
}

fn round_half_even(f: f64) -> f64 {
    let r = f.round();
    if (f - f.trunc()).abs() == 0.5 {
        2.0 * (f / 2.0).round()
    } else {
        r
    }
}

pub fn sort_values(
    interp: &mut Interp,
    items: Vec<Val>,
    key: Option<Val>,
    reverse: bool,
) -> R<Vec<Val>> {
    let mut keyed = Vec::with_capacity(items.len());
    for i in items {
        let k = match &key {
            Some(Val::None) | None => i.clone(),
            Some(f) => interp.call(f, vec![i.clone()], Vec::new())?,
        };
        keyed.push((k, i));
    }
    interp.step(keyed.len() as u64)?;
    let mut failed: Option<PyErr> = None;
    keyed.sort_by(|(x, _), (y, _)| {
        let o = match cmp(x, y) {
            Some(o) => o,
            None => {
                if failed.is_none() {
                    failed = Some(PyErr::type_error(format!(
                        "'<' not supported between instances of '{}' and '{}'",
                        x.type_name(),
                        y.type_name()
                    )));
                }
                std::cmp::Ordering::Equal
            }
        };
        if reverse {
            o.reverse()
        } else {
            o
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(keyed.into_iter().map(|(_, v)| v).collect())
}

fn isinstance(v: &Val, c: &Val) -> bool {
    match c {
        Val::Tuple(items) => items.iter().any(|c| isinstance(v, c)),
        Val::Class(name) => {
            let name: &str = name;
            match (name, v) {
                ("int", Val::Int(_) | Val::Bool(_)) => true,
                ("bool", Val::Bool(_)) => true,
                ("float", Val::Float(_)) => true,
                ("str", Val::Str(_)) => true,
                ("bytes", Val::Bytes(_)) => true,
                ("list", Val::List(_)) => true,
                ("tuple", Val::Tuple(_)) => true,
                ("dict", Val::Dict(_)) => true,
                ("set", Val::Set(_)) => true,
                ("object", _) => true,
                (_, Val::Exception(e)) => modules::is_subclass(&e.class, name),
                (_, Val::Obj(o)) => {
                    let o = o.borrow();
                    let class = super::value::obj_class(&o);
                    short(name) == class
                }
                _ => false,
            }
        }
        _ => false,
    }
}

pub fn construct(
    interp: &mut Interp,
    class: &str,
    pos: Vec<Val>,
    kw: Vec<(String, Val)>,
) -> R<Val> {
    let a = Args::new(pos, kw);
    if modules::is_exception_class(class) {
        let msg = match a.pos.len() {
            0 => String::new(),
            1 => to_str(&a.pos[0]),
            _ => repr(&Val::tuple(a.pos.clone())),
        };
        return Ok(Val::Exception(Rc::new(PyErr::new(class, msg))));
    }
    match class {
        "int" => match a.get(0, "x") {
            None => Ok(Val::Int(0)),
            Some(Val::Int(i)) => Ok(Val::Int(i)),
            Some(Val::Bool(b)) => Ok(Val::Int(i64::from(b))),
            Some(Val::Float(f)) => {
                if f.is_finite() && f.abs() < 9.2e18 {
                    Ok(Val::Int(f.trunc() as i64))
                } else {
                    Err(PyErr::new(
                        "OverflowError",
                        "cannot convert float infinity to integer",
                    ))
                }
            }
            Some(v @ (Val::Str(_) | Val::Bytes(_))) => {
                let text = match &v {
                    Val::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    _ => to_str(&v),
                };
                let base = match a.get(1, "base") {
                    Some(b) => int_of(&b, "")?,
                    None => 10,
                };
                let t = text.trim().replace('_', "");
                u32::try_from(base)
                    .ok()
                    .filter(|b| (2..=36).contains(b))
                    .and_then(|b| i64::from_str_radix(&t, b).ok())
                    .map(Val::Int)
                    .ok_or_else(|| {
                        PyErr::new(
                            "ValueError",
                            format!("invalid literal for int() with base {base}: {}", repr(&v)),
                        )
                    })
            }
            Some(v) => Err(PyErr::type_error(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                v.type_name()
            ))),
        },
        "float" => match a.get(0, "x") {
            None => Ok(Val::Float(0.0)),
            Some(v @ (Val::Str(_) | Val::Bytes(_))) => {
                let text = match &v {
                    Val::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    _ => to_str(&v),
                };
                let t = text.trim().to_ascii_lowercase();
                let parsed = match t.as_str() {
                    "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
                    "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
                    "nan" => Some(f64::NAN),
                    _ => t
                        .parse::<f64>()
                        .ok()
                        .filter(|_| !t.contains("inf") && !t.contains("nan")),
                };
                parsed.map(Val::Float).ok_or_else(|| {
                    PyErr::new(
                        "ValueError",
                        format!("could not convert string to float: {}", repr(&v)),
                    )
                })
            }
            Some(v) => v.as_f64().map(Val::Float).ok_or_else(|| {
                PyErr::type_error(format!(
                    "float() argument must be a string or a real number, not '{}'",
                    v.type_name()
                ))
            }),
        },
        "str" => match &(a.get(0, "object"), a.get(1, "encoding")) {
            (None, _) => Ok(Val::str("")),
            (Some(Val::Bytes(b)), Some(_)) => Ok(Val::str(String::from_utf8_lossy(b).as_ref())),
            (Some(v), _) => Ok(Val::str(to_str(v))),
        },
        "bool" => Ok(Val::Bool(a.get(0, "x").is_some_and(|v| v.truthy()))),
        "list" | "tuple" | "set" | "frozenset" => {
            let items = match a.get(0, "iterable") {
                Some(v) => interp.iterate(&v)?,
                None => Vec::new(),
            };
            Ok(match class {
                "list" => Val::list(items),
                "tuple" => Val::tuple(items),
                _ => {
                    let mut s = Vec::new();
                    for i in items {
                        hashable(&i)?;
                        set_add(&mut s, i);
                    }
                    Val::Set(Rc::new(RefCell::new(s)))
                }
            })
        }
        "dict" => {
            let mut d: Dict = Vec::new();
            if let Some(v) = a.pos.first() {
                match v {
                    Val::Dict(o) => d = o.borrow().clone(),
                    other => {
                        for pair in interp.iterate(other)? {
                            let kv = interp.iterate(&pair)?;
                            if kv.len() != 2 {
                                return Err(PyErr::new(
                                    "ValueError",
                                    format!("dictionary update sequence element has length {}; 2 is required", kv.len()),
                                ));
                            }
                            hashable(&kv[0])?;
                            dict_set(&mut d, kv[0].clone(), kv[1].clone());
                        }
                    }
                }
            }
            for (k, v) in &a.kw {
                dict_set(&mut d, Val::str(k.as_str()), v.clone());
            }
            Ok(Val::dict(d))
        }
        "bytes" => match &a.get(0, "source") {
            None => Ok(Val::bytes(Vec::new())),
            Some(Val::Str(s)) => Ok(Val::bytes(s.as_bytes())),
            Some(Val::Int(n)) if (0..=1 << 20).contains(n) => {
                Ok(Val::bytes(vec![0u8; *n as usize]))
            }
            Some(v) => {
                let items = interp.iterate(v)?;
                let mut out = Vec::new();
                for i in items {
                    match i.as_int() {
                        Some(b @ 0..=255) => out.push(b as u8),
                        _ => {
                            return Err(PyErr::new("ValueError", "bytes must be in range(0, 256)"))
                        }
                    }
                }
                Ok(Val::bytes(out))
            }
        },
        "range" => {
            let nums: Vec<i64> = a.pos.iter().map(|v| int_of(v, "")).collect::<R<_>>()?;
            let (start, stop, step) = match nums.as_slice() {
                [stop] => (0, *stop, 1),
                [start, stop] => (*start, *stop, 1),
                [start, stop, step] => (*start, *stop, *step),
                _ => return Err(PyErr::type_error("range expected at most 3 arguments")),
            };
            if step == 0 {
                return Err(PyErr::new("ValueError", "range() arg 3 must not be zero"));
            }
            Ok(Val::Range(start, stop, step))
        }
        "type" => {
            let v = a.need(0, "object", "type")?;
            Ok(Val::Class(
                match &v {
                    Val::Obj(_) | Val::Exception(_) => qualified_type(&v),
                    _ => v.type_name(),
                }
                .into(),
            ))
        }
        "object" => Err(PyErr::unsupported("object()")),
        _ => super::objects::construct(interp, class, a),
    }
}

fn qualified_type(v: &Val) -> String {
    match v {
        Val::Exception(e) => e.class.clone(),
        Val::Obj(o) => match &*o.borrow() {
            Obj::Redis { .. } => "redis.client.Redis".into(),
            Obj::Pipeline { .. } => "redis.client.Pipeline".into(),
            Obj::ObjectId(_) => "bson.objectid.ObjectId".into(),
            Obj::DateTime(..) => "datetime.datetime".into(),
            Obj::TimeDelta(_) => "datetime.timedelta".into(),
            Obj::Cursor(c) if c.command => {
                "pymongo.synchronous.command_cursor.CommandCursor".into()
            }
            Obj::Cursor(_) => "pymongo.synchronous.cursor.Cursor".into(),
            Obj::WriteResult { class, .. } => format!("pymongo.results.{class}"),
            o => super::value::obj_class(o).into(),
        },
        _ => v.type_name(),
    }
}

pub fn getattr(interp: &mut Interp, v: &Val, name: &str) -> R<Val> {
    let missing = || {
        PyErr::new(
            "AttributeError",
            format!("'{}' object has no attribute '{name}'", v.type_name()),
        )
    };
    match v {
        Val::Module(m) => modules::attr(m, name).ok_or_else(|| {
            let known = [
                "redis", "pymongo", "json", "time", "datetime", "asyncio", "bson", "math",
            ];
            if known.iter().any(|k| m.starts_with(k)) {
                PyErr::unsupported(&format!("'{m}.{name}'"))
            } else {
                PyErr::new(
                    "AttributeError",
                    format!("module '{m}' has no attribute '{name}'"),
                )
            }
        }),
        Val::Class(c) => match (&**c, name) {
            ("datetime.datetime", "now" | "utcnow" | "fromtimestamp" | "utcfromtimestamp") => {
                Ok(Val::Builtin(format!("datetime.datetime.{name}").into()))
            }
            ("datetime.timezone", "utc") => Ok(Val::None),
            ("redis.commands.json.path.Path", "root_path") => {
                Ok(Val::Builtin("Path.root_path".into()))
            }
            ("pymongo.ReturnDocument", "BEFORE") => Ok(Val::Bool(false)),
            ("pymongo.ReturnDocument", "AFTER") => Ok(Val::Bool(true)),
            (_, "__name__") => Ok(Val::str(short(c))),
            _ => Err(PyErr::new(
                "AttributeError",
                format!("type object '{}' has no attribute '{name}'", short(c)),
            )),
        },
        Val::Exception(e) => match name {
            "args" => Ok(Val::tuple(if e.msg.is_empty() {
                Vec::new()
            } else {
                vec![Val::str(e.msg.as_str())]
            })),
            "code" if e.class.starts_with("pymongo") => Ok(super::pymongo::error_code(e)),
            "details" if e.class.starts_with("pymongo") => Ok(super::pymongo::error_details(e)),
            _ => Err(missing()),
        },
        Val::Obj(o) => {
            super::objects::getattr(interp, v, o, name).and_then(|r| r.ok_or_else(missing))
        }
        Val::Str(_)
        | Val::Bytes(_)
        | Val::List(_)
        | Val::Dict(_)
        | Val::Set(_)
        | Val::Tuple(_)
        | Val::Int(_)
        | Val::Float(_) => {
            if has_method(v, name) {
                Ok(Val::Method(Rc::new((v.clone(), name.to_string()))))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

fn has_method(v: &Val, name: &str) -> bool {
    let methods: &[&str] = match v {
        Val::Str(_) => &[
            "upper",
            "lower",
            "strip",
            "lstrip",
            "rstrip",
            "split",
            "join",
            "replace",
            "startswith",
            "endswith",
            "format",
            "encode",
            "find",
            "count",
            "title",
            "capitalize",
            "isdigit",
            "isalpha",
            "zfill",
            "ljust",
            "rjust",
            "center",
            "splitlines",
            "index",
            "partition",
            "rsplit",
        ],
        Val::Bytes(_) => &[
            "decode",
            "startswith",
            "endswith",
            "split",
            "upper",
            "lower",
            "hex",
        ],
        Val::List(_) => &[
            "append", "extend", "pop", "insert", "remove", "index", "count", "sort", "reverse",
            "copy", "clear",
        ],
        Val::Tuple(_) => &["index", "count"],
        Val::Dict(_) => &[
            "get",
            "keys",
            "values",
            "items",
            "update",
            "pop",
            "setdefault",
            "copy",
            "clear",
        ],
        Val::Set(_) => &[
            "add",
            "remove",
            "discard",
            "union",
            "intersection",
            "difference",
            "copy",
            "pop",
            "issubset",
            "clear",
            "update",
        ],
        Val::Int(_) => &["bit_length", "to_bytes"],
        Val::Float(_) => &["is_integer"],
        _ => &[],
    };
    methods.contains(&name)
}

pub fn call_method(
    interp: &mut Interp,
    obj: &Val,
    name: &str,
    pos: Vec<Val>,
    kw: Vec<(String, Val)>,
) -> R<Val> {
    let a = Args::new(pos, kw);
    match obj {
        Val::Str(s) => str_method(interp, s, name, &a),
        Val::Bytes(b) => match name {
            "decode" => match String::from_utf8(b.to_vec()) {
                Ok(s) => Ok(Val::str(s)),
                Err(e) => Err(PyErr::new(
                    "UnicodeDecodeError",
                    format!(
                        "'utf-8' codec can't decode byte 0x{:02x} in position {}: invalid start byte",
                        b.get(e.utf8_error().valid_up_to()).copied().unwrap_or(0),
                        e.utf8_error().valid_up_to()
                    ),
                )),
            },
            "hex" => Ok(Val::str(b.iter().map(|x| format!("{x:02x}")).collect::<String>())),
            _ => {
                // The remaining bytes methods behave like their str counterparts on ASCII.
                let s: String = b.iter().map(|&c| c as char).collect();
                let r = str_method(interp, &s, name, &a)?;
                Ok(to_bytes_like(r))
            }
        },
        Val::List(l) => list_method(interp, l, name, &a),
        Val::Tuple(t) => {
            let l = Rc::new(RefCell::new(t.to_vec()));
            list_method(interp, &l, name, &a)
        }
        Val::Dict(d) => dict_method(interp, d, name, &a),
        Val::Set(s) => set_method(interp, s, name, &a),
        Val::Int(i) => match name {
            "bit_length" => Ok(Val::Int(64 - i64::from(i.unsigned_abs().leading_zeros()))),
            _ => Err(PyErr::unsupported(&format!("int.{name}()"))),
        },
        Val::Float(f) => Ok(Val::Bool(f.fract() == 0.0)),
        Val::Obj(o) => super::objects::call_method(interp, obj, o, name, a),
        _ => Err(PyErr::new(
            "AttributeError",
            format!("'{}' object has no attribute '{name}'", obj.type_name()),
        )),
    }
}

fn to_bytes_like(v: Val) -> Val {
    match &v {
        Val::Str(s) => Val::bytes(s.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>()),
        Val::List(l) => Val::list(l.borrow().iter().cloned().map(to_bytes_like).collect()),
        other => other.clone(),
    }
}

fn str_arg(a: &Args, i: usize, name: &str) -> R<Option<String>> {
    match &a.get(i, name) {
        None | Some(Val::None) => Ok(None),
        Some(Val::Str(s)) => Ok(Some(s.to_string())),
        Some(Val::Bytes(b)) => Ok(Some(b.iter().map(|&c| c as char).collect())),
        Some(v) => Err(PyErr::type_error(format!(
            "must be str or None, not {}",
            v.type_name()
        ))),
    }
}

fn str_method(interp: &mut Interp, s: &str, name: &str, a: &Args) -> R<Val> {
    let text = |t: String| Ok(Val::str(t));
    match name {
        "upper" => text(s.to_uppercase()),
        "lower" => text(s.to_lowercase()),
        "title" => {
            let mut out = String::new();
            let mut prev_alpha = false;
            for c in s.chars() {
                if prev_alpha {
                    out.extend(c.to_lowercase());
                } else {
                    out.extend(c.to_uppercase());
                }
                prev_alpha = c.is_alphabetic();
            }
            text(out)
        }
        "capitalize" => {
            let mut cs = s.chars();
            text(match cs.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(cs.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            })
        }
        "strip" | "lstrip" | "rstrip" => {
            let chars = str_arg(a, 0, "chars")?;
            let pred = |c: char| match &chars {
                Some(set) => set.contains(c),
                None => c.is_whitespace(),
            };
            text(match name {
                "strip" => s.trim_matches(pred).to_string(),
                "lstrip" => s.trim_start_matches(pred).to_string(),
                _ => s.trim_end_matches(pred).to_string(),
            })
        }
        "split" | "rsplit" => {
            let sep = str_arg(a, 0, "sep")?;
            let max = match a.get(1, "maxsplit") {
                Some(v) => int_of(&v, "")?,
                None => -1,
            };
            let parts: Vec<String> = match &sep {
                Some(sep) if sep.is_empty() => {
                    return Err(PyErr::new("ValueError", "empty separator"))
                }
                Some(sep) => {
                    if max < 0 {
                        s.split(sep.as_str()).map(String::from).collect()
                    } else if name == "split" {
                        s.splitn(max as usize + 1, sep.as_str())
                            .map(String::from)
                            .collect()
                    } else {
                        let mut v: Vec<String> = s
                            .rsplitn(max as usize + 1, sep.as_str())
                            .map(String::from)
                            .collect();
                        v.reverse();
                        v
                    }
                }
                None => s.split_whitespace().map(String::from).collect(),
            };
            Ok(Val::list(parts.into_iter().map(Val::str).collect()))
        }
        "splitlines" => Ok(Val::list(s.lines().map(Val::str).collect())),
        "join" => {
            let items = interp.iterate(&a.need(0, "iterable", "join")?)?;
            let mut parts = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Val::Str(x) => parts.push(x.to_string()),
                    other => {
                        return Err(PyErr::type_error(format!(
                            "sequence item {i}: expected str instance, {} found",
                            other.type_name()
                        )))
                    }
                }
            }
            text(parts.join(s))
        }
        "replace" => {
            let old = str_arg(a, 0, "old")?.unwrap_or_default();
            let new = str_arg(a, 1, "new")?.unwrap_or_default();
            text(s.replace(&old, &new))
        }
        "startswith" | "endswith" => {
            let arg = a.need(0, "prefix", name)?;
            let options = match &arg {
                Val::Tuple(t) => t.iter().map(to_str).collect(),
                Val::Bytes(b) => vec![b.iter().map(|&c| c as char).collect()],
                v => vec![to_str(v)],
            };
            Ok(Val::Bool(options.iter().any(|p: &String| {
                if name == "startswith" {
                    s.starts_with(p.as_str())
                } else {
                    s.ends_with(p.as_str())
                }
            })))
        }
        "find" | "index" => {
            let sub = str_arg(a, 0, "sub")?.unwrap_or_default();
            match s.find(&sub) {
                Some(byte) => Ok(Val::Int(s[..byte].chars().count() as i64)),
                None if name == "find" => Ok(Val::Int(-1)),
                None => Err(PyErr::new("ValueError", "substring not found")),
            }
        }
        "count" => {
            let sub = str_arg(a, 0, "sub")?.unwrap_or_default();
            Ok(Val::Int(if sub.is_empty() {
                s.chars().count() as i64 + 1
            } else {
                s.matches(&sub).count() as i64
            }))
        }
        "partition" => {
            let sep = str_arg(a, 0, "sep")?.unwrap_or_default();
            Ok(match s.split_once(&sep) {
                Some((x, y)) => Val::tuple(vec![Val::str(x), Val::str(sep.as_str()), Val::str(y)]),
                None => Val::tuple(vec![Val::str(s), Val::str(""), Val::str("")]),
            })
        }
        "encode" => Ok(Val::bytes(s.as_bytes())),
        "isdigit" => Ok(Val::Bool(
            !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()),
        )),
        "isalpha" => Ok(Val::Bool(
            !s.is_empty() && s.chars().all(char::is_alphabetic),
        )),
        "zfill" | "ljust" | "rjust" | "center" => {
            let width = int_of(&a.need(0, "width", name)?, "")?.clamp(0, 1 << 20) as usize;
            let fill = str_arg(a, 1, "fillchar")?
                .and_then(|f| f.chars().next())
                .unwrap_or(' ');
            let align = match name {
                "zfill" => '=',
                "ljust" => '<',
                "rjust" => '>',
                _ => '^',
            };
            text(pad(
                s,
                width,
                if name == "zfill" { '0' } else { fill },
                align,
            ))
        }
        "format" => {
            let mut out = String::new();
            let chars: Vec<char> = s.chars().collect();
            let mut i = 0;
            let mut auto = 0;
            while i < chars.len() {
                let c = chars[i];
                if c == '{' && chars.get(i + 1) == Some(&'{') {
                    out.push('{');
                    i += 2;
                } else if c == '}' && chars.get(i + 1) == Some(&'}') {
                    out.push('}');
                    i += 2;
                } else if c == '{' {
                    let end = chars[i..].iter().position(|&c| c == '}').map(|p| p + i);
                    let Some(end) = end else {
                        return Err(PyErr::new(
                            "ValueError",
                            "Single '{' encountered in format string",
                        ));
                    };
                    let field: String = chars[i + 1..end].iter().collect();
                    let (fname, spec) = field.split_once(':').unwrap_or((&field, ""));
                    let v = if fname.is_empty() {
                        auto += 1;
                        a.pos.get(auto - 1).cloned()
                    } else if let Ok(n) = fname.parse::<usize>() {
                        a.pos.get(n).cloned()
                    } else {
                        a.kw(fname)
                    };
                    let v = v.ok_or_else(|| {
                        PyErr::new(
                            "IndexError",
                            "Replacement index out of range for positional args tuple",
                        )
                    })?;
                    out.push_str(&format_spec(&v, spec)?);
                    i = end + 1;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            text(out)
        }
        _ => Err(PyErr::unsupported(&format!("str.{name}()"))),
    }
}

fn list_method(interp: &mut Interp, l: &Rc<RefCell<Vec<Val>>>, name: &str, a: &Args) -> R<Val> {
    match name {
        "append" => {
            l.borrow_mut().push(a.need(0, "object", "append")?);
            Ok(Val::None)
        }
        "extend" => {
            let items = interp.iterate(&a.need(0, "iterable", "extend")?)?;
            l.borrow_mut().extend(items);
            Ok(Val::None)
        }
        "insert" => {
            let i = int_of(&a.need(0, "index", "insert")?, "")?;
            let v = a.need(1, "object", "insert")?;
            let mut items = l.borrow_mut();
            let n = items.len() as i64;
            let at = if i < 0 { (n + i).max(0) } else { i.min(n) };
            items.insert(at as usize, v);
            Ok(Val::None)
        }
        "pop" => {
            let mut items = l.borrow_mut();
            let n = items.len() as i64;
            if n == 0 {
                return Err(PyErr::new("IndexError", "pop from empty list"));
            }
            let i = match a.get(0, "index") {
                Some(v) => int_of(&v, "")?,
                None => -1,
            };
            let at = if i < 0 { n + i } else { i };
            if at < 0 || at >= n {
                return Err(PyErr::new("IndexError", "pop index out of range"));
            }
            Ok(items.remove(at as usize))
        }
        "remove" => {
            let v = a.need(0, "value", "remove")?;
            let mut items = l.borrow_mut();
            match items.iter().position(|x| eq(x, &v)) {
                Some(p) => {
                    items.remove(p);
                    Ok(Val::None)
                }
                None => Err(PyErr::new("ValueError", "list.remove(x): x not in list")),
            }
        }
        "index" => {
            let v = a.need(0, "value", "index")?;
            l.borrow()
                .iter()
                .position(|x| eq(x, &v))
                .map(|p| Val::Int(p as i64))
                .ok_or_else(|| PyErr::new("ValueError", format!("{} is not in list", repr(&v))))
        }
        "count" => {
            let v = a.need(0, "value", "count")?;
            Ok(Val::Int(
                l.borrow().iter().filter(|x| eq(x, &v)).count() as i64
            ))
        }
        "sort" => {
            let items = l.borrow().clone();
            let sorted = sort_values(interp, items, a.kw("key"), a.flag("reverse"))?;
            *l.borrow_mut() = sorted;
            Ok(Val::None)
        }
        "reverse" => {
            l.borrow_mut().reverse();
            Ok(Val::None)
        }
        "copy" => Ok(Val::list(l.borrow().clone())),
        "clear" => {
            l.borrow_mut().clear();
            Ok(Val::None)
        }
        _ => Err(PyErr::unsupported(&format!("list.{name}()"))),
    }
}

fn dict_method(interp: &mut Interp, d: &Rc<RefCell<Dict>>, name: &str, a: &Args) -> R<Val> {
    match name {
        "get" => {
            let k = a.need(0, "key", "get")?;
            Ok(dict_get(&d.borrow(), &k)
                .unwrap_or_else(|| a.get(1, "default").unwrap_or(Val::None)))
        }
        "keys" => Ok(Val::obj(Obj::Iter(
            "dict_keys",
            d.borrow().iter().map(|(k, _)| k.clone()).collect(),
        ))),
        "values" => Ok(Val::obj(Obj::Iter(
            "dict_values",
            d.borrow().iter().map(|(_, v)| v.clone()).collect(),
        ))),
        "items" => Ok(Val::obj(Obj::Iter(
            "dict_items",
            d.borrow()
                .iter()
                .map(|(k, v)| Val::tuple(vec![k.clone(), v.clone()]))
                .collect(),
        ))),
        "update" => {
            if let Some(other) = a.pos.first() {
                let pairs: Dict = match other {
                    Val::Dict(o) => o.borrow().clone(),
                    v => {
                        let mut out = Vec::new();
                        for p in interp.iterate(v)? {
                            let kv = interp.iterate(&p)?;
                            if let [k, v] = kv.as_slice() {
                                out.push((k.clone(), v.clone()));
                            }
                        }
                        out
                    }
                };
                let mut me = d.borrow_mut();
                for (k, v) in pairs {
                    dict_set(&mut me, k, v);
                }
            }
            let mut me = d.borrow_mut();
            for (k, v) in &a.kw {
                dict_set(&mut me, Val::str(k.as_str()), v.clone());
            }
            Ok(Val::None)
        }
        "pop" => {
            let k = a.need(0, "key", "pop")?;
            let mut me = d.borrow_mut();
            match me.iter().position(|(x, _)| eq(x, &k)) {
                Some(p) => Ok(me.remove(p).1),
                None => a
                    .get(1, "default")
                    .ok_or_else(|| PyErr::new("KeyError", repr(&k))),
            }
        }
        "setdefault" => {
            let k = a.need(0, "key", "setdefault")?;
            hashable(&k)?;
            let mut me = d.borrow_mut();
            if let Some(v) = dict_get(&me, &k) {
                return Ok(v);
            }
            let v = a.get(1, "default").unwrap_or(Val::None);
            me.push((k, v.clone()));
            Ok(v)
        }
        "copy" => Ok(Val::dict(d.borrow().clone())),
        "clear" => {
            d.borrow_mut().clear();
            Ok(Val::None)
        }
        _ => Err(PyErr::unsupported(&format!("dict.{name}()"))),
    }
}

fn set_method(interp: &mut Interp, s: &Rc<RefCell<Vec<Val>>>, name: &str, a: &Args) -> R<Val> {
    let new_set = |items: Vec<Val>| Val::Set(Rc::new(RefCell::new(items)));
    match name {
        "add" => {
            let v = a.need(0, "elem", "add")?;
            hashable(&v)?;
            set_add(&mut s.borrow_mut(), v);
            Ok(Val::None)
        }
        "update" => {
            for v in &a.pos {
                for i in interp.iterate(v)? {
                    hashable(&i)?;
                    set_add(&mut s.borrow_mut(), i);
                }
            }
            Ok(Val::None)
        }
        "remove" | "discard" => {
            let v = a.need(0, "elem", name)?;
            let mut me = s.borrow_mut();
            match me.iter().position(|x| eq(x, &v)) {
                Some(p) => {
                    me.remove(p);
                    Ok(Val::None)
                }
                None if name == "discard" => Ok(Val::None),
                None => Err(PyErr::new("KeyError", repr(&v))),
            }
        }
        "pop" => {
            let mut me = s.borrow_mut();
            if me.is_empty() {
                return Err(PyErr::new("KeyError", "'pop from an empty set'"));
            }
            Ok(me.remove(0))
        }
        "union" | "intersection" | "difference" | "issubset" => {
            let other = interp.iterate(&a.need(0, "other", name)?)?;
            let me = s.borrow().clone();
            Ok(match name {
                "union" => {
                    let mut out = me;
                    for i in other {
                        set_add(&mut out, i);
                    }
                    new_set(out)
                }
                "intersection" => new_set(
                    me.into_iter()
                        .filter(|x| other.iter().any(|y| eq(x, y)))
                        .collect(),
                ),
                "difference" => new_set(
                    me.into_iter()
                        .filter(|x| !other.iter().any(|y| eq(x, y)))
                        .collect(),
                ),
                _ => Val::Bool(me.iter().all(|x| other.iter().any(|y| eq(x, y)))),
            })
        }
        "copy" => Ok(new_set(s.borrow().clone())),
        "clear" => {
            s.borrow_mut().clear();
            Ok(Val::None)
        }
        _ => Err(PyErr::unsupported(&format!("set.{name}()"))),
    }
}

fn index_of(i: &Val, len: usize, what: &str) -> R<usize> {
    let n = int_of(i, "").map_err(|_| {
        PyErr::type_error(format!(
            "{what} indices must be integers or slices, not {}",
            i.type_name()
        ))
    })?;
    let len = len as i64;
    let at = if n < 0 { n + len } else { n };
    if at < 0 || at >= len {
        return Err(PyErr::new(
            "IndexError",
            format!("{what} index out of range"),
        ));
    }
    Ok(at as usize)
}

fn slice_indices(parts: &[Val], len: usize) -> R<Vec<usize>> {
    let len = len as i64;
    let get = |i: usize| -> R<Option<i64>> {
        match parts.get(i) {
            None | Some(Val::None) => Ok(None),
            Some(v) => int_of(v, "").map(Some),
        }
    };
    let step = get(2)?.unwrap_or(1);
    if step == 0 {
        return Err(PyErr::new("ValueError", "slice step cannot be zero"));
    }
    let norm = |v: i64, lo: i64, hi: i64| -> i64 {
        let v = if v < 0 { v + len } else { v };
        v.clamp(lo, hi)
    };
    let mut out = Vec::new();
    if step > 0 {
        let start = get(0)?.map_or(0, |v| norm(v, 0, len));
        let stop = get(1)?.map_or(len, |v| norm(v, 0, len));
        let mut i = start;
        while i < stop {
            out.push(i as usize);
            i += step;
        }
    } else {
        let start = get(0)?.map_or(len - 1, |v| norm(v, -1, len - 1));
        let stop = get(1)?.map_or(-1, |v| norm(v, -1, len - 1));
        let mut i = start;
        while i > stop {
            out.push(i as usize);
            i += step;
        }
    }
    Ok(out)
}

pub fn get_item(interp: &mut Interp, o: &Val, i: &Val) -> R<Val> {
    let slice = match i {
        Val::Obj(s) => match &*s.borrow() {
            Obj::Iter("slice", parts) => Some(parts.clone()),
            _ => None,
        },
        _ => None,
    };
    if let Some(parts) = slice {
        return match o {
            Val::List(l) => {
                let items = l.borrow();
                let idx = slice_indices(&parts, items.len())?;
                Ok(Val::list(
                    idx.into_iter().map(|i| items[i].clone()).collect(),
                ))
            }
            Val::Tuple(t) => {
                let idx = slice_indices(&parts, t.len())?;
                Ok(Val::tuple(idx.into_iter().map(|i| t[i].clone()).collect()))
            }
            Val::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                let idx = slice_indices(&parts, chars.len())?;
                Ok(Val::str(
                    idx.into_iter().map(|i| chars[i]).collect::<String>(),
                ))
            }
            Val::Bytes(b) => {
                let idx = slice_indices(&parts, b.len())?;
                Ok(Val::bytes(
                    idx.into_iter().map(|i| b[i]).collect::<Vec<u8>>(),
                ))
            }
            _ => Err(PyErr::type_error(format!(
                "'{}' object is not subscriptable",
                o.type_name()
            ))),
        };
    }
    match o {
        Val::List(l) => {
            let items = l.borrow();
            Ok(items[index_of(i, items.len(), "list")?].clone())
        }
        Val::Tuple(t) => Ok(t[index_of(i, t.len(), "tuple")?].clone()),
        Val::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            Ok(Val::str(
                chars[index_of(i, chars.len(), "string")?].to_string(),
            ))
        }
        Val::Bytes(b) => Ok(Val::Int(i64::from(b[index_of(i, b.len(), "index")?]))),
        Val::Range(a, b, s) => {
            let n = range_len(*a, *b, *s) as usize;
            Ok(Val::Int(super::interp::range_item(
                *a,
                *s,
                index_of(i, n, "range object")? as i64,
            )))
        }
        Val::Dict(d) => {
            hashable(i)?;
            dict_get(&d.borrow(), i).ok_or_else(|| PyErr::new("KeyError", repr(i)))
        }
        Val::Obj(obj) => super::objects::get_item(interp, o, obj, i),
        Val::Class(_) => Ok(o.clone()),
        _ => Err(PyErr::type_error(format!(
            "'{}' object is not subscriptable",
            o.type_name()
        ))),
    }
}

pub fn set_item(o: &Val, i: Val, v: Val) -> R<()> {
    match o {
        Val::List(l) => {
            let mut items = l.borrow_mut();
            let at = index_of(&i, items.len(), "list assignment")?;
            items[at] = v;
            Ok(())
        }
        Val::Dict(d) => {
            hashable(&i)?;
            dict_set(&mut d.borrow_mut(), i, v);
            Ok(())
        }
        _ => Err(PyErr::type_error(format!(
            "'{}' object does not support item assignment",
            o.type_name()
        ))),
    }
}

pub fn del_item(o: &Val, i: &Val) -> R<()> {
    match o {
        Val::List(l) => {
            let mut items = l.borrow_mut();
            let at = index_of(i, items.len(), "list assignment")?;
            items.remove(at);
            Ok(())
        }
        Val::Dict(d) => {
            let mut me = d.borrow_mut();
            match me.iter().position(|(k, _)| eq(k, i)) {
                Some(p) => {
                    me.remove(p);
                    Ok(())
                }
                None => Err(PyErr::new("KeyError", repr(i))),
            }
        }
        _ => Err(PyErr::type_error(format!(
            "'{}' object does not support item deletion",
            o.type_name()
        ))),
    }
}

pub fn contains(interp: &mut Interp, container: &Val, item: &Val) -> R<bool> {
    match container {
        Val::Str(s) => match item {
            Val::Str(sub) => Ok(s.contains(&**sub)),
            _ => Err(PyErr::type_error(format!(
                "'in <string>' requires string as left operand, not {}",
                item.type_name()
            ))),
        },
        Val::Bytes(b) => match item {
            Val::Bytes(sub) => Ok(sub.is_empty() || b.windows(sub.len()).any(|w| w == &**sub)),
            Val::Int(i) => Ok(b.iter().any(|x| i64::from(*x) == *i)),
            _ => Err(PyErr::type_error("a bytes-like object is required")),
        },
        Val::Dict(d) => {
            hashable(item)?;
            Ok(d.borrow().iter().any(|(k, _)| eq(k, item)))
        }
        Val::Range(a, b, s) => Ok(match item.as_int() {
            Some(i) => {
                let n = range_len(*a, *b, *s);
                let (offset, step) = (i128::from(i) - i128::from(*a), i128::from(*s));
                n > 0 && offset % step == 0 && offset / step >= 0 && offset / step < i128::from(n)
            }
            None => false,
        }),
        other => Ok(interp.iterate(other)?.iter().any(|x| eq(x, item))),
    }
}

fn numeric_error(op: &str, a: &Val, b: &Val) -> PyErr {
    PyErr::type_error(format!(
        "unsupported operand type(s) for {op}: '{}' and '{}'",
        a.type_name(),
        b.type_name()
    ))
}

pub fn binary(interp: &mut Interp, op: &str, a: &Val, b: &Val) -> R<Val> {
    // Integers (bools included) stay integers, in 64 bits.
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
        let r = match op {
            "+" => x.checked_add(y),
            "-" => x.checked_sub(y),
            "*" => x.checked_mul(y),
            "/" => {
                if y == 0 {
                    return Err(PyErr::new("ZeroDivisionError", "division by zero"));
                }
                return Ok(Val::Float(x as f64 / y as f64));
            }
            "//" | "%" => {
                if y == 0 {
                    return Err(PyErr::new(
                        "ZeroDivisionError",
                        if op == "//" {
                            "integer division or modulo by zero"
                        } else {
                            "integer modulo by zero"
                        },
                    ));
                }
                let q = x.checked_div_euclid(y).ok_or_else(overflow)?;
                // Python floors toward negative infinity.
                let (q, r) = {
                    let r = x - q * y;
                    // The Euclidean remainder is never negative; Python's takes y's sign.
                    if r != 0 && y < 0 {
                        (q - 1, r + y)
                    } else {
                        (q, r)
                    }
                };
                Some(if op == "//" { q } else { r })
            }
            "**" => {
                if y < 0 {
                    return Ok(Val::Float((x as f64).powf(y as f64)));
                }
                u32::try_from(y).ok().and_then(|e| x.checked_pow(e))
            }
            "&" => Some(x & y),
            "|" => Some(x | y),
            "^" => Some(x ^ y),
            "<<" => u32::try_from(y)
                .ok()
                .filter(|s| *s < 63)
                .and_then(|s| x.checked_shl(s))
                .filter(|r| r >> y.clamp(0, 63) == x),
            ">>" => Some(x >> y.clamp(0, 63)),
            _ => return Err(numeric_error(op, a, b)),
        };
        if matches!((a, b, op), (Val::Bool(_), Val::Bool(_), "&" | "|" | "^")) {
            return Ok(Val::Bool(r.unwrap_or(0) != 0));
        }
        return r.map(Val::Int).ok_or_else(overflow);
    }
    if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
        let r = match op {
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            "/" => {
                if y == 0.0 {
                    return Err(PyErr::new("ZeroDivisionError", "float division by zero"));
                }
                x / y
            }
            "//" => {
                if y == 0.0 {
                    return Err(PyErr::new(
                        "ZeroDivisionError",
                        "float floor division by zero",
                    ));
                }
                (x / y).floor()
            }
            "%" => {
                if y == 0.0 {
                    return Err(PyErr::new("ZeroDivisionError", "float modulo"));
                }
                let r = x % y;
                if r != 0.0 && (r < 0.0) != (y < 0.0) {
                    r + y
                } else {
                    r
                }
            }
            "**" => x.powf(y),
            _ => return Err(numeric_error(op, a, b)),
        };
        return Ok(Val::Float(r));
    }
    // Building a sequence costs a step per item, so doubling loops stop at the budget.
    let size = |v: &Val| match v {
        Val::Str(s) => s.len(),
        Val::Bytes(s) => s.len(),
        Val::List(l) => l.borrow().len(),
        Val::Tuple(t) => t.len(),
        _ => 0,
    };
    if op == "+" {
        interp.step((size(a) + size(b)) as u64)?;
    }
    match (op, a, b) {
        ("+", Val::Str(x), Val::Str(y)) => Ok(Val::str(format!("{x}{y}"))),
        ("+", Val::Bytes(x), Val::Bytes(y)) => Ok(Val::bytes([&x[..], &y[..]].concat())),
        ("+", Val::List(x), Val::List(y)) => {
            let mut v = x.borrow().clone();
            v.extend(y.borrow().iter().cloned());
            Ok(Val::list(v))
        }
        ("+", Val::Tuple(x), Val::Tuple(y)) => {
            let mut v = x.to_vec();
            v.extend(y.iter().cloned());
            Ok(Val::tuple(v))
        }
        ("*", Val::Str(_) | Val::List(_) | Val::Tuple(_) | Val::Bytes(_), Val::Int(_))
        | ("*", Val::Int(_), Val::Str(_) | Val::List(_) | Val::Tuple(_) | Val::Bytes(_)) => {
            let (seq, n) = if let Val::Int(n) = b {
                (a, *n)
            } else {
                (b, a.as_int().unwrap_or(0))
            };
            let n = n.max(0) as usize;
            let len = match seq {
                Val::Str(s) => s.len(),
                Val::Bytes(s) => s.len(),
                Val::List(l) => l.borrow().len(),
                Val::Tuple(t) => t.len(),
                _ => 0,
            };
            interp.step(len.saturating_mul(n) as u64)?;
            Ok(match seq {
                Val::Str(s) => Val::str(s.repeat(n)),
                Val::Bytes(s) => Val::bytes(s.repeat(n)),
                Val::List(l) => Val::list(repeat_vals(&l.borrow(), n)),
                Val::Tuple(t) => Val::tuple(repeat_vals(t, n)),
                _ => Val::None,
            })
        }
        ("%", Val::Str(fmt), args) => percent_format(fmt, args),
        ("|", Val::Dict(x), Val::Dict(y)) => {
            let mut d = x.borrow().clone();
            for (k, v) in y.borrow().iter() {
                dict_set(&mut d, k.clone(), v.clone());
            }
            Ok(Val::dict(d))
        }
        ("|" | "&" | "-" | "^", Val::Set(x), Val::Set(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            let out: Vec<Val> = match op {
                "|" => {
                    let mut v = x.clone();
                    for i in y.iter() {
                        set_add(&mut v, i.clone());
                    }
                    v
                }
                "&" => x
                    .iter()
                    .filter(|i| y.iter().any(|j| eq(i, j)))
                    .cloned()
                    .collect(),
                "-" => x
                    .iter()
                    .filter(|i| !y.iter().any(|j| eq(i, j)))
                    .cloned()
                    .collect(),
                _ => x
                    .iter()
                    .filter(|i| !y.iter().any(|j| eq(i, j)))
                    .chain(y.iter().filter(|i| !x.iter().any(|j| eq(i, j))))
                    .cloned()
                    .collect(),
            };
            Ok(Val::Set(Rc::new(RefCell::new(out))))
        }
        (_, Val::Obj(_), _) | (_, _, Val::Obj(_)) => {
            super::objects::binary(op, a, b).ok_or_else(|| numeric_error(op, a, b))
        }
        _ => Err(numeric_error(op, a, b)),
    }
}

fn percent_format(fmt: &str, args: &Val) -> R<Val> {
    let items: Vec<Val> = match args {
        Val::Tuple(t) => t.to_vec(),
        v => vec![v.clone()],
    };
    let mut out = String::new();
    let mut it = items.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            chars.next();
            if n.is_ascii_alphabetic() || n == '%' {
                spec.push(n);
                break;
            }
            spec.push(n);
        }
        if spec == "%" {
            out.push('%');
            continue;
        }
        let v = it
            .next()
            .ok_or_else(|| PyErr::type_error("not enough arguments for format string"))?;
        let conv = spec.pop().unwrap_or('s');
        let pyspec = match conv {
            's' => spec.clone(),
            'r' => {
                out.push_str(&repr(v));
                continue;
            }
            'i' | 'u' => format!("{spec}d"),
            c => format!("{spec}{c}"),
        };
        out.push_str(&format_spec(v, &pyspec)?);
    }
    Ok(Val::str(out))
}

fn pad(s: &str, width: usize, fill: char, align: char) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let n = width - len;
    let f = |k: usize| std::iter::repeat_n(fill, k).collect::<String>();
    match align {
        '<' => format!("{s}{}", f(n)),
        '^' => format!("{}{s}{}", f(n / 2), f(n - n / 2)),
        '=' => {
            let (sign, rest) = if s.starts_with('-') || s.starts_with('+') {
                s.split_at(1)
            } else {
                ("", s)
            };
            format!("{sign}{}{rest}", f(n))
        }
        _ => format!("{}{s}", f(n)),
    }
}

fn group_thousands(digits: &str, sep: char) -> String {
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(a, b)| (a, Some(b)));
    let (sign, int) = if let Some(rest) = int.strip_prefix('-') {
        ("-", rest)
    } else {
        ("", int)
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// `format(value, spec)` for the common specs: fill/align, sign, width, grouping,
/// precision and the d / f / e / % / s types.
pub fn format_spec(v: &Val, spec: &str) -> R<String> {
    if spec.is_empty() {
        return Ok(to_str(v));
    }
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut fill = ' ';
    let mut align = None;
    if chars.len() >= 2 && matches!(chars[1], '<' | '>' | '^' | '=') {
        fill = chars[0];
        align = Some(chars[1]);
        i = 2;
    } else if matches!(chars.first(), Some('<' | '>' | '^' | '=')) {
        align = chars.first().copied();
        i = 1;
    }
    let mut sign = '-';
    if matches!(chars.get(i), Some('+' | '-' | ' ')) {
        sign = chars[i];
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        fill = '0';
        if align.is_none() {
            align = Some('=');
        }
        i += 1;
    }
    let mut width = 0usize;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        width = (width * 10 + d as usize).min(1 << 16);
        i += 1;
    }
    let mut grouping = None;
    if matches!(chars.get(i), Some(',' | '_')) {
        grouping = chars.get(i).copied();
        i += 1;
    }
    let mut precision = None;
    if chars.get(i) == Some(&'.') {
        i += 1;
        let mut p = 0usize;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            p = (p * 10 + d as usize).min(100);
            i += 1;
        }
        precision = Some(p);
    }
    let ty = chars.get(i).copied();
    if i + usize::from(ty.is_some()) != chars.len() {
        return Err(PyErr::new("ValueError", "Invalid format specifier"));
    }
    let numeric = matches!(v, Val::Int(_) | Val::Float(_) | Val::Bool(_));
    let body = match (ty, v) {
        (Some('d'), _) | (None, Val::Int(_)) if v.as_int().is_some() => {
            let n = v.as_int().unwrap_or(0);
            n.to_string()
        }
        (Some('f' | 'F' | '%' | 'e' | 'E' | 'g'), _) | (None, Val::Float(_)) if numeric => {
            let mut x = v.as_f64().unwrap_or(0.0);
            match ty {
                Some('%') => {
                    x *= 100.0;
                    format!("{:.*}%", precision.unwrap_or(6), x)
                }
                Some('e' | 'E') => {
                    let s = format!("{:.*e}", precision.unwrap_or(6), x);
                    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                    let e: i32 = e.parse().unwrap_or(0);
                    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
                }
                Some('f' | 'F') => format!("{:.*}", precision.unwrap_or(6), x),
                _ => match precision {
                    Some(p) => format!("{:.*}", p, x),
                    None => float_repr(x),
                },
            }
        }
        (Some('s') | None, _) => {
            let s = to_str(v);
            match precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            }
        }
        (Some('x'), _) if v.as_int().is_some() => format!("{:x}", v.as_int().unwrap_or(0)),
        _ => {
            return Err(PyErr::new(
                "ValueError",
                format!(
                    "Unknown format code '{}' for object of type '{}'",
                    ty.unwrap_or('s'),
                    v.type_name()
                ),
            ))
        }
    };
    let mut body = match grouping {
        Some(g) if numeric => group_thousands(&body, g),
        _ => body,
    };
    if numeric && !body.starts_with('-') && sign != '-' {
        body.insert(0, sign);
    }
    let align = align.unwrap_or(if numeric { '>' } else { '<' });
    Ok(pad(&body, width, fill, align))
}

pub fn enter(interp: &mut Interp, v: &Val) -> R<Val> {
    let _ = interp;
    Ok(v.clone())
}

/// `__exit__`; `failed` when the block raised.
pub fn exit(interp: &mut Interp, v: &Val, failed: bool) -> R<()> {
    let session = match v {
        Val::Obj(o) => match &*o.borrow() {
            Obj::MongoSession(var) => Some((var.clone(), false)),
            Obj::MongoTransaction(var) => Some((var.clone(), true)),
            _ => None,
        },
        _ => None,
    };
    if let Some((var, transaction)) = session {
        return super::pymongo::session_exit(interp, &var, transaction, failed);
    }
    // A pipeline used as a context manager is reset on exit, as redis-py does.
    if let Val::Obj(o) = v {
        if let Obj::Pipeline {
            queue,
            immediate,
            watching,
            ..
        } = &mut *o.borrow_mut()
        {
            if *watching {
                let now = interp.now_ms();
                interp.engines.redis.execute(&[b"UNWATCH".to_vec()], now);
            }
            queue.clear();
            *immediate = false;
            *watching = false;
        }
    }
    Ok(())
}

// ---- json ----

fn json_dumps(interp: &mut Interp, a: &Args) -> R<Val> {
    let v = a.need(0, "obj", "dumps")?;
    let indent = match &a.kw("indent") {
        Some(Val::Int(n)) => Some(" ".repeat((*n).clamp(0, 64) as usize)),
        Some(Val::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    let (item_sep, key_sep) = match a.kw("separators") {
        Some(s) => {
            let parts = interp.iterate(&s)?;
            match parts.as_slice() {
                [x, y] => (to_str(x), to_str(y)),
                _ => return Err(PyErr::new("ValueError", "separators must be a pair")),
            }
        }
        None => (
            if indent.is_some() { "," } else { ", " }.to_string(),
            ": ".to_string(),
        ),
    };
    let opts = JsonOpts {
        indent,
        item_sep,
        key_sep,
        sort_keys: a.flag("sort_keys"),
        ascii: a.kw("ensure_ascii").is_none_or(|v| v.truthy()),
        default: a.kw("default"),
    };
    let mut out = String::new();
    json_write(interp, &v, &opts, 0, &mut out)?;
    Ok(Val::str(out))
}

struct JsonOpts {
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
    ascii: bool,
    default: Option<Val>,
}

fn json_str(s: &str, ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ascii && c as u32 > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_write(interp: &mut Interp, v: &Val, o: &JsonOpts, depth: usize, out: &mut String) -> R<()> {
    if depth > 100 {
        return Err(PyErr::new(
            "RecursionError",
            "maximum recursion depth exceeded while encoding a JSON object",
        ));
    }
    interp.step(1)?;
    let newline = |out: &mut String, d: usize| {
        if let Some(ind) = &o.indent {
            out.push('\n');
            for _ in 0..d {
                out.push_str(ind);
            }
        }
    };
    match v {
        Val::None => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(i) => out.push_str(&i.to_string()),
        Val::Float(f) => out.push_str(&if f.is_nan() {
            "NaN".to_string()
        } else if f.is_infinite() {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
        } else {
            float_repr(*f)
        }),
        Val::Str(s) => json_str(s, o.ascii, out),
        Val::List(_) | Val::Tuple(_) => {
            let items = interp.iterate(v)?;
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&o.item_sep);
                }
                newline(out, depth + 1);
                json_write(interp, item, o, depth + 1, out)?;
            }
            newline(out, depth);
            out.push(']');
        }
        Val::Dict(d) => {
            let mut pairs = d.borrow().clone();
            if pairs.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if o.sort_keys {
                let keys: Vec<Val> = pairs.iter().map(|(k, _)| k.clone()).collect();
                let sorted = sort_values(interp, keys, None, false)?;
                pairs = sorted
                    .into_iter()
                    .filter_map(|k| dict_get(&pairs, &k).map(|v| (k, v)))
                    .collect();
            }
            out.push('{');
            for (i, (k, val)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(&o.item_sep);
                }
                newline(out, depth + 1);
                let key = match k {
                    Val::Str(s) => s.to_string(),
                    Val::Int(_) | Val::Float(_) => repr(k),
                    Val::Bool(b) => if *b { "true" } else { "false" }.to_string(),
                    Val::None => "null".to_string(),
                    _ => {
                        return Err(PyErr::type_error(format!(
                            "keys must be str, int, float, bool or None, not {}",
                            k.type_name()
                        )))
                    }
                };
                json_str(&key, o.ascii, out);
                out.push_str(&o.key_sep);
                json_write(interp, val, o, depth + 1, out)?;
            }
            newline(out, depth);
            out.push('}');
        }
        other => match &o.default {
            Some(f) => {
                let converted = interp.call(f, vec![other.clone()], Vec::new())?;
                json_write(interp, &converted, o, depth + 1, out)?;
            }
            None => {
                return Err(PyErr::type_error(format!(
                    "Object of type {} is not JSON serializable",
                    other.type_name()
                )))
            }
        },
    }
    Ok(())
}

pub fn json_loads(text: &str) -> R<Val> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        PyErr::new(
            "json.decoder.JSONDecodeError",
            format!(
                "Expecting value: line {} column {} (char {})",
                e.line(),
                e.column(),
                e.column().saturating_sub(1)
            ),
        )
    })?;
    Ok(from_json(&value))
}

pub fn from_json(v: &serde_json::Value) -> Val {
    match v {
        serde_json::Value::Null => Val::None,
        serde_json::Value::Bool(b) => Val::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Val::Int(i),
            None => Val::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Val::str(s.as_str()),
        serde_json::Value::Array(items) => Val::list(items.iter().map(from_json).collect()),
        serde_json::Value::Object(m) => Val::dict(
            m.iter()
                .map(|(k, v)| (Val::str(k.as_str()), from_json(v)))
                .collect(),
        ),
    }
}

fn repeat_vals(items: &[Val], n: usize) -> Vec<Val> {
    if items.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(items.len().saturating_mul(n));
    for _ in 0..n {
        out.extend(items.iter().cloned());
    }
    out
}
