//! Memory of one pasted statement: `db.big.insertMany([...])` of `n` plain documents (the
//! page test's shape, about a hundred bytes of source each), run through the console's text
//! path (`Shell::eval_mongosh`). A counting allocator gives the most that was live at once
//! while it ran, beyond what was live before, against the source's and the collection's size.
//!
//! `cargo run --profile native --example paste_memory -- [n]` (default 100000).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use nosql_playground::mongo::Shell;

#[path = "support/counting.rs"]
mod counting;
#[path = "support/pasted.rs"]
mod pasted;
use counting::{LIVE, PEAK};

const MIB: f64 = 1024.0 * 1024.0;

fn main() {
    let n = pasted::count_arg(100_000);
    let src = pasted::insert_many(n);
    let mut shell = Shell::new();
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let start = Instant::now();
    let out = shell.eval_mongosh(&src, 0);
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let peak = PEAK.load(Relaxed) - before;
    let held = LIVE.load(Relaxed) - before - out.capacity();
    assert!(
        out.contains("acknowledged: true"),
        "{}",
        &out[..out.len().min(300)]
    );
    println!(
        "insertMany of {n} documents: source {:.1} MiB, {ms:.0} ms, peak +{:.1} MiB while it ran, collection and output +{:.1} MiB after ({:.1}x the source, {:.2}x what stays)",
        src.len() as f64 / MIB,
        peak as f64 / MIB,
        (held + out.capacity()) as f64 / MIB,
        peak as f64 / src.len() as f64,
        peak as f64 / (held + out.capacity()) as f64,
    );
}
