#!/usr/bin/env bash
# Installs what the hardware-token tests (tests/token_agent.rs,
# tests/token_card.rs) and the build need, then starts pcscd with a virtual
# OpenPGP card.
#
#   Debian packages: capnproto (sequoia-gpg-agent's build), libpcsclite-dev
#   (card-backend-pcsc's build), pcscd (the PC/SC daemon), scdaemon (gpg's
#   card daemon, for the gpg-agent-over-card test), gnupg, git.
#
#   ifd-jcecard 0.2.0 from crates.io: a pcscd driver with a built-in
#   virtual OpenPGP card. Its shared library is built from the crate's
#   source and installed as a bundle under /usr/lib/pcsc/drivers, with a
#   reader entry in /etc/reader.conf.d/jcecard.
#
# Idempotent: run it as often as you like. Needs root (apt-get, /usr/lib,
# /etc). Usage: tests/token_support/setup.sh [--no-start]
set -euo pipefail

JCECARD_VERSION=0.2.0
BUNDLE=/usr/lib/pcsc/drivers/ifd-jcecard.bundle
LIB="$BUNDLE/Contents/Linux/libifd_jcecard.so"
STAMP="$BUNDLE/Contents/sigtag-version"
READER_CONF=/etc/reader.conf.d/jcecard
# Where the virtual card keeps its state (read by the driver inside pcscd).
STATE_DIR=${JCECARD_STORAGE_DIR:-/var/lib/sigtag-jcecard}
PACKAGES=(capnproto libpcsclite-dev pcscd scdaemon gnupg git)

say() { echo "token setup: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "must run as root (it installs packages and a pcscd driver)"
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

installed_now=no
if [ ! -f "$LIB" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$JCECARD_VERSION" ]; then
  installed_now=yes
  say "building ifd-jcecard $JCECARD_VERSION"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # Fetch the crate's source through cargo, as a dependency of a
  # throw-away package, then build its cdylib from that source.
  mkdir -p "$work/fetch/src"
  cat >"$work/fetch/Cargo.toml" <<EOF
[package]
name = "fetch-ifd-jcecard"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
ifd-jcecard = "=$JCECARD_VERSION"
EOF
  echo "fn main() {}" >"$work/fetch/src/main.rs"
  (cd "$work/fetch" && cargo fetch -q)
  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  src=$(ls -d "$cargo_home"/registry/src/*/ifd-jcecard-"$JCECARD_VERSION" | head -n 1)
  if [ -z "$src" ] || [ ! -f "$src/Cargo.toml" ]; then
    say "cargo fetched ifd-jcecard but its source is not under $cargo_home/registry/src"
    exit 1
  fi
  cp -r "$src" "$work/ifd-jcecard"
  (cd "$work/ifd-jcecard" && CARGO_TARGET_DIR="$work/target" cargo build -q --release --lib --locked)
  mkdir -p "$BUNDLE/Contents/Linux"
  cp "$work/ifd-jcecard/bundle/ifd-jcecard.bundle/Contents/Info.plist" "$BUNDLE/Contents/Info.plist"
  install -m 0755 "$work/target/release/libifd_jcecard.so" "$LIB"
  echo "$JCECARD_VERSION" >"$STAMP"
fi

mkdir -p /etc/reader.conf.d
cat >"$READER_CONF" <<EOF
# Virtual OpenPGP card for sigtag's tests (ifd-jcecard $JCECARD_VERSION).
FRIENDLYNAME "jcecard Virtual OpenPGP Card"
DEVICENAME   /dev/null
LIBPATH      $LIB
CHANNELID    0x00
EOF

if [ "${1:-}" = "--no-start" ]; then
  say "installed; not starting pcscd"
  exit 0
fi

running() {
  local pid
  pid=$(tr -cd '0-9' </run/pcscd/pcscd.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

if running && [ "$installed_now" = yes ]; then
  # A pcscd started before the driver was installed does not know it.
  pid=$(tr -cd '0-9' </run/pcscd/pcscd.pid)
  say "restarting pcscd (pid $pid) so that it loads the new driver"
  kill "$pid"
  for _ in $(seq 50); do
    running || break
    sleep 0.1
  done
fi

if running; then
  say "pcscd is running (pid $(tr -cd '0-9' </run/pcscd/pcscd.pid))"
else
  mkdir -p "$STATE_DIR" /run/pcscd
  rm -f /run/pcscd/pcscd.pid /run/pcscd/pcscd.comm
  say "starting pcscd (virtual card state in $STATE_DIR)"
  JCECARD_STORAGE_DIR="$STATE_DIR" setsid pcscd >/dev/null 2>&1 </dev/null || true
  for _ in $(seq 50); do
    running && [ -S /run/pcscd/pcscd.comm ] && break
    sleep 0.1
  done
  if ! running; then
    say "pcscd did not start; the card tests cannot run on this machine"
    exit 1
  fi
fi
say "ready: pcscd with the jcecard virtual OpenPGP card"
