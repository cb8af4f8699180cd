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
 * libFuzzer target: MotionDeltaPixels (dsmotion.c). Input: u16 width - 1
 * and u16 height - 1 (each taken modulo 512), a flags byte (bit 0: the
 * rest is one zstd frame, decompressed first as FLAG_COMPRESSED), then
 * the payload. The payload is validated (ds_frame_validate) and decoded
 * onto a reference, into another buffer and in place; both must give what
 * a plain model gives (the prediction built pixel by pixel from the
 * reference, then the XOR code). The payload's moves, when valid, are
 * also encoded with a current picture and decoded back. Replayed by
 * `meson test fuzz-motion`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dscompress.h"
#include "dsmotion.h"
#include "dsprotocol.h"
#include "dsrle.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

/* The prediction as SPEC §3 says it, one pixel at a time */
static void
model_predict (guint8 * out, const guint8 * ref, guint width, guint height,
    const guint8 * payload, guint n)
{
  guint i, x, y;

  memcpy (out, ref, (gsize) width * height * 4);
  for (i = 0; i < n; i++) {
    DsMotionMove m;

    ds_motion_get_move (payload, i, &m);
    for (y = 0; y < m.height; y++)
      for (x = 0; x < m.width; x++)
        memcpy (out + (((gsize) m.dst_y + y) * width + m.dst_x + x) * 4,
            ref + (((gsize) m.src_y + y) * width + m.src_x + x) * 4, 4);
  }
}

static void
fuzz_motion (const guint8 * data, gsize size)
{
  DsHeader header = { 0, };
  guint width, height, n_moves = 0, i;
  gsize pic, plen;
  const guint8 *payload;
  guint8 *buf = NULL, *ref, *out, *inplace, *model;
  gsize buf_size = 0;
  gboolean valid, decoded, compressed;

  if (size < 5)
    return;
  width = 1 + (data[0] | (data[1] << 8)) % 512;
  height = 1 + (data[2] | (data[3] << 8)) % 512;
  compressed = data[4] & 1;
  payload = data + 5;
  plen = size - 5;
  if (compressed) {
    if (!ds_payload_decompress (payload, plen, 4 << 20, &buf, &buf_size,
            &plen, NULL)) {
      g_free (buf);
      return;
    }
    payload = buf;
  }
  pic = (gsize) width *height * 4;

  header.type = DS_FRAME_MOTION_DELTA_PIXELS;
  header.width = width;
  header.height = height;
  header.payload_len = plen;
  valid = plen <= G_MAXUINT32 && ds_frame_validate (&header,
      plen ? payload : (const guint8 *) "", NULL);
  g_assert (!valid || ds_header_validate (&header, NULL));
  header.flags = DS_FLAG_KEYFRAME;
  g_assert (!ds_frame_validate (&header, plen ? payload :
          (const guint8 *) "", NULL));

  ref = g_malloc (pic);
  out = g_malloc (pic);
  inplace = g_malloc (pic);
  model = g_malloc (pic);
  for (i = 0; i < pic; i++)
    ref[i] = (guint8) (i * 7 + (i >> 10));
  memcpy (inplace, ref, pic);
  memset (out, 0xAA, pic);

  decoded = ds_motion_decode (payload, plen, ref, out, width, height, NULL);
  g_assert (ds_motion_decode (payload, plen, inplace, inplace, width, height,
          NULL) == decoded);
  g_assert (!decoded || valid);
  if (decoded) {
    gsize table;

    g_assert (ds_motion_parse_moves (payload, plen, width, height, &n_moves,
            NULL, NULL));
    table = DS_MOTION_TABLE_SIZE (n_moves);
    model_predict (model, ref, width, height, payload, n_moves);
    g_assert (ds_rle_decode_xor (payload + table, plen - table, model, model,
            pic, NULL));
    g_assert (memcmp (out, model, pic) == 0);
    g_assert (memcmp (inplace, model, pic) == 0);

    /* the same moves with another picture: encode and decode back */
    {
      DsMotionMove *moves = g_new (DsMotionMove, MAX (n_moves, 1));
      gsize cap =
          DS_MOTION_TABLE_SIZE (n_moves) + DS_RLE_MAX_ENCODED_SIZE (pic);
      guint8 *enc = g_malloc (cap);
      gsize enc_len;

      for (i = 0; i < n_moves; i++)
        ds_motion_get_move (payload, i, &moves[i]);
      for (i = 0; i < pic; i += 64)
        model[i] ^= 0x5a;
      enc_len = ds_motion_encode (model, ref, width, height, moves, n_moves,
          enc, cap);
      g_assert (enc_len > 0);
      g_assert (ds_motion_decode (enc, enc_len, ref, out, width, height, NULL));
      g_assert (memcmp (out, model, pic) == 0);
      memcpy (inplace, ref, pic);
      g_assert (ds_motion_encode_update (model, inplace, width, height, moves,
              n_moves, enc, cap) == enc_len);
      g_assert (memcmp (inplace, model, pic) == 0);
      g_free (enc);
      g_free (moves);
    }
  } else {
    /* a failed decode leaves the reference as it was */
    g_assert (memcmp (inplace, ref, pic) == 0);
  }

  g_free (model);
  g_free (inplace);
  g_free (out);
  g_free (ref);
  g_free (buf);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  fuzz_motion (data, size);
  return 0;
}
