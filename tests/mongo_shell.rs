//! The Mongo shell through its public interface: what mongosh prints, Extended JSON,
//! errors, console input completeness, and resilience to garbage input.

use nosql_playground::mongo::{input_is_complete, Shell};

/// 2023-11-14T22:13:20.000Z
const NOW: u64 = 1_700_000_000_000;

/// Runs each (input, expected output) pair in order on one session.
fn run_script(json: bool, steps: &[(&str, &str)]) {
    let mut shell = Shell::new();
    for (input, want) in steps {
        let got = if json {
            shell.eval_json(input, NOW)
        } else {
            shell.eval_mongosh(input, NOW)
        };
        assert_eq!(got, *want, "input: {input}");
    }
}

#[test]
fn crud_basics_print_like_mongosh() {
    run_script(
        false,
        &[
            (
                r#"db.posts.insertOne({_id: 1, title: "Redis Caching"})"#,
                "{ acknowledged: true, insertedId: 1 }\n",
            ),
            (
                "db.posts.find()",
                "[ { _id: 1, title: 'Redis Caching' } ]\n",
            ),
            (
                "db.posts.insertMany([{_id: 2, title: 'Mongo Basics'}, {_id: 3}])",
                "{ acknowledged: true, insertedIds: { '0': 2, '1': 3 } }\n",
            ),
            ("db.posts.countDocuments()", "3\n"),
            ("db.posts.countDocuments({_id: {$gte: 2}})", "2\n"),
            (
                "db.posts.findOne({title: 'Mongo Basics'})",
                "{ _id: 2, title: 'Mongo Basics' }\n",
            ),
            ("db.posts.findOne({title: 'nope'})", "null\n"),
            ("db.posts.find({title: 'nope'})", ""),
            ("db.getName()", "test\n"),
            ("db", "test\n"),
            ("db.posts", "test.posts\n"),
            ("show collections", "posts\n"),
            ("use blog", "switched to db blog\n"),
            ("use blog", "already on db blog\n"),
            ("show collections", ""),
            ("db.getCollection('posts').countDocuments()", "0\n"),
            ("use test", "switched to db test\n"),
            ("db.getCollection('posts').countDocuments()", "3\n"),
            ("db.posts.drop()", "true\n"),
            ("show collections", ""),
            ("db.posts.find()", ""),
        ],
    );
}

