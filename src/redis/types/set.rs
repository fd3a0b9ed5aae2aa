//! Sets: unordered unique strings (Redis's t_set.c).
//!
//! A set is stored the way the real server stores it, so that OBJECT ENCODING, the order
//! SMEMBERS lists members in and the conversions between encodings all match:
//! - `intset`: only integers, at most 512 of them, kept sorted;
//! - `listpack`: at most 128 members of at most 64 bytes, in insertion order;
//! - `hashtable`: anything else. A set never goes back to a smaller encoding by itself.
//!
//! The end of this file also holds the argument helpers that the hash, list and set commands
//! share (ranged integers, the SCAN family's cursor and options).

use std::borrow::Cow;

use indexmap::IndexSet;

use super::{wrong_type, Value};
use crate::redis::db::FxBuild;
use crate::redis::reply::{self, Bulks, Reply};
use crate::redis::util::{glob_match, parse_i64};
use crate::redis::Server;

/// `set-max-intset-entries`
pub const MAX_INTSET_ENTRIES: usize = 512;
/// `set-max-listpack-entries`
pub const MAX_LISTPACK_ENTRIES: usize = 128;
/// `set-max-listpack-value`
pub const MAX_LISTPACK_VALUE: usize = 64;
/// Up to this many members, a removal from a hash table keeps the order of the rest.
const KEEP_ORDER_UP_TO: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    /// Sorted integers.
    Ints(Vec<i64>),
    /// Insertion order.
    Pack(Vec<Vec<u8>>),
    Table(IndexSet<Vec<u8>, FxBuild>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    /// An empty intset, as `createIntsetObject` makes.
    fn default() -> Self {
        Set {
            repr: Repr::Ints(Vec::new()),
        }
    }
}

