#!/usr/bin/env python3
"""Regenerates the expected output (`*.out`) of the redis-py and plain-Python golden snippets.

Each `python/redis_*.py` and `python/language_*.py` runs with real redis-py against a fresh real server (valkey-server
with the RedisJSON and RediSearch modules, as in tests/fidelity), the way the sandbox runs
it: what the snippet prints, then the repr of a last bare expression (when not None), then
the last traceback line if it raised. `localhost:6379` (and a Redis() with no address) means
the server at --port.

Usage, from the repository root:

    python3 -m venv /tmp/redis-py && /tmp/redis-py/bin/pip install redis
    valkey-server --port 6491 --save '' --loadmodule …/rejson.so --loadmodule …/redisearch.so &
    /tmp/redis-py/bin/python tests/snippets/regenerate.py --port 6491

The pymongo snippets (`python/pymongo_*.py`) have no real server here: their `.out` files
are written by hand from pymongo's documented reprs and say so in their first line.
"""

import argparse
import ast
import contextlib
import io
import pathlib
import sys

HERE = pathlib.Path(__file__).parent / "python"


def last_line(exc):
    cls = type(exc)
    name = cls.__qualname__
    if cls.__module__ not in ("builtins", "__main__"):
        name = f"{cls.__module__}.{name}"
    text = str(exc)
    return f"{name}: {text}" if text else name


def run(source, port):
    import redis
    import redis.asyncio

    source = source.replace("6379", str(port))
    originals = {cls: cls.__init__ for cls in (redis.Redis, redis.asyncio.Redis)}

    def patched(original):
        def init(self, *args, **kwargs):
            if kwargs.get("port", 6379) == 6379:
                kwargs["port"] = port
            original(self, *args, **kwargs)

        return init

    for cls, original in originals.items():
        cls.__init__ = patched(original)
    redis.Redis(port=port).flushall()
    tree = ast.parse(source)
    echo = tree.body and isinstance(tree.body[-1], ast.Expr)
    body = tree.body[:-1] if echo else tree.body
    out = io.StringIO()
    scope = {"__name__": "__main__"}
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(ast.Module(body=body, type_ignores=[]), "<snippet>", "exec"), scope)
            if echo:
                value = eval(compile(ast.Expression(tree.body[-1].value), "<snippet>", "eval"), scope)
                if value is not None:
                    print(repr(value))
        except Exception as exc:  # the snippet's own exception is part of its output
            print(last_line(exc))
    for cls, original in originals.items():
        cls.__init__ = original
    return out.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("names", nargs="*", help="snippet names (default: redis_*.py, language_*.py)")
    args = parser.parse_args()
    paths = [HERE / f"{n}.py" for n in args.names] or sorted(
        [*HERE.glob("redis_*.py"), *HERE.glob("language_*.py")]
    )
    for path in paths:
        text = run(path.read_text(), args.port)
        path.with_suffix(".out").write_text(text)
        print(f"{path.name}: {len(text.splitlines())} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
