#!/usr/bin/env bash
# Installs what scripts/services.sh runs for the registry and daemon tests:
# Debian's docker-registry (CNCF Distribution), skopeo, htpasswd (apache2-utils),
# dockerd (docker.io) and openssl. Idempotent: apt is asked only when a command
# is missing. Needs root, as on these machines and in CI.
set -euo pipefail
missing=()
for c in docker-registry skopeo htpasswd dockerd docker openssl tar flock node; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-services: docker-registry, skopeo, htpasswd, dockerd, docker, openssl present" >&2
  exit 0
fi
echo "setup-services: missing ${missing[*]}; installing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker-registry skopeo apache2-utils docker.io openssl tar util-linux >/dev/null
# Debian's docker-registry package starts a registry on :5000 through its init
# script where an init system runs; the tests never use it.
for c in docker-registry skopeo htpasswd dockerd openssl; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$c" >/dev/null 2>&1 || { echo "setup-services: $c still missing" >&2; exit 1; }
done
command -v node >/dev/null 2>&1 || { echo "setup-services: node (>= 18) is needed too" >&2; exit 1; }
echo "setup-services: installed" >&2
