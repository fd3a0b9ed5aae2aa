//! The one command table. Dispatch, arity errors, `HELP`, completion and (later) `COMMAND DOCS`
//! all read it, so a command is described exactly once. Entries follow the real server's
//! `COMMAND INFO` / `COMMAND DOCS` (arity, flags, group, since, summary, complexity).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::reply::Reply;
use super::{keyspace, server, types, Server};

/// A command's handler: the full argv (name included) in, one reply out.
pub type Handler = fn(&mut Server, &[Vec<u8>]) -> Reply;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Generic,
    String,
    Bitmap,
    Hash,
    List,
    Set,
    SortedSet,
    Geo,
    HyperLogLog,
    Stream,
    PubSub,
    Transactions,
    Scripting,
    Connection,
    Server,
}

impl Group {
    pub const ALL: [Group; 15] = [
        Group::Generic,
        Group::String,
        Group::Bitmap,
        Group::Hash,
        Group::List,
        Group::Set,
        Group::SortedSet,
        Group::Geo,
        Group::HyperLogLog,
        Group::Stream,
        Group::PubSub,
        Group::Transactions,
        Group::Scripting,
        Group::Connection,
        Group::Server,
    ];

    /// The group's name as `COMMAND DOCS` and `HELP @<group>` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::Bitmap => "bitmap",
            Group::Hash => "hash",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Geo => "geo",
            Group::HyperLogLog => "hyperloglog",
            Group::Stream => "stream",
            Group::PubSub => "pubsub",
            Group::Transactions => "transactions",
            Group::Scripting => "scripting",
            Group::Connection => "connection",
            Group::Server => "server",
        }
    }

    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case, as the server names it in errors (`wrong number of arguments for 'get'`).
    pub name: &'static str,
    /// Redis's convention: `n` exactly n words (name included), `-n` at least n.
    pub arity: i32,
    /// As `COMMAND INFO` lists them.
    pub flags: &'static [&'static str],
    /// Key positions: first, last (negative counts from the end), step.
    pub keys: (i32, i32, i32),
    pub group: Group,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// The arguments after the name, as `HELP` prints them.
    pub syntax: &'static str,
    pub handler: Handler,
}

impl CommandSpec {
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }
}

macro_rules! cmd {
    ($name:literal, $arity:expr, [$($flag:literal),*], $keys:expr, $group:ident, $since:literal,
     $summary:literal, $complexity:literal, $syntax:literal, $handler:path) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: &[$($flag),*],
            keys: $keys,
            group: Group::$group,
            since: $since,
            summary: $summary,
            complexity: $complexity,
            syntax: $syntax,
            handler: $handler,
        }
    };
}

