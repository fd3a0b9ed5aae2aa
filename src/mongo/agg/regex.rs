//! A small regular-expression engine for `$regexMatch`, `$regexFind` and `$regexFindAll`.
//!
//! It runs as a Pike VM (Thompson NFA simulation with capture slots): time is linear in
//! the input for every pattern, so no pattern can backtrack catastrophically in a student's
//! tab. It keeps PCRE's leftmost-first preference (greedy and lazy quantifiers, alternation
//! in order). Supported: literals and escapes, `.`, classes (`[a-z]`, `[^…]`, `\d \w \s` and
//! their negations), anchors `^ $ \b \B`, groups `( )` and `(?: )`, alternation, and the
//! quantifiers `* + ? {n} {n,} {n,m}` with lazy forms; options `i m s x`. Backreferences and
//! lookaround are refused with an error.

const MAX_PROGRAM: usize = 20_000;
const MAX_NESTING: usize = 100;

#[derive(Debug, Clone)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

#[derive(Debug, Clone)]
struct Class {
    negated: bool,
    items: Vec<ClassItem>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Assert {
    Start,
    End,
    WordBoundary(bool),
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class(Class),
    Assert(Assert),
    Group(Box<Node>, Option<usize>),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    },
}

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    Any,
    Class(Class),
    Assert(Assert),
    Split(usize, usize),
    Jmp(usize),
    Save(usize),
    Match,
}

#[derive(Debug, Clone)]
pub struct Regex {
    prog: Vec<Inst>,
    groups: usize,
    icase: bool,
    multiline: bool,
    dotall: bool,
}

