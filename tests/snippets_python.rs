//! The Python snippet mode: golden snippets (tests/snippets/python/*.py against their
//! `.out`, the redis-py ones recorded from real redis-py on a real server by
//! tests/snippets/regenerate.py), and tables of driver calls with their return types,
//! errors, keyword arguments and round trips.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::clock::Clock;
use nosql_playground::snippets::{self, Engines, Language, SnippetRun};
use nosql_playground::{mongo, redis};

/// 2026-11-26 10:00:00 UTC: a fixed host time, so `datetime.now()` and ObjectIds are stable.
const HOST_MS: u64 = 1_795_687_200_000;

fn run(source: &str) -> SnippetRun {
    let mut redis = redis::Server::new();
    let mut mongo = mongo::Shell::new();
    let mut clock = Clock::new();
    clock.pause(HOST_MS);
    let mut engines = Engines {
        redis: &mut redis,
        mongo: &mut mongo,
        clock: &mut clock,
        host_ms: HOST_MS,
    };
    snippets::run(&mut engines, Language::Python, source)
}

#[test]
fn golden_snippets_print_what_cpython_prints() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snippets/python");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("snippet directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 8, "golden snippets missing from {dir:?}");
    let mut failures = Vec::new();
    for path in paths {
        let source = std::fs::read_to_string(&path).expect("snippet");
        let expected_path = path.with_extension("out");
        let expected = std::fs::read_to_string(&expected_path).expect("expected output");
        // Hand-written expectations start with a `#` comment line saying where they come from.
        let expected: String = expected
            .lines()
            .filter(|l| !l.starts_with("# "))
            .map(|l| format!("{l}\n"))
            .collect();
        let got = run(&source).output;
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (snippet, expected output, round trips, failed)
fn check(cases: &[(&str, &str, u64, bool)]) {
    for (source, expected, trips, failed) in cases {
        let r = run(source);
        assert_eq!(r.output, *expected, "output of {source:?}");
        assert_eq!(r.round_trips, *trips, "round trips of {source:?}");
        assert_eq!(r.failed, *failed, "failed flag of {source:?}");
    }
}

fn check_owned(cases: &[(String, &str, u64, bool)]) {
    let borrowed: Vec<(&str, &str, u64, bool)> = cases
        .iter()
        .map(|(s, e, t, f)| (s.as_str(), *e, *t, *f))
        .collect();
    check(&borrowed);
}

const R: &str = "import redis\nr = redis.Redis()\n";
const RD: &str = "import redis\nr = redis.Redis(decode_responses=True)\n";

#[test]
fn redis_py_return_types() {
    let cases: Vec<(String, &str, u64, bool)> = vec![
        (format!("{R}r.set('k', 'v')"), "True\n", 1, false),
        (format!("{R}r.get('k')"), "", 1, false),
        (format!("{R}r.set('k', 'v')\nr.get('k')"), "b'v'\n", 2, false),
        (format!("{RD}r.set('k', 'v')\nr.get('k')"), "'v'\n", 2, false),
        (format!("{R}r.set('k', 'v', nx=True)\nr.set('k', 'w', nx=True)"), "", 2, false),
        (format!("{R}r.set('k', 'v')\nr.set('k', 'w', get=True)"), "b'v'\n", 2, false),
        (format!("{R}r.set('k', 1, ex=10)\nr.ttl('k')"), "10\n", 2, false),
        (format!("{R}r.set('k', 1, px=1500)\nr.pttl('k')"), "1500\n", 2, false),
        (format!("{R}r.set('k', 1, exat=4000000000)\nr.expire('k', 5, gt=True)"), "False\n", 2, false),
        (format!("{R}r.set('k', 1, ex=10)\nr.set('k', 2, keepttl=True)\nr.ttl('k')"), "10\n", 3, false),
        (format!("{R}r.setex('k', 30, 'v')\nr.ttl('k')"), "30\n", 2, false),
        (format!("{R}r.setnx('k', 1), r.setnx('k', 2)"), "(True, False)\n", 2, false),
        (format!("{R}r.incr('n'), r.incrby('n', 4), r.decr('n', 2)"), "(1, 5, 3)\n", 3, false),
        (format!("{R}r.incrbyfloat('f', 0.5)"), "0.5\n", 1, false),
        (format!("{R}r.expire('nope', 5), r.persist('nope'), r.ttl('nope')"), "(False, False, -2)\n", 3, false),
        (format!("{R}r.mset({{'a': 1, 'b': 2}}), r.mget('a', 'b', 'c')"), "(True, [b'1', b'2', None])\n", 2, false),
        (format!("{R}r.delete('a'), r.exists('a')"), "(0, 0)\n", 2, false),
        (format!("{R}r.set('a', 1)\nr.keys()"), "[b'a']\n", 2, false),
        (format!("{RD}r.set('a', 1)\nr.type('a')"), "'string'\n", 2, false),
        (format!("{R}r.hset('h', 'f', 'v', mapping={{'g': 1}})"), "2\n", 1, false),
        (format!("{R}r.hset('h', mapping={{'g': 1}})\nr.hgetall('h'), r.hget('h', 'g')"), "({b'g': b'1'}, b'1')\n", 3, false),
        (format!("{R}r.hincrby('h', 'n', 3), r.hdel('h', 'n')"), "(3, 1)\n", 2, false),
        (format!("{R}r.lpush('l', 1, 2), r.rpush('l', 3), r.lrange('l', 0, -1)"), "(2, 3, [b'2', b'1', b'3'])\n", 3, false),
        (format!("{R}r.rpush('l', 1)\nr.lpop('l'), r.rpop('l'), r.llen('l')"), "(b'1', None, 0)\n", 4, false),
        (format!("{R}r.sadd('s', 1, 2), r.smembers('s'), r.sismember('s', 1), r.scard('s')"), "(2, {b'1', b'2'}, 1, 2)\n", 4, false),
        (format!("{R}r.srem('s', 1), r.smembers('s')"), "(0, set())\n", 2, false),
        (format!("{R}r.zadd('z', {{'a': 1, 'b': 2}}), r.zrange('z', 0, -1, withscores=True)"), "(2, [(b'a', 1.0), (b'b', 2.0)])\n", 2, false),
        (format!("{R}r.zadd('z', {{'a': 1}})\nr.zadd('z', {{'a': 5}}, incr=True), r.zscore('z', 'a'), r.zincrby('z', 1, 'a')"), "(6.0, 6.0, 7.0)\n", 4, false),
        (format!("{R}r.zadd('z', {{'a': 1, 'b': 2}})\nr.zrevrange('z', 0, 0), r.zrank('z', 'b'), r.zrank('z', 'q')"), "([b'b'], 1, None)\n", 4, false),
        (format!("{R}r.zadd('z', {{'a': 1}}, xx=True), r.zadd('z', {{'a': 1}}, nx=True, ch=True)"), "(0, 1)\n", 2, false),
        (format!("{R}r.geoadd('g', [13.361389, 38.115556, 'P'])\nr.geodist('g', 'P', 'P')"), "0.0\n", 2, false),
        (format!("{R}r.publish('ch', 'm')"), "0\n", 1, false),
        (format!("{R}r.ping(), r.flushdb()"), "(True, True)\n", 2, false),
        (format!("{R}r.execute_command('SET', 'a', 1), r.execute_command('GET', 'a')"), "(True, b'1')\n", 2, false),
        (format!("{R}r.json().set('j', '$', {{'a': [1, 2]}}), r.json().get('j'), r.json().get('j', '$.a')"), "(True, {'a': [1, 2]}, [[1, 2]])\n", 3, false),
    ];
    check_owned(&cases);
}

#[test]
fn redis_py_errors_are_redis_py_exceptions() {
    let cases: Vec<(String, &str, u64, bool)> = vec![
        (
            format!("{R}r.set('s', 'x')\nr.lpush('s', 1)"),
            "redis.exceptions.ResponseError: WRONGTYPE Operation against a key holding the wrong kind of value\n",
            2,
            true,
        ),
        (
            format!("{R}r.set('s', 'x')\nr.incr('s')"),
            "redis.exceptions.ResponseError: value is not an integer or out of range\n",
            2,
            true,
        ),
        (
            format!("{R}r.set('a', None)"),
            "redis.exceptions.DataError: Invalid input of type: 'NoneType'. Convert to a bytes, string, int or float first.\n",
            0,
            true,
        ),
        (
            format!("{R}r.zadd('z', {{'a': 1, 'b': 2}}, incr=True)"),
            "redis.exceptions.DataError: ZADD option 'incr' only works when passing a single element/score pair\n",
            0,
            true,
        ),
        (
            format!("{R}try:\n    r.hset('h')\nexcept redis.RedisError as e:\n    print(type(e).__name__, e)\n"),
            "DataError 'hset' with no key value pairs\n",
            0,
            false,
        ),
        (
            format!("{R}r.no_such_method()"),
            "AttributeError: 'Redis' object has no attribute 'no_such_method' (or the sandbox does not support it)\n",
            0,
            true,
        ),
    ];
    check_owned(&cases);
}

#[test]
fn a_pipeline_is_one_round_trip() {
    let cases: Vec<(String, &str, u64, bool)> = vec![
        (
            format!("{R}p = r.pipeline()\nfor i in range(50):\n    p.incr('n')\nprint(p.execute()[-1])"),
            "50\n",
            1,
            false,
        ),
        (
            format!("{R}for i in range(50):\n    r.incr('n')\nr.get('n')"),
            "b'50'\n",
            51,
            false,
        ),
        (
            format!("{R}p = r.pipeline(transaction=False)\np.set('a', 1).get('a').execute()"),
            "[True, b'1']\n",
            1,
            false,
        ),
        (
            format!("{R}with r.pipeline() as p:\n    p.watch('a')\n    p.get('a')\n    p.multi()\n    p.set('a', 2)\n    print(p.execute())\n"),
            "[True]\n",
            3,
            false,
        ),
    ];
    check_owned(&cases);
}

const M: &str = "from pymongo import MongoClient\nclient = MongoClient('mongodb://localhost:27017/')\ndb = client['shop']\n";

#[test]
fn pymongo_results_and_cursors() {
    let cases: Vec<(String, &str, u64, bool)> = vec![
        (format!("{M}db.items.insert_one({{'_id': 1}})"), "InsertOneResult(1, acknowledged=True)\n", 1, false),
        (format!("{M}db.items.insert_many([{{'_id': 1}}, {{'_id': 2}}]).inserted_ids"), "[1, 2]\n", 1, false),
        (format!("{M}r = db.items.insert_one({{'a': 1}})\ntype(r.inserted_id).__name__"), "'ObjectId'\n", 1, false),
        (format!("{M}d = {{'a': 1}}\ndb.items.insert_one(d)\nlist(d)"), "['a', '_id']\n", 1, false),
        (format!("{M}c = db.items.find()\nc"), "<pymongo.synchronous.cursor.Cursor object at 0x7f3a2c1e0a40>\n", 0, false),
        (format!("{M}db.items.insert_many([{{'_id': i, 'v': i % 3}} for i in range(5)])\nlist(db.items.find({{'v': 1}}).sort('_id', -1))"), "[{'_id': 4, 'v': 1}, {'_id': 1, 'v': 1}]\n", 2, false),
        (format!("{M}db.items.insert_many([{{'_id': i}} for i in range(5)])\n[d['_id'] for d in db.items.find().sort([('_id', -1)]).skip(1).limit(2)]"), "[3, 2]\n", 2, false),
        (format!("{M}db.items.insert_many([{{'_id': i}} for i in range(250)])\nlen(list(db.items.find()))"), "250\n", 3, false),
        (format!("{M}db.items.find_one({{'_id': 1}})"), "", 1, false),
        (format!("{M}db.items.insert_one({{'_id': 1, 'n': 1.5, 's': 'x', 'ok': True, 'no': None}})\ndb.items.find_one()"), "{'_id': 1, 'n': 1.5, 's': 'x', 'ok': True, 'no': None}\n", 2, false),
        (format!("{M}r = db.items.update_one({{'_id': 1}}, {{'$set': {{'a': 1}}}})\nr.matched_count, r.modified_count, r.upserted_id"), "(0, 0, None)\n", 1, false),
        (format!("{M}db.items.update_one({{'_id': 1}}, {{'$set': {{'a': 1}}}}, upsert=True)"), "UpdateResult({'n': 1, 'nModified': 0, 'upserted': 1, 'ok': 1.0, 'updatedExisting': False}, acknowledged=True)\n", 1, false),
        (format!("{M}db.items.insert_one({{'_id': 1}})\ndb.items.replace_one({{'_id': 1}}, {{'b': 2}}).modified_count, db.items.find_one()"), "(1, {'_id': 1, 'b': 2})\n", 3, false),
        (format!("{M}db.items.insert_many([{{'a': 1}}, {{'a': 1}}])\ndb.items.delete_many({{'a': 1}}).deleted_count, db.items.count_documents({{}})"), "(2, 0)\n", 3, false),
        (format!("{M}db.items.create_index([('a', 1), ('b', -1)], unique=True), db.items.create_index('c')"), "('a_1_b_-1', 'c_1')\n", 2, false),
        (format!("{M}db.items.insert_one({{'x': 2}})\nlist(db.items.aggregate([{{'$project': {{'_id': 0, 'y': {{'$multiply': ['$x', 2]}}}}}}]))"), "[{'y': 4}]\n", 2, false),
        (format!("{M}import datetime\ndb.items.insert_one({{'_id': 1, 'at': datetime.datetime(2026, 11, 26, 10, 0, 5)}})\ndb.items.find_one()['at']"), "datetime.datetime(2026, 11, 26, 10, 0, 5)\n", 2, false),
        (format!("{M}db.items.insert_one({{'_id': 1}})\ndb.list_collection_names()"), "['items']\n", 2, false),
    ];
    check_owned(&cases);
}

#[test]
fn pymongo_errors() {
    let cases: Vec<(String, &str, u64, bool)> = vec![
        (
            format!("{M}db.items.insert_one({{'_id': 1}})\ndb.items.insert_one({{'_id': 1}})"),
            "pymongo.errors.DuplicateKeyError: E11000 duplicate key error collection: shop.items index: _id_ dup key: { _id: 1 }, full error: {'index': 0, 'code': 11000, 'errmsg': 'E11000 duplicate key error collection: shop.items index: _id_ dup key: { _id: 1 }', 'keyPattern': {'_id': 1}, 'keyValue': {'_id': 1}}\n",
            2,
            true,
        ),
        (
            format!("{M}import pymongo\ntry:\n    db.items.update_one({{}}, {{'$bad': 1}})\nexcept pymongo.errors.OperationFailure as e:\n    print(type(e).__name__, e.code)\n"),
            "WriteError 9\n",
            1,
            false,
        ),
        (
            format!("{M}db.items.insert_one({{1: 2}})"),
            "bson.errors.InvalidDocument: documents must have only string keys, key was 1\n",
            0,
            true,
        ),
    ];
    check_owned(&cases);
}

#[test]
fn python_language_and_sandbox_limits() {
    check(&[
        ("print(0.1, 1e20, 1e16, 1e15, 1e-5, 2.5e-3, -0.0, 1/3)", "0.1 1e+20 1e+16 1000000000000000.0 1e-05 0.0025 -0.0 0.3333333333333333\n", 0, false),
        ("print(repr('it\\'s'), repr(\"a\\\"b\"), b'\\x00\\xff\"', (1,), {1, 2}, set())", "\"it's\" 'a\"b' b'\\x00\\xff\"' (1,) {1, 2} set()\n", 0, false),
        ("x, *rest = [1, 2, 3]\nprint(x, rest)", "1 [2, 3]\n", 0, false),
        ("d = {k: v for k, v in zip('ab', range(2))}\nprint(d, [i * i for i in range(4) if i % 2])", "{'a': 0, 'b': 1} [1, 9]\n", 0, false),
        ("n = 3\nprint(f'{n=} {n:>4} {2/3:.2f} {1234567:,} {\"x\"!r}')", "n=3    3 0.67 1,234,567 'x'\n", 0, false),
        ("def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\nfact(10)", "3628800\n", 0, false),
        ("import time, datetime\nt = datetime.datetime.now()\ntime.sleep(90)\ndatetime.datetime.now() - t", "datetime.timedelta(seconds=90)\n", 0, false),
        ("import datetime\ndatetime.datetime.now()", "datetime.datetime(2026, 11, 26, 10, 0)\n", 0, false),
        ("import asyncio\nimport redis.asyncio as redis\nasync def main():\n    r = redis.Redis()\n    await r.set('a', 1)\n    return await r.get('a')\nasyncio.run(main())", "b'1'\n", 2, false),
        ("import json\njson.dumps({'a': 1, 'b': [True, None]}, indent=2)", "'{\\n  \"a\": 1,\\n  \"b\": [\\n    true,\\n    null\\n  ]\\n}'\n", 0, false),
        ("import os", "NotImplementedError: import of 'os' is not supported in the sandbox (it has redis, pymongo, motor, bson, json, time, datetime, asyncio and math) (line 1)\n", 0, true),
        ("open('x')", "NotImplementedError: open() is not supported in the sandbox (line 1)\n", 0, true),
        ("class A:\n    pass", "NotImplementedError: class is not supported in the sandbox (line 1)\n", 0, true),
        ("x = 1\nif x\n    print(x)", "SyntaxError: invalid syntax (<snippet>, line 2)\n", 0, true),
        ("print('a')\n1/0", "a\nZeroDivisionError: division by zero\n", 0, true),
        ("{}['k']", "KeyError: 'k'\n", 0, true),
        ("undefined_name", "NameError: name 'undefined_name' is not defined\n", 0, true),
        ("def f():\n    return f()\nf()", "RecursionError: maximum recursion depth exceeded\n", 0, true),
        ("while True:\n    try:\n        pass\n    except Exception:\n        pass", "RuntimeError: sandbox step limit reached (10000000 steps; does a loop never end?)\n", 0, true),
        ("for i in range(10**12):\n    pass", "RuntimeError: sandbox step limit reached (10000000 steps; does a loop never end?)\n", 0, true),
    ]);
    let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    check(&[(
        deep.as_str(),
        "SyntaxError: too many nested blocks or parentheses (<snippet>, line 1)\n",
        0,
        true,
    )]);
}

#[test]
fn the_cli_python_mode_prints_the_output_and_fails_on_an_exception() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let cases = [
        ("import redis\nr = redis.Redis()\nr.set('a', 1)\nr.get('a')\n", "b'1'\n", 0),
        (
            "import redis\nr = redis.Redis()\nr.set('a', 1)\nr.lpush('a', 2)\n",
            "redis.exceptions.ResponseError: WRONGTYPE Operation against a key holding the wrong kind of value\n",
            1,
        ),
    ];
    for (source, expected, code) in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nosql-playground"))
            .arg("python")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(source.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("output");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
        assert_eq!(out.status.code(), Some(code));
    }
}

