//! Connection and server commands.

use super::reply::{self, Reply};
use super::util::parse_i64;
use super::Server;

/// PING [message]
pub fn ping(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let client = server.client(server.client_id());
    if client.is_some_and(|c| c.resp == 2 && !c.subs.is_empty()) {
        // A subscribed RESP2 client gets the pong as a push-shaped array.
        let message = argv.get(1).cloned().unwrap_or_default();
        return Reply::Array(vec![Reply::bulk("pong"), Reply::Bulk(message)]);
    }
    match argv.len() {
        1 => Reply::static_status("PONG"),
        2 => Reply::Bulk(argv[1].clone()),
        _ => Reply::err("wrong number of arguments for 'ping' command"),
    }
}

/// ECHO message
pub fn echo(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    Reply::Bulk(argv[1].clone())
}

/// SELECT index
pub fn select(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let Some(index) = parse_i64(&argv[1]).and_then(|n| i32::try_from(n).ok()) else {
        return reply::error(reply::NOT_INTEGER);
    };
    if index < 0 || index as usize >= server.dbs.len() {
        return Reply::err("DB index is out of range");
    }
    server.client_mut().db = index as usize;
    Reply::ok()
}

/// QUIT: the server answers OK and closes the connection; redis-cli itself ends the session.
pub fn quit(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    Reply::ok()
}