/// The bytes of an integer member.
fn int_bytes(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

impl Set {
    /// Port of `setTypeCreate`: the encoding a new set starts in, from its first member and
    /// the number of members about to be added.
    pub fn create(first: &[u8], size_hint: usize) -> Set {
        let repr = if parse_i64(first).is_some() && size_hint <= MAX_INTSET_ENTRIES {
            Repr::Ints(Vec::new())
        } else if size_hint <= MAX_LISTPACK_ENTRIES {
            Repr::Pack(Vec::new())
        } else {
            Repr::Table(IndexSet::default())
        };
        Set { repr }
    }

    fn listpack() -> Set {
        Set {
            repr: Repr::Pack(Vec::new()),
        }
    }

    /// Port of `setTypeMaybeConvert`: goes straight to a hash table when `size_hint` members
    /// are about to arrive and would not fit the current encoding.
    pub fn maybe_convert(&mut self, size_hint: usize) {
        let too_many = match &self.repr {
            Repr::Ints(_) => size_hint > MAX_INTSET_ENTRIES,
            Repr::Pack(_) => size_hint > MAX_LISTPACK_ENTRIES,
            Repr::Table(_) => false,
        };
        if too_many {
            self.convert_to_table();
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Pack(v) => v.len(),
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(v) => parse_i64(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            Repr::Pack(v) => v.iter().any(|m| m == member),
            Repr::Table(t) => t.contains(member),
        }
    }

    /// The member at position `i` of the iteration order.
    pub fn member_at(&self, i: usize) -> Option<Cow<'_, [u8]>> {
        match &self.repr {
            Repr::Ints(v) => v.get(i).map(|&n| Cow::Owned(int_bytes(n))),
            Repr::Pack(v) => v.get(i).map(|m| Cow::Borrowed(m.as_slice())),
            Repr::Table(t) => t.get_index(i).map(|m| Cow::Borrowed(m.as_slice())),
        }
    }

    /// Every member, in the order SMEMBERS lists them.
    pub fn members(&self) -> Vec<Vec<u8>> {
        match &self.repr {
            Repr::Ints(v) => v.iter().map(|&n| int_bytes(n)).collect(),
            Repr::Pack(v) => v.clone(),
            Repr::Table(t) => t.iter().cloned().collect(),
        }
    }

    /// The members in one buffer, in `members`' order.
    pub fn bulks(&self) -> Bulks {
        match &self.repr {
            Repr::Ints(v) => {
                let mut out = Bulks::with_capacity(v.len(), 0);
                for &n in v {
                    out.push_int(n);
                }
                out
            }
            Repr::Pack(v) => Bulks::from_items(v.iter().map(Vec::as_slice)),
            Repr::Table(t) => Bulks::from_items(t.iter().map(Vec::as_slice)),
        }
    }

    fn convert_to_table(&mut self) {
        let table: IndexSet<Vec<u8>, FxBuild> = self.members().into_iter().collect();
        self.repr = Repr::Table(table);
    }

    /// Port of `setTypeAdd`, conversions included. True if `member` is new.
    pub fn add(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Table(t) => {
                if t.contains(member) {
                    false
                } else {
                    t.insert(member.to_vec())
                }
            }
            Repr::Pack(v) => {
                if v.iter().any(|m| m == member) {
                    return false;
                }
                if v.len() < MAX_LISTPACK_ENTRIES && member.len() <= MAX_LISTPACK_VALUE {
                    v.push(member.to_vec());
                } else {
                    self.convert_to_table();
                    if let Repr::Table(t) = &mut self.repr {
                        t.insert(member.to_vec());
                    }
                }
                true
            }
            Repr::Ints(v) => match parse_i64(member) {
                Some(n) => match v.binary_search(&n) {
                    Ok(_) => false,
                    Err(at) => {
                        v.insert(at, n);
                        if v.len() > MAX_INTSET_ENTRIES {
                            self.convert_to_table();
                        }
                        true
                    }
                },
                None => {
                    // Integers print in at most 20 bytes, always within the listpack limit.
                    if v.len() < MAX_LISTPACK_ENTRIES && member.len() <= MAX_LISTPACK_VALUE {
                        let mut pack: Vec<Vec<u8>> = v.iter().map(|&n| int_bytes(n)).collect();
                        pack.push(member.to_vec());
                        self.repr = Repr::Pack(pack);
                    } else {
                        self.convert_to_table();
                        if let Repr::Table(t) = &mut self.repr {
                            t.insert(member.to_vec());
                        }
                    }
                    true
                }
            },
        }
    }

    /// True if `member` was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match parse_i64(member).map(|n| v.binary_search(&n)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            Repr::Pack(v) => match v.iter().position(|m| m == member) {
                Some(at) => {
                    v.remove(at);
                    true
                }
                None => false,
            },
            // As for hashes: a small table keeps the order of the rest.
            Repr::Table(t) if t.len() <= KEEP_ORDER_UP_TO => t.shift_remove(member),
            Repr::Table(t) => t.swap_remove(member),
        }
    }

    /// Removes and returns the member at position `i`.
    fn take_at(&mut self, i: usize) -> Option<Vec<u8>> {
        match &mut self.repr {
            Repr::Ints(v) => (i < v.len()).then(|| int_bytes(v.remove(i))),
            Repr::Pack(v) => (i < v.len()).then(|| v.remove(i)),
            Repr::Table(t) if t.len() <= KEEP_ORDER_UP_TO => t.shift_remove_index(i),
            Repr::Table(t) => t.swap_remove_index(i),
        }
    }

    /// The representation is one the server could have (for tests).
    #[cfg(test)]
    pub(crate) fn check(&self) -> Result<(), String> {
        match &self.repr {
            Repr::Ints(v) if v.windows(2).any(|w| w[0] >= w[1]) => Err("intset not sorted".into()),
            Repr::Ints(v) if v.len() > MAX_INTSET_ENTRIES => Err("intset too big".into()),
            Repr::Pack(v) => {
                let unique: std::collections::HashSet<&Vec<u8>> = v.iter().collect();
                if unique.len() != v.len() {
                    Err("listpack with duplicates".into())
                } else if v.len() > MAX_LISTPACK_ENTRIES
                    || v.iter().any(|m| m.len() > MAX_LISTPACK_VALUE)
                {
                    Err("listpack too big".into())
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Port of `maybeConvertToIntset`: back to an intset when every member is an integer
    /// and there are few enough (SINTERSTORE's result).
    fn maybe_convert_to_intset(&mut self) {
        if matches!(self.repr, Repr::Ints(_)) || self.len() > MAX_INTSET_ENTRIES {
            return;
        }
        let mut ints: Vec<i64> = self.members().iter().filter_map(|m| parse_i64(m)).collect();
        if ints.len() != self.len() {
            return;
        }
        crate::sort::sort(&mut ints);
        self.repr = Repr::Ints(ints);
    }
}

// ---------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------

/// The live set at `key`: `Ok(None)` if there is none, WRONGTYPE for another type.
pub fn lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<Option<&'a mut Set>, Reply> {
    let now = server.now;
    match server.db().get(key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Set(set) => Ok(Some(set)),
            _ => Err(wrong_type()),
        },
    }
}

/// Deletes `key` if its set has become empty.
fn drop_if_empty(server: &mut Server, key: &[u8]) {
    if matches!(lookup(server, key), Ok(Some(set)) if set.is_empty()) {
        server.db().remove(key);
    }
}

/// Looks up every key as a set, in order; the first key of another type is an error.
fn lookup_all(server: &mut Server, keys: &[Vec<u8>]) -> Result<Vec<Option<Set>>, Reply> {
    keys.iter()
        .map(|key| lookup(server, key).map(|s| s.cloned()))
        .collect()
}

/// Stores `set` at `dst` (replacing whatever was there and its TTL), or deletes `dst` when
/// the result is empty. Replies with the new cardinality.
fn store(server: &mut Server, dst: &[u8], set: Set) -> Reply {
    let now = server.now;
    let len = set.len();
    let db = server.db();
    if len == 0 {
        db.remove(dst);
    } else {
        db.set(dst, Value::Set(Box::new(set)), now);
    }
    Reply::Integer(len as i64)
}

fn bulk_all(members: Vec<Vec<u8>>) -> Reply {
    Reply::Array(members.into_iter().map(Reply::Bulk).collect())
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// SADD key member [member ...]
pub fn sadd(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    let key = &argv[1];
    let members = &argv[2..];
    let added = match lookup(server, key) {
        Err(e) => return e,
        Ok(Some(set)) => {
            set.maybe_convert(members.len());
            members.iter().filter(|m| set.add(m)).count()
        }
        Ok(None) => {
            let mut set = Set::create(&members[0], members.len());
            let added = members.iter().filter(|m| set.add(m)).count();
            server.db().set(key, Value::Set(Box::new(set)), now);
            added
        }
    };
    Reply::Integer(added as i64)
}

/// SREM key member [member ...]
pub fn srem(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let key = &argv[1];
    let removed = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => 0,
        Ok(Some(set)) => {
            let mut removed = 0;
            for m in &argv[2..] {
                if set.remove(m) {
                    removed += 1;
                    if set.is_empty() {
                        break;
                    }
                }
            }
            removed
        }
    };
    drop_if_empty(server, key);
    Reply::Integer(removed)
}

/// SMEMBERS key
pub fn smembers(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(set)) => set.bulks().into_reply(),
    }
}

