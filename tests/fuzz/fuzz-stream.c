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
 * libFuzzer target: a source's frames through the stream model
 * (dsstream.c, dsframequeue.c) as the relay and the elements use it. The
 * input is a sequence of messages, each a u24 little-endian length and
 * that many bytes; each parsed message is pushed into a DsStreamState
 * with small bounds (so that rebuilds and cache drops happen) and into a
 * DsFrameQueue; after every eighth, a catch-up is taken, and its
 * pictures are decoded as a joiner would; a receiver's DsEncodedVideoState
 * follows the forwarded frames (a unit it lets through follows a
 * keyframe of its codec and size). Replayed by
 * `meson test fuzz-stream`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dscompress.h"
#include "dsframequeue.h"
#include "dsmotion.h"
#include "dsrle.h"
#include "dsstream.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

/* Decodes the catch-up's pictures as a receiver does. Uncompressed
 * frames were checked on arrival and must decode; zstd payloads were
 * not, so one that does not decode leaves the picture of known size but
 * unknown content. A delta with no picture of its size before it is a bug
 * of the model: the catch-up promises a reference. */
static void
decode_catchup (GPtrArray * frames)
{
  guint8 *picture = NULL, *buf = NULL;
  gsize buf_size = 0;
  gboolean have = FALSE;
  guint width = 0, height = 0, i;

  for (i = 0; i < frames->len; i++) {
    gsize len;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index (frames, i), &len);
    gboolean compressed;
    gsize size;
    DsHeader h;

    if (!ds_header_parse (d, len, &h, NULL))
      __builtin_trap ();
    if (h.type != DS_FRAME_PIXELS && h.type != DS_FRAME_DELTA_PIXELS &&
        h.type != DS_FRAME_MOTION_DELTA_PIXELS)
      continue;
    compressed = (h.flags & DS_FLAG_COMPRESSED) != 0;
    size = (gsize) h.width * h.height * 4;
    if (ds_header_is_picture_keyframe (&h)) {
      g_clear_pointer (&picture, g_free);
      have = TRUE;
      width = h.width;
      height = h.height;
      if (compressed)
        continue;
      picture = g_malloc (size);
      if (h.type == DS_FRAME_PIXELS)
        memcpy (picture, d + DS_HEADER_SIZE, size);
      else if (!ds_rle_decode_xor (d + DS_HEADER_SIZE, h.payload_len, NULL,
              picture, size, NULL))
        __builtin_trap ();
      continue;
    }
    if (!have || h.width != width || h.height != height)
      __builtin_trap ();
    if (picture == NULL)
      continue;
    if (compressed) {
      gsize out_len;

      if (!ds_payload_decompress (d + DS_HEADER_SIZE, h.payload_len,
              4 * size + DS_MOTION_TABLE_SIZE (DS_MOTION_MAX_MOVES), &buf,
              &buf_size, &out_len, NULL) ||
          (h.type == DS_FRAME_MOTION_DELTA_PIXELS ?
              !ds_motion_decode (buf, out_len, picture, picture, width,
                  height, NULL) :
              !ds_rle_decode_xor (buf, out_len, picture, picture, size, NULL)))
        g_clear_pointer (&picture, g_free);
    } else if (h.type == DS_FRAME_MOTION_DELTA_PIXELS) {
      if (!ds_motion_decode (d + DS_HEADER_SIZE, h.payload_len, picture,
              picture, width, height, NULL))
        __builtin_trap ();
    } else if (!ds_rle_decode_xor (d + DS_HEADER_SIZE, h.payload_len,
            picture, picture, size, NULL)) {
      __builtin_trap ();
    }
  }
  g_free (buf);
  g_free (picture);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  DsStreamSettings limits;
  DsStreamState *state;
  DsFrameQueue *queue;
  DsSeqTracker seq;
  DsEncodedVideoState encoded;
  gsize off = 0;
  guint n = 0;

  ds_stream_settings_init (&limits);
  limits.max_picture_pixels = 256 * 256;
  limits.max_cache_bytes = 256 * 1024;
  limits.max_frame_bytes = 512 * 1024;
  state = ds_stream_state_new (&limits);
  queue = ds_frame_queue_new (64 * 1024, 64);
  ds_seq_tracker_init (&seq);
  ds_encoded_video_state_init (&encoded);

  while (off + 3 <= size) {
    gsize len = data[off] | (data[off + 1] << 8) | (data[off + 2] << 16);
    GBytes *frame;
    DsHeader h;

    off += 3;
    len = MIN (len, size - off);
    frame = g_bytes_new (data + off, len);
    off += len;
    if (ds_frame_parse_message (g_bytes_get_data (frame, NULL), len,
            limits.max_frame_bytes, &h, NULL)) {
      guint events = 0;
      DsStreamVerdict v = ds_stream_state_push (state, frame, &h, &events,
          NULL);

      gint missing = ds_seq_tracker_push (&seq, &h);

      if (v == DS_STREAM_FORWARD) {
        const guint8 *d = g_bytes_get_data (frame, NULL);
        guint8 codec = 0;

        ds_frame_queue_push (queue, frame, &h, n);
        /* forwarded units are valid ones */
        if (h.type == DS_FRAME_ENCODED_VIDEO && !(h.flags & DS_FLAG_INPUT)) {
          if (!ds_encoded_video_parse (d + DS_HEADER_SIZE, h.payload_len,
                  &codec, NULL, NULL, NULL))
            __builtin_trap ();
        }
        if (ds_encoded_video_state_push (&encoded, &h, codec, missing) &&
            (!encoded.have_keyframe || encoded.codec != codec ||
                encoded.width != h.width || encoded.height != h.height))
          __builtin_trap ();
      }
      if (ds_stream_state_get_cache_bytes (state) > limits.max_cache_bytes)
        __builtin_trap ();
    }
    g_bytes_unref (frame);

    if (++n % 8 == 0) {
      GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
          g_bytes_unref);
      gboolean has_reference;
      DsQueuedFrame *f;
      static const gchar *const select[] = { "a", NULL };

      ds_stream_state_catchup (state, n % 16 ? NULL : select, frames,
          &has_reference);
      decode_catchup (frames);
      g_ptr_array_unref (frames);
      /* a reader takes half the queue */
      for (guint i = ds_frame_queue_get_length (queue) / 2; i > 0; i--) {
        f = ds_frame_queue_pop (queue);
        ds_queued_frame_free (f);
      }
    }
  }

  ds_frame_queue_free (queue);
  ds_stream_state_free (state);
  return 0;
}
