//! What the console offers while the student types: redis-cli's grey argument hints and Tab
//! completion of the student's own key names, both read from the one command table.
//!
//! The hint rule is redis-cli's since 7.2 (valkey-cli's too), driven by `COMMAND DOCS`
//! argument specs rather than the fixed help strings of older versions:
//! - the typed words after the command name are matched against the argument specs in order;
//!   a run of consecutive optional arguments matches in any order; a token matches
//!   case-insensitively; an `integer`/`unix-time` argument needs a word that starts like a
//!   whole number and a `double` one a word that starts like a number, or matching stops;
//! - the last word only counts once a space follows it (`SET k` still hints `key value …`);
//! - if every typed word matched, the hint is the syntax of what is left: arguments fully
//!   typed disappear, an argument begun shows only its missing part, first; a repeatable
//!   argument keeps its `[… ...]` tail; if a word did not match, there is no hint at all;
//! - a command the table has no argument specs for (module commands) hints its help syntax
//!   until its first argument is typed.
//!
//! Key completion finds which argument the word under the caret would be by the same matching,
//! and offers the current database's keys when it is a `key` argument (for commands without
//! argument specs, the table's first/last/step key positions decide).

use super::cli::split_args;
use super::commands::{self, Arg, CommandSpec};
use super::db::Entry;
use super::Server;
use crate::clock::Millis;

/// One argument spec with its matching state (`matched*` in redis-cli's `cliCommandArg`).
struct Node {
    arg: &'static Arg,
    /// How many input words this argument has taken.
    matched: usize,
    matched_token: bool,
    matched_name: bool,
    /// Nothing of it is left to type (no hint needed).
    matched_all: bool,
    subs: Vec<Node>,
}

impl Node {
    fn tree(args: &'static [Arg]) -> Vec<Node> {
        args.iter()
            .map(|arg| Node {
                arg,
                matched: 0,
                matched_token: false,
                matched_name: false,
                matched_all: false,
                subs: Node::tree(arg.args),
            })
            .collect()
    }

    fn clear(&mut self) {
        self.matched = 0;
        self.matched_token = false;
        self.matched_name = false;
        self.matched_all = false;
        for sub in &mut self.subs {
            sub.clear();
        }
    }

    fn has(&self, flag: &str) -> bool {
        self.arg.flags.contains(&flag)
    }

    fn optional(&self) -> bool {
        self.has("optional")
    }
}

/// The words being matched, and for each the kind of argument that took it last (`token`
/// for a keyword), which is how completion learns what the word under the caret is.
struct Input<'w> {
    words: &'w [Vec<u8>],
    owner: Vec<Option<&'static str>>,
}

/// The word past leading spaces and one sign, as C's number scanning reads it.
fn unsigned(word: &[u8]) -> &[u8] {
    let rest = word.trim_ascii_start();
    rest.strip_prefix(b"-")
        .or_else(|| rest.strip_prefix(b"+"))
        .unwrap_or(rest)
}

/// What C's `sscanf("%lld")` accepts at the start of a word.
fn starts_like_integer(word: &[u8]) -> bool {
    unsigned(word).first().is_some_and(u8::is_ascii_digit)
}

/// What C's `sscanf("%lf")` accepts at the start of a word: a decimal number, `inf`, `nan`.
fn starts_like_double(word: &[u8]) -> bool {
    let lower = unsigned(word).to_ascii_lowercase();
    match lower.first() {
        Some(b) if b.is_ascii_digit() => true,
        Some(b'.') => lower.get(1).is_some_and(u8::is_ascii_digit),
        _ => lower.starts_with(b"inf") || lower.starts_with(b"nan"),
    }
}

