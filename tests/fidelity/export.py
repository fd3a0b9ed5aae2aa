#!/usr/bin/env python3
"""The way out to a real server: the sandbox's exported keyspace rebuilds the same keyspace.

A session covering every type (strings with binary bytes, integers, HyperLogLog, hashes with
field TTLs, lists, sets, sorted sets, geo, streams with consumer groups and pending entries,
JSON documents, search indexes, keys in several databases, key TTLs, function libraries and
a cached script) is run through
`nosql-playground redis`, which then prints what it holds, and through
`nosql-playground redis --export cli|resp`, which prints the session for a real server. Each
export is replayed into a fresh valkey-server (with the JSON and search modules): the
redis-cli script with `redis-cli < script`, the RESP form with `redis-cli --pipe`. The real
server's keyspace is then read with the same commands and must equal the sandbox's: the same
keys, types and values, and TTLs within TTL_TOLERANCE_MS (the two runs happen a moment apart),
and the same libraries and scripts, which FCALL and EVALSHA then run alike.

Exit status 1 on any difference. Usage: python3 tests/fidelity/export.py [--bin PATH]
"""
from __future__ import annotations

import argparse
import hashlib
import pathlib
import re
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from run import ROOT, Oracle  # noqa: E402

TTL_TOLERANCE_MS = 5_000
DATABASES = 4
MARK = "__export_reply_end__"

SESSION = r"""
SET plain hello
SET "key\xfe\x00 with space" v
SET bin "a\x00\xffb\r\n"
SET counter 41
INCR counter
SET session:1 data EX 3600
HSET user:1 f1 v1 f2 v2 name Ada
HPEXPIRE user:1 60000 FIELDS 1 f1
RPUSH queue a b c d
LPUSH queue z
SADD tags red green blue
SADD ints 1 2 3 1000000
ZADD board 10 ann 2.5 bob -inf low inf high 0.1 tenth
GEOADD stores 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
PFADD visitors a b c d e f g
XADD events 1-1 type click
XADD events 2-0 type view page home
XADD events 3-0 type buy
XDEL events 3-0
XGROUP CREATE events workers 0
XREADGROUP GROUP workers alice COUNT 1 STREAMS events >
XGROUP CREATECONSUMER events workers bob
XGROUP CREATE events late $
XADD gone MAXLEN 0 5-0 x y
JSON.SET doc $ '{"name":"Laptop","price":999.5,"tags":["a",1,null,true],"nested":{"k":[1,2.25]}}'
PEXPIRE doc 90000
HSET p:1 title "Red shoes" price 10 tag sport
HSET p:2 title "Blue hat" price 25 tag winter
FT.CREATE idx:p ON HASH PREFIX 1 p: SCHEMA title TEXT WEIGHT 2 price NUMERIC SORTABLE tag TAG SEPARATOR ;
SELECT 3
SET other-db yes PX 500000
RPUSH big 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70
SELECT 0
FUNCTION LOAD "#!lua name=shop\nredis.register_function('stock', function(keys, args) return redis.call('HGET', keys[1], args[1]) end)"
FUNCTION LOAD "#!lua name=stockroom\nredis.register_function{function_name='restock', callback=function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end, flags={}, description='adds \\\"n\\\" units'}"
SCRIPT LOAD "return {KEYS[1], ARGV[1], redis.call('TYPE', KEYS[1])['ok']}"
"""
CACHED_SCRIPT = "return {KEYS[1], ARGV[1], redis.call('TYPE', KEYS[1])['ok']}"
CACHED_SHA = hashlib.sha1(CACHED_SCRIPT.encode()).hexdigest()


def observation(keys_by_db: dict[int, list[tuple[str, str]]]) -> list[str]:
    """Read commands for every key, as (db, key, type) come from the sandbox."""
    lines = []
    for db, keys in keys_by_db.items():
        lines.append(f"SELECT {db}")
        for key, kind in keys:
            k = key
            lines += [f"TYPE {k}", f"PTTL {k}"]
            if kind == "string":
                lines += [f"GET {k}"]
            elif kind == "hash":
                lines += [f"HGETALL {k}", f"HPTTL {k} FIELDS 3 f1 f2 name"]
            elif kind == "list":
                lines += [f"LRANGE {k} 0 -1"]
            elif kind == "set":
                lines += [f"SORT {k} ALPHA"]
            elif kind == "zset":
                lines += [f"ZRANGE {k} 0 -1 WITHSCORES"]
            elif kind == "stream":
                lines += [f"XRANGE {k} - +", f"XINFO STREAM {k}", f"XINFO GROUPS {k}",
                          f"XPENDING {k} workers", f"XINFO CONSUMERS {k} workers"]
            else:
                lines += [f"JSON.GET {k}"]
    lines += ["SELECT 0", "FT._LIST", 'FT.SEARCH idx:p "@price:[0 100]" SORTBY price NOCONTENT',
              "PFCOUNT visitors", "GEOPOS stores Palermo Catania"]
    # The function library and the cached script came along: FCALL and EVALSHA run them
    # (the writing call last, after every key was read).
    # One function per library: the real server lists a library's functions in its hash
    # table's order.
    lines += ["FUNCTION LIST WITHCODE LIBRARYNAME shop", "FUNCTION LIST WITHCODE LIBRARYNAME stockroom", "FCALL_RO stock 1 user:1 name", f"SCRIPT EXISTS {CACHED_SHA}",
              f"EVALSHA {CACHED_SHA} 1 queue x", "FCALL restock 1 counter 8", "GET counter"]
    return lines


