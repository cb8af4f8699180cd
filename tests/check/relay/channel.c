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
 * The relay's channel logic (relay/relay-channel.c) in-process: no
 * socket, no sleep. Clients are fakes of RelayClientFuncs that keep what
 * the relay sends them (and can play a peer that does not read), time is
 * a fake RelayClock the tests advance by hand. What needs a real socket
 * (HTTP, WebSocket, TLS, the program) is tested in relay.c.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include <ds/dsprotocol.h>
#include <ds/dsrle.h>
#include <ds/dssignal.h>

#include "relay-channel.h"
#include "relay-metrics.h"

#include "../ds-test-frames.h"

#define MS (G_TIME_SPAN_MILLISECOND)

/* A fake clock: time moves only in clock_advance() */

typedef struct
{
  guint id;
  gint64 deadline;
  GSourceFunc func;
  gpointer user_data;
} FakeTimeout;

typedef struct
{
  RelayClock parent;
  gint64 now;
  GList *timeouts;              /* FakeTimeout */
  guint next_id;
} FakeClock;

static gint64
fake_clock_now (RelayClock * clock)
{
  return ((FakeClock *) clock)->now;
}

static guint
fake_clock_add_timeout (RelayClock * clock, gint64 delay, GSourceFunc func,
    gpointer user_data)
{
  FakeClock *fake = (FakeClock *) clock;
  FakeTimeout *timeout = g_new0 (FakeTimeout, 1);

  timeout->id = ++fake->next_id;
  timeout->deadline = fake->now + MAX (delay, 0);
  timeout->func = func;
  timeout->user_data = user_data;
  fake->timeouts = g_list_append (fake->timeouts, timeout);
  return timeout->id;
}

static void
fake_clock_remove_timeout (RelayClock * clock, guint id)
{
  FakeClock *fake = (FakeClock *) clock;
  GList *l;

  for (l = fake->timeouts; l; l = l->next) {
    FakeTimeout *timeout = l->data;

    if (timeout->id == id) {
      fake->timeouts = g_list_delete_link (fake->timeouts, l);
      g_free (timeout);
      return;
    }
  }
  fail ("removed timeout %u is not pending", id);
}

static const RelayClockFuncs fake_clock_funcs = {
  fake_clock_now,
  fake_clock_add_timeout,
  fake_clock_remove_timeout,
};

static FakeClock fake_clock;
static DsRelay relay;

/* Moves time by @ms, firing the timeouts due on the way, in order */
static void
clock_advance (gint64 ms)
{
  gint64 target = fake_clock.now + ms * MS;

  for (;;) {
    FakeTimeout *next = NULL;
    GList *l;

    for (l = fake_clock.timeouts; l; l = l->next) {
      FakeTimeout *timeout = l->data;

      if (timeout->deadline <= target && (next == NULL ||
              timeout->deadline < next->deadline))
        next = timeout;
    }
    if (next == NULL)
      break;
    fake_clock.timeouts = g_list_remove (fake_clock.timeouts, next);
    fake_clock.now = next->deadline;
    next->func (next->user_data);
    g_free (next);
  }
  fake_clock.now = target;
}

/* Advances by @ms in the relay's housekeeping steps of 100 ms */
static void
run_for (gint64 ms)
{
  gint64 done;

  for (done = 0; done < ms; done += 100) {
    clock_advance (MIN (100, ms - done));
    relay_housekeeping (&relay, NULL, 0);
  }
}

/* A fake connection */

typedef struct
{
  RelayClient *client;
  GQueue frames;                /* GBytes: binary messages, in order */
  GQueue texts;                 /* GBytes: text messages */
  gboolean blocked;             /* a peer that does not read */
  gsize queued;                 /* what it has not read */
  gint64 last_progress;
  gboolean closed;
  gushort close_code;
  gchar *close_reason;
} FakeConn;

static void
fake_conn_send (gpointer conn, gboolean binary, GBytes * message)
{
  FakeConn *fake = conn;

  fail_if (fake->closed, "sent to a closed connection");
  g_queue_push_tail (binary ? &fake->frames : &fake->texts,
      g_bytes_ref (message));
  if (!fake->blocked)
    return;
  if (fake->queued == 0)
    fake->last_progress = fake_clock.now;
  fake->queued += g_bytes_get_size (message);
}

static void
fake_conn_close (gpointer conn, gushort code, const gchar * reason)
{
  FakeConn *fake = conn;

  if (fake->closed)
    return;
  fake->closed = TRUE;
  fake->close_code = code;
  fake->close_reason = g_strdup (reason);
}

static gsize
fake_conn_get_queued_bytes (gpointer conn)
{
  return ((FakeConn *) conn)->queued;
}

static gint64
fake_conn_get_last_progress (gpointer conn)
{
  return ((FakeConn *) conn)->last_progress;
}

static const RelayClientFuncs fake_conn_funcs = {
  fake_conn_send,
  fake_conn_close,
  fake_conn_get_queued_bytes,
  fake_conn_get_last_progress,
};

static FakeConn *
fake_connect_full (const gchar * name, RelayRole role, gboolean view_only,
    gboolean blocked)
{
  RelayChannel *channel = relay_channel_get (&relay, name, TRUE);
  FakeConn *fake = g_new0 (FakeConn, 1);

  fail_unless (channel != NULL);
  g_queue_init (&fake->frames);
  g_queue_init (&fake->texts);
  fake->blocked = blocked;
  fake->client = relay_client_new (channel, role, &fake_conn_funcs, fake,
      "fake", view_only);
  relay_client_join (fake->client);
  return fake;
}

static FakeConn *
fake_connect (const gchar * name, RelayRole role)
{
  return fake_connect_full (name, role, FALSE, FALSE);
}

/* The peer reads everything: the relay hears the connection drained */
static void
fake_read_all (FakeConn * fake)
{
  fake->blocked = FALSE;
  fake->queued = 0;
  fake->last_progress = fake_clock.now;
  relay_client_drained (fake->client);
}

/* The connection is gone (if it was not already) and freed */
static void
fake_free (FakeConn * fake)
{
  if (fake->client)
    relay_client_remove (fake->client, 1000);
  g_queue_clear_full (&fake->frames, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&fake->texts, (GDestroyNotify) g_bytes_unref);
  g_free (fake->close_reason);
  g_free (fake);
}

/* The transport finished closing a connection the relay closed */
static void
fake_disconnect (FakeConn * fake)
{
  fail_unless (fake->client != NULL);
  relay_client_remove (fake->client, 0);
  fake->client = NULL;
}

