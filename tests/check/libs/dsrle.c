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
/* Unit tests of the run-length code of DeltaPixels (SPEC §3): hand-made
 * vectors, the 65535/65536 run boundary, malformed codes, the dst_cap
 * early abort, and the fast encoder against a byte-by-byte reference
 * encoder on many shapes of content. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>

#include "dsprotocol.h"
#include "dsrle.h"

/* The SPEC's definition, one byte at a time: the reference the fast
 * encoder must match byte for byte */
static gsize
reference_encode (const guint8 * cur, const guint8 * ref, gsize n, guint8 * dst)
{
  gsize i, o = 0, run = 0;

  for (i = 0; i <= n; i++) {
    guint8 b = 0;

    if (i < n) {
      b = ref ? cur[i] ^ ref[i] : cur[i];
      if (b == 0) {
        run++;
        continue;
      }
    }
    while (run > 0) {
      gsize part = MIN (run, 65535);

      dst[o++] = 0;
      dst[o++] = part & 0xff;
      dst[o++] = part >> 8;
      run -= part;
    }
    if (i < n)
      dst[o++] = b;
  }
  return o;
}

typedef struct
{
  const gchar *name;
  const guint8 *input;
  gsize input_len;
  const guint8 *code;
  gsize code_len;
} RleVector;

static const guint8 v_literal_in[] = { 1, 2, 3, 0xff };
static const guint8 v_one_zero_in[] = { 0 };
static const guint8 v_one_zero_code[] = { 0, 1, 0 };
static const guint8 v_mixed_in[] = { 7, 0, 0, 0, 9, 0 };
static const guint8 v_mixed_code[] = { 7, 0, 3, 0, 9, 0, 1, 0 };
static const guint8 v_300_code[] = { 0, 0x2c, 0x01 };

static const RleVector vectors[] = {
  {"literals", v_literal_in, 4, v_literal_in, 4},
  {"one zero", v_one_zero_in, 1, v_one_zero_code, 3},
  {"mixed", v_mixed_in, 6, v_mixed_code, 8},
  {"300 zeros", NULL, 300, v_300_code, 3},
};

GST_START_TEST (test_rle_vectors)
{
  const RleVector *v = &vectors[__i__];
  guint8 *input = g_malloc0 (v->input_len);
  guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (v->input_len));
  guint8 *decoded = g_malloc (v->input_len);
  GError *error = NULL;
  gsize len;

  GST_INFO ("vector %s", v->name);
  if (v->input)
    memcpy (input, v->input, v->input_len);

  len = ds_rle_encode_xor (input, NULL, v->input_len, code,
      DS_RLE_MAX_ENCODED_SIZE (v->input_len));
  fail_unless_equals_int (len, v->code_len);
  fail_unless (memcmp (code, v->code, len) == 0);

  fail_unless_equals_int (ds_rle_decoded_size (v->code, v->code_len),
      v->input_len);
  fail_unless (ds_rle_decode_xor (v->code, v->code_len, NULL, decoded,
          v->input_len, &error));
  g_assert_no_error (error);
  fail_unless (memcmp (decoded, input, v->input_len) == 0);

  g_free (input);
  g_free (code);
  g_free (decoded);
}

GST_END_TEST;

