// The viewer page against a stand-in relay that sends hand-made frames:
// decoding (Pixels, DeltaPixels, CompressedPixels, signals, audio), gap and
// error handling with KeyframeRequests, input mapping, SubscribeFilter,
// Ping, reconnects and the channel list. No GStreamer needed.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { MockRelay, HAVE_FZSTD } from './lib/mock-relay.mjs';
import {
  launch, waitInPage, canvasPixel, clientPointOf, screenshotOnFailure, waitForCanvas, waitForPixel, waitUntil,
} from './lib/browser.mjs';
import {
  packFrame, rleEncodeXor, picture, png, T, I, FLAG_INPUT, FLAG_KEYFRAME, FLAG_COMPRESSED,
  motionEncode, motionPredict,
} from './lib/frames.mjs';
import { zstdStored, zstdRleBomb, zstdHeader, blockHeader } from './lib/zstd-frames.mjs';
import { stubDevices } from './lib/devices.mjs';

let relay;
let browser;
let page;

before(async () => {
  relay = await new MockRelay().start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await relay?.stop();
});

afterEach(async () => {
  if (page && !page.isClosed())
    await page.close();
  page = null;
});

// test() that saves a screenshot of the page when the test fails
function vtest (name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      await screenshotOnFailure(t, page);
      throw e;
    }
  });
}

// clock: the page's timers on Playwright's clock, which runs at the real
// pace until a test moves it on (page.clock.fastForward)
async function openViewer (channel, query = '', { clock = false } = {}) {
  relay.received = [];
  const n = relay.connections;
  page = await browser.context.newPage();
  if (clock)
    await page.clock.install();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.errors = errors;
  await page.goto(`${relay.base}/view/${channel}${query}`);
  const ws = await relay.waitForConnections(n + 1);
  await waitInPage(page, () => window.dsViewer && window.dsViewer.connected);
  return ws;
}

const bars = (w, h) => picture(w, h, (x, y) => {
  const colors = [[255, 255, 255], [255, 255, 0], [0, 255, 255], [0, 255, 0]];
  return colors[Math.floor(x * 4 / w)];
});

vtest('Pixels frame is drawn at its size with its colours', async () => {
  const ws = await openViewer('pix');
  const w = 64, h = 48;
  ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, width: w, height: h }, bars(w, h)));
  await waitInPage(page, () => window.dsViewer.pictures >= 1);
  const st = await page.evaluate(() => ({ w: dsViewer.width, h: dsViewer.height, f: dsViewer.frames }));
  assert.deepEqual(st, { w: 64, h: 48, f: 1 });
  assert.deepEqual(await canvasPixel(page, 2, 2), [255, 255, 255, 255]);
  assert.deepEqual(await canvasPixel(page, 20, 10), [255, 255, 0, 255]);
  assert.deepEqual(await canvasPixel(page, 40, 40), [0, 255, 255, 255]);
  assert.deepEqual(await canvasPixel(page, 63, 47), [0, 255, 0, 255]);
  // the canvas keeps the picture's aspect ratio inside the stage
  const box = await page.evaluate(() => {
    const r = document.getElementById('picture').getBoundingClientRect();
    return { w: r.width, h: r.height };
  });
  assert.ok(box.w > 100 && box.h > 100);
  assert.deepEqual(page.errors, []);
});

