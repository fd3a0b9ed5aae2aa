//! The Lua 5.1 evaluator: values, tables, and a tree-walking interpreter over `parse`'s syntax
//! tree. Every statement and call spends one step of a budget, so no script runs forever;
//! calls nest at most `MAX_DEPTH` deep, so no script overflows the (wasm) stack.

use super::parse::{BinOp, Block, Expr, Proto, Stat, UnOp, UpSource};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// Lua calls nested deeper than this fail with "stack overflow" (Lua's LUAI_MAXCCALLS).
pub const MAX_DEPTH: usize = 200;
/// Bytes of machine stack a script may use below its first call. The evaluator recurses, and
/// a browser gives wasm 1 MB of stack in all; unoptimised test builds have far larger frames.
const STACK_LIMIT: usize = if cfg!(debug_assertions) {
    1 << 20
} else {
    384 << 10
};
/// The longest string a script may build (Redis's proto-max-bulk-len is 512 MB; a browser tab
/// has less to spare).
pub const MAX_STRING: usize = 32 << 20;

pub type Str = Rc<[u8]>;
pub type TableRef = Rc<RefCell<Table>>;
pub type Cell = Rc<RefCell<Value>>;
pub type Args = Vec<Value>;
pub type Rets = Result<Vec<Value>, Error>;
pub type NativeFn = fn(&mut Vm<'_>, Args) -> Rets;

#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Num(f64),
    Str(Str),
    Table(TableRef),
    Func(Rc<Func>),
    /// `cjson.null`, a light userdata in the real server.
    Null,
}

pub enum Func {
    Lua(Rc<Proto>, Vec<Cell>),
    Native(&'static str, NativeFn),
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Func::Lua(..) => write!(f, "function"),
            Func::Native(name, _) => write!(f, "builtin {name}"),
        }
    }
}

/// A raised error: a Lua value (what pcall returns) and the line it was raised on, or the
/// budget running out, which no pcall catches.
#[derive(Debug, Clone)]
pub enum Error {
    Value(Value, u32),
    Killed(u32),
}

impl Value {
    pub fn str(s: impl AsRef<[u8]>) -> Value {
        Value::Str(s.as_ref().into())
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "boolean",
            Value::Num(_) => "number",
            Value::Str(_) => "string",
            Value::Table(_) => "table",
            Value::Func(_) => "function",
            Value::Null => "userdata",
        }
    }

    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// The number this is or reads as (Lua's string coercion).
    pub fn to_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => super::parse::str_to_number(s),
            _ => None,
        }
    }

    /// The string this is, or a number's `%.14g` text.
    pub fn to_str(&self) -> Option<Str> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Num(n) => Some(fmt_number(*n).as_bytes().into()),
            _ => None,
        }
    }

    pub fn raw_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Num(a), Value::Num(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Table(a), Value::Table(b)) => Rc::ptr_eq(a, b),
            (Value::Func(a), Value::Func(b)) => Rc::ptr_eq(a, b),
            (Value::Null, Value::Null) => true,
            _ => false,
        }
    }

    fn identity(&self) -> usize {
        match self {
            Value::Table(t) => Rc::as_ptr(t) as *const u8 as usize,
            Value::Func(f) => Rc::as_ptr(f) as *const u8 as usize,
            _ => 0,
        }
    }
}

/// `tostring` of a number: C's `%.14g`.
pub fn fmt_number(n: f64) -> String {
    fmt_g(n, 14, false)
}

/// C's `%.<prec>g` (`alt` is the `#` flag: keep trailing zeros).
pub fn fmt_g(x: f64, prec: usize, alt: bool) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let p = prec.clamp(1, 99);
    let sci = format!("{:.*e}", p - 1, x);
    let exp: i32 = sci
        .rsplit('e')
        .next()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let (mantissa, _) = sci.split_once('e').unwrap_or((&sci, ""));
        let mantissa = if alt {
            mantissa.to_string()
        } else {
            strip_zeros(mantissa)
        };
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let fixed = format!("{x:.decimals$}");
        if alt {
            fixed
        } else {
            strip_zeros(&fixed)
        }
    }
}

fn strip_zeros(s: &str) -> String {
    if !s.contains('.') {
        return s.to_string();
    }
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A value usable as a table key: equality and hashing as Lua compares keys.
#[derive(Clone, Debug)]
pub struct Key(pub Value);

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.0.raw_eq(&other.0)
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match &self.0 {
            Value::Nil | Value::Null => 0u8.hash(h),
            Value::Bool(b) => b.hash(h),
            Value::Num(n) => (if *n == 0.0 { 0.0f64 } else { *n }).to_bits().hash(h),
            Value::Str(s) => s.hash(h),
            v => v.identity().hash(h),
        }
    }
}

