//! The evaluator: statements, expressions, scopes, calls and the step budget.

use std::collections::HashMap;
use std::rc::Rc;

use super::parser::{Arg, CompFor, Expr, FPart, FuncDef, Lit, Stmt, StmtKind};
use super::value::{
    cmp, dict_set, eq, hashable, range_len, repr, set_add, to_str, Dict, Function, Obj, PyErr, Val,
};
use super::{builtins, modules};
use crate::snippets::Engines;

/// Function calls nest at most this deep (CPython's own limit is 1000, but the sandbox's
/// evaluator recurses on the Rust stack, which is 1 MiB in wasm).
const MAX_CALL_DEPTH: usize = 60;

pub enum Ctl {
    Normal,
    Break,
    Continue,
    Return(Val),
}

struct Frame {
    vars: HashMap<String, Val>,
    /// Comprehension scopes see the enclosing function's names; function frames do not.
    transparent: bool,
}

pub struct Interp<'e, 'a> {
    pub engines: &'e mut Engines<'a>,
    pub out: String,
    pub round_trips: u64,
    globals: HashMap<String, Val>,
    frames: Vec<Frame>,
    steps: u64,
    pub step_limit: u64,
    depth: usize,
    /// The exception being handled, for a bare `raise`.
    handling: Vec<PyErr>,
    pub oid_counter: u32,
    /// pymongo sessions started so far (each names a mongosh variable).
    pub mongo_sessions: u32,
    /// Connections the snippet opened besides its own (pub/sub); closed when it ends, as
    /// a finished script's connections close.
    pub extra_clients: Vec<u64>,
}

pub type R<T> = Result<T, PyErr>;

/// Keyword arguments of a call, in the order written.
pub type Keywords = Vec<(String, Val)>;

impl<'e, 'a> Interp<'e, 'a> {
    pub fn new(engines: &'e mut Engines<'a>) -> Self {
        Interp {
            engines,
            out: String::new(),
            round_trips: 0,
            globals: HashMap::new(),
            frames: Vec::new(),
            steps: 0,
            step_limit: crate::mongo::shell::eval::STEP_LIMIT,
            depth: 0,
            handling: Vec::new(),
            oid_counter: 0,
            mongo_sessions: 0,
            extra_clients: Vec::new(),
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.engines.clock.now(self.engines.host_ms)
    }

    /// Counts one step; past the budget the snippet stops, whatever it catches.
    pub fn step(&mut self, n: u64) -> R<()> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.step_limit {
            return Err(PyErr {
                class: "RuntimeError".into(),
                msg: format!(
                    "sandbox step limit reached ({} steps; does a loop never end?)",
                    self.step_limit
                ),
                fatal: true,
            });
        }
        Ok(())
    }

