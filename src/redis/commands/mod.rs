//! The one command table. Dispatch, arity errors, `HELP`, completion, `COMMAND INFO` and
//! `COMMAND DOCS` all read it, so a command is described exactly once. The rows in `table.rs`
//! are the real server's `COMMAND INFO` / `COMMAND DOCS` answers and redis-cli's help syntax.

/// The prose of the command docs in the table (summaries, complexity, history), which only
/// `HELP <command>` and `COMMAND DOCS` print. A build without the `docs` feature (the page's
/// first module) leaves it out and hands those lines to the full module; the hints and
/// completion read the syntax and argument trees, which every build keeps.
#[cfg(feature = "docs")]
macro_rules! doc {
    ($prose:expr) => {
        $prose
    };
}
#[cfg(not(feature = "docs"))]
macro_rules! doc {
    (&[$($prose:tt)*]) => {
        &[]
    };
    ($prose:literal) => {
        ""
    };
}

mod table;

pub use table::TABLE;

use super::reply::Reply;
use super::Server;

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
    /// Commands of the modules the real server loads (RedisJSON, RediSearch).
    Module,
}

impl Group {
    pub const ALL: [Group; 16] = [
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
        Group::Module,
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
            Group::Module => "module",
        }
    }

    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// Where a key specification starts looking for keys (`begin_search` in `COMMAND INFO`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BeginSearch {
    Index(i32),
    Keyword(&'static str, i32),
    Unknown,
}

/// How a key specification finds its keys once it has begun (`find_keys`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FindKeys {
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
    Unknown,
}

#[derive(Debug)]
pub struct KeySpec {
    pub notes: Option<&'static str>,
    pub flags: &'static [&'static str],
    pub begin: BeginSearch,
    pub find: FindKeys,
}

/// One argument as `COMMAND DOCS` describes it; blocks and one-ofs nest their parts.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    /// `key`, `string`, `integer`, `double`, `pattern`, `unix-time`, `pure-token`, `oneof`, `block`.
    pub kind: &'static str,
    pub display: Option<&'static str>,
    /// Index into the command's key specs, -1 if the argument is not a key.
    pub key_spec: i32,
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub flags: &'static [&'static str],
    pub args: &'static [Arg],
}

/// One row of the table.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case, as the server names it in errors; subcommands are `container|sub`.
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
    /// ACL categories, `@` included.
    pub acl: &'static [&'static str],
    pub tips: &'static [&'static str],
    pub doc_flags: &'static [&'static str],
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    /// (version, change) pairs.
    pub history: &'static [(&'static str, &'static str)],
    pub key_specs: &'static [KeySpec],
    pub args: &'static [Arg],
    /// Sorted by name, so `COMMAND INFO` lists them as the server does.
    pub subcommands: &'static [CommandSpec],
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

    /// Whether `COMMAND INFO` lists `flag` for this command (`write`, `denyoom`, ...).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The part of a subcommand's name after the container's (`encoding` in `object|encoding`).
    pub fn sub_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    pub fn subcommand(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        self.subcommands
            .iter()
            .find(|s| s.sub_name().as_bytes().eq_ignore_ascii_case(name))
    }
}

/// FNV-1a over the lower-cased name, so lookup neither allocates nor cares about case.
fn hash_lower(name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Open-addressing table of indexes into `TABLE`, built once; a lookup is one hash and
/// usually one comparison.
struct NameIndex {
    slots: Vec<u16>,
    mask: usize,
}

const EMPTY: u16 = u16::MAX;

fn name_index() -> &'static NameIndex {
    static INDEX: std::sync::OnceLock<NameIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let size = (TABLE.len() * 4).next_power_of_two();
        let mut slots = vec![EMPTY; size];
        for (i, spec) in TABLE.iter().enumerate() {
            let mut at = hash_lower(spec.name.as_bytes()) as usize & (size - 1);
            while slots[at] != EMPTY {
                at = (at + 1) & (size - 1);
            }
            slots[at] = i as u16;
        }
        NameIndex {
            slots,
            mask: size - 1,
        }
    })
}

