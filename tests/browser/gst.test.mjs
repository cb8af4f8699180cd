// End to end: real gst-launch-1.0 publishers (dspay, dsdelta,
// dsrelaysink from the build folder) → the real ds-relay → the viewer in
// headless Chromium. Checks what a person would: the SMPTE bars on the
// canvas, the signal table updating, a click arriving at the publisher as a
// "ds-input" message at the right source coordinates, gamepad axes and
// buttons and MIDI (stand-in Gamepad API and Web MIDI in the page) as
// "ds-input" messages with their fields, a late joiner of a
// DeltaPixels stream seeing the exact picture, a dsdelta compression=zstd
// stream shown exactly, a live Opus tone heard at its frequency, and a
// relay restart.
//
// With DS_DOCS_SCREENSHOTS=DIR it also saves the screenshots used by
// docs/first-ten-minutes.md into DIR.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Relay, RELAY } from './lib/relay.mjs';
import { Launch, elementsMissing, runToEnd } from './lib/gst.mjs';
import { launch, waitInPage, canvasPixel, canvasRgba, clientPointOf, screenshotOnFailure } from './lib/browser.mjs';
import { stubDevices } from './lib/devices.mjs';

const skip = !RELAY ? 'DS_RELAY is not set (ds-relay not built)' :
    elementsMissing(['dspay', 'dsdelta', 'dsrelaysink']);
const DOCS = process.env.DS_DOCS_SCREENSHOTS || null;

let relay;
let browser;
let page;
const launches = [];

before(async () => {
  if (skip)
    return;
  relay = await new Relay().start();
  browser = await launch({ width: 1100, height: 620 });
});

after(async () => {
  for (const l of launches)
    await l.stop();
  await browser?.close();
  await relay?.stop();
});

afterEach(async () => {
  for (const l of launches.splice(0))
    await l.stop();
  if (page && !page.isClosed())
    await page.close();
  page = null;
});

// { zstd: true }: needs the viewer's zstd decoder in the relay (meson
// option viewer-zstd; DS_VIEWER_ZSTD is 0 in a build without it)
const noZstd = process.env.DS_VIEWER_ZSTD === '0' ?
  'ds-relay was built without the viewer\'s zstd decoder (npm ci in relay/viewer)' : false;

function gtest (name, opts, fn) {
  if (typeof opts === 'function')
    [opts, fn] = [{}, opts];
  test(name, { skip: skip || (opts.zstd && noZstd) || false }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      await screenshotOnFailure(t, page);
      for (const l of launches)
        console.error(`# gst-launch-1.0 ${l.pipeline}\n${l.out.slice(-2000)}`);
      throw e;
    }
  });
}

function start (pipeline, opts) {
  const l = new Launch(pipeline, opts);
  launches.push(l);
  return l;
}

async function openViewer (channel, query = '') {
  page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.goto(`${relay.base}/view/${channel}${query}`);
  await waitInPage(page, () => window.dsViewer && window.dsViewer.connected);
  return page;
}

async function docsShot (name) {
  if (!DOCS)
    return;
  fs.mkdirSync(DOCS, { recursive: true });
  // the flash of a changed signal row (0.6 s) is over
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
  await page.screenshot({ path: path.join(DOCS, name) });
}

const VIDEO = 'video/x-raw,format=RGBA,width=320,height=240,framerate=15/1';

// The SHA-1s of the first @n pictures of `@src ! @caps` (RGBA)
function publishedPictures (src, caps, n) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-pictures-'));
  const raw = path.join(tmp, 'frames.rgba');
  runToEnd(`${src} num-buffers=${n} ! ${caps} ! filesink location=${raw}`);
  const all = fs.readFileSync(raw);
  fs.rmSync(tmp, { recursive: true, force: true });
  const size = Number(caps.match(/width=(\d+)/)[1]) * Number(caps.match(/height=(\d+)/)[1]) * 4;
  const known = new Set();
  for (let o = 0; o + size <= all.length; o += size)
    known.add(crypto.createHash('sha1').update(all.subarray(o, o + size)).digest('hex'));
  return known;
}

