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

/* The bounded frame queue and its drop policy (dsframequeue.h) */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "dsframequeue.h"
#include "dsstream.h"

/* A queued frame and its places in the queue's lists: every list is
 * intrusive, so that each drop, merge and removal is O(1) amortized,
 * however long the queue (a slow receiver's queue may hold 100,000s of
 * small frames) */
typedef struct
{
  DsQueuedFrame frame;          /* first: a DsQueuedFrame * is a QueueItem * */
  GList link;                   /* in queue->frames */
  GList stream_link;            /* in queue->streams[seq stream], if any,
                                 * else in queue->resets (Keyframe, End) */
  GList kind_link;              /* in queue->expendable or ->signals */
  GQueue *kind;                 /* which of the two, or NULL */
} QueueItem;

struct _DsFrameQueue
{
  GQueue frames;                /* of QueueItem, oldest first */
  /* the same items by seq stream; the expendable ones (delta pictures,
   * audio) and the signal state frames, not pinned */
  GQueue streams[DS_SEQ_N_STREAMS];
  GQueue expendable;
  GQueue signals;
  GQueue resets;                /* the queued Keyframe and End frames */
  gsize bytes;
  /* of bytes and frames: pinned ones, which the limits do not count */
  gsize pinned_bytes;
  guint pinned_frames;
  gsize max_bytes;
  guint max_frames;
  DsSignalLimits signal_limits;
  gboolean need_keyframe;
  /* a frame of this seq stream was dropped and none of it kept since */
  gboolean discont[DS_SEQ_N_STREAMS];
  guint64 dropped;
  guint64 pushed;
  /* position of the newest picture dropped by this push */
  guint64 broken_from;
  gboolean video_dropped;
  gboolean discont_next;
  /* signal frames at or before this position are not merged with later
   * ones: a Keyframe or End frame, or a pinned signal frame, came after
   * them (merging across would bring back what it reset or replaced) */
  guint64 barrier;
  gboolean have_barrier;
  /* the owner's whole signal state (a source): merges become a
   * SignalSync of it, not a SignalDiff of what was queued */
  DsSignalState *whole;
};

#define ITEM(f) ((QueueItem *) (f))

void
ds_queued_frame_free (DsQueuedFrame * frame)
{
  if (frame == NULL)
    return;
  if (frame->frame)
    g_bytes_unref (frame->frame);
  if (frame->owner_data && frame->owner_data_free)
    frame->owner_data_free (frame->owner_data);
  g_free (ITEM (frame));
}

DsFrameQueue *
ds_frame_queue_new (gsize max_bytes, guint max_frames)
{
  DsFrameQueue *queue = g_new0 (DsFrameQueue, 1);

  ds_frame_queue_set_limits (queue, max_bytes, max_frames);
  ds_signal_limits_init (&queue->signal_limits);
  return queue;
}

/* Kinds of frames, for the policy */

static gboolean
is_video (const DsHeader * header)
{
  return ds_frame_type_media (header->type) == DS_MEDIA_VIDEO;
}

/* A frame that resets what receivers hold (Keyframe, End) */
static gboolean
is_reset (const DsHeader * header)
{
  return header->type == DS_FRAME_KEYFRAME || header->type == DS_FRAME_END;
}

static gboolean
is_signal_state (const DsHeader * header)
{
  return header->type == DS_FRAME_SIGNAL_SYNC ||
      header->type == DS_FRAME_SIGNAL_DIFF;
}

/* Dropped first: delta pictures and audio */
static gboolean
is_expendable (const DsHeader * header)
{
  return ds_frame_needs_reference (header) ||
      ds_frame_type_media (header->type) == DS_MEDIA_AUDIO;
}

/* Never dropped: signal state (merged instead), schema, control frames */
static gboolean
is_precious (const DsHeader * header)
{
  DsMedia media = ds_frame_type_media (header->type);

  return media == DS_MEDIA_SIGNAL || media == DS_MEDIA_NONE;
}

/* Takes @item out of every list; its bytes stop counting */
static void
unlink_item (DsFrameQueue * queue, QueueItem * item)
{
  DsQueuedFrame *frame = &item->frame;
  DsSeqStream id = ds_frame_type_seq_stream (frame->header.type);

  g_queue_unlink (&queue->frames, &item->link);
  if (id != DS_SEQ_NONE)
    g_queue_unlink (&queue->streams[id], &item->stream_link);
  else if (is_reset (&frame->header))
    g_queue_unlink (&queue->resets, &item->stream_link);
  if (item->kind) {
    g_queue_unlink (item->kind, &item->kind_link);
    item->kind = NULL;
  }
  queue->bytes -= frame->size;
  if (frame->pinned) {
    queue->pinned_bytes -= frame->size;
    queue->pinned_frames--;
  }
}

