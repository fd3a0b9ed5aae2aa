//! Deterministic fuzzing of the mongosh shell's lexer, parser and evaluator: random token
//! soups, deep nesting, long inputs and random mutations of valid statements. Every input
//! must come back with some output (never a panic or a stack overflow), and its work must
//! stay within the step budget: run time is bounded by counting steps, not by a clock.
#![cfg(not(target_arch = "wasm32"))]

use std::panic::{catch_unwind, AssertUnwindSafe};

use nosql_playground::mongo::{input_is_complete, Shell};

mod common;
use common::Rng;

const NOW: u64 = 1_704_067_200_000;

/// Small enough that thousands of inputs run in seconds, large enough for real loops.
const STEP_LIMIT: u64 = 20_000;

const TOKENS: &[&str] = &[
    "let",
    "const",
    "var",
    "function",
    "return",
    "if",
    "else",
    "for",
    "while",
    "do",
    "break",
    "continue",
    "of",
    "in",
    "new",
    "typeof",
    "try",
    "catch",
    "finally",
    "throw",
    "x",
    "y",
    "i",
    "db",
    "posts",
    "find",
    "insertOne",
    "forEach",
    "map",
    "print",
    "printjson",
    "Array",
    "from",
    "length",
    "Math",
    "floor",
    "JSON",
    "stringify",
    "it",
    "use",
    "show",
    "0",
    "1",
    "25",
    "1.5",
    "1e3",
    "'s'",
    "\"d\"",
    "`t`",
    "`a${x}b`",
    "/re/g",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "?.",
    "...",
    "=>",
    "=",
    "+=",
    "++",
    "--",
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "==",
    "===",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "??",
    "!",
    "?",
    ":",
    "\n",
    " ",
    "//c\n",
    "/*c*/",
    "null",
    "undefined",
    "true",
    "NaN",
    "$gt",
    "ObjectId",
    "ISODate",
    "Date",
    "NumberDecimal",
    "Decimal128",
    "fromString",
    "Timestamp",
    "UUID",
    "BinData",
    "Binary",
    "createFromBase64",
    "MinKey",
    "EJSON",
    "parse",
    "createCollection",
    "runCommand",
    "startSession",
    "startTransaction",
    "commitTransaction",
    "abortTransaction",
    "getDatabase",
    "timeseries",
    "'1.5e6144'",
    "'AQID'",
];

/// Valid statements in the styles lessons use; mutations of these reach deep paths.
const SEEDS: &[&str] = &[
    "for (let i = 0; i < 25; i++) db.items.insertOne({i})",
    "db.items.find().sort({i: -1}).skip(2).limit(5)",
    "const c = db.items.find(); while (c.hasNext()) { printjson(c.next()) }",
    "db.items.find().forEach(d => print(d.i))",
    "Array.from({length: 5}, (_, i) => ({_id: i, v: i * 2}))",
    "const docs = []; for (const x of [1, 2, 3]) docs.push({x}); db.a.insertMany(docs)",
    "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) } fib(15)",
    "let s = ''; for (const k in {a: 1, b: 2}) { s += `${k};` } s",
    "const o = {a: {b: [1, 2, {c: 3}]}}; o.a.b[2].c += 1; o",
    "JSON.stringify({a: [1, 'x', null]}, null, 2)",
    "[5, 1, 4].sort((a, b) => a - b).map(n => n * n).filter(n => n > 1)",
    "try { null.x } catch (e) { print(e.message) } finally { 1 }",
    "db.items.find().map(d => d.i).toArray().reduce((a, b) => a + b, 0)",
    "const r = db.p.insertOne({t: 'x'}); r.insertedId",
    "let n = 0; do { n++ } while (n < 10); n",
    "'a-b-c'.split('-').join('+').padStart(9, '*').toUpperCase()",
    "new Date(Date.now() + 86400000).toISOString()",
    "const {a, b: [c]} = {a: 1, b: [2]}; a + c",
    "it",
    "use blog",
    "show collections",
    "db.m.insertOne({p: NumberDecimal('9.990'), t: Timestamp(), u: UUID(), b: BinData(0, 'AQID')})",
    "db.m.aggregate([{$set: {q: {$multiply: ['$p', NumberDecimal('3')]}}}, {$sort: {q: -1}}])",
    "EJSON.parse(EJSON.stringify({d: Decimal128.fromString('1E+3'), k: MinKey()}))",
    "db.createCollection('v', {validator: {$jsonSchema: {required: ['a']}}}); db.v.insertOne({b: 1})",
    "s = db.getMongo().startSession(); c = s.getDatabase('test').items; s.startTransaction(); c.insertOne({i: 1}); db.items.find(); s.commitTransaction()",
    "s.startTransaction(); c.updateMany({}, {$inc: {i: 1}}); db.items.updateOne({}, {$set: {i: 0}}); s.abortTransaction()",
    "s.withTransaction(() => { c.deleteOne({}); c.find().toArray() })",
    "db.createCollection('w', {timeseries: {timeField: 't', metaField: 'm'}, expireAfterSeconds: 60}); db.w.insertOne({t: new Date(), m: 1})",
];

