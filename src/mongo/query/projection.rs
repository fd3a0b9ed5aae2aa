//! Find projections (`find(filter, {title: 1})`, `findOne`, `findOneAnd*`): inclusion and
//! exclusion, dotted paths through embedded documents and arrays, `$slice`, `$elemMatch` and
//! the positional `$`, with the rules and messages of the server's `projection_parser.cpp`.
//!
//! As in MongoDB 4.4+, included fields keep the document's order; `$slice`, `$elemMatch` and
//! positional fields of an inclusion projection come after them, in the projection's order.

use super::filter::{bad_value, Filter, QueryError};
use super::server_repr;
use super::update::run_stages;
use crate::mongo::agg::stages::{compile_pipeline, Pipeline};
use crate::mongo::value::{Document, Value};

/// A compiled projection.
#[derive(Debug)]
pub struct Projection {
    root: Vec<(String, Node)>,
    inclusion: bool,
    /// A projection with aggregation expressions (4.4+) means what a `$project` stage means,
    /// so it runs as one.
    stage: Option<Stage>,
    now_ms: i64,
}

struct Stage(Pipeline);

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("$project")
    }
}

/// Whether a projection value asks for an aggregation expression rather than an inclusion,
/// an exclusion or one of find's own operators (`$slice`, `$elemMatch`, positional `$`).
fn has_expression(spec: &Document) -> bool {
    spec.iter().any(|(k, v)| match v {
        Value::Bool(_)
        | Value::Int32(_)
        | Value::Int64(_)
        | Value::Double(_)
        | Value::Decimal128(_) => false,
        Value::Document(d) => match d.first() {
            Some((op, _)) if op.starts_with('$') => !matches!(op.as_str(), "$slice" | "$elemMatch"),
            _ => has_expression(d),
        },
        _ => !(k == "$" || k.ends_with(".$") || k.contains(".$.")),
    })
}

/// Whether a projection uses find's own operators, which `$project` reads differently.
fn has_find_operator(spec: &Document) -> bool {
    spec.iter().any(|(k, v)| {
        k == "$"
            || k.ends_with(".$")
            || k.contains(".$.")
            || match v {
                Value::Document(d) => {
                    d.contains_key("$slice") || d.contains_key("$elemMatch") || has_find_operator(d)
                }
                _ => false,
            }
    })
}

#[derive(Debug)]
enum Node {
    Include(bool),
    Internal(Vec<(String, Node)>),
    Slice {
        skip: Option<i64>,
        limit: i64,
    },
    ElemMatch(Filter),
    /// `field.$`: the first element of the array that the query matched.
    Positional(Vec<String>),
}

impl Node {
    fn is_computed(&self) -> bool {
        matches!(
            self,
            Node::Slice { .. } | Node::ElemMatch(_) | Node::Positional(_)
        )
    }
}

#[derive(Default)]
struct Ctx {
    inclusion: Option<bool>,
    id_included_entirely: bool,
    id_specified: bool,
    has_positional: bool,
    has_elem_match: bool,
    has_slice: bool,
}

fn err(code: i32, message: impl Into<String>) -> QueryError {
    let code_name: &'static str = match code {
        31249 => "Location31249",
        31250 => "Location31250",
        31253 => "Location31253",
        31254 => "Location31254",
        31255 => "Location31255",
        31256 => "Location31256",
        31257 => "Location31257",
        31258 => "Location31258",
        31259 => "Location31259",
        31270 => "Location31270",
        31271 => "Location31271",
        31272 => "Location31272",
        31273 => "Location31273",
        31274 => "Location31274",
        31275 => "Location31275",
        31276 => "Location31276",
        31277 => "Location31277",
        31287 => "Location31287",
        31308 => "Location31308",
        _ => "BadValue",
    };
    QueryError::new(code, code_name, message)
}

fn not_supported(what: &str) -> QueryError {
    QueryError::new(
        238,
        "NotImplemented",
        format!("{what} in a projection is not supported in this sandbox yet (it needs aggregation expressions)"),
    )
}

