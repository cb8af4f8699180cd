#!/bin/sh
# Desktop screencast as VP8 with Opus sound, published to a ds-relay
# channel: the royalty-free twin of screencast-h264.sh (every browser
# decodes VP8 with WebCodecs).
#
#   ./screencast-vp8.sh                  # publishes on ws://127.0.0.1:9100/peer/desktop
#   BITRATE=2000 ./screencast-vp8.sh
#
# Then open http://127.0.0.1:9100/view/desktop or run ./receiver.sh.
#
# vp8enc settings for a live screen:
# - deadline=1 (realtime) and lag-in-frames=0: a frame out for every frame
#   in, no lookahead;
# - cpu-used=8 on two cores keeps 720p30 live; lower is sharper and slower;
# - end-usage=cbr with target-bitrate, and keyframe-max-dist for a
#   keyframe every KEYINT seconds (vp8enc also answers the relay's
#   keyframe requests, which dsrelaysink turns into GstForceKeyUnit);
# - error-resilient: a receiver that lost a frame recovers on the next
#   keyframe rather than showing a broken picture for long.
#
# Settings (environment): RELAY, CHANNEL, FPS (30), WIDTH/HEIGHT (1280x720),
# BITRATE (kbit/s, 3000), KEYINT (seconds, 2), CPU_USED (8), AUDIO_SRC
# (autoaudiosrc), DISPLAY.
set -eu
RELAY=${RELAY:-ws://127.0.0.1:9100}
CHANNEL=${CHANNEL:-desktop}
FPS=${FPS:-30}
WIDTH=${WIDTH:-1280}
HEIGHT=${HEIGHT:-720}
BITRATE=${BITRATE:-3000}
KEYINT=${KEYINT:-2}
CPU_USED=${CPU_USED:-8}
AUDIO_SRC=${AUDIO_SRC:-autoaudiosrc}

exec gst-launch-1.0 -e \
  dsmux name=channel ! dsrelaysink location="$RELAY/peer/$CHANNEL" \
  ximagesrc \
    ! "video/x-raw,framerate=$FPS/1" ! videoscale ! videoconvert \
    ! "video/x-raw,format=I420,width=$WIDTH,height=$HEIGHT,pixel-aspect-ratio=1/1" \
    ! queue max-size-buffers=2 leaky=downstream \
    ! vp8enc deadline=1 lag-in-frames=0 cpu-used="$CPU_USED" threads=2 \
        end-usage=cbr target-bitrate=$((BITRATE * 1000)) \
        keyframe-max-dist=$((FPS * KEYINT)) error-resilient=default \
    ! dspay ! channel. \
  $AUDIO_SRC ! audioconvert ! audioresample \
    ! audio/x-raw,rate=48000,channels=2 \
    ! opusenc frame-size=20 bitrate=96000 ! queue ! dspay ! channel.
