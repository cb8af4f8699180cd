#!/bin/sh
# Desktop screencast with sound, published to a ds-relay channel.
#
#   ./screencast.sh                      # publishes on ws://127.0.0.1:9100/peer/desktop
#   RELAY=ws://host:9100 CHANNEL=me ./screencast.sh
#
# Then open http://127.0.0.1:9100/view/desktop (click "enable sound").
# ximagesrc runs with its default properties. dspay takes what it
# captures (BGRx on a 24-bit screen) and sends opaque RGBA: do not force
# video/x-raw,format=RGBA here, videoconvert would copy the X padding byte
# (0 in black areas) into alpha. Video and audio share one channel: each
# links to a request pad of dsmux, which joins them for dsrelaysink.
#
# Settings (environment): RELAY, CHANNEL, FPS (default 15), WIDTH/HEIGHT
# (scale to this size; default 1280x720), AUDIO_SRC (default autoaudiosrc;
# "audiotestsrc is-live=true" for a tone), DISPLAY (the X display to capture).
set -eu
RELAY=${RELAY:-ws://127.0.0.1:9100}
CHANNEL=${CHANNEL:-desktop}
FPS=${FPS:-15}
WIDTH=${WIDTH:-1280}
HEIGHT=${HEIGHT:-720}
AUDIO_SRC=${AUDIO_SRC:-autoaudiosrc}

exec gst-launch-1.0 -e \
  dsmux name=channel ! dsrelaysink location="$RELAY/peer/$CHANNEL" \
  ximagesrc \
    ! "video/x-raw,framerate=$FPS/1" ! videoscale ! videoconvert \
    ! "video/x-raw,width=$WIDTH,height=$HEIGHT,pixel-aspect-ratio=1/1" \
    ! queue max-size-buffers=2 leaky=downstream \
    ! dspay ! dsdelta ! channel. \
  $AUDIO_SRC ! audioconvert ! audioresample \
    ! audio/x-raw,format=F32LE,layout=interleaved,rate=48000,channels=2 \
    ! queue ! dspay ! channel.
