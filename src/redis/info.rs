//! Server introspection: INFO with the real sections and field names (`genValkeyInfoString`),
//! the counters behind it, SLOWLOG on the virtual clock, TIME, LASTSAVE, SAVE / BGSAVE and
//! DEBUG SLEEP. Values a sandbox cannot have (process id, run id, CPU time) are plausible
//! constants; everything a student can influence is counted.

use crate::redis::parts::{require_part, Part};
use std::collections::VecDeque;
use std::fmt::Write as _;

use crate::clock::Millis;

use super::memory::{self, human};
use super::object::help_reply;
use super::reply::{self, Reply};
use super::Server;

/// Evicted keys remembered for the page, newest last: enough for the keyspace panel to
/// mark its window's keys after one script that evicts thousands.
const REMEMBERED_EVICTIONS: usize = 8_192;

/// The address SLOWLOG reports for the sandbox's one connection.
const CLIENT_ADDR: &str = "127.0.0.1:50000";

/// One evicted key, numbered so the page can tell which it has already shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Eviction {
    pub seq: u64,
    pub db: usize,
    pub key: Vec<u8>,
}

/// The counters INFO reports and CONFIG RESETSTAT clears (keyspace hits, misses and
/// expirations are counted per database, see `Db`).
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub commands: u64,
    pub evicted_keys: u64,
    pub peak_memory: u64,
    /// Error replies by their first word (`ERR`, `WRONGTYPE`, ...), as `errorstat_*`.
    pub errors: Vec<(String, u64)>,
    /// Write commands since the last SAVE (`rdb_changes_since_last_save`).
    pub dirty: u64,
    /// Sandbox time of the first command, for uptime.
    pub started: Option<Millis>,
    pub last_save: Option<Millis>,
    /// SAVE and BGSAVE so far (`rdb_saves`): the page watches it to save the snapshot.
    pub saves: u64,
    /// Total evictions ever made, never reset: the sequence of `recent_evictions`.
    evictions_seq: u64,
    pub recent_evictions: VecDeque<Eviction>,
}

impl Stats {
    pub fn remember_eviction(&mut self, db: usize, key: Vec<u8>) {
        self.evictions_seq += 1;
        if self.recent_evictions.len() == REMEMBERED_EVICTIONS {
            self.recent_evictions.pop_front();
        }
        self.recent_evictions.push_back(Eviction {
            seq: self.evictions_seq,
            db,
            key,
        });
    }

    pub fn count_error(&mut self, text: &str) {
        let code = text.split(' ').next().unwrap_or("ERR");
        if let Some((_, n)) = self.errors.iter_mut().find(|(c, _)| c == code) {
            *n += 1;
        } else if self.errors.len() < 128 {
            self.errors.push((code.to_string(), 1));
        }
    }
}

/// A slow log entry (`slowlogEntry`).
#[derive(Debug, Clone, PartialEq)]
struct SlowEntry {
    id: u64,
    time: Millis,
    args: Vec<Vec<u8>>,
}

/// Commands take no virtual time, so an entry is made only when
/// `slowlog-log-slower-than` is 0 (every command), which is how a student sees it work.
#[derive(Debug, Clone, Default)]
pub struct SlowLog {
    entries: VecDeque<SlowEntry>,
    next_id: u64,
}

/// `SLOWLOG_ENTRY_MAX_ARGC` and `SLOWLOG_ENTRY_MAX_STRING`
const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_STRING: usize = 128;

