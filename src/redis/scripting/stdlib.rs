//! The Lua libraries a Redis script sees: the base functions, `string`, `table`, `math` and
//! `bit` (LuaBitOp), with Lua 5.1's argument errors ("bad argument #1 to 'rep' ...").

use super::pattern;
use super::vm::{
    compare, fmt_g, fmt_number, Args, Error, Func, NativeFn, Rets, Table, TableRef, Value, Vm,
    MAX_STRING,
};
use std::rc::Rc;

pub fn native(name: &'static str, f: NativeFn) -> Value {
    Value::Func(Rc::new(Func::Native(name, f)))
}

pub fn register(t: &TableRef, fns: &[(&'static str, NativeFn)]) {
    let mut t = t.borrow_mut();
    for (name, f) in fns {
        t.set(Value::str(name), native(name, *f));
    }
}

pub fn arg_error(vm: &Vm, n: usize, name: &str, msg: &str) -> Error {
    vm.error(format!("bad argument #{n} to '{name}' ({msg})"))
}

fn type_error(vm: &Vm, args: &Args, n: usize, name: &str, expected: &str) -> Error {
    if expected == "value" {
        return arg_error(vm, n + 1, name, "value expected");
    }
    let got = args.get(n).map(|v| v.type_name()).unwrap_or("no value");
    arg_error(vm, n + 1, name, &format!("{expected} expected, got {got}"))
}

pub fn check_str(vm: &Vm, args: &Args, n: usize, name: &str) -> Result<Rc<[u8]>, Error> {
    args.get(n)
        .and_then(Value::to_str)
        .ok_or_else(|| type_error(vm, args, n, name, "string"))
}

pub fn check_num(vm: &Vm, args: &Args, n: usize, name: &str) -> Result<f64, Error> {
    args.get(n)
        .and_then(Value::to_num)
        .ok_or_else(|| type_error(vm, args, n, name, "number"))
}

/// `luaL_checkinteger`: the number truncated, as Lua 5.1 casts it.
pub fn check_int(vm: &Vm, args: &Args, n: usize, name: &str) -> Result<i64, Error> {
    check_num(vm, args, n, name).map(to_int)
}

pub fn opt_int(vm: &Vm, args: &Args, n: usize, name: &str, default: i64) -> Result<i64, Error> {
    match args.get(n) {
        None | Some(Value::Nil) => Ok(default),
        _ => check_int(vm, args, n, name),
    }
}

/// C's cast of a double to a 64-bit integer as x86 does it: out of range is i64::MIN.
pub fn to_int(n: f64) -> i64 {
    if n.is_finite() && n > -9.223_372_036_854_776e18 && n < 9.223_372_036_854_776e18 {
        n as i64
    } else {
        i64::MIN
    }
}

fn check_table(vm: &Vm, args: &Args, n: usize, name: &str) -> Result<TableRef, Error> {
    match args.get(n) {
        Some(Value::Table(t)) => Ok(t.clone()),
        _ => Err(type_error(vm, args, n, name, "table")),
    }
}

fn arg(args: &Args, n: usize) -> Value {
    args.get(n).cloned().unwrap_or_default()
}

pub fn install(vm: &mut Vm) {
    let g = vm.st.globals.clone();
    register(
        &g,
        &[
            ("assert", assert),
            ("error", error),
            ("getmetatable", getmetatable),
            ("ipairs", ipairs),
            ("next", next),
            ("pairs", pairs),
            ("pcall", pcall),
            ("rawequal", rawequal),
            ("rawget", rawget),
            ("rawset", rawset),
            ("select", select),
            ("setmetatable", setmetatable),
            ("tonumber", tonumber),
            ("tostring", tostring),
            ("type", type_),
            ("unpack", unpack),
            ("xpcall", xpcall),
        ],
    );
    let string = vm.st.string_lib.clone();
    register(
        &string,
        &[
            ("byte", str_byte),
            ("char", str_char),
            ("find", str_find),
            ("format", str_format),
            ("gmatch", str_gmatch),
            ("gsub", str_gsub),
            ("len", str_len),
            ("lower", str_lower),
            ("match", str_match),
            ("rep", str_rep),
            ("reverse", str_reverse),
            ("sub", str_sub),
            ("upper", str_upper),
        ],
    );
    let table = Table::new_ref();
    register(
        &table,
        &[
            ("concat", tbl_concat),
            ("getn", tbl_getn),
            ("insert", tbl_insert),
            ("maxn", tbl_maxn),
            ("remove", tbl_remove),
            ("sort", tbl_sort),
            ("unpack", unpack),
        ],
    );
    let math = Table::new_ref();
    register(
        &math,
        &[
            ("abs", |vm, a| num1(vm, a, "abs", f64::abs)),
            ("acos", |vm, a| num1(vm, a, "acos", f64::acos)),
            ("asin", |vm, a| num1(vm, a, "asin", f64::asin)),
            ("atan", |vm, a| num1(vm, a, "atan", f64::atan)),
            ("atan2", math_atan2),
            ("ceil", |vm, a| num1(vm, a, "ceil", f64::ceil)),
            ("cos", |vm, a| num1(vm, a, "cos", f64::cos)),
            ("cosh", |vm, a| num1(vm, a, "cosh", f64::cosh)),
            ("deg", |vm, a| num1(vm, a, "deg", f64::to_degrees)),
            ("exp", |vm, a| num1(vm, a, "exp", f64::exp)),
            ("floor", |vm, a| num1(vm, a, "floor", f64::floor)),
            ("fmod", math_fmod),
            ("frexp", math_frexp),
            ("ldexp", math_ldexp),
            ("log", |vm, a| num1(vm, a, "log", f64::ln)),
            ("log10", |vm, a| num1(vm, a, "log10", f64::log10)),
            ("max", math_max),
            ("min", math_min),
            ("modf", math_modf),
            ("pow", math_pow),
            ("rad", |vm, a| num1(vm, a, "rad", f64::to_radians)),
            ("random", math_random),
            ("randomseed", math_randomseed),
            ("sin", |vm, a| num1(vm, a, "sin", f64::sin)),
            ("sinh", |vm, a| num1(vm, a, "sinh", f64::sinh)),
            ("sqrt", |vm, a| num1(vm, a, "sqrt", f64::sqrt)),
            ("tan", |vm, a| num1(vm, a, "tan", f64::tan)),
            ("tanh", |vm, a| num1(vm, a, "tanh", f64::tanh)),
        ],
    );
    {
        let mut m = math.borrow_mut();
        m.set(Value::str("pi"), Value::Num(std::f64::consts::PI));
        m.set(Value::str("huge"), Value::Num(f64::INFINITY));
    }
    let bit = Table::new_ref();
    register(
        &bit,
        &[
            ("arshift", |vm, a| {
                bit2(vm, a, "arshift", |x, n| x >> (n & 31))
            }),
            ("band", |vm, a| bitn(vm, a, "band", |x, y| x & y)),
            ("bnot", |vm, a| bit1(vm, a, "bnot", |x| !x)),
            ("bor", |vm, a| bitn(vm, a, "bor", |x, y| x | y)),
            ("bswap", |vm, a| bit1(vm, a, "bswap", i32::swap_bytes)),
            ("bxor", |vm, a| bitn(vm, a, "bxor", |x, y| x ^ y)),
            ("lshift", |vm, a| {
                bit2(vm, a, "lshift", |x, n| x.wrapping_shl(n as u32 & 31))
            }),
            ("rol", |vm, a| {
                bit2(vm, a, "rol", |x, n| x.rotate_left(n as u32 & 31))
            }),
            ("ror", |vm, a| {
                bit2(vm, a, "ror", |x, n| x.rotate_right(n as u32 & 31))
            }),
            ("rshift", |vm, a| {
                bit2(vm, a, "rshift", |x, n| {
                    ((x as u32) >> (n as u32 & 31)) as i32
                })
            }),
            ("tobit", |vm, a| bit1(vm, a, "tobit", |x| x)),
            ("tohex", bit_tohex),
        ],
    );
    let mut gm = g.borrow_mut();
    gm.set(Value::str("string"), Value::Table(string));
    gm.set(Value::str("table"), Value::Table(table));
    gm.set(Value::str("math"), Value::Table(math));
    gm.set(Value::str("bit"), Value::Table(bit));
    gm.set(Value::str("_VERSION"), Value::str("Lua 5.1"));
    // The real server keeps these libraries but empties them of what a sandbox must not do.
    let os = Table::new_ref();
    register(&os, &[("clock", os_clock)]);
    gm.set(Value::str("os"), Value::Table(os));
    gm.set(Value::str("coroutine"), Value::Table(Table::new_ref()));
}

/// `os.clock`: time passes with the work done, at roughly a real server's pace.
fn os_clock(vm: &mut Vm, _args: Args) -> Rets {
    Ok(vec![Value::Num(vm.st.steps as f64 / 1e7)])
}

fn assert(vm: &mut Vm, args: Args) -> Rets {
    if args.first().is_some_and(Value::truthy) {
        return Ok(args);
    }
    match args.get(1) {
        Some(Value::Str(m)) => Err(Error::Value(Value::Str(m.clone()), vm.st.line)),
        Some(v) if !matches!(v, Value::Nil) => Err(Error::Value(v.clone(), vm.st.line)),
        _ => Err(vm.error("assertion failed!")),
    }
}

fn error(vm: &mut Vm, args: Args) -> Rets {
    let level = opt_int(vm, &args, 1, "error", 1)?;
    let v = arg(&args, 0);
    let line = match level {
        1 => Some(vm.st.line),
        2 => vm
            .st
            .call_lines
            .last()
            .copied()
            .filter(|_| vm.st.call_lines.len() > 1),
        _ => None,
    };
    match (v.to_str(), line) {
        (Some(s), Some(l)) => {
            let text = format!("{}:{}: {}", vm.st.chunk, l, String::from_utf8_lossy(&s));
            Err(Error::Value(Value::str(text), vm.st.line))
        }
        _ => Err(Error::Value(v, vm.st.line)),
    }
}

fn getmetatable(vm: &mut Vm, args: Args) -> Rets {
    Ok(vec![match arg(&args, 0) {
        Value::Str(_) => {
            let meta = Table::new_ref();
            meta.borrow_mut().set(
                Value::str("__index"),
                Value::Table(vm.st.string_lib.clone()),
            );
            Value::Table(meta)
        }
        Value::Table(t) => t
            .borrow()
            .meta
            .clone()
            .map(Value::Table)
            .unwrap_or_default(),
        _ => Value::Nil,
    }])
}

fn setmetatable(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "setmetatable")?;
    let meta = match arg(&args, 1) {
        Value::Table(m) => Some(m),
        Value::Nil => None,
        _ => return Err(arg_error(vm, 2, "setmetatable", "nil or table expected")),
    };
    let locked = t
        .borrow()
        .meta
        .as_ref()
        .is_some_and(|m| !matches!(m.borrow().get_str("__metatable"), Value::Nil));
    if locked {
        return Err(vm.error("cannot change a protected metatable"));
    }
    t.borrow_mut().meta = meta;
    Ok(vec![Value::Table(t)])
}

fn ipairs_iter(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "ipairs")?;
    let i = to_int(check_num(vm, &args, 1, "ipairs")?).saturating_add(1);
    let v = t.borrow().get(&Value::Num(i as f64));
    if matches!(v, Value::Nil) {
        return Ok(vec![Value::Nil]);
    }
    Ok(vec![Value::Num(i as f64), v])
}