/// SISMEMBER key member
pub fn sismember(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(set) => Reply::Integer(i64::from(set.is_some_and(|s| s.contains(&argv[2])))),
    }
}

/// SMISMEMBER key member [member ...]
pub fn smismember(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(set) => {
            let set = set.map(|s| &*s);
            Reply::Array(
                argv[2..]
                    .iter()
                    .map(|m| Reply::Integer(i64::from(set.is_some_and(|s| s.contains(m)))))
                    .collect(),
            )
        }
    }
}

/// SCARD key
pub fn scard(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(set) => Reply::Integer(set.map_or(0, |s| s.len() as i64)),
    }
}

/// SPOP key [count]
pub fn spop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let key = &argv[1];
    match argv.len() {
        2 => {}
        3 => return spop_count(server, argv),
        _ => return reply::error(reply::SYNTAX_ERROR),
    }
    let len = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(set)) => set.len(),
    };
    let pick = (server.random() % len.max(1) as u64) as usize;
    let popped = match lookup(server, key) {
        Ok(Some(set)) => set.take_at(pick),
        _ => None,
    };
    drop_if_empty(server, key);
    popped.map_or(Reply::Nil, Reply::Bulk)
}

/// How much bigger than what stays the popped part must be for SPOP to rebuild the set from
/// what stays (`SPOP_MOVE_STRATEGY_MUL`).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// SPOP key count
fn spop_count(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let key = &argv[1];
    let count = match positive_long(&argv[2], None) {
        Ok(n) => n as usize,
        Err(e) => return e,
    };
    // Taken out while the generator draws and put back after, rather than copied whole.
    let mut set = match lookup(server, key) {
        Err(e) => return e,
        Ok(Some(set)) if count > 0 => std::mem::take(set),
        Ok(_) => return Reply::Array(Vec::new()),
    };
    let size = set.len();
    if count >= size {
        // The whole set (the server answers with SUNION of it, which lists it in order).
        server.db().remove(key);
        return set.bulks().into_reply();
    }
    let remaining = size - count;
    let mut popped = Bulks::with_capacity(count, 0);
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            let i = (server.random() % set.len() as u64) as usize;
            if let Some(m) = set.take_at(i) {
                popped.push(&m);
            }
        }
    } else {
        // Few stay: move those into a new set and hand out what is left of the old one.
        let mut kept = match set.repr {
            Repr::Ints(_) => Set::default(),
            _ => Set::listpack(),
        };
        for _ in 0..remaining {
            let i = (server.random() % set.len() as u64) as usize;
            if let Some(m) = set.take_at(i) {
                kept.add(&m);
            }
        }
        popped = set.bulks();
        set = kept;
    }
    if let Ok(Some(slot)) = lookup(server, key) {
        *slot = set;
    }
    popped.into_reply()
}

