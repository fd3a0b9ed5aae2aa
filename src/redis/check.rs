//! A lesson's check: one read-only command run on the student's behalf, which must leave no
//! trace a student could see. It does not count in INFO's stats (commands processed,
//! keyspace hits and misses: lesson 12 measures a hit rate), does not reach the slow log or
//! MONITOR, does not touch the keys' LRU/LFU data (OBJECT IDLETIME, eviction order), and
//! does not depend on what the student's client is in the middle of (MULTI, SUBSCRIBE, a
//! selected database): it runs as a fresh client on database 0, for the moment of the call.
//! Commands that may write are refused, whatever their arguments.

use super::clients::{self, Client};
use super::commands;
use super::{cli, Server, RAW_OUTPUT};
use crate::clock::Millis;

/// Commands without the `readonly` flag that still only read (server-wide introspection).
const READ_ONLY_EXTRA: &[&str] = &[
    "info",
    "config|get",
    "pubsub|channels",
    "pubsub|numsub",
    "pubsub|numpat",
    "pubsub|shardchannels",
    "pubsub|shardnumsub",
    "ping",
    "echo",
    "time",
    "lastsave",
    "client|list",
    "command|count",
];

/// Whether a check may run `spec`.
fn readable(spec: &commands::CommandSpec) -> bool {
    (spec.has_flag("readonly") && !spec.has_flag("write")) || READ_ONLY_EXTRA.contains(&spec.name)
}

/// Runs `line` as a check at sandbox time `now`: `Ok` with what redis-cli would print, or
/// `Err` with why the line may not be a check (not a command, or one that may write).
pub fn check(server: &mut Server, line: &str, now: Millis) -> Result<String, String> {
    let Some(argv) = cli::split_args(line) else {
        return Err("Invalid argument(s)".into());
    };
    if argv.is_empty() {
        return Err("a check needs a command".into());
    }
    let spec = match commands::resolve(&argv) {
        Ok(spec) => spec,
        Err(reply) => return Ok(reply.to_cli_text()),
    };
    if !readable(spec) {
        return Err(format!(
            "'{}' is not a read-only command; a check may only read",
            spec.name
        ));
    }
    if !spec.arity_ok(argv.len()) {
        return Ok(format!(
            "(error) ERR wrong number of arguments for '{}' command\n",
            spec.name
        ));
    }
    server.now = server.now.max(now);
    let current = server.current;
    let id = server.clients[current].id;
    let student = std::mem::replace(&mut server.clients[current], Client::new(id, server.now));
    let stats = server.stats.clone();
    let slowlog = server.slowlog.clone();
    // The access data of the keys the command reads, put back afterwards.
    let mut accessed = Vec::new();
    commands::for_each_key(spec, &argv, |key| {
        if let Some(entry) = server.dbs[0].peek(key, server.now) {
            accessed.push((key.to_vec(), entry.accessed));
        }
    });
    let no_block = std::mem::replace(&mut server.no_block, true);

    let reply = clients::run_handler(server, spec, &argv);

    server.no_block = no_block;
    for (key, at) in accessed {
        if let Some(entry) = server.dbs[0].peek(&key, server.now) {
            entry.accessed = at;
        }
    }
    server.stats = stats;
    server.slowlog = slowlog;
    server.clients[current] = student;
    Ok(match reply {
        super::reply::Reply::Bulk(text) if RAW_OUTPUT.contains(&spec.name) => {
            String::from_utf8_lossy(&text).into_owned()
        }
        reply => reply.to_cli_text(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::testing::run_as;

    fn run(server: &mut Server, line: &str, now: Millis) -> String {
        run_as(server, 1, line, now)
    }

    #[test]
    fn checks_answer_like_the_console() {
        let mut s = Server::new();
        run(&mut s, "SETEX product:123 300 v", 1_000);
        let cases = [
            ("EXISTS product:123", "(integer) 1\n"),
            ("TTL product:123", "(integer) 300\n"),
            ("GET product:123", "\"v\"\n"),
            ("DBSIZE", "(integer) 1\n"),
            ("GET nope", "(nil)\n"),
            (
                "CONFIG GET maxmemory-policy",
                "1) \"maxmemory-policy\"\n2) \"noeviction\"\n",
            ),
            (
                "NOSUCH x",
                "(error) ERR unknown command 'NOSUCH', with args beginning with: 'x' \n",
            ),
            (
                "TTL",
                "(error) ERR wrong number of arguments for 'ttl' command\n",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(
                check(&mut s, line, 1_000),
                Ok(expected.to_string()),
                "{line}"
            );
        }
        assert!(check(&mut s, "INFO stats", 1_000)
            .is_ok_and(|t| t.starts_with("# Stats\r\n") || t.starts_with("# Stats\n")));
    }

    #[test]
    fn writes_are_refused_and_nothing_changes() {
        let mut s = Server::new();
        for line in [
            "SET a 1",
            "DEL a",
            "FLUSHALL",
            "CONFIG SET maxmemory 1",
            "SUBSCRIBE c",
            "MULTI",
            "EXPIRE a 1",
        ] {
            let refused = check(&mut s, line, 0);
            assert!(refused.is_err(), "{line}: {refused:?}");
        }
        assert_eq!(
            check(&mut s, "GET 'a", 0),
            Err("Invalid argument(s)".into())
        );
        assert_eq!(run(&mut s, "DBSIZE", 0), "(integer) 0\n");
    }

    #[test]
    fn a_check_leaves_no_trace() {
        let mut s = Server::new();
        run(&mut s, "CONFIG SET maxmemory-policy allkeys-lru", 1_000);
        run(&mut s, "SET k v", 1_000);
        run(&mut s, "GET k", 1_000);
        run(&mut s, "MULTI", 1_000);
        let info = |s: &mut Server| check(s, "INFO stats", 9_000).unwrap_or_default();
        let before = info(&mut s);
        for line in ["GET k", "GET missing", "EXISTS k", "OBJECT IDLETIME k"] {
            assert!(check(&mut s, line, 9_000).is_ok(), "{line}");
        }
        assert_eq!(info(&mut s), before);
        assert!(before.contains("keyspace_hits:1\r\n") || before.contains("keyspace_hits:1\n"));
        // The student's client is still in its transaction, and the key's idle time still
        // counts from the student's own GET.
        assert_eq!(run(&mut s, "OBJECT IDLETIME k", 9_000), "QUEUED\n");
        assert_eq!(run(&mut s, "EXEC", 9_000), "1) (integer) 8\n");
    }
}
