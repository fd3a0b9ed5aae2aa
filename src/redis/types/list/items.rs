//! A list's elements, kept in chunks of up to `CHUNK_ITEMS` elements laid end to end in one
//! buffer each (as the server keeps them in listpack nodes), rather than one allocation an
//! element. A pop of a million elements then frees a few thousand buffers, not a million,
//! and copies bytes rather than following a pointer per element.
//!
//! Element `i` is found by walking the chunks' counts from the head, as the server walks its
//! quicklist nodes: a few thousand steps for a million elements. Whole walks (LRANGE, LREM,
//! LPOS, a snapshot) go through `Iter`, which steps from chunk to chunk.

use std::collections::VecDeque;

use crate::redis::reply::Bulks;

/// Most elements a chunk takes. Small enough that a push or pop at a chunk's head (LPUSH,
/// LPOP), which moves the rest of the chunk, moves little; large enough that a long pop
/// handles whole chunks. (Counting popped head elements as gone instead of moving the rest
/// cost 342 bytes of the first load; 128 elements / 4 KiB made a million LPOPs 40% slower
/// than on main, these sizes 20%.)
const CHUNK_ITEMS: usize = 64;
/// Bytes past which a chunk takes no more elements (a larger element gets a chunk alone).
const CHUNK_BYTES: usize = 2048;

#[derive(Debug, Clone, Default)]
struct Chunk {
    data: Vec<u8>,
    /// Where each element ends in `data`; element `j` starts where element `j - 1` ends.
    ends: Vec<usize>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, j: usize) -> Option<&[u8]> {
        self.data.get(self.start_of(j)..*self.ends.get(j)?)
    }

    fn room_for(&self, len: usize) -> bool {
        self.len() < CHUNK_ITEMS && self.data.len() + len <= CHUNK_BYTES
    }

    /// Where element `j` starts (the end of the data when `j` is the length).
    fn start_of(&self, j: usize) -> usize {
        match j.checked_sub(1) {
            Some(prev) => self.ends.get(prev).copied().unwrap_or(self.data.len()),
            None => 0,
        }
    }

    /// Inserts `element` before element `j` (at the end when `j` is the length).
    fn insert(&mut self, j: usize, element: &[u8]) {
        let (at, old, len) = (self.start_of(j), self.data.len(), element.len());
        self.data.resize(old + len, 0);
        self.data.copy_within(at..old, at + len);
        if let Some(gap) = self.data.get_mut(at..at + len) {
            gap.copy_from_slice(element);
        }
        let (j, count) = (j.min(self.ends.len()), self.ends.len());
        self.ends.push(at);
        self.ends.copy_within(j..count, j + 1);
        if let Some(end) = self.ends.get_mut(j) {
            *end = at;
        }
        for end in self.ends.get_mut(j..).unwrap_or_default() {
            *end += len;
        }
    }

    /// Removes the `k` elements from `j` on.
    fn remove(&mut self, j: usize, k: usize) {
        let count = self.ends.len();
        let j = j.min(count);
        let k = k.min(count - j);
        let (at, to) = (self.start_of(j), self.start_of(j + k));
        let old = self.data.len();
        self.data.copy_within(to..old, at);
        self.data.truncate(old - (to - at));
        self.ends.copy_within(j + k..count, j);
        self.ends.truncate(count - k);
        for end in self.ends.get_mut(j..).unwrap_or_default() {
            *end -= to - at;
        }
    }
}