fn bson_type_name(v: &Value) -> &'static str {
    match v {
        Value::Double(_) => "double",
        Value::String(_) => "string",
        Value::Document(_) => "object",
        Value::Array(_) => "array",
        Value::Bool(_) => "bool",
        Value::Null => "null",
        Value::Int32(_) => "int",
        Value::Int64(_) => "long",
        other => other.type_name(),
    }
}

fn add_node(
    root: &mut Vec<(String, Node)>,
    path: &[&str],
    full: &str,
    node: Node,
) -> Result<(), QueryError> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    let existing = root.iter_mut().position(|(k, _)| k == first);
    if rest.is_empty() {
        if existing.is_some() {
            return Err(err(31250, format!("Path collision at {full}")));
        }
        root.push((first.to_string(), node));
        return Ok(());
    }
    let index = match existing {
        Some(i) => i,
        None => {
            root.push((first.to_string(), Node::Internal(Vec::new())));
            root.len() - 1
        }
    };
    match &mut root[index].1 {
        Node::Internal(children) => add_node(children, rest, full, node),
        _ => Err(err(
            31249,
            format!(
                "Path collision at {full} remaining portion {}",
                rest.join(".")
            ),
        )),
    }
}

/// The first-level field names a filter tests (through `$and`/`$or`/`$nor`), for the
/// positional projection's check.
fn filter_fields(filter: &Document, out: &mut Vec<String>) {
    for (k, v) in filter {
        if matches!(k.as_str(), "$and" | "$or" | "$nor") {
            if let Value::Array(items) = v {
                for item in items {
                    if let Value::Document(d) = item {
                        filter_fields(d, out);
                    }
                }
            }
        } else if !k.starts_with('$') {
            out.push(k.split('.').next().unwrap_or("").to_string());
        }
    }
}

impl Projection {
    /// Compiles a projection; `filter` is the query, which the positional `$` refers to.
    /// Returns `None` for `{}` (every field).
    pub fn compile(spec: &Document, filter: &Document) -> Result<Option<Projection>, QueryError> {
        if spec.is_empty() {
            return Ok(None);
        }
        if has_expression(spec) && !has_find_operator(spec) {
            let mut stage = Document::default();
            stage.insert("$project".into(), Value::Document(spec.clone()));
            let pipeline =
                compile_pipeline(&[Value::Document(stage)], &[], 0, false).map_err(|e| {
                    // find reports the projection's own error, not the stage's wrapper.
                    let message = e
                        .message
                        .strip_prefix("Invalid $project :: caused by :: ")
                        .map_or_else(|| e.message.clone(), str::to_string);
                    QueryError::new(e.code, e.code_name, message)
                })?;
            return Ok(Some(Projection {
                root: Vec::new(),
                inclusion: true,
                stage: Some(Stage(pipeline)),
                now_ms: 0,
            }));
        }
        let mut ctx = Ctx::default();
        let mut root = Vec::new();
        for (key, value) in spec {
            ctx.id_specified |= key == "_id" || key.starts_with("_id.");
            parse_element(&mut ctx, &mut root, key, key, value, filter, true)?;
        }
        let inclusion = match ctx.inclusion {
            Some(i) => i,
            None => ctx.id_included_entirely || (!ctx.has_slice && ctx.has_elem_match),
        };
        if !ctx.id_specified && inclusion {
            root.insert(0, ("_id".to_string(), Node::Include(true)));
        }
        if !inclusion && ctx.id_included_entirely {
            root.retain(|(k, _)| k != "_id");
        }
        Ok(Some(Projection {
            root,
            inclusion,
            stage: None,
            now_ms: 0,
        }))
    }

    /// Sets the sandbox time `$$NOW` reads in projection expressions.
    pub fn at(mut self, now_ms: i64) -> Self {
        self.now_ms = now_ms;
        self
    }

    /// Whether applying it can fail (only aggregation expressions can).
    pub fn can_fail(&self) -> bool {
        self.stage.is_some()
    }

