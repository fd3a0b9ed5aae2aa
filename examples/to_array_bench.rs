//! What cursors cost over a huge collection: a printed `db.c.find()` (20 documents shown,
//! `Type "it" for more`) then `it` three times, plain, with a filter, a sort and a
//! projection; then `toArray()` printed (101 documents copied), and the statements that walk
//! the whole cursor. Each line gives the time and the allocations (count and bytes) the
//! statement made, and the CPU time the thread spent on it (the machine is shared: wall
//! time alone says little).
//!
//! `cargo run --profile native --example to_array_bench -- [n [--steps budget] [statement…]]`
//! (n defaults to 1000000; statements given run instead of the usual ones; with `--steps`
//! they run as the page runs them, `prepare_mongosh` then `step_prepared` of `budget` until
//! done, and the line adds the steps taken and the longest).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use nosql_playground::mongo::Shell;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

// On wasm32 the library brings its own global allocator (talc); this example counts natively.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut shell = Shell::new();
    for start in (0..n).step_by(100_000) {
        let len = (n - start).min(100_000);
        shell.eval_mongosh(
            &format!(
                "db.c.insertMany(Array.from({{length: {len}}}, (_, i) => \
                 ({{i: i + {start}, s: 'text', k: (i + {start}) % 10}})))"
            ),
            0,
        );
    }
    // Statements given after `n` run instead of the default ones.
    let mut given: Vec<String> = std::env::args().skip(2).collect();
    let budget = match given.iter().position(|a| a == "--steps") {
        Some(at) => {
            let budget = given.get(at + 1).and_then(|b| b.parse().ok());
            given.drain(at..(at + 2).min(given.len()));
            budget
        }
        None => None,
    };
    if !given.is_empty() {
        for src in &given {
            match budget {
                Some(budget) => run_stepped(&mut shell, src, budget),
                None => run(&mut shell, src),
            }
        }
        return;
    }
    let finds = [
        "db.c.find()",
        "db.c.find({k: {$lt: 5}})",
        "db.c.find().sort({i: -1})",
        "db.c.find({}, {i: 1, _id: 0})",
    ];
    for find in finds {
        for src in [find, "it", "it", "it"] {
            run(&mut shell, src);
        }
    }
    for src in [
        "db.c.find().toArray()",
        "db.c.find().toArray()",
        "db.c.find().itcount()",
        "db.c.find().count()",
        "db.c.find().toArray().length",
        "let a = db.c.find().toArray(); a.length",
        "let n = 0; db.c.find().forEach(d => { n++ }); n",
        "const c = db.c.find(); c.hasNext() && c.next().i",
    ] {
        run(&mut shell, src);
    }
}

fn run(shell: &mut Shell, src: &str) {
    let (cost, out) = measured(|| shell.eval_mongosh(src, 0));
    println!("{src:<45} {cost}  last {:?}", last_line(&out));
}

/// `src` run as the page runs it, a step of `budget` at a time: the total, and how many
/// steps and the longest one.
fn run_stepped(shell: &mut Shell, src: &str, budget: usize) {
    let (mut steps, mut longest) = (0, 0f64);
    let (cost, out) = measured(|| match shell.prepare_mongosh(src, 0) {
        Some(out) => out,
        None => loop {
            let step = Instant::now();
            let done = shell.step_prepared(budget);
            steps += 1;
            longest = longest.max(step.elapsed().as_secs_f64() * 1e3);
            if let Some(out) = done {
                break out;
            }
        },
    });
    println!(
        "{src:<45} {cost}  {steps} steps, longest {longest:.1} ms  last {:?}",
        last_line(&out)
    );
}

/// What `f` cost (time, CPU time, allocations), and what it gave.
fn measured(f: impl FnOnce() -> String) -> (String, String) {
    let (allocs, bytes) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let (start, cpu_start) = (Instant::now(), thread_cpu_ns());
    let out = f();
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let cpu = thread_cpu_ns().saturating_sub(cpu_start) as f64 / 1e6;
    let allocs = ALLOCS.load(Ordering::Relaxed) - allocs;
    let mb = (BYTES.load(Ordering::Relaxed) - bytes) as f64 / 1e6;
    let cost = format!("{ms:>8.1} ms {cpu:>8.1} ms CPU {allocs:>9} allocs {mb:>8.1} MB");
    (cost, out)
}

fn last_line(out: &str) -> &str {
    out.lines().rev().find(|l| !l.is_empty()).unwrap_or("")
}

/// The nanoseconds this thread has run on a CPU (Linux's schedstat; 0 elsewhere).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
