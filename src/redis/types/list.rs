//! Lists: a deque of strings (Redis's t_list.c).
//!
//! The elements live in chunks (`items.rs`). Alongside, the list keeps what decides the encoding
//! OBJECT ENCODING reports: the bytes of its listpack while it is one, and once it outgrows
//! `list-max-listpack-size` (-2: 8 KiB) the element counts and byte sizes of the quicklist
//! nodes the server would have (where pushes, inserts, replacements and merges put them).
//! A quicklist turns back into a listpack once it is down to a single node of at most half
//! the limit, so that a list at the boundary does not flip at every push and pop.
//!
//! The pop functions (`pop`, `mpop`, `lmove`) are the command-independent cores, so that the
//! blocking variants can reuse them once several clients exist.

use std::collections::VecDeque;

use super::set::{positive_long, range_long};
use super::{wrong_type, Value};
use crate::redis::reply::{self, Bulks, Reply};
use crate::redis::util::parse_i64;
use crate::redis::Server;

mod items;
use items::Items;

/// `list-max-listpack-size -2`: at most 8 KiB per listpack.
const LISTPACK_MAX_BYTES: usize = 8192;
/// A listpack's header (total bytes, element count) and end marker.
const LISTPACK_EMPTY_BYTES: usize = 7;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head: LEFT, LPUSH, LPOP.
    Left,
    /// The tail: RIGHT, RPUSH, RPOP.
    Right,
}

impl End {
    /// Port of `getListPositionFromObjectOrReply`: LEFT or RIGHT, any case.
    pub fn parse(arg: &[u8]) -> Result<End, Reply> {
        if arg.eq_ignore_ascii_case(b"left") {
            Ok(End::Left)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Ok(End::Right)
        } else {
            Err(reply::error(reply::SYNTAX_ERROR))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct List {
    items: Items,
    /// `None` while the list is one listpack; the quicklist's nodes once it is not.
    nodes: Option<VecDeque<Node>>,
    /// Bytes of the listpack, while the list is one.
    lp_bytes: usize,
}

/// One quicklist node, as far as its encoding decisions go: how many elements it holds and
/// the bytes of its listpack (a plain node holds one element too big for a listpack).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    count: usize,
    bytes: usize,
    plain: bool,
}

/// `SIZE_ESTIMATE_OVERHEAD`: what quicklist adds to an element's length when it estimates
/// whether a node can take it.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

impl Node {
    fn packed(count: usize, bytes: usize) -> Node {
        Node {
            count,
            bytes,
            plain: false,
        }
    }

    /// `isLargeElement`: an element too big for any listpack gets a plain node of its own.
    fn large(len: usize) -> bool {
        len > LISTPACK_MAX_BYTES
    }

    /// The node for one element.
    fn single(element: &[u8]) -> Node {
        if Node::large(element.len()) {
            Node {
                count: 1,
                bytes: element.len(),
                plain: true,
            }
        } else {
            Node::packed(1, LISTPACK_EMPTY_BYTES + listpack_entry_bytes(element))
        }
    }
}

/// `_quicklistNodeAllowInsert`: may `node` take one more element of `len` bytes?
fn allow_insert(node: Option<&Node>, len: usize) -> bool {
    node.is_some_and(|n| {
        !n.plain
            && !Node::large(len)
            && n.bytes + len + SIZE_ESTIMATE_OVERHEAD <= LISTPACK_MAX_BYTES
    })
}

/// `_quicklistNodeAllowMerge`
fn allow_merge(a: Option<&Node>, b: Option<&Node>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            !a.plain && !b.plain && a.bytes + b.bytes - LISTPACK_EMPTY_BYTES <= LISTPACK_MAX_BYTES
        }
        _ => false,
    }
}

impl Default for List {
    fn default() -> Self {
        List {
            items: Items::default(),
            nodes: None,
            lp_bytes: LISTPACK_EMPTY_BYTES,
        }
    }
}

