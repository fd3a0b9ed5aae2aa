//! Scripting as a client sees it (replies as redis-cli prints them, checked against valkey),
//! and random Lua thrown at the interpreter: it must answer, never panic or overflow.

use crate::redis::fuzz::Rng;
use crate::redis::testing::{outbox_text, run_as};
use crate::redis::Server;

fn check(cases: &[(&str, &str)]) {
    let mut s = Server::new();
    for (line, expected) in cases {
        assert_eq!(run_as(&mut s, 1, line, 1_000), *expected, "{line}");
    }
}

#[test]
fn conversions_between_lua_and_redis() {
    check(&[
        ("EVAL \"return 1\" 0", "(integer) 1\n"),
        ("EVAL \"return 3.99\" 0", "(integer) 3\n"),
        ("EVAL \"return -3.99\" 0", "(integer) -3\n"),
        ("EVAL \"return 1/0\" 0", "(integer) -9223372036854775808\n"),
        ("EVAL \"return 'x'\" 0", "\"x\"\n"),
        ("EVAL \"return true\" 0", "(integer) 1\n"),
        ("EVAL \"return false\" 0", "(nil)\n"),
        ("EVAL \"return nil\" 0", "(nil)\n"),
        (
            "EVAL \"return {1,2,3.7,'x',nil,4}\" 0",
            "1) (integer) 1\n2) (integer) 2\n3) (integer) 3\n4) \"x\"\n",
        ),
        (
            "EVAL \"return {1,{2,'a'},true,false}\" 0",
            "1) (integer) 1\n2) 1) (integer) 2\n   2) \"a\"\n3) (integer) 1\n4) (nil)\n",
        ),
        ("EVAL \"return {ok='fine'}\" 0", "fine\n"),
        ("EVAL \"return {err='boom'}\" 0", "(error) boom\n"),
        ("EVAL \"return redis.status_reply('FINE')\" 0", "FINE\n"),
        (
            "EVAL \"return redis.error_reply('My err')\" 0",
            "(error) My err\n",
        ),
        ("EVAL \"return #KEYS .. ' ' .. #ARGV\" 2 a b c", "\"2 1\"\n"),
        ("EVAL \"return ARGV\" 0 x y", "1) \"x\"\n2) \"y\"\n"),
        ("SET n 10", "OK\n"),
        (
            "EVAL \"return redis.call('get', KEYS[1]) + 1\" 1 n",
            "(integer) 11\n",
        ),
        ("EVAL \"return redis.call('get', 'nokey')\" 0", "(nil)\n"),
        (
            "EVAL \"return type(redis.call('get', 'nokey'))\" 0",
            "\"boolean\"\n",
        ),
        ("EVAL \"return redis.call('set', 'k', 'v')\" 0", "OK\n"),
        (
            "EVAL \"return redis.call('set', 'k', 'v').ok\" 0",
            "\"OK\"\n",
        ),
        (
            "EVAL \"redis.call('set', 'f', 0.1) return redis.call('get', 'f')\" 0",
            "\"0.1\"\n",
        ),
        (
            "EVAL \"redis.call('set', 'f', 1e20) return redis.call('get', 'f')\" 0",
            "\"1e+20\"\n",
        ),
        (
            "EVAL \"redis.call('set', 'f', 12) return redis.call('get', 'f')\" 0",
            "\"12\"\n",
        ),
        (
            "EVAL \"return tostring(10/3) .. ' ' .. 2^53 .. ' ' .. 1e15\" 0",
            "\"3.3333333333333 9.007199254741e+15 1e+15\"\n",
        ),
        (
            "EVAL \"return redis.sha1hex('')\" 0",
            "\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"\n",
        ),
    ]);
}

