//! Commands over keys regardless of their type (Redis's `db.c` family).

use super::parts::{require_part, Part};
use super::reply::{self, Bulks, Reply};
use super::util::{glob_match, parse_i64};
use super::Server;

/// DEL key [key ...] (and UNLINK, which only differs in freeing memory in the background).
pub fn del(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let db = server.db();
    let removed = argv[1..]
        .iter()
        .filter(|key| db.contains(key, now) && db.remove(key).is_some())
        .count();
    Reply::Integer(removed as i64)
}

/// EXISTS key [key ...]: a key named twice counts twice.
pub fn exists(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let db = server.db();
    let found = argv[1..].iter().filter(|key| db.contains(key, now)).count();
    Reply::Integer(found as i64)
}

/// TOUCH key [key ...]: like EXISTS, but it counts as an access.
pub fn touch(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let db = server.db();
    let found = argv[1..]
        .iter()
        .filter(|key| db.get(key, now).is_some())
        .count();
    Reply::Integer(found as i64)
}

/// TYPE key
pub fn type_(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let name = server
        .db()
        .peek(&argv[1], now)
        .map_or("none", |entry| entry.value.type_name());
    Reply::static_status(name)
}

/// KEYS pattern
pub fn keys(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let pattern = &argv[1];
    let all = pattern.as_slice() == b"*";
    let db = server.db();
    let mut found = Bulks::with_capacity(if all { db.len() } else { 0 }, 0);
    for (key, entry) in db.iter() {
        if entry.expire_at.is_none_or(|at| at > now) && (all || glob_match(pattern, key, false)) {
            found.push(key);
        }
    }
    found.into_reply()
}

/// The type names SCAN's TYPE option knows, as `getObjectTypeByName` does.
const TYPE_NAMES: [&str; 7] = [
    "string",
    "list",
    "set",
    "zset",
    "hash",
    "stream",
    super::types::json::TYPE_NAME,
];

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor is one past the next position to visit, walking positions downwards (see
/// `db.rs`): a key present for the whole iteration is returned at least once.
pub fn scan(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let cursor = match std::str::from_utf8(&argv[1])
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u64>().ok())
    {
        Some(c) => c,
        None => return Reply::err("invalid cursor"),
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let opt = argv[i].as_slice();
        let Some(value) = argv.get(i + 1) else {
            return reply::error(reply::SYNTAX_ERROR);
        };
        if opt.eq_ignore_ascii_case(b"count") {
            match parse_i64(value) {
                Some(n) if n >= 1 => count = n,
                Some(_) => return reply::error(reply::SYNTAX_ERROR),
                None => return reply::error(reply::NOT_INTEGER),
            }
        } else if opt.eq_ignore_ascii_case(b"match") {
            pattern = (value.as_slice() != b"*").then_some(value.as_slice());
        } else if opt.eq_ignore_ascii_case(b"type") {
            if !TYPE_NAMES
                .iter()
                .any(|t| t.as_bytes().eq_ignore_ascii_case(value))
            {
                return Reply::err(format!(
                    "unknown type name '{}'",
                    String::from_utf8_lossy(value)
                ));
            }
            type_name = Some(value.as_slice());
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        i += 2;
    }
    let now = server.now;
    let db = server.db();
    let len = db.len() as u64;
    // `next` counts the positions still to visit.
    let mut next = if cursor == 0 { len } else { cursor.min(len) };
    let mut keys = Bulks::with_capacity(0, 0);
    let mut visited = 0;
    while next > 0 && visited < count {
        next -= 1;
        visited += 1;
        let Some((key, entry)) = db.at(next as usize) else {
            continue;
        };
        if entry.expire_at.is_some_and(|at| at <= now) {
            continue;
        }
        if pattern.is_some_and(|p| !glob_match(p, key, false)) {
            continue;
        }
        if type_name.is_some_and(|t| !entry.value.type_name().as_bytes().eq_ignore_ascii_case(t)) {
            continue;
        }
        keys.push(key);
    }
    Reply::Array(vec![
        Reply::Bulk(next.to_string().into_bytes()),
        keys.into_reply(),
    ])
}

/// RANDOMKEY: drawn from the server's seeded generator, skipping (and reclaiming) keys
/// whose time has run out.
pub fn randomkey(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    loop {
        let len = server.db().len();
        if len == 0 {
            return Reply::Nil;
        }
        let pick = (server.random() % len as u64) as usize;
        let db = server.db();
        let Some((key, _)) = db.at(pick) else {
            return Reply::Nil;
        };
        let key = key.clone();
        if db.contains(&key, now) {
            return Reply::Bulk(key);
        }
    }
}

/// RENAME key newkey
pub fn rename(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    rename_generic(server, argv, false)
}

/// RENAMENX key newkey
pub fn renamenx(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    rename_generic(server, argv, true)
}

/// Redis's `renameGenericCommand`: the value moves with its TTL.
fn rename_generic(server: &mut Server, argv: &[Vec<u8>], nx: bool) -> Reply {
    let now = server.now;
    let (from, to) = (&argv[1], &argv[2]);
    let db = server.db();
    if !db.contains(from, now) {
        return Reply::err("no such key");
    }
    let done = if nx { Reply::Integer(1) } else { Reply::ok() };
    if from == to {
        return if nx { Reply::Integer(0) } else { done };
    }
    if db.contains(to, now) {
        if nx {
            return Reply::Integer(0);
        }
        db.remove(to);
    }
    if let Some(entry) = db.remove(from) {
        db.insert_entry(to, entry);
    }
    done
}

/// A DB index argument: `Ok(index)`, or the reply for a non-number or one out of range.
fn db_index(server: &Server, arg: &[u8]) -> Result<usize, Reply> {
    let n = parse_i64(arg)
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| reply::error(reply::NOT_INTEGER))?;
    usize::try_from(n)
        .ok()
        .filter(|&n| n < server.dbs.len())
        .ok_or_else(|| Reply::err("DB index is out of range"))
}

