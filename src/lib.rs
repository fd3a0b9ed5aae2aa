//! nosql-playground: a Redis and MongoDB teaching sandbox whose engines run in the browser.
//!
//! # Layout
//! - `clock`: the virtual clock. Time enters the core only as milliseconds passed in by the host.
//! - `redis::cli`: redis-cli line syntax (argument splitting, repeat prefix, HELP).
//! - `redis::reply`: the typed `Reply` and its redis-cli (`--no-raw`) formatter.
//! - `redis::commands`: the one command table (name, arity, flags, group, docs, handler).
//! - `redis::db`: the keyspaces, their values and the ordered expiry index.
//! - `redis::types::json` / `json_path`: RedisJSON documents and JSONPath (cargo feature `json`);
//!   `redis::search`: the FT.* indexes, query language, aggregation and vector search (cargo
//!   feature `search`). Streams and the GEO* commands are features too (`streams`, `geo`).
//! - `redis::parts`: which commands belong to a part a build can leave out (Lua, FT.*, JSON.*,
//!   streams, GEO*): the page's first module hands such lines to the full one.
//! - `redis::config`, `redis::memory`, `redis::evict`, `redis::info`: CONFIG's one table of
//!   parameters, memory as the real server accounts it (MEMORY USAGE, `used_memory`),
//!   maxmemory eviction, and INFO / SLOWLOG / TIME.
//! - `redis::Server`: what the host talks to: one line in, one formatted reply out, for any of
//!   its clients (`switch_client`); what a client receives later waits in its outbox.
//! - `redis::{clients, multi, pubsub, blocking, notify}`: the per-connection gate and CLIENT,
//!   transactions and WATCH, pub/sub and MONITOR, blocking commands, keyspace events.
//! - `mongo`: values, the mongosh-syntax shell, CRUD and the mongosh / Extended JSON formatters
//!   (cargo feature `mongo`; without it, a stand-in that answers as an empty Mongo sandbox).
//! - `persist`: the versioned, checksummed snapshot of the whole sandbox, and the exports
//!   for real servers (redis-cli script, RESP, mongosh script, mongoimport files).
//! - `snippets`: driver code (redis-py / pymongo in Python, node-redis / ioredis / the Node
//!   MongoDB driver in JavaScript) run against the same engines (cargo feature `snippets`).
//! - `vector`: nearest-neighbour indexes (exact and HNSW) over FLOAT32 vectors, free of
//!   either engine's types: RediSearch's VECTOR fields use them.
//! - `sort`: the stable sort every engine uses, one shared instantiation instead of one per call.
//! - `wasm` (wasm32 only): the one binding module; nothing else knows about wasm-bindgen.
//! - `main.rs`: the native CLI (`nosql-playground redis|mongo`) used by tests and the fidelity suite.

// A panic in wasm ends the student's whole session, so every failure is a reply instead:
// outside tests, clippy (run with -D warnings before each commit) refuses the calls that
// panic when an Option or Result is not what was hoped for.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod clock;
#[cfg(all(not(target_arch = "wasm32"), feature = "mongo", feature = "search"))]
#[doc(hidden)]
pub mod fuzz_entry;
#[cfg(feature = "mongo")]
pub mod mongo;
/// Built without the Mongo engine (the page's first module): the two parts of it the Redis
/// engine uses (the regex engine behind JSONPath's `=~`, the stemmer of FT queries) and a
/// stand-in for the rest.
#[cfg(not(feature = "mongo"))]
pub mod mongo {
    pub mod query {
        pub mod case;
        pub mod regex;
    }
    #[cfg(feature = "search")]
    pub mod index {
        pub mod stem;
    }
    mod absent;
    pub use absent::Shell;
}
pub mod persist;
#[cfg(any(feature = "mongo", feature = "search"))]
mod printf;
pub mod redis;
#[cfg(feature = "snippets")]
pub mod snippets;
mod sort;
pub mod vector;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
