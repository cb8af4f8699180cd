#!/usr/bin/env python3
# gst-ds-stream
# Copyright (C) 2026 gst-ds-stream developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
bench-relay-transport.py NEW_RELAY [OLD_RELAY]: the attacks of issue 11
items 2, 3 and 8 against ds-relay binaries, each measured in the same run
(127.0.0.1 only, bounded in time and count). Prints, per relay:

- RSS after sending a body of 256 MiB and 1 GiB to GET /healthz;
- open fds after N keep-alive GET /healthz closed by the client;
- the time an honest wss:// client needs to get its 101 (TLS handshake and
  upgrade), alone and behind 200 connections that sent part of a
  ClientHello and stopped (median of several), and the ratio.

Needs python3 and openssl (for a self-signed certificate).
  nice -n 10 tests/bench/bench-relay-transport.py build/relay/ds-relay \\
      /path/to/old/ds-relay --keepalive-requests 20000
"""

import argparse
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

UPGRADE = (b"GET /stream/bench HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
PARTIAL_HELLO = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
                       0xfc, 0x03])


class Relay:
    def __init__(self, path, args):
        self.proc = subprocess.Popen([path, "--port", "0"] + args,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if "listening on" not in line:
            raise RuntimeError("%s did not start: %r" % (path, line))
        self.port = int(line.rstrip().rstrip("/").rsplit(":", 1)[1])

    def status(self, field):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def send_body(port, size, seconds=60):
    """Sends GET /healthz with a body of @size bytes; returns bytes taken"""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n"
              b"\r\n" % size)
    chunk = b"\0" * (1 << 20)
    sent = 0
    end = time.monotonic() + seconds
    try:
        while sent < size and time.monotonic() < end:
            sent += s.send(chunk[:min(len(chunk), size - sent)])
    except OSError:
        pass
    s.close()
    return sent


def keepalive_requests(port, n):
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n"
                      b"Connection: keep-alive\r\n\r\n")
            data = b""
            while b"ok\n" not in data:
                c = s.recv(4096)
                if not c:
                    break
                data += c
        except OSError:
            pass
        s.close()


def honest_wss(port, timeout=15.0):
    """ms until the 101 (inf if none)"""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    start = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        t = ctx.wrap_socket(s)
        t.sendall(UPGRADE)
        data = b""
        while b"\r\n\r\n" not in data:
            c = t.recv(4096)
            if not c:
                break
            data += c
        t.close()
        if data.startswith(b"HTTP/1.1 101"):
            return (time.monotonic() - start) * 1000
    except OSError:
        pass
    return float("inf")


def median_wss(port, runs):
    times = []
    for _ in range(runs):
        times.append(honest_wss(port))
        time.sleep(0.05)
    return statistics.median(times), times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("relays", nargs="+")
    parser.add_argument("--keepalive-requests", type=int, default=2000)
    parser.add_argument("--stalled", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only-tls", action="store_true",
                        help="only the stalled TLS handshakes")
    parser.add_argument("--no-gib", action="store_true",
                        help="skip the 1 GiB body (2 GB of RSS on old relays)")
    opts = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-relay-transport-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    for path in opts.relays:
        r = {}
        # item 2: bodies
        for size, name in ((256 << 20, "256MiB"), (1 << 30, "1GiB")):
            if opts.only_tls or (name == "1GiB" and opts.no_gib):
                continue
            relay = Relay(path, ["--max-clients", "0"])
            before = relay.status("VmRSS:")
            taken = send_body(relay.port, size)
            time.sleep(0.5)
            r["rss_" + name] = (before, relay.status("VmHWM:"),
                                relay.status("VmRSS:"), taken)
            relay.stop()
        # item 3: keep-alive connections closed by the client
        r["fds"] = (0, 0, 0.0)
        if not opts.only_tls:
            relay = Relay(path, [])
            before = relay.fds()
            t = time.monotonic()
            keepalive_requests(relay.port, opts.keepalive_requests)
            elapsed = time.monotonic() - t
            time.sleep(1)
            r["fds"] = (before, relay.fds(), elapsed)
            relay.stop()
        # item 8: stalled TLS handshakes
        relay = Relay(path, ["--tls-cert", cert, "--tls-key", key])
        alone, _ = median_wss(relay.port, opts.runs)
        times = []
        for _ in range(opts.runs):
            # fresh stalled handshakes for every sample: a relay that
            # closes them after its timeout is measured behind them too
            stalled = []
            for _ in range(opts.stalled):
                s = socket.create_connection(("127.0.0.1", relay.port))
                s.sendall(PARTIAL_HELLO)
                stalled.append(s)
            time.sleep(0.3)
            times.append(honest_wss(relay.port))
            for s in stalled:
                s.close()
            time.sleep(0.3)
        r["wss"] = (alone, statistics.median(times), times)
        relay.stop()
        results[path] = r

    for path, r in results.items():
        print("== %s" % path)
        for name in ("256MiB", "1GiB"):
            if "rss_" + name in r:
                before, peak, after, taken = r["rss_" + name]
                print("  body %-6s on GET /healthz: %d MiB taken; RSS %.1f "
                      "MB before, peak %.1f MB, %.1f MB after" %
                      (name, taken >> 20, before / 1024, peak / 1024,
                       after / 1024))
        before, after, elapsed = r["fds"]
        if not opts.only_tls:
            print("  %d keep-alive GET /healthz closed by the client (%.1f s): "
                  "fds %d before, %d after" %
                  (opts.keepalive_requests, elapsed, before, after))
        alone, behind, times = r["wss"]
        print("  honest wss:// 101: %.1f ms alone, %.1f ms behind %d stalled "
              "handshakes (median of %d: %s)" %
              (alone, behind, opts.stalled, opts.runs,
               " ".join("%.0f" % t for t in times)))
        print("    delay added by the stalled handshakes: %.1f ms" %
              (behind - alone))
    if len(results) == 2:
        (p0, r0), (p1, r1) = results.items()
        d0 = r0["wss"][1] - r0["wss"][0]
        d1 = r1["wss"][1] - r1["wss"][0]
        print("== honest wss:// client behind stalled handshakes, second / "
              "first: %.1f (median times), delays %.1f ms / %.1f ms" %
              (r1["wss"][1] / r0["wss"][1], d1, d0))
        if not opts.only_tls:
            print("== fds left after the keep-alive requests: %d / %d" %
                  (r1["fds"][1] - r1["fds"][0], r0["fds"][1] - r0["fds"][0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
