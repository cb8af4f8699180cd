// The viewer's EncodedVideo (0x05) and Opus (AudioCompressed) through
// WebCodecs, and its sound through the AudioWorklet: real access units
// and Opus packets made by gst-launch-1.0 encoders (lib/media.mjs),
// wrapped in ds-stream frames here and sent to the page by the stand-in
// relay (lib/mock-relay.mjs serves relay/viewer/ as ds-relay does). The
// relay of this branch does not take EncodedVideo yet (issue 14 item 1,
// on another branch): the last test sends it through the real ds-relay
// and skips, saying so, while the relay refuses the frames.
//
// Checks: H.264, VP8, VP9 and AV1 bars on the canvas (lossy: colours
// within a tolerance), a delta before any keyframe skipped without a
// decoder error, a seq gap waiting for the next keyframe and asking for
// one, H.265 named as not decodable here, an Opus tone whose spectrum
// peaks at 440 Hz, pictures presented on the audio clock (the A/V offset
// printed and held to 40 ms), the secure-context message on a page
// served from a non-localhost name, and the stats overlay.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { MockRelay } from './lib/mock-relay.mjs';
import { Relay, RELAY } from './lib/relay.mjs';
import { Publisher } from './lib/publisher.mjs';
import { launch, waitInPage, canvasPixel, screenshotOnFailure } from './lib/browser.mjs';
import { packFrame, picture, T, I, FLAG_KEYFRAME } from './lib/frames.mjs';
import { ENCODERS, encodeBars, opusTone, videoFrame, opusFrame, elementMissing } from './lib/media.mjs';

let relay;
let browser;
let page;
const units = {};

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

function vtest (name, opts, fn) {
  if (typeof opts === 'function')
    [opts, fn] = [{}, opts];
  test(name, opts, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      await screenshotOnFailure(t, page);
      if (page && !page.isClosed())
        console.error('# dsViewer.video ' + JSON.stringify(await page.evaluate(() => dsViewer.video).catch(() => null)));
      throw e;
    }
  });
}

// the access units of encoder @name, made once
function unitsOf (name) {
  if (!units[name])
    units[name] = encodeBars(name);
  return units[name];
}

async function openViewer (channel, b = browser, base = relay.base) {
  relay.received = [];
  const n = relay.connections;
  page = await b.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.goto(`${base}/view/${channel}`);
  const ws = await relay.waitForConnections(n + 1);
  await waitInPage(page, () => window.dsViewer && window.dsViewer.connected);
  return ws;
}

// videotestsrc pattern=smpte: seven 75% bars across the top two thirds;
// after a lossy codec and the YUV→RGB conversion, within a tolerance
const SMPTE_TOP = [
  ['white', [1, 1, 1]], ['yellow', [1, 1, 0]], ['cyan', [0, 1, 1]], ['green', [0, 1, 0]],
  ['magenta', [1, 0, 1]], ['red', [1, 0, 0]], ['blue', [0, 0, 1]],
];

async function smpteBarsWrong (width = 320) {
  for (let i = 0; i < SMPTE_TOP.length; i++) {
    const [name, on] = SMPTE_TOP[i];
    const x = Math.floor((i + 0.5) * width / 7);
    const px = await canvasPixel(page, x, 40);
    for (let c = 0; c < 3; c++)
      if (on[c] ? px[c] < 150 : px[c] > 50)
        return `bar ${name} at x=${x}: channel ${c} is ${px[c]} (${px})`;
  }
  return null;
}

