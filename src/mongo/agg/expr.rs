//! Aggregation expressions: compiled once from their document form into a tree, then
//! evaluated per document.
//!
//! A missing field evaluates to `Value::Undefined` inside this module ("missing" in the
//! server's terms): `$project` and `$addFields` drop it, `$ifNull` treats it as null and
//! `$type` names it `missing`. BSON's deprecated undefined type is read the same way.

use std::cell::Cell;
use std::cmp::Ordering;

use super::ops::{self, Arity, OpDef};
use super::{depth_error, AggError, MAX_DEPTH};
use crate::agg_err;
use crate::mongo::value::{compare, field, field_hinted, Document, Value};

#[derive(Debug, Clone)]
pub enum Expr {
    Const(Value),
    /// `$a.b`: a path from the current document (empty for `$$CURRENT` itself), and where
    /// its first field was last found (see `field_hinted`).
    Field(Vec<String>, Cell<usize>),
    /// `$$name.a.b`: a variable and a path inside it.
    Var(String, Vec<String>),
    Now,
    Object(Vec<(String, Expr)>),
    Array(Vec<Expr>),
    /// An operator whose arguments are all evaluated first.
    Call(&'static OpDef, Vec<Expr>),
    Cond(Box<(Expr, Expr, Expr)>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    IfNull(Vec<Expr>),
    Switch {
        branches: Vec<(Expr, Expr)>,
        default: Option<Box<Expr>>,
    },
    Let {
        vars: Vec<(String, Expr)>,
        body: Box<Expr>,
    },
    Map {
        input: Box<Expr>,
        name: String,
        body: Box<Expr>,
    },
    Filter {
        input: Box<Expr>,
        name: String,
        cond: Box<Expr>,
        limit: Option<Box<Expr>>,
    },
    Reduce {
        input: Box<Expr>,
        initial: Box<Expr>,
        body: Box<Expr>,
    },
}

/// Variables every expression may use.
const SYSTEM_VARS: &[&str] = &[
    "ROOT",
    "CURRENT",
    "NOW",
    "REMOVE",
    "DESCEND",
    "PRUNE",
    "KEEP",
    "CLUSTER_TIME",
];

/// Compile-time state: the user variables in scope and the nesting depth.
#[derive(Debug, Clone, Default)]
pub struct Compiler {
    pub scope: Vec<String>,
    depth: usize,
}

/// What the server answers when an operator of named arguments is given something other
/// than a document, in each operator's own words and code (mongod 8.2; "{}" is the type).
const NOT_AN_OBJECT: &[(&str, i32, &str, &str)] = &[
    (
        "$convert",
        9,
        "FailedToParse",
        "$convert expects an object of named arguments but found: {}",
    ),
    (
        "$dateAdd",
        5166400,
        "Location5166400",
        "$dateAdd expects an object as its argument",
    ),
    (
        "$dateSubtract",
        5166400,
        "Location5166400",
        "$dateSubtract expects an object as its argument",
    ),
    (
        "$dateDiff",
        5166301,
        "Location5166301",
        "$dateDiff only supports an object as its argument",
    ),
    (
        "$dateFromParts",
        40519,
        "Location40519",
        "$dateFromParts only supports an object as its argument",
    ),
    (
        "$dateFromString",
        40540,
        "Location40540",
        "$dateFromString only supports an object as an argument, found: {}",
    ),
    (
        "$dateToParts",
        40524,
        "Location40524",
        "$dateToParts only supports an object as its argument",
    ),
    (
        "$dateToString",
        18629,
        "Location18629",
        "$dateToString only supports an object as its argument",
    ),
    (
        "$dateTrunc",
        5439007,
        "Location5439007",
        "$dateTrunc only supports an object as its argument",
    ),
    (
        "$trim",
        50696,
        "Location50696",
        "$trim only supports an object as an argument, found {}",
    ),
    (
        "$ltrim",
        50696,
        "Location50696",
        "$ltrim only supports an object as an argument, found {}",
    ),
    (
        "$rtrim",
        50696,
        "Location50696",
        "$rtrim only supports an object as an argument, found {}",
    ),
    (
        "$regexFind",
        51103,
        "Location51103",
        "$regexFind expects an object of named arguments but found: {}",
    ),
    (
        "$regexFindAll",
        51103,
        "Location51103",
        "$regexFindAll expects an object of named arguments but found: {}",
    ),
    (
        "$regexMatch",
        51103,
        "Location51103",
        "$regexMatch expects an object of named arguments but found: {}",
    ),
    (
        "$replaceAll",
        51751,
        "Location51751",
        "$replaceAll requires an object as an argument, found: {}",
    ),
    (
        "$replaceOne",
        51751,
        "Location51751",
        "$replaceOne requires an object as an argument, found: {}",
    ),
    (
        "$setField",
        4161100,
        "Location4161100",
        "$setField only supports an object as its argument",
    ),
    (
        "$sortArray",
        2942500,
        "Location2942500",
        "$sortArray requires an object as an argument, found: {}",
    ),
    (
        "$zip",
        34460,
        "Location34460",
        "$zip only supports an object as an argument, found {}",
    ),
];

fn not_an_object(name: &str, operand: &Value) -> AggError {
    match NOT_AN_OBJECT.iter().find(|(op, ..)| *op == name) {
        Some((_, code, code_name, text)) => {
            AggError::new(*code, code_name, text.replace("{}", type_name(operand)))
        }
        None => agg_err!(
            10065,
            "{name} only supports an object as its argument, found: {}",
            type_name(operand)
        ),
    }
}

/// The keys of operators whose argument document refuses any other, with the server's code
/// for an unknown one and whether it says "Unrecognized parameter to $op: k" (`true`) or
/// "$op found an unknown argument: k" (mongod 8.2). Unknown keys are reported before
/// missing ones, as the server parses a spec field by field.
const ARGUMENT_KEYS: &[(&str, &[&str], i32, &str, bool)] = &[
    ("$let", &["vars", "in"], 16875, "Location16875", true),
    ("$map", &["input", "as", "in"], 16879, "Location16879", true),
    (
        "$filter",
        &["input", "as", "cond", "limit"],
        28647,
        "Location28647",
        true,
    ),
    (
        "$reduce",
        &["input", "initialValue", "in"],
        40076,
        "Location40076",
        false,
    ),
    ("$convert", &[], 9, "FailedToParse", false),
    ("$trim", &[], 50694, "Location50694", false),
    ("$ltrim", &[], 50694, "Location50694", false),
    ("$rtrim", &[], 50694, "Location50694", false),
    ("$regexFind", &[], 31024, "Location31024", false),
    ("$regexFindAll", &[], 31024, "Location31024", false),
    ("$regexMatch", &[], 31024, "Location31024", false),
    ("$replaceAll", &[], 51750, "Location51750", false),
    ("$replaceOne", &[], 51750, "Location51750", false),
    ("$setField", &[], 4161101, "Location4161101", false),
    ("$sortArray", &[], 2942501, "Location2942501", false),
    ("$zip", &[], 34464, "Location34464", false),
];

/// The date operators' own wording for an unknown argument: a code and what follows
/// "Unrecognized argument to $op: k" (mongod 8.2).
const DATE_ARGUMENT_ERRORS: &[(&str, i32, &str, &str)] = &[
    (
        "$dateAdd",
        5166401,
        "Location5166401",
        ". Expected arguments are startDate, unit, amount, and optionally timezone.",
    ),
    (
        "$dateSubtract",
        5166401,
        "Location5166401",
        ". Expected arguments are startDate, unit, amount, and optionally timezone.",
    ),
    ("$dateDiff", 5166302, "Location5166302", ""),
    ("$dateFromParts", 40518, "Location40518", ""),
    ("$dateToParts", 40520, "Location40520", ""),
    ("$dateFromString", 40541, "Location40541", ""),
    ("$dateToString", 18534, "Location18534", ""),
    (
        "$dateTrunc",
        5439008,
        "Location5439008",
        ". Expected arguments are date, unit, and optionally, binSize, timezone, startOfWeek",
    ),
];

/// `o`'s first key that `op` does not take, in the server's words (`ARGUMENT_KEYS` lists
/// the keys of the operators compiled by hand; the others' come from their `Named` arity).
fn unknown_argument(o: &Document, op: &str) -> Result<(), AggError> {
    let known = ARGUMENT_KEYS
        .iter()
        .find(|(name, ..)| *name == op)
        .map_or(&[][..], |(_, keys, ..)| *keys);
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(unknown_named_argument(op, k)),
        None => Ok(()),
    }
}

fn unknown_named_argument(op: &str, key: &str) -> AggError {
    if let Some((_, _, code, code_name, parameter)) =
        ARGUMENT_KEYS.iter().find(|(name, ..)| *name == op)
    {
        let text = if *parameter {
            format!("Unrecognized parameter to {op}: {key}")
        } else {
            format!("{op} found an unknown argument: {key}")
        };
        return AggError::new(*code, code_name, text);
    }
    if let Some((_, code, code_name, tail)) =
        DATE_ARGUMENT_ERRORS.iter().find(|(name, ..)| *name == op)
    {
        return AggError::new(
            *code,
            code_name,
            format!("Unrecognized argument to {op}: {key}{tail}"),
        );
    }
    match op {
        "$firstN" | "$lastN" | "$maxN" | "$minN" => {
            agg_err!(5787901, "Unknown argument for 'n' operator: {key}")
        }
        "$median" | "$percentile" => {
            agg_err!(40415, "BSON field '{op}.{key}' is an unknown field.")
        }
        _ => agg_err!(10066, "Unrecognized argument to {op}: {key}"),
    }
}

/// A required argument missing, in the server's words where they differ from the usual
/// "Missing 'f' parameter to $op" (mongod 8.2).
fn missing_argument(op: &str, field: &str) -> AggError {
    match (op, field) {
        ("$convert", _) => AggError::new(
            9,
            "FailedToParse",
            format!("Missing '{field}' parameter to $convert"),
        ),
        ("$dateDiff", "startDate") => {
            agg_err!(5166303, "Missing 'startDate' parameter to $dateDiff")
        }
        ("$firstN" | "$lastN" | "$maxN" | "$minN", "n") => {
            agg_err!(5787906, "Missing value for 'n'")
        }
        _ => agg_err!(10067, "Missing '{field}' parameter to {op}"),
    }
}

/// Named arguments the server reads as they are written rather than as expressions: a
/// `$sortArray` `sortBy` document names dotted paths (`{ "address.city": -1 }`), which an
/// expression object would refuse.
const LITERAL_ARGS: &[(&str, &str)] = &[("$sortArray", "sortBy")];

impl Compiler {
    pub fn with_scope(scope: &[String]) -> Self {
        Compiler {
            scope: scope.to_vec(),
            depth: 0,
        }
    }

