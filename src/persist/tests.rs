use super::*;
use crate::redis::cli::run_line;

/// Sandbox time of the tests' paused clock: 2026-01-01T00:00:00Z.
pub(super) const T0: Millis = 1_767_225_600_000;

pub(super) struct Sandbox {
    pub(super) redis: redis::Server,
    pub(super) mongo: mongo::Shell,
    pub(super) clock: Clock,
}

impl Sandbox {
    fn new() -> Self {
        Sandbox {
            redis: redis::Server::new(),
            mongo: mongo::Shell::new(),
            clock: Clock::from_parts(0, T0, 1000, Some(T0)),
        }
    }

    fn redis(&mut self, line: &str) -> String {
        run_line(&mut self.redis, &mut self.clock, line, 0, false).text
    }

    fn mongo(&mut self, src: &str) -> String {
        let now = self.clock.now(0);
        self.mongo.eval_mongosh(src, now)
    }

    fn save(&self) -> Vec<u8> {
        save(
            &self.redis,
            &self.mongo,
            &self.clock,
            b"{\"history\":[]}",
            0,
        )
    }

    fn load(bytes: &[u8]) -> Result<Sandbox, String> {
        let loaded = load(bytes, 0)?;
        Ok(Sandbox {
            redis: loaded.redis,
            mongo: loaded.mongo,
            clock: loaded.clock,
        })
    }

    /// What a student could read of the whole sandbox, through the engines' own commands:
    /// every key of every database with its type, expiry and contents (per-type reads), the
    /// search indexes, CONFIG, and every collection's documents, indexes and options.
    fn observe(&mut self) -> String {
        let mut out = self.observe_redis();
        out.push_str(&self.observe_scripting());
        out.push_str(&self.observe_mongo());
        out
    }

    fn observe_redis(&mut self) -> String {
        let mut out = String::new();
        for db in 0..redis::DATABASES {
            self.redis(&format!("SELECT {db}"));
            let mut keys: Vec<Vec<u8>> =
                self.redis.dbs[db].iter().map(|(k, _)| k.clone()).collect();
            keys.sort();
            for key in keys {
                let mut k = String::new();
                redis_dump::cli_arg(&mut k, &key);
                let t = self.redis(&format!("TYPE {k}"));
                out.push_str(&format!("db{db} {k} {t}"));
                out.push_str(&self.redis(&format!("PEXPIRETIME {k}")));
                let reads: Vec<String> = match t.trim() {
                    "string" => vec![format!("GET {k}"), format!("PFCOUNT {k}")],
                    "hash" => vec![
                        format!("HGETALL {k}"),
                        format!("HPEXPIRETIME {k} FIELDS {} {}", 1, "f1"),
                    ],
                    "list" => vec![format!("LRANGE {k} 0 -1")],
                    "set" => vec![format!("SORT {k} ALPHA")],
                    "zset" => vec![format!("ZRANGE {k} 0 -1 WITHSCORES")],
                    "stream" => vec![format!("XINFO STREAM {k} FULL")],
                    _ => vec![format!("JSON.GET {k}")],
                };
                for read in reads {
                    out.push_str(&self.redis(&read));
                }
            }
        }
        self.redis("SELECT 0");
        out.push_str(&self.redis("FT._LIST"));
        for name in ["idx:p", "idx:j"] {
            out.push_str(&self.redis(&format!("FT.INFO {name}")));
        }
        out.push_str(&self.redis("CONFIG GET maxmemory*"));
        out.push_str(&self.redis("CONFIG GET notify-keyspace-events"));
        out
    }

    /// The function libraries with their code, and every cached script as EVALSHA runs it.
    fn observe_scripting(&mut self) -> String {
        let mut out = self.redis("FUNCTION LIST WITHCODE");
        let shas: Vec<String> = self
            .redis
            .scripting
            .cached_scripts()
            .map(redis::scripting::sha1_hex)
            .collect();
        for sha in shas {
            out.push_str(&format!(
                "{sha}: {}",
                self.redis(&format!("SCRIPT SHOW {sha}"))
            ));
        }
        out
    }

    fn observe_mongo(&mut self) -> String {
        let mut out = String::new();
        let names: Vec<(String, Vec<String>)> = self
            .mongo
            .store()
            .databases
            .iter()
            .map(|(d, db)| (d.clone(), db.collections.keys().cloned().collect()))
            .collect();
        for (d, colls) in names {
            out.push_str(&self.mongo(&format!("use {d}")));
            out.push_str(&self.mongo("db.getCollectionInfos()"));
            for c in colls {
                out.push_str(&self.mongo(&format!("db.getCollection('{c}').find().toArray()")));
                out.push_str(&self.mongo(&format!("db.getCollection('{c}').getIndexes()")));
                if let Some(coll) = self.mongo.store().collection(&d, &c) {
                    for doc in &coll.docs {
                        mongo_dump::write_canonical_doc(&mut out, doc);
                    }
                }
            }
        }
        out.push_str(&self.mongo("db.getName()"));
        out
    }
}

fn populated() -> Sandbox {
    let mut s = Sandbox::new();
    for line in [
        "SET plain hello",
        "SET bin \"a\\x00\\xffb\"",
        "SET counter 41",
        "INCR counter",
        "SET session:1 data EX 3600",
        "HSET user:1 f1 v1 f2 v2 name Ada",
        "HPEXPIRE user:1 60000 FIELDS 1 f1",
        "RPUSH queue a b c d",
        "LPUSH queue z",
        "SADD tags red green blue",
        "SADD ints 1 2 3",
        "ZADD board 10 ann 2.5 bob -inf low inf high",
        "GEOADD stores 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "PFADD visitors a b c d e",
        "XADD events 1-1 type click",
        "XADD events 2-0 type view page home",
        "XADD events 3-0 type buy",
        "XDEL events 3-0",
        "XGROUP CREATE events workers 0",
        "XREADGROUP GROUP workers alice COUNT 1 STREAMS events >",
        "XGROUP CREATECONSUMER events workers bob",
        "XGROUP CREATE events idle $ MKSTREAM",
        "XADD empty MAXLEN 0 5-0 x y",
        "JSON.SET doc $ '{\"name\":\"Laptop\",\"price\":999.5,\"tags\":[\"a\",1,null,true],\"n\":1.0}'",
        "PEXPIRE doc 90000",
        "HSET p:1 title \"Red shoes\" price 10 tag sport",
        "FT.CREATE idx:p ON HASH PREFIX 1 p: SCHEMA title TEXT WEIGHT 2 price NUMERIC SORTABLE tag TAG SEPARATOR ;",
        "FT.CREATE idx:j ON JSON PREFIX 1 doc SCHEMA $.name AS name TEXT",
        "FT.CREATE idx:o ON HASH PREFIX 1 o: FILTER '@n > 1' LANGUAGE german SCORE 0.5 SCORE_FIELD s PAYLOAD_FIELD p STOPWORDS 1 x SCHEMA t TEXT",
        "SELECT 3",
        "SET other-db yes PX 5000",
        "SELECT 0",
        "CONFIG SET maxmemory-policy allkeys-lru maxmemory 64mb",
    ] {
        let reply = s.redis(line);
        assert!(!reply.starts_with("(error)"), "{line}: {reply}");
    }
    // A build without the Lua engine (the page's first module) saves and loads the rest.
    #[cfg(feature = "scripting")]
    for line in [
        "FUNCTION LOAD \"#!lua name=shop\\nredis.log(redis.LOG_NOTICE, 'loading shop')\\nredis.register_function{function_name='stock', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='a key\\\\'s value'}\"",
        "SCRIPT LOAD \"return 'cached ' .. ARGV[1]\"",
        "EVAL \"return redis.call('INCR', KEYS[1])\" 1 evals",
    ] {
        let reply = s.redis(line);
        assert!(!reply.starts_with("(error)"), "{line}: {reply}");
    }
    for src in [
        "use shop",
        "db.createCollection('orders', { validator: { $jsonSchema: { required: ['total'] } }, validationLevel: 'moderate' })",
        "db.orders.insertOne({ _id: 1, total: NumberDecimal('10.50'), n: NumberLong(7), i: NumberInt(3), d: 2.5, at: ISODate('2026-01-02T03:04:05Z'), tags: ['x', { deep: [1, 2] }], bin: BinData(0, 'AQID'), re: /ab+c/i, ts: Timestamp({ t: 5, i: 1 }), mk: MinKey(), nul: null, z: 1, a: 2 })",
        "db.orders.insertOne({ total: 5 })",
        "db.orders.createIndex({ total: -1, n: 1 }, { name: 'by_total', unique: false })",
        "db.orders.createIndex({ 'tags.deep': 1 }, { sparse: true })",
        "db.createCollection('log', { capped: true, size: 4096, max: 3 })",
        "db.log.insertMany([{ m: 1 }, { m: 2 }, { m: 3 }, { m: 4 }])",
        "use blog",
        "db.posts.insertOne({ title: 'Hello', views: 10 })",
        "db.posts.createIndex({ at: 1 }, { expireAfterSeconds: 3600 })",
        "use shop",
    ] {
        let out = s.mongo(src);
        assert!(!out.contains("Error"), "{src}: {out}");
    }
    s
}