/// The elements of a list, head to tail.
#[derive(Debug, Clone, Default)]
pub struct Items {
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl PartialEq for Items {
    fn eq(&self, other: &Items) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// Where an element sits: its chunk and its index in the chunk.
type Spot = (usize, usize);

impl Items {
    pub fn len(&self) -> usize {
        self.len
    }

    /// The chunk and offset of element `i` (past the last chunk's end when `i` is the
    /// length), walked to from the nearer end.
    fn locate(&self, mut i: usize) -> Spot {
        if i >= self.len / 2 {
            // How many elements from `i` to the tail.
            let mut behind = self.len.saturating_sub(i);
            for c in (0..self.chunks.len()).rev() {
                let count = self.chunks.get(c).map_or(0, Chunk::len);
                if behind <= count {
                    return (c, count - behind);
                }
                behind -= count;
            }
        }
        for (c, chunk) in self.chunks.iter().enumerate() {
            if i < chunk.len() {
                return (c, i);
            }
            i -= chunk.len();
        }
        (self.chunks.len(), 0)
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let (c, j) = self.locate(i);
        self.chunks.get(c)?.get(j)
    }

    /// Elements `from..to`, which may run from either end.
    pub fn range(&self, from: usize, to: usize) -> Iter<'_> {
        let to = to.min(self.len);
        let from = from.min(to);
        Iter {
            chunks: &self.chunks,
            front: self.locate(from),
            back: self.locate(to),
            left: to - from,
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        self.range(0, self.len)
    }

    /// Adds `element` at the head (`front`) or the tail.
    pub fn push(&mut self, front: bool, element: &[u8]) {
        let c = if front {
            0
        } else {
            self.chunks.len().saturating_sub(1)
        };
        match self.chunks.get_mut(c) {
            Some(chunk) if chunk.room_for(element.len()) => {
                chunk.insert(if front { 0 } else { chunk.len() }, element)
            }
            _ => {
                let mut chunk = Chunk::default();
                chunk.insert(0, element);
                match front {
                    true => self.chunks.push_front(chunk),
                    false => self.chunks.push_back(chunk),
                }
            }
        }
        self.len += 1;
    }

    /// Bytes of the `n` elements at the head (`front`) or the tail.
    pub fn end_bytes(&self, front: bool, n: usize) -> usize {
        let (mut left, mut bytes, count) = (n.min(self.len), 0, self.chunks.len());
        for k in 0..count {
            let chunk = self.chunks.get(if front { k } else { count - 1 - k });
            let Some(chunk) = chunk.filter(|_| left > 0) else {
                break;
            };
            let taken = left.min(chunk.len());
            left -= taken;
            bytes += match front {
                true => chunk.start_of(taken),
                false => chunk.data.len() - chunk.start_of(chunk.len() - taken),
            };
        }
        bytes
    }

    /// Removes `n` elements from the head (`front`) or the tail, appending them to `out` in
    /// the order they leave: whole chunks at a time (from the head, each copied in one go),
    /// the chunk at the cut trimmed once.
    pub fn drain_end(&mut self, front: bool, n: usize, mut out: Option<&mut Bulks>) {
        let mut left = n.min(self.len);
        self.len -= left;
        while left > 0 {
            let c = if front {
                0
            } else {
                self.chunks.len().saturating_sub(1)
            };
            let Some(chunk) = self.chunks.get_mut(c) else {
                break;
            };
            let count = chunk.len();
            let k = left.min(count);
            if let Some(out) = out.as_deref_mut() {
                if front {
                    let cut = chunk.start_of(k);
                    out.push_run(
                        chunk.data.get(..cut).unwrap_or_default(),
                        chunk.ends.get(..k).unwrap_or_default(),
                    );
                } else {
                    for j in (count - k..count).rev() {
                        out.push(chunk.get(j).unwrap_or_default());
                    }
                }
            }
            left -= k;
            match (k == count, front) {
                (true, true) => drop(self.chunks.pop_front()),
                (true, false) => drop(self.chunks.pop_back()),
                (false, true) => chunk.remove(0, k),
                (false, false) => chunk.remove(count - k, k),
            }
        }
    }

    /// Inserts `element` before element `at` (at the tail when `at` is the length).
    pub fn insert(&mut self, at: usize, element: &[u8]) {
        if at == 0 || at >= self.len {
            return self.push(at == 0, element);
        }
        let (c, j) = self.locate(at);
        let Some(chunk) = self.chunks.get_mut(c) else {
            return;
        };
        // A full chunk is cut before `j`, and the element ends the first half (alone in
        // it when `j` is 0).
        if !chunk.room_for(element.len()) {
            let cut = chunk.start_of(j);
            let mut rest = Chunk {
                data: chunk.data.get(cut..).unwrap_or_default().to_vec(),
                ends: chunk.ends.get(j..).unwrap_or_default().to_vec(),
            };
            for end in &mut rest.ends {
                *end -= cut;
            }
            chunk.remove(j, usize::MAX);
            chunk.insert(j, element);
            self.chunks.insert(c + 1, rest);
        } else {
            chunk.insert(j, element);
        }
        self.len += 1;
    }

    /// Replaces element `i`; false when there is none.
    pub fn set(&mut self, i: usize, element: &[u8]) -> bool {
        let (c, j) = self.locate(i);
        match self.chunks.get_mut(c) {
            Some(chunk) if j < chunk.len() => {
                chunk.remove(j, 1);
                chunk.insert(j, element);
                true
            }
            _ => false,
        }
    }

    /// Keeps the elements for which `keep(i, element)` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool) {
        let mut kept = Items::default();
        for (i, element) in self.iter().enumerate() {
            if keep(i, element) {
                kept.push(false, element);
            }
        }
        *self = kept;
    }
}

/// Elements of an `Items` from either end.
pub struct Iter<'a> {
    chunks: &'a VecDeque<Chunk>,
    /// The next element from the front.
    front: Spot,
    /// The element after the next one from the back.
    back: Spot,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let (c, j) = self.front;
        let chunk = self.chunks.get(c)?;
        self.front = if j + 1 < chunk.len() {
            (c, j + 1)
        } else {
            (c + 1, 0)
        };
        self.left -= 1;
        chunk.get(j)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let (mut c, mut j) = self.back;
        if j == 0 {
            c = c.checked_sub(1)?;
            j = self.chunks.get(c)?.len();
        }
        j -= 1;
        self.back = (c, j);
        self.left -= 1;
        self.chunks.get(c)?.get(j)
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// No chunk is empty, each chunk's ends agree with its bytes, and the counts with `len`.
    fn check(items: &Items) {
        let mut count = 0;
        for chunk in &items.chunks {
            assert!(chunk.len() > 0, "empty chunk");
            assert_eq!(chunk.ends.last().copied(), Some(chunk.data.len()));
            assert!(chunk.ends.windows(2).all(|w| w[0] <= w[1]));
            count += chunk.len();
        }
        assert_eq!(count, items.len);
    }