/* Frames */

#define PW 16
#define PH 8
#define PSIZE (PW * PH * 4)

static void
fill_picture (guint8 * picture, guint step)
{
  guint i;

  for (i = 0; i < PSIZE; i++)
    picture[i] = (guint8) ((i * 7 + step * 13) & 0xff);
}

static GBytes *
make_keyframe (const guint8 * picture, guint16 seq)
{
  return make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, seq, PW, PH, picture,
      PSIZE);
}

static GBytes *
make_delta (const guint8 * cur, const guint8 * ref, guint16 seq)
{
  guint8 *coded = g_malloc (DS_RLE_MAX_ENCODED_SIZE (PSIZE));
  gsize len = ds_rle_encode_xor (cur, ref, PSIZE, coded,
      DS_RLE_MAX_ENCODED_SIZE (PSIZE));
  GBytes *frame;

  fail_unless (len > 0);
  frame = make_frame (DS_FRAME_DELTA_PIXELS, 0, seq, PW, PH, coded, len);
  g_free (coded);
  return frame;
}

/* @client sends @frame (taken) */
static void
fake_send (FakeConn * fake, GBytes * frame)
{
  relay_client_receive (fake->client, TRUE, frame);
  g_bytes_unref (frame);
}

static GBytes *
expect_frame (FakeConn * fake, guint8 type)
{
  GBytes *frame = g_queue_pop_head (&fake->frames);

  fail_unless (frame != NULL, "no frame of type 0x%02x", type);
  fail_unless_equals_int (frame_header (frame).type, type);
  return frame;
}

static void
expect_nothing (FakeConn * fake)
{
  GBytes *frame = g_queue_pop_head (&fake->frames);

  if (frame)
    fail ("unexpected frame of type 0x%02x", frame_header (frame).type);
}

static JsonObject *
expect_signal (FakeConn * fake, guint8 type)
{
  GBytes *frame = expect_frame (fake, type);
  gsize len;
  const gchar *data = g_bytes_get_data (frame, &len);
  JsonParser *parser = json_parser_new ();
  JsonObject *object;

  fail_unless (json_parser_load_from_data (parser, data + DS_HEADER_SIZE,
          len - DS_HEADER_SIZE, NULL));
  object = json_node_dup_object (json_parser_get_root (parser));
  g_object_unref (parser);
  g_bytes_unref (frame);
  return object;
}

static guint
expect_receiver_count (FakeConn * source)
{
  GBytes *frame = expect_frame (source, DS_INPUT_RECEIVER_COUNT);
  const guint8 *data = g_bytes_get_data (frame, NULL);
  guint count;

  fail_unless (frame_header (frame).flags & DS_FLAG_INPUT);
  count = GST_READ_UINT32_LE (data + DS_HEADER_SIZE);
  g_bytes_unref (frame);
  return count;
}

/* Applies a Pixels or DeltaPixels frame a receiver got to @picture */
static void
apply_picture_frame (GBytes * frame, guint8 * picture, gboolean * have)
{
  DsHeader header = frame_header (frame);
  const guint8 *data = g_bytes_get_data (frame, NULL);

  if (header.type == DS_FRAME_PIXELS) {
    fail_unless_equals_int (header.payload_len, PSIZE);
    memcpy (picture, data + DS_HEADER_SIZE, PSIZE);
    *have = TRUE;
    return;
  }
  fail_unless_equals_int (header.type, DS_FRAME_DELTA_PIXELS);
  fail_unless (*have, "a delta before any keyframe");
  fail_unless (ds_rle_decode_xor (data + DS_HEADER_SIZE, header.payload_len,
          picture, picture, PSIZE, NULL));
}

static void
setup (void)
{
  RelaySettings *s = &relay.settings;

  memset (&relay, 0, sizeof (relay));
  memset (&fake_clock, 0, sizeof (fake_clock));
  fake_clock.parent.funcs = &fake_clock_funcs;
  /* not 0: the logic keeps 0 for "never" */
  fake_clock.now = 1000 * G_TIME_SPAN_SECOND;

  /* ds-relay's defaults */
  s->max_frame_bytes = DS_DEFAULT_MAX_FRAME_BYTES;
  s->max_queue_bytes = 32 * 1024 * 1024;
  s->max_signal_bytes = DS_SIGNAL_DEFAULT_MAX_BYTES;
  s->max_signal_keys = DS_SIGNAL_DEFAULT_MAX_KEYS;
  s->max_picture_pixels = 7680 * 4320;
  s->max_channel_cache_bytes = 64 * 1024 * 1024;
  s->idle_grace = 60;
  s->source_grace = 30;
  s->stuck_timeout = 30;
  s->keyframe_request_interval = 0.5;
  s->max_channels = 1024;
  s->max_clients = 4096;
  relay_channels_init (&relay, &fake_clock.parent);
}

static void
teardown (void)
{
  fail_unless_equals_int (relay.n_clients, 0);
  relay_channels_free (&relay);
  /* a freed channel leaves no timeout behind */
  fail_unless (fake_clock.timeouts == NULL);
}

/* Timeouts pending besides the relay's ReceiverReport tick */
static guint
channel_timeouts (void)
{
  GList *l;
  guint n = 0;

  for (l = fake_clock.timeouts; l; l = l->next)
    if (((FakeTimeout *) l->data)->id != relay.report_id)
      n++;
  return n;
}

/* Tests */

GST_START_TEST (test_take_over)
{
  FakeConn *old_source = fake_connect ("mig", RELAY_ROLE_SOURCE);
  FakeConn *receiver = fake_connect ("mig", RELAY_ROLE_RECEIVER);
  FakeConn *new_source;
  JsonObject *object;

  fail_unless_equals_int (expect_receiver_count (old_source), 0);
  fail_unless_equals_int (expect_receiver_count (old_source), 1);
  fake_send (old_source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"v\":1}"));
  json_object_unref (expect_signal (receiver, DS_FRAME_SIGNAL_SYNC));

  new_source = fake_connect ("mig", RELAY_ROLE_SOURCE);
  fail_unless_equals_int (expect_receiver_count (new_source), 1);
  fail_unless (old_source->closed);
  fail_unless_equals_int (old_source->close_code, RELAY_WS_CLOSE_TAKEN_OVER);
  fail_unless (strstr (old_source->close_reason, "took over") != NULL);
  /* what the old source still sends while closing is ignored */
  fake_send (old_source, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"v\":9}"));
  fake_disconnect (old_source);
  /* the old one leaving starts no grace timer: the channel has a source */
  fail_unless_equals_int (channel_timeouts (), 0);

  /* receivers see no reset and go on with the new source */
  fake_send (new_source, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"v\":2}"));
  object = expect_signal (receiver, DS_FRAME_SIGNAL_DIFF);
  fail_unless_equals_int (json_object_get_int_member (object, "v"), 2);
  json_object_unref (object);
  expect_nothing (receiver);
  fail_if (receiver->closed);
  fail_unless_equals_int (relay.metrics->takeovers, 1);

  fake_free (old_source);
  fake_free (new_source);
  fake_free (receiver);
}

