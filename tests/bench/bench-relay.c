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
 * bench-relay: fan-out benchmark of one relay on loopback.
 *
 *   bench-relay --target ds-relay|gst|node --receivers N --size BYTES
 *               [--rate FPS (0 = as fast as possible)] [--seconds S]
 *               [--recording FILE.ds]
 *
 * It starts the relay as a child process, connects N receivers and one
 * publisher, publishes ds-stream frames of BYTES bytes (header included)
 * carrying the send time, and prints one line of figures: deliveries/s,
 * relay CPU per delivered GB and per million deliveries, p50/p99 latency,
 * relay peak RSS, frames dropped.
 *
 * --recording: instead of made-up frames of --size bytes, the frames of a
 * .ds recording (what "... ! dspay ! filesink" writes, e.g. x264enc
 * access units as EncodedVideo), published in a loop at --rate with
 * their seq and timestamp renumbered (the first frame should be a
 * keyframe: the loop starts again there). Their send time is kept per
 * seq, not written into the frame. The line then also gives the
 * delivered Mbit/s and the relay's CPU (% of a core) per delivered
 * Mbit/s (issue 14: fan-out of a 4 Mbit/s H.264 stream).
 *
 * Targets:
 *   ds-relay  $DS_RELAY (WebSocket, /peer/bench and /stream/bench)
 *   node      node tests/bench/node/relay.js (npm "ws" broadcast relay)
 *   gst       this program in --serve-gst mode: frames read from the
 *             publisher's TCP connection go through
 *             "appsrc ! gdppay ! tcpserversink"; receivers read GDP packets
 *             (what "tcpclientsrc ! gdpdepay" parses).
 *
 * Receivers run in one thread (epoll); the publisher in another. Latency
 * is CLOCK_MONOTONIC at receipt minus the time written into the frame.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>

#include <ds/dsprotocol.h>

#include "bench-net.h"

#define GDP_HEADER 62

typedef enum
{
  TARGET_DS_RELAY,
  TARGET_NODE,
  TARGET_GST,
} Target;

static gchar *opt_target = NULL;
static gint opt_receivers = 1;
static gint opt_size = 64;
static gdouble opt_rate = 0;
static gdouble opt_seconds = 3;
static gint opt_serve_gst = 0;
static gint opt_serve_gst_out = 0;
static gchar *opt_max_queue = NULL;
static gboolean opt_signal = FALSE;
static gchar *opt_recording = NULL;

/* --recording: the frames, and the send time of each seq */
static GPtrArray *recording;
static guint64 send_ns_by_seq[65536];

static GOptionEntry entries[] = {
  {"target", 0, 0, G_OPTION_ARG_STRING, &opt_target,
      "ds-relay, node or gst", "NAME"},
  {"receivers", 'n', 0, G_OPTION_ARG_INT, &opt_receivers,
      "Number of receivers", "N"},
  {"size", 's', 0, G_OPTION_ARG_INT, &opt_size,
      "Frame size in bytes, 16-byte header included (min 32)", "BYTES"},
  {"rate", 'r', 0, G_OPTION_ARG_DOUBLE, &opt_rate,
      "Frames per second (0 = as fast as possible)", "FPS"},
  {"seconds", 't', 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
      "How long to publish", "S"},
  {"signal", 0, 0, G_OPTION_ARG_NONE, &opt_signal,
      "Publish SignalDiff frames ({\"t\":...} JSON, merged by ds-relay) "
        "instead of opaque NeuralFrames", NULL},
  {"recording", 0, 0, G_OPTION_ARG_FILENAME, &opt_recording,
        "Publish the frames of this .ds recording in a loop (needs --rate)",
      "FILE"},
  {"max-queue-bytes", 0, 0, G_OPTION_ARG_STRING, &opt_max_queue,
      "Passed to ds-relay", "BYTES"},
  {"serve-gst", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_serve_gst,
      NULL, NULL},
  {"serve-gst-out", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT,
      &opt_serve_gst_out, NULL, NULL},
  {NULL}
};

/* Receivers */

typedef struct
{
  gint fd;
  guint8 *buf;
  gsize len;
  gsize cap;
  guint64 frames;
} Receiver;

