//! Text indexes and `$text`, as MongoDB's text index version 3 does them.
//!
//! - The index spec: `{ title: "text", body: "text" }` becomes the key pattern
//!   `{ _fts: "text", _ftsx: 1 }` with `weights`, `default_language`, `language_override` and
//!   `textIndexVersion: 3`, as `getIndexes` shows it.
//! - Keys: each document gives one `(term, score)` key per distinct stemmed term, the score
//!   summed over the indexed strings as `fts_spec.cpp` computes it (per string: the term's
//!   damped frequency `1 + 1/2 + 1/4 …`, times `0.5 + 0.5 · count / tokens`, times the
//!   field's weight, times 1.1 when the whole string is the term).
//! - A `$text` query scans the keys of each positive term (as the server's TEXT_OR does),
//!   sums their scores per document, then checks negations, phrases and case or diacritic
//!   sensitivity against the document itself (TEXT_MATCH).
//!
//! Languages: `english` (stop words and the Snowball English stemmer) and `none`; the other
//! languages the server knows are refused with a clear error.

use std::collections::{BTreeMap, BTreeSet};

use super::stem::stem;
use crate::mongo::query::QueryError;
use crate::mongo::value::{Document, Value};

/// English stop words, as `stop_words_english.txt` of the server lists them.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren't",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he'd",
    "he'll",
    "he's",
    "her",
    "here",
    "here's",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "how's",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "let's",
    "me",
    "more",
    "most",
    "mustn't",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "shan't",
    "she",
    "she'd",
    "she'll",
    "she's",
    "should",
    "shouldn't",
    "so",
    "some",
    "such",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "wasn't",
    "we",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "when's",
    "where",
    "where's",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "why's",
    "with",
    "won't",
    "would",
    "wouldn't",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Languages the server's text indexes know; all but English and `none` are out of scope.
const OTHER_LANGUAGES: &[&str] = &[
    "danish",
    "da",
    "dutch",
    "nl",
    "finnish",
    "fi",
    "french",
    "fr",
    "german",
    "de",
    "hungarian",
    "hu",
    "italian",
    "it",
    "norwegian",
    "nb",
    "portuguese",
    "pt",
    "romanian",
    "ro",
    "russian",
    "ru",
    "spanish",
    "es",
    "swedish",
    "sv",
    "turkish",
    "tr",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    None,
}

impl Language {
    /// A language name as a spec or `$language` gives it.
    pub fn parse(name: &str) -> Result<Language, QueryError> {
        match name {
            "english" | "en" => Ok(Language::English),
            "none" => Ok(Language::None),
            other if OTHER_LANGUAGES.contains(&other) => Err(QueryError::new(
                238,
                "NotImplemented",
                format!(
                    "text search in '{other}' is not supported in this sandbox (only \"english\" and \"none\")"
                ),
            )),
            other => Err(QueryError::new(
                17262,
                "Location17262",
                format!("unsupported language: \"{other}\" for text index version 3"),
            )),
        }
    }
}

/// What a text index indexes: the weighted fields (or every string, for `$**`), the
/// language, and the field that overrides it per document.
#[derive(Debug, Clone)]
pub struct TextSpec {
    /// Field path and weight, by path.
    pub weights: Vec<(String, Vec<String>, f64)>,
    pub wildcard: bool,
    pub language: Language,
    pub language_override: String,
}

fn bad(code: i32, name: &'static str, message: impl Into<String>) -> QueryError {
    QueryError::new(code, name, message)
}