/// A Lua table: an array part for keys 1..n and insertion-ordered other keys, so `pairs`
/// visits keys in a stable order.
#[derive(Debug, Default)]
pub struct Table {
    pub arr: Vec<Value>,
    index: HashMap<Key, usize>,
    entries: Vec<(Key, Value)>,
    dead: usize,
    pub meta: Option<TableRef>,
}

fn array_index(key: &Value) -> Option<usize> {
    match key {
        Value::Num(n) if *n >= 1.0 && n.fract() == 0.0 && *n < 1e15 => Some(*n as usize),
        _ => None,
    }
}

impl Table {
    pub fn new_ref() -> TableRef {
        track_table(Rc::new(RefCell::new(Table::default())))
    }

    pub fn from_array(items: Vec<Value>) -> TableRef {
        let mut t = Table::default();
        for item in items {
            let at = t.arr.len() + 1;
            t.set(Value::Num(at as f64), item);
        }
        track_table(Rc::new(RefCell::new(t)))
    }

    pub fn get(&self, key: &Value) -> Value {
        if let Some(i) = array_index(key) {
            if let Some(v) = self.arr.get(i - 1) {
                return v.clone();
            }
        }
        if !matches!(key, Value::Nil) {
            if let Some(&at) = self.index.get(&Key(key.clone())) {
                return self
                    .entries
                    .get(at)
                    .map(|e| e.1.clone())
                    .unwrap_or_default();
            }
        }
        Value::Nil
    }

    /// A constructor's n-th positional item: nils stay in the array part, as Lua sizes the
    /// array part from the constructor (so `#{1, nil, 3}` is 3).
    pub fn push_positional(&mut self, n: usize, v: Value) {
        if n == self.arr.len() + 1 {
            self.remove_entry(&Value::Num(n as f64));
            self.arr.push(v);
        } else {
            self.set(Value::Num(n as f64), v);
        }
    }

    /// Drops trailing nils from the array part.
    pub fn trim(&mut self) {
        while matches!(self.arr.last(), Some(Value::Nil)) {
            self.arr.pop();
        }
    }

    pub fn get_str(&self, key: &str) -> Value {
        self.get(&Value::str(key))
    }

    /// Sets a key the caller has checked (not nil, not NaN).
    pub fn set(&mut self, key: Value, value: Value) {
        if let Some(i) = array_index(&key) {
            if i <= self.arr.len() {
                self.arr[i - 1] = value;
                while matches!(self.arr.last(), Some(Value::Nil)) {
                    self.arr.pop();
                }
                return;
            }
            if i == self.arr.len() + 1 && !matches!(value, Value::Nil) {
                self.remove_entry(&key);
                self.arr.push(value);
                // Keys that now continue the array move into it.
                loop {
                    let next = Value::Num((self.arr.len() + 1) as f64);
                    match self.remove_entry(&next) {
                        Some(v) => self.arr.push(v),
                        None => break,
                    }
                }
                return;
            }
        }
        let k = Key(key);
        match self.index.get(&k) {
            Some(&at) => {
                if let Some(entry) = self.entries.get_mut(at) {
                    if matches!(value, Value::Nil) && !matches!(entry.1, Value::Nil) {
                        self.dead += 1;
                    } else if !matches!(value, Value::Nil) && matches!(entry.1, Value::Nil) {
                        self.dead = self.dead.saturating_sub(1);
                    }
                    entry.1 = value;
                }
            }
            None if matches!(value, Value::Nil) => {}
            None => {
                if self.dead > 16 && self.dead * 2 > self.entries.len() {
                    self.compact();
                }
                self.index.insert(k.clone(), self.entries.len());
                self.entries.push((k, value));
            }
        }
    }

    fn remove_entry(&mut self, key: &Value) -> Option<Value> {
        let k = Key(key.clone());
        let at = *self.index.get(&k)?;
        let entry = self.entries.get_mut(at)?;
        let v = std::mem::take(&mut entry.1);
        if matches!(v, Value::Nil) {
            return None;
        }
        self.dead += 1;
        Some(v)
    }

    fn compact(&mut self) {
        self.entries.retain(|e| !matches!(e.1, Value::Nil));
        self.index.clear();
        for (at, (k, _)) in self.entries.iter().enumerate() {
            self.index.insert(k.clone(), at);
        }
        self.dead = 0;
    }

    /// The `#` border: the array part's length.
    pub fn len(&self) -> usize {
        self.arr.len()
    }

    /// `next`: the entry after `key` (nil: the first). Err if `key` is not in the table.
    pub fn next(&self, key: &Value) -> Result<Option<(Value, Value)>, ()> {
        let mut start_arr = 0;
        let mut start_map = 0;
        match key {
            Value::Nil => {}
            k => match array_index(k).filter(|&i| i <= self.arr.len()) {
                Some(i) => start_arr = i,
                None => {
                    start_arr = self.arr.len();
                    start_map = self.index.get(&Key(k.clone())).ok_or(())? + 1;
                }
            },
        }
        for i in start_arr..self.arr.len() {
            if !matches!(self.arr[i], Value::Nil) {
                return Ok(Some((Value::Num((i + 1) as f64), self.arr[i].clone())));
            }
        }
        for (k, v) in self.entries.iter().skip(start_map) {
            if !matches!(v, Value::Nil) {
                return Ok(Some((k.0.clone(), v.clone())));
            }
        }
        Ok(None)
    }
}

