//! RediSearch without its engine (a build without the `search` feature: the page's first
//! module). No index can exist, so the keyspace has nothing to keep in step and a snapshot
//! holds no FT.CREATE; every FT.* command answers that the module is not loaded. The page never
//! lets a student reach them: it switches to the full module before any FT.* line runs
//! (`redis::parts`, `www/js/engine.js`).

use super::Server;
use crate::redis::reply::Reply;

/// The indexes of a server without the search engine: always none.
#[derive(Debug, Default)]
pub struct Indexes(());

impl Indexes {
    pub fn is_empty(&self) -> bool {
        true
    }
}

pub fn not_loaded(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    Reply::err("the search module is not loaded in this build")
}

pub use not_loaded as ft_alter;
pub use not_loaded as ft_create;
pub use not_loaded as ft_dropindex;
pub use not_loaded as ft_explain;
pub use not_loaded as ft_explaincli;
pub use not_loaded as ft_info;
pub use not_loaded as ft_list;
pub use not_loaded as ft_search;

pub mod aggregate {
    pub use super::not_loaded as ft_aggregate;
}

pub mod vector {
    use super::Server;

    /// No VECTOR field, so no store.
    #[derive(Debug, Default)]
    pub struct Stores(());

    impl Stores {
        pub fn is_some(&self) -> bool {
            false
        }
    }

    pub fn sync(_server: &mut Server) {}
}