fn ipairs(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "ipairs")?;
    Ok(vec![
        native("ipairs_iter", ipairs_iter),
        Value::Table(t),
        Value::Num(0.0),
    ])
}

fn next(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "next")?;
    let r = t.borrow().next(&arg(&args, 1));
    match r {
        Ok(Some((k, v))) => Ok(vec![k, v]),
        Ok(None) => Ok(vec![Value::Nil]),
        Err(()) => Err(Error::Value(
            Value::str("invalid key to 'next'"),
            vm.st.line,
        )),
    }
}

fn pairs(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "pairs")?;
    Ok(vec![native("next", next), Value::Table(t), Value::Nil])
}

pub fn pcall(vm: &mut Vm, mut args: Args) -> Rets {
    if args.is_empty() {
        return Err(type_error(vm, &args, 0, "pcall", "value"));
    }
    let f = args.remove(0);
    let depth = vm.st.depth;
    let lines = vm.st.call_lines.len();
    match vm.call(&f, args) {
        Ok(mut values) => {
            values.insert(0, Value::Bool(true));
            Ok(values)
        }
        Err(Error::Value(v, _)) => {
            vm.st.depth = depth;
            vm.st.call_lines.truncate(lines);
            // The real server's pcall hands a `{err=...}` error over as its text.
            let v = match &v {
                Value::Table(t) => match t.borrow().get_str("err") {
                    e @ Value::Str(_) => e,
                    _ => v.clone(),
                },
                _ => v,
            };
            Ok(vec![Value::Bool(false), v])
        }
        Err(killed) => Err(killed),
    }
}

