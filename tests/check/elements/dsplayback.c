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

/* A channel played like any URL: dsstreamsrc as the ws:// and wss:// URI
 * source, playbin against a real ds-relay and real publishing pipelines
 * (picture and sound, pictures only, signals only), and the framerate
 * dsdepay announces for a live 30 fps channel. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "../ds-test-net.h"

#define WIDTH 160
#define HEIGHT 120

/* The URI handler: ws:// and wss:// make a dsstreamsrc whose location is
 * the URI; other schemes and URLs without a host are refused */
GST_START_TEST (test_uri_handler)
{
  static const gchar *const uris[] = {
    "ws://127.0.0.1:9100/stream/demo", "wss://relay.example:443/stream/x",
  };
  GstElement *src;
  GError *error = NULL;
  gchar *location;
  guint i;

  fail_unless (gst_uri_protocol_is_supported (GST_URI_SRC, "ws"));
  fail_unless (gst_uri_protocol_is_supported (GST_URI_SRC, "wss"));

  for (i = 0; i < G_N_ELEMENTS (uris); i++) {
    src = gst_element_make_from_uri (GST_URI_SRC, uris[i], NULL, &error);
    fail_unless (src != NULL, "%s: %s", uris[i], error ? error->message : "");
    fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory
            (src)), "dsstreamsrc");
    g_object_get (src, "location", &location, NULL);
    fail_unless_equals_string (location, uris[i]);
    g_free (location);
    location = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
    fail_unless_equals_string (location, uris[i]);
    g_free (location);

    /* the property and the URI are one */
    g_object_set (src, "location", "ws://10.0.0.1/stream/y", NULL);
    location = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
    fail_unless_equals_string (location, "ws://10.0.0.1/stream/y");
    g_free (location);

    fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
            "http://127.0.0.1/stream/x", &error));
    fail_unless (error != NULL && error->domain == GST_URI_ERROR);
    g_clear_error (&error);
    fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src), "ws:///stream/x",
            &error));
    g_clear_error (&error);
    location = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
    fail_unless_equals_string (location, "ws://10.0.0.1/stream/y");
    g_free (location);
    gst_object_unref (src);
  }
}

GST_END_TEST;

typedef struct
{
  GMutex lock;
  guint buffers;
  gsize last_size;
  GstCaps *caps;
} SinkLog;

static void
handoff_cb (GstElement * sink, GstBuffer * buffer, GstPad * pad, SinkLog * log)
{
  g_mutex_lock (&log->lock);
  log->buffers++;
  log->last_size = gst_buffer_get_size (buffer);
  gst_caps_replace (&log->caps, gst_pad_get_current_caps (pad));
  if (log->caps)
    gst_caps_unref (log->caps);
  g_mutex_unlock (&log->lock);
}

static GstElement *
logging_sink (SinkLog * log)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  g_mutex_init (&log->lock);
  g_object_set (sink, "signal-handoffs", TRUE, "sync", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (handoff_cb), log);
  return sink;
}

static guint
log_count (SinkLog * log)
{
  guint n;

  g_mutex_lock (&log->lock);
  n = log->buffers;
  g_mutex_unlock (&log->lock);
  return n;
}

static void
log_clear (SinkLog * log)
{
  gst_caps_replace (&log->caps, NULL);
  g_mutex_clear (&log->lock);
}

/* A publisher of channel @name: @video and/or @audio test sources, and
 * signals when @signals, through dspay and dsmux to dsrelaysink */
static GstElement *
publisher_new (DsTestRelay * relay, const gchar * name, gboolean video,
    gboolean audio, gboolean signals)
{
  gchar *uri, *path = g_strdup_printf ("/peer/%s", name);
  GString *desc = g_string_new (NULL);
  GstElement *pipeline;

  uri = ds_test_relay_ws_uri (relay, path);
  g_string_append_printf (desc, "dsmux name=m ! dsrelaysink location=%s "
      RETRY_ARGS " ", uri);
  if (video)
    g_string_append_printf (desc, "videotestsrc is-live=true ! "
        "video/x-raw,format=RGBA,width=%d,height=%d,framerate=30/1 ! "
        "dspay ! m. ", WIDTH, HEIGHT);
  if (audio)
    g_string_append (desc, "audiotestsrc is-live=true ! "
        "audio/x-raw,format=F32LE,layout=interleaved,rate=48000,channels=2 ! "
        "dspay ! m. ");
  if (signals)
    g_string_append (desc,
        "appsrc name=signals is-live=true format=time do-timestamp=true "
        "caps=application/x-ds-signal ! dspay ! m. ");
  pipeline = launch (desc->str);
  set_state (pipeline, GST_STATE_PLAYING);

  g_string_free (desc, TRUE);
  g_free (uri);
  g_free (path);
  return pipeline;
}

