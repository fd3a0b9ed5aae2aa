//! Replies recorded from valkey-server 9.1 (`redis-cli --no-raw`), one table per area;
//! every line runs through the same path as the console, with the sandbox clock paused.

#![cfg(test)]

use super::cli::run_line;
use super::Server;
use crate::clock::Clock;

fn check(cases: &[(&str, &str)]) {
    let mut server = Server::new();
    let mut clock = Clock::new();
    clock.pause(1_700_000_000_000);
    for (line, expected) in cases {
        let got = run_line(&mut server, &mut clock, line, 1_700_000_000_000, false).text;
        assert_eq!(&got, expected, "{line}");
    }
}

#[test]
fn strings_reply_like_the_real_server() {
    check(&[
        (
            r#"FLUSHALL"#,
            r#"OK
"#,
        ),
        (
            r#"GET nope"#,
            r#"(nil)
"#,
        ),
        (
            r#"SET a hello"#,
            r#"OK
"#,
        ),
        (
            r#"GET a"#,
            r#""hello"
"#,
        ),
        (
            r#"SET a world NX"#,
            r#"(nil)
"#,
        ),
        (
            r#"SET a world XX GET"#,
            r#""hello"
"#,
        ),
        (
            r#"SET b v NX GET"#,
            r#"(nil)
"#,
        ),
        (
            r#"SET b v2 NX GET"#,
            r#""v"
"#,
        ),
        (
            r#"SET c v XX"#,
            r#"(nil)
"#,
        ),
        (
            r#"SET c 1 NX XX"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SET c 1 EX 0"#,
            r#"(error) ERR invalid expire time in 'set' command
"#,
        ),
        (
            r#"SET c 1 PX -5"#,
            r#"(error) ERR invalid expire time in 'set' command
"#,
        ),
        (
            r#"SET c 1 EX abc"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"SET c 1 EX 10 PX 10"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SET c 1 KEEPTTL EX 10"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SET c 1 EX 100"#,
            r#"OK
"#,
        ),
        (
            r#"TTL c"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"SET c 2 KEEPTTL"#,
            r#"OK
"#,
        ),
        (
            r#"TTL c"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"SET c 3"#,
            r#"OK
"#,
        ),
        (
            r#"TTL c"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"SET c 1 EX 9223372036854775807"#,
            r#"(error) ERR invalid expire time in 'set' command
"#,
        ),
        (
            r#"SET c 1 IFEQ 1"#,
            r#"(nil)
"#,
        ),
        (
            r#"SET c 4 IFEQ 3"#,
            r#"OK
"#,
        ),
        (
            r#"SET c 5 IFEQ 3"#,
            r#"(nil)
"#,
        ),
        (
            r#"GET c"#, r#""4"
"#,
        ),
        (
            r#"SET c 6 NX IFEQ 4"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SETNX c x"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SETNX d x"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"SETEX e 100 v"#,
            r#"OK
"#,
        ),
        (
            r#"TTL e"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"SETEX e 0 v"#,
            r#"(error) ERR invalid expire time in 'setex' command
"#,
        ),
        (
            r#"SETEX e -1 v"#,
            r#"(error) ERR invalid expire time in 'setex' command
"#,
        ),
        (
            r#"SETEX e abc v"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"PSETEX e 0 v"#,
            r#"(error) ERR invalid expire time in 'psetex' command
"#,
        ),
        (
            r#"PSETEX e 100000 v"#,
            r#"OK
"#,
        ),
        (
            r#"TTL e"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"GETSET e new"#,
            r#""v"
"#,
        ),
        (
            r#"TTL e"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"GETSET nope2 v"#,
            r#"(nil)
"#,
        ),
        (
            r#"GETDEL e"#,
            r#""new"
"#,
        ),
        (
            r#"GETDEL e"#,
            r#"(nil)
"#,
        ),
        (
            r#"MSET k1 v1 k2 v2 k3 v3"#,
            r#"OK
"#,
        ),
        (
            r#"MGET k1 nope k2 k3"#,
            r#"1) "v1"
2) (nil)
3) "v2"
4) "v3"
"#,
        ),
        (
            r#"MSET k1"#,
            r#"(error) ERR wrong number of arguments for 'mset' command
"#,
        ),
        (
            r#"MSET k1 v1 k2"#,
            r#"(error) ERR wrong number of arguments for 'mset' command
"#,
        ),
        (
            r#"MSETNX k1 a k9 b"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"MSETNX k8 a k9 b"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"MGET k8 k9"#,
            r#"1) "a"
2) "b"
"#,
        ),
        (
            r#"APPEND ap "Hello ""#,
            r#"(integer) 6
"#,
        ),
        (
            r#"APPEND ap "World""#,
            r#"(integer) 11
"#,
        ),
        (
            r#"GET ap"#,
            r#""Hello World"
"#,
        ),
        (
            r#"STRLEN ap"#,
            r#"(integer) 11
"#,
        ),
        (
            r#"STRLEN nope"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET n 10"#,
            r#"OK
"#,
        ),
        (
            r#"INCR n"#,
            r#"(integer) 11
"#,
        ),
        (
            r#"DECR n"#,
            r#"(integer) 10
"#,
        ),
        (
            r#"INCRBY n 5"#,
            r#"(integer) 15
"#,
        ),
        (
            r#"DECRBY n 20"#,
            r#"(integer) -5
"#,
        ),
        (
            r#"INCRBY n x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"DECRBY n -9223372036854775808"#,
            r#"(error) ERR decrement would overflow
"#,
        ),
        (
            r#"SET n 9223372036854775807"#,
            r#"OK
"#,
        ),
        (
            r#"INCR n"#,
            r#"(error) ERR increment or decrement would overflow
"#,
        ),
        (
            r#"SET n -9223372036854775808"#,
            r#"OK
"#,
        ),
        (
            r#"DECR n"#,
            r#"(error) ERR increment or decrement would overflow
"#,
        ),
        (
            r#"INCRBY n -1"#,
            r#"(error) ERR increment or decrement would overflow
"#,
        ),
        (
            r#"SET n " 12""#,
            r#"OK
"#,
        ),
        (
            r#"INCR n"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"SET n 12abc"#,
            r#"OK
"#,
        ),
        (
            r#"INCR n"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"SET n 007"#,
            r#"OK
"#,
        ),
        (
            r#"INCR n"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"INCR fresh"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"DECR fresh2"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"SET f 10.5"#,
            r#"OK
"#,
        ),
        (
            r#"INCRBYFLOAT f 0.1"#,
            r#""10.6"
"#,
        ),
        (
            r#"SET f 0.1"#,
            r#"OK
"#,
        ),
        (
            r#"INCRBYFLOAT f 0.2"#,
            r#""0.3"
"#,
        ),
        (
            r#"INCRBYFLOAT f 1e20"#,
            r#""100000000000000000000"
"#,
        ),
        (
            r#"INCRBYFLOAT g 1e-20"#,
            r#""0"
"#,
        ),
        (
            r#"INCRBYFLOAT g 3.0e0"#,
            r#""3"
"#,
        ),
        (
            r#"INCRBYFLOAT g -5"#,
            r#""-2"
"#,
        ),
        (
            r#"INCRBYFLOAT g " 1""#,
            r#"(error) ERR value is not a valid float
"#,
        ),
        (
            r#"INCRBYFLOAT g "1 ""#,
            r#"(error) ERR value is not a valid float
"#,
        ),
        (
            r#"INCRBYFLOAT g abc"#,
            r#"(error) ERR value is not a valid float
"#,
        ),
        (
            r#"INCRBYFLOAT g nan"#,
            r#"(error) ERR value is not a valid float
"#,
        ),
        (
            r#"INCRBYFLOAT g inf"#,
            r#"(error) ERR increment would produce NaN or Infinity
"#,
        ),
        (
            r#"INCRBYFLOAT g 1.23456789012345678901234"#,
            r#""-0.76543210987654321"
"#,
        ),
        (
            r#"INCRBYFLOAT h .5"#,
            r#""0.5"
"#,
        ),
        (
            r#"INCRBYFLOAT h 5."#,
            r#""5.5"
"#,
        ),
        (
            r#"INCRBYFLOAT h +5"#,
            r#""10.5"
"#,
        ),
        (
            r#"INCRBYFLOAT h 0x10"#,
            r#""26.5"
"#,
        ),
        (
            r#"INCRBYFLOAT h 1e17"#,
            r#""100000000000000026.5"
"#,
        ),
        (
            r#"INCRBYFLOAT h 1e-5000"#,
            r#"(error) ERR value is not a valid float
"#,
        ),
        (
            r#"SET t "Hello World""#,
            r#"OK
"#,
        ),
        (
            r#"GETRANGE t 0 4"#,
            r#""Hello"
"#,
        ),
        (
            r#"GETRANGE t -5 -1"#,
            r#""World"
"#,
        ),
        (
            r#"GETRANGE t -3 -1"#,
            r#""rld"
"#,
        ),
        (
            r#"GETRANGE t 0 -100"#,
            r#""H"
"#,
        ),
        (
            r#"GETRANGE t -100 -50"#,
            r#""H"
"#,
        ),
        (
            r#"GETRANGE t 5 3"#,
            r#"""
"#,
        ),
        (
            r#"GETRANGE t 9223372036854775807 9223372036854775807"#,
            r#"""
"#,
        ),
        (
            r#"GETRANGE t -1 -2"#,
            r#"""
"#,
        ),
        (
            r#"GETRANGE t x 1"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"GETRANGE nope 0 -1"#,
            r#"""
"#,
        ),
        (
            r#"SUBSTR t 0 1"#,
            r#""He"
"#,
        ),
        (
            r#"SET e """#,
            r#"OK
"#,
        ),
        (
            r#"GETRANGE e 0 -1"#,
            r#"""
"#,
        ),
        (
            r#"GETRANGE e -1 -1"#,
            r#"""
"#,
        ),
        (
            r#"SETRANGE t 6 Redis"#,
            r#"(integer) 11
"#,
        ),
        (
            r#"GET t"#,
            r#""Hello Redis"
"#,
        ),
        (
            r#"SETRANGE sr 3 "ab""#,
            r#"(integer) 5
"#,
        ),
        (
            r#"GET sr"#,
            r#""\x00\x00\x00ab"
"#,
        ),
        (
            r#"SETRANGE sr2 5 """#,
            r#"(integer) 0
"#,
        ),
        (
            r#"EXISTS sr2"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SETRANGE t 0 """#,
            r#"(integer) 11
"#,
        ),
        (
            r#"SETRANGE t -1 x"#,
            r#"(error) ERR offset is out of range
"#,
        ),
        (
            r#"SETRANGE t x x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"SETRANGE t 536870912 x"#,
            r#"(error) ERR string exceeds maximum allowed size (proto-max-bulk-len)
"#,
        ),
        (
            r#"SET bin "a\x00b\xffc""#,
            r#"OK
"#,
        ),
        (
            r#"GET bin"#,
            r#""a\x00b\xffc"
"#,
        ),
        (
            r#"STRLEN bin"#,
            r#"(integer) 5
"#,
        ),
        (
            r#"APPEND bin "\x00""#,
            r#"(integer) 6
"#,
        ),
        (
            r#"GET bin"#,
            r#""a\x00b\xffc\x00"
"#,
        ),
        (
            r#"GETEX nope"#,
            r#"(nil)
"#,
        ),
        (
            r#"GETEX t EX 100"#,
            r#""Hello Redis"
"#,
        ),
        (
            r#"TTL t"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"GETEX t PERSIST"#,
            r#""Hello Redis"
"#,
        ),
        (
            r#"TTL t"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"GETEX t EX 10 PERSIST"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"GETEX t EX 0"#,
            r#"(error) ERR invalid expire time in 'getex' command
"#,
        ),
        (
            r#"GETEX t EX -1"#,
            r#"(error) ERR invalid expire time in 'getex' command
"#,
        ),
        (
            r#"GETEX nope EX 0"#,
            r#"(error) ERR invalid expire time in 'getex' command
"#,
        ),
        (
            r#"GETEX t PX 100000"#,
            r#""Hello Redis"
"#,
        ),
        (
            r#"TTL t"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"GETEX t EXAT 1"#,
            r#""Hello Redis"
"#,
        ),
        (
            r#"EXISTS t"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"GETEX t FOO"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SET a ohmytext"#,
            r#"OK
"#,
        ),
        (
            r#"SET b mynewtext"#,
            r#"OK
"#,
        ),
        (
            r#"LCS a b"#,
            r#""mytext"
"#,
        ),
        (
            r#"LCS a b LEN"#,
            r#"(integer) 6
"#,
        ),
        (
            r#"LCS a b IDX"#,
            r#"1) "matches"
2) 1) 1) 1) (integer) 4
         2) (integer) 7
      2) 1) (integer) 5
         2) (integer) 8
   2) 1) 1) (integer) 2
         2) (integer) 3
      2) 1) (integer) 0
         2) (integer) 1