impl Input<'_> {
    /// Matches the argument (without its token) against the words from `at`; returns how
    /// many words it has taken in all.
    fn match_no_token(&mut self, at: usize, node: &mut Node) -> usize {
        let Some(word) = self.words.get(at) else {
            return node.matched;
        };
        match node.arg.kind {
            "block" => {
                node.matched += self.match_args(at, &mut node.subs);
                node.matched_all = node.subs.iter().all(|s| s.matched_all);
            }
            "oneof" => {
                for sub in &mut node.subs {
                    if self.match_arg(at, sub) > 0 {
                        node.matched += sub.matched;
                        node.matched_all = sub.matched_all;
                        break;
                    }
                }
            }
            "integer" | "unix-time" | "double" => {
                let ok = if node.arg.kind == "double" {
                    starts_like_double(word)
                } else {
                    starts_like_integer(word)
                };
                if ok {
                    self.take(at, node.arg.kind);
                    node.matched += 1;
                    node.matched_name = true;
                    node.matched_all = true;
                } else {
                    node.matched = 0;
                    node.matched_name = false;
                }
            }
            kind => {
                self.take(at, kind);
                node.matched += 1;
                node.matched_name = true;
                node.matched_all = true;
            }
        }
        node.matched
    }

    fn take(&mut self, at: usize, kind: &'static str) {
        if let Some(slot) = self.owner.get_mut(at) {
            *slot = Some(kind);
        }
    }

    fn match_once(&mut self, at: usize, node: &mut Node) -> usize {
        let mut at = at;
        if let Some(token) = node.arg.token {
            let Some(word) = self.words.get(at) else {
                return 0;
            };
            if !word.eq_ignore_ascii_case(token.as_bytes()) {
                return 0;
            }
            self.take(at, "token");
            node.matched_token = true;
            node.matched = 1;
            if node.arg.kind == "pure-token" {
                node.matched_all = true;
                return 1;
            }
            if at + 1 == self.words.len() {
                return 1;
            }
            at += 1;
        }
        if self.match_no_token(at, node) == 0 {
            return 0;
        }
        node.matched
    }

    /// Matches the argument once, or as many times as the words allow if it repeats.
    fn match_arg(&mut self, at: usize, node: &mut Node) -> usize {
        let once = self.match_once(at, node);
        if !node.has("multiple") {
            return once;
        }
        let mut taken = once;
        while node.matched_all && at + taken < self.words.len() {
            node.clear();
            let next = if node.arg.token.is_some() && !node.has("multiple_token") {
                // The keyword comes once; later repeats are as if it had been typed again.
                let n = self.match_no_token(at + taken, node);
                if node.matched > 0 {
                    node.matched_token = true;
                }
                n
            } else {
                self.match_once(at + taken, node)
            };
            if next == 0 {
                break;
            }
            taken += next;
        }
        // A repeatable argument can always take more.
        node.matched_all = false;
        taken
    }

    /// Matches the words from `at` against a run of optional arguments, in any order.
    fn match_optionals(&mut self, at: usize, nodes: &mut [Node]) -> usize {
        let mut taken = 0;
        let mut last: Option<usize> = None;
        'words: while at + taken < self.words.len() {
            for i in 0..nodes.len() {
                if nodes[i].matched > 0 {
                    continue;
                }
                let n = self.match_arg(at + taken, &mut nodes[i]);
                if n > 0 {
                    // Starting another optional argument completes the one before.
                    if let Some(prev) = last {
                        nodes[prev].matched_all = true;
                    }
                    last = Some(i);
                    taken += n;
                    continue 'words;
                }
            }
            break;
        }
        taken
    }

    /// Matches as many words from `at` as the arguments take; 0 if a required one fails.
    fn match_args(&mut self, at: usize, nodes: &mut [Node]) -> usize {
        let mut taken = 0;
        let mut i = 0;
        while at + taken < self.words.len() && i < nodes.len() {
            if nodes[i].optional() {
                let end = nodes[i..]
                    .iter()
                    .position(|n| !n.optional())
                    .map_or(nodes.len(), |p| i + p);
                taken += self.match_optionals(at + taken, &mut nodes[i..end]);
                i = end;
            } else {
                let n = self.match_arg(at + taken, &mut nodes[i]);
                if n == 0 {
                    return 0;
                }
                taken += n;
                i += 1;
            }
        }
        taken
    }
}

/// redis-cli prints an empty token or name as `""` (MIGRATE's empty key).
fn push_or_empty(out: &mut String, text: &str) {
    out.push_str(if text.is_empty() { "\"\"" } else { text });
}

fn separate(out: &mut String, mark: &mut usize, separator: &str, last: bool) {
    if out.len() > *mark && !last {
        out.push_str(separator);
        *mark = out.len();
    }
}

