//! The aggregation pipeline through its public interface: the flow view (`run_with_flow`),
//! cursor batches in the shell, JSON mode, resilience to malformed pipelines, and an ignored
//! benchmark against the performance goals in the design guide.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::agg::{run, run_with_flow};
use nosql_playground::mongo::store::Store;
use nosql_playground::mongo::value::{Document, Value};
use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

fn doc(fields: &[(&str, Value)]) -> Document {
    let mut d = Document::default();
    for (k, v) in fields {
        d.insert((*k).to_string(), v.clone());
    }
    d
}

fn stage(name: &str, arg: Value) -> Value {
    Value::Document(doc(&[(name, arg)]))
}

fn sales_store(n: usize) -> Store {
    let mut store = Store::default();
    let coll = store.collection_mut("test", "sales");
    let items = ["abc", "jkl", "xyz", "pqr"];
    for i in 0..n {
        let tags = Value::Array(
            (0..(i % 4))
                .map(|t| Value::String(format!("t{t}")))
                .collect(),
        );
        let _ = coll.insert(doc(&[
            ("_id", Value::Int32(i as i32)),
            ("item", Value::String(items[i % items.len()].into())),
            ("price", Value::Int32((i % 50) as i32)),
            ("qty", Value::Int32((i % 7) as i32)),
            ("tags", tags),
        ]));
    }
    store
}

#[test]
fn flow_reports_every_stage_in_one_pass() {
    let mut store = sales_store(40);
    let pipeline = vec![
        stage(
            "$match",
            Value::Document(doc(&[(
                "price",
                Value::Document(doc(&[("$gte", Value::Int32(10))])),
            )])),
        ),
        stage(
            "$group",
            Value::Document(doc(&[
                ("_id", Value::String("$item".into())),
                ("n", Value::Document(doc(&[("$sum", Value::Int32(1))]))),
            ])),
        ),
        stage("$sort", Value::Document(doc(&[("_id", Value::Int32(1))]))),
        stage("$limit", Value::Int32(2)),
    ];
    let ticks = std::cell::Cell::new(0.0);
    let timer = || {
        ticks.set(ticks.get() + 1.5);
        ticks.get()
    };
    let Ok((docs, flow)) =
        run_with_flow(&mut store, "test", "sales", &pipeline, NOW, 1, Some(&timer))
    else {
        panic!("the pipeline runs");
    };
    let names: Vec<&str> = flow.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["$match", "$group", "$sort", "$limit"]);
    let counts: Vec<(usize, usize)> = flow.iter().map(|f| (f.docs_in, f.docs_out)).collect();
    assert_eq!(counts, [(40, 30), (30, 4), (4, 4), (4, 2)]);
    assert!(flow.iter().all(|f| f.sample.len() <= 1));
    assert!(flow.iter().all(|f| f.ms == Some(1.5)));
    assert_eq!(flow[3].sample.first(), docs.first());
    assert_eq!(docs.len(), 2);
    // The same pipeline without the flow view gives the same documents.
    assert_eq!(
        run(&mut store, "test", "sales", &pipeline, NOW).ok(),
        Some(docs)
    );
}

#[test]
fn flow_errors_name_the_failing_stage() {
    let mut store = sales_store(3);
    let pipeline = vec![
        stage("$match", Value::Document(Document::default())),
        stage(
            "$project",
            Value::Document(doc(&[(
                "x",
                Value::Document(doc(&[(
                    "$divide",
                    Value::Array(vec![Value::String("$item".into()), Value::Int32(2)]),
                )])),
            )])),
        ),
    ];
    let err = run_with_flow(&mut store, "test", "sales", &pipeline, NOW, 3, None).err();
    let err = err.map(|e| (e.stage, e.code_name, e.message));
    assert_eq!(
        err,
        Some((
            Some(1),
            "TypeMismatch",
            "$divide only supports numeric types, not string and int".to_string()
        ))
    );
    let unknown = run(
        &mut store,
        "test",
        "sales",
        &[stage("$nope", Value::Int32(1))],
        NOW,
    );
    assert_eq!(unknown.err().and_then(|e| e.stage), Some(0));
}

