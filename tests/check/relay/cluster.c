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
 * Several ds-relay nodes over NATS (SPEC §8, docs/cluster.md): each test
 * starts real nats-server processes ($NATS_SERVER) on free loopback ports
 * and real relays with --cluster, and drives them with WebSocket clients
 * (libsoup) on one private GMainContext; a libnats client plays a foreign
 * publisher. Every wait is bounded. Without nats-server, or with a relay
 * built without libnats, the NATS tests do not run and the program exits
 * 77 (SKIP) with a message.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include <ds/dsprotocol.h>

#ifdef DS_HAVE_NATS
#include <nats/nats.h>
#endif

#include "../ds-test-relay.h"

#define WAIT_MS (DS_TEST_SANITIZED ? 20000 : 8000)

#include "../ds-test-wsclient.h"
#include "../ds-test-nats.h"

/* Options and the build without libnats: errors before anything starts */
GST_START_TEST (test_cluster_options)
{
  const gchar *bad[][4] = {
    {"--cluster-user", "u", NULL},
    {"--node-id", "abc", NULL},
    {"--cluster", "nats://127.0.0.1:1", "--node-id", "xyz"},
    {"--cluster", "nats://127.0.0.1:1", "--cluster-name", "a..b"},
    {"--cluster", "nats://127.0.0.1:1", "--cluster-user", "u"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    const gchar *argv[8] = { g_getenv ("DS_RELAY"), };
    GSubprocess *process;
    gchar *err = NULL;
    guint j;

    for (j = 0; j < 4 && bad[i][j]; j++)
      argv[j + 1] = bad[i][j];
    process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
        G_SUBPROCESS_FLAGS_STDERR_PIPE, NULL);
    fail_unless (process != NULL);
    fail_unless (g_subprocess_communicate_utf8 (process, NULL, NULL, NULL,
            &err, NULL));
    fail_unless (g_subprocess_get_if_exited (process));
#ifdef DS_HAVE_NATS
    fail_unless_equals_int (g_subprocess_get_exit_status (process), 2);
#else
    /* built without libnats: --cluster is refused whatever comes with it */
    fail_unless_equals_int (g_subprocess_get_exit_status (process), 2);
    if (strcmp (bad[i][0], "--cluster") == 0)
      fail_unless (strstr (err, "built without NATS support") != NULL,
          "%s", err);
#endif
    GST_INFO ("%s %s: %s", bad[i][0], bad[i][1], err);
    g_free (err);
    g_object_unref (process);
  }
}

GST_END_TEST;

#ifdef DS_HAVE_NATS

/* WebSocket clients */

/* The integer @member of a signal frame's JSON; -1 when missing */
static gint64
signal_member (GBytes * frame, const gchar * member)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  gchar *text = g_strndup ((const gchar *) data + DS_HEADER_SIZE,
      len - DS_HEADER_SIZE);
  JsonParser *parser = json_parser_new ();
  gint64 n;

  fail_unless (json_parser_load_from_data (parser, text, -1, NULL), "%s", text);
  n = json_object_get_int_member_with_default (json_node_get_object
      (json_parser_get_root (parser)), member, -1);
  g_object_unref (parser);
  g_free (text);
  return n;
}

static gint64
signal_n (GBytes * frame)
{
  return signal_member (frame, "n");
}

/* Skips frames of @type until one whose "n" is @n arrives (each within
 * WAIT_MS) */
static void
skip_to_signal_n (TestClient * client, guint8 type, gint64 n)
{
  GBytes *frame;

  for (;;) {
    frame = expect_frame (client, type);
    if (signal_n (frame) == n)
      break;
    g_bytes_unref (frame);
  }
  g_bytes_unref (frame);
}

/* Skips frames until a signal frame (sync or diff) whose "n" is @n
 * arrives (each within WAIT_MS) */
static void
skip_to_n (TestClient * client, gint64 n)
{
  GBytes *frame;

  for (;;) {
    guint8 type;

    frame = client_pop (client, WAIT_MS);
    fail_unless (frame != NULL, "no signal frame with n %" G_GINT64_FORMAT, n);
    type = frame_header (frame).type;
    if ((type == DS_FRAME_SIGNAL_SYNC || type == DS_FRAME_SIGNAL_DIFF) &&
        signal_n (frame) == n)
      break;
    g_bytes_unref (frame);
  }
  g_bytes_unref (frame);
}

/* The next ReceiverCount reaching @source; other input is skipped */
static gint
next_receiver_count (TestClient * source, guint ms)
{
  GBytes *frame;

  while ((frame = client_pop (source, ms))) {
    DsHeader header = frame_header (frame);
    const guint8 *data = g_bytes_get_data (frame, NULL);
    gint count = -1;

    if (header.type == DS_INPUT_RECEIVER_COUNT &&
        (header.flags & DS_FLAG_INPUT))
      count = (gint) GST_READ_UINT32_LE (data + DS_HEADER_SIZE);
    g_bytes_unref (frame);
    if (count >= 0)
      return count;
  }
  return -1;
}

/* Waits for ReceiverCount @count */
static gboolean
wait_receiver_count (TestClient * source, gint count)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
  gint got;

  while (g_get_monotonic_time () < end) {
    got = next_receiver_count (source, 200);
    if (got == count)
      return TRUE;
  }
  return FALSE;
}

/* Relays */

static DsTestRelay *
start_node (const gchar * urls, const gchar * first_arg, ...)
{
  const gchar *cluster[] = { "--cluster", urls, NULL };
  DsTestRelay *relay;
  va_list ap;

  va_start (ap, first_arg);
  relay = ds_test_relay_start_valist (cluster, first_arg, ap);
  va_end (ap);
  fail_unless (relay != NULL, "could not start ds-relay --cluster %s", urls);
  return relay;
}

static gint64
metric (DsTestRelay * relay, const gchar * name)
{
  return ds_test_relay_metric (relay, name);
}

static void
wait_metric (DsTestRelay * relay, const gchar * name, gint64 value)
{
  gint64 got = ds_test_relay_wait_metric (relay, name, value, WAIT_MS);

  fail_unless (got == value, "%s is %" G_GINT64_FORMAT ", not %"
      G_GINT64_FORMAT, name, got, value);
}

/* Waits until @name is at least @value; returns it */
static gint64
wait_metric_at_least (DsTestRelay * relay, const gchar * name, gint64 value)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
  gint64 got;

  while ((got = metric (relay, name)) < value && g_get_monotonic_time () < end)
    pump (20);
  fail_unless (got >= value, "%s is %" G_GINT64_FORMAT ", not at least %"
      G_GINT64_FORMAT, name, got, value);
  return got;
}

static gchar *
channel_metric (const gchar * name, const gchar * channel)
{
  return g_strdup_printf ("%s{channel=\"%s\"}", name, channel);
}

static gint64
published (DsTestRelay * relay, const gchar * channel)
{
  gchar *name =
      channel_metric ("ds_relay_cluster_channel_bytes_published_total",
      channel);
  gint64 value = metric (relay, name);

  g_free (name);
  return value;
}

static void
wait_remote_receivers (DsTestRelay * relay, const gchar * channel, gint64 n)
{
  gchar *name = channel_metric ("ds_relay_cluster_channel_remote_receivers",
      channel);

  wait_metric (relay, name, n);
  g_free (name);
}

/* Tests */

/* A relay comes up with NATS down, says so on /healthz, and recovers;
 * it loses NATS and says so again */
GST_START_TEST (test_cluster_health)
{
  NatsServer *nats = g_new0 (NatsServer, 1);
  const gchar *args[] = { "--cluster", NULL, NULL };
  DsTestRelay *relay;
  gchar *url;
  gint64 end;

  nats->port = free_port ();
  url = g_strdup_printf ("nats://127.0.0.1:%u", nats->port);
  args[1] = url;
  relay = ds_test_relay_startv_full (args, FALSE);
  fail_unless (relay != NULL);
  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      503);
  fail_unless_equals_int (metric (relay, "ds_relay_cluster_connected"), 0);

  nats_server_spawn (nats, NULL, 0);
  fail_unless (ds_test_relay_wait_healthy (relay, WAIT_MS));
  fail_unless_equals_int (metric (relay, "ds_relay_cluster_connected"), 1);

  nats_server_kill (nats);
  end = g_get_monotonic_time () + WAIT_MS * 1000;
  while (ds_test_relay_http_get (relay, "/healthz", NULL) != 503 &&
      g_get_monotonic_time () < end)
    g_usleep (20 * 1000);
  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      503);

  nats_server_spawn (nats, NULL, 0);
  fail_unless (ds_test_relay_wait_healthy (relay, WAIT_MS));

  ds_test_relay_free (relay);
  nats_server_free (nats);
  g_free (url);
}

