//! A save that goes a budget at a time, so that the page can write a large sandbox without
//! freezing: `Saving::begin` writes the head, each `step` writes a few more keys, items of a
//! collection (a key of a million members takes many steps), documents or kilobytes, until
//! the file is written. Its bytes can be taken (`take`) as they are written, a part at a time,
//! so that no call hands the host the whole file: the header holds the body's length and
//! checksum, known only at the end, so the file starts with room for it and `header` gives
//! it last. The one-call `save` is this same walk with no limit, taking the whole file at the
//! end, so a completed stepped save has exactly the bytes of a one-call save of the same
//! state: the same header, checksum and body.
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
/// The encoded commands are kept in pieces of about this size: their count precedes them in
/// the file, so all must be encoded before the first is copied, and each piece is freed once
/// copied instead of the whole list staying until the end beside the file.
const COMMAND_PIECE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Keys become commands, encoded into `commands`.
    Redis,
    /// The encoded commands are appended to the body, from this piece and offset in it on.
    Copy(usize, usize),
    /// The GEOADD keys, the shell's state, then the store's documents.
    Mongo,
    /// Every byte is written.
    Done,
}

/// A snapshot being written.
#[derive(Debug)]
pub struct Saving {
    now: Millis,
    /// The file written, from `start` on not yet taken: room for the header, then the body.
    out: Vec<u8>,
    start: usize,
    /// Bytes of the file taken so far.
    taken: usize,
    cursor: Cursor,
    batch: Dump,
    commands: Writer,
    /// The encoded commands' pieces; those before `Copy`'s piece are copied and freed.
    pieces: Vec<Vec<u8>>,
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
        // Room for what is written now, the page's data (megabytes after a giant paste) included.
        let mut buf = Vec::with_capacity(HEADER_LEN + 64 + host_data.len());
        buf.resize(HEADER_LEN, 0);
        let mut w = Writer { buf };
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
            start: 0,
            taken: 0,
            cursor: Cursor::default(),
            batch: Dump::default(),
            commands: Writer::default(),
            pieces: Vec::new(),
            n_commands: 0,
            geo_keys: Vec::new(),
            #[cfg(feature = "mongo")]
            store: None,
            crc: Crc32::default(),
            stage: Stage::Redis,
        }
    }

    /// Writes up to `budget` more units (at least one); true once every byte is written.
    pub fn step(&mut self, redis: &redis::Server, mongo: &mongo::Shell, budget: usize) -> bool {
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
                if done || self.commands.buf.len() >= COMMAND_PIECE_BYTES {
                    // Without its spare room: a piece that grew by doubling can be half empty.
                    let mut piece = std::mem::take(&mut self.commands.buf);
                    piece.shrink_to_fit();
                    self.pieces.push(piece);
                }
                if done {
                    let mut w = Writer {
                        buf: std::mem::take(&mut self.out),
                    };
                    w.len(self.n_commands);
                    self.out = w.buf;
                    self.stage = Stage::Copy(0, 0);
                }
            }
            Stage::Copy(mut piece, mut from) => {
                // At most a piece a step, so that what is written and not yet taken stays small.
                let mut left = budget
                    .saturating_mul(BYTES_PER_UNIT)
                    .min(COMMAND_PIECE_BYTES);
                while let Some(bytes) = self.pieces.get_mut(piece) {
                    if left == 0 {
                        break;
                    }
                    let end = from.saturating_add(left).min(bytes.len());
                    self.out
                        .extend_from_slice(bytes.get(from..end).unwrap_or_default());
                    left = left.saturating_sub(end.saturating_sub(from));
                    from = end;
                    if end >= bytes.len() {
                        *bytes = Vec::new();
                        piece += 1;
                        from = 0;
                    }
                }
                self.stage = if piece >= self.pieces.len() {
                    self.pieces = Vec::new();
                    Stage::Mongo
                } else {
                    Stage::Copy(piece, from)
                };
            }
            Stage::Mongo => {
                let mut w = Writer {
                    buf: std::mem::take(&mut self.out),
                };
                let done = self.mongo_step(&mut w, mongo, budget);
                self.out = w.buf;
                if done {
                    self.stage = Stage::Done;
                }
            }
            Stage::Done => {}
        }
        self.stage == Stage::Done
    }

    /// Bytes written and not yet taken.
    pub fn written(&self) -> usize {
        self.out.len().saturating_sub(self.start)
    }

    /// The next `max` bytes written (or all there are, if fewer), which the host stores in
    /// order; the first `HEADER_LEN` bytes of the file are zeros, for `header`.
    pub fn take(&mut self, max: usize) -> Vec<u8> {
        let end = self.start.saturating_add(max).min(self.out.len());
        let part = self.out.get(self.start..end).unwrap_or_default().to_vec();
        self.checksum(&part);
        self.start = end;
        // What is left moves to the front once it is no longer than what was taken before
        // it: each byte moves about once, however many parts a step wrote.
        if self.start.saturating_mul(2) >= self.out.len() {
            self.out = self.out.get(self.start..).unwrap_or_default().to_vec();
            self.start = 0;
        }
        part
    }

    /// Counts `bytes`, the next of the file, as taken.
    fn checksum(&mut self, bytes: &[u8]) {
        let body_from = HEADER_LEN.saturating_sub(self.taken);
        self.crc.update(bytes.get(body_from..).unwrap_or_default());
        self.taken = self.taken.saturating_add(bytes.len());
    }

    /// The file's first `HEADER_LEN` bytes, once every byte was written and taken: the
    /// magic, the version, the body's length and its checksum.
    pub fn header(&self) -> Vec<u8> {
        let mut w = Writer {
            buf: MAGIC.to_vec(),
        };
        w.u32(VERSION);
        w.u64(self.taken.saturating_sub(HEADER_LEN) as u64);
        w.u32(self.crc.finish());
        w.buf
    }

    /// The whole file, once `step` said every byte is written and none was taken: the
    /// one-call save's, with no copy of it.
    pub fn finish(mut self) -> Vec<u8> {
        let mut file = std::mem::take(&mut self.out);
        self.checksum(&file);
        for (room, byte) in file.iter_mut().zip(&self.header()) {
            *room = *byte;
        }
        file
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
}
