// The viewer's EncodedVideo and sound modules in node alone (no
// Chromium): the codec strings core/video.js derives from a keyframe,
// VideoPlayer's decisions against a stand-in VideoDecoder,
// FramePresenter's decisions against an audio clock, Display's choice
// of drawImage or copyTo for VideoFrames, and the jitter
// buffer of the AudioWorklet processor (core/audio-processor.js, run
// with stand-ins for the worklet's globals).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VIEWER = path.resolve(HERE, '..', '..', 'relay', 'viewer');
const video = await import(pathToFileURL(path.join(VIEWER, 'core', 'video.js')));
const { FRAME, validateFrame, frameSeqStream, SEQ_STREAM } =
  await import(pathToFileURL(path.join(VIEWER, 'core', 'protocol.js')));
const { StreamDecoder } = await import(pathToFileURL(path.join(VIEWER, 'core', 'decoder.js')));

const bytes = (hex) => Uint8Array.from(hex.replace(/\s+/g, '').match(/../g).map((h) => parseInt(h, 16)));

test('H.264: avc1.PPCCLL from the first SPS, after an AUD, 3- and 4-byte start codes', () => {
  // AUD, SPS (High, constraints 0, level 1.3), PPS, IDR (x264enc)
  const au = bytes('00000001 0910 00000001 6764000d acd9 000001 68ebe3cb 000001 65888400');
  assert.equal(video.h264CodecString(au), 'avc1.64000D');
  assert.equal(video.codecString(video.CODEC.H264, bytes('000001 6742c01e 000001 65')), 'avc1.42C01E');
  assert.equal(video.h264CodecString(bytes('000001 65888400')), null, 'no SPS: no string');
  assert.deepEqual(video.annexBUnits(bytes('00000001 09 00000001 67 64')), [[4, 5], [9, 11]]);
});

test('H.265: hev1 string from the SPS (profile, compatibility, tier, level), emulation prevention removed', () => {
  // x265enc's SPS of a 320x240 Main stream: profile 1, compatibility 0x60000000, level 60 (L2)
  const sps = bytes('00000001 4201 01 01 60000000 900000030000 03003c a0 0a 08 0f');
  assert.equal(video.h265CodecString(sps), 'hev1.1.6.L60.B0');
  assert.equal(video.h265CodecString(bytes('00000001 2601af')), 'hev1.1.6.L93.B0', 'no SPS: Main');
});

test('VP9 and AV1 strings from the frame and sequence headers', () => {
  assert.equal(video.vp9CodecString(bytes('824983')), 'vp09.00.10.08');
  assert.equal(video.vp9CodecString(bytes('a24983')), 'vp09.01.10.08');
  // av1enc: temporal delimiter, then the sequence header (profile 0, level 0)
  assert.equal(video.av1CodecString(bytes('1200 0a0c 000000043cffbf81b5f20432')), 'av01.0.00M.08');
  // reduced_still_picture_header: the level right after; profile 1, level 13 (5.1)
  assert.equal(video.av1CodecString(bytes('0a02 3b40')), 'av01.1.13M.08');
  assert.equal(video.av1CodecString(bytes('3210 00')), 'av01.0.04M.08', 'no sequence header');
  assert.equal(video.codecString(video.CODEC.VP8, bytes('00')), 'vp8');
  assert.equal(video.codecString(9, bytes('00')), null);
});