impl SlowLog {
    /// `slowlogPushEntryIfNeeded` for a command that took `micros` microseconds.
    pub fn record(&mut self, argv: &[Vec<u8>], micros: i64, now: Millis, threshold: i64, max: i64) {
        if threshold < 0 || micros < threshold {
            return;
        }
        let mut args: Vec<Vec<u8>> = Vec::with_capacity(argv.len().min(SLOWLOG_MAX_ARGC));
        for (i, arg) in argv.iter().enumerate() {
            if i == SLOWLOG_MAX_ARGC - 1 && argv.len() > SLOWLOG_MAX_ARGC {
                let more = argv.len() - SLOWLOG_MAX_ARGC + 1;
                args.push(format!("... ({more} more arguments)").into_bytes());
                break;
            }
            if arg.len() > SLOWLOG_MAX_STRING {
                let mut cut = arg[..SLOWLOG_MAX_STRING].to_vec();
                let more = arg.len() - SLOWLOG_MAX_STRING;
                cut.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
                args.push(cut);
            } else {
                args.push(arg.clone());
            }
        }
        self.entries.push_front(SlowEntry {
            id: self.next_id,
            time: now,
            args,
        });
        self.next_id += 1;
        self.entries
            .truncate(usize::try_from(max.max(0)).unwrap_or(usize::MAX));
    }
}

/// SLOWLOG (no subcommand)
pub fn slowlog_container(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    super::commands::wrong_arity_for(argv)
}

/// SLOWLOG GET [count]
pub fn slowlog_get(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    if argv.len() > 3 {
        return Reply::err(
            "unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.",
        );
    }
    let count = match argv.get(2) {
        None => 10,
        Some(arg) => match super::util::parse_i64(arg) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Reply::err("count should be greater than or equal to -1"),
        },
    };
    let entries = server.slowlog.entries.iter().take(count).map(|e| {
        Reply::Array(vec![
            Reply::Integer(e.id as i64),
            Reply::Integer((e.time / 1000) as i64),
            Reply::Integer(0),
            Reply::Array(e.args.iter().map(|a| Reply::Bulk(a.clone())).collect()),
            Reply::bulk(CLIENT_ADDR),
            Reply::bulk(""),
        ])
    });
    Reply::Array(entries.collect())
}

/// SLOWLOG LEN
pub fn slowlog_len(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    Reply::Integer(server.slowlog.entries.len() as i64)
}

/// SLOWLOG RESET
pub fn slowlog_reset(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    server.slowlog.entries.clear();
    Reply::ok()
}

/// SLOWLOG HELP
pub fn slowlog_help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    help_reply(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )
}

/// TIME: the virtual clock, as seconds and microseconds.
pub fn time(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    Reply::Array(vec![
        Reply::bulk((now / 1000).to_string()),
        Reply::bulk(((now % 1000) * 1000).to_string()),
    ])
}

/// LASTSAVE: when the sandbox last saved, its start until a SAVE.
pub fn lastsave(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    Reply::Integer((server.last_save() / 1000) as i64)
}

/// SAVE: the page keeps the student's work itself; the server records the save point
/// (LASTSAVE, `rdb_changes_since_last_save`) and answers as a real one does.
pub fn save(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    server.stats.last_save = Some(server.now);
    server.stats.dirty = 0;
    server.stats.saves += 1;
    Reply::ok()
}

/// BGSAVE [SCHEDULE]
pub fn bgsave(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() > 2
        || argv
            .get(1)
            .is_some_and(|a| !a.eq_ignore_ascii_case(b"schedule"))
    {
        return reply::error(reply::SYNTAX_ERROR);
    }
    save(server, argv);
    Reply::static_status("Background saving started")
}

