//! How long the snapshot of a large sandbox takes to save and to load, and its size:
//! `cargo run --profile native --example snapshot_bench [keys] [docs]` (100k of each by
//! default). Prints figures; asserts nothing about time.

use std::time::Instant;

use nosql_playground::clock::Clock;
use nosql_playground::persist::codec::{crc32, Writer};
use nosql_playground::persist::redis_dump::{self, Times};
use nosql_playground::{mongo, persist, redis};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Where a save's time goes: each part of `persist::save` timed on its own.
fn profile_parts(server: &redis::Server, shell: &mongo::Shell, clock: &Clock, host: u64) {
    let now = clock.now(host);
    let t = Instant::now();
    let dump = redis_dump::dump(server, now, Times::Absolute);
    let dumped = ms(t);
    let t = Instant::now();
    let mut w = Writer::default();
    for c in &dump.commands {
        w.len(c.len());
        for arg in c {
            w.bytes(arg);
        }
    }
    let encoded = ms(t);
    drop(dump);
    let t = Instant::now();
    nosql_playground::persist::mongo_dump::write_store(&mut w, shell.store());
    let documents = ms(t);
    let t = Instant::now();
    let sum = crc32(&w.buf);
    let checksum = ms(t);
    println!(
        "parts: keyspace as commands {dumped:.1} ms, their encoding {encoded:.1} ms, Mongo store {documents:.1} ms, CRC-32 of {} bytes {checksum:.1} ms ({sum:08x})",
        w.buf.len()
    );
}

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

    // The machine is shared: the fastest of a few rounds, the two ways alternating.
    let (mut stepped, mut built) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let t = Instant::now();
        let bytes = persist::save(&server, &shell, &clock, b"{}", host);
        stepped = stepped.min(ms(t));
        drop(bytes);
        let t = Instant::now();
        profile_parts(&server, &shell, &clock, host);
        built = built.min(ms(t));
    }
    println!(
        "fastest of 5: save {stepped:.1} ms; every command built first, then encoded: {built:.1} ms"
    );
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