typedef struct
{
  Target target;
  Receiver *receivers;
  guint n;
  volatile gint stop;
  guint64 frames;
  guint64 bytes;
  guint32 *latencies_us;        /* sampled */
  gsize n_latencies;
  gsize cap_latencies;
  guint64 sample_every;
  guint64 sample_counter;
} ReceiverSet;

static void
record_latency (ReceiverSet * set, const guint8 * frame, gsize len)
{
  guint64 sent, now;

  if (recording && len >= DS_HEADER_SIZE) {
    sent = send_ns_by_seq[GST_READ_UINT16_LE (frame + 2)];
    if (sent == 0)
      return;
    goto have_sent;
  }
  if (len < DS_HEADER_SIZE + 8)
    return;
  if (set->sample_counter++ % set->sample_every != 0)
    return;
  if (frame[0] == DS_FRAME_SIGNAL_DIFF)
    sent = g_ascii_strtoull ((const gchar *) frame + DS_HEADER_SIZE + 6, NULL,
        10);
  else
    memcpy (&sent, frame + DS_HEADER_SIZE, 8);
have_sent:
  now = bench_now_ns ();
  if (set->n_latencies == set->cap_latencies) {
    set->cap_latencies = set->cap_latencies ? set->cap_latencies * 2 : 65536;
    set->latencies_us = g_realloc_n (set->latencies_us, set->cap_latencies,
        sizeof (guint32));
  }
  set->latencies_us[set->n_latencies++] =
      (guint32) MIN ((now - sent) / 1000, G_MAXUINT32);
}

/* Parses complete messages at the start of r->buf */
static void
receiver_parse (ReceiverSet * set, Receiver * r)
{
  gsize pos = 0;

  for (;;) {
    guint8 *p = r->buf + pos;
    gsize avail = r->len - pos;
    guint64 len;
    gsize hlen;

    if (set->target == TARGET_GST) {
      guint type;

      if (avail < GDP_HEADER)
        break;
      type = GST_READ_UINT16_BE (p + 4);
      len = GST_READ_UINT32_BE (p + 6);
      hlen = GDP_HEADER;
      if (avail < hlen + len)
        break;
      if (type == 1) {
        r->frames++;
        set->frames++;
        set->bytes += len;
        record_latency (set, p + hlen, len);
      }
    } else {
      guint8 opcode;

      if (!bench_ws_parse (p, avail, &opcode, &hlen, &len))
        break;
      if (opcode == 2) {
        r->frames++;
        set->frames++;
        set->bytes += len;
        record_latency (set, p + hlen, len);
      }
    }
    pos += hlen + len;
  }
  if (pos > 0) {
    memmove (r->buf, r->buf + pos, r->len - pos);
    r->len -= pos;
  }
}

static gpointer
receivers_thread (gpointer user_data)
{
  ReceiverSet *set = user_data;
  gint ep = epoll_create1 (0);
  struct epoll_event events[64];
  guint i;

  for (i = 0; i < set->n; i++) {
    struct epoll_event ev = { 0, };

    ev.events = EPOLLIN;
    ev.data.ptr = &set->receivers[i];
    fcntl (set->receivers[i].fd, F_SETFL, O_NONBLOCK);
    epoll_ctl (ep, EPOLL_CTL_ADD, set->receivers[i].fd, &ev);
  }
  while (!g_atomic_int_get (&set->stop)) {
    gint n = epoll_wait (ep, events, G_N_ELEMENTS (events), 50);
    gint e;

    for (e = 0; e < n; e++) {
      Receiver *r = events[e].data.ptr;

      for (;;) {
        gssize got;

        if (r->cap - r->len < 65536) {
          r->cap = MAX (r->cap * 2, r->len + 65536);
          r->buf = g_realloc (r->buf, r->cap);
        }
        got = read (r->fd, r->buf + r->len, r->cap - r->len);
        if (got <= 0)
          break;
        r->len += got;
        receiver_parse (set, r);
        if ((gsize) got < 65536)
          break;
      }
    }
  }
  close (ep);
  return NULL;
}

/* The relay process */

static gchar *
read_first_line (GSubprocess * process)
{
  GDataInputStream *in =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  gchar *line = g_data_input_stream_read_line (in, NULL, NULL, NULL);

  g_object_unref (in);
  return line;
}

