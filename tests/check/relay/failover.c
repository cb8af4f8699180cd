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
 * Failover end to end (issue 15, docs/cluster.md): three ds-relay nodes
 * over a real nats-server, a publishing pipeline (appsrc ! dsrelaysink)
 * fed pictures and signals by a thread, a receiving one (dsstreamsrc !
 * appsink) that rebuilds the picture and the signal state from what it
 * gets and checks both against what was sent. A node is killed (SIGKILL)
 * under the receiver, or under the source; the elements run with their
 * default reconnect settings. The time from the kill to the receiver's
 * first correct picture and state is logged and bounded. Without
 * nats-server, or with a relay built without libnats, the program exits
 * 77 (SKIP).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "../ds-test-net.h"
#include "../ds-test-nats.h"

#define WIDTH 64
#define HEIGHT 32
#define PICTURE_BYTES (WIDTH * HEIGHT * 4)
/* the source's pace: a picture and a signal diff */
#define FRAME_INTERVAL_MS 40
/* dssoup reconnects at once only after a connection that lasted 5 s
 * (GST_DS_SOUP_STABLE_MS); the tests let theirs last longer */
#define SETTLE_MS 6000
/* what the issue asks is 2 s; under AddressSanitizer more */
#define RECOVERY_BOUND_MS (DS_TEST_SANITIZED ? 6000 : 2000)

static const gchar *schema = "{\"signals\":[\"count\",\"label\"],"
    "\"mode\":\"signal\"}";

/* The source: pictures (a keyframe every 50, and at once when a
 * GstForceKeyUnit comes upstream, as dsdelta does) and a diff of "count"
 * per picture, from a thread; "label" is only in the first SignalSync */
typedef struct
{
  GstElement *tx;
  GThread *thread;
  gint stop;                    /* atomic */
  gint last;                    /* atomic: the last picture and count sent */
  gint keyframe_wanted;         /* atomic */
  gint flow_errors;             /* atomic */
  guint8 prev[PICTURE_BYTES];
} Feeder;

static GstPadProbeReturn
feeder_upstream_cb (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Feeder *feeder = user_data;

  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    g_atomic_int_set (&feeder->keyframe_wanted, 1);
  return GST_PAD_PROBE_OK;
}

static void
feeder_push (Feeder * feeder, GstBuffer * buffer)
{
  if (gst_app_src_push_buffer (GST_APP_SRC (get (feeder->tx, "src")),
          buffer) != GST_FLOW_OK)
    g_atomic_int_inc (&feeder->flow_errors);
}

static gpointer
feeder_thread (gpointer user_data)
{
  Feeder *feeder = user_data;
  guint n;

  for (n = 1; !g_atomic_int_get (&feeder->stop); n++) {
    gboolean key = n % 50 == 0 ||
        g_atomic_int_compare_and_exchange (&feeder->keyframe_wanted, 1, 0);
    gchar *json = g_strdup_printf ("{\"count\":%u}", n);

    feeder_push (feeder, make_picture_frame (n, WIDTH, HEIGHT, feeder->prev,
            key ? 1 : G_MAXUINT));
    feeder_push (feeder, make_signal (DS_FRAME_SIGNAL_DIFF, n, n * 33, json));
    g_free (json);
    g_atomic_int_set (&feeder->last, n);
    g_usleep (FRAME_INTERVAL_MS * 1000);
  }
  return NULL;
}

