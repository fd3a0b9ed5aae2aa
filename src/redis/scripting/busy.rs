//! Long scripts on the virtual clock: BUSY, SCRIPT KILL, FUNCTION KILL, UNKILLABLE.
//!
//! The real server runs a script to its end; once it has run for `busy-reply-threshold` ms it
//! answers every other client `BUSY` (bar a few commands) until the script ends or SCRIPT KILL
//! / FUNCTION KILL stops it, which it refuses (`UNKILLABLE`) once the script has written.
//!
//! Here a script's time is its steps: `STEPS_PER_MS` steps are one virtual millisecond. The
//! interpreter walks the syntax tree on the machine stack and cannot pause and carry on later,
//! so a script that passes the threshold is dealt with at once, in one of four ways:
//!
//! - it wrote before the threshold: it runs to its end (or the step budget) now, and its
//!   client gets the reply when the clock reaches the time the last step would take; a kill
//!   is refused with UNKILLABLE;
//! - it would write after the threshold: it is stopped just before that write, with nothing
//!   done. Until the clock reaches the time of that write a kill stops it; when the clock
//!   gets there it is run again from the start, for real, as the server would have gone on:
//!   nobody else could run a command meanwhile and its clock stands at its start time, so the
//!   second run sees what the first saw;
//! - it ends without writing: its reply is held until its end time; a kill stops it;
//! - it neither writes nor ends within the step budget: it runs for ever, BUSY until killed.
//!
//! While it is busy the client that runs it is parked like a blocked client (its reply is
//! late, what it sends meanwhile waits), the active expiry cycle stops, as the real server's
//! does, and FUNCTION STATS shows a running function.

use super::engine::{
    execute, script_error, Entry, Outcome, EVAL_CHUNK, FUNCTION_CHUNK, STEP_BUDGET,
};
use super::vm::Error;
use super::Server;
use crate::clock::Millis;
use crate::redis::blocking;
use crate::redis::commands::CommandSpec;
use crate::redis::reply::{self, Reply};

/// Steps of a script per millisecond of virtual time: far slower than the real server's Lua,
/// so that a script reaches the 5 s threshold (2.5 million steps) in a fraction of a second
/// of the browser's time; the step budget is 10 s of virtual time.
pub const STEPS_PER_MS: u64 = 500;

const SLOW_EVAL: &str =
    "BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const SLOW_FUNCTION: &str =
    "BUSY Valkey is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// A script's code and inputs, kept to run it again.
#[derive(Debug, Clone)]
pub struct Script {
    pub body: Vec<u8>,
    pub keys: Vec<Vec<u8>>,
    pub args: Vec<Vec<u8>>,
    pub read_only: bool,
}

/// The script the server is busy with.
#[derive(Debug)]
pub struct Busy {
    client: u64,
    script: Script,
    /// FCALL's function; None for EVAL.
    function: Option<String>,
    argv: Vec<Vec<u8>>,
    started: Millis,
    /// When the threshold passed: a kill sent earlier is read then.
    busy_from: Millis,
    /// When it wrote (from then on it cannot be killed).
    wrote_at: Option<Millis>,
    /// When it would make its first write: it runs again, for real, then.
    rerun_at: Option<Millis>,
    /// The line it stood on when last stopped, for the kill's error.
    line: u32,
}

/// The threshold in steps, from `busy-reply-threshold`.
pub fn threshold_steps(server: &Server) -> u64 {
    u64::try_from(server.config.busy_reply_threshold)
        .unwrap_or(0)
        .saturating_mul(STEPS_PER_MS)
}

/// The virtual time `steps` into a script that started at `started`.
fn at(started: Millis, steps: u64) -> Millis {
    started.saturating_add(steps.div_ceil(STEPS_PER_MS))
}

/// Makes the server busy with a script that ran past the threshold, and parks its client.
pub(super) fn suspend(
    server: &mut Server,
    script: Script,
    entry: Entry,
    argv: &[Vec<u8>],
    outcome: Outcome,
) -> Reply {
    let started = server.now;
    let function = match entry {
        Entry::Chunk => None,
        Entry::Function(name) => Some(name.to_string()),
    };
    let mut busy = Busy {
        client: server.client_id(),
        script,
        function,
        argv: argv.to_vec(),
        started,
        busy_from: at(started, threshold_steps(server)),
        wrote_at: outcome.first_write.map(|s| at(started, s)),
        rerun_at: None,
        line: outcome.line,
    };
    let (deadline, reply) = if outcome.paused {
        busy.rerun_at = Some(at(started, outcome.steps));
        (None, Reply::Nil)
    } else {
        finish_time(&busy, &outcome)
    };
    server.scripting.busy = Some(Box::new(busy));
    blocking::block(server, &[], deadline, argv.to_vec(), reply)
}

