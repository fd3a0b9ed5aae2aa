//! What a stream holds that no Redis command can set again, kept in the snapshot (format
//! version 2) as one record after the commands that rebuild the rest of the stream.
//!
//! Redis's AOF rewrite, whose commands the snapshot borrows, loses three things a reload must
//! keep: a consumer group's pending entry whose message was deleted (XCLAIM cannot claim it),
//! consumers' seen and active times (XCLAIM and XGROUP CREATECONSUMER set them to the time of
//! the replay), and the listpack node layout (deleted entries keep their slot in a node until
//! it goes; XADD replayed packs them away, so XINFO STREAM's radix tree counts, approximate
//! trimming and MEMORY USAGE would change). The record carries these exactly.
//!
//! The record is not a command: `rebuild_redis` applies it itself, the dispatcher does not
//! know its name (a student typing it gets "unknown command"), and the export to a real
//! server (`Times::Relative`) never writes it.
//!
//! ```text
//! "#stream-state" key state
//! state:  nodes: count, (first ID, live, total, last ID, body bytes, count, master field…)…
//!         groups: count, (name, consumers: count, (name, seen-time i64, active-time i64)…,
//!                 pending: count, (ID, consumer name, delivery-time i64, delivery-count)…)…
//! ```
//! IDs are two LEB128 numbers (milliseconds, sequence); the groups themselves, their last
//! delivered IDs and entries-read counters come before it as XGROUP CREATE.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::codec::{Reader, Writer};
use super::redis_dump::Command;
use crate::clock::Millis;
use crate::redis::types::stream::{Consumer, Nack, Node, Stream, StreamId};
use crate::redis::types::Value;
use crate::redis::Server;

/// The record's name: not a command name, so nothing but the loader acts on it.
pub const RECORD: &[u8] = b"#stream-state";

/// The first snapshot format version whose files may hold the record.
pub const SINCE_VERSION: u32 = 2;

fn write_id(w: &mut Writer, id: StreamId) {
    w.varint(id.ms);
    w.varint(id.seq);
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId, String> {
    Ok(StreamId::new(r.varint()?, r.varint()?))
}

/// A record being written a budget at a time: a million pending entries must not hold the
/// page in one step. The stream must not change between steps (the dump's own rule).
#[derive(Debug, Default, Clone)]
pub struct Building {
    w: Writer,
    at: Part,
}

/// Where a record stands: each part goes on after the last item it wrote.
#[derive(Debug, Default, Clone)]
enum Part {
    #[default]
    Start,
    Nodes(Option<StreamId>),
    /// The group after this one (by name) is next.
    Group(Option<Vec<u8>>),
    Consumers(Vec<u8>, Option<Vec<u8>>),
    Pending(Vec<u8>, Option<StreamId>),
    Done,
}

/// Calls `each` on the items of `items` (those after `after`), each spending a unit of
/// `left`; once that is spent, `after` names the last item written and the answer is false.
pub fn resume<'a, K: Clone + 'a, V: 'a>(
    items: impl Iterator<Item = (&'a K, &'a V)>,
    after: &mut Option<K>,
    left: &mut usize,
    mut each: impl FnMut(&K, &V),
) -> bool {
    for (k, v) in items {
        if *left == 0 {
            return false;
        }
        *left -= 1;
        each(k, v);
        *after = Some(k.clone());
    }
    true
}

/// The entries of `map` after `after` (all of them for `None`).
pub fn after<'a, K: Ord, V>(
    map: &'a BTreeMap<K, V>,
    after: &Option<K>,
) -> std::collections::btree_map::Range<'a, K, V> {
    match after {
        Some(k) => map.range((Bound::Excluded(k), Bound::Unbounded)),
        None => map.range::<K, _>(..),
    }
}

