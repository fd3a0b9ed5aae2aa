//! The server's configuration: one table of the parameters the sandbox implements (name,
//! kind, default, how a value is checked and stored), read by CONFIG GET, CONFIG SET and
//! INFO. Names, bounds and error texts are the real server's (`config.c`).

use super::object::help_reply;
use super::reply::Reply;
use super::util::{glob_match, parse_i64};
use super::Server;

/// What the sandbox starts with: real Redis has no limit (`maxmemory 0`), but a browser tab
/// must not grow without bound, so the sandbox starts at 128 MB of modelled memory (about
/// two million small keys, or a million-member sorted set beside a million keys, which
/// take about four times as much of the tab's memory). A student may raise it, or set 0 for no limit, as on a real server.
pub const DEFAULT_MAXMEMORY: u64 = 128 * 1024 * 1024;

/// `maxmemory-policy`: which keys may go, and how the victim is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    NoEviction,
}

impl Policy {
    /// In the order the real server lists them in its error.
    pub const ALL: [Policy; 8] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
        Policy::NoEviction,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
            Policy::AllkeysLru => "allkeys-lru",
            Policy::AllkeysLfu => "allkeys-lfu",
            Policy::AllkeysRandom => "allkeys-random",
            Policy::NoEviction => "noeviction",
        }
    }

    /// Whether keys carry an LFU counter instead of a last-access time.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    /// Whether only keys with a TTL may be evicted.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub maxmemory: u64,
    pub policy: Policy,
    pub samples: i64,
    pub eviction_tenacity: i64,
    pub lfu_log_factor: i64,
    /// Minutes of idleness that take one off a key's LFU counter.
    pub lfu_decay_time: i64,
    /// Microseconds; -1 logs nothing, 0 logs every command.
    pub slowlog_slower_than: i64,
    pub slowlog_max_len: i64,
    pub hz: i64,
    /// `notify-keyspace-events` as `notify`'s flag bits.
    pub notify_keyspace_events: i64,
    /// Milliseconds a script runs before other clients get BUSY (`lua-time-limit` too).
    pub busy_reply_threshold: i64,
}

impl Default for Config {
    fn default() -> Self {
        let mut config = Config {
            maxmemory: 0,
            policy: Policy::NoEviction,
            samples: 0,
            eviction_tenacity: 0,
            lfu_log_factor: 0,
            lfu_decay_time: 0,
            slowlog_slower_than: 0,
            slowlog_max_len: 0,
            hz: 0,
            notify_keyspace_events: 0,
            busy_reply_threshold: 0,
        };
        for param in PARAMS {
            if let Ok(value) = param.parse(param.default.as_bytes()) {
                (param.store)(&mut config, value);
            }
        }
        config
    }
}

/// How a parameter's value is written and checked.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Bytes, with the `k`/`kb`/`m`/`mb`/`g`/`gb` units of `memtoull`.
    Memory,
    /// An integer that must lie in `min..=max`.
    Integer { min: i64, max: i64 },
    /// An integer silently brought into `min..=max` (as `hz`).
    Clamped { min: i64, max: i64 },
    /// One of the policy names, case-insensitive.
    Policy,
    /// Fixed at start-up; CONFIG GET shows it, CONFIG SET refuses it.
    Immutable,
    /// Keyspace-event class letters (`KEA`, `Ex`, …).
    NotifyFlags,
}

/// A parsed value, ready to store.
#[derive(Debug, Clone, Copy)]
enum Setting {
    Number(i64),
    Policy(Policy),
}

/// One row of the table.
struct Param {
    name: &'static str,
    kind: Kind,
    default: &'static str,
    show: fn(&Config) -> String,
    store: fn(&mut Config, Setting),
}

fn number(value: Setting) -> i64 {
    match value {
        Setting::Number(n) => n,
        Setting::Policy(_) => 0,
    }
}