3) "len"
4) (integer) 6
"#,
        ),
        (
            r#"LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN"#,
            r#"1) "matches"
2) 1) 1) 1) (integer) 4
         2) (integer) 7
      2) 1) (integer) 5
         2) (integer) 8
      3) (integer) 4
3) "len"
4) (integer) 6
"#,
        ),
        (
            r#"LCS a b IDX WITHMATCHLEN"#,
            r#"1) "matches"
2) 1) 1) 1) (integer) 4
         2) (integer) 7
      2) 1) (integer) 5
         2) (integer) 8
      3) (integer) 4
   2) 1) 1) (integer) 2
         2) (integer) 3
      2) 1) (integer) 0
         2) (integer) 1
      3) (integer) 2
3) "len"
4) (integer) 6
"#,
        ),
        (
            r#"LCS a b IDX MINMATCHLEN -1"#,
            r#"1) "matches"
2) 1) 1) 1) (integer) 4
         2) (integer) 7
      2) 1) (integer) 5
         2) (integer) 8
   2) 1) 1) (integer) 2
         2) (integer) 3
      2) 1) (integer) 0
         2) (integer) 1
3) "len"
4) (integer) 6
"#,
        ),
        (
            r#"LCS a b LEN IDX"#,
            r#"(error) ERR If you want both the length and indexes, please just use IDX.
"#,
        ),
        (
            r#"LCS a b FOO"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"LCS a b MINMATCHLEN"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"LCS a b MINMATCHLEN x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"LCS a nope"#,
            r#"""
"#,
        ),
        (
            r#"LCS nope nope2 IDX"#,
            r#"1) "matches"
2) (empty array)
3) "len"
4) (integer) 0
"#,
        ),
        (
            r#"OBJECT ENCODING a"#,
            r#""embstr"
"#,
        ),
        (
            r#"SET i 12345"#,
            r#"OK
"#,
        ),
        (
            r#"OBJECT ENCODING i"#,
            r#""int"
"#,
        ),
        (
            r#"SET i -12345"#,
            r#"OK
"#,
        ),
        (
            r#"OBJECT ENCODING i"#,
            r#""int"
"#,
        ),
        (
            r#"SET i 12345678901234567890"#,
            r#"OK
"#,
        ),
        (
            r#"OBJECT ENCODING i"#,
            r#""embstr"
"#,
        ),
        (
            r#"SET i "12345678901234567890123456789012345678901234""#,
            r#"OK
"#,
        ),
        (
            r#"OBJECT ENCODING i"#,
            r#""embstr"
"#,
        ),
        (
            r#"SET i "123456789012345678901234567890123456789012345""#,
            r#"OK
"#,
        ),
        (
            r#"OBJECT ENCODING i"#,
            r#""embstr"
"#,
        ),
        (
            r#"APPEND i2 x"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"OBJECT ENCODING i2"#,
            r#""embstr"
"#,
        ),
        (
            r#"APPEND i2 y"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"OBJECT ENCODING i2"#,
            r#""raw"
"#,
        ),
        (
            r#"INCR i3"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"OBJECT ENCODING i3"#,
            r#""int"
"#,
        ),
        (
            r#"INCRBYFLOAT i4 3"#,
            r#""3"
"#,
        ),
        (
            r#"OBJECT ENCODING i4"#,
            r#""embstr"
"#,
        ),
        (
            r#"SETRANGE i5 0 x"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"OBJECT ENCODING i5"#,
            r#""raw"
"#,
        ),
        (
            r#"SET i6 1"#,
            r#"OK
"#,
        ),
        (
            r#"SETRANGE i6 0 2"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"OBJECT ENCODING i6"#,
            r#""raw"
"#,
        ),
        (
            r#"INCR i6"#,
            r#"(integer) 3
"#,
        ),
        (
            r#"OBJECT ENCODING i6"#,
            r#""int"
"#,
        ),
    ]);
}

