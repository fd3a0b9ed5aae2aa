//! Publish/subscribe (Redis's pubsub.c) and MONITOR: who listens to which channel, pattern
//! or shard channel, and the messages they get, put in their outboxes.
//!
//! A message can also come from outside the server (the same sandbox open in another browser
//! tab): `publish_external` delivers it like PUBLISH, and `take_published` hands out what
//! was published here so that the host can pass it on.

use indexmap::{IndexMap, IndexSet};

use super::reply::{self, Reply};
use super::util::glob_match;
use super::Server;

/// One client's subscriptions, in the order made.
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    pub channels: IndexSet<Vec<u8>>,
    pub patterns: IndexSet<Vec<u8>>,
    pub shard: IndexSet<Vec<u8>>,
}

impl Subscriptions {
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// The count SUBSCRIBE and friends report (shard channels count on their own).
    fn count(&self) -> i64 {
        (self.channels.len() + self.patterns.len()) as i64
    }

    pub fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard.len()
    }

    fn of(&mut self, kind: Kind) -> &mut IndexSet<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count a (un)subscribe confirmation carries.
    fn count_for(&self, kind: Kind) -> i64 {
        match kind {
            Kind::Shard => self.shard.len() as i64,
            _ => self.count(),
        }
    }
}

/// Which of the three namespaces a command works on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Kind::Channel => ("subscribe", "unsubscribe"),
            Kind::Pattern => ("psubscribe", "punsubscribe"),
            Kind::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

/// Messages published here, kept for the host until it takes them; bounded so that a host
/// that never asks does not make the sandbox grow.
const PUBLISHED_KEPT: usize = 1_000;

/// The server-wide side: subscribers per channel / pattern / shard channel, in subscription
/// order (messages go out in that order), and the MONITOR clients.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    channels: IndexMap<Vec<u8>, Vec<u64>>,
    patterns: IndexMap<Vec<u8>, Vec<u64>>,
    shard: IndexMap<Vec<u8>, Vec<u64>>,
    monitors: Vec<u64>,
    published: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut IndexMap<Vec<u8>, Vec<u64>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    pub fn has_monitors(&self) -> bool {
        !self.monitors.is_empty()
    }

    /// Drops every subscription of a client that disconnects or resets.
    pub fn forget(&mut self, id: u64) {
        for map in [&mut self.channels, &mut self.patterns, &mut self.shard] {
            map.retain(|_, ids| {
                ids.retain(|&c| c != id);
                !ids.is_empty()
            });
        }
        self.monitors.retain(|&c| c != id);
    }

    fn remove(&mut self, kind: Kind, name: &[u8], id: u64) {
        let map = self.map(kind);
        if let Some(ids) = map.get_mut(name) {
            ids.retain(|&c| c != id);
            if ids.is_empty() {
                map.shift_remove(name);
            }
        }
    }
}

fn bulk(word: &'static str) -> Reply {
    Reply::bulk(word)
}

/// A push: RESP3 clients tell it from a reply by its type, RESP2 ones see an array.
fn push(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}

fn subscribe_generic(server: &mut Server, argv: &[Vec<u8>], kind: Kind) -> Reply {
    let id = server.client_id();
    let mut replies = Vec::new();
    for name in &argv[1..] {
        let client = server.client_mut();
        let set = match kind {
            Kind::Channel => &mut client.subs.channels,
            Kind::Pattern => &mut client.subs.patterns,
            Kind::Shard => &mut client.subs.shard,
        };
        if set.insert(name.clone()) {
            server
                .pubsub
                .map(kind)
                .entry(name.clone())
                .or_default()
                .push(id);
        }
        let subs = &server.clients[server.current].subs;
        let count = match kind {
            Kind::Shard => subs.shard.len() as i64,
            _ => subs.count(),
        };
        replies.push(push(vec![
            bulk(kind.words().0),
            Reply::Bulk(name.clone()),
            Reply::Integer(count),
        ]));
    }
    Reply::Many(replies)
}

fn unsubscribe_generic(server: &mut Server, argv: &[Vec<u8>], kind: Kind) -> Reply {
    let id = server.client_id();
    let names: Vec<Vec<u8>> = if argv.len() > 1 {
        argv[1..].to_vec()
    } else {
        server.client_mut().subs.of(kind).iter().cloned().collect()
    };
    let word = bulk(kind.words().1);
    if names.is_empty() {
        let count = server.client_mut().subs.count_for(kind);
        return Reply::Many(vec![push(vec![word, Reply::Nil, Reply::Integer(count)])]);
    }
    let mut replies = Vec::new();
    for name in names {
        if server.client_mut().subs.of(kind).shift_remove(&name) {
            server.pubsub.remove(kind, &name, id);
        }
        let count = server.client_mut().subs.count_for(kind);
        replies.push(push(vec![
            word.clone(),
            Reply::Bulk(name),
            Reply::Integer(count),
        ]));
    }
    Reply::Many(replies)
}

