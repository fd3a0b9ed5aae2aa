//! Hashes: field-value maps, with per-field expiry (Redis's t_hash.c, with valkey 9's field
//! TTLs).
//!
//! A hash starts as a `listpack` (fields in insertion order) and becomes a `hashtable` for
//! good once it has more than 512 fields, a field or value longer than 64 bytes, or a field
//! with a TTL. Fields with a TTL are also kept in an ordered set by expiry time: the keyspace
//! (`db.rs`) drops due fields before any command sees the hash, and its active cycle
//! reclaims them in time order; a hash whose last field expires is deleted.

use crate::redis::parts::{require_part, Part};
use std::collections::BTreeSet;

use indexmap::IndexMap;

use super::set::{parse_scan_cursor, parse_scan_options, random_picks, range_long, scan_positions};
use super::{wrong_type, Value};
use crate::clock::Millis;
use crate::redis::db::FxBuild;
use crate::redis::reply::{self, Bulks, Reply};
use crate::redis::util::{parse_i64, LongDouble};
use crate::redis::Server;

/// `hash-max-listpack-entries` (valkey 9's default).
pub const MAX_LISTPACK_ENTRIES: usize = 512;
/// `hash-max-listpack-value`
pub const MAX_LISTPACK_VALUE: usize = 64;
/// Up to this many fields, a removal keeps the order of the rest.
const KEEP_ORDER_UP_TO: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
struct Field {
    value: Vec<u8>,
    expire_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hash {
    fields: IndexMap<Vec<u8>, Field, FxBuild>,
    /// Fields with a TTL, by expiry time.
    volatile: BTreeSet<(Millis, Vec<u8>)>,
    /// Encoded as a hash table (else a listpack); never goes back.
    table: bool,
}

/// What HEXPIRE's NX / XX / GT / LT ask.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExpireFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

impl Hash {
    pub fn encoding(&self) -> &'static str {
        if self.table {
            "hashtable"
        } else {
            "listpack"
        }
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn get(&self, field: &[u8]) -> Option<&Vec<u8>> {
        self.fields.get(field).map(|f| &f.value)
    }

    /// The TTL of `field`: `None` if there is no such field, `Some(None)` if it has none.
    pub fn expiry_of(&self, field: &[u8]) -> Option<Option<Millis>> {
        self.fields.get(field).map(|f| f.expire_at)
    }

    /// (field, value) pairs in iteration order (insertion order for a listpack).
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Vec<u8>)> {
        self.fields.iter().map(|(k, f)| (k, &f.value))
    }

    /// The pair at position `i` of the iteration order.
    pub fn at(&self, i: usize) -> Option<(&Vec<u8>, &Vec<u8>)> {
        self.fields.get_index(i).map(|(k, f)| (k, &f.value))
    }

    /// The fields with a TTL later than `now`, by expiry time then name, from just after
    /// `after` on (all of them when `None`).
    pub fn volatile_after(
        &self,
        now: Millis,
        after: Option<(Millis, Vec<u8>)>,
    ) -> impl Iterator<Item = &(Millis, Vec<u8>)> {
        use std::ops::Bound;
        let start = match after {
            Some(last) => Bound::Excluded(last),
            None => Bound::Included((now.saturating_add(1), Vec::new())),
        };
        self.volatile.range((start, Bound::Unbounded))
    }

    /// The earliest field expiry, if any field has a TTL.
    pub fn next_expiry(&self) -> Option<Millis> {
        self.volatile.first().map(|(at, _)| *at)
    }

    /// Port of `hashTypeTryConversion`: before `args` (fields and values, alternating)
    /// arrive, a listpack that could not hold them becomes a hash table.
    pub fn prepare_for(&mut self, args: &[Vec<u8>]) {
        if self.table {
            return;
        }
        if args.len() / 2 > MAX_LISTPACK_ENTRIES
            || args.iter().any(|a| a.len() > MAX_LISTPACK_VALUE)
        {
            self.table = true;
        }
    }

