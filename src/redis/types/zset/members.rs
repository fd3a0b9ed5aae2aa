//! The member → score map of a sorted set: entries in one vector, found through an
//! open-addressing table of small slots (an entry's index and 32 bits of its hash).
//!
//! A map holding the members themselves has 32-byte slots at half load: 64 MB of table for a
//! million members, where every ZADD of a new member misses the cache twice. Here a slot is
//! 8 bytes and also its own occupancy mark, probed linearly: adding a member reads and
//! writes one cache line of the table (a Swiss table's separate control bytes would be a
//! second miss), and a present member costs one more read, its entry, to compare the bytes
//! when the 32 bits of hash agree. Removal shifts the rest of the probe run back, so the
//! table needs no tombstones.

use std::hash::Hasher;

use super::tree::Member;
use crate::redis::db::FxHasher;

/// An unused slot's entry index. A set of 2^32 members would need hundreds of gigabytes
/// (wasm has 4 GB in all), so no entry has it.
const EMPTY: u32 = u32::MAX;
const EMPTY_SLOT: (u32, u32) = (EMPTY, 0);
const MIN_SLOTS: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct Members {
    /// (index in `entries`, the member's hash truncated to 32 bits); a power of two in
    /// length, at most three quarters used, so every probe run ends at an empty slot.
    slots: Vec<(u32, u32)>,
    entries: Vec<(Member, f64)>,
}

/// The 32 bits of a member's hash the table keeps.
pub fn tag_of(member: &[u8]) -> u32 {
    let mut h = FxHasher::default();
    h.write(member);
    h.finish() as u32
}

/// The slot where a tag's probe run starts: the top bits of the tag times 2^64/φ, so that
/// every bit of the tag moves it.
fn home(tag: u32, mask: usize) -> usize {
    let spread = u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (spread >> 32) as usize & mask
}

fn slot_id(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(EMPTY - 1)
}

/// Asks the processor to bring `value`'s cache line in without waiting for it. A new
/// member's slot is a cache miss (a million members' table is 16 MB); issued before the
/// sorted set's tree search, it arrives while that search waits on the tree's own misses.
#[cfg(target_arch = "x86_64")]
fn prefetch<T>(value: &T) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    // SAFETY: a prefetch is a hint that neither reads nor writes memory as the program
    // sees it and never faults; the pointer comes from a live reference regardless. SSE,
    // which the intrinsic is declared to need, is part of every x86_64 processor.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast()) }
}

/// Elsewhere (wasm) there is no prefetch instruction: the probe simply waits.
#[cfg(not(target_arch = "x86_64"))]
fn prefetch<T>(_: &T) {}

/// Where a probe for a member ended.
enum Probe {
    /// The slot holding it.
    Found(usize),
    /// The empty slot that ended the run.
    Vacant(usize),
}

impl Members {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// One linear probe. The table must not be empty.
    fn probe(&self, member: &[u8], tag: u32) -> Probe {
        let mask = self.mask();
        let mut i = home(tag, mask);
        loop {
            let (id, t) = self.slots[i];
            if id == EMPTY {
                return Probe::Vacant(i);
            }
            if t == tag
                && self
                    .entries
                    .get(id as usize)
                    .is_some_and(|e| *e.0 == *member)
            {
                return Probe::Found(i);
            }
            i = (i + 1) & mask;
        }
    }

