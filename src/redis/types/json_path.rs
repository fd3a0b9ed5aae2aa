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
    Literal(Literal),
}

/// A constant in a filter, as the module's grammar reads it: `decimal` (an integer when it
/// fits one), a quoted string, `true`, `false`, `null`.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Int(i64),
    Float(f64),
    /// `pattern`: written without escapes or quotes inside, the only strings the module
    /// accepts as the right side of `=~` (it keeps the others in a form its regex operator
    /// does not match against).
    Str {
        text: String,
        pattern: bool,
    },
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
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

/// The module's reply to a path it cannot parse: `pos` counts characters, the reply bytes;
/// the text is cut at the error, or marked at its end.
fn parse_error(text: &str, pos: usize, expected: &str) -> String {
    let at = text.char_indices().nth(pos).map_or(text.len(), |(b, _)| b);
    let (before, after) = text.split_at(at);
    if after.is_empty() {
        format!("Error occurred on position {at}, \"{text} <<<<----\", expected one of the following: {expected}.")
    } else {
        format!("Error occurred on position {at}, \"{before} ---->>>> {after}\", expected one of the following: {expected}.")
    }
}

/// The grammar's rules in the order the module declares them, which is the order its parser
/// lists what it expected, with the names it prints for them.
const RULE_ORDER: &[&str] = &[
    "EOI",
    "<string>",
    "'<string>[,<string>,...]'",
    "pos_number",
    "'<number>'",
    "decimal",
    "['start:end:steps']",
    "from_current",
    "from_root",
    "ge",
    "gt",
    "le",
    "lt",
    "eq",
    "ne",
    "re",
    "boolean_true",
    "boolean_false",
    "null",
    "single_filter",
    "and",
    "or",
    "'*'",
    "'..'",
];
const EXPECT_TERM: &[&str] = &[
    "decimal",
    "from_current",
    "from_root",
    "boolean_true",
    "boolean_false",
    "null",
];
const EXPECT_OP: &[&str] = &["ge", "gt", "le", "lt", "eq", "ne", "re"];
const EXPECT_RELATION: &[&str] = &["and", "or"];

const EXPECT_NAME: &str = "<string>, '*'";

impl JsonPath {
    /// Parses `text` as RedisJSON does, legacy syntax included.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        // The module reads only `$`, `$.…` and `$[…` as JSONPath; `$x` is a legacy member name.
        let legacy = !(text == "$" || text.starts_with("$.") || text.starts_with("$["));
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
            expected_at: 0,
            expected: Vec::new(),
        };
        let steps = parser.steps(false)?;
        if parser.at < chars.len() {
            let at = parser.at;
            parser.note_expected(at, &["EOI"]);
            return Err(parser.furthest_error());
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
    /// The furthest position a filter's parse reached and what the grammar would have taken
    /// there: the module's parser (pest) reports that, not where it gave up.
    expected_at: usize,
    expected: Vec<&'static str>,
}

/// A quoted string as the module's grammar reads it: leading spaces dropped (its grammar skips
/// whitespace after the opening quote), and only the quote and `\\` escaped.
struct Quoted {
    raw: String,
    double: bool,
}

impl Quoted {
    fn has_escapes(&self) -> bool {
        self.raw.contains(['\\', '"', '\''])
    }

    /// As a member name: both escapes undone.
    fn key(&self) -> String {
        let quote = if self.double { "\\\"" } else { "\\'" };
        self.raw.replace("\\\\", "\\").replace(quote, &quote[1..])
    }

    /// As a filter operand. The module undoes the other quote's escape here, not this one's,
    /// so `"a\\"b"` compares as the four characters `a\\"b`.
    fn literal(&self) -> Literal {
        let other = if self.double { "\\'" } else { "\\\"" };
        Literal::Str {
            text: self.raw.replace("\\\\", "\\").replace(other, &other[1..]),
            pattern: !self.has_escapes(),
        }
    }
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

