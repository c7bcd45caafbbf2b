#!/usr/bin/env bash
# The services the registry/daemon tests talk to, started once per test run and
# described in one JSON file (the contract: tests/support/README.md).
#
#   bash scripts/services.sh start   # start (or find running) and print STATE/env.json's path
#   bash scripts/services.sh env     # print the path if the services are up, else exit 1
#   bash scripts/services.sh stop    # end every process it started, remove env.json
#   bash scripts/services.sh clean   # stop, then remove the state dir (registry data, caches)
#
# STATE = ${ROOTLESS_CHECK_SERVICES_DIR:-<repo>/target/services}; fixtures from
# ${ROOTLESS_CHECK_FIXTURES:-<repo>/../shared/fixtures}. ROOTLESS_CHECK_NO_DOCKER=1
# skips dockerd. Everything listens on 127.0.0.1 only. Concurrent callers take
# turns on a lock, so every test process may call `start`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
state=${ROOTLESS_CHECK_SERVICES_DIR:-$repo/target/services}
case "$state" in /*) ;; *) state="$repo/$state" ;; esac
export ROOTLESS_CHECK_SERVICES_DIR="$state"
export PATH="$PATH:/usr/sbin:/sbin"
cmd=${1:-}
case "$cmd" in
  start | stop | env | clean) ;;
  *)
    echo "usage: $0 start|stop|env|clean" >&2
    exit 2
    ;;
esac
if [ "$cmd" = start ]; then
  for c in docker-registry skopeo htpasswd openssl; do
    command -v "$c" >/dev/null 2>&1 || { bash "$repo/scripts/setup-services.sh" </dev/null >&2; break; }
  done
fi
mkdir -p "$state"
exec 9>"$state/.lock"
if ! flock -w 600 9; then
  echo "services: $state/.lock is still held after 10 minutes" >&2
  exit 1
fi
# fd 9 is closed for node, so the daemons it starts never hold the lock.
node "$repo/tests/support/services.mjs" "$cmd" </dev/null 9>&-
