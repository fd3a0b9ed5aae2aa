use crate::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

fn run(shell: &mut Shell, src: &str) -> String {
    shell.eval_mongosh(src, NOW)
}

/// Runs setup lines, then each (statement, expected output) pair.
fn check(setup: &str, cases: &[(&str, &str)]) {
    let mut shell = Shell::new();
    run(&mut shell, setup);
    for (stmt, expected) in cases {
        assert_eq!(run(&mut shell, stmt).trim_end(), *expected, "{stmt}");
    }
}

#[test]
fn default_names_and_get_indexes() {
    check(
        "db.c.insertOne({_id: 1, item: 'a', quantity: 2})",
        &[
            ("db.c.createIndex({item: 1, quantity: -1})", "item_1_quantity_-1"),
            ("db.c.createIndex({item: 1, quantity: -1})", "item_1_quantity_-1"),
            ("db.c.createIndex({'a.b': 1}, {name: 'ab', sparse: true})", "ab"),
            (
                "db.c.createIndexes([{x: 1}, {y: -1}])",
                "[ 'x_1', 'y_-1' ]",
            ),
            (
                "db.c.getIndexes()",
                "[\n  { v: 2, key: { _id: 1 }, name: '_id_' },\n  { v: 2, key: { item: 1, quantity: -1 }, name: 'item_1_quantity_-1' },\n  { v: 2, key: { 'a.b': 1 }, name: 'ab', sparse: true },\n  { v: 2, key: { x: 1 }, name: 'x_1' },\n  { v: 2, key: { y: -1 }, name: 'y_-1' }\n]",
            ),
            ("db.c.dropIndex('ab')", "{ nIndexesWas: 5, ok: 1 }"),
            ("db.c.dropIndex({x: 1})", "{ nIndexesWas: 4, ok: 1 }"),
            (
                "db.c.dropIndexes()",
                "{\n  nIndexesWas: 3,\n  msg: 'non-_id indexes dropped for collection',\n  ok: 1\n}",
            ),
            ("db.c.getIndexKeys()", "[ { _id: 1 } ]"),
        ],
    );
}

#[test]
fn index_errors() {
    check(
        "db.c.insertMany([{_id: 1, a: 1}, {_id: 2, a: 1}, {_id: 3, a: [1, 2], b: [3, 4]}])",
        &[
            (
                "db.c.createIndex({a: 1}, {unique: true})",
                "MongoServerError[DuplicateKey]: E11000 duplicate key error collection: test.c index: a_1 dup key: { a: 1 }",
            ),
            (
                "db.c.createIndex({a: 1, b: 1})",
                "MongoServerError[CannotIndexParallelArrays]: cannot index parallel arrays [b] [a]",
            ),
            (
                "db.c.dropIndex('a_1')",
                "MongoServerError[IndexNotFound]: index not found with name [a_1]",
            ),
            (
                "db.c.dropIndex({z: 1})",
                "MongoServerError[IndexNotFound]: can't find index with key: { z: 1 }",
            ),
            (
                "db.c.dropIndex('_id_')",
                "MongoServerError[InvalidOptions]: cannot drop _id index",
            ),
            (
                "db.c.find().hint({z: 1})",
                "MongoServerError[BadValue]: hint provided does not correspond to an existing index",
            ),
            (
                "db.nope.getIndexes()",
                "MongoServerError[NamespaceNotFound]: ns does not exist: test.nope",
            ),
            ("db.c.createIndex({a: 1})", "a_1"),
            (
                "db.c.createIndex({a: 1}, {name: 'other'})",
                "MongoServerError[IndexOptionsConflict]: Index already exists with a different name: a_1",
            ),
            (
                "db.c.createIndex({b: 1}, {name: 'a_1'})",
                "MongoServerError[IndexKeySpecsConflict]: An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: { v: 2, key: { b: 1 }, name: \"a_1\" }, existing index: { v: 2, key: { a: 1 }, name: \"a_1\" }",
            ),
            (
                "db.c.createIndex({b: 1}, {sparse: true, partialFilterExpression: {b: 1}})",
                "MongoServerError[CannotCreateIndex]: Error in specification { key: { b: 1 }, name: \"b_1\", sparse: true, partialFilterExpression: { b: 1 } } :: caused by :: cannot mix \"partialFilterExpression\" and \"sparse\" options",
            ),
        ],
    );
}

#[test]
fn unique_refusals_leave_everything_unchanged() {
    check(
        "db.c.insertMany([{_id: 1, a: 1, b: 'x'}, {_id: 2, a: 2, b: 'y'}]); db.c.createIndex({a: 1}, {unique: true}); db.c.createIndex({b: 1})",
        &[
            (
                "db.c.insertOne({_id: 3, a: 2, b: 'z'})",
                "MongoServerError: E11000 duplicate key error collection: test.c index: a_1 dup key: { a: 2 }",
            ),
            // The refused document is in no index: a search by b finds nothing.
            ("db.c.find({b: 'z'}).count()", "0"),
            (
                "db.c.updateOne({_id: 1}, {$set: {a: 2, b: 'w'}})",
                "MongoServerError: E11000 duplicate key error collection: test.c index: a_1 dup key: { a: 2 }",
            ),
            ("db.c.find({b: 'w'}).count()", "0"),
            ("db.c.find({b: 'x'}, {_id: 1}).toArray()", "[ { _id: 1 } ]"),
            ("db.c.updateOne({_id: 1}, {$set: {a: 3}}).modifiedCount", "1"),
            ("db.c.insertOne({_id: 4, a: 1}).insertedId", "4"),
            ("db.c.deleteOne({a: 3}).deletedCount", "1"),
            ("db.c.insertOne({_id: 5, a: 3}).insertedId", "5"),
            (
                "db.c.find({a: {$gte: 1}}, {_id: 1}).toArray()",
                "[ { _id: 4 }, { _id: 2 }, { _id: 5 } ]",
            ),
        ],
    );
}