/// Parses a text index: its key pattern (the `"text"` fields, which must be adjacent and may
/// not be mixed with other fields in this sandbox) and the text options. Returns the spec,
/// the key pattern the server stores (`{ _fts: 'text', _ftsx: 1 }`) and the options it shows.
pub fn parse_spec(
    key_doc: &Document,
    options: &Document,
) -> Result<(TextSpec, Document, Document), QueryError> {
    let mut fields: BTreeMap<String, f64> = BTreeMap::new();
    for (field, v) in key_doc {
        // The stored form (`{ _fts: "text", _ftsx: 1 }` with `weights`) is accepted too, as
        // the server accepts what `getIndexes` printed.
        if field == "_ftsx" && v.is_number() {
            continue;
        }
        match v {
            Value::String(s) if s == "text" && field == "_fts" => {}
            Value::String(s) if s == "text" => {
                if field == "_ftsx" {
                    return Err(bad(
                        17289,
                        "Location17289",
                        "text index with reserved fields _fts/_ftsx not allowed",
                    ));
                }
                fields.insert(field.clone(), 1.0);
            }
            _ => {
                return Err(bad(
                    238,
                    "NotImplemented",
                    "compound text indexes (text fields with other keys) are not supported in this sandbox",
                ))
            }
        }
    }
    let mut language = Language::English;
    let mut language_name = "english".to_string();
    let mut language_override = "language".to_string();
    let mut shown = Document::default();
    for (option, v) in options {
        match option.as_str() {
            "weights" => match v {
                Value::Document(w) => {
                    for (field, weight) in w {
                        if !weight.is_number() {
                            return Err(bad(
                                17283,
                                "Location17283",
                                "weight for text index needs numeric type",
                            ));
                        }
                        let n = crate::mongo::query::filter::number_f64(weight).trunc();
                        if !(n > 0.0 && n < 100_000.0) {
                            return Err(bad(16674, "Location16674", "score for word too high"));
                        }
                        fields.insert(field.clone(), n);
                    }
                }
                Value::String(s) if s == "$**" => {
                    fields.insert("$**".into(), 1.0);
                }
                _ => {
                    return Err(bad(
                        17284,
                        "Location17284",
                        "text index option 'weights' must be an object",
                    ))
                }
            },
            "default_language" => {
                let Value::String(s) = v else {
                    return Err(bad(
                        14,
                        "TypeMismatch",
                        "default_language needs a string type",
                    ));
                };
                language = Language::parse(s)?;
                language_name = s.clone();
            }
            "language_override" => {
                let Value::String(s) = v else {
                    return Err(bad(
                        14,
                        "TypeMismatch",
                        "language_override needs a string type",
                    ));
                };
                if s.is_empty() || s.starts_with('$') || s.contains('.') {
                    return Err(bad(
                        17136,
                        "Location17136",
                        format!("language_override is not valid: {s}"),
                    ));
                }
                language_override = s.clone();
            }
            "textIndexVersion" => {
                if crate::mongo::query::filter::number_f64(v) != 3.0 {
                    return Err(bad(
                        17364,
                        "Location17364",
                        "attempt to use unsupported textIndexVersion; versions supported: 3",
                    ));
                }
            }
            _ => {
                shown.insert(option.clone(), v.clone());
            }
        }
    }
    if fields.is_empty() {
        return Err(bad(
            67,
            "CannotCreateIndex",
            "text index needs at least one field: give a field as \"text\" or in 'weights'",
        ));
    }
    let mut key = Document::default();
    key.insert("_fts".into(), Value::String("text".into()));
    key.insert("_ftsx".into(), Value::Int32(1));
    let mut weights_doc = Document::default();
    for (field, w) in &fields {
        weights_doc.insert(field.clone(), Value::Int32(*w as i32));
    }
    shown.insert("weights".into(), Value::Document(weights_doc));
    shown.insert("default_language".into(), Value::String(language_name));
    shown.insert(
        "language_override".into(),
        Value::String(language_override.clone()),
    );
    shown.insert("textIndexVersion".into(), Value::Int32(3));
    let wildcard = fields.contains_key("$**");
    let spec = TextSpec {
        weights: fields
            .into_iter()
            .filter(|(f, _)| f != "$**")
            .map(|(f, w)| {
                let parts = f.split('.').map(str::to_string).collect();
                (f, parts, w)
            })
            .collect(),
        wildcard,
        language,
        language_override,
    };
    Ok((spec, key, shown))
}

