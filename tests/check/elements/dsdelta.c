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
/* dsdelta: lossless round trips on test patterns (decoded here with the
 * protocol library, and through dsdepay), keyframes on interval, size
 * change, ForceKeyUnit and KeyframeRequest, rate limiting of request
 * storms, raw fallback on noise, pass-through of other frames, zstd, and
 * the sizes a low-motion stream must stay under. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <dlfcn.h>
#include <sys/mman.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#include "dsprotocol.h"
#include "dsmotion.h"
#include "dsrle.h"
#include "gstdsutils.h"

/* the benchmark's synthetic desktop (a scrolling terminal, a dragged
 * window), as test content */
#include "../../bench/desktop-scene.c"

#define FRAME_DURATION (GST_SECOND / 30)

/* Pictures from videotestsrc (RGBA, 30 fps), or of the synthetic
 * desktop when @source is "desktop", as buffers */
static GPtrArray *
make_pictures (const gchar * source, guint width, guint height, guint n)
{
  GPtrArray *pictures = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstElement *pipeline, *sink;
  GstSample *sample;
  gchar *desc;

  if (g_str_equal (source, "desktop")) {
    guint i;

    for (i = 0; i < n; i++) {
      GstBuffer *buf = gst_buffer_new_allocate (NULL, width * height * 4,
          NULL);
      GstMapInfo map;

      gst_buffer_map (buf, &map, GST_MAP_WRITE);
      desktop_scene_render (map.data, width, height, i);
      gst_buffer_unmap (buf, &map);
      GST_BUFFER_PTS (buf) = i * FRAME_DURATION;
      GST_BUFFER_DURATION (buf) = FRAME_DURATION;
      g_ptr_array_add (pictures, buf);
    }
    return pictures;
  }

  desc = g_strdup_printf ("%s num-buffers=%u ! video/x-raw,format=RGBA,"
      "width=%u,height=%u,framerate=30/1 ! appsink name=sink sync=false",
      source, n, width, height);
  pipeline = gst_parse_launch (desc, NULL);
  fail_unless (pipeline != NULL);
  g_free (desc);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_ASYNC);

  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    g_ptr_array_add (pictures, gst_buffer_ref (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }
  fail_unless_equals_int (pictures->len, n);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);

  return pictures;
}

/* A Pixels frame around @picture (shared), as dspay makes it */
static GstBuffer *
pixels_frame (GstBuffer * picture, guint width, guint height, guint16 seq,
    GstClockTime pts)
{
  DsHeader header = { 0, };
  GstBuffer *frame;

  header.type = DS_FRAME_PIXELS;
  header.flags = DS_FLAG_KEYFRAME;
  header.seq = seq;
  header.timestamp = (guint32) (pts / GST_MSECOND);
  header.width = width;
  header.height = height;
  frame = gst_ds_frame_buffer_new (&header, picture);
  GST_BUFFER_PTS (frame) = pts;
  GST_BUFFER_DURATION (frame) = FRAME_DURATION;

  return frame;
}

static GstHarness *
delta_harness_new (const gchar * properties)
{
  gchar *launch = g_strdup_printf ("dsdelta name=delta %s",
      properties ? properties : "");
  GstHarness *h = gst_harness_new_parse (launch);

  g_free (launch);
  gst_harness_set_src_caps_str (h, GST_DS_STREAM_MEDIA_TYPE ",media=video");
  return h;
}

static guint64
get_stat (GstHarness * h, const gchar * name)
{
  GstElement *delta = gst_bin_get_by_name (GST_BIN (h->element), "delta");
  GstStructure *stats;
  guint64 value;

  g_object_get (delta, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, name, &value));
  gst_structure_free (stats);
  gst_object_unref (delta);

  return value;
}

/* What a receiver keeps: the last picture */
typedef struct
{
  guint8 *picture;
  gsize size;
  guint width, height;
  guint compressed;             /* frames with FLAG_COMPRESSED */
} Receiver;

typedef enum
{
  KIND_PIXELS,
  KIND_KEY_DELTA,
  KIND_DELTA,
  KIND_MOTION,
  KIND_OTHER,
} FrameKind;

/* Decodes one output frame into @rx as a receiver would; returns its kind
 * and the payload size */
static FrameKind
receive (Receiver * rx, GstBuffer * frame, gsize * payload_size)
{
  DsHeader header;
  GstMapInfo map;
  const guint8 *payload;
  gsize size;
  FrameKind kind;
  guint8 *decompressed = NULL;
  gsize len;

  fail_unless (gst_ds_frame_buffer_parse (frame, &header, NULL));
  fail_unless (gst_buffer_peek_memory (frame, 0)->size == DS_HEADER_SIZE);
  fail_unless (gst_buffer_map (frame, &map, GST_MAP_READ));
  payload = map.data + DS_HEADER_SIZE;
  len = header.payload_len;
  if (payload_size)
    *payload_size = len;

  if (header.type != DS_FRAME_PIXELS && header.type != DS_FRAME_DELTA_PIXELS
      && header.type != DS_FRAME_MOTION_DELTA_PIXELS) {
    gst_buffer_unmap (frame, &map);
    return KIND_OTHER;
  }

  size = (gsize) header.width * header.height * 4;
  if (size != rx->size) {
    g_free (rx->picture);
    rx->picture = NULL;
    rx->size = size;
  }
  rx->width = header.width;
  rx->height = header.height;

  if (header.type == DS_FRAME_PIXELS) {
    fail_unless_equals_int (len, size);
    if (rx->picture == NULL)
      rx->picture = g_malloc (size);
    memcpy (rx->picture, payload, size);
    fail_if (GST_BUFFER_FLAG_IS_SET (frame, GST_BUFFER_FLAG_DELTA_UNIT));
    gst_buffer_unmap (frame, &map);
    return KIND_PIXELS;
  }

  fail_unless (len < size);
  if (header.flags & DS_FLAG_COMPRESSED) {
    rx->compressed++;
#ifdef HAVE_ZSTD
    unsigned long long content = ZSTD_getFrameContentSize (payload, len);
    gsize res;

    fail_unless (content != ZSTD_CONTENTSIZE_ERROR
        && content != ZSTD_CONTENTSIZE_UNKNOWN);
    decompressed = g_malloc (content);
    res = ZSTD_decompress (decompressed, content, payload, len);
    fail_if (ZSTD_isError (res));
    fail_unless_equals_int (res, content);
    /* exactly one zstd frame */
    fail_unless_equals_int (ZSTD_findFrameCompressedSize (payload, len), len);
    payload = decompressed;
    len = content;
#else
    fail ("compressed frame without zstd");
#endif
  }

  if (header.type == DS_FRAME_MOTION_DELTA_PIXELS) {
    kind = KIND_MOTION;
    fail_if (header.flags & DS_FLAG_KEYFRAME);
    fail_unless (rx->picture != NULL, "motion delta without reference");
    fail_unless (ds_motion_decode (payload, len, rx->picture, rx->picture,
            header.width, header.height, NULL));
    fail_unless (GST_BUFFER_FLAG_IS_SET (frame, GST_BUFFER_FLAG_DELTA_UNIT));
  } else if (header.flags & DS_FLAG_KEYFRAME) {
    kind = KIND_KEY_DELTA;
    if (rx->picture == NULL)
      rx->picture = g_malloc (size);
    fail_unless (ds_rle_decode_xor (payload, len, NULL, rx->picture, size,
            NULL));
    fail_if (GST_BUFFER_FLAG_IS_SET (frame, GST_BUFFER_FLAG_DELTA_UNIT));
  } else {
    kind = KIND_DELTA;
    fail_unless (rx->picture != NULL, "delta without reference");
    fail_unless (ds_rle_decode_xor (payload, len, rx->picture, rx->picture,
            size, NULL));
    fail_unless (GST_BUFFER_FLAG_IS_SET (frame, GST_BUFFER_FLAG_DELTA_UNIT));
  }
  g_free (decompressed);
  gst_buffer_unmap (frame, &map);

  return kind;
}