vtest('run-length decoder: hand-made vectors, long runs, malformed codes', async () => {
  await openViewer('codec');
  const r = await page.evaluate(() => {
    const dec = dsViewer.codec.rleDecodeXor;
    const out = {};
    let ref = new Uint8Array(8);
    out.plain = dec(new Uint8Array([1, 2, 0, 4, 0, 3, 4]), ref) && Array.from(ref);
    ref = new Uint8Array(65536 + 2);
    out.longRun = dec(new Uint8Array([0, 0xff, 0xff, 0, 1, 0, 9, 9]), ref) &&
        ref[65534] === 0 && ref[65535] === 0 && ref[65536] === 9 && ref[65537] === 9;
    ref = new Uint8Array([5, 5, 5, 5]);
    out.xor = dec(new Uint8Array([5, 0, 2, 0, 1]), ref) && Array.from(ref);
    out.truncatedRun = dec(new Uint8Array([1, 0, 2]), new Uint8Array(4));
    out.zeroCount = dec(new Uint8Array([0, 0, 0, 1, 1, 1, 1]), new Uint8Array(4));
    out.pastEnd = dec(new Uint8Array([0, 9, 0]), new Uint8Array(4));
    out.tooShort = dec(new Uint8Array([0, 3, 0]), new Uint8Array(4));
    out.literalsPastEnd = dec(new Uint8Array([1, 1, 1, 1, 1]), new Uint8Array(4));
    // a code whose last literal ends it two or three bytes after a word
    // boundary, just after a run: the search for the next zero must not
    // go back to the run's count (the high byte 0 of count 1)
    out.endsUnaligned = [66, 67].map((n) => {
      const code = new Uint8Array(n + 4).fill(7);
      code.set([0, 1, 0, 255], n);
      const ref = new Uint8Array(n + 2);
      return dec(code, ref, true) && ref[n] === 0 && ref[n + 1] === 255;
    });
    // long codes (word-at-a-time paths), aligned and not, XOR and keyframe
    const size = 4096;
    const want = new Uint8Array(size);
    const base = new Uint8Array(size);
    for (let k = 0; k < size; k++) {
      base[k] = (k * 7) & 0xff;
      want[k] = (k % 300) < 150 ? base[k] : base[k] ^ (1 + (k % 251));
    }
    const enc = (cur, prev) => {
      const o = [];
      let z = 0;
      for (let k = 0; k <= cur.length; k++) {
        const x = k < cur.length ? cur[k] ^ (prev ? prev[k] : 0) : 1;
        if (x === 0 && k < cur.length) { z++; continue; }
        while (z > 0) { const c = Math.min(z, 65535); o.push(0, c & 255, c >> 8); z -= c; }
        if (k < cur.length) o.push(x);
      }
      return o;
    };
    out.long = [];
    for (const shift of [0, 1, 2, 3, 16]) {
      const d = enc(want, base);
      const buf = new Uint8Array(d.length + shift);
      buf.set(d, shift);
      const r1 = base.slice();
      const ok1 = dec(buf.subarray(shift), r1, false) && r1.every((v, k) => v === want[k]);
      const kf = enc(want, null);
      const buf2 = new Uint8Array(kf.length + shift);
      buf2.set(kf, shift);
      const r2 = new Uint8Array(size);
      const ok2 = dec(buf2.subarray(shift), r2, true) && r2.every((v, k) => v === want[k]);
      out.long.push(ok1 && ok2);
    }
    return out;
  });
  assert.deepEqual(r.plain, [1, 2, 0, 0, 0, 0, 3, 4]);
  assert.equal(r.longRun, true);
  assert.deepEqual(r.xor, [0, 5, 5, 4]);
  assert.equal(r.truncatedRun, false);
  assert.equal(r.zeroCount, false);
  assert.equal(r.pastEnd, false);
  assert.equal(r.tooShort, false);
  assert.equal(r.literalsPastEnd, false);
  assert.deepEqual(r.endsUnaligned, [true, true]);
  assert.deepEqual(r.long, [true, true, true, true, true]);
});

vtest('DeltaPixels: keyframe then deltas reconstruct the picture exactly', async () => {
  const ws = await openViewer('delta');
  const w = 40, h = 30;
  const a = picture(w, h, (x, y) => [x * 6, y * 8, 100]);
  const b = picture(w, h, (x, y) => (x > 10 && x < 20 ? [255, 0, 0] : [x * 6, y * 8, 100]));
  const c = picture(w, h, (x, y) => (y > 20 ? [0, 0, 255] : [x * 6, y * 8, 100]));
  ws.send(packFrame({ type: T.DELTA_PIXELS, flags: FLAG_KEYFRAME, seq: 1, width: w, height: h }, rleEncodeXor(a, null)));
  ws.send(packFrame({ type: T.DELTA_PIXELS, seq: 2, width: w, height: h }, rleEncodeXor(b, a)));
  ws.send(packFrame({ type: T.DELTA_PIXELS, seq: 3, width: w, height: h }, rleEncodeXor(c, b)));
  await waitInPage(page, () => dsViewer.frames === 3 && dsViewer.pictures >= 1);
  await waitForCanvas(page, c);
  const st = await page.evaluate(() => ({ e: dsViewer.decodeErrors, g: dsViewer.gaps, k: dsViewer.keyframeRequests, t: dsViewer.pictureType }));
  assert.deepEqual(st, { e: 0, g: 0, k: 0, t: 'delta' });
});

vtest('MotionDeltaPixels: a scroll is drawn exactly; a bad move table asks for a keyframe', async () => {
  const ws = await openViewer('motion');
  const w = 40, h = 30;
  const a = picture(w, h, (x, y) => [x * 6, y * 8, 100]);
  const scroll = [[0, 4, 0, 0, w, h - 4]];          // content up by 4 rows
  const b = motionPredict(a, w, scroll);
  for (let i = (h - 4) * w * 4; i < b.length; i++)   // new rows at the bottom
    b[i] = i % 4 === 3 ? 255 : 200;
  const windows = [[0, 0, 5, 5, 10, 10], [5, 5, 0, 0, 10, 10]];  // a swap
  const c = motionPredict(b, w, windows);
  ws.send(packFrame({ type: T.PIXELS, seq: 1, width: w, height: h }, a));
  ws.send(packFrame({ type: T.MOTION_DELTA_PIXELS, seq: 2, width: w, height: h }, motionEncode(b, a, w, scroll)));
  ws.send(packFrame({ type: T.MOTION_DELTA_PIXELS, seq: 3, width: w, height: h }, motionEncode(c, b, w, windows)));
  await waitInPage(page, () => dsViewer.frames === 3 && dsViewer.pictures >= 1);
  await waitForCanvas(page, c);
  const st = await page.evaluate(() => ({ e: dsViewer.decodeErrors, k: dsViewer.keyframeRequests, t: dsViewer.pictureType }));
  assert.deepEqual(st, { e: 0, k: 0, t: 'motion' });
  // a move one pixel out of the picture: malformed, the picture waits
  const bad = motionEncode(c, c, w, [[1, 0, 0, 0, w - 1, h]]);
  bad.writeUInt16LE(w, 10);
  ws.send(packFrame({ type: T.MOTION_DELTA_PIXELS, seq: 4, width: w, height: h }, bad));
  await relay.waitForFrame((f) => f.type === I.KEYFRAME_REQUEST && (f.flags & FLAG_INPUT));
  const e = await page.evaluate(() => ({ e: dsViewer.decodeErrors, waiting: dsViewer.waitingForKeyframe, last: dsViewer.lastError }));
  assert.equal(e.e, 1);
  assert.equal(e.waiting, true);
  assert.match(e.last, /leaves the 40x30 picture/);
  await waitForCanvas(page, c);
});

