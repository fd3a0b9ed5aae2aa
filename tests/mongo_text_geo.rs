//! Text and geospatial indexes through the shell: `$text` (terms, phrases, negations,
//! languages, sensitivity, scores), the geo operators, `$geoNear`, explain stages and the
//! server's errors. Each case is a setup and (statement, exact mongosh output) steps; the
//! manual-derived cases live in tests/fidelity/mongo/text-geo.mongo.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

fn check(name: &str, setup: &[&str], steps: &[(&str, &str)]) {
    let mut shell = Shell::new();
    for s in setup {
        shell.eval_mongosh(s, NOW);
    }
    for (input, want) in steps {
        let got = shell.eval_mongosh(input, NOW);
        assert_eq!(got.trim_end(), want.trim_end(), "{name}: {input}");
    }
}

const RECIPES: &[&str] = &[
    r#"db.r.createIndex({title: "text", body: "text"}, {weights: {title: 10}})"#,
    r#"db.r.insertMany([{_id: 1, title: "cake", body: "cake recipe"}, {_id: 2, title: "bread", body: "no cake here, just bread and more bread"}, {_id: 3, title: "pie", body: "apple pie"}])"#,
];

#[test]
fn text_queries() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            // title: 10 × 1.0 × 1.1 (the whole string is the term); body: 0.5·1/2 + 0.5.
            "weights and the whole-string boost",
            &[(
                r#"db.r.find({$text: {$search: "cake"}}, {score: {$meta: "textScore"}, _id: 1})"#,
                "[ { _id: 1, score: 11.75 }, { _id: 2, score: 0.625 } ]",
            )],
        ),
        (
            "only negations, only stop words: nothing",
            &[
                (r#"db.r.find({$text: {$search: "-cake"}})"#, ""),
                (r#"db.r.find({$text: {$search: "the and of"}})"#, ""),
            ],
        ),
        (
            "a negated phrase removes the document that holds it",
            &[
                (r#"db.r.find({$text: {$search: "bread -\"more bread\""}})"#, ""),
                (
                    r#"db.r.find({$text: {$search: "bread -\"less bread\""}}, {_id: 1})"#,
                    "[ { _id: 2 } ]",
                ),
            ],
        ),
        (
            "stemming: recipes finds recipe, pies finds pie",
            &[(
                r#"db.r.find({$text: {$search: "recipes pies"}}, {_id: 1})"#,
                "[ { _id: 1 }, { _id: 3 } ]",
            )],
        ),
        (
            "the rest of the filter applies; the score sort is stable",
            &[
                (
                    r#"db.r.find({$text: {$search: "cake pie"}, _id: {$gt: 1}}, {_id: 1})"#,
                    "[ { _id: 2 }, { _id: 3 } ]",
                ),
                (
                    r#"db.r.find({$text: {$search: "cake pie"}}, {_id: 1}).sort({s: {$meta: "textScore"}, _id: -1}).limit(2)"#,
                    "[ { _id: 3 }, { _id: 1 } ]",
                ),
            ],
        ),
        (
            "distinct reads through the text index too",
            &[(r#"db.r.distinct("_id", {$text: {$search: "pie"}})"#, "[ 3 ]")],
        ),
        (
            "the index follows updates and deletes",
            &[
                (r#"db.r.updateOne({_id: 3}, {$set: {body: "cake"}})"#, "{\n  acknowledged: true,\n  insertedId: null,\n  matchedCount: 1,\n  modifiedCount: 1,\n  upsertedCount: 0\n}"),
                (
                    r#"db.r.find({$text: {$search: "cake"}}, {_id: 1})"#,
                    "[ { _id: 1 }, { _id: 2 }, { _id: 3 } ]",
                ),
                (r#"db.r.deleteMany({$text: {$search: "cake"}})"#, "{ acknowledged: true, deletedCount: 3 }"),
                ("db.r.countDocuments()", "0"),
            ],
        ),
        (
            "explain counts the keys of each term",
            &[
                (
                    r#"db.r.find({$text: {$search: "cake"}}).explain("executionStats").executionStats.totalKeysExamined"#,
                    "2",
                ),
                (
                    r#"db.r.find({$text: {$search: "cake pie"}, _id: {$gt: 1}}).explain().queryPlanner.winningPlan.inputStage.filter"#,
                    "{ _id: { '$gt': 1 } }",
                ),
            ],
        ),
    ];
    for (name, steps) in cases {
        check(name, RECIPES, steps);
    }
}

#[test]
fn text_languages_and_stored_form() {
    check(
        "default_language none keeps stop words and does not stem",
        &[
            r#"db.a.createIndex({_fts: "text", _ftsx: 1}, {weights: {t: 2}, default_language: "none"})"#,
            r#"db.a.insertOne({_id: 1, t: "the running dogs"})"#,
        ],
        &[
            (
                r#"db.a.find({$text: {$search: "the"}}, {score: {$meta: "textScore"}})"#,
                "[ { _id: 1, t: 'the running dogs', score: 1.3333333333333333 } ]",
            ),
            (r#"db.a.find({$text: {$search: "run"}})"#, ""),
            ("db.a.getIndexes()[1].name", "_fts_text__ftsx_1"),
        ],
    );
}

#[test]
fn text_errors() {
    let cases: &[(&str, &str)] = &[
        (
            r#"db.r.find({$text: {$search: 5}})"#,
            "MongoServerError[TypeMismatch]: BSON field '$text.$search' is the wrong type 'int', expected type 'string'",
        ),
        (
            r#"db.r.find({$text: {}})"#,
            "MongoServerError[Location40414]: BSON field '$text.$search' is missing but a required field",
        ),
        (
            r#"db.r.find({$text: {$search: "x", $foo: 1}})"#,
            "MongoServerError[Location40415]: BSON field '$text.$foo' is an unknown field.",
        ),
        (
            r#"db.r.find({a: {$elemMatch: {$text: {$search: "cake"}}}})"#,
            "MongoServerError[BadValue]: $text is only allowed at the top level of a query in this sandbox",
        ),
        (
            r#"db.r.find({$text: {$search: "cake", $language: "klingon"}})"#,
            "MongoServerError[Location17262]: unsupported language: \"klingon\" for text index version 3",
        ),
        (
            r#"db.r.find({$text: {$search: "leche", $language: "es"}})"#,
            "MongoServerError[NotImplemented]: text search in 'es' is not supported in this sandbox (only \"english\" and \"none\")",
        ),
        (
            r#"db.r.find({}, {s: {$meta: "textScore"}})"#,
            "MongoServerError[Location40218]: query requires text score metadata, but it is not available",
        ),
        (
            r#"db.r.find({}).sort({s: {$meta: "textScore"}})"#,
            "MongoServerError[Location40218]: query requires text score metadata, but it is not available",
        ),
        (
            r#"db.r.aggregate([{$project: {s: {$meta: "textScore"}}}])"#,
            "MongoServerError[Location40218]: query requires text score metadata, but it is not available",
        ),
        (
            r#"db.r.createIndex({_fts: "text", _ftsx: 1})"#,
            "MongoServerError[CannotCreateIndex]: text index needs at least one field: give a field as \"text\" or in 'weights'",
        ),
        (
            r#"db.nothere.find({$text: {$search: "cake"}})"#,
            "MongoServerError[IndexNotFound]: text index required for $text query",
        ),
    ];
    for (input, want) in cases {
        check(input, RECIPES, &[(input, want)]);
    }
}

const SHAPES: &[&str] = &[
    r#"db.g.insertMany([{_id: 1, loc: {type: "Point", coordinates: [0, 0]}}, {_id: 2, loc: {type: "Point", coordinates: [0, 1]}}, {_id: 3, loc: {type: "LineString", coordinates: [[2, -1], [2, 1]]}}, {_id: 4, loc: {type: "Polygon", coordinates: [[[3, 3], [5, 3], [5, 5], [3, 5], [3, 3]]]}}, {_id: 5, loc: [0.5, 0.5]}])"#,
];

const WITHIN_AND_INTERSECTS: &[(&str, &str)] = &[
    (
        r#"db.g.find({loc: {$geoIntersects: {$geometry: {type: "LineString", coordinates: [[1, 0], [3, 0]]}}}}, {_id: 1})"#,
        "[ { _id: 3 } ]",
    ),
    (
        r#"db.g.find({loc: {$geoIntersects: {$geometry: {type: "Point", coordinates: [4, 4]}}}}, {_id: 1})"#,
        "[ { _id: 4 } ]",
    ),
    (
        r#"db.g.find({loc: {$geoIntersects: {$geometry: {type: "Polygon", coordinates: [[[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]]}}}}, {_id: 1})"#,
        "[ { _id: 4 } ]",
    ),
    (
        // A hole around (0.5, 0.5) leaves that point out.
        r#"db.g.find({loc: {$geoWithin: {$geometry: {type: "Polygon", coordinates: [[[-1, -1], [3, -1], [3, 2], [-1, 2], [-1, -1]], [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6], [0.4, 0.4]]]}}}}, {_id: 1})"#,
        "[ { _id: 1 }, { _id: 2 }, { _id: 3 } ]",
    ),
    (
        r#"db.g.find({loc: {$geoWithin: {$geometry: {type: "MultiPolygon", coordinates: [[[[-1, -1], [1, -1], [1, 2], [-1, 2], [-1, -1]]], [[[2.5, 2.5], [6, 2.5], [6, 6], [2.5, 6], [2.5, 2.5]]]]}}}}, {_id: 1})"#,
        "[ { _id: 1 }, { _id: 2 }, { _id: 4 }, { _id: 5 } ]",
    ),
    (
        r#"db.g.find({loc: {$geoWithin: {$centerSphere: [[0, 0], 0.01]}}}, {_id: 1})"#,
        "[ { _id: 1 } ]",
    ),
];

#[test]
fn within_and_intersects_answer_the_same_with_and_without_an_index() {
    check("no index", SHAPES, WITHIN_AND_INTERSECTS);
    let mut indexed = SHAPES.to_vec();
    indexed.push(r#"db.g.createIndex({loc: "2dsphere"})"#);
    check("2dsphere index", &indexed, WITHIN_AND_INTERSECTS);
}

#[test]
fn near_and_geo_near() {
    let mut setup = SHAPES.to_vec();
    setup.push(r#"db.g.createIndex({loc: "2dsphere"})"#);
    check(
        "near",
        &setup,
        &[
            (
                r#"db.g.find({loc: {$near: {$geometry: {type: "Point", coordinates: [0, 0]}}}}, {_id: 1})"#,
                "[ { _id: 1 }, { _id: 5 }, { _id: 2 }, { _id: 3 }, { _id: 4 } ]",
            ),
            (
                // Legacy pairs on a 2dsphere index measure in radians.
                r#"db.g.find({loc: {$nearSphere: [0, 0], $maxDistance: 0.01}}, {_id: 1})"#,
                "[ { _id: 1 } ]",
            ),
            (
                r#"db.g.find({loc: {$near: {$geometry: {type: "Point", coordinates: [0, 0]}}}}, {_id: 1}).skip(1).limit(2)"#,
                "[ { _id: 5 }, { _id: 2 } ]",
            ),
            (
                r#"db.g.aggregate([{$geoNear: {near: {type: "Point", coordinates: [0, 0]}, distanceField: "d", distanceMultiplier: 0.001, query: {_id: {$lte: 2}}}}, {$project: {d: 1}}])"#,
                "[ { _id: 1, d: 0 }, { _id: 2, d: 111.31884502145034 } ]",
            ),
            (
                r#"db.g.aggregate([{$geoNear: {near: [0, 0], distanceField: "d", spherical: true, maxDistance: 0.01}}, {$project: {d: 1}}])"#,
                "[ { _id: 1, d: 0 } ]",
            ),
            (
                r#"db.g.find({loc: {$near: {$geometry: {type: "Point", coordinates: [0, 0]}}}}).explain("executionStats").executionStats.executionStages.keysExamined"#,
                // Three points keyed by a cell each, the line and the square by the six cells
                // covering them.
                "9",
            ),
            (
                r#"db.g.updateOne({_id: 2}, {$set: {loc: {type: "Point", coordinates: [10, 10]}}})"#,
                "{\n  acknowledged: true,\n  insertedId: null,\n  matchedCount: 1,\n  modifiedCount: 1,\n  upsertedCount: 0\n}",
            ),
            (
                r#"db.g.find({loc: {$near: {$geometry: {type: "Point", coordinates: [10, 10]}}}}, {_id: 1}).limit(1)"#,
                "[ { _id: 2 } ]",
            ),
        ],
    );
}

#[test]
fn geo_errors() {
    let mut setup = SHAPES.to_vec();
    setup.push(r#"db.g.createIndex({loc: "2dsphere"})"#);
    let cases: &[(&str, &str)] = &[
        (
            r#"db.g.aggregate([{$geoNear: {near: {type: "Point", coordinates: [0, 0]}}}])"#,
            "MongoServerError[BadValue]: $geoNear requires a 'distanceField' option as a String",
        ),
        (
            r#"db.g.aggregate([{$geoNear: {distanceField: "d"}}])"#,
            "MongoServerError[BadValue]: $geoNear requires a 'near' option as an Array",
        ),
        (
            r#"db.g.aggregate([{$geoNear: {near: [0, 0], distanceField: "d", key: "nope"}}])"#,
            "MongoServerError[BadValue]: no geo indices for geoNear on key nope",
        ),
        (
            r#"db.h.aggregate([{$geoNear: {near: [0, 0], distanceField: "d"}}])"#,
            "MongoServerError[IndexNotFound]: $geoNear requires a 2d or 2dsphere index, but none were found",
        ),
        (
            r#"db.g.find({$or: [{loc: {$near: [0, 0]}}]})"#,
            "MongoServerError[BadValue]: geoNear must be top-level expr",
        ),
        (
            r#"db.g.find({loc: {$geoWithin: {$foo: 1}}})"#,
            "MongoServerError[BadValue]: unknown geo specifier: $foo: 1",
        ),
        (
            r#"db.g.find({loc: {$near: {$geometry: {type: "Point", coordinates: [0, 0]}}}, $text: {$search: "x"}})"#,
            "MongoServerError[BadValue]: text and geoNear not allowed in same query",
        ),
        (
            r#"db.g.aggregate([{$match: {loc: {$near: [0, 0]}}}])"#,
            "MongoServerError[Location5626500]: $geoNear, $near, and $nearSphere are not allowed in this context, as these operators require sorting geospatial data. If you do not need sort, consider using $geoWithin instead.",
        ),
        (
            r#"db.g.insertOne({_id: 9, loc: {type: "Point", coordinates: [0, 91]}})"#,
            "MongoServerError: Can't extract geo keys: { _id: 9, loc: { type: \"Point\", coordinates: [ 0, 91 ] } }  longitude/latitude is out of bounds, lng: 0 lat: 91",
        ),
        (
            r#"db.g.insertOne({_id: 9, loc: {type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1]]]}})"#,
            "MongoServerError: Can't extract geo keys: { _id: 9, loc: { type: \"Polygon\", coordinates: [ [ [ 0, 0 ], [ 1, 0 ], [ 1, 1 ] ] ] } }  Loop must have at least 3 different vertices: [ [ 0, 0 ], [ 1, 0 ], [ 1, 1 ] ]",
        ),
        (
            r#"db.g.createIndex({a: "2dsphere", b: 1})"#,
            "MongoServerError[NotImplemented]: compound geospatial indexes are not supported in this sandbox: index one field",
        ),
    ];
    for (input, want) in cases {
        check(input, &setup, &[(input, want)]);
    }
}
