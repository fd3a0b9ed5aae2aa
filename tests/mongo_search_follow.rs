//! Search indexes after writes answer as indexes built afresh over the same documents: the
//! full-text field indexes kept between queries and the vector graph that follows writes
//! never serve a stale answer. Each step runs on a session that queried after every write
//! and on a new session that made the same writes before creating its indexes.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use nosql_playground::mongo::Shell;

const NOW: u64 = 1_704_067_200_000;

const INDEXES: &[&str] = &[
    r#"db.c.createSearchIndex({mappings: {dynamic: true}})"#,
    r#"db.c.createSearchIndex({name: "vec", type: "vectorSearch", definition: {fields: [{type: "vector", path: "v", numDimensions: 3, similarity: "euclidean"}]}})"#,
];

const QUERIES: &[&str] = &[
    r#"db.c.aggregate([{$search: {text: {query: "apple pie", path: "t"}}}, {$project: {_id: 1, s: {$meta: "searchScore"}}}])"#,
    r#"db.c.aggregate([{$searchMeta: {text: {query: "pear", path: "t"}, count: {type: "total"}}}])"#,
    r#"db.c.aggregate([{$search: {compound: {should: [{text: {query: "pie", path: "t"}}, {phrase: {query: "pear tart", path: "t"}}]}}}, {$project: {_id: 1, s: {$meta: "searchScore"}}}])"#,
    r#"db.c.aggregate([{$vectorSearch: {index: "vec", path: "v", queryVector: [1, 0, 0], numCandidates: 100, limit: 4}}, {$project: {_id: 1, s: {$meta: "vectorSearchScore"}}}])"#,
    r#"db.c.aggregate([{$vectorSearch: {index: "vec", path: "v", queryVector: [0, 1, 0], exact: true, limit: 4}}, {$project: {_id: 1, s: {$meta: "vectorSearchScore"}}}])"#,
];

const WRITES: &[&str] = &[
    r#"db.c.insertMany([{_id: 1, t: "apple pie", v: [1, 0, 0]}, {_id: 2, t: "pear tart", v: [0, 1, 0]}, {_id: 3, t: "apple", v: [0.9, 0.1, 0]}])"#,
    r#"db.c.insertOne({_id: 4, t: "pie crust with pear", v: [0.5, 0.5, 0]})"#,
    r#"db.c.updateOne({_id: 1}, {$set: {t: "cherry pie", v: [0, 0, 1]}})"#,
    r#"db.c.deleteOne({_id: 3})"#,
    r#"db.c.insertOne({_id: 5, t: "apple apple", v: [1, 0.1, 0]})"#,
    r#"db.c.replaceOne({_id: 2}, {t: "apricot", v: [0.2, 0.9, 0]})"#,
];

fn answers(shell: &mut Shell, now: u64) -> Vec<String> {
    QUERIES.iter().map(|q| shell.eval_mongosh(q, now)).collect()
}

