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

/* dsrelaysink against the real ds-relay (started by the test on a free
 * loopback port): frames arrive byte-exact at dsstreamsrc, several pads
 * share one channel, reconnects keep the pipelines playing and the signal
 * state whole, receiver input comes back upstream, errors say what is
 * wrong, and going to NULL is prompt even when the relay is stalled. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <signal.h>
#include <sys/socket.h>
#include <libsoup/soup.h>

#include "../ds-test-net.h"

/* Tests */

GST_START_TEST (test_frames_byte_exact)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx;
  GstBuffer *sent[90];
  guint8 *prev = g_malloc0 (64 * 48 * 4);
  GstMessage *msg;
  DsHeader header;
  GstBuffer *buffer;
  guint i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/exact");
  stream = ds_test_relay_ws_uri (relay, "/stream/exact");

  rx = receiver_new (stream, NULL);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-connected", WAIT_MS);
  fail_unless (msg != NULL);
  gst_message_unref (msg);

  for (i = 0; i < 90; i++) {
    sent[i] = make_picture_frame (i, 64, 48, prev, 30);
    push (tx, gst_buffer_ref (sent[i]));
  }
  fail_unless_equals_int (gst_app_src_end_of_stream (GST_APP_SRC (get (tx,
                  "src"))), GST_FLOW_OK);

  for (i = 0; i < 90; i++) {
    buffer = pull (rx, WAIT_MS);
    fail_unless (buffer != NULL, "frame %u did not arrive", i);
    fail_unless_equals_int (gst_buffer_get_size (buffer),
        gst_buffer_get_size (sent[i]));
    {
      GstMapInfo map;

      fail_unless (gst_buffer_map (sent[i], &map, GST_MAP_READ));
      fail_unless (gst_buffer_memcmp (buffer, 0, map.data, map.size) == 0,
          "frame %u differs", i);
      gst_buffer_unmap (sent[i], &map);
    }
    /* one frame per buffer, header in a memory of its own */
    fail_unless (gst_buffer_n_memory (buffer) >= 1);
    fail_unless_equals_int (gst_buffer_peek_memory (buffer, 0)->size,
        DS_HEADER_SIZE);
    gst_buffer_unref (buffer);
    gst_buffer_unref (sent[i]);
  }

  /* then End and EOS at the receiver */
  buffer = pull (rx, WAIT_MS);
  fail_unless (buffer != NULL);
  fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
  fail_unless_equals_int (header.type, DS_FRAME_END);
  gst_buffer_unref (buffer);
  msg = wait_for_message (rx, GST_MESSAGE_EOS, NULL, WAIT_MS);
  fail_unless (msg != NULL, "no EOS at the receiver");
  gst_message_unref (msg);

  /* and EOS at the sender once the relay had the End frame */
  msg = wait_for_message (tx, GST_MESSAGE_EOS, NULL, WAIT_MS);
  fail_unless (msg != NULL, "no EOS at the sender");
  gst_message_unref (msg);
  {
    GstStructure *stats;
    guint64 sent_frames = 0;

    g_object_get (get (tx, "sink"), "stats", &stats, NULL);
    fail_unless (gst_structure_get_uint64 (stats, "frames-sent", &sent_frames));
    /* 90 frames and End */
    fail_unless_equals_uint64 (sent_frames, 91);
    gst_structure_free (stats);
  }

  stop (tx);
  stop (rx);
  g_free (prev);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Matchers for event_log_wait () besides is_navigation () */
static gboolean
is_force_key_unit (GstEvent * event)
{
  return gst_video_event_is_force_key_unit (event);
}

static gboolean
is_ds_input (GstEvent * event)
{
  return GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_UPSTREAM &&
      gst_event_has_name (event, GST_DS_INPUT_EVENT_NAME);
}

GST_START_TEST (test_input_upstream)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx;
  GstMessage *msg;
  GstEvent *event;
  EventLog log;
  const GstStructure *s;
  guint receivers = 0, x = 0, y = 0;
  gint button = 0;
  gdouble fx = 0, fy = 0;
  DsInputEvent resize = { 0, };
  guint8 type = 0;
  GBytes *payload = NULL;
  GBytes *bytes_event;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/input");
  stream = ds_test_relay_ws_uri (relay, "/stream/input");

  tx = sender_new (peer, NULL);
  event_log_attach (&log, tx, "src");
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  rx = receiver_new (stream, NULL);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  /* the relay reports the receiver */
  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-receivers", WAIT_MS);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_uint (s, "receivers", &receivers));
  fail_unless_equals_int (receivers, 1);
  gst_message_unref (msg);
  g_object_get (get (tx, "sink"), "receivers", &receivers, NULL);
  fail_unless_equals_int (receivers, 1);

  /* a click at the receiver's sink: navigation upstream of dsrelaysink
   * with the same coordinates, and a bus message */
  fail_unless (gst_element_send_event (get (rx, "sink"),
          gst_navigation_event_new_mouse_button_press (1, 10.0, 20.0, 0)));
  event = event_log_wait (&log, is_navigation, WAIT_MS);
  fail_unless (event != NULL, "no navigation event upstream of the sender");
  fail_unless_equals_int (gst_navigation_event_get_type (event),
      GST_NAVIGATION_EVENT_MOUSE_BUTTON_PRESS);
  fail_unless (gst_navigation_event_parse_mouse_button_event (event, &button,
          &fx, &fy));
  fail_unless_equals_int (button, 1);
  fail_unless_equals_float (fx, 10.0);
  fail_unless_equals_float (fy, 20.0);
  gst_event_unref (event);

  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-input", WAIT_MS);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_uint (s, "x", &x));
  fail_unless (gst_structure_get_uint (s, "y", &y));
  fail_unless_equals_int (x, 10);
  fail_unless_equals_int (y, 20);
  gst_message_unref (msg);

  /* a keyframe request becomes ForceKeyUnit */
  fail_unless (gst_element_send_event (get (rx, "sink"),
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 0)));
  event = event_log_wait (&log, is_force_key_unit, WAIT_MS);
  fail_unless (event != NULL, "no ForceKeyUnit upstream of the sender");
  gst_event_unref (event);

  /* other input: a GstDsInput event */
  resize.type = DS_INPUT_RESIZE;
  resize.resize.width = 800;
  resize.resize.height = 600;
  fail_unless (gst_element_send_event (get (rx, "sink"),
          gst_ds_input_event_new (&resize)));
  event = event_log_wait (&log, is_ds_input, WAIT_MS);
  fail_unless (event != NULL, "no GstDsInput upstream of the sender");
  fail_unless (gst_ds_input_event_parse (event, &type, &payload));
  fail_unless_equals_int (type, DS_INPUT_RESIZE);
  {
    DsInputEvent parsed;
    gsize size;
    const guint8 *data = g_bytes_get_data (payload, &size);

    fail_unless (ds_input_event_parse (type, data, size, &parsed, NULL));
    fail_unless_equals_int (parsed.resize.width, 800);
    fail_unless_equals_int (parsed.resize.height, 600);
  }
  g_bytes_unref (payload);
  gst_event_unref (event);

  /* a hostile receiver's GamepadAxis NaN never reaches the application;
   * the valid one after it does, with its fields */
  {
    static const guint8 nan_axis[5] = { 1, 0x00, 0x00, 0xc0, 0x7f };
    DsInputEvent axis = { 0, };
    const gchar *name;
    guint n = 0;
    gdouble value = 0;

    bytes_event = g_bytes_new_static (nan_axis, sizeof (nan_axis));
    fail_unless (gst_element_send_event (get (rx, "sink"),
            gst_ds_input_event_new_raw (DS_INPUT_GAMEPAD_AXIS, bytes_event)));
    g_bytes_unref (bytes_event);
    axis.type = DS_INPUT_GAMEPAD_AXIS;
    axis.gamepad_axis.axis = 2;
    axis.gamepad_axis.value = -0.5f;
    fail_unless (gst_element_send_event (get (rx, "sink"),
            gst_ds_input_event_new (&axis)));
    do {
      msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-input", WAIT_MS);
      fail_unless (msg != NULL, "no gamepad-axis ds-input");
      s = gst_message_get_structure (msg);
      name = gst_structure_get_string (s, "type");
      if (g_strcmp0 (name, "gamepad-axis") == 0)
        break;
      gst_message_unref (msg);
    } while (TRUE);
    fail_unless (gst_structure_get_uint (s, "axis", &n));
    fail_unless_equals_int (n, 2);
    fail_unless (gst_structure_get_double (s, "value", &value));
    fail_unless_equals_float (value, -0.5);
    gst_message_unref (msg);
  }

  assert_no_error (tx);
  assert_no_error (rx);
  stop (rx);

  /* the receiver left: the count goes back to 0 */
  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-receivers", WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless (gst_structure_get_uint (gst_message_get_structure (msg),
          "receivers", &receivers));
  fail_unless_equals_int (receivers, 0);
  gst_message_unref (msg);

  stop (tx);
  event_log_clear (&log);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_relay_restart)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx;
  guint8 *prev = g_malloc0 (32 * 16 * 4);
  DsSignalState *state = ds_signal_state_new ();
  EventLog log;
  GstEvent *event;
  GstBuffer *buffer;
  GstState current;
  gboolean picture_after = FALSE;
  guint n = 0, i;
  gint64 deadline;
  const gchar *schema = "{\"signals\":[\"a\",\"b\",\"c\"],\"mode\":\"signal\"}";

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/restart");
  stream = ds_test_relay_ws_uri (relay, "/stream/restart");

  rx = receiver_new (stream, NULL);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));
  tx = sender_new (peer, NULL);
  event_log_attach (&log, tx, "src");
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  push (tx, make_frame (DS_FRAME_SCHEMA_ANNOUNCE, 0, 0, 0, 0, 0, schema,
          strlen (schema)));
  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 1, 0, "{\"a\":1}"));
  for (i = 0; i < 10; i++, n++)
    push (tx, make_picture_frame (n, 32, 16, prev, 30));

  /* the receiver has the state and pictures */
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (state_get (state, "a") != 1 && g_get_monotonic_time () < deadline) {
    buffer = pull (rx, 100);
    if (buffer) {
      apply_signal (state, buffer);
      gst_buffer_unref (buffer);
    }
  }
  fail_unless_equals_int (state_get (state, "a"), 1);

  /* the relay goes away */
  fail_unless_equals_int (ds_test_relay_stop (relay), 0);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", FALSE,
          WAIT_MS));
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", FALSE, WAIT_MS));

  /* the source goes on meanwhile */
  push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, 2, 400, "{\"b\":2}"));
  for (i = 0; i < 5; i++, n++)
    push (tx, make_picture_frame (n, 32, 16, prev, 30));
  /* the sink has them all (12 before, 6 now) while the relay is away */
  fail_unless (wait_rendered (tx, 18, WAIT_MS));

  /* and comes back on the same port */
  fail_unless (ds_test_relay_restart (relay));
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  /* the sender asked its upstream for a keyframe */
  event = event_log_wait (&log, is_force_key_unit, WAIT_MS);
  fail_unless (event != NULL, "no ForceKeyUnit after the reconnect");
  gst_event_unref (event);

  push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, 3, 800, "{\"c\":3}"));
  n = 30;                       /* a keyframe, as asked */
  for (i = 0; i < 10; i++, n++)
    push (tx, make_picture_frame (n, 32, 16, prev, 30));

  picture_after = receive_signal_and_picture (rx, state, "c", 3);
  fail_unless (picture_after, "no picture after the relay came back");
  /* the state is whole: a from before, b from the outage, c after */
  fail_unless_equals_int (state_get (state, "a"), 1);
  fail_unless_equals_int (state_get (state, "b"), 2);
  fail_unless_equals_int (state_get (state, "c"), 3);

  /* both pipelines kept playing */
  gst_element_get_state (tx, &current, NULL, 0);
  fail_unless_equals_int (current, GST_STATE_PLAYING);
  gst_element_get_state (rx, &current, NULL, 0);
  fail_unless_equals_int (current, GST_STATE_PLAYING);
  assert_no_error (tx);
  assert_no_error (rx);

  stop (tx);
  stop (rx);
  event_log_clear (&log);
  ds_signal_state_free (state);
  g_free (prev);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* The relay is not there yet: frames queue up within max-queue-bytes
 * (deltas and audio dropped, signals merged), and the receiver gets the
 * whole signal state once both are connected. */
