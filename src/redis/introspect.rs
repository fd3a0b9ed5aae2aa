//! COMMAND and its subcommands: the command table described to clients, in the shapes the
//! real server uses for `COMMAND INFO` and `COMMAND DOCS` (maps flattened as RESP2 arrays).

use super::commands::{self, Arg, BeginSearch, CommandSpec, FindKeys, KeySpec, TABLE};
use super::object::help_reply;
use super::parts::{require_part, Part};
use super::reply::{self, Reply};
use super::util::glob_match;
use super::Server;

fn bulk(s: &str) -> Reply {
    Reply::bulk(s)
}

fn statuses(list: &[&str]) -> Reply {
    Reply::Array(list.iter().map(|s| Reply::status(s)).collect())
}

/// Every command and subcommand, containers first.
fn all_specs() -> impl Iterator<Item = &'static CommandSpec> {
    TABLE
        .iter()
        .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands.iter()))
}

/// Finds `name` or `container|sub`, case-insensitively.
fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        None => commands::lookup(name),
        Some(bar) => commands::lookup(&name[..bar])?.subcommand(&name[bar + 1..]),
    }
}

fn key_spec(spec: &KeySpec) -> Reply {
    let mut map = Vec::new();
    if let Some(notes) = spec.notes {
        map.extend([bulk("notes"), bulk(notes)]);
    }
    map.extend([bulk("flags"), statuses(spec.flags)]);
    let (kind, args) = match spec.begin {
        BeginSearch::Index(i) => ("index", vec![bulk("index"), Reply::Integer(i64::from(i))]),
        BeginSearch::Keyword(word, from) => (
            "keyword",
            vec![
                bulk("keyword"),
                bulk(word),
                bulk("startfrom"),
                Reply::Integer(i64::from(from)),
            ],
        ),
        BeginSearch::Unknown => ("unknown", vec![]),
    };
    map.extend([
        bulk("begin_search"),
        Reply::Array(vec![
            bulk("type"),
            bulk(kind),
            bulk("spec"),
            Reply::Array(args),
        ]),
    ]);
    let int = |n: i32| Reply::Integer(i64::from(n));
    let (kind, args) = match spec.find {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => (
            "range",
            vec![
                bulk("lastkey"),
                int(lastkey),
                bulk("keystep"),
                int(keystep),
                bulk("limit"),
                int(limit),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => (
            "keynum",
            vec![
                bulk("keynumidx"),
                int(keynumidx),
                bulk("firstkey"),
                int(firstkey),
                bulk("keystep"),
                int(keystep),
            ],
        ),
        FindKeys::Unknown => ("unknown", vec![]),
    };
    map.extend([
        bulk("find_keys"),
        Reply::Array(vec![
            bulk("type"),
            bulk(kind),
            bulk("spec"),
            Reply::Array(args),
        ]),
    ]);
    Reply::Array(map)
}

/// One command as `COMMAND INFO` describes it.
pub fn info_of(spec: &CommandSpec) -> Reply {
    let (first, last, step) = spec.keys;
    Reply::Array(vec![
        bulk(spec.name),
        Reply::Integer(i64::from(spec.arity)),
        statuses(spec.flags),
        Reply::Integer(i64::from(first)),
        Reply::Integer(i64::from(last)),
        Reply::Integer(i64::from(step)),
        statuses(spec.acl),
        Reply::Array(spec.tips.iter().map(|t| bulk(t)).collect()),
        Reply::Array(spec.key_specs.iter().map(key_spec).collect()),
        Reply::Array(spec.subcommands.iter().map(info_of).collect()),
    ])
}

fn arg_doc(arg: &Arg) -> Reply {
    let mut map = vec![bulk("name"), bulk(arg.name), bulk("type"), bulk(arg.kind)];
    if let Some(d) = arg.display {
        map.extend([bulk("display_text"), bulk(d)]);
    }
    if arg.key_spec >= 0 {
        map.extend([
            bulk("key_spec_index"),
            Reply::Integer(i64::from(arg.key_spec)),
        ]);
    }
    for (field, value) in [
        ("token", arg.token),
        ("summary", arg.summary),
        ("since", arg.since),
        ("deprecated_since", arg.deprecated_since),
    ] {
        if let Some(v) = value {
            map.extend([bulk(field), bulk(v)]);
        }
    }
    if !arg.flags.is_empty() {
        map.extend([bulk("flags"), statuses(arg.flags)]);
    }
    if !arg.args.is_empty() {
        map.extend([
            bulk("arguments"),
            Reply::Array(arg.args.iter().map(arg_doc).collect()),
        ]);
    }
    Reply::Array(map)
}

/// One command as `COMMAND DOCS` describes it.
pub fn docs_of(spec: &CommandSpec) -> Reply {
    let mut map = vec![
        bulk("summary"),
        bulk(spec.summary),
        bulk("since"),
        bulk(spec.since),
        bulk("group"),
        bulk(spec.group.name()),
    ];
    if !spec.complexity.is_empty() {
        map.extend([bulk("complexity"), bulk(spec.complexity)]);
    }
    if !spec.doc_flags.is_empty() {
        map.extend([bulk("doc_flags"), statuses(spec.doc_flags)]);
    }
    if let Some(v) = spec.deprecated_since {
        map.extend([bulk("deprecated_since"), bulk(v)]);
    }
    if let Some(v) = spec.replaced_by {
        map.extend([bulk("replaced_by"), bulk(v)]);
    }
    if !spec.history.is_empty() {
        let history = spec
            .history
            .iter()
            .map(|(version, change)| Reply::Array(vec![bulk(version), bulk(change)]))
            .collect();
        map.extend([bulk("history"), Reply::Array(history)]);
    }
    if !spec.args.is_empty() {
        map.extend([
            bulk("arguments"),
            Reply::Array(spec.args.iter().map(arg_doc).collect()),
        ]);
    }
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .flat_map(|s| [bulk(s.name), docs_of(s)])
            .collect();
        map.extend([bulk("subcommands"), Reply::Array(subs)]);
    }
    Reply::Array(map)
}

/// COMMAND: every command's `COMMAND INFO`.
pub fn command(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Docs);
    Reply::Array(TABLE.iter().map(info_of).collect())
}

