//! `$jsonSchema`: the draft-4 keywords MongoDB supports, with its `bsonType` extension.
//!
//! As in JSON Schema, a keyword constrains only values of its own kind: `minimum` says
//! nothing about a string, `minLength` nothing about a number, and `properties` applies to
//! the fields that are present.

use super::filter::{
    bad_value, compile_regex, failed_to_parse, number_f64, parse_type_set, type_matches, QueryError,
};
use super::regex::Regex;
use crate::mongo::value::{values_equal, Document, Value};

#[derive(Debug, Default)]
pub struct Schema {
    /// `bsonType` codes (0 = "number").
    bson_types: Option<Vec<i32>>,
    json_types: Option<Vec<JsonType>>,
    required: Vec<String>,
    properties: Vec<(String, Schema)>,
    pattern_properties: Vec<(Regex, Schema)>,
    additional_properties: Option<Additional>,
    min_properties: Option<usize>,
    max_properties: Option<usize>,
    enumeration: Option<Vec<Value>>,
    minimum: Option<(f64, bool)>,
    maximum: Option<(f64, bool)>,
    multiple_of: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    pattern: Option<Regex>,
    items: Option<Items>,
    additional_items: Option<Additional>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    unique_items: bool,
    all_of: Vec<Schema>,
    any_of: Vec<Schema>,
    one_of: Vec<Schema>,
    not: Option<Box<Schema>>,
    dependencies: Vec<(String, Dependency)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum JsonType {
    Object,
    Array,
    Number,
    Boolean,
    String,
    Null,
}

#[derive(Debug)]
enum Additional {
    Allowed(bool),
    Schema(Box<Schema>),
}

#[derive(Debug)]
enum Items {
    All(Box<Schema>),
    Tuple(Vec<Schema>),
}

#[derive(Debug)]
enum Dependency {
    Fields(Vec<String>),
    Schema(Box<Schema>),
}

fn keyword_type_error(keyword: &str, what: &str) -> QueryError {
    QueryError::new(
        14,
        "TypeMismatch",
        format!("$jsonSchema keyword '{keyword}' must be {what}"),
    )
}

fn count(keyword: &str, v: &Value) -> Result<usize, QueryError> {
    let x = number_f64(v);
    if !v.is_number() || x.fract() != 0.0 || x < 0.0 {
        return Err(failed_to_parse(format!(
            "$jsonSchema keyword '{keyword}' must be a representable as a long"
        )));
    }
    Ok(x as usize)
}

fn sub_schema(keyword: &str, v: &Value) -> Result<Schema, QueryError> {
    match v {
        Value::Document(d) => Schema::compile(d),
        _ => Err(keyword_type_error(keyword, "an object")),
    }
}

fn schema_list(keyword: &str, v: &Value) -> Result<Vec<Schema>, QueryError> {
    let Value::Array(items) = v else {
        return Err(keyword_type_error(keyword, "an array"));
    };
    if items.is_empty() {
        return Err(failed_to_parse(format!(
            "$jsonSchema keyword '{keyword}' must be a non-empty array"
        )));
    }
    items.iter().map(|i| sub_schema(keyword, i)).collect()
}

fn additional(keyword: &str, v: &Value) -> Result<Additional, QueryError> {
    match v {
        Value::Bool(b) => Ok(Additional::Allowed(*b)),
        Value::Document(d) => Ok(Additional::Schema(Box::new(Schema::compile(d)?))),
        _ => Err(keyword_type_error(keyword, "either an object or a boolean")),
    }
}

impl Schema {
    pub fn compile(doc: &Document) -> Result<Schema, QueryError> {
        let mut s = Schema::default();
        for (k, v) in doc {
            match k.as_str() {
                "bsonType" => {
                    if !matches!(v, Value::String(_) | Value::Array(_)) {
                        return Err(keyword_type_error(
                            k,
                            "either a string or an array of strings",
                        ));
                    }
                    s.bson_types = Some(parse_type_set(k, v)?);
                }
                "type" => {
                    let names: Vec<&Value> = match v {
                        Value::Array(items) => items.iter().collect(),
                        Value::String(_) => vec![v],
                        _ => {
                            return Err(keyword_type_error(
                                k,
                                "either a string or an array of strings",
                            ))
                        }
                    };
                    let mut types = Vec::new();
                    for name in names {
                        let Value::String(name) = name else {
                            return Err(keyword_type_error(
                                k,
                                "either a string or an array of strings",
                            ));
                        };
                        types.push(match name.as_str() {
                            "object" => JsonType::Object,
                            "array" => JsonType::Array,
                            "number" => JsonType::Number,
                            "boolean" => JsonType::Boolean,
                            "string" => JsonType::String,
                            "null" => JsonType::Null,
                            "integer" => {
                                return Err(bad_value(
                                    "$jsonSchema type 'integer' is not currently supported.",
                                ))
                            }
                            other => {
                                return Err(bad_value(format!("Unknown type name alias: {other}")))
                            }
                        });
                    }
                    s.json_types = Some(types);
                }
                "required" => {
                    let Value::Array(items) = v else {
                        return Err(keyword_type_error(k, "an array"));
                    };
                    if items.is_empty() {
                        return Err(failed_to_parse(
                            "$jsonSchema keyword 'required' cannot be an empty array",
                        ));
                    }
                    for item in items {
                        let Value::String(name) = item else {
                            return Err(keyword_type_error(k, "an array of strings"));
                        };
                        s.required.push(name.clone());
                    }
                }
                "properties" => {
                    let Value::Document(props) = v else {
                        return Err(keyword_type_error(k, "an object"));
                    };
                    for (name, sub) in props {
                        s.properties.push((name.clone(), sub_schema(name, sub)?));
                    }
                }
                "patternProperties" => {
                    let Value::Document(props) = v else {
                        return Err(keyword_type_error(k, "an object"));
                    };
                    for (pattern, sub) in props {
                        s.pattern_properties
                            .push((compile_regex(pattern, "")?, sub_schema(pattern, sub)?));
                    }
                }
                "additionalProperties" => s.additional_properties = Some(additional(k, v)?),
                "minProperties" => s.min_properties = Some(count(k, v)?),
                "maxProperties" => s.max_properties = Some(count(k, v)?),
                "enum" => {
                    let Value::Array(items) = v else {
                        return Err(keyword_type_error(k, "an array"));
                    };
                    if items.is_empty() {
                        return Err(failed_to_parse(
                            "$jsonSchema keyword 'enum' cannot be an empty array",
                        ));
                    }
                    s.enumeration = Some(items.clone());
                }
                "minimum" | "maximum" => {
                    if !v.is_number() {
                        return Err(keyword_type_error(k, "a number"));
                    }
                    let exclusive_key = if k == "minimum" {
                        "exclusiveMinimum"
                    } else {
                        "exclusiveMaximum"
                    };
                    let exclusive = matches!(doc.get(exclusive_key), Some(Value::Bool(true)));
                    if k == "minimum" {
                        s.minimum = Some((number_f64(v), exclusive));
                    } else {
                        s.maximum = Some((number_f64(v), exclusive));
                    }
                }
                "exclusiveMinimum" | "exclusiveMaximum" => {
                    if !matches!(v, Value::Bool(_)) {
                        return Err(keyword_type_error(k, "a boolean"));
                    }
                    let base = if k == "exclusiveMinimum" {
                        "minimum"
                    } else {
                        "maximum"
                    };
                    if !doc.contains_key(base) {
                        return Err(failed_to_parse(format!(
                            "$jsonSchema keyword '{base}' must be a present if {k} is present"
                        )));
                    }
                }
                "multipleOf" => {
                    if !v.is_number() {
                        return Err(keyword_type_error(k, "a number"));
                    }
                    let x = number_f64(v);
                    if x <= 0.0 || x.is_nan() {
                        return Err(failed_to_parse(
                            "$jsonSchema keyword 'multipleOf' must have a positive value",
                        ));
                    }
                    s.multiple_of = Some(x);
                }
                "minLength" => s.min_length = Some(count(k, v)?),
                "maxLength" => s.max_length = Some(count(k, v)?),
                "pattern" => {
                    let Value::String(p) = v else {
                        return Err(keyword_type_error(k, "a string"));
                    };
                    s.pattern = Some(compile_regex(p, "")?);
                }
                "items" => {
                    s.items = Some(match v {
                        Value::Document(d) => Items::All(Box::new(Schema::compile(d)?)),
                        Value::Array(_) => Items::Tuple(schema_list(k, v)?),
                        _ => return Err(keyword_type_error(k, "an array or an object")),
                    });
                }
                "additionalItems" => s.additional_items = Some(additional(k, v)?),
                "minItems" => s.min_items = Some(count(k, v)?),
                "maxItems" => s.max_items = Some(count(k, v)?),
                "uniqueItems" => {
                    let Value::Bool(b) = v else {
                        return Err(keyword_type_error(k, "a boolean"));
                    };
                    s.unique_items = *b;
                }
                "allOf" => s.all_of = schema_list(k, v)?,
                "anyOf" => s.any_of = schema_list(k, v)?,
                "oneOf" => s.one_of = schema_list(k, v)?,
                "not" => s.not = Some(Box::new(sub_schema(k, v)?)),
                "dependencies" => {
                    let Value::Document(deps) = v else {
                        return Err(keyword_type_error(k, "an object"));
                    };
                    for (name, dep) in deps {
                        let dep = match dep {
                            Value::Document(d) => Dependency::Schema(Box::new(Schema::compile(d)?)),
                            Value::Array(items) => Dependency::Fields(
                                items
                                    .iter()
                                    .filter_map(|i| match i {
                                        Value::String(s) => Some(s.clone()),
                                        _ => None,
                                    })
                                    .collect(),
                            ),
                            _ => {
                                return Err(failed_to_parse(format!(
                                    "property '{name}' in $jsonSchema keyword 'dependencies' must be either an object or an array"
                                )))
                            }
                        };
                        s.dependencies.push((name.clone(), dep));
                    }
                }
                "description" | "title" => {}
                "$ref" | "$schema" | "default" | "definitions" | "format" | "id" => {
                    return Err(failed_to_parse(format!(
                        "$jsonSchema keyword '{k}' is not currently supported"
                    )))
                }
                other => {
                    return Err(failed_to_parse(format!(
                        "Unknown $jsonSchema keyword: {other}"
                    )))
                }
            }
        }
        Ok(s)
    }

