//! Query filters, compiled once into a tree of predicates and then run against each document.
//!
//! Field operators live in one table (`FIELD_OPERATORS`), one compile function per operator,
//! so adding `$regex`, `$size`, `$elemMatch`, … is a new row and a new function.
//! Top-level operators (`$and`, `$or`, `$nor`) have their own small table.

use std::cmp::Ordering;

use crate::mongo::value::{compare, type_rank, values_equal, Document, Value};

/// A query the server rejects, with MongoDB's code and code name.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    pub code: i32,
    pub code_name: &'static str,
    pub message: String,
}

fn bad_value(message: impl Into<String>) -> QueryError {
    QueryError {
        code: 2,
        code_name: "BadValue",
        message: message.into(),
    }
}

/// A compiled filter.
pub struct Filter {
    root: Node,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Filter")
    }
}

type ValueTest = Box<dyn Fn(&Value) -> bool>;

enum Node {
    /// All must hold (a filter document's fields, and `$and`).
    And(Vec<Node>),
    Or(Vec<Node>),
    Nor(Vec<Node>),
    Field {
        path: Vec<String>,
        test: FieldTest,
    },
}

/// A condition on the values found at one path.
enum FieldTest {
    /// Holds if any value found at the path (an array, or one of its elements) passes;
    /// `missing` says whether an absent field passes too (true for equality with null).
    Any {
        test: ValueTest,
        missing: bool,
    },
    /// `$ne`, `$nin`, `$not`: the negation of the whole positive condition, so that
    /// `{tags: {$ne: "a"}}` rejects an array containing "a".
    Not(Box<FieldTest>),
    Exists(bool),
    All(Vec<FieldTest>),
}

/// A walk along one path of one document: visits each value the path reaches until the
/// visitor says stop, without collecting them (this runs once per field per document).
struct Walk<'f> {
    visit: &'f mut dyn FnMut(&Value) -> bool,
    /// Some branch of the path ended at an absent field.
    missing: bool,
    /// Some value was reached.
    found: bool,
    /// The visitor accepted a value; nothing more needs visiting.
    stop: bool,
}

impl Walk<'_> {
    fn offer(&mut self, v: &Value) {
        self.found = true;
        if (self.visit)(v) {
            self.stop = true;
        }
    }
}

impl Filter {
    /// Compiles a filter document (`{}` matches everything).
    pub fn compile(filter: &Document) -> Result<Filter, QueryError> {
        Ok(Filter {
            root: compile_document(filter)?,
        })
    }

    pub fn matches(&self, doc: &Document) -> bool {
        eval(&self.root, doc)
    }
}

fn eval(node: &Node, doc: &Document) -> bool {
    match node {
        Node::And(nodes) => nodes.iter().all(|n| eval(n, doc)),
        Node::Or(nodes) => nodes.iter().any(|n| eval(n, doc)),
        Node::Nor(nodes) => !nodes.iter().any(|n| eval(n, doc)),
        Node::Field { path, test } => run_test(test, doc, path),
    }
}

fn run_test(test: &FieldTest, doc: &Document, path: &[String]) -> bool {
    match test {
        FieldTest::Any { test, missing } => {
            let mut visit = |v: &Value| test(v);
            let mut walk = Walk {
                visit: &mut visit,
                missing: false,
                found: false,
                stop: false,
            };
            walk_doc(doc, path, &mut walk);
            walk.stop || (*missing && (walk.missing || !walk.found))
        }
        FieldTest::Not(inner) => !run_test(inner, doc, path),
        FieldTest::Exists(want) => {
            let mut visit = |_: &Value| true;
            let mut walk = Walk {
                visit: &mut visit,
                missing: false,
                found: false,
                stop: false,
            };
            walk_doc(doc, path, &mut walk);
            walk.found == *want
        }
        FieldTest::All(tests) => tests.iter().all(|t| run_test(t, doc, path)),
    }
}

/// Visits the values a dotted path reaches. Arrays met along the way are traversed
/// (`"comments.author"` looks inside every comment) and a numeric component also indexes
/// into an array (`"tags.0"`); the value at the end of the path counts as a whole and,
/// if it is an array, each of its elements counts too.
fn walk_doc(doc: &Document, path: &[String], walk: &mut Walk) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match doc.get(first) {
        Some(v) => walk_value(v, rest, walk),
        None => walk.missing = true,
    }
}