    pub fn compile(&mut self, v: &Value) -> Result<Expr, AggError> {
        if self.depth >= MAX_DEPTH {
            return Err(depth_error());
        }
        self.depth += 1;
        let r = self.compile_inner(v);
        self.depth -= 1;
        r
    }

    fn compile_inner(&mut self, v: &Value) -> Result<Expr, AggError> {
        match v {
            Value::String(s) if s.starts_with('$') => self.compile_path(s),
            Value::Array(items) => Ok(Expr::Array(
                items
                    .iter()
                    .map(|i| self.compile(i))
                    .collect::<Result<_, _>>()?,
            )),
            Value::Document(d) => self.compile_object(d),
            other => Ok(Expr::Const(other.clone())),
        }
    }

    fn compile_path(&mut self, s: &str) -> Result<Expr, AggError> {
        if let Some(rest) = s.strip_prefix("$$") {
            let mut parts = rest.split('.');
            let name = parts.next().unwrap_or_default();
            let path: Vec<String> = parts.map(str::to_string).collect();
            check_path(&path)?;
            if name.is_empty() {
                return Err(agg_err!(16869, "empty variable names are not allowed"));
            }
            if !SYSTEM_VARS.contains(&name) && !self.scope.iter().any(|v| v == name) {
                return Err(agg_err!(17276, "Use of undefined variable: {name}"));
            }
            return Ok(match name {
                "CURRENT" | "ROOT" => Expr::Field(path, Cell::new(0)),
                "NOW" if path.is_empty() => Expr::Now,
                _ => Expr::Var(name.to_string(), path),
            });
        }
        let path = s.get(1..).unwrap_or_default();
        if path.is_empty() {
            return Err(agg_err!(16872, "'$' by itself is not a valid FieldPath"));
        }
        let parts: Vec<String> = path.split('.').map(str::to_string).collect();
        check_path(&parts)?;
        Ok(Expr::Field(parts, Cell::new(0)))
    }

