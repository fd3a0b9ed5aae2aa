//! JSON documents (the RedisJSON module's `ReJSON-RL` type): the type API, then the JSON.*
//! commands with the module's replies and error texts.
//!
//! A path argument is either a `$`-path, whose reply lists one result per match, or a
//! legacy path (`.a.b`), whose reply is the first match's result alone and which errors
//! when nothing matches (see `json_path`).

use serde_json::Value as JsonValue;

use super::json_path::{self, Insertion, JsonPath, Location, Seg};
use super::Value;
use crate::redis::reply::{self, Reply};
use crate::redis::Server;

/// The name TYPE reports for a JSON document.
pub const TYPE_NAME: &str = "ReJSON-RL";

/// What the module answers for a key holding another type.
const WRONG_KEY_TYPE: &str = "Existing key has wrong Redis type";
const NO_KEY: &str = "ERR could not perform this operation on a key that doesn't exist";
const NOT_INTEGER: &str = "Couldn't parse as integer";

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

/// The name JSON.TYPE gives a value.
pub fn type_of(value: &JsonValue) -> &'static str {
    match value {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "boolean",
        JsonValue::Number(n) if n.is_f64() => "number",
        JsonValue::Number(_) => "integer",
        JsonValue::String(_) => "string",
        JsonValue::Array(_) => "array",
        JsonValue::Object(_) => "object",
    }
}

/// How JSON.GET lays out its text: INDENT, NEWLINE and SPACE, all empty by default.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub indent: String,
    pub newline: String,
    pub space: String,
}

/// The document as JSON.GET prints it with no formatting options.
pub fn to_text(value: &JsonValue) -> String {
    let mut out = String::new();
    write_value(value, &Layout::default(), 0, &mut out);
    out
}

/// Strings escaped and numbers written as the module's serializer writes them (exponents
/// without a `+`: `1e300`, `1.2345678901234567e19`).
fn push_scalar(value: &JsonValue, out: &mut String) {
    let text = serde_json::to_string(value).unwrap_or_default();
    match value {
        JsonValue::Number(n) if n.is_f64() => out.push_str(&text.replace("e+", "e")),
        _ => out.push_str(&text),
    }
}

/// A double as the server's RESP replies spell it (Redis's `fpconv_dtoa`, which follows
/// JavaScript's `Number.prototype.toString`): `1`, `25000000000`, `1e+300`, `1.5e-7`.
pub fn resp_double(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_string();
    }
    // Shortest round-trip digits and exponent, from Rust's `{:e}` (`d.ddde±x`).
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exp + 1;
    let sign = if x < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let e = n - 1;
        let e_sign = if e >= 0 { "+" } else { "-" };
        format!("{first}{rest}e{e_sign}{}", e.abs())
    };
    format!("{sign}{body}")
}

fn write_value(value: &JsonValue, layout: &Layout, level: usize, out: &mut String) {
    let (open, close, len) = match value {
        JsonValue::Array(items) => ('[', ']', items.len()),
        JsonValue::Object(map) => ('{', '}', map.len()),
        _ => return push_scalar(value, out),
    };
    out.push(open);
    if len == 0 {
        out.push(close);
        return;
    }
    let item_lead = |out: &mut String, first: bool| {
        if !first {
            out.push(',');
        }
        out.push_str(&layout.newline);
        for _ in 0..=level {
            out.push_str(&layout.indent);
        }
    };
    match value {
        JsonValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                item_lead(out, i == 0);
                write_value(item, layout, level + 1, out);
            }
        }
        JsonValue::Object(map) => {
            for (i, (key, item)) in map.iter().enumerate() {
                item_lead(out, i == 0);
                push_scalar(&JsonValue::String(key.clone()), out);
                out.push(':');
                out.push_str(&layout.space);
                write_value(item, layout, level + 1, out);
            }
        }
        _ => {}
    }
    out.push_str(&layout.newline);
    for _ in 0..level {
        out.push_str(&layout.indent);
    }
    out.push(close);
}

/// Approximate bytes a document holds, for the keyspace panel and MEMORY-style estimates.
pub fn size_of(value: &JsonValue) -> u64 {
    match value {
        JsonValue::Array(items) => 16 + items.iter().map(size_of).sum::<u64>(),
        JsonValue::Object(map) => {
            16 + map
                .iter()
                .map(|(k, v)| k.len() as u64 + 8 + size_of(v))
                .sum::<u64>()
        }
        JsonValue::String(s) => 8 + s.len() as u64,
        _ => 8,
    }
}

/// A copy of `value` cut to at most `budget` nodes, for the keyspace panel's tree: deep or
/// wide documents show their first members, with `…` standing for the rest.
pub fn preview_tree(value: &JsonValue, budget: usize) -> JsonValue {
    let mut left = budget;
    cut(value, &mut left)
}

fn cut(value: &JsonValue, left: &mut usize) -> JsonValue {
    *left = left.saturating_sub(1);
    match value {
        JsonValue::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                if *left == 0 {
                    out.push(JsonValue::String("…".into()));
                    break;
                }
                out.push(cut(item, left));
            }
            JsonValue::Array(out)
        }
        JsonValue::Object(map) => {
            let mut out = serde_json::Map::new();
            for (key, item) in map {
                if *left == 0 {
                    out.insert("…".into(), JsonValue::Null);
                    break;
                }
                out.insert(key.clone(), cut(item, left));
            }
            JsonValue::Object(out)
        }
        JsonValue::String(s) if s.chars().count() > 120 => {
            JsonValue::String(s.chars().take(120).chain(['…']).collect())
        }
        other => other.clone(),
    }
}

