//! Collection scans remember where each field was found in the previous document, and
//! `$match` followed by `$group` runs fused. Both must answer exactly as before on
//! collections whose documents change shape from one to the next: fields in other orders,
//! missing, arrays, embedded documents, names of the same length. The fused pipelines are
//! checked against the same stages kept apart by a `{ $skip: 0 }`, which prevents the fusion.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

const DOCS: &str = "db.c.insertMany([
  { _id: 1, name: 'a', age: 30, city: 'Lima', score: 5 },
  { _id: 2, city: 'Lima', age: 30, name: 'b', score: 7 },
  { _id: 3, name: 'c', cite: 'Lima', city: 'Oslo', age: 31 },
  { _id: 4, age: 30 },
  { _id: 5, name: 'e', age: [29, 30], city: ['Lima', 'Oslo'], score: 2.5 },
  { _id: 6, name: 'f', age: NumberLong(30), city: 'Lima', score: NumberDecimal('1.5') },
  { _id: 7, a: { city: 'Lima' }, city: null, age: 30.0, score: 'x' },
  { _id: 8, f01: 1, f02: 2, f03: 3, f04: 4, f05: 5, f06: 6, f07: 7, f08: 8, f09: 9, f10: 10, f11: 11, f12: 12, f13: 13, city: 'Lima', age: 30, score: 4 },
  { _id: 9, name: 'i', age: 30, city: 'Lima', score: 5 },
  { _id: 10, score: 3, city: 'Oslo', age: 18 }
])";

const FINDS: &[(&str, &str)] = &[
    ("{ city: 'Lima', age: 30 }", "[1,2,5,6,8,9]"),
    ("{ age: 30, city: 'Lima' }", "[1,2,5,6,8,9]"),
    ("{ city: 'Oslo' }", "[3,5,10]"),
    ("{ city: null }", "[4,7]"),
    (
        "{ age: { $gte: 30 }, score: { $exists: true } }",
        "[1,2,5,6,7,8,9]",
    ),
    ("{ 'a.city': 'Lima' }", "[7]"),
    ("{ f13: 13, age: 30 }", "[8]"),
    ("{ cite: { $exists: false }, city: 'Oslo' }", "[5,10]"),
];

const PIPELINES: &[(&str, &str)] = &[
    (
        "{ $match: { age: { $gte: 18 } } }",
        "{ $group: { _id: '$city', n: { $sum: 1 }, avg: { $avg: '$score' } } }",
    ),
    (
        "{ $match: { city: 'Lima' } }",
        "{ $group: { _id: '$age', n: { $sum: 2.5 }, s: { $sum: '$score' }, ids: { $push: '$_id' } } }",
    ),
    (
        "{ $match: {} }",
        "{ $group: { _id: { c: '$city', a: '$a.city' }, n: { $count: {} }, m: { $max: '$name' } } }",
    ),
    (
        "{ $match: { $or: [{ age: 30 }, { score: { $gt: 4 } }] } }",
        "{ $group: { _id: null, first: { $first: '$_id' }, last: { $last: '$name' } } }",
    ),
];

fn ids(out: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(out).unwrap_or_default();
    let ids: Vec<String> = v
        .as_array()
        .map(|docs| docs.iter().map(|d| d["_id"].to_string()).collect())
        .unwrap_or_default();
    format!("[{}]", ids.join(","))
}

#[test]
fn scans_over_changing_shapes_find_the_right_documents() {
    let mut shell = Shell::new();
    let out = shell.eval_json(DOCS, NOW);
    assert!(!out.contains("\"error\""), "{out}");
    for (filter, want) in FINDS {
        // Twice: the second run starts from the positions the first one left.
        for _ in 0..2 {
            let out = shell.eval_json(&format!("db.c.find({filter}).toArray()"), NOW);
            assert_eq!(ids(&out), *want, "{filter}: {out}");
        }
    }
}

#[test]
fn fused_match_group_answers_like_the_two_stages() {
    let mut shell = Shell::new();
    let out = shell.eval_json(DOCS, NOW);
    assert!(!out.contains("\"error\""), "{out}");
    for (m, group) in PIPELINES {
        let fused = shell.eval_json(&format!("db.c.aggregate([{m}, {group}])"), NOW);
        let apart = shell.eval_json(
            &format!("db.c.aggregate([{m}, {{ $skip: 0 }}, {group}])"),
            NOW,
        );
        assert!(fused.starts_with("[{\"_id\""), "{m} {group}: {fused}");
        assert_eq!(fused, apart, "{m} {group}");
    }
}

#[test]
fn a_match_that_can_fail_reports_its_own_error() {
    // `$expr` can fail, so this pair is not fused: the `$match` error comes first, as when
    // the stages run one after the other, not the `$group` one.
    let mut shell = Shell::new();
    shell.eval_json(DOCS, NOW);
    let out = shell.eval_json(
        "db.c.aggregate([{ $match: { $and: [{ $expr: { $divide: [1, 0] } }] } }, { $group: { _id: { $toInt: 'abc' } } }])",
        NOW,
    );
    assert!(
        out.contains("can't $divide by zero") && !out.contains("abc"),
        "{out}"
    );
    let apart = shell.eval_json(
        "db.c.aggregate([{ $match: { $and: [{ $expr: { $divide: [1, 0] } }] } }, { $skip: 0 }, { $group: { _id: { $toInt: 'abc' } } }])",
        NOW,
    );
    assert_eq!(out, apart);
}