    pub fn exec_block(&mut self, body: &[Stmt]) -> R<Ctl> {
        for stmt in body {
            match self.exec(stmt)? {
                Ctl::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Ctl::Normal)
    }

    pub fn exec(&mut self, stmt: &Stmt) -> R<Ctl> {
        self.step(1)?;
        self.exec_kind(stmt).map_err(|e| at_line(e, stmt.line))
    }

    fn exec_kind(&mut self, stmt: &Stmt) -> R<Ctl> {
        match &stmt.kind {
            StmtKind::Expr(e) => {
                self.eval(e)?;
            }
            StmtKind::Assign(targets, value) => {
                let v = self.eval(value)?;
                for t in targets {
                    self.assign(t, v.clone())?;
                }
            }
            StmtKind::AugAssign(target, op, value) => {
                let current = self.eval(target)?;
                let rhs = self.eval(value)?;
                let result = match (&current, *op) {
                    // `+=` on a list extends it in place, as Python does.
                    (Val::List(l), "+") => {
                        let items = self.iterate(&rhs)?;
                        l.borrow_mut().extend(items);
                        current.clone()
                    }
                    _ => builtins::binary(self, op, &current, &rhs)?,
                };
                self.assign(target, result)?;
            }
            StmtKind::Import(names) => {
                for (module, alias) in names {
                    let m = modules::import(module)?;
                    match alias {
                        Some(a) => self.set_var(a, m),
                        None => {
                            let top = module.split('.').next().unwrap_or(module);
                            self.set_var(top, modules::import(top)?);
                        }
                    }
                }
            }
            StmtKind::FromImport(module, names) => {
                let m = modules::import(module)?;
                for (name, alias) in names {
                    let v = match self.getattr(&m, name) {
                        Ok(v) => v,
                        Err(_) => modules::import(&format!("{module}.{name}")).map_err(|_| {
                            PyErr::unsupported(&format!("'from {module} import {name}'"))
                        })?,
                    };
                    self.set_var(alias.as_ref().unwrap_or(name), v);
                }
            }
            StmtKind::Def(def) => {
                let f = self.make_function(def)?;
                self.set_var(&def.name, f);
            }
            StmtKind::Return(value) => {
                let v = match value {
                    Some(e) => self.eval(e)?,
                    None => Val::None,
                };
                return Ok(Ctl::Return(v));
            }
            StmtKind::If(arms, orelse) => {
                for (cond, body) in arms {
                    if self.eval(cond)?.truthy() {
                        return self.exec_block(body);
                    }
                }
                return self.exec_block(orelse);
            }
            StmtKind::While(cond, body, orelse) => {
                while self.eval(cond)?.truthy() {
                    match self.exec_block(body)? {
                        Ctl::Break => return Ok(Ctl::Normal),
                        Ctl::Return(v) => return Ok(Ctl::Return(v)),
                        _ => {}
                    }
                }
                return self.exec_block(orelse);
            }
            StmtKind::For(target, iter, body, orelse) => {
                let it = self.eval(iter)?;
                let items = self.iterate(&it)?;
                for item in items {
                    self.step(1)?;
                    self.assign(target, item)?;
                    match self.exec_block(body)? {
                        Ctl::Break => return Ok(Ctl::Normal),
                        Ctl::Return(v) => return Ok(Ctl::Return(v)),
                        _ => {}
                    }
                }
                return self.exec_block(orelse);
            }
            StmtKind::Break => return Ok(Ctl::Break),
            StmtKind::Continue => return Ok(Ctl::Continue),
            StmtKind::Pass | StmtKind::Global => {}
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                let result = match self.exec_block(body) {
                    Ok(Ctl::Normal) => self.exec_block(orelse),
                    Ok(other) => Ok(other),
                    Err(e) if e.fatal => Err(e),
                    Err(e) => self.handle(e, handlers),
                };
                let fin = self.exec_block(finally)?;
                if !matches!(fin, Ctl::Normal) {
                    return Ok(fin);
                }
                return result;
            }
            StmtKind::With(items, body) => {
                let mut managers = Vec::new();
                for (e, target) in items {
                    let v = self.eval(e)?;
                    let entered = builtins::enter(self, &v)?;
                    managers.push(v);
                    if let Some(t) = target {
                        self.assign(t, entered)?;
                    }
                }
                let result = self.exec_block(body);
                for v in managers.iter().rev() {
                    builtins::exit(self, v, result.is_err())?;
                }
                return result;
            }
            StmtKind::Raise(value) => {
                let Some(e) = value else {
                    return Err(self.handling.last().cloned().unwrap_or_else(|| {
                        PyErr::new("RuntimeError", "No active exception to reraise")
                    }));
                };
                let v = self.eval(e)?;
                return Err(match &v {
                    Val::Exception(e) => (**e).clone(),
                    Val::Class(c) => PyErr::new(c, ""),
                    _ => PyErr::type_error("exceptions must derive from BaseException"),
                });
            }
            StmtKind::Del(targets) => {
                for t in targets {
                    self.delete(t)?;
                }
            }
            StmtKind::Assert(cond, msg) => {
                if !self.eval(cond)?.truthy() {
                    let m = match msg {
                        Some(m) => to_str(&self.eval(m)?),
                        None => String::new(),
                    };
                    return Err(PyErr::new("AssertionError", m));
                }
            }
        }
        Ok(Ctl::Normal)
    }