/// SUBSCRIBE channel [channel ...]
pub fn subscribe(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    subscribe_generic(server, argv, Kind::Channel)
}

/// UNSUBSCRIBE [channel ...]
pub fn unsubscribe(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    unsubscribe_generic(server, argv, Kind::Channel)
}

/// PSUBSCRIBE pattern [pattern ...]
pub fn psubscribe(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    subscribe_generic(server, argv, Kind::Pattern)
}

/// PUNSUBSCRIBE [pattern ...]
pub fn punsubscribe(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    unsubscribe_generic(server, argv, Kind::Pattern)
}

/// SSUBSCRIBE shardchannel [shardchannel ...]
pub fn ssubscribe(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    subscribe_generic(server, argv, Kind::Shard)
}

/// SUNSUBSCRIBE [shardchannel ...]
pub fn sunsubscribe(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    unsubscribe_generic(server, argv, Kind::Shard)
}

/// Delivers a message to the channel's subscribers and the matching patterns' ones;
/// returns how many got it (a client matching twice gets it twice and counts twice).
pub fn deliver(server: &mut Server, channel: &[u8], message: &[u8]) -> i64 {
    let mut receivers = 0;
    if let Some(ids) = server.pubsub.channels.get(channel).cloned() {
        for id in ids {
            if let Some(client) = server.client_by_id_mut(id) {
                client.outbox.push(push(vec![
                    bulk("message"),
                    Reply::bulk(channel),
                    Reply::bulk(message),
                ]));
                receivers += 1;
            }
        }
    }
    let patterns: Vec<(Vec<u8>, Vec<u64>)> = server
        .pubsub
        .patterns
        .iter()
        .filter(|(pattern, _)| glob_match(pattern, channel, false))
        .map(|(p, ids)| (p.clone(), ids.clone()))
        .collect();
    for (pattern, ids) in patterns {
        for id in ids {
            if let Some(client) = server.client_by_id_mut(id) {
                client.outbox.push(push(vec![
                    bulk("pmessage"),
                    Reply::Bulk(pattern.clone()),
                    Reply::bulk(channel),
                    Reply::bulk(message),
                ]));
                receivers += 1;
            }
        }
    }
    receivers
}

/// PUBLISH channel message
pub fn publish(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let receivers = deliver(server, &argv[1], &argv[2]);
    let published = &mut server.pubsub.published;
    if published.len() < PUBLISHED_KEPT {
        published.push((argv[1].clone(), argv[2].clone()));
    }
    Reply::Integer(receivers)
}

/// SPUBLISH shardchannel message
pub fn spublish(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let mut receivers = 0;
    if let Some(ids) = server.pubsub.shard.get(&argv[1]).cloned() {
        for id in ids {
            if let Some(client) = server.client_by_id_mut(id) {
                client.outbox.push(push(vec![
                    bulk("smessage"),
                    Reply::Bulk(argv[1].clone()),
                    Reply::Bulk(argv[2].clone()),
                ]));
                receivers += 1;
            }
        }
    }
    Reply::Integer(receivers)
}

fn names_matching(map: &IndexMap<Vec<u8>, Vec<u64>>, pattern: Option<&Vec<u8>>) -> Reply {
    Reply::Array(
        map.keys()
            .filter(|name| pattern.is_none_or(|p| glob_match(p, name, false)))
            .map(|name| Reply::Bulk(name.clone()))
            .collect(),
    )
}

fn counts(map: &IndexMap<Vec<u8>, Vec<u64>>, names: &[Vec<u8>]) -> Reply {
    let mut items = Vec::new();
    for name in names {
        items.push(Reply::Bulk(name.clone()));
        items.push(Reply::Integer(map.get(name).map_or(0, Vec::len) as i64));
    }
    Reply::Array(items)
}

/// PUBSUB CHANNELS [pattern]
pub fn pubsub_channels(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    names_matching(&server.pubsub.channels, argv.get(2))
}

/// PUBSUB SHARDCHANNELS [pattern]
pub fn pubsub_shardchannels(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    names_matching(&server.pubsub.shard, argv.get(2))
}

/// PUBSUB NUMSUB [channel ...]
pub fn pubsub_numsub(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    counts(&server.pubsub.channels, &argv[2..])
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
pub fn pubsub_shardnumsub(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    counts(&server.pubsub.shard, &argv[2..])
}

/// PUBSUB NUMPAT: patterns with at least one subscriber.
pub fn pubsub_numpat(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    Reply::Integer(server.pubsub.patterns.len() as i64)
}

/// PUBSUB HELP
pub fn pubsub_help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    super::object::help_reply(
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    )
}

