//! The JavaScript subset of the mongosh shell: behaviour not covered by the fidelity cases
//! (scoping, closures, destructuring, errors, budgets, console input completeness).
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::{input_is_complete, Shell};

const NOW: u64 = 1_704_067_200_000;

/// Runs `(input, expected output)` pairs in one shell.
fn script(steps: &[(&str, &str)]) {
    let mut shell = Shell::new();
    for (input, want) in steps {
        assert_eq!(shell.eval_mongosh(input, NOW), *want, "{input}");
    }
}

#[test]
fn scoping_and_closures() {
    script(&[
        ("let x = 1; { let x = 2 }; x", "1\n"),
        ("var v = 1; if (true) { var w = v + 1 }; typeof w", "undefined\n"),
        ("const add = n => m => n + m; add(2)(10)", "12\n"),
        // Arrays and objects hold data only: a function cannot be stored in one.
        (
            "[() => 1]",
            "TypeError: this sandbox cannot store functions or shell objects in an array or document\n",
        ),
        ("function outer() { const k = 5; return inner(); function inner() { return k * 2 } }; outer()", "10\n"),
        ("hoisted(); function hoisted() { return 'ok' }", "ok\n"),
        ("const f = function named() { return 1 }; f", "[Function: named]\n"),
        ("const g = () => 1; g", "[Function: g]\n"),
        ("undeclared = 3; undeclared + 1", "4\n"),
        ("const obj = {n: 1}; obj.n = 2; obj", "{ n: 2 }\n"),
        ("const c = 1; c += 1", "TypeError: Assignment to constant variable.\n"),
    ]);
}

#[test]
fn destructuring_defaults_and_rest() {
    script(&[
        ("const {a, b: {c}} = {a: 1, b: {c: 2}}; a + c", "3\n"),
        ("const [p, , q = 9] = [1, 2]; [p, q]", "[ 1, 9 ]\n"),
        (
            "function f(x, y = 10, ...rest) { return [x, y, rest] }; f(1)",
            "[ 1, 10, [] ]\n",
        ),
        ("f(1, 2, 3, 4)", "[ 1, 2, [ 3, 4 ] ]\n"),
        (
            "for (const [k, v] of Object.entries({a: 1, b: 2})) print(k + '=' + v)",
            "a=1\nb=2\n",
        ),
        ("Math.max(...[4, 8, 2])", "8\n"),
        (
            "const {z} = null",
            "TypeError: Cannot destructure 'null' as it is null.\n",
        ),
    ]);
}

#[test]
fn exceptions() {
    script(&[
        (
            "try { null.x } catch (e) { e.message }",
            "Cannot read properties of null (reading 'x')\n",
        ),
        (
            "try { throw new Error('boom') } catch (e) { e.name + ': ' + e.message }",
            "Error: boom\n",
        ),
        ("throw new Error('stop')", "Error: stop\n"),
        (
            "let fin = 0; try { fin = 1 } finally { fin = 2 }; fin",
            "2\n",
        ),
        (
            "db.t.insertOne({_id: 1}); try { db.t.insertOne({_id: 1}) } catch (e) { e.code }",
            "11000\n",
        ),
    ]);
}

#[test]
fn operators_follow_javascript() {
    let cases = [
        ("null == undefined", "true\n"),
        ("null === undefined", "false\n"),
        ("NaN === NaN", "false\n"),
        ("[1, NaN].includes(NaN)", "true\n"),
        ("'b' > 'a'", "true\n"),
        ("'10' < '9'", "true\n"),
        ("10 < 9", "false\n"),
        ("5 & 3 | 8", "9\n"),
        ("-7 >> 1", "-4\n"),
        ("1 / 0", "Infinity\n"),
        ("-0 === 0", "true\n"),
        ("'3' - 1", "2\n"),
        ("true + 1", "2\n"),
        ("[] + []", "\n"),
        ("({}) + ''", "[object Object]\n"),
        ("let u; u ??= 4; u", "4\n"),
        ("let z = 1; z ||= 5; z", "1\n"),
        ("'a' in {a: 1}", "true\n"),
        ("[] instanceof Array", "true\n"),
        ("2 ** 3 ** 2", "512\n"),
        ("(1, 2, 3)", "3\n"),
        ("void 0", ""),
        ("typeof Math.floor", "function\n"),
    ];
    let mut shell = Shell::new();
    for (input, want) in cases {
        assert_eq!(shell.eval_mongosh(input, NOW), want, "{input}");
    }
}

#[test]
fn library_functions() {
    let cases = [
        ("[3, 1, 2].sort().reverse()", "[ 3, 2, 1 ]\n"),
        ("const a = [1, 2, 3, 4]; a.splice(1, 2); a", "[ 1, 4 ]\n"),
        ("const s = [2]; s.unshift(1); s.shift(); s", "[ 2 ]\n"),
        ("new Array(3).fill(0)", "[ 0, 0, 0 ]\n"),
        ("[[1, 2], [3]].flat()", "[ 1, 2, 3 ]\n"),
        ("[1, 2, 3].findIndex(x => x === 3)", "2\n"),
        ("'x'.padEnd(3, '-') + '|'", "x--|\n"),
        ("'a b c'.split(' ', 2)", "[ 'a', 'b' ]\n"),
        ("'aXbXc'.replaceAll('X', '')", "abc\n"),
        ("'Hello'.charAt(1) + 'Hello'.at(-1)", "eo\n"),
        ("(255).toString(16)", "ff\n"),
        ("Number.isInteger(5.0)", "true\n"),
        ("Object.fromEntries([['a', 1]])", "{ a: 1 }\n"),
        ("Object.assign({a: 1}, {b: 2})", "{ a: 1, b: 2 }\n"),
        (
            "JSON.stringify([new Date(0)])",
            "[\"1970-01-01T00:00:00.000Z\"]\n",
        ),
        (
            "JSON.parse('{bad')",
            "SyntaxError: Unexpected token in JSON at line 1 column 2\n",
        ),
        (
            "new Date(2024, 0, 31).toISOString()",
            "2024-01-31T00:00:00.000Z\n",
        ),
        (
            "new Date(Date.now()).toISOString()",
            "2024-01-01T00:00:00.000Z\n",
        ),
        ("String(null) + String(undefined)", "nullundefined\n"),
        ("parseInt('0x1A')", "26\n"),
        ("Number('')", "0\n"),
        ("Number('inf')", "NaN\n"),
    ];
    let mut shell = Shell::new();
    for (input, want) in cases {
        assert_eq!(shell.eval_mongosh(input, NOW), want, "{input}");
    }
}

