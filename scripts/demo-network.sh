#!/bin/bash
#
# The gst-ds-stream network demo: starts ds-relay on a free loopback port,
# publishes a test screencast (videotestsrc), a 440 Hz tone and live signal
# updates on one channel (dsmux ! dsrelaysink), receives the channel with a
# second pipeline (dsstreamsrc ! dsdepay) and writes a PNG snapshot, a WAV
# file and the final signal state under out/network/, then prints the
# connection statistics of both ends and how to open more receivers.
#
# Usage: bash scripts/demo-network.sh [--no-build] [--keep]
#
#   --no-build  use the existing build (DS_BUILD_DIR, default build/)
#   --keep      afterwards, keep the relay and a live sender running (until
#               Ctrl-C) so that more receivers can be opened: the relay
#               listens on port 9100 (DS_DEMO_PORT) when it is free, the
#               channel is "demo", and clicks or keys in a viewer are
#               printed as they reach the publishing pipeline
#
# Environment: DS_BUILD_DIR (default build/), DS_DEMO_OUT (default
# out/network/), DS_DEMO_SECONDS (default 3), DS_DEMO_CHANNEL (default demo),
# DS_DEMO_PORT (default 9100 with --keep, else any free port).
# scripts/demo.sh can call it (the network part of the README demo).

set -u
set -o pipefail

. "$(dirname "$0")/lib.sh"

BUILD=yes
KEEP=no
for arg in "$@"; do
  case $arg in
    --no-build) BUILD=no ;;
    --keep) KEEP=yes ;;
    *) ds_die "unknown argument $arg (usage: $0 [--no-build] [--keep])" ;;
  esac
done

if [ $BUILD = yes ]; then
  ds_install_deps
  ds_build
fi

OUT=${DS_DEMO_OUT:-$DS_ROOT/out/network}
SECONDS_OF_MEDIA=${DS_DEMO_SECONDS:-3}
CHANNEL=${DS_DEMO_CHANNEL:-demo}
FPS=30
RATE=48000
RELAY=$DS_BUILD_DIR/relay/ds-relay

export GST_PLUGIN_PATH=$DS_BUILD_DIR${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}
export GST_REGISTRY=$OUT/registry.bin

[ -x "$RELAY" ] || ds_die "$RELAY not found: build first"
case $OUT in
  "" | / | "$DS_ROOT" | "$HOME") ds_die "refusing to use $OUT as the output folder" ;;
esac
rm -rf "$OUT"
mkdir -p "$OUT"

for f in dspay dsdelta dsdepay dsrelaysink dsstreamsrc; do
  gst-inspect-1.0 "$f" >/dev/null 2>&1 || ds_die "element $f not found in $DS_BUILD_DIR"
done

