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
 * bench-cluster: ds-relay --cluster on loopback (issue 15 targets).
 *
 *   bench-cluster [--relay PATH] [--nats-server PATH]
 *                 [--parts latency,bytes,fanout] [--rounds 3] ...
 *
 * It starts nats-server (one, -a 127.0.0.1, with its monitoring port for
 * /varz) and ds-relay nodes with --cluster, all as child processes, and
 * plays the source and the receivers itself: plain WebSocket clients,
 * the receivers on one epoll thread (bench-net.c), so that one clock
 * times every arrival. Three parts, each printed as a table:
 *
 * latency  One source on node A, one receiver on A (the origin) and one
 *          on node B; per frame the added latency is its arrival at B's
 *          receiver minus its arrival at A's. (a) SignalDiff frames of
 *          --small-size bytes at 1000/s (each node parses and merges
 *          them), (b) Pixels keyframes of 512x512 RGBA (1 MiB + 16
 *          bytes, 3 NATS messages) at 30/s, (c) the small frames at 30/s,
 *          --latency-seconds each. Also the source-to-receiver latency on
 *          A, and after each case its NATS floor: the same bytes between
 *          two libnats clients of this process through the same server.
 * bytes    Per-channel bytes the origin published to NATS
 *          (ds_relay_cluster_channel_bytes_published_total on its
 *          /metrics) for a fixed number of frames with 0, 1 and 2 other
 *          nodes watching, against frame bytes + 32 per chunk, and what
 *          nats-server counted in and out (/varz, heartbeats included).
 * fanout   --fanout-receivers receivers on each of 3 nodes (source on the
 *          first) against one ds-relay without --cluster with 3 times
 *          as many and 3 ds-relays without --cluster (a source connection
 *          to each), the same stream (NeuralFrames of --fanout-size bytes
 *          at --fanout-rate/s for --fanout-seconds), interleaved, --rounds
 *          times: relay CPU (utime+stime from /proc/PID/stat, all relay
 *          processes) per delivery counted at the receivers; nats-server's
 *          CPU and the receiver thread's apart.
 *
 * Exit 77 (SKIP) when nats-server is not found.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <gio/gio.h>
#include <gst/gst.h>

#include <ds/dsprotocol.h>
#include <nats/nats.h>

#include "../check/ds-test-relay.h"
#include "bench-net.h"

#define MAX_NODES 3
/* the relay's chunk (docs/cluster.md): 512 KiB, header included */
#define CLUSTER_HEADER 32
#define CLUSTER_CHUNK (512 * 1024)
#define PIXELS_SIDE 512

static gchar *opt_relay;
static gchar *opt_nats;
static gchar *opt_parts;
static gint opt_rounds = 3;
static gdouble opt_latency_seconds = 10;
static gint opt_small_size = 128;
static gint opt_bytes_frames_small = 1000;
static gint opt_bytes_frames_big = 30;
static gint opt_fanout_receivers = 300;
static gint opt_fanout_size = 8192;
static gdouble opt_fanout_rate = 30;
static gdouble opt_fanout_seconds = 10;
static gboolean opt_verbose;

static GOptionEntry entries[] = {
  {"relay", 0, 0, G_OPTION_ARG_FILENAME, &opt_relay,
      "ds-relay to run (default $DS_RELAY)", "PATH"},
  {"nats-server", 0, 0, G_OPTION_ARG_FILENAME, &opt_nats,
      "nats-server to run (default $NATS_SERVER, /usr/sbin/nats-server, "
        "then $PATH)", "PATH"},
  {"parts", 0, 0, G_OPTION_ARG_STRING, &opt_parts,
      "Comma-separated: latency, bytes, fanout (default all)", "LIST"},
  {"rounds", 0, 0, G_OPTION_ARG_INT, &opt_rounds,
      "Fan-out: single and cluster runs each (interleaved; default 3)", "N"},
  {"latency-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_latency_seconds,
      "Latency: seconds per case (default 10)", "S"},
  {"small-size", 0, 0, G_OPTION_ARG_INT, &opt_small_size,
      "Latency and bytes: SignalDiff frame size, header included "
        "(default 128, at least 64)", "BYTES"},
  {"bytes-frames", 0, 0, G_OPTION_ARG_INT, &opt_bytes_frames_small,
      "Bytes: small frames per step (default 1000; 30 of 1 MiB)", "N"},
  {"fanout-receivers", 0, 0, G_OPTION_ARG_INT, &opt_fanout_receivers,
      "Fan-out: receivers per cluster node (default 300; the single node "
        "gets 3 times as many)", "N"},
  {"fanout-size", 0, 0, G_OPTION_ARG_INT, &opt_fanout_size,
      "Fan-out: frame size, header included (default 8192)", "BYTES"},
  {"fanout-rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt_fanout_rate,
      "Fan-out: frames per second (default 30)", "FPS"},
  {"fanout-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_fanout_seconds,
      "Fan-out: measured seconds per run (default 10)", "S"},
  {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "Say what is being done", NULL},
  {NULL}
};

#define note(...) G_STMT_START {                        \
  if (opt_verbose) {                                    \
    g_printerr ("# " __VA_ARGS__);                      \
    g_printerr ("\n");                                  \
  }                                                     \
} G_STMT_END

static const gchar *
load_average (void)
{
  static gchar text[64];
  gchar *contents = NULL;

  text[0] = '\0';
  if (g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL)) {
    gchar **f = g_strsplit (contents, " ", 4);

    if (g_strv_length (f) >= 3)
      g_snprintf (text, sizeof (text), "%s %s %s", f[0], f[1], f[2]);
    g_strfreev (f);
  }
  g_free (contents);
  return text;
}

/* Frames: the index of each frame sits in its payload */

typedef enum
{
  KIND_SIGNAL,                  /* SignalDiff {"i":"<12 digits>","p":"xx…"} */
  KIND_PIXELS,                  /* Pixels 512x512 keyframe, u64 LE index */
  KIND_NEURAL,                  /* NeuralFrame, u64 LE index */
} FrameKind;

static guint8
kind_type (FrameKind kind)
{
  switch (kind) {
    case KIND_SIGNAL:
      return DS_FRAME_SIGNAL_DIFF;
    case KIND_PIXELS:
      return DS_FRAME_PIXELS;
    default:
      return DS_FRAME_NEURAL_FRAME;
  }
}

/* A frame of @kind (@size bytes, header included; Pixels: fixed) with
 * its WebSocket client header in front, ready to write */
typedef struct
{
  FrameKind kind;
  guint8 *data;
  gsize len;                    /* WebSocket header + frame */
  gsize ws_len;
  gsize frame_len;
} Frame;

