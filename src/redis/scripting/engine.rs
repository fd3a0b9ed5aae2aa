//! The part of scripting that runs Lua (the `scripting` feature): the host a script's
//! `redis.call` reaches, the conversions between Lua values and replies, the `redis` library,
//! and the commands that compile or run code (EVAL, EVALSHA, SCRIPT LOAD, FUNCTION LOAD /
//! RESTORE, FCALL). Without the feature the page's first module leaves them out, and the
//! commands answer that the engine is not loaded (see `absent.rs`).

use super::vm::{Args, Error, Host, Rets, Table, TableRef, Value, Vm, VmState};
use super::*;
use crate::redis::reply::{self, Reply};
use crate::redis::util::parse_i64;
use crate::redis::{clients, commands, pubsub};

const RDB_OPCODE_FUNCTION_PRE_GA: u8 = 246;

const SCRIPT_FLAGS: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

/// An EVAL script's `#!lua flags=...` line: whether it declared no-writes.
fn eval_shebang(body: &[u8]) -> Result<bool, Reply> {
    if !body.starts_with(b"#!") {
        return Ok(false);
    }
    let line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(&line[2..]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(Reply::err(format!(
            "Could not find scripting engine '{engine}'"
        )));
    }
    let mut no_writes = false;
    for part in parts {
        let Some(flags) = part.strip_prefix("flags=") else {
            return Err(Reply::err(format!("Unknown lua shebang option: {part}")));
        };
        for flag in flags.split(',').filter(|f| !f.is_empty()) {
            if !SCRIPT_FLAGS.contains(&flag) {
                return Err(Reply::err(format!(
                    "Unexpected flag in script shebang: {flag}"
                )));
            }
            no_writes |= flag == "no-writes";
        }
    }
    Ok(no_writes)
}

/// A script's KEYS and ARGV, as slices of the command line.
type KeysAndArgs<'a> = (&'a [Vec<u8>], &'a [Vec<u8>]);

