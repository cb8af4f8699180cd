#!/bin/sh
# A receiver with a window and sound: everything a channel carries, the
# picture in a window, the sound on the speakers. Raw and lossless
# pictures (dspay, dsdelta), encoded video (H.264, H.265, VP8, VP9, AV1:
# screencast-h264.sh, screencast-vp8.sh), PCM and Opus sound all play:
# decodebin passes raw media through and plugs a decoder for the rest.
# Each decodebin sits in a bin with async-handling=true: a decodebin that
# never gets data (the audio branch of a channel without sound) would
# otherwise hold the whole live pipeline out of PLAYING.
# (`gst-play-1.0 ws://127.0.0.1:9100/stream/desktop` plays a channel too;
# this pipeline also sends clicks and keys back.) Clicks and keys in the
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
  d.video ! queue ! "bin.(" async-handling=true \
    decodebin ! videoconvert ! $VIDEO_SINK ")" \
  d.audio ! queue ! "bin.(" async-handling=true \
    decodebin ! audioconvert ! audioresample ! $AUDIO_SINK ")"
