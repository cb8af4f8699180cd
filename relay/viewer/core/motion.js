/* ds-relay viewer: the moves of MotionDeltaPixels (SPEC §3,
 * docs/protocol.md §3)
 *
 * Payload: u16 move_count, then move_count moves of six u16 LE (src_x,
 * src_y, dst_x, dst_y, w, h), then the run-length code (rle.js) of
 * (current XOR prediction). The prediction is the reference where each
 * move, in order, copies the w×h rectangle OF THE REFERENCE (never of the
 * partly built prediction) to (dst_x, dst_y); later moves overwrite
 * earlier ones.
 *
 * parseMoves() mirrors ds_motion_parse_moves() / ds_motion_moves_check()
 * of gst-libs/ds/dsmotion.c check for check (the shared vectors hold both
 * sides to it): the table fits the payload, every rectangle is at least
 * 1×1 and inside the picture, and the moves copy at most
 * MAX_AREA_PICTURES pictures' worth of pixels. predictInPlace() is
 * dsmotion.c's predict_in_place(): one move row by row in the order that
 * reads each source row before it is overwritten (no scratch); several
 * moves whose sources total at most one picture through a packed scratch
 * block; else through a copy of the reference. So the scratch is at most
 * one picture (kept between frames), the work at most one picture copy
 * plus twice the moved area (rows narrower than 64 pixels copied a word
 * at a time: the worst table the bounds allow, 1080p in 1-pixel columns,
 * takes ~50 ms). Pure: no DOM, so that node can import it.
 */

/* Bytes of one move in the table (DS_MOTION_MOVE_SIZE) */
export const MOVE_SIZE = 12;
/* move_count is a u16 (DS_MOTION_MAX_MOVES) */
export const MAX_MOVES = 0xffff;
/* DS_MOTION_MAX_AREA_PICTURES */
export const MAX_AREA_PICTURES = 2;

/** Bytes of the count and a table of @n moves (DS_MOTION_TABLE_SIZE) */
export function tableSize (n) {
  return 2 + n * MOVE_SIZE;
}

function u16 (p, o) {
  return p[o] | (p[o + 1] << 8);
}

/**
 * Checks the move table at the start of the MotionDeltaPixels @payload
 * (Uint8Array) for a picture of @width×@height, as
 * ds_motion_parse_moves(). Returns { count, area } (area: the sum of w×h)
 * or { error } (truncated: the table does not fit the payload). Reads
 * only the table.
 */
export function parseMoves (payload, width, height) {
  const len = payload.length;
  if (len < 2)
    return { error: `MotionDeltaPixels payload of ${len} bytes is shorter than its move table (2 bytes)`, truncated: true };
  const count = u16(payload, 0);
  if (tableSize(count) > len)
    return { error: `MotionDeltaPixels payload of ${len} bytes is shorter than its move table (${tableSize(count)} bytes)`, truncated: true };
  let area = 0;
  for (let i = 0, o = 2; i < count; i++, o += MOVE_SIZE) {
    const sx = u16(payload, o), sy = u16(payload, o + 2);
    const dx = u16(payload, o + 4), dy = u16(payload, o + 6);
    const w = u16(payload, o + 8), h = u16(payload, o + 10);
    if (w === 0 || h === 0)
      return { error: `move ${i} is empty (${w}x${h})` };
    if (sx + w > width || sy + h > height || dx + w > width || dy + h > height)
      return { error: `move ${i} (${sx},${sy})->(${dx},${dy}) ${w}x${h} leaves the ${width}x${height} picture` };
    area += w * h;    /* < 2^32 * 65535: exact in a double */
  }
  if (area > width * height * MAX_AREA_PICTURES)
    return { error: `the moves copy ${area} pixels, more than ${MAX_AREA_PICTURES} pictures of ${width}x${height}` };
  return { count, area };
}

let scratch = new Uint8Array(0);
let scratch32 = new Uint32Array(0);

/* A scratch block of at least @n bytes (at most one picture: kept) */
function getScratch (n) {
  if (scratch.length < n) {
    scratch = new Uint8Array((n + 3) & ~3);
    scratch32 = new Uint32Array(scratch.buffer);
  }
  return scratch;
}

