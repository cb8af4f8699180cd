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
 * MotionDeltaPixels (dsmotion.h).
 *
 * The moves read the reference, never the partly built prediction. Onto
 * another buffer that is simple: copy the reference, then each rectangle
 * from the reference. In place the sources must be saved before the
 * first write:
 *  - one move: rows copied in the order that reads each source row before
 *    it is overwritten (bottom up when the rectangle moves down), each row
 *    with memmove; no scratch, as a VNC CopyRect is done;
 *  - several moves whose sources total at most one picture: the sources
 *    are packed into a scratch block, then written in order;
 *  - else a copy of the whole reference is the source of every move.
 * So the scratch is at most one picture, and the work at most one
 * picture copy plus twice the moved area (itself at most
 * DS_MOTION_MAX_AREA_PICTURES pictures).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dsmotion.h"
#include "dsprotocol.h"
#include "dsrle.h"

#define BYTES_PER_PIXEL 4

static inline guint16
read_u16 (const guint8 * p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline void
write_u16 (guint8 * p, guint16 v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

void
ds_motion_get_move (const guint8 * payload, guint index, DsMotionMove * move)
{
  const guint8 *p = payload + DS_MOTION_TABLE_SIZE (index);

  move->src_x = read_u16 (p);
  move->src_y = read_u16 (p + 2);
  move->dst_x = read_u16 (p + 4);
  move->dst_y = read_u16 (p + 6);
  move->width = read_u16 (p + 8);
  move->height = read_u16 (p + 10);
}

/* One move against the picture size; adds its area to @area */
static gboolean
check_move (const DsMotionMove * m, guint index, guint width, guint height,
    guint64 * area, GError ** error)
{
  /* u16 + u16: no overflow in guint */
  if (m->width == 0 || m->height == 0) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "move %u is empty (%ux%u)", index, m->width, m->height);
    return FALSE;
  }
  if ((guint) m->src_x + m->width > width ||
      (guint) m->src_y + m->height > height ||
      (guint) m->dst_x + m->width > width ||
      (guint) m->dst_y + m->height > height) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "move %u (%u,%u)->(%u,%u) %ux%u leaves the %ux%u picture", index,
        m->src_x, m->src_y, m->dst_x, m->dst_y, m->width, m->height, width,
        height);
    return FALSE;
  }
  *area += (guint64) m->width * m->height;
  return TRUE;
}

static gboolean
check_area (guint64 area, guint width, guint height, GError ** error)
{
  guint64 bound = (guint64) width * height * DS_MOTION_MAX_AREA_PICTURES;

  if (area <= bound)
    return TRUE;
  g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
      "the moves copy %" G_GUINT64_FORMAT " pixels, more than %d pictures "
      "of %ux%u", area, DS_MOTION_MAX_AREA_PICTURES, width, height);
  return FALSE;
}

/**
 * ds_motion_parse_moves:
 * @payload: (array length=len): a MotionDeltaPixels payload
 * @len: its length
 * @width: the picture width (header)
 * @height: the picture height (header)
 * @n_moves: (out) (optional): the number of moves
 * @moved_pixels: (out) (optional): the sum of w x h over the moves
 * @error: return location for a #GError
 *
 * Checks the move table (dsmotion.h). Reads only the table.
 *
 * Returns: %TRUE when the table is valid
 */
gboolean
ds_motion_parse_moves (const guint8 * payload, gsize len, guint width,
    guint height, guint * n_moves, guint64 * moved_pixels, GError ** error)
{
  guint count, i;
  guint64 area = 0;

  g_return_val_if_fail (len == 0 || payload != NULL, FALSE);

  if (len < 2)
    goto truncated;
  count = read_u16 (payload);
  if (DS_MOTION_TABLE_SIZE (count) > len)
    goto truncated;

  for (i = 0; i < count; i++) {
    DsMotionMove m;

    ds_motion_get_move (payload, i, &m);
    if (!check_move (&m, i, width, height, &area, error))
      return FALSE;
  }
  if (!check_area (area, width, height, error))
    return FALSE;

  if (n_moves)
    *n_moves = count;
  if (moved_pixels)
    *moved_pixels = area;
  return TRUE;

  /* ERRORS */
truncated:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED,
        "MotionDeltaPixels payload of %" G_GSIZE_FORMAT " bytes is shorter "
        "than its move table (%" G_GSIZE_FORMAT " bytes)", len,
        len < 2 ? (gsize) 2 : DS_MOTION_TABLE_SIZE (read_u16 (payload)));
    return FALSE;
  }
}