static gboolean
picture_equals (Receiver * rx, GstBuffer * picture)
{
  GstMapInfo map;
  gboolean equal;

  fail_unless (gst_buffer_map (picture, &map, GST_MAP_READ));
  equal = map.size == rx->size && memcmp (map.data, rx->picture, map.size) == 0;
  gst_buffer_unmap (picture, &map);
  return equal;
}

static void
receiver_clear (Receiver * rx)
{
  g_free (rx->picture);
  memset (rx, 0, sizeof (*rx));
}

static gboolean
is_keyframe (FrameKind kind)
{
  return kind == KIND_PIXELS || kind == KIND_KEY_DELTA;
}

/* Pushes picture @i of @pictures and receives the output */
static FrameKind
push_and_receive (GstHarness * h, Receiver * rx, GPtrArray * pictures,
    guint i, guint width, guint height, gsize * payload_size)
{
  GstBuffer *picture = g_ptr_array_index (pictures, i % pictures->len);
  GstBuffer *out;
  DsHeader header;
  FrameKind kind;

  fail_unless_equals_int (gst_harness_push (h, pixels_frame (picture, width,
              height, (guint16) i, i * FRAME_DURATION)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  fail_unless (gst_ds_frame_buffer_parse (out, &header, NULL));
  /* one frame out per frame in, same seq, timestamp and PTS */
  fail_unless_equals_int (header.seq, (guint16) i);
  fail_unless_equals_int (header.timestamp,
      (guint32) (i * FRAME_DURATION / GST_MSECOND));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * FRAME_DURATION);
  /* never more than raw + header */
  fail_unless (gst_buffer_get_size (out) <= DS_HEADER_SIZE + width * height
      * 4);

  kind = receive (rx, out, payload_size);
  fail_unless (picture_equals (rx, picture), "picture %u differs", i);
  gst_buffer_unref (out);

  return kind;
}

typedef struct
{
  const gchar *source;
  const gchar *properties;
} RoundTrip;

static const RoundTrip round_trips[] = {
  {"videotestsrc pattern=ball", NULL},
  {"videotestsrc pattern=smpte horizontal-speed=7", NULL},
  {"videotestsrc pattern=snow", NULL},
  {"videotestsrc pattern=ball background-color=0", NULL},
  {"videotestsrc pattern=ball", "keyframe-interval=4"},
  {"desktop", NULL},
  {"desktop", "motion=true"},
  {"videotestsrc pattern=snow", "motion=true"},
  {"videotestsrc pattern=smpte horizontal-speed=7", "motion=true"},
  /* what the original protocol's receivers decode, whatever else is set */
  {"videotestsrc pattern=ball", "protocol=original"},
  {"desktop", "protocol=original compression=zstd motion=true"},
  {"videotestsrc pattern=smpte horizontal-speed=7",
      "compression=none motion=false"},
#ifdef HAVE_ZSTD
  {"desktop", "compression=zstd"},
  {"desktop", "compression=zstd motion=true"},
  {"videotestsrc pattern=ball", "compression=zstd"},
  {"videotestsrc pattern=smpte horizontal-speed=7", "compression=zstd"},
  {"videotestsrc pattern=snow", "compression=zstd compression-level=3"},
  {"videotestsrc pattern=ball background-color=0",
      "compression=zstd compression-level=-5"},
#endif
};

/* Every picture comes out byte for byte, whatever the content */
GST_START_TEST (test_round_trip)
{
  const RoundTrip *rt = &round_trips[__i__];
  const guint width = 320, height = 240, n = 40;
  GPtrArray *pictures = make_pictures (rt->source, width, height, n);
  GstHarness *h = delta_harness_new (rt->properties);
  Receiver rx = { 0, };
  guint i, deltas = 0;

  GST_INFO ("%s ! dsdelta %s", rt->source, GST_STR_NULL (rt->properties));
  for (i = 0; i < n; i++) {
    FrameKind kind = push_and_receive (h, &rx, pictures, i, width, height,
        NULL);

    if (i == 0) {
      fail_unless (is_keyframe (kind));
      /* a screen has few zero bytes, but zstd shrinks its keyframe */
      if (g_str_equal (rt->source, "desktop") && (rt->properties == NULL
              || (strstr (rt->properties, "zstd")
                  && !strstr (rt->properties, "original"))))
        fail_unless_equals_int (kind, KIND_KEY_DELTA);
      /* the smaller keyframe: a transparent background codes to almost
       * nothing, an opaque black one (00 00 00 FF) to as much as raw */
      if (strstr (rt->source, "background-color=0"))
        fail_unless_equals_int (kind, KIND_KEY_DELTA);
      /* uncompressed, a ball's keyframe is the Pixels frame; zstd (the
       * default) shrinks it */
      if (g_str_equal (rt->source, "videotestsrc pattern=ball")
          && rt->properties && strstr (rt->properties, "original"))
        fail_unless_equals_int (kind, KIND_PIXELS);
      if (g_str_equal (rt->source, "videotestsrc pattern=ball")
          && rt->properties == NULL)
        fail_unless_equals_int (kind, KIND_KEY_DELTA);
    }
    if (kind == KIND_DELTA || kind == KIND_MOTION)
      deltas++;
    if (rt->properties && (strstr (rt->properties, "original")
            || strstr (rt->properties, "motion=false")))
      fail_if (kind == KIND_MOTION, "picture %u: a motion delta", i);
  }
  if (rt->properties && (strstr (rt->properties, "original")
          || strstr (rt->properties, "compression=none")))
    fail_unless_equals_int (rx.compressed, 0);
  /* the defaults compress */
  if (rt->properties == NULL && strstr (rt->source, "snow") == NULL)
    fail_unless (rx.compressed > 0);
  /* moving content codes as deltas, except noise */
  if (strstr (rt->source, "snow") == NULL)
    fail_unless (deltas >= n / 2);

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* The "done when": pattern=ball 640x480, default settings: each
 * delta under 2 % of raw, the whole stream under 10 % of raw */
GST_START_TEST (test_ball_sizes)
{
  const guint width = 640, height = 480, n = 90;
  const gsize raw = width * height * 4;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, n);
  GstHarness *h = delta_harness_new (NULL);
  Receiver rx = { 0, };
  guint64 total = 0, total_raw = 0;
  guint i, deltas = 0;

  for (i = 0; i < n; i++) {
    gsize payload;
    FrameKind kind = push_and_receive (h, &rx, pictures, i, width, height,
        &payload);

    if (kind == KIND_DELTA) {
      deltas++;
      fail_unless (payload * 50 < raw, "delta %u: %" G_GSIZE_FORMAT
          " bytes, 2%% of raw is %" G_GSIZE_FORMAT, i, payload, raw / 50);
    }
    total += payload + DS_HEADER_SIZE;
    total_raw += raw + DS_HEADER_SIZE;
  }
  GST_INFO ("ball: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
      total, total_raw);
  fail_unless_equals_int (deltas, n - 1);
  fail_unless (total * 10 < total_raw);

  fail_unless_equals_uint64 (get_stat (h, "bytes-in"), (guint64) raw * n);
  fail_unless_equals_uint64 (get_stat (h, "bytes-out"),
      total - (guint64) n * DS_HEADER_SIZE);

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

GST_START_TEST (test_keyframe_interval)
{
  const guint width = 160, height = 120, n = 23;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, n);
  GstHarness *h = delta_harness_new ("keyframe-interval=5");
  Receiver rx = { 0, };
  guint i;

  for (i = 0; i < n; i++) {
    FrameKind kind = push_and_receive (h, &rx, pictures, i, width, height,
        NULL);

    fail_unless_equals_int (is_keyframe (kind), i % 5 == 0);
  }

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

static GstEvent *
keyframe_request_event (guint kind)
{
  DsInputEvent input = { 0, };

  if (kind == 0)
    return gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
        TRUE, 0);
  input.type = DS_INPUT_KEYFRAME_REQUEST;
  return gst_ds_input_event_new (&input);
}

/* ForceKeyUnit (0) and GstDsInput KeyframeRequest (1), default settings:
 * a keyframe at the next picture (the last keyframe is 0.67 s old), and
 * the request is not passed further upstream */
GST_START_TEST (test_keyframe_on_request)
{
  const guint width = 160, height = 120, n = 24;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, n);
  GstHarness *h = delta_harness_new (NULL);
  Receiver rx = { 0, };
  guint i, upstream_before;

  upstream_before = gst_harness_upstream_events_received (h);
  for (i = 0; i < n; i++) {
    FrameKind kind;

    if (i == 20)
      fail_unless (gst_harness_push_upstream_event (h,
              keyframe_request_event (__i__)));
    kind = push_and_receive (h, &rx, pictures, i, width, height, NULL);
    fail_unless_equals_int (is_keyframe (kind), i == 0 || i == 20);
  }
  fail_unless_equals_int (gst_harness_upstream_events_received (h),
      upstream_before);

  fail_unless_equals_uint64 (get_stat (h, "requested-keyframes"), 1);
  fail_unless_equals_uint64 (get_stat (h, "keyframe-requests"), 1);

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* Other input events go on upstream untouched */
GST_START_TEST (test_other_input_passes_upstream)
{
  GstHarness *h = delta_harness_new (NULL);
  DsInputEvent input = { 0, };
  GstEvent *event;
  guint8 type;

  input.type = DS_INPUT_POINTER;
  input.pointer.x = 3;
  fail_unless (gst_harness_push_upstream_event (h,
          gst_ds_input_event_new (&input)));
  /* skip what the harness itself sent upstream (reconfigure, ...) */
  while ((event = gst_harness_try_pull_upstream_event (h))) {
    if (gst_ds_input_event_parse (event, &type, NULL))
      break;
    gst_event_unref (event);
  }
  fail_unless (event != NULL);
  fail_unless_equals_int (type, DS_INPUT_POINTER);
  gst_event_unref (event);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* A storm of 100 requests makes one keyframe; while requests keep coming
 * keyframes are min-keyframe-distance apart; a pending request is dropped
 * when a keyframe goes out for another reason */
GST_START_TEST (test_request_storm)
{
  const guint width = 160, height = 120, n = 80;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, 20);
  GstHarness *h = delta_harness_new ("keyframe-interval=0 "
      "min-keyframe-distance=990000000");
  Receiver rx = { 0, };
  guint i, k, keyframes = 0;

  for (i = 0; i < n; i++) {
    FrameKind kind;
    gboolean expected;

    /* a storm at picture 3 (0.1 s after the first keyframe: too soon),
     * then requests at every picture from 40 to 49 */
    if (i == 3)
      for (k = 0; k < 100; k++)
        fail_unless (gst_harness_push_upstream_event (h,
                keyframe_request_event (k % 2)));
    if (i >= 40 && i < 50)
      fail_unless (gst_harness_push_upstream_event (h,
              keyframe_request_event (i % 2)));

    kind = push_and_receive (h, &rx, pictures, i, width, height, NULL);
    /* 0: first; 30: the storm served 1 s after picture 0; 60: the
     * requests of 40-49 served 1 s after picture 30 */
    expected = i == 0 || i == 30 || i == 60;
    fail_unless_equals_int (is_keyframe (kind), expected);
    keyframes += is_keyframe (kind);
  }
  fail_unless_equals_int (keyframes, 3);

  fail_unless_equals_uint64 (get_stat (h, "keyframe-requests"), 110);
  fail_unless_equals_uint64 (get_stat (h, "requested-keyframes"), 2);
  gst_harness_teardown (h);

  /* keyframe-interval 20: a request at 25 (too soon after 20) is dropped
   * by the periodic keyframe at 40, so 50 (1 s after 20) is a delta */
  h = delta_harness_new ("keyframe-interval=20 "
      "min-keyframe-distance=990000000");
  receiver_clear (&rx);
  for (i = 0; i < 55; i++) {
    FrameKind kind;

    if (i == 25)
      fail_unless (gst_harness_push_upstream_event (h,
              keyframe_request_event (0)));
    kind = push_and_receive (h, &rx, pictures, i, width, height, NULL);
    fail_unless_equals_int (is_keyframe (kind), i % 20 == 0);
  }

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* A new picture size starts with a keyframe, and decodes */
GST_START_TEST (test_size_change)
{
  GPtrArray *big = make_pictures ("videotestsrc pattern=ball", 320, 240, 6);
  GPtrArray *small = make_pictures ("videotestsrc pattern=ball", 160, 120, 6);
  GstHarness *h = delta_harness_new (NULL);
  Receiver rx = { 0, };
  guint i;

  for (i = 0; i < 18; i++) {
    gboolean use_small = (i / 6) == 1;
    FrameKind kind = push_and_receive (h, &rx, use_small ? small : big, i,
        use_small ? 160 : 320, use_small ? 120 : 240, NULL);

    fail_unless_equals_int (is_keyframe (kind), i % 6 == 0);
  }

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (big);
  g_ptr_array_unref (small);
}

GST_END_TEST;

/* Noise: every picture goes out as the Pixels frame itself (no copy),
 * never larger than raw + header */
GST_START_TEST (test_raw_fallback_on_noise)
{
  const guint width = 128, height = 64, n = 8;
  const gsize raw = width * height * 4;
  GstHarness *h = delta_harness_new (NULL);
  GRand *rand = g_rand_new_with_seed (7);
  Receiver rx = { 0, };
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *picture = gst_buffer_new_allocate (NULL, raw, NULL);
    GstBuffer *out;
    GstMapInfo map;
    gsize k;

    gst_buffer_map (picture, &map, GST_MAP_WRITE);
    for (k = 0; k < raw; k++)
      map.data[k] = g_rand_int (rand);
    gst_buffer_unmap (picture, &map);

    fail_unless_equals_int (gst_harness_push (h, pixels_frame (picture,
                width, height, i, i * FRAME_DURATION)), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless_equals_int (gst_buffer_get_size (out), raw + DS_HEADER_SIZE);
    /* zero copy: the payload is the picture's memory */
    fail_unless_equals_int (gst_buffer_n_memory (out), 2);
    fail_unless (gst_buffer_peek_memory (out, 1) ==
        gst_buffer_peek_memory (picture, 0));
    fail_unless_equals_int (receive (&rx, out, NULL), KIND_PIXELS);
    fail_unless (picture_equals (&rx, picture));
    gst_buffer_unref (out);
    gst_buffer_unref (picture);
  }

  fail_unless_equals_uint64 (get_stat (h, "raw-fallbacks"), n - 1);
  fail_unless_equals_uint64 (get_stat (h, "keyframes"), n);

  receiver_clear (&rx);
  g_rand_free (rand);
  gst_harness_teardown (h);
}

GST_END_TEST;

static GstBuffer *
other_frame (guint8 type, guint8 flags, const gchar * payload)
{
  DsHeader header = { 0, };

  header.type = type;
  header.flags = flags;
  return gst_ds_frame_buffer_new_data (&header, payload,
      payload ? strlen (payload) : 0);
}

/* Audio, signals, pings and input frames pass through untouched and in
 * order; a Keyframe frame (0xF0) makes the next picture a keyframe */
GST_START_TEST (test_pass_through)
{
  const guint width = 160, height = 120;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, 6);
  GstHarness *h = delta_harness_new (NULL);
  Receiver rx = { 0, };
  GstBuffer *others[4], *out;
  guint i, k;

  fail_unless (is_keyframe (push_and_receive (h, &rx, pictures, 0, width,
              height, NULL)));
  fail_unless_equals_int (push_and_receive (h, &rx, pictures, 1, width,
          height, NULL), KIND_DELTA);

  others[0] = other_frame (DS_FRAME_SIGNAL_SYNC, DS_FLAG_KEYFRAME,
      "{\"count\":1}");
  others[1] = other_frame (DS_FRAME_AUDIO_PCM, 0, "abcdefgh");
  others[2] = other_frame (DS_FRAME_PING, 0, NULL);
  others[3] = other_frame (DS_INPUT_KEYFRAME_REQUEST, DS_FLAG_INPUT, NULL);
  for (k = 0; k < G_N_ELEMENTS (others); k++)
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (others[k])),
        GST_FLOW_OK);
  for (k = 0; k < G_N_ELEMENTS (others); k++) {
    out = gst_harness_pull (h);
    fail_unless (out == others[k]);
    gst_buffer_unref (out);
    gst_buffer_unref (others[k]);
  }

  fail_unless_equals_int (push_and_receive (h, &rx, pictures, 2, width,
          height, NULL), KIND_DELTA);

  /* Keyframe frame: receivers drop their picture */
  fail_unless_equals_int (gst_harness_push (h,
          other_frame (DS_FRAME_KEYFRAME, 0, NULL)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  receiver_clear (&rx);
  gst_buffer_unref (out);
  for (i = 3; i < 6; i++)
    fail_unless_equals_int (is_keyframe (push_and_receive (h, &rx, pictures,
                i, width, height, NULL)), i == 3);

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* An End frame (0xFF) passed through makes receivers drop their picture
 * (dsdepay does): the next picture is a keyframe */
GST_START_TEST (test_keyframe_after_end)
{
  const guint width = 160, height = 120;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, 4);
  GstHarness *h = delta_harness_new (NULL);
  Receiver rx = { 0, };
  GstBuffer *out;
  DsHeader header;
  guint i;

  fail_unless (is_keyframe (push_and_receive (h, &rx, pictures, 0, width,
              height, NULL)));
  fail_unless_equals_int (push_and_receive (h, &rx, pictures, 1, width,
          height, NULL), KIND_DELTA);

  fail_unless_equals_int (gst_harness_push (h,
          other_frame (DS_FRAME_END, 0, NULL)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (gst_ds_frame_buffer_parse (out, &header, NULL));
  fail_unless_equals_int (header.type, DS_FRAME_END);
  gst_buffer_unref (out);
  receiver_clear (&rx);

  for (i = 2; i < 4; i++)
    fail_unless_equals_int (is_keyframe (push_and_receive (h, &rx, pictures,
                i, width, height, NULL)), i == 2);

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* Counts the warnings on @bus, checking that they name @word */
static guint
count_warnings (GstBus * bus, const gchar * word)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING |
              GST_MESSAGE_ERROR))) {
    GError *error = NULL;
    gchar *debug = NULL;

    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_WARNING);
    gst_message_parse_warning (msg, &error, &debug);
    fail_unless (debug != NULL && strstr (debug, word) != NULL, "%s", debug);
    g_error_free (error);
    g_free (debug);
    gst_message_unref (msg);
    n++;
  }
  return n;
}