    /// The grammar's whitespace: spaces only.
    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.at += 1;
        }
    }

    /// Records that the rules `names` were tried at `at`.
    fn note_expected(&mut self, at: usize, names: &[&'static str]) {
        if at > self.expected_at || self.expected.is_empty() {
            self.expected_at = at;
            self.expected.clear();
        }
        if at == self.expected_at {
            self.expected.extend_from_slice(names);
        }
    }

    fn furthest_error(&self) -> String {
        let mut names = self.expected.clone();
        names.sort_by_key(|n| RULE_ORDER.iter().position(|r| r == n));
        names.dedup();
        parse_error(self.text, self.expected_at, &names.join(", "))
    }

    /// Steps until the end of the path (or, inside a filter, until something that is not a
    /// step). `first` allows a leading member name without its dot, as in `@x`.
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        if in_filter {
            self.skip_spaces();
            if self.peek().is_some_and(|c| is_name_char(c) || c == '*') {
                steps.push(Step::Child(self.after_dot()?));
            }
        }
        loop {
            let before = self.at;
            self.skip_spaces();
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
                _ => {
                    let at = self.at;
                    self.note_expected(at, &["'..'"]);
                    if in_filter {
                        self.at = before;
                    }
                    return Ok(steps);
                }
            }
            if steps.len() > MAX_STEPS {
                return Err(self.error("'..'"));
            }
        }
    }

    fn after_dot(&mut self) -> Result<Selector, String> {
        self.skip_spaces();
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

    /// `[…]`: the grammar's alternatives in its order (a slice, indices, quoted names, `*`,
    /// `?filter`), each remembered as tried where it failed, for the error.
    fn bracket(&mut self) -> Result<Selector, String> {
        let open = self.at;
        self.at += 1; // '['
        self.skip_spaces();
        let start = self.at;
        let selector = if self.peek() == Some('?') {
            self.at += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error("<filter>"));
            }
            let filter = self.filter_or()?;
            self.depth -= 1;
            Some(Selector::Filter(Box::new(filter)))
        } else if let Some(slice) = self.slice() {
            Some(slice)
        } else {
            self.at = start;
            self.note_expected(start, &["['start:end:steps']"]);
            if let Some(first) = self.number() {
                let mut indices = vec![first];
                self.list(&mut indices, |p| {
                    let at = p.at;
                    let n = p.number();
                    if n.is_none() {
                        p.note_expected(at, &["'<number>'"]);
                    }
                    n
                });
                Some(Selector::Indices(indices))
            } else {
                self.note_expected(start, &["'<number>'"]);
                if let Some(first) = self.quoted() {
                    let mut keys = vec![first.key()];
                    self.list(&mut keys, |p| p.quoted().map(|q| q.key()));
                    Some(Selector::Keys(keys))
                } else {
                    self.at = start;
                    self.note_expected(start, &["'<string>[,<string>,...]'"]);
                    if self.peek() == Some('*') {
                        self.at += 1;
                        Some(Selector::Wild)
                    } else {
                        self.note_expected(start, &["'*'"]);
                        None
                    }
                }
            }
        };
        self.skip_spaces();
        match selector {
            Some(selector) if self.peek() == Some(']') => {
                self.at += 1;
                Ok(selector)
            }
            _ => {
                self.note_expected(open, &["'..'"]);
                if self.depth == 0 {
                    self.note_expected(open, &["EOI"]);
                }
                Err(self.furthest_error())
            }
        }
    }

    /// `, item` repeated after a first item, up to the first that is not there.
    fn list<T>(&mut self, items: &mut Vec<T>, item: fn(&mut Self) -> Option<T>) {
        loop {
            let before = self.at;
            self.skip_spaces();
            if self.peek() != Some(',') {
                self.at = before;
                return;
            }
            self.at += 1;
            self.skip_spaces();
            match item(self) {
                Some(i) => items.push(i),
                None => {
                    self.at = before;
                    return;
                }
            }
        }
    }

    /// The grammar's `number`: `-?(0|[1-9][0-9]*)`, within `i64`.
    fn number(&mut self) -> Option<i64> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        match self.peek() {
            Some('0') => self.at += 1,
            Some('1'..='9') => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.at += 1;
                }
            }
            _ => {
                self.at = start;
                return None;
            }
        }
        let text: String = self.chars[start..self.at].iter().collect();
        let n = text.parse().ok();
        if n.is_none() {
            self.at = start;
        }
        n
    }

    /// `start:end`, `:end`, `:`, `start:`, each with an optional `:step` (a positive
    /// number) or a bare `:`.
    fn slice(&mut self) -> Option<Selector> {
        let start = self.at;
        let first = self.number();
        self.skip_spaces();
        if self.peek() != Some(':') {
            self.at = start;
            return None;
        }
        self.at += 1;
        self.skip_spaces();
        let at = self.at;
        let end = self.number();
        if end.is_none() {
            self.note_expected(at, &["'<number>'"]);
        }
        let before_step = self.at;
        self.skip_spaces();
        let mut step = 1;
        if self.peek() == Some(':') {
            self.at += 1;
            self.skip_spaces();
            let at = self.at;
            let digits = self.chars[at..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let text: String = self.chars[at..at + digits].iter().collect();
            match text.parse::<i64>() {
                Ok(n) if !text.starts_with('0') => {
                    step = n;
                    self.at += digits;
                }
                _ => self.note_expected(at, &["pos_number"]),
            }
        } else {
            self.at = before_step;
        }
        Some(Selector::Slice(first, end, step))
    }

    /// A quoted string at the cursor, or `None` (cursor left anywhere) where the grammar
    /// has none: an unknown escape or no closing quote.
    fn quoted(&mut self) -> Option<Quoted> {
        let quote = self.peek().filter(|q| matches!(q, '"' | '\''))?;
        self.at += 1;
        self.skip_spaces();
        let mut raw = String::new();
        loop {
            match self.peek()? {
                '\\' => {
                    let next = self.peek_at(1)?;
                    if next != quote && next != '\\' {
                        return None;
                    }
                    raw.push('\\');
                    raw.push(next);
                    self.at += 2;
                }
                c if c == quote => {
                    self.at += 1;
                    return Some(Quoted {
                        raw,
                        double: quote == '"',
                    });
                }
                c => {
                    raw.push(c);
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
            let at = self.at;
            self.note_expected(at, EXPECT_RELATION);
            if self.peek() != Some(op) || self.peek_at(1) != Some(op) {
                return Ok(left);
            }
            self.at += 2;
            let right = operand(self)?;
            left = join(Box::new(left), Box::new(right));
        }
    }

    /// A parenthesised filter or `term [op term]` (the module has no `!`).
    fn filter_atom(&mut self) -> Result<Filter, String> {
        self.skip_spaces();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("<filter>"));
        }
        let start = self.at;
        let result = match self.term()? {
            Some(left) => {
                self.skip_spaces();
                match self.compare_op() {
                    Some(op) => {
                        self.skip_spaces();
                        let at = self.at;
                        match self.term()? {
                            Some(right) => Ok(Filter::Compare(left, op, right)),
                            None => {
                                self.note_expected(at, EXPECT_TERM);
                                Err(self.furthest_error())
                            }
                        }
                    }
                    None => {
                        let at = self.at;
                        self.note_expected(at, EXPECT_OP);
                        Ok(Filter::Exists(left))
                    }
                }
            }
            None if self.peek() == Some('(') => {
                self.at += 1;
                let inner = self.filter_or()?;
                self.skip_spaces();
                if self.peek() != Some(')') {
                    return Err(self.furthest_error());
                }
                self.at += 1;
                Ok(inner)
            }
            None => {
                self.note_expected(start, &["single_filter"]);
                Err(self.furthest_error())
            }
        };
        self.depth -= 1;
        result
    }

    fn compare_op(&mut self) -> Option<CmpOp> {
        let (op, width) = match (self.peek()?, self.peek_at(1)) {
            ('>', Some('=')) => (CmpOp::Ge, 2),
            ('>', _) => (CmpOp::Gt, 1),
            ('<', Some('=')) => (CmpOp::Le, 2),
            ('<', _) => (CmpOp::Lt, 1),
            ('=', Some('=')) => (CmpOp::Eq, 2),
            ('!', Some('=')) => (CmpOp::Ne, 2),
            ('=', Some('~')) => (CmpOp::Regex, 2),
            _ => return None,
        };
        self.at += width;
        Some(op)
    }

    /// A filter operand, or `None` (cursor where it was) where none starts.
    fn term(&mut self) -> Result<Option<Operand>, String> {
        let start = self.at;
        match self.peek() {
            Some('@') => {
                self.at += 1;
                return Ok(Some(Operand::Relative(self.steps(true)?)));
            }
            Some('$') => {
                self.at += 1;
                return Ok(Some(Operand::Absolute(self.steps(true)?)));
            }
            Some('\'' | '"') => {
                let quoted = self.quoted();
                if quoted.is_none() {
                    self.at = start;
                }
                return Ok(quoted.map(|q| Operand::Literal(q.literal())));
            }
            _ => {}
        }
        if let Some(number) = self.decimal() {
            return Ok(Some(Operand::Literal(number)));
        }
        for (word, value) in [
            ("true", Literal::Bool(true)),
            ("false", Literal::Bool(false)),
            ("null", Literal::Null),
        ] {
            if word
                .chars()
                .enumerate()
                .all(|(i, c)| self.peek_at(i) == Some(c))
            {
                self.at += word.len();
                return Ok(Some(Operand::Literal(value)));
            }
        }
        Ok(None)
    }

    /// The grammar's `decimal`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
    fn decimal(&mut self) -> Option<Literal> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        match self.peek() {
            Some('0') => self.at += 1,
            Some('1'..='9') => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.at += 1;
                }
            }
            _ => {
                self.at = start;
                return None;
            }
        }
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.at += 1;
            }
        }
        let text: String = self.chars[start..self.at].iter().collect();
        match text.parse::<i64>() {
            Ok(i) => Some(Literal::Int(i)),
            Err(_) => text.parse::<f64>().ok().map(Literal::Float),
        }
    }
}

