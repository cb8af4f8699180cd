// The examples (examples/), run as written, headless: Xvfb for ximagesrc,
// audiotestsrc for the microphone, fakesink/pngenc for windows and
// speakers, against the real ds-relay. Each checks what arrives.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Relay, RELAY } from './lib/relay.mjs';
import { Command, Launch, elementsMissing } from './lib/gst.mjs';
import { Receiver, startXvfb } from './lib/receiver.mjs';
import { launch, waitInPage, canvasPixel, clientPointOf, screenshotOnFailure } from './lib/browser.mjs';
import { T, FLAG_KEYFRAME } from './lib/frames.mjs';

const SRC = process.env.DS_SOURCE_ROOT || path.resolve(import.meta.dirname ?? '.', '..', '..');
const BUILD = process.env.DS_BUILD_ROOT || path.join(SRC, 'build');
const EX = path.join(SRC, 'examples');

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const inspect = (el) => spawnSync('gst-inspect-1.0', [el], { encoding: 'utf8' }).status === 0;
const base = !RELAY ? 'DS_RELAY is not set (ds-relay not built)' : null;
const pub = base || elementsMissing(['dspay', 'dsdelta', 'dsrelaysink']);
const recv = pub || elementsMissing(['dsstreamsrc', 'dsdepay']);

let relay;
let browser;
let page;
const running = [];

before(async () => {
  if (base)
    return;
  relay = await new Relay().start();
});

after(async () => {
  await browser?.close();
  await relay?.stop();
});

afterEach(async () => {
  for (const c of running.splice(0))
    await c.stop();
  if (page && !page.isClosed())
    await page.close();
  page = null;
});

function etest (name, skip, fn) {
  test(name, { skip: skip || false }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      await screenshotOnFailure(t, page);
      for (const c of running)
        console.error(`# ${c.pipeline}\n${c.out.slice(-2000)}`);
      throw e;
    }
  });
}

function run (cmd, args, opts = {}) {
  const c = new Command(cmd, args, { ...opts, env: { RELAY: relay.ws, ...(opts.env || {}) } });
  running.push(c);
  return c;
}

async function receive (channel) {
  const r = await new Receiver(`${relay.ws}/stream/${channel}`).open();
  running.push({ stop: async () => r.close(), out: '', pipeline: `receiver ${channel}` });
  return r;
}

const pictures = (r, w, h) => r.frames.filter((f) =>
  (f.type === T.PIXELS || f.type === T.DELTA_PIXELS) && f.width === w && f.height === h).length;

etest('signals-loop.sh publishes its JSON Lines', pub, async () => {
  const r = await receive('loop');
  const c = run('sh', [path.join(EX, 'signals-loop.sh')], { env: { CHANNEL: 'loop', COUNT: '3', INTERVAL: '0.2' } });
  await r.waitFor((x) => x.signals.count === 3, 'count=3');
  assert.equal(r.signals.doubled, 6);
  assert.equal(typeof r.signals.load, 'number');
  assert.equal(r.frames.find((f) => f.type === T.SIGNAL_SYNC) !== undefined, true);
  assert.equal(await c.exited, 0);
});

etest('screencast.sh sends the X screen and sound', pub || (have('Xvfb') ? null : 'Xvfb missing') ||
    (inspect('ximagesrc') ? null : 'ximagesrc missing'), async () => {
  const x = await startXvfb(spawn, '640x480x24');
  running.push({ stop: async () => x.stop(), out: '', pipeline: 'Xvfb' });
  const r = await receive('desktop');
  run('sh', [path.join(EX, 'screencast.sh')], {
    env: { DISPLAY: x.display, WIDTH: '320', HEIGHT: '240', AUDIO_SRC: 'audiotestsrc is-live=true' },
  });
  await r.waitFor((y) => pictures(y, 320, 240) >= 5, 'pictures of 320x240');
  await r.waitFor((y) => y.frames.some((f) => f.type === T.AUDIO_PCM && f.width === 2 && f.height === 48000), 'AudioPcm 2 ch 48 kHz');
});

