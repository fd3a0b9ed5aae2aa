//! Secondary indexes over hashes and JSON documents (the RediSearch module's FT.* commands).
//!
//! An index is its definition only: which keys it covers (ON HASH | JSON, PREFIX) and its
//! schema. Every search reads the matching keys of the keyspace as they are at that moment,
//! so an index follows writes, deletes and expirations immediately with no hook in the
//! write paths, at the price of a pass over the keys per query, which is cheap at the sizes
//! a student types in.

pub mod aggregate;
pub mod geo;
pub mod options;
pub mod query;
pub mod vector;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::Value as JsonValue;

use super::db::FxBuild;

use super::reply::{self, Reply};
use super::types::json::{self, resp_double};
use super::types::json_path::{self, JsonPath};
use super::types::Value;
use super::Server;
use query::{stem, tokenize, Node};

/// Which keys an index reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    Hash,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text {
        weight: f64,
        nostem: bool,
    },
    Tag {
        separator: char,
        case_sensitive: bool,
    },
    Numeric,
    Geo,
    Vector(vector::VectorSpec),
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The hash field, or the JSONPath for JSON documents.
    pub identifier: String,
    /// The name queries use (`AS`), the identifier when there is none.
    pub attribute: String,
    pub kind: FieldKind,
    pub sortable: bool,
    json_path: Option<JsonPath>,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub source: Source,
    pub prefixes: Vec<Vec<u8>>,
    pub fields: Vec<Field>,
    pub options: options::IndexOptions,
    /// Which definition this is (FT.CREATE and FT.ALTER draw a new one): what tells the
    /// VECTOR fields' stores to rebuild, without comparing definitions after every command.
    pub(crate) revision: u64,
}

/// The server's indexes by name, in creation order.
pub type Indexes = IndexMap<String, Index>;

// ---------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------

/// The indexed values of one field of one document.
#[derive(Debug, Clone)]
enum Values {
    Text(Vec<String>),
    Tags(Vec<String>),
    Numbers(Vec<f64>),
    Vector(Vec<f32>),
    Points(Vec<(f64, f64)>),
    None,
}

/// One key as an index sees it.
struct Doc {
    key: Vec<u8>,
    /// Where the key sits in the keyspace while this command runs.
    position: usize,
    values: Vec<Values>,
    /// What FT.SEARCH returns for it: the hash's pairs, or `$` and the document.
    content: Vec<(String, Vec<u8>)>,
    /// The document score TFIDF is multiplied by (SCORE / SCORE_FIELD).
    score: f64,
    payload: Option<Vec<u8>>,
    /// Its language is English, whose stemmer the sandbox has.
    stems: bool,
}

impl Index {
    fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.attribute == name || f.identifier == name)
    }

    /// The document under `key`, or `None` if the key is of the other type or a value
    /// cannot be indexed (a NUMERIC field that is not a number: RediSearch skips the key).
    /// `with_content`: also copy what a reply would show (left empty for matching alone, so a
    /// search over many keys copies only the ones it returns).
    fn document(&self, key: &[u8], value: &Value, with_content: bool) -> Option<Doc> {
        if !self.prefixes.is_empty() && !self.prefixes.iter().any(|p| key.starts_with(p)) {
            return None;
        }
        match (self.source, value) {
            (Source::Hash, Value::Hash(hash)) => {
                let field = |name: &str| -> Option<String> {
                    if name == "__key" {
                        return Some(String::from_utf8_lossy(key).into_owned());
                    }
                    hash.get(name.as_bytes())
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                };
                if !self.options.admits(&field) {
                    return None;
                }
                let mut values = Vec::new();
                for field in &self.fields {
                    let raw = hash.get(field.identifier.as_bytes());
                    values.push(match (raw, &field.kind) {
                        (None, _) => Values::None,
                        (Some(bytes), FieldKind::Vector(spec)) => {
                            Values::Vector(vector::from_blob(bytes, spec.dim)?)
                        }
                        (Some(bytes), kind) => {
                            index_text(kind, &[String::from_utf8_lossy(bytes).into_owned()])?
                        }
                    });
                }
                let content = if with_content {
                    // The module does not return the fields it reads the score, payload and
                    // language from.
                    let special = [
                        &self.options.score_field,
                        &self.options.payload_field,
                        &self.options.language_field,
                    ];
                    hash.iter()
                        .map(|(f, v)| (String::from_utf8_lossy(f).into_owned(), v.clone()))
                        .filter(|(f, _)| !special.iter().any(|s| s.as_deref() == Some(f)))
                        .collect()
                } else {
                    Vec::new()
                };
                Some(Doc {
                    key: key.to_vec(),
                    position: 0,
                    values,
                    content,
                    score: self.score_of(&field),
                    payload: self
                        .options
                        .payload_field
                        .as_ref()
                        .and_then(|f| hash.get(f.as_bytes()).cloned()),
                    stems: self.stems_for(&field),
                })
            }
            (Source::Json, Value::Json(doc)) => {
                let field = |name: &str| -> Option<String> {
                    if name == "__key" {
                        return Some(String::from_utf8_lossy(key).into_owned());
                    }
                    let path = match self.field(name) {
                        Some((_, f)) => f.identifier.as_str(),
                        None => name,
                    };
                    let path = JsonPath::parse(path).ok()?;
                    let first = path.locate(doc).into_iter().next()?;
                    match json_path::get(doc, &first)? {
                        JsonValue::String(s) => Some(s.clone()),
                        other => Some(json::to_text(other)),
                    }
                };
                if !self.options.admits(&field) {
                    return None;
                }
                let mut values = Vec::new();
                for field in &self.fields {
                    let found: Vec<&JsonValue> = field.json_path.as_ref().map_or(Vec::new(), |p| {
                        p.locate(doc)
                            .iter()
                            .filter_map(|l| json_path::get(doc, l))
                            .collect()
                    });
                    values.push(index_json(&field.kind, &found)?);
                }
                Some(Doc {
                    key: key.to_vec(),
                    position: 0,
                    values,
                    content: if with_content {
                        vec![("$".to_string(), json::to_text(doc).into_bytes())]
                    } else {
                        Vec::new()
                    },
                    score: self.score_of(&field),
                    // The module reads payloads from hashes only.
                    payload: None,
                    stems: self.stems_for(&field),
                })
            }
            _ => None,
        }
    }
}

impl Index {
    fn score_of(&self, field: &dyn Fn(&str) -> Option<String>) -> f64 {
        let value = self.options.score_field.as_deref().and_then(field);
        options::document_score(&self.options, value.as_deref())
    }

    /// A document is stemmed when its language (LANGUAGE_FIELD, if that names a language the
    /// module knows, else the index's) is English.
    fn stems_for(&self, field: &dyn Fn(&str) -> Option<String>) -> bool {
        let own = self
            .options
            .language_field
            .as_deref()
            .and_then(field)
            .and_then(|l| options::language(&l));
        match own {
            Some(lang) => lang == "english",
            None => self.options.stems(),
        }
    }

    fn is_stopword(&self, word: &str) -> bool {
        self.options.is_stopword(word)
    }

    /// The query text parsed with this index's stop words.
    pub fn parse_query(&self, text: &str) -> Result<Node, String> {
        query::parse_with(text, &|w| self.is_stopword(w))
    }

