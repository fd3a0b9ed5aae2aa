//! `$search` over a `search` index: the index's mappings (static and dynamic), Lucene's
//! analyzers as Atlas names them, and the common operators with their scores.
//!
//! Scores follow Lucene's BM25 (k1 = 1.2, b = 0.75, field lengths rounded as Lucene's norms
//! round them, single-precision arithmetic). Term and phrase scores are Lucene's formulas; a
//! fuzzy match scores as the matched term, an autocomplete match as its gram, and a phrase
//! with slop as a phrase; `equals`, `range` and `exists` score 1. Results are ordered by
//! score (ties in collection order), so the order follows the scores; the last digits of a
//! score may differ from Atlas's where Lucene's rewrites differ from these.
//!
//! Analyzers: `lucene.standard` (the default: Unicode word tokens, lower-cased, no stop
//! words, no stemming), `lucene.english` (the same, then English stop words, possessives
//! dropped and Snowball English stemming, the project's `index::stem`), `lucene.simple`
//! (letters only, lower-cased), `lucene.whitespace` (split on spaces, case kept) and
//! `lucene.keyword` (the whole value as one token). Other analyzers are refused.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::postings::{FieldIndex, Source};
use super::{integer, number, SearchError};
use crate::mongo::index::RecordId;
use crate::mongo::store::Collection;
use crate::mongo::value::{compare, values_equal, Document, Value};

/// Where a pipeline keeps a document's search score between stages.
pub const SCORE_FIELD: &str = "$__searchScore";

// ---- analyzers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analyzer {
    Standard,
    English,
    Simple,
    Whitespace,
    Keyword,
}

/// Lucene's English stop words (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`).
const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// Lucene's StandardTokenizer drops longer tokens.
const MAX_TOKEN_LEN: usize = 255;

impl Analyzer {
    fn parse(v: &Value, at: &str) -> Result<Analyzer, SearchError> {
        match v {
            Value::String(s) => match s.as_str() {
                "lucene.standard" => Ok(Analyzer::Standard),
                "lucene.english" => Ok(Analyzer::English),
                "lucene.simple" => Ok(Analyzer::Simple),
                "lucene.whitespace" => Ok(Analyzer::Whitespace),
                "lucene.keyword" => Ok(Analyzer::Keyword),
                other => Err(SearchError::bad_value(format!(
                    "\"{at}\" analyzer {other} is not available in this sandbox (it has lucene.standard, lucene.english, lucene.simple, lucene.whitespace and lucene.keyword)"
                ))),
            },
            _ => Err(SearchError::bad_value(format!("\"{at}\" must be a string"))),
        }
    }

    /// The tokens of `text`, in order (a token's index is its position).
    pub fn tokens(self, text: &str) -> Vec<String> {
        match self {
            Analyzer::Keyword => vec![text.to_string()],
            Analyzer::Whitespace => text.split_whitespace().map(str::to_string).collect(),
            Analyzer::Simple => text
                .split(|c: char| !c.is_alphabetic())
                .filter(|t| !t.is_empty())
                .map(str::to_lowercase)
                .collect(),
            Analyzer::Standard => standard_tokens(text),
            Analyzer::English => standard_tokens(text)
                .into_iter()
                .map(
                    |t| match t.strip_suffix("'s").or_else(|| t.strip_suffix("’s")) {
                        Some(s) => s.to_string(),
                        None => t,
                    },
                )
                .filter(|t| ENGLISH_STOP_WORDS.binary_search(&t.as_str()).is_err())
                .map(|t| crate::mongo::index::stem::stem(&t))
                .collect(),
        }
    }
}

/// Word tokens as Unicode's word-break rules (UAX #29, what Lucene's StandardTokenizer
/// follows) give them for common text: letters, digits and `_`, kept together across a
/// single `'` or `.` between two of them (`don't`, `u.s.a`, `3.5`), lower-cased.
fn standard_tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if word(c) {
            cur.extend(c.to_lowercase());
        } else if (c == '\'' || c == '’' || c == '.')
            && !cur.is_empty()
            && chars.get(i + 1).is_some_and(|&n| word(n))
        {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|t| t.chars().count() <= MAX_TOKEN_LEN);
    out
}

// ---- mappings

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokenization {
    EdgeGram,
    RightEdgeGram,
    NGram,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    String {
        analyzer: Option<Analyzer>,
        search_analyzer: Option<Analyzer>,
        multi: Vec<(String, Analyzer)>,
    },
    Autocomplete {
        analyzer: Analyzer,
        min: usize,
        max: usize,
        tokenization: Tokenization,
    },
    Token,
    Number,
    Date,
    Boolean,
    ObjectId,
    Document,
    /// A type the sandbox accepts in a definition but does not search (geo, embedded
    /// documents, vectors in a search index, …).
    Other,
}

/// A search index's `mappings`, flattened to dotted paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Mappings {
    /// `dynamic` of the root and of every `document` field that sets it.
    dynamic: BTreeMap<String, bool>,
    fields: BTreeMap<String, Vec<FieldType>>,
    analyzer: Analyzer,
    search_analyzer: Analyzer,
}

fn bad(at: &str, what: &str) -> SearchError {
    SearchError::bad_value(format!("\"{at}\" {what}"))
}