/// SRANDMEMBER key [count]
pub fn srandmember(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match argv.len() {
        2 => {}
        3 => return srandmember_count(server, argv),
        _ => return reply::error(reply::SYNTAX_ERROR),
    }
    let len = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(set)) => set.len(),
    };
    let pick = (server.random() % len.max(1) as u64) as usize;
    match lookup(server, &argv[1]) {
        Ok(Some(set)) => set
            .member_at(pick)
            .map_or(Reply::Nil, |m| Reply::Bulk(m.into_owned())),
        _ => Reply::Nil,
    }
}

/// SRANDMEMBER key count: a negative count may repeat members.
fn srandmember_count(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let n = match range_long(&argv[2], -i64::MAX, i64::MAX, None) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let set = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(set)) => set.clone(),
    };
    let picks = match random_picks(server, set.len(), n) {
        Ok(p) => p,
        Err(e) => return e,
    };
    Reply::Array(
        picks
            .into_iter()
            .filter_map(|i| set.member_at(i))
            .map(|m| Reply::Bulk(m.into_owned()))
            .collect(),
    )
}

/// Repeated picks one SRANDMEMBER / HRANDFIELD may ask for. The server streams any number
/// (a negative count repeats members without end); a browser tab cannot hold such a reply,
/// so past this the sandbox answers that the count is out of range.
pub const MAX_REPEATED_PICKS: u64 = 100_000;

/// The positions HRANDFIELD / SRANDMEMBER return for `count` out of `size` elements: with
/// repetition for a negative count, else distinct positions in iteration order (all of them
/// when `count` reaches the size).
pub(crate) fn random_picks(
    server: &mut Server,
    size: usize,
    count: i64,
) -> Result<Vec<usize>, Reply> {
    if size == 0 || count == 0 {
        return Ok(Vec::new());
    }
    if count < 0 {
        if count.unsigned_abs() > MAX_REPEATED_PICKS {
            return Err(Reply::err("value is out of range"));
        }
        return Ok((0..count.unsigned_abs())
            .map(|_| (server.random() % size as u64) as usize)
            .collect());
    }
    let count = count as u64;
    if count >= size as u64 {
        return Ok((0..size).collect());
    }
    let count = count as usize;
    if count == 1 {
        return Ok(vec![(server.random() % size as u64) as usize]);
    }
    // Selection sampling (Knuth's algorithm S): each position is kept with the probability
    // that leaves exactly `count` kept, so the result comes out in order.
    let mut out = Vec::with_capacity(count);
    for i in 0..size {
        let left = (size - i) as u64;
        let need = (count - out.len()) as u64;
        if need == 0 {
            break;
        }
        if server.random() % left < need {
            out.push(i);
        }
    }
    Ok(out)
}

/// SMOVE source destination member
pub fn smove(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    // A missing source answers 0 before any type is checked.
    match lookup(server, src) {
        Err(e) => return e,
        Ok(None) => return Reply::Integer(0),
        Ok(Some(_)) => {}
    }
    if let Err(e) = lookup(server, dst) {
        return e;
    }
    let same = src == dst;
    let moved = match lookup(server, src) {
        Ok(Some(set)) if same => set.contains(member),
        Ok(Some(set)) => set.remove(member),
        _ => false,
    };
    if same || !moved {
        return Reply::Integer(i64::from(moved));
    }
    drop_if_empty(server, src);
    let now = server.now;
    match lookup(server, dst) {
        Ok(Some(set)) => {
            set.add(member);
        }
        _ => {
            let mut set = Set::create(member, 1);
            set.add(member);
            server.db().set(dst, Value::Set(Box::new(set)), now);
        }
    }
    Reply::Integer(1)
}

/// Port of `sinterGenericCommand`: SINTER, SINTERSTORE and SINTERCARD. The smallest set is
/// walked, in its own order, and each member checked against the others.
fn sinter_generic(
    server: &mut Server,
    keys: &[Vec<u8>],
    dst: Option<&[u8]>,
    cardinality_only: bool,
    limit: usize,
) -> Reply {
    let sets = match lookup_all(server, keys) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut sets: Vec<Set> = match sets.into_iter().collect::<Option<Vec<Set>>>() {
        Some(s) => s,
        None => {
            return match dst {
                Some(dst) => store(server, dst, Set::default()),
                None if cardinality_only => Reply::Integer(0),
                None => Reply::Array(Vec::new()),
            };
        }
    };
    crate::sort::sort_by_key(&mut sets, Set::len);
    let (first, rest) = sets.split_at(1);
    let first = &first[0];
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut cardinality = 0;
    for i in 0..first.len() {
        let Some(m) = first.member_at(i) else {
            continue;
        };
        if rest.iter().all(|s| s.contains(&m)) {
            cardinality += 1;
            if cardinality_only {
                if limit != 0 && cardinality >= limit {
                    break;
                }
            } else {
                found.push(m.into_owned());
            }
        }
    }
    if cardinality_only {
        return Reply::Integer(cardinality as i64);
    }
    let Some(dst) = dst else {
        return bulk_all(found);
    };
    let mut out = match first.repr {
        Repr::Ints(_) => Set::default(),
        _ => Set::listpack(),
    };
    let only_integers = found.iter().all(|m| parse_i64(m).is_some());
    for m in &found {
        out.add(m);
    }
    if only_integers {
        out.maybe_convert_to_intset();
    }
    store(server, dst, out)
}

