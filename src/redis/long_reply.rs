//! Long replies the page's console receives in parts. The console shows the first lines of a
//! reply and the rest on request, so writing (and handing to the page) the whole text of a
//! million-item `HGETALL` at once was most of the time the tab froze for. With deferral on
//! (the console's own calls only), a reply of more than `DEFER_ITEMS` top-level elements is
//! written up to `FIRST_ITEMS` of them and kept; the page asks for the next elements with
//! `part`. The parts written one after another are the reply's whole text, byte for byte.
//!
//! The command itself still runs at once (its reply is a snapshot of the data, as on the
//! server); only the writing waits. A few replies are kept, the newest, so that several long
//! entries in the log can each still show more; an older one is dropped, and asking for it
//! gets nothing. A loaded snapshot replaces the server, and with it the kept replies.

use std::collections::VecDeque;

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
        let items = reply.cli_items();
        if !self.defer || items <= DEFER_ITEMS || self.last.is_some() {
            reply.write_cli_text(out);
            return;
        }
        let start = out.len();
        reply.write_cli_items(0, FIRST_ITEMS, out);
        let lines_left = reply
            .cli_lines()
            .saturating_sub(count_lines(out.get(start..).unwrap_or_default()));
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.kept.push_front((id, reply));
        let mut held = 0;
        let mut keep = 0;
        for (_, kept) in &self.kept {
            if keep > 0 && (keep == KEPT_REPLIES || held + kept.cli_items() > KEPT_ITEMS) {
                break;
            }
            held += kept.cli_items();
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
        reply.write_cli_items(from, from.saturating_add(count), &mut out);
        Some(out)
    }
}

fn count_lines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn parts_written_in_turn_are_the_whole_text() {
        for n in [DEFER_ITEMS + 1, 12_345] {
            for reply in shapes(n) {
                let whole = reply.to_cli_text();
                let mut replies = LongReplies::default();
                replies.defer_line(true);
                let mut text = String::new();
                replies.write(reply, &mut text);
                let deferred = replies.last().cloned().expect("deferred");
                assert_eq!((deferred.items, deferred.written), (n, FIRST_ITEMS));
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