#[test]
fn a_populated_sandbox_round_trips() {
    let mut original = populated();
    let bytes = original.save();
    let mut restored = Sandbox::load(&bytes).unwrap();
    let before = original.observe();
    let after = restored.observe();
    assert_eq!(before, after);
    // The observation really covers the data (a check that could not fail would be no check).
    for needle in [
        "Palermo",
        "alice",
        "Laptop",
        "10.50",
        "by_total",
        "moderate",
        "allkeys-lru",
        #[cfg(feature = "scripting")]
        "loading shop",
        #[cfg(feature = "scripting")]
        "cached ",
        #[cfg(feature = "scripting")]
        "INCR",
    ] {
        assert!(
            before.contains(needle),
            "{needle} missing from the observation"
        );
    }
    assert_eq!(restored.clock, original.clock);
    // New ObjectIds go on from the saved generator, not from a fresh one.
    assert_eq!(
        original.mongo("db.x.insertOne({})"),
        restored.mongo("db.x.insertOne({})")
    );
    // Geo sets stay geo sets for the page.
    let geo = |s: &Sandbox| match s.redis.dbs[0].stored(b"stores").map(|e| &e.value) {
        Some(redis::types::Value::ZSet(z)) => z.is_geo(),
        _ => false,
    };
    assert!(geo(&restored));
    // The host's own data comes back as it was stored.
    assert_eq!(load(&bytes, 0).unwrap().host_data, b"{\"history\":[]}");
}

#[test]
fn ttls_are_absolute_on_the_virtual_clock() {
    let mut s = populated();
    let bytes = s.save();
    // Reopened once the clock has passed the session key's expiry (paused clocks stay put;
    // a running one goes on with the host clock).
    let (h, v, speed, _) = s.clock.parts();
    s.clock = Clock::from_parts(h, v, speed, None);
    let bytes_running = s.save();
    let later = load(&bytes_running, 3_600_001).unwrap();
    let mut later = Sandbox {
        redis: later.redis,
        mongo: later.mongo,
        clock: later.clock,
    };
    assert_eq!(later.redis("EXISTS session:1"), "(integer) 0\n");
    assert_eq!(later.redis("EXISTS plain"), "(integer) 1\n");
    let mut same = Sandbox::load(&bytes).unwrap();
    assert_eq!(
        same.redis("PEXPIRETIME session:1"),
        format!("(integer) {}\n", T0 + 3_600_000)
    );
}

#[test]
fn save_and_bgsave_answer_like_the_server_and_count() {
    let mut s = Sandbox::new();
    assert_eq!(s.redis("SAVE"), "OK\n");
    assert_eq!(s.redis("BGSAVE"), "Background saving started\n");
    assert_eq!(s.redis.stats.saves, 2);
    assert!(s.redis("INFO persistence").contains("rdb_saves:2\r\n"));
}

#[test]
fn damaged_snapshots_are_refused_with_a_reason() {
    let good = populated().save();
    let mut wrong_version = good.clone();
    wrong_version[8] = 9;
    let mut flipped = good.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "not a nosql-playground snapshot"),
        (
            b"PK\x03\x04 a zip file".to_vec(),
            "not a nosql-playground snapshot",
        ),
        (good[..12].to_vec(), "header is incomplete"),
        (good[..good.len() - 10].to_vec(), "truncated"),
        (wrong_version, "version 9 is not supported"),
        (flipped, "checksum"),
        ([good.clone(), vec![0]].concat(), "unexpected bytes"),
    ];
    for (bytes, expected) in cases {
        let err = load(&bytes, 0).unwrap_err();
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
    }
}

#[test]
fn a_snapshot_may_only_rebuild_keys() {
    let commands: Vec<Command> = vec![vec![b"MULTI".to_vec()]];
    let err = rebuild_redis(&commands, &[], &[], T0, VERSION).unwrap_err();
    assert_eq!(
        err,
        "the snapshot holds a command it never writes (\"MULTI\")"
    );
    let empty: Vec<Command> = vec![Vec::new()];
    assert!(rebuild_redis(&empty, &[], &[], T0, VERSION).is_err());
    let refused: Vec<Command> = vec![vec![b"SET".to_vec(), b"k".to_vec()]];
    let err = rebuild_redis(&refused, &[], &[], T0, VERSION).unwrap_err();
    assert!(
        err.starts_with("the snapshot cannot be replayed: SET answered ERR wrong number"),
        "{err}"
    );
}

/// A body with a valid header and checksum but arbitrary contents.
fn framed(body: &[u8]) -> Vec<u8> {
    framed_as(VERSION, body)
}