// the canvas shows the bars (it is redrawn as frames come)
async function waitForBars () {
  const t0 = Date.now();
  for (;;) {
    const wrong = await smpteBarsWrong();
    if (!wrong)
      return;
    if (Date.now() - t0 > 10000)
      assert.fail(wrong);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const FRAME_MS = 1000 / 15;

for (const [name, codecRe] of [['h264', /^avc1\.64/], ['vp8', /^vp8$/], ['vp9', /^vp09\.00\./], ['av1', /^av01\.0\./]]) {
  const enc = ENCODERS[name];
  vtest(`${enc.element} access units play: the SMPTE bars on the canvas`, { skip: elementMissing(enc.element) || false }, async () => {
    const list = unitsOf(name);
    const ws = await openViewer('v-' + name);
    list.forEach((u, i) => ws.send(videoFrame(enc.codec, u, i, Math.round(i * FRAME_MS))));
    // the newest unit's picture is shown (units of a GOP that came while
    // the browser was asked about the codec may be dropped at the next
    // keyframe, as for a late joiner)
    await waitInPage(page, (ts) => dsViewer.video.lastTimestamp === ts, Math.round((list.length - 1) * FRAME_MS), 20000);
    await waitForBars();
    const v = await page.evaluate(() => dsViewer.video);
    assert.match(v.codecString, codecRe);
    assert.equal(v.errors, 0, v.lastError);
    assert.equal(v.skipped, 0);
    assert.deepEqual(await page.evaluate(() => [dsViewer.width, dsViewer.height]), [320, 240]);
    assert.equal(await page.isVisible('#notice'), false);
    assert.deepEqual(page.errors, []);
  });
}

vtest('a keyframe of another size resizes the canvas', { skip: elementMissing('vp8enc') || false }, async () => {
  const big = unitsOf('vp8');
  const small = encodeBars('vp8', 15, 160, 120);
  const ws = await openViewer('v-resize');
  big.slice(0, 15).forEach((u, i) => ws.send(videoFrame(3, u, i, Math.round(i * FRAME_MS))));
  // sent at once, a burst: its newest picture is drawn, not each
  await waitInPage(page, (ts) => dsViewer.width === 320 && dsViewer.video.lastDrawn === ts,
    Math.round(14 * FRAME_MS));
  small.forEach((u, i) => ws.send(videoFrame(3, u, 15 + i, Math.round((15 + i) * FRAME_MS), 160, 120)));
  await waitInPage(page, () => dsViewer.width === 160 && dsViewer.height === 120);
  assert.deepEqual(await page.evaluate(() => {
    const c = document.getElementById('picture');
    return [c.width, c.height];
  }), [160, 120]);
  // the status line follows (redrawn at most every 100 ms)
  await page.waitForFunction(() => document.getElementById('st-size').textContent === '160×120', null, { timeout: 5000 });
  // the bars at the new size (white at the left, blue at the right)
  const white = await canvasPixel(page, 10, 20);
  const blue = await canvasPixel(page, 150, 20);
  assert.ok(white.slice(0, 3).every((c) => c > 150), String(white));
  assert.ok(blue[2] > 150 && blue[0] < 50 && blue[1] < 50, String(blue));
  assert.equal(await page.evaluate(() => dsViewer.video.errors), 0);
});

vtest('a delta unit before any keyframe is skipped, without a decoder error', { skip: elementMissing('x264enc') || false }, async () => {
  const list = unitsOf('h264');
  const ws = await openViewer('v-skip');
  // units 1..4 (deltas) first: nothing to decode them from
  for (let i = 1; i <= 4; i++)
    ws.send(videoFrame(1, list[i], i, Math.round(i * FRAME_MS)));
  await waitInPage(page, () => dsViewer.video.skipped === 4);
  // then the keyframe of the next GOP and what follows it (seq goes on)
  for (let i = 15; i < 30; i++)
    ws.send(videoFrame(1, list[i], i, Math.round(i * FRAME_MS)));
  await waitInPage(page, (ts) => dsViewer.video.lastTimestamp === ts, Math.round(29 * FRAME_MS), 15000);
  await waitForBars();
  const v = await page.evaluate(() => dsViewer.video);
  assert.equal(v.errors, 0, v.lastError);
  assert.equal(v.skipped, 4);
});

vtest('a seq gap skips to the next keyframe and asks the source for one', { skip: elementMissing('x264enc') || false }, async () => {
  const list = unitsOf('h264');
  const ws = await openViewer('v-gap');
  for (let i = 0; i < 5; i++)
    ws.send(videoFrame(1, list[i], i, Math.round(i * FRAME_MS)));
  await waitInPage(page, () => dsViewer.video.decoded >= 5);
  const r0 = relay.received.length;
  // unit 5 is lost: 6..14 refer to it
  for (let i = 6; i < 15; i++)
    ws.send(videoFrame(1, list[i], i, Math.round(i * FRAME_MS)));
  await relay.waitForFrame((f) => f.type === I.KEYFRAME_REQUEST, { from: r0 });
  await waitInPage(page, () => dsViewer.video.skipped === 9 && dsViewer.waitingForKeyframe);
  ws.send(videoFrame(1, list[15], 15, Math.round(15 * FRAME_MS)));
  await waitInPage(page, () => dsViewer.video.decoded >= 6 && !dsViewer.waitingForKeyframe);
  const v = await page.evaluate(() => dsViewer.video);
  assert.equal(v.errors, 0, v.lastError);
  assert.equal(v.resets, 1);
});

vtest('H.265: the page says this browser cannot decode it', { skip: elementMissing('x265enc') || false }, async () => {
  const list = unitsOf('h265');
  const ws = await openViewer('v-h265');
  list.slice(0, 5).forEach((u, i) => ws.send(videoFrame(2, u, i, Math.round(i * FRAME_MS))));
  await page.waitForFunction(() => /this browser cannot decode H\.265 \(codec hev1\.[^)]*\)/i
    .test(document.getElementById('notice').textContent), null, { timeout: 10000 });
  assert.equal(await page.isVisible('#notice'), true);
  const v = await page.evaluate(() => dsViewer.video);
  assert.match(v.codecString, /^hev1\.1\.6\.L\d+\.B0$/);
  assert.equal(v.decoded, 0);
  // no keyframe would help: the page does not keep asking for one
  list.slice(5, 20).forEach((u, i) => ws.send(videoFrame(2, u, i + 5, Math.round((i + 5) * FRAME_MS))));
  await waitInPage(page, () => dsViewer.video.units === 20);
  assert.equal(await page.evaluate(() => dsViewer.waitingForKeyframe), false);
  assert.ok(relay.received.filter((f) => f.type === I.KEYFRAME_REQUEST).length <= 1);
});

// Clicks "enable sound" (a user gesture) once the page offers it
async function enableSound () {
  await page.waitForSelector('#sound', { state: 'visible', timeout: 10000 });
  const box = await page.locator('#sound').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await waitInPage(page, () => dsViewer.audio.context === 'running' && dsViewer.audio.path === 'worklet');
}

// An AnalyserNode on the worklet's output (test hook: dsViewer.hooks)
async function attachAnalyser () {
  await page.evaluate(() => {
    const a = dsViewer.hooks.audio;
    const analyser = a.ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    a.node.connect(analyser);
    window.analyser = analyser;
  });
}

// The frequency of the spectrum's peak, Hz, and its level in dB
function spectrumPeak () {
  return page.evaluate(() => {
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++)
      if (bins[i] > bins[best])
        best = i;
    return { hz: best * analyser.context.sampleRate / analyser.fftSize, db: bins[best] };
  });
}

