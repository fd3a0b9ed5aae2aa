//! Tokens of the JavaScript subset mongosh users type.

use super::ShellError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Regex {
        pattern: String,
        flags: String,
    },
    /// Punctuation and operators, longest match first (`===`, `=>`, `...`).
    Punct(&'static str),
    /// A template literal: its cooked text pieces and, between them, the tokens of each
    /// `${…}` substitution (always one piece more than substitutions).
    Template {
        quasis: Vec<String>,
        exprs: Vec<Vec<Token>>,
    },
}

/// Templates nested in substitutions of templates beyond this are refused, so the lexer's
/// own recursion stays bounded.
const MAX_TEMPLATE_NESTING: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Byte offsets into the source.
    pub start: usize,
    pub end: usize,
    /// 1-based line and 0-based column, as Babel reports them.
    pub line: usize,
    pub col: usize,
    /// A line break separates this token from the previous one (for automatic semicolons).
    pub newline_before: bool,
}

const PUNCTS: &[&str] = &[
    ">>>=", "&&=", "||=", "??=", "===", "!==", "**=", "...", "<<=", ">>=", ">>>", "==", "!=", "<=",
    ">=", "&&", "||", "??", "?.", "=>", "++", "--", "+=", "-=", "*=", "/=", "%=", "**", "<<", ">>",
    "{", "}", "[", "]", "&=", "|=", "^=", "(", ")", ",", ":", ";", ".", "=", "+", "-", "*", "/",
    "%", "!", "<", ">", "?", "&", "|", "^", "~",
];

pub fn syntax_error(msg: &str, line: usize, col: usize) -> ShellError {
    let mut e = ShellError::new("SyntaxError", format!("{msg} ({line}:{col})"));
    e.pos = Some((line, col));
    e
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    /// (byte offset, column) of the last column computed.
    col_cache: (usize, usize),
    template_depth: usize,
}