GST_END_TEST;

/* The NATS password and token read from files (--cluster-password-file,
 * --cluster-token-file): the node logs in with them; with a wrong one it
 * never says it is healthy and exits with status 1 (libnats gives up on
 * refused credentials: no retry mends them) */
GST_START_TEST (test_cluster_secret_files)
{
  gchar *dir = ds_test_tmp_dir_new ();
  gchar *good = ds_test_tmp_file (dir, "good", "s3cret-from-file\n", -1);
  gchar *bad = ds_test_tmp_file (dir, "bad", "not-it\n", -1);
  const gchar *modes[] = { "password", "token" };
  guint m;

  for (m = 0; m < G_N_ELEMENTS (modes); m++) {
    gboolean password = m == 0;
    NatsServer *nats = g_new0 (NatsServer, 1);
    const gchar *args[8] = { "--cluster", NULL, };
    DsTestRelay *in, *out;
    gint64 end;

    if (password) {
      nats->user = "relay";
      nats->password = "s3cret-from-file";
    } else {
      nats->token = "s3cret-from-file";
    }
    nats_server_spawn (nats, NULL, 0);
    args[1] = nats->url;
    args[2] = password ? "--cluster-user" : "--cluster-token-file";
    args[3] = password ? "relay" : good;
    args[4] = password ? "--cluster-password-file" : NULL;
    args[5] = good;
    in = ds_test_relay_startv_full (args, TRUE);
    fail_unless (in != NULL, "%s from a file: not connected", modes[m]);
    fail_unless_equals_int (metric (in, "ds_relay_cluster_connected"), 1);

    if (password)
      args[5] = bad;
    else
      args[3] = bad;
    out = ds_test_relay_startv_full (args, FALSE);
    if (out != NULL) {
      gint code;

      /* 503 while it runs, nothing once it has exited */
      end = g_get_monotonic_time () + WAIT_MS * 1000;
      while ((code = ds_test_relay_http_get (out, "/healthz", NULL)) != 0 &&
          g_get_monotonic_time () < end) {
        fail_unless_equals_int (code, 503);
        g_usleep (50 * 1000);
      }
      fail_unless (ds_test_relay_wait_exit (out, WAIT_MS),
          "still running with a wrong %s", modes[m]);
      fail_unless_equals_int (out->exit_status, 1);
      ds_test_relay_free (out);
    }
    /* else it exited before its first line: as good */

    ds_test_relay_free (in);
    nats_server_free (nats);
  }
  g_free (good);
  g_free (bad);
  ds_test_tmp_dir_remove (dir);
}

GST_END_TEST;

/* A source on node A, receivers on node B: frames in order (an 8 MB one
 * in chunks), input back to the source, ReceiverCount summed, and no
 * bytes on NATS while no other node watches */
/* GET /channels/{name} on @relay: "source" and "remote_source" */
static void
check_channel_source (DsTestRelay * relay, const gchar * name,
    gboolean source, gboolean remote)
{
  gchar *path = g_strconcat ("/channels/", name, NULL), *body = NULL;
  JsonParser *parser = json_parser_new ();
  JsonObject *object;

  fail_unless_equals_int (ds_test_relay_http_get (relay, path, &body), 200);
  fail_unless (json_parser_load_from_data (parser, body, -1, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  fail_unless_equals_int (json_object_get_boolean_member (object, "source"),
      source);
  fail_unless_equals_int (json_object_get_boolean_member (object,
          "remote_source"), remote);
  g_object_unref (parser);
  g_free (body);
  g_free (path);
}

/* Waits until GET /channels on @relay lists @name, with "source" and
 * "remote_source" true and @receivers receivers on this node */
static void
wait_listed (DsTestRelay * relay, const gchar * name, gint receivers)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  for (;;) {
    JsonParser *parser = json_parser_new ();
    gchar *body = NULL;
    gboolean found = FALSE;

    if (ds_test_relay_http_get (relay, "/channels", &body) == 200 &&
        json_parser_load_from_data (parser, body, -1, NULL)) {
      JsonArray *list =
          json_object_get_array_member (json_node_get_object
          (json_parser_get_root (parser)), "channels");
      guint i;

      for (i = 0; i < json_array_get_length (list); i++) {
        JsonObject *o = json_array_get_object_element (list, i);

        if (g_strcmp0 (json_object_get_string_member (o, "name"), name))
          continue;
        found = json_object_get_boolean_member (o, "source") &&
            json_object_get_boolean_member (o, "remote_source") &&
            json_object_get_int_member (o, "receivers") == receivers;
      }
    }
    g_object_unref (parser);
    g_free (body);
    if (found)
      return;
    fail_unless (g_get_monotonic_time () < end,
        "/channels does not list %s with a remote source", name);
    pump (50);
  }
}

GST_START_TEST (test_cluster_frames)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, NULL);
  DsTestRelay *b = start_node (nats->url, NULL);
  TestClient *source, *receiver, *local;
  guint8 pointer[5] = { 10, 0, 20, 0, 1 };
  const guint width = 1920, height = 1080;
  gsize big_len = width * height * 4;
  guint8 *big = g_malloc (big_len);
  gint64 before;
  GBytes *frame;
  DsHeader header;
  guint i;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  /* for 1.5 s after connecting to NATS a node publishes its sources'
   * frames whatever it knows of the others (test_cluster_fresh_origin) */
  pump (1600);

  source = client_connect_channel (a, "peer", "x");
  fail_unless_equals_int (next_receiver_count (source, WAIT_MS), 0);
  client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":0}"));
  for (i = 1; i <= 20; i++) {
    gchar *json = g_strdup_printf ("{\"n\":%u}", i);

    client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 1 + i, json));
    g_free (json);
  }
  /* nobody elsewhere watches: nothing crosses NATS */
  wait_metric (a, "ds_relay_channel_frames_in_total{channel=\"x\"}", 21);
  pump (300);
  fail_unless_equals_int64 (published (a, "x"), 0);
  /* B has no client for it, yet lists it: every node's list is the
   * cluster's (a viewer opened there plays it) */
  wait_listed (b, "x", 0);
  check_channel_source (b, "x", TRUE, TRUE);

  receiver = client_connect_channel (b, "stream", "x");
  /* B's heartbeat: the count reaches the source on A */
  fail_unless (wait_receiver_count (source, 1));
  wait_remote_receivers (a, "x", 1);
  /* its catch-up first: the merged state */
  frame = expect_frame (receiver, DS_FRAME_SIGNAL_SYNC);
  fail_unless_equals_int64 (signal_n (frame), 20);
  g_bytes_unref (frame);
  /* what the viewer asks: B has the channel's source, on another node */
  check_channel_source (b, "x", TRUE, TRUE);
  check_channel_source (a, "x", TRUE, FALSE);

  /* live frames in order */
  for (i = 21; i <= 220; i++) {
    gchar *json = g_strdup_printf ("{\"n\":%u}", i);

    client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 1 + i, json));
    g_free (json);
  }
  for (i = 21; i <= 220; i++) {
    frame = expect_frame (receiver, DS_FRAME_SIGNAL_DIFF);
    fail_unless_equals_int64 (signal_n (frame), i);
    g_bytes_unref (frame);
  }
  fail_unless (published (a, "x") > 0);

  /* 1080p RGBA: 8 MB in chunks under NATS's 1 MiB max_payload */
  for (i = 0; i < big_len; i++)
    big[i] = (guint8) (i * 7 + i / 4096);
  client_send (source, make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 500,
          width, height, big, big_len));
  frame = expect_frame (receiver, DS_FRAME_PIXELS);
  header = frame_header (frame);
  fail_unless_equals_int (header.width, width);
  fail_unless_equals_int (header.payload_len, big_len);
  fail_unless (memcmp ((const guint8 *) g_bytes_get_data (frame, NULL) +
          DS_HEADER_SIZE, big, big_len) == 0);
  g_bytes_unref (frame);

  /* input from B's receiver reaches A's source */
  client_send (receiver, make_frame (DS_INPUT_POINTER_DOWN, DS_FLAG_INPUT, 1,
          0, 0, pointer, 5));
  for (;;) {
    frame = client_pop (source, WAIT_MS);
    fail_unless (frame != NULL, "the input did not reach the source");
    header = frame_header (frame);
    if (header.type == DS_INPUT_POINTER_DOWN)
      break;
    g_bytes_unref (frame);
  }
  fail_unless (header.flags & DS_FLAG_INPUT);
  fail_unless (memcmp ((const guint8 *) g_bytes_get_data (frame, NULL) +
          DS_HEADER_SIZE, pointer, 5) == 0);
  g_bytes_unref (frame);

  /* ReceiverCount: local + remote */
  local = client_connect_channel (a, "stream", "x");
  fail_unless (wait_receiver_count (source, 2));
  client_free (local);
  fail_unless (wait_receiver_count (source, 1));

  /* B stops watching: the frames stop crossing */
  client_free (receiver);
  fail_unless (wait_receiver_count (source, 0));
  pump (300);
  before = published (a, "x");
  for (i = 0; i < 20; i++) {
    gchar *json = g_strdup_printf ("{\"n\":%u}", 1000 + i);

    client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 1000 + i, json));
    g_free (json);
  }
  wait_metric (a, "ds_relay_channel_frames_in_total{channel=\"x\"}", 242);
  fail_unless_equals_int64 (published (a, "x"), before);

  client_free (source);
  /* a clean exit (and, under AddressSanitizer, no leak) */
  fail_unless_equals_int (ds_test_relay_stop (a), 0);
  fail_unless_equals_int (ds_test_relay_stop (b), 0);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
  g_free (big);
}

