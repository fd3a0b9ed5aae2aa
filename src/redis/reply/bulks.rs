//! A flat aggregate of bulk strings kept in one buffer: the reply of HGETALL, HKEYS, HVALS,
//! SMEMBERS, LRANGE, KEYS and ZRANGE. Built as a `Reply::Array` of `Reply::Bulk`, a million
//! items meant two million allocations in one task (and as many frees when the reply was
//! dropped), which held the page for longer than a frame many times over. Here the items
//! are copied end to end into one byte buffer, with their end offsets beside it: two
//! allocations whatever the count. Every consumer reads it as the aggregate it stands for
//! (`Bulks::expand` gives that aggregate where a consumer needs the tree).
//!
//! A sorted set's members with their scores keep each score as the number: writing a
//! million scores' text was most of `ZRANGE … WITHSCORES`'s time, and the console writes
//! only the part it shows. The score is copied when the command runs, so the reply is still
//! the data as it was then.

use std::borrow::Cow;
use std::fmt::Write;

use super::{quote_bytes, Reply};
use crate::redis::types::zset::ScoreText;

/// Which aggregate the items make: an array, a RESP3 set, a RESP3 map whose keys and
/// values alternate, or an array of two-item arrays made of them (ZMPOP's member and score
/// pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Array,
    Set,
    Map,
    Pairs,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bulks {
    shape: Shape,
    data: Vec<u8>,
    /// Where each member ends in `data`; member `i` starts where member `i - 1` ends.
    ends: Vec<usize>,
    /// Empty, or the score of each member (`push_scored`): the items are then each member
    /// followed by its score's text.
    scores: Vec<f64>,
}

impl Bulks {
    /// An empty array with room for `items` items of `bytes` bytes together.
    pub fn with_capacity(items: usize, bytes: usize) -> Bulks {
        Bulks {
            shape: Shape::Array,
            data: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(items),
            scores: Vec::new(),
        }
    }