fn xpcall(vm: &mut Vm, args: Args) -> Rets {
    let f = arg(&args, 0);
    let handler = arg(&args, 1);
    let depth = vm.st.depth;
    let lines = vm.st.call_lines.len();
    match vm.call(&f, Vec::new()) {
        Ok(mut values) => {
            values.insert(0, Value::Bool(true));
            Ok(values)
        }
        Err(Error::Value(v, _)) => {
            vm.st.depth = depth;
            vm.st.call_lines.truncate(lines);
            let mut r = vm.call(&handler, vec![v])?;
            r.truncate(1);
            r.insert(0, Value::Bool(false));
            Ok(r)
        }
        Err(killed) => Err(killed),
    }
}

fn rawequal(_vm: &mut Vm, args: Args) -> Rets {
    Ok(vec![Value::Bool(arg(&args, 0).raw_eq(&arg(&args, 1)))])
}

fn rawget(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "rawget")?;
    let v = t.borrow().get(&arg(&args, 1));
    Ok(vec![v])
}

fn rawset(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "rawset")?;
    vm.raw_set(&t, arg(&args, 1), arg(&args, 2))?;
    Ok(vec![Value::Table(t)])
}

fn select(vm: &mut Vm, mut args: Args) -> Rets {
    if let Some(Value::Str(s)) = args.first() {
        if s.as_ref() == b"#" {
            return Ok(vec![Value::Num((args.len() - 1) as f64)]);
        }
    }
    let n = check_int(vm, &args, 0, "select")?;
    let count = args.len() as i64 - 1;
    let start = if n < 0 { count + n } else { n - 1 };
    if n == 0 || start < 0 {
        return Err(arg_error(vm, 1, "select", "index out of range"));
    }
    let start = (start + 1).min(args.len() as i64) as usize;
    Ok(args.split_off(start))
}

