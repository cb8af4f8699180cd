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
 * MotionDeltaPixels (SPEC §3, docs/protocol.md §3): a table of moved
 * rectangles of the reference, then the run-length code (dsrle.h) of
 * (current XOR prediction).
 *
 * Payload: u16 move_count, then move_count moves of six u16 (src_x,
 * src_y, dst_x, dst_y, w, h), all little-endian, then the code. The
 * prediction is a copy of the reference where each move, in order, copies
 * the w x h rectangle at (src_x, src_y) OF THE REFERENCE to (dst_x, dst_y);
 * later moves overwrite earlier ones.
 *
 * Bounds (checked by ds_motion_parse_moves(), so by ds_frame_validate()):
 * every rectangle inside the picture, w and h at least 1, and the moves
 * together copy at most DS_MOTION_MAX_AREA_PICTURES pictures' worth of
 * pixels. Applying a frame costs at most one copy of the picture, twice
 * the moved area and one pass over the code; it allocates at most one
 * picture of scratch.
 */

#ifndef __DS_MOTION_H__
#define __DS_MOTION_H__

#include <glib.h>

G_BEGIN_DECLS

/* Bytes of one move in the table */
#define DS_MOTION_MOVE_SIZE 12
/* move_count is a u16 */
#define DS_MOTION_MAX_MOVES G_MAXUINT16
/* Bytes of the count and a table of @n moves */
#define DS_MOTION_TABLE_SIZE(n) (2 + (gsize) (n) * DS_MOTION_MOVE_SIZE)
/* The moves of one frame copy at most this many pictures' worth of
 * pixels (the sum of w x h over the moves) */
#define DS_MOTION_MAX_AREA_PICTURES 2

typedef struct
{
  guint16 src_x;
  guint16 src_y;
  guint16 dst_x;
  guint16 dst_y;
  guint16 width;
  guint16 height;
} DsMotionMove;

/* Checks the move table at the start of a MotionDeltaPixels @payload of
 * @len bytes for a picture of @width x @height: the count and the table
 * fit @len (TRUNCATED), each rectangle is at least 1x1 and inside the
 * picture, and the moved area is within DS_MOTION_MAX_AREA_PICTURES
 * pictures (BAD_PAYLOAD). O(move_count), reads nothing after the table.
 * @n_moves and @moved_pixels (the sum of w x h) are optional. The code
 * starts at DS_MOTION_TABLE_SIZE (n_moves). */
gboolean  ds_motion_parse_moves   (const guint8 * payload,
                                   gsize len,
                                   guint width,
                                   guint height,
                                   guint * n_moves,
                                   guint64 * moved_pixels,
                                   GError ** error);

/* Move @index of a table that ds_motion_parse_moves() accepted */
void      ds_motion_get_move      (const guint8 * payload,
                                   guint index,
                                   DsMotionMove * move);

/* The same checks as ds_motion_parse_moves(), on moves given as structs */
gboolean  ds_motion_moves_check   (const DsMotionMove * moves,
                                   guint n_moves,
                                   guint width,
                                   guint height,
                                   GError ** error);

/* Encodes the payload of a MotionDeltaPixels frame of @cur (a tight RGBA
 * picture of @width x @height) against @ref with @moves (which must pass
 * ds_motion_moves_check()) into @dst. Returns its length, or 0 when it
 * does not fit @dst_cap or the moves are invalid. Allocates one picture
 * (the prediction); @dst may be written anywhere below @dst_cap. */
gsize     ds_motion_encode        (const guint8 * cur,
                                   const guint8 * ref,
                                   guint width,
                                   guint height,
                                   const DsMotionMove * moves,
                                   guint n_moves,
                                   guint8 * dst,
                                   gsize dst_cap);

/* ds_motion_encode() that brings @ref up to date: on return @ref equals
 * @cur, whatever the result (so an encoder keeps one reference picture).
 * Allocates at most one picture of scratch, none for one move. @ref and
 * @cur must not overlap. */
gsize     ds_motion_encode_update (const guint8 * cur,
                                   guint8 * ref,
                                   guint width,
                                   guint height,
                                   const DsMotionMove * moves,
                                   guint n_moves,
                                   guint8 * dst,
                                   gsize dst_cap);

/* Decodes a MotionDeltaPixels @payload onto @ref into @out, both tight
 * RGBA pictures of @width x @height; @out may be @ref (in place). The
 * whole payload is checked before anything is written: on failure
 * (TRUNCATED, BAD_PAYLOAD, SIZE_MISMATCH; TOO_LARGE when the scratch
 * cannot be allocated) @out is untouched. */
gboolean  ds_motion_decode        (const guint8 * payload,
                                   gsize len,
                                   const guint8 * ref,
                                   guint8 * out,
                                   guint width,
                                   guint height,
                                   GError ** error);

G_END_DECLS

#endif /* __DS_MOTION_H__ */
