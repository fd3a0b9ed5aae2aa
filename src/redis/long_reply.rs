//! Long replies the page's console receives in parts. The console shows the first lines of a
//! reply and the rest on request, so writing (and handing to the page) the whole text of a
//! million-item `HGETALL` at once was most of the time the tab froze for. With deferral on
//! (the console's own calls only), a reply of more than `DEFER_ITEMS` elements is written up
//! to `FIRST_ITEMS` of them and kept; the page asks for the next elements with `part`. The
//! parts written one after another are the reply's whole text, byte for byte. The elements
//! counted are the top-level ones, or, for a short array that ends in a long one (SCAN's
//! `[cursor, [items…]]`, LMPOP's `[key, [items…]]`, EXEC's replies), the ones before the last
//! and then the last one's own: those are the lines a million-item SCAN is made of.
//!
//! The command itself still runs at once (its reply is a snapshot of the data, as on the
//! server); only the writing waits. A few replies are kept, the newest, so that several long
//! entries in the log can each still show more; an older one is dropped, and asking for it
//! gets nothing. A loaded snapshot replaces the server, and with it the kept replies.

use std::collections::VecDeque;
use std::fmt::Write;

use super::reply::Reply;

/// Top-level elements above which a reply is kept rather than written whole.
pub const DEFER_ITEMS: usize = 1_000;
/// Elements written at once: the console's first view shows 200 lines.
pub const FIRST_ITEMS: usize = 200;
/// Replies kept, newest first, and the most top-level elements they may hold together
/// (the newest is kept whatever its size).
const KEPT_REPLIES: usize = 3;
const KEPT_ITEMS: usize = 3_000_000;

/// What the console needs to know of the reply its line left in parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    pub id: u32,
    /// Top-level elements, and how many the written text holds.
    pub items: usize,
    pub written: usize,
    /// Lines of the text not written yet.
    pub lines_left: usize,
}

#[derive(Debug, Default)]
pub struct LongReplies {
    /// Set for one console line at a time: the CLI, scripts and checks get whole replies.
    defer: bool,
    kept: VecDeque<(u32, Reply)>,
    next_id: u32,
    last: Option<Deferred>,
}

impl LongReplies {
    /// Defers the long replies of the line about to run (or stops deferring); forgets which
    /// reply the previous line deferred.
    pub fn defer_line(&mut self, on: bool) {
        self.defer = on;
        self.last = None;
    }

    /// Stops deferring for the rest of the line: a repeated command (`3 HGETALL h`) writes
    /// its replies one after another, and only a whole text keeps them in order.
    pub fn stop_deferring(&mut self) {
        self.defer = false;
    }

    /// The reply the last line deferred, if any.
    pub fn last(&self) -> Option<&Deferred> {
        self.last.as_ref()
    }

    /// Writes `reply` to `out`: whole, or, when deferring and it is long, its first elements,
    /// keeping it for `part`. Only one reply a line is deferred.
    pub fn write(&mut self, reply: Reply, out: &mut String) {
        let items = units(&reply);
        if !self.defer || items <= DEFER_ITEMS || self.last.is_some() {
            reply.write_cli_text(out);
            return;
        }
        let start = out.len();
        write_units(&reply, "", 0, FIRST_ITEMS, out);
        let lines_left = reply
            .cli_lines()
            .saturating_sub(count_lines(out.get(start..).unwrap_or_default()));
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.kept.push_front((id, reply));
        let mut held = 0;
        let mut keep = 0;
        for (_, kept) in &self.kept {
            if keep > 0 && (keep == KEPT_REPLIES || held + units(kept) > KEPT_ITEMS) {
                break;
            }
            held += units(kept);
            keep += 1;
        }
        self.kept.truncate(keep);
        self.last = Some(Deferred {
            id,
            items,
            written: FIRST_ITEMS,
            lines_left,
        });
    }

    /// The text of elements `from..from + count` of kept reply `id` (empty past its end), or
    /// None when that reply is no longer kept.
    pub fn part(&self, id: u32, from: usize, count: usize) -> Option<String> {
        let (_, reply) = self.kept.iter().find(|(kept, _)| *kept == id)?;
        let mut out = String::new();
        write_units(reply, "", from, from.saturating_add(count), &mut out);
        Some(out)
    }
}

