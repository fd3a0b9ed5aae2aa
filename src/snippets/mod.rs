//! Driver snippets: Python with redis-py / pymongo, and JavaScript with node-redis, ioredis
//! and the Node MongoDB driver, run against the sandbox's own engines. `localhost:6379` and
//! `localhost:27017` in a snippet mean the sandbox's Redis server and Mongo shell.

use crate::clock::{Clock, Millis};
use crate::{mongo, redis};

pub mod node;
pub mod python;

/// The sandbox a snippet runs against: the same engines the consoles use, and the clock
/// that `time.sleep` / `setTimeout` advance.
pub struct Engines<'a> {
    pub redis: &'a mut redis::Server,
    pub mongo: &'a mut mongo::Shell,
    pub clock: &'a mut Clock,
    pub host_ms: Millis,
}

/// What one snippet run gives back.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnippetRun {
    /// Everything the snippet printed, then the last expression's value as the language's
    /// REPL shows it, then (if it failed) the exception's last traceback line.
    pub output: String,
    /// Driver calls that would each be one network round trip (a pipeline or a MULTI batch
    /// counts once).
    pub round_trips: u64,
    /// True when the snippet ended with an exception.
    pub failed: bool,
}

/// The languages a snippet can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    Node,
}

impl Language {
    pub fn parse(name: &str) -> Option<Language> {
        match name {
            "python" | "py" => Some(Language::Python),
            "node" | "js" | "javascript" => Some(Language::Node),
            _ => None,
        }
    }
}

pub fn run(engines: &mut Engines, language: Language, source: &str) -> SnippetRun {
    match language {
        Language::Python => python::run(engines, source),
        Language::Node => node::run(engines, source),
    }
}
