//! Where the time of a huge Redis reply goes: running the command (building the `Reply`),
//! the console's first part (`LongReplies::write`: the first 200 elements written, the rest
//! counted, the reply kept, older kept ones dropped), writing redis-cli's whole text, and
//! dropping the reply, for `HGETALL`, `HKEYS`, `HVALS`, `SMEMBERS`, `LRANGE 0 -1`,
//! `ZRANGE 0 -1 [WITHSCORES]` (integer scores, and scores with decimals), `KEYS *`, the pops
//! and random picks with a count of `n`, and the SCANs with a COUNT of `n`, over `n` items
//! (`ONLY=text` runs the lines containing it). Each line is run `reps` times; the medians are
//! printed. A pop runs on a fresh copy of its key each time (the copy is not timed).
//!
//! `cargo run --profile native --example huge_reply_bench -- [n] [reps]` (default 1000000 5).

use std::time::{Duration, Instant};

use nosql_playground::redis::long_reply::LongReplies;
use nosql_playground::redis::Server;

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse().ok());
    let n: usize = args.next().flatten().unwrap_or(1_000_000);
    let reps: usize = args.next().flatten().unwrap_or(5);
    let mut server = Server::new();
    let words = |parts: Vec<String>| -> Vec<Vec<u8>> {
        parts.into_iter().map(String::into_bytes).collect()
    };
    // The copies the pops empty go past the sandbox's default memory limit.
    server.execute(
        &words(vec![
            "CONFIG".into(),
            "SET".into(),
            "maxmemory".into(),
            "0".into(),
        ]),
        0,
    );
    let mut fill = Vec::new();
    for start in (0..n).step_by(1000) {
        let end = (start + 1000).min(n);
        let mut hset = vec!["HSET".to_string(), "h".to_string()];
        let mut sadd = vec!["SADD".to_string(), "s".to_string()];
        let mut rpush = vec!["RPUSH".to_string(), "l".to_string()];
        let mut zadd = vec!["ZADD".to_string(), "z".to_string()];
        let mut zfrac = vec!["ZADD".to_string(), "zf".to_string()];
        let mut mset = vec!["MSET".to_string()];
        for i in start..end {
            hset.extend([format!("f{i}"), format!("v{i}")]);
            sadd.push(format!("m{i}"));
            rpush.push(format!("m{i}"));
            zadd.extend([i.to_string(), format!("m{i}")]);
            zfrac.extend([format!("{:.2}", i as f64 * 1.37), format!("m{i}")]);
            mset.extend([format!("k{i}"), i.to_string()]);
        }
        for argv in [hset, sadd, rpush, zadd, zfrac, mset] {
            let argv = words(argv);
            server.execute(&argv, 0);
            if argv
                .get(1)
                .is_some_and(|k| [&b"zf"[..], b"s", b"l"].contains(&k.as_slice()))
            {
                fill.push(argv);
            }
        }
    }
    let lines = [
        "HGETALL h",
        "HKEYS h",
        "HVALS h",
        "SMEMBERS s",
        "LRANGE l 0 -1",
        "ZRANGE z 0 -1",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZRANGE zf 0 -1 WITHSCORES",
        "KEYS *",
        "ZPOPMIN zc N",
        "ZPOPMAX zc N",
        "ZPOPMIN zc HALF",
        "ZMPOP 1 zc MIN COUNT N",
        "SPOP sc N",
        "SPOP sc HALF",
        "LPOP lc N",
        "RPOP lc HALF",
        "LMPOP 1 lc LEFT COUNT N",
        "HRANDFIELD h N WITHVALUES",
        "HRANDFIELD h -N WITHVALUES",
        "ZRANDMEMBER zf N WITHSCORES",
        "ZRANDMEMBER zf -N WITHSCORES",
        "SRANDMEMBER s N",
        "SRANDMEMBER s -N",
        "ZSCAN zf 0 COUNT N",
        "HSCAN h 0 COUNT N",
        "SSCAN s 0 COUNT N",
        "SCAN 0 COUNT N",
    ];
    // The copy a pop empties, made again before each run: the fill's commands for its
    // source, under its own name.
    let refill = |server: &mut Server, line: &str| {
        for (copy, source) in [("zc", "zf"), ("sc", "s"), ("lc", "l")] {
            if !line.contains(&format!(" {copy} ")) {
                continue;
            }
            server.execute(&words(vec!["DEL".into(), copy.into()]), 0);
            for argv in fill
                .iter()
                .filter(|argv| argv.get(1).is_some_and(|k| k == source.as_bytes()))
            {
                let mut argv = argv.clone();
                argv[1] = copy.as_bytes().to_vec();
                server.execute(&argv, 0);
            }
        }
    };
    let only = std::env::var("ONLY").unwrap_or_default();
    for line in lines.into_iter().filter(|l| l.contains(only.as_str())) {
        let argv = words(
            line.split(' ')
                .map(|w| match w {
                    "N" => n.to_string(),
                    "-N" => format!("-{n}"),
                    "HALF" => (n / 2).to_string(),
                    w => w.to_string(),
                })
                .collect(),
        );
        let (mut run, mut first, mut format, mut free) = (vec![], vec![], vec![], vec![]);
        let mut console = LongReplies::default();
        let mut bytes = 0;
        for _ in 0..reps {
            refill(&mut server, line);
            let start = Instant::now();
            let reply = server.execute(&argv, 0);
            run.push(start.elapsed());
            let start = Instant::now();
            let mut text = String::new();
            reply.write_cli_text(&mut text);
            format.push(start.elapsed());
            bytes = text.len();

            let start = Instant::now();
            drop(reply);
            free.push(start.elapsed());
            // As the console gets it: the reply kept, the older ones dropped past the budget.
            refill(&mut server, line);
            let reply = server.execute(&argv, 0);
            let start = Instant::now();
            console.defer_line(true);
            console.write(reply, &mut String::new());
            first.push(start.elapsed());
        }
        println!(
            "{line:<25} run {:>6.1} ms  first part {:>5.1} ms  whole text {:>6.1} ms  drop {:>5.1} ms  ({:.1} MB of text)",
            median(run),
            median(first),
            median(format),
            median(free),
            bytes as f64 / 1e6
        );
    }
}
