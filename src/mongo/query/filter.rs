//! Query filters, compiled once into a tree of predicates and then run against each document.
//!
//! Field operators live in one table (`FIELD_OPERATORS`), one compile function per operator;
//! top-level operators (`$and`, `$or`, `$nor`, `$jsonSchema`, …) have their own table.
//! Messages and codes follow the server's `expression_parser.cpp`.
//!
//! Array semantics are MongoDB's: a path walks into every document of an array it meets
//! (`"comments.author"`), a numeric component also indexes the array (`"tags.0"`), and at the
//! end of the path an array counts as a whole and through each of its elements (one level
//! only), except for `$size` and `$elemMatch`, which look at the array itself.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;

use super::regex::Regex;
use super::schema::Schema;
use super::server_repr;
use crate::mongo::agg::expr::{truthy, Compiler, Env, Expr};
use crate::mongo::agg::AggError;
use crate::mongo::columns::{Column, ColumnFilter, ColumnTest, Found, NumCmp};
use crate::mongo::value::{compare, field, field_hinted, type_rank, values_equal, Document, Value};

/// A query the server rejects, with MongoDB's code and code name.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    pub code: i32,
    pub code_name: &'static str,
    pub message: String,
    /// The `errInfo` some write errors carry (a failed validation's details).
    pub info: Option<Box<Document>>,
}

impl QueryError {
    pub fn new(code: i32, code_name: &'static str, message: impl Into<String>) -> Self {
        QueryError {
            code,
            code_name,
            message: message.into(),
            info: None,
        }
    }
}

pub fn bad_value(message: impl Into<String>) -> QueryError {
    QueryError::new(2, "BadValue", message)
}

pub fn failed_to_parse(message: impl Into<String>) -> QueryError {
    QueryError::new(9, "FailedToParse", message)
}

impl From<AggError> for QueryError {
    fn from(e: AggError) -> Self {
        QueryError::new(e.code, e.code_name, e.message)
    }
}

/// A compiled filter.
pub struct Filter {
    root: Node,
    /// The field paths the filter tests (through `$and`/`$or`/`$nor`), for the positional `$`.
    paths: Vec<Vec<String>>,
    /// Sandbox time for `$$NOW` inside `$expr` (the core has no clock of its own). A cell,
    /// so that a filter compiled into a pipeline learns the time when the pipeline runs.
    now_ms: Cell<i64>,
    /// The first `$expr` evaluation error: matching answers a plain bool, so the caller
    /// collects the error afterwards and fails the whole operation as the server does.
    error: RefCell<Option<QueryError>>,
    /// A top-level `$text` operand: the filter itself lets every document through, and the
    /// planner answers it through the collection's text index.
    text: Option<Box<Value>>,
    /// A `$near` / `$nearSphere` at the top level: its path and query, answered (and
    /// ordered) by the planner through a geo index.
    near: Option<Box<NearQuery>>,
    /// The top-level fields the filter tests (each once), whose columns a scan may read.
    top_fields: Vec<String>,
}

/// The field path of a `$near` and its query.
pub type NearQuery = (Vec<String>, crate::mongo::index::geo::Near);

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
        /// Where the path's first field was last found (see `field_hinted`).
        hint: Cell<usize>,
        /// For a top-level field: its place in `Filter::top_fields`, where a scan hands the
        /// field's column.
        slot: usize,
        /// The test as a numeric comparison a column scan makes inline, when it is one.
        num: Option<(NumCmp, f64)>,
    },
    Schema(Box<Schema>),
    Expr(Box<Expr>),
    Const(bool),
}

/// A condition on the values found at one path.
pub(crate) enum FieldTest {
    /// Holds if any value found at the path (an array, or one of its elements) passes;
    /// `missing` says whether an absent field passes too (true for equality with null).
    Any {
        test: ValueTest,
        missing: bool,
    },
    /// Holds if a value found at the path passes, arrays taken whole (`$size`, `$elemMatch`).
    Whole(ValueTest),
    /// `$ne`, `$nin`, `$not`: the negation of the whole positive condition, so that
    /// `{tags: {$ne: "a"}}` rejects an array containing "a".
    Not(Box<FieldTest>),
    Exists(bool),
    All(Vec<FieldTest>),
    Const(bool),
}

impl FieldTest {
    /// The test applied to one value as it stands (an array element under `$elemMatch`, or
    /// under a `$pull` condition): arrays are not opened.
    pub(crate) fn test_value(&self, v: &Value) -> bool {
        match self {
            FieldTest::Any { test, .. } | FieldTest::Whole(test) => test(v),
            FieldTest::Not(inner) => !inner.test_value(v),
            FieldTest::Exists(want) => *want,
            FieldTest::All(tests) => tests.iter().all(|t| t.test_value(v)),
            FieldTest::Const(b) => *b,
        }
    }
}