/// SINTER key [key ...]
pub fn sinter(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    sinter_generic(server, &argv[1..], None, false, 0)
}

/// SINTERSTORE destination key [key ...]
pub fn sinterstore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    sinter_generic(server, &argv[2..], Some(&argv[1]), false, 0)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let numkeys = match range_long(
        &argv[1],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    ) {
        Ok(n) => n as usize,
        Err(e) => return e,
    };
    if numkeys > argv.len() - 2 {
        return Reply::err("Number of keys can't be greater than number of args");
    }
    let mut limit = 0;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if argv[j].eq_ignore_ascii_case(b"limit") && more > 0 {
            j += 1;
            match positive_long(&argv[j], Some("LIMIT can't be negative")) {
                Ok(n) => limit = n as usize,
                Err(e) => return e,
            }
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        j += 1;
    }
    sinter_generic(server, &argv[2..2 + numkeys], None, true, limit)
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Diff,
}

/// Port of `sunionDiffGenericCommand`. The result is built member by member: for the STORE
/// forms from an empty intset, so the stored encoding follows the server's conversions; for
/// a reply, as an intset only when every input is one (sorted), else as a hash table, which
/// lists members in the order they were added.
fn sunion_diff(server: &mut Server, keys: &[Vec<u8>], dst: Option<&[u8]>, op: SetOp) -> Reply {
    let sets = match lookup_all(server, keys) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let all_ints = sets
        .iter()
        .flatten()
        .all(|s| matches!(s.repr, Repr::Ints(_)));
    let mut out = if dst.is_some() || all_ints {
        Set::default()
    } else {
        Set {
            repr: Repr::Table(IndexSet::default()),
        }
    };
    match op {
        SetOp::Union => {
            for set in sets.iter().flatten() {
                for i in 0..set.len() {
                    if let Some(m) = set.member_at(i) {
                        out.add(&m);
                    }
                }
            }
        }
        SetOp::Diff => {
            // A key named again after the first subtracts everything.
            let same = keys.iter().skip(1).any(|k| *k == keys[0]);
            if let (Some(first), false) = (&sets[0], same) {
                for i in 0..first.len() {
                    let Some(m) = first.member_at(i) else {
                        continue;
                    };
                    if !sets[1..].iter().flatten().any(|s| s.contains(&m)) {
                        out.add(&m);
                    }
                }
            }
        }
    }
    match dst {
        Some(dst) => store(server, dst, out),
        None => bulk_all(out.members()),
    }
}

/// SUNION key [key ...]
pub fn sunion(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    sunion_diff(server, &argv[1..], None, SetOp::Union)
}

/// SUNIONSTORE destination key [key ...]
pub fn sunionstore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    sunion_diff(server, &argv[2..], Some(&argv[1]), SetOp::Union)
}

/// SDIFF key [key ...]
pub fn sdiff(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    sunion_diff(server, &argv[1..], None, SetOp::Diff)
}

/// SDIFFSTORE destination key [key ...]
pub fn sdiffstore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    sunion_diff(server, &argv[2..], Some(&argv[1]), SetOp::Diff)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
pub fn sscan(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let cursor = match parse_scan_cursor(&argv[2]) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let set = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return scan_reply(0, Bulks::with_capacity(0, 0)),
        Ok(Some(set)) => set,
    };
    let opts = match parse_scan_options(&argv[3..], false) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let (positions, next) = match set.repr {
        Repr::Table(_) => scan_positions(set.len(), cursor, opts.count),
        _ => ((0..set.len()).collect(), 0),
    };
    let mut items = Bulks::with_capacity(0, 0);
    for member in positions.into_iter().filter_map(|i| set.member_at(i)) {
        if opts.matches(&member) {
            items.push(&member);
        }
    }
    scan_reply(next, items)
}

// ---------------------------------------------------------------------------------------
// Argument helpers shared by the hash, list and set commands
// ---------------------------------------------------------------------------------------

/// Port of `getRangeLongFromObjectOrReply`: an integer within `min..=max`; `msg`, when
/// given, is the error for both a non-integer and an out-of-range value.
pub(crate) fn range_long(arg: &[u8], min: i64, max: i64, msg: Option<&str>) -> Result<i64, Reply> {
    let Some(n) = parse_i64(arg) else {
        return Err(match msg {
            Some(m) => Reply::err(m),
            None => reply::error(reply::NOT_INTEGER),
        });
    };
    if n < min || n > max {
        return Err(match msg {
            Some(m) => Reply::err(m),
            None => Reply::err(format!(
                "value is out of range, value must between {min} and {max}"
            )),
        });
    }
    Ok(n)
}