/* Runs of exactly 65535 and 65536 zeros, alone and between literals */
GST_START_TEST (test_rle_run_boundaries)
{
  static const guint8 code_65535[] = { 0, 0xff, 0xff };
  static const guint8 code_65536[] = { 0, 0xff, 0xff, 0, 1, 0 };
  static const guint8 code_65537_lit[] = { 5, 0, 0xff, 0xff, 0, 2, 0, 6 };
  guint8 *zeros = g_malloc0 (65539);
  guint8 code[16];
  guint8 *out = g_malloc (65539);
  gsize len;

  len = ds_rle_encode_xor (zeros, NULL, 65535, code, sizeof (code));
  fail_unless_equals_int (len, 3);
  fail_unless (memcmp (code, code_65535, 3) == 0);
  fail_unless (ds_rle_decode_xor (code, len, NULL, out, 65535, NULL));
  fail_unless (memcmp (out, zeros, 65535) == 0);

  len = ds_rle_encode_xor (zeros, NULL, 65536, code, sizeof (code));
  fail_unless_equals_int (len, 6);
  fail_unless (memcmp (code, code_65536, 6) == 0);
  fail_unless_equals_int (ds_rle_decoded_size (code, len), 65536);
  fail_unless (ds_rle_decode_xor (code, len, NULL, out, 65536, NULL));
  fail_unless (memcmp (out, zeros, 65536) == 0);

  /* 5, 65537 zeros, 6 */
  zeros[0] = 5;
  zeros[65538] = 6;
  len = ds_rle_encode_xor (zeros, NULL, 65539, code, sizeof (code));
  fail_unless_equals_int (len, sizeof (code_65537_lit));
  fail_unless (memcmp (code, code_65537_lit, len) == 0);
  fail_unless (ds_rle_decode_xor (code, len, NULL, out, 65539, NULL));
  fail_unless (memcmp (out, zeros, 65539) == 0);

  /* a run that crosses 65535 inside a block that is not all zeros, with
   * room enough for the fast loop: 5, 65545 zeros, 6, 53 x 7 */
  {
    static const guint8 head[] = { 5, 0, 0xff, 0xff, 0, 10, 0, 6 };
    guint8 *in = g_malloc0 (65600), *back = g_malloc (65600);
    guint8 big[256], expected[8 + 53];

    in[0] = 5;
    in[65546] = 6;
    memset (in + 65547, 7, 53);
    memcpy (expected, head, 8);
    memset (expected + 8, 7, 53);
    len = ds_rle_encode_xor (in, NULL, 65600, big, sizeof (big));
    fail_unless_equals_int (len, sizeof (expected));
    fail_unless (memcmp (big, expected, len) == 0);
    fail_unless (ds_rle_decode_xor (big, len, NULL, back, 65600, NULL));
    fail_unless (memcmp (back, in, 65600) == 0);
    g_free (in);
    g_free (back);
  }

  g_free (zeros);
  g_free (out);
}

GST_END_TEST;

/* cur ^ ref: equal pictures are one run; decoding onto the reference, in
 * place or not, gives the current picture back */
GST_START_TEST (test_rle_xor_reference)
{
  const gsize n = 4096;
  guint8 *cur = g_malloc (n), *ref = g_malloc (n), *out = g_malloc (n);
  guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (n));
  GError *error = NULL;
  gsize i, len;

  for (i = 0; i < n; i++)
    cur[i] = ref[i] = (guint8) (i * 7 + 1);

  len = ds_rle_encode_xor (cur, ref, n, code, n);
  fail_unless_equals_int (len, 3);
  fail_unless_equals_int (code[0], 0);
  fail_unless_equals_int (code[1] | (code[2] << 8), n);

  cur[100] ^= 0x40;
  cur[4095] ^= 0x01;
  len = ds_rle_encode_xor (cur, ref, n, code, n);
  fail_unless_equals_int (len, 3 + 1 + 3 + 1);

  fail_unless (ds_rle_decode_xor (code, len, ref, out, n, &error));
  g_assert_no_error (error);
  fail_unless (memcmp (out, cur, n) == 0);

  /* in place */
  fail_unless (ds_rle_decode_xor (code, len, ref, ref, n, &error));
  fail_unless (memcmp (ref, cur, n) == 0);

  g_free (cur);
  g_free (ref);
  g_free (out);
  g_free (code);
}

GST_END_TEST;

typedef enum
{
  SHAPE_ZERO,
  SHAPE_NOISE,
  SHAPE_SPARSE,
  SHAPE_ALPHA_KEPT,
  SHAPE_BLOCKS,
  SHAPE_RANDOM_RUNS,
  SHAPE_RUNS_NEAR_LIMIT,
  N_SHAPES
} Shape;

/* Fills @cur so that cur ^ ref has the given shape */
static G_GNUC_NO_INLINE void
fill_shape (GRand * rand, Shape shape, const guint8 * ref, guint8 * cur,
    gsize n)
{
  gsize i;

  memcpy (cur, ref, n);
  switch (shape) {
    case SHAPE_ZERO:
      break;
    case SHAPE_NOISE:
      for (i = 0; i < n; i++)
        cur[i] = g_rand_int (rand);
      break;
    case SHAPE_SPARSE:
      for (i = 0; i < n; i++)
        if (g_rand_int_range (rand, 0, 50) == 0)
          cur[i] ^= g_rand_int_range (rand, 1, 256);
      break;
    case SHAPE_ALPHA_KEPT:
      for (i = 0; i < n; i++)
        if (i % 4 != 3)
          cur[i] ^= g_rand_int_range (rand, 1, 256);
      break;
    case SHAPE_BLOCKS:
      for (i = 0; i < n; i++)
        if ((i / 200) % 3 == 1)
          cur[i] ^= g_rand_int_range (rand, 0, 4);
      break;
    case SHAPE_RANDOM_RUNS:{
      i = 0;
      while (i < n) {
        gsize len = g_rand_int_range (rand, 1, 100);
        gboolean change = g_rand_boolean (rand);
        gsize k;

        if (g_rand_int_range (rand, 0, 40) == 0)
          len = g_rand_int_range (rand, 60000, 140000);
        for (k = i; k < MIN (n, i + len); k++)
          if (change)
            cur[k] ^= g_rand_int_range (rand, 1, 256);
        i += len;
      }
      break;
    }
    case SHAPE_RUNS_NEAR_LIMIT:{
      /* unchanged runs of 65535 or 131070 bytes give or take 40,
       * between a few changed pixels: runs that cross the 16-bit count
       * anywhere inside a block */
      i = 0;
      while (i < n) {
        gsize len = g_rand_int_range (rand, 1, 20), k;

        for (k = i; k < MIN (n, i + len); k++)
          cur[k] ^= g_rand_int_range (rand, 1, 256);
        i += len + 65535 * g_rand_int_range (rand, 1, 3) +
            g_rand_int_range (rand, -40, 41);
      }
      break;
    }
    default:
      g_assert_not_reached ();
  }
}