    /// Port of `hashTypeSet`: sets `field` to `value`, dropping the field's TTL unless
    /// `keep_ttl`. True if the field is new.
    pub fn set(&mut self, field: &[u8], value: Vec<u8>, keep_ttl: bool) -> bool {
        if field.len() > MAX_LISTPACK_VALUE || value.len() > MAX_LISTPACK_VALUE {
            self.table = true;
        }
        let created = match self.fields.get_mut(field) {
            Some(slot) => {
                slot.value = value;
                if !keep_ttl {
                    if let Some(at) = slot.expire_at.take() {
                        self.volatile.remove(&(at, field.to_vec()));
                    }
                }
                false
            }
            None => {
                self.fields.insert(
                    field.to_vec(),
                    Field {
                        value,
                        expire_at: None,
                    },
                );
                true
            }
        };
        if self.fields.len() > MAX_LISTPACK_ENTRIES {
            self.table = true;
        }
        created
    }

    /// True if `field` was there. The others keep their order, as they do in a listpack and
    /// in a small hash table; a big table fills the hole with its last field instead (O(1)),
    /// its order being the hash function's anyway.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let removed = if self.fields.len() > KEEP_ORDER_UP_TO {
            self.fields.swap_remove(field)
        } else {
            self.fields.shift_remove(field)
        };
        match removed {
            Some(f) => {
                if let Some(at) = f.expire_at {
                    self.volatile.remove(&(at, field.to_vec()));
                }
                true
            }
            None => false,
        }
    }

    /// Port of `hashTypeSetExpire`: -2 no such field, 0 a condition failed, 1 set, 2 the
    /// time is already past (`when <= now`) and the field was deleted.
    pub fn set_expiry(&mut self, field: &[u8], when: i64, flags: ExpireFlags, now: Millis) -> i64 {
        let Some(current) = self.fields.get(field).map(|f| f.expire_at) else {
            return -2;
        };
        let past = when <= now as i64;
        if !self.table {
            // A listpack holds no TTLs: its fields count as never expiring.
            if flags.xx || flags.gt {
                return 0;
            }
            if past {
                self.remove(field);
                return 2;
            }
            self.table = true;
        }
        let current = current.map(|at| at as i64);
        let refused = (flags.nx && current.is_some())
            || (flags.xx && current.is_none())
            || (flags.gt && current.is_none_or(|c| when <= c))
            || (flags.lt && current.is_some_and(|c| when >= c));
        if refused {
            return 0;
        }
        if past {
            self.remove(field);
            return 2;
        }
        let when = when as Millis;
        if let Some(slot) = self.fields.get_mut(field) {
            if let Some(old) = slot.expire_at.replace(when) {
                self.volatile.remove(&(old, field.to_vec()));
            }
            self.volatile.insert((when, field.to_vec()));
        }
        1
    }

    /// Port of `hashTypePersist`: -2 no such field, -1 no TTL, 1 TTL removed.
    pub fn persist(&mut self, field: &[u8]) -> i64 {
        match self.fields.get_mut(field) {
            None => -2,
            Some(slot) => match slot.expire_at.take() {
                None => -1,
                Some(at) => {
                    self.volatile.remove(&(at, field.to_vec()));
                    1
                }
            },
        }
    }

    /// The expiry index matches the fields and the encoding is one the server could have
    /// (for tests).
    #[cfg(test)]
    pub(crate) fn check(&self) -> Result<(), String> {
        let volatile: BTreeSet<(Millis, Vec<u8>)> = self
            .fields
            .iter()
            .filter_map(|(k, f)| f.expire_at.map(|at| (at, k.clone())))
            .collect();
        if volatile != self.volatile {
            return Err("expiry index out of step".into());
        }
        let small = self.fields.len() <= MAX_LISTPACK_ENTRIES
            && self.volatile.is_empty()
            && self
                .fields
                .iter()
                .all(|(k, f)| k.len() <= MAX_LISTPACK_VALUE && f.value.len() <= MAX_LISTPACK_VALUE);
        if !self.table && !small {
            return Err("listpack holding what a listpack cannot".into());
        }
        Ok(())
    }

    /// Deletes up to `budget` fields whose time is up at `now`, earliest first; returns how
    /// many went.
    pub fn expire_due(&mut self, now: Millis, budget: usize) -> usize {
        let mut dropped = 0;
        while dropped < budget {
            let Some((at, field)) = self.volatile.first().cloned() else {
                break;
            };
            if at > now {
                break;
            }
            self.remove(&field);
            dropped += 1;
        }
        dropped
    }
}

