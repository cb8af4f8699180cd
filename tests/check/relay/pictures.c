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
 * The relay's picture cache under attack (issue 11, items 4 and 5): picture
 * frames announcing more than --max-picture-pixels, delta chains that would
 * outgrow --max-channel-cache-bytes, cached state after the source left,
 * and deltas a receiver has no reference for. Each test starts the real
 * ds-relay on a free loopback port and speaks raw ds-stream frames to it
 * over WebSocket (libsoup's client API, one private GMainContext). Frames
 * that announce huge pictures are built by hand: the test never allocates
 * what they announce.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include <zstd.h>

#include <ds/dscompress.h>
#include <ds/dsmotion.h>
#include <ds/dsprotocol.h>
#include <ds/dsrle.h>

#include "../ds-test-relay.h"

#define WAIT_MS 5000

#include "../ds-test-wsclient.h"

/* A DeltaPixels of @width x @height whose code is @literal bytes of
 * @value (not 0) followed by zero runs up to width*height*4: the code of
 * a picture (or change) that size, built without allocating the picture */
static GBytes *
make_sparse_delta (guint8 flags, guint16 seq, guint16 width, guint16 height,
    gsize literal, guint8 value)
{
  guint64 size = (guint64) width * height * 4;
  guint64 zeros = size - literal;
  gsize runs = (gsize) ((zeros + 65534) / 65535);
  gsize len = literal + runs * 3, i;
  guint8 *code = g_malloc (len);
  GBytes *frame;

  fail_unless (literal <= size);
  memset (code, value, literal);
  for (i = 0; i < runs; i++) {
    guint count = (guint) MIN (zeros, 65535);

    code[literal + i * 3] = 0;
    code[literal + i * 3 + 1] = count & 0xff;
    code[literal + i * 3 + 2] = count >> 8;
    zeros -= count;
  }
  frame = make_frame (DS_FRAME_DELTA_PIXELS, flags, seq, width, height, code,
      len);
  g_free (code);
  return frame;
}

static GBytes *
make_delta (const guint8 * cur, const guint8 * ref, gsize size, guint16 seq,
    guint16 width, guint16 height)
{
  guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (size));
  gsize len = ds_rle_encode_xor (cur, ref, size, code,
      DS_RLE_MAX_ENCODED_SIZE (size));
  GBytes *frame;

  fail_unless (len > 0);
  frame = make_frame (DS_FRAME_DELTA_PIXELS, ref ? 0 : DS_FLAG_KEYFRAME, seq,
      width, height, code, len);
  g_free (code);
  return frame;
}

/* Applies a Pixels, DeltaPixels or MotionDeltaPixels frame (compressed
 * or not) to @picture (@size bytes) the way a receiver does; fails on a
 * delta without reference */
static void
apply_picture_frame (GBytes * frame, guint8 * picture, gsize size,
    gboolean * have)
{
  DsHeader header = frame_header (frame);
  const guint8 *data = g_bytes_get_data (frame, NULL);
  const guint8 *payload = data + DS_HEADER_SIZE;
  gsize len = header.payload_len;
  guint8 *buf = NULL;
  gsize buf_size = 0;

  if (header.flags & DS_FLAG_COMPRESSED) {
    fail_unless (ds_payload_decompress (payload, len, 4 * size +
            DS_MOTION_TABLE_SIZE (DS_MOTION_MAX_MOVES), &buf, &buf_size,
            &len, NULL));
    payload = buf;
  }
  if (header.type == DS_FRAME_PIXELS) {
    fail_unless_equals_int (len, size);
    memcpy (picture, payload, size);
    *have = TRUE;
  } else if (header.type == DS_FRAME_MOTION_DELTA_PIXELS) {
    fail_unless (*have, "a delta without reference reached a receiver");
    fail_unless (ds_motion_decode (payload, len, picture, picture,
            header.width, header.height, NULL));
  } else {
    fail_unless_equals_int (header.type, DS_FRAME_DELTA_PIXELS);
    if (header.flags & DS_FLAG_KEYFRAME) {
      fail_unless (ds_rle_decode_xor (payload, len, NULL, picture, size, NULL));
      *have = TRUE;
    } else {
      fail_unless (*have, "a delta without reference reached a receiver");
      fail_unless (ds_rle_decode_xor (payload, len, picture, picture, size,
              NULL));
    }
  }
  g_free (buf);
}

