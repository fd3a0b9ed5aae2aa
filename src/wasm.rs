//! The browser binding: the only module that knows about wasm-bindgen. It holds one sandbox
//! (a Redis server, a mongosh session and the virtual clock they share) and passes text in and
//! out; the host passes its wall-clock reading (`Date.now()`) with every call.

use wasm_bindgen::prelude::*;

use crate::clock::Clock;
use crate::{mongo, persist, redis};

/// talc instead of Rust's default dlmalloc port: it reuses freed memory better, which a long
/// session needs since linear memory never shrinks, and is a few KB smaller; as fast on the
/// benchmark's queries and Redis commands, 9 % slower on one 100k-document insertMany
/// (README, Performance: "The wasm allocator").
#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen]
pub struct Playground {
    redis: redis::Server,
    mongo: mongo::Shell,
    clock: Clock,
    /// The page's stepped save: every method below that can change what a snapshot records
    /// drops it (`save.changed()`; why that is airtight: `persist::background`).
    save: persist::background::Background,
}

impl Default for Playground {
    fn default() -> Self {
        Self::new()
    }
}

/// Panels parse what they get with `JSON.parse`; the snapshot types only hold strings,
/// numbers and lists, so serialising cannot fail, but a panel must never take the page down.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

/// `{"ok": …}` or `{"refused": …}` for the page's lesson checks.
fn check_json(result: Result<String, String>) -> String {
    let mut map = serde_json::Map::new();
    match result {
        Ok(text) => map.insert("ok".into(), text.into()),
        Err(why) => map.insert("refused".into(), why.into()),
    };
    json(&map)
}

#[cfg(feature = "mongo")]
fn progress_json(p: Option<mongo::Progress>) -> String {
    match p {
        Some(p) => format!(
            "{{\"stage\":\"{}\",\"done\":{},\"total\":{}}}",
            p.stage, p.done, p.total
        ),
        None => "null".into(),
    }
}

fn index(n: f64) -> usize {
    if n.is_finite() && n > 0.0 {
        n as usize
    } else {
        0
    }
}

/// A client id from the page: a positive whole number, client 1 otherwise.
fn client(id: f64) -> u64 {
    if (1.0..4_294_967_296.0).contains(&id) {
        id as u64
    } else {
        1
    }
}

fn host(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        ms as u64
    } else {
        0
    }
}

#[cfg(feature = "mongo")]
fn catalog(shell: &mongo::Shell) -> String {
    json(&mongo::snapshot::catalog(shell.store()))
}

#[cfg(not(feature = "mongo"))]
fn catalog(shell: &mongo::Shell) -> String {
    shell.catalog_json()
}

/// `performance` and its `now`, when the host has them: stages often take well under the
/// millisecond `Date.now()` resolves.
#[cfg(feature = "mongo")]
fn high_resolution_clock() -> Option<(JsValue, js_sys::Function)> {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok()?;
    let now = js_sys::Reflect::get(&performance, &"now".into()).ok()?;
    let now: js_sys::Function = now.dyn_into().ok()?;
    Some((performance, now))
}

/// Makes a panic visible to the page. The release build aborts on panic (`panic = "abort"`):
/// the hook still runs first, then the instance traps with `RuntimeError: unreachable` and
/// every later call into it fails. So the hook leaves the message where the page can read it
/// (`globalThis.__playgroundPanic`) and calls `globalThis.onPlaygroundPanic(message)` if the
/// page set one, which shows the reload overlay before the trap unwinds into JavaScript.
/// A few lines instead of the `console_error_panic_hook` crate: the page needs the message,
/// not a console stack trace.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = JsValue::from(info.to_string());
            let global = js_sys::global();
            let _ = js_sys::Reflect::set(&global, &"__playgroundPanic".into(), &message);
            if let Ok(callback) = js_sys::Reflect::get(&global, &"onPlaygroundPanic".into()) {
                if let Ok(callback) = callback.dyn_into::<js_sys::Function>() {
                    let _ = callback.call1(&JsValue::NULL, &message);
                }
            }
        }));
    });
}

