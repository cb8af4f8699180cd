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
 * bench-gop-join: how fast a joiner of an H.264 channel shows the current
 * picture when ds-relay serves it the cached units since the last keyframe
 * (issue 14 item 4).
 *
 *   bench-gop-join [--relay PATH] [--joins 12] [--width 1920]
 *                  [--height 1080] [--key-int 60] [--format I420]
 *                  [--bitrate 4000]
 *
 * It starts the relay (--relay, default $DS_RELAY) on a free loopback
 * port, publishes a live channel
 *
 *   videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,
 *   width=W,height=H,framerate=30/1 ! x264enc tune=zerolatency
 *   speed-preset=ultrafast bitrate=4000 key-int-max=K bframes=0 ! dspay !
 *   dsrelaysink
 *
 * (4:2:0, 8 bits, what a screencast sends and a browser decodes; without
 * the format videotestsrc and x264enc settle on Y444_10LE, High 4:4:4
 * 10-bit, several times the work for the receiver's decoder).
 *
 * and, one after the other, joins --joins receivers
 *
 *   dsstreamsrc ! dsdepay ! h264parse ! avdec_h264 ! fakesink
 *
 * each at a random point of the GOP (a random wait of 0 to 2 s before it
 * connects). The seq of every unit the source's dspay sends is the live
 * frame; the receiver maps each decoded picture to the seq of the unit it
 * came from (units are decoded in order, no B-frames). A join is done at
 * the first decoded picture whose unit is the live one at that moment
 * (the source has sent nothing newer). Per join it prints the units in
 * the GOP before the joiner (what the cache replays), the time from
 * connect to the first decoded picture, and to the current one; then the
 * median and max. Decoding is timed at the decoder's output (fakesink
 * sync=false), which is what a player could show.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gio/gio.h>

#include <ds/dsprotocol.h>

#define JOIN_TIMEOUT_US (10 * G_USEC_PER_SEC)

static gchar *opt_relay;
static gint opt_joins = 12;
static gint opt_width = 1920;
static gint opt_height = 1080;
static gint opt_key_int = 60;
static gchar *opt_format;
static gint opt_bitrate = 4000;

static GOptionEntry entries[] = {
  {"relay", 0, 0, G_OPTION_ARG_FILENAME, &opt_relay, "ds-relay program",
      "PATH"},
  {"joins", 0, 0, G_OPTION_ARG_INT, &opt_joins, "Receivers to join", "N"},
  {"width", 0, 0, G_OPTION_ARG_INT, &opt_width, "Picture width", "W"},
  {"height", 0, 0, G_OPTION_ARG_INT, &opt_height, "Picture height", "H"},
  {"key-int", 0, 0, G_OPTION_ARG_INT, &opt_key_int,
      "Frames between keyframes", "K"},
  {"format", 0, 0, G_OPTION_ARG_STRING, &opt_format,
      "Raw format x264enc encodes (default I420)", "FORMAT"},
  {"bitrate", 0, 0, G_OPTION_ARG_INT, &opt_bitrate,
      "x264enc bitrate in kbit/s", "KBPS"},
  {NULL}
};

/* What the source sent last (written by its streaming thread) */
static GMutex live_lock;
static guint64 live_units;      /* units sent; the live one is live_units */
static guint64 live_since_key;  /* units sent since the last keyframe */
static guint16 live_seq;

/* One joiner */
typedef struct
{
  GMutex lock;
  GCond cond;
  gint64 connect_us;
  /* seq of each unit received, in order */
  GArray *seqs;
  gboolean first_is_keyframe;
  guint decoded;
  gint64 first_picture_us;      /* 0: none yet */
  gint64 current_us;            /* 0: not current yet */
  guint behind_at_first;        /* units the first picture was behind */
} Joiner;

static gboolean
parse_header (GstBuffer * buffer, DsHeader * header)
{
  guint8 bytes[DS_HEADER_SIZE];

  if (gst_buffer_extract (buffer, 0, bytes, sizeof (bytes)) != sizeof (bytes))
    return FALSE;
  return ds_header_parse (bytes, sizeof (bytes), header, NULL);
}

