//! The whole sandbox as one file, and the way out to real servers.
//!
//! # Snapshot format, version 2
//!
//! ```text
//! magic    8 bytes  "NSQLSNAP"
//! version  u32 LE   2 (1 is read too)
//! length   u64 LE   bytes of the body
//! crc32    u32 LE   CRC-32 (IEEE) of the body
//! body:
//!   clock   base host ms u64, sandbox ms at it u64, speed (thousandths) u32,
//!           paused u8 (+ paused-at u64)
//!   host    bytes: what the page keeps with it (console histories), opaque here
//!   redis   CONFIG parameters changed from their defaults: count, (name, value)…
//!           commands that rebuild the function libraries, the script cache and the
//!           keyspace (`redis_dump`): count, (argc, args…)…
//!           sorted sets written by GEOADD: count, (db, key)…
//!   mongo   the current database, the ObjectId generator (5 bytes + u32), the store
//!           (`mongo_dump`)
//!   search  optional: "searchIndexes", count, (db, collection, count, (id, name,
//!           type u8, definition, version u32, created-at i64)…)…
//! ```
//! Lengths and counts are unsigned LEB128; byte strings are length-prefixed.
//!
//! Version 2 differs from version 1 only in how a stream's consumer groups are kept: version 1
//! wrote them as Redis's AOF rewrite does (XCLAIM … FORCE per pending entry, XGROUP
//! CREATECONSUMER), which loses a pending entry whose message was deleted, restarts consumers'
//! seen and active times at the load and packs the listpack nodes anew. Version 2 writes, after
//! each stream's XGROUP CREATEs, a `stream_state` record that the loader applies itself and
//! that holds these exactly. A version 1 file loads as it always did: its XCLAIMs replay, and
//! a record in it is refused as a command it never writes.
//!
//! Function libraries and cached scripts travel inside the command list (FUNCTION LOAD,
//! SCRIPT LOAD), so they needed no new version: a version 1 file written before them simply
//! holds none. Search indexes are an optional last part for the same reason: a version 1
//! file that ends after the store loads with none.
//!
//! The Redis keyspace is kept as the commands that rebuild it, as Redis's AOF rewrite writes
//! them, rather than as the engine's internal structures: the file then survives changes to
//! those structures, and the very same list is what the export to a real server prints.
//! Loading replays them into a fresh server on the saved clock, so a key whose absolute
//! expiry passed while the page was closed is gone after the reload, as on a real server
//! restarted from its RDB file.
//!
//! Loading is all or nothing: the snapshot is checked (magic, version, length, checksum)
//! and rebuilt into new engines; only when every part succeeded does the caller swap them
//! in. A damaged file gives an error that says what is wrong and changes nothing.

pub mod background;
pub mod codec;
#[cfg(feature = "mongo")]
pub mod mongo_dump;
pub mod redis_dump;
pub mod stepped;
#[cfg(feature = "streams")]
pub mod stream_state;

use crate::clock::{Clock, Millis};
use crate::redis::parts::Part;
use crate::redis::reply::Reply;
use crate::{mongo, redis};
use codec::{crc32, Reader, Writer};
use redis_dump::{Command, Times};

pub const MAGIC: &[u8; 8] = b"NSQLSNAP";
pub const VERSION: u32 = 2;
/// The oldest version the loader reads.
const OLDEST_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 4;
/// The tag of the search index part, which follows the Mongo store (snapshots saved before
/// search indexes existed end before it, and load with none).
const SEARCH_INDEXES_TAG: &str = "searchIndexes";

/// A sandbox rebuilt from a snapshot, ready to replace the running one.
#[derive(Debug)]
pub struct Loaded {
    pub redis: redis::Server,
    pub mongo: mongo::Shell,
    pub clock: Clock,
    pub host_data: Vec<u8>,
}

