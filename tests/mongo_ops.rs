//! Query operators, projections, update operators and CRUD methods through the public shell
//! interface: edge cases the manual's examples do not reach, and bounds on running time.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Instant;

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

/// Runs each (input, expected output) pair in order on one session.
fn run(steps: &[(&str, &str)]) {
    let mut shell = Shell::new();
    for (input, want) in steps {
        let got = shell.eval_mongosh(input, NOW);
        assert_eq!(got.trim_end(), want.trim_end(), "input: {input}");
    }
}

fn run_json(steps: &[(&str, &str)]) {
    let mut shell = Shell::new();
    for (input, want) in steps {
        let got = shell.eval_json(input, NOW);
        assert_eq!(got.trim_end(), want.trim_end(), "input: {input}");
    }
}

#[test]
fn update_paths_create_pad_and_order_numerically() {
    run_json(&[
        (
            "db.c.insertOne({_id: 1, a: []})",
            r#"{"acknowledged": true, "insertedId": 1}"#,
        ),
        (
            r#"db.c.updateOne({_id: 1}, {$set: {"a.10": 1, "a.2": 2, "b.c.d": 3}})"#,
            r#"{"acknowledged": true, "insertedId": null, "matchedCount": 1, "modifiedCount": 1, "upsertedCount": 0}"#,
        ),
        (
            "db.c.findOne()",
            r#"{"_id": 1, "a": [null, null, 2, null, null, null, null, null, null, null, 1], "b": {"c": {"d": 3}}}"#,
        ),
        // Removing what is not there changes nothing.
        (
            r#"db.c.updateOne({_id: 1}, {$unset: {x: 1, "b.z": 1}, $pull: {y: 1}, $pop: {w: 1}})"#,
            r#"{"acknowledged": true, "insertedId": null, "matchedCount": 1, "modifiedCount": 0, "upsertedCount": 0}"#,
        ),
        // Pushing to a missing field creates the array.
        (
            "db.c.updateOne({_id: 1}, {$push: {list: 1}, $addToSet: {set: {$each: [1, 1, 2]}}})",
            r#"{"acknowledged": true, "insertedId": null, "matchedCount": 1, "modifiedCount": 1, "upsertedCount": 0}"#,
        ),
        (
            "db.c.findOne({}, {list: 1, set: 1, _id: 0})",
            r#"{"list": [1], "set": [1, 2]}"#,
        ),
    ]);
}

