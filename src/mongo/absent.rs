//! The stand-in for the Mongo engine in a build without it (cargo feature `mongo` off: the
//! page's first module, a Redis sandbox). It holds no data: the page moves the sandbox into
//! the full module before any Mongo input runs or a snapshot holding Mongo data loads
//! (www/js/engine.js). Until then it answers what an unused Mongo engine answers, to the byte:
//! the prompt's database, the collections panel's catalog, its part of a snapshot
//! (`persist::save`), so that the replay into the full module compares equal.
//! `mongo::absent_tests` holds it to the real engine's answers.

/// `mongo::store::DEFAULT_MEMORY_LIMIT`.
const DEFAULT_MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// A Mongo shell that was never used; only its memory limit can change.
#[derive(Debug)]
pub struct Shell {
    memory_limit: usize,
}

impl Default for Shell {
    fn default() -> Self {
        Shell {
            memory_limit: DEFAULT_MEMORY_LIMIT,
        }
    }
}

impl Shell {
    pub fn new() -> Self {
        Shell::default()
    }

    pub fn set_memory_limit(&mut self, bytes: usize) {
        self.memory_limit = bytes;
    }

    pub fn memory_limit(&self) -> usize {
        self.memory_limit
    }

    pub fn current_db(&self) -> &str {
        "test"
    }

    /// No collection, so no TTL index has anything to delete.
    pub fn tick(&mut self, _now_ms: u64) -> usize {
        0
    }

    /// `mongo::snapshot::catalog` of an empty store, as JSON.
    pub fn catalog_json(&self) -> String {
        format!(
            r#"{{"databases":[],"memory":{{"used":0,"limit":{}}}}}"#,
            self.memory_limit
        )
    }
}