vtest('pictures are drawn opaque: alpha bytes 0 (an X padding byte) do not make them white', async () => {
  // what `ximagesrc ! videoconvert ! video/x-raw,format=RGBA` sends: the
  // colours of the screen, alpha 0 in black areas and wherever X wrote 0
  const ws = await openViewer('opaque');
  const w = 32, h = 16;
  const colour = (x, y) => [x < 8 ? 0 : x * 7, y * 15, x < 8 ? 0 : 120];
  const a = picture(w, h, (x, y) => [...colour(x, y), x % 3 === 0 ? 0 : 255]);
  const b = picture(w, h, (x, y) => (y < 4 ? [250, 10, 20, 0] : [...colour(x, y), 0]));
  const opaque = (buf) => Array.from(buf).map((v, i) => (i % 4 === 3 ? 255 : v));
  ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 1, width: w, height: h }, a));
  await waitInPage(page, () => dsViewer.pictures >= 1);
  await waitForCanvas(page, opaque(a));
  ws.send(packFrame({ type: T.DELTA_PIXELS, seq: 2, width: w, height: h }, rleEncodeXor(b, a)));
  await waitInPage(page, () => dsViewer.frames === 2 && dsViewer.pictures >= 2);
  await waitForCanvas(page, opaque(b));
  // a keyframe of a, then b again: the canvas must go back to a first
  const drawn = await page.evaluate(() => dsViewer.pictures);
  ws.send(packFrame({ type: T.DELTA_PIXELS, flags: FLAG_KEYFRAME, seq: 3, width: w, height: h }, rleEncodeXor(a, null)));
  ws.send(packFrame({ type: T.DELTA_PIXELS, seq: 4, width: w, height: h }, rleEncodeXor(b, a)));
  await waitInPage(page, (n) => dsViewer.frames === 4 && dsViewer.pictures > n, drawn);
  await waitForCanvas(page, opaque(b));
  const st = await page.evaluate(() => ({ e: dsViewer.decodeErrors, g: dsViewer.gaps }));
  assert.deepEqual(st, { e: 0, g: 0 });
});

vtest('a seq gap discards deltas and asks for a keyframe, with backoff', async () => {
  const ws = await openViewer('gap', '', { clock: true });
  const w = 16, h = 16;
  const a = picture(w, h, () => [10, 20, 30]);
  const b = picture(w, h, () => [200, 20, 30]);
  const c = picture(w, h, () => [0, 0, 0]);
  ws.send(packFrame({ type: T.DELTA_PIXELS, flags: FLAG_KEYFRAME, seq: 10, width: w, height: h }, rleEncodeXor(a, null)));
  await waitInPage(page, () => dsViewer.pictures >= 1);
  // seq 11 is lost; 12 is a delta against 11
  ws.send(packFrame({ type: T.DELTA_PIXELS, seq: 12, width: w, height: h }, rleEncodeXor(c, b)));
  const req = await relay.waitForFrame((f) => f.type === I.KEYFRAME_REQUEST && (f.flags & FLAG_INPUT));
  assert.equal(req.payloadLen, 0);
  assert.deepEqual(await canvasPixel(page, 3, 3), [10, 20, 30, 255], 'no corrupt picture shown');
  // requests repeat while no keyframe comes
  await relay.waitForFrame((f) => f.type === I.KEYFRAME_REQUEST && f !== req, { timeout: 3000 });
  const st = await page.evaluate(() => ({ gaps: dsViewer.gaps, waiting: dsViewer.waitingForKeyframe }));
  assert.equal(st.gaps, 1);
  assert.equal(st.waiting, true);
  // a keyframe ends it
  ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 13, width: w, height: h }, b));
  await waitInPage(page, () => !dsViewer.waitingForKeyframe);
  await waitForPixel(page, 3, 3, [200, 20, 30, 255]);
  // the page's clock moved on past the longest backoff (4 s): no request
  // is sent any more (counted in the page, where the timer would send it)
  const asked = await page.evaluate(() => dsViewer.keyframeRequests);
  await page.clock.fastForward(5000);
  assert.equal(await page.evaluate(() => dsViewer.keyframeRequests), asked, 'requests stop after the keyframe');
  await waitUntil(() => relay.received.filter((f) => f.type === I.KEYFRAME_REQUEST).length === asked,
      `${asked} KeyframeRequests at the relay`);
});

