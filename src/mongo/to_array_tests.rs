//! A statement that is only `cursor.toArray()` prints what the array built in full prints,
//! although it copies only the documents shown.

use super::Shell;

/// A collection of 250 documents of a few shapes, with a text index.
pub(super) fn filled() -> Shell {
    let mut shell = Shell::new();
    let out = shell.eval_mongosh(
        "db.c.insertMany(Array.from({length: 250}, (_, n) => ({_id: n, n, s: 'x'.repeat(n % 7), \
         tags: n % 3 ? ['a', 'b'] : [], sub: {d: new Date(n * 86400000), deep: {k: [n, {m: n}]}}})))",
        0,
    );
    assert!(out.contains("insertedIds"), "{out}");
    let out = shell.eval_mongosh("db.c.createIndex({s: 'text'})", 0);
    assert_eq!(out, "s_text\n");
    shell
}

#[test]
fn printing_to_array_matches_the_whole_array_printed() {
    let mut shell = filled();
    let cursors = [
        "db.c.find()",
        "db.c.find({n: {$lt: 100}})",
        "db.c.find({n: {$lt: 101}})",
        "db.c.find({n: {$lt: 102}})",
        "db.c.find({n: {$gte: 5}}).sort({n: -1}).skip(3).limit(150)",
        "db.c.find({}, {n: 1, _id: 0})",
        "db.c.find().map(d => d.n)",
        "db.c.find({n: 7})",
        "db.none.find()",
        "db.c.find({tags: 'a'}).hint({$natural: -1})",
        "db.c.find({}, {sub: 0})",
        "db.c.find({tags: 'a'}, {'tags.$': 1, n: 1})",
        "db.c.find({}, {tags: {$slice: 1}, 'sub.deep': 1})",
        "db.c.find({$text: {$search: 'x'}}, {score: {$meta: 'textScore'}, n: 1}).sort({n: 1})",
        "db.c.find({}, {m: {$multiply: ['$n', 2]}})",
    ];
    for cursor in cursors {
        let direct = shell.eval_mongosh(&format!("{cursor}.toArray()"), 0);
        let whole = shell.eval_mongosh(&format!("let a = {cursor}.toArray()\na"), 0);
        assert_eq!(direct, whole, "{cursor}");
        assert!(!direct.contains("Error"), "{cursor}: {direct}");
    }
    let direct = shell.eval_mongosh("db.c.find().toArray()", 0);
    assert!(direct.ends_with("  ... 150 more items\n]\n"), "{direct}");
}

#[test]
fn errors_are_those_of_the_whole_array() {
    let mut shell = filled();
    for cursor in [
        "db.c.find({$bad: 1})",
        "db.c.find().sort({n: 2})",
        "db.c.find({}, {a: 1, b: 0})",
        "db.c.find({}, {score: {$meta: 'textScore'}})",
    ] {
        let direct = shell.eval_mongosh(&format!("{cursor}.toArray()"), 0);
        let whole = shell.eval_mongosh(&format!("{cursor}.toArray().slice()"), 0);
        let first = |s: &str| s.lines().next().unwrap_or("").to_string();
        assert_eq!(first(&direct), first(&whole), "{cursor}");
        assert!(direct.contains("MongoServerError"), "{cursor}: {direct}");
    }
}

#[test]
fn the_array_and_the_cursor_behave_as_before_afterwards() {
    let mut shell = filled();
    let out = shell.eval_mongosh("c = db.c.find()\nc.toArray()\nc.hasNext()\nc.toArray()", 0);
    assert!(out.ends_with("]\nfalse\n[]\n"), "{out}");
    let out = shell.eval_mongosh(
        "let a = db.c.find().toArray(); a.length\na[249].sub.deep.k[1].m",
        0,
    );
    assert_eq!(out, "250\n249\n");
    // Only the statement a line prints is read so.
    let out = shell.eval_mongosh("db.c.find().toArray(); db.c.countDocuments()", 0);
    assert_eq!(out, "250\n");
    assert_eq!(
        shell.eval_json("db.c.find({n: {$lt: 2}}, {_id: 1}).toArray()", 0),
        "[{\"_id\": 0}, {\"_id\": 1}]\n"
    );
}