struct Outcome {
    panicked: Option<String>,
    steps: u64,
}

fn run_one(shell: &mut Shell, src: &str) -> Outcome {
    let mut steps = 0;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _ = input_is_complete(src);
        let a = shell.eval_mongosh(src, NOW);
        steps = steps.max(shell.steps_used());
        let b = shell.eval_json(src, NOW);
        steps = steps.max(shell.steps_used());
        (a, b)
    }));
    Outcome {
        panicked: result.err().map(|_| src.chars().take(300).collect()),
        steps,
    }
}

fn token_soup(rng: &mut Rng) -> String {
    let n = rng.below(40);
    (0..n)
        .map(|_| rng.pick(TOKENS))
        .collect::<Vec<_>>()
        .join(" ")
}

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let len = chars.len();
        let at = rng.below(len + 1);
        match rng.below(5) {
            0 if len > 0 => {
                let end = (at + 1 + rng.below(6)).min(len);
                chars.drain(at.min(end)..end);
            }
            1 => {
                let tok = rng.pick(TOKENS);
                for (k, c) in tok.chars().enumerate() {
                    chars.insert(at + k, c);
                }
            }
            2 if len > 1 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(12)).min(len);
                let piece: Vec<char> = chars[from..to].to_vec();
                for (k, c) in piece.into_iter().enumerate() {
                    chars.insert(at.min(chars.len()) + k, c);
                }
            }
            3 if len > 1 => {
                let other = rng.below(len);
                chars.swap(at.min(len - 1), other);
            }
            _ => chars.insert(
                at,
                rng.pick(&["(", "{", "[", "`", "'", "/", "$", "\\"])
                    .chars()
                    .next()
                    .unwrap_or('('),
            ),
        }
    }
    chars.into_iter().collect()
}

/// Deep nesting of each construct the parser and evaluator recurse on.
fn deep_inputs() -> Vec<String> {
    let mut out = Vec::new();
    for n in [50, 119, 121, 400, 20_000] {
        out.push(format!("{}1{}", "(".repeat(n), ")".repeat(n)));
        out.push(format!("{}1{}", "[".repeat(n), "]".repeat(n)));
        out.push(format!("x = {}1{}", "{a: ".repeat(n), "}".repeat(n)));
        out.push(format!("{}1", "!".repeat(n)));
        out.push(format!("{}1", "- ".repeat(n)));
        out.push(format!("{}1", "x => ".repeat(n)));
        out.push(format!("{}1", "typeof ".repeat(n)));
        out.push(format!("{}{}", "if (1) ".repeat(n), "1"));
        out.push(format!("{}{}", "{ ".repeat(n), "}".repeat(n)));
        out.push(format!("{}{}", "function f() { ".repeat(n), "}".repeat(n)));
        out.push(format!("{}1{}", "`${".repeat(n), "}`".repeat(n)));
        out.push(format!("1{}", " ** 2".repeat(n)));
        out.push(format!("a{}", " = a".repeat(n)));
        out.push(format!("1{}", " ? 1 : 1".repeat(n)));
        out.push(format!("f{}", "()".repeat(n)));
        out.push(format!("db{}", ".a".repeat(n)));
        out.push(format!("x{}", "[0]".repeat(n)));
        out.push(format!("{}1{}", "f(".repeat(n), ")".repeat(n)));
        out.push("for (;;) ".repeat(n));
    }
    // Deep recursion at run time, through each way a function can be called.
    out.push("function r(n) { return r(n + 1) } r(0)".into());
    out.push("const g = n => [n].map(g); g(1)".into());
    out.push("function h(n) { return {v: h(n)} } h(1)".into());
    out.push("const k = () => `${k()}`; k()".into());
    out.push("let a = []; for (let i = 0; i < 1000; i++) a = [a]; a".into());
    out.push("let o = {}; for (let i = 0; i < 1000; i++) o = {o}; JSON.stringify(o)".into());
    out.push("const d = []; d.push(d); d.push(d); d".into());
    out
}