/* Rows narrower than this many bytes are copied a pixel at a time: a
 * subarray per row would cost more than the copy (a hostile table of
 * 1-pixel columns is millions of rows) */
const NARROW_ROW = 256;

/* The pixels of @a as 32-bit words (every offset here is a multiple of
 * 4), or null when @a is not aligned */
function words (a) {
  return (a.byteOffset & 3) === 0 ? new Uint32Array(a.buffer, a.byteOffset, a.length >> 2) : null;
}

/* @row bytes from @src at @s to @dst at @d, two different buffers */
function copyRow (dst, dst32, d, src, src32, s, row) {
  if (row >= NARROW_ROW) {
    dst.set(src.subarray(s, s + row), d);
  } else if (dst32 !== null && src32 !== null) {
    const dw = d >> 2, sw = s >> 2, n = row >> 2;
    for (let k = 0; k < n; k++)
      dst32[dw + k] = src32[sw + k];
  } else {
    for (let k = 0; k < row; k++)
      dst[d + k] = src[s + k];
  }
}

/**
 * Turns @pic (Uint8Array, tight RGBA @width×@height), the reference, into
 * the prediction of the @count moves (which parseMoves() accepted with
 * @area) of the table at the start of @payload.
 */
export function predictInPlace (pic, width, height, payload, count, area) {
  const stride = width * 4;
  const size = stride * height;
  if (count === 0)
    return;
  if (count === 1) {
    /* one move: copyWithin is a memmove, rows in the order that reads
     * each source row before it is overwritten */
    const sx = u16(payload, 2), sy = u16(payload, 4);
    const dx = u16(payload, 6), dy = u16(payload, 8);
    const row = u16(payload, 10) * 4, h = u16(payload, 12);
    const s = sy * stride + sx * 4, d = dy * stride + dx * 4;
    if (s === d)
      return;
    if (row === stride) {
      pic.copyWithin(d, s, s + row * h);
    } else if (dy > sy) {
      for (let y = h - 1; y >= 0; y--)
        pic.copyWithin(d + y * stride, s + y * stride, s + y * stride + row);
    } else {
      for (let y = 0; y < h; y++)
        pic.copyWithin(d + y * stride, s + y * stride, s + y * stride + row);
    }
    return;
  }

  const pic32 = words(pic);
  if (area * 4 <= size) {
    /* the sources packed into the scratch, then written in order */
    const buf = getScratch(area * 4);
    const buf32 = scratch32;
    let p = 0;
    for (let i = 0, o = 2; i < count; i++, o += MOVE_SIZE) {
      const sx = u16(payload, o), sy = u16(payload, o + 2);
      const row = u16(payload, o + 8) * 4, h = u16(payload, o + 10);
      let s = sy * stride + sx * 4;
      for (let y = 0; y < h; y++, s += stride, p += row)
        copyRow(buf, buf32, p, pic, pic32, s, row);
    }
    p = 0;
    for (let i = 0, o = 2; i < count; i++, o += MOVE_SIZE) {
      const dx = u16(payload, o + 4), dy = u16(payload, o + 6);
      const row = u16(payload, o + 8) * 4, h = u16(payload, o + 10);
      let d = dy * stride + dx * 4;
      for (let y = 0; y < h; y++, d += stride, p += row)
        copyRow(pic, pic32, d, buf, buf32, p, row);
    }
  } else {
    /* a copy of the whole reference is the source of every move */
    const ref = getScratch(size).subarray(0, size);
    const ref32 = scratch32;
    ref.set(pic);
    for (let i = 0, o = 2; i < count; i++, o += MOVE_SIZE) {
      const sx = u16(payload, o), sy = u16(payload, o + 2);
      const dx = u16(payload, o + 4), dy = u16(payload, o + 6);
      const row = u16(payload, o + 8) * 4, h = u16(payload, o + 10);
      const s = sy * stride + sx * 4, d = dy * stride + dx * 4;
      if (row === stride) {
        pic.set(ref.subarray(s, s + row * h), d);
        continue;
      }
      for (let y = 0; y < h; y++)
        copyRow(pic, pic32, d + y * stride, ref, ref32, s + y * stride, row);
    }
  }
}
