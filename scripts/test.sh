#!/usr/bin/env bash
# Runs every test of the project. Installs what the tests need first, so it
# works on a fresh machine of this kind (and in CI on a clean clone).
# The image fixtures are read from ../shared/fixtures (override with
# ROOTLESS_CHECK_FIXTURES).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
rustup target add thumbv7em-none-eabihf 2>&1 | grep -v "is up to date" || true
rustup component add rustfmt clippy 2>&1 | grep -v "is up to date" || true

step "format and lints"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings

step "the analysis core builds without std (no_std + alloc)"
cargo rustc --quiet --lib --crate-type rlib --no-default-features --target thumbv7em-none-eabihf

step "Rust tests (unit, fixtures, generated archives, CLI)"
cargo test