fn tonumber(vm: &mut Vm, args: Args) -> Rets {
    let base = opt_int(vm, &args, 1, "tonumber", 10)?;
    if base == 10 {
        return Ok(vec![arg(&args, 0)
            .to_num()
            .map(Value::Num)
            .unwrap_or_default()]);
    }
    if !(2..=36).contains(&base) {
        return Err(arg_error(vm, 2, "tonumber", "base out of range"));
    }
    let s = check_str(vm, &args, 0, "tonumber")?;
    let text = String::from_utf8_lossy(&s);
    let t = text.trim();
    Ok(vec![i64::from_str_radix(t, base as u32)
        .ok()
        .map(|n| Value::Num(n as f64))
        .unwrap_or_default()])
}

pub fn tostring_value(v: &Value) -> Vec<u8> {
    match v {
        Value::Nil => b"nil".to_vec(),
        Value::Bool(b) => b.to_string().into_bytes(),
        Value::Num(n) => fmt_number(*n).into_bytes(),
        Value::Str(s) => s.to_vec(),
        Value::Table(t) => format!("table: {:p}", Rc::as_ptr(t)).into_bytes(),
        Value::Null => b"userdata: (nil)".to_vec(),
        Value::Func(f) => match f.as_ref() {
            Func::Native(..) => format!("builtin: {:p}", Rc::as_ptr(f)).into_bytes(),
            Func::Lua(..) => format!("function: {:p}", Rc::as_ptr(f)).into_bytes(),
        },
    }
}

fn tostring(vm: &mut Vm, args: Args) -> Rets {
    if args.is_empty() {
        return Err(type_error(vm, &args, 0, "tostring", "value"));
    }
    Ok(vec![Value::str(tostring_value(&args[0]))])
}

fn type_(vm: &mut Vm, args: Args) -> Rets {
    match args.first() {
        Some(v) => Ok(vec![Value::str(v.type_name())]),
        None => Err(type_error(vm, &args, 0, "type", "value")),
    }
}

fn unpack(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "unpack")?;
    let i = opt_int(vm, &args, 1, "unpack", 1)?;
    let len = t.borrow().len() as i64;
    let j = opt_int(vm, &args, 2, "unpack", len)?;
    if i > j {
        return Ok(Vec::new());
    }
    let n = j.saturating_sub(i).saturating_add(1);
    if n >= 8000 {
        return Err(vm.error("too many results to unpack"));
    }
    let t = t.borrow();
    Ok((i..=j).map(|k| t.get(&Value::Num(k as f64))).collect())
}

// string

/// Lua 5.1's relative string position: negative counts from the end.
fn str_pos(pos: i64, len: usize) -> i64 {
    if pos < 0 {
        (len as i64 + pos + 1).max(0)
    } else {
        pos
    }
}

fn str_len(vm: &mut Vm, args: Args) -> Rets {
    Ok(vec![Value::Num(
        check_str(vm, &args, 0, "len")?.len() as f64
    )])
}

fn str_sub(vm: &mut Vm, args: Args) -> Rets {
    let s = check_str(vm, &args, 0, "sub")?;
    let start = str_pos(check_int(vm, &args, 1, "sub")?, s.len()).max(1);
    let end = str_pos(opt_int(vm, &args, 2, "sub", -1)?, s.len()).min(s.len() as i64);
    if start > end {
        return Ok(vec![Value::str("")]);
    }
    Ok(vec![Value::str(&s[(start - 1) as usize..end as usize])])
}

fn str_upper(vm: &mut Vm, args: Args) -> Rets {
    Ok(vec![Value::str(
        check_str(vm, &args, 0, "upper")?.to_ascii_uppercase(),
    )])
}

fn str_lower(vm: &mut Vm, args: Args) -> Rets {
    Ok(vec![Value::str(
        check_str(vm, &args, 0, "lower")?.to_ascii_lowercase(),
    )])
}