    fn compile_object(&mut self, d: &Document) -> Result<Expr, AggError> {
        let Some((first, operand)) = d.first() else {
            return Ok(Expr::Object(Vec::new()));
        };
        if first.starts_with('$') {
            if d.len() != 1 {
                return Err(agg_err!(
                    15983,
                    "An object representing an expression must have exactly one field: {}",
                    server_text(&Value::Document(d.clone()))
                ));
            }
            return self.compile_operator(first, operand);
        }
        let mut fields = Vec::with_capacity(d.len());
        for (k, v) in d {
            if k.starts_with('$') {
                return Err(agg_err!(
                    16410,
                    "FieldPath field names may not start with '$'. Consider using $getField or $setField."
                ));
            }
            if k.contains('.') {
                return Err(agg_err!(
                    16412,
                    "FieldPath field names may not contain '.'."
                ));
            }
            fields.push((k.clone(), self.compile(v)?));
        }
        Ok(Expr::Object(fields))
    }

    fn compile_operator(&mut self, name: &str, operand: &Value) -> Result<Expr, AggError> {
        match name {
            "$literal" => return Ok(Expr::Const(operand.clone())),
            "$cond" => return self.compile_cond(operand),
            "$and" | "$or" => {
                let args = self.compile_args(operand)?;
                return Ok(if name == "$and" {
                    Expr::And(args)
                } else {
                    Expr::Or(args)
                });
            }
            "$ifNull" => {
                let args = self.compile_args(operand)?;
                if args.len() < 2 {
                    return Err(agg_err!(
                        1257300,
                        "$ifNull needs at least two arguments, had: {}",
                        args.len()
                    ));
                }
                return Ok(Expr::IfNull(args));
            }
            "$switch" => return self.compile_switch(operand),
            "$let" => return self.compile_let(operand),
            "$map" => return self.compile_map(operand),
            "$filter" => return self.compile_filter(operand),
            "$reduce" => return self.compile_reduce(operand),
            _ => {}
        }
        let Some(def) = ops::lookup(name) else {
            return Err(AggError::new(
                168,
                "InvalidPipelineOperator",
                format!("Unrecognized expression '{name}'"),
            ));
        };
        let args = match def.arity {
            Arity::Named(fields, required) => {
                let obj = match operand {
                    Value::Document(o) => o,
                    other => return Err(not_an_object(name, other)),
                };
                if let Some(k) = obj.keys().find(|k| !fields.contains(&k.as_str())) {
                    return Err(unknown_named_argument(name, k));
                }
                let mut args = Vec::with_capacity(fields.len());
                for f in fields {
                    match obj.get(*f) {
                        Some(v) if LITERAL_ARGS.contains(&(name, *f)) => {
                            args.push(Expr::Const(v.clone()))
                        }
                        Some(v) => args.push(self.compile(v)?),
                        None if required.contains(f) => return Err(missing_argument(name, f)),
                        None => args.push(Expr::Const(Value::Undefined)),
                    }
                }
                args
            }
            Arity::DateParts => {
                // `{$year: date}`, `{$year: [date]}` or `{$year: {date, timezone}}`.
                match operand {
                    Value::Document(o) if o.contains_key("date") => {
                        for k in o.keys() {
                            if k != "date" && k != "timezone" {
                                return Err(agg_err!(
                                    40535,
                                    "unrecognized option to {name}: \"{k}\". Valid options are \"date\" and \"timezone\""
                                ));
                            }
                        }
                        let date = o
                            .get("date")
                            .map_or(Ok(Expr::Const(Value::Undefined)), |v| self.compile(v))?;
                        let tz = o
                            .get("timezone")
                            .map_or(Ok(Expr::Const(Value::Undefined)), |v| self.compile(v))?;
                        vec![date, tz]
                    }
                    _ => {
                        let mut a = self.compile_args(operand)?;
                        if a.len() != 1 {
                            return Err(agg_err!(
                                16020,
                                "Expression {name} takes exactly 1 arguments. {} were passed in.",
                                a.len()
                            ));
                        }
                        a.push(Expr::Const(Value::Undefined));
                        a
                    }
                }
            }
            Arity::Exact(n) => {
                // An operator of no arguments is written `{ $rand: {} }`: the empty document
                // is its (empty) argument list, not one argument.
                let empty = n == 0 && matches!(operand, Value::Document(d) if d.is_empty());
                let a = if empty {
                    Vec::new()
                } else {
                    self.compile_args(operand)?
                };
                if a.len() != n {
                    // `$substr` is the server's older name for `$substrBytes`, and the
                    // server's message names the expression by its own name.
                    let name = if name == "$substr" {
                        "$substrBytes"
                    } else {
                        name
                    };
                    return Err(agg_err!(
                        16020,
                        "Expression {name} takes exactly {n} arguments. {} were passed in.",
                        a.len()
                    ));
                }
                a
            }
            Arity::Range(lo, hi) => {
                let a = self.compile_args(operand)?;
                if a.len() < lo || a.len() > hi {
                    return Err(agg_err!(
                        16020,
                        "Expression {name} takes at least {lo} arguments, and at most {hi}. {} were passed in.",
                        a.len()
                    ));
                }
                a
            }
            Arity::AtLeast(lo) => {
                let a = self.compile_args(operand)?;
                if a.len() < lo {
                    return Err(agg_err!(
                        16020,
                        "Expression {name} takes at least {lo} arguments. {} were passed in.",
                        a.len()
                    ));
                }
                a
            }
            Arity::Any => self.compile_args(operand)?,
        };
        Ok(Expr::Call(def, args))
    }