// ---------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------

/// The live hash at `key` (its due fields already dropped): `Ok(None)` if there is none,
/// WRONGTYPE for another type.
pub fn lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<Option<&'a mut Hash>, Reply> {
    let now = server.now;
    match server.db().get(key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Hash(hash) => Ok(Some(hash)),
            _ => Err(wrong_type()),
        },
    }
}

/// The hash at `key`, created empty if missing (`hashTypeLookupWriteOrCreate`). Callers end
/// with `finish`, which removes it again if it stayed empty.
fn lookup_or_create<'a>(server: &'a mut Server, key: &[u8]) -> Result<&'a mut Hash, Reply> {
    if lookup(server, key)?.is_none() {
        let now = server.now;
        server.db().set(key, Value::Hash(Box::default()), now);
    }
    match lookup(server, key)? {
        Some(hash) => Ok(hash),
        None => Err(wrong_type()),
    }
}

/// After a write: deletes the key if its hash is empty, and re-files it in the keyspace's
/// index of field expiries.
fn finish(server: &mut Server, key: &[u8]) {
    let empty = matches!(lookup(server, key), Ok(Some(h)) if h.is_empty());
    let db = server.db();
    if empty {
        db.remove(key);
    } else {
        db.sync_field_expiry(key);
    }
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// HSET key field value [field value ...] (and HMSET, which answers OK).
pub fn hset(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() % 2 == 1 {
        return crate::redis::commands::wrong_arity_for(argv);
    }
    let key = &argv[1];
    let created = match lookup_or_create(server, key) {
        Err(e) => return e,
        Ok(hash) => {
            hash.prepare_for(&argv[2..]);
            argv[2..]
                .chunks_exact(2)
                .filter(|pair| hash.set(&pair[0], pair[1].clone(), false))
                .count()
        }
    };
    finish(server, key);
    if argv[0]
        .get(1)
        .is_some_and(|c| c.eq_ignore_ascii_case(&b's'))
    {
        Reply::Integer(created as i64)
    } else {
        Reply::ok()
    }
}

/// HSETNX key field value
pub fn hsetnx(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let key = &argv[1];
    let created = match lookup_or_create(server, key) {
        Err(e) => return e,
        Ok(hash) if hash.get(&argv[2]).is_some() => false,
        Ok(hash) => {
            hash.prepare_for(&argv[2..4]);
            hash.set(&argv[2], argv[3].clone(), false)
        }
    };
    finish(server, key);
    Reply::Integer(i64::from(created))
}

/// HGET key field
pub fn hget(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(hash) => match hash.and_then(|h| h.get(&argv[2])) {
            Some(v) => Reply::Bulk(v.clone()),
            None => Reply::Nil,
        },
    }
}

/// HMGET key field [field ...]
pub fn hmget(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(hash) => {
            let hash = hash.map(|h| &*h);
            Reply::Array(
                argv[2..]
                    .iter()
                    .map(|f| match hash.and_then(|h| h.get(f)) {
                        Some(v) => Reply::Bulk(v.clone()),
                        None => Reply::Nil,
                    })
                    .collect(),
            )
        }
    }
}

/// Port of `genericHgetallCommand`.
fn hgetall_generic(server: &mut Server, key: &[u8], fields: bool, values: bool) -> Reply {
    match lookup(server, key) {
        Err(e) => e,
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(hash)) => {
            // Plain loops: an iterator chaining optional fields and values costs several
            // times as much per item in the size-optimised wasm.
            let mut bytes = 0;
            for (f, v) in hash.iter() {
                bytes += if fields { f.len() } else { 0 } + if values { v.len() } else { 0 };
            }
            let count = hash.len() * (usize::from(fields) + usize::from(values));
            let mut out = Bulks::with_capacity(count, bytes);
            for (f, v) in hash.iter() {
                if fields {
                    out.push(f);
                }
                if values {
                    out.push(v);
                }
            }
            out.into_reply()
        }
    }
}

/// HGETALL key
pub fn hgetall(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    hgetall_generic(server, &argv[1], true, true)
}

/// HKEYS key
pub fn hkeys(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    hgetall_generic(server, &argv[1], true, false)
}