/// The snapshot of a sandbox at host time `host_ms`; `host_data` is stored as it is. This is
/// the stepped save (`stepped::Saving`) run to its end, so both give the same bytes.
pub fn save(
    redis: &redis::Server,
    mongo: &mongo::Shell,
    clock: &Clock,
    host_data: &[u8],
    host_ms: Millis,
) -> Vec<u8> {
    let mut saving = stepped::Saving::begin(redis, clock, host_data, host_ms);
    while !saving.step(redis, mongo, AT_ONCE_BUDGET) {}
    saving.finish()
}

/// Keys or documents per step of the one-call save: any budget gives the same bytes; this
/// one keeps few commands of a large keyspace in memory at a time.
const AT_ONCE_BUDGET: usize = 4096;

/// Checks the header and returns the format version and the body.
fn body(bytes: &[u8]) -> Result<(u32, &[u8]), String> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(
            "this is not a nosql-playground snapshot (its first bytes are not NSQLSNAP)".into(),
        );
    }
    let mut r = Reader::new(&bytes[MAGIC.len()..]);
    let header = |_| "the snapshot is truncated (its header is incomplete)".to_string();
    let version = r.u32().map_err(header)?;
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(format!(
            "snapshot format version {version} is not supported (this version of the sandbox reads versions {OLDEST_VERSION} to {VERSION})"
        ));
    }
    let length = r.u64().map_err(header)?;
    let checksum = r.u32().map_err(header)?;
    let have = r.remaining() as u64;
    if have < length {
        return Err(format!(
            "the snapshot is truncated ({have} of its {length} bytes are there)"
        ));
    }
    if have > length {
        return Err(format!(
            "the snapshot is corrupted ({} unexpected bytes after its end)",
            have - length
        ));
    }
    let body = r.take(have as usize)?;
    if crc32(body) != checksum {
        return Err("the snapshot is corrupted (its checksum does not match its contents)".into());
    }
    Ok((version, body))
}

/// The snapshot's clock, the page's data, the changed parameters and the keyspace's commands,
/// in the order they are written.
type Head = (Clock, Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>, Vec<Command>);

fn read_head(r: &mut Reader<'_>) -> Result<Head, String> {
    let base_host = r.u64()?;
    let base_virtual = r.u64()?;
    let speed = r.u32()?;
    let paused = match r.u8()? {
        0 => None,
        1 => Some(r.u64()?),
        _ => return Err("the snapshot holds a malformed clock".into()),
    };
    let clock = Clock::from_parts(base_host, base_virtual, speed, paused);
    let host_data = r.bytes()?.to_vec();

    let n_config = r.count(2)?;
    let mut config = Vec::with_capacity(n_config);
    for _ in 0..n_config {
        config.push((r.bytes()?.to_vec(), r.bytes()?.to_vec()));
    }
    let n_commands = r.count(2)?;
    let mut commands: Vec<Command> = Vec::with_capacity(n_commands);
    for _ in 0..n_commands {
        let argc = r.count(1)?;
        let mut c = Vec::with_capacity(argc);
        for _ in 0..argc {
            c.push(r.bytes()?.to_vec());
        }
        commands.push(c);
    }
    Ok((clock, host_data, config, commands))
}

/// The parts of the Redis engine (`redis::parts::Part`) that loading the snapshot runs: the
/// commands that rebuild its keyspace include FUNCTION LOAD or SCRIPT LOAD (Lua is compiled),
/// FT.CREATE, JSON.SET or XADD. Geo sets are rebuilt with ZADD and need no GEO* command. Empty
/// for a snapshot that cannot be read (its load fails the same in any build).
pub fn parts_used(bytes: &[u8]) -> Vec<Part> {
    let Ok((_, body)) = body(bytes) else {
        return Vec::new();
    };
    let Ok((_, _, _, commands)) = read_head(&mut Reader::new(body)) else {
        return Vec::new();
    };
    let mut parts: Vec<Part> = Vec::new();
    for part in commands.iter().filter_map(|c| Part::of_command(c)) {
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    parts
}

/// The ObjectId generator's state in a fresh shell (`mongo::value::ObjectIdGenerator`'s
/// default): a build without the Mongo engine writes it into its snapshots.
const FRESH_OBJECT_IDS: ([u8; 5], u32) = ([0x2c, 0xfc, 0xa5, 0xff, 0xf0], 0x0061_213d);

/// The mongo part of the snapshot of a sandbox that never used its Mongo engine: database
/// `test`, the ObjectId generator as it starts, no databases, and (`with_search`) the empty
/// search part, which snapshots written before it existed lack.
fn fresh_mongo_part(with_search: bool) -> Vec<u8> {
    let mut w = Writer::default();
    w.str("test");
    w.buf.extend_from_slice(&FRESH_OBJECT_IDS.0);
    w.u32(FRESH_OBJECT_IDS.1);
    w.len(0);
    if with_search {
        w.str(SEARCH_INDEXES_TAG);
        w.len(0);
    }
    w.buf
}

/// The snapshot's clock, the page's data, the changed parameters, the keyspace's commands, the
/// keys GEOADD wrote, and what follows them: the mongo part.
type Parts<'a> = (Head, Vec<(usize, Vec<u8>)>, Reader<'a>);

