//! Random command lines thrown at every command in the table by several clients at once
//! (transactions, subscriptions, blocking commands, MONITOR and disconnects included): the
//! engine must never panic, the keyspace must stay self-consistent (DBSIZE agrees with
//! KEYS *, every key has a type, TTLs are never reported for missing keys), and every
//! command gets exactly one reply, at once or later: a blocked client is served once.

#![cfg(test)]

use super::commands::TABLE;
use super::reply::Reply;
use super::Server;

/// xorshift64*: deterministic, so a failure replays exactly.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &["a", "b", "c", "k", "{x}", "", "h*llo", "\u{0}bin"];

const WORDS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "7",
    "10",
    "100",
    "-100",
    "1000",
    "100000",
    "3.5",
    "-0.5",
    "1e10",
    "1e400",
    "inf",
    "nan",
    "0x10",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "4294967295",
    "4294967296",
    "536870911",
    "536870912",
    "99999999999",
    "",
    " ",
    "abc",
    "\u{0}\u{ff}",
    "*",
    "?",
    "[a-z]",
    "[^a",
    "\\",
    "#3",
    "i8",
    "u8",
    "i64",
    "u63",
    "u64",
    "i0",
    "NX",
    "XX",
    "GT",
    "LT",
    "GET",
    "$",
    ".",
    "$..*",
    "$.a[0:2]",
    "$[?(@>1)]",
    "[1,{\"a\":[2]}]",
    "{\"a\":{\"b\":1}}",
    "\"s\"",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "KEEPTTL",
    "PERSIST",
    "IFEQ",
    "LEN",
    "IDX",
    "MINMATCHLEN",
    "WITHMATCHLEN",
    "BYTE",
    "BIT",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "SET",
    "INCRBY",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "MATCH",
    "COUNT",
    "TYPE",
    "string",
    "DB",
    "REPLACE",
    "ASYNC",
    "SYNC",
    "FILTERBY",
    "PATTERN",
    "ACLCAT",
    "MODULE",
    "ENCODING",
    "HELP",
    "INFO",
    "DOCS",
    "LIST",
    "GETKEYS",
    "FREQ",
    "IDLETIME",
    "REFCOUNT",
    "MAXLEN",
    "MINID",
    "~",
    "=",
    "NOMKSTREAM",
    "STREAMS",
    "BLOCK",
    "GROUP",
    "NOACK",
    "MKSTREAM",
    "ENTRIESREAD",
    "IDLE",
    "TIME",
    "RETRYCOUNT",
    "FORCE",
    "JUSTID",
    "LASTID",
    "FULL",
    "ENTRIESADDED",
    "MAXDELETEDID",
    "$",
    ">",
    "+",
    "-",
    "1-1",
    "0-*",
    "(1",
    "18446744073709551615-18446744073709551615",
    "BY",
    "ASC",
    "DESC",
    "ALPHA",
    "STORE",
    "nosort",
    "w_*",
    "w_*->f",
    "#",
    "CH",
    "INCR",
    "WITHSCORES",
    "WITHSCORE",
    "BYSCORE",
    "BYLEX",
    "REV",
    "LIMIT",
    "MIN",
    "MAX",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "NOSCORES",
    "[a",
    "-inf",
    "+inf",
];

fn random_line(rng: &mut Rng) -> Vec<Vec<u8>> {
    let spec = &TABLE[rng.below(TABLE.len())];
    let mut argv = vec![spec.name.as_bytes().to_vec()];
    if !spec.subcommands.is_empty() && rng.below(8) != 0 {
        let sub = &spec.subcommands[rng.below(spec.subcommands.len())];
        argv.push(sub.sub_name().as_bytes().to_vec());
    }
    // Half the lines get the word count the command's arity asks for, so that commands
    // with a fixed arity get past the arity check often enough to be exercised.
    let wanted = (spec.arity.unsigned_abs() as usize).saturating_sub(argv.len());
    let extra = if rng.below(2) == 0 {
        wanted + if spec.arity < 0 { rng.below(3) } else { 0 }
    } else {
        rng.below(7)
    };
    for i in 0..extra {
        let word = if i == 0 || rng.below(3) == 0 {
            rng.pick(KEYS)
        } else if rng.below(12) == 0 {
            TABLE[rng.below(TABLE.len())].name
        } else {
            rng.pick(WORDS)
        };
        argv.push(word.as_bytes().to_vec());
    }
    argv
}

