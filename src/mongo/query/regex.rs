//! The one regular expression engine: `$regex`, `/…/` literals in filters, the `pattern`
//! keyword of `$jsonSchema`, and `$regexMatch` / `$regexFind` / `$regexFindAll` in
//! aggregation. PCRE syntax without backreferences and lookaround, compiled to a Thompson NFA
//! and run as a Pike VM, so matching is linear in the subject (a student's `(a+)+$` cannot
//! hang the tab). `is_match` only asks whether a match exists; `find_at` keeps PCRE's
//! leftmost-first preference (greedy and lazy quantifiers, alternation in order) and reports
//! capture groups.
//!
//! Supported: literals and escapes (`\.` `\n` `\t` `\xHH` `\uHHHH`), `.`, classes `[a-z]`
//! `[^…]` with `\d \w \s` and POSIX `[:alpha:]` inside, `\d \D \w \W \s \S`, anchors `^ $ \A
//! \z \Z \b \B`, groups `( )` `(?: )` `(?<name> )`, alternation, `* + ? {n} {n,} {n,m}`
//! (greedy, lazy, or possessive treated as greedy), inline flags
//! `(?i)` `(?m)` `(?s)` `(?x)` at the start, and the options `i m s x`.

use super::case;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    prog: Vec<Inst>,
    classes: Vec<Class>,
    /// Capturing groups, not counting the whole match.
    groups: usize,
    /// The pattern starts with `^` (without `m`) or `\A`: only position 0 can start a match.
    anchored: bool,
    /// What every match starts with, when the pattern begins with plain characters: a text
    /// without it is answered without running the machine (most documents of a `$regex`
    /// scan do not match, and the machine costs far more per character than a substring
    /// search).
    prefix: Prefix,
}

/// The literal start of every match.
#[derive(Debug, Clone, Default)]
struct Prefix {
    text: String,
    /// Compared ignoring ASCII case (the `i` option); only built from ASCII characters.
    fold: bool,
    /// The whole pattern is this literal: finding it is the answer.
    whole: bool,
}

impl Prefix {
    /// Reads the characters the program consumes first, without branching, from `pc` 0.
    fn of(prog: &[Inst]) -> Prefix {
        let mut prefix = Prefix::default();
        let mut pc = 0;
        while let Some(inst) = prog.get(pc) {
            match *inst {
                Inst::Save(_) => {}
                Inst::Char(c) if !prefix.fold => prefix.text.push(c),
                // Only ASCII folds are compared as such; `fold` also maps e.g. the Kelvin
                // sign to `k`, which an ASCII comparison would miss.
                Inst::CharFold(c) if c.is_ascii() && (prefix.fold || prefix.text.is_empty()) => {
                    prefix.fold = true;
                    prefix.text.push(c)
                }
                Inst::Match => {
                    prefix.whole = true;
                    break;
                }
                _ => break,
            }
            pc += 1;
        }
        prefix
    }

    /// Whether `text` holds the prefix anywhere (`false` rules a match out; `true` does not
    /// promise one unless the prefix is the whole pattern).
    fn found_in(&self, text: &str) -> bool {
        if !self.fold {
            return text.contains(self.text.as_str());
        }
        // A non-ASCII text may hold characters that fold onto ASCII ones.
        if !text.is_ascii() {
            return true;
        }
        let (hay, needle) = (text.as_bytes(), self.text.as_bytes());
        hay.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    }
}

#[derive(Debug, Clone, Copy)]
struct Flags {
    i: bool,
    m: bool,
    s: bool,
    x: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Assertion {
    LineStart,
    LineEnd,
    TextStart,
    TextEnd,
    /// `$` without `m`, and `\Z`: the end, or before a final newline.
    TextEndOrNewline,
    WordBoundary,
    NotWordBoundary,
}

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    /// Case-insensitive literal: stored folded.
    CharFold(char),
    Any,
    AnyButNewline,
    Class(usize),
    Assert(Assertion),
    Split(usize, usize),
    Jmp(usize),
    /// Records the position in capture slot n (`2g` opens group g, `2g + 1` closes it).
    Save(usize),
    Match,
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class(Class),
    Assert(Assertion),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Capture(Box<Node>, usize),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Builtin {
    Digit,
    Word,
    Space,
    Alpha,
    Alnum,
    Upper,
    Lower,
    Punct,
    Xdigit,
}

#[derive(Debug, Clone, Default)]
struct Class {
    ranges: Vec<(char, char)>,
    builtins: Vec<(Builtin, bool)>,
    negated: bool,
    fold: bool,
}

fn builtin_has(b: Builtin, c: char) -> bool {
    match b {
        Builtin::Digit => c.is_ascii_digit(),
        Builtin::Word => c.is_ascii_alphanumeric() || c == '_',
        Builtin::Space => matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'),
        Builtin::Alpha => c.is_ascii_alphabetic(),
        Builtin::Alnum => c.is_ascii_alphanumeric(),
        Builtin::Upper => c.is_ascii_uppercase(),
        Builtin::Lower => c.is_ascii_lowercase(),
        Builtin::Punct => c.is_ascii_punctuation(),
        Builtin::Xdigit => c.is_ascii_hexdigit(),
    }
}

impl Class {
    fn contains_exact(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
            || self
                .builtins
                .iter()
                .any(|&(b, negated)| builtin_has(b, c) != negated)
    }

