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

/* dsmux: inputs joined in running-time order, frames unchanged, one End,
 * upstream events routed by media, non-frames refused */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "dsprotocol.h"
#include "gstdsutils.h"

/* A frame of @type with @seq, its PTS at @ms */
static GstBuffer *
frame_new (guint8 type, guint16 seq, guint ms)
{
  DsHeader header = { 0, };
  guint8 payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  GstBuffer *buffer;

  header.type = type;
  header.seq = seq;
  header.timestamp = ms;
  if (type == DS_FRAME_AUDIO_PCM) {
    header.width = 2;           /* channels */
    header.height = 48000;      /* rate */
  }
  buffer = gst_ds_frame_buffer_new_data (&header, payload,
      type == DS_FRAME_END ? 0 : sizeof (payload));
  GST_BUFFER_PTS (buffer) = ms * GST_MSECOND;
  return buffer;
}

static void
frame_check (GstBuffer * buffer, guint8 type, guint16 seq, guint ms)
{
  DsHeader header;
  GError *error = NULL;

  fail_unless (buffer != NULL);
  fail_unless (gst_ds_frame_buffer_parse (buffer, &header, &error),
      "%s", error ? error->message : "");
  fail_unless_equals_int (header.type, type);
  fail_unless_equals_int (header.seq, seq);
  fail_unless_equals_int (header.timestamp, ms);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buffer), ms * GST_MSECOND);
  gst_buffer_unref (buffer);
}

/* Two inputs: h (sink_0) and h2 (sink_1), with their caps */
static GstHarness *
mux_new (GstHarness ** h2, const gchar * media0, const gchar * media1)
{
  GstHarness *h = gst_harness_new_with_padnames ("dsmux", "sink_0", "src");
  gchar *caps;

  *h2 = gst_harness_new_with_element (h->element, "sink_1", NULL);
  caps = g_strdup_printf (GST_DS_STREAM_MEDIA_TYPE ",media=%s", media0);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  caps = g_strdup_printf (GST_DS_STREAM_MEDIA_TYPE ",media=%s", media1);
  gst_harness_set_src_caps_str (*h2, caps);
  g_free (caps);
  return h;
}

typedef struct
{
  GstHarness *h;
  GstBuffer *frames[4];
} Feed;

/* Each input is fed from its own thread, as in a pipeline: dsmux holds
 * one frame per input and takes the earliest when each has one */
static gpointer
feed_thread (gpointer data)
{
  Feed *feed = data;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (feed->frames) && feed->frames[i]; i++)
    fail_unless_equals_int (gst_harness_push (feed->h, feed->frames[i]),
        GST_FLOW_OK);
  gst_harness_push_event (feed->h, gst_event_new_eos ());
  return NULL;
}