/// The Latin letter a precomposed accented letter is built on (`é` → `e`), as the server's
/// diacritic-insensitive folding gives it for the letters students type; others unchanged.
fn fold_diacritic(c: char) -> char {
    const FOLDS: &[(&str, char)] = &[
        ("àáâãäåāăą", 'a'),
        ("ÀÁÂÃÄÅĀĂĄ", 'A'),
        ("çćĉċč", 'c'),
        ("ÇĆĈĊČ", 'C'),
        ("ďđ", 'd'),
        ("ĎĐ", 'D'),
        ("èéêëēĕėęě", 'e'),
        ("ÈÉÊËĒĔĖĘĚ", 'E'),
        ("ĝğġģ", 'g'),
        ("ĜĞĠĢ", 'G'),
        ("ĥħ", 'h'),
        ("ĤĦ", 'H'),
        ("ìíîïĩīĭįı", 'i'),
        ("ÌÍÎÏĨĪĬĮİ", 'I'),
        ("ĵ", 'j'),
        ("Ĵ", 'J'),
        ("ķ", 'k'),
        ("Ķ", 'K'),
        ("ĺļľŀł", 'l'),
        ("ĹĻĽĿŁ", 'L'),
        ("ñńņňŉ", 'n'),
        ("ÑŃŅŇ", 'N'),
        ("òóôõöøōŏő", 'o'),
        ("ÒÓÔÕÖØŌŎŐ", 'O'),
        ("ŕŗř", 'r'),
        ("ŔŖŘ", 'R'),
        ("śŝşš", 's'),
        ("ŚŜŞŠ", 'S'),
        ("ţťŧ", 't'),
        ("ŢŤŦ", 'T'),
        ("ùúûüũūŭůűų", 'u'),
        ("ÙÚÛÜŨŪŬŮŰŲ", 'U'),
        ("ŵ", 'w'),
        ("Ŵ", 'W'),
        ("ýÿŷ", 'y'),
        ("ÝŸŶ", 'Y'),
        ("źżž", 'z'),
        ("ŹŻŽ", 'Z'),
    ];
    if c.is_ascii() {
        return c;
    }
    FOLDS
        .iter()
        .find(|(from, _)| from.contains(c))
        .map_or(c, |(_, to)| *to)
}

/// How strings are turned into terms.
#[derive(Debug, Clone, Copy)]
pub struct Tokenizing {
    pub language: Language,
    pub case_sensitive: bool,
    pub diacritic_sensitive: bool,
}

impl Tokenizing {
    fn index(language: Language) -> Tokenizing {
        Tokenizing {
            language,
            case_sensitive: false,
            diacritic_sensitive: false,
        }
    }

    /// The normal form of raw text before splitting: case and diacritics folded as asked.
    fn normalize(&self, s: &str) -> String {
        let folded: String = if self.diacritic_sensitive {
            s.to_string()
        } else {
            s.chars()
                .filter(|&c| !is_combining_mark(c))
                .map(fold_diacritic)
                .collect()
        };
        if self.case_sensitive {
            folded
        } else {
            folded.to_lowercase()
        }
    }

    /// The terms of a string: split at delimiters, stop words dropped, stemmed.
    pub fn terms(&self, raw: &str) -> Vec<String> {
        let text = self.normalize(raw);
        let mut out = Vec::new();
        for token in tokens(&text) {
            let lower = token.to_lowercase();
            if self.language == Language::English {
                if STOP_WORDS.binary_search(&lower.as_str()).is_ok() {
                    continue;
                }
                out.push(stem(token));
            } else {
                out.push(token.to_string());
            }
        }
        out
    }
}

/// Combining diacritical marks (`◌́`), which diacritic-insensitive search drops.
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// Words: runs of letters, digits and apostrophes (the English tokenizer keeps `don't`
/// whole); everything else (spaces, punctuation, hyphens) delimits.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || is_combining_mark(c)))
        .filter(|t| !t.is_empty() && t.chars().any(char::is_alphanumeric))
}

/// The per-term scores of one string, added into `scores` (`_scoreStringV2`).
fn score_string(how: Tokenizing, raw: &str, weight: f64, scores: &mut BTreeMap<String, f64>) {
    let terms = how.terms(raw);
    if terms.is_empty() {
        return;
    }
    // term -> (count, damped frequency)
    let mut seen: BTreeMap<&str, (u32, f64)> = BTreeMap::new();
    for t in &terms {
        let e = seen.entry(t.as_str()).or_insert((0, 0.0));
        e.1 += 1.0 / 2f64.powi(e.0.min(1023) as i32);
        e.0 += 1;
    }
    let n = terms.len() as f64;
    for (term, (count, freq)) in seen {
        let coeff = 0.5 * f64::from(count) / n + 0.5;
        let adjustment = if raw.len() == term.len() && raw.eq_ignore_ascii_case(term) {
            1.1
        } else {
            1.0
        };
        *scores.entry(term.to_string()).or_insert(0.0) += weight * freq * coeff * adjustment;
    }
}

