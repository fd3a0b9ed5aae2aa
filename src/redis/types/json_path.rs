//! JSONPath as RedisJSON reads it: `$`-paths (`$.a.b`, `$..x`, `[*]`, `[0:2]`, `['k']`,
//! `[?(@.price < 10)]`) and the legacy dotted paths (`.a.b`, `a[0]`, `.`), which the module
//! turns into `$`-paths before parsing (`.a` is `$.a`, `a` is `$.a`, `.` is `$`).
//!
//! Evaluation yields locations (a list of object keys and array positions from the root)
//! rather than references, so that commands can read a match, then change or delete it,
//! without holding a borrow of the document across the whole command.

use serde_json::Value as JsonValue;

/// One step from a value to one of its children.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Where a match sits in the document.
pub type Location = Vec<Seg>;

#[derive(Debug, Clone, PartialEq)]
enum Selector {
    Key(String),
    Wild,
    Indices(Vec<i64>),
    Keys(Vec<String>),
    Slice(Option<i64>, Option<i64>, i64),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Child(Selector),
    Descend(Selector),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Relative(Vec<Step>),
    Absolute(Vec<Step>),
    Literal(JsonValue),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare(Operand, CmpOp, Operand),
    Exists(Operand),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
    /// Written in the legacy syntax: commands answer with the first match only.
    pub legacy: bool,
    /// The `$`-form the module quotes in its errors (`.a` reads `$.a`).
    pub dollar_text: String,
}

/// The module's reply to a path it cannot parse.
fn parse_error(text: &str, pos: usize, expected: &str) -> String {
    let shown: String = text.chars().take(pos).collect();
    format!(
        "Error occurred on position {pos}, \"{shown} <<<<----\", expected one of the following: {expected}."
    )
}

const EXPECT_NAME: &str = "<string>, '*'";
const EXPECT_BRACKET: &str = "'<string>[,<string>,...]', '<number>', ['start:end:steps'], '*'";
const EXPECT_STEP: &str = "'.', '..', '['";

impl JsonPath {
    /// Parses `text` as RedisJSON does, legacy syntax included.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let legacy = !text.starts_with('$');
        let dollar_text = if !legacy {
            text.to_string()
        } else if text == "." {
            "$".to_string()
        } else if text.starts_with('.') {
            format!("${text}")
        } else {
            format!("$.{text}")
        };
        let chars: Vec<char> = dollar_text.chars().collect();
        let mut parser = Parser {
            chars: &chars,
            at: 1,
            text: &dollar_text,
            depth: 0,
        };
        let steps = parser.steps(false)?;
        if parser.at < chars.len() {
            return Err(parse_error(&dollar_text, parser.at, EXPECT_STEP));
        }
        Ok(JsonPath {
            steps,
            legacy,
            dollar_text,
        })
    }

    /// True for `$` / `.`: the whole document.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// Every match in document order, as RedisJSON lists them.
    pub fn locate(&self, root: &JsonValue) -> Vec<Location> {
        let mut out = Vec::new();
        let mut here = Vec::new();
        walk(root, root, &self.steps, &mut here, &mut out);
        out
    }

    /// Where JSON.SET and JSON.MERGE may put a value this path does not match yet.
    pub fn insertion(&self) -> Insertion {
        let is_static = |step: &Step| {
            matches!(step, Step::Child(Selector::Key(_)))
                || matches!(step, Step::Child(Selector::Keys(k)) if k.len() == 1)
                || matches!(step, Step::Child(Selector::Indices(i)) if i.len() == 1)
        };
        let Some((last, rest)) = self.steps.split_last() else {
            return Insertion::NotStatic;
        };
        if !self.steps.iter().all(is_static) {
            return Insertion::NotStatic;
        }
        let parent = JsonPath {
            steps: rest.to_vec(),
            legacy: self.legacy,
            dollar_text: String::new(),
        };
        match last {
            Step::Child(Selector::Key(k)) => Insertion::Member(parent, k.clone()),
            Step::Child(Selector::Keys(keys)) => match keys.first() {
                Some(k) => Insertion::Member(parent, k.clone()),
                None => Insertion::NotStatic,
            },
            _ => Insertion::ArrayIndex,
        }
    }
}

