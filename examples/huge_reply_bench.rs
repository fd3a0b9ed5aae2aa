//! Where the time of a huge Redis reply goes: running the command (building the `Reply`)
//! against writing redis-cli's text for it, for `HGETALL`, `SMEMBERS`, `LRANGE 0 -1` and
//! `KEYS *` over `n` items.
//!
//! `cargo run --profile native --example huge_reply_bench -- [n]` (default 1000000).

use std::time::Instant;

use nosql_playground::redis::Server;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut server = Server::new();
    let words = |parts: Vec<String>| -> Vec<Vec<u8>> {
        parts.into_iter().map(String::into_bytes).collect()
    };
    for start in (0..n).step_by(1000) {
        let end = (start + 1000).min(n);
        let mut hset = vec!["HSET".to_string(), "h".to_string()];
        let mut sadd = vec!["SADD".to_string(), "s".to_string()];
        let mut rpush = vec!["RPUSH".to_string(), "l".to_string()];
        let mut mset = vec!["MSET".to_string()];
        for i in start..end {
            hset.extend([format!("f{i}"), format!("v{i}")]);
            sadd.push(format!("m{i}"));
            rpush.push(format!("m{i}"));
            mset.extend([format!("k{i}"), i.to_string()]);
        }
        for argv in [hset, sadd, rpush, mset] {
            server.execute(&words(argv), 0);
        }
    }
    for line in ["HGETALL h", "SMEMBERS s", "LRANGE l 0 -1", "KEYS *"] {
        let argv = words(line.split(' ').map(str::to_string).collect());
        let start = Instant::now();
        let reply = server.execute(&argv, 0);
        let run = start.elapsed();
        let start = Instant::now();
        let mut text = String::new();
        reply.write_cli_text(&mut text);
        let format = start.elapsed();
        let start = Instant::now();
        drop(reply);
        let free = start.elapsed();
        println!(
            "{line:<14} run {:>6.1} ms  format {:>6.1} ms  drop {:>5.1} ms  text {:.1} MB",
            run.as_secs_f64() * 1e3,
            format.as_secs_f64() * 1e3,
            free.as_secs_f64() * 1e3,
            text.len() as f64 / 1e6
        );
    }
}
