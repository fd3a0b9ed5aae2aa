//! One keyspace (a numbered database): its entries and the ordered index of their expiry
//! times. Expired keys are never visible: lookups drop them lazily, and `active_expire`
//! reclaims due keys in time order without scanning the keyspace.
//!
//! Entries live in an insertion-ordered map so that a position is a stable SCAN cursor and
//! RANDOMKEY can pick by index. Removal swaps the last entry into the hole; SCAN walks
//! positions downwards, so a key that moves is only ever moved into the part not yet visited
//! (or revisited), never skipped.
//!
//! Hashes whose fields carry a TTL are kept in a second ordered index, by their earliest field
//! expiry: a lookup drops a hash's due fields before anyone sees them, and
//! `active_expire_fields` reclaims them in time order. A hash whose last field expires is
//! deleted like an expired key.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use indexmap::map::raw_entry_v1::{RawEntryApiV1, RawEntryMut};
use indexmap::IndexMap;
use std::hash::BuildHasher;

use crate::clock::Millis;

use super::memory::accounted_size;
use super::types::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry time in sandbox milliseconds, if the key is volatile.
    pub expire_at: Option<Millis>,
    /// Redis's `lru` field: under an LRU policy the last access in sandbox milliseconds
    /// (OBJECT IDLETIME); under an LFU policy the LFU data instead, minutes << 8 | counter.
    pub accessed: Millis,
    /// The encoding OBJECT ENCODING reports when it is not the one a fresh SET would pick: a
    /// string changed in place (APPEND, SETRANGE, SETBIT, ...) stays a `raw` sds whatever its
    /// length, and INCRBYFLOAT's result is never re-encoded as an integer.
    pub encoding: Option<&'static str>,
    /// What the keyspace accounts for this key in `used_memory` (see `memory`).
    pub size: u32,
}

impl Entry {
    pub fn new(value: Value, expire_at: Option<Millis>, now: Millis) -> Entry {
        Entry {
            value,
            expire_at,
            accessed: now,
            encoding: None,
            size: 0,
        }
    }
}

/// Keys ordered by the time they expire, so the next ones due are found in O(log n).
#[derive(Debug, Default, Clone)]
pub struct ExpiryIndex {
    by_time: BTreeSet<(Millis, Vec<u8>)>,
}

impl ExpiryIndex {
    fn insert(&mut self, at: Millis, key: &[u8]) {
        self.by_time.insert((at, key.to_vec()));
    }

    fn remove(&mut self, at: Millis, key: &[u8]) {
        self.by_time.remove(&(at, key.to_vec()));
    }

    /// The earliest-expiring key, if it is due at `now`.
    fn first_due(&self, now: Millis) -> Option<&(Millis, Vec<u8>)> {
        self.by_time.first().filter(|(at, _)| *at <= now)
    }

    pub fn len(&self) -> usize {
        self.by_time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_time.is_empty()
    }

    /// The keys due at `now`, earliest first.
    fn due(&self, now: Millis) -> impl Iterator<Item = &(Millis, Vec<u8>)> {
        self.by_time.iter().take_while(move |(at, _)| *at <= now)
    }

    /// A key with a TTL picked by `r`: the first to expire at or after a time drawn between
    /// the earliest and the latest expiry. O(log n) with no second index; keys in a crowded
    /// stretch of time are drawn a little less often than in Redis's uniform sampling.
    fn pick(&self, r: u64) -> Option<&(Millis, Vec<u8>)> {
        let first = self.by_time.first()?.0;
        let last = self.by_time.last()?.0;
        let at = first + r % (last - first).saturating_add(1);
        self.by_time.range((at, Vec::new())..).next()
    }
}

/// Keys whose value has fields with a TTL (hashes), by the earliest of those times: one row
/// per key, so the next hash with a due field is found in O(log n).
#[derive(Debug, Default, Clone)]
pub struct FieldExpiryIndex {
    by_time: BTreeSet<(Millis, Vec<u8>)>,
    of_key: HashMap<Vec<u8>, Millis, FxBuild>,
}

