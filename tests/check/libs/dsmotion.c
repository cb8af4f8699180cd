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
/* Unit tests of MotionDeltaPixels (dsmotion.h, SPEC §3): moves that
 * overlap each other and themselves, touch the edges or leave the
 * picture, no moves, the most moves a payload holds, FLAG_KEYFRAME,
 * truncated payloads, zstd payloads, and random round trips, all checked
 * against a model that builds the prediction one pixel at a time. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <zstd.h>

#include <gst/check/gstcheck.h>

#include "dscompress.h"
#include "dsmotion.h"
#include "dsprotocol.h"
#include "dsrle.h"
#include "dsscroll.h"

/* The prediction as SPEC §3 defines it: a copy of the reference, each
 * move copying pixels of the reference, later moves over earlier ones */
static guint8 *
model_predict (const guint8 * ref, guint width, guint height,
    const DsMotionMove * moves, guint n)
{
  guint8 *out = g_memdup2 (ref, (gsize) width * height * 4);
  guint i, x, y;

  for (i = 0; i < n; i++) {
    const DsMotionMove *m = &moves[i];

    for (y = 0; y < m->height; y++)
      for (x = 0; x < m->width; x++)
        memcpy (out + (((gsize) m->dst_y + y) * width + m->dst_x + x) * 4,
            ref + (((gsize) m->src_y + y) * width + m->src_x + x) * 4, 4);
  }
  return out;
}

/* A picture where every pixel differs from its neighbours */
static guint8 *
make_picture (guint width, guint height, guint seed)
{
  gsize size = (gsize) width * height * 4, i;
  guint8 *p = g_malloc (size);

  for (i = 0; i < size; i++)
    p[i] = (guint8) (i * 13 + (i >> 8) * 7 + seed);
  return p;
}

/* The payload of @moves with a code of (@cur XOR prediction) */
static guint8 *
make_payload (const guint8 * cur, const guint8 * ref, guint width,
    guint height, const DsMotionMove * moves, guint n, gsize * len)
{
  gsize size = (gsize) width * height * 4;
  gsize cap = DS_MOTION_TABLE_SIZE (n) + DS_RLE_MAX_ENCODED_SIZE (size);
  guint8 *payload = g_malloc (cap);

  *len = ds_motion_encode (cur, ref, width, height, moves, n, payload, cap);
  fail_unless (*len > 0);
  return payload;
}

/* Decodes @payload onto @ref into a new buffer and in place on a copy,
 * and checks both against @expected */
static void
check_decode (const guint8 * payload, gsize len, const guint8 * ref,
    guint width, guint height, const guint8 * expected)
{
  gsize size = (gsize) width * height * 4;
  guint8 *out = g_malloc (size);
  guint8 *inplace = g_memdup2 (ref, size);
  GError *error = NULL;

  fail_unless (ds_motion_decode (payload, len, ref, out, width, height,
          &error), "%s", error ? error->message : "");
  fail_unless (memcmp (out, expected, size) == 0, "decoded onto another "
      "buffer differs");
  fail_unless (ds_motion_decode (payload, len, inplace, inplace, width,
          height, &error), "%s", error ? error->message : "");
  fail_unless (memcmp (inplace, expected, size) == 0, "decoded in place "
      "differs");
  g_free (inplace);
  g_free (out);
}

#define MAX_CASE_MOVES 4

typedef struct
{
  const gchar *name;
  guint width, height;
  guint n;
  DsMotionMove moves[MAX_CASE_MOVES];
  gint error_code;              /* -1: valid */
} MoveCase;

#define MV(sx, sy, dx, dy, w, h) {sx, sy, dx, dy, w, h}
#define ERR(e) DS_PROTOCOL_ERROR_##e

