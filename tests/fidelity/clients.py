#!/usr/bin/env python3
"""The multi-client differential driver: scripts whose lines are addressed to several clients,
run against a real server over several connections and against `nosql-playground redis`.

Script syntax (tests/fidelity/redis-clients/*.redis): one redis-cli line per line; `#` lines
and blank lines are skipped. Sandbox lines, the same on both sides:
  .client N      later lines go to client N (created on first use; client 1 is the default)
  .time +Xms     wait: the real server sleeps X ms, the sandbox advances its virtual clock
Every client's replies are printed as `redis-cli --no-raw` prints them. What a line makes
another client receive (a pushed message, a blocked command's late reply, a MONITOR line)
follows that line's own reply, client by client in ascending number, each of its lines
prefixed with `[client N] `: the convention of the sandbox's CLI, which this driver
reproduces for the real server by reading every connection after each line.
"""
from __future__ import annotations

import re
import select
import socket
import subprocess
import time

# How long a connection may stay quiet before we take it that nothing more is coming. The
# server writes a command's reply and what it pushes to others in the same event-loop turn,
# so a short quiet period suffices even on a busy machine.
QUIET_S = 0.03
# How long a command that can block may take before we call the client blocked.
REPLY_WAIT_S = 0.1
# Any other command always gets a reply; on a loaded machine it can take far longer than
# the blocking threshold, and cutting the wait short would shift every later reply.
REPLY_WAIT_NONBLOCKING_S = 5.0
BLOCKING = {"BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX",
            "BZMPOP", "XREAD", "XREADGROUP", "WAIT", "WAITAOF", "CLIENT", "EXEC", "EVAL",
            "EVALSHA", "FCALL"}

CLIENT_LINE = re.compile(r"^\s*\.client\s+(\d+)\s*$")
TIME_LINE = re.compile(r"^\s*\.time\s+\+(\d+(?:\.\d+)?)(ms|s)\s*$")


class Incomplete(Exception):
    pass


def parse(buf: bytes, at: int = 0):
    """One RESP2/RESP3 value from `buf` at `at`: (value, next offset); Incomplete if short.
    Values are tuples (kind, payload) so that the formatter knows each one's type."""
    end = buf.find(b"\r\n", at)
    if end < 0:
        raise Incomplete
    kind, line, at = buf[at:at + 1], buf[at + 1:end], end + 2
    if kind == b"+":
        return ("status", line), at
    if kind == b"-":
        return ("error", line), at
    if kind == b":":
        return ("integer", line), at
    if kind == b",":
        return ("double", line), at
    if kind == b"(":
        return ("bignum", line), at
    if kind == b"#":
        return ("bool", line == b"t"), at
    if kind == b"_":
        return ("nil", None), at
    if kind in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return ("nil", None), at
        if len(buf) < at + n + 2:
            raise Incomplete
        data = buf[at:at + n]
        if kind == b"=":
            return ("verbatim", data[4:]), at + n + 2
        if kind == b"!":
            return ("error", data), at + n + 2
        return ("bulk", data), at + n + 2
    if kind in (b"*", b"%", b"~", b">", b"|"):
        n = int(line)
        if n < 0:
            return ("nil", None), at
        count = n * 2 if kind in (b"%", b"|") else n
        items = []
        for _ in range(count):
            item, at = parse(buf, at)
            items.append(item)
        name = {b"*": "array", b"%": "map", b"~": "set", b">": "push", b"|": "attr"}[kind]
        return (name, items), at
    raise ValueError(f"bad RESP type {kind!r}")


def repr_bytes(data: bytes) -> str:
    """redis-cli's `sdscatrepr`."""
    out = ['"']
    for b in data:
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif b == 7:
            out.append("\\a")
        elif b == 8:
            out.append("\\b")
        elif 0x20 <= b <= 0x7e:
            out.append(c)
        else:
            out.append("\\x%02x" % b)
    out.append('"')
    return "".join(out)


