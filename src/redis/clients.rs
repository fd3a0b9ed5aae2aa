//! Connections: each client's state, the gate every command passes through (transaction
//! queueing, the subscribe-mode filter, MONITOR), and the CLIENT and HELLO commands.
//!
//! The sandbox's clients are not sockets: the host addresses them by id (`Server::switch_client`)
//! and collects what a client receives asynchronously from its outbox.

use super::commands::{self, CommandSpec};
use super::reply::{self, Reply};
use super::{blocking, multi, notify, pubsub, Server};
use crate::clock::Millis;

/// Per-connection state.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: u64,
    /// The selected database.
    pub db: usize,
    /// CLIENT SETNAME's name (empty: none).
    pub name: Vec<u8>,
    /// The protocol HELLO chose: 2 or 3.
    pub resp: u8,
    /// Sandbox time the client connected and last ran a command.
    pub created: Millis,
    pub last_active: Millis,
    /// The last command it ran, as CLIENT LIST names it (`client|list`).
    pub last_command: &'static str,
    /// Commands queued since MULTI, and whether one was refused (EXEC then aborts).
    pub multi: Option<multi::Queue>,
    /// Keys WATCHed, and whether one of them has been touched since.
    pub watched: Vec<multi::Watched>,
    pub watch_dirty: bool,
    /// Channels, patterns and shard channels it listens to.
    pub subs: pubsub::Subscriptions,
    /// The command it is blocked in, if any.
    pub blocked: Option<blocking::Blocked>,
    /// Commands sent while it was blocked: the server reads them once it is served.
    pub backlog: Vec<Vec<Vec<u8>>>,
    /// Streams every command to this client (MONITOR).
    pub monitor: bool,
    /// What the client received outside its own replies: pushed messages, a blocked
    /// command's late reply, MONITOR lines.
    pub outbox: Vec<Reply>,
    /// Replies to its own commands that went to the outbox (a blocked command's, and those
    /// of the commands it sent while blocked), counted over the connection's life.
    pub late_replies: u64,
}

impl Client {
    pub fn new(id: u64, now: Millis) -> Client {
        Client {
            id,
            db: 0,
            name: Vec::new(),
            resp: 2,
            created: now,
            last_active: now,
            last_command: "NULL",
            multi: None,
            watched: Vec::new(),
            watch_dirty: false,
            subs: pubsub::Subscriptions::default(),
            blocked: None,
            backlog: Vec::new(),
            monitor: false,
            outbox: Vec::new(),
            late_replies: 0,
        }
    }

    /// In no transaction, subscription, block or MONITOR: commands just run.
    pub fn is_plain(&self) -> bool {
        self.multi.is_none() && self.subs.is_empty() && self.blocked.is_none() && !self.monitor
    }

    /// Subscribed in RESP2, where only the subscription commands are accepted.
    fn in_subscribe_context(&self) -> bool {
        self.resp == 2 && !self.subs.is_empty()
    }

    /// The fake peer address CLIENT LIST and MONITOR show.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", 50_000 + self.id % 10_000)
    }
}

/// Commands a RESP2 client may send while subscribed.
const SUBSCRIBE_CONTEXT: [&str; 9] = [
    "subscribe",
    "ssubscribe",
    "psubscribe",
    "unsubscribe",
    "sunsubscribe",
    "punsubscribe",
    "ping",
    "quit",
    "reset",
];

/// Commands that run at once inside MULTI instead of being queued.
const NOT_QUEUED: [&str; 6] = ["exec", "discard", "multi", "watch", "quit", "reset"];

