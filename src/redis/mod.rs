//! The Redis engine: a server holding numbered keyspaces, its clients, and the command table.

pub mod blocking;
pub mod check;
pub mod cli;
pub mod clients;
pub mod commands;
pub mod config;
pub mod db;
pub mod detail;
pub mod evict;
pub mod expire;
pub mod hints;
pub mod info;
pub mod introspect;
pub mod keyspace;
pub mod long_reply;
pub mod memory;
pub mod multi;
pub mod notify;
pub mod object;
pub mod parts;
pub mod pubsub;
pub mod rdb;
pub mod reply;
pub mod resp3;
pub mod scripting;
#[cfg(feature = "search")]
pub mod search;
/// Without the `search` feature (the page's first module), FT.* answer that the module is not
/// loaded: the page moves to the full module before running one.
#[cfg(not(feature = "search"))]
#[path = "search/absent.rs"]
pub mod search;
pub mod server;
pub mod snapshot;
pub mod types;
pub mod util;

mod conformance;
mod fuzz;
mod testing;

use crate::clock::Millis;
use commands::CommandSpec;
use db::Db;
use reply::Reply;

/// Databases a server starts with, as Redis's default `databases 16`.
pub const DATABASES: usize = 16;

/// Commands whose replies redis-cli prints raw, even with `--no-raw`.
const RAW_OUTPUT: [&str; 5] = [
    "info",
    "memory|doctor",
    "memory|malloc-stats",
    "client|list",
    "client|info",
];

/// How often commands drive the active expiry cycle (Redis's default `hz 10`).
const ACTIVE_CYCLE_INTERVAL_MS: Millis = 100;

/// Keys the active expiry cycle may reclaim per command, so one call never stalls the page.
const ACTIVE_EXPIRE_BUDGET: usize = 1_000;

pub use clients::Client;

#[derive(Debug)]
pub struct Server {
    pub dbs: Vec<Db>,
    /// Connected clients in the order they connected (ascending id).
    clients: Vec<Client>,
    /// Index in `clients` of the client whose command is running.
    current: usize,
    /// The id the next connecting client gets.
    next_client_id: u64,
    /// Channel and pattern subscriptions of every client.
    pub(crate) pubsub: pubsub::Registry,
    /// Clients blocked on keys, and keys that became ready for them.
    pub(crate) blocking: blocking::State,
    /// `notify-keyspace-events`, as flag bits.
    pub(crate) notify_flags: u32,
    /// Set while EXEC runs its queue or a blocked command is retried: blocking commands
    /// answer at once instead of blocking.
    pub(crate) no_block: bool,
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
    /// What the indexes' VECTOR fields keep between commands: the vectors, and HNSW graphs.
    pub(crate) vector_stores: search::vector::Stores,
    /// CONFIG's parameters.
    pub config: config::Config,
    /// INFO's counters.
    pub stats: info::Stats,
    pub slowlog: info::SlowLog,
    /// The script cache and function libraries.
    pub scripting: scripting::State,
    /// Eviction candidates kept between commands, as Redis keeps its pool.
    eviction_pool: evict::Pool,
    /// The database the random eviction policies try first.
    next_eviction_db: usize,
    /// Long replies the console receives in parts (see `long_reply`).
    pub long_replies: long_reply::LongReplies,
    /// What the passing of time changed on its own, never reset: keys and hash fields the
    /// active cycle expired, blocked clients answered by their timeout (their backlog then
    /// runs), a busy script run again. It stands still through a `tick` that changed
    /// nothing, so a host holding work across calls (the page's stepped save) can tell.
    pub timed_changes: u64,
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
            clients: vec![Client::new(1, 0)],
            current: 0,
            next_client_id: 2,
            pubsub: pubsub::Registry::default(),
            blocking: blocking::State::default(),
            notify_flags: 0,
            no_block: false,
            now: 0,
            next_active_cycle: 0,
            timed_changes: 0,
            rng: 0x9e37_79b9_7f4a_7c15,
            line_args: Vec::new(),
            search: search::Indexes::default(),
            vector_stores: search::vector::Stores::default(),
            config: config::Config::default(),
            stats: info::Stats::default(),
            slowlog: info::SlowLog::default(),
            scripting: scripting::State::default(),
            eviction_pool: evict::Pool::default(),
            long_replies: long_reply::LongReplies::default(),
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

