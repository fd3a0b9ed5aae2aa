//! Streams without their engine (a build without the `streams` feature: the page's first
//! module). No stream can exist, so nothing else meets one and no client blocks on one; every
//! X* command answers that streams are not loaded. The page switches to the full module before
//! any X* line runs (`redis::parts`, `www/js/engine.js`).

use crate::redis::parts::{not_built, Part};
use crate::redis::reply::Reply;
use crate::redis::Server;

pub fn not_loaded(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    not_built(Part::Streams)
}

pub use not_loaded as xack;
pub use not_loaded as xadd;
pub use not_loaded as xautoclaim;
pub use not_loaded as xclaim;
pub use not_loaded as xdel;
pub use not_loaded as xgroup;
pub use not_loaded as xgroup_create;
pub use not_loaded as xgroup_createconsumer;
pub use not_loaded as xgroup_delconsumer;
pub use not_loaded as xgroup_destroy;
pub use not_loaded as xgroup_help;
pub use not_loaded as xgroup_setid;
pub use not_loaded as xinfo;
pub use not_loaded as xinfo_consumers;
pub use not_loaded as xinfo_groups;
pub use not_loaded as xinfo_help;
pub use not_loaded as xinfo_stream;
pub use not_loaded as xlen;
pub use not_loaded as xpending;
pub use not_loaded as xrange;
pub use not_loaded as xread;
pub use not_loaded as xreadgroup;
pub use not_loaded as xrevrange;
pub use not_loaded as xsetid;
pub use not_loaded as xtrim;
