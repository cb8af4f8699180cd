// gst-ds-stream
// Copyright (C) 2026 gst-ds-stream developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// bench-browser-latency.mjs [--frames 300] [--warmup-ms 2000] [--rounds 1]
//                           [--joins N [--rejoin]]
//
// Per-frame latency of 1080p30 H.264 from the source buffer to the
// picture the browser viewer draws (issue 14 target: p95 <= 60 ms).
//
// ds-relay ($DS_RELAY) on a loopback port; the source is
//   bench-encoded --publish ws://127.0.0.1:PORT/peer/latency
// (videotestsrc is-live=true ... ! x264enc tune=zerolatency
// speed-preset=ultrafast bitrate=4000 key-int-max=60 ! dspay !
// dsrelaysink), which prints for every unit its header timestamp and the
// wall clock (g_get_real_time) when its source buffer entered the
// encoder. The viewer page (/view/latency in headless Chromium, WebCodecs
// VideoDecoder) reports, on the same machine's wall clock
// (performance.timeOrigin + performance.now()):
//  - when each EncodedVideo message arrived (a listener on the page's
//    WebSocket, added before the viewer's), and
//  - when each picture was drawn (dsViewer.video.lastDrawn is set when
//    the frame's pixels are on the canvas, by drawImage or by copyTo and
//    putImageData, core/display.js; without sound, frames are drawn as
//    they are decoded).
// Frames are matched by the header timestamp. After the page has drawn
// its first picture and --warmup-ms more (the join from the relay's GOP
// cache is not counted: bench-gop-join measures it), --frames frames are
// counted (the frames whose source buffers came in the next --frames
// thirtieths of a second: frames the viewer dropped are counted as not
// drawn). Prints p50/p95/max of source buffer -> drawn, and its two
// stages: source buffer -> arrived in the page (encode, relay, network)
// and arrived -> drawn (the page: parse, WebCodecs decode, draw).
// Each round opens the page twice, in turn: as it is (the viewer picks
// drawImage or copyTo, core/display.js) and with VideoFrame.copyTo
// hidden (every frame through drawImage, the peer in the same run).
//
// With --joins N it times instead how fast a joiner shows the current
// picture (issue 14 item 4, the browser's side of bench-gop-join): N
// pages, one after the other, each after a random wait of 0-2 s (a random
// point of the 2 s GOP), alternately as the viewer is (a catch-up burst
// draws its newest picture) and with the presenter drawing every decoded
// picture (its behind hook answering 0, as before). From the page's
// WebSocket constructor ("connect"): to the first picture drawn, and to
// "current", the first picture drawn whose unit is the newest the page
// had received at that moment; and the pictures drawn until then.
// With --rejoin as well, each page first joins as above, then its
// WebSocket is closed at a random point of the GOP and the join timed is
// the viewer's own reconnect: a page whose renderer process, decoder and
// memory are warm (a new page pays its process's first-touch page faults,
// 3-4 ms per MB on this VM, see docs/benchmarks.md).
//
// Env: DS_RELAY, DS_BUILD_ROOT (bench-encoded and the plugins),
// DS_CHROMIUM (default /usr/bin/chromium).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Relay, RELAY } from '../browser/lib/relay.mjs';
import { launch, waitInPage, CHROMIUM } from '../browser/lib/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const build = process.env.DS_BUILD_ROOT || path.join(here, '..', '..', 'build');

function option (name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const FRAMES = option('--frames', 300);
const WARMUP_MS = option('--warmup-ms', 2000);
const ROUNDS = option('--rounds', 1);
const JOINS = option('--joins', 0);
const REJOIN = process.argv.includes('--rejoin');

function quantile (values, q) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.round(q * (v.length - 1))];
}

const fmt = (x) => x.toFixed(1).padStart(6);
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

