//! The FT.SEARCH query language (RediSearch's dialect for simple queries): terms, `"exact
//! phrases"`, prefixes `lap*`, `-negation`, `a | b` unions, `(groups)`, `@field:` scoping,
//! numeric ranges `@price:[(10 +inf]` and tag sets `@tags:{a | b}`.
//!
//! As in RediSearch, `|` binds tighter than the implicit intersection: `a b|c` is
//! `a AND (b OR c)`.

/// English stop words RediSearch drops from text by default.
pub const STOP_WORDS: &[&str] = &[
    "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
    "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `*`: every document.
    All,
    /// Matches nothing (a query made of stop words only).
    Nothing,
    Term {
        word: String,
        field: Option<String>,
    },
    Prefix {
        prefix: String,
        field: Option<String>,
    },
    Phrase {
        words: Vec<String>,
        field: Option<String>,
    },
    Tag {
        field: String,
        values: Vec<String>,
    },
    Numeric {
        field: String,
        min: f64,
        min_exclusive: bool,
        max: f64,
        max_exclusive: bool,
    },
    /// `@field:[lon lat radius unit]`.
    Geo {
        field: String,
        radius: super::geo::Radius,
    },
    /// `%word%`: words within `distance` edits (one per `%`, at most 3).
    Fuzzy {
        word: String,
        distance: usize,
        field: Option<String>,
    },
    /// `~x`: never narrows the results.
    Optional(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

/// Most nested groups and negations a query may have.
const MAX_DEPTH: usize = 100;

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    depth: usize,
    is_stopword: &'a dyn Fn(&str) -> bool,
}

/// `Syntax error at offset 6 near 2`, as RediSearch words it.
fn syntax_error(offset: usize, near: &str) -> String {
    format!("Syntax error at offset {offset} near {near}")
}

/// `text` parsed with the default English stop words.
pub fn parse(text: &str) -> Result<Node, String> {
    parse_with(text, &|w| STOP_WORDS.contains(&w))
}

/// `text` parsed with an index's own stop words (FT.CREATE ... STOPWORDS).
pub fn parse_with(text: &str, is_stopword: &dyn Fn(&str) -> bool) -> Result<Node, String> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
        depth: 0,
        is_stopword,
    };
    let node = parser.intersect(None)?;
    parser.skip_spaces();
    if parser.at < parser.chars.len() {
        return Err(parser.error_here());
    }
    Ok(node)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || !c.is_ascii()
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// The error at the token under the cursor (or the last one, at the end).
    fn error_here(&self) -> String {
        let mut start = self.at.min(self.chars.len());
        if start == self.chars.len() {
            while start > 0 && !is_word_char(self.chars[start - 1]) {
                start -= 1;
            }
            while start > 0 && is_word_char(self.chars[start - 1]) {
                start -= 1;
            }
        }
        let word: String = self.chars[start..]
            .iter()
            .take_while(|c| is_word_char(**c))
            .collect();
        syntax_error(start, &word)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here());
        }
        Ok(())
    }

    /// A sequence of unions up to `)` or the end.
    fn intersect(&mut self, field: Option<&str>) -> Result<Node, String> {
        let mut parts = Vec::new();
        loop {
            self.skip_spaces();
            match self.peek() {
                None | Some(')') => break,
                // In dialect 1 a negation takes the rest of the intersection with it:
                // `a -b c` is `a AND NOT (b AND c)`.
                Some('-') => {
                    self.at += 1;
                    self.enter()?;
                    let rest = self.intersect(field)?;
                    self.depth -= 1;
                    parts.push(Node::Not(Box::new(rest)));
                    break;
                }
                _ => parts.push(self.union(field)?),
            }
        }
        Ok(match parts.len() {
            0 => Node::Nothing,
            1 => parts.into_iter().next().unwrap_or(Node::Nothing),
            _ => {
                if parts.iter().all(|p| *p == Node::Nothing) {
                    Node::Nothing
                } else {
                    // Stop words drop out of an intersection with other terms.
                    let kept: Vec<Node> =
                        parts.into_iter().filter(|p| *p != Node::Nothing).collect();
                    if kept.len() == 1 {
                        kept.into_iter().next().unwrap_or(Node::Nothing)
                    } else {
                        Node::And(kept)
                    }
                }
            }
        })
    }

    fn union(&mut self, field: Option<&str>) -> Result<Node, String> {
        let mut alternatives = vec![self.unary(field)?];
        loop {
            self.skip_spaces();
            if self.peek() != Some('|') {
                break;
            }
            self.at += 1;
            self.skip_spaces();
            alternatives.push(self.unary(field)?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.pop().unwrap_or(Node::Nothing)
        } else {
            Node::Or(alternatives)
        })
    }

    fn unary(&mut self, field: Option<&str>) -> Result<Node, String> {
        self.enter()?;
        let node = match self.peek() {
            Some('-') => {
                self.at += 1;
                Node::Not(Box::new(self.unary(field)?))
            }
            Some('~') => {
                self.at += 1;
                Node::Optional(Box::new(self.unary(field)?))
            }
            Some('@') => {
                self.at += 1;
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| is_word_char(c) || c == '.' || c == '$')
                {
                    self.at += 1;
                }
                let name: String = self.chars[start..self.at].iter().collect();
                if name.is_empty() || self.peek() != Some(':') {
                    return Err(self.error_here());
                }
                self.at += 1;
                self.skip_spaces();
                self.field_atom(name)?
            }
            _ => self.atom(field)?,
        };
        self.depth -= 1;
        Ok(node)
    }

    fn field_atom(&mut self, field: String) -> Result<Node, String> {
        match self.peek() {
            Some('{') => {
                self.at += 1;
                let mut values = Vec::new();
                let mut current = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.error_here()),
                        Some('}') => {
                            self.at += 1;
                            break;
                        }
                        Some('|') => {
                            values.push(current.trim().to_string());
                            current.clear();
                            self.at += 1;
                        }
                        Some('\\') => {
                            self.at += 1;
                            if let Some(c) = self.peek() {
                                current.push(c);
                                self.at += 1;
                            }
                        }
                        Some(c) => {
                            current.push(c);
                            self.at += 1;
                        }
                    }
                }
                values.push(current.trim().to_string());
                Ok(Node::Tag { field, values })
            }
            Some('[') => {
                self.at += 1;
                let (min, min_exclusive) = self.bound()?;
                let (max, max_exclusive) = self.bound()?;
                self.skip_spaces();
                if self.peek() != Some(']') {
                    return self.geo(field, min, max);
                }
                self.at += 1;
                Ok(Node::Numeric {
                    field,
                    min,
                    min_exclusive,
                    max,
                    max_exclusive,
                })
            }
            None => Err(syntax_error(self.at.saturating_sub(1), &field)),
            _ => self.atom(Some(&field)),
        }
    }

    /// The rest of `[lon lat radius unit]` after its first two numbers.
    fn geo(&mut self, field: String, lon: f64, lat: f64) -> Result<Node, String> {
        let radius_at = self.at;
        let (radius, _) = self.bound()?;
        self.skip_spaces();
        let unit_at = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.at += 1;
        }
        let unit: String = self.chars[unit_at..self.at].iter().collect();
        if unit.is_empty() {
            // The module points at what follows the radius, and quotes the radius.
            let radius_text: String = self.chars[radius_at..unit_at]
                .iter()
                .filter(|c| !c.is_whitespace() && **c != ',')
                .collect();
            return Err(syntax_error(unit_at, &radius_text));
        }
        self.skip_spaces();
        if self.peek() != Some(']') {
            return Err(self.error_here());
        }
        self.at += 1;
        let radius =
            super::geo::Radius::new(lon, lat, radius, &unit, "Invalid GeoFilter unit".into())?;
        Ok(Node::Geo { field, radius })
    }

    fn bound(&mut self) -> Result<(f64, bool), String> {
        // Commas separate a range's numbers like spaces.
        while self.peek().is_some_and(|c| c.is_whitespace() || c == ',') {
            self.at += 1;
        }
        let exclusive = self.peek() == Some('(');
        if exclusive {
            self.at += 1;
        }
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        let value = match text.to_ascii_lowercase().as_str() {
            "inf" | "+inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => match other.parse::<f64>() {
                Ok(v) if !other.is_empty() && v.is_finite() => v,
                _ => {
                    self.at = start;
                    return Err(self.error_here());
                }
            },
        };
        Ok((value, exclusive))
    }

    fn atom(&mut self, field: Option<&str>) -> Result<Node, String> {
        let field_name = field.map(str::to_string);
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let inner = self.intersect(field)?;
                self.skip_spaces();
                if self.peek() != Some(')') {
                    return Err(self.error_here());
                }
                self.at += 1;
                Ok(inner)
            }
            Some('*') => {
                self.at += 1;
                Ok(Node::All)
            }
            Some('%') => {
                let mut distance = 0;
                while self.peek() == Some('%') {
                    if distance == 3 {
                        return Err(self.error_here());
                    }
                    distance += 1;
                    self.at += 1;
                }
                let start = self.at;
                while self.peek().is_some_and(is_word_char) {
                    self.at += 1;
                }
                let word: String = self.chars[start..self.at].iter().collect();
                let closing = self.chars[self.at..]
                    .iter()
                    .take_while(|c| **c == '%')
                    .count();
                if word.is_empty() || closing != distance {
                    self.at = start;
                    return Err(self.error_here());
                }
                self.at += closing;
                Ok(Node::Fuzzy {
                    word: word.to_lowercase(),
                    distance,
                    field: field_name,
                })
            }
            Some('"') => {
                self.at += 1;
                let start = self.at;
                while self.peek().is_some_and(|c| c != '"') {
                    self.at += 1;
                }
                if self.peek() != Some('"') {
                    return Err(self.error_here());
                }
                let text: String = self.chars[start..self.at].iter().collect();
                self.at += 1;
                let words: Vec<String> = tokenize(&text)
                    .into_iter()
                    .filter(|w| !(self.is_stopword)(w))
                    .collect();
                Ok(if words.is_empty() {
                    Node::Nothing
                } else {
                    Node::Phrase {
                        words,
                        field: field_name,
                    }
                })
            }
            Some(c) if is_word_char(c) || c == '\\' => {
                let mut word = String::new();
                while let Some(c) = self.peek() {
                    if c == '\\' {
                        self.at += 1;
                        if let Some(escaped) = self.peek() {
                            word.push(escaped);
                            self.at += 1;
                        }
                    } else if is_word_char(c) {
                        word.push(c);
                        self.at += 1;
                    } else {
                        break;
                    }
                }
                let word = word.to_lowercase();
                if self.peek() == Some('*') {
                    self.at += 1;
                    return Ok(Node::Prefix {
                        prefix: word,
                        field: field_name,
                    });
                }
                if (self.is_stopword)(&word) {
                    return Ok(Node::Nothing);
                }
                Ok(Node::Term {
                    word,
                    field: field_name,
                })
            }
            _ => Err(self.error_here()),
        }
    }
}