/// A walk along one path of one document: visits each value the path reaches until the
/// visitor says stop, without collecting them (this runs once per field per document).
struct Walk<'f> {
    visit: &'f mut dyn FnMut(&Value) -> bool,
    /// Offer each element of an array found at the end of the path, too.
    expand: bool,
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
        let (text, near) = special_operators(filter)?;
        let mut root = compile_document(filter, true)?;
        let mut paths = Vec::new();
        collect_paths(&root, &mut paths);
        let mut top_fields = Vec::new();
        assign_slots(&mut root, &mut top_fields);
        Ok(Filter {
            root,
            paths,
            top_fields,
            now_ms: Cell::new(0),
            error: RefCell::new(None),
            text,
            near,
        })
    }

    /// The `$text` operand, when the filter has one.
    pub fn text(&self) -> Option<&Value> {
        self.text.as_deref()
    }

    /// The `$near` / `$nearSphere` of the filter: its field path and query.
    pub fn near(&self) -> Option<&NearQuery> {
        self.near.as_deref()
    }

    /// Whether the filter needs an index to be answered at all (`$text`, `$near`).
    pub fn needs_index(&self) -> bool {
        self.text.is_some() || self.near.is_some()
    }

    /// Whether matching can raise an error (only an `$expr` can): a filter that cannot may
    /// be run interleaved with later work without changing which error an operation reports.
    pub fn can_fail(&self) -> bool {
        has_expr(&self.root)
    }

    /// Sets the sandbox time `$$NOW` reads in `$expr`.
    pub fn at(self, now_ms: i64) -> Self {
        self.now_ms.set(now_ms);
        self
    }

    /// The time `$$NOW` reads.
    pub fn now_ms(&self) -> i64 {
        self.now_ms.get()
    }

    /// Sets the time `$$NOW` reads for the matches that follow.
    pub fn set_now(&self, now_ms: i64) {
        self.now_ms.set(now_ms);
    }

    pub fn matches(&self, doc: &Document) -> bool {
        eval(&self.root, doc, self, None)
    }

    /// The top-level fields the filter tests, whose columns `matches_row` takes.
    pub fn top_fields(&self) -> Vec<&str> {
        self.top_fields.iter().map(String::as_str).collect()
    }

    /// The filter run over columns (in the order of `top_fields`) a range of documents at a
    /// time, when it is a conjunction of top-level field tests and every column is there.
    pub fn column_filter<'c>(&'c self, columns: &[Option<&'c Column>]) -> Option<ColumnFilter<'c>> {
        let mut tests = Vec::new();
        column_tests(&self.root, columns, &mut tests)?;
        Some(ColumnFilter::new(tests))
    }

    /// `matches` for document `row` of a collection scan, reading the filter's top-level
    /// fields from their columns (in the order of `top_fields`) where they hold the value.
    pub fn matches_row(&self, doc: &Document, row: usize, columns: &[Option<&Column>]) -> bool {
        eval(&self.root, doc, self, Some(&Row { row, columns }))
    }

    /// The first error an `$expr` raised while matching, if any (cleared by the call).
    pub fn take_error(&self) -> Option<QueryError> {
        self.error.borrow_mut().take()
    }

    fn eval_expr(&self, e: &Expr, doc: &Document) -> bool {
        if self.error.borrow().is_some() {
            return false;
        }
        match e.eval(&mut Env::new(doc, &[], self.now_ms.get())) {
            Ok(v) => truthy(&v),
            Err(err) => {
                *self.error.borrow_mut() = Some(err.into());
                false
            }
        }
    }

    /// For the positional `$` (in projections and updates): the index, in the first array
    /// met along `path`, of the first element through which this filter matches `doc`.
    pub fn first_matching_index(&self, doc: &Document, path: &[String]) -> Option<usize> {
        // Find the first array along the path.
        let mut depth = 0;
        let mut cur = doc.get(path.first()?)?;
        while !matches!(cur, Value::Array(_)) {
            depth += 1;
            let Value::Document(d) = cur else {
                return None;
            };
            cur = d.get(path.get(depth)?)?;
        }
        let Value::Array(items) = cur else {
            return None;
        };
        // The query must test something inside this array.
        let prefix = &path[..=depth];
        if !self
            .paths
            .iter()
            .any(|p| p.len() >= prefix.len() && p[..prefix.len()] == *prefix)
        {
            return None;
        }
        (0..items.len()).find(|&i| {
            let mut copy = doc.clone();
            replace_at(
                &mut copy,
                &path[..=depth],
                Value::Array(vec![items[i].clone()]),
            );
            self.matches(&copy)
        })
    }
}

/// Sets the value at an existing path of embedded documents.
fn replace_at(doc: &mut Document, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        doc.insert(first.clone(), value);
    } else if let Some(Value::Document(d)) = doc.get_mut(first) {
        replace_at(d, rest, value);
    }
}

fn has_expr(node: &Node) -> bool {
    match node {
        Node::And(nodes) | Node::Or(nodes) | Node::Nor(nodes) => nodes.iter().any(has_expr),
        Node::Expr(_) => true,
        _ => false,
    }
}

fn collect_paths(node: &Node, out: &mut Vec<Vec<String>>) {
    match node {
        Node::And(nodes) | Node::Or(nodes) | Node::Nor(nodes) => {
            for n in nodes {
                collect_paths(n, out);
            }
        }
        Node::Field { path, .. } => out.push(path.clone()),
        _ => {}
    }
}

/// `{age: 42}` or `{age: {$gte: 18}}` (one comparison with a number a double holds
/// exactly), as a column scan tests it inline.
fn numeric_comparison(value: &Value) -> Option<(NumCmp, f64)> {
    let (op, operand) = match value {
        Value::Document(d) if d.len() == 1 => d.first().map(|(k, v)| (k.as_str(), v))?,
        Value::Document(_) => return None,
        v => ("$eq", v),
    };
    let want = match operand {
        Value::Int32(i) => f64::from(*i),
        Value::Int64(i) if i.unsigned_abs() <= 1 << 53 => *i as f64,
        Value::Double(x) if !x.is_nan() => *x,
        _ => return None,
    };
    let cmp = match op {
        "$eq" => NumCmp::Eq,
        "$gt" => NumCmp::Gt,
        "$gte" => NumCmp::Gte,
        "$lt" => NumCmp::Lt,
        "$lte" => NumCmp::Lte,
        _ => return None,
    };
    Some((cmp, want))
}

/// The tests of a conjunction of top-level fields on their columns; None for any other
/// filter, or a field without its column.
fn column_tests<'c>(
    node: &'c Node,
    columns: &[Option<&'c Column>],
    out: &mut Vec<ColumnTest<'c>>,
) -> Option<()> {
    match node {
        Node::And(nodes) => nodes.iter().try_for_each(|n| column_tests(n, columns, out)),
        Node::Field {
            path,
            test,
            slot,
            num,
            ..
        } if path.len() == 1 => {
            let column = (*columns.get(*slot)?)?;
            out.push(ColumnTest::new(
                column,
                Box::new(move |v| run_top_level(test, v)),
                *num,
            ));
            Some(())
        }
        Node::Const(true) => Some(()),
        _ => None,
    }
}

