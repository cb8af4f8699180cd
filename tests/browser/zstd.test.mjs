// The viewer's FLAG_COMPRESSED path in node: relay/viewer/core/zstd.js
// (the frame's bounds, checked before anything is decoded) in front of
// the npm package fzstd, and StreamDecoder's compressed deltas. The
// bombs are frames made by hand (lib/zstd-frames.mjs) that would make
// fzstd alone allocate or work far past the picture; each must be
// refused before fzstd runs, at once. meson: viewer_zstd (no Chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zstdFrameInfo, zstdInflate } from '../../relay/viewer/core/zstd.js';
import { StreamDecoder } from '../../relay/viewer/core/decoder.js';
import { packFrame, rleEncodeXor, picture, T, FLAG_KEYFRAME, FLAG_COMPRESSED } from './lib/frames.mjs';
import { zstdHeader, blockHeader, zstdStored, zstdRleBomb, BLOCK_MAX } from './lib/zstd-frames.mjs';

const FZSTD = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '..', '..', 'relay', 'viewer', 'node_modules', 'fzstd', 'esm', 'index.mjs');
const fzstd = fs.existsSync(FZSTD) ? await import(FZSTD) : null;
const needsFzstd = fzstd ? {} : { skip: 'the npm package fzstd is not installed (npm ci in relay/viewer)' };

// a decompress that must not be called
function never () {
  throw new Error('fzstd ran on a frame that should have been refused');
}

test('frame info: header fields and block walk', () => {
  const data = Uint8Array.from({ length: 300000 }, (_, i) => i & 0xff);
  const f = zstdStored(data);
  assert.deepEqual(zstdFrameInfo(f), {
    contentSize: 300000, windowSize: 300000, blocks: 3, exact: 300000, most: 300000,
  });
  const g = zstdRleBomb(2, 1000, { windowLog: 12 });
  assert.deepEqual(zstdFrameInfo(g), {
    contentSize: null, windowSize: 4096, blocks: 2, exact: 2000, most: 2000,
  });
  // a compressed block counts at the most it may regenerate
  const c = Uint8Array.from([...zstdHeader({ windowLog: 12 }), ...blockHeader(2, 2, true), 0, 0]);
  assert.equal(zstdFrameInfo(c).most, 4096);
});

test('frames that are not exactly one usable zstd frame are refused', () => {
  const one = zstdStored(Uint8Array.from([1, 2, 3]));
  const cases = {
    'not a zstd frame': [Uint8Array.from([1, 2, 3, 4, 5, 6, 7])],
    'zstd frame header with its reserved bit set': [Uint8Array.from([...one.subarray(0, 4), one[4] | 8, ...one.subarray(5)])],
    'zstd frame needs a dictionary': [Uint8Array.from([
      ...zstdHeader({ contentSize: 1, dictId: 7 }), ...blockHeader(0, 1, true), 1])],
    'zstd frame cut short': [one.subarray(0, one.length - 1), one.subarray(0, 6)],
    'more than one zstd frame': [Uint8Array.from([...one, ...one]), Uint8Array.from([...one, 0])],
    'zstd block of the reserved type': [Uint8Array.from([...zstdHeader({ contentSize: 1 }), ...blockHeader(3, 1, true), 1])],
    'zstd block larger than the frame allows': [Uint8Array.from([...zstdHeader({ contentSize: 1 }), ...blockHeader(0, 2, true), 1, 2])],
  };
  for (const [why, frames] of Object.entries(cases))
    for (const f of frames)
      assert.deepEqual(zstdInflate(never, f, 1 << 20), { error: why }, why);
});

test('stored frames decode through fzstd, size declared or not', needsFzstd, () => {
  const data = Uint8Array.from({ length: 200000 }, (_, i) => (i * 7) & 0xff);
  for (const opts of [{}, { declare: false }, { checksum: true }]) {
    const r = zstdInflate(fzstd.decompress, zstdStored(data, opts), data.length);
    assert.equal(r.error, undefined, JSON.stringify(opts));
    assert.deepEqual(r.bytes, data);
  }
  // the limit is the content's: one byte less is too much
  assert.equal(zstdInflate(never, zstdStored(data), data.length - 1).tooLarge, true);
  assert.equal(zstdInflate(never, zstdStored(data, { declare: false }), data.length - 1).tooLarge, true);
});

