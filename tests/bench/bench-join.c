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
 * bench-join: how ds-relay copes with many clients joining at once.
 *
 *   bench-join [--relay PATH] [--peer PATH] [--clients 1000,2500,...]
 *              [--channels 100] [--sources] [--window 256]
 *
 * For each relay (--relay, default $DS_RELAY; --peer: a second build, for
 * example the previous commit's, measured in the same run) and each N of
 * --clients, it starts the relay on a free loopback port with
 * --max-clients 0, opens N idle receivers spread over --channels channels
 * (raw non-blocking sockets doing the WebSocket upgrade themselves, at most
 * --window handshakes in flight, all in one epoll loop, so the client side
 * is not the bottleneck), probes GET /healthz every 50 ms during the join,
 * then closes all receivers at once and waits until the relay counts none.
 * It prints one line per run:
 *
 *   join     first connect to the last "101 Switching Protocols", seconds
 *   per-1k   join time per 1000 receivers (flat when a join is O(1))
 *   healthz  median/p99/max latency of the probes during the join, ms
 *   leave    last close() to the relay reporting 0 receivers, seconds
 *   rss      relay VmRSS before the first connect / at peak / 2 s after
 *            they all left, MB
 *   rc       --sources only: ReceiverCount frames the sources got
 *
 * With --sources, one source per channel connects first and drains what the
 * relay sends it (ReceiverCount frames), so the per-join cost of telling the
 * source is included. The relay's stderr is discarded (BENCH_RELAY_LOG=1
 * keeps it).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <gio/gio.h>

#define PROBE_INTERVAL_NS (50 * 1000 * 1000)
#define MAX_HEADERS 4096

typedef enum
{
  CONN_CONNECTING,
  CONN_HANDSHAKE,
  CONN_OPEN,
  CONN_DONE,
} ConnState;

typedef enum
{
  KIND_RECEIVER,
  KIND_SOURCE,
  KIND_PROBE,
} ConnKind;

typedef struct
{
  gint fd;
  ConnKind kind;
  ConnState state;
  gchar *request;
  gsize request_len;
  gsize sent;
  gchar head[MAX_HEADERS];
  gsize head_len;
  guint64 started;
  /* frames received by a source: a tiny WebSocket frame parser */
  guint8 frame[16];
  gsize frame_have;
  guint64 payload_left;
  guint frames;
} Conn;

static gchar *opt_relay = NULL;
static gchar *opt_peer = NULL;
static gchar *opt_clients = NULL;
static gint opt_channels = 100;
static gint opt_window = 256;
static gboolean opt_sources = FALSE;

static GOptionEntry entries[] = {
  {"relay", 0, 0, G_OPTION_ARG_FILENAME, &opt_relay,
      "The ds-relay to measure (default $DS_RELAY)", "PATH"},
  {"peer", 0, 0, G_OPTION_ARG_FILENAME, &opt_peer,
        "Another ds-relay measured in the same run (e.g. the base commit's)",
      "PATH"},
  {"clients", 'n', 0, G_OPTION_ARG_STRING, &opt_clients,
      "Comma-separated receiver counts (default 1000,2500,5000,10000)", "LIST"},
  {"channels", 'c', 0, G_OPTION_ARG_INT, &opt_channels,
      "Channels the receivers are spread over (default 100)", "N"},
  {"window", 'w', 0, G_OPTION_ARG_INT, &opt_window,
      "Handshakes in flight at most (default 256)", "N"},
  {"sources", 's', 0, G_OPTION_ARG_NONE, &opt_sources,
      "One source per channel, connected before the receivers", NULL},
  {NULL}
};

static guint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit (RLIMIT_NOFILE, &limit);
  }
}

static gsize
proc_rss_kb (GPid pid)
{
  gchar *path = g_strdup_printf ("/proc/%d/status", pid);
  gchar *text = NULL;
  const gchar *line;
  gsize kb = 0;

  if (g_file_get_contents (path, &text, NULL, NULL) &&
      (line = strstr (text, "VmRSS:")))
    kb = g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
  g_free (text);
  g_free (path);
  return kb;
}

/* Connections, all in one epoll set */

typedef struct
{
  gint epoll;
  guint port;
  guint handshaking;
  guint opened;
  guint failed;
  guint64 first_connect;
  guint64 last_open;
  GArray *probe_ms;             /* gdouble */
  Conn *probe;
  guint64 next_probe;
} Loop;