fn walk_value(v: &Value, rest: &[String], walk: &mut Walk) {
    if walk.stop {
        return;
    }
    let Some((first, tail)) = rest.split_first() else {
        walk.offer(v);
        if let Value::Array(items) = v {
            for item in items {
                if walk.stop {
                    return;
                }
                walk.offer(item);
            }
        }
        return;
    };
    match v {
        Value::Document(d) => walk_doc(d, rest, walk),
        Value::Array(items) => {
            if let Some(i) = array_index(first) {
                match items.get(i) {
                    Some(item) => walk_value(item, tail, walk),
                    None => walk.missing = true,
                }
            }
            for item in items {
                if walk.stop {
                    return;
                }
                if let Value::Document(d) = item {
                    walk_doc(d, rest, walk);
                }
            }
        }
        _ => walk.missing = true,
    }
}

fn array_index(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

type TopCompile = fn(&Value) -> Result<Node, QueryError>;

const TOP_OPERATORS: &[(&str, TopCompile)] =
    &[("$and", top_and), ("$or", top_or), ("$nor", top_nor)];

fn compile_document(filter: &Document) -> Result<Node, QueryError> {
    let mut nodes = Vec::with_capacity(filter.len());
    for (key, value) in filter {
        if let Some(op) = key.strip_prefix('$') {
            let Some((_, compile)) = TOP_OPERATORS.iter().find(|(name, _)| *name == key) else {
                return Err(bad_value(format!("unknown top level operator: ${op}")));
            };
            nodes.push(compile(value)?);
        } else {
            nodes.push(Node::Field {
                path: key.split('.').map(str::to_string).collect(),
                test: compile_field_condition(value)?,
            });
        }
    }
    Ok(Node::And(nodes))
}

fn clause_list(op: &str, value: &Value) -> Result<Vec<Node>, QueryError> {
    let Value::Array(items) = value else {
        return Err(bad_value(format!("{op} must be an array")));
    };
    if items.is_empty() {
        return Err(bad_value("$and/$or/$nor must be a nonempty array"));
    }
    items
        .iter()
        .map(|item| match item {
            Value::Document(d) => compile_document(d),
            _ => Err(bad_value("$or/$and/$nor entries need to be full objects")),
        })
        .collect()
}

fn top_and(v: &Value) -> Result<Node, QueryError> {
    Ok(Node::And(clause_list("$and", v)?))
}

fn top_or(v: &Value) -> Result<Node, QueryError> {
    Ok(Node::Or(clause_list("$or", v)?))
}

fn top_nor(v: &Value) -> Result<Node, QueryError> {
    Ok(Node::Nor(clause_list("$nor", v)?))
}

/// A field's condition: an operator document (`{$gt: 1, $lt: 5}`) when its first key starts
/// with `$`, as the server decides, and otherwise a value to equal.
fn compile_field_condition(value: &Value) -> Result<FieldTest, QueryError> {
    if let Value::Document(ops) = value {
        if ops.keys().next().is_some_and(|k| k.starts_with('$')) {
            let mut tests = Vec::with_capacity(ops.len());
            for (op, operand) in ops {
                let Some((_, compile)) = FIELD_OPERATORS.iter().find(|(name, _)| name == op) else {
                    return Err(bad_value(format!("unknown operator: {op}")));
                };
                tests.push(compile(operand)?);
            }
            return Ok(if tests.len() == 1 {
                tests.remove(0)
            } else {
                FieldTest::All(tests)
            });
        }
    }
    op_eq(value)
}

type FieldCompile = fn(&Value) -> Result<FieldTest, QueryError>;

/// Every field operator, one compile function each.
const FIELD_OPERATORS: &[(&str, FieldCompile)] = &[
    ("$eq", op_eq),
    ("$ne", op_ne),
    ("$gt", op_gt),
    ("$gte", op_gte),
    ("$lt", op_lt),
    ("$lte", op_lte),
    ("$in", op_in),
    ("$nin", op_nin),
    ("$exists", op_exists),
];

fn op_eq(operand: &Value) -> Result<FieldTest, QueryError> {
    let want = operand.clone();
    Ok(FieldTest::Any {
        missing: matches!(want, Value::Null),
        test: Box::new(move |v| values_equal(v, &want)),
    })
}

fn op_ne(operand: &Value) -> Result<FieldTest, QueryError> {
    Ok(FieldTest::Not(Box::new(op_eq(operand)?)))
}

/// Range comparisons only compare within one type bracket: `{$gt: 5}` never matches a string.
fn range(operand: &Value, accept: fn(Ordering) -> bool) -> Result<FieldTest, QueryError> {
    let want = operand.clone();
    let inclusive = accept(Ordering::Equal);
    Ok(FieldTest::Any {
        // `{$gte: null}` and `{$lte: null}` match missing fields, like equality with null.
        missing: inclusive && matches!(want, Value::Null),
        test: Box::new(move |v| type_rank(v) == type_rank(&want) && accept(compare(v, &want))),
    })
}

fn op_gt(operand: &Value) -> Result<FieldTest, QueryError> {
    range(operand, |o| o == Ordering::Greater)
}

fn op_gte(operand: &Value) -> Result<FieldTest, QueryError> {
    range(operand, |o| o != Ordering::Less)
}

fn op_lt(operand: &Value) -> Result<FieldTest, QueryError> {
    range(operand, |o| o == Ordering::Less)
}

fn op_lte(operand: &Value) -> Result<FieldTest, QueryError> {
    range(operand, |o| o != Ordering::Greater)
}

fn op_in(operand: &Value) -> Result<FieldTest, QueryError> {
    let Value::Array(items) = operand else {
        return Err(bad_value("$in needs an array"));
    };
    let items = items.clone();
    Ok(FieldTest::Any {
        missing: items.iter().any(|v| matches!(v, Value::Null)),
        test: Box::new(move |v| items.iter().any(|w| values_equal(v, w))),
    })
}

fn op_nin(operand: &Value) -> Result<FieldTest, QueryError> {
    match operand {
        Value::Array(_) => Ok(FieldTest::Not(Box::new(op_in(operand)?))),
        _ => Err(bad_value("$nin needs an array")),
    }
}

fn op_exists(operand: &Value) -> Result<FieldTest, QueryError> {
    let want = match operand {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Int32(i) => *i != 0,
        Value::Int64(i) => *i != 0,
        Value::Double(x) => *x != 0.0,
        _ => true,
    };
    Ok(FieldTest::Exists(want))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(n: i32) -> Value {
        Value::Int32(n)
    }
    fn s(x: &str) -> Value {
        Value::String(x.into())
    }
    fn d(pairs: Vec<(&str, Value)>) -> Document {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
    fn arr(items: Vec<Value>) -> Value {
        Value::Array(items)
    }

    fn check(filter: Document, doc: &Document) -> bool {
        match Filter::compile(&filter) {
            Ok(f) => f.matches(doc),
            Err(e) => panic!("filter did not compile: {e:?}"),
        }
    }

    #[test]
    fn equality_paths_and_arrays() {
        let post = d(vec![
            ("_id", i(1)),
            ("title", s("Redis Caching")),
            ("author", Value::Document(d(vec![("name", s("Alex"))]))),
            ("tags", arr(vec![s("redis"), s("cache")])),
            (
                "comments",
                arr(vec![
                    Value::Document(d(vec![("by", s("Sam")), ("votes", i(3))])),
                    Value::Document(d(vec![("by", s("Kim"))])),
                ]),
            ),
            ("score", Value::Double(4.0)),
        ]);
        let cases: Vec<(Document, bool)> = vec![
            (d(vec![]), true),
            (d(vec![("_id", i(1))]), true),
            (d(vec![("_id", i(2))]), false),
            (d(vec![("_id", Value::Double(1.0))]), true),
            (d(vec![("_id", Value::Int64(1))]), true),
            (d(vec![("title", s("Redis Caching")), ("_id", i(1))]), true),
            (d(vec![("title", s("redis caching"))]), false),
            (d(vec![("author.name", s("Alex"))]), true),
            (d(vec![("author.name", s("Sam"))]), false),
            (
                d(vec![(
                    "author",
                    Value::Document(d(vec![("name", s("Alex"))])),
                )]),
                true,
            ),
            (d(vec![("tags", s("cache"))]), true),
            (d(vec![("tags", s("db"))]), false),
            (d(vec![("tags", arr(vec![s("redis"), s("cache")]))]), true),
            (d(vec![("tags", arr(vec![s("cache"), s("redis")]))]), false),
            (d(vec![("tags.1", s("cache"))]), true),
            (d(vec![("tags.0", s("cache"))]), false),
            (d(vec![("comments.by", s("Kim"))]), true),
            (d(vec![("comments.1.by", s("Kim"))]), true),
            (d(vec![("comments.0.by", s("Kim"))]), false),
            (d(vec![("missing", Value::Null)]), true),
            (d(vec![("title", Value::Null)]), false),
            (d(vec![("comments.votes", Value::Null)]), true),
            (d(vec![("author.name.first", s("Alex"))]), false),
            (d(vec![("score", i(4))]), true),
        ];
        for (filter, want) in cases {
            assert_eq!(check(filter.clone(), &post), want, "{filter:?}");
        }
    }

    #[test]
    fn comparison_and_logical_operators() {
        let doc = d(vec![
            ("n", i(5)),
            ("tags", arr(vec![s("a"), s("b")])),
            ("x", s("7")),
        ]);
        let op = |name: &str, v: Value| Value::Document(d(vec![(name, v)]));
        let cases: Vec<(Document, bool)> = vec![
            (d(vec![("n", op("$gt", i(4)))]), true),
            (d(vec![("n", op("$gt", i(5)))]), false),
            (d(vec![("n", op("$gte", Value::Double(5.0)))]), true),
            (d(vec![("n", op("$lt", Value::Int64(6)))]), true),
            (d(vec![("n", op("$lte", i(4)))]), false),
            (d(vec![("x", op("$gt", i(1)))]), false),
            (d(vec![("n", op("$eq", i(5)))]), true),
            (d(vec![("n", op("$ne", i(5)))]), false),
            (d(vec![("tags", op("$ne", s("a")))]), false),
            (d(vec![("tags", op("$ne", s("z")))]), true),
            (d(vec![("n", op("$in", arr(vec![i(1), i(5)])))]), true),
            (d(vec![("tags", op("$in", arr(vec![s("b")])))]), true),
            (d(vec![("tags", op("$nin", arr(vec![s("b")])))]), false),
            (d(vec![("nope", op("$nin", arr(vec![s("b")])))]), true),
            (d(vec![("n", op("$exists", Value::Bool(true)))]), true),
            (d(vec![("nope", op("$exists", Value::Bool(false)))]), true),
            (d(vec![("nope", op("$exists", Value::Bool(true)))]), false),
            (
                d(vec![(
                    "n",
                    Value::Document(d(vec![("$gt", i(1)), ("$lt", i(5))])),
                )]),
                false,
            ),
            (
                d(vec![(
                    "$or",
                    arr(vec![
                        Value::Document(d(vec![("n", i(1))])),
                        Value::Document(d(vec![("x", s("7"))])),
                    ]),
                )]),
                true,
            ),
            (
                d(vec![(
                    "$and",
                    arr(vec![
                        Value::Document(d(vec![("n", i(5))])),
                        Value::Document(d(vec![("x", s("8"))])),
                    ]),
                )]),
                false,
            ),
            (
                d(vec![(
                    "$nor",
                    arr(vec![Value::Document(d(vec![("n", i(1))]))]),
                )]),
                true,
            ),
        ];
        for (filter, want) in cases {
            assert_eq!(check(filter.clone(), &doc), want, "{filter:?}");
        }
    }

    #[test]
    fn invalid_filters_are_rejected() {
        let cases: Vec<(Document, &str)> = vec![
            (d(vec![("$foo", i(1))]), "unknown top level operator: $foo"),
            (
                d(vec![("a", Value::Document(d(vec![("$bogus", i(1))])))]),
                "unknown operator: $bogus",
            ),
            (
                d(vec![("a", Value::Document(d(vec![("$in", i(1))])))]),
                "$in needs an array",
            ),
            (
                d(vec![("$or", arr(vec![]))]),
                "$and/$or/$nor must be a nonempty array",
            ),
            (
                d(vec![("$or", arr(vec![i(1)]))]),
                "$or/$and/$nor entries need to be full objects",
            ),
        ];
        for (filter, want) in cases {
            match Filter::compile(&filter) {
                Ok(_) => panic!("{filter:?} compiled"),
                Err(e) => assert_eq!(e.message, want),
            }
        }
    }
}
