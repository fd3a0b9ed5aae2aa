//! Streams: an append-only log of entries with IDs, and consumer groups (Redis's t_stream.c).
//!
//! Entries live in an ordered map keyed by ID, so range reads are O(log n) to find their
//! start. Redis stores entries in listpack "nodes" of at most 100 entries hanging off a radix
//! tree; the node boundaries are visible to students (approximate `~` trimming only drops
//! whole nodes, and XINFO STREAM reports the tree's size), so the boundaries are modelled
//! too, without the byte contents.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound::{Excluded, Unbounded};

use super::{wrong_type, Value};
use crate::redis::reply::{self, Reply};
use crate::redis::util::parse_i64;
use crate::redis::Server;

// ---------------------------------------------------------------------------------------
// Type API
// ---------------------------------------------------------------------------------------

/// An entry ID: milliseconds and a sequence number, ordered as Redis compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, `None` past the last possible one (Redis's `streamIncrID`).
    pub fn next(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, `None` before 0-0 (Redis's `streamDecrID`).
    pub fn prev(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    fn reply(self) -> Reply {
        Reply::bulk(self.to_string())
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis's `stream-node-max-entries` default: entries (live or deleted) per listpack node.
const NODE_MAX_ENTRIES: u64 = 100;

/// Redis's `SCG_INVALID_ENTRIES_READ`.
const INVALID_ENTRIES_READ: i64 = -1;

/// One listpack node of the modelled radix tree. Its entries are the IDs from its key up to
/// the next node's key.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Entries not yet deleted.
    pub live: u64,
    /// Entries ever appended, deleted ones included (they keep their slot until the node goes).
    pub total: u64,
    /// The last ID appended, deleted or not: what approximate MINID trimming compares.
    pub last: StreamId,
    /// The fields of the node's first entry: later entries with the same fields store only
    /// their values.
    pub master_fields: Vec<Vec<u8>>,
    /// Size of the listpack's elements other than its header, end byte and the two counters
    /// at its start (which change size as they grow).
    pub body_bytes: usize,
}

/// The largest `body_bytes` a restored node may claim: far above any listpack a browser
/// could hold, and low enough that `Node::bytes` plus an entry's size cannot overflow a
/// 32-bit `usize`.
const RESTORED_BODY_MAX: usize = 1 << 30;

impl Node {
    /// What `lpBytes` would report for this node's listpack.
    fn bytes(&self) -> usize {
        7 + lp_int_size(self.live as i64)
            + lp_int_size((self.total - self.live) as i64)
            + self.body_bytes
    }
}

/// Redis's `stream-node-max-bytes` default: a node this large takes no more entries.
const NODE_MAX_BYTES: usize = 4096;

/// Bytes a listpack spends on an integer element (encoding, data and back-length).
fn lp_int_size(v: i64) -> usize {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32_768..=32_767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    };
    enc + 1
}

/// Bytes a listpack spends on a string element; strings that read as integers are stored
/// as integers.
fn lp_str_size(s: &[u8]) -> usize {
    if let Some(v) = parse_i64(s) {
        return lp_int_size(v);
    }
    let l = s.len();
    let enc = if l < 64 {
        1 + l
    } else if l < 4096 {
        2 + l
    } else {
        5 + l
    };
    let back = match enc {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    enc + back
}

/// Bytes one entry adds to a node whose first entry is `master` with `master_fields`.
fn entry_bytes(
    id: StreamId,
    fields: &[Vec<u8>],
    master: StreamId,
    master_fields: &[Vec<u8>],
) -> usize {
    let same = fields.len() == master_fields.len() * 2
        && fields
            .iter()
            .step_by(2)
            .zip(master_fields)
            .all(|(a, b)| a == b);
    let n = (fields.len() / 2) as i64;
    let mut bytes = lp_int_size(if same { 2 } else { 0 })
        + lp_int_size(id.ms.wrapping_sub(master.ms) as i64)
        + lp_int_size(id.seq.wrapping_sub(master.seq) as i64);
    if same {
        bytes += fields
            .iter()
            .skip(1)
            .step_by(2)
            .map(|v| lp_str_size(v))
            .sum::<usize>();
        bytes += lp_int_size(n + 3);
    } else {
        bytes += lp_int_size(n);
        bytes += fields.iter().map(|f| lp_str_size(f)).sum::<usize>();
        bytes += lp_int_size(2 * n + 4);
    }
    bytes
}

/// A pending (delivered, not yet acknowledged) entry of a consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Nack {
    pub consumer: Vec<u8>,
    /// Sandbox milliseconds of the last delivery (XCLAIM TIME may set any value).
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Consumer {
    pub seen_time: i64,
    /// -1 until the consumer is first delivered something.
    pub active_time: i64,
    pub pel: BTreeSet<StreamId>,
}

impl Consumer {
    fn new(now: i64) -> Consumer {
        Consumer {
            seen_time: now,
            active_time: -1,
            pel: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub last_id: StreamId,
    /// Logical count of entries the group has read, or -1 when it cannot be known.
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Replaces the consumers and pending entries with those a snapshot kept (each consumer's
    /// own pending set is rebuilt from `pel`). Refused when an entry names a consumer that
    /// is not among `consumers`.
    pub fn restore(
        &mut self,
        mut consumers: BTreeMap<Vec<u8>, Consumer>,
        pel: BTreeMap<StreamId, Nack>,
    ) -> Result<(), String> {
        for c in consumers.values_mut() {
            c.pel.clear();
        }
        for (id, nack) in &pel {
            let Some(c) = consumers.get_mut(&nack.consumer) else {
                return Err(format!("pending entry {id} names an unknown consumer"));
            };
            c.pel.insert(*id);
        }
        self.consumers = consumers;
        self.pel = pel;
        Ok(())
    }

    /// Drops an entry from the group's PEL and its owner's.
    fn unpend(&mut self, id: StreamId) -> Option<Nack> {
        let nack = self.pel.remove(&id)?;
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        Some(nack)
    }

    /// The consumer called `name`, created if new (Redis's `streamCreateConsumer`).
    fn consumer(&mut self, name: &[u8], now: i64) -> &mut Consumer {
        self.consumers
            .entry(name.to_vec())
            .or_insert_with(|| Consumer::new(now))
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// Field-value pairs, flattened, per entry ID.
    entries: BTreeMap<StreamId, Vec<Vec<u8>>>,
    nodes: BTreeMap<StreamId, Node>,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// How a trim chooses what to drop (XADD's and XTRIM's MAXLEN / MINID).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trim {
    pub strategy: Strategy,
    /// `~`: only whole nodes go.
    pub approx: bool,
    /// Most entries one trim may drop, 0 for no limit.
    pub limit: u64,
}

impl Stream {
    /// The encoding OBJECT ENCODING reports for this value's size and contents.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, id: StreamId) -> Option<&Vec<Vec<u8>>> {
        self.entries.get(&id)
    }

    /// Entries with IDs in `[start, end]`, ascending (or descending with `rev`).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (&StreamId, &Vec<Vec<u8>>)> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        let it = self.entries.range(start..=end);
        if rev {
            Box::new(it.rev())
        } else {
            Box::new(it)
        }
    }

    /// The last entry still present (Redis's `streamLastValidID`).
    pub fn last_valid_id(&self) -> Option<StreamId> {
        self.entries.keys().next_back().copied()
    }

    /// Appends an entry under `id`, which the caller has checked is above `last_id`.
    pub fn append(&mut self, id: StreamId, fields: Vec<Vec<u8>>) {
        let raw: usize = fields.iter().map(Vec::len).sum();
        match self.nodes.iter_mut().next_back() {
            Some((&master, node))
                if node.total < NODE_MAX_ENTRIES && node.bytes() + raw < NODE_MAX_BYTES =>
            {
                node.live += 1;
                node.total += 1;
                node.last = id;
                node.body_bytes += entry_bytes(id, &fields, master, &node.master_fields);
            }
            _ => {
                let master_fields: Vec<Vec<u8>> = fields.iter().step_by(2).cloned().collect();
                // The master entry: field count, the field names, and a 0 terminator.
                let master_bytes = lp_int_size(master_fields.len() as i64)
                    + master_fields.iter().map(|f| lp_str_size(f)).sum::<usize>()
                    + lp_int_size(0);
                let body_bytes = master_bytes + entry_bytes(id, &fields, id, &master_fields);
                self.nodes.insert(
                    id,
                    Node {
                        live: 1,
                        total: 1,
                        last: id,
                        master_fields,
                        body_bytes,
                    },
                );
            }
        }
        self.entries.insert(id, fields);
        if self.entries.len() == 1 {
            self.first_id = id;
        }
        self.last_id = id;
        self.entries_added += 1;
    }

    /// Removes one entry (XDEL), dropping its node once nothing live remains in it.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        let node_key = self.nodes.range(..=id).next_back().map(|(k, _)| *k);
        if let Some(key) = node_key {
            let empty = match self.nodes.get_mut(&key) {
                Some(node) => {
                    node.live = node.live.saturating_sub(1);
                    node.live == 0
                }
                None => false,
            };
            if empty {
                self.nodes.remove(&key);
            }
        }
        true
    }

    fn refresh_first_id(&mut self) {
        self.first_id = self.entries.keys().next().copied().unwrap_or_default();
    }

    /// Port of `streamTrim`: drops whole nodes from the head while the strategy allows,
    /// then (unless approximate) single entries of the next node. Returns how many went.
    pub fn trim(&mut self, trim: &Trim) -> u64 {
        if trim.strategy == Strategy::None {
            return 0;
        }
        let mut deleted = 0u64;
        while let Some((&master, node)) = self.nodes.first_key_value() {
            let len = self.entries.len() as u64;
            if let Strategy::MaxLen(max) = trim.strategy {
                if len <= max {
                    break;
                }
            }
            let live = node.live;
            if trim.limit > 0 && deleted + live > trim.limit {
                break;
            }
            let whole = match trim.strategy {
                Strategy::MaxLen(max) => len.saturating_sub(live) >= max,
                Strategy::MinId(min) => node.last < min,
                Strategy::None => false,
            };
            if whole {
                let next = self
                    .nodes
                    .range((Excluded(master), Unbounded))
                    .next()
                    .map(|(k, _)| *k);
                match next {
                    Some(next) => self.entries = self.entries.split_off(&next),
                    None => self.entries.clear(),
                }
                self.nodes.remove(&master);
                deleted += live;
                continue;
            }
            if trim.approx {
                break;
            }
            let mut dropped = 0;
            while let Some((&id, _)) = self.entries.first_key_value() {
                let enough = match trim.strategy {
                    Strategy::MaxLen(max) => self.entries.len() as u64 <= max,
                    Strategy::MinId(min) => id >= min,
                    Strategy::None => true,
                };
                if enough {
                    break;
                }
                self.entries.pop_first();
                dropped += 1;
            }
            if let Some(node) = self.nodes.get_mut(&master) {
                node.live = node.live.saturating_sub(dropped);
            }
            deleted += dropped;
            break;
        }
        self.refresh_first_id();
        deleted
    }

    /// The modelled nodes by their first ID. XADD replayed into a fresh stream packs the
    /// entries again without the slots of deleted ones, so a snapshot keeps these.
    pub fn nodes(&self) -> &BTreeMap<StreamId, Node> {
        &self.nodes
    }

    /// Puts back a node layout a snapshot kept, once it is checked to describe this stream's
    /// entries: every entry inside a node, each node's live count equal to the entries
    /// between its key and the next node's, its last ID inside that span.
    pub fn restore_nodes(&mut self, nodes: BTreeMap<StreamId, Node>) -> Result<(), String> {
        if let Some(first) = self.entries.keys().next() {
            if nodes.keys().next().is_none_or(|start| start > first) {
                return Err(format!("entry {first} lies before every node"));
            }
        }
        let ends = nodes.keys().skip(1).map(Some).chain(std::iter::once(None));
        for ((&start, node), end) in nodes.iter().zip(ends) {
            let live = match end {
                Some(&end) => self.entries.range(start..end).count(),
                None => self.entries.range(start..).count(),
            };
            let fits = node.total > 0
                && node.live <= node.total
                && node.live == live as u64
                && node.last >= start
                && end.is_none_or(|&end| node.last < end)
                && node.body_bytes <= RESTORED_BODY_MAX;
            if !fits {
                return Err(format!("node {start} does not match the entries"));
            }
        }
        self.nodes = nodes;
        Ok(())
    }

    /// Keys of the modelled radix tree (XINFO's `radix-tree-keys`).
    pub fn radix_keys(&self) -> usize {
        self.nodes.len()
    }

    /// Nodes of the radix tree Redis would build over the node keys (16-byte big-endian IDs),
    /// with rax's compression: a chain of single children is one node, a fork is one node.
    pub fn radix_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self
            .nodes
            .keys()
            .map(|id| {
                let mut k = [0u8; 16];
                k[..8].copy_from_slice(&id.ms.to_be_bytes());
                k[8..].copy_from_slice(&id.seq.to_be_bytes());
                k
            })
            .collect();
        if keys.is_empty() {
            return 1;
        }
        rax_nodes(&keys, 0)
    }

    /// Redis's `streamRangeHasTombstones`.
    fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.entries.is_empty() || self.max_deleted_id.is_zero() {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical position of `id`.
    fn estimate_distance(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.entries.is_empty() && id <= self.last_id {
            return added;
        }
        // A deletion after `id` leaves a gap whose size is unknown.
        if !id.is_zero() && id < self.max_deleted_id {
            return INVALID_ENTRIES_READ;
        }
        if id == self.last_id {
            return added;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            let len = self.entries.len() as i64;
            if id < self.first_id {
                return added.wrapping_sub(len);
            } else if id == self.first_id {
                return added.wrapping_sub(len).wrapping_add(1);
            }
        }
        INVALID_ENTRIES_READ
    }

    /// The group's lag as XINFO reports it (`None` is nil: not computable).
    fn lag(&self, group: &Group) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if group.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(group.last_id, StreamId::MAX)
        {
            return Some(added.wrapping_sub(group.entries_read));
        }
        match self.estimate_distance(group.last_id) {
            INVALID_ENTRIES_READ => None,
            read => Some(added.wrapping_sub(read)),
        }
    }
}

/// Node count of a rax holding `keys` (sorted, distinct, equal length) below `depth`.
fn rax_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth >= 16 {
        return 1;
    }
    let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
        return 1;
    };
    let common = (depth..16).take_while(|&i| first[i] == last[i]).count();
    if common > 0 {
        return 1 + rax_nodes(keys, depth + common);
    }
    let mut total = 1;
    let mut start = 0;
    while start < keys.len() {
        let byte = keys[start][depth];
        let end = start
            + keys[start..]
                .iter()
                .take_while(|k| k[depth] == byte)
                .count();
        total += rax_nodes(&keys[start..end], depth + 1);
        start = end;
    }
    total
}

/// The live stream at `key`: `Ok(None)` if there is none, WRONGTYPE for another type.
pub fn lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<Option<&'a mut Stream>, Reply> {
    let now = server.now;
    match server.db().get(key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(wrong_type()),
        },
    }
}

