//! `let a = <cursor>.toArray()` run in steps (`prepare_mongosh`, `step_prepared`) prints,
//! binds and counts what one `eval_mongosh` does, and Stop leaves the variable as it was.

use super::to_array_tests::filled;
use super::Shell;

/// `src` in steps of `budget` documents: what it printed and how many steps it took.
fn stepped(shell: &mut Shell, src: &str, budget: usize) -> (String, usize) {
    if let Some(error) = shell.prepare_mongosh(src, 0) {
        return (error, 0);
    }
    let mut steps = 0;
    loop {
        steps += 1;
        if let Some(out) = shell.step_prepared(budget) {
            return (out, steps);
        }
    }
}

/// What the variable holds afterwards, read every way a student reads it.
const READS: &str = "a\na.length\na[5]\na[a.length - 1]\ntypeof a\n\
                     let seen = 0; for (const d of a) { seen++ }; seen\n\
                     a.slice(100, 103)";

#[test]
fn statements_copied_in_steps_print_and_bind_what_one_call_does() {
    let inputs = [
        "let a = db.c.find().toArray()",
        "const a = db.c.find({n: {$gte: 5}}).sort({n: -1}).skip(3).limit(150).toArray()",
        "var a = db.c.find({}, {n: 1, _id: 0}).toArray();",
        "a = db.c.find({n: {$lt: 120}}).toArray()",
        "a = db.c.find({n: {$lt: 3}}, {tags: 1}).toArray()",
        "a = db.none.find().toArray()",
        "let a = db.c.aggregate([{$match: {n: {$gt: 10}}}, {$project: {n: 1, s: 1}}]).toArray()",
        "let a = db.c.aggregate([{$group: {_id: '$s', n: {$sum: 1}}}, {$sort: {_id: 1}}]).toArray()",
        "a = db.c.find().map(d => d.n * 2).toArray()",
        "let a = db.c.find({n: {$lt: 4}}).map(d => { print('doc', d.n); return d.s }).toArray()",
        "let a = db.c.find({tags: 'a'}).hint({$natural: -1}).toArray()",
        "let a = db.c.find({$text: {$search: 'x'}}).toArray()",
        "let a = db.c.find({}, {m: {$divide: [1, {$subtract: ['$n', 200]}]}}).toArray()",
        "let a = db.c.find({$bad: 1}).toArray()",
        "let a = db.c.find().sort({n: 2}).toArray()",
        "let a = [1, 2].toArray()",
        "a = {toArray: () => x => 1}.toArray()",
        "let a = undefinedName.toArray()",
        "let a = db.c.explain().find().toArray()",
    ];
    for budget in [1, 3, 64] {
        for src in inputs {
            let mut once = filled();
            let mut steps = filled();
            // A variable already bound, and a cursor begun, as a student's session has.
            for shell in [&mut once, &mut steps] {
                shell.eval_mongosh("a = 'before'; c = db.c.find(); c.next()", 0);
            }
            let want = once.eval_mongosh(src, 0);
            let (got, taken) = stepped(&mut steps, src, budget);
            assert_eq!(got, want, "{src} in steps of {budget}");
            assert_eq!(steps.steps_used(), once.steps_used(), "{src} ({budget})");
            assert_eq!(
                steps.eval_mongosh(READS, 0),
                once.eval_mongosh(READS, 0),
                "{src} ({budget})"
            );
            // The copy went a budget at a time.
            if src.starts_with("let a = db.c.find().toArray") {
                assert!(taken > 250 / budget, "{taken} steps of {budget}");
            }
        }
    }
}

#[test]
fn a_cursor_begun_earlier_and_the_step_limit_mid_way_are_as_in_one_call() {
    let inputs = [
        "c = db.c.find({n: {$gte: 200}}); c.next(); c.next()",
        "let a = c.toArray()",
        "a.length",
        "const k = 1",
        "k = db.c.find().toArray()",
        "k",
        // Each document runs the map's body: the limit is met half way through.
        "let b = db.c.find().map(d => { let x = d.n; x += 1; return x }).toArray()",
        "typeof b",
        "let b = db.c.find().toArray(); b.length",
    ];
    for budget in [1, 3, 64] {
        let mut once = filled();
        let mut steps = filled();
        once.set_step_limit(1_500);
        steps.set_step_limit(1_500);
        let mut printed = Vec::new();
        for src in inputs {
            let want = once.eval_mongosh(src, 0);
            let (got, _) = stepped(&mut steps, src, budget);
            assert_eq!(got, want, "{src} in steps of {budget}");
            assert_eq!(steps.steps_used(), once.steps_used(), "{src} ({budget})");
            printed.push(got);
        }
        assert_eq!(printed[1], "");
        assert_eq!(printed[2], "48\n");
        assert!(printed[4].starts_with("TypeError: Assignment to constant"));
        assert!(printed[6].starts_with("Error: sandbox step limit reached"));
        assert_eq!(printed[7], "undefined\n");
    }
}

