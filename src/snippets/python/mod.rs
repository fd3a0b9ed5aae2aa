//! The Python snippet mode: a small, safe evaluator of the Python that redis-py and pymongo
//! lessons use.

use super::{Engines, SnippetRun};

pub fn run(_engines: &mut Engines, _source: &str) -> SnippetRun {
    SnippetRun {
        output: "NotImplementedError: Python snippets are not supported yet\n".into(),
        round_trips: 0,
        failed: true,
    }
}