/// What the interpreter asks of the server it runs in.
pub trait Host {
    /// `redis.call` / `redis.pcall`: run a command as the script's client, `steps` into the
    /// run. None stops the script where it stands, the command not run (see `ScriptHost`).
    fn call(&mut self, argv: Vec<Vec<u8>>, steps: u64) -> Option<crate::redis::reply::Reply>;
    fn log(&mut self, level: i64, message: String);
    fn set_resp(&mut self, resp: i64);
}

/// The interpreter's own state, apart from the host it calls into.
pub struct VmState {
    pub globals: TableRef,
    pub string_lib: TableRef,
    pub steps: u64,
    pub budget: u64,
    pub depth: usize,
    pub line: u32,
    /// The line each active Lua call was made from (for `error(msg, 2)`).
    pub call_lines: Vec<u32>,
    pub chunk: &'static str,
    /// Whether replies reach the script in RESP3 shapes (`redis.setresp(3)`).
    pub resp3: bool,
    /// Functions a library registered while loading: what FUNCTION LOAD records and FCALL calls.
    pub registered: Vec<(super::FunctionInfo, Value)>,
    /// Stack address of the outermost call, for `check_stack`.
    stack_base: usize,
    /// math.random's state: seeded the same for every script, as Redis does.
    pub rng: u64,
}

pub struct Vm<'h> {
    pub host: &'h mut dyn Host,
    pub st: VmState,
}

enum Flow {
    Normal,
    Break,
    Return(Vec<Value>),
}

struct Frame<'a> {
    slots: Vec<Option<Cell>>,
    varargs: Vec<Value>,
    upvals: &'a [Cell],
}

impl Frame<'_> {
    fn get(&self, slot: usize) -> Value {
        match self.slots.get(slot) {
            Some(Some(cell)) => cell.borrow().clone(),
            _ => Value::Nil,
        }
    }

    fn set(&mut self, slot: usize, value: Value) {
        if let Some(Some(cell)) = self.slots.get(slot) {
            *cell.borrow_mut() = value;
        }
    }

    /// A `local` declaration: a fresh variable, so closures made in a loop each keep their own.
    fn declare(&mut self, slot: usize, value: Value) {
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(Rc::new(RefCell::new(value)));
        }
    }
}

/// How Lua names a bad operand: `local 'x' (a nil value)`, or just `a nil value`.
fn describe(e: &Expr, v: &Value) -> String {
    match e.describe() {
        Some((kind, name)) => format!(
            "{kind} '{}' (a {} value)",
            String::from_utf8_lossy(name),
            v.type_name()
        ),
        None => format!("a {} value", v.type_name()),
    }
}

/// Tables and closures refer to each other (`_G._G`, the `string` metatable, a library
/// function whose upvalue is the table that holds it, a script's own `local t = {} t.self =
/// t`), so reference counting alone would free none of them. No Lua value outlives the run that
/// made it (replies are converted before the run ends, and a library is loaded again for each
/// FCALL), so every table and closure a run creates is noted here, and when the run ends each
/// one still alive is emptied, which breaks every cycle.
#[derive(Default)]
struct Arena {
    /// Runs in progress: values are noted only while one is.
    active: usize,
    tables: Vec<std::rc::Weak<RefCell<Table>>>,
    closures: Vec<std::rc::Weak<Func>>,
    /// Length at which the notes are next pruned of values already freed, so a script that
    /// makes millions of short-lived tables keeps no more notes than values alive.
    prune_at: usize,
}