fn framed_as(version: u32, body: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn any_damage_inside_a_checksummed_body_is_an_error_not_a_panic() {
    let good = populated().save();
    let body = &good[HEADER_LEN..];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..2_000 {
        let mut b = body.to_vec();
        match rng.below(3) {
            0 => {
                let at = rng.below(b.len() as u64) as usize;
                b[at] = rng.next() as u8;
            }
            1 => b.truncate(rng.below(b.len() as u64) as usize),
            _ => {
                let at = rng.below(b.len() as u64) as usize;
                b.insert(at, rng.next() as u8);
            }
        }
        // Either it still loads (the change hit a value) or it says why; it never panics.
        let _ = load(&framed(&b), 0);
    }
    for len in [0usize, 1, 7, 64, 1000] {
        let garbage: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(load(&framed(&garbage), 0).is_err());
    }
}

/// Random datasets of every type, saved and loaded, read the same.
#[test]
fn random_datasets_round_trip() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for round in 0..12 {
        let mut s = Sandbox::new();
        for _ in 0..150 {
            let key = format!("k{}", rng.below(40));
            let member = format!("m{}\\x{:02x}", rng.below(30), rng.below(256));
            let n = rng.below(1000) as i64 - 500;
            let line = match rng.below(14) {
                0 => format!("SET {key} \"{member}\""),
                1 => format!("HSET {key} f{} \"{member}\"", rng.below(5)),
                2 => format!("RPUSH {key} \"{member}\""),
                3 => format!("SADD {key} \"{member}\""),
                4 => format!("ZADD {key} {}.{} \"{member}\"", n, rng.below(100)),
                5 => format!("XADD {key} * f \"{member}\""),
                6 => format!("PEXPIRE {key} {}", 1 + rng.below(100_000)),
                7 => format!(
                    "HPEXPIRE {key} {} FIELDS 1 f{}",
                    1 + rng.below(100_000),
                    rng.below(5)
                ),
                8 => format!("JSON.SET {key} $ '{{\"a\":{n},\"b\":[{}.5,\"x\"]}}'", n),
                9 => format!("PFADD {key} \"{member}\""),
                10 => format!("SELECT {}", rng.below(4)),
                11 => format!("DEL {key}"),
                12 => format!("XGROUP CREATE {key} g{} 0 MKSTREAM", rng.below(2)),
                _ => format!(
                    "XREADGROUP GROUP g0 c{} COUNT 2 STREAMS {key} >",
                    rng.below(2)
                ),
            };
            s.redis(&line);
        }
        s.redis("SELECT 0");
        for i in 0..20 {
            let v = match rng.below(5) {
                0 => format!("NumberLong({})", rng.below(1 << 40)),
                1 => format!("{}.25", rng.below(100)),
                2 => format!("NumberDecimal('{}.{}')", rng.below(1000), rng.below(1000)),
                3 => format!("'s{}'", rng.below(10)),
                _ => format!(
                    "[{}, {{ x: ISODate('2026-01-0{}T00:00:00Z') }}]",
                    rng.below(9),
                    1 + rng.below(8)
                ),
            };
            s.mongo(&format!(
                "db.c{}.insertOne({{ _id: {i}, v: {v} }})",
                rng.below(3)
            ));
        }
        let bytes = s.save();
        let mut restored = Sandbox::load(&bytes).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(s.observe(), restored.observe(), "round {round}");
    }
}