test('EncodedVideo in the protocol module and the stream model', () => {
  assert.equal(FRAME.ENCODED_VIDEO, 0x05);
  assert.equal(frameSeqStream(FRAME.ENCODED_VIDEO), SEQ_STREAM.PICTURES);
  assert.equal(validateFrame({ type: 5, flags: 0, payloadLen: 2 }) !== null, true);
  assert.equal(validateFrame({ type: 5, flags: 0, payloadLen: 3 }), null);
  const d = new StreamDecoder();
  const frame = (seq, flags, payload) => {
    const f = new Uint8Array(16 + payload.length);
    const v = new DataView(f.buffer);
    v.setUint8(0, 5);
    v.setUint8(1, flags);
    v.setUint16(2, seq, true);
    v.setUint16(8, 64, true);
    v.setUint16(10, 48, true);
    v.setUint32(12, payload.length, true);
    f.set(payload, 16);
    return f;
  };
  let r = d.push(frame(0, 2, bytes('0100 00000001 65')));
  assert.equal(r.kind, 'unit');
  assert.equal(r.codec, 1);
  assert.equal(r.keyframe, true);
  assert.deepEqual(Array.from(r.unit), [0, 0, 0, 1, 0x65]);
  r = d.push(frame(1, 0, bytes('0100 00000001 41')));
  assert.equal(r.kind, 'unit', 'a unit after its keyframe');
  r = d.push(frame(3, 0, bytes('0100 11')));
  assert.equal(r.missing, 1, 'a seq gap on the picture stream');
  assert.equal(r.kind, 'dropped', 'a unit after a gap waits for the next keyframe');
  assert.equal(r.lost, true);
  r = d.push(frame(4, 4, bytes('0300 11')));
  assert.equal(r.kind, 'malformed', 'FLAG_COMPRESSED');
  for (const [hex, why] of [['0900 11', 'unknown codec'], ['0101 11', 'reserved byte'], ['0100', 'no unit']]) {
    r = d.push(frame(5, 2, bytes(hex)));
    assert.equal(r.kind, 'malformed', why);
  }
});

// FramePresenter with stand-in frames and a clock the test moves
class FakeFrame {
  constructor (ms) {
    this.timestamp = ms * 1000;
    this.closed = false;
  }

  close () {
    assert.equal(this.closed, false, `frame ${this.timestamp / 1000} closed twice`);
    this.closed = true;
  }
}

// a draw hook that refuses closed frames
const drawInto = (list) => (f) => {
  assert.equal(f.closed, false, `frame ${f.timestamp / 1000} drawn after close`);
  list.push(f.timestamp / 1000);
};

test('FramePresenter: held until due on the audio clock, late ones dropped, as they come without sound', () => {
  const ticks = [];
  globalThis.document = { hidden: false };
  globalThis.requestAnimationFrame = (fn) => ticks.push(fn);
  const run = () => ticks.splice(0).forEach((fn) => fn());
  let clock = null;
  const drawn = [];
  const presented = [];
  const stats = { presented: 0, late: 0, held: 0, synced: 0, unsynced: 0 };
  const p = new video.FramePresenter({
    draw: (f) => drawn.push(f.timestamp / 1000),
    clock: () => clock,
    stats,
    onPresented: (ts, c) => presented.push([ts, c]),
  });
  // no sound: shown at once
  const f0 = new FakeFrame(0);
  p.push(f0);
  assert.deepEqual(drawn, [0]);
  assert.equal(f0.closed, true);
  // sound at 100 ms: frames at 133, 167, 200 wait
  clock = 100;
  const later = [133, 167, 200].map((ms) => new FakeFrame(ms));
  later.forEach((f) => p.push(f));
  run();
  assert.deepEqual(drawn, [0]);
  clock = 140;
  run();
  assert.deepEqual(drawn, [0, 133]);
  // the clock jumps past two: the older one is late, the newer shown
  clock = 205;
  run();
  assert.deepEqual(drawn, [0, 133, 200]);
  assert.equal(stats.late, 1);
  assert.ok(later.every((f) => f.closed));
  assert.deepEqual(presented.slice(1), [[133, 140], [200, 205]]);
  // a frame far from the clock (another timeline) is not held
  p.push(new FakeFrame(50000));
  assert.deepEqual(drawn, [0, 133, 200, 50000]);
  assert.equal(stats.synced, 2);
  assert.equal(stats.held, 3);
  assert.equal(stats.unsynced, 2);
  delete globalThis.document;
  delete globalThis.requestAnimationFrame;
});

