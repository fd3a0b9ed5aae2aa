//! The query language: filters now; projection and update operators join here later.

pub mod filter;

pub use filter::{Filter, QueryError};
