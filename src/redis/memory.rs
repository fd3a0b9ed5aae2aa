//! Memory as the real server accounts it, not as this process allocates it: a key's size is
//! computed from its value's encoding the way valkey 9's `objectComputeSize` adds up its
//! allocations (the object with its key and TTL embedded, sds headers, listpacks, hash
//! table buckets, skiplist nodes, quicklist nodes), each rounded up to the allocator's size
//! class. `used_memory` is a fresh server's baseline plus these sizes, kept as a running
//! total by the keyspace, so maxmemory and eviction behave as on a real server for the same
//! data. The constants were measured against valkey-server 9.1 (glibc malloc).
//!
//! Like `MEMORY USAGE`, big collections are estimated from a few sampled elements.

use super::db::Entry;
use super::object::encoding_name;
use super::reply::{self, Reply};
use super::types::list::listpack_entry_bytes;
use super::types::{zset, Value};
use super::Server;
use crate::redis::parts::{require_part, Part};

/// `used_memory` of a fresh valkey-server 9.1 (no modules) with one client connected.
pub const BASELINE: u64 = 1_016_168;

/// What a key costs the server beyond its object and its keyspace bucket slot (measured:
/// `used_memory` grows by this much more per key than MEMORY USAGE and the table explain).
pub const KEY_OVERHEAD_BYTES: usize = 8;

/// Elements MEMORY USAGE samples when not told otherwise (`OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
pub const DEFAULT_SAMPLES: usize = 5;

/// glibc's `malloc_usable_size` for a request of `n` bytes: 16-byte chunks with an 8-byte
/// header, at least 24 usable.
pub fn usable(n: usize) -> usize {
    (n.saturating_add(8 + 15) & !15).saturating_sub(8).max(24)
}

/// An sds string's allocation: header (by length), bytes and terminator.
fn sds(len: usize) -> usize {
    let header = match len {
        0..=255 => 3,
        256..=65_535 => 5,
        _ => 9,
    };
    usable(header + len + 1)
}

/// The key as the object embeds it: a header-size byte, its own sds header, bytes, NUL.
fn embedded_key(len: usize) -> usize {
    len + if len < 32 { 3 } else { 5 }
}

/// The object header holding a pointer to its value, with key and TTL embedded.
fn object(key: &[u8], volatile: bool) -> usize {
    usable(16 + 8 * usize::from(volatile) + embedded_key(key.len()))
}

/// A hash table of `n` elements: 64-byte buckets of seven, the bucket count a power of two
/// (the keyspace of each database is one too).
pub fn table(n: usize) -> usize {
    64 * n.div_ceil(7).max(1).next_power_of_two()
}

fn listpack(entries: impl Iterator<Item = usize>) -> usize {
    usable(6 + entries.sum::<usize>() + 1)
}

/// Extrapolates the summed size of `sampled` elements to all `len` (samples 0: all).
fn extrapolate(total: usize, sampled: usize, len: usize) -> usize {
    total
        .checked_div(sampled)
        .map_or(0, |each| each.saturating_mul(len))
}

fn sample_count(samples: usize, len: usize) -> usize {
    if samples == 0 {
        len
    } else {
        samples.min(len)
    }
}

/// A skiplist node of a zset member: the node with its embedded sds, one 16-byte level per
/// level, averaged over the levels Redis draws (each further level with probability 1/4).
fn skiplist_node(len: usize) -> usize {
    // Every level's request rounds to the same 16-byte class shifted by the level, so the
    // expectation depends on the class of `len + 34` alone: precomputed for short members
    // (MEMORY USAGE and the keyspace's accounting run it on every write to a big set).
    let class = (len + 57) >> 4;
    SKIPLIST_NODES
        .get(class)
        .copied()
        .unwrap_or_else(|| skiplist_node_of_class(class))
}

const SKIPLIST_NODES: [usize; 64] = {
    let mut table = [0; 64];
    let mut class = 1;
    while class < 64 {
        table[class] = skiplist_node_of_class(class);
        class += 1;
    }
    table
};

/// The expected skiplist node for members whose `len + 34` lies in size class `class`
/// (`usable` of it is `16 * class - 8`).
const fn skiplist_node_of_class(class: usize) -> usize {
    let mut expected = 0.0;
    let mut chance = 0.75;
    let mut level = 0;
    while level < 8 {
        expected += chance * (16 * class - 8 + 16 * level) as f64;
        chance *= 0.25;
        level += 1;
    }
    expected as usize
}