test('FramePresenter: a joiner\'s catch-up burst draws only its newest frame, then frames as they come', (t) => {
  const ticks = [];
  globalThis.document = { hidden: false };
  globalThis.requestAnimationFrame = (fn) => ticks.push(fn);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const run = () => ticks.splice(0).forEach((fn) => fn());
  const drawn = [];
  const stats = { presented: 0, late: 0, held: 0, synced: 0, unsynced: 0 };
  let inFlight = [];            // timestamps (ms) the decoder still has
  let clock = null;
  const p = new video.FramePresenter({
    draw: drawInto(drawn),
    clock: () => clock,
    stats,
    onPresented: () => {},
    behind: (f) => Math.max(0, ...inFlight.map((ms) => ms - f.timestamp / 1000)),
  });
  // the keyframe and 29 units since, decoded at once: none drawn while
  // newer ones come (not even at a display frame: drawing would hold up
  // the decoder), the newest when the burst ends; only the newest is
  // kept meanwhile
  inFlight = Array.from({ length: 30 }, (_, i) => i * 33);
  const burst = inFlight.map((ms) => new FakeFrame(ms));
  burst.slice(0, 10).forEach((f) => p.push(f));
  run();
  assert.equal(ticks.length, 0, 'no display-frame callbacks during a burst');
  assert.deepEqual(drawn, []);
  assert.ok(burst.slice(0, 9).every((f) => f.closed), 'only the newest is held');
  assert.equal(burst[9].closed, false);
  // the last three (66 ms and less behind) end it, drawn as they come
  burst.slice(10).forEach((f) => p.push(f));
  assert.deepEqual(drawn, [27 * 33, 28 * 33, 29 * 33]);
  assert.ok(burst.every((f) => f.closed));
  assert.equal(stats.late, 27);
  assert.equal(stats.presented, 3);
  // live frames: each as it comes
  inFlight = [];
  p.push(new FakeFrame(1000));
  assert.deepEqual(drawn, [891, 924, 957, 1000]);
  // a decoder that always holds a frame or two is not in a burst
  inFlight = [1033, 1066];
  const steady = [new FakeFrame(1010), new FakeFrame(1020)];
  steady.forEach((f) => p.push(f));
  assert.deepEqual(drawn.slice(-2), [1010, 1020]);
  // a long burst shows its newest every 200 ms; one cut short (the
  // decoder dropped its last units) shows its newest within 200 ms
  inFlight = [1500];
  const long = [1033, 1066, 1100].map((ms) => new FakeFrame(ms));
  p.push(long[0]);
  t.mock.timers.tick(150);
  p.push(long[1]);
  run();
  assert.deepEqual(drawn.slice(-1), [1020]);
  t.mock.timers.tick(50);
  assert.deepEqual(drawn.slice(-1), [1066]);
  p.push(long[2]);
  t.mock.timers.tick(199);
  assert.deepEqual(drawn.slice(-1), [1066]);
  t.mock.timers.tick(1);
  assert.deepEqual(drawn.slice(-1), [1100]);
  const before = drawn.length;
  t.mock.timers.tick(1000);
  assert.equal(drawn.length, before);
  assert.ok(long.every((f) => f.closed));
  assert.equal(p.burst, false, 'over once nothing came for 200 ms');
  // the next live frame is drawn as it comes
  inFlight = [];
  p.push(new FakeFrame(1166));
  assert.deepEqual(drawn.slice(-1), [1166]);
  // a burst cleared (a new connection) draws nothing later
  inFlight = [3000];
  const cut = new FakeFrame(2000);
  p.push(cut);
  p.clear();
  assert.equal(cut.closed, true);
  t.mock.timers.tick(1000);
  assert.deepEqual(drawn.slice(-1), [1166]);
  // with sound: the due frames of a burst are a burst's too
  clock = 5000;
  inFlight = [4900];
  const due = [4000, 4033, 4066].map((ms) => new FakeFrame(ms));
  due.forEach((f) => p.push(f));
  run();
  assert.deepEqual(drawn.slice(-1), [1166], 'drawn while the burst decodes');
  assert.ok(due.slice(0, 2).every((f) => f.closed));
  inFlight = [];
  const live = new FakeFrame(4990);
  p.push(live);
  run();
  assert.deepEqual(drawn.slice(-2), [4066, 4990]);
  assert.ok(due.every((f) => f.closed) && live.closed);
  delete globalThis.document;
  delete globalThis.requestAnimationFrame;
});

