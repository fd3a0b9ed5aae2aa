//! The (score, member) order of a sorted set with ranks in O(log n): an order-statistics
//! B+tree whose inner nodes count the keys under each child (the role of Redis's skiplist
//! with spans, with far fewer cache misses per search).
//!
//! Each node is one fixed-size block (scores, members, children and counts in inline
//! arrays) in one of two arenas, leaves and inner nodes apart, addressed by index: a step
//! down the tree is one memory region, not a node plus three separately allocated vectors,
//! and a million-member set is two allocations rather than hundreds of thousands. Deletions
//! never rebalance (a node may run underfull; an emptied leaf is unlinked), so depth stays
//! bounded by the largest size the set ever had.
//!
//! Nothing here knows Redis: the file depends on `std` alone.

/// Bytes a member can have and still be stored inline.
pub const INLINE_MEMBER: usize = 22;

/// A member's bytes, short ones (most members: `user:1042`, a city) inline. The member map
/// and the tree each hold one per member; inline, neither a lookup nor a rehash of the map
/// nor a tie in the tree follows a pointer to the heap, and adding a member allocates nothing.
#[derive(Clone)]
pub enum Member {
    Inline { len: u8, bytes: [u8; INLINE_MEMBER] },
    Heap(Box<[u8]>),
}

impl Member {
    /// An unused slot of a node's array.
    const EMPTY: Member = Member::Inline {
        len: 0,
        bytes: [0; INLINE_MEMBER],
    };
}

impl Default for Member {
    fn default() -> Member {
        Member::EMPTY
    }
}

impl From<&[u8]> for Member {
    fn from(member: &[u8]) -> Member {
        match u8::try_from(member.len()) {
            Ok(len) if member.len() <= INLINE_MEMBER => {
                let mut bytes = [0; INLINE_MEMBER];
                bytes[..member.len()].copy_from_slice(member);
                Member::Inline { len, bytes }
            }
            _ => Member::Heap(member.into()),
        }
    }
}

impl std::ops::Deref for Member {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Member::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(bytes),
            Member::Heap(bytes) => bytes,
        }
    }
}

impl std::borrow::Borrow<[u8]> for Member {
    fn borrow(&self) -> &[u8] {
        self
    }
}

