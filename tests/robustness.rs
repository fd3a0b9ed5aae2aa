//! What no input may do: hang the tab on a pathological pattern or loop, or take the engines
//! down with a huge paste or binary bytes. Every case here once was, or could be, a way to
//! freeze a student's page; each asserts the answer, and a regression shows as a hung test.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::clock::Clock;
use nosql_playground::mongo::Shell;
use nosql_playground::redis::cli::run_line;
use nosql_playground::redis::Server;

const NOW: u64 = 1_704_067_200_000;

fn redis(server: &mut Server, clock: &mut Clock, line: &str) -> String {
    run_line(server, clock, line, NOW, false).text
}

/// Patterns whose naive backtracking match is exponential in the number of stars, against
/// keys long enough that such a match would never finish. stringmatchlen's "skip longer
/// matches" cut (and its nesting limit of 1000) keep each one polynomial, as in the server.
#[test]
fn glob_patterns_cannot_blow_up() {
    let mut server = Server::new();
    let mut clock = Clock::new();
    let long = "a".repeat(20_000);
    for i in 0..5 {
        redis(&mut server, &mut clock, &format!("SET {long}{i} v"));
    }
    redis(&mut server, &mut clock, "SET aaaaaaaab v");
    let star_a = "*a".repeat(7);
    let deep = "a*".repeat(3_000);
    let cases = [
        (format!("KEYS {star_a}*b"), "1) \"aaaaaaaab\"\n".to_string()),
        (format!("KEYS {star_a}*c"), "(empty array)\n".to_string()),
        (format!("SCAN 0 MATCH {star_a}*b COUNT 100"), String::new()),
        // Past the nesting limit a pattern matches nothing, as in the server.
        (format!("KEYS {deep}"), "(empty array)\n".to_string()),
        (
            "KEYS *?*?*?*?*?*?*?*[b]".to_string(),
            "1) \"aaaaaaaab\"\n".to_string(),
        ),
    ];
    for (line, expected) in cases {
        let out = redis(&mut server, &mut clock, &line);
        if expected.is_empty() {
            assert!(out.contains("\"aaaaaaaab\""), "{line}: {out}");
        } else {
            assert_eq!(out, expected, "{}", &line[..40.min(line.len())]);
        }
    }
    // Sets, sorted sets, hashes and pub/sub patterns share the one matcher.
    redis(&mut server, &mut clock, &format!("SADD s {long} aaaaaaaab"));
    let out = redis(
        &mut server,
        &mut clock,
        &format!("SSCAN s 0 MATCH {star_a}*b COUNT 10"),
    );
    assert!(out.ends_with("1) \"aaaaaaaab\"\n"), "{out}");
    redis(&mut server, &mut clock, ".client 2");
    redis(&mut server, &mut clock, &format!("PSUBSCRIBE {star_a}*b"));
    redis(&mut server, &mut clock, ".client 1");
    let out = redis(&mut server, &mut clock, &format!("PUBLISH {long} m"));
    assert_eq!(out, "(integer) 0\n");
    let out = redis(&mut server, &mut clock, "PUBLISH aaaaaaaab m");
    assert!(out.starts_with("(integer) 1\n"), "{out}");
}