#[test]
fn the_memory_limit_met_mid_way_is_as_in_one_call() {
    let inputs = [
        "let w = db.c.find().map(d => db.w.insertOne({s: 'x'.repeat(1000)}).acknowledged).toArray()",
        "db.w.countDocuments()",
        "typeof w",
    ];
    for budget in [1, 3, 64] {
        let mut once = filled();
        let mut steps = filled();
        for shell in [&mut once, &mut steps] {
            let used = shell.store().memory().used();
            shell.set_memory_limit(used + 50_000);
        }
        let printed: Vec<String> = inputs
            .iter()
            .map(|src| {
                let want = once.eval_mongosh(src, 0);
                let (got, _) = stepped(&mut steps, src, budget);
                assert_eq!(got, want, "{src} in steps of {budget}");
                got
            })
            .collect();
        assert!(
            printed[0].contains("Sandbox memory limit reached"),
            "{}",
            printed[0]
        );
        assert_eq!(printed[2], "undefined\n");
    }
}

#[test]
fn the_collection_stays_as_it_was_while_its_documents_are_copied() {
    let setup = "db.t.createIndex({at: 1}, {expireAfterSeconds: 1})\n\
                 db.t.insertMany(Array.from({length: 300}, (_, n) => ({_id: n, at: new Date(0)})))";
    let src = "let a = db.t.find().toArray()";
    let mut once = Shell::new();
    once.eval_mongosh(setup, 0);
    let want = once.eval_mongosh(src, 0);
    let mut shell = Shell::new();
    shell.eval_mongosh(setup, 0);
    assert_eq!(shell.prepare_mongosh(src, 0), None);
    let got = loop {
        if let Some(out) = shell.step_prepared(7) {
            break out;
        }
        // The page's frames tick the TTL monitor, a panel reads, a lesson checks.
        assert_eq!(shell.tick(120_000), 0);
        shell.eval_json("db.t.countDocuments()", 120_000);
        let _ = super::check::check(&mut shell, "db.t.findOne()", 120_000);
    };
    assert_eq!(got, want);
    assert_eq!(shell.eval_mongosh("a.length", 0), "300\n");
    // Once the statement is over the monitor runs again.
    assert_eq!(shell.tick(240_000), 300);
}

#[test]
fn stop_leaves_the_variable_and_the_collection_as_they_were() {
    for (before, src) in [
        ("", "let fresh = db.c.find().toArray()"),
        ("a = 'kept'", "a = db.c.find().toArray()"),
    ] {
        let mut shell = filled();
        shell.eval_mongosh(before, 0);
        let reads = "typeof fresh\na\ndb.c.countDocuments()";
        let expected = shell.eval_mongosh(reads, 0);
        assert_eq!(shell.prepare_mongosh(src, 0), None);
        for _ in 0..5 {
            assert_eq!(shell.step_prepared(10), None);
        }
        let at = shell.prepared_progress();
        assert_eq!(
            at.map(|p| (p.stage, p.done, p.total)),
            Some(("copy", 50, 250))
        );
        let stopped = shell.stop_prepared();
        assert_eq!(stopped.map(|p| p.done), Some(50));
        assert_eq!(shell.prepared_progress(), None);
        assert_eq!(shell.eval_mongosh(reads, 0), expected, "{src}");
        assert_eq!(shell.step_prepared(10), Some(String::new()));
    }
}

#[test]
fn other_statements_still_run_in_one_step() {
    let mut shell = filled();
    for src in [
        "db.c.find().toArray()",
        "let a = db.c.find().toArray(); a.length",
        "let a = db.c.find().toArray().length",
        "let [a] = db.c.find().toArray()",
        "a.b = db.c.find().toArray()",
        "a += db.c.find().toArray()",
        "let a = db.c.find()?.toArray()",
    ] {
        assert_eq!(shell.prepare_mongosh(src, 0), None, "{src}");
        assert_eq!(shell.prepared_progress(), None, "{src}");
        assert!(shell.step_prepared(1).is_some(), "{src}");
    }
}