static void
frame_init (Frame * f, FrameKind kind, gsize size)
{
  DsHeader h = { 0, };
  guint8 *p;

  if (kind == KIND_PIXELS)
    size = DS_HEADER_SIZE + PIXELS_SIDE * PIXELS_SIDE * 4;
  f->kind = kind;
  f->frame_len = size;
  f->data = g_malloc0 (14 + size);
  f->ws_len = bench_ws_client_header (f->data, size);
  f->len = f->ws_len + size;
  p = f->data + f->ws_len;
  h.type = kind_type (kind);
  h.payload_len = size - DS_HEADER_SIZE;
  if (kind == KIND_PIXELS) {
    h.flags = DS_FLAG_KEYFRAME;
    h.width = h.height = PIXELS_SIDE;
  }
  ds_header_pack (&h, p);
  if (kind == KIND_SIGNAL) {
    gsize pad = h.payload_len - 27;

    memcpy (p + DS_HEADER_SIZE, "{\"i\":\"000000000000\",\"p\":\"", 25);
    memset (p + DS_HEADER_SIZE + 25, 'x', pad);
    memcpy (p + DS_HEADER_SIZE + 25 + pad, "\"}", 2);
  }
}

static void
frame_set_index (Frame * f, guint64 index, gdouble rate)
{
  guint8 *p = f->data + f->ws_len;

  GST_WRITE_UINT16_LE (p + 2, (guint16) index);
  GST_WRITE_UINT32_LE (p + 4, (guint32) (index * 1000 / rate));
  if (f->kind == KIND_SIGNAL) {
    gchar digits[13];

    g_snprintf (digits, sizeof (digits), "%012" G_GUINT64_FORMAT, index);
    memcpy (p + DS_HEADER_SIZE + 6, digits, 12);
  } else {
    GST_WRITE_UINT64_LE (p + DS_HEADER_SIZE, index);
  }
}

/* The index of a received frame of type @type; FALSE if it is another */
static gboolean
frame_index (const guint8 * frame, gsize len, guint8 type, guint64 * index)
{
  guint64 n = 0;
  guint i;

  if (len < DS_HEADER_SIZE + 18 || frame[0] != type || (frame[1] & 1))
    return FALSE;
  if (type != DS_FRAME_SIGNAL_DIFF) {
    *index = GST_READ_UINT64_LE (frame + DS_HEADER_SIZE);
    return TRUE;
  }
  if (memcmp (frame + DS_HEADER_SIZE, "{\"i\":\"", 6) != 0)
    return FALSE;
  for (i = 0; i < 12; i++) {
    guint8 c = frame[DS_HEADER_SIZE + 6 + i];

    if (c < '0' || c > '9')
      return FALSE;
    n = n * 10 + (c - '0');
  }
  *index = n;
  return TRUE;
}

/* Receivers: one epoll thread; what it counts is set by the main thread
 * (receivers_window ()) while no frame of the window is in flight */

typedef struct
{
  gint fd;
  guint node;
  gboolean timed;
  guint8 *buf;
  gsize len;
  gsize cap;
} Receiver;

typedef struct
{
  GThread *thread;
  gint ep;
  gint stop;
  GPtrArray *all;               /* Receiver */
  pid_t tid;

  /* the window: frames of @type with index in [first, end) */
  guint8 type;
  guint64 first;
  guint64 end;
  guint64 *arrival[MAX_NODES];  /* ns, first arrival at a timed receiver */
  guint32 *count;               /* deliveries per frame */
  guint64 *complete;            /* ns when count reached per_frame */
  guint32 per_frame;
  guint64 deliveries[MAX_NODES];
  guint64 other;                /* messages outside the window */
} Receivers;

static void
receivers_message (Receivers * rs, Receiver * r, const guint8 * frame,
    gsize len)
{
  guint64 index, i, now;

  if (!frame_index (frame, len, rs->type, &index) || index < rs->first ||
      index >= rs->end) {
    rs->other++;
    return;
  }
  i = index - rs->first;
  __atomic_add_fetch (&rs->deliveries[r->node], 1, __ATOMIC_RELAXED);
  if (r->timed && rs->arrival[r->node] && rs->arrival[r->node][i] == 0)
    rs->arrival[r->node][i] = bench_now_ns ();
  if (rs->count && ++rs->count[i] == rs->per_frame) {
    now = bench_now_ns ();
    rs->complete[i] = now;
  }
}

static gpointer
receivers_thread (gpointer user_data)
{
  Receivers *rs = user_data;
  struct epoll_event events[64];

  rs->tid = (pid_t) syscall (SYS_gettid);
  while (!g_atomic_int_get (&rs->stop)) {
    gint n = epoll_wait (rs->ep, events, G_N_ELEMENTS (events), 50);
    gint e;

    for (e = 0; e < n; e++) {
      Receiver *r = events[e].data.ptr;

      for (;;) {
        gssize got;
        gsize pos = 0;
        guint8 opcode;
        gsize hlen;
        guint64 plen;

        if (r->cap - r->len < 65536) {
          r->cap = MAX (r->cap * 2, r->len + 65536);
          r->buf = g_realloc (r->buf, r->cap);
        }
        got = read (r->fd, r->buf + r->len, r->cap - r->len);
        if (got <= 0)
          break;
        r->len += got;
        while (bench_ws_parse (r->buf + pos, r->len - pos, &opcode, &hlen,
                &plen)) {
          if (opcode == 2)
            receivers_message (rs, r, r->buf + pos + hlen, plen);
          pos += hlen + plen;
        }
        if (pos > 0) {
          memmove (r->buf, r->buf + pos, r->len - pos);
          r->len -= pos;
        }
        if ((gsize) got < 65536)
          break;
      }
    }
  }
  return NULL;
}

static Receivers *
receivers_new (void)
{
  Receivers *rs = g_new0 (Receivers, 1);

  rs->ep = epoll_create1 (0);
  rs->all = g_ptr_array_new ();
  rs->thread = g_thread_new ("receivers", receivers_thread, rs);
  while (g_atomic_int_get ((gint *) & rs->tid) == 0)
    g_usleep (1000);
  return rs;
}

static void
receivers_clear_window (Receivers * rs)
{
  guint i;

  for (i = 0; i < MAX_NODES; i++)
    g_clear_pointer (&rs->arrival[i], g_free);
  g_clear_pointer (&rs->count, g_free);
  g_clear_pointer (&rs->complete, g_free);
}

/* Counts frames of @kind with index in [@first, @first + @n); @timed:
 * arrival times per node; @per_frame > 0: when each frame reached that
 * many receivers */
static void
receivers_window (Receivers * rs, FrameKind kind, guint64 first, guint64 n,
    gboolean timed, guint32 per_frame)
{
  guint i;

  receivers_clear_window (rs);
  rs->type = kind_type (kind);
  rs->first = first;
  rs->end = first + n;
  for (i = 0; i < MAX_NODES; i++) {
    __atomic_store_n (&rs->deliveries[i], 0, __ATOMIC_RELAXED);
    if (timed)
      rs->arrival[i] = g_new0 (guint64, n);
  }
  if (per_frame) {
    rs->count = g_new0 (guint32, n);
    rs->complete = g_new0 (guint64, n);
    rs->per_frame = per_frame;
  }
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
}