/**
 * ds_motion_moves_check:
 * @moves: (array length=n_moves): the moves
 * @n_moves: how many, at most %DS_MOTION_MAX_MOVES
 * @width: the picture width
 * @height: the picture height
 * @error: return location for a #GError
 *
 * Returns: %TRUE when @moves make a valid table for the picture
 */
gboolean
ds_motion_moves_check (const DsMotionMove * moves, guint n_moves,
    guint width, guint height, GError ** error)
{
  guint64 area = 0;
  guint i;

  g_return_val_if_fail (n_moves == 0 || moves != NULL, FALSE);

  if (n_moves > DS_MOTION_MAX_MOVES) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "%u moves, at most %u", n_moves, DS_MOTION_MAX_MOVES);
    return FALSE;
  }
  for (i = 0; i < n_moves; i++) {
    if (!check_move (&moves[i], i, width, height, &area, error))
      return FALSE;
  }
  return check_area (area, width, height, error);
}

/* Copies the rectangle of @m from @src to @dst, two different pictures
 * with rows of @stride bytes */
static void
copy_rect (guint8 * dst, const guint8 * src, gsize stride,
    const DsMotionMove * m)
{
  gsize row = (gsize) m->width * BYTES_PER_PIXEL;
  const guint8 *s = src + m->src_y * stride + m->src_x * BYTES_PER_PIXEL;
  guint8 *d = dst + m->dst_y * stride + m->dst_x * BYTES_PER_PIXEL;
  guint y;

  if (row == stride) {
    memcpy (d, s, row * m->height);
    return;
  }
  for (y = 0; y < m->height; y++)
    memcpy (d + y * stride, s + y * stride, row);
}

/* One move inside one picture, reading every source row before it is
 * overwritten */
static void
move_rect (guint8 * pic, gsize stride, const DsMotionMove * m)
{
  gsize row = (gsize) m->width * BYTES_PER_PIXEL;
  const guint8 *s = pic + m->src_y * stride + m->src_x * BYTES_PER_PIXEL;
  guint8 *d = pic + m->dst_y * stride + m->dst_x * BYTES_PER_PIXEL;
  guint y;

  if (s == d)
    return;
  if (row == stride) {
    memmove (d, s, row * m->height);
    return;
  }
  if (m->dst_y > m->src_y) {
    for (y = m->height; y-- > 0;)
      memmove (d + y * stride, s + y * stride, row);
  } else {
    for (y = 0; y < m->height; y++)
      memmove (d + y * stride, s + y * stride, row);
  }
}

/* Packs the source rectangle of @m into @out; returns the end */
static guint8 *
pack_source (guint8 * out, const guint8 * pic, gsize stride,
    const DsMotionMove * m)
{
  gsize row = (gsize) m->width * BYTES_PER_PIXEL;
  const guint8 *s = pic + m->src_y * stride + m->src_x * BYTES_PER_PIXEL;
  guint y;

  for (y = 0; y < m->height; y++, out += row)
    memcpy (out, s + y * stride, row);
  return out;
}

/* Writes a packed rectangle at the destination of @m; returns the end */
static const guint8 *
unpack_destination (guint8 * pic, const guint8 * in, gsize stride,
    const DsMotionMove * m)
{
  gsize row = (gsize) m->width * BYTES_PER_PIXEL;
  guint8 *d = pic + m->dst_y * stride + m->dst_x * BYTES_PER_PIXEL;
  guint y;

  for (y = 0; y < m->height; y++, in += row)
    memcpy (d + y * stride, in, row);
  return in;
}

/* Turns @pic, the reference, into the prediction of the (checked) @table
 * of @n moves copying @moved pixels. FALSE when the scratch cannot be
 * allocated; @pic is then untouched. */