/// What `JsonPath::insertion` finds.
#[derive(Debug)]
pub enum Insertion {
    /// A new member `key` of the objects the parent path matches.
    Member(JsonPath, String),
    /// An array position past the end: the module refuses it.
    ArrayIndex,
    /// A path with wildcards, filters, slices or `..`: the module refuses it.
    NotStatic,
}

/// The value at `location`, if it is still there.
pub fn get<'v>(root: &'v JsonValue, location: &[Seg]) -> Option<&'v JsonValue> {
    location.iter().try_fold(root, |v, seg| match (v, seg) {
        (JsonValue::Object(map), Seg::Key(k)) => map.get(k),
        (JsonValue::Array(items), Seg::Index(i)) => items.get(*i),
        _ => None,
    })
}

pub fn get_mut<'v>(root: &'v mut JsonValue, location: &[Seg]) -> Option<&'v mut JsonValue> {
    location.iter().try_fold(root, |v, seg| match (v, seg) {
        (JsonValue::Object(map), Seg::Key(k)) => map.get_mut(k),
        (JsonValue::Array(items), Seg::Index(i)) => items.get_mut(*i),
        _ => None,
    })
}

/// Most nested steps and filter levels a path may have, so that no input can exhaust the
/// stack of a browser tab.
const MAX_DEPTH: usize = 64;
/// Most steps a path may have: enough to reach the deepest value a document may hold.
const MAX_STEPS: usize = 1024;