void
ds_frame_queue_clear (DsFrameQueue * queue)
{
  guint i;

  while (queue->frames.head) {
    QueueItem *item = queue->frames.head->data;

    unlink_item (queue, item);
    ds_queued_frame_free (&item->frame);
  }
  queue->need_keyframe = FALSE;
  queue->discont_next = FALSE;
  for (i = 0; i < DS_SEQ_N_STREAMS; i++)
    queue->discont[i] = FALSE;
}

void
ds_frame_queue_free (DsFrameQueue * queue)
{
  if (queue == NULL)
    return;
  ds_frame_queue_clear (queue);
  g_free (queue);
}

void
ds_frame_queue_set_limits (DsFrameQueue * queue, gsize max_bytes,
    guint max_frames)
{
  queue->max_bytes = max_bytes;
  queue->max_frames = max_frames;
}

void
ds_frame_queue_set_signal_limits (DsFrameQueue * queue,
    const DsSignalLimits * limits)
{
  queue->signal_limits = *limits;
}

guint
ds_frame_queue_get_length (DsFrameQueue * queue)
{
  return queue->frames.length;
}

gsize
ds_frame_queue_get_bytes (DsFrameQueue * queue)
{
  return queue->bytes;
}

guint64
ds_frame_queue_get_dropped (DsFrameQueue * queue)
{
  return queue->dropped;
}

gboolean
ds_frame_queue_needs_keyframe (DsFrameQueue * queue)
{
  return queue->need_keyframe;
}

static gboolean
is_over (DsFrameQueue * queue)
{
  guint live = queue->frames.length - queue->pinned_frames;

  return (queue->max_bytes > 0 && queue->bytes - queue->pinned_bytes +
      (gsize) live * DS_FRAME_QUEUE_FRAME_OVERHEAD > queue->max_bytes) ||
      (queue->max_frames > 0 && live > queue->max_frames);
}

/* Removes @item. A dropped frame marks the next queued frame of its seq
 * stream discont, or the next one pushed when none is queued. */
static void
remove_item (DsFrameQueue * queue, QueueItem * item, gboolean dropped)
{
  DsQueuedFrame *frame = &item->frame;

  if (frame->restart) {
    /* the restart of timing moves to the next frame, whatever its kind */
    if (item->link.next) {
      ((QueueItem *) item->link.next->data)->frame.restart = TRUE;
      ((QueueItem *) item->link.next->data)->frame.discont = TRUE;
    } else {
      queue->discont_next = TRUE;
    }
  }
  if (dropped) {
    DsSeqStream id = ds_frame_type_seq_stream (frame->header.type);

    queue->dropped++;
    if (is_video (&frame->header)) {
      queue->video_dropped = TRUE;
      queue->broken_from = MAX (queue->broken_from, frame->position);
    }
    if (id != DS_SEQ_NONE) {
      if (item->stream_link.next)
        ((QueueItem *) item->stream_link.next->data)->frame.discont = TRUE;
      else
        queue->discont[id] = TRUE;
    }
  }
  unlink_item (queue, item);
  ds_queued_frame_free (frame);
}

/* After a picture was dropped: the queued deltas after it up to the next
 * queued keyframe cannot be drawn; when no keyframe follows, deltas are
 * dropped until one is pushed. @from: the position of the dropped
 * picture. Walks the pictures only. */
static guint
drop_broken_deltas (DsFrameQueue * queue, guint64 from)
{
  GList *l = queue->streams[DS_SEQ_PICTURES].head;

  while (l != NULL) {
    GList *next = l->next;
    QueueItem *item = l->data;
    DsQueuedFrame *frame = &item->frame;

    if (frame->position >= from) {
      if (ds_header_is_picture_keyframe (&frame->header))
        return 0;
      if (is_video (&frame->header) && !frame->pinned)
        remove_item (queue, item, TRUE);
    }
    l = next;
  }
  if (queue->need_keyframe)
    return 0;
  queue->need_keyframe = TRUE;
  return DS_FRAME_QUEUE_WANT_KEYFRAME;
}

/* Replaces the queued SignalSync/SignalDiff frames (not pinned) by one,
 * where the last of them was: the last SignalSync and the diffs after it
 * as a SignalSync, or every diff as one SignalDiff (versions kept). Left
 * as they are if the merge would break the signal limits. */
