//! The plan cache as mongosh shows it against MongoDB 7.0: `queryHash` and `planCacheKey` in
//! explain's `queryPlanner`, `db.coll.getPlanCache()` with `list()`, `clear()`,
//! `clearPlansByQuery()` and `help()`, `$planCacheStats`, and the entries' life (inactive,
//! active, deactivated when a cached plan does far more work than its trial). The hashes'
//! values are the sandbox's own; what is checked is where they appear and when they are
//! equal.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

fn eval(shell: &mut Shell, src: &str) -> String {
    common::eval_json_ok(shell, src, NOW)
}

/// 300 documents `{ _id: i, a: i % 3, b: i, c: i % 7 }` with indexes on `a` and on `b`.
fn shell_with_two_indexes() -> Shell {
    shell_with_indexes("db.c.createIndex({a: 1}); db.c.createIndex({b: 1})")
}

/// The same documents, with the indexes `create` builds.
fn shell_with_indexes(create: &str) -> Shell {
    let mut shell = Shell::new();
    let docs: Vec<String> = (0..300)
        .map(|i| format!("{{_id: {i}, a: {}, b: {i}, c: {}}}", i % 3, i % 7))
        .collect();
    eval(
        &mut shell,
        &format!("db.c.insertMany([{}])", docs.join(", ")),
    );
    eval(&mut shell, create);
    shell
}

fn query_hash(shell: &mut Shell, find: &str) -> String {
    eval(shell, &format!("{find}.explain().queryPlanner.queryHash"))
}

fn plan_cache_key(shell: &mut Shell, find: &str) -> String {
    eval(
        shell,
        &format!("{find}.explain().queryPlanner.planCacheKey"),
    )
}

/// `[isActive, works]` of each entry of `db.c`'s cache.
fn entries(shell: &mut Shell) -> String {
    eval(
        shell,
        "db.c.getPlanCache().list().map(e => [e.isActive, e.works])",
    )
}

#[test]
fn explain_prints_both_hashes_after_the_parsed_query() {
    let mut shell = shell_with_two_indexes();
    let keys = eval(
        &mut shell,
        "Object.keys(db.c.find({a: 1, b: 2}).explain().queryPlanner)",
    );
    assert_eq!(
        keys,
        r#"["namespace", "indexFilterSet", "parsedQuery", "queryHash", "planCacheKey", "maxIndexedOrSolutionsReached", "maxIndexedAndSolutionsReached", "maxScansToExplodeReached", "winningPlan", "rejectedPlans"]"#
    );
    // Eight upper-case hexadecimal digits, as the server's zeroPaddedHex.
    for find in ["db.c.find({a: 1})", "db.c.find({})", "db.c.find({_id: 3})"] {
        for field in [
            query_hash(&mut shell, find),
            plan_cache_key(&mut shell, find),
        ] {
            let hex = field.trim_matches('"');
            assert_eq!(hex.len(), 8, "{find}: {field}");
            assert!(
                hex.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
                "{find}: {field}"
            );
        }
    }
    // No collection, no hashes (the server computes them from the collection's indexes).
    let missing = eval(
        &mut shell,
        "Object.keys(db.nope.find({a: 1}).explain().queryPlanner).filter(k => k.endsWith('Hash') || k == 'planCacheKey')",
    );
    assert_eq!(missing, "[]");
}

