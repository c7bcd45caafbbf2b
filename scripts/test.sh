#!/usr/bin/env bash
# Runs every test of the project. Installs what the tests need first (Rust
# targets, wasm-bindgen-cli, npm packages, Debian's Chromium), so it works on
# a fresh machine of this kind and in CI on a clean clone. The image fixtures
# are read from ../shared/fixtures (override with ROOTLESS_CHECK_FIXTURES).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
rustup target add thumbv7em-none-eabihf 2>&1 | grep -v "is up to date" || true
rustup component add rustfmt clippy 2>&1 | grep -v "is up to date" || true
bash scripts/setup-wasm.sh
bash scripts/setup-browser.sh

step "test services: registries, token server, fault proxy, dockerd (tests/support/README.md)"
bash scripts/setup-services.sh
bash scripts/services.sh start >/dev/null
trap 'bash scripts/services.sh stop' EXIT
node --test tests/support/selftest.mjs

step "format and lints (native and wasm32)"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
CARGO_TARGET_DIR=target-wasm cargo clippy --lib --target wasm32-unknown-unknown --quiet -- -D warnings

step "the analysis core builds without std (no_std + alloc)"
cargo rustc --quiet --lib --crate-type rlib --no-default-features --target thumbv7em-none-eabihf

step "Rust tests (unit, fixtures, generated and hostile archives, rules, CLI, schema, docs)"
cargo test

step "runs held against a real dockerd (scripts/check-runs.sh: every --run and compose case of tests/runs/cases.json)"
bash scripts/check-runs.sh

step "wasm bindings under Node (wasm-bindgen-test: tests/wasm.rs)"
# The runner is the one scripts/setup-wasm.sh installed, the version of the crate.
# With the features of the Node package's wasm (wasm-pack.toml): the
# registry client (and so the native CLI) is native only.
WASM_FEATURES=(--no-default-features --features std,node,specs,compact-layers)
CARGO_TARGET_DIR=target-wasm cargo clippy --quiet --target wasm32-unknown-unknown "${WASM_FEATURES[@]}" --test wasm -- -D warnings
CARGO_TARGET_DIR=target-wasm \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen-test-runner" \
  cargo test --target wasm32-unknown-unknown "${WASM_FEATURES[@]}" --test wasm

step "npm package: build (wasm-pack.toml), then the native CLI the parity tests compare with"
npm run build
cargo build --release --quiet

step "npm package tests (packed tarball in CJS/ESM projects, Node CLI = native CLI, browser worker, page and widget, webpack/esbuild/Rollup/Vite bundles, Bun and Deno)"
npm test
