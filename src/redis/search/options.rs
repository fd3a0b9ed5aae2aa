//! FT.CREATE's index-wide options: FILTER (an expression a key must pass to be indexed),
//! LANGUAGE / LANGUAGE_FIELD (which stemmer a document's text goes through), SCORE /
//! SCORE_FIELD (the document score TFIDF is multiplied by), PAYLOAD_FIELD (what WITHPAYLOADS
//! returns) and STOPWORDS (the words text and queries drop).
//!
//! RediSearch stems English with Snowball's `english`; the sandbox has that stemmer only, so a
//! document or index in another of the module's languages is matched on its exact words (see
//! known-differences.md).

use super::aggregate::{self, Cell, Expr, Row};
use super::query::STOP_WORDS;
use crate::redis::reply::{self, Reply};

/// The languages FT.CREATE's LANGUAGE accepts (RediSearch 2.10's list).
const LANGUAGES: &[&str] = &[
    "arabic",
    "armenian",
    "basque",
    "catalan",
    "chinese",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hindi",
    "hungarian",
    "indonesian",
    "irish",
    "italian",
    "lithuanian",
    "nepali",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "serbian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
    "yiddish",
];

/// The language name as the module stores it, if it knows it.
pub fn language(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    LANGUAGES.iter().copied().find(|l| *l == lower)
}

#[derive(Debug, Clone, Default)]
pub struct IndexOptions {
    /// The expression as written, and parsed.
    pub(super) filter: Option<(String, Expr)>,
    /// Set only when not English, which FT.INFO leaves out.
    pub language: Option<&'static str>,
    pub language_field: Option<String>,
    pub score: Option<f64>,
    pub score_field: Option<String>,
    pub payload_field: Option<String>,
    /// `None`: the default English list.
    pub stopwords: Option<Vec<String>>,
}

impl IndexOptions {
    pub fn is_stopword(&self, word: &str) -> bool {
        match &self.stopwords {
            Some(list) => list.iter().any(|w| w == word),
            None => STOP_WORDS.contains(&word),
        }
    }

    /// Whether queries and documents of the default language are stemmed.
    pub fn stems(&self) -> bool {
        self.language.is_none()
    }

    pub fn default_score(&self) -> f64 {
        self.score.unwrap_or(1.0)
    }

    /// Reads the option at `argv[i]` if it is one of these: the words it took, or `None`.
    pub fn parse(&mut self, argv: &[Vec<u8>], i: usize) -> Result<Option<usize>, Reply> {
        let word = String::from_utf8_lossy(&argv[i]).to_ascii_uppercase();
        let arg = |n: usize| {
            argv.get(i + n)
                .map(|a| String::from_utf8_lossy(a).into_owned())
        };
        let missing = |what: &str| {
            reply::error(&format!(
                "Bad arguments for {what}: Expected an argument, but none provided"
            ))
        };
        match word.as_str() {
            "FILTER" => {
                let source = arg(1).ok_or_else(|| missing("FILTER"))?;
                let expr =
                    aggregate::parse_expr(&source, &|_| true).map_err(|e| reply::error(&e))?;
                self.filter = Some((source, expr));
                Ok(Some(2))
            }
            "LANGUAGE" => {
                let name = arg(1).ok_or_else(|| missing("LANGUAGE"))?;
                let lang = language(&name).ok_or_else(|| reply::error("Invalid language"))?;
                self.language = (lang != "english").then_some(lang);
                Ok(Some(2))
            }
            "SCORE" => {
                let score = arg(1)
                    .and_then(|s| s.parse::<f64>().ok())
                    .filter(|s| (0.0..=1.0).contains(s))
                    .ok_or_else(|| reply::error("Invalid score"))?;
                self.score = Some(score);
                Ok(Some(2))
            }
            "LANGUAGE_FIELD" | "SCORE_FIELD" | "PAYLOAD_FIELD" => {
                let name = arg(1).ok_or_else(|| missing(&word))?;
                *match word.as_str() {
                    "LANGUAGE_FIELD" => &mut self.language_field,
                    "SCORE_FIELD" => &mut self.score_field,
                    _ => &mut self.payload_field,
                } = Some(name);
                Ok(Some(2))
            }
            "STOPWORDS" => {
                let count = arg(1).and_then(|c| c.parse::<i64>().ok()).ok_or_else(|| {
                    reply::error(
                        "Bad arguments for STOPWORDS: Could not convert argument to expected type",
                    )
                })?;
                let count = usize::try_from(count).map_err(|_| {
                    reply::error("Bad arguments for STOPWORDS: Value is outside acceptable bounds")
                })?;
                let mut words: Vec<String> = argv
                    .iter()
                    .skip(i + 2)
                    .take(count)
                    .map(|w| String::from_utf8_lossy(w).to_lowercase())
                    .collect();
                crate::sort::sort(&mut words);
                words.dedup();
                self.stopwords = Some(words);
                Ok(Some(count.saturating_add(2)))
            }
            _ => Ok(None),
        }
    }

