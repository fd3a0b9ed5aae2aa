//! Python's tokens: names, numbers, strings (with prefixes, triple quotes, f-strings),
//! operators, and the NEWLINE / INDENT / DEDENT tokens that Python's indentation makes.

use super::value::PyErr;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Name(String),
    Int(i64),
    Float(f64),
    /// A string literal's decoded text; `fstring` keeps the raw text between the quotes
    /// so the parser can split out the `{…}` fields.
    Str {
        text: String,
        bytes: bool,
        fstring: bool,
    },
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

const OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "->", "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=",
    "/=", "%=", "&=", "|=", "^=", "@=", ":=", "<<", ">>", "+", "-", "*", "/", "%", "@", "<", ">",
    "=", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "&", "|", "^", "~",
];

pub fn syntax(msg: &str, line: usize) -> PyErr {
    PyErr::new("SyntaxError", format!("{msg} (<snippet>, line {line})"))
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, PyErr> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut indents: Vec<usize> = vec![0];
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut i = 0usize;
    let mut at_line_start = true;
    while i < chars.len() {
        if at_line_start && depth == 0 {
            // Measure indentation; blank and comment-only lines do not count.
            let mut col = 0;
            let mut j = i;
            while j < chars.len() && (chars[j] == ' ' || chars[j] == '\t') {
                col += if chars[j] == '\t' { 8 - col % 8 } else { 1 };
                j += 1;
            }
            let blank = j >= chars.len() || matches!(chars[j], '\n' | '#' | '\r');
            if !blank {
                let current = indents.last().copied().unwrap_or(0);
                if col > current {
                    indents.push(col);
                    out.push(Token {
                        tok: Tok::Indent,
                        line,
                    });
                } else {
                    while col < indents.last().copied().unwrap_or(0) {
                        indents.pop();
                        out.push(Token {
                            tok: Tok::Dedent,
                            line,
                        });
                    }
                    if col != indents.last().copied().unwrap_or(0) {
                        return Err(PyErr::new(
                            "IndentationError",
                            format!("unindent does not match any outer indentation level (<snippet>, line {line})"),
                        ));
                    }
                }
            }
            i = j;
            at_line_start = false;
            continue;
        }
        let c = chars[i];
        match c {
            '\n' => {
                if depth == 0 && !matches!(out.last().map(|t| &t.tok), Some(Tok::Newline) | None) {
                    out.push(Token {
                        tok: Tok::Newline,
                        line,
                    });
                }
                line += 1;
                i += 1;
                at_line_start = true;
            }
            ' ' | '\t' | '\r' | '\x0c' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                i += 2;
                line += 1;
            }
            '\\' if chars.get(i + 1) == Some(&'\r') && chars.get(i + 2) == Some(&'\n') => {
                i += 3;
                line += 1;
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let (tok, next) = number(&chars, i, line)?;
                out.push(Token { tok, line });
                i = next;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let lower = word.to_ascii_lowercase();
                let is_prefix = word.len() <= 2
                    && lower.chars().all(|p| matches!(p, 'r' | 'b' | 'f' | 'u'))
                    && matches!(chars.get(i), Some('\'' | '"'));
                if is_prefix {
                    let (tok, next, lines) = string(&chars, i, &lower, line)?;
                    out.push(Token { tok, line });
                    line += lines;
                    i = next;
                } else {
                    out.push(Token {
                        tok: Tok::Name(word),
                        line,
                    });
                }
            }
            '\'' | '"' => {
                let (tok, next, lines) = string(&chars, i, "", line)?;
                out.push(Token { tok, line });
                line += lines;
                i = next;
            }
            _ => {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                    return Err(syntax(&format!("invalid character '{c}'"), line));
                };
                match *op {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => {
                        if depth == 0 {
                            return Err(syntax(&format!("unmatched '{op}'"), line));
                        }
                        depth -= 1;
                    }
                    _ => {}
                }
                i += op.chars().count();
                out.push(Token {
                    tok: Tok::Op(op),
                    line,
                });
            }
        }
    }
    if depth > 0 {
        return Err(syntax("'(' was never closed", line));
    }
    if !matches!(out.last().map(|t| &t.tok), Some(Tok::Newline) | None) {
        out.push(Token {
            tok: Tok::Newline,
            line,
        });
    }
    while indents.len() > 1 {
        indents.pop();
        out.push(Token {
            tok: Tok::Dedent,
            line,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
    });
    Ok(out)
}