def with_marks(lines: list[str]) -> str:
    return "".join(f"{line}\nECHO {MARK}\n" for line in lines)


def replies(output: str) -> list[str]:
    parts = output.split(f'"{MARK}"\n')
    return [p for p in parts[:-1]]


# Fields that depend on the moment or on allocation, not on what the keyspace holds.
VOLATILE_PAIR = re.compile(r'"(radix-tree-keys|radix-tree-nodes|seen-time|active-time|idle|inactive)"')


def normalise(command: str, reply: str) -> str:
    lines = reply.splitlines()
    out = []
    skip = False
    for line in lines:
        if skip:
            skip = False
            continue
        if VOLATILE_PAIR.search(line):
            skip = True
            continue
        out.append(line)
    return "\n".join(out)


def close_ttls(a: str, b: str) -> bool:
    na = [int(x) for x in re.findall(r"-?\d+", a)]
    nb = [int(x) for x in re.findall(r"-?\d+", b)]
    if len(na) != len(nb):
        return False
    return all((x < 0 and x == y) or (x >= 0 and y >= 0 and abs(x - y) <= TTL_TOLERANCE_MS)
               for x, y in zip(na, nb))


def sandbox(binary: pathlib.Path, script: str, *args: str) -> bytes:
    return subprocess.run([str(binary), "redis", *args], input=script.encode(),
                          capture_output=True, check=True).stdout


def cli(port: int, data: bytes, *args: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *args], input=data,
                          capture_output=True, check=True).stdout.decode("utf-8", "replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", type=pathlib.Path, default=ROOT / "target" / "debug" / "nosql-playground")
    args = parser.parse_args()
    session = SESSION.strip() + "\n"

    def read_sandbox(lines: list[str]) -> list[str]:
        """The sandbox's replies to `lines` after the session (whose own output is dropped)."""
        out = sandbox(args.bin, session + f"ECHO {MARK}\n" + with_marks(lines))
        return replies(out.decode("utf-8", "replace"))[1:]

    listed = read_sandbox([line for db in range(DATABASES) for line in (f"SELECT {db}", "KEYS *")])
    keys_by_db: dict[int, list[tuple[str, str]]] = {}
    for db in range(DATABASES):
        # Keys as redis-cli prints them: already quoted and escaped as it reads them back.
        names = re.findall(r'^\s*(?:\d+\) )?("(?:.*)")$', listed[2 * db + 1], re.M)
        if names:
            types = read_sandbox([f"SELECT {db}"] + [f"TYPE {n}" for n in sorted(names)])[1:]
            keys_by_db[db] = [(n, t.strip()) for n, t in zip(sorted(names), types)]
    reads = observation(keys_by_db)
    expected = read_sandbox(reads)

    failures = 0
    for form in ("cli", "resp"):
        exported = sandbox(args.bin, session, "--export", form)
        with Oracle() as oracle:
            if form == "cli":
                out = cli(oracle.port, exported)
                errors = [line for line in out.splitlines() if line.startswith(("ERR", "(error)", "WRONGTYPE"))]
            else:
                out = cli(oracle.port, exported, "--pipe")
                errors = [] if "errors: 0," in out else [out]
            if errors:
                print(f"{form}: the real server refused part of the export: {errors[:5]}")
                failures += 1
            got = replies(cli(oracle.port, with_marks(reads).encode(), "--no-raw"))
        if len(got) != len(expected):
            print(f"{form}: {len(got)} replies for {len(expected)} reads")
            failures += 1
            continue
        same = 0
        for command, want, have in zip(reads, expected, got):
            want, have = normalise(command, want), normalise(command, have)
            ok = close_ttls(want, have) if re.match(r"(PTTL|HPTTL) ", command) else want == have
            if ok:
                same += 1
            else:
                failures += 1
                print(f"{form}: {command}\n  sandbox: {want!r}\n  real:    {have!r}")
        print(f"export --{form}: {same}/{len(reads)} reads equal on the real server")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