    /// An operator's arguments: an array is the list, anything else is one argument.
    fn compile_args(&mut self, operand: &Value) -> Result<Vec<Expr>, AggError> {
        match operand {
            Value::Array(items) => items.iter().map(|i| self.compile(i)).collect(),
            other => Ok(vec![self.compile(other)?]),
        }
    }

    fn compile_cond(&mut self, operand: &Value) -> Result<Expr, AggError> {
        match operand {
            Value::Document(o) => {
                for k in o.keys() {
                    if !matches!(k.as_str(), "if" | "then" | "else") {
                        return Err(agg_err!(17083, "Unrecognized parameter to $cond: {k}"));
                    }
                }
                let mut get = |f: &str| -> Result<Expr, AggError> {
                    match o.get(f) {
                        Some(v) => self.compile(v),
                        None => Err(agg_err!(17080, "Missing '{f}' parameter to $cond")),
                    }
                };
                let c = get("if")?;
                let t = get("then")?;
                let e = get("else")?;
                Ok(Expr::Cond(Box::new((c, t, e))))
            }
            _ => {
                let mut a = self.compile_args(operand)?;
                if a.len() != 3 {
                    return Err(agg_err!(
                        16020,
                        "Expression $cond takes exactly 3 arguments. {} were passed in.",
                        a.len()
                    ));
                }
                let e = a.pop().unwrap_or(Expr::Const(Value::Null));
                let t = a.pop().unwrap_or(Expr::Const(Value::Null));
                let c = a.pop().unwrap_or(Expr::Const(Value::Null));
                Ok(Expr::Cond(Box::new((c, t, e))))
            }
        }
    }

    fn compile_switch(&mut self, operand: &Value) -> Result<Expr, AggError> {
        let Value::Document(o) = operand else {
            return Err(agg_err!(
                40060,
                "$switch requires an object as an argument, found: {}",
                type_name(operand)
            ));
        };
        let mut branches = Vec::new();
        let mut default = None;
        for (k, v) in o {
            match k.as_str() {
                "branches" => {
                    let Value::Array(items) = v else {
                        return Err(agg_err!(
                            40061,
                            "$switch expected an array for 'branches', found: {}",
                            type_name(v)
                        ));
                    };
                    for b in items {
                        let Value::Document(b) = b else {
                            return Err(agg_err!(
                                40062,
                                "$switch expected each branch to be an object, found: {}",
                                type_name(b)
                            ));
                        };
                        let case = match b.get("case") {
                            Some(c) => self.compile(c)?,
                            None => {
                                return Err(agg_err!(
                                    40064,
                                    "$switch requires each branch have a 'case' expression"
                                ))
                            }
                        };
                        let then = match b.get("then") {
                            Some(t) => self.compile(t)?,
                            None => {
                                return Err(agg_err!(
                                    40065,
                                    "$switch requires each branch have a 'then' expression."
                                ))
                            }
                        };
                        branches.push((case, then));
                    }
                }
                "default" => default = Some(Box::new(self.compile(v)?)),
                _ => {
                    return Err(agg_err!(40067, "$switch found an unknown argument: {k}"));
                }
            }
        }
        if branches.is_empty() {
            return Err(agg_err!(40068, "$switch requires at least one branch."));
        }
        Ok(Expr::Switch { branches, default })
    }

