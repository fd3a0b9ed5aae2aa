//! What the Mongo console completes: the shell's method names and the engine's operator
//! names, read from the tables that run them (so a list cannot promise what the engine does
//! not do), and the field paths a collection's documents use.

use std::collections::HashSet;

use serde::Serialize;

use super::store::Store;
use super::value::{Document, Value};

/// Every name the console offers, by where it may be typed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vocabulary {
    /// `db.<collection>.<method>`
    pub collection_methods: Vec<&'static str>,
    /// `db.<collection>.find(…).<method>`
    pub cursor_methods: Vec<&'static str>,
    /// `db.<method>`
    pub db_methods: Vec<&'static str>,
    /// What the shell understands at the start of a statement besides JavaScript.
    pub shell_helpers: Vec<&'static str>,
    /// Filter operators, both those in a field's condition (`$gt`) and at the top (`$or`).
    pub query_operators: Vec<&'static str>,
    pub update_operators: Vec<&'static str>,
    pub stages: Vec<&'static str>,
    pub expression_operators: Vec<&'static str>,
    pub accumulators: Vec<&'static str>,
}

fn sorted(mut names: Vec<&'static str>) -> Vec<&'static str> {
    crate::sort::sort(&mut names);
    names.dedup();
    names
}

pub fn vocabulary() -> Vocabulary {
    use super::agg::{accum, ops, stages};
    use super::query::{filter, update};
    use super::shell::{collection, eval};
    // `$options` only qualifies `$regex`; it is offered all the same, as a name.
    let query = filter::operator_names().collect();
    Vocabulary {
        collection_methods: sorted(collection::COLLECTION_METHODS.to_vec()),
        cursor_methods: sorted(eval::CURSOR_METHODS.to_vec()),
        db_methods: sorted(eval::DB_METHODS.to_vec()),
        shell_helpers: vec![
            "show dbs",
            "show databases",
            "show collections",
            "use",
            "it",
            "cls",
        ],
        query_operators: sorted(query),
        update_operators: sorted(update::OPERATORS.to_vec()),
        stages: sorted(stages::STAGES.iter().map(|(name, _)| *name).collect()),
        expression_operators: sorted(ops::OPERATORS.iter().map(|op| op.name).collect()),
        accumulators: sorted(accum::ACCUMULATORS.iter().map(|(name, _)| *name).collect()),
    }
}

/// Paths are not followed deeper than this: a student's documents rarely nest further, and
/// a hostile one cannot make the walk deep.
const MAX_DEPTH: usize = 8;
/// At most this many paths are returned: a completion list, not a schema.
pub const MAX_PATHS: usize = 500;

/// The dotted field paths used by the first `sample` documents of a collection, in the order
/// first seen; documents inside arrays add their fields under the array's name
/// (`items.qty`), as queries reach them. Cost is bounded by the sample, not the collection.
pub fn field_paths(store: &Store, db: &str, coll: &str, sample: usize) -> Vec<String> {
    let mut paths = Vec::new();
    let mut seen = HashSet::new();
    if let Some(collection) = store.collection(db, coll) {
        for doc in collection.docs.iter().take(sample) {
            walk(doc, "", 0, &mut paths, &mut seen);
            if paths.len() >= MAX_PATHS {
                break;
            }
        }
    }
    paths.truncate(MAX_PATHS);
    paths
}

fn walk(
    doc: &Document,
    prefix: &str,
    depth: usize,
    paths: &mut Vec<String>,
    seen: &mut HashSet<String>,
) {
    for (name, value) in doc {
        if paths.len() >= MAX_PATHS {
            return;
        }
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if seen.insert(path.clone()) {
            paths.push(path.clone());
        }
        if depth + 1 < MAX_DEPTH {
            nested(value, &path, depth + 1, paths, seen);
        }
    }
}

fn nested(
    value: &Value,
    path: &str,
    depth: usize,
    paths: &mut Vec<String>,
    seen: &mut HashSet<String>,
) {
    match value {
        Value::Document(inner) => walk(inner, path, depth, paths, seen),
        Value::Array(items) => {
            for item in items.iter().take(MAX_PATHS) {
                if let Value::Document(inner) = item {
                    walk(inner, path, depth, paths, seen);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::Shell;

    #[test]
    fn vocabulary_comes_from_the_engine_tables() {
        let v = vocabulary();
        for (list, name) in [
            (&v.collection_methods, "insertOne"),
            (&v.collection_methods, "aggregate"),
            (&v.collection_methods, "createIndex"),
            (&v.cursor_methods, "sort"),
            (&v.cursor_methods, "toArray"),
            (&v.cursor_methods, "explain"),
            (&v.cursor_methods, "pretty"),
            (&v.query_operators, "$gt"),
            (&v.query_operators, "$or"),
            (&v.query_operators, "$elemMatch"),
            (&v.update_operators, "$inc"),
            (&v.stages, "$match"),
            (&v.stages, "$group"),
            (&v.expression_operators, "$add"),
            (&v.accumulators, "$sum"),
            (&v.shell_helpers, "show dbs"),
        ] {
            assert!(list.contains(&name), "{name}");
        }
        // Sorted and without repeats, so the page can show them as they come.
        for list in [&v.query_operators, &v.stages, &v.expression_operators] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
        assert!(
            !v.stages.contains(&"$collStats"),
            "only stages the engine runs"
        );
        assert!(v.stages.contains(&"$vectorSearch"));
    }

    #[test]
    fn every_offered_operator_is_one_the_engine_knows() {
        let mut shell = Shell::new();
        shell.eval_mongosh("db.t.insertOne({a: 1})", 0);
        for op in vocabulary().stages {
            let out = shell.eval_mongosh(&format!("db.t.aggregate([{{{op}: 1}}])"), 0);
            assert!(!out.contains("Unrecognized pipeline stage"), "{op}: {out}");
        }
        for op in vocabulary().update_operators {
            let out = shell.eval_mongosh(&format!("db.t.updateOne({{}}, {{{op}: {{}}}})"), 0);
            assert!(!out.contains("Unknown modifier"), "{op}: {out}");
        }
    }

    #[test]
    fn field_paths_of_a_sample() {
        let mut shell = Shell::new();
        shell.eval_mongosh(
            "db.posts.insertMany([{title: 'a', author: {name: 'x', tags: ['t']}, comments: [{by: 'y', votes: 1}]}, {title: 'b', draft: true}, {late: 1}])",
            0,
        );
        let paths = field_paths(shell.store(), "test", "posts", 2);
        assert_eq!(
            paths,
            vec![
                "_id",
                "title",
                "author",
                "author.name",
                "author.tags",
                "comments",
                "comments.by",
                "comments.votes",
                "draft"
            ]
        );
        assert!(field_paths(shell.store(), "test", "posts", 3).contains(&"late".to_string()));
        assert!(field_paths(shell.store(), "test", "nothing", 10).is_empty());
        assert!(field_paths(shell.store(), "nodb", "posts", 10).is_empty());
    }

    #[test]
    fn deep_and_wide_documents_stay_bounded() {
        let mut shell = Shell::new();
        let deep = "{a: ".repeat(40) + "1" + &"}".repeat(40);
        shell.eval_mongosh(&format!("db.d.insertOne({deep})"), 0);
        let paths = field_paths(shell.store(), "test", "d", 1);
        assert_eq!(paths.len(), 1 + MAX_DEPTH);
        let wide: Vec<String> = (0..700).map(|i| format!("f{i}: {i}")).collect();
        shell.eval_mongosh(&format!("db.w.insertOne({{{}}})", wide.join(", ")), 0);
        assert_eq!(field_paths(shell.store(), "test", "w", 1).len(), MAX_PATHS);
    }
}
