//! Sets: unordered unique strings (Redis's t_set.c).

/// Placeholder until the type lands; the variant exists so that every module can match on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Set {}

impl Set {
    /// The encoding OBJECT ENCODING reports for this value's size and contents.
    pub fn encoding(&self) -> &'static str {
        "unknown"
    }
}