static guint64
receivers_delivered (Receivers * rs, gint node)
{
  guint64 sum = 0;
  guint i;

  if (node >= 0)
    return __atomic_load_n (&rs->deliveries[node], __ATOMIC_RELAXED);
  for (i = 0; i < MAX_NODES; i++)
    sum += __atomic_load_n (&rs->deliveries[i], __ATOMIC_RELAXED);
  return sum;
}

/* Waits until @expect frames of the window were delivered in all, or
 * nothing arrived for 1 s, or @timeout_s passed */
static guint64
receivers_wait (Receivers * rs, guint64 expect, gdouble timeout_s)
{
  guint64 deadline = bench_now_ns () + (guint64) (timeout_s * 1e9);
  guint64 last = 0, since = bench_now_ns (), got;

  while ((got = receivers_delivered (rs, -1)) < expect &&
      bench_now_ns () < deadline) {
    if (got != last) {
      last = got;
      since = bench_now_ns ();
    } else if (bench_now_ns () - since > 1000000000ULL) {
      break;
    }
    g_usleep (2000);
  }
  return got;
}

static gboolean
receivers_add (Receivers * rs, DsTestRelay * relay, const gchar * channel,
    guint node, gboolean timed)
{
  gchar *path = g_strdup_printf ("/stream/%s", channel);
  gint fd = bench_ws_connect (ds_test_relay_get_port (relay), path);
  struct epoll_event ev = { 0, };
  Receiver *r;

  g_free (path);
  if (fd < 0)
    return FALSE;
  r = g_new0 (Receiver, 1);
  r->fd = fd;
  r->node = node;
  r->timed = timed;
  fcntl (fd, F_SETFL, O_NONBLOCK);
  ev.events = EPOLLIN;
  ev.data.ptr = r;
  g_ptr_array_add (rs->all, r);
  epoll_ctl (rs->ep, EPOLL_CTL_ADD, fd, &ev);
  return TRUE;
}

static void
receivers_free (Receivers * rs)
{
  guint i;

  g_atomic_int_set (&rs->stop, 1);
  g_thread_join (rs->thread);
  for (i = 0; i < rs->all->len; i++) {
    Receiver *r = g_ptr_array_index (rs->all, i);

    close (r->fd);
    g_free (r->buf);
    g_free (r);
  }
  g_ptr_array_unref (rs->all);
  receivers_clear_window (rs);
  close (rs->ep);
  g_free (rs);
}

/* The source */

typedef struct
{
  gint fd[MAX_NODES];           /* the same frames to each */
  guint n_fd;
  guint64 *sent_ns;             /* per frame of the last send, from 0 */
} Source;

static Source *
source_connect (DsTestRelay * relay, const gchar * channel)
{
  gchar *path = g_strdup_printf ("/peer/%s", channel);
  gint fd = bench_ws_connect (ds_test_relay_get_port (relay), path);
  Source *s;

  g_free (path);
  if (fd < 0)
    return NULL;
  s = g_new0 (Source, 1);
  s->fd[s->n_fd++] = fd;
  return s;
}

/* Another connection of @s, to @relay: it gets every frame too */
static gboolean
source_add (Source * s, DsTestRelay * relay, const gchar * channel)
{
  gchar *path = g_strdup_printf ("/peer/%s", channel);
  gint fd = bench_ws_connect (ds_test_relay_get_port (relay), path);

  g_free (path);
  if (fd < 0 || s->n_fd == MAX_NODES) {
    if (fd >= 0)
      close (fd);
    return FALSE;
  }
  s->fd[s->n_fd++] = fd;
  return TRUE;
}

static void
source_drain (Source * s)
{
  guint8 junk[4096];
  guint i;

  for (i = 0; i < s->n_fd; i++)
    while (recv (s->fd[i], junk, sizeof (junk), MSG_DONTWAIT) > 0);
}

/* Sends frames @first .. @first + @n - 1 at @rate per second; their send
 * times go to s->sent_ns */
static gboolean
source_send (Source * s, Frame * f, guint64 first, guint64 n, gdouble rate)
{
  guint64 t0 = bench_now_ns ();
  guint64 i;
  guint k;

  g_free (s->sent_ns);
  s->sent_ns = g_new0 (guint64, n);
  for (i = 0; i < n; i++) {
    guint64 next = t0 + (guint64) (i * 1e9 / rate), now = bench_now_ns ();

    if (next > now)
      g_usleep ((next - now) / 1000);
    frame_set_index (f, first + i, rate);
    s->sent_ns[i] = bench_now_ns ();
    for (k = 0; k < s->n_fd; k++)
      if (!bench_write_all (s->fd[k], f->data, f->len)) {
        g_printerr ("bench: the source's write failed\n");
        return FALSE;
      }
    source_drain (s);
  }
  return TRUE;
}

static void
source_free (Source * s)
{
  guint i;

  if (s == NULL)
    return;
  for (i = 0; i < s->n_fd; i++)
    close (s->fd[i]);
  g_free (s->sent_ns);
  g_free (s);
}

/* nats-server */

typedef struct
{
  GSubprocess *process;
  guint port;
  guint monitor_port;
  gchar *url;
} Nats;

static guint
free_port (void)
{
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, 0);
  GSocketAddress *bound;
  guint port = 0;

  if (g_socket_bind (socket, address, TRUE, NULL) &&
      (bound = g_socket_get_local_address (socket, NULL))) {
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    g_object_unref (bound);
  }
  g_object_unref (address);
  g_object_unref (loopback);
  g_object_unref (socket);
  return port;
}

static Nats *
nats_start (void)
{
  Nats *nats = g_new0 (Nats, 1);
  gchar *port, *monitor;
  GError *error = NULL;
  guint64 deadline = bench_now_ns () + 10 * G_GUINT64_CONSTANT (1000000000);
  gint fd = -1;

  nats->port = free_port ();
  nats->monitor_port = free_port ();
  port = g_strdup_printf ("%u", nats->port);
  monitor = g_strdup_printf ("%u", nats->monitor_port);
  nats->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
      G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, opt_nats, "-a", "127.0.0.1",
      "-p", port, "-m", monitor, NULL);
  g_free (port);
  g_free (monitor);
  if (nats->process == NULL) {
    g_printerr ("bench: cannot start %s: %s\n", opt_nats, error->message);
    g_clear_error (&error);
    g_free (nats);
    return NULL;
  }
  while (bench_now_ns () < deadline &&
      (fd = bench_tcp_connect (nats->port)) < 0)
    g_usleep (20000);
  if (fd < 0) {
    g_printerr ("bench: nats-server did not listen on %u\n", nats->port);
    g_subprocess_force_exit (nats->process);
    g_object_unref (nats->process);
    g_free (nats);
    return NULL;
  }
  close (fd);
  nats->url = g_strdup_printf ("nats://127.0.0.1:%u", nats->port);
  return nats;
}

