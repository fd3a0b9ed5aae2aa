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