/// Gives each top-level field test (through `$and`/`$or`/`$nor`) the slot of its field.
fn assign_slots(node: &mut Node, names: &mut Vec<String>) {
    match node {
        Node::And(nodes) | Node::Or(nodes) | Node::Nor(nodes) => {
            for n in nodes {
                assign_slots(n, names);
            }
        }
        Node::Field { path, slot, .. } => {
            if let [name] = path.as_slice() {
                *slot = match names.iter().position(|n| n == name) {
                    Some(at) => at,
                    None => {
                        names.push(name.clone());
                        names.len() - 1
                    }
                };
            }
        }
        _ => {}
    }
}

/// The document a scan is at, and the columns of the filter's top-level fields.
struct Row<'r> {
    row: usize,
    columns: &'r [Option<&'r Column>],
}

fn eval(node: &Node, doc: &Document, f: &Filter, at: Option<&Row>) -> bool {
    match node {
        Node::And(nodes) => nodes.iter().all(|n| eval(n, doc, f, at)),
        Node::Or(nodes) => nodes.iter().any(|n| eval(n, doc, f, at)),
        Node::Nor(nodes) => !nodes.iter().any(|n| eval(n, doc, f, at)),
        Node::Field {
            path,
            test,
            hint,
            slot,
            ..
        } => match path.as_slice() {
            [name] => {
                let column = at.and_then(|r| Some((r.row, r.columns.get(*slot)?.as_ref()?)));
                if let Some((row, column)) = column {
                    let mut tmp = Value::Null;
                    match column.get(row, &mut tmp) {
                        Found::Value(v) => return run_top_level(test, Some(v)),
                        Found::Missing => return run_top_level(test, None),
                        Found::Unknown => {}
                    }
                }
                run_top_level(test, field_hinted(doc, name, hint))
            }
            _ => run_test(test, doc, path),
        },
        Node::Schema(schema) => schema.matches_root(doc),
        Node::Expr(e) => f.eval_expr(e, doc),
        Node::Const(b) => *b,
    }
}

fn walk_with(
    doc: &Document,
    path: &[String],
    expand: bool,
    visit: &mut dyn FnMut(&Value) -> bool,
) -> (bool, bool, bool) {
    let mut walk = Walk {
        visit,
        expand,
        missing: false,
        found: false,
        stop: false,
    };
    walk_doc(doc, path, &mut walk);
    (walk.stop, walk.found, walk.missing)
}

fn run_test(test: &FieldTest, doc: &Document, path: &[String]) -> bool {
    if let [name] = path {
        return run_top_level(test, field(doc, name));
    }
    match test {
        FieldTest::Any { test, missing } => {
            let (stop, found, absent) = walk_with(doc, path, true, &mut |v| test(v));
            stop || (*missing && (absent || !found))
        }
        FieldTest::Whole(test) => walk_with(doc, path, false, &mut |v| test(v)).0,
        FieldTest::Not(inner) => !run_test(inner, doc, path),
        FieldTest::Exists(want) => walk_with(doc, path, false, &mut |_| true).1 == *want,
        FieldTest::All(tests) => tests.iter().all(|t| run_test(t, doc, path)),
        FieldTest::Const(b) => *b,
    }
}