    /// The FT.CREATE words of the options (after PREFIX, before SCHEMA), for a saved sandbox.
    pub fn option_args(&self) -> Vec<Vec<u8>> {
        self.options.args()
    }
}

fn tags_of(text: &str, separator: char, case_sensitive: bool) -> Vec<String> {
    text.split(separator)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if case_sensitive {
                t.to_string()
            } else {
                t.to_lowercase()
            }
        })
        .collect()
}

fn index_text(kind: &FieldKind, texts: &[String]) -> Option<Values> {
    Some(match kind {
        FieldKind::Text { .. } => Values::Text(texts.iter().flat_map(|t| tokenize(t)).collect()),
        FieldKind::Tag {
            separator,
            case_sensitive,
        } => Values::Tags(
            texts
                .iter()
                .flat_map(|t| tags_of(t, *separator, *case_sensitive))
                .collect(),
        ),
        FieldKind::Numeric => {
            let mut numbers = Vec::new();
            for text in texts {
                numbers.push(text.trim().parse::<f64>().ok().filter(|n| !n.is_nan())?);
            }
            Values::Numbers(numbers)
        }
        FieldKind::Geo => Values::Points(
            texts
                .iter()
                .map(|t| geo::parse_point(t))
                .collect::<Option<_>>()?,
        ),
        FieldKind::Vector(_) => Values::None,
    })
}

fn index_json(kind: &FieldKind, found: &[&JsonValue]) -> Option<Values> {
    if found.is_empty() {
        return Some(Values::None);
    }
    if let FieldKind::Vector(spec) = kind {
        let numbers: Option<Vec<f32>> = match found {
            [JsonValue::Array(items)] => {
                items.iter().map(|i| i.as_f64().map(|f| f as f32)).collect()
            }
            _ => None,
        };
        return numbers.filter(|n| n.len() == spec.dim).map(Values::Vector);
    }
    let mut texts = Vec::new();
    for value in found {
        match (kind, value) {
            (FieldKind::Numeric, JsonValue::Number(n)) => texts.push(n.to_string()),
            (FieldKind::Numeric, _) => return None,
            (_, JsonValue::String(s)) => texts.push(s.clone()),
            (FieldKind::Geo, JsonValue::Array(items)) => {
                for item in items {
                    texts.push(item.as_str()?.to_string());
                }
            }
            (FieldKind::Tag { .. }, JsonValue::Bool(b)) => texts.push(b.to_string()),
            (FieldKind::Tag { .. }, JsonValue::Array(items)) => {
                texts.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
            }
            (_, JsonValue::Null) => {}
            _ => return None,
        }
    }
    match kind {
        // A JSON tag array holds whole tags; separators do not split them.
        FieldKind::Tag { case_sensitive, .. } => Some(Values::Tags(
            texts
                .into_iter()
                .map(|t| if *case_sensitive { t } else { t.to_lowercase() })
                .collect(),
        )),
        _ => index_text(kind, &texts),
    }
}

// ---------------------------------------------------------------------------------------
// Matching and scoring
// ---------------------------------------------------------------------------------------

/// Text fields a term may match: the one it is scoped to, else every TEXT field.
fn text_fields<'a>(index: &'a Index, field: &Option<String>) -> Vec<(usize, &'a Field)> {
    index
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.kind, FieldKind::Text { .. }))
        .filter(|(_, f)| {
            field
                .as_ref()
                .is_none_or(|name| f.attribute == *name || f.identifier == *name)
        })
        .collect()
}

/// What one query learns about the words of one index's documents, each worked out once: a
/// query reads every document's tokens, and their vocabulary is far smaller than their count.
#[derive(Default)]
struct Stems {
    roots: RefCell<HashMap<String, Rc<str>, FxBuild>>,
    stop: RefCell<HashMap<String, bool, FxBuild>>,
}

impl Stems {
    fn of(&self, word: &str) -> Rc<str> {
        if let Some(root) = self.roots.borrow().get(word) {
            return root.clone();
        }
        let root: Rc<str> = stem(word).into();
        self.roots
            .borrow_mut()
            .insert(word.to_string(), root.clone());
        root
    }

    /// Whether `word` stems to `root`, without a copy of the stem.
    fn is(&self, word: &str, root: &str) -> bool {
        if let Some(known) = self.roots.borrow().get(word) {
            return **known == *root;
        }
        *self.of(word) == *root
    }

    /// Whether `word` is one of `index`'s stop words (always the same index for one query).
    fn is_stop(&self, index: &Index, word: &str) -> bool {
        if let Some(known) = self.stop.borrow().get(word) {
            return *known;
        }
        let stop = index.is_stopword(word);
        self.stop.borrow_mut().insert(word.to_string(), stop);
        stop
    }
}

/// Whether `token` is `word`, or shares its stem `root` in a field that stems.
fn term_matches(stems: &Stems, word: &str, root: &str, token: &str, nostem: bool) -> bool {
    token == word || (!nostem && stems.is(token, root))
}

/// Positions of `word` in each TEXT field of `doc` it may match.
/// Whether `word` occurs in a TEXT field of `doc` it may match.
fn has_term(stems: &Stems, index: &Index, doc: &Doc, word: &str, field: &Option<String>) -> bool {
    let root = stems.of(word);
    text_fields(index, field).into_iter().any(|(i, f)| {
        let nostem = matches!(f.kind, FieldKind::Text { nostem: true, .. }) || !doc.stems;
        matches!(doc.values.get(i), Some(Values::Text(tokens))
            if tokens.iter().any(|t| term_matches(stems, word, &root, t, nostem)))
    })
}

fn matches(stems: &Stems, index: &Index, doc: &Doc, node: &Node) -> bool {
    match node {
        Node::All => true,
        Node::Nothing => false,
        Node::Term { word, field } => has_term(stems, index, doc, word, field),
        Node::Prefix { prefix, field } => text_fields(index, field).iter().any(|(i, _)| {
            matches!(doc.values.get(*i), Some(Values::Text(tokens)) if tokens.iter().any(|t| t.starts_with(prefix.as_str())))
        }),
        Node::Phrase { words, field } => {
            let roots: Vec<Rc<str>> = words.iter().map(|w| stems.of(w)).collect();
            text_fields(index, field).iter().any(|(i, f)| {
            let nostem = matches!(f.kind, FieldKind::Text { nostem: true, .. }) || !doc.stems;
            let Some(Values::Text(tokens)) = doc.values.get(*i) else {
                return false;
            };
            let tokens: Vec<&String> = tokens
                .iter()
                .filter(|t| !stems.is_stop(index, t))
                .collect();
            tokens.windows(words.len()).any(|window| {
                window
                    .iter()
                    .zip(words.iter().zip(&roots))
                    .all(|(t, (w, root))| term_matches(stems, w, root, t, nostem))
            })
        })
        }
        Node::Tag { field, values } => match index.field(field) {
            Some((i, f)) => {
                let case_sensitive =
                    matches!(f.kind, FieldKind::Tag { case_sensitive: true, .. });
                matches!(doc.values.get(i), Some(Values::Tags(tags)) if values.iter().any(|v| {
                    let v = if case_sensitive { v.clone() } else { v.to_lowercase() };
                    tags.contains(&v)
                }))
            }
            None => false,
        },
        Node::Numeric {
            field,
            min,
            min_exclusive,
            max,
            max_exclusive,
        } => match index.field(field) {
            Some((i, _)) => matches!(doc.values.get(i), Some(Values::Numbers(numbers)) if numbers.iter().any(|n| {
                (if *min_exclusive { n > min } else { n >= min })
                    && (if *max_exclusive { n < max } else { n <= max })
            })),
            None => false,
        },
        Node::Geo { field, radius } => match index.field(field) {
            Some((i, _)) => matches!(doc.values.get(i), Some(Values::Points(points)) if points.iter().any(|p| radius.holds(*p))),
            None => false,
        },
        Node::Fuzzy {
            word,
            distance,
            field,
        } => text_fields(index, field).iter().any(|(i, _)| {
            matches!(doc.values.get(*i), Some(Values::Text(tokens)) if tokens.iter().any(|t| query::within_edits(t, word, *distance)))
        }),
        Node::Optional(_) => true,
        Node::And(parts) => parts.iter().all(|p| matches(stems, index, doc, p)),
        Node::Or(parts) => parts.iter().any(|p| matches(stems, index, doc, p)),
        Node::Not(inner) => !matches(stems, index, doc, inner),
    }
}

