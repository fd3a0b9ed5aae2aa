//! `prepare_mongosh` then `run_prepared` print and change what one `eval_mongosh` does.

use super::Shell;

#[test]
fn two_calls_print_and_change_what_one_does() {
    let big: Vec<String> = (0..2_000)
        .map(|i| format!("{{_id: {i}, s: 'x'}}"))
        .collect();
    let inputs = [
        "db.c.insertOne({_id: 1, a: [1, 2]})".to_string(),
        format!("db.big.insertMany([{}])", big.join(", ")),
        "print('before'); db.c.find()\ndb.c.countDocuments()".to_string(),
        // A syntax error anywhere: nothing runs.
        "db.c.insertOne({_id: 2})\ndb.c.find({".to_string(),
        // A runtime error stops its line; later lines run.
        "db.c.insertOne({_id: 1}); db.c.insertOne({_id: 3})\ndb.c.insertOne({_id: 4})".to_string(),
        "let n = db.c.countDocuments()".to_string(),
        "n + 1".to_string(),
        "use other".to_string(),
        "db.getName()".to_string(),
        "for (;;) {}".to_string(),
        String::new(),
    ];
    let mut once = Shell::new();
    let mut twice = Shell::new();
    once.set_step_limit(100_000);
    twice.set_step_limit(100_000);
    for (i, src) in inputs.iter().enumerate() {
        let now = 1_000 * i as u64;
        let expected = once.eval_mongosh(src, now);
        let got = match twice.prepare_mongosh(src, now) {
            Some(error) => error,
            None => twice.run_prepared(now),
        };
        assert_eq!(got, expected, "{src}");
        // Nothing stays kept after the run.
        assert_eq!(twice.run_prepared(now), "");
    }
    let check = "use test\ndb.c.find()\ndb.big.countDocuments()";
    assert_eq!(twice.eval_mongosh(check, 0), once.eval_mongosh(check, 0));
}

/// `src` through `prepare_mongosh` and `step_prepared` with `budget` a step.
fn stepped(shell: &mut Shell, src: &str, now: u64, budget: usize) -> String {
    if let Some(error) = shell.prepare_mongosh(src, now) {
        return error;
    }
    loop {
        if let Some(out) = shell.step_prepared(budget) {
            return out;
        }
    }
}

fn docs(n: usize, doc: impl Fn(usize) -> String) -> String {
    (0..n).map(doc).collect::<Vec<_>>().join(",\n  ")
}

