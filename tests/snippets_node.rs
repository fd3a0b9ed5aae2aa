//! JavaScript driver snippets: the goldens in tests/snippets/node (expected output from the
//! real node-redis and ioredis against valkey-server, see regenerate-node.mjs; the mongodb
//! ones written from the driver's documented result shapes), tables of driver methods, and
//! a fuzz test of random token soup.

mod common;

use nosql_playground::clock::Clock;
use nosql_playground::snippets::{self, Engines, Language, SnippetRun};
use nosql_playground::{mongo, redis};

/// A fixed host reading: the sandbox's clock starts from it in every run.
const HOST_MS: u64 = 1_700_000_000_000;

struct Sandbox {
    redis: redis::Server,
    mongo: mongo::Shell,
    clock: Clock,
}

impl Sandbox {
    fn new() -> Self {
        Sandbox {
            redis: redis::Server::new(),
            mongo: mongo::Shell::new(),
            clock: Clock::new(),
        }
    }

    fn run(&mut self, source: &str) -> SnippetRun {
        let mut engines = Engines {
            redis: &mut self.redis,
            mongo: &mut self.mongo,
            clock: &mut self.clock,
            host_ms: HOST_MS,
        };
        snippets::run(&mut engines, Language::Node, source)
    }

    fn redis_cli(&mut self, line: &str) -> String {
        let argv: Vec<Vec<u8>> = line
            .split_whitespace()
            .map(|w| w.as_bytes().to_vec())
            .collect();
        let now = self.clock.now(HOST_MS);
        self.redis
            .execute(&argv, now)
            .to_cli_text()
            .trim_end()
            .to_string()
    }
}

fn run(source: &str) -> SnippetRun {
    Sandbox::new().run(source)
}

