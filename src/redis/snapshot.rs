//! What the page's keyspace panel and server strip show: a window of one database's keys and
//! a few server-wide counters, read without side effects.
//!
//! Reading for a panel is not a client access, so nothing here goes through `Db::get` or
//! `Db::peek`: those expire due keys and (for `get`) touch the LRU clock, and a panel that
//! polled through them would make keys vanish, and OBJECT IDLETIME reset, without any
//! command having run. Keys already due but not yet reclaimed are skipped instead, exactly as
//! every command would treat them.
//!
//! Rows are ordered by key name (bytewise), not by insertion: the keyspace's insertion order
//! is reshuffled by every delete (removal swaps the last entry into the hole), so rows would
//! jump around as keys expire, and a student looks a key up by name. Only the requested window
//! is ordered (selection, then a sort of the window), so a 100k-key database costs one linear
//! pass per snapshot, not a full sort.

use serde::Serialize;

use super::db::{Db, Entry};
use super::object::encoding_name;
#[cfg(feature = "json")]
use super::types::json;
#[cfg(feature = "streams")]
use super::types::stream::StreamId;
use super::types::zset::format_score;
use super::types::Value;
use super::util::glob_match;
use super::Server;
use crate::clock::Millis;

/// Most rows one snapshot returns, whatever the page asks for: a panel shows a few dozen.
pub const MAX_WINDOW: usize = 1_000;
/// Characters of a string value shown in its preview.
pub const PREVIEW_CHARS: usize = 120;
/// Elements of a collection value shown in its preview.
pub const PREVIEW_ITEMS: usize = 8;
/// Nodes of a JSON document shown in its preview tree.
pub const PREVIEW_JSON_NODES: usize = 200;

/// Which keys a panel wants.
#[derive(Debug, Clone, Copy)]
pub struct KeyQuery<'a> {
    /// Glob pattern as KEYS and SCAN MATCH take it; empty means every key.
    pub pattern: &'a [u8],
    /// A TYPE name (`string`, `hash`, ...); empty means every type. An unknown name matches
    /// nothing, as SCAN ... TYPE does.
    pub type_name: &'a str,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Keyspace {
    pub db: usize,
    /// Sandbox time the snapshot was taken at; the page interpolates TTLs from it.
    pub now: Millis,
    /// Keys matching the query (the length of the whole list the window is cut from).
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<KeyRow>,
    /// Live keys in this database, whatever the query.
    pub keys: usize,
    /// Live keys with a TTL in this database.
    pub volatile: usize,
    /// Keys this database has reclaimed because their time ran out.
    pub expired: u64,
    /// This database's latest evictions, oldest first: a key that left the window and is
    /// here with a `seq` the page has not seen yet was evicted, not deleted.
    pub evictions: Vec<EvictedKey>,
    /// The `seq` of the server's latest eviction, from any database (0 before the first).
    pub last_eviction: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRow {
    /// The key as text: UTF-8 as is, other bytes and control characters as `\xHH`.
    pub key: String,
    #[serde(rename = "type")]
    pub type_name: &'static str,
    pub encoding: &'static str,
    /// Milliseconds left (PTTL), for volatile keys.
    pub ttl_ms: Option<Millis>,
    /// Absolute sandbox time the key expires at, so the page can count down between snapshots.
    pub expire_at: Option<Millis>,
    /// Bytes as MEMORY USAGE reports them (the real server's accounting, modelled).
    pub size: u64,
    pub preview: Preview,
}