GST_START_TEST (test_running_time_order)
{
  GstHarness *h, *h2;
  Feed video = { 0, }, audio = { 0, };
  GThread *t1, *t2;

  h = mux_new (&h2, "video", "audio");

  video.h = h;
  video.frames[0] = frame_new (DS_FRAME_PIXELS, 0, 0);
  video.frames[1] = frame_new (DS_FRAME_PIXELS, 1, 40);
  video.frames[2] = frame_new (DS_FRAME_PIXELS, 2, 80);
  audio.h = h2;
  audio.frames[0] = frame_new (DS_FRAME_AUDIO_PCM, 0, 10);
  audio.frames[1] = frame_new (DS_FRAME_AUDIO_PCM, 1, 50);
  audio.frames[2] = frame_new (DS_FRAME_AUDIO_PCM, 2, 90);
  /* whichever thread runs first, the order is that of running time */
  t2 = g_thread_new ("audio", feed_thread, &audio);
  t1 = g_thread_new ("video", feed_thread, &video);

  /* joined by running time, each keeping its own seq */
  frame_check (gst_harness_pull (h), DS_FRAME_PIXELS, 0, 0);
  frame_check (gst_harness_pull (h), DS_FRAME_AUDIO_PCM, 0, 10);
  frame_check (gst_harness_pull (h), DS_FRAME_PIXELS, 1, 40);
  frame_check (gst_harness_pull (h), DS_FRAME_AUDIO_PCM, 1, 50);
  frame_check (gst_harness_pull (h), DS_FRAME_PIXELS, 2, 80);
  frame_check (gst_harness_pull (h), DS_FRAME_AUDIO_PCM, 2, 90);
  /* then one End, at the last frame's time */
  frame_check (gst_harness_pull (h), DS_FRAME_END, 0, 90);
  g_thread_join (t1);
  g_thread_join (t2);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);

  gst_harness_teardown (h2);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_one_end)
{
  GstHarness *h, *h2;
  Feed video = { 0, }, signals = { 0, };
  GThread *t1, *t2;
  GstEvent *event;

  h = mux_new (&h2, "video", "signal");

  /* each input's dspay ends with an End frame */
  video.h = h;
  video.frames[0] = frame_new (DS_FRAME_PIXELS, 0, 0);
  video.frames[1] = frame_new (DS_FRAME_END, 1, 30);
  signals.h = h2;
  signals.frames[0] = frame_new (DS_FRAME_SIGNAL_SYNC, 0, 10);
  signals.frames[1] = frame_new (DS_FRAME_END, 1, 20);
  t1 = g_thread_new ("video", feed_thread, &video);
  t2 = g_thread_new ("signals", feed_thread, &signals);

  frame_check (gst_harness_pull (h), DS_FRAME_PIXELS, 0, 0);
  frame_check (gst_harness_pull (h), DS_FRAME_SIGNAL_SYNC, 0, 10);
  frame_check (gst_harness_pull (h), DS_FRAME_END, 0, 10);

  /* and EOS after it */
  while ((event = gst_harness_pull_event (h)) != NULL &&
      GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    gst_event_unref (event);
  fail_unless (event != NULL, "no EOS");
  gst_event_unref (event);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  g_thread_join (t1);
  g_thread_join (t2);

  gst_harness_teardown (h2);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Counts (and drops) the events that reached @h's source: navigation,
 * keyframe requests, and the others */
static void
count_upstream (GstHarness * h, guint * navigation, guint * keyframe,
    guint * other)
{
  GstEvent *event;

  *navigation = *keyframe = *other = 0;
  while ((event = gst_harness_try_pull_upstream_event (h)) != NULL) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_NAVIGATION)
      (*navigation)++;
    else if (gst_video_event_is_force_key_unit (event))
      (*keyframe)++;
    else
      (*other)++;
    gst_event_unref (event);
  }
}

