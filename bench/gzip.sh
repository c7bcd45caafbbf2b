#!/usr/bin/env bash
# One gzip stream (issue 17, item 4): the whole-file gzip workload (w3 of
# examples/make_workloads.rs, `docker save` gzipped at level 6 as a whole)
# analysed by the native CLI on 1 and 2 threads (ROOTLESS_CHECK_GZIP_THREADS),
# next to plain decompressors on the same file: rapidgzip -P 1 / -P 2
# (PyPI, in a venv under bench/work), ISA-L igzip and libdeflate-gunzip
# (Debian isal, libdeflate-tools) and GNU gzip. The runs go round-robin
# (one of each, N times) so that the machine's noise falls on all alike;
# medians and minimums are printed.
#
#   bench/gzip.sh [--scale F] [--runs N] [--file FILE.tar.gz]
#
# Setup for the anchors: python3 -m venv bench/work/venv &&
# bench/work/venv/bin/pip install rapidgzip; apt-get install isal libdeflate-tools.
# (bench/lib.sh: rapidgzip is installed into the venv when missing.)
# Missing anchors are left out of the table.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCALE=0.6
RUNS=5
FILE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --file) FILE=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench/gzip.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
cargo build --quiet --release --bin rootless-check --example make_workloads
NATIVE=$CARGO_TARGET_DIR/release/rootless-check

if [ -z "$FILE" ]; then
  WORK=bench/work/gzip-scale-$SCALE
  FILE=$WORK/w3-docker-save.tar.gz
  if [ ! -f "$FILE" ]; then
    mkdir -p "$WORK"
    "$CARGO_TARGET_DIR/release/examples/make_workloads" "$WORK" --scale "$SCALE" >&2
  fi
fi

. bench/lib.sh
anchors_find --install
names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
add "ours, 1 thread" "ROOTLESS_CHECK_GZIP_THREADS=1 '$NATIVE' --format json --fail-on none '$FILE'"
add "ours, 2 threads" "ROOTLESS_CHECK_GZIP_THREADS=2 '$NATIVE' --format json --fail-on none '$FILE'"
for key in "${ANCHOR_KEYS[@]}"; do
  [ -z "${ANCHOR_CMD[$key]+x}" ] || add "${ANCHOR_NAME[$key]}" "${ANCHOR_CMD[$key]} '$FILE'"
done

TMP=${BENCH_TMP:-$(mktemp -d)}
trap 'rm -rf "$TMP"' EXIT
for ((r = 0; r < RUNS; r++)); do
  for i in "${!cmds[@]}"; do
    /usr/bin/time -f %e -o "$TMP/t" bash -c "${cmds[$i]} >/dev/null" || true
    cat "$TMP/t" >>"$TMP/$i"
  done
done

summ() { median_min <"$1"; }
ref=""
for i in "${!names[@]}"; do
  [ "${names[$i]}" = "rapidgzip -d -P 2" ] && ref=$(summ "$TMP/$i" | cut -d' ' -f1)
done
size=$(stat -c %s "$FILE")
echo "file: $FILE ($((size / 1000000)) MB compressed, $(gzip -l "$FILE" | awk 'NR==2 {printf "%d", $2/1000000}') MB decoded); $RUNS runs each, round-robin; $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| what | median s | min s | ÷ rapidgzip -P 2 |"
echo "|---|---:|---:|---:|"
for i in "${!names[@]}"; do
  read -r med min < <(summ "$TMP/$i")
  ratio=""
  [ -n "$ref" ] && ratio=$(awk -v a="$med" -v b="$ref" 'BEGIN {printf "%.2f", a/b}')
  echo "| ${names[$i]} | $med | $min | $ratio |"
done
echo
echo "Commands (output to /dev/null):"
for i in "${!names[@]}"; do echo "- ${names[$i]}: \`${cmds[$i]}\`"; done