/* The fast encoder equals the reference encoder on every shape, size
 * (including sizes that are not a multiple of the block) and offset, and
 * decodes back; with dst_cap below the code's size it returns 0 */
GST_START_TEST (test_rle_matches_reference)
{
  static const gsize sizes[] = { 1, 31, 32, 33, 100, 4096, 65536 + 77,
    300000, 2000000
  };
  GRand *rand = g_rand_new_with_seed (42 + __i__);
  Shape shape = __i__;
  guint s;

  for (s = 0; s < G_N_ELEMENTS (sizes); s++) {
    gsize n = sizes[s], offset = g_rand_int_range (rand, 0, 8);
    guint8 *ref = g_malloc (n + 8), *cur = g_malloc (n + 8);
    guint8 *expected = g_malloc (DS_RLE_MAX_ENCODED_SIZE (n));
    guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (n));
    guint8 *out = g_malloc (n);
    gsize i, expected_len, len;
    GError *error = NULL;

    for (i = 0; i < n + 8; i++)
      ref[i] = g_rand_int (rand);
    fill_shape (rand, shape, ref + offset, cur + offset, n);

    expected_len = reference_encode (cur + offset, ref + offset, n, expected);
    len = ds_rle_encode_xor (cur + offset, ref + offset, n, code,
        DS_RLE_MAX_ENCODED_SIZE (n));
    fail_unless_equals_int (len, expected_len);
    fail_unless (memcmp (code, expected, len) == 0);

    fail_unless_equals_int (ds_rle_decoded_size (code, len), n);
    fail_unless (ds_rle_decode_xor (code, len, ref + offset, out, n, &error));
    g_assert_no_error (error);
    fail_unless (memcmp (out, cur + offset, n) == 0);

    /* in place, onto a copy of the reference */
    memcpy (out, ref + offset, n);
    fail_unless (ds_rle_decode_xor (code, len, out, out, n, &error));
    g_assert_no_error (error);
    fail_unless (memcmp (out, cur + offset, n) == 0);

    /* exact cap fits, one byte less does not */
    fail_unless_equals_int (ds_rle_encode_xor (cur + offset, ref + offset, n,
            code, expected_len), expected_len);
    fail_unless (memcmp (code, expected, len) == 0);
    fail_unless_equals_int (ds_rle_encode_xor (cur + offset, ref + offset, n,
            code, expected_len - 1), 0);
    /* the raw-size cap of the element: 0 exactly when the code is larger */
    fail_unless_equals_int (ds_rle_encode_xor (cur + offset, ref + offset, n,
            code, n), expected_len <= n ? expected_len : 0);

    /* the updating encoder: same code, and the reference becomes cur,
     * also when the code does not fit */
    {
      static const gint caps_delta[] = { 0, -1 };
      guint c;

      for (c = 0; c < G_N_ELEMENTS (caps_delta); c++) {
        guint8 *updated = g_malloc (n);
        gsize cap = expected_len + caps_delta[c];

        memcpy (updated, ref + offset, n);
        len = ds_rle_encode_xor_update (cur + offset, updated, n, code, cap);
        fail_unless_equals_int (len, c == 0 ? expected_len : 0);
        if (c == 0)
          fail_unless (memcmp (code, expected, len) == 0);
        fail_unless (memcmp (updated, cur + offset, n) == 0);
        g_free (updated);
      }
    }

    /* keyframe delta (no reference) */
    expected_len = reference_encode (cur + offset, NULL, n, expected);
    len = ds_rle_encode_xor (cur + offset, NULL, n, code,
        DS_RLE_MAX_ENCODED_SIZE (n));
    fail_unless_equals_int (len, expected_len);
    fail_unless (memcmp (code, expected, len) == 0);
    fail_unless (ds_rle_decode_xor (code, len, NULL, out, n, NULL));
    fail_unless (memcmp (out, cur + offset, n) == 0);

    g_free (ref);
    g_free (cur);
    g_free (expected);
    g_free (code);
    g_free (out);
  }
  g_rand_free (rand);
}