/// Bytes one element takes in a listpack: its encoding (integers in 1 to 9 bytes, strings
/// with a 1, 2 or 5 byte header) plus the back-length that lets the listpack be walked
/// backwards.
pub fn listpack_entry_bytes(element: &[u8]) -> usize {
    let len = element.len();
    let encoded = match parse_i64(element) {
        Some(n) if (0..=127).contains(&n) => 1,
        Some(n) if (-4096..=4095).contains(&n) => 2,
        Some(n) if i16::try_from(n).is_ok() => 3,
        Some(n) if (-8_388_608..=8_388_607).contains(&n) => 4,
        Some(n) if i32::try_from(n).is_ok() => 5,
        Some(_) => 9,
        None if len < 64 => 1 + len,
        None if len < 4096 => 2 + len,
        None => 5 + len,
    };
    let backlen = match encoded {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    encoded + backlen
}

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

impl List {
    /// A list of `items`, pushed one by one to the tail.
    pub fn from_items(items: impl IntoIterator<Item = Vec<u8>>) -> List {
        let mut list = List::default();
        for item in items {
            list.grow(item.len());
            list.push(End::Right, &item);
        }
        list
    }

    pub fn encoding(&self) -> &'static str {
        if self.nodes.is_some() {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// Bytes of each listpack the list is made of (one while it is a listpack, one per
    /// quicklist node otherwise), for MEMORY USAGE, and how many there are.
    pub fn packed_nodes(&self) -> (usize, impl Iterator<Item = usize> + '_) {
        let count = self.nodes.as_ref().map_or(1, VecDeque::len);
        let single = self.nodes.is_none().then_some(self.lp_bytes);
        let nodes = self.nodes.iter().flatten().map(|n| n.bytes);
        (count, single.into_iter().chain(nodes))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.len() == 0
    }

    /// Elements from head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter()
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.items.get(index)
    }

    /// Elements `from..to`, head to tail.
    pub fn range(&self, from: usize, to: usize) -> impl Iterator<Item = &[u8]> {
        self.items.range(from, to)
    }

    /// Port of `listTypeTryConvertListpack`: before elements totalling `add_bytes` arrive, a
    /// listpack that would outgrow its limit becomes a quicklist (the listpack its first
    /// node).
    fn grow(&mut self, add_bytes: usize) {
        if self.nodes.is_none() && self.lp_bytes + add_bytes > LISTPACK_MAX_BYTES {
            let mut nodes = VecDeque::new();
            if !self.is_empty() {
                nodes.push_back(Node::packed(self.items.len(), self.lp_bytes));
            }
            self.nodes = Some(nodes);
        }
    }

    /// Port of `listTypeTryConvertQuicklist` while shrinking: a quicklist down to one
    /// listpack node of at most half the limit becomes that listpack again.
    fn shrink(&mut self) {
        let single = match &self.nodes {
            Some(nodes) if nodes.len() == 1 => nodes.front().copied(),
            _ => None,
        };
        if let Some(node) = single {
            if !node.plain && node.bytes <= LISTPACK_MAX_BYTES / 2 {
                self.lp_bytes = node.bytes;
                self.nodes = None;
            }
        }
    }

    /// The node holding element `index`, and the element's offset in it.
    fn locate(nodes: &VecDeque<Node>, index: usize) -> Option<(usize, usize)> {
        let mut first = 0;
        for (n, node) in nodes.iter().enumerate() {
            if index < first + node.count {
                return Some((n, index - first));
            }
            first += node.count;
        }
        None
    }

    /// Bytes of the listpack holding elements `range` (indexes into the list).
    fn packed_bytes(&self, range: std::ops::Range<usize>) -> usize {
        LISTPACK_EMPTY_BYTES + entries_bytes(&self.items, range)
    }

    /// Index of the first element of node `n`.
    fn node_start(nodes: &VecDeque<Node>, n: usize) -> usize {
        nodes.iter().take(n).map(|node| node.count).sum()
    }

    pub fn push(&mut self, end: End, element: &[u8]) {
        let entry = listpack_entry_bytes(element);
        match &mut self.nodes {
            None => self.lp_bytes += entry,
            // quicklistPushHead / quicklistPushTail
            Some(nodes) => {
                let at_end = match end {
                    End::Left => nodes.front_mut(),
                    End::Right => nodes.back_mut(),
                };
                match at_end {
                    Some(node) if allow_insert(Some(node), element.len()) => {
                        node.count += 1;
                        node.bytes += entry;
                    }
                    _ => match end {
                        End::Left => nodes.push_front(Node::single(element)),
                        End::Right => nodes.push_back(Node::single(element)),
                    },
                }
            }
        }
        self.items.push(end == End::Left, element);
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let at = match end {
            End::Left => 0,
            End::Right => self.len().checked_sub(1)?,
        };
        let element = self.items.get(at)?.to_vec();
        self.pop_many(end, 1, None);
        Some(element)
    }

    /// Pops up to `n` elements from `end`, into `out` in pop order. The same
    /// nodes go as for `n` single pops, but whole: only the node at the cut counts the
    /// bytes of the elements it loses.
    fn pop_many(&mut self, end: End, n: usize, out: Option<&mut Bulks>) {
        let len = self.len();
        let n = n.min(len);
        // Where the elements popped from the node at the cut sit, given how many went
        // before them.
        let cut = |gone: usize, k: usize| match end {
            End::Left => gone..gone + k,
            End::Right => len - gone - k..len - gone,
        };
        match &mut self.nodes {
            None => self.lp_bytes -= entries_bytes(&self.items, cut(0, n)),
            Some(nodes) => {
                let mut left = n;
                while left > 0 {
                    let node = match end {
                        End::Left => nodes.front_mut(),
                        End::Right => nodes.back_mut(),
                    };
                    let Some(node) = node else {
                        break;
                    };
                    if node.count <= left {
                        left -= node.count.min(left);
                        match end {
                            End::Left => nodes.pop_front(),
                            End::Right => nodes.pop_back(),
                        };
                    } else {
                        node.count -= left;
                        node.bytes -= entries_bytes(&self.items, cut(n - left, left));
                        left = 0;
                    }
                }
            }
        }
        self.items.drain_end(end == End::Left, n, out);
    }

    /// One element of `entry` bytes leaves node `n` (`quicklistDelIndex`).
    fn drop_from_node(nodes: &mut VecDeque<Node>, n: usize, entry: usize) {
        let Some(node) = nodes.get_mut(n) else {
            return;
        };
        node.count = node.count.saturating_sub(1);
        if node.count == 0 || node.plain {
            nodes.remove(n);
        } else {
            node.bytes -= entry;
        }
    }

    /// Removes the elements at `sorted` positions (ascending, distinct) in one pass, each
    /// leaving its node as `quicklistDelIndex` does (LREM).
    fn remove_all(&mut self, sorted: &[usize]) {
        if sorted.is_empty() {
            return;
        }
        let mut hits = sorted.iter().copied().peekable();
        let mut n = 0;
        let nodes = self.nodes.as_ref();
        let mut node_end = nodes.and_then(|n| n.front()).map_or(0, |n| n.count);
        let mut dropped: Vec<(usize, usize)> = Vec::with_capacity(sorted.len());
        self.items.retain(|i, element| {
            if let Some(nodes) = nodes {
                while i >= node_end && n + 1 < nodes.len() {
                    n += 1;
                    node_end += nodes[n].count;
                }
            }
            let hit = hits.peek() == Some(&i);
            if hit {
                hits.next();
                dropped.push((n, listpack_entry_bytes(element)));
            }
            !hit
        });
        match &mut self.nodes {
            None => {
                self.lp_bytes -= dropped.iter().map(|(_, bytes)| bytes).sum::<usize>();
            }
            // Back to front, so that a node that empties does not shift the ones still due.
            Some(nodes) => {
                for &(n, bytes) in dropped.iter().rev() {
                    Self::drop_from_node(nodes, n, bytes);
                }
            }
        }
    }

    /// Drops `front` elements from the head and `back` from the tail.
    fn trim(&mut self, front: usize, back: usize) {
        self.pop_many(End::Left, front, None);
        self.pop_many(End::Right, back, None);
    }

    /// Splits node `n` at `offset` (`_quicklistSplitNode`): with `after`, the node keeps
    /// elements up to `offset` and the returned node (not yet linked) has the rest; else
    /// the returned node has those before `offset` and the node keeps the rest.
    fn split(&mut self, n: usize, offset: usize, after: bool) -> Node {
        let Some(nodes) = &self.nodes else {
            return Node::packed(0, LISTPACK_EMPTY_BYTES);
        };
        let start = Self::node_start(nodes, n);
        let count = nodes[n].count;
        let cut = if after { offset + 1 } else { offset };
        let head = Node::packed(cut, self.packed_bytes(start..start + cut));
        let tail = Node::packed(count - cut, self.packed_bytes(start + cut..start + count));
        let (kept, split) = if after { (head, tail) } else { (tail, head) };
        if let Some(nodes) = &mut self.nodes {
            nodes[n] = kept;
        }
        split
    }

    /// Port of `_quicklistMergeNodes`: tries to merge the neighbours of node `center`, then
    /// the centre itself with them.
    fn merge_around(nodes: &mut VecDeque<Node>, center: usize) {
        let merge = |nodes: &mut VecDeque<Node>, a: usize| {
            if let Some(b) = nodes.remove(a + 1) {
                let node = &mut nodes[a];
                node.count += b.count;
                node.bytes = node.bytes + b.bytes - LISTPACK_EMPTY_BYTES;
            }
        };
        let mut center = center;
        if center >= 2 && allow_merge(nodes.get(center - 1), nodes.get(center - 2)) {
            merge(nodes, center - 2);
            center -= 1;
        }
        if allow_merge(nodes.get(center + 1), nodes.get(center + 2)) {
            merge(nodes, center + 1);
        }
        if center >= 1 && allow_merge(nodes.get(center), nodes.get(center - 1)) {
            merge(nodes, center - 1);
            center -= 1;
        }
        if allow_merge(nodes.get(center), nodes.get(center + 1)) {
            merge(nodes, center);
        }
    }

    /// Inserts `element` before or after the element at `pivot` (LINSERT): a port of
    /// `_quicklistInsert` for where the element lands among the nodes.
    fn insert_at(&mut self, pivot: usize, after: bool, element: &[u8]) {
        let len = element.len();
        let entry = listpack_entry_bytes(element);
        let at = if after { pivot + 1 } else { pivot };
        let located = self.nodes.as_ref().map(|nodes| Self::locate(nodes, pivot));
        let (n, offset) = match located {
            None => {
                self.lp_bytes += entry;
                self.items.insert(at, element);
                return;
            }
            Some(None) => {
                self.items.insert(at, element);
                return;
            }
            Some(Some(found)) => found,
        };
        let Some(nodes) = &self.nodes else {
            return;
        };
        let node = nodes[n];
        let full = !allow_insert(Some(&node), len);
        let at_tail = after && offset == node.count - 1;
        let at_head = !after && offset == 0;
        let avail_next = at_tail && allow_insert(nodes.get(n + 1), len);
        let avail_prev = at_head && n > 0 && allow_insert(nodes.get(n - 1), len);
        let new_node = Node::single(element);
        let beside = if after { n + 1 } else { n };
        if Node::large(len) && !(node.plain || at_tail || at_head) {
            let split = self.split(n, offset, after);
            if let Some(nodes) = &mut self.nodes {
                if after {
                    nodes.insert(n + 1, new_node);
                    nodes.insert(n + 2, split);
                } else {
                    nodes.insert(n, split);
                    nodes.insert(n + 1, new_node);
                }
            }
        } else if Node::large(len) || (full && (at_tail || at_head) && !avail_next && !avail_prev) {
            if let Some(nodes) = &mut self.nodes {
                nodes.insert(beside, new_node);
            }
        } else if !full || avail_next || avail_prev {
            let m = if !full {
                n
            } else if avail_next {
                n + 1
            } else {
                n - 1
            };
            if let Some(nodes) = &mut self.nodes {
                nodes[m].count += 1;
                nodes[m].bytes += entry;
            }
        } else {
            let mut split = self.split(n, offset, after);
            split.count += 1;
            split.bytes += entry;
            if let Some(nodes) = &mut self.nodes {
                nodes.insert(beside, split);
                Self::merge_around(nodes, if after { n } else { n + 1 });
            }
        }
        self.items.insert(at, element);
    }

    /// The bookkeeping matches the elements (for tests).
    #[cfg(test)]
    pub(crate) fn check(&self) -> Result<(), String> {
        match &self.nodes {
            None => {
                let bytes = self.packed_bytes(0..self.items.len());
                if bytes != self.lp_bytes {
                    return Err(format!("listpack bytes {} != {bytes}", self.lp_bytes));
                }
            }
            Some(nodes) => {
                let mut first = 0;
                for node in nodes {
                    if node.count == 0 {
                        return Err("empty node".into());
                    }
                    let range = first..first + node.count;
                    let bytes = if node.plain {
                        self.items.get(first).map_or(0, <[u8]>::len)
                    } else {
                        self.packed_bytes(range)
                    };
                    if bytes != node.bytes || (node.plain && node.count != 1) {
                        return Err(format!("node {node:?} holds {bytes} bytes"));
                    }
                    first += node.count;
                }
                if first != self.items.len() {
                    return Err(format!("nodes hold {first} of {}", self.items.len()));
                }
            }
        }
        Ok(())
    }

    /// Replaces the element at `index` (LSET): a port of `quicklistReplaceEntry` for where
    /// the new element lands among the nodes. False when `index` is out of range.
    fn replace(&mut self, index: usize, element: &[u8]) -> bool {
        let Some(old) = self.items.get(index) else {
            return false;
        };
        let old_entry = listpack_entry_bytes(old);
        let entry = listpack_entry_bytes(element);
        let len = element.len();
        let located = self.nodes.as_ref().map(|nodes| Self::locate(nodes, index));
        let (n, offset) = match located {
            None => {
                self.lp_bytes = self.lp_bytes - old_entry + entry;
                return self.items.set(index, element);
            }
            Some(None) => return false,
            Some(Some(found)) => found,
        };
        let Some(nodes) = &self.nodes else {
            return false;
        };
        let node = nodes[n];
        // valkey 9.1 replaces in place whatever the node's new size (later versions split
        // a node that would outgrow its limit).
        let in_place = !node.plain && !Node::large(len);
        if in_place {
            if let Some(nodes) = &mut self.nodes {
                nodes[n].bytes = node.bytes - old_entry + entry;
            }
        } else if node.plain {
            if let Some(nodes) = &mut self.nodes {
                if Node::large(len) {
                    nodes[n].bytes = len;
                } else {
                    // Inserted after the plain node, which then goes.
                    if allow_insert(nodes.get(n + 1), len) {
                        nodes[n + 1].count += 1;
                        nodes[n + 1].bytes += entry;
                    } else {
                        nodes.insert(n + 1, Node::single(element));
                    }
                    nodes.remove(n);
                }
            }
        } else {
            let split = (offset != node.count - 1).then(|| self.split(n, offset, true));
            if let Some(nodes) = &mut self.nodes {
                nodes.insert(n + 1, Node::single(element));
                if let Some(split) = split {
                    nodes.insert(n + 2, split);
                }
                // The replaced element is now the last of node `n`.
                if nodes[n].count == 1 {
                    nodes.remove(n);
                } else {
                    nodes[n].count -= 1;
                    nodes[n].bytes -= old_entry;
                    Self::merge_around(nodes, n + 1);
                }
            }
        }
        self.items.set(index, element)
    }
}

/// Listpack bytes of the elements at `range` (indexes into the list).
fn entries_bytes(items: &Items, range: std::ops::Range<usize>) -> usize {
    let mut bytes = 0;
    for e in items.range(range.start, range.end) {
        bytes += listpack_entry_bytes(e);
    }
    bytes
}

/// Port of the index normalisation in `addListRangeReply` / `ltrimCommand`: the inclusive
/// range `start..=end` (negative counts from the tail) clamped to a list of `len`, or `None`
/// when it is empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

// ---------------------------------------------------------------------------------------
// Lookups and the pop cores
// ---------------------------------------------------------------------------------------

/// The live list at `key`: `Ok(None)` if there is none, WRONGTYPE for another type.
pub fn lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<Option<&'a mut List>, Reply> {
    let now = server.now;
    match server.db().get(key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::List(list) => Ok(Some(list)),
            _ => Err(wrong_type()),
        },
    }
}

