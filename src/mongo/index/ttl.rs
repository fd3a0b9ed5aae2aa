//! TTL indexes: documents whose indexed date is older than `expireAfterSeconds` go away.