impl Mappings {
    pub fn parse(def: &Document) -> Result<Mappings, SearchError> {
        for k in def.keys() {
            if !matches!(
                k.as_str(),
                "mappings"
                    | "analyzer"
                    | "searchAnalyzer"
                    | "analyzers"
                    | "storedSource"
                    | "synonyms"
                    | "numPartitions"
            ) {
                return Err(SearchError::bad_value(format!(
                    "unrecognized field \"{k}\""
                )));
            }
        }
        let analyzer = match def.get("analyzer") {
            Some(v) => Analyzer::parse(v, "analyzer")?,
            None => Analyzer::Standard,
        };
        let search_analyzer = match def.get("searchAnalyzer") {
            Some(v) => Analyzer::parse(v, "searchAnalyzer")?,
            None => analyzer,
        };
        let mappings = match def.get("mappings") {
            Some(Value::Document(m)) => m,
            None | Some(Value::Null) => return Err(bad("mappings", "is required")),
            Some(_) => return Err(bad("mappings", "must be a document")),
        };
        let mut out = Mappings {
            dynamic: BTreeMap::new(),
            fields: BTreeMap::new(),
            analyzer,
            search_analyzer,
        };
        out.parse_level(mappings, "", "mappings")?;
        Ok(out)
    }

    fn parse_level(&mut self, m: &Document, prefix: &str, at: &str) -> Result<(), SearchError> {
        match m.get("dynamic") {
            None => {
                self.dynamic.insert(prefix.to_string(), false);
            }
            Some(Value::Bool(b)) => {
                self.dynamic.insert(prefix.to_string(), *b);
            }
            // `dynamic: {typeSet: …}` indexes what the type set names; read as `true`.
            Some(Value::Document(_)) => {
                self.dynamic.insert(prefix.to_string(), true);
            }
            Some(_) => return Err(bad(&format!("{at}.dynamic"), "must be a boolean")),
        }
        let fields = match m.get("fields") {
            None => return Ok(()),
            Some(Value::Document(f)) => f,
            Some(_) => return Err(bad(&format!("{at}.fields"), "must be a document")),
        };
        for (name, spec) in fields {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let here = format!("{at}.fields.{name}");
            let specs: Vec<&Value> = match spec {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for (i, s) in specs.into_iter().enumerate() {
                let at_i = if matches!(spec, Value::Array(_)) {
                    format!("{here}[{i}]")
                } else {
                    here.clone()
                };
                let Value::Document(s) = s else {
                    return Err(bad(&at_i, "must be a document"));
                };
                let ty = self.parse_field(s, &path, &at_i)?;
                self.fields.entry(path.clone()).or_default().push(ty);
            }
        }
        Ok(())
    }

    fn parse_field(
        &mut self,
        s: &Document,
        path: &str,
        at: &str,
    ) -> Result<FieldType, SearchError> {
        let analyzer = |k: &str| -> Result<Option<Analyzer>, SearchError> {
            s.get(k)
                .map(|v| Analyzer::parse(v, &format!("{at}.{k}")))
                .transpose()
        };
        let ty = match s.get("type") {
            Some(Value::String(t)) => t.as_str(),
            None | Some(Value::Null) => return Err(bad(&format!("{at}.type"), "is required")),
            Some(_) => return Err(bad(&format!("{at}.type"), "must be a string")),
        };
        Ok(match ty {
            "string" => {
                let mut multi = Vec::new();
                if let Some(Value::Document(m)) = s.get("multi") {
                    for (name, sub) in m {
                        let a = match sub {
                            Value::Document(d) => match d.get("analyzer") {
                                Some(v) => {
                                    Analyzer::parse(v, &format!("{at}.multi.{name}.analyzer"))?
                                }
                                None => self.analyzer,
                            },
                            _ => {
                                return Err(bad(
                                    &format!("{at}.multi.{name}"),
                                    "must be a document",
                                ))
                            }
                        };
                        multi.push((name.clone(), a));
                    }
                }
                FieldType::String {
                    analyzer: analyzer("analyzer")?,
                    search_analyzer: analyzer("searchAnalyzer")?,
                    multi,
                }
            }
            "autocomplete" => {
                let grams = |k: &str, default: i64| -> Result<usize, SearchError> {
                    match s.get(k) {
                        None => Ok(default as usize),
                        Some(v) => match integer(v) {
                            Some(n) if n >= 1 => Ok(n as usize),
                            _ => Err(bad(&format!("{at}.{k}"), "must be a positive integer")),
                        },
                    }
                };
                let (min, max) = (grams("minGrams", 2)?, grams("maxGrams", 15)?);
                if min > max {
                    return Err(bad(
                        &format!("{at}.minGrams"),
                        "must be less than or equal to maxGrams",
                    ));
                }
                let tokenization = match s.get("tokenization") {
                    None => Tokenization::EdgeGram,
                    Some(Value::String(t)) if t == "edgeGram" => Tokenization::EdgeGram,
                    Some(Value::String(t)) if t == "rightEdgeGram" => Tokenization::RightEdgeGram,
                    Some(Value::String(t)) if t == "nGram" => Tokenization::NGram,
                    Some(_) => {
                        return Err(bad(
                            &format!("{at}.tokenization"),
                            "must be one of [edgeGram, rightEdgeGram, nGram]",
                        ))
                    }
                };
                FieldType::Autocomplete {
                    analyzer: analyzer("analyzer")?.unwrap_or(Analyzer::Standard),
                    min,
                    max,
                    tokenization,
                }
            }
            "token" => FieldType::Token,
            "number" | "numberFacet" => FieldType::Number,
            "date" | "dateFacet" => FieldType::Date,
            "boolean" => FieldType::Boolean,
            "objectId" => FieldType::ObjectId,
            "document" => {
                self.parse_level(s, path, at)?;
                FieldType::Document
            }
            "embeddedDocuments" | "geo" | "knnVector" | "stringFacet" | "uuid" => FieldType::Other,
            other => {
                return Err(bad(
                    &format!("{at}.type"),
                    &format!("unknown field type \"{other}\""),
                ))
            }
        })
    }

    /// Whether fields under `path` not named in the mappings are indexed by type.
    fn dynamic_at(&self, path: &str) -> bool {
        let mut dynamic = self.dynamic.get("").copied().unwrap_or(false);
        let mut prefix = String::new();
        let parts: Vec<&str> = path.split('.').collect();
        for p in parts.iter().take(parts.len().saturating_sub(1)) {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(p);
            match self.dynamic.get(&prefix) {
                Some(d) => dynamic = *d,
                // A field the static mappings name as something other than a document
                // indexes nothing below it.
                None if self
                    .fields
                    .get(&prefix)
                    .is_some_and(|t| !t.contains(&FieldType::Document)) =>
                {
                    return false
                }
                None => {}
            }
        }
        dynamic
    }

    /// The explicit types of a path, or what dynamic mapping gives it.
    fn types(&self, path: &str) -> Option<&[FieldType]> {
        self.fields.get(path).map(Vec::as_slice)
    }

    /// The analyzer strings at `path` (with `multi`, the named alternative) are indexed
    /// with, and the one queries are analyzed with; None when it is not a string field.
    fn string_analyzers(&self, path: &str, multi: Option<&str>) -> Option<(Analyzer, Analyzer)> {
        match self.types(path) {
            Some(types) => types.iter().find_map(|t| match t {
                FieldType::String {
                    analyzer,
                    search_analyzer,
                    multi: alternatives,
                } => match multi {
                    None => {
                        let a = analyzer.unwrap_or(self.analyzer);
                        Some((
                            a,
                            search_analyzer
                                .or(*analyzer)
                                .unwrap_or(self.search_analyzer),
                        ))
                    }
                    Some(m) => alternatives
                        .iter()
                        .find(|(n, _)| n == m)
                        .map(|(_, a)| (*a, *a)),
                },
                _ => None,
            }),
            None if multi.is_none() && self.dynamic_at(path) => {
                Some((self.analyzer, self.search_analyzer))
            }
            None => None,
        }
    }

    fn indexed_as(&self, path: &str, want: fn(&FieldType) -> bool, dynamic_ok: bool) -> bool {
        match self.types(path) {
            Some(types) => types.iter().any(want),
            None => dynamic_ok && self.dynamic_at(path),
        }
    }
}

// ---- documents' values

/// Every value at a dotted path, arrays flattened at each step (as Lucene indexes them).
pub(super) fn values_at<'d>(doc: &'d Document, path: &str) -> Vec<&'d Value> {
    fn walk<'d>(v: &'d Value, rest: &[&str], out: &mut Vec<&'d Value>) {
        match (v, rest.split_first()) {
            (Value::Array(items), _) => items.iter().for_each(|i| walk(i, rest, out)),
            (_, None) => out.push(v),
            (Value::Document(d), Some((first, tail))) => {
                if let Some(next) = crate::mongo::value::field(d, first) {
                    walk(next, tail, out);
                }
            }
            _ => {}
        }
    }
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    if let Some((first, rest)) = parts.split_first() {
        if let Some(v) = crate::mongo::value::field(doc, first) {
            walk(v, rest, &mut out);
        }
    }
    out
}