/// What of a query counts towards a document's score.
enum ScoredWord {
    Word(String),
    Prefix(String),
}

fn scored_words(node: &Node, out: &mut Vec<ScoredWord>) {
    match node {
        Node::Term { word, .. } => out.push(ScoredWord::Word(word.clone())),
        Node::Prefix { prefix, .. } => out.push(ScoredWord::Prefix(prefix.clone())),
        Node::Phrase { words, .. } => out.extend(words.iter().map(|w| ScoredWord::Word(w.clone()))),
        Node::And(parts) | Node::Or(parts) => parts.iter().for_each(|p| scored_words(p, out)),
        Node::Optional(inner) => scored_words(inner, out),
        _ => {}
    }
}

/// One text token of a document: the word, its position (stop words take none, and each
/// field starts one position after the last), the field's weight and whether it stems.
struct Token<'a> {
    word: &'a str,
    position: usize,
    weight: f64,
    stems: bool,
    /// The word's stem when it stems to another word, worked out on first use: a query of
    /// many words asks every token for it once per word.
    root: std::cell::OnceCell<Option<Rc<str>>>,
}

impl Token<'_> {
    fn root(&self, stems: &Stems) -> Option<&str> {
        self.root
            .get_or_init(|| {
                let root = stems.of(self.word);
                (self.stems && *root != *self.word).then_some(root)
            })
            .as_deref()
    }
}

fn scored_tokens<'a>(
    stems: &Stems,
    index: &Index,
    doc: &'a Doc,
    field: &Option<String>,
) -> Vec<Token<'a>> {
    // `field` narrows the tokens to one field (positions still count every field).
    let mut out = Vec::new();
    let mut position = 0;
    for (i, f) in index.fields.iter().enumerate() {
        let (FieldKind::Text { weight, nostem }, Some(Values::Text(tokens))) =
            (&f.kind, doc.values.get(i))
        else {
            continue;
        };
        if position > 0 {
            position += 1;
        }
        let in_scope = field
            .as_ref()
            .is_none_or(|name| f.attribute == *name || f.identifier == *name);
        for token in tokens {
            if stems.is_stop(index, token) {
                continue;
            }
            position += 1;
            if in_scope {
                out.push(Token {
                    word: token,
                    position,
                    weight: *weight,
                    stems: !nostem && doc.stems,
                    root: std::cell::OnceCell::new(),
                });
            }
        }
    }
    out
}

/// How often a query word occurs in a document, as RediSearch's index records it: the word
/// itself counts its field's weight per occurrence; its stem (`+stem`, when the stem differs)
/// is a separate term counting each other form once. Returns (exact, stemmed) frequencies and
/// the positions of both.
fn frequencies(stems: &Stems, tokens: &[Token], word: &str, root: &str) -> (f64, f64, Vec<usize>) {
    let (mut exact, mut stemmed, mut positions) = (0.0, 0.0, Vec::new());
    for t in tokens {
        let same = t.word == word;
        if same {
            exact += t.weight;
        }
        let shares_stem = t.root(stems) == Some(root);
        if shares_stem {
            stemmed += 1.0;
        }
        if same || shares_stem {
            positions.push(t.position);
        }
    }
    (exact, stemmed, positions)
}

/// RediSearch's TFIDF: per query word (and its stem), frequency times `logb(1 + N / df)`,
/// summed, over the document's highest term frequency, and for an intersection over the
/// slop (the span of positions holding one match of each word).
/// What scoring one query needs: each matching document's tokens, read when it is scored,
/// and the IDF of each term as it is first asked for.
struct Scorer<'a> {
    index: &'a Index,
    docs: &'a [Doc],
    tokens: Vec<std::cell::OnceCell<Vec<Token<'a>>>>,
    idf: RefCell<HashMap<(String, bool), f64>>,
    stems: &'a Stems,
}