#[test]
fn the_query_hash_follows_the_shape_not_the_values() {
    let mut shell = shell_with_two_indexes();
    // (find, find of the same shape)
    let same = [
        ("db.c.find({a: 1, b: 2})", "db.c.find({b: 7, a: 9})"),
        ("db.c.find({a: 1})", "db.c.find({a: {$eq: 'x'}})"),
        (
            "db.c.find({a: 1, b: 2})",
            "db.c.find({$and: [{a: 3}, {b: 4}]})",
        ),
        ("db.c.find({a: {$gt: 1}})", "db.c.find({a: {$gt: 100}})"),
        (
            "db.c.find({a: {$in: [1, 2]}})",
            "db.c.find({a: {$in: [1, 2, 3]}})",
        ),
        (
            "db.c.find({a: 1}).sort({b: 1})",
            "db.c.find({a: 5}).sort({b: 1})",
        ),
        ("db.c.find({a: 1}, {b: 1})", "db.c.find({a: 2}, {b: 1})"),
        ("db.c.find({a: /^x/})", "db.c.find({a: /y/})"),
        ("db.c.find({a: 1})", "db.c.find({a: 2}, {}).sort({})"),
    ];
    for (one, other) in same {
        assert_eq!(
            query_hash(&mut shell, one),
            query_hash(&mut shell, other),
            "{one} / {other}"
        );
        assert_eq!(
            plan_cache_key(&mut shell, one),
            plan_cache_key(&mut shell, other),
            "{one} / {other}"
        );
    }
    let different = [
        ("db.c.find({a: 1})", "db.c.find({b: 1})"),
        ("db.c.find({a: 1})", "db.c.find({a: 1, b: 1})"),
        ("db.c.find({a: 1})", "db.c.find({a: {$gt: 1}})"),
        ("db.c.find({a: 1})", "db.c.find({a: 1}).sort({b: 1})"),
        (
            "db.c.find({a: 1}).sort({b: 1})",
            "db.c.find({a: 1}).sort({b: -1})",
        ),
        ("db.c.find({a: 1})", "db.c.find({a: 1}, {b: 1})"),
        (
            "db.c.find({a: {$exists: true}})",
            "db.c.find({a: {$exists: false}})",
        ),
        ("db.c.find({a: /x/})", "db.c.find({a: /x/i})"),
        (
            "db.c.find({$or: [{a: 1}, {b: 2}]})",
            "db.c.find({$or: [{a: 1}, {c: 2}]})",
        ),
    ];
    for (one, other) in different {
        assert_ne!(
            query_hash(&mut shell, one),
            query_hash(&mut shell, other),
            "{one} / {other}"
        );
    }
}

#[test]
fn the_plan_cache_key_changes_with_the_indexes_over_the_query() {
    let mut shell = shell_with_two_indexes();
    let find = "db.c.find({a: 1, c: 2})";
    let (hash, key) = (
        query_hash(&mut shell, find),
        plan_cache_key(&mut shell, find),
    );
    // An index over a field the query does not name changes nothing.
    eval(&mut shell, "db.c.createIndex({b: 1, _id: 1})");
    assert_eq!(plan_cache_key(&mut shell, find), key);
    // One over a queried field changes the key, not the hash.
    eval(&mut shell, "db.c.createIndex({c: 1})");
    assert_eq!(query_hash(&mut shell, find), hash);
    let with_c = plan_cache_key(&mut shell, find);
    assert_ne!(with_c, key);
    // Dropping it gives the first key back.
    eval(&mut shell, "db.c.dropIndex('c_1')");
    assert_eq!(plan_cache_key(&mut shell, find), key);
    // A sparse index cannot serve a null equality: the same shape gets another key.
    eval(&mut shell, "db.c.createIndex({c: 1}, {sparse: true})");
    assert_eq!(query_hash(&mut shell, "db.c.find({a: 1, c: null})"), hash);
    assert_ne!(
        plan_cache_key(&mut shell, "db.c.find({a: 1, c: null})"),
        plan_cache_key(&mut shell, "db.c.find({a: 1, c: 2})")
    );
}