fn str_reverse(vm: &mut Vm, args: Args) -> Rets {
    let mut s = check_str(vm, &args, 0, "reverse")?.to_vec();
    s.reverse();
    Ok(vec![Value::str(s)])
}

fn str_rep(vm: &mut Vm, args: Args) -> Rets {
    let s = check_str(vm, &args, 0, "rep")?;
    let n = check_int(vm, &args, 1, "rep")?;
    if n <= 0 || s.is_empty() {
        return Ok(vec![Value::str("")]);
    }
    let total = (s.len() as u128) * (n as u128);
    if total > MAX_STRING as u128 {
        return Err(vm.error("not enough memory"));
    }
    vm.st.step(total as u64 / 1024)?;
    Ok(vec![Value::str(s.repeat(n as usize))])
}

fn str_byte(vm: &mut Vm, args: Args) -> Rets {
    let s = check_str(vm, &args, 0, "byte")?;
    let i = opt_int(vm, &args, 1, "byte", 1)?;
    let start = str_pos(i, s.len()).max(1);
    let end = str_pos(opt_int(vm, &args, 2, "byte", i)?, s.len()).min(s.len() as i64);
    if start > end {
        return Ok(Vec::new());
    }
    Ok(s[(start - 1) as usize..end as usize]
        .iter()
        .map(|&b| Value::Num(f64::from(b)))
        .collect())
}

fn str_char(vm: &mut Vm, args: Args) -> Rets {
    let mut out = Vec::with_capacity(args.len());
    for i in 0..args.len() {
        let c = check_int(vm, &args, i, "char")?;
        if !(0..=255).contains(&c) {
            return Err(arg_error(vm, i + 1, "char", "invalid value"));
        }
        out.push(c as u8);
    }
    Ok(vec![Value::str(out)])
}

fn str_find(vm: &mut Vm, args: Args) -> Rets {
    pattern::find(vm, args, true)
}

fn str_match(vm: &mut Vm, args: Args) -> Rets {
    pattern::find(vm, args, false)
}

fn str_gmatch(vm: &mut Vm, args: Args) -> Rets {
    pattern::gmatch(vm, args)
}

fn str_gsub(vm: &mut Vm, args: Args) -> Rets {
    pattern::gsub(vm, args)
}

fn str_format(vm: &mut Vm, args: Args) -> Rets {
    let fmt = check_str(vm, &args, 0, "format")?;
    let mut out: Vec<u8> = Vec::new();
    let mut n = 0;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let start = i;
        while i < fmt.len() && b"-+ #0".contains(&fmt[i]) {
            i += 1;
        }
        if i - start > 5 {
            return Err(vm.error("invalid format (repeated flags)"));
        }
        let flags = &fmt[start..i];
        let mut width = 0usize;
        let mut digits = 0;
        while i < fmt.len() && fmt[i].is_ascii_digit() {
            width = width * 10 + usize::from(fmt[i] - b'0');
            i += 1;
            digits += 1;
        }
        let mut precision = None;
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            let mut p = 0usize;
            let mut pd = 0;
            while i < fmt.len() && fmt[i].is_ascii_digit() {
                p = p * 10 + usize::from(fmt[i] - b'0');
                i += 1;
                pd += 1;
            }
            if pd > 2 {
                return Err(vm.error("invalid format (width or precision too long)"));
            }
            precision = Some(p);
        }
        if digits > 2 {
            return Err(vm.error("invalid format (width or precision too long)"));
        }
        let Some(&conv) = fmt.get(i) else {
            return Err(vm.error("invalid option '%' to 'format'"));
        };
        i += 1;
        n += 1;
        if n >= args.len() && conv != b'%' {
            return Err(arg_error(vm, n + 1, "format", "no value"));
        }
        let left = flags.contains(&b'-');
        let zero = flags.contains(&b'0') && !left;
        let plus = flags.contains(&b'+');
        let space = flags.contains(&b' ');
        let alt = flags.contains(&b'#');
        let body: Vec<u8> = match conv {
            b'd' | b'i' => {
                let v = to_int(check_num(vm, &args, n, "format")?);
                let mut digits = v.unsigned_abs().to_string();
                if let Some(p) = precision {
                    while digits.len() < p {
                        digits.insert(0, '0');
                    }
                }
                let sign = sign_text(v < 0, plus, space);
                pad_number(sign, &digits, width, left, zero && precision.is_none())
            }
            b'u' | b'x' | b'X' | b'o' => {
                let v = to_int(check_num(vm, &args, n, "format")?) as u64;
                let digits = match conv {
                    b'x' => format!("{v:x}"),
                    b'X' => format!("{v:X}"),
                    b'o' => format!("{v:o}"),
                    _ => v.to_string(),
                };
                let prefix = match (alt, conv) {
                    (true, b'x') if v != 0 => "0x",
                    (true, b'X') if v != 0 => "0X",
                    (true, b'o') => "0",
                    _ => "",
                };
                pad_number(prefix, &digits, width, left, zero)
            }
            b'c' => {
                let v = to_int(check_num(vm, &args, n, "format")?);
                pad(vec![v as u8], width, left)
            }
            b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
                let v = check_num(vm, &args, n, "format")?;
                let p = precision.unwrap_or(6);
                let text = match conv {
                    b'f' | b'F' if v.is_finite() => format!("{:.*}", p, v.abs()),
                    b'e' | b'E' if v.is_finite() => c_exp(v.abs(), p),
                    _ if v.is_finite() => fmt_g(v.abs(), if p == 0 { 1 } else { p }, alt),
                    _ if v.is_nan() => "nan".to_string(),
                    _ => "inf".to_string(),
                };
                let text = if conv.is_ascii_uppercase() {
                    text.to_ascii_uppercase()
                } else {
                    text
                };
                let sign = sign_text(v.is_sign_negative() && !v.is_nan(), plus, space);
                pad_number(sign, &text, width, left, zero && v.is_finite())
            }
            b'q' => {
                let s = check_str(vm, &args, n, "format")?;
                let mut q = vec![b'"'];
                for &b in s.iter() {
                    match b {
                        b'"' | b'\\' | b'\n' => {
                            q.push(b'\\');
                            q.push(b);
                        }
                        b'\r' => q.extend_from_slice(b"\\r"),
                        0 => q.extend_from_slice(b"\\000"),
                        _ => q.push(b),
                    }
                }
                q.push(b'"');
                q
            }
            b's' => {
                let s = match args.get(n) {
                    Some(v @ (Value::Str(_) | Value::Num(_))) => {
                        v.to_str().unwrap_or_default().to_vec()
                    }
                    Some(v) => tostring_value(v),
                    None => return Err(arg_error(vm, n + 1, "format", "no value")),
                };
                let s = match precision {
                    Some(p) if p < s.len() => s[..p].to_vec(),
                    _ => s,
                };
                pad(s, width, left)
            }
            other => {
                return Err(vm.error(format!(
                    "invalid option '%{}' to 'format'",
                    char::from(other)
                )))
            }
        };
        out.extend_from_slice(&body);
        if out.len() > MAX_STRING {
            return Err(vm.error("not enough memory"));
        }
    }
    Ok(vec![Value::str(out)])
}

