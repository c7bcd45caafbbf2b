#!/usr/bin/env bash
# Installs what `npm run build` (scripts/build-pkg.mjs) needs, from the
# package registries only: the wasm32 Rust target, wasm-bindgen-cli (the
# version pinned in Cargo.lock, built from crates.io) and, with `npm ci`,
# binaryen@132.0.0 for wasm-opt. Idempotent: what is there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

# The CLI must match the wasm-bindgen crate exactly.
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
version=${version:-0.2.130}

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup-wasm: wasm32-unknown-unknown already installed"
else
  rustup target add wasm32-unknown-unknown
fi

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" = "wasm-bindgen $version" ]; then
  echo "setup-wasm: wasm-bindgen $version already installed"
else
  # No --locked: its lockfile wants a webpki-roots release the index lacks. About 3 min.
  cargo install --force "wasm-bindgen-cli@$version"
fi

# binaryen from npm (never Debian's: its wasm-opt 108 breaks the module).
# npm ci makes node_modules match package-lock.json; it is quick from the cache.
npm ci --prefer-offline --no-audit --no-fund