GST_END_TEST;

typedef struct
{
  TestClient *source;
  guint next;
} Feeder;

static gboolean feed_cb (gpointer user_data);

/* Every 3 ms on the test's context */
static GSource *
feeder_start (Feeder * feeder)
{
  GSource *timer = g_timeout_source_new (3);

  g_source_set_callback (timer, feed_cb, feeder, NULL);
  g_source_attach (timer, context);
  return timer;
}

static void
feeder_stop (GSource * timer)
{
  g_source_destroy (timer);
  g_source_unref (timer);
}

static gboolean
feed_cb (gpointer user_data)
{
  Feeder *feeder = user_data;
  gchar *json = g_strdup_printf ("{\"n\":%u}", feeder->next);

  client_send (feeder->source, make_signal (DS_FRAME_SIGNAL_DIFF,
          (guint16) feeder->next, json));
  g_free (json);
  feeder->next++;
  return G_SOURCE_CONTINUE;
}

/* Reads @receiver's frames: the catch-up's SignalSync, then diffs with
 * no gap and no duplicate up to @last */
static void
expect_merged_then_live (TestClient * receiver, guint last)
{
  GBytes *frame = expect_frame (receiver, DS_FRAME_SIGNAL_SYNC);
  gint64 n = signal_n (frame);

  g_bytes_unref (frame);
  fail_unless (n >= 0);
  while (n < last) {
    frame = expect_frame (receiver, DS_FRAME_SIGNAL_DIFF);
    fail_unless_equals_int64 (signal_n (frame), n + 1);
    n++;
    g_bytes_unref (frame);
  }
}

/* Late joiners on another node while the source streams: one merged
 * catch-up from the origin, then the live frames, no gap, no duplicate;
 * a second joiner there gets its catch-up from that node's own state */
GST_START_TEST (test_cluster_catchup)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, NULL);
  DsTestRelay *b = start_node (nats->url, NULL);
  TestClient *source, *joiner1, *joiner2;
  Feeder feeder = { NULL, 1 };
  GSource *timer;
  guint round;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  source = client_connect_channel (a, "peer", "live");
  client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 0, "{\"n\":0}"));
  feeder.source = source;
  timer = feeder_start (&feeder);
  pump (200);

  /* joins race the live frames: repeated */
  for (round = 0; round < 3; round++) {
    joiner1 = client_connect_channel (b, "stream", "live");
    pump (150);
    joiner2 = client_connect_channel (b, "stream", "live");
    pump (150);
    feeder_stop (timer);
    /* thousands of frames would not prove much more */
    fail_unless (feeder.next > 50 * (round + 1), "only %u frames sent",
        feeder.next);
    pump (300);
    expect_merged_then_live (joiner1, feeder.next - 1);
    expect_merged_then_live (joiner2, feeder.next - 1);
    expect_nothing (joiner1, 10);
    expect_nothing (joiner2, 10);
    client_free (joiner1);
    client_free (joiner2);
    /* B forgets the channel's state: the next round asks again */
    wait_remote_receivers (a, "live", 0);
    timer = feeder_start (&feeder);
    pump (100);
  }
  feeder_stop (timer);
  fail_unless_equals_int64 (metric (b,
          "ds_relay_cluster_catchups_total{direction=\"received\"}"), 3);
  fail_unless_equals_int64 (metric (a,
          "ds_relay_cluster_catchups_total{direction=\"served\"}"), 3);

  /* a picture in the catch-up: 8 MB across NATS in chunks, then from B's
   * own state */
  {
    const guint width = 1920, height = 1080;
    gsize big_len = width * height * 4;
    guint8 *big = g_malloc (big_len);
    guint k;

    for (k = 0; k < big_len; k++)
      big[k] = (guint8) (k * 13 + k / 1000);
    client_send (source, make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME,
            (guint16) feeder.next, width, height, big, big_len));
    wait_metric_at_least (a,
        "ds_relay_channel_bytes_in_total{channel=\"live\"}", big_len);
    for (round = 0; round < 2; round++) {
      GBytes *frame;
      DsHeader header;

      joiner1 = client_connect_channel (b, "stream", "live");
      frame = expect_frame (joiner1, DS_FRAME_SIGNAL_SYNC);
      fail_unless_equals_int64 (signal_n (frame), feeder.next - 1);
      g_bytes_unref (frame);
      frame = expect_frame (joiner1, DS_FRAME_PIXELS);
      header = frame_header (frame);
      fail_unless_equals_int (header.payload_len, big_len);
      fail_unless (memcmp ((const guint8 *) g_bytes_get_data (frame, NULL) +
              DS_HEADER_SIZE, big, big_len) == 0);
      g_bytes_unref (frame);
      expect_nothing (joiner1, 100);
      if (round == 0) {
        /* the second joiner is served by B alone */
        joiner2 = joiner1;
        continue;
      }
      client_free (joiner1);
      client_free (joiner2);
    }
    fail_unless_equals_int64 (metric (b,
            "ds_relay_cluster_catchups_total{direction=\"received\"}"), 4);
    g_free (big);
  }

  client_free (source);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
}

GST_END_TEST;

/* A newer source on node B closes the one on node A as on one node;
 * receivers on both nodes follow the new one; KeyframeRequests from both
 * nodes reach it coalesced */
GST_START_TEST (test_cluster_takeover)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, "--keyframe-request-interval", "2",
      NULL);
  DsTestRelay *b = start_node (nats->url, "--keyframe-request-interval", "2",
      NULL);
  TestClient *old_source, *new_source, *on_a, *on_b;
  GBytes *frame;
  guint requests = 0;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  old_source = client_connect_channel (a, "peer", "t");
  client_send (old_source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":1}"));
  on_a = client_connect_channel (a, "stream", "t");
  on_b = client_connect_channel (b, "stream", "t");
  frame = expect_frame (on_a, DS_FRAME_SIGNAL_SYNC);
  g_bytes_unref (frame);
  frame = expect_frame (on_b, DS_FRAME_SIGNAL_SYNC);
  g_bytes_unref (frame);

  new_source = client_connect_channel (b, "peer", "t");
  WAIT_UNTIL (old_source->closed, WAIT_MS);
  fail_unless (old_source->closed, "the old source was not closed");
  fail_unless_equals_int (old_source->close_code, 4000);
  fail_unless (old_source->close_reason &&
      strstr (old_source->close_reason, "took over") != NULL,
      "close reason: %s", old_source->close_reason);
  wait_metric (a, "ds_relay_cluster_takeovers_total", 1);
  /* the receivers on A now watch B */
  wait_remote_receivers (b, "t", 1);
  fail_unless (wait_receiver_count (new_source, 2));

  client_send (new_source, make_signal (DS_FRAME_SIGNAL_SYNC, 7, "{\"n\":2}"));
  /* B's receiver: the new source's frame; A's: a catch-up from B */
  skip_to_signal_n (on_b, DS_FRAME_SIGNAL_SYNC, 2);
  skip_to_signal_n (on_a, DS_FRAME_SIGNAL_SYNC, 2);
  fail_if (on_a->closed);
  fail_if (on_b->closed);

  /* KeyframeRequests from receivers on both nodes: one reaches the source
   * within the interval */
  client_send (on_a, make_frame (DS_INPUT_KEYFRAME_REQUEST, DS_FLAG_INPUT, 1,
          0, 0, NULL, 0));
  client_send (on_b, make_frame (DS_INPUT_KEYFRAME_REQUEST, DS_FLAG_INPUT, 1,
          0, 0, NULL, 0));
  client_send (on_a, make_frame (DS_INPUT_KEYFRAME_REQUEST, DS_FLAG_INPUT, 2,
          0, 0, NULL, 0));
  /* within 1.5 s of the requests (the interval is 2 s) */
  pump (1500);
  while ((frame = g_queue_pop_head (&new_source->messages))) {
    if (frame_header (frame).type == DS_INPUT_KEYFRAME_REQUEST)
      requests++;
    g_bytes_unref (frame);
  }
  fail_unless_equals_int (requests, 1);

  client_free (on_a);
  client_free (on_b);
  client_free (old_source);
  client_free (new_source);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
}