GST_END_TEST;

/* A late joiner gets the schema, ONE merged signal frame and the picture
 * chain, in that order, and nothing more */
GST_START_TEST (test_catchup_merged)
{
  FakeConn *source = fake_connect ("c", RELAY_ROLE_SOURCE);
  const gchar *schema = "{\"signals\":[\"a\",\"b\",\"c\"],\"mode\":\"signal\"}";
  guint8 pictures[3][PSIZE], shown[PSIZE];
  gboolean have = FALSE;
  FakeConn *late;
  JsonObject *state;
  GBytes *frame;
  guint i;

  fake_send (source, make_frame (DS_FRAME_SCHEMA_ANNOUNCE, 0, 1, 0, 0, schema,
          strlen (schema)));
  fake_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 2,
          "{\"a\":1,\"b\":2}"));
  fake_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 3, "{\"b\":3}"));
  fake_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 4, "{\"c\":4}"));
  fill_picture (pictures[0], 0);
  fake_send (source, make_keyframe (pictures[0], 5));
  for (i = 1; i < 3; i++) {
    memcpy (pictures[i], pictures[i - 1], PSIZE);
    pictures[i][i * 10] ^= 0xff;
    fake_send (source, make_delta (pictures[i], pictures[i - 1], 5 + i));
  }

  late = fake_connect ("c", RELAY_ROLE_RECEIVER);
  g_bytes_unref (expect_frame (late, DS_FRAME_SCHEMA_ANNOUNCE));
  state = expect_signal (late, DS_FRAME_SIGNAL_SYNC);
  fail_unless_equals_int (json_object_get_size (state), 3);
  fail_unless_equals_int (json_object_get_int_member (state, "a"), 1);
  fail_unless_equals_int (json_object_get_int_member (state, "b"), 3);
  fail_unless_equals_int (json_object_get_int_member (state, "c"), 4);
  json_object_unref (state);
  while ((frame = g_queue_pop_head (&late->frames))) {
    apply_picture_frame (frame, shown, &have);
    g_bytes_unref (frame);
  }
  fail_unless (have);
  fail_unless (memcmp (shown, pictures[2], PSIZE) == 0);
  fail_unless_equals_int (relay.metrics->catchups, 1);

  fake_free (late);
  fake_free (source);
}

GST_END_TEST;

GST_START_TEST (test_source_grace)
{
  FakeConn *source, *late;
  JsonObject *object;

  relay.settings.source_grace = 2;
  source = fake_connect ("gr", RELAY_ROLE_SOURCE);
  fake_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"g\":1}"));
  fake_free (source);

  /* within the grace period the cached state is still there */
  clock_advance (1900);
  late = fake_connect ("gr", RELAY_ROLE_RECEIVER);
  object = expect_signal (late, DS_FRAME_SIGNAL_SYNC);
  fail_unless_equals_int (json_object_get_int_member (object, "g"), 1);
  json_object_unref (object);

  /* a source coming back in time continues: no reset */
  source = fake_connect ("gr", RELAY_ROLE_SOURCE);
  clock_advance (5000);
  fake_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"h\":2}"));
  json_object_unref (expect_signal (late, DS_FRAME_SIGNAL_DIFF));
  fake_free (source);
  fake_free (late);

  /* it leaves again: the state is dropped once the grace period passed */
  clock_advance (1999);
  late = fake_connect ("gr", RELAY_ROLE_RECEIVER);
  json_object_unref (expect_signal (late, DS_FRAME_SIGNAL_SYNC));
  fake_free (late);
  clock_advance (1);
  late = fake_connect ("gr", RELAY_ROLE_RECEIVER);
  expect_nothing (late);
  fake_free (late);
}

GST_END_TEST;

static gboolean
channel_exists (const gchar * name)
{
  return relay_channel_get (&relay, name, FALSE) != NULL;
}

GST_START_TEST (test_idle_removal)
{
  FakeConn *receiver;

  relay.settings.idle_grace = 1.5;
  receiver = fake_connect ("idle", RELAY_ROLE_RECEIVER);
  run_for (5000);
  /* somebody is connected: kept */
  fail_unless (channel_exists ("idle"));
  fake_free (receiver);
  run_for (1400);
  fail_unless (channel_exists ("idle"));
  run_for (100);
  fail_if (channel_exists ("idle"));

  /* a channel nobody ever joined goes the same way */
  fail_unless (relay_channel_get (&relay, "empty", TRUE) != NULL);
  run_for (1500);
  fail_if (channel_exists ("empty"));
}

GST_END_TEST;

GST_START_TEST (test_stuck_receiver)
{
  FakeConn *source, *fast, *stuck;

  relay.settings.stuck_timeout = 3;
  source = fake_connect ("st", RELAY_ROLE_SOURCE);
  fast = fake_connect ("st", RELAY_ROLE_RECEIVER);
  stuck = fake_connect_full ("st", RELAY_ROLE_RECEIVER, FALSE, TRUE);
  fake_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"s\":1}"));
  fail_unless (stuck->queued > 0);

  run_for (3000);
  fail_if (stuck->closed);
  /* the fast one keeps reading, the stuck one makes no progress */
  fake_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, 2, "{\"s\":2}"));
  run_for (100);
  fail_unless (stuck->closed);
  fail_unless_equals_int (stuck->close_code, RELAY_WS_CLOSE_TOO_SLOW);
  fail_unless (strstr (stuck->close_reason, "too slow") != NULL);
  fail_if (fast->closed);
  fail_if (source->closed);
  fail_unless_equals_int (relay.metrics->slow_closes, 1);

  /* once gone, the source learns it */
  g_queue_clear_full (&source->frames, (GDestroyNotify) g_bytes_unref);
  fake_disconnect (stuck);
  fail_unless_equals_int (expect_receiver_count (source), 1);

  fake_free (stuck);
  fake_free (fast);
  fake_free (source);
}

