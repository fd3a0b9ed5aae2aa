//! `$lookup` with `foreignField: "_id"` probes the `_id` index; on any other field it hashes
//! the foreign collection. Both must match the same documents, so each local value below is
//! joined twice against the same foreign documents, once on `_id` and once on `k`, a copy
//! of `_id` the index does not cover, and the answers compared.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

/// Foreign `_id`s of every type and of every numeric type, as mongosh source.
const FOREIGN_IDS: &[&str] = &[
    "1",
    "NumberLong(2)",
    "3.5",
    "NumberDecimal('4')",
    "NumberDecimal('5.25')",
    "NumberInt(6)",
    "0",
    "'s'",
    "''",
    "{ a: 1 }",
    "{ a: 1, b: 'x' }",
    "ObjectId('5f1d7f0e1c9d440000a1b2c3')",
    "ISODate('2024-01-01T00:00:00Z')",
    "true",
    "false",
    "MinKey()",
    "MaxKey()",
    "/ab/i",
    "NaN",
    "Timestamp({ t: 1, i: 2 })",
];

/// Local values and the number of foreign documents each should match.
const LOCAL: &[(&str, usize)] = &[
    ("1.0", 1),
    ("NumberLong(1)", 1),
    ("NumberDecimal('1.000')", 1),
    ("2", 1),
    ("2.0", 1),
    ("NumberDecimal('3.5')", 1),
    ("3.5", 1),
    ("4", 1),
    ("NumberLong(4)", 1),
    ("5.25", 1),
    ("6.0", 1),
    ("-0.0", 1),
    ("NumberDecimal('-0')", 1),
    ("7", 0),
    ("'s'", 1),
    ("'S'", 0),
    // The shell gives a null `_id` an ObjectId, as the driver does, so null matches nothing.
    ("null", 0),
    ("{ a: 1.0 }", 1),
    ("{ a: NumberLong(1), b: 'x' }", 1),
    ("{ b: 'x', a: 1 }", 0),
    ("ObjectId('5f1d7f0e1c9d440000a1b2c3')", 1),
    ("ISODate('2024-01-01T00:00:00Z')", 1),
    ("true", 1),
    ("MinKey()", 1),
    ("MaxKey()", 1),
    ("NaN", 1),
    ("Timestamp({ t: 1, i: 2 })", 1),
    // Arrays match by element, each foreign document once, in collection order.
    ("[1, 's', 7]", 2),
    ("[NumberLong(1), 1.0, 1]", 1),
    ("[3.5, 2]", 2),
    ("[]", 0),
    ("[null]", 0),
    ("[[1]]", 0),
    ("[{ a: 1 }, true]", 2),
];

fn eval(shell: &mut Shell, src: &str) -> String {
    shell.eval_json(src, NOW)
}

#[test]
fn lookup_on_id_matches_like_the_hash_join() {
    let mut shell = Shell::new();
    for id in FOREIGN_IDS {
        let out = eval(
            &mut shell,
            &format!("db.f.insertOne({{ _id: {id}, k: {id}, tag: 1 }})"),
        );
        assert!(!out.contains("\"error\""), "{id}: {out}");
    }
    for (i, (local, want)) in LOCAL.iter().enumerate() {
        eval(&mut shell, "db.l.drop()");
        let out = eval(
            &mut shell,
            &format!("db.l.insertOne({{ _id: {i}, v: {local} }})"),
        );
        assert!(!out.contains("\"error\""), "{local}: {out}");
        let join = |field: &str| {
            format!("db.l.aggregate([{{ $lookup: {{ from: 'f', localField: 'v', foreignField: '{field}', as: 'j' }} }}, {{ $project: {{ n: {{ $size: '$j' }}, j: '$j.k' }} }}])")
        };
        let by_id = eval(&mut shell, &join("_id"));
        let by_hash = eval(&mut shell, &join("k"));
        assert_eq!(by_id, by_hash, "local value {local}");
        assert!(
            by_id.contains(&format!("\"n\": {want},")),
            "local value {local}: {by_id}"
        );
    }
}

#[test]
fn lookup_on_id_through_missing_and_nested_local_paths() {
    let mut shell = Shell::new();
    eval(
        &mut shell,
        "db.f.insertMany([{ _id: 1, k: 1 }, { _id: 2, k: 2 }])",
    );
    eval(&mut shell, "db.l.insertMany([{ _id: 1 }, { _id: 2, v: { w: 1 } }, { _id: 3, v: [{ w: 2 }, { x: 2 }, { w: 1 }] }])");
    for (local, want) in [
        ("v", "[[], [], []]"),
        ("v.w", "[[], [1], [1, 2]]"),
        ("v.x", "[[], [], [2]]"),
        ("v.x.y", "[[], [], []]"),
    ] {
        let join = |field: &str| {
            format!("db.l.aggregate([{{ $lookup: {{ from: 'f', localField: '{local}', foreignField: '{field}', as: 'j' }} }}, {{ $group: {{ _id: null, j: {{ $push: '$j.k' }} }} }}])")
        };
        let by_id = eval(&mut shell, &join("_id"));
        assert_eq!(by_id, eval(&mut shell, &join("k")), "localField {local}");
        assert_eq!(
            by_id,
            format!("[{{\"_id\": null, \"j\": {want}}}]\n"),
            "localField {local}"
        );
    }
}

#[test]
fn lookup_on_id_of_a_missing_collection_joins_nothing() {
    let mut shell = Shell::new();
    eval(&mut shell, "db.l.insertOne({ _id: 1, v: 1 })");
    assert_eq!(
        eval(
            &mut shell,
            "db.l.aggregate([{ $lookup: { from: 'nope', localField: 'v', foreignField: '_id', as: 'j' } }])"
        ),
        "[{\"_id\": 1, \"v\": 1, \"j\": []}]\n"
    );
}