/// Removes the value at `location` (its parent must still hold it). Object members go as
/// the module removes them: the last member moves into the gap.
fn remove_at(root: &mut JsonValue, location: &[Seg]) -> bool {
    let Some((last, parent)) = location.split_last() else {
        return false;
    };
    match (json_path::get_mut(root, parent), last) {
        (Some(JsonValue::Object(map)), Seg::Key(k)) => map.swap_remove(k).is_some(),
        (Some(JsonValue::Array(items)), Seg::Index(i)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// RFC 7396 merge patch, as JSON.MERGE applies it.
fn merge_patch(target: &mut JsonValue, patch: &JsonValue) {
    let JsonValue::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = JsonValue::Object(serde_json::Map::new());
    }
    let JsonValue::Object(map) = target else {
        return;
    };
    for (key, value) in patch_map {
        if value.is_null() {
            map.swap_remove(key);
        } else {
            let slot = map.entry(key.clone()).or_insert(JsonValue::Null);
            merge_patch(slot, value);
        }
    }
}

/// Numbers as the module stores them: integers while both sides are, else doubles. `None`
/// for a value that is not a number, `Err` for a result that is not finite.
fn arithmetic(
    current: &JsonValue,
    by: &serde_json::Number,
    multiply: bool,
) -> Option<Result<JsonValue, ()>> {
    let JsonValue::Number(n) = current else {
        return None;
    };
    if let (Some(a), Some(b)) = (n.as_i64(), by.as_i64()) {
        let result = if multiply {
            a.wrapping_mul(b)
        } else {
            a.wrapping_add(b)
        };
        return Some(Ok(JsonValue::from(result)));
    }
    let (a, b) = (n.as_f64()?, by.as_f64()?);
    let result = if multiply { a * b } else { a + b };
    Some(
        serde_json::Number::from_f64(result)
            .map(JsonValue::Number)
            .ok_or(()),
    )
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

fn wrong_arity(argv: &[Vec<u8>]) -> Reply {
    crate::redis::commands::wrong_arity_for(argv)
}

fn parse_path(arg: &[u8]) -> Result<JsonPath, Reply> {
    let text = std::str::from_utf8(arg).map_err(|_| Reply::err("path must be valid UTF-8"))?;
    JsonPath::parse(text).map_err(Reply::Error)
}

/// The first JSON value in `arg`: like the module, whatever follows it is ignored.
fn parse_json(arg: &[u8]) -> Result<JsonValue, String> {
    use serde::Deserialize;
    let mut reader = serde_json::Deserializer::from_slice(arg);
    JsonValue::deserialize(&mut reader).map_err(|e| e.to_string())
}

/// A JSON argument in a command that names its parse errors with `ERR`.
fn parse_json_arg(arg: &[u8]) -> Result<JsonValue, Reply> {
    parse_json(arg).map_err(Reply::err)
}

fn parse_int(arg: &[u8]) -> Result<i64, Reply> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| reply::error(NOT_INTEGER))
}

/// The document under `key`: `Ok(None)` if there is none, the module's error for another type.
fn lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<Option<&'a mut JsonValue>, Reply> {
    let now = server.now;
    match server.db().get(key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Json(doc) => Ok(Some(doc)),
            _ => Err(reply::error(WRONG_KEY_TYPE)),
        },
    }
}

/// The document under `key`, which a write command needs to exist.
fn lookup_existing<'a>(server: &'a mut Server, key: &[u8]) -> Result<&'a mut JsonValue, Reply> {
    lookup(server, key)?.ok_or_else(|| reply::error(NO_KEY))
}

fn bulk_text(value: &JsonValue) -> Reply {
    Reply::Bulk(to_text(value).into_bytes())
}

fn path_missing(text: &str) -> Reply {
    Reply::err(format!("Path '{text}' does not exist"))
}

/// The path of a `key path ...` command of at least `min` words, after its arity check.
fn required_path(argv: &[Vec<u8>], min: usize) -> Result<JsonPath, Reply> {
    if argv.len() < min {
        return Err(wrong_arity(argv));
    }
    parse_path(&argv[2])
}

/// The path of a `key [path]` command, after its arity check.
fn optional_path(argv: &[Vec<u8>]) -> Result<JsonPath, Reply> {
    if argv.len() < 2 {
        return Err(wrong_arity(argv));
    }
    path_arg(argv, 2)
}

/// The path argument at `index`, `.` (the legacy root) when it is left out.
fn path_arg(argv: &[Vec<u8>], index: usize) -> Result<JsonPath, Reply> {
    match argv.get(index) {
        Some(arg) => parse_path(arg),
        None => parse_path(b"."),
    }
}

/// JSON.SET key path value [NX | XX]
pub fn json_set(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 4 {
        return wrong_arity(argv);
    }
    let (mut nx, mut xx) = (false, false);
    for word in &argv[4..] {
        let flag = if word.eq_ignore_ascii_case(b"NX") {
            &mut nx
        } else if word.eq_ignore_ascii_case(b"XX") {
            &mut xx
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        };
        if *flag {
            return reply::error(reply::SYNTAX_ERROR);
        }
        *flag = true;
    }
    if nx && xx {
        return reply::error(reply::SYNTAX_ERROR);
    }
    let path = match parse_path(&argv[2]) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let value = match parse_json(&argv[3]) {
        Ok(v) => v,
        Err(e) => return Reply::Error(e),
    };
    match set_at(server, &argv[1], &path, value, nx, xx) {
        Ok(true) => Reply::ok(),
        Ok(false) => Reply::Nil,
        Err(e) => e,
    }
}

