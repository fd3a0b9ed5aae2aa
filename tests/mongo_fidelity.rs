//! The Mongo half of the fidelity suite: cases taken from the MongoDB manual (its sample
//! documents, the command, and the result it documents), in `tests/fidelity/mongo/*.mongo`.
//!
//! Format of a file:
//! ```text
//! ### name of the case (source: manual page)
//! db.inventory.insertMany([...])          <- setup: run, output ignored
//! >>> db.inventory.find({qty: {$gt: 20}}) <- a statement (continues on the next lines until
//! [ { _id: 1, qty: 25 } ]                    its brackets close), then the exact mongosh
//! >>> json db.inventory.countDocuments()  <- output expected; `>>> json` compares the
//! 1                                          relaxed Extended JSON output instead
//! ```
//! Every case runs in a fresh shell at a fixed sandbox time. Blank lines at the end of an
//! expected output are ignored; a case whose name starts with `[known difference]` is
//! reported but not counted, and must say why in its name.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use nosql_playground::mongo::{input_is_complete, Shell};

/// 2024-01-01T00:00:00Z: cases that print ObjectIds or dates see the same time every run.
const NOW: u64 = 1_704_067_200_000;

struct Step {
    json: bool,
    source: String,
    expected: String,
}

struct Case {
    name: String,
    setup: String,
    steps: Vec<Step>,
}

fn parse(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix("###") {
            cases.push(Case {
                name: name.trim().to_string(),
                setup: String::new(),
                steps: Vec::new(),
            });
            continue;
        }
        let Some(case) = cases.last_mut() else {
            continue;
        };
        if let Some(stmt) = line.strip_prefix(">>>") {
            let (json, stmt) = match stmt.trim_start().strip_prefix("json ") {
                Some(rest) => (true, rest),
                None => (false, stmt.trim_start()),
            };
            let mut source = stmt.to_string();
            while !input_is_complete(&source) {
                match lines.next() {
                    Some(more) => {
                        source.push('\n');
                        source.push_str(more);
                    }
                    None => break,
                }
            }
            let mut expected = String::new();
            while let Some(next) = lines.peek() {
                if next.starts_with(">>>") || next.starts_with("###") {
                    break;
                }
                expected.push_str(next);
                expected.push('\n');
                lines.next();
            }
            case.steps.push(Step {
                json,
                source,
                expected: expected.trim_end().to_string(),
            });
        } else if case.steps.is_empty() {
            case.setup.push_str(line);
            case.setup.push('\n');
        }
    }
    cases
}

/// Feeds setup the way the console does: line by line, joined until complete.
fn run_setup(shell: &mut Shell, setup: &str) {
    let mut pending = String::new();
    for line in setup.lines() {
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

#[test]
fn manual_examples_print_what_mongosh_prints() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fidelity/mongo");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "mongo"));
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable case file");
        let cases = parse(&text);
        let (mut same, mut counted) = (0, 0);
        for case in &cases {
            let known = case.name.starts_with("[known difference]");
            let mut shell = Shell::new();
            run_setup(&mut shell, &case.setup);
            let mut ok = true;
            for step in &case.steps {
                let got = if step.json {
                    shell.eval_json(&step.source, NOW)
                } else {
                    shell.eval_mongosh(&step.source, NOW)
                };
                if got.trim_end() != step.expected {
                    ok = false;
                    if !known {
                        failures.push(format!(
                            "{} / {}\n  >>> {}\n  expected:\n{}\n  got:\n{}",
                            file.file_name().unwrap_or_default().to_string_lossy(),
                            case.name,
                            step.source,
                            step.expected,
                            got.trim_end()
                        ));
                    }
                }
            }
            if !known {
                counted += 1;
                same += usize::from(ok);
            }
        }
        total += counted;
        println!(
            "{}: {same}/{counted} cases identical",
            file.file_name().unwrap_or_default().to_string_lossy()
        );
    }
    println!("mongo fidelity: {} cases in {} files", total, files.len());
    assert!(
        failures.is_empty(),
        "{}\n{} failing",
        failures.join("\n\n"),
        failures.len()
    );
}