#[test]
fn sparse_and_partial_indexes_hold_only_their_documents() {
    check(
        "db.c.insertMany([{_id: 1, a: 1}, {_id: 2}, {_id: 3, a: null}, {_id: 4, a: 5, r: 9}, {_id: 5, a: 7, r: 2}]); db.c.createIndex({a: 1}, {sparse: true}); db.c.createIndex({r: 1}, {partialFilterExpression: {r: {$gt: 5}}})",
        &[
            // A sparse index cannot answer a query for missing values: COLLSCAN, all found.
            ("db.c.find({a: null}).explain().queryPlanner.winningPlan.stage", "COLLSCAN"),
            ("db.c.find({a: null}, {_id: 1}).toArray()", "[ { _id: 2 }, { _id: 3 } ]"),
            // Hinted anyway, it returns what it holds, as MongoDB does.
            ("db.c.find({a: null}, {_id: 1}).hint('a_1').toArray()", "[ { _id: 3 } ]"),
            (
                "db.c.find({a: {$gt: 1}}).explain().queryPlanner.winningPlan.inputStage.indexName",
                "a_1",
            ),
            // The partial index serves queries that imply its filter only.
            (
                "db.c.find({r: {$gt: 6}}).explain().queryPlanner.winningPlan.inputStage.indexName",
                "r_1",
            ),
            ("db.c.find({r: {$gt: 1}}).explain().queryPlanner.winningPlan.stage", "COLLSCAN"),
            ("db.c.find({r: {$gt: 1}}, {_id: 1}).toArray()", "[ { _id: 4 }, { _id: 5 } ]"),
        ],
    );
}

#[test]
fn multikey_indexes_expand_arrays() {
    check(
        "db.c.insertMany([{_id: 1, tags: ['a', 'b']}, {_id: 2, tags: ['b', 'c']}, {_id: 3, tags: []}, {_id: 4, tags: 'a'}]); db.c.createIndex({tags: 1})",
        &[
            ("db.c.find({tags: 'b'}, {_id: 1}).toArray()", "[ { _id: 1 }, { _id: 2 } ]"),
            (
                "db.c.find({tags: {$in: ['a', 'c']}}).explain('executionStats').executionStats.executionStages.inputStage.dupsDropped",
                "0",
            ),
            (
                "db.c.find({tags: {$gte: 'a'}}).explain('executionStats').executionStats.executionStages.inputStage.dupsDropped",
                "2",
            ),
            ("db.c.find({tags: {$gte: 'a'}}).count()", "3"),
            (
                "db.c.find({tags: 'a'}).explain().queryPlanner.winningPlan.inputStage.multiKeyPaths",
                "{ tags: [ 'tags' ] }",
            ),
            ("db.c.find({tags: []}, {_id: 1}).toArray()", "[ { _id: 3 } ]"),
        ],
    );
}

#[test]
fn explain_stage_trees() {
    let setup = "for (let i = 0; i < 100; i++) db.c.insertOne({_id: i, a: i % 10, b: i}); db.c.createIndex({a: 1, b: -1})";
    check(
        setup,
        &[
            ("db.c.find({b: 5}).explain().queryPlanner.winningPlan.filter", "{ b: { '$eq': 5 } }"),
            ("db.c.find({a: 3}).explain('executionStats').executionStats.totalKeysExamined", "10"),
            ("db.c.find({a: 3}).hint({$natural: 1}).explain('executionStats').executionStats.totalDocsExamined", "100"),
            ("db.c.find({a: 3, b: {$lt: 50}}).explain().queryPlanner.winningPlan.inputStage.indexBounds", "{ a: [ '[3, 3]' ], b: [ '(50, -inf.0]' ] }"),
            ("db.c.find({a: {$gt: 3, $lte: 5}}).sort({a: -1}).explain().queryPlanner.winningPlan.inputStage.indexBounds", "{ a: [ '[5, 3)' ], b: [ '[MinKey, MaxKey]' ] }"),
            // The $in explodes into one scan per value, merged in b order (each backwards, b
            // being descending in the index), instead of a blocking sort.
            ("db.c.find({a: {$in: [1, 2]}}).sort({b: 1}).explain().queryPlanner.winningPlan.stage", "FETCH"),
            ("db.c.find({a: {$in: [1, 2]}}).sort({b: 1}).explain().queryPlanner.winningPlan.inputStage.stage", "SORT_MERGE"),
            (
                "db.c.find({a: {$in: [1, 2]}}).sort({b: 1}).explain().queryPlanner.winningPlan.inputStage.inputStages.map(s => [s.direction, s.indexBounds.a[0], s.indexBounds.b[0]])",
                "[\n  [ 'backward', '[1, 1]', '[MinKey, MaxKey]' ],\n  [ 'backward', '[2, 2]', '[MinKey, MaxKey]' ]\n]",
            ),
            ("db.c.find({a: {$in: [1, 2]}}).sort({b: 1}).limit(4).toArray().map(d => d.b)", "[ 1, 2, 11, 12 ]"),
            ("db.c.find({a: {$in: [1, 2, 3]}}).sort({b: -1}).explain().queryPlanner.winningPlan.inputStage.sortPattern", "{ b: -1 }"),
            ("db.c.find({a: {$in: [1, 2]}}).sort({a: 1}).explain().queryPlanner.winningPlan.stage", "FETCH"),
            ("db.c.find({a: 2}).sort({b: 1}).limit(3).explain().queryPlanner.winningPlan.stage", "LIMIT"),
            ("db.c.find({a: 2}).sort({b: 1}).limit(3).explain().queryPlanner.winningPlan.inputStage.inputStage.direction", "backward"),
            ("db.c.find({a: 2}).sort({b: 1}).limit(3).explain('executionStats').executionStats.totalKeysExamined", "3"),
            ("db.c.find({a: 2}).sort({b: 1}).limit(3).toArray().map(d => d.b)", "[ 2, 12, 22 ]"),
            ("db.c.find({a: 2}, {a: 1, b: 1, _id: 0}).explain().queryPlanner.winningPlan.stage", "PROJECTION_COVERED"),
            ("db.c.find({a: 2}).skip(1).limit(2).explain().queryPlanner.winningPlan.inputStage.stage", "SKIP"),
            ("db.nope.find({a: 2}).explain().queryPlanner.winningPlan", "{ stage: 'EOF' }"),
            ("db.c.find({_id: 7}).explain().queryPlanner.winningPlan", "{ stage: 'IDHACK' }"),
            ("db.c.find({_id: 7}).explain('executionStats').executionStats.executionStages.docsExamined", "1"),
            ("db.c.find({_id: {$gt: 97}}).explain().queryPlanner.winningPlan.inputStage.indexName", "_id_"),
            ("db.c.explain('executionStats').find({a: 3}).finish().executionStats.totalKeysExamined", "10"),
            ("db.c.explain().find({a: 3}).sort({b: 1}).finish().queryPlanner.winningPlan.inputStage.direction", "backward"),
            ("db.c.explain()", "Explainable(test.c)"),
            ("db.c.explain('bogus')", "MongoServerError[BadValue]: verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}"),
            ("db.c.find().explain('bogus')", "MongoServerError[BadValue]: verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}"),
        ],
    );
}

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_value(rng: &mut Rng) -> String {
    random_scalar_or_array(rng, true)
}