// videotestsrc pattern=smpte: seven 75% bars across the top two thirds
const SMPTE_TOP = [
  ['white', [1, 1, 1]], ['yellow', [1, 1, 0]], ['cyan', [0, 1, 1]], ['green', [0, 1, 0]],
  ['magenta', [1, 0, 1]], ['red', [1, 0, 0]], ['blue', [0, 0, 1]],
];

async function assertSmpteBars640 () {
  return assertSmpteBars(640);
}

async function assertSmpteBars (width = 320) {
  for (let i = 0; i < SMPTE_TOP.length; i++) {
    const [name, on] = SMPTE_TOP[i];
    const x = Math.floor((i + 0.5) * width / 7);
    const px = await canvasPixel(page, x, 40);
    for (let c = 0; c < 3; c++) {
      if (on[c])
        assert.ok(px[c] > 150, `bar ${name} at x=${x}: channel ${c} is ${px[c]} (${px})`);
      else
        assert.ok(px[c] < 40, `bar ${name} at x=${x}: channel ${c} is ${px[c]} (${px})`);
    }
  }
}

gtest('screenshots: picture, signals and status on one channel', async () => {
  // video, audio and signals on one channel (dsmux request pads)
  // the pipeline of docs/first-ten-minutes.md
  const pub = start(`dsmux name=s ! dsrelaysink location=${relay.ws}/peer/demo ` +
      'videotestsrc pattern=smpte is-live=true ! video/x-raw,format=RGBA,width=640,height=360,framerate=15/1 ! dspay ! dsdelta ! s. ' +
      'audiotestsrc is-live=true wave=sine volume=0.2 ! audio/x-raw,format=F32LE,layout=interleaved,rate=48000,channels=2 ! dspay ! s. ' +
      'fdsrc fd=0 ! application/x-ds-signal ! dspay ! s.', { stdin: 'pipe' });
  await openViewer('demo');
  pub.write('{"count": 41, "doubled": 82}\n');
  pub.write('{"count": 42, "doubled": 84}\n');
  await waitInPage(page, () => dsViewer.pictures >= 3 && dsViewer.signals.count === 42 &&
      dsViewer.audio.frames > 0, undefined, 20000);
  await assertSmpteBars640();
  await page.waitForFunction(() => dsViewer.latency !== null, null, { timeout: 10000 });
  // the status line and the signal table show it (they are redrawn at
  // most every 100 ms)
  await page.waitForFunction(() => /^\d+ ms$/.test(document.getElementById('st-latency').textContent) &&
      document.getElementById('st-size').textContent === '640×360' &&
      Array.from(document.querySelectorAll('#signals tr')).some((r) =>
        r.cells[0].textContent === 'count' && r.cells[1].textContent === '42'), null, { timeout: 5000 });
  await docsShot('viewer.png');

  // the tone plays once the page had a gesture
  const box = await page.locator('#sound').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await waitInPage(page, () => dsViewer.audio.context === 'running' && dsViewer.audio.scheduled >= 10, undefined, 10000);
  // through the AudioWorklet, whose module the relay serves
  assert.equal(await page.evaluate(() => dsViewer.audio.path), 'worklet');

  const sig = start(`fdsrc fd=0 ! application/x-ds-signal ! dspay ! dsrelaysink location=${relay.ws}/peer/signals`, { stdin: 'pipe' });
  sig.write('{"count": 7}\n');
  // the list is read when the page loads (then every 2 s)
  await relay.waitForChannel('signals', (c) => c.source && c.signals >= 1, 'source with a signal');
  await page.goto(relay.base + '/');
  await page.waitForFunction(() => document.querySelectorAll('#channels a').length >= 2, null, { timeout: 10000 });
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#channels a')).some((a) => a.textContent === 'demo'), null, { timeout: 5000 });
  await docsShot('channels.png');
});