// the encoded screencasts: EncodedVideo of their codec, starting at a
// keyframe, at the size asked for, and Opus sound
for (const [script, encoder, codec] of [['screencast-h264.sh', 'x264enc', 1], ['screencast-vp8.sh', 'vp8enc', 3]]) {
  etest(`${script} sends the X screen as ${encoder} units and Opus`, pub || (have('Xvfb') ? null : 'Xvfb missing') ||
      elementsMissing(['ximagesrc', encoder, 'opusenc']), async () => {
    const x = await startXvfb(spawn, '640x480x24');
    running.push({ stop: async () => x.stop(), out: '', pipeline: 'Xvfb' });
    const channel = `enc${codec}`;
    const r = await receive(channel);
    run('sh', [path.join(EX, script)], {
      env: { DISPLAY: x.display, CHANNEL: channel, WIDTH: '320', HEIGHT: '240', FPS: '15', AUDIO_SRC: 'audiotestsrc is-live=true' },
    });
    const units = (y) => y.frames.filter((f) => f.type === T.ENCODED_VIDEO);
    await r.waitFor((y) => units(y).length >= 10, 'ten access units');
    await r.waitFor((y) => y.frames.some((f) => f.type === T.AUDIO_COMPRESSED && f.width === 2 && f.height === 48000), 'Opus, 2 ch');
    const u = units(r);
    assert.ok(u[0].flags & FLAG_KEYFRAME, 'the first unit is a keyframe');
    for (const f of u) {
      assert.equal(f.payload[0], codec);
      assert.deepEqual([f.width, f.height], [320, 240]);
    }
  });
}

etest('receiver.sh plays an H.264 channel', recv || elementsMissing(['x264enc', 'avdec_h264']), async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-recv-'));
  running.push(new Launch(`videotestsrc is-live=true pattern=smpte ! video/x-raw,width=320,height=240,framerate=15/1 ! ` +
      `x264enc tune=zerolatency bframes=0 key-int-max=15 ! dspay ! dsrelaysink location=${relay.ws}/peer/h264`));
  run('sh', [path.join(EX, 'receiver.sh')], {
    env: { CHANNEL: 'h264', VIDEO_SINK: `pngenc ! multifilesink location=${tmp}/shot%05d.png max-files=3`, AUDIO_SINK: 'fakesink' },
  });
  const t0 = Date.now();
  let shots = [];
  while (shots.length < 2) {
    if (Date.now() - t0 > 20000)
      throw new Error('receiver.sh wrote no pictures of the H.264 channel');
    await new Promise((res) => setTimeout(res, 100));
    shots = fs.readdirSync(tmp).filter((f) => f.endsWith('.png')).sort();
  }
  const head = fs.readFileSync(path.join(tmp, shots[0]));
  assert.deepEqual([head.readUInt32BE(16), head.readUInt32BE(20)], [320, 240]);
  for (const c of running.splice(0))
    await c.stop();
  fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
});

etest('receiver.sh shows the picture of a channel', recv, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-recv-'));
  running.push(new Launch(`dsmux name=s ! dsrelaysink location=${relay.ws}/peer/watched ` +
      'videotestsrc is-live=true pattern=smpte ! video/x-raw,format=RGBA,width=320,height=240,framerate=15/1 ! dspay ! dsdelta ! s. ' +
      'audiotestsrc is-live=true ! audio/x-raw,format=F32LE,layout=interleaved,rate=48000,channels=2 ! dspay ! s.'));
  // the "window" writes PNG files, the "speakers" count buffers
  run('sh', [path.join(EX, 'receiver.sh')], {
    env: {
      CHANNEL: 'watched',
      VIDEO_SINK: `pngenc ! multifilesink location=${tmp}/shot%05d.png max-files=3`,
      AUDIO_SINK: 'fakesink name=speakers silent=false',
    },
  });
  const t0 = Date.now();
  let shots = [];
  while (shots.length < 2) {
    if (Date.now() - t0 > 20000)
      throw new Error('receiver.sh wrote no pictures');
    await new Promise((res) => setTimeout(res, 100));
    shots = fs.readdirSync(tmp).filter((f) => f.endsWith('.png')).sort();
  }
  const head = fs.readFileSync(path.join(tmp, shots[0]));
  assert.equal(head.subarray(1, 4).toString(), 'PNG');
  assert.deepEqual([head.readUInt32BE(16), head.readUInt32BE(20)], [320, 240]);
  // receiver.sh writes into tmp until it is stopped
  for (const c of running.splice(0))
    await c.stop();
  fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
});