fn read_redis_parts(body: &[u8]) -> Result<Parts<'_>, String> {
    let mut r = Reader::new(body);
    let head = read_head(&mut r)?;
    let n_geo = r.count(2)?;
    let mut geo_keys = Vec::with_capacity(n_geo);
    for _ in 0..n_geo {
        let db = usize::try_from(r.varint()?).unwrap_or(usize::MAX);
        geo_keys.push((db, r.bytes()?.to_vec()));
    }
    Ok((head, geo_keys, r))
}

/// Whether loading the snapshot needs the Mongo engine: its mongo part is not a fresh
/// shell's (documents, collections, another current database, ObjectIds made). False for a
/// snapshot that cannot be read (its load fails the same in any build).
pub fn uses_mongo(bytes: &[u8]) -> bool {
    let Ok((_, _, mut r)) = body(bytes).and_then(|(_, body)| read_redis_parts(body)) else {
        return false;
    };
    let rest = r.take(r.remaining()).unwrap_or_default();
    rest != fresh_mongo_part(true) && rest != fresh_mongo_part(false)
}

/// Rebuilds a sandbox from a snapshot at host time `host_ms`, or says why it cannot.
pub fn load(bytes: &[u8], host_ms: Millis) -> Result<Loaded, String> {
    let (version, body) = body(bytes)?;
    let ((clock, host_data, config, commands), geo_keys, mut r) = read_redis_parts(body)?;

    #[cfg(feature = "mongo")]
    let mongo = {
        let db = r.string()?;
        let mut process = [0u8; 5];
        process.copy_from_slice(r.take(5)?);
        let counter = r.u32()?;
        let mut store = mongo_dump::read_store(&mut r)?;
        mongo_dump::read_search_indexes(&mut r, &mut store)?;
        if !r.is_at_end() {
            return Err("the snapshot is corrupted (unexpected bytes after its last part)".into());
        }
        mongo::Shell::restore(store, db, (process, counter))
    };
    #[cfg(not(feature = "mongo"))]
    let mongo = {
        let rest = r.take(r.remaining())?;
        if rest != fresh_mongo_part(true) && rest != fresh_mongo_part(false) {
            return Err(
                "the snapshot holds MongoDB data, and this build has no MongoDB engine".into(),
            );
        }
        mongo::Shell::new()
    };

    let now = clock.now(host_ms);
    let redis = rebuild_redis(&commands, &config, &geo_keys, now, version)?;
    Ok(Loaded {
        redis,
        mongo,
        clock,
        host_data,
    })
}

/// The commands a snapshot's keyspace part is made of (FUNCTION and SCRIPT only as
/// `LOAD`, see `replayable`).
const REPLAYED: [&str; 16] = [
    "FUNCTION",
    "SCRIPT",
    "SELECT",
    "SET",
    "PEXPIREAT",
    "HSET",
    "HPEXPIREAT",
    "RPUSH",
    "SADD",
    "ZADD",
    "XADD",
    "XSETID",
    "XGROUP",
    "XCLAIM",
    "JSON.SET",
    "FT.CREATE",
];

