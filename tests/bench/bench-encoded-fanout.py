#!/usr/bin/python3
# gst-ds-stream
# Copyright (C) 2026 gst-ds-stream developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-encoded-fanout.py BUILD_DIR [--receivers 200] [--rounds 3]
#                         [--seconds 5] [--bitrate 4000]
#
# Fan-out of a 4 Mbit/s 1080p30 H.264 stream to 200 receivers (issue 14
# targets): ds-relay against the Node.js "ws" relay of tests/bench/node,
# in one run, interleaved (ds-relay, node, ds-relay, node, ...), each
# --rounds times. The stream is made once:
#
#   videotestsrc num-buffers=120 pattern=smpte horizontal-speed=4 !
#   video/x-raw,width=1920,height=1080,framerate=30/1 ! x264enc
#   tune=zerolatency speed-preset=ultrafast bitrate=4000 key-int-max=60 !
#   dspay ! filesink
#
# and bench-relay --recording publishes its EncodedVideo frames in a loop
# at 30/s to each relay, read by 200 plain WebSocket receivers (one epoll
# thread, no decoding). Per run: delivered Mbit/s, the relay's CPU
# (utime+stime from /proc/PID/stat over the run) as % of a core, and that
# per delivered Mbit/s; then the medians and ds-relay's ratio to node.
#
# The node peer needs the npm package "ws": tests/bench/node/node_modules
# (npm ci there) or, offline, the copy in tests/browser/node_modules.

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def node_path():
    """NODE_PATH with a "ws" package, or None"""
    if shutil.which("node") is None:
        return None
    for d in (os.path.join(HERE, "node", "node_modules"),
              os.path.join(ROOT, "tests", "browser", "node_modules")):
        if os.path.isdir(os.path.join(d, "ws")):
            return d
    return None


def record(path, bitrate, env):
    subprocess.run(
        ["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=120",
         "pattern=smpte", "horizontal-speed=4", "!",
         "video/x-raw,format=I420,width=1920,height=1080,framerate=30/1",
         "!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast",
         "bitrate=%d" % bitrate, "key-int-max=60", "!", "dspay", "!",
         "filesink", "location=" + path], env=env, check=True, timeout=300)


def run(bench, target, args, env):
    cmd = [bench, "--target", target, "--receivers", str(args.receivers),
           "--rate", "30", "--seconds", str(args.seconds),
           "--recording", args.recording_path]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                             timeout=120).stdout
    except subprocess.TimeoutExpired:
        print("# %s: timed out" % target)
        return None
    m = re.search(r"lost=(\d+).*p50=([\d.]+)ms p99=([\d.]+)ms rss=([\d.]+)MB",
                  out)
    r = re.search(r"delivered ([\d.]+) Mbit/s; relay ([\d.]+)% of a core; "
                  r"cpu%/Mbit/s=([\d.]+)", out)
    if not m or not r:
        print("# %s: no figures:\n%s" % (target, out))
        return None
    fig = {"lost": int(m.group(1)), "p50": float(m.group(2)),
           "p99": float(m.group(3)), "rss": float(m.group(4)),
           "mbps": float(r.group(1)), "core": float(r.group(2)),
           "per": float(r.group(3))}
    print("%-8s delivered %6.1f Mbit/s  relay %5.1f%% of a core  "
          "%.4f %%core per Mbit/s  p50 %6.2f ms  p99 %7.2f ms  rss %5.1f MB  "
          "lost %d" % (target, fig["mbps"], fig["core"], fig["per"],
                       fig["p50"], fig["p99"], fig["rss"], fig["lost"]))
    sys.stdout.flush()
    return fig


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--receivers", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--bitrate", type=int, default=4000)
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    bench = os.path.join(build, "tests", "bench", "bench-relay")
    env = dict(os.environ)
    env.setdefault("GST_PLUGIN_PATH_1_0", build)
    env.setdefault("DS_RELAY", os.path.join(build, "relay", "ds-relay"))
    env["DS_SOURCE_ROOT"] = ROOT
    targets = ["ds-relay"]
    np = node_path()
    if np:
        env["NODE_PATH"] = np
        targets.append("node")
    else:
        print("# node relay skipped: no node, or no npm \"ws\" (npm ci in "
              "tests/bench/node)")

    tmp = tempfile.mkdtemp(prefix="ds-fanout-")
    args.recording_path = os.path.join(tmp, "h264.ds")
    try:
        record(args.recording_path, args.bitrate, env)
        print("# %s %d cores, load %s; %d receivers, %d rounds of %g s, "
              "1080p30 x264enc bitrate=%d" %
              (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               os.cpu_count(), load(), args.receivers, args.rounds,
               args.seconds, args.bitrate))
        figs = {t: [] for t in targets}
        for _ in range(args.rounds):
            for t in targets:
                f = run(bench, t, args, env)
                if f:
                    figs[t].append(f)
        print("# load after: %s" % load())
        med = {}
        for t in targets:
            if not figs[t]:
                continue
            med[t] = {k: statistics.median(f[k] for f in figs[t])
                      for k in ("mbps", "core", "per", "p50", "p99")}
            print("median %-8s (%d runs): delivered %.1f Mbit/s, relay %.1f%% "
                  "of a core, %.4f %%core per delivered Mbit/s, p50 %.2f ms, "
                  "p99 %.2f ms" % (t, len(figs[t]), med[t]["mbps"],
                                   med[t]["core"], med[t]["per"],
                                   med[t]["p50"], med[t]["p99"]))
        if "ds-relay" in med and "node" in med and med["node"]["per"] > 0:
            print("ds-relay CPU per delivered Mbit/s: %.2fx node's" %
                  (med["ds-relay"]["per"] / med["node"]["per"]))
        return 0 if figs["ds-relay"] else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
