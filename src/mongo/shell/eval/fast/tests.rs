use crate::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

/// Statements the fast path takes, and what each must give.
const FAST: &[&str] = &[
    "db.people.find({ email: 'ann@example.com' }).toArray()",
    "db.people.find({ email: \"bob@example.com\" }).toArray();",
    "  db . people . find ( { email : 'ann@example.com' } ) . toArray ( )  ",
    "db.people.find({\n  email: 'ann@example.com'\n}).toArray()",
    "db.people.find({ email: 'nobody' }).toArray()",
    "db.people.find({}).toArray()",
    "db.people.find().toArray()",
    "db.people.find({ age: 41 }).toArray()",
    "db.people.find({ age: { $gte: 30, $lt: 50 } }).toArray()",
    "db.people.find({ age: { $in: [30, 41, 0] } }).toArray()",
    "db.people.find({ 'address.city': 'Oslo' }).toArray()",
    "db.people.find({ address: { city: 'Oslo', zip: '0150' } }).toArray()",
    "db.people.find({ tags: ['a', 'b'] }).toArray()",
    "db.people.find({ vip: true, gone: null }).toArray()",
    "db.people.find({ vip: false }).toArray()",
    "db.people.find({ name: 'Åse Ødegård' }).toArray()",
    "db.people.find({ name: '' }).toArray()",
    "db.people.find({ name: \"it's\", 'say \"hi\"': 1 }).toArray()",
    "db.people.find({ _id: 2 }).toArray()",
    "db.people.find({ _id: 0 }).toArray()",
    "db.people.find({ $or: [{ age: 41 }, { email: 'bob@example.com' }] }).toArray()",
    "db.people.find({ email: 'ann@example.com', age: 41, }).toArray()",
    "db.people.find({ email: 'ann@example.com' })",
    "db.people.find({ age: { $gt: 1 } })",
    "db.people.findOne({ email: 'bob@example.com' })",
    "db.people.findOne({ email: 'nobody' })",
    "db.people.findOne()",
    "db.missing.find({ a: 1 }).toArray()",
    "db.missing.findOne({ a: 1 })",
    "db.people.find({ age: { $bogus: 1 } }).toArray()",
    "db.people.find({ $and: 5 }).toArray()",
    "db.people.findOne({ age: { $bogus: 1 } })",
    "db.series.find({ meta: 'a' }).toArray()",
    "db.getName.find({ a: 1 }).toArray()",
    "db.people.find({ 'a.b.c': { $exists: false } }).toArray()",
    "db.people.find({ if: 1, new: 2, $where: 3 }).toArray()",
    "db.people.find({ x: 123456789 }).toArray()",
];

/// Statements it leaves to the full path.
const FULL: &[&str] = &[
    "db.people.find({ email: 'ann@example.com' }).toArray() // note",
    "db.people.find({ email: 'ann\\u0040example.com' }).toArray()",
    "db.people.find({ age: 41.0 }).toArray()",
    "db.people.find({ age: -41 }).toArray()",
    "db.people.find({ age: 1234567890 }).toArray()",
    "db.people.find({ age: 041 }).toArray()",
    "db.people.find({ age: 41, age: 30 }).toArray()",
    "db.people.find({ email }).toArray()",
    "db.people.find({ _id: ObjectId('65a000000000000000000000') }).toArray()",
    "db.people.find({ email: 'ann@example.com' }, { email: 1 }).toArray()",
    "db.people.find({ email: 'ann@example.com' }).limit(1).toArray()",
    "db.people.find({ email: 'ann@example.com' }).toArray(); db.people.countDocuments()",
    "db.people.find({ a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } }).toArray()",
    "db.people.findOne({ email: 'ann@example.com' }).email",
    "db.people.find({ email: 'ann@example.com' }).toArray",
    "db.people.find({ __proto__: 1 }).toArray()",
    "db.people.insertOne({ a: 1 })",
    "db.people.find({ email: 'ann@example.com' }).toArray(",
    "db.people.find({ é: 1 }).toArray()",
    "db.people.find({ name: 'a\u{2028}b' }).toArray()",
    "db.people.find({ name: 'it’s' }).toArray()",
];

