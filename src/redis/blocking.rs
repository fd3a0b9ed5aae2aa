//! Blocking commands (Redis's blocked.c): BLPOP and friends wait for another client to
//! push, or for their timeout on the virtual clock.
//!
//! A command that finds nothing calls `block`, which parks its client with the command line.
//! Writes signal the keys they touched; after each command the clients parked on a ready
//! key have their command run again, longest-waiting first, until one round serves no one.
//! A client parked past its deadline gets the command's timeout reply when the clock passes
//! it (`time_out`, run by every command and every tick).

use super::commands;
use super::reply::Reply;
use super::types::{list, zset};
use super::Server;
use crate::clock::Millis;

/// A client's parked command.
#[derive(Debug, Clone)]
pub struct Blocked {
    /// The command line to run again (with `$` IDs already resolved).
    pub argv: Vec<Vec<u8>>,
    pub db: usize,
    pub keys: Vec<Vec<u8>>,
    /// Sandbox time at which it gives up; `None` waits for ever.
    pub deadline: Option<Millis>,
    /// When it blocked relative to the others: the lowest is served first.
    pub seq: u64,
    /// What it answers when the time runs out.
    pub timeout_reply: Reply,
}

/// Server-wide bookkeeping for blocked clients.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Clients currently blocked.
    blocked: usize,
    next_seq: u64,
    /// Keys written since the last round of serving, while someone was blocked.
    ready: Vec<(usize, Vec<u8>)>,
    /// Set while a parked command runs again: blocking again leaves it parked as it was.
    retrying: bool,
}

impl State {
    /// A write touched `key` in `db`.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.blocked > 0 && !self.ready.iter().any(|(d, k)| *d == db && k == key) {
            self.ready.push((db, key.to_vec()));
        }
    }

    /// Every key of `db` may have changed (SWAPDB).
    pub fn signal_db(&mut self, db: usize) {
        if self.blocked > 0 {
            self.ready.push((db, Vec::new()));
        }
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    pub fn blocked_count(&self) -> usize {
        self.blocked
    }
}

/// Parks the current client on `keys` until `deadline`, to run `argv` again when one of
/// them is written. Inside EXEC (or a retry that still finds nothing) it answers at once:
/// `timeout_reply` in a transaction, `Reply::Blocked` for a client that stays parked.
pub fn block(
    server: &mut Server,
    keys: &[Vec<u8>],
    deadline: Option<Millis>,
    argv: Vec<Vec<u8>>,
    timeout_reply: Reply,
) -> Reply {
    if server.blocking.retrying {
        return Reply::Blocked;
    }
    if server.no_block {
        return timeout_reply;
    }
    let seq = server.blocking.next_seq;
    server.blocking.next_seq += 1;
    server.blocking.blocked += 1;
    let db = server.selected_db();
    server.client_mut().blocked = Some(Blocked {
        argv,
        db,
        keys: keys.to_vec(),
        deadline,
        seq,
        timeout_reply,
    });
    Reply::Blocked
}

/// A timeout in seconds (BLPOP's argument) as an absolute deadline; `None` for 0 (for ever).
pub fn deadline_from_secs(server: &Server, arg: &[u8]) -> Result<Option<Millis>, Reply> {
    let value = std::str::from_utf8(arg)
        .ok()
        .filter(|t| !t.is_empty() && !t.starts_with(char::is_whitespace))
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|v| !v.is_nan());
    let Some(secs) = value else {
        return Err(Reply::err("timeout is not a float or out of range"));
    };
    let ms = (secs * 1000.0).ceil();
    if ms > i64::MAX as f64 {
        return Err(Reply::err("timeout is out of range"));
    }
    if ms < 0.0 {
        return Err(Reply::err("timeout is negative"));
    }
    deadline_after(server, ms as u64)
}

/// A timeout in milliseconds (XREAD's BLOCK) as an absolute deadline; `None` for 0.
pub fn deadline_after(server: &Server, ms: u64) -> Result<Option<Millis>, Reply> {
    if ms == 0 {
        return Ok(None);
    }
    match server.now.checked_add(ms).filter(|&t| t <= i64::MAX as u64) {
        Some(at) => Ok(Some(at)),
        None => Err(Reply::err("timeout is out of range")),
    }
}