// Sends @frames (functions of the send time) in real time, one per @ms
function paced (count, ms, send) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let i = 0;
    const tick = () => {
      while (i < count && Date.now() - t0 >= i * ms)
        send(i++);
      if (i < count)
        setTimeout(tick, 5);
      else
        resolve();
    };
    tick();
  });
}

vtest('an Opus tone plays through the AudioWorklet: its spectrum peaks at 440 Hz', { skip: elementMissing('opusenc') || false }, async () => {
  const packets = opusTone(440, 150);
  const ws = await openViewer('a-opus');
  ws.send(opusFrame(packets[0], 0, 0));
  await enableSound();
  await attachAnalyser();
  let peak = null;
  const sending = paced(packets.length - 1, 20, (i) => ws.send(opusFrame(packets[i + 1], i + 1, (i + 1) * 20)));
  // the tone is heard once the jitter buffer has filled: the peak is read
  // while it plays
  const t0 = Date.now();
  while (Date.now() - t0 < 8000) {
    await new Promise((r) => setTimeout(r, 100));
    const p = await spectrumPeak();
    if (p.db > -60 && (peak = p) && Math.abs(p.hz - 440) <= 12)
      break;
  }
  await sending;
  const a = await page.evaluate(() => dsViewer.audio);
  assert.ok(peak, 'no sound came out of the worklet: ' + JSON.stringify(a));
  assert.ok(Math.abs(peak.hz - 440) <= 12, `spectrum peak at ${peak.hz} Hz (${peak.db} dB), not 440`);
  assert.ok(a.opusDecoded >= 20, JSON.stringify(a));
  assert.equal(a.opusErrors, 0, a.lastError);
});

vtest('AudioPcm plays through the AudioWorklet: its spectrum peaks at 440 Hz', async () => {
  const ws = await openViewer('a-pcm');
  const rate = 48000, n = 960;
  const chunk = (k) => {
    const pcm = Buffer.alloc(n * 2 * 4);
    for (let i = 0; i < n; i++) {
      const v = Math.sin(2 * Math.PI * 440 * (k * n + i) / rate) * 0.3;
      pcm.writeFloatLE(v, i * 8);
      pcm.writeFloatLE(v, i * 8 + 4);
    }
    return packFrame({ type: T.AUDIO_PCM, seq: k, timestamp: k * 20, width: 2, height: rate }, pcm);
  };
  ws.send(chunk(0));
  await enableSound();
  await attachAnalyser();
  let peak = null;
  const sending = paced(100, 20, (k) => ws.send(chunk(k + 1)));
  const t0 = Date.now();
  while (Date.now() - t0 < 5000) {
    await new Promise((r) => setTimeout(r, 100));
    const p = await spectrumPeak();
    if (p.db > -60 && (peak = p) && Math.abs(p.hz - 440) <= 12)
      break;
  }
  await sending;
  assert.ok(peak && Math.abs(peak.hz - 440) <= 12, 'peak ' + JSON.stringify(peak));
});

