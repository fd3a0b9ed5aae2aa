//! Strings: the type API and the string commands (Redis's `t_string.c`).

use super::{wrong_type, Value};
use crate::clock::Millis;
use crate::redis::db::Entry;
use crate::redis::parts::{require_part, Part};
use crate::redis::reply::{self, Reply};
use crate::redis::util::{parse_i64, LongDouble};
use crate::redis::Server;

/// Redis refuses strings longer than proto-max-bulk-len (512 MB). A browser tab cannot afford
/// even one such string, so the sandbox acts as if proto-max-bulk-len were 32 MiB: growing a
/// string past it (SETRANGE, APPEND, SETBIT, BITFIELD, LCS's table) gets the error Redis gives
/// past its own limit.
pub const MAX_STRING_LEN: usize = 32 * 1024 * 1024;

pub const TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

/// The live string entry at `key`: `Ok(None)` if there is none, WRONGTYPE for another type.
pub fn lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<Option<&'a mut Entry>, Reply> {
    let now = server.now;
    match server.db().get(key, now) {
        None => Ok(None),
        Some(entry) => match entry.value {
            Value::Str(_) => Ok(Some(entry)),
            _ => Err(wrong_type()),
        },
    }
}

/// The bytes of the string at `key`, if any.
pub fn get_string(server: &mut Server, key: &[u8]) -> Result<Option<Vec<u8>>, Reply> {
    Ok(lookup(server, key)?.map(|e| bytes(e).clone()))
}

/// The bytes of a string entry.
///
/// Callers reach entries only through `lookup`, which hands out string entries alone. Were
/// another type ever to arrive here, a detached empty buffer is returned (its writes are
/// dropped) rather than crashing the student's session.
pub fn bytes(entry: &mut Entry) -> &mut Vec<u8> {
    match &mut entry.value {
        Value::Str(b) => b,
        _ => Box::leak(Box::default()),
    }
}

/// Redis's `checkStringLength`: may a string of `len` bytes grow by `more`?
pub fn check_length(len: usize, more: usize) -> Result<(), Reply> {
    match len.checked_add(more) {
        Some(total) if total <= MAX_STRING_LEN => Ok(()),
        _ => Err(reply::error(TOO_BIG)),
    }
}

/// The encoding OBJECT ENCODING reports for a string Valkey stored with `tryObjectEncoding`
/// (SET, MSET, ...): `int` for a 64-bit integer, else `embstr` while key and value fit in
/// the object's single allocation (measured on valkey 9.1: key + value <= 113 bytes, keys
/// of 32 bytes or more costing 2 more for their longer header), else `raw`.
pub fn encoding_of(key: &[u8], bytes: &[u8]) -> &'static str {
    if bytes.len() <= 20 && parse_i64(bytes).is_some() {
        "int"
    } else {
        embstr_or_raw(key, bytes)
    }
}

/// Whether a plain (non-integer) string is embedded with its key.
pub fn embstr_or_raw(key: &[u8], bytes: &[u8]) -> &'static str {
    let key_cost = key.len() + if key.len() >= 32 { 2 } else { 0 };
    if key_cost + bytes.len() <= 113 {
        "embstr"
    } else {
        "raw"
    }
}

/// How the `EX`/`PX`/`EXAT`/`PXAT` family expresses a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Port of `getExpireMillisecondsOrReply`: the absolute expiry time for an expire argument,
/// with the server's errors (named after `command`).
pub fn expire_time(command: &str, unit: Unit, arg: &[u8], now: Millis) -> Result<Millis, Reply> {
    let invalid = || Reply::err(format!("invalid expire time in '{command}' command"));
    let n = parse_i64(arg).ok_or_else(|| reply::error(reply::NOT_INTEGER))?;
    if n <= 0 {
        return Err(invalid());
    }
    let ms = match unit {
        Unit::Ex | Unit::ExAt => n.checked_mul(1000).ok_or_else(invalid)?,
        Unit::Px | Unit::PxAt => n,
    };
    let at = match unit {
        Unit::Ex | Unit::Px => ms.checked_add(now as i64).ok_or_else(invalid)?,
        Unit::ExAt | Unit::PxAt => ms,
    };
    Ok(at as Millis)
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// GET key
pub fn get(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Ok(Some(entry)) => Reply::Bulk(bytes(entry).clone()),
        Ok(None) => Reply::Nil,
        Err(e) => e,
    }
}