fn hint_for_args(out: &mut String, nodes: &mut [Node], separator: &str) {
    let mut mark = out.len();
    let count = nodes.len();
    let mut i = 0;
    while i < count {
        if !nodes[i].optional() {
            hint_for_arg(out, &mut nodes[i]);
            separate(out, &mut mark, separator, i + 1 == count);
            i += 1;
            continue;
        }
        // A run of optional arguments: the one being typed comes first, then the others,
        // unless the required argument after the run has already begun.
        let end = nodes[i..]
            .iter()
            .position(|n| !n.optional())
            .map_or(count, |p| i + p);
        let mut begun = None;
        for (j, node) in nodes.iter_mut().enumerate().take(end).skip(i) {
            if node.matched > 0 && !node.matched_all {
                hint_for_arg(out, node);
                separate(out, &mut mark, separator, i + 1 == count);
                begun = Some(j);
            }
        }
        if nodes.get(end).is_none_or(|n| n.matched == 0) {
            for (j, node) in nodes.iter_mut().enumerate().take(end).skip(i) {
                if begun != Some(j) {
                    hint_for_arg(out, node);
                    separate(out, &mut mark, separator, j + 1 == count);
                }
            }
        }
        i = end;
    }
}

fn hint_for_repeat(out: &mut String, node: &mut Node) {
    if !node.has("multiple") {
        return;
    }
    node.clear();
    if !out.is_empty() {
        out.push(' ');
    }
    out.push('[');
    if node.has("multiple_token") {
        push_or_empty(out, node.arg.token.unwrap_or_default());
        if node.arg.kind != "pure-token" {
            out.push(' ');
        }
    }
    match node.arg.kind {
        "oneof" => hint_for_args(out, &mut node.subs, "|"),
        "block" => hint_for_args(out, &mut node.subs, " "),
        "pure-token" => {}
        _ => push_or_empty(out, node.arg.display.unwrap_or(node.arg.name)),
    }
    out.push_str(" ...]");
}

fn hint_for_arg(out: &mut String, node: &mut Node) {
    if node.matched_all {
        return;
    }
    let bracket = node.optional() && node.matched == 0;
    if bracket {
        out.push('[');
    }
    if let Some(token) = node.arg.token {
        if !node.matched_token {
            push_or_empty(out, token);
            if node.arg.kind != "pure-token" {
                out.push(' ');
            }
        }
    }
    match node.arg.kind {
        "oneof" if node.matched == 0 => hint_for_args(out, &mut node.subs, "|"),
        "oneof" => {
            for sub in &mut node.subs {
                if sub.matched > 0 {
                    hint_for_arg(out, sub);
                }
            }
        }
        "block" => hint_for_args(out, &mut node.subs, " "),
        "pure-token" => {}
        _ => {
            if !node.matched_name {
                push_or_empty(out, node.arg.display.unwrap_or(node.arg.name));
            }
        }
    }
    hint_for_repeat(out, node);
    if bracket {
        out.push(']');
    }
}

/// The command a line names and how many of its words name it (2 for `CONFIG SET`).
fn command_of(words: &[Vec<u8>]) -> Option<(&'static CommandSpec, usize)> {
    let spec = commands::lookup(words.first()?)?;
    if let Some(sub) = words.get(1).and_then(|w| spec.subcommand(w)) {
        return Some((sub, 2));
    }
    Some((spec, 1))
}

/// The grey text redis-cli shows after the typed `line` (with the space it puts before it
/// when the line does not end in one); empty when it shows none.
pub fn hint(line: &str) -> String {
    let Some(words) = split_args(line) else {
        return String::new();
    };
    let ends_in_space = line.ends_with(|c: char| c.is_ascii_whitespace());
    let count = if ends_in_space {
        words.len()
    } else {
        words.len().saturating_sub(1)
    };
    let words = &words[..count];
    let Some((spec, name_len)) = command_of(words) else {
        return String::new();
    };
    // A container typed alone (`CONFIG `) waits for its subcommand: redis-cli shows nothing.
    if !spec.subcommands.is_empty() {
        return String::new();
    }
    let text = if spec.args.is_empty() {
        if words.len() > name_len {
            String::new()
        } else {
            spec.syntax.to_string()
        }
    } else {
        let mut nodes = Node::tree(spec.args);
        let typed = &words[name_len..];
        let mut input = Input {
            words: typed,
            owner: vec![None; typed.len()],
        };
        if input.match_args(0, &mut nodes) != typed.len() {
            return String::new();
        }
        let mut out = String::new();
        hint_for_args(&mut out, &mut nodes, " ");
        // redis-cli leaves a separator after an argument whose followers were all typed;
        // the terminal shows it as nothing, the page trims it.
        out.truncate(out.trim_end().len());
        out
    };
    if text.is_empty() {
        return text;
    }
    if ends_in_space {
        text
    } else {
        format!(" {text}")
    }
}

