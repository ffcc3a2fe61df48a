# syntax=docker/dockerfile:1
#
# The Switchboard image: the release `switchboard` binary on Debian bookworm, run as a non-root
# user. Build it from the repository root:
#
#   docker build -t switchboard .
#
# `serve` (the default command) runs a production node from /etc/switchboard (the repository's
# config/ folder) and SWITCHBOARD_* environment variables; without SWITCHBOARD_DATABASE_URL it
# keeps its SQLite file under /var/lib/switchboard/data (mount a volume there). Everything the
# binary needs besides the configuration is compiled in: the front ends (rust-embed), the
# Chinese segmentation dictionary (jieba-rs), the SQL migrations and the demo's data.
# deploy/compose.yaml runs the 3-node cluster from this file; docs/operations.md explains both.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# rust-toolchain.toml pins the compiler: rustup installs that version first. The caches keep
# downloaded crates and compiled dependencies between builds; the binary is copied out of them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    rustup toolchain install \
    && cargo build --release --locked --bin switchboard \
    && install -D -m 0755 target/release/switchboard /out/switchboard

FROM debian:bookworm-slim
# ca-certificates: TLS to the broker and database (amqps, rustls-native-certs); curl: the health
# check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --home-dir /var/lib/switchboard \
        --shell /usr/sbin/nologin switchboard \
    && install -d -o switchboard -g switchboard -m 0750 /var/lib/switchboard
COPY --from=build /out/switchboard /usr/local/bin/switchboard
COPY config/ /etc/switchboard/
ENV SWITCHBOARD_CONFIG_DIR=/etc/switchboard
# The SQLite default (data/switchboard.db) is relative to the working directory.
WORKDIR /var/lib/switchboard
USER switchboard:switchboard
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${SWITCHBOARD_HTTP_PORT:-8080}/readyz" > /dev/null || exit 1
ENTRYPOINT ["switchboard"]
CMD ["serve"]
