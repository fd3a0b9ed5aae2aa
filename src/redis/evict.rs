//! maxmemory and eviction (Redis's `evict.c`): before each command, while the modelled
//! `used_memory` is above `maxmemory`, keys are sampled into a pool of the best candidates
//! seen so far and the best one goes. LRU and LFU are approximations exactly as in Redis:
//! `maxmemory-samples` random keys per database per round, never a sort of the keyspace.

use super::config::Policy;
use super::db::Tracking;
use super::Server;

/// `EVPOOL_SIZE`
pub const POOL_SIZE: usize = 16;

/// The real server's reply when a write would need memory it may not take.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Evictions a single command may make before giving up (a guard; each eviction frees
/// at least a key's worth of memory, so the loop ends well before this).
const MAX_EVICTIONS_PER_COMMAND: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    /// Higher is a better victim: idle milliseconds, 255 - LFU counter, or how soon the
    /// key expires.
    score: u64,
    db: usize,
    key: Vec<u8>,
}

/// `evictionPoolEntry[EVPOOL_SIZE]`: kept sorted by score, ascending, across commands.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    slots: Vec<Candidate>,
}

impl Pool {
    /// `evictionPoolPopulate`'s insertion: a candidate enters if there is room or if it
    /// beats the worst one held.
    fn offer(&mut self, candidate: Candidate) {
        if let Some(same) = self
            .slots
            .iter()
            .position(|c| c.db == candidate.db && c.key == candidate.key)
        {
            self.slots.remove(same);
        }
        let at = self.slots.partition_point(|c| c.score < candidate.score);
        if self.slots.len() < POOL_SIZE {
            self.slots.insert(at, candidate);
        } else if at > 0 {
            self.slots.remove(0);
            self.slots.insert(at - 1, candidate);
        }
    }

    pub fn clear(&mut self) {
        self.slots.clear();
    }
}

/// How good a victim `entry` is under `policy` at `now`.
fn score(policy: Policy, tracking: Tracking, entry: &super::db::Entry, now: u64) -> u64 {
    match policy {
        Policy::VolatileTtl => u64::MAX - entry.expire_at.unwrap_or(u64::MAX),
        _ if policy.is_lfu() => 255 - tracking.lfu_count(entry.accessed, now),
        _ => now.saturating_sub(entry.accessed),
    }
}

impl Server {
    /// Modelled `used_memory`: a fresh server's plus every key's accounted size.
    pub fn used_memory(&self) -> u64 {
        let keys: usize = self.dbs.iter().map(|db| db.used_bytes()).sum();
        super::memory::BASELINE + keys as u64
    }

    /// Whether memory is over the limit (the check every command makes first).
    pub fn over_maxmemory(&self) -> bool {
        self.config.maxmemory > 0 && self.used_memory() > self.config.maxmemory
    }

    /// `performEvictions`: evicts until memory is back under `maxmemory`. False when it
    /// cannot (noeviction, or no key the policy may take), which refuses `denyoom` commands.
    pub fn perform_evictions(&mut self) -> bool {
        let mut evicted = 0;
        while self.over_maxmemory() {
            if self.config.policy == Policy::NoEviction || evicted >= MAX_EVICTIONS_PER_COMMAND {
                return false;
            }
            let Some((db, key)) = self.choose_victim() else {
                return false;
            };
            self.dbs[db].remove(&key);
            self.on_key_evicted(db, key);
            evicted += 1;
        }
        true
    }

    fn choose_victim(&mut self) -> Option<(usize, Vec<u8>)> {
        let policy = self.config.policy;
        let volatile = policy.is_volatile();
        if matches!(policy, Policy::AllkeysRandom | Policy::VolatileRandom) {
            // Like Redis, databases take turns, so one database is not emptied first.
            for step in 0..self.dbs.len() {
                let db = (self.next_eviction_db + step) % self.dbs.len();
                let r = self.random();
                if let Some((key, _)) = self.dbs[db].pick(r, volatile) {
                    let key = key.to_vec();
                    self.next_eviction_db = (db + 1) % self.dbs.len();
                    return Some((db, key));
                }
            }
            return None;
        }
        loop {
            let now = self.now;
            let samples = usize::try_from(self.config.samples).unwrap_or(5).max(1);
            let mut any = false;
            for db in 0..self.dbs.len() {
                let pool_volatile = if volatile {
                    self.dbs[db].volatile_count()
                } else {
                    self.dbs[db].len()
                };
                if pool_volatile == 0 {
                    continue;
                }
                any = true;
                for _ in 0..samples.min(pool_volatile) {
                    let r = self.random();
                    let database = &self.dbs[db];
                    if let Some((key, entry)) = database.pick(r, volatile) {
                        let candidate = Candidate {
                            score: score(policy, database.tracking, entry, now),
                            db,
                            key: key.to_vec(),
                        };
                        self.eviction_pool.offer(candidate);
                    }
                }
            }
            if !any {
                return None;
            }
            // The best candidate still present (keys may have gone since they were pooled).
            while let Some(best) = self.eviction_pool.slots.pop() {
                let alive = self.dbs[best.db]
                    .stored(&best.key)
                    .is_some_and(|e| !volatile || e.expire_at.is_some());
                if alive {
                    return Some((best.db, best.key));
                }
            }
        }
    }

    /// Every eviction passes here: counted for INFO (`evicted_keys`) and remembered for the
    /// page, which marks the key as evicted. Keyspace notifications (`evicted` events)
    /// belong here too.
    pub fn on_key_evicted(&mut self, db: usize, key: Vec<u8>) {
        self.stats.evicted_keys += 1;
        self.stats.remember_eviction(db, key);
    }

    /// Brings the keyspaces in line with a changed configuration (CONFIG SET).
    pub fn apply_config(&mut self, was_lfu: bool) {
        let tracking = if self.config.policy.is_lfu() {
            Tracking::Lfu {
                log_factor: u32::try_from(self.config.lfu_log_factor).unwrap_or(u32::MAX),
                decay_minutes: u32::try_from(self.config.lfu_decay_time).unwrap_or(u32::MAX),
            }
        } else {
            Tracking::Lru
        };
        for db in &mut self.dbs {
            db.tracking = tracking;
        }
        if was_lfu != self.config.policy.is_lfu() {
            self.eviction_pool.clear();
        }
    }
}