/// A short view of a value, one shape per type. The page keeps one renderer per `kind`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Preview {
    String {
        text: String,
        /// Length in bytes of the whole value.
        len: usize,
        truncated: bool,
    },
    /// Field/value pairs in the hash's own order.
    Hash {
        fields: Vec<(String, String)>,
        len: usize,
    },
    /// The first elements from the head; `len` tells the page where the tail is.
    List {
        items: Vec<String>,
        len: usize,
    },
    Set {
        members: Vec<String>,
        len: usize,
    },
    /// Lowest-ranked members first, scores as ZSCORE prints them (`inf` survives JSON).
    Zset {
        members: Vec<(String, String)>,
        len: usize,
    },
    /// The newest entries, oldest of them first.
    Stream {
        entries: Vec<StreamEntry>,
        len: usize,
    },
    /// The document as a tree, cut to `PREVIEW_JSON_NODES` nodes (`…` marks the cut).
    Json {
        tree: serde_json::Value,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamEntry {
    pub id: String,
    pub fields: Vec<(String, String)>,
}

/// Counters for the server strip. Room is kept for what INFO and maxmemory will bring.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub now: Millis,
    /// Databases holding at least one live key.
    pub dbs: Vec<DbInfo>,
    pub keys: usize,
    pub volatile: usize,
    pub expired: u64,
    /// INFO's `used_memory`: the real server's accounting, modelled.
    pub used_memory: u64,
    /// `null` when there is no limit (`maxmemory 0`).
    pub maxmemory: Option<u64>,
    pub maxmemory_policy: &'static str,
    /// INFO's `evicted_keys`.
    pub evicted: u64,
    /// INFO's keyspace_hits / keyspace_misses.
    pub hits: Option<u64>,
    pub misses: Option<u64>,
}

/// A key evicted under maxmemory; `seq` grows with every eviction the server makes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvictedKey {
    pub seq: u64,
    pub db: usize,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbInfo {
    pub db: usize,
    pub keys: usize,
    pub volatile: usize,
    pub expired: u64,
}

fn is_live(entry: &Entry, now: Millis) -> bool {
    entry.expire_at.is_none_or(|at| at > now)
}

/// A window of database `db` at sandbox time `now`; an out-of-range `db` reads as empty.
pub fn keyspace(server: &Server, db: usize, query: &KeyQuery, now: Millis) -> Keyspace {
    let empty = Db::new();
    let database = server.dbs.get(db).unwrap_or(&empty);
    database.mark_shown();
    let match_all = query.pattern.is_empty() || query.pattern == b"*";
    let mut keys = 0;
    let mut volatile = 0;
    let mut total = 0;
    let mut matching: Vec<(&Vec<u8>, &Entry)> = Vec::new();
    // A window near the start (the panel's usual one) is within the least `wanted` keys:
    // whenever twice as many are gathered they are cut back to those, and a key past the
    // greatest kept is passed over. A million keys gathered and partitioned took most of a
    // snapshot's time.
    let wanted = query.offset.saturating_add(query.limit.min(MAX_WINDOW));
    let near_start = wanted <= MAX_NEAR_START;
    let mut bound: Option<&Vec<u8>> = None;
    for (key, entry) in database.iter() {
        if !is_live(entry, now) {
            continue;
        }
        keys += 1;
        if entry.expire_at.is_some() {
            volatile += 1;
        }
        if (query.type_name.is_empty() || entry.value.type_name() == query.type_name)
            && (match_all || glob_match(query.pattern, key, false))
        {
            total += 1;
            if !near_start || bound.is_none_or(|b| key < b) {
                matching.push((key, entry));
            }
            if near_start && matching.len() >= 2 * wanted.max(1) {
                select_window(&mut matching, 0, wanted);
                matching.truncate(wanted);
                bound = matching.iter().map(|(k, _)| *k).max();
            }
        }
    }
    let offset = query.offset.min(total);
    let end = offset
        .saturating_add(query.limit.min(MAX_WINDOW))
        .min(total);
    // Near the start, what was passed over sorts after every key kept (the least `wanted`
    // of all), so the window's positions among the kept are its positions among all.
    let window = select_window(&mut matching, offset, end);
    crate::sort::sort_by(window, |a, b| a.0.cmp(b.0));
    let rows = window
        .iter()
        .map(|(key, entry)| row(key, entry, now))
        .collect();
    // Evicted keys the page may have had on screen: those sorting inside this window (or
    // before it at the start, after it at the end).
    let low = window
        .first()
        .filter(|_| offset > 0)
        .map(|(k, _)| k.as_slice());
    let high = window
        .last()
        .filter(|_| end < total)
        .map(|(k, _)| k.as_slice());
    let in_window = |key: &[u8]| low.is_none_or(|l| key >= l) && high.is_none_or(|h| key <= h);
    Keyspace {
        db,
        now,
        total,
        offset,
        rows,
        keys,
        volatile,
        expired: database.expired_count,
        evictions: evictions_of(server, db, in_window),
        last_eviction: server.stats.recent_evictions.back().map_or(0, |e| e.seq),
    }
}

/// At most this many evictions go with a snapshot: a window's worth.
const MAX_EVICTIONS_SHOWN: usize = 256;