/// COMMAND COUNT
pub fn count(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Docs);
    Reply::Integer(TABLE.len() as i64)
}

/// COMMAND INFO [command-name ...]
pub fn info(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Docs);
    if argv.len() == 2 {
        return Reply::Array(TABLE.iter().map(info_of).collect());
    }
    Reply::Array(
        argv[2..]
            .iter()
            .map(|name| find(name).map_or(Reply::NilArray, info_of))
            .collect(),
    )
}

/// COMMAND DOCS [command-name ...]
pub fn docs(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Docs);
    let specs: Vec<&CommandSpec> = if argv.len() == 2 {
        TABLE.iter().collect()
    } else {
        argv[2..].iter().filter_map(|name| find(name)).collect()
    };
    Reply::Array(
        specs
            .into_iter()
            .flat_map(|s| [bulk(s.name), docs_of(s)])
            .collect(),
    )
}

/// COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]
pub fn list(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Docs);
    let names = |keep: &dyn Fn(&CommandSpec) -> bool| {
        Reply::Array(
            all_specs()
                .filter(|s| keep(s))
                .map(|s| bulk(s.name))
                .collect(),
        )
    };
    match argv.len() {
        2 => names(&|_| true),
        5 if argv[2].eq_ignore_ascii_case(b"filterby") => {
            let value = argv[4].as_slice();
            let kind = argv[3].to_ascii_lowercase();
            match kind.as_slice() {
                b"module" => Reply::Array(vec![]),
                b"aclcat" => names(&|s| {
                    s.acl
                        .iter()
                        .any(|c| c.as_bytes()[1..].eq_ignore_ascii_case(value))
                }),
                b"pattern" => names(&|s| glob_match(value, s.name.as_bytes(), true)),
                _ => reply::error(reply::SYNTAX_ERROR),
            }
        }
        _ => reply::error(reply::SYNTAX_ERROR),
    }
}