// Minor page faults (a page touched for the first time: field 10 of
// /proc/PID/stat) of each process of the bench's Chromium now (the one
// started with its --user-data-dir @profile, and its descendants), by
// pid. Their cost is the machine's: 3-4 ms per MB (about 14 µs a 4 KiB
// page) on this VM.
function chromiumFaults (profile) {
  const procs = new Map(); // pid -> { ppid, faults, root }
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid))
      continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      procs.set(Number(pid), {
        ppid: Number(fields[1]),
        faults: Number(fields[7]),
        root: cmdline.includes(`--user-data-dir=${profile}`) && !cmdline.includes('--type='),
      });
    } catch (e) {
      /* gone meanwhile */
    }
  }
  const inTree = (pid) => {
    for (let p = pid, n = 0; p > 1 && n < 64; n++) {
      const info = procs.get(p);
      if (!info)
        return false;
      if (info.root)
        return true;
      p = info.ppid;
    }
    return false;
  };
  const out = new Map();
  for (const [pid, info] of procs)
    if (inTree(pid))
      out.set(pid, info.faults);
  return out;
}

// The faults since @before (chromiumFaults()) of the processes alive now:
// a process that exited meanwhile is not counted
function faultsSince (profile, before) {
  let n = 0;
  for (const [pid, faults] of chromiumFaults(profile))
    n += faults - (before.get(pid) || 0);
  return n;
}