fn random_scalar_or_array(rng: &mut Rng, arrays: bool) -> String {
    match rng.below(if arrays { 10 } else { 8 }) {
        8 => "[]".into(),
        9 => format!("[{}, {}]", rng.below(6), rng.below(6)),
        0 => "null".into(),
        1 => format!(
            "'{}'",
            ["x", "y", "z", "xy", "Xz", "yx"][rng.below(6) as usize]
        ),
        2 => format!("{}.5", rng.below(6)),
        _ => rng.below(6).to_string(),
    }
}

fn random_doc(rng: &mut Rng, id: usize) -> String {
    let mut fields = vec![format!("_id: {id}")];
    // Only `a` holds arrays: compound indexes over `a` and another field would refuse
    // documents with two arrays (parallel arrays), and then the collections would differ.
    for name in ["a", "b"] {
        if rng.below(5) != 0 {
            fields.push(format!(
                "{name}: {}",
                random_scalar_or_array(rng, name == "a")
            ));
        }
    }
    if rng.below(3) != 0 {
        fields.push(format!("c: {{d: {}}}", random_scalar_or_array(rng, false)));
    }
    format!("{{{}}}", fields.join(", "))
}

fn random_predicate(rng: &mut Rng) -> String {
    let field = ["a", "b", "'c.d'"][rng.below(3) as usize];
    let v = random_value(rng);
    let w = rng.below(6);
    let cond = match rng.below(16) {
        0 => v,
        1 => format!("{{$gt: {w}}}"),
        2 => format!("{{$gte: {w}, $lt: {}}}", w + rng.below(4)),
        3 => format!("{{$lte: {w}}}"),
        4 => format!("{{$in: [{w}, {}, null]}}", random_value(rng)),
        5 => format!("{{$ne: {v}}}"),
        6 => format!("{{$exists: {}}}", rng.below(2) == 0),
        7 => format!("{{$in: [{w}, 'y']}}"),
        8 => [
            "/^x/",
            "/y/",
            "/^x$/",
            "/^X/i",
            "/^(x|y)/",
            "/^/",
            "/^\\Qx\\E/",
        ][rng.below(7) as usize]
            .into(),
        9 => format!(
            "{{$regex: '^{}', $options: 'i'}}",
            ["x", "y", "Z"][rng.below(3) as usize]
        ),
        10 => format!("{{$nin: [{w}, {}]}}", random_value(rng)),
        11 => "{$ne: null}".into(),
        12 => format!("{{$elemMatch: {{$gte: {w}, $lt: {}}}}}", w + rng.below(3)),
        13 => "null".into(),
        14 => format!("{{$in: [/^y/, {w}]}}"),
        _ => format!("{{$gt: {w}, $lt: {}}}", rng.below(6)),
    };
    format!("{field}: {cond}")
}

/// A filter: one or two predicates, or a `$or` of such (so that the subplanner runs).
fn random_filter(rng: &mut Rng) -> String {
    let conjunction = |rng: &mut Rng| {
        let preds: Vec<String> = (0..=rng.below(2)).map(|_| random_predicate(rng)).collect();
        format!("{{{}}}", preds.join(", "))
    };
    if rng.below(3) == 0 {
        let branches: Vec<String> = (0..=rng.below(3)).map(|_| conjunction(rng)).collect();
        format!("{{$or: [{}]}}", branches.join(", "))
    } else {
        conjunction(rng)
    }
}

