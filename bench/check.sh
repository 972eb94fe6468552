#!/usr/bin/env bash
# Benchmark: the Concourse resource's check on a repository with N promotion
# tags of 3 signed layers each, cold (empty cache: clone and verify
# everything) and warm (a second check in the same container).
#
#   bench/check.sh [N]        N defaults to 10000
#   SIGTAG_BENCH_BIN=DIR bench/check.sh [N]   the binaries in DIR (check,
#                             many_tags) instead of a fresh release build
#   SIGTAG_BENCH_RULE=RULE bench/check.sh [N]  the source's require instead
#                             of "2 of humans and 1 of pipelines", e.g. a rule
#                             with a transition atom ("2 of humans and 1 of
#                             humans besides author and 1 of pipelines": alice
#                             authored every commit, bob counts besides her)
#
# The tags are written by examples/many_tags.rs with sigtag's own signing
# code (exactly what `git tag -s` then `git tag -s -f NAME NAME` twice would
# write); a sample is checked with `git verify-tag` and the repository with
# `git fsck --strict` before anything is timed. check runs with no PATH or
# HOME, as Concourse's emulators do, once over file:// and once over git://
# against `git daemon` on a free loopback port.
#
# Two cases per transport: the first check (no version: only the latest
# tag is wanted, so the newest tags are verified until one satisfies) and
# a check from the oldest version (every tag is in the answer, so all N
# chains, 3N signatures, are verified). Prints, per transport:
#   check over file://: first check cold 0.3 s, warm 0.02 s; from the oldest version (all N verified) cold 3.1 s, warm 0.05 s
set -euo pipefail

N="${1:-10000}"
RULE="${SIGTAG_BENCH_RULE:-2 of humans and 1 of pipelines}"
case "$N" in
  '' | *[!0-9]* | 0) echo "usage: bench/check.sh [N]  (N a positive number of tags)" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "bench: $*" >&2; }

if [ -n "${SIGTAG_BENCH_BIN:-}" ]; then
  # Binaries built before (to compare two builds on one machine):
  # SIGTAG_BENCH_BIN=DIR holds check and many_tags.
  CHECK="$SIGTAG_BENCH_BIN/check"
  MANY="$SIGTAG_BENCH_BIN/many_tags"
  [ -x "$CHECK" ] && [ -x "$MANY" ] ||
    { echo "bench: $SIGTAG_BENCH_BIN must hold check and many_tags" >&2; exit 2; }
else
  log "cargo build --release --bin check --example many_tags"
  (cd "$ROOT" && cargo build --release --quiet --bin check --example many_tags)
  CHECK="$ROOT/target/release/check"
  MANY="$ROOT/target/release/examples/many_tags"
fi

for tool in git gpg gpgconf python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing" >&2; exit 2; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/sigtag-bench.XXXXXX")"
export GNUPGHOME="$TMP/gnupg"
cleanup() {
  if [ -f "$TMP/daemon.pid" ]; then kill "$(cat "$TMP/daemon.pid")" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "bench: kept $TMP" >&2; gpgconf --kill all >/dev/null 2>&1 || true; return; fi
  gpgconf --kill all >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$GNUPGHOME" "$TMP/work" "$TMP/cache"
chmod 700 "$GNUPGHOME"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
W="$TMP/work"
R="$TMP/repo.git"

# --- the keys and the repository (bench/many-tags.sh) ---------------------
. "$ROOT/bench/many-tags.sh"
many_tags_repo "$N"

# --- git daemon on a free loopback port -------------------------------------------
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$PORT" --base-path="$TMP" \
  --detach --pid-file="$TMP/daemon.pid" "$TMP"
for _ in $(seq 1 100); do
  git ls-remote "git://127.0.0.1:$PORT/repo.git" HEAD >/dev/null 2>&1 && break
  sleep 0.1
done

# --- the requests -------------------------------------------------------------
request() { # URI [TAG COMMIT]
  python3 - "$W" "$RULE" "$@" <<'PY'
import json, sys
w, rule, uri = sys.argv[1], sys.argv[2], sys.argv[3]
pub = lambda who: open(f"{w}/{who}.pub").read()
req = {"source": {
    "uri": uri,
    "signers": {who: pub(who) for who in ("alice", "bob", "staging")},
    "groups": {"humans": ["alice", "bob"], "pipelines": ["staging"]},
    "require": rule}}
if len(sys.argv) > 4:
    req["version"] = {"tag": sys.argv[4], "commit": sys.argv[5]}
print(json.dumps(req))
PY
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min() { awk -v x="$1" -v y="$2" 'BEGIN { if (y == "" || x < y) print x; else print y }'; }
run_check() { env -i TMPDIR="$TMP/cache" "$CHECK" <"$W/request.json" >"$W/out.json" 2>"$W/err.log"; }
expect() { # WHAT PATTERN FILE
  grep -q -- "$2" "$3" || { echo "bench: $1:" >&2; head -c 2000 "$W/out.json" >&2; tail -3 "$W/err.log" >&2; exit 1; }
}

OLDEST_COMMIT="$(git -C "$R" rev-parse 'v0.1.0^{commit}')"

# One check, timed; prints the seconds.
timed_check() { local a b; a="$(now)"; run_check; b="$(now)"; elapsed "$a" "$b"; }
# The best of three checks in a row (a warm cache); prints the seconds.
best_warm() {
  local best="" t
  for _ in 1 2 3; do t="$(timed_check)"; best="$(min "$t" "$best")"; done
  echo "$best"
}

bench() { # NAME URI
  local name="$1" uri="$2" cold="" warm="" all="" again=""
  for _ in 1 2 3; do
    rm -rf "$TMP/cache"; mkdir -p "$TMP/cache"
    # The first check: no version, only the latest is wanted.
    request "$uri" >"$W/request.json"
    cold="$(min "$(timed_check)" "$cold")"
    expect "the first check did not return v0.$N.0" "\"v0.$N.0\"" "$W/out.json"
    warm="$(min "$(best_warm)" "$warm")"
    expect "the warm check did not use the cache" ": 0 verified now, " "$W/err.log"
    # From the oldest version: every tag is in the answer, every chain is
    # verified (the worst case: a pipeline pinned far back, or a cache
    # emptied by a change of signers, groups or rule).
    rm -rf "$TMP/cache"; mkdir -p "$TMP/cache"
    request "$uri" v0.1.0 "$OLDEST_COMMIT" >"$W/request.json"
    all="$(min "$(timed_check)" "$all")"
    expect "the check from v0.1.0 did not verify every tag" " $N verified now, 0 from the cache; $N versions" "$W/err.log"
    again="$(min "$(best_warm)" "$again")"
    expect "the warm check from v0.1.0 did not use the cache" " 0 verified now, $N from the cache; $N versions" "$W/err.log"
  done
  echo "check over $name: first check cold $cold s, warm $warm s; from the oldest version (all $N verified) cold $all s, warm $again s"
}

echo "check on $N tags x 3 layers, $(nproc) cores, best of 3, require \"$RULE\":"
bench file:// "file://$R"
bench git:// "git://127.0.0.1:$PORT/repo.git"
