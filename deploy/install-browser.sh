#!/usr/bin/env bash
# Installs what the browser test needs, only when missing: Debian's Chromium, a CJK font and the
# npm package playwright-core (no browser download: we drive /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Chromium from Debian packages..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
# Chinese glyphs for the zh-CN screenshots (the tests check text, people look at the images).
if ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
  echo "Installing a CJK font from Debian packages..."
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null; }) \
    || echo "No CJK font installed: Chinese text renders as boxes in screenshots."
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "Installing playwright-core from npm..."
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