GST_START_TEST (test_relay_down_at_start)
{
  DsTestRelay *relay;
  gchar *peer, *stream, *extra;
  GstElement *tx, *rx;
  guint8 *prev = g_malloc0 (64 * 64 * 4);
  guint8 audio[4096] = { 0, };
  DsSignalState *state = ds_signal_state_new ();
  GstStructure *stats;
  guint64 dropped = 0, queued = 0;
  GstBuffer *buffer;
  gint64 deadline;
  guint i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/late");
  stream = ds_test_relay_ws_uri (relay, "/stream/late");
  fail_unless_equals_int (ds_test_relay_stop (relay), 0);

  extra = g_strdup_printf ("max-queue-bytes=%u", 64 * 64 * 4 * 3);
  tx = sender_new (peer, extra);
  set_state (tx, GST_STATE_PLAYING);
  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"a\":0}"));
  for (i = 0; i < 60; i++) {
    gchar *json = g_strdup_printf ("{\"n%u\":%u}", i % 7, i);

    push (tx, make_picture_frame (i, 64, 64, prev, 1000));
    push (tx, make_frame (DS_FRAME_AUDIO_PCM, 0, i, i * 33, 2, 48000, audio,
            sizeof (audio)));
    push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, i + 1, i * 33, json));
    g_free (json);
  }
  /* appsrc hands them over in its own thread: the sink has them all */
  fail_unless (wait_rendered (tx, 1 + 60 * 3, WAIT_MS));
  g_object_get (get (tx, "sink"), "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "frames-dropped", &dropped));
  fail_unless (gst_structure_get_uint64 (stats, "queued-bytes", &queued));
  gst_structure_free (stats);
  GST_INFO ("%" G_GUINT64_FORMAT " frames dropped, %" G_GUINT64_FORMAT
      " bytes queued", dropped, queued);
  fail_unless (dropped > 0);
  fail_unless (queued <= 64 * 64 * 4 * 3);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", FALSE, 0));

  fail_unless (ds_test_relay_restart (relay));
  rx = receiver_new (stream, NULL);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (state_get (state, "n3") != 59 && g_get_monotonic_time () < deadline) {
    buffer = pull (rx, 100);
    if (buffer) {
      apply_signal (state, buffer);
      gst_buffer_unref (buffer);
    }
  }
  /* every signal's last value, none lost */
  fail_unless_equals_int (state_get (state, "a"), 0);
  for (i = 0; i < 7; i++) {
    gchar name[4];

    g_snprintf (name, sizeof (name), "n%u", i);
    fail_unless_equals_int (state_get (state, name), i <= 3 ? 56 + i : 49 + i);
  }
  assert_no_error (tx);

  stop (tx);
  stop (rx);
  ds_signal_state_free (state);
  g_free (prev);
  g_free (extra);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Pipelines with dspay, dsdelta and dsdepay */

static void
compare_pictures (GstElement * ref, GstElement * got, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstSample *a = gst_app_sink_try_pull_sample (GST_APP_SINK (ref),
        WAIT_MS * GST_MSECOND);
    GstSample *b = gst_app_sink_try_pull_sample (GST_APP_SINK (got),
        WAIT_MS * GST_MSECOND);
    GstMapInfo map;

    fail_unless (a != NULL, "reference picture %u missing", i);
    fail_unless (b != NULL, "picture %u did not arrive", i);
    fail_unless_equals_int (gst_buffer_get_size (gst_sample_get_buffer (b)),
        gst_buffer_get_size (gst_sample_get_buffer (a)));
    fail_unless (gst_buffer_map (gst_sample_get_buffer (a), &map,
            GST_MAP_READ));
    fail_unless (gst_buffer_memcmp (gst_sample_get_buffer (b), 0, map.data,
            map.size) == 0, "picture %u differs", i);
    gst_buffer_unmap (gst_sample_get_buffer (a), &map);
    gst_sample_unref (a);
    gst_sample_unref (b);
  }
}

GST_START_TEST (test_pay_delta_depay_90_frames)
{
  DsTestRelay *relay;
  gchar *peer, *stream, *desc;
  GstElement *tx, *rx;
  GstMessage *msg;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/ninety");
  stream = ds_test_relay_ws_uri (relay, "/stream/ninety");

  desc = g_strdup_printf ("dsstreamsrc name=src location=%s " RETRY_ARGS
      " ! dsdepay ! queue ! appsink name=sink sync=false", stream);
  rx = launch (desc);
  g_free (desc);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  desc = g_strdup_printf ("videotestsrc num-buffers=90 pattern=ball ! "
      "video/x-raw,format=RGBA,width=64,height=48,framerate=30/1 ! "
      "tee name=t ! queue ! appsink name=ref sync=false "
      "t. ! queue ! dspay ! dsdelta keyframe-interval=30 ! "
      "dsrelaysink name=sink location=%s " RETRY_ARGS, peer);
  tx = launch (desc);
  g_free (desc);
  set_state (tx, GST_STATE_PLAYING);

  compare_pictures (get (tx, "ref"), get (rx, "sink"), 90);

  msg = wait_for_message (rx, GST_MESSAGE_EOS, NULL, WAIT_MS);
  fail_unless (msg != NULL, "no EOS at the receiver");
  gst_message_unref (msg);
  msg = wait_for_message (tx, GST_MESSAGE_EOS, NULL, WAIT_MS);
  fail_unless (msg != NULL, "no EOS at the sender");
  gst_message_unref (msg);

  stop (tx);
  stop (rx);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_video_audio_signals_one_channel)
{
  DsTestRelay *relay;
  gchar *peer, *stream, *desc;
  GstElement *tx, *rx;
  GstAppSrc *sig;
  GstSample *sample;
  GstClockTime video_pts = GST_CLOCK_TIME_NONE, audio_pts = GST_CLOCK_TIME_NONE;
  GstClockTimeDiff offset;
  gboolean have_count = FALSE;
  guint i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/av");
  stream = ds_test_relay_ws_uri (relay, "/stream/av");

  desc = g_strdup_printf ("dsstreamsrc name=src location=%s " RETRY_ARGS
      " ! dsdepay name=d "
      "d.video ! queue ! appsink name=v sync=false "
      "d.audio ! queue ! appsink name=a sync=false "
      "d.signal ! queue ! appsink name=s sync=false", stream);
  rx = launch (desc);
  g_free (desc);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  /* three streams joined by dsmux, one dsrelaysink */
  desc = g_strdup_printf ("dsmux name=m ! dsrelaysink name=sink location=%s "
      RETRY_ARGS " "
      "videotestsrc is-live=true num-buffers=45 ! "
      "video/x-raw,format=RGBA,width=64,height=48,framerate=30/1 ! "
      "dspay ! dsdelta ! m. "
      "audiotestsrc is-live=true num-buffers=150 samplesperbuffer=480 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! dspay ! m. "
      "appsrc name=sig is-live=true format=time "
      "caps=" GST_DS_SIGNAL_MEDIA_TYPE " ! dspay ! m.", peer);
  tx = launch (desc);
  g_free (desc);
  set_state (tx, GST_STATE_PLAYING);

  sig = GST_APP_SRC (get (tx, "sig"));
  for (i = 1; i <= 3; i++) {
    gchar *line = g_strdup_printf ("{\"count\":%u}\n", i);
    GstBuffer *buffer = gst_buffer_new_wrapped (line, strlen (line));

    GST_BUFFER_PTS (buffer) = i * 100 * GST_MSECOND;
    fail_unless_equals_int (gst_app_src_push_buffer (sig, buffer), GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (sig);

  /* video frame 15 and audio buffer 50 were both taken at 500 ms */
  for (i = 0; i <= 15; i++) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (get (rx, "v")),
        WAIT_MS * GST_MSECOND);
    fail_unless (sample != NULL, "video %u did not arrive", i);
    video_pts = GST_BUFFER_PTS (gst_sample_get_buffer (sample));
    gst_sample_unref (sample);
  }
  for (i = 0; i <= 50; i++) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (get (rx, "a")),
        WAIT_MS * GST_MSECOND);
    fail_unless (sample != NULL, "audio %u did not arrive", i);
    audio_pts = GST_BUFFER_PTS (gst_sample_get_buffer (sample));
    gst_sample_unref (sample);
  }
  offset = GST_CLOCK_DIFF (audio_pts, video_pts);
  GST_INFO ("A/V offset at the receiver: %" GST_STIME_FORMAT,
      GST_STIME_ARGS (offset));
  /* each live source stamps from the moment its own thread starts: under
   * ASan on a busy machine the two start up to ~100 ms apart */
  fail_unless (ABS (offset) <= (DS_TEST_SANITIZED ? 150 : 20) * GST_MSECOND,
      "A/V offset %" GST_STIME_FORMAT, GST_STIME_ARGS (offset));

  /* the signals' last state */
  while (!have_count) {
    GstMapInfo map;

    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (get (rx, "s")),
        WAIT_MS * GST_MSECOND);
    fail_unless (sample != NULL, "signal state did not arrive");
    fail_unless (gst_buffer_map (gst_sample_get_buffer (sample), &map,
            GST_MAP_READ));
    have_count = g_strstr_len ((const gchar *) map.data, map.size,
        "\"count\":3") != NULL;
    gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
    gst_sample_unref (sample);
  }

  assert_no_error (tx);
  assert_no_error (rx);
  stop (tx);
  stop (rx);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* A stand-in for the relay, for what the real one does not let a test
 * trigger at will: it records the frames a source sends, answers Pings,
 * and sends input frames to the source. */