    /// Applies the projection; an expression that fails to evaluate is an error.
    pub fn try_apply(
        &self,
        doc: &Document,
        filter: Option<&Filter>,
    ) -> Result<Document, QueryError> {
        match &self.stage {
            Some(Stage(p)) => run_stages(p, doc, self.now_ms),
            None => Ok(self.apply(doc, filter)),
        }
    }

    /// Applies the projection to one document that `filter` matched (an expression that
    /// fails leaves an empty document; `try_apply` reports the error instead).
    pub fn apply(&self, doc: &Document, filter: Option<&Filter>) -> Document {
        if let Some(Stage(p)) = &self.stage {
            return run_stages(p, doc, self.now_ms).unwrap_or_default();
        }
        if self.inclusion {
            include_doc(&self.root, doc, doc, filter)
        } else {
            exclude_doc(&self.root, doc, doc, filter)
        }
    }
}

fn parse_element(
    ctx: &mut Ctx,
    parent: &mut Vec<(String, Node)>,
    key: &str,
    full: &str,
    value: &Value,
    filter: &Document,
    top: bool,
) -> Result<(), QueryError> {
    if crate::mongo::agg::field_path_too_deep(full) {
        return Err(QueryError::new(15, "Overflow", "FieldPath is too long"));
    }
    let positional = key == "$" || key.ends_with(".$") || key.contains(".$.");
    match value {
        Value::Document(sub) => {
            if positional {
                return Err(err(
                    31271,
                    "positional projection cannot be used with an expression or sub object",
                ));
            }
            let path: Vec<&str> = key.split('.').collect();
            let only_operator = sub
                .iter()
                .next()
                .filter(|(k, _)| sub.len() == 1 && k.starts_with('$'));
            if let Some((op, arg)) = only_operator {
                match op.as_str() {
                    "$slice" => {
                        let node = match arg {
                            n if n.is_number() => Node::Slice {
                                skip: None,
                                limit: number_i64(n),
                            },
                            Value::Array(items) => {
                                if items.len() != 2 {
                                    return Err(err(
                                        31272,
                                        "$slice array argument should be of form [skip, limit]",
                                    ));
                                }
                                if !items[0].is_number() {
                                    return Err(err(31257, format!("$slice expects the skip argument to be a number, got {}", bson_type_name(&items[0]))));
                                }
                                if !items[1].is_number() {
                                    return Err(err(31258, format!("$slice expects the limit argument to be a number, got {}", bson_type_name(&items[1]))));
                                }
                                let limit = number_i64(&items[1]);
                                if limit <= 0 {
                                    return Err(err(
                                        31259,
                                        format!("$slice limit must be positive, got {limit}"),
                                    ));
                                }
                                Node::Slice {
                                    skip: Some(number_i64(&items[0])),
                                    limit,
                                }
                            }
                            _ => {
                                return Err(err(
                                    31273,
                                    "$slice only supports numbers and [skip, limit] arrays",
                                ))
                            }
                        };
                        add_node(parent, &path, full, node)?;
                        ctx.has_slice = true;
                        return Ok(());
                    }
                    "$elemMatch" => {
                        let Value::Document(_) = arg else {
                            return Err(err(
                                31274,
                                format!(
                                    "elemMatch: Invalid argument, object required, but got {}",
                                    bson_type_name(arg)
                                ),
                            ));
                        };
                        if ctx.has_positional {
                            return Err(err(
                                31255,
                                "Cannot specify positional operator and $elemMatch.",
                            ));
                        }
                        if path.len() != 1 || !top {
                            return Err(err(
                                31275,
                                "Cannot use $elemMatch projection on a nested field.",
                            ));
                        }
                        let mut f = Document::default();
                        f.insert(key.to_string(), value.clone());
                        let filter = Filter::compile(&f)?;
                        add_node(parent, &path, full, Node::ElemMatch(filter))?;
                        ctx.has_elem_match = true;
                        return Ok(());
                    }
                    other => return Err(not_supported(&format!("the expression {other}"))),
                }
            }
            // A sub-projection: `{size: {uom: 1}}` is `{"size.uom": 1}`.
            if sub.is_empty() {
                return Err(bad_value(format!(
                    "An empty sub-projection is not a valid value. Found empty object at path {full}"
                )));
            }
            for (k, v) in sub {
                let nested = format!("{key}.{k}");
                let nested_full = format!("{full}.{k}");
                parse_element(ctx, parent, &nested, &nested_full, v, filter, top)?;
            }
            Ok(())
        }
        Value::Bool(_)
        | Value::Int32(_)
        | Value::Int64(_)
        | Value::Double(_)
        | Value::Decimal128(_) => {
            let truthy = crate::mongo::agg::expr::truthy(value);
            let is_top_id = key == "_id";
            if truthy {
                if positional {
                    if ctx.has_positional {
                        return Err(err(
                            31276,
                            "Cannot specify more than one positional projection per query.",
                        ));
                    }
                    if ctx.has_elem_match {
                        return Err(err(
                            31256,
                            "Cannot specify positional operator and $elemMatch.",
                        ));
                    }
                    let match_field = key.split('.').next().unwrap_or("");
                    let mut fields = Vec::new();
                    filter_fields(filter, &mut fields);
                    if !fields.iter().any(|f| f == match_field) {
                        return Err(err(
                            31277,
                            format!(
                                "Positional projection '{key}' does not match the query document."
                            ),
                        ));
                    }
                    let (begin, end) = match key.find(".$.") {
                        Some(i) => (i, i + 3),
                        None if key == "$" => (0, 1),
                        None => (key.len() - 2, key.len()),
                    };
                    let rest = &key[end..];
                    if rest == "$" || rest.contains(".$.") || rest.ends_with(".$") {
                        return Err(err(
                            31287,
                            format!("Cannot use positional operator twice: {key}"),
                        ));
                    }
                    let prefix = &key[..begin];
                    let path: Vec<&str> = prefix.split('.').collect();
                    add_node(
                        parent,
                        &path,
                        full,
                        Node::Positional(path.iter().map(|s| s.to_string()).collect()),
                    )?;
                    ctx.has_positional = true;
                } else {
                    let path: Vec<&str> = key.split('.').collect();
                    add_node(parent, &path, full, Node::Include(true))?;
                    if is_top_id {
                        ctx.id_included_entirely = true;
                    }
                }
                if !is_top_id {
                    if ctx.inclusion == Some(false) {
                        return Err(err(
                            31253,
                            format!("Cannot do inclusion on field {full} in exclusion projection"),
                        ));
                    }
                    ctx.inclusion = Some(true);
                }
            } else {
                let path: Vec<&str> = key.split('.').collect();
                add_node(parent, &path, full, Node::Include(false))?;
                if !is_top_id {
                    if ctx.inclusion == Some(true) {
                        return Err(err(
                            31254,
                            format!("Cannot do exclusion on field {full} in inclusion projection"),
                        ));
                    }
                    ctx.inclusion = Some(false);
                }
            }
            Ok(())
        }
        other => {
            if positional {
                return Err(err(
                    31308,
                    "positional projection cannot be used with a literal",
                ));
            }
            Err(not_supported(&format!(
                "the literal value {key}: {}",
                server_repr(other)
            )))
        }
    }
}