/// Writes `value` at every match of `path`, or adds it as a new member when the path ends in
/// a member name its parent lacks. False when NX / XX or a missing parent stop it.
fn set_at(
    server: &mut Server,
    key: &[u8],
    path: &JsonPath,
    value: JsonValue,
    nx: bool,
    xx: bool,
) -> Result<bool, Reply> {
    let now = server.now;
    let Some(doc) = lookup(server, key)? else {
        if !path.is_root() {
            return Err(Reply::err("new objects must be created at the root"));
        }
        if xx {
            return Ok(false);
        }
        server.db().set(key, Value::Json(Box::new(value)), now);
        return Ok(true);
    };
    let found = path.locate(doc);
    if !found.is_empty() {
        if nx {
            return Ok(false);
        }
        if found.iter().any(|l| too_deep(l.len(), &value)) {
            return Err(too_deep_error());
        }
        for location in &found {
            if let Some(slot) = json_path::get_mut(doc, location) {
                *slot = value.clone();
            }
        }
        return Ok(true);
    }
    if xx {
        return Ok(false);
    }
    add_member(doc, path, &value)
}

/// Deepest nesting a document may reach. Parsing stops at 128 levels, but values set inside
/// values could otherwise nest without end, and every walk over a document recurses.
const MAX_NESTING: usize = 512;

fn nesting(value: &JsonValue) -> usize {
    match value {
        JsonValue::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        JsonValue::Object(map) => 1 + map.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether `value` written `depth` levels down would nest deeper than `MAX_NESTING`.
fn too_deep(depth: usize, value: &JsonValue) -> bool {
    depth + nesting(value) > MAX_NESTING
}

fn too_deep_error() -> Reply {
    Reply::err(format!(
        "the sandbox keeps JSON documents at most {MAX_NESTING} levels deep"
    ))
}

/// Adds `value` where `path` names a member its parent object lacks. False when no parent
/// object is there; the module's errors for array positions and non-static paths.
fn add_member(doc: &mut JsonValue, path: &JsonPath, value: &JsonValue) -> Result<bool, Reply> {
    let (parent, member) = match path.insertion() {
        Insertion::Member(parent, member) => (parent, member),
        Insertion::ArrayIndex => return Err(Reply::err("array index out of range")),
        Insertion::NotStatic => return Err(reply::error("Err wrong static path")),
    };
    let mut added = false;
    for location in parent.locate(doc) {
        if too_deep(location.len() + 1, value) {
            return Err(too_deep_error());
        }
        if let Some(JsonValue::Object(map)) = json_path::get_mut(doc, &location) {
            map.insert(member.clone(), value.clone());
            added = true;
        }
    }
    Ok(added)
}

/// JSON.GET key [INDENT indent] [NEWLINE newline] [SPACE space] [path ...]
pub fn json_get(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 2 {
        return wrong_arity(argv);
    }
    let mut layout = Layout::default();
    let mut paths = Vec::new();
    let mut i = 2;
    while let Some(word) = argv.get(i) {
        let slot = if word.eq_ignore_ascii_case(b"INDENT") {
            Some(&mut layout.indent)
        } else if word.eq_ignore_ascii_case(b"NEWLINE") {
            Some(&mut layout.newline)
        } else if word.eq_ignore_ascii_case(b"SPACE") {
            Some(&mut layout.space)
        } else {
            None
        };
        match slot {
            Some(slot) => {
                let Some(value) = argv.get(i + 1) else {
                    return wrong_arity(argv);
                };
                *slot = String::from_utf8_lossy(value).into_owned();
                i += 2;
            }
            None => {
                if !word.eq_ignore_ascii_case(b"NOESCAPE") {
                    paths.push(word);
                }
                i += 1;
            }
        }
    }
    let parsed: Result<Vec<JsonPath>, Reply> = if paths.is_empty() {
        parse_path(b".").map(|p| vec![p])
    } else {
        paths.iter().map(|p| parse_path(p)).collect()
    };
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => return e,
    };
    let doc = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(doc)) => doc,
    };
    let render = |value: &JsonValue| {
        let mut out = String::new();
        write_value(value, &layout, 0, &mut out);
        Reply::Bulk(out.into_bytes())
    };
    let matches = |path: &JsonPath| -> JsonValue {
        JsonValue::Array(
            path.locate(doc)
                .iter()
                .filter_map(|l| json_path::get(doc, l).cloned())
                .collect(),
        )
    };
    if let [path] = parsed.as_slice() {
        if !path.legacy {
            return render(&matches(path));
        }
        return match path
            .locate(doc)
            .first()
            .and_then(|l| json_path::get(doc, l))
        {
            Some(value) => render(value),
            None => path_missing(&path.dollar_text),
        };
    }
    let all_legacy = parsed.iter().all(|p| p.legacy);
    let mut object = serde_json::Map::new();
    for (path, text) in parsed.iter().zip(&paths) {
        let name = String::from_utf8_lossy(text).into_owned();
        let value = if all_legacy {
            match path
                .locate(doc)
                .first()
                .and_then(|l| json_path::get(doc, l))
            {
                Some(v) => v.clone(),
                None => return path_missing(&name),
            }
        } else {
            matches(path)
        };
        object.insert(name, value);
    }
    render(&JsonValue::Object(object))
}