/// GET's reply rendered as redis-cli prints it, without copying the value out first.
pub fn get_into(server: &mut Server, key: &[u8], out: &mut String) {
    match lookup(server, key) {
        Ok(Some(entry)) => {
            reply::quote_bytes(bytes(entry), out);
            out.push('\n');
        }
        Ok(None) => out.push_str("(nil)\n"),
        Err(e) => e.write_cli_text(out),
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
    At(Millis),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Condition<'a> {
    Always,
    IfMissing,
    IfExists,
    /// Valkey's `IFEQ value`: only if the key holds exactly this string.
    IfEqual(&'a [u8]),
}

/// The options `parseExtendedStringArgumentsOrReply` accepts after SET's value or GETEX's key.
#[derive(Debug, Default)]
struct ExtendedArgs<'a> {
    nx: bool,
    xx: bool,
    ifeq: Option<&'a [u8]>,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Unit, &'a [u8])>,
}

/// Port of `parseExtendedStringArgumentsOrReply`: every syntax error is found before any
/// value is validated, and repeating the same option is fine.
fn parse_extended(args: &[Vec<u8>], for_set: bool) -> Result<ExtendedArgs<'_>, Reply> {
    let mut o = ExtendedArgs::default();
    let mut i = 0;
    while i < args.len() {
        let opt = args[i].as_slice();
        let next = args.get(i + 1).map(Vec::as_slice);
        let is = |word: &str| opt.eq_ignore_ascii_case(word.as_bytes());
        let unit_free = |o: &ExtendedArgs, unit: Unit| {
            !o.keepttl && !o.persist && o.expire.is_none_or(|(u, _)| u == unit)
        };
        let timed = |u| {
            [
                ("EX", Unit::Ex),
                ("PX", Unit::Px),
                ("EXAT", Unit::ExAt),
                ("PXAT", Unit::PxAt),
            ]
            .into_iter()
            .find(|(w, unit)| *unit == u && opt.eq_ignore_ascii_case(w.as_bytes()))
            .is_some()
        };
        if for_set && is("NX") && !o.xx && o.ifeq.is_none() {
            o.nx = true;
        } else if for_set && is("XX") && !o.nx && o.ifeq.is_none() {
            o.xx = true;
        } else if for_set && is("IFEQ") && !o.nx && !o.xx && next.is_some() {
            o.ifeq = next;
            i += 1;
        } else if for_set && is("GET") {
            o.get = true;
        } else if for_set && is("KEEPTTL") && !o.persist && o.expire.is_none() {
            o.keepttl = true;
        } else if !for_set && is("PERSIST") && !o.keepttl && o.expire.is_none() {
            o.persist = true;
        } else if let Some(unit) = [Unit::Ex, Unit::Px, Unit::ExAt, Unit::PxAt]
            .into_iter()
            .find(|&u| timed(u))
            .filter(|&u| unit_free(&o, u) && next.is_some())
        {
            o.expire = next.map(|n| (unit, n));
            i += 1;
        } else {
            return Err(reply::error(reply::SYNTAX_ERROR));
        }
        i += 1;
    }
    Ok(o)
}

/// SET key value [NX|XX|IFEQ v] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
pub fn set(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let opts = match parse_extended(&argv[3..], true) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let condition = if opts.nx {
        Condition::IfMissing
    } else if opts.xx {
        Condition::IfExists
    } else if let Some(v) = opts.ifeq {
        Condition::IfEqual(v)
    } else {
        Condition::Always
    };
    let expiry = match opts.expire {
        Some((unit, arg)) => match expire_time("set", unit, arg, server.now) {
            Ok(at) => Expiry::At(at),
            Err(e) => return e,
        },
        None if opts.keepttl => Expiry::Keep,
        None => Expiry::Clear,
    };
    let replies = (Reply::ok(), Reply::Nil);
    set_generic(
        server, &argv[1], &argv[2], condition, expiry, opts.get, replies,
    )
}

