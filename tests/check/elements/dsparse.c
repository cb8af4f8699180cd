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

/* dsparse: byte streams cut back into frames wherever they were split,
 * junk and lying headers skipped, timestamps from the headers; the .ds
 * typefinder */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/base/gsttypefindhelper.h>
#include <gst/app/app.h>
#include <glib/gstdio.h>

#include "dsprotocol.h"
#include "dsrle.h"
#include "gstdsutils.h"

#define N_FRAMES 6

/* A byte stream of N_FRAMES frames: a Pixels keyframe (2x2), deltas and
 * audio, timestamps 1000 + 40 * i ms; @offsets gets where each starts */
static GByteArray *
stream_new (gsize offsets[N_FRAMES + 1])
{
  GByteArray *bytes = g_byte_array_new ();
  guint i;

  for (i = 0; i < N_FRAMES; i++) {
    DsHeader header = { 0, };
    guint8 head[DS_HEADER_SIZE];
    guint8 payload[16];
    gsize len;

    memset (payload, i + 1, sizeof (payload));
    header.seq = i;
    header.timestamp = 1000 + 40 * i;
    if (i == 0) {
      header.type = DS_FRAME_PIXELS;
      header.flags = DS_FLAG_KEYFRAME;
      header.width = header.height = 2;
      len = 16;
    } else if (i % 2 == 1) {
      header.type = DS_FRAME_AUDIO_PCM;
      header.width = 2;
      header.height = 48000;
      len = 8;
    } else {
      static const guint8 same[16] = { 0, };

      /* no change: the code of 16 zero XOR bytes */
      header.type = DS_FRAME_DELTA_PIXELS;
      header.width = header.height = 2;
      len = ds_rle_encode_xor (same, NULL, sizeof (same), payload,
          sizeof (payload));
      fail_unless (len > 0);
    }
    header.payload_len = len;
    ds_header_pack (&header, head);
    offsets[i] = bytes->len;
    g_byte_array_append (bytes, head, sizeof (head));
    g_byte_array_append (bytes, payload, len);
  }
  offsets[N_FRAMES] = bytes->len;
  return bytes;
}

static GstHarness *
parse_new (void)
{
  GstHarness *h = gst_harness_new ("dsparse");

  gst_harness_set_src_caps_str (h, GST_DS_STREAM_MEDIA_TYPE);
  return h;
}

/* Pushes @data in pieces of @chunk bytes, then EOS */
static void
push_chunks (GstHarness * h, const guint8 * data, gsize size, gsize chunk)
{
  gsize o;

  for (o = 0; o < size; o += chunk) {
    gsize n = MIN (chunk, size - o);

    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_memdup (data + o, n)), GST_FLOW_OK);
  }
  gst_harness_push_event (h, gst_event_new_eos ());
}

/* The frames of stream_new(), in order, byte-exact */
static void
check_frames (GstHarness * h, const GByteArray * bytes,
    const gsize offsets[N_FRAMES + 1])
{
  guint i;

  for (i = 0; i < N_FRAMES; i++) {
    GstBuffer *buffer = gst_harness_pull (h);
    DsHeader header;
    gsize size = offsets[i + 1] - offsets[i];

    fail_unless (buffer != NULL, "frame %u missing", i);
    fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
    fail_unless_equals_int (header.seq, i);
    fail_unless_equals_uint64 (gst_buffer_get_size (buffer), size);
    fail_unless (gst_buffer_memcmp (buffer, 0, bytes->data + offsets[i],
            size) == 0, "frame %u not byte-exact", i);
    /* the headers' clock from the first frame on */
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buffer), 40 * i * GST_MSECOND);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (buffer,
            GST_BUFFER_FLAG_DELTA_UNIT), header.type == DS_FRAME_DELTA_PIXELS);
    gst_buffer_unref (buffer);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
}

GST_START_TEST (test_any_split)
{
  static const gsize chunks[] = { 1, 3, 7, 16, 17, 100, 100000 };
  gsize offsets[N_FRAMES + 1];
  GByteArray *bytes = stream_new (offsets);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (chunks); i++) {
    GstHarness *h = parse_new ();
    GstCaps *caps;

    push_chunks (h, bytes->data, bytes->len, chunks[i]);
    check_frames (h, bytes, offsets);
    caps = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (caps != NULL);
    fail_unless (gst_structure_has_field (gst_caps_get_structure (caps, 0),
            "parsed"));
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }
  g_byte_array_unref (bytes);
}