/// Serves parked clients whose keys were written, longest-waiting first, as long as a round
/// serves someone (a served BLMOVE may feed the next list). Replies go to their outboxes.
pub fn serve_ready(server: &mut Server) {
    // Each round either serves a client or stops; the bound only guards against a cycle.
    for _ in 0..10_000 {
        let ready = std::mem::take(&mut server.blocking.ready);
        if ready.is_empty() || server.blocking.blocked == 0 {
            server.blocking.ready.clear();
            return;
        }
        let mut waiting: Vec<(u64, u64)> = server
            .clients()
            .iter()
            .filter_map(|c| {
                let b = c.blocked.as_ref()?;
                let hit = ready.iter().any(|(db, key)| {
                    *db == b.db && (key.is_empty() || b.keys.iter().any(|k| k == key))
                });
                hit.then_some((b.seq, c.id))
            })
            .collect();
        crate::sort::sort(&mut waiting);
        let mut served_any = false;
        for (_, id) in waiting {
            if retry(server, id) {
                served_any = true;
            }
        }
        if !served_any && server.blocking.ready.is_empty() {
            return;
        }
    }
}

/// Runs client `id`'s parked command again; true if it got its reply.
fn retry(server: &mut Server, id: u64) -> bool {
    let Some(blocked) = server.client(id).and_then(|c| c.blocked.clone()) else {
        return false;
    };
    let Ok(spec) = commands::resolve(&blocked.argv) else {
        return false;
    };
    let me = server.client_id();
    server.switch_client(id);
    let selected = server.selected_db();
    server.client_mut().db = blocked.db;
    server.blocking.retrying = true;
    let mut reply = super::clients::run_handler(server, spec, &blocked.argv);
    server.blocking.retrying = false;
    if server.resp() == 3 {
        reply = super::resp3::shape(spec.name, &blocked.argv, reply);
    }
    server.client_mut().db = selected;
    let served = !matches!(reply, Reply::Blocked);
    if served {
        unpark(server, reply);
    }
    server.switch_client(me);
    served
}

/// Gives client `id`, blocked, its late reply (a killed script's error), then runs what it
/// sent meanwhile.
pub fn unblock_with(server: &mut Server, id: u64, reply: Reply) {
    if server.client(id).is_none_or(|c| c.blocked.is_none()) {
        return;
    }
    let me = server.client_id();
    server.switch_client(id);
    unpark(server, reply);
    server.switch_client(me);
}

/// Gives the current client its late reply, then runs what it sent meanwhile.
fn unpark(server: &mut Server, reply: Reply) {
    let id = server.client_id();
    super::scripting::busy::ended(server, id);
    server.client_mut().blocked = None;
    server.blocking.blocked = server.blocking.blocked.saturating_sub(1);
    server.client_mut().outbox.push(reply);
    server.client_mut().late_replies += 1;
    let backlog = std::mem::take(&mut server.client_mut().backlog);
    let mut rest = backlog.into_iter();
    for argv in rest.by_ref() {
        let reply = super::clients::dispatch(server, &argv);
        if matches!(reply, Reply::Blocked) {
            break;
        }
        server.client_mut().outbox.push(reply);
        server.client_mut().late_replies += 1;
    }
    let left: Vec<_> = rest.collect();
    server.client_mut().backlog.extend(left);
}

/// Answers every parked client whose deadline has passed with its timeout reply.
pub fn time_out(server: &mut Server) {
    if server.blocking.blocked == 0 {
        return;
    }
    if super::scripting::busy::progress(server) {
        server.timed_changes += 1;
    }
    let now = server.now;
    let mut due: Vec<(u64, u64)> = server
        .clients()
        .iter()
        .filter_map(|c| {
            let b = c.blocked.as_ref()?;
            b.deadline.filter(|&d| d <= now).map(|_| (b.seq, c.id))
        })
        .collect();
    crate::sort::sort(&mut due);
    server.timed_changes += due.len() as u64;
    let me = server.client_id();
    for (_, id) in due {
        server.switch_client(id);
        let reply = server
            .client_mut()
            .blocked
            .as_ref()
            .map_or(Reply::NilArray, |b| b.timeout_reply.clone());
        unpark(server, reply);
    }
    server.switch_client(me);
}

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: ends another client's block as if it timed
/// out, or with an UNBLOCKED error. 1 if that client was blocked, else 0.
pub fn client_unblock(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(id) = super::util::parse_i64(&argv[2]) else {
        return Reply::err("value is not an integer or out of range");
    };
    let with_error = match argv.get(3) {
        None => false,
        Some(w) if w.eq_ignore_ascii_case(b"timeout") => false,
        Some(w) if w.eq_ignore_ascii_case(b"error") => true,
        Some(_) => return Reply::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    };
    let Ok(id) = u64::try_from(id) else {
        return Reply::Integer(0);
    };
    let Some(timeout_reply) = server
        .client(id)
        .and_then(|c| c.blocked.as_ref())
        .map(|b| b.timeout_reply.clone())
    else {
        return Reply::Integer(0);
    };
    let reply = if with_error {
        Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    } else {
        timeout_reply
    };
    let me = server.client_id();
    server.switch_client(id);
    unpark(server, reply);
    server.switch_client(me);
    Reply::Integer(1)
}