test('zstd bombs are refused before fzstd runs, at once', () => {
  const limit = 64 * 64 * 4 * 3;          // a 64x64 picture's bound
  const bombs = {
    // declares 1 GiB (fzstd would allocate it)
    declared: [zstdRleBomb(1, 0, { contentSize: 2 ** 30 }), /declares more than/],
    // declares nothing, a 1 GiB window (fzstd would allocate it)
    window: [zstdRleBomb(1, 0, { windowLog: 30 }), /window of more than/],
    // declares nothing: 2000 RLE blocks of 32 KiB, 64 MiB out of 8 kB
    blocks: [zstdRleBomb(2000, 32768, { windowLog: 15 }), /may regenerate more than/],
    // declares the limit, holds 256 MiB
    lies: [zstdRleBomb(2000, BLOCK_MAX, { contentSize: limit, windowLog: 17 }), /holds more than it declares/],
    // declares the limit; 100000 compressed blocks of 128 KiB each at most
    work: [Uint8Array.from([...zstdHeader({ contentSize: limit, windowLog: 17 }),
      ...Array.from({ length: 100000 }, (_, i) => [...blockHeader(2, 2, i === 99999), 0, 0]).flat()]),
    /may regenerate far more than/],
    // declares nothing: 200000 empty blocks, each sliding the window
    slides: [Uint8Array.from([...zstdHeader({ windowLog: 15 }),
      ...Array.from({ length: 200000 }, (_, i) => blockHeader(0, 0, i === 199999)).flat()]),
    /work of far more than/],
  };
  for (const [name, [frame, why]] of Object.entries(bombs)) {
    const t0 = performance.now();
    const r = zstdInflate(never, frame, limit);
    const ms = performance.now() - t0;
    assert.equal(r.tooLarge ?? false, name !== 'lies', name);
    assert.match(r.error, why, name);
    assert.ok(ms < 200, `${name}: refused in ${ms.toFixed(1)} ms`);
  }
});

test('StreamDecoder: compressed deltas decode; a bomb is a decode error; no decoder is unsupported', needsFzstd, () => {
  const w = 16, h = 8;
  const a = picture(w, h, (x, y) => [x * 16, y * 32, 7]);
  const b = picture(w, h, (x, y) => [x * 16, y * 32, x === y ? 200 : 7]);
  const frame = (seq, flags, code) =>
    packFrame({ type: T.DELTA_PIXELS, flags: flags | FLAG_COMPRESSED, seq, width: w, height: h }, code);
  const dec = new StreamDecoder({ zstd: fzstd.decompress });
  assert.equal(dec.push(frame(0, FLAG_KEYFRAME, zstdStored(rleEncodeXor(a, null)))).kind, 'picture');
  assert.deepEqual(Buffer.from(dec.reference), a);
  assert.equal(dec.push(frame(1, 0, zstdStored(rleEncodeXor(b, a), { declare: false, windowLog: 10 }))).kind, 'picture');
  assert.deepEqual(Buffer.from(dec.reference), b);
  assert.equal(dec.stats.inflated, 2);

  // more than 3 bytes of code per picture byte: refused, the picture is lost
  const bomb = dec.push(frame(2, 0, zstdRleBomb(1, w * h * 4 * 3 + 1, { contentSize: w * h * 4 * 3 + 1 })));
  assert.equal(bomb.kind, 'malformed');
  assert.equal(bomb.lost, true);
  assert.match(bomb.error, /declares more than 1536 bytes/);
  assert.equal(dec.stats.malformed, 1);
  assert.equal(dec.waitingForKeyframe, true);
  assert.equal(dec.push(frame(3, 0, zstdStored(rleEncodeXor(a, b)))).kind, 'dropped');
  // zstd that fzstd refuses (a compressed block of garbage)
  const junk = Uint8Array.from([...zstdHeader({ contentSize: 10 }), ...blockHeader(2, 3, true), 0xff, 0xff, 0xff]);
  const r = dec.push(frame(4, FLAG_KEYFRAME, junk));
  assert.equal(r.kind, 'malformed');
  assert.match(r.error, /^zstd: /);
  assert.equal(dec.push(frame(5, FLAG_KEYFRAME, zstdStored(rleEncodeXor(b, null)))).kind, 'picture');
  assert.deepEqual(Buffer.from(dec.reference), b);

  const none = new StreamDecoder();
  const u = none.push(frame(0, FLAG_KEYFRAME, zstdStored(rleEncodeXor(a, null))));
  assert.equal(u.kind, 'unsupported');
  assert.equal(u.compressed, true);
  assert.equal(none.stats.compressed, 1);
});