/// For random documents and random queries, the answers with and without indexes are the
/// same: the planner chooses how to find documents, never which.
#[test]
fn indexes_never_change_answers() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..16 {
        let docs: Vec<String> = (0..60).map(|i| random_doc(&mut rng, i)).collect();
        let insert = format!("db.c.insertMany([{}])", docs.join(", "));
        let mut plain = Shell::new();
        let mut indexed = Shell::new();
        run(&mut plain, &insert);
        run(&mut indexed, &insert);
        run(
            &mut indexed,
            "db.c.createIndex({a: 1}); db.c.createIndex({b: -1, a: 1}); db.c.createIndex({'c.d': 1}, {sparse: true}); db.c.createIndex({a: 1, 'c.d': -1}); db.c.createIndex({b: 1}, {partialFilterExpression: {b: {$gt: 2}}}); db.c.createIndex({b: 1, 'c.d': 1, _id: 1})",
        );
        for q in 0..40 {
            let filter = random_filter(&mut rng);
            let sort = [
                "",
                ".sort({a: 1, _id: 1})",
                ".sort({b: -1, _id: -1})",
                ".sort({_id: 1})",
                ".sort({'c.d': 1, _id: 1})",
            ][rng.below(5) as usize];
            let limit = if !sort.is_empty() && rng.below(2) == 0 {
                format!(".limit({})", 1 + rng.below(5))
            } else {
                String::new()
            };
            let find = format!("db.c.find({filter}){sort}{limit}.toArray()");
            let mut expected = plain.eval_json(&find, NOW);
            let mut got = indexed.eval_json(&find, NOW);
            if sort.is_empty() {
                // Without a sort, index order may differ from insertion order: compare sets.
                let by_id = "db.c.find(".to_string() + &filter + ").sort({_id: 1}).toArray()";
                expected = plain.eval_json(&by_id, NOW);
                got = indexed.eval_json(&by_id, NOW);
            }
            assert_eq!(got, expected, "round {round} query {q}: {find}");
            let agg =
                format!("db.c.aggregate([{{$match: {filter}}}, {{$sort: {{_id: 1}}}}]).toArray()");
            assert_eq!(
                indexed.eval_json(&agg, NOW),
                plain.eval_json(&agg, NOW),
                "{agg}"
            );
            let count = format!("db.c.countDocuments({filter})");
            assert_eq!(
                indexed.eval_json(&count, NOW),
                plain.eval_json(&count, NOW),
                "{count}"
            );
        }
        // Writes through the indexes keep them in step.
        // A $set cannot fail part-way, so the documents it reaches do not depend on order.
        let update = format!(
            "db.c.updateMany({{{}}}, {{$set: {{b: {}}}}})",
            random_predicate(&mut rng),
            random_scalar_or_array(&mut rng, false)
        );
        let (p_out, i_out) = (run(&mut plain, &update), run(&mut indexed, &update));
        assert_eq!(i_out, p_out, "{update}");
        let delete = format!("db.c.deleteMany({{{}}})", random_predicate(&mut rng));
        let (p_out, i_out) = (run(&mut plain, &delete), run(&mut indexed, &delete));
        assert_eq!(i_out, p_out, "{delete}");
        for field in ["a", "b", "'c.d'"] {
            let all = format!("db.c.find({{{field}: {{$gte: 0}}}}).sort({{_id: 1}}).toArray()");
            assert_eq!(
                indexed.eval_json(&all, NOW),
                plain.eval_json(&all, NOW),
                "{all}"
            );
        }
    }
}

#[test]
fn ttl_indexes_expire_documents_on_sandbox_time() {
    let mut shell = Shell::new();
    let at = |shell: &mut Shell, ms: u64, src: &str| shell.eval_mongosh(src, NOW + ms);
    at(
        &mut shell,
        0,
        "db.log_events.insertMany([{_id: 1, createdAt: new Date(), logEvent: 2}, {_id: 2, createdAt: 'not a date'}, {_id: 3, createdAt: [new Date(Date.now() + 7200000), new Date()]}]); db.log_events.createIndex({createdAt: 1}, {expireAfterSeconds: 3600})",
    );
    assert_eq!(
        at(&mut shell, 1000, "db.log_events.getIndexes()[1]").trim_end(),
        "{\n  v: 2,\n  key: { createdAt: 1 },\n  name: 'createdAt_1',\n  expireAfterSeconds: 3600\n}"
    );
    assert_eq!(
        at(&mut shell, 3_599_000, "db.log_events.countDocuments()"),
        "3\n"
    );
    // Due at 3600 s, deleted when the monitor next wakes (it runs every 60 s).
    assert_eq!(
        at(&mut shell, 3_600_500, "db.log_events.countDocuments()"),
        "3\n"
    );
    assert_eq!(shell.tick(NOW + 3_659_000), 2);
    assert_eq!(
        at(&mut shell, 3_659_500, "db.log_events.find()").trim_end(),
        "[ { _id: 2, createdAt: 'not a date' } ]"
    );
    assert_eq!(
        at(
            &mut shell,
            3_659_500,
            "db.c.createIndex({a: 1, b: 1}, {expireAfterSeconds: 5})"
        )
        .trim_end(),
        "MongoServerError[CannotCreateIndex]: Error in specification { key: { a: 1, b: 1 }, name: \"a_1_b_1\", expireAfterSeconds: 5 } :: caused by :: TTL indexes are single-field indexes, compound indexes do not support TTL. Index spec: { key: { a: 1, b: 1 }, name: \"a_1_b_1\", expireAfterSeconds: 5 }"
    );
}

#[test]
fn the_page_gets_the_explained_query_and_its_comparison() {
    let mut shell = Shell::new();
    run(
        &mut shell,
        "for (let i = 0; i < 50; i++) db.people.insertOne({_id: i, age: i % 25}); db.people.createIndex({age: 1}, {unique: false})",
    );
    assert_eq!(shell.take_explained(), None);
    run(&mut shell, "db.people.find({age: 7}).explain()");
    let json = shell.take_explained().expect("an explain ran");
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let stats = |k: &str, f: &str| v[k]["executionStats"][f].as_i64();
    assert_eq!(stats("explain", "totalKeysExamined"), Some(2));
    assert_eq!(stats("explain", "totalDocsExamined"), Some(2));
    assert_eq!(stats("withoutIndex", "totalKeysExamined"), Some(0));
    assert_eq!(stats("withoutIndex", "totalDocsExamined"), Some(50));
    assert_eq!(
        v["withoutIndex"]["queryPlanner"]["winningPlan"]["stage"].as_str(),
        Some("COLLSCAN")
    );
    // Taken once: the next statement that explains nothing gives nothing.
    run(&mut shell, "db.people.countDocuments()");
    assert_eq!(shell.take_explained(), None);

    let catalog = crate::mongo::snapshot::catalog(shell.store());
    let people = &catalog.databases[0].collections[0];
    let names: Vec<(&str, &str, usize)> = people
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.key.as_str(), i.entries))
        .collect();
    assert_eq!(
        names,
        [("_id_", "{ _id: 1 }", 50), ("age_1", "{ age: 1 }", 50)]
    );
    assert!(people.indexes[1].approx_bytes >= 50 * 8);
}