/// The gate in front of every handler, as `processCommand`: resolves the command, refuses
/// it in the contexts that forbid it (flagging an open transaction), queues it inside MULTI,
/// and otherwise runs it.
pub fn dispatch(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let index = server.current;
    if server.clients[index].blocked.is_some() {
        server.clients[index].backlog.push(argv.to_vec());
        return Reply::Blocked;
    }
    let spec = match commands::resolve(argv) {
        Ok(spec) => spec,
        Err(reply) => return reject(server, argv, reply),
    };
    let client = &server.clients[index];
    if client.in_subscribe_context() && !SUBSCRIBE_CONTEXT.contains(&top_name(spec)) {
        let msg = format!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        );
        return reject(server, argv, Reply::err(msg));
    }
    if let Some(busy) = super::scripting::busy::refusal(server, spec) {
        return reject(server, argv, busy);
    }
    let client = &server.clients[index];
    if client.multi.is_some() {
        if spec.flags.contains(&"no_multi") {
            let msg = format!("Command '{}' not allowed inside a transaction", spec.name);
            return reject(server, argv, Reply::err(msg));
        }
        if !NOT_QUEUED.contains(&spec.name) {
            if let Some(queue) = server.clients[index].multi.as_mut() {
                queue.commands.push(argv.to_vec());
            }
            return Reply::static_status("QUEUED");
        }
    }
    call(server, spec, argv)
}

/// The container's name for a subcommand (`client` for `client|list`).
fn top_name(spec: &CommandSpec) -> &'static str {
    spec.name.split('|').next().unwrap_or(spec.name)
}

/// A refused command: inside MULTI it dooms the transaction; EXEC itself, refused, discards it.
fn reject(server: &mut Server, argv: &[Vec<u8>], reply: Reply) -> Reply {
    let client = &mut server.clients[server.current];
    let is_exec = argv
        .first()
        .is_some_and(|name| name.eq_ignore_ascii_case(b"exec"));
    if is_exec {
        client.multi = None;
        multi::unwatch_all(client);
        if let Reply::Error(text) = &reply {
            let reason = text.strip_prefix("ERR ").unwrap_or(text);
            return Reply::Error(format!(
                "EXECABORT Transaction discarded because of: {reason}"
            ));
        }
    }
    if let Some(queue) = client.multi.as_mut() {
        queue.failed = true;
    }
    reply
}

/// Runs a resolved command: MONITOR sees it, then `run_handler`.
pub(crate) fn call(server: &mut Server, spec: &'static CommandSpec, argv: &[Vec<u8>]) -> Reply {
    let now = server.now;
    {
        let client = &mut server.clients[server.current];
        client.last_active = now;
        client.last_command = spec.name;
    }
    if let Err(refused) = server.before_command(spec) {
        return refused;
    }
    let mut reply = run_handler(server, spec, argv);
    server.after_handler(spec, argv, reply.is_error());
    if server.clients[server.current].resp == 3 {
        reply = super::resp3::shape(spec.name, argv, reply);
    }
    // Monitors see the command once it ran, in the database it left the client in.
    // EVAL and FCALL (skip_monitor) show themselves before the commands their scripts run.
    if server.pubsub.has_monitors()
        && !spec.flags.contains(&"admin")
        && !spec.flags.contains(&"skip_monitor")
    {
        pubsub::feed_monitors(server, argv);
    }
    reply
}

/// The handler, with what a write means for others before (database-wide writes) and after
/// it (watchers, blocked clients, keyspace events).
pub(crate) fn run_handler(
    server: &mut Server,
    spec: &'static CommandSpec,
    argv: &[Vec<u8>],
) -> Reply {
    if !spec.flags.contains(&"write") {
        let reply = (spec.handler)(server, argv);
        if server.notify_flags != 0 {
            notify::flush_expired(server);
        }
        return reply;
    }
    let db = server.selected_db();
    multi::before_write(server, spec, argv);
    let before = if server.notify_flags != 0 {
        notify::existing(server, db, &multi::written_keys(argv))
    } else {
        Vec::new()
    };
    let reply = (spec.handler)(server, argv);
    if !reply.is_error() && !matches!(reply, Reply::Blocked) {
        let write = multi::Write {
            spec,
            argv,
            db,
            reply: &reply,
            before: &before,
        };
        multi::after_write(server, &write);
    }
    reply
}