vtest('a delta with no reference or a bad size is dropped, not drawn', async () => {
  const ws = await openViewer('bad');
  const w = 8, h = 8;
  const a = picture(w, h, () => [1, 2, 3]);
  ws.send(packFrame({ type: T.DELTA_PIXELS, seq: 5, width: w, height: h }, rleEncodeXor(a, null)));
  await relay.waitForFrame((f) => f.type === I.KEYFRAME_REQUEST);
  ws.send(packFrame({ type: T.DELTA_PIXELS, flags: FLAG_KEYFRAME, seq: 6, width: w, height: h }, Buffer.from([0, 10, 0])));
  ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 7, width: w, height: h }, Buffer.alloc(10)));
  ws.send(Buffer.from([1, 2, 3]));                       // shorter than a header
  ws.send(packFrame({ type: T.SIGNAL_SYNC }, Buffer.from('not json')));
  await waitInPage(page, () => dsViewer.decodeErrors >= 4);
  assert.equal(await page.evaluate(() => dsViewer.pictures), 0);
  ws.send(packFrame({ type: T.DELTA_PIXELS, flags: FLAG_KEYFRAME, seq: 8, width: w, height: h }, rleEncodeXor(a, null)));
  await waitInPage(page, () => dsViewer.pictures === 1);
  assert.deepEqual(await canvasPixel(page, 7, 7), [1, 2, 3, 255]);
  assert.deepEqual(page.errors, []);
});

vtest('CompressedPixels (PNG) is drawn', async () => {
  const ws = await openViewer('png');
  const w = 20, h = 10;
  const rgba = picture(w, h, (x) => (x < 10 ? [255, 0, 0] : [0, 0, 255]));
  ws.send(packFrame({ type: T.COMPRESSED_PIXELS, flags: FLAG_KEYFRAME, width: w, height: h }, png(w, h, rgba)));
  await waitInPage(page, () => dsViewer.pictures >= 1 && dsViewer.pictureType === 'compressed');
  assert.deepEqual(await canvasPixel(page, 2, 5), [255, 0, 0, 255]);
  assert.deepEqual(await canvasPixel(page, 15, 5), [0, 0, 255, 255]);
});

vtest('zstd-compressed deltas are drawn; zstd bombs are decode errors, at once', async (t) => {
  if (!HAVE_FZSTD) {
    t.skip('the npm package fzstd is not installed (npm ci in relay/viewer)');
    return;
  }
  const ws = await openViewer('zstd');
  assert.equal(await page.evaluate(() => dsViewer.zstd), true);
  const w = 64, h = 48;
  const a = bars(w, h);
  const b = picture(w, h, (x, y) => (y < 24 ? [255, 0, 0] : [0, 0, 255]));
  const delta = (seq, flags, zstd) =>
    ws.send(packFrame({ type: T.DELTA_PIXELS, flags: flags | FLAG_COMPRESSED, seq, width: w, height: h }, zstd));
  delta(1, FLAG_KEYFRAME, zstdStored(rleEncodeXor(a, null)));
  await waitInPage(page, () => dsViewer.pictures === 1);
  assert.deepEqual(await canvasPixel(page, 20, 10), [255, 255, 0, 255]);
  delta(2, 0, zstdStored(rleEncodeXor(b, a), { declare: false, windowLog: 15 }));
  await waitForPixel(page, 20, 40, [0, 0, 255, 255]);

  // bombs (the limit is 64*48*4*3 bytes of run-length code): a declared
  // 4 GiB; 2000 blocks of 32 KiB (64 MiB) declaring nothing; 100000
  // compressed blocks of up to 128 KiB each. None may take the page long.
  const limit = w * h * 4 * 3;
  const bombs = [
    zstdRleBomb(1, 0, { contentSize: 2 ** 32 }),
    zstdRleBomb(2000, 32768, { windowLog: 15 }),
    Uint8Array.from([...zstdHeader({ contentSize: limit, windowLog: 17 }),
      ...Array.from({ length: 100000 }, (_, i) => [...blockHeader(2, 2, i === 99999), 0, 0]).flat()]),
  ];
  const why = [/declares more than/, /may regenerate more than/, /may regenerate far more than/];
  const t0 = Date.now();
  for (let i = 0; i < bombs.length; i++) {
    delta(3 + i, FLAG_KEYFRAME, bombs[i]);
    await waitInPage(page, (n) => dsViewer.decodeErrors === n, i + 1, 5000);
    assert.match(await page.evaluate(() => dsViewer.lastError), why[i]);
  }
  assert.ok(Date.now() - t0 < 5000, `bombs took ${Date.now() - t0} ms`);
  assert.equal(await page.evaluate(() => dsViewer.waitingForKeyframe), true);
  await relay.waitForFrame((f) => f.type === I.KEYFRAME_REQUEST);
  // the next keyframe shows
  delta(6, FLAG_KEYFRAME, zstdStored(rleEncodeXor(a, null)));
  await waitForPixel(page, 20, 40, [255, 255, 0, 255]);
  assert.equal(await page.evaluate(() => dsViewer.inflated), 3);
  assert.deepEqual(page.errors, []);
});