etest('dashboard.sh composites two channels and publishes the result', recv, async () => {
  for (const [ch, pattern] of [['cam1', 'smpte'], ['cam2', 'ball']])
    running.push(new Launch(`videotestsrc is-live=true pattern=${pattern} ! video/x-raw,format=RGBA,width=320,height=240,framerate=15/1 ! ` +
        `dspay ! dsdelta ! dsrelaysink location=${relay.ws}/peer/${ch}`));
  const r = await receive('dashboard');
  run('sh', [path.join(EX, 'dashboard.sh'), 'cam1', 'cam2'], {
    env: { VIDEO_SINK: 'fakesink', TILE_W: '160', TILE_H: '120' },
  });
  await r.waitFor((y) => pictures(y, 320, 120) >= 3, 'composited pictures of 320x120');
});

async function aggregatorTest (cmd, args) {
  run('sh', [path.join(EX, 'signals-loop.sh')], { env: { CHANNEL: 'in-a', INTERVAL: '0.3' } });
  run('sh', [path.join(EX, 'signals-loop.sh')], { env: { CHANNEL: 'in-b', INTERVAL: '0.3' } });
  const r = await receive('aggregate');
  run(cmd, [...args, '--relay', relay.ws, 'in-a', 'in-b']);
  await r.waitFor((y) => y.signals.status === 'ok' && y.signals.events >= 4 && y.signals.sum > 0, 'status ok with events');
  assert.ok(r.signals.updates_a >= 1 && r.signals.updates_b >= 1);
  assert.equal(typeof r.signals.uptime_s, 'number');

  // and in the browser viewer
  browser = browser || await launch();
  page = await browser.context.newPage();
  await page.goto(`${relay.base}/view/aggregate`);
  await page.waitForFunction(() => {
    const row = Array.from(document.querySelectorAll('#signals tr')).find((tr) => tr.cells[0].textContent === 'status');
    return row && row.cells[1].textContent === 'ok';
  }, null, { timeout: 15000 });
}

const aggregatorBin = path.join(BUILD, 'examples', 'ds-aggregator');
etest('the C aggregator derives and republishes signals', recv ||
    (fs.existsSync(aggregatorBin) ? null : 'ds-aggregator not built'), async () => {
  await aggregatorTest(aggregatorBin, []);
});

// Debian's python3 has python3-gi; another python3 first on PATH may not
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const pygi = spawnSync(PYTHON, ['-c', 'import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstApp", "1.0"); from gi.repository import Gst, GstApp']).status === 0;
etest('the Python aggregator derives and republishes signals', recv || (pygi ? null : 'python3-gi / GStreamer typelibs missing'), async () => {
  await aggregatorTest(PYTHON, [path.join(EX, 'aggregator.py')]);
});

etest('browser-source.sh: a wpesrc page is clicked from the viewer', pub || (inspect('wpesrc') ? null : 'wpesrc missing (gstreamer1.0-wpe)'), async () => {
  run('sh', [path.join(EX, 'browser-source.sh')], { env: { CHANNEL: 'browser', WIDTH: '400', HEIGHT: '300' } });
  browser = browser || await launch();
  page = await browser.context.newPage();
  await page.goto(`${relay.base}/view/browser`);
  await waitInPage(page, () => dsViewer.pictures >= 2 && dsViewer.width === 400, undefined, 30000);
  // background #1b2838 once the page has loaded, #2d4a22 after one click
  await page.waitForFunction(() => {
    const d = document.getElementById('picture').getContext('2d').getImageData(390, 290, 1, 1).data;
    return Math.abs(d[0] - 0x1b) < 8 && Math.abs(d[2] - 0x38) < 8;
  }, null, { timeout: 20000 });
  const pt = await clientPointOf(page, 200, 150);
  await page.mouse.click(pt.x, pt.y);
  await page.waitForFunction(() => {
    const d = document.getElementById('picture').getContext('2d').getImageData(390, 290, 1, 1).data;
    return Math.abs(d[0] - 0x2d) < 8 && Math.abs(d[1] - 0x4a) < 8;
  }, null, { timeout: 15000 });
  // the marker is drawn where the viewer clicked
  const mark = await canvasPixel(page, 200, 150);
  assert.ok(mark[0] > 200 && mark[1] < 140, `marker at the click: ${mark}`);
});