/// `run_test` for a path of one component, which most filters test: the field is there or
/// not, so no walk (and no visitor) is needed. Same outcomes as the walk: an array counts
/// whole and through its elements for `Any`, whole only for `Whole`.
fn run_top_level(test: &FieldTest, v: Option<&Value>) -> bool {
    match test {
        FieldTest::Any { test, missing } => match v {
            None => *missing,
            Some(v @ Value::Array(items)) => test(v) || items.iter().any(test),
            Some(v) => test(v),
        },
        FieldTest::Whole(test) => v.is_some_and(test),
        FieldTest::Not(inner) => !run_top_level(inner, v),
        FieldTest::Exists(want) => v.is_some() == *want,
        FieldTest::All(tests) => tests.iter().all(|t| run_top_level(t, v)),
        FieldTest::Const(b) => *b,
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
    match field(doc, first) {
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
        if let (true, Value::Array(items)) = (walk.expand, v) {
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

pub(crate) fn array_index(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

type TopCompile = fn(&Value, bool) -> Result<Node, QueryError>;

/// The names of every filter operator, top-level and per field (for the console's completion).
pub fn operator_names() -> impl Iterator<Item = &'static str> {
    TOP_OPERATORS
        .iter()
        .map(|(name, _)| *name)
        .chain(FIELD_OPERATORS.iter().map(|(name, _)| *name))
}

/// Operators that stand where a field name would (`{$or: […]}`).
const TOP_OPERATORS: &[(&str, TopCompile)] = &[
    ("$and", top_and),
    ("$or", top_or),
    ("$nor", top_nor),
    ("$comment", top_comment),
    ("$jsonSchema", top_json_schema),
    ("$expr", top_expr),
    ("$where", top_where),
    ("$text", top_text),
    ("$alwaysTrue", top_always_true),
    ("$alwaysFalse", top_always_false),
];

fn is_top_operator(name: &str) -> bool {
    TOP_OPERATORS.iter().any(|(n, _)| *n == name)
}

fn compile_document(filter: &Document, top: bool) -> Result<Node, QueryError> {
    let mut nodes = Vec::with_capacity(filter.len());
    for (key, value) in filter {
        if key.starts_with('$') {
            let Some((_, compile)) = TOP_OPERATORS.iter().find(|(name, _)| *name == key) else {
                let hint = if key == "$not" {
                    ". If you are trying to negate an entire expression, use $nor."
                } else {
                    ". If you have a field name that starts with a '$' symbol, consider using $getField or $setField."
                };
                return Err(bad_value(format!(
                    "unknown top level operator: {key}{hint}"
                )));
            };
            nodes.push(compile(value, top)?);
        } else {
            nodes.push(Node::Field {
                path: key.split('.').map(str::to_string).collect(),
                test: compile_field_condition(key, value)?,
                hint: Cell::new(0),
                slot: usize::MAX,
                num: numeric_comparison(value),
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
            Value::Document(d) => compile_document(d, false),
            _ => Err(bad_value("$or/$and/$nor entries need to be full objects")),
        })
        .collect()
}

fn top_and(v: &Value, _: bool) -> Result<Node, QueryError> {
    Ok(Node::And(clause_list("$and", v)?))
}

fn top_or(v: &Value, _: bool) -> Result<Node, QueryError> {
    Ok(Node::Or(clause_list("$or", v)?))
}

fn top_nor(v: &Value, _: bool) -> Result<Node, QueryError> {
    Ok(Node::Nor(clause_list("$nor", v)?))
}

fn top_comment(_: &Value, _: bool) -> Result<Node, QueryError> {
    Ok(Node::Const(true))
}

fn top_json_schema(v: &Value, _: bool) -> Result<Node, QueryError> {
    let Value::Document(d) = v else {
        return Err(QueryError::new(
            14,
            "TypeMismatch",
            "$jsonSchema must be an object",
        ));
    };
    Ok(Node::Schema(Box::new(Schema::compile(d)?)))
}

fn top_expr(v: &Value, _: bool) -> Result<Node, QueryError> {
    Ok(Node::Expr(Box::new(Compiler::default().compile(v)?)))
}

fn top_where(_: &Value, _: bool) -> Result<Node, QueryError> {
    Err(bad_value("$where is not allowed in this context"))
}

fn top_text(_: &Value, top: bool) -> Result<Node, QueryError> {
    if !top {
        return Err(bad_value(
            "$text is only allowed at the top level of a query in this sandbox",
        ));
    }
    // The planner checks the document against the text query itself.
    Ok(Node::Const(true))
}

const NEAR_OPERATORS: [&str; 2] = ["$near", "$nearSphere"];

/// The `$text` and `$near` a filter holds at its top level; an error when one sits deeper
/// (inside `$and`, `$or`, `$nor`, `$not` or `$elemMatch`), where the server refuses it too.
type Special = (Option<Box<Value>>, Option<Box<NearQuery>>);

fn special_operators(filter: &Document) -> Result<Special, QueryError> {
    let mut text = None;
    let mut near = None;
    for (key, value) in filter {
        if key == "$text" {
            text = Some(Box::new(value.clone()));
        } else if matches!(key.as_str(), "$and" | "$or" | "$nor") {
            if let Value::Array(items) = value {
                for item in items {
                    if let Value::Document(d) = item {
                        no_special_inside(d)?;
                    }
                }
            }
        } else if let Value::Document(ops) = value {
            for (op, operand) in ops {
                if NEAR_OPERATORS.contains(&op.as_str()) {
                    if near.is_some() {
                        return Err(bad_value("Too many geoNear expressions"));
                    }
                    let parsed = crate::mongo::index::geo::Near::parse(op, operand, ops)?;
                    near = Some(Box::new((
                        key.split('.').map(str::to_string).collect(),
                        parsed,
                    )));
                } else if matches!(op.as_str(), "$not" | "$elemMatch") {
                    if let Value::Document(inner) = operand {
                        no_special_inside(inner)?;
                    }
                }
            }
        }
    }
    Ok((text, near))
}

fn no_special_inside(d: &Document) -> Result<(), QueryError> {
    for (key, value) in d {
        if key == "$text" {
            return Err(bad_value(
                "$text is only allowed at the top level of a query in this sandbox",
            ));
        }
        if NEAR_OPERATORS.contains(&key.as_str()) {
            return Err(bad_value("geoNear must be top-level expr"));
        }
        match value {
            Value::Document(inner) => no_special_inside(inner)?,
            Value::Array(items) => {
                for item in items {
                    if let Value::Document(inner) = item {
                        no_special_inside(inner)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn always(v: &Value, name: &str, result: bool) -> Result<Node, QueryError> {
    let n = integer_arg(name, v)?;
    if n != 1 {
        return Err(failed_to_parse(format!(
            "{name} must be an integer value of 1"
        )));
    }
    Ok(Node::Const(result))
}

fn top_always_true(v: &Value, _: bool) -> Result<Node, QueryError> {
    always(v, "$alwaysTrue", true)
}

fn top_always_false(v: &Value, _: bool) -> Result<Node, QueryError> {
    always(v, "$alwaysFalse", false)
}

/// Whether a value is an operator document (`{$gt: 1}`): its first key starts with `$`
/// (a DBRef's `$ref`/`$id` excepted).
fn is_operator_document(v: &Value) -> bool {
    match v {
        Value::Document(d) => d.keys().next().is_some_and(|k| {
            k.starts_with('$') && !(d.contains_key("$ref") && d.contains_key("$id"))
        }),
        _ => false,
    }
}

/// A field's condition: an operator document (`{$gt: 1, $lt: 5}`) when its first key starts
/// with `$`, as the server decides, a regex, or otherwise a value to equal.
pub(crate) fn compile_field_condition(name: &str, value: &Value) -> Result<FieldTest, QueryError> {
    match value {
        Value::Document(ops) if is_operator_document(value) => compile_operators(name, ops),
        Value::Regex { pattern, options } => regex_test(pattern, options),
        _ => op_eq(name, value, None),
    }
}

fn compile_operators(name: &str, ops: &Document) -> Result<FieldTest, QueryError> {
    let mut tests = Vec::with_capacity(ops.len());
    for (op, operand) in ops {
        let Some((_, compile)) = FIELD_OPERATORS.iter().find(|(n, _)| n == op) else {
            if op == "$where" {
                return Err(bad_value("$where cannot be applied to a field"));
            }
            return Err(bad_value(format!("unknown operator: {op}")));
        };
        if let Some(t) = compile(name, operand, Some(ops))? {
            tests.push(t);
        }
    }
    Ok(if tests.len() == 1 {
        tests.remove(0)
    } else {
        FieldTest::All(tests)
    })
}

/// (path name for messages, operand, the whole operator document) → test, or `None` for an
/// operator that only modifies another (`$options`).
type FieldCompile = fn(&str, &Value, Option<&Document>) -> Result<Option<FieldTest>, QueryError>;

/// Every field operator, one compile function each.
const FIELD_OPERATORS: &[(&str, FieldCompile)] = &[
    ("$eq", |n, v, c| op_eq(n, v, c).map(Some)),
    ("$ne", op_ne),
    ("$gt", |n, v, _| range(n, v, |o| o == Ordering::Greater)),
    ("$gte", |n, v, _| range(n, v, |o| o != Ordering::Less)),
    ("$lt", |n, v, _| range(n, v, |o| o == Ordering::Less)),
    ("$lte", |n, v, _| range(n, v, |o| o != Ordering::Greater)),
    ("$in", op_in),
    ("$nin", op_nin),
    ("$exists", op_exists),
    ("$type", op_type),
    ("$regex", op_regex),
    ("$options", op_options),
    ("$not", op_not),
    ("$mod", op_mod),
    ("$size", op_size),
    ("$all", op_all),
    ("$elemMatch", op_elem_match),
    ("$bitsAllSet", |n, v, _| {
        bits(n, "$bitsAllSet", v, |x, m| x & m == m)
    }),
    ("$bitsAnySet", |n, v, _| {
        bits(n, "$bitsAnySet", v, |x, m| x & m != 0)
    }),
    ("$bitsAllClear", |n, v, _| {
        bits(n, "$bitsAllClear", v, |x, m| x & m == 0)
    }),
    ("$bitsAnyClear", |n, v, _| {
        bits(n, "$bitsAnyClear", v, |x, m| x & m != m)
    }),
    ("$comment", |_, _, _| Ok(None)),
    // Answered by the planner through a geo index (see `special_operators`).
    ("$near", |_, _, _| Ok(None)),
    ("$nearSphere", |_, _, _| Ok(None)),
    ("$maxDistance", |_, _, _| Ok(None)),
    ("$minDistance", |_, _, _| Ok(None)),
    ("$geoWithin", op_geo_within),
    ("$within", op_geo_within),
    ("$geoIntersects", op_geo_intersects),
];

fn op_geo_within(
    _: &str,
    operand: &Value,
    _: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    let region = crate::mongo::index::geo::Region::parse(operand)?;
    Ok(Some(FieldTest::Any {
        test: Box::new(move |v| region.contains(v)),
        missing: false,
    }))
}

fn op_geo_intersects(
    _: &str,
    operand: &Value,
    _: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    let shape = crate::mongo::index::geo::parse_intersects(operand)?;
    Ok(Some(FieldTest::Any {
        test: Box::new(move |v| crate::mongo::index::geo::value_intersects(v, &shape)),
        missing: false,
    }))
}

fn op_eq(_: &str, operand: &Value, _: Option<&Document>) -> Result<FieldTest, QueryError> {
    let want = operand.clone();
    Ok(FieldTest::Any {
        missing: matches!(want, Value::Null),
        test: equal_to(want),
    })
}

/// The equality test against one value, with the common operand types compared directly
/// (this runs once per document and field in most queries).
fn equal_to(want: Value) -> ValueTest {
    match want {
        Value::String(s) => Box::new(move |v| matches!(v, Value::String(x) if *x == s)),
        Value::Int32(_) | Value::Int64(_) | Value::Double(_) => {
            Box::new(move |v| v.is_number() && compare(v, &want) == Ordering::Equal)
        }
        Value::Bool(b) => Box::new(move |v| matches!(v, Value::Bool(x) if *x == b)),
        want => Box::new(move |v| values_equal(v, &want)),
    }
}

fn op_ne(
    name: &str,
    operand: &Value,
    c: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    if matches!(operand, Value::Regex { .. }) {
        return Err(bad_value("Can't have regex as arg to $ne."));
    }
    Ok(Some(FieldTest::Not(Box::new(op_eq(name, operand, c)?))))
}

/// Range comparisons only compare within one type bracket: `{$gt: 5}` never matches a string.
fn range(
    name: &str,
    operand: &Value,
    accept: fn(Ordering) -> bool,
) -> Result<Option<FieldTest>, QueryError> {
    if matches!(operand, Value::Regex { .. }) {
        return Err(bad_value(format!(
            "Can't have RegEx as arg to predicate over field '{name}'."
        )));
    }
    let want = operand.clone();
    let inclusive = accept(Ordering::Equal);
    Ok(Some(FieldTest::Any {
        // `{$gte: null}` and `{$lte: null}` match missing fields, like equality with null.
        missing: inclusive && matches!(want, Value::Null),
        test: Box::new(move |v| {
            // MinKey and MaxKey bound every type.
            if matches!(want, Value::MinKey | Value::MaxKey) {
                return accept(compare(v, &want));
            }
            type_rank(v) == type_rank(&want) && accept(compare(v, &want))
        }),
    }))
}

/// The equalities and regexes of an `$in` list, as one value test.
fn in_list(operand: &Value, op: &str) -> Result<(ValueTest, bool), QueryError> {
    let Value::Array(items) = operand else {
        return Err(bad_value(format!("{op} needs an array")));
    };
    let mut equals = Vec::new();
    let mut regexes = Vec::new();
    for item in items {
        if is_operator_document(item) {
            return Err(bad_value(format!("cannot nest $ under {op}")));
        }
        match item {
            Value::Regex { pattern, options } => {
                regexes.push((compile_regex(pattern, options)?, item.clone()));
            }
            _ => equals.push(item.clone()),
        }
    }
    let missing = equals.iter().any(|v| matches!(v, Value::Null));
    Ok((
        Box::new(move |v| {
            equals.iter().any(|w| values_equal(v, w))
                || regexes
                    .iter()
                    .any(|(re, literal)| regex_matches(re, literal, v))
        }),
        missing,
    ))
}

fn op_in(_: &str, operand: &Value, _: Option<&Document>) -> Result<Option<FieldTest>, QueryError> {
    let (test, missing) = in_list(operand, "$in")?;
    Ok(Some(FieldTest::Any { test, missing }))
}

fn op_nin(_: &str, operand: &Value, _: Option<&Document>) -> Result<Option<FieldTest>, QueryError> {
    let (test, missing) = in_list(operand, "$nin")?;
    Ok(Some(FieldTest::Not(Box::new(FieldTest::Any {
        test,
        missing,
    }))))
}

/// JavaScript-like truthiness of an operand, as `$exists` reads it.
fn true_value(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null | Value::Undefined => false,
        Value::Int32(i) => *i != 0,
        Value::Int64(i) => *i != 0,
        Value::Double(x) => *x != 0.0,
        _ => true,
    }
}

fn op_exists(
    _: &str,
    operand: &Value,
    _: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    Ok(Some(FieldTest::Exists(true_value(operand))))
}

/// BSON type codes and the aliases `$type` accepts.
pub const TYPE_ALIASES: &[(&str, i32)] = &[
    ("double", 1),
    ("string", 2),
    ("object", 3),
    ("array", 4),
    ("binData", 5),
    ("undefined", 6),
    ("objectId", 7),
    ("bool", 8),
    ("date", 9),
    ("null", 10),
    ("regex", 11),
    ("dbPointer", 12),
    ("javascript", 13),
    ("symbol", 14),
    ("javascriptWithScope", 15),
    ("int", 16),
    ("timestamp", 17),
    ("long", 18),
    ("decimal", 19),
    ("minKey", -1),
    ("maxKey", 127),
];

/// The BSON type code of a value.
pub fn type_code(v: &Value) -> i32 {
    match v {
        Value::Double(_) => 1,
        Value::String(_) => 2,
        Value::Document(_) => 3,
        Value::Array(_) => 4,
        Value::Undefined => 6,
        Value::ObjectId(_) => 7,
        Value::Bool(_) => 8,
        Value::Date(_) => 9,
        Value::Null => 10,
        Value::Regex { .. } => 11,
        Value::Int32(_) => 16,
        Value::Int64(_) => 18,
        Value::MinKey => -1,
        Value::MaxKey => 127,
        Value::Decimal128(_) => 19,
        Value::Timestamp { .. } => 17,
        Value::Binary { .. } => 5,
    }
}

/// A set of type codes from `$type`'s operand; `0` stands for the alias "number".
pub fn parse_type_set(op: &str, operand: &Value) -> Result<Vec<i32>, QueryError> {
    let one = |v: &Value| -> Result<i32, QueryError> {
        match v {
            Value::String(s) if s == "number" => Ok(0),
            Value::String(s) => TYPE_ALIASES
                .iter()
                .find(|(name, _)| name == s)
                .map(|(_, code)| *code)
                .ok_or_else(|| bad_value(format!("Unknown type name alias: {s}"))),
            n if n.is_number() => {
                let x = number_f64(n);
                let code = x as i32;
                if f64::from(code) != x || !TYPE_ALIASES.iter().any(|(_, c)| *c == code) {
                    return Err(bad_value(format!(
                        "Invalid numerical type code: {}",
                        server_repr(n)
                    )));
                }
                Ok(code)
            }
            _ => Err(QueryError::new(
                14,
                "TypeMismatch",
                "type must be represented as a number or a string",
            )),
        }
    };
    let codes = match operand {
        Value::Array(items) => items.iter().map(one).collect::<Result<Vec<_>, _>>()?,
        v => vec![one(v)?],
    };
    if codes.is_empty() {
        return Err(failed_to_parse(format!(
            "{op} must match at least one type"
        )));
    }
    Ok(codes)
}

pub fn type_matches(codes: &[i32], v: &Value) -> bool {
    let code = type_code(v);
    codes
        .iter()
        .any(|&c| c == code || (c == 0 && v.is_number()))
}

fn op_type(
    name: &str,
    operand: &Value,
    _: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    let codes = parse_type_set(name, operand)?;
    Ok(Some(FieldTest::Any {
        missing: false,
        test: Box::new(move |v| type_matches(&codes, v)),
    }))
}

pub(crate) fn compile_regex(pattern: &str, options: &str) -> Result<Regex, QueryError> {
    Regex::new(pattern, options).map_err(|why| {
        QueryError::new(
            51091,
            "Location51091",
            format!("Regular expression is invalid: {why}"),
        )
    })
}

/// A regex matches strings by search, and a stored regex by equality.
pub(crate) fn regex_matches(re: &Regex, literal: &Value, v: &Value) -> bool {
    match v {
        Value::String(s) => re.is_match(s),
        Value::Regex { .. } => values_equal(v, literal),
        _ => false,
    }
}

fn regex_test(pattern: &str, options: &str) -> Result<FieldTest, QueryError> {
    let re = compile_regex(pattern, options)?;
    let literal = Value::Regex {
        pattern: pattern.to_string(),
        options: options.to_string(),
    };
    Ok(FieldTest::Any {
        missing: false,
        test: Box::new(move |v| regex_matches(&re, &literal, v)),
    })
}

fn op_regex(
    _: &str,
    operand: &Value,
    context: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    let (pattern, mut options) = match operand {
        Value::String(s) => (s.clone(), String::new()),
        Value::Regex { pattern, options } => (pattern.clone(), options.clone()),
        _ => return Err(bad_value("$regex has to be a string")),
    };
    if let Some(opts) = context.and_then(|c| c.get("$options")) {
        let Value::String(o) = opts else {
            return Err(bad_value("$options has to be a string"));
        };
        if !options.is_empty() {
            return Err(QueryError::new(
                51075,
                "Location51075",
                "options set in both $regex and $options",
            ));
        }
        options = o.clone();
    }
    regex_test(&pattern, &options).map(Some)
}

fn op_options(
    _: &str,
    _: &Value,
    context: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    if context.is_some_and(|c| c.contains_key("$regex")) {
        Ok(None)
    } else {
        Err(bad_value("$options needs a $regex"))
    }
}

fn op_not(
    name: &str,
    operand: &Value,
    _: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    let inner = match operand {
        Value::Regex { pattern, options } => regex_test(pattern, options)?,
        Value::Document(d) => {
            if d.is_empty() {
                return Err(bad_value("$not cannot be empty"));
            }
            compile_operators(name, d)?
        }
        _ => return Err(bad_value("$not needs a regex or a document")),
    };
    Ok(Some(FieldTest::Not(Box::new(inner))))
}

pub(crate) fn number_f64(v: &Value) -> f64 {
    match v {
        Value::Double(x) => *x,
        Value::Int32(i) => f64::from(*i),
        Value::Int64(i) => *i as f64,
        Value::Decimal128(d) => d.to_f64(),
        _ => f64::NAN,
    }
}

/// A number as the server coerces it to a 64-bit integer (doubles truncated).
fn coerce_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int32(i) => Some(i64::from(*i)),
        Value::Int64(i) => Some(*i),
        Value::Double(x) if x.is_finite() && x.abs() < 9.223_372_036_854_776e18 => {
            Some(x.trunc() as i64)
        }
        Value::Decimal128(d) => d.trunc_i64(),
        _ => None,
    }
}

fn op_mod(_: &str, operand: &Value, _: Option<&Document>) -> Result<Option<FieldTest>, QueryError> {
    let Value::Array(items) = operand else {
        return Err(bad_value("malformed mod, needs to be an array"));
    };
    let divisor = items
        .first()
        .ok_or_else(|| bad_value("malformed mod, not enough elements"))?;
    if !divisor.is_number() {
        return Err(bad_value("malformed mod, divisor not a number"));
    }
    let remainder = items
        .get(1)
        .ok_or_else(|| bad_value("malformed mod, not enough elements"))?;
    if !remainder.is_number() {
        return Err(bad_value("malformed mod, remainder not a number"));
    }
    if items.len() > 2 {
        return Err(bad_value("malformed mod, too many elements"));
    }
    let d = coerce_i64(divisor).ok_or_else(|| {
        bad_value(format!(
            "malformed mod, divisor value is invalid :: caused by :: Out of bounds coercing to integral value: {}",
            server_repr(divisor)
        ))
    })?;
    let r = coerce_i64(remainder).ok_or_else(|| {
        bad_value(format!(
            "malformed mod, remainder value is invalid :: caused by :: Out of bounds coercing to integral value: {}",
            server_repr(remainder)
        ))
    })?;
    if d == 0 {
        return Err(bad_value("divisor cannot be 0"));
    }
    Ok(Some(FieldTest::Any {
        missing: false,
        test: Box::new(move |v| {
            if !v.is_number() {
                return false;
            }
            coerce_i64(v).is_some_and(|x| x.wrapping_rem(d) == r)
        }),
    }))
}

/// An integer operand as `parseIntegerElementToLong` reads it (`Expected a number in: …`).
fn integer_arg(name: &str, v: &Value) -> Result<i64, QueryError> {
    let shown = || format!("{name}: {}", server_repr(v));
    match v {
        Value::Int32(i) => Ok(i64::from(*i)),
        Value::Int64(i) => Ok(*i),
        Value::Double(x) => {
            if x.is_nan() {
                return Err(failed_to_parse(format!(
                    "Expected an integer, but found NaN in: {}",
                    shown()
                )));
            }
            if x.abs() >= 9.223_372_036_854_776e18 {
                return Err(failed_to_parse(format!(
                    "Cannot represent as a 64-bit integer: {}",
                    shown()
                )));
            }
            if x.fract() != 0.0 {
                return Err(failed_to_parse(format!("Expected an integer: {}", shown())));
            }
            Ok(*x as i64)
        }
        _ => Err(failed_to_parse(format!(
            "Expected a number in: {}",
            shown()
        ))),
    }
}

fn non_negative(name: &str, v: &Value) -> Result<i64, QueryError> {
    let n = integer_arg(name, v)?;
    if n < 0 {
        return Err(failed_to_parse(format!(
            "Expected a positive number in: {name}: {}",
            server_repr(v)
        )));
    }
    Ok(n)
}

fn op_size(
    _: &str,
    operand: &Value,
    _: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    let n = non_negative("$size", operand)
        .map_err(|e| bad_value(format!("Failed to parse $size. {}", e.message)))?;
    if n > i64::from(i32::MAX) {
        return Err(bad_value(format!(
            "Failed to parse $size. Cannot represent as a 32-bit integer: $size: {}",
            server_repr(operand)
        )));
    }
    let n = n as usize;
    Ok(Some(FieldTest::Whole(Box::new(
        move |v| matches!(v, Value::Array(items) if items.len() == n),
    ))))
}

fn op_all(
    name: &str,
    operand: &Value,
    _: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    let Value::Array(items) = operand else {
        return Err(bad_value("$all needs an array"));
    };
    let first_is_elem_match = |v: &Value| matches!(v, Value::Document(d) if d.keys().next().is_some_and(|k| k == "$elemMatch"));
    let mut tests = Vec::with_capacity(items.len());
    if items.first().is_some_and(first_is_elem_match) {
        for item in items {
            let Value::Document(d) = item else {
                return Err(bad_value("$all/$elemMatch has to be consistent"));
            };
            if !first_is_elem_match(item) {
                return Err(bad_value("$all/$elemMatch has to be consistent"));
            }
            let operand = d.get("$elemMatch").cloned().unwrap_or(Value::Null);
            if let Some(t) = op_elem_match(name, &operand, None)? {
                tests.push(t);
            }
        }
    } else {
        for item in items {
            match item {
                Value::Regex { pattern, options } => tests.push(regex_test(pattern, options)?),
                Value::Document(d)
                    if d.keys()
                        .next()
                        .is_some_and(|k| FIELD_OPERATORS.iter().any(|(n, _)| n == k)) =>
                {
                    return Err(bad_value("no $ expressions in $all"));
                }
                _ => tests.push(op_eq(name, item, None)?),
            }
        }
    }
    if tests.is_empty() {
        return Ok(Some(FieldTest::Const(false)));
    }
    Ok(Some(FieldTest::All(tests)))
}

fn op_elem_match(
    name: &str,
    operand: &Value,
    _: Option<&Document>,
) -> Result<Option<FieldTest>, QueryError> {
    let Value::Document(d) = operand else {
        return Err(bad_value("$elemMatch needs an Object"));
    };
    // The value form (`{$elemMatch: {$gte: 80, $lt: 85}}`) tests each element itself; the
    // object form (`{$elemMatch: {product: "xyz"}}`) runs a filter on each element document.
    let value_form =
        is_operator_document(operand) && d.keys().next().is_some_and(|k| !is_top_operator(k));
    if value_form {
        let test = compile_operators(name, d)?;
        return Ok(Some(FieldTest::Whole(Box::new(move |v| match v {
            Value::Array(items) => items.iter().any(|item| test.test_value(item)),
            _ => false,
        }))));
    }
    if d.contains_key("$where") {
        return Err(bad_value("$elemMatch cannot contain $where expression"));
    }
    let sub = compile_document(d, false)?;
    if has_expr(&sub) {
        return Err(bad_value(
            "$expr can only be applied to the top-level document",
        ));
    }
    let sub = Filter {
        root: sub,
        paths: Vec::new(),
        now_ms: Cell::new(0),
        error: RefCell::new(None),
        text: None,
        near: None,
        top_fields: Vec::new(),
    };
    Ok(Some(FieldTest::Whole(Box::new(move |v| match v {
        Value::Array(items) => items.iter().any(|item| match item {
            Value::Document(doc) => sub.matches(doc),
            Value::Array(inner) => sub.matches(&array_as_document(inner)),
            _ => false,
        }),
        _ => false,
    }))))
}

/// An array seen as a document with keys "0", "1", … (as the server's matcher sees a nested
/// array under `$elemMatch`).
fn array_as_document(items: &[Value]) -> Document {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| (i.to_string(), v.clone()))
        .collect()
}

fn bits(
    name: &str,
    op: &str,
    operand: &Value,
    test: fn(u64, u64) -> bool,
) -> Result<Option<FieldTest>, QueryError> {
    let mask: u64 = match operand {
        Value::Array(positions) => {
            let mut mask = 0u64;
            let mut high = false;
            for p in positions {
                let n = non_negative(op, p).map_err(|e| {
                    bad_value(format!("Failed to parse bit position. {}", e.message))
                })?;
                if n >= 64 {
                    high = true;
                } else {
                    mask |= 1 << n;
                }
            }
            if high {
                // Bits beyond 63 are the sign extension of a 64-bit number.
                mask |= 1 << 63;
            }
            mask
        }
        v if v.is_number() => non_negative(op, v)? as u64,
        _ => {
            return Err(bad_value(format!(
                "{name} takes an Array, a number, or a BinData but received: {op}: {}",
                server_repr(operand)
            )))
        }
    };
    Ok(Some(FieldTest::Any {
        missing: false,
        test: Box::new(move |v| {
            let x = match v {
                Value::Int32(i) => i64::from(*i),
                Value::Int64(i) => *i,
                Value::Double(x) if x.fract() == 0.0 && x.abs() < 9.223_372_036_854_776e18 => {
                    *x as i64
                }
                _ => return false,
            };
            test(x as u64, mask)
        }),
    }))
}

/// A `$pull` condition or an `arrayFilters` element test: operator documents test each element
/// itself, plain documents run as a filter on element documents, other values must equal.
pub struct ElementMatcher {
    kind: ElementKind,
}

enum ElementKind {
    Test(FieldTest),
    Filter(Filter),
}

impl ElementMatcher {
    pub fn compile(condition: &Value) -> Result<ElementMatcher, QueryError> {
        let kind = match condition {
            Value::Document(d) if is_operator_document(condition) => {
                let first = d.keys().next().map(String::as_str).unwrap_or("");
                if is_top_operator(first) {
                    ElementKind::Filter(Filter::compile(d)?)
                } else {
                    ElementKind::Test(compile_operators("", d)?)
                }
            }
            Value::Document(d) => ElementKind::Filter(Filter::compile(d)?),
            Value::Regex { pattern, options } => ElementKind::Test(regex_test(pattern, options)?),
            other => ElementKind::Test(FieldTest::Any {
                missing: false,
                test: equal_to(other.clone()),
            }),
        };
        Ok(ElementMatcher { kind })
    }

    pub fn matches(&self, v: &Value) -> bool {
        match &self.kind {
            ElementKind::Test(t) => t.test_value(v),
            ElementKind::Filter(f) => match v {
                Value::Document(d) => f.matches(d),
                _ => false,
            },
        }
    }
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
            (
                d(vec![("$foo", i(1))]),
                "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.",
            ),
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