#[test]
fn keys_reply_like_the_real_server() {
    check(&[
        (
            r#"FLUSHALL"#,
            r#"OK
"#,
        ),
        (
            r#"SET a 1"#,
            r#"OK
"#,
        ),
        (
            r#"EXISTS a a nope"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"TYPE a"#,
            r#"string
"#,
        ),
        (
            r#"TYPE nope"#,
            r#"none
"#,
        ),
        (
            r#"DEL a nope"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"UNLINK a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"MSET k1 1 k2 2"#,
            r#"OK
"#,
        ),
        (
            r#"UNLINK k1 k2 k3"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"DBSIZE"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"RENAME nope x"#,
            r#"(error) ERR no such key
"#,
        ),
        (
            r#"SET a 1"#,
            r#"OK
"#,
        ),
        (
            r#"RENAME a a"#,
            r#"OK
"#,
        ),
        (
            r#"RENAMENX a a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"RENAMENX a b"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"SET a 2"#,
            r#"OK
"#,
        ),
        (
            r#"RENAMENX a b"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"RENAME a b"#,
            r#"OK
"#,
        ),
        (
            r#"GET b"#, r#""2"
"#,
        ),
        (
            r#"EXISTS a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET a 1 EX 100"#,
            r#"OK
"#,
        ),
        (
            r#"RENAME a c"#,
            r#"OK
"#,
        ),
        (
            r#"TTL c"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"COPY c d"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"TTL d"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"GET d"#, r#""1"
"#,
        ),
        (
            r#"COPY c d"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"COPY c d REPLACE"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"COPY c c"#,
            r#"(error) ERR source and destination objects are the same
"#,
        ),
        (
            r#"COPY c e DB 16"#,
            r#"(error) ERR DB index is out of range
"#,
        ),
        (
            r#"COPY c e DB x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"COPY c e DB -1"#,
            r#"(error) ERR DB index is out of range
"#,
        ),
        (
            r#"COPY c e FOO"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"COPY c e DB"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"COPY nope e"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"COPY c e DB 1"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"SELECT 1"#,
            r#"OK
"#,
        ),
        (
            r#"GET e"#, r#""1"
"#,
        ),
        (
            r#"TTL e"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"SELECT 0"#,
            r#"OK
"#,
        ),
        (
            r#"MOVE c 0"#,
            r#"(error) ERR source and destination objects are the same
"#,
        ),
        (
            r#"MOVE c 16"#,
            r#"(error) ERR DB index is out of range
"#,
        ),
        (
            r#"MOVE c x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"MOVE nope 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET e local"#,
            r#"OK
"#,
        ),
        (
            r#"MOVE e 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"MOVE c 1"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXISTS c"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SELECT 1"#,
            r#"OK
"#,
        ),
        (
            r#"GET c"#, r#""1"
"#,
        ),
        (
            r#"TTL c"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"SWAPDB 0 1"#,
            r#"OK
"#,
        ),
        (
            r#"GET e"#,
            r#""local"
"#,
        ),
        (
            r#"SELECT 0"#,
            r#"OK
"#,
        ),
        (
            r#"GET c"#, r#""1"
"#,
        ),
        (
            r#"SWAPDB 0 16"#,
            r#"(error) ERR DB index is out of range
"#,
        ),
        (
            r#"SWAPDB a b"#,
            r#"(error) ERR invalid first DB index
"#,
        ),
        (
            r#"SWAPDB 0 a"#,
            r#"(error) ERR invalid second DB index
"#,
        ),
        (
            r#"SWAPDB 0 0"#,
            r#"OK
"#,
        ),
        (
            r#"SWAPDB 0 1"#,
            r#"OK
"#,
        ),
        (
            r#"FLUSHDB"#,
            r#"OK
"#,
        ),
        (
            r#"SET h hello"#,
            r#"OK
"#,
        ),
        (
            r#"SET hallo 1"#,
            r#"OK
"#,
        ),
        (
            r#"SET hxllo 1"#,
            r#"OK
"#,
        ),
        (
            r#"SET hllo 1"#,
            r#"OK
"#,
        ),
        (
            r#"SET heeeello 1"#,
            r#"OK
"#,
        ),
        (
            r#"SET "h*llo" 1"#,
            r#"OK
"#,
        ),
        (
            r#"SET "h\\llo" 1"#,
            r#"OK
"#,
        ),
        (
            r#"KEYS h?llo"#,
            r#"1) "hallo"
2) "hxllo"
3) "h*llo"
4) "h\\llo"
"#,
        ),
        (
            r#"KEYS h*llo"#,
            r#"1) "hallo"
2) "hxllo"
3) "hllo"
4) "heeeello"
5) "h*llo"
6) "h\\llo"
"#,
        ),
        (
            r#"KEYS h[ae]llo"#,
            r#"1) "hallo"
"#,
        ),
        (
            r#"KEYS h[^e]llo"#,
            r#"1) "hallo"
2) "hxllo"
3) "h*llo"
4) "h\\llo"
"#,
        ),
        (
            r#"KEYS h[a-b]llo"#,
            r#"1) "hallo"
"#,
        ),
        (
            r#"KEYS h\*llo"#,
            r#"1) "h*llo"
"#,
        ),
        (
            r#"KEYS h["#,
            r#"(empty array)
"#,
        ),
        (
            r#"KEYS nomatch*"#,
            r#"(empty array)
"#,
        ),
        (
            r#"TOUCH h hallo nope"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"SCAN x"#,
            r#"(error) ERR invalid cursor
"#,
        ),
        (
            r#"SCAN -1"#,
            r#"(error) ERR invalid cursor
"#,
        ),
        (
            r#"SCAN 18446744073709551616"#,
            r#"(error) ERR invalid cursor
"#,
        ),
        (
            r#"SCAN 0 COUNT 0"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SCAN 0 COUNT -1"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SCAN 0 COUNT x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"SCAN 0 MATCH"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SCAN 0 TYPE foo"#,
            r#"(error) ERR unknown type name 'foo'
"#,
        ),
        (
            r#"SCAN 0 FOO bar"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SCAN 0 MATCH h[ae]llo COUNT 100"#,
            r#"1) "0"
2) 1) "hallo"
"#,
        ),
        (
            r#"SCAN 0 MATCH heee* TYPE string COUNT 1000"#,
            r#"1) "0"
2) 1) "heeeello"
"#,
        ),
        (
            r#"SCAN 0 TYPE list COUNT 1000"#,
            r#"1) "0"
2) (empty array)
"#,
        ),
        (
            r#"FLUSHDB"#,
            r#"OK
"#,
        ),
        (
            r#"RANDOMKEY"#,
            r#"(nil)
"#,
        ),
        (
            r#"SET only 1"#,
            r#"OK
"#,
        ),
        (
            r#"RANDOMKEY"#,
            r#""only"
"#,
        ),
        (
            r#"FLUSHDB"#,
            r#"OK
"#,
        ),
        (
            r#"FLUSHDB SYNC"#,
            r#"OK
"#,
        ),
        (
            r#"FLUSHDB ASYNC"#,
            r#"OK
"#,
        ),
        (
            r#"FLUSHDB foo"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"FLUSHALL ASYNC"#,
            r#"OK
"#,
        ),
        (
            r#"SET a 1"#,
            r#"OK
"#,
        ),
        (
            r#"OBJECT ENCODING nope"#,
            r#"(nil)
"#,
        ),
        (
            r#"OBJECT FREQ a"#,
            r#"(error) ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.
"#,
        ),
        (
            r#"OBJECT REFCOUNT a"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"OBJECT IDLETIME a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"OBJECT HELP"#,
            r#" 1) OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
 2) ENCODING <key>
 3)     Return the kind of internal representation used in order to store the value
 4)     associated with a <key>.
 5) FREQ <key>
 6)     Return the access frequency index of the <key>. The returned integer is
 7)     proportional to the logarithm of the recent access frequency of the key.
 8) IDLETIME <key>
 9)     Return the idle time of the <key>, that is the approximated number of
