#!/bin/sh
# A dashboard: several channels side by side in one picture (compositor),
# shown in a window and published again as its own channel, so a browser
# can watch all of them at http://127.0.0.1:9100/view/dashboard.
#
#   ./dashboard.sh cam1 cam2 [cam3 …]
#
# Settings (environment): RELAY, OUT (channel, default dashboard), TILE_W,
# TILE_H (size of each tile, default 320x240), VIDEO_SINK (default
# autovideosink; fakesink for none).
set -eu
RELAY=${RELAY:-ws://127.0.0.1:9100}
OUT=${OUT:-dashboard}
TILE_W=${TILE_W:-320}
TILE_H=${TILE_H:-240}
VIDEO_SINK=${VIDEO_SINK:-autovideosink}

if [ $# -lt 1 ]; then
  echo "usage: $0 CHANNEL [CHANNEL …]" >&2
  exit 2
fi

pads=""
inputs=""
i=0
for ch in "$@"; do
  pads="$pads sink_$i::xpos=$((i * TILE_W))"
  inputs="$inputs dsstreamsrc location=$RELAY/stream/$ch ! dsdepay name=d$i"
  inputs="$inputs d$i.video ! queue ! videoconvert ! videoscale"
  inputs="$inputs ! video/x-raw,width=$TILE_W,height=$TILE_H,pixel-aspect-ratio=1/1 ! mix.sink_$i"
  i=$((i + 1))
done

# shellcheck disable=SC2086 # word splitting builds the pipeline
exec gst-launch-1.0 \
  compositor name=mix background=black $pads \
  ! video/x-raw,framerate=15/1 ! videoconvert ! tee name=t \
  t. ! queue ! $VIDEO_SINK \
  t. ! queue ! videoconvert ! video/x-raw,format=RGBA \
     ! dspay ! dsdelta ! dsrelaysink location="$RELAY/peer/$OUT" \
  $inputs
