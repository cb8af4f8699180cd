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

/* dsstreamsrc against the real ds-relay (started by the test on a free
 * loopback port): signal selection, late joiners, timestamps and latency,
 * End handling, schema messages, navigation back to the source through
 * dsdepay, wss:// with a self-signed certificate, clear errors, and a
 * prompt, leak-free NULL. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <signal.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "../ds-test-net.h"

/* Helpers */

/* Pulls frames until signal @name of @state is @value (the source's last
 * frame made it so), within WAIT_MS, applying signal frames to @state;
 * fails if one holds @forbidden */
static void
collect_signals (GstElement * rx, DsSignalState * state, const gchar * name,
    gint64 value, const gchar * forbidden)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  GstBuffer *buffer;

  while (state_get (state, name) != value && g_get_monotonic_time () < deadline) {
    buffer = pull (rx, 50);
    if (buffer) {
      GstMapInfo map;

      fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
      fail_if (forbidden && g_strstr_len ((const gchar *) map.data, map.size,
              forbidden), "a frame holds %s", forbidden);
      gst_buffer_unmap (buffer, &map);
      apply_signal (state, buffer);
      gst_buffer_unref (buffer);
    }
  }
}

/* Tests */

GST_START_TEST (test_select_filters)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx_all, *rx_count;
  DsSignalState *all = ds_signal_state_new ();
  DsSignalState *count = ds_signal_state_new ();

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/select");
  stream = ds_test_relay_ws_uri (relay, "/stream/select");

  rx_all = receiver_new (stream, NULL);
  rx_count = receiver_new (stream, "select=<count>");
  set_state (rx_all, GST_STATE_PLAYING);
  set_state (rx_count, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx_all, "src"), "connected", TRUE,
          WAIT_MS));
  fail_unless (wait_for_boolean (get (rx_count, "src"), "connected", TRUE,
          WAIT_MS));
  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0,
          "{\"count\":1,\"doubled\":2,\"other\":3}"));
  push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, 1, 10, "{\"doubled\":4}"));
  push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, 2, 20, "{\"count\":5}"));
  collect_signals (rx_all, all, "count", 5, NULL);
  collect_signals (rx_count, count, "count", 5, "doubled");

  fail_unless_equals_int (state_get (all, "count"), 5);
  fail_unless_equals_int (state_get (all, "doubled"), 4);
  fail_unless_equals_int (state_get (all, "other"), 3);
  fail_unless_equals_int (state_get (count, "count"), 5);
  fail_unless_equals_int (state_get (count, "doubled"), -1);
  fail_unless_equals_int (state_get (count, "other"), -1);

  /* the filter is sent again after a reconnect */
  fail_unless_equals_int (ds_test_relay_stop (relay), 0);
  fail_unless (wait_for_boolean (get (rx_count, "src"), "connected", FALSE,
          WAIT_MS));
  fail_unless (ds_test_relay_restart (relay));
  fail_unless (wait_for_boolean (get (rx_count, "src"), "connected", TRUE,
          WAIT_MS));
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  ds_signal_state_clear (count);
  push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, 3, 30,
          "{\"count\":7,\"doubled\":14}"));
  collect_signals (rx_count, count, "count", 7, "doubled");
  fail_unless_equals_int (state_get (count, "count"), 7);
  fail_unless_equals_int (state_get (count, "doubled"), -1);
  fail_unless_equals_int (state_get (count, "other"), -1);

  /* a joiner with a selection never sees the other signals, not even in
   * the catch-up the relay sends before the filter reaches it */
  {
    GstElement *rx_late = receiver_new (stream, "select=<count>");
    DsSignalState *late = ds_signal_state_new ();

    set_state (rx_late, GST_STATE_PLAYING);
    collect_signals (rx_late, late, "count", 7, "doubled");
    fail_unless_equals_int (state_get (late, "count"), 7);
    stop (rx_late);
    ds_signal_state_free (late);
  }

  assert_no_error (rx_count);
  stop (tx);
  stop (rx_all);
  stop (rx_count);
  ds_signal_state_free (all);
  ds_signal_state_free (count);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Draws the pictures of a received frame sequence: returns TRUE once a
 * picture can be shown */
static gboolean
draw (guint8 * picture, gsize size, gboolean have_picture, GstBuffer * buffer)
{
  DsHeader header;
  GstMapInfo map;
  gboolean ok = have_picture;

  fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  if (header.type == DS_FRAME_PIXELS) {
    fail_unless_equals_int (header.payload_len, size);
    memcpy (picture, map.data + DS_HEADER_SIZE, size);
    ok = TRUE;
  } else if (header.type == DS_FRAME_DELTA_PIXELS) {
    gboolean key = (header.flags & DS_FLAG_KEYFRAME) != 0;

    fail_unless (key || have_picture, "a delta before any picture");
    fail_unless (ds_rle_decode_xor (map.data + DS_HEADER_SIZE,
            header.payload_len, key ? NULL : picture, picture, size, NULL));
    ok = TRUE;
  }
  gst_buffer_unmap (buffer, &map);
  return ok;
}

