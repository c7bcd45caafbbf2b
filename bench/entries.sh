#!/usr/bin/env bash
# Issue 16: does peak memory grow with the number of entries? Peak RSS for
# an image whose one uncompressed layer holds 60,000 and then 240,000 empty
# files (bench/make_entries.py), natively from the file, natively from
# stdin, and through the Node CLI (file and stdin), for this tree and for a
# baseline measured in the same run. See bench/README.md.
#
#   bench/entries.sh [--baseline-rev REV] [--baseline-native BIN] [--baseline-pkg DIR] [--runs N] [--out FILE]
#
# The baseline is REV (default: where this branch left main, git merge-base HEAD main) built from `git archive REV` under
# bench/work/baseline-<commit>/ (cached), or the CLI and package given.
# The Node columns need this tree's package built (npm run build).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
REV=""
BASE_NATIVE=""
BASE_PKG=""
RUNS=3
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline-rev) REV=$2; shift 2 ;;
    --baseline-native) BASE_NATIVE=$2; shift 2 ;;
    --baseline-pkg) BASE_PKG=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench/entries.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# The baseline's name in the report: the revision, or the programs given.
if [ -z "$REV" ] && [ -n "$BASE_NATIVE" ] && [ -n "$BASE_PKG" ]; then
  BASE_LABEL="given: $BASE_NATIVE and $BASE_PKG"
fi
REV=${REV:-$(git merge-base HEAD main)}
BASE_LABEL=${BASE_LABEL:-$REV ($(git rev-parse --short "$REV" 2>/dev/null))}
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
for tool in /usr/bin/time python3 node cargo git; do
  command -v "$tool" >/dev/null || { echo "bench/entries.sh: needs $tool" >&2; exit 2; }
done

WORK=bench/work/entries
mkdir -p "$WORK"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
log "building this tree's native CLI (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --quiet --release --bin rootless-check
NATIVE=$CARGO_TARGET_DIR/release/rootless-check
NODE_CLI=""
[ -f pkg/node/cli.cjs ] && NODE_CLI=$ROOT/pkg/node/cli.cjs

# The baseline: built once per commit.
if [ -z "$BASE_NATIVE" ] || [ -z "$BASE_PKG" ]; then
  commit=$(git rev-parse --verify "$REV^{commit}")
  src=$ROOT/bench/work/baseline-$commit
  if [ ! -d "$src" ]; then
    log "extracting the baseline $REV ($commit) into $src"
    mkdir -p "$src.tmp" && git archive "$commit" | tar -x -C "$src.tmp" && mv "$src.tmp" "$src"
  fi
  if [ -z "$BASE_NATIVE" ]; then
    log "building the baseline's native CLI"
    (cd "$src" && CARGO_TARGET_DIR=$src/target cargo build --quiet --release --bin rootless-check)
    BASE_NATIVE=$src/target/release/rootless-check
  fi
  if [ -z "$BASE_PKG" ]; then
    if [ ! -f "$src/pkg/node/cli.cjs" ]; then
      log "building the baseline's npm package"
      [ -e "$src/node_modules" ] || ln -s "$ROOT/node_modules" "$src/node_modules"
      (cd "$src" && PATH=$ROOT/node_modules/.bin:$PATH node scripts/build-pkg.mjs >"$WORK/baseline-build.log" 2>&1) ||
        log "the baseline's package did not build (see $WORK/baseline-build.log)"
    fi
    BASE_PKG=$src/pkg
  fi
fi
BASE_NODE_CLI=""
[ -f "$BASE_PKG/node/cli.cjs" ] && BASE_NODE_CLI=$BASE_PKG/node/cli.cjs

for n in 60000 240000; do
  [ -f "$WORK/entries-$n.tar" ] || { log "making $WORK/entries-$n.tar"; python3 bench/make_entries.py "$n" "$WORK/entries-$n.tar"; }
done

# peak CMD: the largest peak RSS (MB) of RUNS runs of `bash -c CMD`; "-" if a run fails.
peak() {
  local i best=0 kb
  for ((i = 0; i < RUNS; i++)); do
    if ! /usr/bin/time -f '%M' -o "$WORK/mem" bash -c "$1" >/dev/null 2>"$WORK/err"; then
      log "FAILED: $1"; sed 's/^/    /' "$WORK/err" | head -n 5 >&2; echo "-"; return
    fi
    kb=$(tail -n 1 "$WORK/mem")
    [ "$kb" -gt "$best" ] && best=$kb
  done
  awk -v k="$best" 'BEGIN { printf "%.1f", k / 1024 }'
}

# row NAME TARGET_MB BASE_CMD NEW_CMD: both commands run on both files ({} is the file).
ROWS=()
row() {
  local name=$1 target=$2 base=$3 new=$4 b60 b240 n60 n240 bg ng met
  if [ -z "$base" ]; then b60=-; b240=-; else
    b60=$(peak "${base//\{\}/$WORK/entries-60000.tar}"); b240=$(peak "${base//\{\}/$WORK/entries-240000.tar}"); fi
  if [ -z "$new" ]; then n60=-; n240=-; else
    n60=$(peak "${new//\{\}/$WORK/entries-60000.tar}"); n240=$(peak "${new//\{\}/$WORK/entries-240000.tar}"); fi
  grow() { if [ "$1" = - ] || [ "$2" = - ]; then echo -; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", b - a }'; fi; }
  bg=$(grow "$b60" "$b240"); ng=$(grow "$n60" "$n240")
  if [ "$ng" = - ]; then met="not measured"; elif awk -v g="$ng" -v t="$target" 'BEGIN { exit !(g <= t) }'; then met=met; else met=missed; fi
  ROWS+=("| $name | $b60 | $b240 | $bg | $n60 | $n240 | $ng | ≤ $target | $met |")
  log "$name: baseline $b60 -> $b240 ($bg), this tree $n60 -> $n240 ($ng), target <= $target: $met"
}

J="--format json --fail-on none"
row "native, file" 3 "$BASE_NATIVE $J {}" "$NATIVE $J {}"
row "native, stdin" 5 "$BASE_NATIVE $J - < {}" "$NATIVE $J - < {}"
row "Node CLI, file" 8 "${BASE_NODE_CLI:+node $BASE_NODE_CLI $J {}}" "${NODE_CLI:+node $NODE_CLI $J {}}"
row "Node CLI, stdin" 8 "${BASE_NODE_CLI:+node $BASE_NODE_CLI $J - < {}}" "${NODE_CLI:+node $NODE_CLI $J - < {}}"
FLOOR_NODE=$(peak "node -e 0")
FLOOR_NATIVE=$(peak "$NATIVE --version")

REPORT=$(cat <<EOF
# Peak memory against the number of entries (bench/entries.sh)

$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); this tree at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src pkg-template || echo ' (with uncommitted changes)'),
baseline: ${BASE_LABEL}; the largest peak RSS of $RUNS runs, MB.
Images: one uncompressed layer of 60,000 / 240,000 empty files (bench/make_entries.py:
legacy docker save, manifest last), $(du -m "$WORK/entries-60000.tar" | cut -f1) MB / $(du -m "$WORK/entries-240000.tar" | cut -f1) MB.

| run | baseline 60k | baseline 240k | growth | this tree 60k | this tree 240k | growth | target (growth) | |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

Fixed costs: \`node -e 0\` $FLOOR_NODE MB, \`rootless-check --version\` $FLOOR_NATIVE MB.
EOF
)
printf '%s\n' "$REPORT"
[ -z "$OUT" ] || printf '%s\n' "$REPORT" >"$OUT"