#[test]
fn integer_arithmetic_follows_python_and_stops_at_64_bits() {
    check(&[
        ("print(7 // 2, -7 // 2, 7 // -2, -7 // -2, 7 % -2, -7 % 2, -7 % -2)", "3 -4 -4 3 -1 1 -1\n", 0, false),
        ("r = range(-9 * 10**18, 9 * 10**18, 5 * 10**18)\nprint(list(r), r[3], 10**18 in r)", "[-9000000000000000000, -4000000000000000000, 1000000000000000000, 6000000000000000000] 6000000000000000000 True\n", 0, false),
        ("2**63", "OverflowError: integer beyond 64 bits (the sandbox's ints are 64-bit)\n", 0, true),
        ("len([] * 10**18), len('' * 10**18)", "(0, 0)\n", 0, false),
    ]);
}

#[test]
fn a_pubsub_connection_closes_when_the_snippet_ends() {
    let mut redis = redis::Server::new();
    let mut mongo = mongo::Shell::new();
    let mut clock = Clock::new();
    let before = redis.client_ids();
    let mut engines = Engines {
        redis: &mut redis,
        mongo: &mut mongo,
        clock: &mut clock,
        host_ms: HOST_MS,
    };
    let run = snippets::run(
        &mut engines,
        Language::Python,
        "import redis\nr = redis.Redis()\np = r.pubsub()\np.subscribe('c')\nprint(r.publish('c', 'm'))\n",
    );
    assert_eq!(run.output, "1\n");
    assert_eq!(redis.client_ids(), before);
}