static Conn *
conn_new (Loop * loop, ConnKind kind, const gchar * path)
{
  struct sockaddr_in addr = { 0, };
  Conn *conn = g_new0 (Conn, 1);
  struct epoll_event ev = { 0, };
  gint one = 1;

  conn->kind = kind;
  conn->started = now_ns ();
  conn->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (conn->fd < 0) {
    g_printerr ("bench-join: socket: %s\n", g_strerror (errno));
    exit (1);
  }
  setsockopt (conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  addr.sin_family = AF_INET;
  addr.sin_port = htons (loop->port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (conn->fd, (struct sockaddr *) &addr, sizeof (addr)) < 0 &&
      errno != EINPROGRESS) {
    g_printerr ("bench-join: connect: %s\n", g_strerror (errno));
    exit (1);
  }
  if (kind == KIND_PROBE)
    conn->request = g_strdup_printf ("GET /healthz HTTP/1.1\r\n"
        "Host: 127.0.0.1:%u\r\nConnection: close\r\n\r\n", loop->port);
  else
    conn->request = g_strdup_printf ("GET %s HTTP/1.1\r\n"
        "Host: 127.0.0.1:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n", path, loop->port);
  conn->request_len = strlen (conn->request);
  conn->state = CONN_CONNECTING;
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.ptr = conn;
  epoll_ctl (loop->epoll, EPOLL_CTL_ADD, conn->fd, &ev);
  if (kind != KIND_PROBE) {
    loop->handshaking++;
    if (loop->first_connect == 0)
      loop->first_connect = conn->started;
  }
  return conn;
}

static void
probe_done (Loop * loop, Conn * conn)
{
  gdouble ms = (now_ns () - conn->started) / 1e6;

  g_array_append_val (loop->probe_ms, ms);
}

static void
conn_close (Loop * loop, Conn * conn)
{
  if (conn->fd >= 0) {
    epoll_ctl (loop->epoll, EPOLL_CTL_DEL, conn->fd, NULL);
    close (conn->fd);
    conn->fd = -1;
  }
  conn->state = CONN_DONE;
}

static void
conn_fail (Loop * loop, Conn * conn, const gchar * why)
{
  if (conn->kind != KIND_PROBE && conn->state != CONN_OPEN) {
    loop->handshaking--;
    loop->failed++;
    if (loop->failed <= 3)
      g_printerr ("bench-join: a %s failed: %s\n",
          conn->kind == KIND_SOURCE ? "source" : "receiver", why);
  }
  conn_close (loop, conn);
}

/* Counts the WebSocket frames a source receives (server frames are not
 * masked) */
static void
conn_count_frames (Conn * conn, const guint8 * data, gsize len)
{
  while (len > 0) {
    if (conn->payload_left > 0) {
      gsize n = MIN (len, conn->payload_left);

      conn->payload_left -= n;
      data += n;
      len -= n;
      continue;
    }
    conn->frame[conn->frame_have++] = *data++;
    len--;
    if (conn->frame_have >= 2) {
      guint l = conn->frame[1] & 0x7f;
      gsize need = 2 + (l == 126 ? 2 : l == 127 ? 8 : 0);

      if (conn->frame_have == need) {
        guint64 plen = l;
        gsize i;

        if (l == 126)
          plen = (conn->frame[2] << 8) | conn->frame[3];
        else if (l == 127)
          for (plen = 0, i = 0; i < 8; i++)
            plen = (plen << 8) | conn->frame[2 + i];
        conn->payload_left = plen;
        conn->frame_have = 0;
        conn->frames++;
      }
    }
  }
}

static void
conn_event (Loop * loop, Conn * conn, guint32 events)
{
  guint8 buf[65536];
  gssize n;

  if (conn->state == CONN_CONNECTING) {
    gint err = 0;
    socklen_t len = sizeof (err);

    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
      return;
    getsockopt (conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      conn_fail (loop, conn, g_strerror (err));
      return;
    }
    conn->state = CONN_HANDSHAKE;
  }
  if (conn->state == CONN_HANDSHAKE && conn->sent < conn->request_len) {
    n = write (conn->fd, conn->request + conn->sent,
        conn->request_len - conn->sent);
    if (n < 0 && errno != EAGAIN) {
      conn_fail (loop, conn, g_strerror (errno));
      return;
    }
    if (n > 0)
      conn->sent += n;
    if (conn->sent == conn->request_len) {
      struct epoll_event ev = { 0, };

      ev.events = EPOLLIN;
      ev.data.ptr = conn;
      epoll_ctl (loop->epoll, EPOLL_CTL_MOD, conn->fd, &ev);
    }
    return;
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
    return;

  n = read (conn->fd, buf, sizeof (buf));
  if (n < 0 && errno == EAGAIN)
    return;
  if (n <= 0) {
    if (conn->kind == KIND_PROBE && conn->state == CONN_HANDSHAKE) {
      /* Connection: close: the answer ends here */
      if (g_str_has_prefix (conn->head, "HTTP/1.1 200"))
        probe_done (loop, conn);
      conn_close (loop, conn);
      return;
    }
    conn_fail (loop, conn, n == 0 ? "closed by the relay" : g_strerror (errno));
    return;
  }
  if (conn->state == CONN_OPEN) {
    if (conn->kind == KIND_SOURCE)
      conn_count_frames (conn, buf, n);
    return;
  }

  /* the response head (and for a probe its short body) */
  {
    gsize take = MIN ((gsize) n, sizeof (conn->head) - 1 - conn->head_len);
    gchar *end;

    memcpy (conn->head + conn->head_len, buf, take);
    conn->head_len += take;
    conn->head[conn->head_len] = '\0';
    if (conn->kind == KIND_PROBE) {
      if (strstr (conn->head, "\r\n\r\nok\n")) {
        probe_done (loop, conn);
        conn_close (loop, conn);
      }
      return;
    }
    end = strstr (conn->head, "\r\n\r\n");
    if (end == NULL) {
      if (conn->head_len == sizeof (conn->head) - 1)
        conn_fail (loop, conn, "response head too long");
      return;
    }
    if (!g_str_has_prefix (conn->head, "HTTP/1.1 101")) {
      *end = '\0';
      conn_fail (loop, conn, conn->head);
      return;
    }
    conn->state = CONN_OPEN;
    loop->handshaking--;
    loop->opened++;
    loop->last_open = now_ns ();
    g_clear_pointer (&conn->request, g_free);
    if (conn->kind == KIND_SOURCE) {
      gsize head = end + 4 - conn->head;

      if (take > head)
        conn_count_frames (conn, (guint8 *) conn->head + head, take - head);
    }
  }
}

/* Runs the loop for up to @timeout_ns, or until @done says so */
static void
loop_run (Loop * loop, guint64 timeout_ns, gboolean probing,
    gboolean (*done) (Loop * loop, gpointer data), gpointer data)
{
  guint64 deadline = now_ns () + timeout_ns;
  struct epoll_event events[512];

  while (now_ns () < deadline && !(done && done (loop, data))) {
    gint i, n;
    guint64 now = now_ns ();

    if (probing && now >= loop->next_probe &&
        (loop->probe == NULL || loop->probe->state == CONN_DONE)) {
      if (loop->probe) {
        g_free (loop->probe->request);
        g_free (loop->probe);
      }
      loop->probe = conn_new (loop, KIND_PROBE, NULL);
      loop->next_probe = now + PROBE_INTERVAL_NS;
    }
    n = epoll_wait (loop->epoll, events, G_N_ELEMENTS (events), 5);
    for (i = 0; i < n; i++)
      conn_event (loop, events[i].data.ptr, events[i].events);
  }
}

static gboolean
handshakes_done (Loop * loop, gpointer data)
{
  return loop->handshaking == 0;
}

static int
compare_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

static gdouble
percentile (GArray * values, gdouble p)
{
  guint i;

  if (values->len == 0)
    return 0;
  i = (guint) (p * (values->len - 1) + 0.5);
  return g_array_index (values, gdouble, MIN (i, values->len - 1));
}

/* A blocking GET of /metrics: the number of receivers the relay counts */
static gint
relay_receivers (guint port)
{
  struct sockaddr_in addr = { 0, };
  gint fd = socket (AF_INET, SOCK_STREAM, 0);
  GString *reply = g_string_new (NULL);
  gchar *request, buf[4096], *line;
  gint count = -1;
  gssize n;

  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) == 0) {
    request = g_strdup_printf ("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:%u"
        "\r\nConnection: close\r\n\r\n", port);
    if (write (fd, request, strlen (request)) > 0)
      while ((n = read (fd, buf, sizeof (buf))) > 0)
        g_string_append_len (reply, buf, n);
    g_free (request);
    line = strstr (reply->str, "ds_relay_connections{role=\"receiver\"} ");
    if (line)
      count = atoi (line + strlen ("ds_relay_connections{role=\"receiver\"} "));
  }
  close (fd);
  g_string_free (reply, TRUE);
  return count;
}

