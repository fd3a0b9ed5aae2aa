//! A printed aggregation of streaming stages computes its first batch and then one batch
//! at a time (`shell::eval::pipeline_rows`). Without writes in between and without an
//! error past the first batch, every script prints what it printed when the pipeline ran
//! whole first (`COPY_ALL` makes it do so).

use super::cursor_tests::{filled, run};
use super::shell::eval::rows::COPY_ALL;
use super::Shell;

/// The pipeline, then `it` until the cursor is done (and once more).
fn its(aggregate: &'static str) -> Vec<&'static str> {
    let mut v = vec![aggregate];
    v.extend(std::iter::repeat_n("it", 14));
    v
}

#[test]
fn batched_pipelines_print_what_the_whole_run_printed() {
    let pipelines = [
        "db.c.aggregate([{$match: {}}])",
        "db.c.aggregate([])",
        // Served by the index on n: index order, descending.
        "db.c.aggregate([{$match: {n: {$gte: 17}}}])",
        "db.c.aggregate([{$match: {n: {$lt: 101}}}, {$project: {n: 1}}])",
        "db.c.aggregate([{$match: {t: 'tea house'}}, {$set: {m: {$multiply: ['$n', 2]}}}])",
        "db.c.aggregate([{$project: {n: 1, _id: 0, d: '$sub.d', k: {$size: '$tags'}}}])",
        "db.c.aggregate([{$project: {sub: 0, tags: 0}}])",
        "db.c.aggregate([{$addFields: {'sub.deep.z': {$concat: ['$s', '-', '$t']}}}, {$unset: ['tags', 'sub.d']}])",
        "db.c.aggregate([{$replaceRoot: {newRoot: '$sub.deep'}}])",
        "db.c.aggregate([{$replaceWith: {a: '$n', b: '$$NOW'}}, {$match: {a: {$mod: [2, 1]}}}])",
        "db.c.aggregate([{$match: {$expr: {$gt: ['$n', 30]}}}, {$unset: 'sub'}])",
        "db.c.aggregate([{$skip: 95}, {$limit: 10}])",
        "db.c.aggregate([{$limit: 101}])",
        "db.c.aggregate([{$limit: 102}, {$project: {n: 1}}])",
        "db.c.aggregate([{$match: {n: {$gte: 149}}}, {$project: {n: 1}}])",
        "db.c.aggregate([{$match: {s: 'xx'}}, {$skip: 3}, {$limit: 25}, {$skip: 2}])",
        "db.c.aggregate([{$limit: 160}, {$skip: 20}, {$limit: 121}, {$unset: 'sub'}])",
        "db.c.aggregate([{$skip: 249}])",
        "db.c.aggregate([{$skip: 250}])",
        "db.c.aggregate([{$skip: 1000}, {$limit: 1}])",
        "db.c.aggregate({$match: {n: {$lt: 200}}}, {$limit: 130}, {$project: {s: 1}})",
        "db.c.aggregate([{$match: {}}], {allowDiskUse: true, comment: 'x'})",
        "db.nothing.aggregate([{$match: {}}])",
        "db.c.aggregate([{$match: {}}]).map(d => d.n * 2)",
        // Compile-time errors: the same error before anything is read.
        "db.c.aggregate([{$limit: -1}])",
        "db.c.aggregate([{$project: {}}])",
        "db.c.aggregate([{$match: {n: {$bad: 1}}}])",
        "db.c.aggregate([{$skip: 2}, {$match: {$text: {$search: 'tea'}}}])",
        // An error on a document of the first batch: the aggregate fails, as before.
        "db.c.aggregate([{$addFields: {x: {$divide: [1, {$subtract: ['$n', 7]}]}}}])",
        "db.c.aggregate([{$replaceWith: '$s'}])",
    ];
    let walks: Vec<&str> = vec![
        "c = db.c.aggregate([{$match: {n: {$gt: 3}}}]); let out = []; while (c.hasNext()) \
         out.push(c.next().n); out.length + ':' + out[200] + ':' + c.hasNext() + ':' + c.isExhausted()",
        "c = db.c.aggregate([{$project: {n: 1}}]); for (let i = 0; i < 150; i++) c.next(); \
         c.hasNext() + ' ' + c.next().n",
        "c = db.c.aggregate([{$set: {q: 1}}]); c.tryNext(); [c][0].length + ' ' + [c][0][120].n",
        "let t = 0; db.c.aggregate([{$match: {n: {$mod: [2, 0]}}}]).forEach(d => { t += d.n }); t",
        "let k = 0; db.c.aggregate([]).forEach(d => { k++; return d.n < 150 }); k",
        "let s = 0; for (const d of db.c.aggregate([{$limit: 240}])) { if (d.n > 180) break; s += d.n } s",
        "db.c.aggregate([]).itcount() + ' ' + db.c.aggregate([{$skip: 10}, {$limit: 200}]).itcount()",
        "c = db.c.aggregate([]); c.next(); c.itcount()",
        "let a = db.c.aggregate([{$project: {n: 1}}]).toArray(); a.length + ' ' + a[200].n",
        "db.c.aggregate([{$match: {n: {$gte: 230}}}, {$project: {n: 1}}]).toArray()",
        "c = db.c.aggregate([]); for (let i = 0; i < 101; i++) c.next(); c.hasNext() + ' ' + c.next().n",
        "c = db.c.aggregate([{$limit: 101}]); for (let i = 0; i < 101; i++) c.next(); \
         c.hasNext() + ' ' + c.next() + ' ' + c.isExhausted()",
        "c = db.c.aggregate([]); c.next(); c.close(); c.hasNext()",
    ];
    let mut scripts: Vec<Vec<&str>> = pipelines.iter().map(|p| its(p)).collect();
    scripts.push(walks);
    for script in scripts {
        let batched = run(&script, false);
        let whole = run(&script, true);
        for ((input, b), w) in script.iter().zip(&batched).zip(&whole) {
            assert_eq!(b, w, "{input} (after {script:?})");
        }
    }
}

#[test]
fn only_streaming_pipelines_run_in_batches() {
    // What the cursor holds after printing 20: the rest of a batch of 101, or of the whole
    // result.
    let left = |pipeline: &str| {
        let mut shell = filled();
        shell.eval_mongosh(&format!("c = {pipeline}"), 0);
        shell.eval_mongosh("c.objsLeftInBatch()", 0)
    };
    for batched in [
        "db.c.aggregate([{$match: {}}])",
        "db.c.aggregate([{$match: {n: {$gte: 0}}}, {$set: {a: 1}}, {$skip: 1}, {$limit: 200}])",
        "db.c.aggregate([{$project: {n: 1}}, {$unset: 'n'}, {$replaceWith: '$$ROOT'}])",
    ] {
        assert_eq!(left(batched), "81\n", "{batched}");
    }
    for whole in [
        "db.c.aggregate([{$sort: {n: 1}}])",
        "db.c.aggregate([{$match: {}}, {$group: {_id: '$n'}}])",
        "db.c.aggregate([{$unwind: '$n'}])",
        "db.c.aggregate([{$match: {}}], {flow: false})",
    ] {
        assert_eq!(left(whole), "230\n", "{whole}");
    }
}

/// The number of documents printed by an output.
fn printed(out: &str) -> usize {
    out.matches("_id: ").count()
}

// The server computes an aggregation's first batch (101 documents) with the aggregate
// command and the rest by getMore, which raises an error met on a later document then,
// prefixed "Executor error during getMore"; what was printed before stays printed.
#[test]
fn an_error_past_the_first_batch_comes_with_the_batch_that_meets_it() {
    let mut shell = Shell::new();
    shell.eval_mongosh(
        "db.big.insertMany(Array.from({length: 6000}, (_, n) => ({_id: n, d: n === 4999 ? 0 : 1})))",
        0,
    );
    let pipeline = "db.big.aggregate([{$project: {q: {$divide: [10, '$d']}}}])";
    let out = shell.eval_mongosh(pipeline, 0);
    assert_eq!(printed(&out), 20, "{out}");
    assert!(out.contains("Type \"it\" for more"), "{out}");
    let mut seen = 20;
    let err = loop {
        let out = shell.eval_mongosh("it", 0);
        if out.contains("Error") {
            break out;
        }
        assert_eq!(printed(&out), 20, "{out}");
        seen += 20;
    };
    // 4999 documents come out; the batch of 101 holding the 5000th fails whole.
    assert_eq!(seen, 4999 / 101 * 101 / 20 * 20, "{err}");
    assert_eq!(
        err.trim(),
        "MongoServerError[BadValue]: Executor error during getMore :: caused by :: \
         can't $divide by zero"
    );
    assert_eq!(shell.eval_mongosh("it", 0), "no cursor\n");
    // The same pipeline run whole fails at once, as it did before batches.
    COPY_ALL.with(|c| c.set(true));
    let whole = shell.eval_mongosh(pipeline, 0);
    COPY_ALL.with(|c| c.set(false));
    assert_eq!(
        whole.trim(),
        "MongoServerError[BadValue]: can't $divide by zero"
    );
    // Walking the cursor meets it too; a count reads every document, so it fails at once.
    let out = shell.eval_mongosh(&format!("{pipeline}.itcount()"), 0);
    assert!(out.contains("Executor error during getMore"), "{out}");
    let out = shell.eval_mongosh(
        &format!("let k = 0; try {{ {pipeline}.forEach(d => {{ k++ }}) }} catch (e) {{ k + ' ' + e.message }}"),
        0,
    );
    assert_eq!(
        out.trim(),
        "4949 Executor error during getMore :: caused by :: can't $divide by zero"
    );
}

#[test]
fn later_batches_see_the_collection_as_it_is_then() {
    let mut shell = filled();
    let out = shell.eval_mongosh("db.c.aggregate([{$project: {n: 1, s: 1}}])", 0);
    assert_eq!(printed(&out), 20);
    shell.eval_mongosh(
        "db.c.deleteMany({_id: {$in: [50, 130, 249]}}); \
         db.c.updateOne({_id: 160}, {$set: {s: 'changed'}}); db.c.insertOne({_id: 999, n: 999})",
        0,
    );
    let mut rest = String::new();
    loop {
        let out = shell.eval_mongosh("it", 0);
        if out.trim() == "no cursor" {
            break;
        }
        rest.push_str(&out);
    }
    // 50 was in the first batch, already sent; 130 and 249 are gone; 160 comes as it is
    // now; 999 came after the aggregate.
    assert_eq!(printed(&rest), 250 - 20 - 2, "{rest}");
    assert!(rest.contains("_id: 160, n: 160, s: 'changed'"), "{rest}");
    assert!(
        !rest.contains("_id: 130,") && !rest.contains("_id: 999"),
        "{rest}"
    );
    // A dropped collection's cursor ends after the batch it holds (the assignment printed
    // 20 of its 101).
    shell.eval_mongosh("c = db.c.aggregate([{$match: {}}])", 0);
    let out = shell.eval_mongosh("db.c.drop(); db.c.insertOne({_id: 1}); c.itcount()", 0);
    assert_eq!(out, "81\n");
}
