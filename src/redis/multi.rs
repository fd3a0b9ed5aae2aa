//! Transactions (Redis's multi.c): MULTI queues, EXEC runs the queue as one step, WATCH
//! makes EXEC fail once a watched key was touched. Every successful write ends in
//! `after_write`, which marks watchers, wakes blocked clients and fires keyspace events.

use super::commands::{self, CommandSpec};
use super::reply::Reply;
use super::{notify, Client, Server};

/// What MULTI has queued.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    pub commands: Vec<Vec<Vec<u8>>>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub failed: bool,
}

/// A WATCHed key, and whether it existed then: a key that was there and has expired since
/// counts as touched, as in Redis (`isWatchedKeyExpired`).
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    pub db: usize,
    pub key: Vec<u8>,
    pub existed: bool,
}

/// MULTI
pub fn multi(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    server.client_mut().multi = Some(Queue::default());
    Reply::ok()
}

/// DISCARD
pub fn discard(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let client = server.client_mut();
    if client.multi.take().is_none() {
        return Reply::err("DISCARD without MULTI");
    }
    unwatch_all(client);
    Reply::ok()
}

/// EXEC: the queued commands' replies, or `(nil)` when a watched key was touched.
pub fn exec(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let Some(queue) = server.client_mut().multi.take() else {
        return Reply::err("EXEC without MULTI");
    };
    if queue.failed {
        unwatch_all(server.client_mut());
        return Reply::Error("EXECABORT Transaction discarded because of previous errors.".into());
    }
    let touched = server.clients[server.current].watch_dirty || watched_key_expired(server);
    unwatch_all(server.client_mut());
    if touched {
        return Reply::NilArray;
    }
    let was = std::mem::replace(&mut server.no_block, true);
    let mut replies = Vec::with_capacity(queue.commands.len());
    for argv in &queue.commands {
        let reply = match commands::resolve(argv) {
            Ok(spec) => super::clients::call(server, spec, argv),
            Err(reply) => reply,
        };
        // SUBSCRIBE a b answers twice; inside EXEC each answer is one element.
        match reply {
            Reply::Many(many) => replies.extend(many),
            reply => replies.push(reply),
        }
    }
    server.no_block = was;
    Reply::Array(replies)
}

/// WATCH key [key ...]
pub fn watch(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let db = server.selected_db();
    let now = server.now;
    for key in &argv[1..] {
        let already = server.clients[server.current]
            .watched
            .iter()
            .any(|w| w.db == db && w.key == *key);
        if already {
            continue;
        }
        let existed = server.dbs[db].contains(key, now);
        server.client_mut().watched.push(Watched {
            db,
            key: key.clone(),
            existed,
        });
    }
    Reply::ok()
}

/// UNWATCH
pub fn unwatch(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    unwatch_all(server.client_mut());
    Reply::ok()
}

pub fn unwatch_all(client: &mut Client) {
    client.watched.clear();
    client.watch_dirty = false;
}

fn watched_key_expired(server: &mut Server) -> bool {
    let now = server.now;
    let watched = std::mem::take(&mut server.clients[server.current].watched);
    let expired = watched
        .iter()
        .any(|w| w.existed && !server.dbs[w.db].contains(&w.key, now));
    server.clients[server.current].watched = watched;
    expired
}

/// Marks every client watching `key` in `db` (the writer included, as Redis does).
pub fn touch_key(server: &mut Server, db: usize, key: &[u8]) {
    for client in &mut server.clients {
        if client.watched.iter().any(|w| w.db == db && w.key == key) {
            client.watch_dirty = true;
        }
    }
}

/// Marks every client watching a key of `db` that exists now: FLUSHDB, FLUSHALL and SWAPDB
/// touch those before they run.
fn touch_existing_in(server: &mut Server, db: usize) {
    let now = server.now;
    let Server { clients, dbs, .. } = server;
    for client in clients.iter_mut() {
        let touched = client
            .watched
            .iter()
            .any(|w| w.db == db && dbs.get_mut(db).is_some_and(|d| d.contains(&w.key, now)));
        if touched {
            client.watch_dirty = true;
        }
    }
}

/// What a database-wide write does to watchers before it runs (the keys are gone after).
pub fn before_write(server: &mut Server, spec: &'static CommandSpec, argv: &[Vec<u8>]) {
    let targets: Vec<usize> = match spec.name {
        "flushall" => (0..server.dbs.len()).collect(),
        "flushdb" => vec![server.selected_db()],
        "swapdb" => argv[1..]
            .iter()
            .filter_map(|a| super::util::parse_i64(a))
            .filter_map(|n| usize::try_from(n).ok())
            .filter(|&n| n < server.dbs.len())
            .collect(),
        _ => return,
    };
    for db in targets {
        touch_existing_in(server, db);
        if spec.name == "swapdb" {
            server.blocking.signal_db(db);
        }
    }
}

/// Keys a write command names that it may have changed (key specs not marked read-only).
pub fn written_keys(argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    super::introspect::flagged_keys(argv)
        .into_iter()
        .filter(|(_, flags)| !flags.contains(&"RO"))
        .map(|(key, _)| key)
        .collect()
}