/// The elements before the last of a short array whose last element is long, and that one.
fn nested(reply: &Reply) -> Option<(usize, &Reply)> {
    let Reply::Array(items) = reply else {
        return None;
    };
    let (last, head) = items.split_last()?;
    (items.len() <= DEFER_ITEMS && units(last) > DEFER_ITEMS).then_some((head.len(), last))
}

/// The elements a reply is written in parts by (see the module's comment); a long last
/// element may itself end in a long one (EXEC's reply to a SCAN).
fn units(reply: &Reply) -> usize {
    match nested(reply) {
        Some((head, last)) => head + units(last),
        None => reply.cli_items(),
    }
}

/// Elements `from..to` (clamped) of `units`, as the whole text has them; `prefix` starts
/// the later lines of a nested reply.
fn write_units(reply: &Reply, prefix: &str, from: usize, to: usize, out: &mut String) {
    let Some((head, last)) = nested(reply) else {
        reply.write_cli_items_under(prefix, from, to, out);
        return;
    };
    reply.write_cli_items_under(prefix, from, to.min(head), out);
    let (from, to) = (from.saturating_sub(head), to.saturating_sub(head));
    if from >= to {
        return;
    }
    // The last element's index, then its first element on the same line, as redis-cli
    // prints a nested array; its later elements are indented past the index.
    let width = (head + 1).to_string().len();
    if from == 0 {
        let lead = if head == 0 { "" } else { prefix };
        let _ = write!(out, "{lead}{:>width$}) ", head + 1);
    }
    let nested_prefix = format!("{prefix}{:width$}  ", "");
    write_units(last, &nested_prefix, from, to, out);
}