impl<'a> Scorer<'a> {
    fn new(index: &'a Index, docs: &'a [Doc], stems: &'a Stems) -> Scorer<'a> {
        Scorer {
            index,
            docs,
            tokens: docs.iter().map(|_| std::cell::OnceCell::new()).collect(),
            idf: Default::default(),
            stems,
        }
    }

    /// The tokens of document `doc`. A field scope only filters: frequencies count every
    /// field, as the index records them.
    fn tokens(&self, doc: usize) -> Option<&[Token<'a>]> {
        let d = self.docs.get(doc)?;
        let tokens = self.tokens.get(doc)?;
        Some(tokens.get_or_init(|| scored_tokens(self.stems, self.index, d, &None)))
    }

    fn stem(&self, word: &str) -> Rc<str> {
        self.stems.of(word)
    }

    /// Whether `doc` holds `term` (`stemmed`: another word with `term`'s stem `root`), as
    /// `frequencies` counts it, without building its tokens.
    fn holds(&self, doc: &Doc, term: &str, root: &str, stemmed: bool) -> bool {
        self.index.fields.iter().zip(&doc.values).any(|(f, v)| {
            let (FieldKind::Text { nostem, .. }, Values::Text(tokens)) = (&f.kind, v) else {
                return false;
            };
            let stems = !nostem && doc.stems;
            tokens.iter().any(|t| {
                let found = if stemmed {
                    stems && {
                        let r = self.stems.of(t);
                        *r != **t && *r == *root
                    }
                } else {
                    t == term
                };
                found && !self.stems.is_stop(self.index, t)
            })
        })
    }

    /// `logb(1 + N / df)` for a term (`stemmed`: its `+stem` term).
    fn idf(&self, term: &str, stemmed: bool) -> f64 {
        let key = (term.to_string(), stemmed);
        if let Some(v) = self.idf.borrow().get(&key) {
            return *v;
        }
        let root = self.stem(term);
        let df = self
            .docs
            .iter()
            .filter(|d| self.holds(d, term, &root, stemmed))
            .count();
        // The module's document table counts one more than its documents.
        let n = (self.docs.len() + 1) as f64;
        let v = (1.0 + n / df.max(1) as f64).log2().floor();
        self.idf.borrow_mut().insert(key, v);
        v
    }
}

fn score(scorer: &Scorer, doc: usize, node: &Node) -> f64 {
    let mut words = Vec::new();
    scored_words(node, &mut words);
    if words.is_empty() {
        return 1.0;
    }
    let mut total = 0.0;
    let mut spans = Vec::new();
    let Some(tokens) = scorer.tokens(doc) else {
        return 0.0;
    };
    let term_idf = |term: &str, stemmed: bool| scorer.idf(term, stemmed);
    for word in &words {
        match word {
            ScoredWord::Word(word) => {
                let root = scorer.stem(word);
                let (exact, stemmed, mut positions) =
                    frequencies(scorer.stems, tokens, word, &root);
                total += exact * term_idf(word, false) + stemmed * term_idf(word, true);
                // A stem that differs is also looked up as a word of its own (`run` for
                // `running`), with its own frequency and IDF.
                if *root != **word && tokens.iter().any(|t| t.stems) {
                    let (plain, _, _) =
                        frequencies(scorer.stems, tokens, &root, &scorer.stem(&root));
                    let plain_at: Vec<usize> = tokens
                        .iter()
                        .filter(|t| *t.word == *root)
                        .map(|t| t.position)
                        .collect();
                    if plain > 0.0 {
                        total += plain * term_idf(&root, false);
                        positions.extend(plain_at);
                    }
                }
                if positions.is_empty() {
                    continue;
                }
                crate::sort::sort(&mut positions);
                positions.dedup();
                spans.push(positions);
            }
            ScoredWord::Prefix(prefix) => {
                let mut terms: Vec<&str> = tokens
                    .iter()
                    .map(|t| t.word)
                    .filter(|w| w.starts_with(prefix.as_str()))
                    .collect();
                crate::sort::sort(&mut terms);
                terms.dedup();
                let mut positions = Vec::new();
                for term in terms {
                    let (exact, _, at) =
                        frequencies(scorer.stems, tokens, term, &scorer.stem(term));
                    total += exact * term_idf(term, false);
                    positions.extend(at);
                }
                if !positions.is_empty() {
                    spans.push(positions);
                }
            }
        }
    }
    let mut counts: IndexMap<&str, f64> = IndexMap::new();
    for t in tokens {
        *counts.entry(t.word).or_default() += t.weight;
    }
    let max_freq = counts.values().copied().fold(1.0, f64::max);
    let mut score = total / max_freq;
    if matches!(node, Node::And(_)) && spans.len() > 1 {
        score /= min_span(&spans).max(1) as f64;
    }
    score
}

/// The narrowest window of positions holding one position from each list.
fn min_span(lists: &[Vec<usize>]) -> usize {
    let mut all: Vec<(usize, usize)> = lists
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |p| (*p, i)))
        .collect();
    crate::sort::sort(&mut all);
    let mut best = usize::MAX;
    let mut seen = vec![0usize; lists.len()];
    let mut covered = 0;
    let mut left = 0;
    for right in 0..all.len() {
        let (_, list) = all[right];
        if seen[list] == 0 {
            covered += 1;
        }
        seen[list] += 1;
        while covered == lists.len() {
            best = best.min(all[right].0 - all[left].0);
            let (_, l) = all[left];
            seen[l] -= 1;
            if seen[l] == 0 {
                covered -= 1;
            }
            left += 1;
        }
    }
    if best == usize::MAX {
        1
    } else {
        best
    }
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// The module's arity error, which names the command in capitals.
fn wrong_arity(name: &str) -> Reply {
    Reply::err(format!("wrong number of arguments for '{name}' command"))
}

fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

fn upper(arg: &[u8]) -> String {
    text(arg).to_ascii_uppercase()
}

/// FT.CREATE index [ON HASH | JSON] [PREFIX count prefix ...] SCHEMA field [AS alias] type
/// [options] ...
pub fn ft_create(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 5 {
        return wrong_arity("FT.CREATE");
    }
    let name = text(&argv[1]);
    if server.search.contains_key(&name) {
        return reply::error("Index already exists");
    }
    let mut index = Index {
        source: Source::Hash,
        prefixes: Vec::new(),
        fields: Vec::new(),
        options: options::IndexOptions::default(),
        revision: 0,
    };
    let mut i = 2;
    loop {
        let Some(word) = argv.get(i) else {
            return reply::error("No schema found");
        };
        match upper(word).as_str() {
            "ON" => {
                let kind = argv.get(i + 1).map(|a| upper(a)).unwrap_or_default();
                index.source = match kind.as_str() {
                    "HASH" => Source::Hash,
                    "JSON" => Source::Json,
                    _ => return reply::error(&format!("Invalid rule type: {kind}")),
                };
                i += 2;
            }
            "PREFIX" => {
                let Some(count) = argv.get(i + 1).and_then(|a| text(a).parse::<i64>().ok()) else {
                    return reply::error(
                        "Bad arguments for PREFIX: Could not convert argument to expected type",
                    );
                };
                let count = usize::try_from(count).unwrap_or(usize::MAX);
                if count > argv.len() {
                    return reply::error(
                        "Bad arguments for PREFIX: Value is outside acceptable bounds",
                    );
                }
                index
                    .prefixes
                    .extend(argv.iter().skip(i + 2).take(count).cloned());
                i += 2 + count;
            }
            "SCHEMA" => {
                i += 1;
                break;
            }
            "TEMPORARY" => {
                return reply::error("TEMPORARY is not supported by the sandbox");
            }
            "NOOFFSETS" | "NOHL" | "NOFIELDS" | "NOFREQS" | "SKIPINITIALSCAN" | "MAXTEXTFIELDS"
            | "ASYNC" => i += 1,
            _ => match index.options.parse(argv, i) {
                Ok(Some(taken)) => i = i.saturating_add(taken),
                Ok(None) => {
                    return reply::error(&format!("Unknown argument `{}`", text(word)));
                }
                Err(e) => return e,
            },
        }
    }
    if i >= argv.len() {
        return reply::error("Fields arguments are missing");
    }
    if let Err(e) = add_fields(&mut index, argv, i) {
        return e;
    }
    index.revision = server.vector_stores.next_revision();
    server.search.insert(name, index);
    Reply::ok()
}