/// The sign printf puts before a number under the `+` and ` ` flags.
fn sign_text(negative: bool, plus: bool, space: bool) -> &'static str {
    if negative {
        "-"
    } else if plus {
        "+"
    } else if space {
        " "
    } else {
        ""
    }
}

/// C's `%.<p>e`: at least two exponent digits.
fn c_exp(v: f64, p: usize) -> String {
    let s = format!("{:.*e}", p, v);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

fn pad(s: Vec<u8>, width: usize, left: bool) -> Vec<u8> {
    if s.len() >= width {
        return s;
    }
    let fill = vec![b' '; width - s.len()];
    if left {
        [s, fill].concat()
    } else {
        [fill, s].concat()
    }
}

fn pad_number(sign: &str, digits: &str, width: usize, left: bool, zero: bool) -> Vec<u8> {
    let len = sign.len() + digits.len();
    if zero && len < width {
        let zeros = "0".repeat(width - len);
        return format!("{sign}{zeros}{digits}").into_bytes();
    }
    pad(format!("{sign}{digits}").into_bytes(), width, left)
}

// table

fn tbl_getn(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "getn")?;
    let n = t.borrow().len();
    Ok(vec![Value::Num(n as f64)])
}

fn tbl_maxn(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "maxn")?;
    let mut max = 0.0f64;
    let mut k = Value::Nil;
    while let Ok(Some((key, _))) = t.borrow().next(&k) {
        if let Value::Num(n) = key {
            max = max.max(n);
        }
        k = key;
    }
    Ok(vec![Value::Num(max)])
}

fn tbl_insert(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "insert")?;
    let len = t.borrow().len();
    match args.len() {
        2 => {
            let v = arg(&args, 1);
            vm.raw_set(&t, Value::Num((len + 1) as f64), v)?;
        }
        3 => {
            let pos = check_int(vm, &args, 1, "insert")?;
            let v = arg(&args, 2);
            let mut tb = t.borrow_mut();
            if pos >= 1 && (pos as usize) <= len + 1 && !matches!(v, Value::Nil) {
                tb.arr.insert(pos as usize - 1, v);
            } else {
                drop(tb);
                // Positions outside 1..n+1 shift what is there, as Lua 5.1 does.
                let mut i = len as i64;
                while i >= pos {
                    let prev = t.borrow().get(&Value::Num(i as f64));
                    vm.raw_set(&t, Value::Num((i + 1) as f64), prev)?;
                    i -= 1;
                    vm.st.step(1)?;
                }
                vm.raw_set(&t, Value::Num(pos as f64), v)?;
            }
        }
        _ => return Err(vm.error("wrong number of arguments to 'insert'")),
    }
    vm.st.step(len as u64 / 64)?;
    Ok(Vec::new())
}