    /// The schema applied to a whole document (the root is an object).
    pub fn matches_root(&self, doc: &Document) -> bool {
        if self.enumeration.is_some() {
            // Rare at the top level; compare the whole document.
            return self.matches(&Value::Document(doc.clone()));
        }
        if let Some(types) = &self.bson_types {
            if !types.contains(&3) {
                return false;
            }
        }
        if let Some(types) = &self.json_types {
            if !types.contains(&JsonType::Object) {
                return false;
            }
        }
        self.object_ok(doc)
            && self.all_of.iter().all(|s| s.matches_root(doc))
            && (self.any_of.is_empty() || self.any_of.iter().any(|s| s.matches_root(doc)))
            && (self.one_of.is_empty()
                || self.one_of.iter().filter(|s| s.matches_root(doc)).count() == 1)
            && !self.not.as_ref().is_some_and(|s| s.matches_root(doc))
    }

    pub fn matches(&self, v: &Value) -> bool {
        if let Some(types) = &self.bson_types {
            if !type_matches(types, v) {
                return false;
            }
        }
        if let Some(types) = &self.json_types {
            let ok = types.iter().any(|t| match t {
                JsonType::Object => matches!(v, Value::Document(_)),
                JsonType::Array => matches!(v, Value::Array(_)),
                JsonType::Number => v.is_number(),
                JsonType::Boolean => matches!(v, Value::Bool(_)),
                JsonType::String => matches!(v, Value::String(_)),
                JsonType::Null => matches!(v, Value::Null),
            });
            if !ok {
                return false;
            }
        }
        if let Some(options) = &self.enumeration {
            if !options.iter().any(|o| values_equal(o, v)) {
                return false;
            }
        }
        match v {
            Value::Document(d) if !self.object_ok(d) => return false,
            Value::Array(items) if !self.array_ok(items) => return false,
            Value::String(s) => {
                let len = s.chars().count();
                if self.min_length.is_some_and(|m| len < m)
                    || self.max_length.is_some_and(|m| len > m)
                    || self.pattern.as_ref().is_some_and(|re| !re.is_match(s))
                {
                    return false;
                }
            }
            n if n.is_number() => {
                let x = number_f64(n);
                if let Some((min, exclusive)) = self.minimum {
                    if x < min || (exclusive && x == min) {
                        return false;
                    }
                }
                if let Some((max, exclusive)) = self.maximum {
                    if x > max || (exclusive && x == max) {
                        return false;
                    }
                }
                if let Some(m) = self.multiple_of {
                    if (x / m).fract() != 0.0 {
                        return false;
                    }
                }
            }
            _ => {}
        }
        self.all_of.iter().all(|s| s.matches(v))
            && (self.any_of.is_empty() || self.any_of.iter().any(|s| s.matches(v)))
            && (self.one_of.is_empty() || self.one_of.iter().filter(|s| s.matches(v)).count() == 1)
            && !self.not.as_ref().is_some_and(|s| s.matches(v))
    }

