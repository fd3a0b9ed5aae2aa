//! Deterministic random-structure fuzzing of the query, update, projection, pipeline and
//! expression compilers. Documents are built from the engines' own operator tables, paths
//! and values of every BSON type (wrong types and odd nestings included), printed as mongosh
//! source, and run against random collections through the shell. No input may panic; where
//! it is cheap, results must also agree with each other:
//! - a filter and `{$nor: [filter]}` split the collection between them;
//! - after `updateMany(filter, {$set: {z: v}})`, at least the matched documents have `z: v`;
//! - `find(filter).count()` equals `aggregate([{$match: filter}, {$count: "n"}])`.
//!
//! `FUZZ_DEBUG=1 cargo test --test mongo_engine_fuzz -- --nocapture` prints every input and
//! its output, to see what the generator reaches; `FUZZ_SCALE=20` runs twenty times as many
//! cases (the cases go on from where the default run stops).
#![cfg(not(target_arch = "wasm32"))]

use std::panic::{catch_unwind, AssertUnwindSafe};

use nosql_playground::mongo::agg::accum::ACCUMULATORS;
use nosql_playground::mongo::agg::ops::{Arity, OPERATORS};
use nosql_playground::mongo::agg::stages::STAGES;
use nosql_playground::mongo::format::{inspect, Options};
use nosql_playground::mongo::query::update::OPERATORS as UPDATE_OPS;
use nosql_playground::mongo::value::{Decimal128, Document, ObjectId, Value};
use nosql_playground::mongo::Shell;

mod common;
use common::Rng;

const NOW: u64 = 1_704_067_200_000;

/// Enough for every statement here; a runaway `$function`-free input never gets near it.
const STEP_LIMIT: u64 = 50_000;

/// Prints a value as mongosh source: inspect's output is valid JavaScript when nothing is
/// cut short, so depth and lengths are unlimited.
const SOURCE: Options = Options {
    depth: usize::MAX,
    max_array_length: usize::MAX,
    max_string_length: usize::MAX,
};

fn src(v: &Value) -> String {
    inspect(v, SOURCE)
}

fn doc(pairs: Vec<(String, Value)>) -> Value {
    Value::Document(pairs.into_iter().collect())
}