GST_START_TEST (test_late_joiner)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx;
  gsize size = 32 * 16 * 4;
  guint8 *prev = g_malloc0 (size);
  guint8 *picture = g_malloc0 (size);
  DsSignalState *state = ds_signal_state_new ();
  gboolean have_picture = FALSE, have_schema = FALSE;
  const gchar *schema = "{\"signals\":[\"count\",\"doubled\"],"
      "\"mode\":\"signal\"}";
  const GValue *signals;
  GstMessage *msg;
  GstBuffer *buffer;
  gint64 joined, deadline;
  guint i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/joiner");
  stream = ds_test_relay_ws_uri (relay, "/stream/joiner");

  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  push (tx, make_frame (DS_FRAME_SCHEMA_ANNOUNCE, 0, 0, 0, 0, 0, schema,
          strlen (schema)));
  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"count\":0}"));
  for (i = 0; i < 20; i++) {
    gchar *json = g_strdup_printf ("{\"count\":%u,\"doubled\":%u}", i, 2 * i);

    /* a keyframe only at the start: the joiner needs the deltas too */
    push (tx, make_picture_frame (i, 32, 16, prev, 1000));
    push (tx, make_signal (DS_FRAME_SIGNAL_DIFF, i + 1, i * 33, json));
    g_free (json);
  }
  /* the relay has them all */
  fail_unless_equals_int (ds_test_relay_wait_metric (relay,
          "ds_relay_frames_in_total", 2 + 2 * 20, WAIT_MS), 2 + 2 * 20);

  rx = receiver_new (stream, NULL);
  joined = g_get_monotonic_time ();
  set_state (rx, GST_STATE_PLAYING);

  /* the schema comes as a bus message */
  msg = wait_for_message (rx, GST_MESSAGE_ELEMENT, "ds-schema", WAIT_MS);
  fail_unless (msg != NULL, "no ds-schema message");
  signals = gst_structure_get_value (gst_message_get_structure (msg),
      "signals");
  fail_unless (signals != NULL && G_VALUE_HOLDS (signals, G_TYPE_STRV));
  fail_unless_equals_int (g_strv_length (g_value_get_boxed (signals)), 2);
  fail_unless_equals_string (((gchar **) g_value_get_boxed (signals))[1],
      "doubled");
  gst_message_unref (msg);

  /* the picture and the signal state at once, no waiting for the
   * source's next keyframe (it sends none) */
  deadline = joined + 3 * G_USEC_PER_SEC;
  while ((!have_picture || memcmp (picture, prev, size) != 0 ||
          state_get (state, "count") != 19) &&
      g_get_monotonic_time () < deadline) {
    buffer = pull (rx, 100);
    if (buffer == NULL)
      continue;
    {
      DsHeader header;

      fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
      have_schema |= header.type == DS_FRAME_SCHEMA_ANNOUNCE;
    }
    if (!apply_signal (state, buffer))
      have_picture = draw (picture, size, have_picture, buffer);
    gst_buffer_unref (buffer);
  }
  GST_INFO ("the joiner had the picture after %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - joined) / 1000);
  fail_unless (have_schema, "the schema frame was not output");
  fail_unless (have_picture, "no picture for the late joiner");
  fail_unless (memcmp (picture, prev, size) == 0,
      "the joiner's picture is not the source's latest");
  fail_unless_equals_int (state_get (state, "count"), 19);
  fail_unless_equals_int (state_get (state, "doubled"), 38);

  stop (tx);
  stop (rx);
  ds_signal_state_free (state);
  g_free (prev);
  g_free (picture);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* An H.264 access unit (made up: dsdepay does not parse it) whose bytes
 * say its number */
static GstBuffer *
make_unit_frame (guint n, guint8 * unit, gsize unit_len)
{
  guint8 payload[2 + 64];
  gsize i;

  g_assert (unit_len <= 64);
  payload[0] = DS_CODEC_H264;
  payload[1] = 0;
  unit[0] = unit[1] = unit[2] = 0;
  unit[3] = 1;
  unit[4] = n % 10 == 0 ? 0x65 : 0x41;
  for (i = 5; i < unit_len; i++)
    unit[i] = (guint8) (n * 7 + i);
  memcpy (payload + 2, unit, unit_len);
  return make_frame (DS_FRAME_ENCODED_VIDEO, n % 10 == 0 ? DS_FLAG_KEYFRAME :
      0, n, n * 33, 320, 240, payload, 2 + unit_len);
}

/* A late joiner of an encoded channel (issue 14 item 4): dsdepay outputs
 * the cached keyframe unit, every cached unit and then the live ones, in
 * order, byte for byte, with valid PTS that never go back, the keyframe
 * without DELTA_UNIT and the others with it: a decoder decodes them all */
GST_START_TEST (test_encoded_late_joiner)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx;
  guint8 units[25][64];
  GstClockTime last_pts = GST_CLOCK_TIME_NONE;
  GstBuffer *buffer;
  GstCaps *caps;
  guint i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/gop");
  stream = ds_test_relay_ws_uri (relay, "/stream/gop");

  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  /* a GOP and a half: the cache holds units 10-17 */
  for (i = 0; i < 18; i++)
    push (tx, make_unit_frame (i, units[i], 20 + i));
  fail_unless_equals_int (ds_test_relay_wait_metric (relay,
          "ds_relay_frames_in_total", 18, WAIT_MS), 18);

  rx = receiver_new (stream, "! dsdepay");
  set_state (rx, GST_STATE_PLAYING);
  for (i = 10; i < 25; i++) {
    GstMapInfo map;

    if (i == 18) {
      /* live units after the catch-up */
      guint j;

      for (j = 18; j < 25; j++)
        push (tx, make_unit_frame (j, units[j], 20 + j));
    }
    buffer = pull (rx, WAIT_MS);
    fail_unless (buffer != NULL, "no unit %u", i);
    fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
    fail_unless_equals_int (map.size, 20 + i);
    fail_unless (memcmp (map.data, units[i], map.size) == 0,
        "unit %u is not the one sent there", i);
    gst_buffer_unmap (buffer, &map);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (buffer,
            GST_BUFFER_FLAG_DELTA_UNIT), i != 10 && i != 20);
    fail_unless (GST_BUFFER_PTS_IS_VALID (buffer), "unit %u has no PTS", i);
    fail_unless (!GST_CLOCK_TIME_IS_VALID (last_pts) ||
        GST_BUFFER_PTS (buffer) >= last_pts, "unit %u goes back in time", i);
    last_pts = GST_BUFFER_PTS (buffer);
    gst_buffer_unref (buffer);
  }
  fail_unless (pull (rx, 200) == NULL, "more than the units sent");
  {
    GstPad *pad = gst_element_get_static_pad (get (rx, "sink"), "sink");

    caps = gst_pad_get_current_caps (pad);
    gst_object_unref (pad);
  }
  fail_unless (caps != NULL);
  fail_unless_equals_string (gst_structure_get_name (gst_caps_get_structure
          (caps, 0)), "video/x-h264");
  gst_caps_unref (caps);
  /* served from the cache: the source was not asked for a keyframe */
  fail_unless_equals_int (ds_test_relay_metric (relay,
          "ds_relay_keyframe_requests_total{result=\"forwarded\"}"), 0);

  stop (tx);
  stop (rx);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_timestamps_and_latency)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx;
  GstQuery *query;
  gboolean live = FALSE;
  GstClockTime min = 0, max = 0, pts[6];
  guint8 audio[2 * 4 * 48] = { 0, };
  guint8 rgba[4 * 4 * 4] = { 0, };
  GstBuffer *buffer;
  guint i;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/time");
  stream = ds_test_relay_ws_uri (relay, "/stream/time");

  rx = receiver_new (stream, "latency=300");
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  query = gst_query_new_latency ();
  fail_unless (gst_element_query (get (rx, "src"), query));
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 300 * GST_MSECOND);
  gst_query_unref (query);

  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  /* a picture and a sound buffer taken at the same time, every 100 ms */
  for (i = 0; i < 6; i++) {
    GstClock *clock = gst_element_get_clock (rx);
    GstClockTime now;

    if (i % 2 == 0) {
      if (i > 0)
        g_usleep (100 * 1000);
      push (tx, make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, i,
              1000 + i * 50, 4, 4, rgba, sizeof (rgba)));
      push (tx, make_frame (DS_FRAME_AUDIO_PCM, 0, i, 1000 + i * 50, 2,
              48000, audio, sizeof (audio)));
    }
    buffer = pull (rx, WAIT_MS);
    fail_unless (buffer != NULL);
    pts[i] = GST_BUFFER_PTS (buffer);
    fail_unless (GST_CLOCK_TIME_IS_VALID (pts[i]));
    /* about latency ahead of the running time it arrived at */
    now = gst_clock_get_time (clock) - gst_element_get_base_time (rx);
    gst_object_unref (clock);
    GST_INFO ("frame %u: pts %" GST_TIME_FORMAT ", running time %"
        GST_TIME_FORMAT, i, GST_TIME_ARGS (pts[i]), GST_TIME_ARGS (now));
    /* arrival + latency, less the network delay (within the latency) */
    fail_unless (pts[i] > now, "pts in the past");
    fail_unless (pts[i] <= now + 300 * GST_MSECOND);
    gst_buffer_unref (buffer);
  }
  for (i = 0; i < 3; i++) {
    /* audio and video of the same instant: the same running time */
    fail_unless_equals_uint64 (pts[2 * i], pts[2 * i + 1]);
    if (i > 0) {
      GstClockTimeDiff step = GST_CLOCK_DIFF (pts[2 * i - 2], pts[2 * i]);

      /* the frame-time step, less what a frame with less network delay
       * than the ones before moved the mapping: never more, never back */
      fail_unless (step > 0 && step <= 100 * GST_MSECOND,
          "step %" GST_STIME_FORMAT, GST_STIME_ARGS (step));
    }
  }

  stop (tx);
  stop (rx);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_end_without_eos)
{
  DsTestRelay *relay;
  gchar *peer, *stream;
  GstElement *tx, *rx;
  GstMessage *msg;
  GstBuffer *buffer;
  DsHeader header;
  guint8 types[] = { DS_FRAME_SIGNAL_SYNC, DS_FRAME_END, 0 };

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/end");
  stream = ds_test_relay_ws_uri (relay, "/stream/end");

  rx = receiver_new (stream, "eos-on-end=false");
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  /* a first stream that ends */
  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"run\":1}"));
  gst_app_src_end_of_stream (GST_APP_SRC (get (tx, "src")));
  msg = wait_for_message (tx, GST_MESSAGE_EOS, NULL, WAIT_MS);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  stop (tx);

  buffer = pull_type (rx, types, WAIT_MS, &header);
  fail_unless (buffer != NULL);
  fail_unless_equals_int (header.type, DS_FRAME_SIGNAL_SYNC);
  gst_buffer_unref (buffer);
  msg = wait_for_message (rx, GST_MESSAGE_ELEMENT, "ds-end", WAIT_MS);
  fail_unless (msg != NULL, "no ds-end message");
  gst_message_unref (msg);

  /* the next stream comes through, no EOS in between */
  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"run\":2}"));
  buffer = pull_type (rx, types, WAIT_MS, &header);
  fail_unless (buffer != NULL, "the second stream did not arrive");
  fail_unless_equals_int (header.type, DS_FRAME_SIGNAL_SYNC);
  gst_buffer_unref (buffer);
  fail_if (gst_app_sink_is_eos (GST_APP_SINK (get (rx, "sink"))));
  assert_no_error (rx);

  stop (tx);
  stop (rx);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_navigation_through_dsdepay)
{
  DsTestRelay *relay;
  gchar *peer, *stream, *desc;
  GstElement *tx, *rx;
  GstSample *sample;
  GstEvent *event;
  GstMessage *msg;
  EventLog log;
  gdouble x = 0, y = 0;
  guint ux = 0, uy = 0;

  relay = start_relay (NULL);
  peer = ds_test_relay_ws_uri (relay, "/peer/nav");
  stream = ds_test_relay_ws_uri (relay, "/stream/nav");

  desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,format=RGBA,width=320,height=240,framerate=30/1 ! "
      "dspay name=pay ! dsdelta ! dsrelaysink name=sink location=%s "
      RETRY_ARGS, peer);
  tx = launch (desc);
  g_free (desc);
  event_log_attach (&log, tx, "pay");
  set_state (tx, GST_STATE_PLAYING);

  desc = g_strdup_printf ("dsstreamsrc name=src location=%s " RETRY_ARGS
      " ! dsdepay ! queue ! appsink name=sink sync=false", stream);
  rx = launch (desc);
  g_free (desc);
  set_state (rx, GST_STATE_PLAYING);

  /* a picture is shown, then the user moves the pointer over it */
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (get (rx, "sink")),
      WAIT_MS * GST_MSECOND);
  fail_unless (sample != NULL);
  gst_sample_unref (sample);
  fail_unless (gst_element_send_event (get (rx, "sink"),
          gst_navigation_event_new_mouse_move (123.0, 45.0, 0)));

  event = event_log_wait (&log, is_navigation, WAIT_MS);
  fail_unless (event != NULL, "no navigation event upstream of dsrelaysink");
  fail_unless_equals_int (gst_navigation_event_get_type (event),
      GST_NAVIGATION_EVENT_MOUSE_MOVE);
  fail_unless (gst_navigation_event_parse_mouse_move_event (event, &x, &y));
  fail_unless_equals_float (x, 123.0);
  fail_unless_equals_float (y, 45.0);
  gst_event_unref (event);

  msg = wait_for_message (tx, GST_MESSAGE_ELEMENT, "ds-input", WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless (gst_structure_get_uint (gst_message_get_structure (msg), "x",
          &ux));
  fail_unless (gst_structure_get_uint (gst_message_get_structure (msg), "y",
          &uy));
  fail_unless_equals_int (ux, 123);
  fail_unless_equals_int (uy, 45);
  gst_message_unref (msg);

  stop (rx);
  stop (tx);
  event_log_clear (&log);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Runs ds-relay with TLS; returns its process and the wss:// base URL */
static GSubprocess *
start_tls_relay (const gchar * dir, gchar ** cert_out, gchar ** base_uri)
{
  gchar *cert = g_build_filename (dir, "cert.pem", NULL);
  gchar *key = g_build_filename (dir, "key.pem", NULL);
  gchar *cmd, *line;
  gint status = -1;
  const gchar *argv[8];
  GSubprocess *process;

  cmd = g_strdup_printf ("openssl req -x509 -newkey ec "
      "-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
      "-keyout %s -out %s", key, cert);
  fail_unless (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL) &&
      status == 0, "openssl failed");
  g_free (cmd);

  argv[0] = g_getenv ("DS_RELAY");
  argv[1] = "--port";
  argv[2] = "0";
  argv[3] = "--tls-cert";
  argv[4] = cert;
  argv[5] = "--tls-key";
  argv[6] = key;
  argv[7] = NULL;
  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
  fail_unless (process != NULL);
  line = ds_test_relay_read_line (g_subprocess_get_stdout_pipe (process),
      WAIT_MS);
  fail_unless (line != NULL);
  fail_unless (g_str_has_prefix (line, "ds-relay: listening on https://"),
      "%s", line);
  *base_uri = g_strdup_printf ("wss://127.0.0.1:%s", strrchr (line, ':') + 1);
  (*base_uri)[strlen (*base_uri) - 1] = '\0';
  g_free (line);
  g_free (key);
  *cert_out = cert;
  return process;
}