/// The stream at `key`, created empty if missing.
fn lookup_or_create<'a>(server: &'a mut Server, key: &[u8]) -> Result<&'a mut Stream, Reply> {
    let now = server.now;
    if lookup(server, key)?.is_none() {
        server.db().set(key, Value::Stream(Box::default()), now);
    }
    match lookup(server, key)? {
        Some(s) => Ok(s),
        None => Err(Reply::err("no such key")),
    }
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// Port of `string2ull`: `string2ll` when that succeeds (negatives refused), else what
/// `strtoull` accepts in full (leading spaces, a sign, leading zeros).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(n) = parse_i64(s) {
        return u64::try_from(n).ok();
    }
    let mut i = s
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s.get(i..)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// Port of `streamGenericParseIDOrReply`. `strict` refuses `-` and `+`; `star_seq` accepts
/// `<ms>-*` (XADD), reported by the second element being false.
fn parse_id_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    star_seq: bool,
) -> Result<(StreamId, bool), Reply> {
    let invalid = || reply::error(INVALID_ID);
    if arg.len() > 127 {
        return Err(invalid());
    }
    // The server copies the argument into a C string: a NUL ends it.
    let s = &arg[..arg.iter().position(|&b| b == 0).unwrap_or(arg.len())];
    if strict && (s == b"-" || s == b"+") {
        return Err(invalid());
    }
    if s == b"-" {
        return Ok((StreamId::MIN, true));
    }
    if s == b"+" {
        return Ok((StreamId::MAX, true));
    }
    match s.iter().position(|&b| b == b'-') {
        Some(dash) => {
            let ms = string2ull(&s[..dash]).ok_or_else(invalid)?;
            let rest = &s[dash + 1..];
            if star_seq && rest == b"*" {
                return Ok((StreamId::new(ms, 0), false));
            }
            let seq = string2ull(rest).ok_or_else(invalid)?;
            Ok((StreamId::new(ms, seq), true))
        }
        None => {
            let ms = string2ull(s).ok_or_else(invalid)?;
            Ok((StreamId::new(ms, missing_seq), true))
        }
    }
}