// Hashes and compares as the bytes do, so a map can be searched with a `&[u8]`.
impl std::hash::Hash for Member {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl PartialEq for Member {
    fn eq(&self, other: &Member) -> bool {
        **self == **other
    }
}

impl Eq for Member {}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// Keys a leaf holds, and children an inner node holds. Leaves are kept smaller than inner
/// nodes: every insert searches a leaf and shifts half of it, so a leaf should span few
/// cache lines, while inner nodes are few and stay cached.
const LEAF_CAP: usize = 32;
const INNER_CAP: usize = 64;
const NIL: u32 = u32::MAX;

/// A position in the tree: a leaf and an index in it.
pub type Pos = Option<(u32, usize)>;

/// Where `Tree::locate` found a new key belongs; valid until the tree next changes.
#[derive(Debug, Clone, Copy)]
pub struct Located {
    leaf: u32,
    pos: usize,
}

/// Keys in order: scores in order, members in the order they arrived, `order` mapping the
/// one to the other. A search reads the scores alone (eight to a cache line) and touches a
/// member only on a score tie; an insert shifts the scores and the one-byte `order`, and
/// writes its member into the first free slot, rather than shifting 24-byte members
/// through half the leaf (most of an insert's cache lines, when members were in order).
/// Member slots at and past `len` hold `Member::EMPTY`.
#[derive(Debug, Clone)]
#[repr(C)]
struct Leaf {
    len: usize,
    prev: u32,
    next: u32,
    scores: [f64; LEAF_CAP],
    /// `order[i]`: the slot of `members` holding the key at index `i`.
    order: [u8; LEAF_CAP],
    members: [Member; LEAF_CAP],
}

/// `len` children; separator `i` (`scores[i]`, `members[i]`) is a lower bound of every key
/// under `children[i + 1]` and above every key under `children[i]`; `counts[i]` is how many
/// keys `children[i]` holds. A search reads the separators' scores, then one count and one
/// child: the arrays are laid out in that order.
#[derive(Debug, Clone)]
#[repr(C)]
struct Inner {
    len: usize,
    scores: [f64; INNER_CAP - 1],
    counts: [usize; INNER_CAP],
    children: [u32; INNER_CAP],
    members: [Member; INNER_CAP - 1],
}

/// Puts `value` at `at` in the first `len` slots, shifting the rest up by one (the slot at
/// `len` must be free).
fn insert_at<T>(slots: &mut [T], len: usize, at: usize, value: T) {
    if let Some(moved) = slots.get_mut(at..=len) {
        moved.rotate_right(1);
        moved[0] = value;
    }
}

/// Takes the value at `at` out of the first `len` slots, shifting the rest down by one and
/// leaving a default value in the freed slot.
fn remove_at<T: Default>(slots: &mut [T], len: usize, at: usize) -> T {
    match slots.get_mut(at..len) {
        Some(moved) if !moved.is_empty() => {
            moved.rotate_left(1);
            moved.last_mut().map(std::mem::take).unwrap_or_default()
        }
        _ => T::default(),
    }
}

/// Where the scores equal to `score` lie in sorted `scores`. The scores below are counted
/// rather than binary-searched: a node's scores span several cache lines, and a count loads
/// them all at once (and in vector registers) where a binary search waits for one line
/// after another.
fn equal_run(scores: &[f64], score: f64) -> (usize, usize) {
    let lo = scores.iter().filter(|&&s| s < score).count();
    let ties = scores.get(lo..).unwrap_or_default();
    (lo, lo + ties.iter().take_while(|&&s| s <= score).count())
}

/// The first index in `lo..hi` for which `pred` is false, `pred` holding on a prefix.
fn partition(mut lo: usize, mut hi: usize, pred: impl Fn(usize) -> bool) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl Leaf {
    fn new(prev: u32, next: u32) -> Leaf {
        Leaf {
            len: 0,
            prev,
            next,
            scores: [0.0; LEAF_CAP],
            order: [0; LEAF_CAP],
            members: [Member::EMPTY; LEAF_CAP],
        }
    }

    /// The member of the key at index `i` (`i` below `len`).
    fn member(&self, i: usize) -> &[u8] {
        &self.members[usize::from(self.order[i])]
    }

    /// Index of the first key not below (score, member).
    fn position(&self, score: f64, member: &[u8]) -> usize {
        let (lo, hi) = equal_run(&self.scores[..self.len], score);
        partition(lo, hi, |i| self.member(i) < member)
    }

    fn insert(&mut self, at: usize, score: f64, member: Member) {
        let slot = self.len;
        insert_at(&mut self.scores, self.len, at, score);
        insert_at(&mut self.order, self.len, at, slot as u8);
        self.members[slot] = member;
        self.len += 1;
    }

    fn remove(&mut self, at: usize) {
        let slot = self.order[at];
        remove_at(&mut self.scores, self.len, at);
        remove_at(&mut self.order, self.len, at);
        self.len -= 1;
        // The last slot's member fills the freed one, so the used slots stay `0..len`.
        let last = self.len;
        self.members.swap(usize::from(slot), last);
        self.members[last] = Member::EMPTY;
        if let Some(moved) = self.order[..last]
            .iter_mut()
            .find(|o| usize::from(**o) == last)
        {
            *moved = slot;
        }
    }

    /// Moves the keys from index `from` on into `to` (empty), in order, and packs the
    /// members of the keys left behind into the first slots.
    fn split_off(&mut self, from: usize, to: &mut Leaf) {
        let mut members = std::mem::replace(&mut self.members, [Member::EMPTY; LEAF_CAP]);
        for i in 0..self.len {
            let member = std::mem::take(&mut members[usize::from(self.order[i])]);
            if i < from {
                self.members[i] = member;
                self.order[i] = i as u8;
            } else {
                to.members[i - from] = member;
                to.order[i - from] = (i - from) as u8;
            }
        }
        let moved = self.len - from;
        to.scores[..moved].copy_from_slice(&self.scores[from..self.len]);
        to.len = moved;
        self.len = from;
    }
}

impl Inner {
    fn new() -> Inner {
        Inner {
            len: 0,
            scores: [0.0; INNER_CAP - 1],
            counts: [0; INNER_CAP],
            children: [0; INNER_CAP],
            members: [Member::EMPTY; INNER_CAP - 1],
        }
    }