/// Fails with where `got` first differs from `want` (the texts may be megabytes).
fn same(got: &str, want: &str, what: &str) {
    if got == want {
        return;
    }
    let at = got
        .bytes()
        .zip(want.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let around = |s: &str| {
        s.get(at.saturating_sub(200)..(at + 200).min(s.len()))
            .unwrap_or("")
            .to_string()
    };
    panic!(
        "{what}: differs at byte {at}:\n got: {}\nwant: {}",
        around(got),
        around(want)
    );
}

/// Everything the store holds, but the stamps and incarnations of its collections (unique
/// over the process).
fn state(shell: &Shell) -> String {
    let mut text = format!("{:?}", shell.store());
    for field in ["stamp: ", "incarnation: "] {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(field) {
            out.push_str(&rest[..at + field.len()]);
            rest = rest[at + field.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        }
        text = out + rest;
    }
    text
}

/// Runs `inputs` in one shell with `eval_mongosh` and in others in steps of a few sizes,
/// and holds them to the same printed text, steps taken, and state after each input.
fn same_in_steps(setup: impl Fn(&mut Shell), inputs: &[String]) {
    for budget in [1, 3, 64, usize::MAX] {
        let mut steps = Shell::new();
        setup(&mut steps);
        let mut reference = Shell::new();
        setup(&mut reference);
        for (i, src) in inputs.iter().enumerate() {
            let now = 1_700_000_000_000 + 1_000 * i as u64;
            let expected = reference.eval_mongosh(src, now);
            let got = stepped(&mut steps, src, now, budget);
            same(&got, &expected, &format!("budget {budget}: {src:.300}"));
            assert_eq!(
                steps.steps_used(),
                reference.steps_used(),
                "steps of {src:.300}"
            );
            assert_eq!(steps.prepared_progress(), None);
            same(
                &state(&steps),
                &state(&reference),
                &format!("state after {src:.300}"),
            );
            assert_eq!(steps.session_state(), reference.session_state());
        }
    }
}

#[test]
fn a_giant_insert_many_in_steps_prints_and_changes_what_one_call_does() {
    let plain =
        |i| format!("{{_id: {i}, s: 'x{i}', n: -{i}, f: 1.5, t: true, z: null, a: [1, {{b: 2}}]}}");
    let inputs = [
        format!("db.c.insertMany([\n  {}\n])", docs(300, plain)),
        // Generated ids, and an options document.
        format!(
            "db.c.insertMany([{}], {{ordered: true}});",
            docs(150, |i| format!("{{n: {i}}}"))
        ),
        // Elements that are expressions, not literals.
        format!(
            "db.getCollection('other one').insertMany([{}])",
            docs(120, |i| {
                format!("{{_id: {i} + 1000, d: new Date({i}), o: ObjectId(), l: NumberLong({i}), u: undefined, s: `t${{{i}}}`}}")
            })
        ),
        // Ordered and unordered duplicate keys.
        format!(
            "db.c.insertMany([{}, {{_id: 5}}, {{_id: 5000}}])",
            docs(200, |i| format!("{{_id: {}}}", 4000 + i))
        ),
        format!(
            "db.c.insertMany([{}, {{_id: 5}}, {{_id: 6}}, {{_id: 6000}}], {{ordered: false}})",
            docs(200, |i| format!("{{_id: {}}}", 5000 + i))
        ),
        // A document that is not one: ids were given to those before it.
        "db.d.insertMany([{a: 1}, {b: 2}, 5, {c: 3}])".into(),
        "db.d.insertMany([{a: 1}, , {c: 3}])".into(),
        "db.d.insertMany([{a: 1}, {c: 3},])".into(),
        "db.d.insertMany([])".into(),
        // What print() writes comes first.
        "db.d.insertMany([{a: print('one')}, {b: print('two')}])".into(),
        // Not the call alone: run whole.
        "db.d.insertMany([{_id: 'w'}]).acknowledged".into(),
        "db.d.insertMany([{_id: 'x'}]); db.d.countDocuments()".into(),
        "db.d.insertMany([...[{_id: 'y'}], {_id: 'z'}])".into(),
        "db.d.insertMany([{_id: 'v'}])\ndb.d.countDocuments()".into(),
        "db.d.insertMany.call".into(),
        "db.d.find().toArray()".into(),
    ];
    same_in_steps(|_| {}, &inputs);
}

/// A giant insert that fails after inserting many documents writes its
/// `MongoBulkWriteError` a batch of inserted ids a step, as it writes a result's ids: the
/// same text as one call, over many print steps.
#[test]
fn a_giant_insert_many_failing_late_prints_its_error_in_steps() {
    let inputs = [
        // Ordered: the last document is a duplicate.
        format!(
            "db.c.insertMany([{}, {{_id: 3}}])",
            docs(400, |i| format!("{{_id: {i}}}"))
        ),
        // Unordered: ids with gaps, and many write errors.
        format!(
            "db.u.insertMany([{}], {{ordered: false}})",
            docs(600, |i| format!("{{_id: {}}}", i % 450))
        ),
        // Ids of other kinds, with print() output first.
        format!(
            "db.k.insertMany([{}, {{_id: 's1'}}, {{a: print('x')}}])",
            docs(300, |i| format!("{{_id: 's{i}'}}"))
        ),
        format!(
            "db.o.insertMany([{}, {{_id: {{a: 7, b: [7, 'x\\n']}}}}])",
            docs(250, |i| format!("{{_id: {{a: {i}, b: [{i}, 'x\\n']}}}}"))
        ),
    ];
    for src in &inputs {
        let expected = Shell::new().eval_mongosh(src, 0);
        assert!(expected.contains("MongoBulkWriteError"), "{expected:.300}");
        let mut shell = Shell::new();
        assert_eq!(shell.prepare_mongosh(src, 0), None);
        let mut printing = 0;
        let got = loop {
            if let Some(out) = shell.step_prepared(40) {
                break out;
            }
            if shell
                .prepared_progress()
                .is_some_and(|p| p.stage == "print")
            {
                printing += 1;
            }
        };
        same(&got, &expected, &format!("{src:.100}"));
        assert!(printing >= 5, "{printing} print steps for {src:.100}");
    }
}

#[test]
fn syntax_errors_anywhere_in_a_giant_statement_are_the_one_call_errors_and_nothing_runs() {
    let many = docs(50, |i| format!("{{_id: {i}}}"));
    let inputs = [
        // Steps taken by the input before a syntax error stay its count.
        "for (let i = 0; i < 10; i++) {}".into(),
        format!("db.c.insertMany([{many}, {{a: 1 b: 2}}, {many}])"),
        // A lexing error later in the text wins over a parse error before it.
        format!("db.c.insertMany([{many}, {{a: 1 b: 2}}, {many}, 'open\n])"),
        format!("db.c.insertMany([{many}, {{a: 1}}}}, {many}])"),
        format!("db.c.insertMany([{many}, {{a: (1]}}, {many}])"),
        format!("db.c.insertMany([{many}, {{a: 1}} {{b: 2}}])"),
        format!("db.c.insertMany([{many}, {{a: 1}})"),
        format!("db.c.insertMany([{many}, {{a: 1}}], {{ordered: false)"),
        format!("db.c.insertMany([{many}, {{a: 1}}]"),
        format!("db.c.insertMany([{many}, {{a: 1}},"),
        format!("db.c.insertMany([{many}, {{a: "),
        format!("db.c.insertMany([{many}]) db.c.find()"),
        format!("db.c.insertMany([{many}, {{a: /re[/}}])"),
        "db.c.countDocuments()".into(),
    ];
    same_in_steps(|_| {}, &inputs);
}

#[test]
fn validation_memory_and_step_limits_fail_in_steps_as_in_one_call() {
    let setup = |s: &mut Shell| {
        s.set_memory_limit(40_000);
        s.eval_mongosh(
            "db.createCollection('v', {validator: {$jsonSchema: {required: ['n']}}})",
            0,
        );
    };
    let inputs = [
        format!(
            "db.v.insertMany([{}, {{m: 1}}, {{n: 1}}])",
            docs(120, |i| format!("{{n: {i}}}"))
        ),
        format!(
            "db.v.insertMany([{}, {{m: 1}}, {{n: 1}}], {{ordered: false}})",
            docs(120, |i| format!("{{n: {i}}}"))
        ),
        format!(
            "db.v.insertMany([{}, {{m: 1}}], {{bypassDocumentValidation: true}})",
            docs(120, |i| format!("{{n: {i}}}"))
        ),
        format!(
            "db.big.insertMany([{}])",
            docs(400, |i| format!("{{n: {i}, s: '{}'}}", "x".repeat(100)))
        ),
        "db.v.countDocuments()".into(),
        "db.big.countDocuments()".into(),
    ];
    same_in_steps(setup, &inputs);
    let limited = |s: &mut Shell| s.set_step_limit(300);
    let inputs = [
        format!(
            "db.s.insertMany([{}])",
            docs(200, |i| format!("{{n: {i} + 1}}"))
        ),
        format!(
            "db.s.insertMany([{}])",
            docs(200, |i| format!("{{n: {i}}}"))
        ),
        "db.s.countDocuments()".into(),
    ];
    same_in_steps(limited, &inputs);
}

#[test]
fn nesting_at_the_literal_and_parser_limits_reads_as_in_one_call() {
    let nested = |levels: usize| format!("{}1{}", "{a: ".repeat(levels), "}".repeat(levels));
    let mut inputs = Vec::new();
    for levels in [31, 32, 33, 34, 99, 100, 101, 115, 116, 117, 118, 119] {
        inputs.push(format!(
            "db.n.insertMany([{{_id: {levels}}}, {}])",
            nested(levels)
        ));
        inputs.push(format!(
            "db.n.insertMany([{{_id: -{levels}}}, {}, {{x: 1 + 1}}])",
            nested(levels)
        ));
    }
    inputs.push("db.n.countDocuments()".into());
    same_in_steps(|_| {}, &inputs);
}

#[test]
fn a_stepped_statement_reports_where_it_is_and_stops_keeping_what_it_inserted() {
    let mut shell = Shell::new();
    let src = format!(
        "db.c.insertMany([{}])",
        docs(1_000, |i| format!("{{_id: {i}}}"))
    );
    assert_eq!(shell.prepare_mongosh(&src, 0), None);
    let mut stages = Vec::new();
    let mut last = None;
    while last.is_none_or(|p: super::Progress| p.stage != "insert" || p.done < 400) {
        assert_eq!(shell.step_prepared(100), None);
        let p = shell.prepared_progress().expect("running");
        if stages.last() != Some(&p.stage) {
            stages.push(p.stage);
        }
        last = Some(p);
    }
    assert_eq!(stages, ["read", "evaluate", "prepare", "insert"]);
    let stopped = shell.stop_prepared().expect("was running");
    assert_eq!((stopped.stage, stopped.total), ("insert", 1_000));
    assert!((400..500).contains(&stopped.done), "{stopped:?}");
    assert_eq!(shell.prepared_progress(), None);
    assert_eq!(shell.step_prepared(100), Some(String::new()));
    let count = shell.eval_mongosh("db.c.countDocuments()", 0);
    assert_eq!(count, format!("{}\n", stopped.done));
}

#[test]
fn a_giant_call_that_is_not_the_shells_own_insert_many_runs_as_in_one_call() {
    let many = || docs(150, |i| format!("{{_id: {i}}}"));
    let inputs = [
        "let s = db.getMongo().startSession(); s.startTransaction(); s.getDatabase('test').t.insertOne({_id: 0})".to_string(),
        // A write the open transaction's locks hold up.
        format!("db.t.insertMany([{}])", many()),
        "db.t.countDocuments()".into(),
        "db = db.getSiblingDB('other')".into(),
        format!("db.t.insertMany([{}])", many()),
        "db.t.countDocuments()".into(),
        "db = {t: {insertMany: (docs) => docs.length}}".into(),
        format!("db.t.insertMany([{}])", many()),
    ];
    same_in_steps(|_| {}, &inputs);
}

#[test]
fn inputs_run_between_the_steps_change_nothing_the_statement_prints_or_counts() {
    let src = format!(
        "db.c.insertMany([{}])",
        docs(150, |i| format!("{{n: {i} + 1, p: print('doc {i}')}}"))
    );
    let mut reference = Shell::new();
    let expected = reference.eval_mongosh(&src, 0);
    let mut shell = Shell::new();
    assert_eq!(shell.prepare_mongosh(&src, 0), None);
    let got = loop {
        if let Some(out) = shell.step_prepared(7) {
            break out;
        }
        // A lesson's check and a JSON read, as the page makes between steps.
        shell.eval_json("db.c.countDocuments()", 5);
        let _ = super::check::check(&mut shell, "db.c.findOne()", 5);
    };
    same(&got, &expected, "printed");
    assert_eq!(shell.steps_used(), reference.steps_used());
    same(&state(&shell), &state(&reference), "state");
}

#[test]
fn generated_statements_of_good_and_broken_pieces_read_and_run_in_steps_as_in_one_call() {
    const PIECES: &[&str] = &[
        "{a: 1}",
        "{_id: 1}",
        "{_id: 2, b: 'x'}",
        "[1, 2]",
        "{o: ObjectId()}",
        "{n: 1 + 2}",
        "{a: (1}",
        "}",
        ")",
        "]",
        "'open",
        "{t: `t${1}`}",
        "{r: /re[/]/i}",
        ",",
        " ",
        "\n",
        "...[{c: 1}]",
        "undefined",
        "-0",
        "-5",
        "{a: {b: {c: [1, {d: 2}]}}}",
        "x => 1",
        "{f: function () { return 1 }}",
        "{d: new Date(5)}",
        "{a: 1,}",
        "// c\n",
        "/* c */",
        "{'k y': null, 2: true}",
        "{a: print('p')}",
        "{a: 1 b: 2}",
        "5",
        "'s'",
        "{$x: 1}",
    ];
    const SUFFIXES: &[&str] = &[
        "])",
        "], {ordered: false})",
        "])\n",
        "]);",
        "]) db",
        "]",
        "])).x",
        "]).acknowledged",
        "], {ordered: false}",
        "\n])",
        "]) // done",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut inputs = Vec::new();
    for _ in 0..400 {
        let mut src = String::from(if next(4) == 0 {
            "db.getCollection('g').insertMany(["
        } else {
            "db.c.insertMany(["
        });
        for _ in 0..next(8) {
            src.push_str(PIECES[next(PIECES.len())]);
            if next(3) > 0 {
                src.push_str(", ");
            }
        }
        src.push_str(SUFFIXES[next(SUFFIXES.len())]);
        inputs.push(src);
    }
    inputs.push("db.c.find().toArray()".into());
    inputs.push("db.g.find().toArray()".into());
    same_in_steps(|_| {}, &inputs);
}
