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

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use nosql_playground::mongo::Shell;

const CITIES: [&str; 10] = [
    "Paris", "Oslo", "Lima", "Cairo", "Tokyo", "Delhi", "Quito", "Rome", "Seoul", "Accra",
];

#[path = "support/counting.rs"]
mod counting;
use counting::{ALLOCS, LIVE, PEAK};

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

    if want("indexed") {
        indexed(n, reps);
        if only.as_ref().is_some_and(|o| o.len() == 1) {
            return;
        }
    }
    // Not in the default run: it loads its own collection and is meant alone.
    if only
        .as_ref()
        .is_some_and(|o| o.iter().any(|w| w == "indexed_cpu"))
    {
        indexed_cpu(n, reps);
        return;
    }
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

/// The indexed workloads of issue #10 natively: an equality find on an indexed field of `n`
/// documents (each query a different key, `BENCH_QUERIES` of them, 20 000 by default), a
/// range + sort + limit through a compound index, `$text` over 100k short documents and
/// `$near` over 100k points, each next to the same answer found by a collection scan
/// (`hint({ $natural: 1 })`, or for `$text` and `$near`, which need their index, the regex
/// and `$geoWithin` that give the same documents): the COLLSCAN/IXSCAN ratio of issue #10.
fn indexed(n: usize, reps: usize) {
    let mut shell = email_collection(n);
    shell.eval_json("db.big.createIndex({ email: 1 })", 0);
    shell.eval_json("db.big.createIndex({ g: 1, n: -1 })", 0);
    let queries: usize = std::env::var("BENCH_QUERIES")
        .ok()
        .and_then(|q| q.parse().ok())
        .unwrap_or(20_000);
    let finds = email_finds(n, queries);
    for _ in 0..reps {
        let t = Instant::now();
        let bytes = run_queries(&mut shell, &finds);
        let us = t.elapsed().as_secs_f64() * 1e6 / queries as f64;
        println!(
            "{:18} {us:9.2} µs/query = {:.0} queries/s ({bytes} bytes out)",
            "indexed_find",
            1e6 / us
        );
    }
    let scan = |q: &str| q.replace(").toArray()", ").hint({ $natural: 1 }).toArray()");
    compare(&mut shell, "equality", &finds[..5], &scan, reps);
    let window = (n / 10).max(1);
    let ranges: Vec<String> = (0..200)
        .map(|k| {
            let lo = (k * 7919) % (n - window).max(1);
            format!(
                "db.big.find({{ g: 7, n: {{ $gte: {lo}, $lt: {} }} }}).sort({{ n: -1 }}).limit(10).toArray()",
                lo + window
            )
        })
        .collect();
    let scan_sorted = |q: &str| q.replace(").sort(", ").hint({ $natural: 1 }).sort(");
    compare(&mut shell, "range_sort", &ranges, &scan_sorted, reps);

    let docs = n.clamp(1_000, 100_000);
    load(&mut shell, "notes", docs, |i| {
        format!(
            r#"{{"_id":{i},"body":"note w{} w{} about item {}"}}"#,
            i % 1000,
            (i * 7) % 1000,
            i % 97
        )
    });
    shell.eval_json("db.notes.createIndex({ body: 'text' })", 0);
    let texts: Vec<String> = (0..200)
        .map(|k| {
            format!(
                r#"db.notes.find({{ $text: {{ $search: "w{}" }} }}, {{ _id: 1 }}).sort({{ _id: 1 }}).toArray()"#,
                (k * 37) % 1000
            )
        })
        .collect();
    let regex = |q: &str| {
        let word = q.split('"').nth(1).unwrap_or_default();
        format!(
            r#"db.notes.find({{ body: /\b{word}\b/ }}, {{ _id: 1 }}).hint({{ $natural: 1 }}).sort({{ _id: 1 }}).toArray()"#
        )
    };
    compare(&mut shell, "text", &texts, &regex, reps);

    load(&mut shell, "places", docs, |i| {
        format!(
            r#"{{"_id":{i},"loc":{{"type":"Point","coordinates":[{},{}]}}}}"#,
            -74.3 + (i % 400) as f64 * 0.0015,
            40.5 + (i / 400) as f64 * 0.0016
        )
    });
    shell.eval_json("db.places.createIndex({ loc: '2dsphere' })", 0);
    let centre = |k: usize| (-74.0 + (k % 10) as f64 * 0.02, 40.6 + (k % 7) as f64 * 0.03);
    let nears: Vec<String> = (0..200)
        .map(|k| {
            let (x, y) = centre(k);
            format!(
                "db.places.find({{ loc: {{ $near: {{ $geometry: {{ type: 'Point', coordinates: [{x}, {y}] }}, $maxDistance: 300 }} }} }}, {{ _id: 1 }}).toArray()"
            )
        })
        .collect();
    let within = |q: &str| {
        let coords = q
            .split('[')
            .nth(1)
            .and_then(|r| r.split(']').next())
            .unwrap_or_default();
        format!(
            "db.places.find({{ loc: {{ $geoWithin: {{ $centerSphere: [[{coords}], 300 / 6378100] }} }} }}, {{ _id: 1 }}).hint({{ $natural: 1 }}).toArray()"
        )
    };
    compare(&mut shell, "near", &nears, &within, reps);
}

