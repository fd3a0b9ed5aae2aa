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
    /// The Lua interpreter and every scripting command: EVAL, FCALL, FUNCTION, SCRIPT.
    Scripting,
    /// RediSearch: FT.*.
    Search,
    /// RedisJSON: JSON.*.
    Json,
    /// Streams: XADD, XREAD (blocking too), XGROUP...
    Streams,
    /// The GEO* commands. Geo sets are sorted sets: ZADD, ZRANGE... on them are not geo.
    Geo,
    /// The command docs' prose and the table's introspection: `HELP <command>`,
    /// `HELP @<group>` and the COMMAND container (COMMAND DOCS, INFO, LIST, GETKEYS...).
    Docs,
    /// The HyperLogLog commands: PFADD, PFCOUNT, PFMERGE... (an HLL is a string: GET, TYPE,
    /// DEL and the rest meet one in any build).
    HyperLogLog,
    /// The bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD.
    Bitmap,
    /// SORT and SORT_RO.
    Sort,
    /// ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE and ZINTERCARD.
    ZsetAlgebra,
    /// LCS.
    Lcs,
    /// COPY.
    Copy,
    /// The server's internals: OBJECT, MEMORY, DEBUG and SLOWLOG.
    Internals,
    /// Hash field expiry: HEXPIRE, HTTL, HPERSIST... (a snapshot with field TTLs rebuilds
    /// them with HPEXPIREAT, so it loads the full module).
    FieldExpiry,
}

/// The sorted-set algebra commands (`Part::ZsetAlgebra`).
const ZSET_ALGEBRA: [&str; 7] = [
    "zunion",
    "zinter",
    "zdiff",
    "zunionstore",
    "zinterstore",
    "zdiffstore",
    "zintercard",
];