    fn seps(&self) -> usize {
        self.len.saturating_sub(1)
    }

    /// The child that holds (or would hold) the key.
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        let (lo, hi) = equal_run(&self.scores[..self.seps()], score);
        lo + self.members[lo..hi].partition_point(|m| &**m <= member)
    }

    /// Puts `right` (holding `right_len` keys, all at or above `sep`) after child `i`, whose
    /// count included them.
    fn insert_child(
        &mut self,
        i: usize,
        (score, member): (f64, Member),
        right: u32,
        right_len: usize,
    ) {
        let seps = self.seps();
        insert_at(&mut self.scores, seps, i, score);
        insert_at(&mut self.members, seps, i, member);
        insert_at(&mut self.children, self.len, i + 1, right);
        insert_at(&mut self.counts, self.len, i + 1, right_len);
        self.counts[i] -= right_len;
        self.len += 1;
    }

    /// Moves the upper half of a full node into a new one; returns it with the separator
    /// between the two.
    fn split(&mut self) -> ((f64, Member), Inner) {
        const HALF: usize = INNER_CAP / 2;
        let mut right = Inner::new();
        right.children[..INNER_CAP - HALF].copy_from_slice(&self.children[HALF..]);
        right.counts[..INNER_CAP - HALF].copy_from_slice(&self.counts[HALF..]);
        right.scores[..INNER_CAP - 1 - HALF].copy_from_slice(&self.scores[HALF..]);
        for (to, from) in right.members.iter_mut().zip(&mut self.members[HALF..]) {
            *to = std::mem::take(from);
        }
        let promoted = (
            self.scores[HALF - 1],
            std::mem::take(&mut self.members[HALF - 1]),
        );
        right.len = INNER_CAP - HALF;
        self.len = HALF;
        (promoted, right)
    }
}