typedef struct
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  SoupWebsocketConnection *ws;
  guint port;
  GMutex lock;
  GCond cond;
  GPtrArray *frames;            /* GBytes */
  gboolean lose_end;            /* close instead of taking the first End */
  gushort close_code;           /* close every connection with it at once */
  guint connections;            /* WebSocket connections accepted */
  guint requests;               /* HTTP requests under /http/ */
} FakeRelay;

static void
fake_relay_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    gpointer user_data)
{
  FakeRelay *fake = user_data;
  DsHeader header;
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);

  if (soup_websocket_connection_get_state (ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (ds_header_parse (data, size, &header, NULL) &&
      header.type == DS_FRAME_PING) {
    soup_websocket_connection_send_message (ws, SOUP_WEBSOCKET_DATA_BINARY,
        message);
    return;
  }
  if (header.type == DS_FRAME_END && fake->lose_end) {
    /* the connection breaks before the End frame was read: the Ping after
     * it stays unanswered */
    fake->lose_end = FALSE;
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    return;
  }
  g_mutex_lock (&fake->lock);
  g_ptr_array_add (fake->frames, g_bytes_ref (message));
  g_cond_broadcast (&fake->cond);
  g_mutex_unlock (&fake->lock);
}

static void
fake_relay_websocket (SoupServer * server, SoupServerMessage * msg,
    const char *path, SoupWebsocketConnection * ws, gpointer user_data)
{
  FakeRelay *fake = user_data;

  g_mutex_lock (&fake->lock);
  fake->connections++;
  g_cond_broadcast (&fake->cond);
  g_mutex_unlock (&fake->lock);
  g_clear_object (&fake->ws);
  fake->ws = g_object_ref (ws);
  if (fake->close_code != 0) {
    soup_websocket_connection_close (ws, fake->close_code, "go away");
    return;
  }
  g_signal_connect (ws, "message", G_CALLBACK (fake_relay_message), fake);
}

/* /http/STATUS/CHANNEL answers STATUS (a relay or a proxy refusing) */
static void
fake_relay_http (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  FakeRelay *fake = user_data;
  guint status = (guint) g_ascii_strtoull (path + strlen ("/http/"), NULL,
      10);

  g_mutex_lock (&fake->lock);
  fake->requests++;
  g_cond_broadcast (&fake->cond);
  g_mutex_unlock (&fake->lock);
  soup_server_message_set_status (msg, status, NULL);
}

static gpointer
fake_relay_thread (gpointer user_data)
{
  FakeRelay *fake = user_data;
  GSList *uris;

  g_main_context_push_thread_default (fake->context);
  fake->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (fake->server, "/peer", NULL, NULL,
      fake_relay_websocket, fake, NULL);
  soup_server_add_handler (fake->server, "/http", fake_relay_http, fake, NULL);
  fail_unless (soup_server_listen_local (fake->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  uris = soup_server_get_uris (fake->server);
  g_mutex_lock (&fake->lock);
  fake->port = g_uri_get_port (uris->data);
  g_cond_broadcast (&fake->cond);
  g_mutex_unlock (&fake->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (fake->loop);

  g_clear_object (&fake->ws);
  soup_server_disconnect (fake->server);
  g_clear_object (&fake->server);
  while (g_main_context_iteration (fake->context, FALSE));
  g_main_context_pop_thread_default (fake->context);
  return NULL;
}

static FakeRelay *
fake_relay_new (void)
{
  FakeRelay *fake = g_new0 (FakeRelay, 1);

  g_mutex_init (&fake->lock);
  g_cond_init (&fake->cond);
  fake->frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  fake->context = g_main_context_new ();
  fake->loop = g_main_loop_new (fake->context, FALSE);
  fake->thread = g_thread_new ("fake-relay", fake_relay_thread, fake);
  g_mutex_lock (&fake->lock);
  while (fake->port == 0)
    g_cond_wait (&fake->cond, &fake->lock);
  g_mutex_unlock (&fake->lock);
  return fake;
}

static gboolean
fake_relay_send_cb (gpointer data)
{
  gpointer *args = data;
  FakeRelay *fake = args[0];

  if (fake->ws)
    soup_websocket_connection_send_message (fake->ws,
        SOUP_WEBSOCKET_DATA_BINARY, args[1]);
  g_bytes_unref (args[1]);
  g_free (args);
  return G_SOURCE_REMOVE;
}

static void
fake_relay_send (FakeRelay * fake, GBytes * frame)
{
  gpointer *args = g_new (gpointer, 2);

  args[0] = fake;
  args[1] = frame;
  g_main_context_invoke (fake->context, fake_relay_send_cb, args);
}

/* Waits until more than @n frames arrived; returns the count */
static guint
fake_relay_wait_frames (FakeRelay * fake, guint n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  guint len;

  g_mutex_lock (&fake->lock);
  while (fake->frames->len <= n &&
      g_cond_wait_until (&fake->cond, &fake->lock, deadline));
  len = fake->frames->len;
  g_mutex_unlock (&fake->lock);
  return len;
}

/* Waits until the counter @count of @fake (connections, requests) is
 * at least @n; returns it */
static guint
fake_relay_wait_count (FakeRelay * fake, guint * count, guint n,
    guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  guint value;

  g_mutex_lock (&fake->lock);
  while (*count < n && g_cond_wait_until (&fake->cond, &fake->lock, deadline));
  value = *count;
  g_mutex_unlock (&fake->lock);
  return value;
}

static void
fake_relay_frame (FakeRelay * fake, guint i, DsHeader * header)
{
  GBytes *frame;
  gsize size;
  const guint8 *data;

  g_mutex_lock (&fake->lock);
  frame = g_bytes_ref (g_ptr_array_index (fake->frames, i));
  g_mutex_unlock (&fake->lock);
  data = g_bytes_get_data (frame, &size);
  fail_unless (ds_frame_parse_message (data, size, 0, header, NULL));
  g_bytes_unref (frame);
}

static gboolean
fake_relay_quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
fake_relay_free (FakeRelay * fake)
{
  g_main_context_invoke (fake->context, fake_relay_quit, fake->loop);
  g_thread_join (fake->thread);
  g_main_loop_unref (fake->loop);
  g_main_context_unref (fake->context);
  g_ptr_array_unref (fake->frames);
  g_mutex_clear (&fake->lock);
  g_cond_clear (&fake->cond);
  g_free (fake);
}

static gboolean
is_video_keyframe (const DsHeader * header)
{
  return header->type == DS_FRAME_PIXELS ||
      (header->type == DS_FRAME_DELTA_PIXELS &&
      (header->flags & DS_FLAG_KEYFRAME));
}

/* Issue 11 item 10, end to end: a source that sent only SignalDiffs
 * through the relay (a relay restarted under it). A joiner gets the
 * merge as a SignalDiff, the relay asks the source with a
 * KeyframeRequest, and dsrelaysink answers with a SignalSync of its
 * state, which makes every receiver whole. */
static JsonObject *
buffer_json (GstBuffer * buffer)
{
  GstMapInfo map;
  JsonObject *object;

  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  object = ds_signal_parse_object ((const gchar *) map.data + DS_HEADER_SIZE,
      map.size - DS_HEADER_SIZE, NULL);
  gst_buffer_unmap (buffer, &map);
  fail_unless (object != NULL);
  return object;
}

GST_START_TEST (test_signal_sync_on_keyframe_request)
{
  static const guint8 signal_types[] = { DS_FRAME_SIGNAL_SYNC,
    DS_FRAME_SIGNAL_DIFF, 0
  };
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx;
  GstMessage *msg;
  GstBuffer *buffer;
  JsonObject *object;
  DsHeader header;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/diffs");
  stream = ds_test_relay_ws_uri (relay, "/stream/diffs");

  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-connected", WAIT_MS);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, 1, 0, "{\"a\":1}"));
  push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, 2, 10, "{\"b\":2}"));
  /* the relay asked: dsrelaysink posts every input it gets */
  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-input", WAIT_MS);
  fail_unless (msg != NULL, "no KeyframeRequest reached the source");
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (msg), "type"), "keyframe-request");
  gst_message_unref (msg);

  rx = receiver_new (stream, NULL);
  set_state (rx, GST_STATE_PLAYING);
  /* the state, whole by now (dsrelaysink answered) or, if the joiner came
   * first, the diffs as a SignalDiff and then the SignalSync */
  buffer = pull_type (rx, signal_types, WAIT_MS, &header);
  fail_unless (buffer != NULL);
  if (header.type == DS_FRAME_SIGNAL_DIFF) {
    gst_buffer_unref (buffer);
    buffer = pull_type (rx, signal_types, WAIT_MS, &header);
    fail_unless (buffer != NULL);
  }
  fail_unless_equals_int (header.type, DS_FRAME_SIGNAL_SYNC);
  object = buffer_json (buffer);
  fail_unless_equals_int (json_object_get_size (object), 2);
  fail_unless_equals_int (json_object_get_int_member (object, "a"), 1);
  fail_unless_equals_int (json_object_get_int_member (object, "b"), 2);
  json_object_unref (object);
  gst_buffer_unref (buffer);

  stop (tx);
  stop (rx);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_keyframe_request_to_dsdelta)
{
  FakeRelay *fake = fake_relay_new ();
  gchar *desc;
  GstElement *tx;
  DsInputEvent request = { 0, };
  DsHeader header;
  GstMessage *msg;
  gboolean keyframe = FALSE;
  guint n, i, seen;
  gint64 deadline;

  desc = g_strdup_printf ("videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,format=RGBA,width=64,height=48,framerate=30/1 ! "
      "dspay ! dsdelta keyframe-interval=0 ! "
      "dsrelaysink name=sink location=ws://127.0.0.1:%u/peer/kf " RETRY_ARGS,
      fake->port);
  tx = launch (desc);
  g_free (desc);
  set_state (tx, GST_STATE_PLAYING);

  /* a keyframe, then only deltas */
  n = fake_relay_wait_frames (fake, 10, WAIT_MS);
  fail_unless (n > 10);
  fake_relay_frame (fake, 0, &header);
  fail_unless (is_video_keyframe (&header));
  for (i = 1; i < n; i++) {
    fake_relay_frame (fake, i, &header);
    fail_if (is_video_keyframe (&header), "frame %u is a keyframe", i);
  }

  /* the relay passes a KeyframeRequest on */
  request.type = DS_INPUT_KEYFRAME_REQUEST;
  fake_relay_send (fake, ds_input_event_to_frame (&request, 1, 0));
  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-input", WAIT_MS);
  fail_unless (msg != NULL);
  gst_message_unref (msg);

  seen = n;
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (!keyframe && g_get_monotonic_time () < deadline) {
    n = fake_relay_wait_frames (fake, seen, WAIT_MS);
    fail_unless (n > seen, "no frames after the KeyframeRequest");
    for (i = seen; i < n && !keyframe; i++) {
      fake_relay_frame (fake, i, &header);
      keyframe = is_video_keyframe (&header);
    }
    seen = n;
  }
  fail_unless (keyframe, "no keyframe after the KeyframeRequest");

  stop (tx);
  fake_relay_free (fake);
}