static void
feeder_start (Feeder * feeder, const gchar * locations)
{
  gchar *desc = g_strdup_printf ("appsrc name=src is-live=true format=time "
      "caps=" GST_DS_STREAM_MEDIA_TYPE " ! dsrelaysink name=sink "
      "locations=\"%s\"", locations);
  GstPad *pad;

  memset (feeder, 0, sizeof (*feeder));
  feeder->tx = launch (desc);
  g_free (desc);
  pad = gst_element_get_static_pad (get (feeder->tx, "src"), "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      feeder_upstream_cb, feeder, NULL);
  gst_object_unref (pad);
  set_state (feeder->tx, GST_STATE_PLAYING);
  fail_unless (wait_for_boolean (get (feeder->tx, "sink"), "connected", TRUE,
          WAIT_MS));
  feeder_push (feeder, make_frame (DS_FRAME_SCHEMA_ANNOUNCE, 0, 0, 0, 0, 0,
          schema, strlen (schema)));
  feeder_push (feeder, make_signal (DS_FRAME_SIGNAL_SYNC, 0, 0,
          "{\"count\":0,\"label\":\"failover\"}"));
  feeder_push (feeder, make_picture_frame (0, WIDTH, HEIGHT, feeder->prev, 1));
  feeder->thread = g_thread_new ("feeder", feeder_thread, feeder);
}

static guint
feeder_stop (Feeder * feeder)
{
  g_atomic_int_set (&feeder->stop, 1);
  g_thread_join (feeder->thread);
  fail_unless_equals_int (g_atomic_int_get (&feeder->flow_errors), 0);
  return (guint) g_atomic_int_get (&feeder->last);
}

/* The receiver's view: the picture and the signal state rebuilt from its
 * frames, and what would show a reset or a wrong picture */
typedef struct
{
  GstElement *rx;
  DsSignalState *state;
  guint8 picture[PICTURE_BYTES];
  gint64 picture_n;             /* -1: none, or a delta missed its picture */
  gint64 last_diff;             /* the count of the last diff */
  gint64 last_picture;          /* the number of the last picture */
  guint syncs;
  gboolean picture_since_sync;
  guint resets;                 /* Keyframe (0xF0) and End frames */
  guint wrong_pictures;
  guint out_of_order;           /* a diff or picture not after the last */
  guint missed;                 /* diffs lost in a gap */
} Receiver;

static void
receiver_start (Receiver * r, const gchar * locations)
{
  gchar *desc = g_strdup_printf ("dsstreamsrc name=src locations=\"%s\" ! "
      "appsink name=sink sync=false", locations);

  memset (r, 0, sizeof (*r));
  r->rx = launch (desc);
  g_free (desc);
  r->state = ds_signal_state_new ();
  r->picture_n = r->last_diff = r->last_picture = -1;
  set_state (r->rx, GST_STATE_PLAYING);
}

static void
receiver_free (Receiver * r)
{
  stop (r->rx);
  ds_signal_state_free (r->state);
}

/* One frame: applied to the state and the picture, and checked */
static void
receiver_take (Receiver * r, GstBuffer * buffer)
{
  DsHeader header;
  GstMapInfo map;
  guint8 expected[PICTURE_BYTES];

  fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
  if (header.type == DS_FRAME_KEYFRAME || header.type == DS_FRAME_END) {
    r->resets++;
    return;
  }
  if (header.type == DS_FRAME_SIGNAL_SYNC) {
    r->syncs++;
    r->picture_since_sync = FALSE;
  }
  if (header.type == DS_FRAME_SIGNAL_DIFF) {
    gint64 before = state_get (r->state, "count");

    apply_signal (r->state, buffer);
    if (state_get (r->state, "count") <= r->last_diff)
      r->out_of_order++;
    else if (r->last_diff >= 0 && before >= 0 &&
        state_get (r->state, "count") > before + 1)
      r->missed += state_get (r->state, "count") - before - 1;
    r->last_diff = state_get (r->state, "count");
    return;
  }
  if (apply_signal (r->state, buffer))
    return;
  if (header.type != DS_FRAME_PIXELS && header.type != DS_FRAME_DELTA_PIXELS)
    return;

  /* make_picture_frame (): the picture's number in its timestamp */
  if ((gint64) header.timestamp / 33 <= r->last_picture)
    r->out_of_order++;
  r->last_picture = header.timestamp / 33;
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  if (header.type == DS_FRAME_PIXELS) {
    fail_unless_equals_int (header.payload_len, PICTURE_BYTES);
    memcpy (r->picture, map.data + DS_HEADER_SIZE, PICTURE_BYTES);
    r->picture_n = r->last_picture;
  } else if (r->picture_n >= 0 && ds_rle_decode_xor (map.data +
          DS_HEADER_SIZE, header.payload_len, r->picture, r->picture,
          PICTURE_BYTES, NULL)) {
    r->picture_n = r->last_picture;
  } else {
    /* a delta without its picture: no picture until a keyframe */
    r->picture_n = -1;
  }
  gst_buffer_unmap (buffer, &map);
  if (r->picture_n < 0)
    return;
  r->picture_since_sync = TRUE;
  fill_picture (expected, WIDTH, HEIGHT, (guint) r->picture_n);
  if (memcmp (expected, r->picture, PICTURE_BYTES) != 0) {
    GST_WARNING ("picture %" G_GINT64_FORMAT " is wrong", r->picture_n);
    r->wrong_pictures++;
  }
}

/* Whether the receiver shows picture @n or later, and a state whole (the
 * label of the first SignalSync) with "count" @n or later */
static gboolean
receiver_current (Receiver * r, gint64 n)
{
  JsonObject *values = ds_signal_state_get_values (r->state);

  return r->picture_n >= n && state_get (r->state, "count") >= n &&
      json_object_has_member (values, "label") &&
      g_strcmp0 (json_object_get_string_member (values, "label"),
      "failover") == 0;
}

/* Takes frames for @ms */
static void
receiver_run (Receiver * r, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  GstBuffer *buffer;

  while (g_get_monotonic_time () < end) {
    buffer = pull (r->rx, 20);
    if (buffer) {
      receiver_take (r, buffer);
      gst_buffer_unref (buffer);
    }
  }
}

/* Takes frames until it shows @n or later (with @after_sync, a picture
 * that came after a new SignalSync: a new connection's catch-up), within
 * WAIT_MS; returns when (monotonic µs), or fails */
static gint64
receiver_wait_current (Receiver * r, gint64 n, gboolean after_sync)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
  guint syncs = r->syncs;
  GstBuffer *buffer;

  while (g_get_monotonic_time () < end) {
    if (receiver_current (r, n) && (!after_sync || (r->syncs > syncs &&
                r->picture_since_sync)))
      return g_get_monotonic_time ();
    buffer = pull (r->rx, 20);
    if (buffer) {
      receiver_take (r, buffer);
      gst_buffer_unref (buffer);
    }
  }
  fail ("the receiver shows picture %" G_GINT64_FORMAT " and count %"
      G_GINT64_FORMAT ", not %" G_GINT64_FORMAT "%s", r->picture_n,
      state_get (r->state, "count"), n, after_sync && r->syncs == syncs ?
      " after a new connection's catch-up (none came)" : "");
  return 0;
}

