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
 * bench-encoded: per-frame latency of H.264 through ds-relay on loopback,
 * and the bytes the relay adds per access unit (issue 14, targets).
 *
 *   bench-encoded [--relay PATH] [--frames 150] [--rounds 2]
 *                 [--decoders avdec_h264,openh264dec]
 *                 [--width 1920]
 *                 [--height 1080] [--bitrate 4000] [--warmup-ms 500]
 *   bench-encoded --publish ws://HOST:PORT/peer/CHANNEL
 *
 * One process, one clock. The source
 *
 *   videotestsrc is-live=true pattern=smpte horizontal-speed=4 !
 *   video/x-raw,width=W,height=H,framerate=30/1 ! x264enc name=enc
 *   tune=zerolatency speed-preset=ultrafast bitrate=B key-int-max=60 !
 *   tee ! dspay ! dsrelaysink location=ws://127.0.0.1:PORT/peer/latency
 *
 * runs all the time; a pad probe on the encoder's sink pad notes
 * CLOCK_MONOTONIC per source buffer (by PTS), one on dspay's source pad
 * ties each unit's seq and header timestamp to that buffer. In turns
 * (--rounds times), each receiver
 *
 *   dsstreamsrc location=ws://127.0.0.1:PORT/stream/latency ! dsdepay !
 *   DECODER ! fakesink sync=false
 *
 * (DECODER avdec_h264, then openh264dec; --decoders takes chains too,
 * "h264parse ! openh264dec")
 *
 * runs in the same process until it has caught up (decoded the live unit
 * after the burst of the relay's GOP cache: how long that takes is what
 * bench-gop-join measures), then --warmup-ms more, then --frames frames
 * are counted (source buffers from then on); a probe on
 * dsstreamsrc's source pad maps its output PTS to the unit's seq (dsdepay
 * keeps the input PTS, the decoders keep it too) and one on the
 * decoder's source pad takes the time of each decoded frame. The peer in
 * the same run, "direct", is the floor: a branch of the tee straight to
 * avdec_h264 in the source pipeline (no dspay, relay or dsdepay).
 * Latency = decoded − source buffer; printed per receiver with p50, p95,
 * max and the stages (encode: source buffer → dspay output; relay:
 * dspay output → dsstreamsrc output; decode: dsstreamsrc output →
 * decoded).
 *
 * Bytes on the wire: a plain WebSocket client (a socket and a frame
 * parser, no library) reads the same channel for the whole run; for
 * every unit it saw, the WebSocket message length is set against the
 * encoder's output buffer size for that unit (x264enc's source pad).
 *
 * --publish: only the source, to that URL; for each unit one line on
 * stdout "unit TIMESTAMP_MS WALL_MS" (the header timestamp and the
 * g_get_real_time() at the encoder's input, in ms) — what
 * bench-browser-latency.mjs matches with the times the page reports.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <gio/gio.h>
#include <gst/gst.h>

#include <ds/dsprotocol.h>

static gchar *opt_relay;
static gchar *opt_publish;
static gint opt_frames = 150;
static gint opt_rounds = 2;
static gchar *opt_decoders;
static gint opt_width = 1920;
static gint opt_height = 1080;
static gint opt_bitrate = 4000;
static gint opt_warmup_ms = 500;

static GOptionEntry entries[] = {
  {"relay", 0, 0, G_OPTION_ARG_FILENAME, &opt_relay,
      "ds-relay program (default $DS_RELAY)", "PATH"},
  {"publish", 0, 0, G_OPTION_ARG_STRING, &opt_publish,
        "Only publish to this peer URL and print the time of each unit",
      "URL"},
  {"frames", 0, 0, G_OPTION_ARG_INT, &opt_frames,
      "Frames measured per receiver and round", "N"},
  {"rounds", 0, 0, G_OPTION_ARG_INT, &opt_rounds,
      "Rounds (each receiver once per round, in turn)", "N"},
  {"decoders", 0, 0, G_OPTION_ARG_STRING, &opt_decoders,
      "Decoders of the relay receivers (comma-separated; each may be a "
        "chain ending in the decoder)", "LIST"},
  {"width", 0, 0, G_OPTION_ARG_INT, &opt_width, "Picture width", "W"},
  {"height", 0, 0, G_OPTION_ARG_INT, &opt_height, "Picture height", "H"},
  {"bitrate", 0, 0, G_OPTION_ARG_INT, &opt_bitrate,
      "x264enc bitrate in kbit/s", "KBPS"},
  {"warmup-ms", 0, 0, G_OPTION_ARG_INT, &opt_warmup_ms,
      "Time after a receiver caught up (decoded the live unit) before its "
        "frames count", "MS"},
  {NULL}
};

/* One source buffer, from the encoder's input to the decoders */
typedef struct
{
  gint64 in_us;                 /* monotonic, at the encoder's input */
  gint64 in_wall_us;            /* g_get_real_time () at the same moment */
  gsize encoded_bytes;          /* the encoder's output buffer */
  gboolean keyframe;
  gint64 paid_us;               /* dspay's output, 0 until then */
  guint16 seq;
  guint32 timestamp;            /* header timestamp, ms */
  gint64 received_us;           /* dsstreamsrc's output (current receiver) */
  gsize ws_message_bytes;       /* seen by the plain WebSocket client */
  gsize ws_header_bytes;
} Unit;

static GMutex lock;
static GArray *units;           /* Unit, in source order */
static GHashTable *by_ms;       /* source running time, ms -> index + 1 */
static GHashTable *by_out_pts;  /* encoder output PTS -> index + 1 */
static GHashTable *by_seq;      /* seq -> index + 1 */
static gboolean publish_only;
static guint16 live_seq;        /* the last unit dspay made */

/* The receiver being measured */
typedef struct
{
  const gchar *name;
  GHashTable *by_rx_pts;        /* receiver PTS -> unit index + 1 */
  gint64 count_from_us;         /* source buffers before this: warm-up */
  GArray *total_ms;             /* gdouble: decoded - source buffer */
  GArray *encode_ms, *relay_ms, *decode_ms;
  guint wanted;
  guint unmatched;
  GCond done;
} Measure;

static Measure *current;

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

static Unit *
unit_by (GHashTable * table, guint64 key)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (table,
          GUINT_TO_POINTER ((guint) key)));

  return index ? &g_array_index (units, Unit, index - 1) : NULL;
}