#[test]
fn goldens_print_what_node_prints() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snippets/node");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "js"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "goldens missing from {dir:?}");
    let mut failures = Vec::new();
    for path in names {
        let source = std::fs::read_to_string(&path).unwrap();
        let expected = std::fs::read_to_string(path.with_extension("out")).unwrap();
        let got = run(&source);
        if got.output != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{}",
                path.display(),
                got.output
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const NODE_REDIS: &str = "const { createClient } = require('redis');\nconst client = createClient();\nawait client.connect();\n";
const IOREDIS: &str = "const Redis = require('ioredis');\nconst redis = new Redis();\n";
const MONGO: &str = "const { MongoClient } = require('mongodb');\nconst client = new MongoClient('mongodb://localhost:27017');\nconst db = client.db('t');\nconst c = db.collection('c');\n";

/// (prelude, body, expected output, round trips, failed)
type Case = (&'static str, &'static str, &'static str, u64, bool);

fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for (prelude, body, expected, trips, failed) in cases {
        let got = run(&format!("{prelude}{body}"));
        if got.output != *expected || got.round_trips != *trips || got.failed != *failed {
            failures.push(format!(
                "{body}\n  expected {expected:?} ({trips} trips, failed {failed})\n  got      {:?} ({} trips, failed {})",
                got.output, got.round_trips, got.failed
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn node_redis_methods_resolve_to_the_drivers_values() {
    check(&[
        (NODE_REDIS, "await client.set('k', 'v')", "'OK'\n", 1, false),
        (NODE_REDIS, "await client.get('k')", "null\n", 1, false),
        (NODE_REDIS, "await client.set('k', 'v', { EX: 10 }); await client.ttl('k')", "10\n", 2, false),
        (NODE_REDIS, "await client.set('k', 'v', { PX: 2500 }); await client.pTTL('k')", "2500\n", 2, false),
        (NODE_REDIS, "await client.set('k', 'v'); await client.set('k', 'w', { NX: true })", "null\n", 2, false),
        (NODE_REDIS, "await client.set('k', 'v', { XX: true })", "null\n", 1, false),
        (NODE_REDIS, "await client.set('k', 'v'); await client.set('k', 'w', { GET: true })", "'v'\n", 2, false),
        (NODE_REDIS, "await client.set('k', 'v', { expiration: { type: 'EX', value: 7 } }); await client.ttl('k')", "-1\n", 2, false),
        (NODE_REDIS, "await client.incr('n'); await client.incrBy('n', 5)", "6\n", 2, false),
        (NODE_REDIS, "await client.set('n', 1); await client.expire('n', 5)", "true\n", 2, false),
        (NODE_REDIS, "await client.expire('missing', 5)", "false\n", 1, false),
        (NODE_REDIS, "await client.sIsMember('s', 'x')", "false\n", 1, false),
        (NODE_REDIS, "await client.hSet('h', 'f', 'v'); await client.hExists('h', 'f')", "true\n", 2, false),
        (NODE_REDIS, "await client.hSet('h', ['a', '1', 'b', '2']); await client.hGetAll('h')", "[Object: null prototype] { a: '1', b: '2' }\n", 2, false),
        (NODE_REDIS, "await client.hSet('h', { n: 1 }); (await client.hGetAll('h')).n", "'1'\n", 2, false),
        (NODE_REDIS, "await client.mSet({ a: '1', b: '2' }); await client.mGet(['a', 'b', 'c'])", "[ '1', '2', null ]\n", 2, false),
        (NODE_REDIS, "await client.del('a')", "0\n", 1, false),
        (NODE_REDIS, "await client.zAdd('z', [{ score: 2, value: 'b' }, { score: 1, value: 'a' }], { NX: true })", "2\n", 1, false),
        (NODE_REDIS, "await client.zAdd('z', { score: 1.5, value: 'a' }); await client.zRangeWithScores('z', 0, -1)", "[ { value: 'a', score: 1.5 } ]\n", 2, false),
        (NODE_REDIS, "await client.zAdd('z', [{ score: 1, value: 'a' }, { score: 2, value: 'b' }]); await client.zRange('z', 1, 2, { BY: 'SCORE' })", "[ 'a', 'b' ]\n", 2, false),
        (NODE_REDIS, "await client.zIncrBy('z', 1.5, 'a')", "1.5\n", 1, false),
        (NODE_REDIS, "await client.geoAdd('g', { longitude: 2.35, latitude: 48.85, member: 'paris' }); await client.geoSearch('g', 'paris', { width: 10, height: 10, unit: 'km' })", "[ 'paris' ]\n", 2, false),
        (NODE_REDIS, "await client.json.set('j', '$', { a: [1, 2] }); await client.json.get('j', { path: '$.a[0]' })", "[ 1 ]\n", 2, false),
        (NODE_REDIS, "await client.sendCommand(['PING'])", "'PONG'\n", 1, false),
        (NODE_REDIS, "await client.multi().set('a', '1').get('a').exec()", "[ 'OK', '1' ]\n", 1, false),
        (NODE_REDIS, "await client.multi().set('a', '1').lPush('a', 'x').get('a').exec()", "[MultiErrorReply: 1 commands failed, see .replies and .errorIndexes for more information]\n", 1, true),
        (NODE_REDIS, "try { await client.set('a', 1); await client.lPush('a', 'x') } catch (e) { console.log(e) }", "[ErrorReply: WRONGTYPE Operation against a key holding the wrong kind of value]\n", 2, false),
        (NODE_REDIS, "const m = client.multi(); m.incr('x'); m.incr('x'); await m.exec()", "[ 1, 2 ]\n", 1, false),
        (NODE_REDIS, "await client.quit()", "'OK'\n", 0, false),
        (NODE_REDIS, "await client.disconnect(); client.isOpen", "false\n", 0, false),
        (NODE_REDIS, "await client.quit(); await client.get('k')", "ClientClosedError: The client is closed\n", 0, true),
        (NODE_REDIS, "await client.hSet('h', 'f', 'v'); await client.get('h')", "[ErrorReply: WRONGTYPE Operation against a key holding the wrong kind of value]\n", 2, true),
        (NODE_REDIS, "try { await client.incr('x y'); await client.lPush('x y', 'a') } catch (e) { console.log(e.message) }", "WRONGTYPE Operation against a key holding the wrong kind of value\n", 2, false),
        (NODE_REDIS, "await client.noSuchCommand('k')", "TypeError: client.noSuchCommand is not a function\n", 0, true),
        ("", "const client = require('redis').createClient(); await client.get('k')", "ClientClosedError: The client is closed\n", 0, true),
        ("", "import * as redis from 'redis'; const c = redis.createClient(); await c.connect(); await c.ping()", "'PONG'\n", 1, false),
        ("", "const c = await require('redis').createClient().connect(); await c.dbSize()", "0\n", 1, false),
    ]);
}

#[test]
fn ioredis_methods_resolve_to_the_drivers_values() {
    check(&[
        (IOREDIS, "await redis.set('k', 'v', 'EX', 10); await redis.ttl('k')", "10\n", 2, false),
        (IOREDIS, "await redis.set('k', 'v', 'PX', 100, 'NX')", "'OK'\n", 1, false),
        (IOREDIS, "await redis.expire('k', 10)", "0\n", 1, false),
        (IOREDIS, "await redis.hset('h', { a: 1, b: 2 }); await redis.hgetall('h')", "{ a: '1', b: '2' }\n", 2, false),
        (IOREDIS, "await redis.hgetall('none')", "{}\n", 1, false),
        (IOREDIS, "await redis.zadd('z', 1, 'a', 2, 'b'); await redis.zrange('z', 0, -1, 'WITHSCORES')", "[ 'a', '1', 'b', '2' ]\n", 2, false),
        (IOREDIS, "await redis.zincrby('z', 2, 'a')", "'2'\n", 1, false),
        (IOREDIS, "await redis.mset({ a: 1, b: 2 }); await redis.mget('a', 'b')", "[ '1', '2' ]\n", 2, false),
        (IOREDIS, "await redis.lpush('l', ['a', 'b']); await redis.lrange('l', 0, -1)", "[ 'b', 'a' ]\n", 2, false),
        (IOREDIS, "await redis.pipeline().set('a', 1).get('a').exec()", "[ [ null, 'OK' ], [ null, '1' ] ]\n", 1, false),
        (IOREDIS, "await redis.multi().incr('a').incr('a').exec()", "[ [ null, 1 ], [ null, 2 ] ]\n", 1, false),
        (IOREDIS, "const p = redis.pipeline(); for (let i = 0; i < 3; i++) p.incr('n'); (await p.exec()).length", "3\n", 1, false),
        (IOREDIS, "for (let i = 0; i < 3; i++) await redis.incr('n'); await redis.get('n')", "'3'\n", 4, false),
        (IOREDIS, "await redis.call('INCRBY', 'n', 5)", "5\n", 1, false),
        (IOREDIS, "await redis.quit()", "'OK'\n", 0, false),
        (IOREDIS, "await redis.disconnect()", "", 0, false),
        (IOREDIS, "await redis.set('s', 'x'); await redis.sadd('s', 'y')", "ReplyError: WRONGTYPE Operation against a key holding the wrong kind of value\n", 2, true),
        (IOREDIS, "try { await redis.incr('x y'); await redis.hgetall('x y') } catch (e) { console.log(e.name) }", "ReplyError\n", 2, false),
        ("", "const { Redis } = require('ioredis'); const r = new Redis(6379, 'localhost'); await r.ping()", "'PONG'\n", 1, false),
        ("", "import Redis from 'ioredis'; Redis()", "TypeError: Class constructor Redis cannot be invoked without 'new'\n", 0, true),
    ]);
}

#[test]
fn mongodb_methods_resolve_to_the_drivers_values() {
    check(&[
        (MONGO, "await c.insertOne({ _id: 1 })", "{ acknowledged: true, insertedId: 1 }\n", 1, false),
        (MONGO, "await c.insertMany([{ _id: 1 }, { _id: 2 }])", "{\n  acknowledged: true,\n  insertedCount: 2,\n  insertedIds: { '0': 1, '1': 2 }\n}\n", 1, false),
        (MONGO, "await c.insertOne({ _id: 1, n: 1 }); await c.updateOne({ _id: 9 }, { $set: { n: 2 } }, { upsert: true })", "{\n  acknowledged: true,\n  modifiedCount: 0,\n  upsertedId: 9,\n  upsertedCount: 1,\n  matchedCount: 0\n}\n", 2, false),
        (MONGO, "await c.insertMany([{ _id: 1, n: 3 }, { _id: 2, n: 1 }]); await c.find({}, { sort: { n: 1 }, limit: 1, projection: { _id: 1 } }).toArray()", "[ { _id: 2 } ]\n", 2, false),
        (MONGO, "await c.insertMany([{ _id: 1, n: 3 }, { _id: 2, n: 1 }]); await c.find().skip(1).toArray()", "[ { _id: 2, n: 1 } ]\n", 2, false),
        (MONGO, "await c.insertMany([{ _id: 1, n: 3 }, { _id: 2, n: 1 }]); await c.findOne({}, { sort: { n: -1 }, skip: 1 })", "{ _id: 2, n: 1 }\n", 2, false),
        (MONGO, "await c.find({}).toArray()", "[]\n", 1, false),
        (MONGO, "const cur = c.find(); 1", "1\n", 0, false),
        (MONGO, "await c.countDocuments()", "0\n", 1, false),
        (MONGO, "await c.insertOne({ d: { e: { f: { g: 1 } } } , _id: 1 }); await c.findOne()", "{ _id: 1, d: { e: { f: [Object] } } }\n", 2, false),
        (MONGO, "await c.insertOne({ _id: 1, at: new Date(0) }); (await c.findOne()).at", "1970-01-01T00:00:00.000Z\n", 2, false),
        (MONGO, "await c.createIndex({ a: 1 }, { unique: true })", "'a_1'\n", 1, false),
        (MONGO, "await c.insertOne({ _id: 1 }); await c.insertOne({ _id: 1 })", "MongoServerError: E11000 duplicate key error collection: t.c index: _id_ dup key: { _id: 1 }\n", 2, true),
        (MONGO, "await c.deleteMany({})", "{ acknowledged: true, deletedCount: 0 }\n", 1, false),
        (MONGO, "db.databaseName", "'t'\n", 0, false),
        ("", "require('fs')", "Error: Cannot find module 'fs' (driver snippets can require 'redis', 'ioredis' and 'mongodb')\n", 0, true),
    ]);
}

#[test]
fn javascript_runs_as_node_would() {
    check(&[
        (
            "",
            "console.log('a', 1, { b: [1, 2] }, null, undefined)",
            "a 1 { b: [ 1, 2 ] } null undefined\n",
            0,
            false,
        ),
        (
            "",
            "console.log('%s has %d items', 'cart', 3, 'extra')",
            "cart has 3 items extra\n",
            0,
            false,
        ),
        ("", "console.log('100%')", "100%\n", 0, false),
        ("", "const n = 2; `n is ${n * 2}`", "'n is 4'\n", 0, false),
        (
            "",
            "const x = { a: { b: { c: { d: 1 } } } }; x",
            "{ a: { b: { c: [Object] } } }\n",
            0,
            false,
        ),
        (
            "",
            "async function twice(x) { return x * 2 }\nawait twice(4)",
            "8\n",
            0,
            false,
        ),
        (
            "",
            "const f = async () => { await null; return 'done' }; await f()",
            "'done'\n",
            0,
            false,
        ),
        (
            "",
            "await new Promise((resolve) => resolve(5))",
            "5\n",
            0,
            false,
        ),
        ("", "await Promise.all([1, 2])", "[ 1, 2 ]\n", 0, false),
        (
            "",
            "await new Promise((_, reject) => reject(new Error('nope')))",
            "Error: nope\n",
            0,
            true,
        ),
        ("", "let x = 1\nx = 2", "2\n", 0, false),
        ("", "undefined", "", 0, false),
        ("", "throw new Error('boom')", "Error: boom\n", 0, true),
        (
            "",
            "notDefined + 1",
            "ReferenceError: notDefined is not defined\n",
            0,
            true,
        ),
        (
            "",
            "const x = ;",
            "SyntaxError: Unexpected token (1:10)\n",
            0,
            true,
        ),
    ]);
}

#[test]
fn set_timeout_advances_the_sandbox_clock() {
    let mut sandbox = Sandbox::new();
    let before = sandbox.clock.now(HOST_MS);
    let got = sandbox.run(&format!(
        "{NODE_REDIS}await client.set('k', 'v', {{ EX: 10 }});\nawait new Promise(r => setTimeout(r, 4000));\nawait client.ttl('k')"
    ));
    assert_eq!(got.output, "6\n");
    assert_eq!(sandbox.clock.now(HOST_MS), before + 4000);
    // The console sees the same time afterwards.
    assert_eq!(sandbox.redis_cli("TTL k"), "(integer) 6");
    // A delay past 2^31 - 1 ms is 1 ms in Node.
    sandbox.run("await new Promise(r => setTimeout(r, 1e300))");
    assert_eq!(sandbox.clock.now(HOST_MS), before + 4001);
}

#[test]
fn snippets_share_the_consoles_data_but_not_their_names() {
    let mut sandbox = Sandbox::new();
    sandbox.redis_cli("SET from:console 1");
    let now = sandbox.clock.now(HOST_MS);
    sandbox.mongo.eval_mongosh(
        "use blog\nconst client = 1\ndb.posts.insertOne({_id: 1})",
        now,
    );
    let got = sandbox.run(&format!(
        "{NODE_REDIS}await client.set('from:snippet', '1');\nconsole.log(await client.get('from:console'));\nconst {{ MongoClient }} = require('mongodb');\nconst m = new MongoClient('mongodb://localhost');\nawait m.db('blog').collection('posts').countDocuments()"
    ));
    assert_eq!(got.output, "1\n1\n", "{got:?}");
    // The snippet's clients are gone, the console's client and database are as they were,
    // and the console's own `client` binding is untouched.
    assert_eq!(sandbox.redis.client_ids(), vec![1]);
    assert_eq!(sandbox.redis_cli("GET from:snippet"), "\"1\"");
    assert_eq!(sandbox.mongo.current_db(), "blog");
    assert_eq!(sandbox.mongo.eval_mongosh("client", now), "1\n");
    // A second run may declare the same names again.
    let again = sandbox.run(&format!("{NODE_REDIS}await client.get('from:snippet')"));
    assert_eq!(again.output, "'1'\n");
}

#[test]
fn a_snippet_that_never_ends_is_stopped() {
    let mut sandbox = Sandbox::new();
    sandbox.mongo.set_step_limit(10_000);
    let got = sandbox.run("while (true) {}");
    assert!(got.failed);
    assert!(got.output.contains("step limit"), "{}", got.output);
}

#[test]
fn random_token_soup_never_panics() {
    const WORDS: &[&str] = &[
        "await",
        "async",
        "const",
        "let",
        "import",
        "from",
        "require",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        ",",
        ";",
        ".",
        "=>",
        "=",
        "'redis'",
        "'ioredis'",
        "'mongodb'",
        "createClient",
        "new",
        "Redis",
        "MongoClient",
        "client",
        "redis",
        "db",
        "collection",
        "set",
        "get",
        "hSet",
        "hgetall",
        "zAdd",
        "multi",
        "pipeline",
        "exec",
        "sendCommand",
        "call",
        "json",
        "ft",
        "search",
        "connect",
        "quit",
        "console",
        "log",
        "setTimeout",
        "Promise",
        "1",
        "-1",
        "'k'",
        "`t${x}`",
        "x",
        "function",
        "return",
        "for",
        "while",
        "if",
        "null",
        "undefined",
        "{ EX: 10 }",
        "[{ score: 1, value: 'a' }]",
        "find",
        "toArray",
        "sort",
        "insertOne",
        "'%d'",
        "throw",
        "try",
        "catch",
    ];
    let mut rng = common::Rng(0x05ee_d0f5_a1ad);
    let mut sandbox = Sandbox::new();
    sandbox.mongo.set_step_limit(20_000);
    for _ in 0..1500 {
        let n = 1 + rng.below(24);
        let source: Vec<&str> = (0..n).map(|_| rng.pick(WORDS)).collect();
        let prelude = if rng.one_in(2) { NODE_REDIS } else { IOREDIS };
        let _ = sandbox.run(&format!("{prelude}{}", source.join(" ")));
    }
}

#[test]
fn promise_style_code_runs_too() {
    check(&[
        (IOREDIS, "redis.set('a', 1).then((v) => console.log(v)).finally(() => console.log('done'))", "OK\ndone\n", 1, false),
        (MONGO, "await c.insertMany([{ _id: 1 }, { _id: 2 }]);\nfor await (const doc of c.find()) console.log(doc._id);", "1\n2\n", 2, false),
        (MONGO, "await c.insertOne({ _id: 1 }); await c.find().forEach((d) => console.log(d))", "{ _id: 1 }\n", 2, false),
        ("", "(async () => { console.log('inside') })();", "inside\n", 0, false),
    ]);
}

/// `nosql-playground node`: a snippet from stdin, what Node prints on stdout, exit 1 on an
/// uncaught exception.
#[test]
fn the_cli_runs_a_snippet_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    for (source, stdout, code) in [
        (
            "import Redis from 'ioredis'\nconst r = new Redis()\nawait r.set('k', 'v', 'EX', 10)\nawait r.ttl('k')\n",
            "10\n",
            0,
        ),
        (
            "const { createClient } = require('redis')\nconst c = createClient()\nawait c.connect()\nawait c.set('k', 'v')\nawait c.incr('k')\n",
            "[ErrorReply: ERR value is not an integer or out of range]\n",
            1,
        ),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nosql-playground"))
            .arg("node")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(source.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{source}");
        assert_eq!(out.status.code(), Some(code), "{source}");
    }
}

#[test]
fn mongodb_sessions_and_transactions() {
    check(&[
        // withTransaction commits what the callback did; `{ session }` runs an operation in it.
        (
            MONGO,
            "await c.insertMany([{ _id: 1, b: 100 }, { _id: 2, b: 100 }]);\nconst session = client.startSession();\nawait session.withTransaction(async (s) => {\n  await c.updateOne({ _id: 1 }, { $inc: { b: -30 } }, { session });\n  await c.updateOne({ _id: 2 }, { $inc: { b: 30 } }, { session: s });\n  console.log(await c.findOne({ _id: 1 }), await c.findOne({ _id: 1 }, { session }));\n});\nawait session.endSession();\nawait c.find().toArray()",
            "{ _id: 1, b: 100 } { _id: 1, b: 70 }\n[ { _id: 1, b: 70 }, { _id: 2, b: 130 } ]\n",
            7,
            false,
        ),
        // An aborted transaction leaves nothing behind.
        (
            MONGO,
            "const s = client.startSession();\ns.startTransaction();\nawait c.insertOne({ _id: 3 }, { session: s });\nawait c.find({}, { session: s }).toArray();\nawait s.abortTransaction();\nawait c.countDocuments()",
            "0\n",
            4,
            false,
        ),
        // A second transaction writing the same document gets WriteConflict.
        (
            MONGO,
            "await c.insertOne({ _id: 1 });\nconst a = client.startSession(), b = client.startSession();\na.startTransaction(); b.startTransaction();\nawait c.updateOne({ _id: 1 }, { $set: { x: 1 } }, { session: a });\ntry { await c.updateOne({ _id: 1 }, { $set: { x: 2 } }, { session: b }) } catch (e) { console.log(e.codeName, e.errorLabels) }",
            "WriteConflict [ 'TransientTransactionError' ]\n",
            3,
            false,
        ),
        (
            MONGO,
            "await client.startSession().commitTransaction()",
            "MongoTransactionError: No transaction started\n",
            0,
            true,
        ),
    ]);
}