vtest('a relay built without fzstd: zstd frames are refused with a plain message', async () => {
  relay.fzstd = false;
  let ws;
  try {
    ws = await openViewer('zstd');
  } finally {
    relay.fzstd = HAVE_FZSTD;
  }
  assert.equal(await page.evaluate(() => dsViewer.zstd), false);
  ws.send(packFrame({ type: T.DELTA_PIXELS, flags: FLAG_KEYFRAME | FLAG_COMPRESSED, width: 4, height: 4 },
      zstdStored(Buffer.alloc(64))));
  await waitInPage(page, () => dsViewer.compressedSkipped === 1);
  const text = await page.textContent('#notice');
  assert.match(text, /without the viewer's zstd decoder/);
  assert.match(text, /compression=none/);
  assert.equal(await page.isVisible('#notice'), true);
});

vtest('signals: sync replaces, diff merges, _v versions, Keyframe resets', async () => {
  const ws = await openViewer('sig');
  const sig = (type, obj) => ws.send(packFrame({ type }, Buffer.from(JSON.stringify(obj))));
  sig(T.SCHEMA_ANNOUNCE, { signals: ['count', 'doubled', 'later'], mode: 'signal' });
  sig(T.SIGNAL_SYNC, { count: 1, doubled: 2, name: 'x', _v: { count: 5 } });
  sig(T.SIGNAL_DIFF, { count: 2, doubled: 4, _v: { count: 6 } });
  sig(T.SIGNAL_DIFF, { count: 99, _v: { count: 3 } });         // older: ignored
  sig(T.SIGNAL_DIFF, { flag: null });
  await waitInPage(page, () => dsViewer.frames === 5);
  const s = await page.evaluate(() => dsViewer.signals);
  assert.deepEqual(s, { count: 2, doubled: 4, name: 'x', flag: null, _v: { count: 6 } });
  const table = await page.$$eval('#signals tr', (rows) => rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent]));
  assert.deepEqual(table, [['count', '2'], ['doubled', '4'], ['flag', 'null'], ['later', '–'], ['name', 'x']]);

  sig(T.SIGNAL_SYNC, { other: 'y' });
  await waitInPage(page, () => dsViewer.frames === 6);
  assert.deepEqual(await page.evaluate(() => dsViewer.signals), { other: 'y' });
  ws.send(packFrame({ type: T.KEYFRAME }));
  await waitInPage(page, () => dsViewer.frames === 7);
  assert.deepEqual(await page.evaluate(() => dsViewer.signals), {});
  await page.waitForFunction(() => document.getElementById('s-frames').textContent === '7');
});

vtest('the notice tells no source, signals only, waiting for a picture, picture, and a lost connection apart', async () => {
  const view = () => page.evaluate(() => ({ view: dsViewer.view,
    text: document.getElementById('notice').hidden ? null : document.getElementById('notice').textContent }));
  const waitView = (v) => waitInPage(page, (want) => dsViewer.view === want, v);
  relay.sources.set('states', false);
  let ws = await openViewer('states');
  await waitView('no-source');
  assert.match((await view()).text, /^No source on this channel/);

  // a source comes: it sends signals only, then a delta before any
  // keyframe, then a picture
  relay.sources.set('states', true);
  await waitView('waiting-frames');       // asked again within 2 s
  assert.match((await view()).text, /source is connected\. Waiting for its first frame/);
  ws.send(packFrame({ type: T.SIGNAL_SYNC, flags: FLAG_KEYFRAME }, Buffer.from('{"count":82}')));
  await waitView('no-picture');
  assert.equal((await view()).text, 'The source is connected and sends signals, no picture.');
  ws.send(packFrame({ type: T.DELTA_PIXELS, seq: 1, width: 4, height: 4 }, Buffer.from([0, 64, 0])));
  await waitView('waiting-picture');
  assert.equal((await view()).text, 'Waiting for the first picture…');
  ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 2, width: 4, height: 4 }, bars(4, 4)));
  await waitView('picture');
  assert.equal((await view()).text, null);

  // the relay goes away: greyed, said at the top, not over the picture
  const n = relay.connections;
  ws.terminate();
  await waitView('reconnecting');
  const lost = await view();
  assert.match(lost.text, /connection to the relay is lost.*greyed/);
  assert.equal(await page.evaluate(() => document.getElementById('notice').classList.contains('top')), true);
  assert.equal(await page.evaluate(() => dsViewer.signalsStale && dsViewer.pictureStale), true);

  // back, but the source is not: the old values stay greyed and are said
  // to be from before
  relay.sources.set('states', false);
  ws = await relay.waitForConnections(n + 1);
  await waitView('picture-no-source');
  assert.match((await view()).text, /No source on this channel now/);
  relay.sources.set('states', true);
  ws.send(packFrame({ type: T.SIGNAL_SYNC, flags: FLAG_KEYFRAME, seq: 3 }, Buffer.from('{"count":1}')));
  ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, seq: 4, width: 4, height: 4 }, bars(4, 4)));
  await waitView('picture');
  assert.equal(await page.evaluate(() => dsViewer.signalsStale || dsViewer.pictureStale), false);
  assert.deepEqual(page.errors, []);
});

