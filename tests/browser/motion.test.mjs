// MotionDeltaPixels in the viewer, in node: relay/viewer/core/motion.js
// (the move table checked as ds_motion_parse_moves() does, the
// prediction built in place as dsmotion.c does, on each of its three
// paths) against the plain definition of SPEC §3, and StreamDecoder's
// decisions on good and bad frames, compressed or not. The shared vectors
// (motion, motion-zstd) check the same against the C library. meson:
// viewer_motion (no Chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMoves, predictInPlace, tableSize, MAX_AREA_PICTURES } from '../../relay/viewer/core/motion.js';
import { StreamDecoder } from '../../relay/viewer/core/decoder.js';
import {
  packFrame, picture, motionPredict, motionEncode, rleEncodeXor, T,
  FLAG_KEYFRAME, FLAG_COMPRESSED,
} from './lib/frames.mjs';
import { zstdStored } from './lib/zstd-frames.mjs';

const FZSTD = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '..', '..', 'relay', 'viewer', 'node_modules', 'fzstd', 'esm', 'index.mjs');
const fzstd = fs.existsSync(FZSTD) ? await import(FZSTD) : null;
const needsFzstd = fzstd ? {} : { skip: 'the npm package fzstd is not installed (npm ci in relay/viewer)' };

function table (moves, extra = 1) {
  const t = Buffer.alloc(tableSize(moves.length) + extra, 1);
  t.writeUInt16LE(moves.length, 0);
  moves.forEach((m, i) => m.forEach((v, k) => t.writeUInt16LE(v, 2 + 12 * i + 2 * k)));
  return t;
}

// a small deterministic generator (xorshift32)
function rng (seed) {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

test('move table: the bounds of ds_motion_parse_moves()', () => {
  const W = 20, H = 10;
  const ok = (moves) => parseMoves(table(moves), W, H);
  assert.deepEqual(ok([]), { count: 0, area: 0 });
  assert.deepEqual(ok([[0, 0, 0, 0, W, H]]), { count: 1, area: W * H });
  // inside to the last pixel, on each side
  assert.equal(ok([[W - 1, H - 1, 0, 0, 1, 1], [0, 0, W - 1, H - 1, 1, 1]]).count, 2);
  // empty rectangles
  assert.match(ok([[0, 0, 0, 0, 0, 1]]).error, /move 0 is empty/);
  assert.match(ok([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 0]]).error, /move 1 is empty/);
  // one pixel out, each coordinate; u16 values that would wrap in 16 bits
  for (const m of [[1, 0, 0, 0, W, 1], [0, 1, 0, 0, 1, H], [0, 0, 1, 0, W, 1],
    [0, 0, 0, 1, 1, H], [65535, 0, 0, 0, 65535, 1], [0, 0, 0, 65535, 1, 65535]])
    assert.match(ok([m]).error, /leaves the 20x10 picture/, JSON.stringify(m));
  // the moved area: two pictures at most
  const full = [0, 0, 0, 0, W, H];
  assert.equal(ok(Array(MAX_AREA_PICTURES).fill(full)).area, 2 * W * H);
  assert.match(ok([...Array(MAX_AREA_PICTURES).fill(full), [0, 0, 0, 0, 1, 1]]).error,
      /copy 401 pixels, more than 2 pictures/);
  // truncated: no count, a table longer than the payload
  assert.ok(parseMoves(new Uint8Array(1), W, H).truncated);
  assert.ok(parseMoves(table([full, full], 0).subarray(0, 20), W, H).truncated);
  assert.deepEqual(parseMoves(table([full], 0), W, H), { count: 1, area: W * H });
});

// rows narrower than 64 pixels are copied a word at a time, wider ones
// with set(); a picture that is not 4-byte aligned a byte at a time
for (const [W, H, offset] of [[23, 17, 0], [150, 20, 0], [23, 17, 2]])
test(`prediction in place: bit-exact with the plain definition, on every path (${W}x${H}, offset ${offset})`, () => {
  const size = W * H * 4;
  const rand = rng(7 + W + offset);
  const ref = Buffer.alloc(size);
  for (let i = 0; i < size; i++)
    ref[i] = rand(256);
  const randomMove = (maxW, maxH) => {
    const w = 1 + rand(maxW), h = 1 + rand(maxH);
    return [rand(W - w + 1), rand(H - h + 1), rand(W - w + 1), rand(H - h + 1), w, h];
  };
  const cases = [
    [],
    // one move (memmove row by row): scrolls both ways, sideways, full
    // width, overlapping itself, onto itself
    [[0, 0, 0, 3, W, H - 3]], [[0, 3, 0, 0, W, H - 3]],
    [[0, 0, 2, 0, W - 2, H]], [[2, 0, 0, 0, W - 2, H]],
    [[1, 1, 3, 2, 10, 9]], [[3, 2, 1, 1, 10, 9]], [[4, 4, 4, 4, 5, 5]],
    // several moves reading each other's destinations: sources packed
    [[0, 0, 1, 0, 4, 3], [1, 0, 3, 1, 4, 3], [W - 3, H - 2, 0, H - 2, 3, 2]],
    // several moves over more than a picture: a copy of the reference
    [[0, 0, 0, 1, W, 10], [0, 5, 0, 0, W, 10], [0, 0, 1, 1, W - 1, 3]],
  ];
  if (W > 100) {
    cases.push([[0, 0, 30, 1, 100, 5], [10, 2, 0, 0, 120, 4]],
        [[0, 0, 0, 1, W, 8], [0, 3, 0, 0, W, 9], [5, 0, 0, 1, W - 5, 11]]);
  }
  for (let k = 0; k < 200; k++) {
    const n = 1 + rand(6);
    const big = rand(2) === 1;
    const moves = Array.from({ length: n }, () => randomMove(big ? W : 6, big ? H : 6));
    if (!parseMoves(table(moves), W, H).error)   /* more than 2 pictures */
      cases.push(moves);
  }
  let packed = 0, copied = 0;
  for (const moves of cases) {
    const payload = table(moves);
    const m = parseMoves(payload, W, H);
    assert.equal(m.error, undefined, JSON.stringify(moves));
    if (moves.length > 1)
      (m.area * 4 <= size ? packed++ : copied++);
    const pic = new Uint8Array(size + offset).subarray(offset);
    pic.set(ref);
    predictInPlace(pic, W, H, payload, m.count, m.area);
    assert.ok(Buffer.from(pic).equals(motionPredict(ref, W, moves)), JSON.stringify(moves));
  }
  assert.ok(packed > 20 && copied > 20, `${packed} packed, ${copied} copied`);
});