/// Inputs far longer than anything typed: long lines, many statements, long strings.
fn long_inputs() -> Vec<String> {
    vec![
        "1 + ".repeat(50_000) + "1",
        "x;\n".repeat(20_000),
        format!("'{}'", "a".repeat(200_000)),
        format!("[{}]", "1, ".repeat(50_000)),
        "let q = 0; q++; ".repeat(5_000),
        format!("`{}`", "${1}".repeat(10_000)),
        "'ab'.repeat(1e9)".into(),
        "'x'.padStart(1e12)".into(),
        "Array.from({length: 1e9})".into(),
        "let s = 'x'; while (true) s += s".into(),
        "let big = []; while (true) big.push(big.length)".into(),
    ]
}

fn check_all(inputs: &[String], shell: &mut Shell) {
    let mut failures = Vec::new();
    for src in inputs {
        let outcome = run_one(shell, src);
        if let Some(p) = outcome.panicked {
            failures.push(format!("panic: {p:?}"));
        }
        // One step more than the limit is the step that reports it.
        if outcome.steps > STEP_LIMIT + 1 {
            failures.push(format!(
                "{} steps (limit {STEP_LIMIT}) for {:?}",
                outcome.steps,
                src.chars().take(120).collect::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The fuzzing runs on a thread with wasm's 1 MiB of stack in optimised builds, so deep
/// inputs that would overflow the browser's stack overflow here too
/// (`cargo test --release --test mongo_shell_fuzz`). Unoptimised builds keep every
/// temporary in its own stack slot, which makes frames up to eight times larger, so they get
/// 8 MiB: the nesting limits are the same, only the frames differ.
fn on_wasm_sized_stack(f: impl FnOnce() + Send + 'static) {
    let stack = if cfg!(debug_assertions) {
        8 << 20
    } else {
        1 << 20
    };
    let handle = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(f)
        .expect("a test thread");
    if let Err(e) = handle.join() {
        std::panic::resume_unwind(e);
    }
}

fn fresh_shell() -> Shell {
    let mut shell = Shell::new();
    shell.set_step_limit(STEP_LIMIT);
    shell.eval_mongosh(
        "for (let i = 0; i < 30; i++) db.items.insertOne({_id: i, i})",
        NOW,
    );
    shell
}

#[test]
fn random_token_soups() {
    on_wasm_sized_stack(|| {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let inputs: Vec<String> = (0..3_000).map(|_| token_soup(&mut rng)).collect();
        check_all(&inputs, &mut fresh_shell());
    });
}

#[test]
fn mutations_of_valid_statements() {
    on_wasm_sized_stack(|| {
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        let mut inputs: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
        for _ in 0..4_000 {
            let seed = rng.pick(SEEDS);
            inputs.push(mutate(&mut rng, seed));
        }
        check_all(&inputs, &mut fresh_shell());
    });
}

#[test]
fn deep_nesting() {
    on_wasm_sized_stack(|| check_all(&deep_inputs(), &mut fresh_shell()));
}

#[test]
fn long_inputs_stay_within_the_budget() {
    on_wasm_sized_stack(|| check_all(&long_inputs(), &mut fresh_shell()));
}

#[test]
fn valid_seeds_still_work_after_the_fuzzing() {
    // The shell keeps working after thousands of hostile inputs.
    on_wasm_sized_stack(|| {
        let mut shell = fresh_shell();
        let mut rng = Rng(42);
        for _ in 0..500 {
            let seed = rng.pick(SEEDS);
            let src = mutate(&mut rng, seed);
            let _ = run_one(&mut shell, &src);
        }
        assert_eq!(
            shell.eval_mongosh("use fresh", NOW),
            "switched to db fresh\n"
        );
        assert_eq!(shell.eval_mongosh("use test", NOW), "switched to db test\n");
        assert_eq!(
            shell.eval_mongosh("db.items.countDocuments() >= 30", NOW),
            "true\n"
        );
        assert_eq!(
            shell.eval_mongosh("[1, 2].map(x => x + 1)", NOW),
            "[ 2, 3 ]\n"
        );
    });
}
