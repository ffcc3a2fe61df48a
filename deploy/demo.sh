#!/usr/bin/env bash
# Serves the demo on http://127.0.0.1:8080 (customer widget at /, agent desk at /desk):
# embedded SQLite store in data/demo.db, in-process bus, demo accounts alice/bob/carol/sam
# with password "demo". Extra arguments go to `switchboard demo` (e.g. --port 9090).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run -j2 --release --locked -- demo "$@"