/// Where the word under the caret starts, and the word decoded as redis-cli would read it
/// once closed; `None` when the text before it does not split (a stray quote).
fn last_word(before: &str) -> Option<(usize, Vec<Vec<u8>>, Vec<u8>)> {
    let bytes = before.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            start = i + 1;
            i += 1;
        } else if b == b'"' || b == b'\'' {
            // A quoted word: skip to its closing quote (escapes included).
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b {
                if bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
    let start = start.min(bytes.len());
    let prior = split_args(before.get(..start)?)?;
    let raw = before.get(start..)?;
    let word = match raw.as_bytes().first() {
        None => Vec::new(),
        Some(&q @ (b'"' | b'\'')) => match split_args(raw) {
            Some(mut closed) if closed.len() == 1 => closed.pop()?,
            _ => split_args(&format!("{raw}{}", q as char))?.pop()?,
        },
        Some(_) if raw.contains(['"', '\'']) => return None,
        Some(_) => raw.as_bytes().to_vec(),
    };
    Some((start, prior, word))
}

/// Whether the word after `prior` (command name first) would be a key argument.
fn is_key_position(prior: &[Vec<u8>], word: &[u8]) -> bool {
    let Some((spec, name_len)) = command_of(prior) else {
        return false;
    };
    if prior.len() < name_len || !spec.subcommands.is_empty() {
        return false;
    }
    if spec.args.is_empty() {
        let (first, last, step) = spec.keys;
        let at = prior.len() as i32;
        return first > 0
            && at >= first
            && (last < 0 || at <= last)
            && (at - first) % step.max(1) == 0;
    }
    let mut words: Vec<Vec<u8>> = prior[name_len..].to_vec();
    words.push(word.to_vec());
    let mut nodes = Node::tree(spec.args);
    let mut input = Input {
        owner: vec![None; words.len()],
        words: &words,
    };
    input.match_args(0, &mut nodes) == words.len() && input.owner.last() == Some(&Some("key"))
}

/// What Tab offers for a key argument.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KeyCompletion {
    /// The text before the caret that the completion replaces (the word as typed).
    pub replace: String,
    /// What to put in its place when Tab is pressed: the one key, quoted if it must be,
    /// followed by a space; or the prefix all matching keys share.
    pub insert: String,
    /// Matching keys as they would be typed, sorted, at most the limit asked for.
    pub keys: Vec<String>,
    /// How many keys match in all.
    pub total: usize,
}

/// A key as it must be typed on a redis-cli line: as is if it splits back to itself,
/// otherwise double-quoted with escapes. `open` leaves a quoted word unclosed (a prefix the
/// student goes on typing).
pub fn typed_form(key: &[u8], open: bool) -> String {
    let plain = !key.is_empty()
        && std::str::from_utf8(key).is_ok_and(|s| {
            !s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'')
        });
    if plain {
        return String::from_utf8_lossy(key).into_owned();
    }
    let mut out = String::from("\"");
    for chunk in key.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if !open {
        out.push('"');
    }
    out
}

fn is_live(entry: &Entry, now: Millis) -> bool {
    entry.expire_at.is_none_or(|at| at > now)
}