/// The latest evictions the server remembers from database `db` of keys `wanted` accepts,
/// oldest first.
fn evictions_of(server: &Server, db: usize, wanted: impl Fn(&[u8]) -> bool) -> Vec<EvictedKey> {
    let mut shown: Vec<EvictedKey> = server
        .stats
        .recent_evictions
        .iter()
        .rev()
        .filter(|e| e.db == db && wanted(&e.key))
        .take(MAX_EVICTIONS_SHOWN)
        .map(|e| EvictedKey {
            seq: e.seq,
            db: e.db,
            key: printable(&e.key, usize::MAX).0,
        })
        .collect();
    shown.reverse();
    shown
}

/// The furthest window end `keyspace` finds among the least keys it keeps; past it (a panel
/// scrolled far down) it partitions every matching key.
const MAX_NEAR_START: usize = 4 * MAX_WINDOW;

/// The elements that would sit at positions `start..end` if `items` were sorted by key,
/// in no particular order, in linear time on average.
fn select_window<'s, 'a>(
    items: &'s mut [(&'a Vec<u8>, &'a Entry)],
    start: usize,
    end: usize,
) -> &'s mut [(&'a Vec<u8>, &'a Entry)] {
    if start >= end {
        return &mut [];
    }
    let by_key = |a: &(&Vec<u8>, &Entry), b: &(&Vec<u8>, &Entry)| a.0.cmp(b.0);
    if start > 0 {
        items.select_nth_unstable_by(start, by_key);
    }
    let rest = &mut items[start..];
    let len = end - start;
    if len < rest.len() {
        rest.select_nth_unstable_by(len, by_key);
    }
    &mut rest[..len]
}

fn row(key: &[u8], entry: &Entry, now: Millis) -> KeyRow {
    KeyRow {
        key: printable(key, usize::MAX).0,
        type_name: entry.value.type_name(),
        encoding: encoding_name(key, entry),
        ttl_ms: entry.expire_at.map(|at| at.saturating_sub(now)),
        expire_at: entry.expire_at,
        size: super::memory::entry_size(key, entry, super::memory::DEFAULT_SAMPLES) as u64,
        preview: preview(&entry.value),
    }
}

/// The one place each type's preview comes from.
pub fn preview(value: &Value) -> Preview {
    match value {
        Value::Str(bytes) => {
            let (text, truncated) = printable(bytes, PREVIEW_CHARS);
            Preview::String {
                text,
                len: bytes.len(),
                truncated,
            }
        }
        #[cfg(feature = "streams")]
        Value::Stream(stream) => {
            let mut entries: Vec<StreamEntry> = stream
                .range(StreamId::MIN, StreamId::MAX, true)
                .take(PREVIEW_ITEMS)
                .map(|(id, fields)| StreamEntry {
                    id: id.to_string(),
                    fields: fields
                        .chunks(2)
                        .map(|pair| {
                            let text = |i: usize| {
                                pair.get(i)
                                    .map(|b| printable(b, PREVIEW_CHARS).0)
                                    .unwrap_or_default()
                            };
                            (text(0), text(1))
                        })
                        .collect(),
                })
                .collect();
            entries.reverse();
            Preview::Stream {
                entries,
                len: stream.len(),
            }
        }
        Value::Hash(hash) => Preview::Hash {
            fields: hash
                .iter()
                .take(PREVIEW_ITEMS)
                .map(|(f, v)| (printable(f, PREVIEW_CHARS).0, printable(v, PREVIEW_CHARS).0))
                .collect(),
            len: hash.len(),
        },
        Value::List(list) => Preview::List {
            items: list
                .iter()
                .take(PREVIEW_ITEMS)
                .map(|e| printable(e, PREVIEW_CHARS).0)
                .collect(),
            len: list.len(),
        },
        Value::Set(set) => Preview::Set {
            members: (0..set.len().min(PREVIEW_ITEMS))
                .filter_map(|i| set.member_at(i))
                .map(|m| printable(&m, PREVIEW_CHARS).0)
                .collect(),
            len: set.len(),
        },
        Value::ZSet(zset) => Preview::Zset {
            members: zset
                .iter()
                .take(PREVIEW_ITEMS)
                .map(|(m, score)| (printable(m, PREVIEW_CHARS).0, format_score(score)))
                .collect(),
            len: zset.len(),
        },
        #[cfg(feature = "json")]
        Value::Json(doc) => Preview::Json {
            tree: json::preview_tree(doc, PREVIEW_JSON_NODES),
        },
    }
}