fn run(server: &mut Server, words: &[&str], now: u64) -> Reply {
    let argv: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
    server.execute(&argv, now)
}

/// The client that checks consistency: it never runs a random line, so it is never stuck in
/// a transaction, a subscription or a block.
const INSPECTOR: u64 = 100;

/// Clients that run the random lines.
const FUZZ_CLIENTS: u64 = 4;

fn assert_consistent(server: &mut Server, now: u64, context: &[Vec<u8>]) {
    let fuzzing = server.client_id();
    server.switch_client(INSPECTOR);
    check_keyspace(server, now, context);
    server.switch_client(fuzzing);
}

fn check_keyspace(server: &mut Server, now: u64, context: &[Vec<u8>]) {
    let Reply::Integer(size) = run(server, &["DBSIZE"], now) else {
        panic!("DBSIZE did not answer an integer");
    };
    let Reply::Array(keys) = run(server, &["KEYS", "*"], now).expand() else {
        panic!("KEYS did not answer an array");
    };
    assert_eq!(size as usize, keys.len(), "after {context:?}");
    for db in &server.dbs {
        let (used, recount) = db.used_and_recount();
        assert_eq!(used, recount, "running memory total after {context:?}");
    }
    for key in keys {
        let Reply::Bulk(key) = key else {
            panic!("KEYS returned a non-bulk")
        };
        let argv = vec![b"TYPE".to_vec(), key.clone()];
        assert_ne!(
            server.execute(&argv, now),
            Reply::status("none"),
            "listed key {key:?} has no type after {context:?}"
        );
    }
}

/// Replies a client was owed and got: every command it sent is answered once, at once or
/// through its outbox (a blocked command's late reply, what it sent meanwhile).
#[derive(Default, Clone, Copy)]
struct Ledger {
    sent: u64,
    answered: u64,
    /// The client's `late_replies` already counted.
    late_seen: u64,
}

#[test]
fn random_command_lines_never_break_the_engine() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut server = Server::new();
    let mut now: u64 = 1_700_000_000_000;
    let mut answered = 0;
    let mut ledgers = [Ledger::default(); FUZZ_CLIENTS as usize + 1];
    for round in 0..100_000 {
        if rng.below(10) == 0 {
            now += rng.below(5_000) as u64;
            server.tick(now);
        }
        let client = 1 + rng.below(FUZZ_CLIENTS as usize) as u64;
        if rng.below(100) == 0 {
            // A student closes a console: whatever it waited for goes with it.
            server.disconnect(client);
            ledgers[client as usize] = Ledger::default();
        }
        server.switch_client(client);
        let argv = random_line(&mut rng);
        let reply = server.execute(&argv, now);
        ledgers[client as usize].sent += 1;
        if !matches!(reply, Reply::Blocked) {
            ledgers[client as usize].answered += 1;
        }
        if !reply.is_error() && !matches!(reply, Reply::Blocked) {
            answered += 1;
        }
        // Late replies this command caused (to this client or others) are counted here.
        for id in 1..=FUZZ_CLIENTS {
            let Some(c) = server.client(id) else {
                // Killed (CLIENT KILL): the next line connects a fresh client.
                ledgers[id as usize] = Ledger::default();
                continue;
            };
            let ledger = &mut ledgers[id as usize];
            ledger.answered += c.late_replies - ledger.late_seen;
            ledger.late_seen = c.late_replies;
            assert!(
                ledger.answered <= ledger.sent,
                "client {id} got more replies than it sent commands after {argv:?}"
            );
            if c.blocked.is_none() && c.backlog.is_empty() {
                assert_eq!(
                    ledger.answered, ledger.sent,
                    "client {id} is free but owed a reply after {argv:?}"
                );
            }
            server.take_outbox(id);
        }
        assert_eq!(
            server.blocking.blocked_count(),
            (1..=FUZZ_CLIENTS)
                .filter(|&id| server.client(id).is_some_and(|c| c.blocked.is_some()))
                .count(),
            "the blocked count drifted after {argv:?}"
        );
        if round % 50 == 0 {
            assert_consistent(&mut server, now, &argv);
        }
        let missing = vec![b"TTL".to_vec(), b"never-set".to_vec()];
        if round % 500 == 0 {
            server.switch_client(INSPECTOR);
            assert_eq!(server.execute(&missing, now), Reply::Integer(-2));
        }
    }
    // The generator must reach past argument checking often enough to mean something.
    assert!(answered > 15_000, "only {answered} lines were accepted");
}

