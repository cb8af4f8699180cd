#!/bin/sh
# A browser-rendered source controlled from the viewer: wpesrc (WPE WebKit,
# Debian package gstreamer1.0-wpe) renders a web page offscreen; its
# picture goes to the relay, and the clicks and keys a viewer sends come
# back through dsrelaysink as navigation events, which wpesrc hands to the
# page. It runs headless: WPE needs no X display.
#
#   ./browser-source.sh                  # the bundled remote-page.html
#   PAGE=https://example.org ./browser-source.sh
#
# Then open http://127.0.0.1:9100/view/browser and click in the picture.
# Settings (environment): RELAY, CHANNEL (default browser), PAGE (URL),
# WIDTH/HEIGHT (default 800x600), FPS (default 15).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
RELAY=${RELAY:-ws://127.0.0.1:9100}
CHANNEL=${CHANNEL:-browser}
PAGE=${PAGE:-file://$HERE/remote-page.html}
WIDTH=${WIDTH:-800}
HEIGHT=${HEIGHT:-600}
FPS=${FPS:-15}

exec gst-launch-1.0 -e \
  wpesrc location="$PAGE" \
  ! "video/x-raw,width=$WIDTH,height=$HEIGHT,framerate=$FPS/1" \
  ! videoconvert ! video/x-raw,format=RGBA \
  ! dspay ! dsdelta ! dsrelaysink location="$RELAY/peer/$CHANNEL"
