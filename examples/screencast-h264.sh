#!/bin/sh
# Desktop screencast as H.264 with Opus sound, published to a ds-relay
# channel: a few Mbit/s instead of the tens a lossless screen costs, for
# viewers who accept a few lossy pixels (video, games, a phone link).
#
#   ./screencast-h264.sh                 # publishes on ws://127.0.0.1:9100/peer/desktop
#   BITRATE=6000 FPS=60 ./screencast-h264.sh
#
# Then open http://127.0.0.1:9100/view/desktop (the viewer decodes it with
# WebCodecs: on another machine it needs https or localhost, see
# docs/relay.md) or run ./receiver.sh.
#
# x264enc settings for a live screen:
# - tune=zerolatency: no lookahead, no frame threads, no B-frames (the
#   protocol carries no decode time, so B-frames are refused anyway:
#   bframes=0 says it again);
# - key-int-max: a keyframe every KEYINT seconds; the relay also asks for
#   one when a receiver lost frames, coalesced (ds-relay
#   --keyframe-request-interval), and dsrelaysink turns that request into a
#   GstForceKeyUnit event x264enc answers;
# - x264enc in byte-stream format repeats SPS and PPS before every IDR, so
#   a receiver can start at any keyframe;
# - speed-preset=veryfast and a constant bitrate (pass=cbr, the default)
#   with a one-second VBV: sharp text at 4 Mbit/s for 720p30;
#   ultrafast halves the CPU and costs text sharpness;
# - I420, 8 bit: what every browser's H.264 decoder takes.
#
# Settings (environment): RELAY, CHANNEL, FPS (30), WIDTH/HEIGHT (scale to
# this size; 1280x720), BITRATE (kbit/s, 4000), KEYINT (seconds between
# keyframes, 2), PRESET (veryfast), AUDIO_SRC (autoaudiosrc; "audiotestsrc
# is-live=true" for a tone), DISPLAY (the X display to capture).
set -eu
RELAY=${RELAY:-ws://127.0.0.1:9100}
CHANNEL=${CHANNEL:-desktop}
FPS=${FPS:-30}
WIDTH=${WIDTH:-1280}
HEIGHT=${HEIGHT:-720}
BITRATE=${BITRATE:-4000}
KEYINT=${KEYINT:-2}
PRESET=${PRESET:-veryfast}
AUDIO_SRC=${AUDIO_SRC:-autoaudiosrc}

exec gst-launch-1.0 -e \
  dsmux name=channel ! dsrelaysink location="$RELAY/peer/$CHANNEL" \
  ximagesrc \
    ! "video/x-raw,framerate=$FPS/1" ! videoscale ! videoconvert \
    ! "video/x-raw,format=I420,width=$WIDTH,height=$HEIGHT,pixel-aspect-ratio=1/1" \
    ! queue max-size-buffers=2 leaky=downstream \
    ! x264enc tune=zerolatency bframes=0 speed-preset="$PRESET" \
        bitrate="$BITRATE" vbv-buf-capacity=1000 key-int-max=$((FPS * KEYINT)) \
    ! "video/x-h264,stream-format=byte-stream,alignment=au" \
    ! dspay ! channel. \
  $AUDIO_SRC ! audioconvert ! audioresample \
    ! audio/x-raw,rate=48000,channels=2 \
    ! opusenc frame-size=20 bitrate=96000 ! queue ! dspay ! channel.