GST_END_TEST;

/* A receiver on B joining as the source joins on A: B's catch-up request
 * may reach NATS before A's subscription does ("no responders"; likely
 * with A and B on two servers of a NATS cluster, where interest crosses a
 * route); B asks again once A's heartbeat announces the source */
GST_START_TEST (test_cluster_join_race)
{
  NatsServer *s1 = g_new0 (NatsServer, 1);
  NatsServer *s2 = g_new0 (NatsServer, 1);
  DsTestRelay *a, *b;
  guint round;

  s1->cluster_port = free_port ();
  s2->cluster_port = free_port ();
  nats_server_spawn (s1, &s2->cluster_port, 1);
  nats_server_spawn (s2, &s1->cluster_port, 1);
  a = start_node (s1->url, NULL);
  b = start_node (s2->url, NULL);

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  for (round = 0; round < 10; round++) {
    gchar *channel = g_strdup_printf ("race%u", round);
    TestClient *source = client_connect_channel (a, "peer", channel);
    TestClient *receiver;
    GBytes *frame;

    client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":7}"));
    receiver = client_connect_channel (b, "stream", channel);
    frame = expect_frame (receiver, DS_FRAME_SIGNAL_SYNC);
    fail_unless_equals_int64 (signal_n (frame), 7);
    g_bytes_unref (frame);
    client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"n\":8}"));
    frame = expect_frame (receiver, DS_FRAME_SIGNAL_DIFF);
    fail_unless_equals_int64 (signal_n (frame), 8);
    g_bytes_unref (frame);
    expect_nothing (receiver, 50);
    client_free (receiver);
    client_free (source);
    g_free (channel);
  }
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (s1);
  nats_server_free (s2);
}

GST_END_TEST;

/* kill -9 of a node: the others forget it within 3 s (ReceiverCount
 * drops); the origin's death loses no state: the watching node keeps the
 * channel's, and a source reconnecting there continues it */
GST_START_TEST (test_cluster_node_killed)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, NULL);
  DsTestRelay *b = start_node (nats->url, NULL);
  DsTestRelay *c;
  TestClient *source, *on_b, *on_c, *late, *again;
  GBytes *frame;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  source = client_connect_channel (a, "peer", "k");
  fail_unless_equals_int (next_receiver_count (source, WAIT_MS), 0);
  client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":5}"));
  on_b = client_connect_channel (b, "stream", "k");
  frame = expect_frame (on_b, DS_FRAME_SIGNAL_SYNC);
  g_bytes_unref (frame);
  fail_unless (wait_receiver_count (source, 1));

  /* a watching node dies */
  g_subprocess_force_exit (b->process);
  fail_unless (ds_test_relay_wait_exit (b, WAIT_MS));
  fail_unless (wait_receiver_count (source, 0));
  wait_metric (a, "ds_relay_cluster_nodes", 0);
  client_free (on_b);

  /* another watches; then the origin dies */
  c = start_node (nats->url, NULL);
  wait_metric (c, "ds_relay_cluster_nodes", 1);
  on_c = client_connect_channel (c, "stream", "k");
  frame = expect_frame (on_c, DS_FRAME_SIGNAL_SYNC);
  fail_unless_equals_int64 (signal_n (frame), 5);
  g_bytes_unref (frame);
  g_subprocess_force_exit (a->process);
  fail_unless (ds_test_relay_wait_exit (a, WAIT_MS));
  wait_metric (c, "ds_relay_cluster_nodes", 0);
  fail_if (on_c->closed);

  /* the source comes back on C: its receivers follow, a joiner there gets
   * the state of before and after */
  again = client_connect_channel (c, "peer", "k");
  client_send (again, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"m\":1}"));
  frame = expect_frame (on_c, DS_FRAME_SIGNAL_DIFF);
  fail_unless_equals_int64 (signal_member (frame, "m"), 1);
  g_bytes_unref (frame);
  late = client_connect_channel (c, "stream", "k");
  frame = expect_frame (late, DS_FRAME_SIGNAL_SYNC);
  fail_unless_equals_int64 (signal_member (frame, "n"), 5);
  fail_unless_equals_int64 (signal_member (frame, "m"), 1);
  g_bytes_unref (frame);

  client_free (late);
  client_free (on_c);
  client_free (again);
  client_free (source);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  ds_test_relay_free (c);
  nats_server_free (nats);
}

GST_END_TEST;

/* GET /channels/{name} on @relay: the number of signals it caches */
static gint64
channel_signals (DsTestRelay * relay, const gchar * name)
{
  gchar *path = g_strconcat ("/channels/", name, NULL), *body = NULL;
  JsonParser *parser = json_parser_new ();
  gint64 signals;

  fail_unless_equals_int (ds_test_relay_http_get (relay, path, &body), 200);
  fail_unless (json_parser_load_from_data (parser, body, -1, NULL));
  signals = json_object_get_int_member (json_node_get_object
      (json_parser_get_root (parser)), "signals");
  g_object_unref (parser);
  g_free (body);
  g_free (path);
  return signals;
}

/* A joiner on @relay's channel @name: its catch-up's SignalSync holds
 * @n and @k */
static void
expect_joiner_state (DsTestRelay * relay, const gchar * name, gint64 n,
    gint64 k)
{
  TestClient *joiner = client_connect_channel (relay, "stream", name);
  GBytes *frame = expect_frame (joiner, DS_FRAME_SIGNAL_SYNC);

  fail_unless_equals_int64 (signal_member (frame, "n"), n);
  fail_unless_equals_int64 (signal_member (frame, "k"), k);
  g_bytes_unref (frame);
  expect_nothing (joiner, 50);
  client_free (joiner);
}

/* The reconnect grace (SPEC §6.2) over nodes. A source leaving A for B:
 * A's receivers go on with B's frames, and A's grace ending does not
 * drop what it holds. The origin A killed: the watching node C keeps
 * each channel's state for its --source-grace, as one relay does; a
 * source back on B within it continues that state (C's receivers get
 * its next frame, no reset), one that does not come back has its state
 * dropped once the grace is over */