/// Every string a path reaches, through arrays (as the server's FTSElementIterator).
fn strings_at<'d>(v: &'d Value, rest: &[String], out: &mut Vec<&'d str>) {
    match (v, rest.split_first()) {
        (Value::String(s), None) => out.push(s),
        (Value::Array(items), _) => {
            for item in items {
                strings_at(item, rest, out);
            }
        }
        (Value::Document(d), Some((next, more))) => {
            if let Some(inner) = d.get(next) {
                strings_at(inner, more, out);
            }
        }
        _ => {}
    }
}

/// Every string anywhere in a value (the `$**` index), with its dotted path.
fn all_strings<'d>(v: &'d Value, path: &str, out: &mut Vec<(String, &'d str)>, depth: usize) {
    if depth > 200 {
        return;
    }
    match v {
        Value::String(s) => out.push((path.to_string(), s)),
        Value::Array(items) => {
            for item in items {
                all_strings(item, path, out, depth + 1);
            }
        }
        Value::Document(d) => {
            for (k, inner) in d {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                all_strings(inner, &p, out, depth + 1);
            }
        }
        _ => {}
    }
}

impl TextSpec {
    /// The language a document is indexed in: its `language_override` field when it names
    /// `english` or `none`, else the index's.
    fn language_of(&self, doc: &Document) -> Language {
        match doc.get(&self.language_override) {
            Some(Value::String(s)) => Language::parse(s).unwrap_or(self.language),
            _ => self.language,
        }
    }

    /// The indexed strings of a document with their weights.
    pub fn strings<'d>(&self, doc: &'d Document) -> Vec<(&'d str, f64)> {
        let mut out = Vec::new();
        let mut listed = BTreeSet::new();
        for (path, parts, weight) in &self.weights {
            listed.insert(path.as_str());
            let Some((first, rest)) = parts.split_first() else {
                continue;
            };
            if let Some(v) = doc.get(first) {
                let mut found = Vec::new();
                strings_at(v, rest, &mut found);
                out.extend(found.into_iter().map(|s| (s, *weight)));
            }
        }
        if self.wildcard {
            let mut found = Vec::new();
            for (k, v) in doc {
                all_strings(v, k, &mut found, 0);
            }
            for (path, s) in found {
                if !listed.contains(path.as_str()) {
                    out.push((s, 1.0));
                }
            }
        }
        out
    }

    /// The term scores of one document: the keys it gives the index.
    pub fn term_scores(&self, doc: &Document) -> BTreeMap<String, f64> {
        let how = Tokenizing::index(self.language_of(doc));
        let mut scores = BTreeMap::new();
        for (s, weight) in self.strings(doc) {
            score_string(how, s, weight, &mut scores);
        }
        scores
    }
}

/// A parsed `$text` query.
#[derive(Debug, Clone, Default)]
pub struct TextQuery {
    /// Stemmed positive terms, sorted and without repeats (phrase words included).
    pub terms: Vec<String>,
    /// The same terms folded as the index holds them (lower case, no diacritics).
    pub index_terms: Vec<String>,
    pub negated_terms: Vec<String>,
    pub phrases: Vec<String>,
    pub negated_phrases: Vec<String>,
    pub case_sensitive: bool,
    pub diacritic_sensitive: bool,
    pub language: Option<Language>,
}

fn type_mismatch(field: &str, want: &str, got: &Value) -> QueryError {
    QueryError::new(
        14,
        "TypeMismatch",
        format!(
            "BSON field '$text.{field}' is the wrong type '{}', expected type '{want}'",
            got.type_name()
        ),
    )
}