#[test]
fn shell_pages_results_and_shows_the_flow() {
    let mut shell = Shell::new();
    shell.eval_mongosh(
        "db.n.insertMany([{_id:1},{_id:2},{_id:3},{_id:4},{_id:5},{_id:6},{_id:7},{_id:8},{_id:9},{_id:10},{_id:11},{_id:12},{_id:13},{_id:14},{_id:15},{_id:16},{_id:17},{_id:18},{_id:19},{_id:20},{_id:21},{_id:22}])",
        NOW,
    );
    let first = shell.eval_mongosh("db.n.aggregate([{ $sort: { _id: -1 } }])", NOW);
    assert!(first.starts_with("[\n  { _id: 22 },"), "{first}");
    assert!(
        first.ends_with("{ _id: 3 }\n]\nType \"it\" for more\n"),
        "{first}"
    );
    assert_eq!(
        shell.eval_mongosh("it", NOW),
        "[ { _id: 2 }, { _id: 1 } ]\n"
    );
    assert_eq!(shell.eval_mongosh("it", NOW), "no cursor\n");
    assert_eq!(
        shell.eval_json("db.n.aggregate([{ $match: { _id: { $lt: 3 } } }])", NOW),
        "[{\"_id\": 1}, {\"_id\": 2}]\n"
    );
    let flow = shell.eval_mongosh(
        "db.n.aggregate([{ $match: { _id: { $gt: 20 } } }, { $count: \"n\" }], { flow: true, flowSample: 1 })",
        NOW,
    );
    assert_eq!(
        flow,
        "Stage 1 $match: 22 in -> 2 out (examined 22)\n  [ { _id: 21 } ]\n  ... 1 more\n\
         Stage 2 $count: 2 in -> 1 out (examined 2)\n  [ { n: 2 } ]\nResult: 1 document\n"
    );
    assert_eq!(
        shell.eval_mongosh("db.n.aggregate([{ $match: { _id: 0 } }])", NOW),
        ""
    );
}

#[test]
fn malformed_pipelines_are_errors_not_crashes() {
    let mut shell = Shell::new();
    shell.eval_mongosh("db.c.insertOne({_id: 1, a: [1, {b: 2}], s: 'x'})", NOW);
    let inputs = [
        "db.c.aggregate(1)",
        "db.c.aggregate([1])",
        "db.c.aggregate([{}])",
        "db.c.aggregate([{$group: 1}])",
        "db.c.aggregate([{$project: {a: {$map: 1}}}])",
        "db.c.aggregate([{$project: {a: {$filter: {input: '$a'}}}}])",
        "db.c.aggregate([{$project: {a: {$reduce: {}}}}])",
        "db.c.aggregate([{$project: {a: {$let: {vars: 1, in: 1}}}}])",
        "db.c.aggregate([{$project: {a: {$range: [0, 1e12, 1]}}}])",
        "db.c.aggregate([{$project: {a: {$regexMatch: {input: '$s', regex: '(('}}}}])",
        "db.c.aggregate([{$project: {a: {$dateToString: {date: 5}}}}])",
        "db.c.aggregate([{$project: {a: {$substrBytes: ['é', 1, 1]}}}])",
        "db.c.aggregate([{$unwind: {path: '$a', bogus: 1}}])",
        "db.c.aggregate([{$lookup: {from: 'c'}}])",
        "db.c.aggregate([{$bucket: {groupBy: '$a', boundaries: [2, 1]}}])",
        "db.c.aggregate([{$setWindowFields: {output: {x: {$rank: {}}}}}])",
        "db.c.aggregate([{$densify: {field: 'a', range: {step: 0, bounds: 'full'}}}])",
        "db.c.aggregate([{$sample: {size: -1}}])",
        "db.c.aggregate([{$facet: {}}])",
        "db.c.aggregate([{$replaceRoot: {newRoot: '$s'}}])",
        "db.c.aggregate([{$merge: {into: 'd', whenMatched: [ {$group: {_id: 1}} ]}}])",
    ];
    for input in inputs {
        let out = shell.eval_mongosh(input, NOW);
        assert!(out.contains("Error"), "{input} -> {out}");
    }
    // Deeply nested expressions stop at the nesting limit instead of overflowing the stack.
    let mut nested = String::from("1");
    for _ in 0..120 {
        nested = format!("{{$abs: {nested}}}");
    }
    let out = shell.eval_mongosh(
        &format!("db.c.aggregate([{{$project: {{x: {nested}}}}}])"),
        NOW,
    );
    assert!(!out.is_empty());
}