test('VideoPlayer.behind: how late a frame comes against the live stream', async () => {
  const decoders = [];
  globalThis.VideoDecoder = class {
    static isConfigSupported () { return Promise.resolve({ supported: true }); }
    constructor (init) { this.init = init; this.decodeQueueSize = 0; decoders.push(this); }
    configure () { this.state = 'configured'; }
    decode () {}
    reset () { this.state = 'unconfigured'; }
  };
  globalThis.EncodedVideoChunk = class { constructor (init) { Object.assign(this, init); } };
  let now = 10000;
  const realNow = performance.now;
  performance.now = () => now;
  try {
    const player = new video.VideoPlayer({ units: 0, bytes: 0, skipped: 0, decoded: 0, dropped: 0 }, {
      onFrame () {}, onUnsupported () {}, onNeedKeyframe () {},
    });
    assert.equal(player.behind(0), 0, 'nothing decoded: not late');
    const push = (keyframe, ts) => player.push({
      codec: 1, keyframe, unit: keyframe ? bytes('000001 6742c01e 000001 65') : bytes('000001 41'),
      timestamp: ts, width: 320, height: 240,
    });
    // a catch-up: the keyframe and 2 s of units since arrive at once
    // (10000-10009 ms), the page still receiving the rest
    push(true, 0);
    await new Promise((r) => setTimeout(r, 0));
    for (let ms = 33; ms <= 990; ms += 33) {
      now += 0.3;
      push(false, ms);
    }
    // the keyframe's picture at 10080: about 1 s late
    now = 10080;
    assert.ok(player.behind(0) > 1000, `keyframe ${player.behind(0)} ms late`);
    // the page has not the newest units yet, the decoder is at its last
    // one (990, at 10150): still a burst, 150 ms of it the page's delay
    now = 10150;
    assert.ok(player.behind(990 * 1000) > 140, `${player.behind(990 * 1000)} ms late`);
    // then live units, 33 ms apart, each out 5 ms after it came
    for (let ms = 1023; ms <= 3000; ms += 33) {
      now += 1; // more of the burst comes, then live
      push(false, ms);
    }
    const live = now;
    for (let i = 1; i <= 30; i++) {
      now = live + i * 33;
      push(false, 3000 + i * 33);
      now += 5;
      assert.ok(player.behind((3000 + i * 33) * 1000) < 20, `live frame ${player.behind((3000 + i * 33) * 1000)} ms late`);
    }
    player.reset(null);
    assert.equal(player.behind(0), 0);
  } finally {
    performance.now = realNow;
    delete globalThis.VideoDecoder;
    delete globalThis.EncodedVideoChunk;
  }
});

// The worklet processor under stand-ins of AudioWorkletGlobalScope
async function loadProcessor (options) {
  let Processor = null;
  const posted = [];
  globalThis.sampleRate = 48000;
  globalThis.currentTime = 0;
  globalThis.AudioWorkletProcessor = class {
    constructor () {
      this.port = { postMessage: (m) => posted.push(m) };
    }
  };
  globalThis.registerProcessor = (name, cls) => {
    assert.equal(name, 'ds-audio');
    Processor = cls;
  };
  await import(pathToFileURL(path.join(VIEWER, 'core', 'audio-processor.js')) + '?' + Math.random());
  const p = new Processor({ processorOptions: options });
  return { p, posted };
}

function quantum (p) {
  const out = [new Float32Array(128), new Float32Array(128)];
  p.process([], [out]);
  globalThis.currentTime += 128 / 48000;
  return out;
}

const chunk = (ms, value, ts) => ({ planes: [new Float32Array(48 * ms).fill(value)], ts });

test('AudioWorklet processor: jitter buffer fills to its target, underrun is silence and counted, overrun drops the oldest', async () => {
  const { p, posted } = await loadProcessor({ targetMs: 40, maxMs: 100 });
  // 20 ms queued, under the 40 ms target: silence
  p.port.onmessage({ data: chunk(20, 0.5, 0) });
  assert.equal(quantum(p)[0][0], 0);
  p.port.onmessage({ data: chunk(20, 0.25, 20) });
  // 40 ms: plays, mono on both channels, oldest first
  let out = quantum(p);
  assert.equal(out[0][0], 0.5);
  assert.equal(out[1][127], 0.5);
  // the clock: the 4th quantum (the 3rd with sound) starts at stream
  // time 2×128 samples, and plays at its context time
  const t4 = globalThis.currentTime + 128 / 48000;
  for (let i = 0; i < 2; i++)
    quantum(p);
  const report = posted[posted.length - 1];
  assert.ok(Math.abs(report.ts - 2 * 128 / 48) < 0.01, JSON.stringify(report));
  assert.ok(Math.abs(report.time - t4) < 1e-9, JSON.stringify(report));
  // play out the rest: 40 ms = 15 quanta in all; then an underrun
  for (let i = 0; i < 13; i++)
    out = quantum(p);
  assert.equal(p.counts.underruns, 1);
  assert.equal(out[0][127], 0);
  // over 100 ms queued: back down to the target, oldest dropped
  for (let k = 0; k < 6; k++)
    p.port.onmessage({ data: chunk(20, k / 10, 1000 + k * 20) });
  assert.equal(p.counts.overruns, 1);
  assert.ok(Math.abs(p.queued - 48 * 40) <= 48 * 20, String(p.queued));
  out = quantum(p);
  assert.ok(out[0][0] >= 0.3, 'the newest sound plays: ' + out[0][0]);
  delete globalThis.AudioWorkletProcessor;
  delete globalThis.registerProcessor;
});