GST_START_TEST (test_wss_self_signed)
{
  gchar *dir, *cert, *base, *peer, *stream, *extra;
  GSubprocess *relay;
  GstElement *tx, *rx, *rx_strict;
  GstBuffer *buffer;
  GError *error;
  gchar *debug = NULL;
  guint8 types[] = { DS_FRAME_SIGNAL_SYNC, 0 };
  DsHeader header;

  dir = g_dir_make_tmp ("dsstreamsrc-tls-XXXXXX", NULL);
  relay = start_tls_relay (dir, &cert, &base);
  peer = g_strconcat (base, "/peer/tls", NULL);
  stream = g_strconcat (base, "/stream/tls", NULL);
  extra = g_strdup_printf ("ssl-ca-file=%s", cert);

  /* with the certificate as CA: works both ways */
  rx = receiver_new (stream, extra);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));
  tx = sender_new (peer, extra);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  push (tx, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"tls\":1}"));
  buffer = pull_type (rx, types, WAIT_MS, &header);
  fail_unless (buffer != NULL, "nothing over wss://");
  gst_buffer_unref (buffer);
  assert_no_error (rx);
  assert_no_error (tx);

  /* without it: refused, with an error that says so */
  rx_strict = receiver_new (stream, "retries=0");
  gst_element_set_state (rx_strict, GST_STATE_PLAYING);
  error = wait_for_error (rx_strict, WAIT_MS, &debug);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ), "%s", error->message);
  fail_unless (strstr (error->message, "certificate") != NULL, "%s",
      error->message);
  g_error_free (error);
  g_free (debug);
  stop (rx_strict);

  /* the same for a source */
  {
    GstElement *tx_strict = sender_new (peer, "retries=0");

    gst_element_set_state (tx_strict, GST_STATE_PLAYING);
    error = wait_for_error (tx_strict, WAIT_MS, NULL);
    fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_OPEN_WRITE), "%s", error->message);
    fail_unless (strstr (error->message, "certificate") != NULL, "%s",
        error->message);
    g_error_free (error);
    stop (tx_strict);
  }

  /* ssl-strict=false accepts it anyway */
  rx_strict = receiver_new (stream, "retries=0 ssl-strict=false");
  set_state (rx_strict, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx_strict, "src"), "connected", TRUE,
          WAIT_MS));
  stop (rx_strict);

  stop (tx);
  stop (rx);
  g_subprocess_send_signal (relay, SIGTERM);
  g_subprocess_wait (relay, NULL, NULL);
  g_object_unref (relay);
  g_unlink (cert);
  {
    gchar *key = g_build_filename (dir, "key.pem", NULL);

    g_unlink (key);
    g_free (key);
  }
  g_rmdir (dir);
  g_free (dir);
  g_free (cert);
  g_free (base);
  g_free (peer);
  g_free (stream);
  g_free (extra);
}