/// Redis's `setGenericCommand`, shared by SET, SETNX, SETEX and PSETEX. `ok` builds the
/// replies are for a write that happened and one the condition blocked (OK / nil, or 1 / 0
/// for SETNX); with GET the old value is the reply either way.
fn set_generic(
    server: &mut Server,
    key: &[u8],
    value: &[u8],
    condition: Condition,
    expiry: Expiry,
    want_get: bool,
    (done, skipped): (Reply, Reply),
) -> Reply {
    let now = server.now;
    // The commonest SET needs nothing from the old value: one pass over the keyspace.
    if condition == Condition::Always && !want_get && expiry != Expiry::Keep {
        let expire_at = match expiry {
            Expiry::At(at) => Some(at),
            Expiry::Clear | Expiry::Keep => None,
        };
        server.db().set_string(key, value, expire_at, now);
        return done;
    }
    let (exists, old, old_ttl) = match lookup(server, key) {
        Ok(Some(entry)) => {
            let old = match condition {
                Condition::IfEqual(_) => Some(bytes(entry).clone()),
                _ if want_get => Some(bytes(entry).clone()),
                _ => None,
            };
            (true, old, entry.expire_at)
        }
        Ok(None) => (false, None, None),
        Err(e) if want_get || matches!(condition, Condition::IfEqual(_)) => return e,
        Err(_) => (true, None, None),
    };
    let blocked = match condition {
        Condition::Always => false,
        Condition::IfMissing => exists,
        Condition::IfExists => !exists,
        Condition::IfEqual(v) => old.as_deref() != Some(v),
    };
    if !blocked {
        let expire_at = match expiry {
            Expiry::Clear => None,
            Expiry::Keep => old_ttl,
            Expiry::At(at) => Some(at),
        };
        server
            .db()
            .set_with_expiry(key, Value::Str(value.to_vec()), expire_at, now);
    }
    match (want_get, old) {
        (true, Some(bytes)) => Reply::Bulk(bytes),
        (true, None) => Reply::Nil,
        (false, _) if blocked => skipped,
        (false, _) => done,
    }
}

/// SETNX key value
pub fn setnx(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let cond = Condition::IfMissing;
    let replies = (Reply::Integer(1), Reply::Integer(0));
    set_generic(
        server,
        &argv[1],
        &argv[2],
        cond,
        Expiry::Clear,
        false,
        replies,
    )
}

/// SETEX key seconds value
pub fn setex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    set_with_ttl(server, argv, "setex", Unit::Ex)
}

/// PSETEX key milliseconds value
pub fn psetex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    set_with_ttl(server, argv, "psetex", Unit::Px)
}

fn set_with_ttl(server: &mut Server, argv: &[Vec<u8>], name: &str, unit: Unit) -> Reply {
    match expire_time(name, unit, &argv[2], server.now) {
        Ok(at) => {
            let cond = Condition::Always;
            let replies = (Reply::ok(), Reply::Nil);
            set_generic(
                server,
                &argv[1],
                &argv[3],
                cond,
                Expiry::At(at),
                false,
                replies,
            )
        }
        Err(e) => e,
    }
}

/// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
pub fn getex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let opts = match parse_extended(&argv[2..], false) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let now = server.now;
    let at = match opts.expire {
        Some((unit, arg)) => match expire_time("getex", unit, arg, now) {
            Ok(at) => Some(at),
            Err(e) => return e,
        },
        None => None,
    };
    let key = &argv[1];
    let value = match lookup(server, key) {
        Ok(Some(entry)) => bytes(entry).clone(),
        Ok(None) => return Reply::Nil,
        Err(e) => return e,
    };
    let db = server.db();
    match at {
        // An absolute time already past deletes the key, as an expired key would be.
        Some(at) if at <= now => {
            db.remove(key);
        }
        Some(at) => {
            db.set_expiry(key, Some(at));
        }
        None if opts.persist => {
            db.set_expiry(key, None);
        }
        None => {}
    }
    Reply::Bulk(value)
}

/// GETDEL key
pub fn getdel(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match get_string(server, &argv[1]) {
        Ok(Some(value)) => {
            server.db().remove(&argv[1]);
            Reply::Bulk(value)
        }
        Ok(None) => Reply::Nil,
        Err(e) => e,
    }
}

/// GETSET key value: SET key value GET, clearing any TTL.
pub fn getset(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let cond = Condition::Always;
    let replies = (Reply::ok(), Reply::Nil);
    set_generic(
        server,
        &argv[1],
        &argv[2],
        cond,
        Expiry::Clear,
        true,
        replies,
    )
}

/// MGET key [key ...]: keys of other types read as nil.
pub fn mget(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let items = argv[1..]
        .iter()
        .map(|key| match lookup(server, key) {
            Ok(Some(entry)) => Reply::Bulk(bytes(entry).clone()),
            _ => Reply::Nil,
        })
        .collect();
    Reply::Array(items)
}

/// MSET key value [key value ...]
pub fn mset(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    mset_generic(server, argv, false)
}