// One page: @way 'auto' (the viewer's choice) or 'drawImage' (copyTo
// hidden from the page: every frame through drawImage, as the viewer
// drew before it could choose)
async function session (browser, relay, units, way) {
  const page = await browser.context.newPage();
  try {
    await page.addInitScript((forceDrawImage) => {
      if (forceDrawImage && typeof VideoFrame !== 'undefined')
        delete VideoFrame.prototype.copyTo;
      const Native = window.WebSocket;
      window.__arrived = [];
      window.WebSocket = class extends Native {
        constructor (...args) {
          super(...args);
          this.addEventListener('message', (e) => {
            if (!(e.data instanceof ArrayBuffer) || e.data.byteLength < 16)
              return;
            const v = new DataView(e.data);
            if (v.getUint8(0) === 5)
              window.__arrived.push([v.getUint32(4, true), performance.timeOrigin + performance.now()]);
          });
        }
      };
    }, way === 'drawImage');
    await page.goto(`${relay.base}/view/latency`);
    await waitInPage(page, () => window.dsViewer && window.dsViewer.video, null, 15000);
    await page.evaluate(() => {
      const v = dsViewer.video;
      let last = v.lastDrawn;
      window.__drawn = [];
      Object.defineProperty(v, 'lastDrawn', {
        configurable: true,
        enumerable: true,
        get: () => last,
        set: (ts) => {
          last = ts;
          window.__drawn.push([ts, performance.timeOrigin + performance.now()]);
        },
      });
    });
    await waitInPage(page, () => window.__drawn.length > 0, null, 30000);
    const countFrom = Date.now() + WARMUP_MS;
    // frames dropped by a decoder that falls behind are never drawn: wait
    // for the time the frames take, not for their number
    const until = countFrom + (FRAMES + 15) * 1000 / 30;
    while (Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    const { drawn, arrived, video } = await page.evaluate(() => ({
      drawn: window.__drawn, arrived: window.__arrived, video: dsViewer.video,
    }));

    const arrivedAt = new Map(arrived);
    const total = [];
    const toPage = [];
    const inPage = [];
    let sent = 0;
    for (const [ts, input] of units)
      if (input >= countFrom && input < countFrom + FRAMES * 1000 / 30)
        sent++;
    for (const [ts, t] of drawn) {
      const input = units.get(ts);
      if (input === undefined || input < countFrom || input >= countFrom + FRAMES * 1000 / 30)
        continue;
      total.push(t - input);
      const a = arrivedAt.get(ts);
      if (a !== undefined) {
        toPage.push(a - input);
        inPage.push(t - a);
      }
    }
    if (total.length === 0) {
      console.log(`viewer (${way}): no frame drawn of ${sent} sent`);
      return;
    }
    const name = way === 'auto' ? `viewer (${video.drawWay})` : 'viewer (drawImage forced)';
    console.log(`${name.padEnd(26)} drawn ${String(total.length).padStart(3)} of ${sent}  p50=${fmt(quantile(total, 0.5))} ms  ` +
      `p95=${fmt(quantile(total, 0.95))} ms  max=${fmt(quantile(total, 1))} ms  ` +
      `| source->page p50 ${fmt(quantile(toPage, 0.5))} p95 ${fmt(quantile(toPage, 0.95))}  ` +
      `page (decode+draw) p50 ${fmt(quantile(inPage, 0.5))} p95 ${fmt(quantile(inPage, 0.95))} ms` +
      `  | decoded ${video.decoded}, late ${video.late}, dropped ${video.dropped}, ` +
      `decode (EWMA) ${video.decodeMs === null ? '-' : video.decodeMs.toFixed(1)} ms, errors ${video.errors}`);
  } finally {
    await page.close();
  }
}

const median = (v) => v.length ? quantile(v, 0.5) : NaN;

// One joiner: @way 'burst' (the viewer as it is) or 'each' (every decoded
// picture drawn); returns { first, current, drawn, catchUp } or null
async function join (browser, relay, way) {
  let faults = chromiumFaults(browser.profile);
  const page = await browser.context.newPage();
  try {
    await page.addInitScript((drawEach) => {
      const Native = window.WebSocket;
      window.__arrived = [];
      window.__drawn = [];
      window.__connect = null;
      window.WebSocket = class extends Native {
        constructor (...args) {
          window.__connect = performance.now();
          super(...args);
          window.__ws = this;
          this.addEventListener('message', (e) => {
            if (!(e.data instanceof ArrayBuffer) || e.data.byteLength < 16)
              return;
            const v = new DataView(e.data);
            if (v.getUint8(0) === 5)
              window.__arrived.push([v.getUint32(4, true), performance.now()]);
          });
        }
      };
      let viewer;
      Object.defineProperty(window, 'dsViewer', {
        configurable: true,
        get: () => viewer,
        set: (state) => {
          viewer = state;
          let last = state.video.lastDrawn;
          Object.defineProperty(state.video, 'lastDrawn', {
            configurable: true,
            enumerable: true,
            get: () => last,
            set: (ts) => {
              last = ts;
              window.__drawn.push([ts, performance.now()]);
            },
          });
          let hooks;
          Object.defineProperty(state, 'hooks', {
            configurable: true,
            get: () => hooks,
            set: (h) => {
              hooks = h;
              if (drawEach)
                h.presenter.behind = () => 0;
            },
          });
        },
      });
    }, way === 'each');
    await page.goto(`${relay.base}/view/latency`);
    const done = () => {
      let newest = -1;
      let i = 0;
      const arrived = window.__arrived;
      for (const [ts, t] of window.__drawn) {
        while (i < arrived.length && arrived[i][1] <= t)
          newest = Math.max(newest, arrived[i++][0]);
        if (ts >= newest)
          return true;
      }
      return false;
    };
    await waitInPage(page, done, null, 10000);
    if (REJOIN) {
      /* the same page joins again: the viewer's own reconnect after a
       * lost connection (the renderer, its decoder and memory warm) */
      await page.waitForTimeout(Math.random() * 2000);
      faults = chromiumFaults(browser.profile);
      await page.evaluate(() => {
        window.__arrived = [];
        window.__drawn = [];
        window.__ws.close();
      });
      await waitInPage(page, () => window.__arrived.length > 0, null, 10000);
      /* what was drawn before the new connection's first unit came is
       * the old connection's */
      await page.evaluate(() => {
        window.__drawn = window.__drawn.filter(([, t]) => t >= window.__arrived[0][1]);
      });
      await waitInPage(page, done, null, 10000);
    }
    faults = faultsSince(browser.profile, faults);
    const r = await page.evaluate(() => ({
      connect: window.__connect, drawn: window.__drawn, arrived: window.__arrived,
      video: dsViewer.video,
    }));
    if (process.env.BENCH_VERBOSE) {
      const rel = (list) => list.map(([ts, t]) => `${ts}@${(t - r.connect).toFixed(0)}`).join(' ');
      console.log(`  arrived: ${rel(r.arrived)}\n  drawn: ${rel(r.drawn)}`);
    }
    let newest = -1;
    let i = 0;
    let current = null;
    let drawn = 0;
    for (const [ts, t] of r.drawn) {
      drawn++;
      while (i < r.arrived.length && r.arrived[i][1] <= t)
        newest = Math.max(newest, r.arrived[i++][0]);
      if (ts >= newest) {
        current = t;
        break;
      }
    }
    return {
      first: r.drawn[0][1] - r.connect,
      current: current - r.connect,
      drawn,
      firstArrived: r.arrived[0][1] - r.connect,
      faults,
      video: r.video,
    };
  } catch (e) {
    console.log(`join (${way}): not current within 10 s: ${e.message.split('\n')[0]}`);
    return null;
  } finally {
    await page.close();
  }
}

async function joins (browser, relay) {
  const figures = { burst: { first: [], current: [] }, each: { first: [], current: [] } };
  for (let n = 0; n < JOINS; n++) {
    const way = n % 2 === 0 ? 'burst' : 'each';
    await new Promise((r) => setTimeout(r, Math.random() * 2000));
    const j = await join(browser, relay, way);
    if (j === null)
      continue;
    figures[way].first.push(j.first);
    figures[way].current.push(j.current);
    const v = j.video;
    console.log(`join ${String(n).padStart(2)} (${way.padEnd(5)}): first unit ${fmt(j.firstArrived)} ms, ` +
      `first picture ${fmt(j.first)} ms, current ${fmt(j.current)} ms, ${j.drawn} drawn until then, ` +
      `${(j.faults * 4 / 1024).toFixed(0)} MB first touched ` +
      `| decoded ${v.decoded}, late ${v.late}, dropped ${v.dropped}, queue drops ${v.queueDrops}, ` +
      `decode (EWMA) ${v.decodeMs === null ? '-' : v.decodeMs.toFixed(1)} ms, ${v.drawWay}`);
  }
  for (const way of ['burst', 'each']) {
    const f = figures[way];
    console.log(`${way === 'burst' ? 'newest of a burst' : 'every picture (before)'}: connect to first median ${fmt(median(f.first))} ms ` +
      `max ${fmt(Math.max(...f.first))} ms; to current median ${fmt(median(f.current))} ms max ${fmt(Math.max(...f.current))} ms ` +
      `(${f.first.length} joins)`);
  }
}

async function main () {
  if (!RELAY || !fs.existsSync(RELAY)) {
    console.log('# skipped: no ds-relay ($DS_RELAY)');
    return 77;
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`# skipped: no Chromium at ${CHROMIUM}`);
    return 77;
  }
  const relay = await new Relay().start();
  const units = new Map(); // header timestamp -> wall ms at the encoder's input
  const env = Object.assign({}, process.env, { GST_PLUGIN_PATH_1_0: build });
  const publisher = spawn(path.join(build, 'tests', 'bench', 'bench-encoded'),
    ['--publish', `${relay.ws}/peer/latency`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let publisherErr = '';
  publisher.stderr.on('data', (d) => { publisherErr += d.toString(); });
  readline.createInterface({ input: publisher.stdout }).on('line', (l) => {
    const m = l.match(/^unit (\d+) ([\d.]+)$/);
    if (m)
      units.set(Number(m[1]), Number(m[2]));
  });
  let browser;
  try {
    const t0 = Date.now();
    while (units.size < 30) {
      if (publisher.exitCode !== null || Date.now() - t0 > 30000)
        throw new Error('the publisher sent no units: ' + publisherErr);
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`# ${new Date().toISOString().slice(0, 16)} UTC ${os.cpus().length} cores, load ${load()}; ` +
      `1080p30 x264enc tune=zerolatency speed-preset=ultrafast bitrate=4000 key-int-max=60 -> ds-relay -> ` +
      `headless Chromium viewer (WebCodecs); ${FRAMES} frames after a ${WARMUP_MS} ms warm-up`);

    browser = await launch({ width: 1000, height: 700 });
    if (JOINS > 0) {
      await joins(browser, relay);
      console.log(`# load after: ${load()}`);
      return 0;
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const way of ['auto', 'drawImage'])
        await session(browser, relay, units, way);
    }
    console.log(`# load after: ${load()}`);
    return 0;
  } finally {
    await browser?.close();
    publisher.kill('SIGTERM');
    await relay.stop();
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