/// Every dotted path of a document that holds a string (for `{wildcard: …}` paths).
fn string_paths(doc: &Document, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in doc {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let mut has_string = false;
        let mut visit = |v: &Value, out: &mut Vec<String>| match v {
            Value::String(_) => has_string = true,
            Value::Document(d) => string_paths(d, &path, out),
            _ => {}
        };
        match v {
            Value::Array(items) => items.iter().for_each(|i| visit(i, out)),
            other => visit(other, out),
        }
        if has_string && !out.contains(&path) {
            out.push(path);
        }
    }
}

// ---- query execution

/// Scores by document record id.
type Scores = HashMap<RecordId, f32>;

fn add_into(into: &mut Scores, from: Scores) {
    for (d, s) in from {
        *into.entry(d).or_default() += s;
    }
}

struct Searcher<'a> {
    docs: &'a [Document],
    /// The record id of each of `docs`.
    rids: &'a [RecordId],
    mappings: &'a Mappings,
    /// Built field indexes, by (path, multi or autocomplete marker).
    built: HashMap<String, FieldIndex>,
}

fn qerr(message: impl std::fmt::Display) -> SearchError {
    SearchError::in_aggregation(message)
}

/// A `path` of `text` / `phrase`: field names, each maybe with a `multi` alternative; a
/// wildcard is expanded against the documents.
fn parse_paths(
    v: Option<&Value>,
    at: &str,
    docs: &[Document],
) -> Result<Vec<(String, Option<String>)>, SearchError> {
    let one = |v: &Value| -> Result<Vec<(String, Option<String>)>, SearchError> {
        match v {
            Value::String(s) => Ok(vec![(s.clone(), None)]),
            Value::Document(d) => match (d.get("value"), d.get("multi"), d.get("wildcard")) {
                (Some(Value::String(p)), Some(Value::String(m)), None) => {
                    Ok(vec![(p.clone(), Some(m.clone()))])
                }
                (Some(Value::String(p)), None, None) => Ok(vec![(p.clone(), None)]),
                (None, None, Some(Value::String(w))) => {
                    let mut all = Vec::new();
                    for d in docs {
                        string_paths(d, "", &mut all);
                    }
                    let pattern = w.replace('*', "\u{0}");
                    Ok(all
                        .into_iter()
                        .filter(|p| wildcard_match(&pattern, p))
                        .map(|p| (p, None))
                        .collect())
                }
                _ => Err(qerr(format!(
                    "\"{at}.path\" must be a string or a document with value or wildcard"
                ))),
            },
            _ => Err(qerr(format!(
                "\"{at}.path\" must be a string, document or array"
            ))),
        }
    };
    match v {
        None | Some(Value::Null) => Err(qerr(format!("\"{at}.path\" is required"))),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(one(i)?);
            }
            Ok(out)
        }
        Some(other) => one(other),
    }
}