def format_tty(value, prefix: str = "") -> str:
    """Port of redis-cli's `cliFormatReplyTTY`."""
    kind, data = value
    if kind == "error":
        return "(error) " + data.decode(errors="replace") + "\n"
    if kind == "status":
        return data.decode(errors="replace") + "\n"
    if kind == "integer":
        return "(integer) " + data.decode() + "\n"
    if kind == "double":
        return "(double) " + data.decode() + "\n"
    if kind == "bignum":
        return "(big number) " + data.decode() + "\n"
    if kind == "bool":
        return "(true)\n" if data else "(false)\n"
    if kind == "nil":
        return "(nil)\n"
    if kind == "bulk":
        return repr_bytes(data) + "\n"
    if kind == "verbatim":
        return data.decode(errors="replace") + "\n"
    if kind == "attr":
        return ""
    items = data
    if not items:
        return {"array": "(empty array)\n", "map": "(empty hash)\n", "set": "(empty set)\n",
                "push": "(empty push)\n"}[kind]
    count = len(items) // 2 if kind == "map" else len(items)
    width = len(str(count))
    nested = prefix + " " * (width + 2)
    sep = {"set": "~", "map": "#"}.get(kind, ")")
    out = []
    i = 0
    while i < len(items):
        human = (i // 2 if kind == "map" else i) + 1
        out.append(("" if i == 0 else prefix) + str(human).rjust(width) + sep + " ")
        out.append(format_tty(items[i], nested))
        if kind == "map":
            i += 1
            out[-1] = out[-1][:-1] + " => "
            # A non-empty aggregate value starts on the next line, as redis-cli 7.0 prints it.
            value = items[i]
            if value[0] in ("array", "map", "set", "push") and value[1]:
                out.append("\n" + nested)
            out.append(format_tty(value, nested))
        i += 1
    return "".join(out)


def encode(args: list[bytes]) -> bytes:
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def split_args(line: str) -> list[bytes] | None:
    """redis-cli's `sdssplitargs`."""
    p = line.encode()
    args: list[bytes] = []
    i = 0
    while True:
        while i < len(p) and p[i:i + 1].isspace():
            i += 1
        if i >= len(p):
            return args
        cur = bytearray()
        inq = insq = False
        while True:
            c = p[i:i + 1]
            if inq:
                if not c:
                    return None
                if c == b"\\" and p[i + 1:i + 2] == b"x" and re.match(rb"[0-9a-fA-F]{2}", p[i + 2:i + 4]):
                    cur.append(int(p[i + 2:i + 4], 16))
                    i += 3
                elif c == b"\\" and i + 1 < len(p):
                    i += 1
                    cur += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"a": b"\a"}.get(p[i:i + 1], p[i:i + 1])
                elif c == b'"':
                    break
                else:
                    cur += c
            elif insq:
                if not c:
                    return None
                if c == b"\\" and p[i + 1:i + 2] == b"'":
                    i += 1
                    cur += b"'"
                elif c == b"'":
                    break
                else:
                    cur += c
            else:
                if not c or c in (b" ", b"\n", b"\r", b"\t"):
                    break
                if c == b'"':
                    inq = True
                elif c == b"'":
                    insq = True
                else:
                    cur += c
            i += 1
        if inq or insq:
            # A closing quote must be followed by a space or the end of the line.
            if i + 1 < len(p) and not p[i + 1:i + 2].isspace():
                return None
            i += 1
        args.append(bytes(cur))


class Connection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.buf = b""

    def send(self, args: list[bytes]) -> None:
        self.sock.setblocking(True)
        self.sock.sendall(encode(args))
        self.sock.setblocking(False)

    def values(self) -> list:
        """Every complete value received so far."""
        out = []
        while self.buf:
            try:
                value, at = parse(self.buf)
            except Incomplete:
                break
            out.append(value)
            self.buf = self.buf[at:]
        return out

    def has_value(self) -> bool:
        try:
            parse(self.buf)
            return True
        except Incomplete:
            return False

    def pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return False
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return False
        if not data:
            return False
        self.buf += data
        return True


def prefixed(client: int, text: str) -> str:
    return "".join(f"[client {client}] {line}\n" for line in text.splitlines())