GST_END_TEST;

/* A ReceiverReport from the relay becomes a ds-receiver-report element
 * message; one that does not parse is dropped */
GST_START_TEST (test_receiver_report_message)
{
  FakeRelay *fake = fake_relay_new ();
  static const gchar bad[] = "{\"receivers\":2,\"kbps\":{\"min\":9,"
      "\"median\":5,\"max\":7},\"dropped\":1}";
  DsReceiverReport report = { 3, 120, 800, 2500, 17 };
  DsHeader header = { 0, };
  const GstStructure *s;
  gchar *desc;
  GstElement *tx;
  GstMessage *msg;
  guint v;

  desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=RGBA,width=16,height=16,framerate=30/1 ! "
      "dspay ! dsrelaysink name=sink location=ws://127.0.0.1:%u/peer/rr "
      RETRY_ARGS, fake->port);
  tx = launch (desc);
  g_free (desc);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (fake_relay_wait_frames (fake, 1, WAIT_MS) >= 1);

  /* min > median: not posted */
  header.type = DS_INPUT_RECEIVER_REPORT;
  header.flags = DS_FLAG_INPUT;
  fake_relay_send (fake, ds_frame_pack (&header, bad, strlen (bad)));
  fake_relay_send (fake, ds_receiver_report_to_frame (&report, 2, 0));

  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-receiver-report",
      WAIT_MS);
  fail_unless (msg != NULL, "no ds-receiver-report");
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_uint (s, "receivers", &v));
  fail_unless_equals_int (v, 3);
  fail_unless (gst_structure_get_uint (s, "kbps-min", &v));
  fail_unless_equals_int (v, 120);
  fail_unless (gst_structure_get_uint (s, "kbps-median", &v));
  fail_unless_equals_int (v, 800);
  fail_unless (gst_structure_get_uint (s, "kbps-max", &v));
  fail_unless_equals_int (v, 2500);
  fail_unless (gst_structure_get_uint (s, "dropped", &v));
  fail_unless_equals_int (v, 17);
  gst_message_unref (msg);

  stop (tx);
  fake_relay_free (fake);
}

GST_END_TEST;

GST_START_TEST (test_unreachable_error)
{
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/peer/nobody",
      closed_port ());
  GstElement *tx = sender_new (uri, "retries=0");
  GError *error;
  gchar *debug = NULL;

  set_state (tx, GST_STATE_PLAYING);
  error = wait_for_error (tx, WAIT_MS, &debug);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_WRITE), "%s", error->message);
  fail_unless (strstr (error->message, "Could not connect to the relay") !=
      NULL, "%s", error->message);
  fail_unless (strstr (debug, uri) != NULL);
  g_error_free (error);
  g_free (debug);
  stop (tx);
  g_free (uri);
}

GST_END_TEST;

/* EOS is bounded even when the End frame cannot leave */
GST_START_TEST (test_eos_while_disconnected)
{
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/peer/away",
      closed_port ());
  GstElement *tx = sender_new (uri, NULL);
  GstMessage *msg;
  GstStructure *stats;
  guint64 sent = 1;

  set_state (tx, GST_STATE_PLAYING);
  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"a\":1}"));
  fail_unless_equals_int (gst_app_src_end_of_stream (GST_APP_SRC (get (tx,
                  "src"))), GST_FLOW_OK);
  msg = wait_for_message (tx, GST_MESSAGE_EOS, NULL, WAIT_MS);
  fail_unless (msg != NULL, "no EOS");
  gst_message_unref (msg);
  g_object_get (get (tx, "sink"), "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "frames-sent", &sent));
  fail_unless_equals_uint64 (sent, 0);
  gst_structure_free (stats);

  stop (tx);
  g_free (uri);
}

GST_END_TEST;

