//! A maintenance helper for the aggregation fidelity files, not a check: with
//! `AGG_FILL=tests/fidelity/mongo/agg-x.mongo cargo test --test mongo_agg_fill -- --ignored`
//! it writes `<file>.filled` with every step's output as the engine prints it now, so that a
//! new case's expected text can be compared line by line with the manual's documented
//! result before it is committed. Ignored by default: expected texts come from the manual.
#![cfg(not(target_arch = "wasm32"))]

use nosql_playground::mongo::{input_is_complete, Shell};

const NOW: u64 = 1_704_067_200_000;

#[test]
#[ignore]
fn fill_expected_outputs() {
    let Ok(path) = std::env::var("AGG_FILL") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut out = String::new();
    let mut shell = Shell::new();
    let mut lines = text.lines().peekable();
    let mut pending = String::new();
    let mut in_steps = false;
    while let Some(line) = lines.next() {
        if line.starts_with("###") {
            shell = Shell::new();
            in_steps = false;
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if let Some(stmt) = line.strip_prefix(">>>") {
            in_steps = true;
            let (json, stmt) = match stmt.trim_start().strip_prefix("json ") {
                Some(rest) => (true, rest),
                None => (false, stmt.trim_start()),
            };
            out.push_str(line);
            out.push('\n');
            let mut source = stmt.to_string();
            while !input_is_complete(&source) {
                match lines.next() {
                    Some(more) => {
                        out.push_str(more);
                        out.push('\n');
                        source.push('\n');
                        source.push_str(more);
                    }
                    None => break,
                }
            }
            while let Some(next) = lines.peek() {
                if next.starts_with(">>>") || next.starts_with("###") {
                    break;
                }
                lines.next();
            }
            let got = if json {
                shell.eval_json(&source, NOW)
            } else {
                shell.eval_mongosh(&source, NOW)
            };
            out.push_str(got.trim_end());
            out.push_str("\n\n");
            continue;
        }
        if !in_steps {
            out.push_str(line);
            out.push('\n');
            if !pending.is_empty() {
                pending.push('\n');
            }
            pending.push_str(line);
            if input_is_complete(&pending) {
                shell.eval_mongosh(&pending, NOW);
                pending.clear();
            }
        }
    }
    let _ = std::fs::write(format!("{path}.filled"), out.trim_end().to_string() + "\n");
}