thread_local! {
    static ARENA: RefCell<Arena> = RefCell::new(Arena::default());
    static LIVE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Tables and Lua closures alive now, in every run and outside them: what a finished script
/// must leave as it found.
#[cfg(test)]
pub fn live_objects() -> usize {
    LIVE.with(|l| l.get())
}

fn count_live(delta: isize) {
    LIVE.with(|l| l.set(l.get().saturating_add_signed(delta)));
}

fn note(f: impl FnOnce(&mut Arena)) {
    ARENA.with(|a| {
        if let Ok(mut a) = a.try_borrow_mut() {
            if a.active > 0 {
                f(&mut a);
                let len = a.tables.len() + a.closures.len();
                if len >= a.prune_at {
                    a.tables.retain(|w| w.strong_count() > 0);
                    a.closures.retain(|w| w.strong_count() > 0);
                    a.prune_at = 2 * (a.tables.len() + a.closures.len()).max(512);
                }
            }
        }
    });
}

fn track_table(t: TableRef) -> TableRef {
    count_live(1);
    note(|a| a.tables.push(Rc::downgrade(&t)));
    t
}

fn track_closure(f: Rc<Func>) -> Rc<Func> {
    count_live(1);
    note(|a| a.closures.push(Rc::downgrade(&f)));
    f
}

impl Drop for Table {
    fn drop(&mut self) {
        count_live(-1);
    }
}

impl Drop for Func {
    fn drop(&mut self) {
        if let Func::Lua(..) = self {
            count_live(-1);
        }
    }
}

impl Drop for VmState {
    fn drop(&mut self) {
        let (tables, closures) = ARENA.with(|a| {
            let Ok(mut a) = a.try_borrow_mut() else {
                return (Vec::new(), Vec::new());
            };
            a.active = a.active.saturating_sub(1);
            if a.active > 0 {
                return (Vec::new(), Vec::new());
            }
            a.prune_at = 0;
            (
                std::mem::take(&mut a.tables),
                std::mem::take(&mut a.closures),
            )
        });
        // Contents are moved out first and dropped last, when every table is already empty:
        // dropping a long chain of tables then never recurses.
        let mut held: Vec<Value> = Vec::new();
        for t in tables.iter().filter_map(std::rc::Weak::upgrade) {
            if let Ok(mut b) = t.try_borrow_mut() {
                held.append(&mut b.arr);
                for (k, v) in b.entries.drain(..) {
                    held.push(k.0);
                    held.push(v);
                }
                b.index.clear();
                if let Some(meta) = b.meta.take() {
                    held.push(Value::Table(meta));
                }
            }
        }
        for f in closures.iter().filter_map(std::rc::Weak::upgrade) {
            if let Func::Lua(_, upvals) = &*f {
                for cell in upvals {
                    if let Ok(mut v) = cell.try_borrow_mut() {
                        held.push(std::mem::take(&mut *v));
                    }
                }
            }
        }
        drop(tables);
        drop(closures);
        drop(held);
    }
}

impl VmState {
    pub fn new(chunk: &'static str, budget: u64) -> VmState {
        ARENA.with(|a| {
            if let Ok(mut a) = a.try_borrow_mut() {
                a.active += 1;
            }
        });
        VmState {
            globals: Table::new_ref(),
            string_lib: Table::new_ref(),
            steps: 0,
            budget,
            depth: 0,
            line: 1,
            call_lines: Vec::new(),
            chunk,
            resp3: false,
            stack_base: 0,
            registered: Vec::new(),
            rng: 0x2545_f491_4f6c_dd1d,
        }
    }

    /// An error raised at the current line, prefixed with the position as Lua's luaL_error does.
    pub fn error(&self, msg: impl AsRef<str>) -> Error {
        let text = format!("{}:{}: {}", self.chunk, self.line, msg.as_ref());
        Error::Value(Value::str(text), self.line)
    }

    /// Fails with Lua's "stack overflow" once the script has used its share of the stack.
    pub fn check_stack(&mut self) -> Result<(), Error> {
        let marker = 0u8;
        let here = std::hint::black_box(&marker) as *const u8 as usize;
        if self.stack_base == 0 {
            self.stack_base = here;
        }
        if self.stack_base.saturating_sub(here) > STACK_LIMIT {
            return Err(self.error("stack overflow"));
        }
        Ok(())
    }

    pub fn step(&mut self, cost: u64) -> Result<(), Error> {
        self.steps = self.steps.saturating_add(cost);
        if self.steps > self.budget {
            return Err(Error::Killed(self.line));
        }
        Ok(())
    }
}

impl<'h> Vm<'h> {
    pub fn error(&self, msg: impl AsRef<str>) -> Error {
        self.st.error(msg)
    }

    /// Runs a compiled chunk with the given varargs.
    pub fn run(&mut self, proto: &Rc<Proto>) -> Rets {
        let f = track_closure(Rc::new(Func::Lua(proto.clone(), Vec::new())));
        self.call(&Value::Func(f), Vec::new())
    }

    pub fn call(&mut self, f: &Value, args: Args) -> Rets {
        self.st.step(1)?;
        let Value::Func(func) = f else {
            return Err(self.error(format!("attempt to call a {} value", f.type_name())));
        };
        if self.st.depth >= MAX_DEPTH {
            return Err(self.error("stack overflow"));
        }
        self.st.check_stack()?;
        self.st.depth += 1;
        let result = match func.as_ref() {
            Func::Native(_, native) => native(self, args),
            Func::Lua(proto, upvals) => {
                let caller_line = self.st.line;
                self.st.call_lines.push(caller_line);
                let r = self.call_lua(proto, upvals, args);
                self.st.call_lines.pop();
                self.st.line = caller_line;
                r
            }
        };
        self.st.depth -= 1;
        result
    }

    fn call_lua(&mut self, proto: &Rc<Proto>, upvals: &[Cell], mut args: Args) -> Rets {
        let varargs = if proto.vararg && args.len() > proto.params {
            args.split_off(proto.params)
        } else {
            Vec::new()
        };
        let mut frame = Frame {
            slots: vec![None; proto.slots],
            varargs,
            upvals,
        };
        let mut args = args.into_iter();
        for slot in 0..proto.params {
            frame.declare(slot, args.next().unwrap_or_default());
        }
        match self.exec_block(&proto.body, &mut frame)? {
            Flow::Return(values) => Ok(values),
            _ => Ok(Vec::new()),
        }
    }

    fn exec_block(&mut self, block: &Block, frame: &mut Frame) -> Result<Flow, Error> {
        for (stat, line) in block {
            self.st.line = *line;
            self.st.step(1)?;
            match self.exec(stat, frame)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec(&mut self, stat: &Stat, frame: &mut Frame) -> Result<Flow, Error> {
        match stat {
            Stat::Local(slots, exprs) => {
                let values = self.eval_list(exprs, frame, slots.len())?;
                for (slot, v) in slots.iter().zip(values) {
                    frame.declare(*slot, v);
                }
            }
            Stat::Assign(targets, exprs) => {
                if let ([target], [expr]) = (targets.as_slice(), exprs.as_slice()) {
                    let v = self.eval(expr, frame)?;
                    self.assign(target, v, frame)?;
                } else {
                    // Evaluate the tables and keys first, then assign.
                    let mut places = Vec::with_capacity(targets.len());
                    for t in targets {
                        places.push(match t {
                            Expr::Index(obj, key) => {
                                Some((self.eval(obj, frame)?, self.eval(key, frame)?))
                            }
                            _ => None,
                        });
                    }
                    let values = self.eval_list(exprs, frame, targets.len())?;
                    for ((t, place), v) in targets.iter().zip(places).zip(values) {
                        match place {
                            Some((obj, key)) => self.set_index(&obj, key, v, t)?,
                            None => self.assign(t, v, frame)?,
                        }
                    }
                }
            }
            Stat::Call(e) => {
                self.eval_multi(e, frame)?;
            }
            Stat::Do(b) => return self.exec_block(b, frame),
            Stat::While(cond, body) => {
                let line = self.st.line;
                while self.eval(cond, frame)?.truthy() {
                    self.st.line = line;
                    self.st.step(1)?;
                    match self.exec_block(body, frame)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal => {}
                    }
                }
            }
            Stat::Repeat(body, cond) => loop {
                self.st.step(1)?;
                match self.exec_block(body, frame)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    Flow::Normal => {}
                }
                if self.eval(cond, frame)?.truthy() {
                    break;
                }
            },
            Stat::If(arms, otherwise) => {
                for (cond, body) in arms {
                    if self.eval(cond, frame)?.truthy() {
                        return self.exec_block(body, frame);
                    }
                }
                if let Some(body) = otherwise {
                    return self.exec_block(body, frame);
                }
            }
            Stat::NumFor(slot, start, limit, step, body) => {
                let line = self.st.line;
                let start = self.for_num(start, frame, "initial")?;
                let limit = self.for_num(limit, frame, "limit")?;
                let step = match step {
                    Some(s) => self.for_num(s, frame, "step")?,
                    None => 1.0,
                };
                let mut i = start;
                while (step > 0.0 && i <= limit) || (step <= 0.0 && i >= limit) {
                    frame.declare(*slot, Value::Num(i));
                    match self.exec_block(body, frame)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal => {}
                    }
                    self.st.line = line;
                    self.st.step(1)?;
                    i += step;
                }
            }
            Stat::GenFor(slots, exprs, body) => {
                let line = self.st.line;
                let mut init = self.eval_list(exprs, frame, 3)?.into_iter();
                let f = init.next().unwrap_or_default();
                let state = init.next().unwrap_or_default();
                let mut control = init.next().unwrap_or_default();
                loop {
                    self.st.line = line;
                    let mut values = self.call(&f, vec![state.clone(), control.clone()])?;
                    values.resize(slots.len().max(1), Value::Nil);
                    if matches!(values[0], Value::Nil) {
                        break;
                    }
                    control = values[0].clone();
                    for (slot, v) in slots.iter().zip(values) {
                        frame.declare(*slot, v);
                    }
                    match self.exec_block(body, frame)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal => {}
                    }
                }
            }
            Stat::LocalFunction(slot, proto) => {
                frame.declare(*slot, Value::Nil);
                let f = self.closure(proto, frame);
                frame.set(*slot, f);
            }
            Stat::Return(exprs) => {
                // A tail call's results pass through as they are.
                let values = match exprs.as_slice() {
                    [single] => self.eval_multi(single, frame)?,
                    _ => self.eval_list(exprs, frame, 0)?,
                };
                return Ok(Flow::Return(values));
            }
            Stat::Break => return Ok(Flow::Break),
        }
        Ok(Flow::Normal)
    }

    fn for_num(&mut self, e: &Expr, frame: &mut Frame, what: &str) -> Result<f64, Error> {
        let v = self.eval(e, frame)?;
        v.to_num()
            .ok_or_else(|| self.error(format!("'for' {what} value must be a number")))
    }

    fn closure(&mut self, proto: &Rc<Proto>, frame: &mut Frame) -> Value {
        let upvals = proto
            .upvals
            .iter()
            .map(|source| match source {
                UpSource::Local(slot) => match frame.slots.get_mut(*slot) {
                    Some(Some(cell)) => cell.clone(),
                    Some(s) => {
                        let cell = Rc::new(RefCell::new(Value::Nil));
                        *s = Some(cell.clone());
                        cell
                    }
                    None => Rc::new(RefCell::new(Value::Nil)),
                },
                UpSource::Upval(i) => frame
                    .upvals
                    .get(*i)
                    .cloned()
                    .unwrap_or_else(|| Rc::new(RefCell::new(Value::Nil))),
            })
            .collect();
        Value::Func(track_closure(Rc::new(Func::Lua(proto.clone(), upvals))))
    }

    fn assign(&mut self, target: &Expr, v: Value, frame: &mut Frame) -> Result<(), Error> {
        match target {
            Expr::Local(slot, _) => frame.set(*slot, v),
            Expr::Upval(i, _) => {
                if let Some(cell) = frame.upvals.get(*i) {
                    *cell.borrow_mut() = v;
                }
            }
            Expr::Global(_) => return Err(self.error("Attempt to modify a readonly table")),
            Expr::Index(obj, key) => {
                let obj_v = self.eval(obj, frame)?;
                let key = self.eval(key, frame)?;
                self.set_index(&obj_v, key, v, obj)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn set_index(
        &mut self,
        obj: &Value,
        key: Value,
        v: Value,
        obj_expr: &Expr,
    ) -> Result<(), Error> {
        let Value::Table(t) = obj else {
            return Err(self.error(format!("attempt to index {}", describe(obj_expr, obj))));
        };
        if Rc::ptr_eq(t, &self.st.globals) {
            return Err(self.error("Attempt to modify a readonly table"));
        }
        self.raw_set(t, key, v)
    }

    pub fn raw_set(&mut self, t: &TableRef, key: Value, v: Value) -> Result<(), Error> {
        match &key {
            Value::Nil => return Err(self.error("table index is nil")),
            Value::Num(n) if n.is_nan() => return Err(self.error("table index is NaN")),
            _ => {}
        }
        let readonly = t
            .borrow()
            .meta
            .as_ref()
            .is_some_and(|m| matches!(m.borrow().get_str("__readonly"), Value::Bool(true)));
        if readonly {
            return Err(self.error("Attempt to modify a readonly table"));
        }
        t.borrow_mut().set(key, v);
        Ok(())
    }

    /// `obj[key]` with strings' methods and `__index`.
    pub fn index(
        &mut self,
        obj: &Value,
        key: &Value,
        obj_expr: Option<&Expr>,
    ) -> Result<Value, Error> {
        let mut current = obj.clone();
        for _ in 0..100 {
            match &current {
                Value::Table(t) => {
                    let (v, meta) = {
                        let t = t.borrow();
                        (t.get(key), t.meta.clone())
                    };
                    if !matches!(v, Value::Nil) {
                        return Ok(v);
                    }
                    let strict = meta
                        .as_ref()
                        .is_some_and(|m| m.borrow().get_str("__strict").truthy());
                    let handler = meta.map(|m| m.borrow().get_str("__index"));
                    match handler {
                        Some(Value::Nil) | None => {
                            let is_globals = Rc::ptr_eq(t, &self.st.globals);
                            // The real server lets scripts test for loadstring, which it removed.
                            if is_globals
                                && matches!(key, Value::Str(k) if k.as_ref() == b"loadstring")
                            {
                                return Ok(Value::Nil);
                            }
                            if strict || is_globals {
                                return Err(self.error(format!(
                                    "Script attempted to access nonexistent global variable '{}'",
                                    String::from_utf8_lossy(&key.to_str().unwrap_or_default())
                                )));
                            }
                            return Ok(Value::Nil);
                        }
                        Some(h @ Value::Func(_)) => {
                            let r = self.call(&h, vec![current.clone(), key.clone()])?;
                            return Ok(r.into_iter().next().unwrap_or_default());
                        }
                        Some(h) => current = h,
                    }
                }
                Value::Str(_) => return Ok(self.st.string_lib.borrow().get(key)),
                other => {
                    let what = match obj_expr {
                        Some(e) => describe(e, other),
                        None => format!("a {} value", other.type_name()),
                    };
                    return Err(self.error(format!("attempt to index {what}")));
                }
            }
        }
        Err(self.error("loop in gettable"))
    }

    /// Evaluates to exactly `want` values (0: all of them), the last expression expanding.
    fn eval_list(&mut self, exprs: &[Expr], frame: &mut Frame, want: usize) -> Rets {
        let mut out = Vec::with_capacity(exprs.len().max(want));
        for (i, e) in exprs.iter().enumerate() {
            if i + 1 == exprs.len() {
                out.extend(self.eval_multi(e, frame)?);
            } else {
                out.push(self.eval(e, frame)?);
            }
        }
        if want > 0 {
            out.resize(want, Value::Nil);
        }
        Ok(out)
    }

    fn eval_multi(&mut self, e: &Expr, frame: &mut Frame) -> Rets {
        match e {
            Expr::Call(f, args, line) => {
                let fv = self.eval(f, frame)?;
                let args = self.eval_list(args, frame, 0)?;
                self.st.line = *line;
                if !matches!(fv, Value::Func(_)) {
                    return Err(self.error(format!("attempt to call {}", describe(f, &fv))));
                }
                self.call(&fv, args)
            }
            Expr::Method(obj, name, args, line) => {
                let ov = self.eval(obj, frame)?;
                let key = Value::Str(name.clone());
                let fv = self.index(&ov, &key, Some(obj))?;
                let mut all = vec![ov];
                all.extend(self.eval_list(args, frame, 0)?);
                self.st.line = *line;
                if !matches!(fv, Value::Func(_)) {
                    return Err(self.error(format!(
                        "attempt to call method '{}' (a {} value)",
                        String::from_utf8_lossy(name),
                        fv.type_name()
                    )));
                }
                self.call(&fv, all)
            }
            Expr::Vararg => Ok(frame.varargs.clone()),
            e => Ok(vec![self.eval(e, frame)?]),
        }
    }

    fn eval(&mut self, e: &Expr, frame: &mut Frame) -> Result<Value, Error> {
        Ok(match e {
            Expr::Nil => Value::Nil,
            Expr::True => Value::Bool(true),
            Expr::False => Value::Bool(false),
            Expr::Num(n) => Value::Num(*n),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Vararg => frame.varargs.first().cloned().unwrap_or_default(),
            Expr::Function(p) => self.closure(p, frame),
            Expr::Local(slot, _) => frame.get(*slot),
            Expr::Upval(i, _) => frame
                .upvals
                .get(*i)
                .map(|c| c.borrow().clone())
                .unwrap_or_default(),
            Expr::Global(name) => {
                let g = Value::Table(self.st.globals.clone());
                self.index(&g, &Value::Str(name.clone()), None)?
            }
            Expr::Index(obj, key) => {
                let ov = self.eval(obj, frame)?;
                let kv = self.eval(key, frame)?;
                self.index(&ov, &kv, Some(obj))?
            }
            Expr::Call(..) | Expr::Method(..) => self
                .eval_multi(e, frame)?
                .into_iter()
                .next()
                .unwrap_or_default(),
            Expr::Paren(inner) => self.eval(inner, frame)?,
            Expr::Table(fields) => {
                self.st.step(fields.len() as u64)?;
                let t = Table::new_ref();
                let mut n = 0usize;
                for (i, (key, value)) in fields.iter().enumerate() {
                    match key {
                        Some(k) => {
                            let k = self.eval(k, frame)?;
                            let v = self.eval(value, frame)?;
                            self.raw_set(&t, k, v)?;
                        }
                        None if i + 1 == fields.len() => {
                            for v in self.eval_multi(value, frame)? {
                                n += 1;
                                t.borrow_mut().push_positional(n, v);
                            }
                        }
                        None => {
                            let v = self.eval(value, frame)?;
                            n += 1;
                            t.borrow_mut().push_positional(n, v);
                        }
                    }
                }
                t.borrow_mut().trim();
                Value::Table(t)
            }
            Expr::Un(op, operand) => {
                let v = self.eval(operand, frame)?;
                match op {
                    UnOp::Not => Value::Bool(!v.truthy()),
                    UnOp::Neg => match v.to_num() {
                        Some(n) => Value::Num(-n),
                        None => return Err(self.arith_error(&v, operand)),
                    },
                    UnOp::Len => match &v {
                        Value::Str(s) => Value::Num(s.len() as f64),
                        Value::Table(t) => Value::Num(t.borrow().len() as f64),
                        _ => {
                            return Err(self.error(format!(
                                "attempt to get length of {}",
                                describe(operand, &v)
                            )))
                        }
                    },
                }
            }
            Expr::Bin(BinOp::And, a, b) => {
                let av = self.eval(a, frame)?;
                if !av.truthy() {
                    av
                } else {
                    self.eval(b, frame)?
                }
            }
            Expr::Bin(BinOp::Or, a, b) => {
                let av = self.eval(a, frame)?;
                if av.truthy() {
                    av
                } else {
                    self.eval(b, frame)?
                }
            }
            Expr::Bin(op, a, b) => {
                let av = self.eval(a, frame)?;
                let bv = self.eval(b, frame)?;
                self.binary(*op, av, bv, a, b)?
            }
        })
    }

    fn arith_error(&self, v: &Value, e: &Expr) -> Error {
        self.error(format!(
            "attempt to perform arithmetic on {}",
            describe(e, v)
        ))
    }

    fn binary(
        &mut self,
        op: BinOp,
        a: Value,
        b: Value,
        ae: &Expr,
        be: &Expr,
    ) -> Result<Value, Error> {
        let arith = |f: fn(f64, f64) -> f64, vm: &Vm| -> Result<Value, Error> {
            match (a.to_num(), b.to_num()) {
                (Some(x), Some(y)) => Ok(Value::Num(f(x, y))),
                (None, _) => Err(vm.arith_error(&a, ae)),
                _ => Err(vm.arith_error(&b, be)),
            }
        };
        match op {
            BinOp::Add => arith(|x, y| x + y, self),
            BinOp::Sub => arith(|x, y| x - y, self),
            BinOp::Mul => arith(|x, y| x * y, self),
            BinOp::Div => arith(|x, y| x / y, self),
            BinOp::Mod => arith(|x, y| x - (x / y).floor() * y, self),
            BinOp::Pow => arith(f64::powf, self),
            BinOp::Concat => {
                let (Some(x), Some(y)) = (a.to_str(), b.to_str()) else {
                    let (bad, e) = if a.to_str().is_none() {
                        (&a, ae)
                    } else {
                        (&b, be)
                    };
                    return Err(self.error(format!("attempt to concatenate {}", describe(e, bad))));
                };
                let len = x.len() + y.len();
                if len > MAX_STRING {
                    return Err(self.error("not enough memory"));
                }
                self.st.step(len as u64 / 1024)?;
                let mut s = Vec::with_capacity(len);
                s.extend_from_slice(&x);
                s.extend_from_slice(&y);
                Ok(Value::Str(s.into()))
            }
            BinOp::Eq => Ok(Value::Bool(a.raw_eq(&b))),
            BinOp::Ne => Ok(Value::Bool(!a.raw_eq(&b))),
            BinOp::Lt => self.less(&a, &b, false).map(Value::Bool),
            BinOp::Le => self.less(&a, &b, true).map(Value::Bool),
            BinOp::Gt => self.less(&b, &a, false).map(Value::Bool),
            BinOp::Ge => self.less(&b, &a, true).map(Value::Bool),
            BinOp::And | BinOp::Or => Ok(Value::Nil),
        }
    }

    pub fn less(&self, a: &Value, b: &Value, or_equal: bool) -> Result<bool, Error> {
        compare(a, b, or_equal).map_err(|msg| self.error(msg))
    }
}

/// `a < b` (or `<=`), or Lua's message for values that do not compare.
pub fn compare(a: &Value, b: &Value, or_equal: bool) -> Result<bool, String> {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => Ok(if or_equal { x <= y } else { x < y }),
        (Value::Str(x), Value::Str(y)) => Ok(if or_equal { x <= y } else { x < y }),
        _ if a.type_name() == b.type_name() => {
            Err(format!("attempt to compare two {} values", a.type_name()))
        }
        _ => Err(format!(
            "attempt to compare {} with {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_percent_14g() {
        let cases = [
            (1.0, "1"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (10.0 / 3.0, "3.3333333333333"),
            (1e15, "1e+15"),
            (1e14, "1e+14"),
            (123456789012345.0, "1.2345678901234e+14"),
            (2f64.powi(53), "9.007199254741e+15"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (100.0, "100"),
        ];
        for (n, text) in cases {
            assert_eq!(fmt_number(n), text, "{n}");
        }
        assert_eq!(fmt_g(2.5, 6, true), "2.50000");
    }

    #[test]
    fn tables_keep_an_array_part_and_ordered_keys() {
        let t = Table::new_ref();
        let mut t = t.borrow_mut();
        t.set(Value::Num(2.0), Value::str("b"));
        t.set(Value::Num(1.0), Value::str("a"));
        assert_eq!(t.len(), 2);
        t.set(Value::str("x"), Value::Num(1.0));
        t.set(Value::str("y"), Value::Num(2.0));
        t.set(Value::str("x"), Value::Nil);
        let mut keys = Vec::new();
        let mut k = Value::Nil;
        while let Ok(Some((key, _))) = t.next(&k) {
            keys.push(key.to_str().map(|s| s.to_vec()).unwrap_or_default());
            k = key;
        }
        assert_eq!(keys, vec![b"1".to_vec(), b"2".to_vec(), b"y".to_vec()]);
        t.set(Value::Num(2.0), Value::Nil);
        assert_eq!(t.len(), 1);
    }
}
