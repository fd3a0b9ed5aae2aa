//! A shorter way in for the statements a page sends most: `db.coll.find({…}).toArray()`,
//! `db.coll.find({…})` and `db.coll.findOne({…})` with a filter of plain literals, in JSON
//! mode. Such a statement is read by a scanner of its own instead of the lexer and parser
//! (a fifth of a one-find call in wasm went to them), then runs through the evaluator's own
//! lookup, member and call, so that it means what the full path makes of it; a cursor read
//! whole writes the documents' JSON straight from the store instead of copying each one
//! into the cursor and again into an array. Anything else — another shape, a comment, an
//! escape in a string, a number that is not a small integer, `db` bound to something of
//! the student's — is left to the full path, with nothing run.

use super::{Js, Session, ShellError};
use crate::mongo::ejson::Ejson;
use crate::mongo::value::{number_value, Document, Value};

/// Literals nested deeper than this are left to the full path (which allows far more).
const MAX_NESTING: usize = 8;

/// A statement of one of the shapes above.
struct Find<'a> {
    coll: &'a str,
    /// `find` or `findOne`.
    method: &'a str,
    /// The source text of `db.coll.method`, as the parser keeps it for error messages.
    callee: &'a str,
    /// The argument, when there is one.
    filter: Option<Document>,
    /// The source text of `….toArray`, when the statement ends with its call.
    to_array: Option<&'a str>,
}