impl FieldExpiryIndex {
    /// Records `at` as the earliest field expiry of `key` (`None`: it has no field with a TTL).
    fn set(&mut self, key: &[u8], at: Option<Millis>) {
        if at.is_none() && self.of_key.is_empty() {
            return;
        }
        let old = self.of_key.get(key).copied();
        if old == at {
            return;
        }
        if let Some(old) = old {
            self.by_time.remove(&(old, key.to_vec()));
        }
        match at {
            Some(at) => {
                self.by_time.insert((at, key.to_vec()));
                self.of_key.insert(key.to_vec(), at);
            }
            None => {
                self.of_key.remove(key);
            }
        }
    }

    /// The key whose earliest field expiry is the soonest, if it is due at `now`.
    fn first_due(&self, now: Millis) -> Option<&(Millis, Vec<u8>)> {
        self.by_time.first().filter(|(at, _)| *at <= now)
    }

    pub fn len(&self) -> usize {
        self.by_time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_time.is_empty()
    }
}

/// The earliest field expiry inside a value (only hashes have fields with a TTL).
fn field_expiry(value: &Value) -> Option<Millis> {
    match value {
        Value::Hash(hash) => hash.next_expiry(),
        _ => None,
    }
}

/// The Fx hash (rustc's): keys are the student's own, in a single-user sandbox, so there is
/// no flooding to defend against and SipHash's cost would dominate GET and SET.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write(&(n as u64).to_le_bytes());
    }

    /// Fx alone leaves the low 32 bits depending on little more than the last bytes, and a
    /// 32-bit target (wasm) indexes its tables with exactly those bits: keys such as
    /// `key:1234x` then collide en masse. A murmur3 finaliser spreads every bit over all 64.
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;

#[derive(Debug, Default, Clone)]
pub struct Db {
    entries: IndexMap<Vec<u8>, Entry, FxBuild>,
    expiry: ExpiryIndex,
    fields: FieldExpiryIndex,
    /// Keys removed because their time ran out (lazily or actively), for INFO and the page.
    pub expired_count: u64,
    /// Sum of the entries' `size`: this database's share of `used_memory`.
    used: usize,
    /// How a lookup updates a key's `accessed` (LRU time or LFU counter).
    pub tracking: Tracking,
    /// Whether lookups count as keyspace hits and misses (while a read command runs).
    pub counting: bool,
    pub hits: u64,
    pub misses: u64,
    /// The LFU counter's coin (`LFULogIncr`), seeded so a session replays identically.
    rng: u64,
    /// Whether expired keys are also logged in `expired_log` (keyspace notifications on).
    pub log_expired: bool,
    /// Keys that expired, or lost fields to expiry, since the notification code last took
    /// them.
    pub expired_log: Vec<(Vec<u8>, Expired)>,
    /// Keys written or removed since the vector indexes last caught up (see `Changes`).
    pub changes: Changes,
    /// Whether the page's keyspace panel has read this database as it is now: false after
    /// any write (every write passes `note`), so a panel can skip its snapshot after reads.
    /// A cell because the panel reads the database shared.
    shown: Cell<bool>,
}

/// The keys whose value may have changed, for indexes that keep state of their own (the
/// FT vector fields' stores, `search::vector`). Off, and free, until such an index exists.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub on: bool,
    pub keys: Vec<Vec<u8>>,
    /// Set when the whole database went at once (FLUSHDB, FLUSHALL).
    pub reset: bool,
}

impl Db {
    fn note(&mut self, key: &[u8]) {
        *self.shown.get_mut() = false;
        if self.changes.on {
            self.changes.keys.push(key.to_vec());
        }
    }
}

/// What expiry took from a key, as keyspace notifications announce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// The key's own TTL ran out (`expired`).
    Key,
    /// Some of a hash's fields ran out (`hexpired`).
    Fields,
    /// A hash's last fields ran out, which deletes it (`hexpired`, then `del`).
    LastFields,
}

/// Port of evict.c's LFU helpers: a logarithmic 8-bit access counter that decays with idle
/// minutes, stored with the minute it was last decremented.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Tracking {
    #[default]
    Lru,
    Lfu {
        log_factor: u32,
        decay_minutes: u32,
    },
}