/// The characters of a member name written without quotes (the grammar's `literal`).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '_' | '`' | '~' | '+' | '#' | '%' | '$' | '^' | '/' | ':'
        )
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
        Step::Child(selector) => apply(root, value, selector, rest, here, out),
        Step::Descend(selector) => descend(root, value, selector, rest, here, out),
    }
}

/// One selector at `value`, then the rest of the path from each value it selects. A filter
/// over a value that is neither array nor object tests the value itself, as the module's does.
fn apply(
    root: &JsonValue,
    value: &JsonValue,
    selector: &Selector,
    rest: &[Step],
    here: &mut Location,
    out: &mut Vec<Location>,
) {
    if let (Selector::Filter(filter), false) = (selector, value.is_array() || value.is_object()) {
        if holds(root, value, filter) {
            walk(root, value, rest, here, out);
        }
        return;
    }
    for seg in select(root, value, selector) {
        if let Some(child) = get(value, std::slice::from_ref(&seg)) {
            here.push(seg);
            walk(root, child, rest, here, out);
            here.pop();
        }
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
    apply(root, value, selector, rest, here, out);
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

/// A filter operand evaluated against one value, as the module's `TermEvaluationResult`.
enum Term<'v> {
    Int(i64),
    Float(f64),
    Str(&'v str),
    /// A string literal the regex operator does not take (see `Literal::Str`).
    Escaped(&'v str),
    Bool(bool),
    Null,
    Value(&'v JsonValue),
    /// A path with no match or several: every comparison with it fails.
    Invalid,
}

fn term<'v>(root: &'v JsonValue, current: &'v JsonValue, operand: &'v Operand) -> Term<'v> {
    let (base, steps) = match operand {
        Operand::Literal(Literal::Int(i)) => return Term::Int(*i),
        Operand::Literal(Literal::Float(f)) => return Term::Float(*f),
        Operand::Literal(Literal::Str { text, pattern }) => {
            return if *pattern {
                Term::Str(text)
            } else {
                Term::Escaped(text)
            }
        }
        Operand::Literal(Literal::Bool(b)) => return Term::Bool(*b),
        Operand::Literal(Literal::Null) => return Term::Null,
        Operand::Relative(steps) => (current, steps),
        Operand::Absolute(steps) => (root, steps),
    };
    let mut found = Vec::new();
    walk(root, base, steps, &mut Vec::new(), &mut found);
    match found.as_slice() {
        [only] => get(base, only).map_or(Term::Invalid, Term::Value),
        _ => Term::Invalid,
    }
}

/// A document value as a scalar term; arrays and objects compare with nothing.
fn scalar<'v>(t: &Term<'v>) -> Option<Term<'v>> {
    Some(match t {
        Term::Value(JsonValue::Number(n)) => match n.as_i64() {
            Some(i) => Term::Int(i),
            None => Term::Float(n.as_f64()?),
        },
        Term::Value(JsonValue::String(s)) => Term::Str(s),
        Term::Value(JsonValue::Bool(b)) => Term::Bool(*b),
        Term::Value(JsonValue::Null) => Term::Null,
        Term::Value(_) | Term::Invalid => return None,
        Term::Int(i) => Term::Int(*i),
        Term::Float(f) => Term::Float(*f),
        Term::Str(s) | Term::Escaped(s) => Term::Str(s),
        Term::Bool(b) => Term::Bool(*b),
        Term::Null => Term::Null,
    })
}