static void
unit_index (GHashTable * table, guint64 key, Unit * unit)
{
  g_hash_table_insert (table, GUINT_TO_POINTER ((guint) key),
      GUINT_TO_POINTER ((guint) (unit - (Unit *) units->data) + 1));
}

/* The unit whose source buffer has running time @ms (truncated, as in
 * the header timestamp) */
static Unit *
unit_at_ms (guint64 ms)
{
  Unit *unit = unit_by (by_ms, ms);

  if (unit == NULL)
    unit = unit_by (by_ms, ms + 1);
  if (unit == NULL && ms > 0)
    unit = unit_by (by_ms, ms - 1);
  return unit;
}

/* PTS keys: the PTS in microseconds fits a guint for 71 minutes (x264enc
 * adds 1000 hours to its output PTS: taken modulo 2^32, still unique
 * over a run) */
static guint
pts_key (GstClockTime pts)
{
  return (guint) (pts / GST_USECOND);
}

static GstClockTime
running_time (GstPad * pad, GstBuffer * buffer)
{
  GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  GstClockTime t = GST_CLOCK_TIME_NONE;

  if (event) {
    const GstSegment *segment;

    gst_event_parse_segment (event, &segment);
    t = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buffer));
    gst_event_unref (event);
  }
  return t;
}

static GstPadProbeReturn
encoder_in_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime t = running_time (pad, buffer);
  Unit unit = { 0, };

  if (!GST_CLOCK_TIME_IS_VALID (t))
    return GST_PAD_PROBE_OK;
  unit.in_us = now_us ();
  unit.in_wall_us = g_get_real_time ();
  g_mutex_lock (&lock);
  g_array_append_val (units, unit);
  unit_index (by_ms, t / GST_MSECOND,
      &g_array_index (units, Unit, units->len - 1));
  g_mutex_unlock (&lock);
  return GST_PAD_PROBE_OK;
}