struct Parser<'p> {
    chars: Vec<char>,
    pos: usize,
    groups: usize,
    extended: bool,
    depth: usize,
    _src: &'p str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_extended(&mut self) {
        if !self.extended {
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

    fn alt(&mut self) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err("nesting too deep".into());
        }
        let mut branches = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.concat()?);
        }
        self.depth -= 1;
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self) -> Result<Node, String> {
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
        Ok(Node::Concat(items))
    }

    fn quantifier(&mut self, atom: Node) -> Result<Node, String> {
        self.skip_extended();
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => match self.counted()? {
                Some(r) => r,
                None => return Ok(atom),
            },
            _ => return Ok(atom),
        };
        if !matches!(self.peek(), Some('{')) {
            self.pos += 1;
        }
        let mut greedy = true;
        if self.peek() == Some('?') {
            self.pos += 1;
            greedy = false;
        } else if self.peek() == Some('+') {
            self.pos += 1;
        }
        if matches!(atom, Node::Assert(_)) {
            return Ok(atom);
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
            greedy,
        })
    }

    /// `{n}`, `{n,}`, `{n,m}`; `None` (a literal brace) for anything else.
    fn counted(&mut self) -> Result<Option<(u32, Option<u32>)>, String> {
        let start = self.pos;
        let mut i = self.pos + 1;
        let mut text = String::new();
        while let Some(c) = self.chars.get(i) {
            if *c == '}' {
                break;
            }
            text.push(*c);
            i += 1;
        }
        if self.chars.get(i) != Some(&'}') {
            return Ok(None);
        }
        let parse = |s: &str| s.parse::<u32>().ok();
        let r = match text.split_once(',') {
            None => parse(&text).map(|n| (n, Some(n))),
            Some((a, "")) => parse(a).map(|n| (n, None)),
            Some((a, b)) => match (parse(a), parse(b)) {
                (Some(x), Some(y)) if x <= y => Some((x, Some(y))),
                (Some(_), Some(_)) => return Err("numbers out of order in {} quantifier".into()),
                _ => None,
            },
        };
        match r {
            Some(r) => {
                if r.0 > 1000 || r.1.is_some_and(|m| m > 1000) {
                    return Err("number too big in {} quantifier".into());
                }
                self.pos = i + 1;
                Ok(Some(r))
            }
            None => {
                self.pos = start;
                Ok(None)
            }
        }
    }

    fn atom(&mut self) -> Result<Node, String> {
        let Some(c) = self.peek() else {
            return Ok(Node::Empty);
        };
        self.pos += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Assert(Assert::Start),
            '$' => Node::Assert(Assert::End),
            '(' => {
                let index = if self.peek() == Some('?') {
                    if self.chars.get(self.pos + 1) == Some(&':') {
                        self.pos += 2;
                        None
                    } else {
                        return Err("lookaround and inline options are not supported".into());
                    }
                } else {
                    self.groups += 1;
                    Some(self.groups)
                };
                let inner = self.alt()?;
                if self.peek() != Some(')') {
                    return Err("missing closing parenthesis".into());
                }
                self.pos += 1;
                Node::Group(Box::new(inner), index)
            }
            ')' => return Err("unmatched closing parenthesis".into()),
            '[' => Node::Class(self.class()?),
            '*' | '+' | '?' => return Err("quantifier does not follow a repeatable item".into()),
            '\\' => self.escape(false)?,
            c => Node::Char(c),
        })
    }

    fn escape(&mut self, in_class: bool) -> Result<Node, String> {
        let Some(c) = self.peek() else {
            return Err("\\ at end of pattern".into());
        };
        self.pos += 1;
        let class = |item| {
            Node::Class(Class {
                negated: false,
                items: vec![item],
            })
        };
        Ok(match c {
            'd' => class(ClassItem::Digit(true)),
            'D' => class(ClassItem::Digit(false)),
            'w' => class(ClassItem::Word(true)),
            'W' => class(ClassItem::Word(false)),
            's' => class(ClassItem::Space(true)),
            'S' => class(ClassItem::Space(false)),
            'b' if !in_class => Node::Assert(Assert::WordBoundary(true)),
            'B' if !in_class => Node::Assert(Assert::WordBoundary(false)),
            'A' if !in_class => Node::Assert(Assert::Start),
            'n' => Node::Char('\n'),
            't' => Node::Char('\t'),
            'r' => Node::Char('\r'),
            'f' => Node::Char('\u{0C}'),
            'v' => Node::Char('\u{0B}'),
            '0' => Node::Char('\0'),
            '1'..='9' => return Err("backreferences are not supported".into()),
            c if c.is_ascii_alphanumeric() => {
                return Err(format!("unrecognized character follows \\: {c}"))
            }
            c => Node::Char(c),
        })
    }

    fn class(&mut self) -> Result<Class, String> {
        let mut negated = false;
        if self.peek() == Some('^') {
            negated = true;
            self.pos += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err("missing terminating ] for character class".into());
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            self.pos += 1;
            let lo = if c == '\\' {
                match self.escape(true)? {
                    Node::Char(ch) => ch,
                    Node::Class(cl) => {
                        items.extend(cl.items);
                        continue;
                    }
                    _ => continue,
                }
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|n| *n != ']') {
                self.pos += 1;
                let Some(mut hi) = self.peek() else {
                    return Err("missing terminating ] for character class".into());
                };
                self.pos += 1;
                if hi == '\\' {
                    match self.escape(true)? {
                        Node::Char(ch) => hi = ch,
                        _ => return Err("invalid range in character class".into()),
                    }
                }
                if hi < lo {
                    return Err("range out of order in character class".into());
                }
                items.push(ClassItem::Range(lo, hi));
            } else {
                items.push(ClassItem::Range(lo, lo));
            }
        }
        Ok(Class { negated, items })
    }
}

struct Emitter {
    prog: Vec<Inst>,
}

impl Emitter {
    fn push(&mut self, i: Inst) -> Result<usize, String> {
        if self.prog.len() >= MAX_PROGRAM {
            return Err("regular expression is too large".into());
        }
        self.prog.push(i);
        Ok(self.prog.len() - 1)
    }

    fn set(&mut self, at: usize, i: Inst) {
        if let Some(slot) = self.prog.get_mut(at) {
            *slot = i;
        }
    }