    #[test]
    fn items_follow_a_deque_model() {
        let mut next = super::super::picker(0x9e37_79b9_7f4a_7c15);
        let mut items = Items::default();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for round in 0..40_000 {
            let len = [0, 1, 3, 10, 40, 600, 5000][next(7)];
            let element: Vec<u8> = (0..len).map(|k| (k + round) as u8).collect();
            let i = next(model.len() + 1);
            match next(10) {
                0 | 1 => {
                    items.push(false, &element);
                    model.push_back(element);
                }
                2 | 3 => {
                    items.push(true, &element);
                    model.push_front(element);
                }
                4 => {
                    assert_eq!(items.get(0), model.front().map(Vec::as_slice));
                    items.drain_end(true, 1, None);
                    model.pop_front();
                }
                5 => {
                    assert_eq!(
                        items.get(model.len().wrapping_sub(1)),
                        model.back().map(Vec::as_slice)
                    );
                    items.drain_end(false, 1, None);
                    model.pop_back();
                }
                6 => {
                    items.insert(i, &element);
                    model.insert(i, element);
                }
                7 => {
                    assert_eq!(items.set(i, &element), i < model.len());
                    if let Some(e) = model.get_mut(i) {
                        *e = element;
                    }
                }
                8 => {
                    let n = next(300);
                    let front = next(2) == 0;
                    let bytes = items.end_bytes(front, n);
                    let mut got = Bulks::with_capacity(0, 0);
                    items.drain_end(front, n, Some(&mut got));
                    let got: Vec<Vec<u8>> = got.iter().map(|e| e.into_owned()).collect();
                    assert_eq!(bytes, got.iter().map(Vec::len).sum::<usize>());
                    let want: Vec<Vec<u8>> = (0..n)
                        .map_while(|_| {
                            if front {
                                model.pop_front()
                            } else {
                                model.pop_back()
                            }
                        })
                        .collect();
                    assert_eq!(got, want);
                }
                _ => {
                    let gone = next(7);
                    items.retain(|k, _| k % 7 != gone);
                    let mut k = 0;
                    model.retain(|_| {
                        k += 1;
                        (k - 1) % 7 != gone
                    });
                }
            }
            check(&items);
            assert_eq!(items.len(), model.len());
            if round % 97 == 0 || model.len() < 20 {
                assert!(items.iter().eq(model.iter().map(Vec::as_slice)));
                assert!(items.iter().rev().eq(model.iter().rev().map(Vec::as_slice)));
            }
            let (a, b) = (next(model.len() + 1), next(model.len() + 1));
            let (a, b) = (a.min(b), a.max(b));
            assert!(items.range(a, b).eq(model.range(a..b).map(Vec::as_slice)));
            assert!(items
                .range(a, b)
                .rev()
                .eq(model.range(a..b).rev().map(Vec::as_slice)));
            assert_eq!(items.get(i), model.get(i).map(Vec::as_slice));
        }
    }
}
