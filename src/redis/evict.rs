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
        super::notify::key_evicted(self, db, &key);
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
        let flags = u32::try_from(self.config.notify_keyspace_events).unwrap_or(0);
        if flags != self.notify_flags {
            self.set_notify_flags(flags);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::cli::split_args;
    use super::*;
    use crate::clock::Millis;

    const T0: Millis = 1_700_000_000_000;

    fn run(server: &mut Server, line: &str, now: Millis) -> String {
        let argv = split_args(line).unwrap_or_default();
        server.execute(&argv, now).to_cli_text()
    }

    /// A server holding `old` keys written at T0 (every other one with a TTL when `ttls`,
    /// the TTL growing with the key's number), its maxmemory just above what they take.
    fn full_server(policy: &str, old: usize, ttls: bool) -> Server {
        let mut s = Server::new();
        run(&mut s, &format!("CONFIG SET maxmemory-policy {policy}"), T0);
        for i in 0..old {
            let ttl = if ttls && i % 2 == 0 {
                format!(" EX {}", 1_000 + i)
            } else {
                String::new()
            };
            run(&mut s, &format!("SET old:{i} {:0>40}{ttl}", i), T0);
        }
        let limit = s.used_memory() + 64;
        run(&mut s, &format!("CONFIG SET maxmemory {limit}"), T0);
        s
    }

    fn survivors(s: &mut Server, keys: impl Iterator<Item = String>, now: Millis) -> usize {
        keys.filter(|k| run(s, &format!("EXISTS {k}"), now) == "(integer) 1\n")
            .count()
    }

    /// Writes `n` new keys at `now`, each pushing memory over the limit.
    fn write_new(s: &mut Server, n: usize, now: Millis) -> Vec<String> {
        (0..n)
            .map(|i| run(s, &format!("SET new:{i} {:0>40}", i), now))
            .collect()
    }

    #[test]
    fn allkeys_lru_keeps_recently_read_keys() {
        let mut s = full_server("allkeys-lru", 1_000, false);
        for i in 0..500 {
            run(&mut s, &format!("GET old:{i}"), T0 + 10_000);
        }
        // Room for about 250 of the 500 keys nobody read.
        write_new(&mut s, 250, T0 + 20_000);
        let read = survivors(&mut s, (0..500).map(|i| format!("old:{i}")), T0 + 20_000);
        let unread = survivors(
            &mut s,
            (500..1_000).map(|i| format!("old:{i}")),
            T0 + 20_000,
        );
        assert!(read >= 450, "only {read}/500 recently read keys survived");
        assert!(unread < 300, "{unread}/500 unread keys survived");
        assert!(s.stats.evicted_keys >= 240);
        assert!(s.used_memory() <= s.config.maxmemory + 200);
    }

    #[test]
    fn allkeys_lfu_keeps_frequently_read_keys() {
        let mut s = full_server("allkeys-lfu", 1_000, false);
        for round in 0..30 {
            for i in 0..300 {
                run(&mut s, &format!("GET old:{i}"), T0 + 1_000 + round);
            }
        }
        let freq = run(&mut s, "OBJECT FREQ old:0", T0 + 2_000);
        let hot: i64 = freq
            .trim()
            .trim_start_matches("(integer) ")
            .parse()
            .unwrap_or(0);
        assert!(hot > LFU_COUNTER_START, "{freq}");
        assert_eq!(
            run(&mut s, "OBJECT FREQ old:999", T0 + 2_000),
            "(integer) 5\n"
        );
        write_new(&mut s, 500, T0 + 3_000);
        let frequent = survivors(&mut s, (0..300).map(|i| format!("old:{i}")), T0 + 3_000);
        assert!(
            frequent >= 270,
            "only {frequent}/300 frequently read keys survived"
        );
    }

    const LFU_COUNTER_START: i64 = 5;

    #[test]
    fn lfu_counters_decay_with_idle_minutes() {
        let mut s = Server::new();
        run(&mut s, "CONFIG SET maxmemory-policy allkeys-lfu", T0);
        run(&mut s, "CONFIG SET lfu-log-factor 0", T0);
        run(&mut s, "SET k v", T0);
        for _ in 0..20 {
            run(&mut s, "GET k", T0);
        }
        // With log factor 0 every access counts.
        assert_eq!(run(&mut s, "OBJECT FREQ k", T0), "(integer) 25\n");
        run(&mut s, "CONFIG SET lfu-decay-time 2", T0);
        assert_eq!(
            run(&mut s, "OBJECT FREQ k", T0 + 10 * 60_000),
            "(integer) 20\n"
        );
        assert_eq!(
            run(&mut s, "OBJECT FREQ k", T0 + 600 * 60_000),
            "(integer) 0\n"
        );
        assert_eq!(
            run(&mut s, "OBJECT IDLETIME k", T0),
            "(error) ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\n"
        );
    }

    #[test]
    fn allkeys_random_takes_old_and_new_alike() {
        let mut s = full_server("allkeys-random", 1_000, false);
        for i in 0..500 {
            run(&mut s, &format!("GET old:{i}"), T0 + 10_000);
        }
        write_new(&mut s, 500, T0 + 20_000);
        let read = survivors(&mut s, (0..500).map(|i| format!("old:{i}")), T0 + 20_000);
        let unread = survivors(
            &mut s,
            (500..1_000).map(|i| format!("old:{i}")),
            T0 + 20_000,
        );
        // Reads do not protect a key: both halves lose about the same share.
        assert!(read < 480 && unread < 480, "{read} {unread}");
        assert!(read.abs_diff(unread) < 100, "{read} {unread}");
    }

    #[test]
    fn volatile_policies_never_evict_persistent_keys() {
        for policy in [
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ] {
            let mut s = full_server(policy, 1_000, true);
            let replies = write_new(&mut s, 300, T0 + 10_000);
            assert!(replies.iter().all(|r| r == "OK\n"), "{policy}");
            let persistent = survivors(
                &mut s,
                (1..1_000).step_by(2).map(|i| format!("old:{i}")),
                T0 + 10_000,
            );
            assert_eq!(persistent, 500, "{policy}");
            let volatile = survivors(
                &mut s,
                (0..1_000).step_by(2).map(|i| format!("old:{i}")),
                T0 + 10_000,
            );
            assert!(
                volatile <= 500 - 200,
                "{policy}: {volatile} volatile keys left"
            );
        }
    }

    #[test]
    fn volatile_policies_refuse_writes_when_no_key_has_a_ttl() {
        let mut s = full_server("volatile-lru", 200, false);
        let replies = write_new(&mut s, 3, T0);
        assert_eq!(
            replies[2],
            "(error) OOM command not allowed when used memory > 'maxmemory'.\n"
        );
        assert_eq!(run(&mut s, "DBSIZE", T0), "(integer) 201\n");
    }

    #[test]
    fn volatile_ttl_evicts_the_soonest_to_expire_first() {
        let mut s = full_server("volatile-ttl", 1_000, true);
        write_new(&mut s, 200, T0 + 1_000);
        let evicted: Vec<usize> = (0..1_000)
            .step_by(2)
            .filter(|i| run(&mut s, &format!("EXISTS old:{i}"), T0 + 1_000) == "(integer) 0\n")
            .collect();
        assert!(evicted.len() >= 120, "{}", evicted.len());
        // TTLs grow with the key number: the shortest fifth of them go first.
        let early = evicted.iter().filter(|&&i| i < 400).count();
        assert!(
            early * 10 >= evicted.len() * 9,
            "{early} of {} evicted among the shortest TTLs",
            evicted.len()
        );
    }

    #[test]
    fn noeviction_refuses_writes_and_keeps_everything() {
        let mut s = full_server("noeviction", 500, false);
        let replies = write_new(&mut s, 10, T0);
        let refused = replies
            .iter()
            .filter(|r| {
                r.starts_with("(error) OOM command not allowed when used memory > 'maxmemory'.")
            })
            .count();
        assert!(refused >= 9, "{replies:?}");
        assert_eq!(run(&mut s, "GET old:7", T0), format!("\"{:0>40}\"\n", 7));
        assert_eq!(run(&mut s, "DEL old:7", T0), "(integer) 1\n");
        assert_eq!(run(&mut s, "SET again x", T0), "OK\n");
        assert_eq!(s.stats.evicted_keys, 0);
    }

    #[test]
    fn memory_is_a_running_total_of_the_keys() {
        let mut s = Server::new();
        let empty = s.used_memory();
        let lines = [
            "SET a 1",
            "RPUSH l a b c",
            "HSET h f v",
            "SADD s 1 2",
            "ZADD z 1 m",
            "XADD x 1-1 f v",
            "APPEND a 23456789012345678901234567890",
            "LPUSH l x",
            "EXPIRE h 100",
            "SELECT 3",
            "SET b 2",
            "SWAPDB 0 3",
            "MOVE b 5",
        ];
        for line in lines {
            run(&mut s, line, T0);
        }
        let summed: usize = s
            .dbs
            .iter()
            .map(|db| {
                let keys: usize = db
                    .iter()
                    .map(|(k, e)| crate::redis::memory::accounted_size(k, e))
                    .sum();
                let tables = if db.is_empty() {
                    0
                } else {
                    crate::redis::memory::table(db.len())
                        + if db.volatile_count() > 0 {
                            crate::redis::memory::table(db.volatile_count())
                        } else {
                            0
                        }
                };
                keys + tables
            })
            .sum();
        assert_eq!(s.used_memory(), empty + summed as u64);
        run(&mut s, "FLUSHALL", T0);
        assert_eq!(s.used_memory(), empty);
    }
}
