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

/* A recording played by decodebin, uridecodebin and playbin ends: the
 * application gets EOS every time. Each run is driven like gst-launch-1.0
 * drives it (PAUSED, then PLAYING from the bus handler when the pipeline
 * says PAUSED), which is where the EOS got lost about every other run:
 * decodebin's preroll ended last, in dsdepay's streaming thread, which
 * raced gst-launch setting PLAYING (GstBin then never forwarded the
 * sinks' EOS). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/app/app.h>
#include <glib/gstdio.h>

/* runs of each pipeline, and how long one may take */
#define N_RUNS 30
#define RUN_TIMEOUT_S 10

static gchar *tmp_dir;
static gchar *video_file;       /* dspay: pictures only */
static gchar *mux_file;         /* dsmux: pictures, sound and signals */

static void
run_to_eos (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "recording pipeline did not end");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

static void
record_video (const gchar * location)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=60 pattern=ball ! "
      "video/x-raw,format=RGBA,width=320,height=240,framerate=30/1 ! "
      "dspay ! filesink location=\"%s\"", location);
  GstElement *pipeline = gst_parse_launch (desc, NULL);

  fail_unless (pipeline != NULL);
  run_to_eos (pipeline);
  g_free (desc);
}

static void
record_mux (const gchar * location)
{
  gchar *desc = g_strdup_printf ("dsmux name=m ! filesink location=\"%s\" "
      "videotestsrc num-buffers=60 pattern=ball ! "
      "video/x-raw,format=RGBA,width=320,height=240,framerate=30/1 ! "
      "dspay ! m. "
      "audiotestsrc num-buffers=100 samplesperbuffer=960 ! "
      "audio/x-raw,format=F32LE,layout=interleaved,rate=48000,channels=2 ! "
      "dspay ! m. "
      "appsrc name=signals format=time caps=application/x-ds-signal ! "
      "dspay ! m.", location);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *appsrc;
  guint i;

  fail_unless (pipeline != NULL);
  appsrc = gst_bin_get_by_name (GST_BIN (pipeline), "signals");
  for (i = 0; i < 20; i++) {
    gchar *line = g_strdup_printf ("{\"count\": %u}\n", i);
    GstBuffer *buffer = gst_buffer_new_wrapped (line, strlen (line));

    GST_BUFFER_PTS (buffer) = i * 100 * GST_MSECOND;
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (appsrc),
            buffer), GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (appsrc));
  gst_object_unref (appsrc);
  run_to_eos (pipeline);
  g_free (desc);
}

static void
recordings_setup (void)
{
  GError *error = NULL;

  tmp_dir = g_dir_make_tmp ("dsdecodebin-XXXXXX", &error);
  fail_unless (tmp_dir != NULL, "%s", error ? error->message : "");
  video_file = g_build_filename (tmp_dir, "video.ds", NULL);
  mux_file = g_build_filename (tmp_dir, "mux.ds", NULL);
  record_video (video_file);
  record_mux (mux_file);
}

static void
recordings_teardown (void)
{
  g_unlink (video_file);
  g_unlink (mux_file);
  g_rmdir (tmp_dir);
  g_free (video_file);
  g_free (mux_file);
  g_free (tmp_dir);
}

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  gboolean playing_asked;
  gboolean eos;
  gchar *error;
} Run;

