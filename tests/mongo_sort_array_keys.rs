//! `$sortArray` with a `sortBy` document and `$push` with `$sort` order an array's documents
//! by the value found at each sort path the way the server's `extractElementAtDottedPath`
//! finds it (`PatternValueCmp` and `PatternElementCmp`): through documents by field and
//! through arrays by position only, the value at the end compared whole, arrays included,
//! and null for a path that reaches nothing. This differs from `$sort`, which compares an
//! array field by its smallest or largest element (`tests/mongo_sort_agreement.rs`).
//! The orders below are worked out by hand from those rules and BSON's type order.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{ids_in_order as ids, SORT_KEY_DOCS as ITEMS};
use nosql_playground::mongo::Shell;

/// (sortBy, the `_id`s in the order the server gives them)
const CASES: &[(&str, &str)] = &[
    // null and missing, then 5, then 'x', then the arrays compared element by element.
    ("{ a: 1, _id: 1 }", "5 6 1 8 4 7 10 11 9 3 2"),
    ("{ a: -1, _id: 1 }", "2 3 9 11 10 7 4 8 1 5 6"),
    // "c" names no element of an array, so every array `b` gives null.
    ("{ 'b.c': 1, _id: 1 }", "2 3 4 5 7 8 9 10 11 1 6"),
    ("{ 'a.0': 1, _id: 1 }", "1 4 5 6 8 7 10 11 9 3 2"),
    ("{ 'b.1.c': 1, _id: -1 }", "11 9 7 6 5 4 2 1 8 10 3"),
    ("{ 'a.00': 1, _id: -1 }", "11 10 9 8 7 6 5 4 3 2 1"),
];

#[test]
fn sort_array_compares_the_value_at_the_path_whole() {
    let mut shell = Shell::new();
    shell.eval_json("db.t.insertOne({ k: 1 })", 0);
    for (sort_by, want) in CASES {
        let got = ids(
            &mut shell,
            &format!(
                "db.t.aggregate([{{ $project: {{ _id: 0, r: {{ $sortArray: {{ input: [{}], sortBy: {sort_by} }} }} }} }}]).toArray()",
                ITEMS.join(", ")
            ),
        );
        assert_eq!(&got, want, "$sortArray sortBy {sort_by}");
    }
}

#[test]
fn push_sort_compares_the_value_at_the_path_whole() {
    let mut shell = Shell::new();
    for (n, (sort_by, want)) in CASES.iter().enumerate() {
        shell.eval_json(&format!("db.p.insertOne({{ _id: 'doc{n}', arr: [] }})"), 0);
        shell.eval_json(
            &format!(
                "db.p.updateOne({{ _id: 'doc{n}' }}, {{ $push: {{ arr: {{ $each: [{}], $sort: {sort_by} }} }} }})",
                ITEMS.join(", ")
            ),
            0,
        );
        let got = ids(
            &mut shell,
            &format!("db.p.find({{ _id: 'doc{n}' }}, {{ _id: 0, arr: 1 }}).toArray()"),
        );
        assert_eq!(&got, want, "$push $sort {sort_by}");
    }
}

#[test]
fn arrays_compare_element_by_element_and_other_elements_as_null() {
    let mut shell = Shell::new();
    shell.eval_json("db.t.insertOne({ k: 1 })", 0);
    let out = shell.eval_json(
        "db.t.aggregate([{ $project: { _id: 0, r: { $sortArray: { input: [{ a: [1, 5] }, 7, { a: 0 }, { a: [3] }], sortBy: { a: -1 } } } } }]).toArray()",
        0,
    );
    assert_eq!(
        out.trim(),
        r#"[{"r": [{"a": [3]}, {"a": [1, 5]}, {"a": 0}, 7]}]"#
    );
}