GST_END_TEST;

typedef struct
{
  const gchar *name;
  const guint8 *code;
  gsize code_len;
  gsize out_len;
  gint error_code;
} MalformedCode;

static const guint8 m_truncated0[] = { 1, 2, 0 };
static const guint8 m_truncated1[] = { 1, 2, 0, 5 };
static const guint8 m_zero_count[] = { 0, 0, 0, 1 };
static const guint8 m_too_long_run[] = { 1, 0, 0xff, 0xff };
static const guint8 m_too_long_lit[] = { 1, 2, 3, 4, 5 };
static const guint8 m_too_short[] = { 1, 0, 2, 0 };

static const MalformedCode malformed[] = {
  {"truncated run (no count)", m_truncated0, 3, 8,
      DS_PROTOCOL_ERROR_BAD_PAYLOAD},
  {"truncated run (half count)", m_truncated1, 4, 8,
      DS_PROTOCOL_ERROR_BAD_PAYLOAD},
  {"zero count", m_zero_count, 4, 1, DS_PROTOCOL_ERROR_BAD_PAYLOAD},
  {"run past the end", m_too_long_run, 4, 16,
      DS_PROTOCOL_ERROR_SIZE_MISMATCH},
  {"literals past the end", m_too_long_lit, 5, 4,
      DS_PROTOCOL_ERROR_SIZE_MISMATCH},
  {"too short", m_too_short, 4, 4, DS_PROTOCOL_ERROR_SIZE_MISMATCH},
  {"empty code", NULL, 0, 4, DS_PROTOCOL_ERROR_SIZE_MISMATCH},
};

/* Malformed codes fail with the right error and touch nothing outside
 * @out (guard bytes around it stay intact) */
GST_START_TEST (test_rle_malformed)
{
  const MalformedCode *m = &malformed[__i__];
  guint8 *buf = g_malloc (m->out_len + 64);
  guint8 *ref = g_malloc0 (m->out_len + 64);
  GError *error = NULL;
  gssize size;
  guint i;

  GST_INFO ("malformed: %s", m->name);
  memset (buf, 0xAA, m->out_len + 64);
  fail_if (ds_rle_decode_xor (m->code, m->code_len, NULL, buf + 32,
          m->out_len, &error));
  fail_unless (g_error_matches (error, DS_PROTOCOL_ERROR, m->error_code));
  g_clear_error (&error);
  fail_if (ds_rle_decode_xor (m->code, m->code_len, ref + 32, buf + 32,
          m->out_len, &error));
  fail_unless (g_error_matches (error, DS_PROTOCOL_ERROR, m->error_code));
  g_clear_error (&error);
  for (i = 0; i < 32; i++) {
    fail_unless_equals_int (buf[i], 0xAA);
    fail_unless_equals_int (buf[m->out_len + 32 + i], 0xAA);
  }

  size = ds_rle_decoded_size (m->code, m->code_len);
  if (m->error_code == DS_PROTOCOL_ERROR_BAD_PAYLOAD) {
    fail_unless_equals_int (size, -1);
  } else {
    fail_unless (size >= 0 && (gsize) size != m->out_len);
  }

  g_free (buf);
  g_free (ref);
}

GST_END_TEST;

GST_START_TEST (test_rle_empty)
{
  guint8 dst[4];

  fail_unless_equals_int (ds_rle_encode_xor (NULL, NULL, 0, dst, 4), 0);
  fail_unless_equals_int (ds_rle_decoded_size (NULL, 0), 0);
  fail_unless (ds_rle_decode_xor (NULL, 0, NULL, NULL, 0, NULL));
}

GST_END_TEST;

static Suite *
dsrle_suite (void)
{
  Suite *s = suite_create ("dsrle");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_rle_vectors, 0, G_N_ELEMENTS (vectors));
  tcase_add_test (tc, test_rle_run_boundaries);
  tcase_add_test (tc, test_rle_xor_reference);
  tcase_add_loop_test (tc, test_rle_matches_reference, 0, N_SHAPES);
  tcase_add_loop_test (tc, test_rle_malformed, 0, G_N_ELEMENTS (malformed));
  tcase_add_test (tc, test_rle_empty);

  return s;
}

GST_CHECK_MAIN (dsrle);