10)     seconds elapsed since the last access to the key.
11) REFCOUNT <key>
12)     Return the number of references of the value associated with the specified
13)     <key>.
14) HELP
15)     Print this help.
"#,
        ),
        (
            r#"OBJECT"#,
            r#"(error) ERR wrong number of arguments for 'object' command
"#,
        ),
        (
            r#"OBJECT foo"#,
            r#"(error) ERR unknown subcommand 'foo'. Try OBJECT HELP.
"#,
        ),
        (
            r#"OBJECT ENCODING"#,
            r#"(error) ERR wrong number of arguments for 'object|encoding' command
"#,
        ),
        (
            r#"OBJECT ENCODING a b"#,
            r#"(error) ERR wrong number of arguments for 'object|encoding' command
"#,
        ),
        (
            r#"PING"#, r#"PONG
"#,
        ),
        (
            r#"PING hello"#,
            r#""hello"
"#,
        ),
        (
            r#"PING a b"#,
            r#"(error) ERR wrong number of arguments for 'ping' command
"#,
        ),
        (
            r#"ECHO "x y""#,
            r#""x y"
"#,
        ),
        (
            r#"ECHO"#,
            r#"(error) ERR wrong number of arguments for 'echo' command
"#,
        ),
    ]);
}

#[test]
fn expire_reply_like_the_real_server() {
    check(&[
        (
            r#"FLUSHALL"#,
            r#"OK
"#,
        ),
        (
            r#"EXPIRE nope 100"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET a 1"#,
            r#"OK
"#,
        ),
        (
            r#"EXPIRE a 10 NX XX"#,
            r#"(error) ERR NX and XX, GT or LT options at the same time are not compatible
"#,
        ),
        (
            r#"EXPIRE a 10 GT LT"#,
            r#"(error) ERR GT and LT options at the same time are not compatible
"#,
        ),
        (
            r#"EXPIRE a 10 NX GT"#,
            r#"(error) ERR NX and XX, GT or LT options at the same time are not compatible
"#,
        ),
        (
            r#"EXPIRE a 10 FOO"#,
            r#"(error) ERR Unsupported option FOO
"#,
        ),
        (
            r#"EXPIRE a x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"EXPIRE a 9223372036854775807"#,
            r#"(error) ERR invalid expire time in 'expire' command
"#,
        ),
        (
            r#"EXPIRE a -9223372036854775808"#,
            r#"(error) ERR invalid expire time in 'expire' command
"#,
        ),
        (
            r#"PEXPIRE a 9223372036854775807"#,
            r#"(error) ERR invalid expire time in 'pexpire' command
"#,
        ),
        (
            r#"EXPIRE a 100 XX"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"EXPIRE a 100 NX"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"EXPIRE a 100 NX"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"EXPIRE a 50 GT"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"EXPIRE a 200 GT"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) 200
"#,
        ),
        (
            r#"EXPIRE a 300 LT"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"EXPIRE a 100 LT"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"EXPIRE a 100 xx"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"PERSIST a"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"PERSIST a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"PERSIST nope"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"TTL nope"#,
            r#"(integer) -2
"#,
        ),
        (
            r#"PTTL a"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"PTTL nope"#,
            r#"(integer) -2
"#,
        ),
        (
            r#"EXPIRETIME a"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"EXPIRETIME nope"#,
            r#"(integer) -2
"#,
        ),
        (
            r#"PEXPIRETIME a"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"EXPIRE a 100 GT"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"EXPIRE a 100 LT"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXPIREAT a 4000000000"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXPIRETIME a"#,
            r#"(integer) 4000000000
"#,
        ),
        (
            r#"PEXPIRETIME a"#,
            r#"(integer) 4000000000000
"#,
        ),
        (
            r#"PEXPIREAT a 4000000000123"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"PEXPIRETIME a"#,
            r#"(integer) 4000000000123
"#,
        ),
        (
            r#"EXPIRETIME a"#,
            r#"(integer) 4000000000
"#,
        ),
        (
            r#"PERSIST a"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXPIRE a 0"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXISTS a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET a 1"#,
            r#"OK
"#,
        ),
        (
            r#"EXPIRE a -5 GT"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"EXISTS a"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXPIRE a -5"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXISTS a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET a 1"#,
            r#"OK
"#,
        ),
        (
            r#"EXPIREAT a 1"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXISTS a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET a 1"#,
            r#"OK
"#,
        ),
        (
            r#"PEXPIREAT a 1 NX"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"EXISTS a"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"PEXPIREAT nope 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET a 1 EX 100"#,
            r#"OK
"#,
        ),
        (
            r#"SET a 2"#,
            r#"OK
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"SET a 1 EX 100"#,
            r#"OK
"#,
        ),
        (
            r#"INCR a"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"APPEND a x"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) 100
"#,
        ),
        (
            r#"SET a 1 EX 100"#,
            r#"OK
"#,
        ),
        (
            r#"GETSET a 2"#,
            r#""1"
"#,
        ),
        (
            r#"TTL a"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"SET a 1 EX 100"#,
            r#"OK
"#,
        ),
        (
            r#"RENAME a b"#,
            r#"OK
"#,
        ),
        (
            r#"TTL b"#,
            r#"(integer) 100
"#,
        ),
    ]);
}