    /// The words of FT.CREATE that set these options again (for a saved sandbox).
    pub fn args(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut pair = |k: &str, v: &str| {
            out.push(k.as_bytes().to_vec());
            out.push(v.as_bytes().to_vec());
        };
        if let Some((source, _)) = &self.filter {
            pair("FILTER", source);
        }
        if let Some(lang) = self.language {
            pair("LANGUAGE", lang);
        }
        if let Some(f) = &self.language_field {
            pair("LANGUAGE_FIELD", f);
        }
        if let Some(s) = self.score {
            pair("SCORE", &s.to_string());
        }
        if let Some(f) = &self.score_field {
            pair("SCORE_FIELD", f);
        }
        if let Some(f) = &self.payload_field {
            pair("PAYLOAD_FIELD", f);
        }
        if let Some(words) = &self.stopwords {
            pair("STOPWORDS", &words.len().to_string());
            out.extend(words.iter().map(|w| w.as_bytes().to_vec()));
        }
        out
    }

    /// The `index_definition` entries FT.INFO shows after the prefixes.
    pub fn info(&self) -> Vec<Reply> {
        let word = |s: &str| Reply::status(s);
        let mut out = Vec::new();
        if let Some((source, _)) = &self.filter {
            out.extend([word("filter"), word(source)]);
        }
        if let Some(lang) = self.language {
            out.extend([word("default_language"), word(lang)]);
        }
        if let Some(f) = &self.language_field {
            out.extend([word("language_field"), word(f)]);
        }
        out.extend([
            word("default_score"),
            Reply::bulk(super::resp_double(self.default_score())),
        ]);
        if let Some(f) = &self.score_field {
            out.extend([word("score_field"), word(f)]);
        }
        if let Some(f) = &self.payload_field {
            out.extend([word("payload_field"), word(f)]);
        }
        out
    }

    /// Whether a document passes FILTER. `value` reads a field (`__key` is the key name); a
    /// field the expression names that the document lacks lets it in, as in the module,
    /// where such an expression fails to evaluate rather than to hold.
    pub fn admits(&self, value: &dyn Fn(&str) -> Option<String>) -> bool {
        let Some((_, expr)) = &self.filter else {
            return true;
        };
        let mut names = Vec::new();
        aggregate::collect_fields(expr, &mut names);
        let mut row = Row::new();
        for name in names {
            match value(&name) {
                Some(v) => {
                    row.insert(name, Cell::Str(v));
                }
                None => return true,
            }
        }
        aggregate::eval(expr, &row).truthy()
    }
}

/// A document's score as the module keeps it (a 32-bit float): its SCORE_FIELD when that is
/// a number, else the index's default.
pub fn document_score(options: &IndexOptions, field: Option<&str>) -> f64 {
    let score = field
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite())
        .unwrap_or(options.default_score());
    f64::from(score as f32)
}
