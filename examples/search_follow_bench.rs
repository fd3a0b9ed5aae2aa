//! What a write costs the next Atlas Search query: on a collection of N short documents with
//! a full-text search index, the time of one `insertOne` followed by one `$search`, after a
//! first query has built the index's postings. Also the first query itself (the full build)
//! and a `$search` with no write before it, for scale.
//!
//! `cargo run --profile native --example search_follow_bench -- [docs] [reps]`
//! (defaults: 100000 docs, 20 reps). Prints the median milliseconds of each: the thread's
//! CPU time on Linux (`CLOCK_THREAD_CPUTIME_ID`), as the machine may be shared and wall
//! time then mostly measures the other processes; wall time elsewhere.

use std::time::Instant;

use nosql_playground::mongo::Shell;

const WORDS: [&str; 24] = [
    "apple", "pear", "cherry", "plum", "tart", "pie", "crust", "sweet", "sour", "fresh", "baked",
    "golden", "crisp", "juicy", "ripe", "orchard", "harvest", "sugar", "butter", "cream", "spice",
    "honey", "lemon", "almond",
];

/// A short title of five words, a deterministic mix of the vocabulary, with one rare word
/// (`wN`, in one title of 997) that the query picks out.
fn title(i: usize) -> String {
    let mut words: Vec<String> = (0..4)
        .map(|k| WORDS[(i * 7 + k * 13 + i / 24) % WORDS.len()].to_string())
        .collect();
    words.push(format!("w{}", i % 997));
    words.join(" ")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(target_os = "linux")]
#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

#[cfg(target_os = "linux")]
extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// Nanoseconds this thread has run on a CPU.
#[cfg(target_os = "linux")]
fn cpu_ns() -> Option<u64> {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `ts` is (64-bit Linux layout).
    let ok = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    ok.then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

#[cfg(not(target_os = "linux"))]
fn cpu_ns() -> Option<u64> {
    None
}

fn timed(f: impl FnOnce() -> String) -> (f64, String) {
    let (t, cpu) = (Instant::now(), cpu_ns());
    let out = f();
    let ms = match (cpu, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e6,
        _ => t.elapsed().as_secs_f64() * 1000.0,
    };
    (ms, out)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let mut shell = Shell::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let docs: Vec<String> = chunk
            .iter()
            .map(|&i| format!(r#"{{"_id":{i},"title":"{}"}}"#, title(i)))
            .collect();
        shell.eval_json(&format!("db.c.insertMany([{}])", docs.join(",")), 0);
    }
    let created = shell.eval_mongosh(
        r#"db.c.createSearchIndex({mappings: {dynamic: false, fields: {title: {type: "string"}}}})"#,
        0,
    );
    assert!(!created.contains("Error"), "{created}");
    let query = |w: usize| {
        format!(
            r#"db.c.aggregate([{{$search: {{text: {{query: "w{w}", path: "title"}}}}}}, {{$limit: 3}}, {{$project: {{_id: 1, s: {{$meta: "searchScore"}}}}}}])"#
        )
    };
    let (build_ms, first) = timed(|| shell.eval_mongosh(&query(5), 0));
    assert!(first.contains("_id"), "{first}");
    let mut alone = Vec::new();
    let mut after_insert = Vec::new();
    for r in 0..reps {
        let (ms, _) = timed(|| shell.eval_mongosh(&query(r % 997), 0));
        alone.push(ms);
        let id = n + r;
        let (ms, out) = timed(|| {
            shell.eval_mongosh(
                &format!(r#"db.c.insertOne({{_id: {id}, title: "pear w{r} harvest"}})"#),
                0,
            );
            shell.eval_mongosh(&query(r), 0)
        });
        assert!(out.contains(&format!("_id: {id}")), "{out}");
        after_insert.push(ms);
    }
    let clock = if cpu_ns().is_some() { "CPU" } else { "wall" };
    println!("documents                         {n} ({clock} time)");
    println!("first $search (builds)            {build_ms:.1} ms");
    println!("$search alone (median)            {:.2} ms", median(alone));
    println!(
        "insertOne + $search (median)      {:.2} ms",
        median(after_insert)
    );
}
