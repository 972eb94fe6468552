#!/usr/bin/env bash
# Benchmark: `sigtag audit` against `sigtag list` on the same repository of
# N promotions (3 signed layers each, bench/many-tags.sh).
#
#   bench/audit.sh [N]        N defaults to 10000
#   SIGTAG_BENCH_RULE=RULE bench/audit.sh [N]   prod's require instead of
#                             "2 of humans and 1 of pipelines", e.g. one with
#                             a transition atom ("2 of humans and 1 of humans
#                             besides author and 1 of pipelines")
#
# Both read every tag and verify every signature; audit also reads each
# promotion's base and range and each layer's message. Each command is run
# three times and the best time kept; prints one line per format:
#   list 0.60 s; audit --format json 0.95 s (1.58x list)
set -euo pipefail

N="${1:-10000}"
RULE="${SIGTAG_BENCH_RULE:-2 of humans and 1 of pipelines}"
case "$N" in
  '' | *[!0-9]* | 0) echo "usage: bench/audit.sh [N]  (N a positive number of tags)" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "bench: $*" >&2; }

log "cargo build --release --bin sigtag --example many_tags"
(cd "$ROOT" && cargo build --release --quiet --bin sigtag --example many_tags)
SIGTAG="$ROOT/target/release/sigtag"
MANY="$ROOT/target/release/examples/many_tags"
for tool in git gpg gpgconf; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing" >&2; exit 2; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/sigtag-bench.XXXXXX")"
export GNUPGHOME="$TMP/gnupg"
cleanup() {
  gpgconf --kill all >/dev/null 2>&1 || true
  if [ -n "${KEEP:-}" ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
mkdir -p "$GNUPGHOME" "$TMP/keys"
chmod 700 "$GNUPGHOME"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

. "$ROOT/bench/many-tags.sh"
many_tags_repo "$N"
K="$TMP/keys"
for who in alice bob staging; do cp "$W/$who.pub" "$K/$who.asc"; done
cat >"$K/policy.toml" <<TOML
[groups]
humans = ["alice", "bob"]
pipelines = ["staging"]

[environments.prod]
require = "$RULE"
TOML

now() { date +%s.%N; }
best() { # COMMAND...: the best of three runs, in seconds
  local best="" a b t
  for _ in 1 2 3; do
    a="$(now)"; "$@" >"$W/out" 2>"$W/err" || { cat "$W/err" >&2; exit 1; }; b="$(now)"
    t="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }')"
    best="$(awk -v x="$t" -v y="$best" 'BEGIN { if (y == "" || x < y) print x; else print y }')"
  done
  echo "$best"
}

list="$(best "$SIGTAG" list --env prod --keys "$K" --repo "$R")"
[ "$(grep -c ': yes for prod' "$W/out")" -eq "$N" ] || { echo "bench: list did not promote every tag" >&2; exit 1; }
echo "audit and list on $N promotions x 3 layers, $(nproc) cores, best of 3, require \"$RULE\":"
for format in text json csv html; do
  t="$(best "$SIGTAG" audit --env prod --format "$format" --keys "$K" --repo "$R")"
  case "$format" in
    json) grep -q "\"promotions\": $N," "$W/out" || { echo "bench: audit did not report $N promotions" >&2; exit 1; } ;;
  esac
  echo "list $list s; audit --format $format $t s ($(awk -v a="$t" -v b="$list" 'BEGIN { printf "%.2f", a / b }')x list)"
done