#[test]
fn bitmap_reply_like_the_real_server() {
    check(&[
        (
            r#"FLUSHALL"#,
            r#"OK
"#,
        ),
        (
            r#"SET s foobar"#,
            r#"OK
"#,
        ),
        (
            r#"BITCOUNT s"#,
            r#"(integer) 26
"#,
        ),
        (
            r#"BITCOUNT s 0 0"#,
            r#"(integer) 4
"#,
        ),
        (
            r#"BITCOUNT s 1 1"#,
            r#"(integer) 6
"#,
        ),
        (
            r#"BITCOUNT s 1 -2"#,
            r#"(integer) 18
"#,
        ),
        (
            r#"BITCOUNT s -3 -1"#,
            r#"(integer) 10
"#,
        ),
        (
            r#"BITCOUNT s 5 30 BIT"#,
            r#"(integer) 17
"#,
        ),
        (
            r#"BITCOUNT s 0 -1 BIT"#,
            r#"(integer) 26
"#,
        ),
        (
            r#"BITCOUNT s -5 -1 BIT"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"BITCOUNT s 3 3 bit"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITCOUNT s 100 200"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITCOUNT s -100 -50"#,
            r#"(integer) 4
"#,
        ),
        (
            r#"SET p "\xff\xf0\x00""#,
            r#"OK
"#,
        ),
        (
            r#"BITPOS p 0"#,
            r#"(integer) 12
"#,
        ),
        (
            r#"BITPOS p 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITPOS p 0 2"#,
            r#"(integer) 16
"#,
        ),
        (
            r#"BITPOS p 1 2"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITPOS p 0 0 0"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITPOS p 0 0 -1"#,
            r#"(integer) 12
"#,
        ),
        (
            r#"BITPOS p 1 1 -1"#,
            r#"(integer) 8
"#,
        ),
        (
            r#"BITPOS p 0 7 15 BIT"#,
            r#"(integer) 12
"#,
        ),
        (
            r#"BITPOS p 1 7 15 BIT"#,
            r#"(integer) 7
"#,
        ),
        (
            r#"BITPOS p 0 0 7 BIT"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITPOS p 1 -5 -1 bit"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"SET z "\x00\x00\x00""#,
            r#"OK
"#,
        ),
        (
            r#"BITPOS z 1"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITPOS z 0"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET f "\xff\xff\xff""#,
            r#"OK
"#,
        ),
        (
            r#"BITPOS f 0"#,
            r#"(integer) 24
"#,
        ),
        (
            r#"BITPOS f 0 0 -1"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITPOS f 0 1"#,
            r#"(integer) 24
"#,
        ),
        (
            r#"BITPOS f 1 5 2"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"SETBIT m 7 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SETBIT m 0 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"GET m"#,
            r#""\x81"
"#,
        ),
        (
            r#"SETBIT m 20 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"GET m"#,
            r#""\x81\x00\b"
"#,
        ),
        (
            r#"STRLEN m"#,
            r#"(integer) 3
"#,
        ),
        (
            r#"GETBIT m 20"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"GETBIT m 21"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"GETBIT m 1000"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITCOUNT m"#,
            r#"(integer) 3
"#,
        ),
        (
            r#"SET a "\xff\x0f""#,
            r#"OK
"#,
        ),
        (
            r#"SET b "\xf0""#,
            r#"OK
"#,
        ),
        (
            r#"BITOP AND dest a b"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"GET dest"#,
            r#""\xf0\x00"
"#,
        ),
        (
            r#"BITOP OR dest a b"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"GET dest"#,
            r#""\xff\x0f"
"#,
        ),
        (
            r#"BITOP XOR dest a b nope"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"GET dest"#,
            r#""\x0f\x0f"
"#,
        ),
        (
            r#"BITOP NOT dest a"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"GET dest"#,
            r#""\x00\xf0"
"#,
        ),
        (
            r#"BITOP AND dest nope nope2"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"EXISTS dest"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SET dest x EX 100"#,
            r#"OK
"#,
        ),
        (
            r#"BITOP OR dest a"#,
            r#"(integer) 2
"#,
        ),
        (
            r#"TTL dest"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITFIELD bf SET u8 0 255 GET u8 0 GET i8 0"#,
            r#"1) (integer) 0
2) (integer) 255
3) (integer) -1
"#,
        ),
        (
            r#"BITFIELD bf INCRBY u8 0 10"#,
            r#"1) (integer) 9
"#,
        ),
        (
            r#"BITFIELD bf OVERFLOW SAT INCRBY u8 0 300 INCRBY i8 0 -300"#,
            r#"1) (integer) 255
2) (integer) -128
"#,
        ),
        (
            r#"BITFIELD bf OVERFLOW FAIL INCRBY u8 0 300 GET u8 0"#,
            r#"1) (nil)
2) (integer) 128
"#,
        ),
        (
            r#"BITFIELD bf OVERFLOW WRAP INCRBY i8 0 200"#,
            r#"1) (integer) 72
"#,
        ),
        (
            r#"BITFIELD bf SET i5 #1 -3 GET i5 #1 GET u5 #1"#,
            r#"1) (integer) 0
2) (integer) -3
3) (integer) 29
"#,
        ),
        (
            r#"BITFIELD bf SET u63 0 9223372036854775807 GET u63 0"#,
            r#"1) (integer) 2855282163752894464
2) (integer) 9223372036854775807
"#,
        ),
        (
            r#"BITFIELD bf SET i64 0 -1 GET i64 0 INCRBY i64 0 1"#,
            r#"1) (integer) -2
2) (integer) -1
3) (integer) 0
"#,
        ),
        (
            r#"BITFIELD bf SET i64 0 9223372036854775807 INCRBY i64 0 1"#,
            r#"1) (integer) 0
2) (integer) -9223372036854775808
"#,
        ),
        (
            r#"BITFIELD bf OVERFLOW SAT SET i64 0 9223372036854775807 INCRBY i64 0 1"#,
            r#"1) (integer) -9223372036854775808
2) (integer) 9223372036854775807
"#,
        ),
        (
            r#"BITFIELD bf OVERFLOW FAIL SET u2 100 5 GET u2 100"#,
            r#"1) (nil)
2) (integer) 0
"#,
        ),
        (
            r#"BITFIELD bf SET u2 100 -1"#,
            r#"1) (integer) 0
"#,
        ),
        (
            r#"BITFIELD bf OVERFLOW SAT SET u2 100 -1 GET u2 100"#,
            r#"1) (integer) 3
2) (integer) 3
"#,
        ),
        (
            r#"BITFIELD bf OVERFLOW SAT SET i2 100 -5 GET i2 100"#,
            r#"1) (integer) -1
2) (integer) -2
"#,
        ),
        (
            r#"BITFIELD bf GET u16 0 GET u4 7 GET i13 3"#,
            r#"1) (integer) 32767
2) (integer) 15
3) (integer) -1
"#,
        ),
        (
            r#"STRLEN bf"#,
            r#"(integer) 13
"#,
        ),
        (
            r#"BITFIELD_RO bf GET u8 0 GET i4 4"#,
            r#"1) (integer) 127
2) (integer) -1
"#,
        ),
        (
            r#"BITFIELD_RO nope GET u8 0"#,
            r#"1) (integer) 0
"#,
        ),
        (
            r#"BITFIELD new INCRBY u3 1 9"#,
            r#"1) (integer) 1
"#,
        ),
        (
            r#"GET new"#,
            r#""\x10"
"#,
        ),
        (
            r#"GET bf"#,
            r#""\x7f\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\b"
"#,
        ),
        (
            r#"OBJECT ENCODING bf"#,
            r#""raw"
"#,
        ),
        (
            r#"OBJECT ENCODING dest"#,
            r#""raw"
"#,
        ),
    ]);
}

