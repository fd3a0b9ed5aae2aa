//! Deterministic fuzzing of the Python snippet mode: random token soups, deep nesting and
//! random mutations of valid snippets. Every input must come back with some output (never a
//! panic or a stack overflow) within the step budget: run time is bounded by counting
//! steps, not by a clock.
#![cfg(not(target_arch = "wasm32"))]

use std::panic::{catch_unwind, AssertUnwindSafe};

use nosql_playground::clock::Clock;
use nosql_playground::snippets::{python, Engines};
use nosql_playground::{mongo, redis};

mod common;
use common::Rng;

const HOST_MS: u64 = 1_795_687_200_000;

/// Small enough that thousands of inputs run in seconds, large enough for real loops.
const STEP_LIMIT: u64 = 20_000;

const TOKENS: &[&str] = &[
    "import",
    "redis",
    "pymongo",
    "from",
    "MongoClient",
    "as",
    "json",
    "time",
    "datetime",
    "r",
    "=",
    "redis.Redis()",
    "r.set",
    "r.get",
    "r.zadd",
    "r.pipeline()",
    "p",
    ".execute()",
    "db",
    "client",
    "client['db']",
    "db.posts",
    ".insert_one",
    ".find",
    ".sort",
    ".limit",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    "'k'",
    "\"v\"",
    "b'x'",
    "f'{x}'",
    "1",
    "2.5",
    "-1",
    "True",
    "None",
    "x",
    "y",
    "i",
    "for",
    "in",
    "range",
    "if",
    "else",
    "elif",
    "while",
    "def",
    "return",
    "lambda",
    "try",
    "except",
    "finally",
    "with",
    "await",
    "async",
    "print",
    "len",
    "sorted",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "==",
    "<",
    "not",
    "and",
    "or",
    "\n",
    "\n    ",
    "\n        ",
    ";",
    "*",
    "**",
    "=",
    "+=",
    "yield",
    "class",
    "global",
    "del",
    "raise",
    "pass",
    "break",
    "continue",
    "json.dumps",
    "time.sleep",
    "\\",
    "#",
    "'''",
    "\"",
];

const SEEDS: &[&str] = &[
    "import redis\nr = redis.Redis()\nr.set('k', 'v', ex=10)\nprint(r.get('k'))\n",
    "import redis\nr = redis.Redis(decode_responses=True)\nwith r.pipeline() as p:\n    for i in range(5):\n        p.incr('n')\n    print(p.execute())\n",
    "from pymongo import MongoClient\ndb = MongoClient()['blog']\ndb.posts.insert_one({'title': 'a', 'views': 3})\nfor d in db.posts.find({}, {'_id': 0}).sort('views', -1).limit(2):\n    print(d)\n",
    "import json\nd = {k: [i * 2 for i in range(k)] for k in range(4)}\nprint(json.dumps(d), f'{len(d):>5}')\n",
    "def f(x, *a, k=1, **kw):\n    return x + sum(a) + k\ntry:\n    print(f(1, 2, k=3))\nexcept TypeError as e:\n    print(e)\n",
    "import datetime, time\nt = datetime.datetime(2026, 1, 31, 23, 59)\ntime.sleep(1.5)\nprint(t + datetime.timedelta(days=1), repr(0.1 + 0.2))\n",
];

/// Runs a snippet on fresh engines; Some(the input) if it panicked.
fn run_with(source: &str, step_limit: u64) -> Option<String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut redis = redis::Server::new();
        let mut mongo = mongo::Shell::new();
        mongo.set_step_limit(step_limit);
        let mut clock = Clock::new();
        let mut engines = Engines {
            redis: &mut redis,
            mongo: &mut mongo,
            clock: &mut clock,
            host_ms: HOST_MS,
        };
        python::run_with_limit(&mut engines, source, step_limit)
    }));
    match result {
        Ok(_) => None,
        Err(_) => Some(source.chars().take(300).collect()),
    }
}

fn run_one(source: &str) -> Option<String> {
    run_with(source, STEP_LIMIT)
}

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let len = chars.len();
        let at = rng.below(len + 1);
        match rng.below(4) {
            0 if len > 0 => {
                let end = (at + 1 + rng.below(6)).min(len);
                chars.drain(at.min(end)..end);
            }
            1 => {
                let tok: Vec<char> = rng.pick(TOKENS).chars().collect();
                chars.splice(at..at, tok);
            }
            2 if len > 0 => {
                let c = chars[rng.below(len)];
                chars.insert(at, c);
            }
            _ => {
                let c = [
                    '(', ')', ':', '\n', ' ', '\'', '"', '{', '[', ']', '}', '\t',
                ][rng.below(12)];
                chars.insert(at, c);
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn random_python_never_panics() {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let mut panics = Vec::new();
    for i in 0..3000 {
        let source = if i % 2 == 0 {
            let n = rng.below(40);
            (0..n)
                .map(|_| rng.pick(TOKENS))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            let seed = rng.pick(SEEDS);
            mutate(&mut rng, seed)
        };
        if let Some(p) = run_one(&source) {
            panics.push(p);
        }
    }
    assert!(
        panics.is_empty(),
        "panicked on:\n{}",
        panics.join("\n----\n")
    );
}

#[test]
fn deep_and_long_inputs_stop_cleanly() {
    let inputs = [
        "[".repeat(10_000),
        "(".repeat(5_000) + &")".repeat(5_000),
        "-".repeat(10_000) + "1",
        "not ".repeat(10_000) + "1",
        "x = 1\n".to_string() + &"if x:\n".repeat(200),
        (0..200)
            .map(|i| format!("{}if 1:\n", " ".repeat(i)))
            .collect::<String>(),
        "f'{".repeat(500),
        "a = [1]\nfor i in range(30):\n    a = a + a\n".to_string(),
        "s = 'x'\nwhile True:\n    s = s * 2\n".to_string(),
        "d = {}\nfor i in range(100000):\n    d[i] = i\n".to_string(),
    ];
    for source in inputs {
        assert_eq!(run_one(&source), None);
    }
}

#[test]
fn deeply_nested_values_are_freed_and_compared_without_recursion() {
    let sources = [
        "a = []\nfor i in range(50000):\n    a = [a]\n",
        "a = []\nb = []\nfor i in range(50000):\n    a = [a]\n    b = [b]\nprint(a == b, a < b)\n",
        "d = {}\nfor i in range(50000):\n    d = {'k': d}\nprint(repr(d)[:10])\n",
        "t = ()\nfor i in range(50000):\n    t = (t,)\nprint(len(str(t)) > 0)\n",
    ];
    for source in sources {
        assert_eq!(
            run_with(source, nosql_playground::mongo::shell::eval::STEP_LIMIT),
            None
        );
    }
}
