//! How long the snapshot of a large sandbox takes to save and to load, and its size:
//! `cargo run --profile native --example snapshot_bench [keys] [docs]` (100k of each by
//! default). Prints figures; asserts nothing about time.

use std::time::Instant;

use nosql_playground::clock::Clock;
use nosql_playground::{mongo, persist, redis};

fn main() {
    let mut args = std::env::args().skip(1);
    let keys: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let docs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut server = redis::Server::new();
    let mut clock = Clock::new();
    let mut shell = mongo::Shell::new();
    let host = 1_700_000_000_000;
    let mut script = String::new();
    for i in 0..keys {
        script.push_str(&match i % 5 {
            0 => format!("SET key:{i} value-{i} EX 3600\n"),
            1 => format!("HSET hash:{i} name n{i} score {i}\n"),
            2 => format!("RPUSH list:{i} a b c\n"),
            3 => format!("ZADD zset:{i} {i} m\n"),
            _ => format!("SET counter:{i} {i}\n"),
        });
    }
    for line in script.lines() {
        redis::cli::run_line(&mut server, &mut clock, line, host, false);
    }
    let mut batch = String::from("db.docs.insertMany([");
    for i in 0..docs {
        batch.push_str(&format!(
            "{{ _id: {i}, name: 'user{i}', age: {}, tags: ['a', 'b'], at: new Date({}) }},",
            i % 90,
            i * 1000
        ));
    }
    batch.push_str("])");
    shell.eval_mongosh(&batch, clock.now(host));
    shell.eval_mongosh("db.docs.createIndex({ age: 1 })", clock.now(host));

    let t = Instant::now();
    let bytes = persist::save(&server, &shell, &clock, b"{}", host);
    let saved = t.elapsed();
    let t = Instant::now();
    let loaded = persist::load(&bytes, host).expect("the snapshot loads");
    let load = t.elapsed();
    println!(
        "{keys} keys + {docs} documents: snapshot {} bytes, save {:.1} ms, load {:.1} ms ({} keys, {} documents back)",
        bytes.len(),
        saved.as_secs_f64() * 1000.0,
        load.as_secs_f64() * 1000.0,
        loaded.redis.dbs[0].len(),
        loaded
            .mongo
            .store()
            .collection("test", "docs")
            .map_or(0, |c| c.docs.len())
    );
}
