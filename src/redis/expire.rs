//! The expiry commands (Redis's `expire.c`): EXPIRE and friends share `expire_generic`, the
//! TTL readers share `ttl_generic`.

use super::reply::{self, Reply};
use super::util::parse_i64;
use super::Server;

/// EXPIRE key seconds [NX|XX|GT|LT]
pub fn expire(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now as i64;
    expire_generic(server, argv, now, 1000, "expire")
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT]
pub fn pexpire(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now as i64;
    expire_generic(server, argv, now, 1, "pexpire")
}

/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
pub fn expireat(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    expire_generic(server, argv, 0, 1000, "expireat")
}

/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
pub fn pexpireat(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    expire_generic(server, argv, 0, 1, "pexpireat")
}

/// Port of `expireGenericCommand`: `base` is added to the time (now for the relative forms),
/// `scale` turns its unit into milliseconds. A time already past deletes the key.
fn expire_generic(
    server: &mut Server,
    argv: &[Vec<u8>],
    base: i64,
    scale: i64,
    name: &str,
) -> Reply {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &argv[3..] {
        let flag = match opt.to_ascii_lowercase().as_slice() {
            b"nx" => &mut nx,
            b"xx" => &mut xx,
            b"gt" => &mut gt,
            b"lt" => &mut lt,
            _ => {
                let msg = format!("Unsupported option {}", String::from_utf8_lossy(opt));
                return Reply::err(msg.replace(['\r', '\n'], " "));
            }
        };
        *flag = true;
    }
    if nx && (xx || gt || lt) {
        return Reply::err("NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return Reply::err("GT and LT options at the same time are not compatible");
    }
    let Some(when) = parse_i64(&argv[2]) else {
        return reply::error(reply::NOT_INTEGER);
    };
    let Some(when) = when.checked_mul(scale).and_then(|w| w.checked_add(base)) else {
        return Reply::err(format!("invalid expire time in '{name}' command"));
    };
    let now = server.now;
    let key = &argv[1];
    let db = server.db();
    let Some(entry) = db.peek(key, now) else {
        return Reply::Integer(0);
    };
    let current = entry.expire_at.map(|at| at as i64);
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if refused {
        return Reply::Integer(0);
    }
    if when <= now as i64 {
        db.remove(key);
    } else {
        db.set_expiry(key, Some(when as u64));
    }
    Reply::Integer(1)
}

/// TTL key
pub fn ttl(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    ttl_generic(server, &argv[1], false, false)
}

/// PTTL key
pub fn pttl(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    ttl_generic(server, &argv[1], true, false)
}

/// EXPIRETIME key
pub fn expiretime(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    ttl_generic(server, &argv[1], false, true)
}

/// PEXPIRETIME key
pub fn pexpiretime(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    ttl_generic(server, &argv[1], true, true)
}

/// Port of `ttlGenericCommand`: -2 without the key, -1 without a TTL; the relative forms
/// round to the nearest second.
fn ttl_generic(server: &mut Server, key: &[u8], ms: bool, absolute: bool) -> Reply {
    let now = server.now;
    let Some(entry) = server.db().peek(key, now) else {
        return Reply::Integer(-2);
    };
    let Some(at) = entry.expire_at else {
        return Reply::Integer(-1);
    };
    let at = at as i64;
    let value = if absolute {
        at
    } else {
        (at - now as i64).max(0)
    };
    Reply::Integer(match (ms, absolute) {
        (true, _) => value,
        (false, true) => value / 1000,
        (false, false) => (value + 500) / 1000,
    })
}

/// PERSIST key
pub fn persist(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let db = server.db();
    match db.peek(&argv[1], now) {
        Some(entry) if entry.expire_at.is_some() => {
            db.set_expiry(&argv[1], None);
            Reply::Integer(1)
        }
        _ => Reply::Integer(0),
    }
}
