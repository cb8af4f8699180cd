// ds-stream frames built in Node for the browser tests (SPEC §2–§4):
// header packing, the run-length code of DeltaPixels, test pictures and a
// minimal PNG writer. Written from the SPEC, independent of viewer.js.

import zlib from 'node:zlib';

export const HEADER_SIZE = 16;
export const FLAG_INPUT = 1;
export const FLAG_KEYFRAME = 2;
export const FLAG_COMPRESSED = 4;

export const T = {
  PIXELS: 0x01, COMPRESSED_PIXELS: 0x02, DELTA_PIXELS: 0x03,
  MOTION_DELTA_PIXELS: 0x04, ENCODED_VIDEO: 0x05,
  AUDIO_PCM: 0x10, AUDIO_COMPRESSED: 0x11, SIGNAL_SYNC: 0x30, SIGNAL_DIFF: 0x31,
  SCHEMA_ANNOUNCE: 0x32, SUBSCRIBE_FILTER: 0x33, KEYFRAME: 0xf0,
  PING: 0xfe, END: 0xff,
};

export const I = {
  POINTER: 0x01, POINTER_DOWN: 0x02, POINTER_UP: 0x03, KEY_DOWN: 0x10,
  KEY_UP: 0x11, TOUCH: 0x20, GAMEPAD_AXIS: 0x30, GAMEPAD_BUTTON: 0x31,
  MIDI: 0x40, SCROLL: 0x50, RESIZE: 0x60, KEYFRAME_REQUEST: 0x70,
};

export function packFrame ({ type, flags = 0, seq = 0, timestamp = 0, width = 0, height = 0 }, payload) {
  const p = payload ? Buffer.from(payload) : Buffer.alloc(0);
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeUInt8(type, 0);
  h.writeUInt8(flags, 1);
  h.writeUInt16LE(seq & 0xffff, 2);
  h.writeUInt32LE(timestamp >>> 0, 4);
  h.writeUInt16LE(width, 8);
  h.writeUInt16LE(height, 10);
  h.writeUInt32LE(p.length, 12);
  return Buffer.concat([h, p]);
}

export function parseFrame (buf) {
  const b = Buffer.from(buf);
  return {
    type: b.readUInt8(0),
    flags: b.readUInt8(1),
    seq: b.readUInt16LE(2),
    timestamp: b.readUInt32LE(4),
    width: b.readUInt16LE(8),
    height: b.readUInt16LE(10),
    payloadLen: b.readUInt32LE(12),
    payload: b.subarray(HEADER_SIZE),
  };
}

/** RLE( cur XOR ref ); ref null = keyframe (all-zero reference). */
export function rleEncodeXor (cur, ref) {
  const out = [];
  let zeros = 0;
  const flush = () => {
    while (zeros > 0) {
      const n = Math.min(zeros, 65535);
      out.push(0, n & 0xff, n >> 8);
      zeros -= n;
    }
  };
  for (let i = 0; i < cur.length; i++) {
    const x = cur[i] ^ (ref ? ref[i] : 0);
    if (x === 0) {
      zeros++;
    } else {
      flush();
      out.push(x);
    }
  }
  flush();
  return Buffer.from(out);
}

/** The prediction of MotionDeltaPixels, the plain way (SPEC §3): a copy
 * of @ref where each of @moves ([sx, sy, dx, dy, w, h]) copies a
 * rectangle OF @ref, in order */
export function motionPredict (ref, width, moves) {
  const out = Buffer.from(ref);
  for (const [sx, sy, dx, dy, w, h] of moves)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w * 4; x++)
        out[((dy + y) * width + dx) * 4 + x] = ref[((sy + y) * width + sx) * 4 + x];
  return out;
}

/** A MotionDeltaPixels payload: the table of @moves, then the code of
 * @cur against the prediction of @ref */
export function motionEncode (cur, ref, width, moves) {
  const table = Buffer.alloc(2 + 12 * moves.length);
  table.writeUInt16LE(moves.length, 0);
  moves.forEach((m, i) => m.forEach((v, k) => table.writeUInt16LE(v, 2 + 12 * i + 2 * k)));
  return Buffer.concat([table, rleEncodeXor(cur, motionPredict(ref, width, moves))]);
}

/** A width×height RGBA picture filled by fn(x, y) → [r, g, b, a]. */
export function picture (width, height, fn) {
  const buf = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = fn(x, y);
      const o = (y * width + x) * 4;
      buf[o] = r; buf[o + 1] = g; buf[o + 2] = b; buf[o + 3] = a;
    }
  return buf;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++)
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32 (buf) {
  let c = 0xffffffff;
  for (const b of buf)
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk (type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** An RGBA picture as a PNG file. */
export function png (width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const raw = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++)
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