/* A picture over max-picture-bytes passes through untouched with a
 * warning; the next picture within the limit is a keyframe */
GST_START_TEST (test_max_picture_bytes)
{
  GPtrArray *large = make_pictures ("videotestsrc pattern=ball", 20, 20, 1);
  GPtrArray *small = make_pictures ("videotestsrc pattern=ball", 10, 10, 3);
  GstHarness *h = delta_harness_new ("max-picture-bytes=1000");
  GstBus *bus = gst_bus_new ();
  Receiver rx = { 0, };
  GstBuffer *in, *out;
  guint i;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 2; i++)
    fail_unless_equals_int (is_keyframe (push_and_receive (h, &rx, small, i,
                10, 10, NULL)), i == 0);

  in = pixels_frame (g_ptr_array_index (large, 0), 20, 20, 2,
      2 * FRAME_DURATION);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  /* the same frame, its pixels not copied */
  fail_unless_equals_uint64 (gst_buffer_get_size (out),
      gst_buffer_get_size (in));
  fail_unless (gst_buffer_peek_memory (out, 1) ==
      gst_buffer_peek_memory (in, 1));
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  fail_unless_equals_int (count_warnings (bus, "max-picture-bytes"), 1);
  fail_unless_equals_uint64 (get_stat (h, "oversized"), 1);
  receiver_clear (&rx);

  fail_unless (is_keyframe (push_and_receive (h, &rx, small, 3, 10, 10, NULL)));
  fail_unless_equals_uint64 (get_stat (h, "pictures"), 3);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (small);
  g_ptr_array_unref (large);
}