GST_END_TEST;

/* No relay at the location: when the retries run out, the connection
 * error is the only error on the bus (no generic streaming error from the
 * base class, no "nothing found" from dsdepay after an EOS), and no EOS
 * follows it */
GST_START_TEST (test_connection_failure_one_error)
{
  gchar *description;
  GstElement *pipeline;
  GstBus *bus;
  GstMessage *msg;
  GError *error;
  guint errors = 0, eos = 0;
  gint64 deadline = 0;

  description = g_strdup_printf ("dsstreamsrc name=src "
      "location=ws://127.0.0.1:%u/stream/x retries=2 ! dsdepay ! fakesink",
      closed_port ());
  pipeline = launch (description);
  g_free (description);
  bus = gst_element_get_bus (pipeline);
  set_state (pipeline, GST_STATE_PLAYING);

  /* everything posted until 1 s after the first error */
  while (TRUE) {
    GstClockTime wait = deadline == 0 ? 30 * GST_SECOND :
        (GstClockTime) MAX (deadline - g_get_monotonic_time (), 0) *
        GST_USECOND;

    msg = gst_bus_timed_pop_filtered (bus, wait,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (msg == NULL)
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      eos++;
    } else {
      gst_message_parse_error (msg, &error, NULL);
      GST_INFO ("error from %s: %s", GST_MESSAGE_SRC_NAME (msg),
          error->message);
      if (errors == 0) {
        fail_unless_equals_string (GST_MESSAGE_SRC_NAME (msg), "src");
        fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
                GST_RESOURCE_ERROR_OPEN_READ), "%s", error->message);
        fail_unless (strstr (error->message, "Could not connect") != NULL,
            "%s", error->message);
        deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
      }
      errors++;
      g_error_free (error);
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (errors, 1);
  fail_unless_equals_int (eos, 0);

  gst_object_unref (bus);
  stop (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_errors)
{
  DsTestRelay *relay;
  gchar *uri;
  GstElement *rx;
  GError *error;
  GstMessage *msg;

  relay = start_relay ("--subscribe-token", "secret", NULL);

  /* a wrong token: an error at the first 401 (retrying cannot help),
   * with no warning of a retry before it */
  uri = ds_test_relay_ws_uri (relay, "/stream/auth");
  rx = receiver_new (uri, "token=wrong");
  gst_element_set_state (rx, GST_STATE_PLAYING);
  msg = wait_for_error_or_warning (rx, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &error, NULL);
  gst_message_unref (msg);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", error->message);
  fail_unless (strstr (error->message, "401") != NULL, "%s", error->message);
  g_error_free (error);
  fail_unless_equals_int (ds_test_relay_wait_metric (relay,
          "ds_relay_rejected_total{reason=\"auth\"}", 1, WAIT_MS), 1);
  /* a bounded negative check: no second attempt within 6 retry delays */
  g_usleep (300 * 1000);
  stop (rx);
  fail_unless_equals_int (ds_test_relay_metric (relay,
          "ds_relay_rejected_total{reason=\"auth\"}"), 1);

  rx = receiver_new (uri, "token=secret retries=0");
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));
  stop (rx);
  g_free (uri);

  /* a channel name the relay refuses */
  uri = ds_test_relay_ws_uri (relay, "/stream/no%2Fslash");
  rx = receiver_new (uri, "token=secret");
  gst_element_set_state (rx, GST_STATE_PLAYING);
  error = wait_for_error (rx, WAIT_MS, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", error->message);
  g_error_free (error);
  stop (rx);
  g_free (uri);

  /* nobody there */
  uri = g_strdup_printf ("ws://127.0.0.1:%u/stream/x", closed_port ());
  rx = receiver_new (uri, "retries=0");
  gst_element_set_state (rx, GST_STATE_PLAYING);
  error = wait_for_error (rx, WAIT_MS, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ), "%s", error->message);
  g_error_free (error);
  stop (rx);
  g_free (uri);

  /* not a WebSocket URL: refused at start */
  rx = receiver_new ("file:///tmp/x", NULL);
  fail_unless_equals_int (gst_element_set_state (rx, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  error = wait_for_error (rx, WAIT_MS, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", error->message);
  g_error_free (error);
  stop (rx);

  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Pops messages of @rx until its ds-connected message (NULL after
 * @timeout_ms); fails on an error; the warnings of failed attempts are
 * appended to @warnings when not NULL */
static GstMessage *
wait_connected (GstElement * rx, GString * warnings, guint timeout_ms)
{
  GstBus *bus = gst_element_get_bus (rx);
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  GstMessage *msg = NULL;

  while (g_get_monotonic_time () < deadline) {
    msg = gst_bus_timed_pop (bus, MAX (deadline - g_get_monotonic_time (),
            0) * GST_USECOND);
    if (msg == NULL)
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_message_has_name (msg, "ds-connected"))
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING && warnings) {
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      g_string_append_printf (warnings, "%s\n", err->message);
      g_error_free (err);
    }
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "unexpected error");
    gst_message_unref (msg);
    msg = NULL;
  }
  gst_object_unref (bus);
  return msg;
}

