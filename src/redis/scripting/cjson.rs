//! `cjson.encode` / `cjson.decode` with lua-cjson's rules and error texts: arrays are tables
//! whose keys are 1..n (sparse ones refused), empty tables encode as `{}`, `/` is escaped,
//! numbers print as `%.14g`, JSON null decodes to the `cjson.null` sentinel.

use super::stdlib::{arg_error, register};
use super::vm::{fmt_number, Args, Error, Rets, Table, TableRef, Value, Vm, MAX_STRING};

const MAX_DEPTH: usize = 1000;

pub fn install(vm: &mut Vm) {
    let t = Table::new_ref();
    register(&t, &[("encode", encode), ("decode", decode)]);
    t.borrow_mut().set(Value::str("null"), Value::Null);
    vm.st
        .globals
        .borrow_mut()
        .set(Value::str("cjson"), Value::Table(t));
}

fn encode(vm: &mut Vm, args: Args) -> Rets {
    if args.len() != 1 {
        return Err(arg_error(vm, 1, "encode", "expected 1 argument"));
    }
    let mut out = Vec::new();
    encode_value(vm, &args[0], &mut out, 0)?;
    Ok(vec![Value::str(out)])
}

fn encode_value(vm: &mut Vm, v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), Error> {
    vm.st.step(1)?;
    vm.st.check_stack()?;
    if out.len() > MAX_STRING {
        return Err(vm.error("not enough memory"));
    }
    match v {
        Value::Nil | Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Num(n) => {
            if !n.is_finite() {
                return Err(vm.error("Cannot serialise number: must not be NaN or Inf"));
            }
            out.extend_from_slice(fmt_number(*n).as_bytes());
        }
        Value::Str(s) => encode_string(s, out),
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                return Err(vm.error(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                )));
            }
            encode_table(vm, t, out, depth)?;
        }
        Value::Func(_) => {
            return Err(vm.error("Cannot serialise function: type not supported"));
        }
    }
    Ok(())
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            b if b < 0x20 || b == 0x7f => {
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            }
            b => out.push(b),
        }
    }
    out.push(b'"');
}

fn encode_table(vm: &mut Vm, t: &TableRef, out: &mut Vec<u8>, depth: usize) -> Result<(), Error> {
    let mut entries = Vec::new();
    let mut key = Value::Nil;
    while let Ok(Some((k, v))) = t.borrow().next(&key) {
        entries.push((k.clone(), v));
        key = k;
    }
    // An array: every key a positive integer, not too sparse.
    let mut max = 0usize;
    let mut array = true;
    for (k, _) in &entries {
        match k {
            Value::Num(n) if *n >= 1.0 && n.fract() == 0.0 => max = max.max(*n as usize),
            _ => {
                array = false;
                break;
            }
        }
    }
    if array && !entries.is_empty() {
        if max > 10 && max > entries.len() * 2 {
            return Err(vm.error("Cannot serialise table: excessively sparse array"));
        }
        out.push(b'[');
        for i in 1..=max {
            if i > 1 {
                out.push(b',');
            }
            let v = t.borrow().get(&Value::Num(i as f64));
            encode_value(vm, &v, out, depth + 1)?;
        }
        out.push(b']');
        return Ok(());
    }
    out.push(b'{');
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match k {
            Value::Str(s) => encode_string(s, out),
            Value::Num(n) => encode_string(fmt_number(*n).as_bytes(), out),
            _ => {
                return Err(vm.error("Cannot serialise table: table key must be a number or string"))
            }
        }
        out.push(b':');
        encode_value(vm, v, out, depth + 1)?;
    }
    out.push(b'}');
    Ok(())
}

struct Decoder<'a> {
    s: &'a [u8],
    pos: usize,
}

enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Invalid,
}

impl Token {
    fn name(&self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::Str(_) => "T_STRING",
            Token::Num(_) => "T_NUMBER",
            Token::Bool(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Invalid => "invalid token",
        }
    }
}