#[test]
fn pymongo_sessions_and_transactions() {
    let setup =
        format!("{M}db.acct.insert_many([{{'_id': 1, 'b': 100}}, {{'_id': 2, 'b': 100}}])\n");
    let cases: Vec<(String, &str, u64, bool)> = vec![
        // The transaction's writes are visible in it and outside only after the commit,
        // which leaving the `with` block sends.
        (
            format!("{setup}with client.start_session() as s:\n    with s.start_transaction():\n        db.acct.update_one({{'_id': 1}}, {{'$inc': {{'b': -30}}}}, session=s)\n        print(db.acct.find_one({{'_id': 1}}), db.acct.find_one({{'_id': 1}}, session=s))\ndb.acct.find_one({{'_id': 1}})"),
            "{'_id': 1, 'b': 100} {'_id': 1, 'b': 70}\n{'_id': 1, 'b': 70}\n",
            6,
            false,
        ),
        // An exception in the block aborts the transaction.
        (
            format!("{setup}s = client.start_session()\ntry:\n    with s.start_transaction():\n        db.acct.insert_one({{'_id': 3}}, session=s)\n        raise ValueError('stop')\nexcept ValueError as e:\n    print(e)\ndb.acct.count_documents({{}})"),
            "stop\n2\n",
            4,
            false,
        ),
        // with_transaction runs the callback with the session and commits.
        (
            format!("{setup}s = client.start_session()\ndef move(session):\n    db.acct.update_one({{'_id': 1}}, {{'$inc': {{'b': -5}}}}, session=session)\n    db.acct.update_one({{'_id': 2}}, {{'$inc': {{'b': 5}}}}, session=session)\n    return 'moved'\ns.with_transaction(move), list(db.acct.find({{}}, {{'_id': 0}}))"),
            "('moved', [{'b': 95}, {'b': 105}])\n",
            5,
            false,
        ),
        (
            format!("{setup}s = client.start_session()\ns.start_transaction()\ndb.acct.insert_one({{'_id': 3}}, session=s)\ns.abort_transaction()\ndb.acct.count_documents({{}})"),
            "2\n",
            4,
            false,
        ),
        (
            format!("{setup}client.start_session().commit_transaction()"),
            "pymongo.errors.InvalidOperation: No transaction started\n",
            2,
            true,
        ),
        (
            format!("{setup}s = client.start_session()\ns.start_transaction()\ns.start_transaction()"),
            "pymongo.errors.InvalidOperation: Transaction already in progress\n",
            1,
            true,
        ),
        // A second transaction writing the same document gets a WriteConflict.
        (
            format!("{setup}import pymongo\na = client.start_session()\nb = client.start_session()\na.start_transaction()\nb.start_transaction()\ndb.acct.update_one({{'_id': 1}}, {{'$set': {{'b': 1}}}}, session=a)\ntry:\n    db.acct.update_one({{'_id': 1}}, {{'$set': {{'b': 2}}}}, session=b)\nexcept pymongo.errors.OperationFailure as e:\n    print(e.code)"),
            "112\n",
            3,
            false,
        ),
        (
            format!("{M}db.acct.find_one({{}}, session=1)"),
            "TypeError: session must be an instance of ClientSession, not int\n",
            0,
            true,
        ),
    ];
    check_owned(&cases);
}
