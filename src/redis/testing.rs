//! Helpers for tests that drive several clients.

#![cfg(test)]

use super::{cli, Server};
use crate::clock::Millis;

/// Runs one redis-cli line as client `client` at `now` and returns what it prints at once
/// (nothing for a command that blocks).
pub fn run_as(server: &mut Server, client: u64, line: &str, now: Millis) -> String {
    server.switch_client(client);
    let argv = cli::split_args(line).expect("balanced line");
    server.execute(&argv, now).to_cli_text()
}

/// What client `client` received outside its own replies, as redis-cli would print it.
pub fn outbox_text(server: &mut Server, client: u64) -> String {
    server
        .take_outbox(client)
        .iter()
        .map(|r| r.to_cli_text())
        .collect()
}