    fn compile_let(&mut self, operand: &Value) -> Result<Expr, AggError> {
        let Value::Document(o) = operand else {
            return Err(agg_err!(
                16874,
                "$let only supports an object as its argument"
            ));
        };
        unknown_argument(o, "$let")?;
        let Some(Value::Document(vars_doc)) = o.get("vars") else {
            return Err(agg_err!(16876, "Missing 'vars' parameter to $let"));
        };
        let Some(body) = o.get("in") else {
            return Err(agg_err!(16877, "Missing 'in' parameter to $let"));
        };
        let mut vars = Vec::new();
        for (k, v) in vars_doc {
            check_var_name(k)?;
            vars.push((k.clone(), self.compile(v)?));
        }
        let before = self.scope.len();
        self.scope.extend(vars.iter().map(|(k, _)| k.clone()));
        let body = self.compile(body);
        self.scope.truncate(before);
        Ok(Expr::Let {
            vars,
            body: Box::new(body?),
        })
    }

    fn in_scope(&mut self, name: &str, v: &Value) -> Result<Expr, AggError> {
        self.scope.push(name.to_string());
        let r = self.compile(v);
        self.scope.pop();
        r
    }

    fn compile_map(&mut self, operand: &Value) -> Result<Expr, AggError> {
        let Value::Document(o) = operand else {
            return Err(agg_err!(
                16878,
                "$map only supports an object as its argument"
            ));
        };
        unknown_argument(o, "$map")?;
        let input = o
            .get("input")
            .ok_or_else(|| agg_err!(16880, "Missing 'input' parameter to $map"))?;
        let body = o
            .get("in")
            .ok_or_else(|| agg_err!(16882, "Missing 'in' parameter to $map"))?;
        let name = var_name(o.get("as"))?;
        Ok(Expr::Map {
            input: Box::new(self.compile(input)?),
            body: Box::new(self.in_scope(&name, body)?),
            name,
        })
    }

    fn compile_filter(&mut self, operand: &Value) -> Result<Expr, AggError> {
        let Value::Document(o) = operand else {
            return Err(agg_err!(
                28646,
                "$filter only supports an object as its argument"
            ));
        };
        unknown_argument(o, "$filter")?;
        let input = o
            .get("input")
            .ok_or_else(|| agg_err!(28648, "Missing 'input' parameter to $filter"))?;
        let cond = o
            .get("cond")
            .ok_or_else(|| agg_err!(28650, "Missing 'cond' parameter to $filter"))?;
        let name = var_name(o.get("as"))?;
        let limit = match o.get("limit") {
            Some(l) => Some(Box::new(self.compile(l)?)),
            None => None,
        };
        Ok(Expr::Filter {
            input: Box::new(self.compile(input)?),
            cond: Box::new(self.in_scope(&name, cond)?),
            name,
            limit,
        })
    }

    fn compile_reduce(&mut self, operand: &Value) -> Result<Expr, AggError> {
        let Value::Document(o) = operand else {
            return Err(agg_err!(
                40075,
                "$reduce requires an object as an argument, found: {}",
                type_name(operand)
            ));
        };
        unknown_argument(o, "$reduce")?;
        let get = |f: &str| {
            o.get(f)
                .ok_or_else(|| agg_err!(40079, "$reduce requires '{f}' to be specified"))
        };
        let input = self.compile(get("input")?)?;
        let initial = self.compile(get("initialValue")?)?;
        let body_src = get("in")?;
        self.scope.push("value".into());
        self.scope.push("this".into());
        let body = self.compile(body_src);
        self.scope.truncate(self.scope.len().saturating_sub(2));
        Ok(Expr::Reduce {
            input: Box::new(input),
            initial: Box::new(initial),
            body: Box::new(body?),
        })
    }
}

fn var_name(v: Option<&Value>) -> Result<String, AggError> {
    match v {
        None => Ok("this".into()),
        Some(Value::String(s)) => {
            check_var_name(s)?;
            Ok(s.clone())
        }
        Some(_) => Err(agg_err!(16866, "'as' must be a string")),
    }
}

fn check_var_name(name: &str) -> Result<(), AggError> {
    let ok_first = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || !c.is_ascii());
    if !ok_first || name.chars().any(|c| !(c.is_alphanumeric() || c == '_')) {
        return Err(agg_err!(
            16867,
            "'{name}' starts with an invalid character for a user variable name"
        ));
    }
    Ok(())
}

