# The sigtag image: the CLI, and the Concourse resource type's entry points.
#
#   docker build --build-arg SIGTAG_COMMIT="$(git rev-parse HEAD)" \
#     -t "$REGISTRY/sigtag:0.1.0" . && docker push "$REGISTRY/sigtag:0.1.0"
#
# SIGTAG_COMMIT names the commit in `sigtag --version`, since .git is not
# copied into the build.
# (the image resource/staging.yml and prod.yml name; the tag is sigtag's
# version).
# One binary serves both: /opt/resource/check, /opt/resource/in and
# /opt/resource/out are links to /usr/local/bin/sigtag, which picks its
# role from the name it was started under.

FROM rust:1-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libssl-dev libclang-dev pkg-config capnproto libpcsclite-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG SIGTAG_COMMIT=
RUN cargo build --release --locked \
 && strip target/release/sigtag

FROM debian:bookworm-slim
# libgit2 is built into the binary (git2's vendored-libgit2), so git itself
# is not needed at run time; OpenSSL and the PC/SC client library are
# linked dynamically.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libpcsclite1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /src/target/release/sigtag /usr/local/bin/sigtag
RUN mkdir -p /opt/resource \
 && ln -s /usr/local/bin/sigtag /opt/resource/check \
 && ln -s /usr/local/bin/sigtag /opt/resource/in \
 && ln -s /usr/local/bin/sigtag /opt/resource/out \
 && sigtag --help >/dev/null
