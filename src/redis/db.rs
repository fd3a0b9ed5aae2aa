//! One keyspace (a numbered database): its entries and the ordered index of their expiry
//! times. Expired keys are never visible: lookups drop them lazily, and `active_expire`
//! reclaims due keys in time order without scanning the keyspace.

use std::collections::{BTreeSet, HashMap};

use crate::clock::Millis;

use super::types::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry time in sandbox milliseconds, if the key is volatile.
    pub expire_at: Option<Millis>,
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
}

#[derive(Debug, Default, Clone)]
pub struct Db {
    entries: HashMap<Vec<u8>, Entry>,
    expiry: ExpiryIndex,
    /// Keys removed because their time ran out (lazily or actively), for INFO and the page.
    pub expired_count: u64,
}

impl Db {
    pub fn new() -> Self {
        Self::default()
    }

    /// The live entry for `key`, dropping it first if it has expired by `now`.
    pub fn get(&mut self, key: &[u8], now: Millis) -> Option<&mut Entry> {
        self.expire_if_due(key, now);
        self.entries.get_mut(key)
    }

    pub fn contains(&mut self, key: &[u8], now: Millis) -> bool {
        self.get(key, now).is_some()
    }

    /// Stores `value` under `key`, replacing any previous value and its TTL (as SET does).
    pub fn set(&mut self, key: &[u8], value: Value) {
        self.set_with_expiry(key, value, None);
    }

    pub fn set_with_expiry(&mut self, key: &[u8], value: Value, expire_at: Option<Millis>) {
        if let Some(old) = self.entries.get(key).and_then(|e| e.expire_at) {
            self.expiry.remove(old, key);
        }
        if let Some(at) = expire_at {
            self.expiry.insert(at, key);
        }
        self.entries
            .insert(key.to_vec(), Entry { value, expire_at });
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
        true
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        if let Some(at) = entry.expire_at {
            self.expiry.remove(at, key);
        }
        Some(entry)
    }

    /// Number of keys, as DBSIZE reports it.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn volatile_count(&self) -> usize {
        self.expiry.len()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.expiry = ExpiryIndex::default();
    }

    /// Iterates over entries without expiring anything (callers filter by time if needed).
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Entry)> {
        self.entries.iter()
    }

    fn expire_if_due(&mut self, key: &[u8], now: Millis) {
        let due =
            matches!(self.entries.get(key), Some(Entry { expire_at: Some(at), .. }) if *at <= now);
        if due {
            self.remove(key);
            self.expired_count += 1;
        }
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
            self.expired_count += 1;
            gone.push(key);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.as_bytes().to_vec())
    }

    #[test]
    fn expired_keys_are_never_visible() {
        let mut db = Db::new();
        db.set_with_expiry(b"a", s("1"), Some(100));
        assert!(db.contains(b"a", 99));
        assert!(!db.contains(b"a", 100));
        assert_eq!(db.len(), 0);
        assert_eq!(db.volatile_count(), 0);
        assert_eq!(db.expired_count, 1);
    }

    #[test]
    fn set_clears_the_old_ttl() {
        let mut db = Db::new();
        db.set_with_expiry(b"a", s("1"), Some(100));
        db.set(b"a", s("2"));
        assert!(db.contains(b"a", 1_000));
        assert_eq!(db.volatile_count(), 0);
    }

    #[test]
    fn active_cycle_expires_in_time_order_within_budget() {
        let mut db = Db::new();
        for (i, key) in ["c", "a", "b", "d"].iter().enumerate() {
            db.set_with_expiry(key.as_bytes(), s("v"), Some(10 * (i as u64 + 1)));
        }
        db.set(b"forever", s("v"));
        assert_eq!(db.active_expire(25, 10), vec![b"c".to_vec(), b"a".to_vec()]);
        assert_eq!(db.active_expire(100, 1), vec![b"b".to_vec()]);
        assert_eq!(db.active_expire(100, 10), vec![b"d".to_vec()]);
        assert_eq!(db.len(), 1);
        assert_eq!(db.expired_count, 4);
    }
}