struct Scanner<'a> {
    src: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Eats `c` after any white space.
    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// An ASCII identifier after any white space.
    fn ident(&mut self) -> Option<&'a str> {
        self.skip_space();
        let start = self.at;
        while let Some(c) = self.peek() {
            let ok = c.is_ascii_alphabetic()
                || c == b'_'
                || c == b'$'
                || (self.at > start && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.at += 1;
        }
        // A non-ASCII letter may continue an identifier: not ours to judge.
        if self.at == start || self.peek().is_some_and(|c| c >= 0x80) {
            return None;
        }
        self.src.get(start..self.at)
    }

    /// A quoted string with no escape, no control character and no line separator.
    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        let start = self.at + 1;
        let rest = self.src.get(start..)?;
        // U+2028 and U+2029 (E2 80 A8 / A9) are refused by their lead byte, rare in text,
        // so that one pass over the bytes finds the closing quote and anything refused.
        let len = rest
            .bytes()
            .position(|c| c == quote || c == b'\\' || c < 0x20 || c == 0x7f || c == 0xe2)?;
        if rest.as_bytes().get(len) != Some(&quote) {
            return None;
        }
        self.at = start + len + 1;
        rest.get(..len).map(str::to_string)
    }

    /// A decimal integer of at most nine digits, so an Int32 as the evaluator makes it.
    fn integer(&mut self) -> Option<Value> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = self.src.get(start..self.at)?;
        let next = self.peek();
        if digits.is_empty()
            || digits.len() > 9
            || (digits.len() > 1 && digits.starts_with('0'))
            || next.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'$'))
        {
            return None;
        }
        let n: u32 = digits.parse().ok()?;
        Some(number_value(f64::from(n)))
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        self.skip_space();
        match self.peek()? {
            b'{' => self.object(depth + 1).map(Value::Document),
            b'[' => self.array(depth + 1),
            b'"' | b'\'' => self.string().map(Value::String),
            b'0'..=b'9' => self.integer(),
            _ => match self.ident()? {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => Some(Value::Null),
                _ => None,
            },
        }
    }

    fn array(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_NESTING || !self.eat(b'[') {
            return None;
        }
        let mut items = Vec::new();
        loop {
            if self.eat(b']') {
                return Some(Value::Array(items));
            }
            items.push(self.value(depth)?);
            if !self.eat(b',') {
                return self.eat(b']').then_some(Value::Array(items));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<Document> {
        if depth > MAX_NESTING || !self.eat(b'{') {
            return None;
        }
        let mut doc = Document::default();
        loop {
            if self.eat(b'}') {
                return Some(doc);
            }
            self.skip_space();
            let key = match self.peek()? {
                b'"' | b'\'' => self.string()?,
                _ => self.ident()?.to_string(),
            };
            // A repeated key keeps its first place with its last value, and only the last
            // value is evaluated: simpler left to the full path. `__proto__` is no field.
            if key == "__proto__" || doc.contains_key(&key) || !self.eat(b':') {
                return None;
            }
            let value = self.value(depth)?;
            doc.insert(key, value);
            if !self.eat(b',') {
                return self.eat(b'}').then_some(doc);
            }
        }
    }
}

/// `src` as one statement of the shapes above, or None.
fn scan(src: &str) -> Option<Find<'_>> {
    let mut s = Scanner { src, at: 0 };
    s.skip_space();
    let start = s.at;
    if s.ident()? != "db" || !s.eat(b'.') {
        return None;
    }
    let coll = s.ident()?;
    if !s.eat(b'.') {
        return None;
    }
    let method = s.ident()?;
    if !matches!(method, "find" | "findOne") {
        return None;
    }
    let callee = src.get(start..s.at)?;
    if !s.eat(b'(') {
        return None;
    }
    let filter = if s.eat(b')') {
        None
    } else {
        s.skip_space();
        let doc = s.object(1)?;
        if !s.eat(b')') {
            return None;
        }
        Some(doc)
    };
    let to_array = if method == "find" && s.eat(b'.') {
        if s.ident()? != "toArray" {
            return None;
        }
        let text = src.get(start..s.at)?;
        if !(s.eat(b'(') && s.eat(b')')) {
            return None;
        }
        Some(text)
    } else {
        None
    };
    s.eat(b';');
    s.skip_space();
    // The parser keeps at most 200 bytes of a callee's text; a longer one is its business.
    if s.at != src.len() || to_array.unwrap_or(callee).len() > 200 {
        return None;
    }
    Some(Find {
        coll,
        method,
        callee,
        filter,
        to_array,
    })
}

impl Session {
    /// Runs `src` if it is one statement of the shapes above, giving its JSON reply as the
    /// full path would write it; None, with nothing run, for anything else.
    pub(crate) fn run_fast_json(&mut self, src: &str) -> Option<String> {
        if !self.json {
            return None;
        }
        let find = scan(src)?;
        self.begin_input();
        self.scope = self.global.clone();
        if !matches!(self.lookup("db"), Ok(Js::Db)) {
            return None;
        }
        let coll = match self.member(Js::Db, find.coll) {
            Ok(c @ Js::Collection { .. }) => c,
            _ => return None,
        };
        let method = match self.member(coll, find.method) {
            Ok(m @ Js::Method { .. }) => m,
            _ => return None,
        };
        // Room for a few small documents, so that a short reply never grows its string.
        let mut out = String::with_capacity(256);
        if let Err(e) = self.run_find(find, method, &mut out) {
            out.clear();
            out.push_str(&e.to_json());
            out.push('\n');
        }
        Some(out)
    }

    fn run_find(&mut self, find: Find<'_>, method: Js, out: &mut String) -> Result<(), ShellError> {
        // The evaluator's steps: one per expression node (`….toArray()`, `….toArray`,
        // `db.coll.find(…)`, `db.coll.find`, `db.coll`, `db`, and the argument, a literal
        // the parser folds into one) and one per call.
        let nodes = if find.to_array.is_some() { 6 } else { 4 } + u64::from(find.filter.is_some());
        for _ in 0..nodes {
            self.tick()?;
        }
        let args = find
            .filter
            .map(|d| vec![Js::Val(Value::Document(d))])
            .unwrap_or_default();
        let found = self.call(method, args, find.callee, false)?;
        let plain = match &found {
            Js::Live(c) => {
                let c = c.borrow();
                self.host.is_none()
                    && c.buffer.is_none()
                    && c.maps.is_empty()
                    && c.spec.session.is_none()
                    && c.spec.explain.is_none()
                    && c.spec.projection.is_none()
            }
            _ => false,
        };
        if !plain {
            let value = match find.to_array {
                Some(text) => {
                    let to_array = self.member(found, "toArray")?;
                    self.call(to_array, Vec::new(), text, false)?
                }
                None => found,
            };
            let output = self.output(value)?;
            crate::mongo::render_json(out, &output);
            return Ok(());
        }
        if find.to_array.is_some() {
            // What calling `toArray` charges.
            self.tick()?;
        }
        let Js::Live(cursor) = found else {
            return Ok(());
        };
        if find.to_array.is_none() {
            // A cursor printed whole leaves nothing for `it`.
            self.cursor = None;
        }
        let spec = &cursor.borrow().spec;
        let docs = self.matching(spec)?;
        let mut w = Ejson::default();
        w.docs(docs.iter().copied());
        w.raw("\n");
        w.finish_into(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
