"""A minimal RESP client for the code generators (no third-party packages needed)."""
import socket, sys, json
class C:
    def __init__(s, port=6390):
        s.s = socket.create_connection(("127.0.0.1", port)); s.f = s.s.makefile("rb")
    def cmd(s, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        s.s.sendall(out); return s.read()
    def read(s):
        line = s.f.readline()[:-2]; t, rest = line[:1], line[1:]
        if t == b"+": return ("status", rest.decode())
        if t == b"-": return ("error", rest.decode())
        if t == b":": return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0: return None
            d = s.f.read(n + 2)[:-2]; return d.decode()
        if t == b"*":
            n = int(rest)
            if n < 0: return None
            return [s.read() for _ in range(n)]
        raise Exception(line)
if __name__ == "__main__":
    c = C(); print(json.dumps(c.cmd(*sys.argv[1:]), indent=1))