static void
assert_connected_to (GstElement * rx, const gchar * uri, GString * warnings)
{
  GstMessage *msg = wait_connected (rx, warnings, WAIT_MS);
  const gchar *location;

  fail_unless (msg != NULL, "not connected to %s", uri);
  location = gst_structure_get_string (gst_message_get_structure (msg),
      "location");
  fail_unless_equals_string (location, uri);
  gst_message_unref (msg);
}

/* location and locations: setting one sets the other */
GST_START_TEST (test_locations_property)
{
  GstElement *src = gst_element_factory_make ("dsstreamsrc", NULL);
  GValue list = G_VALUE_INIT;
  gchar *location;

  g_object_set (src, "location", "ws://127.0.0.1:1/stream/a", NULL);
  g_value_init (&list, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (src), "locations", &list);
  fail_unless_equals_int (gst_value_array_get_size (&list), 1);
  fail_unless_equals_string (g_value_get_string (gst_value_array_get_value
          (&list, 0)), "ws://127.0.0.1:1/stream/a");
  g_value_unset (&list);

  gst_util_set_object_arg (G_OBJECT (src), "locations",
      "<ws://127.0.0.1:2/stream/b, \"ws://127.0.0.1:3/stream/c,d\">");
  g_object_get (src, "location", &location, NULL);
  fail_unless_equals_string (location, "ws://127.0.0.1:2/stream/b");
  g_free (location);
  g_value_init (&list, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (src), "locations", &list);
  fail_unless_equals_int (gst_value_array_get_size (&list), 2);
  fail_unless_equals_string (g_value_get_string (gst_value_array_get_value
          (&list, 1)), "ws://127.0.0.1:3/stream/c,d");
  g_value_unset (&list);

  gst_object_unref (src);
}

GST_END_TEST;

/* Nobody at the first location: the second one, at once; then that relay
 * stops and a third (the first is still closed) takes over */
GST_START_TEST (test_locations_failover)
{
  DsTestRelay *b, *c;
  gchar *ua, *ub, *uc, *extra;
  GstElement *rx;
  GString *warnings = g_string_new (NULL);
  gint64 start;

  b = start_relay (NULL);
  c = start_relay (NULL);
  ua = g_strdup_printf ("ws://127.0.0.1:%u/stream/f", closed_port ());
  ub = ds_test_relay_ws_uri (b, "/stream/f");
  uc = ds_test_relay_ws_uri (c, "/stream/f");
  extra = g_strdup_printf ("locations=\"<%s, %s, %s>\" retry-delay=5000 "
      "max-retry-delay=5000", ua, ub, uc);
  rx = receiver_new (ua, extra);
  start = g_get_monotonic_time ();
  set_state (rx, GST_STATE_PLAYING);
  assert_connected_to (rx, ub, warnings);
  /* no backoff within a pass */
  fail_unless ((g_get_monotonic_time () - start) / 1000 < 4000);
  fail_unless (strstr (warnings->str, ua) != NULL, "%s", warnings->str);

  ds_test_relay_stop (b);
  g_string_truncate (warnings, 0);
  assert_connected_to (rx, uc, warnings);
  fail_unless (strstr (warnings->str, ub) != NULL, "%s", warnings->str);
  stop (rx);

  g_string_free (warnings, TRUE);
  g_free (extra);
  g_free (ua);
  g_free (ub);
  g_free (uc);
  ds_test_relay_free (b);
  ds_test_relay_free (c);
}

GST_END_TEST;

/* A relay that hangs up during the TLS handshake (at its handshake
 * limits, restarting) is a network failure: the next location, not a
 * "certificate not accepted" error */
GST_START_TEST (test_locations_tls_hangup)
{
  HangupListener *hangup = hangup_listener_start ();
  DsTestRelay *b = start_relay (NULL);
  gchar *ua, *ub, *extra;
  GString *warnings = g_string_new (NULL);
  GstElement *rx;

  ua = g_strdup_printf ("wss://127.0.0.1:%u/stream/f", hangup->port);
  ub = ds_test_relay_ws_uri (b, "/stream/f");
  extra = g_strdup_printf ("locations=\"<%s, %s>\"", ua, ub);
  rx = receiver_new (ua, extra);
  set_state (rx, GST_STATE_PLAYING);
  assert_connected_to (rx, ub, warnings);
  fail_unless (g_atomic_int_get (&hangup->accepted) >= 1);
  fail_unless (strstr (warnings->str, "TLS handshake") != NULL, "%s",
      warnings->str);
  fail_if (strstr (warnings->str, "certificate") != NULL, "%s", warnings->str);
  stop (rx);

  g_string_free (warnings, TRUE);
  g_free (extra);
  g_free (ua);
  g_free (ub);
  ds_test_relay_free (b);
  hangup_listener_free (hangup);
}