// VideoPlayer against a stand-in VideoDecoder whose queue the test sets
test('VideoPlayer: skip to keyframe, config asked once, a decode backlog over 300 ms drops to the next keyframe, errors wait for one', async () => {
  const decoders = [];
  const asked = [];
  globalThis.VideoDecoder = class {
    static isConfigSupported (config) {
      asked.push(config.codec);
      return Promise.resolve({ supported: !config.codec.startsWith('hev1') });
    }

    constructor (init) {
      this.init = init;
      this.state = 'unconfigured';
      this.decodeQueueSize = 0;
      this.chunks = [];
      this.resets = 0;
      decoders.push(this);
    }

    configure (config) {
      this.config = config;
      this.state = 'configured';
    }

    decode (chunk) {
      this.chunks.push(chunk);
    }

    reset () {
      this.resets++;
      this.state = 'unconfigured';
    }

    close () {
      this.state = 'closed';
    }
  };
  globalThis.EncodedVideoChunk = class {
    constructor (init) {
      Object.assign(this, init);
    }
  };
  let now = 1000;
  const realNow = performance.now;
  performance.now = () => now;
  const stats = {
    codec: null, codecString: null, cannotDecode: null, units: 0, bytes: 0, decoded: 0,
    skipped: 0, dropped: 0, queueDrops: 0, resets: 0, errors: 0, unsupported: 0, decodeMs: null, lastError: null,
  };
  const frames = [];
  const unsupported = [];
  let keyframeAsks = 0;
  const player = new video.VideoPlayer(stats, {
    onFrame: (f) => frames.push(f),
    onUnsupported: (...a) => unsupported.push(a),
    onNeedKeyframe: () => keyframeAsks++,
  });
  const key = bytes('000001 6742c01e 000001 65');
  const delta = bytes('000001 41');
  const push = (keyframe, ts, codec = 1, unit = keyframe ? key : delta) =>
    player.push({ codec, keyframe, unit, timestamp: ts, width: 320, height: 240 });
  const settle = () => new Promise((r) => setTimeout(r, 0));

  push(false, 0);
  assert.equal(stats.skipped, 1, 'a delta before any keyframe');
  assert.equal(decoders.length, 0);
  push(true, 33);
  push(false, 66);              // comes while the browser is asked
  await settle();
  const d = decoders[0];
  assert.equal(d.config.codec, 'avc1.42C01E');
  assert.deepEqual(d.chunks.map((c) => [c.type, c.timestamp]), [['key', 33000], ['delta', 66000]]);
  d.init.output({ timestamp: 33000 });
  assert.equal(frames.length, 1);
  assert.equal(stats.decoded, 1);

  // a backlog: tolerated for 300 ms (a late joiner's burst), then dropped
  d.decodeQueueSize = 10;
  push(false, 100);
  now += 200;
  push(false, 133);
  assert.equal(stats.queueDrops, 0);
  assert.equal(d.chunks.length, 4);
  now += 200;
  push(false, 166);
  assert.equal(stats.queueDrops, 1);
  assert.equal(d.resets, 1);
  assert.equal(player.waitingForKeyframe, true);
  assert.equal(keyframeAsks, 1);
  assert.ok(stats.dropped >= 11, 'the queue and the unit: ' + stats.dropped);
  push(false, 200);
  assert.equal(stats.skipped, 2);
  d.decodeQueueSize = 0;
  push(true, 233);
  assert.equal(d.state, 'configured');
  assert.equal(d.chunks[d.chunks.length - 1].timestamp, 233000);

  // a joiner's catch-up burst the decoder works down for longer than
  // 300 ms: kept (dropping it would wait for the next keyframe)
  const before = d.chunks.length;
  for (let i = 1, q = 40; i <= 25; i++, q -= 1) {
    d.decodeQueueSize = q;
    now += 33;
    push(false, 233 + i);
  }
  assert.equal(stats.queueDrops, 1, 'a backlog that goes down is not dropped');
  assert.equal(d.chunks.length, before + 25);
  d.decodeQueueSize = 0;
  assert.deepEqual(asked, ['avc1.42C01E'], 'the browser is asked once per codec string');

  // a decoder error: wait for the next keyframe, and ask for it
  d.init.error(new Error('broken unit'));
  assert.equal(stats.errors, 1);
  assert.equal(player.waitingForKeyframe, true);
  assert.equal(keyframeAsks, 2);
  push(false, 266);
  assert.equal(stats.skipped, 3);
  push(true, 300);
  assert.equal(decoders.length, 2, 'a new decoder after the error');

  // a codec the browser cannot decode: said once, no decoder for it
  const h265key = bytes('00000001 4201 01 01 60000000 900000030000 03003c a0 0a 08 0f 00000001 2601af');
  push(true, 333, 2, h265key);
  await settle();
  assert.deepEqual(unsupported, [['unsupported', 'H.265', 'hev1.1.6.L60.B0']]);
  assert.equal(player.unsupported, true);
  push(false, 366, 2, delta);
  push(true, 400, 2, h265key);
  await settle();
  assert.equal(unsupported.length, 1);
  assert.equal(stats.unsupported, 2);

  performance.now = realNow;
  delete globalThis.VideoDecoder;
  delete globalThis.EncodedVideoChunk;
});