fn tbl_remove(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "remove")?;
    let len = t.borrow().len();
    if len == 0 {
        return Ok(Vec::new());
    }
    let pos = opt_int(vm, &args, 1, "remove", len as i64)?;
    if pos < 1 || pos as usize > len {
        return Ok(Vec::new());
    }
    vm.st.step(len as u64 / 64)?;
    let mut tb = t.borrow_mut();
    let v = tb.arr.remove(pos as usize - 1);
    while matches!(tb.arr.last(), Some(Value::Nil)) {
        tb.arr.pop();
    }
    Ok(vec![v])
}

fn tbl_concat(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "concat")?;
    let sep = match args.get(1) {
        None | Some(Value::Nil) => Rc::from(&b""[..]),
        _ => check_str(vm, &args, 1, "concat")?,
    };
    let len = t.borrow().len() as i64;
    let i = opt_int(vm, &args, 2, "concat", 1)?;
    let j = opt_int(vm, &args, 3, "concat", len)?;
    let mut out = Vec::new();
    let mut k = i;
    while k <= j {
        let v = t.borrow().get(&Value::Num(k as f64));
        let Some(s) = v.to_str() else {
            return Err(vm.error(format!(
                "invalid value ({}) at index {k} in table for 'concat'",
                v.type_name()
            )));
        };
        out.extend_from_slice(&s);
        if k < j {
            out.extend_from_slice(&sep);
        }
        if out.len() > MAX_STRING {
            return Err(vm.error("not enough memory"));
        }
        vm.st.step(1)?;
        k += 1;
    }
    Ok(vec![Value::str(out)])
}

fn tbl_sort(vm: &mut Vm, args: Args) -> Rets {
    let t = check_table(vm, &args, 0, "sort")?;
    let cmp = match args.get(1) {
        None | Some(Value::Nil) => None,
        Some(f @ Value::Func(_)) => Some(f.clone()),
        Some(_) => return Err(type_error(vm, &args, 1, "sort", "function")),
    };
    let mut items = std::mem::take(&mut t.borrow_mut().arr);
    // Merge sort with a fallible comparison: errors (and the budget) stop it cleanly.
    let result = merge_sort(vm, &mut items, cmp.as_ref());
    t.borrow_mut().arr = items;
    result?;
    Ok(Vec::new())
}

fn merge_sort(vm: &mut Vm, items: &mut Vec<Value>, cmp: Option<&Value>) -> Result<(), Error> {
    let n = items.len();
    let mut width = 1;
    let mut buf = items.clone();
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut a, mut b, mut k) = (start, mid, start);
            while a < mid && b < end {
                let less = match cmp {
                    Some(f) => vm
                        .call(f, vec![items[b].clone(), items[a].clone()])?
                        .first()
                        .is_some_and(Value::truthy),
                    None => {
                        vm.st.step(1)?;
                        // Raised inside a library function: Lua gives no position.
                        compare(&items[b], &items[a], false)
                            .map_err(|msg| Error::Value(Value::str(msg), vm.st.line))?
                    }
                };
                if less {
                    buf[k] = items[b].clone();
                    b += 1;
                } else {
                    buf[k] = items[a].clone();
                    a += 1;
                }
                k += 1;
            }
            buf[k..k + (mid - a)].clone_from_slice(&items[a..mid]);
            k += mid - a;
            buf[k..k + (end - b)].clone_from_slice(&items[b..end]);
            start = end;
        }
        std::mem::swap(items, &mut buf);
        width *= 2;
    }
    Ok(())
}

// math

fn num1(vm: &mut Vm, args: Args, name: &str, f: fn(f64) -> f64) -> Rets {
    Ok(vec![Value::Num(f(check_num(vm, &args, 0, name)?))])
}

fn math_atan2(vm: &mut Vm, args: Args) -> Rets {
    let y = check_num(vm, &args, 0, "atan2")?;
    let x = check_num(vm, &args, 1, "atan2")?;
    Ok(vec![Value::Num(y.atan2(x))])
}

fn math_fmod(vm: &mut Vm, args: Args) -> Rets {
    let x = check_num(vm, &args, 0, "fmod")?;
    let y = check_num(vm, &args, 1, "fmod")?;
    Ok(vec![Value::Num(x % y)])
}

