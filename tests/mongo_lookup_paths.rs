//! Which documents a `$lookup` joins when its fields are dotted paths through arrays, as
//! the server's equality-join semantics define it: the local side is every value the path
//! reaches (arrays of documents walked, an array at the end giving its elements, numeric
//! parts indexing arrays), null when it reaches none; the foreign side matches as
//! `{ foreignField: { $eq: localValue } }` would. Each table joins one document on one side
//! against many on the other and lists the `_id`s that join.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

fn eval(shell: &mut Shell, src: &str) -> String {
    let out = shell.eval_json(src, NOW);
    assert!(!out.contains("\"error\""), "{src}: {out}");
    out
}

/// `[{"_id": 1}, {"_id": 4}]` for ids 1 and 4.
fn ids_json(ids: &[i32]) -> String {
    let items: Vec<String> = ids.iter().map(|i| format!("{{\"_id\": {i}}}")).collect();
    format!("[{}]\n", items.join(", "))
}

/// Documents `{ _id: i, … }` into `coll`.
fn insert(shell: &mut Shell, coll: &str, docs: &[(i32, &str)]) {
    let docs: Vec<String> = docs
        .iter()
        .map(|(id, rest)| format!("{{ _id: {id}{rest} }}"))
        .collect();
    eval(
        shell,
        &format!("db.{coll}.insertMany([{}])", docs.join(", ")),
    );
}

/// Joins `local` to `foreign` on `fields` (local, foreign), then runs the stages in `then`.
fn join(
    local: &[(i32, &str)],
    foreign: &[(i32, &str)],
    (local_field, foreign_field): (&str, &str),
    then: &str,
) -> String {
    let mut shell = Shell::new();
    insert(&mut shell, "l", local);
    insert(&mut shell, "f", foreign);
    eval(
        &mut shell,
        &format!("db.l.aggregate([{{ $lookup: {{ from: 'f', localField: '{local_field}', foreignField: '{foreign_field}', as: 'm' }} }}, {then}])"),
    )
}

/// Local documents `{ _id: i, a: … }` against one foreign document: the local `_id`s whose
/// join is not empty, for the foreign value given.
fn local_side(local: &[(i32, &str)], path: &str, foreign: &str, want: &[i32]) {
    let out = join(
        local,
        &[(0, foreign)],
        (path, "b"),
        "{ $match: { 'm.0': { $exists: true } } }, { $project: { _id: 1 } }",
    );
    assert_eq!(
        out,
        ids_json(want),
        "localField {path}, foreign {{{foreign}}}"
    );
}

/// One local document against foreign documents `{ _id: i, a: … }`: the foreign `_id`s it
/// joins, in collection order.
fn foreign_side(local: &str, foreign: &[(i32, &str)], path: &str, want: &[i32]) {
    let out = join(
        &[(0, local)],
        foreign,
        ("b", path),
        "{ $unwind: '$m' }, { $replaceWith: { _id: '$m._id' } }",
    );
    assert_eq!(
        out,
        ids_json(want),
        "foreignField {path}, local {{{local}}}"
    );
}

#[test]
fn local_paths_through_arrays_of_documents_reach_array_leaves() {
    let docs: &[(i32, &str)] = &[
        (1, ", a: { x: 1 }"),
        (2, ", a: [{ x: 2 }, { x: 1 }]"),
        // An array at the end of the path gives its elements.
        (3, ", a: { x: [2, 1] }"),
        (4, ", a: [{ x: [2, 1] }]"),
        (5, ", a: [{ y: 1 }, { x: [3, 1] }]"),
        (6, ", a: [{ x: [[2, 3], 1] }, { x: null }]"),
        // An array inside that array is one value, not its elements.
        (10, ", a: { x: [[1], 2] }"),
        (11, ", a: [{ x: [[1, 2]] }]"),
        (12, ", a: [{ y: 1 }, { x: 2 }]"),
        (13, ", a: [[{ x: 1 }]]"),
        (14, ", a: { y: 1 }"),
        (15, ""),
    ];
    local_side(docs, "a.x", ", b: 1", &[1, 2, 3, 4, 5, 6]);
}