/// MSETNX key value [key value ...]: all or nothing, and only if none of the keys exists.
pub fn msetnx(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    mset_generic(server, argv, true)
}

fn mset_generic(server: &mut Server, argv: &[Vec<u8>], nx: bool) -> Reply {
    if argv.len().is_multiple_of(2) {
        return Reply::err(format!(
            "wrong number of arguments for '{}' command",
            if nx { "msetnx" } else { "mset" }
        ));
    }
    let now = server.now;
    let db = server.db();
    if nx && argv[1..].chunks(2).any(|pair| db.contains(&pair[0], now)) {
        return Reply::Integer(0);
    }
    for pair in argv[1..].chunks_exact(2) {
        db.set(&pair[0], Value::Str(pair[1].clone()), now);
    }
    if nx {
        Reply::Integer(1)
    } else {
        Reply::ok()
    }
}

/// APPEND key value
pub fn append(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let extra = &argv[2];
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(None) => {
            server.db().set(&argv[1], Value::Str(extra.clone()), now);
            Reply::Integer(extra.len() as i64)
        }
        Ok(Some(entry)) => {
            let value = bytes(entry);
            if let Err(e) = check_length(value.len(), extra.len()) {
                return e;
            }
            value.extend_from_slice(extra);
            let len = value.len();
            entry.encoding = Some("raw");
            Reply::Integer(len as i64)
        }
    }
}

/// STRLEN key
pub fn strlen(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Ok(Some(entry)) => Reply::Integer(bytes(entry).len() as i64),
        Ok(None) => Reply::Integer(0),
        Err(e) => e,
    }
}

/// INCR key
pub fn incr(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    incr_decr(server, &argv[1], 1)
}

/// DECR key
pub fn decr(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    incr_decr(server, &argv[1], -1)
}

/// INCRBY key increment
pub fn incrby(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match parse_i64(&argv[2]) {
        Some(by) => incr_decr(server, &argv[1], by),
        None => reply::error(reply::NOT_INTEGER),
    }
}

/// DECRBY key decrement
pub fn decrby(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match parse_i64(&argv[2]) {
        Some(i64::MIN) => Reply::err("decrement would overflow"),
        Some(by) => incr_decr(server, &argv[1], -by),
        None => reply::error(reply::NOT_INTEGER),
    }
}

/// Redis's `incrDecrCommand`, shared by INCR, DECR, INCRBY and DECRBY. The TTL survives.
fn incr_decr(server: &mut Server, key: &[u8], by: i64) -> Reply {
    let now = server.now;
    let (old, entry_exists) = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => (0, false),
        Ok(Some(entry)) => match parse_i64(bytes(entry)) {
            Some(n) => (n, true),
            None => return reply::error(reply::NOT_INTEGER),
        },
    };
    let Some(new) = old.checked_add(by) else {
        return Reply::err("increment or decrement would overflow");
    };
    let text = new.to_string().into_bytes();
    match lookup(server, key) {
        Ok(Some(entry)) if entry_exists => {
            *bytes(entry) = text;
            entry.encoding = None;
        }
        _ => server.db().set(key, Value::Str(text), now),
    }
    Reply::Integer(new)
}

/// INCRBYFLOAT key increment
pub fn incrbyfloat(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let key = &argv[1];
    let not_float = || Reply::err("value is not a valid float");
    let current = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => Ok(Some(LongDouble::ZERO)),
        Ok(Some(entry)) => LongDouble::parse(bytes(entry)),
    };
    let (Ok(current), Ok(incr)) = (current, LongDouble::parse(&argv[2])) else {
        return not_float();
    };
    let Some(sum) = current.zip(incr).and_then(|(a, b)| a.checked_add(b)) else {
        return Reply::err("increment would produce NaN or Infinity");
    };
    let text = sum.to_human().into_bytes();
    // The formatted number is stored as a plain string object, never as an integer.
    let encoding = embstr_or_raw(key, &text);
    let reply = Reply::Bulk(text.clone());
    match lookup(server, key) {
        Ok(Some(entry)) => {
            *bytes(entry) = text;
            entry.encoding = Some(encoding);
        }
        _ => {
            let db = server.db();
            db.set(key, Value::Str(text), now);
            if let Some(entry) = db.peek(key, now) {
                entry.encoding = Some(encoding);
            }
        }
    }
    reply
}

