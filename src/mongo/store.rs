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
    /// What `createCollection` / `collMod` set.
    pub options: CollectionOptions,
}

/// A collection's options, as `db.getCollectionInfos()` lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionOptions {
    pub validator: Option<Document>,
    pub validation_level: ValidationLevel,
    pub validation_action: ValidationAction,
    pub capped: Option<Capped>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum ValidationLevel {
    #[default]
    Strict,
    /// Updates to documents that already break the rules are not checked.
    Moderate,
    Off,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum ValidationAction {
    #[default]
    Error,
    /// The server logs the failure and writes the document anyway.
    Warn,
}

/// A capped collection keeps at most `size` bytes (as the sandbox estimates them) and, if
/// set, `max` documents, dropping the oldest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capped {
    pub size: u64,
    pub max: Option<u64>,
}

/// Why an insert was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertError {
    DuplicateId(Value),
    IdIsArray,
    /// The validator refused the document; the value is the `errInfo` the server returns.
    Validation(Box<Document>),
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
        if let Some(capped) = self.options.capped {
            while self.docs.len() > 1
                && (capped.max.is_some_and(|m| self.docs.len() as u64 > m)
                    || self.approx_bytes() as u64 > capped.size)
            {
                self.remove(0);
            }
        }
        Ok(())
    }

    /// Checks a document about to be written against the validator: `None` when it may be
    /// written, else the `errInfo` of "Document failed validation". `old` is the document an
    /// update replaces (the moderate level lets updates to already-invalid documents pass).
    pub fn validate(
        &self,
        doc: &Document,
        old: Option<&Document>,
        now_ms: i64,
    ) -> Option<Box<Document>> {
        use super::query::validation;
        let validator = self.options.validator.as_ref()?;
        let o = &self.options;
        if o.validation_level == ValidationLevel::Off
            || o.validation_action == ValidationAction::Warn
        {
            return None;
        }
        if validation::passes(validator, doc, now_ms).unwrap_or(true) {
            return None;
        }
        if o.validation_level == ValidationLevel::Moderate
            && old.is_some_and(|old| !validation::passes(validator, old, now_ms).unwrap_or(true))
        {
            return None;
        }
        let mut info = Document::default();
        info.insert(
            "failingDocumentId".into(),
            doc.get("_id").cloned().unwrap_or(Value::Null),
        );
        info.insert("details".into(), validation::details(validator, doc));
        Some(Box::new(info))
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