#[test]
fn generated_ids_follow_the_object_id_layout() {
    let mut shell = Shell::new();
    let out = shell.eval_mongosh("db.c.insertOne({a: 1})", NOW);
    // 1_700_000_000 seconds = 0x6553f100, and the result no longer fits on one line.
    assert!(
        out.starts_with("{\n  acknowledged: true,\n  insertedId: ObjectId('6553f100"),
        "{out}"
    );
    let json = shell.eval_json("db.c.findOne()", NOW);
    assert!(json.starts_with(r#"{"_id": {"$oid": "6553f100"#), "{json}");
    assert!(
        json.ends_with(r#", "a": 1}"#.to_owned().as_str().trim_end())
            || json.ends_with("\"a\": 1}\n")
    );
    // Ids are distinct and replay identically in a fresh session.
    let a = shell.eval_json("db.c.insertOne({})", NOW);
    assert_ne!(json, a);
    let mut again = Shell::new();
    assert_eq!(again.eval_mongosh("db.c.insertOne({a: 1})", NOW), out);
}

#[test]
fn literals_parse_to_bson_types() {
    run_script(
        true,
        &[
            (
                r#"db.t.insertOne({_id: 1, int: 1, neg: -3, dbl: 1.5, exp: 1e3, big: 2147483648,
                    ni: NumberInt("7"), nl: NumberLong("9007199254740993"), s: 'it\'s', d: "tab\t\u00e9",
                    t: true, f: false, n: null, arr: [1, 'two', [3],], nested: {"quoted key": {deep: 1}},
                    oid: ObjectId("65a1b2c3d4e5f60718293a4b"), iso: ISODate("2024-01-01T00:00:00Z"),
                    nd: new Date("2024-01-01"), ms: new Date(0), re: /ab+c/i, // comment
                    /* block */ last: .5,})"#,
                "{\"acknowledged\": true, \"insertedId\": 1}\n",
            ),
            (
                "db.t.findOne()",
                concat!(
                    r#"{"_id": 1, "int": 1, "neg": -3, "dbl": 1.5, "exp": 1000, "big": 2147483648.0, "ni": 7, "#,
                    r#""nl": 9007199254740993, "s": "it's", "d": "tab\té", "t": true, "f": false, "n": null, "#,
                    r#""arr": [1, "two", [3]], "nested": {"quoted key": {"deep": 1}}, "#,
                    r#""oid": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "iso": {"$date": "2024-01-01T00:00:00.000Z"}, "#,
                    r#""nd": {"$date": "2024-01-01T00:00:00.000Z"}, "ms": {"$date": "1970-01-01T00:00:00.000Z"}, "#,
                    r#""re": {"$regularExpression": {"pattern": "ab+c", "options": "i"}}, "last": 0.5}"#,
                    "\n"
                ),
            ),
            ("db.t.insertOne({_id: 2, old: new Date(-1), inf: -Infinity})", "{\"acknowledged\": true, \"insertedId\": 2}\n"),
            (
                "db.t.findOne({_id: 2})",
                "{\"_id\": 2, \"old\": {\"$date\": {\"$numberLong\": \"-1\"}}, \"inf\": {\"$numberDouble\": \"-Infinity\"}}\n",
            ),
            ("use other", "\"switched to db other\"\n"),
            ("db.getName(); 1; 'x'", "\"other\"\n1\n\"x\"\n"),
            ("const n = 5", ""),
            ("n", "5\n"),
        ],
    );
}

#[test]
fn mongosh_prints_types_and_layouts() {
    run_script(
        false,
        &[
            (
                "db.p.insertOne({_id: 1, o: ObjectId('65a1b2c3d4e5f60718293a4b'), d: ISODate('2024-01-01'), l: NumberLong(5), x: 5.0, q: \"it's\", e: {}, a: []})",
                "{ acknowledged: true, insertedId: 1 }\n",
            ),
            (
                "db.p.findOne()",
                "{\n  _id: 1,\n  o: ObjectId('65a1b2c3d4e5f60718293a4b'),\n  d: ISODate('2024-01-01T00:00:00.000Z'),\n  l: Long('5'),\n  x: 5,\n  q: \"it's\",\n  e: {},\n  a: []\n}\n",
            ),
            // _id moves to the front, as the server stores it.
            ("db.p.insertOne({z: 1, _id: 2, 'a-b': {c: {d: {e: 1}}}})", "{ acknowledged: true, insertedId: 2 }\n"),
            ("db.p.findOne({_id: 2})", "{\n  _id: 2,\n  z: 1,\n  'a-b': { c: { d: { e: 1 } } }\n}\n"),
            ("db.p.findOne({_id: 2}).z", "1\n"),
            ("db.p.findOne({_id: 2})['a-b'].c", "{ d: { e: 1 } }\n"),
            ("'top-level strings print raw'", "top-level strings print raw\n"),
            ("[1, 'a']", "[ 1, 'a' ]\n"),
        ],
    );
}

#[test]
fn twenty_per_batch_then_it() {
    let mut shell = Shell::new();
    let docs: Vec<String> = (1..=45).map(|i| format!("{{_id: {i}}}")).collect();
    shell.eval_mongosh(&format!("db.n.insertMany([{}])", docs.join(", ")), NOW);
    let first = shell.eval_mongosh("db.n.find()", NOW);
    assert!(
        first.starts_with("[\n  { _id: 1 },  { _id: 2 },"),
        "{first}"
    );
    assert!(first.contains("{ _id: 20 }"));
    assert!(!first.contains("{ _id: 21 }"));
    assert!(first.ends_with("]\nType \"it\" for more\n"), "{first}");
    let second = shell.eval_mongosh("it", NOW);
    assert!(second.contains("{ _id: 21 }") && second.contains("{ _id: 40 }"));
    assert!(second.ends_with("]\nType \"it\" for more\n"));
    let third = shell.eval_mongosh("it", NOW);
    assert!(third.contains("{ _id: 41 }") && third.contains("{ _id: 45 }"));
    assert!(!third.contains("Type \"it\""), "{third}");
    assert_eq!(shell.eval_mongosh("it", NOW), "no cursor\n");
    // Exactly 20 leaves nothing for `it`.
    let twenty = shell.eval_mongosh("db.n.find({_id: {$lte: 20}})", NOW);
    assert!(!twenty.contains("Type \"it\""));
    assert_eq!(shell.eval_mongosh("it", NOW), "no cursor\n");
    // Cursor modifiers and JSON mode's whole result.
    assert_eq!(
        shell.eval_mongosh("db.n.find().sort({_id: -1}).skip(1).limit(2)", NOW),
        "[ { _id: 44 }, { _id: 43 } ]\n"
    );
    let all = shell.eval_json("db.n.find()", NOW);
    assert_eq!(all.matches("\"_id\"").count(), 45);
    assert_eq!(all.lines().count(), 1);
}

#[test]
fn filters_through_the_shell() {
    let mut shell = Shell::new();
    shell.eval_mongosh(
        r#"db.posts.insertMany([
            {_id: 1, author: {name: "Alex"}, tags: ["redis", "cache"], votes: 5},
            {_id: 2, author: {name: "Sam"}, tags: ["mongo"], votes: 2.5},
            {_id: 3, tags: [["redis", "cache"]], votes: NumberLong(9)},
        ])"#,
        NOW,
    );
    let cases = [
        (r#"{"author.name": "Alex"}"#, "[1]"),
        (r#"{tags: "redis"}"#, "[1]"),
        (r#"{tags: ["redis", "cache"]}"#, "[1, 3]"),
        (r#"{author: {name: "Sam"}}"#, "[2]"),
        ("{author: null}", "[3]"),
        ("{votes: {$gt: 2, $lt: 9}}", "[1, 2]"),
        ("{votes: {$in: [9, 2.5]}}", "[2, 3]"),
        ("{tags: {$nin: ['mongo']}}", "[1, 3]"),
        ("{author: {$exists: false}}", "[3]"),
        ("{$or: [{_id: 1}, {votes: 9}]}", "[1, 3]"),
        ("{$and: [{tags: 'redis'}, {votes: 5}]}", "[1]"),
        ("{}", "[1, 2, 3]"),
    ];
    for (filter, want) in cases {
        let got = shell.eval_json(
            &format!("db.posts.find({filter}).toArray().length; db.posts.find({filter})"),
            NOW,
        );
        let ids: Vec<String> = got
            .lines()
            .nth(1)
            .unwrap_or("")
            .split("\"_id\": ")
            .skip(1)
            .map(|s| {
                s.split(',')
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('}')
                    .to_string()
            })
            .collect();
        assert_eq!(format!("[{}]", ids.join(", ")), want, "{filter}");
    }
}

#[test]
fn errors_print_like_mongosh() {
    let mut shell = Shell::new();
    shell.eval_mongosh("db.posts.insertOne({_id: 1})", NOW);
    let cases = [
        (
            "db.posts.insertOne({_id: 1})",
            "MongoServerError: E11000 duplicate key error collection: test.posts index: _id_ dup key: { _id: 1 }\n",
        ),
        (
            "db.posts.insertOne({_id: 1.0})",
            "MongoServerError: E11000 duplicate key error collection: test.posts index: _id_ dup key: { _id: 1 }\n",
        ),
        (
            "db.posts.insertMany([{_id: 2}, {_id: 'a'}, {_id: 'a'}, {_id: 3}])",
            concat!(
                "Uncaught:\n",
                "MongoBulkWriteError: E11000 duplicate key error collection: test.posts index: _id_ dup key: { _id: \"a\" }\n",
                "Result: BulkWriteResult {\n",
                "  insertedCount: 2,\n",
                "  matchedCount: 0,\n",
                "  modifiedCount: 0,\n",
                "  deletedCount: 0,\n",
                "  upsertedCount: 0,\n",
                "  upsertedIds: {},\n",
                "  insertedIds: { '0': 2, '1': 'a' }\n",
                "}\n",
                "Write Errors: [\n",
                "  WriteError {\n",
                "    err: {\n",
                "      index: 2,\n",
                "      code: 11000,\n",
                "      errmsg: 'E11000 duplicate key error collection: test.posts index: _id_ dup key: { _id: \"a\" }',\n",
                "      errInfo: undefined,\n",
                "      op: { _id: 'a' }\n",
                "    }\n",
                "  }\n",
                "]\n",
            ),
        ),
        ("db.posts.fooBar()", "TypeError: db.posts.fooBar is not a function\n"),
        ("foo", "ReferenceError: foo is not defined\n"),
        ("db.posts.find({$where: 1})", "MongoServerError[BadValue]: $where is not allowed in this context\n"),
        ("db.posts.find({a: {$regexx: 1}})", "MongoServerError[BadValue]: unknown operator: $regexx\n"),
        // Syntax errors carry Babel's code frame for the input plus the newline Enter adds.
        (
            "db.posts.find({",
            "Uncaught:\nSyntaxError: Unexpected token (1:15)\n\n> 1 | db.posts.find({\n    |                ^\n  2 |\n\n",
        ),
        (
            "db.posts.find(})",
            "Uncaught:\nSyntaxError: Unexpected token (1:14)\n\n> 1 | db.posts.find(})\n    |               ^\n  2 |\n\n",
        ),
        (
            "'abc",
            "Uncaught:\nSyntaxError: Unterminated string constant. (1:0)\n\n> 1 | 'abc\n    | ^\n  2 |\n\n",
        ),
        (
            "it it",
            "Uncaught:\nSyntaxError: Missing semicolon. (1:2)\n\n> 1 | it it\n    |   ^\n  2 |\n\n",
        ),
        (
            "db.a.insertOne({\n  a: 1\n  b: 2\n})",
            "Uncaught:\nSyntaxError: Unexpected token, expected \",\" (3:2)\n\n  1 | db.a.insertOne({\n  2 |   a: 1\n> 3 |   b: 2\n    |   ^\n  4 | })\n  5 |\n\n",
        ),
        ("ObjectId('xyz')", "BSONError: input must be a 24 character hex string, 12 byte Uint8Array, or an integer\n"),
        ("ISODate('yesterday')", "MongoshInvalidInputError: [COMMON-10001] \"yesterday\" is not a valid ISODate\n"),
        ("show users", "MongoshInvalidInputError: [COMMON-10001] 'users' is not a valid argument for \"show\".\n"),
        ("db.posts.findOne().missing.deeper", "TypeError: Cannot read properties of undefined (reading 'deeper')\n"),
    ];
    for (input, want) in cases {
        assert_eq!(shell.eval_mongosh(input, NOW), want, "{input}");
    }
    // insertMany is ordered: the documents before the duplicate stay, the ones after do not.
    assert_eq!(shell.eval_mongosh("db.posts.countDocuments()", NOW), "3\n");
    assert_eq!(
        shell.eval_json("db.posts.insertOne({_id: 1})", NOW),
        "{\"error\": {\"name\": \"MongoServerError\", \"code\": 11000, \"message\": \"E11000 duplicate key error collection: test.posts index: _id_ dup key: { _id: 1 }\"}}\n"
    );
    assert_eq!(
        shell.eval_json("nope", NOW),
        "{\"error\": {\"name\": \"ReferenceError\", \"code\": null, \"message\": \"nope is not defined\"}}\n"
    );
}

#[test]
fn an_error_skips_only_the_rest_of_its_line() {
    let mut shell = Shell::new();
    assert_eq!(
        shell.eval_mongosh("nope; db.a.insertOne({_id: 1})\ndb.a.countDocuments()", NOW),
        "ReferenceError: nope is not defined\n0\n"
    );
    // Same-line statements print only the last value, like one line typed into mongosh.
    assert_eq!(
        shell.eval_mongosh("db.a.insertOne({_id: 1}); db.a.countDocuments()", NOW),
        "1\n"
    );
}

#[test]
fn input_completeness() {
    let cases = [
        ("db.posts.find()", true),
        ("db.posts.find(", false),
        ("db.posts.insertOne({", false),
        ("db.posts.insertOne({a: [1,\n2", false),
        ("db.posts.insertOne({a: [1,\n2]})", true),
        ("db.posts.find({a: '('})", true),
        ("db.posts.find({a: \"{[\"})", true),
        ("db.posts.find({a: `multi\nline", false),
        ("db.posts.find({a: `multi\nline`})", true),
        ("/* open comment", false),
        ("/* closed */ db", true),
        ("db.posts.find() // (", true),
        ("db.posts.find({a: /[(]/})", true),
        ("db.posts.find()\n  .", false),
        ("'unterminated", true),
        ("db.posts.find())", true),
        ("", true),
    ];
    for (src, want) in cases {
        assert_eq!(input_is_complete(src), want, "{src:?}");
    }
}

#[test]
fn garbage_never_panics() {
    let mut shell = Shell::new();
    let deep = "[".repeat(100_000);
    assert!(!input_is_complete(&deep));
    assert_eq!(
        shell.eval_mongosh(&deep, NOW),
        "RangeError: Maximum call stack size exceeded\n"
    );
    let deep_closed = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    assert!(shell.eval_json(&deep_closed, NOW).contains("RangeError"));
    let chain = format!("db{}", ".a".repeat(100_000));
    assert!(shell.eval_mongosh(&chain, NOW).starts_with("RangeError"));
    let minus = "- ".repeat(100_000) + "1";
    assert!(shell.eval_mongosh(&minus, NOW).starts_with("RangeError"));
    // Just under the limit still works.
    let ok = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    assert!(shell.eval_json(&ok, NOW).starts_with("[[[[[[[[[[[[[[[["));

    let samples = [
        "}{",
        ")(",
        "][",
        "db..posts",
        "db.posts.find(,)",
        "{a:}",
        "{:1}",
        "new",
        "new 5",
        "db.posts.insertOne()",
        "db.posts.insertOne(5)",
        "db.posts.insertMany({})",
        "db.posts.insertMany([1])",
        "db.posts.find(5)",
        "NumberLong('x')",
        "new Date('x')",
        "new Date(1e20)",
        "ObjectId(-1)",
        "use",
        "use a.b",
        "show",
        "it it",
        "\\",
        "\u{0}",
        "db.posts.find().limit('x')",
        "db.posts.find().sort({a: 2})",
        "db[1]()",
        "db.getCollection(1)",
        "'\\u{110000}'",
        "'\\x'",
        "0x",
        "1e+",
        "`${a}`",
        "/unterminated",
        "db.a.find({$or: 5})",
        "db.a.find({$and: [5]})",
        "db.a.insertOne({_id: [1]})",
        "db.a.find()[0]",
        "Date()",
        "-'5'",
        "+true",
        "!db",
        "undefined",
        "db.a.find().foo()",
        "NaN",
        "Infinity",
    ];
    for s in samples {
        let _ = shell.eval_mongosh(s, NOW);
        let _ = shell.eval_json(s, NOW);
        let _ = input_is_complete(s);
    }

    // Pseudo-random bytes and pseudo-random mixes of the language's own characters.
    let mut seed: u64 = 0x1234_5678_9abc_def0;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: Vec<char> = "db.posts.find({a:[1,'x\"y`z]})/*//\\n\n-+e.5$in:$gt ObjectId(ISODate new Date NumberLong)é\u{2028}"
        .chars()
        .collect();
    for _ in 0..3_000 {
        let len = (next() % 60) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mixed: String = (0..len)
            .map(|_| alphabet[(next() as usize) % alphabet.len()])
            .collect();
        for src in [&text, &mixed] {
            let _ = shell.eval_mongosh(src, NOW);
            let _ = shell.eval_json(src, NOW);
            let _ = input_is_complete(src);
        }
    }
}

#[test]
fn deep_but_allowed_nesting_fits_a_wasm_sized_stack() {
    // wasm32 gives the program 1 MiB of stack by default.
    let handle = std::thread::Builder::new().stack_size(1 << 20).spawn(|| {
        let mut shell = Shell::new();
        let doc = format!("{}1{}", "{a: ".repeat(100), "}".repeat(100));
        let out = shell.eval_mongosh(&format!("db.deep.insertOne({{_id: 1, d: {doc}}})"), NOW);
        let found = shell.eval_mongosh("db.deep.find()", NOW);
        let json = shell.eval_json("db.deep.findOne()", NOW);
        (out, found, json)
    });
    let (out, found, json) = match handle.map(|h| h.join()) {
        Ok(Ok(r)) => r,
        _ => panic!("nesting within the limit overflowed a 1 MiB stack"),
    };
    assert_eq!(out, "{ acknowledged: true, insertedId: 1 }\n");
    assert!(found.contains("[Object]"), "{found}");
    assert_eq!(json.matches("{\"a\": ").count(), 100);
}

#[test]
fn show_dbs_lists_system_and_user_databases() {
    let mut shell = Shell::new();
    assert_eq!(
        shell.eval_mongosh("show dbs", NOW),
        "admin   40.00 KiB\nconfig  12.00 KiB\nlocal   40.00 KiB\n"
    );
    shell.eval_mongosh("use blog\ndb.posts.insertOne({_id: null})", NOW);
    let listed = shell.eval_mongosh("show databases", NOW);
    assert_eq!(
        listed,
        "admin   40.00 KiB\nblog    16.00 KiB\nconfig  12.00 KiB\nlocal   40.00 KiB\n"
    );
    assert_eq!(shell.eval_json("show collections", NOW), "[\"posts\"]\n");
    // An explicit null _id is replaced by a generated ObjectId, as the driver does.
    assert!(shell
        .eval_json("db.posts.findOne()", NOW)
        .starts_with("{\"_id\": {\"$oid\": "));
    let json = shell.eval_json("show dbs", NOW);
    assert!(
        json.starts_with("[{\"name\": \"admin\", \"sizeOnDisk\": 40960}"),
        "{json}"
    );
}

/// Literals of literals only are built while parsing; they must give exactly what
/// evaluating them field by field gives (the `v` in the second form forces that path at
/// every level), in both output forms.
#[test]
fn constant_literals_equal_evaluated_ones() {
    let literal = r#"({a: -0, b: [1, -2.5, "x", true, null, {c: 2147483648, d: -1, e: {}, n: 1}, []], a: 3, 7: [1, -0.0, 1e21, 'q"'], k: 1,})"#;
    let evaluated = r#"({a: -0, b: [v, -2.5, "x", true, null, {c: 2147483648, d: -1, e: {}, n: v}, []], a: 3, 7: [v, -0.0, 1e21, 'q"'], k: v,})"#;
    for json in [false, true] {
        let run = |src: &str| {
            let mut shell = Shell::new();
            shell.eval_mongosh("var v = 1", NOW);
            if json {
                shell.eval_json(src, NOW)
            } else {
                shell.eval_mongosh(src, NOW)
            }
        };
        let (a, b) = (run(literal), run(evaluated));
        assert!(!a.contains("rror"), "{a}");
        assert_eq!(a, b);
    }
}

#[test]
fn a_statement_not_printed_does_not_iterate_its_cursor() {
    run_script(
        false,
        &[
            (
                "db.a.insertMany([{_id: 1}, {_id: 2}])",
                "{ acknowledged: true, insertedIds: { '0': 1, '1': 2 } }\n",
            ),
            (
                "c = db.a.find(); c.toArray()",
                "[ { _id: 1 }, { _id: 2 } ]\n",
            ),
            // A declaration after it leaves the line the cursor's value.
            ("db.a.find({_id: 2}); let x = 1", "[ { _id: 2 } ]\n"),
            // Printed once, the cursor is used up (as in mongosh).
            ("c = db.a.find()", "[ { _id: 1 }, { _id: 2 } ]\n"),
            ("c.toArray()", "[]\n"),
        ],
    );
}

#[test]
fn natural_order_sorts_read_a_collection_forwards_or_backwards() {
    run_script(
        false,
        &[
            (
                "db.createCollection('log', {capped: true, size: 4096, max: 3})",
                "{ ok: 1 }\n",
            ),
            (
                "for (let i = 0; i < 5; i++) db.log.insertOne({_id: i})",
                "{ acknowledged: true, insertedId: 4 }\n",
            ),
            (
                "db.log.find().sort({$natural: -1})",
                "[ { _id: 4 }, { _id: 3 }, { _id: 2 } ]\n",
            ),
            (
                "db.log.find({_id: {$lt: 4}}).sort({$natural: 1}).limit(1)",
                "[ { _id: 2 } ]\n",
            ),
        ],
    );
}