/// `cargo test --release --test mongo_agg -- --ignored --nocapture` prints the timings the
/// design guide sets goals for (≤ 14 ms and ≤ 30 ms natively); never a timed assertion.
#[test]
#[ignore]
fn benchmark_match_group_sort_and_unwind_group() {
    let mut store = sales_store(100_000);
    let match_group_sort = vec![
        stage(
            "$match",
            Value::Document(doc(&[(
                "price",
                Value::Document(doc(&[("$gte", Value::Int32(10))])),
            )])),
        ),
        stage(
            "$group",
            Value::Document(doc(&[
                ("_id", Value::String("$item".into())),
                (
                    "total",
                    Value::Document(doc(&[("$sum", Value::String("$price".into()))])),
                ),
                (
                    "avgQty",
                    Value::Document(doc(&[("$avg", Value::String("$qty".into()))])),
                ),
            ])),
        ),
        stage(
            "$sort",
            Value::Document(doc(&[("total", Value::Int32(-1))])),
        ),
    ];
    let unwind_group = vec![
        stage("$unwind", Value::String("$tags".into())),
        stage(
            "$group",
            Value::Document(doc(&[
                ("_id", Value::String("$tags".into())),
                ("n", Value::Document(doc(&[("$sum", Value::Int32(1))]))),
            ])),
        ),
    ];
    for (name, pipeline) in [
        ("$match+$group+$sort", &match_group_sort),
        ("$unwind+$group", &unwind_group),
    ] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let start = std::time::Instant::now();
            let out = run(&mut store, "test", "sales", pipeline, NOW);
            best = best.min(start.elapsed().as_secs_f64() * 1000.0);
            assert!(out.is_ok());
        }
        println!("{name} over 100k documents: {best:.2} ms (best of 5)");
    }
}