#[test]
fn numeric_types_follow_the_server() {
    run_json(&[
        (
            "db.n.insertOne({_id: 1, l: NumberLong('9223372036854775807'), i: -2147483648, d: 0.1})",
            r#"{"acknowledged": true, "insertedId": 1}"#,
        ),
        (
            "db.n.updateOne({_id: 1}, {$inc: {l: 1, i: -1, d: 0.2}, $mul: {z: 2.5}})",
            r#"{"acknowledged": true, "insertedId": null, "matchedCount": 1, "modifiedCount": 1, "upsertedCount": 0}"#,
        ),
        (
            "db.n.findOne()",
            r#"{"_id": 1, "l": 9223372036854776000.0, "i": -2147483649, "d": 0.30000000000000004, "z": 0.0}"#,
        ),
        // $min/$max compare across types in BSON order.
        ("db.n.updateOne({_id: 1}, {$max: {d: 'text'}, $min: {i: null}})", r#"{"acknowledged": true, "insertedId": null, "matchedCount": 1, "modifiedCount": 1, "upsertedCount": 0}"#),
        ("db.n.findOne({}, {d: 1, i: 1, _id: 0})", r#"{"i": null, "d": "text"}"#),
    ]);
}

#[test]
fn nested_array_filters_and_positional_through_documents() {
    run(&[
        (
            "db.s.insertOne({_id: 1, classes: [{name: 'a', scores: [50, 90]}, {name: 'b', scores: [95, 40]}]})",
            "{ acknowledged: true, insertedId: 1 }",
        ),
        (
            "db.s.updateOne({}, {$inc: {'classes.$[c].scores.$[s]': 1}}, {arrayFilters: [{'c.name': 'b'}, {s: {$gt: 60}}]})",
            "{\n  acknowledged: true,\n  insertedId: null,\n  matchedCount: 1,\n  modifiedCount: 1,\n  upsertedCount: 0\n}",
        ),
        (
            "db.s.updateOne({'classes.name': 'a'}, {$set: {'classes.$.name': 'A'}})",
            "{\n  acknowledged: true,\n  insertedId: null,\n  matchedCount: 1,\n  modifiedCount: 1,\n  upsertedCount: 0\n}",
        ),
        (
            "db.s.findOne()",
            "{\n  _id: 1,\n  classes: [\n    { name: 'A', scores: [ 50, 90 ] },\n    { name: 'b', scores: [ 96, 40 ] }\n  ]\n}",
        ),
        (
            "db.s.updateOne({}, {$set: {'classes.$[]': 1}}, {arrayFilters: [{x: 1}, {x: 2}]})",
            "MongoServerError: Found multiple array filters with the same top-level field name x",
        ),
        (
            "db.s.updateOne({}, {$set: {'classes.$[X]': 1}}, {arrayFilters: [{X: 1}]})",
            "MongoServerError: Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found 'X'",
        ),
    ]);
}

#[test]
fn upserts_take_the_filter_id_and_refuse_duplicates() {
    run(&[
        (
            "db.u.updateOne({_id: 'x', n: {$gt: 1}}, {$set: {v: 1}}, {upsert: true})",
            "{\n  acknowledged: true,\n  insertedId: 'x',\n  matchedCount: 0,\n  modifiedCount: 0,\n  upsertedCount: 1\n}",
        ),
        ("db.u.findOne()", "{ _id: 'x', v: 1 }"),
        (
            "db.u.updateOne({$and: [{a: 1}, {'b.c': 2}]}, {$setOnInsert: {_id: 7}}, {upsert: true})",
            "{\n  acknowledged: true,\n  insertedId: 7,\n  matchedCount: 0,\n  modifiedCount: 0,\n  upsertedCount: 1\n}",
        ),
        ("db.u.findOne({_id: 7})", "{ _id: 7, a: 1, b: { c: 2 } }"),
        (
            "db.u.replaceOne({v: 5}, {_id: 'x'}, {upsert: true})",
            "MongoServerError: E11000 duplicate key error collection: test.u index: _id_ dup key: { _id: \"x\" }",
        ),
        (
            "db.u.updateOne({_id: 'y'}, {$set: {'list.$': 1}}, {upsert: true})",
            "MongoServerError: The positional operator did not find the match needed from the query.",
        ),
    ]);
}

#[test]
fn null_missing_and_array_rules() {
    run(&[
        (
            "db.m.insertMany([{_id: 1, a: [{b: 1}, {c: 2}]}, {_id: 2, a: [1, 2]}, {_id: 3, a: {b: null}}, {_id: 4}])",
            "{ acknowledged: true, insertedIds: { '0': 1, '1': 2, '2': 3, '3': 4 } }",
        ),
        ("db.m.find({'a.b': null}, {_id: 1})", "[ { _id: 1 }, { _id: 2 }, { _id: 3 }, { _id: 4 } ]"),
        ("db.m.find({'a.b': {$exists: true}}, {_id: 1})", "[ { _id: 1 }, { _id: 3 } ]"),
        ("db.m.find({'a.b': {$ne: null}}, {_id: 1})", ""),
        ("db.m.find({a: {$size: 2}}, {_id: 1})", "[ { _id: 1 }, { _id: 2 } ]"),
        ("db.m.find({'a.1': 2}, {_id: 1})", "[ { _id: 2 } ]"),
        ("db.m.find({'a.1.c': 2}, {_id: 1})", "[ { _id: 1 } ]"),
        ("db.m.find({a: {$type: 'object'}}, {_id: 1})", "[ { _id: 1 }, { _id: 3 } ]"),
        ("db.m.find({a: {$all: [1, 2]}}, {_id: 1})", "[ { _id: 2 } ]"),
        ("db.m.find({a: {$in: [null]}}, {_id: 1})", "[ { _id: 4 } ]"),
        ("db.m.find({a: {$nin: [1]}}, {_id: 1})", "[ { _id: 1 }, { _id: 3 }, { _id: 4 } ]"),
    ]);
}

#[test]
fn regex_features_and_errors() {
    run(&[
        (
            "db.r.insertMany([{_id: 1, s: 'Hello World'}, {_id: 2, s: 'hello\\nworld'}, {_id: 3, s: 'x.y'}, {_id: 4, s: /re/i}])",
            "{ acknowledged: true, insertedIds: { '0': 1, '1': 2, '2': 3, '3': 4 } }",
        ),
        ("db.r.find({s: /^hello/i}, {_id: 1})", "[ { _id: 1 }, { _id: 2 } ]"),
        ("db.r.find({s: /world$/}, {_id: 1})", "[ { _id: 2 } ]"),
        ("db.r.find({s: /\\bWorld\\b/}, {_id: 1})", "[ { _id: 1 } ]"),
        ("db.r.find({s: /x\\.y/}, {_id: 1})", "[ { _id: 3 } ]"),
        ("db.r.find({s: /[[:upper:]]\\w+ [A-Z]/}, {_id: 1})", "[ { _id: 1 } ]"),
        ("db.r.find({s: /re/i}, {_id: 1})", "[ { _id: 4 } ]"),
        ("db.r.find({s: {$in: [/^x/, 'Hello World']}}, {_id: 1})", "[ { _id: 1 }, { _id: 3 } ]"),
        ("db.r.find({s: {$not: /o/}}, {_id: 1})", "[ { _id: 3 }, { _id: 4 } ]"),
        (
            "db.r.find({s: /(a/})",
            "MongoServerError[Location51091]: Regular expression is invalid: missing closing parenthesis",
        ),
        (
            "db.r.find({s: /(?=a)/})",
            "MongoServerError[Location51091]: Regular expression is invalid: lookaround assertions are not supported by this sandbox's regex engine",
        ),
    ]);
}

#[test]
fn catastrophic_patterns_run_in_linear_time() {
    let mut shell = Shell::new();
    let long = "a".repeat(20_000);
    shell.eval_mongosh(&format!("db.t.insertOne({{_id: 1, s: '{long}!'}})"), NOW);
    let start = Instant::now();
    for pattern in ["^(a+)+$", "^(a|aa)+$", "(a*)*b", "^(a|a?)+$"] {
        let out = shell.eval_mongosh(&format!("db.t.countDocuments({{s: /{pattern}/}})"), NOW);
        assert_eq!(out, "0\n", "{pattern}");
    }
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
}

#[test]
fn many_documents_update_sort_and_count_quickly() {
    let mut shell = Shell::new();
    let docs: Vec<String> = (0..5_000)
        .map(|i| {
            format!(
                "{{_id: {i}, n: {}, tags: ['t{}', 'x'], sub: {{v: {i}}}}}",
                i % 97,
                i % 13
            )
        })
        .collect();
    shell.eval_mongosh(&format!("db.big.insertMany([{}])", docs.join(",")), NOW);
    let start = Instant::now();
    assert_eq!(
        shell.eval_json("db.big.updateMany({n: {$gte: 50}}, {$inc: {'sub.v': 1}, $push: {tags: 'y'}})", NOW),
        "{\"acknowledged\": true, \"insertedId\": null, \"matchedCount\": 2400, \"modifiedCount\": 2400, \"upsertedCount\": 0}\n"
    );
    assert_eq!(
        shell.eval_mongosh(
            "db.big.countDocuments({tags: 'y', 'sub.v': {$mod: [2, 0]}})",
            NOW
        ),
        "1200\n"
    );
    assert_eq!(
        shell.eval_json(
            "db.big.find({}, {_id: 1}).sort({n: -1, _id: 1}).limit(2)",
            NOW
        ),
        "[{\"_id\": 96}, {\"_id\": 193}]\n"
    );
    assert_eq!(
        shell.eval_mongosh("db.big.deleteMany({tags: 't3'})", NOW),
        "{ acknowledged: true, deletedCount: 385 }\n"
    );
    assert_eq!(
        shell.eval_mongosh("db.big.estimatedDocumentCount()", NOW),
        "4615\n"
    );
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
}