/// Keys of database `db` starting with `prefix`: the first `limit` found (sorted), the
/// prefix all of them share and how many there are. One pass over the keys without
/// allocating for those that do not match (a million keys take milliseconds).
pub fn keys_with_prefix(
    server: &Server,
    db: usize,
    prefix: &[u8],
    limit: usize,
    now: Millis,
) -> (Vec<Vec<u8>>, Vec<u8>, usize) {
    let Some(database) = server.dbs.get(db) else {
        return (Vec::new(), Vec::new(), 0);
    };
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut shared: Option<&[u8]> = None;
    let mut total = 0;
    for (key, entry) in database.iter() {
        if !key.starts_with(prefix) || !is_live(entry, now) {
            continue;
        }
        total += 1;
        shared = Some(match shared {
            None => key,
            Some(s) => {
                let n = s.iter().zip(key.iter()).take_while(|(a, b)| a == b).count();
                &s[..n]
            }
        });
        if found.len() < limit {
            found.push(key.clone());
        }
    }
    crate::sort::sort(&mut found);
    let mut shared = shared.unwrap_or_default().to_vec();
    // Never cut a character in two: a prefix ending inside one would show as `\xHH`.
    if let Err(e) = std::str::from_utf8(&shared) {
        if e.error_len().is_none() {
            shared.truncate(e.valid_up_to());
        }
    }
    (found, shared, total)
}