#[test]
fn out_keeps_the_indexes_of_the_collection_it_replaces() {
    check(
        "db.src.insertMany([{_id: 1, k: 'a'}, {_id: 2, k: 'a'}, {_id: 3, k: 'b'}]); db.dst.insertOne({_id: 9, k: 'z'}); db.dst.createIndex({k: 1}, {unique: true})",
        &[
            (
                "db.src.aggregate([{$match: {k: 'b'}}, {$out: 'dst'}]); db.dst.getIndexes().map(i => i.name)",
                "[ '_id_', 'k_1' ]",
            ),
            ("db.dst.find({k: 'b'}).explain().queryPlanner.winningPlan.inputStage.indexName", "k_1"),
            (
                "db.src.aggregate([{$out: 'dst'}])",
                "MongoServerError[DuplicateKey]: E11000 duplicate key error collection: test.dst index: k_1 dup key: { k: \"a\" }",
            ),
            ("db.dst.find({}, {_id: 1}).toArray()", "[ { _id: 3 } ]"),
        ],
    );
}

#[test]
fn compound_keys_under_one_shared_array() {
    check(
        "db.c.insertMany([{_id: 1, a: [{x: 1, y: 2}, {x: 3, y: 4}]}, {_id: 2, a: [{x: 1, y: 5}]}]); db.c.createIndex({'a.x': 1, 'a.y': 1})",
        &[
            // Each condition may be met by a different element, as without the index.
            ("db.c.find({'a.x': 1, 'a.y': 4}, {_id: 1}).toArray()", "[ { _id: 1 } ]"),
            (
                "db.c.find({'a.x': 1, 'a.y': 4}).explain().queryPlanner.winningPlan.inputStage.multiKeyPaths",
                "{ 'a.x': [ 'a' ], 'a.y': [ 'a' ] }",
            ),
            (
                "db.c.insertOne({a: Array.from({length: 400}, (_, i) => ({x: i, y: i}))})",
                "MongoServerError: (sandbox) a document may give one index at most 100000 keys",
            ),
            ("db.c.countDocuments()", "2"),
        ],
    );
}

#[test]
fn bounds_of_regexes_negations_existence_and_null() {
    let setup = "db.c.insertMany([{_id: 1, a: 1, s: 'abc'}, {_id: 2, a: 2, s: 'abd'}, {_id: 3, a: 3, s: 'xabc'}, {_id: 4, s: null}, {_id: 5, a: 5, s: /abc/}, {_id: 6, a: 6}]); db.c.createIndex({a: 1}); db.c.createIndex({s: 1})";
    let bounds = |f: &str| {
        format!("db.c.find({f}).explain().queryPlanner.winningPlan.inputStage.indexBounds")
    };
    let ids = |f: &str| format!("db.c.find({f}, {{_id: 1}}).toArray().map(d => d._id)");
    check(
        setup,
        &[
            (
                &bounds("{s: /^ab/}"),
                "{ s: [ '[\"ab\", \"ac\")', '[/^ab/, /^ab/]' ] }",
            ),
            (&ids("{s: /^ab/}"), "[ 1, 2 ]"),
            // A literal prefix is the whole predicate: no filter left on the fetch.
            (
                "db.c.find({s: /^ab/}).explain().queryPlanner.winningPlan.filter",
                "",
            ),
            (
                &bounds("{s: /bc/}"),
                "{ s: [ '[\"\", {})', '[/bc/, /bc/]' ] }",
            ),
            // Any other regex is checked on the key, before the fetch.
            (
                "db.c.find({s: /bc/}).explain().queryPlanner.winningPlan.inputStage.filter",
                "{ s: { '$regex': 'bc' } }",
            ),
            (&ids("{s: /bc/}"), "[ 1, 3 ]"),
            (
                "db.c.find({s: /bc/}).explain('executionStats').executionStats.totalDocsExamined",
                "2",
            ),
            (
                &bounds("{s: {$regex: '^ab', $options: 'i'}}"),
                "{ s: [ '[\"\", {})', '[/^ab/i, /^ab/i]' ] }",
            ),
            (
                &bounds("{s: /^a.c/}"),
                "{ s: [ '[\"a\", \"b\")', '[/^a.c/, /^a.c/]' ] }",
            ),
            (
                &bounds("{s: /^a|b/}"),
                "{ s: [ '[\"\", {})', '[/^a|b/, /^a|b/]' ] }",
            ),
            (
                &bounds("{a: {$ne: 2}}"),
                "{ a: [ '[MinKey, 2)', '(2, MaxKey]' ] }",
            ),
            (&ids("{a: {$ne: 2}}"), "[ 4, 1, 3, 5, 6 ]"),
            (
                &bounds("{a: {$nin: [1, 3]}}"),
                "{ a: [ '[MinKey, 1)', '(1, 3)', '(3, MaxKey]' ] }",
            ),
            (
                &bounds("{s: {$ne: null}}"),
                "{ s: [ '[MinKey, undefined)', '(null, MaxKey]' ] }",
            ),
            (
                &bounds("{s: null}"),
                "{ s: [ '[undefined, undefined]', '[null, null]' ] }",
            ),
            (&ids("{s: null}"), "[ 4, 6 ]"),
            (
                &bounds("{a: {$exists: true}}"),
                "{ a: [ '[MinKey, MaxKey]' ] }",
            ),
            (
                &bounds("{a: {$exists: false}}"),
                "{ a: [ '[null, null]' ] }",
            ),
            (&ids("{a: {$exists: false}}"), "[ 4 ]"),
            (
                &bounds("{a: {$in: [5, 1, 3]}}"),
                "{ a: [ '[1, 1]', '[3, 3]', '[5, 5]' ] }",
            ),
        ],
    );
}

