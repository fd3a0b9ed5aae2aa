//! The Redis engine: a server holding numbered keyspaces, its clients, and the command table.

pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod detail;
pub mod evict;
pub mod expire;
pub mod info;
pub mod introspect;
pub mod keyspace;
pub mod memory;
pub mod object;
pub mod reply;
pub mod search;
pub mod server;
pub mod snapshot;
pub mod types;
pub mod util;

mod conformance;
mod fuzz;

use crate::clock::Millis;
use commands::CommandSpec;
use db::Db;
use reply::Reply;

/// Databases a server starts with, as Redis's default `databases 16`.
pub const DATABASES: usize = 16;

/// Commands whose replies redis-cli prints raw, even with `--no-raw`.
const RAW_OUTPUT: [&str; 3] = ["info", "memory|doctor", "memory|malloc-stats"];

/// How often commands drive the active expiry cycle (Redis's default `hz 10`).
const ACTIVE_CYCLE_INTERVAL_MS: Millis = 100;

/// Keys the active expiry cycle may reclaim per command, so one call never stalls the page.
const ACTIVE_EXPIRE_BUDGET: usize = 1_000;

/// Per-connection state.
#[derive(Debug, Default, Clone)]
pub struct Client {
    /// The selected database.
    pub db: usize,
}

#[derive(Debug)]
pub struct Server {
    pub dbs: Vec<Db>,
    clients: Vec<Client>,
    /// The client whose command is running.
    current: usize,
    /// Sandbox time of the command being executed.
    pub now: Millis,
    /// State of the server's own pseudo-random source (RANDOMKEY): seeded, so a session
    /// replays identically and nothing reads system entropy.
    rng: u64,
    /// Sandbox time at which a command next runs the active expiry cycle.
    next_active_cycle: Millis,
    /// Word buffers the console splits each line into, kept between lines.
    pub(crate) line_args: Vec<Vec<u8>>,
    /// The FT.* indexes (definitions; searches read the keyspace as it is).
    pub search: search::Indexes,
    /// CONFIG's parameters.
    pub config: config::Config,
    /// INFO's counters.
    pub stats: info::Stats,
    pub slowlog: info::SlowLog,
    /// Eviction candidates kept between commands, as Redis keeps its pool.
    eviction_pool: evict::Pool,
    /// The database the random eviction policies try first.
    next_eviction_db: usize,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// An empty server with one connected client.
    pub fn new() -> Self {
        Server {
            dbs: (0..DATABASES).map(|_| Db::new()).collect(),
            clients: vec![Client::default()],
            current: 0,
            now: 0,
            next_active_cycle: 0,
            rng: 0x9e37_79b9_7f4a_7c15,
            line_args: Vec::new(),
            search: search::Indexes::default(),
            config: config::Config::default(),
            stats: info::Stats::default(),
            slowlog: info::SlowLog::default(),
            eviction_pool: evict::Pool::default(),
            next_eviction_db: 0,
        }
    }