#[test]
fn bitmap_errors_reply_like_the_real_server() {
    check(&[
        (
            r#"FLUSHALL"#,
            r#"OK
"#,
        ),
        (
            r#"SETBIT b 4294967296 1"#,
            r#"(error) ERR bit offset is not an integer or out of range
"#,
        ),
        (
            r#"SETBIT b -1 1"#,
            r#"(error) ERR bit offset is not an integer or out of range
"#,
        ),
        (
            r#"SETBIT b x 1"#,
            r#"(error) ERR bit offset is not an integer or out of range
"#,
        ),
        (
            r#"SETBIT b 7 2"#,
            r#"(error) ERR bit is not an integer or out of range
"#,
        ),
        (
            r#"SETBIT b 7 -1"#,
            r#"(error) ERR bit is not an integer or out of range
"#,
        ),
        (
            r#"SETBIT b 7 x"#,
            r#"(error) ERR bit is not an integer or out of range
"#,
        ),
        (
            r#"SETBIT b 7 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"SETBIT b 7 1"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"GETBIT b 7"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"GETBIT b 100"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"GETBIT b 4294967296"#,
            r#"(error) ERR bit offset is not an integer or out of range
"#,
        ),
        (
            r#"GETBIT nope 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"GET b"#,
            r#""\x01"
"#,
        ),
        (
            r#"BITCOUNT b 0"#,
            r#"(integer) 1
"#,
        ),
        (
            r#"BITCOUNT b 0 1 2 3"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"BITCOUNT b 0 1 FOO"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"BITCOUNT b x 1"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"BITCOUNT nope 0 1"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITFIELD k GET u8 4294967296"#,
            r#"(error) ERR bit offset is not an integer or out of range
"#,
        ),
        (
            r#"BITFIELD k GET u8 #536870912"#,
            r#"(error) ERR bit offset is not an integer or out of range
"#,
        ),
        (
            r#"BITFIELD k GET u8 #9223372036854775807"#,
            r#"(error) ERR bit offset is not an integer or out of range
"#,
        ),
        (
            r#"BITFIELD k GET u64 0"#,
            r#"(error) ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.
"#,
        ),
        (
            r#"BITFIELD k GET i65 0"#,
            r#"(error) ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.
"#,
        ),
        (
            r#"BITFIELD k GET I8 0"#,
            r#"(error) ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.
"#,
        ),
        (
            r#"BITFIELD k GET u0 0"#,
            r#"(error) ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.
"#,
        ),
        (
            r#"BITFIELD k GET u8 -1"#,
            r#"(error) ERR bit offset is not an integer or out of range
"#,
        ),
        (
            r#"BITFIELD k OVERFLOW foo"#,
            r#"(error) ERR Invalid OVERFLOW type specified
"#,
        ),
        (
            r#"BITFIELD k FOO"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"BITFIELD k GET u8"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"BITFIELD k SET u8 0"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"BITFIELD k SET u8 0 x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"BITFIELD_RO k SET u8 0 1"#,
            r#"(error) ERR BITFIELD_RO only supports the GET subcommand
"#,
        ),
        (
            r#"BITFIELD_RO k GET u8 0"#,
            r#"1) (integer) 0
"#,
        ),
        (
            r#"BITFIELD k"#,
            r#"(empty array)
"#,
        ),
        (
            r#"EXISTS k"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITOP FOO d a"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"BITOP NOT d a b"#,
            r#"(error) ERR BITOP NOT must be called with a single source key.
"#,
        ),
        (
            r#"BITOP NOT d"#,
            r#"(error) ERR wrong number of arguments for 'bitop' command
"#,
        ),
        (
            r#"BITOP AND d nope"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"EXISTS d"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITPOS b 2"#,
            r#"(error) ERR The bit argument must be 1 or 0.
"#,
        ),
        (
            r#"BITPOS b x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"BITPOS nope 1"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITPOS nope 0"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITPOS b 1 0 1 FOO"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"BITPOS b 1 x"#,
            r#"(error) ERR value is not an integer or out of range
"#,
        ),
        (
            r#"BITPOS b 1 0 1 2 3"#,
            r#"(error) ERR syntax error
"#,
        ),
        (
            r#"SET e """#,
            r#"OK
"#,
        ),
        (
            r#"BITPOS e 0"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITPOS e 1"#,
            r#"(integer) -1
"#,
        ),
        (
            r#"BITCOUNT e"#,
            r#"(integer) 0
"#,
        ),
        (
            r#"BITCOUNT e 0 -1 BIT"#,
            r#"(integer) 0
"#,
        ),
    ]);
}