/// What the page shows about one client (its console tab and waiting line).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientStatus {
    pub id: u64,
    pub name: String,
    pub db: usize,
    pub resp: u8,
    /// Channels, patterns and shard channels subscribed to.
    pub subscriptions: usize,
    pub in_multi: bool,
    pub monitor: bool,
    /// The command it is blocked in, if any.
    pub blocked: Option<String>,
    /// Milliseconds its block still lasts; `None` while not blocked or blocked for ever.
    pub remaining_ms: Option<u64>,
}

/// Every connected client's status at sandbox time `now`.
pub fn statuses(server: &Server, now: Millis) -> Vec<ClientStatus> {
    server
        .clients
        .iter()
        .map(|c| ClientStatus {
            id: c.id,
            name: String::from_utf8_lossy(&c.name).into_owned(),
            db: c.db,
            resp: c.resp,
            subscriptions: c.subs.total(),
            in_multi: c.multi.is_some(),
            monitor: c.monitor,
            blocked: c.blocked.as_ref().map(|b| {
                b.argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            remaining_ms: c
                .blocked
                .as_ref()
                .and_then(|b| b.deadline)
                .map(|d| d.saturating_sub(now)),
        })
        .collect()
}

/// CLIENT ID
pub fn client_id(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    Reply::Integer(server.client_id() as i64)
}

/// CLIENT GETNAME
pub fn getname(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let name = &server.clients[server.current].name;
    if name.is_empty() {
        Reply::Nil
    } else {
        Reply::Bulk(name.clone())
    }
}

/// CLIENT SETNAME connection-name
pub fn setname(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let name = &argv[2];
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Reply::err("Client names cannot contain spaces, newlines or special characters.");
    }
    server.client_mut().name = name.clone();
    Reply::ok()
}

/// One CLIENT LIST line, in the real server's field order. Socket and memory figures are
/// the ones an idle local connection shows.
fn info_line(client: &Client, now: Millis) -> String {
    let flags = {
        let mut f = String::new();
        if client.monitor {
            f.push('O');
        }
        if client.subs.total() > 0 {
            f.push('P');
        }
        if client.blocked.is_some() {
            f.push('b');
        }
        if client.multi.is_some() {
            f.push('x');
        }
        if client.watch_dirty {
            f.push('d');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    };
    let multi = client
        .multi
        .as_ref()
        .map_or(-1, |q| q.commands.len() as i64);
    format!(
        "id={} addr={} laddr=127.0.0.1:6379 fd={} name={} age={} idle={} flags={flags} capa= db={} sub={} psub={} ssub={} multi={multi} watch={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1928 events=r cmd={} user=default redir=-1 resp={} lib-name= lib-ver=",
        client.id,
        client.addr(),
        client.id + 7,
        String::from_utf8_lossy(&client.name),
        now.saturating_sub(client.created) / 1000,
        now.saturating_sub(client.last_active) / 1000,
        client.db,
        client.subs.channels.len(),
        client.subs.patterns.len(),
        client.subs.shard.len(),
        client.watched.len(),
        client.last_command,
        client.resp,
    )
}

/// CLIENT INFO
pub fn info(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let mut line = info_line(&server.clients[server.current], server.now);
    line.push('\n');
    Reply::Bulk(line.into_bytes())
}

/// CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]
pub fn list(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let mut ids: Option<Vec<u64>> = None;
    let mut kind: Option<Vec<u8>> = None;
    let mut i = 2;
    while i < argv.len() {
        let word = &argv[i];
        if word.eq_ignore_ascii_case(b"type") && i + 1 < argv.len() {
            let t = argv[i + 1].to_ascii_lowercase();
            if !matches!(
                t.as_slice(),
                b"normal" | b"master" | b"replica" | b"slave" | b"pubsub"
            ) {
                return Reply::err(format!(
                    "Unknown client type '{}'",
                    String::from_utf8_lossy(&argv[i + 1])
                ));
            }
            kind = Some(t);
            i += 2;
        } else if word.eq_ignore_ascii_case(b"id") && i + 1 < argv.len() {
            let mut list = Vec::new();
            for raw in &argv[i + 1..] {
                match super::util::parse_i64(raw) {
                    Some(n) if n > 0 => list.push(n as u64),
                    _ => return Reply::err("Invalid client ID"),
                }
            }
            ids = Some(list);
            i = argv.len();
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
    }
    let now = server.now;
    let mut text = String::new();
    for client in &server.clients {
        if ids.as_ref().is_some_and(|ids| !ids.contains(&client.id)) {
            continue;
        }
        let pubsub = client.subs.total() > 0;
        let keep = match kind.as_deref() {
            None => true,
            Some(b"normal") => !pubsub,
            Some(b"pubsub") => pubsub,
            Some(_) => false,
        };
        if keep {
            text.push_str(&info_line(client, now));
            text.push('\n');
        }
    }
    Reply::Bulk(text.into_bytes())
}

/// CLIENT KILL ip:port | CLIENT KILL <filter> <value> [...]: disconnects clients. The old
/// form answers OK or `No such client`; the filter form counts what it killed.
pub fn kill(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() == 3 {
        let addr = &argv[2];
        let found = server
            .clients
            .iter()
            .find(|c| c.addr().as_bytes() == addr.as_slice())
            .map(|c| c.id);
        return match found {
            Some(id) => {
                server.disconnect(id);
                Reply::ok()
            }
            None => Reply::err("No such client"),
        };
    }
    if !argv.len().is_multiple_of(2) {
        return reply::error(reply::SYNTAX_ERROR);
    }
    let mut id: Option<u64> = None;
    let mut addr: Option<Vec<u8>> = None;
    let mut skipme = true;
    let mut name: Option<Vec<u8>> = None;
    for pair in argv[2..].chunks(2) {
        let (key, value) = (&pair[0], &pair[1]);
        if key.eq_ignore_ascii_case(b"id") {
            match super::util::parse_i64(value) {
                Some(n) if n > 0 => id = Some(n as u64),
                Some(_) => return Reply::err("client-id should be greater than 0"),
                None => return reply::error(reply::SYNTAX_ERROR),
            }
        } else if key.eq_ignore_ascii_case(b"addr") {
            addr = Some(value.clone());
        } else if key.eq_ignore_ascii_case(b"skipme") {
            if value.eq_ignore_ascii_case(b"yes") {
                skipme = true;
            } else if value.eq_ignore_ascii_case(b"no") {
                skipme = false;
            } else {
                return reply::error(reply::SYNTAX_ERROR);
            }
        } else if key.eq_ignore_ascii_case(b"user") || key.eq_ignore_ascii_case(b"name") {
            name = Some(value.clone());
        } else if key.eq_ignore_ascii_case(b"type") || key.eq_ignore_ascii_case(b"laddr") {
            // Every sandbox client is a normal one on the same local address.
        } else {
            return reply::error(reply::SYNTAX_ERROR);
        }
    }
    let me = server.client_id();
    let victims: Vec<u64> = server
        .clients
        .iter()
        .filter(|c| id.is_none_or(|id| c.id == id))
        .filter(|c| {
            addr.as_ref()
                .is_none_or(|a| c.addr().as_bytes() == a.as_slice())
        })
        .filter(|c| {
            name.as_ref()
                .is_none_or(|n| c.name == *n || n == b"default")
        })
        .filter(|c| !(skipme && c.id == me))
        .map(|c| c.id)
        .collect();
    for &victim in &victims {
        server.disconnect(victim);
    }
    Reply::Integer(victims.len() as i64)
}

/// CLIENT HELP
pub fn help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    super::object::help_reply(
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "CAPA <option> [options...]",
            "    The client claims its some capability options. Options are:",
            "    * REDIRECT",
            "      The client can handle redirection during primary and replica failover in standalone mode.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address.",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to the specified local address.",
            "    * TYPE (NORMAL|PRIMARY|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id> [<client-id>...]",
            "      Kill connections by client IDs.",
            "    * MAXAGE <maxage>",
            "      Kill connections older than the specified age.",
            "    * FLAGS <flags>",
            "      Kill connections that include the specified flags.",
            "    * NAME <client-name>",
            "      Kill connections with the specified name.",
            "    * IDLE <idle>",
            "      Kill connections with idle time greater than or equal to <idle> seconds.",
            "    * LIB-NAME <library-name>",
            "      Kill connections with the specified library name.",
            "    * LIB-VER <library-version>",
            "      Kill connections with the specified library version.",
            "    * DB <db-id>",
            "      Kill connections currently operating on the specified database ID.",
            "    * CAPA <capa>",
            "      Kill connections currently with the specified capa.",
            "    * IP <ip>",
            "      Kill connections made from the specified ip.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|PRIMARY|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "    * USER <username>",
            "      Return clients authenticated by <username>.",
            "    * ADDR <ip:port>",
            "      Return clients connected from the specified address.",
            "    * LADDR <ip:port>",
            "      Return clients connected to the specified local address.",
            "    * ID <client-id> [<client-id>...]",
            "      Return clients with the specified IDs.",
            "    * SKIPME (YES|NO)",
            "      Exclude the current client from the list (default: no).",
            "    * MAXAGE <maxage>",
            "      List connections older than the specified age.",
            "    * FLAGS <flags>",
            "      Return clients with the specified flags.",
            "    * NAME <client-name>",
            "      Return clients with the specified name.",
            "    * IDLE <idle>",
            "      Return clients with idle time greater than or equal to <idle> seconds.",
            "    * LIB-NAME <lib-name>",
            "      Return clients with the specified lib name.",
            "    * LIB-VER <lib-version>",
            "      Return clients with the specified lib version.",
            "    * DB <db-id>",
            "      Return clients currently operating on the specified database ID.",
            "    * CAPA <capa>",
            "      Return connections currently with the specified capa.",
            "    * IP <ip>",
            "      Return connections made from the specified ip.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
            "IMPORT-SOURCE (ON|OFF)",
            "    Mark this connection as an import source if import-mode is enabled.",
            "    Sync tools can set their connections into 'import-source' state to visit",
            "    expired keys.",
        ],
    )
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
pub fn hello(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let mut resp = server.clients[server.current].resp;
    let mut i = 1;
    if let Some(ver) = argv.get(1) {
        match super::util::parse_i64(ver) {
            Some(2) => resp = 2,
            Some(3) => resp = 3,
            Some(_) => return Reply::Error("NOPROTO unsupported protocol version".into()),
            None => return Reply::err("Protocol version is not an integer or out of range"),
        }
        i = 2;
    }
    let mut name = None;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if argv[i].eq_ignore_ascii_case(b"auth") && more >= 2 {
            i += 3;
        } else if argv[i].eq_ignore_ascii_case(b"setname") && more >= 1 {
            name = Some(argv[i + 1].clone());
            i += 2;
        } else {
            return Reply::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&argv[i])
            ));
        }
    }
    if let Some(name) = name {
        if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
            return Reply::err(
                "Client names cannot contain spaces, newlines or special characters.",
            );
        }
        server.client_mut().name = name;
    }
    server.client_mut().resp = resp;
    let id = server.client_id() as i64;
    let fields = vec![
        (Reply::bulk("server"), Reply::bulk("valkey")),
        (Reply::bulk("version"), Reply::bulk(SERVER_VERSION)),
        (Reply::bulk("proto"), Reply::Integer(i64::from(resp))),
        (Reply::bulk("id"), Reply::Integer(id)),
        (Reply::bulk("mode"), Reply::bulk("standalone")),
        (Reply::bulk("role"), Reply::bulk("master")),
        (Reply::bulk("modules"), Reply::Array(Vec::new())),
    ];
    Reply::map(fields, resp)
}

