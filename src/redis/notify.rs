//! Keyspace notifications (Redis's notify.c): with `notify-keyspace-events` set, writes,
//! expiry and eviction publish `__keyspace@<db>__:<key>` / `__keyevent@<db>__:<event>`.
//!
//! `notify_keyspace_event` is the one entry point: command handlers, the expiry paths here
//! and eviction all call it. Which event a command fires is decided in `after_write` from
//! one table (`EVENTS`), from which keys the command created or removed, and from its reply.

use super::commands::Group;
use super::db::Expired;
use super::multi::Write;
use super::reply::Reply;
use super::Server;

pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 13;
pub const NEW: u32 = 1 << 14;
/// `A`: every class but key-miss and new-key events.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Letters in the order CONFIG GET prints them (after `A` or the class letters).
const CLASS_LETTERS: [(char, u32); 11] = [
    ('g', GENERIC),
    ('$', STRING),
    ('l', LIST),
    ('s', SET),
    ('h', HASH),
    ('z', ZSET),
    ('x', EXPIRED),
    ('e', EVICTED),
    ('t', STREAM),
    ('d', MODULE),
    ('n', NEW),
];

/// `keyspaceEventsStringToFlags`: `None` for a letter that names no class.
pub fn parse_flags(text: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in text {
        flags |= match c {
            b'A' => ALL,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b'm' => KEY_MISS,
            _ => CLASS_LETTERS
                .iter()
                .find(|(letter, _)| *letter as u8 == c)
                .map(|(_, flag)| *flag)?,
        };
    }
    Some(flags)
}

/// `keyspaceEventsFlagsToString`: the normalised form CONFIG GET answers.
pub fn flags_to_string(flags: u32) -> String {
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        for (letter, flag) in CLASS_LETTERS {
            if flags & flag != 0 {
                out.push(letter);
            }
        }
    }
    for (letter, flag) in [('K', KEYSPACE), ('E', KEYEVENT), ('m', KEY_MISS)] {
        if flags & flag != 0 {
            out.push(letter);
        }
    }
    out
}

/// Publishes one keyspace event for `key` in database `db`, if `notify-keyspace-events`
/// enables its class: the entry point for commands, expiry and eviction alike.
pub fn notify_keyspace_event(server: &mut Server, class: u32, event: &str, key: &[u8], db: usize) {
    let flags = server.notify_flags;
    if flags & class == 0 {
        return;
    }
    if flags & KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        super::pubsub::deliver(server, &channel, event.as_bytes());
    }
    if flags & KEYEVENT != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        super::pubsub::deliver(server, channel.as_bytes(), key);
    }
}

/// What eviction calls for each key it removes from database `db`: clients WATCHing it see
/// it as touched, and the `evicted` event fires (class `e`).
pub fn key_evicted(server: &mut Server, db: usize, key: &[u8]) {
    super::multi::touch_key(server, db, key);
    notify_keyspace_event(server, EVICTED, "evicted", key, db);
}

/// Fires `expired` for the keys expiry removed (lazily or by the active cycle) since last
/// asked. Called before a command's own events, as Redis deletes on lookup first.
pub fn flush_expired(server: &mut Server) {
    if server.notify_flags & EXPIRED == 0 {
        for db in &mut server.dbs {
            db.expired_log.clear();
        }
        return;
    }
    for index in 0..server.dbs.len() {
        if server.dbs[index].expired_log.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut server.dbs[index].expired_log);
        for (key, what) in keys {
            match what {
                Expired::Key => notify_keyspace_event(server, EXPIRED, "expired", &key, index),
                Expired::Fields => notify_keyspace_event(server, EXPIRED, "hexpired", &key, index),
                Expired::LastFields => {
                    notify_keyspace_event(server, EXPIRED, "hexpired", &key, index);
                    notify_keyspace_event(server, GENERIC, "del", &key, index);
                }
            }
        }
    }
}