GST_END_TEST;

/* A receiver that does not read loses media, never signals, and gets a
 * picture it can use before any delta */
GST_START_TEST (test_slow_receiver)
{
  FakeConn *source, *slow;
  guint8 prev[PSIZE], cur[PSIZE], shown[PSIZE];
  guint8 *audio = g_malloc0 (32768);
  gboolean have = FALSE, lost = FALSE;
  JsonObject *state = NULL;
  GBytes *frame;
  guint i, pictures = 0, audio_frames = 0;

  relay.settings.max_queue_bytes = 65536;
  source = fake_connect ("slow", RELAY_ROLE_SOURCE);
  slow = fake_connect_full ("slow", RELAY_ROLE_RECEIVER, FALSE, TRUE);
  fill_picture (prev, 0);
  fake_send (source, make_keyframe (prev, 1));
  for (i = 1; i <= 100; i++) {
    gchar json[32];

    fill_picture (cur, i);
    fake_send (source, make_delta (cur, prev, i * 3));
    memcpy (prev, cur, PSIZE);
    g_snprintf (json, sizeof (json), "{\"n\":%u}", i);
    fake_send (source, make_signal (DS_FRAME_SIGNAL_DIFF, i * 3 + 1, json));
    fake_send (source, make_frame (DS_FRAME_AUDIO_PCM, 0, i * 3 + 2, 1, 48000,
            audio, 32768));
  }
  fail_unless (relay.metrics->overflows >= 1);
  fail_unless (relay.metrics->dropped > 0);

  /* it reads: what it gets draws the source's last picture, with the last
   * signal values, no delta on a picture it lacks */
  fake_read_all (slow);
  while ((frame = g_queue_pop_head (&slow->frames))) {
    DsHeader header = frame_header (frame);

    switch (header.type) {
      case DS_FRAME_PIXELS:
      case DS_FRAME_DELTA_PIXELS:
        apply_picture_frame (frame, shown, &have);
        pictures++;
        break;
      case DS_FRAME_AUDIO_PCM:
        audio_frames++;
        break;
      case DS_FRAME_SIGNAL_SYNC:
      case DS_FRAME_SIGNAL_DIFF:{
        gsize len;
        const gchar *data = g_bytes_get_data (frame, &len);
        JsonParser *parser = json_parser_new ();
        JsonObject *object;

        fail_unless (json_parser_load_from_data (parser,
                data + DS_HEADER_SIZE, len - DS_HEADER_SIZE, NULL));
        object = json_node_get_object (json_parser_get_root (parser));
        if (json_object_has_member (object, "n")) {
          if (state)
            json_object_unref (state);
          state = json_object_ref (object);
        }
        g_object_unref (parser);
        break;
      }
      default:
        fail ("unexpected frame 0x%02x", header.type);
    }
    g_bytes_unref (frame);
  }
  lost = pictures < 101 || audio_frames < 100;
  fail_unless (lost, "nothing was dropped");
  fail_unless (memcmp (shown, prev, PSIZE) == 0);
  fail_unless (state != NULL);
  fail_unless_equals_int (json_object_get_int_member (state, "n"), 100);
  json_object_unref (state);
  fail_if (slow->closed);

  g_free (audio);
  fake_free (slow);
  fake_free (source);
}

GST_END_TEST;

static guint
count_keyframe_requests (FakeConn * source)
{
  GBytes *frame;
  guint n = 0;

  while ((frame = g_queue_pop_head (&source->frames))) {
    DsHeader header = frame_header (frame);

    if ((header.flags & DS_FLAG_INPUT) &&
        header.type == DS_INPUT_KEYFRAME_REQUEST)
      n++;
    g_bytes_unref (frame);
  }
  return n;
}

/* --keyframe-request-interval: the requests of a crowd reach the source
 * at most once per interval, whatever it is; 0 forwards each */
GST_START_TEST (test_keyframe_request_interval)
{
  FakeConn *source, *receiver;
  guint i;

  relay.settings.keyframe_request_interval = 2;
  source = fake_connect ("kfi", RELAY_ROLE_SOURCE);
  receiver = fake_connect ("kfi", RELAY_ROLE_RECEIVER);
  g_queue_clear_full (&source->frames, (GDestroyNotify) g_bytes_unref);

  /* a request every 100 ms for 10 s: one at once, then one per 2 s */
  for (i = 0; i < 100; i++) {
    fake_send (receiver, make_input (DS_INPUT_KEYFRAME_REQUEST, NULL, 0));
    clock_advance (100);
  }
  clock_advance (2000);
  fail_unless_equals_int (count_keyframe_requests (source), 6);

  relay.settings.keyframe_request_interval = 0;
  for (i = 0; i < 5; i++)
    fake_send (receiver, make_input (DS_INPUT_KEYFRAME_REQUEST, NULL, 0));
  fail_unless_equals_int (count_keyframe_requests (source), 5);

  fake_free (receiver);
  fake_free (source);
}

GST_END_TEST;

GST_START_TEST (test_keyframe_request_coalescing)
{
  FakeConn *source = fake_connect ("kf", RELAY_ROLE_SOURCE);
  FakeConn *receivers[8];
  guint8 picture[PSIZE];
  guint i;

  for (i = 0; i < 8; i++)
    receivers[i] = fake_connect ("kf", RELAY_ROLE_RECEIVER);
  g_queue_clear_full (&source->frames, (GDestroyNotify) g_bytes_unref);

  /* nothing cached: a crowd of requests is one request now and one when
   * the 500 ms interval is over */
  for (i = 0; i < 8; i++)
    fake_send (receivers[i], make_input (DS_INPUT_KEYFRAME_REQUEST, NULL, 0));
  fail_unless_equals_int (count_keyframe_requests (source), 1);
  clock_advance (499);
  fail_unless_equals_int (count_keyframe_requests (source), 0);
  clock_advance (1);
  fail_unless_equals_int (count_keyframe_requests (source), 1);
  clock_advance (5000);
  fail_unless_equals_int (count_keyframe_requests (source), 0);
  fail_unless_equals_int (relay.metrics->keyframe_requests_forwarded, 2);
  fail_unless_equals_int (relay.metrics->keyframe_requests_coalesced, 7);

  /* after the interval, the next one goes out at once */
  fake_send (receivers[0], make_input (DS_INPUT_KEYFRAME_REQUEST, NULL, 0));
  fail_unless_equals_int (count_keyframe_requests (source), 1);

  /* with a cached picture: answered by the relay, not the source */
  fill_picture (picture, 1);
  fake_send (source, make_keyframe (picture, 1));
  for (i = 0; i < 8; i++)
    g_queue_clear_full (&receivers[i]->frames, (GDestroyNotify) g_bytes_unref);
  clock_advance (600);
  fake_send (receivers[0], make_input (DS_INPUT_KEYFRAME_REQUEST, NULL, 0));
  g_bytes_unref (expect_frame (receivers[0], DS_FRAME_PIXELS));
  clock_advance (600);
  fail_unless_equals_int (count_keyframe_requests (source), 0);
  expect_nothing (receivers[1]);
  fail_unless_equals_int (relay.metrics->keyframe_requests_cache, 1);

  for (i = 0; i < 8; i++)
    fake_free (receivers[i]);
  fake_free (source);
}

