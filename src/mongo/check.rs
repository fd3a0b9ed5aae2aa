//! A lesson's check: one mongosh expression run on the student's behalf that may only read,
//! and that leaves the session as it was (the cursor `it` continues, the explain view).
//!
//! Whether an expression may write is decided from its shape before it runs, as the pipeline
//! viewer decides (see `flow`): a chain that starts at a collection (`db.c`, `db["c"]`,
//! `db.getCollection("c")`) or at `db`, calls only reading methods, and whose arguments
//! call nothing but BSON constructors and assign nothing. An `aggregate` whose pipeline
//! ends in `$out` or `$merge` is refused. Comparisons of such chains (`… > 2`) are allowed.

use super::flow::pure;
use super::shell::lexer::tokenize;
use super::shell::parser::{parse, Expr, StmtKind};
use super::value::Value;
use super::Shell;

/// Methods of `db` that only read.
const DB_READS: &[&str] = &["getCollectionNames", "getCollectionInfos", "getName"];

/// Methods of a collection that only read.
const COLLECTION_READS: &[&str] = &[
    "find",
    "findOne",
    "countDocuments",
    "estimatedDocumentCount",
    "count",
    "distinct",
    "aggregate",
    "getIndexes",
    "getIndexKeys",
    "getSearchIndexes",
    "explain",
    "isCapped",
    "getName",
    "getFullName",
];

/// Methods of what those return (cursors, explainables, arrays, strings) that only read.
const RESULT_READS: &[&str] = &[
    "sort",
    "limit",
    "skip",
    "hint",
    "projection",
    "project",
    "min",
    "max",
    "batchSize",
    "pretty",
    "count",
    "size",
    "itcount",
    "toArray",
    "explain",
    "find",
    "findOne",
    "aggregate",
    "countDocuments",
    "distinct",
    "hasNext",
    "next",
    "join",
    "includes",
    "indexOf",
    "slice",
    "toString",
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Db,
    Collection,
    Result,
}

/// An `aggregate` call the check runs: its pipeline is looked at before it runs.
struct Aggregate {
    args: Vec<Expr>,
}

/// Runs `src` as a check at sandbox time `now_ms`: `Ok` with what mongosh would print, or
/// `Err` with why `src` may not be a check.
pub fn check(shell: &mut Shell, src: &str, now_ms: u64) -> Result<String, String> {
    let tokens = tokenize(src).map_err(|e| e.display())?;
    let stmts = parse(src, &tokens).map_err(|e| e.display())?;
    let mut real = stmts.iter().filter(|s| !matches!(s.kind, StmtKind::Empty));
    let (Some(stmt), None) = (real.next(), real.next()) else {
        return Err("a check is one expression".into());
    };
    let StmtKind::Expr(expr) = &stmt.kind else {
        return Err("a check is one expression".into());
    };
    let session = &shell.session;
    let builtin = |name: &str| !session.is_bound(name);
    let mut aggregates = Vec::new();
    if !reads_only(expr, &builtin, &mut aggregates, 0) {
        return Err(
            "a check may only read: a query on a collection (find, countDocuments, aggregate, …) with literal arguments"
                .into(),
        );
    }
    shell.session.set_context(now_ms, false);
    shell.session.leaving_no_trace(|session| {
        for call in &aggregates {
            let args = session
                .eval_args_to_bson(&call.args)
                .map_err(|e| e.display())?;
            if writes(&args) {
                return Err("a check may not run a pipeline that writes ($out, $merge)".into());
            }
        }
        session.begin_input();
        Ok(match session.run(stmt) {
            Ok(output) => super::render_text(&output),
            Err(e) => e.render(src),
        })
    })
}

/// Whether an aggregate's arguments (a pipeline array or stages as arguments) hold a
/// writing stage anywhere.
fn writes(args: &[Value]) -> bool {
    let stage_writes = |stage: &Value| match stage {
        Value::Document(d) => d.iter().any(|(k, _)| k == "$out" || k == "$merge"),
        _ => false,
    };
    args.iter().any(|a| match a {
        Value::Array(stages) => stages.iter().any(stage_writes),
        other => stage_writes(other),
    })
}

fn reads_only(
    e: &Expr,
    builtin: &dyn Fn(&str) -> bool,
    aggregates: &mut Vec<Aggregate>,
    depth: usize,
) -> bool {
    match e {
        Expr::Binary { left, right, .. } | Expr::Logical { left, right, .. } => {
            let side = |x: &Expr, aggregates: &mut Vec<Aggregate>| {
                kind(x, builtin, aggregates, depth + 1) == Some(Kind::Result)
                    || pure(x, builtin, depth + 1)
            };
            side(left, aggregates) && side(right, aggregates)
        }
        Expr::Not(x) => reads_only(x, builtin, aggregates, depth + 1),
        _ => kind(e, builtin, aggregates, depth) == Some(Kind::Result),
    }
}