GST_START_TEST (test_cluster_origin_grace)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, "--source-grace", "1", NULL);
  DsTestRelay *b = start_node (nats->url, NULL);
  DsTestRelay *c = start_node (nats->url, "--source-grace", "4", NULL);
  TestClient *leaving, *arriving, *on_a, *back, *gone, *on_back, *on_gone,
      *again;
  GBytes *frame;
  gint64 killed, dropped;

  wait_metric (a, "ds_relay_cluster_nodes", 2);
  wait_metric (b, "ds_relay_cluster_nodes", 2);
  wait_metric (c, "ds_relay_cluster_nodes", 2);

  /* the source of "moved" leaves A and reconnects to B, sending its
   * whole state again as dsrelaysink does */
  leaving = client_connect_channel (a, "peer", "moved");
  client_send (leaving, make_signal (DS_FRAME_SIGNAL_SYNC, 1,
          "{\"n\":1,\"k\":1}"));
  on_a = client_connect_channel (a, "stream", "moved");
  skip_to_signal_n (on_a, DS_FRAME_SIGNAL_SYNC, 1);
  client_free (leaving);
  wait_metric (a, "ds_relay_connections{role=\"source\"}", 0);
  arriving = client_connect_channel (b, "peer", "moved");
  client_send (arriving, make_signal (DS_FRAME_SIGNAL_SYNC, 2,
          "{\"n\":2,\"k\":1}"));
  skip_to_signal_n (on_a, DS_FRAME_SIGNAL_SYNC, 2);
  /* A's grace (1 s) is over: its state stays, B's source feeds it */
  pump (1500);
  client_send (arriving, make_signal (DS_FRAME_SIGNAL_DIFF, 3, "{\"n\":3}"));
  frame = expect_frame (on_a, DS_FRAME_SIGNAL_DIFF);
  fail_unless_equals_int64 (signal_n (frame), 3);
  g_bytes_unref (frame);
  expect_joiner_state (a, "moved", 3, 1);
  client_free (on_a);
  client_free (arriving);

  /* two channels from A, watched on C */
  back = client_connect_channel (a, "peer", "back");
  gone = client_connect_channel (a, "peer", "gone");
  client_send (back, make_signal (DS_FRAME_SIGNAL_SYNC, 1,
          "{\"n\":1,\"k\":7}"));
  client_send (gone, make_signal (DS_FRAME_SIGNAL_SYNC, 1,
          "{\"n\":1,\"k\":8}"));
  client_send (back, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"n\":2}"));
  client_send (gone, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"n\":2}"));
  on_back = client_connect_channel (c, "stream", "back");
  on_gone = client_connect_channel (c, "stream", "gone");
  skip_to_signal_n (on_back, DS_FRAME_SIGNAL_SYNC, 2);
  skip_to_signal_n (on_gone, DS_FRAME_SIGNAL_SYNC, 2);

  /* kill -9 of the origin */
  g_subprocess_force_exit (a->process);
  fail_unless (ds_test_relay_wait_exit (a, WAIT_MS));
  killed = g_get_monotonic_time ();
  client_free (back);
  client_free (gone);
  wait_metric (c, "ds_relay_cluster_nodes", 1);
  GST_INFO ("C saw the origin gone after %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - killed) / 1000);
  /* within the grace, joiners on C get the state of before */
  expect_joiner_state (c, "gone", 2, 8);

  /* the source of "back" reconnects to B: C's receivers go on */
  again = client_connect_channel (b, "peer", "back");
  client_send (again, make_signal (DS_FRAME_SIGNAL_DIFF, 3, "{\"n\":3}"));
  frame = expect_frame (on_back, DS_FRAME_SIGNAL_DIFF);
  fail_unless_equals_int64 (signal_n (frame), 3);
  g_bytes_unref (frame);

  /* the grace of "gone" ends on C: its state goes, as on one relay */
  WAIT_UNTIL (channel_signals (c, "gone") == 0, WAIT_MS + 4000);
  dropped = g_get_monotonic_time ();
  fail_unless_equals_int64 (channel_signals (c, "gone"), 0);
  GST_INFO ("C dropped the state %" G_GINT64_FORMAT " ms after the kill",
      (dropped - killed) / 1000);
  /* not before the grace: 4 s from when C saw the node gone */
  fail_unless ((dropped - killed) / 1000 >= 4000);
  {
    TestClient *late = client_connect_channel (c, "stream", "gone");

    expect_nothing (late, 300);
    client_free (late);
  }
  /* "back" was never dropped: the state of before and after */
  fail_unless_equals_int64 (channel_signals (c, "back"), 2);
  expect_joiner_state (c, "back", 3, 7);
  /* no reset frame, nothing else reached the receivers */
  expect_nothing (on_back, 50);
  expect_nothing (on_gone, 50);

  client_free (on_back);
  client_free (on_gone);
  client_free (again);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  ds_test_relay_free (c);
  nats_server_free (nats);
}

GST_END_TEST;

/* The origin's channel ends (its source left, the channel idle, removed)
 * and comes back on the same node, or the node is restarted with the same
 * --node-id: its frames' sequence starts over, which a watching node that
 * kept the old one must not take for frames it already had */
GST_START_TEST (test_cluster_origin_again)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, "--idle-grace", "0.5",
      "--source-grace", "0.5", "--node-id", "a1", NULL);
  DsTestRelay *c = start_node (nats->url, NULL);
  TestClient *source, *receiver;
  guint round, i;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (c, "ds_relay_cluster_nodes", 1);
  receiver = client_connect_channel (c, "stream", "again");
  for (round = 0; round < 3; round++) {
    source = client_connect_channel (a, "peer", "again");
    client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":0}"));
    for (i = 1; i <= 5; i++) {
      gchar *json = g_strdup_printf ("{\"n\":%u}", round * 10 + i);

      client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 1 + i, json));
      g_free (json);
    }
    skip_to_n (receiver, round * 10 + 5);
    client_free (source);
    if (round == 1) {
      /* the same node again, restarted */
      fail_unless (ds_test_relay_restart (a));
      wait_metric (c, "ds_relay_cluster_nodes", 1);
    } else {
      /* the source's state and the channel go on A */
      WAIT_UNTIL (ds_test_relay_http_get (a, "/channels/again", NULL) == 404,
          WAIT_MS);
      fail_unless_equals_int (ds_test_relay_http_get (a, "/channels/again",
              NULL), 404);
    }
  }

  client_free (receiver);
  ds_test_relay_free (a);
  ds_test_relay_free (c);
  nats_server_free (nats);
}

GST_END_TEST;

/* The origin killed, its source back at once on a node that has only
 * just started (it has not heard yet who watches): the first frames it
 * takes still reach the watching node */
GST_START_TEST (test_cluster_fresh_origin)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, NULL);
  DsTestRelay *c = start_node (nats->url, NULL);
  DsTestRelay *b[3] = { NULL, };
  TestClient *source, *receiver;
  guint round;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (c, "ds_relay_cluster_nodes", 1);
  source = client_connect_channel (a, "peer", "fresh");
  client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":1}"));
  receiver = client_connect_channel (c, "stream", "fresh");
  skip_to_n (receiver, 1);
  g_subprocess_force_exit (a->process);
  fail_unless (ds_test_relay_wait_exit (a, WAIT_MS));
  client_free (source);
  for (round = 0; round < G_N_ELEMENTS (b); round++) {
    gchar *json = g_strdup_printf ("{\"n\":%u}", 10 + round);

    b[round] = start_node (nats->url, NULL);
    /* at once, as dsrelaysink moving on: its resync is all it sends */
    source = client_connect_channel (b[round], "peer", "fresh");
    client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, json));
    skip_to_n (receiver, 10 + round);
    g_free (json);
    client_free (source);
  }

  client_free (receiver);
  ds_test_relay_free (a);
  for (round = 0; round < G_N_ELEMENTS (b); round++)
    ds_test_relay_free (b[round]);
  ds_test_relay_free (c);
  nats_server_free (nats);
}

GST_END_TEST;

/* KeyframeRequests of receivers on B while no node has a source: held,
 * as on one relay, and one reaches the source when it connects on A; with
 * receivers asking on A too, still one within the interval (B's, which
 * arrives after A's was sent, is coalesced by the origin's interval: one
 * more follows when it ends, 2 s after the join) */
GST_START_TEST (test_cluster_keyframe_pending)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, "--keyframe-request-interval", "2",
      NULL);
  DsTestRelay *b = start_node (nats->url, "--keyframe-request-interval", "2",
      NULL);
  const gchar *channels[] = { "kf1", "kf2" };
  guint round;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  for (round = 0; round < 2; round++) {
    TestClient *r1, *r2, *on_a = NULL, *source;
    GBytes *frame;
    guint requests = 0, i;
    gint64 joined;

    r1 = client_connect_channel (b, "stream", channels[round]);
    r2 = client_connect_channel (b, "stream", channels[round]);
    if (round == 1)
      on_a = client_connect_channel (a, "stream", channels[round]);
    for (i = 0; i < 2; i++) {
      client_send (r1, make_frame (DS_INPUT_KEYFRAME_REQUEST, DS_FLAG_INPUT,
              i, 0, 0, NULL, 0));
      client_send (r2, make_frame (DS_INPUT_KEYFRAME_REQUEST, DS_FLAG_INPUT,
              i, 0, 0, NULL, 0));
      if (on_a)
        client_send (on_a, make_frame (DS_INPUT_KEYFRAME_REQUEST,
                DS_FLAG_INPUT, i, 0, 0, NULL, 0));
    }
    /* the requests are in (B watches, and has no source to ask) */
    pump (300);
    source = client_connect_channel (a, "peer", channels[round]);
    joined = g_get_monotonic_time ();
    /* within 1.5 s of the join (the interval is 2 s) */
    while (g_get_monotonic_time () < joined + 1500 * 1000) {
      frame = client_pop (source, 50);
      if (frame == NULL)
        continue;
      if (frame_header (frame).type == DS_INPUT_KEYFRAME_REQUEST) {
        requests++;
        GST_INFO ("round %u: KeyframeRequest %u at the source %"
            G_GINT64_FORMAT " ms after it joined", round, requests,
            (g_get_monotonic_time () - joined) / 1000);
      }
      g_bytes_unref (frame);
    }
    fail_unless_equals_int (requests, 1);
    client_free (r1);
    client_free (r2);
    if (on_a)
      client_free (on_a);
    client_free (source);
  }

  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
}

GST_END_TEST;