GST_START_TEST (test_upstream_routing)
{
  GstHarness *h, *h2;
  GstStructure *s;
  DsInputEvent input = { 0, };
  guint navigation, keyframe, other;

  h = mux_new (&h2, "video", "audio");
  /* the caps reach the pads with the first frames */
  gst_harness_push (h, frame_new (DS_FRAME_PIXELS, 0, 0));
  gst_harness_push (h2, frame_new (DS_FRAME_AUDIO_PCM, 0, 10));
  gst_buffer_unref (gst_harness_pull (h));
  count_upstream (h, &navigation, &keyframe, &other);
  count_upstream (h2, &navigation, &keyframe, &other);

  /* a pointer move and a keyframe request: the picture input only */
  s = gst_structure_new ("application/x-gst-navigation", "event",
      G_TYPE_STRING, "mouse-move", "pointer_x", G_TYPE_DOUBLE, 10.0,
      "pointer_y", G_TYPE_DOUBLE, 20.0, NULL);
  fail_unless (gst_harness_push_upstream_event (h,
          gst_event_new_navigation (s)));
  fail_unless (gst_harness_push_upstream_event (h,
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 0)));
  count_upstream (h, &navigation, &keyframe, &other);
  fail_unless_equals_int (navigation, 1);
  fail_unless_equals_int (keyframe, 1);
  count_upstream (h2, &navigation, &keyframe, &other);
  fail_unless_equals_int (navigation + keyframe, 0);

  /* any other input: every input */
  input.type = DS_INPUT_RESIZE;
  input.resize.width = 640;
  input.resize.height = 480;
  fail_unless (gst_harness_push_upstream_event (h,
          gst_ds_input_event_new (&input)));
  count_upstream (h, &navigation, &keyframe, &other);
  fail_unless_equals_int (other, 1);
  count_upstream (h2, &navigation, &keyframe, &other);
  fail_unless_equals_int (other, 1);

  gst_harness_teardown (h2);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Encoded video (dspay's media=video with a codec) is a picture input:
 * its units go out, and keyframe requests go to it */
GST_START_TEST (test_encoded_video_input)
{
  static const guint8 unit[] = { DS_CODEC_H264, 0, 0, 0, 0, 1, 0x65 };
  DsHeader header = { DS_FRAME_ENCODED_VIDEO, DS_FLAG_KEYFRAME, 0, 0, 64,
    48, 0
  };
  GstHarness *h, *h2;
  GstBuffer *frame;
  guint navigation, keyframe, other;

  h = mux_new (&h2, "video,codec=h264,width=64,height=48,framerate=30/1",
      "audio");
  frame = gst_ds_frame_buffer_new_data (&header, unit, sizeof (unit));
  GST_BUFFER_PTS (frame) = 0;
  fail_unless_equals_int (gst_harness_push (h, frame), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h2, frame_new (DS_FRAME_AUDIO_PCM,
              0, 10)), GST_FLOW_OK);
  frame_check (gst_harness_pull (h), DS_FRAME_ENCODED_VIDEO, 0, 0);
  count_upstream (h, &navigation, &keyframe, &other);
  count_upstream (h2, &navigation, &keyframe, &other);

  fail_unless (gst_harness_push_upstream_event (h,
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 0)));
  count_upstream (h, &navigation, &keyframe, &other);
  fail_unless_equals_int (keyframe, 1);
  count_upstream (h2, &navigation, &keyframe, &other);
  fail_unless_equals_int (keyframe, 0);

  gst_harness_teardown (h2);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_not_frames)
{
  GstHarness *h = gst_harness_new_with_padnames ("dsmux", "sink_0", "src");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint8 junk[40] = { 0x42, };

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, GST_DS_STREAM_MEDIA_TYPE);
  /* a byte stream (a .ds file without dsparse) is not one frame a buffer */
  gst_harness_push (h, gst_buffer_new_memdup (junk, sizeof (junk)));
  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error for a buffer that is not a frame");
  gst_message_unref (msg);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A GAP event (dspay passes them on; the aggregator makes an empty GAP
 * buffer of it) is not an error: nothing to send */
GST_START_TEST (test_gap)
{
  GstHarness *h, *h2;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;

  h = mux_new (&h2, "video", "audio");
  gst_element_set_bus (h->element, bus);
  /* the gap comes first in running time, then the sound ends */
  fail_unless (gst_harness_push_event (h2, gst_event_new_gap (0,
              5 * GST_MSECOND)));
  fail_unless_equals_int (gst_harness_push (h, frame_new (DS_FRAME_PIXELS, 0,
              10)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h2, gst_event_new_eos ()));
  frame_check (gst_harness_pull (h), DS_FRAME_PIXELS, 0, 10);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "an error for a GAP");

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h2);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Two inputs of one kind would mix their sequence numbers: an error that
 * says so */
GST_START_TEST (test_same_kind_refused)
{
  GstHarness *h, *h2;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  h = mux_new (&h2, "video", "video");
  gst_element_set_bus (h->element, bus);
  gst_harness_push (h, frame_new (DS_FRAME_PIXELS, 0, 0));
  gst_harness_push (h2, frame_new (DS_FRAME_PIXELS, 0, 10));
  /* the first input ends: the second's frame is next */
  gst_harness_push_event (h, gst_event_new_eos ());
  msg = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error for two picture inputs");
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (strstr (debug, "sink_0") && strstr (debug, "sink_1"), "%s",
      debug);
  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h2);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
dsmux_suite (void)
{
  Suite *s = suite_create ("dsmux");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_running_time_order);
  tcase_add_test (tc, test_one_end);
  tcase_add_test (tc, test_upstream_routing);
  tcase_add_test (tc, test_encoded_video_input);
  tcase_add_test (tc, test_not_frames);
  tcase_add_test (tc, test_gap);
  tcase_add_test (tc, test_same_kind_refused);
  return s;
}

GST_CHECK_MAIN (dsmux);