/// The counter a new key starts with, so that it is not evicted before it had a chance.
pub const LFU_INIT_VAL: u64 = 5;

impl Tracking {
    /// The `accessed` value of a key created at `now`.
    pub fn fresh(self, now: Millis) -> Millis {
        match self {
            Tracking::Lru => now,
            Tracking::Lfu { .. } => lfu_minutes(now) << 8 | LFU_INIT_VAL,
        }
    }

    /// `LFUDecrAndReturn`: the counter of a key whose LFU data is `data`, less one per
    /// `decay_minutes` elapsed since its last decrement.
    pub fn lfu_count(self, data: Millis, now: Millis) -> u64 {
        let Tracking::Lfu { decay_minutes, .. } = self else {
            return 0;
        };
        let counter = data & 255;
        let last = (data >> 8) & 0xffff;
        let minutes = lfu_minutes(now);
        let elapsed = if minutes >= last {
            minutes - last
        } else {
            65_535 - last + minutes
        };
        let periods = if decay_minutes > 0 {
            elapsed / u64::from(decay_minutes)
        } else {
            0
        };
        counter.saturating_sub(periods)
    }

    /// `updateLFU` (or the LRU clock): the `accessed` value after an access at `now`;
    /// `coin` is a uniform random number in [0, 1).
    fn touched(self, data: Millis, now: Millis, coin: f64) -> Millis {
        match self {
            Tracking::Lru => now,
            Tracking::Lfu { log_factor, .. } => {
                let mut counter = self.lfu_count(data, now);
                if counter < 255 {
                    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
                    if coin < 1.0 / (base * f64::from(log_factor) + 1.0) {
                        counter += 1;
                    }
                }
                lfu_minutes(now) << 8 | counter
            }
        }
    }
}

/// `LFUGetTimeInMinutes`: sandbox minutes, on 16 bits.
fn lfu_minutes(now: Millis) -> Millis {
    (now / 60_000) & 0xffff
}

impl Db {
    pub fn new() -> Self {
        Self::default()
    }

    /// The live entry for `key`, dropping it first if it has expired by `now`. Counts as an
    /// access for OBJECT IDLETIME.
    pub fn get(&mut self, key: &[u8], now: Millis) -> Option<&mut Entry> {
        let index = self.live_index(key, now)?;
        let tracking = self.tracking;
        let coin = match tracking {
            Tracking::Lru => 0.0,
            Tracking::Lfu { .. } => self.coin(),
        };
        let (_, entry) = self.entries.get_index_mut(index)?;
        entry.accessed = tracking.touched(entry.accessed, now, coin);
        Some(entry)
    }