#[test]
fn math_random_is_deterministic_per_session() {
    let run = || {
        let mut shell = Shell::new();
        shell.eval_mongosh("[Math.random(), Math.random()]", NOW)
    };
    let first = run();
    assert_eq!(first, run());
    let mut shell = Shell::new();
    let out = shell.eval_mongosh(
        "Array.from({length: 1000}, () => Math.random()).every(x => x >= 0 && x < 1)",
        NOW,
    );
    assert_eq!(out, "true\n");
}

#[test]
fn budgets_stop_runaway_work() {
    let mut shell = Shell::new();
    shell.set_step_limit(10_000);
    let looped = shell.eval_mongosh("for (;;) {}", NOW);
    assert_eq!(
        looped,
        "Error: sandbox step limit reached (10000 steps; does a loop never end?)\n"
    );
    // The budget cannot be caught by the script itself.
    let caught = shell.eval_mongosh("try { while (true) {} } catch (e) { 'caught' }", NOW);
    assert!(caught.starts_with("Error: sandbox step limit"), "{caught}");
    // Each input gets a fresh budget.
    assert_eq!(shell.eval_mongosh("1 + 1", NOW), "2\n");
    assert_eq!(
        shell.eval_mongosh("function r(n) { return r(n + 1) }; r(0)", NOW),
        "RangeError: Maximum call stack size exceeded\n"
    );
    assert_eq!(
        shell.eval_mongosh("let a = []; for (let i = 0; i < 500; i++) a = [a]", NOW),
        "RangeError: Maximum call stack size exceeded\n"
    );
    assert!(shell
        .eval_mongosh("new Array(1e9)", NOW)
        .starts_with("RangeError"));
}

#[test]
fn print_output_comes_in_order_and_as_json_strings() {
    let mut shell = Shell::new();
    assert_eq!(
        shell.eval_mongosh("print(1); print('two'); 3", NOW),
        "1\ntwo\n3\n"
    );
    assert_eq!(
        shell.eval_json("print('a\"b'); [1]", NOW),
        "\"a\\\"b\"\n[1]\n"
    );
    // Output printed before an error still shows.
    assert_eq!(
        shell.eval_mongosh("print('before'); nope", NOW),
        "before\nReferenceError: nope is not defined\n"
    );
}

#[test]
fn syntax_errors_are_reported_not_run() {
    let cases = [
        ("let = 5", "SyntaxError: Unexpected token (1:4)"),
        (
            "const k",
            "SyntaxError: Missing initializer in const declaration. (1:7)",
        ),
        ("if (x", "SyntaxError: Unexpected token (1:5)"),
        (
            "if (x y",
            "SyntaxError: Unexpected token, expected \")\" (1:6)",
        ),
        (
            "1 = 2",
            "SyntaxError: Invalid left-hand side in assignment expression. (1:0)",
        ),
        (
            "class A {}",
            "SyntaxError: Unexpected keyword 'class'. (1:0)",
        ),
    ];
    let mut shell = Shell::new();
    for (input, want) in cases {
        let out = shell.eval_mongosh(input, NOW);
        assert!(out.contains(want), "{input}: {out}");
    }
}

#[test]
fn console_input_completeness_for_the_js_subset() {
    let cases = [
        ("for (let i = 0; i < 3; i++)", false),
        ("for (let i = 0; i < 3; i++) {", false),
        ("for (let i = 0; i < 3; i++) print(i)", true),
        ("if (x)", false),
        ("if (x) y\nelse", false),
        ("do { i++ } while (i < 3)", true),
        ("const total = 1 +", false),
        ("const f = x =>", false),
        ("a ??", false),
        ("i++", true),
        ("`a ${b}", false),
        ("`a ${`inner", false),
        ("`a ${b} c`", true),
        ("`a ${ {x: 1}.x } c`", true),
        ("x = /[/]/", true),
        ("x = 1 // trailing +", true),
        ("x = 1 /* open", false),
        ("function f() {\n  return 1\n}", true),
    ];
    for (src, want) in cases {
        assert_eq!(input_is_complete(src), want, "{src:?}");
    }
}

#[test]
fn cursor_state_is_shared_by_its_variable() {
    script(&[
        (
            "for (let i = 0; i < 30; i++) db.n.insertOne({_id: i})",
            "{ acknowledged: true, insertedId: 29 }\n",
        ),
        ("const c = db.n.find(); c.next()._id", "0\n"),
        ("c.next()._id", "1\n"),
        ("c.toArray().length", "28\n"),
        ("c.hasNext()", "false\n"),
        ("const m = db.n.find().map(d => d._id * 2); m.next()", "0\n"),
        ("m.next()", "2\n"),
        (
            "db.n.find().sort({_id: -1}).limit(1).next()",
            "{ _id: 29 }\n",
        ),
        (
            "db.n.find({_id: {$lt: 3}}).map(d => d._id)",
            "[ 0, 1, 2 ]\n",
        ),
    ]);
}