#[test]
#[ignore]
fn benchmark_per_stage() {
    let mut store = sales_store(100_000);
    let pipeline = vec![
        stage(
            "$match",
            Value::Document(doc(&[(
                "price",
                Value::Document(doc(&[("$gte", Value::Int32(10))])),
            )])),
        ),
        stage(
            "$group",
            Value::Document(doc(&[
                ("_id", Value::String("$item".into())),
                (
                    "total",
                    Value::Document(doc(&[("$sum", Value::String("$price".into()))])),
                ),
            ])),
        ),
        stage(
            "$sort",
            Value::Document(doc(&[("total", Value::Int32(-1))])),
        ),
    ];
    let unwind_group = vec![
        stage("$unwind", Value::String("$tags".into())),
        stage(
            "$group",
            Value::Document(doc(&[
                ("_id", Value::String("$tags".into())),
                ("n", Value::Document(doc(&[("$sum", Value::Int32(1))]))),
            ])),
        ),
    ];
    // The baseline: the same filter run straight over the collection, as find does.
    if let (Some(coll), Ok(filter)) = (
        store.collection("test", "sales"),
        nosql_playground::mongo::query::Filter::compile(&doc(&[(
            "price",
            Value::Document(doc(&[("$gte", Value::Int32(10))])),
        )])),
    ) {
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let n = coll.docs.iter().filter(|d| filter.matches(d)).count();
            println!(
                "filter alone: {n} docs in {:.2} ms",
                t.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
    let start = std::time::Instant::now();
    let timer = || start.elapsed().as_secs_f64() * 1000.0;
    for pipeline in [&pipeline, &unwind_group, &pipeline, &unwind_group] {
        let t0 = timer();
        if let Ok((_, flow)) =
            run_with_flow(&mut store, "test", "sales", pipeline, NOW, 0, Some(&timer))
        {
            for f in flow {
                println!("{} {:.2} ms", f.name, f.ms.unwrap_or(0.0));
            }
        }
        println!("total {:.2} ms", timer() - t0);
    }
}

#[test]
fn fused_unwind_group_matches_the_stage_by_stage_run() {
    let mut store = sales_store(30);
    // Documents whose tags are missing, null or a plain value too.
    let coll = store.collection_mut("test", "sales");
    let _ = coll.insert(doc(&[
        ("_id", Value::Int32(100)),
        ("item", Value::String("zzz".into())),
    ]));
    let _ = coll.insert(doc(&[("_id", Value::Int32(101)), ("tags", Value::Null)]));
    let _ = coll.insert(doc(&[
        ("_id", Value::Int32(102)),
        ("tags", Value::String("solo".into())),
    ]));
    for preserve in [false, true] {
        let pipeline = vec![
            stage(
                "$unwind",
                Value::Document(doc(&[
                    ("path", Value::String("$tags".into())),
                    ("preserveNullAndEmptyArrays", Value::Bool(preserve)),
                ])),
            ),
            stage(
                "$group",
                Value::Document(doc(&[
                    ("_id", Value::String("$tags".into())),
                    ("n", Value::Document(doc(&[("$sum", Value::Int32(1))]))),
                    (
                        "items",
                        Value::Document(doc(&[("$addToSet", Value::String("$item".into()))])),
                    ),
                ])),
            ),
        ];
        let fused = run(&mut store, "test", "sales", &pipeline, NOW).ok();
        let staged = run_with_flow(&mut store, "test", "sales", &pipeline, NOW, 0, None)
            .ok()
            .map(|(docs, _)| docs);
        assert!(fused.is_some());
        assert_eq!(fused, staged, "preserve: {preserve}");
    }
}

#[test]
fn extreme_numbers_and_dates_never_crash() {
    let mut shell = Shell::new();
    shell.eval_mongosh(
        r#"db.c.insertOne({_id: 1, n: NumberLong("9223372036854775807"), m: NumberLong("-9223372036854775808"), a: [1,2,3]})"#,
        NOW,
    );
    let inputs = [
        r#"db.c.aggregate([{$project: {d: {$toDate: "$n"}}}])"#,
        r#"db.c.aggregate([{$project: {y: {$year: {$toDate: "$n"}}, y2: {$year: {date: {$toDate: "$m"}, timezone: "America/New_York"}}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$dateAdd: {startDate: {$toDate: "$n"}, unit: "year", amount: "$n"}}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$dateTrunc: {date: {$toDate: "$n"}, unit: "week", binSize: "$n"}}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$dateTrunc: {date: {$toDate: "$m"}, unit: "month", binSize: "$n", timezone: "Europe/Paris"}}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$dateDiff: {startDate: {$toDate: "$m"}, endDate: {$toDate: "$n"}, unit: "millisecond", timezone: "+05:00"}}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$slice: ["$a", "$m"]}, y: {$slice: ["$a", "$m", "$n"]}, z: {$arrayElemAt: ["$a", "$m"]}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$add: ["$n", "$n"]}, y: {$multiply: ["$m", -1]}, z: {$subtract: ["$m", 1]}, w: {$abs: "$m"}, v: {$mod: ["$m", -1]}, u: {$pow: ["$n", 2]}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$range: [0, "$n", "$n"]}, y: {$round: ["$n", -20]}, t: {$trunc: ["$m", -5]}}}])"#,
        r#"db.c.aggregate([{$setWindowFields: {sortBy: {_id: 1}, output: {s: {$sum: 1, window: {documents: [-1e30, 1e30]}}, sh: {$shift: {output: "$_id", by: NumberLong("9223372036854775807")}}}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$dateToString: {date: {$toDate: "$n"}, format: "%Y %G %V %j"}}}}])"#,
        r#"db.c.aggregate([{$bucketAuto: {groupBy: "$n", buckets: NumberLong("9223372036854775807")}}])"#,
        r#"db.c.aggregate([{$densify: {field: "n", range: {step: 1, bounds: [0, 3]}}}])"#,
        r#"db.c.aggregate([{$sample: {size: 1e30}}])"#,
        r#"db.c.aggregate([{$limit: 1e30}])"#,
        r#"db.c.aggregate([{$skip: NumberLong("9223372036854775807")}])"#,
        r#"db.c.aggregate([{$project: {x: {$substrCP: ["abc", "$n", "$n"]}, y: {$substrBytes: ["abc", "$m", "$n"]}, z: {$indexOfCP: ["abc", "b", "$n", "$n"]}}}])"#,
        r#"db.c.aggregate([{$project: {x: {$dateFromParts: {year: "$n", month: "$m", day: "$n"}}}}])"#,
    ];
    for input in inputs {
        // Each prints a result, nothing (an empty result) or a server error; none may panic.
        let out = shell.eval_mongosh(input, NOW);
        assert!(!out.contains("panicked"), "{input}");
    }
}

/// An operator of named arguments given a number instead of a document: each operator's own
/// code and words (mongod 8.2), the type named where the server names it.
#[test]
fn operators_refuse_bad_arguments_in_the_servers_words() {
    const CASES: &[(&str, &str)] = &[
        ("$convert", "[FailedToParse]: Invalid $project :: caused by :: $convert expects an object of named arguments but found: int"),
        ("$dateAdd", "[Location5166400]: Invalid $project :: caused by :: $dateAdd expects an object as its argument"),
        ("$dateDiff", "[Location5166301]: Invalid $project :: caused by :: $dateDiff only supports an object as its argument"),
        ("$dateFromString", "[Location40540]: Invalid $project :: caused by :: $dateFromString only supports an object as an argument, found: int"),
        ("$dateToString", "[Location18629]: Invalid $project :: caused by :: $dateToString only supports an object as its argument"),
        ("$dateTrunc", "[Location5439007]: Invalid $project :: caused by :: $dateTrunc only supports an object as its argument"),
        ("$ltrim", "[Location50696]: Invalid $project :: caused by :: $ltrim only supports an object as an argument, found int"),
        ("$reduce", "[Location40075]: Invalid $project :: caused by :: $reduce requires an object as an argument, found: int"),
        ("$regexMatch", "[Location51103]: Invalid $project :: caused by :: $regexMatch expects an object of named arguments but found: int"),
        ("$replaceOne", "[Location51751]: Invalid $project :: caused by :: $replaceOne requires an object as an argument, found: int"),
        ("$setField", "[Location4161100]: Invalid $project :: caused by :: $setField only supports an object as its argument"),
        ("$sortArray", "[Location2942500]: Invalid $project :: caused by :: $sortArray requires an object as an argument, found: int"),
        ("$zip", "[Location34460]: Invalid $project :: caused by :: $zip only supports an object as an argument, found int"),
    ];
    let mut shell = Shell::new();
    shell.eval_mongosh("db.t.insertOne({ a: 1 })", NOW);
    // The same parse names `$substr` by the name the server gives it, `$substrBytes`.
    assert_eq!(
        shell
            .eval_mongosh("db.t.aggregate([{ $project: { x: { $substr: ['abc'] } } }])", NOW)
            .trim_end(),
        "MongoServerError[Location16020]: Invalid $project :: caused by :: Expression $substrBytes takes exactly 3 arguments. 1 were passed in."
    );
    let cases = CASES
        .iter()
        .map(|(op, want)| (format!("{{ {op}: 1 }}"), *want));
    assert_project_errors(&mut shell, cases);
}

/// Each expression as `$project`'s `x` over one document, and the error the shell prints.
fn assert_project_errors<'a>(shell: &mut Shell, cases: impl Iterator<Item = (String, &'a str)>) {
    for (expr, want) in cases {
        let src = format!("db.t.aggregate([{{ $project: {{ x: {expr} }} }}])");
        let got = shell.eval_mongosh(&src, NOW);
        assert_eq!(got.trim_end(), format!("MongoServerError{want}"), "{expr}");
    }
}