vtest('a channel of sound only says so', async () => {
  const ws = await openViewer('soundonly');
  const pcm = Buffer.alloc(480 * 2 * 4);
  ws.send(packFrame({ type: T.AUDIO_PCM, width: 2, height: 48000 }, pcm));
  await waitInPage(page, () => dsViewer.view === 'no-picture');
  assert.equal(await page.textContent('#notice'), 'The source is connected and sends sound, no picture.');
});

vtest('?select sends a SubscribeFilter after every (re)connect', async () => {
  await openViewer('sel', '?select=count,%20doubled');
  const f = await relay.waitForFrame((x) => x.type === T.SUBSCRIBE_FILTER);
  assert.equal(f.flags & FLAG_INPUT, 0);
  assert.deepEqual(JSON.parse(f.payload.toString()), { select: ['count', 'doubled'] });
  const before = relay.connections;
  const from = relay.received.length;
  relay.dropClients();
  await waitInPage(page, () => dsViewer.reconnects >= 1 && dsViewer.connected);
  assert.ok(relay.connections > before);
  const g = await relay.waitForFrame((x) => x.type === T.SUBSCRIBE_FILTER, { from });
  assert.deepEqual(JSON.parse(g.payload.toString()), { select: ['count', 'doubled'] });
  assert.equal(await page.textContent('#s-reconnects'), String(await page.evaluate(() => dsViewer.reconnects)));
});

vtest('Ping is sent and its echo gives _latency', async () => {
  await openViewer('ping');
  const p = await relay.waitForFrame((f) => f.type === T.PING);
  assert.equal(p.flags, 0);
  const lat = await waitInPage(page, () => dsViewer.latency !== null && dsViewer.latency);
  assert.ok(lat === 0 || (lat > 0 && lat < 5000), `latency ${lat}`);
  await page.waitForFunction(() => /ms$/.test(document.getElementById('s-latency').textContent));
});

// the relay answers the Ping sent on open behind the catch-up: that first
// reading measures the catch-up, so the viewer asks again and shows the
// second (before: 190-920 ms on screen for 5 s, then 2-3 ms)
vtest('the first _latency shown is not the catch-up\'s: the Ping answered behind it is asked again', async () => {
  relay.firstPingDelay = 1500;
  try {
    const w = 64, h = 48;
    const opened = openViewer('ping2');
    const ws = await relay.waitForConnections(relay.connections + 1).then(() => relay.clients[relay.clients.length - 1]);
    ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, width: w, height: h }, bars(w, h)));
    await opened;
    const lat = await waitInPage(page, () => dsViewer.latency !== null && dsViewer.latency + 1);
    assert.ok(lat - 1 < 1000, `first latency shown ${lat - 1} ms: the held answer's`);
    const pings = relay.received.filter((f) => f.type === T.PING).length;
    assert.ok(pings >= 2, `${pings} Ping(s): the viewer did not ask again`);
  } finally {
    relay.firstPingDelay = 0;
  }
});

// While a new page starts, an answer waits for the page, not the network
// (a new Chromium page: 100-150 ms, then 2-5 ms): after the catch-up the
// viewer sends 3 Pings 150 ms apart and, once they are answered, shows
// the lowest answer (and nothing before)
vtest('the first _latency shown is the lowest of 3 probes', async () => {
  // the catch-up's answer, then the probes' (held by the stand-in): the
  // first probe's comes 100 ms after it, the second's at once (150 ms
  // after the first's), the third's 200 ms after it
  relay.pingDelays = [1500, 100, 0, 200];
  try {
    const w = 64, h = 48;
    const opened = openViewer('ping3');
    const ws = await relay.waitForConnections(relay.connections + 1).then(() => relay.clients[relay.clients.length - 1]);
    ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, width: w, height: h }, bars(w, h)));
    await opened;
    // every value shown from here (the held answer comes 1.5 s after open)
    await page.evaluate(() => {
      let v = dsViewer.latency;
      window.__latencies = [];
      Object.defineProperty(dsViewer, 'latency', {
        configurable: true,
        enumerable: true,
        get: () => v,
        set: (x) => { v = x; window.__latencies.push(x); },
      });
    });
    await waitInPage(page, () => window.__latencies.length >= 1);
    await page.waitForTimeout(1000);
    const shown = await page.evaluate(() => window.__latencies);
    assert.equal(shown.length, 1, `shown ${shown}: one value once the probes are answered`);
    assert.ok(shown[0] < 60, `shown ${shown}: not the lowest probe answer`);
    const pings = relay.received.filter((f) => f.type === T.PING && f.channel === 'ping3').length;
    assert.ok(pings >= 4, `${pings} Ping(s): the viewer did not probe 3 times`);
  } finally {
    relay.pingDelays = null;
  }
});