static gboolean
run_bus_cb (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Run *run = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_STATE_CHANGED:
    {
      GstState newstate;

      if (GST_MESSAGE_SRC (msg) != GST_OBJECT (run->pipeline))
        break;
      gst_message_parse_state_changed (msg, NULL, &newstate, NULL);
      /* prerolled: on to PLAYING, as gst-launch-1.0 does */
      if (newstate == GST_STATE_PAUSED && !run->playing_asked) {
        run->playing_asked = TRUE;
        gst_element_set_state (run->pipeline, GST_STATE_PLAYING);
      }
      break;
    }
    case GST_MESSAGE_EOS:
      run->eos = TRUE;
      g_main_loop_quit (run->loop);
      break;
    case GST_MESSAGE_ERROR:
    {
      GError *error = NULL;

      gst_message_parse_error (msg, &error, NULL);
      run->error = g_strdup (error->message);
      g_error_free (error);
      g_main_loop_quit (run->loop);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
run_timeout_cb (gpointer user_data)
{
  Run *run = user_data;

  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

/* Plays @desc once; TRUE when the application got EOS */
static gboolean
play_once (const gchar * desc)
{
  GMainContext *context = g_main_context_new ();
  GstBus *bus;
  GSource *bus_source, *timeout;
  Run run = { NULL, };

  g_main_context_push_thread_default (context);
  run.loop = g_main_loop_new (context, FALSE);
  run.pipeline = gst_parse_launch (desc, NULL);
  fail_unless (run.pipeline != NULL, "cannot make %s", desc);

  bus = gst_element_get_bus (run.pipeline);
  bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (bus_source, (GSourceFunc) run_bus_cb, &run, NULL);
  g_source_attach (bus_source, context);
  timeout = g_timeout_source_new_seconds (RUN_TIMEOUT_S);
  g_source_set_callback (timeout, run_timeout_cb, &run, NULL);
  g_source_attach (timeout, context);

  fail_if (gst_element_set_state (run.pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  g_main_loop_run (run.loop);
  fail_unless (run.error == NULL, "%s: error %s", desc, run.error);

  gst_element_set_state (run.pipeline, GST_STATE_NULL);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  g_source_destroy (bus_source);
  g_source_unref (bus_source);
  gst_object_unref (bus);
  gst_object_unref (run.pipeline);
  g_main_loop_unref (run.loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return run.eos;
}

/* @template with @FILE@ and @URI@ replaced */
static gchar *
describe (const gchar * template, const gchar * file)
{
  gchar *uri = gst_filename_to_uri (file, NULL);
  gchar **parts = g_strsplit (template, "@FILE@", -1);
  gchar *with_file = g_strjoinv (file, parts);
  gchar *desc;

  g_strfreev (parts);
  parts = g_strsplit (with_file, "@URI@", -1);
  desc = g_strjoinv (uri, parts);
  g_strfreev (parts);
  g_free (with_file);
  g_free (uri);
  return desc;
}

/* Plays @file with the pipeline of @template N_RUNS times: every run must
 * end with EOS */
static void
play_many (const gchar * template, const gchar * file)
{
  gchar *desc = describe (template, file);
  guint i;

  for (i = 0; i < N_RUNS; i++) {
    fail_unless (play_once (desc), "run %u of '%s' never got EOS (%u s)",
        i + 1, desc, RUN_TIMEOUT_S);
  }

  g_free (desc);
}

static const gchar *const video_pipelines[] = {
  "filesrc location=\"@FILE@\" ! decodebin ! videoconvert ! fakesink",
  "uridecodebin uri=\"@URI@\" ! videoconvert ! fakesink",
  "playbin uri=\"@URI@\" video-sink=fakesink audio-sink=fakesink",
};

static const gchar *const mux_pipelines[] = {
  "filesrc location=\"@FILE@\" ! decodebin name=d "
      "d. ! queue ! videoconvert ! fakesink "
      "d. ! queue ! audioconvert ! fakesink",
  "uridecodebin uri=\"@URI@\" name=d "
      "d. ! queue ! videoconvert ! fakesink "
      "d. ! queue ! audioconvert ! fakesink",
  "playbin uri=\"@URI@\" video-sink=fakesink audio-sink=fakesink",
};

GST_START_TEST (test_video_recording_ends)
{
  play_many (video_pipelines[__i__], video_file);
}

GST_END_TEST;

GST_START_TEST (test_mux_recording_ends)
{
  play_many (mux_pipelines[__i__], mux_file);
}

GST_END_TEST;

static Suite *
dsdecodebin_suite (void)
{
  Suite *s = suite_create ("dsdecodebin");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_checked_fixture (tc, recordings_setup, recordings_teardown);
  tcase_add_loop_test (tc, test_video_recording_ends, 0,
      G_N_ELEMENTS (video_pipelines));
  tcase_add_loop_test (tc, test_mux_recording_ends, 0,
      G_N_ELEMENTS (mux_pipelines));

  return s;
}

GST_CHECK_MAIN (dsdecodebin);
