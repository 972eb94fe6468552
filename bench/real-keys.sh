#!/usr/bin/env bash
# Measurement: sigtag against gpg on a real project's signed tags.
#
#   bench/real-keys.sh GIT_DIR [KEY_REF]
#
# GIT_DIR is a clone of git.git (bare or not); KEY_REF (default
# junio-gpg-pub) names the blob that holds the project's signing keys.
# That blob becomes a keys directory with one signer, "junio", in group
# "maintainers", and environment "release" requiring "1 of maintainers".
#
# Then, for every tag:
#   - sigtag list --env release --json: satisfied or not, and why;
#   - git verify-tag --raw with the same keys in a fresh GNUPGHOME: gpg's
#     VALIDSIG, and the digest algorithm of the signature.
#
# Prints the counts and every disagreement: a tag gpg accepts with a
# SHA-256 or stronger signature that sigtag refuses (with its reason), and a
# tag sigtag accepts that gpg does not. Exits 1 if there is any, except
# for a tag whose chain does not end at a commit (sigtag tags commits only).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: bench/real-keys.sh GIT_DIR [KEY_REF]" >&2
  exit 2
fi
REPO="$1"
KEY_REF="${2:-junio-gpg-pub}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SIGTAG="${SIGTAG:-$ROOT/target/release/sigtag}"
[ -x "$SIGTAG" ] || (cd "$ROOT" && cargo build --release --quiet)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/keys" "$WORK/gpg"
chmod 700 "$WORK/gpg"
git -C "$REPO" cat-file blob "$KEY_REF^{}" > "$WORK/keys/junio.asc"
cat > "$WORK/keys/policy.toml" <<'EOF'
[groups]
maintainers = ["junio"]

[environments.release]
require = "1 of maintainers"
EOF

start=$(date +%s.%N)
"$SIGTAG" list --env release --keys "$WORK/keys" --repo "$REPO" --json > "$WORK/sigtag.json"
end=$(date +%s.%N)

export GNUPGHOME="$WORK/gpg"
gpg -q --batch --import "$WORK/keys/junio.asc" 2>/dev/null
git -C "$REPO" tag | while read -r t; do
  # VALIDSIG's 10th field is the signature's digest algorithm (8 SHA-256,
  # 10 SHA-512, 2 SHA-1).
  algo=$( (git -C "$REPO" verify-tag --raw "$t" 2>&1 || true) | awk '/VALIDSIG/ {print $10}')
  echo "$t ${algo:-none}"
done > "$WORK/gpg.txt"

python3 - "$WORK/sigtag.json" "$WORK/gpg.txt" "$start" "$end" <<'EOF'
import collections, json, sys
reports = {r["tag"]: r for r in json.load(open(sys.argv[1]))}
gpg = dict(line.split() for line in open(sys.argv[2]))
strong = {"8", "9", "10", "11"}
accepted = {t for t, r in reports.items() if r["satisfied"]}
print(f"tags: {len(reports)}  sigtag accepts: {len(accepted)}  "
      f"(list took {float(sys.argv[4]) - float(sys.argv[3]):.2f} s)")
algos = collections.Counter(gpg.values())
print("gpg accepts: {} ({} SHA-256 or stronger, {} SHA-1)".format(
    sum(n for a, n in algos.items() if a != "none"),
    sum(n for a, n in algos.items() if a in strong), algos.get("2", 0)))
reasons = collections.Counter()
for t, r in reports.items():
    if not r["satisfied"]:
        for p in r["problems"] or [{"reason": "needs " + str(r.get("missing"))}]:
            reasons[p["reason"].split(":")[0]] += 1
print("sigtag's reasons for refusing:")
for reason, n in reasons.most_common():
    print(f"  {n:5}  {reason}")
bad = 0
def say(line):
    if bad < 20:
        print(line)
for t in sorted(reports):
    r = reports[t]
    if gpg.get(t) in strong and not r["satisfied"]:
        why = "; ".join(p["reason"] for p in r["problems"])
        ok = "not at a commit" in why or "not a commit" in why
        line = f"gpg accepts {t}, sigtag refuses it: {why}"
        if ok:
            print("note: " + line)
        else:
            say("DISAGREE: " + line)
            bad += 1
    if r["satisfied"] and gpg.get(t) not in strong:
        say(f"DISAGREE: sigtag accepts {t}, gpg's verdict: {gpg.get(t)}")
        bad += 1
print(f"disagreements: {bad}")
sys.exit(1 if bad else 0)
EOF