static GstPadProbeReturn
source_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  DsHeader header;

  if (!parse_header (GST_PAD_PROBE_INFO_BUFFER (info), &header) ||
      header.type != DS_FRAME_ENCODED_VIDEO)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&live_lock);
  live_units++;
  live_seq = header.seq;
  if (header.flags & DS_FLAG_KEYFRAME)
    live_since_key = 0;
  live_since_key++;
  g_mutex_unlock (&live_lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
received_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Joiner *joiner = user_data;
  DsHeader header;

  if (!parse_header (GST_PAD_PROBE_INFO_BUFFER (info), &header) ||
      header.type != DS_FRAME_ENCODED_VIDEO)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&joiner->lock);
  if (joiner->seqs->len == 0)
    joiner->first_is_keyframe = (header.flags & DS_FLAG_KEYFRAME) != 0;
  g_array_append_val (joiner->seqs, header.seq);
  g_mutex_unlock (&joiner->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
decoded_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Joiner *joiner = user_data;
  gint64 now = g_get_monotonic_time ();
  guint16 seq, live;
  gint behind;

  g_mutex_lock (&live_lock);
  live = live_seq;
  g_mutex_unlock (&live_lock);

  g_mutex_lock (&joiner->lock);
  if (joiner->decoded >= joiner->seqs->len) {
    g_mutex_unlock (&joiner->lock);
    return GST_PAD_PROBE_OK;
  }
  seq = g_array_index (joiner->seqs, guint16, joiner->decoded);
  joiner->decoded++;
  behind = ds_seq_distance (seq, live);
  if (g_getenv ("BENCH_VERBOSE"))
    g_print ("  %6.1f ms: decoded seq %u, live %u, %u units received\n",
        (now - joiner->connect_us) / 1000.0, seq, live, joiner->seqs->len);
  if (joiner->first_picture_us == 0) {
    joiner->first_picture_us = now;
    joiner->behind_at_first = MAX (behind, 0);
  }
  if (joiner->current_us == 0 && behind <= 0) {
    joiner->current_us = now;
    g_cond_signal (&joiner->cond);
  }
  g_mutex_unlock (&joiner->lock);
  return GST_PAD_PROBE_OK;
}

static GstElement *
launch (const gchar * description)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  if (pipeline == NULL) {
    g_printerr ("bench-gop-join: %s: %s\n", description, error->message);
    g_clear_error (&error);
  }
  return pipeline;
}

static void
probe_element (GstElement * pipeline, const gchar * name,
    GstPadProbeCallback callback, gpointer user_data)
{
  GstElement *element = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstPad *pad = gst_element_get_static_pad (element, "src");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, callback, user_data, NULL);
  gst_object_unref (pad);
  gst_object_unref (element);
}

