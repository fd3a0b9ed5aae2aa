//! The stepped save held across calls (`background::Background`): whatever happens between
//! two steps, a save either reports the change or has the bytes of a one-call save taken
//! before it, never anything else; and the clock's ticks that change nothing let it finish.

use super::background::{Background, Step};
use super::tests::{populated_for_steps, T0};
use super::*;
use crate::redis::cli::run_line_as;

const HOST_DATA: &[u8] = b"{\"history\":{\"redis\":[\"GET a\"]}}";
/// The host's clock when a test page opens.
const HOST0: Millis = 5_000_000;
/// The parts the file is taken in: several for the populated sandbox, of an odd size.
const PART_BYTES: usize = 777;

/// The sandbox as the binding (`wasm::Playground`) holds it, called as the page calls it:
/// every method that can change the sandbox drops the save, as the binding's do.
struct Page {
    redis: redis::Server,
    mongo: mongo::Shell,
    clock: Clock,
    save: Background,
    host: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The save reported the change.
    Changed,
    /// The save finished with the bytes of the one-call save taken before.
    Same,
}

impl Page {
    /// A populated sandbox on a running clock.
    fn new() -> Page {
        let s = populated_for_steps();
        let mut page = Page {
            redis: s.redis,
            mongo: s.mongo,
            clock: Clock::from_parts(HOST0, T0 + 10, 1000, None),
            save: Background::default(),
            host: HOST0,
        };
        // What is already due goes first, so that a test starts from a settled sandbox.
        page.tick();
        page
    }

    /// `redisAs`.
    fn redis(&mut self, client: u64, line: &str) -> String {
        self.save.changed();
        run_line_as(&mut self.redis, &mut self.clock, client, line, self.host).text
    }

    /// `mongo`.
    fn mongo(&mut self, src: &str) -> String {
        self.save.changed();
        if let Some(text) = crate::clock::sandbox_line(&mut self.clock, src, self.host) {
            return text;
        }
        let now = self.clock.now(self.host);
        self.mongo.eval_mongosh(src, now)
    }

    /// `tick`.
    fn tick(&mut self) -> usize {
        let now = self.clock.now(self.host);
        self.save.tick(&mut self.redis, &mut self.mongo, now)
    }

    /// `snapshotSave`.
    fn one_call(&self) -> Vec<u8> {
        save(&self.redis, &self.mongo, &self.clock, HOST_DATA, self.host)
    }

    /// `snapshotBegin` then one `snapshotStep` of the smallest budget.
    fn begin(&mut self) {
        self.save
            .begin(&self.redis, &self.clock, HOST_DATA, self.host);
        assert_eq!(
            self.save.step(&self.redis, &self.mongo, 1, PART_BYTES),
            Step::Pending
        );
    }

    /// `snapshotStep` until the save ends: the file, its parts joined and the header put in
    /// the first, or `None` when the save reported a change.
    fn finish(&mut self) -> Option<Vec<u8>> {
        let mut file = Vec::new();
        for _ in 0..100_000 {
            match self.save.step(&self.redis, &self.mongo, 64, PART_BYTES) {
                Step::Pending => {}
                Step::Part(part) => file.extend_from_slice(&part),
                Step::Header(header) => {
                    file[..header.len()].copy_from_slice(&header);
                    return Some(file);
                }
                Step::Changed => return None,
            }
        }
        panic!("the save does not end");
    }

    /// Begins a save, takes a step, runs `between`, and steps to the end.
    fn across(&mut self, what: &str, between: impl FnOnce(&mut Page)) -> Outcome {
        let before = self.one_call();
        self.begin();
        between(self);
        match self.finish() {
            None => Outcome::Changed,
            Some(bytes) => {
                assert!(
                    bytes == before,
                    "{what}: the save finished with bytes other than the state's before it"
                );
                Outcome::Same
            }
        }
    }
}

/// The `.redis` scripts of `dir` (from the crate root), sorted by name: (name, text).
pub(super) fn scripts(dir: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "redis"))
        .collect();
    files.sort();
    assert!(files.len() > 10, "{dir:?}");
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// `.time +300ms` / `.time +2s` in the clients' scripts: how long clients.py waits.
fn wait_of(line: &str) -> Option<Millis> {
    let rest = line.strip_prefix(".time +")?;
    if let Some(ms) = rest.strip_suffix("ms") {
        return ms.parse().ok();
    }
    rest.strip_suffix('s')?
        .parse::<Millis>()
        .ok()
        .map(|s| s * 1000)
}

