"""Regenerates src/redis/commands/table.rs from a running real server's COMMAND INFO / COMMAND DOCS
and redis-cli's HELP. Usage: ORACLE_PORT=6390 python3 scripts/codegen/command_table.py > src/redis/commands/table.rs
H maps each command we implement to its handler; only those rows are emitted. Module commands
(JSON.*, FT.*) come with only a group and a module name in COMMAND DOCS, and redis-cli has no
help for them: their summary, since and syntax stay empty."""
import os, subprocess, re, sys
PORT = os.environ.get("ORACLE_PORT", "6390")
from resp import C
c = C(int(PORT))
def load_handlers():
    """Every handlers/*.tsv row: command name -> handler path under crate::redis. One file per
    area keeps parallel work on different types from touching the same lines."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handlers")
    table = {}
    for file in sorted(os.listdir(here)):
        if not file.endswith(".tsv"):
            continue
        for line in open(os.path.join(here, file)):
            if line.strip() and not line.startswith("#"):
                name, handler = line.split()
                assert name not in table, name
                table[name] = handler
    return table
H = load_handlers()
GROUP = {"generic": "Generic", "string": "String", "bitmap": "Bitmap", "hash": "Hash", "list": "List", "set": "Set",
         "sorted-set": "SortedSet", "geo": "Geo", "hyperloglog": "HyperLogLog", "stream": "Stream", "pubsub": "PubSub",
         "transactions": "Transactions", "scripting": "Scripting", "connection": "Connection", "server": "Server",
         "module": "Module"}
def rs(s): return '"' + s.replace('\\','\\\\').replace('"','\\"') + '"'
def opt(s): return "None" if s is None else "Some(%s)" % rs(s)
def strs(l): return "&[" + ", ".join(rs(x) for x in l) + "]"
def st(x):  # status element
    assert isinstance(x, tuple) and x[0] == "status", x; return x[1]
def pairs(l): return dict(zip(l[::2], l[1::2])), l[::2]
ARGORDER = ["name","type","display_text","key_spec_index","token","summary","since","deprecated_since","flags","arguments"]
def arg(a, ind):
    d, order = pairs(a)
    idx = [ARGORDER.index(k) for k in order]; assert idx == sorted(idx), order
    kids = d.get("arguments")
    kid = "&[]" if not kids else "&[\n" + "".join(ind+"    "+arg(k, ind+"    ")+",\n" for k in kids) + ind + "]"
    return ("Arg { name: %s, kind: %s, display: %s, key_spec: %s, token: %s, summary: %s, since: %s, deprecated_since: %s, flags: %s, args: %s }"
      % (rs(d["name"]), rs(d["type"]), opt(d.get("display_text")), d.get("key_spec_index", -1), opt(d.get("token")),
         opt(d.get("summary")), opt(d.get("since")), opt(d.get("deprecated_since")), strs([st(f) for f in d.get("flags", [])]), kid))
def keyspec(k):
    d, _ = pairs(k)
    b, _ = pairs(d["begin_search"]); bs, _ = pairs(b["spec"]) if b["spec"] else ({}, [])
    f, _ = pairs(d["find_keys"]); fs, _ = pairs(f["spec"]) if f["spec"] else ({}, [])
    begin = {"index": lambda: "BeginSearch::Index(%d)" % bs["index"],
             "keyword": lambda: "BeginSearch::Keyword(%s, %d)" % (rs(bs["keyword"]), bs["startfrom"]),
             "unknown": lambda: "BeginSearch::Unknown"}[b["type"]]()
    find = {"range": lambda: "FindKeys::Range { lastkey: %d, keystep: %d, limit: %d }" % (fs["lastkey"], fs["keystep"], fs["limit"]),
            "keynum": lambda: "FindKeys::Keynum { keynumidx: %d, firstkey: %d, keystep: %d }" % (fs["keynumidx"], fs["firstkey"], fs["keystep"]),
            "unknown": lambda: "FindKeys::Unknown"}[f["type"]]()
    return "KeySpec { notes: %s, flags: %s, begin: %s, find: %s }" % (opt(d.get("notes")), strs([st(x) for x in d["flags"]]), begin, find)
def helpline(name):
    words = name.replace("|", " ").split()
    out = subprocess.run(["redis-cli","-p",PORT,"--no-raw","help"]+words, capture_output=True, text=True).stdout
    out = re.sub(r"\x1b\[[0-9;]*m", "", out).replace("\r","")
    for block in out.split("\n\n"):
        lines = [l for l in block.split("\n") if l]
        if lines and lines[0].startswith("  " + " ".join(words).upper() + " "):
            return lines[0][len("  " + " ".join(words)) + 1:]
    print("no help for", name, file=sys.stderr); return ""
DOCORDER = ["summary","since","group","complexity","module","doc_flags","deprecated_since","replaced_by","history","arguments","subcommands"]
def spec(name, info, docs, ind):
    (_, arity, flags, first, last, step, acl, tips, kspecs, subs) = info
    d, order = pairs(docs)
    idx = [DOCORDER.index(k) for k in order]; assert idx == sorted(idx), (name, order)
    sub_docs = dict(zip(d.get("subcommands", [])[::2], d.get("subcommands", [])[1::2]))
    subs = sorted(subs, key=lambda s: s[0])
    subrows = "&[]" if not subs else "&[\n" + "".join(ind+"    "+spec(s[0], s, sub_docs[s[0]], ind+"    ")+",\n" for s in subs if s[0] in H) + ind + "]"
    argrows = "&[]" if not d.get("arguments") else "&[\n" + "".join(ind+"    "+arg(a, ind+"    ")+",\n" for a in d["arguments"]) + ind + "]"
    ks = "&[]" if not kspecs else "&[" + ", ".join(keyspec(k) for k in kspecs) + "]"
    hist = "&[" + ", ".join("(%s, %s)" % (rs(a), rs(b)) for a, b in d.get("history", [])) + "]"
    # The prose only HELP <command> and COMMAND DOCS print goes through doc! (commands/mod.rs):
    # the page's first module is built without it.
    hist = "doc!(%s)" % hist if d.get("history") else hist
    return ("CommandSpec {\n" + ind + "    name: %s,\n" + ind + "    arity: %d,\n" + ind + "    flags: %s,\n" + ind + "    keys: (%d, %d, %d),\n"
      + ind + "    group: Group::%s,\n" + ind + "    since: %s,\n" + ind + "    summary: doc!(%s),\n" + ind + "    complexity: doc!(%s),\n"
      + ind + "    syntax: %s,\n" + ind + "    acl: %s,\n" + ind + "    tips: %s,\n" + ind + "    doc_flags: %s,\n"
      + ind + "    deprecated_since: %s,\n" + ind + "    replaced_by: %s,\n" + ind + "    history: %s,\n"
      + ind + "    key_specs: %s,\n" + ind + "    args: %s,\n" + ind + "    subcommands: %s,\n" + ind + "    handler: %s,\n" + ind + "}") % (
      rs(name), arity, strs([st(f) for f in flags]), first, last, step, GROUP[d["group"]], rs(d.get("since", "")), rs(d.get("summary", "")),
      rs(d.get("complexity", "")), rs(helpline(name)), strs([st(a) for a in acl]), strs(tips), strs([st(x) for x in d.get("doc_flags", [])]),
      opt(d.get("deprecated_since")), opt(d.get("replaced_by")), hist, ks, argrows, subrows, H[name])
names = [n for n in H if "|" not in n]
out = ["// Generated from the real server's COMMAND INFO / COMMAND DOCS and redis-cli's HELP; keep verbatim.",
       "", "use super::*;", "use crate::redis::{%s};" % ", ".join(sorted({h.split("::")[0] for h in H.values()})), "",
       "pub static TABLE: &[CommandSpec] = &["]
for n in names:
    info = c.cmd("COMMAND", "INFO", n)[0]; docs = c.cmd("COMMAND", "DOCS", n)
    assert info and docs, n
    out.append("    " + spec(n, info, docs[1], "    ") + ",")
out.append("];")
print("\n".join(out))