#[test]
fn elem_match_on_a_multikey_index_intersects_its_conditions() {
    check(
        "db.c.insertMany([{_id: 1, a: [1, 9]}, {_id: 2, a: [5]}, {_id: 3, a: 5}]); db.c.createIndex({a: 1})",
        &[
            (
                "db.c.find({a: {$elemMatch: {$gt: 4, $lt: 6}}}).explain().queryPlanner.winningPlan.inputStage.indexBounds",
                "{ a: [ '(4, 6)' ] }",
            ),
            ("db.c.find({a: {$elemMatch: {$gt: 4, $lt: 6}}}, {_id: 1}).toArray()", "[ { _id: 2 } ]"),
            // Two conditions outside $elemMatch may each be met by another element: only one
            // narrows the scan.
            (
                "db.c.find({a: {$gt: 4, $lt: 6}}).explain().queryPlanner.winningPlan.inputStage.indexBounds",
                "{ a: [ '(4, inf.0]' ] }",
            ),
            ("db.c.find({a: {$gt: 4, $lt: 6}}, {_id: 1}).toArray()", "[ { _id: 2 }, { _id: 3 }, { _id: 1 } ]"),
            // Equality on a multikey index is still answered by the bounds alone.
            ("db.c.find({a: 9}).explain().queryPlanner.winningPlan.filter", ""),
        ],
    );
}

#[test]
fn rooted_or_reads_one_index_per_branch() {
    let setup = "for (let i = 0; i < 50; i++) db.c.insertOne({_id: i, a: i % 10, b: i % 7, c: i}); db.c.createIndex({a: 1}); db.c.createIndex({b: 1})";
    let plan = "explain().queryPlanner.winningPlan";
    check(
        setup,
        &[
            (&format!("db.c.find({{$or: [{{a: 1}}, {{b: 2}}]}}).{plan}.stage"), "SUBPLAN"),
            (&format!("db.c.find({{$or: [{{a: 1}}, {{b: 2}}]}}).{plan}.inputStage.stage"), "FETCH"),
            (&format!("db.c.find({{$or: [{{a: 1}}, {{b: 2}}]}}).{plan}.inputStage.inputStage.stage"), "OR"),
            (
                &format!("db.c.find({{$or: [{{a: 1}}, {{b: 2}}]}}).{plan}.inputStage.inputStage.inputStages.map(s => s.indexName + ' ' + s.indexBounds[s.indexName[0]])"),
                "[ 'a_1 [1, 1]', 'b_1 [2, 2]' ]",
            ),
            ("db.c.find({$or: [{a: 1}, {b: 2}]}).count()", "12"),
            ("db.c.find({$or: [{a: 1}, {b: 2}]}).explain('executionStats').executionStats.totalKeysExamined", "12"),
            // A branch with more than its index answers fetches and filters on its own.
            (
                &format!("db.c.find({{$or: [{{a: 1, c: {{$gt: 20}}}}, {{b: 2}}]}}).{plan}.inputStage.inputStage.inputStages[0].filter"),
                "{ c: { '$gt': 20 } }",
            ),
            ("db.c.find({$or: [{a: 1, c: {$gt: 20}}, {b: 2}]}).count()", "10"),
            // One branch that no index serves: the whole query scans the collection.
            (&format!("db.c.find({{$or: [{{a: 1}}, {{c: 2}}]}}).{plan}.inputStage.stage"), "COLLSCAN"),
            (
                &format!("db.c.find({{$or: [{{a: 1}}, {{c: 2}}]}}).{plan}.inputStage.filter"),
                "{\n  '$or': [ { a: { '$eq': 1 } }, { c: { '$eq': 2 } } ]\n}",
            ),
            ("db.c.find({$or: [{a: 1}, {c: 2}]}).count()", "6"),
            // Each branch gives the sort: the branches merge instead of a blocking sort.
            (
                "db.c.createIndex({a: 1, c: 1}); db.c.createIndex({b: 1, c: 1}); db.c.find({$or: [{a: 1}, {b: 2}]}).sort({c: 1}).explain().queryPlanner.winningPlan.inputStage.inputStage.stage",
                "SORT_MERGE",
            ),
            (
                "db.c.find({$or: [{a: 1}, {b: 2}]}).sort({c: 1}).toArray().map(d => d.c)",
                "[\n   1,  2,  9, 11, 16,\n  21, 23, 30, 31, 37,\n  41, 44\n]",
            ),
            (
                "db.c.find({$or: [{a: 1}, {b: 2}]}).sort({c: 1}).explain().queryPlanner.winningPlan.inputStage.inputStage.sortPattern",
                "{ c: 1 }",
            ),
        ],
    );
}

