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
 * libFuzzer target: ds-stream frames as WebSocket messages
 * (ds_frame_parse_message(), ds_frame_validate(), input payloads) and the
 * same bytes as a byte stream through GstDsFramer (gstdsutils.c), cut
 * into buffers at places the input chooses; timestamps and sequence
 * numbers as u32/u16 streams. Replayed by `meson test fuzz-frame`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/gst.h>

#include "dsprotocol.h"
#include "dsstream.h"
#include "gstdsutils.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static void
fuzz_frame (const guint8 * data, gsize size)
{
  DsHeader h;
  DsInputEvent ev;

  if (!ds_frame_parse_message (data, size, DS_DEFAULT_MAX_FRAME_BYTES, &h,
          NULL))
    return;

  if (ds_frame_validate (&h, data + DS_HEADER_SIZE, NULL) &&
      h.type == DS_FRAME_ENCODED_VIDEO && !(h.flags & DS_FLAG_INPUT)) {
    const guint8 *unit = NULL;
    gsize unit_len = 0;
    guint8 codec = 0;

    /* a valid unit has a known codec and at least one byte */
    if (!ds_encoded_video_parse (data + DS_HEADER_SIZE, h.payload_len,
            &codec, &unit, &unit_len, NULL) || !ds_codec_is_known (codec) ||
        unit_len == 0 || unit + unit_len != data + size)
      __builtin_trap ();
    ds_codec_name (codec);
  }
  ds_frame_type_media (h.type);
  ds_frame_type_name (h.type);

  if ((h.flags & DS_FLAG_INPUT) && h.type == DS_INPUT_RECEIVER_REPORT &&
      ds_frame_validate (&h, data + DS_HEADER_SIZE, NULL)) {
    DsReceiverReport report;

    /* a parsed report keeps its order */
    if (ds_receiver_report_parse (data + DS_HEADER_SIZE, h.payload_len,
            &report, NULL) && (report.kbps_min > report.kbps_median ||
            report.kbps_median > report.kbps_max))
      __builtin_trap ();
  }
  if (h.flags & DS_FLAG_INPUT) {
    if (ds_input_event_parse (h.type, data + DS_HEADER_SIZE, h.payload_len,
            &ev, NULL)) {
      GBytes *frame = ds_input_event_to_frame (&ev, h.seq, h.timestamp);
      g_bytes_unref (frame);
    }
  }
}

/* The input as a .ds byte stream: pushed in pieces whose sizes come from
 * the input itself, framed after each push and at EOS */
static void
fuzz_framer (const guint8 * data, gsize size)
{
  GstDsFramer framer;
  gsize off = 0, step;
  guint frames = 0;
  DsSeqTracker seqs;
  DsEncodedVideoState encoded;

  gst_ds_framer_init (&framer);
  ds_seq_tracker_init (&seqs);
  ds_encoded_video_state_init (&encoded);
  step = size > 0 ? (data[0] % 61) + 1 : 1;
  while (off < size) {
    gsize n = MIN (step, size - off);
    GstBuffer *buf = gst_buffer_new_memdup (data + off, n);
    gboolean at_eos;

    GST_BUFFER_PTS (buf) = off;
    gst_ds_framer_push (&framer, buf);
    off += n;
    step = step * 3 + data[off - 1];
    step = (step % 65521) + 1;
    at_eos = (off == size);

    for (;;) {
      DsHeader h;
      GstBuffer *payload = NULL;
      GstClockTime pts;
      GstDsFramerResult res;

      res = gst_ds_framer_next (&framer, 16 * 1024 * 1024, at_eos, &h,
          &payload, &pts);
      if (res == GST_DS_FRAMER_NEED_DATA)
        break;
      if (res == GST_DS_FRAMER_FRAME) {
        g_assert (payload == NULL ||
            gst_buffer_get_size (payload) == h.payload_len);
        guint8 codec = 0;
        gint missing = ds_seq_tracker_push (&seqs, &h);

        if (payload) {
          GstMapInfo map;

          gst_buffer_map (payload, &map, GST_MAP_READ);
          /* a receiver of encoded video, as dsdepay is one */
          if (ds_frame_validate (&h, map.data, NULL) &&
              h.type == DS_FRAME_ENCODED_VIDEO && !(h.flags & DS_FLAG_INPUT))
            codec = map.data[0];
          gst_buffer_unmap (payload, &map);
        }
        ds_encoded_video_state_push (&encoded, &h, codec, missing);
        frames++;
      }
      gst_clear_buffer (&payload);
    }
  }
  gst_ds_framer_available (&framer);
  gst_ds_framer_flush (&framer);
  gst_ds_framer_clear (&framer);
  (void) frames;
}

static void
fuzz_time (const guint8 * data, gsize size)
{
  DsTimestampUnwrapper u;
  guint64 prev = 0;
  gsize i;

  ds_timestamp_unwrapper_init (&u);
  for (i = 0; i + 4 <= size; i += 4) {
    guint32 ts = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) |
        ((guint32) data[i + 3] << 24);
    guint64 t = ds_timestamp_unwrap (&u, ts);

    /* the low 32 bits are the timestamp, unless clamped to 0 */
    g_assert (t == 0 || (guint32) t == ts);
    prev = t;
  }
  (void) prev;

  for (i = 0; i + 4 <= size; i += 4) {
    guint16 a = data[i] | (data[i + 1] << 8);
    guint16 b = data[i + 2] | (data[i + 3] << 8);
    gint d = ds_seq_distance (a, b);

    g_assert (d >= -32768 && d <= 32767);
    g_assert ((guint16) (a + d) == b);
  }
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  static gboolean inited = FALSE;

  if (!inited) {
    gst_init (NULL, NULL);
    inited = TRUE;
  }
  fuzz_frame (data, size);
  fuzz_framer (data, size);
  fuzz_time (data, size);
  return 0;
}