GST_START_TEST (test_bad_url_error)
{
  GstElement *tx = sender_new ("file:///tmp/peer/x", NULL);
  GError *error;

  /* refused at start, even with retries=-1: it cannot get better */
  fail_unless_equals_int (gst_element_set_state (tx, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  error = wait_for_error (tx, 1000, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", error->message);
  fail_unless (strstr (error->message, "ws://HOST:PORT/peer/CHANNEL") !=
      NULL, "%s", error->message);
  g_error_free (error);
  stop (tx);
}

GST_END_TEST;

/* A location of another role of the relay fails at start, with an error
 * naming the publishing URL: no connection is made, so a receiver's URL
 * cannot loop being dropped, nor take anything from anybody */
static const struct
{
  const gchar *path;
  gboolean http;
  const gchar *what;
  const gchar *right_path;
} wrong_role_cases[] = {
  {"/stream/x", FALSE, "is a receiver URL", "/peer/x"},
  {"/signal/x", FALSE, "is a signaling URL", "/peer/x"},
  {"/view/x", FALSE, "is the web viewer's page", "/peer/x"},
  {"/view/x", TRUE, "is not a WebSocket URL", "/peer/x"},
  {"/proxy/stream/x?token=t", FALSE, "is a receiver URL",
      "/proxy/peer/x?token=t"},
  /* a path of no role is a proxy's: only the scheme is wrong */
  {"/pub/x", TRUE, "is not a WebSocket URL", "/pub/x"},
};

GST_START_TEST (test_wrong_role_location)
{
  DsTestRelay *relay;
  gchar *uri, *right;
  const gchar *path = wrong_role_cases[__i__].path;
  GstElement *tx;
  GError *error;
  gchar *debug = NULL;

  relay = start_relay (NULL);
  if (wrong_role_cases[__i__].http)
    uri = ds_test_relay_http_uri (relay, path);
  else
    uri = ds_test_relay_ws_uri (relay, path);
  right = ds_test_relay_ws_uri (relay, wrong_role_cases[__i__].right_path);

  tx = sender_new (uri, NULL);
  fail_unless_equals_int (gst_element_set_state (tx, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  error = wait_for_error (tx, 1000, &debug);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", error->message);
  fail_unless (strstr (error->message, wrong_role_cases[__i__].what) != NULL,
      "%s", error->message);
  /* "ws://…/stream/x is a receiver URL. dsrelaysink publishes on
   * ws://…/peer/x." */
  fail_unless (g_str_has_prefix (error->message, uri), "%s", error->message);
  fail_unless (strstr (error->message, right) != NULL, "%s does not name %s",
      error->message, right);
  g_error_free (error);
  g_free (debug);
  stop (tx);

  /* nothing connected to the relay */
  fail_unless_equals_int (ds_test_relay_metric (relay,
          "ds_relay_connections_total{role=\"source\"}"), 0);
  fail_unless_equals_int (ds_test_relay_metric (relay,
          "ds_relay_connections_total{role=\"receiver\"}"), 0);
  fail_unless_equals_int (ds_test_relay_metric (relay,
          "ds_relay_connections_total{role=\"signaling\"}"), 0);

  g_free (right);
  g_free (uri);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* The location of a ds-connected message of @tx (NULL: none) */
static gchar *
wait_connected_location (GstElement * tx)
{
  GstMessage *msg = wait_for_message (tx, GST_MESSAGE_ELEMENT,
      "ds-connected", WAIT_MS);
  gchar *location;

  if (msg == NULL)
    return NULL;
  location = g_strdup (gst_structure_get_string (gst_message_get_structure
          (msg), "location"));
  gst_message_unref (msg);
  return location;
}

/* Two relays of the channel in locations: the source publishes on the
 * first; it stops and the source goes on on the second, whose receiver
 * gets the whole signal state and pictures */
GST_START_TEST (test_locations_failover)
{
  DsTestRelay *a, *b;
  gchar *peer_a, *peer_b, *stream_b, *extra, *location;
  GstElement *tx, *rx;
  guint8 *prev = g_malloc0 (32 * 16 * 4);
  DsSignalState *state = ds_signal_state_new ();
  gboolean picture = FALSE;
  guint n = 0, i;
  const gchar *schema = "{\"signals\":[\"a\",\"b\"],\"mode\":\"signal\"}";

  a = start_relay (NULL);
  b = start_relay (NULL);
  peer_a = ds_test_relay_ws_uri (a, "/peer/fo");
  peer_b = ds_test_relay_ws_uri (b, "/peer/fo");
  stream_b = ds_test_relay_ws_uri (b, "/stream/fo");

  rx = receiver_new (stream_b, NULL);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  extra = g_strdup_printf ("locations=\"<%s, %s>\"", peer_a, peer_b);
  tx = sender_new (peer_a, extra);
  set_state (tx, GST_STATE_PLAYING);
  location = wait_connected_location (tx);
  fail_unless_equals_string (location, peer_a);
  g_free (location);

  push (tx, make_frame (DS_FRAME_SCHEMA_ANNOUNCE, 0, 0, 0, 0, 0, schema,
          strlen (schema)));
  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 1, 0, "{\"a\":1}"));
  for (i = 0; i < 5; i++, n++)
    push (tx, make_picture_frame (n, 32, 16, prev, 30));
  fail_unless (wait_rendered (tx, 7, WAIT_MS));

  /* the first relay goes away: the source moves to the second at once */
  fail_unless_equals_int (ds_test_relay_stop (a), 0);
  location = wait_connected_location (tx);
  fail_unless_equals_string (location, peer_b);
  g_free (location);

  push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, 2, 400, "{\"b\":2}"));
  n = 30;
  for (i = 0; i < 5; i++, n++)
    push (tx, make_picture_frame (n, 32, 16, prev, 30));

  picture = receive_signal_and_picture (rx, state, "b", 2);
  fail_unless (picture, "no picture through the second relay");
  /* the state is whole: a from before the move, b after */
  fail_unless_equals_int (state_get (state, "a"), 1);
  fail_unless_equals_int (state_get (state, "b"), 2);
  assert_no_error (rx);

  stop (tx);
  stop (rx);
  ds_signal_state_free (state);
  g_free (prev);
  g_free (extra);
  g_free (peer_a);
  g_free (peer_b);
  g_free (stream_b);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
}

GST_END_TEST;

/* The first relay full (HTTP 503, one client at most): the second; a 401
 * at the first: an error, the second is not tried; a bad URL in the list:
 * an error at start */
GST_START_TEST (test_locations_errors)
{
  DsTestRelay *a, *b, *c;
  gchar *peer_a, *peer_b, *peer_c, *extra, *location;
  GstElement *tx, *rx;
  GError *error;

  a = start_relay ("--max-clients", "1", NULL);
  b = start_relay (NULL);
  c = start_relay ("--publish-token", "secret", NULL);
  peer_a = ds_test_relay_ws_uri (a, "/peer/fo");
  peer_b = ds_test_relay_ws_uri (b, "/peer/fo");
  peer_c = ds_test_relay_ws_uri (c, "/peer/fo");

  location = ds_test_relay_ws_uri (a, "/stream/other");
  rx = receiver_new (location, NULL);
  g_free (location);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  extra = g_strdup_printf ("locations=\"<%s, %s>\"", peer_a, peer_b);
  tx = sender_new (peer_a, extra);
  set_state (tx, GST_STATE_PLAYING);
  location = wait_connected_location (tx);
  fail_unless_equals_string (location, peer_b);
  g_free (location);
  fail_unless (ds_test_relay_metric (a,
          "ds_relay_rejected_total{reason=\"limit\"}") >= 1);
  stop (tx);
  g_free (extra);

  extra = g_strdup_printf ("locations=\"<%s, %s>\"", peer_c, peer_b);
  tx = sender_new (peer_c, extra);
  set_state (tx, GST_STATE_PLAYING);
  error = wait_for_error (tx, WAIT_MS, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", error->message);
  g_error_free (error);
  g_usleep (300 * 1000);
  fail_if (wait_for_boolean (get (tx, "sink"), "connected", TRUE, 10));
  stop (tx);
  g_free (extra);

  extra = g_strdup_printf ("locations=\"<%s, http://127.0.0.1:1/x>\"", peer_b);
  tx = sender_new (peer_b, extra);
  fail_unless_equals_int (gst_element_set_state (tx, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  error = wait_for_error (tx, WAIT_MS, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", error->message);
  g_error_free (error);
  stop (tx);
  g_free (extra);

  stop (rx);
  g_free (peer_a);
  g_free (peer_b);
  g_free (peer_c);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  ds_test_relay_free (c);
}

GST_END_TEST;

GST_START_TEST (test_wrong_token_error)
{
  DsTestRelay *relay;
  gchar *peer, *desc;
  GstElement *tx;
  GError *error;
  GstMessage *msg;

  relay = start_relay ("--publish-token", "secret", NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/auth");

  /* retrying cannot help: an error at the first 401, even with retries
   * left, and no warning of a retry before it */
  tx = sender_new (peer, "token=wrong");
  set_state (tx, GST_STATE_PLAYING);
  msg = wait_for_error_or_warning (tx, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &error, NULL);
  gst_message_unref (msg);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", error->message);
  fail_unless (strstr (error->message, "token") != NULL);
  fail_unless (strstr (error->message, "401") != NULL);
  g_error_free (error);
  fail_unless_equals_int (ds_test_relay_wait_metric (relay,
          "ds_relay_rejected_total{reason=\"auth\"}", 1, WAIT_MS), 1);
  /* a bounded negative check: no second attempt within 6 retry delays */
  g_usleep (300 * 1000);
  stop (tx);
  fail_unless_equals_int (ds_test_relay_metric (relay,
          "ds_relay_rejected_total{reason=\"auth\"}"), 1);

  /* the right token works */
  tx = sender_new (peer, "token=secret retries=0");
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  assert_no_error (tx);
  stop (tx);

  /* a channel name the relay refuses (HTTP 400): final as well */
  desc = ds_test_relay_ws_uri (relay, "/peer/bad%20name!");
  tx = sender_new (desc, "token=secret");
  set_state (tx, GST_STATE_PLAYING);
  error = wait_for_error (tx, WAIT_MS, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", error->message);
  g_error_free (error);
  stop (tx);

  g_free (desc);
  g_free (peer);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_null_while_stalled)
{
  guint port;
  GSocket *listener = stalled_listener_new (&port);
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/peer/stalled", port);
  GstElement *tx = sender_new (uri, NULL);
  gint64 ms;
  guint i;

  set_state (tx, GST_STATE_PLAYING);
  for (i = 0; i < 10; i++)
    push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, i, i, "{\"a\":1}"));
  /* queued while the handshake hangs */
  fail_unless (wait_stalled_request (port, WAIT_MS));
  fail_unless (wait_rendered (tx, 10, WAIT_MS));
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", FALSE, 0));
  ms = time_to_null (tx);
  GST_INFO ("PLAYING -> NULL in %" G_GINT64_FORMAT " ms (handshake stalled)",
      ms);
  fail_unless (ms < 1000, "took %" G_GINT64_FORMAT " ms", ms);
  gst_object_unref (tx);

  g_free (uri);
  g_object_unref (listener);
}

GST_END_TEST;

GST_START_TEST (test_null_while_relay_stopped)
{
  DsTestRelay *relay;
  gchar *peer;
  GstElement *tx;
  gint64 ms;
  guint i;
  guint8 *big = g_malloc0 (1024 * 1024);

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/sigstop");
  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  /* the relay stops answering while we send more than the socket takes */
  kill (ds_test_relay_get_pid (relay), SIGSTOP);
  fail_unless (wait_process_stopped (ds_test_relay_get_pid (relay), WAIT_MS));
  for (i = 0; i < 16; i++)
    push (tx, make_frame (DS_FRAME_NEURAL_FRAME, 0, i, i, 0, 0, big,
            1024 * 1024));
  /* the sink has them, and cannot send them all */
  fail_unless (wait_rendered (tx, 16, WAIT_MS));
  fail_unless (sink_stat (tx, "queued-bytes") > 0);
  ms = time_to_null (tx);
  GST_INFO ("PLAYING -> NULL in %" G_GINT64_FORMAT " ms (relay stopped)", ms);
  fail_unless (ms < 1000, "took %" G_GINT64_FORMAT " ms", ms);
  gst_object_unref (tx);

  kill (ds_test_relay_get_pid (relay), SIGCONT);
  g_free (big);
  g_free (peer);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_start_stop_no_leak)
{
  DsTestRelay *relay;
  gchar *peer;
  GstElement *tx;
  guint before, after, i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/cycle");
  tx = sender_new (peer, NULL);

  /* warm up GLib/GIO's own threads (resolver, worker pool) */
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  gst_element_set_state (tx, GST_STATE_NULL);
  before = settled_thread_count (0);

  for (i = 0; i < 30; i++) {
    set_state (tx, GST_STATE_PLAYING);
    if (i % 2 == 0)
      fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE,
              WAIT_MS));
    fail_unless_equals_int (gst_element_set_state (tx, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  /* threads that are on their way out may take a moment */
  after = settled_thread_count (before + 2);
  GST_INFO ("threads: %u before, %u after 30 cycles", before, after);
  /* GIO's thread pool may keep a worker or two */
  fail_unless (after <= before + 2, "%u threads before, %u after", before,
      after);
  assert_no_error (tx);

  gst_object_unref (tx);
  g_free (peer);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* A WebSocket server that accepts the upgrade and then reads slowly: a
 * saturated uplink */
typedef struct
{
  GSocket *listener;
  GThread *thread;
  guint port;
  gint stop;                    /* atomic */
  gint fast;                    /* atomic: read at full speed */
  guint64 received;
} SlowServer;

static gpointer
slow_server_thread (gpointer user_data)
{
  SlowServer *slow = user_data;
  GSocket *client;
  GString *request = g_string_new (NULL);
  gchar buf[16 * 1024];
  gchar *key = NULL, *accept, *reply, *concat;
  const gchar *line;
  gssize n;
  guint8 digest[20];
  gsize digest_len = sizeof (digest);
  GChecksum *sha1;

  client = g_socket_accept (slow->listener, NULL, NULL);
  fail_unless (client != NULL);
  g_socket_set_timeout (client, 1);
  while (strstr (request->str, "\r\n\r\n") == NULL) {
    n = g_socket_receive (client, buf, 1, NULL, NULL);
    fail_unless (n == 1);
    g_string_append_len (request, buf, 1);
  }
  line = strstr (request->str, "Sec-WebSocket-Key: ");
  fail_unless (line != NULL);
  line += strlen ("Sec-WebSocket-Key: ");
  key = g_strndup (line, strcspn (line, "\r\n"));
  concat = g_strconcat (key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", NULL);
  sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, (const guchar *) concat, strlen (concat));
  g_checksum_get_digest (sha1, digest, &digest_len);
  accept = g_base64_encode (digest, digest_len);
  reply = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
  fail_unless (g_socket_send (client, reply, strlen (reply), NULL,
          NULL) == (gssize) strlen (reply));

  /* about 3 MB/s */
  while (!g_atomic_int_get (&slow->stop)) {
    n = g_socket_receive_with_blocking (client, buf, sizeof (buf), FALSE,
        NULL, NULL);
    if (n > 0)
      slow->received += n;
    else if (n == 0)
      break;
    if (!g_atomic_int_get (&slow->fast) || n <= 0)
      g_usleep (5 * 1000);
  }

  g_socket_close (client, NULL);
  g_object_unref (client);
  g_checksum_free (sha1);
  g_free (reply);
  g_free (accept);
  g_free (concat);
  g_free (key);
  g_string_free (request, TRUE);
  return NULL;
}

static SlowServer *
slow_server_new (void)
{
  SlowServer *slow = g_new0 (SlowServer, 1);
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, 0);
  GSocketAddress *bound;

  slow->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  /* a small receive window: the sender's socket fills soon */
  g_socket_set_option (slow->listener, SOL_SOCKET, SO_RCVBUF, 64 * 1024, NULL);
  fail_unless (g_socket_bind (slow->listener, address, TRUE, NULL));
  fail_unless (g_socket_listen (slow->listener, NULL));
  bound = g_socket_get_local_address (slow->listener, NULL);
  slow->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (address);
  g_object_unref (loopback);
  slow->thread = g_thread_new ("slow-server", slow_server_thread, slow);
  return slow;
}

static void
slow_server_free (SlowServer * slow)
{
  g_atomic_int_set (&slow->stop, 1);
  g_thread_join (slow->thread);
  g_socket_close (slow->listener, NULL);
  g_object_unref (slow->listener);
  g_free (slow);
}

/* Resident memory of this process in kB */
static gint64
resident_kb (void)
{
  gchar *status = NULL, *line;
  gint64 kb = -1;

  fail_unless (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  if (line != NULL)
    kb = g_ascii_strtoll (line + strlen ("VmRSS:"), NULL, 10);
  g_free (status);
  return kb;
}

GST_START_TEST (test_slow_uplink_bounded)
{
  SlowServer *slow = slow_server_new ();
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/peer/slow", slow->port);
  GstElement *tx = sender_new (uri, "max-queue-bytes=16777216");
  GstStructure *stats;
  guint64 dropped = 0, sent = 0;
  gint64 base_kb, peak_kb = 0;
  gsize frame_size = 8 * 1024 * 1024;
  guint8 *payload = g_malloc0 (frame_size);
  guint i;

  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  base_kb = resident_kb ();

  for (i = 0; i < 40; i++) {
    payload[0] = i;
    push (tx, make_frame (DS_FRAME_AUDIO_PCM, DS_FLAG_KEYFRAME, i, i * 20, 1,
            48000, payload, frame_size));
    /* what is measured is the sink's memory, not frames waiting in appsrc
     * for its streaming thread (8 MiB each when it lags behind, as under
     * load) */
    fail_unless (wait_rendered (tx, i + 1, WAIT_MS));
    /* pacing: 50 frames a second to a reader of 3 MB/s */
    g_usleep (20 * 1000);
    peak_kb = MAX (peak_kb, resident_kb ());
  }
  /* let the sink hand on what it will: the peak is sampled over 0.5 s
   * more */
  for (i = 0; i < 50; i++) {
    g_usleep (10 * 1000);
    peak_kb = MAX (peak_kb, resident_kb ());
  }

  g_object_get (get (tx, "sink"), "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, "frames-dropped", &dropped);
  gst_structure_get_uint64 (stats, "frames-sent", &sent);
  GST_INFO ("slow uplink: %" G_GUINT64_FORMAT " frames sent, %"
      G_GUINT64_FORMAT " dropped, %" G_GUINT64_FORMAT " bytes read by the "
      "server, resident memory grew by %" G_GINT64_FORMAT " kB", sent,
      dropped, slow->received, peak_kb - base_kb);
  gst_structure_free (stats);

  /* the queue bound holds: frames were dropped instead of piling up in
   * libsoup (320 MiB pushed). Resident besides the 16 MiB queue: the frame
   * libsoup is writing (its masked copy), the one being pushed, the base
   * sink's last-sample, and the socket buffers: three frames and slack */
  fail_unless (dropped > 0);
  ds_test_memory_bound (peak_kb - base_kb < (16 + 3 * 8 + 4) * 1024,
      "resident memory grew by %" G_GINT64_FORMAT " kB", peak_kb - base_kb);

  /* once the uplink is fast again, everything queued goes out: the
   * element does not wait for bytes libsoup no longer holds */
  g_atomic_int_set (&slow->fast, 1);
  for (i = 0; i < WAIT_MS / 10; i++) {
    g_object_get (get (tx, "sink"), "stats", &stats, NULL);
    gst_structure_get_uint64 (stats, "frames-sent", &sent);
    gst_structure_get_uint64 (stats, "frames-dropped", &dropped);
    gst_structure_free (stats);
    if (sent + dropped == 40)
      break;
    g_usleep (10 * 1000);
  }
  fail_unless_equals_int (sent + dropped, 40);

  set_state (tx, GST_STATE_NULL);
  gst_object_unref (tx);
  slow_server_free (slow);
  g_free (payload);
  g_free (uri);
}

GST_END_TEST;

static guint
count_frames_of_type (FakeRelay * fake, guint8 type)
{
  guint i, n = 0, len;
  DsHeader header;

  g_mutex_lock (&fake->lock);
  len = fake->frames->len;
  g_mutex_unlock (&fake->lock);
  for (i = 0; i < len; i++) {
    fake_relay_frame (fake, i, &header);
    if (header.type == type)
      n++;
  }
  return n;
}

/* The connection breaks after the End frame was written but before the
 * relay read it: the End frame goes out again on the new connection, and
 * EOS comes after the relay has it. */
GST_START_TEST (test_end_resent_after_reconnect)
{
  FakeRelay *fake = fake_relay_new ();
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/peer/end", fake->port);
  GstElement *tx = sender_new (uri, NULL);
  GstMessage *msg;
  guint8 payload[64] = { 0, };

  fake->lose_end = TRUE;
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  push (tx, make_frame (DS_FRAME_AUDIO_PCM, DS_FLAG_KEYFRAME, 0, 0, 1, 48000,
          payload, sizeof (payload)));
  fail_unless_equals_int (gst_app_src_end_of_stream (GST_APP_SRC (get (tx,
                  "src"))), GST_FLOW_OK);

  msg = wait_for_message (tx, GST_MESSAGE_EOS, NULL, WAIT_MS);
  fail_unless (msg != NULL, "no EOS");
  gst_message_unref (msg);
  fail_if (fake->lose_end, "the fake relay never saw the first End");
  fail_unless_equals_int (count_frames_of_type (fake, DS_FRAME_END), 1);

  set_state (tx, GST_STATE_NULL);
  gst_object_unref (tx);
  fake_relay_free (fake);
  g_free (uri);
}

GST_END_TEST;

/* A relay that cannot answer Pings in time because what the sink sends
 * saturates the uplink is still alive as long as it takes the bytes: no
 * reconnect after the 15 s liveness timeout */
GST_START_TEST (test_slow_uplink_stays_connected)
{
  SlowServer *slow = slow_server_new ();
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/peer/slow", slow->port);
  GstElement *tx = sender_new (uri, "max-queue-bytes=4194304");
  GstStructure *stats;
  gsize frame_size = 1024 * 1024;
  guint8 *payload = g_malloc0 (frame_size);
  guint reconnects = 99;
  gboolean connected = FALSE;
  guint i;

  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  /* 10 MB/s to a reader of 3 MB/s for 17 s; the reader never answers */
  for (i = 0; i < 170; i++) {
    push (tx, make_frame (DS_FRAME_AUDIO_PCM, DS_FLAG_KEYFRAME, i, i * 100, 1,
            48000, payload, frame_size));
    g_usleep (100 * 1000);
  }

  g_object_get (get (tx, "sink"), "stats", &stats, NULL);
  gst_structure_get_uint (stats, "reconnects", &reconnects);
  gst_structure_get_boolean (stats, "connected", &connected);
  GST_INFO ("after 17 s: %" GST_PTR_FORMAT ", %" G_GUINT64_FORMAT " bytes "
      "read by the server", stats, slow->received);
  gst_structure_free (stats);
  fail_unless (connected);
  fail_unless_equals_int (reconnects, 0);
  assert_no_error (tx);

  set_state (tx, GST_STATE_NULL);
  gst_object_unref (tx);
  slow_server_free (slow);
  g_free (payload);
  g_free (uri);
}

GST_END_TEST;

/* Two publishers on one channel: the second takes the channel over, the
 * first gets an error naming the channel and stops; it does not reconnect
 * and take the channel back (which made the two take it from each other
 * hundreds of times a second) */
GST_START_TEST (test_takeover_stops)
{
  DsTestRelay *relay;
  gchar *peer;
  GstElement *tx1, *tx2;
  GstElement *failed = NULL;
  gboolean connected = FALSE;
  GstMessage *msg = NULL;
  GError *error;
  gchar *debug = NULL;
  gint64 takeovers, deadline;
  guint8 *prev = g_malloc0 (32 * 16 * 4);
  guint i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/twice");

  /* the fastest retries there are: the worst case for a storm */
  tx1 = sender_new (peer, "retry-delay=1 max-retry-delay=1");
  set_state (tx1, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx1, "sink"), "connected", TRUE,
          WAIT_MS));
  tx2 = sender_new (peer, "retry-delay=1 max-retry-delay=1");
  set_state (tx2, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx2, "sink"), "connected", TRUE,
          WAIT_MS));

  /* both keep publishing (30 frames a second) until one of them posts
   * something, and then 1 s more: a storm would go on meanwhile */
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  for (i = 0; g_get_monotonic_time () < deadline; i++) {
    GstBuffer *frame = make_picture_frame (i, 32, 16, prev, 30);

    gst_app_src_push_buffer (GST_APP_SRC (get (tx1, "src")),
        gst_buffer_ref (frame));
    gst_app_src_push_buffer (GST_APP_SRC (get (tx2, "src")), frame);
    g_usleep (30 * 1000);
    if (msg == NULL) {
      /* one of them (the first, unless a close frame was lost) */
      if ((msg = wait_for_error_or_warning (tx1, 0)) != NULL)
        failed = tx1;
      else if ((msg = wait_for_error_or_warning (tx2, 0)) != NULL)
        failed = tx2;
      if (msg != NULL)
        deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
    }
  }

  takeovers = ds_test_relay_metric (relay, "ds_relay_takeovers_total");
  GST_INFO ("%" G_GINT64_FORMAT " take-overs", takeovers);
  fail_unless (takeovers >= 1 && takeovers <= 2, "%" G_GINT64_FORMAT
      " take-overs", takeovers);

  /* it stopped with an error that names the channel; the other one
   * publishes */
  fail_unless (msg != NULL, "no error from either publisher");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &error, &debug);
  gst_message_unref (msg);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_BUSY), "%s", error->message);
  fail_unless (strstr (error->message, "'twice'") != NULL, "%s",
      error->message);
  fail_unless (strstr (debug, "4000") != NULL, "%s", debug);
  g_error_free (error);
  g_free (debug);
  g_object_get (get (failed == tx1 ? tx2 : tx1, "sink"), "connected",
      &connected, NULL);
  fail_unless (connected);
  assert_no_error (failed == tx1 ? tx2 : tx1);

  stop (tx1);
  stop (tx2);
  g_free (prev);
  g_free (peer);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* HTTP answers to the handshake: 4xx ends the retries at once with an
 * error naming the cause; 5xx (503: busy, shutting down; 502/504 from a
 * proxy) is retried */
static const struct
{
  guint status;
  gboolean retried;
  GstResourceError code;
  const gchar *says;
} http_status_cases[] = {
  {400, FALSE, GST_RESOURCE_ERROR_NOT_FOUND, "channel"},
  {401, FALSE, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "token"},
  {403, FALSE, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "403"},
  {404, FALSE, GST_RESOURCE_ERROR_NOT_FOUND, "path"},
  {405, FALSE, GST_RESOURCE_ERROR_FAILED, "405"},
  {413, FALSE, GST_RESOURCE_ERROR_FAILED, "413"},
  {431, FALSE, GST_RESOURCE_ERROR_FAILED, "431"},
  {200, FALSE, GST_RESOURCE_ERROR_OPEN_WRITE, "WebSocket"},
  {503, TRUE, GST_RESOURCE_ERROR_OPEN_WRITE, "503"},
  {502, TRUE, GST_RESOURCE_ERROR_OPEN_WRITE, "502"},
};

GST_START_TEST (test_http_status)
{
  FakeRelay *fake = fake_relay_new ();
  guint status = http_status_cases[__i__].status;
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/http/%u/x", fake->port,
      status);
  GstElement *tx;
  GstMessage *msg;
  GError *error;
  guint requests;

  /* retries=-1 (forever) */
  tx = sender_new (uri, "retry-delay=20 max-retry-delay=50");
  set_state (tx, GST_STATE_PLAYING);
  msg = wait_for_error_or_warning (tx, WAIT_MS);
  fail_unless (msg != NULL, "nothing posted for HTTP %u", status);
  if (http_status_cases[__i__].retried) {
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_WARNING);
    gst_message_parse_warning (msg, &error, NULL);
    fail_unless (strstr (error->message, "retrying") != NULL, "%s",
        error->message);
    g_error_free (error);
    /* and again */
    fail_unless (fake_relay_wait_count (fake, &fake->requests, 3,
            WAIT_MS) >= 3);
    assert_no_error (tx);
  } else {
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
    gst_message_parse_error (msg, &error, NULL);
    fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
            http_status_cases[__i__].code), "HTTP %u: %s", status,
        error->message);
    fail_unless (strstr (error->message, http_status_cases[__i__].says) !=
        NULL, "HTTP %u: %s", status, error->message);
    g_error_free (error);
    /* no second attempt: a bounded negative check over 10 retry delays */
    g_usleep (200 * 1000);
    g_mutex_lock (&fake->lock);
    requests = fake->requests;
    g_mutex_unlock (&fake->lock);
    fail_unless_equals_int (requests, 1);
  }
  gst_message_unref (msg);

  stop (tx);
  fake_relay_free (fake);
  g_free (uri);
}