/// After elements were removed: deletes the key if the list is empty, else lets a quicklist
/// that has become small turn back into a listpack (`listElementsRemoved`).
fn after_removal(server: &mut Server, key: &[u8]) {
    let empty = match lookup(server, key) {
        Ok(Some(list)) => {
            list.shrink();
            list.is_empty()
        }
        _ => false,
    };
    if empty {
        server.db().remove(key);
    }
}

/// Pops up to `count` elements from `end` of the list at `key` into one buffer (in pop
/// order, as LRANGE answers: two allocations for the console to keep, whatever the count),
/// deleting the key when it empties. `Ok(None)` when there is no such key. Shared by
/// LPOP/RPOP, LMPOP and the blocking pops.
pub fn pop(
    server: &mut Server,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<Option<Bulks>, Reply> {
    let popped = match lookup(server, key)? {
        None => return Ok(None),
        Some(list) => {
            let n = count.min(list.len());
            let bytes = list.items.end_bytes(end == End::Left, n);
            let mut popped = Bulks::with_capacity(n, bytes);
            list.pop_many(end, n, Some(&mut popped));
            popped
        }
    };
    after_removal(server, key);
    Ok(Some(popped))
}

/// Port of `mpopGenericCommand`: pops from the first non-empty list among `keys`. Returns
/// the key popped from and its elements; a key of another type met first is an error.
#[allow(clippy::type_complexity)]
pub fn mpop(
    server: &mut Server,
    keys: &[Vec<u8>],
    end: End,
    count: usize,
) -> Result<Option<(Vec<u8>, Bulks)>, Reply> {
    for key in keys {
        if let Some(popped) = pop(server, key, end, count)? {
            if !popped.is_empty() {
                return Ok(Some((key.clone(), popped)));
            }
        }
    }
    Ok(None)
}

/// Port of `lmoveGenericCommand`: pops from `from` of `src` and pushes to `to` of `dst`,
/// returning the element moved. `Ok(None)` when `src` does not exist.
pub fn lmove(
    server: &mut Server,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Vec<u8>>, Reply> {
    if lookup(server, src)?.is_none() {
        return Ok(None);
    }
    lookup(server, dst)?;
    let Some(element) = lookup(server, src)?.and_then(|l| l.pop(from)) else {
        return Ok(None);
    };
    let now = server.now;
    match lookup(server, dst)? {
        Some(list) => {
            list.grow(element.len());
            list.push(to, &element);
        }
        None => {
            let mut list = List::default();
            list.grow(element.len());
            list.push(to, &element);
            server.db().set(dst, Value::List(Box::new(list)), now);
        }
    }
    after_removal(server, src);
    Ok(Some(element))
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// Port of `pushGenericCommand`: LPUSH, RPUSH, and with `xx` LPUSHX, RPUSHX.
fn push_generic(server: &mut Server, argv: &[Vec<u8>], end: End, xx: bool) -> Reply {
    let key = &argv[1];
    let elements = &argv[2..];
    let add_bytes = elements.iter().map(Vec::len).sum();
    let now = server.now;
    match lookup(server, key) {
        Err(e) => e,
        Ok(None) if xx => Reply::Integer(0),
        Ok(Some(list)) => {
            list.grow(add_bytes);
            for e in elements {
                list.push(end, e);
            }
            Reply::Integer(list.len() as i64)
        }
        Ok(None) => {
            let mut list = List::default();
            list.grow(add_bytes);
            for e in elements {
                list.push(end, e);
            }
            let len = list.len();
            server.db().set(key, Value::List(Box::new(list)), now);
            Reply::Integer(len as i64)
        }
    }
}

/// LPUSH key element [element ...]
pub fn lpush(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    push_generic(server, argv, End::Left, false)
}

/// RPUSH key element [element ...]
pub fn rpush(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    push_generic(server, argv, End::Right, false)
}

/// LPUSHX key element [element ...]
pub fn lpushx(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    push_generic(server, argv, End::Left, true)
}

/// RPUSHX key element [element ...]
pub fn rpushx(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    push_generic(server, argv, End::Right, true)
}

/// Port of `popGenericCommand`: LPOP / RPOP key [count].
fn pop_generic(server: &mut Server, argv: &[Vec<u8>], end: End) -> Reply {
    if argv.len() > 3 {
        return crate::redis::commands::wrong_arity_for(argv);
    }
    let count = match argv.get(2) {
        None => None,
        Some(arg) => match positive_long(arg, None) {
            Ok(n) => Some(n as usize),
            Err(e) => return e,
        },
    };
    let key = &argv[1];
    match lookup(server, key) {
        Err(e) => return e,
        Ok(None) if count.is_some() => return Reply::NilArray,
        Ok(None) => return Reply::Nil,
        Ok(Some(_)) if count == Some(0) => return Reply::Array(Vec::new()),
        Ok(Some(_)) => {}
    }
    let Some(count) = count else {
        let element = lookup(server, key).ok().flatten().and_then(|l| l.pop(end));
        after_removal(server, key);
        return element.map_or(Reply::Nil, Reply::Bulk);
    };
    match pop(server, key, end, count) {
        Err(e) => e,
        Ok(None) => Reply::Nil,
        Ok(Some(items)) => items.into_reply(),
    }
}

/// LPOP key [count]
pub fn lpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    pop_generic(server, argv, End::Left)
}

/// RPOP key [count]
pub fn rpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    pop_generic(server, argv, End::Right)
}

/// LLEN key
pub fn llen(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(list) => Reply::Integer(list.map_or(0, |l| l.len() as i64)),
    }
}