/* The encoder's output: its size, and its PTS (the direct decoder's) */
static GstPadProbeReturn
encoder_out_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime t = running_time (pad, buffer);
  Unit *unit;

  if (!GST_CLOCK_TIME_IS_VALID (t))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&lock);
  unit = unit_at_ms (t / GST_MSECOND);
  if (unit) {
    unit->encoded_bytes = gst_buffer_get_size (buffer);
    unit->keyframe = !GST_BUFFER_FLAG_IS_SET (buffer,
        GST_BUFFER_FLAG_DELTA_UNIT);
    unit_index (by_out_pts, pts_key (GST_BUFFER_PTS (buffer)), unit);
  }
  g_mutex_unlock (&lock);
  return GST_PAD_PROBE_OK;
}

static gboolean
parse_header (GstBuffer * buffer, DsHeader * header)
{
  guint8 bytes[DS_HEADER_SIZE];

  if (gst_buffer_extract (buffer, 0, bytes, sizeof (bytes)) != sizeof (bytes))
    return FALSE;
  return ds_header_parse (bytes, sizeof (bytes), header, NULL);
}

static GstPadProbeReturn
pay_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  DsHeader header;
  Unit *unit;

  if (!parse_header (buffer, &header) || header.type != DS_FRAME_ENCODED_VIDEO)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&lock);
  unit = unit_at_ms (header.timestamp);
  if (unit) {
    unit->paid_us = now_us ();
    unit->seq = header.seq;
    unit->timestamp = header.timestamp;
    unit_index (by_seq, header.seq, unit);
    live_seq = header.seq;
    if (publish_only) {
      g_print ("unit %u %.3f\n", header.timestamp, unit->in_wall_us / 1000.0);
      fflush (stdout);
    }
  }
  g_mutex_unlock (&lock);
  return GST_PAD_PROBE_OK;
}

/* dsstreamsrc's output: the receiver's PTS of each unit */
static GstPadProbeReturn
received_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Measure *m = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  DsHeader header;
  Unit *unit;

  if (!parse_header (buffer, &header) || header.type != DS_FRAME_ENCODED_VIDEO)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&lock);
  unit = unit_by (by_seq, header.seq);
  if (unit && GST_BUFFER_PTS_IS_VALID (buffer)) {
    unit->received_us = now_us ();
    unit_index (m->by_rx_pts, pts_key (GST_BUFFER_PTS (buffer)), unit);
  }
  g_mutex_unlock (&lock);
  return GST_PAD_PROBE_OK;
}

/* @relayed: the unit came through the relay (the stages are known) */
static void
measure_add (Measure * m, Unit * unit, gint64 decoded_us, gint64 from_us,
    gboolean relayed)
{
  gdouble total = (decoded_us - unit->in_us) / 1000.0;
  gdouble encode = (unit->paid_us - unit->in_us) / 1000.0;
  gdouble relay = (unit->received_us - unit->paid_us) / 1000.0;
  gdouble decode = (decoded_us - from_us) / 1000.0;

  if (unit->in_us < m->count_from_us || m->total_ms->len >= m->wanted)
    return;
  if (g_getenv ("BENCH_VERBOSE"))
    g_print ("  %s seq %u%s: %.1f ms (encode %.1f, relay %.1f, decode "
        "%.1f)\n", m->name, unit->seq, unit->keyframe ? " key" : "", total,
        encode, relayed ? relay : 0, decode);
  g_array_append_val (m->total_ms, total);
  g_array_append_val (m->encode_ms, encode);
  if (relayed)
    g_array_append_val (m->relay_ms, relay);
  g_array_append_val (m->decode_ms, decode);
  if (m->total_ms->len == m->wanted)
    g_cond_signal (&m->done);
}

/* The decoder's output of a relay receiver */
static GstPadProbeReturn
decoded_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Measure *m = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 t = now_us ();
  Unit *unit;

  g_mutex_lock (&lock);
  unit = unit_by (m->by_rx_pts, pts_key (GST_BUFFER_PTS (buffer)));
  /* caught up: the joiner decoded the live unit (the GOP cache's burst
   * is over); frames count from --warmup-ms later */
  if (unit && m->count_from_us == G_MAXINT64 && unit->seq == live_seq)
    m->count_from_us = t + opt_warmup_ms * 1000;
  if (unit && unit->paid_us && unit->received_us)
    measure_add (m, unit, t, unit->received_us, TRUE);
  else if (t >= m->count_from_us)
    m->unmatched++;
  g_mutex_unlock (&lock);
  return GST_PAD_PROBE_OK;
}

