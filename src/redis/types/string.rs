//! Strings: the type API and the string commands.

use super::Value;
use crate::redis::reply::{self, Reply};
use crate::redis::Server;

/// The string stored at `key`: `Ok(None)` if there is none, `Err` (WRONGTYPE) if the key
/// holds another type.
pub fn get_string(server: &mut Server, key: &[u8]) -> Result<Option<Vec<u8>>, Reply> {
    let now = server.now;
    match server.db().get(key, now) {
        None => Ok(None),
        Some(entry) => match &entry.value {
            Value::Str(bytes) => Ok(Some(bytes.clone())),
            #[allow(unreachable_patterns)]
            _ => Err(reply::error(reply::WRONGTYPE)),
        },
    }
}

/// GET key
pub fn get(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match get_string(server, &argv[1]) {
        Ok(Some(bytes)) => Reply::Bulk(bytes),
        Ok(None) => Reply::Nil,
        Err(e) => e,
    }
}

/// How SET's options ask for the key's expiry to be treated.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expiry {
    /// No option: the new value has no TTL.
    Clear,
    /// KEEPTTL
    Keep,
    /// EX / PX / EXAT / PXAT, resolved to an absolute time.
    At(u64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Condition {
    Always,
    IfMissing,
    IfExists,
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
///
/// Options are parsed as Redis's `parseExtendedStringArgumentsOrReply` does: every syntax
/// error is found before the expire time is validated, and repeating the same option is fine.
pub fn set(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let mut condition = Condition::Always;
    let mut want_get = false;
    let mut keep_ttl = false;
    let mut expire: Option<(&'static str, &[u8])> = None;
    let mut i = 3;
    while i < argv.len() {
        let opt = argv[i].to_ascii_uppercase();
        let next = argv.get(i + 1);
        let unit_free = |unit: &str| expire.is_none_or(|(u, _)| u == unit);
        match (opt.as_slice(), next) {
            (b"NX", _) if condition != Condition::IfExists => condition = Condition::IfMissing,
            (b"XX", _) if condition != Condition::IfMissing => condition = Condition::IfExists,
            (b"GET", _) => want_get = true,
            (b"KEEPTTL", _) if expire.is_none() => keep_ttl = true,
            (b"EX", Some(n)) if !keep_ttl && unit_free("EX") => expire = Some(("EX", n)),
            (b"PX", Some(n)) if !keep_ttl && unit_free("PX") => expire = Some(("PX", n)),
            (b"EXAT", Some(n)) if !keep_ttl && unit_free("EXAT") => expire = Some(("EXAT", n)),
            (b"PXAT", Some(n)) if !keep_ttl && unit_free("PXAT") => expire = Some(("PXAT", n)),
            _ => return reply::error(reply::SYNTAX_ERROR),
        }
        i += if expire.is_some_and(|(u, _)| u.as_bytes() == opt.as_slice()) {
            2
        } else {
            1
        };
    }
    let expiry = match expire {
        None if keep_ttl => Expiry::Keep,
        None => Expiry::Clear,
        Some((unit, arg)) => match expire_time(unit, arg, now) {
            Ok(at) => Expiry::At(at),
            Err(e) => return e,
        },
    };
    let key = &argv[1];
    let old = if want_get {
        match get_string(server, key) {
            Ok(old) => Some(old),
            Err(e) => return e,
        }
    } else {
        None
    };
    let db = server.db();
    let exists = db.contains(key, now);
    let blocked = match condition {
        Condition::Always => false,
        Condition::IfMissing => exists,
        Condition::IfExists => !exists,
    };
    if !blocked {
        let expire_at = match expiry {
            Expiry::Clear => None,
            Expiry::Keep => db.get(key, now).and_then(|e| e.expire_at),
            Expiry::At(at) => Some(at),
        };
        db.set_with_expiry(key, Value::Str(argv[2].clone()), expire_at);
    }
    match old {
        Some(Some(bytes)) => Reply::Bulk(bytes),
        Some(None) => Reply::Nil,
        None if blocked => Reply::Nil,
        None => Reply::ok(),
    }
}

/// Resolves an EX/PX/EXAT/PXAT argument to an absolute time, with the server's errors.
fn expire_time(unit: &str, arg: &[u8], now: u64) -> Result<u64, Reply> {
    let invalid = || Reply::err("invalid expire time in 'set' command");
    let n = parse_i64(arg).ok_or_else(|| reply::error(reply::NOT_INTEGER))?;
    if n <= 0 {
        return Err(invalid());
    }
    let ms = match unit {
        "EX" | "EXAT" => n.checked_mul(1000).ok_or_else(invalid)?,
        _ => n,
    };
    let at = match unit {
        "EX" | "PX" => ms.checked_add(now as i64).ok_or_else(invalid)?,
        _ => ms,
    };
    Ok(at as u64)
}

/// Parses a Redis integer argument: optional `-`, digits, no spaces or `+`, within i64.
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?;
    if text.is_empty() || text.starts_with('+') || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    if text.starts_with("-0") {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arguments_follow_string2ll() {
        for (text, value) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("+1", None),
            ("01", None),
            ("-0", None),
            (" 1", None),
            ("1.0", None),
            ("", None),
        ] {
            assert_eq!(parse_i64(text.as_bytes()), value, "{text}");
        }
    }
}