static GPid
nats_pid (Nats * nats)
{
  return atoi (g_subprocess_get_identifier (nats->process));
}

/* A counter of nats-server's /varz ("in_bytes", "out_msgs", …); -1 if
 * unknown */
static gint64
nats_varz (Nats * nats, const gchar * name)
{
  DsTestRelay fake = { 0, };
  gchar *body = NULL, *key = g_strdup_printf ("\"%s\":", name);
  const gchar *p;
  gint64 value = -1;

  fake.port = nats->monitor_port;
  if (ds_test_relay_http_get (&fake, "/varz", &body) == 200 &&
      (p = strstr (body, key)))
    value = g_ascii_strtoll (p + strlen (key), NULL, 10);
  g_free (body);
  g_free (key);
  return value;
}

static void
nats_free (Nats * nats)
{
  if (nats == NULL)
    return;
  g_subprocess_send_signal (nats->process, SIGTERM);
  g_subprocess_wait (nats->process, NULL, NULL);
  g_object_unref (nats->process);
  g_free (nats->url);
  g_free (nats);
}

/* Relays */

static DsTestRelay *
node_start (Nats * nats)
{
  const gchar *args[] = { "--max-clients", "0", "--max-clients-per-address",
    "0", "--keepalive", "0", "--cluster", NULL, NULL
  };
  DsTestRelay *relay;
  gint saved = -1, null;

  if (nats)
    args[7] = nats->url;
  else
    args[6] = NULL;
  /* the relay logs every connection on its stderr (inherited): not
   * unless --verbose */
  if (!opt_verbose && (null = open ("/dev/null", O_WRONLY)) >= 0) {
    fflush (stderr);
    saved = dup (2);
    dup2 (null, 2);
    close (null);
  }
  relay = ds_test_relay_startv (args);
  if (saved >= 0) {
    dup2 (saved, 2);
    close (saved);
  }
  if (relay == NULL)
    g_printerr ("bench: ds-relay %s%s did not start\n", nats ? "--cluster " :
        "", nats ? nats->url : "");
  return relay;
}

static void
nodes_free (DsTestRelay ** nodes, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    if (nodes[i]) {
      ds_test_relay_free (nodes[i]);
      nodes[i] = NULL;
    }
}

/* Starts @n nodes on @nats and waits until each sees the others */
static gboolean
nodes_start (Nats * nats, DsTestRelay ** nodes, guint n)
{
  guint i;

  memset (nodes, 0, n * sizeof (DsTestRelay *));
  for (i = 0; i < n; i++)
    if ((nodes[i] = node_start (nats)) == NULL)
      goto failed;
  for (i = 0; nats && i < n; i++)
    if (ds_test_relay_wait_metric (nodes[i], "ds_relay_cluster_nodes", n - 1,
            10000) != (gint64) n - 1) {
      g_printerr ("bench: node %u does not see the %u others\n", i, n - 1);
      goto failed;
    }
  return TRUE;

failed:
  nodes_free (nodes, n);
  return FALSE;
}

static gint64
channel_metric (DsTestRelay * relay, const gchar * name, const gchar * channel)
{
  gchar *full = g_strdup_printf ("%s{channel=\"%s\"}", name, channel);
  gint64 v = ds_test_relay_metric (relay, full);

  g_free (full);
  return v;
}

static gint64
published (DsTestRelay * origin, const gchar * channel)
{
  gint64 v = channel_metric (origin,
      "ds_relay_cluster_channel_bytes_published_total", channel);

  return MAX (v, 0);
}

/* Waits until @origin counts @n receivers of @channel on other nodes */
static gboolean
wait_remote_receivers (DsTestRelay * origin, const gchar * channel, gint64 n)
{
  guint64 deadline = bench_now_ns () + 10 * G_GUINT64_CONSTANT (1000000000);
  gint64 v;

  while ((v = MAX (0, channel_metric (origin,
                  "ds_relay_cluster_channel_remote_receivers",
                  channel))) != n && bench_now_ns () < deadline)
    g_usleep (10000);
  if (v != n)
    g_printerr ("bench: the origin sees %" G_GINT64_FORMAT " remote "
        "receivers of %s, not %" G_GINT64_FORMAT "\n", v, channel, n);
  return v == n;
}

/* Statistics */

typedef struct
{
  gsize n;
  gdouble p50, p99, max, min;
} Stats;

/* of @n nanosecond values (signed), in ms */
static Stats
stats_ms (gint64 * v, gsize n)
{
  Stats s = { 0, };

  s.n = n;
  if (n == 0)
    return s;
  qsort (v, n, sizeof (gint64), bench_compare_i64);
  s.min = v[0] / 1e6;
  s.p50 = v[n / 2] / 1e6;
  s.p99 = v[MIN (n - 1, (gsize) (n * 0.99))] / 1e6;
  s.max = v[n - 1] / 1e6;
  return s;
}

static gdouble
median (gdouble * v, guint n)
{
  gdouble *c = g_memdup2 (v, n * sizeof (gdouble));
  gdouble m;
  guint i, j;

  for (i = 1; i < n; i++)
    for (j = i; j > 0 && c[j - 1] > c[j]; j--) {
      gdouble t = c[j];

      c[j] = c[j - 1];
      c[j - 1] = t;
    }
  m = n == 0 ? 0 : n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
  g_free (c);
  return m;
}

static gdouble
vmin (gdouble * v, guint n)
{
  gdouble m = n ? v[0] : 0;
  guint i;

  for (i = 1; i < n; i++)
    m = MIN (m, v[i]);
  return m;
}

static gdouble
vmax (gdouble * v, guint n)
{
  gdouble m = n ? v[0] : 0;
  guint i;

  for (i = 1; i < n; i++)
    m = MAX (m, v[i]);
  return m;
}

/* The NATS floor: what the same bytes cost between two libnats clients
 * of this process through the same nats-server, with nothing else; the
 * relay's own hop adds its hand-off to the main loop, the reassembly and
 * the write to its receiver */

typedef struct
{
  guint64 n;
  guint64 *arrival;             /* ns, the last chunk of each frame */
  guint64 got;
} Floor;

static void
floor_message (natsConnection * nc, natsSubscription * sub, natsMsg * msg,
    void *closure)
{
  Floor *fl = closure;
  const guint8 *data = (const guint8 *) natsMsg_GetData (msg);
  gint len = natsMsg_GetDataLength (msg);

  /* [u64 LE index][u16 LE chunk][u16 LE count] */
  if (len >= 12) {
    guint64 index = GST_READ_UINT64_LE (data);
    guint chunk = GST_READ_UINT16_LE (data + 8);
    guint count = GST_READ_UINT16_LE (data + 10);

    if (chunk + 1 == count && index < fl->n && fl->arrival[index] == 0) {
      fl->arrival[index] = bench_now_ns ();
      __atomic_add_fetch (&fl->got, 1, __ATOMIC_RELAXED);
    }
  }
  natsMsg_Destroy (msg);
}