static gboolean
relay_has_option (const gchar * relay_path, const gchar * option)
{
  const gchar *argv[] = { relay_path, "--help", NULL };
  gchar *help = NULL;
  gboolean found;

  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
          NULL, NULL, &help, NULL, NULL, NULL))
    return FALSE;
  found = help && strstr (help, option) != NULL;
  g_free (help);
  return found;
}

static gboolean
run_one (const gchar * relay_path, guint n_clients)
{
  /* every receiver comes from 127.0.0.1: no per-address limit, where the
   * relay has one (a peer built before it does not know the option) */
  const gchar *argv[] = { relay_path, "--port", "0", "--max-clients", "0",
    "--max-channels", "0", NULL, NULL, NULL
  };
  GError *error = NULL;
  GSubprocess *relay;
  GDataInputStream *out;
  gchar *line;
  GPid pid;
  Loop loop = { 0, };
  GPtrArray *conns = g_ptr_array_new ();
  gsize rss_before, rss_peak, rss_after;
  guint64 t0, join_ns, leave_start, leave_ns = 0;
  guint i, next = 0, rc_frames = 0;
  gint count;
  gchar *path;

  if (relay_has_option (relay_path, "--max-clients-per-address")) {
    argv[7] = "--max-clients-per-address";
    argv[8] = "0";
  }
  relay = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      (g_getenv ("BENCH_RELAY_LOG") ? 0 : G_SUBPROCESS_FLAGS_STDERR_SILENCE),
      &error);
  if (relay == NULL) {
    g_printerr ("bench-join: cannot start %s: %s\n", relay_path,
        error->message);
    g_clear_error (&error);
    return FALSE;
  }
  pid = atoi (g_subprocess_get_identifier (relay));
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (relay));
  line = g_data_input_stream_read_line (out, NULL, NULL, NULL);
  g_object_unref (out);
  if (line == NULL || strrchr (line, ':') == NULL) {
    g_printerr ("bench-join: %s printed no address\n", relay_path);
    g_free (line);
    return FALSE;
  }
  loop.port = atoi (strrchr (line, ':') + 1);
  g_free (line);
  loop.epoll = epoll_create1 (0);
  loop.probe_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));

  if (opt_sources) {
    for (i = 0; i < (guint) opt_channels; i++) {
      path = g_strdup_printf ("/peer/ch%u", i);
      g_ptr_array_add (conns, conn_new (&loop, KIND_SOURCE, path));
      g_free (path);
    }
    loop_run (&loop, 30 * G_GUINT64_CONSTANT (1000000000), FALSE,
        handshakes_done, NULL);
    loop.first_connect = 0;
    loop.opened = 0;
  }
  /* the relay settles */
  g_usleep (200 * 1000);
  rss_before = proc_rss_kb (pid);
  rss_peak = rss_before;

  /* join: at most --window handshakes in flight */
  t0 = now_ns ();
  loop.next_probe = t0;
  while ((next < n_clients || loop.handshaking > 0) &&
      now_ns () - t0 < 600 * G_GUINT64_CONSTANT (1000000000)) {
    while (next < n_clients && loop.handshaking < (guint) opt_window) {
      path = g_strdup_printf ("/stream/ch%u", next % opt_channels);
      g_ptr_array_add (conns, conn_new (&loop, KIND_RECEIVER, path));
      g_free (path);
      next++;
    }
    loop_run (&loop, 20 * 1000 * 1000, TRUE, NULL, NULL);
    if (loop.opened % 500 == 0)
      rss_peak = MAX (rss_peak, proc_rss_kb (pid));
  }
  join_ns = loop.last_open - loop.first_connect;
  /* idle for a second (keeps probing), then the peak */
  loop_run (&loop, G_GUINT64_CONSTANT (1000000000), TRUE, NULL, NULL);
  rss_peak = MAX (rss_peak, proc_rss_kb (pid));
  for (i = 0; i < conns->len; i++) {
    Conn *conn = g_ptr_array_index (conns, i);

    if (conn->kind == KIND_SOURCE)
      rc_frames += conn->frames;
  }

  /* leave: every receiver at once */
  for (i = 0; i < conns->len; i++) {
    Conn *conn = g_ptr_array_index (conns, i);

    if (conn->kind == KIND_RECEIVER)
      conn_close (&loop, conn);
  }
  leave_start = now_ns ();
  while (now_ns () - leave_start < 120 * G_GUINT64_CONSTANT (1000000000)) {
    count = relay_receivers (loop.port);
    if (count == 0) {
      leave_ns = now_ns () - leave_start;
      break;
    }
    g_usleep (20 * 1000);
  }
  g_usleep (2 * G_USEC_PER_SEC);
  rss_after = proc_rss_kb (pid);
  if (g_getenv ("BENCH_JOIN_HOLD")) {
    printf ("# relay pid %d holds on for %s s\n", pid,
        g_getenv ("BENCH_JOIN_HOLD"));
    fflush (stdout);
    g_usleep (atoi (g_getenv ("BENCH_JOIN_HOLD")) * G_USEC_PER_SEC);
  }

  g_array_sort (loop.probe_ms, compare_double);
  printf ("%-28s n=%-6u ch=%-4d join %7.2f s  per-1k %6.3f s  "
      "healthz med/p99/max %7.1f/%7.1f/%7.1f ms (%u probes)  leave %6.2f s  "
      "rss %5.1f/%6.1f/%6.1f MB", relay_path, loop.opened, opt_channels,
      join_ns / 1e9, join_ns / 1e9 / (n_clients / 1000.0),
      percentile (loop.probe_ms, 0.5), percentile (loop.probe_ms, 0.99),
      percentile (loop.probe_ms, 1.0), loop.probe_ms->len,
      leave_ns ? leave_ns / 1e9 : -1.0, rss_before / 1024.0,
      rss_peak / 1024.0, rss_after / 1024.0);
  if (opt_sources)
    printf ("  rc %u", rc_frames);
  if (loop.failed)
    printf ("  FAILED %u", loop.failed);
  printf ("\n");
  fflush (stdout);

  for (i = 0; i < conns->len; i++) {
    Conn *conn = g_ptr_array_index (conns, i);

    conn_close (&loop, conn);
    g_free (conn->request);
    g_free (conn);
  }
  g_ptr_array_unref (conns);
  if (loop.probe) {
    conn_close (&loop, loop.probe);
    g_free (loop.probe->request);
    g_free (loop.probe);
  }
  close (loop.epoll);
  g_array_unref (loop.probe_ms);
  g_subprocess_send_signal (relay, SIGTERM);
  g_subprocess_wait (relay, NULL, NULL);
  g_object_unref (relay);
  return TRUE;
}