/// Host time a tick comes after, in turn: the same frame, a few frames, past the active
/// cycle's interval, seconds, past the TTL monitor's period.
const TICK_GAPS: [Millis; 5] = [0, 40, 150, 1500, 90_000];

/// Every line of the differential scripts (and of the multi-client ones, with their clients
/// and waits) on a populated sandbox: run mid-save, the save reports the change; a tick
/// mid-save after it (expiring keys and fields, timing out blocked clients, running busy
/// scripts on, or nothing at all) ends in the change or in the bytes from before the tick.
#[test]
fn no_line_of_the_differential_scripts_and_no_tick_after_it_mixes_two_states() {
    let mut same = 0;
    let mut changed_by_ticks = 0;
    let mut lines = 0;
    for dir in ["tests/fidelity/redis", "tests/fidelity/redis-clients"] {
        for (name, text) in scripts(dir) {
            let mut page = Page::new();
            let mut client = 1;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim_end();
                if line.trim().is_empty() || line.starts_with('#') {
                    continue;
                }
                let what = format!("{name}:{}: {line}", n + 1);
                if let Some(id) = line.strip_prefix(".client ") {
                    client = id.trim().parse().unwrap();
                    continue;
                }
                let gap = match wait_of(line) {
                    Some(wait) => wait,
                    None => {
                        lines += 1;
                        let outcome = page.across(&what, |p| {
                            p.redis(client, line);
                        });
                        assert_eq!(outcome, Outcome::Changed, "{what}");
                        TICK_GAPS[n % TICK_GAPS.len()]
                    }
                };
                match page.across(&what, |p| {
                    p.host += gap;
                    p.tick();
                }) {
                    Outcome::Same => same += 1,
                    Outcome::Changed => changed_by_ticks += 1,
                }
            }
        }
    }
    // Both ends really happen: most ticks change nothing, and some expire or time out.
    assert!(lines > 7000, "{lines}");
    assert!(same > lines / 2, "{same} of {lines}");
    assert!(changed_by_ticks > 20, "{changed_by_ticks}");
}

/// Mongo writes of every kind, index builds, drops and TTL: run mid-save, the save reports
/// the change; the TTL monitor's deletions between steps drop it, its idle passes do not.
#[test]
fn mongo_statements_and_the_ttl_monitor_never_mix_two_states() {
    let mut page = Page::new();
    // The populated keys whose TTLs are shorter than the waits below are gone first.
    page.host += 100_000;
    page.tick();
    let statements = [
        "use shop",
        "db.items.insertOne({ _id: 1, name: 'pen', qty: 5 })",
        "db.items.insertMany([{ _id: 2, qty: 1 }, { _id: 3, qty: 9 }])",
        "db.items.updateOne({ _id: 1 }, { $inc: { qty: 1 } })",
        "db.items.updateMany({}, { $set: { seen: true } })",
        "db.items.replaceOne({ _id: 2 }, { qty: 2 })",
        "db.items.findOneAndUpdate({ _id: 3 }, { $unset: { seen: '' } })",
        "db.items.bulkWrite([{ insertOne: { document: { _id: 4 } } }, { deleteOne: { filter: { _id: 2 } } }])",
        "db.items.deleteMany({ qty: { $gt: 8 } })",
        "db.items.createIndex({ qty: 1 })",
        "db.items.dropIndex('qty_1')",
        "db.items.find({ qty: { $gt: 1 } }).toArray()",
        "db.items.aggregate([{ $group: { _id: null, n: { $sum: 1 } } }, { $out: 'totals' }])",
        "db.totals.drop()",
        "db.createCollection('capped', { capped: true, size: 1024, max: 2 })",
        "db.capped.renameCollection('capped2')",
        "db.runCommand({ collMod: 'items', validator: { qty: { $type: 'number' } } })",
        "ObjectId()",
        "use other",
        "db.dropDatabase()",
        ".time pause",
        ".time resume",
        "db.events.createIndex({ at: 1 }, { expireAfterSeconds: 30 })",
        "db.events.insertMany([{ at: new Date() }, { at: new Date() }, { at: 'not a date' }])",
    ];
    for src in statements {
        let outcome = page.across(src, |p| {
            p.mongo(src);
        });
        assert_eq!(outcome, Outcome::Changed, "{src}");
    }
    // The monitor's passes before the documents are due change nothing.
    for gap in [10, 1000, 20_000] {
        let outcome = page.across("an idle TTL pass", |p| {
            p.host += gap;
            assert_eq!(p.tick(), 0);
        });
        assert_eq!(outcome, Outcome::Same);
    }
    let outcome = page.across("the TTL monitor deleting", |p| {
        p.host += 61_000;
        assert_eq!(p.tick(), 2);
    });
    assert_eq!(outcome, Outcome::Changed);
    assert!(page.mongo("db.events.countDocuments()").contains('1'));
}