/// Puts a node into a free slot of its arena, or a new one; returns its index.
fn alloc<T>(arena: &mut Vec<T>, free: &mut Vec<u32>, node: T) -> u32 {
    match free.pop() {
        Some(slot) => {
            arena[slot as usize] = node;
            slot
        }
        None => {
            arena.push(node);
            (arena.len() - 1) as u32
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tree {
    leaves: Vec<Leaf>,
    inners: Vec<Inner>,
    free_leaves: Vec<u32>,
    free_inners: Vec<u32>,
    /// A leaf when `height` is 0, else an inner node.
    root: u32,
    /// Levels of inner nodes above the leaves.
    height: usize,
    first_leaf: u32,
    last_leaf: u32,
    len: usize,
    /// The root-to-leaf path of the last insert or delete, kept so that neither allocates.
    path: Vec<(u32, usize)>,
}

impl Tree {
    pub fn new() -> Self {
        Tree {
            leaves: vec![Leaf::new(NIL, NIL)],
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: 0,
            height: 0,
            first_leaf: 0,
            last_leaf: 0,
            len: 0,
            path: Vec::new(),
        }
    }

    fn alloc_leaf(&mut self, leaf: Leaf) -> u32 {
        alloc(&mut self.leaves, &mut self.free_leaves, leaf)
    }

    fn alloc_inner(&mut self, inner: Inner) -> u32 {
        alloc(&mut self.inners, &mut self.free_inners, inner)
    }

    /// Adds a key the caller knows is absent.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        let at = self.locate(score, member);
        self.insert_located(at, score, member);
    }

    /// Where a key the caller knows is absent belongs, without changing the tree: the
    /// search half of `insert`, so that a caller can do other work (probe the member map)
    /// while the leaf it reached is in cache, then finish with `insert_located`.
    pub fn locate(&mut self, score: f64, member: &[u8]) -> Located {
        self.path.clear();
        let mut at = self.root;
        for _ in 0..self.height {
            let node = &self.inners[at as usize];
            let i = node.child_for(score, member);
            self.path.push((at, i));
            at = node.children[i];
        }
        Located {
            leaf: at,
            pos: self.leaves[at as usize].position(score, member),
        }
    }

    /// Adds the key `locate` was asked about, the tree unchanged since.
    pub fn insert_located(&mut self, at: Located, score: f64, member: &[u8]) {
        // The key is new, so every count on the path grows by one: the path's nodes were
        // just read by `locate` and are still in cache.
        let mut path = std::mem::take(&mut self.path);
        for &(id, i) in &path {
            self.inners[id as usize].counts[i] += 1;
        }
        self.len += 1;
        let leaf = &mut self.leaves[at.leaf as usize];
        if leaf.len < LEAF_CAP {
            leaf.insert(at.pos, score, Member::from(member));
        } else {
            self.split_leaf(at.leaf, at.pos, score, Member::from(member), &mut path);
        }
        self.path = path;
    }

    /// Splits the full leaf `id` and puts the key at `pos` into the half it belongs to.
    fn split_leaf(
        &mut self,
        id: u32,
        pos: usize,
        score: f64,
        member: Member,
        path: &mut Vec<(u32, usize)>,
    ) {
        let left = &mut self.leaves[id as usize];
        let mut right = Leaf::new(id, left.next);
        // Appending past the last key of the set (rising scores: timestamps, counters)
        // leaves the full leaf full, so such a set ends with full leaves, not half-full ones.
        // Falling scores likewise, the other way round.
        let half = if pos == LEAF_CAP && left.next == NIL {
            LEAF_CAP
        } else if pos == 0 && left.prev == NIL {
            0
        } else {
            LEAF_CAP / 2
        };
        left.split_off(half, &mut right);
        if pos <= half && half < LEAF_CAP {
            left.insert(pos, score, member);
        } else {
            right.insert(pos - half, score, member);
        }
        let sep = (right.scores[0], Member::from(right.member(0)));
        let right_len = right.len;
        let old_next = right.next;
        let right = self.alloc_leaf(right);
        self.leaves[id as usize].next = right;
        match old_next {
            NIL => self.last_leaf = right,
            n => self.leaves[n as usize].prev = right,
        }
        self.insert_child(path, id, sep, right, right_len);
    }

    /// Puts `right` (holding `right_len` keys, all at or above `sep`) after `left` in the
    /// parent at the end of `path`, splitting upwards as needed.
    fn insert_child(
        &mut self,
        path: &mut Vec<(u32, usize)>,
        mut left: u32,
        mut sep: (f64, Member),
        mut right: u32,
        mut right_len: usize,
    ) {
        while let Some((parent, i)) = path.pop() {
            let node = &mut self.inners[parent as usize];
            if node.len < INNER_CAP {
                node.insert_child(i, sep, right, right_len);
                return;
            }
            let (promoted, mut upper) = node.split();
            let half = node.len;
            if i < half {
                node.insert_child(i, sep, right, right_len);
            } else {
                upper.insert_child(i - half, sep, right, right_len);
            }
            right_len = upper.counts[..upper.len].iter().sum();
            left = parent;
            sep = promoted;
            right = self.alloc_inner(upper);
        }
        // `left` was the root and now holds all but `right`'s keys.
        let mut root = Inner::new();
        root.len = 2;
        root.scores[0] = sep.0;
        root.members[0] = sep.1;
        root.children[0] = left;
        root.children[1] = right;
        root.counts[0] = self.len - right_len;
        root.counts[1] = right_len;
        self.root = self.alloc_inner(root);
        self.height += 1;
    }

    /// Removes a key; false if it is not there.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        let mut at = self.root;
        for _ in 0..self.height {
            let node = &self.inners[at as usize];
            let i = node.child_for(score, member);
            path.push((at, i));
            at = node.children[i];
        }
        let leaf = &mut self.leaves[at as usize];
        let pos = leaf.position(score, member);
        if pos >= leaf.len || leaf.scores[pos] != score || leaf.member(pos) != member {
            self.path = path;
            return false;
        }
        leaf.remove(pos);
        let emptied = leaf.len == 0;
        self.len -= 1;
        if self.len == 0 {
            *self = Tree::new();
            return true;
        }
        for &(id, i) in &path {
            self.inners[id as usize].counts[i] -= 1;
        }
        if emptied && self.height > 0 {
            self.unlink_leaf(at);
            self.remove_child(&mut path);
        }
        self.path = path;
        true
    }

    /// Removes the `count` first (or, with `back`, last) keys. A leaf at a time: popping a
    /// million keys one by one searched the tree and shifted a leaf for each.
    pub fn pop_end(&mut self, count: usize, back: bool) {
        let mut left = count.min(self.len);
        if left == self.len {
            *self = Tree::new();
            return;
        }
        let mut path = std::mem::take(&mut self.path);
        // Keys stay, so no leaf on the way is empty (emptied ones are unlinked) and no
        // inner node is childless; an empty one all the same ends the loop, not spins it.
        while left > 0 {
            path.clear();
            let mut at = self.root;
            for _ in 0..self.height {
                let node = &self.inners[at as usize];
                let i = if back { node.len.saturating_sub(1) } else { 0 };
                path.push((at, i));
                at = node.children[i];
            }
            let leaf = &mut self.leaves[at as usize];
            let take = left.min(leaf.len);
            if take == 0 {
                break;
            }
            // The keys that go are split off (and dropped), or split from.
            let mut rest = Leaf::new(leaf.prev, leaf.next);
            if back {
                leaf.split_off(leaf.len - take, &mut rest);
            } else {
                leaf.split_off(take, &mut rest);
                std::mem::swap(leaf, &mut rest);
            }
            let emptied = leaf.len == 0;
            left -= take;
            self.len -= take;
            for &(id, i) in &path {
                self.inners[id as usize].counts[i] -= take;
            }
            if emptied && self.height > 0 {
                self.unlink_leaf(at);
                self.remove_child(&mut path);
            }
        }
        self.path = path;
    }

    fn unlink_leaf(&mut self, id: u32) {
        let (p, n) = (self.leaves[id as usize].prev, self.leaves[id as usize].next);
        match p {
            NIL => self.first_leaf = n,
            p => self.leaves[p as usize].next = n,
        }
        match n {
            NIL => self.last_leaf = p,
            n => self.leaves[n as usize].prev = p,
        }
        self.leaves[id as usize] = Leaf::new(NIL, NIL);
        self.free_leaves.push(id);
    }

    /// Removes the emptied child at the end of `path` from its parent, and parents that
    /// become empty in turn; a root left with one child gives way to it.
    fn remove_child(&mut self, path: &mut Vec<(u32, usize)>) {
        while let Some((parent, i)) = path.pop() {
            let node = &mut self.inners[parent as usize];
            let seps = node.seps();
            if seps > 0 {
                let sep = i.saturating_sub(1);
                remove_at(&mut node.scores, seps, sep);
                remove_at(&mut node.members, seps, sep);
            }
            remove_at(&mut node.children, node.len, i);
            remove_at(&mut node.counts, node.len, i);
            node.len -= 1;
            if node.len > 0 {
                break;
            }
            self.free_inners.push(parent);
        }
        while self.height > 0 && self.inners[self.root as usize].len == 1 {
            let old = self.root;
            self.root = self.inners[old as usize].children[0];
            self.inners[old as usize] = Inner::new();
            self.free_inners.push(old);
            self.height -= 1;
        }
    }

    /// 1-based rank of a present key.
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        let mut rank = 0;
        let mut at = self.root;
        for _ in 0..self.height {
            let node = &self.inners[at as usize];
            let i = node.child_for(score, member);
            rank += node.counts[..i].iter().sum::<usize>();
            at = node.children[i];
        }
        rank + self.leaves[at as usize].position(score, member) + 1
    }

    /// The position of the key at a 1-based rank.
    pub fn by_rank(&self, rank: usize) -> Pos {
        if rank == 0 || rank > self.len {
            return None;
        }
        let mut left = rank - 1;
        let mut at = self.root;
        for _ in 0..self.height {
            let node = &self.inners[at as usize];
            let mut i = 0;
            while i + 1 < node.len && left >= node.counts[i] {
                left -= node.counts[i];
                i += 1;
            }
            at = node.children[i];
        }
        (left < self.leaves[at as usize].len).then_some((at, left))
    }

    /// The first key for which `past` is false, `past` holding on a prefix of the order.
    pub fn first_where(&self, past: impl Fn(f64, &[u8]) -> bool) -> Pos {
        let mut at = self.root;
        for _ in 0..self.height {
            let node = &self.inners[at as usize];
            let i = partition(0, node.seps(), |i| past(node.scores[i], &node.members[i]));
            at = node.children[i];
        }
        let leaf = &self.leaves[at as usize];
        match partition(0, leaf.len, |i| past(leaf.scores[i], leaf.member(i))) {
            i if i < leaf.len => Some((at, i)),
            _ if leaf.next == NIL => None,
            _ => Some((leaf.next, 0)),
        }
    }

    /// The last key for which `within` holds, `within` holding on a prefix of the order.
    pub fn last_where(&self, within: impl Fn(f64, &[u8]) -> bool) -> Pos {
        match self.first_where(within) {
            Some(pos) => self.step(pos, true),
            None => self.last(),
        }
    }

    pub fn first(&self) -> Pos {
        (self.len > 0).then_some((self.first_leaf, 0))
    }

    pub fn last(&self) -> Pos {
        let leaf = self.leaves.get(self.last_leaf as usize)?;
        leaf.len.checked_sub(1).map(|i| (self.last_leaf, i))
    }

    pub fn get(&self, (leaf, i): (u32, usize)) -> Option<(&[u8], f64)> {
        let leaf = self.leaves.get(leaf as usize)?;
        (i < leaf.len).then(|| (leaf.member(i), leaf.scores[i]))
    }

    /// The position after (or, with `back`, before) `pos`.
    pub fn step(&self, (id, i): (u32, usize), back: bool) -> Pos {
        let leaf = self.leaves.get(id as usize)?;
        if back {
            if i > 0 {
                return Some((id, i - 1));
            }
            let prev = self.leaves.get(leaf.prev as usize)?;
            prev.len.checked_sub(1).map(|j| (leaf.prev, j))
        } else if i + 1 < leaf.len {
            Some((id, i + 1))
        } else {
            (leaf.next != NIL).then_some((leaf.next, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A total order on (score, member) for the model: scores are never NaN here.
    #[derive(Clone, PartialEq, PartialOrd)]
    struct Key(f64, Vec<u8>);
    impl Eq for Key {}
    #[allow(clippy::derive_ord_xor_partial_ord)]
    impl Ord for Key {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.partial_cmp(other).unwrap_or(std::cmp::Ordering::Equal)
        }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    fn keys(tree: &Tree) -> Vec<Key> {
        let mut out = Vec::new();
        let mut at = tree.first();
        while let Some(pos) = at {
            let (m, s) = tree.get(pos).expect("a position the tree gave");
            out.push(Key(s, m.to_vec()));
            at = tree.step(pos, false);
        }
        out
    }

    /// Everything the tree answers, against the model.
    fn check(tree: &Tree, model: &BTreeSet<Key>, rng: &mut Rng) {
        let all: Vec<Key> = model.iter().cloned().collect();
        assert_eq!(tree.len, all.len());
        assert!(keys(tree) == all, "forward order");
        let mut back = Vec::new();
        let mut at = tree.last();
        while let Some(pos) = at {
            let (m, s) = tree.get(pos).expect("a position the tree gave");
            back.push(Key(s, m.to_vec()));
            at = tree.step(pos, true);
        }
        back.reverse();
        assert!(back == all, "backward order");
        for _ in 0..50.min(all.len()) {
            let r = rng.next() as usize % all.len();
            let Key(s, m) = &all[r];
            assert_eq!(tree.rank(*s, m), r + 1);
            assert_eq!(
                tree.by_rank(r + 1).and_then(|p| tree.get(p)),
                Some((&m[..], *s))
            );
        }
        assert_eq!(tree.by_rank(0), None);
        assert_eq!(tree.by_rank(all.len() + 1), None);
        for _ in 0..20 {
            let bound = (rng.next() % 60) as f64;
            let first = all.iter().position(|k| k.0 >= bound);
            let got = tree.first_where(|s, _| s < bound).and_then(|p| tree.get(p));
            assert_eq!(got, first.map(|i| (&all[i].1[..], all[i].0)), ">= {bound}");
            let last = all.iter().rposition(|k| k.0 <= bound);
            let got = tree.last_where(|s, _| s <= bound).and_then(|p| tree.get(p));
            assert_eq!(got, last.map(|i| (&all[i].1[..], all[i].0)), "<= {bound}");
        }
    }

    fn member(rng: &mut Rng) -> Vec<u8> {
        // Some members longer than the inline limit, many scores shared: ties go by bytes.
        let n = rng.next() % 3000;
        if n.is_multiple_of(7) {
            format!("a-long-member-name-past-the-inline-limit:{n}").into_bytes()
        } else {
            format!("m{n}").into_bytes()
        }
    }

    #[test]
    fn random_inserts_and_deletes_match_an_ordered_set() {
        for seed in 1..4u64 {
            let mut rng = Rng(seed);
            let mut tree = Tree::new();
            let mut model = BTreeSet::new();
            let mut scores = std::collections::HashMap::new();
            // Grow, shrink to nearly nothing, grow again: splits, emptied leaves, collapsing
            // roots and reused slots all happen.
            for (round, ops, delete_share) in [(0, 20_000, 2), (1, 30_000, 8), (2, 20_000, 3)] {
                for _ in 0..ops {
                    let m = member(&mut rng);
                    let s = (rng.next() % 60) as f64;
                    let key = Key(s, m.clone());
                    let present = scores.get(&m).map(|&s| Key(s, m.clone()));
                    if rng.next() % 10 < delete_share {
                        let target = present.unwrap_or(key);
                        assert_eq!(tree.delete(target.0, &target.1), model.remove(&target));
                        scores.remove(&m);
                    } else if present.is_none() {
                        tree.insert(s, &m);
                        model.insert(key);
                        scores.insert(m, s);
                    }
                }
                check(&tree, &model, &mut rng);
                assert!(tree.height <= 4, "round {round}: height {}", tree.height);
            }
            for k in model.clone() {
                assert!(tree.delete(k.0, &k.1));
                model.remove(&k);
            }
            assert_eq!(tree.len, 0);
            assert_eq!(tree.first(), None);
            assert_eq!(tree.last(), None);
            tree.insert(1.0, b"again");
            model.insert(Key(1.0, b"again".to_vec()));
            check(&tree, &model, &mut rng);
        }
    }

    #[test]
    fn rising_and_falling_keys_fill_leaves() {
        let mut rising = Tree::new();
        let mut falling = Tree::new();
        let mut model = BTreeSet::new();
        for i in 0..10_000u32 {
            rising.insert(f64::from(i), b"x");
            falling.insert(-f64::from(i), b"x");
            model.insert(Key(f64::from(i), b"x".to_vec()));
        }
        check(&rising, &model, &mut Rng(5));
        // Appends leave every leaf but the last full.
        assert_eq!(rising.leaves.len(), 10_000usize.div_ceil(LEAF_CAP));
        assert_eq!(falling.leaves.len(), 10_000usize.div_ceil(LEAF_CAP));
        assert_eq!(falling.len, 10_000);
        assert_eq!(falling.rank(-9_999.0, b"x"), 1);
        for i in (0..10_000u32).step_by(2) {
            assert!(rising.delete(f64::from(i), b"x"));
            model.remove(&Key(f64::from(i), b"x".to_vec()));
        }
        assert!(!rising.delete(0.0, b"x"), "already gone");
        check(&rising, &model, &mut Rng(6));
    }

    /// Popping from either end, by counts that end inside leaves and past several, leaves
    /// the tree the model has after removing as many of its first or last keys; the tree
    /// still takes inserts and deletes after it.
    #[test]
    fn popping_either_end_matches_an_ordered_set() {
        let mut rng = Rng(9);
        let mut tree = Tree::new();
        let mut model = BTreeSet::new();
        while model.len() < 20_000 {
            let key = Key((rng.next() % 500) as f64, member(&mut rng));
            if model.insert(key.clone()) {
                tree.insert(key.0, &key.1);
            }
        }
        for (count, back) in [
            (1, false),
            (31, true),
            (32, false),
            (1_000, true),
            (4_321, false),
        ] {
            tree.pop_end(count, back);
            for _ in 0..count {
                let end = if back { model.last() } else { model.first() }.cloned();
                model.remove(&end.expect("the model holds more"));
            }
            check(&tree, &model, &mut rng);
            let key = Key(250.5, member(&mut rng));
            tree.insert(key.0, &key.1);
            model.insert(key.clone());
            assert!(tree.delete(key.0, &key.1));
            model.remove(&key);
        }
        let left = model.len();
        tree.pop_end(left + 5, true);
        assert_eq!((tree.len, tree.first(), tree.last()), (0, None, None));
        tree.insert(1.0, b"again");
        check(
            &tree,
            &BTreeSet::from([Key(1.0, b"again".to_vec())]),
            &mut rng,
        );
    }
}