fn loaded() -> Shell {
    let mut shell = Shell::new();
    for stmt in [
        "db.people.insertMany([{ _id: 1, email: 'ann@example.com', age: 41, address: { city: 'Oslo', zip: '0150' }, tags: ['a', 'b'], vip: true }, { _id: 2, email: 'bob@example.com', age: 30, name: 'Åse Ødegård', vip: false }, { _id: 0, email: 'cy@example.com', age: 0, name: '', x: 123456789, if: 1, new: 2, $where: 3 }])",
        "db.people.createIndex({ email: 1 })",
        "db.people.createIndex({ age: -1, email: 1 })",
        "db.people.createIndex({ email: 1, age: 1 })",
        "db.createCollection('series', { timeseries: { timeField: 't', metaField: 'meta' } })",
        "db.series.insertOne({ t: ISODate('2024-01-01'), meta: 'a', v: 1 })",
    ] {
        let out = shell.eval_json(stmt, NOW);
        assert!(!out.contains("\"error\""), "{stmt}: {out}");
    }
    shell
}

/// The same statement through the full path: a comment is what the fast path refuses
/// first, and the lexer drops it.
fn full(stmt: &str) -> String {
    format!("/* full */ {stmt}")
}

#[test]
fn scans_exactly_the_shapes_it_knows() {
    for stmt in FAST {
        assert!(super::scan(stmt).is_some(), "{stmt}");
    }
    for stmt in FULL {
        assert!(super::scan(stmt).is_none(), "{stmt}");
    }
}

/// Each statement, through either path, in a shell of its own and in one shell that runs
/// them all in turn (so plan cache entries, `it` and the steps counted carry over): the
/// same replies, the same steps, and the same explain() and plan cache afterwards.
#[test]
fn answers_as_the_full_path_does() {
    let mut fast_all = loaded();
    let mut full_all = loaded();
    let after = [
        "it",
        "db.people.find({ email: 'ann@example.com' }).explain('executionStats').executionStats",
        "db.people.getPlanCache().list().length",
    ];
    for stmt in FAST {
        let (mut fast, mut slow) = (loaded(), loaded());
        for (a, b) in [(&mut fast, &mut slow), (&mut fast_all, &mut full_all)] {
            let got = a.eval_json(stmt, NOW);
            let want = b.eval_json(&full(stmt), NOW);
            assert_eq!(got, want, "{stmt}");
            assert_eq!(a.steps_used(), b.steps_used(), "steps of {stmt}");
            for next in after {
                assert_eq!(
                    a.eval_json(next, NOW),
                    b.eval_json(next, NOW),
                    "{next} after {stmt}"
                );
            }
        }
    }
}

#[test]
fn runs_what_it_scans() {
    for stmt in FAST {
        let mut shell = loaded();
        let session = shell.session_mut();
        session.set_context(NOW, true);
        // `getName` is a method of `db`, not a collection: the full path's to run.
        let ran = session.run_fast_json(stmt).is_some();
        assert_eq!(ran, !stmt.contains("getName"), "{stmt}");
    }
}

#[test]
fn finds_of_the_student_s_own_db_are_theirs() {
    for setup in ["let db = { people: 5 }", "var db = 7", "function db() {}"] {
        let mut a = loaded();
        let mut b = loaded();
        a.eval_json(setup, NOW);
        b.eval_json(setup, NOW);
        let stmt = "db.people.find({ age: 41 }).toArray()";
        assert_eq!(
            a.eval_json(stmt, NOW),
            b.eval_json(&full(stmt), NOW),
            "{setup}"
        );
        assert!(a.eval_json(stmt, NOW).contains("\"error\""), "{setup}");
    }
}

#[test]
fn a_low_step_limit_stops_both_paths_alike() {
    let stmt = "db.people.find({ age: { $in: [30, 41] } }).toArray()";
    for limit in 0..16 {
        let (mut a, mut b) = (loaded(), loaded());
        a.set_step_limit(limit);
        b.set_step_limit(limit);
        assert_eq!(
            a.eval_json(stmt, NOW),
            b.eval_json(&full(stmt), NOW),
            "limit {limit}"
        );
        assert_eq!(a.steps_used(), b.steps_used(), "limit {limit}");
    }
}

#[test]
fn the_console_s_text_mode_is_untouched() {
    let mut shell = loaded();
    let stmt = "db.people.find({ age: 41 })";
    let text = shell.eval_mongosh(stmt, NOW);
    assert_eq!(text, shell.eval_mongosh(&full(stmt), NOW));
    assert!(text.starts_with("[\n  {\n    _id: 1,"), "{text}");
}
