#!/usr/bin/env bash
# Fuzzing rootless-check with cargo-fuzz (libFuzzer). Not part of CI.
#
#   scripts/fuzz.sh setup                     install cargo-fuzz (crates.io)
#   scripts/fuzz.sh build                     build every target
#   scripts/fuzz.sh seed                      (re)build fuzz/corpus/<target>/ from the fixtures
#   scripts/fuzz.sh run SECONDS [TARGET...]   fuzz each target SECONDS (2 at a time), then summarise
#   scripts/fuzz.sh summary [TARGET...]       the summary of the last run again
#   scripts/fuzz.sh tmin TARGET FILE          minimise a crashing input (cargo fuzz tmin)
#   scripts/fuzz.sh cmin TARGET               minimise a target's corpus (cargo fuzz cmin)
#   scripts/fuzz.sh repro TARGET FILE         run one input through the target
#
# Targets: archive json passwd_user caps tar_header glob layer_codec registry
# spec_yaml docker_run gzip_blocks (fuzz/fuzz_targets/).
# A crash input goes to tests/regressions/<target>-<short-name>, which
# `cargo test --test regressions` replays through the same harness (fuzz/src/lib.rs).
#
# cargo-fuzz needs nightly `-Z` flags; on a stable toolchain RUSTC_BOOTSTRAP=1
# lets them through. Builds go to target-fuzz/ (override with CARGO_TARGET_DIR).
# Our code forbids `unsafe`, so the default build has no sanitizer (several
# times faster); FUZZ_SANITIZER=address brings ASan back. Debug assertions
# and overflow checks are on. Runs are niced (FUZZ_NICE, default 10) and use
# at most FUZZ_JOBS (default 2) cores. The fixtures come from
# ../shared/fixtures (ROOTLESS_CHECK_FIXTURES overrides it). FUZZ_EXTRA adds
# libFuzzer flags. The harness reads ROOTLESS_FUZZ_STRICT=1 (the two readers'
# reports must be identical, not only agree on Ok/Err) and
# ROOTLESS_FUZZ_SKIP=blob-path (go on past a known, reported problem).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-fuzz}
SANITIZER=${FUZZ_SANITIZER:-none}
NICE=${FUZZ_NICE:-10}
JOBS=${FUZZ_JOBS:-2}
FIXTURES=${ROOTLESS_CHECK_FIXTURES:-$ROOT/../shared/fixtures}
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN_DIR=$CARGO_TARGET_DIR/$TRIPLE/release
LOGS=$ROOT/fuzz/logs
ALL_TARGETS=(archive json passwd_user caps tar_header glob layer_codec registry spec_yaml docker_run gzip_blocks)
BUILD_FLAGS=(-O -a -s "$SANITIZER")

# -max_len per target: whole archives up to 1 MiB; JSON documents and
# passwd/group files, compose files and manifests up to 64 KiB; docker run
# options up to 4 KiB; a capability xattr is at most 24 bytes
# (64 leaves room for junk); 16 tar blocks; glob pattern + path; gzip files
# of a few chunks (the harness cuts them into chunks of 256-3255 bytes).
max_len() {
  case $1 in
    archive) echo 1048576 ;;
    json | passwd_user) echo 65536 ;;
    caps) echo 64 ;;
    tar_header) echo 8192 ;;
    layer_codec) echo 65536 ;;
    glob) echo 4096 ;;
    registry) echo 65536 ;;
    spec_yaml) echo 65536 ;;
    docker_run) echo 4096 ;;
    gzip_blocks) echo 262144 ;;
    *) echo "unknown target $1" >&2; exit 2 ;;
  esac
}

libfuzzer_flags() {
  echo "-max_len=$(max_len "$1") -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 ${FUZZ_EXTRA:-}"
}

need_cargo_fuzz() {
  command -v cargo-fuzz >/dev/null || {
    echo "cargo-fuzz is missing: scripts/fuzz.sh setup" >&2
    exit 1
  }
}

build() {
  need_cargo_fuzz
  nice -n "$NICE" cargo fuzz build "${BUILD_FLAGS[@]}"
}