fn check_path(parts: &[String]) -> Result<(), AggError> {
    if parts.len() > super::MAX_FIELD_PATH_PARTS {
        return Err(super::field_path_too_long());
    }
    for p in parts {
        if p.is_empty() {
            return Err(agg_err!(
                15998,
                "FieldPath field names may not be empty strings."
            ));
        }
        if p.starts_with('$') {
            return Err(agg_err!(
                16410,
                "FieldPath field names may not start with '$'. Consider using $getField or $setField."
            ));
        }
    }
    Ok(())
}

/// The server's type name, with `missing` for an absent value.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Undefined => "missing",
        other => other.type_name(),
    }
}

/// A value as the server writes it inside messages (`{ a: 1, b: "x" }`).
pub fn server_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        Value::Double(x) => crate::mongo::value::js_number(*x),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Undefined => "undefined".into(),
        Value::ObjectId(o) => format!("ObjectId('{}')", o.to_hex()),
        Value::Date(ms) => format!("new Date({ms})"),
        Value::Regex { pattern, options } => format!("/{pattern}/{options}"),
        Value::Array(items) => {
            if items.is_empty() {
                return "[]".into();
            }
            let inner: Vec<String> = items.iter().map(server_text).collect();
            format!("[ {} ]", inner.join(", "))
        }
        Value::Document(d) => {
            if d.is_empty() {
                return "{}".into();
            }
            let inner: Vec<String> = d
                .iter()
                .map(|(k, v)| format!("{k}: {}", server_text(v)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
        Value::MinKey => "MinKey".into(),
        Value::MaxKey => "MaxKey".into(),
        Value::Decimal128(d) => d.to_string(),
        Value::Timestamp { t, i } => format!("Timestamp({t}, {i})"),
        Value::Binary { subtype, bytes } => format!(
            "BinData({subtype}, {})",
            crate::mongo::value::hex_string(bytes).to_uppercase()
        ),
    }
}

/// Evaluation state for one document: the current document, variables from outside the
/// expression (a `$lookup`'s `let`), and the variables bound inside it.
pub struct Env<'e> {
    pub root: &'e Document,
    pub outer: &'e [(String, Value)],
    pub locals: Vec<(String, Value)>,
    pub now_ms: i64,
}

impl<'e> Env<'e> {
    pub fn new(root: &'e Document, outer: &'e [(String, Value)], now_ms: i64) -> Self {
        Env {
            root,
            outer,
            locals: Vec::new(),
            now_ms,
        }
    }

    fn var(&self, name: &str) -> Value {
        if let Some((_, v)) = self.locals.iter().rev().find(|(k, _)| k == name) {
            return v.clone();
        }
        if let Some((_, v)) = self.outer.iter().rev().find(|(k, _)| k == name) {
            return v.clone();
        }
        match name {
            "NOW" => Value::Date(self.now_ms),
            "DESCEND" | "PRUNE" | "KEEP" => Value::String(format!("$${name}")),
            _ => Value::Undefined,
        }
    }
}

/// The value at `path` in a document: arrays along the way give arrays of what their
/// elements hold (`$items.price` over `[{price: 1}, {price: 2}]` is `[1, 2]`).
pub fn doc_path(doc: &Document, path: &[String]) -> Value {
    match path.split_first() {
        None => Value::Document(doc.clone()),
        Some((first, rest)) => match field(doc, first) {
            None => Value::Undefined,
            Some(v) => value_path(v, rest),
        },
    }
}

pub fn value_path(v: &Value, rest: &[String]) -> Value {
    if rest.is_empty() {
        return v.clone();
    }
    match v {
        Value::Document(d) => doc_path(d, rest),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter_map(|item| match item {
                    Value::Document(d) => {
                        let r = doc_path(d, rest);
                        (!matches!(r, Value::Undefined)).then_some(r)
                    }
                    Value::Array(_) => Some(value_path(item, rest)),
                    _ => None,
                })
                .collect(),
        ),
        _ => Value::Undefined,
    }
}

/// Truthiness as aggregation sees it: false, null, missing and zero are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null | Value::Undefined => false,
        Value::Int32(i) => *i != 0,
        Value::Int64(i) => *i != 0,
        Value::Double(x) => *x != 0.0,
        Value::Decimal128(d) => !d.is_zero(),
        _ => true,
    }
}

pub fn is_nullish(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Undefined)
}

impl Expr {
    pub fn is_const(&self) -> bool {
        matches!(self, Expr::Const(_))
    }

    /// Adds the top-level fields this expression reads to `out`; false when it may read the
    /// whole document (`$$ROOT`, `$$CURRENT`), so that no field can be left out for it.
    pub fn fields(&self, out: &mut Vec<String>) -> bool {
        let all = |items: &mut dyn Iterator<Item = &Expr>, out: &mut Vec<String>| {
            let mut ok = true;
            for e in items {
                ok &= e.fields(out);
            }
            ok
        };
        match self {
            Expr::Const(_) | Expr::Now | Expr::Var(..) => true,
            Expr::Field(path, _) => match path.first() {
                Some(f) => {
                    out.push(f.clone());
                    true
                }
                None => false,
            },
            Expr::Object(fields) => all(&mut fields.iter().map(|(_, e)| e), out),
            Expr::Array(items)
            | Expr::Call(_, items)
            | Expr::And(items)
            | Expr::Or(items)
            | Expr::IfNull(items) => all(&mut items.iter(), out),
            Expr::Cond(p) => all(&mut [&p.0, &p.1, &p.2].into_iter(), out),
            Expr::Switch { branches, default } => {
                let ok = all(&mut branches.iter().flat_map(|(a, b)| [a, b]), out);
                ok & default.as_ref().is_none_or(|d| d.fields(out))
            }
            Expr::Let { vars, body } => {
                all(&mut vars.iter().map(|(_, e)| e), out) & body.fields(out)
            }
            Expr::Map { input, body, .. } => input.fields(out) & body.fields(out),
            Expr::Filter {
                input, cond, limit, ..
            } => {
                input.fields(out) & cond.fields(out) & limit.as_ref().is_none_or(|l| l.fields(out))
            }
            Expr::Reduce {
                input,
                initial,
                body,
            } => input.fields(out) & initial.fields(out) & body.fields(out),
        }
    }