/// A client disconnecting while parked.
pub fn release(server: &mut Server, id: u64) {
    super::scripting::busy::ended(server, id);
    if server.client(id).is_some_and(|c| c.blocked.is_some()) {
        server.blocking.blocked = server.blocking.blocked.saturating_sub(1);
    }
}

fn keys_and_deadline<'a>(
    server: &Server,
    argv: &'a [Vec<u8>],
) -> Result<(&'a [Vec<u8>], Option<Millis>), Reply> {
    let (timeout, keys) = argv[1..]
        .split_last()
        .ok_or_else(|| commands::wrong_arity_for(argv))?;
    Ok((keys, deadline_from_secs(server, timeout)?))
}

fn bpop(server: &mut Server, argv: &[Vec<u8>], end: list::End) -> Reply {
    let (keys, deadline) = match keys_and_deadline(server, argv) {
        Ok(parsed) => parsed,
        Err(e) => return e,
    };
    for key in keys {
        match list::pop(server, key, end, 1) {
            Err(e) => return e,
            Ok(Some(popped)) if !popped.is_empty() => {
                return Reply::Array(vec![
                    Reply::Bulk(key.clone()),
                    Reply::Bulk(popped.get(0).unwrap_or_default().into_owned()),
                ])
            }
            Ok(_) => {}
        }
    }
    block(server, keys, deadline, argv.to_vec(), Reply::NilArray)
}

/// BLPOP key [key ...] timeout
pub fn blpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    bpop(server, argv, list::End::Left)
}

/// BRPOP key [key ...] timeout
pub fn brpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    bpop(server, argv, list::End::Right)
}