/// JSON.MGET key [key ...] path
pub fn json_mget(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some((path_arg, keys)) = argv.split_last().filter(|_| argv.len() >= 3) else {
        return wrong_arity(argv);
    };
    let path = match parse_path(path_arg) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let replies = keys[1..]
        .iter()
        .map(|key| match lookup(server, key) {
            Ok(Some(doc)) => {
                let found = path.locate(doc);
                if path.legacy {
                    found
                        .first()
                        .and_then(|l| json_path::get(doc, l))
                        .map_or(Reply::Nil, bulk_text)
                } else {
                    let values: Vec<JsonValue> = found
                        .iter()
                        .filter_map(|l| json_path::get(doc, l).cloned())
                        .collect();
                    bulk_text(&JsonValue::Array(values))
                }
            }
            _ => Reply::Nil,
        })
        .collect();
    Reply::Array(replies)
}

/// JSON.MSET key path value [key path value ...]
pub fn json_mset(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 4 || !(argv.len() - 1).is_multiple_of(3) {
        return wrong_arity(argv);
    }
    let mut writes = Vec::new();
    for triple in argv[1..].chunks_exact(3) {
        let path = match parse_path(&triple[1]) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let value = match parse_json(&triple[2]) {
            Ok(v) => v,
            Err(e) => return Reply::Error(e),
        };
        writes.push((&triple[0], path, value));
    }
    for (key, path, value) in writes {
        if let Err(e) = set_at(server, key, &path, value, false, false) {
            return e;
        }
    }
    Reply::ok()
}

/// JSON.DEL key [path] (and JSON.FORGET)
pub fn json_del(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match optional_path(argv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let key = &argv[1];
    let doc = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Integer(0),
        Ok(Some(doc)) => doc,
    };
    if path.is_root() {
        server.db().remove(key);
        return Reply::Integer(1);
    }
    let mut found = path.locate(doc);
    crate::sort::sort(&mut found);
    found.dedup();
    // A match inside another match goes with it.
    let outermost: Vec<Location> = found
        .iter()
        .filter(|l| !found.iter().any(|o| o.len() < l.len() && l.starts_with(o)))
        .cloned()
        .collect();
    let removed = outermost.iter().rev().filter(|l| remove_at(doc, l)).count();
    Reply::Integer(removed as i64)
}

/// JSON.TYPE key [path]
pub fn json_type(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    per_match_read(
        server,
        argv,
        |v| Reply::Bulk(type_of(v).as_bytes().to_vec()),
        LegacyMiss::Nil,
    )
}

/// What a read command answers for a legacy path that matches nothing.
#[derive(Clone, Copy)]
enum LegacyMiss {
    Nil,
    /// `ERR Path '$.x' does not exist`.
    Error,
}

/// A read command (JSON.TYPE, JSON.RESP): one reply per match, nil for a missing key.
fn per_match_read(
    server: &mut Server,
    argv: &[Vec<u8>],
    read: impl Fn(&JsonValue) -> Reply,
    miss: LegacyMiss,
) -> Reply {
    let path = match optional_path(argv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let doc = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(doc)) => doc,
    };
    let found = path.locate(doc);
    let mut values = found.iter().filter_map(|l| json_path::get(doc, l));
    if path.legacy {
        return match (values.next(), miss) {
            (Some(v), _) => read(v),
            (None, LegacyMiss::Nil) => Reply::Nil,
            (None, LegacyMiss::Error) => path_missing(&path.dollar_text),
        };
    }
    Reply::Array(values.map(read).collect())
}

/// JSON.RESP key [path]
pub fn json_resp(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    per_match_read(server, argv, resp_of, LegacyMiss::Error)
}

fn resp_of(value: &JsonValue) -> Reply {
    match value {
        JsonValue::Null => Reply::Nil,
        JsonValue::Bool(b) => Reply::static_status(if *b { "true" } else { "false" }),
        JsonValue::Number(n) => match n.as_i64() {
            Some(i) => Reply::Integer(i),
            None => Reply::Bulk(resp_double(n.as_f64().unwrap_or(0.0)).into_bytes()),
        },
        JsonValue::String(s) => Reply::Bulk(s.clone().into_bytes()),
        JsonValue::Array(items) => Reply::Array(
            std::iter::once(Reply::static_status("["))
                .chain(items.iter().map(resp_of))
                .collect(),
        ),
        JsonValue::Object(map) => Reply::Array(
            std::iter::once(Reply::static_status("{"))
                .chain(
                    map.iter()
                        .flat_map(|(k, v)| [Reply::Bulk(k.clone().into_bytes()), resp_of(v)]),
                )
                .collect(),
        ),
    }
}

/// Applies `change` to every match of `path` in the document under `key` (which must
/// exist), returning one result per match (`None` where the match has the wrong type).
fn update_each<T>(
    server: &mut Server,
    key: &[u8],
    path: &JsonPath,
    mut change: impl FnMut(&mut JsonValue) -> Option<T>,
) -> Result<Vec<Option<T>>, Reply> {
    let doc = lookup_existing(server, key)?;
    let found = path.locate(doc);
    Ok(found
        .iter()
        .map(|l| json_path::get_mut(doc, l).and_then(&mut change))
        .collect())
}

