//! The browser benchmark's Mongo workloads (bench/bench.js), run natively through the same
//! text path (`Shell::eval_json`), to see where the engine's time goes without a browser:
//! under `valgrind --tool=callgrind` or `perf`, instruction counts repeat where wall time
//! on a shared machine does not.
//!
//! `cargo run --release --example mongo_bench -- [docs] [reps] [workload,...]`
//! (defaults: 100000 docs, 5 reps, every workload). Prints milliseconds per run and, from a
//! counting allocator, the bytes the collection holds and the most each workload had live
//! at once beyond what was live before it (the issue's memory bar: a pipeline over the
//! collection should peak below three times the collection's own size).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use nosql_playground::mongo::Shell;

const CITIES: [&str; 10] = [
    "Paris", "Oslo", "Lima", "Cairo", "Tokyo", "Delhi", "Quito", "Rome", "Seoul", "Accra",
];

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            let live = LIVE.fetch_add(new_size, Relaxed) + new_size;
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: f64 = 1024.0 * 1024.0;

fn user_doc(i: usize) -> String {
    format!(
        r#"{{"_id":{i},"name":"user{i}","age":{},"city":"{}","tags":["t{}","t{}"],"score":{}}}"#,
        i % 80,
        CITIES[i % 10],
        i % 7,
        (i % 13) + 7,
        (i * 7919) % 100_003
    )
}

fn order_doc(i: usize, users: usize) -> String {
    format!(
        r#"{{"_id":{i},"user":{},"total":{}}}"#,
        (i * 37) % users,
        i % 500
    )
}

fn insert_many(coll: &str, docs: &[String]) -> String {
    format!("db.{coll}.insertMany([{}])", docs.join(","))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let reps: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let only: Option<Vec<String>> = args
        .get(2)
        .map(|a| a.split(',').map(str::to_string).collect());
    let want = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|w| w == name));

    let users: Vec<String> = (0..n).map(user_doc).collect();
    let orders: Vec<String> = (0..n / 10).map(|i| order_doc(i, n)).collect();
    let insert_users = insert_many("c", &users);

    let mut shell = Shell::new();
    shell.set_step_limit(u64::MAX);
    if want("insert") {
        for _ in 0..reps {
            let mut fresh = Shell::new();
            fresh.set_step_limit(u64::MAX);
            let t = Instant::now();
            let out = fresh.eval_json(&insert_users, 0);
            report("insert", t, out.len());
        }
    }
    // The collection's own size: what stays live after loading it, the text and reply gone.
    let before = LIVE.load(Relaxed);
    let out = shell.eval_json(&insert_users, 0);
    assert!(!out.contains("\"error\""), "{}", &out[..out.len().min(300)]);
    drop(out);
    let coll_bytes = LIVE.load(Relaxed).saturating_sub(before);
    println!(
        "collection c: {n} docs, {:.1} MiB live ({:.0} B/doc)",
        coll_bytes as f64 / MIB,
        coll_bytes as f64 / n.max(1) as f64
    );
    let out = shell.eval_json(&insert_many("orders", &orders), 0);
    assert!(!out.contains("\"error\""), "{}", &out[..out.len().min(300)]);

    let workloads: &[(&str, &str)] = &[
        ("find2", r#"db.c.find({ city: "Lima", age: 42 }).toArray()"#),
        (
            "find_sort_limit",
            r#"db.c.find({ city: "Oslo" }).sort({ score: -1 }).limit(10).toArray()"#,
        ),
        (
            "match_group_sort",
            r#"db.c.aggregate([{"$match":{"age":{"$gte":18}}},{"$group":{"_id":"$city","n":{"$sum":1},"avg":{"$avg":"$score"}}},{"$sort":{"n":-1,"_id":1}}]).toArray()"#,
        ),
        (
            "unwind_group",
            r#"db.c.aggregate([{"$unwind":"$tags"},{"$group":{"_id":"$tags","n":{"$sum":1}}},{"$sort":{"_id":1}}]).toArray()"#,
        ),
        (
            "lookup",
            r#"db.orders.aggregate([{"$lookup":{"from":"c","localField":"user","foreignField":"_id","as":"u"}}]).toArray()"#,
        ),
    ];
    for (name, src) in workloads {
        if !want(name) {
            continue;
        }
        for _ in 0..reps {
            let live = LIVE.load(Relaxed);
            PEAK.store(live, Relaxed);
            let t = Instant::now();
            let out = run_workload(&mut shell, src);
            report(name, t, out.len());
            let extra = PEAK.load(Relaxed).saturating_sub(live);
            println!(
                "{:18} peak +{:.1} MiB = {:.2}x the collection",
                "",
                extra as f64 / MIB,
                extra as f64 / coll_bytes.max(1) as f64
            );
        }
    }
}

/// Kept out of line so that `callgrind --toggle-collect='*run_workload*'` counts the workloads
/// and not the loading before them.
#[inline(never)]
fn run_workload(shell: &mut Shell, src: &str) -> String {
    shell.eval_json(src, 0)
}

fn report(name: &str, t: Instant, bytes: usize) {
    println!(
        "{name:18} {:9.3} ms  ({bytes} bytes out)",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