static void
publish_signal (GstElement * publisher, guint n)
{
  GstElement *appsrc = get (publisher, "signals");
  gchar *line = g_strdup_printf ("{\"count\": %u}\n", n);
  GstBuffer *buffer = gst_buffer_new_wrapped (line, strlen (line));

  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (appsrc),
          buffer), GST_FLOW_OK);
}

static GstElement *
playbin_new (DsTestRelay * relay, const gchar * name, SinkLog * video,
    SinkLog * audio)
{
  GstElement *playbin = gst_element_factory_make ("playbin", NULL);
  gchar *path = g_strdup_printf ("/stream/%s", name);
  gchar *uri = ds_test_relay_ws_uri (relay, path);

  fail_unless (playbin != NULL, "no playbin");
  g_object_set (playbin, "uri", uri, "video-sink", logging_sink (video),
      "audio-sink", logging_sink (audio), NULL);
  set_state (playbin, GST_STATE_PLAYING);
  g_free (uri);
  g_free (path);
  return playbin;
}

/* Fails on any error or warning posted by @pipeline so far */
static void
assert_quiet (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus,
              GST_MESSAGE_ERROR | GST_MESSAGE_WARNING)) != NULL) {
    GError *err = NULL;
    gchar *dbg = NULL;

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      gst_message_parse_error (msg, &err, &dbg);
    else
      gst_message_parse_warning (msg, &err, &dbg);
    fail ("%s from %s: %s (%s)", GST_MESSAGE_TYPE_NAME (msg),
        GST_MESSAGE_SRC_NAME (msg), err->message, dbg);
  }
  gst_object_unref (bus);
}

/* Waits until @log has @n buffers, publishing a signal now and then when
 * @publisher has signals; fails on an error or warning of @playbin */
static void
wait_buffers (GstElement * playbin, GstElement * publisher,
    gboolean signals, SinkLog * log, guint n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  guint i = 0;

  while (log_count (log) < n) {
    fail_unless (g_get_monotonic_time () < deadline, "%u buffers of %u",
        log_count (log), n);
    assert_quiet (playbin);
    if (signals)
      publish_signal (publisher, i++);
    g_usleep (50 * 1000);
  }
}

static void
assert_video_caps (SinkLog * log)
{
  GstStructure *s;
  gint w = 0, h = 0, fps_n = 0, fps_d = 0;

  g_mutex_lock (&log->lock);
  fail_unless (log->caps != NULL);
  s = gst_caps_get_structure (log->caps, 0);
  fail_unless (gst_structure_has_name (s, "video/x-raw"));
  fail_unless (gst_structure_get_int (s, "width", &w));
  fail_unless (gst_structure_get_int (s, "height", &h));
  fail_unless_equals_int (w, WIDTH);
  fail_unless_equals_int (h, HEIGHT);
  fail_unless (gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d));
  fail_unless (fps_n == 30 && fps_d == 1, "framerate %d/%d", fps_n, fps_d);
  fail_unless_equals_uint64 (log->last_size, WIDTH * HEIGHT * 4);
  g_mutex_unlock (&log->lock);
}

static void
assert_audio_caps (SinkLog * log)
{
  GstStructure *s;
  gint rate = 0, channels = 0;

  g_mutex_lock (&log->lock);
  fail_unless (log->caps != NULL);
  s = gst_caps_get_structure (log->caps, 0);
  fail_unless (gst_structure_has_name (s, "audio/x-raw"));
  fail_unless (gst_structure_get_int (s, "rate", &rate));
  fail_unless (gst_structure_get_int (s, "channels", &channels));
  fail_unless_equals_int (rate, 48000);
  fail_unless_equals_int (channels, 2);
  fail_unless (log->last_size > 0);
  g_mutex_unlock (&log->lock);
}

/* playbin uri=ws://.../stream/CHANNEL: the picture reaches the video
 * sink whole at its size and 30/1, the sound reaches the audio sink, the
 * signals of the channel are left out quietly, and nothing warns */