    fn find(&self, member: &[u8]) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        match self.probe(member, tag_of(member)) {
            Probe::Found(i) => Some(self.slots[i].0 as usize),
            Probe::Vacant(_) => None,
        }
    }

    /// Makes room for one more slot within the load limit, doubling the table when full.
    /// Slots keep their tags, so a rehash reads no member.
    fn reserve_one(&mut self) {
        let used = self.entries.len() + 1;
        if used * 4 <= self.slots.len() * 3 {
            return;
        }
        let size = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; size]);
        let mask = size - 1;
        for slot in old.into_iter().filter(|s| s.0 != EMPTY) {
            let mut i = home(slot.1, mask);
            while self.slots[i].0 != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
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
        if !add {
            return self.get(member);
        }
        self.get_or_add_tagged(member, tag_of(member), score)
    }

    /// Starts loading the slot where a probe for `tag` begins, so that a caller with other
    /// work to do meanwhile does not wait for it in `get_or_add_tagged`.
    pub fn prefetch(&self, tag: u32) {
        if let Some(slot) = self.slots.get(home(tag, self.mask())) {
            prefetch(slot);
        }
    }

    /// `get_or_add` (adding) with the member's `tag_of` already computed.
    pub fn get_or_add_tagged(&mut self, member: &[u8], tag: u32, score: f64) -> Option<f64> {
        self.reserve_one();
        match self.probe(member, tag) {
            Probe::Found(i) => self.entries.get(self.slots[i].0 as usize).map(|e| e.1),
            Probe::Vacant(i) => {
                self.slots[i] = (slot_id(self.entries.len()), tag);
                self.entries.push((Member::from(member), score));
                None
            }
        }
    }

    /// Adds a member the caller knows is absent.
    pub fn insert_new(&mut self, member: &[u8], score: f64) {
        self.get_or_add(member, score, true);
    }

    /// Empties slot `hole`, moving later slots of its probe run back so that every member
    /// stays reachable from its home slot without passing an empty one.
    fn vacate(&mut self, mut hole: usize) {
        let mask = self.mask();
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let slot = self.slots[i];
            if slot.0 == EMPTY {
                break;
            }
            // A slot may fill the hole if the hole lies on its way from its home to it.
            let home = home(slot.1, mask);
            if (i.wrapping_sub(home) & mask) >= (i.wrapping_sub(hole) & mask) {
                self.slots[hole] = slot;
                hole = i;
            }
        }
        self.slots[hole] = EMPTY_SLOT;
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        if self.slots.is_empty() {
            return None;
        }
        let at = match self.probe(member, tag_of(member)) {
            Probe::Found(at) => at,
            Probe::Vacant(_) => return None,
        };
        let id = self.slots[at].0 as usize;
        let last = self.entries.len().checked_sub(1)?;
        if id > last {
            return None;
        }
        self.vacate(at);
        let (_, score) = self.entries.swap_remove(id);
        // The last entry moved into the freed place: its slot follows it.
        if let Some((moved, _)) = self.entries.get(id) {
            let mask = self.mask();
            let mut i = home(tag_of(moved), mask);
            while self.slots[i].0 != EMPTY {
                if self.slots[i].0 as usize == last {
                    self.slots[i].0 = slot_id(id);
                    break;
                }
                i = (i + 1) & mask;
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

    /// A table kept at its smallest size and three quarters full, so probe runs are long and
    /// wrap past the end: removal must shift every later slot of a run back, across the end
    /// too, or a member after the hole becomes unreachable.
    #[test]
    fn removal_keeps_wrapped_probe_runs_reachable() {
        let mut seed = 11u64;
        for round in 0..2_000u32 {
            let mut members = Members::default();
            let mut model: HashMap<Vec<u8>, f64> = HashMap::new();
            for step in 0..200u32 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let member = format!("r{round}m{}", (seed >> 33) % 24).into_bytes();
                if model.len() < 11 && !(seed >> 20).is_multiple_of(3) {
                    let had = model.get(&member).copied();
                    assert_eq!(members.get_or_add(&member, f64::from(step), true), had);
                    model.entry(member).or_insert(f64::from(step));
                } else {
                    assert_eq!(members.remove(&member), model.remove(&member));
                }
                assert!(members.slots.len() <= MIN_SLOTS);
                for (m, s) in &model {
                    assert_eq!(members.get(m), Some(*s));
                }
                assert_eq!(members.len(), model.len());
            }
        }
    }
}
