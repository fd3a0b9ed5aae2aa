//! The parts of the Redis engine a build can leave out (cargo features), and which commands
//! belong to each. The page's first wasm module is built without them; before a line runs a
//! command of a part the module lacks, the page moves the sandbox into the full module
//! (`www/js/engine.js`). Every command of the table belongs to at most one part, decided here
//! from its name and group only, so a new command of a family is classified with no edit.

use super::commands::{self, CommandSpec, Group};
use super::reply::Reply;

/// A part of the engine behind a cargo feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The Lua interpreter: EVAL, FCALL, FUNCTION LOAD, SCRIPT LOAD...
    Scripting,
    /// RediSearch: FT.*.
    Search,
    /// RedisJSON: JSON.*.
    Json,
    /// Streams: XADD, XREAD (blocking too), XGROUP...
    Streams,
    /// The GEO* commands. Geo sets are sorted sets: ZADD, ZRANGE... on them are not geo.
    Geo,
    /// The command docs' prose: `HELP <command>`, `HELP @<group>` and COMMAND DOCS print it.
    Docs,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Scripting,
        Part::Search,
        Part::Json,
        Part::Streams,
        Part::Geo,
        Part::Docs,
    ];

    /// The cargo feature, as `Playground.features()` names it to the page.
    pub fn feature(self) -> &'static str {
        match self {
            Part::Scripting => "scripting",
            Part::Search => "search",
            Part::Json => "json",
            Part::Streams => "streams",
            Part::Geo => "geo",
            Part::Docs => "docs",
        }
    }

    /// Whether this build has the part.
    pub fn built(self) -> bool {
        match self {
            Part::Scripting => cfg!(feature = "scripting"),
            Part::Search => cfg!(feature = "search"),
            Part::Json => cfg!(feature = "json"),
            Part::Streams => cfg!(feature = "streams"),
            Part::Geo => cfg!(feature = "geo"),
            Part::Docs => cfg!(feature = "docs"),
        }
    }

    /// The part the command `argv` (its name first) runs, read as `of` reads its table row
    /// (its subcommand's, for a container); `None` for an unknown name.
    pub fn of_command(argv: &[Vec<u8>]) -> Option<Part> {
        let spec = commands::lookup(argv.first()?)?;
        match argv.get(1) {
            Some(sub) if !spec.subcommands.is_empty() => Part::of(spec.subcommand(sub)?),
            _ => Part::of(spec),
        }
    }

    /// The part `spec` (a command or a subcommand) runs, if any. Of the scripting commands only
    /// those that compile or run Lua count: SCRIPT EXISTS or FUNCTION LIST answer without it.
    pub fn of(spec: &CommandSpec) -> Option<Part> {
        if super::scripting::ENGINE_COMMANDS.contains(&spec.name) {
            Some(Part::Scripting)
        } else if spec.name.starts_with("ft.") {
            Some(Part::Search)
        } else if spec.name.starts_with("json.") {
            Some(Part::Json)
        } else if spec.name == "command|docs" {
            Some(Part::Docs)
        } else {
            match spec.group {
                Group::Stream => Some(Part::Streams),
                Group::Geo => Some(Part::Geo),
                _ => None,
            }
        }
    }
}

/// What a command of a part this build lacks answers. The page never shows it: it switches to
/// the full module before such a line runs.
pub fn not_built(part: Part) -> Reply {
    Reply::err(format!(
        "the {} commands are not loaded in this build",
        part.feature()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::commands::TABLE;

    /// The part of every command and subcommand of the table, spelled out family by family.
    fn expected(spec: &CommandSpec) -> Option<Part> {
        let name = spec.name;
        let lua = [
            "eval",
            "eval_ro",
            "evalsha",
            "evalsha_ro",
            "fcall",
            "fcall_ro",
            "function|load",
            "function|restore",
            "script|load",
        ];
        if lua.contains(&name) {
            Some(Part::Scripting)
        } else if name.starts_with("ft.") {
            Some(Part::Search)
        } else if name.starts_with("json.") {
            Some(Part::Json)
        } else if name.starts_with('x') {
            Some(Part::Streams)
        } else if name.starts_with("geo") {
            Some(Part::Geo)
        } else if name == "command|docs" {
            Some(Part::Docs)
        } else {
            None
        }
    }

    #[test]
    fn every_command_of_the_table_is_classified() {
        let mut seen = [0; 6];
        for spec in TABLE {
            for spec in std::iter::once(spec).chain(spec.subcommands) {
                let part = Part::of(spec);
                assert_eq!(part, expected(spec), "{}", spec.name);
                if let Some(part) = part {
                    seen[Part::ALL.iter().position(|p| *p == part).unwrap()] += 1;
                }
            }
        }
        // Each family as the table holds it: a command added to one changes its count here.
        assert_eq!(
            seen,
            [9, 9, 24, 25, 10, 1],
            "scripting, search, json, streams, geo, docs"
        );
    }

    #[test]
    fn sorted_set_commands_are_not_geo() {
        for name in ["zadd", "zrange", "zrem", "zscore", "zunionstore"] {
            let spec = crate::redis::commands::lookup(name.as_bytes()).unwrap();
            assert_eq!(Part::of(spec), None, "{name}");
        }
    }
}