/// DEBUG SLEEP answers at once (a tab must not freeze); the rest of DEBUG is refused as a
/// server with `enable-debug-command no` (the default) refuses it.
pub fn debug(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    if argv.len() == 3 && argv[1].eq_ignore_ascii_case(b"sleep") {
        return Reply::ok();
    }
    Reply::err("DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
}

/// The sections `INFO` / `INFO default` print, in order.
const DEFAULT_SECTIONS: [&str; 11] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// INFO [section ...]
pub fn info(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let mut wanted: Vec<&str> = Vec::new();
    let asked: Vec<String> = argv[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    if asked.is_empty() {
        wanted.extend(DEFAULT_SECTIONS);
    }
    for name in &asked {
        match name.as_str() {
            "default" | "all" | "everything" => wanted.extend(DEFAULT_SECTIONS),
            other => {
                if let Some(section) = DEFAULT_SECTIONS.iter().find(|s| **s == other) {
                    wanted.push(section);
                }
            }
        }
    }
    let mut out = String::new();
    for section in DEFAULT_SECTIONS {
        if !wanted.contains(&section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        write_section(server, section, &mut out);
    }
    Reply::bulk(out)
}

fn write_section(server: &Server, section: &str, out: &mut String) {
    let title = match section {
        "cpu" => "CPU".to_string(),
        other => {
            let mut t = other.to_string();
            t[..1].make_ascii_uppercase();
            t
        }
    };
    let _ = write!(out, "# {title}\r\n");
    let now = server.now;
    let mut field = |name: &str, value: &dyn std::fmt::Display| {
        let _ = write!(out, "{name}:{value}\r\n");
    };
    match section {
        "server" => {
            let uptime = now.saturating_sub(server.stats.started.unwrap_or(now)) / 1000;
            for (name, value) in [
                ("redis_version", "7.2.4"),
                ("server_name", "valkey"),
                ("valkey_version", "9.1.2"),
                ("valkey_release_stage", "ga"),
                ("redis_git_sha1", "00000000"),
                ("redis_git_dirty", "0"),
                ("redis_build_id", "0"),
                ("server_mode", "standalone"),
                ("os", "Browser sandbox (wasm32)"),
                ("arch_bits", "32"),
                ("monotonic_clock", "virtual clock"),
                ("multiplexing_api", "none"),
                ("gcc_version", "0.0.0"),
                ("process_id", "1"),
                ("process_supervised", "no"),
                ("run_id", "0000000000000000000000000000000000000001"),
                ("tcp_port", "6379"),
            ] {
                field(name, &value);
            }
            field("server_time_usec", &(now * 1000));
            field("uptime_in_seconds", &uptime);
            field("uptime_in_days", &(uptime / 86_400));
            field("hz", &server.config.hz);
            field("configured_hz", &server.config.hz);
            field("clients_hz", &server.config.hz);
            field("lru_clock", &((now / 1000) & ((1 << 24) - 1)));
            for (name, value) in [
                ("executable", ""),
                ("config_file", ""),
                ("io_threads_active", "0"),
                ("availability_zone", ""),
                ("listener0", "name=tcp,bind=*,bind=-::*,port=6379"),
            ] {
                field(name, &value);
            }
        }
        "clients" => {
            for (name, value) in [
                ("connected_clients", "1"),
                ("cluster_connections", "0"),
                ("maxclients", "10000"),
                ("client_recent_max_input_buffer", "0"),
                ("client_recent_max_output_buffer", "0"),
                ("blocked_clients", "0"),
                ("tracking_clients", "0"),
                ("pubsub_clients", "0"),
                ("watching_clients", "0"),
                ("clients_in_timeout_table", "0"),
                ("total_watched_keys", "0"),
                ("total_blocking_keys", "0"),
                ("total_blocking_keys_on_nokey", "0"),
                ("paused_reason", "none"),
                ("paused_actions", "none"),
                ("paused_timeout_milliseconds", "0"),
            ] {
                field(name, &value);
            }
        }
        "memory" => write_memory(server, &mut field),
        "persistence" => {
            for (name, value) in [
                ("loading", "0"),
                ("async_loading", "0"),
                ("current_cow_peak", "0"),
                ("current_cow_size", "0"),
                ("current_cow_size_age", "0"),
                ("current_fork_perc", "0.00"),
                ("current_save_keys_processed", "0"),
                ("current_save_keys_total", "0"),
            ] {
                field(name, &value);
            }
            field("rdb_changes_since_last_save", &server.stats.dirty);
            field("rdb_bgsave_in_progress", &0);
            field("rdb_last_save_time", &(server.last_save() / 1000));
            for (name, value) in [
                ("rdb_last_bgsave_status", "ok"),
                ("rdb_last_bgsave_time_sec", "-1"),
                ("rdb_current_bgsave_time_sec", "-1"),
            ] {
                field(name, &value);
            }
            field("rdb_saves", &server.stats.saves);
            for (name, value) in [
                ("rdb_last_cow_size", "0"),
                ("rdb_last_load_keys_expired", "0"),
                ("rdb_last_load_keys_loaded", "0"),
                ("aof_enabled", "0"),
                ("aof_rewrite_in_progress", "0"),
                ("aof_rewrite_scheduled", "0"),
                ("aof_last_rewrite_time_sec", "-1"),
                ("aof_current_rewrite_time_sec", "-1"),
                ("aof_last_bgrewrite_status", "ok"),
                ("aof_rewrites", "0"),
                ("aof_rewrites_consecutive_failures", "0"),
                ("aof_last_write_status", "ok"),
                ("aof_last_cow_size", "0"),
                ("module_fork_in_progress", "0"),
                ("module_fork_last_cow_size", "0"),
                ("slot_migration_fork_in_progress", "0"),
            ] {
                field(name, &value);
            }
        }
        "stats" => write_stats(server, &mut field),
        "replication" => {
            for (name, value) in [
                ("role", "master"),
                ("connected_slaves", "0"),
                ("replicas_waiting_psync", "0"),
                ("master_failover_state", "no-failover"),
                ("master_replid", "0000000000000000000000000000000000000001"),
                ("master_replid2", "0000000000000000000000000000000000000000"),
                ("master_repl_offset", "0"),
                ("second_repl_offset", "-1"),
                ("repl_backlog_active", "0"),
                ("repl_backlog_size", "10485760"),
                ("repl_backlog_first_byte_offset", "0"),
                ("repl_backlog_histlen", "0"),
            ] {
                field(name, &value);
            }
        }
        "cpu" => {
            for name in [
                "used_cpu_sys",
                "used_cpu_user",
                "used_cpu_sys_children",
                "used_cpu_user_children",
                "used_cpu_sys_main_thread",
                "used_cpu_user_main_thread",
                "used_active_time_main_thread",
            ] {
                field(name, &"0.000000");
            }
        }
        "errorstats" => {
            for (code, count) in &server.stats.errors {
                field(&format!("errorstat_{code}"), &format!("count={count}"));
            }
        }
        "cluster" => field("cluster_enabled", &0),
        "keyspace" => {
            for (index, db) in server.dbs.iter().enumerate() {
                if db.is_empty() {
                    continue;
                }
                field(
                    &format!("db{index}"),
                    &format!(
                        "keys={},expires={},avg_ttl={},keys_with_volatile_items={}",
                        db.len(),
                        db.volatile_count(),
                        db.average_ttl(now),
                        db.volatile_field_keys()
                    ),
                );
            }
        }
        _ => {}
    }
}

fn write_memory(server: &Server, field: &mut dyn FnMut(&str, &dyn std::fmt::Display)) {
    let used = server.used_memory();
    let peak = server.stats.peak_memory.max(used);
    let startup = memory::BASELINE;
    let dataset = used.saturating_sub(startup);
    let percent = |part: u64, whole: u64| {
        if whole == 0 {
            "0.00%".to_string()
        } else {
            format!("{:.2}%", part as f64 * 100.0 / whole as f64)
        }
    };
    field("used_memory", &used);
    field("used_memory_human", &human(used));
    field("used_memory_rss", &used);
    field("used_memory_rss_human", &human(used));
    field("used_memory_peak", &peak);
    field("used_memory_peak_human", &human(peak));
    field("used_memory_peak_perc", &percent(used, peak));
    field("used_memory_overhead", &startup);
    field("used_memory_startup", &startup);
    field("used_memory_dataset", &dataset);
    field("used_memory_dataset_perc", &percent(dataset, used));
    field("allocator_allocated", &used);
    field("allocator_active", &used);
    field("allocator_resident", &used);
    field("allocator_muzzy", &0);
    field("total_system_memory", &0);
    field("total_system_memory_human", &"0B");
    for (name, value) in [
        ("used_memory_lua", "33792"),
        ("used_memory_vm_eval", "33792"),
        ("used_memory_lua_human", "33.00K"),
        ("used_memory_scripts_eval", "0"),
        ("number_of_cached_scripts", "0"),
        ("number_of_functions", "0"),
        ("number_of_libraries", "0"),
        ("used_memory_vm_functions", "35840"),
        ("used_memory_vm_total", "69632"),
        ("used_memory_vm_total_human", "68.00K"),
        ("used_memory_functions", "320"),
        ("used_memory_scripts", "320"),
        ("used_memory_scripts_human", "320B"),
    ] {
        field(name, &value);
    }
    field("maxmemory", &server.config.maxmemory);
    field("maxmemory_human", &human(server.config.maxmemory));
    field("maxmemory_policy", &server.config.policy.name());
    for (name, value) in [
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", "0"),
        ("allocator_rss_ratio", "1.00"),
        ("allocator_rss_bytes", "0"),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", "0"),
        ("mem_fragmentation_ratio", "1.00"),
        ("mem_fragmentation_bytes", "0"),
        ("mem_not_counted_for_evict", "0"),
        ("mem_replication_backlog", "0"),
        ("mem_total_replication_buffers", "0"),
        ("mem_replicas_repl_buffer", "0"),
        ("mem_clients_slaves", "0"),
        ("mem_clients_normal", "0"),
        ("mem_cluster_links", "0"),
        ("mem_cluster_slot_import", "0"),
        ("mem_cluster_slot_export", "0"),
        ("mem_aof_buffer", "0"),
        ("mem_allocator", "libc"),
        ("mem_overhead_db_hashtable_rehashing", "0"),
        ("active_defrag_running", "0"),
        ("lazyfree_pending_objects", "0"),
        ("lazyfreed_objects", "0"),
    ] {
        field(name, &value);
    }
}

fn write_stats(server: &Server, field: &mut dyn FnMut(&str, &dyn std::fmt::Display)) {
    let (mut hits, mut misses, mut expired) = (0u64, 0u64, 0u64);
    for db in &server.dbs {
        hits += db.hits;
        misses += db.misses;
        expired += db.expired_count;
    }
    let errors: u64 = server.stats.errors.iter().map(|(_, n)| n).sum();
    field("total_connections_received", &1);
    field("total_commands_processed", &server.stats.commands);
    for name in [
        "instantaneous_ops_per_sec",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "total_net_repl_input_bytes",
        "total_net_repl_output_bytes",
        "total_net_cluster_slot_import_bytes",
        "total_net_cluster_slot_export_bytes",
    ] {
        field(name, &0);
    }
    for name in [
        "instantaneous_input_kbps",
        "instantaneous_output_kbps",
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
    ] {
        field(name, &"0.00");
    }
    for name in [
        "rejected_connections",
        "sync_full",
        "sync_partial_ok",
        "sync_partial_err",
    ] {
        field(name, &0);
    }
    field("expired_keys", &expired);
    field("expired_fields", &0);
    field("expired_stale_perc", &"0.00");
    field("expired_keys_with_volatile_items_stale_perc", &"0.00");
    field("expired_time_cap_reached_count", &0);
    field("expire_cycle_cpu_milliseconds", &0);
    field("evicted_keys", &server.stats.evicted_keys);
    for name in [
        "evicted_clients",
        "evicted_scripts",
        "total_eviction_exceeded_time",
        "current_eviction_exceeded_time",
    ] {
        field(name, &0);
    }
    field("keyspace_hits", &hits);
    field("keyspace_misses", &misses);
    for name in [
        "pubsub_channels",
        "pubsub_patterns",
        "pubsubshard_channels",
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
        "unexpected_error_replies",
    ] {
        field(name, &0);
    }
    field("total_error_replies", &errors);
    field("dump_payload_sanitizations", &0);
    field("total_reads_processed", &server.stats.commands);
    field("total_writes_processed", &server.stats.commands);
    for name in [
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "io_threaded_freed_objects",
        "io_threaded_accept_processed",
        "io_threaded_poll_processed",
        "io_threaded_total_prefetch_batches",
        "io_threaded_total_prefetch_entries",
        "client_query_buffer_limit_disconnections",
        "client_output_buffer_limit_disconnections",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
        "eventloop_cycles",
        "eventloop_duration_sum",
        "eventloop_duration_cmd_sum",
        "instantaneous_eventloop_cycles_per_sec",
        "instantaneous_eventloop_duration_usec",
        "acl_access_denied_auth",
        "acl_access_denied_cmd",
        "acl_access_denied_key",
        "acl_access_denied_channel",
        "acl_access_denied_tls_cert",
        "acl_access_denied_db",
    ] {
        field(name, &0);
    }
}

impl Server {
    /// Sandbox time of the last save: the session's start until a SAVE.
    pub fn last_save(&self) -> Millis {
        self.stats
            .last_save
            .or(self.stats.started)
            .unwrap_or(self.now)
    }

    /// CONFIG RESETSTAT: the counters go back to zero; memory peak restarts from now.
    pub fn reset_stats(&mut self) {
        let used = self.used_memory();
        self.stats.commands = 0;
        self.stats.evicted_keys = 0;
        self.stats.errors.clear();
        self.stats.peak_memory = used;
        for db in &mut self.dbs {
            db.hits = 0;
            db.misses = 0;
            db.expired_count = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_700_000_000_250;

    fn run(server: &mut Server, line: &str, now: Millis) -> String {
        let argv = super::super::cli::split_args(line).unwrap_or_default();
        server.execute(&argv, now).to_cli_text()
    }

    fn headers(server: &mut Server, line: &str) -> Vec<String> {
        let argv = super::super::cli::split_args(line).unwrap_or_default();
        match server.execute(&argv, T0) {
            Reply::Bulk(text) => String::from_utf8_lossy(&text)
                .lines()
                .filter(|l| l.starts_with('#'))
                .map(|l| l.trim().to_string())
                .collect(),
            other => vec![format!("{other:?}")],
        }
    }

    #[test]
    fn info_picks_sections_like_the_server() {
        let mut s = Server::new();
        let all = [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace",
        ];
        let cases: [(&str, &[&str]); 7] = [
            ("INFO", &all),
            ("INFO everything", &all),
            ("INFO ALL", &all),
            ("INFO default", &all),
            ("INFO keyspace server", &["# Server", "# Keyspace"]),
            ("INFO CPU", &["# CPU"]),
            ("INFO nosuch", &[]),
        ];
        for (line, expected) in cases {
            assert_eq!(headers(&mut s, line), expected.to_vec(), "{line}");
        }
    }

    fn field(server: &mut Server, section: &str, name: &str) -> String {
        let argv = vec![b"INFO".to_vec(), section.as_bytes().to_vec()];
        let Reply::Bulk(text) = server.execute(&argv, T0) else {
            return String::new();
        };
        String::from_utf8_lossy(&text)
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn stats_count_hits_misses_expirations_and_commands() {
        let mut s = Server::new();
        for line in [
            "SET a 1",
            "SET gone x PX 10",
            "GET a",
            "GET nope",
            "EXISTS a nope",
            "LPUSH l x",
            "GET l",
        ] {
            run(&mut s, line, T0);
        }
        run(&mut s, "GET gone", T0 + 20);
        // GET a, EXISTS a: hits; GET nope, EXISTS nope, GET gone: misses. Writes never count.
        assert_eq!(field(&mut s, "stats", "keyspace_hits"), "3");
        assert_eq!(field(&mut s, "stats", "keyspace_misses"), "3");
        assert_eq!(field(&mut s, "stats", "expired_keys"), "1");
        // Eight commands, and the four INFO calls so far.
        assert_eq!(field(&mut s, "stats", "total_commands_processed"), "12");
        assert_eq!(
            field(&mut s, "errorstats", "errorstat_WRONGTYPE"),
            "count=1"
        );
        assert_eq!(field(&mut s, "stats", "total_error_replies"), "1");
        assert_eq!(
            field(&mut s, "keyspace", "db0"),
            "keys=2,expires=0,avg_ttl=0,keys_with_volatile_items=0"
        );
        assert_eq!(
            field(&mut s, "persistence", "rdb_changes_since_last_save"),
            "3"
        );
        assert_eq!(run(&mut s, "CONFIG RESETSTAT", T0), "OK\n");
        assert_eq!(field(&mut s, "stats", "keyspace_hits"), "0");
        assert_eq!(field(&mut s, "stats", "expired_keys"), "0");
        assert_eq!(field(&mut s, "errorstats", "errorstat_WRONGTYPE"), "");
        assert_eq!(field(&mut s, "memory", "maxmemory_human"), "128.00M");
        assert_eq!(field(&mut s, "memory", "maxmemory_policy"), "noeviction");
    }

    #[test]
    fn time_lastsave_and_save_follow_the_virtual_clock() {
        let mut s = Server::new();
        assert_eq!(
            run(&mut s, "TIME", T0),
            "1) \"1700000000\"\n2) \"250000\"\n"
        );
        assert_eq!(
            run(&mut s, "LASTSAVE", T0 + 5_000),
            "(integer) 1700000000\n"
        );
        assert_eq!(run(&mut s, "SET k v", T0 + 9_000), "OK\n");
        assert_eq!(run(&mut s, "SAVE", T0 + 9_000), "OK\n");
        assert_eq!(
            run(&mut s, "LASTSAVE", T0 + 12_000),
            "(integer) 1700000009\n"
        );
        assert_eq!(
            run(&mut s, "BGSAVE SCHEDULE", T0 + 20_000),
            "Background saving started\n"
        );
        assert_eq!(
            run(&mut s, "LASTSAVE", T0 + 21_000),
            "(integer) 1700000020\n"
        );
        assert_eq!(run(&mut s, "DEBUG SLEEP 0", T0), "OK\n");
        run(&mut s, "PING", T0 + 90_000);
        assert_eq!(field(&mut s, "server", "uptime_in_seconds"), "90");
    }

    #[test]
    fn slowlog_logs_every_command_at_threshold_zero() {
        let mut s = Server::new();
        run(&mut s, "SET a 1", T0);
        assert_eq!(run(&mut s, "SLOWLOG LEN", T0), "(integer) 0\n");
        run(&mut s, "CONFIG SET slowlog-log-slower-than 0", T0);
        let long = "x".repeat(130);
        run(&mut s, &format!("SET k {long}"), T0 + 1_000);
        let entry = run(&mut s, "SLOWLOG GET 1", T0 + 2_000);
        assert_eq!(
            entry,
            format!(
                "1) 1) (integer) 1\n   2) (integer) 1700000001\n   3) (integer) 0\n   4) 1) \"SET\"\n      2) \"k\"\n      3) \"{}... (2 more bytes)\"\n   5) \"127.0.0.1:50000\"\n   6) \"\"\n",
                "x".repeat(128)
            )
        );
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        run(&mut s, &format!("DEL {}", many.join(" ")), T0);
        let args = run(&mut s, "SLOWLOG GET 1", T0);
        assert!(args.contains("32) \"... (10 more arguments)\""), "{args}");
        run(&mut s, "CONFIG SET slowlog-max-len 3", T0);
        assert_eq!(run(&mut s, "SLOWLOG LEN", T0), "(integer) 3\n");
    }
}