/// Completion of the key under the caret (`before` is the line up to it), or `None` when
/// the word there is not a key argument.
pub fn complete_key(
    server: &Server,
    db: usize,
    before: &str,
    limit: usize,
    now: Millis,
) -> Option<KeyCompletion> {
    let (start, prior, word) = last_word(before)?;
    if prior.is_empty() || !is_key_position(&prior, &word) {
        return None;
    }
    let (keys, shared, total) = keys_with_prefix(server, db, &word, limit, now);
    let insert = match keys.as_slice() {
        [one] if total == 1 => format!("{} ", typed_form(one, false)),
        _ if total == 0 => before.get(start..)?.to_string(),
        _ => typed_form(&shared, true),
    };
    Some(KeyCompletion {
        replace: before.get(start..)?.to_string(),
        insert,
        keys: keys.iter().map(|k| typed_form(k, false)).collect(),
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases from redis-cli's own hint suite (valkey's `test_cli_hint_suite.txt`), with the
    /// argument specs of the server the table was generated from (SET's IFEQ is there).
    #[test]
    fn hints_follow_redis_cli() {
        let cases: &[(&str, &str)] = &[
            ("GET ", "key"),
            ("GET abc ", ""),
            ("DECRBY xyz 2 ", ""),
            ("DECRBY xyz ", "decrement"),
            ("DECRBY ", "key decrement"),
            ("LPOP key ", "[count]"),
            ("LPOP key 3 ", ""),
            ("XRANGE ", "key start end [COUNT count]"),
            ("XRANGE k 4 2 ", "[COUNT count]"),
            ("XRANGE k 4 2 COU", " [COUNT count]"),
            ("XRANGE k 4 2 COUNT", " [COUNT count]"),
            ("XRANGE k 4 2 COUNT ", "count"),
            ("CONFIG SET param ", "value [parameter value ...]"),
            ("CONFIG SET param val ", "[parameter value ...]"),
            ("CONFIG SET param val param2 val2 ", "[parameter value ...]"),
            ("ZRANDMEMBER k ", "[count [WITHSCORES]]"),
            ("ZRANDMEMBER k 3 ", "[WITHSCORES]"),
            ("ZRANDMEMBER k 3 WI", " [WITHSCORES]"),
            ("ZRANDMEMBER k 3 WITHSCORES ", ""),
            ("ZRANDMEMBER k cnt ", ""),
            ("MGET ", "key [key ...]"),
            ("MGET k ", "[key ...]"),
            ("MGET k k ", "[key ...]"),
            ("SCAN 2 MATCH ", "pattern [COUNT count] [TYPE type]"),
            ("SCAN 2 COUNT ", "count [MATCH pattern] [TYPE type]"),
            ("BLMOVE src dst LEFT ", "LEFT|RIGHT timeout"),
            ("ZRANGE k 1 2 bylex rev ", "[LIMIT offset count] [WITHSCORES]"),
            ("ZRANGE k 1 2 limit 2 4 ", "[BYSCORE|BYLEX] [REV] [WITHSCORES]"),
            ("ZRANGE k 1 2 bylex rev limit 2 4 WITHSCORES ", ""),
            ("ZRANGE k 1 2 WITHSCORES ", "[BYSCORE|BYLEX] [REV] [LIMIT offset count]"),
            (
                "SET key value ",
                "[NX|XX|IFEQ comparison-value] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
            ),
            ("SET key value EX ", "seconds [NX|XX|IFEQ comparison-value] [GET]"),
            ("SET key value EX 23 ", "[NX|XX|IFEQ comparison-value] [GET]"),
            ("SET key value PXAT ", "unix-time-milliseconds [NX|XX|IFEQ comparison-value] [GET]"),
            ("SET key value KEEPTTL ", "[NX|XX|IFEQ comparison-value] [GET]"),
            (
                "SET key value XX ",
                "[GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
            ),
            ("SET key value FOOBAR ", ""),
            ("SET key value EX sec ", ""),
            ("GEORADIUS key 1 X ", ""),
            ("ZADD key ", "[NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"),
            ("ZADD key CH LT ", "[NX|XX] [INCR] score member [score member ...]"),
            ("ZADD key 0 ", "member [score member ...]"),
            ("ZADD key 0 m ", "[score member ...]"),
            // Scores are read as C reads a double: `-.5`, `inf` are numbers, `x` is not.
            ("ZADD key -.5 ", "member [score member ...]"),
            ("ZADD key +inf ", "member [score member ...]"),
            ("ZADD key x ", ""),
            ("GEORADIUS key 1 -2.345 3 M COUNT 12 ", "[ANY] [WITHCOORD] [WITHDIST] [WITHHASH] [ASC|DESC] [STORE key|STOREDIST key]"),
            ("GEOSEARCH k FROMLONLAT 2.34 4.45 BYRADIUS badvalue ", ""),
            // Before the space the last word is not matched; the hint starts with one.
            ("GET", ""),
            ("get k", " key"),
            ("nosuchcommand ", ""),
            ("SET \"unbalanced ", ""),
            ("", ""),
        ];
        for (line, want) in cases {
            assert_eq!(hint(line), *want, "{line:?}");
        }
    }

    #[test]
    fn hints_for_long_commands() {
        assert_eq!(
            hint("SET k "),
            "value [NX|XX|IFEQ comparison-value] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"
        );
        let xadd = hint("XADD s ");
        assert!(xadd.starts_with("[NOMKSTREAM]"), "{xadd}");
        assert!(
            xadd.ends_with("*|id field value [field value ...]"),
            "{xadd}"
        );
        assert_eq!(hint("XADD s * f v "), "[field value ...]");
        let geosearch = hint("GEOSEARCH k ");
        assert!(geosearch.starts_with("[FROMMEMBER member|FROMLONLAT longitude latitude] BYRADIUS radius M|KM|FT|MI|BYBOX"), "{geosearch}");
        assert_eq!(hint("GEOSEARCH k FROMMEMBER m BYRADIUS 5 km ASC WITHCOORD WITHDIST WITHHASH COUNT 3 ANY "), "");
        // A module command has no argument specs: its help syntax until an argument comes.
        assert_eq!(
            hint("JSON.GET "),
            commands::lookup(b"json.get")
                .map(|s| s.syntax)
                .unwrap_or_default()
        );
        assert_eq!(hint("JSON.GET k "), "");
    }

    /// Every command of the table: a hint once its name is typed exactly when it has
    /// arguments to describe, and no panic on odd words after it.
    #[test]
    fn every_command_hints_from_its_own_row() {
        let words = [
            "", "k", "1", "-2.5", "GET", "\"q w\"", "NX", "*", "COUNT 3", "x y z",
        ];
        for spec in commands::TABLE {
            let name = spec.name.to_ascii_uppercase();
            let subs: Vec<String> = if spec.subcommands.is_empty() {
                vec![name.clone()]
            } else {
                spec.subcommands
                    .iter()
                    .map(|s| format!("{name} {}", s.sub_name().to_ascii_uppercase()))
                    .collect()
            };
            for line in &subs {
                let (sub, _) = command_of(&split_args(line).unwrap_or_default()).unwrap();
                let empty = sub.args.is_empty() && sub.syntax.is_empty();
                assert_eq!(hint(&format!("{line} ")).is_empty(), empty, "{line}");
                for a in words {
                    for b in words {
                        let _ = hint(&format!("{line} {a} {b} "));
                        let _ = hint(&format!("{line} {a} {b}"));
                    }
                }
            }
        }
    }

    fn server_with(keys: &[&[u8]]) -> Server {
        let mut server = Server::new();
        for key in keys {
            let reply = server.execute(&[b"SET".to_vec(), key.to_vec(), b"v".to_vec()], 0);
            assert!(!reply.is_error());
        }
        server
    }

    fn complete(server: &Server, before: &str) -> Option<KeyCompletion> {
        complete_key(server, 0, before, 10, 0)
    }

    #[test]
    fn completes_keys_only_where_a_key_goes() {
        let server = server_with(&[b"user:1", b"user:2", b"users", b"other"]);
        let c = complete(&server, "GET us").unwrap();
        assert_eq!(
            (c.replace.as_str(), c.insert.as_str(), c.total),
            ("us", "user", 3)
        );
        assert_eq!(c.keys, vec!["user:1", "user:2", "users"]);
        assert_eq!(complete(&server, "get oth").unwrap().insert, "other ");
        assert_eq!(complete(&server, "MGET other user:").unwrap().total, 2);
        assert_eq!(
            complete(&server, "SORT l STORE oth").unwrap().insert,
            "other "
        );
        // Values, counts and the command name are not keys.
        assert_eq!(complete(&server, "SET other us"), None);
        assert_eq!(complete(&server, "LPOP other 3"), None);
        assert_eq!(complete(&server, "us"), None);
        assert_eq!(complete(&server, "ZADD k 1 us"), None);
        // Containers: the key after the subcommand.
        assert_eq!(
            complete(&server, "OBJECT ENCODING oth").unwrap().insert,
            "other "
        );
        assert_eq!(complete(&server, "OBJECT oth"), None);
        // Nothing matches: the word stays.
        let none = complete(&server, "GET zz").unwrap();
        assert_eq!((none.insert.as_str(), none.total), ("zz", 0));
        // An empty word lists every key.
        assert_eq!(complete(&server, "GET ").unwrap().total, 4);
    }

    #[test]
    fn keys_needing_quotes_complete_quoted() {
        let server = server_with(&[
            b"my key",
            b"my kite",
            b"say \"hi\"",
            b"it's",
            b"caf\xc3\xa9",
        ]);
        assert_eq!(complete(&server, "GET my").unwrap().insert, "\"my k");
        assert_eq!(
            complete(&server, "GET \"my ke").unwrap().insert,
            "\"my key\" "
        );
        assert_eq!(complete(&server, "GET \"my k").unwrap().replace, "\"my k");
        assert_eq!(
            complete(&server, "GET say").unwrap().insert,
            "\"say \\\"hi\\\"\" "
        );
        assert_eq!(complete(&server, "GET it").unwrap().insert, "\"it's\" ");
        assert_eq!(complete(&server, "GET 'it").unwrap().insert, "\"it's\" ");
        assert_eq!(complete(&server, "GET ca").unwrap().insert, "café ");
        // The typed forms split back to the keys.
        for key in ["my key", "say \"hi\"", "it's", "a\tb\x01", ""] {
            let typed = typed_form(key.as_bytes(), false);
            assert_eq!(
                split_args(&typed),
                Some(vec![key.as_bytes().to_vec()]),
                "{typed}"
            );
        }
        assert_eq!(typed_form(b"\xff\xfe", false), "\"\\xff\\xfe\"");
    }

    #[test]
    fn shared_prefix_covers_every_match_not_just_those_listed() {
        let server = server_with(&[b"k:a1", b"k:a2", b"k:b"]);
        let (found, shared, total) = keys_with_prefix(&server, 0, b"k", 1, 0);
        assert_eq!((found.len(), shared.as_slice(), total), (1, &b"k:"[..], 3));
        let server = server_with(&[b"\xc3\xa9a", b"\xc3\xa8b"]);
        assert_eq!(keys_with_prefix(&server, 0, b"", 5, 0).1, b"");
        assert_eq!(keys_with_prefix(&server, 9, b"", 5, 0).2, 0);
    }

    #[test]
    fn expired_keys_are_not_offered() {
        let mut server = server_with(&[b"gone", b"kept"]);
        let reply = server.execute(&[b"PEXPIRE".to_vec(), b"gone".to_vec(), b"10".to_vec()], 0);
        assert!(!reply.is_error());
        assert_eq!(keys_with_prefix(&server, 0, b"", 5, 5).2, 2);
        assert_eq!(
            keys_with_prefix(&server, 0, b"", 5, 20).0,
            vec![b"kept".to_vec()]
        );
    }
}
