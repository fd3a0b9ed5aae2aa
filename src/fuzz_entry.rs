//! The bodies of the fuzz targets, shared by the libFuzzer crate in `fuzz/` (nightly,
//! cargo-fuzz) and by `tests/fuzz_corpus.rs`, which replays the checked-in corpus through the
//! same functions on stable Rust. Each function takes the raw fuzz input and must return
//! normally whatever it is given: a panic, an endless loop or an unbounded allocation here is
//! a bug in the engines.
//!
//! The inputs are shaped so that most random bytes reach past the first parse:
//! - `redis_line`: text, one redis-cli line per `\n` (repeat prefixes, quotes, `.time`,
//!   `.client` and HELP included), all on one server; a repeated line runs at most 16 times.
//! - `redis_command`: one command per `\n`; two bytes choose the command in the table (big
//!   endian, modulo its length), a third the subcommand (0: none) and how far time moves, and
//!   the rest are its arguments split on spaces, binary-safe.
//! - `mongosh`: mongosh source, run with a small step budget.
//! - `mongo_filter` / `mongo_update` / `mongo_projection` / `mongo_pipeline`: relaxed Extended
//!   JSON (`{"$oid": …}` and the other wrappers read as `EJSON.parse` reads them), compiled and
//!   applied to a fixed set of documents of many shapes.
//! - `jsonpath`: one RedisJSON path, used by the JSON.* commands on a fixed document.
//! - `ft_query`: one RediSearch query, run by FT.SEARCH, FT.EXPLAIN and FT.AGGREGATE against a
//!   small index.
//! - `redis_panels`: text, one line per `\n`, given to the page's helpers that read typed
//!   text or a key's name without running a command (hints, key completion, the key detail
//!   and keyspace panels, long replies in parts), then run as a paged console line.
//!
//! - `snapshot`: a snapshot body, given a valid header and checksum so that the body parser
//!   and the replay of its commands and documents are what is tested (one input in eight is
//!   loaded as it is, header included).

use std::sync::OnceLock;

use crate::clock::Clock;
use crate::mongo::query::filter::Filter;
use crate::mongo::query::projection::Projection;
use crate::mongo::query::update::{ApplyContext, Update};
use crate::mongo::store::Store;
use crate::mongo::value::{Document, Value};
use crate::mongo::Shell;
use crate::redis::commands::TABLE;
use crate::redis::types::json_path::JsonPath;
use crate::redis::{cli, Server};

/// The sandbox time every target runs at (2024-01-01).
const NOW: u64 = 1_704_067_200_000;

/// Lines or commands one input runs at most: a longer input teaches the fuzzer nothing a
/// shorter one does not, and would only slow it down.
const MAX_LINES: usize = 64;

/// Runs of one redis-cli line with a repeat prefix (`100000 INCR k`) in `redis_line`; counts
/// up to the console's own `cli::MAX_REPEAT` are still read and checked.
const MAX_REPEAT: u64 = 16;

/// Steps one mongosh input may take in the fuzzer: the budget itself is what is tested (the
/// shipped default is 10 million), a small one keeps each execution fast.
const FUZZ_STEP_LIMIT: u64 = 100_000;

/// The names of every target, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
/// One target's body: the raw fuzz input in, nothing out.
pub type Target = fn(&[u8]);

pub const TARGETS: &[(&str, Target)] = &[
    ("redis_line", redis_line),
    ("redis_command", redis_command),
    ("mongosh", mongosh),
    ("mongo_filter", mongo_filter),
    ("mongo_update", mongo_update),
    ("mongo_projection", mongo_projection),
    ("mongo_pipeline", mongo_pipeline),
    ("jsonpath", jsonpath),
    ("ft_query", ft_query),
    ("snapshot", snapshot),
    ("redis_panels", redis_panels),
];

/// A snapshot read back from IndexedDB or an imported file. A random body almost never
/// passes a checksum, so the input is wrapped in a valid header: what is fuzzed is the
/// reading and replaying that follow the checks. A loaded sandbox is saved again, which
/// must not fail either.
pub fn snapshot(data: &[u8]) {
    use crate::persist;
    let bytes = if data.first().is_some_and(|b| b % 8 == 0) {
        data[1..].to_vec()
    } else {
        let body = data.get(1..).unwrap_or_default();
        let mut bytes = Vec::with_capacity(24 + body.len());
        bytes.extend_from_slice(persist::MAGIC);
        bytes.extend_from_slice(&persist::VERSION.to_le_bytes());
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&persist::codec::crc32(body).to_le_bytes());
        bytes.extend_from_slice(body);
        bytes
    };
    if let Ok(loaded) = persist::load(&bytes, NOW) {
        persist::save(
            &loaded.redis,
            &loaded.mongo,
            &loaded.clock,
            &loaded.host_data,
            NOW,
        );
    }
}