/// `*` (stored as NUL) matches any run of characters.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('\u{0}').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() == 1 {
        return pattern == text;
    }
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let Some(mut rest) = text.get(first.len()..text.len() - last.len()) else {
        return false;
    };
    for mid in parts.iter().skip(1).take(parts.len().saturating_sub(2)) {
        match rest.find(mid).and_then(|i| rest.get(i + mid.len()..)) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    true
}

fn query_strings(v: Option<&Value>, at: &str) -> Result<Vec<String>, SearchError> {
    match v {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => Err(qerr(format!(
                    "\"{at}.query\" must be a string or array of strings"
                ))),
            })
            .collect(),
        None | Some(Value::Null) => Err(qerr(format!("\"{at}.query\" is required"))),
        Some(_) => Err(qerr(format!(
            "\"{at}.query\" must be a string or array of strings"
        ))),
    }
}

/// An operator's `score` option: a boost multiplies, a constant replaces.
enum ScoreOption {
    Boost(f32),
    Constant(f32),
}

fn score_option(op: &Document, at: &str) -> Result<ScoreOption, SearchError> {
    let Some(score) = op.get("score") else {
        return Ok(ScoreOption::Boost(1.0));
    };
    let Value::Document(s) = score else {
        return Err(qerr(format!("\"{at}.score\" must be a document")));
    };
    let value = |d: &Value, k: &str| -> Result<f32, SearchError> {
        match d {
            Value::Document(d) => match d.get("value").and_then(number) {
                Some(x) if x > 0.0 => Ok(x as f32),
                Some(_) => Err(qerr(format!("\"{at}.score.{k}.value\" must be positive"))),
                None => Err(qerr(format!(
                    "\"{at}.score.{k}\" needs a numeric value (a boost by path is not available in this sandbox)"
                ))),
            },
            _ => Err(qerr(format!("\"{at}.score.{k}\" must be a document"))),
        }
    };
    match (s.get("boost"), s.get("constant")) {
        (Some(b), None) => Ok(ScoreOption::Boost(value(b, "boost")?)),
        (None, Some(c)) => Ok(ScoreOption::Constant(value(c, "constant")?)),
        _ => Err(qerr(format!(
            "\"{at}.score\" must have exactly one of boost or constant"
        ))),
    }
}

/// Lucene's Levenshtein distance with transpositions (FuzzyQuery's default), over three
/// rolling rows.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut row = Vec::with_capacity(b.len() + 1);
        row.push(i + 1);
        for (j, &cb) in b.iter().enumerate() {
            let up = prev.get(j + 1).copied().unwrap_or(usize::MAX - 1) + 1;
            let left = row.get(j).copied().unwrap_or(usize::MAX - 1) + 1;
            let diag = prev.get(j).copied().unwrap_or(usize::MAX - 1) + usize::from(ca != cb);
            let mut v = up.min(left).min(diag);
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(&cb) && b.get(j - 1) == Some(&ca);
            if swapped {
                if let Some(t) = before.get(j - 1) {
                    v = v.min(t + 1);
                }
            }
            row.push(v);
        }
        before = std::mem::replace(&mut prev, row);
    }
    prev.last().copied().unwrap_or(0)
}

struct Fuzzy {
    max_edits: usize,
    prefix: usize,
    max_expansions: usize,
}

/// An option of two words, `off` by default: whether it is `on`.
fn either(op: &Document, key: &str, at: &str, off: &str, on: &str) -> Result<bool, SearchError> {
    match op.get(key) {
        None => Ok(false),
        Some(Value::String(s)) if s == off => Ok(false),
        Some(Value::String(s)) if s == on => Ok(true),
        Some(_) => Err(qerr(format!("\"{at}.{key}\" must be one of [{off}, {on}]"))),
    }
}

fn parse_fuzzy(op: &Document, at: &str) -> Result<Option<Fuzzy>, SearchError> {
    let Some(f) = op.get("fuzzy") else {
        return Ok(None);
    };
    let Value::Document(f) = f else {
        return Err(qerr(format!("\"{at}.fuzzy\" must be a document")));
    };
    let get = |k: &str, default: i64| f.get(k).and_then(integer).unwrap_or(default);
    let max_edits = get("maxEdits", 2);
    if !(1..=2).contains(&max_edits) {
        return Err(qerr(format!(
            "\"{at}.fuzzy.maxEdits\" must be within bounds [1..2]"
        )));
    }
    Ok(Some(Fuzzy {
        max_edits: max_edits as usize,
        prefix: get("prefixLength", 0).max(0) as usize,
        max_expansions: get("maxExpansions", 50).max(1) as usize,
    }))
}

