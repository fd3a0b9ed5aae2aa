//! Lists: a deque of strings (Redis's t_list.c).

/// Placeholder until the type lands; the variant exists so that every module can match on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {}

impl List {
    /// The encoding OBJECT ENCODING reports for this value's size and contents.
    pub fn encoding(&self) -> &'static str {
        "unknown"
    }
}