run_one() { # TARGET SECONDS
  local t=$1 secs=$2
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "$LOGS"
  # shellcheck disable=SC2046
  nice -n "$NICE" "$BIN_DIR/$t" "fuzz/corpus/$t" \
    -artifact_prefix="fuzz/artifacts/$t/" -max_total_time="$secs" \
    $(libfuzzer_flags "$t") >"$LOGS/$t.log" 2>&1 || true
}

summary() {
  printf '%-12s %12s %8s %8s %8s %10s %8s  %s\n' target runs secs cov ft corpus peak-MB crashes
  local t
  for t in "$@"; do
    local log=$LOGS/$t.log
    [[ -f $log ]] || { printf '%-12s (no log)\n' "$t"; continue; }
    local runs secs cov ft rss files bytes crashes
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    files=$(find "fuzz/corpus/$t" -type f | wc -l)
    bytes=$(du -sb "fuzz/corpus/$t" | cut -f1)
    crashes=$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' -o -name 'slow-unit-*' \) 2>/dev/null | wc -l)
    printf '%-12s %12s %8s %8s %8s %10s %8s  %s\n' "$t" "${runs:-?}" "${secs:-?}" "${cov:-?}" "${ft:-?}" \
      "$files/$((bytes / 1024))K" "${rss:-?}" "$crashes"
    if grep -qE '^==[0-9]+== ERROR|panicked at|deadly signal|ERROR: libFuzzer' "$log"; then
      echo "  !! $t stopped on a problem: see $log and fuzz/artifacts/$t/"
      grep -m3 -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | sed 's/^/     /'
    fi
  done
}

cmd=${1:-}
shift || true
case $cmd in
  setup)
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    ;;
  build)
    build
    ;;
  seed)
    [[ -d $FIXTURES ]] || { echo "no fixtures at $FIXTURES" >&2; exit 1; }
    python3 fuzz/seed.py "$FIXTURES" fuzz/corpus
    for t in "${ALL_TARGETS[@]}"; do
      printf '%-12s %5s files %8s bytes\n' "$t" "$(find "fuzz/corpus/$t" -type f | wc -l)" \
        "$(du -sb "fuzz/corpus/$t" | cut -f1)"
    done
    ;;
  run)
    secs=${1:?usage: scripts/fuzz.sh run SECONDS [TARGET...]}
    shift
    targets=("$@")
    [[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
    build
    for t in "${targets[@]}"; do max_len "$t" >/dev/null; done
    export -f run_one libfuzzer_flags max_len
    export BIN_DIR LOGS NICE FUZZ_EXTRA
    printf '%s\n' "${targets[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one "$1" "$2"' _ {} "$secs"
    summary "${targets[@]}"
    ;;
  summary)
    targets=("$@")
    [[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
    summary "${targets[@]}"
    ;;
  tmin)
    t=${1:?usage: scripts/fuzz.sh tmin TARGET FILE}
    f=${2:?usage: scripts/fuzz.sh tmin TARGET FILE}
    need_cargo_fuzz
    # No -max_len here: libFuzzer's crash minimisation asserts it is unset.
    nice -n "$NICE" cargo fuzz tmin "${BUILD_FLAGS[@]}" -r 2000 "$t" "$f" -- -rss_limit_mb=2048 -timeout=10
    ;;
  cmin)
    t=${1:?usage: scripts/fuzz.sh cmin TARGET}
    need_cargo_fuzz
    # shellcheck disable=SC2046
    nice -n "$NICE" cargo fuzz cmin "${BUILD_FLAGS[@]}" "$t" -- $(libfuzzer_flags "$t")
    ;;
  repro)
    t=${1:?usage: scripts/fuzz.sh repro TARGET FILE}
    f=${2:?usage: scripts/fuzz.sh repro TARGET FILE}
    # shellcheck disable=SC2046
    "$BIN_DIR/$t" $(libfuzzer_flags "$t") "$f"
    ;;
  *)
    sed -n '2,20p' "$0"
    exit 2
    ;;
esac