static gboolean
merge_signals (DsFrameQueue * queue)
{
  GList *l, *first = queue->signals.head, *last_sync = NULL;
  DsSignalState *state = NULL;
  QueueItem *last;
  DsQueuedFrame *frame;
  DsHeader header;
  gboolean discont = FALSE, restart = FALSE;
  gchar *json;
  gsize len = 0;
  guint n;

  /* only the frames after the last barrier */
  while (first && queue->have_barrier &&
      ((QueueItem *) first->data)->frame.position <= queue->barrier)
    first = first->next;
  for (n = 0, l = first; l != NULL && n < 2; l = l->next)
    n++;
  if (n < 2)
    return FALSE;

  if (queue->whole == NULL) {
    gboolean ok = TRUE;

    for (l = queue->signals.tail; l != first->prev && last_sync == NULL;
        l = l->prev)
      if (((QueueItem *) l->data)->frame.header.type == DS_FRAME_SIGNAL_SYNC)
        last_sync = l;
    state = ds_signal_state_new ();
    for (l = last_sync ? last_sync : first; ok && l != NULL; l = l->next) {
      const guint8 *data;

      frame = &((QueueItem *) l->data)->frame;
      data = g_bytes_get_data (frame->frame, NULL);
      ok = ds_signal_state_apply_full (state,
          frame->header.type == DS_FRAME_SIGNAL_SYNC,
          (const gchar *) data + DS_HEADER_SIZE, frame->header.payload_len,
          &queue->signal_limits, NULL);
    }
    if (!ok) {
      ds_signal_state_free (state);
      return FALSE;
    }
  }

  last = queue->signals.tail->data;
  while (first->data != last) {
    QueueItem *item = first->data;

    first = first->next;
    discont |= item->frame.discont;
    restart |= item->frame.restart;
    item->frame.restart = FALSE;
    remove_item (queue, item, FALSE);
  }

  frame = &last->frame;
  header = frame->header;
  /* the owner's whole state already holds everything queued */
  if (last_sync || queue->whole) {
    header.type = DS_FRAME_SIGNAL_SYNC;
    header.flags = DS_FLAG_KEYFRAME;
  } else {
    header.type = DS_FRAME_SIGNAL_DIFF;
    header.flags = 0;
  }
  json = ds_signal_state_to_json (state ? state : queue->whole, NULL, &len);
  if (state)
    ds_signal_state_free (state);
  queue->bytes -= frame->size;
  g_bytes_unref (frame->frame);
  if (frame->owner_data && frame->owner_data_free)
    frame->owner_data_free (frame->owner_data);
  frame->owner_data = NULL;
  frame->frame = ds_frame_pack (&header, json, len);
  g_free (json);
  header.payload_len = len;
  frame->header = header;
  frame->discont |= discont;
  frame->restart |= restart;
  frame->size = g_bytes_get_size (frame->frame);
  queue->bytes += frame->size;
  return TRUE;
}

/* Drops the oldest expendable frames until the queue is within its
 * limits */
static void
drop_expendable (DsFrameQueue * queue)
{
  while (queue->expendable.head != NULL && is_over (queue))
    remove_item (queue, queue->expendable.head->data, TRUE);
}

/* Drops, from the oldest, what is neither precious nor pinned until the
 * queue is within its limits. What it skips (signal state, which is
 * merged by then, control frames, catch-ups) is a handful of frames. */
static void
drop_others (DsFrameQueue * queue)
{
  GList *l = queue->frames.head;

  while (l != NULL && is_over (queue)) {
    GList *next = l->next;
    QueueItem *item = l->data;

    if (!item->frame.pinned && !is_precious (&item->frame.header))
      remove_item (queue, item, TRUE);
    l = next;
  }
}

static guint
enforce_limits (DsFrameQueue * queue)
{
  guint64 dropped = queue->dropped;
  guint events = 0;

  if (!is_over (queue))
    return 0;

  queue->video_dropped = FALSE;
  queue->broken_from = 0;
  drop_expendable (queue);
  if (is_over (queue) && merge_signals (queue))
    events |= DS_FRAME_QUEUE_MERGED;
  if (is_over (queue))
    drop_others (queue);
  if (queue->video_dropped)
    events |= drop_broken_deltas (queue, queue->broken_from);
  if (queue->dropped != dropped)
    events |= DS_FRAME_QUEUE_DROPPED;
  return events;
}