/// HVALS key
pub fn hvals(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    hgetall_generic(server, &argv[1], false, true)
}

/// HDEL key field [field ...]
pub fn hdel(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let key = &argv[1];
    let deleted = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Integer(0),
        Ok(Some(hash)) => {
            let mut deleted = 0;
            for f in &argv[2..] {
                if hash.remove(f) {
                    deleted += 1;
                    if hash.is_empty() {
                        break;
                    }
                }
            }
            deleted
        }
    };
    finish(server, key);
    Reply::Integer(deleted)
}

/// HEXISTS key field
pub fn hexists(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(hash) => Reply::Integer(i64::from(hash.is_some_and(|h| h.get(&argv[2]).is_some()))),
    }
}

/// HLEN key
pub fn hlen(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(hash) => Reply::Integer(hash.map_or(0, |h| h.len() as i64)),
    }
}

/// HSTRLEN key field
pub fn hstrlen(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(hash) => Reply::Integer(
            hash.and_then(|h| h.get(&argv[2]))
                .map_or(0, |v| v.len() as i64),
        ),
    }
}

/// HINCRBY key field increment: the field keeps its TTL.
pub fn hincrby(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(incr) = parse_i64(&argv[3]) else {
        return reply::error(reply::NOT_INTEGER);
    };
    let key = &argv[1];
    let result = match lookup_or_create(server, key) {
        Err(e) => return e,
        Ok(hash) => {
            let current = match hash.get(&argv[2]) {
                None => Some(0),
                Some(v) => parse_i64(v),
            };
            match current {
                None => Err(Reply::err("hash value is not an integer")),
                Some(old) => match old.checked_add(incr) {
                    None => Err(Reply::err("increment or decrement would overflow")),
                    Some(new) => {
                        hash.set(&argv[2], new.to_string().into_bytes(), true);
                        Ok(new)
                    }
                },
            }
        }
    };
    finish(server, key);
    match result {
        Ok(n) => Reply::Integer(n),
        Err(e) => e,
    }
}

/// HINCRBYFLOAT key field increment: the field keeps its TTL.
pub fn hincrbyfloat(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let incr = match LongDouble::parse(&argv[3]) {
        Err(()) => return Reply::err("value is not a valid float"),
        Ok(None) => return Reply::err("value is NaN or Infinity"),
        Ok(Some(n)) => n,
    };
    let key = &argv[1];
    let result = match lookup_or_create(server, key) {
        Err(e) => return e,
        Ok(hash) => {
            let current = match hash.get(&argv[2]) {
                None => Ok(Some(LongDouble::ZERO)),
                Some(v) => LongDouble::parse(v),
            };
            match current {
                Err(()) => Err(Reply::err("hash value is not a float")),
                Ok(current) => match current.and_then(|c| c.checked_add(incr)) {
                    None => Err(Reply::err("increment would produce NaN or Infinity")),
                    Some(sum) => {
                        let text = sum.to_human().into_bytes();
                        hash.set(&argv[2], text.clone(), true);
                        Ok(text)
                    }
                },
            }
        }
    };
    finish(server, key);
    match result {
        Ok(text) => Reply::Bulk(text),
        Err(e) => e,
    }
}

/// HRANDFIELD key [count [WITHVALUES]]
pub fn hrandfield(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let key = &argv[1];
    if argv.len() == 2 {
        let len = match lookup(server, key) {
            Err(e) => return e,
            Ok(None) => return Reply::Nil,
            Ok(Some(hash)) => hash.len(),
        };
        let pick = (server.random() % len.max(1) as u64) as usize;
        return match lookup(server, key) {
            Ok(Some(hash)) => hash
                .at(pick)
                .map_or(Reply::Nil, |(f, _)| Reply::Bulk(f.clone())),
            _ => Reply::Nil,
        };
    }
    let count = match range_long(&argv[2], -i64::MAX, i64::MAX, None) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let with_values = match argv.get(3) {
        None => false,
        Some(word) if argv.len() == 4 && word.eq_ignore_ascii_case(b"withvalues") => true,
        Some(_) => return reply::error(reply::SYNTAX_ERROR),
    };
    if with_values && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Reply::err("value is out of range");
    }
    let len = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(hash)) => hash.len(),
    };
    let picks = match random_picks(server, len, count) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Ok(Some(hash)) = lookup(server, key) else {
        return Reply::Array(Vec::new());
    };
    let mut out = Vec::new();
    for i in picks {
        if let Some((f, v)) = hash.at(i) {
            out.push(Reply::Bulk(f.clone()));
            if with_values {
                out.push(Reply::Bulk(v.clone()));
            }
        }
    }
    Reply::Array(out)
}

/// HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]
pub fn hscan(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let cursor = match parse_scan_cursor(&argv[2]) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let hash = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return super::set::scan_reply(0, Bulks::with_capacity(0, 0)),
        Ok(Some(hash)) => hash,
    };
    let opts = match parse_scan_options(&argv[3..], true) {
        Ok(o) => o,
        Err(e) => return e,
    };
    // A listpack is returned whole in one call, as the server does.
    let (positions, next) = if hash.table {
        scan_positions(hash.len(), cursor, opts.count)
    } else {
        ((0..hash.len()).collect(), 0)
    };
    let mut items = Bulks::with_capacity(0, 0);
    for i in positions {
        if let Some((f, v)) = hash.at(i) {
            if opts.matches(f) {
                items.push(f);
                if !opts.novalues {
                    items.push(v);
                }
            }
        }
    }
    super::set::scan_reply(next, items)
}

/// Port of `hexpireGenericCommand`: HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT key time
/// [NX|XX|GT|LT] FIELDS numfields field [field ...]. `base` is added to the time (now for
/// the relative forms), `scale` turns its unit into milliseconds.
fn hexpire_generic(server: &mut Server, argv: &[Vec<u8>], base: i64, scale: i64) -> Reply {
    let mut fields_at = 3;
    let mut num_fields: i64 = 0;
    let mut flags = ExpireFlags::default();
    while fields_at < argv.len() - 1 {
        if argv[fields_at].eq_ignore_ascii_case(b"fields") {
            if let Err(e) = parse_expire_flags(&argv[3..fields_at], &mut flags) {
                return e;
            }
            fields_at += 1;
            match parse_i64(&argv[fields_at]) {
                Some(n) => num_fields = n,
                None => return reply::error(reply::NOT_INTEGER),
            }
            fields_at += 1;
            break;
        }
        fields_at += 1;
    }
    if num_fields == 0 || num_fields != (argv.len() - fields_at) as i64 {
        return numfields_error();
    }
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let invalid = || Reply::err(format!("invalid expire time in '{name}' command"));
    let Some(when) = parse_i64(&argv[2]) else {
        return reply::error(reply::NOT_INTEGER);
    };
    if when < 0 {
        return invalid();
    }
    let Some(when) = when.checked_mul(scale).and_then(|w| w.checked_add(base)) else {
        return invalid();
    };
    let key = &argv[1];
    let now = server.now;
    let fields = &argv[fields_at..];
    let codes: Vec<Reply> = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => fields.iter().map(|_| Reply::Integer(-2)).collect(),
        Ok(Some(hash)) => fields
            .iter()
            .map(|f| Reply::Integer(hash.set_expiry(f, when, flags, now)))
            .collect(),
    };
    finish(server, key);
    Reply::Array(codes)
}