GST_END_TEST;

/* A full relay answers 503: the next location */
GST_START_TEST (test_locations_503)
{
  DsTestRelay *a, *b;
  gchar *ua, *ub, *extra;
  GstElement *rx0, *rx;

  a = start_relay ("--max-clients", "1", NULL);
  b = start_relay (NULL);
  ua = ds_test_relay_ws_uri (a, "/stream/f");
  ub = ds_test_relay_ws_uri (b, "/stream/f");
  rx0 = receiver_new (ua, NULL);
  set_state (rx0, GST_STATE_PLAYING);
  assert_connected_to (rx0, ua, NULL);

  extra = g_strdup_printf ("locations=\"<%s, %s>\"", ua, ub);
  rx = receiver_new (ua, extra);
  set_state (rx, GST_STATE_PLAYING);
  assert_connected_to (rx, ub, NULL);
  fail_unless (ds_test_relay_metric (a,
          "ds_relay_rejected_total{reason=\"limit\"}") >= 1);
  stop (rx);
  stop (rx0);

  g_free (extra);
  g_free (ua);
  g_free (ub);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
}

GST_END_TEST;

/* A 401 at the first location is an error: the second is not tried */
GST_START_TEST (test_locations_4xx_no_failover)
{
  DsTestRelay *a, *b;
  gchar *ua, *ub, *extra;
  GstElement *rx;
  GError *error;

  a = start_relay ("--subscribe-token", "secret", NULL);
  b = start_relay (NULL);
  ua = ds_test_relay_ws_uri (a, "/stream/f");
  ub = ds_test_relay_ws_uri (b, "/stream/f");
  extra = g_strdup_printf ("locations=\"<%s, %s>\"", ua, ub);
  rx = receiver_new (ua, extra);
  gst_element_set_state (rx, GST_STATE_PLAYING);
  error = wait_for_error (rx, WAIT_MS, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", error->message);
  g_error_free (error);
  /* a bounded negative check */
  g_usleep (300 * 1000);
  fail_if (wait_for_boolean (get (rx, "src"), "connected", TRUE, 10));
  stop (rx);

  g_free (extra);
  g_free (ua);
  g_free (ub);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
}

GST_END_TEST;

/* One bad URL in the list, or an empty list: an error at start */
GST_START_TEST (test_locations_bad)
{
  const gchar *lists[] = {
    "locations=\"<ws://127.0.0.1:1/stream/x, file:///tmp/x>\"",
    "locations=\"<ws://127.0.0.1:1/stream/x, ws://127.0.0.1:1/peer/x>\"",
    "locations=\"<>\"",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (lists); i++) {
    GstElement *rx = receiver_new ("ws://127.0.0.1:1/stream/x", lists[i]);
    GError *error;

    fail_unless_equals_int (gst_element_set_state (rx, GST_STATE_PLAYING),
        GST_STATE_CHANGE_FAILURE);
    error = wait_for_error (rx, WAIT_MS, NULL);
    fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS), "%s: %s", lists[i], error->message);
    g_error_free (error);
    stop (rx);
  }
}

GST_END_TEST;

/* A location of another role of the relay fails at start, with an error
 * naming the receiver URL: a publishing URL would make dsstreamsrc the
 * channel's source and throw the real one out */
static const struct
{
  const gchar *path;
  const gchar *what;
} wrong_role_cases[] = {
  {"/peer/x", "is a publishing URL"},
  {"/signal/x", "is a signaling URL"},
  {"/view/x", "is the web viewer's page"},
};