fn count_lines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::reply::{bulks::Shape, Bulks};
    use std::borrow::Cow;

    fn bulk(i: usize) -> Reply {
        Reply::Bulk(format!("v{i}").into_bytes())
    }

    /// Replies of every shape a long one can take, top level and nested.
    fn shapes(n: usize) -> Vec<Reply> {
        let items: Vec<Reply> = (0..n).map(bulk).collect();
        vec![
            Reply::Array(items.clone()),
            Reply::Set(items.clone()),
            Reply::Map((0..n).map(|i| (bulk(i), bulk(i + 1))).collect()),
            Reply::Map(
                (0..n)
                    .map(|i| {
                        (
                            bulk(i),
                            Reply::Array(vec![bulk(i), Reply::Integer(i as i64)]),
                        )
                    })
                    .collect(),
            ),
            Reply::Array(
                (0..n)
                    .map(|i| match i % 5 {
                        0 => Reply::Array(vec![bulk(i), Reply::Array(vec![bulk(1), bulk(2)])]),
                        1 => Reply::Array(Vec::new()),
                        2 => Reply::Error(format!("ERR line\nand {i}")),
                        3 => Reply::Status(Cow::Borrowed("OK")),
                        _ => Reply::Nil,
                    })
                    .collect(),
            ),
        ]
    }

    #[test]
    fn cli_lines_counts_the_lines_written() {
        for n in [0, 1, 9, 10, 11, 1234] {
            for reply in shapes(n) {
                let text = reply.to_cli_text();
                assert_eq!(reply.cli_lines(), count_lines(&text), "{text}");
            }
        }
    }

    /// Long replies at the top level, and short arrays that end in one (SCAN's).
    #[test]
    fn parts_written_in_turn_are_the_whole_text() {
        for n in [DEFER_ITEMS + 1, 12_345] {
            let top = shapes(n).into_iter().map(|reply| (0, reply));
            for (head, reply) in top.chain(nested_shapes(n)) {
                let whole = reply.to_cli_text();
                let mut replies = LongReplies::default();
                replies.defer_line(true);
                let mut text = String::new();
                replies.write(reply, &mut text);
                let deferred = replies.last().cloned().expect("deferred");
                assert_eq!((deferred.items, deferred.written), (head + n, FIRST_ITEMS));
                assert!(text.len() < whole.len() / 4, "{text}");
                assert_eq!(
                    deferred.lines_left,
                    count_lines(&whole) - count_lines(&text)
                );
                let mut from = deferred.written;
                for step in [1, 999, 2_000, usize::MAX] {
                    text.push_str(&replies.part(deferred.id, from, step).expect("kept"));
                    from = from.saturating_add(step);
                }
                assert_eq!(text, whole);
                assert_eq!(replies.part(deferred.id, from, 10), Some(String::new()));
            }
        }
    }

    /// Short arrays that end in a long one: SCAN's `[cursor, [items…]]`, LMPOP's, EXEC's.
    fn nested_shapes(n: usize) -> Vec<(usize, Reply)> {
        let scan = |items: Reply| Reply::Array(vec![Reply::bulk("17"), items]);
        let bulks = || {
            let items: Vec<String> = (0..n).map(|i| format!("v\"{i}")).collect();
            Reply::Bulks(Box::new(Bulks::from_items(
                items.iter().map(|i| i.as_bytes()),
            )))
        };
        let mut map = Bulks::from_items((0..2 * n).map(|_| &b"k"[..]));
        map.reshape(Shape::Map);
        vec![
            (1, scan(Reply::Array((0..n).map(bulk).collect()))),
            (1, scan(bulks())),
            (0, Reply::Array(vec![bulks()])),
            (
                2,
                Reply::Array(vec![
                    Reply::ok(),
                    Reply::Array(vec![bulk(1), bulk(2)]),
                    Reply::Bulks(Box::new(map)),
                ]),
            ),
            (
                1,
                Reply::Array(vec![Reply::Integer(3), shapes(n).swap_remove(3)]),
            ),
            (
                2,
                Reply::Array(vec![Reply::Array(vec![Reply::Nil, scan(bulks())])]),
            ),
            (
                5,
                Reply::Array(vec![
                    Reply::ok(),
                    Reply::Array(vec![bulk(1), bulk(2)]),
                    Reply::Array(vec![Reply::Nil, Reply::Nil, scan(shapes(n).swap_remove(4))]),
                ]),
            ),
            (
                DEFER_ITEMS - 1,
                Reply::Array((0..DEFER_ITEMS - 1).map(bulk).chain([bulks()]).collect()),
            ),
        ]
    }

    #[test]
    fn a_long_last_element_in_parts_from_the_start_is_the_whole_text() {
        // In steps that cut the elements before the long one, and the long one, anywhere.
        for (_, reply) in nested_shapes(DEFER_ITEMS + 5) {
            for step in [1, 2, 3, 7, 1_000] {
                let mut replies = LongReplies::default();
                replies.defer_line(true);
                let whole = reply.to_cli_text();
                replies.write(reply.clone(), &mut String::new());
                let id = replies.last().expect("deferred").id;
                let mut text = String::new();
                let mut from = 0;
                while let Some(part) = replies.part(id, from, step).filter(|p| !p.is_empty()) {
                    text.push_str(&part);
                    from += step;
                }
                assert_eq!(text, whole, "{step}");
            }
        }
    }

    #[test]
    fn short_replies_and_lines_without_deferral_are_written_whole() {
        let long = || Reply::Array((0..DEFER_ITEMS + 1).map(bulk).collect());
        let short = Reply::Array((0..DEFER_ITEMS).map(bulk).collect());
        let cases = [(true, short.clone()), (false, long())];
        for (defer, reply) in cases {
            let mut replies = LongReplies::default();
            replies.defer_line(defer);
            let mut text = String::new();
            let whole = reply.to_cli_text();
            replies.write(reply, &mut text);
            assert_eq!(text, whole);
            assert_eq!(replies.last(), None);
        }
        // One reply a line is deferred: a second one is written whole after it.
        let mut replies = LongReplies::default();
        replies.defer_line(true);
        let mut text = String::new();
        replies.write(long(), &mut text);
        let first = text.len();
        replies.write(long(), &mut text);
        assert_eq!(text[first..], long().to_cli_text());
        // The next line forgets it.
        replies.defer_line(true);
        assert_eq!(replies.last(), None);
    }

    /// Through the console's path: a deferred line's parts make the text the line gives
    /// undeferred, and a repeated command is never deferred.
    #[test]
    fn console_lines_deferred_and_not_give_the_same_text() {
        use crate::clock::Clock;
        use crate::redis::{cli, Server};
        let mut server = Server::new();
        let mut clock = Clock::new();
        let mut run = |server: &mut Server, line: &str, defer: bool| {
            server.long_replies.defer_line(defer);
            let text = cli::run_line_as(server, &mut clock, 1, line, 0).text;
            server.long_replies.stop_deferring();
            text
        };
        let fields: Vec<String> = (0..3_000).map(|i| format!("f{i} \"v\\n{i}\"")).collect();
        run(&mut server, &format!("HSET h {}", fields.join(" ")), true);
        run(&mut server, "HELLO 3", false);
        for (line, deferred) in [
            ("HGETALL h", true),
            ("HKEYS h", true),
            ("2 HGETALL h", false),
            ("HLEN h", false),
        ] {
            let whole = run(&mut server, line, false);
            let mut text = run(&mut server, line, true);
            let Some(kept) = server.long_replies.last().cloned() else {
                assert!(!deferred, "{line}");
                assert_eq!(text, whole, "{line}");
                continue;
            };
            assert!(deferred, "{line}");
            assert!(text.len() < whole.len() / 10, "{line}");
            let rest = server.long_replies.part(kept.id, kept.written, usize::MAX);
            text.push_str(&rest.unwrap_or_default());
            assert_eq!(text, whole, "{line}");
        }
    }

    /// One console line of client 1, its long reply deferred or not.
    fn run(server: &mut crate::redis::Server, line: &str, defer: bool) -> String {
        use crate::clock::Clock;
        server.long_replies.defer_line(defer);
        let text = crate::redis::cli::run_line_as(server, &mut Clock::new(), 1, line, 0).text;
        server.long_replies.stop_deferring();
        text
    }

    /// Every kind of long reply the commands give, through the console's path in RESP2 and
    /// RESP3, in a transaction and from a script: deferred, its parts make the text the
    /// same line gives undeferred on a server in the same state (the pops change it, and
    /// the random picks draw from its seeded generator).
    #[test]
    fn every_long_reply_in_parts_is_the_whole_text() {
        use crate::redis::Server;
        let n = 5_000;
        let words = |word: &dyn Fn(u32) -> String| (0..n).map(word).collect::<Vec<_>>().join(" ");
        let setup = [
            format!(
                "ZADD z {}",
                words(&|i| format!("{} m{i}", f64::from(i) / 8.0 + 0.1))
            ),
            format!("HSET h {}", words(&|i| format!("f{i} \"v\\n{i}\""))),
            format!("SADD s {}", words(&|i| format!("s{i}"))),
            format!("RPUSH l {}", words(&|i| i.to_string())),
            format!("MSET {}", words(&|i| format!("k{i} {i}"))),
        ];
        let lines = [
            "ZRANGE z 0 -1 WITHSCORES",
            "ZREVRANGEBYSCORE z +inf -inf WITHSCORES",
            "ZRANDMEMBER z -3000 WITHSCORES",
            "ZSCAN z 0 COUNT 9000",
            "ZSCAN z 0 COUNT 9000 NOSCORES",
            "HSCAN h 0 COUNT 9000",
            "SSCAN s 0 COUNT 9000",
            "SCAN 0 COUNT 100000",
            "HRANDFIELD h -3000 WITHVALUES",
            "EVAL \"return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\" 1 z",
            "ZPOPMIN z 1200",
            "ZPOPMAX z 1100",
            "LPOP l 1200",
            "LMPOP 1 l RIGHT COUNT 1200",
            "SPOP s 1200",
            "SPOP s 5000",
            "ZMPOP 1 z MIN COUNT 5000",
        ];
        for resp3 in [false, true] {
            for multi in [false, true] {
                let (mut deferred, mut whole) = (Server::new(), Server::new());
                for server in [&mut deferred, &mut whole] {
                    for line in &setup {
                        run(server, line, false);
                    }
                    if resp3 {
                        run(server, "HELLO 3", false);
                    }
                }
                for line in lines {
                    let whole_text = match multi {
                        false => run(&mut whole, line, false),
                        true => {
                            run(&mut whole, "MULTI", false);
                            run(&mut whole, line, false);
                            run(&mut whole, "EXEC", false)
                        }
                    };
                    let mut text = match multi {
                        false => run(&mut deferred, line, true),
                        true => {
                            run(&mut deferred, "MULTI", true);
                            run(&mut deferred, line, true);
                            run(&mut deferred, "EXEC", true)
                        }
                    };
                    let what = format!("{line} (RESP3 {resp3}, MULTI {multi})");
                    let kept = deferred.long_replies.last().cloned().expect(&what);
                    assert!(text.len() < whole_text.len() / 4, "{what}");
                    let mut from = kept.written;
                    for step in [1, 2_000, usize::MAX] {
                        let part = deferred.long_replies.part(kept.id, from, step);
                        text.push_str(&part.expect(&what));
                        from = from.saturating_add(step);
                    }
                    assert_eq!(text, whole_text, "{what}");
                }
            }
        }
    }

    /// Random lines over big keys of every type, with random arguments, through the console's
    /// path and without it on two servers in the same state, read back in parts of random
    /// sizes from random places: no panic, and the parts from the start make the whole text.
    #[test]
    fn random_lines_over_big_keys_in_parts_of_random_sizes() {
        use crate::redis::fuzz::Rng;
        use crate::redis::Server;
        let n = 2_500;
        let words = |word: &dyn Fn(u32) -> String| (0..n).map(word).collect::<Vec<_>>().join(" ");
        let setup = [
            format!(
                "ZADD z {}",
                words(&|i| format!("{} m{i}", f64::from(i % 97) / 3.0))
            ),
            format!("HSET h {}", words(&|i| format!("f{i} v{i}"))),
            format!("SADD s {}", words(&|i| format!("s{i}"))),
            format!("SADD si {}", words(&|i| i.to_string())),
            format!("RPUSH l {}", words(&|i| i.to_string())),
            format!("MSET {}", words(&|i| format!("k{i} {i}"))),
            format!(
                "GEOADD g {}",
                words(&|i| format!(
                    "{} {} p{i}",
                    f64::from(i % 300) / 2.0 - 75.0,
                    f64::from(i % 160) / 2.0 - 40.0
                ))
            ),
        ];
        let counts = [
            "0", "1", "-1", "999", "1000", "1001", "2499", "2500", "2501", "-3000", "100000",
        ];
        let ends = [
            "0", "-1", "1", "999", "1200", "-1001", "5000", "(1", "+inf", "-inf", "20", "(30",
        ];
        let templates = [
            "ZRANGE z A B",
            "ZRANGE z A B WITHSCORES",
            "ZRANGE z A B BYSCORE",
            "ZRANGE z B A BYSCORE REV WITHSCORES",
            "ZRANGE z A B BYSCORE LIMIT C C WITHSCORES",
            "ZRANGEBYSCORE z A B WITHSCORES",
            "ZREVRANGE z A B WITHSCORES",
            "ZRANDMEMBER z C",
            "ZRANDMEMBER z C WITHSCORES",
            "ZSCAN z 0 COUNT C",
            "ZSCAN z 0 COUNT C NOSCORES",
            "ZPOPMIN z C",
            "ZPOPMAX z C",
            "ZMPOP 1 z MAX COUNT C",
            "ZUNION 2 z z WITHSCORES",
            "ZINTER 1 z WITHSCORES",
            "ZDIFF 1 z WITHSCORES",
            "HGETALL h",
            "HKEYS h",
            "HVALS h",
            "HSCAN h 0 COUNT C",
            "HSCAN h 0 COUNT C NOVALUES",
            "HRANDFIELD h C WITHVALUES",
            "SMEMBERS s",
            "SSCAN s 0 COUNT C",
            "SPOP s C",
            "SRANDMEMBER s C",
            "SPOP si C",
            "SMEMBERS si",
            "SINTER s si",
            "SUNION s si",
            "LRANGE l A B",
            "LPOP l C",
            "RPOP l C",
            "LMPOP 1 l LEFT COUNT C",
            "KEYS *",
            "KEYS k1*",
            "SCAN 0 COUNT C",
            "SCAN 0 COUNT C TYPE zset",
            "MGET k1 k2",
            "SORT l LIMIT 0 C",
            "GEOSEARCH g FROMLONLAT 0 0 BYRADIUS 20000 km WITHCOORD",
            "GEORADIUS g 0 0 20000 km WITHDIST",
        ];
        let mut rng = Rng(0x5eed_1234_9876_0001);
        let mut in_parts = 0;
        for round in 0..6 {
            let (mut deferred, mut whole) = (Server::new(), Server::new());
            if round % 2 == 1 {
                run(&mut deferred, "HELLO 3", false);
                run(&mut whole, "HELLO 3", false);
            }
            for at in 0..60 {
                // The pops drain the keys: fill them again now and then.
                if at % 12 == 0 {
                    for server in [&mut deferred, &mut whole] {
                        run(server, "FLUSHALL", false);
                        for line in &setup {
                            run(server, line, false);
                        }
                    }
                }
                let mut line = templates[rng.below(templates.len())].to_string();
                for slot in ["A", "B"] {
                    line = line.replacen(slot, ends[rng.below(ends.len())], 1);
                }
                while line.contains(" C") {
                    line = line.replacen(" C", &format!(" {}", counts[rng.below(counts.len())]), 1);
                }
                let multi = rng.below(4) == 0;
                let mut texts = Vec::new();
                for (server, defer) in [(&mut whole, false), (&mut deferred, true)] {
                    texts.push(if multi {
                        run(server, "MULTI", defer);
                        run(server, &line, defer);
                        run(server, "EXEC", defer)
                    } else {
                        run(server, &line, defer)
                    });
                }
                let what = format!("{line} (round {round}, MULTI {multi})");
                let mut text = texts.pop().expect(&what);
                let whole_text = texts.pop().expect(&what);
                if let Some(kept) = deferred.long_replies.last().cloned() {
                    in_parts += 1;
                    // Parts from anywhere answer without panicking; from the start they add up.
                    for _ in 0..4 {
                        let from = rng.below(kept.items + 10);
                        let count = rng.below(3_000);
                        deferred.long_replies.part(kept.id, from, count);
                    }
                    let mut from = kept.written;
                    while from < kept.items {
                        let step = 1 + rng.below(1_500);
                        text.push_str(
                            &deferred
                                .long_replies
                                .part(kept.id, from, step)
                                .expect(&what),
                        );
                        from += step;
                    }
                    assert_eq!(
                        deferred.long_replies.part(kept.id, from, 5).as_deref(),
                        Some(""),
                        "{what}"
                    );
                }
                assert_eq!(text, whole_text, "{what}");
            }
        }
        assert!(
            in_parts > 50,
            "only {in_parts} of 360 lines were kept in parts"
        );
    }

    #[test]
    fn the_newest_replies_are_kept_and_older_ones_dropped() {
        let mut replies = LongReplies::default();
        let mut ids = Vec::new();
        for n in [
            DEFER_ITEMS + 1,
            DEFER_ITEMS + 2,
            DEFER_ITEMS + 3,
            DEFER_ITEMS + 4,
        ] {
            replies.defer_line(true);
            replies.write(Reply::Array((0..n).map(bulk).collect()), &mut String::new());
            ids.push(replies.last().expect("deferred").id);
        }
        assert_eq!(replies.part(ids[0], 0, 1), None);
        for id in &ids[1..] {
            assert_eq!(replies.part(*id, 0, 1).as_deref(), Some("   1) \"v0\"\n"));
        }
        // Past the element budget, only the newest stays.
        replies.defer_line(true);
        replies.write(
            Reply::Array((0..KEPT_ITEMS).map(|_| Reply::Nil).collect()),
            &mut String::new(),
        );
        let newest = replies.last().expect("deferred").id;
        assert!(replies.part(newest, 0, 1).is_some());
        assert_eq!(replies.part(ids[3], 0, 1), None);
    }
}