    fn handle(&mut self, e: PyErr, handlers: &[super::parser::Handler]) -> R<Ctl> {
        for h in handlers {
            let matches = match &h.class {
                None => true,
                Some(c) => {
                    let class = self.eval(c)?;
                    self.exception_matches(&e, &class)
                }
            };
            if matches {
                if let Some(name) = &h.name {
                    self.set_var(name, Val::Exception(Rc::new(e.clone())));
                }
                self.handling.push(e);
                let r = self.exec_block(&h.body);
                self.handling.pop();
                return r;
            }
        }
        Err(e)
    }

    fn exception_matches(&self, e: &PyErr, class: &Val) -> bool {
        match class {
            Val::Class(c) => modules::is_subclass(&e.class, c),
            Val::Tuple(items) => items.iter().any(|c| self.exception_matches(e, c)),
            _ => false,
        }
    }

    fn make_function(&mut self, def: &Rc<FuncDef>) -> R<Val> {
        let mut defaults = Vec::new();
        for p in &def.params {
            defaults.push(match &p.default {
                Some(d) => Some(self.eval(d)?),
                None => None,
            });
        }
        let closure = if self.frames.is_empty() {
            None
        } else {
            let mut vars = HashMap::new();
            for f in &self.frames {
                for (k, v) in &f.vars {
                    vars.insert(k.clone(), v.clone());
                }
            }
            Some(Rc::new(vars))
        };
        Ok(Val::Func(Rc::new(Function {
            def: def.clone(),
            defaults,
            closure,
        })))
    }

    pub fn set_var(&mut self, name: &str, v: Val) {
        match self.frames.last_mut() {
            Some(f) => {
                f.vars.insert(name.to_string(), v);
            }
            None => {
                self.globals.insert(name.to_string(), v);
            }
        }
    }

    fn lookup(&self, name: &str) -> R<Val> {
        for f in self.frames.iter().rev() {
            if let Some(v) = f.vars.get(name) {
                return Ok(v.clone());
            }
            if !f.transparent {
                break;
            }
        }
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        builtins::lookup(name)
            .ok_or_else(|| PyErr::new("NameError", format!("name '{name}' is not defined")))
    }

    pub fn assign(&mut self, target: &Expr, v: Val) -> R<()> {
        match target {
            Expr::Name(n) => {
                self.set_var(n, v);
                Ok(())
            }
            Expr::Tuple(items) | Expr::List(items) => {
                let values = self.iterate(&v)?;
                let star = items.iter().position(|i| matches!(i, Expr::Starred(_)));
                match star {
                    None => {
                        if values.len() != items.len() {
                            return Err(PyErr::new(
                                "ValueError",
                                if values.len() > items.len() {
                                    format!("too many values to unpack (expected {})", items.len())
                                } else {
                                    format!(
                                        "not enough values to unpack (expected {}, got {})",
                                        items.len(),
                                        values.len()
                                    )
                                },
                            ));
                        }
                        for (t, v) in items.iter().zip(values) {
                            self.assign(t, v)?;
                        }
                    }
                    Some(s) => {
                        let after = items.len() - s - 1;
                        if values.len() < items.len() - 1 {
                            return Err(PyErr::new(
                                "ValueError",
                                format!(
                                    "not enough values to unpack (expected at least {}, got {})",
                                    items.len() - 1,
                                    values.len()
                                ),
                            ));
                        }
                        let rest_end = values.len() - after;
                        for (t, v) in items[..s].iter().zip(&values[..s]) {
                            self.assign(t, v.clone())?;
                        }
                        if let Expr::Starred(inner) = &items[s] {
                            self.assign(inner, Val::list(values[s..rest_end].to_vec()))?;
                        }
                        for (t, v) in items[s + 1..].iter().zip(&values[rest_end..]) {
                            self.assign(t, v.clone())?;
                        }
                    }
                }
                Ok(())
            }
            Expr::Index(obj, index) => {
                let o = self.eval(obj)?;
                let i = self.eval(index)?;
                builtins::set_item(&o, i, v)
            }
            Expr::Attr(obj, name) => {
                let o = self.eval(obj)?;
                Err(PyErr::new(
                    "AttributeError",
                    format!(
                        "'{}' object attribute '{name}' is read-only in the sandbox",
                        o.type_name()
                    ),
                ))
            }
            Expr::Starred(inner) => self.assign(inner, v),
            _ => Err(PyErr::new("SyntaxError", "cannot assign to expression")),
        }
    }

