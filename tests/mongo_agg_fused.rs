//! `$unwind` followed by `$group` runs fused, and grouping by the unwound field with
//! constant accumulators skips the per-element scratch document. A `$match: {}` between the
//! two stages prevents the fusion, so each pipeline below runs both ways and the answers
//! must be the same text.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

const DOCS: &str = "db.c.insertMany([
  { _id: 1, tags: [1, 'a', 1.0, NumberLong(1), NumberDecimal('1.0')], n: 2 },
  { _id: 2, tags: ['a', null, [1, 2], [1, 2.0], { x: 1 }, { x: 1.0 }], n: 3 },
  { _id: 3, tags: [], n: 4 },
  { _id: 4, n: 5 },
  { _id: 5, tags: null, n: 6 },
  { _id: 6, tags: 'solo', n: 7 },
  { _id: 7, tags: [NaN, -0.0, 0, true, ISODate('2024-01-01T00:00:00Z')], n: 8 }
])";

const PIPELINES: &[(&str, &str)] = &[
    (
        "{ $unwind: '$tags' }",
        "{ $group: { _id: '$tags', n: { $sum: 1 } } }",
    ),
    (
        "{ $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } }",
        "{ $group: { _id: '$tags', n: { $sum: 1 }, c: { $count: {} } } }",
    ),
    (
        "{ $unwind: '$tags' }",
        "{ $group: { _id: '$tags', total: { $sum: '$n' }, ids: { $push: '$_id' } } }",
    ),
    (
        "{ $unwind: '$tags' }",
        "{ $group: { _id: '$tags', s: { $sum: 2.5 }, m: { $max: 'k' }, f: { $first: null } } }",
    ),
    (
        "{ $unwind: '$tags' }",
        "{ $group: { _id: { t: '$tags' }, n: { $sum: 1 } } }",
    ),
];

#[test]
fn fused_unwind_group_answers_like_the_two_stages() {
    let mut shell = Shell::new();
    let out = shell.eval_json(DOCS, NOW);
    assert!(!out.contains("\"error\""), "{out}");
    for (unwind, group) in PIPELINES {
        let fused = shell.eval_json(&format!("db.c.aggregate([{unwind}, {group}])"), NOW);
        let apart = shell.eval_json(
            &format!("db.c.aggregate([{unwind}, {{ $match: {{}} }}, {group}])"),
            NOW,
        );
        assert!(!fused.contains("\"error\""), "{group}: {fused}");
        assert!(fused.starts_with("[{\"_id\""), "{group}: {fused}");
        assert_eq!(fused, apart, "{unwind} {group}");
    }
}