/// The reply of a command whose results are integers: one per match (nil where the type is
/// wrong) for a `$`-path; for a legacy path the last result, or `legacy_error`.
fn integers(
    path: &JsonPath,
    results: Vec<Option<i64>>,
    legacy_error: impl FnOnce() -> Reply,
) -> Reply {
    if path.legacy {
        return match results.into_iter().flatten().last() {
            Some(n) => Reply::Integer(n),
            None => legacy_error(),
        };
    }
    Reply::Array(
        results
            .into_iter()
            .map(|r| r.map_or(Reply::Nil, Reply::Integer))
            .collect(),
    )
}

fn not_a(path: &JsonPath, what: &str) -> Reply {
    Reply::err(format!(
        "Path '{}' does not exist or not {what}",
        path.dollar_text
    ))
}

fn type_name_in_errors(value: &JsonValue) -> &'static str {
    match value {
        JsonValue::Number(n) if !n.is_f64() => "integer",
        JsonValue::Number(_) => "number",
        other => type_of(other),
    }
}

fn num_op(server: &mut Server, argv: &[Vec<u8>], multiply: bool) -> Reply {
    if argv.len() != 4 {
        return wrong_arity(argv);
    }
    let path = match parse_path(&argv[2]) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let by = match parse_json_arg(&argv[3]) {
        Ok(JsonValue::Number(n)) => n,
        Ok(_) => return reply::error("bad input number"),
        Err(e) => return e,
    };
    let mut overflow = false;
    let results = match update_each(server, &argv[1], &path, |slot| {
        let result = arithmetic(slot, &by, multiply);
        match &result {
            Some(Ok(v)) => *slot = v.clone(),
            Some(Err(())) => overflow = true,
            None => {}
        }
        result.and_then(Result::ok)
    }) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if overflow {
        return Reply::err("result is not a number");
    }
    if path.legacy {
        return match results.into_iter().flatten().last() {
            Some(v) => bulk_text(&v),
            None => Reply::err(format!(
                "Path '{}' does not exist or does not contains a number",
                path.dollar_text
            )),
        };
    }
    let list = results
        .into_iter()
        .map(|r| r.unwrap_or(JsonValue::Null))
        .collect();
    bulk_text(&JsonValue::Array(list))
}

/// JSON.NUMINCRBY key path value
pub fn json_numincrby(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    num_op(server, argv, false)
}

/// JSON.NUMMULTBY key path value
pub fn json_nummultby(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    num_op(server, argv, true)
}

/// JSON.STRAPPEND key [path] value
pub fn json_strappend(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 3 {
        return wrong_arity(argv);
    }
    let (path, value) = if argv.len() == 3 {
        (path_arg(argv, 3), &argv[2])
    } else {
        (path_arg(argv, 2), &argv[3])
    };
    let path = match path {
        Ok(p) => p,
        Err(e) => return e,
    };
    let suffix = match parse_json_arg(value) {
        Ok(JsonValue::String(s)) => s,
        Ok(_) => {
            return Reply::Error(format!(
                "WRONGTYPE wrong type of path value - expected string but found {}",
                String::from_utf8_lossy(value)
            ))
        }
        Err(e) => return e,
    };
    match update_each(server, &argv[1], &path, |slot| match slot {
        JsonValue::String(s) => {
            s.push_str(&suffix);
            Some(s.len() as i64)
        }
        _ => None,
    }) {
        Ok(results) => integers(&path, results, || not_a(&path, "a string")),
        Err(e) => e,
    }
}

/// How a read command (STRLEN, OBJLEN, OBJKEYS, ARRLEN, ARRINDEX) answers what it cannot
/// read: each words these differently in the module.
struct ReadErrors {
    /// The key does not exist (given the path and the path as written).
    missing_key: fn(&JsonPath, &str) -> Reply,
    /// A legacy path matches nothing.
    no_match: fn(&JsonPath, &str) -> Reply,
    /// A legacy path's first match has the wrong type (given that match).
    wrong_type: fn(&JsonPath, &str, &JsonValue) -> Reply,
}

fn nil_if_legacy(path: &JsonPath, _: &str) -> Reply {
    if path.legacy {
        Reply::Nil
    } else {
        reply::error(NO_KEY)
    }
}

fn nil(_: &JsonPath, _: &str) -> Reply {
    Reply::Nil
}

fn missing_as_converted(path: &JsonPath, _: &str) -> Reply {
    path_missing(&path.dollar_text)
}

fn missing_as_written(_: &JsonPath, written: &str) -> Reply {
    path_missing(written)
}

fn wrong_type_error(expected: &str, found: &JsonValue) -> Reply {
    Reply::Error(format!(
        "WRONGTYPE wrong type of path value - expected {expected} but found {}",
        type_name_in_errors(found)
    ))
}