/* The direct branch: open while "direct" is measured, from a keyframe */
static gboolean direct_open, direct_keyed;

static GstPadProbeReturn
direct_gate_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gboolean pass;

  g_mutex_lock (&lock);
  if (!direct_open)
    direct_keyed = FALSE;
  else if (!direct_keyed &&
      !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    direct_keyed = TRUE;
  pass = direct_open && direct_keyed;
  g_mutex_unlock (&lock);
  return pass ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

static GstPadProbeReturn
direct_decoded_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 t = now_us ();
  Unit *unit;

  g_mutex_lock (&lock);
  unit = unit_by (by_out_pts, pts_key (GST_BUFFER_PTS (buffer)));
  if (current && unit && unit->paid_us)
    measure_add (current, unit, t, unit->paid_us, FALSE);
  g_mutex_unlock (&lock);
  return GST_PAD_PROBE_OK;
}

/* Plain WebSocket client: message sizes per unit */

typedef struct
{
  gint fd;
  guint64 other_messages;
  guint64 other_bytes;
  guint64 tcp_bytes;
} WireClient;

static gint
ws_connect (guint port, const gchar * path)
{
  struct sockaddr_in addr = { 0, };
  gint fd = socket (AF_INET, SOCK_STREAM, 0);
  gchar *request;
  gchar reply[4096];
  gsize got = 0;

  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0) {
    close (fd);
    return -1;
  }
  request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", path, port);
  if (write (fd, request, strlen (request)) != (gssize) strlen (request))
    got = sizeof (reply);
  g_free (request);
  /* byte by byte: no frame byte is consumed with the response */
  while (got < sizeof (reply) - 1) {
    if (read (fd, reply + got, 1) != 1)
      break;
    got++;
    reply[got] = '\0';
    if (g_str_has_suffix (reply, "\r\n\r\n"))
      break;
  }
  if (got >= sizeof (reply) || !g_str_has_prefix (reply, "HTTP/1.1 101")) {
    close (fd);
    return -1;
  }
  return fd;
}

static void
wire_message (WireClient * w, const guint8 * payload, gsize len, gsize hlen)
{
  DsHeader header;
  Unit *unit = NULL;

  if (len >= DS_HEADER_SIZE &&
      ds_header_parse (payload, DS_HEADER_SIZE, &header, NULL) &&
      header.type == DS_FRAME_ENCODED_VIDEO) {
    g_mutex_lock (&lock);
    unit = unit_by (by_seq, header.seq);
    if (unit && unit->ws_message_bytes == 0) {
      unit->ws_message_bytes = len;
      unit->ws_header_bytes = hlen;
    }
    g_mutex_unlock (&lock);
  }
  if (unit == NULL) {
    w->other_messages++;
    w->other_bytes += hlen + len;
  }
}

