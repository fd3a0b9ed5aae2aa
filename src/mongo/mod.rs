//! The MongoDB engine (placeholder while the first slice lands).