/* The frames of a .ds recording (concatenated frames), as GBytes */
static GPtrArray *
load_recording (const gchar * path)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  GError *error = NULL;
  gchar *data;
  gsize len, pos = 0;

  if (!g_file_get_contents (path, &data, &len, &error)) {
    g_printerr ("bench: %s\n", error->message);
    g_clear_error (&error);
    g_ptr_array_unref (frames);
    return NULL;
  }
  while (len - pos >= DS_HEADER_SIZE) {
    DsHeader h;

    if (!ds_header_parse ((const guint8 *) data + pos, DS_HEADER_SIZE, &h,
            NULL) || h.payload_len > len - pos - DS_HEADER_SIZE)
      break;
    /* not the End frame dspay writes at EOS: the loop goes on */
    if (h.type != DS_FRAME_END)
      g_ptr_array_add (frames, g_bytes_new (data + pos,
              DS_HEADER_SIZE + h.payload_len));
    pos += DS_HEADER_SIZE + h.payload_len;
  }
  g_free (data);
  if (frames->len == 0 || pos != len) {
    g_printerr ("bench: %s: not a whole .ds recording (%u frames, %"
        G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes)\n", path, frames->len,
        pos, len);
    g_ptr_array_unref (frames);
    return NULL;
  }
  return frames;
}

/* Writes frame number @n of the recording as one WebSocket message */
static gboolean
publish_recorded (gint fd, guint64 n)
{
  GBytes *bytes = g_ptr_array_index (recording, n % recording->len);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  guint8 *message = g_malloc (14 + len);
  gsize hlen = bench_ws_client_header (message, len);
  gboolean ok;

  memcpy (message + hlen, data, len);
  GST_WRITE_UINT16_LE (message + hlen + 2, (guint16) n);
  GST_WRITE_UINT32_LE (message + hlen + 4, (guint32) (n * 1000 / opt_rate));
  send_ns_by_seq[(guint16) n] = bench_now_ns ();
  ok = bench_write_all (fd, message, hlen + len);
  g_free (message);
  return ok;
}

/* --serve-gst: the tcpserversink "relay" */