GST_END_TEST;

GST_START_TEST (test_junk_and_lying_headers)
{
  gsize offsets[N_FRAMES + 1];
  GByteArray *bytes = stream_new (offsets), *dirty = g_byte_array_new ();
  DsHeader liar = { 0, };
  guint8 head[DS_HEADER_SIZE], junk[37];
  GstHarness *h = parse_new ();
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;

  /* junk, then a header that claims 4 GiB of payload, then the stream */
  memset (junk, 0xa5, sizeof (junk));
  g_byte_array_append (dirty, junk, sizeof (junk));
  liar.type = DS_FRAME_PIXELS;
  liar.width = liar.height = 32768;
  liar.payload_len = G_MAXUINT32;
  ds_header_pack (&liar, head);
  g_byte_array_append (dirty, head, sizeof (head));
  g_byte_array_append (dirty, bytes->data, bytes->len);

  gst_element_set_bus (h->element, bus);
  push_chunks (h, dirty->data, dirty->len, 10);
  /* nothing waited for, every frame there */
  check_frames (h, bytes, offsets);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning for the skipped bytes");
  gst_message_unref (msg);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_byte_array_unref (dirty);
  g_byte_array_unref (bytes);
}

GST_END_TEST;

/* Out of sync, a header whose length fits the bound but is a lie: the
 * rest of the stream is not lost behind it, whether the claimed frame
 * runs past the end or the data after it refutes it */
GST_START_TEST (test_lying_length_in_bound)
{
  gsize offsets[N_FRAMES + 1];
  GByteArray *bytes = stream_new (offsets);
  guint pad;

  for (pad = 0; pad < 2; pad++) {
    GByteArray *dirty = g_byte_array_new ();
    DsHeader liar = { 0, };
    guint8 head[DS_HEADER_SIZE], junk[5];
    GstHarness *h = parse_new ();

    memset (junk, 0xa5, sizeof (junk));
    g_byte_array_append (dirty, junk, sizeof (junk));
    liar.type = DS_FRAME_COMPRESSED_PIXELS;
    liar.width = liar.height = 64;
    liar.payload_len = 1024 * 1024;
    ds_header_pack (&liar, head);
    g_byte_array_append (dirty, head, sizeof (head));
    g_byte_array_append (dirty, bytes->data, bytes->len);
    if (pad) {
      /* enough bytes after the stream that the lie can be checked */
      g_byte_array_set_size (dirty, dirty->len + 1024 * 1024 + 64);
      memset (dirty->data + sizeof (junk) + sizeof (head) + bytes->len, 0,
          1024 * 1024 + 64);
    }
    push_chunks (h, dirty->data, dirty->len, 4096);
    check_frames (h, bytes, offsets);
    gst_harness_teardown (h);
    g_byte_array_unref (dirty);
  }
  g_byte_array_unref (bytes);
}

GST_END_TEST;

/* Bytes that each look like a header claiming 33 MB (0x02 is
 * CompressedPixels): one pass over them, the stream after them intact */
GST_START_TEST (test_header_lookalikes)
{
  gsize offsets[N_FRAMES + 1];
  GByteArray *bytes = stream_new (offsets), *dirty = g_byte_array_new ();
  GstHarness *h = parse_new ();

  g_byte_array_set_size (dirty, 200000);
  memset (dirty->data, 0x02, dirty->len);
  g_byte_array_append (dirty, bytes->data, bytes->len);
  push_chunks (h, dirty->data, dirty->len, 65536);
  check_frames (h, bytes, offsets);

  gst_harness_teardown (h);
  g_byte_array_unref (dirty);
  g_byte_array_unref (bytes);
}

GST_END_TEST;

GST_START_TEST (test_truncated_end)
{
  gsize offsets[N_FRAMES + 1];
  GByteArray *bytes = stream_new (offsets);
  GstHarness *h = parse_new ();
  guint i;

  /* the last frame cut in the middle: the others come out, not it */
  push_chunks (h, bytes->data, offsets[N_FRAMES] - 3, 5);
  for (i = 0; i < N_FRAMES - 1; i++) {
    GstBuffer *buffer = gst_harness_pull (h);

    fail_unless (buffer != NULL);
    gst_buffer_unref (buffer);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);

  gst_harness_teardown (h);
  g_byte_array_unref (bytes);
}