/// LINDEX key index
pub fn lindex(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let list = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(list)) => list,
    };
    let Some(index) = parse_i64(&argv[2]) else {
        return reply::error(reply::NOT_INTEGER);
    };
    let len = list.len() as i64;
    let index = if index < 0 { len + index } else { index };
    match usize::try_from(index).ok().and_then(|i| list.get(i)) {
        Some(e) => Reply::Bulk(e.to_vec()),
        None => Reply::Nil,
    }
}

/// LSET key index element
pub fn lset(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let list = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::err("no such key"),
        Ok(Some(list)) => list,
    };
    let Some(index) = parse_i64(&argv[2]) else {
        return reply::error(reply::NOT_INTEGER);
    };
    list.grow(argv[3].len());
    let len = list.len() as i64;
    let index = if index < 0 { len + index } else { index };
    let replaced = usize::try_from(index)
        .ok()
        .is_some_and(|i| list.replace(i, &argv[3]));
    if !replaced {
        return Reply::err("index out of range");
    }
    list.shrink();
    Reply::ok()
}

/// LINSERT key BEFORE|AFTER pivot element
pub fn linsert(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let after = if argv[2].eq_ignore_ascii_case(b"after") {
        true
    } else if argv[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return reply::error(reply::SYNTAX_ERROR);
    };
    let list = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Integer(0),
        Ok(Some(list)) => list,
    };
    // The server converts before it knows whether the pivot is there.
    list.grow(argv[4].len());
    let pivot = list.iter().position(|e| e == argv[3].as_slice());
    match pivot {
        Some(at) => {
            list.insert_at(at, after, &argv[4]);
            Reply::Integer(list.len() as i64)
        }
        None => Reply::Integer(-1),
    }
}