/// Splits `numkeys key... arg...` (argv from index 2) into keys and args.
fn keys_and_args(argv: &[Vec<u8>]) -> Result<KeysAndArgs<'_>, Reply> {
    let Some(n) = argv.get(2).and_then(|n| parse_i64(n)) else {
        return Err(reply::error(reply::NOT_INTEGER));
    };
    if n < 0 {
        return Err(Reply::err("Number of keys can't be negative"));
    }
    let rest = argv.get(3..).unwrap_or_default();
    if n as u64 > rest.len() as u64 {
        return Err(Reply::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    Ok(rest.split_at(n as usize))
}

/// MONITOR shows EVAL and FCALL before the commands their scripts run, and even when they
/// fail (NOSCRIPT, a bad key count), as the real server does.
fn feed_monitors(server: &mut Server, argv: &[Vec<u8>]) {
    if server.pubsub.has_monitors() {
        pubsub::feed_monitors(server, argv);
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A library's `#!lua name=<name>` line: the library's name.
fn library_name(code: &[u8]) -> Result<String, Reply> {
    if !code.starts_with(b"#!") {
        return Err(Reply::err("Missing library metadata"));
    }
    let line = code.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(&line[2..]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(Reply::err(format!("Engine '{engine}' not found")));
    }
    let mut name = None;
    for part in parts {
        match part.strip_prefix("name=") {
            Some(n) => name = Some(n.to_string()),
            None => return Err(Reply::err(format!("Invalid metadata value given: {part}"))),
        }
    }
    let Some(name) = name else {
        return Err(Reply::err("Invalid library metadata"));
    };
    if !valid_name(&name) {
        return Err(Reply::err(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ));
    }
    Ok(name)
}

/// Most `redis.log` lines kept for the page.
const MAX_LOG: usize = 1_000;

pub(super) const EVAL_CHUNK: &str = "user_script";

pub(super) const FUNCTION_CHUNK: &str = "user_function";

/// Statements and calls a script may run before the sandbox stops it: 10 s of virtual time
/// (`busy::STEPS_PER_MS`). A script still running when `busy-reply-threshold` passes makes
/// the server busy (see `busy`); one that runs read-only past the budget is taken to run
/// for ever, until SCRIPT KILL.
pub const STEP_BUDGET: u64 = 5_000_000;

/// Where a script's `redis.call`s go: the server, as the calling client, with the script's
/// permissions.
pub(super) struct ScriptHost<'s> {
    server: &'s mut Server,
    read_only: bool,
    resp: i64,
    /// Steps after which the script counts as busy (`u64::MAX`: it never does). A script
    /// that has not written by then is stopped before its first write, with nothing done:
    /// until that write it may still be killed (see `Busy`).
    busy_after: u64,
    /// Steps into the run of its first write command.
    first_write: Option<u64>,
    /// Whether it was stopped before a write.
    paused: bool,
}

impl<'s> ScriptHost<'s> {
    pub(super) fn new(server: &'s mut Server, read_only: bool, busy_after: u64) -> ScriptHost<'s> {
        ScriptHost {
            server,
            read_only,
            resp: 2,
            busy_after,
            first_write: None,
            paused: false,
        }
    }
}

impl Host for ScriptHost<'_> {
    fn call(&mut self, argv: Vec<Vec<u8>>, steps: u64) -> Option<Reply> {
        let spec = match commands::resolve(&argv) {
            Ok(spec) => spec,
            Err(refused) => {
                return Some(match argv.first().and_then(|n| commands::lookup(n)) {
                    None => Reply::err("Unknown command called from script"),
                    Some(_) if matches!(&refused, Reply::Error(t) if t.starts_with("ERR wrong number")) => {
                        Reply::err("Wrong number of args calling command from script")
                    }
                    Some(_) => refused,
                });
            }
        };
        if spec.has_flag("noscript") {
            return Some(Reply::err("This Valkey command is not allowed from script"));
        }
        if self.read_only && spec.has_flag("write") {
            return Some(Reply::err(
                "Write commands are not allowed from read-only scripts.",
            ));
        }
        if spec.has_flag("write") && self.first_write.is_none() {
            if steps > self.busy_after {
                self.paused = true;
                return None;
            }
            self.first_write = Some(steps);
        }
        Some(clients::call(self.server, spec, &argv))
    }

    fn log(&mut self, level: i64, message: String) {
        let log = &mut self.server.scripting.log;
        if log.len() >= MAX_LOG {
            log.remove(0);
        }
        log.push((level, message));
    }

    fn set_resp(&mut self, resp: i64) {
        self.resp = resp;
        self.server.client_mut().resp = resp as u8;
    }
}

/// A Lua table with the given string keys, for `{ok=...}`, `{err=...}` and friends.
fn table_with(key: &str, value: Value) -> Value {
    let t = Table::new_ref();
    t.borrow_mut().set(Value::str(key), value);
    Value::Table(t)
}

/// A command's reply as Lua sees it (RESP2, or RESP3 after `redis.setresp(3)`).
fn reply_to_lua(r: Reply, resp3: bool) -> Value {
    match r {
        Reply::Bulks(bulks) => reply_to_lua(bulks.expand(), resp3),
        Reply::Status(s) => table_with("ok", Value::str(s.as_bytes())),
        Reply::Error(e) => table_with("err", Value::str(e)),
        Reply::Integer(n) => Value::Num(n as f64),
        Reply::Bulk(b) => Value::str(b),
        Reply::Nil | Reply::NilArray | Reply::Blocked if resp3 => Value::Nil,
        Reply::Nil | Reply::NilArray | Reply::Blocked => Value::Bool(false),
        Reply::Array(items) | Reply::Many(items) => Value::Table(Table::from_array(
            items.into_iter().map(|i| reply_to_lua(i, resp3)).collect(),
        )),
        Reply::Set(items) if resp3 => {
            let t = Table::new_ref();
            for item in items {
                let k = reply_to_lua(item, resp3);
                if !matches!(k, Value::Nil) {
                    t.borrow_mut().set(k, Value::Bool(true));
                }
            }
            table_with("set", Value::Table(t))
        }
        Reply::Set(items) => Value::Table(Table::from_array(
            items.into_iter().map(|i| reply_to_lua(i, resp3)).collect(),
        )),
        Reply::Map(pairs) if resp3 => {
            let t = Table::new_ref();
            for (k, v) in pairs {
                let k = reply_to_lua(k, resp3);
                if !matches!(k, Value::Nil) {
                    t.borrow_mut().set(k, reply_to_lua(v, resp3));
                }
            }
            table_with("map", Value::Table(t))
        }
        Reply::Map(pairs) => Value::Table(Table::from_array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [reply_to_lua(k, resp3), reply_to_lua(v, resp3)])
                .collect(),
        )),
        Reply::Double(text) if resp3 => {
            table_with("double", Value::Num(text.parse().unwrap_or(f64::NAN)))
        }
        Reply::Double(text) => Value::str(text),
    }
}

