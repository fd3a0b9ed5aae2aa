//! The JavaScript driver mode: node-redis, ioredis and the Node MongoDB driver on the same
//! evaluator as the mongosh subset.

use super::{Engines, SnippetRun};

pub fn run(_engines: &mut Engines, _source: &str) -> SnippetRun {
    SnippetRun {
        output: "Error: JavaScript driver snippets are not supported yet\n".into(),
        round_trips: 0,
        failed: true,
    }
}