/// Reads `field [AS alias] type [options]` definitions from `argv[i..]` into the index
/// (FT.CREATE's SCHEMA, FT.ALTER's SCHEMA ADD).
fn add_fields(index: &mut Index, argv: &[Vec<u8>], mut i: usize) -> Result<(), Reply> {
    while let Some(identifier) = argv.get(i) {
        let identifier = text(identifier);
        let mut attribute = identifier.clone();
        i += 1;
        if argv.get(i).is_some_and(|a| a.eq_ignore_ascii_case(b"AS")) {
            let Some(alias) = argv.get(i + 1) else {
                return Err(reply::error(&format!(
                    "Invalid field type for field `{identifier}`"
                )));
            };
            attribute = text(alias);
            i += 2;
        }
        let kind_word = argv.get(i).map(|a| upper(a)).unwrap_or_default();
        i += 1;
        let mut kind = match kind_word.as_str() {
            "TEXT" => FieldKind::Text {
                weight: 1.0,
                nostem: false,
            },
            "TAG" => FieldKind::Tag {
                separator: ',',
                case_sensitive: false,
            },
            "NUMERIC" => FieldKind::Numeric,
            "GEO" => FieldKind::Geo,
            "VECTOR" => {
                let (spec, taken) = vector::parse_spec(&argv[i.min(argv.len())..], &identifier)?;
                i += taken;
                FieldKind::Vector(spec)
            }
            _ => {
                return Err(reply::error(&format!(
                    "Invalid field type for field `{identifier}`"
                )))
            }
        };
        let mut sortable = false;
        while let Some(option) = argv.get(i) {
            match (upper(option).as_str(), &mut kind) {
                ("SORTABLE", _) => sortable = true,
                ("UNF" | "NOINDEX" | "INDEXMISSING" | "INDEXEMPTY" | "PHONETIC", _) => {}
                ("NOSTEM", FieldKind::Text { nostem, .. }) => *nostem = true,
                ("WEIGHT", FieldKind::Text { weight, .. }) => {
                    let Some(w) = argv.get(i + 1).and_then(|a| text(a).parse::<f64>().ok()) else {
                        return Err(reply::error(
                            "Bad arguments for WEIGHT: Could not convert argument to expected type",
                        ));
                    };
                    *weight = w;
                    i += 1;
                }
                ("SEPARATOR", FieldKind::Tag { separator, .. }) => {
                    let Some(sep) = argv.get(i + 1).and_then(|a| text(a).chars().next()) else {
                        return Err(reply::error("SEPARATOR requires an argument"));
                    };
                    *separator = sep;
                    i += 1;
                }
                ("CASESENSITIVE", FieldKind::Tag { case_sensitive, .. }) => *case_sensitive = true,
                _ => break,
            }
            i += 1;
        }
        let json_path = match index.source {
            Source::Json => match JsonPath::parse(&identifier) {
                Ok(p) => Some(p),
                Err(e) => return Err(Reply::Error(e)),
            },
            Source::Hash => None,
        };
        if index.fields.iter().any(|f| f.attribute == attribute) {
            return Err(reply::error(&format!(
                "Duplicate field in schema - {attribute}"
            )));
        }
        index.fields.push(Field {
            identifier,
            attribute,
            kind,
            sortable,
            json_path,
        });
    }
    Ok(())
}

/// FT.DROPINDEX index [DD]
pub fn ft_dropindex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 2 {
        return wrong_arity("FT.DROPINDEX");
    }
    let Some(index) = server.search.shift_remove(&text(&argv[1])) else {
        return reply::error("Unknown Index name");
    };
    if argv.get(2).is_some_and(|a| a.eq_ignore_ascii_case(b"DD")) {
        let keys: Vec<Vec<u8>> = documents(server, &index, false)
            .into_iter()
            .map(|d| d.key)
            .collect();
        for key in keys {
            server.db().remove(&key);
        }
    }
    Reply::ok()
}

/// FT._LIST
pub fn ft_list(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() != 1 {
        return wrong_arity("FT._LIST");
    }
    Reply::Array(server.search.keys().map(|k| Reply::status(k)).collect())
}

/// Every live key the index covers, in keyspace order. RediSearch keeps its indexes in db 0.
fn documents(server: &Server, index: &Index, with_content: bool) -> Vec<Doc> {
    let now = server.now;
    let Some(db) = server.dbs.first() else {
        return Vec::new();
    };
    db.iter()
        .enumerate()
        .filter(|(_, (_, e))| e.expire_at.is_none_or(|at| at > now))
        .filter_map(|(position, (key, entry))| {
            let mut doc = index.document(key, &entry.value, with_content)?;
            doc.position = position;
            Some(doc)
        })
        .collect()
}

/// `doc` with what a reply shows, for a document read without it.
fn with_content(server: &Server, index: &Index, doc: &Doc) -> Option<Doc> {
    if !doc.content.is_empty() {
        return None;
    }
    let (key, entry) = server.dbs.first()?.at(doc.position)?;
    index.document(key, &entry.value, true)
}

/// The count argument at `i` of a `KEYWORD count item ...` clause.
fn parse_count(argv: &[Vec<u8>], i: usize, what: &str) -> Result<usize, Reply> {
    argv.get(i)
        .and_then(|a| text(a).parse::<usize>().ok())
        .ok_or_else(|| {
            reply::error(&format!(
                "Bad arguments for {what}: Expected an argument, but none provided"
            ))
        })
}

struct SearchOptions {
    nocontent: bool,
    withscores: bool,
    withpayloads: bool,
    offset: usize,
    limit: usize,
    sort_by: Option<(String, bool)>,
    return_fields: Option<Vec<String>>,
    in_keys: Option<Vec<Vec<u8>>>,
    params: Vec<(String, Vec<u8>)>,
    /// GEOFILTER clauses, each a condition every result meets.
    geofilters: Vec<Node>,
}

fn parse_search_options(argv: &[Vec<u8>], index: &Index) -> Result<SearchOptions, Reply> {
    let mut options = SearchOptions {
        nocontent: false,
        withscores: false,
        withpayloads: false,
        offset: 0,
        limit: 10,
        sort_by: None,
        return_fields: None,
        in_keys: None,
        params: Vec::new(),
        geofilters: Vec::new(),
    };
    let mut i = 3;
    let count_arg = |i: usize, what: &str| parse_count(argv, i, what);
    while let Some(word) = argv.get(i) {
        match upper(word).as_str() {
            "NOCONTENT" => options.nocontent = true,
            "WITHSCORES" => options.withscores = true,
            "WITHPAYLOADS" => options.withpayloads = true,
            "VERBATIM" | "NOSTOPWORDS" | "WITHSORTKEYS" | "EXPLAINSCORE" => {}
            "LANGUAGE" => {
                let known = argv.get(i + 1).and_then(|l| options::language(&text(l)));
                if known.is_none() {
                    return Err(reply::error("No such language"));
                }
                i += 1;
            }
            "DIALECT" | "TIMEOUT" | "SLOP" | "SCORER" => i += 1,
            "LIMIT" => {
                let (Some(a), Some(b)) = (argv.get(i + 1), argv.get(i + 2)) else {
                    return Err(reply::error("LIMIT requires two arguments"));
                };
                match (text(a).parse::<usize>(), text(b).parse::<usize>()) {
                    (Ok(a), Ok(b)) => {
                        options.offset = a;
                        options.limit = b;
                    }
                    _ => return Err(reply::error("LIMIT needs two numeric arguments")),
                }
                i += 2;
            }
            "SORTBY" => {
                let Some(field) = argv.get(i + 1) else {
                    return Err(reply::error("SORTBY requires an argument"));
                };
                let field = text(field);
                let is_knn_alias = argv
                    .get(2)
                    .is_some_and(|q| text(q).contains(&format!("AS {field}]")));
                if index.field(&field).is_none() && !is_knn_alias {
                    return Err(reply::error(&format!(
                        "Property `{field}` not loaded nor in schema"
                    )));
                }
                let mut ascending = true;
                match argv.get(i + 2).map(|a| upper(a)).as_deref() {
                    Some("ASC") => i += 1,
                    Some("DESC") => {
                        ascending = false;
                        i += 1;
                    }
                    _ => {}
                }
                options.sort_by = Some((field, ascending));
                i += 1;
            }
            "RETURN" => {
                let count = count_arg(i + 1, "RETURN")?;
                let fields: Vec<String> = argv
                    .iter()
                    .skip(i + 2)
                    .take(count)
                    .map(|a| text(a))
                    .collect();
                if fields.len() < count {
                    return Err(reply::error(
                        "Bad arguments for RETURN: Expected an argument, but none provided",
                    ));
                }
                options.return_fields = Some(fields);
                i += 1 + count;
            }
            "PARAMS" => {
                let count = count_arg(i + 1, "PARAMS")?;
                let pairs: Vec<&Vec<u8>> = argv.iter().skip(i + 2).take(count).collect();
                if count % 2 != 0 || pairs.len() < count {
                    return Err(reply::error(
                        "Bad arguments for PARAMS: Expected an argument, but none provided",
                    ));
                }
                options.params = pairs
                    .chunks_exact(2)
                    .map(|p| (text(p[0]), p[1].clone()))
                    .collect();
                i += 1 + count;
            }
            "GEOFILTER" => {
                let (field, radius) = geo::geofilter(&argv[(i + 1).min(argv.len())..])
                    .map_err(|e| reply::error(&e))?;
                options.geofilters.push(Node::Geo { field, radius });
                i += 5;
            }
            "INKEYS" => {
                let count = count_arg(i + 1, "INKEYS")?;
                options.in_keys = Some(argv.iter().skip(i + 2).take(count).cloned().collect());
                i += 1 + count;
            }
            _ => {
                return Err(reply::error(&format!(
                    "Unknown argument `{}` at position {} for <main>",
                    text(word),
                    i - 2
                )))
            }
        }
        i += 1;
    }
    Ok(options)
}