/// An unknown key in an operator's argument document is reported before a missing one, in
/// each operator's own words and code (mongod 8.2); a few operators word a missing
/// argument their own way too.
#[test]
fn operator_arguments_unknown_or_missing_in_the_servers_words() {
    const CASES: &[(&str, &str)] = &[
        ("{ $let: { zzz: 1 } }", "[Location16875]: Invalid $project :: caused by :: Unrecognized parameter to $let: zzz"),
        ("{ $map: { input: [1], in: 1, zzz: 1 } }", "[Location16879]: Invalid $project :: caused by :: Unrecognized parameter to $map: zzz"),
        ("{ $filter: { zzz: 1 } }", "[Location28647]: Invalid $project :: caused by :: Unrecognized parameter to $filter: zzz"),
        ("{ $reduce: { zzz: 1 } }", "[Location40076]: Invalid $project :: caused by :: $reduce found an unknown argument: zzz"),
        ("{ $convert: { input: 1, to: 'int', zzz: 1 } }", "[FailedToParse]: Invalid $project :: caused by :: $convert found an unknown argument: zzz"),
        ("{ $trim: { zzz: 1 } }", "[Location50694]: Invalid $project :: caused by :: $trim found an unknown argument: zzz"),
        ("{ $regexMatch: { zzz: 1 } }", "[Location31024]: Invalid $project :: caused by :: $regexMatch found an unknown argument: zzz"),
        ("{ $sortArray: { zzz: 1 } }", "[Location2942501]: Invalid $project :: caused by :: $sortArray found an unknown argument: zzz"),
        ("{ $zip: { zzz: 1 } }", "[Location34464]: Invalid $project :: caused by :: $zip found an unknown argument: zzz"),
        ("{ $dateAdd: { zzz: 1 } }", "[Location5166401]: Invalid $project :: caused by :: Unrecognized argument to $dateAdd: zzz. Expected arguments are startDate, unit, amount, and optionally timezone."),
        ("{ $dateToString: { zzz: 1 } }", "[Location18534]: Invalid $project :: caused by :: Unrecognized argument to $dateToString: zzz"),
        ("{ $firstN: { zzz: 1 } }", "[Location5787901]: Invalid $project :: caused by :: Unknown argument for 'n' operator: zzz"),
        ("{ $median: { zzz: 1 } }", "[Location40415]: Invalid $project :: caused by :: BSON field '$median.zzz' is an unknown field."),
        ("{ $convert: { to: 'int' } }", "[FailedToParse]: Invalid $project :: caused by :: Missing 'input' parameter to $convert"),
        ("{ $dateDiff: { endDate: 1, unit: 'day' } }", "[Location5166303]: Invalid $project :: caused by :: Missing 'startDate' parameter to $dateDiff"),
        ("{ $lastN: { input: [1] } }", "[Location5787906]: Invalid $project :: caused by :: Missing value for 'n'"),
    ];
    let mut shell = Shell::new();
    shell.eval_mongosh("db.t.insertOne({ a: 1 })", NOW);
    let cases = CASES
        .iter()
        .map(|(expr, want)| ((*expr).to_string(), *want));
    assert_project_errors(&mut shell, cases);
}