/// An equality whose index bounds say all the filter says is answered from the index
/// without testing the fetched document again: each of these finds gives with the index
/// what it gives without, across the number types, dates, ObjectIds, booleans, a unique and
/// a partial index, a compound index with its second field free, and fields beside it.
#[test]
fn exact_equalities_give_what_a_scan_gives() {
    let insert = "db.c.insertMany([
        {_id: 1, n: 5, s: 'a', d: ISODate('2024-01-01'), o: ObjectId('65a000000000000000000001'), b: true, e: 'x1'},
        {_id: 2, n: 5.0, s: 'b', d: ISODate('2024-01-02'), o: ObjectId('65a000000000000000000002'), b: false, e: 'x2'},
        {_id: 3, n: NumberLong(5), s: 'A', d: ISODate('2024-01-01'), b: 1, e: 'x3'},
        {_id: 4, n: NumberDecimal('5'), s: 'ab', b: 'true', e: 'x4'},
        {_id: 5, n: 5.5, s: ['a', 'c'], d: '2024-01-01', e: 'x5'},
        {_id: 6, n: '5', s: null, o: 'x', e: 'x6'},
        {_id: 7, s: {a: 1}, e: 'x7'}
    ])";
    let mut plain = Shell::new();
    let mut indexed = Shell::new();
    run(&mut plain, insert);
    run(&mut indexed, insert);
    run(
        &mut indexed,
        "db.c.createIndex({n: 1}); db.c.createIndex({d: -1, s: 1}); db.c.createIndex({o: 1}); db.c.createIndex({b: 1}, {partialFilterExpression: {b: {$exists: true}}}); db.c.createIndex({e: 1}, {unique: true})",
    );
    for filter in [
        "{n: 5}",
        "{n: 5.0}",
        "{n: NumberLong(5)}",
        "{n: NumberDecimal('5')}",
        "{n: '5'}",
        "{n: 5.5}",
        "{n: 5, _id: {$gt: 1}}",
        "{n: {$in: [5, '5']}}",
        "{d: ISODate('2024-01-01')}",
        "{d: ISODate('2024-01-01'), s: 'a'}",
        "{d: ISODate('2024-01-01'), s: 'A'}",
        "{o: ObjectId('65a000000000000000000002')}",
        "{b: true}",
        "{b: 1}",
        "{e: 'x4'}",
        "{e: 'x4', n: 5}",
        "{e: 'x4', n: 6}",
        "{e: 'none'}",
    ] {
        let find = format!("db.c.find({filter}).sort({{_id: 1}}).toArray()");
        let scan = format!("db.c.find({filter}).hint({{$natural: 1}}).sort({{_id: 1}}).toArray()");
        assert_eq!(
            indexed.eval_json(&find, NOW),
            plain.eval_json(&scan, NOW),
            "{find}"
        );
        let plan = format!("db.c.find({filter}).explain().queryPlanner.winningPlan.stage");
        assert_ne!(
            run(&mut indexed, &plan).trim(),
            "'COLLSCAN'",
            "{filter} should read an index"
        );
    }
}

fn part(value: crate::mongo::value::Value, descending: bool) -> super::KeyPart {
    super::KeyPart { value, descending }
}

/// Keys of no part, one (inline) and several, made every way a key is made.
fn sample_keys() -> Vec<Vec<super::KeyPart>> {
    use crate::mongo::value::Value;
    let values = [
        Value::MinKey,
        Value::Null,
        Value::Int32(1),
        Value::Double(1.5),
        Value::String("user1@example.com".into()),
        Value::String("user10@example.com".into()),
        Value::MaxKey,
    ];
    let mut keys = vec![Vec::new()];
    for a in &values {
        for desc in [false, true] {
            keys.push(vec![part(a.clone(), desc)]);
        }
        for b in values.iter().step_by(2) {
            keys.push(vec![part(a.clone(), false), part(b.clone(), true)]);
            keys.push(vec![
                part(a.clone(), true),
                part(b.clone(), false),
                part(Value::Int64(7), false),
            ]);
        }
    }
    keys
}

#[test]
fn keys_order_as_the_slices_of_their_parts() {
    use super::Key;
    let parts = sample_keys();
    let keys: Vec<Key> = parts.iter().cloned().map(Key::from).collect();
    // A key grown part by part is the key made at once.
    for (p, k) in parts.iter().zip(&keys) {
        let mut grown = Key::with_capacity(p.len());
        for q in p {
            grown.push(q.clone());
        }
        assert_eq!(grown.cmp(k), std::cmp::Ordering::Equal, "{p:?}");
        assert!(grown.parts().eq(k.parts()));
        assert_eq!(k.len(), p.len());
    }
    for (pa, ka) in parts.iter().zip(&keys) {
        for (pb, kb) in parts.iter().zip(&keys) {
            assert_eq!(
                ka.cmp(kb),
                pa.as_slice().cmp(pb.as_slice()),
                "{pa:?} vs {pb:?}"
            );
            assert_eq!(ka == kb, pa == pb);
        }
    }
}

#[test]
fn a_key_of_one_ascending_field_is_its_value_and_head() {
    // The point of the inline key: an entry of a one-field index holds the value itself,
    // with no tag beside it, and the 16 bytes of its head.
    let key = std::mem::size_of::<super::Key>();
    let value = std::mem::size_of::<crate::mongo::value::Value>();
    assert_eq!(key, value + 16);
}

