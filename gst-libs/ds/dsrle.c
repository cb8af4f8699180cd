/* gst-ds-stream
 * Copyright (C) 2026 gst-ds-stream developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Library General Public License for more details.
 *
 * You should have received a copy of the GNU Library General Public
 * License along with this library; if not, write to the
 * Free Software Foundation, Inc., 51 Franklin St, Fifth Floor,
 * Boston, MA 02110-1301, USA.
 */

/*
 * The run-length code of DeltaPixels (SPEC §3).
 *
 * Encoder: one pass over the picture in blocks of 32 bytes. Each block is
 * XORed with the reference (SSE2 on x86-64, 64-bit words elsewhere) and
 * turned into a 32-bit mask of its zero bytes. Three cases cover almost
 * every block without looking at single bytes:
 *  - all zero: the pending zero run grows by 32 (a still screen);
 *  - no zero: the pending run is written, then the 32 bytes at once;
 *  - eight RGBA pixels all changed in R, G and B but not in alpha (full
 *    motion, noise): R G B 00 01 00 per pixel at fixed offsets;
 *  - RGBA pixels each either unchanged or changed in R, G and B only
 *    (text, moving windows): pixel by pixel without branches.
 * Other blocks are walked segment by segment with count-trailing-zeros,
 * not byte by byte. Stores are speculative (whole 32 bytes, then the
 * output pointer advances by what is valid), so the fast loop runs only
 * while the output has room for the worst case of a block plus that
 * overhang; the last part of the output, where @dst_cap could be reached,
 * goes through a byte-exact loop that checks every write. Both loops
 * produce the same, canonical code: maximal zero runs, split at 65535.
 *
 * Decoder: literals are found and moved 16 bytes at a time (SSE2 or two
 * 64-bit words); zero runs become a copy of the reference, nothing at all
 * when decoding in place, or zeros for keyframes. Short runs and
 * literals are written with whole 16/32-byte moves whose excess the
 * next segment overwrites, so most segments cost no call and no loop.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dsprotocol.h"
#include "dsrle.h"

#if defined(__SSE2__) && !defined(DS_RLE_PORTABLE)
#define DS_RLE_SSE2 1
#include <emmintrin.h>
#else
#define DS_RLE_SSE2 0
#endif

#define MAX_RUN 65535
#define PREFETCH_DISTANCE 1024
#define BLOCK 32

/* Room the fast loop needs for one block: a pending run (3), zeros and
 * literals alternating (under 2 bytes out per byte in), plus the overhang
 * of a speculative 32-byte store; rounded up. */
#define FAST_LOOP_ROOM (4 * BLOCK)

#if !DS_RLE_SSE2
/* Zero bytes of a 64-bit word as an 8-bit mask, bit j = byte j in memory */
static inline guint32
zero_byte_mask64 (guint64 w)
{
  const guint64 low7 = G_GUINT64_CONSTANT (0x7F7F7F7F7F7F7F7F);
  guint64 nonzero_high;

  w = GUINT64_FROM_LE (w);
  nonzero_high = ((w & low7) + low7) | w;
  nonzero_high = ~nonzero_high & G_GUINT64_CONSTANT (0x8080808080808080);
  return (guint32) ((nonzero_high *
          G_GUINT64_CONSTANT (0x0002040810204081)) >> 56);
}
#endif

/* XORs 32 bytes of @cur with @ref (when not NULL) into @xored and returns
 * the mask of the zero bytes of the result */
static inline guint32
xor_block (const guint8 * cur, const guint8 * ref, guint8 * xored)
{
#if DS_RLE_SSE2
  __m128i a = _mm_loadu_si128 ((const __m128i *) cur);
  __m128i b = _mm_loadu_si128 ((const __m128i *) (cur + 16));
  __m128i zero = _mm_setzero_si128 ();

  if (ref) {
    a = _mm_xor_si128 (a, _mm_loadu_si128 ((const __m128i *) ref));
    b = _mm_xor_si128 (b, _mm_loadu_si128 ((const __m128i *) (ref + 16)));
  }
  _mm_store_si128 ((__m128i *) xored, a);
  _mm_store_si128 ((__m128i *) (xored + 16), b);
  return (guint32) _mm_movemask_epi8 (_mm_cmpeq_epi8 (a, zero)) |
      ((guint32) _mm_movemask_epi8 (_mm_cmpeq_epi8 (b, zero)) << 16);
#else
  guint32 mask = 0;
  guint k;

  for (k = 0; k < BLOCK / 8; k++) {
    guint64 w, r;

    memcpy (&w, cur + 8 * k, 8);
    if (ref) {
      memcpy (&r, ref + 8 * k, 8);
      w ^= r;
    }
    memcpy (xored + 8 * k, &w, 8);
    mask |= zero_byte_mask64 (w) << (8 * k);
  }
  return mask;
#endif
}

