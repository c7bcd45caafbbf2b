#!/usr/bin/env bash
# The benchmark of issue 6: the native CLI, the Node CLI and API (npm
# package), the web page in headless Chromium, and the baselines (GNU
# tar/gzip, Node zlib + a JS tar walk) on the workloads of
# examples/make_workloads.rs; and the anchors of issue 17: plain gzip
# decompressors (rapidgzip, igzip, libdeflate-gunzip) on W1 and W3, the
# page's read floor, the native CLI's gzip threads, and snyk-docker-plugin
# as the Node peer. See bench/README.md.
#
#   bench/run.sh [--scale F] [--runs N] [--only w1,w2,w2-half,w3] [--browser LIST|none] [--out FILE]
#
# Defaults: --scale 1 (the real sizes), --runs 5 (median reported), --browser
# (the workloads the page is timed on) all of --only, --out bench/RESULTS.md
# at scale 1, bench/work/RESULTS-scale-F.md otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
. bench/lib.sh

SCALE=1
RUNS=5
ONLY="w1,w2,w2-half,w3"
BROWSER_ONLY=""
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --scale=*) SCALE=${1#*=}; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --browser) BROWSER_ONLY=$2; shift 2 ;;
    --browser=*) BROWSER_ONLY=${1#*=}; shift ;;
    --out) OUT=$2; shift 2 ;;
    --out=*) OUT=${1#*=}; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
BROWSER_ONLY=${BROWSER_ONLY:-$ONLY}
COMMAND_LINE="bench/run.sh --scale $SCALE --runs $RUNS --only $ONLY --browser $BROWSER_ONLY"
if [ -z "$OUT" ]; then
  if [ "$SCALE" = 1 ]; then OUT=bench/RESULTS.md; else OUT=bench/work/RESULTS-scale-$SCALE.md; fi
fi

for tool in /usr/bin/time tar gzip node cargo bc; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: needs $tool" >&2; exit 2; }
done

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ build
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
log "building the native CLI and the workload generator (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --quiet --release --bin rootless-check --example make_workloads
NATIVE=$CARGO_TARGET_DIR/release/rootless-check
NATIVE=${NATIVE#"$ROOT/"}
MAKE_WORKLOADS=$CARGO_TARGET_DIR/release/examples/make_workloads

# ------------------------------------------------------------------ workloads
WORK=bench/work/scale-$SCALE
STAMP="$(sha256sum examples/make_workloads.rs | cut -c1-16) scale=$SCALE"
if [ -f "$WORK/stamp" ] && [ "$(cat "$WORK/stamp")" = "$STAMP" ]; then
  log "workloads cached in $WORK"
else
  log "making the workloads in $WORK (scale $SCALE)"
  rm -rf "$WORK"
  mkdir -p "$WORK"
  "$MAKE_WORKLOADS" "$WORK" --scale "$SCALE" >&2
  echo "$STAMP" >"$WORK/stamp"
fi

# ------------------------------------------------------------------ tools
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The Node CLI: what the built npm package's "bin" points to (BENCH_PKG_DIR
# overrides pkg/, e.g. to test the "not built" case).
PKG=${BENCH_PKG_DIR:-pkg}
NODE_CLI=""
NODE_CLI_NOTE="not built"
if [ -f "$PKG/package.json" ]; then
  bin=$(PKG_JSON="$PWD/$PKG/package.json" node -e 'const b = require(process.env.PKG_JSON).bin; const v = typeof b === "string" ? b : b && Object.values(b)[0]; process.stdout.write(v || "")')
  if [ -n "$bin" ] && [ -f "$PKG/$bin" ]; then
    NODE_CLI_SHOWN="$PKG/${bin#./}"
    wasm_file=$(ls -t "$(dirname "$NODE_CLI_SHOWN")"/*.wasm 2>/dev/null | head -n 1 || true)
    NODE_CLI_NOTE="$NODE_CLI_SHOWN, package built $(date -u -r "${wasm_file:-$NODE_CLI_SHOWN}" '+%Y-%m-%d %H:%M UTC'), run from a copy taken at the start"
    # Run a snapshot: the package may be rebuilt while the benchmark runs.
    NODE_CLI="$TMP/pkg/${bin#./}"
  fi
fi
[ -z "$NODE_CLI" ] || cp -r "$PKG" "$TMP/pkg"

# The browser: bench/browser.mjs serves a copy of www/ taken now (the page
# may be rebuilt while the benchmark runs) to headless Chromium.
BROWSER=""
BROWSER_NOTE=""
BROWSER_TOOLS=""
if [ ! -f www/index.html ]; then
  BROWSER_NOTE="not measured (needs the web page, issue 5)"
elif [ ! -f www/generated/pkg/worker.js ]; then
  BROWSER_NOTE="not measured (www/generated is not built: npm run build)"
else
  cp -r www "$TMP/www"
  if check=$(node bench/browser.mjs --check --www "$TMP/www" 2>&1); then
    BROWSER=1
    wasm_file=$(ls -t www/generated/pkg/*.wasm 2>/dev/null | head -n 1 || true)
    BROWSER_TOOLS="$("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -n 1 || echo Chromium), playwright-core $(node -p 'require("playwright-core/package.json").version' 2>/dev/null || echo '?') (page: www/, built $(date -u -r "${wasm_file:-www/index.html}" '+%Y-%m-%d %H:%M UTC'), served from a copy taken at the start)"
  else
    BROWSER_NOTE="not measured (${check#not_measured=})"
  fi
fi
[ -z "$BROWSER_NOTE" ] || log "browser: $BROWSER_NOTE"

# The anchors of one gzip stream (bench/lib.sh; rapidgzip is pip-installed
# into bench/work/venv if missing), on W1's layers and W3.
anchors_find --install
ANCHOR_TOOLS=$(for key in rapidgzip igzip libdeflate; do [ -z "${ANCHOR_VERSION[$key]+x}" ] || printf '%s, ' "${ANCHOR_VERSION[$key]}"; done)

# The native CLI's gzip threads (ROOTLESS_CHECK_GZIP_THREADS) for the scaling
# table: 1, 2, and up to the number of CPUs.
THREADS_MAX=$(nproc)
[ "$THREADS_MAX" -ge 2 ] || THREADS_MAX=2

# The Node peer: snyk-docker-plugin, installed under bench/work/snyk (not a
# dependency of the project). 9.8.0 by default: the newest, 9.20.2, needs
# shescape ^2.1.14, which the registry this was written against lacks.
SNYK_DIR=bench/work/snyk
SNYK_VERSION=${SNYK_DOCKER_PLUGIN:-9.8.0}
SNYK_PKG=$SNYK_DIR/node_modules/snyk-docker-plugin/package.json
if [ ! -f "$SNYK_PKG" ]; then
  log "installing snyk-docker-plugin@$SNYK_VERSION into $SNYK_DIR (npm)"
  npm install --prefix "$SNYK_DIR" --no-audit --no-fund "snyk-docker-plugin@$SNYK_VERSION" >&2 || log "  npm install failed"
fi
SNYK="" SNYK_NOTE="" SNYK_TOOLS="" NETLESS=""
if [ -f "$SNYK_PKG" ]; then
  SNYK=1
  SNYK_TOOLS="snyk-docker-plugin $(node -p "require('./$SNYK_PKG').version")"
  # No network for it: its own network namespace, where only a loopback
  # (down) exists, shows that reading an archive needs none.
  if unshare -n true 2>/dev/null; then NETLESS="unshare -n "; SNYK_TOOLS+=" (run with no network: unshare -n)"
  elif unshare -rn true 2>/dev/null; then NETLESS="unshare -rn "; SNYK_TOOLS+=" (run with no network: unshare -rn)"
  else SNYK_TOOLS+=" (run with the network reachable: unshare -n is not permitted here)"; fi
else
  SNYK_NOTE="not installed (npm install --prefix $SNYK_DIR snyk-docker-plugin@$SNYK_VERSION)"
fi

# ------------------------------------------------------------------ measuring
# measure CMD: one warm-up run, then RUNS timed runs of `bash -c CMD` (stdout
# to /dev/null). Sets TIME (median seconds), MEM (largest peak RSS, MB, of the
# largest single process: what wait4 reports for a pipeline), STATUS.
measure() {
  local cmd="set -o pipefail; $1" i t0 t1 rc times=() mems=()
  STATUS=ok
  bash -c "$cmd" >/dev/null 2>"$TMP/err" || { STATUS="exit $?"; }
  for ((i = 0; i < RUNS; i++)); do
    t0=$EPOCHREALTIME
    rc=0
    /usr/bin/time -f '%M' -o "$TMP/mem" bash -c "$cmd" >/dev/null 2>"$TMP/err" || rc=$?
    t1=$EPOCHREALTIME
    [ "$rc" = 0 ] || STATUS="exit $rc"
    times+=("$(echo "$t1 - $t0" | bc -l)")
    mems+=("$(tail -n 1 "$TMP/mem")")
  done
  TIME=$(printf '%s\n' "${times[@]}" | median_min | cut -d' ' -f1)
  MEM=$(printf '%s\n' "${mems[@]}" | sort -g | tail -n 1 | awk '{printf "%.1f", $1 / 1024}')
  if [ "$STATUS" != ok ]; then
    log "  FAILED ($STATUS): $1"
    sed 's/^/    /' "$TMP/err" | head -n 5 >&2
  fi
}

# measure_browser FILE: bench/browser.mjs FILE with its own warm-up run and
# RUNS timed runs in one Chromium session (then one untimed run sampling the
# PSS). Sets TIME (median seconds, from the file input's change event to the
# verdict on the page), BRSS (largest sum of the RSS of Chromium's processes
# during the timed runs, MB), BRSS_IDLE (the same with the page loaded, before
# the first file), BPSS and BPSS_IDLE (sums of PSS), STATUS.
measure_browser() {
  TIME=- BRSS=- BRSS_IDLE=- BPSS=- BPSS_IDLE=-
  node_kv median_seconds bench/browser.mjs "$1" --runs "$RUNS" --www "$TMP/www" --native "$NATIVE" || return 0
  TIME=$(kv median_seconds) BRSS=$(kv peak_rss_mb) BRSS_IDLE=$(kv idle_rss_mb) BPSS=$(kv peak_pss_mb) BPSS_IDLE=$(kv idle_pss_mb)
}

# measure_floor FILE: the page's read floor, bench/browser-read.mjs FILE with
# the BYOB stream alone (one warm-up read, RUNS timed, in one Chromium
# session). Sets FLOOR (median seconds), NODEREAD (Node's fs.readSync of the
# same file in the same run), STATUS.
measure_floor() {
  FLOOR=- NODEREAD=-
  node_kv node_seconds bench/browser-read.mjs "$1" --runs "$RUNS" --methods byob || return 0
  FLOOR=$(kv byob_seconds) NODEREAD=$(kv node_seconds)
}

# node_kv KEY SCRIPT ARGS...: `node SCRIPT ARGS...`, its other stdout lines
# logged; LINE is its last stdout line starting with KEY= (read with kv).
# STATUS is ok, or "failed: <last line of stderr>" (and it returns 1).
node_kv() {
  local key=$1 rc=0
  shift
  STATUS=ok
  node "$@" >"$TMP/node.out" 2>"$TMP/err" || rc=$?
  sed 's/^/    /' "$TMP/node.out" | grep -v "$key=" >&2 || true
  LINE=$(grep "^$key=" "$TMP/node.out" | tail -n 1 || true)
  if [ "$rc" != 0 ] || [ -z "$LINE" ]; then
    STATUS="failed: $(tail -n 1 "$TMP/err" | sed -e 's/^bench\/[a-z-]*\.mjs: FAILED: //' -e 's/|/\\|/g' | cut -c1-300)"
    log "  FAILED (exit $rc): node $*"
    sed 's/^/    /' "$TMP/err" | head -n 5 >&2
    return 1
  fi
}
kv() { printf '%s\n' "$LINE" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

ratio() { # ratio A B: A / B to 2 decimals, or "-"
  if [ -z "$1" ] || [ -z "$2" ] || [ "$1" = - ] || [ "$2" = - ]; then echo -; else echo "$1 / $2" | bc -l | awk '{printf "%.2f", $1}'; fi
}

fmt_time() { # fmt_time TIME STATUS
  if [ "$2" = ok ]; then echo "$1"; else echo "$1 ($2)"; fi
}

declare -A T M S BR
WL_ALL=(w1 w2 w2-half w3)
declare -A FILE=([w1]=w1-oci-gzip.tar [w2]=w2-docker-save.tar [w2-half]=w2-half-docker-save.tar [w3]=w3-docker-save.tar.gz)

anchor_cmd() { # anchor_cmd W FILE DECODER: DECODER (reads a file or stdin) on W's gzip streams
  case "$1" in
    w1) echo "while read -r L; do tar -xOf '$2' \"\$L\" | $3; done < '$2.layers'" ;;
    w3) echo "$3 '$2'" ;;
  esac
}

baseline_cmd() { # the GNU tar/gzip command for workload $1 on file $2
  case "$1" in
    w1) echo "while read -r L; do tar -xOf '$2' \"\$L\" | gzip -dc | tar -tv; done < '$2.layers'" ;;
    w2 | w2-half) echo "while read -r L; do tar -xOf '$2' \"\$L\" | tar -tv; done < '$2.layers'" ;;
    w3) echo "gzip -dc '$2' | tar -xO --wildcards '*/layer.tar' | tar -tvi" ;;
  esac
}

snyk_type() { if [ "$1" = w1 ]; then echo oci-archive; else echo docker-archive; fi; }

BUSY_BEFORE=$(ps -eo pcpu=,etime=,args= --sort=-pcpu | awk '$1 >= 20' | grep -v -e 'ps -eo' -e 'bench/run.sh' | cut -c1-150 | head -n 8 || true)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')

# Fixed costs: process start (and, for Node, loading the wasm).
log "startup (--version)"
measure "'$NATIVE' --version"
T[startup,native]=$TIME M[startup,native]=$MEM S[startup,native]=$STATUS
if [ -n "$NODE_CLI" ]; then
  measure "node '$NODE_CLI' --version"
  T[startup,node]=$TIME M[startup,node]=$MEM S[startup,node]=$STATUS
fi
measure "node -e 0"
T[startup,walk]=$TIME M[startup,walk]=$MEM S[startup,walk]=$STATUS
log "  native ${T[startup,native]}s, Node CLI ${T[startup,node]:--}s, node -e 0 ${T[startup,walk]}s"

for w in "${WL_ALL[@]}"; do
  case ",$ONLY," in *",$w,"*) ;; *) continue ;; esac
  f=$WORK/${FILE[$w]}
  log "$w: ${FILE[$w]} ($(du -h "$f" | cut -f1))"

  measure "'$NATIVE' --format json --fail-on none '$f'"
  T[$w,native]=$TIME M[$w,native]=$MEM S[$w,native]=$STATUS
  log "  native       ${TIME}s ${MEM}MB $STATUS"

  if [ "$w" = w1 ] || [ "$w" = w3 ]; then
    for ((n = 1; n <= THREADS_MAX; n++)); do
      measure "ROOTLESS_CHECK_GZIP_THREADS=$n '$NATIVE' --format json --fail-on none '$f'"
      T[$w,threads$n]=$TIME M[$w,threads$n]=$MEM S[$w,threads$n]=$STATUS
      log "  native, $n gzip thread(s) ${TIME}s ${MEM}MB $STATUS"
    done
    for key in "${ANCHOR_KEYS[@]}"; do
      [ -n "${ANCHOR_CMD[$key]+x}" ] || continue
      measure "$(anchor_cmd "$w" "$f" "${ANCHOR_CMD[$key]}")"
      T[$w,$key]=$TIME M[$w,$key]=$MEM S[$w,$key]=$STATUS
      log "  ${ANCHOR_NAME[$key]} ${TIME}s ${MEM}MB $STATUS"
    done
  fi

  if [ -n "$NODE_CLI" ]; then
    measure "node '$NODE_CLI' --format json --fail-on none '$f'"
    T[$w,node]=$TIME M[$w,node]=$MEM S[$w,node]=$STATUS
    log "  node CLI     ${TIME}s ${MEM}MB $STATUS"

    measure "node bench/node-api.mjs '$f' --pkg '$TMP/pkg'"
    T[$w,api]=$TIME M[$w,api]=$MEM S[$w,api]=$STATUS
    log "  node API     ${TIME}s ${MEM}MB $STATUS"
  fi

  case ",$BROWSER_ONLY," in *",$w,"*) run_browser=$BROWSER ;; *) run_browser="" ;; esac
  if [ -n "$run_browser" ]; then
    measure_browser "$f"
    T[$w,browser]=$TIME S[$w,browser]=$STATUS
    BR[$w,rss]=$BRSS BR[$w,rss_idle]=$BRSS_IDLE BR[$w,pss]=$BPSS BR[$w,pss_idle]=$BPSS_IDLE
    log "  browser      ${TIME}s RSS sum ${BRSS}MB (idle ${BRSS_IDLE}), PSS sum ${BPSS}MB (idle ${BPSS_IDLE}) $STATUS"
    measure_floor "$f"
    T[$w,floor]=$FLOOR S[$w,floor]=$STATUS T[$w,noderead]=$NODEREAD S[$w,noderead]=$STATUS
    log "  read floor   ${FLOOR}s (Node fs.readSync ${NODEREAD}s) $STATUS"
  fi

  if [ -n "$SNYK" ]; then
    measure "timeout 900 ${NETLESS}node bench/snyk.mjs '$f' --type $(snyk_type "$w")"
    if [ "$STATUS" != ok ] && grep -q '^error=' "$TMP/err"; then
      STATUS="$STATUS: $(sed -n 's/^error=//p' "$TMP/err" | tail -n 1 | sed 's/|/\\|/g' | cut -c1-200)"
    fi
    T[$w,snyk]=$TIME M[$w,snyk]=$MEM S[$w,snyk]=$STATUS
    log "  snyk-docker-plugin ${TIME}s ${MEM}MB $STATUS"
  fi

  measure "$(baseline_cmd "$w" "$f")"
  T[$w,gnu]=$TIME M[$w,gnu]=$MEM S[$w,gnu]=$STATUS
  log "  GNU          ${TIME}s ${MEM}MB $STATUS"

  measure "node bench/node-walk.mjs '$f'"
  T[$w,walk]=$TIME M[$w,walk]=$MEM S[$w,walk]=$STATUS
  log "  node walk    ${TIME}s ${MEM}MB $STATUS"