impl<'a> Searcher<'a> {
    fn field(&mut self, path: &str, multi: Option<&str>, analyzer: Analyzer) -> &FieldIndex {
        let key = format!("{path}\u{0}{}", multi.unwrap_or(""));
        let source = Source::Text {
            path: path.to_string(),
            analyzer,
        };
        self.built_field(key, source)
    }

    fn autocomplete_field(
        &mut self,
        path: &str,
        analyzer: Analyzer,
        min: usize,
        max: usize,
        tokenization: Tokenization,
    ) -> &FieldIndex {
        let key = format!("{path}\u{0}\u{0}autocomplete");
        let source = Source::Autocomplete {
            path: path.to_string(),
            analyzer,
            min,
            max,
            tokenization,
        };
        self.built_field(key, source)
    }

    fn built_field(&mut self, key: String, source: Source) -> &FieldIndex {
        let (docs, rids) = (self.docs, self.rids);
        self.built
            .entry(key)
            .or_insert_with(|| FieldIndex::build(source, docs, rids))
    }

    fn run(&mut self, name: &str, arg: &Value, at: &str) -> Result<Scores, SearchError> {
        let Value::Document(op) = arg else {
            return Err(qerr(format!("\"{at}\" must be a document")));
        };
        let score = score_option(op, at)?;
        let raw = match name {
            "text" => self.text(op, at)?,
            "phrase" => self.phrase(op, at)?,
            "autocomplete" => self.autocomplete(op, at)?,
            "compound" => self.compound(op, at)?,
            "equals" => self.equals(op, at)?,
            "range" => self.range(op, at)?,
            "exists" => self.exists(op, at)?,
            other => {
                return Err(qerr(format!(
                    "\"{at}\" operator {other} is not available in this sandbox (it has text, phrase, autocomplete, compound, equals, range and exists)"
                )))
            }
        };
        Ok(match score {
            ScoreOption::Boost(b) => raw.into_iter().map(|(d, s)| (d, s * b)).collect(),
            ScoreOption::Constant(c) => raw.into_keys().map(|d| (d, c)).collect(),
        })
    }

    fn text(&mut self, op: &Document, at: &str) -> Result<Scores, SearchError> {
        let queries = query_strings(op.get("query"), at)?;
        let paths = parse_paths(op.get("path"), at, self.docs)?;
        let fuzzy = parse_fuzzy(op, at)?;
        let all = either(op, "matchCriteria", at, "any", "all")?;
        let mut total = Scores::new();
        let mut matched_terms: HashMap<RecordId, Vec<usize>> = HashMap::new();
        let mut n_terms = 0;
        for (path, multi) in &paths {
            let Some((index_an, search_an)) =
                self.mappings.string_analyzers(path, multi.as_deref())
            else {
                continue;
            };
            let mut terms: Vec<String> = Vec::new();
            for q in &queries {
                terms.extend(search_an.tokens(q));
            }
            n_terms = n_terms.max(terms.len());
            let field = self.field(path, multi.as_deref(), index_an);
            for (ti, term) in terms.iter().enumerate() {
                let scores = match &fuzzy {
                    None => field.term_scores(term, 1.0),
                    Some(f) => fuzzy_scores(field, term, f),
                };
                for d in scores.keys() {
                    matched_terms.entry(*d).or_default().push(ti);
                }
                add_into(&mut total, scores);
            }
        }
        if all {
            total.retain(|d, _| {
                matched_terms
                    .get(d)
                    .is_some_and(|ts| (0..n_terms).all(|t| ts.contains(&t)))
            });
        }
        Ok(total)
    }

    fn phrase(&mut self, op: &Document, at: &str) -> Result<Scores, SearchError> {
        let queries = query_strings(op.get("query"), at)?;
        let paths = parse_paths(op.get("path"), at, self.docs)?;
        let slop = match op.get("slop") {
            None => 0,
            Some(v) => match integer(v) {
                Some(n) if n >= 0 => n as usize,
                _ => return Err(qerr(format!("\"{at}.slop\" cannot be negative"))),
            },
        };
        let mut total = Scores::new();
        for (path, multi) in &paths {
            let Some((index_an, search_an)) =
                self.mappings.string_analyzers(path, multi.as_deref())
            else {
                continue;
            };
            let field = self.field(path, multi.as_deref(), index_an);
            for q in &queries {
                let terms = search_an.tokens(q);
                add_into(&mut total, phrase_scores(field, &terms, slop));
            }
        }
        Ok(total)
    }

    fn autocomplete(&mut self, op: &Document, at: &str) -> Result<Scores, SearchError> {
        let queries = query_strings(op.get("query"), at)?;
        let path = match op.get("path") {
            Some(Value::String(p)) => p.clone(),
            None | Some(Value::Null) => return Err(qerr(format!("\"{at}.path\" is required"))),
            Some(_) => return Err(qerr(format!("\"{at}.path\" must be a string"))),
        };
        let sequential = either(op, "tokenOrder", at, "any", "sequential")?;
        let fuzzy = parse_fuzzy(op, at)?;
        let Some((analyzer, min, max, tokenization)) =
            self.mappings.types(&path).and_then(|types| {
                types.iter().find_map(|t| match t {
                    FieldType::Autocomplete {
                        analyzer,
                        min,
                        max,
                        tokenization,
                    } => Some((*analyzer, *min, *max, *tokenization)),
                    _ => None,
                })
            })
        else {
            return Err(qerr(format!(
                "Path '{path}' needs to be indexed as autocomplete"
            )));
        };
        let (docs, rids) = (self.docs, self.rids);
        let field = self.autocomplete_field(&path, analyzer, min, max, tokenization);
        let mut total = Scores::new();
        for q in &queries {
            let words: Vec<String> = analyzer
                .tokens(q)
                .into_iter()
                .map(|w| w.chars().take(max).collect())
                .filter(|w: &String| w.chars().count() >= min)
                .collect();
            let mut scores = Scores::new();
            for w in &words {
                let s = match &fuzzy {
                    None => field.term_scores(w, 1.0),
                    Some(f) => fuzzy_scores(field, w, f),
                };
                add_into(&mut scores, s);
            }
            if sequential && words.len() > 1 {
                let keep = sequential_matches(docs, rids, &path, analyzer, &words);
                scores.retain(|d, _| keep.contains(d));
            }
            add_into(&mut total, scores);
        }
        Ok(total)
    }