impl Part {
    pub const ALL: [Part; 14] = [
        Part::Scripting,
        Part::Search,
        Part::Json,
        Part::Streams,
        Part::Geo,
        Part::Docs,
        Part::HyperLogLog,
        Part::Bitmap,
        Part::Sort,
        Part::ZsetAlgebra,
        Part::Lcs,
        Part::Copy,
        Part::Internals,
        Part::FieldExpiry,
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
            Part::HyperLogLog => "hyperloglog",
            Part::Bitmap => "bitmap",
            Part::Sort => "sort",
            Part::ZsetAlgebra => "zset-algebra",
            Part::Lcs => "lcs",
            Part::Copy => "copy",
            Part::Internals => "internals",
            Part::FieldExpiry => "field-expiry",
        }
    }

    /// Whether this build has the part.
    pub const fn built(self) -> bool {
        match self {
            Part::Scripting => cfg!(feature = "scripting"),
            Part::Search => cfg!(feature = "search"),
            Part::Json => cfg!(feature = "json"),
            Part::Streams => cfg!(feature = "streams"),
            Part::Geo => cfg!(feature = "geo"),
            Part::Docs => cfg!(feature = "docs"),
            Part::HyperLogLog => cfg!(feature = "hyperloglog"),
            Part::Bitmap => cfg!(feature = "bitmap"),
            Part::Sort => cfg!(feature = "sort"),
            Part::ZsetAlgebra => cfg!(feature = "zset-algebra"),
            Part::Lcs => cfg!(feature = "lcs"),
            Part::Copy => cfg!(feature = "copy"),
            Part::Internals => cfg!(feature = "internals"),
            Part::FieldExpiry => cfg!(feature = "field-expiry"),
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

    /// The part `spec` (a command or a subcommand) runs, if any.
    pub fn of(spec: &CommandSpec) -> Option<Part> {
        if spec.name.starts_with("ft.") {
            Some(Part::Search)
        } else if spec.name.starts_with("json.") {
            Some(Part::Json)
        } else if spec.name == "command" || spec.name.starts_with("command|") {
            Some(Part::Docs)
        } else if spec.name == "sort" || spec.name == "sort_ro" {
            Some(Part::Sort)
        } else if ZSET_ALGEBRA.contains(&spec.name) {
            Some(Part::ZsetAlgebra)
        } else if spec.name == "lcs" {
            Some(Part::Lcs)
        } else if spec.name == "copy" {
            Some(Part::Copy)
        } else if matches!(
            spec.name.split('|').next(),
            Some("object" | "memory" | "debug" | "slowlog")
        ) {
            Some(Part::Internals)
        } else if spec.group == Group::Hash && FIELD_EXPIRY.contains(&spec.name) {
            Some(Part::FieldExpiry)
        } else {
            match spec.group {
                Group::Scripting => Some(Part::Scripting),
                Group::Stream => Some(Part::Streams),
                Group::Geo => Some(Part::Geo),
                Group::HyperLogLog => Some(Part::HyperLogLog),
                Group::Bitmap => Some(Part::Bitmap),
                _ => None,
            }
        }
    }
}

/// The hash field expiry commands.
const FIELD_EXPIRY: [&str; 9] = [
    "hexpire",
    "hpexpire",
    "hexpireat",
    "hpexpireat",
    "httl",
    "hpttl",
    "hexpiretime",
    "hpexpiretime",
    "hpersist",
];

/// What a command of a part this build lacks answers. The page never shows it: it switches to
/// the full module before such a line runs.
pub fn not_built(part: Part) -> Reply {
    Reply::err(format!(
        "the {} commands are not loaded in this build",
        part.feature()
    ))
}

/// Returns `not_built(part)` from the handler it opens when this build lacks `part`: a handler
/// that starts with it is its own stand-in. The condition is evaluated at compile time, so a
/// build without the part drops the rest of the handler and everything it alone reaches
/// (a plain call would not do at opt-level "z", which may leave `built` uninlined).
macro_rules! require_part {
    ($part:expr) => {
        if !const { $part.built() } {
            return $crate::redis::parts::not_built($part);
        }
    };
}
pub(crate) use require_part;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::commands::TABLE;

    /// The part of every command and subcommand of the table, spelled out family by family.
    fn expected(spec: &CommandSpec) -> Option<Part> {
        let name = spec.name;
        let scripting = ["eval", "evalsha", "fcall", "script", "function"];
        if scripting
            .iter()
            .any(|s| name.split(['|', '_']).next() == Some(s))
        {
            Some(Part::Scripting)
        } else if name.starts_with("ft.") {
            Some(Part::Search)
        } else if name.starts_with("json.") {
            Some(Part::Json)
        } else if name.starts_with('x') {
            Some(Part::Streams)
        } else if name.starts_with("geo") {
            Some(Part::Geo)
        } else if name.split('|').next() == Some("command") {
            Some(Part::Docs)
        } else if name.starts_with("pf") {
            Some(Part::HyperLogLog)
        } else if name.starts_with("bit") || name == "setbit" || name == "getbit" {
            Some(Part::Bitmap)
        } else if name.starts_with("sort") {
            Some(Part::Sort)
        } else if ["zunion", "zinter", "zdiff"]
            .iter()
            .any(|c| name.starts_with(c))
        {
            Some(Part::ZsetAlgebra)
        } else if name == "lcs" {
            Some(Part::Lcs)
        } else if name == "copy" {
            Some(Part::Copy)
        } else if ["object", "memory", "debug", "slowlog"]
            .iter()
            .any(|c| name.split('|').next() == Some(c))
        {
            Some(Part::Internals)
        } else if name.starts_with("hexpire")
            || name.starts_with("hpexpire")
            || ["httl", "hpttl", "hpersist"].contains(&name)
        {
            Some(Part::FieldExpiry)
        } else {
            None
        }
    }

    #[test]
    fn every_command_of_the_table_is_classified() {
        let mut seen = [0; 14];
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
            [23, 9, 24, 25, 10, 8, 5, 7, 2, 7, 1, 1, 19, 9],
            "scripting, search, json, streams, geo, docs, hyperloglog, bitmap, sort, \
             zset algebra, lcs, copy, internals, field expiry"
        );
    }

    #[test]
    fn sorted_set_commands_are_not_geo() {
        for name in ["zadd", "zrange", "zrem", "zscore", "zrangestore"] {
            let spec = crate::redis::commands::lookup(name.as_bytes()).unwrap();
            assert_eq!(Part::of(spec), None, "{name}");
        }
        let spec = crate::redis::commands::lookup(b"zunionstore").unwrap();
        assert_eq!(Part::of(spec), Some(Part::ZsetAlgebra));
    }
}