    /// A uniform number in [0, 1) from the database's own generator (xorshift64*).
    fn coin(&mut self) -> f64 {
        if self.rng == 0 {
            self.rng = 0x2545_f491_4f6c_dd1d;
        }
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Like `get`, without touching the access time (OBJECT, TTL and friends).
    pub fn peek(&mut self, key: &[u8], now: Millis) -> Option<&mut Entry> {
        let index = self.live_index(key, now)?;
        self.entries.get_index_mut(index).map(|(_, e)| e)
    }

    fn live_index(&mut self, key: &[u8], now: Millis) -> Option<usize> {
        let found = self
            .entries
            .get_index_of(key)
            .and_then(|index| self.live_at(index, key, now));
        if self.counting {
            if found.is_some() {
                self.hits += 1;
            } else {
                self.misses += 1;
            }
        }
        found
    }

    /// `live_index` for a key already found at `index`.
    fn live_at(&mut self, index: usize, key: &[u8], now: Millis) -> Option<usize> {
        let due = self
            .entries
            .get_index(index)
            .and_then(|(_, e)| e.expire_at)
            .is_some_and(|at| at <= now);
        if due {
            self.remove(key);
            self.note_expired(key);
            return None;
        }
        let fields_due = self
            .entries
            .get_index(index)
            .and_then(|(_, e)| field_expiry(&e.value))
            .is_some_and(|at| at <= now);
        if fields_due && !self.expire_fields(key, now, usize::MAX).1 {
            return None;
        }
        Some(index)
    }

    /// Drops up to `budget` fields of `key` that are due at `now` and re-files the key in the
    /// field index. Returns the fields dropped and whether the key is still there (a hash
    /// whose last field expired is deleted).
    fn expire_fields(&mut self, key: &[u8], now: Millis, budget: usize) -> (usize, bool) {
        let Some(entry) = self.entries.get_mut(key) else {
            self.fields.set(key, None);
            return (0, false);
        };
        let (dropped, empty) = match &mut entry.value {
            Value::Hash(hash) => (hash.expire_due(now, budget), hash.is_empty()),
            _ => (0, false),
        };
        if empty {
            self.remove(key);
            self.expired_count += 1;
            self.log_expiry(key, Expired::LastFields);
            return (dropped, false);
        }
        let next = field_expiry(&entry.value);
        self.fields.set(key, next);
        if dropped > 0 {
            self.remeasure(key);
            self.log_expiry(key, Expired::Fields);
        }
        (dropped, true)
    }

    /// Re-files `key` in the field index after its value changed (HSET, HEXPIRE, HPERSIST,
    /// ...): the earliest field expiry may have moved.
    pub fn sync_field_expiry(&mut self, key: &[u8]) {
        let next = self.entries.get(key).and_then(|e| field_expiry(&e.value));
        self.fields.set(key, next);
    }

    pub fn contains(&mut self, key: &[u8], now: Millis) -> bool {
        self.live_index(key, now).is_some()
    }

    /// Stores `value` under `key`, replacing any previous value and its TTL (as SET does).
    pub fn set(&mut self, key: &[u8], value: Value, now: Millis) {
        self.set_with_expiry(key, value, None, now);
    }

    pub fn set_with_expiry(
        &mut self,
        key: &[u8],
        value: Value,
        expire_at: Option<Millis>,
        now: Millis,
    ) {
        let mut entry = Entry::new(value, expire_at, now);
        entry.accessed = self.tracking.fresh(now);
        self.insert_entry(key, entry);
    }

    /// What a plain SET does to the keyspace: exactly `get` followed by `set_with_expiry` of a
    /// string, with the key hashed once, copied only when it is new, and an existing string's
    /// buffer reused when it is about the right size.
    pub fn set_string(&mut self, key: &[u8], value: &[u8], expire_at: Option<Millis>, now: Millis) {
        self.note(key);
        let hash = self.entries.hasher().hash_one(key);
        let found = self
            .entries
            .raw_entry_v1()
            .index_from_hash(hash, |k| k.as_slice() == key);
        // The lookup SET makes first still expires a due key (counted, and its slot freed).
        let live = found.and_then(|index| self.live_at(index, key, now));
        self.fields.set(key, None);
        let tracking = self.tracking;
        let coin = match tracking {
            Tracking::Lru => 0.0,
            Tracking::Lfu { .. } => self.coin(),
        };
        if let Some((_, slot)) = live.and_then(|index| self.entries.get_index_mut(index)) {
            let old_at = slot.expire_at;
            match &mut slot.value {
                Value::Str(buf)
                    if buf.capacity() >= value.len()
                        && buf.capacity() <= value.len().saturating_mul(2).max(32) =>
                {
                    buf.clear();
                    buf.extend_from_slice(value);
                }
                other => *other = Value::Str(value.to_vec()),
            }
            slot.expire_at = expire_at;
            // An overwrite is an access of the key; under LFU its counter carries over.
            slot.accessed = tracking.touched(slot.accessed, now, coin);
            slot.encoding = None;
            let old_size = slot.size;
            slot.size = accounted_size(key, slot) as u32;
            self.used = self.used - old_size as usize + slot.size as usize;
            if old_at != expire_at {
                if let Some(at) = old_at {
                    self.expiry.remove(at, key);
                }
                if let Some(at) = expire_at {
                    self.expiry.insert(at, key);
                }
            }
            return;
        }
        let mut entry = Entry::new(Value::Str(value.to_vec()), expire_at, now);
        entry.accessed = self.tracking.fresh(now);
        entry.size = accounted_size(key, &entry) as u32;
        let entry = match self
            .entries
            .raw_entry_mut_v1()
            .from_key_hashed_nocheck(hash, key)
        {
            RawEntryMut::Vacant(slot) => {
                self.used += entry.size as usize;
                slot.insert_hashed_nocheck(hash, key.to_vec(), entry);
                if let Some(at) = expire_at {
                    self.expiry.insert(at, key);
                }
                return;
            }
            RawEntryMut::Occupied(_) => entry,
        };
        self.insert_entry(key, entry);
    }

    /// Stores a whole entry (value, TTL and metadata), as RENAME, MOVE and COPY do.
    pub fn insert_entry(&mut self, key: &[u8], mut entry: Entry) {
        self.note(key);
        self.fields.set(key, field_expiry(&entry.value));
        entry.size = accounted_size(key, &entry) as u32;
        let old_at = match self.entries.get_mut(key) {
            Some(slot) => {
                let old = slot.expire_at;
                let new_at = entry.expire_at;
                self.used = self.used - slot.size as usize + entry.size as usize;
                *slot = entry;
                if old != new_at {
                    if let Some(at) = old {
                        self.expiry.remove(at, key);
                    }
                    if let Some(at) = new_at {
                        self.expiry.insert(at, key);
                    }
                }
                return;
            }
            None => entry.expire_at,
        };
        if let Some(at) = old_at {
            self.expiry.insert(at, key);
        }
        self.used += entry.size as usize;
        self.entries.insert(key.to_vec(), entry);
    }

    /// Recomputes the accounted size of `key` after its value changed in place (every
    /// write command's keys pass here), keeping `used` a running total.
    pub fn remeasure(&mut self, key: &[u8]) {
        self.note(key);
        if let Some(entry) = self.entries.get_mut(key) {
            let size = accounted_size(key, entry) as u32;
            self.used = self.used - entry.size as usize + size as usize;
            entry.size = size;
        }
    }

    /// This database's share of `used_memory`, in modelled bytes: its keys, its table and
    /// the table of keys with a TTL.
    pub fn used_bytes(&self) -> usize {
        if self.entries.is_empty() {
            return 0;
        }
        let expires = match self.expiry.len() {
            0 => 0,
            n => super::memory::table(n),
        };
        self.used + super::memory::table(self.entries.len()) + expires
    }

    /// The running total next to a full recount of every entry's size, which must agree.
    #[cfg(test)]
    pub(crate) fn used_and_recount(&self) -> (usize, usize) {
        let recount = self
            .entries
            .iter()
            .map(|(key, entry)| accounted_size(key, entry))
            .sum();
        (self.used, recount)
    }

    /// A key picked by `r` among all keys, or among those with a TTL (eviction sampling).
    pub fn pick(&self, r: u64, volatile_only: bool) -> Option<(&[u8], &Entry)> {
        if volatile_only {
            let (_, key) = self.expiry.pick(r)?;
            return self
                .entries
                .get_key_value(key.as_slice())
                .map(|(k, e)| (k.as_slice(), e));
        }
        let len = self.entries.len();
        if len == 0 {
            return None;
        }
        self.entries
            .get_index((r % len as u64) as usize)
            .map(|(k, e)| (k.as_slice(), e))
    }

    /// Sets or clears the TTL of an existing key; false if the key does not exist.
    pub fn set_expiry(&mut self, key: &[u8], expire_at: Option<Millis>) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        if let Some(old) = entry.expire_at {
            self.expiry.remove(old, key);
        }
        entry.expire_at = expire_at;
        if let Some(at) = expire_at {
            self.expiry.insert(at, key);
        }
        self.remeasure(key);
        true
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entry = self.entries.swap_remove(key)?;
        self.note(key);
        self.used -= entry.size as usize;
        if let Some(at) = entry.expire_at {
            self.expiry.remove(at, key);
        }
        self.fields.set(key, None);
        Some(entry)
    }