gtest('SMPTE bars published by gst-launch show on the canvas', async () => {
  start(`videotestsrc pattern=smpte is-live=true ! ${VIDEO} ! dspay ! dsdelta ! ` +
      `dsrelaysink location=${relay.ws}/peer/smpte`);
  await openViewer('smpte');
  await waitInPage(page, () => dsViewer.pictures >= 3 && dsViewer.width === 320 && dsViewer.height === 240, undefined, 20000);
  await assertSmpteBars();
  assert.equal(await page.evaluate(() => dsViewer.decodeErrors), 0);
  assert.deepEqual(page.errors, []);
});

gtest('PNG pictures (CompressedPixels) from pngenc show on the canvas', async () => {
  start(`videotestsrc pattern=smpte is-live=true ! ${VIDEO} ! pngenc ! dspay ! ` +
      `dsrelaysink location=${relay.ws}/peer/png`);
  await openViewer('png');
  await waitInPage(page, () => dsViewer.pictures >= 2 && dsViewer.pictureType === 'compressed', undefined, 20000);
  assert.deepEqual(await page.evaluate(() => [dsViewer.width, dsViewer.height]), [320, 240]);
  await assertSmpteBars();
});

gtest('a dsdelta compression=zstd stream shows the exact source pictures', { zstd: true }, async () => {
  // smpte moving 5 px per frame on 160 px: every picture the viewer shows
  // must be byte-exact one of those published, decoded from zstd frames
  // of libzstd's (compressed blocks, not the vectors' stored ones)
  const w = 160, h = 120, caps = `video/x-raw,format=RGBA,width=${w},height=${h},framerate=10/1`;
  const src = 'videotestsrc pattern=smpte horizontal-speed=5';
  const known = publishedPictures(src, caps, 64);
  start(`${src} is-live=true ! ${caps} ! dspay ! dsdelta compression=zstd compression-level=9 ! ` +
      `dsrelaysink location=${relay.ws}/peer/zstd`);
  await openViewer('zstd');
  let drawn = await waitInPage(page, () => dsViewer.pictures >= 1 && dsViewer.pictures, undefined, 20000);
  for (let k = 0; k < 5; k++) {
    drawn = await waitInPage(page, (n) => dsViewer.pictures > n && dsViewer.pictures, drawn, 10000);
    const shown = await canvasRgba(page);
    assert.equal(shown.rgba.length, w * h * 4);
    const hash = crypto.createHash('sha1').update(shown.rgba).digest('hex');
    assert.ok(known.has(hash), `picture ${k} is not one of the published frames`);
  }
  const st = await page.evaluate(() => ({
    e: dsViewer.decodeErrors, skipped: dsViewer.compressedSkipped, t: dsViewer.pictureType,
    inflated: dsViewer.inflated >= 5, notice: document.getElementById('notice').hidden,
  }));
  assert.deepEqual(st, { e: 0, skipped: 0, t: 'delta', inflated: true, notice: true });
  assert.deepEqual(page.errors, []);
});

// A page of text-like rows: pseudo-random ink of four greys, blank rows
// between lines, deterministic
function textPage (w, h) {
  const page = Buffer.alloc(w * h * 4);
  let state = 12345;
  for (let y = 0; y < h; y++) {
    const inLine = y % 14;
    for (let x = 0; x < w; x++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const ink = inLine >= 3 && inLine < 12 && ((state >>> 16) & 3) === 0;
      const v = ink ? 0x20 + ((state >>> 20) & 3) * 0x30 : 0xf8;
      page.set([v, v, (v + x) & 0xff, 0xff], (y * w + x) * 4);
    }
  }
  return page;
}

