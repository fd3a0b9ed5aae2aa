//! The heap bytes a tiny sorted set really takes (not MEMORY USAGE's model of the real
//! server): `cargo run --profile native --example zset_memory [sets] [members]` (100k sets
//! of one member by default). A counting allocator measures the live bytes before and after
//! `ZADD zset:N ...` for every set; the difference per set includes the key and the
//! keyspace's table.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use nosql_playground::clock::Clock;
use nosql_playground::redis;

/// The system allocator, counting live bytes (`realloc` is the trait's own: an `alloc`
/// and a `dealloc`, both counted).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
}

// On wasm32 the library brings its own global allocator (talc); this example counts natively.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    let mut args = std::env::args().skip(1);
    let sets: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let members: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut server = redis::Server::new();
    let mut clock = Clock::new();
    let host = 1_700_000_000_000;
    let lines: Vec<String> = (0..sets)
        .map(|i| {
            let mut line = format!("ZADD zset:{i}");
            for m in 0..members {
                line.push_str(&format!(" {m} member:{m}"));
            }
            line
        })
        .collect();
    // One command first, so that lazily built server state is not counted.
    redis::cli::run_line(&mut server, &mut clock, "ZADD warm 1 a", host, false);
    let before = LIVE.load(Relaxed);
    for line in &lines {
        redis::cli::run_line(&mut server, &mut clock, line, host, false);
    }
    let after = LIVE.load(Relaxed);
    println!(
        "{sets} sorted sets of {members} member(s): {} bytes live, {:.1} bytes per set",
        after - before,
        (after - before) as f64 / sets as f64
    );
}