/* Three NATS servers in a NATS cluster, a relay on each: frames go
 * through the routes, ReceiverCount counts the three nodes; the server of
 * the source's relay dies, the relay goes on through another */
GST_START_TEST (test_cluster_nats_cluster)
{
  NatsServer *servers[3];
  guint cluster_ports[3];
  DsTestRelay *a, *b, *c;
  TestClient *source, *receiver, *on_c, *local;
  gint64 before, one, two;
  gchar *urls_a, *urls_b;
  GBytes *frame;
  guint i;

  for (i = 0; i < 3; i++) {
    servers[i] = g_new0 (NatsServer, 1);
    servers[i]->cluster_port = cluster_ports[i] = free_port ();
  }
  for (i = 0; i < 3; i++) {
    guint routes[2], n = 0, j;

    for (j = 0; j < 3; j++)
      if (j != i)
        routes[n++] = cluster_ports[j];
    nats_server_spawn (servers[i], routes, n);
  }
  urls_a = g_strdup_printf ("%s,%s", servers[0]->url, servers[1]->url);
  urls_b = g_strdup_printf ("%s,%s", servers[2]->url, servers[1]->url);
  a = start_node (urls_a, NULL);
  b = start_node (urls_b, NULL);
  c = start_node (servers[1]->url, NULL);
  /* the routes may take a moment */
  wait_metric (a, "ds_relay_cluster_nodes", 2);
  wait_metric (b, "ds_relay_cluster_nodes", 2);
  wait_metric (c, "ds_relay_cluster_nodes", 2);

  source = client_connect_channel (a, "peer", "r");
  fail_unless_equals_int (next_receiver_count (source, WAIT_MS), 0);
  client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":1}"));
  receiver = client_connect_channel (b, "stream", "r");
  frame = expect_frame (receiver, DS_FRAME_SIGNAL_SYNC);
  fail_unless_equals_int64 (signal_n (frame), 1);
  g_bytes_unref (frame);
  on_c = client_connect_channel (c, "stream", "r");
  frame = expect_frame (on_c, DS_FRAME_SIGNAL_SYNC);
  fail_unless_equals_int64 (signal_n (frame), 1);
  g_bytes_unref (frame);
  /* counted over the three nodes */
  local = client_connect_channel (a, "stream", "r");
  fail_unless (wait_receiver_count (source, 3));
  wait_remote_receivers (a, "r", 2);
  /* a frame is published once, whatever the number of nodes watching */
  before = published (a, "r");
  client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 3, "{\"n\":3}"));
  frame = expect_frame (on_c, DS_FRAME_SIGNAL_DIFF);
  g_bytes_unref (frame);
  frame = expect_frame (receiver, DS_FRAME_SIGNAL_DIFF);
  g_bytes_unref (frame);
  two = published (a, "r") - before;
  client_free (local);
  client_free (on_c);
  fail_unless (wait_receiver_count (source, 1));
  wait_remote_receivers (a, "r", 1);
  before = published (a, "r");
  client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 4, "{\"n\":4}"));
  frame = expect_frame (receiver, DS_FRAME_SIGNAL_DIFF);
  g_bytes_unref (frame);
  one = published (a, "r") - before;
  /* 16 + 7 bytes of frame, 32 of header */
  fail_unless_equals_int64 (two, 16 + 7 + 32);
  fail_unless_equals_int64 (one, two);

  /* A's server dies: A reconnects to the second one */
  fail_unless_equals_int64 (metric (a, "ds_relay_cluster_reconnects_total"), 0);
  nats_server_kill (servers[0]);
  wait_metric (a, "ds_relay_cluster_reconnects_total", 1);
  fail_unless (ds_test_relay_wait_healthy (a, WAIT_MS));
  wait_metric (a, "ds_relay_cluster_nodes", 2);
  client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"n\":2}"));
  skip_to_signal_n (receiver, DS_FRAME_SIGNAL_DIFF, 2);

  client_free (source);
  client_free (receiver);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  ds_test_relay_free (c);
  for (i = 0; i < 3; i++)
    nats_server_free (servers[i]);
  g_free (urls_a);
  g_free (urls_b);
}

GST_END_TEST;

static void
nats_publish_raw (natsConnection * nc, const gchar * subject,
    const guint8 * data, gsize len)
{
  fail_unless_equals_int (natsConnection_Publish (nc, subject, data,
          (int) len), NATS_OK);
}

static void
put_be (guint8 * out, guint64 value, guint bytes)
{
  guint i;

  for (i = 0; i < bytes; i++)
    out[i] = (guint8) (value >> (8 * (bytes - 1 - i)));
}

/* A foreign publisher on the cluster's subjects: no crash, nothing
 * reaches receivers, no allocation from what it announces */
GST_START_TEST (test_cluster_foreign_messages)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, NULL);
  DsTestRelay *b = start_node (nats->url, NULL);
  TestClient *source, *receiver;
  natsConnection *nc = NULL;
  /* "evil" in hex */
  const gchar *frames = "ds.ch.6576696c.f";
  guint8 msg[64 + 16];
  GBytes *frame;
  guint i;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  source = client_connect_channel (a, "peer", "evil");
  client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":1}"));
  receiver = client_connect_channel (b, "stream", "evil");
  frame = expect_frame (receiver, DS_FRAME_SIGNAL_SYNC);
  g_bytes_unref (frame);
  wait_remote_receivers (a, "evil", 1);

  fail_unless_equals_int (natsConnection_ConnectTo (&nc, nats->url), NATS_OK);
  /* garbage, short, wrong version */
  nats_publish_raw (nc, frames, (const guint8 *) "garbage", 7);
  nats_publish_raw (nc, frames, (const guint8 *) "", 0);
  memset (msg, 0, sizeof (msg));
  msg[0] = 'd';
  msg[1] = 's';
  msg[2] = 9;
  nats_publish_raw (nc, frames, msg, 32);
  /* a joiner1 chunk announcing 4 GB: refused, nothing allocated for it */
  msg[2] = 1;
  msg[3] = 1;
  put_be (msg + 4, 0x1234, 8);
  put_be (msg + 12, 1, 8);
  put_be (msg + 20, G_MAXUINT32, 4);
  put_be (msg + 24, 0, 2);
  put_be (msg + 26, 65535, 2);
  nats_publish_raw (nc, frames, msg, 64);
  /* a whole, well-framed message carrying a malformed ds frame */
  put_be (msg + 20, 20, 4);
  put_be (msg + 26, 1, 2);
  memset (msg + 32, 0xee, 20);
  nats_publish_raw (nc, frames, msg, 52);
  /* heartbeats: not JSON, a huge receiver count, bad names */
  msg[3] = 5;
  put_be (msg + 20, 5, 4);
  memcpy (msg + 32, "{{{{{", 5);
  nats_publish_raw (nc, "ds.nodes", msg, 37);
  {
    const gchar *json = "{\"channels\":[{\"name\":\"../x\",\"receivers\":5},"
        "{\"name\":7},{\"name\":\"evil\",\"receivers\":-9}]}";
    gsize len = strlen (json);
    guint8 *hb = g_malloc (32 + len);

    memcpy (hb, msg, 32);
    put_be (hb + 20, len, 4);
    memcpy (hb + 32, json, len);
    nats_publish_raw (nc, "ds.nodes", hb, 32 + len);
    g_free (hb);
  }
  /* nested deeper than json-glib's recursion should ever see */
  {
    gsize depth = 200000;
    guint8 *hb = g_malloc (32 + depth);

    memcpy (hb, msg, 32);
    put_be (hb + 20, depth, 4);
    memset (hb + 32, '[', depth);
    nats_publish_raw (nc, "ds.nodes", hb, 32 + depth);
    g_free (hb);
  }
  /* input that is not input, and a catch-up request without a reply */
  msg[3] = 2;
  put_be (msg + 20, 4, 4);
  nats_publish_raw (nc, "ds.ch.6576696c.in", msg, 36);
  msg[3] = 4;
  put_be (msg + 20, 0, 4);
  nats_publish_raw (nc, "ds.ch.6576696c.cu", msg, 32);
  /* a subject naming no valid channel */
  nats_publish_raw (nc, "ds.ch.zz.f", msg, 32);
  natsConnection_Flush (nc);

  wait_metric_at_least (b,
      "ds_relay_cluster_messages_dropped_total{reason=\"malformed\"}", 5);
  /* still serving: a real frame after all that */
  client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"n\":2}"));
  frame = expect_frame (receiver, DS_FRAME_SIGNAL_DIFF);
  fail_unless_equals_int64 (signal_n (frame), 2);
  g_bytes_unref (frame);
  expect_nothing (receiver, 200);
  for (i = 0; i < 5; i++)
    fail_unless_equals_int (ds_test_relay_http_get (b, "/healthz", NULL), 200);

  natsConnection_Destroy (nc);
  client_free (source);
  client_free (receiver);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
}