    fn compound(&mut self, op: &Document, at: &str) -> Result<Scores, SearchError> {
        let mut clauses: BTreeMap<&str, Vec<Scores>> = BTreeMap::new();
        for (k, v) in op {
            match k.as_str() {
                "must" | "mustNot" | "should" | "filter" => {
                    let list: Vec<&Value> = match v {
                        Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    for (i, c) in list.into_iter().enumerate() {
                        let here = format!("{at}.{k}[{i}]");
                        let Value::Document(c) = c else {
                            return Err(qerr(format!("\"{here}\" must be a document")));
                        };
                        let (name, arg) = single_operator(c, &here)?;
                        let s = self.run(name, arg, &format!("{here}.{name}"))?;
                        clauses.entry(k.as_str()).or_default().push(s);
                    }
                }
                "minimumShouldMatch" | "score" => {}
                other => return Err(qerr(format!("\"{at}\" unrecognized field \"{other}\""))),
            }
        }
        let minimum = op
            .get("minimumShouldMatch")
            .and_then(integer)
            .unwrap_or(0)
            .max(0) as usize;
        let must = clauses.remove("must").unwrap_or_default();
        let filter = clauses.remove("filter").unwrap_or_default();
        let should = clauses.remove("should").unwrap_or_default();
        let must_not = clauses.remove("mustNot").unwrap_or_default();
        if must.is_empty() && filter.is_empty() && should.is_empty() {
            // Only mustNot: Atlas matches nothing (a negation needs something to subtract from).
            return Ok(Scores::new());
        }
        let needed = if must.is_empty() && filter.is_empty() {
            minimum.max(1)
        } else {
            minimum
        };
        // Every document that can match is in a must or filter clause, or else in a
        // should clause.
        let candidates: HashSet<RecordId> = match must.iter().chain(&filter).next() {
            Some(first) => first.keys().copied().collect(),
            None => should.iter().flat_map(|c| c.keys().copied()).collect(),
        };
        let mut out = Scores::new();
        for d in candidates {
            if !must.iter().chain(&filter).all(|c| c.contains_key(&d)) {
                continue;
            }
            if must_not.iter().any(|c| c.contains_key(&d)) {
                continue;
            }
            let hits = should.iter().filter(|c| c.contains_key(&d)).count();
            if hits < needed {
                continue;
            }
            let score: f32 = must.iter().chain(&should).filter_map(|c| c.get(&d)).sum();
            out.insert(d, score);
        }
        Ok(out)
    }

    fn equals(&mut self, op: &Document, at: &str) -> Result<Scores, SearchError> {
        let path = single_path(op, at)?;
        let Some(value) = op.get("value") else {
            return Err(qerr(format!("\"{at}.value\" is required")));
        };
        self.check_typed(&path, value)?;
        Ok(self.constant_matches(&path, |v| equal_typed(v, value)))
    }

    fn range(&mut self, op: &Document, at: &str) -> Result<Scores, SearchError> {
        let path = single_path(op, at)?;
        let mut bounds: Vec<(&str, &Value)> = Vec::new();
        for (k, v) in op {
            match k.as_str() {
                "gt" | "gte" | "lt" | "lte" => bounds.push((k.as_str(), v)),
                "path" | "score" => {}
                other => return Err(qerr(format!("\"{at}\" unrecognized field \"{other}\""))),
            }
        }
        if bounds.is_empty() {
            return Err(qerr(format!(
                "\"{at}\" must have at least one of gt, gte, lt, lte"
            )));
        }
        for (_, b) in &bounds {
            self.check_typed(&path, b)?;
        }
        Ok(self.constant_matches(&path, |v| {
            bounds.iter().all(|(k, b)| {
                comparable(v, b) && {
                    let o = compare(v, b);
                    match *k {
                        "gt" => o.is_gt(),
                        "gte" => o.is_ge(),
                        "lt" => o.is_lt(),
                        _ => o.is_le(),
                    }
                }
            })
        }))
    }

    fn exists(&mut self, op: &Document, at: &str) -> Result<Scores, SearchError> {
        let path = single_path(op, at)?;
        Ok(self.constant_matches(&path, |v| !matches!(v, Value::Null | Value::Undefined)))
    }

    fn constant_matches(&self, path: &str, test: impl Fn(&Value) -> bool) -> Scores {
        self.docs
            .iter()
            .zip(self.rids)
            .filter(|(d, _)| values_at(d, path).into_iter().any(&test))
            .map(|(_, &rid)| (rid, 1.0))
            .collect()
    }

    /// The type a value needs its path indexed as, with mongot's error when it is not.
    fn check_typed(&self, path: &str, value: &Value) -> Result<(), SearchError> {
        let m = self.mappings;
        let (ok, as_what) = match value {
            Value::String(_) => (
                m.indexed_as(path, |t| *t == FieldType::Token, false),
                "token",
            ),
            Value::Int32(_) | Value::Int64(_) | Value::Double(_) => (
                m.indexed_as(path, |t| *t == FieldType::Number, true),
                "number",
            ),
            Value::Date(_) => (m.indexed_as(path, |t| *t == FieldType::Date, true), "date"),
            Value::Bool(_) => (
                m.indexed_as(path, |t| *t == FieldType::Boolean, true),
                "boolean",
            ),
            Value::ObjectId(_) => (
                m.indexed_as(path, |t| *t == FieldType::ObjectId, true),
                "objectId",
            ),
            Value::Null => (true, ""),
            _ => {
                return Err(qerr(format!(
                "\"{path}\" value must be a boolean, objectId, number, string, date, uuid, or null"
            )))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(qerr(format!(
                "Path '{path}' needs to be indexed as {as_what}"
            )))
        }
    }
}

/// Numbers compare with numbers, strings with strings, dates with dates.
fn comparable(a: &Value, b: &Value) -> bool {
    let rank = |v: &Value| match v {
        Value::Int32(_) | Value::Int64(_) | Value::Double(_) => 1,
        other => crate::mongo::value::type_rank(other) + 10,
    };
    rank(a) == rank(b)
}

fn equal_typed(v: &Value, want: &Value) -> bool {
    comparable(v, want) && values_equal(v, want) || matches!((v, want), (Value::Null, Value::Null))
}

fn single_path(op: &Document, at: &str) -> Result<String, SearchError> {
    match op.get("path") {
        Some(Value::String(p)) => Ok(p.clone()),
        None | Some(Value::Null) => Err(qerr(format!("\"{at}.path\" is required"))),
        Some(_) => Err(qerr(format!("\"{at}.path\" must be a string"))),
    }
}

pub(super) fn grams_of(
    token: &str,
    min: usize,
    max: usize,
    tokenization: Tokenization,
) -> Vec<String> {
    // A keyword-analyzed value is one token however long; grams come from its first
    // MAX_TOKEN_LEN characters, so that an nGram field stays a bounded amount of work.
    let chars: Vec<char> = token.chars().take(MAX_TOKEN_LEN).collect();
    let n = chars.len();
    let gram = |from: usize, len: usize| -> Option<String> {
        chars.get(from..from + len).map(|c| c.iter().collect())
    };
    let mut out = Vec::new();
    for len in min..=max.min(n) {
        match tokenization {
            Tokenization::EdgeGram => out.extend(gram(0, len)),
            Tokenization::RightEdgeGram => out.extend(gram(n - len, len)),
            Tokenization::NGram => {}
        }
    }
    if tokenization == Tokenization::NGram {
        for start in 0..n {
            for len in min..=max.min(n - start) {
                out.extend(gram(start, len));
            }
        }
    }
    out
}

/// Documents where the query words appear in order, one after the other, each the start of
/// a word (the last may be a prefix of it).
fn sequential_matches(
    docs: &[Document],
    rids: &[RecordId],
    path: &str,
    analyzer: Analyzer,
    words: &[String],
) -> HashSet<RecordId> {
    docs.iter()
        .zip(rids)
        .filter(|(d, _)| {
            values_at(d, path).into_iter().any(|v| {
                let Value::String(s) = v else { return false };
                let tokens = analyzer.tokens(s);
                tokens.windows(words.len()).any(|w| {
                    w.iter().zip(words).enumerate().all(|(i, (t, q))| {
                        if i + 1 == words.len() {
                            t.starts_with(q.as_str())
                        } else {
                            t == q || t.starts_with(q.as_str())
                        }
                    })
                })
            })
        })
        .map(|(_, &rid)| rid)
        .collect()
}

/// A fuzzy term: the indexed terms within the edit distance (sharing the prefix), at most
/// `maxExpansions` of them (the most frequent first), each scored as a term.
fn fuzzy_scores(field: &FieldIndex, term: &str, f: &Fuzzy) -> Scores {
    let q: Vec<char> = term.chars().collect();
    let prefix: String = q.iter().take(f.prefix).collect();
    let mut expansions: Vec<(&String, usize)> = field
        .postings
        .iter()
        .filter(|(t, _)| t.starts_with(&prefix))
        .filter(|(t, _)| {
            let c: Vec<char> = t.chars().collect();
            c.len().abs_diff(q.len()) <= f.max_edits && edit_distance(&q, &c) <= f.max_edits
        })
        .map(|(t, docs)| (t, docs.len()))
        .collect();
    expansions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    expansions.truncate(f.max_expansions);
    let mut out = Scores::new();
    for (t, _) in expansions {
        for (d, s) in field.term_scores(t, 1.0) {
            let e = out.entry(d).or_insert(0.0);
            *e = e.max(s);
        }
    }
    out
}

/// Lucene's phrase scores: the phrase's frequency in a document (sloppy matches count
/// 1 / (1 + distance)) scored with the sum of its terms' idf.
fn phrase_scores(field: &FieldIndex, terms: &[String], slop: usize) -> Scores {
    let Some(first) = terms.first() else {
        return Scores::new();
    };
    let mut lists = Vec::with_capacity(terms.len());
    for t in terms {
        match field.postings.get(t) {
            Some(p) => lists.push(p),
            None => return Scores::new(),
        }
    }
    let idf_sum: f32 = lists.iter().map(|p| field.idf(p.len())).sum();
    let mut out = Scores::new();
    let Some(first_docs) = field.postings.get(first) else {
        return out;
    };
    for (&d, starts) in first_docs {
        let mut freq = 0f32;
        for &(value, start) in starts {
            let mut distance = 0usize;
            let mut ok = true;
            for (i, list) in lists.iter().enumerate().skip(1) {
                let want = start + i;
                let best = list.get(&d).and_then(|ps| {
                    ps.iter()
                        .filter(|(v, _)| *v == value)
                        .map(|(_, p)| p.abs_diff(want))
                        .min()
                });
                match best {
                    Some(dist) if dist <= slop => distance += dist,
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok && distance <= slop {
                freq += 1.0 / (1.0 + distance as f32);
            }
        }
        if freq > 0.0 {
            out.insert(d, field.bm25(idf_sum, freq, d));
        }
    }
    out
}

/// The one operator of a `$search` (or of a compound clause).
fn single_operator<'d>(op: &'d Document, at: &str) -> Result<(&'d str, &'d Value), SearchError> {
    let mut found = None;
    for (k, v) in op {
        if matches!(
            k.as_str(),
            "index"
                | "count"
                | "highlight"
                | "returnStoredSource"
                | "scoreDetails"
                | "concurrent"
                | "tracking"
        ) && at == "$search"
        {
            continue;
        }
        if found.is_some() {
            return Err(qerr(format!(
                "\"{at}\" must have exactly one operator, found more than one"
            )));
        }
        found = Some((k.as_str(), v));
    }
    found.ok_or_else(|| qerr(format!("\"{at}\" must have an operator")))
}

/// What a `$search` or `$searchMeta` asks for.
pub struct SearchRequest<'a> {
    pub index: String,
    pub operator: (&'a str, &'a Value),
    /// `count.type`: `lowerBound` (the default) or `total`.
    pub count_total: bool,
}

impl<'a> SearchRequest<'a> {
    pub fn parse(arg: &'a Value, stage: &str) -> Result<SearchRequest<'a>, SearchError> {
        let Value::Document(spec) = arg else {
            return Err(SearchError {
                code: 14,
                code_name: "TypeMismatch",
                message: format!("{stage} value must be an object"),
            });
        };
        let index = match spec.get("index") {
            None => "default".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(qerr("\"index\" must be a string")),
        };
        let count_total = match spec.get("count") {
            None => false,
            Some(Value::Document(c)) => match c.get("type") {
                None => false,
                Some(Value::String(t)) if t == "lowerBound" => false,
                Some(Value::String(t)) if t == "total" => true,
                Some(_) => return Err(qerr("\"count.type\" must be one of [lowerBound, total]")),
            },
            Some(_) => return Err(qerr("\"count\" must be a document")),
        };
        if spec.contains_key("highlight") {
            return Err(qerr("highlight is not available in this sandbox"));
        }
        let operator = single_operator(spec, "$search")?;
        Ok(SearchRequest {
            index,
            operator,
            count_total,
        })
    }
}

/// Runs a `$search` over a collection's documents (none when it is missing): the matching
/// documents' positions and scores, best first, ties in collection order. A missing index
/// finds nothing, as on Atlas.
///
/// The field indexes a query builds are kept with the search index for the next one, which
/// takes them over with the writes made since (`postings::Cache`).
pub fn run(
    coll: Option<&Collection>,
    req: &SearchRequest<'_>,
) -> Result<Vec<(usize, f64)>, SearchError> {
    let Some(coll) = coll else {
        return Ok(Vec::new());
    };
    let Some(ix) = coll
        .search_indexes
        .iter()
        .find(|ix| ix.name == req.index && ix.kind == super::Kind::Search)
    else {
        return Ok(Vec::new());
    };
    let mappings = Mappings::parse(&ix.definition).map_err(|e| qerr(e.message))?;
    let mut searcher = Searcher {
        docs: &coll.docs,
        rids: coll.record_ids(),
        mappings: &mappings,
        built: ix.cache.text.take(coll, ix.version),
    };
    let (name, arg) = req.operator;
    let scores = searcher.run(name, arg, name);
    ix.cache.text.keep(coll, ix.version, searcher.built);
    // Record ids ascend with positions, so ties in record id order are in collection order.
    let mut found: Vec<(RecordId, f32)> = scores?.into_iter().collect();
    found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(found
        .into_iter()
        .filter_map(|(rid, s)| Some((coll.position_of(rid)?, f64::from(s))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyzers_tokenize_as_lucene_does() {
        let cases: &[(Analyzer, &str, &[&str])] = &[
            (
                Analyzer::Standard,
                "The Quick-Brown fox's U.S.A. 3.5",
                &["the", "quick", "brown", "fox's", "u.s.a", "3.5"],
            ),
            (
                Analyzer::English,
                "The runners' running dogs",
                &["runner", "run", "dog"],
            ),
            (Analyzer::Simple, "R2D2 rocks", &["r", "d", "rocks"]),
            (Analyzer::Whitespace, "Hello  World", &["Hello", "World"]),
            (Analyzer::Keyword, "Hello World", &["Hello World"]),
        ];
        for (a, text, want) in cases {
            assert_eq!(a.tokens(text), *want, "{a:?} {text}");
        }
    }

    #[test]
    fn edge_grams() {
        assert_eq!(
            grams_of("star", 2, 3, Tokenization::EdgeGram),
            vec!["st".to_string(), "sta".to_string()]
        );
        assert_eq!(
            grams_of("star", 2, 15, Tokenization::RightEdgeGram),
            vec!["ar".to_string(), "tar".to_string(), "star".to_string()]
        );
    }
}