GST_END_TEST;

typedef struct
{
  gpointer data;
  gsize size;
} Mapping;

static void
mapping_free (gpointer user_data)
{
  Mapping *mapping = user_data;

  munmap (mapping->data, mapping->size);
  g_free (mapping);
}

/* A 32767x32769 picture: width x height x 4 is 4294967292 bytes, which a
 * u32 payload length holds but a 32-bit buffer size plus the header does
 * not. The pixels are address space that is never touched (mapped
 * without reserve): the size is refused before anything of it is
 * allocated or read, and the frame passes through */
GST_START_TEST (test_huge_picture_header)
{
  const guint width = 32767, height = 32769;
  gsize size = (gsize) width * height * 4;
  GstHarness *h = delta_harness_new ("max-picture-bytes=4294967279");
  GstBus *bus = gst_bus_new ();
  DsHeader header = { 0, };
  Mapping *mapping = g_new0 (Mapping, 1);
  GstBuffer *payload, *in, *out;

  fail_unless_equals_uint64 (size, 4294967292u);
  mapping->size = size;
  mapping->data = mmap (NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
      MAP_NORESERVE, -1, 0);
  fail_unless (mapping->data != MAP_FAILED);
  payload = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      mapping->data, size, 0, size, mapping, mapping_free);

  header.type = DS_FRAME_PIXELS;
  header.flags = DS_FLAG_KEYFRAME;
  header.width = width;
  header.height = height;
  in = gst_ds_frame_buffer_new (&header, payload);
  gst_buffer_unref (payload);
  GST_BUFFER_PTS (in) = 0;

  gst_element_set_bus (h->element, bus);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  /* the same frame, its pixels not copied */
  fail_unless_equals_uint64 (gst_buffer_get_size (out),
      gst_buffer_get_size (in));
  fail_unless (gst_buffer_peek_memory (out, 1) ==
      gst_buffer_peek_memory (in, 1));
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  fail_unless_equals_int (count_warnings (bus, "max-picture-bytes"), 1);
  fail_unless_equals_uint64 (get_stat (h, "oversized"), 1);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Keyframe distances use one time base per stream. 0: the first picture
 * has a PTS (running time), later ones none: they count as the picture
 * before, so a request waits for min-keyframe-distance of running time.
 * 1: the first picture has no PTS (monotonic clock), later ones have
 * PTS far apart: their running time is not compared with the clock, so
 * a request waits for a minute of the monotonic clock */
