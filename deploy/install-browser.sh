#!/usr/bin/env bash
# Installs what the browser test needs, only when missing: Debian's Chromium and the npm
# package playwright-core (no browser download: we drive /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Chromium from Debian packages..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "Installing playwright-core from npm..."
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