    fn object_ok(&self, d: &Document) -> bool {
        if self.required.iter().any(|r| !d.contains_key(r)) {
            return false;
        }
        if self.min_properties.is_some_and(|m| d.len() < m)
            || self.max_properties.is_some_and(|m| d.len() > m)
        {
            return false;
        }
        for (name, sub) in &self.properties {
            if let Some(v) = d.get(name) {
                if !sub.matches(v) {
                    return false;
                }
            }
        }
        for (name, value) in d {
            let mut covered = self.properties.iter().any(|(n, _)| n == name);
            for (re, sub) in &self.pattern_properties {
                if re.is_match(name) {
                    covered = true;
                    if !sub.matches(value) {
                        return false;
                    }
                }
            }
            if !covered {
                match &self.additional_properties {
                    Some(Additional::Allowed(false)) => return false,
                    Some(Additional::Schema(s)) if !s.matches(value) => return false,
                    _ => {}
                }
            }
        }
        for (name, dep) in &self.dependencies {
            if d.contains_key(name) {
                let ok = match dep {
                    Dependency::Fields(fields) => fields.iter().all(|f| d.contains_key(f)),
                    Dependency::Schema(s) => s.matches(&Value::Document(d.clone())),
                };
                if !ok {
                    return false;
                }
            }
        }
        true
    }

    fn array_ok(&self, items: &[Value]) -> bool {
        if self.min_items.is_some_and(|m| items.len() < m)
            || self.max_items.is_some_and(|m| items.len() > m)
        {
            return false;
        }
        if self.unique_items {
            for (i, a) in items.iter().enumerate() {
                if items[..i].iter().any(|b| values_equal(a, b)) {
                    return false;
                }
            }
        }
        match &self.items {
            Some(Items::All(s)) => items.iter().all(|i| s.matches(i)),
            Some(Items::Tuple(schemas)) => {
                for (i, item) in items.iter().enumerate() {
                    match schemas.get(i) {
                        Some(s) => {
                            if !s.matches(item) {
                                return false;
                            }
                        }
                        None => match &self.additional_items {
                            Some(Additional::Allowed(false)) => return false,
                            Some(Additional::Schema(s)) if !s.matches(item) => return false,
                            _ => {}
                        },
                    }
                }
                true
            }
            None => true,
        }
    }
}
