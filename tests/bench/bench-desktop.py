#!/usr/bin/python3
# gst-ds-stream
# Copyright (C) 2026 gst-ds-stream developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-desktop.py: dsdelta on real desktop content (issue 13 item 6).
# It records real scenes itself, then encodes the recordings and prints
# a table.
#
# Usage: tests/bench/bench-desktop.py [--codecs PATH] [--scenes a,b]
#            [--frames N] [--keep DIR] [--recordings DIR] [--png DIR]
#    or: meson test -C build --benchmark desktop --verbose
#
# Run directly, it needs GST_PLUGIN_PATH=build (meson sets it) and finds
# build/tests/bench/bench-desktop-codecs next to the source tree unless
# --codecs names it. It must be run by /usr/bin/python3 (python3-gi).
#
# 1. Record (nothing is measured). Each scene gets an Xvfb screen of its
#    own (a free display number, chosen by Xvfb -displayfd), 24 bits; the
#    screen is captured by `ximagesrc display-name=:N num-buffers=N` at its
#    default properties, `video/x-raw,framerate=30/1`, into a raw file
#    (BGRx) in a temporary folder that is deleted at the end (--keep DIR
#    records into DIR and keeps it; --recordings DIR reuses such a folder
#    and records nothing). The programs of the scene run while it is
#    captured and are stopped before anything is encoded, so capture never
#    shares the cores with a measured encode.
#      scroll-720   Chromium (--app, 1280x720 screen, no window manager)
#                   showing the project's own README.md and docs/*.md made
#                   into HTML by python3-markdown; a script in the page,
#                   started by a key press, runs
#                   setInterval(() => scrollBy(0, 4), 33): about 4 pixels
#                   a frame, 120 pixels a second.
#      scroll-1080  the same on a 1920x1080 screen.
#      drag         openbox, that page in a Chromium window (--kiosk,
#                   1280x720) behind, and an xterm showing `ls -l /usr/bin`
#                   dragged by its title bar with xdotool mousedown,
#                   mousemove (6 pixels right and 2 down per 33 ms, turning
#                   at the screen's edges) and mouseup.
#      typing       an xterm filling a 1280x720 screen; xdotool type
#                   --delay 200 (about 10 characters a second) types shell
#                   commands (ls -l /usr/bin | head, cat
#                   docs/first-ten-minutes.md, git log --oneline), which
#                   really run.
#      still-clock  the page in Chromium (1280x720, still) and `xclock
#                   -update 1` over its top right corner.
#    The mouse pointer is captured too (ximagesrc's default).
#
# 2. Encode every frame of each recording with bench-desktop-codecs (see
#    its header): dsdelta keyframe-interval=0 (frame 0 is the only
#    keyframe) as DeltaPixels, DeltaPixels+zstd, MotionDeltaPixels and
#    MotionDeltaPixels+zstd, each decoded again by dsdepay and compared
#    bit-exact (R, G, B; alpha 255) with the capture; and the peers x264
#    lossless 4:4:4, x264 qp 18 (I420), vp8 (realtime) and
#    avenc_libx264rgb where it exists. Only the encoder's (and dsdepay's)
#    gst_harness_push is timed; dspay and videoconvert run untimed before.
#
# 3. Print per scene the frames, median bytes per frame, mean bytes per
#    frame over frames 1..N-1 (the deltas; ratios use these), median ms
#    per frame of encode (and decode), and the ratios of issue 13's
#    targets with PASS or MISS. A MISS does not fail the run (the machine
#    is noisy); a decode mismatch, a failed recording or a crash does
#    (exit status 1). Missing programs skip the benchmark (exit status 77).

import argparse
import datetime
import hashlib
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

SCENES = ['scroll-720', 'scroll-1080', 'drag', 'typing', 'still-clock']
SCENE_SIZES = {
    'scroll-720': (1280, 720),
    'scroll-1080': (1920, 1080),
    'drag': (1280, 720),
    'typing': (1280, 720),
    'still-clock': (1280, 720),
}
PROGRAMS = ['Xvfb', 'chromium', 'openbox', 'xdotool', 'xterm', 'xclock',
            'xwininfo', 'xprop']
