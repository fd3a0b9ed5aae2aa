//! The native CLI's contract: stdin in, exactly what redis-cli / mongosh print out.
#![cfg(not(target_arch = "wasm32"))]

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &str) -> (String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nosql-playground"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the script");
    let out = child.wait_with_output().expect("the CLI exits");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn redis_mode_prints_what_redis_cli_prints() {
    let cases = [
        (
            "PING\nSET a 1\nGET a\nGET\nFOO\n",
            "PONG\nOK\n\"1\"\n(error) ERR wrong number of arguments for 'get' command\n(error) ERR unknown command 'FOO', with args beginning with: \n",
        ),
        ("\n   \nPING\n", "PONG\n"),
        ("GET \"a\nPING\n", "Invalid argument(s)\nPONG\n"),
        ("PING\r\nECHO x\r\n", "PONG\n\"x\"\n"),
        ("2 ECHO hi\n", "\"hi\"\n\"hi\"\n"),
        // redis-cli stops reading at quit/exit.
        ("PING\nquit\nPING\n", "PONG\n"),
        ("SELECT 2\nSET k v\nSELECT 0\nGET k\n", "OK\nOK\nOK\n(nil)\n"),
    ];
    for (stdin, expected) in cases {
        assert_eq!(
            run(&["redis"], stdin),
            (expected.to_string(), 0),
            "{stdin:?}"
        );
    }
}

#[test]
fn the_virtual_clock_line_expires_keys() {
    let (out, _) = run(&["redis"], "SET k v EX 5\n.time +6s\nGET k\n");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "OK");
    assert!(lines[1].starts_with("(sandbox) virtual time "), "{out}");
    assert_eq!(lines[2], "(nil)");
}

#[test]
fn help_shows_a_commands_syntax_like_redis_cli() {
    let (out, _) = run(&["redis"], "HELP SET\n");
    assert!(
        out.starts_with("\r\n  \x1b[1mSET\x1b[0m \x1b[90mkey value [NX|XX"),
        "{out:?}"
    );
    assert!(out.contains("\x1b[33mgroup:\x1b[0m string\r\n"), "{out:?}");
}

#[test]
fn bad_usage_is_reported() {
    let (out, code) = run(&["nonsense"], "");
    assert_eq!((out.as_str(), code), ("", 2));
}

#[test]
fn client_lines_address_several_clients_and_show_what_others_receive() {
    let script = "SUBSCRIBE news\n.client 2\nPUBLISH news hi\nBLPOP q 0\n.client 3\nRPUSH q job\n.client\n.client close 2\n.client 9x\n";
    let (out, code) = run(&["redis"], script);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "1) \"subscribe\"\n2) \"news\"\n3) (integer) 1\n\
         (sandbox) client 2\n\
         (integer) 1\n\
         [client 1] 1) \"message\"\n[client 1] 2) \"news\"\n[client 1] 3) \"hi\"\n\
         (sandbox) client 3\n\
         (integer) 1\n\
         [client 2] 1) \"q\"\n[client 2] 2) \"job\"\n\
         (sandbox) client 1, client 2, client 3 (current)\n\
         (sandbox) client 2 closed\n\
         (sandbox) unknown .client argument: use .client, .client 2 or .client close 2\n"
    );
}

#[test]
fn a_line_typed_while_blocked_waits_for_the_timeout() {
    let (out, _) = run(&["redis"], "BLPOP q 2\nPING\n");
    assert_eq!(out, "(nil)\nPONG\n");
}

#[test]
fn export_modes_print_the_session_for_a_real_server() {
    let cases: [(&[&str], &str, &str, i32); 6] = [
        (
            &["redis", "--export", "cli"],
            "SET a 1\nHSET h f \"x y\"\nSELECT 1\nRPUSH l \"\\x00\"\n",
            "SET a 1\nHSET h f \"x y\"\nSELECT 1\nRPUSH l \"\\x00\"\nSELECT 0\n",
            0,
        ),
        (
            &["redis", "--export", "resp"],
            "SET a 1\n",
            "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n",
            0,
        ),
        (&["redis", "--export", "cli"], "GET nothing\n", "", 0),
        (
            &["mongo", "--export", "mongoimport"],
            "db.c.insertOne({_id: 1, n: NumberLong(2)})\n",
            "==> test.c.json <==\n{\"_id\":{\"$numberInt\":\"1\"},\"n\":{\"$numberLong\":\"2\"}}\n",
            0,
        ),
        (
            &["mongo", "--export", "mongosh"],
            "use shop\ndb.c.insertOne({_id: 1})\n",
            "// Recreates the sandbox's MongoDB databases: mongosh \"mongodb://HOST\" this-file.js\n\ndb = db.getSiblingDB(\"shop\");\ndb.createCollection(\"c\", EJSON.deserialize({}, { relaxed: false }));\ndb.getCollection(\"c\").insertMany(EJSON.deserialize([{\"_id\":{\"$numberInt\":\"1\"}}], { relaxed: false }));\n",
            0,
        ),
        (&["redis", "--export", "rdb"], "", "", 2),
    ];
    for (args, script, expected, code) in cases {
        assert_eq!(run(args, script), (expected.to_string(), code), "{args:?}");
    }
}
