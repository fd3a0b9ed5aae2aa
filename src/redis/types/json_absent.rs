//! RedisJSON without its engine (a build without the `json` feature: the page's first module).
//! No JSON key can exist, so nothing else meets one; every JSON.* command answers that the
//! module is not loaded. The page switches to the full module before any JSON.* line runs
//! (`redis::parts`, `www/js/engine.js`).

use crate::redis::parts::{not_built, Part};
use crate::redis::reply::Reply;
use crate::redis::Server;

/// The name TYPE and SCAN's TYPE give a JSON key: SCAN TYPE knows it in any build.
pub const TYPE_NAME: &str = "ReJSON-RL";

pub fn not_loaded(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    not_built(Part::Json)
}

pub use not_loaded as json_arrappend;
pub use not_loaded as json_arrindex;
pub use not_loaded as json_arrinsert;
pub use not_loaded as json_arrlen;
pub use not_loaded as json_arrpop;
pub use not_loaded as json_arrtrim;
pub use not_loaded as json_clear;
pub use not_loaded as json_debug;
pub use not_loaded as json_del;
pub use not_loaded as json_get;
pub use not_loaded as json_merge;
pub use not_loaded as json_mget;
pub use not_loaded as json_mset;
pub use not_loaded as json_numincrby;
pub use not_loaded as json_nummultby;
pub use not_loaded as json_objkeys;
pub use not_loaded as json_objlen;
pub use not_loaded as json_resp;
pub use not_loaded as json_set;
pub use not_loaded as json_strappend;
pub use not_loaded as json_strlen;
pub use not_loaded as json_toggle;
pub use not_loaded as json_type;