static natsConnection *
floor_connect (Nats * nats)
{
  natsOptions *options = NULL;
  natsConnection *conn = NULL;

  /* as the relay connects (relay-cluster.c) */
  if (natsOptions_Create (&options) != NATS_OK ||
      natsOptions_SetURL (options, nats->url) != NATS_OK ||
      natsOptions_SetSendAsap (options, true) != NATS_OK ||
      natsOptions_UseGlobalMessageDelivery (options, true) != NATS_OK ||
      natsConnection_Connect (&conn, options) != NATS_OK)
    conn = NULL;
  natsOptions_Destroy (options);
  return conn;
}

/* Publishes @n payloads of @size bytes at @rate in 512 KiB messages
 * (32-byte header each, as the relay), one subscriber; the time from the
 * first publish call to the last chunk's delivery, per frame, into @out
 * (ns); returns how many arrived */
static gsize
floor_run (Nats * nats, gsize size, gdouble rate, guint64 n, gint64 * out)
{
  natsConnection *pub = floor_connect (nats), *subc = floor_connect (nats);
  natsSubscription *sub = NULL;
  gsize piece = CLUSTER_CHUNK - CLUSTER_HEADER;
  guint count = (size + piece - 1) / piece;
  guint8 *buf = g_malloc0 (CLUSTER_CHUNK);
  guint64 *sent = g_new0 (guint64, n), t0, i, deadline;
  Floor fl = { 0, };
  gsize got = 0;

  fl.n = n;
  fl.arrival = g_new0 (guint64, n);
  if (pub == NULL || subc == NULL || natsConnection_Subscribe (&sub, subc,
          "floor", floor_message, &fl) != NATS_OK ||
      natsConnection_Flush (subc) != NATS_OK)
    goto done;
  t0 = bench_now_ns ();
  for (i = 0; i < n; i++) {
    guint64 next = t0 + (guint64) (i * 1e9 / rate), now = bench_now_ns ();
    guint c;

    if (next > now)
      g_usleep ((next - now) / 1000);
    sent[i] = bench_now_ns ();
    for (c = 0; c < count; c++) {
      gsize len = MIN (piece, size - c * piece);

      GST_WRITE_UINT64_LE (buf, i);
      GST_WRITE_UINT16_LE (buf + 8, c);
      GST_WRITE_UINT16_LE (buf + 10, count);
      natsConnection_Publish (pub, "floor", buf, (int) (CLUSTER_HEADER + len));
    }
  }
  deadline = bench_now_ns () + 5 * G_GUINT64_CONSTANT (1000000000);
  while (__atomic_load_n (&fl.got, __ATOMIC_RELAXED) < n &&
      bench_now_ns () < deadline)
    g_usleep (2000);
  if (sub)
    natsSubscription_Unsubscribe (sub);
  for (i = 0; i < n; i++)
    if (fl.arrival[i])
      out[got++] = (gint64) (fl.arrival[i] - sent[i]);

done:
  natsSubscription_Destroy (sub);
  if (pub)
    natsConnection_Destroy (pub);
  if (subc)
    natsConnection_Destroy (subc);
  g_free (buf);
  g_free (sent);
  g_free (fl.arrival);
  return got;
}

/* Part 1: hop latency */

static gboolean
latency_case (DsTestRelay ** nodes, Nats * nats, const gchar * channel,
    FrameKind kind, gsize size, gdouble rate)
{
  Receivers *rs = receivers_new ();
  Source *src = NULL;
  Frame f;
  guint64 warm = (guint64) MAX (10, rate / 2);
  guint64 n = (guint64) (rate * opt_latency_seconds), i, got;
  gint64 *added = g_new (gint64, n), *origin = g_new (gint64, n),
      *remote = g_new (gint64, n);
  gsize n_added = 0, n_origin = 0, n_remote = 0;
  gboolean ok = FALSE;
  Stats a, o, r;

  frame_init (&f, kind, size);
  if (!receivers_add (rs, nodes[0], channel, 0, TRUE) ||
      !receivers_add (rs, nodes[1], channel, 1, TRUE) ||
      (src = source_connect (nodes[0], channel)) == NULL ||
      !wait_remote_receivers (nodes[0], channel, 1))
    goto done;
  /* B watches: frames go over NATS from the first one on */
  receivers_window (rs, kind, 0, warm, FALSE, 0);
  if (!source_send (src, &f, 0, warm, rate))
    goto done;
  got = receivers_wait (rs, 2 * warm, 5);
  note ("%s: warm-up %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT, channel,
      got, 2 * warm);
  receivers_window (rs, kind, warm, n, TRUE, 0);
  if (!source_send (src, &f, warm, n, rate))
    goto done;
  got = receivers_wait (rs, 2 * n, 10);
  for (i = 0; i < n; i++) {
    guint64 ta = rs->arrival[0][i], tb = rs->arrival[1][i];

    if (ta && tb)
      added[n_added++] = (gint64) (tb - ta);
    if (ta)
      origin[n_origin++] = (gint64) (ta - src->sent_ns[i]);
    if (tb)
      remote[n_remote++] = (gint64) (tb - src->sent_ns[i]);
  }
  a = stats_ms (added, n_added);
  o = stats_ms (origin, n_origin);
  r = stats_ms (remote, n_remote);
  printf ("| %s | %" G_GSIZE_FORMAT " B x %.0f/s | %" G_GUINT64_FORMAT
      " | %" G_GSIZE_FORMAT " / %" G_GSIZE_FORMAT " | **%.3f** | **%.3f** | "
      "%.3f | %.3f | %.3f / %.3f / %.3f | %.3f / %.3f |\n",
      kind == KIND_SIGNAL ? "SignalDiff" : "Pixels 512x512", f.frame_len, rate,
      n, n_origin, n_remote, a.p50, a.p99, a.max, a.min, o.p50, o.p99, o.max,
      r.p50, r.p99);
  fflush (stdout);
  ok = got == 2 * n;
  if (!ok)
    printf ("# %s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
        " deliveries\n", channel, got, 2 * n);
  /* the floor, right after, with the same frames' bytes */
  n_added = floor_run (nats, f.frame_len, rate, n, added);
  a = stats_ms (added, n_added);
  printf ("| (NATS floor) | %" G_GSIZE_FORMAT " B x %.0f/s | %" G_GUINT64_FORMAT
      " | - / %" G_GSIZE_FORMAT " | %.3f | %.3f | %.3f | %.3f | | |\n",
      f.frame_len, rate, n, n_added, a.p50, a.p99, a.max, a.min);
  fflush (stdout);

done:
  source_free (src);
  receivers_free (rs);
  g_free (f.data);
  g_free (added);
  g_free (origin);
  g_free (remote);
  return ok;
}

