#!/usr/bin/env bash
# Builds OpenSSH's test authenticator, sk-dummy (regress/misc/sk-dummy in
# OpenSSH's tree), from Debian's openssh source package, for the tests that
# sign with FIDO (ed25519-sk, ecdsa-sk) keys. Leaves
#
#   target/sk-dummy/sk-dummy.so       the provider (ssh-keygen -w, SSH_SK_PROVIDER)
#   target/sk-dummy/source-version    what it was built from
#   target/sk-dummy/src               the unpacked source package
#
# under the crate root and prints the library's path.
#
# The source is the version of the installed openssh-client when the
# archive still has it (it must speak the same SK API as ssh-keygen), else
# the newest the deb-src entry offers. Without a deb-src entry it adds one,
# /etc/apt/sources.list.d/sigtag-deb-src.sources, a copy of debian.sources
# with `Types: deb-src` (or sigtag-deb-src.list from sources.list), then runs
# apt-get update.
#
#   Debian packages: dpkg-dev (apt-get source unpacks with dpkg-source), gcc,
#   libc6-dev, make, libssl-dev (libcrypto, for ECDSA), autoconf (Debian's
#   patches touch configure.ac, and OpenSSH's configure refuses to run when
#   configure.ac is newer than configure). No libfido2, no zlib: the dummy
#   is a self-contained provider, built by configure, then
#   `make openbsd-compat/libopenbsd-compat.a regress/misc/sk-dummy/sk-dummy.so`
#   (sk-dummy.c, fatal.c, ed25519.c, hash.c, linked with libcrypto and the
#   compat library for SHA-256).
#
# Cached: when sk-dummy.so exists and source-version names the installed
# openssh-client version, it does nothing (0.1 s). A cold build takes 75-90 s
# on 2 cores, configure 55-70 s of it; installing autoconf and adding the
# deb-src entry first, about 1m40s. As root it installs what is missing;
# otherwise it prints the sudo line to run and fails.
#
# What sk-dummy does (OpenSSH 9.2p1, Debian 1:9.2p1-2+deb12u10; read in
# sk-dummy.c, ssh-keygen.c, sshsig.c and measured with ssh-keygen):
#
# - It returns, as the signature's flags byte, exactly the flags the host
#   asks with, and ssh-keygen asks with the key's own sk_flags (fixed at
#   creation). The counter is always 0x12345678 (305419896). It ignores the
#   PIN and never waits for a touch.
# - `ssh-keygen -t ed25519-sk|ecdsa-sk -w sk-dummy.so -N '' -f K` makes a
#   key with flags 0x01: its signatures carry 0x01 (user present).
#   `-O no-touch-required` makes a key whose signatures carry 0x00 (no
#   user presence); `-O verify-required` 0x05 (user present and verified);
#   both options 0x04 (verified, not present); `-O resident` adds 0x20,
#   SSH's resident-key request bit echoed back (a reserved bit in real
#   authenticator data).
# - `ssh-keygen -Y sign -w sk-dummy.so -n git -f K FILE` signs (or
#   SSH_SK_PROVIDER=sk-dummy.so). For a verify-required key ssh-keygen asks
#   for a PIN first, on /dev/tty when there is one: give it
#   SSH_ASKPASS_REQUIRE=force SSH_ASKPASS=/bin/true (any PIN does).
# - `ssh-keygen -Y verify` accepts every one of those signatures, 0x00
#   included: sshsig does not look at the flags (`-vv` prints them,
#   "signature details: counter = 305419896, flags = 0x00"). allowed_signers
#   knows cert-authority, namespaces, valid-after and valid-before only: a
#   line with `no-touch-required` (or `verify-required`) is refused,
#   "allowed_signers:1: bad options: unknown key option", and the
#   verification fails (exit 255, "Could not verify signature."), even for
#   a signature made with a touch.
# - git (gpg.format=ssh, user.signingkey=K.pub, SSH_SK_PROVIDER=sk-dummy.so
#   for git tag -s) agrees: git verify-tag passes a tag signed with flags
#   0x00, and with `no-touch-required` in gpg.ssh.allowedSignersFile it
#   fails (exit 1; "bad options: unknown key option", "No principal
#   matched.").
#
# Usage: tests/ssh_support/sk-dummy.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/target/sk-dummy"
LIB="$OUT/sk-dummy.so"
STAMP="$OUT/source-version"
SRC="$OUT/src"
LOG="$OUT/build.log"
PACKAGES=(dpkg-dev gcc libc6-dev make libssl-dev autoconf)
DEB_SRC_SOURCES=/etc/apt/sources.list.d/sigtag-deb-src.sources
DEB_SRC_LIST=/etc/apt/sources.list.d/sigtag-deb-src.list

say() { echo "sk-dummy: $*" >&2; }

# The source version sk-dummy.so should come from: the installed client's.
wanted=$(dpkg-query -W -f='${source:Version}' openssh-client 2>/dev/null || true)