/// COPY source destination [DB destination-db] [REPLACE]
pub fn copy(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Copy);
    let src_db = server.selected_db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if argv[j].eq_ignore_ascii_case(b"db") && j + 1 < argv.len() {
            match db_index(server, &argv[j + 1]) {
                Ok(n) => dst_db = n,
                Err(e) => return e,
            }
            j += 1;
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        j += 1;
    }
    let (from, to) = (&argv[1], &argv[2]);
    if src_db == dst_db && from == to {
        return Reply::err("source and destination objects are the same");
    }
    let now = server.now;
    let Some(entry) = server.dbs[src_db].get(from, now).cloned() else {
        return Reply::Integer(0);
    };
    let dst = &mut server.dbs[dst_db];
    if dst.contains(to, now) {
        if !replace {
            return Reply::Integer(0);
        }
        dst.remove(to);
    }
    dst.insert_entry(to, entry);
    Reply::Integer(1)
}

/// MOVE key db
pub fn move_(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let dst_db = match db_index(server, &argv[2]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let src_db = server.selected_db();
    if src_db == dst_db {
        return Reply::err("source and destination objects are the same");
    }
    let now = server.now;
    let key = &argv[1];
    if !server.dbs[src_db].contains(key, now) || server.dbs[dst_db].contains(key, now) {
        return Reply::Integer(0);
    }
    if let Some(entry) = server.dbs[src_db].remove(key) {
        server.dbs[dst_db].insert_entry(key, entry);
    }
    Reply::Integer(1)
}

/// SWAPDB index1 index2: clients keep their selected numbers and so see the other data.
pub fn swapdb(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let parse = |arg: &[u8]| parse_i64(arg).and_then(|n| i32::try_from(n).ok());
    let Some(a) = parse(&argv[1]) else {
        return Reply::err("invalid first DB index");
    };
    let Some(b) = parse(&argv[2]) else {
        return Reply::err("invalid second DB index");
    };
    let len = server.dbs.len();
    match (usize::try_from(a), usize::try_from(b)) {
        (Ok(a), Ok(b)) if a < len && b < len => {
            server.dbs.swap(a, b);
            for i in [a, b] {
                if let Some(db) = server.dbs.get_mut(i) {
                    db.mark_moved();
                }
            }
            Reply::ok()
        }
        _ => Reply::err("DB index is out of range"),
    }
}

/// DBSIZE
pub fn dbsize(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    Reply::Integer(server.db().len() as i64)
}

/// FLUSHALL [ASYNC|SYNC]
pub fn flushall(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if let Err(e) = flush_mode(argv) {
        return e;
    }
    for db in &mut server.dbs {
        db.clear();
    }
    Reply::ok()
}

/// FLUSHDB [ASYNC|SYNC]
pub fn flushdb(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if let Err(e) = flush_mode(argv) {
        return e;
    }
    server.db().clear();
    Reply::ok()
}

/// The sandbox frees memory at once either way; only the syntax is checked.
fn flush_mode(argv: &[Vec<u8>]) -> Result<(), Reply> {
    match argv.len() {
        1 => Ok(()),
        2 if argv[1].eq_ignore_ascii_case(b"async") || argv[1].eq_ignore_ascii_case(b"sync") => {
            Ok(())
        }
        _ => Err(reply::error(reply::SYNTAX_ERROR)),
    }
}