/// A populated sandbox with TTLs still far off, a hash field TTL, a blocked client and a TTL
/// index: frames of ticks between the steps let the save finish with the bytes from before.
#[test]
fn ticks_that_change_nothing_let_the_save_finish() {
    let mut page = Page::new();
    page.redis(2, "BLPOP nothing 100");
    page.redis(1, "HPEXPIRE user:1 600000 FIELDS 1 f2");
    page.mongo("db.events.createIndex({ at: 1 }, { expireAfterSeconds: 3600 })");
    page.mongo("db.events.insertOne({ at: new Date() })");
    let outcome = page.across("frames", |p| {
        for _ in 0..200 {
            p.host += 16;
            assert_eq!(p.tick(), 0);
            assert!(p.save.is_saving());
        }
    });
    assert_eq!(outcome, Outcome::Same);
}

/// Each way the passing of time changes the sandbox on its own, between two steps.
#[test]
fn what_time_changes_between_steps_drops_the_save() {
    // A key's TTL runs out: the active cycle removes it.
    let mut page = Page::new();
    page.redis(1, "SET brief v PX 100");
    let outcome = page.across("key expiry", |p| {
        p.host += 200;
        assert_eq!(p.tick(), 1);
    });
    assert_eq!(outcome, Outcome::Changed);

    // A hash field's TTL runs out and the hash stays: no key is removed, the save still goes.
    let mut page = Page::new();
    page.redis(1, "HSET h a 1 b 2");
    page.redis(1, "HPEXPIRE h 100 FIELDS 1 a");
    let outcome = page.across("field expiry", |p| {
        p.host += 200;
        assert_eq!(p.tick(), 0);
    });
    assert_eq!(outcome, Outcome::Changed);
    assert_eq!(page.redis(1, "HKEYS h"), "1) \"b\"\n");

    // A blocked client times out and the command it typed meanwhile runs.
    let mut page = Page::new();
    page.redis(2, "BLPOP q 0.1");
    page.redis(2, "SET typed-while-blocked 1");
    let outcome = page.across("blocked client's timeout", |p| {
        p.host += 200;
        assert_eq!(p.tick(), 0);
    });
    assert_eq!(outcome, Outcome::Changed);
    assert_eq!(page.redis(1, "GET typed-while-blocked"), "\"1\"\n");

    // A busy script writes once the clock reaches its write, and answers later still.
    #[cfg(feature = "scripting")]
    {
        let mut page = Page::new();
        page.redis(1, "CONFIG SET busy-reply-threshold 100");
        let late = "EVAL \"for i = 1, 100000 do end redis.call('set', 'late', '2') for i = 1, 2000000 do end return 'late'\" 0";
        page.redis(1, late);
        let written = |p: &Page| p.redis.dbs[0].iter().any(|(k, _)| k == b"late");
        let mut rerun_seen = false;
        for _ in 0..20_000 {
            let outcome = page.across("busy script", |p| {
                p.host += 5;
                p.tick();
            });
            if written(&page) {
                assert_eq!(outcome, Outcome::Changed);
                rerun_seen = page.redis.client(1).is_some_and(|c| c.blocked.is_some());
                break;
            }
        }
        assert!(rerun_seen, "the script wrote before it answered");
    }
}