PIDS=()
cleanup () {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_relay PORT: the relay's first line says where it listens
start_relay () {
  local _
  : > "$OUT/relay.out"
  ds_log "relay: $RELAY --port $1"
  "$RELAY" --port "$1" > "$OUT/relay.out" 2> "$OUT/relay.log" &
  RELAY_PID=$!
  PIDS+=($RELAY_PID)
  PORT=
  for _ in $(seq 1 100); do
    PORT=$(sed -n '1s|^ds-relay: listening on http://127.0.0.1:\([0-9]*\)/$|\1|p' \
      "$OUT/relay.out" 2>/dev/null)
    [ -n "$PORT" ] && return 0
    kill -0 $RELAY_PID 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Live, the relay takes the well-known port so that the viewer's address is
# the one the docs give; when that port is taken, any free port will do.
RELAY_PORT=0
[ $KEEP = yes ] && RELAY_PORT=${DS_DEMO_PORT:-9100}
if ! start_relay "$RELAY_PORT" && [ "$RELAY_PORT" != 0 ]; then
  ds_log "port $RELAY_PORT is taken: using a free port"
  start_relay 0
fi
[ -n "$PORT" ] || ds_die "ds-relay did not start (see $OUT/relay.log)"
PEER=ws://127.0.0.1:$PORT/peer/$CHANNEL
STREAM=ws://127.0.0.1:$PORT/stream/$CHANNEL

# The receiver first, so that it sees the whole stream; it ends with the
# source's End frame (dsstreamsrc: End -> EOS).
ds_log "receiver: dsstreamsrc $STREAM -> dsdepay -> PNG, WAV, JSON Lines"
timeout $((SECONDS_OF_MEDIA + 30)) gst-launch-1.0 -m \
  dsstreamsrc location="$STREAM" retry-delay=100 ! dsdepay name=d \
  d.video ! queue ! videoconvert ! pngenc ! \
    multifilesink location="$OUT/snapshot.png" \
  d.audio ! queue ! audioconvert ! wavenc ! filesink location="$OUT/tone.wav" \
  d.signal ! queue ! filesink location="$OUT/signals-state.jsonl" \
  > "$OUT/receiver.log" 2>&1 &
RECEIVER=$!
PIDS+=($RECEIVER)
for _ in $(seq 1 200); do
  grep -q 'ds-connected' "$OUT/receiver.log" 2>/dev/null && break
  sleep 0.05
done
grep -q 'ds-connected' "$OUT/receiver.log" ||
  ds_die "the receiver did not connect (see $OUT/receiver.log)"

# Live signal updates, one JSON object per line, while the picture runs
signal_lines () {
  local i n=$((SECONDS_OF_MEDIA * 4))
  for i in $(seq 1 $n); do
    printf '{"count": %d, "doubled": %d, "label": "tick %d", "secret": %d}\n' \
      "$i" $((i * 2)) "$i" $((i * 7))
    sleep 0.25
  done
}

ds_log "source: videotestsrc + audiotestsrc + live signals -> dspay -> dsmux -> dsrelaysink $PEER"
signal_lines | gst-launch-1.0 -m \
  dsmux name=s ! dsrelaysink location="$PEER" retry-delay=100 \
  videotestsrc is-live=true pattern=ball num-buffers=$((SECONDS_OF_MEDIA * FPS)) ! \
    "video/x-raw,format=RGBA,width=320,height=240,framerate=$FPS/1" ! \
    dspay ! dsdelta keyframe-interval=$FPS ! s. \
  audiotestsrc is-live=true wave=sine freq=440 volume=0.5 \
    samplesperbuffer=$((RATE / 50)) num-buffers=$((SECONDS_OF_MEDIA * 50)) ! \
    "audio/x-raw,format=F32LE,layout=interleaved,rate=$RATE,channels=2" ! \
    dspay ! s. \
  fdsrc fd=0 ! application/x-ds-signal ! \
    dspay signals="<count,doubled,label>" ! s. \
  > "$OUT/sender.log" 2>&1 || ds_die "the source pipeline failed (see $OUT/sender.log)"

wait $RECEIVER || ds_die "the receiver pipeline failed (see $OUT/receiver.log)"

for f in snapshot.png tone.wav signals-state.jsonl; do
  [ -s "$OUT/$f" ] || ds_die "$OUT/$f is missing or empty"
done

# "Got message #12 from element "s" (element): ds-stats, connected=..."
last_stats () {
  grep -o 'ds-stats, .*' "$1" | tail -n 1 | sed 's/([a-z0-9]*)//g; s/;$//'
}

ds_log "done"
printf 'decoded at the receiver:\n'
printf '  %-45s last video frame (320x240)\n' "$OUT/snapshot.png"
printf '  %-45s %s s of 440 Hz tone, %d Hz stereo\n' "$OUT/tone.wav" \
  "$SECONDS_OF_MEDIA" "$RATE"
printf '  %-45s merged signal state after every frame\n' \
  "$OUT/signals-state.jsonl"
printf 'final signal state:\n  %s\n' "$(tail -n 1 "$OUT/signals-state.jsonl")"
if grep -q secret "$OUT/signals-state.jsonl"; then
  ds_die "the private signal \"secret\" left the source"
fi
printf 'sender (dsrelaysink):\n  %s\n' "$(last_stats "$OUT/sender.log")"
printf 'receiver (dsstreamsrc):\n  %s\n' "$(last_stats "$OUT/receiver.log")"

if [ $KEEP = no ]; then
  printf '\nTo watch live in a browser, run with --keep (scripts/demo.sh does).\n'
  exit 0
fi

ds_log "live: the relay and a sender keep running until Ctrl-C"

# Signal updates for as long as the demo runs
live_signal_lines () {
  local i=0
  while :; do
    i=$((i + 1))
    printf '{"count": %d, "doubled": %d, "clock": "%s"}\n' \
      "$i" $((i * 2)) "$(date +%H:%M:%S)"
    sleep 0.5
  done
}

# gst-launch -m prints every element message; show the input that comes
# back from viewers (ds-input) and the receiver count (ds-receivers)
show_input () {
  sed -u -n 's/^Got message .*(element): \(ds-input\|ds-receivers\), \(.*\)$/  \1: \2/p' |
    sed -u 's/([a-z0-9]*)//g; s/;$//'
}

live_signal_lines | gst-launch-1.0 -m \
  dsmux name=s ! dsrelaysink location="$PEER" \
  videotestsrc is-live=true pattern=ball ! \
    "video/x-raw,format=RGBA,width=640,height=360,framerate=$FPS/1" ! \
    dspay ! dsdelta ! s. \
  audiotestsrc is-live=true wave=sine freq=440 volume=0.2 \
    samplesperbuffer=$((RATE / 50)) ! \
    "audio/x-raw,format=F32LE,layout=interleaved,rate=$RATE,channels=2" ! \
    dspay ! s. \
  fdsrc fd=0 ! application/x-ds-signal ! \
    dspay signals="<count,doubled,clock>" ! s. 2>&1 | show_input &
PIDS+=($!)
cat <<EOF

The channel "$CHANNEL" is live: a bouncing ball, a 440 Hz tone and signals
(count, doubled, clock). Open it in a browser:

  http://127.0.0.1:$PORT/view/$CHANNEL

Clicks, keys and the wheel on the picture travel back to this publishing
pipeline and are printed below as ds-input messages. More receivers (any
number; late joiners get a picture at once):

  GST_PLUGIN_PATH=$DS_BUILD_DIR gst-launch-1.0 \\
    dsstreamsrc location=$STREAM ! dsdepay name=d \\
    d.video ! queue ! videoconvert ! autovideosink \\
    d.audio ! queue ! audioconvert ! autoaudiosink

Press Ctrl-C to stop.

EOF
wait
