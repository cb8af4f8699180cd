#!/bin/sh
# Three relays serving one channel over NATS (docs/cluster.md): starts
# three nats-servers in a NATS cluster and three ds-relay nodes on
# loopback, and publishes signals-loop.sh's channel on the first node.
# Every node serves it:
#
#   ./cluster.sh
#
# then open http://127.0.0.1:9101/view/signals, :9102 or :9103: the
# page moves to another node when its own stops (--viewer-relay). Ctrl-C
# stops everything. Settings (environment): DS_RELAY (default: ds-relay
# from the build tree or $PATH), NATS_SERVER (default: nats-server, also
# looked for in /usr/sbin), CHANNEL (default signals), DURATION (seconds
# to run; default: until interrupted).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DS_RELAY:-}" ]; then
  if [ -x "$here/../build/relay/ds-relay" ]; then
    DS_RELAY="$here/../build/relay/ds-relay"
  else
    DS_RELAY=ds-relay
  fi
fi
# the plugins of the build tree, when the example runs from it
if [ -d "$here/../build/ext" ]; then
  export GST_PLUGIN_PATH="$here/../build${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
if [ -z "${NATS_SERVER:-}" ]; then
  NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)
fi
CHANNEL=${CHANNEL:-signals}
DURATION=${DURATION:-0}
[ -x "$NATS_SERVER" ] || { echo "nats-server not found (apt-get install nats-server)" >&2; exit 1; }

pids=""
cleanup() {
  # shellcheck disable=SC2086
  [ -n "$pids" ] && kill -- $pids 2>/dev/null
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

routes=nats://127.0.0.1:6221,nats://127.0.0.1:6222,nats://127.0.0.1:6223
for i in 1 2 3; do
  "$NATS_SERVER" -a 127.0.0.1 -p 422$i --cluster_name ds-example \
    --cluster nats://127.0.0.1:622$i --routes "$routes" 2>/dev/null &
  pids="$pids $!"
done
sleep 1
# each relay knows two servers, tried in their order; every node hands
# its viewer pages the three nodes and lets the others' pages in
viewer=""
for port in 9101 9102 9103; do
  viewer="$viewer --viewer-relay ws://127.0.0.1:$port --allowed-origin http://127.0.0.1:$port"
done
# shellcheck disable=SC2086
"$DS_RELAY" --port 9101 --cluster nats://127.0.0.1:4221,nats://127.0.0.1:4222 $viewer >/dev/null &
pids="$pids $!"
# shellcheck disable=SC2086
"$DS_RELAY" --port 9102 --cluster nats://127.0.0.1:4222,nats://127.0.0.1:4223 $viewer >/dev/null &
pids="$pids $!"
# shellcheck disable=SC2086
"$DS_RELAY" --port 9103 --cluster nats://127.0.0.1:4223,nats://127.0.0.1:4221 $viewer >/dev/null &
pids="$pids $!"
sleep 2

# in a process group of its own: its loop and gst-launch stop with it
COUNT=0 RELAY=ws://127.0.0.1:9101 CHANNEL="$CHANNEL" \
  setsid "$here/signals-loop.sh" >/dev/null 2>&1 &
pids="$pids -$!"
echo "channel $CHANNEL, published on node 1; watch it on any node:"
for port in 9101 9102 9103; do
  echo "  http://127.0.0.1:$port/view/$CHANNEL"
done
if [ "$DURATION" -gt 0 ]; then
  sleep "$DURATION"
else
  while :; do sleep 3600; done
fi
