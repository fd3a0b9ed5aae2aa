//! Where the time of one giant mongosh statement goes: `db.big.insertMany([...])` of `n`
//! documents (the page test's shape), split into lexing, parsing, and running it with the
//! printing of its result (`Shell::eval_mongosh` on the same text, less the first two); then
//! the same statement in steps (`Shell::prepare_mongosh`, `step_prepared`), each stage's
//! budget aimed at 12 ms of work a step as the page aims it: the number of steps, the
//! longest, and the time of each stage. Times are CPU time of this thread (the machine is
//! shared), in milliseconds.
//!
//! `cargo run --profile native --example giant_statement_bench -- [n]` (default 100000).

use nosql_playground::mongo::shell::{lexer::tokenize, parser::parse};
use nosql_playground::mongo::Shell;

#[path = "support/pasted.rs"]
mod pasted;

/// CPU time of this thread so far (Linux), else wall time.
fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(
            || {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64() * 1e3)
            },
            |ns| ns / 1e6,
        )
}

fn main() {
    let n = pasted::count_arg(100_000);
    let src = pasted::insert_many(n);
    let start = cpu_ms();
    let tokens = tokenize(&src).expect("lexes");
    let lex = cpu_ms() - start;
    let start = cpu_ms();
    let stmts = parse(&src, &tokens).expect("parses");
    let parsed = cpu_ms() - start;
    drop((tokens, stmts));
    let mut shell = Shell::new();
    let start = cpu_ms();
    let whole = shell.eval_mongosh(&src, 0);
    let all = cpu_ms() - start;
    println!(
        "insertMany of {n} documents ({:.1} MB) in one call: lex {lex:.0} ms, parse {parsed:.0} ms, run and print {:.0} ms ({all:.0} ms in all), result {:.1} MB",
        src.len() as f64 / 1e6,
        all - lex - parsed,
        whole.len() as f64 / 1e6
    );

    let mut shell = Shell::new();
    let mut budgets: Vec<(&str, f64)> = vec![
        ("read", 65_536.0),
        ("evaluate", 500.0),
        ("prepare", 1_000.0),
        ("insert", 500.0),
        ("print", 2_000.0),
    ];
    let mut per_stage: Vec<(&str, f64, usize, f64)> = Vec::new();
    let start = cpu_ms();
    assert_eq!(shell.prepare_mongosh(&src, 0), None);
    let prepare = cpu_ms() - start;
    let stepped = loop {
        let stage = shell.prepared_progress().map_or("whole", |p| p.stage);
        let slot = budgets.iter_mut().find(|(s, _)| *s == stage);
        let budget = slot.as_ref().map_or(1.0, |(_, b)| *b);
        let start = cpu_ms();
        let out = shell.step_prepared(budget as usize);
        let spent = cpu_ms() - start;
        if let Some(slot) = slot {
            slot.1 = (budget * (12.0 / spent.max(0.5)).clamp(0.5, 2.0)).max(1.0);
        }
        match per_stage.iter_mut().find(|(s, ..)| *s == stage) {
            Some(entry) => {
                entry.1 += spent;
                entry.2 += 1;
                entry.3 = entry.3.max(spent);
            }
            None => per_stage.push((stage, spent, 1, spent)),
        }
        if let Some(out) = out {
            break out;
        }
    };
    assert!(
        stepped == whole,
        "the stepped run prints what one call prints"
    );
    let steps: usize = per_stage.iter().map(|s| s.2).sum();
    let total: f64 = per_stage.iter().map(|s| s.1).sum::<f64>() + prepare;
    let longest = per_stage.iter().map(|s| s.3).fold(prepare, f64::max);
    println!("in steps: {steps} steps, {total:.0} ms in all, the longest {longest:.1} ms (prepare {prepare:.2} ms)");
    for (stage, spent, count, max) in per_stage {
        println!("  {stage}: {count} steps, {spent:.0} ms, the longest {max:.1} ms");
    }
}
