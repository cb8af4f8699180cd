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
 * Vertical scroll detection for MotionDeltaPixels (dsmotion.h): finds the
 * rows of a new picture that are rows of the reference moved up or down,
 * and describes them as moves.
 *
 * Method: the picture is cut into up to DS_SCROLL_BANDS column bands (so
 * a page scrolling beside a fixed sidebar is found); every row of every
 * band of both pictures gets a 64-bit hash. The rows of the new picture
 * that changed in place vote for the offset between them and the
 * reference row with the same hash (only reference rows whose hash is
 * unique in their band vote: blank rows say nothing), within half the
 * height. The best few offsets of each band then claim the runs of rows
 * that match at that offset; each run is a move, and the moves of
 * neighbouring bands with the same rows are merged (a full-width scroll
 * is one move per run). Each move is then widened, a column at a time
 * (16 at first), over the columns beside it that moved with it, so a
 * scrolled window that does not fill its bands is covered to its edges.
 *
 * Bounded work: first a probe compares DS_SCROLL_PROBE_ROWS rows evenly
 * spread over both pictures in place (one cache line in four of each)
 * and gives up when fewer than two of them changed (a still or typed-on picture costs that probe only); otherwise
 * one read of the new picture for its hashes (and one of the reference,
 * unless it is the new picture of the last call, whose hashes are kept),
 * O(height) per band for the votes, at most DS_SCROLL_MAX_OFFSETS offsets tried per band. After
 * three searches in a row that found nothing (video, a dragged window),
 * only one picture in eight is searched until a search finds moves. The
 * hashes only guide the choice: a wrong match costs bytes, never
 * correctness, since the residual codes whatever the moves miss.
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

/* Finds vertical moves from @ref to @cur (tight RGBA, @width x @height)
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