static inline guint8 *
put_run (guint8 * out, gsize run)
{
  out[0] = 0;
  out[1] = (guint8) (run & 0xff);
  out[2] = (guint8) (run >> 8);
  return out + 3;
}

/* A run of up to 2 * 65535 zeros, in one or two parts */
static inline guint8 *
put_run_split (guint8 * out, gsize run)
{
  if (G_UNLIKELY (run > MAX_RUN)) {
    out = put_run (out, MAX_RUN);
    run -= MAX_RUN;
  }
  return put_run (out, run);
}

/* Writes a pending run of any length, checking room; NULL when full */
static guint8 *
put_run_checked (guint8 * out, const guint8 * end, gsize run)
{
  while (run > 0) {
    gsize part = MIN (run, MAX_RUN);

    if (end - out < 3)
      return NULL;
    out = put_run (out, part);
    run -= part;
  }
  return out;
}

/* The byte-exact loop: from @i on, every write checked against @end.
 * With @update (the reference, writable), changed bytes are copied into
 * it, and on failure the rest of @cur too. */
static gsize
encode_checked (const guint8 * cur, const guint8 * ref, guint8 * update,
    gsize i, gsize n, gsize run, guint8 * dst, guint8 * out, const guint8 * end)
{
  for (; i < n; i++) {
    guint8 b = ref ? cur[i] ^ ref[i] : cur[i];

    if (b == 0) {
      run++;
      continue;
    }
    if (run > 0) {
      out = put_run_checked (out, end, run);
      if (out == NULL)
        goto full;
      run = 0;
    }
    if (out == end)
      goto full;
    *out++ = b;
    if (update)
      update[i] = cur[i];
  }
  out = put_run_checked (out, end, run);
  if (out == NULL)
    return 0;
  return out - dst;

full:
  if (update)
    memcpy (update + i, cur + i, n - i);
  return 0;
}

/* @update is NULL or @ref (then writable): see ds_rle_encode_xor_update().
 * Always inlined, so each caller gets a copy without the tests of @ref
 * and @update that do not apply to it. */
