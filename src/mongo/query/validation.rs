//! Collection validators (`createCollection(name, {validator})`, `collMod`): whether a
//! document passes, and the `errInfo.details` the server attaches to "Document failed
//! validation" — which clause or schema rule failed, on which value, and why.

use super::filter::{Filter, QueryError};
use super::schema::Schema;
use crate::mongo::value::{type_rank, Document, Value};

/// Whether `doc` satisfies the validator (a query, which may hold `$jsonSchema`).
pub fn passes(validator: &Document, doc: &Document, now_ms: i64) -> Result<bool, QueryError> {
    let filter = Filter::compile(validator)?.at(now_ms);
    Ok(filter.matches(doc))
}

fn doc(pairs: Vec<(&str, Value)>) -> Value {
    Value::Document(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

/// The `details` of a failed validation: the operator that failed, with the clauses or
/// schema rules under it that the document did not satisfy.
pub fn details(validator: &Document, doc_value: &Document) -> Value {
    let clauses: Vec<(&String, &Value)> = validator.iter().collect();
    if let [(k, v)] = clauses.as_slice() {
        return clause_details(k, v, doc_value);
    }
    let failed: Vec<Value> = clauses
        .iter()
        .enumerate()
        .filter(|(_, (k, v))| !clause_passes(k, v, doc_value))
        .map(|(i, (k, v))| indexed(i, clause_details(k, v, doc_value)))
        .collect();
    doc(vec![
        ("operatorName", s("$and")),
        ("clausesNotSatisfied", Value::Array(failed)),
    ])
}

fn indexed(i: usize, details: Value) -> Value {
    doc(vec![
        ("index", Value::Int32(i as i32)),
        ("details", details),
    ])
}

fn clause_passes(k: &str, v: &Value, d: &Document) -> bool {
    let mut one = Document::default();
    one.insert(k.to_string(), v.clone());
    Filter::compile(&one).is_ok_and(|f| f.matches(d))
}

/// One top-level clause of the validator: a logical operator, `$jsonSchema`, `$expr`, or
/// conditions on a field.
fn clause_details(k: &str, v: &Value, d: &Document) -> Value {
    match (k, v) {
        ("$jsonSchema", Value::Document(schema)) => {
            let mut out = vec![("operatorName", s("$jsonSchema"))];
            if let Some(title) = schema.get("title") {
                out.push(("title", title.clone()));
            }
            out.push((
                "schemaRulesNotSatisfied",
                Value::Array(schema_rules(schema, &Value::Document(d.clone()))),
            ));
            doc(out)
        }
        ("$and" | "$or" | "$nor", Value::Array(items)) => {
            let listed: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let Value::Document(sub) = item else {
                        return None;
                    };
                    // $or lists every clause (all failed); $and the failing ones; $nor the
                    // ones that matched.
                    let ok = Filter::compile(sub).is_ok_and(|f| f.matches(d));
                    let show = if k == "$nor" { ok } else { !ok };
                    show.then(|| indexed(i, details(sub, d)))
                })
                .collect();
            doc(vec![
                ("operatorName", s(k)),
                ("clausesNotSatisfied", Value::Array(listed)),
            ])
        }
        ("$expr", e) => doc(vec![
            ("operatorName", s("$expr")),
            ("specifiedAs", doc(vec![("$expr", e.clone())])),
            ("reason", s("expression did not match")),
            ("expressionResult", Value::Bool(false)),
        ]),
        (field, cond) => field_details(field, cond, d),
    }
}

fn field_details(field: &str, cond: &Value, d: &Document) -> Value {
    let found = lookup(d, field);
    let operators: Vec<(&String, &Value)> = match cond {
        Value::Document(c) if c.keys().next().is_some_and(|k| k.starts_with('$')) => {
            c.iter().collect()
        }
        _ => Vec::new(),
    };
    let op = match operators.as_slice() {
        [] => "$eq".to_string(),
        [(op, _), ..] => op.to_string(),
    };
    let specified = doc(vec![(field, cond.clone())]);
    let mut out = vec![("operatorName", s(&op)), ("specifiedAs", specified)];
    let Some(value) = found else {
        out.push(("reason", s("field was missing")));
        return doc(out);
    };
    let reason = match op.as_str() {
        "$type" => "type did not match",
        "$in" => "no matching value found in array",
        "$nin" => "matching value found in array",
        "$regex" => "regular expression did not match",
        "$exists" => "field was present",
        "$ne" | "$not" => "comparison succeeded",
        _ => "comparison failed",
    };
    out.push(("reason", s(reason)));
    out.push(("consideredValue", value.clone()));
    if op == "$type" {
        out.push(("consideredType", s(value.type_name())));
    }
    doc(out)
}