GST_END_TEST;

#endif /* DS_HAVE_NATS */

static gboolean
nats_tests_run (void)
{
#ifdef DS_HAVE_NATS
  return ds_test_relay_available () && nats_server_path () != NULL;
#else
  return FALSE;
#endif
}

/* Pops the next text message of @client within @ms; NULL on timeout */
static gchar *
client_pop_text (TestClient * client, guint ms)
{
  GBytes *text;
  gchar *copy;

  WAIT_UNTIL (!g_queue_is_empty (&client->texts), ms);
  text = g_queue_pop_head (&client->texts);
  if (text == NULL)
    return NULL;
  copy = g_strndup (g_bytes_get_data (text, NULL), g_bytes_get_size (text));
  g_bytes_unref (text);
  return copy;
}

static void
expect_text (TestClient * client, const gchar * expected)
{
  gchar *text = client_pop_text (client, WAIT_MS);

  fail_unless (text != NULL, "no signaling message (expected %s)", expected);
  fail_unless_equals_string (text, expected);
  g_free (text);
}

/* /signal/ clients on different nodes reach each other as on one node:
 * every other client of the channel, not the sender, not other channels,
 * text and binary kept apart; nothing is published while no other node
 * has a signaling client on the channel */
GST_START_TEST (test_cluster_signaling)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, NULL);
  DsTestRelay *b = start_node (nats->url, NULL);
  TestClient *a1, *a2, *b1, *other;
  GBytes *binary;
  const guint8 blob[] = { 0x00, 0xff, 0x10 };

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  a1 = client_connect_ok (a, "/signal/rtc");
  a2 = client_connect_ok (a, "/signal/rtc");
  /* alone in the cluster: stays on A */
  soup_websocket_connection_send_text (a1->conn, "{\"hello\":1}");
  expect_text (a2, "{\"hello\":1}");
  pump (300);
  fail_unless_equals_int64 (metric (a,
          "ds_relay_cluster_signaling_messages_total{direction=\"out\"}"), 0);

  b1 = client_connect_ok (b, "/signal/rtc");
  other = client_connect_ok (b, "/signal/other");
  /* A hears of B's client from B's heartbeat */
  {
    gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
    gchar *text = NULL;

    /* until A knows of B's client, A's messages stay on A */
    while (text == NULL && g_get_monotonic_time () < end) {
      soup_websocket_connection_send_text (a1->conn, "{\"sdp\":\"offer\"}");
      expect_text (a2, "{\"sdp\":\"offer\"}");
      text = client_pop_text (b1, 200);
    }
    fail_unless (text != NULL, "nothing from A reached B");
    fail_unless_equals_string (text, "{\"sdp\":\"offer\"}");
    g_free (text);
  }
  /* B to A: both of A's clients, not back to B's sender */
  soup_websocket_connection_send_text (b1->conn, "{\"sdp\":\"answer\"}");
  expect_text (a1, "{\"sdp\":\"answer\"}");
  expect_text (a2, "{\"sdp\":\"answer\"}");
  soup_websocket_connection_send_binary (b1->conn, blob, sizeof (blob));
  WAIT_UNTIL (!g_queue_is_empty (&a1->messages), WAIT_MS);
  binary = g_queue_pop_head (&a1->messages);
  fail_unless (binary != NULL, "the binary message did not cross");
  fail_unless_equals_int (g_bytes_get_size (binary), sizeof (blob));
  fail_unless (memcmp (g_bytes_get_data (binary, NULL), blob,
          sizeof (blob)) == 0);
  g_bytes_unref (binary);
  pump (300);
  fail_unless (g_queue_is_empty (&b1->texts));
  fail_unless (g_queue_is_empty (&b1->messages));
  fail_unless (g_queue_is_empty (&other->texts));
  fail_unless (metric (b,
          "ds_relay_cluster_signaling_messages_total{direction=\"out\"}") >= 2);

  /* forged on NATS: text that is not UTF-8, an unknown flag: dropped */
  {
    natsConnection *nc = NULL;
    guint8 msg[32 + 4];
    gint64 malformed = metric (a,
        "ds_relay_cluster_messages_dropped_total{reason=\"malformed\"}");

    fail_unless_equals_int (natsConnection_ConnectTo (&nc, nats->url), NATS_OK);
    memset (msg, 0, sizeof (msg));
    msg[0] = 'd';
    msg[1] = 's';
    msg[2] = 1;
    msg[3] = 6;
    put_be (msg + 4, 0x77, 8);
    put_be (msg + 20, 4, 4);
    put_be (msg + 26, 1, 2);
    memcpy (msg + 32, "\xff\xfe{}", 4);
    fail_unless_equals_int (natsConnection_Publish (nc, "ds.ch.727463.sig",
            msg, sizeof (msg)), NATS_OK);
    put_be (msg + 12, 7, 8);
    memcpy (msg + 32, "{}{}", 4);
    fail_unless_equals_int (natsConnection_Publish (nc, "ds.ch.727463.sig",
            msg, sizeof (msg)), NATS_OK);
    natsConnection_Flush (nc);
    wait_metric (a,
        "ds_relay_cluster_messages_dropped_total{reason=\"malformed\"}",
        malformed + 2);
    pump (100);
    fail_unless (g_queue_is_empty (&a1->texts));
    natsConnection_Destroy (nc);
  }

  /* B's client leaves: A stops publishing */
  client_free (b1);
  client_free (other);
  {
    gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
    gint64 out, before;

    do {
      before = metric (a,
          "ds_relay_cluster_signaling_messages_total{direction=\"out\"}");
      soup_websocket_connection_send_text (a1->conn, "{\"bye\":1}");
      expect_text (a2, "{\"bye\":1}");
      pump (100);
      out = metric (a,
          "ds_relay_cluster_signaling_messages_total{direction=\"out\"}");
    } while (out != before && g_get_monotonic_time () < end);
    fail_unless (out == before, "A still publishes with nobody on B");
  }

  client_free (a1);
  client_free (a2);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
}

GST_END_TEST;

/* A NATS server that stops reading (SIGSTOP: a hung or overloaded
 * server) must not stall the relay: its local receivers go on getting
 * frames, /healthz answers (503 once the node counts NATS as lost), and
 * when the server reads again the watching node is whole again */
GST_START_TEST (test_cluster_nats_stalled)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, NULL);
  DsTestRelay *b = start_node (nats->url, NULL);
  TestClient *source, *remote, *local;
  const gsize big_len = 1024 * 1024;
  guint8 *big = g_malloc0 (big_len);
  GBytes *frame;
  gint64 start, elapsed;
  guint i, status;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  source = client_connect_channel (a, "peer", "st");
  client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":1}"));
  remote = client_connect_channel (b, "stream", "st");
  frame = expect_frame (remote, DS_FRAME_SIGNAL_SYNC);
  g_bytes_unref (frame);
  wait_remote_receivers (a, "st", 1);
  local = client_connect_channel (a, "stream", "st");
  frame = expect_frame (local, DS_FRAME_SIGNAL_SYNC);
  g_bytes_unref (frame);

  g_subprocess_send_signal (nats->process, SIGSTOP);
  /* far more than the socket buffers hold: every publish would block */
  start = g_get_monotonic_time ();
  for (i = 0; i < 40; i++) {
    big[0] = (guint8) i;
    client_send (source, make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME,
            (guint16) (10 + i), 512, 512, big, big_len));
    frame = expect_frame (local, DS_FRAME_PIXELS);
    fail_unless_equals_int (((const guint8 *) g_bytes_get_data (frame,
                NULL))[DS_HEADER_SIZE], i);
    g_bytes_unref (frame);
  }
  elapsed = (g_get_monotonic_time () - start) / 1000;
  GST_INFO ("40 MiB to the local receiver with NATS stalled in %"
      G_GINT64_FORMAT " ms", elapsed);
  start = g_get_monotonic_time ();
  status = ds_test_relay_http_get (a, "/healthz", NULL);
  elapsed = (g_get_monotonic_time () - start) / 1000;
  fail_unless (status == 200 || status == 503, "healthz %u", status);
  fail_unless (elapsed < 3000, "healthz took %" G_GINT64_FORMAT " ms", elapsed);

  g_subprocess_send_signal (nats->process, SIGCONT);
  fail_unless (ds_test_relay_wait_healthy (a, WAIT_MS * 2));
  /* B is whole again: the latest frame reaches it (live or in a resync) */
  client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 99, "{\"n\":99}"));
  for (;;) {
    DsHeader header;

    frame = client_pop (remote, WAIT_MS * 2);
    fail_unless (frame != NULL, "B did not get n = 99");
    header = frame_header (frame);
    if ((header.type == DS_FRAME_SIGNAL_DIFF ||
            header.type == DS_FRAME_SIGNAL_SYNC) && signal_n (frame) == 99)
      break;
    g_bytes_unref (frame);
  }
  g_bytes_unref (frame);

  g_free (big);
  client_free (local);
  client_free (remote);
  client_free (source);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
}