GST_END_TEST;

GST_START_TEST (test_receiver_count)
{
  FakeConn *early = fake_connect ("rc", RELAY_ROLE_RECEIVER);
  FakeConn *source, *other;

  /* a receiver may wait for a source; the source learns of it at once */
  source = fake_connect ("rc", RELAY_ROLE_SOURCE);
  fail_unless_equals_int (expect_receiver_count (source), 1);
  other = fake_connect ("rc", RELAY_ROLE_RECEIVER);
  fail_unless_equals_int (expect_receiver_count (source), 2);
  /* signaling clients are not receivers */
  fake_free (fake_connect ("rc", RELAY_ROLE_SIGNALING));
  expect_nothing (source);
  fake_free (early);
  fail_unless_equals_int (expect_receiver_count (source), 1);
  fake_free (other);
  fail_unless_equals_int (expect_receiver_count (source), 0);
  expect_nothing (source);

  fake_free (source);
}

GST_END_TEST;

GST_START_TEST (test_input_reaches_source)
{
  FakeConn *source = fake_connect ("in", RELAY_ROLE_SOURCE);
  FakeConn *a = fake_connect ("in", RELAY_ROLE_RECEIVER);
  FakeConn *b = fake_connect ("in", RELAY_ROLE_RECEIVER);
  FakeConn *viewer = fake_connect_full ("in", RELAY_ROLE_RECEIVER, TRUE,
      FALSE);
  guint8 pointer[5] = { 10, 0, 20, 0, 1 };
  GBytes *sent, *got;

  g_queue_clear_full (&source->frames, (GDestroyNotify) g_bytes_unref);
  sent = make_input (DS_INPUT_POINTER_DOWN, pointer, 5);
  relay_client_receive (a->client, TRUE, sent);
  got = expect_frame (source, DS_INPUT_POINTER_DOWN);
  fail_unless (g_bytes_equal (sent, got));
  g_bytes_unref (got);
  g_bytes_unref (sent);

  /* view-only input is dropped; receivers can never publish */
  fake_send (viewer, make_input (DS_INPUT_POINTER_DOWN, pointer, 5));
  fake_send (a, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{\"evil\":1}"));
  fake_send (a, make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 1, 1, 1,
          "abcd", 4));
  fake_send (a, make_frame (DS_FRAME_END, 0, 2, 0, 0, NULL, 0));
  expect_nothing (source);
  expect_nothing (a);
  expect_nothing (b);
  expect_nothing (viewer);
  fail_unless_equals_int (relay.metrics->dropped, 4);

  /* a text message from a receiver closes it */
  sent = g_bytes_new_static ("hi", 2);
  relay_client_receive (b->client, FALSE, sent);
  g_bytes_unref (sent);
  fail_unless (b->closed);
  fail_unless_equals_int (b->close_code, RELAY_WS_CLOSE_UNSUPPORTED_DATA);

  fake_free (viewer);
  fake_free (a);
  fake_free (b);
  fake_free (source);
}

GST_END_TEST;

GST_START_TEST (test_limits)
{
  FakeConn *a, *b, *c;
  gchar *text;

  relay.settings.max_channels = 2;
  relay.settings.max_clients = 3;
  a = fake_connect ("one", RELAY_ROLE_RECEIVER);
  b = fake_connect ("two", RELAY_ROLE_RECEIVER);
  fail_unless_equals_int (relay_admit (&relay, "one"), RELAY_ADMIT_OK);
  fail_unless_equals_int (relay_admit (&relay, "three"),
      RELAY_ADMIT_TOO_MANY_CHANNELS);
  fail_unless (relay_channel_get (&relay, "three", TRUE) == NULL);
  c = fake_connect ("two", RELAY_ROLE_SOURCE);
  fail_unless_equals_int (relay_admit (&relay, "one"),
      RELAY_ADMIT_TOO_MANY_CLIENTS);
  fake_free (c);
  fail_unless_equals_int (relay_admit (&relay, "two"), RELAY_ADMIT_OK);

  /* the gauges follow */
  text = relay_metrics_text (&relay);
  fail_unless (strstr (text, "ds_relay_channels 2\n") != NULL);
  fail_unless (strstr (text,
          "ds_relay_connections{role=\"receiver\"} 2\n") != NULL);
  fail_unless (strstr (text,
          "ds_relay_connections_total{role=\"source\"} 1\n") != NULL);
  g_free (text);

  fake_free (a);
  fake_free (b);
}

GST_END_TEST;

/* EncodedVideo (0x05): access units reach receivers unchanged and in
 * order; they are not cached (issue 14 item 4 adds that): a joiner waits
 * for the next keyframe, which the relay asks the source for, and gets no
 * unit before it; a raw picture cached before them is not sent as the
 * current one */
static GBytes *
make_unit (gboolean key, guint16 seq, guint8 byte)
{
  const guint8 payload[] = { DS_CODEC_H264, 0, 0, 0, 0, 1, byte, seq & 0xff };

  return make_frame (DS_FRAME_ENCODED_VIDEO, key ? DS_FLAG_KEYFRAME : 0, seq,
      640, 480, payload, sizeof (payload));
}

static void
expect_same (FakeConn * fake, GBytes * sent)
{
  GBytes *got = expect_frame (fake, DS_FRAME_ENCODED_VIDEO);

  fail_unless (g_bytes_equal (got, sent), "the unit changed on the way");
  g_bytes_unref (got);
}

