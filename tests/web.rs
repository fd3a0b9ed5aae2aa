//! The exported API, exercised in a real browser (`wasm-pack test --headless --chrome`).
#![cfg(target_arch = "wasm32")]

use nosql_playground::wasm::Playground;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const T0: f64 = 1_795_671_600_000.0;

#[wasm_bindgen_test]
fn redis_lines_reply_like_redis_cli() {
    let mut p = Playground::new();
    assert_eq!(p.redis("SET greeting hello", T0), "OK\n");
    assert_eq!(p.redis("GET greeting", T0), "\"hello\"\n");
    assert_eq!(
        p.redis("GET", T0),
        "(error) ERR wrong number of arguments for 'get' command\n"
    );
    assert_eq!(p.redis("GET \"open", T0), "Invalid argument(s)\n");
    assert_eq!(p.redis("", T0), "");
}

#[wasm_bindgen_test]
fn a_script_runs_line_by_line_in_one_call() {
    let mut p = Playground::new();
    let out = p.redis_script("SET a 1\nGET a\n\nquit\nGET a", T0);
    assert_eq!(out, "OK\n\"1\"\n");
}

#[wasm_bindgen_test]
fn help_is_plain_text_in_the_page() {
    let mut p = Playground::new();
    let text = p.redis("HELP SET", T0);
    assert!(text.contains("SET key value"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no ANSI colours in the page: {text:?}"
    );
}

#[wasm_bindgen_test]
fn select_changes_the_prompt_db_and_completion_knows_the_table() {
    let mut p = Playground::new();
    assert_eq!(p.redis_db(), 0);
    assert_eq!(p.redis("SELECT 3", T0), "OK\n");
    assert_eq!(p.redis_db(), 3);
    assert_eq!(
        p.redis_complete("flu"),
        vec!["FLUSHALL".to_string(), "FLUSHDB".to_string()]
    );
}

#[wasm_bindgen_test]
fn the_virtual_clock_expires_keys_as_waiting_would() {
    let mut p = Playground::new();
    assert_eq!(p.redis("SET k v EX 5", T0), "OK\n");
    p.pause(T0);
    assert_eq!(p.now(T0 + 60_000.0), T0);
    p.advance(4_000.0);
    assert_eq!(p.redis("GET k", T0), "\"v\"\n");
    assert!(p.redis(".time +1s", T0).contains("paused"));
    assert_eq!(p.tick(T0 + 999_999.0), 1);
    assert_eq!(p.redis("GET k", T0), "(nil)\n");
    p.resume(T0 + 100.0);
    assert!(!p.is_paused());
    assert_eq!(p.now(T0 + 100.0), T0 + 5_000.0);
}

#[wasm_bindgen_test]
fn mongo_input_completeness_guides_the_editor() {
    let p = Playground::new();
    assert!(p.mongo_input_complete("db.posts.find({})"));
    assert!(!p.mongo_input_complete("db.posts.find({"));
}

#[wasm_bindgen_test]
fn mongo_inserts_and_finds() {
    let mut p = Playground::new();
    let out = p.mongo("db.posts.insertOne({_id: 1, title: \"Redis Caching\"})", T0);
    assert!(out.contains("insertedId: 1"), "{out}");
    let out = p.mongo("db.posts.find()", T0);
    assert!(out.contains("title: 'Redis Caching'"), "{out}");
    let json = p.mongo_json("db.posts.find({_id: 1})", T0);
    assert_eq!(json.trim(), r#"[{"_id": 1, "title": "Redis Caching"}]"#);
    assert_eq!(p.mongo("use shop", T0), "switched to db shop\n");
    assert_eq!(p.mongo_db(), "shop");
}
