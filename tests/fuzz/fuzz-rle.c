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
 * libFuzzer target: the run-length XOR code of DeltaPixels (dsrle.c):
 * the input as code (decoded onto zeros, onto a reference, in place, and
 * into a wrong size), and as a picture (encoded and decoded back).
 * Replayed by `meson test fuzz-rle`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dsrle.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static void
fuzz_rle (const guint8 * data, gsize size)
{
  gssize decoded;
  guint8 *out, *ref;
  gsize n;

  decoded = ds_rle_decoded_size (data, size);
  n = decoded > 0 ? MIN ((gsize) decoded, 64 << 20) : 64;

  out = g_malloc (n);
  ref = g_malloc0 (n);
  ds_rle_decode_xor (data, size, NULL, out, n, NULL);
  ds_rle_decode_xor (data, size, ref, out, n, NULL);
  /* in place */
  ds_rle_decode_xor (data, size, ref, ref, n, NULL);
  /* a wrong size must fail, never overflow */
  if (n > 1)
    ds_rle_decode_xor (data, size, NULL, out, n - 1, NULL);
  g_free (ref);
  g_free (out);

  /* the input as a picture: encode (against a reference) and decode back */
  if (size > 0) {
    guint8 *enc = g_malloc (DS_RLE_MAX_ENCODED_SIZE (size));
    guint8 *refp = g_malloc (size);
    guint8 *dec = g_malloc (size);
    gsize i, enc_len;

    for (i = 0; i < size; i++)
      refp[i] = data[size - 1 - i];

    enc_len = ds_rle_encode_xor (data, NULL, size, enc,
        DS_RLE_MAX_ENCODED_SIZE (size));
    g_assert (enc_len > 0);
    g_assert (ds_rle_decoded_size (enc, enc_len) == (gssize) size);
    g_assert (ds_rle_decode_xor (enc, enc_len, NULL, dec, size, NULL));
    g_assert (memcmp (dec, data, size) == 0);

    enc_len = ds_rle_encode_xor (data, refp, size, enc,
        DS_RLE_MAX_ENCODED_SIZE (size));
    g_assert (enc_len > 0);
    g_assert (ds_rle_decode_xor (enc, enc_len, refp, dec, size, NULL));
    g_assert (memcmp (dec, data, size) == 0);

    /* a cap too small fails cleanly */
    ds_rle_encode_xor (data, refp, size, enc, enc_len - 1);

    /* the updating encoder leaves @ref equal to the picture, also when it
     * gives up (a cap of size / 2) */
    enc_len = ds_rle_encode_xor_update (data, refp, size, enc,
        DS_RLE_MAX_ENCODED_SIZE (size));
    g_assert (memcmp (refp, data, size) == 0);
    for (i = 0; i < size; i++)
      refp[i] = data[i] ^ (guint8) i;
    ds_rle_encode_xor_update (data, refp, size, enc, size / 2);
    g_assert (memcmp (refp, data, size) == 0);

    g_free (dec);
    g_free (refp);
    g_free (enc);
  }
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  fuzz_rle (data, size);
  return 0;
}
