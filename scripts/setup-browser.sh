#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (never a browser download
# of a test tool's own). Idempotent; needs root, as on these machines.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "setup-browser: $(chromium --version 2>/dev/null | head -1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "setup-browser: installed $(chromium --version 2>/dev/null | head -1)"
