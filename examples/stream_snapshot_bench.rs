//! Save and load of a sandbox holding one large stream with a consumer group:
//! `cargo run --profile native --example stream_snapshot_bench [entries]` (100k by default).
//! The group has read every entry (three consumers), acknowledged half of them, and a tenth
//! of the entries were deleted, pending ones among them. Prints figures; asserts nothing
//! about time.

use std::time::Instant;

use nosql_playground::clock::Clock;
use nosql_playground::{mongo, persist, redis};

fn main() {
    let entries: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut server = redis::Server::new();
    let mut clock = Clock::new();
    let shell = mongo::Shell::new();
    let host = 1_700_000_000_000;
    let mut run = |line: &str| {
        redis::cli::run_line(&mut server, &mut clock, line, host, false);
    };
    run(".time pause");
    for i in 1..=entries {
        run(&format!("XADD s {i}-0 sensor {} t {}", i % 7, i % 100));
    }
    run("XGROUP CREATE s g 0");
    for i in 0..entries.div_ceil(100) {
        run(&format!(
            "XREADGROUP GROUP g c{} COUNT 100 STREAMS s >",
            i % 3
        ));
        if i % 50 == 0 {
            run(".time +1s");
        }
    }
    for i in (1..=entries).step_by(2) {
        run(&format!("XACK s g {i}-0"));
    }
    for i in (1..=entries).step_by(10) {
        run(&format!("XDEL s {i}-0 {}-0", i + 1));
    }
    let (mut save, mut load) = (f64::MAX, f64::MAX);
    let mut size = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let bytes = persist::save(&server, &shell, &clock, b"{}", host);
        save = save.min(t.elapsed().as_secs_f64() * 1000.0);
        size = bytes.len();
        let t = Instant::now();
        let loaded = persist::load(&bytes, host).expect("the snapshot loads");
        load = load.min(t.elapsed().as_secs_f64() * 1000.0);
        drop(loaded);
    }
    println!("{entries} entries: snapshot {size} bytes, fastest of 5: save {save:.1} ms, load {load:.1} ms");
}