/// One reply per match (`read` gives `None` where the type is wrong, answered nil); for a
/// legacy path, the first match's reply alone.
fn read_command(
    server: &mut Server,
    argv: &[Vec<u8>],
    path: &JsonPath,
    read: impl Fn(&JsonValue) -> Option<Reply>,
    errors: &ReadErrors,
) -> Reply {
    let written = argv.get(2).map_or_else(
        || ".".to_string(),
        |p| String::from_utf8_lossy(p).into_owned(),
    );
    let doc = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return (errors.missing_key)(path, &written),
        Ok(Some(doc)) => doc,
    };
    let found = path.locate(doc);
    let mut values = found.iter().filter_map(|l| json_path::get(doc, l));
    if path.legacy {
        return match values.next() {
            None => (errors.no_match)(path, &written),
            Some(v) => read(v).unwrap_or_else(|| (errors.wrong_type)(path, &written, v)),
        };
    }
    Reply::Array(values.map(|v| read(v).unwrap_or(Reply::Nil)).collect())
}

/// JSON.STRLEN key [path]
pub fn json_strlen(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match optional_path(argv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let read = |v: &JsonValue| v.as_str().map(|s| Reply::Integer(s.len() as i64));
    let errors = ReadErrors {
        missing_key: nil_if_legacy,
        no_match: missing_as_converted,
        wrong_type: |_, _, v| wrong_type_error("string", v),
    };
    read_command(server, argv, &path, read, &errors)
}

/// JSON.OBJLEN key [path]
pub fn json_objlen(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match optional_path(argv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let read = |v: &JsonValue| v.as_object().map(|m| Reply::Integer(m.len() as i64));
    let errors = ReadErrors {
        missing_key: |path, _| {
            if path.legacy {
                Reply::Nil
            } else {
                not_a(path, "an object")
            }
        },
        no_match: nil,
        wrong_type: |_, _, v| wrong_type_error("object", v),
    };
    read_command(server, argv, &path, read, &errors)
}

/// JSON.ARRLEN key [path]
pub fn json_arrlen(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match optional_path(argv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let read = |v: &JsonValue| v.as_array().map(|a| Reply::Integer(a.len() as i64));
    let errors = ReadErrors {
        missing_key: nil_if_legacy,
        no_match: missing_as_written,
        wrong_type: |_, written, _| not_an_array_as_written(written),
    };
    read_command(server, argv, &path, read, &errors)
}

/// JSON.ARRAPPEND and JSON.ARRLEN quote a legacy path as it was written.
fn not_an_array_as_written(written: &str) -> Reply {
    Reply::err(format!("Path '{written}' does not exist or not an array"))
}

/// The values of ARRAPPEND and ARRINSERT, whose parse errors carry no `ERR`.
fn parse_values(args: &[Vec<u8>]) -> Result<Vec<JsonValue>, Reply> {
    args.iter()
        .map(|a| parse_json(a).map_err(Reply::Error))
        .collect()
}

/// JSON.ARRAPPEND key path value [value ...]
pub fn json_arrappend(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match required_path(argv, 4) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let values = match parse_values(&argv[3..]) {
        Ok(v) => v,
        Err(e) => return e,
    };
    match update_each(server, &argv[1], &path, |slot| {
        let items = slot.as_array_mut()?;
        items.extend(values.iter().cloned());
        Some(items.len() as i64)
    }) {
        Ok(results) => integers(&path, results, || {
            not_an_array_as_written(&String::from_utf8_lossy(&argv[2]))
        }),
        Err(e) => e,
    }
}

/// JSON.ARRINDEX key path value [start [stop]]
pub fn json_arrindex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if !(4..=6).contains(&argv.len()) {
        return wrong_arity(argv);
    }
    let path = match parse_path(&argv[2]) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let wanted = match parse_json_arg(&argv[3]) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let bound = |i: usize| argv.get(i).map_or(Ok(0), |a| parse_int(a));
    let (start, stop) = match (bound(4), bound(5)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let search = |v: &JsonValue| {
        let items = v.as_array()?;
        let len = items.len() as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start.min(len)
        };
        let stop = if stop == 0 || stop > len {
            len
        } else if stop < 0 {
            (len + stop).max(0)
        } else {
            stop
        };
        let hit = items
            .get(start as usize..stop as usize)
            .and_then(|window| window.iter().position(|item| *item == wanted));
        Some(Reply::Integer(hit.map_or(-1, |i| i as i64 + start)))
    };
    let errors = ReadErrors {
        missing_key: |path, written| {
            path_missing(if path.legacy {
                written
            } else {
                &path.dollar_text
            })
        },
        no_match: missing_as_converted,
        wrong_type: |_, _, v| wrong_type_error("array", v),
    };
    read_command(server, argv, &path, search, &errors)
}

/// JSON.ARRINSERT key path index value [value ...]
pub fn json_arrinsert(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match required_path(argv, 5) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let index = match parse_int(&argv[3]) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let values = match parse_values(&argv[4..]) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut out_of_bounds = false;
    let results = update_each(server, &argv[1], &path, |slot| {
        let items = slot.as_array_mut()?;
        let len = items.len() as i64;
        let at = if index < 0 { len + index } else { index };
        if !(0..=len).contains(&at) {
            out_of_bounds = true;
            return None;
        }
        let at = at as usize;
        items.splice(at..at, values.iter().cloned());
        Some(items.len() as i64)
    });
    if out_of_bounds {
        return Reply::err("index out of bounds");
    }
    match results {
        Ok(results) => integers(&path, results, || not_a(&path, "an array")),
        Err(e) => e,
    }
}

/// JSON.ARRPOP key [path [index]]
pub fn json_arrpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match optional_path(argv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    // The module reads an index it cannot parse as the default, the last element.
    let index = argv.get(3).and_then(|a| parse_int(a).ok()).unwrap_or(-1);
    let results = match update_each(server, &argv[1], &path, |slot| {
        let items = slot.as_array_mut()?;
        if items.is_empty() {
            return Some(None);
        }
        let len = items.len() as i64;
        let at = if index < 0 {
            (len + index).max(0)
        } else {
            index.min(len - 1)
        };
        Some(Some(items.remove(at as usize)))
    }) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let popped = |r: Option<JsonValue>| r.as_ref().map_or(Reply::Nil, bulk_text);
    if path.legacy {
        return match results.into_iter().flatten().last() {
            Some(r) => popped(r),
            None => not_a(&path, "an array"),
        };
    }
    Reply::Array(results.into_iter().map(|r| popped(r.flatten())).collect())
}

/// JSON.ARRTRIM key path start stop
pub fn json_arrtrim(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() != 5 {
        return wrong_arity(argv);
    }
    let path = match parse_path(&argv[2]) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let (start, stop) = match (parse_int(&argv[3]), parse_int(&argv[4])) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match update_each(server, &argv[1], &path, |slot| {
        let items = slot.as_array_mut()?;
        let len = items.len() as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let stop = if stop < 0 {
            (len + stop).max(0)
        } else {
            stop.min(len - 1)
        };
        if start >= len || start > stop {
            items.clear();
        } else {
            items.truncate(stop as usize + 1);
            items.drain(..start as usize);
        }
        Some(items.len() as i64)
    }) {
        Ok(results) => integers(&path, results, || not_a(&path, "an array")),
        Err(e) => e,
    }
}

/// JSON.OBJKEYS key [path]
pub fn json_objkeys(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match optional_path(argv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let keys = |v: &JsonValue| {
        v.as_object().map(|m| {
            Reply::Array(
                m.keys()
                    .map(|k| Reply::Bulk(k.clone().into_bytes()))
                    .collect(),
            )
        })
    };
    let errors = ReadErrors {
        missing_key: nil_if_legacy,
        no_match: nil,
        wrong_type: |path, _, _| not_a(path, "an object"),
    };
    read_command(server, argv, &path, keys, &errors)
}

/// JSON.TOGGLE key path
pub fn json_toggle(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match required_path(argv, 3) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let results = match update_each(server, &argv[1], &path, |slot| match slot {
        JsonValue::Bool(b) => {
            *b = !*b;
            Some(*b)
        }
        _ => None,
    }) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if path.legacy {
        return match results.into_iter().flatten().last() {
            Some(b) => Reply::bulk(if b { "true" } else { "false" }),
            None => not_a(&path, "a bool"),
        };
    }
    integers(
        &path,
        results.into_iter().map(|r| r.map(i64::from)).collect(),
        || Reply::Nil,
    )
}

/// JSON.CLEAR key [path]
pub fn json_clear(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match optional_path(argv) {
        Ok(p) => p,
        Err(e) => return e,
    };
    // Only values that change count: empty containers and zeros stay as they are.
    match update_each(server, &argv[1], &path, |slot| match slot {
        JsonValue::Array(items) if !items.is_empty() => {
            items.clear();
            Some(())
        }
        JsonValue::Object(map) if !map.is_empty() => {
            map.clear();
            Some(())
        }
        JsonValue::Number(n) if n.as_f64() != Some(0.0) => {
            *slot = JsonValue::from(0);
            Some(())
        }
        _ => None,
    }) {
        Ok(results) => Reply::Integer(results.into_iter().flatten().count() as i64),
        Err(e) => e,
    }
}

/// JSON.MERGE key path value
pub fn json_merge(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let path = match required_path(argv, 4) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let patch = match parse_json(&argv[3]) {
        Ok(v) => v,
        Err(e) => return Reply::Error(e),
    };
    let now = server.now;
    let doc = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(Some(doc)) => doc,
        Ok(None) => {
            if !path.is_root() {
                return Reply::err("new objects must be created at the root");
            }
            let mut fresh = JsonValue::Null;
            merge_patch(&mut fresh, &patch);
            server.db().set(&argv[1], Value::Json(Box::new(fresh)), now);
            return Reply::ok();
        }
    };
    let found = path.locate(doc);
    if found.is_empty() {
        let mut fresh = JsonValue::Null;
        merge_patch(&mut fresh, &patch);
        return match add_member(doc, &path, &fresh) {
            Ok(true) => Reply::ok(),
            Ok(false) => Reply::Nil,
            Err(e) => e,
        };
    }
    if found.iter().any(|l| too_deep(l.len(), &patch)) {
        return too_deep_error();
    }
    for location in &found {
        if let Some(slot) = json_path::get_mut(doc, location) {
            merge_patch(slot, &patch);
        }
    }
    Reply::ok()
}

/// Bytes RedisJSON reports a value holds (its `get_memory_occupied` over ijson values): 8 for
/// the value itself, plus 4 or 16 for numbers outside ijson's inline range (16 for every
/// double), a string's bytes, and for a non-empty array or object a table of 2 or 3 words per
/// slot plus 2, over a capacity that grows by doubling from 4. The module keeps a container's
/// capacity when it shrinks; the sandbox recomputes it from the length (see
/// known-differences.md).
pub fn module_memory(value: &JsonValue) -> u64 {
    let capacity = |len: usize| len.max(4).next_power_of_two() as u64;
    8 + match value {
        JsonValue::Null | JsonValue::Bool(_) => 0,
        JsonValue::Number(n) => match n.as_i64() {
            Some(i) if n.is_i64() && (-128..=383).contains(&i) => 0,
            Some(i) if n.is_i64() && (-8_388_607..=8_388_607).contains(&i) => 4,
            _ => 16,
        },
        JsonValue::String(s) => s.len() as u64,
        JsonValue::Array(items) if items.is_empty() => 0,
        JsonValue::Array(items) => {
            8 * (capacity(items.len()) + 2) + items.iter().map(module_memory).sum::<u64>()
        }
        JsonValue::Object(map) if map.is_empty() => 0,
        JsonValue::Object(map) => {
            8 * (3 * capacity(map.len()) + 2)
                + map
                    .iter()
                    .map(|(k, v)| k.len() as u64 + module_memory(v))
                    .sum::<u64>()
        }
    }
}

/// JSON.DEBUG MEMORY key [path] | JSON.DEBUG HELP
pub fn json_debug(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(sub) = argv.get(1) else {
        return wrong_arity(argv);
    };
    if sub.eq_ignore_ascii_case(b"HELP") {
        return Reply::Array(vec![
            Reply::bulk("MEMORY <key> [path] - reports memory usage"),
            Reply::bulk("HELP                - this message"),
        ]);
    }
    if !sub.eq_ignore_ascii_case(b"MEMORY") {
        return Reply::err("unknown subcommand - try `JSON.DEBUG HELP`");
    }
    let Some(key) = argv.get(2) else {
        return wrong_arity(argv);
    };
    let path = match path_arg(argv, 3) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let doc = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) if path.legacy => return Reply::Integer(0),
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(doc)) => doc,
    };
    let found = path.locate(doc);
    let mut sizes = found
        .iter()
        .filter_map(|l| json_path::get(doc, l))
        .map(|v| Reply::Integer(module_memory(v) as i64));
    if path.legacy {
        return sizes
            .next()
            .unwrap_or_else(|| path_missing(&path.dollar_text));
    }
    Reply::Array(sizes.collect())
}