/// An ID where `-` and `+` are not allowed.
pub fn parse_strict_id(arg: &[u8]) -> Result<StreamId, Reply> {
    parse_id_generic(arg, 0, true, false).map(|(id, _)| id)
}

/// An ID where `-` and `+` stand for the smallest and largest IDs.
fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, Reply> {
    parse_id_generic(arg, missing_seq, false, false).map(|(id, _)| id)
}

/// Port of `streamParseIntervalIDOrReply` plus the callers' adjustment of exclusive `(`
/// bounds: the start moves up one ID, the end down one.
fn parse_bound(arg: &[u8], is_start: bool) -> Result<StreamId, Reply> {
    let missing_seq = if is_start { 0 } else { u64::MAX };
    if arg.len() > 1 && arg.first() == Some(&b'(') {
        let id = parse_id_generic(&arg[1..], missing_seq, true, false)?.0;
        if is_start {
            id.next()
                .ok_or_else(|| Reply::err("invalid start ID for the interval"))
        } else {
            id.prev()
                .ok_or_else(|| Reply::err("invalid end ID for the interval"))
        }
    } else {
        parse_id(arg, missing_seq)
    }
}

fn parse_ll(arg: &[u8]) -> Result<i64, Reply> {
    parse_i64(arg).ok_or_else(|| reply::error(reply::NOT_INTEGER))
}

fn parse_ll_msg(arg: &[u8], msg: &str) -> Result<i64, Reply> {
    parse_i64(arg).ok_or_else(|| Reply::err(msg))
}