/// Whether database `db` may have changed since `keyspace` last read it: a panel that
/// refreshes after every command needs no new snapshot after a read, whatever the size.
pub fn keyspace_changed(server: &Server, db: usize) -> bool {
    server.dbs.get(db).is_none_or(Db::changed_since_shown)
}

/// Server-wide counters at sandbox time `now`.
pub fn server_info(server: &Server, now: Millis) -> ServerInfo {
    let mut info = ServerInfo {
        now,
        dbs: Vec::new(),
        keys: 0,
        volatile: 0,
        expired: 0,
        used_memory: server.used_memory(),
        maxmemory: Some(server.config.maxmemory).filter(|&m| m > 0),
        maxmemory_policy: server.config.policy.name(),
        evicted: server.stats.evicted_keys,
        hits: Some(server.dbs.iter().map(|db| db.hits).sum()),
        misses: Some(server.dbs.iter().map(|db| db.misses).sum()),
    };
    for (index, db) in server.dbs.iter().enumerate() {
        // Every key due but not reclaimed has a TTL: the live counts need no walk of the keys.
        let due = db.due_count(now);
        let keys = db.len() - due;
        let volatile = db.volatile_count() - due;
        info.keys += keys;
        info.volatile += volatile;
        info.expired = info.expired.saturating_add(db.expired_count);
        if keys > 0 || db.expired_count > 0 {
            info.dbs.push(DbInfo {
                db: index,
                keys,
                volatile,
                expired: db.expired_count,
            });
        }
    }
    info
}

/// Keys a redis-cli line writes, by the command table's key positions, so the panel can mark
/// a write even when it left the value as it was (`SET k v` twice). Empty for reads, for
/// lines the server would refuse, and for commands whose keys the table does not place.
pub fn written_keys(line: &str) -> Vec<String> {
    let Some(argv) = super::cli::split_args(line) else {
        return Vec::new();
    };
    // redis-cli's repeat prefix (`3 INCR x`): a leading number before a command.
    let argv = match argv.split_first() {
        Some((first, rest))
            if !rest.is_empty() && !first.is_empty() && first.iter().all(u8::is_ascii_digit) =>
        {
            rest
        }
        _ => &argv[..],
    };
    let Ok(spec) = super::commands::resolve(argv) else {
        return Vec::new();
    };
    if !spec.flags.contains(&"write") {
        return Vec::new();
    }
    let (first, last, step) = spec.keys;
    let len = argv.len() as i64;
    let (first, step) = (i64::from(first), i64::from(step).max(1));
    let last = if last < 0 {
        len + i64::from(last)
    } else {
        i64::from(last)
    };
    if first <= 0 {
        return Vec::new();
    }
    (first..=last.min(len - 1))
        .step_by(step as usize)
        .filter_map(|i| argv.get(usize::try_from(i).ok()?))
        .map(|key| printable(key, usize::MAX).0)
        .collect()
}