static int
serve_gst (void)
{
  GstElement *pipeline;
  GstElement *appsrc, *sink;
  GSocketListener *listener = g_socket_listener_new ();
  GSocketConnection *conn;
  GInputStream *in;
  guint16 port;
  guint8 header[DS_HEADER_SIZE];
  GError *error = NULL;
  GstCaps *caps;

  pipeline = gst_parse_launch ("appsrc name=src is-live=true format=bytes "
      "block=true max-bytes=67108864 ! gdppay ! tcpserversink name=sink "
      "host=127.0.0.1 port=0 sync=false async=false", &error);
  if (pipeline == NULL) {
    g_printerr ("bench: %s\n", error->message);
    return 1;
  }
  appsrc = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  caps = gst_caps_new_empty_simple ("application/x-ds-stream");
  g_object_set (appsrc, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE);
  {
    gint bound = 0;

    g_object_get (sink, "current-port", &bound, NULL);
    port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
    printf ("listening %d %u\n", bound, port);
    fflush (stdout);
  }
  conn = g_socket_listener_accept (listener, NULL, NULL, &error);
  if (conn == NULL)
    return 1;
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  for (;;) {
    DsHeader h;
    GstBuffer *buffer;
    GstMapInfo map;
    gsize got;

    if (!g_input_stream_read_all (in, header, DS_HEADER_SIZE, &got, NULL,
            NULL) || got != DS_HEADER_SIZE)
      break;
    ds_header_parse (header, DS_HEADER_SIZE, &h, NULL);
    buffer = gst_buffer_new_allocate (NULL, DS_HEADER_SIZE + h.payload_len,
        NULL);
    gst_buffer_map (buffer, &map, GST_MAP_WRITE);
    memcpy (map.data, header, DS_HEADER_SIZE);
    if (!g_input_stream_read_all (in, map.data + DS_HEADER_SIZE,
            h.payload_len, &got, NULL, NULL) || got != h.payload_len) {
      gst_buffer_unmap (buffer, &map);
      gst_buffer_unref (buffer);
      break;
    }
    gst_buffer_unmap (buffer, &map);
    if (gst_app_src_push_buffer (GST_APP_SRC (appsrc), buffer) != GST_FLOW_OK)
      break;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (appsrc);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return 0;
}

int
main (int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  Target target;
  GSubprocess *relay;
  GPtrArray *args;
  gchar *line;
  guint port = 0, pub_port = 0;
  GPid pid;
  ReceiverSet set = { 0, };
  GThread *thread;
  gint pub;
  guint8 *frame, *batch;
  gsize frame_len, ws_hlen, unit, batch_frames, batch_len;
  guint64 sent = 0, t_start, t_end, t_pub_end, cpu0, cpu1;
  gsize rss_max = 0;
  guint i;
  const gchar *relay_path = g_getenv ("DS_RELAY");
  const gchar *source_root = g_getenv ("DS_SOURCE_ROOT");

  context = g_option_context_new ("- ds-stream relay fan-out benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("bench: %s\n", error->message);
    return 2;
  }
  g_option_context_free (context);

  if (opt_serve_gst)
    return serve_gst ();

  if (g_strcmp0 (opt_target, "ds-relay") == 0)
    target = TARGET_DS_RELAY;
  else if (g_strcmp0 (opt_target, "node") == 0)
    target = TARGET_NODE;
  else if (g_strcmp0 (opt_target, "gst") == 0)
    target = TARGET_GST;
  else {
    g_printerr ("bench: --target ds-relay|node|gst\n");
    return 2;
  }
  if (opt_recording) {
    if (opt_rate <= 0) {
      g_printerr ("bench: --recording needs --rate\n");
      return 2;
    }
    recording = load_recording (opt_recording);
    if (recording == NULL)
      return 1;
  }
  if (opt_size < 32 || opt_receivers < 1) {
    g_printerr ("bench: --size >= 32, --receivers >= 1\n");
    return 2;
  }
  signal (SIGPIPE, SIG_IGN);

  /* start the relay */
  args = g_ptr_array_new_with_free_func (g_free);
  switch (target) {
    case TARGET_DS_RELAY:
      g_ptr_array_add (args, g_strdup (relay_path ? relay_path :
              "relay/ds-relay"));
      g_ptr_array_add (args, g_strdup ("--port"));
      g_ptr_array_add (args, g_strdup ("0"));
      g_ptr_array_add (args, g_strdup ("--max-queue-bytes"));
      g_ptr_array_add (args, g_strdup (opt_max_queue ? opt_max_queue :
              "67108864"));
      g_ptr_array_add (args, g_strdup ("--max-clients"));
      g_ptr_array_add (args, g_strdup ("0"));
      /* every receiver comes from 127.0.0.1 */
      g_ptr_array_add (args, g_strdup ("--max-clients-per-address"));
      g_ptr_array_add (args, g_strdup ("0"));
      break;
    case TARGET_NODE:
      g_ptr_array_add (args, g_strdup ("node"));
      g_ptr_array_add (args, g_build_filename (source_root ? source_root :
              ".", "tests", "bench", "node", "relay.js", NULL));
      g_ptr_array_add (args, g_strdup ("0"));
      break;
    case TARGET_GST:
      g_ptr_array_add (args, g_strdup (argv[0]));
      g_ptr_array_add (args, g_strdup ("--serve-gst=1"));
      break;
  }
  g_ptr_array_add (args, NULL);
  relay = g_subprocess_newv ((const gchar * const *) args->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | (g_getenv ("BENCH_RELAY_LOG") ? 0 :
          G_SUBPROCESS_FLAGS_STDERR_SILENCE), &error);
  g_ptr_array_unref (args);
  if (relay == NULL) {
    g_printerr ("bench: cannot start the relay: %s\n", error->message);
    return 1;
  }
  pid = atoi (g_subprocess_get_identifier (relay));
  line = read_first_line (relay);
  if (line == NULL) {
    g_printerr ("bench: the relay printed nothing\n");
    return 1;
  }
  if (target == TARGET_DS_RELAY)
    port = atoi (strrchr (line, ':') + 1);
  else if (target == TARGET_NODE)
    port = atoi (line + strlen ("listening "));
  else
    sscanf (line, "listening %u %u", &port, &pub_port);
  g_free (line);

  /* receivers, then the publisher */
  set.target = target;
  set.n = opt_receivers;
  set.receivers = g_new0 (Receiver, set.n);
  set.sample_every = 1;
  for (i = 0; i < set.n; i++) {
    gint fd = target == TARGET_GST ? bench_tcp_connect (port) :
        bench_ws_connect (port, "/stream/bench");

    if (fd < 0) {
      g_printerr ("bench: receiver %u could not connect\n", i);
      return 1;
    }
    set.receivers[i].fd = fd;
  }
  if (target == TARGET_GST)
    pub = bench_tcp_connect (pub_port);
  else
    pub = bench_ws_connect (port, "/peer/bench");
  if (pub < 0) {
    g_printerr ("bench: publisher could not connect\n");
    return 1;
  }
  /* give every receiver time to be registered */
  g_usleep (300 * 1000);
  {
    /* a ds-relay source gets ReceiverCount frames: drain them */
    guint8 junk[4096];

    fcntl (pub, F_SETFL, O_NONBLOCK);
    while (read (pub, junk, sizeof (junk)) > 0);
    fcntl (pub, F_SETFL, 0);
  }

  /* the frame: a NeuralFrame (opaque, like the 64-byte signal case needs
   * no JSON parsing) for small sizes, a Pixels keyframe for large ones */
  frame_len = opt_size;
  ws_hlen = target == TARGET_GST ? 0 : bench_ws_client_header (g_alloca (14),
      frame_len);
  unit = ws_hlen + frame_len;
  batch_frames = opt_rate > 0 ? 1 : MAX (1, 65536 / unit);
  batch_len = unit * batch_frames;
  batch = g_malloc0 (batch_len);
  frame = g_malloc0 (frame_len);
  {
    DsHeader h = { 0, };

    h.type = opt_signal ? DS_FRAME_SIGNAL_DIFF : DS_FRAME_NEURAL_FRAME;
    h.payload_len = frame_len - DS_HEADER_SIZE;
    ds_header_pack (&h, frame);
    if (opt_signal) {
      /* {"t":"00000000000000000000","p":"xx...x"}: the send time in
       * nanoseconds, padded to the frame size */
      gsize pad = h.payload_len - 35;

      if (h.payload_len < 35) {
        g_printerr ("bench: --signal needs --size >= 51\n");
        return 2;
      }
      memcpy (frame + DS_HEADER_SIZE,
          "{\"t\":\"00000000000000000000\",\"p\":\"", 33);
      memset (frame + DS_HEADER_SIZE + 33, 'x', pad);
      memcpy (frame + DS_HEADER_SIZE + 33 + pad, "\"}", 2);
    }
  }
  for (i = 0; i < batch_frames; i++) {
    if (ws_hlen)
      bench_ws_client_header (batch + i * unit, frame_len);
    memcpy (batch + i * unit + ws_hlen, frame, frame_len);
  }
  if (opt_rate == 0 && opt_size <= 4096)
    set.sample_every = 97;      /* keep the latency sample small */

  thread = g_thread_new ("receivers", receivers_thread, &set);
  cpu0 = bench_proc_cpu_ticks (pid);
  t_start = bench_now_ns ();
  t_pub_end = t_start + (guint64) (opt_seconds * 1e9);
  while (bench_now_ns () < t_pub_end) {
    guint64 now = bench_now_ns ();

    if (recording) {
      if (!publish_recorded (pub, sent)) {
        g_printerr ("bench: publisher write failed\n");
        break;
      }
      sent++;
      goto paced;
    }
    for (i = 0; i < batch_frames; i++) {
      guint8 *f = batch + i * unit + ws_hlen;

      if (opt_signal) {
        gchar digits[21];

        g_snprintf (digits, sizeof (digits), "%020" G_GUINT64_FORMAT, now);
        memcpy (f + DS_HEADER_SIZE + 6, digits, 20);
      } else {
        memcpy (f + DS_HEADER_SIZE, &now, 8);
      }
      GST_WRITE_UINT16_LE (f + 2, (guint16) (sent + i));
    }
    if (!bench_write_all (pub, batch, batch_len)) {
      g_printerr ("bench: publisher write failed\n");
      break;
    }
    sent += batch_frames;
  paced:
    if (opt_rate > 0) {
      guint64 next = t_start + (guint64) (sent * 1e9 / opt_rate);
      guint64 t = bench_now_ns ();

      if (next > t)
        g_usleep ((next - t) / 1000);
    }
    if (sent % 64 == 0)
      rss_max = MAX (rss_max, bench_proc_status_kb (pid, "VmRSS:"));
  }
  /* let the relay drain (bounded) */
  {
    guint64 expect = sent * set.n;
    guint64 deadline = bench_now_ns () + 3 * G_GUINT64_CONSTANT (1000000000);
    guint64 last = 0, stable_since = bench_now_ns ();

    while (bench_now_ns () < deadline && g_atomic_int_get (&set.stop) == 0) {
      guint64 got = set.frames;

      rss_max = MAX (rss_max, bench_proc_status_kb (pid, "VmRSS:"));
      if (got >= expect)
        break;
      if (got != last) {
        last = got;
        stable_since = bench_now_ns ();
      } else if (bench_now_ns () - stable_since > 500 * 1000000ULL) {
        break;
      }
      g_usleep (2000);
    }
  }
  t_end = bench_now_ns ();
  cpu1 = bench_proc_cpu_ticks (pid);
  rss_max = MAX (rss_max, bench_proc_status_kb (pid, "VmRSS:"));
  g_atomic_int_set (&set.stop, 1);
  g_thread_join (thread);

  {
    gdouble secs = (t_end - t_start) / 1e9;
    gdouble cpu_s = (gdouble) (cpu1 - cpu0) / sysconf (_SC_CLK_TCK);
    gdouble gb = set.bytes / 1e9;
    guint64 expect = sent * set.n;
    guint32 p50 = 0, p99 = 0;

    if (set.n_latencies > 0) {
      qsort (set.latencies_us, set.n_latencies, sizeof (guint32),
          bench_compare_u32);
      p50 = set.latencies_us[set.n_latencies / 2];
      p99 = set.latencies_us[(gsize) (set.n_latencies * 0.99)];
    }
    printf ("%-8s%s n=%-3d size=%-8d rate=%-5.0f sent=%-8" G_GUINT64_FORMAT
        " delivered=%-9" G_GUINT64_FORMAT " lost=%-8" G_GUINT64_FORMAT
        " deliveries/s=%-10.0f MB/s=%-8.1f cpu=%.2fs (%.0f%% of a core) "
        "cpu/GB=%.2fs cpu/Mdeliv=%.2fs p50=%.2fms p99=%.2fms rss=%.1fMB\n",
        opt_target, opt_signal ? "(json)" : "", opt_receivers, opt_size,
        opt_rate, sent, set.frames,
        expect > set.frames ? expect - set.frames : 0, set.frames / secs,
        set.bytes / secs / 1e6, cpu_s, 100.0 * cpu_s / secs,
        gb > 0 ? cpu_s / gb : 0, set.frames ? cpu_s / (set.frames / 1e6) : 0,
        p50 / 1000.0, p99 / 1000.0, rss_max / 1024.0);
    if (recording) {
      gsize bytes = 0;

      for (i = 0; i < recording->len; i++)
        bytes += g_bytes_get_size (g_ptr_array_index (recording, i));
      /* % of a core per delivered Mbit/s: the window cancels out */
      printf ("%-8s n=%-3d recording: %u frames, stream %.2f Mbit/s; "
          "delivered %.1f Mbit/s; relay %.1f%% of a core; "
          "cpu%%/Mbit/s=%.4f\n", opt_target, opt_receivers, recording->len,
          bytes * 8.0 * opt_rate / recording->len / 1e6,
          set.bytes * 8.0 / secs / 1e6, 100.0 * cpu_s / secs,
          set.bytes ? 100.0 * cpu_s / (set.bytes * 8.0 / 1e6) : 0);
    }
  }

  close (pub);
  for (i = 0; i < set.n; i++) {
    close (set.receivers[i].fd);
    g_free (set.receivers[i].buf);
  }
  g_subprocess_send_signal (relay, SIGTERM);
  g_subprocess_wait (relay, NULL, NULL);
  g_object_unref (relay);
  g_free (set.receivers);
  g_free (set.latencies_us);
  g_free (batch);
  g_free (frame);
  return 0;
}