/// LRANGE key start stop
pub fn lrange(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let (Some(start), Some(end)) = (parse_i64(&argv[2]), parse_i64(&argv[3])) else {
        return reply::error(reply::NOT_INTEGER);
    };
    match lookup(server, &argv[1]) {
        Err(e) => e,
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(list)) => match clamp_range(start, end, list.len()) {
            None => Reply::Array(Vec::new()),
            Some((start, end)) => Bulks::from_items(list.items.range(start, end + 1)).into_reply(),
        },
    }
}

/// LTRIM key start stop
pub fn ltrim(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let (Some(start), Some(end)) = (parse_i64(&argv[2]), parse_i64(&argv[3])) else {
        return reply::error(reply::NOT_INTEGER);
    };
    let key = &argv[1];
    match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => return Reply::ok(),
        Ok(Some(list)) => {
            let len = list.len();
            let (front, back) = match clamp_range(start, end, len) {
                None => (len, 0),
                Some((start, end)) => (start, len - end - 1),
            };
            list.trim(front, back);
        }
    }
    after_removal(server, key);
    Reply::ok()
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub fn lpos(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let element = &argv[2];
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut j = 3;
    while j < argv.len() {
        let opt = argv[j].as_slice();
        let more = j + 1 < argv.len();
        if opt.eq_ignore_ascii_case(b"rank") && more {
            j += 1;
            match range_long(&argv[j], -i64::MAX, i64::MAX, None) {
                Ok(0) => {
                    return Reply::err(
                        "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                    )
                }
                Ok(n) => rank = n,
                Err(e) => return e,
            }
        } else if opt.eq_ignore_ascii_case(b"count") && more {
            j += 1;
            match positive_long(&argv[j], Some("COUNT can't be negative")) {
                Ok(n) => count = Some(n as usize),
                Err(e) => return e,
            }
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            j += 1;
            match positive_long(&argv[j], Some("MAXLEN can't be negative")) {
                Ok(n) => maxlen = n as usize,
                Err(e) => return e,
            }
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        j += 1;
    }
    let list = match lookup(server, &argv[1]) {
        Err(e) => return e,
        Ok(None) if count.is_some() => return Reply::Array(Vec::new()),
        Ok(None) => return Reply::Nil,
        Ok(Some(list)) => list,
    };
    let len = list.len();
    let from_tail = rank < 0;
    let rank = rank.unsigned_abs() as usize;
    let mut scanned = list.iter();
    let limit = if maxlen == 0 { len } else { maxlen };
    let mut matches = 0;
    let mut found = Vec::new();
    for i in 0..limit.min(len) {
        let e = match from_tail {
            true => scanned.next_back(),
            false => scanned.next(),
        };
        if e != Some(element.as_slice()) {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(if from_tail { len - i - 1 } else { i });
        match count {
            None => break,
            Some(c) if c != 0 && found.len() >= c => break,
            Some(_) => {}
        }
    }
    match count {
        Some(_) => Reply::Array(
            found
                .into_iter()
                .map(|i| Reply::Integer(i as i64))
                .collect(),
        ),
        None => found
            .first()
            .map_or(Reply::Nil, |&i| Reply::Integer(i as i64)),
    }
}

/// LREM key count element: count > 0 from the head, < 0 from the tail, 0 all.
pub fn lrem(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let to_remove = match range_long(&argv[2], -i64::MAX, i64::MAX, None) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let key = &argv[1];
    let element = &argv[3];
    let removed = match lookup(server, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Integer(0),
        Ok(Some(list)) => {
            let limit = to_remove.unsigned_abs() as usize;
            let mut hits: Vec<usize> = Vec::new();
            let len = list.len();
            {
                let mut scan = list.iter();
                for k in 0..len {
                    let (i, e) = match to_remove < 0 {
                        true => (len - 1 - k, scan.next_back()),
                        false => (k, scan.next()),
                    };
                    if e == Some(element.as_slice()) {
                        hits.push(i);
                        if limit != 0 && hits.len() == limit {
                            break;
                        }
                    }
                }
            }
            crate::sort::sort(&mut hits);
            list.remove_all(&hits);
            hits.len()
        }
    };
    if removed > 0 {
        after_removal(server, key);
    }
    Reply::Integer(removed as i64)
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub fn lmove_cmd(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let from = match End::parse(&argv[3]) {
        Ok(e) => e,
        Err(e) => return e,
    };
    let to = match End::parse(&argv[4]) {
        Ok(e) => e,
        Err(e) => return e,
    };
    match lmove(server, &argv[1], &argv[2], from, to) {
        Ok(Some(element)) => Reply::Bulk(element),
        Ok(None) => Reply::Nil,
        Err(e) => e,
    }
}

/// RPOPLPUSH source destination
pub fn rpoplpush(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lmove(server, &argv[1], &argv[2], End::Right, End::Left) {
        Ok(Some(element)) => Reply::Bulk(element),
        Ok(None) => Reply::Nil,
        Err(e) => e,
    }
}

/// The parsed arguments of LMPOP (and BLMPOP after its timeout): keys, end, count.
pub struct MpopArgs<'a> {
    pub keys: &'a [Vec<u8>],
    pub end: End,
    pub count: usize,
}

/// Port of the parsing in `lmpopGenericCommand`; `numkeys_at` is where numkeys sits.
pub fn parse_mpop(argv: &[Vec<u8>], numkeys_at: usize) -> Result<MpopArgs<'_>, Reply> {
    let numkeys = range_long(
        &argv[numkeys_at],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    )? as usize;
    let where_at = numkeys_at.saturating_add(numkeys).saturating_add(1);
    if where_at >= argv.len() {
        return Err(reply::error(reply::SYNTAX_ERROR));
    }
    let end = End::parse(&argv[where_at])?;
    let mut count: Option<usize> = None;
    let mut j = where_at + 1;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if count.is_none() && argv[j].eq_ignore_ascii_case(b"count") && more {
            j += 1;
            count = Some(range_long(
                &argv[j],
                1,
                i64::MAX,
                Some("count should be greater than 0"),
            )? as usize);
        } else {
            return Err(reply::error(reply::SYNTAX_ERROR));
        }
        j += 1;
    }
    Ok(MpopArgs {
        keys: &argv[numkeys_at + 1..where_at],
        end,
        count: count.unwrap_or(1),
    })
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn lmpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let args = match parse_mpop(argv, 1) {
        Ok(a) => a,
        Err(e) => return e,
    };
    match mpop(server, args.keys, args.end, args.count) {
        Err(e) => e,
        Ok(None) => Reply::NilArray,
        Ok(Some((key, items))) => Reply::Array(vec![Reply::Bulk(key), items.into_reply()]),
    }
}

/// A seeded xorshift for the randomized tests: each call gives a number in `0..n`.
#[cfg(test)]
pub(crate) fn picker(mut rng: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_sizes_follow_the_encoding_rules() {
        for (element, bytes) in [
            ("", 2),
            ("0", 2),
            ("127", 2),
            ("128", 3),
            ("-4096", 3),
            ("4096", 4),
            ("-32768", 4),
            ("32768", 5),
            ("8388608", 6),
            ("2147483648", 10),
            ("abc", 5),
            ("01", 4),
        ] {
            assert_eq!(listpack_entry_bytes(element.as_bytes()), bytes, "{element}");
        }
        assert_eq!(listpack_entry_bytes(&[b'x'; 63]), 65);
        assert_eq!(listpack_entry_bytes(&[b'x'; 64]), 67);
        assert_eq!(listpack_entry_bytes(&[b'x'; 125]), 128);
        assert_eq!(listpack_entry_bytes(&[b'x'; 126]), 130);
        assert_eq!(listpack_entry_bytes(&[b'x'; 4096]), 4103);
    }

    #[test]
    fn big_lists_become_quicklists_and_shrink_back() {
        let build = || {
            let mut list = List::default();
            for _ in 0..100 {
                list.grow(100);
                list.push(End::Right, &[b'x'; 100]);
            }
            list
        };
        // 100 entries of 103 bytes: nodes of 79 and 21.
        let mut list = build();
        assert_eq!(list.encoding(), "quicklist");
        while list.len() > 30 {
            list.pop(End::Right);
            list.shrink();
        }
        assert_eq!(list.encoding(), "listpack");
        // Popping from the head leaves two nodes, so it stays a quicklist.
        let mut list = build();
        while list.len() > 30 {
            list.pop(End::Left);
            list.shrink();
        }
        assert_eq!(list.encoding(), "quicklist");
        while list.len() > 21 {
            list.pop(End::Left);
            list.shrink();
        }
        assert_eq!(list.encoding(), "listpack");
    }

    /// Pops of many across nodes of every kind (packed, a plain one for an element over
    /// 8 KiB, integers) give what a model of the list gives, in RESP2 and RESP3, alone and
    /// in MULTI/EXEC, and leave the list, its MEMORY USAGE and OBJECT ENCODING as the same
    /// number of single pops leave them on a twin server.
    #[test]
    fn pops_of_many_match_a_model_and_single_pops() {
        let argv = |line: &str| -> Vec<Vec<u8>> {
            line.split(' ').map(|w| w.as_bytes().to_vec()).collect()
        };
        let text = |reply: &Reply| {
            let mut out = String::new();
            reply.write_cli_text(&mut out);
            out
        };
        let mut next = picker(0x2545_f491_4f6c_dd1d);
        for resp3 in [false, true] {
            for multi in [false, true] {
                let (mut server, mut twin) = (Server::new(), Server::new());
                if resp3 {
                    server.execute(&argv("HELLO 3"), 0);
                }
                let mut model: VecDeque<Vec<u8>> = VecDeque::new();
                let mut pushed = 0;
                for round in 0..120 {
                    if model.len() < 500 || next(4) == 0 {
                        let left = next(2) == 0;
                        let mut line = if left { "LPUSH l" } else { "RPUSH l" }.to_string();
                        for _ in 0..next(2_000) + 1 {
                            pushed += 1;
                            let element = match pushed % 97 {
                                7 => "x".repeat(9_000),
                                k if k % 3 == 0 => (pushed * 37).to_string(),
                                _ => format!("e{pushed}-{}", "y".repeat(pushed % 40)),
                            };
                            line.push(' ');
                            line.push_str(&element);
                            match left {
                                true => model.push_front(element.into_bytes()),
                                false => model.push_back(element.into_bytes()),
                            }
                        }
                        server.execute(&argv(&line), 0);
                        twin.execute(&argv(&line), 0);
                    }
                    let n = [1, 2, 127, 128, 129, 700, 3_000, 100_000][next(8)];
                    let left = next(2) == 0;
                    let (end, pop) = if left {
                        ("LEFT", "LPOP")
                    } else {
                        ("RIGHT", "RPOP")
                    };
                    let lmpop = next(2) == 0;
                    let line = match lmpop {
                        true => format!("LMPOP 1 l {end} COUNT {n}"),
                        false => format!("{pop} l {n}"),
                    };
                    let popped: Vec<Reply> = (0..n)
                        .map_while(|_| {
                            if left {
                                model.pop_front()
                            } else {
                                model.pop_back()
                            }
                        })
                        .map(Reply::Bulk)
                        .collect();
                    for reply in &popped {
                        let single = twin.execute(&argv(&format!("{pop} l")), 0);
                        assert_eq!(text(&single), text(reply));
                    }
                    let mut want = match lmpop {
                        true if popped.is_empty() => Reply::NilArray,
                        true => {
                            Reply::Array(vec![Reply::Bulk(b"l".to_vec()), Reply::Array(popped)])
                        }
                        false if popped.is_empty() => Reply::NilArray,
                        false => Reply::Array(popped),
                    };
                    let got = if multi {
                        server.execute(&argv("MULTI"), 0);
                        server.execute(&argv(&line), 0);
                        want = Reply::Array(vec![want]);
                        server.execute(&argv("EXEC"), 0)
                    } else {
                        server.execute(&argv(&line), 0)
                    };
                    let what = format!("{line} in round {round} (RESP3 {resp3}, MULTI {multi})");
                    assert_eq!(text(&got), text(&want), "{what}");
                    for check in [
                        "LLEN l",
                        "OBJECT ENCODING l",
                        "MEMORY USAGE l",
                        "LRANGE l 0 9",
                        "LRANGE l -9 -1",
                    ] {
                        let (ours, theirs) = (
                            server.execute(&argv(check), 0),
                            twin.execute(&argv(check), 0),
                        );
                        assert_eq!(text(&ours), text(&theirs), "{check} after {what}");
                    }
                    if let Ok(Some(list)) = lookup(&mut server, b"l") {
                        list.check().expect(&what);
                        assert!(list.iter().eq(model.iter().map(Vec::as_slice)), "{what}");
                        let i = next(model.len());
                        assert_eq!(list.get(i), model.get(i).map(Vec::as_slice), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn ranges_clamp_like_lrange() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(3, 5, 3), None);
        assert_eq!(clamp_range(0, 0, 0), None);
    }
}