/// Arbitrary redis-cli lines through the console's own entry point.
pub fn redis_line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut server = Server::new();
    let mut clock = Clock::new();
    for line in text.split('\n').take(MAX_LINES) {
        let out = cli::run_line_repeating_at_most(&mut server, &mut clock, line, NOW, MAX_REPEAT);
        if out.quit {
            break;
        }
    }
}

/// Commands chosen from the table with arbitrary binary arguments.
pub fn redis_command(data: &[u8]) {
    let mut server = Server::new();
    let mut now = NOW;
    for chunk in data.split(|&b| b == b'\n').take(MAX_LINES) {
        let [hi, lo, sub, rest @ ..] = chunk else {
            continue;
        };
        let spec = &TABLE[usize::from(u16::from_be_bytes([*hi, *lo])) % TABLE.len()];
        let mut argv = vec![spec.name.as_bytes().to_vec()];
        if !spec.subcommands.is_empty() && *sub != 0 {
            let sub = &spec.subcommands[usize::from(*sub) % spec.subcommands.len()];
            argv.push(sub.sub_name().as_bytes().to_vec());
        }
        if !rest.is_empty() {
            argv.extend(rest.split(|&b| b == b' ').map(<[u8]>::to_vec));
        }
        // Moves time along so that expiry and blocking timeouts are reached too.
        now += u64::from(*sub & 0x0f) * 250;
        server.tick(now);
        server.execute(&argv, now);
        // A random MULTI, SUBSCRIBE or blocking pop would hold later lines back: reconnect,
        // as redis-cli does after Ctrl-C.
        let id = server.client_id();
        if !server.client(id).is_some_and(|c| c.is_plain()) {
            server.disconnect(id);
        }
    }
}

/// mongosh source through the shell's parser and evaluator.
pub fn mongosh(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut shell = Shell::new();
    shell.set_step_limit(FUZZ_STEP_LIMIT);
    shell.eval_mongosh(&text, NOW);
}

/// Documents of many shapes that every compiled filter, update and projection meets.
const DOCUMENTS: &[&str] = &[
    r#"{"_id": 1, "a": 1, "b": "x", "arr": [1, 2, 3]}"#,
    r#"{"_id": 2, "a": {"b": [1, {"c": 2}], "c": null}, "arr": [{"x": 1}, {"x": [2, 3]}]}"#,
    r#"{"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "a": [[1, 2], [3]], "b": {"$date": "2024-01-01T00:00:00Z"}}"#,
    r#"{"_id": "s", "a": "text with words", "b": 1.5, "c": {"$numberDecimal": "1.10"}, "d": {"e": {"f": true}}}"#,
    r#"{"_id": 5, "a": {"$numberLong": "9223372036854775807"}, "b": -0.0, "arr": [], "loc": {"type": "Point", "coordinates": [1, 2]}}"#,
    r#"{"_id": 6, "a": {"$binary": {"base64": "AAEC", "subType": "00"}}, "b": {"$regularExpression": {"pattern": "^a", "options": "i"}}}"#,
    r#"{"_id": 7}"#,
];

/// `DOCUMENTS`, parsed once per process: parsing the Extended JSON again for every input
/// was a tenth of an update's execution. Nothing can change them, so an input's run still
/// depends on that input alone.
fn shared_documents() -> &'static [Document] {
    static PARSED: OnceLock<Vec<Document>> = OnceLock::new();
    PARSED.get_or_init(|| {
        DOCUMENTS
            .iter()
            .filter_map(|text| match parse_ejson(text.as_bytes()) {
                Some(Value::Document(d)) => Some(d),
                _ => None,
            })
            .collect()
    })
}

/// Fresh copies of the documents, for the targets that change them.
fn documents() -> Vec<Document> {
    shared_documents().to_vec()
}

/// Reads fuzz input as relaxed Extended JSON; `None` when it is not JSON at all.
fn parse_ejson(data: &[u8]) -> Option<Value> {
    let json: serde_json::Value = serde_json::from_slice(data).ok()?;
    crate::mongo::shell::value_from_ejson(&json).ok()
}

fn ejson_document(data: &[u8]) -> Option<Document> {
    match parse_ejson(data)? {
        Value::Document(d) => Some(d),
        _ => None,
    }
}

/// A query filter, compiled and matched against every document.
pub fn mongo_filter(data: &[u8]) {
    let Some(spec) = ejson_document(data) else {
        return;
    };
    if let Ok(filter) = Filter::compile(&spec) {
        let filter = filter.at(NOW as i64);
        for doc in shared_documents() {
            filter.matches(doc);
            let _ = filter.take_error();
        }
    }
}

