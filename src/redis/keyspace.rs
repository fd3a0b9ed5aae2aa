//! Commands over keys regardless of their type (Redis's `db.c` / `expire.c` families).

use super::reply::{self, Reply};
use super::Server;

/// DEL key [key ...]
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

/// TYPE key
pub fn type_(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let name = server
        .db()
        .get(&argv[1], now)
        .map_or("none", |entry| entry.value.type_name());
    Reply::status(name)
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