static gboolean
part_latency (void)
{
  Nats *nats = nats_start ();
  DsTestRelay *nodes[2];
  gboolean ok;

  if (nats == NULL || !nodes_start (nats, nodes, 2)) {
    nats_free (nats);
    return FALSE;
  }
  printf ("\n## Hop latency: source and receiver on node A (origin), a "
      "receiver on node B; one nats-server; %g s per case; load %s\n\n"
      "added = arrival at B's receiver - arrival at A's (ms); origin = "
      "source write -> A's receiver; remote = source write -> B's "
      "receiver; (NATS floor) = the same bytes at the same rate between "
      "two libnats clients of the bench through the same nats-server, in "
      "512 KiB messages, first publish -> last message delivered\n\n",
      opt_latency_seconds, load_average ());
  printf ("| frames | size x rate | sent | got A / B | added p50 | "
      "added p99 | added max | added min | origin p50 / p99 / max | "
      "remote p50 / p99 |\n|---|---|---|---|---|---|---|---|---|---|\n");
  ok = latency_case (nodes, nats, "lat-small", KIND_SIGNAL, opt_small_size,
      1000);
  ok &= latency_case (nodes, nats, "lat-big", KIND_PIXELS, 0, 30);
  /* not a target: small frames one at a time (nothing to coalesce with) */
  ok &= latency_case (nodes, nats, "lat-sparse", KIND_SIGNAL, opt_small_size,
      30);
  printf ("\ntargets: added p50 <= 1 ms, p99 <= 5 ms\n");
  nodes_free (nodes, 2);
  nats_free (nats);
  return ok;
}

/* Part 2: bytes published per channel */

static gboolean
bytes_case (DsTestRelay ** nodes, Nats * nats, const gchar * channel,
    FrameKind kind, gsize size, guint64 n, gdouble rate)
{
  Receivers *rs = receivers_new ();
  Source *src = NULL;
  Frame f;
  guint64 next = 0;
  gsize piece = CLUSTER_CHUNK - CLUSTER_HEADER, chunks;
  guint64 expected;
  guint watchers;
  gboolean ok = FALSE;

  frame_init (&f, kind, size);
  chunks = (f.frame_len + piece - 1) / piece;
  expected = n * (f.frame_len + CLUSTER_HEADER * chunks);
  if (!receivers_add (rs, nodes[0], channel, 0, FALSE) ||
      (src = source_connect (nodes[0], channel)) == NULL)
    goto done;
  for (watchers = 0; watchers <= 2; watchers++) {
    gint64 pub0, pub1, in0, in1, out0, out1, all0, all1;
    guint64 got, expect;

    if (watchers > 0 && (!receivers_add (rs, nodes[watchers], channel,
                watchers, FALSE) ||
            !wait_remote_receivers (nodes[0], channel, watchers)))
      goto done;
    /* let heartbeats and catch-ups settle */
    g_usleep (500 * 1000);
    receivers_window (rs, kind, next, n, FALSE, 0);
    pub0 = published (nodes[0], channel);
    all0 = ds_test_relay_metric (nodes[0], "ds_relay_cluster_bytes_out_total");
    in0 = nats_varz (nats, "in_bytes");
    out0 = nats_varz (nats, "out_bytes");
    if (!source_send (src, &f, next, n, rate))
      goto done;
    next += n;
    expect = n * (watchers + 1);
    got = receivers_wait (rs, expect, 10);
    pub1 = published (nodes[0], channel);
    all1 = ds_test_relay_metric (nodes[0], "ds_relay_cluster_bytes_out_total");
    in1 = nats_varz (nats, "in_bytes");
    out1 = nats_varz (nats, "out_bytes");
    printf ("| %s | %" G_GUINT64_FORMAT " x %" G_GSIZE_FORMAT " B | %u | "
        "**%" G_GINT64_FORMAT "** | %" G_GUINT64_FORMAT " | %.1f | %"
        G_GINT64_FORMAT " | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT " | %"
        G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT " |\n",
        kind == KIND_SIGNAL ? "SignalDiff" : "Pixels 512x512", n, f.frame_len,
        watchers, pub1 - pub0, watchers ? expected : 0,
        (gdouble) (pub1 - pub0) / n, all1 - all0, in1 - in0, out1 - out0, got,
        expect);
    fflush (stdout);
    if (got != expect)
      goto done;
  }
  ok = TRUE;

done:
  source_free (src);
  receivers_free (rs);
  g_free (f.data);
  return ok;
}

static gboolean
part_bytes (void)
{
  Nats *nats = nats_start ();
  DsTestRelay *nodes[3];
  gboolean ok;

  if (nats == NULL || !nodes_start (nats, nodes, 3)) {
    nats_free (nats);
    return FALSE;
  }
  printf ("\n## Bytes published to NATS per channel by the origin (node A, "
      "source and one receiver there) with 0, 1, 2 other nodes watching; "
      "load %s\n\nexpected = frames x (frame + 32 B per 512 KiB chunk), "
      "once per frame; A's all = ds_relay_cluster_bytes_out_total (its "
      "heartbeats included); nats in/out = /varz in_bytes/out_bytes "
      "(every node's heartbeats included)\n\n", load_average ());
  printf ("| frames | count x size | watching nodes | published (A, channel)"
      " | expected | per frame | A's all | nats in | nats out | delivered "
      "/ expected |\n|---|---|---|---|---|---|---|---|---|---|\n");
  ok = bytes_case (nodes, nats, "bytes-small", KIND_SIGNAL, opt_small_size,
      opt_bytes_frames_small, 1000);
  ok &= bytes_case (nodes, nats, "bytes-big", KIND_PIXELS, 0,
      opt_bytes_frames_big, 30);
  nodes_free (nodes, 3);
  nats_free (nats);
  return ok;
}

/* Part 3: fan-out CPU per delivery */

typedef struct
{
  gdouble relay_us;             /* relay CPU per delivery, µs */
  gdouble relay_nats_us;        /* relays + nats-server */
  gdouble relay_s;
  gdouble nats_s;
  gdouble recv_s;               /* the receiver thread */
  gdouble self_s;               /* this process */
  gdouble window_s;
  gdouble node_s[MAX_NODES];
  guint64 deliveries;
  guint64 expected;
  guint64 switches;             /* relays' context switches */
  gdouble complete_p50, complete_p99;
} FanoutRun;

/* Context switches (voluntary and not) of every thread of process @pid */
static guint64
proc_switches (GPid pid)
{
  gchar *path = g_strdup_printf ("/proc/%d/task", (gint) pid);
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *tid;
  guint64 n = 0;

  while (dir && (tid = g_dir_read_name (dir))) {
    GPid t = atoi (tid);

    /* /proc/TID/status, as for a process */
    n += bench_proc_status_kb (t, "voluntary_ctxt_switches:") +
        bench_proc_status_kb (t, "nonvoluntary_ctxt_switches:");
  }
  if (dir)
    g_dir_close (dir);
  g_free (path);
  return n;
}

