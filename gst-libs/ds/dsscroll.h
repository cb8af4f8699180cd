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
 * Motion detection for MotionDeltaPixels (dsmotion.h): finds the
 * rectangles of a new picture that are rectangles of the reference moved
 * (a page or terminal scrolled, a window dragged, a page scrolled
 * sideways), and describes them as moves.
 *
 * Vertical scrolls first, by row hashes: the picture is cut into up to
 * DS_SCROLL_BANDS column bands (so a page scrolling beside a fixed
 * sidebar is found); every row of every band of both pictures gets a
 * 64-bit hash. The rows of the new picture that changed in place vote for
 * the offset between them and the reference row with the same hash (only
 * reference rows whose hash is unique in their band vote: blank rows say
 * nothing), within half the height. The best few offsets of each band
 * then claim the runs of rows that match at that offset; each run is a
 * move, and the moves of neighbouring bands with the same rows are merged
 * (a full-width scroll is one move per run). Each move is then widened, a
 * column at a time (16 at first), over the columns beside it that moved
 * with it, so a scrolled window that does not fill its bands is covered to
 * its edges.
 *
 * Then moves in any direction (a dragged window, a sideways scroll), when
 * the vertical moves explain less than 90% of the box of what changed:
 * up to 256 samples of 16 pixels, on the changed rows of that box, each
 * changed in place and with at least three edges between its pixels, are
 * looked for at every position of the same box in the reference (one
 * 16-byte key per position, a table lookup; a full compare only on a key
 * match). A sample found in more than 8 places (a repeated glyph) does
 * not vote; the others vote for the offsets they were found at. The best
 * offsets (at most 4, with 3 votes or more) each seed a rectangle from the
 * samples that moved by it, grown an edge at a time while the strip it
 * would take matches at the offset (one chunk of 16 pixels in 8 may
 * differ: the residual codes it).
 *
 * Bounded work: first a probe compares DS_SCROLL_PROBE_ROWS rows evenly
 * spread over both pictures in place (one cache line in four of each)
 * and gives up when fewer than two of them changed (a still or typed-on
 * picture costs that probe only); otherwise one read of the new picture
 * for its hashes (and one of the reference, unless it is the new picture
 * of the last call, whose hashes are kept), O(height) per band for the
 * votes, at most DS_SCROLL_MAX_OFFSETS offsets tried per band; the shift
 * search reads the changed box of the reference once, and grows each
 * rectangle over at most the picture. After three searches in a row that
 * found nothing (video, noise), only one picture in eight is searched
 * until a search finds moves. The hashes and samples only guide the
 * choice: a wrong match costs bytes, never correctness, since the
 * residual codes whatever the moves miss.
 */

#ifndef __DS_SCROLL_H__
#define __DS_SCROLL_H__

#include <glib.h>

#include "dsmotion.h"

G_BEGIN_DECLS

#define DS_SCROLL_BANDS 4
/* Rows compared in place before anything is hashed */
#define DS_SCROLL_PROBE_ROWS 16
#define DS_SCROLL_MAX_OFFSETS 3
/* The most moves one detection returns */
#define DS_SCROLL_MAX_MOVES 256

typedef struct _DsScrollDetector DsScrollDetector;

DsScrollDetector *ds_scroll_detector_new  (void);
void      ds_scroll_detector_free         (DsScrollDetector * detector);

/* Forgets the hashes kept from the last call: call it whenever the next
 * @ref is not the last call's @cur (a keyframe coded without detection,
 * a new stream). Forgetting only costs time: stale hashes cost bytes
 * (worse moves), never correctness. */
void      ds_scroll_detector_reset        (DsScrollDetector * detector);

/* Finds moves from @ref to @cur (tight RGBA, @width x @height)
 * and writes up to DS_SCROLL_MAX_MOVES of them to @moves. Returns how
 * many (0: nothing moved, or too little to be worth a MotionDeltaPixels
 * frame). The moves pass ds_motion_moves_check() and never overlap. The
 * hashes of @cur are kept for the next call, whose @ref it is supposed
 * to be (else ds_scroll_detector_reset()). */
guint     ds_scroll_detect                (DsScrollDetector * detector,
                                           const guint8 * cur,
                                           const guint8 * ref,
                                           guint width,
                                           guint height,
                                           DsMotionMove * moves);

G_END_DECLS

#endif /* __DS_SCROLL_H__ */