    /// For a field path that crosses only documents, the value it reaches borrowed from the
    /// current document (`Some(None)` when missing): hot loops (`$group` keys, `$sum:
    /// "$price"`) then read values without copying them. `None` means "evaluate instead".
    /// For `"$name"` (a top-level field of the document): the name.
    pub fn top_field(&self) -> Option<&str> {
        match self {
            Expr::Field(path, _) => match path.as_slice() {
                [name] => Some(name.as_str()),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn field_ref<'d>(&self, root: &'d Document) -> Option<Option<&'d Value>> {
        let Expr::Field(path, hint) = self else {
            return None;
        };
        let (first, rest) = path.split_first()?;
        let mut cur = match field_hinted(root, first, hint) {
            Some(v) => v,
            None => return Some(None),
        };
        for part in rest {
            cur = match cur {
                Value::Document(d) => match field(d, part) {
                    Some(v) => v,
                    None => return Some(None),
                },
                Value::Array(_) => return None,
                _ => return Some(None),
            };
        }
        Some(Some(cur))
    }

    pub fn eval(&self, env: &mut Env<'_>) -> Result<Value, AggError> {
        match self {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Field(path, _) => Ok(doc_path(env.root, path)),
            Expr::Var(name, path) => {
                if name == "REMOVE" {
                    return Ok(Value::Undefined);
                }
                Ok(value_path(&env.var(name), path))
            }
            Expr::Now => Ok(Value::Date(env.now_ms)),
            Expr::Object(fields) => {
                let mut d = Document::with_capacity_and_hasher(fields.len(), Default::default());
                for (k, e) in fields {
                    let v = e.eval(env)?;
                    if !matches!(v, Value::Undefined) {
                        d.insert(k.clone(), v);
                    }
                }
                Ok(Value::Document(d))
            }
            Expr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for e in items {
                    // A missing value inside an array literal becomes null.
                    match e.eval(env)? {
                        Value::Undefined => out.push(Value::Null),
                        v => out.push(v),
                    }
                }
                Ok(Value::Array(out))
            }
            Expr::Call(def, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(a.eval(env)?);
                }
                (def.f)(vals, env)
            }
            Expr::Cond(parts) => {
                if truthy(&parts.0.eval(env)?) {
                    parts.1.eval(env)
                } else {
                    parts.2.eval(env)
                }
            }
            Expr::And(args) => {
                for a in args {
                    if !truthy(&a.eval(env)?) {
                        return Ok(Value::Bool(false));
                    }
                }
                Ok(Value::Bool(true))
            }
            Expr::Or(args) => {
                for a in args {
                    if truthy(&a.eval(env)?) {
                        return Ok(Value::Bool(true));
                    }
                }
                Ok(Value::Bool(false))
            }
            Expr::IfNull(args) => {
                let (last, rest) = match args.split_last() {
                    Some(p) => p,
                    None => return Ok(Value::Null),
                };
                for a in rest {
                    let v = a.eval(env)?;
                    if !is_nullish(&v) {
                        return Ok(v);
                    }
                }
                last.eval(env)
            }
            Expr::Switch { branches, default } => {
                for (case, then) in branches {
                    if truthy(&case.eval(env)?) {
                        return then.eval(env);
                    }
                }
                match default {
                    Some(d) => d.eval(env),
                    None => Err(agg_err!(
                        40066,
                        "$switch could not find a matching branch for an input, and no default was specified."
                    )),
                }
            }
            Expr::Let { vars, body } => {
                let mut values = Vec::with_capacity(vars.len());
                for (k, e) in vars {
                    values.push((k.clone(), e.eval(env)?));
                }
                let before = env.locals.len();
                env.locals.extend(values);
                let r = body.eval(env);
                env.locals.truncate(before);
                r
            }
            Expr::Map { input, name, body } => {
                let items = match input.eval(env)? {
                    Value::Array(items) => items,
                    v if is_nullish(&v) => return Ok(Value::Null),
                    v => {
                        return Err(agg_err!(
                            16883,
                            "input to $map must be an array not {}",
                            type_name(&v)
                        ))
                    }
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    env.locals.push((name.clone(), item));
                    let r = body.eval(env);
                    env.locals.pop();
                    out.push(match r? {
                        Value::Undefined => Value::Null,
                        v => v,
                    });
                }
                Ok(Value::Array(out))
            }
            Expr::Filter {
                input,
                name,
                cond,
                limit,
            } => {
                let items = match input.eval(env)? {
                    Value::Array(items) => items,
                    v if is_nullish(&v) => return Ok(Value::Null),
                    v => {
                        return Err(agg_err!(
                            28651,
                            "input to $filter must be an array not {}",
                            type_name(&v)
                        ))
                    }
                };
                let limit = match limit {
                    None => usize::MAX,
                    Some(l) => match l.eval(env)? {
                        v if is_nullish(&v) => usize::MAX,
                        v => match ops::as_i64(&v) {
                            Some(n) if n >= 1 => n as usize,
                            _ => {
                                return Err(agg_err!(
                                    327391,
                                    "$filter: limit must be greater than 0: {}",
                                    server_text(&v)
                                ))
                            }
                        },
                    },
                };
                let mut out = Vec::new();
                for item in items {
                    if out.len() >= limit {
                        break;
                    }
                    env.locals.push((name.clone(), item));
                    let keep = cond.eval(env);
                    let item = env.locals.pop().map(|(_, v)| v).unwrap_or(Value::Null);
                    if truthy(&keep?) {
                        out.push(item);
                    }
                }
                Ok(Value::Array(out))
            }
            Expr::Reduce {
                input,
                initial,
                body,
            } => {
                let items = match input.eval(env)? {
                    Value::Array(items) => items,
                    v if is_nullish(&v) => return Ok(Value::Null),
                    v => {
                        return Err(agg_err!(
                            40080,
                            "$reduce requires that 'input' be an array, found: {}",
                            server_text(&v)
                        ))
                    }
                };
                let mut acc = initial.eval(env)?;
                for item in items {
                    env.locals.push(("value".into(), acc));
                    env.locals.push(("this".into(), item));
                    let r = body.eval(env);
                    env.locals.pop();
                    env.locals.pop();
                    acc = r?;
                }
                Ok(acc)
            }
        }
    }
}

