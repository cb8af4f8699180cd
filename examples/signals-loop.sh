#!/bin/sh
# Signals from a shell loop: one JSON object per line (JSON Lines) into
# fdsrc ! dspay ! dsrelaysink. dspay sends the first line as a SignalSync
# and then only what changed (SignalDiff).
#
#   ./signals-loop.sh                    # publishes on ws://127.0.0.1:9100/peer/signals
#
# Open http://127.0.0.1:9100/view/signals to watch the table change.
# Settings (environment): RELAY, CHANNEL, COUNT (stop after this many
# lines; default: run until interrupted), INTERVAL (seconds, default 1).
set -eu
RELAY=${RELAY:-ws://127.0.0.1:9100}
CHANNEL=${CHANNEL:-signals}
COUNT=${COUNT:-0}
INTERVAL=${INTERVAL:-1}

produce() {
  i=1
  start=$(date +%s)
  while [ "$COUNT" -eq 0 ] || [ "$i" -le "$COUNT" ]; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    now=$(date +%s)
    printf '{"count": %d, "doubled": %d, "load": %s, "uptime_s": %d, "host": "%s"}\n' \
      "$i" $((i * 2)) "$load" $((now - start)) "$(hostname)"
    i=$((i + 1))
    sleep "$INTERVAL"
  done
}

# fdsrc has no caps of its own: say what the bytes are
produce | gst-launch-1.0 -e fdsrc fd=0 ! application/x-ds-signal \
  ! dspay ! dsrelaysink location="$RELAY/peer/$CHANNEL"