#[test]
fn local_paths_that_reach_nothing_join_as_null() {
    let docs: &[(i32, &str)] = &[
        (1, ""),
        (2, ", a: { y: 1 }"),
        (3, ", a: [{ y: 1 }, { y: 2 }]"),
        (4, ", a: { x: null }"),
        (5, ", a: [{ x: null }, { x: 1 }]"),
        (6, ", a: [1, 2]"),
        (7, ", a: []"),
        (8, ", a: [[1]]"),
        (9, ", a: { x: [] }"),
        (10, ", a: [{ x: [] }, { x: [] }]"),
        // Something reached, and none of it null.
        (20, ", a: [{ y: 1 }, { x: 1 }]"),
        (21, ", a: { x: [[]] }"),
        (22, ", a: { x: 0 }"),
    ];
    local_side(docs, "a.x", ", b: null", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // A foreign document without the field is null to the join as well.
    local_side(docs, "a.x", ", other: 1", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
}

#[test]
fn local_arrays_meet_foreign_arrays_by_element_and_whole() {
    let docs: &[(i32, &str)] = &[
        // [1, 2] as one of the values.
        (1, ", a: { x: [[1, 2], 3] }"),
        (2, ", a: [{ x: [[1, 2]] }, { x: 4 }]"),
        // 1 or 2 among the values.
        (3, ", a: { x: [1, 5] }"),
        (4, ", a: [{ x: 2 }]"),
        (10, ", a: { x: [[2, 1], 3] }"),
        (11, ", a: { x: [[[1, 2]]] }"),
        (12, ", a: { y: [1, 2] }"),
    ];
    local_side(docs, "a.x", ", b: [1, 2]", &[1, 2, 3, 4]);
    local_side(docs, "a.x", ", b: [[1, 2], 9]", &[1, 2]);
    local_side(docs, "a.x", ", b: []", &[]);
    local_side(
        &[
            (1, ", a: { x: [[]] }"),
            (2, ", a: [{ x: [[], 1] }]"),
            (3, ", a: { x: [] }"),
        ],
        "a.x",
        ", b: []",
        &[1, 2],
    );
}

#[test]
fn local_paths_with_array_positions() {
    let docs: &[(i32, &str)] = &[
        (1, ", a: [{ x: 1 }, { x: 2 }]"),
        (2, ", a: [{ x: [2, 1] }]"),
        (10, ", a: [{ x: 2 }, { x: 1 }]"),
        (11, ", a: { x: 1 }"),
    ];
    local_side(docs, "a.0.x", ", b: 1", &[1, 2]);
}

#[test]
fn foreign_paths_match_as_an_equality_query_would() {
    let docs: &[(i32, &str)] = &[
        (1, ", a: { x: 1 }"),
        (2, ", a: [{ x: 2 }, { x: 1 }]"),
        (3, ", a: { x: [2, 1] }"),
        (4, ", a: [{ y: 5 }, { x: [1] }]"),
        // A nested array is matched whole, not by its elements.
        (10, ", a: { x: [[1], 2] }"),
        (11, ", a: [[{ x: 1 }]]"),
        (12, ", a: { y: 1 }"),
    ];
    foreign_side(", b: 1", docs, "a.x", &[1, 2, 3, 4]);
    foreign_side(", b: [[1], 7]", docs, "a.x", &[4, 10]);
}

#[test]
fn foreign_paths_missing_on_the_way_match_null() {
    let docs: &[(i32, &str)] = &[
        (1, ""),
        (2, ", a: 1"),
        (3, ", a: { y: 1 }"),
        // One element of an array of documents without the field is enough.
        (4, ", a: [{ y: 1 }, { x: 1 }]"),
        (5, ", a: { x: null }"),
        (6, ", a: { x: [3, null] }"),
        // Scalars and arrays as elements are skipped, not missing.
        (10, ", a: [1, 2]"),
        (11, ", a: []"),
        (12, ", a: [[{ y: 1 }]]"),
        (13, ", a: { x: [] }"),
        (14, ", a: [{ x: 1 }]"),
    ];
    foreign_side(", b: null", docs, "a.x", &[1, 2, 3, 4, 5, 6]);
    // An empty local array is null to the join.
    foreign_side(", b: []", docs, "a.x", &[1, 2, 3, 4, 5, 6]);
}

/// The `_id` index serves a join on `_id` whatever the local path: it must join what the
/// hash join on a copy of `_id` joins.
#[test]
fn local_paths_through_arrays_join_on_id_as_on_any_field() {
    let mut shell = Shell::new();
    eval(
        &mut shell,
        "db.f.insertMany([{ _id: 1, k: 1 }, { _id: 2, k: 2 }, { _id: 3, k: 3 }])",
    );
    eval(
        &mut shell,
        "db.l.insertMany([{ _id: 1, a: [{ x: [2, 1] }, { y: 3 }] }, { _id: 2, a: [{ x: [[1, 2]] }] }, { _id: 3, a: [{ y: 1 }] }, { _id: 4, a: [{ x: 3 }, { x: [1, 3] }] }, { _id: 5, a: { x: [] } }])",
    );
    let join = |field: &str| {
        format!("db.l.aggregate([{{ $lookup: {{ from: 'f', localField: 'a.x', foreignField: '{field}', as: 'm' }} }}, {{ $project: {{ m: '$m.k' }} }}])")
    };
    let by_id = eval(&mut shell, &join("_id"));
    assert_eq!(by_id, eval(&mut shell, &join("k")));
    assert_eq!(
        by_id,
        "[{\"_id\": 1, \"m\": [1, 2]}, {\"_id\": 2, \"m\": []}, {\"_id\": 3, \"m\": []}, {\"_id\": 4, \"m\": [1, 3]}, {\"_id\": 5, \"m\": []}]\n"
    );
}