GST_START_TEST (test_wrong_role_location)
{
  DsTestRelay *relay;
  gchar *uri, *right, *peer;
  GstElement *rx, *tx;
  GError *error;
  guint8 *prev = g_malloc0 (32 * 16 * 4);

  relay = start_relay (NULL);
  uri = ds_test_relay_ws_uri (relay, wrong_role_cases[__i__].path);
  right = ds_test_relay_ws_uri (relay, "/stream/x");
  peer = ds_test_relay_ws_uri (relay, "/peer/x");

  /* the channel has a source */
  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));
  push (tx, make_picture_frame (0, 32, 16, prev, 30));

  rx = receiver_new (uri, NULL);
  fail_unless_equals_int (gst_element_set_state (rx, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  error = wait_for_error (rx, 1000, NULL);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", error->message);
  fail_unless (g_str_has_prefix (error->message, uri), "%s", error->message);
  fail_unless (strstr (error->message, wrong_role_cases[__i__].what) != NULL,
      "%s", error->message);
  fail_unless (strstr (error->message, right) != NULL, "%s does not name %s",
      error->message, right);
  g_error_free (error);
  stop (rx);

  /* the source was not disturbed */
  fail_unless_equals_int (ds_test_relay_metric (relay,
          "ds_relay_takeovers_total"), 0);
  fail_unless_equals_int (ds_test_relay_metric (relay,
          "ds_relay_connections_total{role=\"source\"}"), 1);
  assert_no_error (tx);
  stop (tx);

  g_free (prev);
  g_free (peer);
  g_free (right);
  g_free (uri);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* A WebSocket server on every path that greets each client as ds-relay
 * greets a channel's source: with a ReceiverCount */
typedef struct
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  GPtrArray *clients;
  GMutex lock;
  GCond cond;
  guint port;
  guint connections;
} SourceGreeter;

static void
source_greeter_websocket (SoupServer * server, SoupServerMessage * msg,
    const char *path, SoupWebsocketConnection * ws, gpointer user_data)
{
  SourceGreeter *greeter = user_data;
  DsInputEvent event = { 0, };
  GBytes *frame;

  g_mutex_lock (&greeter->lock);
  greeter->connections++;
  g_mutex_unlock (&greeter->lock);
  g_ptr_array_add (greeter->clients, g_object_ref (ws));
  event.type = DS_INPUT_RECEIVER_COUNT;
  frame = ds_input_event_to_frame (&event, 0, 0);
  soup_websocket_connection_send_message (ws, SOUP_WEBSOCKET_DATA_BINARY,
      frame);
  g_bytes_unref (frame);
}

static gpointer
source_greeter_thread (gpointer user_data)
{
  SourceGreeter *greeter = user_data;
  GSList *uris;

  g_main_context_push_thread_default (greeter->context);
  greeter->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (greeter->server, NULL, NULL, NULL,
      source_greeter_websocket, greeter, NULL);
  fail_unless (soup_server_listen_local (greeter->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  uris = soup_server_get_uris (greeter->server);
  g_mutex_lock (&greeter->lock);
  greeter->port = g_uri_get_port (uris->data);
  g_cond_broadcast (&greeter->cond);
  g_mutex_unlock (&greeter->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (greeter->loop);

  g_ptr_array_set_size (greeter->clients, 0);
  soup_server_disconnect (greeter->server);
  g_clear_object (&greeter->server);
  while (g_main_context_iteration (greeter->context, FALSE));
  g_main_context_pop_thread_default (greeter->context);
  return NULL;
}

static gboolean
source_greeter_quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* A location of no role the element knows (a reverse proxy's path) that
 * turns out to be a publishing one: dsstreamsrc stops with an error at
 * the relay's first words to a source, and does not come back to take
 * the channel from its real source again */
GST_START_TEST (test_source_path_behind_proxy)
{
  SourceGreeter greeter = { 0, };
  GstElement *rx;
  GError *error;
  gchar *uri, *debug = NULL;

  g_mutex_init (&greeter.lock);
  g_cond_init (&greeter.cond);
  greeter.clients = g_ptr_array_new_with_free_func (g_object_unref);
  greeter.context = g_main_context_new ();
  greeter.loop = g_main_loop_new (greeter.context, FALSE);
  greeter.thread = g_thread_new ("greeter", source_greeter_thread, &greeter);
  g_mutex_lock (&greeter.lock);
  while (greeter.port == 0)
    g_cond_wait (&greeter.cond, &greeter.lock);
  g_mutex_unlock (&greeter.lock);

  uri = g_strdup_printf ("ws://127.0.0.1:%u/publish/x", greeter.port);
  rx = receiver_new (uri, NULL);
  set_state (rx, GST_STATE_PLAYING);
  error = wait_for_error (rx, WAIT_MS, &debug);
  fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", error->message);
  fail_unless (strstr (error->message, "/stream/") != NULL, "%s",
      error->message);
  fail_unless (strstr (debug, "ReceiverCount") != NULL, "%s", debug);
  g_error_free (error);
  g_free (debug);
  /* and does not come back (a bounded negative check over 6 retry
   * delays) */
  g_usleep (300 * 1000);
  g_mutex_lock (&greeter.lock);
  fail_unless_equals_int (greeter.connections, 1);
  g_mutex_unlock (&greeter.lock);
  stop (rx);

  g_main_context_invoke (greeter.context, source_greeter_quit, greeter.loop);
  g_thread_join (greeter.thread);
  g_main_loop_unref (greeter.loop);
  g_main_context_unref (greeter.context);
  g_ptr_array_unref (greeter.clients);
  g_mutex_clear (&greeter.lock);
  g_cond_clear (&greeter.cond);
  g_free (uri);
}

GST_END_TEST;

GST_START_TEST (test_null_while_stalled)
{
  guint port;
  GSocket *listener = stalled_listener_new (&port);
  gchar *uri = g_strdup_printf ("ws://127.0.0.1:%u/stream/stalled", port);
  GstElement *rx = receiver_new (uri, NULL);
  gint64 ms;

  set_state (rx, GST_STATE_PLAYING);
  /* its request is there, never read */
  fail_unless (wait_stalled_request (port, WAIT_MS));
  ms = time_to_null (rx);
  GST_INFO ("PLAYING -> NULL in %" G_GINT64_FORMAT " ms (handshake stalled)",
      ms);
  fail_unless (ms < 1000, "took %" G_GINT64_FORMAT " ms", ms);
  gst_object_unref (rx);
  g_free (uri);
  g_object_unref (listener);
}

GST_END_TEST;

GST_START_TEST (test_null_while_relay_stopped)
{
  DsTestRelay *relay;
  gchar *stream;
  GstElement *rx;
  gint64 ms;

  relay = start_relay (NULL);
  stream = ds_test_relay_ws_uri (relay, "/stream/sigstop");
  rx = receiver_new (stream, NULL);
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));

  kill (ds_test_relay_get_pid (relay), SIGSTOP);
  fail_unless (wait_process_stopped (ds_test_relay_get_pid (relay), WAIT_MS));
  ms = time_to_null (rx);
  GST_INFO ("PLAYING -> NULL in %" G_GINT64_FORMAT " ms (relay stopped)", ms);
  fail_unless (ms < 1000, "took %" G_GINT64_FORMAT " ms", ms);
  gst_object_unref (rx);

  kill (ds_test_relay_get_pid (relay), SIGCONT);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_start_stop_no_leak)
{
  DsTestRelay *relay;
  gchar *stream;
  GstElement *rx;
  guint before, after, i;

  relay = start_relay (NULL);
  stream = ds_test_relay_ws_uri (relay, "/stream/cycle");
  rx = receiver_new (stream, NULL);

  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));
  gst_element_set_state (rx, GST_STATE_NULL);
  before = settled_thread_count (0);

  for (i = 0; i < 30; i++) {
    set_state (rx, GST_STATE_PLAYING);
    if (i % 2 == 0)
      fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE,
              WAIT_MS));
    fail_unless_equals_int (gst_element_set_state (rx, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  /* threads that are on their way out may take a moment */
  after = settled_thread_count (before + 2);
  GST_INFO ("threads: %u before, %u after 30 cycles", before, after);
  fail_unless (after <= before + 2, "%u threads before, %u after", before,
      after);
  assert_no_error (rx);

  gst_object_unref (rx);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

typedef struct
{
  guint8 type;
  guint32 timestamp;            /* ms on the sender's clock */
  guint sleep_ms;               /* before pushing */
} TimedFrame;

/* Sends @frames through a relay with their pauses and returns the PTS of
 * the received video (@video) and audio (@audio) frames, in order */
static void
send_timed (const TimedFrame * frames, guint n, GArray * video, GArray * audio)
{
  DsTestRelay *relay = start_relay (NULL);
  gchar *peer = ds_test_relay_ws_uri (relay, "/peer/timing");
  gchar *stream = ds_test_relay_ws_uri (relay, "/stream/timing");
  GstElement *tx, *rx;
  guint8 audio_payload[2 * 4 * 48] = { 0, };
  guint8 rgba[4 * 4 * 4] = { 0, };
  DsHeader header;
  GstBuffer *buffer;
  guint i, received = 0;

  rx = receiver_new (stream, "latency=200");
  set_state (rx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (rx, "src"), "connected", TRUE, WAIT_MS));
  tx = sender_new (peer, NULL);
  set_state (tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (tx, "sink"), "connected", TRUE, WAIT_MS));

  for (i = 0; i < n; i++) {
    /* the pacing is what is tested */
    if (frames[i].sleep_ms > 0)
      g_usleep (frames[i].sleep_ms * 1000);
    if (frames[i].type == DS_FRAME_AUDIO_PCM)
      push (tx, make_frame (DS_FRAME_AUDIO_PCM, 0, i, frames[i].timestamp, 2,
              48000, audio_payload, sizeof (audio_payload)));
    else if (frames[i].type == DS_FRAME_PIXELS)
      push (tx, make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, i,
              frames[i].timestamp, 4, 4, rgba, sizeof (rgba)));
    else
      push (tx, make_frame (frames[i].type, 0, i, frames[i].timestamp, 0, 0,
              NULL, 0));
  }

  while (received < n && (buffer = pull (rx, WAIT_MS)) != NULL) {
    GstClockTime pts = GST_BUFFER_PTS (buffer);

    fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
    fail_unless (GST_CLOCK_TIME_IS_VALID (pts));
    if (header.type == DS_FRAME_PIXELS)
      g_array_append_val (video, pts);
    else if (header.type == DS_FRAME_AUDIO_PCM)
      g_array_append_val (audio, pts);
    GST_LOG ("%s ts %u -> %" GST_TIME_FORMAT, ds_frame_type_name (header.type),
        header.timestamp, GST_TIME_ARGS (pts));
    gst_buffer_unref (buffer);
    received++;
  }

  stop (tx);
  stop (rx);
  g_free (peer);
  g_free (stream);
  ds_test_relay_free (relay);
}

