#!/usr/bin/env python3
"""Prints one setting of wasm-pack.toml, e.g. `wasm_config.py tools.wasm-pack`.

Lists print one item per line, booleans as true/false. The shell scripts read every wasm
build and test setting through this, so wasm-pack.toml stays the one place they live.
"""
import pathlib
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: wasm_config.py section.key", file=sys.stderr)
        return 2
    with open(ROOT / "wasm-pack.toml", "rb") as f:
        value = tomllib.load(f)
    for part in sys.argv[1].split("."):
        if not isinstance(value, dict) or part not in value:
            print(f"wasm-pack.toml has no {sys.argv[1]}", file=sys.stderr)
            return 1
        value = value[part]
    if isinstance(value, list):
        print("\n".join(str(v) for v in value))
    elif isinstance(value, bool):
        print("true" if value else "false")
    else:
        print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