/// The regex engine is a Pike VM: matching is linear in the subject, so the classic
/// catastrophic-backtracking patterns answer at once on a subject that defeats a
/// backtracking engine ('a' × 30 000 then a character that makes every attempt fail).
#[test]
fn regexes_cannot_backtrack_catastrophically() {
    let mut shell = Shell::new();
    let subject = format!("{}!", "a".repeat(30_000));
    shell.eval_mongosh(
        &format!("db.r.insertMany([{{_id: 1, s: '{subject}'}}, {{_id: 2, s: 'aaab'}}])"),
        NOW,
    );
    for pattern in [
        "(a+)+$",
        "(a|aa)+$",
        "(a|a)*b",
        "(a*)*b",
        "^(a+)+b",
        "(.*a){3}b",
    ] {
        let filter = format!("db.r.find({{s: {{$regex: '{pattern}'}}}}, {{_id: 1}}).toArray()");
        let out = shell.eval_mongosh(&filter, NOW);
        let expected = if pattern.ends_with('$') {
            "[]\n"
        } else {
            "[ { _id: 2 } ]\n"
        };
        assert_eq!(out, expected, "{pattern}");
        let agg = format!(
            "db.r.aggregate([{{$project: {{m: {{$regexMatch: {{input: '$s', regex: /{pattern}/}}}}}}}}]).toArray().map(d => d.m)"
        );
        let out = shell.eval_mongosh(&agg, NOW);
        assert!(out.starts_with("[ false, "), "{pattern}: {out}");
    }
    // A pattern that would compile to a huge program is refused, not built.
    let out = shell.eval_mongosh("db.r.find({s: {$regex: '((a{1000}){1000}){1000}'}})", NOW);
    assert!(out.starts_with("MongoServerError"), "{out}");
}

/// Every way of looping or recursing stops at the step budget (or the stack budget) with the
/// documented error, and the session goes on.
#[test]
fn every_loop_form_stops_at_the_step_budget() {
    let mut shell = Shell::new();
    shell.set_step_limit(50_000);
    shell.eval_mongosh("db.c.insertMany([{a: 1}, {a: 2}])", NOW);
    let stepped = "Error: sandbox step limit reached (50000 steps; does a loop never end?)\n";
    let stack = "RangeError: Maximum call stack size exceeded\n";
    for (src, expected) in [
        ("while (true) {}", stepped),
        ("for (;;) {}", stepped),
        ("do {} while (true)", stepped),
        ("for (let i = 0; i >= 0; i++) {}", stepped),
        ("function f() { while (1) {} } f()", stepped),
        ("db.c.find().forEach(d => { while (true) {} })", stepped),
        ("[1, 2].map(() => { for (;;) {} })", stepped),
        ("Array.from({length: 1e7}, (_, i) => i).length", stepped),
        ("'x'.repeat(1e6).split('').map(c => c + c).length", stepped),
        ("const f = () => f(); f()", stack),
        (
            "function a() { return b() } function b() { return a() } a()",
            stack,
        ),
    ] {
        assert_eq!(shell.eval_mongosh(src, NOW), expected, "{src}");
    }
    assert_eq!(shell.eval_mongosh("db.c.countDocuments()", NOW), "2\n");
}

/// Ten megabytes pasted at once: one huge argument, one huge unbalanced line, and a paste of
/// many lines; each gets its answer and the server goes on.
#[test]
fn a_ten_megabyte_paste_into_the_redis_console_is_answered() {
    const MB10: usize = 10 * 1024 * 1024;
    let mut server = Server::new();
    let mut clock = Clock::new();
    let big = "x".repeat(MB10);
    assert_eq!(
        redis(&mut server, &mut clock, &format!("SET k {big}")),
        "OK\n"
    );
    assert_eq!(
        redis(&mut server, &mut clock, "STRLEN k"),
        format!("(integer) {MB10}\n")
    );
    assert_eq!(
        redis(&mut server, &mut clock, &format!("SET k \"{big}")),
        "Invalid argument(s)\n"
    );
    let words = "w ".repeat(MB10 / 2);
    let out = redis(&mut server, &mut clock, &format!("SADD s {words}"));
    assert_eq!(out, "(integer) 1\n");
    let garbage = "\u{1}\"'\\x{}[]".repeat(MB10 / 12);
    let out = redis(&mut server, &mut clock, &garbage);
    assert!(
        out.starts_with("Invalid argument(s)") || out.starts_with("(error)"),
        "{}",
        &out[..out.len().min(80)]
    );
    // A paste of many lines, as the page hands it over one line at a time.
    let line = format!("APPEND n {}\n", "y".repeat(1000));
    let lines = line.repeat(MB10 / line.len());
    let mut last = String::new();
    for line in lines.lines() {
        last = redis(&mut server, &mut clock, line);
    }
    assert_eq!(last, format!("(integer) {}\n", MB10 / line.len() * 1000));
    assert_eq!(redis(&mut server, &mut clock, "PING"), "PONG\n");
}