/* @frame with its payload as one zstd frame and FLAG_COMPRESSED */
static GBytes *
compress_frame (GBytes * frame)
{
  DsHeader header = frame_header (frame);
  const guint8 *data = g_bytes_get_data (frame, NULL);
  gsize cap = ZSTD_compressBound (header.payload_len), len;
  guint8 *z = g_malloc (cap);
  GBytes *out;

  len = ZSTD_compress (z, cap, data + DS_HEADER_SIZE, header.payload_len, 1);
  fail_if (ZSTD_isError (len));
  header.flags |= DS_FLAG_COMPRESSED;
  out = ds_frame_pack (&header, z, len);
  g_free (z);
  g_bytes_unref (frame);
  return out;
}

/* A Ping round trip: the relay handled everything sent before */
static void
sync_with_relay (TestClient * client)
{
  guint n = g_queue_get_length (&client->messages);
  GBytes *frame;

  client_send (client, make_frame (DS_FRAME_PING, 0, 4242, 0, 0, "sync", 4));
  for (;;) {
    DsHeader header;

    WAIT_UNTIL (g_queue_get_length (&client->messages) > n, 20000);
    frame = g_queue_peek_nth (&client->messages, n);
    fail_unless (frame != NULL, "Ping did not come back");
    header = frame_header (frame);
    if (header.type == DS_FRAME_PING && header.seq == 4242) {
      g_queue_pop_nth (&client->messages, n);
      g_bytes_unref (frame);
      return;
    }
    n++;
  }
}

/* Drops input frames (ReceiverCount, KeyframeRequest) a source got;
 * returns how many KeyframeRequests there were */
static guint
count_keyframe_requests (TestClient * source)
{
  guint n = 0;
  GBytes *frame;

  while ((frame = g_queue_pop_head (&source->messages))) {
    DsHeader header = frame_header (frame);

    if ((header.flags & DS_FLAG_INPUT) &&
        header.type == DS_INPUT_KEYFRAME_REQUEST)
      n++;
    g_bytes_unref (frame);
  }
  return n;
}

#define relay_rss_kb(relay) \
    ds_test_proc_status_kb (ds_test_relay_get_pid (relay), "VmRSS:")
#define relay_peak_rss_kb(relay) \
    ds_test_proc_status_kb (ds_test_relay_get_pid (relay), "VmHWM:")

/* A metric line "NAME VALUE" of /metrics (NAME with its labels); fails
 * when /metrics does not answer or has no such line */
static guint64
metric (DsTestRelay * relay, const gchar * name)
{
  gint64 value = ds_test_relay_metric (relay, name);

  fail_unless (value >= 0, "no metric %s", name);
  return value;
}

static guint64
channel_cache_bytes (DsTestRelay * relay, const gchar * channel)
{
  gchar *name = g_strdup_printf ("ds_relay_channel_cache_bytes{channel=\"%s\"}",
      channel);
  guint64 value = metric (relay, name);

  g_free (name);
  return value;
}

/* An honest channel: a small picture that changes every frame */
#define HW 64
#define HH 48
#define HSIZE (HW * HH * 4)

typedef struct
{
  TestClient *source;
  TestClient *receiver;
  guint8 sent[HSIZE];           /* the source's picture */
  guint8 shown[HSIZE];          /* what the receiver decoded */
  gboolean have;
  guint16 seq;
} Honest;

static void
honest_start (Honest * h, DsTestRelay * relay)
{
  memset (h, 0, sizeof (*h));
  h->source = client_connect_channel (relay, "peer", "honest");
  h->receiver = client_connect_channel (relay, "stream", "honest");
}

