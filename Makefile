# sigtag: build, test and try it out.
#
#   make deps    install the Debian packages the build needs
#   make test-packages  deps, plus the Debian packages the tests need
#   make build   cargo build --release
#   make demo    narrated walk-through on generated keys and a throw-away repository
#   make test    the test suite (cargo test --all-targets), after test-deps and build
#   make test-deps  test-packages, plus the virtual OpenPGP card the token tests
#                use, target/py-intoto (in-toto-attestation, which
#                validates the statements sigtag attest writes) and
#                target/sk-dummy (OpenSSH's test authenticator, for FIDO keys)
#   make lint    cargo fmt --check and cargo clippy with warnings as errors
#   make bench   bench/list.sh: sigtag list against git verify-tag on 1000 tags
#   make man     the manual pages (sigtag.1, sigtag-COMMAND.1) into target/man;
#                read one with man -l target/man/sigtag.1

CARGO ?= cargo
SHELL := /bin/bash

# Build: libssl-dev, libclang-dev and pkg-config for sequoia-openpgp's
# OpenSSL backend; capnproto (the capnp compiler) for sequoia-gpg-agent;
# libpcsclite-dev for the OpenPGP card backend.
BUILD_PACKAGES := libssl-dev libclang-dev pkg-config capnproto libpcsclite-dev

# Tests: git and gnupg as independent peers; bsdutils provides `script`,
# which the tests use to answer gpg's terminal-only prompts; scdaemon and
# pcscd for signing with an OpenPGP card through gpg-agent or PC/SC;
# openssh-server, openssl and python3 for the resource's tests over ssh
# and https; python3-yaml to read the YAML `sigtag keys source` prints and
# the example pipelines; binutils (readelf, strip) and mmdebstrap for the image's
# tests, which read the release binary's shared libraries and build the
# runtime stage's root filesystem; python3-venv for the virtual environment
# that holds in-toto-attestation (Debian's python3 lacks ensurepip without it);
# chromium, the headless browser that renders `sigtag audit --format html`;
# dpkg-dev, gcc, libc6-dev, make and autoconf to build OpenSSH's test
# authenticator (sk-dummy) from Debian's openssh source package.
TEST_PACKAGES := gnupg git bsdutils scdaemon pcscd openssh-server openssh-client openssl python3 python3-yaml python3-venv binutils mmdebstrap chromium dpkg-dev gcc libc6-dev make autoconf

.PHONY: all deps test-packages test-deps build demo test lint bench man

all: build

# $(call install,PACKAGES,WHAT): install the missing Debian packages
# (apt-get as root, otherwise print the exact line to run and fail).
define install
@missing=""; \
	for p in $(1); do \
	  if ! dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed'; then \
	    missing="$$missing $$p"; \
	  fi; \
	done; \
	if ! command -v script >/dev/null 2>&1 && ! echo "$$missing" | grep -qw bsdutils; then \
	  missing="$$missing bsdutils"; \
	fi; \
	if [ -z "$$missing" ]; then \
	  echo "deps: $(2) packages are installed"; \
	  exit 0; \
	fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "deps: missing packages:$$missing" >&2; \
	  echo "deps: install them with:" >&2; \
	  echo "  sudo apt-get install -y$$missing" >&2; \
	  exit 1; \
	fi; \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && \
	apt-get install -y -qq --no-install-recommends $$missing
endef

deps:
	$(call install,$(BUILD_PACKAGES),build)

test-packages: deps
	$(call install,$(TEST_PACKAGES),test)

# The hardware-token tests sign on a virtual OpenPGP card: a pcscd driver
# (ifd-jcecard) that tests/token_support/setup.sh builds and installs. As
# root, run it (it is idempotent and starts pcscd); otherwise check that the
# driver is there and say how to install it.
TOKEN_SETUP := tests/token_support/setup.sh
JCECARD_DRIVER := /usr/lib/pcsc/drivers/ifd-jcecard.bundle/Contents/Linux/libifd_jcecard.so

# tests/attest.rs validates every statement with the in-toto attestation
# framework's own Python bindings, from PyPI, in a virtual environment of
# their own (tests/attest_support/validate.py; SIGTAG_INTOTO_PYTHON names
# another interpreter). Made once; kept while it holds that version.
INTOTO_VENV := target/py-intoto
INTOTO_VERSION := 0.9.3

# The FIDO key tests (tests/sk_dummy.rs, tests/ssh_fido.rs) sign through OpenSSH's test
# authenticator, target/sk-dummy/sk-dummy.so, which
# tests/ssh_support/sk-dummy.sh builds from Debian's openssh source package
# (about 1.5 minutes cold, then cached by source version). It adds a deb-src
# entry as root; otherwise it says how.
SK_DUMMY_SCRIPT := tests/ssh_support/sk-dummy.sh

test-deps: test-packages
	@if $(INTOTO_VENV)/bin/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("in-toto-attestation") != "$(INTOTO_VERSION)")' 2>/dev/null; then \
	  echo "test-deps: $(INTOTO_VENV) holds in-toto-attestation $(INTOTO_VERSION)"; \
	else \
	  echo "test-deps: making $(INTOTO_VENV) with in-toto-attestation $(INTOTO_VERSION)"; \
	  rm -rf $(INTOTO_VENV) && \
	  python3 -m venv $(INTOTO_VENV) && \
	  $(INTOTO_VENV)/bin/pip install -q --disable-pip-version-check in-toto-attestation==$(INTOTO_VERSION); \
	fi
	@if [ ! -f $(TOKEN_SETUP) ]; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then \
	  bash $(TOKEN_SETUP); \
	elif [ ! -f $(JCECARD_DRIVER) ] || [ ! -f /etc/reader.conf.d/jcecard ]; then \
	  echo "test-deps: the virtual OpenPGP card for the token tests is not installed;" >&2; \
	  echo "  sudo bash $(TOKEN_SETUP)" >&2; \
	  exit 1; \
	fi
	@bash $(SK_DUMMY_SCRIPT) >/dev/null

build:
	$(CARGO) build --release --locked

demo: deps
	$(CARGO) run --release --bin sigtag -- demo

# The image test (tests/dockerfile.rs) runs the release binary in the
# runtime stage's root filesystem: build it first, in its own step.
test: test-deps build
	$(CARGO) test --all-targets --no-fail-fast

lint: deps
	@$(CARGO) fmt --version >/dev/null 2>&1 || { echo "lint: rustfmt is missing: rustup component add rustfmt" >&2; exit 1; }
	@$(CARGO) clippy --version >/dev/null 2>&1 || { echo "lint: clippy is missing: rustup component add clippy" >&2; exit 1; }
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

bench: test-packages
	bench/list.sh

# The pages come from the command line's own definition (sigtag man, a
# hidden command), so they say what --help says.
man: deps
	$(CARGO) run --locked --bin sigtag -- man --out-dir target/man