#[test]
fn errors_read_like_the_real_server() {
    check(&[
        (
            "EVAL \"local x = nil; return x.y\" 0",
            "(error) ERR user_script:1: attempt to index local 'x' (a nil value) script: on @user_script:1.\n",
        ),
        (
            "EVAL \"return x\" 0",
            "(error) ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: on @user_script:1.\n",
        ),
        (
            "EVAL \"x = 1\" 0",
            "(error) ERR user_script:1: Attempt to modify a readonly table script: on @user_script:1.\n",
        ),
        (
            "EVAL \"local t = {} return t.a.b\" 0",
            "(error) ERR user_script:1: attempt to index field 'a' (a nil value) script: on @user_script:1.\n",
        ),
        (
            "EVAL \"error('boom')\" 0",
            "(error) ERR user_script:1: boom script: on @user_script:1.\n",
        ),
        ("EVAL \"error('boom', 0)\" 0", "(error) ERR boom script: on @user_script:1.\n"),
        ("EVAL \"error({err='X boom'})\" 0", "(error) X boom script: on @user_script:1.\n"),
        ("EVAL \"error()\" 0", "(error) ERR nil script: on @user_script:1.\n"),
        ("EVAL \"error({})\" 0", "(error) ERR unknown error script: on @user_script:1.\n"),
        (
            "EVAL \"return redis.call('nosuch')\" 0",
            "(error) ERR Unknown command called from script script: on @user_script:1.\n",
        ),
        (
            "EVAL \"return redis.call('set','a')\" 0",
            "(error) ERR Wrong number of args calling command from script script: on @user_script:1.\n",
        ),
        (
            "EVAL \"return redis.pcall('set','a')\" 0",
            "(error) ERR Wrong number of args calling command from script\n",
        ),
        (
            "EVAL \"\n\nreturn 1 +\" 0",
            "(error) ERR Error compiling script (new function): user_script:3: unexpected symbol near '<eof>'\n",
        ),
        (
            "EVAL \"local function f() return f() + 1 end return f()\" 0",
            "(error) ERR user_script:1: stack overflow script: on @user_script:1.\n",
        ),
        // With the threshold past the step budget, the budget stops a script before it is busy.
        ("CONFIG SET busy-reply-threshold 20000", "OK\n"),
        (
            "EVAL \"while true do end\" 0",
            "(error) ERR Script killed by user with SCRIPT KILL. script: on @user_script:1.\n",
        ),
        ("CONFIG SET busy-reply-threshold 5000", "OK\n"),
        ("EVAL \"return 1\" -1", "(error) ERR Number of keys can't be negative\n"),
        (
            "EVAL \"return 1\" 3 a",
            "(error) ERR Number of keys can't be greater than number of args\n",
        ),
        ("EVALSHA 123 0", "(error) NOSCRIPT No matching script.\n"),
        (
            "EVAL_RO \"return redis.call('set','a',1)\" 0",
            "(error) ERR Write commands are not allowed from read-only scripts. script: on @user_script:1.\n",
        ),
        (
            "EVAL \"#!lua flags=no-writes\nreturn redis.call('set','a',1)\" 0",
            "(error) ERR Write commands are not allowed from read-only scripts. script: on @user_script:2.\n",
        ),
        (
            "EVAL \"return redis.call('eval','return 1',0)\" 0",
            "(error) ERR This Valkey command is not allowed from script script: on @user_script:1.\n",
        ),
    ]);
}

#[test]
fn script_cache_and_functions() {
    check(&[
        ("SCRIPT LOAD \"return 1\"", "\"e0e1f9fabfc9d4800c877a703b823ac0578ff8db\"\n"),
        ("EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", "(integer) 1\n"),
        ("EVALSHA E0E1F9FABFC9D4800C877A703B823AC0578FF8DB 0", "(integer) 1\n"),
        (
            "SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db abc",
            "1) (integer) 1\n2) (integer) 0\n",
        ),
        ("SCRIPT FLUSH", "OK\n"),
        ("SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1) (integer) 0\n"),
        ("SCRIPT KILL", "(error) NOTBUSY No scripts in execution right now.\n"),
        (
            "FUNCTION LOAD \"#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return redis.call('set', keys[1], args[1]) end)\"",
            "\"mylib\"\n",
        ),
        ("FCALL myfunc 1 k v", "OK\n"),
        ("GET k", "\"v\"\n"),
        (
            "FCALL_RO myfunc 1 k v",
            "(error) ERR Can not execute a script with write flag using *_ro command.\n",
        ),
        ("FCALL nosuch 0", "(error) ERR Function not found\n"),
        (
            "FUNCTION LOAD \"#!lua name=mylib\nredis.register_function('f', function() end)\"",
            "(error) ERR Library 'mylib' already exists\n",
        ),
        ("FUNCTION LOAD \"return 1\"", "(error) ERR Missing library metadata\n"),
        ("FUNCTION LOAD \"#!lua name=x\nreturn 1\"", "(error) ERR No functions registered\n"),
        ("FUNCTION DELETE mylib", "OK\n"),
        ("FUNCTION DELETE mylib", "(error) ERR Library not found\n"),
    ]);
}