impl TextQuery {
    /// Parses the operand of `$text` (`{ $search, $language, $caseSensitive,
    /// $diacriticSensitive }`) against the index's language.
    pub fn parse(operand: &Value, index_language: Language) -> Result<TextQuery, QueryError> {
        let Value::Document(d) = operand else {
            return Err(QueryError::new(2, "BadValue", "$text expects an object"));
        };
        let mut search = None;
        let mut q = TextQuery::default();
        for (k, v) in d {
            match k.as_str() {
                "$search" => match v {
                    Value::String(s) => search = Some(s.clone()),
                    other => return Err(type_mismatch("$search", "string", other)),
                },
                "$language" => match v {
                    Value::String(s) => q.language = Some(Language::parse(s)?),
                    other => return Err(type_mismatch("$language", "string", other)),
                },
                "$caseSensitive" => match v {
                    Value::Bool(b) => q.case_sensitive = *b,
                    other => return Err(type_mismatch("$caseSensitive", "bool", other)),
                },
                "$diacriticSensitive" => match v {
                    Value::Bool(b) => q.diacritic_sensitive = *b,
                    other => return Err(type_mismatch("$diacriticSensitive", "bool", other)),
                },
                other => {
                    return Err(QueryError::new(
                        40415,
                        "Location40415",
                        format!("BSON field '$text.{other}' is an unknown field."),
                    ))
                }
            }
        }
        let Some(search) = search else {
            return Err(QueryError::new(
                40414,
                "Location40414",
                "BSON field '$text.$search' is missing but a required field",
            ));
        };
        let how = Tokenizing {
            language: q.language.unwrap_or(index_language),
            case_sensitive: q.case_sensitive,
            diacritic_sensitive: q.diacritic_sensitive,
        };
        let folded = Tokenizing {
            case_sensitive: false,
            diacritic_sensitive: false,
            ..how
        };
        let mut index_terms = BTreeSet::new();
        let mut terms = BTreeSet::new();
        let mut negated = BTreeSet::new();
        // Quotes toggle phrases; a '-' right before a word or an opening quote negates it.
        let chars: Vec<char> = search.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let negate = chars[i] == '-'
                && (i == 0 || chars[i - 1].is_whitespace())
                && chars.get(i + 1).is_some_and(|c| !c.is_whitespace());
            let start = if negate { i + 1 } else { i };
            if chars.get(start) == Some(&'"') {
                let end = chars[start + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .map_or(chars.len(), |p| start + 1 + p);
                let phrase: String = chars[start + 1..end].iter().collect();
                if negate {
                    q.negated_phrases.push(phrase);
                } else {
                    terms.extend(how.terms(&phrase));
                    index_terms.extend(folded.terms(&phrase));
                    q.phrases.push(phrase);
                }
                i = end + 1;
                continue;
            }
            let end = chars[start..]
                .iter()
                .position(|c| c.is_whitespace() || *c == '"')
                .map_or(chars.len(), |p| start + p);
            let word: String = chars[start..end].iter().collect();
            let found = how.terms(&word);
            if negate {
                negated.extend(found);
            } else {
                terms.extend(found);
                index_terms.extend(folded.terms(&word));
            }
            i = end.max(i + 1);
        }
        q.terms = terms.into_iter().collect();
        q.index_terms = index_terms.into_iter().collect();
        q.negated_terms = negated.into_iter().collect();
        Ok(q)
    }

    fn tokenizing(&self, index_language: Language) -> Tokenizing {
        Tokenizing {
            language: self.language.unwrap_or(index_language),
            case_sensitive: self.case_sensitive,
            diacritic_sensitive: self.diacritic_sensitive,
        }
    }

    /// The TEXT_MATCH check on a document the index found: negated terms absent, phrases
    /// present (negated ones absent), and, when case or diacritics matter, a positive term
    /// present in exactly that form.
    pub fn matches(&self, spec: &TextSpec, doc: &Document) -> bool {
        let strings = spec.strings(doc);
        let how = self.tokenizing(spec.language);
        let need_terms =
            !self.negated_terms.is_empty() || self.case_sensitive || self.diacritic_sensitive;
        if need_terms {
            let mut doc_terms = BTreeSet::new();
            for (s, _) in &strings {
                doc_terms.extend(how.terms(s));
            }
            if self.negated_terms.iter().any(|t| doc_terms.contains(t)) {
                return false;
            }
            if (self.case_sensitive || self.diacritic_sensitive)
                && !self.terms.iter().any(|t| doc_terms.contains(t))
            {
                return false;
            }
        }
        let contains = |phrase: &str| {
            let p = how.normalize(phrase);
            strings.iter().any(|(s, _)| how.normalize(s).contains(&p))
        };
        self.phrases.iter().all(|p| contains(p))
            && !self.negated_phrases.iter().any(|p| contains(p))
    }

    /// `parsedTextQuery` as explain shows it.
    pub fn explain_doc(&self) -> Document {
        let list = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let mut d = Document::default();
        d.insert("terms".into(), list(&self.terms));
        d.insert("negatedTerms".into(), list(&self.negated_terms));
        d.insert("phrases".into(), list(&self.phrases));
        d.insert("negatedPhrases".into(), list(&self.negated_phrases));
        d
    }
}

// ---- running a `$text` find

use super::plan::{Access, Execution, Plan, Query, Stats};
use super::{IndexKind, KeyPart};
use crate::mongo::store::Collection;

