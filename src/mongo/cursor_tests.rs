//! A started find keeps the record ids of what its first batch does not hold and copies
//! each document when it is read (`shell::eval::rows`). Without writes in between, every
//! cursor prints what it printed when it copied all its documents at once; with writes,
//! later batches see the collection as a server's getMore does.

use super::shell::eval::rows::COPY_ALL;
use super::Shell;

pub(super) fn filled() -> Shell {
    let mut shell = Shell::new();
    let out = shell.eval_mongosh(
        "db.c.insertMany(Array.from({length: 250}, (_, n) => ({_id: n, n, s: 'x'.repeat(n % 7), \
         t: n % 3 ? 'coffee shop' : 'tea house', tags: n % 3 ? ['a', 'b'] : [], \
         sub: {d: new Date(n * 86400000), deep: {k: [n, {m: n}]}}})))",
        0,
    );
    assert!(out.contains("insertedIds"), "{out}");
    let out = shell.eval_mongosh(
        "db.c.createIndex({t: 'text'}); db.c.createIndex({n: -1})",
        0,
    );
    assert!(!out.contains("Error"), "{out}");
    shell
}

/// What each input of `inputs` prints, one after another in one shell.
pub(super) fn run(inputs: &[&str], copy_all: bool) -> Vec<String> {
    COPY_ALL.with(|c| c.set(copy_all));
    let mut shell = filled();
    let out = inputs.iter().map(|i| shell.eval_mongosh(i, 0)).collect();
    COPY_ALL.with(|c| c.set(false));
    out
}