/// A key a command line names, with the flags of the key spec that found it.
type FlaggedKey = (Vec<u8>, &'static [&'static str]);

/// The keys a command line names with their key-spec flags; empty when it names none.
pub(crate) fn flagged_keys(line: &[Vec<u8>]) -> Vec<FlaggedKey> {
    keys_of(line).unwrap_or_default()
}

pub(crate) fn keys_of(line: &[Vec<u8>]) -> Result<Vec<FlaggedKey>, Reply> {
    let spec = match commands::resolve(line) {
        Ok(spec) => spec,
        Err(_) if line.first().and_then(|n| commands::lookup(n)).is_none() => {
            return Err(Reply::err("Invalid command specified"))
        }
        Err(_) => {
            return Err(Reply::err(
                "Invalid number of arguments specified for command",
            ))
        }
    };
    let argc = line.len() as i64;
    let mut keys = Vec::new();
    for ks in spec.key_specs {
        let first = match ks.begin {
            BeginSearch::Index(i) => i64::from(i),
            BeginSearch::Keyword(word, from) => {
                let from = i64::from(from);
                let found = if from >= 0 {
                    (from..argc).find(|&i| line[i as usize].eq_ignore_ascii_case(word.as_bytes()))
                } else {
                    (1..=argc + from)
                        .rev()
                        .find(|&i| line[i as usize].eq_ignore_ascii_case(word.as_bytes()))
                };
                match found {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            BeginSearch::Unknown => continue,
        };
        let (last, step) = match ks.find {
            FindKeys::Range {
                lastkey, keystep, ..
            } => {
                let last = if lastkey >= 0 {
                    first + i64::from(lastkey)
                } else {
                    argc + i64::from(lastkey)
                };
                (last, i64::from(keystep))
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let count = line
                    .get((first + i64::from(keynumidx)) as usize)
                    .and_then(|n| super::util::parse_i64(n))
                    .unwrap_or(0);
                let start = first + i64::from(firstkey);
                let step = i64::from(keystep);
                // A key count typed by the student may be anything: saturate, never overflow.
                let last = start.saturating_add(count.saturating_sub(1).saturating_mul(step));
                keys.extend(
                    (start..=last.min(argc - 1))
                        .step_by(step.max(1) as usize)
                        .filter_map(|i| line.get(i as usize))
                        .map(|k| (k.clone(), ks.flags)),
                );
                continue;
            }
            FindKeys::Unknown => continue,
        };
        keys.extend(
            (first..=last.min(argc - 1))
                .step_by(step.max(1) as usize)
                .filter_map(|i| line.get(i as usize))
                .map(|k| (k.clone(), ks.flags)),
        );
    }
    if keys.is_empty() {
        return Err(Reply::err("The command has no key arguments"));
    }
    // SET's key flags depend on whether GET asks for the old value.
    if spec.name == "set" {
        let get = line.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
        let flags: &'static [&'static str] = if get {
            &["RW", "access", "update"]
        } else {
            &["OW", "update"]
        };
        for key in &mut keys {
            key.1 = flags;
        }
    }
    Ok(keys)
}

/// COMMAND GETKEYS command [arg ...]
pub fn getkeys(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Docs);
    match keys_of(&argv[2..]) {
        Ok(keys) => Reply::Array(keys.into_iter().map(|(k, _)| Reply::Bulk(k)).collect()),
        Err(e) => e,
    }
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
pub fn getkeysandflags(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Docs);
    match keys_of(&argv[2..]) {
        Ok(keys) => Reply::Array(
            keys.into_iter()
                .map(|(k, flags)| Reply::Array(vec![Reply::Bulk(k), statuses(flags)]))
                .collect(),
        ),
        Err(e) => e,
    }
}

/// COMMAND HELP
pub fn help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Docs);
    help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all commands.",
            "COUNT",
            "    Return the total number of commands in this server.",
            "LIST",
            "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full command.",
        ],
    )
}