/// The bytes `entry`, stored under `key`, takes on a real server, sampling `samples`
/// elements of big collections (0: every element).
pub fn entry_size(key: &[u8], entry: &Entry, samples: usize) -> usize {
    let volatile = entry.expire_at.is_some();
    let ttl = 8 * usize::from(volatile);
    match &entry.value {
        // RedisJSON reports its own tree's allocations; the sandbox's estimate of a document's
        // nodes stands in for them (not checked against the module).
        #[cfg(feature = "json")]
        Value::Json(doc) => object(key, volatile) + super::types::json::size_of(doc) as usize,
        Value::Str(bytes) => match encoding_name(key, entry) {
            "int" => object(key, volatile),
            "embstr" => usable(8 + ttl + embedded_key(key.len()) + bytes.len() + 4),
            _ => object(key, volatile) + sds(bytes.len()),
        },
        Value::List(list) => {
            let (count, nodes) = list.packed_nodes();
            let base = object(key, volatile);
            if list.encoding() == "listpack" {
                return base + nodes.map(usable).sum::<usize>();
            }
            let take = sample_count(samples, count);
            let sampled: usize = nodes.take(take).map(|b| usable(b) + usable(32)).sum();
            base + usable(40) + extrapolate(sampled, take, count)
        }
        Value::Hash(hash) => {
            let base = object(key, volatile);
            if hash.encoding() == "listpack" {
                let entries = hash
                    .iter()
                    .map(|(f, v)| listpack_entry_bytes(f) + listpack_entry_bytes(v));
                return base + listpack(entries);
            }
            let take = sample_count(samples, hash.len());
            let sampled: usize = (0..take)
                .filter_map(|i| hash.at(i))
                .map(|(f, v)| usable(f.len() + v.len() + 8))
                .sum();
            base + usable(48) + table(hash.len()) + extrapolate(sampled, take, hash.len())
        }
        Value::Set(set) => {
            let base = object(key, volatile);
            let len = set.len();
            match set.encoding() {
                "intset" => {
                    let width = (0..len)
                        .filter_map(|i| set.member_at(i))
                        .filter_map(|m| super::util::parse_i64(&m))
                        .map(|n| {
                            if i16::try_from(n).is_ok() {
                                2
                            } else if i32::try_from(n).is_ok() {
                                4
                            } else {
                                8
                            }
                        })
                        .max()
                        .unwrap_or(2);
                    base + usable(8 + width * len)
                }
                "listpack" => {
                    let entries = (0..len)
                        .filter_map(|i| set.member_at(i))
                        .map(|m| listpack_entry_bytes(&m));
                    base + listpack(entries)
                }
                _ => {
                    let take = sample_count(samples, len);
                    let sampled: usize = (0..take)
                        .filter_map(|i| set.member_at(i))
                        .map(|m| sds(m.len()))
                        .sum();
                    base + usable(48) + table(len) + extrapolate(sampled, take, len)
                }
            }
        }
        Value::ZSet(z) => {
            let base = object(key, volatile);
            if z.encoding() == "listpack" {
                let entries = z.iter().map(|(member, score)| {
                    listpack_entry_bytes(member)
                        + listpack_entry_bytes(zset::format_score(score).as_bytes())
                });
                return base + listpack(entries);
            }
            let take = sample_count(samples, z.len());
            let sampled: usize = z
                .iter()
                .take(take)
                .map(|(m, _)| skiplist_node(m.len()))
                .sum();
            base + usable(48) + table(z.len()) + extrapolate(sampled, take, z.len())
        }
        #[cfg(feature = "streams")]
        Value::Stream(stream) => {
            // The newest node's listpack is preallocated at stream-node-max-bytes (4096);
            // full nodes hold 100 entries, each about its values plus 10 bytes of IDs,
            // flags and counts (fields repeat the node's master entry).
            let base = object(key, volatile) + 4_304;
            let len = stream.len();
            let take = sample_count(samples, len);
            let sampled: usize = stream
                .range(
                    super::types::stream::StreamId::MIN,
                    super::types::stream::StreamId::MAX,
                    false,
                )
                .take(take)
                .map(|(_, fields)| {
                    fields
                        .iter()
                        .skip(1)
                        .step_by(2)
                        .map(|v| listpack_entry_bytes(v))
                        .sum::<usize>()
                        + 10
                })
                .sum();
            let full_nodes = len.saturating_sub(1) / 100;
            let per_entry = sampled / take.max(1);
            base + full_nodes * (100 * per_entry + 120) + 120 * stream.groups.len()
        }
    }
}