GST_END_TEST;

/* The relay closes the connection right after accepting it: with a code
 * that says what was sent is not accepted (1009: a frame over its limit),
 * an error; with any other code, reconnecting after the backoff, not at
 * once and for ever */
GST_START_TEST (test_closed_at_once)
{
  FakeRelay *fake = fake_relay_new ();
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/peer/closing", fake->port);
  GstElement *tx;
  GError *error;
  gchar *debug = NULL;
  guint connections;
  gint64 start, first_us, ms;

  fake->close_code = SOUP_WEBSOCKET_CLOSE_TOO_BIG;
  tx = sender_new (uri, NULL);
  set_state (tx, GST_STATE_PLAYING);
  error = wait_for_error (tx, WAIT_MS, &debug);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_WRITE), "%s", error->message);
  fail_unless (strstr (debug, "1009") != NULL, "%s", debug);
  g_error_free (error);
  g_free (debug);
  /* a bounded negative check: no reconnect within 2 retry delays (the
   * default retry-delay of the test elements is 50 ms) */
  g_usleep (200 * 1000);
  g_mutex_lock (&fake->lock);
  connections = fake->connections;
  fake->connections = 0;
  g_mutex_unlock (&fake->lock);
  fail_unless_equals_int (connections, 1);
  stop (tx);

  /* 1008 (a limit of the relay): retried, with the backoff growing from
   * 50-100 to 100-200 and 200-400 ms: the 4th connection comes 350 ms
   * after the first at the earliest (300 allows for waking up late) */
  fake->close_code = SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION;
  tx = sender_new (uri, "retry-delay=100 max-retry-delay=400");
  start = g_get_monotonic_time ();
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (fake_relay_wait_count (fake, &fake->connections, 1,
          WAIT_MS) >= 1);
  first_us = g_get_monotonic_time ();
  connections = fake_relay_wait_count (fake, &fake->connections, 4, WAIT_MS);
  ms = (g_get_monotonic_time () - first_us) / 1000;
  GST_INFO ("%u connections in %" G_GINT64_FORMAT " ms (the first after %"
      G_GINT64_FORMAT " ms)", connections, ms, (first_us - start) / 1000);
  fail_unless (connections >= 4, "not retried: %u connections", connections);
  fail_unless (ms >= 300, "4 connections in %" G_GINT64_FORMAT " ms", ms);
  assert_no_error (tx);
  stop (tx);

  fake_relay_free (fake);
  g_free (uri);
}