const PARAMS: &[Param] = &[
    Param {
        name: "busy-reply-threshold",
        kind: Kind::Integer {
            min: 0,
            max: i64::MAX,
        },
        default: "5000",
        show: |c| c.busy_reply_threshold.to_string(),
        store: |c, v| c.busy_reply_threshold = number(v),
    },
    Param {
        name: "databases",
        kind: Kind::Immutable,
        default: "16",
        show: |_| super::DATABASES.to_string(),
        store: |_, _| {},
    },
    Param {
        name: "hz",
        kind: Kind::Clamped { min: 1, max: 500 },
        default: "10",
        show: |c| c.hz.to_string(),
        store: |c, v| c.hz = number(v),
    },
    Param {
        name: "lfu-decay-time",
        kind: Kind::Integer {
            min: 0,
            max: i32::MAX as i64,
        },
        default: "1",
        show: |c| c.lfu_decay_time.to_string(),
        store: |c, v| c.lfu_decay_time = number(v),
    },
    Param {
        name: "lfu-log-factor",
        kind: Kind::Integer {
            min: 0,
            max: i32::MAX as i64,
        },
        default: "10",
        show: |c| c.lfu_log_factor.to_string(),
        store: |c, v| c.lfu_log_factor = number(v),
    },
    Param {
        name: "maxmemory",
        kind: Kind::Memory,
        default: "134217728",
        show: |c| c.maxmemory.to_string(),
        store: |c, v| c.maxmemory = number(v).max(0) as u64,
    },
    Param {
        name: "maxmemory-eviction-tenacity",
        kind: Kind::Integer { min: 0, max: 100 },
        default: "10",
        show: |c| c.eviction_tenacity.to_string(),
        store: |c, v| c.eviction_tenacity = number(v),
    },
    Param {
        name: "maxmemory-policy",
        kind: Kind::Policy,
        default: "noeviction",
        show: |c| c.policy.name().to_string(),
        store: |c, v| {
            if let Setting::Policy(p) = v {
                c.policy = p;
            }
        },
    },
    Param {
        name: "maxmemory-samples",
        kind: Kind::Integer { min: 1, max: 64 },
        default: "5",
        show: |c| c.samples.to_string(),
        store: |c, v| c.samples = number(v),
    },
    Param {
        name: "notify-keyspace-events",
        kind: Kind::NotifyFlags,
        default: "",
        show: |c| {
            super::notify::flags_to_string(u32::try_from(c.notify_keyspace_events).unwrap_or(0))
        },
        store: |c, v| c.notify_keyspace_events = number(v),
    },
    Param {
        name: "slowlog-log-slower-than",
        kind: Kind::Integer {
            min: -1,
            max: i64::MAX,
        },
        default: "10000",
        show: |c| c.slowlog_slower_than.to_string(),
        store: |c, v| c.slowlog_slower_than = number(v),
    },
    Param {
        name: "slowlog-max-len",
        kind: Kind::Integer {
            min: 0,
            max: i64::MAX,
        },
        default: "128",
        show: |c| c.slowlog_max_len.to_string(),
        store: |c, v| c.slowlog_max_len = number(v),
    },
];

/// The parameters whose value differs from the default, with their CONFIG GET text: what a
/// snapshot restores with CONFIG SET.
pub fn changed(config: &Config) -> Vec<(&'static str, String)> {
    let default = Config::default();
    PARAMS
        .iter()
        .filter(|p| !matches!(p.kind, Kind::Immutable))
        .filter(|p| (p.show)(config) != (p.show)(&default))
        .map(|p| (p.name, (p.show)(config)))
        .collect()
}

/// Port of `memtoull`: a byte count with an optional unit; no sign, no fraction.
pub fn parse_memory(text: &[u8]) -> Option<u64> {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let unit = text[digits..].to_ascii_lowercase();
    let multiplier: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1_000,
        b"kb" => 1_024,
        b"m" => 1_000_000,
        b"mb" => 1_024 * 1_024,
        b"g" => 1_000_000_000,
        b"gb" => 1_024 * 1_024 * 1_024,
        _ => return None,
    };
    let value: u64 = std::str::from_utf8(&text[..digits]).ok()?.parse().ok()?;
    value.checked_mul(multiplier)
}

impl Param {
    fn parse(&self, text: &[u8]) -> Result<Setting, String> {
        match self.kind {
            Kind::Memory => parse_memory(text)
                .and_then(|n| i64::try_from(n).ok())
                .map(Setting::Number)
                .ok_or_else(|| "argument must be a memory value".to_string()),
            Kind::Integer { min, max } => {
                let n = parse_i64(text)
                    .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
                if n < min || n > max {
                    return Err(format!(
                        "argument must be between {min} and {max} inclusive"
                    ));
                }
                Ok(Setting::Number(n))
            }
            Kind::Clamped { min, max } => parse_i64(text)
                .map(|n| Setting::Number(n.clamp(min, max)))
                .ok_or_else(|| "argument couldn't be parsed into an integer".to_string()),
            Kind::Policy => Policy::ALL
                .into_iter()
                .find(|p| p.name().as_bytes().eq_ignore_ascii_case(text))
                .map(Setting::Policy)
                .ok_or_else(|| {
                    let names: Vec<_> = Policy::ALL.iter().map(|p| p.name()).collect();
                    format!(
                        "argument(s) must be one of the following: {}",
                        names.join(", ")
                    )
                }),
            Kind::Immutable => Err("can't set immutable config".to_string()),
            Kind::NotifyFlags => super::notify::parse_flags(text)
                .map(|flags| Setting::Number(i64::from(flags)))
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string()),
        }
    }
}

