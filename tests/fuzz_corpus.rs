//! Replays the checked-in fuzz corpus (`fuzz/corpus/<target>/`: minimized inputs and every
//! crash the fuzzers ever found) through the same functions the libFuzzer targets call, so
//! that a fixed crash stays fixed on stable Rust, in the normal test command.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

use nosql_playground::fuzz_entry::TARGETS;

#[test]
fn every_corpus_input_runs_to_completion() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, run) in TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{name} has no corpus");
        for file in files {
            let data = fs::read(&file).expect("corpus file");
            eprintln!("{}", file.display());
            run(&data);
        }
    }
}

#[test]
fn every_fuzz_target_has_a_shared_entry() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut on_disk: Vec<String> = fs::read_dir(&dir)
        .expect("fuzz/fuzz_targets")
        .map(|e| {
            let path = e.expect("entry").path();
            path.file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    let mut shared: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    shared.sort();
    assert_eq!(on_disk, shared);
}