static gboolean
predict_in_place (guint8 * pic, guint width, guint height,
    const guint8 * table, guint n, guint64 moved, GError ** error)
{
  gsize stride = (gsize) width * BYTES_PER_PIXEL;
  gsize size = stride * height;
  guint8 *scratch;
  DsMotionMove m;
  guint i;

  if (n == 0)
    return TRUE;
  if (n == 1) {
    ds_motion_get_move (table, 0, &m);
    move_rect (pic, stride, &m);
    return TRUE;
  }

  if (moved * BYTES_PER_PIXEL <= size) {
    guint8 *p;
    const guint8 *q;

    scratch = g_try_malloc (moved * BYTES_PER_PIXEL);
    if (scratch == NULL)
      goto no_memory;
    p = scratch;
    for (i = 0; i < n; i++) {
      ds_motion_get_move (table, i, &m);
      p = pack_source (p, pic, stride, &m);
    }
    q = scratch;
    for (i = 0; i < n; i++) {
      ds_motion_get_move (table, i, &m);
      q = unpack_destination (pic, q, stride, &m);
    }
  } else {
    scratch = g_try_malloc (size);
    if (scratch == NULL)
      goto no_memory;
    memcpy (scratch, pic, size);
    for (i = 0; i < n; i++) {
      ds_motion_get_move (table, i, &m);
      copy_rect (pic, scratch, stride, &m);
    }
  }
  g_free (scratch);
  return TRUE;

  /* ERRORS */
no_memory:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "no memory for the moves of a %ux%u picture", width, height);
    return FALSE;
  }
}

/* The prediction of @table into @out, a picture other than @ref */
static void
predict_onto (guint8 * out, const guint8 * ref, guint width, guint height,
    const guint8 * table, guint n)
{
  gsize stride = (gsize) width * BYTES_PER_PIXEL;
  DsMotionMove m;
  guint i;

  memcpy (out, ref, stride * height);
  for (i = 0; i < n; i++) {
    ds_motion_get_move (table, i, &m);
    copy_rect (out, ref, stride, &m);
  }
}

/* Writes the table of @moves at @dst (room checked by the caller) */
static void
write_table (guint8 * dst, const DsMotionMove * moves, guint n)
{
  guint i;

  write_u16 (dst, n);
  for (i = 0; i < n; i++) {
    guint8 *p = dst + DS_MOTION_TABLE_SIZE (i);

    write_u16 (p, moves[i].src_x);
    write_u16 (p + 2, moves[i].src_y);
    write_u16 (p + 4, moves[i].dst_x);
    write_u16 (p + 6, moves[i].dst_y);
    write_u16 (p + 8, moves[i].width);
    write_u16 (p + 10, moves[i].height);
  }
}

/**
 * ds_motion_encode:
 * @cur: the current picture, @width x @height tight RGBA
 * @ref: the reference picture, the same size
 * @width: picture width, > 0
 * @height: picture height, > 0
 * @moves: (array length=n_moves): the moves, checked by
 *     ds_motion_moves_check()
 * @n_moves: how many
 * @dst: where the payload is written
 * @dst_cap: room in @dst
 *
 * Returns: the payload length, or 0 when it does not fit @dst_cap
 */
gsize
ds_motion_encode (const guint8 * cur, const guint8 * ref, guint width,
    guint height, const DsMotionMove * moves, guint n_moves, guint8 * dst,
    gsize dst_cap)
{
  gsize size = (gsize) width * height * BYTES_PER_PIXEL;
  gsize table = DS_MOTION_TABLE_SIZE (n_moves);
  gsize code_len;
  guint8 *prediction;

  g_return_val_if_fail (cur != NULL && ref != NULL, 0);
  g_return_val_if_fail (width > 0 && height > 0, 0);
  g_return_val_if_fail (ds_motion_moves_check (moves, n_moves, width, height,
          NULL), 0);
  g_return_val_if_fail (dst_cap == 0 || dst != NULL, 0);

  if (dst_cap <= table)
    return 0;
  write_table (dst, moves, n_moves);
  prediction = g_try_malloc (size);
  if (prediction == NULL)
    return 0;
  predict_onto (prediction, ref, width, height, dst, n_moves);
  code_len = ds_rle_encode_xor (cur, prediction, size, dst + table,
      dst_cap - table);
  g_free (prediction);

  return code_len > 0 ? table + code_len : 0;
}