// core/display.js: how a VideoFrame reaches the canvas. A stand-in
// canvas and VideoFrames whose drawImage and copyTo cost what the test
// says (performance.now() is the test's clock).
async function displayWith ({ drawMs, copyMs, copyFails = false }) {
  const { Display } = await import(pathToFileURL(path.join(VIEWER, 'core', 'display.js')));
  let now = 0;
  const realNow = performance.now;
  performance.now = () => now;
  globalThis.ImageData = class {
    constructor (data, w, h) {
      assert.equal(data.length, w * h * 4);
      Object.assign(this, { data, width: w, height: h });
    }
  };
  const calls = [];
  const ctx = {
    drawImage: (frame) => { now += drawMs; calls.push(['drawImage', frame.timestamp / 1000]); },
    putImageData: (img) => calls.push(['putImageData', img.data[0]]),
  };
  const canvas = { width: 0, height: 0, getContext: () => ctx };
  const drawn = [];
  const display = new Display(canvas, {
    onSize: () => {},
    onDrawn: (kind, ts) => drawn.push([kind, ts]),
    onImageError: () => {},
  });
  const open = new Set();
  function frame (ts, w = 4, h = 2) {
    const f = {
      timestamp: ts * 1000, displayWidth: w, displayHeight: h,
      visibleRect: { x: 0, y: 0, width: w, height: h },
      clone: () => { const c = frame(ts, w, h); open.add(c); return c; },
      close: () => open.delete(f),
      copyTo: (dest, opts) => {
        assert.equal(opts.format, 'RGBA');
        if (copyFails)
          return Promise.reject(new DOMException('NotSupportedError'));
        now += copyMs;
        dest[0] = ts & 0xff;
        return Promise.resolve([{ offset: 0, stride: w * 4 }]);
      },
    };
    return f;
  }
  const done = () => { performance.now = realNow; delete globalThis.ImageData; };
  return { display, frame, calls, drawn, open, done };
}

const settleDisplay = () => new Promise((r) => setTimeout(r, 0));

