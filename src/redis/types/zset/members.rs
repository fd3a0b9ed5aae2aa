//! The member → score map of a sorted set: entries in one vector, found through a hash
//! table of small slots (an entry's index and 32 bits of its hash).
//!
//! A map holding the members themselves has 32-byte slots at half load: 64 MB of table for a
//! million members, where every ZADD of a new member misses the cache twice. Here the
//! table is 8 bytes a slot (16 MB, mostly cache-resident control bytes to probe), a new
//! member is appended to the entries, and a present one costs one more read: its entry, to
//! compare the bytes when the 32 bits of hash agree.

use std::hash::Hasher;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::tree::Member;
use crate::redis::db::FxHasher;

#[derive(Debug, Clone, Default)]
pub struct Members {
    /// (index in `entries`, the member's hash truncated to 32 bits).
    index: HashTable<(u32, u32)>,
    entries: Vec<(Member, f64)>,
}

fn tag_of(member: &[u8]) -> u32 {
    let mut h = FxHasher::default();
    h.write(member);
    h.finish() as u32
}

/// The table's hash from the stored 32 bits: multiplied so that both the low bits (the
/// bucket) and the top seven (the control byte) vary with all of them.
fn spread(tag: u32) -> u64 {
    u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// An entry's index as a table slot holds it. A set of 2^32 members would need hundreds of
/// gigabytes (wasm has 4 GB in all), so the saturation is never reached.
fn slot_id(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl Members {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, member: &[u8]) -> Option<usize> {
        let tag = tag_of(member);
        let entries = &self.entries;
        self.index
            .find(spread(tag), |&(id, t)| {
                t == tag && entries.get(id as usize).is_some_and(|e| *e.0 == *member)
            })
            .map(|&(id, _)| id as usize)
    }

    pub fn get(&self, member: &[u8]) -> Option<f64> {
        self.find(member)
            .and_then(|i| self.entries.get(i))
            .map(|e| e.1)
    }

    pub fn get_mut(&mut self, member: &[u8]) -> Option<&mut f64> {
        let i = self.find(member)?;
        self.entries.get_mut(i).map(|e| &mut e.1)
    }

    /// The member's score if it is present; otherwise, if `add`, adds it with `score`. One
    /// probe of the table either way.
    pub fn get_or_add(&mut self, member: &[u8], score: f64, add: bool) -> Option<f64> {
        let tag = tag_of(member);
        let entries = &self.entries;
        let entry = self.index.entry(
            spread(tag),
            |&(id, t)| t == tag && entries.get(id as usize).is_some_and(|e| *e.0 == *member),
            |&(_, t)| spread(t),
        );
        match entry {
            Entry::Occupied(slot) => self.entries.get(slot.get().0 as usize).map(|e| e.1),
            Entry::Vacant(slot) => {
                if add {
                    slot.insert((slot_id(self.entries.len()), tag));
                    self.entries.push((Member::from(member), score));
                }
                None
            }
        }
    }

    /// Adds a member the caller knows is absent.
    pub fn insert_new(&mut self, member: &[u8], score: f64) {
        self.get_or_add(member, score, true);
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let tag = tag_of(member);
        let entries = &self.entries;
        let found = self.index.find_entry(spread(tag), |&(id, t)| {
            t == tag && entries.get(id as usize).is_some_and(|e| *e.0 == *member)
        });
        let ((id, _), _) = found.ok()?.remove();
        let id = id as usize;
        let last = self.entries.len().checked_sub(1)?;
        if id >= self.entries.len() {
            return None;
        }
        let (_, score) = self.entries.swap_remove(id);
        // The last entry moved into the freed place: its slot follows it.
        if let Some((moved, _)) = self.entries.get(id) {
            let moved_tag = tag_of(moved);
            if let Some(slot) = self
                .index
                .find_mut(spread(moved_tag), |&(i, _)| i as usize == last)
            {
                slot.0 = slot_id(id);
            }
        }
        Some(score)
    }

    /// Members and scores in no particular order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> {
        self.entries.iter().map(|(m, s)| (&**m, *s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn adds_finds_and_removes_like_a_map() {
        let mut members = Members::default();
        let mut model: HashMap<Vec<u8>, f64> = HashMap::new();
        let mut seed = 3u64;
        for step in 0..40_000u32 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (seed >> 33) % 2_000;
            let member = if n.is_multiple_of(5) {
                format!("a member longer than the inline limit {n}").into_bytes()
            } else {
                format!("m{n}").into_bytes()
            };
            let score = f64::from(step);
            match (seed >> 20) % 4 {
                0 => assert_eq!(members.remove(&member), model.remove(&member)),
                1 => {
                    if let Some(s) = members.get_mut(&member) {
                        *s = score;
                    }
                    if let Some(s) = model.get_mut(&member) {
                        *s = score;
                    }
                }
                _ => {
                    let had = model.get(&member).copied();
                    assert_eq!(members.get_or_add(&member, score, true), had);
                    model.entry(member.clone()).or_insert(score);
                }
            }
            assert_eq!(members.get(&member), model.get(&member).copied());
            assert_eq!(members.len(), model.len());
        }
        let mut all: Vec<(Vec<u8>, f64)> = members.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        let mut expected: Vec<(Vec<u8>, f64)> = model.into_iter().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(all, expected);
        assert_eq!(members.get_or_add(b"absent", 1.0, false), None);
        assert_eq!(members.get(b"absent"), None);
        for (m, _) in expected {
            assert!(members.remove(&m).is_some());
        }
        assert!(members.is_empty());
    }
}