/// A message published in another copy of the sandbox (another tab): delivered here as a
/// PUBLISH would, but not handed out again. Returns how many clients got it.
pub fn publish_external(server: &mut Server, channel: &[u8], message: &[u8]) -> i64 {
    deliver(server, channel, message)
}

/// What PUBLISH sent here since last asked, oldest first, for the host to pass on.
pub fn take_published(server: &mut Server) -> Vec<(Vec<u8>, Vec<u8>)> {
    std::mem::take(&mut server.pubsub.published)
}

/// MONITOR: from now on this client receives every command any client runs.
pub fn monitor(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    let id = server.client_id();
    let client = server.client_mut();
    if !client.monitor {
        client.monitor = true;
        server.pubsub.monitors.push(id);
    }
    Reply::ok()
}

/// Sends one command line to every MONITOR client, as `replicationFeedMonitors` formats it:
/// `<seconds>.<micros> [<db> <addr>] "arg" ...` with sandbox time.
pub fn feed_monitors(server: &mut Server, argv: &[Vec<u8>]) {
    let now = server.now;
    let client = &server.clients[server.current];
    // A script's commands show as the script's own pseudo-client.
    let addr = if server.scripting.running {
        "lua".to_string()
    } else {
        client.addr()
    };
    let mut line = format!(
        "{}.{:03}000 [{} {}]",
        now / 1000,
        now % 1000,
        client.db,
        addr
    );
    for arg in argv {
        line.push(' ');
        reply::quote_bytes(arg, &mut line);
    }
    let me = client.id;
    for id in server.pubsub.monitors.clone() {
        if id == me {
            continue;
        }
        if let Some(client) = server.client_by_id_mut(id) {
            client.outbox.push(Reply::status(&line));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::redis::testing::{outbox_text as outbox, run_as};
    use crate::redis::Server;

    #[test]
    fn subscribers_get_messages_and_patterns_get_pmessages() {
        let mut s = Server::new();
        assert_eq!(
            run_as(&mut s, 1, "SUBSCRIBE c d", 1_000),
            "1) \"subscribe\"\n2) \"c\"\n3) (integer) 1\n1) \"subscribe\"\n2) \"d\"\n3) (integer) 2\n"
        );
        assert_eq!(
            run_as(&mut s, 1, "GET a", 1_000),
            "(error) ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\n"
        );
        assert_eq!(run_as(&mut s, 1, "PING", 1_000), "1) \"pong\"\n2) \"\"\n");
        assert_eq!(
            run_as(&mut s, 3, "PSUBSCRIBE c*", 1_000),
            "1) \"psubscribe\"\n2) \"c*\"\n3) (integer) 1\n"
        );
        assert_eq!(run_as(&mut s, 2, "PUBLISH c hi", 1_000), "(integer) 2\n");
        assert_eq!(outbox(&mut s, 1), "1) \"message\"\n2) \"c\"\n3) \"hi\"\n");
        assert_eq!(
            outbox(&mut s, 3),
            "1) \"pmessage\"\n2) \"c*\"\n3) \"c\"\n4) \"hi\"\n"
        );
        assert_eq!(
            run_as(&mut s, 2, "PUBSUB NUMSUB c x", 1_000),
            "1) \"c\"\n2) (integer) 1\n3) \"x\"\n4) (integer) 0\n"
        );
        assert_eq!(run_as(&mut s, 2, "PUBSUB NUMPAT", 1_000), "(integer) 1\n");
        assert_eq!(
            run_as(&mut s, 1, "UNSUBSCRIBE", 1_000),
            "1) \"unsubscribe\"\n2) \"c\"\n3) (integer) 1\n1) \"unsubscribe\"\n2) \"d\"\n3) (integer) 0\n"
        );
        assert_eq!(
            run_as(&mut s, 1, "UNSUBSCRIBE", 1_000),
            "1) \"unsubscribe\"\n2) (nil)\n3) (integer) 0\n"
        );
        assert_eq!(run_as(&mut s, 1, "GET a", 1_000), "(nil)\n");
        assert_eq!(
            run_as(&mut s, 2, "PUBSUB CHANNELS", 1_000),
            "(empty array)\n"
        );
        assert_eq!(super::take_published(&mut s).len(), 1);
    }

    #[test]
    fn monitor_sees_other_clients_commands() {
        let mut s = Server::new();
        assert_eq!(run_as(&mut s, 2, "MONITOR", 1_000), "OK\n");
        run_as(&mut s, 1, "SET k \"a b\"", 1_000);
        assert_eq!(
            outbox(&mut s, 2),
            "1.000000 [0 127.0.0.1:50001] \"SET\" \"k\" \"a b\"\n"
        );
    }
}