#[test]
fn search_indexes_after_writes_answer_as_fresh_ones() {
    let mut followed = Shell::new();
    followed.eval_mongosh(r#"db.createCollection("c")"#, NOW);
    for s in INDEXES {
        assert!(!followed.eval_mongosh(s, NOW).contains("Error"));
    }
    for (i, w) in WRITES.iter().enumerate() {
        followed.eval_mongosh(w, NOW);
        // Twice: the second reads what the first built.
        let first = answers(&mut followed, NOW + 60_000);
        assert_eq!(
            answers(&mut followed, NOW + 60_000),
            first,
            "after write {i}"
        );
        // The same writes, then the indexes, built at their first query.
        let mut fresh = Shell::new();
        for earlier in &WRITES[..=i] {
            fresh.eval_mongosh(earlier, NOW);
        }
        for s in INDEXES {
            fresh.eval_mongosh(s, NOW);
        }
        assert_eq!(
            answers(&mut fresh, NOW + 60_000),
            first,
            "after write {i}: {w}"
        );
        assert!(
            first
                .iter()
                .all(|a| a.contains("_id") || a.contains("count")),
            "{first:?}"
        );
    }
}

/// A full-text index, one static field with an autocomplete alternative.
const TEXT_INDEX: &str = r#"db.c.createSearchIndex({mappings: {dynamic: true, fields: {t: [{type: "string"}, {type: "autocomplete", minGrams: 2, maxGrams: 5}]}}})"#;

const TEXT_QUERIES: &[&str] = &[
    r#"db.c.aggregate([{$search: {text: {query: "apple pie", path: "t"}}}, {$project: {_id: 1, s: {$meta: "searchScore"}}}])"#,
    r#"db.c.aggregate([{$search: {text: {query: "tarts", path: "tags", fuzzy: {}}}}, {$project: {_id: 1, s: {$meta: "searchScore"}}}])"#,
    r#"db.c.aggregate([{$search: {phrase: {query: "sweet crust", path: ["t", "tags"], slop: 1}}}, {$project: {_id: 1, s: {$meta: "searchScore"}}}])"#,
    r#"db.c.aggregate([{$search: {autocomplete: {query: "che", path: "t"}}}, {$project: {_id: 1, s: {$meta: "searchScore"}}}])"#,
    r#"db.c.aggregate([{$search: {compound: {must: [{text: {query: "pear", path: "t"}}], mustNot: [{text: {query: "tart", path: "tags"}}], should: [{text: {query: "sweet", path: "tags"}}]}}}, {$project: {_id: 1, s: {$meta: "searchScore"}}}])"#,
    r#"db.c.aggregate([{$searchMeta: {text: {query: "cherry", path: {wildcard: "*"}}, count: {type: "total"}}}])"#,
];

/// Random inserts, updates, replacements and deletes, with a full-text query after each
/// write on one session: every answer, scores to the last digit, is the one a session
/// gives that made the same writes and created the index only afterwards.
#[test]
fn full_text_answers_after_random_writes_are_a_fresh_indexs() {
    const WORDS: &[&str] = &["apple", "pear", "pie", "tart", "crust", "sweet", "cherry"];
    let mut rng = common::Rng(0x0f01_10a5);
    let words = |rng: &mut common::Rng, n: usize| -> String {
        (0..n)
            .map(|_| rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut writes: Vec<String> = Vec::new();
    let mut followed = Shell::new();
    followed.eval_mongosh(r#"db.createCollection("c")"#, NOW);
    assert!(!followed.eval_mongosh(TEXT_INDEX, NOW).contains("Error"));
    for step in 0..40 {
        let id = rng.below(12);
        let n = 1 + rng.below(5);
        let (t, tag) = (words(&mut rng, n), words(&mut rng, 2));
        let write = match rng.below(6) {
            0 | 1 => format!(
                r#"db.c.insertOne({{_id: {step}, t: "{t}", tags: ["{tag}", "pie"], k: {id}}})"#
            ),
            2 => format!(r#"db.c.updateMany({{k: {id}}}, {{$set: {{t: "{t}"}}}})"#),
            3 => format!(r#"db.c.replaceOne({{k: {id}}}, {{k: {id}, tags: ["{tag}"]}})"#),
            4 => format!(r#"db.c.deleteOne({{k: {id}}})"#),
            _ => format!(r#"db.c.updateOne({{k: {id}}}, {{$push: {{tags: "{t}"}}}})"#),
        };
        followed.eval_mongosh(&write, NOW);
        writes.push(write);
        let query = TEXT_QUERIES[step % TEXT_QUERIES.len()];
        let got = followed.eval_mongosh(query, NOW);
        let mut fresh = Shell::new();
        fresh.eval_mongosh(r#"db.createCollection("c")"#, NOW);
        for w in &writes {
            fresh.eval_mongosh(w, NOW);
        }
        fresh.eval_mongosh(TEXT_INDEX, NOW);
        let last = writes.last().map_or("", String::as_str);
        assert_eq!(
            got,
            fresh.eval_mongosh(query, NOW),
            "step {step}: {last}\n{query}"
        );
        assert!(!got.contains("Error"), "{got}");
    }
}
