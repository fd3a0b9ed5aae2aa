//! A small sorted set: its (score, member) pairs in order in one vector, a member found by
//! a linear scan, as Redis's listpack does up to zset-max-listpack-entries. A set of one
//! member is one 32-byte allocation, where the member map and the tree of a large set
//! start at a kilobyte.

use super::tree::{Member, Pos};

#[derive(Debug, Clone, Default)]
pub struct Small {
    entries: Vec<(f64, Member)>,
}

impl Small {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn find(&self, member: &[u8]) -> Option<usize> {
        self.entries.iter().position(|(_, m)| **m == *member)
    }

    pub fn get(&self, member: &[u8]) -> Option<f64> {
        self.find(member)
            .and_then(|i| self.entries.get(i))
            .map(|e| e.0)
    }

    /// Index of the first key not below (score, member).
    fn position(&self, score: f64, member: &[u8]) -> usize {
        self.entries
            .partition_point(|(s, m)| *s < score || (*s == score && &**m < member))
    }

    /// Adds a member the caller knows is absent.
    pub fn insert_new(&mut self, score: f64, member: &[u8]) {
        let at = self.position(score, member);
        self.entries.insert(at, (score, Member::from(member)));
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let i = self.find(member)?;
        Some(self.entries.remove(i).0)
    }

    /// Removes the `count` first (or, with `back`, last) pairs.
    pub fn pop_end(&mut self, count: usize, back: bool) {
        let count = count.min(self.len());
        if back {
            self.entries.truncate(self.len() - count);
        } else {
            self.entries.drain(..count);
        }
    }

    /// Pairs in order, emptying the set (to convert it).
    pub fn drain(&mut self) -> impl Iterator<Item = (f64, Member)> + '_ {
        self.entries.drain(..)
    }

    // The order's interface, as `Tree` has it: positions are (0, index), ranks 1-based.

    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        self.position(score, member) + 1
    }

    pub fn by_rank(&self, rank: usize) -> Pos {
        let i = rank.checked_sub(1)?;
        (i < self.len()).then_some((0, i))
    }

    pub fn first_where(&self, past: impl Fn(f64, &[u8]) -> bool) -> Pos {
        let i = self.entries.partition_point(|(s, m)| past(*s, m));
        (i < self.len()).then_some((0, i))
    }

    pub fn last_where(&self, within: impl Fn(f64, &[u8]) -> bool) -> Pos {
        let i = self.entries.partition_point(|(s, m)| within(*s, m));
        i.checked_sub(1).map(|i| (0, i))
    }

    pub fn first(&self) -> Pos {
        self.by_rank(1)
    }

    pub fn get_at(&self, (_, i): (u32, usize)) -> Option<(&[u8], f64)> {
        self.entries.get(i).map(|(s, m)| (&**m, *s))
    }

    pub fn step(&self, (_, i): (u32, usize), back: bool) -> Pos {
        let j = if back { i.checked_sub(1)? } else { i + 1 };
        (j < self.len()).then_some((0, j))
    }
}