GST_START_TEST (test_one_time_base)
{
  const guint width = 160, height = 120;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, 4);
  GstHarness *h = delta_harness_new (__i__ == 0 ?
      "min-keyframe-distance=500000000" : "min-keyframe-distance=60000000000");
  Receiver rx = { 0, };
  static const GstClockTime pts[2][4] = {
    {0, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, 600 * GST_MSECOND},
    {GST_CLOCK_TIME_NONE, 0, 30 * GST_SECOND, 3600 * GST_SECOND},
  };
  /* which pictures are keyframes; the request comes before picture 1 */
  static const gboolean keyframes[2][4] = {
    {TRUE, FALSE, FALSE, TRUE},
    {TRUE, FALSE, FALSE, FALSE},
  };
  guint i;

  for (i = 0; i < 4; i++) {
    GstBuffer *out;

    if (i == 1)
      fail_unless (gst_harness_push_upstream_event (h,
              keyframe_request_event (0)));
    fail_unless_equals_int (gst_harness_push (h,
            pixels_frame (g_ptr_array_index (pictures, i), width, height, i,
                pts[__i__][i])), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (is_keyframe (receive (&rx, out, NULL)) ==
        keyframes[__i__][i], "picture %u", i);
    fail_unless (picture_equals (&rx, g_ptr_array_index (pictures, i)));
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (get_stat (h, "requested-keyframes"),
      __i__ == 0 ? 1 : 0);

  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* stats-interval posts the counters on the bus */
GST_START_TEST (test_stats_message)
{
  const guint width = 160, height = 120;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, 6);
  GstHarness *h = delta_harness_new ("stats-interval=3");
  GstBus *bus = gst_bus_new ();
  Receiver rx = { 0, };
  GstMessage *msg;
  const GstStructure *s;
  guint64 pictures_count;
  guint i, messages = 0;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 6; i++)
    push_and_receive (h, &rx, pictures, i, width, height, NULL);
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    s = gst_message_get_structure (msg);
    fail_unless (gst_structure_has_name (s, "dsdelta-stats"));
    fail_unless (gst_structure_get_uint64 (s, "pictures", &pictures_count));
    messages++;
    fail_unless_equals_uint64 (pictures_count, 3 * messages);
    gst_message_unref (msg);
  }
  fail_unless_equals_int (messages, 2);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  receiver_clear (&rx);
  gst_harness_teardown (h);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* Runs @pictures through @chain (between an appsrc of RGBA video and an
 * appsink) and returns what comes out, as buffers */
