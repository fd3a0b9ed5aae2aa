//! Scripting without the Lua engine (a build without the `scripting` feature: the page's
//! first, smaller module). Every SCRIPT, FUNCTION, EVAL and FCALL command answers that the
//! engine is not loaded. The page never lets a student reach them: it switches to the full
//! module before running any of them.

use super::Server;
use crate::redis::commands::CommandSpec;
use crate::redis::reply::Reply;

/// No script is ever busy without the engine.
#[derive(Debug)]
pub enum Busy {}

pub fn not_loaded(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    Reply::err("the Lua engine is not loaded in this build")
}

pub use not_loaded as eval;
pub use not_loaded as eval_ro;
pub use not_loaded as evalsha;
pub use not_loaded as evalsha_ro;
pub use not_loaded as fcall;
pub use not_loaded as fcall_ro;
pub use not_loaded as function_load;
pub use not_loaded as function_restore;
pub use not_loaded as script_load;
// The commands that only read or clear the cache and the libraries go with the engine: a
// build without it never holds a script or a library.
pub use not_loaded as function_delete;
pub use not_loaded as function_dump;
pub use not_loaded as function_flush;
pub use not_loaded as function_help;
pub use not_loaded as function_kill;
pub use not_loaded as function_list;
pub use not_loaded as function_stats;
pub use not_loaded as script_exists;
pub use not_loaded as script_flush;
pub use not_loaded as script_help;
pub use not_loaded as script_kill;
pub use not_loaded as script_show;

pub fn refusal(_server: &Server, _spec: &CommandSpec) -> Option<Reply> {
    None
}

pub fn ended(_server: &mut Server, _client: u64) {}

pub fn progress(_server: &mut Server) -> bool {
    false
}