int
main (int argc, char **argv)
{
  GOptionContext *context;
  GError *error = NULL;
  gchar **counts;
  guint i;
  gboolean ok = TRUE;

  context = g_option_context_new ("- ds-relay: many receivers joining");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("bench-join: %s\n", error->message);
    return 2;
  }
  g_option_context_free (context);
  if (opt_relay == NULL)
    opt_relay = g_strdup (g_getenv ("DS_RELAY"));
  if (opt_relay == NULL) {
    g_printerr ("bench-join: --relay PATH or DS_RELAY=PATH\n");
    return 2;
  }
  if (opt_channels < 1 || opt_window < 1) {
    g_printerr ("bench-join: --channels and --window must be at least 1\n");
    return 2;
  }
  signal (SIGPIPE, SIG_IGN);
  raise_fd_limit ();

  counts = g_strsplit (opt_clients ? opt_clients : "1000,2500,5000,10000",
      ",", -1);
  {
    GDateTime *now = g_date_time_new_now_utc ();
    gchar *stamp = g_date_time_format (now, "%Y-%m-%d %H:%M UTC");
    gchar *load = NULL;

    g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
    printf ("# bench-join %s, %u cores, load %.14s, window %d%s\n", stamp,
        g_get_num_processors (), load ? load : "?", opt_window,
        opt_sources ? ", one source per channel" : "");
    g_free (load);
    g_free (stamp);
    g_date_time_unref (now);
  }
  for (i = 0; counts[i]; i++) {
    guint n = atoi (counts[i]);

    if (n == 0)
      continue;
    ok &= run_one (opt_relay, n);
    if (opt_peer)
      ok &= run_one (opt_peer, n);
  }
  g_strfreev (counts);
  return ok ? 0 : 1;
}