    fn matches(&self, c: char) -> bool {
        let hit = self.contains_exact(c)
            || (self.fold
                && (self.contains_exact(fold(c))
                    || case::upper(c).all(|u| self.contains_exact(u))));
        hit != self.negated
    }
}

/// Simple case folding: the single-character lowercase form.
fn fold(c: char) -> char {
    case::lower(c)
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The longest program a pattern may compile to (counted repetition copies its operand).
const MAX_PROGRAM: usize = 20_000;

/// Why a pattern was refused; the text follows PCRE's where there is one.
pub type RegexError = String;

impl Regex {
    /// Compiles `pattern` with MongoDB's options string (`i`, `m`, `s`, `x`; `u` is accepted).
    pub fn new(pattern: &str, options: &str) -> Result<Regex, RegexError> {
        let mut flags = Flags {
            i: false,
            m: false,
            s: false,
            x: false,
        };
        for c in options.chars() {
            match c {
                'i' => flags.i = true,
                'm' => flags.m = true,
                's' => flags.s = true,
                'x' => flags.x = true,
                'u' => {}
                other => return Err(format!("invalid flag in regex options: {other}")),
            }
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut parser = Parser {
            chars: &chars,
            pos: 0,
            flags,
            depth: 0,
            groups: 0,
        };
        parser.leading_flags();
        let node = parser.alternation()?;
        if parser.pos < chars.len() {
            return Err("unmatched closing parenthesis".into());
        }
        let anchored = starts_anchored(&node);
        let mut compiler = Compiler {
            prog: Vec::new(),
            classes: Vec::new(),
            fold: parser.flags.i,
            dotall: parser.flags.s,
        };
        compiler.push(Inst::Save(0))?;
        compiler.emit_node(&node)?;
        compiler.push(Inst::Save(1))?;
        compiler.prog.push(Inst::Match);
        let prefix = Prefix::of(&compiler.prog);
        Ok(Regex {
            prog: compiler.prog,
            classes: compiler.classes,
            groups: parser.groups,
            anchored,
            prefix,
        })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        if !self.prefix.text.is_empty() {
            let found = self.prefix.found_in(text);
            if !found || (self.prefix.whole && !self.prefix.fold) {
                return found;
            }
        }
        let chars: Vec<char> = text.chars().collect();
        let n = self.prog.len();
        let mut current = ThreadList::new(n);
        let mut next = ThreadList::new(n);
        let mut stack = Vec::new();
        for pos in 0..=chars.len() {
            if pos == 0 || !self.anchored {
                self.add_thread(&mut current, &mut stack, 0, pos, &chars);
            }
            if current.dense.is_empty() {
                if self.anchored {
                    return false;
                }
                continue;
            }
            let c = chars.get(pos).copied();
            for idx in 0..current.dense.len() {
                let pc = current.dense[idx];
                if matches!(self.prog[pc], Inst::Match) {
                    return true;
                }
                if self.consumes(pc, c) {
                    self.add_thread(&mut next, &mut stack, pc + 1, pos + 1, &chars);
                }
            }
            std::mem::swap(&mut current, &mut next);
            next.clear();
        }
        current
            .dense
            .iter()
            .any(|&pc| matches!(self.prog[pc], Inst::Match))
    }

    fn add_thread(
        &self,
        list: &mut ThreadList,
        stack: &mut Vec<usize>,
        pc: usize,
        pos: usize,
        chars: &[char],
    ) {
        // An explicit stack instead of recursion: long alternations stay off the call stack.
        // It is the caller's, so that the search allocates it once, not at every position.
        stack.clear();
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if list.contains(pc) {
                continue;
            }
            list.insert(pc);
            match &self.prog[pc] {
                Inst::Jmp(to) => stack.push(*to),
                Inst::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Inst::Save(_) => stack.push(pc + 1),
                Inst::Assert(kind) if assertion_holds(*kind, pos, chars) => stack.push(pc + 1),
                _ => {}
            }
        }
    }

    /// Whether the instruction at `pc` consumes `c` (`None`: past the end, nothing does).
    fn consumes(&self, pc: usize, c: Option<char>) -> bool {
        let Some(c) = c else {
            return false;
        };
        match self.prog.get(pc) {
            Some(Inst::Char(want)) => *want == c,
            Some(Inst::CharFold(want)) => *want == fold(c),
            Some(Inst::Any) => true,
            Some(Inst::AnyButNewline) => c != '\n',
            Some(Inst::Class(i)) => self.classes.get(*i).is_some_and(|class| class.matches(c)),
            _ => false,
        }
    }

    /// The first match starting at or after byte offset `start`: capture spans as byte
    /// offsets (index 0 is the whole match; unmatched groups are `None`). The search sees the
    /// text from `start` on, so `^` and `\b` treat `start` as the beginning.
    pub fn find_at(&self, input: &str, start: usize) -> Option<Vec<Option<(usize, usize)>>> {
        if !self.prefix.text.is_empty() && !self.prefix.found_in(input.get(start..)?) {
            return None;
        }
        let (offsets, chars): (Vec<usize>, Vec<char>) =
            input.char_indices().filter(|(b, _)| *b >= start).unzip();
        let nslots = 2 * (self.groups + 1);
        let mut current: Vec<(usize, Vec<Option<usize>>)> = Vec::new();
        let mut next = Vec::new();
        let mut seen = vec![usize::MAX; self.prog.len()];
        let mut matched: Option<Vec<Option<usize>>> = None;
        let mut generation = 0;
        for pos in 0..=chars.len() {
            generation += 1;
            if matched.is_none() && (pos == 0 || !self.anchored) {
                // A new attempt at this position, with the lowest priority.
                for (pc, _) in &current {
                    seen[*pc] = generation;
                }
                let thread = (0, vec![None; nslots]);
                self.add_capturing(&mut current, &mut seen, generation, thread, pos, &chars);
            }
            if current.is_empty() {
                if matched.is_some() || self.anchored {
                    break;
                }
                continue;
            }
            generation += 1;
            let c = chars.get(pos).copied();
            for (pc, caps) in current.drain(..) {
                if matches!(self.prog[pc], Inst::Match) {
                    // Threads after this one have lower priority: they are dropped.
                    matched = Some(caps);
                    break;
                }
                if self.consumes(pc, c) {
                    let thread = (pc + 1, caps);
                    self.add_capturing(&mut next, &mut seen, generation, thread, pos + 1, &chars);
                }
            }
            std::mem::swap(&mut current, &mut next);
            next.clear();
        }
        if matched.is_none() {
            matched = current
                .into_iter()
                .find(|(pc, _)| matches!(self.prog[*pc], Inst::Match))
                .map(|(_, caps)| caps);
        }
        let caps = matched?;
        let byte = |i: usize| offsets.get(i).copied().unwrap_or(input.len());
        Some(
            (0..=self.groups)
                .map(|g| match (caps[2 * g], caps[2 * g + 1]) {
                    (Some(a), Some(b)) => Some((byte(a), byte(b))),
                    _ => None,
                })
                .collect(),
        )
    }

    /// Adds a thread and everything it reaches without consuming input, in priority order
    /// (an explicit stack: the program's length bounds the work, not the call stack).
    fn add_capturing(
        &self,
        list: &mut Vec<(usize, Vec<Option<usize>>)>,
        seen: &mut [usize],
        generation: usize,
        thread: (usize, Vec<Option<usize>>),
        pos: usize,
        chars: &[char],
    ) {
        let mut stack = vec![thread];
        while let Some((pc, mut caps)) = stack.pop() {
            if seen[pc] == generation {
                continue;
            }
            seen[pc] = generation;
            match &self.prog[pc] {
                Inst::Jmp(to) => stack.push((*to, caps)),
                Inst::Split(a, b) => {
                    stack.push((*b, caps.clone()));
                    stack.push((*a, caps));
                }
                Inst::Save(slot) => {
                    caps[*slot] = Some(pos);
                    stack.push((pc + 1, caps));
                }
                Inst::Assert(kind) => {
                    if assertion_holds(*kind, pos, chars) {
                        stack.push((pc + 1, caps));
                    }
                }
                _ => list.push((pc, caps)),
            }
        }
    }
}

fn assertion_holds(kind: Assertion, pos: usize, chars: &[char]) -> bool {
    let prev = pos.checked_sub(1).and_then(|p| chars.get(p)).copied();
    let next = chars.get(pos).copied();
    match kind {
        Assertion::TextStart => pos == 0,
        Assertion::LineStart => pos == 0 || prev == Some('\n'),
        Assertion::TextEnd => pos == chars.len(),
        Assertion::TextEndOrNewline => {
            pos == chars.len() || (pos + 1 == chars.len() && next == Some('\n'))
        }
        Assertion::LineEnd => pos == chars.len() || next == Some('\n'),
        Assertion::WordBoundary => is_word(prev) != is_word(next),
        Assertion::NotWordBoundary => is_word(prev) == is_word(next),
    }
}

fn starts_anchored(node: &Node) -> bool {
    match node {
        Node::Assert(Assertion::TextStart) => true,
        Node::Concat(items) => items.first().is_some_and(starts_anchored),
        Node::Capture(inner, _) => starts_anchored(inner),
        Node::Alt(items) => !items.is_empty() && items.iter().all(starts_anchored),
        _ => false,
    }
}

/// A sparse set of program counters (the classic Pike VM thread list).
struct ThreadList {
    dense: Vec<usize>,
    sparse: Vec<usize>,
}

impl ThreadList {
    fn new(n: usize) -> Self {
        ThreadList {
            dense: Vec::with_capacity(n),
            sparse: vec![0; n],
        }
    }
    fn contains(&self, pc: usize) -> bool {
        let i = self.sparse[pc];
        i < self.dense.len() && self.dense[i] == pc
    }
    fn insert(&mut self, pc: usize) {
        self.sparse[pc] = self.dense.len();
        self.dense.push(pc);
    }
    fn clear(&mut self) {
        self.dense.clear();
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    flags: Flags,
    depth: usize,
    /// Capturing groups opened so far; the next one is number `groups + 1`.
    groups: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// `(?i)`, `(?ms)`, … at the very start set flags for the whole pattern.
    fn leading_flags(&mut self) {
        loop {
            let rest = &self.chars[self.pos..];
            if rest.len() < 3 || rest[0] != '(' || rest[1] != '?' {
                return;
            }
            let mut j = 2;
            let mut flags = self.flags;
            while let Some(&c) = rest.get(j) {
                match c {
                    'i' => flags.i = true,
                    'm' => flags.m = true,
                    's' => flags.s = true,
                    'x' => flags.x = true,
                    ')' if j > 2 => {
                        self.flags = flags;
                        self.pos += j + 1;
                        break;
                    }
                    _ => return,
                }
                j += 1;
            }
            if rest.get(j) != Some(&')') {
                return;
            }
        }
    }

    /// Skips whitespace and `#` comments in extended (`x`) mode.
    fn skip_extended(&mut self) {
        if !self.flags.x {
            return;
        }
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += 1;
            } else if c == '#' {
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    fn alternation(&mut self) -> Result<Node, RegexError> {
        let mut branches = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 {
            branches.remove(0)
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self) -> Result<Node, RegexError> {
        let mut items = Vec::new();
        loop {
            self.skip_extended();
            match self.peek() {
                None | Some('|') | Some(')') => break,
                _ => {}
            }
            let atom = self.atom()?;
            let atom = self.quantifier(atom)?;
            items.push(atom);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.remove(0),
            _ => Node::Concat(items),
        })
    }

    fn quantifier(&mut self, atom: Node) -> Result<Node, RegexError> {
        let mut node = atom;
        loop {
            self.skip_extended();
            let (min, max) = match self.peek() {
                Some('*') => {
                    self.pos += 1;
                    (0, None)
                }
                Some('+') => {
                    self.pos += 1;
                    (1, None)
                }
                Some('?') => {
                    self.pos += 1;
                    (0, Some(1))
                }
                Some('{') => match self.counted() {
                    Some(range) => range,
                    None => return Ok(node),
                },
                _ => return Ok(node),
            };
            if matches!(node, Node::Assert(_) | Node::Empty) && min == 0 {
                // `^*` and friends: PCRE accepts them; zero repetitions always match.
                node = Node::Empty;
            }
            // A lazy `?` suffix only changes which match `find_at` reports; a possessive `+`
            // does not change whether a match exists, so it is read as greedy.
            let greedy = self.peek() != Some('?');
            if matches!(self.peek(), Some('?') | Some('+')) {
                self.pos += 1;
            }
            if let Some(max) = max {
                if max < min {
                    return Err("numbers out of order in {} quantifier".into());
                }
            }
            if min > 1000 || max.is_some_and(|m| m > 1000) {
                return Err("number too big in {} quantifier".into());
            }
            node = Node::Repeat {
                node: Box::new(node),
                min,
                max,
                greedy,
            };
            if matches!(self.peek(), Some('*' | '+' | '?')) {
                return Err("quantifier does not follow a repeatable item".into());
            }
        }
    }

    /// `{n}`, `{n,}`, `{n,m}`; anything else is a literal `{`.
    fn counted(&mut self) -> Option<(u32, Option<u32>)> {
        let start = self.pos;
        let mut j = self.pos + 1;
        let number = |j: &mut usize| -> Option<u32> {
            let from = *j;
            while self.chars.get(*j).is_some_and(char::is_ascii_digit) {
                *j += 1;
            }
            if *j == from {
                return None;
            }
            self.chars[from..*j].iter().collect::<String>().parse().ok()
        };
        let min = number(&mut j)?;
        let max = match self.chars.get(j) {
            Some('}') => Some(min),
            Some(',') => {
                j += 1;
                if self.chars.get(j) == Some(&'}') {
                    None
                } else {
                    let m = number(&mut j)?;
                    if self.chars.get(j) != Some(&'}') {
                        return None;
                    }
                    Some(m)
                }
            }
            _ => return None,
        };
        if self.chars.get(j) != Some(&'}') {
            self.pos = start;
            return None;
        }
        self.pos = j + 1;
        Some((min, max))
    }

    fn atom(&mut self) -> Result<Node, RegexError> {
        let Some(c) = self.peek() else {
            return Ok(Node::Empty);
        };
        self.pos += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Assert(if self.flags.m {
                Assertion::LineStart
            } else {
                Assertion::TextStart
            }),
            '$' => Node::Assert(if self.flags.m {
                Assertion::LineEnd
            } else {
                Assertion::TextEndOrNewline
            }),
            '[' => Node::Class(self.class()?),
            '(' => self.group()?,
            '*' | '+' | '?' => {
                return Err("quantifier does not follow a repeatable item".into());
            }
            '\\' => self.escape()?,
            c => Node::Char(c),
        })
    }

    fn group(&mut self) -> Result<Node, RegexError> {
        if self.depth > 200 {
            return Err("parentheses are too deeply nested".into());
        }
        let mut capture = true;
        if self.peek() == Some('?') {
            let rest: String = self.chars[self.pos..].iter().take(3).collect();
            if rest.starts_with("?:") {
                self.pos += 2;
                capture = false;
            } else if rest.starts_with("?<") && !rest.starts_with("?<=") && !rest.starts_with("?<!")
                || rest.starts_with("?P<")
                || rest.starts_with("?'")
            {
                let close = if rest.starts_with("?'") { '\'' } else { '>' };
                while let Some(c) = self.peek() {
                    self.pos += 1;
                    if c == close {
                        break;
                    }
                }
            } else if rest.starts_with("?=")
                || rest.starts_with("?!")
                || rest.starts_with("?<=")
                || rest.starts_with("?<!")
            {
                return Err(
                    "lookaround assertions are not supported by this sandbox's regex engine".into(),
                );
            } else {
                return Err(
                    "this group syntax is not supported by this sandbox's regex engine".into(),
                );
            }
        }
        // Groups are numbered by their opening parenthesis, named ones included.
        let number = if capture {
            self.groups += 1;
            Some(self.groups)
        } else {
            None
        };
        self.depth += 1;
        let inner = self.alternation()?;
        self.depth -= 1;
        if self.peek() != Some(')') {
            return Err("missing closing parenthesis".into());
        }
        self.pos += 1;
        Ok(match number {
            Some(n) => Node::Capture(Box::new(inner), n),
            None => inner,
        })
    }

    fn escape(&mut self) -> Result<Node, RegexError> {
        let Some(c) = self.peek() else {
            return Err("\\ at end of pattern".into());
        };
        self.pos += 1;
        let class = |b: Builtin, negated: bool| {
            Node::Class(Class {
                builtins: vec![(b, negated)],
                ..Class::default()
            })
        };
        Ok(match c {
            'd' => class(Builtin::Digit, false),
            'D' => class(Builtin::Digit, true),
            'w' => class(Builtin::Word, false),
            'W' => class(Builtin::Word, true),
            's' => class(Builtin::Space, false),
            'S' => class(Builtin::Space, true),
            'b' => Node::Assert(Assertion::WordBoundary),
            'B' => Node::Assert(Assertion::NotWordBoundary),
            'A' => Node::Assert(Assertion::TextStart),
            'z' => Node::Assert(Assertion::TextEnd),
            'Z' => Node::Assert(Assertion::TextEndOrNewline),
            '1'..='9' => {
                return Err(
                    "backreferences are not supported by this sandbox's regex engine".into(),
                )
            }
            _ => Node::Char(self.escaped_char(c)?),
        })
    }

    /// The character an escape stands for (outside or inside a class).
    fn escaped_char(&mut self, c: char) -> Result<char, RegexError> {
        Ok(match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'f' => '\x0c',
            'v' => '\x0b',
            'a' => '\x07',
            'e' => '\x1b',
            '0' => '\0',
            'x' => self.hex_digits(2)?,
            'u' => self.hex_digits(4)?,
            c if c.is_ascii_alphanumeric() => {
                return Err(format!("unrecognized character follows \\: \\{c}"));
            }
            c => c,
        })
    }

    fn hex_digits(&mut self, n: usize) -> Result<char, RegexError> {
        if self.peek() == Some('{') {
            self.pos += 1;
            let mut value = 0u32;
            while let Some(c) = self.peek() {
                self.pos += 1;
                if c == '}' {
                    return char::from_u32(value).ok_or_else(|| "invalid code point".into());
                }
                let digit = c.to_digit(16).ok_or("invalid hex escape")?;
                // Past u32, the code point is out of range as surely as past char's.
                value = value
                    .checked_mul(16)
                    .and_then(|v| v.checked_add(digit))
                    .ok_or("invalid code point")?;
            }
            return Err("missing } in hex escape".into());
        }
        let mut value = 0u32;
        for _ in 0..n {
            let d = self
                .peek()
                .and_then(|c| c.to_digit(16))
                .ok_or("invalid hex escape")?;
            self.pos += 1;
            value = value * 16 + d;
        }
        char::from_u32(value).ok_or_else(|| "invalid code point".into())
    }

    fn class(&mut self) -> Result<Class, RegexError> {
        let mut class = Class {
            fold: self.flags.i,
            ..Class::default()
        };
        if self.peek() == Some('^') {
            class.negated = true;
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err("missing terminating ] for character class".into());
            };
            self.pos += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = match c {
                '[' if self.peek() == Some(':') => {
                    let rest: String = self.chars[self.pos..].iter().take(10).collect();
                    let names = [
                        ("alpha", Builtin::Alpha),
                        ("digit", Builtin::Digit),
                        ("alnum", Builtin::Alnum),
                        ("space", Builtin::Space),
                        ("upper", Builtin::Upper),
                        ("lower", Builtin::Lower),
                        ("punct", Builtin::Punct),
                        ("xdigit", Builtin::Xdigit),
                        ("word", Builtin::Word),
                    ];
                    let found = names
                        .iter()
                        .find(|(name, _)| rest.starts_with(&format!(":{name}:]")));
                    match found {
                        Some((name, b)) => {
                            self.pos += name.len() + 3;
                            class.builtins.push((*b, false));
                            continue;
                        }
                        None => return Err("unknown POSIX class name".into()),
                    }
                }
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err("\\ at end of pattern".into());
                    };
                    self.pos += 1;
                    let builtin = match e {
                        'd' => Some((Builtin::Digit, false)),
                        'D' => Some((Builtin::Digit, true)),
                        'w' => Some((Builtin::Word, false)),
                        'W' => Some((Builtin::Word, true)),
                        's' => Some((Builtin::Space, false)),
                        'S' => Some((Builtin::Space, true)),
                        _ => None,
                    };
                    if let Some(b) = builtin {
                        class.builtins.push(b);
                        continue;
                    }
                    if e == 'b' {
                        '\x08'
                    } else {
                        self.escaped_char(e)?
                    }
                }
                c => c,
            };
            // A range `a-z`, unless the `-` is last.
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&c| c != ']') {
                self.pos += 1;
                let Some(h) = self.peek() else {
                    return Err("missing terminating ] for character class".into());
                };
                self.pos += 1;
                let hi = if h == '\\' {
                    let Some(e) = self.peek() else {
                        return Err("\\ at end of pattern".into());
                    };
                    self.pos += 1;
                    self.escaped_char(e)?
                } else {
                    h
                };
                if hi < lo {
                    return Err("range out of order in character class".into());
                }
                class.ranges.push((lo, hi));
            } else {
                class.ranges.push((lo, lo));
            }
        }
        Ok(class)
    }
}

