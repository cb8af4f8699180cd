#!/bin/bash
#
# The gst-ds-stream demo, on a Debian 12 machine (as root, or with sudo):
# installs what is missing with apt-get and the viewer's npm package
# (npm ci in relay/viewer: fzstd, its zstd decoder), builds into build/,
# then sends a test pattern, a tone and a few signal updates through dspay
# into ds-stream recordings (.ds files), reads them back through dsdepay
# and writes a PNG snapshot, a WAV file and the final signal state under
# out/.
#
# Usage: bash scripts/demo.sh [--no-build] [--no-live]
#
# At the end the demo stays live until Ctrl-C (not with --no-live): ds-relay
# on port 9100 with the channel "demo" (a bouncing ball, a tone and live
# signals), to watch at http://127.0.0.1:9100/view/demo; clicks and keys in
# the viewer are printed as they reach the publishing pipeline.
#
# Environment: DS_BUILD_DIR (default build/), DS_DEMO_OUT (default out/),
# DS_DEMO_SECONDS (default 3). The test suite runs it as the meson test
# "demo" (--no-build --no-live, into the build folder).
#
# Then the same through the network (scripts/demo-network.sh): ds-relay on
# a free loopback port, one dsmux ! dsrelaysink pipeline publishing picture, tone
# and signals on one channel, one dsstreamsrc pipeline receiving them, with
# its results under out/network/.
#
# The file transport is two functions, ds_sink and ds_src.

set -u
set -o pipefail

. "$(dirname "$0")/lib.sh"

BUILD=yes
LIVE=yes
for arg in "$@"; do
  case $arg in
    --no-build) BUILD=no ;;
    --no-live) LIVE=no ;;
    *) ds_die "unknown argument $arg (usage: $0 [--no-build] [--no-live])" ;;
  esac
done

if [ $BUILD = yes ]; then
  ds_install_deps
  ds_viewer_deps
  ds_build
fi

OUT=${DS_DEMO_OUT:-$DS_ROOT/out}
SECONDS_OF_MEDIA=${DS_DEMO_SECONDS:-3}
FPS=30
RATE=48000

export GST_PLUGIN_PATH=$DS_BUILD_DIR${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}
export GST_REGISTRY=$OUT/registry.bin

for f in dspay dsdepay; do
  gst-inspect-1.0 "$f" >/dev/null 2>&1 || ds_die "element $f not found in $DS_BUILD_DIR"
done

case $OUT in
  "" | / | "$DS_ROOT" | "$HOME") ds_die "refusing to use $OUT as the output folder" ;;
esac
rm -rf "$OUT"
mkdir -p "$OUT"

# ds_sink NAME: the pipeline tail that publishes one ds-stream
ds_sink () {
  echo "filesink location=$OUT/$1.ds"
}

# ds_src NAME: the pipeline head that receives it
ds_src () {
  echo "filesrc location=$OUT/$1.ds"
}

# Signal updates, one JSON object per line (JSON Lines): a counter and
# its double, a label, and a private key that dspay's "signals" property
# keeps from leaving the source.
signals_in=$OUT/signals-in.jsonl
for i in $(seq 1 10); do
  printf '{"count": %d, "doubled": %d, "label": "tick %d", "secret": %d}\n' \
    "$i" $((i * 2)) "$i" $((i * 7))
  # one line that changes nothing: dspay sends nothing for it
  [ "$i" -eq 5 ] && printf '{"count": 5}\n'
done > "$signals_in"

ds_log "source: videotestsrc + audiotestsrc + $signals_in -> dspay -> .ds"
gst-launch-1.0 -q \
  videotestsrc pattern=ball num-buffers=$((SECONDS_OF_MEDIA * FPS)) ! \
    "video/x-raw,format=RGBA,width=320,height=240,framerate=$FPS/1" ! \
    dspay ! $(ds_sink video) \
  audiotestsrc wave=sine freq=440 volume=0.5 samplesperbuffer=$((RATE / 10)) \
    num-buffers=$((SECONDS_OF_MEDIA * 10)) ! \
    "audio/x-raw,format=F32LE,layout=interleaved,rate=$RATE,channels=2" ! \
    dspay ! $(ds_sink audio) \
  filesrc location="$signals_in" blocksize=37 ! application/x-ds-signal ! \
    dspay signals="<count,doubled,label>" ! $(ds_sink signals) ||
  ds_die "the source pipeline failed"

ds_log "receiver: .ds -> dsdepay -> PNG, WAV, JSON Lines"
gst-launch-1.0 -q \
  $(ds_src video) ! dsdepay ! videoconvert ! pngenc ! \
    multifilesink location="$OUT/snapshot.png" \
  $(ds_src audio) ! dsdepay ! audioconvert ! wavenc ! \
    filesink location="$OUT/tone.wav" \
  $(ds_src signals) ! dsdepay ! filesink location="$OUT/signals-state.jsonl" ||
  ds_die "the receiver pipeline failed"

for f in snapshot.png tone.wav signals-state.jsonl; do
  [ -s "$OUT/$f" ] || ds_die "$OUT/$f is missing or empty"
done

ds_log "done"
printf 'recordings (ds-stream byte streams):\n'
for f in video audio signals; do
  printf '  %-40s %10d bytes\n' "$OUT/$f.ds" "$(stat -c %s "$OUT/$f.ds")"
done
printf 'decoded:\n'
printf '  %-40s last video frame (320x240)\n' "$OUT/snapshot.png"
printf '  %-40s %s s of 440 Hz tone, %d Hz stereo\n' "$OUT/tone.wav" \
  "$SECONDS_OF_MEDIA" "$RATE"
printf '  %-40s merged signal state after every frame\n' \
  "$OUT/signals-state.jsonl"
printf 'final signal state:\n  %s\n' "$(tail -n 1 "$OUT/signals-state.jsonl")"
if grep -q secret "$OUT/signals.ds"; then
  ds_die "the private signal \"secret\" left the source"
fi
printf '(the private signal "secret" never left the source: dspay signals=%s)\n' \
  '<count,doubled,label>'

# The same media through the network: ds-relay on a free loopback port,
# one publishing pipeline (dsrelaysink), one receiving (dsstreamsrc)
if [ -x "$DS_BUILD_DIR/relay/ds-relay" ] &&
  gst-inspect-1.0 dsrelaysink >/dev/null 2>&1; then
  status=0
  DS_BUILD_DIR=$DS_BUILD_DIR DS_DEMO_OUT=$OUT/network \
    bash "$DS_ROOT/scripts/demo-network.sh" --no-build \
    $([ $LIVE = yes ] && echo --keep) || status=$?
  # 130: Ctrl-C during the live part, which is how the demo is stopped
  [ $status -eq 0 ] || [ $status -eq 130 ] ||
    ds_die "the network demo failed"
else
  ds_log "ds-relay or dssoup not built (libsoup 3 missing?): no network demo"
fi