/// What `e` evaluates to, when it can only read; `None` otherwise.
fn kind(
    e: &Expr,
    builtin: &dyn Fn(&str) -> bool,
    aggregates: &mut Vec<Aggregate>,
    depth: usize,
) -> Option<Kind> {
    if depth > super::shell::parser::MAX_DEPTH * 2 {
        return None;
    }
    match e {
        Expr::Ident { name, .. } if name == "db" && builtin("db") => Some(Kind::Db),
        Expr::Member { object, .. } => match kind(object, builtin, aggregates, depth + 1)? {
            Kind::Db | Kind::Collection => Some(Kind::Collection),
            Kind::Result => Some(Kind::Result),
        },
        Expr::Index { object, index, .. } => {
            let of = kind(object, builtin, aggregates, depth + 1)?;
            match (of, index.as_ref()) {
                (Kind::Db, Expr::Str(_)) => Some(Kind::Collection),
                (Kind::Result, index) if pure(index, builtin, depth + 1) => Some(Kind::Result),
                _ => None,
            }
        }
        Expr::Call { callee, args } => {
            let Expr::Member { object, name, .. } = callee.as_ref() else {
                return None;
            };
            if !args.iter().all(|a| pure(a, builtin, depth + 1)) {
                return None;
            }
            match kind(object, builtin, aggregates, depth + 1)? {
                Kind::Db
                    if name == "getCollection" && matches!(args.as_slice(), [Expr::Str(_)]) =>
                {
                    Some(Kind::Collection)
                }
                Kind::Db if DB_READS.contains(&name.as_str()) => Some(Kind::Result),
                Kind::Collection if COLLECTION_READS.contains(&name.as_str()) => {
                    if name == "aggregate" {
                        aggregates.push(Aggregate { args: args.clone() });
                    }
                    Some(Kind::Result)
                }
                Kind::Result if RESULT_READS.contains(&name.as_str()) => {
                    if name == "aggregate" {
                        aggregates.push(Aggregate { args: args.clone() });
                    }
                    Some(Kind::Result)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> Shell {
        let mut sh = Shell::new();
        sh.eval_mongosh(
            r#"db.posts.insertMany([{_id: 1, tags: ["nosql"], views: 5}, {_id: 2, tags: ["nosql", "redis"], views: 9}, {_id: 3, tags: ["sql"], views: 1}])"#,
            0,
        );
        sh
    }

    #[test]
    fn reads_answer_as_mongosh_prints() {
        let mut sh = shell();
        let cases = [
            ("db.posts.countDocuments({tags: 'nosql'})", "2\n"),
            ("db.posts.countDocuments({tags: 'nosql'}) >= 2", "true\n"),
            (
                "db.getCollection('posts').find({views: {$gt: 5}}, {_id: 1})",
                "[ { _id: 2 } ]\n",
            ),
            (
                "db['posts'].find().sort({views: -1}).limit(1).toArray()[0]._id",
                "2\n",
            ),
            (
                "db.posts.aggregate([{$group: {_id: null, n: {$sum: '$views'}}}]).toArray()[0].n",
                "15\n",
            ),
            ("db.getCollectionNames()", "[ 'posts' ]\n"),
            ("db.posts.findOne({_id: 99})", "null\n"),
        ];
        for (src, expected) in cases {
            assert_eq!(check(&mut sh, src, 0), Ok(expected.to_string()), "{src}");
        }
    }

    #[test]
    fn writes_are_refused_before_they_run() {
        let mut sh = shell();
        for src in [
            "db.posts.insertOne({})",
            "db.posts.deleteMany({})",
            "db.posts.drop()",
            "db.posts.find({$where: function () { return true }})",
            "db.posts.find().forEach(d => db.x.insertOne(d))",
            "x = db.posts.countDocuments()",
            "db.posts.aggregate([{$out: 'copy'}])",
            "db.posts.aggregate([{$match: {}}, {$merge: {into: 'copy'}}])",
            "db.dropDatabase()",
            "db.posts.countDocuments(); db.posts.drop()",
            "use other",
            "db.posts.countDocuments({n: ObjectId()})",
        ] {
            assert!(check(&mut sh, src, 0).is_err(), "{src}");
        }
        assert_eq!(
            sh.eval_mongosh("db.getCollectionNames()", 0),
            "[ 'posts' ]\n"
        );
        assert_eq!(sh.eval_mongosh("db.posts.countDocuments()", 0), "3\n");
    }

    #[test]
    fn a_check_keeps_the_cursor_the_student_is_paging() {
        let mut sh = Shell::new();
        sh.eval_mongosh("for (let i = 0; i < 30; i++) db.n.insertOne({_id: i})", 0);
        let first = sh.eval_mongosh("db.n.find()", 0);
        assert!(first.ends_with("Type \"it\" for more\n"));
        assert_eq!(
            check(&mut sh, "db.n.find({_id: {$lt: 2}})", 0),
            Ok("[ { _id: 0 }, { _id: 1 } ]\n".into())
        );
        assert!(sh.eval_mongosh("it", 0).starts_with("[\n  { _id: 20 }"));
    }
}