/// Whether a sort or projection value is `{ $meta: "textScore" }`.
pub fn is_score_meta(v: &Value) -> bool {
    matches!(v, Value::Document(d) if d.len() == 1
        && matches!(d.get("$meta"), Some(Value::String(s)) if s == "textScore"))
}

/// The collection's text index: its position and spec.
pub fn text_index(coll: &Collection) -> Option<(usize, &TextSpec)> {
    coll.indexes()
        .iter()
        .enumerate()
        .find_map(|(i, ix)| match &ix.spec.kind {
            IndexKind::Text(t) => Some((i, &**t)),
            _ => None,
        })
}

pub fn no_text_index() -> QueryError {
    QueryError::new(27, "IndexNotFound", "text index required for $text query")
}

/// The text index's position, the parsed query, and each found document's position and
/// score.
type Found = (usize, TextQuery, Vec<(usize, f64)>);

/// The documents a `$text` query finds and their scores: each positive term's keys summed
/// per record (TEXT_OR), then TEXT_MATCH and the rest of the filter on each document.
/// Positions come back in record order.
pub fn search(
    coll: &Collection,
    operand: &Value,
    filter: &crate::mongo::query::Filter,
    stats: &mut Stats,
) -> Result<Found, QueryError> {
    let Some((at, spec)) = text_index(coll) else {
        return Err(no_text_index());
    };
    let query = TextQuery::parse(operand, spec.language)?;
    let Some(index) = coll.indexes().get(at) else {
        return Err(no_text_index());
    };
    let mut scores: BTreeMap<super::RecordId, f64> = BTreeMap::new();
    for term in &query.index_terms {
        let bound = |v: Value, rid| {
            (
                super::Key::from(vec![
                    KeyPart {
                        value: Value::String(term.clone()),
                        descending: false,
                    },
                    KeyPart {
                        value: v,
                        descending: false,
                    },
                ]),
                rid,
            )
        };
        let lo = bound(Value::MinKey, super::RecordId::MIN);
        let hi = bound(Value::MaxKey, super::RecordId::MAX);
        stats.seeks += 1;
        for (key, rid) in index.entries().range(lo..=hi) {
            stats.keys_examined += 1;
            stats.works += 1;
            if let Some(Value::Double(score)) = key.value(1) {
                *scores.entry(*rid).or_insert(0.0) += score;
            }
        }
    }
    let mut found = Vec::new();
    for (rid, score) in scores {
        let Some((pos, doc)) = super::fetch(coll, rid, stats) else {
            continue;
        };
        stats.works += 1;
        if query.matches(spec, doc) && filter.matches(doc) {
            stats.matched += 1;
            found.push((pos, score));
        }
    }
    stats.eof = true;
    found.sort_by_key(|(pos, _)| *pos);
    Ok((at, query, found))
}

/// Runs a find whose filter has `$text`.
pub fn execute(coll: &Collection, q: &Query, operand: &Value) -> Result<Execution, QueryError> {
    let mut stats = Stats::default();
    let (index, query, found) = search(coll, operand, q.filter, &mut stats)?;
    let scores: std::collections::HashMap<usize, f64> = found.iter().copied().collect();
    let mut positions: Vec<usize> = found.iter().map(|(p, _)| *p).collect();
    if let Some(sort) = q.sort {
        sort_with_scores(&coll.docs, &mut positions, sort, &scores)?;
    }
    let positions = super::plan::skip_limit(positions, q);
    Ok(Execution {
        scores: positions
            .iter()
            .filter_map(|p| scores.get(p).map(|s| (*p, *s)))
            .collect(),
        positions,
        winner: Plan {
            access: Access::Text {
                index,
                query: Box::new(query),
            },
            provides_sort: false,
            residual: Vec::new(),
            key_filter: Vec::new(),
            residual_others: Vec::new(),
            covered: false,
        },
        rejected: Vec::new(),
        stats,
    })
}