static inline __attribute__((always_inline)) gsize
encode (const guint8 * cur, const guint8 * ref, guint8 * update, gsize n,
    guint8 * dst, gsize dst_cap)
{
  /* the block as XORed, followed by zeros so that a 32-byte copy from any
   * offset inside the block stays inside this array */
  guint8 xored[2 * BLOCK] __attribute__((aligned (16))) = { 0, };
  const guint8 *end = dst + dst_cap;
  guint8 *out = dst;
  gsize run = 0;
  gsize i = 0;

  while (i + BLOCK <= n && (gsize) (end - out) >= FAST_LOOP_ROOM) {
    guint32 zeros;

    __builtin_prefetch (cur + i + PREFETCH_DISTANCE);
    if (ref)
      __builtin_prefetch (ref + i + PREFETCH_DISTANCE);
    zeros = xor_block (cur + i, ref ? ref + i : NULL, xored);
    guint64 zeros_end, nonzeros_end;
    guint pos;

    i += BLOCK;

    if (zeros == 0xFFFFFFFFu) {
      run += BLOCK;
      continue;
    }

    /* whole 65535-byte parts of a long pending run go out now; what is
     * left (under 65535) may still grow by this block's leading zeros */
    if (G_UNLIKELY (run >= MAX_RUN)) {
      out = put_run_checked (out, end, run - run % MAX_RUN);
      run %= MAX_RUN;
      if (out == NULL || (gsize) (end - out) < FAST_LOOP_ROOM) {
        /* redo this block in the checked loop (which fails at once when
         * out is NULL) */
        i -= BLOCK;
        if (out == NULL) {
          if (update)
            memcpy (update + i, cur + i, n - i);
          return 0;
        }
        break;
      }
    }

    if (update)
      memcpy (update + i - BLOCK, cur + i - BLOCK, BLOCK);

    if (zeros == 0) {
      if (run > 0)
        out = put_run (out, run);
      memcpy (out, xored, BLOCK);
      out += BLOCK;
      run = 0;
      continue;
    }

    if (zeros == 0x88888888u) {
      /* eight pixels all changed in R, G and B, not in alpha (full
       * motion, noise): R G B 00 01 00 each, at fixed offsets; the last
       * alpha stays pending (the next block may continue the run) */
      guint k;

      if (run > 0)
        out = put_run (out, run);
      for (k = 0; k < BLOCK / 4 - 1; k++) {
        guint64 pattern = (guint64) xored[4 * k] |
            ((guint64) xored[4 * k + 1] << 8) |
            ((guint64) xored[4 * k + 2] << 16) |
            (G_GUINT64_CONSTANT (0x000100) << 24);

        pattern = GUINT64_TO_LE (pattern);
        memcpy (out + 6 * k, &pattern, 8);
      }
      memcpy (out + 6 * k, xored + BLOCK - 4, 4);
      out += 6 * k + 3;
      run = 1;
      continue;
    }

    if (G_LIKELY (run <= MAX_RUN - BLOCK)
        && (zeros & 0x88888888u) == 0x88888888u
        && (zeros & 0x77777777u) == (zeros & 0x11111111u) * 7) {
      /* RGBA pixels that are either unchanged or changed in R, G and B
       * but not in alpha (text, window edges, any opaque motion): per
       * pixel, without branches, a speculative run header and the three
       * changed bytes, each kept only when it is due */
      guint k;

      for (k = 0; k < BLOCK / 4; k++) {
        guint changed = ((zeros >> (4 * k)) & 1) ^ 1;
        guint32 header = GUINT32_TO_LE ((guint32) run << 8);

        memcpy (out, &header, 4);
        out += 3 * (changed & (run != 0));
        memcpy (out, xored + 4 * k, 4);
        out += 3 * changed;
        run = changed ? 1 : run + 4;
      }
      continue;
    }

    /* mixed block: alternate zero and literal segments; a bit above the
     * block stops both scans at its end */
    zeros_end = (guint64) zeros | (G_GUINT64_CONSTANT (1) << BLOCK);
    nonzeros_end = (guint64) (~zeros) | (G_GUINT64_CONSTANT (1) << BLOCK);
    pos = 0;
    for (;;) {
      guint len = __builtin_ctzll (nonzeros_end >> pos);

      run += len;
      pos += len;
      if (pos == BLOCK)
        break;
      len = __builtin_ctzll (zeros_end >> pos);
      if (run > 0)
        out = put_run_split (out, run);
      memcpy (out, xored + pos, BLOCK);
      out += len;
      pos += len;
      run = 0;
      if (pos == BLOCK)
        break;
    }
  }

  return encode_checked (cur, ref, update, i, n, run, dst, out, end);
}

/**
 * ds_rle_encode_xor:
 * @cur: the current picture, @n bytes
 * @ref: (nullable): the reference picture, @n bytes, or %NULL to code
 *     @cur itself (a keyframe delta)
 * @n: bytes in @cur (and @ref)
 * @dst: where the code is written
 * @dst_cap: room in @dst
 *
 * Run-length codes @cur XOR @ref in one pass. @dst_cap = @n makes the
 * encoder give up as soon as the code would be larger than the picture.
 * @dst may be written up to @dst_cap even when the code is shorter.
 *
 * Returns: the length of the code, or 0 when it does not fit @dst_cap (or
 *     @n is 0)
 */
gsize
ds_rle_encode_xor (const guint8 * cur, const guint8 * ref, gsize n,
    guint8 * dst, gsize dst_cap)
{
  g_return_val_if_fail (n == 0 || cur != NULL, 0);
  g_return_val_if_fail (dst_cap == 0 || dst != NULL, 0);

  if (n == 0)
    return 0;

  /* two copies of the loop, so the reference test is not paid per block */
  if (ref)
    return encode (cur, ref, NULL, n, dst, dst_cap);
  return encode (cur, NULL, NULL, n, dst, dst_cap);
}

/**
 * ds_rle_encode_xor_update:
 * @cur: the current picture, @n bytes
 * @ref: the reference picture, @n bytes, not overlapping @cur
 * @n: bytes in @cur and @ref
 * @dst: where the code is written
 * @dst_cap: room in @dst
 *
 * ds_rle_encode_xor() with a reference that is then brought up to date:
 * on return @ref equals @cur, whatever the result. Only the blocks that
 * changed are written, so an encoder keeps its reference picture without
 * a separate copy of the frame.
 *
 * Returns: the length of the code, or 0 when it does not fit @dst_cap (or
 *     @n is 0)
 */
gsize
ds_rle_encode_xor_update (const guint8 * cur, guint8 * ref, gsize n,
    guint8 * dst, gsize dst_cap)
{
  g_return_val_if_fail (n == 0 || cur != NULL, 0);
  g_return_val_if_fail (n == 0 || ref != NULL, 0);
  g_return_val_if_fail (dst_cap == 0 || dst != NULL, 0);

  if (n == 0)
    return 0;

  return encode (cur, ref, ref, n, dst, dst_cap);
}

