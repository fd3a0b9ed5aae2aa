//! Databases by name, collections by name, documents in insertion order.

use std::collections::{BTreeMap, BTreeSet};

use super::value::{compare, Document, Value};

/// A value ordered by BSON comparison, so `1`, `1.0` and `NumberLong(1)` are one key, as they
/// are in a unique index.
#[derive(Debug, Clone)]
pub struct IndexKey(pub Value);

impl PartialEq for IndexKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for IndexKey {}
impl PartialOrd for IndexKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IndexKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        compare(&self.0, &other.0)
    }
}

#[derive(Debug, Default)]
pub struct Collection {
    pub docs: Vec<Document>,
    /// The `_id_` unique index.
    ids: BTreeSet<IndexKey>,
}

/// Why an insert was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertError {
    DuplicateId(Value),
    IdIsArray,
}

impl Collection {
    /// Appends a document that already has its `_id` first.
    pub fn insert(&mut self, doc: Document) -> Result<(), InsertError> {
        let id = doc.get("_id").cloned().unwrap_or(Value::Null);
        if matches!(id, Value::Array(_)) {
            return Err(InsertError::IdIsArray);
        }
        let key = IndexKey(id);
        if self.ids.contains(&key) {
            return Err(InsertError::DuplicateId(key.0));
        }
        self.ids.insert(key);
        self.docs.push(doc);
        Ok(())
    }

    /// Removes the document at `index` (and its `_id` from the index).
    pub fn remove(&mut self, index: usize) -> Document {
        let doc = self.docs.remove(index);
        let id = doc.get("_id").cloned().unwrap_or(Value::Null);
        self.ids.remove(&IndexKey(id));
        doc
    }

    /// Whether a document with this `_id` exists.
    pub fn has_id(&self, id: &Value) -> bool {
        self.ids.contains(&IndexKey(id.clone()))
    }

    /// Rough on-disk size, for `show dbs`.
    pub fn approx_bytes(&self) -> usize {
        self.docs.len() * 64
    }
}

#[derive(Debug, Default)]
pub struct Database {
    pub collections: BTreeMap<String, Collection>,
}

#[derive(Debug, Default)]
pub struct Store {
    pub databases: BTreeMap<String, Database>,
}

impl Store {
    pub fn collection(&self, db: &str, coll: &str) -> Option<&Collection> {
        self.databases.get(db)?.collections.get(coll)
    }

    /// The collection, created (with its database) on first write, as MongoDB does.
    pub fn collection_mut(&mut self, db: &str, coll: &str) -> &mut Collection {
        self.databases
            .entry(db.to_string())
            .or_default()
            .collections
            .entry(coll.to_string())
            .or_default()
    }

    /// Drops a collection; a database left with none disappears, as in MongoDB.
    pub fn drop_collection(&mut self, db: &str, coll: &str) -> bool {
        let Some(database) = self.databases.get_mut(db) else {
            return false;
        };
        let existed = database.collections.remove(coll).is_some();
        if database.collections.is_empty() {
            self.databases.remove(db);
        }
        existed
    }
}