    /// Runs one command (name first) of the current client at sandbox time `now`. A command
    /// that blocks answers `Reply::Blocked`; its reply, like anything pushed to a client,
    /// lands in that client's outbox (`take_outbox`).
    pub fn execute(&mut self, argv: &[Vec<u8>], now: Millis) -> Reply {
        self.advance(now);
        let reply = clients::dispatch(self, argv);
        if let Reply::Error(text) = &reply {
            self.stats.count_error(text);
        }
        self.serve_ready_clients();
        reply
    }

    /// `execute` appending the reply's redis-cli text to `out`. GET, the commonest read,
    /// writes its value straight from the keyspace instead of copying it into a reply when
    /// the client is in no special state and nobody is listening for commands.
    pub fn execute_into(&mut self, argv: &[Vec<u8>], now: Millis, out: &mut String) {
        self.advance(now);
        // Resolving a line only to find it is not GET would build an unknown command's
        // error twice.
        if argv
            .first()
            .is_some_and(|name| name.eq_ignore_ascii_case(b"get"))
            && self.clients[self.current].is_plain()
            && !self.pubsub.has_monitors()
            && !self.scripting.is_busy()
        {
            if let Ok(spec) = commands::resolve(argv) {
                if spec.name == "get" {
                    let start = out.len();
                    match self.before_command(spec) {
                        Ok(()) => {
                            types::string::get_into(self, &argv[1], out);
                            self.after_handler(spec, argv, false);
                        }
                        Err(refused) => refused.write_cli_text(out),
                    }
                    if let Some(text) = out[start..].strip_prefix("(error) ") {
                        let text = text.trim_end().to_string();
                        self.stats.count_error(&text);
                    }
                    return;
                }
            }
        }
        match clients::dispatch(self, argv) {
            // redis-cli prints these replies as they are, not quoted.
            Reply::Bulk(text)
                if commands::resolve(argv).is_ok_and(|spec| RAW_OUTPUT.contains(&spec.name)) =>
            {
                out.push_str(&String::from_utf8_lossy(&text));
            }
            reply => {
                if let Reply::Error(text) = &reply {
                    self.stats.count_error(text);
                }
                self.long_replies.write(reply, out);
            }
        }
        self.serve_ready_clients();
    }