fn one(k: &str, v: Value) -> Value {
    doc(vec![(k.to_string(), v)])
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

const FIELD_OPS: &[&str] = &[
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$type",
    "$regex",
    "$options",
    "$not",
    "$mod",
    "$size",
    "$all",
    "$elemMatch",
    "$bitsAllSet",
    "$bitsAnySet",
    "$bitsAllClear",
    "$bitsAnyClear",
    "$comment",
    "$near",
    "$nearSphere",
    "$geoWithin",
    "$geoIntersects",
    "$unknownOp",
];

const TOP_OPS: &[&str] = &[
    "$and",
    "$or",
    "$nor",
    "$expr",
    "$jsonSchema",
    "$comment",
    "$alwaysTrue",
    "$alwaysFalse",
    "$text",
    "$where",
];

const WINDOW_OPS: &[&str] = &[
    "$sum",
    "$avg",
    "$min",
    "$max",
    "$push",
    "$first",
    "$last",
    "$rank",
    "$denseRank",
    "$documentNumber",
    "$shift",
    "$derivative",
    "$integral",
    "$expMovingAvg",
    "$covariancePop",
    "$locf",
    "$linearFill",
    "$count",
    "$stdDevPop",
];

const PATHS: &[&str] = &[
    "a", "a", "b", "b", "c", "a.b", "a.c", "arr", "arr", "arr.x", "arr.0", "arr.1.x", "d.e.f",
    "_id", "n", "s", "t", "z",
];

const BAD_PATHS: &[&str] = &[
    "", "$a", "a..b", "a.", ".a", "a.$", "arr.$[]", "arr.$[e]", "a.$bad",
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "abc",
    "B",
    "x",
    "$a",
    "$arr",
    "$$ROOT",
    "$$CURRENT",
    "$$NOW",
    "$$REMOVE",
    "2024-01-01",
    "1.5",
    "^a",
    "i",
    "day",
    "month",
    "week",
    "year",
    "hour",
    "number",
    "string",
    "decimal",
    "c",
    "count",
    "n",
    "$nonexistent",
    "$$undefinedVar",
    "é",
];

struct Gen {
    rng: Rng,
}

impl Gen {
    fn path(&mut self) -> String {
        if self.rng.one_in(15) {
            self.rng.pick(BAD_PATHS).to_string()
        } else {
            self.rng.pick(PATHS).to_string()
        }
    }

    fn number(&mut self) -> Value {
        match self.rng.below(14) {
            0..=4 => Value::Int32(self.rng.below(12) as i32 - 3),
            5 => Value::Int32([i32::MAX, i32::MIN, 1000][self.rng.below(3)]),
            6 => Value::Int64([0, 7, i64::MAX, i64::MIN, -1][self.rng.below(5)]),
            7 => Value::Double(
                [0.5, -2.25, 1e300, f64::NAN, f64::INFINITY, -0.0, 3.0][self.rng.below(7)],
            ),
            8 => Value::Double(self.rng.below(100) as f64 / 8.0),
            9 => {
                let text = [
                    "0.1",
                    "1.50",
                    "-3",
                    "1E+6000",
                    "NaN",
                    "-Infinity",
                    "0E-10",
                    "12345678901234567890123456789012.34",
                ][self.rng.below(8)];
                Value::Decimal128(Decimal128::parse(text).unwrap_or(Decimal128::ZERO))
            }
            _ => Value::Int32(self.rng.below(5) as i32),
        }
    }

    fn scalar(&mut self) -> Value {
        match self.rng.below(20) {
            0..=6 => self.number(),
            7..=10 => s(self.rng.pick(STRINGS)),
            11 => Value::Bool(self.rng.one_in(2)),
            12 => Value::Null,
            13 => Value::Date(1_700_000_000_000 + self.rng.below(1_000_000_000) as i64 * 1000),
            14 => Value::ObjectId(ObjectId([self.rng.below(3) as u8; 12])),
            15 => Value::Regex {
                pattern: ["a", "^b", "x|y", "(", ".*"][self.rng.below(5)].into(),
                options: ["", "i", "m", "q"][self.rng.below(4)].into(),
            },
            16 => [Value::MinKey, Value::MaxKey][self.rng.below(2)].clone(),
            17 => Value::Timestamp {
                t: self.rng.below(3) as u32,
                i: self.rng.below(3) as u32,
            },
            18 => Value::Binary {
                subtype: [0, 4, 5][self.rng.below(3)],
                bytes: vec![self.rng.below(256) as u8; [3, 16][self.rng.below(2)]],
            },
            _ => self.number(),
        }
    }

    /// Any value, nested `depth` levels at most.
    fn value(&mut self, depth: usize) -> Value {
        if depth == 0 {
            return self.scalar();
        }
        match self.rng.below(8) {
            0 => Value::Array(
                (0..self.rng.below(4))
                    .map(|_| self.value(depth - 1))
                    .collect(),
            ),
            1 => {
                let n = self.rng.below(3);
                doc((0..n)
                    .map(|_| {
                        let k = ["x", "y", "a", "b", "$gt", "$in", "$literal"][self.rng.below(7)];
                        (k.to_string(), self.value(depth - 1))
                    })
                    .collect())
            }
            _ => self.scalar(),
        }
    }

    /// A document for a random collection: the fields the paths above name, sometimes
    /// missing, arrays and subdocuments included.
    fn stored_doc(&mut self, id: i32) -> Document {
        let mut d = Document::default();
        d.insert("_id".into(), Value::Int32(id));
        for field in ["a", "b", "c", "arr", "d", "n", "s", "t"] {
            if self.rng.one_in(4) {
                continue;
            }
            let v = match field {
                "arr" => Value::Array(
                    (0..self.rng.below(4))
                        .map(|_| {
                            if self.rng.one_in(2) {
                                one("x", self.scalar())
                            } else {
                                self.scalar()
                            }
                        })
                        .collect(),
                ),
                "d" => one("e", one("f", self.scalar())),
                "n" => self.number(),
                "t" => Value::Date(NOW as i64 + self.rng.below(400) as i64 * 86_400_000 / 3),
                _ => self.value(2),
            };
            d.insert(field.into(), v);
        }
        d
    }

    fn field_condition(&mut self, depth: usize) -> Value {
        if self.rng.one_in(3) {
            return self.value(1);
        }
        let n = 1 + self.rng.below(2);
        let mut pairs = Vec::new();
        for _ in 0..n {
            let op = self.rng.pick(FIELD_OPS);
            let operand = match op {
                "$in" | "$nin" | "$all" if !self.rng.one_in(5) => {
                    Value::Array((0..self.rng.below(4)).map(|_| self.value(1)).collect())
                }
                "$not" | "$elemMatch" if depth > 0 && !self.rng.one_in(4) => {
                    if op == "$elemMatch" && self.rng.one_in(2) {
                        Value::Document(self.filter(depth - 1))
                    } else {
                        self.field_condition(depth - 1)
                    }
                }
                "$mod" => Value::Array((0..self.rng.below(4)).map(|_| self.number()).collect()),
                "$type" => {
                    if self.rng.one_in(2) {
                        s([
                            "number",
                            "decimal",
                            "string",
                            "array",
                            "minKey",
                            "nope",
                            "timestamp",
                            "binData",
                        ][self.rng.below(8)])
                    } else {
                        self.number()
                    }
                }
                _ => self.value(1),
            };
            pairs.push((op.to_string(), operand));
        }
        doc(pairs)
    }

    fn filter(&mut self, depth: usize) -> Document {
        let mut d = Document::default();
        for _ in 0..self.rng.below(3) + usize::from(depth == 0) {
            if depth > 0 && self.rng.one_in(3) {
                let op = self.rng.pick(TOP_OPS);
                let operand = match op {
                    "$and" | "$or" | "$nor" if !self.rng.one_in(6) => Value::Array(
                        (0..self.rng.below(3) + usize::from(!self.rng.one_in(5)))
                            .map(|_| Value::Document(self.filter(depth - 1)))
                            .collect(),
                    ),
                    "$expr" => self.expr(depth),
                    "$jsonSchema" => self.schema(depth),
                    _ => self.value(1),
                };
                d.insert(op.into(), operand);
            } else {
                let path = self.path();
                let cond = self.field_condition(depth);
                d.insert(path, cond);
            }
        }
        d
    }

    fn schema(&mut self, depth: usize) -> Value {
        let keys = [
            "bsonType",
            "type",
            "required",
            "properties",
            "minimum",
            "maximum",
            "enum",
            "items",
            "minItems",
            "pattern",
            "additionalProperties",
            "minLength",
        ];
        let mut pairs = Vec::new();
        for _ in 0..self.rng.below(3) {
            let k = keys[self.rng.below(keys.len())];
            let v = match k {
                "bsonType" | "type" => s([
                    "object", "string", "int", "number", "decimal", "array", "bogus",
                ][self.rng.below(7)]),
                "required" => Value::Array(vec![s(self.rng.pick(PATHS))]),
                "properties" if depth > 0 => one(self.rng.pick(PATHS), self.schema(depth - 1)),
                "items" if depth > 0 => self.schema(depth - 1),
                _ => self.value(1),
            };
            pairs.push((k.to_string(), v));
        }
        doc(pairs)
    }

    fn expr(&mut self, depth: usize) -> Value {
        if depth == 0 || self.rng.one_in(4) {
            return match self.rng.below(4) {
                0 => s(&format!("${}", self.rng.pick(PATHS))),
                1 => s([
                    "$$ROOT",
                    "$$NOW",
                    "$$CURRENT",
                    "$$REMOVE",
                    "$$x",
                    "$$this",
                    "$$value",
                ][self.rng.below(7)]),
                _ => self.scalar(),
            };
        }
        let def = &OPERATORS[self.rng.below(OPERATORS.len())];
        let op = def.name;
        if self.rng.one_in(2) {
            return one(op, self.arguments(def.arity, depth - 1));
        }
        let args = match self.rng.below(6) {
            0 => self.expr(depth - 1),
            1 => {
                // Named arguments, as the object-form operators take them.
                let names = [
                    "input",
                    "as",
                    "in",
                    "cond",
                    "then",
                    "else",
                    "vars",
                    "initialValue",
                    "find",
                    "replacement",
                    "startDate",
                    "unit",
                    "amount",
                    "date",
                    "format",
                    "timezone",
                    "to",
                    "onError",
                    "onNull",
                    "n",
                    "sortBy",
                    "field",
                    "branches",
                    "default",
                    "regex",
                    "options",
                    "chars",
                    "values",
                    "inputs",
                    "defaults",
                    "useLongestLength",
                    "if",
                    "case",
                    "value",
                    "startAt",
                    "step",
                ];
                let n = 1 + self.rng.below(3);
                doc((0..n)
                    .map(|_| {
                        let k = names[self.rng.below(names.len())].to_string();
                        let v = if k == "vars" {
                            one("x", self.expr(depth - 1))
                        } else if k == "branches" {
                            Value::Array(vec![doc(vec![
                                ("case".into(), self.expr(depth - 1)),
                                ("then".into(), self.expr(depth - 1)),
                            ])])
                        } else {
                            self.expr(depth - 1)
                        };
                        (k, v)
                    })
                    .collect())
            }
            _ => Value::Array(
                (0..self.rng.below(4))
                    .map(|_| self.expr(depth - 1))
                    .collect(),
            ),
        };
        one(op, args)
    }

    /// An operand: mostly a field of the collection (which holds values of every type),
    /// otherwise a literal or a nested expression.
    fn operand(&mut self, depth: usize) -> Value {
        match self.rng.below(6) {
            0..=2 => s(&format!("${}", self.rng.pick(PATHS))),
            3 if depth > 0 => self.expr(depth),
            _ => self.value(1),
        }
    }

    /// Arguments shaped as the operator's arity asks, most of the time, so that calls get
    /// past the argument checks into the operator itself.
    fn arguments(&mut self, arity: Arity, depth: usize) -> Value {
        if self.rng.one_in(6) {
            return self.expr(depth);
        }
        let list = |g: &mut Gen, n: usize| Value::Array((0..n).map(|_| g.operand(depth)).collect());
        match arity {
            Arity::Exact(n) => list(self, n),
            Arity::Range(lo, hi) => {
                let n = lo + self.rng.below(hi - lo + 1);
                list(self, n)
            }
            Arity::AtLeast(n) => {
                let n = n + self.rng.below(3);
                list(self, n)
            }
            Arity::Any => {
                let n = self.rng.below(4);
                list(self, n)
            }
            Arity::Named(names, required) => {
                let mut pairs = Vec::new();
                for n in names {
                    if required.contains(n) || self.rng.one_in(2) {
                        pairs.push((n.to_string(), self.operand(depth)));
                    }
                }
                doc(pairs)
            }
            Arity::DateParts => {
                if self.rng.one_in(2) {
                    self.operand(depth)
                } else {
                    doc(vec![
                        ("date".into(), s("$t")),
                        ("timezone".into(), self.operand(depth)),
                    ])
                }
            }
        }
    }

    fn update(&mut self, depth: usize) -> Value {
        if self.rng.one_in(6) {
            // The pipeline form.
            let stages = [
                "$set",
                "$addFields",
                "$unset",
                "$project",
                "$replaceRoot",
                "$replaceWith",
            ];
            return Value::Array(
                (0..1 + self.rng.below(2))
                    .map(|_| {
                        let st = stages[self.rng.below(stages.len())];
                        let arg = match st {
                            "$unset" => s(&self.path()),
                            "$replaceRoot" => one("newRoot", self.expr(depth)),
                            "$replaceWith" => self.expr(depth),
                            _ => one(&self.path(), self.expr(depth)),
                        };
                        one(st, arg)
                    })
                    .collect(),
            );
        }
        let mut pairs = Vec::new();
        for _ in 0..1 + self.rng.below(2) {
            let op = self.rng.pick(UPDATE_OPS);
            let mut fields = Vec::new();
            for _ in 0..1 + self.rng.below(2) {
                let path = self.path();
                let v = match op {
                    "$push" | "$addToSet" if self.rng.one_in(2) => {
                        let mut m = vec![(
                            "$each".to_string(),
                            Value::Array((0..self.rng.below(3)).map(|_| self.value(1)).collect()),
                        )];
                        if self.rng.one_in(2) {
                            m.push(("$slice".into(), self.number()));
                        }
                        if self.rng.one_in(2) {
                            m.push((
                                "$sort".into(),
                                if self.rng.one_in(2) {
                                    self.number()
                                } else {
                                    one("x", Value::Int32(-1))
                                },
                            ));
                        }
                        if self.rng.one_in(3) {
                            m.push(("$position".into(), self.number()));
                        }
                        doc(m)
                    }
                    "$pull" if self.rng.one_in(2) => self.field_condition(depth),
                    "$rename" => s(&self.path()),
                    "$bit" => one(
                        ["and", "or", "xor", "nand"][self.rng.below(4)],
                        self.number(),
                    ),
                    "$currentDate" => {
                        if self.rng.one_in(2) {
                            Value::Bool(true)
                        } else {
                            one("$type", s(["date", "timestamp", "x"][self.rng.below(3)]))
                        }
                    }
                    _ => self.value(depth.min(2)),
                };
                fields.push((path, v));
            }
            pairs.push((op.to_string(), doc(fields)));
        }
        if self.rng.one_in(10) {
            // A replacement document, or operators mixed with fields.
            pairs.push((self.path(), self.value(1)));
        }
        doc(pairs)
    }

    fn projection(&mut self, depth: usize) -> Value {
        let n = self.rng.below(3) + 1;
        doc((0..n)
            .map(|_| {
                let path = self.path();
                let v = match self.rng.below(8) {
                    0..=2 => Value::Int32(self.rng.below(2) as i32),
                    3 => Value::Bool(self.rng.one_in(2)),
                    4 => one(
                        "$slice",
                        if self.rng.one_in(2) {
                            self.number()
                        } else {
                            Value::Array(vec![self.number(), self.number()])
                        },
                    ),
                    5 => one("$elemMatch", Value::Document(self.filter(depth))),
                    6 => self.expr(depth),
                    _ => self.value(1),
                };
                let path = if self.rng.one_in(8) {
                    format!("{path}.$")
                } else {
                    path
                };
                (path, v)
            })
            .collect())
    }

    fn accumulator(&mut self, depth: usize) -> Value {
        let (name, _) = ACCUMULATORS[self.rng.below(ACCUMULATORS.len())];
        let arg = match self.rng.below(4) {
            0 => doc(vec![
                ("input".into(), self.expr(depth)),
                ("n".into(), self.number()),
                ("sortBy".into(), one("a", Value::Int32(1))),
                ("output".into(), self.expr(depth)),
                ("p".into(), Value::Array(vec![Value::Double(0.5)])),
                ("method".into(), s("approximate")),
            ]),
            _ => self.expr(depth),
        };
        one(name, arg)
    }

    fn stage(&mut self, depth: usize) -> Value {
        let (name, _) = STAGES[self.rng.below(STAGES.len())];
        let arg = match name {
            "$match" => Value::Document(self.filter(depth)),
            "$project" => self.projection(depth),
            "$addFields" | "$set" => one(&self.path(), self.expr(depth)),
            "$group" => doc(vec![
                ("_id".into(), self.expr(depth.min(1))),
                ("f".into(), self.accumulator(depth)),
            ]),
            "$sort" => one(
                &self.path(),
                Value::Int32(if self.rng.one_in(2) { 1 } else { -1 }),
            ),
            "$limit" | "$skip" | "$sample" if !self.rng.one_in(4) => {
                let n = self.number();
                if name == "$sample" {
                    one("size", n)
                } else {
                    n
                }
            }
            "$unwind" => {
                if self.rng.one_in(2) {
                    s(&format!("${}", self.path()))
                } else {
                    doc(vec![
                        ("path".into(), s(&format!("${}", self.path()))),
                        ("includeArrayIndex".into(), s("i")),
                        (
                            "preserveNullAndEmptyArrays".into(),
                            Value::Bool(self.rng.one_in(2)),
                        ),
                    ])
                }
            }
            "$bucket" => doc(vec![
                ("groupBy".into(), self.expr(1)),
                (
                    "boundaries".into(),
                    Value::Array((0..self.rng.below(4)).map(|_| self.number()).collect()),
                ),
                ("default".into(), s("other")),
                ("output".into(), one("c", self.accumulator(1))),
            ]),
            "$bucketAuto" => doc(vec![
                ("groupBy".into(), self.expr(1)),
                ("buckets".into(), self.number()),
            ]),
            "$facet" if depth > 0 => one("x", Value::Array(self.pipeline(depth - 1))),
            "$count" | "$sortByCount" if !self.rng.one_in(4) => {
                if name == "$count" {
                    s(self.rng.pick(STRINGS))
                } else {
                    self.expr(depth)
                }
            }
            "$replaceRoot" => one("newRoot", self.expr(depth)),
            "$replaceWith" | "$redact" => self.expr(depth),
            "$lookup" => {
                let mut pairs = vec![("from".to_string(), s("c")), ("as".into(), s("j"))];
                if self.rng.one_in(2) {
                    pairs.push(("localField".into(), s(&self.path())));
                    pairs.push(("foreignField".into(), s(&self.path())));
                }
                if depth > 0 && self.rng.one_in(2) {
                    pairs.push(("let".into(), one("v", s("$a"))));
                    pairs.push(("pipeline".into(), Value::Array(self.pipeline(depth - 1))));
                }
                doc(pairs)
            }
            "$graphLookup" => doc(vec![
                ("from".into(), s("c")),
                ("startWith".into(), self.expr(1)),
                ("connectFromField".into(), s(&self.path())),
                ("connectToField".into(), s(&self.path())),
                ("as".into(), s("g")),
                ("maxDepth".into(), self.number()),
            ]),
            "$unionWith" if depth > 0 => doc(vec![
                ("coll".into(), s("c")),
                ("pipeline".into(), Value::Array(self.pipeline(depth - 1))),
            ]),
            "$setWindowFields" => {
                let op = self.rng.pick(WINDOW_OPS);
                let bounds = Value::Array(vec![
                    if self.rng.one_in(3) {
                        s(["unbounded", "current"][self.rng.below(2)])
                    } else {
                        self.number()
                    },
                    if self.rng.one_in(3) {
                        s(["unbounded", "current"][self.rng.below(2)])
                    } else {
                        self.number()
                    },
                ]);
                let mut window = vec![(
                    if self.rng.one_in(2) {
                        "documents"
                    } else {
                        "range"
                    }
                    .to_string(),
                    bounds,
                )];
                if self.rng.one_in(2) {
                    window.push((
                        "unit".into(),
                        s([
                            "day", "month", "quarter", "year", "week", "hour", "second", "bogus",
                        ][self.rng.below(8)]),
                    ));
                }
                let mut spec = vec![(
                    op.to_string(),
                    if self.rng.one_in(3) {
                        doc(vec![])
                    } else {
                        self.expr(1)
                    },
                )];
                if self.rng.one_in(2) {
                    spec.push(("window".into(), doc(window)));
                }
                let mut pairs = vec![("output".to_string(), one("w", doc(spec)))];
                if !self.rng.one_in(4) {
                    pairs.push((
                        "sortBy".into(),
                        one(["t", "n", "a"][self.rng.below(3)], Value::Int32(1)),
                    ));
                }
                if self.rng.one_in(2) {
                    pairs.push(("partitionBy".into(), self.expr(1)));
                }
                doc(pairs)
            }
            "$densify" => doc(vec![
                ("field".into(), s(["t", "n", "a"][self.rng.below(3)])),
                (
                    "range".into(),
                    doc(vec![
                        ("step".into(), self.number()),
                        (
                            "bounds".into(),
                            if self.rng.one_in(2) {
                                s("full")
                            } else {
                                Value::Array(vec![self.scalar(), self.scalar()])
                            },
                        ),
                        (
                            "unit".into(),
                            s(["day", "hour", "month"][self.rng.below(3)]),
                        ),
                    ]),
                ),
            ]),
            "$fill" => doc(vec![
                ("sortBy".into(), one("n", Value::Int32(1))),
                (
                    "output".into(),
                    one(
                        "a",
                        one(
                            ["method", "value"][self.rng.below(2)],
                            if self.rng.one_in(2) {
                                s(["linear", "locf"][self.rng.below(2)])
                            } else {
                                self.scalar()
                            },
                        ),
                    ),
                ),
            ]),
            "$documents" => Value::Array((0..self.rng.below(3)).map(|_| self.value(2)).collect()),
            "$out" | "$merge" => s("out"),
            _ => self.value(2),
        };
        one(name, arg)
    }

    fn pipeline(&mut self, depth: usize) -> Vec<Value> {
        (0..1 + self.rng.below(3))
            .map(|_| self.stage(depth))
            .collect()
    }
}

/// Runs one input and returns its Extended JSON output, or the panic it caused.
fn run(shell: &mut Shell, line: &str) -> Result<String, String> {
    catch_unwind(AssertUnwindSafe(|| shell.eval_json(line, NOW))).map_err(|e| {
        let why = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("panic ({why}) on: {line}")
    })
}

fn count(out: &str) -> Option<i64> {
    out.trim().parse().ok()
}

struct Fuzz {
    gen: Gen,
    shell: Shell,
    failures: Vec<String>,
    total: i64,
}

impl Fuzz {
    fn new(seed: u64) -> Fuzz {
        let mut f = Fuzz {
            gen: Gen { rng: Rng(seed) },
            shell: Shell::new(),
            failures: Vec::new(),
            total: 0,
        };
        f.reset();
        f
    }

    /// A fresh shell with a random collection `c` of 5–12 documents.
    fn reset(&mut self) {
        self.shell = Shell::new();
        self.shell.set_step_limit(STEP_LIMIT);
        let n = 5 + self.gen.rng.below(8);
        let docs: Vec<Value> = (0..n)
            .map(|i| Value::Document(self.gen.stored_doc(i as i32)))
            .collect();
        self.total = n as i64;
        let line = format!("db.c.insertMany({})", src(&Value::Array(docs)));
        self.exec(&line);
    }

    fn exec(&mut self, line: &str) -> String {
        match run(&mut self.shell, line) {
            Ok(out) => {
                if std::env::var("FUZZ_DEBUG").is_ok() {
                    eprintln!(
                        "IN {line}\nOUT {}",
                        out.chars().take(300).collect::<String>()
                    );
                }
                out
            }
            Err(e) => {
                self.failures.push(e);
                let shell = Shell::new();
                self.shell = shell;
                String::new()
            }
        }
    }

    /// Runs `body` `n` times, starting from a fresh random collection every `fresh` cases.
    fn cases(&mut self, n: usize, fresh: usize, mut body: impl FnMut(&mut Fuzz)) {
        let scale: usize = std::env::var("FUZZ_SCALE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        for case in 0..n * scale {
            if case % fresh == 0 {
                self.reset();
            }
            body(self);
        }
    }

    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(what());
        }
    }

    fn report(self, name: &str) {
        assert!(
            self.failures.is_empty(),
            "{name}: {} failures, first ones:\n{}",
            self.failures.len(),
            self.failures
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}

#[test]
fn filters_never_panic_and_partition_with_their_nor() {
    let mut f = Fuzz::new(0x5eed_0001);
    f.cases(2500, 50, |f| {
        let depth = f.gen.rng.below(4);
        let filter = Value::Document(f.gen.filter(depth));
        let fs = src(&filter);
        let matched = f.exec(&format!("db.c.countDocuments({fs})"));
        let rest = f.exec(&format!("db.c.countDocuments({{$nor: [{fs}]}})"));
        if let (Some(a), Some(b)) = (count(&matched), count(&rest)) {
            let total = f.total;
            f.check(a + b == total, || format!("{fs}: {a} + {b} != {total}"));
            let agg = f.exec(&format!(
                "db.c.aggregate([{{$match: {fs}}}, {{$count: 'n'}}]).toArray()"
            ));
            let agg_n = if agg.trim() == "[]" {
                Some(0)
            } else {
                agg.trim()
                    .strip_prefix("[{\"n\": ")
                    .and_then(|r| r.strip_suffix("}]"))
                    .and_then(|n| n.parse().ok())
            };
            f.check(agg_n == Some(a), || {
                format!("{fs}: find counts {a}, $match counts {agg}")
            });
        }
    });
    f.report("filters");
}

#[test]
fn updates_never_panic_and_set_what_they_say() {
    let mut f = Fuzz::new(0x5eed_0002);
    f.cases(1500, 20, |f| {
        let depth = f.gen.rng.below(3);
        let filter = src(&Value::Document(f.gen.filter(depth.min(1))));
        let update = src(&f.gen.update(depth));
        let method =
            ["updateMany", "updateOne", "findOneAndUpdate", "replaceOne"][f.gen.rng.below(4)];
        let options = match f.gen.rng.below(4) {
            0 => ", {upsert: true}".to_string(),
            1 => format!(", {{arrayFilters: [{}]}}", src(&one("e", f.gen.value(1)))),
            _ => String::new(),
        };
        f.exec(&format!("db.c.{method}({filter}, {update}{options})"));

        // The $set invariant, with a value that equality matches literally.
        let value = loop {
            let v = f.gen.value(1);
            if !contains_regex_or_operator(&v) {
                break v;
            }
        };
        let vs = src(&value);
        let before = count(&f.exec(&format!("db.c.countDocuments({filter})")));
        let result = f.exec(&format!("db.c.updateMany({filter}, {{$set: {{z: {vs}}}}})"));
        let after = count(&f.exec(&format!("db.c.countDocuments({{z: {{$eq: {vs}}}}})")));
        if let (Some(before), Some(after)) = (before, after) {
            if result.contains("\"matchedCount\"") {
                f.check(after >= before, || {
                    format!("{filter} with z = {vs}: {before} matched, {after} have z")
                });
            }
        }
    });
    f.report("updates");
}

fn contains_regex_or_operator(v: &Value) -> bool {
    match v {
        Value::Regex { .. } => true,
        Value::Array(items) => items.iter().any(contains_regex_or_operator),
        Value::Document(d) => d
            .iter()
            .any(|(k, x)| k.starts_with('$') || contains_regex_or_operator(x)),
        _ => false,
    }
}

#[test]
fn projections_and_cursor_options_never_panic() {
    let mut f = Fuzz::new(0x5eed_0003);
    f.cases(1500, 50, |f| {
        let depth = f.gen.rng.below(3);
        let filter = src(&Value::Document(f.gen.filter(depth.min(1))));
        let projection = src(&f.gen.projection(depth));
        let sort = src(&one(
            &f.gen.path(),
            Value::Int32(if f.gen.rng.one_in(2) { 1 } else { -1 }),
        ));
        let line = match f.gen.rng.below(3) {
            0 => format!("db.c.find({filter}, {projection}).sort({sort}).toArray()"),
            1 => format!("db.c.findOne({filter}, {projection})"),
            _ => format!("db.c.findOneAndUpdate({filter}, {{$inc: {{n: 1}}}}, {{projection: {projection}, returnDocument: 'after'}})"),
        };
        f.exec(&line);
    });
    f.report("projections");
}

#[test]
fn pipelines_and_expressions_never_panic() {
    let mut f = Fuzz::new(0x5eed_0004);
    f.cases(2500, 40, |f| {
        let depth = f.gen.rng.below(4);
        let pipeline = Value::Array(f.gen.pipeline(depth));
        let line = format!("db.c.aggregate({}).toArray()", src(&pipeline));
        f.exec(&line);
    });
    f.report("pipelines");
}

#[test]
fn every_expression_operator_takes_any_arguments() {
    let mut f = Fuzz::new(0x5eed_0005);
    let rounds = OPERATORS.len() * 40;
    let mut ops = OPERATORS.iter().cycle();
    f.cases(rounds, 60, |f| {
        let Some(op) = ops.next() else { return };
        let args = f.gen.arguments(op.arity, 2);
        let e = src(&one(op.name, args));
        f.exec(&format!(
            "db.c.aggregate([{{$project: {{r: {e}}}}}]).toArray()"
        ));
    });
    f.report("expressions");
}

#[test]
fn validators_never_panic_and_admit_only_matching_documents() {
    let mut f = Fuzz::new(0x5eed_0006);
    let mut round = 0;
    f.cases(400, 1, |f| {
        round += 1;
        let name = format!("v{round}");
        let depth = f.gen.rng.below(3);
        let validator = if f.gen.rng.one_in(3) {
            one("$jsonSchema", f.gen.schema(depth))
        } else {
            Value::Document(f.gen.filter(depth))
        };
        let vs = src(&validator);
        let created = f.exec(&format!(
            "db.createCollection('{name}', {{validator: {vs}}})"
        ));
        if !created.contains("\"ok\"") {
            return;
        }
        for id in 0..6 {
            let d = Value::Document(f.gen.stored_doc(id));
            f.exec(&format!("db.{name}.insertOne({})", src(&d)));
        }
        let update = src(&f.gen.update(1));
        f.exec(&format!("db.{name}.updateMany({{}}, {update})"));
        // Everything the collection holds passed the validator.
        let total = count(&f.exec(&format!("db.{name}.countDocuments()")));
        let valid = count(&f.exec(&format!("db.{name}.countDocuments({vs})")));
        if let (Some(total), Some(valid)) = (total, valid) {
            f.check(total == valid, || {
                format!("validator {vs}: {total} documents stored, {valid} pass it")
            });
        }
        let next = src(&Value::Document(f.gen.filter(1)));
        f.exec(&format!(
            "db.runCommand({{collMod: '{name}', validationLevel: 'moderate', validator: {next}}})"
        ));
    });
    f.report("validators");
}

const GEO_TYPES: &[&str] = &[
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
    "Pt",
];

const WORDS: &[&str] = &[
    "coffee",
    "Coffee",
    "shops",
    "shopping",
    "the",
    "and",
    "café",
    "CAFÉS",
    "сы́рники",
    "don't",
    "re-run",
    "running",
    "runs",
    "\"",
    "-",
    "--",
    "-\"",
    "\"coffee shop\"",
    "'",
    "''",
    "ß",
    "İstanbul",
    "x_y",
    "123",
    "généreusement",
    "",
];

impl Gen {
    /// A coordinate, sometimes out of range or not a number.
    fn coordinate(&mut self) -> Value {
        match self.rng.below(10) {
            0 => self.number(),
            1 => s("1"),
            _ => Value::Double(
                (self.rng.below(400) as f64 - 200.0) / [1.0, 2.0, 7.0][self.rng.below(3)],
            ),
        }
    }

    fn position(&mut self) -> Value {
        let n = [2, 2, 2, 2, 1, 3, 0][self.rng.below(7)];
        Value::Array((0..n).map(|_| self.coordinate()).collect())
    }

    /// A ring: usually closed, sometimes short or open.
    fn ring(&mut self) -> Value {
        let n = self.rng.below(6);
        let mut pts: Vec<Value> = (0..n).map(|_| self.position()).collect();
        if !self.rng.one_in(4) {
            if let Some(first) = pts.first().cloned() {
                pts.push(first);
            }
        }
        Value::Array(pts)
    }

    fn geometry(&mut self, depth: usize) -> Value {
        let kind = self.rng.pick(GEO_TYPES);
        let coords = match kind {
            "Point" | "Pt" => self.position(),
            "LineString" | "MultiPoint" => {
                Value::Array((0..self.rng.below(4)).map(|_| self.position()).collect())
            }
            "Polygon" | "MultiLineString" => {
                Value::Array((0..1 + self.rng.below(2)).map(|_| self.ring()).collect())
            }
            _ => Value::Array(
                (0..self.rng.below(3))
                    .map(|_| Value::Array(vec![self.ring()]))
                    .collect(),
            ),
        };
        if kind == "GeometryCollection" {
            let inner = (0..self.rng.below(3))
                .map(|_| {
                    if depth > 0 {
                        self.geometry(depth - 1)
                    } else {
                        self.scalar()
                    }
                })
                .collect();
            return doc(vec![
                ("type".into(), s(kind)),
                ("geometries".into(), Value::Array(inner)),
            ]);
        }
        doc(vec![
            ("type".into(), s(kind)),
            ("coordinates".into(), coords),
        ])
    }

    /// A location: mostly a valid point (so that geo indexes build), sometimes a valid
    /// legacy pair, rarely any geometry or value at all.
    fn location(&mut self) -> Value {
        let x = self.rng.below(361) as f64 - 180.0;
        let y = (self.rng.below(181) as f64 - 90.0) / [1.0, 4.0][self.rng.below(2)];
        match self.rng.below(30) {
            0 => self.position(),
            1 => self.value(2),
            2 | 3 => self.geometry(1),
            4..=9 => Value::Array(vec![Value::Double(x), Value::Double(y)]),
            _ => doc(vec![
                ("type".into(), s("Point")),
                (
                    "coordinates".into(),
                    Value::Array(vec![Value::Double(x), Value::Double(y)]),
                ),
            ]),
        }
    }

    fn sentence(&mut self) -> String {
        (0..self.rng.below(6))
            .map(|_| self.rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join([" ", "", "  ", ","][self.rng.below(4)])
    }

    fn geo_query(&mut self) -> String {
        let g = src(&self.geometry(1));
        let p = src(&self.position());
        let d = src(&self.number());
        match self.rng.below(9) {
            0 => format!("{{loc: {{$near: {{$geometry: {g}, $maxDistance: {d}}}}}}}"),
            1 => format!("{{loc: {{$nearSphere: {p}, $minDistance: {d}}}}}"),
            2 => format!("{{loc: {{$near: {p}}}}}"),
            3 => format!("{{loc: {{$geoWithin: {{$geometry: {g}}}}}}}"),
            4 => format!("{{loc: {{$geoIntersects: {{$geometry: {g}}}}}}}"),
            5 => format!("{{loc: {{$geoWithin: {{$centerSphere: [{p}, {d}]}}}}}}"),
            6 => format!(
                "{{loc: {{$geoWithin: {{$box: [{p}, {}]}}}}}}",
                src(&self.position())
            ),
            7 => format!(
                "{{loc: {{$geoWithin: {{$polygon: [{p}, {p}, {}]}}}}}}",
                src(&self.position())
            ),
            _ => format!("{{loc: {{$geoWithin: {{$center: [{p}, {d}]}}}}}}"),
        }
    }
}

/// Random geometry and text, with and without geo and text indexes: no input may panic,
/// `$geoWithin` / `$geoIntersects` answer the same with and without a 2dsphere index, and a
/// `$text` find counts what the same `$match` counts.
#[test]
fn geo_and_text_never_panic() {
    let mut f = Fuzz::new(0x5eed_0a11);
    let mut built = 0;
    f.cases(600, 20, |f| {
        built += 1;
        if built % 20 == 1 {
            let docs: Vec<Value> = (0..4 + f.gen.rng.below(6))
                .map(|i| {
                    let body = f.gen.sentence();
                    doc(vec![
                        ("_id".into(), Value::Int32(100 + i as i32)),
                        ("loc".into(), f.gen.location()),
                        ("title".into(), s(&f.gen.sentence())),
                        ("body".into(), Value::Array(vec![s(&body), f.gen.scalar()])),
                    ])
                })
                .collect();
            f.exec("db.g.drop()");
            // Indexes first: a document they refuse is left out, and the rest go in.
            let kind = ["2dsphere", "2d", "none"][f.gen.rng.below(3)];
            if kind != "none" {
                f.exec(&format!("db.g.createIndex({{loc: '{kind}'}})"));
            }
            let lang = ["english", "english", "none", "french", "xx"][f.gen.rng.below(5)];
            let weight = if f.gen.rng.one_in(4) {
                src(&f.gen.number())
            } else {
                (1 + f.gen.rng.below(10)).to_string()
            };
            f.exec(&format!(
                "db.g.createIndex({{title: 'text', body: 'text'}}, {{default_language: '{lang}', weights: {{title: {weight}}}}})"
            ));
            for d in docs {
                f.exec(&format!("db.g.insertOne({})", src(&d)));
            }
        }
        let q = f.gen.geo_query();
        f.exec(&format!("db.g.find({q}).toArray()"));
        f.exec(&format!("db.g.find({q}).explain('executionStats')"));
        if !q.contains("$near") {
            let with = f.exec(&format!("db.g.countDocuments({q})"));
            let without = f.exec(&format!("db.g.find({q}).hint({{$natural: 1}}).count()"));
            f.check(with == without, || format!("{q}: {with} vs {without}"));
        }
        let search = src(&s(&f.gen.sentence()));
        let cs = f.gen.rng.one_in(3);
        let ds = f.gen.rng.one_in(3);
        let t = format!("{{$text: {{$search: {search}, $caseSensitive: {cs}, $diacriticSensitive: {ds}}}}}");
        let found = f.exec(&format!("db.g.countDocuments({t})"));
        f.exec(&format!("db.g.find({t}, {{s: {{$meta: 'textScore'}}}}).sort({{s: {{$meta: 'textScore'}}}}).toArray()"));
        let agg = f.exec(&format!("db.g.aggregate([{{$match: {t}}}, {{$count: 'n'}}]).toArray()"));
        if let Some(n) = count(&found) {
            let want = if n == 0 { "[]".to_string() } else { format!("[{{\"n\": {n}}}]") };
            f.check(agg.trim() == want, || format!("{t}: find counts {n}, $match gives {agg}"));
        }
        let near = if f.gen.rng.one_in(3) {
            src(&f.gen.location())
        } else {
            let (x, y) = (f.gen.rng.below(360) as f64 - 180.0, f.gen.rng.below(180) as f64 - 90.0);
            format!("{{type: 'Point', coordinates: [{x}, {y}]}}")
        };
        let spherical = f.gen.rng.one_in(2);
        let plausible = |f: &mut Fuzz, n: Value| {
            if f.gen.rng.one_in(4) {
                src(&n)
            } else {
                (f.gen.rng.below(5_000_000) as f64 / 7.0).to_string()
            }
        };
        let n = f.gen.number();
        let max = plausible(f, n);
        let n = f.gen.number();
        let times = plausible(f, n);
        f.exec(&format!(
            "db.g.aggregate([{{$geoNear: {{near: {near}, distanceField: 'd.x', spherical: {spherical}, maxDistance: {max}, includeLocs: 'l', distanceMultiplier: {times}}}}}]).toArray()"
        ));
    });
    f.report("geo and text");
}