SRC_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PAGE_CSS = '''
body { font-family: "DejaVu Sans", sans-serif; font-size: 16px;
  line-height: 1.5; color: #1f2328; background: #fff; margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 24px 32px; }
h1, h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 85%;
  background: #f6f8fa; border-radius: 6px; }
code { padding: .2em .4em; }
pre { padding: 16px; overflow: auto; line-height: 1.45; }
pre code { padding: 0; background: none; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d0d7de; padding: 6px 13px; }
tr:nth-child(2n) { background: #f6f8fa; }
a { color: #0969da; }
'''
PAGE_JS = '''
let scrolling = false;
document.addEventListener('keydown', (e) => {
  if (e.key === 's' && !scrolling) {
    scrolling = true;
    setInterval(() => scrollBy(0, 4), 33);
  }
});
'''
TYPED = ('ls -l /usr/bin | head -n 12\n'
         'cat docs/first-ten-minutes.md\n'
         'git log --oneline | head -n 15\n'
         'ls -l docs tests/bench\n')


def log(*args):
    print('bench-desktop:', *args, file=sys.stderr, flush=True)


class Scene:
    """Processes on one Xvfb screen, stopped by stop()."""

    def __init__(self, name, width, height, work):
        self.name = name
        self.width = width
        self.height = height
        self.work = work
        self.procs = []
        self.display = None
        home = os.path.join(work, 'home')
        os.makedirs(home, exist_ok=True)
        self.env = dict(os.environ, HOME=home)
        self.env.pop('WAYLAND_DISPLAY', None)

    def spawn(self, argv, **kwargs):
        proc = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def start_xvfb(self):
        rfd, wfd = os.pipe()
        self.spawn(['Xvfb', '-displayfd', str(wfd), '-screen', '0',
                    '%dx%dx24' % (self.width, self.height), '-nolisten',
                    'tcp', '-noreset'], pass_fds=(wfd,))
        os.close(wfd)
        data = b''
        deadline = time.monotonic() + 20
        while not data.endswith(b'\n') and time.monotonic() < deadline:
            ready, _, _ = select.select([rfd], [], [], 1)
            if ready:
                chunk = os.read(rfd, 64)
                if not chunk:
                    break
                data += chunk
        os.close(rfd)
        if not data.strip():
            raise RuntimeError('Xvfb did not start')
        self.display = ':' + data.decode().strip()
        self.env['DISPLAY'] = self.display
        log('%s: Xvfb on %s, %dx%dx24' % (self.name, self.display,
                                           self.width, self.height))

    def xdotool(self, *args, timeout=30):
        return subprocess.run(['xdotool'] + [str(a) for a in args],
                              env=self.env, capture_output=True, text=True,
                              timeout=timeout).stdout

    def wait_window(self, pattern):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            out = self.xdotool('search', '--onlyvisible', '--class', pattern)
            if out.split():
                return out.split()[-1]
            time.sleep(0.5)
        raise RuntimeError('%s: no %s window' % (self.name, pattern))

    def title_bar(self, win):
        """(x, y) of the left end of a window's title bar, and its width"""
        info = subprocess.run(['xwininfo', '-id', win], env=self.env,
                              capture_output=True, text=True).stdout
        geom = {}
        for line in info.splitlines():
            key, _, value = line.strip().partition(':')
            geom[key] = value.strip()
        extents = subprocess.run(['xprop', '-id', win, '_NET_FRAME_EXTENTS'],
                                 env=self.env, capture_output=True,
                                 text=True).stdout.partition('=')[2]
        top = int(extents.split(',')[2]) if extents.count(',') == 3 else 20
        return (int(geom['Absolute upper-left X']),
                int(geom['Absolute upper-left Y']) - top // 2,
                int(geom['Width']))

    def chromium(self, url, kiosk=False):
        argv = ['chromium', '--no-sandbox', '--disable-gpu',
                '--user-data-dir=' + os.path.join(self.work, 'chromium'),
                '--no-first-run', '--no-default-browser-check',
                '--test-type',  # no infobar about --no-sandbox
                '--window-size=%d,%d' % (self.width, self.height),
                '--window-position=0,0']
        argv += ['--kiosk', url] if kiosk else ['--app=' + url]
        self.spawn(argv)
        win = self.wait_window('chromium')
        time.sleep(5)  # first paint of the page on two busy cores
        return win

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        self.procs = []