static const MoveCase move_cases[] = {
  {"no moves", 8, 6, 0, {}, -1},
  {"shift right by one, overlapping itself", 16, 8, 1,
      {MV (0, 2, 1, 2, 12, 3)}, -1},
  {"shift left by one, overlapping itself", 16, 8, 1,
      {MV (3, 1, 2, 1, 13, 5)}, -1},
  {"down, overlapping itself", 16, 12, 1, {MV (2, 1, 3, 4, 10, 7)}, -1},
  {"up, overlapping itself", 16, 12, 1, {MV (2, 5, 1, 0, 10, 7)}, -1},
  {"whole rows down (scroll)", 16, 12, 1, {MV (0, 0, 0, 3, 16, 9)}, -1},
  {"whole rows up (scroll)", 16, 12, 1, {MV (0, 3, 0, 0, 16, 9)}, -1},
  {"onto itself", 16, 12, 1, {MV (2, 2, 2, 2, 5, 5)}, -1},
  {"whole picture", 9, 7, 1, {MV (0, 0, 0, 0, 9, 7)}, -1},
  {"two moves swapping", 16, 8, 2,
      {MV (0, 0, 8, 0, 8, 8), MV (8, 0, 0, 0, 8, 8)}, -1},
  {"chain: a later source is an earlier destination", 16, 8, 2,
      {MV (0, 0, 4, 0, 4, 4), MV (4, 0, 8, 0, 4, 4)}, -1},
  {"later move overwrites an earlier one", 16, 8, 2,
      {MV (0, 0, 6, 2, 6, 4), MV (10, 4, 8, 3, 6, 4)}, -1},
  {"corner to corner, touching every edge", 10, 6, 2,
      {MV (7, 4, 0, 0, 3, 2), MV (0, 0, 7, 4, 3, 2)}, -1},
  {"moves over one picture (copy of the reference)", 8, 8, 3,
        {MV (0, 0, 1, 1, 7, 7), MV (1, 1, 0, 0, 7, 7), MV (0, 0, 0, 0, 4, 4)},
      -1},
  {"moves of two pictures exactly", 4, 4, 2,
      {MV (0, 0, 0, 0, 4, 4), MV (0, 0, 0, 0, 4, 4)}, -1},
  {"leaves the right edge", 10, 6, 1, {MV (0, 0, 8, 0, 3, 2)},
      ERR (BAD_PAYLOAD)},
  {"leaves the bottom edge", 10, 6, 1, {MV (0, 0, 0, 5, 3, 2)},
      ERR (BAD_PAYLOAD)},
  {"source leaves the right edge", 10, 6, 1, {MV (9, 0, 0, 0, 2, 2)},
      ERR (BAD_PAYLOAD)},
  {"source leaves the bottom edge", 10, 6, 1, {MV (0, 6, 0, 0, 1, 1)},
      ERR (BAD_PAYLOAD)},
  {"second move leaves", 10, 6, 2,
      {MV (0, 0, 1, 1, 2, 2), MV (0, 0, 0, 0, 11, 1)}, ERR (BAD_PAYLOAD)},
  {"far outside (u16 sums)", 10, 6, 1, {MV (65535, 0, 0, 0, 65535, 1)},
      ERR (BAD_PAYLOAD)},
  {"zero width", 10, 6, 1, {MV (0, 0, 1, 1, 0, 2)}, ERR (BAD_PAYLOAD)},
  {"zero height", 10, 6, 1, {MV (0, 0, 1, 1, 2, 0)}, ERR (BAD_PAYLOAD)},
  {"moves over two pictures", 4, 4, 3,
        {MV (0, 0, 0, 0, 4, 4), MV (0, 0, 0, 0, 4, 4), MV (0, 0, 0, 0, 1, 1)},
      ERR (BAD_PAYLOAD)},
};

/* The table of @moves written by hand (the encoder refuses bad moves) */
static guint8 *
raw_payload (const DsMotionMove * moves, guint n, guint width, guint height,
    gsize * len)
{
  gsize size = (gsize) width * height * 4;
  gsize code = DS_RLE_MAX_ENCODED_SIZE (size);
  guint8 *zeros = g_malloc0 (size);
  guint8 *p = g_malloc (DS_MOTION_TABLE_SIZE (n) + code);
  guint i, k;

  p[0] = n & 0xff;
  p[1] = n >> 8;
  for (i = 0; i < n; i++) {
    const guint16 v[6] = { moves[i].src_x, moves[i].src_y, moves[i].dst_x,
      moves[i].dst_y, moves[i].width, moves[i].height
    };

    for (k = 0; k < 6; k++) {
      p[DS_MOTION_TABLE_SIZE (i) + 2 * k] = v[k] & 0xff;
      p[DS_MOTION_TABLE_SIZE (i) + 2 * k + 1] = v[k] >> 8;
    }
  }
  /* a code of "nothing changed" */
  *len = DS_MOTION_TABLE_SIZE (n) + ds_rle_encode_xor (zeros, NULL, size,
      p + DS_MOTION_TABLE_SIZE (n), code);
  g_free (zeros);
  return p;
}

