//! Lua 5.1 source to a syntax tree: the lexer and a recursive-descent parser following
//! lparser.c's grammar, priorities and error texts ("'end' expected near '<eof>'"). Names are
//! resolved here (local slot, upvalue or global) so the evaluator never looks a local up by name.

use std::rc::Rc;

/// Deepest nesting of blocks and expressions a chunk may have (Lua's LUAI_MAXCCALLS is 200);
/// lower, because the evaluator walks the tree recursively on a wasm stack.
const MAX_LEVELS: usize = 100;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(Rc<[u8]>),
    Str(Rc<[u8]>),
    Num(f64),
    /// Keywords and symbols, as written.
    Sym(&'static str),
    Eof,
}

const KEYWORDS: [&str; 21] = [
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "if", "in", "local",
    "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
];

const SYMBOLS: [&str; 27] = [
    "...", "..", "==", "~=", "<=", ">=", "+", "-", "*", "/", "%", "^", "#", "<", ">", "=", "(",
    ")", "{", "}", "[", "]", ";", ":", ",", ".", "\u{0}",
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnOp {
    Neg,
    Not,
    Len,
}

#[derive(Debug)]
pub enum Expr {
    Nil,
    True,
    False,
    Num(f64),
    Str(Rc<[u8]>),
    Vararg,
    Function(Rc<Proto>),
    Local(usize, Rc<[u8]>),
    Upval(usize, Rc<[u8]>),
    Global(Rc<[u8]>),
    Index(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>, u32),
    Method(Box<Expr>, Rc<[u8]>, Vec<Expr>, u32),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Un(UnOp, Box<Expr>),
    Table(Vec<(Option<Expr>, Expr)>),
    /// Parentheses: cut a call's results to one.
    Paren(Box<Expr>),
}

impl Expr {
    /// How Lua's error messages name the value (`local 'x'`, `global 'f'`, `field 'y'`).
    pub fn describe(&self) -> Option<(&'static str, &[u8])> {
        match self {
            Expr::Local(_, name) => Some(("local", name)),
            Expr::Upval(_, name) => Some(("upvalue", name)),
            Expr::Global(name) => Some(("global", name)),
            Expr::Index(_, key) => match key.as_ref() {
                Expr::Str(name) => Some(("field", name)),
                _ => None,
            },
            _ => None,
        }
    }

    fn is_multi(&self) -> bool {
        matches!(self, Expr::Call(..) | Expr::Method(..) | Expr::Vararg)
    }
}

#[derive(Debug)]
pub enum Stat {
    Local(Vec<usize>, Vec<Expr>),
    Assign(Vec<Expr>, Vec<Expr>),
    Call(Expr),
    Do(Block),
    While(Expr, Block),
    Repeat(Block, Expr),
    If(Vec<(Expr, Block)>, Option<Block>),
    NumFor(usize, Expr, Expr, Option<Expr>, Block),
    GenFor(Vec<usize>, Vec<Expr>, Block),
    LocalFunction(usize, Rc<Proto>),
    Return(Vec<Expr>),
    Break,
}

pub type Block = Vec<(Stat, u32)>;

/// Where a closure finds each of its upvalues when it is created.
#[derive(Debug, Clone, Copy)]
pub enum UpSource {
    Local(usize),
    Upval(usize),
}

#[derive(Debug, Default)]
pub struct Proto {
    pub params: usize,
    pub vararg: bool,
    pub slots: usize,
    pub upvals: Vec<UpSource>,
    pub body: Block,
}

struct FuncState {
    /// Active locals, innermost last: name and slot.
    actives: Vec<(Rc<[u8]>, usize)>,
    slots: usize,
    upvals: Vec<(Rc<[u8]>, UpSource)>,
    vararg: bool,
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    tok: Tok,
    /// The source text of the current token, for "near '...'".
    tok_text: Vec<u8>,
    ahead: Option<(Tok, Vec<u8>, u32)>,
    funcs: Vec<FuncState>,
    levels: usize,
    chunk: &'a str,
}

pub type ParseResult<T> = Result<T, String>;

/// Parses a whole chunk into the main function's prototype (a vararg function).
pub fn parse_chunk(src: &[u8], chunk: &str) -> ParseResult<Rc<Proto>> {
    let mut p = Parser {
        src,
        pos: 0,
        line: 1,
        tok: Tok::Eof,
        tok_text: Vec::new(),
        ahead: None,
        funcs: vec![FuncState {
            actives: Vec::new(),
            slots: 0,
            upvals: Vec::new(),
            vararg: true,
        }],
        levels: 0,
        chunk,
    };
    if p.src.first() == Some(&b'#') {
        while p.pos < p.src.len() && p.src[p.pos] != b'\n' {
            p.pos += 1;
        }
    }
    p.next()?;
    let body = p.block()?;
    if p.tok != Tok::Eof {
        return Err(p.error_near("'<eof>' expected"));
    }
    let f = p.funcs.pop().unwrap_or(FuncState {
        actives: Vec::new(),
        slots: 0,
        upvals: Vec::new(),
        vararg: true,
    });
    Ok(Rc::new(Proto {
        params: 0,
        vararg: true,
        slots: f.slots,
        upvals: Vec::new(),
        body,
    }))
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Lua 5.1's `luaO_str2d`: decimal (strtod) or hexadecimal integer, surrounding spaces allowed.
pub fn str_to_number(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    let t = text.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
    if t.is_empty() {
        return None;
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.len() > 2 && (body.starts_with("0x") || body.starts_with("0X")) {
        let mut n: f64 = 0.0;
        for c in body[2..].chars() {
            n = n * 16.0 + f64::from(c.to_digit(16)?);
        }
        return Some(if neg { -n } else { n });
    }
    let ok = body
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        && body
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == b'.');
    if !ok {
        // strtod also reads "inf" and "nan".
        let lower = body.to_ascii_lowercase();
        return match lower.as_str() {
            "inf" | "infinity" => Some(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }),
            "nan" => Some(f64::NAN),
            _ => None,
        };
    }
    let n: f64 = body.parse().ok()?;
    Some(if neg { -n } else { n })
}

impl<'a> Parser<'a> {
    fn err_at(&self, line: u32, msg: &str) -> String {
        format!("{}:{}: {}", self.chunk, line, msg)
    }

    fn error_near(&self, msg: &str) -> String {
        let near = match &self.tok {
            Tok::Eof => "<eof>".to_string(),
            _ => String::from_utf8_lossy(&self.tok_text).into_owned(),
        };
        self.err_at(self.line, &format!("{msg} near '{near}'"))
    }

    fn peek_byte(&self, at: usize) -> u8 {
        self.src.get(self.pos + at).copied().unwrap_or(0)
    }

    fn next(&mut self) -> ParseResult<()> {
        if let Some((tok, text, line)) = self.ahead.take() {
            self.tok = tok;
            self.tok_text = text;
            self.line = line;
            return Ok(());
        }
        let (tok, text) = self.lex()?;
        self.tok = tok;
        self.tok_text = text;
        Ok(())
    }

    fn look_ahead(&mut self) -> ParseResult<&Tok> {
        if self.ahead.is_none() {
            let line = self.line;
            let (tok, text) = self.lex()?;
            let ahead_line = self.line;
            self.line = line;
            self.ahead = Some((tok, text, ahead_line));
        }
        Ok(self.ahead.as_ref().map(|a| &a.0).unwrap_or(&Tok::Eof))
    }

    /// Counts the `=` of a long bracket at `pos` (`[==[`): Some(level) if it opens one.
    fn long_bracket(&self) -> Option<usize> {
        let mut at = 1;
        while self.peek_byte(at) == b'=' {
            at += 1;
        }
        (self.peek_byte(at) == b'[').then_some(at - 1)
    }

    fn long_string(&mut self, level: usize, what: &str) -> ParseResult<Vec<u8>> {
        let start = self.pos;
        self.pos += level + 2;
        if self.peek_byte(0) == b'\r' || self.peek_byte(0) == b'\n' {
            self.newline();
        }
        let mut out = Vec::new();
        loop {
            if self.pos >= self.src.len() {
                let msg = format!("unfinished long {what}");
                return Err(self.err_at(self.line, &format!("{msg} near '<eof>'")));
            }
            let c = self.src[self.pos];
            if c == b']' {
                let mut at = 1;
                while self.peek_byte(at) == b'=' {
                    at += 1;
                }
                if at - 1 == level && self.peek_byte(at) == b']' {
                    self.pos += at + 1;
                    let _ = start;
                    return Ok(out);
                }
                out.push(c);
                self.pos += 1;
            } else if c == b'\n' || c == b'\r' {
                self.newline();
                out.push(b'\n');
            } else {
                out.push(c);
                self.pos += 1;
            }
        }
    }

    fn newline(&mut self) {
        let c = self.peek_byte(0);
        self.pos += 1;
        let d = self.peek_byte(0);
        if (d == b'\n' || d == b'\r') && d != c {
            self.pos += 1;
        }
        self.line += 1;
    }

    fn lex(&mut self) -> ParseResult<(Tok, Vec<u8>)> {
        loop {
            let Some(&c) = self.src.get(self.pos) else {
                return Ok((Tok::Eof, Vec::new()));
            };
            match c {
                b'\n' | b'\r' => self.newline(),
                b' ' | b'\t' | 0x0b | 0x0c => self.pos += 1,
                b'-' if self.peek_byte(1) == b'-' => {
                    self.pos += 2;
                    if self.peek_byte(0) == b'[' {
                        if let Some(level) = self.long_bracket() {
                            self.long_string(level, "comment")?;
                            continue;
                        }
                    }
                    while self.pos < self.src.len()
                        && self.src[self.pos] != b'\n'
                        && self.src[self.pos] != b'\r'
                    {
                        self.pos += 1;
                    }
                }
                b'[' => {
                    if let Some(level) = self.long_bracket() {
                        let s = self.long_string(level, "string")?;
                        let text = s.clone();
                        return Ok((Tok::Str(s.into()), text));
                    }
                    self.pos += 1;
                    return Ok((Tok::Sym("["), b"[".to_vec()));
                }
                b'"' | b'\'' => return self.short_string(c),
                b'0'..=b'9' => return self.number(),
                b'.' if self.peek_byte(1).is_ascii_digit() => return self.number(),
                c if is_name_start(c) => {
                    let start = self.pos;
                    while self
                        .src
                        .get(self.pos)
                        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        self.pos += 1;
                    }
                    let word = &self.src[start..self.pos];
                    if let Some(kw) = KEYWORDS.iter().find(|k| k.as_bytes() == word) {
                        return Ok((Tok::Sym(kw), word.to_vec()));
                    }
                    return Ok((Tok::Name(word.into()), word.to_vec()));
                }
                _ => {
                    for sym in SYMBOLS {
                        if self.src[self.pos..].starts_with(sym.as_bytes()) && sym != "\u{0}" {
                            self.pos += sym.len();
                            return Ok((Tok::Sym(sym), sym.as_bytes().to_vec()));
                        }
                    }
                    // A single unknown character is its own token; the parser rejects it.
                    self.pos += 1;
                    return Ok((Tok::Sym("\u{0}"), vec![c]));
                }
            }
        }
    }

    fn number(&mut self) -> ParseResult<(Tok, Vec<u8>)> {
        let start = self.pos;
        while let Some(&c) = self.src.get(self.pos) {
            let exponent_sign = (c == b'+' || c == b'-')
                && matches!(self.src.get(self.pos.wrapping_sub(1)), Some(b'e' | b'E'));
            if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = self.src[start..self.pos].to_vec();
        match str_to_number(&text) {
            Some(n) => Ok((Tok::Num(n), text)),
            None => Err(self.err_at(
                self.line,
                &format!("malformed number near '{}'", String::from_utf8_lossy(&text)),
            )),
        }
    }

    fn short_string(&mut self, quote: u8) -> ParseResult<(Tok, Vec<u8>)> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.src.get(self.pos) else {
                return Err(self.err_at(self.line, "unfinished string near '<eof>'"));
            };
            match c {
                c if c == quote => {
                    self.pos += 1;
                    break;
                }
                b'\n' | b'\r' => {
                    let text = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
                    return Err(self.err_at(self.line, &format!("unfinished string near '{text}'")));
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek_byte(0);
                    let simple = match e {
                        b'a' => Some(7),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'v' => Some(11),
                        _ => None,
                    };
                    if let Some(b) = simple {
                        out.push(b);
                        self.pos += 1;
                    } else if e == b'\n' || e == b'\r' {
                        out.push(b'\n');
                        self.newline();
                    } else if e.is_ascii_digit() {
                        let mut n: u32 = 0;
                        let mut i = 0;
                        while i < 3 && self.peek_byte(0).is_ascii_digit() {
                            n = n * 10 + u32::from(self.peek_byte(0) - b'0');
                            self.pos += 1;
                            i += 1;
                        }
                        if n > 255 {
                            return Err(
                                self.err_at(self.line, "escape sequence too large near '\\'")
                            );
                        }
                        out.push(n as u8);
                    } else if self.pos >= self.src.len() {
                        return Err(self.err_at(self.line, "unfinished string near '<eof>'"));
                    } else {
                        out.push(e);
                        self.pos += 1;
                    }
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        let text = self.src[start..self.pos].to_vec();
        Ok((Tok::Str(out.into()), text))
    }

    fn is(&self, sym: &str) -> bool {
        matches!(&self.tok, Tok::Sym(s) if *s == sym)
    }

    fn test_next(&mut self, sym: &str) -> ParseResult<bool> {
        if self.is(sym) {
            self.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn check_next(&mut self, sym: &str) -> ParseResult<()> {
        if !self.test_next(sym)? {
            return Err(self.error_near(&format!("'{sym}' expected")));
        }
        Ok(())
    }

    fn check_match(&mut self, what: &str, who: &str, line: u32) -> ParseResult<()> {
        if self.test_next(what)? {
            return Ok(());
        }
        if line == self.line {
            Err(self.error_near(&format!("'{what}' expected")))
        } else {
            Err(self.error_near(&format!(
                "'{what}' expected (to close '{who}' at line {line})"
            )))
        }
    }

    fn name(&mut self) -> ParseResult<Rc<[u8]>> {
        if let Tok::Name(n) = &self.tok {
            let n = n.clone();
            self.next()?;
            return Ok(n);
        }
        Err(self.error_near("'<name>' expected"))
    }

    fn enter(&mut self) -> ParseResult<()> {
        self.levels += 1;
        if self.levels > MAX_LEVELS {
            return Err(self.err_at(self.line, "chunk has too many syntax levels"));
        }
        Ok(())
    }

    fn fs(&mut self) -> &mut FuncState {
        let last = self.funcs.len() - 1;
        &mut self.funcs[last]
    }

    fn declare(&mut self, name: Rc<[u8]>) -> usize {
        let fs = self.fs();
        let slot = fs.slots;
        fs.slots += 1;
        fs.actives.push((name, slot));
        slot
    }

    /// Reserves a slot whose name becomes visible later (`local x = x` reads the outer x).
    fn reserve(&mut self) -> usize {
        let fs = self.fs();
        fs.slots += 1;
        fs.slots - 1
    }

    fn activate(&mut self, name: Rc<[u8]>, slot: usize) {
        self.fs().actives.push((name, slot));
    }

    fn resolve(&mut self, name: Rc<[u8]>) -> Expr {
        match self.resolve_in(self.funcs.len() - 1, &name) {
            Some(Ok(slot)) => Expr::Local(slot, name),
            Some(Err(up)) => Expr::Upval(up, name),
            None => Expr::Global(name),
        }
    }

    /// In function `level`: Ok(slot) for its own local, Err(index) for an upvalue.
    fn resolve_in(&mut self, level: usize, name: &[u8]) -> Option<Result<usize, usize>> {
        let fs = &self.funcs[level];
        if let Some((_, slot)) = fs.actives.iter().rev().find(|(n, _)| n.as_ref() == name) {
            return Some(Ok(*slot));
        }
        if let Some(at) = fs.upvals.iter().position(|(n, _)| n.as_ref() == name) {
            return Some(Err(at));
        }
        if level == 0 {
            return None;
        }
        let source = match self.resolve_in(level - 1, name)? {
            Ok(slot) => UpSource::Local(slot),
            Err(up) => UpSource::Upval(up),
        };
        let fs = &mut self.funcs[level];
        fs.upvals.push((name.into(), source));
        Some(Err(fs.upvals.len() - 1))
    }

    fn block_follow(&self) -> bool {
        matches!(self.tok, Tok::Eof)
            || self.is("else")
            || self.is("elseif")
            || self.is("end")
            || self.is("until")
    }

    fn block(&mut self) -> ParseResult<Block> {
        self.enter()?;
        let actives = self.fs().actives.len();
        let mut out = Vec::new();
        while !self.block_follow() {
            let line = self.line;
            let is_last = self.is("return") || self.is("break");
            let stat = self.statement()?;
            out.push((stat, line));
            self.test_next(";")?;
            if is_last {
                break;
            }
        }
        self.fs().actives.truncate(actives);
        self.levels -= 1;
        Ok(out)
    }

    fn statement(&mut self) -> ParseResult<Stat> {
        let line = self.line;
        let Tok::Sym(sym) = self.tok.clone() else {
            return self.expr_stat();
        };
        match sym {
            "if" => {
                self.next()?;
                let mut arms = Vec::new();
                let cond = self.expr()?;
                self.check_next("then")?;
                arms.push((cond, self.block()?));
                let mut otherwise = None;
                loop {
                    if self.test_next("elseif")? {
                        let cond = self.expr()?;
                        self.check_next("then")?;
                        arms.push((cond, self.block()?));
                    } else if self.test_next("else")? {
                        otherwise = Some(self.block()?);
                        self.check_match("end", "if", line)?;
                        break;
                    } else {
                        self.check_match("end", "if", line)?;
                        break;
                    }
                }
                Ok(Stat::If(arms, otherwise))
            }
            "while" => {
                self.next()?;
                let cond = self.expr()?;
                self.check_next("do")?;
                let body = self.block()?;
                self.check_match("end", "while", line)?;
                Ok(Stat::While(cond, body))
            }
            "do" => {
                self.next()?;
                let body = self.block()?;
                self.check_match("end", "do", line)?;
                Ok(Stat::Do(body))
            }
            "for" => self.for_stat(line),
            "repeat" => {
                self.next()?;
                self.enter()?;
                let actives = self.fs().actives.len();
                let mut body = Vec::new();
                while !self.block_follow() {
                    let l = self.line;
                    let is_last = self.is("return") || self.is("break");
                    body.push((self.statement()?, l));
                    self.test_next(";")?;
                    if is_last {
                        break;
                    }
                }
                self.check_match("until", "repeat", line)?;
                // The condition sees the body's locals.
                let cond = self.expr()?;
                self.fs().actives.truncate(actives);
                self.levels -= 1;
                Ok(Stat::Repeat(body, cond))
            }
            "function" => {
                self.next()?;
                let mut target = {
                    let n = self.name()?;
                    self.resolve(n)
                };
                let mut method = false;
                while self.is(".") || self.is(":") {
                    method = self.is(":");
                    self.next()?;
                    let key = self.name()?;
                    target = Expr::Index(Box::new(target), Box::new(Expr::Str(key)));
                    if method {
                        break;
                    }
                }
                let f = self.body(method, line)?;
                Ok(Stat::Assign(vec![target], vec![Expr::Function(f)]))
            }
            "local" => {
                self.next()?;
                if self.test_next("function")? {
                    let n = self.name()?;
                    let slot = self.declare(n);
                    let f = self.body(false, line)?;
                    return Ok(Stat::LocalFunction(slot, f));
                }
                let mut names = Vec::new();
                loop {
                    names.push(self.name()?);
                    if !self.test_next(",")? {
                        break;
                    }
                }
                let exprs = if self.test_next("=")? {
                    self.expr_list()?
                } else {
                    Vec::new()
                };
                let slots: Vec<usize> = names.iter().map(|_| self.reserve()).collect();
                for (n, &s) in names.into_iter().zip(&slots) {
                    self.activate(n, s);
                }
                Ok(Stat::Local(slots, exprs))
            }
            "return" => {
                self.next()?;
                let exprs = if self.block_follow() || self.is(";") {
                    Vec::new()
                } else {
                    self.expr_list()?
                };
                Ok(Stat::Return(exprs))
            }
            "break" => {
                self.next()?;
                Ok(Stat::Break)
            }
            _ => self.expr_stat(),
        }
    }

    fn for_stat(&mut self, line: u32) -> ParseResult<Stat> {
        self.next()?;
        let first = self.name()?;
        if self.is("=") {
            self.next()?;
            let start = self.expr()?;
            self.check_next(",")?;
            let limit = self.expr()?;
            let step = if self.test_next(",")? {
                Some(self.expr()?)
            } else {
                None
            };
            self.check_next("do")?;
            let actives = self.fs().actives.len();
            let slot = self.declare(first);
            let body = self.block()?;
            self.fs().actives.truncate(actives);
            self.check_match("end", "for", line)?;
            return Ok(Stat::NumFor(slot, start, limit, step, body));
        }
        if !self.is(",") && !self.is("in") {
            return Err(self.error_near("'=' or 'in' expected"));
        }
        let mut names = vec![first];
        while self.test_next(",")? {
            names.push(self.name()?);
        }
        self.check_next("in")?;
        let exprs = self.expr_list()?;
        self.check_next("do")?;
        let actives = self.fs().actives.len();
        let slots = names.into_iter().map(|n| self.declare(n)).collect();
        let body = self.block()?;
        self.fs().actives.truncate(actives);
        self.check_match("end", "for", line)?;
        Ok(Stat::GenFor(slots, exprs, body))
    }

    fn expr_stat(&mut self) -> ParseResult<Stat> {
        let first = self.suffixed()?;
        if matches!(first, Expr::Call(..) | Expr::Method(..)) && !self.is("=") && !self.is(",") {
            return Ok(Stat::Call(first));
        }
        let mut targets = vec![first];
        loop {
            let assignable = matches!(
                targets.last(),
                Some(Expr::Local(..) | Expr::Upval(..) | Expr::Global(_) | Expr::Index(..))
            );
            if !assignable {
                return Err(self.error_near("syntax error"));
            }
            if !self.test_next(",")? {
                break;
            }
            targets.push(self.suffixed()?);
        }
        self.check_next("=")?;
        let exprs = self.expr_list()?;
        Ok(Stat::Assign(targets, exprs))
    }

    fn body(&mut self, method: bool, line: u32) -> ParseResult<Rc<Proto>> {
        self.enter()?;
        self.funcs.push(FuncState {
            actives: Vec::new(),
            slots: 0,
            upvals: Vec::new(),
            vararg: false,
        });
        if method {
            self.declare(b"self".as_slice().into());
        }
        self.check_next("(")?;
        let mut vararg = false;
        if !self.is(")") {
            loop {
                if self.test_next("...")? {
                    vararg = true;
                    break;
                }
                let n = self.name()?;
                self.declare(n);
                if !self.test_next(",")? {
                    break;
                }
            }
        }
        self.fs().vararg = vararg;
        let params = self.fs().slots;
        self.check_next(")")?;
        let body = self.block()?;
        self.check_match("end", "function", line)?;
        let fs = self.funcs.pop().unwrap_or(FuncState {
            actives: Vec::new(),
            slots: 0,
            upvals: Vec::new(),
            vararg: false,
        });
        self.levels -= 1;
        Ok(Rc::new(Proto {
            params,
            vararg,
            slots: fs.slots,
            upvals: fs.upvals.into_iter().map(|(_, s)| s).collect(),
            body,
        }))
    }

    fn expr_list(&mut self) -> ParseResult<Vec<Expr>> {
        let mut out = vec![self.expr()?];
        while self.test_next(",")? {
            out.push(self.expr()?);
        }
        Ok(out)
    }

    fn primary(&mut self) -> ParseResult<Expr> {
        match self.tok.clone() {
            Tok::Name(n) => {
                self.next()?;
                Ok(self.resolve(n))
            }
            Tok::Sym("(") => {
                let line = self.line;
                self.next()?;
                let e = self.expr()?;
                self.check_match(")", "(", line)?;
                Ok(if e.is_multi() {
                    Expr::Paren(Box::new(e))
                } else {
                    e
                })
            }
            _ => Err(self.error_near("unexpected symbol")),
        }
    }

    fn suffixed(&mut self) -> ParseResult<Expr> {
        let mut e = self.primary()?;
        let mut chain = 0;
        loop {
            chain += 1;
            if self.levels + chain > MAX_LEVELS {
                return Err(self.err_at(self.line, "chunk has too many syntax levels"));
            }
            let line = self.line;
            match &self.tok {
                Tok::Sym(".") => {
                    self.next()?;
                    let key = self.name()?;
                    e = Expr::Index(Box::new(e), Box::new(Expr::Str(key)));
                }
                Tok::Sym("[") => {
                    self.next()?;
                    let key = self.expr()?;
                    self.check_next("]")?;
                    e = Expr::Index(Box::new(e), Box::new(key));
                }
                Tok::Sym(":") => {
                    self.next()?;
                    let name = self.name()?;
                    let args = self.call_args()?;
                    e = Expr::Method(Box::new(e), name, args, line);
                }
                Tok::Sym("(") | Tok::Sym("{") | Tok::Str(_) => {
                    let args = self.call_args()?;
                    e = Expr::Call(Box::new(e), args, line);
                }
                _ => return Ok(e),
            }
        }
    }

    fn call_args(&mut self) -> ParseResult<Vec<Expr>> {
        match self.tok.clone() {
            Tok::Str(s) => {
                self.next()?;
                Ok(vec![Expr::Str(s)])
            }
            Tok::Sym("{") => Ok(vec![self.table()?]),
            Tok::Sym("(") => {
                let line = self.line;
                self.next()?;
                if self.test_next(")")? {
                    return Ok(Vec::new());
                }
                let args = self.expr_list()?;
                self.check_match(")", "(", line)?;
                Ok(args)
            }
            _ => Err(self.error_near("function arguments expected")),
        }
    }

    fn table(&mut self) -> ParseResult<Expr> {
        let line = self.line;
        self.check_next("{")?;
        let mut fields = Vec::new();
        while !self.is("}") {
            if self.is("[") {
                self.next()?;
                let key = self.expr()?;
                self.check_next("]")?;
                self.check_next("=")?;
                fields.push((Some(key), self.expr()?));
            } else if matches!(self.tok, Tok::Name(_)) && self.look_ahead()? == &Tok::Sym("=") {
                let key = self.name()?;
                self.next()?;
                fields.push((Some(Expr::Str(key)), self.expr()?));
            } else {
                fields.push((None, self.expr()?));
            }
            if !self.test_next(",")? && !self.test_next(";")? {
                break;
            }
        }
        self.check_match("}", "{", line)?;
        Ok(Expr::Table(fields))
    }

    fn simple(&mut self) -> ParseResult<Expr> {
        let e = match self.tok.clone() {
            Tok::Num(n) => Expr::Num(n),
            Tok::Str(s) => Expr::Str(s),
            Tok::Sym("nil") => Expr::Nil,
            Tok::Sym("true") => Expr::True,
            Tok::Sym("false") => Expr::False,
            Tok::Sym("...") => {
                if !self.fs().vararg {
                    return Err(self.error_near("cannot use '...' outside a vararg function"));
                }
                Expr::Vararg
            }
            Tok::Sym("{") => return self.table(),
            Tok::Sym("function") => {
                let line = self.line;
                self.next()?;
                return Ok(Expr::Function(self.body(false, line)?));
            }
            _ => return self.suffixed(),
        };
        self.next()?;
        Ok(e)
    }

    fn binop(&self) -> Option<(BinOp, u8, u8)> {
        let Tok::Sym(s) = &self.tok else {
            return None;
        };
        Some(match *s {
            "+" => (BinOp::Add, 6, 6),
            "-" => (BinOp::Sub, 6, 6),
            "*" => (BinOp::Mul, 7, 7),
            "/" => (BinOp::Div, 7, 7),
            "%" => (BinOp::Mod, 7, 7),
            "^" => (BinOp::Pow, 10, 9),
            ".." => (BinOp::Concat, 5, 4),
            "==" => (BinOp::Eq, 3, 3),
            "~=" => (BinOp::Ne, 3, 3),
            "<" => (BinOp::Lt, 3, 3),
            "<=" => (BinOp::Le, 3, 3),
            ">" => (BinOp::Gt, 3, 3),
            ">=" => (BinOp::Ge, 3, 3),
            "and" => (BinOp::And, 2, 2),
            "or" => (BinOp::Or, 1, 1),
            _ => return None,
        })
    }

    fn expr(&mut self) -> ParseResult<Expr> {
        self.subexpr(0)
    }

    fn subexpr(&mut self, limit: u8) -> ParseResult<Expr> {
        self.enter()?;
        let unary = match &self.tok {
            Tok::Sym("not") => Some(UnOp::Not),
            Tok::Sym("-") => Some(UnOp::Neg),
            Tok::Sym("#") => Some(UnOp::Len),
            _ => None,
        };
        let mut e = if let Some(op) = unary {
            self.next()?;
            let operand = self.subexpr(8)?;
            match (op, operand) {
                (UnOp::Neg, Expr::Num(n)) => Expr::Num(-n),
                (op, operand) => Expr::Un(op, Box::new(operand)),
            }
        } else {
            self.simple()?
        };
        let mut chain = 0;
        while let Some((op, left, right)) = self.binop() {
            if left <= limit {
                break;
            }
            chain += 1;
            if self.levels + chain > MAX_LEVELS {
                return Err(self.err_at(self.line, "chunk has too many syntax levels"));
            }
            self.next()?;
            let rhs = self.subexpr(right)?;
            e = Expr::Bin(op, Box::new(e), Box::new(rhs));
        }
        self.levels -= 1;
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse_chunk(src.as_bytes(), "user_script").unwrap_err()
    }

    #[test]
    fn syntax_errors_read_like_lua_5_1() {
        let cases = [
            ("if true then", "user_script:1: 'end' expected near '<eof>'"),
            (
                "return \"abc",
                "user_script:1: unfinished string near '<eof>'",
            ),
            (
                "local x = 1 x = ",
                "user_script:1: unexpected symbol near '<eof>'",
            ),
            (
                "for i=1,3 do end end",
                "user_script:1: '<eof>' expected near 'end'",
            ),
            (
                "return 1 +",
                "user_script:1: unexpected symbol near '<eof>'",
            ),
            ("x", "user_script:1: '=' expected near '<eof>'"),
            (
                "while true do\n\nx = 1",
                "user_script:3: 'end' expected (to close 'while' at line 1) near '<eof>'",
            ),
            ("local 1", "user_script:1: '<name>' expected near '1'"),
            ("return 3x", "user_script:1: malformed number near '3x'"),
        ];
        for (src, expected) in cases {
            assert_eq!(err(src), expected, "{src}");
        }
    }

    #[test]
    fn numbers_parse_as_lua_reads_them() {
        assert_eq!(str_to_number(b" 0x10 "), Some(16.0));
        assert_eq!(str_to_number(b"1e3"), Some(1000.0));
        assert_eq!(str_to_number(b".5"), Some(0.5));
        assert_eq!(str_to_number(b"abc"), None);
        assert_eq!(str_to_number(b""), None);
        assert_eq!(str_to_number(b"1 2"), None);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let src = "return ".to_string() + &"(".repeat(500) + "1" + &")".repeat(500);
        assert!(err(&src).contains("too many syntax levels"));
        let src = "return 1".to_string() + &" + 1".repeat(5000);
        assert!(err(&src).contains("too many syntax levels"));
    }
}