fn eq(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The `[field value ...]` of one entry.
fn fields_reply(fields: &[Vec<u8>]) -> Reply {
    Reply::Array(fields.iter().map(|f| Reply::Bulk(f.clone())).collect())
}

fn entry_reply(id: StreamId, fields: &[Vec<u8>]) -> Reply {
    Reply::Array(vec![id.reply(), fields_reply(fields)])
}

/// Up to `count` entries (0: all) of `[start, end]`, as XRANGE replies them.
fn range_reply(s: &Stream, start: StreamId, end: StreamId, count: usize, rev: bool) -> Reply {
    let limit = if count == 0 { usize::MAX } else { count };
    Reply::Array(
        s.range(start, end, rev)
            .take(limit)
            .map(|(id, f)| entry_reply(*id, f))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// Commands: entries
// ---------------------------------------------------------------------------------------

/// What `streamParseAddOrTrimArgsOrReply` gathers from XADD's and XTRIM's options.
struct AddTrimArgs {
    trim: Trim,
    /// Position of the ID (XADD) or the end of the arguments (XTRIM).
    next: usize,
    id: Option<(StreamId, bool)>,
    no_mkstream: bool,
}

/// Port of `streamParseAddOrTrimArgsOrReply`.
fn parse_add_trim(argv: &[Vec<u8>], xadd: bool) -> Result<AddTrimArgs, Reply> {
    let mut out = AddTrimArgs {
        trim: Trim {
            strategy: Strategy::None,
            approx: false,
            limit: 0,
        },
        next: argv.len(),
        id: None,
        no_mkstream: false,
    };
    let both =
        || Reply::err("syntax error, MAXLEN and MINID options at the same time are not compatible");
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = argv[i].as_slice();
        if xadd && opt == b"*" {
            break;
        } else if (eq(opt, "maxlen") || eq(opt, "minid")) && more > 0 {
            if out.trim.strategy != Strategy::None {
                return Err(both());
            }
            out.trim.approx = false;
            let next = argv[i + 1].as_slice();
            if more >= 2 && next == b"~" {
                out.trim.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let value = argv.get(i + 1).map(Vec::as_slice).unwrap_or_default();
            if eq(opt, "maxlen") {
                let n = parse_ll(value)?;
                if n < 0 {
                    return Err(Reply::err("The MAXLEN argument must be >= 0."));
                }
                out.trim.strategy = Strategy::MaxLen(n as u64);
            } else {
                out.trim.strategy = Strategy::MinId(parse_strict_id(value)?);
            }
            i += 1;
        } else if eq(opt, "limit") && more > 0 {
            limit = parse_ll(&argv[i + 1])?;
            if limit < 0 {
                return Err(Reply::err("The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && eq(opt, "nomkstream") {
            out.no_mkstream = true;
        } else if xadd {
            out.id = Some(parse_id_generic(opt, 0, true, true)?);
            break;
        } else {
            return Err(reply::error(reply::SYNTAX_ERROR));
        }
        i += 1;
    }
    out.next = i;
    if limit != 0 && out.trim.strategy == Strategy::None {
        return Err(Reply::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && out.trim.strategy == Strategy::None {
        return Err(Reply::err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !out.trim.approx {
            return Err(Reply::err(
                "syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
        out.trim.limit = limit as u64;
    } else if out.trim.approx {
        out.trim.limit = 100 * NODE_MAX_ENTRIES;
    }
    Ok(out)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [...]
pub fn xadd(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let args = match parse_add_trim(argv, true) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let field_pos = args.next + 1;
    let nfields = argv.len().saturating_sub(field_pos);
    if nfields < 2 || !nfields.is_multiple_of(2) {
        return crate::redis::commands::wrong_arity_for(argv);
    }
    if let Some((id, true)) = args.id {
        if id.is_zero() {
            return Reply::err("The ID specified in XADD must be greater than 0-0");
        }
    }
    let now = server.now;
    let key = &argv[1];
    let s = if args.no_mkstream {
        match lookup(server, key) {
            Ok(Some(s)) => s,
            Ok(None) => return Reply::Nil,
            Err(e) => return e,
        }
    } else {
        match lookup_or_create(server, key) {
            Ok(s) => s,
            Err(e) => return e,
        }
    };
    if s.last_id == StreamId::MAX {
        return Reply::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        );
    }
    let too_small = || {
        Reply::err("The ID specified in XADD is equal or smaller than the target stream top item")
    };
    let id = match args.id {
        Some((id, true)) => id,
        Some((id, false)) => {
            if s.last_id.ms == id.ms {
                match s.last_id.next() {
                    Some(next) if s.last_id.seq != u64::MAX => next,
                    _ => return too_small(),
                }
            } else {
                id
            }
        }
        None => {
            if now > s.last_id.ms {
                StreamId::new(now, 0)
            } else {
                match s.last_id.next() {
                    Some(next) => next,
                    None => return too_small(),
                }
            }
        }
    };
    if id <= s.last_id {
        return too_small();
    }
    s.append(id, argv[field_pos..].to_vec());
    s.trim(&args.trim);
    id.reply()
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub fn xtrim(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let args = match parse_add_trim(argv, false) {
        Ok(a) => a,
        Err(e) => return e,
    };
    match lookup(server, &argv[1]) {
        Ok(Some(s)) => Reply::Integer(s.trim(&args.trim) as i64),
        Ok(None) => Reply::Integer(0),
        Err(e) => e,
    }
}

/// XLEN key
pub fn xlen(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    match lookup(server, &argv[1]) {
        Ok(Some(s)) => Reply::Integer(s.len() as i64),
        Ok(None) => Reply::Integer(0),
        Err(e) => e,
    }
}

/// XRANGE key start end [COUNT count]
pub fn xrange(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    range_generic(server, argv, false)
}

/// XREVRANGE key end start [COUNT count]
pub fn xrevrange(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    range_generic(server, argv, true)
}

/// Port of `xrangeGenericCommand`.
fn range_generic(server: &mut Server, argv: &[Vec<u8>], rev: bool) -> Reply {
    let (start_arg, end_arg) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let start = match parse_bound(start_arg, true) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let end = match parse_bound(end_arg, false) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if eq(&argv[j], "COUNT") && j + 1 < argv.len() {
            count = match parse_ll(&argv[j + 1]) {
                Ok(n) => n.max(0),
                Err(e) => return e,
            };
            j += 2;
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
    }
    let s = match lookup(server, &argv[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return Reply::Array(vec![]),
        Err(e) => return e,
    };
    match count {
        0 => Reply::NilArray,
        -1 => range_reply(s, start, end, 0, rev),
        n => range_reply(s, start, end, usize::try_from(n).unwrap_or(usize::MAX), rev),
    }
}

/// XDEL key id [id ...]
pub fn xdel(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let s = match lookup(server, &argv[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return Reply::Integer(0),
        Err(e) => return e,
    };
    let mut ids = Vec::with_capacity(argv.len() - 2);
    for arg in &argv[2..] {
        match parse_strict_id(arg) {
            Ok(id) => ids.push(id),
            Err(e) => return e,
        }
    }
    let mut deleted = 0;
    for id in ids {
        if s.delete(id) {
            if id > s.max_deleted_id {
                s.max_deleted_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        s.refresh_first_id();
    }
    Reply::Integer(deleted)
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub fn xsetid(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let id = match parse_strict_id(&argv[2]) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if eq(&argv[i], "ENTRIESADDED") && more > 0 {
            match parse_ll(&argv[i + 1]) {
                Ok(n) if n < 0 => return Reply::err("entries_added must be positive"),
                Ok(n) => entries_added = n,
                Err(e) => return e,
            }
        } else if eq(&argv[i], "MAXDELETEDID") && more > 0 {
            match parse_strict_id(&argv[i + 1]) {
                Ok(m) if id < m => return Reply::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ),
                Ok(m) => max_xdel = m,
                Err(e) => return e,
            }
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        i += 2;
    }
    let s = match lookup(server, &argv[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return Reply::err("no such key"),
        Err(e) => return e,
    };
    if id < s.max_deleted_id {
        return Reply::err(
            "The ID specified in XSETID is smaller than current max_deleted_entry_id",
        );
    }
    if let Some(top) = s.last_valid_id() {
        if id < top {
            return Reply::err(
                "The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if entries_added != -1 && s.len() as u64 > entries_added as u64 {
            return Reply::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            );
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_id = max_xdel;
    }
    Reply::ok()
}

// ---------------------------------------------------------------------------------------
// Commands: reading, with and without groups
// ---------------------------------------------------------------------------------------

/// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
///
/// With BLOCK and nothing to read, the client waits (`blocking::block`) for an XADD from
/// another client or its timeout; inside MULTI it answers nil at once.
pub fn xread(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    read_generic(server, argv, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [...] id [...]
pub fn xreadgroup(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    read_generic(server, argv, true)
}

/// Port of `xreadCommand`.
fn read_generic(server: &mut Server, argv: &[Vec<u8>], group_read: bool) -> Reply {
    let now = server.now as i64;
    let mut block_ms: Option<u64> = None;
    let name = if group_read { "xreadgroup" } else { "xread" };
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut noack = false;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = argv[i].as_slice();
        if eq(o, "BLOCK") && more > 0 {
            i += 1;
            match parse_ll_msg(&argv[i], "timeout is not an integer or out of range") {
                Ok(t) if t < 0 => return Reply::err("timeout is negative"),
                Ok(t) if t > 0 && t > i64::MAX - now => {
                    return Reply::err("timeout is out of range")
                }
                Ok(t) => block_ms = Some(t as u64),
                Err(e) => return e,
            }
        } else if eq(o, "COUNT") && more > 0 {
            i += 1;
            count = match parse_ll(&argv[i]) {
                Ok(n) => n.max(0),
                Err(e) => return e,
            };
        } else if eq(o, "STREAMS") && more > 0 {
            streams_arg = i + 1;
            if !(argv.len() - streams_arg).is_multiple_of(2) {
                let symbol = if group_read { '>' } else { '$' };
                return Reply::err(format!("Unbalanced '{name}' list of streams: for each stream key an ID or '{symbol}' must be specified."));
            }
            break;
        } else if eq(o, "GROUP") && more >= 2 {
            if !group_read {
                return Reply::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                );
            }
            group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if eq(o, "NOACK") {
            if !group_read {
                return Reply::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                );
            }
            noack = true;
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return reply::error(reply::SYNTAX_ERROR);
    }
    if group_read && group.is_none() {
        return Reply::err("Missing GROUP option for XREADGROUP");
    }
    let nstreams = (argv.len() - streams_arg) / 2;
    let keys = &argv[streams_arg..streams_arg + nstreams];
    let id_args = &argv[streams_arg + nstreams..];

    // Every key, group and ID is checked before anything is read.
    let mut ids = Vec::with_capacity(nstreams);
    for (key, arg) in keys.iter().zip(id_args) {
        let s = match lookup(server, key) {
            Ok(s) => s.map(|s| &*s),
            Err(e) => return e,
        };
        if let Some((g, _)) = group {
            if s.is_none_or(|s| !s.groups.contains_key(g)) {
                return Reply::Error(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(g)
                ));
            }
        }
        let id = if arg.as_slice() == b"$" {
            if group_read {
                return Reply::err("The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
            }
            s.map(|s| s.last_id).unwrap_or_default()
        } else if arg.as_slice() == b">" {
            if !group_read {
                return Reply::err("The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
            }
            StreamId::MAX
        } else if arg.as_slice() == b"+" {
            if group_read {
                return Reply::err("The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.");
            }
            // An empty stream's last ID may be 0-0: nothing can follow it to serve anyway.
            s.and_then(|s| s.last_id.prev()).unwrap_or_default()
        } else {
            match parse_strict_id(arg) {
                Ok(id) => id,
                Err(e) => return e,
            }
        };
        ids.push(id);
    }
    // What a blocked read runs again: `$` stands for the last ID as it is now.
    let resolved: Vec<StreamId> = ids.clone();

    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    let mut out = Vec::new();
    for (key, gt) in keys.iter().zip(ids) {
        let Ok(Some(s)) = lookup(server, key) else {
            continue;
        };
        let items = match group {
            None => {
                if s.last_valid_id().is_some_and(|top| top > gt) {
                    let start = gt.next().unwrap_or_default();
                    Some(
                        s.range(start, StreamId::MAX, false)
                            .take(limit)
                            .map(|(id, f)| entry_reply(*id, f))
                            .collect(),
                    )
                } else {
                    None
                }
            }
            Some((g, consumer)) => read_group(s, g, consumer, gt, limit, noack, now),
        };
        if let Some(items) = items {
            out.push(Reply::Array(vec![
                Reply::Bulk(key.clone()),
                Reply::Array(items),
            ]));
        }
    }
    if !out.is_empty() {
        return Reply::Array(out);
    }
    // Only new entries are waited for: a group read of a consumer's history never blocks.
    let waits = !group_read || resolved.contains(&StreamId::MAX);
    match block_ms {
        Some(ms) if waits => {
            let deadline = match crate::redis::blocking::deadline_after(server, ms) {
                Ok(d) => d,
                Err(e) => return e,
            };
            let mut again = argv.to_vec();
            for (arg, id) in again[streams_arg + nstreams..].iter_mut().zip(&resolved) {
                if arg.as_slice() == b"$" {
                    *arg = id.to_string().into_bytes();
                }
            }
            crate::redis::blocking::block(server, keys, deadline, again, Reply::NilArray)
        }
        _ => Reply::NilArray,
    }
}

/// One stream of an XREADGROUP: the consumer's own history for an explicit ID, new entries
/// for `>` (given as the largest ID). `None` when there is nothing to serve.
fn read_group(
    s: &mut Stream,
    group_name: &[u8],
    consumer: &[u8],
    gt: StreamId,
    limit: usize,
    noack: bool,
    now: i64,
) -> Option<Vec<Reply>> {
    let top = s.last_valid_id();
    let group = s.groups.get(group_name)?;
    let history = gt != StreamId::MAX;
    let from = if history {
        Some(gt)
    } else if top.is_some_and(|top| top > group.last_id) {
        Some(group.last_id)
    } else {
        None
    };
    let group = s.groups.get_mut(group_name)?;
    group.consumer(consumer, now).seen_time = now;
    let start = from?.next().unwrap_or_default();
    if history {
        let group = s.groups.get_mut(group_name)?;
        let ids: Vec<StreamId> = group
            .consumers
            .get(consumer)?
            .pel
            .range(start..)
            .take(limit)
            .copied()
            .collect();
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            match s.entries.get(&id) {
                Some(fields) => {
                    items.push(entry_reply(id, fields));
                    if let Some(nack) = group.pel.get_mut(&id) {
                        nack.delivery_time = now;
                        nack.delivery_count = nack.delivery_count.wrapping_add(1);
                    }
                }
                None => items.push(Reply::Array(vec![id.reply(), Reply::NilArray])),
            }
        }
        return Some(items);
    }
    let ids: Vec<StreamId> = s
        .entries
        .range(start..)
        .take(limit)
        .map(|(id, _)| *id)
        .collect();
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let estimate = s.estimate_distance(id);
        let added = s.entries_added;
        let first = s.first_id;
        let fields = s.entries.get(&id).cloned().unwrap_or_default();
        let last = s.groups.get(group_name)?.last_id;
        let counter_valid = last >= first && !s.range_has_tombstones(last, StreamId::MAX);
        let group = s.groups.get_mut(group_name)?;
        if id > group.last_id {
            if group.entries_read != INVALID_ENTRIES_READ && counter_valid {
                group.entries_read = group.entries_read.wrapping_add(1);
            } else if added > 0 {
                group.entries_read = estimate;
            }
            group.last_id = id;
        }
        items.push(entry_reply(id, &fields));
        if !noack {
            let previous = group.pel.insert(
                id,
                Nack {
                    consumer: consumer.to_vec(),
                    delivery_time: now,
                    delivery_count: 1,
                },
            );
            if let Some(old) = previous {
                if let Some(c) = group.consumers.get_mut(&old.consumer) {
                    c.pel.remove(&id);
                }
            }
            let c = group.consumer(consumer, now);
            c.pel.insert(id);
            c.active_time = now;
        }
    }
    Some(items)
}

// ---------------------------------------------------------------------------------------
// Commands: consumer groups
// ---------------------------------------------------------------------------------------

fn no_group(key: &[u8], group: &[u8]) -> Reply {
    Reply::Error(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn subcommand_syntax_error(argv: &[Vec<u8>], container: &str) -> Reply {
    let sub = argv
        .get(1)
        .map(|s| String::from_utf8_lossy(s))
        .unwrap_or_default();
    let sub: String = sub.chars().take(128).collect();
    Reply::err(format!(
        "unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP."
    ))
}

/// XGROUP's container row: reached only without a subcommand.
pub fn xgroup(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    crate::redis::commands::wrong_arity_for(argv)
}

/// XGROUP HELP
pub fn xgroup_help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    crate::redis::object::help_reply(
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    )
}

/// The part of `xgroupCommand` every subcommand but HELP shares: options, the key and the
/// group. Returns (mkstream, entries_read).
fn xgroup_prelude(server: &mut Server, argv: &[Vec<u8>]) -> Result<(bool, i64), Reply> {
    let sub = argv[1].as_slice();
    let create = eq(sub, "CREATE");
    let setid = eq(sub, "SETID");
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < argv.len() {
        if create && eq(&argv[i], "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && eq(&argv[i], "ENTRIESREAD") && i + 1 < argv.len() {
            entries_read = parse_ll(&argv[i + 1])?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return Err(Reply::err("value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax_error(argv, "XGROUP"));
        }
    }
    let (key, name) = (&argv[2], &argv[3]);
    let s = lookup(server, key)?;
    let Some(s) = s else {
        if !(create && mkstream) {
            return Err(Reply::err("The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        }
        return Ok((mkstream, entries_read));
    };
    if !s.groups.contains_key(name.as_slice()) && !create && !eq(sub, "DESTROY") {
        return Err(Reply::Error(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(key)
        )));
    }
    Ok((mkstream, entries_read))
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]
pub fn xgroup_create(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() > 8 {
        return subcommand_syntax_error(argv, "XGROUP");
    }
    let entries_read = match xgroup_prelude(server, argv) {
        Ok((_, e)) => e,
        Err(e) => return e,
    };
    let last = match lookup(server, &argv[2]) {
        Ok(s) => s.map(|s| s.last_id).unwrap_or_default(),
        Err(e) => return e,
    };
    let id = if argv[4].as_slice() == b"$" {
        last
    } else {
        match parse_strict_id(&argv[4]) {
            Ok(id) => id,
            Err(e) => return e,
        }
    };
    let s = match lookup_or_create(server, &argv[2]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if s.groups.contains_key(argv[3].as_slice()) {
        return Reply::Error("BUSYGROUP Consumer Group name already exists".into());
    }
    s.groups
        .insert(argv[3].clone(), Group::new(id, entries_read));
    Reply::ok()
}

/// XGROUP SETID key group id|$ [ENTRIESREAD entries-read]
pub fn xgroup_setid(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() != 5 && argv.len() != 7 {
        return subcommand_syntax_error(argv, "XGROUP");
    }
    let entries_read = match xgroup_prelude(server, argv) {
        Ok((_, e)) => e,
        Err(e) => return e,
    };
    let Ok(Some(s)) = lookup(server, &argv[2]) else {
        return Reply::err("no such key");
    };
    let id = if argv[4].as_slice() == b"$" {
        s.last_id
    } else {
        match parse_id(&argv[4], 0) {
            Ok(id) => id,
            Err(e) => return e,
        }
    };
    if let Some(g) = s.groups.get_mut(argv[3].as_slice()) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    Reply::ok()
}

/// XGROUP DESTROY key group
pub fn xgroup_destroy(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if let Err(e) = xgroup_prelude(server, argv) {
        return e;
    }
    match lookup(server, &argv[2]) {
        Ok(Some(s)) => Reply::Integer(i64::from(s.groups.remove(argv[3].as_slice()).is_some())),
        _ => Reply::Integer(0),
    }
}

/// XGROUP CREATECONSUMER key group consumer
pub fn xgroup_createconsumer(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if let Err(e) = xgroup_prelude(server, argv) {
        return e;
    }
    let now = server.now as i64;
    let Ok(Some(s)) = lookup(server, &argv[2]) else {
        return Reply::Integer(0);
    };
    let Some(g) = s.groups.get_mut(argv[3].as_slice()) else {
        return Reply::Integer(0);
    };
    if g.consumers.contains_key(argv[4].as_slice()) {
        return Reply::Integer(0);
    }
    g.consumers.insert(argv[4].clone(), Consumer::new(now));
    Reply::Integer(1)
}

/// XGROUP DELCONSUMER key group consumer: its pending entries are dropped from the group.
pub fn xgroup_delconsumer(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if let Err(e) = xgroup_prelude(server, argv) {
        return e;
    }
    let Ok(Some(s)) = lookup(server, &argv[2]) else {
        return Reply::Integer(0);
    };
    let Some(g) = s.groups.get_mut(argv[3].as_slice()) else {
        return Reply::Integer(0);
    };
    let Some(consumer) = g.consumers.remove(argv[4].as_slice()) else {
        return Reply::Integer(0);
    };
    for id in &consumer.pel {
        g.pel.remove(id);
    }
    Reply::Integer(consumer.pel.len() as i64)
}

/// XACK key group id [id ...]
pub fn xack(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let s = match lookup(server, &argv[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return Reply::Integer(0),
        Err(e) => return e,
    };
    let Some(group) = s.groups.get_mut(argv[2].as_slice()) else {
        return Reply::Integer(0);
    };
    let mut ids = Vec::with_capacity(argv.len() - 3);
    for arg in &argv[3..] {
        match parse_strict_id(arg) {
            Ok(id) => ids.push(id),
            Err(e) => return e,
        }
    }
    let acked = ids
        .into_iter()
        .filter(|&id| group.unpend(id).is_some())
        .count();
    Reply::Integer(acked as i64)
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub fn xpending(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now as i64;
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return reply::error(reply::SYNTAX_ERROR);
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if eq(&argv[3], "IDLE") {
            min_idle = match parse_ll(&argv[4]) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if argc < 8 {
                return reply::error(reply::SYNTAX_ERROR);
            }
            at += 2;
        }
        let count = match parse_ll(&argv[at + 2]) {
            Ok(n) => n.max(0),
            Err(e) => return e,
        };
        let start = match parse_bound(&argv[at], true) {
            Ok(id) => id,
            Err(e) => return e,
        };
        let end = match parse_bound(&argv[at + 1], false) {
            Ok(id) => id,
            Err(e) => return e,
        };
        let consumer = argv.get(at + 3).map(Vec::as_slice);
        range = Some((min_idle, start, end, count, consumer));
    }
    let s = match lookup(server, &argv[1]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Some(group) = s.and_then(|s| s.groups.get(argv[2].as_slice())) else {
        return no_group(&argv[1], &argv[2]);
    };
    let Some((min_idle, start, end, count, consumer)) = range else {
        let (Some((first, _)), Some((last, _))) =
            (group.pel.first_key_value(), group.pel.last_key_value())
        else {
            return Reply::Array(vec![
                Reply::Integer(0),
                Reply::Nil,
                Reply::Nil,
                Reply::NilArray,
            ]);
        };
        let owners = group
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(name, c)| {
                Reply::Array(vec![
                    Reply::Bulk(name.clone()),
                    Reply::bulk(c.pel.len().to_string()),
                ])
            })
            .collect();
        return Reply::Array(vec![
            Reply::Integer(group.pel.len() as i64),
            first.reply(),
            last.reply(),
            Reply::Array(owners),
        ]);
    };
    let ids: Box<dyn Iterator<Item = StreamId>> = match consumer {
        Some(name) => match group.consumers.get(name) {
            Some(c) => Box::new(c.pel.range(start..).copied()),
            None => return Reply::Array(vec![]),
        },
        None => Box::new(group.pel.range(start..).map(|(id, _)| *id)),
    };
    let mut out = Vec::new();
    let mut left = count;
    for id in ids.take_while(|&id| id <= end) {
        if left == 0 {
            break;
        }
        let Some(nack) = group.pel.get(&id) else {
            continue;
        };
        let idle = now.saturating_sub(nack.delivery_time);
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        left -= 1;
        out.push(Reply::Array(vec![
            id.reply(),
            Reply::Bulk(nack.consumer.clone()),
            Reply::Integer(idle.max(0)),
            Reply::Integer(nack.delivery_count as i64),
        ]));
    }
    Reply::Array(out)
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
pub fn xclaim(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now as i64;
    let (key, gname, cname) = (&argv[1], &argv[2], &argv[3]);
    match lookup(server, key) {
        Ok(Some(s)) if s.groups.contains_key(gname.as_slice()) => {}
        Ok(_) => return no_group(key, gname),
        Err(e) => return e,
    }
    let min_idle = match parse_ll_msg(&argv[4], "Invalid min-idle-time argument for XCLAIM") {
        Ok(n) => n.max(0),
        Err(e) => return e,
    };
    let mut j = 5;
    let mut ids = Vec::new();
    while let Some(Ok(id)) = argv.get(j).map(|a| parse_strict_id(a)) {
        ids.push(id);
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut retry: i64 = -1;
    let mut delivery: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = argv[j].as_slice();
        if eq(opt, "FORCE") {
            force = true;
        } else if eq(opt, "JUSTID") {
            justid = true;
        } else if eq(opt, "IDLE") && more > 0 {
            j += 1;
            match parse_ll_msg(&argv[j], "Invalid IDLE option argument for XCLAIM") {
                Ok(n) => delivery = now.wrapping_sub(n),
                Err(e) => return e,
            }
        } else if eq(opt, "TIME") && more > 0 {
            j += 1;
            match parse_ll_msg(&argv[j], "Invalid TIME option argument for XCLAIM") {
                Ok(n) => delivery = n,
                Err(e) => return e,
            }
        } else if eq(opt, "RETRYCOUNT") && more > 0 {
            j += 1;
            match parse_ll_msg(&argv[j], "Invalid RETRYCOUNT option argument for XCLAIM") {
                Ok(n) => retry = n,
                Err(e) => return e,
            }
        } else if eq(opt, "LASTID") && more > 0 {
            j += 1;
            match parse_strict_id(&argv[j]) {
                Ok(id) => last_id = id,
                Err(e) => return e,
            }
        } else {
            return Reply::err(format!(
                "Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            ));
        }
        j += 1;
    }
    let Ok(Some(s)) = lookup(server, key) else {
        return no_group(key, gname);
    };
    let Some(group) = s.groups.get_mut(gname.as_slice()) else {
        return no_group(key, gname);
    };
    if last_id > group.last_id {
        group.last_id = last_id;
    }
    if delivery == -1 || delivery < 0 || delivery > now {
        delivery = now;
    }
    group.consumer(cname, now).seen_time = now;
    let mut out = Vec::new();
    for id in ids {
        let Some(fields) = s.entries.get(&id) else {
            group.unpend(id);
            continue;
        };
        let mut fresh = false;
        if force && !group.pel.contains_key(&id) {
            group.pel.insert(
                id,
                Nack {
                    consumer: Vec::new(),
                    delivery_time: now,
                    delivery_count: 1,
                },
            );
            fresh = true;
        }
        let Some(nack) = group.pel.get_mut(&id) else {
            continue;
        };
        if !fresh && min_idle != 0 && now.saturating_sub(nack.delivery_time) < min_idle {
            continue;
        }
        let previous = std::mem::replace(&mut nack.consumer, cname.clone());
        nack.delivery_time = delivery;
        if retry >= 0 {
            nack.delivery_count = retry as u64;
        } else if !justid {
            nack.delivery_count = nack.delivery_count.wrapping_add(1);
        }
        if !fresh && previous != *cname {
            if let Some(c) = group.consumers.get_mut(&previous) {
                c.pel.remove(&id);
            }
        }
        let c = group.consumer(cname, now);
        c.pel.insert(id);
        c.active_time = now;
        out.push(if justid {
            id.reply()
        } else {
            entry_reply(id, fields)
        });
    }
    Reply::Array(out)
}

/// Largest XAUTOCLAIM COUNT whose up-front allocation the reference server could make.
const MAX_AUTOCLAIM_COUNT: i64 = 1 << 30;

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub fn xautoclaim(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now as i64;
    let (key, gname, cname) = (&argv[1], &argv[2], &argv[3]);
    let min_idle = match parse_ll_msg(&argv[4], "Invalid min-idle-time argument for XAUTOCLAIM") {
        Ok(n) => n.max(0),
        Err(e) => return e,
    };
    let start = match parse_bound(&argv[5], true) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq(&argv[j], "COUNT") && more > 0 {
            let max = i64::MAX / 16;
            match parse_i64(&argv[j + 1]) {
                Some(n) if (1..=max).contains(&n) => count = n,
                _ => return Reply::err("COUNT must be > 0"),
            }
            j += 1;
        } else if eq(&argv[j], "JUSTID") {
            justid = true;
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
        j += 1;
    }
    let s = match lookup(server, key) {
        Ok(Some(s)) => s,
        Ok(None) => return no_group(key, gname),
        Err(e) => return e,
    };
    let Some(group) = s.groups.get_mut(gname.as_slice()) else {
        return no_group(key, gname);
    };
    // Valkey allocates room for COUNT deleted IDs up front and refuses when the allocation
    // fails; the threshold is the one measured on a 23 GB machine (16 bytes per ID).
    if count > MAX_AUTOCLAIM_COUNT {
        return Reply::err(
            "Insufficient memory, failed allocating transient memory, COUNT too high.",
        );
    }
    group.consumer(cname, now).seen_time = now;
    let mut attempts = count.saturating_mul(10);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut cursor = group.pel.range(start..).next().map(|(id, _)| *id);
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some(id) = cursor else { break };
        cursor = group
            .pel
            .range((Excluded(id), Unbounded))
            .next()
            .map(|(id, _)| *id);
        let Some(fields) = s.entries.get(&id) else {
            group.unpend(id);
            deleted.push(id.reply());
            count -= 1;
            continue;
        };
        let Some(nack) = group.pel.get_mut(&id) else {
            continue;
        };
        if min_idle != 0 && now.saturating_sub(nack.delivery_time) < min_idle {
            continue;
        }
        let previous = std::mem::replace(&mut nack.consumer, cname.clone());
        nack.delivery_time = now;
        if !justid {
            nack.delivery_count = nack.delivery_count.wrapping_add(1);
        }
        if previous != *cname {
            if let Some(c) = group.consumers.get_mut(&previous) {
                c.pel.remove(&id);
            }
        }
        let c = group.consumer(cname, now);
        c.pel.insert(id);
        c.active_time = now;
        claimed.push(if justid {
            id.reply()
        } else {
            entry_reply(id, fields)
        });
        count -= 1;
    }
    Reply::Array(vec![
        cursor.unwrap_or_default().reply(),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ])
}

// ---------------------------------------------------------------------------------------
// Commands: XINFO
// ---------------------------------------------------------------------------------------

/// XINFO's container row: reached only without a subcommand.
pub fn xinfo(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    crate::redis::commands::wrong_arity_for(argv)
}

/// XINFO HELP
pub fn xinfo_help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    crate::redis::object::help_reply(
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    )
}

fn info_lookup<'a>(server: &'a mut Server, key: &[u8]) -> Result<&'a mut Stream, Reply> {
    lookup(server, key)?.ok_or_else(|| Reply::err("no such key"))
}

fn field(name: &str) -> Reply {
    Reply::bulk(name)
}

/// XINFO CONSUMERS key group
pub fn xinfo_consumers(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let now = server.now as i64;
    let s = match info_lookup(server, &argv[2]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Some(group) = s.groups.get(argv[3].as_slice()) else {
        return Reply::Error(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(&argv[3]),
            String::from_utf8_lossy(&argv[2])
        ));
    };
    Reply::Array(
        group
            .consumers
            .iter()
            .map(|(name, c)| {
                let inactive = if c.active_time == -1 {
                    -1
                } else {
                    now.saturating_sub(c.active_time)
                };
                Reply::Array(vec![
                    field("name"),
                    Reply::Bulk(name.clone()),
                    field("pending"),
                    Reply::Integer(c.pel.len() as i64),
                    field("idle"),
                    Reply::Integer(now.saturating_sub(c.seen_time).max(0)),
                    field("inactive"),
                    Reply::Integer(inactive),
                ])
            })
            .collect(),
    )
}

fn entries_read_reply(g: &Group) -> Reply {
    if g.entries_read == INVALID_ENTRIES_READ {
        Reply::Nil
    } else {
        Reply::Integer(g.entries_read)
    }
}

fn lag_reply(s: &Stream, g: &Group) -> Reply {
    s.lag(g).map(Reply::Integer).unwrap_or(Reply::Nil)
}

/// XINFO GROUPS key
pub fn xinfo_groups(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let s = match info_lookup(server, &argv[2]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    Reply::Array(
        s.groups
            .iter()
            .map(|(name, g)| {
                Reply::Array(vec![
                    field("name"),
                    Reply::Bulk(name.clone()),
                    field("consumers"),
                    Reply::Integer(g.consumers.len() as i64),
                    field("pending"),
                    Reply::Integer(g.pel.len() as i64),
                    field("last-delivered-id"),
                    g.last_id.reply(),
                    field("entries-read"),
                    entries_read_reply(g),
                    field("lag"),
                    lag_reply(s, g),
                ])
            })
            .collect(),
    )
}

/// XINFO STREAM key [FULL [COUNT count]]
pub fn xinfo_stream(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let mut full = false;
    let mut count: i64 = 10;
    if argv.len() > 3 {
        if !eq(&argv[3], "FULL") {
            return subcommand_syntax_error(argv, "XINFO");
        }
        full = true;
        if argv.len() > 4 {
            if argv.len() != 6 || !eq(&argv[4], "COUNT") {
                return subcommand_syntax_error(argv, "XINFO");
            }
            count = match parse_ll(&argv[5]) {
                Ok(n) => n.max(0),
                Err(e) => return e,
            };
        }
    }
    let s = match info_lookup(server, &argv[2]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut out = vec![
        field("length"),
        Reply::Integer(s.len() as i64),
        field("radix-tree-keys"),
        Reply::Integer(s.radix_keys() as i64),
        field("radix-tree-nodes"),
        Reply::Integer(s.radix_nodes() as i64),
        field("last-generated-id"),
        s.last_id.reply(),
        field("max-deleted-entry-id"),
        s.max_deleted_id.reply(),
        field("entries-added"),
        Reply::Integer(s.entries_added as i64),
        field("recorded-first-entry-id"),
        s.first_id.reply(),
    ];
    if !full {
        let edge = |rev: bool| {
            s.range(StreamId::MIN, StreamId::MAX, rev)
                .next()
                .map(|(id, f)| entry_reply(*id, f))
                .unwrap_or(Reply::Nil)
        };
        out.extend([
            field("groups"),
            Reply::Integer(s.groups.len() as i64),
            field("first-entry"),
            edge(false),
            field("last-entry"),
            edge(true),
        ]);
        return Reply::Array(out);
    }
    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    out.push(field("entries"));
    out.push(range_reply(
        s,
        StreamId::MIN,
        StreamId::MAX,
        limit.min(s.len()),
        false,
    ));
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pending = g
                .pel
                .iter()
                .take(limit)
                .map(|(id, n)| {
                    Reply::Array(vec![
                        id.reply(),
                        Reply::Bulk(n.consumer.clone()),
                        Reply::Integer(n.delivery_time),
                        Reply::Integer(n.delivery_count as i64),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let pel = c
                        .pel
                        .iter()
                        .take(limit)
                        .filter_map(|id| {
                            let n = g.pel.get(id)?;
                            Some(Reply::Array(vec![
                                id.reply(),
                                Reply::Integer(n.delivery_time),
                                Reply::Integer(n.delivery_count as i64),
                            ]))
                        })
                        .collect();
                    Reply::Array(vec![
                        field("name"),
                        Reply::Bulk(cname.clone()),
                        field("seen-time"),
                        Reply::Integer(c.seen_time),
                        field("active-time"),
                        Reply::Integer(c.active_time),
                        field("pel-count"),
                        Reply::Integer(c.pel.len() as i64),
                        field("pending"),
                        Reply::Array(pel),
                    ])
                })
                .collect();
            Reply::Array(vec![
                field("name"),
                Reply::Bulk(name.clone()),
                field("last-delivered-id"),
                g.last_id.reply(),
                field("entries-read"),
                entries_read_reply(g),
                field("lag"),
                lag_reply(s, g),
                field("pel-count"),
                Reply::Integer(g.pel.len() as i64),
                field("pending"),
                Reply::Array(pending),
                field("consumers"),
                Reply::Array(consumers),
            ])
        })
        .collect();
    out.push(field("groups"));
    out.push(Reply::Array(groups));
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use crate::redis::cli::split_args;
    use crate::redis::Server;

    /// Runs `(line, sandbox ms, expected redis-cli text)` rows in order on one server.
    fn check(rows: &[(&str, u64, &str)]) {
        let mut s = Server::new();
        for (line, at, expected) in rows {
            let argv = split_args(line).expect("balanced line");
            assert_eq!(s.execute(&argv, *at).to_cli_text(), *expected, "{line}");
        }
    }

    #[test]
    fn auto_ids_follow_the_sandbox_clock() {
        check(&[
            ("XADD s * a 1", 1_000, "\"1000-0\"\n"),
            ("XADD s * a 2", 1_000, "\"1000-1\"\n"),
            ("XADD s * a 3", 1_005, "\"1005-0\"\n"),
            ("XADD s 2000-5 a 4", 1_005, "\"2000-5\"\n"),
            // The clock is behind the last ID: the last ms with the next sequence.
            ("XADD s * a 5", 1_500, "\"2000-6\"\n"),
            ("XADD s 2000-* a 6", 1_500, "\"2000-7\"\n"),
            ("XADD s 3000-* a 7", 1_500, "\"3000-0\"\n"),
            ("XADD s 100-* a 8", 1_500, "(error) ERR The ID specified in XADD is equal or smaller than the target stream top item\n"),
            ("XADD s MAXLEN 2 * a 9", 4_000, "\"4000-0\"\n"),
            ("XRANGE s - +", 4_000, "1) 1) \"3000-0\"\n   2) 1) \"a\"\n      2) \"7\"\n2) 1) \"4000-0\"\n   2) 1) \"a\"\n      2) \"9\"\n"),
            ("XSETID s 18446744073709551615-18446744073709551614", 4_000, "OK\n"),
            ("XADD s * a b", 4_000, "\"18446744073709551615-18446744073709551615\"\n"),
            ("XADD s * a b", 4_000, "(error) ERR The stream has exhausted the last possible ID, unable to add more items\n"),
        ]);
    }

    #[test]
    fn idle_times_count_sandbox_milliseconds() {
        check(&[
            ("XADD s 1-0 f v", 10_000, "\"1-0\"\n"),
            ("XADD s 2-0 f v", 10_000, "\"2-0\"\n"),
            ("XGROUP CREATE s g 0", 10_000, "OK\n"),
            ("XREADGROUP GROUP g c COUNT 1 STREAMS s >", 10_000, "1) 1) \"s\"\n   2) 1) 1) \"1-0\"\n         2) 1) \"f\"\n            2) \"v\"\n"),
            ("XPENDING s g - + 10", 10_250, "1) 1) \"1-0\"\n   2) \"c\"\n   3) (integer) 250\n   4) (integer) 1\n"),
            ("XPENDING s g IDLE 300 - + 10", 10_250, "(empty array)\n"),
            ("XPENDING s g IDLE 200 - + 10 c", 10_250, "1) 1) \"1-0\"\n   2) \"c\"\n   3) (integer) 250\n   4) (integer) 1\n"),
            ("XGROUP CREATECONSUMER s g d", 10_300, "(integer) 1\n"),
            ("XINFO CONSUMERS s g", 10_500, "1) 1) \"name\"\n   2) \"c\"\n   3) \"pending\"\n   4) (integer) 1\n   5) \"idle\"\n   6) (integer) 500\n   7) \"inactive\"\n   8) (integer) 500\n2) 1) \"name\"\n   2) \"d\"\n   3) \"pending\"\n   4) (integer) 0\n   5) \"idle\"\n   6) (integer) 200\n   7) \"inactive\"\n   8) (integer) -1\n"),
            ("XCLAIM s g d 1000 1-0 JUSTID", 10_500, "(empty array)\n"),
            ("XCLAIM s g d 400 1-0 JUSTID", 10_500, "1) \"1-0\"\n"),
            ("XCLAIM s g c 0 1-0 IDLE 5000 JUSTID", 10_600, "1) \"1-0\"\n"),
            ("XPENDING s g - + 10", 10_600, "1) 1) \"1-0\"\n   2) \"c\"\n   3) (integer) 5000\n   4) (integer) 1\n"),
            ("XCLAIM s g c 0 1-0 TIME 10000 RETRYCOUNT 9 JUSTID", 10_600, "1) \"1-0\"\n"),
            ("XPENDING s g - + 10", 10_700, "1) 1) \"1-0\"\n   2) \"c\"\n   3) (integer) 700\n   4) (integer) 9\n"),
            ("XAUTOCLAIM s g d 1000 0 JUSTID", 10_700, "1) \"0-0\"\n2) (empty array)\n3) (empty array)\n"),
            ("XAUTOCLAIM s g d 500 0 JUSTID", 10_700, "1) \"0-0\"\n2) 1) \"1-0\"\n3) (empty array)\n"),
            ("XINFO STREAM s FULL", 10_800, " 1) \"length\"\n 2) (integer) 2\n 3) \"radix-tree-keys\"\n 4) (integer) 1\n 5) \"radix-tree-nodes\"\n 6) (integer) 2\n 7) \"last-generated-id\"\n 8) \"2-0\"\n 9) \"max-deleted-entry-id\"\n10) \"0-0\"\n11) \"entries-added\"\n12) (integer) 2\n13) \"recorded-first-entry-id\"\n14) \"1-0\"\n15) \"entries\"\n16) 1) 1) \"1-0\"\n       2) 1) \"f\"\n          2) \"v\"\n    2) 1) \"2-0\"\n       2) 1) \"f\"\n          2) \"v\"\n17) \"groups\"\n18) 1)  1) \"name\"\n        2) \"g\"\n        3) \"last-delivered-id\"\n        4) \"1-0\"\n        5) \"entries-read\"\n        6) (integer) 1\n        7) \"lag\"\n        8) (integer) 1\n        9) \"pel-count\"\n       10) (integer) 1\n       11) \"pending\"\n       12) 1) 1) \"1-0\"\n              2) \"d\"\n              3) (integer) 10700\n              4) (integer) 9\n       13) \"consumers\"\n       14) 1)  1) \"name\"\n               2) \"c\"\n               3) \"seen-time\"\n               4) (integer) 10600\n               5) \"active-time\"\n               6) (integer) 10600\n               7) \"pel-count\"\n               8) (integer) 0\n               9) \"pending\"\n              10) (empty array)\n           2)  1) \"name\"\n               2) \"d\"\n               3) \"seen-time\"\n               4) (integer) 10700\n               5) \"active-time\"\n               6) (integer) 10700\n               7) \"pel-count\"\n               8) (integer) 1\n               9) \"pending\"\n              10) 1) 1) \"1-0\"\n                     2) (integer) 10700\n                     3) (integer) 9\n"),
        ]);
    }

    #[test]
    fn blocking_reads_inside_a_transaction_answer_at_once() {
        check(&[
            ("MULTI", 0, "OK\n"),
            ("XREAD BLOCK 0 STREAMS s $", 0, "QUEUED\n"),
            ("EXEC", 0, "1) (nil)\n"),
            ("XADD s 1-0 a b", 0, "\"1-0\"\n"),
            (
                "XREAD BLOCK 100 STREAMS s 0",
                0,
                "1) 1) \"s\"\n   2) 1) 1) \"1-0\"\n         2) 1) \"a\"\n            2) \"b\"\n",
            ),
            ("XGROUP CREATE s g $", 0, "OK\n"),
            ("MULTI", 0, "OK\n"),
            ("XREADGROUP GROUP g c BLOCK 5 STREAMS s >", 0, "QUEUED\n"),
            ("EXEC", 0, "1) (nil)\n"),
        ]);
    }

    #[test]
    fn a_blocked_read_is_served_by_the_next_xadd() {
        let mut s = Server::new();
        let run = |s: &mut Server, client: u64, line: &str| {
            s.switch_client(client);
            let argv = crate::redis::cli::split_args(line).unwrap_or_default();
            s.execute(&argv, 0).to_cli_text()
        };
        assert_eq!(run(&mut s, 1, "XADD s 1-1 f v"), "\"1-1\"\n");
        assert_eq!(run(&mut s, 1, "XREAD BLOCK 0 STREAMS s $"), "");
        assert_eq!(run(&mut s, 2, "XADD s 2-1 f w"), "\"2-1\"\n");
        let late: String = s.take_outbox(1).iter().map(|r| r.to_cli_text()).collect();
        assert_eq!(
            late,
            "1) 1) \"s\"\n   2) 1) 1) \"2-1\"\n         2) 1) \"f\"\n            2) \"w\"\n"
        );
    }

    #[test]
    fn ids_parse_like_string2ull() {
        use super::{parse_strict_id, string2ull, StreamId};
        assert_eq!(string2ull(b"007"), Some(7));
        assert_eq!(string2ull(b"+5"), Some(5));
        assert_eq!(string2ull(b" 5"), Some(5));
        assert_eq!(string2ull(b"-0"), Some(0));
        assert_eq!(string2ull(b"-5"), None);
        assert_eq!(string2ull(b""), None);
        assert_eq!(string2ull(b"18446744073709551616"), None);
        assert_eq!(string2ull(b"0x10"), None);
        assert_eq!(parse_strict_id(b"3"), Ok(StreamId::new(3, 0)));
        assert_eq!(parse_strict_id(b"3-4\0junk"), Ok(StreamId::new(3, 4)));
        assert!(parse_strict_id(&[b'1'; 128]).is_err());
        assert!(parse_strict_id(b"-").is_err());
    }
}
