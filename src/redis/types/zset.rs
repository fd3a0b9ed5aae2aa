//! Sorted sets: members ordered by score, then lexicographically (Redis's t_zset.c).

/// Placeholder until the type lands; the variant exists so that every module can match on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZSet {}

impl ZSet {
    /// The encoding OBJECT ENCODING reports for this value's size and contents.
    pub fn encoding(&self) -> &'static str {
        "unknown"
    }
}