pub static TABLE: &[CommandSpec] = &[
    // connection
    cmd!("ping", -1, ["fast"], (0, 0, 0), Connection, "1.0.0",
        "Returns the server's liveliness response.", "O(1)", "[message]", server::ping),
    cmd!("echo", 2, ["loading", "stale", "fast"], (0, 0, 0), Connection, "1.0.0",
        "Returns the given string.", "O(1)", "message", server::echo),
    cmd!("select", 2, ["loading", "stale", "fast", "allow_busy"], (0, 0, 0), Connection, "1.0.0",
        "Changes the selected database.", "O(1)", "index", server::select),
    // string
    cmd!("set", -3, ["write", "denyoom"], (1, 1, 1), String, "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        "O(1)",
        "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
        types::string::set),
    cmd!("get", 2, ["readonly", "fast"], (1, 1, 1), String, "1.0.0",
        "Returns the string value of a key.", "O(1)", "key", types::string::get),
    // generic
    cmd!("del", -2, ["write"], (1, -1, 1), Generic, "1.0.0",
        "Deletes one or more keys.",
        "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        "key [key ...]", keyspace::del),
    cmd!("exists", -2, ["readonly", "fast"], (1, -1, 1), Generic, "1.0.0",
        "Determines whether one or more keys exist.", "O(N) where N is the number of keys to check.",
        "key [key ...]", keyspace::exists),
    cmd!("type", 2, ["readonly", "fast"], (1, 1, 1), Generic, "1.0.0",
        "Determines the type of value stored at a key.", "O(1)", "key", keyspace::type_),
    // server
    cmd!("dbsize", 1, ["readonly", "fast"], (0, 0, 0), Server, "1.0.0",
        "Returns the number of keys in the database.", "O(1)", "", keyspace::dbsize),
    cmd!("flushall", -1, ["write"], (0, 0, 0), Server, "1.0.0",
        "Removes all keys from all databases.",
        "O(N) where N is the total number of keys in all databases", "[ASYNC|SYNC]",
        keyspace::flushall),
    cmd!("flushdb", -1, ["write"], (0, 0, 0), Server, "1.0.0",
        "Removes all keys from the current database.",
        "O(N) where N is the number of keys in the selected database", "[ASYNC|SYNC]",
        keyspace::flushdb),
];

fn index() -> &'static HashMap<&'static str, &'static CommandSpec> {
    static INDEX: OnceLock<HashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    INDEX.get_or_init(|| TABLE.iter().map(|spec| (spec.name, spec)).collect())
}

/// Finds a command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    index().get(lower.as_str()).copied()
}

/// Command names starting with `prefix` (case-insensitive), sorted: for completion.
pub fn complete(prefix: &str) -> Vec<&'static str> {
    let prefix = prefix.to_ascii_lowercase();
    let mut names: Vec<_> = TABLE
        .iter()
        .map(|spec| spec.name)
        .filter(|name| name.starts_with(&prefix))
        .collect();
    names.sort_unstable();
    names
}

/// The real server's reply to a name it does not know. Like Redis, it quotes at most
/// about 128 bytes of arguments and turns line breaks into spaces so the reply stays one line.
pub fn unknown_command(argv: &[Vec<u8>]) -> Reply {
    let name = String::from_utf8_lossy(&argv[0]);
    let name: String = name.chars().take(128).collect();
    let mut args = String::new();
    for arg in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        let text = String::from_utf8_lossy(arg);
        let cut: String = text.chars().take(room).collect();
        args.push_str(&format!("'{cut}' "));
    }
    let msg = format!("unknown command '{name}', with args beginning with: {args}");
    Reply::err(msg.replace(['\r', '\n'], " "))
}

pub fn wrong_arity(spec: &CommandSpec) -> Reply {
    Reply::err(format!(
        "wrong number of arguments for '{}' command",
        spec.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for spec in TABLE {
            assert!(seen.insert(spec.name), "duplicate {}", spec.name);
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert!(spec.arity != 0, "{}", spec.name);
            assert!(
                !spec.summary.is_empty() && !spec.since.is_empty(),
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn arity() {
        let get = lookup(b"GET").unwrap();
        assert!(get.arity_ok(2) && !get.arity_ok(1) && !get.arity_ok(3));
        let del = lookup(b"del").unwrap();
        assert!(del.arity_ok(2) && del.arity_ok(9) && !del.arity_ok(1));
        assert!(lookup(b"nosuch").is_none());
        assert!(lookup(&[0xff]).is_none());
    }

    #[test]
    fn completion_is_sorted_and_prefix_based() {
        assert_eq!(complete("fl"), vec!["flushall", "flushdb"]);
        assert_eq!(complete("E"), vec!["echo", "exists"]);
    }

    #[test]
    fn unknown_command_quotes_a_bounded_prefix_of_the_arguments() {
        let argv: Vec<Vec<u8>> = vec![b"FOO".to_vec(), b"bar".to_vec(), b"baz\nq".to_vec()];
        assert_eq!(
            unknown_command(&argv),
            Reply::err("unknown command 'FOO', with args beginning with: 'bar' 'baz q' ")
        );
    }
}