impl Decoder<'_> {
    /// The next token and the 1-based character it starts at.
    fn token(&mut self) -> (Token, usize) {
        while self.pos < self.s.len() && b" \t\r\n".contains(&self.s[self.pos]) {
            self.pos += 1;
        }
        let at = self.pos + 1;
        let Some(&c) = self.s.get(self.pos) else {
            return (Token::End, at);
        };
        let simple = match c {
            b'{' => Some(Token::ObjBegin),
            b'}' => Some(Token::ObjEnd),
            b'[' => Some(Token::ArrBegin),
            b']' => Some(Token::ArrEnd),
            b':' => Some(Token::Colon),
            b',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(t) = simple {
            self.pos += 1;
            return (t, at);
        }
        for (word, tok) in [
            (&b"true"[..], Token::Bool(true)),
            (b"false", Token::Bool(false)),
            (b"null", Token::Null),
        ] {
            if self.s[self.pos..].starts_with(word) {
                self.pos += word.len();
                return (tok, at);
            }
        }
        if c == b'"' {
            return (self.string().unwrap_or(Token::Invalid), at);
        }
        if c == b'-' || c.is_ascii_digit() {
            let start = self.pos;
            self.pos += 1;
            while self
                .s
                .get(self.pos)
                .is_some_and(|c| c.is_ascii_digit() || b".eE+-".contains(c))
            {
                self.pos += 1;
            }
            let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
            return match text.parse::<f64>() {
                Ok(n) => (Token::Num(n), at),
                Err(_) => (Token::Invalid, at),
            };
        }
        (Token::Invalid, at)
    }

    fn string(&mut self) -> Option<Token> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.pos)?;
            self.pos += 1;
            match c {
                b'"' => return Some(Token::Str(out)),
                b'\\' => {
                    let e = *self.s.get(self.pos)?;
                    self.pos += 1;
                    match e {
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hex = self.s.get(self.pos..self.pos + 4)?;
                            let code =
                                u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                            self.pos += 4;
                            let ch = char::from_u32(code).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        b'"' | b'\\' | b'/' => out.push(e),
                        _ => return None,
                    }
                }
                c => out.push(c),
            }
        }
    }
}

fn decode(vm: &mut Vm, args: Args) -> Rets {
    if args.len() != 1 {
        return Err(arg_error(vm, 1, "decode", "expected 1 argument"));
    }
    let Some(s) = args[0].to_str() else {
        return Err(arg_error(
            vm,
            1,
            "decode",
            "string expected, got ".to_string().as_str(),
        ));
    };
    let mut d = Decoder { s: &s, pos: 0 };
    let (tok, at) = d.token();
    let v = decode_value(vm, &mut d, tok, at, 0)?;
    let (tok, at) = d.token();
    if !matches!(tok, Token::End) {
        return Err(vm.error(format!(
            "Expected the end but found {} at character {at}",
            tok.name()
        )));
    }
    Ok(vec![v])
}

fn decode_value(
    vm: &mut Vm,
    d: &mut Decoder,
    tok: Token,
    at: usize,
    depth: usize,
) -> Result<Value, Error> {
    vm.st.step(1)?;
    vm.st.check_stack()?;
    if depth >= MAX_DEPTH {
        return Err(vm.error(format!(
            "Found too many nested data structures ({}) at character {at}",
            depth + 1
        )));
    }
    match tok {
        Token::Str(s) => Ok(Value::str(s)),
        Token::Num(n) => Ok(Value::Num(n)),
        Token::Bool(b) => Ok(Value::Bool(b)),
        Token::Null => Ok(Value::Null),
        Token::ArrBegin => {
            let t = Table::new_ref();
            let (mut tok, mut at) = d.token();
            if matches!(tok, Token::ArrEnd) {
                return Ok(Value::Table(t));
            }
            let mut i = 1;
            loop {
                let v = decode_value(vm, d, tok, at, depth + 1)?;
                t.borrow_mut().set(Value::Num(f64::from(i)), v);
                i += 1;
                let (sep, sat) = d.token();
                match sep {
                    Token::ArrEnd => return Ok(Value::Table(t)),
                    Token::Comma => {}
                    other => {
                        return Err(vm.error(format!(
                            "Expected comma or array end but found {} at character {sat}",
                            other.name()
                        )))
                    }
                }
                (tok, at) = d.token();
            }
        }
        Token::ObjBegin => {
            let t = Table::new_ref();
            let (mut tok, mut at) = d.token();
            if matches!(tok, Token::ObjEnd) {
                return Ok(Value::Table(t));
            }
            loop {
                let Token::Str(key) = tok else {
                    return Err(vm.error(format!(
                        "Expected object key string but found {} at character {at}",
                        tok.name()
                    )));
                };
                let (colon, cat) = d.token();
                if !matches!(colon, Token::Colon) {
                    return Err(vm.error(format!(
                        "Expected colon but found {} at character {cat}",
                        colon.name()
                    )));
                }
                let (vt, vat) = d.token();
                let v = decode_value(vm, d, vt, vat, depth + 1)?;
                t.borrow_mut().set(Value::str(key), v);
                let (sep, sat) = d.token();
                match sep {
                    Token::ObjEnd => return Ok(Value::Table(t)),
                    Token::Comma => {}
                    other => {
                        return Err(vm.error(format!(
                            "Expected comma or object end but found {} at character {sat}",
                            other.name()
                        )))
                    }
                }
                (tok, at) = d.token();
            }
        }
        other => Err(vm.error(format!(
            "Expected value but found {} at character {at}",
            other.name()
        ))),
    }
}