#[test]
fn a_ten_megabyte_paste_into_the_mongo_console_is_answered() {
    const MB10: usize = 10 * 1024 * 1024;
    let mut shell = Shell::new();
    let big = "x".repeat(MB10);
    let out = shell.eval_mongosh(&format!("db.c.insertOne({{_id: 1, s: '{big}'}})"), NOW);
    assert_eq!(out, "{ acknowledged: true, insertedId: 1 }\n");
    assert_eq!(
        shell.eval_mongosh("db.c.findOne().s.length", NOW),
        format!("{MB10}\n")
    );
    // Unterminated, deeply nested, and plain garbage: each is one clear error.
    let out = shell.eval_mongosh(&format!("'{big}"), NOW);
    assert!(
        out.contains("SyntaxError"),
        "{}",
        &out[..out.len().min(200)]
    );
    let out = shell.eval_mongosh(&"[".repeat(MB10), NOW);
    assert!(
        out.contains("SyntaxError") || out.contains("RangeError"),
        "{}",
        &out[..out.len().min(200)]
    );
    let out = shell.eval_mongosh(&"{(}@#".repeat(MB10 / 5), NOW);
    assert!(
        out.contains("SyntaxError"),
        "{}",
        &out[..out.len().min(200)]
    );
    // Many statements: the step budget or the paste's own end, whichever comes first.
    let line = format!("x = '{}'.length\n", "y".repeat(1000));
    let out = shell.eval_mongosh(&line.repeat(MB10 / line.len()), NOW);
    assert!(
        out.ends_with("1000\n"),
        "{}",
        &out[out.len().saturating_sub(200)..]
    );
    assert_eq!(shell.eval_mongosh("db.c.countDocuments()", NOW), "1\n");
}

/// Collections count against one sandbox limit: inserts and updates that would pass it get
/// the documented error and change nothing; deleting or dropping makes room again.
#[test]
fn mongo_writes_stop_at_the_sandbox_memory_limit() {
    let mut shell = Shell::new();
    shell.set_memory_limit(100_000);
    let limit_error = "MongoServerError: Sandbox memory limit reached: this write would take the documents of all collections past 100000 bytes; drop collections or delete documents to make room\n";
    let kb20 = "x".repeat(20_000);
    for i in 0..4 {
        let out = shell.eval_mongosh(&format!("db.a.insertOne({{_id: {i}, s: '{kb20}'}})"), NOW);
        assert_eq!(out, format!("{{ acknowledged: true, insertedId: {i} }}\n"));
    }
    // Counted as BSON: 5 + (2 + "_id" + int32) + (2 + "s" + 5 + 20 000) bytes each.
    assert_eq!(shell.store().memory().used(), 4 * 20_022);
    // The fifth document of 20 KB would pass 100 000 bytes, in this or any other collection.
    let fifth = format!("db.b.insertOne({{_id: 9, s: '{kb20}'}})");
    assert_eq!(shell.eval_mongosh(&fifth, NOW), limit_error);
    let out = shell.eval_mongosh(&format!("db.a.insertMany([{{s: '{kb20}'}}])"), NOW);
    assert!(
        out.contains("MongoBulkWriteError: Sandbox memory limit reached"),
        "{out}"
    );
    let grow = format!("db.a.updateOne({{_id: 0}}, {{$set: {{t: '{kb20}'}}}})");
    assert_eq!(shell.eval_mongosh(&grow, NOW), limit_error);
    let replace = format!("db.a.replaceOne({{_id: 0}}, {{s: '{kb20}{kb20}'}})");
    assert_eq!(shell.eval_mongosh(&replace, NOW), limit_error);
    let out = shell.eval_mongosh("db.a.aggregate([{$set: {t: '$s'}}, {$out: 'c'}])", NOW);
    assert!(
        out.starts_with("MongoServerError[ExceededMemoryLimit]: Sandbox memory limit reached"),
        "{out}"
    );
    assert_eq!(
        shell.eval_mongosh("db.a.find({t: {$exists: true}}).count()", NOW),
        "0\n"
    );
    // Shrinking updates are always allowed; freed space can be used again.
    let out = shell.eval_mongosh("db.a.updateOne({_id: 0}, {$set: {s: 'small'}})", NOW);
    assert!(out.contains("modifiedCount: 1"), "{out}");
    let out = shell.eval_mongosh(&fifth, NOW);
    assert_eq!(out, "{ acknowledged: true, insertedId: 9 }\n");
    assert_eq!(
        shell.eval_mongosh(&fifth.replace("9", "10"), NOW),
        limit_error
    );
    shell.eval_mongosh("db.a.drop()", NOW);
    assert_eq!(
        shell.eval_mongosh(&fifth.replace("9", "10"), NOW),
        "{ acknowledged: true, insertedId: 10 }\n"
    );
    shell.eval_mongosh("db.b.deleteMany({})", NOW);
    assert_eq!(shell.store().memory().used(), 0);
}