/// Finds a top-level command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let index = name_index();
    let mut at = hash_lower(name) as usize & index.mask;
    loop {
        let slot = *index.slots.get(at)?;
        let spec = TABLE.get(usize::from(slot))?;
        if spec.name.as_bytes().eq_ignore_ascii_case(name) {
            return Some(spec);
        }
        at = (at + 1) & index.mask;
    }
}

/// Resolves a command line to the spec that runs it (the subcommand for containers), or the
/// reply the server gives for an unknown command, unknown subcommand or wrong arity.
pub fn resolve(argv: &[Vec<u8>]) -> Result<&'static CommandSpec, Reply> {
    let Some(name) = argv.first() else {
        return Err(Reply::err("empty command"));
    };
    let Some(spec) = lookup(name) else {
        return Err(unknown_command(argv));
    };
    let spec = match (spec.subcommands.is_empty(), argv.get(1)) {
        (false, Some(sub)) => match spec.subcommand(sub) {
            Some(sub) => sub,
            None => {
                let msg = format!(
                    "unknown subcommand '{}'. Try {} HELP.",
                    String::from_utf8_lossy(&sub[..sub.len().min(128)]),
                    spec.name.to_ascii_uppercase()
                );
                return Err(Reply::err(msg.replace(['\r', '\n'], " ")));
            }
        },
        _ => spec,
    };
    if !spec.arity_ok(argv.len()) {
        return Err(wrong_arity(spec));
    }
    Ok(spec)
}

/// Calls `f` with each key a command line names: the table's key positions, or the key
/// specs for commands whose keys move (ZUNIONSTORE's, SORT ... STORE's).
pub fn for_each_key(spec: &CommandSpec, argv: &[Vec<u8>], mut f: impl FnMut(&[u8])) {
    if spec.has_flag("movablekeys") {
        if let Ok(keys) = super::introspect::keys_of(argv) {
            for (key, _) in keys {
                f(&key);
            }
        }
        return;
    }
    let (first, last, step) = spec.keys;
    if first <= 0 {
        return;
    }
    let argc = argv.len() as i64;
    let last = if last < 0 {
        argc + i64::from(last)
    } else {
        i64::from(last)
    };
    let mut at = i64::from(first);
    while at <= last && at < argc {
        if let Some(key) = argv.get(at as usize) {
            f(key);
        }
        at += i64::from(step.max(1));
    }
}

/// Command names starting with `prefix` (case-insensitive), sorted: for completion.
pub fn complete(prefix: &str) -> Vec<&'static str> {
    let prefix = prefix.to_ascii_lowercase();
    let mut names: Vec<_> = TABLE
        .iter()
        .map(|spec| spec.name)
        .filter(|name| name.starts_with(&prefix))
        .collect();
    crate::sort::sort(&mut names);
    names
}

/// The real server's reply to a name it does not know. Like Redis, it quotes at most
/// about 128 bytes of arguments and turns line breaks into spaces so the reply stays one line.
pub fn unknown_command(argv: &[Vec<u8>]) -> Reply {
    let name = argv
        .first()
        .map(|n| quoted_prefix(n, 128))
        .unwrap_or_default();
    let mut msg = format!("unknown command '{name}', with args beginning with: ");
    let start = msg.len();
    for arg in argv.iter().skip(1) {
        let room = match 128usize.checked_sub(msg.len() - start) {
            Some(room) if room > 0 => room,
            _ => break,
        };
        msg.push('\'');
        msg.push_str(&quoted_prefix(arg, room));
        msg.push_str("' ");
    }
    Reply::err(msg.replace(['\r', '\n'], " "))
}

/// The first `chars` characters of `bytes` read as lossy UTF-8. Only the bytes that can
/// reach them are decoded (a character, or an invalid sequence's U+FFFD, takes at most 4), so
/// a megabyte argument costs no more than a short one.
fn quoted_prefix(bytes: &[u8], chars: usize) -> String {
    let end = bytes.len().min(chars.saturating_mul(4).saturating_add(4));
    String::from_utf8_lossy(bytes.get(..end).unwrap_or(bytes))
        .chars()
        .take(chars)
        .collect()
}

