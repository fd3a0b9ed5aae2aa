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

fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("the binding returns JSON")
}

#[wasm_bindgen_test]
fn keyspace_windows_filter_and_count_down() {
    let mut p = Playground::new();
    p.redis_script(
        "SET b 1\nSET a hello PX 5000\nSET c 3\nSET \"<img src=x>\" v\nSELECT 1\nSET other 1",
        T0,
    );
    let ks = parse(&p.redis_keyspace(0, "*", "", 0.0, 2.0, T0 + 1_000.0));
    assert_eq!(ks["total"], 4);
    assert_eq!(ks["keys"], 4);
    assert_eq!(ks["volatile"], 1);
    let rows = ks["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["key"], "<img src=x>");
    assert_eq!(rows[1]["key"], "a");
    assert_eq!(rows[1]["type"], "string");
    assert_eq!(rows[1]["encoding"], "embstr");
    assert_eq!(rows[1]["ttlMs"], 4_000);
    assert_eq!(rows[1]["preview"]["kind"], "string");
    assert_eq!(rows[1]["preview"]["text"], "hello");

    let filtered = parse(&p.redis_keyspace(0, "[bc]", "string", 0.0, 10.0, T0));
    assert_eq!(filtered["total"], 2);
    let none = parse(&p.redis_keyspace(0, "*", "zset", -5.0, f64::NAN, T0));
    assert_eq!(none["total"], 0);
    assert_eq!(
        parse(&p.redis_keyspace(1, "", "", 0.0, 10.0, T0))["total"],
        1
    );
    assert_eq!(
        parse(&p.redis_keyspace(400, "", "", 0.0, 10.0, T0))["total"],
        0
    );
}

#[wasm_bindgen_test]
fn written_keys_of_a_line() {
    let p = Playground::new();
    assert_eq!(p.redis_written_keys("MSET a 1 b 2"), r#"["a","b"]"#);
    assert_eq!(p.redis_written_keys("GET a"), "[]");
}

#[wasm_bindgen_test]
fn info_counts_keys_expiries_and_memory() {
    let mut p = Playground::new();
    p.redis_script("SET k v EX 5\nSET stay 12", T0);
    let info = parse(&p.redis_info(T0));
    assert_eq!(info["keys"], 2);
    assert_eq!(info["volatile"], 1);
    // Modelled as the real server counts it: a fresh server, a 48- and a 32-byte key, and
    // one bucket each of the keyspace and expires tables.
    assert_eq!(info["usedMemory"], 1_016_168 + 48 + 32 + 64 + 64);
    assert_eq!(info["maxmemory"], 128 * 1024 * 1024);
    assert_eq!(info["maxmemoryPolicy"], "noeviction");
    p.advance(10_000.0);
    assert_eq!(p.tick(T0), 1);
    let info = parse(&p.redis_info(T0));
    assert_eq!(info["expired"], 1);
    assert_eq!(info["keys"], 1);
}

#[wasm_bindgen_test]
fn speed_scales_the_clock_without_a_jump() {
    let mut p = Playground::new();
    assert_eq!(p.speed(), 1.0);
    p.set_speed(10.0, T0);
    assert_eq!(p.now(T0), T0);
    assert_eq!(p.now(T0 + 1_000.0), T0 + 10_000.0);
    p.set_speed(0.5, T0 + 1_000.0);
    assert_eq!(p.speed(), 0.5);
    assert_eq!(p.now(T0 + 3_000.0), T0 + 11_000.0);
    p.set_speed(f64::NAN, T0);
    p.set_speed(-1.0, T0);
    assert_eq!(p.speed(), 0.5);
}

#[wasm_bindgen_test]
fn mongo_catalog_and_document_pages() {
    let mut p = Playground::new();
    p.mongo(
        "db.posts.insertMany([{_id: 1, t: 'a'}, {_id: 2, t: 'b'}, {_id: 3}])",
        T0,
    );
    let cat = parse(&p.mongo_catalog());
    assert_eq!(cat["databases"][0]["name"], "test");
    assert_eq!(cat["databases"][0]["collections"][0]["name"], "posts");
    assert_eq!(cat["databases"][0]["collections"][0]["count"], 3);
    let page = parse(&p.mongo_documents("test", "posts", 1.0, 5.0));
    assert_eq!(page["total"], 3);
    assert_eq!(page["columns"], serde_json::json!(["_id", "t"]));
    assert_eq!(
        page["documents"][0]["cells"],
        serde_json::json!(["2", "'b'"])
    );
    assert_eq!(
        page["documents"][1]["cells"],
        serde_json::json!(["3", null])
    );
    assert_eq!(page["documents"][1]["ejson"], r#"{"_id": 3}"#);
    assert_eq!(
        parse(&p.mongo_documents("x", "y", 0.0, 5.0))["exists"],
        false
    );
}

#[wasm_bindgen_test]
fn the_pipeline_viewer_reports_every_stage_and_the_failing_one() {
    let mut p = Playground::new();
    p.mongo(
        r#"db.s.insertMany([{k: "a", n: 1}, {k: "a", n: 2}, {k: "b", n: 3}, {k: "b", n: 4}, {k: "c", n: 5}])"#,
        T0,
    );
    let src = r#"db.s.aggregate([{$match: {n: {$lte: 3}}}, {$group: {_id: "$k", t: {$sum: "$n"}}}, {$sort: {_id: 1}}])"#;
    let report: serde_json::Value = serde_json::from_str(&p.mongo_flow(src, T0)).unwrap();
    assert_eq!(report["aggregate"], true);
    assert_eq!(report["ran"], true);
    let counts: Vec<(u64, u64)> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["docsIn"].as_u64().unwrap(),
                s["docsOut"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, vec![(5, 3), (3, 2), (2, 2)]);
    // The host's clock was read, so every stage has a time.
    assert!(report["stages"][1]["ms"].as_f64().is_some());
    assert_eq!(report["stages"][2]["sample"][0], r#"{"_id": "a", "t": 3}"#);
    assert_eq!(report["stages"][2]["sampleText"][0], "{ _id: 'a', t: 3 }");

    let bad: serde_json::Value =
        serde_json::from_str(&p.mongo_flow("db.s.aggregate([{$match: {}}, {$foo: 1}])", T0))
            .unwrap();
    assert_eq!(bad["error"]["stage"], 1);
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Unrecognized pipeline stage name"));

    let other: serde_json::Value = serde_json::from_str(&p.mongo_flow("db.s.find()", T0)).unwrap();
    assert_eq!(other["aggregate"], false);
}

#[wasm_bindgen_test]
fn clients_publish_block_and_collect_what_they_received() {
    let mut p = Playground::new();
    assert_eq!(
        p.redis_as(1.0, "SUBSCRIBE chat", T0),
        "1) \"subscribe\"\n2) \"chat\"\n3) (integer) 1\n"
    );
    let two = p.redis_client_open();
    assert_eq!(two, 2.0);
    assert_eq!(p.redis_as(two, "PUBLISH chat hi", T0), "(integer) 1\n");
    assert_eq!(
        p.redis_pending(1.0),
        "1) \"message\"\n2) \"chat\"\n3) \"hi\"\n"
    );
    assert_eq!(p.redis_pending(1.0), "");
    assert_eq!(
        parse(&p.redis_published()),
        serde_json::json!([["chat", "hi"]])
    );
    assert_eq!(p.redis_inject_publish("chat", "from another tab"), 1);
    assert!(p.redis_pending(1.0).contains("from another tab"));

    assert_eq!(p.redis_as(two, "BLPOP q 5", T0), "");
    let status = parse(&p.redis_clients(T0 + 1_000.0));
    assert_eq!(status[1]["blocked"], "BLPOP q 5");
    assert_eq!(status[1]["remainingMs"], 4_000);
    p.advance(10_000.0);
    p.tick(T0);
    assert_eq!(p.redis_pending(two), "(nil)\n");
    assert!(p.redis_client_close(two));
    assert_eq!(
        parse(&p.redis_clients(T0)).as_array().map(Vec::len),
        Some(1)
    );
}