fn math_pow(vm: &mut Vm, args: Args) -> Rets {
    let x = check_num(vm, &args, 0, "pow")?;
    let y = check_num(vm, &args, 1, "pow")?;
    Ok(vec![Value::Num(x.powf(y))])
}

fn math_modf(vm: &mut Vm, args: Args) -> Rets {
    let x = check_num(vm, &args, 0, "modf")?;
    let int = x.trunc();
    Ok(vec![Value::Num(int), Value::Num(x - int)])
}

fn math_frexp(vm: &mut Vm, args: Args) -> Rets {
    let x = check_num(vm, &args, 0, "frexp")?;
    if x == 0.0 || !x.is_finite() {
        return Ok(vec![Value::Num(x), Value::Num(0.0)]);
    }
    let e = x.abs().log2().floor() as i32 + 1;
    Ok(vec![Value::Num(x / 2f64.powi(e)), Value::Num(f64::from(e))])
}

fn math_ldexp(vm: &mut Vm, args: Args) -> Rets {
    let x = check_num(vm, &args, 0, "ldexp")?;
    let e = check_int(vm, &args, 1, "ldexp")?;
    Ok(vec![Value::Num(x * 2f64.powi(e.clamp(-2000, 2000) as i32))])
}

fn math_max(vm: &mut Vm, args: Args) -> Rets {
    let mut m = check_num(vm, &args, 0, "max")?;
    for i in 1..args.len() {
        m = m.max(check_num(vm, &args, i, "max")?);
    }
    Ok(vec![Value::Num(m)])
}

fn math_min(vm: &mut Vm, args: Args) -> Rets {
    let mut m = check_num(vm, &args, 0, "min")?;
    for i in 1..args.len() {
        m = m.min(check_num(vm, &args, i, "min")?);
    }
    Ok(vec![Value::Num(m)])
}

fn math_random(vm: &mut Vm, args: Args) -> Rets {
    // xorshift64*: deterministic, as Redis seeds scripts' generator identically each run.
    let mut x = vm.st.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    vm.st.rng = x;
    let r = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
    match args.len() {
        0 => Ok(vec![Value::Num(r)]),
        1 => {
            let m = check_int(vm, &args, 0, "random")?;
            if m < 1 {
                return Err(arg_error(vm, 1, "random", "interval is empty"));
            }
            Ok(vec![Value::Num((r * m as f64).floor() + 1.0)])
        }
        _ => {
            let lo = check_int(vm, &args, 0, "random")?;
            let hi = check_int(vm, &args, 1, "random")?;
            if lo > hi {
                return Err(arg_error(vm, 2, "random", "interval is empty"));
            }
            let span = (hi as f64) - (lo as f64) + 1.0;
            Ok(vec![Value::Num((r * span).floor() + lo as f64)])
        }
    }
}

fn math_randomseed(vm: &mut Vm, args: Args) -> Rets {
    let seed = check_int(vm, &args, 0, "randomseed")?;
    vm.st.rng = (seed as u64) | 1;
    Ok(Vec::new())
}

// bit (LuaBitOp): 32-bit operations on numbers.

fn tobit(vm: &Vm, args: &Args, n: usize, name: &str) -> Result<i32, Error> {
    let v = check_num(vm, args, n, name)?;
    // LuaBitOp's normalisation: add 2^52+2^51 and keep the low 32 bits.
    let b = (v + 6_755_399_441_055_744.0).to_bits() as u32;
    Ok(b as i32)
}

fn bit1(vm: &mut Vm, args: Args, name: &str, f: fn(i32) -> i32) -> Rets {
    Ok(vec![Value::Num(f64::from(f(tobit(vm, &args, 0, name)?)))])
}

fn bit2(vm: &mut Vm, args: Args, name: &str, f: fn(i32, i32) -> i32) -> Rets {
    let x = tobit(vm, &args, 0, name)?;
    let n = tobit(vm, &args, 1, name)?;
    Ok(vec![Value::Num(f64::from(f(x, n)))])
}

fn bitn(vm: &mut Vm, args: Args, name: &str, f: fn(i32, i32) -> i32) -> Rets {
    let mut x = tobit(vm, &args, 0, name)?;
    for i in 1..args.len() {
        x = f(x, tobit(vm, &args, i, name)?);
    }
    Ok(vec![Value::Num(f64::from(x))])
}

fn bit_tohex(vm: &mut Vm, args: Args) -> Rets {
    let x = tobit(vm, &args, 0, "tohex")? as u32;
    let n = match args.get(1) {
        None | Some(Value::Nil) => 8,
        _ => tobit(vm, &args, 1, "tohex")?,
    };
    let upper = n < 0;
    let digits = n.unsigned_abs().min(8) as usize;
    let full = if upper {
        format!("{x:08X}")
    } else {
        format!("{x:08x}")
    };
    Ok(vec![Value::str(&full[8 - digits..])])
}