/// An update document (or, for a JSON array, an update pipeline), applied to every document
/// as an update and as an upsert.
pub fn mongo_update(data: &[u8]) {
    let update = match parse_ejson(data) {
        Some(Value::Document(d)) => Update::compile(&d),
        Some(Value::Array(stages)) => Update::compile_pipeline(&stages),
        _ => return,
    };
    let Ok(update) = update else {
        return;
    };
    for inserting in [false, true] {
        let ctx = ApplyContext {
            filter: None,
            array_filters: &[],
            inserting,
            now_ms: NOW as i64,
        };
        for mut doc in documents() {
            let _ = update.apply(&mut doc, &ctx);
        }
    }
}

/// A projection, applied to every document, with a filter for the positional `$`.
pub fn mongo_projection(data: &[u8]) {
    let Some(spec) = ejson_document(data) else {
        return;
    };
    let mut query = Document::default();
    query.insert("arr".into(), Value::Int32(2));
    let Ok(Some(projection)) = Projection::compile(&spec, &query) else {
        return;
    };
    let projection = projection.at(NOW as i64);
    let filter = Filter::compile(&query).ok();
    for doc in shared_documents() {
        let _ = projection.try_apply(doc, filter.as_ref());
    }
}

/// An aggregation pipeline (a JSON array of stages) over the documents.
pub fn mongo_pipeline(data: &[u8]) {
    let Some(Value::Array(pipeline)) = parse_ejson(data) else {
        return;
    };
    let mut store = Store::default();
    for (coll, docs) in [("c", documents()), ("other", documents())] {
        let collection = store.collection_mut("test", coll);
        for doc in docs {
            let _ = collection.insert(doc);
        }
    }
    let _ = crate::mongo::agg::run(&mut store, "test", "c", &pipeline, NOW);
}

const JSON_DOC: &str = r#"{"a":[1,{"b":2,"c":[3,4]},"s",null,true],"b":{"a":{"a":1.5}},"c":"x","n":{"m":{"o":[[],{}]}}}"#;

fn run(server: &mut Server, words: &[&[u8]]) {
    let argv: Vec<Vec<u8>> = words.iter().map(|w| w.to_vec()).collect();
    server.execute(&argv, NOW);
}

/// A JSONPath through the parser and the JSON.* commands that read and write by path.
pub fn jsonpath(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(path) = JsonPath::parse(&text) {
        static DOC: OnceLock<Option<serde_json::Value>> = OnceLock::new();
        if let Some(doc) = DOC.get_or_init(|| serde_json::from_str(JSON_DOC).ok()) {
            path.locate(doc);
        }
        path.insertion();
    }
    let path = text.as_bytes();
    let mut server = Server::new();
    let commands: &[&[&[u8]]] = &[
        &[b"JSON.GET", b"d", path],
        &[b"JSON.TYPE", b"d", path],
        &[b"JSON.OBJKEYS", b"d", path],
        &[b"JSON.ARRLEN", b"d", path],
        &[b"JSON.NUMINCRBY", b"d", path, b"2"],
        &[b"JSON.STRAPPEND", b"d", path, b"\"y\""],
        &[b"JSON.ARRAPPEND", b"d", path, b"7"],
        &[b"JSON.ARRINSERT", b"d", path, b"0", b"8"],
        &[b"JSON.ARRPOP", b"d", path],
        &[b"JSON.TOGGLE", b"d", path],
        &[b"JSON.MERGE", b"d", path, b"{\"z\":1}"],
        &[b"JSON.SET", b"d", path, b"{\"k\":[1]}"],
        &[b"JSON.GET", b"d", b"$", path],
        &[b"JSON.DEBUG", b"MEMORY", b"d", path],
        &[b"JSON.CLEAR", b"d", path],
        &[b"JSON.DEL", b"d", path],
    ];
    run(&mut server, &[b"JSON.SET", b"d", b"$", JSON_DOC.as_bytes()]);
    for command in commands {
        run(&mut server, command);
    }
}