fn order(a: &Term, b: &Term) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    let float = |x: f64, y: f64| {
        Some(if x > y {
            Ordering::Greater
        } else if x < y {
            Ordering::Less
        } else {
            Ordering::Equal
        })
    };
    match (scalar(a)?, scalar(b)?) {
        (Term::Int(x), Term::Int(y)) => Some(x.cmp(&y)),
        (Term::Int(x), Term::Float(y)) => float(x as f64, y),
        (Term::Float(x), Term::Int(y)) => float(x, y as f64),
        (Term::Float(x), Term::Float(y)) => float(x, y),
        (Term::Str(x), Term::Str(y)) => Some(x.cmp(y)),
        (Term::Bool(x), Term::Bool(y)) => Some(x.cmp(&y)),
        (Term::Null, Term::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

/// Deep equality of two document values, numbers by value.
fn same_value(a: &JsonValue, b: &JsonValue) -> bool {
    match (a, b) {
        (JsonValue::Number(x), JsonValue::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (JsonValue::Array(x), JsonValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (JsonValue::Object(x), JsonValue::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// `=~`: the module matches a document string against a pattern literal or another document
/// string, unanchored; a pattern that does not compile matches nothing. The sandbox's regex
/// engine runs in time linear in the subject, so no pattern can hang the tab.
fn regex_matches(left: &Term, right: &Term) -> bool {
    let subject = match left {
        Term::Value(JsonValue::String(s)) => s,
        _ => return false,
    };
    let pattern = match right {
        Term::Str(p) => p,
        Term::Value(JsonValue::String(p)) => p.as_str(),
        _ => return false,
    };
    crate::mongo::query::regex::Regex::new(pattern, "").is_ok_and(|re| re.is_match(subject))
}

fn holds(root: &JsonValue, current: &JsonValue, filter: &Filter) -> bool {
    use std::cmp::Ordering;
    match filter {
        Filter::Or(a, b) => holds(root, current, a) || holds(root, current, b),
        Filter::And(a, b) => holds(root, current, a) && holds(root, current, b),
        Filter::Exists(operand) => !matches!(term(root, current, operand), Term::Invalid),
        Filter::Compare(left, op, right) => {
            let (a, b) = (term(root, current, left), term(root, current, right));
            let equal = || match (&a, &b) {
                (Term::Value(x), Term::Value(y)) => same_value(x, y),
                _ => order(&a, &b) == Some(Ordering::Equal),
            };
            match op {
                CmpOp::Eq => equal(),
                CmpOp::Ne => !equal(),
                CmpOp::Lt => order(&a, &b) == Some(Ordering::Less),
                CmpOp::Le => matches!(order(&a, &b), Some(Ordering::Less | Ordering::Equal)),
                CmpOp::Gt => order(&a, &b) == Some(Ordering::Greater),
                CmpOp::Ge => matches!(order(&a, &b), Some(Ordering::Greater | Ordering::Equal)),
                CmpOp::Regex => regex_matches(&a, &b),
            }
        }
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
            ("$.b[::2]", "[1,3]"),
            ("$.b[1:]", "[2,3]"),
            ("$.b[10]", "[]"),
            ("$['c']['d']", r#"["x"]"#),
            ("$[\"a\",\"g\"]", "[1,1.5]"),
            ("$..d", r#"["x"]"#),
            ("$..n", r#"["a","b","c"]"#),
            ("$.items[?(@.price < 10)].n", r#"["a"]"#),
            ("$.items[?(@.price >= 10 || @.n == 'c')].n", r#"["b","c"]"#),
            ("$.items[?(@.price)].n", r#"["a","b"]"#),
            ("$.items[?(@.n =~ \"^[ac]$\")].n", r#"["a","c"]"#),
            ("$.items[?(@.n =~ \"(?i)B\")].n", r#"["b"]"#),
            ("$.items[?(@.n =~ \"[\")].n", "[]"),
            ("$.items[?(@.n =~ \"a\\\\b\")].n", "[]"),
            ("$.items[?(@.n =~ $.c.d)].n", "[]"),
            ("$.items[?(@.* == 5)].n", "[]"),
            ("$.items[?(false)].n", r#"["a","b","c"]"#),
            ("$.c.d[?(@ == \"x\")]", r#"["x"]"#),
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
            "=~",
            "\"^a.*\"",
            "'(a+)+$'",
            "1.5",
            "-0",
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