/// Port of `parseExtendedExpireArgumentsOrReply` over the words before FIELDS.
fn parse_expire_flags(words: &[Vec<u8>], flags: &mut ExpireFlags) -> Result<(), Reply> {
    for word in words {
        let flag = match word.to_ascii_lowercase().as_slice() {
            b"nx" => &mut flags.nx,
            b"xx" => &mut flags.xx,
            b"gt" => &mut flags.gt,
            b"lt" => &mut flags.lt,
            _ => {
                let msg = format!("Unsupported option {}", String::from_utf8_lossy(word));
                return Err(Reply::err(msg.replace(['\r', '\n'], " ")));
            }
        };
        *flag = true;
    }
    if flags.nx && (flags.xx || flags.gt || flags.lt) {
        return Err(Reply::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if flags.gt && flags.lt {
        return Err(Reply::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(())
}

fn numfields_error() -> Reply {
    Reply::err("numfields should be greater than 0 and match the provided number of fields")
}

/// HEXPIRE key seconds [NX|XX|GT|LT] FIELDS numfields field [field ...]
pub fn hexpire(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    let now = server.now as i64;
    hexpire_generic(server, argv, now, 1000)
}

/// HPEXPIRE key milliseconds [NX|XX|GT|LT] FIELDS numfields field [field ...]
pub fn hpexpire(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    let now = server.now as i64;
    hexpire_generic(server, argv, now, 1)
}

/// HEXPIREAT key unix-time-seconds [NX|XX|GT|LT] FIELDS numfields field [field ...]
pub fn hexpireat(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    hexpire_generic(server, argv, 0, 1000)
}

/// HPEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT] FIELDS numfields field [field ...]
pub fn hpexpireat(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    hexpire_generic(server, argv, 0, 1)
}

/// The `FIELDS numfields field ...` tail of HTTL and HPERSIST, which must start at argv[2].
/// A count that does not match is a syntax error for the TTL readers and the numfields
/// error for HPERSIST.
fn fields_tail(argv: &[Vec<u8>], mismatch: fn() -> Reply) -> Result<&[Vec<u8>], Reply> {
    if !argv[2].eq_ignore_ascii_case(b"fields") {
        return Err(reply::error(reply::SYNTAX_ERROR));
    }
    let Some(n) = parse_i64(&argv[3]) else {
        return Err(reply::error(reply::NOT_INTEGER));
    };
    if n == 0 || n != (argv.len() - 4) as i64 {
        return Err(mismatch());
    }
    Ok(&argv[4..])
}

/// Port of `httlGenericCommand`: -2 no such field, -1 no TTL; the relative forms count
/// from now (the seconds form rounds), the absolute ones give the expiry time.
fn httl_generic(server: &mut Server, argv: &[Vec<u8>], relative: bool, ms: bool) -> Reply {
    let fields = match fields_tail(argv, || reply::error(reply::SYNTAX_ERROR)) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let now = server.now as i64;
    let hash = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(hash) => hash,
    };
    let base = if relative { now } else { 0 };
    Reply::Array(
        fields
            .iter()
            .map(|f| match hash.as_ref().and_then(|h| h.expiry_of(f)) {
                None => Reply::Integer(-2),
                Some(None) => Reply::Integer(-1),
                Some(Some(at)) => {
                    let left = (at as i64 - base).max(0);
                    Reply::Integer(if ms { left } else { (left + 500) / 1000 })
                }
            })
            .collect(),
    )
}

/// HTTL key FIELDS numfields field [field ...]
pub fn httl(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    httl_generic(server, argv, true, false)
}

/// HPTTL key FIELDS numfields field [field ...]
pub fn hpttl(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    httl_generic(server, argv, true, true)
}

/// HEXPIRETIME key FIELDS numfields field [field ...]
pub fn hexpiretime(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    httl_generic(server, argv, false, false)
}

/// HPEXPIRETIME key FIELDS numfields field [field ...]
pub fn hpexpiretime(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    httl_generic(server, argv, false, true)
}

/// HPERSIST key FIELDS numfields field [field ...]
pub fn hpersist(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::FieldExpiry);
    let fields = match fields_tail(argv, numfields_error) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let key = &argv[1];
    let codes = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => fields.iter().map(|_| Reply::Integer(-2)).collect(),
        Ok(Some(hash)) => fields
            .iter()
            .map(|f| Reply::Integer(hash.persist(f)))
            .collect(),
    };
    finish(server, key);
    Reply::Array(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Hash {
        let mut hash = Hash::default();
        for (f, v) in pairs {
            hash.set(f.as_bytes(), v.as_bytes().to_vec(), false);
        }
        hash
    }

    #[test]
    fn listpack_until_too_big_or_volatile() {
        let mut hash = h(&[("a", "1"), ("b", "2")]);
        assert_eq!(hash.encoding(), "listpack");
        assert_eq!(hash.set_expiry(b"a", 100, ExpireFlags::default(), 0), 1);
        assert_eq!(hash.encoding(), "hashtable");
        assert_eq!(hash.next_expiry(), Some(100));
        assert_eq!(hash.persist(b"a"), 1);
        assert_eq!(hash.persist(b"a"), -1);
        assert_eq!(hash.next_expiry(), None);
        assert_eq!(hash.encoding(), "hashtable");

        let mut long = h(&[("a", "1")]);
        long.set(b"b", vec![b'x'; 65], false);
        assert_eq!(long.encoding(), "hashtable");
    }

    #[test]
    fn expiry_flags_on_a_listpack_treat_fields_as_persistent() {
        let mut hash = h(&[("a", "1")]);
        let gt = ExpireFlags {
            gt: true,
            ..ExpireFlags::default()
        };
        assert_eq!(hash.set_expiry(b"a", 100, gt, 0), 0);
        assert_eq!(hash.encoding(), "listpack");
        assert_eq!(hash.set_expiry(b"nope", 100, gt, 0), -2);
        assert_eq!(hash.set_expiry(b"a", 0, ExpireFlags::default(), 0), 2);
        assert!(hash.is_empty());
    }

    #[test]
    fn due_fields_go_in_time_order_within_budget() {
        let mut hash = h(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let none = ExpireFlags::default();
        hash.set_expiry(b"c", 10, none, 0);
        hash.set_expiry(b"a", 20, none, 0);
        assert_eq!(hash.expire_due(15, 10), 1);
        assert_eq!(hash.get(b"c"), None);
        assert_eq!(hash.expire_due(30, 10), 1);
        assert_eq!(hash.len(), 1);
        // Overwriting a value drops its TTL; HINCRBY-style writes keep it.
        hash.set_expiry(b"b", 50, none, 0);
        hash.set(b"b", b"9".to_vec(), true);
        assert_eq!(hash.expiry_of(b"b"), Some(Some(50)));
        hash.set(b"b", b"9".to_vec(), false);
        assert_eq!(hash.expiry_of(b"b"), Some(None));
    }

    fn run(server: &mut Server, line: &str, now: Millis) -> String {
        let argv = crate::redis::cli::split_args(line).expect("balanced line");
        server.execute(&argv, now).to_cli_text()
    }

    const T: Millis = 1_700_000_000_000;

    #[test]
    fn fields_vanish_when_their_time_comes() {
        let mut s = Server::new();
        let cases = [
            ("HSET h a 1 b 2 c 3", 0, "(integer) 3\n"),
            ("HPEXPIRE h 100 FIELDS 1 a", 0, "1) (integer) 1\n"),
            ("HEXPIRE h 10 FIELDS 1 b", 0, "1) (integer) 1\n"),
            ("HGET h a", 99, "\"1\"\n"),
            ("HPTTL h FIELDS 1 a", 99, "1) (integer) 1\n"),
            ("HGET h a", 100, "(nil)\n"),
            ("HLEN h", 100, "(integer) 2\n"),
            (
                "HTTL h FIELDS 2 a b",
                4_400,
                "1) (integer) -2\n2) (integer) 6\n",
            ),
            ("HTTL h FIELDS 1 b", 4_600, "1) (integer) 5\n"),
            ("HPTTL h FIELDS 1 b", 4_600, "1) (integer) 5400\n"),
            (
                "HEXPIRETIME h FIELDS 1 b",
                4_600,
                "1) (integer) 1700000010\n",
            ),
            ("HGETALL h", 10_000, "1) \"c\"\n2) \"3\"\n"),
            ("HPEXPIRE h 1 FIELDS 1 c", 10_000, "1) (integer) 1\n"),
            ("EXISTS h", 10_000, "(integer) 1\n"),
            ("EXISTS h", 10_001, "(integer) 0\n"),
            ("TYPE h", 10_001, "none\n"),
            ("HTTL h FIELDS 1 c", 10_001, "1) (integer) -2\n"),
        ];
        for (line, at, expected) in cases {
            assert_eq!(run(&mut s, line, T + at), expected, "{line} at +{at}");
        }
        assert_eq!(s.db().volatile_field_keys(), 0);
    }

    #[test]
    fn the_active_cycle_reclaims_fields_and_empty_hashes() {
        let mut s = Server::new();
        run(&mut s, "HSET gone a 1 b 2", T);
        run(&mut s, "HPEXPIRE gone 50 FIELDS 2 a b", T);
        run(&mut s, "HSET stays a 1 b 2", T);
        run(&mut s, "HPEXPIRE stays 50 FIELDS 1 a", T);
        assert_eq!(s.db().volatile_field_keys(), 2);
        assert_eq!(s.tick(T + 49), vec![]);
        assert_eq!(s.tick(T + 50), vec![(0, b"gone".to_vec())]);
        assert_eq!(s.db().volatile_field_keys(), 0);
        assert_eq!(s.db().len(), 1);
        match s.db().peek(b"stays", T + 50).map(|e| &e.value) {
            Some(Value::Hash(h)) => assert_eq!(h.len(), 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_active_cycle_is_bounded_and_lookups_finish_the_work() {
        let mut s = Server::new();
        let fields: Vec<String> = (0..2_500).map(|i| format!("f{i} v")).collect();
        run(&mut s, &format!("HSET big {}", fields.join(" ")), T);
        let names: Vec<String> = (0..2_500).map(|i| format!("f{i}")).collect();
        run(
            &mut s,
            &format!("HPEXPIRE big 10 FIELDS 2500 {}", names.join(" ")),
            T,
        );
        assert_eq!(s.tick(T + 10), vec![]);
        let left = match s.dbs[0].iter().next().map(|(_, e)| &e.value) {
            Some(Value::Hash(h)) => h.len(),
            _ => 0,
        };
        assert_eq!(left, 1_500);
        // Any lookup drops the rest before the command sees the hash.
        assert_eq!(run(&mut s, "HLEN big", T + 10), "(integer) 0\n");
        assert_eq!(run(&mut s, "DBSIZE", T + 10), "(integer) 0\n");
    }

    #[test]
    fn lookups_drop_due_fields_without_the_active_cycle() {
        let mut db = crate::redis::db::Db::new();
        let mut hash = h(&[("a", "1"), ("b", "2")]);
        let none = ExpireFlags::default();
        hash.set_expiry(b"a", 100, none, 0);
        db.set(b"k", Value::Hash(Box::new(hash.clone())), 0);
        assert_eq!(db.volatile_field_keys(), 1);
        match db.get(b"k", 100).map(|e| &e.value) {
            Some(Value::Hash(h)) => assert_eq!(h.len(), 1),
            other => panic!("{other:?}"),
        }
        assert_eq!(db.volatile_field_keys(), 0);
        hash.set_expiry(b"b", 100, none, 0);
        db.set(b"k", Value::Hash(Box::new(hash)), 0);
        assert!(!db.contains(b"k", 100));
        assert_eq!(db.expired_count, 1);
        assert_eq!(db.volatile_field_keys(), 0);
    }

    #[test]
    fn field_ttls_travel_with_the_key_and_leave_with_it() {
        let mut s = Server::new();
        let cases = [
            ("HSET h a 1 b 2", "(integer) 2\n"),
            ("HPEXPIRE h 100 FIELDS 1 a", "1) (integer) 1\n"),
            ("RENAME h r", "OK\n"),
            ("COPY r c", "(integer) 1\n"),
            ("HPTTL c FIELDS 1 a", "1) (integer) 100\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(run(&mut s, line, T), expected, "{line}");
        }
        assert_eq!(s.db().volatile_field_keys(), 2);
        run(&mut s, "SET r overwritten", T);
        run(&mut s, "MOVE c 1", T);
        assert_eq!(s.db().volatile_field_keys(), 0);
        assert_eq!(s.dbs[1].volatile_field_keys(), 1);
        run(&mut s, "SELECT 1", T);
        assert_eq!(run(&mut s, "HGETALL c", T + 100), "1) \"b\"\n2) \"2\"\n");
        run(&mut s, "HPEXPIRE c 100 FIELDS 1 b", T + 100);
        run(&mut s, "EXPIRE c 1", T + 100);
        assert_eq!(run(&mut s, "EXISTS c", T + 1_100), "(integer) 0\n");
        assert_eq!(s.dbs[1].volatile_field_keys(), 0);
        run(&mut s, "HSET f a 1", T);
        run(&mut s, "HPEXPIRE f 100000 FIELDS 1 a", T + 2_000);
        run(&mut s, "FLUSHALL", T + 2_000);
        assert_eq!(s.dbs[1].volatile_field_keys(), 0);
    }
}