GST_END_TEST;

/* A location of no role the element knows (a reverse proxy's path) that
 * turns out to be a receiver's: the relay sends the channel's frames, and
 * dsrelaysink stops with an error instead of publishing into the void */
GST_START_TEST (test_receiver_path_behind_proxy)
{
  FakeRelay *fake = fake_relay_new ();
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/peer/x", fake->port);
  GstElement *tx = sender_new (uri, NULL);
  GstBuffer *picture;
  guint8 pixels[4 * 4 * 4] = { 0, };
  GError *error;
  gchar *debug = NULL;
  gsize size;
  gpointer data;

  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  /* what a relay sends a receiver */
  picture = make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 4, 4, pixels,
      sizeof (pixels));
  gst_buffer_extract_dup (picture, 0, gst_buffer_get_size (picture), &data,
      &size);
  gst_buffer_unref (picture);
  fake_relay_send (fake, g_bytes_new_take (data, size));

  error = wait_for_error (tx, WAIT_MS, &debug);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", error->message);
  fail_unless (strstr (error->message, "/peer/") != NULL, "%s", error->message);
  fail_unless (strstr (debug, "as to a receiver") != NULL, "%s", debug);
  g_error_free (error);
  g_free (debug);
  /* and does not come back (a bounded negative check over 6 retry
   * delays) */
  g_usleep (300 * 1000);
  g_mutex_lock (&fake->lock);
  fail_unless_equals_int (fake->connections, 1);
  g_mutex_unlock (&fake->lock);

  stop (tx);
  fake_relay_free (fake);
  g_free (uri);
}

GST_END_TEST;

/* A host name that does not resolve is said so, not "refused" */
GST_START_TEST (test_unresolvable_host)
{
  GstElement *tx = sender_new ("ws://no-such-host.invalid:9100/peer/x",
      "retries=1");
  GstMessage *msg;
  GError *error;
  gchar *debug = NULL;

  set_state (tx, GST_STATE_PLAYING);
  msg = wait_for_error_or_warning (tx, 3 * WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_WARNING);
  gst_message_parse_warning (msg, &error, NULL);
  gst_message_unref (msg);
  fail_unless (strstr (error->message, "cannot resolve host") != NULL, "%s",
      error->message);
  fail_unless (strstr (error->message, "refused") == NULL, "%s",
      error->message);
  g_error_free (error);

  error = wait_for_error (tx, 3 * WAIT_MS, &debug);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_WRITE), "%s", error->message);
  fail_unless (strstr (error->message, "resolve") != NULL, "%s",
      error->message);
  fail_unless (strstr (debug, "no-such-host.invalid") != NULL, "%s", debug);
  g_error_free (error);
  g_free (debug);
  stop (tx);
}

GST_END_TEST;

/* The relay killed (-9) under a running publisher and two receivers,
 * down for 1 s and restarted on the same port: every pipeline comes back
 * by itself with the default retry settings, and the receivers show
 * correct pictures (compared pixel by pixel) and the whole signal state
 * again. How long each took after the restart is printed (a loaded
 * machine makes it slower, so it is not asserted). */

#define KILL_WIDTH 32
#define KILL_HEIGHT 16
#define KILL_SIZE (KILL_WIDTH * KILL_HEIGHT * 4)
#define DEFAULT_RETRY_ARGS "retry-delay=1000 max-retry-delay=10000"

typedef struct
{
  GstElement *pipeline;
  gint running;                 /* atomic */
  gint want_keyframe;           /* atomic: a ForceKeyUnit came */
  gint pushed;                  /* atomic: the last frame number */
  GThread *thread;
  GMutex lock;
  gint64 connected_us;          /* when "connected" last became TRUE */
} KillPublisher;

typedef struct
{
  GstElement *pipeline;
  DsSignalState *state;
  guint8 picture[KILL_SIZE];
  guint8 expected[KILL_SIZE];
  gboolean have_picture;
  GMutex lock;
  GCond cond;
  gint after;                   /* back: a frame newer than this... */
  gint64 back_us;               /* ...shown right, with the whole state */
  guint wrong;                  /* pictures that differed */
} KillReceiver;

static GstPadProbeReturn
kill_publisher_event (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  KillPublisher *publisher = data;

  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    g_atomic_int_set (&publisher->want_keyframe, 1);
  return GST_PAD_PROBE_OK;
}

/* 30 frames a second, a keyframe when asked (and every 5 s), and a signal
 * "n" that follows the frame number; "a" is set once at the start */
static gpointer
kill_publisher_thread (gpointer data)
{
  KillPublisher *publisher = data;
  GstAppSrc *src = GST_APP_SRC (get (publisher->pipeline, "src"));
  guint8 *prev = g_malloc0 (KILL_SIZE);
  guint n;

  gst_app_src_push_buffer (src, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0,
          "{\"a\":1}"));
  for (n = 1; g_atomic_int_get (&publisher->running); n++) {
    gboolean keyframe = n == 1 || n % 150 == 0 ||
        g_atomic_int_compare_and_exchange (&publisher->want_keyframe, 1, 0);
    gchar *json = g_strdup_printf ("{\"n\":%u}", n);

    gst_app_src_push_buffer (src, make_picture_frame (n, KILL_WIDTH,
            KILL_HEIGHT, prev, keyframe ? 1 : G_MAXUINT));
    gst_app_src_push_buffer (src, make_signal (DS_FRAME_SIGNAL_DIFF, n,
            n * 33, json));
    g_free (json);
    g_atomic_int_set (&publisher->pushed, n);
    g_usleep (33 * 1000);
  }
  g_free (prev);
  return NULL;
}

static GstPadProbeReturn
kill_receiver_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  KillReceiver *receiver = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  DsHeader header;
  GstMapInfo map;
  gboolean shown = FALSE;

  fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
  g_mutex_lock (&receiver->lock);
  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT))
    receiver->have_picture = FALSE;
  if (apply_signal (receiver->state, buffer)) {
    g_mutex_unlock (&receiver->lock);
    return GST_PAD_PROBE_OK;
  }
  if (header.type == DS_FRAME_PIXELS || header.type == DS_FRAME_DELTA_PIXELS) {
    fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
    if (header.type == DS_FRAME_PIXELS) {
      fail_unless_equals_int (map.size, DS_HEADER_SIZE + KILL_SIZE);
      memcpy (receiver->picture, map.data + DS_HEADER_SIZE, KILL_SIZE);
      receiver->have_picture = TRUE;
    } else if (receiver->have_picture) {
      /* a delta on the picture before it (after a gap, a receiver waits
       * for the next keyframe) */
      fail_unless (ds_rle_decode_xor (map.data + DS_HEADER_SIZE,
              map.size - DS_HEADER_SIZE, receiver->picture, receiver->picture,
              KILL_SIZE, NULL));
    }
    gst_buffer_unmap (buffer, &map);
    if (receiver->have_picture) {
      fill_picture (receiver->expected, KILL_WIDTH, KILL_HEIGHT, header.seq);
      shown = memcmp (receiver->expected, receiver->picture, KILL_SIZE) == 0;
      if (!shown)
        receiver->wrong++;
    }
  }
  if (shown && receiver->back_us == 0 && header.seq > receiver->after &&
      state_get (receiver->state, "a") == 1 &&
      state_get (receiver->state, "n") > receiver->after) {
    receiver->back_us = g_get_monotonic_time ();
    g_cond_broadcast (&receiver->cond);
  }
  g_mutex_unlock (&receiver->lock);
  return GST_PAD_PROBE_OK;
}