/// The value a SORTBY field sorts by: numbers numerically, text by its lower-cased form.
#[derive(Debug, PartialEq, PartialOrd)]
enum SortKey {
    Number(f64),
    Text(String),
    Missing,
}

fn sort_key(index: &Index, doc: &Doc, field: &str) -> SortKey {
    let Some((i, f)) = index.field(field) else {
        return SortKey::Missing;
    };
    match (doc.values.get(i), &f.kind) {
        (Some(Values::Numbers(n)), _) => {
            n.first().map_or(SortKey::Missing, |n| SortKey::Number(*n))
        }
        (_, FieldKind::Text { .. } | FieldKind::Tag { .. }) => doc
            .content
            .iter()
            .find(|(k, _)| *k == f.identifier)
            .map_or(SortKey::Missing, |(_, v)| {
                SortKey::Text(String::from_utf8_lossy(v).to_lowercase())
            }),
        _ => SortKey::Missing,
    }
}

/// FT.SEARCH index query [NOCONTENT] [WITHSCORES] [INKEYS n key ...] [RETURN n field ...]
/// [SORTBY field [ASC | DESC]] [LIMIT offset num]
pub fn ft_search(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 2 {
        return wrong_arity("FT.SEARCH");
    }
    let name = text(&argv[1]);
    if argv.len() < 3 {
        return reply::error("No query string provided");
    }
    let Some(index) = server.search.get(&name).cloned() else {
        return reply::error(&format!("{name}: no such index"));
    };
    let options = match parse_search_options(argv, &index) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let query_text = text(&argv[2]);
    let (filter_text, knn) = match query_text.split_once("=>") {
        Some((filter, clause)) => match vector::parse_knn(clause) {
            Ok(knn) => (filter.to_string(), Some(knn)),
            Err(e) => return reply::error(&e),
        },
        None => (query_text, None),
    };
    let node = match index.parse_query(&filter_text) {
        Ok(n) if options.geofilters.is_empty() => n,
        Ok(n) => Node::And(
            std::iter::once(n)
                .chain(options.geofilters.clone())
                .collect(),
        ),
        Err(e) => return reply::error(&e),
    };
    if let Some(knn) = knn {
        // A script's writes reach the vector stores here, not after each of its calls.
        vector::sync(server);
        return knn_search(server, &name, &index, &node, &knn, &options);
    }
    // Only a SORTBY on text reads what the reply shows before the page is cut.
    let docs = documents(server, &index, options.sort_by.is_some());
    let stems = Stems::default();
    let scorer = Scorer::new(&index, &docs, &stems);
    let mut hits: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            options
                .in_keys
                .as_ref()
                .is_none_or(|keys| keys.contains(&d.key))
        })
        .filter(|(_, d)| matches(&stems, &index, d, &node))
        .map(|(i, d)| (i, score(&scorer, i, &node) * d.score))
        .collect();
    match &options.sort_by {
        Some((field, ascending)) => {
            crate::sort::sort_by(&mut hits, |a, b| {
                let (ka, kb) = (
                    sort_key(&index, &docs[a.0], field),
                    sort_key(&index, &docs[b.0], field),
                );
                // Documents without the field come last either way; a descending sort
                // lists tied documents latest first, as the module does.
                use std::cmp::Ordering;
                match (&ka, &kb) {
                    (SortKey::Missing, SortKey::Missing) => Ordering::Equal,
                    (SortKey::Missing, _) => Ordering::Greater,
                    (_, SortKey::Missing) => Ordering::Less,
                    _ => {
                        let order = ka.partial_cmp(&kb).unwrap_or(Ordering::Equal);
                        if *ascending {
                            order
                        } else {
                            order.reverse().then(b.0.cmp(&a.0))
                        }
                    }
                }
            });
        }
        None => crate::sort::sort_by(&mut hits, |a, b| {
            b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal)
        }),
    }
    let mut out = vec![Reply::Integer(hits.len() as i64)];
    for (i, score) in hits.iter().skip(options.offset).take(options.limit) {
        let Some(doc) = docs.get(*i) else {
            continue;
        };
        out.push(Reply::Bulk(doc.key.clone()));
        if options.withscores {
            out.push(Reply::Bulk(resp_double(*score).into_bytes()));
        }
        if options.withpayloads {
            out.push(doc.payload.clone().map_or(Reply::Nil, Reply::Bulk));
        }
        if options.nocontent {
            continue;
        }
        let filled = with_content(server, &index, doc);
        out.push(Reply::Array(content_of(
            &index,
            filled.as_ref().unwrap_or(doc),
            &options,
        )));
    }
    Reply::Array(out)
}