done

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ report
get() { local k="$1,$2"; if [ -n "${T[$k]+x}" ]; then echo "${T[$k]}"; else echo -; fi; }
getm() { local k="$1,$2"; if [ -n "${M[$k]+x}" ]; then echo "${M[$k]}"; else echo -; fi; }
cell() { # cell W TOOL: time with status
  local k="$1,$2"
  if [ -n "${T[$k]+x}" ]; then fmt_time "${T[$k]}" "${S[$k]}"
  elif [ "$2" = node ] || [ "$2" = api ]; then echo "not built"
  elif [[ $2 =~ ^(browser|floor|noderead)$ ]] && [ -n "$BROWSER_NOTE" ] && [ "$1" != startup ]; then echo "$BROWSER_NOTE"
  elif [ -n "${ANCHOR_MISSING[$2]+x}" ]; then echo "${ANCHOR_MISSING[$2]}"
  elif [ "$2" = snyk ] && [ -n "$SNYK_NOTE" ]; then echo "$SNYK_NOTE"
  else echo -; fi
}
memcell() { local k="$1,$2"; if [ -n "${M[$k]+x}" ]; then echo "${M[$k]}"; elif [ "$2" = node ] || [ "$2" = api ]; then echo "not built"; else echo -; fi; }
browsermem() { # browsermem W rss|pss: "peak (idle …)"
  if [ -n "${BR[$1,$2]+x}" ] && [ "${BR[$1,$2]}" != - ]; then echo "${BR[$1,$2]} (idle ${BR[$1,$2_idle]})"
  elif [ -n "${S[$1,browser]+x}" ]; then echo "- (${S[$1,browser]})"
  elif [ -n "$BROWSER_NOTE" ]; then echo "$BROWSER_NOTE"
  else echo -; fi
}
browserratio() { # browserratio W: "browser ÷ Node CLI" as a target verdict
  if [ -n "$BROWSER_NOTE" ]; then echo "$BROWSER_NOTE"
  elif [ -z "${S[$1,browser]+x}" ]; then echo "not measured (not run: --only $ONLY --browser $BROWSER_ONLY)"
  elif [ "${S[$1,browser]}" != ok ]; then echo "not measured (browser ${S[$1,browser]})"
  elif [ -z "$NODE_CLI" ]; then echo "not measured (Node CLI not built)"
  else verdict "$(ratio "$(get "$1" browser)" "$(get "$1" node)")" le 1.5; fi
}
verdict() { # verdict VALUE le LIMIT [UNIT]
  if [ "$1" = - ]; then echo "not measured"; elif awk -v v="$1" -v l="$3" 'BEGIN {exit !(v <= l)}'; then echo "**met** ($1${4:-})"; else echo "missed ($1${4:-})"; fi
}
mb() { if [ "$1" = - ]; then echo "not measured"; else echo "$1 MB"; fi; }
above_idle() { # above_idle W: Chromium's PSS sum above idle, MB, or -
  if [ -n "${BR[$1,pss]+x}" ] && [ "${BR[$1,pss]}" != - ]; then echo "${BR[$1,pss]} - ${BR[$1,pss_idle]}" | bc -l | awk '{printf "%.1f", $1}'; else echo -; fi
}
measured() { [ -n "${T[$1,native]+x}" ]; } # measured W: the workload was run
less_start() { # less_start TIME: TIME less 0.1 s (Node's start and the wasm's loading), or -
  if [ -z "$1" ] || [ "$1" = - ]; then echo -; else echo "$1 - 0.1" | bc -l; fi
}

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "# Benchmark results"
  echo
  echo "- Date: $START (load average $LOAD_BEFORE before, $LOAD_AFTER after)"
  echo "- Machine: $(nproc) CPUs, $CPU, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo "- Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ' (src/ or Cargo.toml modified in the working tree)')"
  echo "- Command: \`$COMMAND_LINE\`"
  echo "- Tools: $($NATIVE --version), node $(node --version) (Node CLI: $NODE_CLI_NOTE), ${BROWSER_TOOLS:+$BROWSER_TOOLS, }$(tar --version | head -n 1), $(gzip --version | head -n 1), ${ANCHOR_TOOLS}${SNYK_TOOLS:-snyk-docker-plugin $SNYK_NOTE}"
  echo "- Runs: $RUNS timed runs after one warm-up run, median wall time in seconds; files in the page cache. Browser: the same, in one Chromium session, timed in the page from the file input's change event to the verdict on the page."
  echo "- Peak memory: the largest peak RSS over the runs, MB (/usr/bin/time %M; for a pipeline, of its largest process). Browser: the largest sum over Chromium's processes, sampled every 100 ms (RSS: during the timed runs; PSS: in one more, untimed run), and the same sum with the page loaded before the first file (idle)."
  if [ -n "$BUSY_BEFORE" ]; then
    echo "- Other processes using >= 20% of a CPU at the start (results may be disturbed):"
    echo
    echo '```'
    echo "$BUSY_BEFORE"
    echo '```'
  else
    echo "- No other process was using >= 20% of a CPU at the start."
  fi
  echo
  echo "## Workloads (scale $SCALE)"
  echo
  echo "| workload | file | size | layers | entries in layers | layer tar bytes | notes |"
  echo "|---|---|---:|---:|---:|---:|---|"
  tail -n +2 "$WORK/workloads.tsv" | while IFS=$'\t' read -r name bytes members layers entries tarbytes note; do
    for w in "${WL_ALL[@]}"; do [ "${FILE[$w]}" = "$name" ] && break; done
    printf '| %s | %s | %.1f MB | %s | %s | %.1f MB | %s |\n' "$w" "$name" "$(echo "$bytes / 1000000" | bc -l)" "$layers" "$entries" "$(echo "$tarbytes / 1000000" | bc -l)" "$note"
  done
  echo
  echo "## Time (s, median) and ratios"
  echo
  echo "| workload | native | Node CLI | Node API | browser | GNU baseline | node zlib walk | native ÷ GNU | Node ÷ GNU | Node ÷ walk | native ÷ walk | browser ÷ Node |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for w in "${WL_ALL[@]}"; do
    [ -n "${T[$w,native]+x}" ] || continue
    echo "| $w | $(cell "$w" native) | $(cell "$w" node) | $(cell "$w" api) | $(cell "$w" browser) | $(cell "$w" gnu) | $(cell "$w" walk) | $(ratio "$(get "$w" native)" "$(get "$w" gnu)") | $(ratio "$(get "$w" node)" "$(get "$w" gnu)") | $(ratio "$(get "$w" node)" "$(get "$w" walk)") | $(ratio "$(get "$w" native)" "$(get "$w" walk)") | $(ratio "$(get "$w" browser)" "$(get "$w" node)") |"
  done
  echo "| startup: \`--version\` (walk column: \`node -e 0\`) | $(cell startup native) | $(cell startup node) | - | - | - | $(cell startup walk) | | | | | |"
  echo
  echo "## Peak memory (MB)"
  echo
  echo "| workload | native | Node CLI | Node API | GNU baseline | node zlib walk | browser: RSS sum | browser: PSS sum |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for w in "${WL_ALL[@]}"; do
    [ -n "${T[$w,native]+x}" ] || continue
    echo "| $w | $(memcell "$w" native) | $(memcell "$w" node) | $(memcell "$w" api) | $(memcell "$w" gnu) | $(memcell "$w" walk) | $(browsermem "$w" rss) | $(browsermem "$w" pss) |"
  done
  echo
  echo "Browser: sums over all of Chromium's processes (browser, renderer with the page and its workers, GPU, utility), with the idle sum (page loaded, no file yet) in brackets; the RSS sum counts shared pages once per process, the PSS sum splits them between the processes."
  echo
  echo "## Issue 17: each figure beside its anchor"
  echo
  echo "### The page and its read floor"
  echo
  echo "The floor: Chromium reading the whole file in a worker with a BYOB stream (\`bench/browser-read.mjs --methods byob\`), nothing analysed; Node's \`fs.readSync\` of the file in the same run."
  echo
  echo "| workload | page (browser) | read floor | page ÷ floor | Node fs.readSync | floor ÷ Node read | Chromium PSS above idle (MB) |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for w in "${WL_ALL[@]}"; do
    measured "$w" || continue
    echo "| $w | $(cell "$w" browser) | $(cell "$w" floor) | $(ratio "$(get "$w" browser)" "$(get "$w" floor)") | $(cell "$w" noderead) | $(ratio "$(get "$w" floor)" "$(get "$w" noderead)") | $(above_idle "$w") |"
  done
  echo
  echo "### One gzip stream: the plain decompressors"
  echo
  echo "W3 is one gzip stream (the whole \`docker save\`); W1's are its 5 gzip layer blobs, each \`tar -xOf FILE LAYER | DECODER\` in a loop (the outer tar seeks over what it skips). The decompressors only decompress, to /dev/null; ours analyse the image. Ratios: ÷ \`rapidgzip -d -P 2\` on the same workload."
  echo
  echo "| what | W1 s | W1 ÷ rapidgzip -P 2 | W3 s | W3 ÷ rapidgzip -P 2 |"
  echo "|---|---:|---:|---:|---:|"
  for key in native api node "${ANCHOR_KEYS[@]}"; do
    case $key in
      native) name="native CLI (default: 1 gzip thread)" ;;
      api) name="Node API" ;;
      node) name="Node CLI" ;;
      *) name=${ANCHOR_NAME[$key]} ;;
    esac
    row="| $name"
    for w in w1 w3; do
      if measured "$w"; then row+=" | $(cell "$w" "$key") | $(ratio "$(get "$w" "$key")" "$(get "$w" rapidgzip2)")"; else row+=" | not run | -"; fi
    done
    echo "$row |"
  done
  echo
  echo "### Thread scaling of the native CLI's gzip decoder"
  echo
  echo "\`ROOTLESS_CHECK_GZIP_THREADS=N\` (unset: the sequential decoder, the default); $(nproc) CPUs here."
  echo
  echo "| threads | W1 s | W1 ÷ 1 thread | W1 peak MB | W3 s | W3 ÷ 1 thread | W3 peak MB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for ((n = 0; n <= THREADS_MAX; n++)); do
    key=threads$n label=$n
    [ "$n" != 0 ] || { key=native label="unset (default)"; }
    row="| $label"
    for w in w1 w3; do
      if measured "$w"; then row+=" | $(cell "$w" "$key") | $(ratio "$(get "$w" "$key")" "$(get "$w" threads1)") | $(getm "$w" "$key")"; else row+=" | not run | - | -"; fi
    done
    echo "$row |"
  done
  echo
  echo "### The Node peer: snyk-docker-plugin"
  echo
  echo "\`node bench/snyk.mjs FILE --type docker-archive|oci-archive\`: \`await scan({path: 'TYPE:FILE'})\` of snyk-docker-plugin (OS packages, the config's user, layers; no setuid or capability analysis), the whole process like the Node API's column${NETLESS:+, run with no network (\`${NETLESS% }\`)}."
  echo
  echo "| workload | snyk-docker-plugin s | peak MB | Node API s | snyk ÷ Node API | snyk ÷ native |"
  echo "|---|---:|---:|---:|---:|---:|"
  for w in "${WL_ALL[@]}"; do
    measured "$w" || continue
    echo "| $w | $(cell "$w" snyk) | $(getm "$w" snyk) | $(cell "$w" api) | $(ratio "$(get "$w" snyk)" "$(get "$w" api)") | $(ratio "$(get "$w" snyk)" "$(get "$w" native)") |"
  done
  echo
  echo "### Targets (issue 17)"
  echo
  echo "| target | this run |"
  echo "|---|---|"
  echo "| W3: native ≤ 1.0× rapidgzip -d -P 2 | $(verdict "$(ratio "$(get w3 native)" "$(get w3 rapidgzip2)")" le 1.0) |"
  echo "| W3: Node API ≤ 1.3× rapidgzip -d -P 2 | $(verdict "$(ratio "$(get w3 api)" "$(get w3 rapidgzip2)")" le 1.3) |"
  echo "| W1: Node API ≤ 1.2× native | $(verdict "$(ratio "$(get w1 api)" "$(get w1 native)")" le 1.2) |"
  echo "| W3: Node API ≤ 1.2× native | $(verdict "$(ratio "$(get w3 api)" "$(get w3 native)")" le 1.2) |"
  echo "| W2: Node API ≤ 1.5× native | $(verdict "$(ratio "$(get w2 api)" "$(get w2 native)")" le 1.5) |"
  echo "| W2: page ≤ 1.3× read floor | $(verdict "$(ratio "$(get w2 browser)" "$(get w2 floor)")" le 1.3) |"
  echo "| W1: page ≤ 1.2× Node API | $(verdict "$(ratio "$(get w1 browser)" "$(get w1 api)")" le 1.2) |"
  for w in "${WL_ALL[@]}"; do
    measured "$w" || continue
    echo "| $w: Chromium ≤ 250 MB above idle PSS | $(verdict "$(above_idle "$w")" le 250 " MB") |"
  done
  echo
  echo "Proposed instead, where a target above proved out of reach on this machine (the reasons: bench/README.md, \"Fourth pass\" and \"Another machine\"). The Node API column is a whole process, so \"+ 0.1 s\" leaves room for Node's start and the wasm's loading; \"(API − 0.1 s) ÷ native\" is shown."
  echo
  echo "| proposed target | this run |"
  echo "|---|---|"
  echo "| W3: Node API ≤ 1.6× native + 0.1 s (the wasm's inflate alone is 1.08× native, the copy into the shared ring 0.21×) | $(verdict "$(ratio "$(less_start "$(get w3 api)")" "$(get w3 native)")" le 1.6) |"
  echo "| W1: Node API ≤ 2.2× native + 0.1 s | $(verdict "$(ratio "$(less_start "$(get w1 api)")" "$(get w1 native)")" le 2.2) |"
  echo "| W2: Node API ≤ 1.2× the node zlib walk (Node's least: its own start and a JS walk of the same headers, reading what lies between them) | $(verdict "$(ratio "$(get w2 api)" "$(get w2 walk)")" le 1.2) |"
  echo "| W1: page ≤ 2× Node API | $(verdict "$(ratio "$(get w1 browser)" "$(get w1 api)")" le 2.0) |"
  echo
  echo "## Targets (issue 6)"
  echo
  echo "The targets are for the npm package: its CLI, its API (issue 4) and the page in the browser; the native column applies the same bounds to the native CLI."
  echo
  echo "| target | Node CLI (API, browser where said) | native CLI |"
  echo "|---|---|---|"
  echo "| W1 ≤ 0.6× GNU | $(verdict "$(ratio "$(get w1 node)" "$(get w1 gnu)")" le 0.6) | $(verdict "$(ratio "$(get w1 native)" "$(get w1 gnu)")" le 0.6) |"
  echo "| W1 ≤ 1.0× node zlib walk | $(verdict "$(ratio "$(get w1 node)" "$(get w1 walk)")" le 1.0) | $(verdict "$(ratio "$(get w1 native)" "$(get w1 walk)")" le 1.0) |"
  echo "| W2 ≤ 0.2× GNU | $(verdict "$(ratio "$(get w2 node)" "$(get w2 gnu)")" le 0.2) | $(verdict "$(ratio "$(get w2 native)" "$(get w2 gnu)")" le 0.2) |"
  echo "| W3 ≤ 0.6× GNU | $(verdict "$(ratio "$(get w3 node)" "$(get w3 gnu)")" le 0.6) | $(verdict "$(ratio "$(get w3 native)" "$(get w3 gnu)")" le 0.6) |"
  echo "| W1: browser ≤ 1.5× Node CLI | $(browserratio w1) | - |"
  echo "| W2: browser ≤ 1.5× Node CLI | $(browserratio w2) | - |"
  echo "| W2 peak memory: native ≤ 50 MB, Node ≤ 200 MB | $(verdict "$(getm w2 node)" le 200 " MB") | $(verdict "$(getm w2 native)" le 50 " MB") |"
  echo "| W2 peak memory, Node API (issue 4: a 1 GB archive through the API) ≤ 200 MB | $(if [ -n "${M[w2,api]+x}" ]; then verdict "$(getm w2 api)" le 200 " MB"; elif [ -z "$NODE_CLI" ]; then echo "not measured (package not built)"; else echo "not measured"; fi) | - |"
  echo "| W2-half peak memory (compare with W2: no growth with size) | $(mb "$(getm w2-half node)") | $(mb "$(getm w2-half native)") |"
  echo
  echo "### Bounds, from this run's figures"
  echo
  # A Node CLI is a Node process doing the native CLI's work: it cannot take
  # less than Node's own start plus the native CLI's whole run.
  floor=$(if [ "$(get startup walk)" != - ] && [ "$(get w2 native)" != - ]; then echo "$(get startup walk) + $(get w2 native)" | bc -l; else echo -; fi)
  echo "- W2 ≤ 0.2× GNU: no Node CLI takes less than Node's own start (\`node -e 0\`, $(get startup walk) s) plus the native CLI's whole run ($(get w2 native) s): $(ratio "$floor" "$(get w2 gnu)")× GNU at the least, even with the wasm as fast as native code."
  # Memory per entry kept, from the two sizes of W2.
  entries() { awk -F'\t' -v f="${FILE[$1]}" '$1 == f {print $5}' "$WORK/workloads.tsv"; }
  per_entry() { # per_entry TOOL: bytes of peak RSS per entry, W2-half to W2
    local a b ea eb
    a=$(getm w2-half "$1") b=$(getm w2 "$1") ea=$(entries w2-half) eb=$(entries w2)
    if [ "$a" = - ] || [ "$b" = - ] || [ -z "$ea" ] || [ -z "$eb" ] || [ "$ea" = "$eb" ]; then echo -; else echo "($b - $a) * 1000000 / ($eb - $ea)" | bc -l | awk '{printf "%.0f", $1}'; fi
  }
  echo "- Memory grows with the entries kept (each layer's paths and modes, for the merged view); W2 has twice W2-half's entries and bytes, and its peak is higher by about $(per_entry native) bytes per added entry in the native CLI and $(per_entry node) in the Node CLI."
  echo
  echo "## Commands"
  echo
  echo "FILE is bench/work/scale-$SCALE/<file>; <file>.layers lists the layer members in manifest order (written by the generator)."
  echo
  echo "- native: \`$NATIVE --format json --fail-on none FILE\`"
  echo "- Node CLI: \`node ${NODE_CLI_SHOWN:-pkg/node/cli.cjs} --format json --fail-on none FILE\`"
  echo "- GNU baseline, W1: \`$(baseline_cmd w1 FILE)\`"
  echo "- GNU baseline, W2 and W2-half: \`$(baseline_cmd w2 FILE)\`"
  echo "- GNU baseline, W3: \`$(baseline_cmd w3 FILE)\`"
  echo "- node zlib walk: \`node bench/node-walk.mjs FILE\`"
  echo "- Node API: \`node bench/node-api.mjs FILE --pkg PKG\` (\`await analyze(FILE)\` from PKG/node/index.mjs; PKG: the copy of pkg/)"
  echo "- browser: \`node bench/browser.mjs FILE --runs $RUNS --www WWW --native $NATIVE\` (WWW: the copy of www/; workloads: $BROWSER_ONLY)"
  echo "- read floor: \`node bench/browser-read.mjs FILE --runs $RUNS --methods byob\`"
  echo "- gzip threads: \`ROOTLESS_CHECK_GZIP_THREADS=N $NATIVE --format json --fail-on none FILE\`, N = 1 … $THREADS_MAX"
  for key in "${ANCHOR_KEYS[@]}"; do
    [ -n "${ANCHOR_CMD[$key]+x}" ] || continue
    echo "- ${ANCHOR_NAME[$key]}, W3: \`$(anchor_cmd w3 FILE "${ANCHOR_CMD[$key]}")\`; W1: \`$(anchor_cmd w1 FILE "${ANCHOR_CMD[$key]}")\`"
  done
  echo "- snyk-docker-plugin: \`${NETLESS}node bench/snyk.mjs FILE --type oci-archive\` (W1; the others: \`--type docker-archive\`)"
  echo "- each run (but the browser's) as \`bash -c 'set -o pipefail; CMD' >/dev/null\` under \`/usr/bin/time -f %M\`"
} >"$OUT"

log "wrote $OUT"
cat "$OUT"