fn number(chars: &[char], start: usize, line: usize) -> Result<(Tok, usize), PyErr> {
    let mut i = start;
    let radix = match (chars.get(i), chars.get(i + 1)) {
        (Some('0'), Some('x' | 'X')) => 16,
        (Some('0'), Some('o' | 'O')) => 8,
        (Some('0'), Some('b' | 'B')) => 2,
        _ => 10,
    };
    if radix != 10 {
        i += 2;
        let s = i;
        while i < chars.len() && (chars[i].is_digit(radix) || chars[i] == '_') {
            i += 1;
        }
        let digits: String = chars[s..i].iter().filter(|c| **c != '_').collect();
        return i64::from_str_radix(&digits, radix)
            .map(|n| (Tok::Int(n), i))
            .map_err(|_| syntax("invalid number literal", line));
    }
    let mut float = false;
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '_') {
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        float = true;
        i += 1;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '_') {
            i += 1;
        }
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        if chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            i = j;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    if chars.get(i).is_some_and(|c| c.is_alphabetic() || *c == '_') {
        return Err(syntax("invalid decimal literal", line));
    }
    let text: String = chars[start..i].iter().filter(|c| **c != '_').collect();
    if float {
        text.parse::<f64>()
            .map(|f| (Tok::Float(f), i))
            .map_err(|_| syntax("invalid number literal", line))
    } else {
        match text.parse::<i64>() {
            Ok(n) => Ok((Tok::Int(n), i)),
            // Beyond 64 bits the sandbox's ints stop; a float keeps the magnitude.
            Err(_) => Err(PyErr::new(
                "NotImplementedError",
                format!("integers beyond 64 bits are not supported in the sandbox (line {line})"),
            )),
        }
    }
}

/// Returns the token, the index after the closing quote and the newlines crossed.
fn string(
    chars: &[char],
    start: usize,
    prefix: &str,
    line: usize,
) -> Result<(Tok, usize, usize), PyErr> {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let raw = prefix.contains('r');
    let bytes = prefix.contains('b');
    let fstring = prefix.contains('f');
    let mut i = start + if triple { 3 } else { 1 };
    let mut text = String::new();
    let mut lines = 0;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(syntax(
                if triple {
                    "unterminated triple-quoted string literal"
                } else {
                    "unterminated string literal"
                },
                line,
            ));
        };
        if c == quote {
            if !triple {
                i += 1;
                break;
            }
            if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                i += 3;
                break;
            }
        }
        if c == '\n' {
            if !triple {
                return Err(syntax("unterminated string literal", line));
            }
            lines += 1;
        }
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                return Err(syntax("unterminated string literal", line));
            };
            if raw || fstring {
                // f-strings keep escapes for the field splitter, which decodes the literal parts.
                text.push(c);
                text.push(n);
                if n == '\n' {
                    lines += 1;
                }
                i += 2;
                continue;
            }
            i += 2;
            match n {
                '\n' => lines += 1,
                'n' => text.push('\n'),
                't' => text.push('\t'),
                'r' => text.push('\r'),
                '0' => text.push('\0'),
                'a' => text.push('\x07'),
                'b' => text.push('\x08'),
                'f' => text.push('\x0c'),
                'v' => text.push('\x0b'),
                '\\' | '\'' | '"' => text.push(n),
                'x' | 'u' | 'U' => {
                    let len = match n {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = chars.iter().skip(i).take(len).collect();
                    let code = u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == len)
                        .ok_or_else(|| syntax("truncated \\xXX escape", line))?;
                    i += len;
                    if bytes && n == 'x' {
                        // Bytes keep raw byte values; they are stored one char per byte.
                        text.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    } else {
                        text.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                }
                other => {
                    text.push('\\');
                    text.push(other);
                }
            }
            continue;
        }
        text.push(c);
        i += 1;
    }
    if bytes && text.chars().any(|c| c as u32 > 0xff) {
        return Err(syntax(
            "bytes can only contain ASCII literal characters",
            line,
        ));
    }
    Ok((
        Tok::Str {
            text,
            bytes,
            fstring,
        },
        i,
        lines,
    ))
}

/// Decodes the escapes of an f-string's literal part.
pub fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}
