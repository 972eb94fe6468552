#!/usr/bin/env bash
# Benchmark: `sigtag list` over N signed tags against `git verify-tag` run
# once per tag.
#
#   bench/list.sh [N]        N defaults to 1000
#   KEEP=1 bench/list.sh     keep the repository and keys for profiling
#
# Builds, in a temporary directory, a repository with N commits and one
# OpenPGP-signed annotated tag on each (ed25519 key in a temporary
# GNUPGHOME), and a keys directory that trusts that key as signer "alice"
# in group "humans", with environment "one" requiring "1 of humans".
#
# The tag objects are exactly what `git tag -s` writes (header, message,
# armored detached signature over both); they are written directly so that
# building 1000 of them takes seconds rather than minutes. A sample of them
# is checked with `git verify-tag` and the repository with `git fsck --strict`
# before anything is timed.
#
# Prints one line:
#   sigtag list: 0.123 s  git verify-tag x1000: 12.3 s  ratio: 100x
# sigtag's time is the best of 3 runs (hyperfine if installed); the
# git verify-tag loop is timed once.
set -euo pipefail

N="${1:-1000}"
case "$N" in
  '' | *[!0-9]* | 0) echo "usage: bench/list.sh [N]  (N a positive number of tags)" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/target/release/sigtag"

log() { echo "bench: $*" >&2; }

# Build (or refresh) the release binary. cargo is a no-op when it is current.
if command -v cargo >/dev/null 2>&1; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi
if [ ! -x "$BIN" ]; then
  echo "bench: $BIN is missing and could not be built: run 'cargo build --release'" >&2
  exit 2
fi

for tool in git gpg gpgconf; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing: run 'make deps'" >&2; exit 2; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/sigtag-bench.XXXXXX")"
export GNUPGHOME="$TMP/gnupg"
cleanup() {
  gpgconf --kill gpg-agent >/dev/null 2>&1 || true
  if [ -n "${KEEP:-}" ]; then
    log "kept $TMP (repo, keys)"
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT

R="$TMP/repo"
K="$TMP/keys"
W="$TMP/work"
mkdir -p "$GNUPGHOME" "$K" "$W"
chmod 700 "$GNUPGHOME"

# Keep the benchmark independent of the user's git configuration.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

# --- the signing key -------------------------------------------------------
# Tag i is dated i minutes after a start N+2 minutes ago and signed at its
# date (a layer's date must agree with its signature); the key is a day
# older than the first tag.
START_EPOCH="$(($(date +%s) - 60 * (N + 2)))"
UID_ALICE="Alice Example <alice@example.org>"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
  --faked-system-time "$((START_EPOCH - 86400))!" \
  --quick-gen-key "$UID_ALICE" ed25519 sign never 2>/dev/null
FPR="$(gpg --batch --quiet --with-colons --list-keys "$UID_ALICE" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')"
[ -n "$FPR" ] || { echo "bench: gpg did not create a key" >&2; exit 2; }

# --- N commits, in one fast-import stream -----------------------------------
log "building a repository with $N signed tags in $TMP"
git init -q -b main "$R"
awk -v n="$N" -v t0="$START_EPOCH" 'BEGIN {
  for (i = 1; i <= n; i++) {
    msg = "commit " i "\n"
    body = i "\n"
    printf "commit refs/heads/main\nmark :%d\n", i
    printf "committer Alice Example <alice@example.org> %d +0000\n", t0 + 60 * i
    printf "data %d\n%s", length(msg), msg
    printf "M 644 inline counter\ndata %d\n%s\n", length(body), body
  }
}' | git -C "$R" fast-import --quiet --date-format=raw --export-marks="$W/marks"

# --- N signed tag objects ---------------------------------------------------
# marks: ":<i> <commit id>". Tag i is v0.<i>.0.
while read -r mark oid; do
  i="${mark#:}"
  printf 'object %s\ntype commit\ntag v0.%d.0\ntagger %s %d +0000\n\nrelease v0.%d.0\n' \
    "$oid" "$i" "$UID_ALICE" "$((START_EPOCH + 60 * i))" "$i" >"$W/$i.payload"
done <"$W/marks"