#[test]
fn list_shows_the_entry_as_the_server_does() {
    let mut shell = shell_with_two_indexes();
    eval(&mut shell, "db.c.find({a: 1, b: {$gte: 290}}).toArray()");
    let keys = eval(&mut shell, "Object.keys(db.c.getPlanCache().list()[0])");
    assert_eq!(
        keys,
        r#"["version", "queryHash", "planCacheKey", "isActive", "works", "timeOfCreation", "createdFromQuery", "cachedPlan", "creationExecStats", "candidatePlanScores", "indexFilterSet", "estimatedSizeBytes", "host"]"#
    );
    let entry = "db.c.getPlanCache().list()[0]";
    let explained = "db.c.find({a: 1, b: {$gte: 290}}).explain().queryPlanner";
    for (got, want) in [
        (format!("{entry}.version"), r#""1""#.to_string()),
        (
            format!("{entry}.queryHash == {explained}.queryHash"),
            "true".into(),
        ),
        (
            format!("{entry}.planCacheKey == {explained}.planCacheKey"),
            "true".into(),
        ),
        (
            format!("{entry}.createdFromQuery"),
            r#"{"query": {"a": 1, "b": {"$gte": 290}}, "sort": {}, "projection": {}}"#.into(),
        ),
        (
            format!("{entry}.cachedPlan.inputStage.indexName"),
            r#""b_1""#.into(),
        ),
        // The virtual clock's time.
        (
            format!("{entry}.timeOfCreation"),
            r#"{"$date": "2024-01-01T00:00:00.000Z"}"#.into(),
        ),
        (format!("{entry}.creationExecStats.length"), "2".into()),
        (
            format!("{entry}.creationExecStats[0].executionStages.inputStage.indexName"),
            r#""b_1""#.into(),
        ),
        (
            format!("{entry}.creationExecStats[1].executionStages.inputStage.indexName"),
            r#""a_1""#.into(),
        ),
        (
            format!("{entry}.candidatePlanScores[0] > {entry}.candidatePlanScores[1]"),
            "true".into(),
        ),
        (format!("{entry}.indexFilterSet"), "false".into()),
        (
            format!("typeof {entry}.works + typeof {entry}.estimatedSizeBytes"),
            r#""objectobject""#.into(),
        ),
    ] {
        assert_eq!(eval(&mut shell, &got), want, "{got}");
    }
    // `list(pipeline)` runs the stages after `$planCacheStats`, as mongosh does.
    assert_eq!(
        eval(
            &mut shell,
            "db.c.getPlanCache().list([{$project: {_id: 0, isActive: 1}}])"
        ),
        r#"[{"isActive": false}]"#
    );
    assert_eq!(
        eval(
            &mut shell,
            "db.c.aggregate([{$planCacheStats: {}}, {$count: 'n'}]).toArray()"
        ),
        r#"[{"n": 1}]"#
    );
}

#[test]
fn an_entry_starts_inactive_and_is_activated_by_a_trial_as_cheap() {
    let mut shell = shell_with_two_indexes();
    // One candidate: nothing raced, nothing cached.
    eval(&mut shell, "db.c.find({a: 1}).toArray()");
    assert_eq!(entries(&mut shell), "[]");
    // Two candidates: the trial picks b_1 (10 keys and its end: 11 works) and records an
    // inactive entry.
    eval(&mut shell, "db.c.find({a: 1, b: {$gte: 290}}).toArray()");
    assert_eq!(entries(&mut shell), r#"[[false, 11]]"#);
    // The next find of the shape races again; as cheap or cheaper, the entry is active.
    let out = eval(
        &mut shell,
        "db.c.find({a: 2, b: {$gte: 293}}).sort({_id: 1}).toArray().map(d => d._id)",
    );
    assert_eq!(out, "[293, 296, 299]");
    assert_eq!(
        eval(&mut shell, "db.c.getPlanCache().list().length"),
        "2",
        "a sort is another shape"
    );
    eval(&mut shell, "db.c.getPlanCache().clear()");
    eval(&mut shell, "db.c.find({a: 1, b: {$gte: 290}}).toArray()");
    eval(&mut shell, "db.c.find({a: 2, b: {$gte: 294}}).toArray()");
    // 6 keys and the end: 7 works, no more than the 11 recorded.
    assert_eq!(entries(&mut shell), r#"[[true, 7]]"#);
    // A costlier trial leaves an inactive entry inactive and doubles its works.
    eval(&mut shell, "db.c.getPlanCache().clear()");
    eval(&mut shell, "db.c.find({a: 2, b: {$gte: 294}}).toArray()");
    eval(&mut shell, "db.c.find({a: 1, b: {$gte: 290}}).toArray()");
    // 11 works against 7 recorded: 7 × 2.
    assert_eq!(entries(&mut shell), r#"[[false, 14]]"#);
}

#[test]
fn a_cached_plan_that_does_far_more_work_is_deactivated_and_answers_stay_the_same() {
    let mut shell = shell_with_two_indexes();
    let ids = |shell: &mut Shell, filter: &str| {
        let find = format!("db.c.find({filter}).sort({{_id: 1}}).toArray()");
        let scan = format!("db.c.find({filter}).hint({{$natural: 1}}).sort({{_id: 1}}).toArray()");
        let (got, want) = (eval(shell, &find), eval(shell, &scan));
        assert_eq!(got, want, "{filter}");
    };
    ids(&mut shell, "{a: 1, b: {$gte: 290}}");
    ids(&mut shell, "{a: 2, b: {$gte: 293}}");
    assert_eq!(entries(&mut shell), r#"[[true, 8]]"#);
    // b_1 over every b reads 300 keys, far above ten times the trial's works: the entry is
    // deactivated and the query raced again (a_1 wins, more works than recorded: the entry
    // stays inactive with its works doubled).
    ids(&mut shell, "{a: 0, b: {$gte: 0}}");
    assert_eq!(entries(&mut shell), r#"[[false, 16]]"#);
    // Other indexes: the entry was made among others and is gone.
    eval(&mut shell, "db.c.dropIndex('b_1')");
    assert_eq!(entries(&mut shell), "[]");
}

#[test]
fn index_builds_and_drops_clear_the_collections_entries() {
    // Each step runs after a find that leaves an entry, and says how many remain.
    for (step, left) in [
        ("db.c.createIndex({c: 1})", 0),
        // Building an index that exists changes nothing, and clears nothing.
        ("db.c.createIndex({a: 1})", 1),
        ("db.c.dropIndex('b_1'); db.c.createIndex({b: 1})", 0),
        ("db.d.createIndex({c: 1})", 1),
        (
            "db.c.drop(); db.c.insertOne({a: 1, b: 1}); db.c.createIndexes([{a: 1}, {b: 1}])",
            0,
        ),
        ("db.getSiblingDB('other').dropDatabase()", 1),
        (
            "db.dropDatabase(); db.c.insertOne({a: 1, b: 1}); db.c.createIndexes([{a: 1}, {b: 1}])",
            0,
        ),
    ] {
        let mut shell = shell_with_two_indexes();
        eval(&mut shell, "db.c.find({a: 1, b: {$gte: 290}}).toArray()");
        eval(&mut shell, step);
        assert_eq!(
            eval(&mut shell, "db.c.getPlanCache().list().length"),
            left.to_string(),
            "{step}"
        );
    }
}

#[test]
fn clear_and_clear_plans_by_query() {
    let mut shell = shell_with_two_indexes();
    eval(&mut shell, "db.c.find({a: 1, b: {$gte: 290}}).toArray()");
    eval(&mut shell, "db.c.find({a: 1, b: 3}).toArray()");
    eval(
        &mut shell,
        "db.c.find({a: 1, b: {$gte: 290}}, {_id: 0}).toArray()",
    );
    assert_eq!(eval(&mut shell, "db.c.getPlanCache().list().length"), "3");
    // Another shape (values do not matter), with the projection as its second argument.
    assert_eq!(
        eval(
            &mut shell,
            "db.c.getPlanCache().clearPlansByQuery({a: 2, b: {$gte: 0}}, {_id: 0})"
        ),
        r#"{"ok": 1}"#
    );
    assert_eq!(eval(&mut shell, "db.c.getPlanCache().list().length"), "2");
    // mongosh sends an empty projection and sort, which name no other shape.
    eval(
        &mut shell,
        "db.c.getPlanCache().clearPlansByQuery({b: 8, a: 9}, {}, {})",
    );
    assert_eq!(
        eval(
            &mut shell,
            "db.c.getPlanCache().list()[0].createdFromQuery.query"
        ),
        r#"{"a": 1, "b": {"$gte": 290}}"#
    );
    assert_eq!(
        eval(&mut shell, "db.c.getPlanCache().clear()"),
        r#"{"ok": 1}"#
    );
    assert_eq!(eval(&mut shell, "db.c.getPlanCache().list().length"), "0");
}

#[test]
fn errors_in_the_servers_and_mongoshs_words() {
    let mut shell = shell_with_two_indexes();
    for (src, want) in [
        (
            "db.c.getPlanCache().clearPlansByQuery()",
            "MongoServerError[BadValue]: required field query must be an object",
        ),
        (
            "db.c.getPlanCache().clearPlansByQuery({a: 1}, 5)",
            "MongoServerError[BadValue]: optional field projection must be an object",
        ),
        (
            "db.c.getPlanCache().clearPlansByQuery({a: {$bad: 1}})",
            "MongoServerError[BadValue]: unknown operator: $bad",
        ),
        (
            "db.nope.getPlanCache().list()",
            "MongoServerError[Location50933]: collection 'test.nope' does not exist",
        ),
        (
            "db.c.aggregate([{$match: {}}, {$planCacheStats: {}}])",
            "MongoServerError[Location40602]: $planCacheStats is only valid as the first stage in a pipeline",
        ),
        (
            "db.c.aggregate([{$planCacheStats: 1}])",
            "MongoServerError[FailedToParse]: $planCacheStats value must be an object. Found: int",
        ),
        (
            "db.c.getPlanCache().listQueryShapes()",
            "MongoshDeprecatedError: [COMMON-10003] PlanCache.listQueryShapes was deprecated, please use PlanCache.list instead",
        ),
        (
            "db.c.getPlanCache().getPlansByQuery()",
            "MongoshDeprecatedError: [COMMON-10003] PlanCache.getPlansByQuery was deprecated, please use PlanCache.list instead",
        ),
    ] {
        assert_eq!(shell.eval_mongosh(src, NOW).trim_end(), want, "{src}");
    }
    // Clearing a collection that does not exist succeeds, as on the server.
    assert_eq!(
        shell
            .eval_mongosh("db.nope.getPlanCache().clear()", NOW)
            .trim_end(),
        "{ ok: 1 }"
    );
}

#[test]
fn the_object_prints_and_helps_as_in_mongosh() {
    let mut shell = Shell::new();
    assert_eq!(
        shell.eval_mongosh("db.c.getPlanCache()", NOW).trim_end(),
        "PlanCache for collection c."
    );
    let help = shell.eval_mongosh("db.c.getPlanCache().help()", NOW);
    assert_eq!(
        help.trim_end(),
        "
  An interface to access the query plan cache object and associated PlanCache methods for a collection.:

    clear                                      Removes cached query plan(s) for a collection.
    clearPlansByQuery                          Removes cached query plan(s) for a collection of the specified query shape.
    list                                       Lists cached query plan(s) for a collection.
    listQueryShapes                            Deprecated. Please use PlanCache.list instead
    getPlansByQuery                            Deprecated. Please use PlanCache.list instead

  For more information on usage: https://mongodb.com/docs/manual/reference/method/js-plan-cache/"
    );
}

#[test]
fn a_plan_that_finishes_in_the_trial_wins_a_tie_and_its_bonus_is_not_in_the_scores() {
    // b_1 is the earlier candidate; neither finds anything in a_1's one work, but a_1 is at
    // its end: the server's EOF bonus makes it the winner.
    let mut shell = shell_with_indexes("db.c.createIndex({b: 1}); db.c.createIndex({a: 1})");
    let find = "db.c.find({a: 5, b: {$gte: 0}})";
    assert_eq!(
        eval(
            &mut shell,
            &format!("{find}.explain().queryPlanner.winningPlan.inputStage.indexName")
        ),
        r#""a_1""#
    );
    eval(&mut shell, &format!("{find}.toArray()"));
    // 1 + 0 results per work + the no-sort and no-intersection bonuses (1e-4 each), the
    // same for both.
    assert_eq!(
        eval(
            &mut shell,
            "db.c.getPlanCache().list().map(e => [e.cachedPlan.inputStage.indexName, e.candidatePlanScores])"
        ),
        r#"[["a_1", [1.0002, 1.0002]]]"#
    );
}

#[test]
fn a_rooted_or_caches_each_branch_with_several_candidates_as_a_query_of_its_own() {
    let mut shell = shell_with_indexes("db.c.createIndexes([{a: 1}, {a: 1, c: 1}, {b: 1}])");
    let ids = ".toArray().map(d => d._id).sort((x, y) => x - y)";
    let find = format!("db.c.find({{$or: [{{a: 1, c: 2}}, {{b: {{$lt: 5}}}}]}}){ids}");
    let scan = format!(
        "db.c.find({{$or: [{{a: 1, c: 2}}, {{b: {{$lt: 5}}}}]}}).hint({{$natural: 1}}){ids}"
    );
    let want = eval(&mut shell, &scan);
    assert_eq!(eval(&mut shell, &find), want);
    // Only the first branch has two candidates (a_1 and a_1_c_1).
    assert_eq!(
        eval(
            &mut shell,
            "db.c.getPlanCache().list().map(e => [e.isActive, e.createdFromQuery, e.cachedPlan.inputStage.indexName])"
        ),
        r#"[[false, {"query": {"a": 1, "c": 2}, "sort": {}, "projection": {}}, "a_1_c_1"]]"#
    );
    // The next find of the shape activates the branch's entry, and then runs on it.
    for _ in 0..2 {
        assert_eq!(eval(&mut shell, &find), want);
    }
    assert_eq!(
        eval(
            &mut shell,
            "db.c.getPlanCache().list().map(e => e.isActive)"
        ),
        "[true]"
    );
    // The whole query's explain still shows the subplanned OR.
    assert_eq!(
        eval(
            &mut shell,
            "db.c.find({$or: [{a: 1, c: 2}, {b: {$lt: 5}}]}).explain().queryPlanner.winningPlan.stage"
        ),
        r#""SUBPLAN""#
    );
}