    /// What the server does before running a command: count it, evict down to maxmemory,
    /// refuse a command that may grow memory when it cannot, and count keyspace reads.
    pub(crate) fn before_command(&mut self, spec: &CommandSpec) -> Result<(), Reply> {
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

    /// What the server does after a command's handler ran: re-measure the keys a write
    /// touched (the running `used_memory`), count the change, and log the command in the
    /// slow log.
    pub(crate) fn after_handler(&mut self, spec: &CommandSpec, argv: &[Vec<u8>], failed: bool) {
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
        if !self.search.is_empty() || self.vector_stores.is_some() {
            search::vector::sync(self);
        }
        if !spec.has_flag("skip_slowlog") {
            let (threshold, max) = (self.config.slowlog_slower_than, self.config.slowlog_max_len);
            self.slowlog.record(argv, 0, self.now, threshold, max);
        }
    }

    /// The protocol (2 or 3) the current client speaks.
    pub fn resp(&self) -> u8 {
        self.clients[self.current].resp
    }

    /// Sets `notify-keyspace-events` (flag bits of `notify`).
    pub fn set_notify_flags(&mut self, flags: u32) {
        self.notify_flags = flags;
        let log = flags & notify::EXPIRED != 0;
        for db in &mut self.dbs {
            db.log_expired = log;
            if !log {
                db.expired_log.clear();
            }
        }
    }

    /// Serves clients whose keys became ready during the command just run.
    fn serve_ready_clients(&mut self) {
        if self.blocking.has_ready() {
            blocking::serve_ready(self);
        }
    }

    /// Moves the server to sandbox time `now` for its clients only: blocked clients whose
    /// timeout has passed get their reply. Keys still expire on the next tick or lookup,
    /// so the host's tick keeps reporting them.
    pub fn wake_timed_out(&mut self, now: Millis) {
        self.now = self.now.max(now);
        if self.blocking.blocked_count() > 0 {
            blocking::time_out(self);
        }
    }

    /// The current client's id.
    pub fn client_id(&self) -> u64 {
        self.clients[self.current].id
    }

    /// Makes client `id` the one whose commands run next, connecting it if it is new.
    pub fn switch_client(&mut self, id: u64) {
        self.current = match self.clients.iter().position(|c| c.id == id) {
            Some(index) => index,
            None => self.connect_with_id(id),
        };
    }

    /// Connects a new client and returns its id.
    pub fn connect(&mut self) -> u64 {
        let id = self.next_client_id;
        self.connect_with_id(id);
        id
    }

    fn connect_with_id(&mut self, id: u64) -> usize {
        self.next_client_id = self.next_client_id.max(id.saturating_add(1));
        let at = self.clients.partition_point(|c| c.id < id);
        self.clients.insert(at, Client::new(id, self.now));
        if at <= self.current && self.clients.len() > 1 {
            self.current += 1;
        }
        at
    }

    /// Disconnects client `id`: its subscriptions, watches and blocked command go with it.
    /// The client whose command is running (CLIENT KILL of itself) and the last one left
    /// reconnect at once with the same id and a fresh state, as redis-cli reconnects. False
    /// if there was no such client.
    pub fn disconnect(&mut self, id: u64) -> bool {
        let Some(at) = self.clients.iter().position(|c| c.id == id) else {
            return false;
        };
        self.pubsub.forget(id);
        blocking::release(self, id);
        if self.clients.len() == 1 || at == self.current {
            self.clients[at] = Client::new(id, self.now);
            return true;
        }
        self.clients.remove(at);
        if self.current > at {
            self.current -= 1;
        }
        true
    }

    /// Closes client `id` for good (a console tab closed): the current client moves to
    /// another one first. The last client only reconnects.
    pub fn close_client(&mut self, id: u64) -> bool {
        if self.client_id() == id {
            if let Some(other) = self.clients.iter().map(|c| c.id).find(|&c| c != id) {
                self.switch_client(other);
            }
        }
        self.disconnect(id)
    }

    /// Ids of the connected clients, ascending.
    pub fn client_ids(&self) -> Vec<u64> {
        self.clients.iter().map(|c| c.id).collect()
    }

    pub fn client(&self, id: u64) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub(crate) fn client_by_id_mut(&mut self, id: u64) -> Option<&mut Client> {
        self.clients.iter_mut().find(|c| c.id == id)
    }

    pub(crate) fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// What client `id` received outside its own replies since last asked (pushed messages,
    /// a blocked command's late reply), oldest first.
    pub fn take_outbox(&mut self, id: u64) -> Vec<Reply> {
        self.client_by_id_mut(id)
            .map(|c| std::mem::take(&mut c.outbox))
            .unwrap_or_default()
    }

    /// Whether any client has something in its outbox.
    pub fn has_outbox(&self) -> bool {
        self.clients.iter().any(|c| !c.outbox.is_empty())
    }

    fn advance(&mut self, now: Millis) {
        if self.now == 0 && now > 0 {
            // Clients connected before the clock first moved (the server starts at 0, the
            // sandbox at the host's time) connected now, as far as CLIENT LIST's age goes.
            for client in &mut self.clients {
                client.created = client.created.max(now);
            }
        }
        self.now = self.now.max(now);
        if self.blocking.blocked_count() > 0 {
            blocking::time_out(self);
        }
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
        blocking::time_out(self);
        self.next_active_cycle = now.saturating_add(ACTIVE_CYCLE_INTERVAL_MS);
        let mut gone = Vec::new();
        // The real server runs no cron while a script keeps it busy.
        let mut budget = if self.scripting.is_busy() {
            0
        } else {
            ACTIVE_EXPIRE_BUDGET
        };
        for (index, db) in self.dbs.iter_mut().enumerate() {
            if budget == 0 {
                break;
            }
            let keys = db.active_expire(now, budget);
            budget -= keys.len();
            self.timed_changes += keys.len() as u64;
            gone.extend(keys.into_iter().map(|key| (index, key)));
            // Then hash fields whose TTL ran out (a hash losing its last field goes too).
            let (work, keys) = db.active_expire_fields(now, budget);
            budget = budget.saturating_sub(work);
            self.timed_changes += work as u64;
            gone.extend(keys.into_iter().map(|key| (index, key)));
        }
        if self.notify_flags != 0 {
            notify::flush_expired(self);
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
