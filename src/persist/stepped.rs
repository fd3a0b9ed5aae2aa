//! A save that goes a budget at a time, so that the page can write a large sandbox without
//! freezing: `Saving::begin` writes the head, each `step` writes a few more keys, items of a
//! collection (a key of a million members takes many steps), documents or kilobytes, and the
//! last one returns the file. The one-call `save` is this same walk
//! with no limit, so a completed stepped save has exactly the bytes of a one-call save of the
//! same state: the same header, checksum and body.
//!
//! The sandbox must not change between steps (the walk holds positions, not borrows); the
//! caller keeps a generation number and drops the save when it moved.

use super::codec::{Crc32, Writer};
#[cfg(not(feature = "mongo"))]
use super::fresh_mongo_part;
#[cfg(feature = "mongo")]
use super::mongo_dump::{self, StoreCursor};
use super::redis_dump::{Cursor, Dump, Times};
use super::{HEADER_LEN, MAGIC, VERSION};
use crate::clock::{Clock, Millis};
use crate::{mongo, redis};

/// Bytes one unit of budget copies (a key, an item of a collection or a document is one
/// unit too).
const BYTES_PER_UNIT: usize = 4096;
/// Bytes one unit of budget checksums: the CRC costs about as much per byte as copying does
/// per eight, so a unit of either takes about as long as a key. The page sizes its budget by
/// the time the last step took; units of unequal cost made the first checksum step after a
/// run of cheap copy steps take a tenth of a second for a million keys.
const CHECKSUM_BYTES_PER_UNIT: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Keys become commands, encoded into `commands`.
    Redis,
    /// The encoded commands are appended to the body, from this offset on.
    Copy(usize),
    /// The GEOADD keys, the shell's state, then the store's documents.
    Mongo,
    /// The checksum of the body, from this offset on.
    Checksum(usize),
    Done,
}

/// A snapshot being written.
#[derive(Debug)]
pub struct Saving {
    now: Millis,
    /// The file so far: room for the header, then the body.
    out: Vec<u8>,
    cursor: Cursor,
    batch: Dump,
    commands: Writer,
    n_commands: usize,
    geo_keys: Vec<(usize, Vec<u8>)>,
    #[cfg(feature = "mongo")]
    store: Option<StoreCursor>,
    crc: Crc32,
    stage: Stage,
}

impl Saving {
    /// Starts the snapshot of the sandbox at host time `host_ms`: the clock, `host_data` and
    /// the changed CONFIG parameters are written now.
    pub fn begin(
        redis: &redis::Server,
        clock: &Clock,
        host_data: &[u8],
        host_ms: Millis,
    ) -> Saving {
        let mut w = Writer {
            buf: vec![0; HEADER_LEN],
        };
        let (base_host, base_virtual, speed, paused) = clock.parts();
        w.u64(base_host);
        w.u64(base_virtual);
        w.u32(speed);
        match paused {
            Some(t) => {
                w.u8(1);
                w.u64(t);
            }
            None => w.u8(0),
        }
        w.bytes(host_data);
        let changed = redis::config::changed(&redis.config);
        w.len(changed.len());
        for (name, value) in changed {
            w.str(name);
            w.str(&value);
        }
        Saving {
            now: clock.now(host_ms),
            out: w.buf,
            cursor: Cursor::default(),
            batch: Dump::default(),
            commands: Writer::default(),
            n_commands: 0,
            geo_keys: Vec::new(),
            #[cfg(feature = "mongo")]
            store: None,
            crc: Crc32::default(),
            stage: Stage::Redis,
        }
    }

    /// Writes up to `budget` more units (at least one); returns the file once it is
    /// complete (and then `None` again).
    pub fn step(
        &mut self,
        redis: &redis::Server,
        mongo: &mongo::Shell,
        budget: usize,
    ) -> Option<Vec<u8>> {
        let budget = budget.max(1);
        match self.stage {
            Stage::Redis => {
                let done =
                    self.cursor
                        .next(redis, self.now, Times::Absolute, budget, &mut self.batch);
                self.n_commands += self.batch.commands.len();
                for c in self.batch.commands.drain(..) {
                    self.commands.len(c.len());
                    for arg in &c {
                        self.commands.bytes(arg);
                    }
                }
                self.geo_keys.append(&mut self.batch.geo_keys);
                if done {
                    let mut w = Writer {
                        buf: std::mem::take(&mut self.out),
                    };
                    w.len(self.n_commands);
                    self.out = w.buf;
                    self.out.reserve(self.commands.buf.len());
                    self.stage = Stage::Copy(0);
                }
            }
            Stage::Copy(from) => {
                let end = from
                    .saturating_add(budget.saturating_mul(BYTES_PER_UNIT))
                    .min(self.commands.buf.len());
                self.out
                    .extend_from_slice(self.commands.buf.get(from..end).unwrap_or_default());
                self.stage = if end >= self.commands.buf.len() {
                    self.commands = Writer::default();
                    Stage::Mongo
                } else {
                    Stage::Copy(end)
                };
            }
            Stage::Mongo => {
                let mut w = Writer {
                    buf: std::mem::take(&mut self.out),
                };
                let done = self.mongo_step(&mut w, mongo, budget);
                self.out = w.buf;
                if done {
                    self.stage = Stage::Checksum(HEADER_LEN);
                }
            }
            Stage::Checksum(from) => {
                let end = from
                    .saturating_add(budget.saturating_mul(CHECKSUM_BYTES_PER_UNIT))
                    .min(self.out.len());
                self.crc.update(self.out.get(from..end).unwrap_or_default());
                if end < self.out.len() {
                    self.stage = Stage::Checksum(end);
                } else {
                    return Some(self.finish());
                }
            }
            Stage::Done => {}
        }
        None
    }

    #[cfg(feature = "mongo")]
    fn mongo_step(&mut self, w: &mut Writer, mongo: &mongo::Shell, budget: usize) -> bool {
        let store = match &mut self.store {
            Some(store) => store,
            None => {
                w.len(self.geo_keys.len());
                for (db, key) in &self.geo_keys {
                    w.len(*db);
                    w.bytes(key);
                }
                let (db, (process, counter)) = mongo.session_state();
                w.str(db);
                w.buf.extend_from_slice(&process);
                w.u32(counter);
                self.store.insert(StoreCursor::default())
            }
        };
        if !store.next(w, mongo.store(), budget) {
            return false;
        }
        mongo_dump::write_search_indexes(w, mongo.store());
        true
    }

    #[cfg(not(feature = "mongo"))]
    fn mongo_step(&mut self, w: &mut Writer, _mongo: &mongo::Shell, _budget: usize) -> bool {
        w.len(self.geo_keys.len());
        for (db, key) in &self.geo_keys {
            w.len(*db);
            w.bytes(key);
        }
        w.buf.extend_from_slice(&fresh_mongo_part(true));
        true
    }

    fn finish(&mut self) -> Vec<u8> {
        self.stage = Stage::Done;
        let mut out = std::mem::take(&mut self.out);
        let body_len = (out.len().saturating_sub(HEADER_LEN)) as u64;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&body_len.to_le_bytes());
        header.extend_from_slice(&self.crc.finish().to_le_bytes());
        if let Some(room) = out.get_mut(..HEADER_LEN) {
            room.copy_from_slice(&header);
        }
        out
    }
}
