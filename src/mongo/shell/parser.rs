//! Statements and expressions of the mongosh subset: shell commands (`use`, `show`, `it`),
//! literals, member access, calls, `new`, and `const`/`let`/`var` bindings.

use super::lexer::{syntax_error, Tok, Token};
use super::ShellError;

/// Nesting beyond this is refused with a RangeError, so that hostile input (`[[[[…`) cannot
/// exhaust the stack, which in wasm (1 MiB) would kill the session. MongoDB itself stores
/// documents only up to 100 levels deep, so 120 leaves room for the call around a document.
pub const MAX_DEPTH: usize = 120;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
    Undefined,
    Regex {
        pattern: String,
        flags: String,
    },
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    Ident {
        name: String,
        line: usize,
        col: usize,
    },
    Member {
        object: Box<Expr>,
        name: String,
        /// Source text of the whole member expression, for "x.y is not a function".
        text: String,
    },
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
        text: String,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    New {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    Use(String),
    Show(String),
    It,
    Expr(Expr),
    Let { name: String, value: Option<Expr> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub first_line: usize,
    pub last_line: usize,
}

struct Parser<'a> {
    src: &'a str,
    tokens: &'a [Token],
    pos: usize,
    depth: usize,
}

fn too_deep() -> ShellError {
    ShellError::new("RangeError", "Maximum call stack size exceeded")
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&'a Token> {
        self.tokens.get(self.pos + n)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Punct(q), .. }) if *q == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self) -> ShellError {
        match self.peek() {
            Some(t) => syntax_error("Unexpected token", t.line, t.col),
            None => {
                let (line, col) = end_position(self.src);
                syntax_error("Unexpected token", line, col)
            }
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), ShellError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            match self.peek() {
                Some(t) => Err(syntax_error(
                    &format!("Unexpected token, expected \"{p}\""),
                    t.line,
                    t.col,
                )),
                None => Err(self.unexpected()),
            }
        }
    }

    /// Line and column just after the previous token.
    fn prev_end_position(&self) -> (usize, usize) {
        match self.pos.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(t) => {
                let text = self.src.get(t.start..t.end).unwrap_or("");
                match text.rfind('\n') {
                    Some(nl) => (
                        t.line + text.matches('\n').count(),
                        text.get(nl + 1..).map_or(0, |r| r.encode_utf16().count()),
                    ),
                    None => (t.line, t.col + text.encode_utf16().count()),
                }
            }
            None => (1, 0),
        }
    }

    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, |t| t.end)
    }

    /// Source text of an expression for error messages; very long callees (a huge literal
    /// argument inside a chain) are elided so that long chains do not copy it at every link.
    fn text(&self, start: usize) -> String {
        let end = self.prev_end();
        let text = self.src.get(start..end).unwrap_or("");
        if text.len() <= 200 {
            return text.to_string();
        }
        let head: String = text.chars().take(60).collect();
        let tail_start = text
            .char_indices()
            .map(|(i, _)| i)
            .find(|i| text.len() - i <= 60)
            .unwrap_or(text.len());
        format!("{head}…{}", text.get(tail_start..).unwrap_or(""))
    }

    fn statement(&mut self) -> Result<Stmt, ShellError> {
        let Some(first) = self.peek() else {
            return Err(self.unexpected());
        };
        let first_line = first.line;
        let kind = match &first.tok {
            Tok::Ident(word) if (word == "use" || word == "show") && self.is_command() => {
                // The rest of the line up to `;` is the argument, taken raw as mongosh does
                // (`use my-db` names a database, it does not subtract).
                let arg_start = self.peek_at(1).map_or(first.end, |t| t.start);
                let mut end = arg_start;
                self.pos += 1;
                while let Some(t) = self.peek() {
                    if t.newline_before || matches!(t.tok, Tok::Punct(";")) {
                        break;
                    }
                    end = t.end;
                    self.pos += 1;
                }
                let arg = self
                    .src
                    .get(arg_start..end)
                    .unwrap_or("")
                    .trim()
                    .to_string();
                if word == "use" {
                    StmtKind::Use(arg)
                } else {
                    StmtKind::Show(arg)
                }
            }
            Tok::Ident(word) if word == "it" && self.ends_statement(1) => {
                self.pos += 1;
                StmtKind::It
            }
            Tok::Ident(word) if matches!(word.as_str(), "const" | "let" | "var") => {
                self.pos += 1;
                let Some(Token {
                    tok: Tok::Ident(name),
                    ..
                }) = self.peek()
                else {
                    return Err(self.unexpected());
                };
                self.pos += 1;
                let value = if self.eat_punct("=") {
                    Some(self.expr()?)
                } else {
                    None
                };
                StmtKind::Let {
                    name: name.clone(),
                    value,
                }
            }
            _ => StmtKind::Expr(self.expr()?),
        };
        let last_line = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(first_line, |t| t.line);
        // A statement ends at `;`, at the end of input, or where a line break allows one.
        match self.peek() {
            None => {}
            Some(t) if matches!(t.tok, Tok::Punct(";")) => self.pos += 1,
            Some(t) if t.newline_before => {}
            Some(t) => {
                return Err(match &t.tok {
                    Tok::Punct(p) if is_operator(p) => syntax_error(
                        &format!("Operator '{p}' is not supported in this sandbox yet"),
                        t.line,
                        t.col,
                    ),
                    // Babel places this error at the end of the previous token.
                    _ => {
                        let (line, col) = self.prev_end_position();
                        syntax_error("Missing semicolon.", line, col)
                    }
                });
            }
        }
        Ok(Stmt {
            kind,
            first_line,
            last_line,
        })
    }

    /// `use x` / `show x`: a shell command when a word follows on the same line.
    fn is_command(&self) -> bool {
        match self.peek_at(1) {
            Some(t) if !t.newline_before => {
                !matches!(t.tok, Tok::Punct("(" | "." | "=" | "[" | ";" | "?." | ","))
            }
            _ => false,
        }
    }

    fn ends_statement(&self, ahead: usize) -> bool {
        match self.peek_at(ahead) {
            None => true,
            Some(t) => t.newline_before || matches!(t.tok, Tok::Punct(";")),
        }
    }

    fn expr(&mut self) -> Result<Expr, ShellError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let e = self.unary();
        self.depth -= 1;
        let e = e?;
        if let Some(t) = self.peek() {
            if let Tok::Punct(p) = &t.tok {
                if is_operator(p) && !t.newline_before {
                    return Err(syntax_error(
                        &format!("Operator '{p}' is not supported in this sandbox yet"),
                        t.line,
                        t.col,
                    ));
                }
            }
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, ShellError> {
        if self.eat_punct("-") {
            return Ok(Expr::Neg(Box::new(self.nested_unary()?)));
        }
        if self.eat_punct("+") {
            return Ok(Expr::Plus(Box::new(self.nested_unary()?)));
        }
        if self.eat_punct("!") {
            return Ok(Expr::Not(Box::new(self.nested_unary()?)));
        }
        self.postfix()
    }

    fn nested_unary(&mut self) -> Result<Expr, ShellError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let e = self.unary();
        self.depth -= 1;
        e
    }

    fn postfix(&mut self) -> Result<Expr, ShellError> {
        let start = self.peek().map_or(0, |t| t.start);
        let mut e = if matches!(self.peek(), Some(Token { tok: Tok::Ident(w), .. }) if w == "new") {
            self.pos += 1;
            let callee = self.member_chain_without_calls()?;
            let args = if self.is_punct("(") {
                self.args()?
            } else {
                Vec::new()
            };
            Expr::New {
                callee: Box::new(callee),
                args,
            }
        } else {
            self.primary()?
        };
        // Each link of `a.b(c)[d]…` nests the tree one level deeper, so long chains count
        // against the same depth budget as brackets.
        let mut links = 0;
        loop {
            links += 1;
            if self.depth + links > MAX_DEPTH {
                return Err(too_deep());
            }
            if self.eat_punct(".") || self.eat_punct("?.") {
                let name = self.property_name()?;
                e = Expr::Member {
                    object: Box::new(e),
                    name,
                    text: self.text(start),
                };
            } else if self.eat_punct("[") {
                let index = self.expr()?;
                self.expect_punct("]")?;
                e = Expr::Index {
                    object: Box::new(e),
                    index: Box::new(index),
                    text: self.text(start),
                };
            } else if self.is_punct("(") {
                let args = self.args()?;
                e = Expr::Call {
                    callee: Box::new(e),
                    args,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn member_chain_without_calls(&mut self) -> Result<Expr, ShellError> {
        let start = self.peek().map_or(0, |t| t.start);
        let mut e = self.primary()?;
        let mut links = 0;
        while self.eat_punct(".") {
            links += 1;
            if self.depth + links > MAX_DEPTH {
                return Err(too_deep());
            }
            let name = self.property_name()?;
            e = Expr::Member {
                object: Box::new(e),
                name,
                text: self.text(start),
            };
        }
        Ok(e)
    }

    fn property_name(&mut self) -> Result<String, ShellError> {
        match self.peek() {
            Some(Token {
                tok: Tok::Ident(name),
                ..
            }) => {
                self.pos += 1;
                Ok(name.clone())
            }
            _ => Err(self.unexpected()),
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, ShellError> {
        self.expect_punct("(")?;
        let mut args = Vec::new();
        while !self.eat_punct(")") {
            args.push(self.expr()?);
            if !self.eat_punct(",") {
                // Babel wants the separator unless the list closes here.
                if !self.is_punct(")") {
                    self.expect_punct(",")?;
                }
                self.expect_punct(")")?;
                break;
            }
        }
        Ok(args)
    }

    fn primary(&mut self) -> Result<Expr, ShellError> {
        let Some(t) = self.peek() else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        Ok(match &t.tok {
            Tok::Num(n) => Expr::Num(*n),
            Tok::Str(s) => Expr::Str(s.clone()),
            Tok::Regex { pattern, flags } => Expr::Regex {
                pattern: pattern.clone(),
                flags: flags.clone(),
            },
            Tok::Ident(name) => match name.as_str() {
                "true" => Expr::Bool(true),
                "false" => Expr::Bool(false),
                "null" => Expr::Null,
                "undefined" => Expr::Undefined,
                _ => Expr::Ident {
                    name: name.clone(),
                    line: t.line,
                    col: t.col,
                },
            },
            Tok::Punct("(") => {
                let e = self.expr()?;
                self.expect_punct(")")?;
                e
            }
            Tok::Punct("[") => self.array()?,
            Tok::Punct("{") => self.object()?,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        })
    }

    fn array(&mut self) -> Result<Expr, ShellError> {
        let mut items = Vec::new();
        loop {
            if self.eat_punct("]") {
                return Ok(Expr::Array(items));
            }
            if self.eat_punct(",") {
                // A hole, as in `[1, , 2]`.
                items.push(Expr::Undefined);
                continue;
            }
            items.push(self.expr()?);
            if !self.eat_punct(",") {
                // Babel wants the separator unless the list closes here.
                if !self.is_punct("]") {
                    self.expect_punct(",")?;
                }
                self.expect_punct("]")?;
                return Ok(Expr::Array(items));
            }
        }
    }

    fn object(&mut self) -> Result<Expr, ShellError> {
        let mut fields: Vec<(String, Expr)> = Vec::new();
        loop {
            if self.eat_punct("}") {
                return Ok(Expr::Object(fields));
            }
            let Some(t) = self.peek() else {
                return Err(self.unexpected());
            };
            let key = match &t.tok {
                Tok::Ident(name) => name.clone(),
                Tok::Str(s) => s.clone(),
                Tok::Num(n) => crate::mongo::value::js_number(*n),
                _ => return Err(self.unexpected()),
            };
            self.pos += 1;
            let value = if self.eat_punct(":") {
                self.expr()?
            } else if matches!(t.tok, Tok::Ident(_)) && (self.is_punct(",") || self.is_punct("}")) {
                // Shorthand `{title}` means `{title: title}`.
                Expr::Ident {
                    name: key.clone(),
                    line: t.line,
                    col: t.col,
                }
            } else {
                return Err(self.unexpected());
            };
            // A repeated key keeps its first position and takes the last value, as in JS.
            if let Some(slot) = fields.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
            } else {
                fields.push((key, value));
            }
            if !self.eat_punct(",") {
                // Babel wants the separator unless the list closes here.
                if !self.is_punct("}") {
                    self.expect_punct(",")?;
                }
                self.expect_punct("}")?;
                return Ok(Expr::Object(fields));
            }
        }
    }
}

fn is_operator(p: &str) -> bool {
    !matches!(
        p,
        "{" | "}" | "[" | "]" | "(" | ")" | "," | ":" | ";" | "." | "?." | "..."
    )
}

fn end_position(src: &str) -> (usize, usize) {
    let line = src.matches('\n').count() + 1;
    let col = src
        .rsplit('\n')
        .next()
        .map_or(0, |l| l.encode_utf16().count());
    (line, col)
}

pub fn parse(src: &str, tokens: &[Token]) -> Result<Vec<Stmt>, ShellError> {
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        depth: 0,
    };
    let mut out = Vec::new();
    loop {
        while p.eat_punct(";") {}
        if p.peek().is_none() {
            return Ok(out);
        }
        out.push(p.statement()?);
    }
}
