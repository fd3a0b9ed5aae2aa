#!/usr/bin/env python3
"""What the page ships, raw and gzipped (-9), and the budget it must stay under.

    scripts/size_report.py            two tables: the first load (www/pkg/*.wasm, www/pkg/*.js
                                      and what www/index.html loads: the page's bundle
                                      www/dist/main.js, its stylesheet, the HTML) and what
                                      loads on first use (www/pkg-full: the module with the
                                      Lua engine, RediSearch, RedisJSON, streams, GEO*, the
                                      MongoDB engine, the driver snippets and the other parts
                                      of redis::parts, which replaces the first; and the
                                      bundle's chunks loaded later, such as the keyspace
                                      panel's detail views);
                                      then the embed's bundles, which course pages load
                                      instead of the page
    scripts/size_report.py --check    also exit 1 when the first load's gzipped wasm + JS
                                      exceeds bench/size-budget.json
    scripts/size_report.py --json     the same numbers for scripts/bench

The page's scripts are counted as served: bundled and minified by scripts/build-page.mjs
(www/dist/manifest.json says which chunks each bundle imports), not the sources in www/js/.
The budget counts the first load's wasm and JS only: they are what a student waits for
before the first command runs; HTML and CSS are listed for completeness. The full module is
fetched only when a command of a part it lacks (a script, FT.*, JSON.*, X*, GEO*, PF*, a bitmap
command, SORT...), Mongo input, a snapshot needing one, or a driver snippet first needs it.
"""
import argparse
import gzip
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WWW = REPO / "www"
PKG = WWW / "pkg"
FULL_PKG = WWW / "pkg-full"
DIST = WWW / "dist"
MANIFEST = DIST / "manifest.json"
BUDGET = REPO / "bench" / "size-budget.json"
# The ceiling: the checked-in budget may be lowered as the engines shrink, never raised
# past this.
CEILING = 300_000


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def module_files(pkg: Path) -> list[Path]:
    return sorted(pkg.glob("*.wasm")) + sorted(pkg.glob("*.js"))


def bundles() -> dict:
    return json.loads(MANIFEST.read_text())["bundles"]


def bundle_files(name: str, key: str = "imports") -> list[Path]:
    """A bundle and the chunks it imports statically (`key` "lazy": those it loads later)."""
    b = bundles()[name]
    return ([WWW / b["file"]] if key == "imports" else []) + [WWW / f for f in b[key]]


def page_files() -> list[Path]:
    """What www/index.html loads itself: the HTML, its stylesheets and scripts (the bundle and
    the chunks it imports), not the wasm and glue it preloads (counted with the module)."""
    html = (WWW / "index.html").read_text()
    files = [WWW / "index.html"]
    files += [WWW / h for h in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)]
    for src in re.findall(r'<script type="module" src="([^"]+)"', html):
        name = next((n for n, b in bundles().items() if b["file"] == src), None)
        files += bundle_files(name) if name else [WWW / src]
    return files


def shipped(pkg: Path) -> list[Path]:
    return module_files(pkg) + page_files()


def on_first_use(pkg: Path) -> list[Path]:
    return module_files(pkg) + bundle_files("main", "lazy")


def embed_files(_pkg: Path) -> list[Path]:
    return [f for name in bundles() if name != "main" for f in bundle_files(name)]


def kind(p: Path) -> str:
    return {".wasm": "wasm", ".js": "js"}.get(p.suffix, p.suffix.lstrip("."))


def shown(p: Path) -> str:
    return str(p.relative_to(REPO)) if REPO in p.parents else str(p)


def report(pkg: Path, files=shipped) -> dict:
    rows = []
    for p in files(pkg):
        data = p.read_bytes()
        rows.append({"file": shown(p), "kind": kind(p), "bytes": len(data), "gzipped": gz(data)})
    code = [r for r in rows if r["kind"] in ("wasm", "js")]
    return {
        "files": rows,
        "total_bytes": sum(r["bytes"] for r in rows),
        "total_gzipped": sum(r["gzipped"] for r in rows),
        "wasm_and_js_bytes": sum(r["bytes"] for r in code),
        "gzipped_wasm_and_js_bytes": sum(r["gzipped"] for r in code),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when over bench/size-budget.json")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--pkg", type=Path, default=PKG, help="the first module's package (default www/pkg)")
    ap.add_argument("--full-pkg", type=Path, default=FULL_PKG,
                    help="the full module's package, loaded on first use (default www/pkg-full)")
    args = ap.parse_args()
    pkg = args.pkg.resolve()
    full_pkg = args.full_pkg.resolve()

    if not any(pkg.glob("*.wasm")):
        print(f"size_report: no wasm in {shown(pkg)}; run scripts/build-wasm first", file=sys.stderr)
        return 1
    if not MANIFEST.exists():
        print(f"size_report: no {shown(MANIFEST)}; run scripts/build-wasm (or node scripts/build-page.mjs) first",
              file=sys.stderr)
        return 1
    r = report(pkg)
    r["embed"] = report(pkg, embed_files)
    budget = json.loads(BUDGET.read_text())["gzipped_wasm_and_js_bytes"]
    r["budget_gzipped_wasm_and_js_bytes"] = budget
    # None when only the first module was built (FIRST_ONLY=1 scripts/build-wasm).
    r["on_first_use"] = report(full_pkg, on_first_use) if any(full_pkg.glob("*.wasm")) else None

    if args.json:
        print(json.dumps(r, indent=2))
    else:
        w = max(len(f["file"]) for f in r["files"] + r["embed"]["files"] + (r["on_first_use"] or {"files": []})["files"])
        print(f"{'file':<{w}}  {'bytes':>9}  {'gzipped':>9}")
        for f in r["files"]:
            print(f"{f['file']:<{w}}  {f['bytes']:>9}  {f['gzipped']:>9}")
        print(f"{'total':<{w}}  {r['total_bytes']:>9}  {r['total_gzipped']:>9}")
        print(f"{'wasm + JS':<{w}}  {r['wasm_and_js_bytes']:>9}  {r['gzipped_wasm_and_js_bytes']:>9}"
              f"  (first load; budget {budget} gzipped)")
        later = r["on_first_use"]
        if later is None:
            print(f"\nno full module in {shown(full_pkg)} (loaded on first use); run scripts/build-wasm")
        else:
            print("\nloaded on first use (the full module: a command of a part the first lacks, Mongo input, a snapshot"
                  " needing one, a driver snippet; the key detail views: a key opened in the keyspace panel; the explain view's plan trees: a query explained):")
            for f in later["files"]:
                print(f"{f['file']:<{w}}  {f['bytes']:>9}  {f['gzipped']:>9}")
            print(f"{'wasm + JS':<{w}}  {later['wasm_and_js_bytes']:>9}  {later['gzipped_wasm_and_js_bytes']:>9}"
                  "  (loaded on first use)")
        print("\nthe embed's scripts (a course page loads one instead of the page's, with the same modules):")
        for f in r["embed"]["files"]:
            print(f"{f['file']:<{w}}  {f['bytes']:>9}  {f['gzipped']:>9}")

    if args.check:
        if budget > CEILING:
            print(f"size budget {budget} is above the {CEILING}-byte ceiling: budgets only go down",
                  file=sys.stderr)
            return 1
        if r["gzipped_wasm_and_js_bytes"] > budget:
            print(f"over budget: {r['gzipped_wasm_and_js_bytes']} gzipped bytes of wasm + JS > {budget} "
                  f"(bench/size-budget.json)", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