impl Lexer<'_> {
    /// Column of byte offset `at` on the current line, counted from the last column asked
    /// for, so a 100 000-token line costs linear time rather than quadratic.
    fn col(&mut self, at: usize) -> usize {
        let (from, base) = if self.col_cache.0 >= self.line_start && self.col_cache.0 <= at {
            self.col_cache
        } else {
            (self.line_start, 0)
        };
        let col = base
            + self.src.get(from..at).map_or(0, |s| {
                if s.is_ascii() {
                    s.len()
                } else {
                    s.encode_utf16().count()
                }
            });
        self.col_cache = (at, col);
        col
    }

    fn error_here(&mut self, msg: &str, at: usize) -> ShellError {
        syntax_error(msg, self.line, self.col(at))
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn newline(&mut self, at: usize) {
        self.line += 1;
        self.line_start = at + 1;
    }

    /// Skips blanks and comments; says whether a line break was crossed.
    fn skip_space(&mut self) -> Result<bool, ShellError> {
        let mut newline = false;
        while let Some(c) = self.peek(0) {
            match c {
                b'\n' => {
                    self.newline(self.pos);
                    newline = true;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => self.pos += 1,
                b'/' if self.peek(1) == Some(b'/') => {
                    while self.peek(0).is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        match self.peek(0) {
                            None => return Err(self.error_here("Unterminated comment.", start)),
                            Some(b'*') if self.peek(1) == Some(b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(b'\n') => {
                                self.newline(self.pos);
                                newline = true;
                                self.pos += 1;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                }
                _ => {
                    // Non-ASCII whitespace (NBSP, line separators) is still whitespace in JS.
                    let rest = self.src.get(self.pos..).unwrap_or("");
                    match rest.chars().next() {
                        Some(ch) if ch.is_whitespace() => self.pos += ch.len_utf8(),
                        _ => break,
                    }
                }
            }
        }
        Ok(newline)
    }

    fn string(&mut self, quote: u8) -> Result<String, ShellError> {
        let start = self.pos;
        self.pos += 1;
        // The usual string has no escape and no line break: take it whole.
        let body = self.bytes.get(self.pos..).unwrap_or(&[]);
        if let Some(n) = body
            .iter()
            .position(|&b| b == quote || b == b'\\' || b == b'\n' || b == b'$')
        {
            if body.get(n) == Some(&quote) {
                let text = self.src.get(self.pos..self.pos + n).unwrap_or("");
                self.pos += n + 1;
                return Ok(text.to_string());
            }
        }
        let mut out = String::new();
        loop {
            let rest = self.src.get(self.pos..).unwrap_or("");
            let Some(ch) = rest.chars().next() else {
                let msg = if quote == b'`' {
                    "Unterminated template."
                } else {
                    "Unterminated string constant."
                };
                return Err(self.error_here(msg, start));
            };
            match ch {
                '\n' if quote != b'`' => {
                    return Err(self.error_here("Unterminated string constant.", start))
                }
                '\n' => {
                    self.newline(self.pos);
                    out.push('\n');
                    self.pos += 1;
                }
                '$' if quote == b'`' && self.peek(1) == Some(b'{') => {
                    return Err(self.error_here("Unterminated template.", start));
                }
                '\\' => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                c if c as u32 == u32::from(quote) => {
                    self.pos += 1;
                    return Ok(out);
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn hex(&mut self, digits: usize) -> Option<u32> {
        let text = self.src.get(self.pos..self.pos + digits)?;
        let v = u32::from_str_radix(text, 16).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += digits;
        Some(v)
    }

    fn escape(&mut self, out: &mut String) -> Result<(), ShellError> {
        let at = self.pos;
        let rest = self.src.get(self.pos..).unwrap_or("");
        let Some(ch) = rest.chars().next() else {
            return Err(self.error_here("Unterminated string constant.", at));
        };
        self.pos += ch.len_utf8();
        match ch {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '0' if !self.peek(0).is_some_and(|c| c.is_ascii_digit()) => out.push('\0'),
            '\n' => self.newline(at),
            '\r' => {
                if self.peek(0) == Some(b'\n') {
                    self.pos += 1;
                }
            }
            'x' => match self.hex(2).and_then(char::from_u32) {
                Some(c) => out.push(c),
                None => return Err(self.error_here("Bad character escape sequence.", at)),
            },
            'u' => {
                let code = if self.peek(0) == Some(b'{') {
                    self.pos += 1;
                    let end = self.src.get(self.pos..).and_then(|r| r.find('}'));
                    let code = end.and_then(|n| {
                        let t = self.src.get(self.pos..self.pos + n)?;
                        let v = u32::from_str_radix(t, 16).ok()?;
                        self.pos += n + 1;
                        Some(v)
                    });
                    code
                } else {
                    self.hex(4)
                };
                let Some(mut code) = code else {
                    return Err(self.error_here("Bad character escape sequence.", at));
                };
                // A surrogate pair written as two \u escapes.
                if (0xd800..0xdc00).contains(&code)
                    && self.peek(0) == Some(b'\\')
                    && self.peek(1) == Some(b'u')
                {
                    let save = self.pos;
                    self.pos += 2;
                    match self.hex(4) {
                        Some(low) if (0xdc00..0xe000).contains(&low) => {
                            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                        }
                        _ => self.pos = save,
                    }
                }
                // Lone surrogates cannot live in a Rust string; JS would keep them, but
                // BSON (UTF-8) could not store them either.
                match char::from_u32(code) {
                    Some(c) => out.push(c),
                    None if code > 0x10ffff => {
                        return Err(self.error_here("Undefined Unicode code-point.", at))
                    }
                    None => out.push('\u{fffd}'),
                }
            }
            c => out.push(c),
        }
        Ok(())
    }

    fn number(&mut self) -> Result<f64, ShellError> {
        let start = self.pos;
        let radix = match (self.peek(0), self.peek(1)) {
            (Some(b'0'), Some(b'x' | b'X')) => 16,
            (Some(b'0'), Some(b'o' | b'O')) => 8,
            (Some(b'0'), Some(b'b' | b'B')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            let digits_start = self.pos;
            while self
                .peek(0)
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
            {
                self.pos += 1;
            }
            let text: String = self
                .src
                .get(digits_start..self.pos)
                .unwrap_or("")
                .chars()
                .filter(|c| *c != '_')
                .collect();
            let mut value = 0f64;
            if text.is_empty() {
                return Err(self.error_here("Expected number in radix", start));
            }
            for c in text.chars() {
                match c.to_digit(radix) {
                    Some(d) => value = value * f64::from(radix) + f64::from(d),
                    None => return Err(self.error_here("Invalid number", start)),
                }
            }
            return Ok(value);
        }
        // Plain integers (most numbers typed or pasted) need no float parsing.
        let digits = self.bytes.get(start..).unwrap_or(&[]);
        let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
        let ends_plain = !matches!(
            digits.get(n),
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'$')
        );
        if n > 0 && n <= 15 && ends_plain && !(n > 1 && digits.first() == Some(&b'0')) {
            let value = digits
                .iter()
                .take(n)
                .fold(0u64, |acc, c| acc * 10 + u64::from(c - b'0'));
            self.pos += n;
            return Ok(value as f64);
        }
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_digit() || c == b'_')
        {
            self.pos += 1;
        }
        if self.peek(0) == Some(b'.') {
            self.pos += 1;
            while self
                .peek(0)
                .is_some_and(|c| c.is_ascii_digit() || c == b'_')
            {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(0), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            } else {
                self.pos = save;
                return Err(self.error_here(
                    "Floating-point numbers require a valid exponent after the 'e'.",
                    save,
                ));
            }
        }
        if self.peek(0) == Some(b'n') {
            return Err(self.error_here("BigInt literals are not supported in this sandbox", start));
        }
        if self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b'$')
        {
            return Err(self.error_here("Identifier directly after number.", self.pos));
        }
        let text: String = self
            .src
            .get(start..self.pos)
            .unwrap_or("")
            .chars()
            .filter(|c| *c != '_')
            .collect();
        text.parse::<f64>()
            .map_err(|_| self.error_here("Invalid number.", start))
    }

    fn regex(&mut self) -> Result<Tok, ShellError> {
        let start = self.pos;
        self.pos += 1;
        let mut pattern = String::new();
        let mut in_class = false;
        loop {
            let rest = self.src.get(self.pos..).unwrap_or("");
            let Some(ch) = rest.chars().next() else {
                return Err(self.error_here("Unterminated regular expression.", start));
            };
            self.pos += ch.len_utf8();
            match ch {
                '\n' => return Err(self.error_here("Unterminated regular expression.", start)),
                '\\' => {
                    pattern.push('\\');
                    let rest = self.src.get(self.pos..).unwrap_or("");
                    match rest.chars().next() {
                        Some(c) if c != '\n' => {
                            pattern.push(c);
                            self.pos += c.len_utf8();
                        }
                        _ => return Err(self.error_here("Unterminated regular expression.", start)),
                    }
                }
                '[' => {
                    in_class = true;
                    pattern.push(ch);
                }
                ']' => {
                    in_class = false;
                    pattern.push(ch);
                }
                '/' if !in_class => break,
                c => pattern.push(c),
            }
        }
        let flags_start = self.pos;
        while self.peek(0).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        let flags = self
            .src
            .get(flags_start..self.pos)
            .unwrap_or("")
            .to_string();
        Ok(Tok::Regex { pattern, flags })
    }
}

fn single_punct(c: char) -> Option<&'static str> {
    Some(match c {
        '{' => "{",
        '}' => "}",
        '[' => "[",
        ']' => "]",
        '(' => "(",
        ')' => ")",
        ',' => ",",
        ':' => ":",
        ';' => ";",
        '~' => "~",
        _ => return None,
    })
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Whether a `/` after this token divides (else it starts a regular expression literal).
fn ends_value(tok: Option<&Tok>) -> bool {
    match tok {
        Some(Tok::Ident(name)) => !matches!(
            name.as_str(),
            "return"
                | "typeof"
                | "instanceof"
                | "in"
                | "of"
                | "new"
                | "delete"
                | "void"
                | "throw"
                | "case"
                | "do"
                | "else"
        ),
        Some(Tok::Num(_) | Tok::Str(_) | Tok::Regex { .. } | Tok::Template { .. }) => true,
        Some(Tok::Punct(p)) => matches!(*p, ")" | "]" | "}"),
        None => false,
    }
}

impl Lexer<'_> {
    /// The next token after blanks and comments, or None at the end of the input.
    fn next_token(&mut self, prev: Option<&Tok>) -> Result<Option<Token>, ShellError> {
        let newline_before = self.skip_space()?;
        let start = self.pos;
        let (line, col) = (self.line, self.col(start));
        let rest = self.src.get(start..).unwrap_or("");
        let Some(ch) = rest.chars().next() else {
            return Ok(None);
        };
        let tok = if ch == '`' {
            self.template()?
        } else if ch == '"' || ch == '\'' {
            Tok::Str(self.string(ch as u8)?)
        } else if ch.is_ascii_digit()
            || (ch == '.' && self.peek(1).is_some_and(|c| c.is_ascii_digit()))
        {
            Tok::Num(self.number()?)
        } else if is_ident_start(ch) {
            // ASCII identifiers (nearly all) end at the first byte that is not one of theirs.
            let ascii = rest
                .bytes()
                .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$'))
                .unwrap_or(rest.len());
            let len = if rest.as_bytes().get(ascii).is_some_and(|b| !b.is_ascii()) {
                rest.char_indices()
                    .find(|(_, c)| !is_ident_char(*c))
                    .map_or(rest.len(), |(i, _)| i)
            } else {
                ascii
            };
            self.pos += len;
            Tok::Ident(rest.get(..len).unwrap_or("").to_string())
        } else if ch == '/' && !ends_value(prev) {
            self.regex()?
        } else if let Some(p) = single_punct(ch) {
            // Brackets and separators (half the tokens of a pasted document) start no
            // longer punctuator: no need to try the table.
            self.pos += 1;
            Tok::Punct(p)
        } else if ch == '.' && self.peek(1) != Some(b'.') {
            // A member access (`db.c.find`): not `...`, and a digit after it was a number.
            self.pos += 1;
            Tok::Punct(".")
        } else if let Some(p) = PUNCTS
            .iter()
            .find(|p| p.as_bytes().first() == rest.as_bytes().first() && rest.starts_with(**p))
        {
            self.pos += p.len();
            Tok::Punct(p)
        } else {
            return Err(syntax_error(
                &format!("Unexpected character '{ch}'."),
                line,
                col,
            ));
        };
        Ok(Some(Token {
            tok,
            start,
            end: self.pos,
            line,
            col,
            newline_before,
        }))
    }

    /// A template literal; each `${` substitution is lexed as tokens up to its closing brace.
    fn template(&mut self) -> Result<Tok, ShellError> {
        let start = self.pos;
        self.template_depth += 1;
        if self.template_depth > MAX_TEMPLATE_NESTING {
            return Err(self.error_here("Template literals nest too deeply", start));
        }
        self.pos += 1;
        let mut quasis = Vec::new();
        let mut exprs = Vec::new();
        let mut cur = String::new();
        loop {
            let rest = self.src.get(self.pos..).unwrap_or("");
            let Some(ch) = rest.chars().next() else {
                return Err(self.error_here("Unterminated template.", start));
            };
            match ch {
                '`' => {
                    self.pos += 1;
                    quasis.push(cur);
                    self.template_depth -= 1;
                    return Ok(Tok::Template { quasis, exprs });
                }
                '$' if self.peek(1) == Some(b'{') => {
                    self.pos += 2;
                    quasis.push(std::mem::take(&mut cur));
                    let mut toks: Vec<Token> = Vec::new();
                    let mut depth = 0usize;
                    loop {
                        let prev = toks.last().map(|t| &t.tok);
                        let Some(t) = self.next_token(prev)? else {
                            return Err(self.error_here("Unterminated template.", start));
                        };
                        match t.tok {
                            Tok::Punct("{") => depth += 1,
                            Tok::Punct("}") if depth == 0 => break,
                            Tok::Punct("}") => depth -= 1,
                            _ => {}
                        }
                        toks.push(t);
                    }
                    exprs.push(toks);
                }
                '\n' => {
                    self.newline(self.pos);
                    cur.push('\n');
                    self.pos += 1;
                }
                '\\' => {
                    self.pos += 1;
                    self.escape(&mut cur)?;
                }
                c => {
                    cur.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, ShellError> {
    let mut lx = Lexer::at(src, &LexPosition::default());
    let mut tokens: Vec<Token> = Vec::new();
    while let Some(t) = lx.next_token(tokens.last().map(|t| &t.tok))? {
        tokens.push(t);
    }
    Ok(tokens)
}

/// Where a lexer stopped between two tokens, so that reading a giant statement can go on
/// later from there: `next_token` from the start, each time from where the last one
/// stopped and given the token before, reads what `tokenize` reads.
#[derive(Debug, Clone)]
pub struct LexPosition {
    pos: usize,
    line: usize,
    line_start: usize,
    col_cache: (usize, usize),
}

impl Default for LexPosition {
    fn default() -> Self {
        LexPosition {
            pos: 0,
            line: 1,
            line_start: 0,
            col_cache: (0, 0),
        }
    }
}

impl LexPosition {
    /// The byte offset reached.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

/// The token of `src` at `at` (None at the end), moving `at` past it; `prev` is the token
/// before it (it tells a regular expression from a division).
pub fn next_token(
    src: &str,
    at: &mut LexPosition,
    prev: Option<&Tok>,
) -> Result<Option<Token>, ShellError> {
    let mut lx = Lexer::at(src, at);
    let token = lx.next_token(prev)?;
    *at = LexPosition {
        pos: lx.pos,
        line: lx.line,
        line_start: lx.line_start,
        col_cache: lx.col_cache,
    };
    Ok(token)
}

impl<'a> Lexer<'a> {
    fn at(src: &'a str, at: &LexPosition) -> Self {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: at.pos,
            line: at.line,
            line_start: at.line_start,
            col_cache: at.col_cache,
            template_depth: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        match tokenize(src) {
            Ok(t) => t.into_iter().map(|t| t.tok).collect(),
            Err(e) => panic!("{src}: {e:?}"),
        }
    }

    #[test]
    fn plain_numbers_and_strings_take_the_short_path_with_the_same_result() {
        let cases: &[(&str, Tok)] = &[
            ("0", Tok::Num(0.0)),
            ("7", Tok::Num(7.0)),
            ("123456789012345", Tok::Num(123_456_789_012_345.0)),
            ("12345678901234567", Tok::Num(12_345_678_901_234_567.0)),
            ("1_000", Tok::Num(1000.0)),
            ("1.5", Tok::Num(1.5)),
            ("2e3", Tok::Num(2000.0)),
            ("0x1f", Tok::Num(31.0)),
            ("'plain'", Tok::Str("plain".into())),
            ("\"a$b\"", Tok::Str("a$b".into())),
            ("'a\\nb'", Tok::Str("a\nb".into())),
            ("'é漢'", Tok::Str("é漢".into())),
        ];
        for (src, want) in cases {
            assert_eq!(toks(src), vec![want.clone()], "{src}");
        }
        assert_eq!(
            toks("{a:[1,2]};"),
            vec![
                Tok::Punct("{"),
                Tok::Ident("a".into()),
                Tok::Punct(":"),
                Tok::Punct("["),
                Tok::Num(1.0),
                Tok::Punct(","),
                Tok::Num(2.0),
                Tok::Punct("]"),
                Tok::Punct("}"),
                Tok::Punct(";"),
            ]
        );
        assert!(tokenize("5x").is_err());
        assert!(tokenize("'open").is_err());
    }

    #[test]
    fn literals() {
        assert_eq!(
            toks(r#"'a\'b' "c\n\u0041\x42" `t` 1 -2.5 1e3 .5 0x1F"#),
            vec![
                Tok::Str("a'b".into()),
                Tok::Str("c\nAB".into()),
                Tok::Template {
                    quasis: vec!["t".into()],
                    exprs: vec![]
                },
                Tok::Num(1.0),
                Tok::Punct("-"),
                Tok::Num(2.5),
                Tok::Num(1000.0),
                Tok::Num(0.5),
                Tok::Num(31.0),
            ]
        );
        assert_eq!(
            toks("x /ab+c/i // note\n/* c */ y"),
            vec![
                Tok::Ident("x".into()),
                Tok::Punct("/"),
                Tok::Ident("ab".into()),
                Tok::Punct("+"),
                Tok::Ident("c".into()),
                Tok::Punct("/"),
                Tok::Ident("i".into()),
                Tok::Ident("y".into()),
            ]
        );
        assert_eq!(
            toks("{a: /^re[/]d/i}"),
            vec![
                Tok::Punct("{"),
                Tok::Ident("a".into()),
                Tok::Punct(":"),
                Tok::Regex {
                    pattern: "^re[/]d".into(),
                    flags: "i".into()
                },
                Tok::Punct("}"),
            ]
        );
    }

    #[test]
    fn errors() {
        for src in [
            "'abc", "\"a\nb\"", "/* x", "1e", "3in", "#", "`${x`", "`a${`",
        ] {
            assert!(tokenize(src).is_err(), "{src}");
        }
    }
}
