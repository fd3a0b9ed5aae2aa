//! Which documents `$graphLookup` reaches when its fields are dotted paths through arrays or
//! meet null and missing values, as the server defines it (`document_source_graph_lookup.cpp`
//! and the cases of `jstests/aggregation/sources/graphLookup/{missing_fields,
//! nested_objects,basic}.js`): `startWith` gives its value, or each element of an array, and
//! nothing when missing; each found document adds every value its `connectFromField` path
//! reaches (through arrays of documents, a trailing array giving its elements; null kept, a
//! missing field not); a round looks its values up as `{ connectToField: { $in: values } }`
//! would, except that null finds only an explicit null.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

fn eval(shell: &mut Shell, src: &str) -> String {
    common::eval_json_ok(shell, src, NOW)
}

/// Runs a `$graphLookup` from each document of `l` into `f` and gives, per local `_id` (in
/// order), the sorted `_id`s found.
fn graph(local: &str, foreign: &str, spec: &str) -> String {
    let mut shell = Shell::new();
    eval(&mut shell, &format!("db.l.insertMany({local})"));
    if !foreign.is_empty() {
        eval(&mut shell, &format!("db.f.insertMany({foreign})"));
    }
    eval(
        &mut shell,
        &format!(
            "db.l.aggregate([{{ $graphLookup: {{ from: 'f', as: 'r', {spec} }} }}, {{ $sort: {{ _id: 1 }} }}]).toArray().map(d => [d._id, d.r.map(x => x._id).sort((a, b) => a - b)])"
        ),
    )
}

/// An array literal of ten documents, `doc(i)` for i in 0..10.
fn ten(doc: impl Fn(i32) -> String) -> String {
    let docs: Vec<String> = (0..10).map(doc).collect();
    format!("[{}]", docs.join(", "))
}

#[test]
fn null_finds_only_an_explicit_null_and_missing_finds_nothing() {
    // missing_fields.js, with one collection on both sides.
    let docs =
        "[{_id: 0, x: 1, y: 1}, {_id: 1, x: 1, y: null}, {_id: 2, x: 1, y: 1}, {_id: 3, x: 1}]";
    let spec = "startWith: '$y', connectFromField: 'x', connectToField: 'y', maxDepth: 0";
    assert_eq!(
        graph(docs, docs, spec),
        "[[0, [0, 2]], [1, [1]], [2, [0, 2]], [3, []]]"
    );
    assert_eq!(
        graph(
            docs,
            docs,
            "startWith: null, connectFromField: 'x', connectToField: 'y', maxDepth: 0"
        ),
        "[[0, [1]], [1, [1]], [2, [1]], [3, [1]]]"
    );
    // Missing does not meet missing.
    let docs = "[{_id: 0, x: 1, y: 1}, {_id: 1, x: 2}, {_id: 3, x: 1}]";
    assert_eq!(graph(docs, docs, spec), "[[0, [0]], [1, []], [3, []]]");
}

#[test]
fn a_missing_connect_from_field_is_not_followed_but_a_null_one_is() {
    // basic.js: a document without `n` ends the walk, and a foreign document whose `k` is
    // null is not reached through it. (The key is `k`: the driver gives a null `_id` an
    // ObjectId.)
    let foreign = "[{_id: 50, k: 50, n: [49, 51]}, {_id: 51, k: 51}, {_id: 52, k: 52, n: [51, 53]}, {_id: 53, k: 53, n: []}, {_id: 49, k: 49, n: null}, {_id: 0, k: null, n: [52]}]";
    assert_eq!(
        graph(
            "[{_id: 1, s: 50}]",
            foreign,
            "startWith: '$s', connectFromField: 'n', connectToField: 'k'"
        ),
        "[[1, [0, 49, 50, 51, 52, 53]]]"
    );
    // Without the null `n` of 49, nothing leads to the document whose `k` is null.
    let foreign = "[{_id: 50, k: 50, n: [49, 51]}, {_id: 51, k: 51}, {_id: 49, k: 49}, {_id: 0, k: null, n: [52]}, {_id: 52, k: 52}]";
    assert_eq!(
        graph(
            "[{_id: 1, s: 50}]",
            foreign,
            "startWith: '$s', connectFromField: 'n', connectToField: 'k'"
        ),
        "[[1, [49, 50, 51]]]"
    );
}

