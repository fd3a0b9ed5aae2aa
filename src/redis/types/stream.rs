//! Streams: an append-only log of entries with IDs, and consumer groups (Redis's t_stream.c).

/// Placeholder until the type lands; the variant exists so that every module can match on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {}

impl Stream {
    /// The encoding OBJECT ENCODING reports for this value's size and contents.
    pub fn encoding(&self) -> &'static str {
        "unknown"
    }
}