static gpointer
wire_thread (gpointer user_data)
{
  WireClient *w = user_data;
  gsize cap = 1 << 20, len = 0;
  guint8 *buf = g_malloc (cap);

  for (;;) {
    gsize pos = 0;
    gssize got;

    if (cap - len < 65536) {
      cap *= 2;
      buf = g_realloc (buf, cap);
    }
    got = read (w->fd, buf + len, cap - len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    w->tcp_bytes += got;
    len += got;
    for (;;) {
      guint8 *p = buf + pos;
      gsize avail = len - pos;
      guint64 n;
      gsize hlen = 2;

      if (avail < 2)
        break;
      n = p[1] & 0x7f;
      if (n == 126) {
        if (avail < 4)
          break;
        n = GST_READ_UINT16_BE (p + 2);
        hlen = 4;
      } else if (n == 127) {
        if (avail < 10)
          break;
        n = GST_READ_UINT64_BE (p + 2);
        hlen = 10;
      }
      if (avail < hlen + n)
        break;
      if ((p[0] & 0x0f) == 2)
        wire_message (w, p + hlen, n, hlen);
      else {
        w->other_messages++;
        w->other_bytes += hlen + n;
      }
      pos += hlen + n;
    }
    memmove (buf, buf + pos, len - pos);
    len -= pos;
  }
  g_free (buf);
  return NULL;
}

/* Figures */

static gint
compare_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

static gdouble
quantile (GArray * values, gdouble q)
{
  gsize i;

  if (values->len == 0)
    return -1;
  g_array_sort (values, compare_double);
  i = (gsize) (q * (values->len - 1) + 0.5);
  return g_array_index (values, gdouble, i);
}

static void
measure_print (Measure * m, Measure * direct)
{
  gdouble p50 = quantile (m->total_ms, 0.5);
  gdouble p95 = quantile (m->total_ms, 0.95);

  g_print ("%-32s frames=%-4u p50=%6.1f ms  p95=%6.1f ms  max=%6.1f ms  "
      "| encode p50 %5.1f  relay p50 %5.1f p95 %5.1f  decode p50 %5.1f "
      "p95 %5.1f ms", m->name, m->total_ms->len, p50, p95,
      quantile (m->total_ms, 1.0),
      quantile (m->encode_ms, 0.5), quantile (m->relay_ms, 0.5),
      quantile (m->relay_ms, 0.95), quantile (m->decode_ms, 0.5),
      quantile (m->decode_ms, 0.95));
  if (direct && direct->total_ms->len > 0)
    g_print ("  | %.2fx direct's p50, %.2fx its p95",
        p50 / quantile (direct->total_ms, 0.5),
        p95 / quantile (direct->total_ms, 0.95));
  if (m->unmatched)
    g_print ("  (%u decoded frames not matched)", m->unmatched);
  g_print ("\n");
}

static Measure *
measure_new (const gchar * name)
{
  Measure *m = g_new0 (Measure, 1);

  m->name = name;
  m->by_rx_pts = g_hash_table_new (NULL, NULL);
  m->total_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
  m->encode_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
  m->relay_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
  m->decode_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_cond_init (&m->done);
  return m;
}

static GstElement *
launch (const gchar * description)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  if (pipeline == NULL) {
    g_printerr ("bench-encoded: %s: %s\n", description, error->message);
    g_clear_error (&error);
  }
  return pipeline;
}

static void
probe (GstElement * pipeline, const gchar * name, const gchar * pad_name,
    GstPadProbeCallback callback, gpointer user_data)
{
  GstElement *element = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstPad *pad = gst_element_get_static_pad (element, pad_name);

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
    g_printerr ("bench-encoded: %s: %s\n", GST_OBJECT_NAME (msg->src),
        error->message);
    g_clear_error (&error);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return failed;
}

/* Runs one receiver (NULL: the direct branch) until it has its frames or
 * 30 s have passed */
static gboolean
measure_once (Measure * m, const gchar * decoder, guint port,
    GstElement * source)
{
  GstElement *pipeline = NULL;
  gint64 deadline;
  gboolean ok;

  if (decoder) {
    gchar *description = g_strdup_printf ("dsstreamsrc name=src "
        "location=ws://127.0.0.1:%u/stream/latency ! dsdepay ! %s name=dec "
        "! fakesink sync=false", port, decoder);

    pipeline = launch (description);
    g_free (description);
    if (pipeline == NULL)
      return FALSE;
    probe (pipeline, "src", "src", received_probe, m);
    probe (pipeline, "dec", "src", decoded_probe, m);
  }
  g_mutex_lock (&lock);
  m->count_from_us = decoder ? G_MAXINT64 : now_us () + opt_warmup_ms * 1000;
  m->wanted += opt_frames;
  current = m;
  if (!decoder)
    direct_open = TRUE;
  g_mutex_unlock (&lock);
  if (pipeline)
    gst_element_set_state (pipeline, GST_STATE_PLAYING);

  deadline = now_us () + 30 * G_USEC_PER_SEC;
  g_mutex_lock (&lock);
  while (m->total_ms->len < m->wanted &&
      g_cond_wait_until (&m->done, &lock, deadline));
  ok = m->total_ms->len >= m->wanted;
  current = NULL;
  direct_open = FALSE;
  g_mutex_unlock (&lock);
  if (pipeline) {
    ok = !pipeline_failed (pipeline) && ok;
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
    g_hash_table_remove_all (m->by_rx_pts);
  }
  ok = !pipeline_failed (source) && ok;
  if (!ok)
    g_printerr ("bench-encoded: %s: %u of %u frames\n", m->name,
        m->total_ms->len, m->wanted);
  return ok;
}