/* One more picture from the honest source; its receiver must decode it */
static void
honest_step (Honest * h)
{
  guint8 next[HSIZE];
  GBytes *frame;
  guint i;

  for (i = 0; i < HSIZE; i++)
    next[i] = (guint8) (i * 3 + h->seq * 5);
  client_send (h->source, make_delta (next, h->seq ? h->sent : NULL, HSIZE,
          h->seq, HW, HH));
  memcpy (h->sent, next, HSIZE);
  h->seq++;
  for (;;) {
    DsHeader header;

    frame = client_pop (h->receiver, WAIT_MS);
    fail_unless (frame != NULL, "the honest receiver got nothing");
    header = frame_header (frame);
    if (header.type == DS_FRAME_PIXELS || header.type == DS_FRAME_DELTA_PIXELS) {
      apply_picture_frame (frame, h->shown, HSIZE, &h->have);
      g_bytes_unref (frame);
      if (header.seq == h->seq - 1)
        break;
      continue;
    }
    g_bytes_unref (frame);
  }
  fail_unless (memcmp (h->shown, h->sent, HSIZE) == 0,
      "the honest receiver shows a wrong picture");
}

static void
honest_stop (Honest * h)
{
  client_free (h->receiver);
  client_free (h->source);
}

/* Item 4: a keyframe announcing a huge picture (65535x65535 would be 17 GB,
 * 16384x16384 1 GiB, each from a frame of under 1 MB), then a 1x1 delta
 * (the old relay then allocated the keyframe's picture). The relay stays
 * small and answers, refuses and counts the frames, forwards none of
 * them, and an honest channel next to it keeps its correct picture. */
static const struct
{
  guint16 width;
  guint16 height;
} huge_sizes[] = {
  {65535, 65535},
  {16384, 16384},
  {7681, 4320},                 /* one column over the default bound */
};

GST_START_TEST (test_huge_keyframe_refused)
{
  DsTestRelay *relay = ds_test_relay_start_ok (NULL);
  guint16 w = huge_sizes[__i__].width, h = huge_sizes[__i__].height;
  TestClient *source = client_connect_channel (relay, "peer", "attacked");
  TestClient *receiver = client_connect_channel (relay, "stream", "attacked");
  guint8 one[4] = { 1, 2, 3, 4 };
  gsize rss_before, rss_after;
  Honest honest;
  GBytes *frame;
  guint i;

  honest_start (&honest, relay);
  honest_step (&honest);
  rss_before = relay_rss_kb (relay);

  client_send (source, make_sparse_delta (DS_FLAG_KEYFRAME, 1, w, h, 0, 0));
  client_send (source, make_frame (DS_FRAME_DELTA_PIXELS, 0, 2, 1, 1, one, 4));
  client_send (source, make_sparse_delta (0, 3, w, h, 1000, 7));
  client_send (source, make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 4, w, h,
          NULL, 0));
  sync_with_relay (source);
  honest_step (&honest);

  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      200);
  /* the peak: the old relay allocated the picture and freed it again */
  rss_after = relay_peak_rss_kb (relay);
  GST_INFO ("%ux%u: relay RSS %" G_GSIZE_FORMAT " kB before, peak %"
      G_GSIZE_FORMAT " kB", w, h, rss_before, rss_after);
  ds_test_memory_bound (rss_after < rss_before + 32 * 1024,
      "relay RSS grew from %" G_GSIZE_FORMAT " to a peak of %" G_GSIZE_FORMAT
      " kB", rss_before, rss_after);
  fail_unless (metric (relay, "ds_relay_pictures_refused_total") >= 2);
  fail_unless_equals_int (channel_cache_bytes (relay, "attacked"), 0);

  /* the receiver got none of the refused frames, nor the 1x1 delta (no
   * reference for it) */
  while ((frame = g_queue_pop_head (&receiver->messages))) {
    DsHeader header = frame_header (frame);

    fail_if (header.type == DS_FRAME_PIXELS ||
        header.type == DS_FRAME_DELTA_PIXELS,
        "a picture frame of %ux%u reached the receiver", header.width,
        header.height);
    g_bytes_unref (frame);
  }

  /* the channel still works with a picture of an allowed size */
  {
    guint8 picture[HSIZE];
    gboolean have = FALSE;
    guint8 shown[HSIZE];

    for (i = 0; i < HSIZE; i++)
      picture[i] = (guint8) (i + 1);
    client_send (source, make_delta (picture, NULL, HSIZE, 5, HW, HH));
    frame = client_pop (receiver, WAIT_MS);
    fail_unless (frame != NULL, "no picture after the refused ones");
    apply_picture_frame (frame, shown, HSIZE, &have);
    fail_unless (memcmp (shown, picture, HSIZE) == 0);
    g_bytes_unref (frame);
  }

  honest_stop (&honest);
  client_free (receiver);
  client_free (source);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Item 5: many 1 MB deltas on a keyframe announcing 65535x65535 (the old
 * relay cached them all, its bound being one raw picture of 17 GB). They
 * are refused: nothing is cached, the relay's memory stays small. */