/* The location of the next ds-connected message of @pipeline (within
 * WAIT_MS; an error message fails the test) */
static gchar *
next_connected_location (GstElement * pipeline)
{
  GstMessage *msg = wait_for_message (pipeline, GST_MESSAGE_ELEMENT,
      "ds-connected", WAIT_MS);
  gchar *location;

  fail_unless (msg != NULL, "no ds-connected message");
  location = g_strdup (gst_structure_get_string (gst_message_get_structure
          (msg), "location"));
  gst_message_unref (msg);
  return location;
}

static DsTestRelay *
start_node (NatsServer * nats)
{
  const gchar *cluster[] = { "--cluster", nats->url, NULL };
  DsTestRelay *relay = ds_test_relay_startv (cluster);

  fail_unless (relay != NULL, "could not start ds-relay --cluster");
  return relay;
}

static void
wait_nodes (DsTestRelay * relay, gint64 n)
{
  fail_unless_equals_int64 (ds_test_relay_wait_metric (relay,
          "ds_relay_cluster_nodes", n, WAIT_MS), n);
}

/* kill -9; returns when it was sent (monotonic µs) */
static gint64
kill_node (DsTestRelay * relay)
{
  gint64 now = g_get_monotonic_time ();

  g_subprocess_force_exit (relay->process);
  fail_unless (ds_test_relay_wait_exit (relay, WAIT_MS));
  return now;
}