/// Stage specifications of the wrong shape, each refused in the stage's own words and code
/// (mongod 8.2).
#[test]
fn stage_specs_of_the_wrong_shape_in_the_servers_words() {
    const CASES: &[(&str, &str)] = &[
        ("{ $lookup: 1 }", "[FailedToParse]: the $lookup stage specification must be an object, but found int"),
        ("{ $bucketAuto: 1 }", "[Location40240]: The argument to $bucketAuto must be an object, but found type: int"),
        ("{ $limit: 'x' }", "[Location5107201]: invalid argument to $limit stage: Expected a number in: $limit: \"x\""),
        ("{ $limit: 1.5 }", "[Location5107201]: invalid argument to $limit stage: Expected an integer: $limit: 1.5"),
        ("{ $limit: NaN }", "[Location5107201]: invalid argument to $limit stage: Expected an integer, but found NaN in: $limit: nan"),
        ("{ $limit: -1 }", "[Location5107201]: invalid argument to $limit stage: Expected a non-negative number in: $limit: -1"),
        ("{ $limit: 0 }", "[Location15958]: the limit must be positive"),
        ("{ $skip: 2.5 }", "[Location5107200]: invalid argument to $skip stage: Expected an integer: $skip: 2.5"),
        ("{ $unwind: '' }", "[Location28812]: no path specified to $unwind stage"),
        ("{ $unwind: { path: '' } }", "[Location28812]: no path specified to $unwind stage"),
        ("{ $out: 1 }", "[Location16990]: $out only supports a string or object argument, but found int"),
        ("{ $merge: 1 }", "[TypeMismatch]: $merge requires a string or object argument, but found int"),
        ("{ $unset: 1 }", "[Location31002]: $unset specification must be a string or an array"),
        ("{ $unset: '' }", "[Location40352]: FieldPath cannot be constructed with empty string"),
        ("{ $unset: [] }", "[Location31119]: $unset specification must be a string or an array with at least one field"),
    ];
    let mut shell = Shell::new();
    shell.eval_mongosh("db.t.insertOne({ a: 1 })", NOW);
    for (stage, want) in CASES {
        let got = shell.eval_mongosh(&format!("db.t.aggregate([{stage}])"), NOW);
        assert_eq!(got.trim_end(), format!("MongoServerError{want}"), "{stage}");
    }
}