#[test]
fn scripts_go_through_the_same_dispatch_as_clients() {
    let mut s = Server::new();
    let monitor = s.connect();
    run_as(&mut s, monitor, "MONITOR", 1_000);
    run_as(
        &mut s,
        1,
        "EVAL \"redis.call('set','k','1') return redis.call('get','k')\" 0",
        1_000,
    );
    let lines = outbox_text(&mut s, monitor);
    let shown: Vec<&str> = lines
        .lines()
        .map(|l| l.split_once(' ').map(|(_, rest)| rest).unwrap_or(l))
        .collect();
    assert_eq!(shown.len(), 3, "{lines}");
    assert!(shown[0]
        .ends_with("\"EVAL\" \"redis.call('set','k','1') return redis.call('get','k')\" \"0\""));
    assert_eq!(shown[1], "[0 lua] \"set\" \"k\" \"1\"");
    assert_eq!(shown[2], "[0 lua] \"get\" \"k\"");

    // A script inside MULTI runs at EXEC; a script's write breaks another client's WATCH.
    let other = s.connect();
    run_as(&mut s, other, "WATCH k", 1_000);
    run_as(&mut s, 1, "MULTI", 1_000);
    assert_eq!(
        run_as(&mut s, 1, "EVAL \"return redis.call('incr','k')\" 0", 1_000),
        "QUEUED\n"
    );
    assert_eq!(run_as(&mut s, 1, "EXEC", 1_000), "1) (integer) 2\n");
    run_as(&mut s, other, "MULTI", 1_000);
    run_as(&mut s, other, "SET k x", 1_000);
    assert_eq!(run_as(&mut s, other, "EXEC", 1_000), "(nil)\n");

    // Blocking commands answer at once inside a script; SELECT stays inside it.
    assert_eq!(
        run_as(
            &mut s,
            1,
            "EVAL \"return redis.call('blpop','nolist',0)\" 0",
            1_000
        ),
        "(nil)\n"
    );
    assert_eq!(
        run_as(
            &mut s,
            1,
            "EVAL \"redis.call('select',3) return redis.call('set','x','1')\" 0",
            1_000
        ),
        "OK\n"
    );
    assert_eq!(run_as(&mut s, 1, "EXISTS x", 1_000), "(integer) 0\n");
    assert_eq!(run_as(&mut s, 1, "SELECT 3", 1_000), "OK\n");
    assert_eq!(run_as(&mut s, 1, "EXISTS x", 1_000), "(integer) 1\n");
}