fn find(name: &[u8]) -> Option<&'static Param> {
    PARAMS
        .iter()
        .find(|p| p.name.as_bytes().eq_ignore_ascii_case(name))
}

/// CONFIG (no subcommand)
pub fn container(_server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    super::commands::wrong_arity_for(argv)
}

/// CONFIG GET parameter [parameter ...]: every parameter some pattern matches, by name. A
/// pattern without wildcards is echoed as typed, as the real server does.
pub fn get(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let mut out = Vec::new();
    for param in PARAMS {
        let matching = argv[2..]
            .iter()
            .find(|pattern| glob_match(pattern, param.name.as_bytes(), true));
        let Some(pattern) = matching else {
            continue;
        };
        let literal = !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        let name = if literal {
            Reply::Bulk(pattern.clone())
        } else {
            Reply::bulk(param.name)
        };
        out.push(name);
        out.push(Reply::bulk((param.show)(&server.config)));
    }
    Reply::Array(out)
}

/// CONFIG SET parameter value [parameter value ...]: all or nothing, as in Redis 7.
pub fn set(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let pairs = &argv[2..];
    if !pairs.len().is_multiple_of(2) {
        return super::reply::error(super::reply::SYNTAX_ERROR);
    }
    let mut chosen: Vec<(&Param, &[u8])> = Vec::new();
    for pair in pairs.chunks_exact(2) {
        let Some(param) = find(&pair[0]) else {
            return Reply::err(format!(
                "Unknown option or number of arguments for CONFIG SET - '{}'",
                String::from_utf8_lossy(&pair[0])
            ));
        };
        if chosen.iter().any(|(p, _)| p.name == param.name) {
            return set_failed(param.name, "duplicate parameter");
        }
        chosen.push((param, &pair[1]));
    }
    let mut parsed = Vec::with_capacity(chosen.len());
    for (param, text) in chosen {
        match param.parse(text) {
            Ok(value) => parsed.push((param, value)),
            Err(why) => return set_failed(param.name, &why),
        }
    }
    let was_lfu = server.config.policy.is_lfu();
    for (param, value) in parsed {
        (param.store)(&mut server.config, value);
    }
    server.apply_config(was_lfu);
    Reply::ok()
}

fn set_failed(name: &str, why: &str) -> Reply {
    Reply::err(format!(
        "CONFIG SET failed (possibly related to argument '{name}') - {why}"
    ))
}

/// CONFIG RESETSTAT
pub fn resetstat(server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    server.reset_stats();
    Reply::ok()
}

/// CONFIG REWRITE: the sandbox, like a server started without one, has no config file.
pub fn rewrite(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    Reply::err("The server is running without a config file")
}

/// CONFIG HELP
pub fn help(_server: &mut Server, _argv: &[Vec<u8>]) -> Reply {
    help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_values_take_the_real_units() {
        let cases: [(&str, Option<u64>); 10] = [
            ("0", Some(0)),
            ("100", Some(100)),
            ("1k", Some(1_000)),
            ("1KB", Some(1_024)),
            ("2mb", Some(2 * 1_048_576)),
            ("1gb", Some(1_073_741_824)),
            ("1.5mb", None),
            ("-1", None),
            ("mb", None),
            ("1tb", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_memory(text.as_bytes()), expected, "{text}");
        }
    }

    #[test]
    fn defaults_come_from_the_table() {
        let config = Config::default();
        assert_eq!(config.maxmemory, DEFAULT_MAXMEMORY);
        assert_eq!(config.policy, Policy::NoEviction);
        assert_eq!(
            (config.samples, config.lfu_log_factor, config.lfu_decay_time),
            (5, 10, 1)
        );
        assert_eq!(
            (config.slowlog_slower_than, config.slowlog_max_len),
            (10_000, 128)
        );
        assert_eq!(config.hz, 10);
    }
}