vtest('pictures are presented on the audio clock: A/V offset within 40 ms', { skip: elementMissing('x264enc') || false }, async () => {
  const list = unitsOf('h264');
  const ws = await openViewer('av-sync');
  const rate = 48000, n = 960;             // 20 ms of sound per frame
  const pcm = Buffer.alloc(n * 2 * 4);
  for (let i = 0; i < n * 2; i++)
    pcm.writeFloatLE(Math.sin(2 * Math.PI * 440 * Math.floor(i / 2) / rate) * 0.1, i * 4);
  ws.send(packFrame({ type: T.AUDIO_PCM, seq: 0, timestamp: 0, width: 2, height: rate }, pcm));
  await enableSound();
  // 4 s of sound and pictures from one sender clock, sent in real time:
  // sound every 20 ms, a picture every 66.7 ms (the 30 units looped)
  const seconds = 4;
  const audio = paced(seconds * 50, 20, (k) =>
    ws.send(packFrame({ type: T.AUDIO_PCM, seq: k + 1, timestamp: (k + 1) * 20, width: 2, height: rate }, pcm)));
  const video = paced(seconds * 15, FRAME_MS, (i) =>
    ws.send(videoFrame(1, list[i % list.length], i, Math.round(i * FRAME_MS))));
  await Promise.all([audio, video]);
  await waitInPage(page, () => dsViewer.video.decoded >= 55, undefined, 10000);
  const v = await page.evaluate(() => dsViewer.video);
  const offsets = v.sync.slice().sort((a, b) => a - b);
  const median = offsets[Math.floor(offsets.length / 2)];
  const worst = Math.max(...offsets.map(Math.abs));
  console.log(`# A/V offset (audio clock − picture timestamp at presentation) over ${offsets.length} pictures: ` +
    `median ${median.toFixed(1)} ms, min ${offsets[0].toFixed(1)}, max ${offsets[offsets.length - 1].toFixed(1)}; ` +
    `synced ${v.synced}, as they came ${v.unsynced}, held ${v.held}, late ${v.late}`);
  assert.ok(v.synced >= 30, `only ${v.synced} pictures presented on the audio clock (${v.unsynced} not)`);
  // the sound waits in its jitter buffer (80 ms): pictures decoded at once
  // would be shown that much early; they waited for the clock instead
  assert.ok(v.held >= 30, `only ${v.held} pictures waited for their time`);
  assert.ok(Math.abs(median) <= 40, `median A/V offset ${median} ms`);
  // a picture decoded after its time (the viewer counts it as late: a
  // busy machine, not the clock) is shown at once, as late as it came;
  // beyond those, one in ten may miss: on the shared 2-core machine
  // under a full test run the page's frame callbacks come up to 60 ms
  // late (3 of 57 over 40 ms in one CI run, median 14 ms). Without the
  // clock every picture would be ~80 ms early (the jitter buffer).
  assert.ok(worst <= 40 || offsets.filter((o) => Math.abs(o) > 40).length <= offsets.length / 10 + v.late,
    `A/V offsets over 40 ms: ${offsets.filter((o) => Math.abs(o) > 40).join(', ')} (late pictures: ${v.late})`);
});