static gdouble
ticks_s (guint64 ticks)
{
  return (gdouble) ticks / sysconf (_SC_CLK_TCK);
}

static gdouble
self_cpu_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef enum
{
  MODE_SINGLE,                  /* one ds-relay, no --cluster */
  MODE_CLUSTER,                 /* 3 nodes, --cluster, the source on one */
  MODE_SPLIT,                   /* 3 ds-relays, no --cluster, a source each */
  N_MODES
} FanoutMode;

static const gchar *mode_names[] = { "single", "cluster", "3 alone" };

static gboolean
fanout_run (FanoutMode mode, FanoutRun * run)
{
  gboolean cluster = mode == MODE_CLUSTER;
  Nats *nats = NULL;
  DsTestRelay *nodes[MAX_NODES] = { NULL, };
  guint n_nodes = mode == MODE_SINGLE ? 1 : 3, i, j;
  guint per_node = 3 * opt_fanout_receivers / n_nodes;
  guint total = 3 * opt_fanout_receivers;
  Receivers *rs = NULL;
  Source *src = NULL;
  Frame f;
  guint64 warm = (guint64) opt_fanout_rate;
  guint64 n = (guint64) (opt_fanout_rate * opt_fanout_seconds);
  guint64 cpu0[MAX_NODES], cpu1[MAX_NODES], nats0 = 0, nats1 = 0, recv0, recv1;
  guint64 sw0[MAX_NODES], sw1[MAX_NODES];
  guint64 t0, t1;
  gdouble self0, self1;
  gint64 *complete = NULL;
  gsize n_complete = 0;
  gboolean ok = FALSE;
  gchar *split;
  Stats c;

  memset (run, 0, sizeof (*run));
  frame_init (&f, KIND_NEURAL, opt_fanout_size);
  if (cluster && (nats = nats_start ()) == NULL)
    goto done;
  if (!nodes_start (nats, nodes, n_nodes))
    goto done;
  rs = receivers_new ();
  for (i = 0; i < n_nodes; i++)
    for (j = 0; j < per_node; j++)
      if (!receivers_add (rs, nodes[i], "fan", i, FALSE)) {
        g_printerr ("bench: receiver %u of node %u could not connect\n", j, i);
        goto done;
      }
  if ((src = source_connect (nodes[0], "fan")) == NULL)
    goto done;
  for (i = 1; mode == MODE_SPLIT && i < n_nodes; i++)
    if (!source_add (src, nodes[i], "fan"))
      goto done;
  if (cluster && !wait_remote_receivers (nodes[0], "fan", 2 * per_node))
    goto done;
  /* one second of warm-up frames, every one delivered everywhere */
  receivers_window (rs, KIND_NEURAL, 0, warm, FALSE, 0);
  if (!source_send (src, &f, 0, warm, opt_fanout_rate))
    goto done;
  if (receivers_wait (rs, warm * total, 10) != warm * total) {
    g_printerr ("bench: warm-up: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
        " deliveries\n", receivers_delivered (rs, -1), warm * total);
    goto done;
  }
  receivers_window (rs, KIND_NEURAL, warm, n, FALSE, total);
  for (i = 0; i < n_nodes; i++) {
    sw0[i] = proc_switches (ds_test_relay_get_pid (nodes[i]));
    cpu0[i] = bench_proc_cpu_ticks (ds_test_relay_get_pid (nodes[i]));
  }
  if (nats)
    nats0 = bench_proc_cpu_ticks (nats_pid (nats));
  recv0 = bench_proc_cpu_ticks (rs->tid);
  self0 = self_cpu_s ();
  t0 = bench_now_ns ();
  if (!source_send (src, &f, warm, n, opt_fanout_rate))
    goto done;
  run->deliveries = receivers_wait (rs, n * total, 10);
  t1 = bench_now_ns ();
  for (i = 0; i < n_nodes; i++) {
    cpu1[i] = bench_proc_cpu_ticks (ds_test_relay_get_pid (nodes[i]));
    sw1[i] = proc_switches (ds_test_relay_get_pid (nodes[i]));
  }
  if (nats)
    nats1 = bench_proc_cpu_ticks (nats_pid (nats));
  recv1 = bench_proc_cpu_ticks (rs->tid);
  self1 = self_cpu_s ();

  run->expected = n * total;
  run->window_s = (t1 - t0) / 1e9;
  for (i = 0; i < n_nodes; i++) {
    run->node_s[i] = ticks_s (cpu1[i] - cpu0[i]);
    run->relay_s += run->node_s[i];
    run->switches += sw1[i] - sw0[i];
  }
  run->nats_s = ticks_s (nats1 - nats0);
  run->recv_s = ticks_s (recv1 - recv0);
  run->self_s = self1 - self0;
  if (run->deliveries) {
    run->relay_us = run->relay_s * 1e6 / run->deliveries;
    run->relay_nats_us = (run->relay_s + run->nats_s) * 1e6 / run->deliveries;
  }
  complete = g_new (gint64, n);
  for (i = 0; i < n; i++)
    if (rs->complete[i])
      complete[n_complete++] = (gint64) (rs->complete[i] - src->sent_ns[i]);
  c = stats_ms (complete, n_complete);
  run->complete_p50 = c.p50;
  run->complete_p99 = c.p99;
  split = n_nodes == 3 ? g_strdup_printf ("%.2f+%.2f+%.2f", run->node_s[0],
      run->node_s[1], run->node_s[2]) : g_strdup ("one node");
  printf ("| %s | %u x %u | %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT
      " | %.2f s | %.2f s (%s) | **%.2f** | %.1f | %.2f s | %.2f | %.2f s | "
      "%.2f s | %.1f / %.1f ms |\n", mode_names[mode], n_nodes,
      per_node, run->deliveries, run->expected, run->window_s, run->relay_s,
      split, run->relay_us, (gdouble) run->switches / n, run->nats_s,
      run->relay_nats_us, run->recv_s, run->self_s, run->complete_p50,
      run->complete_p99);
  fflush (stdout);
  g_free (split);
  ok = run->deliveries == run->expected;

done:
  source_free (src);
  if (rs)
    receivers_free (rs);
  nodes_free (nodes, n_nodes);
  nats_free (nats);
  g_free (f.data);
  g_free (complete);
  return ok;
}