/* kill -9 of the receiver's node: dsstreamsrc locations=<B,C> moves to C
 * at once (its default settings), and C gives it the channel's current
 * picture and whole signal state (the catch-up from A, the origin) */
GST_START_TEST (test_failover_receiver_node_killed)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats), *b = start_node (nats),
      *c = start_node (nats);
  gchar *peer_a = ds_test_relay_ws_uri (a, "/peer/fo");
  gchar *on_b = ds_test_relay_ws_uri (b, "/stream/fo");
  gchar *on_c = ds_test_relay_ws_uri (c, "/stream/fo");
  gchar *list = g_strdup_printf ("<%s, %s>", on_b, on_c);
  gchar *location;
  Feeder feeder;
  Receiver r;
  gint64 killed, recovered, n_killed;

  wait_nodes (a, 2);
  wait_nodes (b, 2);
  wait_nodes (c, 2);
  location = g_strdup_printf ("<%s>", peer_a);
  feeder_start (&feeder, location);
  g_free (location);
  receiver_start (&r, list);
  receiver_wait_current (&r, 1, FALSE);
  location = next_connected_location (r.rx);
  fail_unless_equals_string (location, on_b);
  g_free (location);
  receiver_run (&r, SETTLE_MS);
  fail_unless (receiver_current (&r, g_atomic_int_get (&feeder.last) - 10));

  n_killed = g_atomic_int_get (&feeder.last);
  killed = kill_node (b);
  /* a new connection's catch-up (a SignalSync) with what A holds now */
  recovered = receiver_wait_current (&r, n_killed, TRUE);
  GST_INFO ("receiver back with a correct picture and state %"
      G_GINT64_FORMAT " ms after its node was killed",
      (recovered - killed) / 1000);
  location = next_connected_location (r.rx);
  fail_unless_equals_string (location, on_c);
  g_free (location);
  fail_unless ((recovered - killed) / 1000 <= RECOVERY_BOUND_MS,
      "%" G_GINT64_FORMAT " ms", (recovered - killed) / 1000);

  /* and it goes on with the live frames */
  receiver_run (&r, 500);
  n_killed = feeder_stop (&feeder);
  receiver_wait_current (&r, n_killed, FALSE);
  fail_unless_equals_int (r.wrong_pictures, 0);
  fail_unless_equals_int (r.resets, 0);
  GST_INFO ("%u diffs lost around the failover, %u out of order", r.missed,
      r.out_of_order);

  receiver_free (&r);
  stop (feeder.tx);
  g_free (list);
  g_free (on_c);
  g_free (on_b);
  g_free (peer_a);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  ds_test_relay_free (c);
  nats_server_free (nats);
}

GST_END_TEST;

/* kill -9 of the source's node: dsrelaysink locations=<A,B> reconnects to
 * B at once and sends the schema, its whole signal state and a keyframe;
 * the receiver on C sees no reset (no Keyframe or End frame, its state
 * never loses a key, diffs and pictures in order, never twice) and every
 * picture it can show is right */