gtest('a page scrolled down then sideways (dsdelta defaults: MotionDeltaPixels + zstd) shows the exact source pictures', { zstd: true }, async () => {
  // 40 pictures scrolled down 4 rows each, then 40 scrolled sideways 3
  // columns each: dsdelta's defaults send them as MotionDeltaPixels in
  // zstd; every picture the viewer shows must be byte-exact one of them
  const w = 320, h = 240, n = 80, pw = w + 3 * 40, ph = h + 4 * 40;
  const pageRgba = textPage(pw, ph);
  const frames = Buffer.alloc(w * h * 4 * n);
  const known = new Set();
  for (let i = 0; i < n; i++) {
    const dy = 4 * Math.min(i, 40), dx = 3 * Math.max(0, i - 40);
    const pic = Buffer.alloc(w * h * 4);
    for (let y = 0; y < h; y++)
      pageRgba.copy(pic, y * w * 4, ((y + dy) * pw + dx) * 4, ((y + dy) * pw + dx + w) * 4);
    pic.copy(frames, i * w * h * 4);
    known.add(crypto.createHash('sha1').update(pic).digest('hex'));
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-scroll-'));
  const file = path.join(tmp, 'scroll.rgba');
  fs.writeFileSync(file, frames);
  try {
    start(`filesrc location=${file} ! rawvideoparse format=rgba width=${w} height=${h} framerate=10/1 ! ` +
        `dspay ! dsdelta ! dsrelaysink sync=true location=${relay.ws}/peer/scroll`);
    await openViewer('scroll');
    let drawn = await waitInPage(page, () => dsViewer.pictures >= 1 && dsViewer.pictures, undefined, 20000);
    const types = new Set();
    for (let k = 0; k < 6; k++) {
      drawn = await waitInPage(page, (m) => dsViewer.pictures > m && dsViewer.pictures, drawn, 10000);
      const shown = await canvasRgba(page);
      types.add(await page.evaluate(() => dsViewer.pictureType));
      assert.equal(shown.rgba.length, w * h * 4);
      const hash = crypto.createHash('sha1').update(shown.rgba).digest('hex');
      assert.ok(known.has(hash), `picture ${k} is not one of the published frames`);
    }
    assert.ok(types.has('motion'), `picture types seen: ${[...types]}`);
    const st = await page.evaluate(() => ({ e: dsViewer.decodeErrors, inflated: dsViewer.inflated > 0 }));
    assert.deepEqual(st, { e: 0, inflated: true });
    assert.deepEqual(page.errors, []);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

gtest('signals from a JSON Lines publisher update the table', async () => {
  const pub = start(`fdsrc fd=0 ! application/x-ds-signal ! dspay ! ` +
      `dsrelaysink location=${relay.ws}/peer/signals`, { stdin: 'pipe' });
  await openViewer('signals');
  pub.write('{"count": 1, "status": "starting"}\n');
  await waitInPage(page, () => dsViewer.signals.count === 1, undefined, 15000);
  pub.write('{"count": 2, "status": "running"}\n');
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll('#signals tr'));
    return rows.map((r) => r.cells[0].textContent + '=' + r.cells[1].textContent).join(',') === 'count=2,status=running';
  }, null, { timeout: 15000 });
});

// What the page says on a channel of signals only (the aggregator
// examples), and after a relay restart while its source is away: the
// states of the notice, with screenshots in the test's artifacts
gtest('a signals-only channel and a relay restart: the viewer says what is true', async () => {
  const shots = path.join(process.env.DS_BROWSER_ARTIFACTS || os.tmpdir(), 'viewer-states');
  fs.mkdirSync(shots, { recursive: true });
  const state = async (name) => {
    const st = await page.evaluate(() => ({ view: dsViewer.view, stale: dsViewer.signalsStale,
      count: dsViewer.signals.count,
      notice: document.getElementById('notice').hidden ? null : document.getElementById('notice').textContent }));
    await page.screenshot({ path: path.join(shots, name + '.png') });
    console.log(`# ${name}: ${JSON.stringify(st)}`);
    return st;
  };
  const publish = () => start(`fdsrc fd=0 ! application/x-ds-signal ! dspay ! ` +
      `dsrelaysink location=${relay.ws}/peer/aggregate`, { stdin: 'pipe', messages: false });

  await openViewer('aggregate');
  await waitInPage(page, () => dsViewer.view === 'no-source', undefined, 10000);
  assert.match((await state('1-no-source')).notice, /^No source on this channel/);

  let pub = publish();
  for (let i = 80; i <= 82; i++)
    pub.write(`{"count": ${i}}\n`);
  await waitInPage(page, () => dsViewer.signals.count === 82 && dsViewer.view === 'no-picture', undefined, 15000);
  let st = await state('2-signals-only');
  assert.equal(st.notice, 'The source is connected and sends signals, no picture.');

  // the source stops, the relay restarts: count 82 is no longer true
  await pub.stop();
  await relay.restart(500);
  await waitInPage(page, () => dsViewer.connected && dsViewer.reconnects >= 1 &&
      dsViewer.view === 'no-source', undefined, 20000);
  st = await state('3-after-restart-no-source');
  assert.equal(st.stale, true, 'the values from before the restart are greyed');
  assert.equal(st.count, 82);
  assert.match(st.notice, /No source on this channel.*\(greyed\) are from before/);

  // the source is back: fresh values, nothing greyed
  pub = publish();
  pub.write('{"count": 1}\n');
  await waitInPage(page, () => dsViewer.signals.count === 1 && !dsViewer.signalsStale &&
      dsViewer.view === 'no-picture', undefined, 15000);
  await state('4-source-back');
  assert.deepEqual(page.errors, []);
});

gtest('a click on the canvas arrives at the publisher at the right coordinates', async () => {
  const pub = start(`videotestsrc pattern=smpte is-live=true ! ${VIDEO} ! dspay ! dsdelta ! ` +
      `dsrelaysink location=${relay.ws}/peer/click`);
  await openViewer('click');
  await waitInPage(page, () => dsViewer.pictures >= 1 && dsViewer.width === 320, undefined, 20000);
  const pt = await clientPointOf(page, 200, 100);
  await page.mouse.click(pt.x, pt.y);
  const m = await pub.waitFor(/ds-input, type=\(string\)pointer-down, code=\(uint\)2, x=\(uint\)(\d+), y=\(uint\)(\d+), buttons=\(uint\)(\d+)/);
  assert.deepEqual([Number(m[1]), Number(m[2]), Number(m[3])], [200, 100, 1]);
  const u = await pub.waitFor(/ds-input, type=\(string\)pointer-up, code=\(uint\)3, x=\(uint\)(\d+), y=\(uint\)(\d+)/);
  assert.deepEqual([Number(u[1]), Number(u[2])], [200, 100]);
});

// The ds-input messages gst-launch -m printed since @from, as objects
function dsInputs (pub, from = 0) {
  const out = [];
  for (const m of pub.out.slice(from).matchAll(/ds-input, ([^\n]*);/g)) {
    const o = {};
    for (const f of m[1].matchAll(/(\w+)=\((\w+)\)([^,]*)/g))
      o[f[1]] = f[2] === 'string' ? f[3] : f[2] === 'boolean' ? f[3] === 'true' : Number(f[3]);
    out.push(o);
  }
  return out;
}

async function waitForInput (pub, from, pred, what) {
  const t0 = Date.now();
  for (;;) {
    const found = dsInputs(pub, from).find(pred);
    if (found)
      return found;
    if (Date.now() - t0 > 15000)
      throw new Error(`no ds-input ${what} within 15 s; got:\n` +
          dsInputs(pub, from).map((o) => JSON.stringify(o)).join('\n'));
    await new Promise((r) => setTimeout(r, 50));
  }
}

const near = (a, b) => Math.abs(a - b) < 1e-6;

gtest('gamepad axes and buttons arrive at the publisher as ds-input messages', async () => {
  const pub = start(`videotestsrc is-live=true ! ${VIDEO} ! dspay ! dsdelta ! ` +
      `dsrelaysink location=${relay.ws}/peer/gamepad`);
  page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.addInitScript(stubDevices);
  await page.goto(`${relay.base}/view/gamepad`);
  // the source is there (input without a source is dropped by the relay)
  await waitInPage(page, () => window.dsViewer && dsViewer.connected && dsViewer.pictures >= 1, undefined, 20000);

  // pad 0: left stick x out of range (3), y -0.5, a NaN, a resting 0.004;
  // button 0 (A) pressed, the right trigger (7) half way
  const from = pub.out.length;
  await page.evaluate(() => dsTestPad(0, [3, -0.5, NaN, 0.004],
      [1, 0, 0, 0, 0, 0, 0, 0.5]));
  const x = await waitForInput(pub, from, (o) => o.type === 'gamepad-axis' && o.axis === 0, 'axis 0');
  assert.equal(x.code, 0x30);
  assert.equal(x.value, 1, 'clamped to 1');
  const y = await waitForInput(pub, from, (o) => o.type === 'gamepad-axis' && o.axis === 1, 'axis 1');
  assert.equal(y.value, -0.5);
  const a = await waitForInput(pub, from, (o) => o.type === 'gamepad-button' && o.button === 0, 'button 0');
  assert.equal(a.code, 0x31);
  assert.deepEqual([a.pressed, a.value], [true, 1]);
  const rt = await waitForInput(pub, from, (o) => o.type === 'gamepad-button' && o.button === 7, 'button 7');
  assert.equal(rt.pressed, true);
  assert.ok(near(rt.value, 128 / 255), `trigger value ${rt.value}`);

  // pad 1: its numbers are 32 + i
  await page.evaluate(() => dsTestPad(1, [0.25], [0, 0, 1]));
  const x1 = await waitForInput(pub, from, (o) => o.type === 'gamepad-axis' && o.axis === 32, 'axis 32');
  assert.equal(x1.value, 0.25);
  await waitForInput(pub, from, (o) => o.type === 'gamepad-button' && o.button === 34 && o.pressed, 'button 34');

  // pad 0 back to rest: the stick returns to exactly 0, the buttons are released
  await page.evaluate(() => dsTestPad(0, [0, 0.003, NaN, 0], [0, 0, 0, 0, 0, 0, 0, 0]));
  await waitForInput(pub, from, (o) => o.type === 'gamepad-axis' && o.axis === 1 && o.value === 0, 'axis 1 back to 0');
  await waitForInput(pub, from, (o) => o.type === 'gamepad-axis' && o.axis === 0 && o.value === 0, 'axis 0 back to 0');
  await waitForInput(pub, from, (o) => o.type === 'gamepad-button' && o.button === 7 && !o.pressed, 'button 7 released');
  await waitForInput(pub, from, (o) => o.type === 'gamepad-button' && o.button === 0 && !o.pressed, 'button 0 released');

  // the page loses the focus: pad 1's stick and button are released
  const blurred = pub.out.length;
  await page.evaluate(() => dsTestFocus(false));
  await waitForInput(pub, blurred, (o) => o.type === 'gamepad-axis' && o.axis === 32 && o.value === 0, 'axis 32 released on blur');
  await waitForInput(pub, blurred, (o) => o.type === 'gamepad-button' && o.button === 34 && !o.pressed, 'button 34 released on blur');
  // and nothing goes out while it is not focused
  await page.evaluate(() => dsTestPad(1, [-1], [1]));
  const sentBefore = await page.evaluate(() => dsViewer.gamepad.sent);
  // four animation frames: more than one poll (at most one every 15 ms)
  await page.evaluate(() => new Promise((r) => {
    let n = 0;
    const f = () => (++n === 4 ? r() : requestAnimationFrame(f));
    requestAnimationFrame(f);
  }));
  assert.equal(await page.evaluate(() => dsViewer.gamepad.sent), sentBefore);
  await page.evaluate(() => dsTestFocus(true));
  await waitForInput(pub, blurred, (o) => o.type === 'gamepad-axis' && o.axis === 32 && o.value === -1, 'axis 32 after focus');
  await waitForInput(pub, blurred, (o) => o.type === 'gamepad-button' && o.button === 32 && o.pressed, 'button 32 after focus');

  // a disconnected pad's held input is released
  const gone = pub.out.length;
  await page.evaluate(() => dsTestPad(1, null, null));
  await waitForInput(pub, gone, (o) => o.type === 'gamepad-axis' && o.axis === 32 && o.value === 0, 'axis 32 released on disconnect');
  await waitForInput(pub, gone, (o) => o.type === 'gamepad-button' && o.button === 32 && !o.pressed, 'button 32 released on disconnect');

  // never a NaN, never axis 2 or 3 (NaN, resting noise)
  const all = dsInputs(pub, from).filter((o) => o.type === 'gamepad-axis');
  assert.ok(all.every((o) => Number.isFinite(o.value) && o.value >= -1 && o.value <= 1), JSON.stringify(all));
  assert.ok(!all.some((o) => o.axis === 2 || o.axis === 3), JSON.stringify(all));
  assert.doesNotMatch(pub.out, /nan/i);
  assert.deepEqual(page.errors, []);
});

gtest('MIDI, once asked for, arrives at the publisher as ds-input messages; sysex and clock do not', async () => {
  const pub = start(`videotestsrc is-live=true ! ${VIDEO} ! dspay ! dsdelta ! ` +
      `dsrelaysink location=${relay.ws}/peer/midi`);
  page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.addInitScript(stubDevices);
  await page.goto(`${relay.base}/view/midi`);
  await waitInPage(page, () => window.dsViewer && dsViewer.connected && dsViewer.pictures >= 1, undefined, 20000);

  // not asked for on load: the page shows the MIDI button
  assert.deepEqual(await page.evaluate(() => dsTestMidiAsked), []);
  assert.equal(await page.evaluate(() => dsViewer.midi.state), 'off');
  await page.click('#midi');
  await waitInPage(page, () => dsViewer.midi.state === 'on');
  assert.deepEqual(await page.evaluate(() => dsTestMidiAsked), [{ sysex: false }]);
  assert.equal(await page.textContent('#midi'), 'MIDI · 1');

  const from = pub.out.length;
  await page.evaluate(() => {
    dsTestMidi([0xf8]);                               // clock
    dsTestMidi([0xf0, 0x7e, 0x7f, 0x06, 0x01, 0xf7]); // sysex
    dsTestMidi([0x90, 0x80, 0x40]);                   // a data byte > 127
    dsTestMidi([0x90, 60, 100]);                      // note on
    dsTestMidi([0xb2, 7, 127]);                       // CC 7 on channel 3
    dsTestMidi([0xc3, 5]);                            // program change: two bytes
    dsTestMidi([0xe0, 0, 64]);                        // pitch bend, centre
    dsTestMidi([0x80, 60, 0]);                        // note off
  });
  await waitForInput(pub, from, (o) => o.type === 'midi' && o.status === 0x80, 'note off');
  const got = dsInputs(pub, from).filter((o) => o.type === 'midi')
      .map((o) => [o.code, o.status, o.data1, o.data2]);
  assert.deepEqual(got, [
    [0x40, 0x90, 60, 100], [0x40, 0xb2, 7, 127], [0x40, 0xc3, 5, 0], [0x40, 0xe0, 0, 64], [0x40, 0x80, 60, 0],
  ]);
  assert.equal(await page.evaluate(() => dsViewer.midi.ignored), 3);

  // not while the page has no focus
  await page.evaluate(() => {
    dsTestFocus(false);
    dsTestMidi([0x90, 61, 1]);
    dsTestFocus(true);
    dsTestMidi([0x90, 62, 1]);
  });
  await waitForInput(pub, from, (o) => o.type === 'midi' && o.data1 === 62, 'note 62');
  assert.ok(!dsInputs(pub, from).some((o) => o.type === 'midi' && o.data1 === 61));
  assert.equal(await page.evaluate(() => dsViewer.midi.dropped), 1);
  assert.deepEqual(page.errors, []);
});

gtest('?midi=1 asks for MIDI on load', async () => {
  page = await browser.context.newPage();
  await page.addInitScript(stubDevices);
  await page.goto(`${relay.base}/view/midi-url?midi=1`);
  await waitInPage(page, () => window.dsViewer && dsViewer.midi.state === 'on');
  assert.deepEqual(await page.evaluate(() => dsTestMidiAsked), [{ sysex: false }]);
});

gtest('a late joiner of a DeltaPixels stream sees exact pictures at once', async () => {
  // smpte moving 7 px per frame on 160 px repeats every 160 frames: every
  // picture the viewer shows must be byte-exact one of them
  const w = 160, h = 120, caps = `video/x-raw,format=RGBA,width=${w},height=${h},framerate=10/1`;
  const src = 'videotestsrc pattern=smpte horizontal-speed=7';
  const known = publishedPictures(src, caps, 320);
  const size = w * h * 4;

  start(`${src} is-live=true ! ${caps} ! dspay ! dsdelta ! dsrelaysink location=${relay.ws}/peer/late`);
  // a keyframe and many deltas later (two seconds at 10 pictures a second)
  await relay.waitForChannel('late', (c) => c.frames >= 20, '20 frames');
  await openViewer('late');
  await waitInPage(page, () => dsViewer.pictures >= 1, undefined, 15000);
  // five pictures drawn one after another, each one of the published
  let drawn = 0;
  for (let k = 0; k < 5; k++) {
    drawn = await waitInPage(page, (n) => dsViewer.pictures > n && dsViewer.pictures, drawn, 10000);
    const shown = await canvasRgba(page);
    assert.equal(shown.rgba.length, size);
    const hash = crypto.createHash('sha1').update(shown.rgba).digest('hex');
    assert.ok(known.has(hash), `picture ${k} is not one of the published frames`);
  }
  const st = await page.evaluate(() => ({ e: dsViewer.decodeErrors, g: dsViewer.gaps, t: dsViewer.pictureType }));
  assert.deepEqual(st, { e: 0, g: 0, t: 'delta' });
});

gtest('a live Opus tone (opusenc ! dspay) plays through AudioDecoder and the AudioWorklet at 440 Hz', async () => {
  start('audiotestsrc is-live=true wave=sine freq=440 volume=0.5 ! audio/x-raw,rate=48000,channels=2 ! ' +
      `opusenc frame-size=20 ! dspay ! dsrelaysink location=${relay.ws}/peer/opus`);
  await openViewer('opus');
  await waitInPage(page, () => dsViewer.audio.opus > 0, undefined, 20000);
  const box = await page.locator('#sound').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await waitInPage(page, () => dsViewer.audio.context === 'running' && dsViewer.audio.path === 'worklet', undefined, 10000);
  // an AnalyserNode on the worklet's output (the page's test hook)
  await page.evaluate(() => {
    const a = dsViewer.hooks.audio;
    window.analyser = a.ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    a.node.connect(analyser);
  });
  const peak = await page.waitForFunction(() => {
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++)
      if (bins[i] > bins[best])
        best = i;
    const hz = best * analyser.context.sampleRate / analyser.fftSize;
    return bins[best] > -60 && Math.abs(hz - 440) <= 12 && hz;
  }, null, { timeout: 10000, polling: 100 }).then((h) => h.jsonValue());
  assert.ok(Math.abs(peak - 440) <= 12, `peak at ${peak} Hz`);
  const a = await page.evaluate(() => dsViewer.audio);
  assert.equal(a.opusErrors, 0, a.lastError);
  assert.ok(a.opusDecoded > 0);
});

gtest('after a relay restart the viewer reconnects and the picture comes back', async () => {
  start(`videotestsrc pattern=smpte is-live=true ! ${VIDEO} ! dspay ! dsdelta ! ` +
      `dsrelaysink location=${relay.ws}/peer/restart`);
  await openViewer('restart');
  await waitInPage(page, () => dsViewer.pictures >= 2, undefined, 20000);
  await relay.restart(500);     // away long enough for the viewer and dsrelaysink to see it
  await waitInPage(page, () => dsViewer.reconnects >= 1 && dsViewer.connected, undefined, 20000);
  const before = await page.evaluate(() => dsViewer.pictures);
  await waitInPage(page, (n) => dsViewer.pictures > n + 2 && !dsViewer.waitingForKeyframe, before, 30000);
  await assertSmpteBars();
});