/// Compares two values as `$sort` and the comparison operators do.
pub fn cmp(a: &Value, b: &Value) -> Ordering {
    compare(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Document {
        match crate::mongo::agg::tests_support::parse(json) {
            Value::Document(d) => d,
            _ => Document::default(),
        }
    }

    fn eval(expr: &str, input: &str) -> Result<Value, AggError> {
        let e = Compiler::default().compile(&crate::mongo::agg::tests_support::parse(expr))?;
        let root = doc(input);
        let mut env = Env::new(&root, &[], 0);
        e.eval(&mut env)
    }

    #[test]
    fn paths_variables_and_control_flow() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r#""$a.b""#,
                r#"{"a": [{"b": 1}, {"c": 2}, {"b": 3}]}"#,
                "[1,3]",
            ),
            (r#""$$ROOT.a""#, r#"{"a": 5}"#, "5"),
            (
                r#"{"$cond": [{"$gt": ["$a", 1]}, "big", "small"]}"#,
                r#"{"a": 5}"#,
                r#""big""#,
            ),
            (r#"{"$ifNull": ["$x", "d"]}"#, r#"{"a": 5}"#, r#""d""#),
            (
                r#"{"$let": {"vars": {"t": {"$add": ["$a", 1]}}, "in": {"$multiply": ["$$t", 2]}}}"#,
                r#"{"a": 5}"#,
                "12",
            ),
            (
                r#"{"$map": {"input": "$a", "as": "x", "in": {"$add": ["$$x", 1]}}}"#,
                r#"{"a": [1, 2]}"#,
                "[2,3]",
            ),
            (
                r#"{"$filter": {"input": "$a", "cond": {"$gt": ["$$this", 1]}}}"#,
                r#"{"a": [1, 2, 3]}"#,
                "[2,3]",
            ),
            (
                r#"{"$reduce": {"input": "$a", "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}}"#,
                r#"{"a": [1, 2, 3]}"#,
                "6",
            ),
        ];
        for (expr, input, want) in cases {
            let got = eval(expr, input).unwrap_or(Value::String("error".into()));
            assert_eq!(got, crate::mongo::agg::tests_support::parse(want), "{expr}");
        }
    }

    #[test]
    fn compile_errors_are_worded_like_the_server() {
        let cases: &[(&str, &str)] = &[
            (r#"{"$foo": 1}"#, "Unrecognized expression '$foo'"),
            (r#""$$nope""#, "Use of undefined variable: nope"),
            (r#""$""#, "'$' by itself is not a valid FieldPath"),
            (
                r#"{"$subtract": [1]}"#,
                "Expression $subtract takes exactly 2 arguments. 1 were passed in.",
            ),
            (
                r#"{"$rand": 1}"#,
                "Expression $rand takes exactly 0 arguments. 1 were passed in.",
            ),
            // The documented form reaches the operator itself.
            (
                r#"{"$rand": {}}"#,
                "$rand is not available in this sandbox (results must be reproducible); use $sample",
            ),
            (
                r#"{"$rand": []}"#,
                "$rand is not available in this sandbox (results must be reproducible); use $sample",
            ),
        ];
        for (expr, want) in cases {
            let got = eval(expr, "{}").err().map(|e| e.message);
            assert_eq!(got.as_deref(), Some(*want), "{expr}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut v = Value::Int32(1);
        for _ in 0..400 {
            let mut d = Document::default();
            d.insert("$abs".into(), v);
            v = Value::Document(d);
        }
        assert!(Compiler::default().compile(&v).is_err());
    }
}
