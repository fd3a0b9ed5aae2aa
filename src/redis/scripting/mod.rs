//! Redis scripting: EVAL / EVALSHA / SCRIPT and FUNCTION / FCALL over a Lua 5.1 interpreter of
//! our own (`parse`, `vm`, `stdlib`, `pattern`, `cjson`). A script's `redis.call` goes through
//! the same dispatch as a client's command, so MONITOR (`[0 lua]`), keyspace events, stats and
//! WATCH see it. A script that runs past `busy-reply-threshold` makes the server busy (`busy`).
//!
//! This file keeps the script cache and the libraries' code; `engine` runs Lua and `admin`
//! holds the SCRIPT and FUNCTION commands that need no interpreter, both behind the
//! `scripting` feature (on by default). The page's first module is built without it (about
//! 67 KB gzipped smaller for the engine, 8 KB more for `admin`; `scripts/build-wasm`), and
//! `absent` stands in; the page switches to the full module before any scripting command
//! runs (`redis::parts`, `www/js/engine.js`).

#[cfg(feature = "scripting")]
pub mod busy;
#[cfg(feature = "scripting")]
mod cjson;
#[cfg(feature = "scripting")]
mod engine;
#[cfg(feature = "scripting")]
mod parse;
#[cfg(feature = "scripting")]
mod pattern;
#[cfg(feature = "scripting")]
mod stdlib;
#[cfg(feature = "scripting")]
mod vm;

#[cfg(not(feature = "scripting"))]
#[path = "absent.rs"]
pub mod busy;
#[cfg(not(feature = "scripting"))]
use busy as engine;

pub use engine::{
    eval, eval_ro, evalsha, evalsha_ro, fcall, fcall_ro, function_load, function_restore,
    script_load,
};
#[cfg(feature = "scripting")]
mod admin;
pub use admin::{
    function_delete, function_dump, function_flush, function_help, function_kill, function_list,
    function_stats, script_exists, script_flush, script_help, script_kill, script_show,
};
#[cfg(not(feature = "scripting"))]
use busy as admin;

#[cfg(all(test, feature = "scripting"))]
mod tests;

use super::Server;
use std::collections::BTreeMap;

/// The scripting state a server keeps: the script cache and the function libraries.
#[derive(Debug, Default)]
pub struct State {
    /// SHA1 (lower-case hex) → script body, as SCRIPT LOAD and EVAL cache them.
    scripts: BTreeMap<String, Vec<u8>>,
    libraries: BTreeMap<String, Library>,
    /// Set while a script runs: MONITOR shows its commands as `[db lua]`.
    pub(crate) running: bool,
    /// `redis.log` lines (level, message), oldest first, for the page's log.
    pub log: Vec<(i64, String)>,
    /// The script the server is busy with, if one ran past `busy-reply-threshold`.
    busy: Option<Box<busy::Busy>>,
}

// A build without the engine never loads a library (a snapshot holding one loads the full
// module), so it reads no function.
#[cfg_attr(not(feature = "scripting"), allow(dead_code))]
#[derive(Debug, Clone)]
struct Library {
    code: Vec<u8>,
    functions: Vec<FunctionInfo>,
}

#[cfg_attr(not(feature = "scripting"), allow(dead_code))]
#[derive(Debug, Clone)]
struct FunctionInfo {
    name: String,
    description: Option<String>,
    flags: Vec<String>,
}

impl State {
    /// Whether a script keeps the server busy (the active expiry cycle waits meanwhile).
    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    /// Takes the `redis.log` lines collected since last asked.
    pub fn take_log(&mut self) -> Vec<(i64, String)> {
        std::mem::take(&mut self.log)
    }

    /// Every function library's code, by library name: FUNCTION LOAD rebuilds each.
    pub fn library_codes(&self) -> impl Iterator<Item = &[u8]> {
        self.libraries.values().map(|l| l.code.as_slice())
    }

    /// Every cached script's body, by SHA1: SCRIPT LOAD caches each again.
    pub fn cached_scripts(&self) -> impl Iterator<Item = &[u8]> {
        self.scripts.values().map(Vec::as_slice)
    }
}

pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

#[cfg(feature = "scripting")]
const RDB_OPCODE_FUNCTION2: u8 = 245;
