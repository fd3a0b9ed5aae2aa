//! OBJECT: introspection of how a value is stored (Redis's `object.c`).

use super::db::Entry;
use super::reply::Reply;
use super::types::{string, Value};
use super::Server;
use crate::redis::parts::{require_part, Part};

/// OBJECT with an unknown subcommand never reaches here (dispatch answers it); this is the
/// container's own entry in the table.
pub fn container(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    super::commands::wrong_arity_for(argv)
}

/// OBJECT ENCODING key
pub fn encoding(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    let now = server.now;
    let key = &argv[2];
    match server.db().peek(key, now) {
        None => Reply::Nil,
        Some(entry) => Reply::bulk(encoding_name(key, entry)),
    }
}

/// The forced encoding of a string a bit command (SETBIT, BITFIELD, BITOP) wrote last: `raw`
/// to OBJECT ENCODING, and a bitmap to the keyspace panel, which shows its bits.
pub const BITMAP_WRITTEN: &str = "raw (bitmap)";

/// The encoding OBJECT ENCODING reports for `entry` stored under `key` (the keyspace panel
/// shows the same name, so the two never disagree).
pub fn encoding_name(key: &[u8], entry: &Entry) -> &'static str {
    match (&entry.value, entry.encoding) {
        (_, Some(BITMAP_WRITTEN)) => "raw",
        (Value::Str(bytes), Some("embstr")) => string::embstr_or_raw(key, bytes),
        (_, Some(forced)) => forced,
        (Value::Str(bytes), None) => string::encoding_of(key, bytes),
        (other, None) => other.container_encoding().unwrap_or("raw"),
    }
}

/// OBJECT FREQ key: the LFU counter, tracked only under an LFU maxmemory policy.
pub fn freq(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    let now = server.now;
    let lfu = server.config.policy.is_lfu();
    let db = server.db();
    let tracking = db.tracking;
    match db.peek(&argv[2], now) {
        None => Reply::Nil,
        Some(_) if !lfu => Reply::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        Some(entry) => Reply::Integer(tracking.lfu_count(entry.accessed, now) as i64),
    }
}

/// OBJECT IDLETIME key: seconds since the key was last read or written, tracked only under
/// an LRU (or no-eviction) policy.
pub fn idletime(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    let now = server.now;
    let lfu = server.config.policy.is_lfu();
    match server.db().peek(&argv[2], now) {
        None => Reply::Nil,
        Some(_) if lfu => Reply::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        Some(entry) => Reply::Integer((now.saturating_sub(entry.accessed) / 1000) as i64),
    }
}

/// OBJECT REFCOUNT key: values are never shared here, as in Valkey.
pub fn refcount(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    let now = server.now;
    match server.db().peek(&argv[2], now) {
        None => Reply::Nil,
        Some(_) => Reply::Integer(1),
    }
}

/// OBJECT HELP
pub fn help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    require_part!(Part::Internals);
    help_reply(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
}

/// Redis's `addReplyHelp`: a header line, the command's own lines, then HELP itself.
pub fn help_reply(command: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Reply::status(&format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ))];
    out.extend(lines.iter().map(|l| Reply::status(l)));
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Print this help."));
    Reply::Array(out)
}
