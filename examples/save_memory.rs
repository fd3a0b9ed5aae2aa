//! Memory of the delayed save of a large keyspace, as the page runs it: the most that was
//! allocated at once beyond the sandbox while a stepped save of `keys` string keys (the
//! bench's, 40 bytes of command each) ran, budgets of 4096 and parts of 1 MiB, each part
//! dropped once handed over (the page keeps its copy in its own heap, which this does not
//! count); and the same for the one-call save, whose file is the engine's to hand over whole.
//! A counting allocator, natively; prints figures, asserts nothing.
//!
//! `cargo run --profile native --example save_memory -- [keys]` (default 1,000,000).

use std::sync::atomic::Ordering::Relaxed;

use nosql_playground::clock::Clock;
use nosql_playground::persist::background::{Background, Step};
use nosql_playground::{mongo, persist, redis};

#[path = "support/counting.rs"]
mod counting;
use counting::{LIVE, PEAK};

const MIB: f64 = 1024.0 * 1024.0;

/// Runs `f` and returns what it gave and the most allocated at once beyond what was before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let out = f();
    (out, (PEAK.load(Relaxed) - before) as f64 / MIB)
}

/// A server holding `keys` string keys, written as the bench writes them (MSET of 10,000).
fn filled(keys: usize, host: u64) -> (redis::Server, Clock) {
    let mut server = redis::Server::new();
    let mut clock = Clock::new();
    for from in (0..keys).step_by(10_000) {
        let mut line = String::from("MSET");
        for n in from..(from + 10_000).min(keys) {
            line.push_str(&format!(" key:{n} value-{n}-abcdefghij"));
        }
        redis::cli::run_line(&mut server, &mut clock, &line, host, false);
    }
    (server, clock)
}

fn main() {
    let arg = std::env::args().nth(1);
    let keys = arg.and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let host = 1_700_000_000_000;
    let (server, clock) = filled(keys, host);
    let shell = mongo::Shell::new();
    let (size, one_call) = peak_of(|| persist::save(&server, &shell, &clock, b"{}", host).len());
    let ((parts, largest), stepped) = peak_of(|| {
        let mut save = Background::default();
        save.begin(&server, &clock, b"{}", host);
        let (mut parts, mut largest) = (0, 0);
        loop {
            match save.step(&server, &shell, 4096, 1 << 20) {
                Step::Pending => {}
                Step::Part(part) => {
                    parts += 1;
                    largest = largest.max(part.len());
                }
                Step::Header(_) => return (parts, largest),
                Step::Changed => panic!("the sandbox changed"),
            }
        }
    });
    println!(
        "{keys} keys, a snapshot of {:.1} MiB: the one-call save allocated at most {one_call:.1} MiB at once; \
         the stepped save {stepped:.1} MiB, handing it over in {parts} parts, the largest {largest} bytes",
        size as f64 / MIB
    );
}