/// FT.SEARCH with a KNN clause: the `k` documents passing the filter nearest to the query
/// vector, nearest first (or in SORTBY order), each with its distance under the alias.
fn knn_search(
    server: &Server,
    name: &str,
    index: &Index,
    node: &Node,
    knn: &vector::Knn,
    options: &SearchOptions,
) -> Reply {
    let Some((at, field, spec)) = index.field(&knn.field).and_then(|(i, f)| match &f.kind {
        FieldKind::Vector(spec) => Some((i, f, spec)),
        _ => None,
    }) else {
        return reply::error(&format!(
            "Error parsing vector similarity query: field `{}` is not a vector field",
            knn.field
        ));
    };
    let Some((_, blob)) = options.params.iter().find(|(n, _)| *n == knn.param) else {
        return reply::error(&format!("No such parameter `{}`", knn.param));
    };
    let Some(query) = vector::from_blob(blob, spec.dim) else {
        return reply::error(&format!(
            "Error parsing vector similarity query: query vector blob size ({}) does not match index's expected size ({}).",
            blob.len(),
            spec.dim * 4
        ));
    };
    let ef = match vector::ef_runtime(knn, spec, &options.params) {
        Ok(ef) => ef,
        Err(e) => return e,
    };
    let by_distance = |a: &(usize, f64), b: &(usize, f64)| {
        a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal)
    };
    let whole_index = matches!(node, Node::All) && options.in_keys.is_none();
    let stored = whole_index
        .then(|| vector::nearest(server, name, &field.attribute, &query, knn.k, ef))
        .flatten();
    let (docs, mut hits) = match stored {
        Some(found) => {
            let (mut docs, mut hits) = (Vec::new(), Vec::new());
            for (key, distance) in found {
                let Some(db) = server.dbs.first() else {
                    break;
                };
                let found = db.stored(&key).zip(db.position(&key));
                if let Some((mut doc, position)) = found.and_then(|(e, position)| {
                    Some((index.document(&key, &e.value, true)?, position))
                }) {
                    doc.position = position;
                    hits.push((docs.len(), distance));
                    docs.push(doc);
                }
            }
            (docs, hits)
        }
        None => {
            // Only a SORTBY on text reads what the reply shows before the page is cut.
            let docs = documents(server, index, options.sort_by.is_some());
            let stems = Stems::default();
            let mut hits: Vec<(usize, f64)> = docs
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    options
                        .in_keys
                        .as_ref()
                        .is_none_or(|keys| keys.contains(&d.key))
                })
                .filter(|(_, d)| matches(&stems, index, d, node))
                .filter_map(|(i, d)| match d.values.get(at) {
                    Some(Values::Vector(v)) => Some((i, vector::distance(spec.metric, &query, v))),
                    _ => None,
                })
                .collect();
            if knn.k < hits.len() {
                hits.select_nth_unstable_by(knn.k, by_distance);
                hits.truncate(knn.k);
            }
            (docs, hits)
        }
    };
    crate::sort::sort_by(&mut hits, by_distance);
    // Without SORTBY, RediSearch lists the k nearest by their scores, all 0 for a KNN alone,
    // so in the order its documents were indexed: the keyspace's order here.
    if options.sort_by.is_none() {
        crate::sort::sort_by(&mut hits, |a, b| {
            docs[a.0].position.cmp(&docs[b.0].position)
        });
    }
    if let Some((field, ascending)) = &options.sort_by {
        if *field != knn.alias {
            crate::sort::sort_by(&mut hits, |a, b| {
                let order = sort_key(index, &docs[a.0], field)
                    .partial_cmp(&sort_key(index, &docs[b.0], field))
                    .unwrap_or(std::cmp::Ordering::Equal);
                if *ascending {
                    order
                } else {
                    order.reverse()
                }
            });
        } else if !ascending {
            hits.reverse();
        }
    }
    let mut out = vec![Reply::Integer(hits.len() as i64)];
    for (i, distance) in hits.iter().skip(options.offset).take(options.limit) {
        let Some(doc) = docs.get(*i) else {
            continue;
        };
        out.push(Reply::Bulk(doc.key.clone()));
        if options.nocontent {
            continue;
        }
        let score = vector::format_distance(*distance);
        let mut fields = Vec::new();
        let wanted = |name: &str| {
            options
                .return_fields
                .as_ref()
                .is_none_or(|r| r.iter().any(|f| f == name))
        };
        if wanted(&knn.alias) {
            fields.extend([Reply::bulk(knn.alias.as_str()), Reply::bulk(score)]);
        }
        let filled = with_content(server, index, doc);
        let rest = content_of(index, filled.as_ref().unwrap_or(doc), options);
        fields.extend(rest);
        out.push(Reply::Array(fields));
    }
    Reply::Array(out)
}

/// The field/value pairs FT.SEARCH returns for one document.
fn content_of(index: &Index, doc: &Doc, options: &SearchOptions) -> Vec<Reply> {
    let mut pairs: Vec<(String, Vec<u8>)> = match &options.return_fields {
        Some(fields) => fields
            .iter()
            .filter_map(|name| {
                let field = index.field(name).map(|(_, f)| f);
                let identifier = field.map_or(name.as_str(), |f| f.identifier.as_str());
                let value = match index.source {
                    Source::Hash => doc
                        .content
                        .iter()
                        .find(|(k, _)| k == identifier)
                        .map(|(_, v)| v.clone()),
                    Source::Json => returned_json(doc, identifier).map(String::into_bytes),
                }?;
                Some((name.clone(), value))
            })
            .collect(),
        None => doc.content.clone(),
    };
    // RediSearch lists the SORTBY field first.
    if let Some((field, _)) = &options.sort_by {
        let same = |name: &str| {
            name == field
                || index
                    .field(field)
                    .is_some_and(|(_, f)| f.identifier == name || f.attribute == name)
        };
        if let Some(at) = pairs.iter().position(|(k, _)| same(k)) {
            let first = pairs.remove(at);
            pairs.insert(0, first);
        }
    }
    pairs
        .into_iter()
        .flat_map(|(k, v)| [Reply::bulk(k), Reply::Bulk(v)])
        .collect()
}

/// A JSON document's value at `path` as RETURN gives it: strings bare, the rest as JSON.
fn returned_json(doc: &Doc, path: &str) -> Option<String> {
    let (_, text) = doc.content.first()?;
    let value: JsonValue = serde_json::from_slice(text).ok()?;
    let path = JsonPath::parse(path).ok()?;
    let first = path.locate(&value).into_iter().next()?;
    match json_path::get(&value, &first)? {
        JsonValue::String(s) => Some(s.clone()),
        other => Some(json::to_text(other)),
    }
}

/// FT.ALTER index [SKIPINITIALSCAN] SCHEMA ADD field [AS alias] type [options] ...
pub fn ft_alter(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 5 {
        return wrong_arity("FT.ALTER");
    }
    let name = text(&argv[1]);
    let mut i = 2;
    if argv[i].eq_ignore_ascii_case(b"SKIPINITIALSCAN") {
        i += 1;
    }
    let schema_add = argv
        .get(i)
        .is_some_and(|a| a.eq_ignore_ascii_case(b"SCHEMA"))
        && argv
            .get(i + 1)
            .is_some_and(|a| a.eq_ignore_ascii_case(b"ADD"));
    if !schema_add {
        return reply::error("ALTER must be followed by SCHEMA");
    }
    let revision = server.vector_stores.next_revision();
    let Some(index) = server.search.get_mut(&name) else {
        return reply::error("Unknown index name");
    };
    let mut altered = index.clone();
    match add_fields(&mut altered, argv, i + 2) {
        Ok(()) => {
            altered.revision = revision;
            *index = altered;
            Reply::ok()
        }
        Err(e) => e,
    }
}