static GPtrArray *
run_pipeline (GPtrArray * pictures, guint width, guint height,
    const gchar * chain)
{
  GPtrArray *decoded = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstElement *pipeline, *src, *sink;
  GstSample *sample;
  GstMessage *msg;
  GstBus *bus;
  gchar *desc;
  guint i;

  /* @chain ends in a sink of its own, or gets an appsink */
  desc = g_strdup_printf ("appsrc name=src format=time caps=video/x-raw,"
      "format=RGBA,width=%u,height=%u,framerate=30/1 ! %s%s", width, height,
      chain, strstr (chain, "filesink") ? "" : " ! appsink name=sink "
      "sync=false");
  pipeline = gst_parse_launch (desc, NULL);
  fail_unless (pipeline != NULL, "%s", desc);
  g_free (desc);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  for (i = 0; i < pictures->len; i++) {
    GstBuffer *picture = g_ptr_array_index (pictures, i);

    picture = gst_buffer_copy (picture);
    GST_BUFFER_PTS (picture) = i * FRAME_DURATION;
    GST_BUFFER_DURATION (picture) = FRAME_DURATION;
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
            picture), GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);

  while (sink && (sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    g_ptr_array_add (decoded, gst_buffer_ref (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }

  /* EOS, and no error or warning on the way */
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS |
      GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "%" GST_PTR_FORMAT, msg);
  gst_message_unref (msg);
  gst_object_unref (bus);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_clear_object (&sink);
  gst_object_unref (pipeline);

  return decoded;
}

static void
assert_same_pictures (GPtrArray * expected, GPtrArray * got)
{
  guint i;

  fail_unless_equals_int (got->len, expected->len);
  for (i = 0; i < got->len; i++) {
    GstMapInfo a, b;

    gst_buffer_map (g_ptr_array_index (expected, i), &a, GST_MAP_READ);
    gst_buffer_map (g_ptr_array_index (got, i), &b, GST_MAP_READ);
    fail_unless_equals_int (b.size, a.size);
    fail_unless (memcmp (a.data, b.data, a.size) == 0, "picture %u differs", i);
    gst_buffer_unmap (g_ptr_array_index (expected, i), &a);
    gst_buffer_unmap (g_ptr_array_index (got, i), &b);
  }
}

typedef struct
{
  const gchar *source;
  const gchar *compression;
} PipelineCase;

static const PipelineCase pipeline_cases[] = {
  {"videotestsrc pattern=ball", "none"},
  {"videotestsrc pattern=smpte horizontal-speed=7", "none"},
  {"videotestsrc pattern=snow", "none"},
  {"desktop", "none"},
#ifdef HAVE_ZSTD
  {"videotestsrc pattern=ball", "zstd"},
  {"videotestsrc pattern=smpte horizontal-speed=7", "zstd"},
  {"videotestsrc pattern=snow", "zstd"},
  {"desktop", "zstd"},
#endif
};

/* dspay ! dsdelta ! dsdepay gives every picture back byte for byte, with
 * keyframes now and then (keyframe-interval=10) */
GST_START_TEST (test_pipeline_round_trip)
{
  const PipelineCase *pc = &pipeline_cases[__i__];
  const guint width = 320, height = 240, n = 32;
  GPtrArray *pictures = make_pictures (pc->source, width, height, n);
  GPtrArray *decoded;
  gchar *chain;

  chain = g_strdup_printf ("dspay ! dsdelta keyframe-interval=10 "
      "compression=%s ! dsdepay", pc->compression);
  decoded = run_pipeline (pictures, width, height, chain);
  assert_same_pictures (pictures, decoded);

  g_free (chain);
  g_ptr_array_unref (decoded);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* The same through a .ds recording: written by filesink, read back by
 * filesrc ! dsdepay */
GST_START_TEST (test_recording_round_trip)
{
  const guint width = 320, height = 240, n = 40;
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, n);
  GPtrArray *decoded, *none;
  gchar *dir = g_dir_make_tmp ("dsdelta-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "ball.ds", NULL);
  gchar *chain;
  GstElement *player, *sink;
  GstSample *sample;
  gchar *desc;

  chain = g_strdup_printf ("dspay ! dsdelta ! filesink location=\"%s\"", path);
  none = run_pipeline (pictures, width, height, chain);
  fail_unless_equals_int (none->len, 0);
  g_free (chain);

  desc = g_strdup_printf ("filesrc location=\"%s\" ! dsdepay ! "
      "appsink name=sink sync=false", path);
  player = gst_parse_launch (desc, NULL);
  fail_unless (player != NULL);
  sink = gst_bin_get_by_name (GST_BIN (player), "sink");
  gst_element_set_state (player, GST_STATE_PLAYING);
  decoded = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    g_ptr_array_add (decoded, gst_buffer_ref (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }
  gst_element_set_state (player, GST_STATE_NULL);
  assert_same_pictures (pictures, decoded);

  g_unlink (path);
  g_rmdir (dir);
  g_free (desc);
  g_free (path);
  g_free (dir);
  gst_object_unref (sink);
  gst_object_unref (player);
  g_ptr_array_unref (decoded);
  g_ptr_array_unref (none);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* The plugin exports its element types and registration only: the
 * frame pool's type is private to dsdelta */
GST_START_TEST (test_no_exported_pool_type)
{
  GstPlugin *plugin = gst_registry_find_plugin (gst_registry_get (),
      "dsstream");
  const gchar *filename;
  void *module;

  fail_unless (plugin != NULL);
  filename = gst_plugin_get_filename (plugin);
  fail_unless (filename != NULL);
  module = dlopen (filename, RTLD_NOW | RTLD_LOCAL);
  fail_unless (module != NULL, "%s", dlerror ());
  fail_unless (dlsym (module, "gst_ds_delta_get_type") != NULL);
  fail_unless (dlsym (module, "gst_ds_delta_pool_get_type") == NULL);
  dlclose (module);
  gst_object_unref (plugin);
}

GST_END_TEST;

static GstPadProbeReturn
count_frames_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  guint *counts = user_data;
  GstBuffer *frame = GST_PAD_PROBE_INFO_BUFFER (info);
  DsHeader header;

  /* one frame per buffer, the header in a memory of its own */
  fail_unless (gst_ds_frame_buffer_parse (frame, &header, NULL));
  fail_unless_equals_uint64 (gst_buffer_peek_memory (frame, 0)->size,
      DS_HEADER_SIZE);
  counts[0]++;
  if (header.type == DS_FRAME_DELTA_PIXELS
      && !(header.flags & DS_FLAG_KEYFRAME))
    counts[1]++;
  return GST_PAD_PROBE_OK;
}

/* A .ds byte stream of Pixels frames (and a signal frame), split at odd
 * offsets as filesrc or a TCP source would: dsdelta cuts it into
 * frames, delta codes the pictures and dsdepay gives them back byte for
 * byte */
GST_START_TEST (test_byte_stream)
{
  const guint width = 160, height = 120, n = 30;
  static const gsize chunk_sizes[] = { 1, 7, 15, 17, 333, 20000, 77777,
    76801, 3
  };
  GPtrArray *pictures = make_pictures ("videotestsrc pattern=ball", width,
      height, n);
  GByteArray *stream = g_byte_array_new ();
  GPtrArray *decoded = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstElement *pipeline, *src, *sink, *delta;
  GstSample *sample;
  GstMessage *msg;
  GstBus *bus;
  GstPad *pad;
  GstCaps *caps;
  guint counts[2] = { 0, 0 };
  gsize offset, k;
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *frame = pixels_frame (g_ptr_array_index (pictures, i), width,
        height, i, i * FRAME_DURATION);
    GstMapInfo map;

    if (i == 5) {
      GstBuffer *signal = other_frame (DS_FRAME_SIGNAL_SYNC,
          DS_FLAG_KEYFRAME, "{\"a\":1}");

      gst_buffer_map (signal, &map, GST_MAP_READ);
      g_byte_array_append (stream, map.data, map.size);
      gst_buffer_unmap (signal, &map);
      gst_buffer_unref (signal);
    }
    gst_buffer_map (frame, &map, GST_MAP_READ);
    g_byte_array_append (stream, map.data, map.size);
    gst_buffer_unmap (frame, &map);
    gst_buffer_unref (frame);
  }

  pipeline = gst_parse_launch ("appsrc name=src ! dsdelta name=delta "
      "keyframe-interval=0 ! dsdepay ! appsink name=sink sync=false", NULL);
  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  delta = gst_bin_get_by_name (GST_BIN (pipeline), "delta");
  caps = gst_caps_from_string (GST_DS_STREAM_MEDIA_TYPE);
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  pad = gst_element_get_static_pad (delta, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_frames_probe,
      counts, NULL);
  gst_object_unref (pad);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  for (offset = 0, k = 0; offset < stream->len; k++) {
    gsize len = MIN (chunk_sizes[k % G_N_ELEMENTS (chunk_sizes)],
        stream->len - offset);

    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
            gst_buffer_new_memdup (stream->data + offset, len)), GST_FLOW_OK);
    offset += len;
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    g_ptr_array_add (decoded, gst_buffer_ref (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS |
      GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "%" GST_PTR_FORMAT, msg);
  gst_message_unref (msg);
  gst_object_unref (bus);

  assert_same_pictures (pictures, decoded);
  /* n pictures and the signal frame, each out on its own; every picture
   * after the first a delta */
  fail_unless_equals_int (counts[0], n + 1);
  fail_unless_equals_int (counts[1], n - 1);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (delta);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_ptr_array_unref (decoded);
  g_byte_array_unref (stream);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* Text-like lines (the desktop's glyphs) on a tall page, seen through a
 * window of @width x @height that scrolls down @step pixel rows per
 * picture, under a fixed title bar */
static GPtrArray *
make_scroll_pictures (guint width, guint height, guint n, guint step)
{
  GPtrArray *pictures = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  guint page_height = height + n * step;
  guint8 *page = g_malloc0 ((gsize) width * page_height * 4);
  Canvas c = { page, width, page_height };
  gsize stride = (gsize) width * 4;
  guint i, line;

  make_glyphs ();
  fill_rect (&c, 0, 0, width, page_height, 0xfafafa);
  for (line = 0; line * GLYPH_H < page_height; line++)
    draw_text_line (&c, 4, line * GLYPH_H, width - 8, 40 + line,
        line % 7 ? 0x202020 : 0x1a4f9c);

  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, stride * height, NULL);
    Canvas title;
    GstMapInfo map;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    memcpy (map.data, page + i * step * stride, stride * height);
    title.rgba = map.data;
    title.width = width;
    title.height = height;
    fill_rect (&title, 0, 0, width, 20, 0xe8e8e8);
    draw_text_line (&title, 8, 3, width / 3, 7, 0x333333);
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = i * FRAME_DURATION;
    GST_BUFFER_DURATION (buf) = FRAME_DURATION;
    g_ptr_array_add (pictures, buf);
  }
  g_free (page);

  return pictures;
}

/* Pushes @pictures through dsdelta @properties: the payload sizes of the
 * pictures after the first, and their kinds */
static guint64
code_all (GPtrArray * pictures, guint width, guint height,
    const gchar * properties, FrameKind * kinds, GPtrArray * outputs)
{
  GstHarness *h = delta_harness_new (properties);
  Receiver rx = { 0, };
  guint64 total = 0;
  guint i;

  for (i = 0; i < pictures->len; i++) {
    GstBuffer *picture = g_ptr_array_index (pictures, i);
    GstBuffer *out;
    gsize payload;

    fail_unless_equals_int (gst_harness_push (h, pixels_frame (picture,
                width, height, (guint16) i, i * FRAME_DURATION)), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out != NULL);
    kinds[i] = receive (&rx, out, &payload);
    fail_unless (picture_equals (&rx, picture), "picture %u differs", i);
    if (i > 0)
      total += payload;
    if (outputs)
      g_ptr_array_add (outputs, out);
    else
      gst_buffer_unref (out);
  }
  if (strstr (properties, "motion=true"))
    GST_INFO ("motion-deltas %" G_GUINT64_FORMAT, get_stat (h,
            "motion-deltas"));

  receiver_clear (&rx);
  gst_harness_teardown (h);

  return total;
}

/* A page scrolled by 5 rows a picture goes out as MotionDeltaPixels
 * frames far smaller than the DeltaPixels ones, decoded bit-exact */
GST_START_TEST (test_motion_scroll)
{
  const gchar *compression = __i__ ? "zstd" : "none";
  const guint width = 320, height = 240, n = 8;
  GPtrArray *pictures = make_scroll_pictures (width, height, n, 5);
  FrameKind kinds_off[8], kinds_on[8];
  guint64 off, on;
  gchar *props_off, *props_on;
  guint i;

  props_off = g_strdup_printf ("keyframe-interval=0 compression=%s "
      "motion=false", compression);
  props_on = g_strdup_printf ("keyframe-interval=0 compression=%s "
      "motion=true", compression);
  off = code_all (pictures, width, height, props_off, kinds_off, NULL);
  on = code_all (pictures, width, height, props_on, kinds_on, NULL);
  GST_INFO ("scroll, %s: %" G_GUINT64_FORMAT " bytes without motion, %"
      G_GUINT64_FORMAT " with", compression, off, on);

  for (i = 1; i < n; i++) {
    fail_if (kinds_off[i] == KIND_MOTION);
    fail_unless_equals_int (kinds_on[i], KIND_MOTION);
  }
  fail_unless (on * 10 < off, "%" G_GUINT64_FORMAT " bytes with motion, %"
      G_GUINT64_FORMAT " without", on, off);

  g_free (props_off);
  g_free (props_on);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* dspay ! dsdelta motion=true ! dsdepay gives a scrolling page and the
 * desktop back byte for byte */
GST_START_TEST (test_motion_pipeline_round_trip)
{
  const gchar *compression = __i__ % 2 ? "zstd" : "none";
  const guint width = 320, height = 240, n = 20;
  GPtrArray *pictures = __i__ / 2 ? make_pictures ("desktop", width, height,
      n) : make_scroll_pictures (width, height, n, 3);
  GPtrArray *decoded;
  gchar *chain;

  chain = g_strdup_printf ("dspay ! dsdelta keyframe-interval=10 motion=true "
      "compression=%s ! dsdepay", compression);
  decoded = run_pipeline (pictures, width, height, chain);
  assert_same_pictures (pictures, decoded);

  g_free (chain);
  g_ptr_array_unref (decoded);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* While a page scrolls, the delta code is cut off at a bound taken from
 * the last motion frame: a frame that scrolls and also changes far more
 * than the frames before (the lower half repainted) must still arrive
 * byte for byte, and so must the plain frames after it */
GST_START_TEST (test_motion_scroll_then_repaint)
{
  const guint width = 320, height = 240, n = 16;
  GPtrArray *pictures = make_scroll_pictures (width, height, n, 4);
  GPtrArray *decoded;
  GstMapInfo map;
  guint32 x = 2463534242u;
  gsize i;

  gst_buffer_map (g_ptr_array_index (pictures, 8), &map, GST_MAP_WRITE);
  for (i = map.size / 2; i < map.size; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if (i % 4 != 3)             /* pictures are opaque: alpha stays */
      map.data[i] ^= x & 0xff;
  }
  gst_buffer_unmap (g_ptr_array_index (pictures, 8), &map);

  decoded = run_pipeline (pictures, width, height, "dspay ! dsdelta "
      "keyframe-interval=0 motion=true compression=zstd ! dsdepay");
  assert_same_pictures (pictures, decoded);

  g_ptr_array_unref (decoded);
  g_ptr_array_unref (pictures);
}

GST_END_TEST;

/* A still picture and a typed-on one give the same frames with motion as
 * without */
GST_START_TEST (test_motion_still)
{
  const guint width = 320, height = 240, n = 6;
  GPtrArray *page = make_scroll_pictures (width, height, 1, 0);
  GPtrArray *pictures = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GPtrArray *out_off = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GPtrArray *out_on = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  FrameKind kinds[6];
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_copy_deep (g_ptr_array_index (page, 0));
    Canvas c = { NULL, width, height };
    GstMapInfo map;

    /* pictures 3 and after: a word typed on line 5 */
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    c.rgba = map.data;
    if (i >= 3)
      draw_text_line (&c, 200, 5 * GLYPH_H, 40, 99 + i, 0x202020);
    gst_buffer_unmap (buf, &map);
    g_ptr_array_add (pictures, buf);
  }

  code_all (pictures, width, height, "motion=false", kinds, out_off);
  code_all (pictures, width, height, "motion=true", kinds, out_on);
  for (i = 0; i < n; i++) {
    GstBuffer *a = g_ptr_array_index (out_off, i);
    GstBuffer *b = g_ptr_array_index (out_on, i);
    GstMapInfo ma, mb;

    fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
    fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
    fail_unless_equals_int (ma.size, mb.size);
    fail_unless (memcmp (ma.data, mb.data, ma.size) == 0, "frame %u", i);
    gst_buffer_unmap (a, &ma);
    gst_buffer_unmap (b, &mb);
  }

  g_ptr_array_unref (out_off);
  g_ptr_array_unref (out_on);
  g_ptr_array_unref (pictures);
  g_ptr_array_unref (page);
}

GST_END_TEST;

#ifdef HAVE_ZSTD
/* A flat colour that changes every picture: every byte of the XOR
 * changes, so the run-length code is larger than raw, yet zstd of it is
 * tiny: with compression=zstd it goes out compressed, not raw */
GST_START_TEST (test_zstd_flat_change)
{
  const guint width = 320, height = 240, n = 6;
  const gsize raw = width * height * 4;
  GPtrArray *pictures = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  FrameKind kinds[6];
  guint64 total;
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, raw, NULL);
    GstMapInfo map;
    gsize k;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (k = 0; k < raw; k += 4) {
      map.data[k] = 0x20 + 0x31 * i;
      map.data[k + 1] = 0x90 - 0x17 * i;
      map.data[k + 2] = 0x45 + 0x0b * i;
      map.data[k + 3] = 0xff;
    }
    gst_buffer_unmap (buf, &map);
    g_ptr_array_add (pictures, buf);
  }

  /* without zstd: raw pictures, as before */
  total = code_all (pictures, width, height, "compression=none motion=true",
      kinds, NULL);
  for (i = 1; i < n; i++)
    fail_unless_equals_int (kinds[i], KIND_PIXELS);
  fail_unless_equals_uint64 (total, (guint64) raw * (n - 1));

  total = code_all (pictures, width, height, "compression=zstd", kinds, NULL);
  for (i = 1; i < n; i++)
    fail_unless_equals_int (kinds[i], KIND_DELTA);
  GST_INFO ("flat colour changes with zstd: %" G_GUINT64_FORMAT " bytes",
      total);
  fail_unless (total < 1000 * (n - 1));

  g_ptr_array_unref (pictures);
}

GST_END_TEST;
#endif

static Suite *
dsdelta_suite (void)
{
  Suite *s = suite_create ("dsdelta");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_round_trip, 0, G_N_ELEMENTS (round_trips));
  tcase_add_test (tc, test_ball_sizes);
  tcase_add_test (tc, test_keyframe_interval);
  tcase_add_loop_test (tc, test_keyframe_on_request, 0, 2);
  tcase_add_test (tc, test_other_input_passes_upstream);
  tcase_add_test (tc, test_request_storm);
  tcase_add_test (tc, test_size_change);
  tcase_add_test (tc, test_raw_fallback_on_noise);
  tcase_add_test (tc, test_pass_through);
  tcase_add_test (tc, test_keyframe_after_end);
  tcase_add_test (tc, test_no_exported_pool_type);
  tcase_add_test (tc, test_max_picture_bytes);
  tcase_add_test (tc, test_huge_picture_header);
  tcase_add_loop_test (tc, test_one_time_base, 0, 2);
  tcase_add_test (tc, test_stats_message);
  tcase_add_loop_test (tc, test_pipeline_round_trip, 0,
      G_N_ELEMENTS (pipeline_cases));
  tcase_add_test (tc, test_recording_round_trip);
  tcase_add_test (tc, test_byte_stream);
  tcase_add_loop_test (tc, test_motion_scroll, 0, 2);
  tcase_add_loop_test (tc, test_motion_pipeline_round_trip, 0, 4);
  tcase_add_test (tc, test_motion_scroll_then_repaint);
  tcase_add_test (tc, test_motion_still);
#ifdef HAVE_ZSTD
  tcase_add_test (tc, test_zstd_flat_change);
#endif

  return s;
}

GST_CHECK_MAIN (dsdelta);