/// Whether `c` is one of the commands `redis_dump` writes: a crafted file cannot open a
/// transaction, subscribe, block, flush or disconnect the console's client.
fn replayable(name: &str, c: &[Vec<u8>]) -> bool {
    match name {
        "FUNCTION" | "SCRIPT" => c.get(1).is_some_and(|s| s.eq_ignore_ascii_case(b"LOAD")),
        _ => REPLAYED.contains(&name),
    }
}

fn name_of(c: &[Vec<u8>]) -> String {
    c.first()
        .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
        .unwrap_or_default()
}

/// A fresh server with the keyspace rebuilt by `commands` (as a snapshot of format `version`
/// holds them), then the changed parameters set. No limit applies while it fills (the saved
/// data fitted when it was saved); INFO's counters then start from zero, as after a real
/// server's restart.
pub fn rebuild_redis(
    commands: &[Command],
    config: &[(Vec<u8>, Vec<u8>)],
    geo_keys: &[(usize, Vec<u8>)],
    now: Millis,
    version: u32,
) -> Result<redis::Server, String> {
    let mut server = redis::Server::new();
    let run = |server: &mut redis::Server, c: &[Vec<u8>]| match server.execute(c, now) {
        Reply::Error(text) => Err(format!(
            "the snapshot cannot be replayed: {} answered {text}",
            name_of(c)
        )),
        _ => Ok(()),
    };
    let unlimited = [
        b"CONFIG".to_vec(),
        b"SET".to_vec(),
        b"maxmemory".to_vec(),
        b"0".to_vec(),
    ];
    run(&mut server, &unlimited)?;
    #[cfg(not(feature = "streams"))]
    let _ = version;
    for c in commands {
        #[cfg(feature = "streams")]
        if version >= stream_state::SINCE_VERSION
            && c.first().is_some_and(|n| n == stream_state::RECORD)
        {
            stream_state::apply(&mut server, c, now)?;
            continue;
        }
        let name = name_of(c);
        if !replayable(&name, c) {
            return Err(format!(
                "the snapshot holds a command it never writes ({name:?})"
            ));
        }
        run(&mut server, c)?;
    }
    for (db, key) in geo_keys {
        if let Some(entry) = server.dbs.get_mut(*db).and_then(|d| d.peek(key, now)) {
            if let redis::types::Value::ZSet(z) = &mut entry.value {
                z.mark_geo(true);
            }
        }
    }
    let mut set = vec![b"CONFIG".to_vec(), b"SET".to_vec(), b"maxmemory".to_vec()];
    let saved_max = config.iter().find(|(n, _)| n == b"maxmemory");
    set.push(saved_max.map_or_else(
        || {
            redis::config::Config::default()
                .maxmemory
                .to_string()
                .into_bytes()
        },
        |(_, v)| v.clone(),
    ));
    for (name, value) in config.iter().filter(|(n, _)| n != b"maxmemory") {
        set.push(name.clone());
        set.push(value.clone());
    }
    run(&mut server, &set)?;
    server.reset_stats();
    // A library's top-level `redis.log` ran again while it was reloaded; the student did
    // not run anything, so the page has nothing new to show.
    server.scripting.take_log();
    server.stats.dirty = 0;
    server.stats.last_save = Some(now);
    Ok(server)
}

/// The Redis keyspace as a redis-cli script for a real server (TTLs relative to `now`).
pub fn redis_cli_script(server: &redis::Server, now: Millis) -> String {
    redis_dump::to_cli_script(&redis_dump::dump(server, now, Times::Relative).commands)
}

/// The same commands in RESP, for `redis-cli --pipe`.
pub fn redis_resp(server: &redis::Server, now: Millis) -> Vec<u8> {
    redis_dump::to_resp(&redis_dump::dump(server, now, Times::Relative).commands)
}

#[cfg(all(test, feature = "mongo"))]
mod background_tests;
#[cfg(all(test, feature = "mongo"))]
mod tests;