    /// Number of keys, as DBSIZE reports it (keys already due but not yet reclaimed count,
    /// as in Redis).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn volatile_count(&self) -> usize {
        self.expiry.len()
    }

    /// INFO keyspace's `avg_ttl`: like the real server's, an estimate from sampled keys
    /// (here up to 16 picked from the expiry index), in milliseconds.
    pub fn average_ttl(&self, now: Millis) -> u64 {
        let mut sum = 0u64;
        let mut count = 0u64;
        for i in 0..16u64 {
            if let Some((at, _)) = self.expiry.pick(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) {
                sum = sum.saturating_add(at.saturating_sub(now));
                count += 1;
            }
        }
        sum.checked_div(count).unwrap_or(0)
    }

    /// Number of keys holding fields with a TTL.
    pub fn volatile_field_keys(&self) -> usize {
        self.fields.len()
    }

    fn note_expired(&mut self, key: &[u8]) {
        self.expired_count += 1;
        self.log_expiry(key, Expired::Key);
    }

    fn log_expiry(&mut self, key: &[u8], what: Expired) {
        if self.log_expired {
            self.expired_log.push((key.to_vec(), what));
        }
    }

    pub fn clear(&mut self) {
        self.changes.reset = self.changes.on;
        self.changes.keys.clear();
        self.used = 0;
        self.entries.clear();
        *self.shown.get_mut() = false;
        self.expiry = ExpiryIndex::default();
        self.fields = FieldExpiryIndex::default();
    }

    /// Iterates over entries without expiring anything (callers filter by time if needed).
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Entry)> {
        self.entries.iter()
    }

    /// Whether the database may have changed since the page's keyspace panel last read it
    /// (`mark_shown`).
    pub fn changed_since_shown(&self) -> bool {
        !self.shown.get()
    }

    /// The page's keyspace panel read the database as it is now.
    pub fn mark_shown(&self) {
        self.shown.set(true);
    }

    /// The database moved to another number (SWAPDB): a panel showing that number must read
    /// it again.
    pub fn mark_moved(&mut self) {
        *self.shown.get_mut() = false;
    }

    /// How many stored keys are due at `now` but not yet reclaimed: the active cycle keeps
    /// them few, so this is no walk of the keyspace.
    pub fn due_count(&self, now: Millis) -> usize {
        self.expiry.due(now).count()
    }

    /// The entry at `pos` in insertion order, due or not: a dump that goes a few keys at a
    /// time resumes where it stopped (the keyspace unchanged meanwhile).
    pub fn get_index(&self, pos: usize) -> Option<(&Vec<u8>, &Entry)> {
        self.entries.get_index(pos)
    }

    /// The entry for `key` as stored, due or not, without touching it: what the page's panels
    /// read (they must not expire keys or reset OBJECT IDLETIME by looking).
    pub fn stored(&self, key: &[u8]) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Where `key` sits in the order `at` counts in, if it is stored.
    pub fn position(&self, key: &[u8]) -> Option<usize> {
        self.entries.get_index_of(key)
    }

    /// The key and entry at a position (0..len), for SCAN and RANDOMKEY.
    pub fn at(&self, index: usize) -> Option<(&Vec<u8>, &Entry)> {
        self.entries.get_index(index)
    }

    /// The bounded active expiry cycle: removes at most `budget` keys already due at `now`,
    /// earliest first, and returns them (the page marks them as they fade out).
    pub fn active_expire(&mut self, now: Millis, budget: usize) -> Vec<Vec<u8>> {
        let mut gone = Vec::new();
        while gone.len() < budget {
            let Some((_, key)) = self.expiry.first_due(now).cloned() else {
                break;
            };
            self.remove(&key);
            self.note_expired(&key[..]);
            gone.push(key);
        }
        gone
    }

    /// The bounded active cycle for fields: drops at most `budget` fields already due at
    /// `now`, from the hashes whose earliest field expiry is soonest. Returns the fields
    /// dropped and the keys deleted because their last field went.
    pub fn active_expire_fields(&mut self, now: Millis, budget: usize) -> (usize, Vec<Vec<u8>>) {
        let mut dropped = 0;
        let mut gone = Vec::new();
        while dropped < budget {
            let Some((_, key)) = self.fields.first_due(now).cloned() else {
                break;
            };
            let (n, alive) = self.expire_fields(&key, now, budget - dropped);
            // Always progress, even on a stale row.
            dropped += n.max(1);
            if !alive {
                gone.push(key);
            }
        }
        (dropped, gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything about a keyspace a command could observe.
    fn state(db: &Db) -> String {
        let entries: Vec<_> = db.iter().collect();
        format!(
            "{entries:?} {:?} {:?} {}",
            db.expiry.by_time, db.fields.by_time, db.expired_count
        )
    }

    #[test]
    fn set_string_is_a_lookup_then_a_set() {
        let mut server = crate::redis::Server::new();
        for line in [
            "SET plain v",
            "SET big 0123456789012345678901234567890123456789012345678901234567890123456789",
            "SET soon v PX 10",
            "SET later v PX 500",
            "HSET due f v g w",
            "HPEXPIRE due 50 FIELDS 1 f",
            "HSET gone f v",
            "HPEXPIRE gone 50 FIELDS 1 f",
            "HSET kept f v",
            "HPEXPIRE kept 900 FIELDS 1 f",
            "RPUSH list a",
            "SET tail v",
        ] {
            let argv = crate::redis::cli::split_args(line).unwrap_or_default();
            server.execute(&argv, 0);
        }
        let start = server.dbs[0].clone();
        let keys: [&[u8]; 10] = [
            b"plain", b"big", b"soon", b"later", b"due", b"gone", b"kept", b"list", b"new", b"tail",
        ];
        for key in keys {
            for at in [None, Some(300), Some(500)] {
                for value in [&b"x"[..], b"a longer value than before"] {
                    let (mut fast, mut slow) = (start.clone(), start.clone());
                    fast.set_string(key, value, at, 100);
                    slow.get(key, 100);
                    slow.set_with_expiry(key, Value::Str(value.to_vec()), at, 100);
                    assert_eq!(state(&fast), state(&slow), "{key:?} {at:?} {value:?}");
                }
            }
        }
    }

    #[test]
    fn key_hashes_stay_spread_when_truncated_to_32_bits() {
        use std::hash::BuildHasher;
        let build = FxBuild::default();
        let buckets: std::collections::HashSet<u32> = (0..10_000)
            .map(|i| (build.hash_one(format!("key:{i}").into_bytes()) as u32) & 0xffff)
            .collect();
        // 10k random values in 65536 buckets give about 9,300 distinct ones.
        assert!(buckets.len() > 9_000, "only {} distinct", buckets.len());
    }

    fn s(v: &str) -> Value {
        Value::Str(v.as_bytes().to_vec())
    }

    #[test]
    fn expired_keys_are_never_visible() {
        let mut db = Db::new();
        db.set_with_expiry(b"a", s("1"), Some(100), 0);
        assert!(db.contains(b"a", 99));
        assert!(!db.contains(b"a", 100));
        assert_eq!(db.len(), 0);
        assert_eq!(db.volatile_count(), 0);
        assert_eq!(db.expired_count, 1);
    }

    #[test]
    fn set_clears_the_old_ttl() {
        let mut db = Db::new();
        db.set_with_expiry(b"a", s("1"), Some(100), 0);
        db.set(b"a", s("2"), 0);
        assert!(db.contains(b"a", 1_000));
        assert_eq!(db.volatile_count(), 0);
    }

    #[test]
    fn active_cycle_expires_in_time_order_within_budget() {
        let mut db = Db::new();
        for (i, key) in ["c", "a", "b", "d"].iter().enumerate() {
            db.set_with_expiry(key.as_bytes(), s("v"), Some(10 * (i as u64 + 1)), 0);
        }
        db.set(b"forever", s("v"), 0);
        assert_eq!(db.active_expire(25, 10), vec![b"c".to_vec(), b"a".to_vec()]);
        assert_eq!(db.active_expire(100, 1), vec![b"b".to_vec()]);
        assert_eq!(db.active_expire(100, 10), vec![b"d".to_vec()]);
        assert_eq!(db.len(), 1);
        assert_eq!(db.expired_count, 4);
    }
}