#[test]
fn start_with_arrays_start_from_each_element() {
    let foreign = "[{_id: 1}, {_id: 2}, {_id: 3}, {_id: 4, t: [1, 2]}]";
    for (start, want) in [
        ("{$literal: [1, 2, 3]}", "[[0, [1, 2, 3]]]"),
        ("'$a'", "[[0, [1, 3]]]"),
        // An element that is itself an array looks for an equal array (none has one here).
        ("{$literal: [[1, 2]]}", "[[0, []]]"),
        ("'$nope'", "[[0, []]]"),
    ] {
        assert_eq!(
            graph(
                "[{_id: 0, a: [1, 3]}]",
                foreign,
                &format!(
                    "startWith: {start}, connectFromField: 'x', connectToField: '_id', maxDepth: 0"
                )
            ),
            want,
            "{start} on _id"
        );
    }
    // The whole array is a value too, as `$in` finds an array equal to it.
    assert_eq!(
        graph(
            "[{_id: 0}]",
            foreign,
            "startWith: {$literal: [[1, 2]]}, connectFromField: 'x', connectToField: 't', maxDepth: 0"
        ),
        "[[0, [4]]]"
    );
}

#[test]
fn connect_from_paths_through_arrays_of_documents() {
    // nested_objects.js: `neighbors.id` reaches each element's `id`.
    let foreign = ten(|i| {
        format!(
            "{{_id: {i}, neighbors: [{{id: {}}}, {{id: {}}}]}}",
            i + 1,
            i + 2
        )
    });
    assert_eq!(
        graph(
            "[{_id: 100, starting: 0}]",
            &foreign,
            "startWith: '$starting', connectFromField: 'neighbors.id', connectToField: '_id'"
        ),
        "[[100, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]]"
    );
    // Arrays inside a trailing array are followed element by element.
    assert_eq!(
        graph(
            "[{_id: 100, s: 0}]",
            "[{_id: 0, n: [[1, 2], 3]}, {_id: 1}, {_id: 2}, {_id: 3}, {_id: 4}]",
            "startWith: '$s', connectFromField: 'n', connectToField: '_id'"
        ),
        "[[100, [0, 1, 2, 3]]]"
    );
}

#[test]
fn connect_to_paths_match_as_an_in_query_would() {
    // nested_objects.js: `previous.neighbor` through an array of documents.
    let foreign = ten(|i| {
        format!(
            "{{_id: {}, previous: [{{neighbor: {i}}}, {{neighbor: {}}}], value: {}}}",
            i + 10,
            i - 1,
            i + 1
        )
    });
    assert_eq!(
        graph(
            "[{_id: 100, starting: 0}]",
            &foreign,
            "startWith: '$starting', connectFromField: 'value', connectToField: 'previous.neighbor'"
        ),
        "[[100, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]]]"
    );
    // An array at the end of the path matches by element and as a whole; a numeric part
    // reads an array position.
    let foreign = "[{_id: 1, t: [5, 6]}, {_id: 2, t: {u: [7]}}, {_id: 3, t: [{u: 8}, {u: 9}]}, {_id: 4, t: 5}, {_id: 5, s: 'ab'}, {_id: 6, s: ['x', 'ac']}, {_id: 7, s: 'b'}]";
    for (start, to, want) in [
        ("5", "t", "[1, 4]"),
        ("{$literal: [[5, 6]]}", "t", "[1]"),
        ("7", "t.u", "[2]"),
        ("9", "t.u", "[3]"),
        ("9", "t.1.u", "[3]"),
        ("8", "t.1.u", "[]"),
        // A regex finds the strings it matches, as in `$in`.
        ("{$literal: /^a/}", "s", "[5, 6]"),
        ("{$literal: [/^b/, 5]}", "s", "[7]"),
    ] {
        assert_eq!(
            graph(
                "[{_id: 0}]",
                foreign,
                &format!("startWith: {start}, connectFromField: 'x', connectToField: '{to}', maxDepth: 0")
            ),
            format!("[[0, {want}]]"),
            "{start} on {to}"
        );
    }
}