vtest('reconnects with backoff while the relay is away, picture comes back', async () => {
  const ws = await openViewer('recon');
  const w = 10, h = 10;
  ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, width: w, height: h }, picture(w, h, () => [0, 128, 0])));
  await waitInPage(page, () => dsViewer.pictures >= 1);
  relay.dropClients();
  await waitInPage(page, () => !dsViewer.connected);
  await page.waitForFunction(() => document.getElementById('s-connected').textContent === 'false');
  const ws2 = await relay.waitForClient(1);
  await waitInPage(page, () => dsViewer.connected && dsViewer.reconnects >= 1);
  ws2.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, width: w, height: h }, picture(w, h, () => [0, 0, 200])));
  await waitInPage(page, () => dsViewer.pictures >= 2);
  await waitForPixel(page, 5, 5, [0, 0, 200, 255]);
});

vtest('pointer, keys, wheel and resize become input frames in source pixels', async () => {
  const ws = await openViewer('input');
  // a wide picture in a 1000x700 window: letterboxed top and bottom
  const w = 400, h = 100;
  ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, width: w, height: h }, picture(w, h, () => [50, 50, 50])));
  await waitInPage(page, () => dsViewer.pictures >= 1);
  const resize = await relay.waitForFrame((f) => f.type === I.RESIZE && (f.flags & FLAG_INPUT));
  assert.ok(resize.payload.readUInt16LE(0) > 100 && resize.payload.readUInt16LE(2) > 100);

  const from = relay.received.length;
  const pt = await clientPointOf(page, 300, 75);
  await page.mouse.move(pt.x, pt.y);
  await page.mouse.down();
  await page.mouse.up();
  const down = await relay.waitForFrame((f) => f.type === I.POINTER_DOWN, { from });
  const up = await relay.waitForFrame((f) => f.type === I.POINTER_UP, { from });
  assert.equal(down.flags & FLAG_INPUT, FLAG_INPUT);
  assert.deepEqual([down.payload.readUInt16LE(0), down.payload.readUInt16LE(2), down.payload[4]], [300, 75, 1]);
  assert.deepEqual([up.payload.readUInt16LE(0), up.payload.readUInt16LE(2), up.payload[4]], [300, 75, 0]);
  const move = await relay.waitForFrame((f) => f.type === I.POINTER, { from });
  assert.deepEqual([move.payload.readUInt16LE(0), move.payload.readUInt16LE(2)], [300, 75]);

  const rpt = await clientPointOf(page, 10, 90);
  await page.mouse.click(rpt.x, rpt.y, { button: 'right' });
  const rdown = await relay.waitForFrame((f) => f.type === I.POINTER_DOWN && f.payload[4] === 2, { from });
  assert.deepEqual([rdown.payload.readUInt16LE(0), rdown.payload.readUInt16LE(2)], [10, 90]);

  const k0 = relay.received.length;
  await page.keyboard.down('Shift');
  await page.keyboard.press('A');
  await page.keyboard.up('Shift');
  await page.keyboard.press('Enter');
  const keyA = await relay.waitForFrame((f) => f.type === I.KEY_DOWN && f.payload.readUInt16LE(0) === 65, { from: k0 });
  assert.equal(keyA.payload[2] & 1, 1, 'shift bit');
  await relay.waitForFrame((f) => f.type === I.KEY_UP && f.payload.readUInt16LE(0) === 65, { from: k0 });
  const enter = await relay.waitForFrame((f) => f.type === I.KEY_DOWN && f.payload.readUInt16LE(0) === 13, { from: k0 });
  assert.equal(enter.payload[2], 0);

  await page.mouse.move(pt.x, pt.y);
  await page.mouse.wheel(0, 120);
  const sc = await relay.waitForFrame((f) => f.type === I.SCROLL, { from: k0 });
  assert.equal(sc.payload.readInt16LE(0), 0);
  assert.equal(sc.payload.readInt16LE(2), 120);

  const r0 = relay.received.length;
  await page.setViewportSize({ width: 800, height: 600 });
  const rs = await relay.waitForFrame((f) => f.type === I.RESIZE, { from: r0 });
  assert.ok(rs.payload.readUInt16LE(0) < 800 && rs.payload.readUInt16LE(0) > 200);
  // mapping still right after the resize
  const m0 = relay.received.length;
  const pt2 = await clientPointOf(page, 123, 45);
  await page.mouse.click(pt2.x, pt2.y);
  const d2 = await relay.waitForFrame((f) => f.type === I.POINTER_DOWN, { from: m0 });
  assert.deepEqual([d2.payload.readUInt16LE(0), d2.payload.readUInt16LE(2)], [123, 45]);
  await page.setViewportSize({ width: 1000, height: 700 });
});