    /// The items in one buffer, which grows as they come (sizing it first would walk them
    /// twice, and cost code in each command that lists).
    pub fn from_items<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>) -> Bulks {
        let mut out = Bulks::with_capacity(items.len(), 0);
        for item in items {
            out.push(item);
        }
        out
    }

    /// The reply: an empty array as handlers have always answered it, else these items.
    pub fn into_reply(self) -> Reply {
        if self.is_empty() && self.shape == Shape::Array {
            Reply::Array(Vec::new())
        } else {
            Reply::Bulks(Box::new(self))
        }
    }

    /// Appends an item. Not after `push_scored`: one aggregate holds one kind.
    pub fn push(&mut self, item: &[u8]) {
        self.data.extend_from_slice(item);
        self.ends.push(self.data.len());
    }

    /// Appends items laid end to end in `data`, item `i` ending at `ends[i]` (a list's
    /// chunk), in one copy.
    pub fn push_run(&mut self, data: &[u8], ends: &[usize]) {
        let base = self.data.len();
        self.data.extend_from_slice(data);
        self.ends.extend(ends.iter().map(|end| base + end));
    }

    /// Appends a member and then its score, as `format_score` writes it; the text is
    /// written only when the item is read. Not after `push`.
    pub fn push_scored(&mut self, member: &[u8], score: f64) {
        self.push(member);
        self.scores.push(score);
    }

    /// Appends the decimal digits of `n`, as `int_bytes` or `format_score` would write them,
    /// without the allocation and the formatting machinery those cost per item.
    pub fn push_int(&mut self, n: i64) {
        self.push(super::decimal(n, &mut [0; 21]));
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The bulk strings held (a map's keys and values both count, and so do scores).
    pub fn len(&self) -> usize {
        self.ends.len() + self.scores.len()
    }

    /// Whether the aggregate has no elements (a map of one unpaired key has none).
    pub fn is_empty(&self) -> bool {
        self.cli_items() == 0
    }

    /// Item `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<Cow<'_, [u8]>> {
        match self.score_at(i) {
            Some(score) => Some(Cow::Owned(ScoreText::new(score).as_bytes().to_vec())),
            None => self.member(self.member_index(i)).map(Cow::Borrowed),
        }
    }

    /// The score item `i` is, if it is one.
    fn score_at(&self, i: usize) -> Option<f64> {
        if self.scores.is_empty() || i.is_multiple_of(2) {
            None
        } else {
            self.scores.get(i / 2).copied()
        }
    }

    /// Which member item `i` is (when it is not a score).
    fn member_index(&self, i: usize) -> usize {
        if self.scores.is_empty() {
            i
        } else {
            i / 2
        }
    }

    fn member(&self, j: usize) -> Option<&[u8]> {
        let end = *self.ends.get(j)?;
        let start = match j.checked_sub(1) {
            Some(prev) => *self.ends.get(prev)?,
            None => 0,
        };
        self.data.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }

    /// Item `i` as redis-cli quotes it, a score written straight from the number.
    fn quote_item(&self, i: usize, out: &mut String) {
        match self.score_at(i) {
            // A score's text is plain ASCII: nothing in it is escaped.
            Some(score) => {
                out.push('"');
                out.push_str(
                    std::str::from_utf8(ScoreText::new(score).as_bytes()).unwrap_or_default(),
                );
                out.push('"');
            }
            None => quote_bytes(self.member(self.member_index(i)).unwrap_or_default(), out),
        }
    }

    /// Makes an array the same items as a RESP3 set or map (`Shape::Set`, `Shape::Map`).
    /// A map's keys and values alternate; a last key without a value is never read, as
    /// `resp3::map` leaves it out of a flat array.
    pub fn reshape(&mut self, shape: Shape) {
        if self.shape == Shape::Array {
            self.shape = shape;
        }
    }

    #[cfg(test)]
    fn into_set(mut self) -> Bulks {
        self.reshape(Shape::Set);
        self
    }

    #[cfg(test)]
    fn reshaped(mut self, shape: Shape) -> Bulks {
        self.reshape(shape);
        self
    }

    #[cfg(test)]
    fn into_map(mut self) -> Bulks {
        self.reshape(Shape::Map);
        self
    }

    /// The aggregate these items stand for, as a tree of `Reply::Bulk`s.
    pub fn expand(&self) -> Reply {
        let mut items = self.iter().map(|item| Reply::Bulk(item.into_owned()));
        let (mut pairs, mut arrays) = (Vec::new(), Vec::new());
        match self.shape {
            Shape::Array => return Reply::Array(items.collect()),
            Shape::Set => return Reply::Set(items.collect()),
            _ => {}
        }
        while let (Some(k), Some(v)) = (items.next(), items.next()) {
            match self.shape {
                Shape::Pairs => arrays.push(Reply::Array(vec![k, v])),
                _ => pairs.push((k, v)),
            }
        }
        match self.shape {
            Shape::Pairs => Reply::Array(arrays),
            _ => Reply::Map(pairs),
        }
    }

    /// Top-level elements as redis-cli counts them: a map's pairs, any other's items.
    pub fn cli_items(&self) -> usize {
        match self.shape {
            Shape::Map | Shape::Pairs => self.len() / 2,
            Shape::Array | Shape::Set => self.len(),
        }
    }

    /// Lines `write_cli` writes: one an element, two for a pair's array.
    pub fn cli_lines(&self) -> usize {
        match self.shape {
            _ if self.is_empty() => 1,
            Shape::Pairs => 2 * self.cli_items(),
            _ => self.cli_items(),
        }
    }

    /// `format_tty` of the aggregate: each element one line, a bulk never spanning two.
    pub(super) fn write_cli(&self, prefix: &str, out: &mut String) {
        if self.is_empty() {
            out.push_str(match self.shape {
                Shape::Array | Shape::Pairs => "(empty array)\n",
                Shape::Set => "(empty set)\n",
                Shape::Map => "(empty hash)\n",
            });
            return;
        }
        self.write_cli_items(prefix, 0, self.cli_items(), out);
    }

    /// Top-level elements `from..to` (clamped), indexes aligned to the widest of the whole.
    pub(super) fn write_cli_items(&self, prefix: &str, from: usize, to: usize, out: &mut String) {
        let count = self.cli_items();
        let width = count.to_string().len();
        let separator = match self.shape {
            Shape::Array | Shape::Pairs => ')',
            Shape::Set => '~',
            Shape::Map => '#',
        };
        let per = if matches!(self.shape, Shape::Map | Shape::Pairs) {
            2
        } else {
            1
        };
        // A pair's array continues on the element's line, its second item under its first.
        let second = match self.shape {
            Shape::Pairs => format!("\n{prefix}{:width$}  2) ", ""),
            _ => " => ".to_string(),
        };
        let first = if self.shape == Shape::Pairs {
            "1) "
        } else {
            ""
        };
        for i in from..to.min(count) {
            let lead = if i == 0 { "" } else { prefix };
            let _ = write!(out, "{lead}{:>width$}{separator} {first}", i + 1);
            self.quote_item(i * per, out);
            if per == 2 {
                out.push_str(&second);
                self.quote_item(i * per + 1, out);
            }
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::resp3;

    /// Items with every byte redis-cli escapes, an empty one, and invalid UTF-8.
    fn items(n: usize) -> Vec<Vec<u8>> {
        let odd: [&[u8]; 6] = [
            b"",
            b"a\"b\\c",
            b"\n\r\t\x07\x08",
            b"\x00\xff\xfe",
            "é".as_bytes(),
            b"plain",
        ];
        (0..n)
            .map(|i| match odd.get(i) {
                Some(item) => item.to_vec(),
                None => format!("v{i}").into_bytes(),
            })
            .collect()
    }

    /// A `Bulks` in each shape of `n` items, with the tree of `Bulk`s it stands for, built
    /// independently of `expand`.
    fn both(n: usize) -> Vec<(Reply, Reply)> {
        let items = items(n);
        let bulks = Bulks::from_items(items.iter().map(Vec::as_slice));
        let tree: Vec<Reply> = items.iter().cloned().map(Reply::Bulk).collect();
        let pairs: Vec<(Reply, Reply)> = tree
            .chunks_exact(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect();
        vec![
            (
                Reply::Bulks(Box::new(bulks.clone())),
                Reply::Array(tree.clone()),
            ),
            (
                Reply::Bulks(Box::new(bulks.clone().into_set())),
                Reply::Set(tree),
            ),
            (
                Reply::Bulks(Box::new(bulks.clone().into_map())),
                Reply::Map(pairs.clone()),
            ),
            (
                Reply::Bulks(Box::new(bulks.reshaped(Shape::Pairs))),
                Reply::Array(
                    pairs
                        .into_iter()
                        .map(|(k, v)| Reply::Array(vec![k, v]))
                        .collect(),
                ),
            ),
        ]
    }

    /// Every place a reply can sit: alone, in an array (EXEC), as a map's value, several
    /// replies in a row.
    fn placed(reply: &Reply) -> Vec<Reply> {
        vec![
            reply.clone(),
            Reply::Array(vec![Reply::ok(), reply.clone(), Reply::Integer(7)]),
            Reply::Map(vec![(Reply::bulk("k"), reply.clone())]),
            Reply::Many(vec![reply.clone(), reply.clone()]),
        ]
    }

    #[test]
    fn redis_cli_text_is_the_text_of_the_array_it_stands_for() {
        for n in [0, 1, 2, 5, 6, 9, 10, 11, 101, 1_234] {
            for (flat, tree) in both(n) {
                assert_eq!(flat, tree);
                assert_eq!(flat.clone().expand_all(), tree);
                for (flat, tree) in placed(&flat).iter().zip(placed(&tree)) {
                    let text = tree.to_cli_text();
                    assert_eq!(flat.to_cli_text(), text, "{n} {tree:?}");
                    assert_eq!(flat.cli_lines(), tree.cli_lines(), "{text}");
                    assert_eq!(flat.cli_items(), tree.cli_items(), "{text}");
                    // In parts, as the console asks for them.
                    let mut parts = String::new();
                    let mut from = 0;
                    for step in [1, 3, 200, 2_000, usize::MAX] {
                        flat.write_cli_items(from, from.saturating_add(step), &mut parts);
                        from = from.saturating_add(step);
                    }
                    let mut whole = String::new();
                    tree.write_cli_items(0, usize::MAX, &mut whole);
                    assert_eq!(parts, whole);
                }
            }
        }
    }

    /// Scores kept as numbers read, print and split into parts as their text would.
    #[test]
    fn scores_kept_as_numbers_read_as_their_text() {
        use crate::redis::types::zset::format_score;
        let scores = [
            0.1,
            -3.0,
            2.5,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.225,
            1.0 / 3.0,
            -0.0,
            5e-324,
            1.5e-7,
            123_456_789.125,
        ];
        let members = items(scores.len());
        for n in [0, 1, 2, 5, 12] {
            let (mut scored, mut text) = (Bulks::with_capacity(0, 0), Bulks::with_capacity(0, 0));
            for (m, s) in members.iter().zip(scores).cycle().take(n * 97) {
                scored.push_scored(m, s);
                text.push(m);
                text.push(format_score(s).as_bytes());
            }
            assert!(scored.iter().eq(text.iter()));
            for shape in [Shape::Array, Shape::Pairs] {
                let scored = Reply::Bulks(Box::new(scored.clone().reshaped(shape)));
                let text = Reply::Bulks(Box::new(text.clone().reshaped(shape)));
                assert_eq!(scored, text);
                for (scored, text) in placed(&scored).iter().zip(placed(&text)) {
                    let whole = text.to_cli_text();
                    assert_eq!(scored.to_cli_text(), whole);
                    assert_eq!(scored.cli_lines(), text.cli_lines());
                    let mut parts = String::new();
                    let mut from = 0;
                    for step in [1, 3, 200, usize::MAX] {
                        scored.write_cli_items(from, from.saturating_add(step), &mut parts);
                        from = from.saturating_add(step);
                    }
                    let mut all = String::new();
                    text.write_cli_items(0, usize::MAX, &mut all);
                    assert_eq!(parts, all);
                }
            }
        }
    }

    #[test]
    fn binary_members_print_with_escapes() {
        let (flat, _) = both(6).swap_remove(2);
        assert_eq!(
            flat.to_cli_text(),
            "1# \"\" => \"a\\\"b\\\\c\"\n\
             2# \"\\n\\r\\t\\a\\b\" => \"\\x00\\xff\\xfe\"\n\
             3# \"\\xc3\\xa9\" => \"plain\"\n"
        );
        let empty = Bulks::with_capacity(0, 0);
        let text = |bulks: Bulks| Reply::Bulks(Box::new(bulks)).to_cli_text();
        assert_eq!(text(empty.clone()), "(empty array)\n");
        assert_eq!(text(empty.clone().into_set()), "(empty set)\n");
        assert_eq!(text(empty.into_map()), "(empty hash)\n");
    }

    /// What a RESP3 client gets: the same shaping, the same text, for every command that
    /// answers in one buffer.
    #[test]
    fn resp3_shapes_match_those_of_the_array() {
        let commands: [&[&str]; 9] = [
            &["HGETALL", "h"],
            &["HKEYS", "h"],
            &["SMEMBERS", "s"],
            &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
            &["ZRANGE", "z", "0", "-1"],
            &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"],
            &["ZRANGEBYLEX", "z", "-", "+"],
            &["LRANGE", "l", "0", "-1"],
            &["KEYS", "*"],
        ];
        for n in [0, 1, 4, 5, 12] {
            let (flat, tree) = both(n).swap_remove(0);
            for argv in commands {
                let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
                let name = String::from_utf8_lossy(&argv[0]).to_lowercase();
                let shaped = resp3::shape(&name, &argv, flat.clone());
                let expected = resp3::shape(&name, &argv, tree.clone());
                assert_eq!(shaped, expected, "{name} {n}");
                assert_eq!(shaped.to_cli_text(), expected.to_cli_text(), "{name} {n}");
            }
        }
    }

    #[test]
    fn a_map_drops_a_last_key_without_value_as_resp3_does() {
        let (flat, tree) = both(5).swap_remove(0);
        let argv = [b"hgetall".to_vec(), b"h".to_vec()];
        let Reply::Bulks(map) = resp3::shape("hgetall", &argv, flat) else {
            panic!("a map of bulks stays one buffer");
        };
        assert_eq!((map.shape(), map.cli_items()), (Shape::Map, 2));
        let expected = resp3::shape("hgetall", &argv, tree);
        assert_eq!(
            Reply::Bulks(map.clone()).to_cli_text(),
            expected.to_cli_text()
        );
        assert_eq!(Reply::Bulks(map), expected);
    }

    #[test]
    fn items_read_back_as_pushed() {
        let items = items(20);
        let mut bulks = Bulks::with_capacity(0, 0);
        for item in &items {
            bulks.push(item);
        }
        assert_eq!(bulks, Bulks::from_items(items.iter().map(Vec::as_slice)));
        assert!(bulks.iter().eq(items.iter().map(Vec::as_slice)));
        assert_eq!(bulks.get(3).as_deref(), Some(&b"\x00\xff\xfe"[..]));
        assert_eq!(bulks.get(20), None);
        assert_eq!(
            bulks.into_reply().expand(),
            Reply::Array(items.into_iter().map(Reply::Bulk).collect())
        );
        assert!(matches!(Bulks::with_capacity(0, 0).into_reply(), Reply::Array(a) if a.is_empty()));
    }

    #[test]
    fn integers_are_written_as_decimal_text() {
        let numbers = [0, 7, -7, 10, 512, -1_000_000, i64::MAX, i64::MIN];
        let mut bulks = Bulks::with_capacity(0, 0);
        for n in numbers {
            bulks.push_int(n);
        }
        let texts: Vec<String> = numbers.iter().map(i64::to_string).collect();
        assert!(bulks.iter().eq(texts.iter().map(|t| t.as_bytes())));
    }

    /// Through the server, as the real one answers (recorded with `redis-cli --no-raw`
    /// against valkey 9.1): the console in RESP2 and RESP3, scripts, and transactions.
    #[test]
    fn commands_answer_as_the_real_server_on_every_path() {
        use crate::redis::testing::run_as;
        use crate::redis::Server;
        let mut server = Server::new();
        let setup = [
            r#"HSET h "" "a\"b" "\n\t" "\x00\xff" f v"#,
            r#"SADD s "\xc3\xa9" "" m"#,
            r#"RPUSH l "" "\x01" x"#,
            r#"ZADD z 1 a 2.5 "\xfe" -3 """#,
            "MSET k1 1",
        ];
        for line in setup {
            run_as(&mut server, 1, line, 0);
        }
        let hash = "1) \"\"\n2) \"a\\\"b\"\n3) \"\\n\\t\"\n4) \"\\x00\\xff\"\n5) \"f\"\n6) \"v\"\n";
        let zset = "1) \"\"\n2) \"-3\"\n3) \"a\"\n4) \"1\"\n5) \"\\xfe\"\n6) \"2.5\"\n";
        let resp2 = [
            ("HGETALL h", hash),
            ("EVAL \"return redis.call('HGETALL', KEYS[1])\" 1 h", hash),
            ("EVAL \"redis.setresp(3); return redis.call('HGETALL', KEYS[1])\" 1 h", hash),
            ("EVAL \"return redis.call('LRANGE', KEYS[1], 0, -1)\" 1 l", "1) \"\"\n2) \"\\x01\"\n3) \"x\"\n"),
            ("EVAL \"return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\" 1 z", zset),
            ("EVAL \"local t = redis.call('HKEYS', KEYS[1]); return #t\" 1 h", "(integer) 3\n"),
            ("ZRANGE z 0 -1 WITHSCORES", zset),
            ("ZRANGE nokey 0 -1", "(empty array)\n"),
            ("KEYS nomatch*", "(empty array)\n"),
            ("MULTI", "OK\n"),
            ("HVALS h", "QUEUED\n"),
            ("ZRANGE z 0 -1 WITHSCORES", "QUEUED\n"),
            ("KEYS k*", "QUEUED\n"),
            (
                "EXEC",
                "1) 1) \"a\\\"b\"\n   2) \"\\x00\\xff\"\n   3) \"v\"\n\
                 2) 1) \"\"\n   2) \"-3\"\n   3) \"a\"\n   4) \"1\"\n   5) \"\\xfe\"\n   6) \"2.5\"\n\
                 3) 1) \"k1\"\n",
            ),
        ];
        let resp3 = [
            ("HGETALL h", "1# \"\" => \"a\\\"b\"\n2# \"\\n\\t\" => \"\\x00\\xff\"\n3# \"f\" => \"v\"\n"),
            ("SMEMBERS s", "1~ \"\\xc3\\xa9\"\n2~ \"\"\n3~ \"m\"\n"),
            (
                "ZRANGE z 0 -1 WITHSCORES",
                "1) 1) \"\"\n   2) (double) -3\n2) 1) \"a\"\n   2) (double) 1\n3) 1) \"\\xfe\"\n   2) (double) 2.5\n",
            ),
            (
                "ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 1 2",
                "1) 1) \"a\"\n   2) (double) 1\n2) 1) \"\\xfe\"\n   2) (double) 2.5\n",
            ),
            ("MULTI", "OK\n"),
            ("HGETALL h", "QUEUED\n"),
            ("SMEMBERS s", "QUEUED\n"),
            ("LRANGE l 0 -1", "QUEUED\n"),
            (
                "EXEC",
                "1) 1# \"\" => \"a\\\"b\"\n   2# \"\\n\\t\" => \"\\x00\\xff\"\n   3# \"f\" => \"v\"\n\
                 2) 1~ \"\\xc3\\xa9\"\n   2~ \"\"\n   3~ \"m\"\n\
                 3) 1) \"\"\n   2) \"\\x01\"\n   3) \"x\"\n",
            ),
        ];
        for (line, text) in resp2 {
            assert_eq!(run_as(&mut server, 1, line, 0), text, "{line}");
        }
        run_as(&mut server, 1, "HELLO 3", 0);
        for (line, text) in resp3 {
            assert_eq!(run_as(&mut server, 1, line, 0), text, "{line} (RESP3)");
        }
    }

    /// A kept long reply is the data as it was when the command ran.
    #[test]
    fn a_kept_reply_is_a_snapshot() {
        use crate::clock::Clock;
        use crate::redis::{cli, Server};
        let mut server = Server::new();
        let mut clock = Clock::new();
        let fields: Vec<String> = (0..1_500).map(|i| format!("f{i} v{i}")).collect();
        cli::run_line_as(
            &mut server,
            &mut clock,
            1,
            &format!("HSET h {}", fields.join(" ")),
            0,
        );
        server.long_replies.defer_line(true);
        cli::run_line_as(&mut server, &mut clock, 1, "HGETALL h", 0);
        server.long_replies.stop_deferring();
        let kept = server.long_replies.last().cloned().expect("deferred");
        server.long_replies.defer_line(false);
        cli::run_line_as(&mut server, &mut clock, 1, "HSET h f1499 changed", 0);
        cli::run_line_as(&mut server, &mut clock, 1, "DEL h", 0);
        assert_eq!(
            server.long_replies.part(kept.id, 2_998, 2).as_deref(),
            Some("2999) \"f1499\"\n3000) \"v1499\"\n")
        );
    }
}