/* out = a ^ b over @len bytes; @out may be @a */
static inline void
xor_bytes (guint8 * out, const guint8 * a, const guint8 * b, gsize len)
{
  gsize k = 0;

  for (; k + 8 <= len; k += 8) {
    guint64 x, y;

    memcpy (&x, a + k, 8);
    memcpy (&y, b + k, 8);
    x ^= y;
    memcpy (out + k, &x, 8);
  }
  for (; k < len; k++)
    out[k] = a[k] ^ b[k];
}

typedef enum
{
  DECODE_OK,
  DECODE_TOO_LONG,
  DECODE_TRUNCATED_RUN,
  DECODE_ZERO_COUNT,
  DECODE_TOO_SHORT,
} DecodeResult;

typedef enum
{
  ONTO_ZEROS,                   /* no reference: out = code */
  ONTO_REFERENCE,               /* out = ref ^ code, ref is not out */
  IN_PLACE,                     /* out ^= code */
} DecodeMode;

#define CHUNK 16

#if !DS_RLE_SSE2
/* Literal bytes at the start of @src (at most CHUNK, all of @src[0..CHUNK)
 * readable): how many before the first zero byte */
static inline guint
literal_chunk_length (const guint8 * src)
{
  guint64 a, b;
  guint zeros;

  memcpy (&a, src, 8);
  memcpy (&b, src + 8, 8);
  zeros = zero_byte_mask64 (a) | (zero_byte_mask64 (b) << 8);
  return __builtin_ctz (zeros | (1u << CHUNK));
}
#endif

/* The decoder, one copy per mode. Literals are moved CHUNK bytes at a
 * time while CHUNK bytes of code and of output remain: bytes written
 * past a short literal are overwritten by what follows (except in place,
 * where only the literal's own bytes are touched). */
static inline __attribute__((always_inline)) DecodeResult
decode (const guint8 * src, gsize src_len, const guint8 * ref, guint8 * out,
    gsize out_len, DecodeMode mode, gsize * s_out, gsize * o_out)
{
  gsize s = 0, o = 0;
  DecodeResult result = DECODE_OK;

  while (s < src_len) {
    gsize count;

    if (src[s] != 0) {
      if (G_LIKELY (src_len - s >= CHUNK && out_len - o >= CHUNK)) {
#if DS_RLE_SSE2
        __m128i v = _mm_loadu_si128 ((const __m128i *) (src + s));
        guint zeros = _mm_movemask_epi8 (_mm_cmpeq_epi8 (v,
                _mm_setzero_si128 ()));
        guint k = __builtin_ctz (zeros | (1u << CHUNK));

        if (mode == ONTO_ZEROS) {
          _mm_storeu_si128 ((__m128i *) (out + o), v);
        } else if (mode == ONTO_REFERENCE) {
          v = _mm_xor_si128 (v, _mm_loadu_si128 ((const __m128i *) (ref + o)));
          _mm_storeu_si128 ((__m128i *) (out + o), v);
        } else {
          const __m128i lanes = _mm_setr_epi8 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
              10, 11, 12, 13, 14, 15);
          __m128i keep = _mm_cmplt_epi8 (lanes, _mm_set1_epi8 ((char) k));

          v = _mm_xor_si128 (_mm_and_si128 (v, keep),
              _mm_loadu_si128 ((const __m128i *) (out + o)));
          _mm_storeu_si128 ((__m128i *) (out + o), v);
        }
#else
        guint k = literal_chunk_length (src + s);

        if (mode == ONTO_ZEROS) {
          memcpy (out + o, src + s, CHUNK);
        } else if (mode == ONTO_REFERENCE) {
          xor_bytes (out + o, ref + o, src + s, CHUNK);
        } else {
          guint8 masked[CHUNK] = { 0, };

          memcpy (masked, src + s, k);
          xor_bytes (out + o, out + o, masked, CHUNK);
        }
#endif
        o += k;
        s += k;
      } else {
        const guint8 *zero = memchr (src + s, 0, src_len - s);
        gsize literal = zero ? (gsize) (zero - (src + s)) : src_len - s;

        if (literal > out_len - o) {
          result = DECODE_TOO_LONG;
          break;
        }
        if (mode == ONTO_ZEROS)
          memcpy (out + o, src + s, literal);
        else
          xor_bytes (out + o, mode == IN_PLACE ? out + o : ref + o, src + s,
              literal);
        o += literal;
        s += literal;
      }
      continue;
    }

    if (src_len - s < 3) {
      result = DECODE_TRUNCATED_RUN;
      break;
    }
    count = src[s + 1] | (src[s + 2] << 8);
    if (count == 0) {
      result = DECODE_ZERO_COUNT;
      break;
    }
    if (count > out_len - o) {
      result = DECODE_TOO_LONG;
      break;
    }
    if (mode == ONTO_ZEROS) {
      if (count <= CHUNK && out_len - o >= CHUNK)
        memset (out + o, 0, CHUNK);
      else
        memset (out + o, 0, count);
    } else if (mode == ONTO_REFERENCE) {
      if (count <= 2 * CHUNK && out_len - o >= 2 * CHUNK)
        memcpy (out + o, ref + o, 2 * CHUNK);
      else
        memcpy (out + o, ref + o, count);
    }
    o += count;
    s += 3;
  }

  if (result == DECODE_OK && o != out_len)
    result = DECODE_TOO_SHORT;
  *s_out = s;
  *o_out = o;
  return result;
}