GST_START_TEST (test_encoded_video_forwarded)
{
  FakeConn *source = fake_connect ("enc", RELAY_ROLE_SOURCE);
  FakeConn *early = fake_connect ("enc", RELAY_ROLE_RECEIVER);
  FakeConn *late, *later;
  GBytes *units[6];
  guint8 picture[PSIZE];
  guint i;

  /* a raw picture first: cached */
  fill_picture (picture, 1);
  fake_send (source, make_keyframe (picture, 0));
  g_bytes_unref (expect_frame (early, DS_FRAME_PIXELS));

  units[0] = make_unit (TRUE, 1, 0x65);
  units[1] = make_unit (FALSE, 2, 0x41);
  units[2] = make_unit (FALSE, 3, 0x41);
  units[3] = make_unit (FALSE, 4, 0x41);
  units[4] = make_unit (TRUE, 5, 0x65);
  units[5] = make_unit (FALSE, 6, 0x41);
  for (i = 0; i < 2; i++) {
    fake_send (source, g_bytes_ref (units[i]));
    expect_same (early, units[i]);
  }
  expect_nothing (early);

  /* a joiner: no stale raw picture; the keyframe unit and the unit since
   * from the cache, no KeyframeRequest */
  g_queue_clear_full (&source->frames, (GDestroyNotify) g_bytes_unref);
  late = fake_connect ("enc", RELAY_ROLE_RECEIVER);
  expect_same (late, units[0]);
  expect_same (late, units[1]);
  expect_nothing (late);
  fail_unless_equals_int (count_keyframe_requests (source), 0);
  for (i = 2; i < 6; i++) {
    fake_send (source, g_bytes_ref (units[i]));
    expect_same (early, units[i]);
    expect_same (late, units[i]);
  }
  expect_nothing (early);
  expect_nothing (late);

  /* a new keyframe unit replaced the chain */
  later = fake_connect ("enc", RELAY_ROLE_RECEIVER);
  expect_same (later, units[4]);
  expect_same (later, units[5]);
  expect_nothing (later);

  /* a receiver's KeyframeRequest is not answered from the cache (its
   * units would go back): the source is asked */
  fake_send (later, make_input (DS_INPUT_KEYFRAME_REQUEST, NULL, 0));
  expect_nothing (later);
  fail_unless_equals_int (count_keyframe_requests (source), 1);
  clock_advance (1000);
  fail_unless_equals_int (count_keyframe_requests (source), 0);

  for (i = 0; i < G_N_ELEMENTS (units); i++)
    g_bytes_unref (units[i]);
  fake_free (later);
  fake_free (late);
  fake_free (early);
  fake_free (source);
}

GST_END_TEST;

/* A unit of @size payload bytes (codec byte first) whose bytes say its seq */
static GBytes *
make_unit_sized (gboolean key, guint16 seq, gsize size)
{
  guint8 *payload = g_malloc (size);
  GBytes *frame;
  gsize i;

  payload[0] = DS_CODEC_H264;
  payload[1] = 0;               /* reserved */
  for (i = 2; i < size; i++)
    payload[i] = (guint8) (seq * 31 + i);
  frame = make_frame (DS_FRAME_ENCODED_VIDEO, key ? DS_FLAG_KEYFRAME : 0, seq,
      640, 480, payload, size);
  g_free (payload);
  return frame;
}

/* Pops the next frame of @fake: an EncodedVideo unit equal to the one the
 * source sent with @seq (@key: with FLAG_KEYFRAME) */
static void
expect_unit (FakeConn * fake, gboolean key, guint16 seq, gsize size)
{
  GBytes *got = expect_frame (fake, DS_FRAME_ENCODED_VIDEO);
  GBytes *want = make_unit_sized (key, seq, size);

  fail_unless_equals_int (frame_header (got).seq, seq);
  fail_unless (g_bytes_equal (got, want), "unit %u changed on the way", seq);
  g_bytes_unref (want);
  g_bytes_unref (got);
}

/* A joiner on a running encoded channel gets the keyframe unit and every
 * unit since, in order, then the live units: no gap, no duplicate, and the
 * source is not asked for anything */
GST_START_TEST (test_encoded_joiner_gets_gop)
{
  FakeConn *source = fake_connect ("gop", RELAY_ROLE_SOURCE);
  FakeConn *joiners[3];
  guint16 seq;
  guint j, n_joined = 0;

  /* two GOPs of 10 units; joiners come at units 13, 16 and 19 */
  for (seq = 1; seq <= 20; seq++) {
    fake_send (source, make_unit_sized (seq % 10 == 1, seq, 500 + seq));
    for (j = 0; j < n_joined; j++)
      expect_unit (joiners[j], seq % 10 == 1, seq, 500 + seq);
    if (seq == 13 || seq == 16 || seq == 19) {
      FakeConn *joiner = fake_connect ("gop", RELAY_ROLE_RECEIVER);
      guint16 k;

      for (k = 11; k <= seq; k++)
        expect_unit (joiner, k == 11, k, 500 + k);
      expect_nothing (joiner);
      joiners[n_joined++] = joiner;
    }
  }
  for (j = 0; j < 3; j++)
    expect_nothing (joiners[j]);
  fail_unless_equals_int (count_keyframe_requests (source), 0);
  fail_unless_equals_int (relay.metrics->encoded_catchups, 3);

  for (j = 0; j < 3; j++)
    fake_free (joiners[j]);
  fake_free (source);
}

GST_END_TEST;

/* 100 joiners in one second are served from the cache: the source sees no
 * KeyframeRequest */
GST_START_TEST (test_encoded_joiners_no_request)
{
  FakeConn *source = fake_connect ("crowd", RELAY_ROLE_SOURCE);
  FakeConn *joiners[100];
  guint16 seq = 1;
  guint i;

  fake_send (source, make_unit_sized (TRUE, seq++, 4000));
  for (i = 0; i < 100; i++) {
    /* a unit every 33 ms, a joiner every 10 ms */
    if (i % 3 == 0)
      fake_send (source, make_unit_sized (FALSE, seq++, 700));
    joiners[i] = fake_connect ("crowd", RELAY_ROLE_RECEIVER);
    clock_advance (10);
  }
  clock_advance (2000);
  fail_unless_equals_int (count_keyframe_requests (source), 0);
  fail_unless_equals_int (relay.metrics->keyframe_requests_forwarded, 0);
  fail_unless_equals_int (relay.metrics->encoded_catchups, 100);
  for (i = 0; i < 100; i++) {
    /* each starts at the keyframe unit, then every unit in order */
    guint16 k;

    expect_unit (joiners[i], TRUE, 1, 4000);
    for (k = 2; k < seq; k++)
      expect_unit (joiners[i], FALSE, k, 700);
    expect_nothing (joiners[i]);
    fake_free (joiners[i]);
  }
  fake_free (source);
}

