#!/usr/bin/env python3
# gst-ds-stream
# Copyright (C) 2026 gst-ds-stream developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-relay-pictures.py RELAY [PEER_RELAY]: the picture-cache attacks of
# issue 11 (items 4 and 5) against ds-relay binaries, on 127.0.0.1, in one
# run. For each attack and each binary it prints the relay's RSS before,
# its peak RSS (VmHWM), its RSS after, the time until a Ping sent after
# the attack comes back (the relay handled every frame), the /healthz
# answer time, and whether the relay survived. PEER_RELAY is typically
# the previous build (the figures in the report are old vs new).
#
# Attacks (frames built by hand, never the announced picture):
#   4a  a 65535x65535 keyframe DeltaPixels (786 KB of zero runs) + a 1x1
#       delta
#   4b  a 16384x16384 keyframe DeltaPixels (49 KB) + a 1x1 delta
#   5   a 65535x65535 keyframe + 500 deltas of 1 MB, then the source leaves
#       (--source-grace 2): RSS after the grace
#   8k  honest upper bound: a 7680x4320 keyframe + deltas of 1 MB until the
#       chain collapses (one rebuild of the largest allowed picture)
#
# Standard library only. Client frames are masked with the all-zero key
# (RFC 6455 allows any key), so payloads go out as they are.

import os
import socket
import struct
import subprocess
import sys
import time


def rss_kb(pid, field="VmRSS:"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def header(ftype, flags, seq, width, height, payload_len):
    return struct.pack("<BBHIHHI", ftype, flags, seq & 0xFFFF, seq * 10,
                       width, height, payload_len)


def sparse_delta(flags, seq, width, height, literal, value=0x5A):
    size = width * height * 4
    zeros = size - literal
    runs = []
    while zeros > 0:
        count = min(zeros, 65535)
        runs.append(b"\x00" + struct.pack("<H", count))
        zeros -= count
    code = bytes([value]) * literal + b"".join(runs)
    return header(3, flags, seq, width, height, len(code)) + code


class Client:
    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n"
                           % (path, port)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise IOError("no upgrade")
            buf += chunk
        if b" 101 " not in buf.split(b"\r\n")[0]:
            raise IOError(buf.split(b"\r\n")[0].decode())
        self.rest = buf.split(b"\r\n\r\n", 1)[1]

    def send(self, frame):
        n = len(frame)
        if n < 126:
            head = struct.pack("!BB", 0x82, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x82, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x82, 0x80 | 127, n)
        self.sock.sendall(head + b"\x00\x00\x00\x00" + frame)

    def _read(self, n):
        while len(self.rest) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise IOError("closed")
            self.rest += chunk
        data, self.rest = self.rest[:n], self.rest[n:]
        return data

    def recv(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, self._read(n)

    def ping_round_trip(self):
        self.send(header(0xFE, 0, 4242, 0, 0, 4) + b"sync")
        while True:
            opcode, data = self.recv()
            if opcode == 2 and data[:1] == b"\xfe" and \
                    struct.unpack("<H", data[2:4])[0] == 4242:
                return

    def close(self):
        self.sock.close()


def healthz_ms(port):
    t = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        reply = s.recv(100)
        s.close()
        if b" 200 " not in reply:
            return None
    except OSError:
        return None
    return (time.monotonic() - t) * 1000


def start(relay, args):
    p = subprocess.Popen([relay, "--port", "0"] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    port = int(line.strip().rstrip("/").rsplit(":", 1)[1])
    while healthz_ms(port) is None:
        time.sleep(0.02)
    return p, port


def attack(case, source):
    one = header(3, 0, 2, 1, 1, 4) + b"\x01\x02\x03\x04"
    if case == "4a":
        source.send(sparse_delta(2, 1, 65535, 65535, 0))
        source.send(one)
    elif case == "4b":
        source.send(sparse_delta(2, 1, 16384, 16384, 0))
        source.send(one)
    elif case == "5":
        source.send(sparse_delta(2, 0, 65535, 65535, 0))
        junk = b"\x5a" * (1024 * 1024)
        for i in range(1, 501):
            source.send(header(3, 0, i, 65535, 65535, len(junk)) + junk)
    elif case == "8k":
        source.send(sparse_delta(2, 0, 7680, 4320, 1000))
        for i in range(1, 140):
            source.send(sparse_delta(0, i, 7680, 4320, 1024 * 1024,
                                     (i % 250) + 1))


def run(relay, case):
    p, port = start(relay, ["--source-grace", "2"])
    pid = p.pid
    before = rss_kb(pid)
    source = Client(port, "/peer/attack")
    t = time.monotonic()
    alive = True
    try:
        attack(case, source)
        source.ping_round_trip()
    except (IOError, OSError):
        alive = False
    handled = (time.monotonic() - t) * 1000
    hz = healthz_ms(port) if p.poll() is None else None
    peak = rss_kb(pid, "VmHWM:")
    after = rss_kb(pid)
    grace = ""
    if case == "5" and p.poll() is None:
        source.close()
        time.sleep(3)
        grace = " rss_after_grace=%dkB" % rss_kb(pid)
    source.close()
    alive = alive and p.poll() is None
    if p.poll() is None:
        p.terminate()
    p.wait()
    print("%-4s %-44s alive=%-3s rss_before=%dkB peak=%dkB rss_after=%dkB "
          "handled_in=%.0fms healthz=%s%s"
          % (case, relay[-44:], "yes" if alive else "NO", before, peak,
             after, handled, "%.1fms" % hz if hz is not None else "none",
             grace))
    sys.stdout.flush()


def main():
    relays = sys.argv[1:]
    if not relays:
        sys.exit("usage: bench-relay-pictures.py RELAY [PEER_RELAY]")
    print("# %s %d cores, load %s" % (time.strftime("%Y-%m-%d %H:%M UTC",
                                                     time.gmtime()),
                                       os.cpu_count(),
                                       open("/proc/loadavg").read()
                                       .split()[:3]))
    for case in ("4a", "4b", "5", "8k"):
        for relay in relays:
            run(relay, case)


if __name__ == "__main__":
    main()
