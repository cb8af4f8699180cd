#!/usr/bin/python3
# gst-ds-stream: ds-aggregator in Python (PyGObject), the twin of
# aggregator.c. A receiver and a source at once (docs/protocol.md §7):
# it receives the signals of two channels, derives new values and
# publishes them on a channel of its own.
#
#   ./aggregator.py [--relay ws://127.0.0.1:9100] [--out aggregate] CHANNEL_A CHANNEL_B
#
# Published signals: "sum" (of every numeric signal of both inputs),
# "events", "updates_a", "updates_b", "uptime_s", "status".
#
# Needs python3-gi and gir1.2-gstreamer-1.0 / gir1.2-gst-plugins-base-1.0
# (Debian), and the ds-stream plugins on GST_PLUGIN_PATH.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import json
import re
import signal
import sys
import threading
import time

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstApp', '1.0')
from gi.repository import GLib, Gst, GstApp  # noqa: E402

CHANNEL_RE = re.compile(r'^[A-Za-z0-9._-]{1,64}$')


class Aggregator:
    def __init__(self, relay, channels, out, select=None):
        self.names = channels
        self.states = [None, None]
        self.updates = [0, 0]
        self.events = 0
        self.start = time.monotonic()
        self.last = None
        self.lock = threading.Lock()
        self.loop = GLib.MainLoop()

        sel = f' select="<{select}>"' if select else ''
        desc = ' '.join([
            f'dsstreamsrc location={relay}/stream/{channels[0]}{sel} ! dsdepay',
            '! application/x-ds-signal ! appsink name=a sync=false',
            f'dsstreamsrc location={relay}/stream/{channels[1]}{sel} ! dsdepay',
            '! application/x-ds-signal ! appsink name=b sync=false',
            'appsrc name=out is-live=true do-timestamp=true format=time',
            'caps=application/x-ds-signal ! dspay',
            f'! dsrelaysink location={relay}/peer/{out}',
        ])
        self.pipeline = Gst.parse_launch(desc)
        self.out = self.pipeline.get_by_name('out')
        for i, name in enumerate(('a', 'b')):
            sink = self.pipeline.get_by_name(name)
            sink.set_property('emit-signals', True)
            sink.connect('new-sample', self.on_new_sample, i)

        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect('message', self.on_message)

    @staticmethod
    def sum_numbers(state):
        if not state:
            return 0
        return sum(v for k, v in state.items()
                   if not k.startswith('_') and isinstance(v, (int, float))
                   and not isinstance(v, bool))

    def publish(self):
        """Pushes the derived state as one JSON line when it changed."""
        waiting = [n for n, s in zip(self.names, self.states) if s is None]
        derived = {
            'sum': float(self.sum_numbers(self.states[0]) + self.sum_numbers(self.states[1])),
            'events': self.events,
            'updates_a': self.updates[0],
            'updates_b': self.updates[1],
            'uptime_s': int(time.monotonic() - self.start),
            'status': 'waiting for ' + ', '.join(waiting) if waiting else 'ok',
        }
        text = json.dumps(derived)
        if text == self.last:
            return
        self.last = text
        self.out.emit('push-buffer', Gst.Buffer.new_wrapped((text + '\n').encode()))

    def on_new_sample(self, sink, index):
        sample = sink.emit('pull-sample')
        if sample is None:
            return Gst.FlowReturn.EOS
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if not ok:
            return Gst.FlowReturn.OK
        text = bytes(info.data).decode('utf-8', 'replace')
        buf.unmap(info)
        with self.lock:
            # each line is the channel's whole merged state
            for line in text.splitlines():
                if not line.strip():
                    continue
                try:
                    state = json.loads(line)
                except ValueError:
                    state = None
                if not isinstance(state, dict):
                    print(f'ds-aggregator: {self.names[index]}: skipping a line '
                          'that is not a JSON object', file=sys.stderr)
                    continue
                self.states[index] = state
                self.updates[index] += 1
                self.events += 1
            self.publish()
        return Gst.FlowReturn.OK

    def on_tick(self):
        with self.lock:
            self.publish()
        return True

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print(f'ds-aggregator: error from {msg.src.get_name()}: {err.message}\n{debug or ""}',
                  file=sys.stderr)
            self.loop.quit()
        elif msg.type == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            print(f'ds-aggregator: warning from {msg.src.get_name()}: {err.message}',
                  file=sys.stderr)
        elif msg.type == Gst.MessageType.EOS:
            self.loop.quit()

    def run(self):
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            print('ds-aggregator: the pipeline does not start', file=sys.stderr)
            return 1
        GLib.timeout_add_seconds(1, self.on_tick)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.quit)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self.quit)
        self.on_tick()
        self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        return 0

    def quit(self):
        print('ds-aggregator: interrupted, stopping', file=sys.stderr)
        self.loop.quit()
        return GLib.SOURCE_REMOVE


def main():
    parser = argparse.ArgumentParser(
        description='Derive signals from two ds-stream channels and publish them.')
    parser.add_argument('--relay', '-r', default='ws://127.0.0.1:9100',
                        help='relay base URL (default ws://127.0.0.1:9100)')
    parser.add_argument('--out', '-o', default='aggregate',
                        help='channel to publish on (default aggregate)')
    parser.add_argument('--select', '-s', default=None,
                        help='only these input signals, comma-separated')
    parser.add_argument('channel_a')
    parser.add_argument('channel_b')
    args = parser.parse_args()
    for name in (args.channel_a, args.channel_b, args.out):
        if not CHANNEL_RE.match(name):
            parser.error(f"bad channel name '{name}' (1-64 of A-Z a-z 0-9 . _ -)")

    Gst.init(None)
    agg = Aggregator(args.relay, [args.channel_a, args.channel_b], args.out, args.select)
    print(f'ds-aggregator: {args.channel_a} + {args.channel_b} -> {args.relay}/peer/{args.out}',
          flush=True)
    return agg.run()


if __name__ == '__main__':
    sys.exit(main())