/// Sorts positions by a sort document that may hold `{ $meta: "textScore" }` keys (highest
/// score first); ties keep their order.
pub fn sort_with_scores(
    docs: &[Document],
    positions: &mut [usize],
    sort: &Document,
    scores: &std::collections::HashMap<usize, f64>,
) -> Result<(), QueryError> {
    let mut plain = Document::default();
    for (k, v) in sort {
        if !is_score_meta(v) {
            plain.insert(k.clone(), v.clone());
        }
    }
    let keys = crate::mongo::query::cursor::sort_keys(&plain)?;
    let mut plain_keys = keys.iter();
    // Per sort field: None for the score, else the path and direction.
    let order: Vec<Option<&(Vec<String>, i32)>> = sort
        .values()
        .map(|v| {
            if is_score_meta(v) {
                None
            } else {
                plain_keys.next()
            }
        })
        .collect();
    let mut keyed: Vec<(Vec<Value>, usize)> = positions
        .iter()
        .map(|&p| {
            let doc = docs.get(p);
            let key = order
                .iter()
                .map(|o| match (o, doc) {
                    (None, _) => Value::Double(scores.get(&p).copied().unwrap_or(0.0)),
                    (Some((path, dir)), Some(d)) => {
                        crate::mongo::query::cursor::sort_key(d, path, *dir)
                    }
                    (Some(_), None) => Value::Null,
                })
                .collect();
            (key, p)
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        for (i, o) in order.iter().enumerate() {
            let c = crate::mongo::value::compare(&a[i], &b[i]);
            let c = match o {
                None => c.reverse(),
                Some((_, dir)) if *dir < 0 => c.reverse(),
                Some(_) => c,
            };
            if c.is_ne() {
                return c;
            }
        }
        std::cmp::Ordering::Equal
    });
    for (slot, (_, p)) in positions.iter_mut().zip(keyed) {
        *slot = p;
    }
    Ok(())
}

/// The `{ $meta: "textScore" }` fields of a projection, taken out: the rest of the
/// projection and the names to add the score under (after the projected fields, as the
/// server adds metadata).
pub fn split_projection(projection: &Document) -> (Document, Vec<String>) {
    let mut rest = Document::default();
    let mut meta = Vec::new();
    for (k, v) in projection {
        if is_score_meta(v) {
            meta.push(k.clone());
        } else {
            rest.insert(k.clone(), v.clone());
        }
    }
    (rest, meta)
}

/// The explain stages of a `$text` plan: TEXT_MATCH over FETCH over one IXSCAN per term
/// (joined by TEXT_OR when there are several), as the server shows them.
pub fn explain_stage(
    coll: &Collection,
    index: usize,
    query: &TextQuery,
    residual: Option<Document>,
    stats: Option<&Stats>,
) -> Document {
    let name = coll
        .indexes()
        .get(index)
        .map_or_else(String::new, |ix| ix.name().to_string());
    let stage = |name: &str| {
        let mut d = Document::default();
        d.insert("stage".into(), Value::String(name.into()));
        d
    };
    let scans: Vec<Value> = query
        .index_terms
        .iter()
        .map(|_| {
            let mut scan = stage("IXSCAN");
            let mut key = Document::default();
            key.insert("_fts".into(), Value::String("text".into()));
            key.insert("_ftsx".into(), Value::Int32(1));
            scan.insert("keyPattern".into(), Value::Document(key));
            scan.insert("indexName".into(), Value::String(name.clone()));
            scan.insert("isMultiKey".into(), Value::Bool(true));
            scan.insert("isUnique".into(), Value::Bool(false));
            scan.insert("isSparse".into(), Value::Bool(false));
            scan.insert("isPartial".into(), Value::Bool(false));
            scan.insert("indexVersion".into(), Value::Int32(2));
            scan.insert("direction".into(), Value::String("backward".into()));
            scan.insert("indexBounds".into(), Value::Document(Document::default()));
            Value::Document(scan)
        })
        .collect();
    let input = match <[Value; 1]>::try_from(scans) {
        Ok([Value::Document(one)]) => one,
        Ok([other]) => {
            let mut or = stage("TEXT_OR");
            or.insert("inputStages".into(), Value::Array(vec![other]));
            or
        }
        Err(many) => {
            let mut or = stage("TEXT_OR");
            or.insert("inputStages".into(), Value::Array(many));
            or
        }
    };
    let mut fetch = stage("FETCH");
    if let Some(f) = residual.filter(|f| !f.is_empty()) {
        fetch.insert("filter".into(), Value::Document(f));
    }
    if let Some(s) = stats {
        fetch.insert("nReturned".into(), super::explain::int(s.matched));
        fetch.insert("docsExamined".into(), super::explain::int(s.docs_examined));
    }
    fetch.insert("inputStage".into(), Value::Document(input));
    let mut top = stage("TEXT_MATCH");
    top.insert("indexPrefix".into(), Value::Document(Document::default()));
    top.insert("indexName".into(), Value::String(name));
    top.insert(
        "parsedTextQuery".into(),
        Value::Document(query.explain_doc()),
    );
    top.insert("textIndexVersion".into(), Value::Int32(3));
    top.insert("inputStage".into(), Value::Document(fetch));
    top
}