/// A write command that has just succeeded.
pub struct Write<'a> {
    pub spec: &'static CommandSpec,
    pub argv: &'a [Vec<u8>],
    /// The database it ran in.
    pub db: usize,
    pub reply: &'a Reply,
    /// Which of its written keys existed before it ran (empty when notifications were off).
    pub before: &'a [bool],
}

/// What a successful write means for others: watchers of its keys are marked, clients
/// blocked on them get a chance to be served, keyspace events fire.
pub fn after_write(server: &mut Server, write: &Write) {
    // The common case, one client typing with nobody watching, waiting or listening for
    // events, costs no key extraction at all.
    let watching = server.clients.iter().any(|c| !c.watched.is_empty());
    if !watching && server.blocking.blocked_count() == 0 && server.notify_flags == 0 {
        return;
    }
    let (spec, argv, db) = (write.spec, write.argv, write.db);
    match spec.name {
        "flushall" | "flushdb" | "swapdb" => {}
        _ if !notify::changed(spec.name, write.reply) => {}
        _ => {
            let keys = written_keys(argv);
            for key in &keys {
                touch_key(server, db, key);
                server.blocking.signal(db, key);
            }
            if spec.name == "move" {
                if let Some(target) = argv
                    .get(2)
                    .and_then(|a| super::util::parse_i64(a))
                    .and_then(|n| usize::try_from(n).ok())
                {
                    for key in &keys {
                        touch_key(server, target, key);
                    }
                }
            }
        }
    }
    notify::after_write(server, write);
}

#[cfg(test)]
mod tests {
    use crate::redis::{cli, Server};

    /// Runs `(client, line, expected)` rows, switching clients as the rows say.
    fn script(rows: &[(u64, &str, &str)]) {
        let mut s = Server::new();
        for (i, (client, line, expected)) in rows.iter().enumerate() {
            s.switch_client(*client);
            let argv = cli::split_args(line).expect("balanced line");
            // A row marked `@late` runs ten seconds on, when short TTLs have run out.
            let (argv, now) = match argv.split_last() {
                Some((last, rest)) if last == b"@late" => (rest.to_vec(), 10_000),
                _ => (argv, 0),
            };
            let got = s.execute(&argv, now).to_cli_text();
            assert_eq!(got, *expected, "row {i}: client {client} {line}");
        }
    }

    #[test]
    fn queued_errors_abort_and_runtime_errors_do_not_roll_back() {
        script(&[
            (1, "MULTI", "OK\n"),
            (
                1,
                "MULTI",
                "(error) ERR Command 'multi' not allowed inside a transaction\n",
            ),
            (1, "SET a 1", "QUEUED\n"),
            (
                1,
                "EXEC",
                "(error) EXECABORT Transaction discarded because of previous errors.\n",
            ),
            (1, "EXEC", "(error) ERR EXEC without MULTI\n"),
            (1, "DISCARD", "(error) ERR DISCARD without MULTI\n"),
            (1, "MULTI", "OK\n"),
            (
                1,
                "INCR a x",
                "(error) ERR wrong number of arguments for 'incr' command\n",
            ),
            (
                1,
                "EXEC",
                "(error) EXECABORT Transaction discarded because of previous errors.\n",
            ),
            (1, "MULTI", "OK\n"),
            (1, "SET a x", "QUEUED\n"),
            (1, "INCR a", "QUEUED\n"),
            (1, "GET a", "QUEUED\n"),
            (
                1,
                "EXEC",
                "1) OK\n2) (error) ERR value is not an integer or out of range\n3) \"x\"\n",
            ),
            (1, "MULTI", "OK\n"),
            (1, "BLPOP nolist 0", "QUEUED\n"),
            (1, "EXEC", "1) (nil)\n"),
        ]);
    }

    #[test]
    fn a_watched_key_touched_by_anyone_makes_exec_fail() {
        script(&[
            (1, "WATCH a", "OK\n"),
            (1, "SET a 2", "OK\n"),
            (1, "MULTI", "OK\n"),
            (1, "GET a", "QUEUED\n"),
            (1, "EXEC", "(nil)\n"),
            (1, "WATCH a b", "OK\n"),
            (2, "SET b 1", "OK\n"),
            (1, "MULTI", "OK\n"),
            (1, "EXEC", "(nil)\n"),
            (1, "WATCH a", "OK\n"),
            (1, "UNWATCH", "OK\n"),
            (2, "SET a 3", "OK\n"),
            (1, "MULTI", "OK\n"),
            (1, "GET a", "QUEUED\n"),
            (1, "EXEC", "1) \"3\"\n"),
            (1, "WATCH a", "OK\n"),
            (2, "FLUSHALL", "OK\n"),
            (1, "MULTI", "OK\n"),
            (1, "EXEC", "(nil)\n"),
            (1, "SET e v PX 100", "OK\n"),
            (1, "WATCH e", "OK\n"),
            (1, "MULTI", "OK\n"),
            (1, "PING @late", "QUEUED\n"),
            (1, "EXEC", "(nil)\n"),
            (1, "WATCH nothere", "OK\n"),
            (2, "GET nothere", "(nil)\n"),
            (1, "MULTI", "OK\n"),
            (1, "EXEC", "(empty array)\n"),
        ]);
    }
}
