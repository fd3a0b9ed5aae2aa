//! Where the time of one giant mongosh statement goes: `db.big.insertMany([...])` of `n`
//! documents (the page test's shape), split into lexing, parsing, and running it with the
//! printing of its result (`Shell::eval_mongosh` on the same text, less the first two).
//!
//! `cargo run --profile native --example giant_statement_bench -- [n]` (default 100000).

use std::time::Instant;

use nosql_playground::mongo::shell::{lexer::tokenize, parser::parse};
use nosql_playground::mongo::Shell;

#[path = "support/pasted.rs"]
mod pasted;

fn main() {
    let n = pasted::count_arg(100_000);
    let src = pasted::insert_many(n);
    let ms = |start: Instant| start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let tokens = tokenize(&src).expect("lexes");
    let lex = ms(start);
    let start = Instant::now();
    let stmts = parse(&src, &tokens).expect("parses");
    let parsed = ms(start);
    drop((tokens, stmts));
    let mut shell = Shell::new();
    let start = Instant::now();
    let out = shell.eval_mongosh(&src, 0);
    let all = ms(start);
    println!(
        "insertMany of {n} documents ({:.1} MB): lex {lex:.0} ms, parse {parsed:.0} ms, run and print {:.0} ms ({all:.0} ms in all), result {:.1} MB",
        src.len() as f64 / 1e6,
        all - lex - parsed,
        out.len() as f64 / 1e6
    );
}