/* A Keyframe frame (0xF0) that comes late does not move the mapping: the
 * pictures after it keep the frame-time step (it used to start the
 * mapping again, a jump as big as the Keyframe's delay) */
GST_START_TEST (test_keyframe_keeps_timing)
{
  TimedFrame frames[32];
  GArray *video = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  GArray *audio = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  guint i, n = 0;


  for (i = 0; i < 30; i++) {
    if (i == 15) {
      /* held up by 150 ms on the way */
      frames[n].type = DS_FRAME_KEYFRAME;
      frames[n].timestamp = 1000 + i * 20;
      frames[n++].sleep_ms = 170;
    }
    frames[n].type = DS_FRAME_PIXELS;
    frames[n].timestamp = 1000 + i * 20;
    frames[n++].sleep_ms = (i == 0 || i == 15) ? 0 : 20;
  }
  send_timed (frames, n, video, audio);

  fail_unless_equals_int (video->len, 30);
  for (i = 1; i < video->len; i++) {
    GstClockTimeDiff step = GST_CLOCK_DIFF (g_array_index (video,
            GstClockTime, i - 1), g_array_index (video, GstClockTime, i));

    /* the frame-time step, less what an early frame moved the mapping */
    fail_unless (step >= 0 && step <= 20 * GST_MSECOND,
        "picture %u: step %" GST_STIME_FORMAT, i, GST_STIME_ARGS (step));
  }
  g_array_unref (video);
  g_array_unref (audio);
}

GST_END_TEST;

static void
assert_increasing (GArray * pts, const gchar * what)
{
  guint i;

  for (i = 1; i < pts->len; i++)
    fail_unless (g_array_index (pts, GstClockTime, i) >=
        g_array_index (pts, GstClockTime, i - 1),
        "%s frame %u: pts %" GST_TIME_FORMAT " before %" GST_TIME_FORMAT,
        what, i, GST_TIME_ARGS (g_array_index (pts, GstClockTime, i)),
        GST_TIME_ARGS (g_array_index (pts, GstClockTime, i - 1)));
}

/* Jittery arrival (pauses of 10-30 ms between steps of 20 ms) with the
 * audio 100 ms behind the pictures (a sender's audio buffer): a picture
 * that comes with less delay than any before must not take the audio back
 * in time, neither right after the start nor later */
GST_START_TEST (test_jitter_pts_never_back)
{
  TimedFrame frames[128];
  GArray *video = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  GArray *audio = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  GRand *rand = g_rand_new_with_seed (5);
  guint i, n = 0;


  for (i = 0; i < 60; i++) {
    /* the first picture was taken 50 ms late; from step 45 on (after the
     * mapping settled) the pictures are 80 ms further ahead, as after
     * pictures dropped upstream: both times a picture comes with less
     * delay than any before */
    frames[n].type = DS_FRAME_PIXELS;
    frames[n].timestamp = 1000 + i * 20 + (i > 0 ? 50 : 0) + (i >= 45 ? 80 : 0);
    frames[n++].sleep_ms = i == 0 ? 0 : g_rand_int_range (rand, 10, 31);
    frames[n].type = DS_FRAME_AUDIO_PCM;
    frames[n].timestamp = 900 + i * 20;
    frames[n++].sleep_ms = 0;
  }
  send_timed (frames, n, video, audio);

  fail_unless_equals_int (video->len, 60);
  fail_unless_equals_int (audio->len, 60);
  assert_increasing (video, "picture");
  assert_increasing (audio, "audio");

  g_rand_free (rand);
  g_array_unref (video);
  g_array_unref (audio);
}

GST_END_TEST;

static Suite *
dsstreamsrc_suite (void)
{
  Suite *s = suite_create ("dsstreamsrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  /* nearly every test runs a relay: without one the binary SKIPs */
  if (!ds_test_relay_available ())
    return s;
  tcase_add_test (tc, test_select_filters);
  tcase_add_test (tc, test_connection_failure_one_error);
  tcase_add_test (tc, test_late_joiner);
  tcase_add_test (tc, test_encoded_late_joiner);
  tcase_add_test (tc, test_timestamps_and_latency);
  tcase_add_test (tc, test_end_without_eos);
  tcase_add_test (tc, test_navigation_through_dsdepay);
  tcase_add_test (tc, test_wss_self_signed);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_locations_property);
  tcase_add_test (tc, test_locations_failover);
  tcase_add_test (tc, test_locations_503);
  tcase_add_test (tc, test_locations_tls_hangup);
  tcase_add_test (tc, test_locations_4xx_no_failover);
  tcase_add_test (tc, test_locations_bad);
  tcase_add_loop_test (tc, test_wrong_role_location, 0,
      G_N_ELEMENTS (wrong_role_cases));
  tcase_add_test (tc, test_source_path_behind_proxy);
  tcase_add_test (tc, test_null_while_stalled);
  tcase_add_test (tc, test_null_while_relay_stopped);
  tcase_add_test (tc, test_start_stop_no_leak);
  tcase_add_test (tc, test_keyframe_keeps_timing);
  tcase_add_test (tc, test_jitter_pts_never_back);

  return s;
}

DS_TEST_RELAY_CHECK_MAIN (dsstreamsrc);