/// Found by the mongo_update fuzz target: `{$set: {"a.777777777": …}}` on an array padded it
/// with 777 million nulls. The server refuses to pad by more than 1 500 000.
#[test]
fn updates_cannot_pad_an_array_without_bound() {
    let mut shell = Shell::new();
    shell.eval_mongosh("db.c.insertOne({_id: 1, a: [1], d: {}})", NOW);
    let refused = "MongoServerError: can't backfill more than 1500000 elements\n";
    for update in [
        "{$set: {'a.777777777': 1}}",
        "{$set: {'a.1500001': 1}}",
        "{$inc: {'a.99999999999.x': 1}}",
        "{$set: {'d.x': [], 'a.4000000': 1}}",
    ] {
        let out = shell.eval_mongosh(&format!("db.c.updateOne({{_id: 1}}, {update})"), NOW);
        assert_eq!(out, refused, "{update}");
    }
    // Up to the limit it pads, as the server does; reading or removing far past the end is
    // simply nothing.
    let out = shell.eval_mongosh("db.c.updateOne({_id: 1}, {$set: {'a.1500000': 2}})", NOW);
    assert!(out.contains("modifiedCount: 1"), "{out}");
    assert_eq!(
        shell.eval_mongosh("db.c.findOne().a.length", NOW),
        "1500001\n"
    );
    let out = shell.eval_mongosh(
        "db.c.updateOne({_id: 1}, {$unset: {'a.777777777': 1}})",
        NOW,
    );
    assert!(out.contains("modifiedCount: 0"), "{out}");
}

/// Found by the mongo_update fuzz target: a `$push` `$slice` that reads as i64::MIN
/// overflowed when negated.
#[test]
fn push_slice_at_the_end_of_the_integer_range() {
    let mut shell = Shell::new();
    shell.eval_mongosh("db.c.insertOne({_id: 1, a: [3, 1]})", NOW);
    for (slice, expected) in [
        ("-12222222000000000000000800", "[ 1, 2, 3 ]"),
        ("NumberLong('-9223372036854775808')", "[ 1, 2, 2, 3 ]"),
        ("NumberLong('9223372036854775807')", "[ 1, 2, 2, 2, 3 ]"),
    ] {
        let update = format!("{{$push: {{a: {{$each: [2], $slice: {slice}, $sort: 1}}}}}}");
        let out = shell.eval_mongosh(&format!("db.c.updateOne({{_id: 1}}, {update})"), NOW);
        assert!(out.contains("acknowledged: true"), "{slice}: {out}");
        assert_eq!(
            shell.eval_mongosh("db.c.findOne().a", NOW),
            format!("{expected}\n")
        );
    }
}