/// Values whose heads tie, nearly tie or differ: strings sharing 14 to 17 bytes (a head
/// holds 15), empty ones, NUL bytes (a head pads with them), multi-byte characters and
/// bytes above 0x7f, and a value of every other type.
fn head_values() -> Vec<crate::mongo::value::Value> {
    use crate::mongo::value::{ObjectId, Value};
    let shared = "abcdefghijklmnopq";
    let mut strings: Vec<String> = vec![
        String::new(),
        "\0".into(),
        "\0\0".into(),
        "a".into(),
        "a\0".into(),
        "a\0b".into(),
        "é".into(),
        "e\u{301}".into(),
        "\u{7f}".into(),
        "\u{80}".into(),
        "\u{10ffff}".into(),
        "user1@example.com".into(),
        "user10@example.com".into(),
        "user100000@example.com".into(),
        "user100000@example.org".into(),
        "user100000@exampl".into(),
    ];
    for n in 13..=shared.len() {
        for tail in ["", "\0", "a", "z", "ü"] {
            strings.push(format!("{}{tail}", &shared[..n]));
        }
    }
    let mut values: Vec<Value> = strings.into_iter().map(Value::String).collect();
    let mut doc = crate::mongo::value::Document::default();
    doc.insert("a".into(), Value::String("abcdefghijklmnopq".into()));
    values.extend([
        Value::MinKey,
        Value::Undefined,
        Value::Null,
        Value::Int32(-3),
        Value::Int64(1 << 60),
        Value::Double(f64::NAN),
        Value::Double(-0.0),
        Value::Double(2.5),
        Value::Document(doc.clone()),
        Value::Array(vec![Value::String("a".into())]),
        Value::Array(Vec::new()),
        Value::Binary {
            subtype: 0,
            bytes: vec![0xff; 20],
        },
        Value::ObjectId(ObjectId([7; 12])),
        Value::Bool(false),
        Value::Bool(true),
        Value::Date(-1),
        Value::Timestamp { t: 1, i: 2 },
        Value::Regex {
            pattern: "abcdefghijklmnopq".into(),
            options: String::new(),
        },
        Value::MaxKey,
    ]);
    values
}

#[test]
fn heads_order_keys_as_their_parts_do() {
    use super::Key;
    use crate::mongo::value::Value;
    let values = head_values();
    let mut keys: Vec<Key> = vec![Key::with_capacity(0)];
    for v in &values {
        for desc in [false, true] {
            keys.push(Key::one(part(v.clone(), desc)));
            let mut two = Key::one(part(v.clone(), desc));
            two.push(part(Value::Int32(1), false));
            keys.push(two);
        }
    }
    for a in &keys {
        for b in &keys {
            assert_eq!(a.cmp(b), a.cmp_parts(b), "{a:?} vs {b:?}");
        }
    }
    // A key whose first value is replaced orders as one made with that value.
    let mut probe = Key::one(part(Value::Null, false));
    for v in &values {
        probe.set_first_value(v.clone());
        let made = Key::one(part(v.clone(), false));
        for b in &keys {
            assert_eq!(probe.cmp(b), made.cmp(b), "{v:?} vs {b:?}");
        }
    }
}

#[test]
fn heads_order_random_strings_as_their_bytes() {
    use super::Key;
    use crate::mongo::value::Value;
    // Strings over a few characters (NUL, ASCII, two- and four-byte ones) up to 20 bytes,
    // so that many pairs share their first 15 bytes.
    let alphabet = ['\0', 'a', 'b', 'é', '\u{1f600}'];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let strings: Vec<String> = (0..400)
        .map(|_| {
            let mut s = String::new();
            let len = next() % 21;
            while (s.len() as u64) < len {
                let c = if next() % 4 == 0 {
                    alphabet[(next() % 5) as usize]
                } else {
                    'a'
                };
                s.push(c);
            }
            s
        })
        .collect();
    for a in &strings {
        for b in &strings {
            for desc in [false, true] {
                let ka = Key::one(part(Value::String(a.clone()), desc));
                let kb = Key::one(part(Value::String(b.clone()), desc));
                let bytes = a.as_bytes().cmp(b.as_bytes());
                assert_eq!(ka.cmp(&kb), if desc { bytes.reverse() } else { bytes });
            }
        }
    }
}

#[test]
fn scans_walk_the_entries_a_range_holds_both_ways() {
    use super::{Entry, Index, IndexSpec, Key, RecordId};
    use crate::mongo::value::{Document, Value};
    use std::ops::Bound::{self, Excluded, Included, Unbounded};
    let mut key_doc = Document::default();
    key_doc.insert("a".into(), Value::Int32(1));
    let spec = IndexSpec::parse(&key_doc, &Document::default()).expect("spec");
    let mut ix = Index::new(spec).expect("index");
    let one = |v: i64| Key::one(part(Value::Int64(v), false));
    for (rid, v) in [1, 3, 3, 3, 5, 8, 8, 13].into_iter().enumerate() {
        ix.add(vec![one(v)], &[], rid as RecordId);
    }
    let bound = |b: Option<(bool, i64, RecordId)>| -> Bound<Entry> {
        match b {
            None => Unbounded,
            Some((true, v, r)) => Included((one(v), r)),
            Some((false, v, r)) => Excluded((one(v), r)),
        }
    };
    let ends = [
        None,
        Some((true, 3, RecordId::MIN)),
        Some((false, 3, RecordId::MAX)),
        Some((true, 3, RecordId::MAX)),
        Some((false, 3, RecordId::MIN)),
        Some((true, 4, RecordId::MIN)),
        Some((true, 8, RecordId::MAX)),
        Some((false, 8, RecordId::MIN)),
        Some((true, 20, RecordId::MIN)),
    ];
    let rids = |it: Box<dyn Iterator<Item = &Entry> + '_>| it.map(|e| e.1).collect::<Vec<_>>();
    for lo in ends {
        for hi in ends {
            let wanted: Vec<RecordId> = ix
                .entries()
                .iter()
                .filter(|e| {
                    let after = match bound(lo) {
                        Included(b) => **e >= b,
                        Excluded(b) => **e > b,
                        Unbounded => true,
                    };
                    let before = match bound(hi) {
                        Included(b) => **e <= b,
                        Excluded(b) => **e < b,
                        Unbounded => true,
                    };
                    after && before
                })
                .map(|e| e.1)
                .collect();
            let forward = rids(ix.scan((bound(lo), bound(hi)), false));
            let mut backward = rids(ix.scan((bound(lo), bound(hi)), true));
            backward.reverse();
            assert_eq!(forward, wanted, "{lo:?}..{hi:?}");
            assert_eq!(backward, wanted, "{lo:?}..{hi:?} backwards");
        }
    }
    assert_eq!(ix.lookup(&one(3)).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(ix.lookup(&one(4)).count(), 0);
}