    fn emit(&mut self, n: &Node) -> Result<(), String> {
        match n {
            Node::Empty => {}
            Node::Char(c) => {
                self.push(Inst::Char(*c))?;
            }
            Node::Any => {
                self.push(Inst::Any)?;
            }
            Node::Class(c) => {
                self.push(Inst::Class(c.clone()))?;
            }
            Node::Assert(a) => {
                self.push(Inst::Assert(*a))?;
            }
            Node::Group(inner, index) => {
                if let Some(i) = index {
                    self.push(Inst::Save(2 * i))?;
                }
                self.emit(inner)?;
                if let Some(i) = index {
                    self.push(Inst::Save(2 * i + 1))?;
                }
            }
            Node::Concat(items) => {
                for i in items {
                    self.emit(i)?;
                }
            }
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (k, b) in branches.iter().enumerate() {
                    if k + 1 < branches.len() {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(b)?;
                        jumps.push(self.push(Inst::Jmp(0))?);
                        let next = self.prog.len();
                        self.set(split, Inst::Split(split + 1, next));
                    } else {
                        self.emit(b)?;
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.set(j, Inst::Jmp(end));
                }
            }
            Node::Repeat {
                node,
                min,
                max,
                greedy,
            } => {
                for _ in 0..*min {
                    self.emit(node)?;
                }
                match max {
                    None => {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(node)?;
                        self.push(Inst::Jmp(split))?;
                        let end = self.prog.len();
                        self.set(split, self.choice(split + 1, end, *greedy));
                    }
                    Some(m) => {
                        let mut splits = Vec::new();
                        for _ in *min..*m {
                            splits.push(self.push(Inst::Split(0, 0))?);
                            self.emit(node)?;
                        }
                        let end = self.prog.len();
                        for s in splits {
                            self.set(s, self.choice(s + 1, end, *greedy));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn choice(&self, body: usize, skip: usize, greedy: bool) -> Inst {
        if greedy {
            Inst::Split(body, skip)
        } else {
            Inst::Split(skip, body)
        }
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Class {
    fn matches(&self, c: char, icase: bool) -> bool {
        let test = |ch: char| {
            self.items.iter().any(|i| match i {
                ClassItem::Range(lo, hi) => *lo <= ch && ch <= *hi,
                ClassItem::Digit(pos) => ch.is_ascii_digit() == *pos,
                ClassItem::Word(pos) => (ch.is_ascii_alphanumeric() || ch == '_') == *pos,
                ClassItem::Space(pos) => ch.is_whitespace() == *pos,
            })
        };
        let hit =
            test(c) || (icase && (c.to_lowercase().any(&test) || c.to_uppercase().any(&test)));
        hit != self.negated
    }
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

impl Regex {
    pub fn new(pattern: &str, options: &str) -> Result<Regex, String> {
        for o in options.chars() {
            if !"imsxu".contains(o) {
                return Err(format!("invalid flag in regex options: {o}"));
            }
        }
        let mut p = Parser {
            chars: pattern.chars().collect(),
            pos: 0,
            groups: 0,
            extended: options.contains('x'),
            depth: 0,
            _src: pattern,
        };
        let ast = p.alt()?;
        if p.pos < p.chars.len() {
            return Err("unmatched closing parenthesis".into());
        }
        let mut e = Emitter { prog: Vec::new() };
        e.push(Inst::Save(0))?;
        e.emit(&ast)?;
        e.push(Inst::Save(1))?;
        e.push(Inst::Match)?;
        Ok(Regex {
            prog: e.prog,
            groups: p.groups,
            icase: options.contains('i'),
            multiline: options.contains('m'),
            dotall: options.contains('s'),
        })
    }

    fn assert_holds(&self, a: Assert, text: &[(usize, char)], i: usize) -> bool {
        let prev = i.checked_sub(1).and_then(|p| text.get(p)).map(|x| x.1);
        let next = text.get(i).map(|x| x.1);
        match a {
            Assert::Start => prev.is_none() || (self.multiline && prev == Some('\n')),
            Assert::End => {
                next.is_none()
                    || (self.multiline && next == Some('\n'))
                    || (next == Some('\n') && i + 1 == text.len())
            }
            Assert::WordBoundary(want) => {
                (prev.is_some_and(is_word) != next.is_some_and(is_word)) == want
            }
        }
    }

    /// Adds the thread at `pc` and everything it reaches without consuming input, in
    /// priority order (an explicit stack: program length bounds the work, not the stack).
    #[allow(clippy::too_many_arguments, clippy::collapsible_match)]
    fn add_thread(
        &self,
        list: &mut Vec<(usize, Vec<Option<usize>>)>,
        seen: &mut [usize],
        generation: usize,
        pc: usize,
        caps: Vec<Option<usize>>,
        text: &[(usize, char)],
        i: usize,
    ) {
        let mut stack = vec![(pc, caps)];
        while let Some((pc, mut caps)) = stack.pop() {
            match seen.get(pc) {
                Some(g) if *g == generation => continue,
                Some(_) => {}
                None => continue,
            }
            if let Some(g) = seen.get_mut(pc) {
                *g = generation;
            }
            match self.prog.get(pc) {
                Some(Inst::Jmp(t)) => stack.push((*t, caps)),
                Some(Inst::Split(a, b)) => {
                    stack.push((*b, caps.clone()));
                    stack.push((*a, caps));
                }
                Some(Inst::Save(n)) => {
                    if let Some(slot) = caps.get_mut(*n) {
                        *slot = Some(i);
                    }
                    stack.push((pc + 1, caps));
                }
                Some(Inst::Assert(a)) => {
                    if self.assert_holds(*a, text, i) {
                        stack.push((pc + 1, caps));
                    }
                }
                Some(_) => list.push((pc, caps)),
                None => {}
            }
        }
    }

    /// The first match starting at or after byte offset `start`: capture spans as byte
    /// offsets (index 0 is the whole match; unmatched groups are `None`).
    pub fn find_at(&self, input: &str, start: usize) -> Option<Vec<Option<(usize, usize)>>> {
        let text: Vec<(usize, char)> = input.char_indices().filter(|(b, _)| *b >= start).collect();
        let nslots = 2 * (self.groups + 1);
        let mut clist: Vec<(usize, Vec<Option<usize>>)> = Vec::new();
        let mut nlist = Vec::new();
        let mut seen = vec![usize::MAX; self.prog.len()];
        let mut matched: Option<Vec<Option<usize>>> = None;
        let mut generation = 0;
        for i in 0..=text.len() {
            generation += 1;
            if matched.is_none() {
                // A new attempt at this position, with the lowest priority.
                let mut tmp = std::mem::take(&mut clist);
                let mut fresh = Vec::new();
                for (pc, caps) in tmp.drain(..) {
                    if let Some(g) = seen.get_mut(pc) {
                        *g = generation;
                    }
                    fresh.push((pc, caps));
                }
                clist = fresh;
                self.add_thread(
                    &mut clist,
                    &mut seen,
                    generation,
                    0,
                    vec![None; nslots],
                    &text,
                    i,
                );
            }
            if clist.is_empty() {
                if matched.is_some() {
                    break;
                }
                continue;
            }
            generation += 1;
            let ch = text.get(i).map(|x| x.1);
            for (pc, caps) in clist.drain(..) {
                let ok = match (self.prog.get(pc), ch) {
                    (Some(Inst::Match), _) => {
                        matched = Some(caps);
                        break;
                    }
                    (Some(Inst::Char(c)), Some(x)) => {
                        *c == x || (self.icase && fold(*c) == fold(x))
                    }
                    (Some(Inst::Any), Some(x)) => self.dotall || x != '\n',
                    (Some(Inst::Class(cl)), Some(x)) => cl.matches(x, self.icase),
                    _ => false,
                };
                if ok {
                    self.add_thread(
                        &mut nlist,
                        &mut seen,
                        generation,
                        pc + 1,
                        caps,
                        &text,
                        i + 1,
                    );
                }
            }
            std::mem::swap(&mut clist, &mut nlist);
            nlist.clear();
        }
        // Threads still alive at the end may reach Match.
        if let Some(m) = clist
            .iter()
            .find(|(pc, _)| matches!(self.prog.get(*pc), Some(Inst::Match)))
        {
            if matched.is_none() {
                matched = Some(m.1.clone());
            }
        }
        let caps = matched?;
        let byte = |i: usize| text.get(i).map_or(input.len(), |x| x.0);
        Some(
            (0..=self.groups)
                .map(|g| {
                    match (
                        caps.get(2 * g).copied().flatten(),
                        caps.get(2 * g + 1).copied().flatten(),
                    ) {
                        (Some(a), Some(b)) => Some((byte(a), byte(b))),
                        _ => None,
                    }
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