GST_START_TEST (test_motion_cases)
{
  const MoveCase *c = &move_cases[__i__];
  gsize size = (gsize) c->width * c->height * 4, len;
  guint8 *ref = make_picture (c->width, c->height, 1);
  guint8 *payload, *copy;
  GError *error = NULL;
  DsHeader h = { 0, };
  gboolean ok;

  GST_INFO ("case %d: %s", __i__, c->name);

  payload = raw_payload (c->moves, c->n, c->width, c->height, &len);
  h.type = DS_FRAME_MOTION_DELTA_PIXELS;
  h.width = c->width;
  h.height = c->height;
  h.payload_len = len;
  ok = ds_frame_validate (&h, payload, &error);

  if (c->error_code >= 0) {
    fail_if (ok, "%s: valid", c->name);
    fail_unless_equals_int (error->code, c->error_code);
    g_clear_error (&error);
    fail_if (ds_motion_moves_check (c->moves, c->n, c->width, c->height,
            &error));
    fail_unless_equals_int (error->code, c->error_code);
    g_clear_error (&error);
    /* the decoder refuses it and leaves the reference as it was */
    copy = g_memdup2 (ref, size);
    fail_if (ds_motion_decode (payload, len, copy, copy, c->width, c->height,
            &error));
    fail_unless_equals_int (error->code, c->error_code);
    g_clear_error (&error);
    fail_unless (memcmp (copy, ref, size) == 0);
    g_free (copy);
  } else {
    guint8 *expected = model_predict (ref, c->width, c->height, c->moves,
        c->n);
    guint8 *cur;
    gsize i;

    fail_unless (ok, "%s: %s", c->name, error ? error->message : "");
    fail_unless (ds_motion_moves_check (c->moves, c->n, c->width, c->height,
            NULL));
    /* the code of "no change": the prediction itself */
    check_decode (payload, len, ref, c->width, c->height, expected);
    g_free (payload);

    /* with changes on top, through the encoder */
    cur = g_memdup2 (expected, size);
    for (i = 0; i < size; i += 20)
      cur[i] ^= 0x81;
    payload = make_payload (cur, ref, c->width, c->height, c->moves, c->n,
        &len);
    check_decode (payload, len, ref, c->width, c->height, cur);
    g_free (cur);
    g_free (expected);
  }

  g_free (payload);
  g_free (ref);
}

GST_END_TEST;

/* The reference implementation would go wrong if moves read the partly
 * built prediction: a chain where that makes a visible difference */
GST_START_TEST (test_motion_reads_the_reference)
{
  const DsMotionMove moves[] = { MV (0, 0, 1, 0, 1, 1), MV (1, 0, 2, 0, 1, 1) };
  guint8 ref[12] = { 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3 };
  const guint8 want[12] = { 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2 };
  guint8 payload[64];
  gsize len;

  len = ds_motion_encode (want, ref, 3, 1, moves, 2, payload, sizeof (payload));
  /* 2 + 24 bytes of table, then 12 zeros as one run */
  fail_unless_equals_int (len, 2 + 24 + 3);
  fail_unless_equals_int (payload[26], 0);
  fail_unless_equals_int (payload[27], 12);
  fail_unless (ds_motion_decode (payload, len, ref, ref, 3, 1, NULL));
  fail_unless (memcmp (ref, want, 12) == 0);
}

GST_END_TEST;

/* 65535 moves (the most a u16 count says), 1x1 each, on a picture where
 * they are within two pictures of area */