GST_START_TEST (test_playbin_picture_and_sound)
{
  DsTestRelay *relay = start_relay (NULL);
  SinkLog video = { 0, }, audio = { 0, };
  GstElement *publisher, *playbin;

  publisher = publisher_new (relay, "demo", TRUE, TRUE, TRUE);
  playbin = playbin_new (relay, "demo", &video, &audio);

  /* past the 8 pictures before the framerate is measured */
  wait_buffers (playbin, publisher, TRUE, &video, 30);
  wait_buffers (playbin, publisher, TRUE, &audio, 10);
  assert_quiet (playbin);
  assert_video_caps (&video);
  assert_audio_caps (&audio);

  stop (playbin);
  stop (publisher);
  log_clear (&video);
  log_clear (&audio);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* A channel of pictures only plays without a word about the missing
 * sound */
GST_START_TEST (test_playbin_pictures_only)
{
  DsTestRelay *relay = start_relay (NULL);
  SinkLog video = { 0, }, audio = { 0, };
  GstElement *publisher, *playbin;

  publisher = publisher_new (relay, "pictures", TRUE, FALSE, FALSE);
  playbin = playbin_new (relay, "pictures", &video, &audio);

  wait_buffers (playbin, publisher, FALSE, &video, 30);
  assert_quiet (playbin);
  assert_video_caps (&video);
  fail_unless_equals_int (log_count (&audio), 0);

  stop (playbin);
  stop (publisher);
  log_clear (&video);
  log_clear (&audio);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* A channel of signals only: one error, from dsdepay, saying there is
 * nothing to play (not decodebin's "missing plug-in") */
GST_START_TEST (test_playbin_signals_only)
{
  DsTestRelay *relay = start_relay (NULL);
  SinkLog video = { 0, }, audio = { 0, };
  GstElement *publisher, *playbin;
  GstMessage *msg = NULL;
  GstBus *bus;
  GError *error = NULL;
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  guint i = 0;

  publisher = publisher_new (relay, "signals", FALSE, FALSE, TRUE);
  playbin = playbin_new (relay, "signals", &video, &audio);
  bus = gst_element_get_bus (playbin);

  while (msg == NULL) {
    fail_unless (g_get_monotonic_time () < deadline, "no error");
    publish_signal (publisher, i++);
    msg = gst_bus_timed_pop_filtered (bus, 50 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  }
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
  gst_message_parse_error (msg, &error, NULL);
  fail_unless (g_str_has_prefix (GST_MESSAGE_SRC_NAME (msg), "dsdepay"),
      "error from %s: %s", GST_MESSAGE_SRC_NAME (msg), error->message);
  fail_unless (g_error_matches (error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_WRONG_TYPE), "%s", error->message);
  fail_unless (strstr (error->message, "signals only") != NULL, "%s",
      error->message);
  g_error_free (error);
  gst_message_unref (msg);
  fail_unless_equals_int (log_count (&video), 0);
  fail_unless_equals_int (log_count (&audio), 0);

  gst_object_unref (bus);
  stop (playbin);
  stop (publisher);
  log_clear (&video);
  log_clear (&audio);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* videotestsrc is-live=true ! video/x-raw,framerate=30/1 ! dspay !
 * dsrelaysink, and dsstreamsrc ! dsdepay on the other side: the caps say
 * 30/1 (measured: the relay carries no framerate) */
GST_START_TEST (test_live_framerate_through_relay)
{
  DsTestRelay *relay = start_relay (NULL);
  gchar *stream = ds_test_relay_ws_uri (relay, "/stream/rate");
  gchar *desc;
  GstElement *publisher, *receiver;
  SinkLog video = { 0, };
  GstElement *sink;
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  publisher = publisher_new (relay, "rate", TRUE, FALSE, FALSE);
  desc = g_strdup_printf ("dsstreamsrc location=%s " RETRY_ARGS " ! "
      "dsdepay ! video/x-raw ! fakesink name=sink", stream);
  receiver = launch (desc);
  g_free (desc);
  sink = get (receiver, "sink");
  g_object_set (sink, "signal-handoffs", TRUE, NULL);
  g_mutex_init (&video.lock);
  g_signal_connect (sink, "handoff", G_CALLBACK (handoff_cb), &video);
  set_state (receiver, GST_STATE_PLAYING);

  while (log_count (&video) < 30) {
    fail_unless (g_get_monotonic_time () < deadline, "%u pictures",
        log_count (&video));
    assert_no_error (receiver);
    g_usleep (50 * 1000);
  }
  assert_video_caps (&video);

  stop (receiver);
  stop (publisher);
  log_clear (&video);
  g_free (stream);
  ds_test_relay_free (relay);
}

GST_END_TEST;

static Suite *
dsplayback_suite (void)
{
  Suite *s = suite_create ("dsplayback");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_uri_handler);
  if (!ds_test_relay_available ())
    return s;
  tcase_add_test (tc, test_playbin_picture_and_sound);
  tcase_add_test (tc, test_playbin_pictures_only);
  tcase_add_test (tc, test_playbin_signals_only);
  tcase_add_test (tc, test_live_framerate_through_relay);

  return s;
}

DS_TEST_RELAY_CHECK_MAIN (dsplayback);