/**
 * ds_rle_decode_xor:
 * @src: the code
 * @src_len: its length
 * @ref: (nullable): the reference picture (@out_len bytes), or %NULL for
 *     an all-zero reference
 * @out: the picture, @out_len bytes; may be @ref (decoding in place)
 * @out_len: the expected decoded size
 * @error: return location for a #GError
 *
 * Decodes @src into @out = @ref XOR decoded. Never reads or writes out
 * of bounds.
 *
 * Returns: %TRUE when @src decodes to exactly @out_len bytes; %FALSE with
 *     %DS_PROTOCOL_ERROR_BAD_PAYLOAD (truncated run, zero count) or
 *     %DS_PROTOCOL_ERROR_SIZE_MISMATCH (too many or too few bytes), @out
 *     then holding garbage
 */
gboolean
ds_rle_decode_xor (const guint8 * src, gsize src_len, const guint8 * ref,
    guint8 * out, gsize out_len, GError ** error)
{
  DecodeResult result;
  gsize s, o;

  g_return_val_if_fail (src_len == 0 || src != NULL, FALSE);
  g_return_val_if_fail (out_len == 0 || out != NULL, FALSE);

  if (ref == NULL)
    result = decode (src, src_len, NULL, out, out_len, ONTO_ZEROS, &s, &o);
  else if (ref == out)
    result = decode (src, src_len, ref, out, out_len, IN_PLACE, &s, &o);
  else
    result = decode (src, src_len, ref, out, out_len, ONTO_REFERENCE, &s, &o);

  switch (result) {
    case DECODE_OK:
      return TRUE;
    case DECODE_TOO_LONG:
      goto too_long;
    case DECODE_TRUNCATED_RUN:
      goto truncated_run;
    case DECODE_ZERO_COUNT:
      goto zero_count;
    case DECODE_TOO_SHORT:
    default:
      goto too_short;
  }

  /* ERRORS */
too_long:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_SIZE_MISMATCH,
        "run-length code decodes to more than %" G_GSIZE_FORMAT " bytes",
        out_len);
    return FALSE;
  }
truncated_run:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "run-length code ends inside a zero run (offset %" G_GSIZE_FORMAT
        ")", s);
    return FALSE;
  }
zero_count:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "run-length code has a zero run of count 0 (offset %" G_GSIZE_FORMAT
        ")", s);
    return FALSE;
  }
too_short:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_SIZE_MISMATCH,
        "run-length code decodes to %" G_GSIZE_FORMAT " bytes, expected %"
        G_GSIZE_FORMAT, o, out_len);
    return FALSE;
  }
}

/**
 * ds_rle_decoded_size:
 * @src: the code
 * @src_len: its length
 *
 * Returns: the number of bytes @src decodes to, or -1 when it is
 *     malformed (truncated run, zero count, size beyond %G_MAXSSIZE)
 */
gssize
ds_rle_decoded_size (const guint8 * src, gsize src_len)
{
  gsize s = 0, total = 0;

  g_return_val_if_fail (src_len == 0 || src != NULL, -1);

  while (s < src_len) {
    const guint8 *zero = memchr (src + s, 0, src_len - s);
    gsize count;

    if (zero == NULL) {
      total += src_len - s;
      break;
    }
    total += zero - (src + s);
    s = zero - src;
    if (src_len - s < 3)
      return -1;
    count = src[s + 1] | (src[s + 2] << 8);
    if (count == 0)
      return -1;
    total += count;
    s += 3;
    if (total > G_MAXSSIZE)
      return -1;
  }
  if (total > G_MAXSSIZE)
    return -1;
  return (gssize) total;
}
