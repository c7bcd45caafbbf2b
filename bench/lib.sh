# bench/lib.sh: what bench/run.sh and bench/gzip.sh share. Sourced (from the
# repository root), not run.

# The plain decompressors of one gzip stream, the anchors of issue 17:
# rapidgzip (PyPI, in the venv bench/work/venv), ISA-L's igzip, libdeflate's
# gunzip and GNU gzip. Each ANCHOR_CMD[key] reads the file named after it, or
# stdin, and writes the decoded bytes to stdout. A tool that is missing has
# ANCHOR_MISSING[key] (why) instead of ANCHOR_CMD[key], and ANCHOR_VERSION
# has a version line of each one found.
ANCHOR_KEYS=(rapidgzip1 rapidgzip2 igzip libdeflate gzip)
declare -A ANCHOR_NAME=(
  [rapidgzip1]="rapidgzip -d -P 1" [rapidgzip2]="rapidgzip -d -P 2"
  [igzip]="igzip -d (ISA-L)" [libdeflate]="libdeflate-gunzip" [gzip]="gzip -d (GNU)")
declare -A ANCHOR_CMD ANCHOR_MISSING ANCHOR_VERSION

# anchors_find [--install]: fills ANCHOR_CMD / ANCHOR_MISSING / ANCHOR_VERSION.
# With --install, a missing rapidgzip is installed with pip into
# bench/work/venv, and missing igzip and libdeflate-gunzip with apt-get
# (Debian's isal and libdeflate-tools) when run as root; else they are
# reported missing.
anchors_find() {
  local rapidgzip
  if [ "${1:-}" = --install ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null &&
    ! { command -v igzip && command -v libdeflate-gunzip; } >/dev/null; then
    echo "bench: installing isal and libdeflate-tools (apt-get)" >&2
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends isal libdeflate-tools; } >/dev/null 2>&1 ||
      echo "bench: apt-get install isal libdeflate-tools failed" >&2
  fi
  rapidgzip=$(command -v rapidgzip || echo bench/work/venv/bin/rapidgzip)
  if [ ! -x "$rapidgzip" ] && [ "${1:-}" = --install ]; then
    echo "bench: installing rapidgzip into bench/work/venv (pip)" >&2
    { python3 -m venv bench/work/venv && bench/work/venv/bin/pip install -q rapidgzip; } >&2 ||
      echo "bench: pip install rapidgzip failed" >&2
  fi
  if [ -x "$rapidgzip" ]; then
    ANCHOR_CMD[rapidgzip1]="'$rapidgzip' -d -c -P 1"
    ANCHOR_CMD[rapidgzip2]="'$rapidgzip' -d -c -P 2"
    ANCHOR_VERSION[rapidgzip]="rapidgzip $("$rapidgzip" --version 2>&1 | grep -o 'version [0-9.]*' | head -n 1 | cut -d' ' -f2)"
  else
    ANCHOR_MISSING[rapidgzip1]="not installed (pip install rapidgzip into bench/work/venv)"
    ANCHOR_MISSING[rapidgzip2]=${ANCHOR_MISSING[rapidgzip1]}
  fi
  if command -v igzip >/dev/null; then
    ANCHOR_CMD[igzip]="igzip -d -c"
    ANCHOR_VERSION[igzip]="ISA-L igzip $(igzip --version 2>&1 | grep -o '[0-9][0-9.]*' | head -n 1)"
  else
    ANCHOR_MISSING[igzip]="not installed (apt-get install isal)"
  fi
  if command -v libdeflate-gunzip >/dev/null; then
    ANCHOR_CMD[libdeflate]="libdeflate-gunzip -c"
    ANCHOR_VERSION[libdeflate]="libdeflate $(libdeflate-gunzip -V 2>&1 | grep -o '[0-9][0-9.]*' | head -n 1)"
  else
    ANCHOR_MISSING[libdeflate]="not installed (apt-get install libdeflate-tools)"
  fi
  ANCHOR_CMD[gzip]="gzip -d -c"
  ANCHOR_VERSION[gzip]=$(gzip --version | head -n 1)
}

# median_min: the median and the minimum of the numbers on stdin, one a line,
# as "MEDIAN MIN" with 3 decimals.
median_min() {
  sort -g | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f %.3f\n", m, a[1]}'
}