    /// The database the current client has selected.
    pub fn db(&mut self) -> &mut Db {
        let index = self.clients[self.current].db;
        &mut self.dbs[index]
    }

    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.clients[self.current]
    }

    /// Index of the database the current client has selected.
    pub fn selected_db(&self) -> usize {
        self.clients[self.current].db
    }

    /// Runs one command (name first) at sandbox time `now`.
    pub fn execute(&mut self, argv: &[Vec<u8>], now: Millis) -> Reply {
        self.advance(now);
        let reply = match commands::resolve(argv) {
            Ok(spec) => self.call(spec, argv),
            Err(reply) => reply,
        };
        if let Reply::Error(text) = &reply {
            self.stats.count_error(text);
        }
        reply
    }

    /// `execute` appending the reply's redis-cli text to `out`. GET, the commonest read,
    /// writes its value straight from the keyspace instead of copying it into a reply.
    pub fn execute_into(&mut self, argv: &[Vec<u8>], now: Millis, out: &mut String) {
        self.advance(now);
        let spec = match commands::resolve(argv) {
            Ok(spec) => spec,
            Err(reply) => {
                if let Reply::Error(text) = &reply {
                    self.stats.count_error(text);
                }
                return reply.write_cli_text(out);
            }
        };
        if spec.name == "get" {
            let start = out.len();
            match self.before_command(spec) {
                Ok(()) => {
                    types::string::get_into(self, &argv[1], out);
                    self.after_command(spec, argv, false);
                }
                Err(refused) => refused.write_cli_text(out),
            }
            if let Some(text) = out[start..].strip_prefix("(error) ") {
                let text = text.trim_end().to_string();
                self.stats.count_error(&text);
            }
            return;
        }
        match self.call(spec, argv) {
            // redis-cli prints these replies as they are, not quoted.
            Reply::Bulk(text) if RAW_OUTPUT.contains(&spec.name) => {
                out.push_str(&String::from_utf8_lossy(&text));
            }
            reply => {
                if let Reply::Error(text) = &reply {
                    self.stats.count_error(text);
                }
                reply.write_cli_text(out);
            }
        }
    }

    /// Runs a resolved command with what the server does around every command.
    fn call(&mut self, spec: &CommandSpec, argv: &[Vec<u8>]) -> Reply {
        if let Err(refused) = self.before_command(spec) {
            return refused;
        }
        let reply = (spec.handler)(self, argv);
        self.after_command(spec, argv, reply.is_error());
        reply
    }

    /// What the server does before running a command: count it, evict down to maxmemory,
    /// refuse a command that may grow memory when it cannot, and count keyspace reads.
    fn before_command(&mut self, spec: &CommandSpec) -> Result<(), Reply> {
        self.stats.commands += 1;
        if self.stats.started.is_none() {
            self.stats.started = Some(self.now);
        }
        if self.config.maxmemory > 0 {
            let used = self.used_memory();
            self.stats.peak_memory = self.stats.peak_memory.max(used);
            if used > self.config.maxmemory && !self.perform_evictions() && spec.has_flag("denyoom")
            {
                return Err(reply::error(evict::OOM));
            }
        }
        if spec.has_flag("readonly") {
            self.db().counting = true;
        }
        Ok(())
    }

    /// What the server does after a command ran: re-measure the keys a write touched (the
    /// running `used_memory`), count the change, and log the command in the slow log.
    fn after_command(&mut self, spec: &CommandSpec, argv: &[Vec<u8>], failed: bool) {
        let selected = self.selected_db();
        if let Some(db) = self.dbs.get_mut(selected) {
            db.counting = false;
        }
        if spec.has_flag("write") {
            if !failed {
                self.stats.dirty += 1;
            }
            // SET stores only through the keyspace's setters, which measure what they store.
            if spec.name != "set" {
                if let Some(db) = self.dbs.get_mut(selected) {
                    commands::for_each_key(spec, argv, |key| db.remeasure(key));
                }
            }
        }
        if !spec.has_flag("skip_slowlog") {
            let (threshold, max) = (self.config.slowlog_slower_than, self.config.slowlog_max_len);
            self.slowlog.record(argv, 0, self.now, threshold, max);
        }
    }

    fn advance(&mut self, now: Millis) {
        self.now = self.now.max(now);
        // Like Redis's serverCron at hz 10: the active cycle runs when 100 ms have passed,
        // not on every command; lookups expire what they touch in between.
        if self.now >= self.next_active_cycle {
            self.tick(self.now);
        }
    }

    /// The next value of the server's deterministic generator (splitmix64).
    pub fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Advances the server to sandbox time `now` and runs the bounded active expiry cycle
    /// (keys, then hash fields). Returns the keys (db, key) it reclaimed. Time never runs backwards for the server.
    pub fn tick(&mut self, now: Millis) -> Vec<(usize, Vec<u8>)> {
        self.now = self.now.max(now);
        let now = self.now;
        self.next_active_cycle = now.saturating_add(ACTIVE_CYCLE_INTERVAL_MS);
        let mut gone = Vec::new();
        let mut budget = ACTIVE_EXPIRE_BUDGET;
        for (index, db) in self.dbs.iter_mut().enumerate() {
            if budget == 0 {
                break;
            }
            let keys = db.active_expire(now, budget);
            budget -= keys.len();
            gone.extend(keys.into_iter().map(|key| (index, key)));
            // Then hash fields whose TTL ran out (a hash losing its last field goes too).
            let (work, keys) = db.active_expire_fields(now, budget);
            budget = budget.saturating_sub(work);
            gone.extend(keys.into_iter().map(|key| (index, key)));
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(server: &mut Server, line: &str, now: Millis) -> String {
        let argv = cli::split_args(line).expect("balanced line");
        server.execute(&argv, now).to_cli_text()
    }

    #[test]
    fn first_slice_behaves_like_the_real_server() {
        let mut s = Server::new();
        let cases = [
            ("PING", "PONG\n"),
            ("PING hi", "\"hi\"\n"),
            (
                "PING a b",
                "(error) ERR wrong number of arguments for 'ping' command\n",
            ),
            ("ECHO \"a b\"", "\"a b\"\n"),
            ("GET a", "(nil)\n"),
            ("SET a 1", "OK\n"),
            ("GET a", "\"1\"\n"),
            (
                "get",
                "(error) ERR wrong number of arguments for 'get' command\n",
            ),
            (
                "SET a",
                "(error) ERR wrong number of arguments for 'set' command\n",
            ),
            (
                "FOO",
                "(error) ERR unknown command 'FOO', with args beginning with: \n",
            ),
            ("TYPE a", "string\n"),
            ("TYPE nope", "none\n"),
            ("EXISTS a a nope", "(integer) 2\n"),
            ("DBSIZE", "(integer) 1\n"),
            ("SET a 2 NX", "(nil)\n"),
            ("SET a 2 XX GET", "\"1\"\n"),
            ("SET b 2 NX XX", "(error) ERR syntax error\n"),
            (
                "SET b 2 EX 0",
                "(error) ERR invalid expire time in 'set' command\n",
            ),
            (
                "SET b 2 EX x",
                "(error) ERR value is not an integer or out of range\n",
            ),
            ("SET b 2 EX 10 KEEPTTL", "(error) ERR syntax error\n"),
            ("SET b 2 EX 10 EX 20", "OK\n"),
            ("SELECT 1", "OK\n"),
            ("GET a", "(nil)\n"),
            ("SELECT 16", "(error) ERR DB index is out of range\n"),
            ("SELECT -1", "(error) ERR DB index is out of range\n"),
            (
                "SELECT x",
                "(error) ERR value is not an integer or out of range\n",
            ),
            ("SELECT 0", "OK\n"),
            ("DEL a a nope", "(integer) 1\n"),
            ("FLUSHALL", "OK\n"),
            ("DBSIZE", "(integer) 0\n"),
            ("FLUSHALL LAZY", "(error) ERR syntax error\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(run(&mut s, line, 1_000), expected, "{line}");
        }
    }

    #[test]
    fn keys_with_a_ttl_vanish_when_their_time_comes() {
        let mut s = Server::new();
        assert_eq!(run(&mut s, "SET k v PX 500", 1_000), "OK\n");
        assert_eq!(
            run(&mut s, "SET keep v EX 100 KEEPTTL", 1_000),
            "(error) ERR syntax error\n"
        );
        assert_eq!(run(&mut s, "GET k", 1_499), "\"v\"\n");
        assert_eq!(run(&mut s, "SET k v2 KEEPTTL", 1_499), "OK\n");
        assert_eq!(run(&mut s, "GET k", 1_500), "(nil)\n");
        assert_eq!(run(&mut s, "SET e v EXAT 3", 1_500), "OK\n");
        assert_eq!(s.tick(3_000), vec![(0, b"e".to_vec())]);
        assert_eq!(run(&mut s, "DBSIZE", 3_000), "(integer) 0\n");
    }

    #[test]
    fn ttls_count_down_with_sandbox_time() {
        let mut s = Server::new();
        let t = 1_700_000_000_000;
        let cases = [
            ("SET k v", 0, "OK\n"),
            ("EXPIRE k 10", 0, "(integer) 1\n"),
            ("TTL k", 4_400, "(integer) 6\n"),
            ("TTL k", 4_600, "(integer) 5\n"),
            ("PTTL k", 4_600, "(integer) 5400\n"),
            ("EXPIRETIME k", 4_600, "(integer) 1700000010\n"),
            ("OBJECT IDLETIME k", 4_600, "(integer) 4\n"),
            ("GET k", 9_999, "\"v\"\n"),
            ("OBJECT IDLETIME k", 9_999, "(integer) 0\n"),
            ("GET k", 10_000, "(nil)\n"),
            ("TTL k", 10_000, "(integer) -2\n"),
            ("SET p v PX 1500", 20_000, "OK\n"),
            ("PEXPIRE p 100 GT", 20_000, "(integer) 0\n"),
            ("PEXPIRE p 100 LT", 20_000, "(integer) 1\n"),
            ("DBSIZE", 20_099, "(integer) 1\n"),
            ("DBSIZE", 20_100, "(integer) 0\n"),
        ];
        for (line, at, expected) in cases {
            assert_eq!(run(&mut s, line, t + at), expected, "{line} at +{at}");
        }
    }

    #[test]
    fn randomkey_is_deterministic_and_skips_expired_keys() {
        let mut a = Server::new();
        let mut b = Server::new();
        for s in [&mut a, &mut b] {
            run(s, "MSET k1 1 k2 2 k3 3 k4 4", 0);
            run(s, "SET gone x PX 10", 0);
        }
        for _ in 0..20 {
            let (x, y) = (run(&mut a, "RANDOMKEY", 50), run(&mut b, "RANDOMKEY", 50));
            assert_eq!(x, y);
            assert_ne!(x, "\"gone\"\n");
        }
    }
}