fn bmove(
    server: &mut Server,
    argv: &[Vec<u8>],
    from: list::End,
    to: list::End,
    timeout: &[u8],
) -> Reply {
    let deadline = match deadline_from_secs(server, timeout) {
        Ok(d) => d,
        Err(e) => return e,
    };
    match list::lmove(server, &argv[1], &argv[2], from, to) {
        Err(e) => e,
        Ok(Some(element)) => Reply::Bulk(element),
        Ok(None) => block(server, &argv[1..2], deadline, argv.to_vec(), Reply::Nil),
    }
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
pub fn blmove(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let (from, to) = match (list::End::parse(&argv[3]), list::End::parse(&argv[4])) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    bmove(server, argv, from, to, &argv[5])
}

/// BRPOPLPUSH source destination timeout
pub fn brpoplpush(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    bmove(server, argv, list::End::Right, list::End::Left, &argv[3])
}

/// The non-blocking twin's command line: `argv` without its timeout, under `name`.
fn without_timeout(name: &str, argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut line = vec![name.as_bytes().to_vec()];
    line.extend_from_slice(&argv[2..]);
    line
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn blmpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let deadline = match deadline_from_secs(server, &argv[1]) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let twin = without_timeout("lmpop", argv);
    let keys = match list::parse_mpop(&twin, 1) {
        Ok(args) => args.keys.to_vec(),
        Err(e) => return e,
    };
    match list::lmpop(server, &twin) {
        Reply::NilArray => block(server, &keys, deadline, argv.to_vec(), Reply::NilArray),
        reply => reply,
    }
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub fn bzmpop(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let deadline = match deadline_from_secs(server, &argv[1]) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let twin = without_timeout("zmpop", argv);
    match zset::zmpop(server, &twin) {
        Reply::NilArray => {
            let numkeys = super::util::parse_i64(&twin[1]).unwrap_or(0).max(0) as usize;
            let keys = twin.get(2..2 + numkeys).unwrap_or_default().to_vec();
            block(server, &keys, deadline, argv.to_vec(), Reply::NilArray)
        }
        reply => reply,
    }
}

fn bzpop(server: &mut Server, argv: &[Vec<u8>], max: bool) -> Reply {
    let (keys, deadline) = match keys_and_deadline(server, argv) {
        Ok(parsed) => parsed,
        Err(e) => return e,
    };
    let name: &[u8] = if max { b"zpopmax" } else { b"zpopmin" };
    for key in keys {
        let line = [name.to_vec(), key.clone()];
        let popped = if max {
            zset::zpopmax(server, &line)
        } else {
            zset::zpopmin(server, &line)
        };
        match popped {
            Reply::Array(mut pair) if pair.len() == 2 => {
                let score = pair.pop().unwrap_or(Reply::Nil);
                let member = pair.pop().unwrap_or(Reply::Nil);
                return Reply::Array(vec![Reply::Bulk(key.clone()), member, score]);
            }
            e @ Reply::Error(_) => return e,
            _ => {}
        }
    }
    block(server, keys, deadline, argv.to_vec(), Reply::NilArray)
}

/// BZPOPMIN key [key ...] timeout
pub fn bzpopmin(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    bzpop(server, argv, false)
}

/// BZPOPMAX key [key ...] timeout
pub fn bzpopmax(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    bzpop(server, argv, true)
}

#[cfg(test)]
mod tests {
    use crate::redis::testing::{outbox_text as outbox, run_as};
    use crate::redis::Server;

    #[test]
    fn a_push_wakes_the_longest_waiting_client_first() {
        let mut s = Server::new();
        assert_eq!(run_as(&mut s, 1, "BLPOP q 0", 0), "");
        assert_eq!(run_as(&mut s, 2, "BLPOP q 0", 0), "");
        assert_eq!(run_as(&mut s, 3, "RPUSH q a", 0), "(integer) 1\n");
        assert_eq!(outbox(&mut s, 1), "1) \"q\"\n2) \"a\"\n");
        assert_eq!(outbox(&mut s, 2), "");
        assert_eq!(run_as(&mut s, 3, "RPUSH q b c", 0), "(integer) 2\n");
        assert_eq!(outbox(&mut s, 2), "1) \"q\"\n2) \"b\"\n");
        assert_eq!(run_as(&mut s, 3, "LRANGE q 0 -1", 0), "1) \"c\"\n");
    }

    #[test]
    fn timeouts_follow_the_virtual_clock() {
        let mut s = Server::new();
        assert_eq!(run_as(&mut s, 1, "BLPOP q 1.5", 0), "");
        assert_eq!(run_as(&mut s, 1, "PING", 100), "");
        s.tick(1_499);
        assert_eq!(outbox(&mut s, 1), "");
        s.tick(1_500);
        assert_eq!(outbox(&mut s, 1), "(nil)\nPONG\n");
        let cases = [
            ("BLPOP q -1", "(error) ERR timeout is negative\n"),
            (
                "BLPOP q x",
                "(error) ERR timeout is not a float or out of range\n",
            ),
            ("BLMOVE a b LEFT UP 0", "(error) ERR syntax error\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(run_as(&mut s, 1, line, 2_000), expected, "{line}");
        }
    }

    #[test]
    fn client_unblock_ends_a_block_with_a_timeout_or_an_error() {
        let mut s = Server::new();
        assert_eq!(run_as(&mut s, 1, "BLPOP q 0", 0), "");
        assert_eq!(
            run_as(&mut s, 2, "CLIENT UNBLOCK 1 ERROR", 0),
            "(integer) 1\n"
        );
        assert_eq!(
            outbox(&mut s, 1),
            "(error) UNBLOCKED client unblocked via CLIENT UNBLOCK\n"
        );
        assert_eq!(run_as(&mut s, 1, "BLPOP q 0", 0), "");
        assert_eq!(run_as(&mut s, 2, "CLIENT UNBLOCK 1", 0), "(integer) 1\n");
        assert_eq!(outbox(&mut s, 1), "(nil)\n");
        let cases = [
            ("CLIENT UNBLOCK 1", "(integer) 0\n"),
            ("CLIENT UNBLOCK 999", "(integer) 0\n"),
            (
                "CLIENT UNBLOCK x",
                "(error) ERR value is not an integer or out of range\n",
            ),
            (
                "CLIENT UNBLOCK 1 NOPE",
                "(error) ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\n",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(run_as(&mut s, 2, line, 0), expected, "{line}");
        }
    }

    #[test]
    fn blmove_and_sorted_set_pops_wake_too() {
        let mut s = Server::new();
        assert_eq!(run_as(&mut s, 1, "BLMOVE src dst LEFT RIGHT 0", 0), "");
        assert_eq!(run_as(&mut s, 2, "BRPOP dst 0", 0), "");
        assert_eq!(run_as(&mut s, 3, "BZPOPMIN z 0", 0), "");
        run_as(&mut s, 4, "LPUSH src x", 0);
        assert_eq!(outbox(&mut s, 1), "\"x\"\n");
        assert_eq!(outbox(&mut s, 2), "1) \"dst\"\n2) \"x\"\n");
        run_as(&mut s, 4, "ZADD z 2 b 1 a", 0);
        assert_eq!(outbox(&mut s, 3), "1) \"z\"\n2) \"a\"\n3) \"1\"\n");
    }
}