GST_END_TEST;


/* ReceiverReport over the cluster: the source on A, a receiver on A that
 * keeps up, and on B one that keeps up and one that reads nothing. A's
 * report counts B's receivers and B's drops (from B's heartbeats). */
GST_START_TEST (test_cluster_receiver_report)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, NULL);
  DsTestRelay *b = start_node (nats->url, "--max-queue-bytes", "1048576",
      "--stuck-timeout", "60", NULL);
  const guint side = 256;
  gsize size = side * side * 4;
  guint8 *pixels = g_malloc (size);
  TestClient *source, *readers[2];
  GSocketConnection *stuck;
  DsReceiverReport report = { 0, };
  gboolean got = FALSE;
  gint64 end;
  guint16 seq = 1;
  guint i;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  source = client_connect_channel (a, "peer", "rr");
  readers[0] = client_connect_channel (a, "stream", "rr");
  readers[1] = client_connect_channel (b, "stream", "rr");
  stuck = connect_stuck_receiver (b, "rr");
  fail_unless (wait_receiver_count (source, 3));

  end = g_get_monotonic_time () + 4 * WAIT_MS * 1000;
  while (!got && g_get_monotonic_time () < end) {
    GBytes *frame;

    memset (pixels, seq & 0xff, size);
    client_send (source, make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, seq++,
            side, side, pixels, size));
    pump (50);
    for (i = 0; i < G_N_ELEMENTS (readers); i++)
      g_queue_clear_full (&readers[i]->messages,
          (GDestroyNotify) g_bytes_unref);
    while (!got && (frame = g_queue_pop_head (&source->messages))) {
      DsHeader header = frame_header (frame);
      const guint8 *data = g_bytes_get_data (frame, NULL);

      if ((header.flags & DS_FLAG_INPUT) &&
          header.type == DS_INPUT_RECEIVER_REPORT) {
        fail_unless (ds_receiver_report_parse (data + DS_HEADER_SIZE,
                header.payload_len, &report, NULL));
        GST_INFO ("report: %u receivers, %u/%u/%u kbps, %u dropped",
            report.receivers, report.kbps_min, report.kbps_median,
            report.kbps_max, report.dropped);
        /* A's own receiver keeps up: every report is B's doing */
        fail_unless (report.dropped > 0 || report.receivers == 3);
        got = report.receivers == 3 && report.dropped > 0;
      }
      g_bytes_unref (frame);
    }
  }
  fail_unless (got, "no ReceiverReport counting B's receivers");
  fail_unless (report.kbps_min <= report.kbps_median &&
      report.kbps_median <= report.kbps_max);
  fail_unless (report.kbps_max > 0);
  fail_unless (metric (a, "ds_relay_receiver_reports_total") >= 1);
  /* B has no source: it reports through its heartbeats only */
  fail_unless_equals_int64 (metric (b, "ds_relay_receiver_reports_total"), 0);

  g_object_unref (stuck);
  g_free (pixels);
  for (i = 0; i < G_N_ELEMENTS (readers); i++)
    client_free (readers[i]);
  client_free (source);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
}

GST_END_TEST;

/* The origin's frame numbers go back (restarted with the same --node-id
 * on a clock that is behind, or its clock stepped back; here its
 * heartbeat is forged on NATS to say so): the watching node does not take
 * its frames for ones seen before for ever, it asks for a catch-up */
GST_START_TEST (test_cluster_origin_numbers_back)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats->url, "--node-id", "a1", NULL);
  DsTestRelay *b = start_node (nats->url, NULL);
  TestClient *source, *receiver;
  natsConnection *nc = NULL;
  const gchar *json = "{\"channels\":[{\"name\":\"back\",\"receivers\":0,"
      "\"watching\":false,\"source\":true,\"source_since\":1,\"seq\":1}]}";
  gsize len = strlen (json);
  guint8 *hb = g_malloc0 (32 + len);
  GBytes *frame;
  gint64 received;

  wait_metric (a, "ds_relay_cluster_nodes", 1);
  wait_metric (b, "ds_relay_cluster_nodes", 1);
  source = client_connect_channel (a, "peer", "back");
  client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"n\":1}"));
  receiver = client_connect_channel (b, "stream", "back");
  frame = expect_frame (receiver, DS_FRAME_SIGNAL_SYNC);
  g_bytes_unref (frame);
  client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"n\":2}"));
  skip_to_signal_n (receiver, DS_FRAME_SIGNAL_DIFF, 2);
  received = metric (b, "ds_relay_cluster_catchups_total"
      "{direction=\"received\"}");

  /* A's heartbeat, numbered 1 (a restart) and at frame 1 */
  hb[0] = 'd';
  hb[1] = 's';
  hb[2] = 1;
  hb[3] = 5;
  put_be (hb + 4, 0xa1, 8);
  put_be (hb + 12, 1, 8);
  put_be (hb + 20, len, 4);
  put_be (hb + 26, 1, 2);
  memcpy (hb + 32, json, len);
  fail_unless_equals_int (natsConnection_ConnectTo (&nc, nats->url), NATS_OK);
  fail_unless_equals_int (natsConnection_Publish (nc, "ds.nodes", hb,
          (int) (32 + len)), NATS_OK);
  natsConnection_Flush (nc);
  /* B asks A for its state again, and goes on */
  wait_metric (b, "ds_relay_cluster_catchups_total{direction=\"received\"}",
      received + 1);
  client_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 3, "{\"n\":3}"));
  for (;;) {
    DsHeader header;

    frame = client_pop (receiver, WAIT_MS);
    fail_unless (frame != NULL, "B did not get n = 3");
    header = frame_header (frame);
    if ((header.type == DS_FRAME_SIGNAL_DIFF ||
            header.type == DS_FRAME_SIGNAL_SYNC) && signal_n (frame) == 3)
      break;
    g_bytes_unref (frame);
  }
  g_bytes_unref (frame);

  natsConnection_Destroy (nc);
  g_free (hb);
  client_free (receiver);
  client_free (source);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  nats_server_free (nats);
}

GST_END_TEST;

static Suite *
cluster_suite (void)
{
  Suite *s = suite_create ("ds-relay-cluster");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 90);
  tcase_add_checked_fixture (tc, setup, teardown);
  if (!ds_test_relay_available ())
    return s;
  tcase_add_test (tc, test_cluster_options);
#ifdef DS_HAVE_NATS
  if (nats_tests_run ()) {
    tcase_add_test (tc, test_cluster_health);
    tcase_add_test (tc, test_cluster_secret_files);
    tcase_add_test (tc, test_cluster_frames);
    tcase_add_test (tc, test_cluster_catchup);
    tcase_add_test (tc, test_cluster_takeover);
    tcase_add_test (tc, test_cluster_node_killed);
    tcase_add_test (tc, test_cluster_origin_grace);
    tcase_add_test (tc, test_cluster_keyframe_pending);
    tcase_add_test (tc, test_cluster_origin_again);
    tcase_add_test (tc, test_cluster_origin_numbers_back);
    tcase_add_test (tc, test_cluster_fresh_origin);
    tcase_add_test (tc, test_cluster_join_race);
    tcase_add_test (tc, test_cluster_nats_cluster);
    tcase_add_test (tc, test_cluster_foreign_messages);
    tcase_add_test (tc, test_cluster_signaling);
    tcase_add_test (tc, test_cluster_nats_stalled);
    tcase_add_test (tc, test_cluster_receiver_report);
  }
#endif
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;
  int failed;

  gst_check_init (&argc, &argv);
  s = cluster_suite ();
  failed = gst_check_run_suite (s, "cluster", __FILE__);
  if (failed == 0 && !nats_tests_run ()) {
    g_print ("SKIP: the cluster tests did not run: %s\n",
        !ds_test_relay_available ()? "$DS_RELAY is not an executable" :
#ifdef DS_HAVE_NATS
        "nats-server was not found ($NATS_SERVER; Debian package nats-server)"
#else
        "this build has no libnats (-Dnats)"
#endif
        );
    return 77;
  }
  return failed;
}