#[test]
fn the_libraries_behave_like_lua_5_1() {
    check(&[
        ("EVAL \"return string.format('%d %5.2f %s %q', 3, 2.5, 'x', 'a\\\"b')\" 0", "\"3  2.50 x \\\"a\\\\\\\"b\\\"\"\n"),
        ("EVAL \"return string.format('%05d|%-4s|%x|%g', 42, 'ab', 255, 0.1)\" 0", "\"00042|ab  |ff|0.1\"\n"),
        ("EVAL \"return ('x'):upper() .. string.rep('ab', 3, nil)\" 0", "\"Xababab\"\n"),
        ("EVAL \"return {string.find('hello world', 'o w')}\" 0", "1) (integer) 5\n2) (integer) 7\n"),
        ("EVAL \"return {string.match('key:42', '(%a+):(%d+)')}\" 0", "1) \"key\"\n2) \"42\"\n"),
        ("EVAL \"return {string.gsub('hello', 'l', 'L')}\" 0", "1) \"heLLo\"\n2) (integer) 2\n"),
        ("EVAL \"local t = {} for w in string.gmatch('a,b,c', '[^,]+') do t[#t+1] = w end return t\" 0", "1) \"a\"\n2) \"b\"\n3) \"c\"\n"),
        ("EVAL \"local t = {3,1,2} table.sort(t) return table.concat(t, '-')\" 0", "\"1-2-3\"\n"),
        ("EVAL \"local t = {3,1,2} table.sort(t, function(a,b) return a > b end) return t\" 0", "1) (integer) 3\n2) (integer) 2\n3) (integer) 1\n"),
        ("EVAL \"local t = {1,2} table.insert(t, 1, 0) table.remove(t) return t\" 0", "1) (integer) 0\n2) (integer) 1\n"),
        ("EVAL \"return math.floor(3.7) + math.max(1, 5, 2)\" 0", "(integer) 8\n"),
        ("EVAL \"return bit.band(12, 10) .. bit.bor(12, 10) .. bit.tohex(255)\" 0", "\"814000000ff\"\n"),
        ("EVAL \"return cjson.encode({1,2,{a=1}})\" 0", "\"[1,2,{\\\"a\\\":1}]\"\n"),
        ("EVAL \"return cjson.decode('[1,2,{\\\"a\\\":3}]')[3].a\" 0", "(integer) 3\n"),
        ("EVAL \"return cjson.encode(cjson.decode('[1,null,3]'))\" 0", "\"[1,null,3]\"\n"),
        ("EVAL \"return {pcall(function() error('x') end)}\" 0", "1) (nil)\n2) \"user_script:1: x\"\n"),
        ("EVAL \"local ok, e = pcall(function() error('x') end) return e\" 0", "\"user_script:1: x\"\n"),
        ("EVAL \"return select('#', 1, 2, 3)\" 0", "(integer) 3\n"),
        ("EVAL \"return tonumber('0x10') + tonumber(' 5 ')\" 0", "(integer) 21\n"),
        ("EVAL \"local s = 0 for i = 1, 10 do s = s + i end return s\" 0", "(integer) 55\n"),
        ("EVAL \"local n = 0 for k, v in pairs({a=1, b=2}) do n = n + v end return n\" 0", "(integer) 3\n"),
        ("EVAL \"local fs = {} for i = 1, 3 do fs[i] = function() return i end end return fs[2]()\" 0", "(integer) 2\n"),
        ("EVAL \"local t = setmetatable({}, {__index = function(t, k) return k .. '!' end}) return t.hi\" 0", "\"hi!\"\n"),
    ]);
}

const FRAGMENTS: &[&str] = &[
    "local",
    "x",
    "y",
    "t",
    "=",
    "==",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "1",
    "0",
    "-1",
    "1e308",
    "'s'",
    "\"k\"",
    "..",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "#",
    "not",
    "and",
    "or",
    "if",
    "then",
    "else",
    "end",
    "while",
    "do",
    "for",
    "i",
    ",",
    "in",
    "pairs(t)",
    "function",
    "return",
    "break",
    "repeat",
    "until",
    "redis.call('set', 'k', x)",
    "redis.pcall('incr', 'k')",
    "redis.call('get', KEYS[1])",
    "string.rep(x, 100)",
    "string.rep('ab', 1e9)",
    "x()",
    "string.format('%d%s', x, y)",
    "string.find(x, '(%a+)')",
    "string.gsub(x, '.', '%0%0')",
    "cjson.encode(t)",
    "cjson.decode(x)",
    "table.concat(t)",
    "table.sort(t)",
    "pcall(error)",
    "error(t)",
    "...",
    ";",
    ":",
    ".",
    "t.a",
    "t[1]",
    "nil",
    "true",
    "false",
    "--",
    "[[",
    "]]",
    "\n",
    "math.huge",
    "0/0",
    "unpack(t)",
    "select(-1, 1)",
    "tostring(t)",
    "bit.lshift(x, 40)",
    "function f(...) return f(...) end",
    "f()",
    "setmetatable(t, t)",
    "t.__index = t",
];

