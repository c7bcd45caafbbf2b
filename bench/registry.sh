#!/usr/bin/env bash
# Time to a verdict for an image in a registry (issue 14): W1's image (5 gzip
# layers, examples/make_workloads.rs) pushed to a local registry (Debian's
# docker-registry on 127.0.0.1, no auth), checked by name with the native CLI,
# against what a user does without it: `skopeo copy docker://… oci-archive:…`,
# then the analysis of the archive. Prints both side by side, with peak RSS.
#
#   bench/registry.sh [--scale F] [--runs N]
#
# Defaults: --scale 1, --runs 5 (median). Needs skopeo and docker-registry
# (scripts/setup-services.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCALE=1
RUNS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bench/registry.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in /usr/bin/time skopeo docker-registry bc node; do
  command -v "$tool" >/dev/null || { echo "bench/registry.sh: needs $tool (bash scripts/setup-services.sh)" >&2; exit 2; }
done
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
log "building the native CLI and the workload generator (release)"
cargo build --quiet --release --bin rootless-check --example make_workloads
NATIVE=$CARGO_TARGET_DIR/release/rootless-check
WORK=bench/work/scale-$SCALE
W1=$WORK/w1-oci-gzip.tar
if [ ! -f "$W1" ]; then
  log "making the workloads in $WORK (scale $SCALE)"
  mkdir -p "$WORK"
  "$CARGO_TARGET_DIR/release/examples/make_workloads" "$WORK" --scale "$SCALE" >&2
fi

TMP=$(mktemp -d)
REGISTRY_PID=""
cleanup() { [ -z "$REGISTRY_PID" ] || kill "$REGISTRY_PID" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat >"$TMP/registry.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $TMP/data}}
http: {addr: "127.0.0.1:$PORT"}
EOF
docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break
  sleep 0.1
done
REF=127.0.0.1:$PORT/bench/w1:latest
log "pushing $W1 ($(du -m "$W1" | cut -f1) MB) to $REF"
skopeo copy --quiet --dest-tls-verify=false "oci-archive:$W1" "docker://$REF"

# measure CMD: one warm-up run, then RUNS runs; TIME median s, MEM peak RSS MB.
measure() {
  local i t0 t1 times=() mems=()
  bash -c "$1" >/dev/null 2>"$TMP/err" || { echo "FAILED: $1" >&2; cat "$TMP/err" >&2; exit 1; }
  for ((i = 0; i < RUNS; i++)); do
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$TMP/mem" bash -c "$1" >/dev/null 2>"$TMP/err"
    t1=$EPOCHREALTIME
    times+=("$(echo "$t1 - $t0" | bc -l)")
    mems+=("$(tail -n 1 "$TMP/mem")")
  done
  TIME=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m}')
  MEM=$(printf '%s\n' "${mems[@]}" | sort -g | tail -n 1 | awk '{printf "%.1f", $1 / 1024}')
}

log "by name: rootless-check docker://$REF"
measure "$NATIVE --tls-verify=false --fail-on none docker://$REF"
BY_NAME=$TIME BY_NAME_MEM=$MEM
log "today: skopeo copy to an oci-archive, then rootless-check on it"
measure "rm -f $TMP/copy.tar && skopeo copy --quiet --src-tls-verify=false docker://$REF oci-archive:$TMP/copy.tar && $NATIVE --fail-on none $TMP/copy.tar"
TODAY=$TIME TODAY_MEM=$MEM
RATIO=$(printf "%.2f" "$(echo "$BY_NAME / $TODAY" | bc -l)")

echo "# Registry benchmark (bench/registry.sh, scale $SCALE, $RUNS runs, $(date -u +%Y-%m-%d))"
echo
echo "| W1 from a registry on 127.0.0.1 | time to a verdict (s, median) | peak RSS (MB) |"
echo "| --- | --- | --- |"
echo "| \`rootless-check docker://…\` | $BY_NAME | $BY_NAME_MEM |"
echo "| \`skopeo copy docker://… oci-archive:…\` then \`rootless-check\` | $TODAY | $TODAY_MEM |"
echo
echo "By name ÷ today: $RATIO (target ≤ 0.5)."
echo "Machine: $(nproc) cores, $(uname -m); $(skopeo --version); the image: $(du -m "$W1" | cut -f1) MB, 5 gzip layers."