GST_START_TEST (test_failover_source_node_killed)
{
  NatsServer *nats = nats_server_start ();
  DsTestRelay *a = start_node (nats), *b = start_node (nats),
      *c = start_node (nats);
  gchar *peer_a = ds_test_relay_ws_uri (a, "/peer/fs");
  gchar *peer_b = ds_test_relay_ws_uri (b, "/peer/fs");
  gchar *on_b = ds_test_relay_ws_uri (b, "/stream/fs");
  gchar *on_c = ds_test_relay_ws_uri (c, "/stream/fs");
  gchar *list = g_strdup_printf ("<%s, %s>", peer_a, peer_b);
  gchar *location;
  Feeder feeder;
  Receiver r;
  gint64 killed, recovered, n_killed, last;
  guint reconnects, i;

  wait_nodes (a, 2);
  wait_nodes (b, 2);
  wait_nodes (c, 2);
  feeder_start (&feeder, list);
  location = g_strdup_printf ("<%s>", on_c);
  receiver_start (&r, location);
  g_free (location);
  receiver_wait_current (&r, 1, FALSE);
  receiver_run (&r, SETTLE_MS);
  fail_unless (receiver_current (&r, g_atomic_int_get (&feeder.last) - 10));
  location = next_connected_location (feeder.tx);
  fail_unless_equals_string (location, peer_a);
  g_free (location);

  n_killed = g_atomic_int_get (&feeder.last);
  killed = kill_node (a);
  /* the frames the source sends after the kill, through B */
  recovered = receiver_wait_current (&r, n_killed + 1, FALSE);
  GST_INFO ("receiver on C: a correct picture and state sent after the "
      "kill %" G_GINT64_FORMAT " ms after the source's node was killed",
      (recovered - killed) / 1000);
  location = next_connected_location (feeder.tx);
  fail_unless_equals_string (location, peer_b);
  g_free (location);
  fail_unless ((recovered - killed) / 1000 <= RECOVERY_BOUND_MS,
      "%" G_GINT64_FORMAT " ms", (recovered - killed) / 1000);

  /* past C's node timeout (3 s) and on */
  receiver_run (&r, 4000);
  /* joiners on B, the new origin, and on C get the whole state (the
   * label of the first SignalSync, which only dsrelaysink's resync
   * brought to B) and the current picture */
  for (i = 0; i < 2; i++) {
    Receiver late;

    location = g_strdup_printf ("<%s>", i == 0 ? on_b : on_c);
    receiver_start (&late, location);
    g_free (location);
    receiver_wait_current (&late, g_atomic_int_get (&feeder.last) - 1, TRUE);
    fail_unless_equals_int (late.wrong_pictures, 0);
    receiver_free (&late);
    receiver_run (&r, 100);
  }
  last = feeder_stop (&feeder);
  receiver_wait_current (&r, last, FALSE);
  receiver_run (&r, 200);
  GST_INFO ("%u SignalSyncs, %u diffs lost around the failover", r.syncs,
      r.missed);
  fail_unless_equals_int (r.resets, 0);
  fail_unless_equals_int (r.out_of_order, 0);
  fail_unless_equals_int (r.wrong_pictures, 0);
  fail_unless_equals_int64 (state_get (r.state, "count"), last);
  /* the receiver itself never reconnected */
  {
    GstStructure *stats;

    g_object_get (get (r.rx, "src"), "stats", &stats, NULL);
    fail_unless (gst_structure_get_uint (stats, "reconnects", &reconnects));
    fail_unless_equals_int (reconnects, 0);
    gst_structure_free (stats);
  }

  receiver_free (&r);
  stop (feeder.tx);
  g_free (list);
  g_free (on_c);
  g_free (on_b);
  g_free (peer_b);
  g_free (peer_a);
  ds_test_relay_free (a);
  ds_test_relay_free (b);
  ds_test_relay_free (c);
  nats_server_free (nats);
}

GST_END_TEST;

static gboolean
failover_tests_run (void)
{
#ifdef DS_HAVE_NATS
  return ds_test_relay_available () && nats_server_path () != NULL;
#else
  return FALSE;
#endif
}

static Suite *
failover_suite (void)
{
  Suite *s = suite_create ("ds-failover");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  if (failover_tests_run ()) {
    tcase_add_test (tc, test_failover_receiver_node_killed);
    tcase_add_test (tc, test_failover_source_node_killed);
  }
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;
  int failed;

  gst_check_init (&argc, &argv);
  s = failover_suite ();
  failed = gst_check_run_suite (s, "failover", __FILE__);
  if (failed == 0 && !failover_tests_run ()) {
    g_print ("SKIP: the failover tests did not run: %s\n",
        !ds_test_relay_available ()? "$DS_RELAY is not an executable" :
        "no nats-server ($NATS_SERVER) or no libnats in this build");
    return 77;
  }
  return failed;
}