vtest('the stats overlay toggles with its button and Alt+S, and shows the codec', { skip: elementMissing('x264enc') || false }, async () => {
  const list = unitsOf('h264');
  const ws = await openViewer('v-stats');
  list.forEach((u, i) => ws.send(videoFrame(1, u, i, Math.round(i * FRAME_MS))));
  await waitInPage(page, (ts) => dsViewer.video.lastTimestamp === ts, Math.round((list.length - 1) * FRAME_MS), 15000);
  assert.equal(await page.isVisible('#stats'), false);
  await page.click('#stats-button');
  await page.waitForSelector('#stats', { state: 'visible', timeout: 5000 });
  const rows = await page.$$eval('#stats tr', (rs) => Object.fromEntries(rs.map((r) => [r.cells[0].textContent, r.cells[1].textContent])));
  assert.match(rows.codec, /^H\.264 \(avc1\.64/);
  assert.equal(rows.size, '320×240');
  for (const k of ['fps', 'bitrate', 'RTT', 'dropped', 'late', 'decode'])
    assert.ok(k in rows, 'no ' + k + ' in ' + JSON.stringify(rows));
  assert.match(rows.decode, /^\d+\.\d ms$/);
  // Alt+S on the picture: hides it, and is not sent to the source
  const r0 = relay.received.length;
  await page.focus('#picture');
  await page.keyboard.press('Alt+KeyS');
  await page.waitForSelector('#stats', { state: 'hidden', timeout: 5000 });
  await page.keyboard.press('Alt+KeyS');
  await page.waitForSelector('#stats', { state: 'visible', timeout: 5000 });
  assert.equal(relay.received.slice(r0).filter((f) => f.type === I.KEY_DOWN && f.payload.readUInt16LE(0) === 83).length, 0);
});

vtest('outside a secure context the page says what it cannot play and how to fix it, and plays the rest', async () => {
  // a name that is not localhost, mapped to the loopback: http:// from it
  // is not a secure context (127.0.0.0/8 and localhost would be)
  const insecure = await launch({ args: ['--host-resolver-rules=MAP viewer.test 127.0.0.1'] });
  try {
    const ws = await openViewer('insecure', insecure, `http://viewer.test:${relay.port}`);
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    await page.waitForSelector('#secure-notice', { state: 'visible', timeout: 5000 });
    const text = await page.textContent('#secure-notice');
    assert.match(text, /not a secure context/);
    assert.match(text, /VideoDecoder/);
    assert.match(text, /AudioWorklet/);
    assert.match(text, /https \(ds-relay --tls-cert\/--tls-key, see docs\/relay\.md\) or on localhost/);
    // pictures it decodes itself still show
    const w = 32, h = 16;
    ws.send(packFrame({ type: T.PIXELS, flags: FLAG_KEYFRAME, width: w, height: h }, picture(w, h, () => [255, 0, 0])));
    await waitInPage(page, () => dsViewer.pictures >= 1);
    assert.deepEqual(await canvasPixel(page, 3, 3), [255, 0, 0, 255]);
    // PCM on the old path
    const pcm = Buffer.alloc(960 * 2 * 4);
    ws.send(packFrame({ type: T.AUDIO_PCM, seq: 0, width: 2, height: 48000 }, pcm));
    await page.waitForSelector('#sound', { state: 'visible', timeout: 5000 });
    const box = await page.locator('#sound').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await waitInPage(page, () => dsViewer.audio.context === 'running');
    for (let k = 1; k <= 3; k++)
      ws.send(packFrame({ type: T.AUDIO_PCM, seq: k, width: 2, height: 48000 }, pcm));
    await waitInPage(page, () => dsViewer.audio.scheduled >= 3 && dsViewer.audio.path === 'buffers');
    // encoded video: said plainly
    ws.send(videoFrame(1, { unit: Buffer.from([0, 0, 0, 1, 0x67, 0x64, 0, 0x0d, 0, 0, 0, 1, 0x65, 0x88]), key: true }, 0, 0));
    await page.waitForFunction(() => /cannot decode H\.264 video: WebCodecs exists only in a secure context/
      .test(document.getElementById('notice').textContent), null, { timeout: 5000 });
    assert.deepEqual(page.errors, []);
  } finally {
    await page?.close().catch(() => {});
    page = null;
    await insecure.close();
  }
});

vtest('through the real ds-relay: H.264 access units play', { skip: (!RELAY && 'DS_RELAY is not set') || elementMissing('x264enc') || false }, async (t) => {
  const list = unitsOf('h264');
  const real = await new Relay().start();
  let pub;
  try {
    pub = await new Publisher(`${real.ws}/peer/real-h264`).open();
    page = await browser.context.newPage();
    await page.goto(`${real.base}/view/real-h264`);
    await waitInPage(page, () => window.dsViewer && window.dsViewer.connected);
    const malformed = async () => Number(((await (await fetch(real.base + '/metrics')).text())
      .match(/^ds_relay_malformed_frames_total (\d+)/m) || [0, 0])[1]);
    const m0 = await malformed();
    list.forEach((u, i) => pub.send(videoFrame(1, u, i, Math.round(i * FRAME_MS))));
    const t0 = Date.now();
    for (;;) {
      if (await page.evaluate(() => dsViewer.video.units > 0))
        break;
      if (await malformed() > m0) {
        t.skip('this ds-relay refuses EncodedVideo (0x05) as malformed: the protocol library does not know it yet (issue 14 item 1)');
        return;
      }
      assert.ok(Date.now() - t0 < 10000, 'no EncodedVideo reached the viewer');
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitInPage(page, (ts) => dsViewer.video.lastTimestamp === ts, Math.round((list.length - 1) * FRAME_MS), 15000);
    await waitForBars();
  } finally {
    pub?.close();
    await real.stop();
  }
});