static gboolean
pipeline_failed (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  gboolean failed = msg != NULL;

  if (msg) {
    GError *error = NULL;

    gst_message_parse_error (msg, &error, NULL);
    g_printerr ("bench-gop-join: %s: %s\n", GST_OBJECT_NAME (msg->src),
        error->message);
    g_clear_error (&error);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return failed;
}

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

static void
print_figures (const gchar * what, GArray * values)
{
  gdouble median;

  if (values->len == 0) {
    g_print ("%-22s no value\n", what);
    return;
  }
  g_array_sort (values, compare_double);
  median = values->len % 2 ? g_array_index (values, gdouble, values->len / 2)
      : (g_array_index (values, gdouble, values->len / 2 - 1) +
      g_array_index (values, gdouble, values->len / 2)) / 2;
  g_print ("%-22s median %7.1f ms  max %7.1f ms  (%u joins)\n", what,
      median, g_array_index (values, gdouble, values->len - 1), values->len);
}

/* One receiver joins; FALSE when it never got current */
static gboolean
join_once (guint port, guint index, GArray * to_first, GArray * to_current)
{
  Joiner joiner = { 0, };
  GstElement *pipeline;
  gchar *description;
  guint64 gop_position;
  gint64 deadline;
  gboolean ok;

  g_mutex_init (&joiner.lock);
  g_cond_init (&joiner.cond);
  joiner.seqs = g_array_new (FALSE, FALSE, sizeof (guint16));
  description = g_strdup_printf ("dsstreamsrc name=src "
      "location=ws://127.0.0.1:%u/stream/gop ! dsdepay ! h264parse ! "
      "avdec_h264 name=dec thread-type=slice ! fakesink sync=false", port);
  pipeline = launch (description);
  g_free (description);
  if (pipeline == NULL)
    return FALSE;
  probe_element (pipeline, "src", received_probe, &joiner);
  probe_element (pipeline, "dec", decoded_probe, &joiner);

  g_mutex_lock (&live_lock);
  gop_position = live_since_key;
  g_mutex_unlock (&live_lock);
  joiner.connect_us = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  deadline = joiner.connect_us + JOIN_TIMEOUT_US;
  g_mutex_lock (&joiner.lock);
  while (joiner.current_us == 0 &&
      g_cond_wait_until (&joiner.cond, &joiner.lock, deadline));
  ok = joiner.current_us != 0;
  g_mutex_unlock (&joiner.lock);
  ok = ok && !pipeline_failed (pipeline);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  if (ok) {
    gdouble first = (joiner.first_picture_us - joiner.connect_us) / 1000.0;
    gdouble current = (joiner.current_us - joiner.connect_us) / 1000.0;

    g_array_append_val (to_first, first);
    g_array_append_val (to_current, current);
    g_print ("join %2u: %3" G_GUINT64_FORMAT " units into the GOP, first "
        "unit %s, first picture %6.1f ms (%u behind), current %6.1f ms\n",
        index, gop_position, joiner.first_is_keyframe ? "keyframe" : "DELTA",
        first, joiner.behind_at_first, current);
  } else {
    g_print ("join %2u: %3" G_GUINT64_FORMAT " units into the GOP: not "
        "current within %d s (%u units received, %u decoded)\n", index,
        gop_position, (gint) (JOIN_TIMEOUT_US / G_USEC_PER_SEC),
        joiner.seqs->len, joiner.decoded);
  }
  gst_object_unref (pipeline);
  g_array_unref (joiner.seqs);
  g_mutex_clear (&joiner.lock);
  g_cond_clear (&joiner.cond);
  return ok;
}

gint
main (gint argc, gchar ** argv)
{
  GOptionContext *context = g_option_context_new ("- GOP join latency");
  const gchar *relay_argv[] = { NULL, "--port", "0", NULL };
  GSubprocess *relay;
  GDataInputStream *out;
  GError *error = NULL;
  GstElement *source;
  GArray *to_first, *to_current;
  gchar *line, *description;
  guint port, i, failures = 0;
  guint64 units_before;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("bench-gop-join: %s\n", error->message);
    return 2;
  }
  g_option_context_free (context);
  if (opt_relay == NULL)
    opt_relay = g_strdup (g_getenv ("DS_RELAY"));
  if (opt_relay == NULL) {
    g_printerr ("bench-gop-join: no relay (--relay or DS_RELAY)\n");
    return 2;
  }

  relay_argv[0] = opt_relay;
  relay = g_subprocess_newv (relay_argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      (g_getenv ("BENCH_RELAY_LOG") ? 0 : G_SUBPROCESS_FLAGS_STDERR_SILENCE),
      &error);
  if (relay == NULL) {
    g_printerr ("bench-gop-join: %s: %s\n", opt_relay, error->message);
    return 1;
  }
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (relay));
  line = g_data_input_stream_read_line (out, NULL, NULL, NULL);
  g_object_unref (out);
  if (line == NULL || strrchr (line, ':') == NULL) {
    g_printerr ("bench-gop-join: the relay printed no address\n");
    return 1;
  }
  port = atoi (strrchr (line, ':') + 1);
  g_free (line);

  description = g_strdup_printf ("videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,format=%s,width=%d,height=%d,framerate=30/1 ! x264enc "
      "tune=zerolatency speed-preset=ultrafast bitrate=%d key-int-max=%d "
      "bframes=0 ! dspay name=pay ! dsrelaysink "
      "location=ws://127.0.0.1:%u/peer/gop", opt_format ? opt_format : "I420",
      opt_width, opt_height, opt_bitrate, opt_key_int, port);
  source = launch (description);
  g_free (description);
  if (source == NULL)
    return 1;
  probe_element (source, "pay", source_probe, NULL);
  gst_element_set_state (source, GST_STATE_PLAYING);
  g_print ("bench-gop-join: %dx%d at 30 fps, a keyframe every %d frames, "
      "relay on port %u\n", opt_width, opt_height, opt_key_int, port);

  /* the channel runs for 3 s: a GOP is cached */
  g_usleep (3 * G_USEC_PER_SEC);
  g_mutex_lock (&live_lock);
  units_before = live_units;
  g_mutex_unlock (&live_lock);
  if (units_before < 60 || pipeline_failed (source)) {
    g_printerr ("bench-gop-join: the source sent %" G_GUINT64_FORMAT
        " units in 3 s\n", units_before);
    return 1;
  }

  to_first = g_array_new (FALSE, FALSE, sizeof (gdouble));
  to_current = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (i = 0; i < (guint) opt_joins; i++) {
    g_usleep (g_random_int_range (0, 2000) * 1000);
    if (!join_once (port, i, to_first, to_current))
      failures++;
  }
  g_mutex_lock (&live_lock);
  g_print ("source: %" G_GUINT64_FORMAT " units sent\n", live_units);
  g_mutex_unlock (&live_lock);
  print_figures ("connect to first", to_first);
  print_figures ("connect to current", to_current);
  if (failures)
    g_print ("%u joins never got current\n", failures);

  gst_element_set_state (source, GST_STATE_NULL);
  gst_object_unref (source);
  g_subprocess_force_exit (relay);
  g_subprocess_wait (relay, NULL, NULL);
  g_object_unref (relay);
  g_array_unref (to_first);
  g_array_unref (to_current);
  g_free (opt_relay);
  return failures ? 1 : 0;
}