#[test]
fn the_export_for_a_real_server_uses_relative_times_and_quotes_binary() {
    let s = populated();
    let script = redis_cli_script(&s.redis, s.clock.now(0));
    assert!(
        script.contains("SET session:1 data PX 3600000\n"),
        "{script}"
    );
    assert!(script.contains("HPEXPIRE user:1 60000 FIELDS 1 f1\n"));
    assert!(script.contains("SET bin \"a\\x00\\xffb\"\n"));
    assert!(script.contains("XCLAIM events workers alice 0 1-1 IDLE 0 RETRYCOUNT 1 JUSTID FORCE\n"));
    assert!(script.contains("FT.CREATE idx:p ON HASH PREFIX 1 p: SCHEMA title TEXT WEIGHT 2 price NUMERIC SORTABLE tag TAG SEPARATOR ;\n"));
    assert!(script.contains("FT.CREATE idx:o ON HASH PREFIX 1 o: FILTER \"@n > 1\" LANGUAGE german SCORE 0.5 SCORE_FIELD s PAYLOAD_FIELD p STOPWORDS 1 x SCHEMA t TEXT\n"), "{script}");
    assert!(script.contains("SELECT 3\nSET other-db yes PX 5000\nSELECT 0\n"));
    let resp = redis_resp(&s.redis, s.clock.now(0));
    #[cfg(feature = "scripting")]
    assert!(resp.starts_with(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$"));
    let plain = b"*3\r\n$3\r\nSET\r\n$5\r\nplain\r\n$5\r\nhello\r\n";
    assert!(resp.windows(plain.len()).any(|w| w == plain));
    // The script, run line by line in a fresh sandbox, gives the same keyspace back.
    let mut fresh = Sandbox::new();
    for line in script.lines() {
        let reply = fresh.redis(line);
        assert!(!reply.starts_with("(error)"), "{line}: {reply}");
    }
    let mut original = populated();
    // CONFIG is the server's, not the keyspace's: the script leaves it alone.
    original.redis("CONFIG SET maxmemory-policy noeviction maxmemory 128mb");
    assert_eq!(original.observe_redis(), fresh.observe_redis());
    assert_eq!(original.observe_scripting(), fresh.observe_scripting());
}

#[test]
fn the_mongo_export_keeps_every_type() {
    let s = populated();
    let files = mongo_dump::mongoimport_files(s.mongo.store());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["blog.posts.json", "shop.log.json", "shop.orders.json"]
    );
    let orders = &files[2].1;
    let first = orders.lines().next().unwrap();
    for needle in [
        r#""_id":{"$numberInt":"1"}"#,
        r#""total":{"$numberDecimal":"10.50"}"#,
        r#""n":{"$numberLong":"7"}"#,
        r#""d":{"$numberDouble":"2.5"}"#,
        r#""at":{"$date":{"$numberLong":"1767323045000"}}"#,
        r#""bin":{"$binary":{"base64":"AQID","subType":"00"}}"#,
        r#""re":{"$regularExpression":{"pattern":"ab+c","options":"i"}}"#,
        r#""ts":{"$timestamp":{"t":5,"i":1}}"#,
        r#""mk":{"$minKey":1}"#,
    ] {
        assert!(first.contains(needle), "{needle} not in {first}");
    }
    // Every line is JSON, and each value reads back as the type it was.
    for line in orders.lines() {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(parsed.is_object());
    }
    let script = mongo_dump::mongosh_script(s.mongo.store());
    assert!(script.contains("db = db.getSiblingDB(\"shop\");"));
    assert!(script.contains(r#"db.createCollection("log", EJSON.deserialize({"capped":true,"size":{"$numberInt":"4096"},"max":{"$numberInt":"3"}}, { relaxed: false }));"#), "{script}");
    assert!(script.contains(r#"createIndex(EJSON.deserialize({"total":{"$numberInt":"-1"},"n":{"$numberInt":"1"}}, { relaxed: false }), EJSON.deserialize({"name":"by_total","unique":false}, { relaxed: false }))"#), "{script}");
    assert!(script.contains("\"validationLevel\":\"moderate\""));
}

#[cfg(feature = "scripting")]
#[test]
fn functions_and_cached_scripts_survive_a_reload() {
    let original = populated();
    let mut restored = Sandbox::load(&original.save()).unwrap();
    // Replaying the library ran its redis.log again; the student ran nothing, so the page
    // has nothing new to show, and the counters start from zero as after a restart.
    assert_eq!(restored.redis.scripting.take_log(), Vec::new());
    assert!(restored
        .redis("INFO persistence")
        .contains("rdb_changes_since_last_save:0\r\n"));
    let sha = redis::scripting::sha1_hex(b"return 'cached ' .. ARGV[1]");
    let cases = [
        ("FCALL_RO stock 1 plain".to_string(), "\"hello\"\n"),
        (format!("EVALSHA {sha} 0 again"), "\"cached again\"\n"),
        (
            "FUNCTION LOAD \"#!lua name=shop\\nredis.register_function('x', function() end)\""
                .to_string(),
            "(error) ERR Library 'shop' already exists\n",
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(restored.redis(&line), expected, "{line}");
    }
}

#[cfg(feature = "scripting")]
#[test]
fn the_export_loads_functions_before_the_keys() {
    let s = populated();
    let script = redis_cli_script(&s.redis, s.clock.now(0));
    let mut lines = script.lines();
    assert_eq!(
        lines.next(),
        Some("FUNCTION LOAD \"#!lua name=shop\\nredis.log(redis.LOG_NOTICE, 'loading shop')\\nredis.register_function{function_name='stock', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='a key\\\\'s value'}\"")
    );
    let loads: Vec<&str> = lines.take(2).collect();
    assert!(
        loads.contains(&"SCRIPT LOAD \"return 'cached ' .. ARGV[1]\""),
        "{loads:?}"
    );
    assert!(
        loads.contains(&"SCRIPT LOAD \"return redis.call('INCR', KEYS[1])\""),
        "{loads:?}"
    );
}

#[test]
fn a_snapshot_may_load_only_functions_and_scripts() {
    let refused = [
        vec![b"FUNCTION".to_vec(), b"FLUSH".to_vec()],
        vec![b"FUNCTION".to_vec(), b"RESTORE".to_vec(), b"x".to_vec()],
        vec![b"SCRIPT".to_vec(), b"FLUSH".to_vec()],
        vec![b"SCRIPT".to_vec()],
    ];
    for c in refused {
        let err = rebuild_redis(std::slice::from_ref(&c), &[], &[], T0, VERSION).unwrap_err();
        assert!(err.contains("a command it never writes"), "{err}");
    }
    let bad_code: Vec<Command> = vec![vec![
        b"function".to_vec(),
        b"load".to_vec(),
        b"#!lua name=x\nreturn".to_vec(),
    ]];
    let err = rebuild_redis(&bad_code, &[], &[], T0, VERSION).unwrap_err();
    assert!(
        err.starts_with("the snapshot cannot be replayed: FUNCTION answered ERR"),
        "{err}"
    );
}

/// A version 1 snapshot as it was written before libraries and scripts were saved: the same
/// layout, with a command list of keys only.
#[test]
fn version_1_snapshots_without_scripting_still_load() {
    let mut w = Writer::default();
    w.u64(0);
    w.u64(T0);
    w.u32(1000);
    w.u8(1);
    w.u64(T0);
    w.bytes(b"{}");
    w.len(0);
    w.len(1);
    w.len(3);
    for arg in [&b"SET"[..], b"k", b"v"] {
        w.bytes(arg);
    }
    w.len(0);
    let fresh = mongo::Shell::new();
    let (db, (process, counter)) = fresh.session_state();
    w.str(db);
    w.buf.extend_from_slice(&process);
    w.u32(counter);
    mongo_dump::write_store(&mut w, fresh.store());
    let mut s = Sandbox::load(&framed_as(1, &w.buf)).unwrap();
    assert_eq!(s.redis("GET k"), "\"v\"\n");
    assert_eq!(s.redis("FUNCTION LIST"), "(empty array)\n");
    assert_eq!(
        s.redis("SCRIPT EXISTS 0000000000000000000000000000000000000000"),
        "1) (integer) 0\n"
    );
}

#[test]
fn time_series_collections_round_trip_and_export() {
    let mut s = Sandbox::new();
    s.mongo(
        r#"db.createCollection("weather", {timeseries: {timeField: "ts", metaField: "sensor", granularity: "minutes"}, expireAfterSeconds: 3600})"#,
    );
    s.mongo(
        r#"db.weather.insertOne({temp: 12, sensor: "a", ts: ISODate("2026-01-01T00:00:00Z")})"#,
    );
    let before = s.observe();
    assert!(before.contains("type: 'timeseries'"), "{before}");
    let mut loaded = Sandbox::load(&s.save()).unwrap();
    assert_eq!(loaded.observe(), before);
    // Still refuses a measurement without its time, and still expires on the clock.
    assert!(loaded
        .mongo("db.weather.insertOne({temp: 1})")
        .contains("'ts' must be present"));
    let script = mongo_dump::mongosh_script(loaded.mongo.store());
    assert!(
        script.contains(r#"db.createCollection("weather", EJSON.deserialize({"timeseries":{"timeField":"ts","metaField":"sensor","granularity":"minutes"},"expireAfterSeconds":{"$numberLong":"3600"}}, { relaxed: false }));"#),
        "{script}"
    );
}

#[test]
fn parts_used_is_empty_for_plain_and_unreadable_snapshots() {
    let mut plain = Sandbox::new();
    plain.redis("SET k v");
    plain.redis("FUNCTION FLUSH");
    plain.redis("ZADD z 1 m");
    plain.mongo("db.c.insertOne({_id: 1})");
    assert_eq!(parts_used(&plain.save()), []);
    assert_eq!(parts_used(b"not a snapshot"), []);
    let mut truncated = populated().save();
    truncated.pop();
    assert_eq!(parts_used(&truncated), []);
}

fn uses_scripting(bytes: &[u8]) -> bool {
    parts_used(bytes).contains(&Part::Scripting)
}

#[cfg(feature = "scripting")]
#[test]
fn uses_scripting_finds_libraries_and_cached_scripts() {
    for line in [
        "FUNCTION LOAD \"#!lua name=lib\\nredis.register_function('f', function() return 1 end)\"",
        "SCRIPT LOAD \"return 1\"",
        "EVAL \"return 1\" 0",
    ] {
        let mut s = Sandbox::new();
        s.redis("SET k v");
        s.redis(line);
        assert!(uses_scripting(&s.save()), "{line}");
    }
    assert!(uses_scripting(&populated().save()));
}

#[test]
fn uses_mongo_says_whether_a_load_needs_the_mongo_engine() {
    // A build without the engine writes the fresh part; it must be a fresh shell's, to the byte.
    let mut redis_only = Sandbox::new();
    redis_only.redis("SET k v");
    redis_only.redis("JSON.SET j $ '{\"a\":1}'");
    let bytes = redis_only.save();
    assert!(bytes.ends_with(&fresh_mongo_part(true)));
    assert!(!uses_mongo(&bytes));
    // Snapshots saved before the search part existed end after the store.
    let old = fresh_mongo_part(false);
    let cut = bytes.len() - (fresh_mongo_part(true).len() - old.len());
    let mut older = bytes[..cut].to_vec();
    let body_len = (older.len() - HEADER_LEN) as u64;
    older[12..20].copy_from_slice(&body_len.to_le_bytes());
    let crc = crc32(&older[HEADER_LEN..]);
    older[20..24].copy_from_slice(&crc.to_le_bytes());
    assert!(load(&older, 0).is_ok());
    assert!(!uses_mongo(&older));

    for src in [
        "db.c.insertOne({_id: 1})",
        "use shop",
        "ObjectId()",
        "db.createCollection(\"empty\")",
    ] {
        let mut s = Sandbox::new();
        s.redis("SET k v");
        s.mongo(src);
        assert!(uses_mongo(&s.save()), "{src}");
    }
    assert!(uses_mongo(&populated().save()));
    // Unreadable snapshots load (fail) the same in any build.
    assert!(!uses_mongo(b"not a snapshot"));
    let mut truncated = populated().save();
    truncated.pop();
    assert!(!uses_mongo(&truncated));
}

#[test]
fn parts_used_names_search_json_and_streams() {
    let mut s = Sandbox::new();
    s.redis("HSET doc:1 t hello");
    s.redis("FT.CREATE gone ON HASH SCHEMA t TEXT");
    s.redis("FT.DROPINDEX gone");
    s.redis("JSON.SET gone $ 1");
    s.redis("DEL gone");
    // A geo set is saved as a sorted set: loading it needs no GEO* command.
    s.redis("GEOADD g 13.361389 38.115556 Palermo");
    assert_eq!(parts_used(&s.save()), []);
    s.redis("FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA t TEXT");
    assert_eq!(parts_used(&s.save()), [Part::Search]);
    s.redis("JSON.SET j $ '{\"a\":1}'");
    s.redis("XADD s 1-1 f v");
    let mut parts = parts_used(&s.save());
    parts.sort_by_key(|p| p.feature());
    assert_eq!(parts, [Part::Json, Part::Search, Part::Streams]);
    // An empty stream, and a stream's groups, are rebuilt with stream commands too.
    let mut s = Sandbox::new();
    s.redis("XGROUP CREATE e g $ MKSTREAM");
    assert_eq!(parts_used(&s.save()), [Part::Streams]);
}

/// The save as it was written before it went in steps: every command built first, then
/// encoded, then the store in one piece and the checksum over the body. The stepped walk
/// must give these very bytes.
fn legacy_save(s: &Sandbox, host_data: &[u8]) -> Vec<u8> {
    let now = s.clock.now(0);
    let mut w = Writer::default();
    let (base_host, base_virtual, speed, paused) = s.clock.parts();
    w.u64(base_host);
    w.u64(base_virtual);
    w.u32(speed);
    match paused {
        Some(t) => {
            w.u8(1);
            w.u64(t);
        }
        None => w.u8(0),
    }
    w.bytes(host_data);
    let changed = redis::config::changed(&s.redis.config);
    w.len(changed.len());
    for (name, value) in changed {
        w.str(name);
        w.str(&value);
    }
    let dump = redis_dump::dump(&s.redis, now, Times::Absolute);
    w.len(dump.commands.len());
    for c in &dump.commands {
        w.len(c.len());
        for arg in c {
            w.bytes(arg);
        }
    }
    w.len(dump.geo_keys.len());
    for (db, key) in &dump.geo_keys {
        w.len(*db);
        w.bytes(key);
    }
    let (db, (process, counter)) = s.mongo.session_state();
    w.str(db);
    w.buf.extend_from_slice(&process);
    w.u32(counter);
    mongo_dump::write_store(&mut w, s.mongo.store());
    mongo_dump::write_search_indexes(&mut w, s.mongo.store());
    framed(&w.buf)
}

/// A stepped save run to its end as the page runs it (`snapshotStep`): `budget` per step,
/// the file taken in parts of `part_bytes` as it is written and the header put into the
/// first part last; the file and the calls it took.
pub(super) fn stepped_save(s: &Sandbox, budget: usize, part_bytes: usize) -> (Vec<u8>, usize) {
    use background::{Background, Step};
    let mut save = Background::default();
    save.begin(&s.redis, &s.clock, b"{\"history\":[]}", 0);
    let mut file = Vec::new();
    let mut last = false;
    for calls in 1.. {
        match save.step(&s.redis, &s.mongo, budget, part_bytes) {
            Step::Pending => assert!(!last, "a step after the last part"),
            Step::Part(part) => {
                assert!(!last, "a part after the last");
                assert!(
                    part.len() <= part_bytes.max(HEADER_LEN),
                    "a part of {} bytes",
                    part.len()
                );
                last = part.len() < part_bytes.max(HEADER_LEN);
                file.extend_from_slice(&part);
            }
            Step::Header(header) => {
                assert!(last, "the header before the last part");
                assert_eq!(file[..HEADER_LEN], [0; HEADER_LEN]);
                file[..HEADER_LEN].copy_from_slice(&header);
                assert_eq!(
                    save.step(&s.redis, &s.mongo, budget, part_bytes),
                    Step::Changed,
                    "the save goes on after its header"
                );
                return (file, calls);
            }
            Step::Changed => panic!("the save was dropped"),
        }
        assert!(calls < 1_000_000, "the save does not end");
    }
    unreachable!()
}

/// Part sizes of the stepped saves the tests compare: the smallest (the header's), odd
/// ones, the page's and one larger than any file here (one part).
pub(super) const PART_SIZES: [usize; 5] = [1, 1000, 4099, 1 << 20, usize::MAX];

/// Every kind of data, spread so that small budgets stop inside databases, collections,
/// chunked collections, the copy of the commands and the parts handed over.
pub(super) fn populated_for_steps() -> Sandbox {
    let mut s = populated();
    for line in [
        "SELECT 5",
        "RPUSH long:list 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67",
        "SET gone soon PX 1",
        "SET stays here",
        "SELECT 0",
    ] {
        s.redis(line);
    }
    for i in 0..300 {
        s.redis(&format!("SET bulk:{i} {}", "x".repeat(i % 50)));
    }
    for src in [
        "use metrics",
        "db.createCollection('weather', { timeseries: { timeField: 'ts', metaField: 'sensor', granularity: 'minutes' } })",
        "db.weather.insertMany([{ ts: ISODate('2026-01-01T00:00:00Z'), sensor: { id: 1 }, t: 3.5 }, { ts: ISODate('2026-01-01T00:01:00Z'), sensor: { id: 2 }, t: 4 }])",
        "db.createCollection('empty')",
        "db.many.insertMany(Array.from({ length: 40 }, (_, i) => ({ _id: i, s: 'v' + i })))",
        "db.many.createIndex({ s: 1 }, { unique: true })",
        "use shop",
    ] {
        let out = s.mongo(src);
        assert!(!out.contains("Error"), "{src}: {out}");
    }
    s.clock = Clock::from_parts(0, T0 + 10, 1000, Some(T0 + 10));
    s
}

#[test]
fn a_stepped_save_has_the_bytes_of_the_one_call_save_at_any_budget() {
    let s = populated_for_steps();
    let whole = s.save();
    assert_eq!(whole, legacy_save(&s, b"{\"history\":[]}"));
    let mut steps_seen = Vec::new();
    for budget in [1, 3, 64, usize::MAX] {
        for part_bytes in PART_SIZES {
            let (bytes, steps) = stepped_save(&s, budget, part_bytes);
            assert!(
                bytes == whole,
                "budget {budget}, parts of {part_bytes}: the bytes differ"
            );
            if part_bytes == usize::MAX {
                steps_seen.push(steps);
            }
        }
    }
    // Small budgets really do stop partway: one key, document or 4 KiB per step.
    assert!(steps_seen[0] > 350, "{steps_seen:?}");
    assert!(steps_seen[0] > steps_seen[1] && steps_seen[1] > steps_seen[2]);
    assert!(Sandbox::load(&whole).is_ok());
}

#[test]
fn stepped_saves_of_random_datasets_equal_the_one_call_save() {
    let mut rng = Rng(0x5eed_0f57_e9a1);
    for round in 0..8 {
        let mut s = Sandbox::new();
        for _ in 0..120 {
            let key = format!("k{}", rng.below(30));
            let line = match rng.below(6) {
                0 => format!("SET {key} v{}", rng.below(100)),
                1 => format!("HSET {key} f{} x", rng.below(4)),
                2 => format!("RPUSH {key} {}", rng.below(100)),
                3 => format!("SELECT {}", rng.below(3)),
                4 => format!("PEXPIRE {key} {}", 1 + rng.below(50)),
                _ => format!("DEL {key}"),
            };
            s.redis(&line);
        }
        for i in 0..rng.below(30) {
            s.mongo(&format!("use d{}", rng.below(3)));
            s.mongo(&format!("db.c{}.insertOne({{ _id: {i} }})", rng.below(3)));
        }
        s.clock = Clock::from_parts(0, T0 + rng.below(60), 1000, Some(T0 + rng.below(60)));
        let whole = s.save();
        assert_eq!(whole, legacy_save(&s, b"{\"history\":[]}"), "round {round}");
        for (budget, part_bytes) in [(1, 1), (2, 100), (5, usize::MAX)] {
            assert!(
                stepped_save(&s, budget, part_bytes).0 == whole,
                "round {round} budget {budget} parts of {part_bytes}"
            );
        }
    }
}

/// Every differential script, run to its end, then saved and loaded: what a student can read
/// of the keyspace, the search indexes and the key count must be the same after the reload.
#[test]
fn every_differential_script_survives_a_reload() {
    let read = |s: &mut Sandbox| {
        let mut out = s.observe_redis();
        out.push_str(&s.redis("FT._LIST"));
        let names: Vec<String> = s.redis.search.keys().cloned().collect();
        for name in names {
            out.push_str(&s.redis(&format!("FT.INFO \"{name}\"")));
        }
        out.push_str(&s.redis("DBSIZE"));
        out
    };
    let mut differ = Vec::new();
    for (name, text) in super::background_tests::scripts("tests/fidelity/redis") {
        let mut original = Sandbox::new();
        for line in text.lines() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                original.redis(line);
            }
        }
        // A script may end inside MULTI or in another database.
        original.redis("DISCARD");
        original.redis("SELECT 0");
        let mut restored = Sandbox::load(&original.save()).unwrap();
        let (before, after) = (read(&mut original), read(&mut restored));
        if before != after {
            let lines: Vec<_> = before
                .lines()
                .zip(after.lines())
                .filter(|(a, b)| a != b)
                .take(3)
                .collect();
            differ.push(format!("{name}: {lines:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// What `tests/fixtures/snapshot-v1.bin` holds: the sandbox's version 1 writer saved this
/// (Redis lines, then mongosh statements) on the paused clock at `T0`.
const V1_FIXTURE_REDIS: [&str; 26] = [
    "SET plain hello",
    "SET bin \"a\\x00\\xffb\"",
    "SET session:1 data EX 3600",
    "HSET user:1 f1 v1 f2 v2",
    "HPEXPIRE user:1 60000 FIELDS 1 f1",
    "RPUSH queue a b c",
    "SADD tags red green",
    "ZADD board 10 ann 2.5 bob",
    "GEOADD stores 13.361389 38.115556 Palermo",
    "JSON.SET doc $ '{\"a\":1}'",
    "XADD clean 1-1 f v",
    "XADD clean 2-0 f w",
    "XGROUP CREATE clean g 0",
    "XREADGROUP GROUP g alice COUNT 1 STREAMS clean >",
    "XGROUP CREATECONSUMER clean g bob",
    "XADD messy 1-0 a 1",
    "XADD messy 2-0 a 2",
    "XADD messy 3-0 a 3",
    "XGROUP CREATE messy g 0",
    "XREADGROUP GROUP g carol STREAMS messy >",
    "XDEL messy 2-0",
    "FT.CREATE idx ON HASH PREFIX 1 user: SCHEMA f2 TEXT",
    "SELECT 2",
    "SET other yes",
    "SELECT 0",
    "CONFIG SET maxmemory-policy allkeys-lru",
];

const V1_FIXTURE_MONGO: [&str; 2] = ["use shop", "db.orders.insertOne({ _id: 1, total: 5 })"];

/// A snapshot saved before version 2 loads: everything reads as it did before the save,
/// except what version 1 never kept (the pending entry of the deleted message 2-0 of
/// `messy`); saved again, it is a version 2 file that reads the same.
#[test]
fn a_version_1_snapshot_still_loads() {
    let bytes = include_bytes!("../../tests/fixtures/snapshot-v1.bin");
    assert_eq!(bytes[8..12], 1u32.to_le_bytes());
    let mut old = Sandbox::load(bytes).unwrap();
    let mut live = Sandbox::new();
    for line in V1_FIXTURE_REDIS {
        live.redis(line);
    }
    for src in V1_FIXTURE_MONGO {
        live.mongo(src);
    }
    let pending = "XPENDING messy g - + 10";
    assert_eq!(
        live.redis(pending),
        "1) 1) \"1-0\"\n   2) \"carol\"\n   3) (integer) 0\n   4) (integer) 1\n\
         2) 1) \"2-0\"\n   2) \"carol\"\n   3) (integer) 0\n   4) (integer) 1\n\
         3) 1) \"3-0\"\n   2) \"carol\"\n   3) (integer) 0\n   4) (integer) 1\n"
    );
    assert_eq!(
        old.redis(pending),
        "1) 1) \"1-0\"\n   2) \"carol\"\n   3) (integer) 0\n   4) (integer) 1\n\
         2) 1) \"3-0\"\n   2) \"carol\"\n   3) (integer) 0\n   4) (integer) 1\n"
    );
    assert_eq!(
        old.redis("XRANGE messy - +"),
        live.redis("XRANGE messy - +")
    );
    old.redis("DEL messy");
    live.redis("DEL messy");
    let expected = live.observe();
    assert_eq!(old.observe(), expected);
    let again = old.save();
    assert_eq!(again[8..12], VERSION.to_le_bytes());
    assert_eq!(Sandbox::load(&again).unwrap().observe(), expected);
}

/// The state a snapshot keeps of every stream in database 0, compared as the engine holds it.
fn streams_of(s: &Sandbox) -> Vec<(Vec<u8>, redis::types::stream::Stream)> {
    let mut out: Vec<_> = s.redis.dbs[0]
        .iter()
        .filter_map(|(k, e)| match &e.value {
            redis::types::Value::Stream(st) => Some((k.clone(), (**st).clone())),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Random work on streams with the clock moving: appends (some too large for one node),
/// deletions, exact and approximate trims, groups read, acknowledged, claimed and
/// auto-claimed, consumers created and deleted. After a reload every stream is the very
/// same value (entries, nodes, counters, groups, pending entries, consumers and their times).
#[test]
fn streams_reload_exactly_whatever_was_done_to_them() {
    let mut rng = Rng(0x57ea_4a11_0d0c_1e55);
    let mut pending_of_deleted = 0;
    for round in 0..10 {
        let mut s = Sandbox::new();
        for step in 0..300u64 {
            let t = T0 + step * 7;
            s.clock = Clock::from_parts(0, t, 1000, Some(t));
            let key = format!("s{}", rng.below(2));
            let group = format!("g{}", rng.below(2));
            let consumer = format!("c{}", rng.below(3));
            let id = format!("{}-{}", T0 + 7 * rng.below(step + 1), rng.below(2));
            let line = match rng.below(12) {
                0..=3 => {
                    let value = if rng.below(10) == 0 {
                        "x".repeat(1500)
                    } else {
                        rng.below(1000).to_string()
                    };
                    let field = rng.below(3);
                    format!("XADD {key} * f{field} {value}")
                }
                4 => format!("XDEL {key} {id}"),
                5 => match rng.below(3) {
                    0 => format!("XTRIM {key} MAXLEN ~ {}", rng.below(120)),
                    1 => format!("XTRIM {key} MAXLEN {}", rng.below(120)),
                    _ => format!("XTRIM {key} MINID {id}"),
                },
                6 => format!("XGROUP CREATE {key} {group} 0 MKSTREAM"),
                7 | 8 => format!(
                    "XREADGROUP GROUP {group} {consumer} COUNT {} STREAMS {key} >",
                    1 + rng.below(5)
                ),
                9 => format!("XACK {key} {group} {id}"),
                10 => match rng.below(3) {
                    0 => format!("XCLAIM {key} {group} {consumer} 0 {id}"),
                    1 => format!("XAUTOCLAIM {key} {group} {consumer} 0 0-0 COUNT 3"),
                    _ => format!("XGROUP CREATECONSUMER {key} {group} {consumer}"),
                },
                _ => format!("XGROUP DELCONSUMER {key} {group} {consumer}"),
            };
            s.redis(&line);
        }
        let t = T0 + 5_000;
        s.clock = Clock::from_parts(0, t, 1000, Some(t));
        let before = streams_of(&s);
        assert!(!before.is_empty(), "round {round}");
        for (_, st) in &before {
            for g in st.groups.values() {
                pending_of_deleted += g.pel.keys().filter(|id| st.get(**id).is_none()).count();
            }
        }
        let mut restored =
            Sandbox::load(&s.save()).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(streams_of(&restored) == before, "round {round}");
        assert_eq!(restored.observe_redis(), s.observe_redis(), "round {round}");
    }
    // The case the AOF rewrite's commands lose did come up.
    assert!(pending_of_deleted > 0);
}

/// A stream whose consumers were seen at other times than the save, with a pending entry of
/// a deleted message and nodes holding deleted entries' slots.
fn stream_with_history() -> Sandbox {
    let mut s = Sandbox::new();
    for (at, line) in [
        (0, "XADD s 1-0 a 1"),
        (0, "XADD s 2-0 a 2"),
        (0, "XADD s 3-0 a 3"),
        (0, "XGROUP CREATE s g 0"),
        (10, "XREADGROUP GROUP g alice COUNT 2 STREAMS s >"),
        (20, "XGROUP CREATECONSUMER s g bob"),
        (30, "XDEL s 2-0"),
        (40, "SET plain v"),
    ] {
        s.clock = Clock::from_parts(0, T0 + at, 1000, Some(T0 + at));
        let reply = s.redis(line);
        assert!(!reply.starts_with("(error)"), "{line}: {reply}");
    }
    s
}

#[test]
fn the_stream_state_record_is_no_command() {
    let mut s = stream_with_history();
    let bytes = s.save();
    let record = stream_state::RECORD;
    assert!(bytes.windows(record.len()).any(|w| w == record));
    // The console does not know it, nor COMMAND, nor the export to a real server.
    assert_eq!(
        s.redis("\"#stream-state\" s x"),
        "(error) ERR unknown command '#stream-state', with args beginning with: 's' 'x' \n"
    );
    assert_eq!(s.redis("COMMAND INFO #stream-state"), "1) (nil)\n");
    let now = s.clock.now(0);
    let script = redis_cli_script(&s.redis, now);
    assert!(!script.contains("stream-state"), "{script}");
    assert!(script.contains("XCLAIM s g alice 0 2-0 IDLE 30 RETRYCOUNT 1 JUSTID FORCE\n"));
    let resp = redis_resp(&s.redis, now);
    assert!(!resp.windows(record.len()).any(|w| w == record));
}

/// The record rebuilt by hand into a command list, as a crafted file could hold it.
fn replay_with_record(version: u32, edit: impl Fn(&mut Vec<Command>)) -> Result<(), String> {
    let s = stream_with_history();
    let mut commands = redis_dump::dump(&s.redis, s.clock.now(0), Times::Absolute).commands;
    edit(&mut commands);
    rebuild_redis(&commands, &[], &[], s.clock.now(0), version).map(|_| ())
}

fn the_record(commands: &mut [Command]) -> &mut Command {
    commands
        .iter_mut()
        .find(|c| c.first().is_some_and(|n| n == stream_state::RECORD))
        .expect("a stream state record")
}

#[test]
fn a_damaged_stream_state_record_is_refused_with_a_reason() {
    assert_eq!(replay_with_record(VERSION, |_| {}), Ok(()));
    let err =
        |version, edit: &dyn Fn(&mut Vec<Command>)| replay_with_record(version, edit).unwrap_err();
    // Version 1 files never held it.
    assert_eq!(
        err(1, &|_| {}),
        "the snapshot holds a command it never writes (\"#STREAM-STATE\")"
    );
    assert_eq!(
        err(VERSION, &|c| the_record(c).truncate(2)),
        "the snapshot holds a malformed stream state"
    );
    assert_eq!(
        err(VERSION, &|c| the_record(c)[1] = b"plain".to_vec()),
        "the snapshot holds a stream state for \"plain\", which is not a stream"
    );
    let damaged = |edit: &dyn Fn(&mut Vec<u8>)| err(VERSION, &|c| edit(&mut the_record(c)[2]));
    let prefix = "the snapshot's stream state for \"s\" is malformed";
    for (why, edit) in [
        (
            "the snapshot is truncated",
            &(|b: &mut Vec<u8>| b.truncate(b.len() - 1)) as &dyn Fn(&mut Vec<u8>),
        ),
        ("unexpected bytes after its end", &|b: &mut Vec<u8>| {
            b.push(0)
        }),
        // The one node said to start at 4-0, after the entries.
        ("entry 1-0 lies before every node", &|b: &mut Vec<u8>| {
            b[1] = 4
        }),
        // Its live count raised from 2 to 3.
        ("node 1-0 does not match the entries", &|b: &mut Vec<u8>| {
            b[3] = 3
        }),
        // The group's name changed.
        ("group \"h\" was not created", &|b: &mut Vec<u8>| {
            let at = b
                .windows(2)
                .position(|w| w == b"\x01g")
                .expect("group name");
            b[at + 1] = b'h';
        }),
        // The pending entries name a consumer that is not there.
        (
            "pending entry 2-0 names an unknown consumer",
            &|b: &mut Vec<u8>| {
                let at = b
                    .windows(6)
                    .rposition(|w| w == b"\x05alice")
                    .expect("owner");
                b[at + 1] = b'A';
            },
        ),
    ] {
        assert_eq!(damaged(edit), format!("{prefix} ({why})"));
    }
}

/// One key of every type, each far larger than a step's budget: a string of megabytes; a
/// list (with a TTL of its own), sets (intset-born and not), a sorted set, a geo set, a hash
/// with field TTLs (some already due, 200 sharing one time: more than a command holds), a
/// stream, a JSON document, a hash in another database whose first fields are all due, and
/// a large collection.
fn huge_keys(items: usize) -> Sandbox {
    let mut s = Sandbox::new();
    let words = |from: usize, to: usize, f: &dyn Fn(usize) -> String| {
        (from..to).map(f).collect::<Vec<_>>().join(" ")
    };
    let run = |s: &mut Sandbox, line: String| {
        let out = s.redis(&line);
        assert!(
            !out.starts_with("(error)"),
            "{}: {out}",
            &line[..40.min(line.len())]
        );
    };
    run(&mut s, format!("SET big:string {}", "s".repeat(3 << 20)));
    for i in (0..items).step_by(500) {
        let to = (i + 500).min(items);
        run(
            &mut s,
            format!("RPUSH big:list {}", words(i, to, &|j| format!("e{j}"))),
        );
        run(
            &mut s,
            format!("SADD big:set {}", words(i, to, &|j| format!("m{j}"))),
        );
        run(
            &mut s,
            format!("SADD big:ints {}", words(i, to, &|j| j.to_string())),
        );
        run(
            &mut s,
            format!(
                "ZADD big:zset {}",
                words(i, to, &|j| format!("{} z{j}", j % 97))
            ),
        );
        run(
            &mut s,
            format!(
                "GEOADD big:geo {}",
                words(i, to, &|j| format!("13.{j} 52.{j} p{j}"))
            ),
        );
        run(
            &mut s,
            format!("HSET big:hash {}", words(i, to, &|j| format!("f{j} v{j}"))),
        );
    }
    run(
        &mut s,
        format!(
            "HPEXPIREAT big:hash {} FIELDS 200 {}",
            T0 + 60_000,
            words(0, 200, &|j| format!("f{j}"))
        ),
    );
    for j in 200..300 {
        run(
            &mut s,
            format!(
                "HPEXPIREAT big:hash {} FIELDS 1 f{j}",
                T0 + 1000 + j as u64 % 7
            ),
        );
    }
    run(
        &mut s,
        format!(
            "HPEXPIREAT big:hash {} FIELDS 300 {}",
            T0 + 5,
            words(1000, 1300, &|j| format!("f{j}"))
        ),
    );
    run(&mut s, format!("PEXPIREAT big:list {}", T0 + 90_000));
    for j in 0..60 {
        run(&mut s, format!("XADD big:stream {j}-1 f {j}"));
    }
    // A stream long enough that every budget stops inside its entries, its groups and its
    // record: pending entries in two groups, one of a deleted message, consumers that hold
    // nothing and consumers seen at other times.
    for j in 1..=2 * items {
        run(&mut s, format!("XADD big:events {j}-0 n {j} kind e"));
    }
    for line in [
        "XGROUP CREATE big:events readers 0".to_string(),
        "XGROUP CREATE big:events audit 0 ENTRIESREAD 0".into(),
        format!("XREADGROUP GROUP readers alice COUNT {items} STREAMS big:events >"),
        "XREADGROUP GROUP readers bob COUNT 500 STREAMS big:events >".into(),
        "XGROUP CREATECONSUMER big:events readers carol".into(),
        "XDEL big:events 7-0".into(),
        "XACK big:events readers 8-0 9-0".into(),
        "XREADGROUP GROUP audit dora COUNT 40 STREAMS big:events >".into(),
    ] {
        run(&mut s, line);
    }
    s.clock = Clock::from_parts(0, T0 + 3, 1000, Some(T0 + 3));
    run(&mut s, "XCLAIM big:events readers erin 0 10-0 11-0".into());
    run(
        &mut s,
        format!(
            "JSON.SET big:json $ [{}]",
            (0..items)
                .map(|j| j.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
    );
    run(&mut s, "SELECT 3".into());
    run(
        &mut s,
        format!(
            "HSET late:hash {}",
            words(0, 1000, &|j| format!("f{j} v{j}"))
        ),
    );
    run(
        &mut s,
        format!(
            "HPEXPIREAT late:hash {} FIELDS 500 {}",
            T0 + 5,
            words(0, 500, &|j| format!("f{j}"))
        ),
    );
    run(&mut s, "SELECT 0".into());
    let out = s.mongo(&format!("db.big.insertMany(Array.from({{ length: {items} }}, (_, i) => ({{ _id: i, s: 'v' + i }})))"));
    assert!(!out.contains("Error"), "{out}");
    // The fields due at T0 + 5 are due now but still held (nothing ticked).
    s.clock = Clock::from_parts(0, T0 + 10, 1000, Some(T0 + 10));
    s
}

#[test]
fn huge_keys_save_in_steps_with_the_bytes_of_a_one_call_save() {
    let mut s = huge_keys(3000);
    let whole = s.save();
    for budget in [1, 37, 1000, usize::MAX] {
        for part_bytes in [4099, usize::MAX] {
            assert!(
                stepped_save(&s, budget, part_bytes).0 == whole,
                "budget {budget}, parts of {part_bytes}: the bytes differ"
            );
        }
    }
    // Lines sorted: the due fields' removal reorders a big hash's table (as the real
    // server's), and the loaded one never held them.
    let lines = |text: String| {
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| l.split_once(") ").map_or(l, |(_, v)| v).to_string())
            .collect();
        lines.sort();
        lines.join("\n")
    };
    let mut loaded = Sandbox::load(&whole).unwrap();
    // Every field TTL (the observation reads one field's).
    let fields: Vec<String> = (0..300).map(|j| format!("f{j}")).collect();
    let ttls = format!("HPEXPIRETIME big:hash FIELDS 300 {}", fields.join(" "));
    let expected = s.redis(&ttls);
    assert!(expected.contains(&(T0 + 60_000).to_string()), "{expected}");
    assert_eq!(loaded.redis(&ttls), expected);
    let (before, after) = (lines(s.observe()), lines(loaded.observe()));
    let differ: Vec<_> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .take(3)
        .map(|(a, b)| (&a[..a.len().min(200)], &b[..b.len().min(200)]))
        .collect();
    assert!(
        differ.is_empty() && before.len() == after.len(),
        "{differ:?}"
    );
}

/// The dump of `s` a budget at a time: the commands, checked to equal the one-call dump,
/// and how many batches wrote them; `check` sees every batch.
fn dump_in_batches(
    s: &Sandbox,
    times: redis_dump::Times,
    budget: usize,
    mut check: impl FnMut(usize, &redis_dump::Dump),
) -> usize {
    let now = s.clock.now(0);
    let mut cursor = redis_dump::Cursor::default();
    let mut all = Vec::new();
    for batches in 1.. {
        let mut batch = redis_dump::Dump::default();
        let done = cursor.next(&s.redis, now, times, budget, &mut batch);
        check(batches, &batch);
        all.append(&mut batch.commands);
        if done {
            assert!(
                all == redis_dump::dump(&s.redis, now, times).commands,
                "{times:?}"
            );
            return batches;
        }
    }
    unreachable!()
}

fn arguments(batch: &redis_dump::Dump) -> usize {
    batch.commands.iter().map(Vec::len).sum()
}

#[test]
fn a_dump_batch_holds_about_its_budget_of_items_however_big_the_key() {
    let s = huge_keys(3000);
    for times in [redis_dump::Times::Absolute, redis_dump::Times::Relative] {
        let budget = 100;
        let batches = dump_in_batches(&s, times, budget, |n, batch| {
            // Items of two arguments, a batch ending after a whole command, and each
            // command's own head (the stream's entries and the string are one command each).
            let args = arguments(batch);
            let bound = 2 * (budget + 2 * redis_dump::ITEMS_PER_COMMAND) + 8 * batch.commands.len();
            assert!(args <= bound, "{times:?} batch {n}: {args} arguments");
        });
        assert!(
            batches > 6 * 3000 / (budget + 2 * redis_dump::ITEMS_PER_COMMAND),
            "{batches}"
        );
    }
}

#[test]
fn a_stream_dump_resumes_inside_its_entries_and_its_record() {
    let mut s = Sandbox::new();
    for j in 1..=3000 {
        s.redis(&format!("XADD s {j}-0 n {j}"));
    }
    for line in [
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g c COUNT 3000 STREAMS s >",
        "XDEL s 5-0",
    ] {
        assert!(!s.redis(line).starts_with("(error)"), "{line}");
    }
    let budget = 50;
    let batches = dump_in_batches(&s, redis_dump::Times::Absolute, budget, |n, batch| {
        let args = arguments(batch);
        assert!(args <= 8 * budget, "batch {n}: {args} arguments");
    });
    // 3000 entries, then a record of 30 nodes and 3000 pending entries, 50 at a time.
    assert!(batches > 2 * 3000 / budget, "{batches} batches");
}
