#!/usr/bin/env bash
# Benchmark: `sigtag list` over N SSH-signed tags (ssh-ed25519, the layers
# `sigtag sign --ssh-key` makes, which are what git writes with
# gpg.format=ssh) against `git verify-tag` run once per tag, which runs
# `ssh-keygen -Y verify` for each.
#
#   bench/ssh.sh [N]        N defaults to 1000
#
# Prints one line:
#   sigtag list (SSH): 0.12 s  git verify-tag x1000: 9.8 s  ratio: 80x
set -euo pipefail

N="${1:-1000}"
case "$N" in
  '' | *[!0-9]* | 0) echo "usage: bench/ssh.sh [N]  (N a positive number of tags)" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "bench: $*" >&2; }
log "cargo build --release --bin sigtag"
(cd "$ROOT" && cargo build --release --quiet --bin sigtag)
SIGTAG="$ROOT/target/release/sigtag"
for tool in git ssh-keygen; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing" >&2; exit 2; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/sigtag-bench.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
K="$TMP/keys" R="$TMP/repo"
mkdir -p "$K"
ssh-keygen -q -t ed25519 -N '' -C alice -f "$TMP/alice"
cp "$TMP/alice.pub" "$K/alice.pub"
printf '[groups]\nhumans = ["alice"]\n\n[environments.one]\nrequire = "1 of humans"\n' >"$K/policy.toml"
echo "alice@example.org $(cut -d' ' -f1,2 "$TMP/alice.pub")" >"$TMP/allowed"

log "building $R: $N commits, each with a tag signed by sigtag sign --ssh-key"
git init -q -b main "$R"
git -C "$R" config user.name Alice
git -C "$R" config user.email alice@example.org
for i in $(seq 1 "$N"); do
  echo "$i" >"$R/counter"
  git -C "$R" add counter
  git -C "$R" commit -q -m "commit $i"
  "$SIGTAG" sign "v0.$i.0" --ssh-key "$TMP/alice" --keys "$K" --repo "$R" 2>/dev/null
done
git -C "$R" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$TMP/allowed" verify-tag "v0.1.0" 2>/dev/null ||
  { echo "bench: git verify-tag rejects v0.1.0" >&2; exit 2; }

now() { date +%s.%N; }
best=""
for _ in 1 2 3; do
  a="$(now)"; "$SIGTAG" list --env one --keys "$K" --repo "$R" >"$TMP/out"; b="$(now)"
  t="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }')"
  best="$(awk -v x="$t" -v y="$best" 'BEGIN { if (y == "" || x < y) print x; else print y }')"
done
[ "$(grep -c ': yes for one' "$TMP/out")" -eq "$N" ] || { echo "bench: list did not accept every tag" >&2; exit 1; }
a="$(now)"
for i in $(seq 1 "$N"); do
  git -C "$R" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$TMP/allowed" verify-tag "v0.$i.0" 2>/dev/null
done
b="$(now)"
git_t="$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }')"
echo "sigtag list (SSH): $best s  git verify-tag x$N: $git_t s  ratio: $(awk -v a="$git_t" -v b="$best" 'BEGIN { printf "%.0f", a / b }')x"
