#!/bin/sh
# bench-relay.sh [BUILD_DIR]: the ds-relay fan-out benchmark matrix (issue 4
# item 3) in one run on loopback: ds-relay vs "gdppay ! tcpserversink" vs a
# Node.js "ws" broadcast relay, N = 1, 10, 50 receivers,
#   (a) 64-byte frames as fast as the publisher can send them (opaque
#       NeuralFrames, and for ds-relay also SignalDiff JSON it must merge),
#   (a') 64-byte frames at 20000/s (latency below saturation),
#   (b) 1 MiB frames at 30/s (the issue's latency target case),
#   (b') 1080p RGBA frames (8294400 bytes + header) at 30/s.
# Prints one line per run (see bench-relay.c). Figures: docs/benchmarks.md.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-${DS_BUILD_ROOT:-$root/build}}
bench=$build/tests/bench/bench-relay
export DS_RELAY=${DS_RELAY:-$build/relay/ds-relay}
export DS_SOURCE_ROOT=$root
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}

if [ ! -x "$bench" ] || [ ! -x "$DS_RELAY" ]; then
  echo "bench-relay.sh: build first (ninja -C $build)" >&2
  exit 1
fi
targets="ds-relay gst"
if command -v node >/dev/null 2>&1; then
  if [ ! -d "$here/node/node_modules/ws" ]; then
    (cd "$here/node" && npm ci --silent >/dev/null 2>&1) || true
  fi
  if [ -d "$here/node/node_modules/ws" ]; then
    targets="$targets node"
  else
    echo "# node relay skipped: npm ci failed in tests/bench/node" >&2
  fi
else
  echo "# node relay skipped: no node (apt-get install nodejs npm)" >&2
fi

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for case in "64 0" "64 0 --signal" "64 20000" "1048576 30" "8294416 30"; do
  set -- $case
  for n in 1 10 50; do
    for t in $targets; do
      # the JSON case only differs for ds-relay (the others do not parse)
      if [ -n "$3" ] && [ "$t" != ds-relay ]; then continue; fi
      timeout 120 "$bench" --target "$t" --receivers "$n" --size "$1" \
        --rate "$2" --seconds "$SECONDS_PER_RUN" $3 ||
        echo "# $t n=$n size=$1 failed"
    done
  done
done
