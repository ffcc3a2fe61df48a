#!/usr/bin/env bash
# Runs every check and test of Switchboard: formatting, lints, unit/property/API/crash tests,
# the Store and Bus conformance suites on real PostgreSQL and RabbitMQ servers, the
# headless-browser test, and the API's conformance to its OpenAPI document (schemathesis).
# Installs what it needs (PostgreSQL, RabbitMQ and Chromium from Debian, playwright-core from
# npm, schemathesis from PyPI into its own virtualenv) when missing. Works on a fresh Debian
# machine; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# The full run builds every target once: incremental caches would only fill the disk (they
# did, on a CI box). Day-to-day `cargo test` keeps them.
export CARGO_INCREMENTAL=0

step() { printf '\n== %s\n' "$*"; }

step "Formatting (cargo fmt --check)"
cargo fmt --all -- --check

step "Lints (clippy, warnings are errors)"
cargo clippy -j2 --locked --all-targets --features integration-tests -- -D warnings

step "Build"
cargo build -j2 --locked --bins

step "Browser test (headless Chromium)"
deploy/install-browser.sh
(cd tests/browser && SWITCHBOARD_BIN="$PWD/../../target/debug/switchboard" node --test)

step "API conformance: docs/openapi.json validated, schemathesis against the demo (deploy/api-conformance.sh)"
deploy/api-conformance.sh

step "Services: PostgreSQL and RabbitMQ on 127.0.0.1 (deploy/postgres.sh, deploy/rabbitmq.sh)"
SWITCHBOARD_TEST_DATABASE_URL="$(deploy/postgres.sh start)"
SWITCHBOARD_TEST_AMQP_URL="$(deploy/rabbitmq.sh start)"
export SWITCHBOARD_TEST_DATABASE_URL SWITCHBOARD_TEST_AMQP_URL

step "Unit, property, conformance, API and crash tests"
cargo test -j2 --locked --features integration-tests