def quiet_read(conns: dict[int, Connection], quiet: float) -> None:
    """Reads every connection until all have been silent for `quiet` seconds."""
    while True:
        socks = {c.sock: c for c in conns.values()}
        ready, _, _ = select.select(list(socks), [], [], quiet)
        if not ready:
            return
        for s in ready:
            socks[s].pump(0)


def run_real(port: int, lines: list[str]) -> list[str]:
    """Each line's output on a real server, in the sandbox CLI's convention."""
    conns: dict[int, Connection] = {}
    current = 1
    outputs = []

    def conn(n: int) -> Connection:
        if n not in conns:
            conns[n] = Connection(port)
        return conns[n]

    conn(1)
    for line in lines:
        out = ""
        m = CLIENT_LINE.match(line)
        t = TIME_LINE.match(line)
        if m:
            current = int(m.group(1))
            conn(current)
            outputs.append(out)
            continue
        if t:
            amount = float(t.group(1)) / (1000 if t.group(2) == "ms" else 1)
            time.sleep(amount)
        else:
            args = split_args(line)
            if args is None:
                outputs.append("Invalid argument(s)\n")
                continue
            if not args:
                outputs.append("")
                continue
            c = conn(current)
            c.send(args)
            can_block = bytes(args[0]).decode(errors="replace").upper() in BLOCKING
            deadline = time.monotonic() + (REPLY_WAIT_S if can_block else REPLY_WAIT_NONBLOCKING_S)
            while time.monotonic() < deadline and not c.has_value():
                c.pump(0.01)
        quiet_read(conns, QUIET_S)
        for n in sorted(conns, key=lambda n: (n != current, n)):
            text = "".join(format_tty(v) for v in conns[n].values())
            if n == current:
                out = text + out
            elif text:
                out += prefixed(n, text)
        outputs.append(out)
    for c in conns.values():
        c.sock.close()
    return outputs


def run_ours(binary: str, lines: list[str]) -> list[str]:
    """Each line's output from the sandbox CLI. A `.client N` line after every line marks
    where one line's output ends (it prints `(sandbox) client N` and nothing else)."""
    current = 1
    script = []
    for line in lines:
        m = CLIENT_LINE.match(line)
        if m:
            current = int(m.group(1))
        script.append(line)
        if not m:
            script.append(f".client {current}")
    done = subprocess.run([binary, "redis"], input="\n".join(script).encode() + b"\n",
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    text = done.stdout.decode("utf-8", errors="replace")
    outputs: list[str] = []
    piece: list[str] = []
    marker = re.compile(r"^\(sandbox\) client \d+$")
    for out_line in text.splitlines(keepends=True):
        if marker.match(out_line.rstrip("\n")):
            outputs.append("".join(piece))
            piece = []
        else:
            piece.append(out_line)
    # `.client` lines print a marker of their own, and `.time` lines the virtual time: what
    # the real server cannot print is left out on our side too.
    for i, line in enumerate(lines):
        if i < len(outputs) and TIME_LINE.match(line):
            outputs[i] = "".join(l for l in outputs[i].splitlines(keepends=True)
                                 if not l.startswith("(sandbox) virtual time"))
    return outputs + [""] * (len(lines) - len(outputs))


# MONITOR lines carry the time and the peer's address, which no two runs share.
MONITOR_LINE = re.compile(r"^((?:\[client \d+\] )?)\d+\.\d{6} \[(\d+) [^\]]+\]", re.M)


def normalise(text: str) -> str:
    return MONITOR_LINE.sub(r"\1<time> [\2 <addr>]", text)


def compare(binary: str, port: int, lines: list[str]) -> tuple[list[str], list[str]]:
    """(real, ours) outputs per line, normalised."""
    real = [normalise(t) for t in run_real(port, lines)]
    ours = [normalise(t) for t in run_ours(binary, lines)]
    return real, ours


if __name__ == "__main__":
    import sys
    lines = [l for l in open(sys.argv[2]).read().splitlines() if l.strip() and not l.lstrip().startswith("#")]
    for line, out in zip(lines, run_real(int(sys.argv[1]), lines)):
        print(f">> {line}\n{out}", end="")