/// A RediSearch query through the parser, FT.EXPLAIN, FT.SEARCH and FT.AGGREGATE over an
/// index of hashes with a field of every kind.
pub fn ft_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::redis::search::query::parse(&text);
    let query = text.as_bytes();
    let mut server = Server::new();
    let setup: &[&[&[u8]]] = &[
        &[
            b"FT.CREATE",
            b"idx",
            b"ON",
            b"HASH",
            b"PREFIX",
            b"1",
            b"d:",
            b"SCHEMA",
            b"t",
            b"TEXT",
            b"g",
            b"TAG",
            b"n",
            b"NUMERIC",
            b"SORTABLE",
            b"loc",
            b"GEO",
        ],
        &[
            b"HSET",
            b"d:1",
            b"t",
            b"hello world",
            b"g",
            b"a,b",
            b"n",
            b"1",
            b"loc",
            b"1,2",
        ],
        &[
            b"HSET",
            b"d:2",
            b"t",
            b"running runners ran",
            b"g",
            b"c",
            b"n",
            b"-5",
        ],
        &[b"HSET", b"d:3", b"t", b"hello", b"n", b"inf"],
    ];
    for command in setup {
        run(&mut server, command);
    }
    run(&mut server, &[b"FT.EXPLAIN", b"idx", query]);
    run(&mut server, &[b"FT.SEARCH", b"idx", query]);
    run(
        &mut server,
        &[
            b"FT.SEARCH",
            b"idx",
            query,
            b"SORTBY",
            b"n",
            b"LIMIT",
            b"0",
            b"2",
        ],
    );
    run(
        &mut server,
        &[b"FT.AGGREGATE", b"idx", query, b"GROUPBY", b"1", b"@g"],
    );
    // The same text as an index's FILTER expression, tried on every document.
    run(
        &mut server,
        &[
            b"FT.CREATE",
            b"f",
            b"PREFIX",
            b"1",
            b"d:",
            b"FILTER",
            query,
            b"SCHEMA",
            b"t",
            b"TEXT",
        ],
    );
    run(&mut server, &[b"FT.SEARCH", b"f", b"*"]);
}

/// Keys of every type, with binary, quoted and multi-byte names, for `redis_panels`.
const PANEL_SETUP: &[&str] = &[
    "SET s v",
    "SET \"b\\xe9\\xff\" \"\\x00\\x01\"",
    "SET \"sp ace\" 1",
    "SET \u{e9}\u{1f600} x",
    "SETBIT bits 70 1",
    "HSET h f v g \"\\xe9\"",
    "HEXPIRE h 100 FIELDS 1 f",
    "RPUSH l a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "SADD set a b 1 2",
    "ZADD z 1 a 2 b inf c",
    "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    "XADD x 1-1 f v",
    "XGROUP CREATE x grp 0",
    "JSON.SET j $ '{\"a\":[1,{\"b\":\"\\u00e9\"}],\"c\":null}'",
    "PFADD p a b c",
    "EXPIRE s 1000",
];

/// The page's helpers that read what the student types or which key a panel shows, none of
/// which runs a command: the argument hint and key completion (on every keystroke), the
/// written-keys and part look-ups, the key detail and keyspace panels, and long replies read
/// in parts. Each line of the input is given to all of them as it is, then run as a paged
/// console line, so that they also meet values the fuzzer's own commands shaped.
pub fn redis_panels(data: &[u8]) {
    use crate::redis::{commands, detail, hints, snapshot};
    let _ = crate::persist::parts_used(data);
    let _ = crate::persist::uses_mongo(data);
    let text = String::from_utf8_lossy(data);
    let mut server = Server::new();
    let mut clock = Clock::new();
    for line in PANEL_SETUP {
        cli::run_line(&mut server, &mut clock, line, NOW, false);
    }
    let mut origin = "";
    for line in text.split('\n').take(MAX_LINES) {
        let n = line.len();
        hints::hint(line);
        hints::complete_key(&server, 0, line, n % 9, NOW);
        hints::typed_form(line.as_bytes(), n % 2 == 0);
        snapshot::written_keys(line);
        cli::runs_part(line);
        commands::complete(line);
        detail::detail(&server, n % 3, line, origin, NOW);
        let query = snapshot::KeyQuery {
            pattern: line.as_bytes(),
            type_name: line.split(' ').next().unwrap_or_default(),
            offset: n % 4,
            limit: [n, 0, usize::MAX][n % 3],
        };
        snapshot::keyspace(&server, n % 17, &query, NOW);
        server.long_replies.defer_line(true);
        let out = cli::run_line_repeating_at_most(&mut server, &mut clock, line, NOW, MAX_REPEAT);
        server.long_replies.stop_deferring();
        if let Some(id) = server.long_replies.last().map(|d| d.id) {
            for (from, count) in [(0, n), (n, usize::MAX), (usize::MAX, n)] {
                server.long_replies.part(id, from, count);
            }
        }
        if out.quit {
            break;
        }
        origin = line;
    }
    let all = snapshot::KeyQuery {
        pattern: b"",
        type_name: "",
        offset: 0,
        limit: 64,
    };
    for row in snapshot::keyspace(&server, 0, &all, NOW).rows {
        detail::detail(&server, 0, &row.key, origin, NOW);
    }
}