/// When a script that ran to its end (or the budget) answers, and what.
fn finish_time(busy: &Busy, outcome: &Outcome) -> (Option<Millis>, Reply) {
    if outcome.capped {
        if busy.wrote_at.is_none() {
            // Read-only and endless: it runs until it is killed.
            return (None, Reply::Nil);
        }
        // The real server could not stop it at all (SHUTDOWN NOSAVE); the sandbox stops it at
        // the budget.
        return (Some(at(busy.started, STEP_BUDGET)), outcome.reply.clone());
    }
    (Some(at(busy.started, outcome.steps)), outcome.reply.clone())
}

/// Moves a busy script on to the clock's time: one stopped before its first write runs
/// again, for real, once the clock reaches that write. Run before any client is served.
/// Whether it ran one.
pub fn progress(server: &mut Server) -> bool {
    let due = server
        .scripting
        .busy
        .as_ref()
        .and_then(|b| b.rerun_at)
        .is_some_and(|t| t <= server.now);
    if !due {
        return false;
    }
    let Some(mut busy) = server.scripting.busy.take() else {
        return false;
    };
    if server.client(busy.client).is_none() {
        return false;
    }
    let me = server.client_id();
    server.switch_client(busy.client);
    let now = server.now;
    // Its clock stands where it started, as every key lookup of a running script does.
    server.now = busy.started;
    let name = busy.function.clone();
    let entry = match &name {
        Some(name) => Entry::Function(name),
        None => Entry::Chunk,
    };
    let s = busy.script.clone();
    let outcome = execute(
        server,
        &s.body,
        &s.keys,
        &s.args,
        s.read_only,
        &entry,
        u64::MAX,
    );
    server.now = now;
    busy.rerun_at = None;
    busy.wrote_at = outcome.first_write.map(|w| at(busy.started, w));
    busy.line = outcome.line;
    let (deadline, reply) = finish_time(&busy, &outcome);
    if let Some(blocked) = server.client_mut().blocked.as_mut() {
        blocked.deadline = deadline;
        blocked.timeout_reply = reply;
    }
    server.scripting.busy = Some(busy);
    server.switch_client(me);
    true
}

/// Whether the current client's command is refused because a script is busy: every command
/// but those flagged `allow_busy`, from every client but the script's own (which waits).
pub fn refusal(server: &Server, spec: &CommandSpec) -> Option<Reply> {
    let busy = server.scripting.busy.as_ref()?;
    if busy.client == server.client_id() || spec.has_flag("allow_busy") {
        return None;
    }
    Some(busy_error(busy))
}

fn busy_error(busy: &Busy) -> Reply {
    reply::error(if busy.function.is_none() {
        SLOW_EVAL
    } else {
        SLOW_FUNCTION
    })
}

/// The script ended: its client got its reply (or went away).
pub fn ended(server: &mut Server, client: u64) {
    if server
        .scripting
        .busy
        .as_ref()
        .is_some_and(|b| b.client == client)
    {
        server.scripting.busy = None;
    }
}

/// SCRIPT KILL (`eval`) and FUNCTION KILL, as `scriptKill`.
pub fn kill(server: &mut Server, eval: bool) -> Reply {
    let Some(busy) = server.scripting.busy.as_ref() else {
        return reply::error("NOTBUSY No scripts in execution right now.");
    };
    // A kill sent before the threshold passed is read when it does.
    let read_at = server.now.max(busy.busy_from);
    if busy.wrote_at.is_some_and(|t| t <= read_at) {
        return reply::error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
    }
    if eval && busy.function.is_some() {
        return reply::error(SLOW_FUNCTION);
    }
    if !eval && busy.function.is_none() {
        return reply::error(SLOW_EVAL);
    }
    let (client, line) = (busy.client, busy.line);
    let text = if eval {
        script_error(Error::Killed(line), EVAL_CHUNK)
    } else {
        match script_error(Error::Killed(line), FUNCTION_CHUNK) {
            Reply::Error(t) => Reply::Error(t.replace("SCRIPT KILL", "FUNCTION KILL")),
            other => other,
        }
    };
    server.scripting.busy = None;
    blocking::unblock_with(server, client, text);
    Reply::ok()
}

/// FUNCTION STATS' `running_script`: nil, the running function, or BUSY for an EVAL.
pub fn running_script(server: &Server) -> Result<Reply, Reply> {
    let Some(busy) = server.scripting.busy.as_ref() else {
        return Ok(Reply::Nil);
    };
    let Some(name) = &busy.function else {
        return Err(busy_error(busy));
    };
    let resp = server.resp();
    let elapsed = server.now.max(busy.busy_from).saturating_sub(busy.started);
    Ok(Reply::map(
        vec![
            (Reply::bulk("name"), Reply::bulk(name.as_str())),
            (
                Reply::bulk("command"),
                Reply::Array(busy.argv.iter().cloned().map(Reply::Bulk).collect()),
            ),
            (
                Reply::bulk("duration_ms"),
                Reply::Integer(i64::try_from(elapsed).unwrap_or(i64::MAX)),
            ),
        ],
        resp,
    ))
}
