//! The page's stepped save held across host calls (`wasm::Playground` keeps one), and the
//! rule that drops it: a `Saving` holds positions in the keyspace and the store, not borrows,
//! so a change between two steps would give a file that is a mixture of two states.
//!
//! # Why the rule is airtight
//!
//! A completed save must have the bytes of a one-call save at `begin`'s host time. The save
//! reads the engines (`redis::Server`, `mongo::Shell`) and the clock, and writes the header
//! (clock, host data, CONFIG) at `begin`. So it is enough that nothing those hold changes
//! between `begin` and the last step, and the host reaches them only through the binding:
//! - every binding method that takes the sandbox `&mut` and can change what a snapshot
//!   records calls `changed` (commands and statements of every kind, lesson checks, the
//!   pipeline view's re-run, clients opened and closed, published messages delivered, the
//!   clock's pause, resume, advance and speed, the Mongo memory limit, a snapshot loaded).
//!   The drains the page polls every frame (`redisPending`, `redisPublished`,
//!   `redisScriptLog`, `mongoExplained`) only take from queues no snapshot holds, and
//!   `background_tests.rs` checks every `&mut self` method of the binding against this;
//! - methods that take the sandbox `&self` cannot change it but through interior
//!   mutability, and the engines' is all caches or scratch that no snapshot holds: the
//!   Mongo store's memory accounting (atomics), the shell's plan cache and live cursors, the
//!   search indexes' IDF and stem caches, the Lua VM's arena (only while a script runs);
//! - the clock's tick, which the page makes several times a second, would never let a large
//!   save finish if it counted as a change. It changes the sandbox only through the active
//!   expiry of keys and hash fields, blocked clients timed out (whose queued commands then
//!   run), a busy script run again (all counted by `redis::Server::timed_changes`, which
//!   never goes back) and the TTL monitor's deletions (which `mongo::Shell::tick` returns).
//!   A tick after which all of these stand still changed nothing a snapshot holds (eviction
//!   runs only before a command, never in a tick).
//! - replacing the engines (a snapshot loaded) drops the save; a new binding instance (the
//!   page moving the sandbox into the full module) starts with none.

use super::stepped::Saving;
use crate::clock::{Clock, Millis};
use crate::{mongo, redis};

/// A stepped save that may be under way.
#[derive(Debug, Default)]
pub struct Background {
    saving: Option<Saving>,
    /// The last part was handed: the header comes next.
    tail_taken: bool,
}

/// What a step of the background save came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// More steps are needed.
    Pending,
    /// The next bytes of the file, to be stored after the ones before: a part of the size
    /// asked for, or a shorter one (maybe empty) that is the last.
    Part(Vec<u8>),
    /// The file's first bytes, which the first part holds as zeros: the save is complete.
    Header(Vec<u8>),
    /// The sandbox changed since `begin` (or no save was begun): the save is dropped.
    Changed,
}

impl Background {
    /// Starts a save of the sandbox at host time `host_ms` (dropping any under way).
    pub fn begin(
        &mut self,
        redis: &redis::Server,
        clock: &Clock,
        host_data: &[u8],
        host_ms: Millis,
    ) {
        self.saving = Some(Saving::begin(redis, clock, host_data, host_ms));
        self.tail_taken = false;
    }

    /// Hands the next part of `part_bytes` (at least the header's size) once that many bytes
    /// are written; otherwise writes up to `budget` more units. One or the other, so that a
    /// call copies at most a part: the host sizes `budget` by the time the writing calls take.
    pub fn step(
        &mut self,
        redis: &redis::Server,
        mongo: &mongo::Shell,
        budget: usize,
        part_bytes: usize,
    ) -> Step {
        let Some(saving) = self.saving.as_mut() else {
            return Step::Changed;
        };
        let part_bytes = part_bytes.max(super::HEADER_LEN);
        if saving.written() >= part_bytes {
            return Step::Part(saving.take(part_bytes));
        }
        if self.tail_taken {
            let header = saving.header();
            self.saving = None;
            return Step::Header(header);
        }
        if saving.step(redis, mongo, budget) && saving.written() < part_bytes {
            self.tail_taken = true;
            return Step::Part(saving.take(part_bytes));
        }
        Step::Pending
    }

    /// The sandbox may have changed: the save under way, if any, is dropped.
    pub fn changed(&mut self) {
        self.saving = None;
    }

    /// Whether a save is under way.
    pub fn is_saving(&self) -> bool {
        self.saving.is_some()
    }

    /// The clock's tick at sandbox time `now`: keys and hash fields expire, blocked clients
    /// time out, the TTL monitor deletes. Drops the save under way only when it changed
    /// something (see the module's comment). Returns the keys and documents it removed.
    pub fn tick(
        &mut self,
        redis: &mut redis::Server,
        mongo: &mut mongo::Shell,
        now: Millis,
    ) -> usize {
        let before = redis.timed_changes;
        let removed = redis.tick(now).len() + mongo.tick(now);
        if removed > 0 || redis.timed_changes != before {
            self.changed();
        }
        removed
    }
}