    fn delete(&mut self, target: &Expr) -> R<()> {
        match target {
            Expr::Name(n) => {
                let removed = match self.frames.last_mut() {
                    Some(f) => f.vars.remove(n).is_some(),
                    None => self.globals.remove(n).is_some(),
                };
                if removed {
                    Ok(())
                } else {
                    Err(PyErr::new(
                        "NameError",
                        format!("name '{n}' is not defined"),
                    ))
                }
            }
            Expr::Index(obj, index) => {
                let o = self.eval(obj)?;
                let i = self.eval(index)?;
                builtins::del_item(&o, &i)
            }
            Expr::Tuple(items) | Expr::List(items) => items.iter().try_for_each(|i| self.delete(i)),
            _ => Err(PyErr::new("SyntaxError", "cannot delete expression")),
        }
    }

    pub fn eval(&mut self, e: &Expr) -> R<Val> {
        self.step(1)?;
        match e {
            Expr::Name(n) => self.lookup(n),
            Expr::Const(lit) => Ok(match lit {
                Lit::None => Val::None,
                Lit::Bool(b) => Val::Bool(*b),
                Lit::Int(i) => Val::Int(*i),
                Lit::Float(f) => Val::Float(*f),
                Lit::Str(s) => Val::str(s.as_str()),
                Lit::Bytes(b) => Val::bytes(b.as_slice()),
                Lit::Ellipsis => Val::Class("Ellipsis".into()),
            }),
            Expr::FString(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        FPart::Lit(l) => s.push_str(l),
                        FPart::Field {
                            expr,
                            conv,
                            spec,
                            debug,
                        } => {
                            let v = self.eval(expr)?;
                            if let Some(d) = debug {
                                s.push_str(d);
                            }
                            let v = match conv {
                                Some('r') => Val::str(repr(&v)),
                                Some('s') => Val::str(to_str(&v)),
                                Some('a') => Val::str(repr(&v)),
                                _ if debug.is_some() && spec.is_empty() => Val::str(repr(&v)),
                                _ => v,
                            };
                            s.push_str(&builtins::format_spec(&v, spec)?);
                        }
                    }
                }
                Ok(Val::str(s))
            }
            Expr::List(items) => Ok(Val::list(self.eval_items(items)?)),
            Expr::Tuple(items) => Ok(Val::tuple(self.eval_items(items)?)),
            Expr::Set(items) => {
                let mut s = Vec::new();
                for v in self.eval_items(items)? {
                    hashable(&v)?;
                    set_add(&mut s, v);
                }
                Ok(Val::Set(Rc::new(std::cell::RefCell::new(s))))
            }
            Expr::Dict(pairs) => {
                let mut d: Dict = Vec::new();
                for (k, v) in pairs {
                    match k {
                        Some(k) => {
                            let k = self.eval(k)?;
                            hashable(&k)?;
                            let v = self.eval(v)?;
                            dict_set(&mut d, k, v);
                        }
                        None => {
                            let other = self.eval(v)?;
                            let Val::Dict(o) = &other else {
                                return Err(PyErr::type_error(format!(
                                    "'{}' object is not a mapping",
                                    other.type_name()
                                )));
                            };
                            let items = o.borrow().clone();
                            for (k, v) in items {
                                dict_set(&mut d, k, v);
                            }
                        }
                    }
                }
                Ok(Val::dict(d))
            }
            Expr::Attr(obj, name) => {
                let o = self.eval(obj)?;
                self.getattr(&o, name)
            }
            Expr::Index(obj, index) => {
                let o = self.eval(obj)?;
                let i = self.eval(index)?;
                builtins::get_item(self, &o, &i)
            }
            Expr::Slice(a, b, c) => {
                let mut part = |x: &Option<Box<Expr>>| -> R<Val> {
                    match x {
                        Some(e) => self.eval(e),
                        None => Ok(Val::None),
                    }
                };
                let items = vec![part(a)?, part(b)?, part(c)?];
                Ok(Val::obj(Obj::Iter("slice", items)))
            }
            Expr::Call(f, args) => {
                let callee = self.eval(f)?;
                let (pos, kw) = self.eval_args(args)?;
                self.call(&callee, pos, kw)
            }
            Expr::Unary(op, inner) => {
                let v = self.eval(inner)?;
                match *op {
                    "not" => Ok(Val::Bool(!v.truthy())),
                    "-" => match v {
                        Val::Int(i) => i.checked_neg().map(Val::Int).ok_or_else(builtins::overflow),
                        Val::Bool(b) => Ok(Val::Int(-i64::from(b))),
                        Val::Float(f) => Ok(Val::Float(-f)),
                        Val::Obj(ref o) => match &*o.borrow() {
                            Obj::TimeDelta(ms) => Ok(Val::obj(Obj::TimeDelta(-ms))),
                            _ => Err(bad_unary("-", &v)),
                        },
                        _ => Err(bad_unary("-", &v)),
                    },
                    "+" => match v {
                        Val::Int(_) | Val::Float(_) => Ok(v),
                        Val::Bool(b) => Ok(Val::Int(i64::from(b))),
                        _ => Err(bad_unary("+", &v)),
                    },
                    _ => match v.as_int() {
                        Some(i) => Ok(Val::Int(!i)),
                        None => Err(bad_unary("~", &v)),
                    },
                }
            }
            Expr::Binary(op, a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                builtins::binary(self, op, &x, &y)
            }
            Expr::Compare(first, rest) => {
                let mut left = self.eval(first)?;
                for (op, e) in rest {
                    let right = self.eval(e)?;
                    if !self.compare(op, &left, &right)? {
                        return Ok(Val::Bool(false));
                    }
                    left = right;
                }
                Ok(Val::Bool(true))
            }
            Expr::And(a, b) => {
                let x = self.eval(a)?;
                if !x.truthy() {
                    return Ok(x);
                }
                self.eval(b)
            }
            Expr::Or(a, b) => {
                let x = self.eval(a)?;
                if x.truthy() {
                    return Ok(x);
                }
                self.eval(b)
            }
            Expr::IfElse(cond, a, b) => {
                if self.eval(cond)?.truthy() {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            Expr::Lambda(def) => self.make_function(def),
            // Driver calls complete at once in the sandbox, so awaiting gives their value.
            Expr::Await(inner) => self.eval(inner),
            Expr::Starred(_) => Err(PyErr::new(
                "SyntaxError",
                "can't use starred expression here",
            )),
            Expr::Comp {
                kind,
                elt,
                value,
                clauses,
            } => {
                self.frames.push(Frame {
                    vars: HashMap::new(),
                    transparent: true,
                });
                let mut items = Vec::new();
                let mut pairs: Dict = Vec::new();
                let r = self.comprehend(clauses, elt, value.as_deref(), &mut items, &mut pairs);
                self.frames.pop();
                r?;
                Ok(match *kind {
                    "dict" => Val::dict(pairs),
                    "set" => {
                        let mut s = Vec::new();
                        for v in items {
                            hashable(&v)?;
                            set_add(&mut s, v);
                        }
                        Val::Set(Rc::new(std::cell::RefCell::new(s)))
                    }
                    "gen" => Val::obj(Obj::Iter("generator", items)),
                    _ => Val::list(items),
                })
            }
        }
    }