GST_START_TEST (test_motion_max_moves)
{
  const guint width = 256, height = 128;
  gsize size = (gsize) width * height * 4, len;
  DsMotionMove *moves = g_new (DsMotionMove, DS_MOTION_MAX_MOVES + 1);
  guint8 *ref = make_picture (width, height, 3), *cur, *payload;
  GError *error = NULL;
  guint i;
  DsHeader h = { 0, };

  for (i = 0; i <= DS_MOTION_MAX_MOVES; i++) {
    moves[i].src_x = (i * 7) % width;
    moves[i].src_y = (i / 3) % height;
    moves[i].dst_x = (i * 11) % width;
    moves[i].dst_y = (i / 5) % height;
    moves[i].width = moves[i].height = 1;
  }
  fail_if (ds_motion_moves_check (moves, DS_MOTION_MAX_MOVES + 1, width,
          height, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);

  cur = model_predict (ref, width, height, moves, DS_MOTION_MAX_MOVES);
  cur[5] ^= 1;
  payload = make_payload (cur, ref, width, height, moves,
      DS_MOTION_MAX_MOVES, &len);
  fail_unless (len > DS_MOTION_TABLE_SIZE (DS_MOTION_MAX_MOVES));
  h.type = DS_FRAME_MOTION_DELTA_PIXELS;
  h.width = width;
  h.height = height;
  h.payload_len = len;
  fail_unless (ds_frame_validate (&h, payload, NULL));
  check_decode (payload, len, ref, width, height, cur);

  g_free (payload);
  g_free (cur);
  g_free (ref);
  g_free (moves);
  (void) size;
}

GST_END_TEST;

/* Every cut of a valid payload fails, and leaves the picture alone */
GST_START_TEST (test_motion_truncated)
{
  const DsMotionMove moves[] = { MV (0, 0, 3, 2, 5, 4), MV (6, 1, 0, 4, 2, 2) };
  const guint width = 12, height = 8;
  gsize size = (gsize) width * height * 4, len, cut;
  guint8 *ref = make_picture (width, height, 5);
  guint8 *cur = make_picture (width, height, 9);
  guint8 *payload = make_payload (cur, ref, width, height, moves, 2, &len);
  guint8 *copy = g_malloc (size);

  for (cut = 0; cut < len; cut++) {
    guint8 *exact = g_memdup2 (payload, MAX (cut, 1));
    GError *error = NULL;

    memcpy (copy, ref, size);
    fail_if (ds_motion_decode (exact, cut, copy, copy, width, height,
            &error), "a cut at %" G_GSIZE_FORMAT " decoded", cut);
    fail_unless (error != NULL);
    g_clear_error (&error);
    fail_unless (memcmp (copy, ref, size) == 0);
    g_free (exact);
  }
  /* too much is wrong too */
  payload = g_realloc (payload, len + 1);
  payload[len] = 7;
  fail_if (ds_motion_decode (payload, len + 1, ref, copy, width, height, NULL));

  g_free (copy);
  g_free (payload);
  g_free (cur);
  g_free (ref);
}

GST_END_TEST;

GST_START_TEST (test_motion_keyframe_refused)
{
  DsHeader h = { 0, };
  const guint8 payload[] = { 0, 0, 0, 16, 0 };
  GError *error = NULL;

  h.type = DS_FRAME_MOTION_DELTA_PIXELS;
  h.width = h.height = 2;
  h.payload_len = sizeof (payload);
  fail_unless (ds_frame_validate (&h, payload, NULL));
  fail_unless (ds_header_validate (&h, NULL));
  h.flags = DS_FLAG_KEYFRAME;
  fail_if (ds_frame_validate (&h, payload, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD);
  g_clear_error (&error);
  fail_if (ds_header_validate (&h, NULL));
  fail_if (ds_header_is_picture_keyframe (&h));
}

GST_END_TEST;

/* Random pictures and moves: encode then decode is bit-exact, and the
 * updating encoder gives the same payload and leaves ref = cur */
GST_START_TEST (test_motion_round_trip_random)
{
  GRand *rand = g_rand_new_with_seed (13);
  guint round;

  for (round = 0; round < 200; round++) {
    guint width = g_rand_int_range (rand, 1, 90);
    guint height = g_rand_int_range (rand, 1, 70);
    gsize size = (gsize) width * height * 4, len, len2, i;
    guint n = g_rand_int_range (rand, 0, 20), k;
    DsMotionMove *moves = g_new0 (DsMotionMove, MAX (n, 1));
    guint64 area = 0;
    guint8 *ref = g_malloc (size), *cur, *payload, *updated, *payload2;

    for (i = 0; i < size; i++)
      ref[i] = g_rand_int_range (rand, 0, 4) ? g_rand_int (rand) : 0;
    for (k = 0; k < n; k++) {
      DsMotionMove *m = &moves[k];

      m->width = g_rand_int_range (rand, 1, width + 1);
      m->height = g_rand_int_range (rand, 1, height + 1);
      if (area + (guint64) m->width * m->height >
          (guint64) width * height * DS_MOTION_MAX_AREA_PICTURES) {
        m->width = m->height = 1;
      }
      area += (guint64) m->width * m->height;
      m->src_x = g_rand_int_range (rand, 0, width - m->width + 1);
      m->src_y = g_rand_int_range (rand, 0, height - m->height + 1);
      m->dst_x = g_rand_int_range (rand, 0, width - m->width + 1);
      m->dst_y = g_rand_int_range (rand, 0, height - m->height + 1);
    }
    if (area > (guint64) width * height * DS_MOTION_MAX_AREA_PICTURES)
      n = 0;
    cur = model_predict (ref, width, height, moves, n);
    for (i = 0; i < size; i++)
      if (g_rand_int_range (rand, 0, 10) == 0)
        cur[i] = g_rand_int (rand);

    payload = make_payload (cur, ref, width, height, moves, n, &len);
    check_decode (payload, len, ref, width, height, cur);

    updated = g_memdup2 (ref, size);
    payload2 = g_malloc (len);
    len2 = ds_motion_encode_update (cur, updated, width, height, moves, n,
        payload2, len);
    fail_unless_equals_int (len2, len);
    fail_unless (memcmp (payload, payload2, len) == 0);
    fail_unless (memcmp (updated, cur, size) == 0);

    /* a cap one byte short: 0, and the reference is still brought up */
    memcpy (updated, ref, size);
    fail_unless_equals_int (ds_motion_encode_update (cur, updated, width,
            height, moves, n, payload2, len - 1), 0);
    fail_unless (memcmp (updated, cur, size) == 0);
    fail_unless_equals_int (ds_motion_encode (cur, ref, width, height, moves,
            n, payload2, len - 1), 0);

    g_free (payload2);
    g_free (updated);
    g_free (payload);
    g_free (cur);
    g_free (ref);
    g_free (moves);
  }
  g_rand_free (rand);
}

GST_END_TEST;

/* FLAG_COMPRESSED: one zstd frame of the whole payload */
GST_START_TEST (test_motion_compressed)
{
  const DsMotionMove moves[] = { MV (0, 0, 0, 8, 64, 40) };
  const guint width = 64, height = 48;
  gsize size = (gsize) width * height * 4, len, zlen, out_len = 0;
  guint8 *ref = make_picture (width, height, 2);
  guint8 *cur = model_predict (ref, width, height, moves, 1);
  guint8 *payload = make_payload (cur, ref, width, height, moves, 1, &len);
  guint8 *z = g_malloc (ZSTD_compressBound (len));
  guint8 *buf = NULL;
  gsize buf_size = 0;
  GError *error = NULL;

  zlen = ZSTD_compress (z, ZSTD_compressBound (len), payload, len, 1);
  fail_if (ZSTD_isError (zlen));
  fail_unless_equals_int (ds_payload_content_size (z, zlen), len);
  fail_unless (ds_payload_decompress (z, zlen, len, &buf, &buf_size,
          &out_len, NULL));
  fail_unless_equals_int (out_len, len);
  check_decode (buf, out_len, ref, width, height, cur);
  /* over the limit; not one frame */
  fail_if (ds_payload_decompress (z, zlen, len - 1, &buf, &buf_size,
          &out_len, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);
  fail_if (ds_payload_decompress (z, zlen - 1, len, &buf, &buf_size,
          &out_len, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD);
  g_clear_error (&error);

  g_free (buf);
  g_free (z);
  g_free (payload);
  g_free (cur);
  g_free (ref);
  (void) size;
}

GST_END_TEST;

/* Text-like rows: a row pattern from a seed, blank rows between lines */
static void
fill_text_row (guint8 * row, guint width, guint line, guint y_in_line)
{
  guint32 state = line * 2654435761u + y_in_line * 40503u + 1;
  guint x;

  for (x = 0; x < width; x++) {
    gboolean ink;

    state = state * 1103515245u + 12345;
    ink = y_in_line >= 3 && y_in_line < 12 && ((state >> 16) & 7) == 0;
    row[4 * x] = ink ? 0x20 : 0xfa;
    row[4 * x + 1] = ink ? 0x20 : 0xfa;
    row[4 * x + 2] = ink ? 0x20 : 0xfa;
    row[4 * x + 3] = 0xff;
  }
}

/* A page scrolled by @offset rows (content moves up) in columns
 * [@x0, @x1) below a fixed header of @header rows; elsewhere a fixed
 * sidebar pattern */
static void
fill_page (guint8 * pic, guint width, guint height, guint x0, guint x1,
    guint header, guint offset)
{
  guint8 *row = g_malloc ((gsize) width * 4);
  guint x, y;

  for (y = 0; y < height; y++) {
    guint8 *out = pic + (gsize) y * width * 4;
    guint page_y = y + offset;

    fill_text_row (row, width, page_y / 14, page_y % 14);
    for (x = 0; x < width; x++) {
      gboolean fixed = y < header || x < x0 || x >= x1;
      const guint8 *src = row + 4 * x;
      guint8 side[4] = { (guint8) (x * 3 + y), 0x40, (guint8) (y * 5), 0xff };

      memcpy (out + 4 * x, fixed ? side : src, 4);
    }
  }
  g_free (row);
}

/* A page scrolled beside a fixed sidebar and under a fixed header: the
 * moves cover exactly the scrolled columns and the rows that stayed in
 * view, and the MotionDeltaPixels frame decodes bit-exact, far smaller
 * than the DeltaPixels one (the rows scrolled into view are new) */
GST_START_TEST (test_scroll_detect_partial)
{
  const guint width = 400, height = 300, x0 = 90, x1 = 370, header = 30;
  const gsize size = (gsize) width * height * 4;
  guint8 *ref = g_malloc (size), *cur = g_malloc (size);
  guint8 *work = g_malloc (size), *code = g_malloc (size);
  DsScrollDetector *d = ds_scroll_detector_new ();
  DsMotionMove moves[DS_SCROLL_MAX_MOVES];
  gsize motion_len, delta_len;
  guint n, i, offset;

  for (offset = 1; offset < 40; offset += 7) {
    fill_page (ref, width, height, x0, x1, header, 100);
    fill_page (cur, width, height, x0, x1, header, 100 + offset);

    ds_scroll_detector_reset (d);
    n = ds_scroll_detect (d, cur, ref, width, height, moves);
    fail_unless (n >= 1, "offset %u: no moves", offset);
    fail_unless (ds_motion_moves_check (moves, n, width, height, NULL));
    for (i = 0; i < n; i++) {
      GST_LOG ("move %u: %u,%u -> %u,%u %ux%u", i, moves[i].src_x,
          moves[i].src_y, moves[i].dst_x, moves[i].dst_y, moves[i].width,
          moves[i].height);
      fail_unless_equals_int (moves[i].src_y, moves[i].dst_y + offset);
      fail_unless_equals_int (moves[i].src_x, moves[i].dst_x);
    }
    /* the main move: the scrolled columns, the rows that stayed */
    fail_unless_equals_int (moves[0].dst_x, x0);
    fail_unless_equals_int (moves[0].width, x1 - x0);
    fail_unless (moves[0].dst_y >= header && moves[0].dst_y < header + 14);
    fail_unless (moves[0].dst_y + moves[0].height > height - offset - 14);

    delta_len = ds_rle_encode_xor (cur, ref, size, code, size);
    memcpy (work, ref, size);
    motion_len = ds_motion_encode_update (cur, work, width, height, moves, n,
        code, size);
    fail_unless (memcmp (work, cur, size) == 0);
    fail_unless (motion_len > 0);
    fail_unless (delta_len == 0 || motion_len * 5 < delta_len,
        "offset %u: motion %" G_GSIZE_FORMAT ", delta %" G_GSIZE_FORMAT,
        offset, motion_len, delta_len);
    memcpy (work, ref, size);
    fail_unless (ds_motion_decode (code, motion_len, work, work, width, height,
            NULL));
    fail_unless (memcmp (work, cur, size) == 0);
  }

  ds_scroll_detector_free (d);
  g_free (ref);
  g_free (cur);
  g_free (work);
  g_free (code);
}

GST_END_TEST;

/* A window of text over a fixed background, at (@wx, @wy) */
static void
fill_desktop (guint8 * pic, guint width, guint height, gint wx, gint wy,
    guint ww, guint wh)
{
  guint8 *row = g_malloc ((gsize) ww * 4);
  guint x, y;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      guint8 *p = pic + ((gsize) y * width + x) * 4;

      p[0] = (guint8) (x / 3 + y);
      p[1] = 0x60;
      p[2] = (guint8) (y * 2 + x / 7);
      p[3] = 0xff;
    }
  for (y = 0; y < wh; y++) {
    gint py = wy + (gint) y;

    fill_text_row (row, ww, y / 14, y % 14);
    /* a title bar */
    if (y < 10)
      memset (row, 0x80, (gsize) ww * 4);
    for (x = 0; x < ww; x++) {
      gint px = wx + (gint) x;

      if (px >= 0 && py >= 0 && px < (gint) width && py < (gint) height)
        memcpy (pic + ((gsize) py * width + px) * 4, row + 4 * x, 4);
    }
  }
  g_free (row);
}

static void
check_shift_found (const guint8 * cur, const guint8 * ref, guint width,
    guint height, gint dx, gint dy, guint min_ratio)
{
  const gsize size = (gsize) width * height * 4;
  guint8 *work = g_malloc (size), *code = g_malloc (2 * size);
  DsScrollDetector *d = ds_scroll_detector_new ();
  DsMotionMove moves[DS_SCROLL_MAX_MOVES];
  gsize motion_len, delta_len;
  gboolean found = FALSE;
  guint n, i;

  n = ds_scroll_detect (d, cur, ref, width, height, moves);
  fail_unless (ds_motion_moves_check (moves, n, width, height, NULL));
  for (i = 0; i < n; i++)
    if ((gint) moves[i].dst_x - (gint) moves[i].src_x == dx
        && (gint) moves[i].dst_y - (gint) moves[i].src_y == dy)
      found = TRUE;
  fail_unless (found, "shift %d,%d not found (%u moves)", dx, dy, n);

  delta_len = ds_rle_encode_xor (cur, ref, size, code, 2 * size);
  memcpy (work, ref, size);
  motion_len = ds_motion_encode_update (cur, work, width, height, moves, n,
      code, 2 * size);
  fail_unless (motion_len > 0);
  fail_unless (memcmp (work, cur, size) == 0);
  fail_unless (motion_len * min_ratio < delta_len,
      "shift %d,%d: motion %" G_GSIZE_FORMAT ", delta %" G_GSIZE_FORMAT,
      dx, dy, motion_len, delta_len);
  memcpy (work, ref, size);
  fail_unless (ds_motion_decode (code, motion_len, work, work, width,
          height, NULL));
  fail_unless (memcmp (work, cur, size) == 0);

  ds_scroll_detector_free (d);
  g_free (work);
  g_free (code);
}

/* A window dragged in any direction, also against the edges of the
 * picture and partly out of it: one move at its offset, the frame far
 * smaller than the DeltaPixels one, decoded bit-exact */
GST_START_TEST (test_scroll_detect_window)
{
  const guint width = 640, height = 480, ww = 300, wh = 200;
  const gsize size = (gsize) width * height * 4;
  static const gint cases[][4] = {
    /* from x, y, by dx, dy */
    {100, 100, 9, 4}, {100, 100, -12, 0}, {100, 100, 0, -7},
    {200, 150, -30, 25}, {0, 0, 5, 5}, {340, 280, -3, -2},
    {-40, 100, 11, 0}, {400, 300, 6, 3},
  };
  guint8 *ref = g_malloc (size), *cur = g_malloc (size);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    fill_desktop (ref, width, height, cases[i][0], cases[i][1], ww, wh);
    fill_desktop (cur, width, height, cases[i][0] + cases[i][2],
        cases[i][1] + cases[i][3], ww, wh);
    check_shift_found (cur, ref, width, height, cases[i][2], cases[i][3], 2);
  }

  g_free (ref);
  g_free (cur);
}

GST_END_TEST;

/* A page scrolled sideways under a fixed header: a move at (dx, 0) */
GST_START_TEST (test_scroll_detect_horizontal)
{
  const guint width = 400, height = 300;
  const gsize size = (gsize) width * height * 4;
  guint8 *wide = g_malloc ((gsize) (width + 64) * height * 4);
  guint8 *ref = g_malloc (size), *cur = g_malloc (size);
  gint dx;
  guint y;

  fill_page (wide, width + 64, height, 0, width + 64, 20, 0);
  for (dx = 1; dx < 64; dx += 13) {
    for (y = 0; y < height; y++) {
      const guint8 *src = wide + (gsize) y * (width + 64) * 4;
      guint shift = y < 20 ? 0 : (guint) dx;

      memcpy (ref + (gsize) y * width * 4, src, (gsize) width * 4);
      memcpy (cur + (gsize) y * width * 4, src + shift * 4, (gsize) width * 4);
    }
    check_shift_found (cur, ref, width, height, -dx, 0, 5);
  }

  g_free (wide);
  g_free (ref);
  g_free (cur);
}

GST_END_TEST;

/* Nothing to find: a still picture, a few changed rows, noise */
/* Random text-like pictures with rectangles moved about (any size, any
 * place, half of them straight down or up), tiny and narrow pictures
 * too: every move the detector finds is checked by ds_motion_moves_check()
 * and the moves never overlap each other (a rectangle grown from a seed
 * must not take an unchecked corner over a move found before it) */
static guint32
xorshift (guint32 * s)
{
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void
move_random_rect (guint32 * s, guint8 * cur, const guint8 * ref, guint w,
    guint h)
{
  guint rw = 1 + xorshift (s) % w, rh = 1 + xorshift (s) % h;
  guint sx = xorshift (s) % (w - rw + 1), sy = xorshift (s) % (h - rh + 1);
  guint dx = xorshift (s) % (w - rw + 1), dy = xorshift (s) % (h - rh + 1);
  guint y;

  if (xorshift (s) & 1)
    dx = sx;
  for (y = 0; y < rh; y++)
    memmove (cur + ((gsize) (dy + y) * w + dx) * 4,
        ref + ((gsize) (sy + y) * w + sx) * 4, (gsize) rw * 4);
}

GST_START_TEST (test_scroll_detect_disjoint_random)
{
  DsScrollDetector *d = ds_scroll_detector_new ();
  DsMotionMove moves[DS_SCROLL_MAX_MOVES];
  guint32 s = 12345;
  guint it, total = 0;

  for (it = 0; it < 3000; it++) {
    guint w = 1 + xorshift (&s) % 400, h = 1 + xorshift (&s) % 400;
    gsize px, k, n;
    guint8 *ref, *cur;
    guint32 bg;
    guint i, j, ops, n_moves;

    if (xorshift (&s) % 4 == 0)
      w = 1 + xorshift (&s) % 20;
    px = (gsize) w *h;
    ref = g_malloc (px * 4);
    bg = 0xff202020u + (xorshift (&s) & 0x3f);
    for (k = 0; k < px; k++)
      memcpy (ref + 4 * k, &bg, 4);
    for (n = px / 50 + 1; n > 0; n--) {
      guint x = xorshift (&s) % w, y = xorshift (&s) % h;
      guint32 c = xorshift (&s) | 0xff000000u;
      guint l = 1 + xorshift (&s) % 6;

      for (j = 0; j < l && x + j < w; j++)
        memcpy (ref + 4 * ((gsize) y * w + x + j), &c, 4);
    }
    cur = g_memdup2 (ref, px * 4);
    for (ops = 1 + xorshift (&s) % 4; ops > 0; ops--) {
      if (xorshift (&s) % 5)
        move_random_rect (&s, cur, ref, w, h);
      else
        cur[(xorshift (&s) % px) * 4] ^= 0x55;
    }

    ds_scroll_detector_reset (d);
    n_moves = ds_scroll_detect (d, cur, ref, w, h, moves);
    total += n_moves;
    fail_unless (ds_motion_moves_check (moves, n_moves, w, h, NULL),
        "picture %u (%ux%u): moves refused", it, w, h);
    for (i = 0; i < n_moves; i++)
      for (j = 0; j < i; j++) {
        const DsMotionMove *a = &moves[i], *b = &moves[j];

        fail_if (a->dst_x < b->dst_x + b->width &&
            b->dst_x < a->dst_x + a->width &&
            a->dst_y < b->dst_y + b->height &&
            b->dst_y < a->dst_y + a->height,
            "picture %u (%ux%u): move %u (%u,%u %ux%u) overlaps move %u "
            "(%u,%u %ux%u)", it, w, h, i, a->dst_x, a->dst_y, a->width,
            a->height, j, b->dst_x, b->dst_y, b->width, b->height);
      }
    g_free (ref);
    g_free (cur);
  }
  /* the pictures did move */
  fail_unless (total > 3000, "%u moves found", total);
  ds_scroll_detector_free (d);
}

GST_END_TEST;

GST_START_TEST (test_scroll_detect_nothing)
{
  const guint width = 320, height = 240;
  const gsize size = (gsize) width * height * 4;
  guint8 *ref = g_malloc (size), *cur = g_malloc (size);
  DsScrollDetector *d = ds_scroll_detector_new ();
  DsMotionMove moves[DS_SCROLL_MAX_MOVES];
  GRand *rand = g_rand_new_with_seed (7);
  gsize k;

  fill_page (ref, width, height, 0, width, 0, 0);
  memcpy (cur, ref, size);
  fail_unless_equals_int (ds_scroll_detect (d, cur, ref, width, height,
          moves), 0);
  /* a word typed */
  memset (cur + (gsize) 50 * width * 4 + 400, 0x20, 40);
  fail_unless_equals_int (ds_scroll_detect (d, cur, ref, width, height,
          moves), 0);
  for (k = 0; k < size; k++) {
    ref[k] = g_rand_int (rand);
    cur[k] = g_rand_int (rand);
  }
  fail_unless_equals_int (ds_scroll_detect (d, cur, ref, width, height,
          moves), 0);

  g_rand_free (rand);
  ds_scroll_detector_free (d);
  g_free (ref);
  g_free (cur);
}

GST_END_TEST;

static Suite *
dsmotion_suite (void)
{
  Suite *s = suite_create ("dsmotion");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_motion_cases, 0, G_N_ELEMENTS (move_cases));
  tcase_add_test (tc, test_motion_reads_the_reference);
  tcase_add_test (tc, test_motion_max_moves);
  tcase_add_test (tc, test_motion_truncated);
  tcase_add_test (tc, test_motion_keyframe_refused);
  tcase_add_test (tc, test_motion_round_trip_random);
  tcase_add_test (tc, test_motion_compressed);
  tcase_add_test (tc, test_scroll_detect_partial);
  tcase_add_test (tc, test_scroll_detect_nothing);
  tcase_add_test (tc, test_scroll_detect_window);
  tcase_add_test (tc, test_scroll_detect_horizontal);
  tcase_add_test (tc, test_scroll_detect_disjoint_random);

  return s;
}

GST_CHECK_MAIN (dsmotion);