struct Parser<'a> {
    chars: &'a [char],
    at: usize,
    text: &'a str,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    fn error(&self, expected: &str) -> String {
        parse_error(self.text, self.at, expected)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// Steps until the end of the path (or, inside a filter, until something that is not a
    /// step).
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') if self.peek_at(1) == Some('.') => {
                    self.at += 2;
                    steps.push(Step::Descend(self.after_dot()?));
                }
                Some('.') => {
                    self.at += 1;
                    steps.push(Step::Child(self.after_dot()?));
                }
                Some('[') => steps.push(Step::Child(self.bracket()?)),
                None => return Ok(steps),
                Some(_) if in_filter => return Ok(steps),
                Some(_) => return Err(self.error(EXPECT_STEP)),
            }
            if steps.len() > MAX_STEPS {
                return Err(self.error(EXPECT_STEP));
            }
        }
    }

    fn after_dot(&mut self) -> Result<Selector, String> {
        match self.peek() {
            Some('*') => {
                self.at += 1;
                Ok(Selector::Wild)
            }
            Some('[') => self.bracket(),
            _ => {
                let start = self.at;
                while self.peek().is_some_and(is_name_char) {
                    self.at += 1;
                }
                if self.at == start {
                    return Err(self.error(EXPECT_NAME));
                }
                Ok(Selector::Key(self.chars[start..self.at].iter().collect()))
            }
        }
    }

    fn bracket(&mut self) -> Result<Selector, String> {
        self.at += 1; // '['
        self.skip_spaces();
        let selector = match self.peek() {
            Some('*') => {
                self.at += 1;
                Selector::Wild
            }
            Some('?') => {
                self.at += 1;
                self.skip_spaces();
                if self.peek() != Some('(') {
                    return Err(self.error("'('"));
                }
                self.at += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.error("<filter>"));
                }
                let filter = self.filter_or()?;
                self.depth -= 1;
                self.skip_spaces();
                if self.peek() != Some(')') {
                    return Err(self.error("')'"));
                }
                self.at += 1;
                Selector::Filter(Box::new(filter))
            }
            Some('\'' | '"') => {
                let first = self.quoted()?;
                let keys = self.comma_list(first, |p| {
                    if matches!(p.peek(), Some('\'' | '"')) {
                        p.quoted()
                    } else {
                        Err(p.error(EXPECT_BRACKET))
                    }
                })?;
                Selector::Keys(keys)
            }
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.numbers()?,
            _ => return Err(self.error(EXPECT_BRACKET)),
        };
        self.skip_spaces();
        if self.peek() != Some(']') {
            return Err(self.error("']'"));
        }
        self.at += 1;
        Ok(selector)
    }

    /// `first` and the `, item` that follow it.
    fn comma_list<T>(
        &mut self,
        first: T,
        item: fn(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut items = vec![first];
        loop {
            self.skip_spaces();
            if self.peek() != Some(',') {
                return Ok(items);
            }
            self.at += 1;
            self.skip_spaces();
            items.push(item(self)?);
        }
    }

    fn integer(&mut self) -> Option<i64> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        match text.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                self.at = start;
                None
            }
        }
    }

    /// `1`, `1,2,-1` or a slice `start:end:step` with any part left out.
    fn numbers(&mut self) -> Result<Selector, String> {
        let first = self.integer();
        self.skip_spaces();
        if self.peek() == Some(':') {
            self.at += 1;
            self.skip_spaces();
            let end = self.integer();
            self.skip_spaces();
            let mut step = 1;
            if self.peek() == Some(':') {
                self.at += 1;
                self.skip_spaces();
                step = self.integer().unwrap_or(1);
            }
            if step == 0 {
                return Err(self.error("<non-zero step>"));
            }
            return Ok(Selector::Slice(first, end, step));
        }
        let Some(first) = first else {
            return Err(self.error(EXPECT_BRACKET));
        };
        let indices = self.comma_list(first, |p| p.integer().ok_or_else(|| p.error("<number>")))?;
        Ok(Selector::Indices(indices))
    }

    fn quoted(&mut self) -> Result<String, String> {
        let quote = self.peek().unwrap_or('"');
        self.at += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error(&format!("'{quote}'"))),
                Some('\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some('r') => out.push('\r'),
                        Some(c) => out.push(c),
                        None => return Err(self.error(&format!("'{quote}'"))),
                    }
                    self.at += 1;
                }
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn filter_or(&mut self) -> Result<Filter, String> {
        self.filter_chain('|', Self::filter_and, Filter::Or)
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        self.filter_chain('&', Self::filter_atom, Filter::And)
    }

    /// `operand (op op operand)*` for `||` and `&&`, left-associative.
    fn filter_chain(
        &mut self,
        op: char,
        operand: fn(&mut Self) -> Result<Filter, String>,
        join: fn(Box<Filter>, Box<Filter>) -> Filter,
    ) -> Result<Filter, String> {
        let mut left = operand(self)?;
        loop {
            self.skip_spaces();
            if self.peek() != Some(op) || self.peek_at(1) != Some(op) {
                return Ok(left);
            }
            self.at += 2;
            let right = operand(self)?;
            left = join(Box::new(left), Box::new(right));
        }
    }

    fn filter_atom(&mut self) -> Result<Filter, String> {
        self.skip_spaces();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("<filter>"));
        }
        let result = match self.peek() {
            Some('(') => {
                self.at += 1;
                let inner = self.filter_or()?;
                self.skip_spaces();
                if self.peek() != Some(')') {
                    return Err(self.error("')'"));
                }
                self.at += 1;
                Ok(inner)
            }
            Some('!') if self.peek_at(1) != Some('=') => {
                self.at += 1;
                Ok(Filter::Not(Box::new(self.filter_atom()?)))
            }
            _ => {
                let left = self.operand()?;
                self.skip_spaces();
                match self.compare_op() {
                    Some(op) => {
                        self.skip_spaces();
                        let right = self.operand()?;
                        Ok(Filter::Compare(left, op, right))
                    }
                    None => Ok(Filter::Exists(left)),
                }
            }
        };
        self.depth -= 1;
        result
    }

    fn compare_op(&mut self) -> Option<CmpOp> {
        let two: String = [self.peek(), self.peek_at(1)].iter().flatten().collect();
        let (op, width) = match two.as_str() {
            "==" => (CmpOp::Eq, 2),
            "!=" => (CmpOp::Ne, 2),
            "<=" => (CmpOp::Le, 2),
            ">=" => (CmpOp::Ge, 2),
            _ => match self.peek()? {
                '<' => (CmpOp::Lt, 1),
                '>' => (CmpOp::Gt, 1),
                _ => return None,
            },
        };
        self.at += width;
        Some(op)
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.peek() {
            Some('@') => {
                self.at += 1;
                Ok(Operand::Relative(self.steps(true)?))
            }
            Some('$') => {
                self.at += 1;
                Ok(Operand::Absolute(self.steps(true)?))
            }
            Some('\'' | '"') => Ok(Operand::Literal(JsonValue::String(self.quoted()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                serde_json::from_str::<JsonValue>(&text)
                    .ok()
                    .filter(JsonValue::is_number)
                    .map(Operand::Literal)
                    .ok_or_else(|| parse_error(self.text, start, "<number>"))
            }
            _ => {
                for (word, value) in [
                    ("true", JsonValue::Bool(true)),
                    ("false", JsonValue::Bool(false)),
                    ("null", JsonValue::Null),
                ] {
                    let matches = word
                        .chars()
                        .enumerate()
                        .all(|(i, c)| self.peek_at(i) == Some(c));
                    if matches {
                        self.at += word.len();
                        return Ok(Operand::Literal(value));
                    }
                }
                Err(self.error("'@', '$', <literal>"))
            }
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '$' | '@' | ':') || !c.is_ascii()
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

fn walk(
    root: &JsonValue,
    value: &JsonValue,
    steps: &[Step],
    here: &mut Location,
    out: &mut Vec<Location>,
) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(here.clone());
        return;
    };
    match step {
        Step::Child(selector) => {
            for seg in select(root, value, selector) {
                if let Some(child) = get(value, std::slice::from_ref(&seg)) {
                    here.push(seg);
                    walk(root, child, rest, here, out);
                    here.pop();
                }
            }
        }
        Step::Descend(selector) => descend(root, value, selector, rest, here, out),
    }
}

/// `..selector`: the selector applied here, then in every descendant, parents first.
fn descend(
    root: &JsonValue,
    value: &JsonValue,
    selector: &Selector,
    rest: &[Step],
    here: &mut Location,
    out: &mut Vec<Location>,
) {
    for seg in select(root, value, selector) {
        if let Some(child) = get(value, std::slice::from_ref(&seg)) {
            here.push(seg);
            walk(root, child, rest, here, out);
            here.pop();
        }
    }
    for seg in children(value) {
        if let Some(child) = get(value, std::slice::from_ref(&seg)) {
            here.push(seg);
            descend(root, child, selector, rest, here, out);
            here.pop();
        }
    }
}

fn children(value: &JsonValue) -> Vec<Seg> {
    match value {
        JsonValue::Object(map) => map.keys().map(|k| Seg::Key(k.clone())).collect(),
        JsonValue::Array(items) => (0..items.len()).map(Seg::Index).collect(),
        _ => Vec::new(),
    }
}

/// A position `[i]` selects: negative ones count from the end and stop at the first
/// element, as the module's do.
fn array_index(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if i < 0 { (len + i).max(0) } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

fn select(root: &JsonValue, value: &JsonValue, selector: &Selector) -> Vec<Seg> {
    match (selector, value) {
        (Selector::Key(k), JsonValue::Object(map)) if map.contains_key(k) => {
            vec![Seg::Key(k.clone())]
        }
        (Selector::Keys(keys), JsonValue::Object(map)) => keys
            .iter()
            .filter(|k| map.contains_key(*k))
            .map(|k| Seg::Key(k.clone()))
            .collect(),
        (Selector::Wild, _) => children(value),
        (Selector::Indices(indices), JsonValue::Array(items)) => indices
            .iter()
            .filter_map(|&i| array_index(i, items.len()))
            .map(Seg::Index)
            .collect(),
        (Selector::Slice(start, end, step), JsonValue::Array(items)) => {
            slice(items.len(), *start, *end, *step)
                .into_iter()
                .map(Seg::Index)
                .collect()
        }
        (Selector::Filter(filter), JsonValue::Array(_) | JsonValue::Object(_)) => children(value)
            .into_iter()
            .filter(|seg| {
                get(value, std::slice::from_ref(seg)).is_some_and(|c| holds(root, c, filter))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Positions a Python-style slice picks.
fn slice(len: usize, start: Option<i64>, end: Option<i64>, step: i64) -> Vec<usize> {
    let len = len as i64;
    let clamp = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
    let mut out = Vec::new();
    if step > 0 {
        let (mut i, end) = (clamp(start.unwrap_or(0)), clamp(end.unwrap_or(len)));
        while i < end {
            out.push(i as usize);
            i = i.saturating_add(step);
        }
    } else {
        let start = start.map_or(len - 1, |s| if s < 0 { len + s } else { s.min(len - 1) });
        let end = end.map_or(-1, |e| if e < 0 { (len + e).max(-1) } else { e });
        let mut i = start;
        while i > end && i >= 0 {
            out.push(i as usize);
            i = i.saturating_add(step);
        }
    }
    out
}

fn operand_values<'v>(
    root: &'v JsonValue,
    current: &'v JsonValue,
    operand: &Operand,
) -> Vec<&'v JsonValue> {
    let (base, steps) = match operand {
        Operand::Literal(_) => return Vec::new(),
        Operand::Relative(steps) => (current, steps),
        Operand::Absolute(steps) => (root, steps),
    };
    let mut out = Vec::new();
    walk(root, base, steps, &mut Vec::new(), &mut out);
    out.iter().filter_map(|loc| get(base, loc)).collect()
}

fn holds(root: &JsonValue, current: &JsonValue, filter: &Filter) -> bool {
    match filter {
        Filter::Or(a, b) => holds(root, current, a) || holds(root, current, b),
        Filter::And(a, b) => holds(root, current, a) && holds(root, current, b),
        Filter::Not(a) => !holds(root, current, a),
        Filter::Exists(Operand::Literal(v)) => {
            !matches!(v, JsonValue::Null | JsonValue::Bool(false))
        }
        Filter::Exists(operand) => !operand_values(root, current, operand).is_empty(),
        Filter::Compare(left, op, right) => {
            let lefts = match left {
                Operand::Literal(v) => vec![v],
                _ => operand_values(root, current, left),
            };
            let rights = match right {
                Operand::Literal(v) => vec![v],
                _ => operand_values(root, current, right),
            };
            // A missing operand differs from everything: `!=` holds, every other test fails.
            if lefts.is_empty() || rights.is_empty() {
                return *op == CmpOp::Ne;
            }
            lefts
                .iter()
                .any(|l| rights.iter().any(|r| compare(l, *op, r)))
        }
    }
}

fn compare(left: &JsonValue, op: CmpOp, right: &JsonValue) -> bool {
    use std::cmp::Ordering;
    let order = match (left, right) {
        (JsonValue::Number(a), JsonValue::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        },
        (JsonValue::String(a), JsonValue::String(b)) => Some(a.cmp(b)),
        (JsonValue::Bool(a), JsonValue::Bool(b)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            Some(a.cmp(b))
        }
        (JsonValue::Null, JsonValue::Null) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            Some(Ordering::Equal)
        }
        _ => None,
    };
    match (op, order) {
        (CmpOp::Ne, None) => true,
        (_, None) => false,
        (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
        (CmpOp::Ne, Some(o)) => o != Ordering::Equal,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(doc: &str, path: &str) -> String {
        let doc: JsonValue = serde_json::from_str(doc).unwrap();
        let path = JsonPath::parse(path).unwrap();
        let found: Vec<&JsonValue> = path
            .locate(&doc)
            .iter()
            .filter_map(|l| get(&doc, l))
            .collect();
        serde_json::to_string(&found).unwrap()
    }

    #[test]
    fn paths_select_what_the_module_selects() {
        let doc = r#"{"a":1,"b":[1,2,3],"c":{"d":"x","e":null,"f":true},"g":1.5,
                     "items":[{"price":5,"n":"a"},{"price":15,"n":"b"},{"n":"c"}]}"#;
        let cases = [
            (
                "$",
                r#"[{"a":1,"b":[1,2,3],"c":{"d":"x","e":null,"f":true},"g":1.5,"items":[{"price":5,"n":"a"},{"price":15,"n":"b"},{"n":"c"}]}]"#,
            ),
            ("$.a", "[1]"),
            (".a", "[1]"),
            ("a", "[1]"),
            ("c.d", r#"["x"]"#),
            ("$.x", "[]"),
            ("$.b[0:2]", "[1,2]"),
            ("$.b[*]", "[1,2,3]"),
            ("$.b[-1]", "[3]"),
            ("$.b[0,2]", "[1,3]"),
            ("$.b[::-1]", "[3,2,1]"),
            ("$.b[1:]", "[2,3]"),
            ("$.b[10]", "[]"),
            ("$['c']['d']", r#"["x"]"#),
            ("$[\"a\",\"g\"]", "[1,1.5]"),
            ("$..d", r#"["x"]"#),
            ("$..n", r#"["a","b","c"]"#),
            ("$.items[?(@.price < 10)].n", r#"["a"]"#),
            ("$.items[?(@.price >= 10 || @.n == 'c')].n", r#"["b","c"]"#),
            ("$.items[?(@.price)].n", r#"["a","b"]"#),
            ("$.items[?(!@.price)].n", r#"["c"]"#),
            ("$.items[?(@.price != 5)].n", r#"["b","c"]"#),
            ("$.b[-9]", "[1]"),
            ("$.items[?(@.price > $.a && @.price < 10)].n", r#"["a"]"#),
            ("$.b[?(@ > 1)]", "[2,3]"),
            ("$.c.*", r#"["x",null,true]"#),
        ];
        for (path, expected) in cases {
            assert_eq!(matches(doc, path), expected, "{path}");
        }
    }

    #[test]
    fn descendant_order_is_children_then_their_subtrees() {
        let doc = r#"{"a":1,"b":[1,2],"c":{"d":"x"}}"#;
        assert_eq!(matches(doc, "$..*"), r#"[1,[1,2],{"d":"x"},1,2,"x"]"#);
    }

    #[test]
    fn errors_name_the_position_as_the_module_does() {
        let cases = [
            ("$..", "Error occurred on position 3, \"$.. <<<<----\", expected one of the following: <string>, '*'."),
            ("$.", "Error occurred on position 2, \"$. <<<<----\", expected one of the following: <string>, '*'."),
            ("$[", "Error occurred on position 2, \"$[ <<<<----\", expected one of the following: '<string>[,<string>,...]', '<number>', ['start:end:steps'], '*'."),
            ("[", "Error occurred on position 3, \"$.[ <<<<----\", expected one of the following: '<string>[,<string>,...]', '<number>', ['start:end:steps'], '*'."),
        ];
        for (path, expected) in cases {
            assert_eq!(JsonPath::parse(path).unwrap_err(), expected, "{path}");
        }
    }

    #[test]
    fn legacy_paths_read_as_dollar_paths() {
        for (path, dollar, legacy) in [
            (".", "$", true),
            (".a.b", "$.a.b", true),
            ("a[0]", "$.a[0]", true),
            ("$.a", "$.a", false),
        ] {
            let parsed = JsonPath::parse(path).unwrap();
            assert_eq!(
                (parsed.dollar_text.as_str(), parsed.legacy),
                (dollar, legacy)
            );
        }
    }

    /// Random paths from the grammar's own pieces, truncated and spliced at random: every
    /// one parses or errors, and evaluates over a document, without a panic.
    #[test]
    fn no_path_panics() {
        const PIECES: &[&str] = &[
            "$",
            ".",
            "..",
            "[",
            "]",
            "*",
            "?",
            "(",
            ")",
            "@",
            "a",
            "b",
            "'k'",
            "\"q\"",
            "0",
            "-1",
            "1:3",
            "::-1",
            ":",
            ",",
            "<",
            "<=",
            "==",
            "!=",
            ">",
            "&&",
            "||",
            "!",
            " ",
            "true",
            "null",
            "1e5",
            "\\",
            "'",
            "\"",
            "é",
            "$.a",
            "[?(@.p<10)]",
            "[*]",
            "..*",
        ];
        let doc: JsonValue = serde_json::from_str(
            r#"{"a":{"b":[1,{"p":5,"a":[2,3]}],"k":"v"},"p":[{"p":1},{"p":20,"b":{"q":null}}]}"#,
        )
        .unwrap();
        let mut rng = crate::redis::fuzz::Rng(0x2545_f491_4f6c_dd1d);
        let mut next = |n: usize| rng.below(n);
        for _ in 0..50_000 {
            let mut path = String::new();
            for _ in 0..next(12) {
                path.push_str(PIECES[next(PIECES.len())]);
            }
            if let Ok(parsed) = JsonPath::parse(&path) {
                for location in parsed.locate(&doc) {
                    assert!(get(&doc, &location).is_some(), "{path}");
                }
                let _ = parsed.insertion();
            }
        }
        let deep = "[?(".repeat(10_000) + &"@)]".repeat(10_000);
        assert!(JsonPath::parse(&format!("${deep}")).is_err());
        assert!(JsonPath::parse(&".a".repeat(100_000)).is_err());
    }
}