impl Building {
    /// Writes about `left` more nodes, groups, consumers and pending entries (at least one
    /// when `left` is not 0); returns whether the record is complete.
    pub fn step(&mut self, s: &Stream, left: &mut usize) -> bool {
        let w = &mut self.w;
        loop {
            match &mut self.at {
                Part::Start => {
                    w.len(s.nodes().len());
                    self.at = Part::Nodes(None);
                }
                Part::Nodes(last) => {
                    let nodes = after(s.nodes(), last);
                    if !resume(nodes, last, left, |start, node| write_node(w, *start, node)) {
                        return false;
                    }
                    w.len(s.groups.len());
                    self.at = Part::Group(None);
                }
                Part::Group(last) => {
                    let Some((name, group)) = after(&s.groups, last).next() else {
                        self.at = Part::Done;
                        continue;
                    };
                    if *left == 0 {
                        return false;
                    }
                    *left -= 1;
                    w.bytes(name);
                    w.len(group.consumers.len());
                    self.at = Part::Consumers(name.clone(), None);
                }
                Part::Consumers(name, last) => {
                    let Some(group) = s.groups.get(name) else {
                        self.at = Part::Done;
                        continue;
                    };
                    let consumers = after(&group.consumers, last);
                    let done = resume(consumers, last, left, |consumer, state| {
                        w.bytes(consumer);
                        w.i64(state.seen_time);
                        w.i64(state.active_time);
                    });
                    if !done {
                        return false;
                    }
                    w.len(group.pel.len());
                    self.at = Part::Pending(std::mem::take(name), None);
                }
                Part::Pending(name, last) => {
                    let Some(group) = s.groups.get(name) else {
                        self.at = Part::Done;
                        continue;
                    };
                    let pending = after(&group.pel, last);
                    let done = resume(pending, last, left, |id, nack| {
                        write_id(w, *id);
                        w.bytes(&nack.consumer);
                        w.i64(nack.delivery_time);
                        w.varint(nack.delivery_count);
                    });
                    if !done {
                        return false;
                    }
                    self.at = Part::Group(Some(std::mem::take(name)));
                }
                Part::Done => return true,
            }
        }
    }

    /// The record, once `step` said it is complete.
    pub fn finish(self, key: &[u8]) -> Command {
        vec![RECORD.to_vec(), key.to_vec(), self.w.buf]
    }
}

fn write_node(w: &mut Writer, start: StreamId, node: &Node) {
    write_id(w, start);
    w.varint(node.live);
    w.varint(node.total);
    write_id(w, node.last);
    w.len(node.body_bytes);
    w.len(node.master_fields.len());
    for field in &node.master_fields {
        w.bytes(field);
    }
}

/// Applies a record to the stream it names in the selected database, or says why it cannot.
pub fn apply(server: &mut Server, c: &[Vec<u8>], now: Millis) -> Result<(), String> {
    let [_, key, state] = c else {
        return Err("the snapshot holds a malformed stream state".into());
    };
    let shown = String::from_utf8_lossy(key);
    let stream = match server.db().peek(key, now).map(|e| &mut e.value) {
        Some(Value::Stream(s)) => s,
        _ => {
            return Err(format!(
                "the snapshot holds a stream state for {shown:?}, which is not a stream"
            ))
        }
    };
    restore(stream, &mut Reader::new(state))
        .map_err(|why| format!("the snapshot's stream state for {shown:?} is malformed ({why})"))
}

fn restore(s: &mut Stream, r: &mut Reader<'_>) -> Result<(), String> {
    // The least bytes each item takes, so that a corrupted count is refused at once.
    let n_nodes = r.count(8)?;
    let mut nodes = BTreeMap::new();
    for _ in 0..n_nodes {
        let start = read_id(r)?;
        let live = r.varint()?;
        let total = r.varint()?;
        let last = read_id(r)?;
        let body_bytes = usize::try_from(r.varint()?).unwrap_or(usize::MAX);
        let n_fields = r.count(1)?;
        let mut master_fields = Vec::with_capacity(n_fields);
        for _ in 0..n_fields {
            master_fields.push(r.bytes()?.to_vec());
        }
        let node = Node {
            live,
            total,
            last,
            master_fields,
            body_bytes,
        };
        if nodes.insert(start, node).is_some() {
            return Err(format!("node {start} appears twice"));
        }
    }
    s.restore_nodes(nodes)?;
    let n_groups = r.count(3)?;
    for _ in 0..n_groups {
        let name = r.bytes()?;
        let n_consumers = r.count(17)?;
        let mut consumers = BTreeMap::new();
        for _ in 0..n_consumers {
            let consumer_name = r.bytes()?.to_vec();
            let consumer = Consumer {
                seen_time: r.i64()?,
                active_time: r.i64()?,
                pel: Default::default(),
            };
            if consumers.insert(consumer_name, consumer).is_some() {
                return Err("a consumer appears twice".into());
            }
        }
        let n_pending = r.count(12)?;
        let mut pel = BTreeMap::new();
        for _ in 0..n_pending {
            let id = read_id(r)?;
            let nack = Nack {
                consumer: r.bytes()?.to_vec(),
                delivery_time: r.i64()?,
                delivery_count: r.varint()?,
            };
            if pel.insert(id, nack).is_some() {
                return Err(format!("pending entry {id} appears twice"));
            }
        }
        let Some(group) = s.groups.get_mut(name) else {
            return Err(format!(
                "group {:?} was not created",
                String::from_utf8_lossy(name)
            ));
        };
        group.restore(consumers, pel)?;
    }
    if !r.is_at_end() {
        return Err("unexpected bytes after its end".into());
    }
    Ok(())
}