def write_page(path):
    import markdown

    files = ['README.md'] + sorted(
        os.path.join('docs', f) for f in os.listdir(
            os.path.join(SRC_ROOT, 'docs')) if f.endswith('.md'))
    parts = []
    for f in files:
        with open(os.path.join(SRC_ROOT, f), encoding='utf-8') as fp:
            parts.append(markdown.markdown(
                fp.read(), extensions=['tables', 'fenced_code']))
    with open(path, 'w', encoding='utf-8') as fp:
        fp.write('<!DOCTYPE html><html><head><meta charset="utf-8">'
                 '<title>gst-ds-stream documentation</title><style>%s'
                 '</style><script>%s</script></head><body><main>%s'
                 '</main></body></html>' % (PAGE_CSS, PAGE_JS,
                                            '\n<hr>\n'.join(parts)))
    return 'file://' + path


def record(display, path, frames):
    """Captures the screen into path; returns (caps info, pts list)."""
    pipeline = Gst.parse_launch(
        'ximagesrc display-name=%s num-buffers=%d ! '
        'video/x-raw,framerate=30/1 ! filesink name=sink location=%s'
        % (display, frames, path))
    pad = pipeline.get_by_name('sink').get_static_pad('sink')
    pts = []

    def probe(pad, info):
        pts.append(info.get_buffer().pts)
        return Gst.PadProbeReturn.OK

    pad.add_probe(Gst.PadProbeType.BUFFER, probe)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        (frames / 30 + 60) * Gst.SECOND,
        Gst.MessageType.EOS | Gst.MessageType.ERROR)
    caps = pad.get_current_caps()
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        raise RuntimeError('capture failed: %s' % (
            msg.parse_error()[0].message if msg else 'timeout'))
    s = caps.get_structure(0)
    return {'width': s.get_value('width'), 'height': s.get_value('height'),
            'format': s.get_value('format'), 'frames': len(pts),
            'pts': pts}