#[cfg(test)]
mod tests {
    use super::{module_memory, JsonValue};
    use crate::redis::cli::split_args;
    use crate::redis::Server;

    fn run(server: &mut Server, line: &str) -> String {
        let argv = split_args(line).unwrap();
        server.execute(&argv, 0).to_cli_text()
    }

    #[test]
    fn documents_are_a_redis_type() {
        let mut s = Server::new();
        let cases = [
            (r#"JSON.SET doc $ '{"a":1,"b":[1,2]}'"#, "OK\n"),
            ("TYPE doc", "ReJSON-RL\n"),
            ("OBJECT ENCODING doc", "\"raw\"\n"),
            ("COPY doc other", "(integer) 1\n"),
            ("RENAME other third", "OK\n"),
            ("JSON.GET third $.b", "\"[[1,2]]\"\n"),
            (
                "GET doc",
                "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n",
            ),
            ("SET s v", "OK\n"),
            ("JSON.GET s", "(error) Existing key has wrong Redis type\n"),
            ("PEXPIRE doc 10", "(integer) 1\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(run(&mut s, line), expected, "{line}");
        }
        let argv = split_args("EXISTS doc").unwrap();
        assert_eq!(s.execute(&argv, 10), crate::redis::reply::Reply::Integer(0));
    }

    #[test]
    fn documents_cannot_nest_without_end() {
        let mut s = Server::new();
        run(&mut s, "JSON.SET d $ 1");
        let deep = "[".repeat(100) + &"]".repeat(100);
        let mut path = String::from("$");
        let mut refused = None;
        for i in 0..10 {
            let reply = run(&mut s, &format!("JSON.SET d {path} '{deep}'"));
            if reply.starts_with("(error)") {
                refused = Some((i, reply));
                break;
            }
            path.push_str(&"[0]".repeat(99));
        }
        let (at, reply) = refused.expect("a limit");
        assert_eq!(at, 5, "512 levels hold five 100-level values");
        assert_eq!(
            reply,
            "(error) ERR the sandbox keeps JSON documents at most 512 levels deep\n"
        );
        assert!(run(&mut s, "JSON.GET d").starts_with('"'));
    }

    #[test]
    fn layout_options_shape_the_text() {
        let mut s = Server::new();
        run(&mut s, r#"JSON.SET d $ '{"a":[],"b":{"c":1}}'"#);
        let cases = [
            ("JSON.GET d", r#""{\"a\":[],\"b\":{\"c\":1}}""#),
            (
                "JSON.GET d INDENT x NEWLINE N SPACE _ .",
                r#""{Nx\"a\":_[],Nx\"b\":_{Nxx\"c\":_1Nx}N}""#,
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(run(&mut s, line), format!("{expected}\n"), "{line}");
        }
    }

    #[test]
    fn debug_memory_counts_as_the_module_does() {
        for (json, bytes) in [
            ("null", 8),
            ("383", 8),
            ("384", 12),
            ("-8388608", 24),
            ("1.0", 24),
            ("\"ab\"", 10),
            ("[]", 8),
            ("[1]", 64),
            ("[1,2,3,4,5]", 128),
            ("{\"a\":1}", 129),
            ("{\"a\":[1,2,3],\"b\":{\"c\":\"xyz\",\"d\":[]}}", 343),
        ] {
            let value: JsonValue = serde_json::from_str(json).unwrap();
            assert_eq!(module_memory(&value), bytes, "{json}");
        }
    }
}