/// Whether `a` and `b` are at most `limit` single-character edits apart (Levenshtein).
pub fn within_edits(a: &str, b: &str, limit: usize) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > limit {
        return false;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut next = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            next[j + 1] = (row[j] + usize::from(ca != cb))
                .min(row[j + 1] + 1)
                .min(next[j] + 1);
        }
        if next.iter().min().is_some_and(|m| *m > limit) {
            return false;
        }
        row = next;
    }
    row.last().is_some_and(|d| *d <= limit)
}

/// Words of a text as RediSearch splits them: on punctuation and spaces, lower-cased.
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The stem RediSearch's English stemmer (Snowball's `english`, as libstemmer has it) gives
/// a word.
pub fn stem(word: &str) -> String {
    crate::mongo::index::stem::stem(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_with_redisearch_precedence() {
        let term = |w: &str| Node::Term {
            word: w.into(),
            field: None,
        };
        assert_eq!(parse("laptop").unwrap(), term("laptop"));
        assert_eq!(
            parse("a1 b|c").unwrap(),
            Node::And(vec![term("a1"), Node::Or(vec![term("b"), term("c")])])
        );
        assert_eq!(parse("the").unwrap(), Node::Nothing);
        assert_eq!(parse("the fox").unwrap(), term("fox"));
        assert_eq!(
            parse("@price:[(80 +inf]").unwrap(),
            Node::Numeric {
                field: "price".into(),
                min: 80.0,
                min_exclusive: true,
                max: f64::INFINITY,
                max_exclusive: false
            }
        );
        assert_eq!(
            parse("@t:{ a | B c }").unwrap(),
            Node::Tag {
                field: "t".into(),
                values: vec!["a".into(), "B c".into()]
            }
        );
    }

    #[test]
    fn syntax_errors_point_where_redisearch_points() {
        assert_eq!(parse("(a").unwrap_err(), "Syntax error at offset 1 near a");
        assert_eq!(
            parse("@c:[1 2").unwrap_err(),
            "Syntax error at offset 6 near 2"
        );
        assert_eq!(parse("@a:").unwrap_err(), "Syntax error at offset 2 near a");
        assert_eq!(
            parse("@price:[a b]").unwrap_err(),
            "Syntax error at offset 8 near a"
        );
    }

    #[test]
    fn fuzzy_terms_count_edits() {
        for (a, b, limit, within) in [
            ("aple", "apple", 1, true),
            ("bannaa", "banana", 1, false),
            ("bannaa", "banana", 2, true),
            ("ap", "apple", 3, true),
            ("ap", "apple", 2, false),
            ("", "ab", 2, true),
        ] {
            assert_eq!(within_edits(a, b, limit), within, "{a} {b} {limit}");
        }
        assert!(matches!(
            parse("%%apple%%").unwrap(),
            Node::Fuzzy { distance: 2, .. }
        ));
        assert!(parse("%%%%a%%%%").is_err());
        assert!(parse("%a").is_err());
        assert!(matches!(parse("~a").unwrap(), Node::Optional(_)));
    }

    /// Random pieces of the grammar, spliced: every query parses or errors, never panics.
    #[test]
    fn no_query_panics() {
        const PIECES: &[&str] = &[
            "@",
            "a",
            ":",
            "{",
            "}",
            "[",
            "]",
            "(",
            ")",
            "|",
            "-",
            "*",
            "\"",
            "\\",
            " ",
            "1",
            "-inf",
            "+inf",
            "(5",
            "@t:",
            "é",
            "the",
            "x*",
            "..",
            "=>",
            "$",
            ",",
            "km",
            "[1 2 3 km]",
            "@g:[",
            "mi]",
        ];
        let mut rng = crate::redis::fuzz::Rng(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: usize| rng.below(n);
        for _ in 0..50_000 {
            let mut query = String::new();
            for _ in 0..next(14) {
                query.push_str(PIECES[next(PIECES.len())]);
            }
            let _ = parse(&query);
        }
        assert!(parse(&"(".repeat(100_000)).is_err());
        assert!(parse(&"-".repeat(100_000)).is_err());
    }
}