static void
print_wire (WireClient * w)
{
  GArray *overhead = g_array_new (FALSE, FALSE, sizeof (gdouble));
  guint64 encoded = 0, messages = 0, headers = 0;
  guint i, other = 0;
  gdouble min, max;

  g_mutex_lock (&lock);
  for (i = 0; i < units->len; i++) {
    Unit *u = &g_array_index (units, Unit, i);
    gdouble d;

    if (u->ws_message_bytes == 0 || u->encoded_bytes == 0)
      continue;
    d = (gdouble) u->ws_message_bytes - u->encoded_bytes;
    g_array_append_val (overhead, d);
    encoded += u->encoded_bytes;
    messages += u->ws_message_bytes;
    headers += u->ws_header_bytes;
    if (d != DS_HEADER_SIZE + 2)
      other++;
  }
  g_mutex_unlock (&lock);
  if (overhead->len == 0) {
    g_print ("wire: no unit seen by the WebSocket client\n");
    g_array_unref (overhead);
    return;
  }
  min = quantile (overhead, 0);
  max = quantile (overhead, 1);
  g_print ("wire: %u units, encoder output %" G_GUINT64_FORMAT " bytes, "
      "WebSocket messages %" G_GUINT64_FORMAT " bytes: per unit +%.0f bytes "
      "(min %.0f, max %.0f; %u units not +%d) = %.3f%% of the encoded bytes; "
      "WebSocket framing %.1f bytes a unit; other messages %" G_GUINT64_FORMAT
      " (%" G_GUINT64_FORMAT " bytes); stream %.2f Mbit/s\n", overhead->len,
      encoded, messages, quantile (overhead, 0.5), min, max, other,
      DS_HEADER_SIZE + 2, 100.0 * (messages - encoded) / encoded,
      (gdouble) headers / overhead->len, w->other_messages, w->other_bytes,
      encoded * 8.0 / (overhead->len / 30.0) / 1e6);
  g_array_unref (overhead);
}

static GstElement *
source_new (const gchar * location, gboolean with_direct)
{
  gchar *description;
  GstElement *source;

  description = g_strdup_printf ("videotestsrc is-live=true pattern=smpte "
      "horizontal-speed=4 ! video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=30/1 ! x264enc name=enc tune=zerolatency "
      "speed-preset=ultrafast bitrate=%d key-int-max=60 ! tee name=t "
      "t. ! dspay name=pay ! dsrelaysink async=false location=%s %s", opt_width,
      opt_height, opt_bitrate, location, with_direct ? "t. ! queue "
      "name=gate ! avdec_h264 name=direct ! fakesink sync=false async=false" :
      "");
  source = launch (description);
  g_free (description);
  if (source == NULL)
    return NULL;
  probe (source, "enc", "sink", encoder_in_probe, NULL);
  probe (source, "enc", "src", encoder_out_probe, NULL);
  probe (source, "pay", "src", pay_probe, NULL);
  if (with_direct) {
    probe (source, "gate", "sink", direct_gate_probe, NULL);
    probe (source, "direct", "src", direct_decoded_probe, NULL);
  }
  return source;
}

static gchar *
load_average (void)
{
  gchar *text = NULL;
  gchar **fields;
  gchar *out;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return g_strdup ("?");
  fields = g_strsplit (text, " ", 4);
  out = g_strdup_printf ("%s %s %s", fields[0], fields[1], fields[2]);
  g_strfreev (fields);
  g_free (text);
  return out;
}

static gint
publish (void)
{
  GstElement *source;

  publish_only = TRUE;
  source = source_new (opt_publish, FALSE);
  if (source == NULL)
    return 1;
  gst_element_set_state (source, GST_STATE_PLAYING);
  /* until killed, or an error */
  while (!pipeline_failed (source))
    g_usleep (100 * 1000);
  gst_element_set_state (source, GST_STATE_NULL);
  gst_object_unref (source);
  return 1;
}

