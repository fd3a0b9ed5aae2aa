//! Python's grammar, the part snippets use, into a small syntax tree.

use std::rc::Rc;

use super::lexer::{syntax, tokenize, unescape, Tok, Token};
use super::value::PyErr;

/// Brackets nest at most this deep: the parser and evaluator recurse on the Rust stack.
const MAX_NESTING: usize = 40;

#[derive(Debug, Clone)]
pub enum Expr {
    Name(String),
    Const(Lit),
    FString(Vec<FPart>),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Set(Vec<Expr>),
    Dict(Vec<(Option<Expr>, Expr)>),
    Attr(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    Call(Box<Expr>, Vec<Arg>),
    Unary(&'static str, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Vec<(&'static str, Expr)>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    IfElse(Box<Expr>, Box<Expr>, Box<Expr>),
    Lambda(Rc<FuncDef>),
    Await(Box<Expr>),
    Starred(Box<Expr>),
    /// `[elt for … in … if …]`; kind is "list", "set", "gen" or "dict" (then `value` is set).
    Comp {
        kind: &'static str,
        elt: Box<Expr>,
        value: Option<Box<Expr>>,
        clauses: Vec<CompFor>,
    },
}

#[derive(Debug, Clone)]
pub enum Lit {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Ellipsis,
}

#[derive(Debug, Clone)]
pub enum FPart {
    Lit(String),
    Field {
        expr: Expr,
        conv: Option<char>,
        spec: String,
        /// `f"{x=}"`: the expression's text comes first.
        debug: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct CompFor {
    pub target: Expr,
    pub iter: Expr,
    pub conds: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub enum Arg {
    Pos(Expr),
    Star(Expr),
    Kw(String, Expr),
    StarStar(Expr),
}

#[derive(Debug)]
pub struct FuncDef {
    pub name: String,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    /// A lambda's body is one expression.
    pub expr: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub default: Option<Expr>,
    /// 1 for `*args`, 2 for `**kwargs`.
    pub star: u8,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub line: usize,
    pub kind: StmtKind,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    Expr(Expr),
    Assign(Vec<Expr>, Expr),
    AugAssign(Expr, &'static str, Expr),
    Import(Vec<(String, Option<String>)>),
    FromImport(String, Vec<(String, Option<String>)>),
    Def(Rc<FuncDef>),
    Return(Option<Expr>),
    If(Vec<(Expr, Vec<Stmt>)>, Vec<Stmt>),
    For(Expr, Expr, Vec<Stmt>, Vec<Stmt>),
    While(Expr, Vec<Stmt>, Vec<Stmt>),
    Break,
    Continue,
    Pass,
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Handler>,
        orelse: Vec<Stmt>,
        finally: Vec<Stmt>,
    },
    With(Vec<(Expr, Option<Expr>)>, Vec<Stmt>),
    Raise(Option<Expr>),
    Del(Vec<Expr>),
    Assert(Expr, Option<Expr>),
    Global,
}

#[derive(Debug, Clone)]
pub struct Handler {
    pub class: Option<Expr>,
    pub name: Option<String>,
    pub body: Vec<Stmt>,
}

pub fn parse(src: &str) -> Result<Vec<Stmt>, PyErr> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        nesting: 0,
    };
    let mut stmts = Vec::new();
    while !p.at(&Tok::Eof) {
        if p.eat_tok(&Tok::Newline) {
            continue;
        }
        p.statement(&mut stmts)?;
    }
    Ok(stmts)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    nesting: usize,
}

fn unsupported(what: &str, line: usize) -> PyErr {
    PyErr::new(
        "NotImplementedError",
        format!("{what} is not supported in the sandbox (line {line})"),
    )
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::Eof, |t| &t.tok)
    }
    fn peek_at(&self, n: usize) -> &Tok {
        self.toks.get(self.pos + n).map_or(&Tok::Eof, |t| &t.tok)
    }
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.line)
    }
    fn at(&self, t: &Tok) -> bool {
        self.peek() == t
    }
    fn at_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn at_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == kw)
    }
    fn advance(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn skip_if(&mut self, yes: bool) -> bool {
        if yes {
            self.advance();
        }
        yes
    }
    fn eat_tok(&mut self, t: &Tok) -> bool {
        let yes = self.at(t);
        self.skip_if(yes)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        let yes = self.at_op(op);
        self.skip_if(yes)
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.at_kw(kw);
        self.skip_if(yes)
    }
    fn error(&self) -> PyErr {
        match self.peek() {
            Tok::Indent => syntax("unexpected indent", self.line()),
            _ => syntax("invalid syntax", self.line()),
        }
    }
    fn expect_op(&mut self, op: &str) -> Result<(), PyErr> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.error())
        }
    }
    fn name(&mut self) -> Result<String, PyErr> {
        match self.peek() {
            Tok::Name(n) if !is_keyword(n) => {
                let n = n.clone();
                self.advance();
                Ok(n)
            }
            _ => Err(self.error()),
        }
    }

    fn block(&mut self) -> Result<Vec<Stmt>, PyErr> {
        self.expect_op(":")?;
        let mut body = Vec::new();
        if self.eat_tok(&Tok::Newline) {
            if !self.eat_tok(&Tok::Indent) {
                return Err(PyErr::new(
                    "IndentationError",
                    format!(
                        "expected an indented block (<snippet>, line {})",
                        self.line()
                    ),
                ));
            }
            self.nest()?;
            while !self.eat_tok(&Tok::Dedent) && !self.at(&Tok::Eof) {
                if self.eat_tok(&Tok::Newline) {
                    continue;
                }
                self.statement(&mut body)?;
            }
            self.nesting -= 1;
        } else {
            self.simple_line(&mut body)?;
        }
        Ok(body)
    }

    fn nest(&mut self) -> Result<(), PyErr> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(syntax("too many nested blocks or parentheses", self.line()));
        }
        Ok(())
    }

    fn statement(&mut self, out: &mut Vec<Stmt>) -> Result<(), PyErr> {
        let line = self.line();
        let kind = match self.peek().clone() {
            Tok::Name(kw) => match kw.as_str() {
                "if" => {
                    self.advance();
                    let mut arms = vec![(self.expr()?, self.block()?)];
                    let mut orelse = Vec::new();
                    loop {
                        if self.eat_kw("elif") {
                            arms.push((self.expr()?, self.block()?));
                        } else if self.eat_kw("else") {
                            orelse = self.block()?;
                            break;
                        } else {
                            break;
                        }
                    }
                    StmtKind::If(arms, orelse)
                }
                "while" => {
                    self.advance();
                    let cond = self.expr()?;
                    let body = self.block()?;
                    let orelse = if self.eat_kw("else") {
                        self.block()?
                    } else {
                        Vec::new()
                    };
                    StmtKind::While(cond, body, orelse)
                }
                "for" => {
                    self.advance();
                    self.for_stmt()?
                }
                "async" => {
                    self.advance();
                    if self.eat_kw("for") {
                        self.for_stmt()?
                    } else if self.at_kw("with") {
                        self.advance();
                        self.with_stmt()?
                    } else if self.eat_kw("def") {
                        self.def()?
                    } else {
                        return Err(self.error());
                    }
                }
                "def" => {
                    self.advance();
                    self.def()?
                }
                "try" => {
                    self.advance();
                    self.try_stmt()?
                }
                "with" => {
                    self.advance();
                    self.with_stmt()?
                }
                "class" => return Err(unsupported("class", line)),
                "match" if !matches!(self.peek_at(1), Tok::Op(_) | Tok::Newline) => {
                    return Err(unsupported("match", line))
                }
                "@" => return Err(unsupported("a decorator", line)),
                _ => return self.simple_line(out),
            },
            Tok::Op("@") => return Err(unsupported("a decorator", line)),
            _ => return self.simple_line(out),
        };
        out.push(Stmt { line, kind });
        Ok(())
    }

    fn for_stmt(&mut self) -> Result<StmtKind, PyErr> {
        let target = self.target_list()?;
        if !self.eat_kw("in") {
            return Err(self.error());
        }
        let iter = self.expr_list()?;
        let body = self.block()?;
        let orelse = if self.eat_kw("else") {
            self.block()?
        } else {
            Vec::new()
        };
        Ok(StmtKind::For(target, iter, body, orelse))
    }

    fn with_stmt(&mut self) -> Result<StmtKind, PyErr> {
        let mut items = Vec::new();
        loop {
            let e = self.expr()?;
            let target = if self.eat_kw("as") {
                Some(self.target()?)
            } else {
                None
            };
            items.push((e, target));
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(StmtKind::With(items, self.block()?))
    }

    fn try_stmt(&mut self) -> Result<StmtKind, PyErr> {
        let body = self.block()?;
        let mut handlers = Vec::new();
        while self.eat_kw("except") {
            let class = if self.at_op(":") {
                None
            } else {
                Some(self.expr()?)
            };
            let name = if self.eat_kw("as") {
                Some(self.name()?)
            } else {
                None
            };
            handlers.push(Handler {
                class,
                name,
                body: self.block()?,
            });
        }
        let orelse = if self.eat_kw("else") {
            self.block()?
        } else {
            Vec::new()
        };
        let finally = if self.eat_kw("finally") {
            self.block()?
        } else {
            Vec::new()
        };
        if handlers.is_empty() && finally.is_empty() {
            return Err(syntax("expected 'except' or 'finally' block", self.line()));
        }
        Ok(StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        })
    }

    fn def(&mut self) -> Result<StmtKind, PyErr> {
        let name = self.name()?;
        self.expect_op("(")?;
        let params = self.params(")")?;
        self.expect_op(")")?;
        if self.eat_op("->") {
            self.expr()?;
        }
        let body = self.block()?;
        Ok(StmtKind::Def(Rc::new(FuncDef {
            name,
            params,
            body,
            expr: None,
        })))
    }

    fn params(&mut self, end: &str) -> Result<Vec<Param>, PyErr> {
        let mut params = Vec::new();
        while !self.at_op(end) {
            let star = if self.eat_op("**") {
                2
            } else if self.eat_op("*") {
                1
            } else {
                0
            };
            if star == 0 && self.eat_op("/") {
                if !self.eat_op(",") {
                    break;
                }
                continue;
            }
            if star == 1 && (self.at_op(",") || self.at_op(end)) {
                // A bare `*` only makes the following parameters keyword-only.
                if !self.eat_op(",") {
                    break;
                }
                continue;
            }
            let name = self.name()?;
            if end == ")" && self.eat_op(":") {
                self.expr()?;
            }
            let default = if self.eat_op("=") {
                Some(self.expr()?)
            } else {
                None
            };
            params.push(Param {
                name,
                default,
                star,
            });
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(params)
    }

    /// One line of simple statements separated by `;`.
    fn simple_line(&mut self, out: &mut Vec<Stmt>) -> Result<(), PyErr> {
        loop {
            let line = self.line();
            let kind = self.simple()?;
            out.push(Stmt { line, kind });
            if self.eat_op(";") {
                if self.eat_tok(&Tok::Newline) || self.at(&Tok::Eof) {
                    return Ok(());
                }
                continue;
            }
            if self.eat_tok(&Tok::Newline) || self.at(&Tok::Eof) {
                return Ok(());
            }
            return Err(self.error());
        }
    }

    fn dotted(&mut self) -> Result<String, PyErr> {
        let mut name = self.name()?;
        while self.eat_op(".") {
            name.push('.');
            name.push_str(&self.name()?);
        }
        Ok(name)
    }

    fn simple(&mut self) -> Result<StmtKind, PyErr> {
        let line = self.line();
        if let Tok::Name(kw) = self.peek().clone() {
            match kw.as_str() {
                "pass" => {
                    self.advance();
                    return Ok(StmtKind::Pass);
                }
                "break" => {
                    self.advance();
                    return Ok(StmtKind::Break);
                }
                "continue" => {
                    self.advance();
                    return Ok(StmtKind::Continue);
                }
                "return" => {
                    self.advance();
                    let value = if self.at_end() {
                        None
                    } else {
                        Some(self.expr_list()?)
                    };
                    return Ok(StmtKind::Return(value));
                }
                "raise" => {
                    self.advance();
                    let value = if self.at_end() {
                        None
                    } else {
                        Some(self.expr()?)
                    };
                    if self.eat_kw("from") {
                        self.expr()?;
                    }
                    return Ok(StmtKind::Raise(value));
                }
                "global" | "nonlocal" => {
                    self.advance();
                    loop {
                        self.name()?;
                        if !self.eat_op(",") {
                            break;
                        }
                    }
                    return Ok(StmtKind::Global);
                }
                "del" => {
                    self.advance();
                    let mut targets = vec![self.target()?];
                    while self.eat_op(",") {
                        targets.push(self.target()?);
                    }
                    return Ok(StmtKind::Del(targets));
                }
                "assert" => {
                    self.advance();
                    let cond = self.expr()?;
                    let msg = if self.eat_op(",") {
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    return Ok(StmtKind::Assert(cond, msg));
                }
                "import" => {
                    self.advance();
                    let mut names = Vec::new();
                    loop {
                        let module = self.dotted()?;
                        let alias = if self.eat_kw("as") {
                            Some(self.name()?)
                        } else {
                            None
                        };
                        names.push((module, alias));
                        if !self.eat_op(",") {
                            break;
                        }
                    }
                    return Ok(StmtKind::Import(names));
                }
                "from" => {
                    self.advance();
                    if self.at_op(".") {
                        return Err(unsupported("a relative import", line));
                    }
                    let module = self.dotted()?;
                    if !self.eat_kw("import") {
                        return Err(self.error());
                    }
                    if self.eat_op("*") {
                        return Err(unsupported("import *", line));
                    }
                    let paren = self.eat_op("(");
                    let mut names = Vec::new();
                    loop {
                        let name = self.name()?;
                        let alias = if self.eat_kw("as") {
                            Some(self.name()?)
                        } else {
                            None
                        };
                        names.push((name, alias));
                        if !self.eat_op(",") || (paren && self.at_op(")")) {
                            break;
                        }
                    }
                    if paren {
                        self.expect_op(")")?;
                    }
                    return Ok(StmtKind::FromImport(module, names));
                }
                "yield" => return Err(unsupported("yield", line)),
                _ => {}
            }
        }
        let first = self.expr_list()?;
        if let Tok::Op(op) = self.peek().clone() {
            if op.len() >= 2 && op.ends_with('=') && !matches!(op, "==" | "<=" | ">=" | "!=") {
                self.advance();
                check_target(&first, line)?;
                let value = self.expr_list()?;
                return Ok(StmtKind::AugAssign(first, &op[..op.len() - 1], value));
            }
            if op == ":" {
                // An annotated assignment: the annotation is not evaluated.
                self.advance();
                self.expr()?;
                check_target(&first, line)?;
                if self.eat_op("=") {
                    let value = self.expr_list()?;
                    return Ok(StmtKind::Assign(vec![first], value));
                }
                return Ok(StmtKind::Pass);
            }
        }
        if self.at_op("=") {
            let mut targets = vec![first];
            let mut value;
            loop {
                self.advance();
                value = self.expr_list()?;
                if !self.at_op("=") {
                    break;
                }
                targets.push(value.clone());
            }
            for t in &targets {
                check_target(t, line)?;
            }
            return Ok(StmtKind::Assign(targets, value));
        }
        Ok(StmtKind::Expr(first))
    }

    fn at_end(&self) -> bool {
        matches!(self.peek(), Tok::Newline | Tok::Eof) || self.at_op(";")
    }

    fn target(&mut self) -> Result<Expr, PyErr> {
        let line = self.line();
        let e = self.or_expr()?;
        check_target(&e, line)?;
        Ok(e)
    }

    fn target_list(&mut self) -> Result<Expr, PyErr> {
        let first = self.target()?;
        if !self.at_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_kw("in") || self.at_op("=") {
                break;
            }
            items.push(self.target()?);
        }
        Ok(Expr::Tuple(items))
    }

    /// Expressions separated by commas: a tuple when there is a comma.
    fn expr_list(&mut self) -> Result<Expr, PyErr> {
        let first = self.star_or_expr()?;
        if !self.at_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_end() || self.at_op("=") || self.at_op(")") || self.at_op(":") {
                break;
            }
            items.push(self.star_or_expr()?);
        }
        Ok(Expr::Tuple(items))
    }

    fn star_or_expr(&mut self) -> Result<Expr, PyErr> {
        if self.eat_op("*") {
            return Ok(Expr::Starred(Box::new(self.or_expr()?)));
        }
        self.expr()
    }

    pub fn expr(&mut self) -> Result<Expr, PyErr> {
        if self.eat_kw("lambda") {
            let params = self.params(":")?;
            self.expect_op(":")?;
            let body = self.expr()?;
            return Ok(Expr::Lambda(Rc::new(FuncDef {
                name: "<lambda>".into(),
                params,
                body: Vec::new(),
                expr: Some(body),
            })));
        }
        let e = self.or_test()?;
        if self.at_op(":=") {
            return Err(unsupported("the walrus operator", self.line()));
        }
        if self.eat_kw("if") {
            let cond = self.or_test()?;
            if !self.eat_kw("else") {
                return Err(syntax("expected 'else' after 'if' expression", self.line()));
            }
            let other = self.expr()?;
            return Ok(Expr::IfElse(Box::new(cond), Box::new(e), Box::new(other)));
        }
        Ok(e)
    }

    fn or_test(&mut self) -> Result<Expr, PyErr> {
        let mut e = self.and_test()?;
        while self.eat_kw("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and_test()?));
        }
        Ok(e)
    }

    fn and_test(&mut self) -> Result<Expr, PyErr> {
        let mut e = self.not_test()?;
        while self.eat_kw("and") {
            e = Expr::And(Box::new(e), Box::new(self.not_test()?));
        }
        Ok(e)
    }

    fn not_test(&mut self) -> Result<Expr, PyErr> {
        if self.eat_kw("not") {
            self.nest()?;
            let e = self.not_test()?;
            self.nesting -= 1;
            return Ok(Expr::Unary("not", Box::new(e)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, PyErr> {
        let first = self.or_expr()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Op(o) if matches!(*o, "<" | ">" | "==" | "!=" | "<=" | ">=") => {
                    let o = *o;
                    self.advance();
                    o
                }
                Tok::Name(n) if n == "in" => {
                    self.advance();
                    "in"
                }
                Tok::Name(n)
                    if n == "not" && matches!(self.peek_at(1), Tok::Name(m) if m == "in") =>
                {
                    self.advance();
                    self.advance();
                    "not in"
                }
                Tok::Name(n) if n == "is" => {
                    self.advance();
                    if self.eat_kw("not") {
                        "is not"
                    } else {
                        "is"
                    }
                }
                _ => break,
            };
            rest.push((op, self.or_expr()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(Expr::Compare(Box::new(first), rest))
        }
    }

    fn or_expr(&mut self) -> Result<Expr, PyErr> {
        self.binary(0)
    }

    fn binary(&mut self, level: usize) -> Result<Expr, PyErr> {
        const LEVELS: &[&[&str]] = &[
            &["|"],
            &["^"],
            &["&"],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "/", "//", "%", "@"],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut e = self.binary(level + 1)?;
        loop {
            let op = match self.peek() {
                Tok::Op(o) if ops.contains(o) => *o,
                _ => break,
            };
            self.advance();
            let rhs = self.binary(level + 1)?;
            e = Expr::Binary(op, Box::new(e), Box::new(rhs));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, PyErr> {
        for op in ["-", "+", "~"] {
            if self.eat_op(op) {
                self.nest()?;
                let e = self.unary()?;
                self.nesting -= 1;
                return Ok(Expr::Unary(op, Box::new(e)));
            }
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, PyErr> {
        let base = if self.eat_kw("await") {
            Expr::Await(Box::new(self.primary()?))
        } else {
            self.primary()?
        };
        if self.eat_op("**") {
            self.nest()?;
            let exp = self.unary()?;
            self.nesting -= 1;
            return Ok(Expr::Binary("**", Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr, PyErr> {
        let mut e = self.atom()?;
        loop {
            if self.eat_op(".") {
                let name = match self.advance() {
                    Tok::Name(n) => n,
                    _ => return Err(syntax("invalid syntax", self.line())),
                };
                e = Expr::Attr(Box::new(e), name);
            } else if self.at_op("(") {
                self.advance();
                self.nest()?;
                let args = self.call_args()?;
                self.nesting -= 1;
                self.expect_op(")")?;
                e = Expr::Call(Box::new(e), args);
            } else if self.at_op("[") {
                self.advance();
                self.nest()?;
                let index = self.subscript()?;
                self.nesting -= 1;
                self.expect_op("]")?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else {
                return Ok(e);
            }
        }
    }

    fn subscript(&mut self) -> Result<Expr, PyErr> {
        let mut items = vec![self.slice_item()?];
        let mut tuple = false;
        while self.eat_op(",") {
            tuple = true;
            if self.at_op("]") {
                break;
            }
            items.push(self.slice_item()?);
        }
        if tuple {
            Ok(Expr::Tuple(items))
        } else {
            Ok(items.pop().unwrap_or(Expr::Const(Lit::None)))
        }
    }

    fn slice_item(&mut self) -> Result<Expr, PyErr> {
        let start = if self.at_op(":") {
            None
        } else {
            let e = self.expr()?;
            if !self.at_op(":") {
                return Ok(e);
            }
            Some(Box::new(e))
        };
        self.expect_op(":")?;
        let stop = if self.at_op(":") || self.at_op("]") || self.at_op(",") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let step = if self.eat_op(":") && !self.at_op("]") && !self.at_op(",") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        Ok(Expr::Slice(start, stop, step))
    }

    fn call_args(&mut self) -> Result<Vec<Arg>, PyErr> {
        let mut args = Vec::new();
        while !self.at_op(")") {
            if self.eat_op("**") {
                args.push(Arg::StarStar(self.expr()?));
            } else if self.eat_op("*") {
                args.push(Arg::Star(self.expr()?));
            } else if matches!(self.peek(), Tok::Name(n) if !is_keyword(n))
                && self.peek_at(1) == &Tok::Op("=")
            {
                let name = self.name()?;
                self.advance();
                args.push(Arg::Kw(name, self.expr()?));
            } else {
                let e = self.expr()?;
                if self.at_kw("for") || self.at_kw("async") {
                    let clauses = self.comp_clauses()?;
                    args.push(Arg::Pos(Expr::Comp {
                        kind: "gen",
                        elt: Box::new(e),
                        value: None,
                        clauses,
                    }));
                } else {
                    args.push(Arg::Pos(e));
                }
            }
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(args)
    }

    fn comp_clauses(&mut self) -> Result<Vec<CompFor>, PyErr> {
        let mut clauses = Vec::new();
        loop {
            self.eat_kw("async");
            if !self.eat_kw("for") {
                break;
            }
            let target = self.target_list()?;
            if !self.eat_kw("in") {
                return Err(self.error());
            }
            let iter = self.or_test()?;
            let mut conds = Vec::new();
            while self.eat_kw("if") {
                conds.push(self.or_test_no_ternary()?);
            }
            clauses.push(CompFor {
                target,
                iter,
                conds,
            });
        }
        Ok(clauses)
    }

    fn or_test_no_ternary(&mut self) -> Result<Expr, PyErr> {
        self.or_test()
    }

    fn atom(&mut self) -> Result<Expr, PyErr> {
        let line = self.line();
        match self.advance() {
            Tok::Name(n) => match n.as_str() {
                "True" => Ok(Expr::Const(Lit::Bool(true))),
                "False" => Ok(Expr::Const(Lit::Bool(false))),
                "None" => Ok(Expr::Const(Lit::None)),
                "yield" => Err(unsupported("yield", line)),
                _ if is_keyword(&n) => Err(syntax("invalid syntax", line)),
                _ => Ok(Expr::Name(n)),
            },
            Tok::Int(i) => Ok(Expr::Const(Lit::Int(i))),
            Tok::Float(f) => Ok(Expr::Const(Lit::Float(f))),
            Tok::Str {
                text,
                bytes,
                fstring,
            } => self.strings(text, bytes, fstring, line),
            Tok::Op("...") => Ok(Expr::Const(Lit::Ellipsis)),
            Tok::Op("(") => {
                self.nest()?;
                let e = if self.at_op(")") {
                    Expr::Tuple(Vec::new())
                } else {
                    let first = self.star_or_expr()?;
                    if self.at_kw("for") || self.at_kw("async") {
                        let clauses = self.comp_clauses()?;
                        Expr::Comp {
                            kind: "gen",
                            elt: Box::new(first),
                            value: None,
                            clauses,
                        }
                    } else if self.at_op(",") {
                        let mut items = vec![first];
                        while self.eat_op(",") {
                            if self.at_op(")") {
                                break;
                            }
                            items.push(self.star_or_expr()?);
                        }
                        Expr::Tuple(items)
                    } else {
                        first
                    }
                };
                self.nesting -= 1;
                self.expect_op(")")?;
                Ok(e)
            }
            Tok::Op("[") => {
                self.nest()?;
                let mut items = Vec::new();
                if !self.at_op("]") {
                    let first = self.star_or_expr()?;
                    if self.at_kw("for") || self.at_kw("async") {
                        let clauses = self.comp_clauses()?;
                        self.nesting -= 1;
                        self.expect_op("]")?;
                        return Ok(Expr::Comp {
                            kind: "list",
                            elt: Box::new(first),
                            value: None,
                            clauses,
                        });
                    }
                    items.push(first);
                    while self.eat_op(",") {
                        if self.at_op("]") {
                            break;
                        }
                        items.push(self.star_or_expr()?);
                    }
                }
                self.nesting -= 1;
                self.expect_op("]")?;
                Ok(Expr::List(items))
            }
            Tok::Op("{") => {
                self.nest()?;
                let e = self.brace()?;
                self.nesting -= 1;
                self.expect_op("}")?;
                Ok(e)
            }
            _ => Err(syntax("invalid syntax", line)),
        }
    }

    fn brace(&mut self) -> Result<Expr, PyErr> {
        if self.at_op("}") {
            return Ok(Expr::Dict(Vec::new()));
        }
        if self.eat_op("**") {
            let first = self.or_expr()?;
            return self.dict_rest(vec![(None, first)]);
        }
        let first = self.star_or_expr()?;
        if self.eat_op(":") {
            let value = self.expr()?;
            if self.at_kw("for") || self.at_kw("async") {
                let clauses = self.comp_clauses()?;
                return Ok(Expr::Comp {
                    kind: "dict",
                    elt: Box::new(first),
                    value: Some(Box::new(value)),
                    clauses,
                });
            }
            return self.dict_rest(vec![(Some(first), value)]);
        }
        if self.at_kw("for") || self.at_kw("async") {
            let clauses = self.comp_clauses()?;
            return Ok(Expr::Comp {
                kind: "set",
                elt: Box::new(first),
                value: None,
                clauses,
            });
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_op("}") {
                break;
            }
            items.push(self.star_or_expr()?);
        }
        Ok(Expr::Set(items))
    }

    fn dict_rest(&mut self, mut pairs: Vec<(Option<Expr>, Expr)>) -> Result<Expr, PyErr> {
        while self.eat_op(",") {
            if self.at_op("}") {
                break;
            }
            if self.eat_op("**") {
                pairs.push((None, self.or_expr()?));
                continue;
            }
            let k = self.expr()?;
            self.expect_op(":")?;
            pairs.push((Some(k), self.expr()?));
        }
        Ok(Expr::Dict(pairs))
    }

    /// Adjacent literals concatenate (`"a" "b"`); f-strings split into fields.
    fn strings(
        &mut self,
        text: String,
        bytes: bool,
        fstring: bool,
        line: usize,
    ) -> Result<Expr, PyErr> {
        let mut parts: Vec<FPart> = Vec::new();
        let mut any_f = false;
        let mut push = |text: String, fstring: bool, parts: &mut Vec<FPart>| -> Result<(), PyErr> {
            if fstring {
                any_f = true;
                parts.extend(fstring_parts(&text, line)?);
            } else {
                parts.push(FPart::Lit(text));
            }
            Ok(())
        };
        push(text, fstring, &mut parts)?;
        while let Tok::Str {
            text,
            bytes: b2,
            fstring: f2,
        } = self.peek().clone()
        {
            if b2 != bytes {
                return Err(syntax("cannot mix bytes and nonbytes literals", line));
            }
            self.advance();
            push(text, f2, &mut parts)?;
        }
        if bytes {
            let s: String = parts
                .into_iter()
                .map(|p| match p {
                    FPart::Lit(s) => s,
                    FPart::Field { .. } => String::new(),
                })
                .collect();
            return Ok(Expr::Const(Lit::Bytes(
                s.chars().map(|c| c as u32 as u8).collect(),
            )));
        }
        if !any_f {
            let s: String = parts
                .into_iter()
                .map(|p| match p {
                    FPart::Lit(s) => s,
                    FPart::Field { .. } => String::new(),
                })
                .collect();
            return Ok(Expr::Const(Lit::Str(s)));
        }
        Ok(Expr::FString(parts))
    }
}

fn fstring_parts(text: &str, line: usize) -> Result<Vec<FPart>, PyErr> {
    let chars: Vec<char> = text.chars().collect();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' && chars.get(i + 1) == Some(&'{') {
            lit.push('{');
            i += 2;
            continue;
        }
        if c == '}' && chars.get(i + 1) == Some(&'}') {
            lit.push('}');
            i += 2;
            continue;
        }
        if c == '}' {
            return Err(syntax("f-string: single '}' is not allowed", line));
        }
        if c != '{' {
            lit.push(c);
            i += 1;
            continue;
        }
        if !lit.is_empty() {
            parts.push(FPart::Lit(unescape(&std::mem::take(&mut lit))));
        }
        // Find the end of the expression: the first `!`, `:` or `}` outside brackets/strings.
        let start = i + 1;
        let mut j = start;
        let mut depth = 0;
        let mut quote: Option<char> = None;
        while j < chars.len() {
            let d = chars[j];
            if let Some(q) = quote {
                if d == q {
                    quote = None;
                }
            } else if d == '\'' || d == '"' {
                quote = Some(d);
            } else if matches!(d, '(' | '[' | '{') {
                depth += 1;
            } else if matches!(d, ')' | ']' | '}') && depth > 0 {
                depth -= 1;
            } else if depth == 0
                && (d == '}' || d == ':' || (d == '!' && chars.get(j + 1) != Some(&'=')))
            {
                break;
            }
            j += 1;
        }
        let mut expr_text: String = chars[start..j.min(chars.len())].iter().collect();
        let mut debug = None;
        if expr_text.trim_end().ends_with('=') && !expr_text.trim_end().ends_with("==") {
            debug = Some(expr_text.clone());
            let t = expr_text.trim_end();
            expr_text = t[..t.len() - 1].to_string();
        }
        let mut conv = None;
        if chars.get(j) == Some(&'!') {
            conv = chars.get(j + 1).copied();
            j += 2;
        }
        let mut spec = String::new();
        if chars.get(j) == Some(&':') {
            j += 1;
            while j < chars.len() && chars[j] != '}' {
                spec.push(chars[j]);
                j += 1;
            }
        }
        if chars.get(j) != Some(&'}') {
            return Err(syntax("f-string: expecting '}'", line));
        }
        if expr_text.trim().is_empty() {
            return Err(syntax(
                "f-string: valid expression required before '}'",
                line,
            ));
        }
        let tokens =
            tokenize(expr_text.trim()).map_err(|_| syntax("f-string: invalid syntax", line))?;
        let mut p = Parser {
            toks: tokens,
            pos: 0,
            nesting: MAX_NESTING / 2,
        };
        let expr = p.expr_list()?;
        p.eat_tok(&Tok::Newline);
        if !p.at(&Tok::Eof) {
            return Err(syntax("f-string: invalid syntax", line));
        }
        parts.push(FPart::Field {
            expr,
            conv,
            spec,
            debug,
        });
        i = j + 1;
    }
    if !lit.is_empty() {
        parts.push(FPart::Lit(unescape(&lit)));
    }
    Ok(parts)
}

fn check_target(e: &Expr, line: usize) -> Result<(), PyErr> {
    match e {
        Expr::Name(_) | Expr::Attr(..) | Expr::Index(..) => Ok(()),
        Expr::Tuple(items) | Expr::List(items) => {
            items.iter().try_for_each(|i| check_target(i, line))
        }
        Expr::Starred(inner) => check_target(inner, line),
        _ => Err(syntax("cannot assign to expression", line)),
    }
}

fn is_keyword(n: &str) -> bool {
    matches!(
        n,
        "and"
            | "as"
            | "assert"
            | "async"
            | "await"
            | "break"
            | "class"
            | "continue"
            | "def"
            | "del"
            | "elif"
            | "else"
            | "except"
            | "finally"
            | "for"
            | "from"
            | "global"
            | "if"
            | "import"
            | "in"
            | "is"
            | "lambda"
            | "nonlocal"
            | "not"
            | "or"
            | "pass"
            | "raise"
            | "return"
            | "try"
            | "while"
            | "with"
            | "yield"
            | "True"
            | "False"
            | "None"
    )
}