/// Random token soups, most of them nonsense, some of them programs: every one gets a reply.
#[test]
fn random_scripts_never_crash() {
    // The interpreter recurses; give it the room a browser's wasm stack would.
    let worker = std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(|| {
            let mut rng = Rng(0x5eed_1234_abcd_0001);
            let mut s = Server::new();
            for _ in 0..1_500 {
                let len = 1 + rng.below(30);
                let mut src = String::new();
                for _ in 0..len {
                    src.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
                    src.push(' ');
                }
                let argv: Vec<Vec<u8>> = vec![
                    b"EVAL".to_vec(),
                    src.into_bytes(),
                    b"1".to_vec(),
                    b"k".to_vec(),
                    b"x".to_vec(),
                ];
                let reply = s.execute(&argv, 1_000).to_cli_text();
                assert!(!reply.is_empty());
            }
        })
        .expect("spawn");
    worker.join().expect("no panic");
}

#[test]
fn redis_log_lines_are_collected_for_the_page() {
    let mut s = Server::new();
    let line = "EVAL \"redis.log(redis.LOG_WARNING, 'low stock:', ARGV[1]) redis.log(redis.LOG_DEBUG, 'x') return 1\" 0 7";
    assert_eq!(run_as(&mut s, 1, line, 1_000), "(integer) 1\n");
    assert_eq!(
        s.scripting.take_log(),
        vec![(3, "low stock: 7".to_string()), (0, "x".to_string())]
    );
    assert!(s.scripting.take_log().is_empty());
    assert_eq!(
        run_as(&mut s, 1, "EVAL \"redis.log(9, 'x')\" 0", 1_000),
        "(error) ERR Invalid log level. script: on @user_script:1.\n"
    );
}

#[test]
fn a_finished_script_frees_its_globals_and_libraries() {
    use super::vm::{Value, Vm, VmState};
    use std::rc::Rc;
    let mut server = Server::new();
    let mut host = super::engine::ScriptHost::new(&mut server, false, u64::MAX);
    let mut vm = Vm {
        host: &mut host,
        st: VmState::new("user_script", 1_000_000),
    };
    super::engine::install(&mut vm, false);
    vm.st.globals.borrow_mut().set(
        Value::str("shared"),
        Value::Table(super::vm::Table::new_ref()),
    );
    // A global table that refers back to itself through a closure's upvalue.
    let proto = super::parse::parse_chunk(
        b"local t = shared t.f = function() return t end return 1",
        "user_script",
    )
    .expect("parses");
    assert!(vm.run(&proto).is_ok());
    let globals = Rc::downgrade(&vm.st.globals);
    let string_lib = Rc::downgrade(&vm.st.string_lib);
    let shared = match vm.st.globals.borrow().get_str("shared") {
        Value::Table(t) => Rc::downgrade(&t),
        _ => panic!("shared is a table"),
    };
    drop(vm);
    assert!(
        globals.upgrade().is_none(),
        "the globals table outlived its script"
    );
    assert!(
        string_lib.upgrade().is_none(),
        "the string library outlived its script"
    );
    assert!(
        shared.upgrade().is_none(),
        "a table in a cycle outlived its script"
    );
}

#[test]
fn cycles_a_script_makes_and_drops_are_freed_when_it_ends() {
    use super::vm::live_objects;
    let mut s = Server::new();
    run_as(
        &mut s,
        1,
        "FUNCTION LOAD \"#!lua name=cyc\nredis.register_function('cyc', function() local t = {} t.self = t local function f() return f end return 1 end)\"",
        1_000,
    );
    let before = live_objects();
    for script in [
        "EVAL \"local t = {} t.self = t return 1\" 0",
        "EVAL \"local function f() return f end local t = {f = f} t.t = {t} return 1\" 0",
        "EVAL \"local a, b = {}, {} a.b = b b.a = a setmetatable(a, {__index = b}) return 1\" 0",
        // A long chain: freeing it must not recurse once per link.
        "EVAL \"local head = {} for i = 1, 100000 do head = {next = head} end head.last = head return 1\" 0",
        "EVAL \"error({})\" 0",
        "FCALL cyc 0",
    ] {
        for _ in 0..3 {
            run_as(&mut s, 1, script, 1_000);
        }
        assert_eq!(live_objects(), before, "{script}");
    }
}