guint
ds_frame_queue_push_full (DsFrameQueue * queue, GBytes * bytes, gsize size,
    const DsHeader * header, gint64 tag, gpointer owner_data,
    GDestroyNotify owner_data_free, gboolean pinned)
{
  QueueItem *item;
  DsQueuedFrame *frame;
  DsSeqStream id = ds_frame_type_seq_stream (header->type);

  g_return_val_if_fail (bytes != NULL || !is_signal_state (header), 0);

  if (!pinned && queue->need_keyframe && is_video (header)) {
    if (!ds_header_is_picture_keyframe (header)) {
      /* it could only be drawn on a wrong picture */
      queue->dropped++;
      if (id != DS_SEQ_NONE)
        queue->discont[id] = TRUE;
      if (owner_data && owner_data_free)
        owner_data_free (owner_data);
      return DS_FRAME_QUEUE_DROPPED;
    }
  }
  if (ds_header_is_picture_keyframe (header))
    queue->need_keyframe = FALSE;

  item = g_new0 (QueueItem, 1);
  frame = &item->frame;
  frame->frame = bytes ? g_bytes_ref (bytes) : NULL;
  frame->size = size;
  frame->owner_data = owner_data;
  frame->owner_data_free = owner_data_free;
  frame->header = *header;
  frame->tag = tag;
  frame->pinned = pinned;
  frame->position = queue->pushed++;
  if (id != DS_SEQ_NONE && queue->discont[id]) {
    frame->discont = TRUE;
    queue->discont[id] = FALSE;
  }
  if (queue->discont_next) {
    frame->discont = TRUE;
    frame->restart = TRUE;
    queue->discont_next = FALSE;
  }

  if (header->type == DS_FRAME_KEYFRAME || header->type == DS_FRAME_END ||
      (pinned && is_signal_state (header))) {
    queue->barrier = frame->position;
    queue->have_barrier = TRUE;
  }

  item->link.data = item->stream_link.data = item->kind_link.data = item;
  g_queue_push_tail_link (&queue->frames, &item->link);
  if (id != DS_SEQ_NONE)
    g_queue_push_tail_link (&queue->streams[id], &item->stream_link);
  else if (is_reset (header))
    g_queue_push_tail_link (&queue->resets, &item->stream_link);
  if (!pinned && is_expendable (header))
    item->kind = &queue->expendable;
  else if (!pinned && is_signal_state (header))
    item->kind = &queue->signals;
  if (item->kind)
    g_queue_push_tail_link (item->kind, &item->kind_link);
  queue->bytes += size;
  if (pinned) {
    queue->pinned_bytes += size;
    queue->pinned_frames++;
  }

  return enforce_limits (queue);
}

static guint
push (DsFrameQueue * queue, GBytes * bytes, const DsHeader * header,
    gint64 tag, gboolean pinned)
{
  g_return_val_if_fail (bytes != NULL, 0);
  return ds_frame_queue_push_full (queue, bytes, g_bytes_get_size (bytes),
      header, tag, NULL, NULL, pinned);
}

guint
ds_frame_queue_push (DsFrameQueue * queue, GBytes * frame,
    const DsHeader * header, gint64 tag)
{
  return push (queue, frame, header, tag, FALSE);
}

guint
ds_frame_queue_push_pinned (DsFrameQueue * queue, GBytes * frame,
    const DsHeader * header, gint64 tag)
{
  return push (queue, frame, header, tag, TRUE);
}

DsQueuedFrame *
ds_frame_queue_pop (DsFrameQueue * queue)
{
  QueueItem *item;

  if (queue->frames.head == NULL)
    return NULL;
  item = queue->frames.head->data;
  unlink_item (queue, item);
  return &item->frame;
}

const DsQueuedFrame *
ds_frame_queue_peek (DsFrameQueue * queue)
{
  return queue->frames.head ? &((QueueItem *) queue->frames.head->data)->frame
      : NULL;
}

guint
ds_frame_queue_lose_reference (DsFrameQueue * queue)
{
  queue->need_keyframe = FALSE;
  return drop_broken_deltas (queue, 0);
}

gboolean
ds_frame_queue_pass (DsFrameQueue * queue, const DsHeader * header)
{
  DsSeqStream id = ds_frame_type_seq_stream (header->type);

  if (queue->frames.length > 0 || queue->discont_next ||
      (id != DS_SEQ_NONE && queue->discont[id]))
    return FALSE;
  if (queue->need_keyframe && is_video (header)) {
    if (!ds_header_is_picture_keyframe (header))
      return FALSE;
    queue->need_keyframe = FALSE;
  }
  queue->pushed++;
  return TRUE;
}

void
ds_frame_queue_set_whole_signals (DsFrameQueue * queue, DsSignalState * whole)
{
  queue->whole = whole;
}

void
ds_frame_queue_mark_discont (DsFrameQueue * queue)
{
  queue->discont_next = TRUE;
}

void
ds_frame_queue_drop_signals (DsFrameQueue * queue)
{
  GList *l = queue->streams[DS_SEQ_SIGNALS].head;
  guint64 reset = queue->resets.head ?
      ((QueueItem *) queue->resets.head->data)->frame.position : G_MAXUINT64;

  /* up to the first queued Keyframe or End: the state after it is a new
   * one, which the signal frames queued after it build */
  while (l != NULL) {
    GList *next = l->next;
    QueueItem *item = l->data;

    if (item->frame.position > reset)
      break;
    if (is_signal_state (&item->frame.header))
      remove_item (queue, item, FALSE);
    l = next;
  }
}