// ---- `$text` in an aggregation's first `$match`

/// Where a pipeline keeps a document's text score between stages: a top-level field no
/// stored document can have (names cannot start with `$`), removed from the output.
pub const SCORE_FIELD: &str = "$__textScore";

/// The documents a leading `{ $match: { $text: … } }` passes on, each with its score in
/// `SCORE_FIELD`, in record order.
pub fn aggregate_source(
    coll: Option<&Collection>,
    filter_doc: &Document,
    now_ms: i64,
) -> Result<Vec<Document>, QueryError> {
    let filter = crate::mongo::query::Filter::compile(filter_doc)?.at(now_ms);
    let Some(operand) = filter.text() else {
        return Ok(Vec::new());
    };
    let Some(coll) = coll else {
        return Err(no_text_index());
    };
    let mut stats = Stats::default();
    let (_, _, found) = search(coll, operand, &filter, &mut stats)?;
    if let Some(e) = filter.take_error() {
        return Err(e);
    }
    Ok(found
        .into_iter()
        .filter_map(|(pos, score)| {
            let mut d = coll.docs.get(pos)?.clone();
            d.insert(SCORE_FIELD.into(), Value::Double(score));
            Some(d)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(fields: &[(&str, f64)]) -> TextSpec {
        TextSpec {
            weights: fields
                .iter()
                .map(|(f, w)| (f.to_string(), vec![f.to_string()], *w))
                .collect(),
            wildcard: false,
            language: Language::English,
            language_override: "language".into(),
        }
    }

    fn doc(fields: &[(&str, &str)]) -> Document {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect()
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn scores_follow_fts_spec() {
        // (field text, weight, term, expected score)
        let cases = [
            ("Baking a cake", 1.0, "cake", 0.75),
            ("baking", 1.0, "bake", 1.0),
            ("coffee", 1.0, "coffe", 1.0),
            ("cake", 1.0, "cake", 1.1),
            ("Coffee Shopping", 1.0, "coffe", 0.75),
            ("coffee and cream", 1.0, "coffe", 0.75),
            ("cake cake cake", 1.0, "cake", 1.75),
            ("cake tea", 10.0, "cake", 7.5),
        ];
        for (text, weight, term, want) in cases {
            let s = spec(&[("t", weight)]);
            let scores = s.term_scores(&doc(&[("t", text)]));
            let got = scores.get(term).copied().unwrap_or(0.0);
            assert!((got - want).abs() < 1e-12, "{text}: {term} {got} != {want}");
        }
    }

    #[test]
    fn query_parsing() {
        let q = TextQuery::parse(
            &Value::Document(doc(&[(
                "$search",
                "coffee -shop \"cafe con\" -\"no way\" the",
            )])),
            Language::English,
        )
        .unwrap();
        assert_eq!(q.terms, vec!["cafe", "coffe", "con"]);
        assert_eq!(q.negated_terms, vec!["shop"]);
        assert_eq!(q.phrases, vec!["cafe con"]);
        assert_eq!(q.negated_phrases, vec!["no way"]);
    }

    #[test]
    fn diacritics_and_case() {
        let s = spec(&[("t", 1.0)]);
        let d = doc(&[("t", "Café Con Leche")]);
        assert!(s.term_scores(&d).contains_key("cafe"));
        let parse = |search: &str, cs: bool, ds: bool| {
            let mut o = doc(&[("$search", search)]);
            o.insert("$caseSensitive".into(), Value::Bool(cs));
            o.insert("$diacriticSensitive".into(), Value::Bool(ds));
            TextQuery::parse(&Value::Document(o), Language::English).unwrap()
        };
        assert!(parse("cafe", false, false).matches(&s, &d));
        assert!(!parse("cafe", false, true).matches(&s, &d));
        assert!(parse("café", false, true).matches(&s, &d));
        assert!(!parse("café", true, true).matches(&s, &d));
        assert!(parse("Café", true, true).matches(&s, &d));
    }
}