fn number_i64(v: &Value) -> i64 {
    match v {
        Value::Int32(i) => i64::from(*i),
        Value::Int64(i) => *i,
        Value::Double(x) if x.is_finite() => {
            x.trunc().clamp(i32::MIN as f64, i32::MAX as f64) as i64
        }
        _ => 0,
    }
}

/// `$slice: n` keeps the first n (or last -n); `[skip, n]` skips (from the end if negative).
pub fn slice_array(items: &[Value], skip: Option<i64>, limit: i64) -> Vec<Value> {
    let len = items.len() as i64;
    let (start, count) = match skip {
        None => {
            if limit >= 0 {
                (0, limit.min(len))
            } else {
                let n = (-limit).min(len);
                (len - n, n)
            }
        }
        Some(skip) => {
            let start = if skip >= 0 {
                skip.min(len)
            } else {
                (len + skip).max(0)
            };
            (start, limit.min(len - start))
        }
    };
    items[start as usize..(start + count.max(0)) as usize].to_vec()
}

/// The value of a computed node (`$slice`, `$elemMatch`, positional) for one field.
fn computed(
    node: &Node,
    name: &str,
    value: &Value,
    root: &Document,
    filter: Option<&Filter>,
) -> Option<Value> {
    match node {
        Node::Slice { skip, limit } => Some(match value {
            Value::Array(items) => Value::Array(slice_array(items, *skip, *limit)),
            other => other.clone(),
        }),
        Node::ElemMatch(f) => match value {
            Value::Array(items) => items
                .iter()
                .find(|item| {
                    let mut d = Document::default();
                    d.insert(name.to_string(), Value::Array(vec![(*item).clone()]));
                    f.matches(&d)
                })
                .map(|item| Value::Array(vec![item.clone()])),
            _ => None,
        },
        Node::Positional(path) => match value {
            Value::Array(items) => {
                let i = filter.and_then(|f| f.first_matching_index(root, path))?;
                items.get(i).map(|item| Value::Array(vec![item.clone()]))
            }
            other => Some(other.clone()),
        },
        _ => None,
    }
}