/// Text for the page: valid UTF-8 as is, control characters and bytes that are not UTF-8 as
/// `\xHH` (as redis-cli shows them), cut after `max_chars` characters. Returns whether it cut.
pub fn printable(bytes: &[u8], max_chars: usize) -> (String, bool) {
    let mut out = String::new();
    let mut chars = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars >= max_chars {
                return (out, true);
            }
            // redis-cli's own escapes (sdscatrepr) where it has one, so a value reads the
            // same in the panel as in the console.
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                c if c.is_control() && (c as u32) < 0x80 => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c => out.push(c),
            }
            chars += 1;
        }
        for b in chunk.invalid() {
            if chars >= max_chars {
                return (out, true);
            }
            out.push_str(&format!("\\x{b:02x}"));
            chars += 1;
        }
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_795_671_600_000;

    fn server_with(lines: &[&str]) -> Server {
        let mut server = Server::new();
        for line in lines {
            let argv: Vec<Vec<u8>> = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
            let reply = server.execute(&argv, T0);
            assert!(!reply.is_error(), "{line}: {reply:?}");
        }
        server
    }

    fn all(limit: usize) -> KeyQuery<'static> {
        KeyQuery {
            pattern: b"*",
            type_name: "",
            offset: 0,
            limit,
        }
    }

    fn names(ks: &Keyspace) -> Vec<&str> {
        ks.rows.iter().map(|r| r.key.as_str()).collect()
    }

    fn run(server: &mut Server, line: &str, now: Millis) {
        let argv: Vec<Vec<u8>> = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        server.execute(&argv, now);
    }

    /// After a read the panel's snapshot of a database is still the database; after
    /// anything that changed it (in any way a row shows, or which keys there are) it is not.
    #[test]
    fn a_database_counts_as_changed_after_writes_and_expiry_not_after_reads() {
        let setup = [
            "SET s v",
            "SET soon v PX 100",
            "HSET h f v",
            "SELECT 1",
            "SET other v",
            "SELECT 0",
        ];
        // (line, sandbox ms after T0 it runs at, whether db 0 and db 1 changed)
        let cases: &[(&str, Millis, bool, bool)] = &[
            ("GET s", 0, false, false),
            ("KEYS *", 0, false, false),
            ("DBSIZE", 0, false, false),
            ("TTL soon", 0, false, false),
            ("HGETALL h", 0, false, false),
            ("OBJECT ENCODING s", 0, false, false),
            ("SET s v", 0, true, false),
            ("SET s w", 0, true, false),
            ("DEL s", 0, true, false),
            ("EXPIRE s 100", 0, true, false),
            ("PERSIST soon", 0, true, false),
            ("HSET h f w", 0, true, false),
            ("RENAME s t", 0, true, false),
            ("MOVE s 1", 0, true, true),
            ("SWAPDB 0 1", 0, true, true),
            ("FLUSHDB", 0, true, false),
            ("FLUSHALL", 0, true, true),
            // A due key is dropped by the lookup that finds it, and by the active cycle.
            ("GET soon", 200, true, false),
            ("PING", 200, true, false),
        ];
        for &(line, after, db0, db1) in cases {
            let mut server = server_with(&setup);
            for db in [0, 1] {
                keyspace(&server, db, &all(10), T0);
                assert!(!keyspace_changed(&server, db), "{line}: db {db} just read");
            }
            run(&mut server, line, T0 + after);
            let changed = (keyspace_changed(&server, 0), keyspace_changed(&server, 1));
            assert_eq!(changed, (db0, db1), "{line}");
        }
        // A database never read counts as changed, and so does one out of range.
        let server = server_with(&setup);
        assert!(keyspace_changed(&server, 2));
        assert!(keyspace_changed(&server, 99));
    }

    /// The server strip's counts, taken from the tables' lengths less the keys due, are
    /// the ones a walk of every key gives, with keys due and not yet reclaimed among them.
    #[test]
    fn server_counts_are_the_walked_ones() {
        let mut server = Server::new();
        let mut rng = 11u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut now = T0;
        for round in 0..200 {
            for _ in 0..next(30) {
                let (a, b) = (next(100), next(100));
                let line = match next(8) {
                    0..=2 => format!("SET k{a} v"),
                    3 => format!("SET k{a} v PX {}", 1 + next(50)),
                    4 => format!("DEL k{a} k{b}"),
                    5 => format!("PEXPIRE k{a} {}", next(30)),
                    6 => format!("MOVE k{a} 1"),
                    _ => format!("RPUSH l{a} x"),
                };
                run(&mut server, &line, now);
            }
            // Time moves without the active cycle, so some keys stay due but stored.
            now += next(20);
            if round % 5 == 0 {
                server.tick(now);
            }
            let info = server_info(&server, now);
            for (db, database) in server.dbs.iter().enumerate() {
                let live: Vec<_> = database.iter().filter(|(_, e)| is_live(e, now)).collect();
                let volatile = live.iter().filter(|(_, e)| e.expire_at.is_some()).count();
                let counted = info.dbs.iter().find(|d| d.db == db);
                let counted = counted.map_or((0, 0), |d| (d.keys, d.volatile));
                assert_eq!(counted, (live.len(), volatile), "round {round} db {db}");
            }
        }
    }

    #[test]
    fn rows_are_sorted_by_name_and_windowed() {
        let server = server_with(&["SET b 1", "SET d 1", "SET a 1", "SET c 1", "SET e 1"]);
        for (offset, limit, expected) in [
            (0, 10, vec!["a", "b", "c", "d", "e"]),
            (1, 2, vec!["b", "c"]),
            (3, 10, vec!["d", "e"]),
            (5, 10, vec![]),
            (99, 10, vec![]),
            (0, 0, vec![]),
            (usize::MAX, usize::MAX, vec![]),
        ] {
            let query = KeyQuery {
                offset,
                limit,
                ..all(0)
            };
            let ks = keyspace(&server, 0, &query, T0);
            assert_eq!(names(&ks), expected, "offset {offset} limit {limit}");
            assert_eq!(ks.total, 5);
        }
    }

    /// Windows near the start (among the least keys, kept as they come) and far down,
    /// with patterns, types and keys whose time ran out, against a sort of every key.
    #[test]
    fn windows_near_the_start_and_far_down_are_those_of_the_sorted_keys() {
        let mut server = Server::new();
        let n = 3 * MAX_NEAR_START;
        // Keys arrive out of order; every third has a set beside it, every eleventh expires.
        for step in 0..n {
            let j = (step * 7_919) % n;
            run(&mut server, &format!("SET k{j} v"), T0);
            if j.is_multiple_of(3) {
                run(&mut server, &format!("SADD sk{j} m"), T0);
            }
            if j.is_multiple_of(11) {
                run(&mut server, &format!("PEXPIRE k{j} 10"), T0);
            }
        }
        let strings = (0..n).filter(|j| j % 11 != 0).map(|j| format!("k{j}"));
        let sets = (0..n).filter(|j| j % 3 == 0).map(|j| format!("sk{j}"));
        let every: Vec<(String, &str)> = strings
            .map(|k| (k, "string"))
            .chain(sets.map(|k| (k, "set")))
            .collect();
        for (pattern, type_name) in [("*", ""), ("k1*", ""), ("*", "set"), ("*", "string")] {
            let mut expected: Vec<&str> = every
                .iter()
                .filter(|(k, t)| {
                    glob_match(pattern.as_bytes(), k.as_bytes(), false)
                        && (type_name.is_empty() || type_name == *t)
                })
                .map(|(k, _)| k.as_str())
                .collect();
            expected.sort();
            for (offset, limit) in [
                (0, 100),
                (0, MAX_WINDOW),
                (3_000, MAX_WINDOW),
                (3_100, 950),
                (7_000, 500),
                (n, 10),
            ] {
                let query = KeyQuery {
                    pattern: pattern.as_bytes(),
                    type_name,
                    offset,
                    limit,
                };
                let ks = keyspace(&server, 0, &query, T0 + 20);
                let from = offset.min(expected.len());
                let window = &expected[from..(offset + limit).min(expected.len())];
                assert_eq!(names(&ks), window, "{pattern} {type_name} {offset}");
                assert_eq!(ks.total, expected.len());
            }
        }
    }

    #[test]
    fn windows_of_a_large_keyspace_tile_the_sorted_order() {
        let mut server = Server::new();
        for i in (0..2_000).rev() {
            server.dbs[0].set(format!("k{i:05}").as_bytes(), Value::Str(b"v".to_vec()), T0);
        }
        let mut seen = Vec::new();
        for offset in (0..2_000).step_by(37) {
            let query = KeyQuery {
                offset,
                limit: 37,
                ..all(0)
            };
            seen.extend(
                keyspace(&server, 0, &query, T0)
                    .rows
                    .into_iter()
                    .map(|r| r.key),
            );
        }
        let expected: Vec<String> = (0..2_000).map(|i| format!("k{i:05}")).collect();
        assert_eq!(seen, expected);
        assert_eq!(keyspace(&server, 0, &all(5_000), T0).rows.len(), MAX_WINDOW);
    }

    #[test]
    fn filters_by_glob_and_type() {
        let server = server_with(&[
            "SET user:1 a",
            "SET user:2 b",
            "SET order:1 c",
            "XADD user:events 1-1 f v",
        ]);
        for (pattern, type_name, expected) in [
            ("user:*", "", vec!["user:1", "user:2", "user:events"]),
            ("user:?", "", vec!["user:1", "user:2"]),
            ("*", "stream", vec!["user:events"]),
            ("user:*", "string", vec!["user:1", "user:2"]),
            ("", "string", vec!["order:1", "user:1", "user:2"]),
            ("nothing*", "", vec![]),
            ("*", "hash", vec![]),
            ("*", "no-such-type", vec![]),
        ] {
            let query = KeyQuery {
                pattern: pattern.as_bytes(),
                type_name,
                ..all(100)
            };
            let ks = keyspace(&server, 0, &query, T0);
            assert_eq!(names(&ks), expected, "{pattern:?} {type_name:?}");
            assert_eq!(ks.total, expected.len());
            assert_eq!(ks.keys, 4);
        }
    }

    #[test]
    fn rows_carry_type_encoding_ttl_size_and_preview() {
        let long = "x".repeat(300);
        let mut server = server_with(&["SET n 12345", "SET s hello PX 5000", "XADD st 1-1 a b"]);
        server.dbs[0].set(b"long", Value::Str(long.clone().into_bytes()), T0);
        let ks = keyspace(&server, 0, &all(10), T0 + 1_500);
        let row = |k: &str| ks.rows.iter().find(|r| r.key == k).unwrap().clone();

        let n = row("n");
        assert_eq!(
            (n.type_name, n.encoding, n.ttl_ms, n.size),
            ("string", "int", None, 24)
        );
        let s = row("s");
        assert_eq!(
            (s.encoding, s.ttl_ms, s.expire_at),
            ("embstr", Some(3_500), Some(T0 + 5_000))
        );
        assert_eq!(
            s.preview,
            Preview::String {
                text: "hello".into(),
                len: 5,
                truncated: false
            }
        );
        let l = row("long");
        assert_eq!(l.encoding, "raw");
        match l.preview {
            Preview::String {
                text,
                len,
                truncated,
            } => assert_eq!((text.len(), len, truncated), (PREVIEW_CHARS, 300, true)),
            other => panic!("{other:?}"),
        }
        let st = row("st");
        assert_eq!((st.type_name, st.encoding), ("stream", "stream"));
        assert_eq!(
            st.preview,
            Preview::Stream {
                entries: vec![StreamEntry {
                    id: "1-1".into(),
                    fields: vec![("a".into(), "b".into())]
                }],
                len: 1
            }
        );
        assert_eq!(ks.volatile, 1);
    }

    #[test]
    fn encoding_matches_object_encoding() {
        let mut server = server_with(&["SET a 1", "APPEND a 2", "SET b 3.5", "INCRBYFLOAT b 1"]);
        let ks = keyspace(&server, 0, &all(10), T0);
        for row in &ks.rows {
            let argv = vec![
                b"OBJECT".to_vec(),
                b"ENCODING".to_vec(),
                row.key.as_bytes().to_vec(),
            ];
            let reply = server.execute(&argv, T0);
            assert_eq!(
                reply,
                super::super::reply::Reply::bulk(row.encoding),
                "{}",
                row.key
            );
        }
    }

    #[test]
    fn due_keys_are_hidden_but_not_reclaimed_and_idle_time_is_untouched() {
        let mut server = server_with(&["SET gone v PX 100", "SET stays v"]);
        let later = T0 + 60_000;
        let ks = keyspace(&server, 0, &all(10), later);
        assert_eq!(names(&ks), vec!["stays"]);
        assert_eq!((ks.keys, ks.volatile, ks.expired), (1, 0, 0));
        let info = server_info(&server, later);
        assert_eq!((info.keys, info.volatile, info.expired), (1, 0, 0));
        // Snapshots removed nothing and left the LRU clock alone.
        assert_eq!(server.dbs[0].len(), 2);
        assert_eq!(
            server.dbs[0].iter().map(|(_, e)| e.accessed).max(),
            Some(T0)
        );
        server.tick(later);
        assert_eq!(keyspace(&server, 0, &all(10), later).expired, 1);
    }

    #[test]
    fn server_info_sums_databases() {
        let mut server = server_with(&["SET a 1 EX 10", "SET bb 22", "SELECT 2", "SET c 333"]);
        server.tick(T0 + 10_000);
        let info = server_info(&server, T0 + 10_000);
        assert_eq!(
            info.dbs,
            vec![
                DbInfo {
                    db: 0,
                    keys: 1,
                    volatile: 0,
                    expired: 1
                },
                DbInfo {
                    db: 2,
                    keys: 1,
                    volatile: 0,
                    expired: 0
                },
            ]
        );
        // Two embstr keys of 24 bytes each, their overhead and two one-bucket tables.
        let keys = 2 * (24 + crate::redis::memory::KEY_OVERHEAD_BYTES as u64 + 64);
        assert_eq!(
            (info.keys, info.expired, info.used_memory),
            (2, 1, crate::redis::memory::BASELINE + keys)
        );
        assert_eq!(
            (info.maxmemory, info.evicted, info.hits),
            (Some(crate::redis::config::DEFAULT_MAXMEMORY), 0, Some(0))
        );
    }

    #[test]
    fn evictions_in_the_window_go_with_the_snapshot() {
        let mut server = server_with(&[
            "CONFIG SET maxmemory-policy allkeys-random",
            "SET a:1 x",
            "SET a:2 x",
        ]);
        let limit = server.used_memory() + 100;
        let lines = [format!("CONFIG SET maxmemory {limit}")]
            .into_iter()
            .chain((0..50).map(|i| format!("SET b:{i:02} x")));
        for line in lines {
            let argv = crate::redis::cli::split_args(&line).unwrap_or_default();
            server.execute(&argv, T0);
        }
        let evicted = server.stats.evicted_keys;
        assert!(evicted >= 40, "{evicted}");
        let ks = keyspace(&server, 0, &all(100), T0);
        assert_eq!(ks.evictions.len() as u64, evicted);
        assert_eq!(ks.last_eviction, evicted);
        let live: Vec<_> = ks.rows.iter().map(|r| r.key.clone()).collect();
        assert!(ks.evictions.iter().all(|e| !live.contains(&e.key)));
        // A window of the first rows only carries the evictions that sort before its end.
        let first = keyspace(&server, 0, &all(2), T0);
        let last_shown = first.rows.last().map(|r| r.key.clone()).unwrap_or_default();
        assert!(first.evictions.iter().all(|e| e.key <= last_shown));
        assert!(keyspace(&server, 1, &all(100), T0).evictions.is_empty());
    }

    #[test]
    fn out_of_range_db_reads_as_empty() {
        let server = server_with(&["SET a 1"]);
        let ks = keyspace(&server, 99, &all(10), T0);
        assert_eq!((ks.total, ks.rows.len(), ks.keys), (0, 0, 0));
    }

    #[test]
    fn written_keys_follow_the_command_table() {
        for (line, expected) in [
            ("SET k v", vec!["k"]),
            ("set \"a b\" v EX 10", vec!["a b"]),
            ("MSET a 1 b 2 c 3", vec!["a", "b", "c"]),
            ("3 INCR counter", vec!["counter"]),
            ("DEL x y", vec!["x", "y"]),
            ("XADD s * f v", vec!["s"]),
            ("GET k", vec![]),
            ("SET k", vec![]),
            ("NOPE k", vec![]),
            ("PING", vec![]),
            ("", vec![]),
            ("SET \"open", vec![]),
        ] {
            assert_eq!(written_keys(line), expected, "{line}");
        }
    }

    #[test]
    fn printable_text_escapes_controls_and_invalid_bytes() {
        for (bytes, max, expected) in [
            (&b"plain"[..], 100, ("plain", false)),
            ("héllo ✓".as_bytes(), 100, ("héllo ✓", false)),
            (b"a\nb\x00", 100, ("a\\nb\\x00", false)),
            (b"\r\t\x07\x08\x1b", 100, ("\\r\\t\\a\\b\\x1b", false)),
            (b"\xff\xfeok", 100, ("\\xff\\xfeok", false)),
            (b"abcdef", 3, ("abc", true)),
            (
                b"<img src=x onerror=alert(1)>",
                100,
                ("<img src=x onerror=alert(1)>", false),
            ),
        ] {
            let (text, cut) = printable(bytes, max);
            assert_eq!((text.as_str(), cut), expected, "{bytes:?}");
        }
    }

    #[test]
    fn previews_serialize_with_a_kind_tag() {
        let json = serde_json::to_string(&preview(&Value::Str(b"hi".to_vec()))).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"string","text":"hi","len":2,"truncated":false}"#
        );
        let hash = Value::Hash(Default::default());
        assert_eq!(
            serde_json::to_string(&preview(&hash)).unwrap(),
            r#"{"kind":"hash","fields":[],"len":0}"#
        );
    }
}