static void
kill_receiver_init (KillReceiver * receiver, const gchar * uri)
{
  gchar *desc = g_strdup_printf ("dsstreamsrc name=src location=%s "
      DEFAULT_RETRY_ARGS " ! appsink name=sink sync=false max-buffers=1 "
      "drop=true", uri);
  GstPad *pad;

  memset (receiver, 0, sizeof (*receiver));
  g_mutex_init (&receiver->lock);
  g_cond_init (&receiver->cond);
  receiver->state = ds_signal_state_new ();
  receiver->pipeline = launch (desc);
  g_free (desc);
  pad = gst_element_get_static_pad (get (receiver->pipeline, "sink"), "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, kill_receiver_buffer,
      receiver, NULL);
  gst_object_unref (pad);
  set_state (receiver->pipeline, GST_STATE_PLAYING);
}

/* Starts waiting for a correct picture and state newer than frame @after;
 * returns when it was seen (0 after @timeout_ms) */
static gint64
kill_receiver_wait_back (KillReceiver * receiver, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  gint64 back;

  g_mutex_lock (&receiver->lock);
  while (receiver->back_us == 0 &&
      g_cond_wait_until (&receiver->cond, &receiver->lock, deadline));
  back = receiver->back_us;
  g_mutex_unlock (&receiver->lock);
  return back;
}

static void
kill_receiver_expect (KillReceiver * receiver, gint after)
{
  g_mutex_lock (&receiver->lock);
  receiver->after = after;
  receiver->back_us = 0;
  receiver->wrong = 0;
  g_mutex_unlock (&receiver->lock);
}

static void
kill_receiver_clear (KillReceiver * receiver)
{
  stop (receiver->pipeline);
  ds_signal_state_free (receiver->state);
  g_mutex_clear (&receiver->lock);
  g_cond_clear (&receiver->cond);
}

static void
kill_notify_connected (GObject * sink, GParamSpec * pspec, gpointer data)
{
  KillPublisher *publisher = data;
  gboolean connected;

  g_object_get (sink, "connected", &connected, NULL);
  g_mutex_lock (&publisher->lock);
  if (connected)
    publisher->connected_us = g_get_monotonic_time ();
  g_mutex_unlock (&publisher->lock);
}

GST_START_TEST (test_relay_killed_pipelines_recover)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  KillPublisher publisher = { 0, };
  KillReceiver receivers[2];
  gint64 restart_us, publisher_back_us, back_us[2];
  GstState current;
  GstPad *pad;
  guint i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/killed");
  stream = ds_test_relay_ws_uri (relay, "/stream/killed");

  g_mutex_init (&publisher.lock);
  publisher.pipeline = sender_new (peer, DEFAULT_RETRY_ARGS);
  pad = gst_element_get_static_pad (get (publisher.pipeline, "src"), "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      kill_publisher_event, &publisher, NULL);
  gst_object_unref (pad);
  g_signal_connect (get (publisher.pipeline, "sink"), "notify::connected",
      G_CALLBACK (kill_notify_connected), &publisher);
  set_state (publisher.pipeline, GST_STATE_PLAYING);
  for (i = 0; i < 2; i++)
    kill_receiver_init (&receivers[i], stream);
  fail_unless (wait_for_boolean (get (publisher.pipeline, "sink"),
          "connected", TRUE, WAIT_MS));
  publisher.running = 1;
  publisher.thread = g_thread_new ("publisher", kill_publisher_thread,
      &publisher);

  /* everything flows */
  for (i = 0; i < 2; i++)
    fail_unless (kill_receiver_wait_back (&receivers[i], WAIT_MS) != 0,
        "receiver %u never showed a picture", i);

  /* connections that lasted: a connection lost within 5 s of opening is
   * replaced only after the backoff (GST_DS_SOUP_STABLE_MS), and a relay
   * that was up for a while is what a crash takes away */
  g_usleep (5500 * 1000);

  /* kill -9, down for 1 s, back on the same port */
  fail_unless_equals_int (kill (ds_test_relay_get_pid (relay), SIGKILL), 0);
  fail_unless (ds_test_relay_wait_exit (relay, WAIT_MS));
  g_usleep (G_USEC_PER_SEC);
  fail_unless (wait_for_boolean (get (publisher.pipeline, "sink"),
          "connected", FALSE, 0));
  for (i = 0; i < 2; i++)
    kill_receiver_expect (&receivers[i], g_atomic_int_get (&publisher.pushed));
  restart_us = g_get_monotonic_time ();
  fail_unless (ds_test_relay_restart (relay));

  for (i = 0; i < 2; i++) {
    back_us[i] = kill_receiver_wait_back (&receivers[i], 3 * WAIT_MS);
    fail_unless (back_us[i] != 0, "receiver %u did not come back", i);
    g_mutex_lock (&receivers[i].lock);
    fail_unless_equals_int (receivers[i].wrong, 0);
    g_mutex_unlock (&receivers[i].lock);
  }
  fail_unless (wait_for_boolean (get (publisher.pipeline, "sink"),
          "connected", TRUE, WAIT_MS));
  g_mutex_lock (&publisher.lock);
  publisher_back_us = publisher.connected_us;
  g_mutex_unlock (&publisher.lock);
  fail_unless (publisher_back_us > restart_us);

  g_print ("relay killed for 1 s: back after the restart in %.2f s "
      "(publisher), %.2f s and %.2f s (receivers, correct picture and "
      "state)\n", (publisher_back_us - restart_us) / 1e6,
      (back_us[0] - restart_us) / 1e6, (back_us[1] - restart_us) / 1e6);

  g_atomic_int_set (&publisher.running, 0);
  g_thread_join (publisher.thread);

  /* nothing gave up: all still playing, no error */
  gst_element_get_state (publisher.pipeline, &current, NULL, 0);
  fail_unless_equals_int (current, GST_STATE_PLAYING);
  assert_no_error (publisher.pipeline);
  for (i = 0; i < 2; i++) {
    gst_element_get_state (receivers[i].pipeline, &current, NULL, 0);
    fail_unless_equals_int (current, GST_STATE_PLAYING);
    assert_no_error (receivers[i].pipeline);
    kill_receiver_clear (&receivers[i]);
  }
  stop (publisher.pipeline);
  g_mutex_clear (&publisher.lock);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* dsrelaysink is a GstBaseSink: a non-live stream prerolls in PAUSED,
 * last-sample holds the last frame, and stats carry the base sink's
 * figures beside the connection's */
GST_START_TEST (test_base_sink)
{
  DsTestRelay *relay;
  gchar *peer, *desc;
  GstElement *tx;
  GstStructure *stats = NULL;
  GstSample *sample = NULL;
  GstMessage *msg;
  GstStateChangeReturn ret;
  GstState state;
  guint64 rendered = 0, sent = 0;
  gboolean sync = TRUE;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/base");
  desc = g_strdup_printf ("videotestsrc num-buffers=5 ! "
      "video/x-raw,format=RGBA,width=16,height=16,framerate=30/1 ! dspay ! "
      "dsrelaysink name=sink location=%s " RETRY_ARGS, peer);
  tx = launch (desc);
  g_free (desc);

  /* sync is off by default: frames are queued as they come */
  g_object_get (get (tx, "sink"), "sync", &sync, NULL);
  fail_if (sync);

  /* preroll: PAUSED completes once the first frame is there */
  ret = gst_element_set_state (tx, GST_STATE_PAUSED);
  fail_unless (ret == GST_STATE_CHANGE_ASYNC, "state change %d", ret);
  ret = gst_element_get_state (tx, &state, NULL, WAIT_MS * GST_MSECOND);
  fail_unless_equals_int (ret, GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (state, GST_STATE_PAUSED);

  set_state (tx, GST_STATE_PLAYING);
  msg = wait_for_message (tx, GST_MESSAGE_EOS, NULL, WAIT_MS);
  fail_unless (msg != NULL, "no EOS");
  gst_message_unref (msg);

  g_object_get (get (tx, "sink"), "last-sample", &sample, "stats", &stats,
      NULL);
  fail_unless (sample != NULL);
  fail_unless (gst_sample_get_buffer (sample) != NULL);
  gst_sample_unref (sample);
  fail_unless (stats != NULL);
  fail_unless (gst_structure_get_uint64 (stats, "rendered", &rendered));
  fail_unless (gst_structure_get_uint64 (stats, "frames-sent", &sent));
  fail_unless (gst_structure_has_field (stats, "average-rate"));
  /* five pictures and dspay's End (not passed on: one End of its own) */
  fail_unless_equals_uint64 (rendered, 6);
  fail_unless (sent >= 6, "%" G_GUINT64_FORMAT " frames sent", sent);
  gst_structure_free (stats);

  set_state (tx, GST_STATE_NULL);
  gst_object_unref (tx);
  g_free (peer);
  ds_test_relay_free (relay);
}

GST_END_TEST;

static Suite *
dsrelaysink_suite (void)
{
  Suite *s = suite_create ("dsrelaysink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  /* nearly every test runs a relay: without one the binary SKIPs */
  if (!ds_test_relay_available ())
    return s;
  tcase_add_test (tc, test_frames_byte_exact);
  tcase_add_test (tc, test_input_upstream);
  tcase_add_test (tc, test_relay_restart);
  tcase_add_test (tc, test_relay_killed_pipelines_recover);
  tcase_add_test (tc, test_relay_down_at_start);
  tcase_add_test (tc, test_pay_delta_depay_90_frames);
  tcase_add_test (tc, test_video_audio_signals_one_channel);
  tcase_add_test (tc, test_keyframe_request_to_dsdelta);
  tcase_add_test (tc, test_receiver_report_message);
  tcase_add_test (tc, test_signal_sync_on_keyframe_request);
  tcase_add_test (tc, test_unreachable_error);
  tcase_add_test (tc, test_eos_while_disconnected);
  tcase_add_test (tc, test_bad_url_error);
  tcase_add_loop_test (tc, test_wrong_role_location, 0,
      G_N_ELEMENTS (wrong_role_cases));
  tcase_add_test (tc, test_takeover_stops);
  tcase_add_loop_test (tc, test_http_status, 0,
      G_N_ELEMENTS (http_status_cases));
  tcase_add_test (tc, test_closed_at_once);
  tcase_add_test (tc, test_unresolvable_host);
  tcase_add_test (tc, test_receiver_path_behind_proxy);
  tcase_add_test (tc, test_wrong_token_error);
  tcase_add_test (tc, test_locations_failover);
  tcase_add_test (tc, test_locations_errors);
  tcase_add_test (tc, test_null_while_stalled);
  tcase_add_test (tc, test_null_while_relay_stopped);
  tcase_add_test (tc, test_start_stop_no_leak);
  tcase_add_test (tc, test_slow_uplink_bounded);
  tcase_add_test (tc, test_end_resent_after_reconnect);
  tcase_add_test (tc, test_slow_uplink_stays_connected);
  tcase_add_test (tc, test_base_sink);

  return s;
}

DS_TEST_RELAY_CHECK_MAIN (dsrelaysink);