/// FT.INFO index: the definition and the counts a student reads (the real reply goes on
/// with memory and garbage-collector statistics the sandbox does not keep).
pub fn ft_info(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() != 2 {
        return wrong_arity("FT.INFO");
    }
    let name = text(&argv[1]);
    let Some(index) = server.search.get(&name).cloned() else {
        return reply::error("Unknown index name");
    };
    let docs = documents(server, &index, false).len() as i64;
    let word = |s: &str| Reply::status(s);
    let mut definition = vec![
        word("key_type"),
        word(match index.source {
            Source::Hash => "HASH",
            Source::Json => "JSON",
        }),
        word("prefixes"),
        Reply::Array(
            if index.prefixes.is_empty() {
                vec![String::new()]
            } else {
                index.prefixes.iter().map(|p| text(p)).collect()
            }
            .iter()
            .map(|p| word(p))
            .collect(),
        ),
    ];
    definition.extend(index.options.info());
    let definition = Reply::Array(definition);
    let attributes = index
        .fields
        .iter()
        .map(|f| {
            let mut out = vec![
                word("identifier"),
                word(&f.identifier),
                word("attribute"),
                word(&f.attribute),
                word("type"),
            ];
            match &f.kind {
                FieldKind::Text { weight, nostem } => {
                    out.extend([
                        word("TEXT"),
                        word("WEIGHT"),
                        Reply::bulk(resp_double(*weight)),
                    ]);
                    if *nostem {
                        out.push(word("NOSTEM"));
                    }
                }
                FieldKind::Tag {
                    separator,
                    case_sensitive,
                } => {
                    let shown = match index.source {
                        Source::Json => String::new(),
                        Source::Hash => separator.to_string(),
                    };
                    out.extend([word("TAG"), word("SEPARATOR"), word(&shown)]);
                    if *case_sensitive {
                        out.push(word("CASESENSITIVE"));
                    }
                }
                FieldKind::Numeric => out.push(word("NUMERIC")),
                FieldKind::Geo => out.push(word("GEO")),
                FieldKind::Vector(spec) => out.extend([
                    word("VECTOR"),
                    word("algorithm"),
                    word(spec.algorithm),
                    word("data_type"),
                    word("FLOAT32"),
                    word("dim"),
                    Reply::Integer(spec.dim as i64),
                    word("distance_metric"),
                    word(spec.metric.name()),
                ]),
            }
            if let FieldKind::Vector(
                spec @ vector::VectorSpec {
                    algorithm: "HNSW", ..
                },
            ) = &f.kind
            {
                out.extend([
                    word("M"),
                    Reply::Integer(spec.params.m as i64),
                    word("ef_construction"),
                    Reply::Integer(spec.params.ef_construction as i64),
                ]);
            }
            if f.sortable {
                out.push(word("SORTABLE"));
                if !matches!(f.kind, FieldKind::Text { .. } | FieldKind::Tag { .. }) {
                    out.push(word("UNF"));
                }
            }
            Reply::Array(out)
        })
        .collect();
    let mut info = vec![
        word("index_name"),
        word(&name),
        word("index_options"),
        Reply::Array(Vec::new()),
        word("index_definition"),
        definition,
        word("attributes"),
        Reply::Array(attributes),
        word("num_docs"),
        Reply::Integer(docs),
        word("hash_indexing_failures"),
        Reply::Integer(0),
        word("indexing"),
        Reply::Integer(0),
        word("percent_indexed"),
        Reply::bulk("1"),
    ];
    if let Some(words) = &index.options.stopwords {
        info.extend([
            word("stopwords_list"),
            Reply::Array(words.iter().map(|w| Reply::bulk(w.as_str())).collect()),
        ]);
    }
    Reply::Array(info)
}

/// FT.EXPLAIN index query: the parsed query as RediSearch prints its execution plan.
pub fn ft_explain(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 3 {
        return wrong_arity("FT.EXPLAIN");
    }
    explain_text(server, argv)
}

/// FT.EXPLAINCLI index query: FT.EXPLAIN's text as an array of its lines.
pub fn ft_explaincli(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 3 {
        return wrong_arity("FT.EXPLAINCLI");
    }
    match explain_text(server, argv) {
        Reply::Bulk(text) => Reply::Array(
            String::from_utf8_lossy(&text)
                .split('\n')
                .map(Reply::status)
                .collect(),
        ),
        other => other,
    }
}

fn explain_text(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let name = text(&argv[1]);
    let Some(index) = server.search.get(&name) else {
        return reply::error(&format!("{name}: no such index"));
    };
    match index.parse_query(&text(&argv[2])) {
        Ok(node) => {
            let mut out = String::new();
            explain(index, &node, 0, true, &mut out);
            Reply::Bulk(out.into_bytes())
        }
        Err(e) => reply::error(&e),
    }
}

fn explain(index: &Index, node: &Node, level: usize, expand: bool, out: &mut String) {
    let pad = "  ".repeat(level);
    let block = |title: &str, items: &[String], out: &mut String| {
        out.push_str(&format!("{pad}{title} {{\n"));
        for item in items {
            out.push_str(&format!("{pad}  {item}\n"));
        }
        out.push_str(&format!("{pad}}}\n"));
    };
    let scope = |field: &Option<String>| field.as_ref().map_or(String::new(), |f| format!("@{f}:"));
    let number = |n: f64| {
        if n.is_infinite() {
            if n > 0.0 { "inf" } else { "-inf" }.to_string()
        } else {
            format!("{n:.6}")
        }
    };
    match node {
        Node::All => out.push_str(&format!("{pad}<WILDCARD>\n")),
        Node::Nothing => out.push_str(&format!("{pad}<empty>\n")),
        Node::Term { word, field } => {
            let s = scope(field);
            let nostem = text_fields(index, field)
                .iter()
                .all(|(_, f)| matches!(f.kind, FieldKind::Text { nostem: true, .. }));
            if expand && !nostem && index.options.stems() {
                // The stem is also looked up as a word of its own when it differs.
                let root = stem(word);
                out.push_str(&format!("{pad}{s}UNION {{\n"));
                out.push_str(&format!("{pad}  {s}{word}\n"));
                out.push_str(&format!("{pad}  {s}+{root}(expanded)\n"));
                if root != *word {
                    out.push_str(&format!("{pad}  {s}{root}(expanded)\n"));
                }
                out.push_str(&format!("{pad}}}\n"));
            } else {
                out.push_str(&format!("{pad}{s}{word}\n"));
            }
        }
        Node::Prefix { prefix, field } => {
            out.push_str(&format!("{pad}{}PREFIX{{{prefix}*}}\n", scope(field)))
        }
        Node::Phrase { words, field } => {
            let s = scope(field);
            let items: Vec<String> = words.iter().map(|w| format!("{s}{w}")).collect();
            block(&format!("{s}EXACT"), &items, out);
        }
        Node::Tag { field, values } => block(&format!("TAG:@{field}"), values, out),
        Node::Numeric {
            field,
            min,
            min_exclusive,
            max,
            max_exclusive,
        } => out.push_str(&format!(
            "{pad}NUMERIC {{{} {} @{field} {} {}}}\n",
            number(*min),
            if *min_exclusive { "<" } else { "<=" },
            if *max_exclusive { "<" } else { "<=" },
            number(*max)
        )),
        Node::Geo { field, radius } => out.push_str(&format!("{pad}{}\n", radius.explain(field))),
        Node::Fuzzy { word, field, .. } => {
            out.push_str(&format!("{pad}{}FUZZY{{{word}}}\n", scope(field)))
        }
        Node::Optional(inner) => {
            out.push_str(&format!("{pad}OPTIONAL{{\n"));
            explain(index, inner, level + 1, false, out);
            out.push_str(&format!("{pad}}}\n"));
        }
        Node::And(parts) | Node::Or(parts) => {
            let title = if matches!(node, Node::And(_)) {
                "INTERSECT"
            } else {
                "UNION"
            };
            out.push_str(&format!("{pad}{title} {{\n"));
            for part in parts {
                explain(index, part, level + 1, expand, out);
            }
            out.push_str(&format!("{pad}}}\n"));
        }
        Node::Not(inner) => {
            out.push_str(&format!("{pad}NOT{{\n"));
            explain(index, inner, level + 1, false, out);
            out.push_str(&format!("{pad}}}\n"));
        }
    }
}
