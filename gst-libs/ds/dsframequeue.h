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
 * The bounded frame queue of the stream model (dsstream.h), with the one
 * drop policy of SPEC §6.5, used wherever frames wait for a slower
 * consumer (a network uplink, a reader). When the queue is over its
 * bytes or frames limit, in this order:
 *
 * 1. the oldest delta pictures and audio are dropped;
 * 2. the queued signal frames are merged into one (a SignalSync when one
 *    of them is, else a SignalDiff), where the last of them was: signal
 *    state is never lost; never across a queued Keyframe or End frame or
 *    a pinned signal frame, which reset or replace what came before;
 * 3. the oldest of the rest is dropped, except signal frames, control
 *    frames (Keyframe, End, Ping) and pinned frames (a catch-up).
 *
 * Pinned frames are not counted in the limits (a catch-up of one picture
 * comes on top of them); their owner bounds how many it pushes.
 *
 * After a picture was dropped, the queued deltas up to the next queued
 * picture keyframe are dropped too (they could only be drawn on a wrong
 * picture), and when none is queued every delta pushed is dropped until
 * a keyframe comes: the queue says so once (DS_FRAME_QUEUE_WANT_KEYFRAME),
 * and its owner asks the source or pushes the reference picture it holds
 * (ds_stream_state_picture_catchup()). The first frame of a seq stream
 * kept after a drop is marked discont.
 */

#ifndef __DS_FRAME_QUEUE_H__
#define __DS_FRAME_QUEUE_H__

#include <glib.h>

#include "dsprotocol.h"
#include "dssignal.h"

G_BEGIN_DECLS

typedef struct _DsFrameQueue DsFrameQueue;

/* The bytes limit counts each frame's bytes plus this much bookkeeping
 * (what a queued frame costs in memory besides its bytes, which dominates
 * for tiny frames): the limit bounds memory, not just payload */
#define DS_FRAME_QUEUE_FRAME_OVERHEAD 192

typedef struct
{
  /* the whole message, header included; NULL when the owner keeps the
   * bytes in @owner_data (ds_frame_queue_push_full()) */
  GBytes *frame;
  gsize size;                   /* bytes of the frame */
  gpointer owner_data;
  GDestroyNotify owner_data_free;
  DsHeader header;
  gint64 tag;                   /* the owner's (an arrival time) */
  gboolean discont;             /* frames of its seq stream dropped before,
                                 * or the first after mark_discont() */
  gboolean restart;             /* the first after mark_discont(): a new
                                 * connection, timing starts again */
  gboolean pinned;              /* never dropped (a catch-up) */
  guint64 position;             /* how many frames were pushed before */
} DsQueuedFrame;

void            ds_queued_frame_free      (DsQueuedFrame * frame);

/* What ds_frame_queue_push() tells its owner (bit flags) */
typedef enum
{
  /* pictures were dropped and no keyframe is queued after them: deltas
   * are dropped until one is pushed */
  DS_FRAME_QUEUE_WANT_KEYFRAME = 1 << 0,
  /* frames were dropped by this push */
  DS_FRAME_QUEUE_DROPPED = 1 << 1,
  /* signal frames were merged by this push */
  DS_FRAME_QUEUE_MERGED = 1 << 2,
} DsFrameQueueEvents;

/* @max_bytes, @max_frames: 0 for no limit */
DsFrameQueue *  ds_frame_queue_new        (gsize max_bytes,
                                           guint max_frames);
void            ds_frame_queue_free       (DsFrameQueue * queue);
void            ds_frame_queue_set_limits (DsFrameQueue * queue,
                                           gsize max_bytes,
                                           guint max_frames);
/* Bounds of a merged signal frame (default: ds_signal_limits_init()) */
void            ds_frame_queue_set_signal_limits (DsFrameQueue * queue,
                                           const DsSignalLimits * limits);

/* Appends @frame (a new reference is taken; @header is its parsed
 * header) and enforces the limits. Returns DsFrameQueueEvents. */
guint           ds_frame_queue_push       (DsFrameQueue * queue,
                                           GBytes * frame,
                                           const DsHeader * header,
                                           gint64 tag);
/* The same for a frame that is never dropped nor merged (a catch-up for
 * a receiver: schema, signal state, reference picture) */
guint           ds_frame_queue_push_pinned (DsFrameQueue * queue,
                                           GBytes * frame,
                                           const DsHeader * header,
                                           gint64 tag);

/* For an owner that keeps a frame in its own container (a GstBuffer whose
 * memories are made contiguous only when it is sent): @frame may be NULL
 * except for SignalSync and SignalDiff (the queue reads them to merge
 * them); @size is the frame's size; @owner_data comes back in the
 * DsQueuedFrame and is freed with @owner_data_free when the frame is
 * dropped or freed. A merged signal frame has no owner data. */
guint           ds_frame_queue_push_full  (DsFrameQueue * queue,
                                           GBytes * frame,
                                           gsize size,
                                           const DsHeader * header,
                                           gint64 tag,
                                           gpointer owner_data,
                                           GDestroyNotify owner_data_free,
                                           gboolean pinned);

/* For an owner with a direct path to its consumer: TRUE when the frame
 * of @header may go out at once instead of being pushed (the queue is
 * empty, and it is no delta while a keyframe is awaited); a picture
 * keyframe passed ends the wait. FALSE: push it. */
gboolean        ds_frame_queue_pass       (DsFrameQueue * queue,
                                           const DsHeader * header);

/* The oldest frame, NULL when empty; free with ds_queued_frame_free() */
DsQueuedFrame * ds_frame_queue_pop        (DsFrameQueue * queue);
const DsQueuedFrame * ds_frame_queue_peek (DsFrameQueue * queue);

guint           ds_frame_queue_get_length (DsFrameQueue * queue);
gsize           ds_frame_queue_get_bytes  (DsFrameQueue * queue);
/* Frames dropped (merged ones not counted) since the queue was made */
guint64         ds_frame_queue_get_dropped (DsFrameQueue * queue);
/* Deltas are being dropped until a picture keyframe is pushed */
gboolean        ds_frame_queue_needs_keyframe (DsFrameQueue * queue);

/* Frames were lost outside the queue (a connection closed with frames in
 * flight): drops the queued deltas up to the next queued keyframe, and
 * when there is none, every delta until one is pushed. Returns
 * DS_FRAME_QUEUE_WANT_KEYFRAME in that case. */
guint           ds_frame_queue_lose_reference (DsFrameQueue * queue);
/* For a source, which holds its whole signal state: merged signal frames
 * become one SignalSync of @whole (owned by the caller, kept for the
 * queue's life; it must hold every signal frame pushed so far), so that
 * receivers see a state that is whole, not a diff after a seq gap. NULL:
 * merge what is queued. */
void            ds_frame_queue_set_whole_signals (DsFrameQueue * queue,
                                           DsSignalState * whole);
/* The next frame pushed is marked discont (a new connection: what comes
 * next does not follow what came before) */
void            ds_frame_queue_mark_discont (DsFrameQueue * queue);
/* Drops the queued SignalSync and SignalDiff frames (the owner sends the
 * whole state instead) up to the first queued Keyframe or End frame: the
 * ones after it rebuild the state that frame resets */
void            ds_frame_queue_drop_signals (DsFrameQueue * queue);
/* Empties the queue; the keyframe wait ends too */
void            ds_frame_queue_clear      (DsFrameQueue * queue);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsFrameQueue, ds_frame_queue_free)

G_END_DECLS

#endif /* __DS_FRAME_QUEUE_H__ */
