//! Hashes: field-value maps, with per-field expiry (Redis's t_hash.c).

/// Placeholder until the type lands; the variant exists so that every module can match on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hash {}

impl Hash {
    /// The encoding OBJECT ENCODING reports for this value's size and contents.
    pub fn encoding(&self) -> &'static str {
        "unknown"
    }
}