/// Found by the mongo_pipeline fuzz target: `$densify` over `bounds: "full"` between 1 and
/// the largest Long filled a vector until a budget of a million values ran out. The server
/// stops after 500 000 generated documents (`internalQueryMaxAllowedDensifyDocs`), counted
/// over all partitions.
#[test]
fn densify_stops_at_the_servers_document_limit() {
    let mut shell = Shell::new();
    shell.eval_mongosh(
        r#"db.c.insertMany([{_id: 1, a: 1}, {_id: 2, a: NumberLong("9223372036854775807")}, {_id: 3, a: 1e18, p: 1}])"#,
        NOW,
    );
    let over = |generated: usize| {
        format!("MongoServerError[Location5897900]: PlanExecutor error during aggregation :: caused by :: Generated {generated} documents in $densify, which is over the limit of 500000. Increase the 'internalQueryMaxAllowedDensifyDocs' parameter to allow more generated documents\n")
    };
    let cases = [
        (
            "[{$densify: {field: 'a', range: {step: 2, bounds: 'full'}}}]",
            over(500_001),
        ),
        // 250 000 in each of two partitions: the limit is the stage's, not a partition's.
        (
            "[{$match: {_id: {$lt: 3}}}, {$set: {p: '$_id'}}, {$densify: {field: 'a', partitionByFields: ['p'], range: {step: 1, bounds: [2, 250002]}}}, {$count: 'n'}]",
            "[ { n: 500002 } ]\n".to_string(),
        ),
        (
            "[{$match: {_id: {$lt: 3}}}, {$set: {p: '$_id'}}, {$densify: {field: 'a', partitionByFields: ['p'], range: {step: 1, bounds: [2, 250003]}}}, {$count: 'n'}]",
            over(500_001),
        ),
        // A step lost to rounding never advances the value: nothing to generate, no loop.
        (
            "[{$match: {_id: 3}}, {$densify: {field: 'a', range: {step: 1e-300, bounds: 'full'}}}, {$project: {_id: 1}}]",
            "[ { _id: 3 } ]\n".to_string(),
        ),
    ];
    for (pipeline, expected) in cases {
        let out = shell.eval_mongosh(&format!("db.c.aggregate({pipeline})"), NOW);
        assert_eq!(out, expected, "{pipeline}");
    }
}

/// Found by the mongo_projection fuzz target: a projection path thousands of parts deep cost
/// time quadratic in its depth. The server's FieldPath takes at most 200 parts
/// (`BSONDepth::kDefaultMaxAllowableDepth`) and refuses longer ones, in projections, stage
/// field names and `$` paths alike.
#[test]
fn field_paths_longer_than_the_server_takes_are_refused() {
    let path = |parts: usize| vec!["a"; parts].join(".");
    let mut shell = Shell::new();
    shell.eval_mongosh("db.c.insertOne({_id: 1, a: 1})", NOW);
    let too_long = "MongoServerError[Overflow]: FieldPath is too long\n".to_string();
    let cases = [
        (
            format!("db.c.find({{}}, {{'{}': 1}})", path(200)),
            "[ { _id: 1 } ]\n".to_string(),
        ),
        (
            format!("db.c.find({{}}, {{'{}': 1}})", path(201)),
            too_long.clone(),
        ),
        (
            format!("db.c.find({{}}, {{'{}': 0}})", path(20_000)),
            too_long,
        ),
        (
            format!("db.c.aggregate([{{$project: {{'{}': 1}}}}])", path(50_000)),
            "MongoServerError[Overflow]: Invalid $project :: caused by :: FieldPath is too long\n"
                .into(),
        ),
        (
            format!("db.c.aggregate([{{$set: {{'{}': 1}}}}])", path(201)),
            "MongoServerError[Overflow]: Invalid $set :: caused by :: FieldPath is too long\n"
                .into(),
        ),
        (
            format!(
                "db.c.aggregate([{{$set: {{r: '${}'}}}}, {{$project: {{r: 1}}}}])",
                path(200)
            ),
            "[ { _id: 1 } ]\n".into(),
        ),
        (
            format!("db.c.aggregate([{{$set: {{r: '${}'}}}}])", path(201)),
            "MongoServerError[Overflow]: Invalid $set :: caused by :: FieldPath is too long\n"
                .into(),
        ),
    ];
    for (statement, expected) in cases {
        assert_eq!(
            shell.eval_mongosh(&statement, NOW),
            expected,
            "{}",
            &statement[..60]
        );
    }
}