def run_scene(name, frames, page_url, out_dir, work):
    width, height = SCENE_SIZES[name]
    scene = Scene(name, width, height, work)

    try:
        scene.start_xvfb()
        if name.startswith('scroll'):
            win = scene.chromium(page_url)
            scene.xdotool('mousemove', width // 2, height // 2)
            scene.xdotool('key', '--window', win, 's')
            scene.xdotool('key', 's')
            time.sleep(1)
        elif name == 'drag':
            scene.spawn(['openbox', '--sm-disable'])
            time.sleep(1)
            scene.chromium(page_url, kiosk=True)
            scene.spawn(['xterm', '-fa', 'DejaVu Sans Mono', '-fs', '10',
                         '-geometry', '80x24+120+120', '-title',
                         'xterm: ls -l /usr/bin', '-e', 'sh', '-c',
                         'ls -l /usr/bin | head -n 23; exec sleep 3600'])
            win = scene.wait_window('xterm')
            time.sleep(1)
            x, y, ww = scene.title_bar(win)
            x += 150
            steps = ['mousemove', x, y, 'sleep', 0.3, 'mousedown', 1,
                     'sleep', 0.2]
            dx, dy = 6, 2
            for _ in range(frames + 90):
                if x - 150 + ww + dx > width - 10 or x - 150 + dx < 10:
                    dx = -dx
                if y + dy > height - 300 or y + dy < 20:
                    dy = -dy
                x, y = x + dx, y + dy
                steps += ['mousemove', x, y, 'sleep', 0.033]
            steps += ['mouseup', 1]
            scene.spawn(['xdotool'] + [str(a) for a in steps])
            time.sleep(1.5)
        elif name == 'typing':
            env_ps1 = 'PS1=user@desktop:~/gst-ds-stream$ '
            scene.spawn(['xterm', '-fa', 'DejaVu Sans Mono', '-fs', '11',
                         '-geometry', '140x40+0+0', '-e', 'env', env_ps1,
                         'bash', '--norc', '--noprofile'], cwd=SRC_ROOT)
            win = scene.wait_window('xterm')
            scene.xdotool('windowsize', win, width, height)
            scene.xdotool('mousemove', width - 40, height - 40)
            time.sleep(2)
            scene.spawn(['xdotool', 'type', '--delay', '200', TYPED * 4])
            time.sleep(0.5)
        elif name == 'still-clock':
            scene.chromium(page_url)
            scene.spawn(['xclock', '-update', '1', '-geometry',
                         '180x180-30+30'])
            scene.wait_window('xclock')
            time.sleep(1.5)
        raw = os.path.join(out_dir, name + '.raw')
        log('%s: recording %d frames' % (name, frames))
        meta = record(scene.display, raw, frames)
    finally:
        scene.stop()
    meta['scene'] = name
    gaps = [b - a for a, b in zip(meta['pts'], meta['pts'][1:])]
    meta['late'] = sum(1 for g in gaps if g > Gst.SECOND * 1.5 / 30)
    with open(os.path.join(out_dir, name + '.json'), 'w') as fp:
        json.dump(meta, fp)
    return meta


def write_png(raw, meta, index, path):
    size = meta['width'] * meta['height'] * 4
    with open(raw, 'rb') as fp:
        fp.seek(size * index)
        data = fp.read(size)
    pipeline = Gst.parse_launch(
        'appsrc name=src caps=video/x-raw,format=%s,width=%d,height=%d,'
        'framerate=30/1 ! videoconvert ! pngenc ! filesink location=%s'
        % (meta['format'], meta['width'], meta['height'], path))
    src = pipeline.get_by_name('src')
    pipeline.set_state(Gst.State.PLAYING)
    src.emit('push-buffer', Gst.Buffer.new_wrapped(data))
    src.emit('end-of-stream')
    pipeline.get_bus().timed_pop_filtered(
        30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)


def identical_frames(meta, frames):
    size = meta['width'] * meta['height'] * 4
    count, previous = 0, None
    with open(meta['raw'], 'rb') as fp:
        for _ in range(frames):
            digest = hashlib.sha1(fp.read(size)).digest()
            count += digest == previous
            previous = digest
    return count


def encode(codecs, raw, meta, frames):
    argv = [codecs, '--raw', raw, '--width', str(meta['width']),
            '--height', str(meta['height']), '--format', meta['format'],
            '--frames', str(frames), '--scene', meta['scene']]
    proc = subprocess.run(argv, capture_output=True, text=True)
    results, configs, notes = {}, {}, []
    for line in proc.stdout.splitlines():
        f = line.split('\t')
        if f[0] == 'result':
            results[f[2]] = {
                'frames': int(f[3]), 'outputs': int(f[4]),
                'median_bytes': float(f[5]), 'mean_bytes': float(f[6]),
                'ms': float(f[7]), 'decode_ms': float(f[8]),
                'mismatches': int(f[9]), 'kinds': f[10]}
        elif f[0] == 'config':
            configs[f[1]] = f[2]
        elif f[0] == 'skip':
            notes.append('skipped %s: %s' % (f[2], f[3]))
        elif f[0] == 'mismatch':
            notes.append('MISMATCH %s frame %s: %s' % (f[2], f[3], f[4]))
    if proc.returncode not in (0, 1):
        notes.append('bench-desktop-codecs failed (status %d): %s'
                     % (proc.returncode, proc.stderr.strip()[-500:]))
    elif proc.stderr.strip():
        log(proc.stderr.strip())
    return proc.returncode, results, configs, notes


NAMES = [
    ('delta', 'DeltaPixels'),
    ('delta-zstd', 'DeltaPixels+zstd'),
    ('motion', 'MotionDeltaPixels'),
    ('motion-zstd', 'MotionDeltaPixels+zstd'),
    ('x264-lossless-444', 'x264 lossless 4:4:4'),
    ('x264-qp18', 'x264 qp 18 4:2:0'),
    ('vp8', 'vp8 realtime'),
    ('x264rgb-lossless', 'avenc_libx264rgb lossless'),
]


def verdict(ok):
    return 'PASS' if ok else 'MISS'


def ratios(scene, r):
    """Lines of ratio, target and verdict for one scene's results."""
    lines = []

    def mean(name):
        return r[name]['mean_bytes'] if name in r else None

    d, dz, m, mz, x = (mean('delta'), mean('delta-zstd'), mean('motion'),
                       mean('motion-zstd'), mean('x264-lossless-444'))
    if d and m:
        times = d / m if m else float('inf')
        if scene.startswith('scroll') or scene == 'drag':
            lines.append('MotionDelta RLE vs DeltaPixels RLE: %.1fx smaller '
                         '(target >= 10x) %s' % (times, verdict(times >= 10)))
        else:
            pct = 100 * (m / d - 1) if d else 0
            lines.append('MotionDelta RLE vs DeltaPixels RLE: %+.2f %% '
                         '(target <= +1 %%) %s' % (pct, verdict(pct <= 1)))
    if dz and mz:
        if scene in ('typing', 'still-clock'):
            pct = 100 * (mz / dz - 1)
            lines.append('Motion+zstd vs Delta+zstd: %+.2f %% '
                         '(target <= +1 %%) %s' % (pct, verdict(pct <= 1)))
        else:
            lines.append('Motion+zstd vs Delta+zstd: %.1fx smaller'
                         % (dz / mz))
    if mz and x:
        times = mz / x
        if scene.startswith('scroll'):
            lines.append('Motion+zstd vs x264 lossless 4:4:4 bytes: %.2fx '
                         '(target <= 1.3x) %s' % (times,
                                                  verdict(times <= 1.3)))
        else:
            lines.append('Motion+zstd vs x264 lossless 4:4:4 bytes: %.2fx'
                         % times)
    if scene == 'scroll-1080' and 'motion-zstd' in r:
        ms = r['motion-zstd']['ms']
        x_ms = r.get('x264-lossless-444', {}).get('ms', -1)
        lines.append('Motion+zstd encode (detection+delta+zstd) %.2f ms per '
                     '1080p frame (target <= 4 ms) %s; x264 lossless 4:4:4 '
                     '%.2f ms' % (ms, verdict(ms <= 4), x_ms))
        for name in ('motion', 'motion-zstd'):
            dec = r.get(name, {}).get('decode_ms', -1)
            lines.append('%s decode (dsdepay) %.2f ms per 1080p frame '
                         '(target <= 2 ms) %s' % (name, dec,
                                                  verdict(0 <= dec <= 2)))
    return lines


def print_scene(meta, frames, r, notes):
    print()
    print('## %s: %d frames, %dx%d %s; capture: %d gap(s) in the '
          'timestamps (frames skipped), %d frame(s) '
          'identical to the one before'
          % (meta['scene'], frames, meta['width'], meta['height'],
             meta['format'], meta['late'], identical_frames(meta, frames)))
    print()
    print('| configuration | median B/frame | mean B/frame (1..N-1) '
          '| enc ms (median) | dec ms (median) | mismatches | frames sent |')
    print('|---|---:|---:|---:|---:|---:|---|')
    for key, label in NAMES:
        if key not in r:
            continue
        x = r[key]
        dec = '%.2f' % x['decode_ms'] if x['decode_ms'] >= 0 else '-'
        mis = str(x['mismatches']) if x['kinds'] != '-' else '-'
        print('| %s | %d | %d | %.2f | %s | %s | %s |'
              % (label, x['median_bytes'], x['mean_bytes'], x['ms'], dec,
                 mis, x['kinds'] if x['kinds'] != '-'
                 else '%d outputs' % x['outputs']))
    print()
    for line in ratios(meta['scene'], r):
        print('- ' + line)
    for note in notes:
        print('- ' + note)
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--codecs', help='bench-desktop-codecs program')
    ap.add_argument('--scenes', default=','.join(SCENES))
    ap.add_argument('--frames', type=int, default=90)
    ap.add_argument('--keep', help='record into DIR and keep it')
    ap.add_argument('--recordings', help='reuse the recordings in DIR')
    ap.add_argument('--png', help='write frame 30 of each scene into DIR')
    args = ap.parse_args()

    scenes = [s for s in args.scenes.split(',') if s]
    for s in scenes:
        if s not in SCENES:
            ap.error('unknown scene %s (known: %s)' % (s, ', '.join(SCENES)))
    codecs = args.codecs or os.path.join(SRC_ROOT, 'build', 'tests', 'bench',
                                         'bench-desktop-codecs')
    if not os.access(codecs, os.X_OK):
        ap.error('no %s: build first or give --codecs' % codecs)
    if not args.recordings:
        missing = [p for p in PROGRAMS if not shutil.which(p)]
        if missing:
            print('SKIP: missing programs: %s (scripts/apt-packages.txt)'
                  % ' '.join(missing))
            return 77

    Gst.init(None)
    if not Gst.ElementFactory.find('dsdelta'):
        print('dsdelta not found: set GST_PLUGIN_PATH to the build folder')
        return 1

    work = tempfile.mkdtemp(prefix='bench-desktop-')
    failed = False
    try:
        rec_dir = args.recordings or args.keep or os.path.join(work, 'rec')
        os.makedirs(rec_dir, exist_ok=True)
        metas = {}
        t0 = time.monotonic()
        if args.recordings:
            for s in scenes:
                with open(os.path.join(rec_dir, s + '.json')) as fp:
                    metas[s] = json.load(fp)
        else:
            page_url = write_page(os.path.join(work, 'docs.html'))
            for s in scenes:
                metas[s] = run_scene(s, args.frames, page_url, rec_dir,
                                     os.path.join(work, s))
        log('recorded in %.0f s' % (time.monotonic() - t0))
        if args.png:
            os.makedirs(args.png, exist_ok=True)
            for s in scenes:
                write_png(os.path.join(rec_dir, s + '.raw'), metas[s],
                          min(30, metas[s]['frames'] - 1),
                          os.path.join(args.png, s + '.png'))

        print('# Real desktop benchmark, %s UTC, %s, %d cores, shared '
              '(load average %.1f before encoding), %s'
              % (datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M'),
                 platform.node(), os.cpu_count(), os.getloadavg()[0],
                 Gst.version_string()))
        print()
        print('Sizes are bytes as sent (ds-stream frames: 16-byte header '
              'included; peers: encoded access units without a container). '
              'Ratios use the mean over frames 1..N-1 (frame 0 is the only '
              'keyframe). Times: median over frames of gst_harness_push '
              'into a harness holding only the encoder (or dsdepay).')
        all_configs = {}
        t0 = time.monotonic()
        for s in scenes:
            meta = metas[s]
            meta['raw'] = os.path.join(rec_dir, s + '.raw')
            frames = min(args.frames, meta['frames'])
            log('%s: encoding %d frames' % (s, frames))
            rc, r, configs, notes = encode(
                codecs, os.path.join(rec_dir, s + '.raw'), meta, frames)
            all_configs.update(configs)
            print_scene(meta, frames, r, notes)
            mism = sum(x['mismatches'] for x in r.values())
            if rc != 0 or mism or len(r) < 4:
                failed = True
        log('encoded in %.0f s' % (time.monotonic() - t0))
        print()
        print('Settings:')
        for key, label in NAMES:
            if key in all_configs:
                print('- %s: `%s`' % (label, all_configs[key]))
        print('- capture: `ximagesrc display-name=:N num-buffers=N ! '
              'video/x-raw,framerate=30/1` (default properties)')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print('FAILED: decode mismatch or encoder failure (see above)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