/// The size the keyspace accounts for `entry`: what MEMORY USAGE reports plus the key's
/// own overhead (the table's buckets are counted per database, from its length).
pub fn accounted_size(key: &[u8], entry: &Entry) -> usize {
    entry_size(key, entry, DEFAULT_SAMPLES) + KEY_OVERHEAD_BYTES
}

/// A byte count as INFO's `_human` fields print it (`bytesToHuman`).
pub fn human(n: u64) -> String {
    let n = n as f64;
    let units = [
        (1024f64.powi(5), "P"),
        (1024f64.powi(4), "T"),
        (1024f64.powi(3), "G"),
        (1024f64.powi(2), "M"),
        (1024.0, "K"),
    ];
    for (size, unit) in units {
        if n >= size {
            return format!("{:.2}{unit}", n / size);
        }
    }
    format!("{}B", n as u64)
}

/// MEMORY (no subcommand)
pub fn container(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    super::commands::wrong_arity_for(argv)
}

/// MEMORY USAGE key [SAMPLES count]
pub fn usage(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    let mut samples = DEFAULT_SAMPLES;
    let mut rest = argv[3..].iter();
    while let Some(arg) = rest.next() {
        if !arg.eq_ignore_ascii_case(b"samples") {
            return reply::error(reply::SYNTAX_ERROR);
        }
        let Some(count) = rest.next() else {
            return reply::error(reply::SYNTAX_ERROR);
        };
        match super::util::parse_i64(count) {
            Some(n) if n >= 0 => samples = usize::try_from(n).unwrap_or(usize::MAX),
            Some(_) => return reply::error(reply::SYNTAX_ERROR),
            None => return reply::error(reply::NOT_INTEGER),
        }
    }
    let now = server.now;
    let key = &argv[2];
    match server.db().peek(key, now) {
        None => Reply::Nil,
        Some(entry) => Reply::Integer(entry_size(key, entry, samples) as i64),
    }
}

/// MEMORY DOCTOR: a server under 5 MB declines to diagnose; above, the sandbox has none of
/// the problems the doctor looks for (fragmentation, big client buffers, ...).
pub fn doctor(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    if server.used_memory() < 5 * 1024 * 1024 {
        return Reply::bulk("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n");
    }
    Reply::bulk("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
}

/// MEMORY MALLOC-STATS: what a server built without jemalloc answers.
pub fn malloc_stats(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    Reply::bulk("Stats not supported for the current allocator")
}

/// MEMORY PURGE: there is no allocator to ask for pages back.
pub fn purge(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    Reply::ok()
}

/// MEMORY STATS: the main figures, in the real reply's order.
pub fn stats(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    let used = server.used_memory();
    let keys: usize = server.dbs.iter().map(|db| db.len()).sum();
    let dataset = used.saturating_sub(BASELINE);
    let int = |n: u64| Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    let mut out = vec![
        Reply::bulk("peak.allocated"),
        int(server.stats.peak_memory.max(used)),
        Reply::bulk("total.allocated"),
        int(used),
        Reply::bulk("startup.allocated"),
        int(BASELINE),
        Reply::bulk("keys.count"),
        int(keys as u64),
    ];
    if keys > 0 {
        out.extend([
            Reply::bulk("keys.bytes-per-key"),
            int(dataset / keys as u64),
        ]);
    }
    out.extend([
        Reply::bulk("dataset.bytes"),
        int(dataset),
        Reply::bulk("dataset.percentage"),
        Reply::bulk(format!(
            "{}",
            if used > 0 {
                dataset as f64 * 100.0 / used as f64
            } else {
                0.0
            }
        )),
    ]);
    Reply::Array(out)
}

/// MEMORY HELP
pub fn help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    super::object::help_reply(
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiplist_node_by_class_is_the_expectation_over_levels() {
        for len in [0, 1, 7, 8, 22, 23, 24, 100, 900, 1000, 5000] {
            let mut expected = 0.0;
            let mut chance = 0.75;
            for level in 0..8 {
                expected += chance * usable(len + 34 + 16 * level) as f64;
                chance *= 0.25;
            }
            assert_eq!(skiplist_node(len), expected as usize, "{len}");
        }
    }

    #[test]
    fn allocations_round_to_glibc_chunks() {
        let cases = [
            (0, 24),
            (24, 24),
            (25, 40),
            (40, 40),
            (41, 56),
            (120, 120),
            (121, 136),
        ];
        for (n, expected) in cases {
            assert_eq!(usable(n), expected, "{n}");
        }
    }
}