/// A script's return value as the reply the client gets.
fn lua_to_reply(v: &Value, depth: usize) -> Reply {
    match v {
        Value::Num(n) => Reply::Integer(stdlib::to_int(*n)),
        Value::Str(s) => Reply::Bulk(s.to_vec()),
        Value::Bool(true) => Reply::Integer(1),
        Value::Table(t) if depth < 100 => {
            let t = t.borrow();
            if let Value::Str(e) = t.get_str("err") {
                return Reply::Error(String::from_utf8_lossy(&e).replace(['\r', '\n'], " "));
            }
            if let Value::Str(s) = t.get_str("ok") {
                return Reply::status(&String::from_utf8_lossy(&s).replace(['\r', '\n'], " "));
            }
            if let Value::Num(n) = t.get_str("double") {
                return Reply::Double(vm::fmt_g(n, 17, false));
            }
            for field in ["map", "set"] {
                if let Value::Table(inner) = t.get_str(field) {
                    let inner = inner.borrow();
                    let mut items = Vec::new();
                    let mut key = Value::Nil;
                    while let Ok(Some((k, v))) = inner.next(&key) {
                        items.push(lua_to_reply(&k, depth + 1));
                        if field == "map" {
                            items.push(lua_to_reply(&v, depth + 1));
                        }
                        key = k;
                    }
                    return Reply::Array(items);
                }
            }
            let mut items = Vec::new();
            for item in &t.arr {
                if matches!(item, Value::Nil) {
                    break;
                }
                items.push(lua_to_reply(item, depth + 1));
            }
            Reply::Array(items)
        }
        _ => Reply::Nil,
    }
}

/// The error reply for a script that raised `e`.
pub(super) fn script_error(e: Error, chunk: &str) -> Reply {
    let (msg, line) = match e {
        Error::Killed(line) => (
            "ERR Script killed by user with SCRIPT KILL.".to_string(),
            line,
        ),
        Error::Value(v, line) => {
            let msg = match &v {
                Value::Table(t) => match t.borrow().get_str("err") {
                    Value::Str(e) => String::from_utf8_lossy(&e).into_owned(),
                    _ => "ERR unknown error".to_string(),
                },
                Value::Str(_) | Value::Num(_) => {
                    format!(
                        "ERR {}",
                        String::from_utf8_lossy(&v.to_str().unwrap_or_default())
                    )
                }
                Value::Nil => "ERR nil".to_string(),
                _ => "ERR unknown error".to_string(),
            };
            (msg, line)
        }
    };
    Reply::Error(format!("{msg} script: on @{chunk}:{line}.").replace(['\r', '\n'], " "))
}

/// How a script argument reaches a command: strings as they are, numbers as their shortest
/// text (`0.1`, `1e+20`), anything else refused.
fn command_arg(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Str(s) => Some(s.to_vec()),
        Value::Num(n) if n.fract() == 0.0 && n.abs() < 1e17 => Some(format!("{n:.0}").into_bytes()),
        Value::Num(n) => Some(vm::fmt_g(*n, 17, false).into_bytes()).map(|text| {
            // The shortest text that reads back as the same number.
            let short = shortest(*n);
            if short.len() < text.len() {
                short.into_bytes()
            } else {
                text
            }
        }),
        _ => None,
    }
}

