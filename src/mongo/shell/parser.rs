//! Statements and expressions of the JavaScript subset mongosh lessons use: shell commands
//! (`use`, `show`, `it`), bindings, control flow, functions and the operators of ES2020,
//! parsed by precedence climbing with one nesting budget for brackets, operators and blocks.

use std::rc::Rc;

use super::eval::number_value;
use super::lexer::{syntax_error, Tok, Token};
use super::ShellError;
use crate::mongo::value::{Document, Value};

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
    /// Elements may be `Expr::Spread`.
    Array(Vec<Expr>),
    Object(Vec<Prop>),
    Template {
        quasis: Vec<String>,
        exprs: Vec<Expr>,
    },
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
        /// `?.`: a null or undefined object gives undefined instead of a TypeError.
        optional: bool,
    },
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
        text: String,
        optional: bool,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    New {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `...x` inside an array literal or an argument list.
    Spread(Box<Expr>),
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    Not(Box<Expr>),
    /// `typeof`, `void`, `~`, `delete`.
    Unary {
        op: &'static str,
        arg: Box<Expr>,
    },
    /// Arithmetic, comparison and bitwise operators.
    Binary {
        op: &'static str,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `&&`, `||`, `??`: the right side runs only when needed.
    Logical {
        op: &'static str,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Cond {
        test: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `=` and the compound assignments (`+=`, `??=`, …).
    Assign {
        op: &'static str,
        target: Box<Expr>,
        value: Box<Expr>,
    },
    /// `++` / `--`, before or after the target.
    Update {
        op: &'static str,
        prefix: bool,
        target: Box<Expr>,
    },
    /// The comma operator.
    Seq(Vec<Expr>),
    Function(Rc<FunctionDef>),
    /// An array or object literal of literals only (what `insertMany([...])` pastes), built
    /// into its value while parsing: evaluated, it is exactly what evaluating its parts
    /// would build, without an expression node per field.
    Value(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Field(String, Expr),
    Computed(Expr, Expr),
    Spread(Expr),
}

/// A binding target: a name, or an object / array destructuring pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    Name(String),
    /// `{a, b: c, d = 1}`: property, target, default.
    Object(Vec<(String, Pattern, Option<Expr>)>),
    /// `[a, , b = 2]`: holes are None.
    Array(Vec<Option<(Pattern, Option<Expr>)>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub pattern: Pattern,
    pub default: Option<Expr>,
    pub rest: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FnBody {
    Expr(Expr),
    Block(Vec<Stmt>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    pub name: Option<String>,
    pub params: Vec<Param>,
    pub body: FnBody,
    pub arrow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeclKind {
    Const,
    Let,
    Var,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    Use(String),
    Show(String),
    It,
    Expr(Expr),
    Let {
        kind: DeclKind,
        decls: Vec<(Pattern, Option<Expr>)>,
    },
    Function(Rc<FunctionDef>),
    If {
        test: Expr,
        then: Box<Stmt>,
        otherwise: Option<Box<Stmt>>,
    },
    For {
        init: Option<Box<Stmt>>,
        test: Option<Expr>,
        update: Option<Expr>,
        body: Box<Stmt>,
    },
    /// `for (… of …)` (`of: true`) and `for (… in …)`.
    ForEach {
        kind: Option<DeclKind>,
        target: Pattern,
        of: bool,
        iter: Expr,
        body: Box<Stmt>,
    },
    While {
        test: Expr,
        body: Box<Stmt>,
    },
    DoWhile {
        body: Box<Stmt>,
        test: Expr,
    },
    Block(Vec<Stmt>),
    Break,
    Continue,
    Return(Option<Expr>),
    Throw(Expr),
    Try {
        block: Vec<Stmt>,
        param: Option<Pattern>,
        handler: Option<Vec<Stmt>>,
        finalizer: Option<Vec<Stmt>>,
    },
    Empty,
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
    /// For each opening bracket, the index of the bracket that closes it (`usize::MAX` when
    /// none does), found once: the parser asks at every bracketed literal, and scanning
    /// ahead each time made a large `insertMany` cost its nesting depth times its length.
    closes: Vec<usize>,
}

/// `closes` for `Parser`: any closing bracket closes the innermost open one, whatever its
/// kind, as `matching_close` always counted them.
fn bracket_pairs(tokens: &[Token]) -> Vec<usize> {
    let mut closes = vec![usize::MAX; tokens.len()];
    let mut open = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.tok {
            Tok::Punct("(" | "[" | "{") => open.push(i),
            Tok::Punct(")" | "]" | "}") => {
                if let Some(o) = open.pop() {
                    if let Some(slot) = closes.get_mut(o) {
                        *slot = i;
                    }
                }
            }
            _ => {}
        }
    }
    closes
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

    fn enter(&mut self) -> Result<(), ShellError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Ident(x), .. }) if x == w)
    }

    fn word_at(&self, n: usize) -> Option<&'a str> {
        match self.peek_at(n) {
            Some(Token {
                tok: Tok::Ident(x), ..
            }) => Some(x.as_str()),
            _ => None,
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), ShellError> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn prev_line(&self, default: usize) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(default, |t| {
                let text = self.src.get(t.start..t.end).unwrap_or("");
                t.line + text.matches('\n').count()
            })
    }

    fn statement(&mut self, top: bool) -> Result<Stmt, ShellError> {
        self.enter()?;
        let r = self.statement_inner(top);
        self.leave();
        r
    }

    fn statement_inner(&mut self, top: bool) -> Result<Stmt, ShellError> {
        self.skip_async();
        let Some(first) = self.peek() else {
            return Err(self.unexpected());
        };
        let first_line = first.line;
        let word = match &first.tok {
            Tok::Ident(w) => w.as_str(),
            _ => "",
        };
        let mut needs_end = true;
        let kind = match word {
            "use" | "show" if self.is_command() => {
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
            "it" if self.ends_statement(1) => {
                self.pos += 1;
                StmtKind::It
            }
            "const" | "let" | "var" => {
                self.pos += 1;
                let kind = decl_kind(word);
                StmtKind::Let {
                    kind,
                    decls: self.declarations(kind)?,
                }
            }
            "function"
                if matches!(
                    self.peek_at(1),
                    Some(Token {
                        tok: Tok::Ident(_),
                        ..
                    })
                ) =>
            {
                self.pos += 1;
                needs_end = false;
                StmtKind::Function(Rc::new(self.function_rest(true)?))
            }
            "if" => {
                self.pos += 1;
                needs_end = false;
                self.expect_punct("(")?;
                let test = self.expr()?;
                self.expect_punct(")")?;
                let then = Box::new(self.statement(false)?);
                let otherwise = if self.eat_word("else") {
                    Some(Box::new(self.statement(false)?))
                } else {
                    None
                };
                StmtKind::If {
                    test,
                    then,
                    otherwise,
                }
            }
            "for" => {
                self.pos += 1;
                needs_end = false;
                self.for_statement()?
            }
            "while" => {
                self.pos += 1;
                needs_end = false;
                self.expect_punct("(")?;
                let test = self.expr()?;
                self.expect_punct(")")?;
                StmtKind::While {
                    test,
                    body: Box::new(self.statement(false)?),
                }
            }
            "do" => {
                self.pos += 1;
                let body = Box::new(self.statement(false)?);
                self.expect_word("while")?;
                self.expect_punct("(")?;
                let test = self.expr()?;
                self.expect_punct(")")?;
                self.eat_punct(";");
                needs_end = false;
                StmtKind::DoWhile { body, test }
            }
            "break" => {
                self.pos += 1;
                StmtKind::Break
            }
            "continue" => {
                self.pos += 1;
                StmtKind::Continue
            }
            "return" => {
                self.pos += 1;
                if self.ends_statement(0) || self.is_punct("}") {
                    StmtKind::Return(None)
                } else {
                    StmtKind::Return(Some(self.expr()?))
                }
            }
            "throw" => {
                self.pos += 1;
                StmtKind::Throw(self.expr()?)
            }
            "try" => {
                self.pos += 1;
                needs_end = false;
                self.try_statement()?
            }
            "import" if !matches!(self.peek_at(1).map(|t| &t.tok), Some(Tok::Punct("(" | "."))) => {
                self.pos += 1;
                self.import_declaration()?
            }
            _ if matches!(first.tok, Tok::Punct(";")) => {
                self.pos += 1;
                needs_end = false;
                StmtKind::Empty
            }
            _ if matches!(first.tok, Tok::Punct("{")) => {
                // A console line that is an object literal prints the object, as Node's REPL
                // does; anywhere else (or when it is no expression) a brace opens a block.
                let save = self.pos;
                let as_expr = if top {
                    self.expr()
                        .ok()
                        .filter(|_| self.peek().is_none_or(|t| matches!(t.tok, Tok::Punct(";"))))
                } else {
                    None
                };
                match as_expr {
                    Some(e) => StmtKind::Expr(e),
                    None => {
                        self.pos = save + 1;
                        needs_end = false;
                        StmtKind::Block(self.block_rest()?)
                    }
                }
            }
            _ => StmtKind::Expr(self.expr()?),
        };
        let last_line = self.prev_line(first_line);
        if needs_end {
            self.end_statement()?;
        }
        Ok(Stmt {
            kind,
            first_line,
            last_line,
        })
    }

    /// A statement ends at `;`, before `}`, at the end of input, or where a line break
    /// allows a semicolon to be inserted.
    fn end_statement(&mut self) -> Result<(), ShellError> {
        match self.peek() {
            None => Ok(()),
            Some(t) if matches!(t.tok, Tok::Punct(";")) => {
                self.pos += 1;
                Ok(())
            }
            Some(t) if t.newline_before || matches!(t.tok, Tok::Punct("}")) => Ok(()),
            Some(_) => {
                // Babel places this error at the end of the previous token.
                let (line, col) = self.prev_end_position();
                Err(syntax_error("Missing semicolon.", line, col))
            }
        }
    }

    /// Statements up to the closing brace (the opening one is already consumed).
    fn block_rest(&mut self) -> Result<Vec<Stmt>, ShellError> {
        let mut out = Vec::new();
        loop {
            if self.eat_punct("}") {
                return Ok(out);
            }
            if self.peek().is_none() {
                return Err(self.unexpected());
            }
            out.push(self.statement(false)?);
        }
    }

    fn block(&mut self) -> Result<Vec<Stmt>, ShellError> {
        self.expect_punct("{")?;
        self.enter()?;
        let r = self.block_rest();
        self.leave();
        r
    }

    fn declarations(&mut self, kind: DeclKind) -> Result<Vec<(Pattern, Option<Expr>)>, ShellError> {
        let mut decls = Vec::new();
        loop {
            let target = self.pattern()?;
            let value = if self.eat_punct("=") {
                Some(self.assignment()?)
            } else {
                if kind == DeclKind::Const {
                    return Err(self.missing_initializer());
                }
                None
            };
            decls.push((target, value));
            if !self.eat_punct(",") {
                return Ok(decls);
            }
        }
    }

    fn missing_initializer(&self) -> ShellError {
        let (line, col) = self.prev_end_position();
        syntax_error("Missing initializer in const declaration.", line, col)
    }

    fn pattern(&mut self) -> Result<Pattern, ShellError> {
        self.enter()?;
        let r = self.pattern_inner();
        self.leave();
        r
    }

    fn pattern_inner(&mut self) -> Result<Pattern, ShellError> {
        if self.eat_punct("{") {
            let mut props = Vec::new();
            loop {
                if self.eat_punct("}") {
                    return Ok(Pattern::Object(props));
                }
                let key = match self.peek() {
                    Some(Token {
                        tok: Tok::Ident(k) | Tok::Str(k),
                        ..
                    }) => k.clone(),
                    _ => return Err(self.unexpected()),
                };
                let key_is_name = matches!(self.peek().map(|t| &t.tok), Some(Tok::Ident(_)));
                self.pos += 1;
                let target = if self.eat_punct(":") {
                    self.pattern()?
                } else if key_is_name && !is_reserved(&key) {
                    Pattern::Name(key.clone())
                } else {
                    return Err(self.unexpected());
                };
                let default = if self.eat_punct("=") {
                    Some(self.assignment()?)
                } else {
                    None
                };
                props.push((key, target, default));
                if !self.eat_punct(",") {
                    self.expect_punct("}")?;
                    return Ok(Pattern::Object(props));
                }
            }
        }
        if self.eat_punct("[") {
            let mut items = Vec::new();
            loop {
                if self.eat_punct("]") {
                    return Ok(Pattern::Array(items));
                }
                if self.eat_punct(",") {
                    items.push(None);
                    continue;
                }
                let target = self.pattern()?;
                let default = if self.eat_punct("=") {
                    Some(self.assignment()?)
                } else {
                    None
                };
                items.push(Some((target, default)));
                if !self.eat_punct(",") {
                    self.expect_punct("]")?;
                    return Ok(Pattern::Array(items));
                }
            }
        }
        match self.peek() {
            Some(Token {
                tok: Tok::Ident(name),
                ..
            }) if !is_reserved(name) => {
                self.pos += 1;
                Ok(Pattern::Name(name.clone()))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn for_statement(&mut self) -> Result<StmtKind, ShellError> {
        // `for await (… of …)`: with every promise settled, it is `for (… of …)`.
        self.eat_word("await");
        self.expect_punct("(")?;
        let decl = self
            .word_at(0)
            .filter(|w| matches!(*w, "const" | "let" | "var"));
        let each_kind = |w: Option<&str>| w.map(decl_kind);
        // `for (const x of xs)`, `for (k in obj)`: a target then `of` or `in`.
        let save = self.pos;
        if decl.is_some() {
            self.pos += 1;
        }
        if let Ok(target) = self.pattern() {
            if let Some(w @ ("of" | "in")) = self.word_at(0) {
                self.pos += 1;
                let iter = if w == "of" {
                    self.assignment()?
                } else {
                    self.expr()?
                };
                self.expect_punct(")")?;
                let body = Box::new(self.statement(false)?);
                return Ok(StmtKind::ForEach {
                    kind: each_kind(decl),
                    target,
                    of: w == "of",
                    iter,
                    body,
                });
            }
        }
        self.pos = save;
        let init = if self.is_punct(";") {
            None
        } else if let Some(w) = decl {
            let first_line = self.peek().map_or(1, |t| t.line);
            self.pos += 1;
            let kind = decl_kind(w);
            let decls = self.declarations(kind)?;
            Some(Box::new(Stmt {
                kind: StmtKind::Let { kind, decls },
                first_line,
                last_line: first_line,
            }))
        } else {
            let first_line = self.peek().map_or(1, |t| t.line);
            Some(Box::new(Stmt {
                kind: StmtKind::Expr(self.expr()?),
                first_line,
                last_line: first_line,
            }))
        };
        self.expect_punct(";")?;
        let test = if self.is_punct(";") {
            None
        } else {
            Some(self.expr()?)
        };
        self.expect_punct(";")?;
        let update = if self.is_punct(")") {
            None
        } else {
            Some(self.expr()?)
        };
        self.expect_punct(")")?;
        let body = Box::new(self.statement(false)?);
        Ok(StmtKind::For {
            init,
            test,
            update,
            body,
        })
    }

    fn try_statement(&mut self) -> Result<StmtKind, ShellError> {
        let block = self.block()?;
        let (mut param, mut handler, mut finalizer) = (None, None, None);
        if self.eat_word("catch") {
            if self.eat_punct("(") {
                param = Some(self.pattern()?);
                self.expect_punct(")")?;
            }
            handler = Some(self.block()?);
        }
        if self.eat_word("finally") {
            finalizer = Some(self.block()?);
        }
        if handler.is_none() && finalizer.is_none() {
            return Err(syntax_error(
                "Missing catch or finally clause.",
                self.prev_end_position().0,
                self.prev_end_position().1,
            ));
        }
        Ok(StmtKind::Try {
            block,
            param,
            handler,
            finalizer,
        })
    }

    /// After `function`: an optional name, the parameters and the body.
    fn function_rest(&mut self, needs_name: bool) -> Result<FunctionDef, ShellError> {
        let name = match self.peek() {
            Some(Token {
                tok: Tok::Ident(n), ..
            }) if !is_reserved(n) => {
                self.pos += 1;
                Some(n.clone())
            }
            _ if needs_name => return Err(self.unexpected()),
            _ => None,
        };
        let params = self.params()?;
        let body = FnBody::Block(self.block()?);
        Ok(FunctionDef {
            name,
            params,
            body,
            arrow: false,
        })
    }

    fn params(&mut self) -> Result<Vec<Param>, ShellError> {
        self.expect_punct("(")?;
        let mut params = Vec::new();
        loop {
            if self.eat_punct(")") {
                return Ok(params);
            }
            let rest = self.eat_punct("...");
            let pattern = self.pattern()?;
            let default = if !rest && self.eat_punct("=") {
                Some(self.assignment()?)
            } else {
                None
            };
            params.push(Param {
                pattern,
                default,
                rest,
            });
            if !self.eat_punct(",") {
                self.expect_punct(")")?;
                return Ok(params);
            }
        }
    }

    /// `use x` / `show x`: a shell command when a word follows on the same line.
    fn is_command(&self) -> bool {
        match self.peek_at(1) {
            Some(t) if !t.newline_before => {
                !matches!(t.tok, Tok::Punct(_)) || matches!(t.tok, Tok::Punct("-"))
            }
            _ => false,
        }
    }

    fn ends_statement(&self, ahead: usize) -> bool {
        match self.peek_at(ahead) {
            None => true,
            Some(t) => t.newline_before || matches!(t.tok, Tok::Punct(";" | "}")),
        }
    }

    /// An expression, with the comma operator.
    fn expr(&mut self) -> Result<Expr, ShellError> {
        let first = self.assignment()?;
        if !self.is_punct(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_punct(",") {
            items.push(self.assignment()?);
        }
        Ok(Expr::Seq(items))
    }

    fn assignment(&mut self) -> Result<Expr, ShellError> {
        self.enter()?;
        let r = self.assignment_inner();
        self.leave();
        r
    }

    fn assignment_inner(&mut self) -> Result<Expr, ShellError> {
        // A bracketed literal that is a whole operand (the common case in documents) skips
        // the operator levels: fewer frames per nesting level keeps deep documents within
        // wasm's 1 MiB stack.
        if self.is_punct("{") || self.is_punct("[") || self.is_punct("(") {
            if let Some(close) = self.matching_close(self.pos) {
                let after = self.tokens.get(close + 1).map(|t| &t.tok);
                if matches!(after, None | Some(Tok::Punct("," | "}" | "]" | ")" | ";"))) {
                    return self.primary();
                }
            }
        }
        if let Some(arrow) = self.arrow()? {
            return Ok(arrow);
        }
        let start = self.peek().cloned();
        let left = self.conditional()?;
        if let Some(Token {
            tok: Tok::Punct(op),
            ..
        }) = self.peek()
        {
            if is_assign_op(op) {
                if !matches!(
                    left,
                    Expr::Ident { .. } | Expr::Member { .. } | Expr::Index { .. }
                ) {
                    let (line, col) = start.map_or((1, 0), |t| (t.line, t.col));
                    return Err(syntax_error(
                        "Invalid left-hand side in assignment expression.",
                        line,
                        col,
                    ));
                }
                self.pos += 1;
                let value = self.assignment()?;
                return Ok(Expr::Assign {
                    op,
                    target: Box::new(left),
                    value: Box::new(value),
                });
            }
        }
        Ok(left)
    }

    /// The index of the bracket closing the one at `open`.
    fn matching_close(&self, open: usize) -> Option<usize> {
        self.closes.get(open).copied().filter(|&c| c != usize::MAX)
    }

    /// Skips the `async` of `async function` and `async (…) =>`: the sandbox has no
    /// event loop, so every `await` completes at once and an async function is a function.
    fn skip_async(&mut self) {
        if !self.is_word("async") {
            return;
        }
        let Some(next) = self.peek_at(1) else {
            return;
        };
        if next.newline_before {
            return;
        }
        let is_async = match &next.tok {
            Tok::Ident(w) if w == "function" => true,
            Tok::Ident(w) => {
                !is_reserved(w) && matches!(self.peek_at(2).map(|t| &t.tok), Some(Tok::Punct("=>")))
            }
            Tok::Punct("(") => self
                .matching_close(self.pos + 1)
                .and_then(|c| self.tokens.get(c + 1))
                .is_some_and(|t| matches!(t.tok, Tok::Punct("=>")) && !t.newline_before),
            _ => false,
        };
        if is_async {
            self.pos += 1;
        }
    }

    /// `import X from 'm'`, `import { a, b as c } from 'm'`, `import * as X from 'm'`:
    /// read as the `const … = require('m')` Node gives for a CommonJS package.
    fn import_declaration(&mut self) -> Result<StmtKind, ShellError> {
        let mut decls = Vec::new();
        let module_name = |p: &mut Self| -> Result<Expr, ShellError> {
            match p.peek().map(|t| &t.tok) {
                Some(Tok::Str(m)) => {
                    let m = m.clone();
                    p.pos += 1;
                    Ok(Expr::Call {
                        callee: Box::new(Expr::Ident {
                            name: "require".into(),
                            line: 0,
                            col: 0,
                        }),
                        args: vec![Expr::Str(m)],
                    })
                }
                _ => Err(p.unexpected()),
            }
        };
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::Str(_))) {
            let e = module_name(self)?;
            return Ok(StmtKind::Expr(e));
        }
        let mut targets = Vec::new();
        loop {
            match self.peek().map(|t| &t.tok) {
                Some(Tok::Punct("*")) => {
                    self.pos += 1;
                    self.expect_word("as")?;
                    targets.push(Pattern::Name(self.binding_name()?));
                }
                Some(Tok::Punct("{")) => {
                    self.pos += 1;
                    let mut fields = Vec::new();
                    while !self.eat_punct("}") {
                        let name = self.binding_name()?;
                        let local = if self.eat_word("as") {
                            self.binding_name()?
                        } else {
                            name.clone()
                        };
                        fields.push((name, Pattern::Name(local), None));
                        if !self.eat_punct(",") {
                            self.expect_punct("}")?;
                            break;
                        }
                    }
                    targets.push(Pattern::Object(fields));
                }
                Some(Tok::Ident(_)) => targets.push(Pattern::Name(self.binding_name()?)),
                _ => return Err(self.unexpected()),
            }
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_word("from")?;
        let source = module_name(self)?;
        for target in targets {
            decls.push((target, Some(source.clone())));
        }
        Ok(StmtKind::Let {
            kind: DeclKind::Const,
            decls,
        })
    }

    fn binding_name(&mut self) -> Result<String, ShellError> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Ident(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// An arrow function starting here, if there is one.
    fn arrow(&mut self) -> Result<Option<Expr>, ShellError> {
        self.skip_async();
        let params = match self.peek() {
            Some(Token {
                tok: Tok::Ident(name),
                ..
            }) if !is_reserved(name)
                && matches!(
                    self.peek_at(1),
                    Some(Token {
                        tok: Tok::Punct("=>"),
                        ..
                    })
                ) =>
            {
                self.pos += 1;
                vec![Param {
                    pattern: Pattern::Name(name.clone()),
                    default: None,
                    rest: false,
                }]
            }
            Some(Token {
                tok: Tok::Punct("("),
                ..
            }) => {
                // Look past the matching parenthesis for `=>`.
                let close = self.matching_close(self.pos);
                let is_arrow = close
                    .and_then(|c| self.tokens.get(c + 1))
                    .is_some_and(|t| matches!(t.tok, Tok::Punct("=>")) && !t.newline_before);
                if !is_arrow {
                    return Ok(None);
                }
                self.params()?
            }
            _ => return Ok(None),
        };
        self.expect_punct("=>")?;
        let body = if self.is_punct("{") {
            FnBody::Block(self.block()?)
        } else {
            FnBody::Expr(self.assignment()?)
        };
        Ok(Some(Expr::Function(Rc::new(FunctionDef {
            name: None,
            params,
            body,
            arrow: true,
        }))))
    }

    fn conditional(&mut self) -> Result<Expr, ShellError> {
        let test = self.binary(0)?;
        if !self.eat_punct("?") {
            return Ok(test);
        }
        let then = self.assignment()?;
        self.expect_punct(":")?;
        let otherwise = self.assignment()?;
        Ok(Expr::Cond {
            test: Box::new(test),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        })
    }

    fn binary_op(&self) -> Option<(&'static str, u8)> {
        let t = self.peek()?;
        let op: &'static str = match &t.tok {
            Tok::Punct(p) => p,
            Tok::Ident(w) if w == "instanceof" => "instanceof",
            Tok::Ident(w) if w == "in" => "in",
            _ => return None,
        };
        let prec = match op {
            "??" => 1,
            "||" => 2,
            "&&" => 3,
            "|" => 4,
            "^" => 5,
            "&" => 6,
            "==" | "!=" | "===" | "!==" => 7,
            "<" | ">" | "<=" | ">=" | "instanceof" | "in" => 8,
            "<<" | ">>" | ">>>" => 9,
            "+" | "-" => 10,
            "*" | "/" | "%" => 11,
            "**" => 12,
            _ => return None,
        };
        Some((op, prec))
    }

    fn binary(&mut self, min: u8) -> Result<Expr, ShellError> {
        let mut left = self.unary()?;
        // `a + b + c …` nests to the left: each operator deepens the tree that evaluating and
        // dropping it recurse on, so it counts against the depth budget like brackets do.
        let mut links = 0;
        while let Some((op, prec)) = self.binary_op() {
            if prec < min {
                break;
            }
            links += 1;
            if self.depth + links > MAX_DEPTH {
                return Err(too_deep());
            }
            self.pos += 1;
            let next_min = if op == "**" { prec } else { prec + 1 };
            self.enter()?;
            let right = self.binary(next_min);
            self.leave();
            let (left_box, right_box) = (Box::new(left), Box::new(right?));
            left = if matches!(op, "&&" | "||" | "??") {
                Expr::Logical {
                    op,
                    left: left_box,
                    right: right_box,
                }
            } else {
                Expr::Binary {
                    op,
                    left: left_box,
                    right: right_box,
                }
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ShellError> {
        // `await x` is `x`: nothing in the sandbox is asynchronous, so every promise a
        // driver or `new Promise` gives back has settled already.
        if self.is_word("await")
            && self.peek_at(1).is_some_and(|t| {
                !matches!(t.tok, Tok::Punct(";" | ")" | "]" | "}" | "," | "=" | "."))
                    && !t.newline_before
            })
        {
            self.pos += 1;
            return self.nested_unary();
        }
        let op: Option<&'static str> = match self.peek().map(|t| &t.tok) {
            Some(Tok::Punct(p @ ("-" | "+" | "!" | "~" | "++" | "--"))) => Some(p),
            Some(Tok::Ident(w)) => match w.as_str() {
                "typeof" => Some("typeof"),
                "void" => Some("void"),
                "delete" => Some("delete"),
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else {
            return self.postfix();
        };
        self.pos += 1;
        let arg = Box::new(self.nested_unary()?);
        Ok(match op {
            "-" => Expr::Neg(arg),
            "+" => Expr::Plus(arg),
            "!" => Expr::Not(arg),
            "++" | "--" => {
                if !matches!(
                    *arg,
                    Expr::Ident { .. } | Expr::Member { .. } | Expr::Index { .. }
                ) {
                    return Err(self.invalid_update());
                }
                Expr::Update {
                    op,
                    prefix: true,
                    target: arg,
                }
            }
            _ => Expr::Unary { op, arg },
        })
    }

    fn invalid_update(&self) -> ShellError {
        let (line, col) = self.prev_end_position();
        syntax_error("Invalid left-hand side in prefix operation.", line, col)
    }

    fn nested_unary(&mut self) -> Result<Expr, ShellError> {
        self.enter()?;
        let e = self.unary();
        self.leave();
        e
    }

    fn postfix(&mut self) -> Result<Expr, ShellError> {
        let e = self.call_chain()?;
        if let Some(Token {
            tok: Tok::Punct(op @ ("++" | "--")),
            newline_before: false,
            ..
        }) = self.peek()
        {
            if !matches!(
                e,
                Expr::Ident { .. } | Expr::Member { .. } | Expr::Index { .. }
            ) {
                let (line, col) = self.prev_end_position();
                return Err(syntax_error(
                    "Invalid left-hand side in postfix operation.",
                    line,
                    col,
                ));
            }
            self.pos += 1;
            return Ok(Expr::Update {
                op,
                prefix: false,
                target: Box::new(e),
            });
        }
        Ok(e)
    }

    fn call_chain(&mut self) -> Result<Expr, ShellError> {
        let start = self.peek().map_or(0, |t| t.start);
        let mut e = if self.is_word("new") {
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
            let optional = self.eat_punct("?.");
            if optional && self.is_punct("(") {
                let args = self.args()?;
                e = Expr::Call {
                    callee: Box::new(e),
                    args,
                };
            } else if (optional && self.eat_punct("[")) || (!optional && self.eat_punct("[")) {
                let index = self.expr()?;
                self.expect_punct("]")?;
                e = Expr::Index {
                    object: Box::new(e),
                    index: Box::new(index),
                    text: self.text(start),
                    optional,
                };
            } else if optional || self.eat_punct(".") {
                let name = self.property_name()?;
                e = Expr::Member {
                    object: Box::new(e),
                    name,
                    text: self.text(start),
                    optional,
                };
            } else if self.is_punct("(") {
                let args = self.args()?;
                e = Expr::Call {
                    callee: Box::new(e),
                    args,
                };
            } else if let Some(Token {
                tok: Tok::Template { .. },
                newline_before: false,
                ..
            }) = self.peek()
            {
                return Err(syntax_error(
                    "Tagged templates are not supported in this sandbox",
                    self.peek().map_or(1, |t| t.line),
                    self.peek().map_or(0, |t| t.col),
                ));
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
                optional: false,
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
            if self.eat_punct("...") {
                args.push(Expr::Spread(Box::new(self.assignment()?)));
            } else {
                args.push(self.assignment()?);
            }
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
        self.skip_async();
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
            Tok::Template { quasis, exprs } => {
                let mut parsed = Vec::with_capacity(exprs.len());
                for toks in exprs {
                    let mut sub = Parser {
                        src: self.src,
                        tokens: toks,
                        pos: 0,
                        depth: self.depth,
                        closes: bracket_pairs(toks),
                    };
                    let e = sub.expr()?;
                    if sub.peek().is_some() {
                        return Err(sub.unexpected());
                    }
                    parsed.push(e);
                }
                Expr::Template {
                    quasis: quasis.clone(),
                    exprs: parsed,
                }
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Expr::Bool(true),
                "false" => Expr::Bool(false),
                "null" => Expr::Null,
                "undefined" => Expr::Undefined,
                "function" => Expr::Function(Rc::new(self.function_rest(false)?)),
                w if is_reserved(w) => {
                    return Err(syntax_error(
                        &format!("Unexpected keyword '{w}'."),
                        t.line,
                        t.col,
                    ))
                }
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
            Tok::Punct("[" | "{") => {
                let open = self.pos;
                match self.literal_value(open - 1, 0) {
                    Some(v) => Expr::Value(v),
                    None => {
                        self.pos = open;
                        if matches!(t.tok, Tok::Punct("[")) {
                            self.array()?
                        } else {
                            self.object()?
                        }
                    }
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        })
    }

    /// The value of the array or object literal opening at token `open` when it holds only
    /// numbers, strings, booleans, null and such literals (keys plain), leaving `pos` after
    /// it; `None` (position unspecified) for anything else, which the caller parses as
    /// expressions. Values are built as evaluation builds them (`number_value`, `-0`).
    fn literal_value(&mut self, open: usize, depth: usize) -> Option<Value> {
        // Deeper literals take the general path, which reports nesting errors.
        const MAX_LITERAL_DEPTH: usize = 32;
        if depth > MAX_LITERAL_DEPTH {
            return None;
        }
        let close = self.matching_close(open)?;
        let is_array = matches!(self.tokens.get(open)?.tok, Tok::Punct("["));
        let closer = if is_array { "]" } else { "}" };
        if !matches!(self.tokens.get(close)?.tok, Tok::Punct(p) if p == closer) {
            return None;
        }
        self.pos = open + 1;
        let mut items = Vec::new();
        let mut doc = Document::default();
        while self.pos < close {
            if !is_array {
                let key = match &self.tokens.get(self.pos)?.tok {
                    Tok::Ident(name) => name.clone(),
                    Tok::Str(s) => s.clone(),
                    Tok::Num(n) => crate::mongo::value::js_number(*n),
                    _ => return None,
                };
                if !matches!(self.tokens.get(self.pos + 1)?.tok, Tok::Punct(":")) {
                    return None;
                }
                self.pos += 2;
                let v = self.literal_item(depth)?;
                // A repeated key keeps its first position and takes the last value, as in JS.
                doc.insert(key, v);
            } else {
                items.push(self.literal_item(depth)?);
            }
            match self.tokens.get(self.pos)?.tok {
                Tok::Punct(",") => self.pos += 1,
                _ if self.pos == close => {}
                _ => return None,
            }
        }
        self.pos = close + 1;
        Some(if is_array {
            Value::Array(items)
        } else {
            Value::Document(doc)
        })
    }

    /// One element or field value for `literal_value`, which must be followed by `,` or
    /// the closing bracket (else it was part of a larger expression).
    fn literal_item(&mut self, depth: usize) -> Option<Value> {
        let t = self.tokens.get(self.pos)?;
        let v = match &t.tok {
            Tok::Num(n) => {
                self.pos += 1;
                number_value(*n)
            }
            Tok::Punct("-") => match self.tokens.get(self.pos + 1)?.tok {
                Tok::Num(n) => {
                    self.pos += 2;
                    // Negating the Int32 0 gives the double -0, as evaluation does.
                    if n == 0.0 {
                        Value::Double(-0.0)
                    } else {
                        number_value(-n)
                    }
                }
                _ => return None,
            },
            Tok::Str(s) => {
                self.pos += 1;
                Value::String(s.clone())
            }
            Tok::Ident(name) => {
                let v = match name.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => return None,
                };
                self.pos += 1;
                v
            }
            Tok::Punct("[" | "{") => self.literal_value(self.pos, depth + 1)?,
            _ => return None,
        };
        match self.tokens.get(self.pos)?.tok {
            Tok::Punct("," | "]" | "}") => Some(v),
            _ => None,
        }
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
            let (item, more) = self.array_item()?;
            items.push(item);
            if !more {
                return Ok(Expr::Array(items));
            }
        }
    }

    /// An element of an array literal and the `,` (true) or `]` (false) after it.
    fn array_item(&mut self) -> Result<(Expr, bool), ShellError> {
        let item = if self.eat_punct("...") {
            Expr::Spread(Box::new(self.assignment()?))
        } else {
            self.assignment()?
        };
        if self.eat_punct(",") {
            return Ok((item, true));
        }
        // Babel wants the separator unless the list closes here.
        if !self.is_punct("]") {
            self.expect_punct(",")?;
        }
        self.expect_punct("]")?;
        Ok((item, false))
    }

    fn object(&mut self) -> Result<Expr, ShellError> {
        let mut props: Vec<Prop> = Vec::new();
        loop {
            if self.eat_punct("}") {
                return Ok(Expr::Object(props));
            }
            let Some(t) = self.peek() else {
                return Err(self.unexpected());
            };
            if self.eat_punct("...") {
                props.push(Prop::Spread(self.assignment()?));
            } else if self.eat_punct("[") {
                let key = self.assignment()?;
                self.expect_punct("]")?;
                self.expect_punct(":")?;
                props.push(Prop::Computed(key, self.assignment()?));
            } else {
                let key = match &t.tok {
                    Tok::Ident(name) => name.clone(),
                    Tok::Str(s) => s.clone(),
                    Tok::Num(n) => crate::mongo::value::js_number(*n),
                    _ => return Err(self.unexpected()),
                };
                self.pos += 1;
                let value = if self.eat_punct(":") {
                    self.assignment()?
                } else if self.is_punct("(") {
                    // Method shorthand `{ f(x) { … } }`.
                    let params = self.params()?;
                    let body = FnBody::Block(self.block()?);
                    Expr::Function(Rc::new(FunctionDef {
                        name: Some(key.clone()),
                        params,
                        body,
                        arrow: false,
                    }))
                } else if matches!(t.tok, Tok::Ident(_))
                    && (self.is_punct(",") || self.is_punct("}"))
                {
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
                let slot = props
                    .iter_mut()
                    .find(|p| matches!(p, Prop::Field(k, _) if *k == key));
                match slot {
                    Some(Prop::Field(_, v)) => *v = value,
                    _ => props.push(Prop::Field(key, value)),
                }
            }
            if !self.eat_punct(",") {
                // Babel wants the separator unless the list closes here.
                if !self.is_punct("}") {
                    self.expect_punct(",")?;
                }
                self.expect_punct("}")?;
                return Ok(Expr::Object(props));
            }
        }
    }
}

fn decl_kind(word: &str) -> DeclKind {
    match word {
        "const" => DeclKind::Const,
        "let" => DeclKind::Let,
        _ => DeclKind::Var,
    }
}

fn is_assign_op(p: &str) -> bool {
    matches!(
        p,
        "=" | "+="
            | "-="
            | "*="
            | "/="
            | "%="
            | "**="
            | "<<="
            | ">>="
            | ">>>="
            | "&="
            | "|="
            | "^="
            | "&&="
            | "||="
            | "??="
    )
}

/// Words that cannot name a variable (and start no expression this parser knows).
pub fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "break"
            | "case"
            | "catch"
            | "class"
            | "const"
            | "continue"
            | "debugger"
            | "default"
            | "do"
            | "else"
            | "enum"
            | "export"
            | "extends"
            | "finally"
            | "for"
            | "if"
            | "import"
            | "in"
            | "instanceof"
            | "return"
            | "super"
            | "switch"
            | "throw"
            | "try"
            | "var"
            | "while"
            | "with"
            | "let"
            | "function"
            | "new"
            | "typeof"
            | "void"
            | "delete"
            | "true"
            | "false"
            | "null"
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

/// The nesting `parse` is at when it reads the elements of an array literal passed to a
/// call that is a whole statement (`db.c.insertMany([…])`): the statement, the call's
/// expression and its argument.
pub const CALL_ARRAY_DEPTH: usize = 3;

/// One element of an array literal and the separator after it (`,`: true, `]`: false),
/// parsed as `parse` parses it at nesting `depth`, for a reader that takes a giant literal
/// element by element. `tokens` start at the element and end with the token after it.
pub fn array_element(
    src: &str,
    tokens: &[Token],
    depth: usize,
) -> Result<(Expr, bool), ShellError> {
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        depth,
        closes: bracket_pairs(tokens),
    };
    p.array_item()
}

pub fn parse(src: &str, tokens: &[Token]) -> Result<Vec<Stmt>, ShellError> {
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        depth: 0,
        closes: bracket_pairs(tokens),
    };
    let mut out = Vec::new();
    loop {
        while p.eat_punct(";") {}
        if p.peek().is_none() {
            return Ok(out);
        }
        out.push(p.statement(true)?);
    }
}