/// Eviction runs before a command, never in a tick: over maxmemory, ticks leave the save be,
/// and the next command (which evicts) drops it as every command does.
#[test]
fn over_maxmemory_only_commands_evict() {
    let mut page = Page::new();
    page.redis(1, "CONFIG SET maxmemory-policy allkeys-random");
    let used = page.redis.used_memory();
    // Set directly: CONFIG SET evicts at once, and the state over the limit is the one sought.
    page.redis.config.maxmemory = used / 2;
    let evicted = page.redis.stats.evicted_keys;
    let outcome = page.across("ticks over maxmemory", |p| {
        p.host += 500;
        p.tick();
    });
    assert_eq!(outcome, Outcome::Same);
    assert_eq!(page.redis.stats.evicted_keys, evicted);
    let outcome = page.across("a read that evicts", |p| {
        p.redis(1, "GET plain");
    });
    assert_eq!(outcome, Outcome::Changed);
    assert!(page.redis.stats.evicted_keys > evicted);
}

/// The header (clock, host data, CONFIG) is written at `begin`: a clock moved mid-save would
/// not be in the file, which is why the binding's clock controls drop the save.
#[test]
fn the_clock_is_saved_at_begin_and_its_controls_drop_the_save() {
    let mut page = Page::new();
    let before = page.one_call();
    page.begin();
    page.clock.pause(page.host);
    page.clock.advance(60_000);
    assert_eq!(page.finish(), Some(before.clone()));
    assert_ne!(page.one_call(), before, "the clock did change");

    for control in ["pause", "resume", "advance", "speed"] {
        let outcome = page.across(control, |p| {
            // As the binding's `pause`, `resume`, `advance` and `setSpeed` do.
            p.save.changed();
            match control {
                "pause" => p.clock.pause(p.host),
                "resume" => p.clock.resume(p.host),
                "advance" => p.clock.advance(1000),
                _ => p.clock.set_speed(2000, p.host),
            }
        });
        assert_eq!(outcome, Outcome::Changed, "{control}");
    }
}

/// A save replaced by a loaded snapshot, dropped, or never begun reports the change; a new
/// save after one that finished begins from the state then.
#[test]
fn a_replaced_sandbox_or_no_save_reports_the_change() {
    let mut page = Page::new();
    assert_eq!(page.finish(), None);
    let bytes = page.one_call();
    let outcome = page.across("snapshot load", |p| {
        // As the binding's `snapshotLoad` does.
        p.save.changed();
        let loaded = load(&bytes, p.host).unwrap();
        p.redis = loaded.redis;
        p.mongo = loaded.mongo;
        p.clock = loaded.clock;
    });
    assert_eq!(outcome, Outcome::Changed);
    let outcome = page.across("nothing", |_| {});
    assert_eq!(outcome, Outcome::Same);
    assert_eq!(page.finish(), None, "a finished save is over");
}

/// Every method of the binding that takes the sandbox `&mut` drops the save, but for the
/// drains of queues no snapshot holds, the counted tick and the save's own.
#[test]
fn every_mutating_binding_method_drops_the_save() {
    let source = include_str!("../wasm.rs");
    let leave_the_save = [
        "redis_pending",
        "redis_published",
        "redis_script_log",
        "mongo_explained",
        "snapshot_begin",
        "snapshot_step",
        "snapshot_cancel",
    ];
    let mut checked = 0;
    let mut rest = source;
    while let Some(at) = rest.find("pub fn ") {
        rest = &rest[at + "pub fn ".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = rest.find('{') else { break };
        let signature = &rest[..open];
        if !signature.contains("&mut self") {
            continue;
        }
        let body_start = &rest[open..];
        let body = &body_start[..body_start.find("\n    }").unwrap_or(body_start.len())];
        let drops = body.contains("self.save.changed()") || body.contains("self.save.tick(");
        if leave_the_save.contains(&name.as_str()) {
            assert!(
                !body.contains("self.save.changed()") || name == "snapshot_cancel",
                "{name}"
            );
        } else {
            assert!(
                drops,
                "`{name}` can change the sandbox and must call self.save.changed()"
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked}");
}