/// A shell holding `big`: `n` documents `{ _id, email, n, g }`, not indexed yet.
fn email_collection(n: usize) -> Shell {
    let mut shell = Shell::new();
    shell.set_step_limit(u64::MAX);
    load(&mut shell, "big", n, |i| {
        format!(
            r#"{{"_id":{i},"email":"user{i}@example.com","n":{i},"g":{}}}"#,
            i % 100
        )
    });
    shell
}

/// `count` finds of one email each among `n` documents, the keys spread by a prime stride.
fn email_finds(n: usize, count: usize) -> Vec<String> {
    (0..count)
        .map(|k| {
            format!(
                r#"db.big.find({{ email: "user{}@example.com" }}).toArray()"#,
                ((k + 1) * 7919) % n.max(1)
            )
        })
        .collect()
}

/// Loads `n` documents made by `doc` into `coll`, 100 000 to an insertMany.
fn load(shell: &mut Shell, coll: &str, n: usize, doc: impl Fn(usize) -> String) {
    for start in (0..n).step_by(100_000) {
        let docs: Vec<String> = (start..n.min(start + 100_000)).map(&doc).collect();
        let out = shell.eval_json(&insert_many(coll, &docs), 0);
        assert!(!out.contains("\"error\""), "{}", &out[..out.len().min(300)]);
    }
}

/// Times the queries through their index and the same answers by a collection scan, and
/// prints both with the ratio; the first query's answers must agree.
fn compare(
    shell: &mut Shell,
    name: &str,
    queries: &[String],
    scan: &dyn Fn(&str) -> String,
    reps: usize,
) {
    let scans: Vec<String> = queries.iter().map(|q| scan(q)).collect();
    let (first, first_scan) = (
        shell.eval_json(&queries[0], 0),
        shell.eval_json(&scans[0], 0),
    );
    let sorted = |out: &str| {
        let mut ids: Vec<String> = out
            .split("{\"_id\": ")
            .skip(1)
            .map(|rest| rest.chars().take_while(|c| *c != '}').collect())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        sorted(&first),
        sorted(&first_scan),
        "{name}: {}",
        queries[0]
    );
    let per_query = |shell: &mut Shell, qs: &[String]| {
        let t = Instant::now();
        run_queries(shell, qs);
        t.elapsed().as_secs_f64() * 1e3 / qs.len() as f64
    };
    let scan_qs = &scans[..scans.len().min(5)];
    for _ in 0..reps {
        let ix = per_query(shell, queries);
        let cs = per_query(shell, scan_qs);
        println!(
            "{name:18} IXSCAN {ix:9.4} ms/query, COLLSCAN {cs:9.3} ms/query: {:.1}x ({} results for the first)",
            cs / ix,
            sorted(&first).len()
        );
    }
}

/// Out of line for `callgrind --toggle-collect='*run_queries*'`.
#[inline(never)]
fn run_queries(shell: &mut Shell, queries: &[String]) -> usize {
    queries.iter().map(|q| shell.eval_json(q, 0).len()).sum()
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

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split(' ').next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Indexed equality finds as bench/calls-work.mjs makes them: `n` documents
/// `{ _id, email, n, g }` with an index on `email`, then finds of one key each
/// (`BENCH_QUERIES`, 100 000 by default), as one `eval_json` per find and as 1000 `findOne`
/// in one `for` statement. Times are CPU time of this thread (`/proc/thread-self/schedstat`,
/// Linux), which a busy machine moves far less than wall time; the counting allocator gives
/// the bytes the index holds and the allocations per find. Under `perf record -p` after
/// the load, the finds are all the samples.
fn indexed_cpu(n: usize, reps: usize) {
    let n = n.max(1);
    let finds: usize = std::env::var("BENCH_QUERIES")
        .ok()
        .and_then(|q| q.parse().ok())
        .unwrap_or(100_000);
    let finds = finds.max(1000) / 1000 * 1000;

    let mut shell = email_collection(n);
    let before = LIVE.load(Relaxed);
    let out = shell.eval_json("db.big.createIndex({ email: 1 })", 0);
    assert!(!out.contains("\"error\""), "{out}");
    let index = LIVE.load(Relaxed).saturating_sub(before);
    println!(
        "{n} documents; index on email: {:.1} MiB live ({:.1} B/entry); everything live {:.1} MiB",
        index as f64 / 1048576.0,
        index as f64 / n as f64,
        LIVE.load(Relaxed) as f64 / 1048576.0
    );

    let statements = email_finds(n, finds);
    let probe = shell.eval_json(&statements[3], 0);
    assert!(
        probe.starts_with(&format!(r#"[{{"_id": {},"#, (4 * 7919) % n)),
        "{probe}"
    );
    let loops: Vec<String> = (0..finds / 1000)
        .map(|b| {
            format!(
                r#"for (let i = {}; i < {}; i++) db.big.findOne({{ email: "user" + ((i + 1) * 7919 % {n}) + "@example.com" }})"#,
                b * 1000,
                (b + 1) * 1000
            )
        })
        .collect();
    for _ in 0..reps {
        for (name, work) in [("find", &statements), ("find_loop", &loops)] {
            let (c0, a0) = (cpu_ns(), ALLOCS.load(Relaxed));
            let bytes = run_queries(&mut shell, work);
            let us = (cpu_ns() - c0) as f64 / 1000.0 / finds as f64;
            println!(
                "{name:10} {us:6.2} µs CPU per find = {:6.0} finds/s; {:.1} allocations per find; {bytes} bytes out",
                1e6 / us,
                (ALLOCS.load(Relaxed) - a0) as f64 / finds as f64
            );
        }
    }
}