struct Compiler {
    prog: Vec<Inst>,
    classes: Vec<Class>,
    fold: bool,
    dotall: bool,
}

impl Compiler {
    fn push(&mut self, inst: Inst) -> Result<usize, RegexError> {
        if self.prog.len() >= MAX_PROGRAM {
            return Err("regular expression is too large".into());
        }
        self.prog.push(inst);
        Ok(self.prog.len() - 1)
    }

    fn emit_node(&mut self, node: &Node) -> Result<(), RegexError> {
        match node {
            Node::Empty => {}
            Node::Char(c) => {
                if self.fold {
                    self.push(Inst::CharFold(fold(*c)))?;
                } else {
                    self.push(Inst::Char(*c))?;
                }
            }
            Node::Any => {
                self.push(if self.dotall {
                    Inst::Any
                } else {
                    Inst::AnyButNewline
                })?;
            }
            Node::Class(class) => {
                self.classes.push(class.clone());
                self.push(Inst::Class(self.classes.len() - 1))?;
            }
            Node::Assert(kind) => {
                self.push(Inst::Assert(*kind))?;
            }
            Node::Concat(items) => {
                for item in items {
                    self.emit_node(item)?;
                }
            }
            Node::Capture(inner, n) => {
                self.push(Inst::Save(2 * n))?;
                self.emit_node(inner)?;
                self.push(Inst::Save(2 * n + 1))?;
            }
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (i, branch) in branches.iter().enumerate() {
                    if i + 1 < branches.len() {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit_node(branch)?;
                        jumps.push(self.push(Inst::Jmp(0))?);
                        let next = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, next);
                    } else {
                        self.emit_node(branch)?;
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.prog[j] = Inst::Jmp(end);
                }
            }
            Node::Repeat {
                node,
                min,
                max,
                greedy,
            } => {
                for _ in 0..*min {
                    self.emit_node(node)?;
                }
                match max {
                    None => {
                        // L: split body, end; body; jmp L
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit_node(node)?;
                        self.push(Inst::Jmp(split))?;
                        let end = self.prog.len();
                        self.prog[split] = choice(split + 1, end, *greedy);
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.push(Inst::Split(0, 0))?);
                            self.emit_node(node)?;
                        }
                        let end = self.prog.len();
                        for s in splits {
                            self.prog[s] = choice(s + 1, end, *greedy);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The split that prefers the body (greedy) or the way past it (lazy).
fn choice(body: usize, skip: usize, greedy: bool) -> Inst {
    if greedy {
        Inst::Split(body, skip)
    } else {
        Inst::Split(skip, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, o: &str, s: &str) -> bool {
        Regex::new(p, o).unwrap().is_match(s)
    }

    #[test]
    fn a_literal_start_is_found_by_substring_search_with_the_same_answers() {
        for (pattern, options, prefix, whole) in [
            ("volcano", "", "volcano", true),
            ("vol.*o", "", "vol", false),
            ("(vol)c", "", "volc", true),
            ("VOL", "i", "vol", true),
            ("ab|cd", "", "", false),
            ("^abc", "", "", false),
            ("é", "i", "", false),
            ("a+", "", "a", false),
        ] {
            let re = Regex::new(pattern, options).unwrap();
            assert_eq!(
                (re.prefix.text.as_str(), re.prefix.whole),
                (prefix, whole),
                "{pattern}"
            );
        }
        for (pattern, options, text, matches) in [
            ("volcano", "", "a volcano erupts", true),
            ("volcano", "", "a volcan", false),
            ("VOLCANO", "i", "Volcano!", true),
            ("VOLCANO", "i", "Volcan", false),
            ("ab+c", "", "xxabbbc", true),
            ("ab+c", "", "xxab", false),
            ("abc$", "", "abcabc", true),
            ("abc$", "", "abcab", false),
            // The Kelvin sign folds to k: an ASCII comparison alone would miss it.
            ("k", "i", "\u{212A}", true),
            ("ka", "i", "\u{212A}A", true),
            ("", "", "", true),
        ] {
            let re = Regex::new(pattern, options).unwrap();
            assert_eq!(
                re.is_match(text),
                matches,
                "{pattern} /{options} on {text:?}"
            );
            assert_eq!(
                re.find_at(text, 0).is_some(),
                matches,
                "{pattern} /{options} on {text:?}"
            );
        }
        let re = Regex::new("volcano", "").unwrap();
        assert_eq!(re.find_at("volcano volcano", 1), Some(vec![Some((8, 15))]));
        assert_eq!(re.find_at("volcano volcano", 9), None);
    }

    /// A braced hex escape past u32 is refused like one past the last code point, not
    /// overflowed (the fuzzer found `\u{816051185753…}`).
    #[test]
    fn braced_hex_escapes_out_of_range_are_refused() {
        for p in [
            "\\u{110000}",
            "\\u{816051185753}",
            "\\x{ffffffffffffffffff}",
        ] {
            assert_eq!(
                Regex::new(p, "").err().as_deref(),
                Some("invalid code point"),
                "{p}"
            );
        }
        assert!(m("\\u{41}", "", "A"));
    }

    #[test]
    fn basics() {
        assert!(m("abc", "", "xxabcxx"));
        assert!(!m("abc", "", "ab"));
        assert!(m("^abc", "", "abcd"));
        assert!(!m("^abc", "", "xabc"));
        assert!(m("abc$", "", "xabc"));
        assert!(m("abc$", "", "xabc\n"));
        assert!(!m("abc$", "", "abc\nx"));
        assert!(m("abc$", "m", "abc\nx"));
        assert!(m("^x", "m", "abc\nx"));
        assert!(m("ab+c", "i", "xABBBC"));
        assert!(m("a.c", "", "abc"));
        assert!(!m("a.c", "", "a\nc"));
        assert!(m("a.c", "s", "a\nc"));
        assert!(m("(?i)acme", "", "ACME corp"));
        assert!(m("a b c", "x", "abc"));
        assert!(m("a#comment\nb", "x", "ab"));
        assert!(m("^[A-Z]\\d{3}$", "", "B123"));
        assert!(!m("^[A-Z]\\d{3}$", "", "B12"));
        assert!(m("^(cat|dog)s?$", "", "dogs"));
        assert!(!m("^(cat|dog)s?$", "", "cow"));
        assert!(m("[^a-c]", "", "abcd"));
        assert!(!m("[^a-c]", "", "abc"));
        assert!(m("[[:digit:]]+", "", "x9"));
        assert!(m("\\bfoo\\b", "", "a foo b"));
        assert!(!m("\\bfoo\\b", "", "afoob"));
        assert!(m("^$", "", ""));
        assert!(m("x{2,3}", "", "axxa"));
        assert!(!m("^x{2,3}$", "", "xxxx"));
        assert!(m("S", "i", "acme s"));
        assert!(m("[a-z]", "i", "Q"));
        assert!(m("é", "i", "É"));
        assert!(m("\\.", "", "a.b"));
        assert!(!m("\\.", "", "ab"));
    }

    #[test]
    fn linear_time_on_pathological_patterns() {
        let text = "a".repeat(5000) + "!";
        assert!(!m("^(a+)+$", "", &text));
        assert!(!m("(a|aa)*b", "", &text));
        assert!(!m("^(a?){30}a{30}$", "", &"a".repeat(29)));
    }

    #[test]
    fn unsupported_and_invalid() {
        assert!(Regex::new("(?=a)", "").is_err());
        assert!(Regex::new("(a)\\1", "").is_err());
        assert!(Regex::new("(a", "").is_err());
        assert!(Regex::new("a)", "").is_err());
        assert!(Regex::new("[a", "").is_err());
        assert!(Regex::new("*a", "").is_err());
        assert!(Regex::new("a", "q").is_err());
    }

    fn find(p: &str, o: &str, s: &str) -> Option<String> {
        let re = Regex::new(p, o).ok()?;
        let caps = re.find_at(s, 0)?;
        let (a, b) = caps.first().copied().flatten()?;
        s.get(a..b).map(str::to_string)
    }

    #[test]
    fn matches_like_pcre() {
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("line", "", "a line here", Some("line")),
            ("^a", "", "ba", None),
            ("^b", "m", "a\nb", Some("b")),
            ("LINE", "i", "a line", Some("line")),
            ("a.c", "", "a\nc", None),
            ("a.c", "s", "a\nc", Some("a\nc")),
            ("\\d+", "", "ab 123 4", Some("123")),
            ("[a-c]+", "", "xxbcay", Some("bca")),
            ("a+?", "", "aaa", Some("a")),
            ("(cat|category)", "", "category", Some("cat")),
            ("x{2,3}", "", "xxxxx", Some("xxx")),
            ("\\bfoo\\b", "", "a foo b", Some("foo")),
            ("(a|b)*c", "", "ababc", Some("ababc")),
            ("colou?r", "", "color", Some("color")),
            ("a b # comment", "x", "ab", Some("ab")),
            ("(a*)*b", "", &"a".repeat(5000), None),
        ];
        for (p, o, s, want) in cases {
            assert_eq!(find(p, o, s).as_deref(), *want, "/{p}/{o}");
        }
        assert!(Regex::new("(a", "").is_err());
        assert!(Regex::new("a)", "").is_err());
        assert!(Regex::new("(\\1)", "").is_err());
    }

    #[test]
    fn captures_are_byte_spans() {
        let re = Regex::new("(\\w+)@(\\w+)", "").ok();
        let caps = re.and_then(|r| r.find_at("mail: bob@example now", 0));
        assert_eq!(
            caps,
            Some(vec![Some((6, 17)), Some((6, 9)), Some((10, 17))])
        );
        // Named groups are numbered with the others; `(?:…)` takes no number; an unmatched
        // group is `None`.
        let re = Regex::new("(?<user>\\w+)(?:@(x)|@(\\w+))", "").ok();
        let caps = re.and_then(|r| r.find_at("bob@example", 0));
        assert_eq!(
            caps,
            Some(vec![Some((0, 11)), Some((0, 3)), None, Some((4, 11))])
        );
        let re = Regex::new("^<(.+?)>", "").ok();
        let caps = re.and_then(|r| r.find_at("<a><b>", 0));
        assert_eq!(caps, Some(vec![Some((0, 3)), Some((1, 2))]));
    }
}