#define BIG_DELTAS 100
#define BIG_DELTA_BYTES (1024 * 1024)

GST_START_TEST (test_delta_flood_on_huge_keyframe)
{
  DsTestRelay *relay = ds_test_relay_start_ok (NULL);
  TestClient *source = client_connect_channel (relay, "peer", "flood");
  guint8 *junk = g_malloc (BIG_DELTA_BYTES);
  gsize rss_before, rss_after;
  Honest honest;
  guint i;

  honest_start (&honest, relay);
  honest_step (&honest);
  rss_before = relay_rss_kb (relay);
  memset (junk, 0x5a, BIG_DELTA_BYTES);
  client_send (source, make_sparse_delta (DS_FLAG_KEYFRAME, 0, 65535, 65535,
          0, 0));
  for (i = 1; i <= BIG_DELTAS; i++) {
    client_send (source, make_frame (DS_FRAME_DELTA_PIXELS, 0, i, 65535,
            65535, junk, BIG_DELTA_BYTES));
    if (i % 10 == 0)
      sync_with_relay (source);
  }
  sync_with_relay (source);
  honest_step (&honest);

  rss_after = relay_rss_kb (relay);
  GST_INFO ("relay RSS %" G_GSIZE_FORMAT " kB before, %" G_GSIZE_FORMAT
      " kB after %u deltas of 1 MB", rss_before, rss_after, BIG_DELTAS);
  ds_test_memory_bound (rss_after < rss_before + 32 * 1024,
      "relay RSS grew from %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " kB",
      rss_before, rss_after);
  fail_unless_equals_int (channel_cache_bytes (relay, "flood"), 0);
  fail_unless (metric (relay, "ds_relay_pictures_refused_total") >= BIG_DELTAS);

  honest_stop (&honest);
  g_free (junk);
  client_free (source);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Deltas of an allowed picture size: whatever their number, the channel's
 * cache stays under --max-channel-cache-bytes; the chain is collapsed
 * into one picture (once per collapse, not once per joiner), and a late
 * joiner still draws the source's exact picture */
#define CW 512
#define CH 512
#define CSIZE (CW * CH * 4)
#define CACHE_BOUND (512 * 1024)
#define CDELTAS 60
#define CCHANGE (100 * 1024)

GST_START_TEST (test_delta_chain_bounded)
{
  gchar *bound = g_strdup_printf ("%u", CACHE_BOUND);
  DsTestRelay *relay =
      ds_test_relay_start_ok ("--max-channel-cache-bytes", bound, NULL);
  TestClient *source = client_connect_channel (relay, "peer", "chain");
  TestClient *joiners[10];
  guint8 *sent = g_malloc0 (CSIZE), *next = g_malloc (CSIZE);
  guint8 *shown = g_malloc (CSIZE);
  guint64 max_cached = 0, rebuilds;
  guint i, j;

  /* a mostly black picture: a small keyframe */
  memset (sent + CSIZE / 2, 0x40, 4096);
  client_send (source, make_delta (sent, NULL, CSIZE, 0, CW, CH));
  /* deltas changing the same 100 kB each time: the chain passes the
   * bound (smaller than the raw picture) long before the picture's code */
  for (i = 1; i <= CDELTAS; i++) {
    memcpy (next, sent, CSIZE);
    for (j = 0; j < CCHANGE; j++)
      next[j] ^= (guint8) (i + j) | 1;
    client_send (source, make_delta (next, sent, CSIZE, i, CW, CH));
    memcpy (sent, next, CSIZE);
    if (i % 5 == 0) {
      sync_with_relay (source);
      max_cached = MAX (max_cached, channel_cache_bytes (relay, "chain"));
    }
  }
  sync_with_relay (source);
  GST_INFO ("cache at most %" G_GUINT64_FORMAT " bytes, bound %u",
      max_cached, CACHE_BOUND);
  fail_unless (max_cached > 0);
  fail_unless (max_cached <= CACHE_BOUND, "%" G_GUINT64_FORMAT " bytes cached",
      max_cached);
  rebuilds = metric (relay, "ds_relay_picture_rebuilds_total");
  fail_unless (rebuilds >= 1);

  /* a storm of joiners: each draws the exact picture; no rebuild */
  for (i = 0; i < G_N_ELEMENTS (joiners); i++)
    joiners[i] = client_connect_channel (relay, "stream", "chain");
  for (i = 0; i < G_N_ELEMENTS (joiners); i++) {
    gboolean have = FALSE;
    GBytes *frame;

    sync_with_relay (joiners[i]);
    while ((frame = g_queue_pop_head (&joiners[i]->messages))) {
      apply_picture_frame (frame, shown, CSIZE, &have);
      g_bytes_unref (frame);
    }
    fail_unless (have, "joiner %u got no picture", i);
    fail_unless (memcmp (shown, sent, CSIZE) == 0,
        "joiner %u draws a wrong picture", i);
  }
  fail_unless_equals_int (metric (relay, "ds_relay_picture_rebuilds_total"),
      rebuilds);

  for (i = 0; i < G_N_ELEMENTS (joiners); i++)
    client_free (joiners[i]);
  g_free (sent);
  g_free (next);
  g_free (shown);
  g_free (bound);
  client_free (source);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* A source scrolls: MotionDeltaPixels (a scroll and a window moved
 * over it, plus changed pixels), every other one compressed, with zstd
 * DeltaPixels between them. The chain passes the cache bound: the real
 * relay rebuilds one picture from it (decompressing, applying the moves);
 * joiners at every point draw the exact picture. */
GST_START_TEST (test_motion_compressed_chain_late_joiner)
{
  gchar *bound = g_strdup_printf ("%u", CACHE_BOUND);
  DsTestRelay *relay =
      ds_test_relay_start_ok ("--max-channel-cache-bytes", bound, NULL);
  TestClient *source = client_connect_channel (relay, "peer", "scroll");
  guint8 *sent = g_malloc (CSIZE), *next = g_malloc (CSIZE);
  guint8 *shown = g_malloc (CSIZE);
  gsize cap = DS_MOTION_TABLE_SIZE (2) + DS_RLE_MAX_ENCODED_SIZE (CSIZE);
  guint8 *payload = g_malloc (cap);
  guint i, j, joined = 0;

  /* bands of two rows, and one noisy band: a keyframe that zstd makes
   * small, a picture where a move that is off by a row shows */
  for (i = 0; i < CSIZE; i++)
    sent[i] = (guint8) ((i >> 12) * 13) | 1;
  for (i = 0; i < 64 * 1024; i++)
    sent[CSIZE / 2 + i] = (guint8) (i * 7 + (i >> 5));
  client_send (source, compress_frame (make_delta (sent, NULL, CSIZE, 0, CW,
              CH)));
  for (i = 1; i <= 40; i++) {
    GBytes *frame;

    if (i % 4 == 3) {
      /* a plain delta, compressed */
      memcpy (next, sent, CSIZE);
      for (j = 0; j < 2000; j++)
        next[(i * 7919 + j * 131) % CSIZE] ^= 0x5a;
      frame = compress_frame (make_delta (next, sent, CSIZE, i, CW, CH));
    } else {
      const DsMotionMove moves[2] = {
        {0, 0, 0, 8, CW, CH - 8},
        {i, 40, 100 + i, 44, 200, 150},
      };
      gsize len;
      guint x, y;

      /* the prediction, by hand: the scroll, then the window, both read
       * from the picture before */
      memcpy (next, sent, CSIZE);
      memcpy (next + 8 * CW * 4, sent, (gsize) (CH - 8) * CW * 4);
      for (y = 0; y < 150; y++)
        for (x = 0; x < 200; x++)
          memcpy (next + ((44 + y) * CW + 100 + i + x) * 4,
              sent + ((40 + y) * CW + i + x) * 4, 4);
      /* new rows at the top, and some changed pixels */
      for (j = 0; j < 8 * CW * 4; j++)
        next[j] = (guint8) (i * 31 + j);
      for (j = 0; j < 500; j++)
        next[(i * 104729 + j * 977) % CSIZE] ^= 0xa5;
      len = ds_motion_encode (next, sent, CW, CH, moves, 2, payload, cap);
      fail_unless (len > 0);
      fail_unless (len < CSIZE / 8, "the moves do not carry the picture");
      frame = make_frame (DS_FRAME_MOTION_DELTA_PIXELS, 0, i, CW, CH,
          payload, len);
      if (i % 2)
        frame = compress_frame (frame);
    }
    client_send (source, frame);
    memcpy (sent, next, CSIZE);

    if (i % 10 == 5 || i == 40) {
      TestClient *joiner;
      gboolean have = FALSE;

      sync_with_relay (source);
      joiner = client_connect_channel (relay, "stream", "scroll");
      sync_with_relay (joiner);
      while ((frame = g_queue_pop_head (&joiner->messages))) {
        apply_picture_frame (frame, shown, CSIZE, &have);
        g_bytes_unref (frame);
      }
      fail_unless (have, "joiner after frame %u got no picture", i);
      fail_unless (memcmp (shown, sent, CSIZE) == 0,
          "joiner after frame %u draws a wrong picture", i);
      client_free (joiner);
      joined++;
    }
  }
  fail_unless_equals_int (joined, 5);
  fail_unless (channel_cache_bytes (relay, "scroll") <= CACHE_BOUND);
  fail_unless (metric (relay, "ds_relay_picture_rebuilds_total") >= 1);
  fail_unless_equals_int (metric (relay, "ds_relay_cache_drops_total"), 0);

  g_free (payload);
  g_free (sent);
  g_free (next);
  g_free (shown);
  g_free (bound);
  client_free (source);
  ds_test_relay_free (relay);
}

GST_END_TEST;

#define DROP_BOUND (2 * 1024 * 1024)

/* A chain the relay cannot collapse (payloads that claim to be zstd and
 * are not) or whose keyframe leaves
 * no room: it is dropped, not kept past the bound; a joiner then gets no
 * delta it cannot draw, the source is asked for a keyframe, and the
 * joiner draws the next one */
GST_START_TEST (test_chain_dropped_joiner_waits)
{
  gchar *bound = g_strdup_printf ("%u", DROP_BOUND);
  DsTestRelay *relay =
      ds_test_relay_start_ok ("--max-channel-cache-bytes", bound, NULL);
  TestClient *source = client_connect_channel (relay, "peer", "drop");
  TestClient *joiner;
  guint8 *picture = g_malloc (CSIZE), *shown = g_malloc (CSIZE);
  guint8 *junk = g_malloc (200 * 1024);
  gboolean have = FALSE;
  GBytes *frame;
  guint i;

  for (i = 0; i < CSIZE; i++)
    picture[i] = (guint8) (i * 3) | 1;
  client_send (source, make_delta (picture, NULL, CSIZE, 0, CW, CH));
  memset (junk, 0x33, 200 * 1024);
  for (i = 1; i <= 20; i++)
    client_send (source, make_frame (DS_FRAME_DELTA_PIXELS,
            DS_FLAG_COMPRESSED, i, CW, CH, junk, 200 * 1024));
  sync_with_relay (source);
  fail_unless (channel_cache_bytes (relay, "drop") <= DROP_BOUND);
  fail_unless (metric (relay, "ds_relay_cache_drops_total") >= 1);
  count_keyframe_requests (source);

  joiner = client_connect_channel (relay, "stream", "drop");
  sync_with_relay (joiner);
  /* live deltas it has no reference for do not reach it */
  client_send (source, make_frame (DS_FRAME_DELTA_PIXELS, DS_FLAG_COMPRESSED,
          21, CW, CH, junk, 1000));
  sync_with_relay (source);
  sync_with_relay (joiner);
  while ((frame = g_queue_pop_head (&joiner->messages))) {
    DsHeader header = frame_header (frame);

    fail_if (header.type == DS_FRAME_DELTA_PIXELS,
        "a delta without reference reached the joiner");
    g_bytes_unref (frame);
  }
  WAIT_UNTIL (count_keyframe_requests (source) > 0, WAIT_MS);

  /* the source answers with a keyframe: the joiner draws it */
  client_send (source, make_delta (picture, NULL, CSIZE, 22, CW, CH));
  frame = client_pop (joiner, WAIT_MS);
  fail_unless (frame != NULL);
  apply_picture_frame (frame, shown, CSIZE, &have);
  fail_unless (memcmp (shown, picture, CSIZE) == 0);
  g_bytes_unref (frame);

  client_free (joiner);
  g_free (picture);
  g_free (shown);
  g_free (junk);
  g_free (bound);
  client_free (source);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* A delta arriving before any keyframe (nothing to apply it to) goes to
 * nobody; the relay asks the source for a keyframe */
GST_START_TEST (test_delta_without_reference)
{
  DsTestRelay *relay = ds_test_relay_start_ok (NULL);
  TestClient *source = client_connect_channel (relay, "peer", "noref");
  TestClient *receiver = client_connect_channel (relay, "stream", "noref");
  guint8 picture[HSIZE], shown[HSIZE];
  gboolean have = FALSE;
  GBytes *frame;
  guint i;

  for (i = 0; i < HSIZE; i++)
    picture[i] = (guint8) (i * 11);
  client_send (source, make_sparse_delta (0, 1, HW, HH, 100, 9));
  sync_with_relay (source);
  sync_with_relay (receiver);
  fail_unless (g_queue_is_empty (&receiver->messages),
      "a delta without reference reached the receiver");
  WAIT_UNTIL (count_keyframe_requests (source) > 0, WAIT_MS);

  client_send (source, make_delta (picture, NULL, HSIZE, 2, HW, HH));
  frame = client_pop (receiver, WAIT_MS);
  fail_unless (frame != NULL);
  apply_picture_frame (frame, shown, HSIZE, &have);
  g_bytes_unref (frame);
  fail_unless (memcmp (shown, picture, HSIZE) == 0);

  client_free (receiver);
  client_free (source);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* The cache is given back when the source's grace period ends: the
 * channel holds no bytes, and the relay's memory comes back down */
#define GW 4096
#define GH 2048
#define GDELTAS 200
#define GDELTA_BYTES (100 * 1024)

GST_START_TEST (test_cache_freed_after_grace)
{
  DsTestRelay *relay = ds_test_relay_start_ok ("--source-grace", "0.5", NULL);
  TestClient *source = client_connect_channel (relay, "peer", "grace");
  gsize rss_before, rss_full, rss_after;
  guint64 cached;
  gint64 left, gone;
  guint i;

  rss_before = relay_rss_kb (relay);
  client_send (source, make_sparse_delta (DS_FLAG_KEYFRAME, 0, GW, GH, 1000,
          3));
  for (i = 1; i <= GDELTAS; i++) {
    client_send (source, make_sparse_delta (0, i, GW, GH, GDELTA_BYTES,
            (guint8) (i | 1)));
    if (i % 20 == 0)
      sync_with_relay (source);
  }
  sync_with_relay (source);
  cached = channel_cache_bytes (relay, "grace");
  rss_full = relay_rss_kb (relay);
  fail_unless (cached > GDELTAS * GDELTA_BYTES / 2, "%" G_GUINT64_FORMAT
      " bytes cached", cached);

  left = g_get_monotonic_time ();
  client_free (source);
  /* kept for the grace, then freed */
  fail_unless (channel_cache_bytes (relay, "grace") > 0);
  WAIT_UNTIL (channel_cache_bytes (relay, "grace") == 0, 5000);
  gone = (g_get_monotonic_time () - left) / 1000;
  fail_unless (gone >= 450, "freed after %" G_GINT64_FORMAT " ms", gone);
  if (DS_TEST_CHECK_MEMORY)
    WAIT_UNTIL (relay_rss_kb (relay) < rss_before + 8 * 1024, 5000);
  rss_after = relay_rss_kb (relay);
  GST_INFO ("relay RSS %" G_GSIZE_FORMAT " kB before, %" G_GSIZE_FORMAT
      " kB with %" G_GUINT64_FORMAT " bytes cached, %" G_GSIZE_FORMAT
      " kB after the grace", rss_before, rss_full, cached, rss_after);
  ds_test_memory_bound (rss_after < rss_before + 8 * 1024,
      "relay RSS %" G_GSIZE_FORMAT " kB after the grace, %" G_GSIZE_FORMAT
      " kB before", rss_after, rss_before);
  fail_unless_equals_int (channel_cache_bytes (relay, "grace"), 0);

  ds_test_relay_free (relay);
}

GST_END_TEST;

/* An image (CompressedPixels) whose own header announces a huge picture
 * is refused like a Pixels frame: the receivers' decoders never see it */
GST_START_TEST (test_huge_image_refused)
{
  DsTestRelay *relay = ds_test_relay_start_ok (NULL);
  TestClient *source = client_connect_channel (relay, "peer", "png");
  TestClient *receiver = client_connect_channel (relay, "stream", "png");
  /* PNG signature and an IHDR of 100000 x 100000 */
  static const guint8 png[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0x00, 0x01, 0x86, 0xa0, 0x00, 0x01, 0x86, 0xa0,
    8, 6, 0, 0, 0, 0, 0, 0, 0
  };

  client_send (source, make_frame (DS_FRAME_COMPRESSED_PIXELS,
          DS_FLAG_KEYFRAME, 1, 0, 0, png, sizeof (png)));
  sync_with_relay (source);
  sync_with_relay (receiver);
  fail_unless (g_queue_is_empty (&receiver->messages));
  fail_unless_equals_int (metric (relay, "ds_relay_pictures_refused_total"), 1);
  fail_unless_equals_int (channel_cache_bytes (relay, "png"), 0);

  client_free (receiver);
  client_free (source);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* The options are checked */
GST_START_TEST (test_picture_options)
{
  DsTestRelay *relay;
  const gchar *bad[][2] = {
    {"--max-picture-pixels", "0"},
    {"--max-picture-pixels", "4294967296"},
    {"--max-channel-cache-bytes", "100"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    const gchar *argv[] = { g_getenv ("DS_RELAY"), bad[i][0], bad[i][1],
      "--port", "0", NULL
    };
    GSubprocess *process = g_subprocess_newv (argv,
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
        NULL);

    fail_unless (process != NULL);
    fail_unless (g_subprocess_wait (process, NULL, NULL));
    fail_unless_equals_int (g_subprocess_get_exit_status (process), 2);
    g_object_unref (process);
  }

  relay = ds_test_relay_start_ok ("--max-picture-pixels", "100",
      "--max-channel-cache-bytes", "4096", NULL);
  ds_test_relay_free (relay);
}

GST_END_TEST;

static Suite *
relay_pictures_suite (void)
{
  Suite *s = suite_create ("ds-relay-pictures");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, setup, teardown);
  if (!ds_test_relay_available ()) {
    GST_WARNING ("DS_RELAY is not set: nothing to test");
    return s;
  }
  tcase_add_loop_test (tc, test_huge_keyframe_refused, 0,
      G_N_ELEMENTS (huge_sizes));
  tcase_add_test (tc, test_delta_flood_on_huge_keyframe);
  tcase_add_test (tc, test_delta_chain_bounded);
  tcase_add_test (tc, test_chain_dropped_joiner_waits);
  tcase_add_test (tc, test_motion_compressed_chain_late_joiner);
  tcase_add_test (tc, test_delta_without_reference);
  tcase_add_test (tc, test_cache_freed_after_grace);
  tcase_add_test (tc, test_huge_image_refused);
  tcase_add_test (tc, test_picture_options);
  return s;
}

DS_TEST_RELAY_CHECK_MAIN (relay_pictures);