impl Playground {
    fn run_as(&mut self, client_id: f64, line: &str, host_ms: f64) -> String {
        let id = client(client_id);
        redis::cli::run_line_as(&mut self.redis, &mut self.clock, id, line, host(host_ms)).text
    }
}

#[wasm_bindgen]
impl Playground {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Playground {
        install_panic_hook();
        Playground {
            redis: redis::Server::new(),
            mongo: mongo::Shell::new(),
            clock: Clock::new(),
            save: persist::background::Background::default(),
        }
    }

    /// Panics on purpose, so that the page test can check the panic overlay end to end; the
    /// engines themselves never panic on any input. Not called by the page.
    #[wasm_bindgen(js_name = debugPanic)]
    #[allow(clippy::panic)]
    pub fn debug_panic(&self) {
        panic!("deliberate panic from debugPanic()");
    }

    /// Runs one redis-cli line and returns what redis-cli prints (help without ANSI colours).
    pub fn redis(&mut self, line: &str, host_ms: f64) -> String {
        self.save.changed();
        redis::cli::run_line(&mut self.redis, &mut self.clock, line, host(host_ms), false).text
    }

    /// Runs several redis-cli lines (one per line) in one call and returns all they print:
    /// a pasted script, and the batched path of the benchmarks.
    #[wasm_bindgen(js_name = redisScript)]
    pub fn redis_script(&mut self, script: &str, host_ms: f64) -> String {
        self.save.changed();
        let mut text = String::new();
        for line in script.lines() {
            let quit = redis::cli::run_line_into(
                &mut self.redis,
                &mut self.clock,
                line,
                host(host_ms),
                false,
                &mut text,
            );
            if quit {
                break;
            }
        }
        text
    }