/// When a command's event fires.
#[derive(Clone, Copy, PartialEq)]
enum When {
    /// Whatever it answered (INCR answering 0 still wrote).
    Always,
    /// Unless it answered 0, nil or an empty array: nothing changed.
    Changed,
}

/// A write command's event: its name, class and when it fires. Commands not listed fire
/// their own name in their group's class when something changed.
const EVENTS: &[(&str, &str, u32, When)] = &[
    ("set", "set", STRING, When::Changed),
    ("setnx", "set", STRING, When::Changed),
    ("setex", "set", STRING, When::Always),
    ("psetex", "set", STRING, When::Always),
    ("getset", "set", STRING, When::Always),
    ("mset", "set", STRING, When::Always),
    ("msetnx", "set", STRING, When::Changed),
    ("incr", "incrby", STRING, When::Always),
    ("decr", "incrby", STRING, When::Always),
    ("incrby", "incrby", STRING, When::Always),
    ("decrby", "incrby", STRING, When::Always),
    ("incrbyfloat", "incrbyfloat", STRING, When::Always),
    ("append", "append", STRING, When::Always),
    ("setrange", "setrange", STRING, When::Always),
    ("setbit", "setbit", STRING, When::Always),
    ("getdel", "del", GENERIC, When::Changed),
    ("del", "del", GENERIC, When::Changed),
    ("unlink", "del", GENERIC, When::Changed),
    ("expire", "expire", GENERIC, When::Changed),
    ("pexpire", "expire", GENERIC, When::Changed),
    ("expireat", "expire", GENERIC, When::Changed),
    ("pexpireat", "expire", GENERIC, When::Changed),
    ("persist", "persist", GENERIC, When::Changed),
    ("lpush", "lpush", LIST, When::Always),
    ("rpush", "rpush", LIST, When::Always),
    ("lpushx", "lpush", LIST, When::Changed),
    ("rpushx", "rpush", LIST, When::Changed),
    ("lpop", "lpop", LIST, When::Changed),
    ("rpop", "rpop", LIST, When::Changed),
    ("blpop", "lpop", LIST, When::Changed),
    ("brpop", "rpop", LIST, When::Changed),
    ("lset", "lset", LIST, When::Always),
    ("ltrim", "ltrim", LIST, When::Always),
    ("linsert", "linsert", LIST, When::Changed),
    ("lrem", "lrem", LIST, When::Changed),
    ("hset", "hset", HASH, When::Always),
    ("hmset", "hset", HASH, When::Always),
    ("hsetnx", "hset", HASH, When::Changed),
    ("hdel", "hdel", HASH, When::Changed),
    ("hincrby", "hincrby", HASH, When::Always),
    ("hincrbyfloat", "hincrbyfloat", HASH, When::Always),
    ("sadd", "sadd", SET, When::Changed),
    ("srem", "srem", SET, When::Changed),
    ("spop", "spop", SET, When::Changed),
    ("zadd", "zadd", ZSET, When::Always),
    ("zincrby", "zincr", ZSET, When::Always),
    ("zrem", "zrem", ZSET, When::Changed),
    ("zpopmin", "zpopmin", ZSET, When::Changed),
    ("zpopmax", "zpopmax", ZSET, When::Changed),
    ("bzpopmin", "zpopmin", ZSET, When::Changed),
    ("bzpopmax", "zpopmax", ZSET, When::Changed),
    ("xadd", "xadd", STREAM, When::Changed),
    ("xdel", "xdel", STREAM, When::Changed),
    ("xtrim", "xtrim", STREAM, When::Changed),
    ("pfadd", "pfadd", STRING, When::Changed),
    ("pfmerge", "pfadd", STRING, When::Always),
];

fn group_class(group: Group) -> u32 {
    match group {
        Group::String | Group::Bitmap | Group::HyperLogLog => STRING,
        Group::List => LIST,
        Group::Set => SET,
        Group::SortedSet | Group::Geo => ZSET,
        Group::Hash => HASH,
        Group::Stream => STREAM,
        _ => GENERIC,
    }
}