#[test]
fn function_dump_restores_and_a_failed_restore_changes_nothing() {
    use crate::redis::reply::Reply;
    let mut s = Server::new();
    let load =
        "FUNCTION LOAD \"#!lua name=a\nredis.register_function('fa', function() return 'a' end)\"";
    assert_eq!(run_as(&mut s, 1, load, 1_000), "\"a\"\n");
    run_as(
        &mut s,
        1,
        "FUNCTION LOAD \"#!lua name=b\nredis.register_function('fb', function() return 'b' end)\"",
        1_000,
    );
    s.switch_client(1);
    let Reply::Bulk(payload) = s.execute(&[b"FUNCTION".to_vec(), b"DUMP".to_vec()], 1_000) else {
        panic!("FUNCTION DUMP gives a bulk string");
    };
    let restore = |s: &mut Server, policy: &str| {
        let mut argv = vec![b"FUNCTION".to_vec(), b"RESTORE".to_vec(), payload.clone()];
        if !policy.is_empty() {
            argv.push(policy.as_bytes().to_vec());
        }
        s.switch_client(1);
        s.execute(&argv, 1_000).to_cli_text()
    };
    run_as(&mut s, 1, "FUNCTION FLUSH", 1_000);
    // Library b's function name is taken by another library: nothing is restored, not even a.
    run_as(
        &mut s,
        1,
        "FUNCTION LOAD \"#!lua name=c\nredis.register_function('fb', function() return 'c' end)\"",
        1_000,
    );
    assert_eq!(
        restore(&mut s, ""),
        "(error) ERR Function fb already exists\n"
    );
    assert_eq!(
        run_as(&mut s, 1, "FCALL fa 0", 1_000),
        "(error) ERR Function not found\n"
    );
    assert_eq!(restore(&mut s, "FLUSH"), "OK\n");
    for (line, expected) in [
        ("FCALL fa 0", "\"a\"\n"),
        ("FCALL fb 0", "\"b\"\n"),
        ("FUNCTION LIST LIBRARYNAME c", "(empty array)\n"),
    ] {
        assert_eq!(run_as(&mut s, 1, line, 1_000), expected, "{line}");
    }
    assert_eq!(
        restore(&mut s, "APPEND"),
        "(error) ERR Library a already exists\n"
    );
    assert_eq!(restore(&mut s, "REPLACE"), "OK\n");
    // A payload whose last byte changed fails its checksum.
    let mut corrupt = payload.clone();
    if let Some(last) = corrupt.last_mut() {
        *last ^= 1;
    }
    let argv = vec![
        b"FUNCTION".to_vec(),
        b"RESTORE".to_vec(),
        corrupt,
        b"FLUSH".to_vec(),
    ];
    assert_eq!(
        s.execute(&argv, 1_000).to_cli_text(),
        "(error) ERR DUMP payload version or checksum are wrong\n"
    );
    assert_eq!(run_as(&mut s, 1, "FCALL fb 0", 1_000), "\"b\"\n");
}

const BUSY_EVAL: &str = "(error) BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\n";