GST_END_TEST;

/* Past --max-channel-cache-bytes the chain is dropped: one
 * KeyframeRequest per --keyframe-request-interval reaches the source, and
 * joiners (and the cache) start at the next keyframe unit */
GST_START_TEST (test_encoded_cache_bound)
{
  FakeConn *source, *joiner, *joiners[20];
  guint16 seq;
  guint i;

  relay.settings.max_channel_cache_bytes = 10000;
  source = fake_connect ("bound", RELAY_ROLE_SOURCE);
  g_queue_clear_full (&source->frames, (GDestroyNotify) g_bytes_unref);

  /* 1000-byte units: the chain fits up to unit 10 */
  for (seq = 1; seq <= 10; seq++)
    fake_send (source, make_unit_sized (seq == 1, seq, 1000 - DS_HEADER_SIZE));
  fail_unless_equals_int (count_keyframe_requests (source), 0);
  fake_send (source, make_unit_sized (FALSE, seq++, 1000 - DS_HEADER_SIZE));
  fail_unless_equals_int (count_keyframe_requests (source), 1);
  fail_unless_equals_int (relay.metrics->cache_drops, 1);

  /* 20 joiners over 1 s while the source sends deltas only: they get no
   * unit; their requests make one KeyframeRequest per 500 ms */
  for (i = 0; i < 20; i++) {
    joiners[i] = fake_connect ("bound", RELAY_ROLE_RECEIVER);
    fake_send (source, make_unit_sized (FALSE, seq++, 1000 - DS_HEADER_SIZE));
    clock_advance (50);
    fail_unless_equals_int (count_keyframe_requests (source),
        (i == 9 || i == 19) ? 1 : 0);
  }
  clock_advance (2000);
  fail_unless_equals_int (count_keyframe_requests (source), 0);

  /* the keyframe unit comes: every joiner starts there, and so does the
   * cache */
  fake_send (source, make_unit_sized (TRUE, seq, 1000 - DS_HEADER_SIZE));
  fake_send (source, make_unit_sized (FALSE, seq + 1, 1000 - DS_HEADER_SIZE));
  for (i = 0; i < 20; i++) {
    expect_unit (joiners[i], TRUE, seq, 1000 - DS_HEADER_SIZE);
    expect_unit (joiners[i], FALSE, seq + 1, 1000 - DS_HEADER_SIZE);
    expect_nothing (joiners[i]);
    fake_free (joiners[i]);
  }
  joiner = fake_connect ("bound", RELAY_ROLE_RECEIVER);
  expect_unit (joiner, TRUE, seq, 1000 - DS_HEADER_SIZE);
  expect_unit (joiner, FALSE, seq + 1, 1000 - DS_HEADER_SIZE);
  expect_nothing (joiner);
  fail_unless_equals_int (count_keyframe_requests (source), 0);

  fake_free (joiner);
  fake_free (source);
}

GST_END_TEST;

/* A receiver that does not read loses units in its queue: after the gap
 * the first unit it gets is a keyframe unit (the next one, asked for once
 * it drained), never a unit whose reference it lost */
GST_START_TEST (test_encoded_slow_receiver)
{
  FakeConn *source = fake_connect ("slow", RELAY_ROLE_SOURCE);
  FakeConn *slow;
  GBytes *frame;
  guint16 seq, last = 0;
  gboolean have_keyframe = FALSE;
  guint gaps = 0, units = 0, keyframes_after_gap = 0;

  relay.settings.max_queue_bytes = 65536;
  slow = fake_connect_full ("slow", RELAY_ROLE_RECEIVER, FALSE, TRUE);
  g_queue_clear_full (&source->frames, (GDestroyNotify) g_bytes_unref);

  /* 640 KB of units, a keyframe unit every 30: its socket takes 256 KB,
   * its queue 64 KB */
  for (seq = 1; seq <= 40; seq++)
    fake_send (source, make_unit_sized (seq % 30 == 1, seq, 16000));
  fail_unless (relay.metrics->dropped > 0);
  /* it reads again; more deltas, then the keyframe unit asked for */
  fake_read_all (slow);
  clock_advance (1000);
  fail_unless (count_keyframe_requests (source) >= 1);
  fail_unless (relay.metrics->encoded_skips >= 1);
  for (; seq <= 45; seq++)
    fake_send (source, make_unit_sized (FALSE, seq, 16000));
  for (; seq <= 50; seq++)
    fake_send (source, make_unit_sized (seq == 46, seq, 16000));

  while ((frame = g_queue_pop_head (&slow->frames))) {
    DsHeader header = frame_header (frame);

    g_bytes_unref (frame);
    if (header.type != DS_FRAME_ENCODED_VIDEO)
      continue;
    units++;
    /* nothing twice, nothing older (a cached GOP resent) */
    fail_unless (last == 0 || ds_seq_distance (last, header.seq) > 0,
        "unit %u after unit %u", header.seq, last);
    if (last != 0 && header.seq != (guint16) (last + 1)) {
      gaps++;
      have_keyframe = FALSE;
    }
    if (header.flags & DS_FLAG_KEYFRAME) {
      if (!have_keyframe && last != 0)
        keyframes_after_gap++;
      have_keyframe = TRUE;
    }
    fail_unless (have_keyframe, "unit %u without its reference", header.seq);
    last = header.seq;
  }
  fail_unless (gaps >= 1);
  fail_unless (keyframes_after_gap >= 1);
  fail_unless_equals_int (last, 50);
  fail_unless (units < 50);

  fake_free (slow);
  fake_free (source);
}

GST_END_TEST;

/* ReceiverReport on the fake clock: exact figures. Frames of 125000
 * bytes are 1000 kbit each; one receiver reads, one does not. */
#define REPORT_FRAME 125000

static void
send_report_frames (FakeConn * source, guint n, guint16 * seq)
{
  static guint8 payload[REPORT_FRAME - DS_HEADER_SIZE];
  guint i;

  for (i = 0; i < n; i++)
    fake_send (source, make_frame (DS_FRAME_NEURAL_FRAME, 0, (*seq)++, 0, 0,
            payload, sizeof (payload)));
}