gint
main (gint argc, gchar ** argv)
{
  GOptionContext *context = g_option_context_new ("- encoded video latency");
  const gchar *relay_argv[] = { NULL, "--port", "0", NULL };
  GSubprocess *relay;
  GDataInputStream *out;
  GError *error = NULL;
  GstElement *source;
  gchar *line, *location, **decoders, *load;
  Measure *direct, **receivers;
  WireClient wire = { 0, };
  GThread *wire_reader;
  guint port, i, n_decoders;
  gint round;
  gboolean ok = TRUE;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("bench-encoded: %s\n", error->message);
    return 2;
  }
  g_option_context_free (context);
  units = g_array_new (FALSE, TRUE, sizeof (Unit));
  by_ms = g_hash_table_new (NULL, NULL);
  by_out_pts = g_hash_table_new (NULL, NULL);
  by_seq = g_hash_table_new (NULL, NULL);
  if (opt_publish)
    return publish ();

  if (opt_relay == NULL)
    opt_relay = g_strdup (g_getenv ("DS_RELAY"));
  if (opt_relay == NULL) {
    g_printerr ("bench-encoded: no relay (--relay or DS_RELAY)\n");
    return 2;
  }
  decoders = g_strsplit (opt_decoders ? opt_decoders :
      "avdec_h264,openh264dec", ",", 0);
  n_decoders = g_strv_length (decoders);
  receivers = g_new0 (Measure *, n_decoders);
  for (i = 0; i < n_decoders; i++) {
    const gchar *last = strrchr (decoders[i], ' ');
    GstElementFactory *f =
        gst_element_factory_find (last ? last + 1 : decoders[i]);

    if (f == NULL) {
      g_print ("# %s: no such element, skipped\n", decoders[i]);
      continue;
    }
    gst_object_unref (f);
    receivers[i] = measure_new (g_strdup_printf ("relay + %s", decoders[i]));
  }
  direct = measure_new ("direct avdec_h264");

  relay_argv[0] = opt_relay;
  relay = g_subprocess_newv (relay_argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      (g_getenv ("BENCH_RELAY_LOG") ? 0 : G_SUBPROCESS_FLAGS_STDERR_SILENCE),
      &error);
  if (relay == NULL) {
    g_printerr ("bench-encoded: %s: %s\n", opt_relay, error->message);
    return 1;
  }
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (relay));
  line = g_data_input_stream_read_line (out, NULL, NULL, NULL);
  g_object_unref (out);
  if (line == NULL || strrchr (line, ':') == NULL) {
    g_printerr ("bench-encoded: the relay printed no address\n");
    return 1;
  }
  port = atoi (strrchr (line, ':') + 1);
  g_free (line);

  /* the plain client first: it sees every unit */
  wire.fd = ws_connect (port, "/stream/latency");
  if (wire.fd < 0) {
    g_printerr ("bench-encoded: the WebSocket client could not connect\n");
    return 1;
  }
  wire_reader = g_thread_new ("wire", wire_thread, &wire);

  location = g_strdup_printf ("ws://127.0.0.1:%u/peer/latency", port);
  source = source_new (location, TRUE);
  g_free (location);
  if (source == NULL)
    return 1;
  gst_element_set_state (source, GST_STATE_PLAYING);
  load = load_average ();
  g_print ("bench-encoded: %dx%d at 30 fps, x264enc tune=zerolatency "
      "speed-preset=ultrafast bitrate=%d key-int-max=60; %d rounds of %d "
      "frames per receiver; %u cores, load %s\n", opt_width, opt_height,
      opt_bitrate, opt_rounds, opt_frames, g_get_num_processors (), load);
  g_free (load);
  g_usleep (G_USEC_PER_SEC);

  for (round = 0; round < opt_rounds && ok; round++) {
    ok = measure_once (direct, NULL, port, source);
    for (i = 0; i < n_decoders && ok; i++)
      if (receivers[i])
        ok = measure_once (receivers[i], decoders[i], port, source);
  }

  load = load_average ();
  g_print ("load after: %s\n", load);
  g_free (load);
  measure_print (direct, NULL);
  for (i = 0; i < n_decoders; i++)
    if (receivers[i])
      measure_print (receivers[i], direct);

  gst_element_set_state (source, GST_STATE_NULL);
  gst_object_unref (source);
  shutdown (wire.fd, SHUT_RDWR);
  g_thread_join (wire_reader);
  close (wire.fd);
  print_wire (&wire);

  g_subprocess_force_exit (relay);
  g_subprocess_wait (relay, NULL, NULL);
  g_object_unref (relay);
  g_strfreev (decoders);
  g_free (opt_relay);
  return ok ? 0 : 1;
}
