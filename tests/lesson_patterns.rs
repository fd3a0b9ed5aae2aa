//! Every `match` pattern of the built-in course compiles with the engine's regex, the one the
//! page runs lesson checks on (www/js/lesson-format.js), with `m` as the page passes it.

use nosql_playground::mongo::query::regex::Regex;
use std::fs;
use std::path::Path;

fn patterns() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/lessons");
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir).expect("www/lessons") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n == "index.json")
            || path.extension().is_none_or(|e| e != "json")
        {
            continue;
        }
        let lesson: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).expect("lesson")).expect("lesson JSON");
        for step in lesson["steps"].as_array().expect("steps") {
            for check in step["checks"].as_array().into_iter().flatten() {
                if let Some(pattern) = check["match"].as_str() {
                    found.push((path.display().to_string(), pattern.to_string()));
                }
            }
        }
    }
    found
}

#[test]
fn every_course_pattern_compiles_with_the_engine_regex() {
    let all = patterns();
    assert!(all.len() >= 10, "the course has its match checks: {all:?}");
    for (file, pattern) in all {
        assert!(Regex::new(&pattern, "m").is_ok(), "{file}: {pattern}");
    }
}

#[test]
fn course_patterns_match_the_replies_they_are_written_for() {
    for (pattern, reply, matches) in [
        (r"^\(integer\) ([1-9]\d*)$", "(integer) 42", true),
        (r"^\(integer\) ([1-9]\d*)$", "(integer) -2", false),
        (
            r"^keyspace_misses:1$",
            "# Stats\nkeyspace_hits:3\nkeyspace_misses:1\nexpired_keys:0",
            true,
        ),
        (
            r"^keyspace_hits:([3-9]|\d\d+)$",
            "keyspace_hits:2\nkeyspace_misses:1",
            false,
        ),
        (r"^\(integer\) 3\d{3}$", "(integer) 3600", true),
    ] {
        let re = Regex::new(pattern, "m").expect(pattern);
        assert_eq!(re.is_match(reply), matches, "{pattern} on {reply:?}");
    }
}