/// The arity error for whatever command `argv` names (containers called without a
/// subcommand).
pub fn wrong_arity_for(argv: &[Vec<u8>]) -> Reply {
    match argv.first().and_then(|name| lookup(name)) {
        Some(spec) => wrong_arity(spec),
        None => unknown_command(argv),
    }
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
            // Module commands come without a summary or version in COMMAND DOCS.
            assert!(
                spec.group == Group::Module || (!spec.summary.is_empty() && !spec.since.is_empty()),
                "{}",
                spec.name
            );
            assert!(lookup(spec.name.to_ascii_uppercase().as_bytes()).is_some());
            for sub in spec.subcommands {
                assert!(sub.name.starts_with(spec.name), "{}", sub.name);
            }
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
        assert!(lookup(b"").is_none());
    }

    #[test]
    fn containers_resolve_their_subcommands() {
        let argv = |words: &[&str]| -> Vec<Vec<u8>> {
            words.iter().map(|w| w.as_bytes().to_vec()).collect()
        };
        assert_eq!(
            resolve(&argv(&["object", "ENCODING", "k"])).unwrap().name,
            "object|encoding"
        );
        assert_eq!(
            resolve(&argv(&["OBJECT", "nope"])).unwrap_err(),
            Reply::err("unknown subcommand 'nope'. Try OBJECT HELP.")
        );
        assert_eq!(
            resolve(&argv(&["object", "encoding"])).unwrap_err(),
            Reply::err("wrong number of arguments for 'object|encoding' command")
        );
    }

    #[test]
    fn completion_is_sorted_and_prefix_based() {
        assert_eq!(complete("fl"), vec!["flushall", "flushdb"]);
        assert_eq!(complete("ech"), vec!["echo"]);
    }

    #[test]
    fn unknown_command_quotes_a_bounded_prefix_of_the_arguments() {
        let argv: Vec<Vec<u8>> = vec![b"FOO".to_vec(), b"bar".to_vec(), b"baz\nq".to_vec()];
        assert_eq!(
            unknown_command(&argv),
            Reply::err("unknown command 'FOO', with args beginning with: 'bar' 'baz q' ")
        );
    }

    /// The message as it was first written, decoding every argument whole: the bounded
    /// decoding must give the same text for long, multibyte and invalid UTF-8 arguments.
    fn unknown_command_decoding_everything(argv: &[Vec<u8>]) -> Reply {
        let name = argv
            .first()
            .map(|n| String::from_utf8_lossy(n))
            .unwrap_or_default();
        let name: String = name.chars().take(128).collect();
        let mut args = String::new();
        for arg in argv.iter().skip(1) {
            if args.len() >= 128 {
                break;
            }
            let room = 128 - args.len();
            let cut: String = String::from_utf8_lossy(arg).chars().take(room).collect();
            args.push_str(&format!("'{cut}' "));
        }
        let msg = format!("unknown command '{name}', with args beginning with: {args}");
        Reply::err(msg.replace(['\r', '\n'], " "))
    }

    #[test]
    fn unknown_command_decodes_only_the_prefix_it_quotes() {
        let words: &[&[u8]] = &[
            b"",
            b"x",
            b"a\r\nb",
            "\u{20ac}\u{1f600}".as_bytes(),
            b"\xe2\x82",
            b"\xff\xfe\x80",
            b"\xf0\x9f\x98",
        ];
        for (i, first) in words.iter().enumerate() {
            for (j, second) in words.iter().enumerate() {
                for repeat in [1, 20, 37, 129, 600] {
                    let argv: Vec<Vec<u8>> = vec![
                        [b"NOPE".as_slice(), &first.repeat(repeat)].concat(),
                        first.repeat(repeat),
                        [*second, *first].concat().repeat(repeat),
                        second.repeat(repeat),
                    ];
                    assert_eq!(
                        unknown_command(&argv),
                        unknown_command_decoding_everything(&argv),
                        "words {i} and {j} repeated {repeat} times"
                    );
                }
            }
        }
    }
}