# One gpg per tag, as `git tag -s` does; run as many at once as there are cores.
JOBS="$(nproc 2>/dev/null || echo 2)"
export FPR W START_EPOCH
# shellcheck disable=SC2016 # expanded by the inner shell
seq 1 "$N" | xargs -P "$JOBS" -n 50 sh -c '
  for i in "$@"; do
    gpg --batch --quiet --yes --lock-never --no-auto-check-trustdb \
      --pinentry-mode loopback --passphrase "" \
      --ignore-time-conflict --faked-system-time "$((START_EPOCH + 60 * i))!" \
      --local-user "$FPR" --detach-sign --armor \
      -o "$W/$i.sig" "$W/$i.payload" 2>>"$W/gpg.log" || { cat "$W/gpg.log" >&2; exit 255; }
    cat "$W/$i.payload" "$W/$i.sig" >"$W/$i.tag"
  done
' sh

seq 1 "$N" | sed "s|.*|$W/&.tag|" | git -C "$R" hash-object -t tag -w --stdin-paths >"$W/tag-ids"
seq 1 "$N" | paste -d' ' - "$W/tag-ids" |
  awk '{ printf "create refs/tags/v0.%d.0 %s\n", $1, $2 }' | git -C "$R" update-ref --stdin

[ "$(git -C "$R" tag | wc -l)" -eq "$N" ] || { echo "bench: expected $N tags" >&2; exit 2; }
git -C "$R" repack -a -d -q # packed, as a real repository mostly is
git -C "$R" fsck --strict --no-progress >/dev/null
for i in 1 "$(((N + 1) / 2))" "$N"; do
  git -C "$R" verify-tag "v0.$i.0" >/dev/null 2>&1 ||
    { echo "bench: git verify-tag rejects v0.$i.0; the generated tags are wrong" >&2; exit 2; }
done

# --- the keys directory ---------------------------------------------------------
gpg --batch --quiet --armor --export "$FPR" >"$K/alice.asc" 2>/dev/null
cat >"$K/policy.toml" <<'TOML'
[groups]
humans = ["alice"]

[environments.one]
require = "1 of humans"
TOML

# --- sanity: sigtag must accept every tag, or the timing means nothing --------
SIGTAG=("$BIN" list --env one --keys "$K" --repo "$R" --json)
ok="$("${SIGTAG[@]}" | grep -o '"satisfied": *true' | wc -l)"
if [ "$ok" -ne "$N" ]; then
  echo "bench: sigtag list found $ok of $N tags satisfied; expected all of them" >&2
  exit 1
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# --- time sigtag list: best of 3 -------------------------------------------
if command -v hyperfine >/dev/null 2>&1; then
  log "timing sigtag list with hyperfine (3 runs)"
  cmd="$(printf '%q ' "${SIGTAG[@]}")"
  hyperfine --runs 3 --warmup 1 --style none --export-json "$W/hf.json" "$cmd >/dev/null" >/dev/null
  sigtag_s="$(grep -o '"min": *[0-9.eE+-]*' "$W/hf.json" | head -1 | sed 's/.*: *//')"
else
  log "timing sigtag list (best of 3)"
  sigtag_s=""
  for _ in 1 2 3; do
    t0="$(now)"
    "${SIGTAG[@]}" >/dev/null
    t="$(elapsed "$t0" "$(now)")"
    if [ -z "$sigtag_s" ] || awk -v a="$t" -v b="$sigtag_s" 'BEGIN { exit !(a < b) }'; then
      sigtag_s="$t"
    fi
  done
fi

# --- time git verify-tag, once per tag ---------------------------------------
log "timing git verify-tag on each of $N tags"
git -C "$R" tag >"$W/tags"
t0="$(now)"
while read -r tag; do
  git -C "$R" verify-tag "$tag" >/dev/null 2>&1 || { echo "bench: git verify-tag rejects $tag" >&2; exit 2; }
done <"$W/tags"
git_s="$(elapsed "$t0" "$(now)")"

awk -v s="$sigtag_s" -v g="$git_s" -v n="$N" 'BEGIN {
  printf "sigtag list: %.3f s  git verify-tag x%d: %.1f s  ratio: %.0fx\n", s, n, g, g / s
}'