/// Whether a successful write command changed anything, judged from its reply: a count of
/// 0, nil or an empty array means it did not, except for the commands whose reply is a
/// value rather than a count (INCR answering 0 did write).
pub fn changed(name: &str, reply: &Reply) -> bool {
    let always = EVENTS
        .iter()
        .any(|(n, _, _, when)| *n == name && *when == When::Always);
    always || !nothing_changed(reply)
}

fn nothing_changed(reply: &Reply) -> bool {
    match reply {
        Reply::Integer(0) | Reply::Nil | Reply::NilArray => true,
        Reply::Array(items) => items.is_empty(),
        Reply::Bulks(bulks) => bulks.is_empty(),
        _ => false,
    }
}

/// Which of `keys` exist in `db` now (before a write), so that `after_write` can tell the
/// keys it created (`new`) and removed (`del`).
pub fn existing(server: &mut Server, db: usize, keys: &[Vec<u8>]) -> Vec<bool> {
    let now = server.now;
    keys.iter()
        .map(|k| server.dbs.get_mut(db).is_some_and(|d| d.contains(k, now)))
        .collect()
}

/// The events of one successful write command.
pub fn after_write(server: &mut Server, write: &Write) {
    let Write {
        spec,
        argv,
        db,
        reply,
        before,
    } = *write;
    flush_expired(server);
    if server.notify_flags == 0 || before.is_empty() {
        return;
    }
    let keys = super::multi::written_keys(argv);
    let after = existing(server, db, &keys);
    for (i, key) in keys.iter().enumerate() {
        if !before[i] && after[i] {
            notify_keyspace_event(server, NEW, "new", key, db);
        }
    }
    let name = spec.name;
    match name {
        "rename" | "renamenx" if !nothing_changed(reply) && keys.len() == 2 => {
            notify_keyspace_event(server, GENERIC, "rename_from", &keys[0], db);
            notify_keyspace_event(server, GENERIC, "rename_to", &keys[1], db);
            return;
        }
        "lmove" | "blmove" | "rpoplpush" | "brpoplpush" if !nothing_changed(reply) => {
            let (from, to) = match name {
                "lmove" | "blmove" => (argv.get(3), argv.get(4)),
                _ => (None, None),
            };
            let left = |w: Option<&Vec<u8>>, default: bool| {
                w.map_or(default, |w| w.eq_ignore_ascii_case(b"left"))
            };
            let pop = if left(from, false) { "lpop" } else { "rpop" };
            let push = if left(to, true) { "lpush" } else { "rpush" };
            // The push is announced before the pop, as `lmoveHandlePush` runs first.
            if let [src, dst, ..] = keys.as_slice() {
                notify_keyspace_event(server, LIST, push, dst, db);
                notify_keyspace_event(server, LIST, pop, src, db);
            }
        }
        "del" | "unlink" | "getdel" => {
            for (i, key) in keys.iter().enumerate() {
                if before[i] && !after[i] {
                    notify_keyspace_event(server, GENERIC, "del", key, db);
                }
            }
            return;
        }
        // A TTL in the past deletes the key at once, announced as expired.
        "expire" | "pexpire" | "expireat" | "pexpireat" if !nothing_changed(reply) => {
            let gone = before.first() == Some(&true) && after.first() == Some(&false);
            let event = if gone { "expired" } else { "expire" };
            let class = if gone { EXPIRED } else { GENERIC };
            if let Some(key) = keys.first() {
                notify_keyspace_event(server, class, event, key, db);
            }
            return;
        }
        // Per field: 1 set a TTL (or removed one), 2 deleted the field at once (a time in the
        // past), announced as expired, with `del` when that emptied the hash.
        "hexpire" | "hpexpire" | "hexpireat" | "hpexpireat" | "hpersist" => {
            let codes: Vec<i64> = match reply {
                Reply::Array(items) => items
                    .iter()
                    .filter_map(|r| match r {
                        Reply::Integer(n) => Some(*n),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let Some(key) = keys.first() else {
                return;
            };
            if codes.contains(&1) {
                let event = if name == "hpersist" {
                    "hpersist"
                } else {
                    "hexpire"
                };
                notify_keyspace_event(server, HASH, event, key, db);
            }
            if codes.contains(&2) {
                notify_keyspace_event(server, EXPIRED, "hexpired", key, db);
                if before.first() == Some(&true) && after.first() == Some(&false) {
                    notify_keyspace_event(server, GENERIC, "del", key, db);
                }
            }
            return;
        }
        "getex" if !nothing_changed(reply) => {
            let option = argv.get(2).map(|o| o.to_ascii_lowercase());
            let event = match option.as_deref() {
                Some(b"persist") => Some("persist"),
                Some(_) => Some("expire"),
                None => None,
            };
            if let (Some(event), Some(key)) = (event, keys.first()) {
                notify_keyspace_event(server, GENERIC, event, key, db);
            }
        }
        "copy" if !nothing_changed(reply) => {
            // The source is only read: the destination is the one written key.
            if let Some(dst) = keys.first() {
                notify_keyspace_event(server, GENERIC, "copy_to", dst, db);
            }
            return;
        }
        "move" if !nothing_changed(reply) => {
            let target = argv
                .get(2)
                .and_then(|a| super::util::parse_i64(a))
                .and_then(|n| usize::try_from(n).ok());
            if let (Some(key), Some(target)) = (keys.first(), target) {
                notify_keyspace_event(server, GENERIC, "move_from", key, db);
                notify_keyspace_event(server, GENERIC, "move_to", key, target);
            }
            return;
        }
        "smove" if !nothing_changed(reply) => {
            if let [src, dst, ..] = keys.as_slice() {
                notify_keyspace_event(server, SET, "srem", src, db);
                notify_keyspace_event(server, SET, "sadd", dst, db);
            }
        }
        _ => {
            let (event, class, when) = EVENTS.iter().find(|(n, ..)| *n == name).map_or(
                (
                    popped_from_end(name, argv),
                    group_class(spec.group),
                    When::Changed,
                ),
                |(_, e, c, w)| (*e, *c, *w),
            );
            let event = event.replace('|', "-");
            let event = event.as_str();
            if when == When::Always || !nothing_changed(reply) {
                // Commands naming several keys (MSET, BLPOP) fire for the keys they wrote.
                let fired: Vec<&Vec<u8>> = match name {
                    "blpop" | "brpop" | "bzpopmin" | "bzpopmax" => match reply {
                        Reply::Array(items) => match items.first() {
                            Some(Reply::Bulk(key)) => vec![key],
                            _ => Vec::new(),
                        },
                        _ => Vec::new(),
                    },
                    _ => keys.iter().collect(),
                };
                for key in fired {
                    notify_keyspace_event(server, class, event, key, db);
                }
                let sets_ttl = matches!(name, "setex" | "psetex")
                    || (name == "set"
                        && argv.iter().skip(3).any(|a| {
                            [&b"ex"[..], b"px", b"exat", b"pxat"]
                                .iter()
                                .any(|w| a.eq_ignore_ascii_case(w))
                        }));
                if sets_ttl {
                    for key in &keys {
                        notify_keyspace_event(server, GENERIC, "expire", key, db);
                    }
                }
            }
        }
    }
    // A pop or removal that emptied a container deletes its key.
    if !matches!(
        name,
        "set" | "getdel" | "del" | "unlink" | "rename" | "renamenx"
    ) {
        for (i, key) in keys.iter().enumerate() {
            if before[i] && !after[i] {
                notify_keyspace_event(server, GENERIC, "del", key, db);
            }
        }
    }
}

/// The event of a command not in `EVENTS`: its own name, or for the multi-key pops the pop
/// they made at the end they named (LMPOP ... LEFT fires `lpop`).
fn popped_from_end<'a>(name: &'a str, argv: &[Vec<u8>]) -> &'a str {
    let said = |word: &[u8]| argv.iter().any(|a| a.eq_ignore_ascii_case(word));
    match name {
        "lmpop" | "blmpop" if said(b"left") => "lpop",
        "lmpop" | "blmpop" => "rpop",
        "zmpop" | "bzmpop" if said(b"min") => "zpopmin",
        "zmpop" | "bzmpop" => "zpopmax",
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::testing::run_as as run;

    #[test]
    fn flags_parse_and_print_normalised() {
        for (text, printed) in [
            ("KA", Some("AK")),
            ("gE$", Some("g$E")),
            ("AKEmn", Some("AKEm")),
            ("", Some("")),
            ("Kq", None),
            ("Kx", Some("xK")),
        ] {
            assert_eq!(
                parse_flags(text.as_bytes()).map(flags_to_string).as_deref(),
                printed,
                "{text}"
            );
        }
    }

    fn events(s: &mut Server, client: u64) -> Vec<String> {
        s.take_outbox(client)
            .into_iter()
            .filter_map(|r| match r {
                Reply::Array(items) => match items.as_slice() {
                    [_, _, Reply::Bulk(ch), Reply::Bulk(msg)] => Some(format!(
                        "{} {}",
                        String::from_utf8_lossy(ch),
                        String::from_utf8_lossy(msg)
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    #[test]
    fn writes_and_expiry_publish_their_events() {
        let mut s = Server::new();
        assert_eq!(
            run(&mut s, 1, "CONFIG SET notify-keyspace-events KEA", 0),
            "OK\n"
        );
        run(&mut s, 2, "PSUBSCRIBE __key*", 0);
        s.take_outbox(2);
        let cases: &[(&str, &[&str])] = &[
            (
                "SET k v EX 10",
                &[
                    "__keyspace@0__:k set",
                    "__keyevent@0__:set k",
                    "__keyspace@0__:k expire",
                    "__keyevent@0__:expire k",
                ],
            ),
            ("SET k v NX", &[]),
            (
                "INCR n",
                &["__keyspace@0__:n incrby", "__keyevent@0__:incrby n"],
            ),
            (
                "DEL k nope",
                &["__keyspace@0__:k del", "__keyevent@0__:del k"],
            ),
            (
                "RPUSH l a",
                &["__keyspace@0__:l rpush", "__keyevent@0__:rpush l"],
            ),
            (
                "LPOP l",
                &[
                    "__keyspace@0__:l lpop",
                    "__keyevent@0__:lpop l",
                    "__keyspace@0__:l del",
                    "__keyevent@0__:del l",
                ],
            ),
            (
                "RENAME n m",
                &[
                    "__keyspace@0__:n rename_from",
                    "__keyevent@0__:rename_from n",
                    "__keyspace@0__:m rename_to",
                    "__keyevent@0__:rename_to m",
                ],
            ),
            (
                "SADD s a",
                &["__keyspace@0__:s sadd", "__keyevent@0__:sadd s"],
            ),
            ("SADD s a", &[]),
        ];
        for (line, expected) in cases {
            run(&mut s, 1, line, 0);
            assert_eq!(events(&mut s, 2), *expected, "{line}");
        }
        run(&mut s, 1, "SET big v", 0);
        run(&mut s, 3, "WATCH big", 0);
        events(&mut s, 2);
        key_evicted(&mut s, 0, b"big");
        assert_eq!(
            events(&mut s, 2),
            ["__keyspace@0__:big evicted", "__keyevent@0__:evicted big"]
        );
        assert!(s.client(3).is_some_and(|c| c.watch_dirty));
        run(&mut s, 1, "SET gone v PX 5", 0);
        events(&mut s, 2);
        s.tick(1_000);
        assert_eq!(
            events(&mut s, 2),
            ["__keyspace@0__:gone expired", "__keyevent@0__:expired gone"]
        );
    }
}