fn include_doc(
    nodes: &[(String, Node)],
    doc: &Document,
    root: &Document,
    filter: Option<&Filter>,
) -> Document {
    let mut out = Document::default();
    for (k, v) in doc {
        let Some((_, node)) = nodes.iter().find(|(name, _)| name == k) else {
            continue;
        };
        match node {
            Node::Include(true) => {
                out.insert(k.clone(), v.clone());
            }
            Node::Internal(children) => {
                if let Some(projected) = include_value(children, v, root, filter) {
                    out.insert(k.clone(), projected);
                }
            }
            _ => {}
        }
    }
    for (k, node) in nodes {
        if node.is_computed() {
            if let Some(v) = doc.get(k) {
                if let Some(projected) = computed(node, k, v, root, filter) {
                    out.insert(k.clone(), projected);
                }
            }
        }
    }
    out
}

fn include_value(
    children: &[(String, Node)],
    v: &Value,
    root: &Document,
    filter: Option<&Filter>,
) -> Option<Value> {
    match v {
        Value::Document(d) => Some(Value::Document(include_doc(children, d, root, filter))),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter_map(|item| match item {
                    Value::Document(_) | Value::Array(_) => {
                        include_value(children, item, root, filter)
                    }
                    _ => None,
                })
                .collect(),
        )),
        _ => None,
    }
}

fn exclude_doc(
    nodes: &[(String, Node)],
    doc: &Document,
    root: &Document,
    filter: Option<&Filter>,
) -> Document {
    let mut out = Document::default();
    for (k, v) in doc {
        match nodes.iter().find(|(name, _)| name == k).map(|(_, n)| n) {
            None | Some(Node::Include(true)) => {
                out.insert(k.clone(), v.clone());
            }
            Some(Node::Include(false)) => {}
            Some(Node::Internal(children)) => {
                out.insert(k.clone(), exclude_value(children, v, root, filter));
            }
            Some(node) => {
                if let Some(projected) = computed(node, k, v, root, filter) {
                    out.insert(k.clone(), projected);
                }
            }
        }
    }
    out
}

fn exclude_value(
    children: &[(String, Node)],
    v: &Value,
    root: &Document,
    filter: Option<&Filter>,
) -> Value {
    match v {
        Value::Document(d) => Value::Document(exclude_doc(children, d, root, filter)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| exclude_value(children, item, root, filter))
                .collect(),
        ),
        other => other.clone(),
    }
}