vtest('gamepad and MIDI input frames on the wire: FLAG_INPUT, their exact payloads', async () => {
  relay.received = [];
  const n = relay.connections;
  page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.addInitScript(stubDevices);
  await page.goto(`${relay.base}/view/devices?midi=1`);
  await relay.waitForConnections(n + 1);
  await waitInPage(page, () => window.dsViewer && dsViewer.connected && dsViewer.midi.state === 'on');
  const from = relay.received.length;
  await page.evaluate(() => {
    dsTestPad(2, [0, 0, 0, -0.25], [0, 0, 0, 0, 0, 0, { pressed: false, value: 0.2 }]);
    dsTestMidi([0xd1, 0x33]);
  });
  const axis = await relay.waitForFrame((f) => f.type === I.GAMEPAD_AXIS, { from });
  assert.equal(axis.flags & FLAG_INPUT, FLAG_INPUT);
  assert.deepEqual([axis.width, axis.height], [0, 0]);
  // axis 3 of gamepad 2: 2 * 32 + 3; -0.25 as float32 little-endian
  assert.deepEqual(Array.from(axis.payload), [67, 0x00, 0x00, 0x80, 0xbe]);
  const button = await relay.waitForFrame((f) => f.type === I.GAMEPAD_BUTTON, { from });
  assert.equal(button.flags & FLAG_INPUT, FLAG_INPUT);
  assert.deepEqual(Array.from(button.payload), [70, 51]);     // 0.2 * 255
  const m = await relay.waitForFrame((f) => f.type === I.MIDI, { from });
  assert.equal(m.flags & FLAG_INPUT, FLAG_INPUT);
  assert.deepEqual(Array.from(m.payload), [0xd1, 0x33, 0]);   // channel pressure: d2 0
  assert.deepEqual(page.errors, []);
});

vtest('AudioPcm plays after a user gesture', async () => {
  const ws = await openViewer('audio');
  const rate = 48000, channels = 2, n = 960;
  const pcm = Buffer.alloc(n * channels * 4);
  for (let i = 0; i < n; i++) {
    const v = Math.sin(2 * Math.PI * 440 * i / rate) * 0.2;
    pcm.writeFloatLE(v, i * 8);
    pcm.writeFloatLE(v, i * 8 + 4);
  }
  const sendAudio = (k) => ws.send(packFrame({ type: T.AUDIO_PCM, seq: k, width: channels, height: rate }, pcm));
  sendAudio(0);
  await waitInPage(page, () => dsViewer.audio.frames === 1);
  assert.equal(await page.isVisible('#sound'), true, 'sound button offered');
  assert.equal(await page.evaluate(() => dsViewer.audio.scheduled), 0, 'no sound before a gesture');
  const box = await page.locator('#sound').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await waitInPage(page, () => dsViewer.audio.context === 'running');
  for (let k = 1; k <= 5; k++)
    sendAudio(k);
  await waitInPage(page, () => dsViewer.audio.scheduled >= 5);
  assert.equal(await page.isVisible('#sound'), false);
  // through the AudioWorklet, which plays once its jitter buffer is full
  assert.equal(await page.evaluate(() => dsViewer.audio.path), 'worklet');
  await waitInPage(page, () => dsViewer.audio.queuedMs > 0 || dsViewer.audio.underruns > 0);
});

vtest('index lists channels from /channels, in any of the usual shapes', async () => {
  relay.channels = [
    { name: 'demo', sources: 1, receivers: 2, frames: 1200, bytes: 3500000, last_frame_age_ms: 12 },
    { name: 'idle-one', sources: 0, receivers: 0 },
  ];
  page = await browser.context.newPage();
  // the list is fetched every 2 s: the page's clock is moved on instead
  await page.clock.install();
  await page.goto(relay.base + '/');
  await page.waitForSelector('#channels tbody tr');
  const rows = await page.$$eval('#channels tbody tr', (rs) => rs.map((r) => Array.from(r.cells).map((c) => c.textContent)));
  assert.deepEqual(rows[0].slice(0, 4), ['demo', 'live', '2', '1200']);
  assert.deepEqual(rows[1].slice(0, 3), ['idle-one', 'no source', '0']);
  assert.equal(await page.getAttribute('#channels a', 'href'), '/view/demo');

  relay.channels = { channels: { cams: { receivers: 1 } } };
  await page.clock.fastForward(2000);
  await page.waitForFunction(() => document.querySelector('#channels a')?.textContent === 'cams', null, { timeout: 5000 });
  relay.channels = [];
  await page.clock.fastForward(2000);
  await page.waitForSelector('#no-channels', { state: 'visible', timeout: 5000 });
});
