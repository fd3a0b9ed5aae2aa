//! Lua 5.1 patterns (lstrlib.c's matcher) and the functions built on them: `string.find`,
//! `string.match`, `string.gmatch`, `string.gsub`. Matching spends budget steps, so a
//! pathological pattern stops like any runaway script.

use super::stdlib::{arg_error, check_int, check_str, native, opt_int};
use super::vm::{Args, Error, Rets, Table, Value, Vm, MAX_STRING};

const MAX_CAPTURES: usize = 32;
const MAX_RECURSION: usize = 200;

#[derive(Clone, Copy)]
enum Cap {
    Open(usize),
    Len(usize, usize),
    Position(usize),
}

struct Matcher<'a, 'v, 'h> {
    src: &'a [u8],
    pat: &'a [u8],
    level: usize,
    caps: [Cap; MAX_CAPTURES],
    depth: usize,
    vm: &'v mut Vm<'h>,
}

fn class_matches(class: u8, c: u8) -> bool {
    let res = match class.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => c.is_ascii_whitespace() || c == 0x0b,
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        b'z' => c == 0,
        _ => return class == c,
    };
    if class.is_ascii_uppercase() {
        !res
    } else {
        res
    }
}

impl Matcher<'_, '_, '_> {
    fn err(&self, msg: &str) -> Error {
        self.vm.error(msg)
    }

    /// End of the single-character class starting at `p`.
    fn class_end(&self, mut p: usize) -> Result<usize, Error> {
        let c = self.pat[p];
        p += 1;
        if c == b'%' {
            if p >= self.pat.len() {
                return Err(self.err("malformed pattern (ends with '%')"));
            }
            return Ok(p + 1);
        }
        if c == b'[' {
            if self.pat.get(p) == Some(&b'^') {
                p += 1;
            }
            loop {
                if p >= self.pat.len() {
                    return Err(self.err("malformed pattern (missing ']')"));
                }
                let cc = self.pat[p];
                p += 1;
                if cc == b'%' {
                    p += 1;
                }
                if self.pat.get(p) == Some(&b']') {
                    return Ok(p + 1);
                }
                if p >= self.pat.len() {
                    return Err(self.err("malformed pattern (missing ']')"));
                }
            }
        }
        Ok(p)
    }

    fn match_bracket(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let mut sig = true;
        if self.pat.get(p + 1) == Some(&b'^') {
            sig = false;
            p += 1;
        }
        p += 1;
        while p < ec {
            if self.pat[p] == b'%' && p + 1 < ec {
                p += 1;
                if class_matches(self.pat[p], c) {
                    return sig;
                }
                p += 1;
            } else if self.pat.get(p + 1) == Some(&b'-') && p + 2 < ec {
                if self.pat[p] <= c && c <= self.pat[p + 2] {
                    return sig;
                }
                p += 3;
            } else {
                if self.pat[p] == c {
                    return sig;
                }
                p += 1;
            }
        }
        !sig
    }

    fn single(&self, s: usize, p: usize, ep: usize) -> bool {
        let Some(&c) = self.src.get(s) else {
            return false;
        };
        match self.pat[p] {
            b'.' => true,
            b'%' => class_matches(self.pat.get(p + 1).copied().unwrap_or(0), c),
            b'[' => self.match_bracket(c, p, ep - 1),
            pc => pc == c,
        }
    }

    fn do_match(&mut self, mut s: usize, mut p: usize) -> Result<Option<usize>, Error> {
        self.depth += 1;
        if self.depth > MAX_RECURSION {
            return Err(self.err("pattern too complex"));
        }
        self.vm.st.check_stack()?;
        let result = loop {
            self.vm.st.step(1)?;
            if p >= self.pat.len() {
                break Some(s);
            }
            match self.pat[p] {
                b'(' => {
                    break if self.pat.get(p + 1) == Some(&b')') {
                        self.start_capture(s, p + 2, Cap::Position(s))?
                    } else {
                        self.start_capture(s, p + 1, Cap::Open(s))?
                    };
                }
                b')' => break self.end_capture(s, p + 1)?,
                b'$' if p + 1 == self.pat.len() => {
                    break (s == self.src.len()).then_some(s);
                }
                b'%' if self.pat.get(p + 1) == Some(&b'b') => {
                    let Some(e) = self.match_balance(s, p + 2)? else {
                        break None;
                    };
                    s = e;
                    p += 4;
                    continue;
                }
                b'%' if self.pat.get(p + 1) == Some(&b'f') => {
                    p += 2;
                    if self.pat.get(p) != Some(&b'[') {
                        return Err(self.err("missing '[' after '%f' in pattern"));
                    }
                    let ep = self.class_end(p)?;
                    let prev = if s == 0 { 0 } else { self.src[s - 1] };
                    let cur = self.src.get(s).copied().unwrap_or(0);
                    if !self.match_bracket(prev, p, ep - 1) && self.match_bracket(cur, p, ep - 1) {
                        p = ep;
                        continue;
                    }
                    break None;
                }
                b'%' if self.pat.get(p + 1).is_some_and(u8::is_ascii_digit) => {
                    let Some(e) = self.match_capture(s, self.pat[p + 1])? else {
                        break None;
                    };
                    s = e;
                    p += 2;
                    continue;
                }
                _ => {}
            }
            let ep = self.class_end(p)?;
            let m = self.single(s, p, ep);
            match self.pat.get(ep) {
                Some(b'?') => {
                    if m {
                        if let Some(r) = self.do_match(s + 1, ep + 1)? {
                            break Some(r);
                        }
                    }
                    p = ep + 1;
                }
                Some(b'*') => break self.max_expand(s, p, ep)?,
                Some(b'+') => {
                    break if m {
                        self.max_expand(s + 1, p, ep)?
                    } else {
                        None
                    }
                }
                Some(b'-') => break self.min_expand(s, p, ep)?,
                _ => {
                    if !m {
                        break None;
                    }
                    s += 1;
                    p = ep;
                }
            }
        };
        self.depth -= 1;
        Ok(result)
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Result<Option<usize>, Error> {
        let mut i = 0;
        while self.single(s + i, p, ep) {
            i += 1;
        }
        loop {
            if let Some(r) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(r));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> Result<Option<usize>, Error> {
        loop {
            if let Some(r) = self.do_match(s, ep + 1)? {
                return Ok(Some(r));
            }
            if self.single(s, p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, cap: Cap) -> Result<Option<usize>, Error> {
        if self.level >= MAX_CAPTURES {
            return Err(self.err("too many captures"));
        }
        self.caps[self.level] = cap;
        self.level += 1;
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.level -= 1;
        }
        Ok(r)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Result<Option<usize>, Error> {
        let Some(l) = (0..self.level)
            .rev()
            .find(|&i| matches!(self.caps[i], Cap::Open(_)))
        else {
            return Err(self.err("invalid pattern capture"));
        };
        let Cap::Open(start) = self.caps[l] else {
            return Ok(None);
        };
        self.caps[l] = Cap::Len(start, s - start);
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.caps[l] = Cap::Open(start);
        }
        Ok(r)
    }

    fn match_balance(&self, s: usize, p: usize) -> Result<Option<usize>, Error> {
        let (Some(&open), Some(&close)) = (self.pat.get(p), self.pat.get(p + 1)) else {
            return Err(self.err("unbalanced pattern"));
        };
        if self.src.get(s) != Some(&open) {
            return Ok(None);
        }
        let mut count = 1;
        let mut i = s + 1;
        while i < self.src.len() {
            let c = self.src[i];
            if c == close {
                count -= 1;
                if count == 0 {
                    return Ok(Some(i + 1));
                }
            } else if c == open {
                count += 1;
            }
            i += 1;
        }
        Ok(None)
    }

    fn match_capture(&mut self, s: usize, digit: u8) -> Result<Option<usize>, Error> {
        let l = usize::from(digit.wrapping_sub(b'1'));
        let (start, len) = match self.caps.get(l).filter(|_| l < self.level) {
            Some(Cap::Len(start, len)) => (*start, *len),
            _ => return Err(self.err("invalid capture index")),
        };
        let cap = &self.src[start..start + len];
        if self.src.len() - s >= len && &self.src[s..s + len] == cap {
            return Ok(Some(s + len));
        }
        Ok(None)
    }

    fn capture(&self, i: usize, s: usize, e: usize) -> Result<Value, Error> {
        if i >= self.level {
            if i == 0 {
                return Ok(Value::str(&self.src[s..e]));
            }
            return Err(self.err("invalid capture index"));
        }
        match self.caps[i] {
            Cap::Len(start, len) => Ok(Value::str(&self.src[start..start + len])),
            Cap::Position(at) => Ok(Value::Num((at + 1) as f64)),
            Cap::Open(_) => Err(self.err("unfinished capture")),
        }
    }

    fn captures(&self, s: usize, e: usize, whole: bool) -> Result<Vec<Value>, Error> {
        let n = if self.level == 0 && whole {
            1
        } else {
            self.level
        };
        (0..n).map(|i| self.capture(i, s, e)).collect()
    }
}

fn matcher<'a, 'v, 'h>(vm: &'v mut Vm<'h>, src: &'a [u8], pat: &'a [u8]) -> Matcher<'a, 'v, 'h> {
    Matcher {
        src,
        pat,
        level: 0,
        caps: [Cap::Open(0); MAX_CAPTURES],
        depth: 0,
        vm,
    }
}

fn has_specials(p: &[u8]) -> bool {
    p.iter().any(|c| b"^$*+?.([%-".contains(c))
}

/// `string.find` (find = true) and `string.match`.
pub fn find(vm: &mut Vm, args: Args, find: bool) -> Rets {
    let name = if find { "find" } else { "match" };
    let s = check_str(vm, &args, 0, name)?;
    let p = check_str(vm, &args, 1, name)?;
    let init = opt_int(vm, &args, 2, name, 1)?;
    let init = if init < 0 {
        (s.len() as i64 + init + 1).max(1)
    } else {
        init.max(1)
    } as usize
        - 1;
    if init > s.len() {
        return Ok(vec![Value::Nil]);
    }
    let plain = args.get(3).is_some_and(Value::truthy);
    if find && (plain || !has_specials(&p)) {
        let at = if p.is_empty() {
            Some(0)
        } else {
            s[init..].windows(p.len()).position(|w| w == p.as_ref())
        };
        return Ok(match at {
            Some(i) => vec![
                Value::Num((init + i + 1) as f64),
                Value::Num((init + i + p.len()) as f64),
            ],
            None => vec![Value::Nil],
        });
    }
    let (anchor, pat) = match p.first() {
        Some(b'^') => (true, &p[1..]),
        _ => (false, &p[..]),
    };
    let mut m = matcher(vm, &s, pat);
    let mut start = init;
    loop {
        m.level = 0;
        m.depth = 0;
        if let Some(e) = m.do_match(start, 0)? {
            if find {
                let mut out = vec![Value::Num((start + 1) as f64), Value::Num(e as f64)];
                out.extend(m.captures(start, e, false)?);
                return Ok(out);
            }
            return m.captures(start, e, true);
        }
        start += 1;
        if anchor || start > s.len() {
            return Ok(vec![Value::Nil]);
        }
    }
}

fn gmatch_iter(vm: &mut Vm, args: Args) -> Rets {
    let Some(Value::Table(state)) = args.first() else {
        return Ok(vec![Value::Nil]);
    };
    let (s, p, pos) = {
        let st = state.borrow();
        (
            st.get(&Value::Num(1.0)).to_str().unwrap_or_default(),
            st.get(&Value::Num(2.0)).to_str().unwrap_or_default(),
            st.get(&Value::Num(3.0)).to_num().unwrap_or(0.0) as usize,
        )
    };
    let mut m = matcher(vm, &s, &p);
    let mut start = pos;
    while start <= s.len() {
        m.level = 0;
        m.depth = 0;
        if let Some(e) = m.do_match(start, 0)? {
            let next = if e == start { e + 1 } else { e };
            let caps = m.captures(start, e, true)?;
            state
                .borrow_mut()
                .set(Value::Num(3.0), Value::Num(next as f64));
            return Ok(caps);
        }
        start += 1;
    }
    state
        .borrow_mut()
        .set(Value::Num(3.0), Value::Num((s.len() + 1) as f64));
    Ok(vec![Value::Nil])
}

pub fn gmatch(vm: &mut Vm, args: Args) -> Rets {
    let s = check_str(vm, &args, 0, "gmatch")?;
    let p = check_str(vm, &args, 1, "gmatch")?;
    let state = Table::from_array(vec![Value::Str(s), Value::Str(p), Value::Num(0.0)]);
    Ok(vec![
        native("gmatch_iter", gmatch_iter),
        Value::Table(state),
    ])
}

pub fn gsub(vm: &mut Vm, args: Args) -> Rets {
    let s = check_str(vm, &args, 0, "gsub")?;
    let p = check_str(vm, &args, 1, "gsub")?;
    let repl = args.get(2).cloned().unwrap_or_default();
    match repl {
        Value::Num(_) | Value::Str(_) | Value::Table(_) | Value::Func(_) => {}
        _ => return Err(arg_error(vm, 3, "gsub", "string/function/table expected")),
    }
    let max = match args.get(3) {
        None | Some(Value::Nil) => i64::MAX,
        _ => check_int(vm, &args, 3, "gsub")?,
    };
    let (anchor, pat) = match p.first() {
        Some(b'^') => (true, &p[1..]),
        _ => (false, &p[..]),
    };
    let mut out: Vec<u8> = Vec::new();
    let mut count = 0i64;
    let mut start = 0usize;
    while count < max {
        let mut m = matcher(vm, &s, pat);
        let e = m.do_match(start, 0)?;
        let caps = match e {
            Some(e) => Some((e, m.captures(start, e, true)?, m.level)),
            None => None,
        };
        if let Some((e, caps, level)) = caps {
            count += 1;
            let whole = Value::str(&s[start..e]);
            let replacement = match &repl {
                Value::Str(_) | Value::Num(_) => {
                    let r = repl.to_str().unwrap_or_default();
                    let mut buf = Vec::new();
                    let mut i = 0;
                    while i < r.len() {
                        if r[i] == b'%' && i + 1 < r.len() {
                            i += 1;
                            let d = r[i];
                            if d == b'0' {
                                buf.extend_from_slice(&s[start..e]);
                            } else if d.is_ascii_digit() {
                                let idx = usize::from(d - b'1');
                                let cap = if level == 0 && idx == 0 {
                                    Some(whole.clone())
                                } else {
                                    caps.get(idx).cloned().filter(|_| idx < level)
                                };
                                match cap.and_then(|c| c.to_str()) {
                                    Some(c) => buf.extend_from_slice(&c),
                                    None => return Err(vm.error("invalid capture index")),
                                }
                            } else {
                                buf.push(d);
                            }
                        } else {
                            buf.push(r[i]);
                        }
                        i += 1;
                    }
                    Some(buf)
                }
                Value::Table(t) => {
                    let key = caps.first().cloned().unwrap_or(whole.clone());
                    let v = t.borrow().get(&key);
                    lookup_replacement(vm, v)?
                }
                Value::Func(_) => {
                    let v = vm.call(&repl, caps)?.into_iter().next().unwrap_or_default();
                    lookup_replacement(vm, v)?
                }
                _ => None,
            };
            match replacement {
                Some(r) => out.extend_from_slice(&r),
                None => out.extend_from_slice(&s[start..e]),
            }
            if out.len() > MAX_STRING {
                return Err(vm.error("not enough memory"));
            }
            if e > start {
                start = e;
            } else {
                if start < s.len() {
                    out.push(s[start]);
                }
                start += 1;
            }
        } else {
            if start < s.len() {
                out.push(s[start]);
            }
            start += 1;
        }
        if start > s.len() || anchor {
            break;
        }
    }
    if start < s.len() {
        out.extend_from_slice(&s[start..]);
    }
    Ok(vec![Value::str(out), Value::Num(count as f64)])
}

fn lookup_replacement(vm: &Vm, v: Value) -> Result<Option<Vec<u8>>, Error> {
    match v {
        Value::Nil | Value::Bool(false) => Ok(None),
        Value::Str(_) | Value::Num(_) => Ok(v.to_str().map(|s| s.to_vec())),
        other => Err(vm.error(format!(
            "invalid replacement value (a {})",
            other.type_name()
        ))),
    }
}
