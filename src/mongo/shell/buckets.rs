//! `db.system.buckets.<name>`: the buckets collection behind a time series collection.
//!
//! The sandbox stores measurements one by one (see `crate::mongo::timeseries`); a read of
//! the buckets collection builds the bucket documents from them and puts them, for the
//! rest of the input, where reads look: a collection of that name. They are dropped again
//! before the next input runs and when this one ends, so nothing else (the collections
//! panel, a saved snapshot, `show collections`) ever sees them as a collection of its own.

use super::{Session, ShellError};
use crate::mongo::timeseries::{buckets, BUCKETS_PREFIX};

impl Session {
    /// Builds `db.<coll>`'s bucket documents when `coll` names the buckets collection of a
    /// time series collection; refuses writes to it.
    pub(super) fn prepare_buckets_view(
        &mut self,
        db: &str,
        coll: &str,
        method: &str,
        writes: bool,
    ) -> Result<(), ShellError> {
        let Some(base) = coll.strip_prefix(BUCKETS_PREFIX) else {
            return Ok(());
        };
        let Some(docs) = self
            .store
            .collection(db, base)
            .filter(|c| c.options.timeseries.is_some())
            .map(buckets)
        else {
            return Ok(());
        };
        if writes
            || matches!(
                method,
                "drop" | "createIndex" | "createIndexes" | "dropIndex"
            )
        {
            return Err(ShellError::invalid_input(format!(
                "the sandbox builds {db}.{coll} from the measurements of {db}.{base} on each \
                 read; write to {db}.{base} instead"
            )));
        }
        let mut view = self.store.new_collection();
        for doc in docs {
            // Each bucket has its own `_id` and the view has no other index: nothing refuses.
            let _ = view.insert(doc);
        }
        if let Some(database) = self.store.databases.get_mut(db) {
            database.collections.insert(coll.to_string(), view);
            self.sessions
                .bucket_views
                .push((db.to_string(), coll.to_string()));
        }
        Ok(())
    }

    /// Drops the bucket documents reads built.
    pub fn drop_buckets_views(&mut self) {
        for (db, name) in std::mem::take(&mut self.sessions.bucket_views) {
            if let Some(database) = self.store.databases.get_mut(&db) {
                database.collections.remove(&name);
            }
        }
    }
}