    fn comprehend(
        &mut self,
        clauses: &[CompFor],
        elt: &Expr,
        value: Option<&Expr>,
        items: &mut Vec<Val>,
        pairs: &mut Dict,
    ) -> R<()> {
        let Some((first, rest)) = clauses.split_first() else {
            match value {
                Some(v) => {
                    let k = self.eval(elt)?;
                    hashable(&k)?;
                    let v = self.eval(v)?;
                    dict_set(pairs, k, v);
                }
                None => items.push(self.eval(elt)?),
            }
            return Ok(());
        };
        let it = self.eval(&first.iter)?;
        for item in self.iterate(&it)? {
            self.step(1)?;
            self.assign(&first.target, item)?;
            let mut keep = true;
            for c in &first.conds {
                if !self.eval(c)?.truthy() {
                    keep = false;
                    break;
                }
            }
            if keep {
                self.comprehend(rest, elt, value, items, pairs)?;
            }
        }
        Ok(())
    }

    fn eval_items(&mut self, items: &[Expr]) -> R<Vec<Val>> {
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            if let Expr::Starred(inner) = i {
                let v = self.eval(inner)?;
                out.extend(self.iterate(&v)?);
            } else {
                out.push(self.eval(i)?);
            }
        }
        Ok(out)
    }

    fn eval_args(&mut self, args: &[Arg]) -> R<(Vec<Val>, Keywords)> {
        let mut pos = Vec::new();
        let mut kw = Vec::new();
        for a in args {
            match a {
                Arg::Pos(e) => pos.push(self.eval(e)?),
                Arg::Star(e) => {
                    let v = self.eval(e)?;
                    pos.extend(self.iterate(&v)?);
                }
                Arg::Kw(n, e) => kw.push((n.clone(), self.eval(e)?)),
                Arg::StarStar(e) => {
                    let v = self.eval(e)?;
                    let Val::Dict(d) = &v else {
                        return Err(PyErr::type_error("argument after ** must be a mapping"));
                    };
                    for (k, v) in d.borrow().iter() {
                        kw.push((to_str(k), v.clone()));
                    }
                }
            }
        }
        Ok((pos, kw))
    }

    fn compare(&mut self, op: &str, a: &Val, b: &Val) -> R<bool> {
        Ok(match op {
            "==" => eq(a, b),
            "!=" => !eq(a, b),
            "is" => identical(a, b),
            "is not" => !identical(a, b),
            "in" => builtins::contains(self, b, a)?,
            "not in" => !builtins::contains(self, b, a)?,
            _ => {
                let Some(o) = cmp(a, b) else {
                    return Err(PyErr::type_error(format!(
                        "'{op}' not supported between instances of '{}' and '{}'",
                        a.type_name(),
                        b.type_name()
                    )));
                };
                match op {
                    "<" => o.is_lt(),
                    ">" => o.is_gt(),
                    "<=" => o.is_le(),
                    _ => o.is_ge(),
                }
            }
        })
    }

    /// The items a `for` loop would see, materialised.
    pub fn iterate(&mut self, v: &Val) -> R<Vec<Val>> {
        let items = self.iterate_items(v)?;
        self.step(items.len() as u64 / 4)?;
        Ok(items)
    }

    fn iterate_items(&mut self, v: &Val) -> R<Vec<Val>> {
        match v {
            Val::List(l) | Val::Set(l) => Ok(l.borrow().clone()),
            Val::Tuple(t) => Ok(t.to_vec()),
            Val::Dict(d) => Ok(d.borrow().iter().map(|(k, _)| k.clone()).collect()),
            Val::Str(s) => Ok(s.chars().map(|c| Val::str(c.to_string())).collect()),
            Val::Bytes(b) => Ok(b.iter().map(|x| Val::Int(i64::from(*x))).collect()),
            Val::Range(a, b, s) => {
                let n = range_len(*a, *b, *s);
                // Charged up front so that a huge range stops at the budget, not in memory.
                self.step(n.max(0) as u64)?;
                Ok((0..n).map(|i| Val::Int(range_item(*a, *s, i))).collect())
            }
            Val::Obj(o) => {
                let cursor = matches!(&*o.borrow(), Obj::Cursor(_));
                if cursor {
                    return super::pymongo::drain_cursor(self, o);
                }
                let o = o.borrow();
                match &*o {
                    Obj::Iter(_, items) => Ok(items.clone()),
                    Obj::PubSub { pending, .. } => Ok(pending.iter().cloned().collect()),
                    Obj::SearchResult { docs, .. } => Ok(docs.clone()),
                    _ => Err(not_iterable(v)),
                }
            }
            _ => Err(not_iterable(v)),
        }
    }

    pub fn call(&mut self, f: &Val, args: Vec<Val>, kwargs: Vec<(String, Val)>) -> R<Val> {
        self.step(1)?;
        match f {
            Val::Func(func) => self.call_function(func, args, kwargs),
            Val::Builtin(name) => builtins::call(self, name, args, kwargs),
            Val::Class(name) => builtins::construct(self, name, args, kwargs),
            Val::Method(m) => builtins::call_method(self, &m.0, &m.1, args, kwargs),
            _ => Err(PyErr::type_error(format!(
                "'{}' object is not callable",
                f.type_name()
            ))),
        }
    }

    fn call_function(
        &mut self,
        func: &Rc<Function>,
        args: Vec<Val>,
        mut kwargs: Vec<(String, Val)>,
    ) -> R<Val> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(PyErr::new(
                "RecursionError",
                "maximum recursion depth exceeded",
            ));
        }
        let def = &func.def;
        let mut vars: HashMap<String, Val> = match &func.closure {
            Some(c) => (**c).clone(),
            None => HashMap::new(),
        };
        let mut args = args.into_iter();
        for (i, p) in def.params.iter().enumerate() {
            match p.star {
                1 => {
                    vars.insert(p.name.clone(), Val::tuple(args.by_ref().collect()));
                }
                2 => {
                    let d: Dict = kwargs.drain(..).map(|(k, v)| (Val::str(k), v)).collect();
                    vars.insert(p.name.clone(), Val::dict(d));
                }
                _ => {
                    let v = if let Some(v) = args.next() {
                        v
                    } else if let Some(k) = kwargs.iter().position(|(k, _)| *k == p.name) {
                        kwargs.remove(k).1
                    } else if let Some(Some(d)) = func.defaults.get(i) {
                        d.clone()
                    } else {
                        return Err(PyErr::type_error(format!(
                            "{}() missing 1 required positional argument: '{}'",
                            def.name, p.name
                        )));
                    };
                    vars.insert(p.name.clone(), v);
                }
            }
        }
        if args.next().is_some() {
            return Err(PyErr::type_error(format!(
                "{}() takes {} positional arguments but more were given",
                def.name,
                def.params.len()
            )));
        }
        if let Some((k, _)) = kwargs.first() {
            return Err(PyErr::type_error(format!(
                "{}() got an unexpected keyword argument '{k}'",
                def.name
            )));
        }
        self.frames.push(Frame {
            vars,
            transparent: false,
        });
        self.depth += 1;
        let result = match &def.expr {
            Some(e) => self.eval(e),
            None => self.exec_block(&def.body).map(|c| match c {
                Ctl::Return(v) => v,
                _ => Val::None,
            }),
        };
        self.depth -= 1;
        self.frames.pop();
        result
    }

    pub fn getattr(&mut self, v: &Val, name: &str) -> R<Val> {
        builtins::getattr(self, v, name)
    }
}

/// The i-th item of a range, computed wide: the products of huge steps overflow i64.
pub fn range_item(start: i64, step: i64, i: i64) -> i64 {
    (i128::from(start) + i128::from(i) * i128::from(step)) as i64
}

/// What the sandbox does not support names the line it is on.
pub fn at_line(mut e: PyErr, line: usize) -> PyErr {
    if e.class == "NotImplementedError" && !e.msg.contains("(line ") {
        e.msg = format!("{} (line {line})", e.msg);
    }
    e
}

fn identical(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::None, Val::None) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::List(x), Val::List(y)) | (Val::Set(x), Val::Set(y)) => Rc::ptr_eq(x, y),
        (Val::Dict(x), Val::Dict(y)) => Rc::ptr_eq(x, y),
        (Val::Obj(x), Val::Obj(y)) => Rc::ptr_eq(x, y),
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Class(x), Val::Class(y)) => x == y,
        _ => false,
    }
}

fn bad_unary(op: &str, v: &Val) -> PyErr {
    PyErr::type_error(format!(
        "bad operand type for unary {op}: '{}'",
        v.type_name()
    ))
}

pub fn not_iterable(v: &Val) -> PyErr {
    PyErr::type_error(format!("'{}' object is not iterable", v.type_name()))
}