GST_END_TEST;

GST_START_TEST (test_typefind)
{
  gsize offsets[N_FRAMES + 1];
  GByteArray *bytes = stream_new (offsets);
  GstTypeFindProbability probability;
  GstCaps *caps;
  guint8 noise[4096];
  guint i;

  caps = gst_type_find_helper_for_data (NULL, bytes->data, bytes->len,
      &probability);
  fail_unless (caps != NULL);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          GST_DS_STREAM_MEDIA_TYPE), "found %" GST_PTR_FORMAT, caps);
  fail_unless (probability >= GST_TYPE_FIND_LIKELY);
  gst_caps_unref (caps);

  /* nor three empty control frames */
  memset (noise, 0, 48);
  noise[0] = noise[16] = noise[32] = DS_FRAME_KEYFRAME;
  caps = gst_type_find_helper_for_data (NULL, noise, 48, &probability);
  fail_unless (caps == NULL || !gst_structure_has_name
      (gst_caps_get_structure (caps, 0), GST_DS_STREAM_MEDIA_TYPE));
  if (caps)
    gst_caps_unref (caps);

  /* noise is not a ds-stream */
  for (i = 0; i < sizeof (noise); i++)
    noise[i] = (guint8) (i * 2654435761u >> 13);
  caps = gst_type_find_helper_for_data (NULL, noise, sizeof (noise),
      &probability);
  fail_unless (caps == NULL || !gst_structure_has_name
      (gst_caps_get_structure (caps, 0), GST_DS_STREAM_MEDIA_TYPE));
  if (caps)
    gst_caps_unref (caps);

  g_byte_array_unref (bytes);
}

GST_END_TEST;

static guint
count_samples (GstElement * pipeline, const gchar * name)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstSample *sample;
  guint n = 0;

  fail_unless (sink != NULL);
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 0))) {
    n++;
    gst_sample_unref (sample);
  }
  gst_object_unref (sink);
  return n;
}

static void
run_to_eos (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS within 20 s");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *error;

    gst_message_parse_error (msg, &error, NULL);
    fail ("error from %s: %s", GST_MESSAGE_SRC_NAME (msg), error->message);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
}

/* A recording of a picture and its sound (dsmux ! filesink) plays
 * through decodebin: typefinder, dsparse, dsdepay, both pads shown, also
 * when the sound starts later (450 ms: after 5 pictures) */
GST_START_TEST (test_decodebin)
{
  GError *error = NULL;
  gchar *dir = g_dir_make_tmp ("dsparse-XXXXXX", &error);
  gchar *file;
  gchar *desc;
  GstElement *pipeline;

  fail_unless (dir != NULL, "no temporary folder: %s",
      error ? error->message : "?");
  file = g_build_filename (dir, "av.ds", NULL);

  desc = g_strdup_printf ("dsmux name=m ! filesink location=%s "
      "videotestsrc num-buffers=10 ! "
      "video/x-raw,format=RGBA,width=64,height=48,framerate=10/1 ! dspay ! "
      "dsdelta ! m. "
      "audiotestsrc num-buffers=10 samplesperbuffer=4800 "
      "timestamp-offset=450000000 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=1 ! dspay ! m.", file);
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (pipeline != NULL);
  run_to_eos (pipeline);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  desc = g_strdup_printf ("filesrc location=%s ! decodebin name=d "
      "d. ! queue ! video/x-raw ! appsink name=v sync=false wait-on-eos=false "
      "d. ! queue ! audio/x-raw ! appsink name=a sync=false wait-on-eos=false",
      file);
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (pipeline != NULL);
  run_to_eos (pipeline);
  fail_unless_equals_int (count_samples (pipeline, "v"), 10);
  fail_unless_equals_int (count_samples (pipeline, "a"), 10);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
}

GST_END_TEST;

static Suite *
dsparse_suite (void)
{
  Suite *s = suite_create ("dsparse");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_any_split);
  tcase_add_test (tc, test_junk_and_lying_headers);
  tcase_add_test (tc, test_truncated_end);
  tcase_add_test (tc, test_lying_length_in_bound);
  tcase_add_test (tc, test_header_lookalikes);
  tcase_add_test (tc, test_typefind);
  tcase_add_test (tc, test_decodebin);
  return s;
}

GST_CHECK_MAIN (dsparse);