#[test]
fn a_script_past_the_busy_threshold_keeps_the_others_waiting() {
    let mut s = Server::new();
    let t0 = 1_000;
    run_as(&mut s, 1, "CONFIG SET busy-reply-threshold 100", t0);
    run_as(&mut s, 1, "SET k 0", t0);
    // Read-only and finite: the reply waits for the clock; nothing else runs meanwhile.
    let count = "EVAL \"local n = 0 for i = 1, 200000 do n = n + 1 end return n\" 0";
    assert_eq!(run_as(&mut s, 1, count, t0), "");
    assert_eq!(run_as(&mut s, 2, "GET k", t0), BUSY_EVAL);
    assert_eq!(run_as(&mut s, 2, "FUNCTION STATS", t0), BUSY_EVAL);
    assert_eq!(run_as(&mut s, 2, "PING", t0 + 100), BUSY_EVAL);
    s.tick(t0 + 20_000);
    assert_eq!(outbox_text(&mut s, 1), "(integer) 200000\n");
    assert_eq!(run_as(&mut s, 2, "GET k", t0 + 20_000), "\"0\"\n");

    // It wrote before the threshold: it cannot be killed, and its reply comes in its time.
    let t1 = t0 + 30_000;
    let wrote = "EVAL \"redis.call('set', 'k', '1') for i = 1, 200000 do end return 'done'\" 0";
    assert_eq!(run_as(&mut s, 1, wrote, t1), "");
    assert_eq!(
        run_as(&mut s, 2, "SCRIPT KILL", t1),
        "(error) UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\n"
    );
    assert_eq!(run_as(&mut s, 2, "GET k", t1), BUSY_EVAL);
    // What client 1 sends meanwhile waits for its script.
    assert_eq!(run_as(&mut s, 1, "GET k", t1), "");
    s.tick(t1 + 20_000);
    assert_eq!(outbox_text(&mut s, 1), "\"done\"\n\"1\"\n");

    // It would write only after the threshold: killed before that, it has done nothing.
    let t2 = t1 + 40_000;
    let late = "EVAL \"for i = 1, 200000 do end redis.call('set', 'k', '2') return 'late'\" 0";
    assert_eq!(run_as(&mut s, 1, late, t2), "");
    assert_eq!(run_as(&mut s, 2, "SCRIPT KILL", t2), "OK\n");
    assert_eq!(
        outbox_text(&mut s, 1),
        "(error) ERR Script killed by user with SCRIPT KILL. script: on @user_script:1.\n"
    );
    assert_eq!(run_as(&mut s, 2, "GET k", t2), "\"1\"\n");
    // Left alone, it goes on, writes when the clock gets there, and answers.
    assert_eq!(run_as(&mut s, 1, late, t2), "");
    s.tick(t2 + 20_000);
    assert_eq!(outbox_text(&mut s, 1), "\"late\"\n");
    assert_eq!(run_as(&mut s, 2, "GET k", t2 + 20_000), "\"2\"\n");
    assert_eq!(
        run_as(&mut s, 2, "SCRIPT KILL", t2 + 20_000),
        "(error) NOTBUSY No scripts in execution right now.\n"
    );
}

#[test]
fn function_stats_shows_the_busy_function_and_transactions_never_wait() {
    let mut s = Server::new();
    let t0 = 1_000;
    run_as(&mut s, 1, "CONFIG SET busy-reply-threshold 100", t0);
    run_as(
        &mut s,
        1,
        "FUNCTION LOAD \"#!lua name=l\nredis.register_function('spin', function() while true do end end)\"",
        t0,
    );
    assert_eq!(run_as(&mut s, 1, "FCALL spin 0", t0), "");
    let stats = run_as(&mut s, 2, "FUNCTION STATS", t0 + 700);
    assert!(
        stats.starts_with("1) \"running_script\"\n2) 1) \"name\"\n   2) \"spin\"\n   3) \"command\"\n   4) 1) \"FCALL\"\n      2) \"spin\"\n      3) \"0\"\n   5) \"duration_ms\"\n   6) (integer) 700\n"),
        "{stats}"
    );
    // An endless read-only function stays busy whatever the clock does.
    s.tick(t0 + 3_600_000);
    assert_eq!(run_as(&mut s, 2, "FUNCTION KILL", t0 + 3_600_000), "OK\n");
    assert_eq!(
        outbox_text(&mut s, 1),
        "(error) ERR Script killed by user with FUNCTION KILL. script: on @user_function:2.\n"
    );
    // Inside EXEC the server cannot wait: the script runs to the step budget.
    run_as(&mut s, 1, "MULTI", t0);
    run_as(&mut s, 1, "EVAL \"while true do end\" 0", t0);
    assert_eq!(
        run_as(&mut s, 1, "EXEC", t0),
        "1) (error) ERR Script killed by user with SCRIPT KILL. script: on @user_script:1.\n"
    );
    assert_eq!(run_as(&mut s, 2, "PING", t0), "PONG\n");
}