/**
 * ds_motion_encode_update:
 * @cur: the current picture, @width x @height tight RGBA
 * @ref: the reference picture, the same size; equals @cur on return
 * @width: picture width, > 0
 * @height: picture height, > 0
 * @moves: (array length=n_moves): the moves, checked by
 *     ds_motion_moves_check()
 * @n_moves: how many
 * @dst: where the payload is written
 * @dst_cap: room in @dst
 *
 * Returns: the payload length, or 0 when it does not fit @dst_cap
 */
gsize
ds_motion_encode_update (const guint8 * cur, guint8 * ref, guint width,
    guint height, const DsMotionMove * moves, guint n_moves, guint8 * dst,
    gsize dst_cap)
{
  gsize size = (gsize) width * height * BYTES_PER_PIXEL;
  gsize table = DS_MOTION_TABLE_SIZE (n_moves);
  guint64 moved = 0;
  gsize code_len;
  guint i;

  g_return_val_if_fail (cur != NULL && ref != NULL, 0);
  g_return_val_if_fail (width > 0 && height > 0, 0);
  g_return_val_if_fail (ds_motion_moves_check (moves, n_moves, width, height,
          NULL), 0);
  g_return_val_if_fail (dst_cap == 0 || dst != NULL, 0);

  if (dst_cap <= table)
    goto give_up;
  write_table (dst, moves, n_moves);
  for (i = 0; i < n_moves; i++)
    moved += (guint64) moves[i].width * moves[i].height;
  if (!predict_in_place (ref, width, height, dst, n_moves, moved, NULL))
    goto give_up;
  code_len = ds_rle_encode_xor_update (cur, ref, size, dst + table,
      dst_cap - table);

  return code_len > 0 ? table + code_len : 0;

give_up:
  memcpy (ref, cur, size);
  return 0;
}

/**
 * ds_motion_decode:
 * @payload: (array length=len): a MotionDeltaPixels payload
 * @len: its length
 * @ref: the reference picture, @width x @height tight RGBA
 * @out: the decoded picture, the same size; may be @ref
 * @width: picture width
 * @height: picture height
 * @error: return location for a #GError
 *
 * Applies @payload onto @ref. Everything is checked before @out is
 * written.
 *
 * Returns: %TRUE on success; on failure @out is untouched
 */
gboolean
ds_motion_decode (const guint8 * payload, gsize len, const guint8 * ref,
    guint8 * out, guint width, guint height, GError ** error)
{
  gsize size = (gsize) width * height * BYTES_PER_PIXEL;
  guint n_moves;
  guint64 moved;
  gsize table;
  gssize decoded;

  g_return_val_if_fail (len == 0 || payload != NULL, FALSE);
  g_return_val_if_fail (ref != NULL && out != NULL, FALSE);

  if (width == 0 || height == 0)
    goto no_size;
  if (!ds_motion_parse_moves (payload, len, width, height, &n_moves, &moved,
          error))
    return FALSE;
  table = DS_MOTION_TABLE_SIZE (n_moves);
  decoded = ds_rle_decoded_size (payload + table, len - table);
  if (decoded < 0)
    goto bad_code;
  if ((gsize) decoded != size)
    goto size_mismatch;

  if (out == ref) {
    if (!predict_in_place (out, width, height, payload, n_moves, moved, error))
      return FALSE;
  } else {
    predict_onto (out, ref, width, height, payload, n_moves);
  }
  /* checked above: cannot fail */
  return ds_rle_decode_xor (payload + table, len - table, out, out, size,
      error);

  /* ERRORS */
no_size:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "MotionDeltaPixels of %ux%u pixels", width, height);
    return FALSE;
  }
bad_code:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "the run-length code after %u moves is malformed", n_moves);
    return FALSE;
  }
size_mismatch:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_SIZE_MISMATCH,
        "the run-length code after %u moves decodes to %" G_GSSIZE_FORMAT
        " bytes, expected %" G_GSIZE_FORMAT, n_moves, decoded, size);
    return FALSE;
  }
}