fn shortest(n: f64) -> String {
    let sci = format!("{n:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-5..21).contains(&exp) {
        return format!("{n}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

fn redis_call_generic(vm: &mut Vm, args: Args, raise: bool) -> Rets {
    vm.st.step(1)?;
    let line = vm.st.line;
    if args.is_empty() {
        let err = table_with(
            "err",
            Value::str("ERR Please specify at least one argument for this call"),
        );
        return Err(Error::Value(err, line));
    }
    let mut argv = Vec::with_capacity(args.len());
    for a in &args {
        match command_arg(a) {
            Some(bytes) => argv.push(bytes),
            None => {
                let err = table_with(
                    "err",
                    Value::str("ERR Command arguments must be strings or integers"),
                );
                return Err(Error::Value(err, line));
            }
        }
    }
    let Some(reply) = vm.host.call(argv, vm.st.steps) else {
        return Err(Error::Killed(line));
    };
    vm.st.line = line;
    if raise {
        if let Reply::Error(text) = &reply {
            return Err(Error::Value(table_with("err", Value::str(text)), line));
        }
    }
    Ok(vec![reply_to_lua(reply, vm.st.resp3)])
}

fn redis_call(vm: &mut Vm, args: Args) -> Rets {
    redis_call_generic(vm, args, true)
}

fn redis_pcall(vm: &mut Vm, args: Args) -> Rets {
    redis_call_generic(vm, args, false)
}

fn redis_error_reply(_vm: &mut Vm, args: Args) -> Rets {
    let [Value::Str(s)] = args.as_slice() else {
        return Ok(vec![table_with(
            "err",
            Value::str("ERR wrong number or type of arguments"),
        )]);
    };
    // The real server reads "-CODE message": the first word is the code only when a space
    // follows it; otherwise the whole text is the message and the code is ERR.
    let body = s.strip_prefix(b"-").unwrap_or(s);
    let err = if body.contains(&b' ') {
        body.to_vec()
    } else {
        [b"ERR ".as_slice(), body].concat()
    };
    Ok(vec![table_with("err", Value::str(err))])
}

fn redis_status_reply(_vm: &mut Vm, args: Args) -> Rets {
    match args.as_slice() {
        [Value::Str(s)] => Ok(vec![table_with("ok", Value::Str(s.clone()))]),
        _ => Ok(vec![table_with(
            "err",
            Value::str("ERR wrong number or type of arguments"),
        )]),
    }
}

/// An error raised by the `redis` library: its text has no script position.
fn lib_error(vm: &Vm, msg: &str) -> Error {
    Error::Value(Value::str(msg), vm.st.line)
}

fn redis_sha1hex(vm: &mut Vm, args: Args) -> Rets {
    match args.as_slice() {
        [v] if v.to_str().is_some() => {
            let s = v.to_str().unwrap_or_default();
            Ok(vec![Value::str(sha1_hex(&s))])
        }
        _ => Err(lib_error(vm, "wrong number of arguments")),
    }
}

fn redis_log(vm: &mut Vm, args: Args) -> Rets {
    if args.len() < 2 {
        return Err(lib_error(
            vm,
            "server.log() requires two arguments or more.",
        ));
    }
    let Some(level) = args[0].to_num() else {
        return Err(lib_error(
            vm,
            "First argument must be a number (log level).",
        ));
    };
    if !(0.0..=3.0).contains(&level) {
        return Err(lib_error(vm, "Invalid log level."));
    }
    let parts: Vec<String> = args[1..]
        .iter()
        .filter_map(|a| a.to_str())
        .map(|s| String::from_utf8_lossy(&s).into_owned())
        .collect();
    vm.host.log(level as i64, parts.join(" "));
    Ok(Vec::new())
}

fn redis_setresp(vm: &mut Vm, args: Args) -> Rets {
    let resp = match args.as_slice() {
        [v] => v.to_num().map(stdlib::to_int),
        _ => None,
    };
    let Some(resp) = resp else {
        return Err(lib_error(vm, "redis.setresp() requires one argument."));
    };
    if resp != 2 && resp != 3 {
        return Err(lib_error(vm, "RESP version must be 2 or 3."));
    }
    vm.st.resp3 = resp == 3;
    vm.host.set_resp(resp);
    Ok(Vec::new())
}

fn redis_true(_vm: &mut Vm, _args: Args) -> Rets {
    Ok(vec![Value::Bool(true)])
}

fn redis_nothing(_vm: &mut Vm, _args: Args) -> Rets {
    Ok(Vec::new())
}

/// `redis.register_function(name, callback)` or `redis.register_function{...}` while a library
/// loads.
fn register_function(vm: &mut Vm, args: Args) -> Rets {
    let (name, callback, flags, description) = match args.as_slice() {
        [Value::Table(t)] => {
            let t = t.borrow();
            let mut flags = Vec::new();
            if let Value::Table(f) = t.get_str("flags") {
                for flag in &f.borrow().arr {
                    let Value::Str(s) = flag else {
                        return Err(vm.error("flags argument to redis.register_function must be a table representing function flags"));
                    };
                    let flag = String::from_utf8_lossy(s).into_owned();
                    if !SCRIPT_FLAGS.contains(&flag.as_str()) {
                        return Err(vm.error(format!("unknown flag given: {flag}")));
                    }
                    flags.push(flag);
                }
            }
            let description = t.get_str("description").to_str();
            (
                t.get_str("function_name"),
                t.get_str("callback"),
                flags,
                description,
            )
        }
        [name, callback] => (name.clone(), callback.clone(), Vec::new(), None),
        _ => return Err(vm.error("wrong number of arguments to redis.register_function")),
    };
    let Value::Str(name) = name else {
        return Err(
            vm.error("function_name argument given to redis.register_function must be a string")
        );
    };
    if !matches!(callback, Value::Func(_)) {
        return Err(
            vm.error("callback argument given to redis.register_function must be a function")
        );
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    if !valid_name(&name) {
        return Err(Error::Value(
            Value::str("Function names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
            vm.st.line,
        ));
    }
    if vm.st.registered.iter().any(|r| r.0.name == name) {
        return Err(Error::Value(
            Value::str("Function already exists in the library"),
            vm.st.line,
        ));
    }
    let info = FunctionInfo {
        name,
        description: description.map(|d| String::from_utf8_lossy(&d).into_owned()),
        flags,
    };
    vm.st.registered.push((info, callback));
    Ok(Vec::new())
}

/// Marks a library table read-only, as the real server locks `redis`, `string`, `cjson`...
fn lock(t: &TableRef) {
    let meta = Table::new_ref();
    meta.borrow_mut()
        .set(Value::str("__readonly"), Value::Bool(true));
    t.borrow_mut().meta = Some(meta);
}

/// The globals every script sees: the libraries and the `redis` table.
pub(super) fn install(vm: &mut Vm, loading: bool) {
    stdlib::install(vm);
    cjson::install(vm);
    let redis = Table::new_ref();
    let mut fns: Vec<(&'static str, vm::NativeFn)> = vec![
        ("log", redis_log),
        ("setresp", redis_setresp),
        ("sha1hex", redis_sha1hex),
        ("error_reply", redis_error_reply),
        ("status_reply", redis_status_reply),
    ];
    if loading {
        fns.push(("register_function", register_function));
    } else {
        fns.extend([
            ("call", redis_call as vm::NativeFn),
            ("pcall", redis_pcall),
            ("set_repl", redis_nothing),
            ("replicate_commands", redis_true),
            ("breakpoint", redis_true),
            ("debug", redis_nothing),
        ]);
    }
    stdlib::register(&redis, &fns);
    {
        let mut r = redis.borrow_mut();
        for (name, n) in [
            ("LOG_DEBUG", 0.0),
            ("LOG_VERBOSE", 1.0),
            ("LOG_NOTICE", 2.0),
            ("LOG_WARNING", 3.0),
            ("REPL_NONE", 0.0),
            ("REPL_AOF", 1.0),
            ("REPL_SLAVE", 2.0),
            ("REPL_REPLICA", 2.0),
            ("REPL_ALL", 3.0),
        ] {
            r.set(Value::str(name), Value::Num(n));
        }
        r.set(Value::str("REDIS_VERSION"), Value::str("7.2.4"));
        r.set(
            Value::str("REDIS_VERSION_NUM"),
            Value::Num(f64::from(0x0007_0204)),
        );
    }
    let globals = vm.st.globals.clone();
    globals
        .borrow_mut()
        .set(Value::str("redis"), Value::Table(redis));
    globals
        .borrow_mut()
        .set(Value::str("_G"), Value::Table(globals.clone()));
    for lib in ["redis", "string", "table", "math", "bit", "cjson"] {
        if let Value::Table(t) = globals.borrow().get_str(lib) {
            lock(&t);
        }
    }
    // While a library loads, `redis` refuses to read a field it does not have, as the globals do.
    let redis = globals.borrow().get_str("redis");
    if let (true, Value::Table(t)) = (loading, redis) {
        if let Some(meta) = &t.borrow().meta {
            meta.borrow_mut()
                .set(Value::str("__strict"), Value::Bool(true));
        }
    }
}

/// What to run once the chunk is compiled: the chunk itself (EVAL) or one function a library
/// registers (FCALL).
pub(super) enum Entry<'a> {
    Chunk,
    Function(&'a str),
}

/// What one run of a script came to.
pub(super) struct Outcome {
    pub(super) reply: Reply,
    pub(super) steps: u64,
    /// Steps into the run of its first write.
    pub(super) first_write: Option<u64>,
    /// Stopped before its first write, past the busy threshold: nothing was done.
    pub(super) paused: bool,
    /// Stopped by the step budget.
    pub(super) capped: bool,
    /// The line it ended (or was stopped) on.
    pub(super) line: u32,
}

/// Compiles and runs `body` for the current client with KEYS and ARGV. The client's database
/// and protocol are its own again afterwards, as with the real server.
pub(super) fn execute(
    server: &mut Server,
    body: &[u8],
    keys: &[Vec<u8>],
    args: &[Vec<u8>],
    read_only: bool,
    entry: &Entry,
    busy_after: u64,
) -> Outcome {
    let chunk = match entry {
        Entry::Chunk => EVAL_CHUNK,
        Entry::Function(_) => FUNCTION_CHUNK,
    };
    let mut outcome = Outcome {
        reply: Reply::Nil,
        steps: 0,
        first_write: None,
        paused: false,
        capped: false,
        line: 0,
    };
    let proto = match parse::parse_chunk(body, chunk) {
        Ok(p) => p,
        Err(msg) => {
            outcome.reply = Reply::err(format!("Error compiling script (new function): {msg}"));
            return outcome;
        }
    };
    let saved_db = server.selected_db();
    let saved_resp = server.resp();
    let saved_no_block = std::mem::replace(&mut server.no_block, true);
    server.client_mut().resp = 2;
    server.scripting.running = true;
    {
        let mut host = ScriptHost::new(server, read_only, busy_after);
        let mut vm = Vm {
            host: &mut host,
            st: VmState::new(chunk, STEP_BUDGET),
        };
        install(&mut vm, matches!(entry, Entry::Function(_)));
        let to_table = |items: &[Vec<u8>]| {
            Value::Table(Table::from_array(items.iter().map(Value::str).collect()))
        };
        let result = match entry {
            Entry::Chunk => {
                {
                    let mut g = vm.st.globals.borrow_mut();
                    g.set(Value::str("KEYS"), to_table(keys));
                    g.set(Value::str("ARGV"), to_table(args));
                }
                vm.run(&proto)
            }
            Entry::Function(name) => vm.run(&proto).and_then(|_| {
                // The library is loaded again for each call; its function then runs with the
                // full `redis` API.
                let callback = vm
                    .st
                    .registered
                    .iter()
                    .find(|r| r.0.name == *name)
                    .map(|r| r.1.clone())
                    .unwrap_or_default();
                let redis = vm.st.globals.borrow().get_str("redis");
                if let Value::Table(r) = redis {
                    let mut r = r.borrow_mut();
                    r.set(Value::str("call"), stdlib::native("call", redis_call));
                    r.set(Value::str("pcall"), stdlib::native("pcall", redis_pcall));
                }
                vm.call(&callback, vec![to_table(keys), to_table(args)])
            }),
        };
        outcome.steps = vm.st.steps;
        outcome.line = vm.st.line;
        let killed = matches!(result, Err(Error::Killed(_)));
        if let Err(Error::Killed(line)) = &result {
            outcome.line = *line;
        }
        outcome.reply = match result {
            Ok(values) => lua_to_reply(values.first().unwrap_or(&Value::Nil), 0),
            Err(e) => script_error(e, chunk),
        };
        drop(vm);
        outcome.paused = host.paused;
        outcome.capped = killed && !host.paused;
        outcome.first_write = host.first_write;
    }
    server.scripting.running = false;
    server.no_block = saved_no_block;
    server.client_mut().db = saved_db;
    server.client_mut().resp = saved_resp;
    outcome
}

/// Runs a script for the current client. One that is still running when the busy threshold
/// passes on the virtual clock makes the server busy (`busy::suspend`): its client waits,
/// and the others get BUSY until it ends or is killed.
fn run(server: &mut Server, script: busy::Script, entry: Entry, argv: &[Vec<u8>]) -> Reply {
    // Inside MULTI / EXEC the server does not wait for a busy script: it runs to the end.
    let busy_after = if server.no_block {
        u64::MAX
    } else {
        busy::threshold_steps(server)
    };
    let outcome = execute(
        server,
        &script.body,
        &script.keys,
        &script.args,
        script.read_only,
        &entry,
        busy_after,
    );
    if busy_after >= STEP_BUDGET || outcome.steps <= busy_after {
        return outcome.reply;
    }
    busy::suspend(server, script, entry, argv, outcome)
}

fn eval_generic(server: &mut Server, argv: &[Vec<u8>], by_sha: bool, read_only: bool) -> Reply {
    feed_monitors(server, argv);
    let (keys, args) = match keys_and_args(argv) {
        Ok(split) => split,
        Err(reply) => return reply,
    };
    let body = if by_sha {
        let sha = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        match server.scripting.scripts.get(&sha) {
            Some(body) => body.clone(),
            None => return reply::error("NOSCRIPT No matching script."),
        }
    } else {
        let body = argv[1].clone();
        if let Err(msg) = parse::parse_chunk(&body, EVAL_CHUNK) {
            return Reply::err(format!("Error compiling script (new function): {msg}"));
        }
        server
            .scripting
            .scripts
            .entry(sha1_hex(&body))
            .or_insert_with(|| body.clone());
        body
    };
    let no_writes = match eval_shebang(&body) {
        Ok(flag) => flag,
        Err(reply) => return reply,
    };
    let script = busy::Script {
        body,
        keys: keys.to_vec(),
        args: args.to_vec(),
        read_only: read_only || no_writes,
    };
    run(server, script, Entry::Chunk, argv)
}

/// EVAL script numkeys [key ...] [arg ...]
pub fn eval(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    eval_generic(server, argv, false, false)
}

/// EVAL_RO script numkeys [key ...] [arg ...]
pub fn eval_ro(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    eval_generic(server, argv, false, true)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
pub fn evalsha(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    eval_generic(server, argv, true, false)
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
pub fn evalsha_ro(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    eval_generic(server, argv, true, true)
}

/// SCRIPT LOAD script
pub fn script_load(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let body = &argv[2];
    if let Err(msg) = parse::parse_chunk(body, EVAL_CHUNK) {
        return Reply::err(format!("Error compiling script (new function): {msg}"));
    }
    let sha = sha1_hex(body);
    server
        .scripting
        .scripts
        .entry(sha.clone())
        .or_insert_with(|| body.clone());
    Reply::bulk(sha)
}

/// Runs a library's code with only `redis.register_function` (and logging) at hand: the
/// functions it registers.
fn load_library(server: &mut Server, code: &[u8]) -> Result<Vec<FunctionInfo>, Reply> {
    let proto = parse::parse_chunk(code, FUNCTION_CHUNK)
        .map_err(|msg| Reply::err(format!("Error compiling function: {msg}")))?;
    let mut host = ScriptHost::new(server, true, u64::MAX);
    let mut vm = Vm {
        host: &mut host,
        st: VmState::new(FUNCTION_CHUNK, STEP_BUDGET),
    };
    install(&mut vm, true);
    if let Err(e) = vm.run(&proto) {
        let text = match e {
            Error::Killed(_) => "ERR Script killed by user with SCRIPT KILL.".to_string(),
            // register_function's own refusals are the whole reply.
            Error::Value(Value::Str(s), _) if !s.starts_with(FUNCTION_CHUNK.as_bytes()) => {
                return Err(Reply::err(String::from_utf8_lossy(&s)));
            }
            Error::Value(v, _) => format!(
                "ERR {}",
                String::from_utf8_lossy(&stdlib::tostring_value(&v))
            ),
        };
        return Err(Reply::err(format!("Error registering functions: {text}")));
    }
    let mut functions: Vec<FunctionInfo> = vm.st.registered.drain(..).map(|r| r.0).collect();
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    if functions.is_empty() {
        return Err(Reply::err("No functions registered"));
    }
    Ok(functions)
}

/// FUNCTION LOAD [REPLACE] function-code
pub fn function_load(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    let (replace, code) = match &argv[2..] {
        [code] => (false, code),
        [flag, code] if flag.eq_ignore_ascii_case(b"replace") => (true, code),
        [flag, ..] => {
            return Reply::err(format!(
                "Unknown option given: {}",
                String::from_utf8_lossy(flag)
            ))
        }
        [] => return Reply::err("wrong number of arguments for 'function|load' command"),
    };
    let name = match library_name(code) {
        Ok(name) => name,
        Err(reply) => return reply,
    };
    if !replace && server.scripting.libraries.contains_key(&name) {
        return Reply::err(format!("Library '{name}' already exists"));
    }
    let functions = match load_library(server, code) {
        Ok(f) => f,
        Err(reply) => return reply,
    };
    for f in &functions {
        let taken = server
            .scripting
            .libraries
            .iter()
            .any(|(lib, l)| lib != &name && l.functions.iter().any(|g| g.name == f.name));
        if taken {
            return Reply::err(format!("Function {} already exists", f.name));
        }
    }
    server.scripting.libraries.insert(
        name.clone(),
        Library {
            code: code.clone(),
            functions,
        },
    );
    Reply::bulk(name)
}

/// FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE]: the libraries of a payload
/// are all loaded first (each as FUNCTION LOAD would), then joined to the current ones, so a
/// failure changes nothing.
pub fn function_restore(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    if argv.len() > 4 {
        return Reply::err(
            "unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.",
        );
    }
    let policy = match argv.get(3) {
        None => Policy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"append") => Policy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"replace") => Policy::Replace,
        Some(p) if p.eq_ignore_ascii_case(b"flush") => Policy::Flush,
        Some(_) => {
            return Reply::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            )
        }
    };
    let payload = &argv[2];
    if !crate::redis::rdb::verify(payload) {
        return Reply::err("DUMP payload version or checksum are wrong");
    }
    let mut reader = crate::redis::rdb::Reader::new(payload);
    let mut restored: BTreeMap<String, Library> = BTreeMap::new();
    while reader.remaining() > 10 {
        match reader.byte() {
            Some(RDB_OPCODE_FUNCTION2) => {}
            Some(RDB_OPCODE_FUNCTION_PRE_GA) => {
                return Reply::err("Pre-GA function format not supported")
            }
            _ => return Reply::err("given type is not a function"),
        }
        let Some(code) = reader.string() else {
            return Reply::err("Failed loading library payload");
        };
        let name = match library_name(&code) {
            Ok(name) => name,
            Err(reply) => return reply,
        };
        if restored.contains_key(&name) {
            return Reply::err(format!("Library '{name}' already exists"));
        }
        let functions = match load_library(server, &code) {
            Ok(f) => f,
            Err(reply) => return reply,
        };
        for f in &functions {
            if restored
                .values()
                .any(|l| l.functions.iter().any(|g| g.name == f.name))
            {
                return Reply::err(format!("Function {} already exists", f.name));
            }
        }
        restored.insert(name, Library { code, functions });
    }
    let libraries = &mut server.scripting.libraries;
    match policy {
        Policy::Flush => *libraries = restored,
        Policy::Append | Policy::Replace => {
            if policy == Policy::Append {
                if let Some(name) = restored.keys().find(|n| libraries.contains_key(*n)) {
                    return Reply::err(format!("Library {name} already exists"));
                }
            }
            let clash = restored.values().flat_map(|l| &l.functions).find(|f| {
                libraries
                    .iter()
                    .filter(|(name, _)| !restored.contains_key(*name))
                    .any(|(_, l)| l.functions.iter().any(|g| g.name == f.name))
            });
            if let Some(f) = clash {
                return Reply::err(format!("Function {} already exists", f.name));
            }
            libraries.extend(restored);
        }
    }
    Reply::ok()
}

/// FCALL / FCALL_RO function numkeys [key ...] [arg ...]
fn fcall_generic(server: &mut Server, argv: &[Vec<u8>], read_only: bool) -> Reply {
    feed_monitors(server, argv);
    if argv.get(2).and_then(|n| parse_i64(n)).is_none() {
        return Reply::err("Bad number of keys provided");
    }
    let (keys, args) = match keys_and_args(argv) {
        Ok(split) => split,
        Err(reply) => return reply,
    };
    let name = String::from_utf8_lossy(&argv[1]).into_owned();
    let found = server.scripting.libraries.values().find_map(|lib| {
        lib.functions
            .iter()
            .find(|f| f.name == name)
            .map(|f| (lib.code.clone(), f.flags.iter().any(|g| g == "no-writes")))
    });
    let Some((code, no_writes)) = found else {
        return Reply::err("Function not found");
    };
    if read_only && !no_writes {
        return Reply::err("Can not execute a script with write flag using *_ro command.");
    }
    let script = busy::Script {
        body: code,
        keys: keys.to_vec(),
        args: args.to_vec(),
        read_only: no_writes,
    };
    run(server, script, Entry::Function(&name), argv)
}

pub fn fcall(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    fcall_generic(server, argv, false)
}

pub fn fcall_ro(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    fcall_generic(server, argv, true)
}