fn its(find: &'static str, n: usize) -> Vec<&'static str> {
    let mut v = vec![find];
    v.extend(std::iter::repeat_n("it", n));
    v
}

#[test]
fn cursors_print_what_they_printed_when_they_copied_everything() {
    let scripts: Vec<Vec<&str>> = vec![
        its("db.c.find()", 14),
        its("db.c.find({n: {$gte: 17}})", 12),
        its("db.c.find().sort({n: -1})", 4),
        its("db.c.find().sort({s: 1, n: -1}).skip(7).limit(180)", 9),
        its("db.c.find({}, {n: 1, _id: 0})", 7),
        its("db.c.find({}, {sub: 0, tags: 0})", 7),
        its("db.c.find({tags: 'a'}, {'tags.$': 1})", 9),
        its("db.c.find({}, {tags: {$elemMatch: {$eq: 'b'}}, n: 1})", 7),
        its("db.c.find({tags: 'a'}).hint({$natural: -1})", 9),
        its("db.c.find({n: {$lt: 240}}).hint('n_-1')", 9),
        its(
            "db.c.find({$text: {$search: 'coffee'}}, {score: {$meta: 'textScore'}, n: 1})\
             .sort({score: {$meta: 'textScore'}, n: 1})",
            9,
        ),
        its("db.c.find().map(d => d.n * 2)", 12),
        vec![
            "c = db.c.find({n: {$gt: 3}}); let out = []; while (c.hasNext()) out.push(c.next().n); \
             out.length + ':' + out[200] + ':' + c.hasNext() + ':' + c.isExhausted()",
            "c = db.c.find(); for (let i = 0; i < 150; i++) c.next(); c.hasNext() + ' ' + c.next().n",
            "c = db.c.find(); c.tryNext(); [c][0].length + ' ' + [c][0][120].n",
            "let t = 0; db.c.find({n: {$mod: [2, 0]}}).forEach(d => { t += d.n }); t",
            "let k = 0; db.c.find().forEach(d => { k++; return d.n < 150 }); k",
            "let s = 0; for (const d of db.c.find().sort({n: -1})) { if (d.n < 90) break; s += d.n } s",
            "db.c.find().itcount() + ' ' + db.c.find().skip(10).limit(200).itcount()",
            "db.c.find().map(d => d.n).itcount()",
            "db.c.find().skip(5).limit(200).count() + ' ' + db.c.find().skip(5).limit(200).count(true)",
            "db.c.find({n: {$gt: 5}}).size()",
            "let a = db.c.find().sort({n: -1}).toArray(); a.length + ' ' + a[200].n",
            "db.c.find({n: {$gt: 5}}).explain('executionStats').executionStats.nReturned",
            "c = db.c.find(); c.next(); c.close(); c.hasNext()",
            "db.c.find({n: {$gte: 100}}).toArray()",
        ],
    ];
    for script in scripts {
        let lazy = run(&script, false);
        let copied = run(&script, true);
        for ((input, l), c) in script.iter().zip(&lazy).zip(&copied) {
            assert_eq!(l, c, "{input} (after {script:?})");
            assert!(!l.contains("Error"), "{input}: {l}");
        }
        assert!(lazy.iter().all(|o| !o.is_empty()), "{script:?}: {lazy:?}");
    }
}

/// The `_id`s an output prints, in order.
fn ids(out: &str) -> Vec<i64> {
    out.match_indices("_id: ")
        .filter_map(|(i, m)| {
            let rest = &out[i + m.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

/// Runs `find`, then `between` once the first 20 are printed, then `it` until the cursor
/// is done; the `_id`s printed.
fn printed_ids(find: &str, between: &str) -> Vec<i64> {
    let mut shell = filled();
    let mut seen = ids(&shell.eval_mongosh(find, 0));
    assert_eq!(seen.len(), 20, "{find}");
    let out = shell.eval_mongosh(between, 0);
    assert!(!out.contains("Error"), "{between}: {out}");
    for _ in 0..20 {
        let out = shell.eval_mongosh("it", 0);
        if out.trim() == "no cursor" {
            break;
        }
        seen.extend(ids(&out));
    }
    seen
}

// The server returns the first 101 documents with the find; later ones come by getMore,
// which reads the collection as it is then (MongoDB manual, "Cursor Batches" and
// "Cursor Isolation": a document changed after the find may be returned in its new state).
#[test]
fn later_batches_see_the_collection_as_it_is_then() {
    let all: Vec<i64> = (0..250).collect();
    // Nothing between: every document once.
    assert_eq!(printed_ids("db.c.find()", "1"), all);
    // Deleted before their batch was fetched: not returned; a deleted document of the
    // first batch was already sent, so it still prints.
    let seen = printed_ids(
        "db.c.find()",
        "db.c.deleteMany({_id: {$in: [50, 130, 249]}})",
    );
    let expected: Vec<i64> = all
        .iter()
        .copied()
        .filter(|&i| i != 130 && i != 249)
        .collect();
    assert_eq!(seen, expected);
    // Updated: a later document prints as it is now, one of the first batch as it was.
    let mut shell = filled();
    shell.eval_mongosh("db.c.find()", 0);
    shell.eval_mongosh(
        "db.c.updateMany({_id: {$in: [60, 160]}}, {$set: {s: 'changed'}})",
        0,
    );
    let mut rest = String::new();
    for _ in 0..12 {
        rest.push_str(&shell.eval_mongosh("it", 0));
    }
    assert_eq!(rest.matches("s: 'changed'").count(), 1, "{rest}");
    assert!(
        rest.contains("_id: 160,\n    n: 160,\n    s: 'changed'"),
        "{rest}"
    );
    // Updated so that the filter no longer matches: the getMore's filter leaves it out.
    let seen = printed_ids(
        "db.c.find({t: {$exists: true}})",
        "db.c.updateMany({_id: {$in: [20, 170]}}, {$unset: {t: 1}})",
    );
    let expected: Vec<i64> = all.iter().copied().filter(|&i| i != 170).collect();
    assert_eq!(seen, expected);
    // Sorted: the order stays that of the sort.
    let seen = printed_ids("db.c.find().sort({n: -1})", "db.c.deleteOne({_id: 3})");
    let expected: Vec<i64> = (0..250).rev().filter(|&i| i != 3).collect();
    assert_eq!(seen, expected);
    // The collection dropped and made again: the cursor shows nothing of the new one.
    let seen = printed_ids(
        "db.c.find()",
        "db.c.drop(); db.c.insertMany(Array.from({length: 250}, (_, n) => ({_id: 1000 + n})))",
    );
    assert_eq!(seen, (0..101).collect::<Vec<_>>());
}

#[test]
fn walking_a_cursor_after_writes_skips_what_is_gone() {
    let mut shell = filled();
    let out = shell.eval_mongosh(
        "c = db.c.find(); c.next(); db.c.deleteMany({n: {$gte: 200}}); \
         db.c.updateOne({_id: 150}, {$set: {n: 'now a string'}}); c.itcount()",
        0,
    );
    assert_eq!(out, "199\n");
    let out = shell.eval_mongosh(
        "c = db.c.find({n: {$type: 'number'}}); c.next(); \
         db.c.updateOne({_id: 190}, {$set: {n: 'text'}}); \
         let k = 0; while (c.hasNext()) { c.next(); k++ } k",
        0,
    );
    assert_eq!(out, "197\n");
    let out = shell.eval_mongosh(
        "c = db.c.find(); c.next(); db.c.deleteMany({_id: {$gte: 101}}); \
         c.hasNext() + ' ' + c.itcount() + ' ' + c.hasNext()",
        0,
    );
    assert_eq!(out, "true 100 false\n");
    let out = shell.eval_mongosh(
        "c = db.c.find(); for (let i = 0; i < 101; i++) c.next(); db.c.deleteMany({}); \
         c.hasNext() + ' ' + c.next() + ' ' + c.isExhausted()",
        0,
    );
    assert_eq!(out, "false null true\n");
    // A loop over a cursor takes each document as it reaches it, after what the loop did.
    let mut shell = filled();
    let out = shell.eval_mongosh(
        "let k = 0; for (const d of db.c.find()) { if (d._id === 0) db.c.deleteOne({_id: 200}); \
         k++ } k",
        0,
    );
    assert_eq!(out, "249\n");
}