test('Display: drawImage is kept where it is the faster way', async () => {
  const d = await displayWith({ drawMs: 1, copyMs: 5 });
  for (let i = 0; i < 12; i++) {
    const f = d.frame(i * 33);
    d.display.drawVideoFrame(f);
    f.close();
    await settleDisplay();
  }
  assert.equal(d.display.videoWay, 'drawImage');
  d.calls.length = 0;
  d.display.drawVideoFrame(d.frame(999));
  assert.deepEqual(d.calls, [['drawImage', 999]]);
  assert.equal(d.open.size, 0, 'every clone closed');
  d.done();
});

test('Display: the way chosen is kept in the browser for a day, and used at once by the next page', async () => {
  const store = new Map();
  globalThis.localStorage = {
    getItem: (k) => (store.has(k) ? store.get(k) : null),
    setItem: (k, v) => store.set(k, String(v)),
  };
  try {
    const d = await displayWith({ drawMs: 25, copyMs: 3 });
    assert.equal(d.display.videoWay, null, 'nothing kept yet: trials');
    for (let i = 0; i < 12; i++) {
      const f = d.frame(i * 33);
      d.display.drawVideoFrame(f);
      f.close();
      await settleDisplay();
    }
    assert.equal(d.display.videoWay, 'copyTo');
    assert.match(store.get('ds-viewer-video-way'), /^copyTo \d+$/);
    d.done();
    // the next page: no trial, copyTo from its first frame
    const next = await displayWith({ drawMs: 25, copyMs: 3 });
    assert.equal(next.display.videoWay, 'copyTo');
    next.done();
    // a day later: trials again
    store.set('ds-viewer-video-way', 'copyTo ' + (Date.now() - 25 * 3600 * 1000));
    const later = await displayWith({ drawMs: 25, copyMs: 3 });
    assert.equal(later.display.videoWay, null);
    later.done();
    store.set('ds-viewer-video-way', 'bogus ' + Date.now());
    const bogus = await displayWith({ drawMs: 25, copyMs: 3 });
    assert.equal(bogus.display.videoWay, null);
    bogus.done();
  } finally {
    delete globalThis.localStorage;
  }
});

test('Display: copyTo and putImageData where drawImage is slow (a canvas drawn in software)', async () => {
  const d = await displayWith({ drawMs: 25, copyMs: 3 });
  for (let i = 0; i < 12; i++) {
    const f = d.frame(i * 33);
    d.display.drawVideoFrame(f);
    f.close();                  /* the caller closes at once: the copy holds a clone */
    await settleDisplay();
  }
  assert.equal(d.display.videoWay, 'copyTo');
  d.calls.length = 0;
  d.drawn.length = 0;
  const f = d.frame(1000);
  d.display.drawVideoFrame(f);
  f.close();
  assert.deepEqual(d.drawn, [], 'not drawn before its pixels are copied');
  await settleDisplay();
  assert.deepEqual(d.calls, [['putImageData', 1000 & 0xff]]);
  assert.deepEqual(d.drawn, [['video', 1000]], 'onDrawn with the timestamp once the pixels are on the canvas');
  assert.equal(d.open.size, 0, 'every clone closed');

  // a copy that lands after a newer picture was drawn is not drawn
  d.calls.length = 0;
  const older = d.frame(1033);
  d.display.drawVideoFrame(older);
  older.close();
  d.display.bitmapGeneration++;  /* a newer picture (an image, raw pixels) */
  await settleDisplay();
  assert.deepEqual(d.calls, []);
  assert.equal(d.open.size, 0);

  // a frame whose display size is not its visible size goes through
  // drawImage (putImageData does not scale)
  const scaled = d.frame(1066);
  scaled.displayWidth = 8;
  d.display.drawVideoFrame(scaled);
  assert.deepEqual(d.calls, [['drawImage', 1066]]);
  d.done();
});

test('Display: a browser without RGBA copyTo falls back to drawImage', async () => {
  const d = await displayWith({ drawMs: 25, copyMs: 3, copyFails: true });
  for (let i = 0; i < 4; i++) {
    const f = d.frame(i * 33);
    d.display.drawVideoFrame(f);
    f.close();
    await settleDisplay();
  }
  assert.equal(d.display.videoWay, 'drawImage');
  d.calls.length = 0;
  d.display.drawVideoFrame(d.frame(500));
  assert.deepEqual(d.calls, [['drawImage', 500]]);
  assert.equal(d.open.size, 0);
  d.done();
});