if [ -f "$LIB" ] && grep -qxF "wanted ${wanted:-none}" "$STAMP" 2>/dev/null; then
  say "$LIB is up to date (openssh $(sed -n 's/^built //p' "$STAMP"))"
  echo "$LIB"
  exit 0
fi

root=no
[ "$(id -u)" -eq 0 ] && root=yes

missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$root" = no ]; then
    say "missing packages: ${missing[*]}; install them with:"
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$OUT"
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$OUT/apt.log" 2>&1; then
    say "apt-get install ${missing[*]} failed; the last lines of $OUT/apt.log:"
    tail -n 20 "$OUT/apt.log" >&2
    exit 1
  fi
fi

# The source versions of openssh the configured deb-src entries offer.
source_versions() {
  { apt-cache showsrc openssh 2>/dev/null || true; } | sed -n 's/^Version: //p'
}

# The deb-src entry this script adds, a copy of the binary entry: its path
# ($deb_src), the command that writes it, a function that prints it.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  deb_src=$DEB_SRC_SOURCES
  deb_src_line="sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > $deb_src"
  deb_src_entry() { sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources; }
elif [ -f /etc/apt/sources.list ]; then
  deb_src=$DEB_SRC_LIST
  deb_src_line="sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > $deb_src"
  deb_src_entry() { sed -n 's/^deb /deb-src /p' /etc/apt/sources.list; }
else
  deb_src=
fi

versions=$(source_versions)
if [ -z "$versions" ] || { [ -n "$wanted" ] && ! grep -qxF "$wanted" <<<"$versions"; }; then
  if [ "$root" = yes ]; then
    if [ -z "$versions" ] && [ ! -f "${deb_src:-/nonexistent}" ]; then
      if [ -z "$deb_src" ]; then
        say "no /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list to copy a deb-src entry from"
        exit 1
      fi
      say "adding the deb-src entry $deb_src"
      deb_src_entry >"$deb_src.tmp"
      mv "$deb_src.tmp" "$deb_src"
    fi
    say "apt-get update"
    apt-get update -qq
    versions=$(source_versions)
  elif [ -z "$versions" ]; then
    say "apt has no deb-src entry for openssh; add one with:"
    if [ -n "$deb_src" ]; then
      echo "  sudo sh -c \"$deb_src_line && apt-get update -qq\"" >&2
    fi
    exit 1
  fi
fi
if [ -z "$versions" ]; then
  say "apt has no source package openssh, even after apt-get update"
  exit 1
fi

if [ -n "$wanted" ] && grep -qxF "$wanted" <<<"$versions"; then
  spec="openssh=$wanted"
else
  say "openssh-client ${wanted:-(not installed)}: its source is not in the archive; building the current source"
  spec=openssh
fi

started=$(date +%s)
rm -rf "$SRC" "$LIB" "$STAMP"
mkdir -p "$SRC"
: >"$LOG"
fail() {
  say "$1 failed; the last lines of $LOG:"
  tail -n 30 "$LOG" >&2
  exit 1
}

say "apt-get source $spec into $SRC"
(cd "$SRC" && apt-get source -qq "$spec") >>"$LOG" 2>&1 || fail "apt-get source $spec"
tree=$(find "$SRC" -mindepth 1 -maxdepth 1 -type d -name 'openssh-*' | head -n 1)
[ -n "$tree" ] && [ -f "$tree/regress/misc/sk-dummy/sk-dummy.c" ] || fail "finding regress/misc/sk-dummy in the source"
built=$(cd "$tree" && dpkg-parsechangelog -S Version)

say "configuring OpenSSH $built (about a minute)"
(
  cd "$tree"
  autoconf && autoheader
  ./configure --without-zlib --without-security-key-builtin --without-hardening --disable-pkcs11
) >>"$LOG" 2>&1 || fail "configure"

say "building sk-dummy.so"
ncpu=$(nproc 2>/dev/null || echo 2)
(
  cd "$tree"
  make -j"$ncpu" openbsd-compat/libopenbsd-compat.a
  make -j"$ncpu" regress/misc/sk-dummy/sk-dummy.so
) >>"$LOG" 2>&1 || fail "make"

# Check it with ssh-keygen before recording it.
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
if ! ssh-keygen -q -t ed25519-sk -w "$tree/regress/misc/sk-dummy/sk-dummy.so" -N '' \
  -f "$check/key" </dev/null >>"$LOG" 2>&1; then
  fail "making an ed25519-sk key with the new sk-dummy.so"
fi

install -m 0755 "$tree/regress/misc/sk-dummy/sk-dummy.so" "$LIB.tmp"
mv "$LIB.tmp" "$LIB"
printf 'wanted %s\nbuilt %s\n' "${wanted:-none}" "$built" >"$STAMP"
say "built from openssh $built in $(($(date +%s) - started)) s"
echo "$LIB"