static void
expect_report (FakeConn * source, DsReceiverReport * report)
{
  GBytes *frame = expect_frame (source, DS_INPUT_RECEIVER_REPORT);
  DsHeader header = frame_header (frame);
  const guint8 *data = g_bytes_get_data (frame, NULL);

  fail_unless (header.flags & DS_FLAG_INPUT);
  fail_unless (ds_frame_validate (&header, data + DS_HEADER_SIZE, NULL));
  fail_unless (ds_receiver_report_parse (data + DS_HEADER_SIZE,
          header.payload_len, report, NULL));
  g_bytes_unref (frame);
}

static void
drop_frames (FakeConn * fake)
{
  g_queue_clear_full (&fake->frames, (GDestroyNotify) g_bytes_unref);
}

GST_START_TEST (test_receiver_report)
{
  FakeConn *source, *fast, *slow;
  DsReceiverReport report = { 9, 1, 2, 3, 4 };
  guint16 seq = 1;

  relay.settings.max_queue_bytes = 1024 * 1024;
  source = fake_connect ("rr", RELAY_ROLE_SOURCE);
  fast = fake_connect ("rr", RELAY_ROLE_RECEIVER);
  slow = fake_connect_full ("rr", RELAY_ROLE_RECEIVER, FALSE, TRUE);
  fail_unless_equals_int (expect_receiver_count (source), 0);
  fail_unless_equals_int (expect_receiver_count (source), 1);
  fail_unless_equals_int (expect_receiver_count (source), 2);

  /* nobody congested: nothing; a receiver's own report is not passed on */
  fake_send (fast, ds_receiver_report_to_frame (&report, 1, 0));
  run_for (2000);
  expect_nothing (source);

  /* 5 frames: the fast one gets 5000 kbit; the slow one's connection
   * takes 3 (up to 256 KiB), 2 wait: 625000 bytes > half of 1 MiB */
  send_report_frames (source, 5, &seq);
  run_for (1000);
  expect_report (source, &report);
  fail_unless_equals_int (report.receivers, 2);
  fail_unless_equals_int (report.kbps_min, 3000);
  fail_unless_equals_int (report.kbps_median, 4000);
  fail_unless_equals_int (report.kbps_max, 5000);
  fail_unless_equals_int (report.dropped, 0);
  expect_nothing (source);

  /* 10 more: its queue overflows 1 MiB, it gets nothing more */
  send_report_frames (source, 10, &seq);
  run_for (1000);
  expect_report (source, &report);
  fail_unless_equals_int (report.receivers, 2);
  fail_unless_equals_int (report.kbps_min, 0);
  fail_unless_equals_int (report.kbps_median, 5000);
  fail_unless_equals_int (report.kbps_max, 10000);
  fail_unless (report.dropped > 0);
  fail_unless_equals_int (relay.metrics->receiver_reports, 2);

  /* it reads everything: no more reports */
  fake_read_all (slow);
  drop_frames (fast);
  drop_frames (slow);
  run_for (3000);
  expect_nothing (source);
  fail_unless_equals_int (relay.metrics->receiver_reports, 2);

  fake_free (slow);
  fake_free (fast);
  fake_free (source);
}

GST_END_TEST;

/* What the cluster's origin does with the nodes' figures */
GST_START_TEST (test_receiver_figures_combine)
{
  RelayReceiverFigures local = { 10, FALSE, 1000, 5500, 10000, 3 };
  RelayReceiverFigures others[3] = {
    {10, TRUE, 6000, 6000, 6000, 2},
    {0, TRUE, 1, 1, 1, 100},    /* no receivers: ignored */
    {0,},
  };
  RelayReceiverFigures none = { 0, };
  RelayReceiverFigures two[2] = {
    {3, FALSE, 100, 200, 300, 0},
    {1, TRUE, 50, 400, 900, 1},
  };

  /* docs/cluster.md's example: the true median of the 20 is 6000 */
  relay_receiver_figures_combine (&local, others, 3);
  fail_unless_equals_int (local.receivers, 20);
  fail_unless (local.congested);
  fail_unless_equals_int (local.kbps_min, 1000);
  fail_unless_equals_int (local.kbps_median, 5500);
  fail_unless_equals_int (local.kbps_max, 10000);
  fail_unless_equals_int (local.dropped, 5);

  /* none here: the others' alone; the median weighted 3 to 1 */
  relay_receiver_figures_combine (&none, two, 2);
  fail_unless_equals_int (none.receivers, 4);
  fail_unless (none.congested);
  fail_unless_equals_int (none.kbps_min, 50);
  fail_unless_equals_int (none.kbps_median, 200);
  fail_unless_equals_int (none.kbps_max, 900);
  fail_unless_equals_int (none.dropped, 1);

  /* 1 to 3: the other way */
  two[0].receivers = 1;
  two[1].receivers = 3;
  memset (&none, 0, sizeof (none));
  relay_receiver_figures_combine (&none, two, 2);
  fail_unless_equals_int (none.kbps_median, 400);

  /* nobody anywhere */
  memset (&none, 0, sizeof (none));
  relay_receiver_figures_combine (&none, NULL, 0);
  fail_unless_equals_int (none.receivers, 0);
  fail_if (none.congested);
}

GST_END_TEST;

static Suite *
relay_channel_suite (void)
{
  Suite *s = suite_create ("relay_channel");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_take_over);
  tcase_add_test (tc, test_receiver_report);
  tcase_add_test (tc, test_receiver_figures_combine);
  tcase_add_test (tc, test_catchup_merged);
  tcase_add_test (tc, test_source_grace);
  tcase_add_test (tc, test_idle_removal);
  tcase_add_test (tc, test_stuck_receiver);
  tcase_add_test (tc, test_slow_receiver);
  tcase_add_test (tc, test_keyframe_request_coalescing);
  tcase_add_test (tc, test_keyframe_request_interval);
  tcase_add_test (tc, test_receiver_count);
  tcase_add_test (tc, test_input_reaches_source);
  tcase_add_test (tc, test_limits);
  tcase_add_test (tc, test_encoded_video_forwarded);
  tcase_add_test (tc, test_encoded_joiner_gets_gop);
  tcase_add_test (tc, test_encoded_joiners_no_request);
  tcase_add_test (tc, test_encoded_cache_bound);
  tcase_add_test (tc, test_encoded_slow_receiver);
  return s;
}

GST_CHECK_MAIN (relay_channel);