const W = 24, H = 12;
const A = picture(W, H, (x, y) => [x * 10, y * 20, (x * y) & 0xff]);
const SCROLL = [[0, 0, 0, 2, W, H - 2]];
const B = (() => {
  const b = motionPredict(A, W, SCROLL);
  b.fill(0x33, 0, W * 2 * 4);   // new rows at the top
  b[200] ^= 0x40;               // and a small residual
  return b;
})();

function frame (type, seq, payload, flags = 0) {
  return packFrame({ type, flags, seq, width: W, height: H }, payload);
}

function decoder () {
  return new StreamDecoder({ zstd: fzstd ? fzstd.decompress : null });
}

test('StreamDecoder: a MotionDeltaPixels after Pixels is the picture', () => {
  const d = decoder();
  assert.equal(d.push(frame(T.PIXELS, 1, A)).kind, 'picture');
  const r = d.push(frame(T.MOTION_DELTA_PIXELS, 2, motionEncode(B, A, W, SCROLL)));
  assert.equal(r.kind, 'picture', r.error);
  assert.ok(Buffer.from(d.reference).equals(B));
  // no moves: a DeltaPixels with an empty table
  const r2 = d.push(frame(T.MOTION_DELTA_PIXELS, 3, motionEncode(A, B, W, [])));
  assert.equal(r2.kind, 'picture', r2.error);
  assert.ok(Buffer.from(d.reference).equals(A));
});

test('StreamDecoder: bad MotionDeltaPixels are malformed, as in dsdepay', () => {
  const bad = [
    // before seq tracking (ds_frame_validate() with the payload)
    ['a move leaving the picture', table([[0, 0, 0, 3, W, H - 2]]), 0],
    ['an empty move', table([[0, 0, 0, 0, 0, 1]]), 0],
    ['no code after the table', table(SCROLL, 0), 0],
    ['a truncated table', table(SCROLL).subarray(0, 8), 0],
    ['FLAG_KEYFRAME', motionEncode(B, A, W, SCROLL), FLAG_KEYFRAME],
  ];
  for (const [what, payload, flags] of bad) {
    const d = decoder();
    d.push(frame(T.PIXELS, 1, A));
    const r = d.push(frame(T.MOTION_DELTA_PIXELS, 2, payload, flags));
    assert.equal(r.kind, 'malformed', what);
    assert.equal(r.lost, true, what);
    assert.equal(r.missing, undefined, `${what}: not seq tracked`);
    // the next delta refers to the frame that was skipped
    const n = d.push(frame(T.MOTION_DELTA_PIXELS, 3, motionEncode(A, B, W, [])));
    assert.deepEqual([n.kind, n.missing], ['dropped', 1], what);
    assert.equal(d.stats.malformed, 1, what);
  }
  // a code of the wrong size: found while decoding (seq tracked)
  const d = decoder();
  d.push(frame(T.PIXELS, 1, A));
  const short = Buffer.concat([table(SCROLL, 0), rleEncodeXor(B.subarray(4), A.subarray(4))]);
  const r = d.push(frame(T.MOTION_DELTA_PIXELS, 2, short));
  assert.deepEqual([r.kind, r.lost, r.missing], ['malformed', true, 0]);
  assert.equal(d.push(frame(T.MOTION_DELTA_PIXELS, 3, motionEncode(A, B, W, []))).kind, 'dropped');
  // without a reference
  const e = decoder();
  assert.equal(e.push(frame(T.MOTION_DELTA_PIXELS, 1, motionEncode(B, A, W, SCROLL))).kind, 'dropped');
});

test('StreamDecoder: FLAG_COMPRESSED MotionDeltaPixels', needsFzstd, () => {
  const d = decoder();
  d.push(frame(T.PIXELS, 1, A));
  const r = d.push(frame(T.MOTION_DELTA_PIXELS, 2, zstdStored(motionEncode(B, A, W, SCROLL)), FLAG_COMPRESSED));
  assert.equal(r.kind, 'picture', r.error);
  assert.ok(Buffer.from(d.reference).equals(B));
  // a bad table is read once decompressed: malformed, seq tracked
  const bad = zstdStored(table([[0, 0, 1, 0, W, 1]]));
  const m = d.push(frame(T.MOTION_DELTA_PIXELS, 3, bad, FLAG_COMPRESSED));
  assert.deepEqual([m.kind, m.lost, m.missing], ['malformed', true, 0]);
  assert.match(m.error, /leaves the 24x12 picture/);
  assert.equal(d.push(frame(T.MOTION_DELTA_PIXELS, 4, motionEncode(A, B, W, []))).kind, 'dropped');
  assert.deepEqual([d.stats.malformed, d.stats.dropped, d.stats.inflated], [1, 2, 2]);
});