/// Port of `getPositiveLongFromObjectOrReply`.
pub(crate) fn positive_long(arg: &[u8], msg: Option<&str>) -> Result<i64, Reply> {
    range_long(
        arg,
        0,
        i64::MAX,
        Some(msg.unwrap_or("value is out of range, must be positive")),
    )
}

/// Port of `parseScanCursorOrReply`: an unsigned 64-bit decimal.
pub(crate) fn parse_scan_cursor(arg: &[u8]) -> Result<u64, Reply> {
    std::str::from_utf8(arg)
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or_else(|| Reply::err("invalid cursor"))
}

/// The options of HSCAN / SSCAN (and ZSCAN's shape).
pub(crate) struct ScanOptions<'a> {
    pub count: u64,
    pub pattern: Option<&'a [u8]>,
    pub novalues: bool,
}

impl ScanOptions<'_> {
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, item, false))
    }
}

/// Port of the option loop of `scanGenericCommand` for a key's own elements.
pub(crate) fn parse_scan_options(
    args: &[Vec<u8>],
    is_hash: bool,
) -> Result<ScanOptions<'_>, Reply> {
    let mut opts = ScanOptions {
        count: 10,
        pattern: None,
        novalues: false,
    };
    let mut i = 0;
    while i < args.len() {
        let opt = args[i].as_slice();
        let value = args.get(i + 1);
        if opt.eq_ignore_ascii_case(b"count") && value.is_some() {
            match value.and_then(|v| parse_i64(v)) {
                Some(n) if n >= 1 => opts.count = n as u64,
                Some(_) => return Err(reply::error(reply::SYNTAX_ERROR)),
                None => return Err(reply::error(reply::NOT_INTEGER)),
            }
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"match") && value.is_some() {
            opts.pattern = value.map(Vec::as_slice).filter(|p| *p != b"*".as_slice());
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"novalues") {
            if !is_hash {
                return Err(Reply::err("NOVALUES option can only be used in HSCAN"));
            }
            opts.novalues = true;
            i += 1;
        } else {
            return Err(reply::error(reply::SYNTAX_ERROR));
        }
    }
    Ok(opts)
}

/// The positions one SCAN step visits in a hash-table-encoded collection of `len` items, and
/// the cursor to continue from. As for the keyspace (see `db.rs`), the cursor is one past
/// the next position to visit and positions are walked downwards, so an element that stays
/// for the whole iteration is returned at least once even as others are removed.
pub(crate) fn scan_positions(len: usize, cursor: u64, count: u64) -> (Vec<usize>, u64) {
    let len = len as u64;
    let mut next = if cursor == 0 { len } else { cursor.min(len) };
    let mut out = Vec::new();
    while next > 0 && (out.len() as u64) < count {
        next -= 1;
        out.push(next as usize);
    }
    (out, next)
}