/// The version HELLO reports: the server whose behaviour the sandbox reproduces.
pub const SERVER_VERSION: &str = "9.1.2";

/// RESET: the connection back to its first state (db 0, RESP2, no name, transaction,
/// watch, subscription or MONITOR).
pub fn reset(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let id = server.client_id();
    server.pubsub.forget(id);
    let now = server.now;
    let client = server.client_mut();
    let late = client.late_replies;
    *client = Client::new(id, now);
    client.late_replies = late;
    Reply::static_status("RESET")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::cli;

    fn run(server: &mut Server, line: &str) -> String {
        let argv = cli::split_args(line).expect("balanced line");
        server.execute(&argv, 0).to_cli_text()
    }

    #[test]
    fn client_commands_answer_like_the_real_server() {
        let mut s = Server::new();
        let cases = [
            ("CLIENT ID", "(integer) 1\n"),
            ("CLIENT GETNAME", "(nil)\n"),
            (
                "CLIENT SETNAME \"a b\"",
                "(error) ERR Client names cannot contain spaces, newlines or special characters.\n",
            ),
            (
                "CLIENT SETNAME a b",
                "(error) ERR wrong number of arguments for 'client|setname' command\n",
            ),
            ("CLIENT SETNAME ab", "OK\n"),
            ("CLIENT GETNAME", "\"ab\"\n"),
            ("CLIENT KILL 1.2.3.4:5", "(error) ERR No such client\n"),
            ("CLIENT KILL ID 999", "(integer) 0\n"),
            ("HELLO 4", "(error) NOPROTO unsupported protocol version\n"),
        ];
        for (line, expected) in cases {
            assert_eq!(run(&mut s, line), expected, "{line}");
        }
        let info = run(&mut s, "CLIENT INFO");
        assert!(info.starts_with("\"id=1 addr=127.0.0.1:50001 "), "{info}");
        assert!(info.contains(" name=ab "), "{info}");
    }

    #[test]
    fn hello_3_answers_a_map_and_switches_protocol() {
        let mut s = Server::new();
        let text = run(&mut s, "HELLO 3");
        assert!(text.starts_with("1# \"server\" => \"valkey\"\n"), "{text}");
        assert!(text.contains("3# \"proto\" => (integer) 3\n"), "{text}");
        assert!(
            text.ends_with("7# \"modules\" => (empty array)\n"),
            "{text}"
        );
        assert_eq!(s.clients[0].resp, 3);
        let text = run(&mut s, "HELLO 2");
        assert!(
            text.starts_with(" 1) \"server\"\n 2) \"valkey\"\n"),
            "{text}"
        );
    }

    #[test]
    fn clients_are_addressed_by_id_and_killed_by_filter() {
        let mut s = Server::new();
        assert_eq!(s.connect(), 2);
        s.switch_client(5);
        assert_eq!(s.client_ids(), vec![1, 2, 5]);
        assert_eq!(run(&mut s, "CLIENT ID"), "(integer) 5\n");
        assert_eq!(s.connect(), 6);
        assert_eq!(run(&mut s, "CLIENT KILL ID 2"), "(integer) 1\n");
        assert_eq!(run(&mut s, "CLIENT ID"), "(integer) 5\n");
        assert_eq!(run(&mut s, "CLIENT KILL ID 5"), "(integer) 0\n");
        run(&mut s, "CLIENT SETNAME five");
        assert_eq!(run(&mut s, "CLIENT KILL ID 5 SKIPME no"), "(integer) 1\n");
        // The killed console reconnects at once, fresh: no name any more.
        assert_eq!(s.client_ids(), vec![1, 5, 6]);
        assert_eq!(run(&mut s, "CLIENT GETNAME"), "(nil)\n");
        assert!(s.close_client(5));
        assert_eq!(s.client_ids(), vec![1, 6]);
        assert_eq!(s.client_id(), 1);
        let list = run(&mut s, "CLIENT LIST");
        assert_eq!(list.matches("id=").count(), 2, "{list}");
    }
}
