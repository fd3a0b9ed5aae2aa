//! Scripting without the Lua engine (a build without the `scripting` feature: the page's
//! first, smaller module). The script cache, the libraries' code and the admin commands stay;
//! the commands that compile or run Lua answer that the engine is not loaded. The page never
//! lets a student reach them: it switches to the full module before running any of them.

use super::Server;
use crate::redis::commands::CommandSpec;
use crate::redis::reply::{self, Reply};

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

pub fn refusal(_server: &Server, _spec: &CommandSpec) -> Option<Reply> {
    None
}

pub fn ended(_server: &mut Server, _client: u64) {}

pub fn progress(_server: &mut Server) {}

pub fn kill(_server: &mut Server, _eval: bool) -> Reply {
    reply::error("NOTBUSY No scripts in execution right now.")
}

pub fn running_script(_server: &Server) -> Result<Reply, Reply> {
    Ok(Reply::Nil)
}