#[test]
fn evictions_keep_the_memory_total_exact_under_every_policy() {
    for policy in [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
        "noeviction",
    ] {
        let mut rng = Rng(0x0e71_c7ed_0000_0001);
        let mut server = Server::new();
        let mut now: u64 = 1_700_000_000_000;
        run(
            &mut server,
            &["CONFIG", "SET", "maxmemory-policy", policy],
            now,
        );
        // A few hundred bytes above an empty server: a couple of the fuzz keys fill it.
        let limit = (crate::redis::memory::BASELINE + 400).to_string();
        run(&mut server, &["CONFIG", "SET", "maxmemory", &limit], now);
        for round in 0..20_000 {
            if rng.below(10) == 0 {
                now += rng.below(5_000) as u64;
            }
            let argv = random_line(&mut rng);
            if argv[0].eq_ignore_ascii_case(b"config") || argv[0].eq_ignore_ascii_case(b"flushall")
            {
                continue;
            }
            server.execute(&argv, now);
            // A random MULTI, SUBSCRIBE or blocking pop would hold every later line back;
            // reconnect instead, as redis-cli would after a Ctrl-C.
            let id = server.client_id();
            if !server.client(id).is_some_and(|c| c.is_plain()) {
                server.disconnect(id);
            }
            if round % 5 == 0 {
                assert_consistent(&mut server, now, &argv);
            }
        }
        let evicted = server.stats.evicted_keys;
        // Random lines rarely leave a key with a TTL, so volatile-* find little to take.
        match policy {
            "noeviction" => assert_eq!(evicted, 0),
            p if p.starts_with("allkeys") => assert!(evicted > 50, "{policy}: {evicted}"),
            _ => {}
        }
    }
}

#[test]
fn scan_returns_every_key_that_stays_put() {
    let mut server = Server::new();
    for i in 0..500 {
        run(&mut server, &["SET", &format!("key:{i}"), "v"], 0);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let reply = run(&mut server, &["SCAN", &cursor, "COUNT", "7"], 0).expand_all();
        let Reply::Array(parts) = reply else { panic!() };
        let (Reply::Bulk(next), Reply::Array(keys)) = (&parts[0], &parts[1]) else {
            panic!()
        };
        for key in keys {
            if let Reply::Bulk(k) = key {
                seen.insert(k.clone());
            }
        }
        // Churn between calls: deletions move other keys, new keys arrive.
        run(
            &mut server,
            &["DEL", &format!("key:{}", round * 3 + 400)],
            0,
        );
        run(&mut server, &["SET", &format!("new:{round}"), "v"], 0);
        round += 1;
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    for i in 0..400 {
        assert!(
            seen.contains(format!("key:{i}").as_bytes()),
            "key:{i} missed"
        );
    }
}

/// Throughput of SET/GET through `Server::execute`: run with
/// `cargo test --release -- --ignored --nocapture set_get_throughput`.
#[test]
#[ignore]
fn set_get_throughput() {
    let mut server = Server::new();
    let keys: Vec<Vec<Vec<u8>>> = (0..1000)
        .map(|i| {
            vec![
                b"SET".to_vec(),
                format!("key:{i}").into_bytes(),
                b"value".to_vec(),
            ]
        })
        .collect();
    let gets: Vec<Vec<Vec<u8>>> = keys
        .iter()
        .map(|k| vec![b"GET".to_vec(), k[1].clone()])
        .collect();
    let rounds = 1_000;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for argv in &keys {
            std::hint::black_box(server.execute(argv, 0));
        }
        for argv in &gets {
            std::hint::black_box(server.execute(argv, 0));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0} ops/s", (2 * rounds * keys.len()) as f64 / secs);
}