static gboolean
part_fanout (void)
{
  FanoutRun *runs[N_MODES];
  guint counts[N_MODES] = { 0, };
  gdouble v[N_MODES][3][64], single = 0;
  gboolean ok = TRUE;
  gint round;
  guint k, m;

  printf ("\n## Fan-out: 3 nodes x %d receivers (source on the first) vs "
      "one node (no --cluster) x %d, and 3 nodes without --cluster x %d "
      "(a source connection to each: what running 3 processes costs "
      "without NATS); NeuralFrames of %d B at %g/s, %g s measured per run, "
      "%d rounds interleaved; load %s\n\n"
      "CPU = utime+stime over the window (from the first measured frame "
      "sent until all are delivered); per delivery = relay CPU / "
      "deliveries counted at the receivers; all = frame reached every "
      "receiver, p50 / p99 from its send\n\n", opt_fanout_receivers,
      3 * opt_fanout_receivers, opt_fanout_receivers, opt_fanout_size,
      opt_fanout_rate, opt_fanout_seconds, opt_rounds, load_average ());
  printf ("| run | nodes x receivers | delivered / expected | window | "
      "relay CPU | **relay µs per delivery** | relay context switches per "
      "frame | nats-server CPU | relays + nats µs per delivery | receiver "
      "thread CPU | bench process CPU | all p50 / p99 |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (k = 0; k < N_MODES; k++)
    runs[k] = g_new0 (FanoutRun, opt_rounds);
  for (round = 0; round < opt_rounds; round++)
    for (k = 0; k < N_MODES; k++) {
      /* single, cluster, alone; cluster, alone, single; … */
      FanoutMode mode = (k + round) % N_MODES;
      FanoutRun *run = &runs[mode][counts[mode]];

      if (fanout_run (mode, run) || run->deliveries > 0) {
        counts[mode]++;
      } else {
        printf ("# %s run failed\n", mode_names[mode]);
        ok = FALSE;
      }
    }
  printf ("\n| | runs | relay µs per delivery: median (min-max) | relays + "
      "nats: median (min-max) | ratio to single (medians) | receiver "
      "thread %% of a core (median) |\n|---|---|---|---|---|---|\n");
  for (k = 0; k < N_MODES; k++) {
    gdouble med;

    for (m = 0; m < counts[k] && m < 64; m++) {
      v[k][0][m] = runs[k][m].relay_us;
      v[k][1][m] = runs[k][m].relay_nats_us;
      v[k][2][m] = 100 * runs[k][m].recv_s / runs[k][m].window_s;
    }
    med = median (v[k][0], counts[k]);
    if (k == MODE_SINGLE)
      single = med;
    printf ("| %s | %u | **%.3f** (%.3f-%.3f) | %.3f (%.3f-%.3f) | %.2f | "
        "%.0f %% |\n", mode_names[k], counts[k], med, vmin (v[k][0],
            counts[k]), vmax (v[k][0], counts[k]), median (v[k][1],
            counts[k]), vmin (v[k][1], counts[k]), vmax (v[k][1], counts[k]),
        single > 0 ? med / single : 0, median (v[k][2], counts[k]));
  }
  if (counts[MODE_SINGLE] && counts[MODE_CLUSTER] && single > 0)
    printf ("\nratio cluster / single (relay CPU per delivery, medians): "
        "**%.2f** (target <= 1.43); with nats-server: %.2f\n",
        median (v[MODE_CLUSTER][0], counts[MODE_CLUSTER]) / single,
        median (v[MODE_CLUSTER][1], counts[MODE_CLUSTER]) / single);
  for (k = 0; k < N_MODES; k++)
    g_free (runs[k]);
  return ok && counts[MODE_SINGLE] && counts[MODE_CLUSTER];
}

static gchar *
find_nats_server (void)
{
  const gchar *env = g_getenv ("NATS_SERVER");

  if (opt_nats)
    return g_file_test (opt_nats, G_FILE_TEST_IS_EXECUTABLE) ?
        g_strdup (opt_nats) : NULL;
  if (env && g_file_test (env, G_FILE_TEST_IS_EXECUTABLE))
    return g_strdup (env);
  if (g_file_test ("/usr/sbin/nats-server", G_FILE_TEST_IS_EXECUTABLE))
    return g_strdup ("/usr/sbin/nats-server");
  return g_find_program_in_path ("nats-server");
}

int
main (int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  gchar *nats;
  gchar **parts;
  struct rlimit lim;
  guint need;
  gboolean ok = TRUE;
  guint i;

  context = g_option_context_new ("- ds-relay --cluster benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("bench: %s\n", error->message);
    return 2;
  }
  g_option_context_free (context);
  if (opt_small_size < 64 || opt_fanout_size < 64 ||
      opt_fanout_receivers < 1 || opt_rounds < 1 || opt_rounds > 64 ||
      opt_fanout_rate <= 0 || opt_latency_seconds <= 0) {
    g_printerr ("bench: sizes >= 64, receivers >= 1, 1-64 rounds\n");
    return 2;
  }
  if (opt_relay)
    g_setenv ("DS_RELAY", opt_relay, TRUE);
  if (!ds_test_relay_available ()) {
    g_printerr ("bench: no ds-relay: --relay PATH or $DS_RELAY\n");
    return 2;
  }
  nats = find_nats_server ();
  if (nats == NULL) {
    printf ("SKIP: nats-server not found (--nats-server, $NATS_SERVER, "
        "/usr/sbin/nats-server or $PATH; Debian: apt-get install "
        "nats-server)\n");
    return 77;
  }
  g_free (opt_nats);
  opt_nats = nats;
  signal (SIGPIPE, SIG_IGN);

  /* this process holds every receiver, the single relay as many */
  need = 3 * opt_fanout_receivers + 64;
  if (getrlimit (RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < need) {
    lim.rlim_cur = MIN (lim.rlim_max, MAX (need, lim.rlim_cur));
    setrlimit (RLIMIT_NOFILE, &lim);
    getrlimit (RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < need) {
      g_printerr ("bench: %u file descriptors needed, ulimit -n is %lu\n",
          need, (gulong) lim.rlim_cur);
      return 1;
    }
  }

  {
    GDateTime *now = g_date_time_new_now_utc ();
    gchar *when = g_date_time_format (now, "%Y-%m-%d %H:%M UTC");

    printf ("# bench-cluster %s: %ld cores, load %s; %s on loopback\n",
        when, sysconf (_SC_NPROCESSORS_ONLN), load_average (), opt_nats);
    g_free (when);
    g_date_time_unref (now);
  }
  parts = g_strsplit (opt_parts ? opt_parts : "latency,bytes,fanout", ",", -1);
  for (i = 0; parts[i]; i++) {
    if (strcmp (parts[i], "latency") == 0)
      ok &= part_latency ();
    else if (strcmp (parts[i], "bytes") == 0)
      ok &= part_bytes ();
    else if (strcmp (parts[i], "fanout") == 0)
      ok &= part_fanout ();
    else {
      g_printerr ("bench: unknown part %s\n", parts[i]);
      ok = FALSE;
    }
  }
  g_strfreev (parts);
  printf ("\n# load after: %s\n", load_average ());
  return ok ? 0 : 1;
}