/// `[cursor, [items…]]`, the items in one buffer: a SCAN with a large COUNT lists as many.
pub(crate) fn scan_reply(next: u64, items: Bulks) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(next.to_string().into_bytes()),
        items.into_reply(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(members: &[&str]) -> Set {
        let mut s = Set::create(members[0].as_bytes(), members.len());
        for m in members {
            s.add(m.as_bytes());
        }
        s
    }

    fn strings(s: &Set) -> Vec<String> {
        s.members()
            .into_iter()
            .map(|m| String::from_utf8(m).unwrap())
            .collect()
    }

    #[test]
    fn encodings_follow_the_server_conversions() {
        let mut s = set_of(&["3", "1", "2"]);
        assert_eq!(s.encoding(), "intset");
        assert_eq!(strings(&s), ["1", "2", "3"]);
        s.add(b"a");
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(strings(&s), ["1", "2", "3", "a"]);
        s.add(&[b'x'; 65]);
        assert_eq!(s.encoding(), "hashtable");
        s.remove(&[b'x'; 65]);
        assert_eq!(s.encoding(), "hashtable");

        let mut ints = Set::create(b"0", 1);
        for i in 0..=MAX_INTSET_ENTRIES as i64 {
            ints.add(i.to_string().as_bytes());
        }
        assert_eq!(ints.encoding(), "hashtable");
        let mut big = Set::create(b"0", 1);
        for i in 0..MAX_LISTPACK_ENTRIES as i64 {
            big.add(i.to_string().as_bytes());
        }
        big.add(b"word");
        assert_eq!(big.encoding(), "hashtable");
        assert!(big.contains(b"127") && big.contains(b"word") && !big.contains(b"0127"));
    }

    #[test]
    fn random_picks_are_distinct_and_ordered() {
        let mut server = Server::new();
        for count in [2, 5, 9] {
            let picks = random_picks(&mut server, 10, count).unwrap();
            assert_eq!(picks.len(), count as usize);
            assert!(picks.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(random_picks(&mut server, 3, 7), Ok(vec![0, 1, 2]));
        assert_eq!(random_picks(&mut server, 3, -7).map(|p| p.len()), Ok(7));
        assert!(random_picks(&mut server, 3, -100_001).is_err());
        assert_eq!(random_picks(&mut server, 0, -100_001), Ok(vec![]));
    }

    #[test]
    fn scan_walks_positions_downwards() {
        assert_eq!(scan_positions(5, 0, 2), (vec![4, 3], 3));
        assert_eq!(scan_positions(5, 3, 10), (vec![2, 1, 0], 0));
        assert_eq!(scan_positions(2, 9, 10), (vec![1, 0], 0));
    }

    /// Random hash, list and set command lines (with the clock moving) never panic, and
    /// every value stays well-formed: encodings the server could have, bookkeeping in step,
    /// no empty container left behind, the field-expiry index matching the hashes.
    #[test]
    fn random_hash_list_set_commands_keep_values_well_formed() {
        use crate::redis::commands::Group;
        use crate::redis::commands::TABLE;
        let names: Vec<&str> = TABLE
            .iter()
            .filter(|c| matches!(c.group, Group::Hash | Group::List | Group::Set))
            .map(|c| c.name)
            .collect();
        assert!(names.len() >= 59, "{names:?}");
        let long = "x".repeat(70);
        let huge = "y".repeat(9_000);
        let words: Vec<&str> = vec![
            "a",
            "b",
            "c",
            "1",
            "2",
            "3",
            "0",
            "-1",
            "-2",
            "10",
            "100",
            "600",
            "x",
            "",
            &long,
            &huge,
            "LEFT",
            "RIGHT",
            "BEFORE",
            "AFTER",
            "FIELDS",
            "NX",
            "XX",
            "GT",
            "LT",
            "COUNT",
            "RANK",
            "MAXLEN",
            "LIMIT",
            "WITHVALUES",
            "MATCH",
            "NOVALUES",
            "*",
            "9223372036854775807",
            "-9223372036854775808",
            "1.5",
            "inf",
        ];
        // Keys named after the type they usually hold; now and then another type's key.
        let keys_of = |name: &str| -> &'static [&'static str] {
            match name.as_bytes()[0] {
                b'h' => &["h1", "h2"],
                b'l' | b'r' => &["l1", "l2"],
                _ => &["s1", "s2", "s3"],
            }
        };
        // Well-formed lines for the commands whose shape random words rarely hit.
        let templates = [
            "HSET {k} {w} {w} {w} {w}",
            "HPEXPIRE {k} {n} {f} FIELDS 2 {w} {w}",
            "HEXPIREAT {k} 1 FIELDS 1 {w}",
            "HPERSIST {k} FIELDS 1 {w}",
            "HPTTL {k} FIELDS 2 {w} {w}",
            "HINCRBY {k} {w} {n}",
            "RPUSH {k} {w} {w} {w}",
            "LPUSH {k} {w} {w}",
            "LINSERT {k} {e} {w} {w}",
            "LSET {k} {n} {w}",
            "LMOVE {k} {k} {d} {d}",
            "LMPOP 2 {k} {k} {d} COUNT {n}",
            "LTRIM {k} {n} -{n}",
            "LREM {k} {n} {w}",
            "SADD {k} {w} {w} {w}",
            "SINTERSTORE {k} {k} {k}",
            "SUNIONSTORE {k} {k} {k}",
            "SDIFFSTORE {k} {k} {k}",
            "SMOVE {k} {k} {w}",
            "SPOP {k} {n}",
        ];
        let mut next = crate::redis::types::list::picker(0x1234_5678_9abc_def1);
        let mut server = Server::new();
        let mut now: u64 = 1_700_000_000_000;
        let (mut accepted, mut quicklists, mut max_volatile) = (0, 0, 0);
        for round in 0..60_000 {
            if next(20) == 0 {
                now += next(3_000) as u64;
            }
            let argv: Vec<Vec<u8>> = if next(2) == 0 {
                let template = templates[next(templates.len())];
                let keys = keys_of(&template.to_ascii_lowercase());
                template
                    .split(' ')
                    .map(|part| {
                        let word = match part {
                            "{k}" => keys[next(keys.len())],
                            "{w}" => words[next(words.len())],
                            "{n}" => ["0", "1", "2", "3", "50", "1000"][next(6)],
                            "{f}" => ["NX", "XX", "GT", "LT", "NX"][next(5)],
                            "{e}" => ["BEFORE", "AFTER"][next(2)],
                            "{d}" => ["LEFT", "RIGHT"][next(2)],
                            other => other,
                        };
                        word.as_bytes().to_vec()
                    })
                    .collect()
            } else {
                let name = names[next(names.len())];
                let all = ["h1", "l1", "s1", "h2", "l2", "s2"];
                let keys = if next(8) == 0 {
                    &all[..]
                } else {
                    keys_of(name)
                };
                let mut argv: Vec<Vec<u8>> = vec![name.as_bytes().to_vec()];
                argv.push(keys[next(keys.len())].as_bytes().to_vec());
                for _ in 0..next(9) {
                    let word = if next(5) == 0 {
                        keys[next(keys.len())]
                    } else {
                        words[next(words.len())]
                    };
                    argv.push(word.as_bytes().to_vec());
                }
                argv
            };
            if !server.execute(&argv, now).is_error() {
                accepted += 1;
            }
            if round % 25 != 0 {
                continue;
            }
            let db = &server.dbs[0];
            let mut volatile = 0;
            let nonempty = |empty: bool| {
                if empty {
                    Err("empty".to_string())
                } else {
                    Ok(())
                }
            };
            for (key, entry) in db.iter() {
                let checked = match &entry.value {
                    Value::Hash(h) => {
                        volatile += usize::from(h.next_expiry().is_some());
                        h.check().and(nonempty(h.is_empty()))
                    }
                    Value::List(l) => {
                        quicklists += usize::from(l.encoding() == "quicklist");
                        l.check().and(nonempty(l.is_empty()))
                    }
                    Value::Set(s) => s.check().and(nonempty(s.is_empty())),
                    _ => Ok(()),
                };
                if let Err(e) = checked {
                    let line: Vec<String> = argv
                        .iter()
                        .map(|a| String::from_utf8_lossy(&a[..a.len().min(20)]).into_owned())
                        .collect();
                    panic!("{e} in {key:?} after {line:?}");
                }
            }
            assert_eq!(
                db.volatile_field_keys(),
                volatile,
                "field index after {argv:?}"
            );
            max_volatile = max_volatile.max(volatile);
        }
        // The lines must get past argument checking often enough to mean something.
        assert!(accepted > 25_000, "only {accepted} lines accepted");
        assert!(
            quicklists > 0 && max_volatile > 0,
            "{quicklists} {max_volatile}"
        );
    }

    /// Throughput of common hash, list and set commands on 100k-element values through
    /// `Server::execute`: `cargo test --release -- --ignored --nocapture collection_throughput`.
    #[test]
    #[ignore]
    fn collection_throughput() {
        let mut server = Server::new();
        let n = 100_000;
        let lines = |name: &str, f: &dyn Fn(usize) -> String| -> Vec<Vec<Vec<u8>>> {
            let _ = name;
            (0..n)
                .map(|i| f(i).split(' ').map(|w| w.as_bytes().to_vec()).collect())
                .collect()
        };
        let cases: Vec<(&str, Vec<Vec<Vec<u8>>>)> = vec![
            ("RPUSH", lines("RPUSH", &|i| format!("RPUSH l v{i}"))),
            (
                "LINDEX",
                lines("LINDEX", &|i| format!("LINDEX l {}", i % n)),
            ),
            (
                "LRANGE 10",
                lines("LRANGE", &|i| format!("LRANGE l {i} {}", i + 9)),
            ),
            (
                "LSET",
                lines("LSET", &|i| format!("LSET l {} w{i}", (i * 7) % n)),
            ),
            ("SADD", lines("SADD", &|i| format!("SADD s m{i}"))),
            (
                "SISMEMBER",
                lines("SISMEMBER", &|i| format!("SISMEMBER s m{i}")),
            ),
            ("HSET", lines("HSET", &|i| format!("HSET h f{i} v"))),
            ("HGET", lines("HGET", &|i| format!("HGET h f{i}"))),
            (
                "HPEXPIRE",
                lines("HPEXPIRE", &|i| {
                    format!("HPEXPIRE h {} FIELDS 1 f{i}", 1000 + i)
                }),
            ),
            ("SREM", lines("SREM", &|i| format!("SREM s m{i}"))),
            ("HDEL", lines("HDEL", &|i| format!("HDEL h f{i}"))),
            ("LPOP", lines("LPOP", &|_| "LPOP l".to_string())),
        ];
        for (name, batch) in cases {
            let start = std::time::Instant::now();
            for argv in &batch {
                std::hint::black_box(server.execute(argv, 0));
            }
            let secs = start.elapsed().as_secs_f64();
            println!("{name:>10}: {:>10.0} ops/s", n as f64 / secs);
        }
    }
}