    /// What this module was built with, as JSON `{"snippets": bool, "mongo": bool,
    /// "scripting": bool, "search": bool, "json": bool, "streams": bool, "geo": bool}` (the
    /// parts of `redis::parts::Part` by their features): the page's first module has few, and
    /// hands the sandbox to the full one before a line that runs a part it lacks
    /// (`redisRunsPart`), Mongo input, a snapshot that needs one (`snapshotParts`,
    /// `snapshotUsesMongo`) or a driver snippet.
    pub fn features() -> String {
        let mut json = format!(
            r#"{{"snippets":{},"mongo":{}"#,
            cfg!(feature = "snippets"),
            cfg!(feature = "mongo")
        );
        for part in redis::parts::Part::ALL {
            json.push_str(&format!(r#","{}":{}"#, part.feature(), part.built()));
        }
        json.push('}');
        json
    }

    /// The feature of the part a redis-cli line runs (`"scripting"`, `"search"`, `"json"`,
    /// `"streams"`, `"geo"`), or `""` for none; the same in any build.
    #[wasm_bindgen(js_name = redisRunsPart)]
    pub fn redis_runs_part(line: &str) -> String {
        redis::cli::runs_part(line)
            .map(|part| part.feature())
            .unwrap_or_default()
            .to_string()
    }

    /// The features of the parts loading a snapshot runs, comma-separated (`"json,streams"`).
    #[wasm_bindgen(js_name = snapshotParts)]
    pub fn snapshot_parts(bytes: &[u8]) -> String {
        let parts: Vec<&str> = persist::parts_used(bytes)
            .into_iter()
            .map(|part| part.feature())
            .collect();
        parts.join(",")
    }

    /// Whether loading a snapshot needs the Mongo engine (it holds Mongo data).
    #[wasm_bindgen(js_name = snapshotUsesMongo)]
    pub fn snapshot_uses_mongo(bytes: &[u8]) -> bool {
        persist::uses_mongo(bytes)
    }

    /// Runs one redis-cli line in the console of client `client_id` (connected on first use)
    /// and returns that line's own output. What clients receive later or from others
    /// (messages, a blocked command's reply) is collected per client with `redisPending`.
    #[wasm_bindgen(js_name = redisAs)]
    pub fn redis_as(&mut self, client_id: f64, line: &str, host_ms: f64) -> String {
        self.save.changed();
        self.redis.long_replies.defer_line(false);
        self.run_as(client_id, line, host_ms)
    }

    /// `redisAs` for the console: a reply of more than `long_reply::DEFER_ITEMS` elements
    /// comes back up to its first `long_reply::FIRST_ITEMS`, and the rest is kept for
    /// `redisReplyPart` (`redisLongReply` says which reply and how much is left).
    #[wasm_bindgen(js_name = redisAsPaged)]
    pub fn redis_as_paged(&mut self, client_id: f64, line: &str, host_ms: f64) -> String {
        self.save.changed();
        self.redis.long_replies.defer_line(true);
        let text = self.run_as(client_id, line, host_ms);
        self.redis.long_replies.stop_deferring();
        text
    }

    /// JSON `{"id", "items", "written", "linesLeft"}` of the reply the last `redisAsPaged`
    /// line kept in parts, or `""` when it wrote everything.
    #[wasm_bindgen(js_name = redisLongReply)]
    pub fn redis_long_reply(&self) -> String {
        match self.redis.long_replies.last() {
            Some(d) => format!(
                r#"{{"id":{},"items":{},"written":{},"linesLeft":{}}}"#,
                d.id, d.items, d.written, d.lines_left
            ),
            None => String::new(),
        }
    }

    /// The text of elements `from..from + count` of the kept long reply `id` (`""` past its
    /// end), or `undefined` once that reply is no longer kept.
    #[wasm_bindgen(js_name = redisReplyPart)]
    pub fn redis_reply_part(&self, id: u32, from: f64, count: f64) -> Option<String> {
        self.redis.long_replies.part(id, index(from), index(count))
    }

    /// Connects a new Redis client and returns its id.
    #[wasm_bindgen(js_name = redisClientOpen)]
    pub fn redis_client_open(&mut self) -> f64 {
        self.save.changed();
        self.redis.connect() as f64
    }

    /// Disconnects a Redis client (its subscriptions, watches and blocked command go too).
    #[wasm_bindgen(js_name = redisClientClose)]
    pub fn redis_client_close(&mut self, client_id: f64) -> bool {
        self.save.changed();
        self.redis.close_client(client(client_id))
    }

    /// What client `client_id` received since last asked (pushed messages, a blocked
    /// command's late reply, MONITOR lines), as redis-cli prints it; empty if nothing.
    #[wasm_bindgen(js_name = redisPending)]
    pub fn redis_pending(&mut self, client_id: f64) -> String {
        let mut text = String::new();
        for reply in self.redis.take_outbox(client(client_id)) {
            reply.write_cli_text(&mut text);
        }
        text
    }

    /// JSON array of `redis::clients::ClientStatus`, one per connected client: id, name,
    /// database, subscriptions, whether in MULTI, and the blocked command with the
    /// milliseconds it still waits (`null`: for ever).
    #[wasm_bindgen(js_name = redisClients)]
    pub fn redis_clients(&self, host_ms: f64) -> String {
        let now = self.clock.now(host(host_ms));
        json(&redis::clients::statuses(&self.redis, now))
    }

    /// JSON array of `[channel, message]` pairs PUBLISHed here since last asked, for the
    /// page to pass on to the same sandbox open in other tabs.
    #[wasm_bindgen(js_name = redisPublished)]
    pub fn redis_published(&mut self) -> String {
        let pairs: Vec<(String, String)> = redis::pubsub::take_published(&mut self.redis)
            .into_iter()
            .map(|(c, m)| {
                (
                    String::from_utf8_lossy(&c).into_owned(),
                    String::from_utf8_lossy(&m).into_owned(),
                )
            })
            .collect();
        json(&pairs)
    }

    /// JSON array of `[level, message]` pairs scripts logged with `redis.log` since last
    /// asked (levels 0-3: debug, verbose, notice, warning), for the page's log.
    #[wasm_bindgen(js_name = redisScriptLog)]
    pub fn redis_script_log(&mut self) -> String {
        json(&self.redis.scripting.take_log())
    }

    /// Delivers a message published in another tab to this sandbox's subscribers; returns
    /// how many received it.
    #[wasm_bindgen(js_name = redisInjectPublish)]
    pub fn redis_inject_publish(&mut self, channel: &str, message: &str) -> u32 {
        self.save.changed();
        redis::pubsub::publish_external(&mut self.redis, channel.as_bytes(), message.as_bytes())
            as u32
    }

    /// The database the Redis console has selected (for its prompt).
    #[wasm_bindgen(js_name = redisDb)]
    pub fn redis_db(&self) -> u32 {
        self.redis.selected_db() as u32
    }

    /// Command names starting with `prefix`, for Tab completion.
    #[wasm_bindgen(js_name = redisComplete)]
    pub fn redis_complete(&self, prefix: &str) -> Vec<String> {
        redis::commands::complete(prefix)
            .into_iter()
            .map(str::to_ascii_uppercase)
            .collect()
    }

    /// The grey argument hint redis-cli shows after the typed `line` (empty for none).
    #[wasm_bindgen(js_name = redisHint)]
    pub fn redis_hint(&self, line: &str) -> String {
        redis::hints::hint(line)
    }

    /// JSON of `redis::hints::KeyCompletion` for the key argument before the caret (`before`
    /// is the line up to it) in database `db`, listing at most `limit` keys; `null` when the
    /// word there is not a key.
    #[wasm_bindgen(js_name = redisCompleteKey)]
    pub fn redis_complete_key(&self, db: u32, before: &str, limit: f64, host_ms: f64) -> String {
        let now = self.clock.now(host(host_ms));
        json(&redis::hints::complete_key(
            &self.redis,
            db as usize,
            before,
            index(limit),
            now,
        ))
    }

    #[cfg(feature = "mongo")]
    /// Runs mongosh source and returns what mongosh prints.
    pub fn mongo(&mut self, src: &str, host_ms: f64) -> String {
        self.save.changed();
        if let Some(text) = crate::clock::sandbox_line(&mut self.clock, src, host(host_ms)) {
            return text;
        }
        let now = self.clock.now(host(host_ms));
        self.mongo.eval_mongosh(src, now)
    }

    #[cfg(feature = "mongo")]
    /// `mongo` in two calls, for a giant input: this one lexes and parses `src` and keeps it
    /// for `mongoRunPrepared` (`undefined`), or gives the text that ends it here (a syntax
    /// error, a sandbox `.time` line). A giant `insertMany` or a `let a = <cursor>.toArray()`
    /// is kept for `mongoStepPrepared` (`mongoPreparedProgress` is then not `null`).
    #[wasm_bindgen(js_name = mongoPrepare)]
    pub fn mongo_prepare(&mut self, src: &str, host_ms: f64) -> Option<String> {
        self.save.changed();
        if let Some(text) = crate::clock::sandbox_line(&mut self.clock, src, host(host_ms)) {
            return Some(text);
        }
        let now = self.clock.now(host(host_ms));
        self.mongo.prepare_mongosh(src, now)
    }

    #[cfg(feature = "mongo")]
    /// Runs what `mongoPrepare` kept and returns what mongosh prints for it.
    #[wasm_bindgen(js_name = mongoRunPrepared)]
    pub fn mongo_run_prepared(&mut self, host_ms: f64) -> String {
        self.save.changed();
        let now = self.clock.now(host(host_ms));
        self.mongo.run_prepared(now)
    }

    #[cfg(feature = "mongo")]
    /// Does about `budget` units of what `mongoPrepare` kept (`Shell::step_prepared`): what
    /// mongosh prints for it once it is over, `undefined` while there is more.
    #[wasm_bindgen(js_name = mongoStepPrepared)]
    pub fn mongo_step_prepared(&mut self, budget: f64) -> Option<String> {
        self.save.changed();
        self.mongo.step_prepared(index(budget).max(1))
    }

    #[cfg(feature = "mongo")]
    /// Where the statement `mongoPrepare` kept is: JSON `{"stage", "done", "total"}`
    /// (`Shell::prepared_progress`), or `null` when it runs in one step.
    #[wasm_bindgen(js_name = mongoPreparedProgress)]
    pub fn mongo_prepared_progress(&self) -> String {
        progress_json(self.mongo.prepared_progress())
    }

    #[cfg(feature = "mongo")]
    /// Stops what `mongoPrepare` kept (what it inserted stays; a variable it was filling is
    /// left as it was): JSON of where it was, as `mongoPreparedProgress`.
    #[wasm_bindgen(js_name = mongoStopPrepared)]
    pub fn mongo_stop_prepared(&mut self) -> String {
        self.save.changed();
        progress_json(self.mongo.stop_prepared())
    }

    /// A lesson's check: runs one read-only redis-cli line on database 0 without it counting
    /// anywhere a student could see (INFO stats, keyspace hits, the slow log, MONITOR, LRU
    /// idle times, the console's client state). JSON `{"ok": text}` with what redis-cli
    /// prints, or `{"refused": why}` for a line that is not a read.
    #[wasm_bindgen(js_name = redisCheck)]
    pub fn redis_check(&mut self, line: &str, host_ms: f64) -> String {
        self.save.changed();
        let now = self.clock.now(host(host_ms));
        check_json(redis::check::check(&mut self.redis, line, now))
    }

    #[cfg(feature = "mongo")]
    /// A lesson's check in mongosh: one expression that only reads (refused before it runs
    /// otherwise), leaving the cursor `it` continues and the explain view as they were. JSON
    /// as `redisCheck`.
    #[wasm_bindgen(js_name = mongoCheck)]
    pub fn mongo_check(&mut self, src: &str, host_ms: f64) -> String {
        self.save.changed();
        let now = self.clock.now(host(host_ms));
        check_json(mongo::check::check(&mut self.mongo, src, now))
    }

    #[cfg(feature = "mongo")]
    /// Runs mongosh source and returns one line of relaxed Extended JSON per result.
    #[wasm_bindgen(js_name = mongoJson)]
    pub fn mongo_json(&mut self, src: &str, host_ms: f64) -> String {
        self.save.changed();
        let now = self.clock.now(host(host_ms));
        self.mongo.eval_json(src, now)
    }

    #[cfg(feature = "mongo")]
    /// JSON of `mongo::flow::FlowReport` for the aggregate statement `src` the console just
    /// ran: every stage's counts, time and first documents, and the failing stage. Other
    /// statements give `{"aggregate": false, …}`.
    #[wasm_bindgen(js_name = mongoFlow)]
    pub fn mongo_flow(&mut self, src: &str, host_ms: f64) -> String {
        self.save.changed();
        let now = self.clock.now(host(host_ms));
        let clock = high_resolution_clock();
        let timer = || {
            match &clock {
                Some((performance, now)) => now.call0(performance).ok().and_then(|v| v.as_f64()),
                None => None,
            }
            .unwrap_or_else(js_sys::Date::now)
        };
        json(&mongo::flow::flow(&mut self.mongo, src, now, &timer))
    }

    /// The database the Mongo shell is on (for its prompt).
    #[wasm_bindgen(js_name = mongoDb)]
    pub fn mongo_db(&self) -> String {
        self.mongo.current_db().to_string()
    }

    #[cfg(feature = "mongo")]
    /// Whether Enter should run the Mongo input (brackets and strings closed).
    #[wasm_bindgen(js_name = mongoInputComplete)]
    pub fn mongo_input_complete(&self, src: &str) -> bool {
        mongo::input_is_complete(src)
    }

    /// Sandbox time in milliseconds for a host reading.
    pub fn now(&self, host_ms: f64) -> f64 {
        self.clock.now(host(host_ms)) as f64
    }

    /// Lets due keys expire between commands (the page calls this on its animation frames),
    /// and MongoDB's TTL monitor delete expired documents. A stepped save goes on through a
    /// tick that changed nothing.
    pub fn tick(&mut self, host_ms: f64) -> u32 {
        let now = self.clock.now(host(host_ms));
        self.save.tick(&mut self.redis, &mut self.mongo, now) as u32
    }

    pub fn pause(&mut self, host_ms: f64) {
        self.save.changed();
        self.clock.pause(host(host_ms));
    }

    pub fn resume(&mut self, host_ms: f64) {
        self.save.changed();
        self.clock.resume(host(host_ms));
    }

    #[wasm_bindgen(js_name = isPaused)]
    pub fn is_paused(&self) -> bool {
        self.clock.is_paused()
    }

    /// Moves the virtual clock by `delta_ms` (negative goes back).
    pub fn advance(&mut self, delta_ms: f64) {
        self.save.changed();
        if delta_ms.is_finite() {
            self.clock.advance(delta_ms as i64);
        }
    }

    /// How many sandbox seconds pass per host second (0.5, 1, 2, 10, ...).
    pub fn speed(&self) -> f64 {
        f64::from(self.clock.speed_milli()) / 1000.0
    }

    /// Changes the clock's speed from now on, without a jump in sandbox time.
    #[wasm_bindgen(js_name = setSpeed)]
    pub fn set_speed(&mut self, speed: f64, host_ms: f64) {
        self.save.changed();
        if speed.is_finite() && speed > 0.0 {
            let milli = (speed * 1000.0).round().min(f64::from(u32::MAX)) as u32;
            self.clock.set_speed(milli, host(host_ms));
        }
    }

    /// JSON of `redis::snapshot::Keyspace`: rows `offset..offset + limit` (sorted by key) of
    /// database `db` matching a glob `pattern` and a TYPE name (empty for any).
    #[wasm_bindgen(js_name = redisKeyspace)]
    pub fn redis_keyspace(
        &self,
        db: u32,
        pattern: &str,
        type_name: &str,
        offset: f64,
        limit: f64,
        host_ms: f64,
    ) -> String {
        let query = redis::snapshot::KeyQuery {
            pattern: pattern.as_bytes(),
            type_name,
            offset: index(offset),
            limit: index(limit),
        };
        let now = self.clock.now(host(host_ms));
        json(&redis::snapshot::keyspace(
            &self.redis,
            db as usize,
            &query,
            now,
        ))
    }

    /// Whether database `db` may have changed since `redisKeyspace` last read it (after a
    /// read it has not, and the panel keeps its snapshot).
    #[wasm_bindgen(js_name = redisKeyspaceChanged)]
    pub fn redis_keyspace_changed(&self, db: u32) -> bool {
        redis::snapshot::keyspace_changed(&self.redis, db as usize)
    }

    /// JSON of `redis::detail::Detail` for one key of database `db` (named as the keyspace
    /// rows name it), or `null` if it is gone. `origin` picks the geo member distances are
    /// measured from (empty for the first).
    #[wasm_bindgen(js_name = redisKeyDetail)]
    pub fn redis_key_detail(&self, db: u32, key: &str, origin: &str, host_ms: f64) -> String {
        let now = self.clock.now(host(host_ms));
        json(&redis::detail::detail(
            &self.redis,
            db as usize,
            key,
            origin,
            now,
        ))
    }

    /// JSON array of the keys a redis-cli line writes (empty for reads and refused lines), so
    /// the keyspace panel can mark writes that left a value unchanged.
    #[wasm_bindgen(js_name = redisWrittenKeys)]
    pub fn redis_written_keys(&self, line: &str) -> String {
        json(&redis::snapshot::written_keys(line))
    }

    /// JSON of `redis::snapshot::ServerInfo`: key counts per database, expiry counters and
    /// approximate memory.
    #[wasm_bindgen(js_name = redisInfo)]
    pub fn redis_info(&self, host_ms: f64) -> String {
        let now = self.clock.now(host(host_ms));
        json(&redis::snapshot::server_info(&self.redis, now))
    }

    #[cfg(feature = "mongo")]
    /// After a Mongo statement that ran `.explain()`: `{"explain": …, "withoutIndex": …}`,
    /// that find's explain with executionStats as planned and without any index (relaxed
    /// Extended JSON); an empty string when the statement explained nothing.
    #[wasm_bindgen(js_name = mongoExplained)]
    pub fn mongo_explained(&mut self) -> String {
        self.mongo.take_explained().unwrap_or_default()
    }

    /// Sets how many bytes of documents (their BSON size, over every collection) the Mongo
    /// sandbox holds before a write fails with `Sandbox memory limit reached …`; 256 MiB
    /// unless changed. It outlives loading a snapshot; documents already stored stay.
    #[wasm_bindgen(js_name = mongoSetMemoryLimit)]
    pub fn mongo_set_memory_limit(&mut self, bytes: f64) {
        self.save.changed();
        self.mongo.set_memory_limit(index(bytes));
    }

    /// JSON of `mongo::snapshot::Catalog`: databases, collections and document counts, and
    /// the documents' size against the memory limit.
    #[wasm_bindgen(js_name = mongoCatalog)]
    pub fn mongo_catalog(&self) -> String {
        catalog(&self.mongo)
    }

    #[cfg(feature = "mongo")]
    /// JSON of `mongo::completion::Vocabulary`: the method and operator names the engine
    /// knows, for the console's completion.
    #[wasm_bindgen(js_name = mongoVocabulary)]
    pub fn mongo_vocabulary(&self) -> String {
        json(&mongo::completion::vocabulary())
    }

    #[cfg(feature = "mongo")]
    /// JSON array of the field paths the first `sample` documents of a collection use.
    #[wasm_bindgen(js_name = mongoFieldPaths)]
    pub fn mongo_field_paths(&self, db: &str, coll: &str, sample: f64) -> String {
        json(&mongo::completion::field_paths(
            self.mongo.store(),
            db,
            coll,
            index(sample),
        ))
    }

    /// The whole sandbox as a snapshot file (`persist`'s format), with `host_data` (the
    /// page's own JSON: console histories) kept inside it.
    #[wasm_bindgen(js_name = snapshotSave)]
    pub fn snapshot_save(&self, host_data: &str, host_ms: f64) -> Vec<u8> {
        persist::save(
            &self.redis,
            &self.mongo,
            &self.clock,
            host_data.as_bytes(),
            host(host_ms),
        )
    }

    /// Starts a stepped save of the sandbox at host time `host_ms` (`snapshotSave`'s bytes,
    /// written a budget at a time by `snapshotStep`), dropping any save under way.
    #[wasm_bindgen(js_name = snapshotBegin)]
    pub fn snapshot_begin(&mut self, host_data: &str, host_ms: f64) {
        self.save.begin(
            &self.redis,
            &self.clock,
            host_data.as_bytes(),
            host(host_ms),
        );
    }

    /// The next `part` bytes of the save's file once written, else writes about `budget`
    /// more items and returns `undefined`; a shorter part is the last, and the call after it
    /// returns the header (the first part's first 24 bytes). Throws when the sandbox changed.
    // One or the other per call, so no call copies more than a part (a 40 MB file is never
    // handed over at once). Items are a key's elements, stream entries, documents, blocks of
    // bytes. A change since `snapshotBegin` (or no save under way) drops the save: its bytes
    // would be a mixture of two states.
    #[wasm_bindgen(js_name = snapshotStep)]
    pub fn snapshot_step(&mut self, budget: f64, part: f64) -> Result<Option<Vec<u8>>, JsError> {
        use persist::background::Step;
        let part_bytes = if part == f64::INFINITY {
            usize::MAX
        } else {
            index(part)
        };
        match self
            .save
            .step(&self.redis, &self.mongo, index(budget).max(1), part_bytes)
        {
            Step::Pending => Ok(None),
            Step::Part(bytes) | Step::Header(bytes) => Ok(Some(bytes)),
            Step::Changed => Err(JsError::new(
                "the sandbox changed since the save began (or no save is under way)",
            )),
        }
    }

    /// Drops the stepped save under way, if any (the page saved in one call instead).
    #[wasm_bindgen(js_name = snapshotCancel)]
    pub fn snapshot_cancel(&mut self) {
        self.save.changed();
    }

    /// Replaces the sandbox with a snapshot's; returns the page's data stored in it (JSON,
    /// `{}` if there was none). A damaged or unknown-version snapshot changes nothing and
    /// throws an Error whose message says why.
    #[wasm_bindgen(js_name = snapshotLoad)]
    pub fn snapshot_load(&mut self, bytes: &[u8], host_ms: f64) -> Result<String, JsError> {
        self.save.changed();
        let loaded = persist::load(bytes, host(host_ms)).map_err(|e| JsError::new(&e))?;
        let mongo_limit = self.mongo.memory_limit();
        self.redis = loaded.redis;
        self.mongo = loaded.mongo;
        self.mongo.set_memory_limit(mongo_limit);
        self.clock = loaded.clock;
        let data = String::from_utf8(loaded.host_data).unwrap_or_default();
        Ok(if data.is_empty() { "{}".into() } else { data })
    }

    /// SAVE and BGSAVE the Redis console has run: the page saves when this grows.
    #[wasm_bindgen(js_name = redisSaves)]
    pub fn redis_saves(&self) -> f64 {
        self.redis.stats.saves as f64
    }

    /// The Redis keyspace as a redis-cli script for a real server (`redis-cli < file`).
    #[wasm_bindgen(js_name = exportRedisCli)]
    pub fn export_redis_cli(&self, host_ms: f64) -> String {
        persist::redis_cli_script(&self.redis, self.clock.now(host(host_ms)))
    }

    /// The same commands in RESP, for `redis-cli --pipe < file`.
    #[wasm_bindgen(js_name = exportRedisResp)]
    pub fn export_redis_resp(&self, host_ms: f64) -> Vec<u8> {
        persist::redis_resp(&self.redis, self.clock.now(host(host_ms)))
    }

    #[cfg(feature = "mongo")]
    /// The Mongo databases as a mongosh script (`mongosh URI file.js`).
    #[wasm_bindgen(js_name = exportMongosh)]
    pub fn export_mongosh(&self) -> String {
        persist::mongo_dump::mongosh_script(self.mongo.store())
    }

    #[cfg(feature = "mongo")]
    /// JSON array of `[file name, contents]`: one canonical Extended JSON file per
    /// collection, for `mongoimport`.
    #[wasm_bindgen(js_name = exportMongoImport)]
    pub fn export_mongo_import(&self) -> String {
        json(&persist::mongo_dump::mongoimport_files(self.mongo.store()))
    }

    #[cfg(feature = "mongo")]
    /// JSON of `mongo::snapshot::DocumentPage`: documents `offset..offset + limit` of a
    /// collection in natural order, as table cells, Extended JSON and mongosh text.
    #[wasm_bindgen(js_name = mongoDocuments)]
    pub fn mongo_documents(&self, db: &str, coll: &str, offset: f64, limit: f64) -> String {
        json(&mongo::snapshot::documents(
            self.mongo.store(),
            db,
            coll,
            index(offset),
            index(limit),
        ))
    }
}

/// Lesson checks' `match` patterns run on the engine's own regex (linear in the reply) rather
/// than the browser's backtracking `RegExp`: a lesson file is data from anywhere, and a
/// pattern like `(a+)+$` against a long reply would freeze the tab. Empty when `pattern`
/// compiles with `options` (`i`, `m`, `s`, `x`), else why not.
#[wasm_bindgen(js_name = patternError)]
pub fn pattern_error(pattern: &str, options: &str) -> String {
    match mongo::query::regex::Regex::new(pattern, options) {
        Ok(_) => String::new(),
        Err(why) => why,
    }
}

/// Whether `pattern` (with `options`) matches anywhere in `text`; false when it does not compile.
#[wasm_bindgen(js_name = patternTest)]
pub fn pattern_test(pattern: &str, options: &str, text: &str) -> bool {
    mongo::query::regex::Regex::new(pattern, options).is_ok_and(|re| re.is_match(text))
}
/// Driver snippets, in the full module only (cargo feature `snippets`): the page loads that
/// module before the snippet panel runs one.
#[cfg(feature = "snippets")]
#[wasm_bindgen]
impl Playground {
    /// Runs a driver snippet (`language`: "python" or "node") against this sandbox's engines
    /// and returns JSON `snippets::SnippetRun`: what it printed, its round trips, whether it
    /// failed.
    pub fn snippet(&mut self, language: &str, source: &str, host_ms: f64) -> String {
        self.save.changed();
        use crate::snippets;
        let Some(language) = snippets::Language::parse(language) else {
            return json(&snippets::SnippetRun {
                output: format!("unknown snippet language: {language}\n"),
                round_trips: 0,
                failed: true,
            });
        };
        let mut engines = snippets::Engines {
            redis: &mut self.redis,
            mongo: &mut self.mongo,
            clock: &mut self.clock,
            host_ms: host(host_ms),
        };
        json(&snippets::run(&mut engines, language, source))
    }
}