/// GETRANGE key start end (and its old name SUBSTR).
pub fn getrange(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let (Some(start), Some(end)) = (parse_i64(&argv[2]), parse_i64(&argv[3])) else {
        return reply::error(reply::NOT_INTEGER);
    };
    let value = match lookup(server, &argv[1]) {
        Ok(Some(entry)) => bytes(entry),
        Ok(None) => return Reply::bulk(""),
        Err(e) => return e,
    };
    let len = value.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Reply::bulk("");
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return Reply::bulk("");
    }
    Reply::Bulk(value[start as usize..=end as usize].to_vec())
}

/// SETRANGE key offset value
pub fn setrange(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let Some(offset) = parse_i64(&argv[2]) else {
        return reply::error(reply::NOT_INTEGER);
    };
    if offset < 0 {
        return Reply::err("offset is out of range");
    }
    let patch = &argv[3];
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(None) => {
            if patch.is_empty() {
                return Reply::Integer(0);
            }
            if let Err(e) = check_length(offset, patch.len()) {
                return e;
            }
            let mut value = vec![0u8; offset];
            value.extend_from_slice(patch);
            let len = value.len();
            let db = server.db();
            db.set(&argv[1], Value::Str(value), now);
            if let Some(entry) = db.peek(&argv[1], now) {
                entry.encoding = Some("raw");
            }
            Reply::Integer(len as i64)
        }
        Ok(Some(entry)) => {
            let value = bytes(entry);
            if patch.is_empty() {
                return Reply::Integer(value.len() as i64);
            }
            if let Err(e) = check_length(offset, patch.len()) {
                return e;
            }
            let end = offset + patch.len();
            if value.len() < end {
                value.resize(end, 0);
            }
            value[offset..end].copy_from_slice(patch);
            let len = value.len();
            entry.encoding = Some("raw");
            Reply::Integer(len as i64)
        }
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
pub fn lcs(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Lcs);
    let a = get_string(server, &argv[1]);
    let b = get_string(server, &argv[2]);
    let (Ok(a), Ok(b)) = (a, b) else {
        return Reply::err("The specified keys must contain string values");
    };
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let opt = argv[j].as_slice();
        let more = j + 1 < argv.len();
        if opt.eq_ignore_ascii_case(b"IDX") {
            getidx = true;
        } else if opt.eq_ignore_ascii_case(b"LEN") {
            getlen = true;
        } else if opt.eq_ignore_ascii_case(b"WITHMATCHLEN") {
            withmatchlen = true;
        } else if opt.eq_ignore_ascii_case(b"MINMATCHLEN") && more {
            match parse_i64(&argv[j + 1]) {
                Some(n) => minmatchlen = n.max(0),
                None => return reply::error(reply::NOT_INTEGER),
            }
            j += 1;
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        j += 1;
    }
    if getidx && getlen {
        return Reply::err("If you want both the length and indexes, please just use IDX.");
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen + 1).saturating_mul(blen + 1);
    if cells.saturating_mul(4) > MAX_STRING_LEN {
        return Reply::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        );
    }
    // table[i * (blen + 1) + j] is the LCS length of a[..i] and b[..j].
    let width = blen + 1;
    let mut table = vec![0u32; cells];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[alen * width + blen];
    if getlen {
        return Reply::Integer(i64::from(total));
    }
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut matches = Vec::new();
    // Ranges are tracked backwards, as Redis walks the table from the end.
    let mut range: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            match range.as_mut() {
                None => range = Some((i - 1, i - 1, j - 1, j - 1)),
                Some(r) if r.0 == i && r.2 == j => {
                    r.0 -= 1;
                    r.2 -= 1;
                }
                Some(_) => emit = true,
            }
            if range.is_some_and(|r| r.0 == 0 || r.2 == 0) {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = range.is_some();
        }
        if emit {
            if let Some((a0, a1, b0, b1)) = range.take() {
                let len = (a1 - a0 + 1) as i64;
                if minmatchlen == 0 || len >= minmatchlen {
                    let mut item = vec![
                        Reply::Array(vec![Reply::Integer(a0 as i64), Reply::Integer(a1 as i64)]),
                        Reply::Array(vec![Reply::Integer(b0 as i64), Reply::Integer(b1 as i64)]),
                    ];
                    if withmatchlen {
                        item.push(Reply::Integer(len));
                    }
                    matches.push(Reply::Array(item));
                }
            }
        }
    }
    if getidx {
        Reply::Array(vec![
            Reply::bulk("matches"),
            Reply::Array(matches),
            Reply::bulk("len"),
            Reply::Integer(i64::from(total)),
        ])
    } else {
        Reply::Bulk(result)
    }
}
