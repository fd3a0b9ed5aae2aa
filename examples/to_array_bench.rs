//! Where the time of `db.c.find().toArray()` over a huge collection goes, beside statements
//! that do part of its work: `itcount()` (the query and the cursor's walk), `find()` (one
//! batch printed) and `toArray().length` (the array built, nothing printed).
//!
//! `cargo run --profile native --example to_array_bench -- [n]` (default 1000000).

use std::time::Instant;

use nosql_playground::mongo::Shell;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut shell = Shell::new();
    for start in (0..n).step_by(100_000) {
        let len = (n - start).min(100_000);
        shell.eval_mongosh(
            &format!("db.c.insertMany(Array.from({{length: {len}}}, (_, i) => ({{i: i + {start}, s: 'text'}})))"),
            0,
        );
    }
    for src in [
        "db.c.find().itcount()",
        "db.c.find()",
        "db.c.find().toArray().length",
        "db.c.find().toArray()",
        "db.c.find().toArray()",
    ] {
        let start = Instant::now();
        let out = shell.eval_mongosh(src, 0);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let last = out.lines().rev().find(|l| !l.is_empty()).unwrap_or("");
        println!(
            "{src:<32} {ms:>7.1} ms  {} lines, last {last:?}",
            out.lines().count()
        );
    }
}
