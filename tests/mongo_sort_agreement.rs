//! Since MongoDB 3.6 (SERVER-19402), `find`'s sort and the `$sort` stage order documents by
//! the same sort keys: an array field sorts by its smallest element ascending and its
//! largest descending, an element that is itself an array counts whole (the key generator
//! does not flatten nested arrays), a path missing from some array elements counts null,
//! and a numeric path component indexes into an array. `$setWindowFields`' `sortBy` and the
//! `$top`/`$bottom` accumulators' `sortBy` order by the same keys. These documents put each
//! of those cases next to plain values of several types.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{ids_in_order as ids, SORT_KEY_DOCS as DOCS};
use nosql_playground::mongo::Shell;

const SORTS: &[&str] = &[
    "{ a: 1, _id: 1 }",
    "{ a: -1, _id: 1 }",
    "{ 'b.c': 1, _id: 1 }",
    "{ 'b.c': -1, _id: 1 }",
    "{ 'a.0': 1, _id: 1 }",
    "{ 'a.0': -1, _id: 1 }",
    "{ 'b.1.c': 1, _id: -1 }",
    "{ 'a.c': -1, _id: 1 }",
];

#[test]
fn aggregation_sorts_as_find_sorts() {
    let mut shell = Shell::new();
    shell.eval_json(&format!("db.c.insertMany([{}])", DOCS.join(", ")), 0);
    for sort in SORTS {
        let found = ids(
            &mut shell,
            &format!("db.c.find({{}}, {{ _id: 1 }}).sort({sort}).toArray()"),
        );
        let staged = ids(
            &mut shell,
            &format!(
                "db.c.aggregate([{{ $sort: {sort} }}, {{ $project: {{ _id: 1 }} }}]).toArray()"
            ),
        );
        assert_eq!(staged, found, "$sort {sort}");
        let windowed = ids(
            &mut shell,
            &format!(
                "db.c.aggregate([{{ $setWindowFields: {{ sortBy: {sort}, output: {{ n: {{ $documentNumber: {{}} }} }} }} }}, \
                 {{ $sort: {{ n: 1 }} }}, {{ $project: {{ _id: 1 }} }}]).toArray()"
            ),
        );
        assert_eq!(windowed, found, "$setWindowFields sortBy {sort}");
        let first = found.split(' ').next().unwrap_or_default().to_string();
        let top = ids(
            &mut shell,
            &format!(
                "db.c.aggregate([{{ $group: {{ _id: null, t: {{ $top: {{ sortBy: {sort}, output: {{ _id: '$_id' }} }} }} }} }}, \
                 {{ $project: {{ _id: '$t._id' }} }}]).toArray()"
            ),
        );
        assert_eq!(top, first, "$top sortBy {sort}");
    }
}