fn lookup<'d>(d: &'d Document, path: &str) -> Option<&'d Value> {
    let mut parts = path.split('.');
    let mut cur = d.get(parts.next()?)?;
    for p in parts {
        let Value::Document(sub) = cur else {
            return None;
        };
        cur = sub.get(p)?;
    }
    Some(cur)
}

/// Whether the schema made of the one keyword `k: v` accepts `value`.
fn keyword_passes(k: &str, v: &Value, value: &Value) -> bool {
    let mut one = Document::default();
    one.insert(k.to_string(), v.clone());
    Schema::compile(&one).is_ok_and(|schema| schema.matches(value))
}

/// The rules of a `$jsonSchema` (sub)schema that `value` breaks.
fn schema_rules(schema: &Document, value: &Value) -> Vec<Value> {
    let mut rules = Vec::new();
    for (k, v) in schema {
        if matches!(k.as_str(), "title" | "description") || keyword_passes(k, v, value) {
            continue;
        }
        let specified = doc(vec![(k.as_str(), v.clone())]);
        let rule = match (k.as_str(), value) {
            ("required", Value::Document(d)) => {
                let missing: Vec<Value> = match v {
                    Value::Array(names) => names
                        .iter()
                        .filter(|n| matches!(n, Value::String(n) if !d.contains_key(n)))
                        .cloned()
                        .collect(),
                    _ => Vec::new(),
                };
                doc(vec![
                    ("operatorName", s("required")),
                    ("specifiedAs", specified),
                    ("missingProperties", Value::Array(missing)),
                ])
            }
            ("properties", Value::Document(d)) => {
                let mut failed = Vec::new();
                if let Value::Document(props) = v {
                    for (name, sub) in props {
                        let (Some(present), Value::Document(sub)) = (d.get(name), sub) else {
                            continue;
                        };
                        let details = schema_rules(sub, present);
                        if details.is_empty() {
                            continue;
                        }
                        let mut entry = vec![("propertyName", s(name))];
                        if let Some(desc) = sub.get("description") {
                            entry.push(("description", desc.clone()));
                        }
                        entry.push(("details", Value::Array(details)));
                        failed.push(doc(entry));
                    }
                }
                doc(vec![
                    ("operatorName", s("properties")),
                    ("propertiesNotSatisfied", Value::Array(failed)),
                ])
            }
            ("additionalProperties", Value::Document(d)) => {
                let known: Vec<&String> = match schema.get("properties") {
                    Some(Value::Document(p)) => p.keys().collect(),
                    _ => Vec::new(),
                };
                let extra: Vec<Value> = d
                    .keys()
                    .filter(|k| !known.contains(k))
                    .map(|k| s(k))
                    .collect();
                doc(vec![
                    ("operatorName", s("additionalProperties")),
                    ("specifiedAs", specified),
                    ("additionalProperties", Value::Array(extra)),
                ])
            }
            ("bsonType" | "type", _) => doc(vec![
                ("operatorName", s(k)),
                ("specifiedAs", specified),
                ("reason", s("type did not match")),
                ("consideredValue", value.clone()),
                ("consideredType", s(value.type_name())),
            ]),
            _ => {
                let reason = match k.as_str() {
                    "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                        "comparison failed"
                    }
                    "enum" => "value was not found in enum",
                    "pattern" => "regular expression did not match",
                    "minLength" | "maxLength" => "specified string length was not satisfied",
                    "minItems" | "maxItems" => "array did not match specified length",
                    "uniqueItems" => "found a duplicate item",
                    _ => "value did not match",
                };
                let mut out = vec![
                    ("operatorName", s(k)),
                    ("specifiedAs", specified),
                    ("reason", s(reason)),
                ];
                if type_rank(value) != type_rank(&Value::Document(Document::default())) {
                    out.push(("consideredValue", value.clone()));
                }
                doc(out)
            }
        };
        rules.push(rule);
    }
    rules
}
