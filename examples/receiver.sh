#!/bin/sh
# A receiver with a window and sound: everything a channel carries, the
# picture in a window, the sound on the speakers. Clicks and keys in the
# window go back to the source (navigation events → input frames).
#
#   ./receiver.sh                        # reads ws://127.0.0.1:9100/stream/desktop
#   CHANNEL=demo ./receiver.sh
#
# Settings (environment): RELAY, CHANNEL, VIDEO_SINK (default
# autovideosink), AUDIO_SINK (default autoaudiosink). A channel without
# audio leaves the audio branch unlinked, which dsdepay ignores.
set -eu
RELAY=${RELAY:-ws://127.0.0.1:9100}
CHANNEL=${CHANNEL:-desktop}
VIDEO_SINK=${VIDEO_SINK:-autovideosink}
AUDIO_SINK=${AUDIO_SINK:-autoaudiosink}

exec gst-launch-1.0 \
  dsstreamsrc location="$RELAY/stream/$CHANNEL" ! dsdepay name=d \
  d.video ! queue ! videoconvert ! $VIDEO_SINK \
  d.audio ! queue ! audioconvert ! audioresample ! $AUDIO_SINK
