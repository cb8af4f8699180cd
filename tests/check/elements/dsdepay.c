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

/* dsdepay: frames are built by hand with the protocol library, so these
 * tests do not depend on dspay (except the round trip at the end). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gst/video/video.h>
#include <gst/app/app.h>

#include "dsmotion.h"
#include "dsprotocol.h"
#include "dsrle.h"
#include "dssignal.h"
#include "gstdsutils.h"

enum
{
  OUT_VIDEO,
  OUT_IMAGE,
  OUT_AUDIO,
  OUT_SIGNAL,
  N_OUTS
};

static const gchar *const out_names[N_OUTS] = {
  "video", "image", "audio", "signal"
};

/* What the harness of the video pad answers to an ALLOCATION query */
typedef struct
{
  const gchar *name;
  gboolean video_meta;          /* it reads GstVideoMeta */
  guint padding;                /* pixels of padding right of each row */
} AllocationCase;

/* One harness feeding dsdepay's sink pad (and receiving what it sends
 * upstream), one more per source pad, made when the pad appears. */
typedef struct
{
  GstHarness *h;
  GstHarness *out[N_OUTS];
  GstBus *bus;

  /* when set, the video harness offers a pool of its own */
  const AllocationCase *offer;
  GstPadQueryFunction harness_query;
  GstBufferPool *offered_pool;
  guint allocation_queries;
} Depay;

static gboolean offer_pool_query (GstPad * pad, GstObject * parent,
    GstQuery * query);

static void
pad_added_cb (GstElement * element, GstPad * pad, Depay * d)
{
  gint i;

  for (i = 0; i < N_OUTS; i++) {
    if (g_strcmp0 (GST_PAD_NAME (pad), out_names[i]) == 0) {
      fail_unless (d->out[i] == NULL, "pad %s added twice", out_names[i]);
      d->out[i] = gst_harness_new_with_element (element, NULL, NULL);
      gst_harness_add_element_src_pad (d->out[i], pad);
      if (i == OUT_VIDEO && d->offer) {
        GstPad *sinkpad = d->out[i]->sinkpad;

        d->harness_query = GST_PAD_QUERYFUNC (sinkpad);
        g_object_set_data (G_OBJECT (sinkpad), "depay", d);
        gst_pad_set_query_function (sinkpad, offer_pool_query);
      }
      return;
    }
  }
  fail ("unexpected pad %s", GST_PAD_NAME (pad));
}

static Depay *
depay_new (const gchar * props)
{
  Depay *d = g_new0 (Depay, 1);
  gchar **settings, **setting;

  d->h = gst_harness_new_with_padnames ("dsdepay", "sink", NULL);
  settings = g_strsplit (props ? props : "", " ", -1);
  for (setting = settings; *setting; setting++) {
    gchar **kv = g_strsplit (*setting, "=", 2);

    if (kv[0] && kv[1])
      gst_util_set_object_arg (G_OBJECT (d->h->element), kv[0], kv[1]);
    g_strfreev (kv);
  }
  g_strfreev (settings);

  d->bus = gst_bus_new ();
  gst_element_set_bus (d->h->element, d->bus);
  g_signal_connect (d->h->element, "pad-added", G_CALLBACK (pad_added_cb), d);
  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE);

  return d;
}

static void
depay_free (Depay * d)
{
  gint i;

  for (i = 0; i < N_OUTS; i++)
    if (d->out[i])
      gst_harness_teardown (d->out[i]);
  gst_harness_teardown (d->h);
  gst_clear_object (&d->offered_pool);
  gst_bus_set_flushing (d->bus, TRUE);
  gst_object_unref (d->bus);
  g_free (d);
}

static guint
count_messages (Depay * d, GstMessageType type)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (d->bus, type))) {
    n++;
    gst_message_unref (msg);
  }
  return n;
}

static guint64
get_stat (Depay * d, const gchar * name)
{
  GstStructure *stats = NULL;
  guint64 value = 0;
  GstElement *depay = d->h->element;

  g_object_get (depay, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  fail_unless (gst_structure_get_uint64 (stats, name, &value));
  gst_structure_free (stats);
  return value;
}

static guint count_force_key_units (Depay * d);

/* The next upstream event of @type that dsdepay sent (others, such as
 * reconfigure, are skipped) */
static GstEvent *
pull_upstream_event (Depay * d, GstEventType type)
{
  GstEvent *event;

  while ((event = gst_harness_try_pull_upstream_event (d->h))) {
    if (GST_EVENT_TYPE (event) == type)
      return event;
    gst_event_unref (event);
  }
  return NULL;
}

static GBytes *
frame_bytes (guint8 type, guint8 flags, guint16 seq, guint32 ts, guint16 w,
    guint16 h, gconstpointer payload, gsize len)
{
  DsHeader hdr = { 0, };

  hdr.type = type;
  hdr.flags = flags;
  hdr.seq = seq;
  hdr.timestamp = ts;
  hdr.width = w;
  hdr.height = h;
  return ds_frame_pack (&hdr, payload, len);
}

/* A frame in one memory */
static GstBuffer *
frame_buffer (guint8 type, guint8 flags, guint16 seq, guint32 ts, guint16 w,
    guint16 h, gconstpointer payload, gsize len)
{
  GBytes *bytes = frame_bytes (type, flags, seq, ts, w, h, payload, len);
  GstBuffer *buffer = gst_buffer_new_wrapped_bytes (bytes);

  g_bytes_unref (bytes);
  return buffer;
}

static GstBuffer *
signal_frame (guint8 type, guint16 seq, guint32 ts, const gchar * json)
{
  return frame_buffer (type, 0, seq, ts, 0, 0, json, strlen (json));
}

static GstFlowReturn
push (Depay * d, GstBuffer * buffer)
{
  return gst_harness_push (d->h, buffer);
}

static void
assert_buffer_equals (GstBuffer * buffer, gconstpointer data, gsize len)
{
  GstMapInfo map;

  fail_unless (buffer != NULL);
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, len);
  fail_unless (memcmp (map.data, data, len) == 0);
  gst_buffer_unmap (buffer, &map);
}

static void
assert_caps (GstHarness * h, const gchar * expected)
{
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  GstCaps *want = gst_caps_from_string (expected);

  fail_unless (caps != NULL);
  if (!gst_caps_is_equal (caps, want)) {
    gchar *got_str = gst_caps_to_string (caps);

    fail ("caps %s instead of %s", got_str, expected);
    g_free (got_str);
  }
  gst_caps_unref (caps);
  gst_caps_unref (want);
}

static guint8 *
make_picture (guint w, guint h, guint seed)
{
  guint8 *p = g_malloc (w * h * 4);
  guint i;

  /* opaque, as pictures are (docs/protocol.md §3; test_opaque_pictures
   * sends other alpha bytes) */
  for (i = 0; i < w * h * 4; i++)
    p[i] = (i % 4 == 3) ? 0xff : (i % 7 == 0) ? 0 : (guint8) (i * 31 +
        seed * 17);
  return p;
}

/* Sets every alpha byte of an RGBA picture to 255: what dsdepay outputs */
static void
make_opaque (guint8 * p, gsize len)
{
  gsize i;

  for (i = 3; i < len; i += 4)
    p[i] = 0xff;
}

/* Takes @buffer, one JSON Lines line */
static JsonObject *
parse_line (GstBuffer * buffer)
{
  GstMapInfo map;
  JsonObject *obj;

  fail_unless (buffer != NULL);
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  fail_unless (map.size > 1);
  fail_unless_equals_int (map.data[map.size - 1], '\n');
  fail_unless (memchr (map.data, '\n', map.size - 1) == NULL);
  obj = ds_signal_parse_object ((const gchar *) map.data, map.size - 1, NULL);
  fail_unless (obj != NULL);
  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);
  return obj;
}

GST_START_TEST (test_pixels_zero_copy)
{
  Depay *d = depay_new (NULL);
  guint8 *pic = make_picture (4, 2, 1);
  DsHeader hdr = { DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 4, 2, 0 };
  GstBuffer *in, *out;
  GstMapInfo in_map, out_map;
  GstVideoMeta *meta;

  /* header in its own memory, as dspay makes it */
  in = gst_ds_frame_buffer_new_data (&hdr, pic, 32);
  fail_unless_equals_int (gst_buffer_n_memory (in), 2);
  gst_buffer_ref (in);
  fail_unless_equals_int (push (d, in), GST_FLOW_OK);
  fail_unless (d->out[OUT_VIDEO] != NULL);
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=4,height=2,"
      "framerate=0/1");
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, pic, 32);
  /* the very same bytes: the payload memory is shared, not copied */
  fail_unless (gst_buffer_n_memory (out) == 1);
  {
    GstMapInfo pay_map;
    GstMemory *pay_mem = gst_buffer_peek_memory (in, 1);
    GstMemory *out_mem = gst_buffer_peek_memory (out, 0);
    GstMapInfo om;

    fail_unless (gst_memory_map (pay_mem, &pay_map, GST_MAP_READ));
    fail_unless (gst_memory_map (out_mem, &om, GST_MAP_READ));
    fail_unless (pay_map.data == om.data);
    gst_memory_unmap (out_mem, &om);
    gst_memory_unmap (pay_mem, &pay_map);
  }
  fail_if (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DELTA_UNIT));
  meta = gst_buffer_get_video_meta (out);
  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->width, 4);
  fail_unless_equals_int (meta->height, 2);
  fail_unless_equals_int (meta->format, GST_VIDEO_FORMAT_RGBA);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  /* header and payload in one memory: a sub-buffer, no copy either */
  in = frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 1, 40, 4, 2, pic, 32);
  gst_buffer_ref (in);
  fail_unless_equals_int (push (d, in), GST_FLOW_OK);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  fail_unless (gst_buffer_map (in, &in_map, GST_MAP_READ));
  fail_unless (gst_buffer_map (out, &out_map, GST_MAP_READ));
  fail_unless (out_map.data == in_map.data + DS_HEADER_SIZE);
  fail_unless_equals_uint64 (out_map.size, 32);
  gst_buffer_unmap (out, &out_map);
  gst_buffer_unmap (in, &in_map);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 40 * GST_MSECOND);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  fail_unless_equals_uint64 (get_stat (d, "frames"), 2);
  fail_unless_equals_uint64 (get_stat (d, "malformed"), 0);
  g_free (pic);
  depay_free (d);
}

GST_END_TEST;

static guint
count_caps_events (GstHarness * h)
{
  GstEvent *event;
  guint n = 0;

  while ((event = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
      n++;
    gst_event_unref (event);
  }
  return n;
}

GST_START_TEST (test_renegotiation)
{
  Depay *d = depay_new (NULL);
  guint8 *small = make_picture (4, 2, 1);
  guint8 *big = make_picture (8, 4, 2);
  GstBuffer *out;

  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 4, 2, small, 32));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=4,height=2,"
      "framerate=0/1");
  gst_buffer_unref (out);
  fail_unless_equals_int (count_caps_events (d->out[OUT_VIDEO]), 1);

  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 1, 33, 8, 4, big, 128));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, big, 128);
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=8,height=4,"
      "framerate=0/1");
  gst_buffer_unref (out);
  fail_unless_equals_int (count_caps_events (d->out[OUT_VIDEO]), 1);

  /* same size: no new caps */
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 2, 66, 8, 4, big, 128));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  fail_unless_equals_int (count_caps_events (d->out[OUT_VIDEO]), 0);

  /* audio format change */
  {
    gfloat samples[8] = { 0.5f, -0.5f, 0.25f, -0.25f, 1, -1, 0, 0 };

    push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0, 0, 0, 2, 48000, samples,
            sizeof (samples)));
    gst_buffer_unref (gst_harness_pull (d->out[OUT_AUDIO]));
    assert_caps (d->out[OUT_AUDIO], "audio/x-raw,format=F32LE,"
        "layout=interleaved,rate=48000,channels=2");
    push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0, 1, 10, 1, 16000, samples,
            sizeof (samples)));
    gst_buffer_unref (gst_harness_pull (d->out[OUT_AUDIO]));
    assert_caps (d->out[OUT_AUDIO], "audio/x-raw,format=F32LE,"
        "layout=interleaved,rate=16000,channels=1");
  }

  g_free (small);
  g_free (big);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_framerate_from_input_caps)
{
  Depay *d = depay_new (NULL);
  guint8 *pic = make_picture (2, 2, 3);
  GstBuffer *out;

  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE
      ", media=video, width=2, height=2, framerate=25/1");
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 2, 2, pic, 16));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=2,height=2,"
      "framerate=25/1");
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 25);
  gst_buffer_unref (out);
  g_free (pic);
  depay_free (d);

  /* the framerate of another kind of media is not the video's */
  d = depay_new (NULL);
  pic = make_picture (2, 2, 3);
  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE
      ", media=image, framerate=25/1");
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 2, 2, pic, 16));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=2,height=2,"
      "framerate=0/1");
  g_free (pic);
  depay_free (d);
}

GST_END_TEST;

static const guint8 png_data[] = {
  0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'
};

static const guint8 webp_data[] = {
  'R', 'I', 'F', 'F', 8, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L'
};

GST_START_TEST (test_image)
{
  Depay *d = depay_new (NULL);
  GstBuffer *out;

  push (d, frame_buffer (DS_FRAME_COMPRESSED_PIXELS, 2, 0, 0, 1, 1, png_data,
          sizeof (png_data)));
  fail_unless (d->out[OUT_IMAGE] != NULL);
  fail_unless (d->out[OUT_VIDEO] == NULL);
  out = gst_harness_pull (d->out[OUT_IMAGE]);
  assert_buffer_equals (out, png_data, sizeof (png_data));
  assert_caps (d->out[OUT_IMAGE], "image/png");
  gst_buffer_unref (out);

  push (d, frame_buffer (DS_FRAME_COMPRESSED_PIXELS, 2, 1, 5, 1, 1, webp_data,
          sizeof (webp_data)));
  out = gst_harness_pull (d->out[OUT_IMAGE]);
  assert_buffer_equals (out, webp_data, sizeof (webp_data));
  assert_caps (d->out[OUT_IMAGE], "image/webp");
  gst_buffer_unref (out);

  /* not a delta reference */
  push (d, frame_buffer (DS_FRAME_DELTA_PIXELS, 0, 0, 10, 1, 1, "\x01\x02\x03"
          "\x04", 4));
  fail_unless (gst_harness_try_pull (d->out[OUT_IMAGE]) == NULL);
  fail_unless (d->out[OUT_VIDEO] == NULL);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 1);

  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_audio)
{
  Depay *d = depay_new (NULL);
  gfloat samples[16];
  guint8 opus[5] = { 0xfc, 0xff, 0xfe, 0x01, 0x02 };
  GstBuffer *out;
  gint i;

  for (i = 0; i < 16; i++)
    samples[i] = i / 16.0f;

  push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0, 0, 0, 2, 48000, samples,
          sizeof (samples)));
  out = gst_harness_pull (d->out[OUT_AUDIO]);
  assert_buffer_equals (out, samples, sizeof (samples));
  assert_caps (d->out[OUT_AUDIO], "audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=48000,channels=2");
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out),
      gst_util_uint64_scale (8, GST_SECOND, 48000));
  gst_buffer_unref (out);

  push (d, frame_buffer (DS_FRAME_AUDIO_COMPRESSED, 0, 1, 20, 2, 48000, opus,
          sizeof (opus)));
  out = gst_harness_pull (d->out[OUT_AUDIO]);
  assert_buffer_equals (out, opus, sizeof (opus));
  assert_caps (d->out[OUT_AUDIO], "audio/x-opus,channel-mapping-family=0,"
      "channels=2,rate=48000");
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 20 * GST_MSECOND);
  gst_buffer_unref (out);

  fail_unless (d->out[OUT_VIDEO] == NULL);
  fail_unless (d->out[OUT_SIGNAL] == NULL);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_signals)
{
  Depay *d = depay_new (NULL);
  JsonObject *obj, *v;
  GstMessage *msg;
  const GstStructure *s;
  const GValue *names;

  /* SchemaAnnounce: an element message, nothing on the signal pad */
  push (d, signal_frame (DS_FRAME_SCHEMA_ANNOUNCE, 0, 0,
          "{\"signals\":[\"count\",\"doubled\"],\"mode\":\"signal\"}"));
  fail_unless (d->out[OUT_SIGNAL] == NULL);
  msg = gst_bus_pop_filtered (d->bus, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_has_name (s, "ds-schema"));
  names = gst_structure_get_value (s, "signals");
  fail_unless (names != NULL && GST_VALUE_HOLDS_ARRAY (names));
  fail_unless_equals_int (gst_value_array_get_size (names), 2);
  fail_unless_equals_string (g_value_get_string (gst_value_array_get_value
          (names, 0)), "count");
  fail_unless_equals_string (g_value_get_string (gst_value_array_get_value
          (names, 1)), "doubled");
  gst_message_unref (msg);

  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 1, 0,
          "{\"count\":1,\"doubled\":2}"));
  fail_unless (d->out[OUT_SIGNAL] != NULL);
  assert_caps (d->out[OUT_SIGNAL], GST_DS_SIGNAL_MEDIA_TYPE);
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_size (obj), 2);
  fail_unless_equals_int (json_object_get_int_member (obj, "count"), 1);
  fail_unless_equals_int (json_object_get_int_member (obj, "doubled"), 2);
  json_object_unref (obj);

  /* a diff merges */
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 2, 10, "{\"doubled\":4}"));
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "count"), 1);
  fail_unless_equals_int (json_object_get_int_member (obj, "doubled"), 4);
  json_object_unref (obj);

  /* null is a value */
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 3, 20, "{\"count\":null}"));
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless (json_object_has_member (obj, "count"));
  fail_unless (json_object_get_null_member (obj, "count"));
  json_object_unref (obj);

  /* versions: an older version does not win */
  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 4, 30,
          "{\"x\":1,\"_v\":{\"x\":5}}"));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_SIGNAL]));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 5, 40,
          "{\"x\":2,\"_v\":{\"x\":4}}"));
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "x"), 1);
  v = json_object_get_object_member (obj, "_v");
  fail_unless (v != NULL);
  fail_unless_equals_int (json_object_get_int_member (v, "x"), 5);
  json_object_unref (obj);
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 6, 50,
          "{\"x\":3,\"_v\":{\"x\":6}}"));
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "x"), 3);
  v = json_object_get_object_member (obj, "_v");
  fail_unless_equals_int (json_object_get_int_member (v, "x"), 6);
  json_object_unref (obj);

  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_haptic_and_skipped)
{
  Depay *d = depay_new (NULL);
  guint8 haptic[3] = { 0xf4, 0x01, 200 };
  GstMessage *msg;
  const GstStructure *s;
  guint duration = 0, intensity = 0;

  push (d, frame_buffer (DS_FRAME_HAPTIC, 0, 0, 0, 0, 0, haptic, 3));
  msg = gst_bus_pop_filtered (d->bus, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_has_name (s, "ds-haptic"));
  fail_unless (gst_structure_get_uint (s, "duration", &duration));
  fail_unless (gst_structure_get_uint (s, "intensity", &intensity));
  fail_unless_equals_int (duration, 500);
  fail_unless_equals_int (intensity, 200);
  gst_message_unref (msg);

  /* skipped without a warning and without a pad */
  push (d, frame_buffer (DS_FRAME_PING, 0, 1, 0, 0, 0, "ping", 4));
  push (d, frame_buffer (DS_FRAME_NEURAL_LATENT, 0, 2, 0, 0, 0, "abc", 3));
  push (d, frame_buffer (DS_INPUT_KEYFRAME_REQUEST, DS_FLAG_INPUT, 3, 0, 0, 0,
          NULL, 0));
  for (gint i = 0; i < N_OUTS; i++)
    fail_unless (d->out[i] == NULL);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  fail_unless_equals_uint64 (get_stat (d, "frames"), 4);
  depay_free (d);
}

GST_END_TEST;

/* A stream with every kind of media, for the byte-stream tests */
static GByteArray *
make_stream (guint * n_frames)
{
  GByteArray *stream = g_byte_array_new ();
  guint8 *p1 = make_picture (3, 2, 1), *p2 = make_picture (3, 2, 2);
  gfloat samples[6] = { 0.1f, 0.2f, 0.3f, -0.1f, -0.2f, -0.3f };
  GBytes *frames[8];
  guint i, n = 0;

  frames[n++] = frame_bytes (DS_FRAME_SIGNAL_SYNC, 0, 0, 0, 0, 0,
      "{\"a\":1}", 7);
  frames[n++] = frame_bytes (DS_FRAME_PIXELS, 2, 0, 0, 3, 2, p1, 24);
  frames[n++] = frame_bytes (DS_FRAME_AUDIO_PCM, 0, 0, 0, 2, 8000, samples,
      sizeof (samples));
  frames[n++] = frame_bytes (DS_FRAME_PING, 0, 0, 5, 0, 0, NULL, 0);
  frames[n++] = frame_bytes (DS_FRAME_SIGNAL_DIFF, 0, 1, 10, 0, 0,
      "{\"b\":\"two\"}", 11);
  frames[n++] = frame_bytes (DS_FRAME_PIXELS, 2, 1, 33, 3, 2, p2, 24);
  frames[n++] = frame_bytes (DS_FRAME_COMPRESSED_PIXELS, 2, 0, 40, 1, 1,
      png_data, sizeof (png_data));
  frames[n++] = frame_bytes (DS_FRAME_AUDIO_PCM, 0, 1, 41, 2, 8000, samples,
      sizeof (samples));

  for (i = 0; i < n; i++) {
    gsize len;
    const guint8 *data = g_bytes_get_data (frames[i], &len);

    g_byte_array_append (stream, data, len);
    g_bytes_unref (frames[i]);
  }
  g_free (p1);
  g_free (p2);
  *n_frames = n;
  return stream;
}

/* Everything dsdepay output, per pad: the bytes, buffer count and PTSs */
static gchar *
collect_output (Depay * d)
{
  GString *s = g_string_new (NULL);
  gint i;

  for (i = 0; i < N_OUTS; i++) {
    GstBuffer *buf;

    g_string_append_printf (s, "%s:", out_names[i]);
    if (d->out[i] == NULL)
      continue;
    while ((buf = gst_harness_try_pull (d->out[i]))) {
      GstMapInfo map;
      gsize j;

      gst_buffer_map (buf, &map, GST_MAP_READ);
      g_string_append_printf (s, "[%" GST_TIME_FORMAT " ",
          GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
      for (j = 0; j < map.size; j++)
        g_string_append_printf (s, "%02x", map.data[j]);
      g_string_append (s, "]");
      gst_buffer_unmap (buf, &map);
      gst_buffer_unref (buf);
    }
  }
  return g_string_free (s, FALSE);
}

static GstBuffer *
bytes_buffer (const guint8 * data, gsize len)
{
  return gst_buffer_new_memdup (data, len);
}

GST_START_TEST (test_byte_stream_split)
{
  guint n_frames, split;
  GByteArray *stream = make_stream (&n_frames);
  gchar *reference, *output;
  Depay *d;
  gsize offset;

  /* reference: the whole stream in one buffer (frames merged) */
  d = depay_new (NULL);
  fail_unless_equals_int (push (d, bytes_buffer (stream->data, stream->len)),
      GST_FLOW_OK);
  reference = collect_output (d);
  fail_unless_equals_uint64 (get_stat (d, "frames"), n_frames);
  fail_unless_equals_uint64 (get_stat (d, "malformed"), 0);
  depay_free (d);
  /* sanity: all four kinds came out */
  fail_unless (strstr (reference, "video:[") != NULL);
  fail_unless (strstr (reference, "image:[") != NULL);
  fail_unless (strstr (reference, "audio:[") != NULL);
  fail_unless (strstr (reference, "signal:[") != NULL);

  /* split in two at every offset */
  for (split = 1; split < stream->len; split++) {
    d = depay_new (NULL);
    push (d, bytes_buffer (stream->data, split));
    push (d, bytes_buffer (stream->data + split, stream->len - split));
    output = collect_output (d);
    fail_unless_equals_string (output, reference);
    fail_unless_equals_uint64 (get_stat (d, "malformed"), 0);
    g_free (output);
    depay_free (d);
  }

  /* one byte per buffer */
  d = depay_new (NULL);
  for (offset = 0; offset < stream->len; offset++)
    push (d, bytes_buffer (stream->data + offset, 1));
  output = collect_output (d);
  fail_unless_equals_string (output, reference);
  g_free (output);
  depay_free (d);

  /* one frame per buffer */
  d = depay_new (NULL);
  offset = 0;
  while (offset < stream->len) {
    DsHeader hdr;

    fail_unless (ds_header_parse (stream->data + offset, 16, &hdr, NULL));
    push (d, bytes_buffer (stream->data + offset, 16 + hdr.payload_len));
    offset += 16 + hdr.payload_len;
  }
  output = collect_output (d);
  fail_unless_equals_string (output, reference);
  g_free (output);
  depay_free (d);

  g_free (reference);
  g_byte_array_unref (stream);
}

GST_END_TEST;

/* Never a crash, never a read out of bounds (run under valgrind to see
 * the latter): a valid stream with random damage, in random pieces */
GST_START_TEST (test_damaged_streams)
{
  GRand *rand = g_rand_new_with_seed (20261121);
  guint n_frames;
  GByteArray *stream = make_stream (&n_frames);
  gint round;

  for (round = 0; round < 300; round++) {
    Depay *d = depay_new (round % 2 ? "max-frame-size=64" : NULL);
    guint8 *data = g_memdup2 (stream->data, stream->len);
    gsize len = stream->len, offset = 0;
    gint flips = g_rand_int_range (rand, 1, 8), i;

    for (i = 0; i < flips; i++)
      data[g_rand_int_range (rand, 0, len)] ^= 1 << g_rand_int_range (rand,
          0, 8);
    if (round % 3 == 0)
      len = g_rand_int_range (rand, 1, len);

    while (offset < len) {
      gsize piece = g_rand_int_range (rand, 1, 64);

      piece = MIN (piece, len - offset);

      fail_unless_equals_int (push (d, bytes_buffer (data + offset, piece)),
          GST_FLOW_OK);
      offset += piece;
    }
    gst_harness_push_event (d->h, gst_event_new_eos ());
    g_free (collect_output (d));
    count_messages (d, GST_MESSAGE_ANY);
    g_free (data);
    depay_free (d);
  }

  g_byte_array_unref (stream);
  g_rand_free (rand);
}

GST_END_TEST;

/* Malformed inputs: each is pushed as one buffer, followed by a good
 * signal frame in a buffer of its own, which must still come out. */
typedef struct
{
  const gchar *name;
  guint8 type;
  guint8 flags;
  guint16 width;
  guint16 height;
  const gchar *payload;
  gsize payload_len;
  /* what the header claims, when it lies (0: the real length) */
  guint32 claimed_len;
  /* bytes to cut from the end, or to add after the frame */
  gsize cut;
  gsize extra;
} MalformedCase;

static const MalformedCase malformed_cases[] = {
  {"header truncated", DS_FRAME_SIGNAL_SYNC, 0, 0, 0, "{}", 2, 0, 8, 0},
  {"payload truncated", DS_FRAME_PIXELS, 2, 4, 4, NULL, 64, 0, 20, 0},
  {"trailing garbage", DS_FRAME_PING, 0, 0, 0, "pp", 2, 0, 0, 5},
  {"claims more than it has", DS_FRAME_AUDIO_PCM, 0, 1, 8000, NULL, 8, 4096,
      0, 0},
  {"unknown type", 0x77, 0, 0, 0, "xyz", 3, 0, 0, 0},
  {"pixels size mismatch", DS_FRAME_PIXELS, 2, 2, 2, NULL, 15, 0, 0, 0},
  {"pixels zero width", DS_FRAME_PIXELS, 2, 0, 2, NULL, 0, 0, 0, 0},
  {"pixels zero height", DS_FRAME_PIXELS, 2, 2, 0, NULL, 8, 0, 0, 0},
  {"audio not a whole sample", DS_FRAME_AUDIO_PCM, 0, 2, 48000, NULL, 6, 0, 0,
      0},
  {"audio zero channels", DS_FRAME_AUDIO_PCM, 0, 0, 48000, NULL, 8, 0, 0, 0},
  {"audio zero rate", DS_FRAME_AUDIO_PCM, 0, 1, 0, NULL, 8, 0, 0, 0},
  {"opus zero channels", DS_FRAME_AUDIO_COMPRESSED, 0, 0, 48000, "xx", 2, 0,
      0, 0},
  {"opus three channels", DS_FRAME_AUDIO_COMPRESSED, 0, 3, 48000, "xx", 2, 0,
      0, 0},
  {"signal not json", DS_FRAME_SIGNAL_SYNC, 0, 0, 0, "{\"a\":", 5, 0, 0, 0},
  {"signal json array", DS_FRAME_SIGNAL_DIFF, 0, 0, 0, "[1,2]", 5, 0, 0, 0},
  {"signal empty", DS_FRAME_SIGNAL_SYNC, 0, 0, 0, NULL, 0, 0, 0, 0},
  {"image unknown signature", DS_FRAME_COMPRESSED_PIXELS, 2, 1, 1,
      "GIF89a......", 12, 0, 0, 0},
  {"image too short", DS_FRAME_COMPRESSED_PIXELS, 2, 1, 1, "\x89PNG", 4, 0,
      0, 0},
  {"haptic too short", DS_FRAME_HAPTIC, 0, 0, 0, "\x01", 1, 0, 0, 0},
  {"schema not json", DS_FRAME_SCHEMA_ANNOUNCE, 0, 0, 0, "signals", 7, 0, 0,
      0},
  {"over max-frame-size", DS_FRAME_PIXELS, 2, 32, 32, NULL, 4096, 0, 0, 0},
  {"delta zero width", DS_FRAME_DELTA_PIXELS, 2, 0, 4, "\x01", 1, 0, 0, 0},
  {"delta picture over max-frame-size", DS_FRAME_DELTA_PIXELS, 2, 65535,
      65535, "\x01", 1, 0, 0, 0},
  {"delta truncated zero run", DS_FRAME_DELTA_PIXELS, 2, 1, 1, "\x01\x00\x01",
      3, 0, 0, 0},
  {"delta zero count", DS_FRAME_DELTA_PIXELS, 2, 1, 1, "\x00\x00\x00\x01\x01",
      5, 0, 0, 0},
  {"delta runs past the end", DS_FRAME_DELTA_PIXELS, 2, 1, 1, "\x00\x09\x00",
      3, 0, 0, 0},
  {"delta too short", DS_FRAME_DELTA_PIXELS, 2, 2, 1, "\x01\x02\x03", 3, 0, 0,
      0},
  {"delta compressed garbage", DS_FRAME_DELTA_PIXELS, 6, 1, 1,
      "\x28\xb5\x2f\xfd\xff\xff\xff", 7, 0, 0, 0},
  /* FLAG_COMPRESSED where dsdepay cannot decompress */
  {"pixels compressed", DS_FRAME_PIXELS, 6, 2, 2, NULL, 16, 0, 0, 0},
  {"audio compressed flag", DS_FRAME_AUDIO_PCM, 4, 1, 8000, NULL, 8, 0, 0, 0},
  {"opus compressed flag", DS_FRAME_AUDIO_COMPRESSED, 4, 1, 48000, "xx", 2,
      0, 0, 0},
  {"image compressed flag", DS_FRAME_COMPRESSED_PIXELS, 6, 1, 1,
      "\x89PNG\r\n\x1a\n....", 12, 0, 0, 0},
  {"signal compressed flag", DS_FRAME_SIGNAL_SYNC, 4, 0, 0, "{\"x\":1}", 7,
      0, 0, 0},
  {"haptic compressed flag", DS_FRAME_HAPTIC, 4, 0, 0, "\x01\x02\x03", 3, 0,
      0, 0},
};

GST_START_TEST (test_malformed)
{
  const MalformedCase *c = &malformed_cases[__i__];
  Depay *d = depay_new ("max-frame-size=1024");
  guint8 *payload = g_malloc0 (MAX (c->payload_len, 1));
  DsHeader hdr = { 0, };
  GByteArray *bytes = g_byte_array_new ();
  guint8 raw[16];
  JsonObject *obj;
  gsize len, i;

  GST_INFO ("case: %s", c->name);
  if (c->payload)
    memcpy (payload, c->payload, c->payload_len);
  else
    memset (payload, 0x11, c->payload_len);

  hdr.type = c->type;
  hdr.flags = c->flags;
  hdr.seq = 7;
  hdr.width = c->width;
  hdr.height = c->height;
  hdr.payload_len = c->claimed_len ? c->claimed_len : c->payload_len;
  ds_header_pack (&hdr, raw);
  g_byte_array_append (bytes, raw, 16);
  g_byte_array_append (bytes, payload, c->payload_len);
  g_byte_array_set_size (bytes, bytes->len - c->cut);
  for (i = 0; i < c->extra; i++)
    g_byte_array_append (bytes, (const guint8 *) "\xee", 1);
  len = bytes->len;

  fail_unless_equals_int (push (d, bytes_buffer (bytes->data, len)),
      GST_FLOW_OK);
  fail_unless_equals_int (push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 100,
              "{\"good\":true}")), GST_FLOW_OK);

  fail_unless (d->out[OUT_SIGNAL] != NULL, "%s: no output", c->name);
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless (json_object_get_boolean_member (obj, "good"));
  json_object_unref (obj);
  fail_unless (gst_harness_try_pull (d->out[OUT_SIGNAL]) == NULL);
  fail_unless (d->out[OUT_VIDEO] == NULL && d->out[OUT_AUDIO] == NULL &&
      d->out[OUT_IMAGE] == NULL, "%s: output on a media pad", c->name);

  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_ERROR), 0);
  fail_unless_equals_uint64 (get_stat (d, "malformed"), 1);

  g_byte_array_unref (bytes);
  g_free (payload);
  depay_free (d);
}

GST_END_TEST;

/* Issue 11 item 1: a .ds byte stream (as filesrc delivers it, in 4 KiB
 * buffers) with signal frames that crashed dsdepay (a comment holding a
 * quote before 1e6 '[') or break a bound: each is skipped with a warning,
 * nothing stops, and the frames after them are decoded */
GST_START_TEST (test_hostile_signal_json)
{
  Depay *d = depay_new (NULL);
  GByteArray *stream = g_byte_array_new ();
  GString *json;
  GBytes *frame;
  JsonObject *obj;
  GstBuffer *out;
  gsize pos;
  guint i;

#define APPEND_FRAME(type, seq, text, len) G_STMT_START { \
    frame = frame_bytes (type, 0, seq, 0, 0, 0, text, len); \
    g_byte_array_append (stream, g_bytes_get_data (frame, NULL), \
        g_bytes_get_size (frame)); \
    g_bytes_unref (frame); } G_STMT_END

  APPEND_FRAME (DS_FRAME_SIGNAL_SYNC, 1, "{\"a\":1}", 7);
  /* the reproduction */
  json = g_string_new ("/*\"*/");
  for (i = 0; i < 1000000; i++)
    g_string_append_c (json, '[');
  APPEND_FRAME (DS_FRAME_SIGNAL_SYNC, 2, json->str, json->len);
  /* plain nesting in a diff */
  g_string_assign (json, "{\"a\":");
  for (i = 0; i < 1000000; i++)
    g_string_append_c (json, '[');
  APPEND_FRAME (DS_FRAME_SIGNAL_DIFF, 3, json->str, json->len);
  /* more keys than the default bound */
  g_string_assign (json, "{\"k\":0");
  for (i = 0; i < 20000; i++)
    g_string_append_printf (json, ",\"k%u\":0", i);
  g_string_append_c (json, '}');
  APPEND_FRAME (DS_FRAME_SIGNAL_DIFF, 4, json->str, json->len);
  g_string_free (json, TRUE);
  /* then good frames: a diff (flagged, after lost frames) and a sync */
  APPEND_FRAME (DS_FRAME_SIGNAL_DIFF, 5, "{\"b\":2}", 7);
  APPEND_FRAME (DS_FRAME_SIGNAL_SYNC, 6, "{\"c\":3}", 7);
#undef APPEND_FRAME

  for (pos = 0; pos < stream->len; pos += 4096)
    fail_unless_equals_int (push (d, bytes_buffer (stream->data + pos,
                MIN (4096, stream->len - pos))), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push_event (d->h, gst_event_new_eos ()),
      TRUE);

  fail_unless (d->out[OUT_SIGNAL] != NULL);
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_size (obj), 1);
  fail_unless_equals_int (json_object_get_int_member (obj, "a"), 1);
  json_object_unref (obj);

  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_CORRUPTED));
  obj = parse_line (out);
  fail_unless_equals_int (json_object_get_size (obj), 2);
  fail_unless_equals_int (json_object_get_int_member (obj, "b"), 2);
  json_object_unref (obj);

  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_if (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_CORRUPTED));
  obj = parse_line (out);
  fail_unless_equals_int (json_object_get_size (obj), 1);
  fail_unless_equals_int (json_object_get_int_member (obj, "c"), 3);
  json_object_unref (obj);

  fail_unless_equals_uint64 (get_stat (d, "malformed"), 3);
  /* three skipped frames and one "state may be stale"; no error (popping
   * one type drops the others: warnings first) */
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 4);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_ERROR), 0);

  g_byte_array_unref (stream);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_resync_after_oversized_header)
{
  Depay *d = depay_new ("max-frame-size=1024");
  guint8 raw[16];
  DsHeader hdr = { DS_FRAME_SIGNAL_SYNC, 0, 0, 0, 0, 0, 0x7fffffff };
  GByteArray *bytes = g_byte_array_new ();
  GBytes *good;
  gsize len;
  const guint8 *data;
  JsonObject *obj;

  ds_header_pack (&hdr, raw);
  g_byte_array_append (bytes, raw, 16);
  g_byte_array_append (bytes, (const guint8 *) "garbage", 7);
  good = frame_bytes (DS_FRAME_SIGNAL_SYNC, 0, 1, 0, 0, 0, "{\"n\":1}", 7);
  data = g_bytes_get_data (good, &len);
  g_byte_array_append (bytes, data, len);
  g_bytes_unref (good);
  good = frame_bytes (DS_FRAME_SIGNAL_DIFF, 0, 2, 0, 0, 0, "{\"n\":2}", 7);
  data = g_bytes_get_data (good, &len);
  g_byte_array_append (bytes, data, len);
  g_bytes_unref (good);

  /* all in one buffer, and in small pieces */
  push (d, bytes_buffer (bytes->data, 10));
  push (d, bytes_buffer (bytes->data + 10, bytes->len - 10));

  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "n"), 1);
  json_object_unref (obj);
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "n"), 2);
  json_object_unref (obj);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);

  g_byte_array_unref (bytes);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_eos_mid_frame_and_no_media)
{
  Depay *d = depay_new (NULL);
  GstBuffer *buf = signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"a\":1}");

  /* only a Ping, then EOS: no media at all is an error, posted like a
   * demuxer without streams does; the EOS itself was handled (dropped:
   * there is no pad to send it to) */
  push (d, frame_buffer (DS_FRAME_PING, 0, 0, 0, 0, 0, NULL, 0));
  fail_unless (gst_harness_push_event (d->h, gst_event_new_eos ()));
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_ERROR), 1);
  depay_free (d);

  /* a frame cut short by EOS: a warning, EOS goes on */
  d = depay_new (NULL);
  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"b\":1}"));
  push (d, gst_buffer_copy_region (buf, GST_BUFFER_COPY_ALL, 0, 10));
  gst_harness_push_event (d->h, gst_event_new_eos ());
  gst_buffer_unref (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_ERROR), 0);
  {
    GstEvent *event;
    gboolean eos = FALSE;

    while ((event = gst_harness_try_pull_event (d->out[OUT_SIGNAL]))) {
      eos |= GST_EVENT_TYPE (event) == GST_EVENT_EOS;
      gst_event_unref (event);
    }
    fail_unless (eos);
  }
  gst_buffer_unref (buf);
  depay_free (d);
}

GST_END_TEST;

/* A flush (a seek upstream) forgets a partial frame without a warning */
GST_START_TEST (test_flush)
{
  Depay *d = depay_new (NULL);
  GstBuffer *frame = signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"f\":1}");
  GstSegment segment;
  JsonObject *obj;

  push (d, gst_buffer_copy_region (frame, GST_BUFFER_COPY_ALL, 0, 20));
  fail_unless (gst_harness_push_event (d->h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (d->h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (d->h, gst_event_new_segment (&segment)));
  /* in two pieces: the adapter starts empty again */
  push (d, gst_buffer_copy_region (frame, GST_BUFFER_COPY_ALL, 0, 10));
  push (d, gst_buffer_copy_region (frame, GST_BUFFER_COPY_ALL, 10,
          gst_buffer_get_size (frame) - 10));
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "f"), 1);
  json_object_unref (obj);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);

  gst_buffer_unref (frame);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_timestamps)
{
  Depay *d = depay_new (NULL);
  GstBuffer *out, *a, *b, *merged;

  /* frame timestamps, relative to the first, across the u32 wrap */
  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0xffffff00u, "{\"t\":0}"));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 1, 0xfffffff0u, "{\"t\":1}"));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 2, 0x10u, "{\"t\":2}"));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 3, 0x7fffffffu, "{\"t\":3}"));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 4, 0xffffff00u, "{\"t\":4}"));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 5, 0x5u, "{\"t\":5}"));

  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 0);
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 0xf0 * GST_MSECOND);
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 0x110 * GST_MSECOND);
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
      (G_GUINT64_CONSTANT (0x7fffffff) + 0x100) * GST_MSECOND);
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
      G_GUINT64_CONSTANT (0x100000000) * GST_MSECOND);
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
      (G_GUINT64_CONSTANT (0x100000000) + 0x105) * GST_MSECOND);
  gst_buffer_unref (out);
  depay_free (d);

  /* input timestamps win on a TIME segment (auto) */
  d = depay_new (NULL);
  a = signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 1000, "{\"t\":0}");
  GST_BUFFER_PTS (a) = 5 * GST_SECOND;
  push (d, a);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  gst_buffer_unref (out);
  /* two frames in one buffer: the second keeps the first's offset */
  a = signal_frame (DS_FRAME_SIGNAL_DIFF, 1, 1100, "{\"t\":1}");
  b = signal_frame (DS_FRAME_SIGNAL_DIFF, 2, 1300, "{\"t\":2}");
  merged = gst_buffer_append (a, b);
  GST_BUFFER_PTS (merged) = 5 * GST_SECOND + 120 * GST_MSECOND;
  push (d, merged);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
      5 * GST_SECOND + 120 * GST_MSECOND);
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
      5 * GST_SECOND + 320 * GST_MSECOND);
  gst_buffer_unref (out);
  depay_free (d);

  /* timestamp-mode=frame ignores them */
  d = depay_new ("timestamp-mode=frame");
  a = signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 1000, "{\"t\":0}");
  GST_BUFFER_PTS (a) = 5 * GST_SECOND;
  push (d, a);
  a = signal_frame (DS_FRAME_SIGNAL_DIFF, 1, 1500, "{\"t\":1}");
  GST_BUFFER_PTS (a) = 9 * GST_SECOND;
  push (d, a);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 0);
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 500 * GST_MSECOND);
  gst_buffer_unref (out);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_seq_gaps)
{
  Depay *d = depay_new (NULL);
  GstBuffer *out;
  gfloat samples[2] = { 0, 0 };

  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 65534, 0, "{\"s\":0}"));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 65535, 1, "{\"s\":1}"));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 0, 2, "{\"s\":2}"));
  fail_unless_equals_uint64 (get_stat (d, "gaps"), 0);
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 3, 3, "{\"s\":3}"));
  fail_unless_equals_uint64 (get_stat (d, "gaps"), 2);

  /* seq is per kind of media: audio has its own */
  push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0, 9, 4, 1, 8000, samples, 8));
  push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0, 10, 5, 1, 8000, samples, 8));
  fail_unless_equals_uint64 (get_stat (d, "gaps"), 2);

  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_if (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (out);
  gst_buffer_unref (gst_harness_pull (d->out[OUT_SIGNAL]));
  /* after the gap */
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (out);

  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_keyframe_reset)
{
  Depay *d = depay_new ("request-keyframe=false");
  guint8 *pic = make_picture (2, 2, 1);
  JsonObject *obj;

  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"a\":1}"));
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 2, 2, pic, 16));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_SIGNAL]));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));

  push (d, frame_buffer (DS_FRAME_KEYFRAME, 2, 0, 0, 0, 0, NULL, 0));

  /* the signal state starts again */
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 1, 0, "{\"b\":2}"));
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless (!json_object_has_member (obj, "a"));
  fail_unless_equals_int (json_object_get_int_member (obj, "b"), 2);
  json_object_unref (obj);

  /* and so does the picture: a delta has no reference */
  push (d, frame_buffer (DS_FRAME_DELTA_PIXELS, 0, 1, 0, 2, 2, "\x00\x10\x00",
          3));
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 1);
  fail_unless_equals_uint64 (get_stat (d, "keyframe-requests"), 0);
  fail_unless_equals_int (count_force_key_units (d), 0);

  g_free (pic);
  depay_free (d);
}

GST_END_TEST;

static gboolean
pull_until_eos (GstHarness * h)
{
  GstEvent *event;
  gboolean eos = FALSE;

  while ((event = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
      eos = TRUE;
    gst_event_unref (event);
  }
  return eos;
}

GST_START_TEST (test_end)
{
  Depay *d = depay_new (NULL);
  guint8 *pic = make_picture (2, 2, 1);
  GstEvent *event;
  gboolean stream_start = FALSE;
  JsonObject *obj;
  GstBuffer *out;

  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"a\":1}"));
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 2, 2, pic, 16));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_SIGNAL]));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  fail_if (pull_until_eos (d->out[OUT_SIGNAL]));
  fail_if (pull_until_eos (d->out[OUT_VIDEO]));

  push (d, frame_buffer (DS_FRAME_END, 0, 1, 100, 0, 0, NULL, 0));
  fail_unless (pull_until_eos (d->out[OUT_SIGNAL]));
  fail_unless (pull_until_eos (d->out[OUT_VIDEO]));

  /* a new stream may follow: new stream-start, state from scratch */
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 0, 5000, "{\"b\":2}"));
  while ((event = gst_harness_try_pull_event (d->out[OUT_SIGNAL]))) {
    stream_start |= GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START;
    gst_event_unref (event);
  }
  fail_unless (stream_start);
  /* frame times go on from the End frame's (100 ms) */
  out = gst_harness_pull (d->out[OUT_SIGNAL]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 100 * GST_MSECOND);
  obj = parse_line (out);
  fail_unless (!json_object_has_member (obj, "a"));
  json_object_unref (obj);

  /* and an upstream EOS reaches every pad */
  gst_harness_push_event (d->h, gst_event_new_eos ());
  fail_unless (pull_until_eos (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_ERROR), 0);

  /* a new stream from upstream after its EOS starts the pads again */
  gst_harness_push_event (d->h, gst_event_new_stream_start ("another"));
  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"c\":3}"));
  stream_start = FALSE;
  while ((event = gst_harness_try_pull_event (d->out[OUT_SIGNAL]))) {
    stream_start |= GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START;
    gst_event_unref (event);
  }
  fail_unless (stream_start);
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "c"), 3);
  fail_unless (!json_object_has_member (obj, "b"));
  json_object_unref (obj);

  g_free (pic);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_navigation)
{
  Depay *d = depay_new (NULL);
  guint8 *pic = make_picture (4, 2, 1);
  GstEvent *event;
  guint8 type = 0;
  GBytes *payload = NULL;
  DsInputEvent input;
  gsize len;
  const guint8 *data;

  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 4, 2, pic, 32));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));

  fail_unless (gst_harness_push_upstream_event (d->out[OUT_VIDEO],
          gst_navigation_event_new_mouse_button_press (1, 10.0, 1.0, 0)));
  event = pull_upstream_event (d, GST_EVENT_CUSTOM_UPSTREAM);
  fail_unless (event != NULL);
  fail_unless (gst_ds_input_event_parse (event, &type, &payload));
  fail_unless_equals_int (type, DS_INPUT_POINTER_DOWN);
  data = g_bytes_get_data (payload, &len);
  fail_unless (ds_input_event_parse (type, data, len, &input, NULL));
  /* clamped to the 4x2 picture */
  fail_unless_equals_int (input.pointer.x, 3);
  fail_unless_equals_int (input.pointer.y, 1);
  fail_unless (input.pointer.buttons & DS_BUTTON_LEFT);
  g_bytes_unref (payload);
  gst_event_unref (event);

  /* ForceKeyUnit from downstream goes upstream as it is */
  fail_unless (gst_harness_push_upstream_event (d->out[OUT_VIDEO],
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 0)));
  event = pull_upstream_event (d, GST_EVENT_CUSTOM_UPSTREAM);
  fail_unless (event != NULL);
  fail_unless (gst_video_event_is_force_key_unit (event));
  gst_event_unref (event);

  g_free (pic);
  depay_free (d);
}

GST_END_TEST;

/* gst-launch style: "... ! dsdepay ! videoconvert ! ..." links the video
 * pad by itself when it appears, even after a pad nothing links */
GST_START_TEST (test_delayed_linking)
{
  GstElement *pipeline, *src, *sink;
  GstSample *sample;
  GstCaps *caps;
  GstStructure *s;
  guint8 *pic = make_picture (8, 6, 1);
  GstBuffer *buf;
  GstMapInfo map;
  gint width = 0, height = 0;
  GError *error = NULL;

  pipeline = gst_parse_launch ("appsrc name=src format=time caps="
      GST_DS_STREAM_MEDIA_TYPE " ! dsdepay ! videoconvert ! "
      "video/x-raw,format=BGRA ! appsink name=sink sync=false", &error);
  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_ASYNC);

  /* a signal first: its pad cannot link to videoconvert */
  buf = signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"a\":1}");
  GST_BUFFER_PTS (buf) = 0;
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), buf),
      GST_FLOW_OK);
  buf = frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 8, 6, pic, 8 * 6 * 4);
  GST_BUFFER_PTS (buf) = 0;
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), buf),
      GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
  fail_unless (sample != NULL);
  caps = gst_sample_get_caps (sample);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_get_int (s, "width", &width));
  fail_unless (gst_structure_get_int (s, "height", &height));
  fail_unless_equals_int (width, 8);
  fail_unless_equals_int (height, 6);
  buf = gst_sample_get_buffer (sample);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, 8 * 6 * 4);
  /* RGBA -> BGRA swaps red and blue */
  fail_unless_equals_int (map.data[0], pic[2]);
  fail_unless_equals_int (map.data[1], pic[1]);
  fail_unless_equals_int (map.data[2], pic[0]);
  gst_buffer_unmap (buf, &map);
  gst_sample_unref (sample);

  fail_unless (gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
          GST_SECOND) == NULL);
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)));

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (pic);
}

GST_END_TEST;

/* dspay ! dsdepay, one frame per buffer and as a byte stream (a .ds
 * recording): byte-exact media and the same timestamps */
static void
pay_into (GstHarness * pay, Depay * d, GByteArray * recording)
{
  GstBuffer *frame;

  while ((frame = gst_harness_try_pull (pay))) {
    GstMapInfo map;

    fail_unless (gst_buffer_map (frame, &map, GST_MAP_READ));
    g_byte_array_append (recording, map.data, map.size);
    gst_buffer_unmap (frame, &map);
    fail_unless_equals_int (push (d, frame), GST_FLOW_OK);
  }
}

GST_START_TEST (test_round_trip_dspay)
{
  GstHarness *vpay, *apay, *spay;
  Depay *d = depay_new (NULL), *d2;
  GByteArray *recording = g_byte_array_new ();
  guint8 *pics[5];
  gfloat samples[480];
  const gchar *lines = "{\"a\":1}\n{\"a\":2,\"b\":\"x\"}\n";
  GstBuffer *buf, *out;
  JsonObject *obj;
  gsize offset;
  gint i;

  vpay = gst_harness_new ("dspay");
  gst_harness_set_src_caps_str (vpay, "video/x-raw,format=RGBA,width=16,"
      "height=8,framerate=30/1");
  apay = gst_harness_new ("dspay");
  gst_harness_set_src_caps_str (apay, "audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=48000,channels=1");
  spay = gst_harness_new ("dspay");
  gst_harness_set_src_caps_str (spay, GST_DS_SIGNAL_MEDIA_TYPE);

  for (i = 0; i < 480; i++)
    samples[i] = (i % 100) / 100.0f;

  for (i = 0; i < 5; i++) {
    pics[i] = make_picture (16, 8, i);
    buf = gst_buffer_new_memdup (pics[i], 16 * 8 * 4);
    GST_BUFFER_PTS (buf) = i * 40 * GST_MSECOND;
    GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (vpay, buf), GST_FLOW_OK);
    pay_into (vpay, d, recording);

    buf = gst_buffer_new_memdup (samples, sizeof (samples));
    GST_BUFFER_PTS (buf) = i * 10 * GST_MSECOND;
    GST_BUFFER_DURATION (buf) = 10 * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (apay, buf), GST_FLOW_OK);
    pay_into (apay, d, recording);
  }
  buf = gst_buffer_new_memdup (lines, strlen (lines));
  GST_BUFFER_PTS (buf) = 0;
  fail_unless_equals_int (gst_harness_push (spay, buf), GST_FLOW_OK);
  pay_into (spay, d, recording);

  for (i = 0; i < 5; i++) {
    out = gst_harness_pull (d->out[OUT_VIDEO]);
    assert_buffer_equals (out, pics[i], 16 * 8 * 4);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * 40 * GST_MSECOND);
    gst_buffer_unref (out);
    out = gst_harness_pull (d->out[OUT_AUDIO]);
    assert_buffer_equals (out, samples, sizeof (samples));
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * 10 * GST_MSECOND);
    gst_buffer_unref (out);
  }
  /* a mixed channel: no framerate known */
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=16,"
      "height=8,framerate=0/1");
  assert_caps (d->out[OUT_AUDIO], "audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=48000,channels=1");
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "a"), 1);
  json_object_unref (obj);
  obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));
  fail_unless_equals_int (json_object_get_int_member (obj, "a"), 2);
  fail_unless_equals_string (json_object_get_string_member (obj, "b"), "x");
  json_object_unref (obj);

  /* EOS on dspay: an End frame, then EOS on every pad of dsdepay */
  gst_harness_push_event (vpay, gst_event_new_eos ());
  pay_into (vpay, d, recording);
  fail_unless (pull_until_eos (d->out[OUT_VIDEO]));
  fail_unless (pull_until_eos (d->out[OUT_AUDIO]));
  fail_unless (pull_until_eos (d->out[OUT_SIGNAL]));
  fail_unless_equals_uint64 (get_stat (d, "malformed"), 0);
  fail_unless_equals_uint64 (get_stat (d, "gaps"), 0);

  /* the recording, read back in 1000-byte pieces */
  d2 = depay_new (NULL);
  for (offset = 0; offset < recording->len; offset += 1000)
    push (d2, bytes_buffer (recording->data + offset,
            MIN (1000, recording->len - offset)));
  for (i = 0; i < 5; i++) {
    out = gst_harness_pull (d2->out[OUT_VIDEO]);
    assert_buffer_equals (out, pics[i], 16 * 8 * 4);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * 40 * GST_MSECOND);
    gst_buffer_unref (out);
    out = gst_harness_pull (d2->out[OUT_AUDIO]);
    assert_buffer_equals (out, samples, sizeof (samples));
    gst_buffer_unref (out);
  }
  fail_unless (pull_until_eos (d2->out[OUT_VIDEO]));
  fail_unless_equals_uint64 (get_stat (d2, "malformed"), 0);

  for (i = 0; i < 5; i++)
    g_free (pics[i]);
  g_byte_array_unref (recording);
  gst_harness_teardown (vpay);
  gst_harness_teardown (apay);
  gst_harness_teardown (spay);
  depay_free (d2);
  depay_free (d);
}

GST_END_TEST;

/* dspay ! dsdelta ! dsdepay, with a delta lost on the way: dsdepay drops
 * pictures and asks for a keyframe, which dsdelta sends; every picture
 * shown is byte-exact */
static void
check_delta_round_trip (const gchar * compression)
{
  gchar *desc = g_strdup_printf ("dspay ! dsdelta keyframe-interval=0 "
      "min-keyframe-distance=0 compression=%s", compression);
  GstHarness *enc = gst_harness_new_parse (desc);
  Depay *d = depay_new (NULL);
  const guint w = 32, h = 16, n = w * h * 4;
  guint8 *base = make_picture (w, h, 9);
  guint shown = 0;
  gint i;

  gst_harness_set_src_caps_str (enc, "video/x-raw,format=RGBA,width=32,"
      "height=16,framerate=30/1");

  for (i = 0; i < 12; i++) {
    guint8 *pic = g_memdup2 (base, n);
    GstBuffer *frame, *out;
    DsHeader hdr;
    GstEvent *event;

    /* a changing area, and a small block that moves */
    for (guint j = 0; j < n / 2; j++)
      pic[j] ^= 0x11 * (i % 3);
    memset (pic + n / 2 + (i * 4 * 4), 0xc0 + i, 16);
    make_opaque (pic, n);
    frame = gst_buffer_new_memdup (pic, n);
    GST_BUFFER_PTS (frame) = i * GST_SECOND / 30;
    fail_unless_equals_int (gst_harness_push (enc, frame), GST_FLOW_OK);
    frame = gst_harness_pull (enc);
    fail_unless (gst_ds_frame_buffer_parse (frame, &hdr, NULL));
    if (i == 0)
      fail_unless_equals_int (hdr.flags & DS_FLAG_KEYFRAME, DS_FLAG_KEYFRAME);
    if (i > 0 && i < 4) {
      fail_unless_equals_int (hdr.type, DS_FRAME_DELTA_PIXELS);
      fail_if (hdr.flags & DS_FLAG_KEYFRAME);
      fail_unless_equals_int (!!(hdr.flags & DS_FLAG_COMPRESSED),
          g_str_equal (compression, "zstd"));
    }

    if (i == 4) {
      /* lost on the way */
      fail_if (hdr.flags & DS_FLAG_KEYFRAME);
      gst_buffer_unref (frame);
      g_free (pic);
      continue;
    }
    fail_unless_equals_int (push (d, frame), GST_FLOW_OK);

    out = d->out[OUT_VIDEO] ? gst_harness_try_pull (d->out[OUT_VIDEO]) : NULL;
    if (i == 5) {
      /* the delta after the gap is not shown; a keyframe is asked for */
      fail_unless (out == NULL);
      event = pull_upstream_event (d, GST_EVENT_CUSTOM_UPSTREAM);
      fail_unless (event != NULL);
      fail_unless (gst_video_event_is_force_key_unit (event));
      fail_unless (gst_harness_push_upstream_event (enc, event));
    } else {
      fail_unless (out != NULL, "picture %d not shown", i);
      assert_buffer_equals (out, pic, n);
      fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND / 30);
      gst_buffer_unref (out);
      shown++;
    }
    if (i == 6)
      fail_unless_equals_int (hdr.flags & DS_FLAG_KEYFRAME, DS_FLAG_KEYFRAME);
    g_free (pic);
  }
  fail_unless_equals_int (shown, 10);
  fail_unless_equals_uint64 (get_stat (d, "gaps"), 1);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 1);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);

  g_free (base);
  g_free (desc);
  gst_harness_teardown (enc);
  depay_free (d);
}

GST_START_TEST (test_round_trip_dsdelta)
{
  check_delta_round_trip ("none");
#ifdef HAVE_ZSTD
  check_delta_round_trip ("zstd");
#endif
}

GST_END_TEST;

/* DeltaPixels */

static GstBuffer *
delta_frame (guint8 flags, guint16 seq, guint w, guint h, const guint8 * cur,
    const guint8 * ref)
{
  gsize n = w * h * 4;
  guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (n));
  gsize len =
      ds_rle_encode_xor (cur, ref, n, code, DS_RLE_MAX_ENCODED_SIZE (n));
  GstBuffer *buf;

  fail_unless (len > 0);
  buf = frame_buffer (DS_FRAME_DELTA_PIXELS, flags, seq, seq * 10, w, h, code,
      len);
  g_free (code);
  return buf;
}

static guint
count_force_key_units (Depay * d)
{
  GstEvent *event;
  guint n = 0;

  while ((event = gst_harness_try_pull_upstream_event (d->h))) {
    if (gst_video_event_is_force_key_unit (event))
      n++;
    gst_event_unref (event);
  }
  return n;
}

/* Pictures are opaque: alpha bytes other than 255 on the wire (an X
 * screen's padding byte, copied into RGBA by videoconvert) leave as 255,
 * red, green and blue exact, for Pixels and for a chain of deltas; the
 * input's bytes are not written to. */
GST_START_TEST (test_opaque_pictures)
{
  Depay *d = depay_new (NULL);
  guint8 *p0 = make_picture (4, 2, 3), *p1, *want0, *want1;
  DsHeader hdr = { DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 4, 2, 0 };
  GstBuffer *in, *out;
  guint i;

  for (i = 3; i < 32; i += 4)
    p0[i] = (i / 4) % 2 ? 0 : 0x80;
  p1 = g_memdup2 (p0, 32);
  p1[8] ^= 0x5a;
  p1[11] = 0x01;
  want0 = g_memdup2 (p0, 32);
  make_opaque (want0, 32);
  want1 = g_memdup2 (p1, 32);
  make_opaque (want1, 32);

  in = gst_ds_frame_buffer_new_data (&hdr, p0, 32);
  gst_buffer_ref (in);
  fail_unless_equals_int (push (d, in), GST_FLOW_OK);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, want0, 32);
  gst_buffer_unref (out);
  fail_unless (gst_buffer_memcmp (in, DS_HEADER_SIZE, p0, 32) == 0);
  gst_buffer_unref (in);

  /* a delta against the (wire) picture before it */
  push (d, delta_frame (0, 1, 4, 2, p1, p0));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, want1, 32);
  gst_buffer_unref (out);

  /* a keyframe delta, then a delta */
  push (d, delta_frame (DS_FLAG_KEYFRAME, 2, 4, 2, p0, NULL));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, want0, 32);
  gst_buffer_unref (out);
  push (d, delta_frame (0, 3, 4, 2, p1, p0));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, want1, 32);
  gst_buffer_unref (out);

  fail_unless_equals_uint64 (get_stat (d, "dropped"), 0);
  g_free (p0);
  g_free (p1);
  g_free (want0);
  g_free (want1);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_delta_chain)
{
  Depay *d = depay_new (NULL);
  guint8 *p0 = make_picture (8, 4, 0), *p1, *p2;
  GstBuffer *out;

  p1 = g_memdup2 (p0, 128);
  p1[5] ^= 0x55;
  p1[77] = 0;
  p2 = g_memdup2 (p1, 128);
  memset (p2 + 40, 0xaa, 30);
  make_opaque (p2, 128);

  /* a keyframe delta (reference = zeros) */
  push (d, delta_frame (DS_FLAG_KEYFRAME, 0, 8, 4, p0, NULL));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p0, 128);
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=8,height=4,"
      "framerate=0/1");
  fail_if (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DELTA_UNIT));
  gst_buffer_unref (out);

  /* a chain of deltas */
  push (d, delta_frame (0, 1, 8, 4, p1, p0));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p1, 128);
  gst_buffer_unref (out);
  push (d, delta_frame (0, 2, 8, 4, p2, p1));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p2, 128);
  gst_buffer_unref (out);

  /* a Pixels frame is a reference too */
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 3, 30, 8, 4, p0, 128));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  push (d, delta_frame (0, 4, 8, 4, p2, p0));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p2, 128);
  gst_buffer_unref (out);

  fail_unless_equals_uint64 (get_stat (d, "dropped"), 0);
  fail_unless_equals_int (count_force_key_units (d), 0);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);

  g_free (p0);
  g_free (p1);
  g_free (p2);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_delta_handmade)
{
  Depay *d = depay_new (NULL);
  /* 1x2 picture, 8 bytes: 01 00 00 00 00 00 00 02, shown opaque */
  static const guint8 code[] = { 0x01, 0x00, 0x06, 0x00, 0x02 };
  static const guint8 expected[] = { 1, 0, 0, 0xff, 0, 0, 0, 0xff };
  GstBuffer *out;

  push (d, frame_buffer (DS_FRAME_DELTA_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 1, 2,
          code, sizeof (code)));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, expected, 8);
  gst_buffer_unref (out);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_delta_missing_reference)
{
  Depay *d = depay_new (NULL);
  guint8 *p0 = make_picture (4, 4, 0), *p1 = make_picture (4, 4, 1);
  GstTestClock *clock;
  GstClockTime t0, expected_interval = 100 * GST_MSECOND;
  GstBuffer *out;
  gint i;

  /* the request timer runs on the system clock (the pipeline clock may
   * stand still in PAUSED): a test clock stands in for it */
  clock = GST_TEST_CLOCK (gst_test_clock_new ());
  gst_system_clock_set_default (GST_CLOCK (clock));
  t0 = gst_clock_get_time (GST_CLOCK (clock));

  /* a delta with no reference: dropped, a keyframe is asked for */
  push (d, delta_frame (0, 0, 4, 4, p1, p0));
  fail_unless (d->out[OUT_VIDEO] == NULL);
  fail_unless_equals_int (count_force_key_units (d), 1);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 1);

  /* more deltas: still dropped, no extra request per frame */
  push (d, delta_frame (0, 1, 4, 4, p0, p1));
  fail_unless_equals_int (count_force_key_units (d), 0);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 2);

  /* requests repeat with a doubling interval, capped at 2 s, while
   * nothing arrives */
  for (i = 0; i < 8; i++) {
    GstClockTime now;

    gst_test_clock_wait_for_next_pending_id (clock, NULL);
    fail_unless (gst_test_clock_crank (clock));
    now = gst_clock_get_time (GST_CLOCK (clock));
    fail_unless_equals_uint64 (now - t0, expected_interval);
    fail_unless_equals_int (count_force_key_units (d), 1);
    t0 = now;
    expected_interval = MIN (expected_interval * 2, 2 * GST_SECOND);
  }
  fail_unless_equals_uint64 (get_stat (d, "keyframe-requests"), 9);

  /* the keyframe: shown, and the requests stop */
  push (d, delta_frame (DS_FLAG_KEYFRAME, 2, 4, 4, p0, NULL));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p0, 64);
  gst_buffer_unref (out);
  fail_unless_equals_int (gst_test_clock_peek_id_count (clock), 0);
  push (d, delta_frame (0, 3, 4, 4, p1, p0));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p1, 64);
  gst_buffer_unref (out);
  fail_unless_equals_int (count_force_key_units (d), 0);

  depay_free (d);
  gst_system_clock_set_default (NULL);
  gst_object_unref (clock);
  g_free (p0);
  g_free (p1);
}

GST_END_TEST;

GST_START_TEST (test_delta_seq_gap)
{
  Depay *d = depay_new (NULL);
  guint8 *p0 = make_picture (4, 4, 0), *p1 = make_picture (4, 4, 1);
  guint8 *p2 = make_picture (4, 4, 2);
  GstBuffer *out;

  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 10, 0, 4, 4, p0, 64));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  /* seq 11 lost: the delta of seq 12 would give a wrong picture */
  push (d, delta_frame (0, 12, 4, 4, p2, p1));
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_int (count_force_key_units (d), 1);
  fail_unless_equals_uint64 (get_stat (d, "gaps"), 1);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 1);

  /* a Pixels keyframe ends the wait */
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 13, 0, 4, 4, p1, 64));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p1, 64);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (out);
  push (d, delta_frame (0, 14, 4, 4, p2, p1));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p2, 64);
  gst_buffer_unref (out);

  /* a size change without a keyframe: dropped */
  push (d, delta_frame (0, 15, 2, 2, p2, p1));
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 2);

  g_free (p0);
  g_free (p1);
  g_free (p2);
  depay_free (d);
}

GST_END_TEST;

GST_START_TEST (test_delta_wait_for_keyframe_off)
{
  Depay *d = depay_new ("wait-for-keyframe=false");
  guint8 *p0 = make_picture (4, 4, 0), *p1 = make_picture (4, 4, 1);
  GstBuffer *out;

  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 10, 0, 4, 4, p0, 64));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  /* a gap alone does not stop decoding then */
  push (d, delta_frame (0, 12, 4, 4, p1, p0));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p1, 64);
  gst_buffer_unref (out);
  fail_unless_equals_int (count_force_key_units (d), 0);

  g_free (p0);
  g_free (p1);
  depay_free (d);
}

GST_END_TEST;

#ifdef HAVE_ZSTD
/* One zstd frame holding @len bytes in raw blocks, built by hand: magic,
 * a single-segment frame header with a 4-byte content size, blocks. */
static GByteArray *
zstd_raw_frame (const guint8 * data, gsize len, guint32 claimed_size)
{
  GByteArray *out = g_byte_array_new ();
  guint8 head[9] = { 0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0 };
  gsize offset = 0;

  {
    /* head + 5 is not aligned: GST_WRITE_UINT32_LE would be a misaligned
     * store (UBSan) */
    guint32 le = GUINT32_TO_LE (claimed_size);

    memcpy (head + 5, &le, 4);
  }
  g_byte_array_append (out, head, 9);
  do {
    gsize block = MIN (len - offset, 65536);
    gboolean last = offset + block == len;
    guint32 bh = (guint32) (block << 3) | (last ? 1 : 0);
    guint8 bh_bytes[3] = { bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff };

    g_byte_array_append (out, bh_bytes, 3);
    g_byte_array_append (out, data + offset, block);
    offset += block;
  } while (offset < len);

  return out;
}

GST_START_TEST (test_delta_compressed)
{
  Depay *d = depay_new (NULL);
  guint8 *p0 = make_picture (8, 8, 0), *p1;
  gsize n = 256;
  guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (n));
  gsize len;
  GByteArray *z;
  GstBuffer *out;

  p1 = g_memdup2 (p0, n);
  memset (p1 + 10, 0x42, 20);
  make_opaque (p1, n);

  len = ds_rle_encode_xor (p0, NULL, n, code, DS_RLE_MAX_ENCODED_SIZE (n));
  z = zstd_raw_frame (code, len, len);
  push (d, frame_buffer (DS_FRAME_DELTA_PIXELS, DS_FLAG_KEYFRAME |
          DS_FLAG_COMPRESSED, 0, 0, 8, 8, z->data, z->len));
  g_byte_array_unref (z);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p0, n);
  gst_buffer_unref (out);

  len = ds_rle_encode_xor (p1, p0, n, code, DS_RLE_MAX_ENCODED_SIZE (n));
  z = zstd_raw_frame (code, len, len);
  push (d, frame_buffer (DS_FRAME_DELTA_PIXELS, DS_FLAG_COMPRESSED, 1, 10, 8,
          8, z->data, z->len));
  g_byte_array_unref (z);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p1, n);
  gst_buffer_unref (out);

  /* a frame that claims to expand beyond the limit: rejected unread */
  z = zstd_raw_frame (code, len, 0x7fffffff);
  push (d, frame_buffer (DS_FRAME_DELTA_PIXELS, DS_FLAG_KEYFRAME |
          DS_FLAG_COMPRESSED, 2, 20, 8, 8, z->data, z->len));
  g_byte_array_unref (z);
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);

  /* two zstd frames in one payload: not what the protocol says */
  len = ds_rle_encode_xor (p0, NULL, n, code, DS_RLE_MAX_ENCODED_SIZE (n));
  z = zstd_raw_frame (code, len, len);
  {
    guint8 *copy = g_memdup2 (z->data, z->len);
    guint copy_len = z->len;

    g_byte_array_append (z, copy, copy_len);
    g_free (copy);
  }
  push (d, frame_buffer (DS_FRAME_DELTA_PIXELS, DS_FLAG_KEYFRAME |
          DS_FLAG_COMPRESSED, 3, 30, 8, 8, z->data, z->len));
  g_byte_array_unref (z);
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);

  g_free (code);
  g_free (p0);
  g_free (p1);
  depay_free (d);
}

GST_END_TEST;

/* A MotionDeltaPixels payload from @ref to @cur with @moves */
static GByteArray *
motion_payload (const guint8 * cur, const guint8 * ref, guint w, guint h,
    const DsMotionMove * moves, guint n)
{
  gsize cap = DS_MOTION_TABLE_SIZE (n) + DS_RLE_MAX_ENCODED_SIZE (w * h * 4);
  GByteArray *out = g_byte_array_sized_new (cap);

  g_byte_array_set_size (out, cap);
  g_byte_array_set_size (out, ds_motion_encode (cur, ref, w, h, moves, n,
          out->data, cap));
  fail_unless (out->len > 0);
  return out;
}

/* MotionDeltaPixels: moved rectangles of the last picture (two moves,
 * each overlapping itself, the second reading what the first
 * overwrites), then the code; with FLAG_COMPRESSED too; and the frames
 * that must be refused: FLAG_KEYFRAME, a move leaving the picture, no
 * reference */
GST_START_TEST (test_motion_delta)
{
  const DsMotionMove moves[] = {
    {0, 0, 0, 2, 16, 6},        /* scroll down two rows */
    {0, 2, 3, 3, 5, 4},         /* a window over it, read from before */
  };
  Depay *d = depay_new (NULL);
  const guint w = 16, h = 8;
  gsize n = w * h * 4;
  guint8 *p0 = make_picture (w, h, 0), *p1, *p2;
  GByteArray *payload, *z;
  GstBuffer *out;
  guint i;

  /* p1: p0 moved, plus a few changed pixels */
  p1 = g_memdup2 (p0, n);
  for (i = 0; i < 6 * w * 4; i++)
    p1[2 * w * 4 + i] = p0[i];
  for (i = 0; i < 4; i++)
    memcpy (p1 + ((3 + i) * w + 3) * 4, p0 + ((2 + i) * w) * 4, 5 * 4);
  p1[5] ^= 0x33;
  p2 = make_picture (w, h, 9);

  push (d, frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, w, h, p0, n));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));

  payload = motion_payload (p1, p0, w, h, moves, 2);
  /* the moves carry the picture: the code is small */
  fail_unless (payload->len < n / 4);
  push (d, frame_buffer (DS_FRAME_MOTION_DELTA_PIXELS, 0, 1, 10, w, h,
          payload->data, payload->len));
  g_byte_array_unref (payload);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p1, n);
  gst_buffer_unref (out);

  /* compressed: one zstd frame of the whole payload */
  payload = motion_payload (p2, p1, w, h, moves, 2);
  z = zstd_raw_frame (payload->data, payload->len, payload->len);
  push (d, frame_buffer (DS_FRAME_MOTION_DELTA_PIXELS, DS_FLAG_COMPRESSED, 2,
          20, w, h, z->data, z->len));
  g_byte_array_unref (z);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p2, n);
  gst_buffer_unref (out);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 0);

  /* FLAG_KEYFRAME is not allowed: skipped with a warning, and what
   * follows waits for a keyframe */
  push (d, frame_buffer (DS_FRAME_MOTION_DELTA_PIXELS, DS_FLAG_KEYFRAME, 3,
          30, w, h, payload->data, payload->len));
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);
  fail_unless_equals_int (count_force_key_units (d), 1);
  push (d, frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 4, 40, w, h, p1,
          n));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));

  /* a move one pixel wider than the picture: malformed */
  payload->data[DS_MOTION_TABLE_SIZE (0) + 8] = w + 1;
  push (d, frame_buffer (DS_FRAME_MOTION_DELTA_PIXELS, 0, 5, 50, w, h,
          payload->data, payload->len));
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);
  fail_unless_equals_int (count_force_key_units (d), 1);
  g_byte_array_unref (payload);

  g_free (p0);
  g_free (p1);
  g_free (p2);
  depay_free (d);

  /* without a reference: dropped, a keyframe asked for */
  d = depay_new (NULL);
  p0 = make_picture (w, h, 0);
  p1 = make_picture (w, h, 1);
  payload = motion_payload (p1, p0, w, h, moves, 2);
  push (d, frame_buffer (DS_FRAME_MOTION_DELTA_PIXELS, 0, 0, 0, w, h,
          payload->data, payload->len));
  fail_unless (d->out[OUT_VIDEO] == NULL);
  fail_unless_equals_int (count_force_key_units (d), 1);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 1);
  g_byte_array_unref (payload);
  g_free (p0);
  g_free (p1);
  depay_free (d);
}

GST_END_TEST;
#endif

/* Header and payload in separate buffers that upstream still holds (a
 * tee): the payload buffer dsdepay takes from its adapter is shared, and
 * must not be modified (gst-check fails on the CRITICAL) */
GST_START_TEST (test_shared_input_buffers)
{
  Depay *d = depay_new (NULL);
  guint8 *pic = make_picture (2, 2, 3);
  gfloat samples[4] = { 0.5f, -0.5f, 0.25f, -0.25f };
  struct
  {
    guint8 type;
    guint16 width, height;
    gconstpointer payload;
    gsize len;
    gint out;
  } frames[] = {
    {DS_FRAME_PIXELS, 2, 2, pic, 16, OUT_VIDEO},
    {DS_FRAME_AUDIO_PCM, 2, 8000, samples, sizeof (samples), OUT_AUDIO},
    {DS_FRAME_COMPRESSED_PIXELS, 1, 1, png_data, sizeof (png_data),
        OUT_IMAGE},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (frames); i++) {
    DsHeader hdr = { frames[i].type, DS_FLAG_KEYFRAME, 0, 0,
      frames[i].width, frames[i].height, frames[i].len
    };
    guint8 raw[DS_HEADER_SIZE];
    GstBuffer *head, *body, *out;

    ds_header_pack (&hdr, raw);
    head = gst_buffer_new_memdup (raw, DS_HEADER_SIZE);
    body = gst_buffer_new_memdup (frames[i].payload, frames[i].len);
    GST_BUFFER_PTS (body) = GST_CLOCK_TIME_NONE;
    fail_unless_equals_int (push (d, gst_buffer_ref (head)), GST_FLOW_OK);
    fail_unless_equals_int (push (d, gst_buffer_ref (body)), GST_FLOW_OK);

    fail_unless (d->out[frames[i].out] != NULL);
    out = gst_harness_pull (d->out[frames[i].out]);
    assert_buffer_equals (out, frames[i].payload, frames[i].len);
    /* what upstream still holds is as it was */
    fail_if (GST_CLOCK_TIME_IS_VALID (GST_BUFFER_PTS (body)));
    fail_if (GST_BUFFER_FLAG_IS_SET (body, GST_BUFFER_FLAG_DISCONT));
    fail_unless (gst_buffer_get_video_meta (body) == NULL);
    gst_buffer_unref (out);
    gst_buffer_unref (head);
    gst_buffer_unref (body);
  }

  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  g_free (pic);
  depay_free (d);
}

GST_END_TEST;

/* dsdepay keeps the last picture as the next delta's reference, but not
 * the buffer it pushed: downstream gets a writable buffer (in-place
 * elements do not copy the frame's metadata) and deltas still decode */
GST_START_TEST (test_pushed_picture_writable)
{
  Depay *d = depay_new (NULL);
  guint8 *p1 = make_picture (2, 2, 1), *p2 = make_picture (2, 2, 2);
  GstBuffer *out;
  GstMapInfo map;

  push (d, frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 2, 2, p1,
          16));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  fail_unless (gst_buffer_is_writable (out));
  assert_buffer_equals (out, p1, 16);
  /* downstream writing into the picture (the memory is then copied) does
   * not change the reference */
  fail_unless (gst_buffer_map (out, &map, GST_MAP_WRITE));
  memset (map.data, 0x5a, map.size);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);

  /* a decoded picture (dsdepay's own memory) too */
  push (d, delta_frame (0, 1, 2, 2, p2, p1));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  fail_unless (gst_buffer_is_writable (out));
  assert_buffer_equals (out, p2, 16);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_WRITE));
  memset (map.data, 0xa5, map.size);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);

  push (d, delta_frame (0, 2, 2, 2, p1, p2));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  fail_unless (gst_buffer_is_writable (out));
  assert_buffer_equals (out, p1, 16);
  gst_buffer_unref (out);

  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  g_free (p1);
  g_free (p2);
  depay_free (d);
}

GST_END_TEST;

/* A framerate change in the input caps gives new video caps at the next
 * picture, even at the same size */
GST_START_TEST (test_framerate_change)
{
  Depay *d = depay_new (NULL);
  guint8 *pic = make_picture (2, 2, 3);
  GstBuffer *out;

  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE
      ", media=video, width=2, height=2, framerate=30/1");
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 2, 2, pic, 16));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=2,height=2,"
      "framerate=30/1");

  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE
      ", media=video, width=2, height=2, framerate=15/1");
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 1, 66, 2, 2, pic, 16));
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=2,height=2,"
      "framerate=15/1");
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 15);
  gst_buffer_unref (out);

  /* same framerate again: no new caps */
  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE
      ", media=video, width=2, height=2, framerate=15/1");
  count_caps_events (d->out[OUT_VIDEO]);
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 2, 133, 2, 2, pic, 16));
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  fail_unless_equals_int (count_caps_events (d->out[OUT_VIDEO]), 0);

  g_free (pic);
  depay_free (d);
}

GST_END_TEST;

/* Pushes @n pictures at @interval_us apart starting at *@ts_us (jitter:
 * each timestamp off by up to @jitter_ms either way, from @rand), pulls
 * them and returns the framerate of the video caps after the last */
static void
push_pictures_at (Depay * d, guint n, guint64 interval_us, guint jitter_ms,
    GRand * rand, guint64 * ts_us, guint16 * seq, gint * fps_n, gint * fps_d)
{
  guint8 *pic = make_picture (2, 2, 1);
  GstStructure *s;
  GstCaps *caps;
  guint i;

  for (i = 0; i < n; i++) {
    gint64 ts = (gint64) (*ts_us / 1000);

    if (jitter_ms > 0 && ts > jitter_ms)
      ts += g_rand_int_range (rand, -(gint) jitter_ms, jitter_ms + 1);
    fail_unless_equals_int (push (d, frame_buffer (DS_FRAME_PIXELS, 2,
                (*seq)++, (guint32) ts, 2, 2, pic, 16)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
    *ts_us += interval_us;
  }
  caps = gst_pad_get_current_caps (d->out[OUT_VIDEO]->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_get_fraction (s, "framerate", fps_n, fps_d));
  gst_caps_unref (caps);
  g_free (pic);
}

/* No framerate in the input caps (dsstreamsrc, a recording): the video
 * caps say 0/1 until the rate is measured from the frame timestamps,
 * then the measured rate; a lasting change renegotiates, jitter does
 * not */
GST_START_TEST (test_framerate_measured)
{
  Depay *d = depay_new (NULL);
  GRand *rand = g_rand_new_with_seed (16);
  guint64 ts_us = 0;
  guint16 seq = 0;
  gint n, m;
  GstBuffer *out;
  guint8 *pic = make_picture (2, 2, 1);

  /* the first pictures: not known yet, and not held back */
  push_pictures_at (d, 3, 33333, 0, rand, &ts_us, &seq, &n, &m);
  fail_unless_equals_int (n, 0);
  fail_unless_equals_int (m, 1);
  /* 30 fps (timestamps 0, 33, 66, 100, ...) */
  push_pictures_at (d, 20, 33333, 0, rand, &ts_us, &seq, &n, &m);
  fail_unless_equals_int (n, 30);
  fail_unless_equals_int (m, 1);
  count_caps_events (d->out[OUT_VIDEO]);

  /* the picture duration follows */
  push (d, frame_buffer (DS_FRAME_PIXELS, 2, seq++, ts_us / 1000, 2, 2, pic,
          16));
  ts_us += 33333;
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 30);
  gst_buffer_unref (out);

  /* 15 fps: new caps once the change has lasted, and only once */
  push_pictures_at (d, 6, 66667, 0, rand, &ts_us, &seq, &n, &m);
  fail_unless_equals_int (n, 30);
  push_pictures_at (d, 24, 66667, 0, rand, &ts_us, &seq, &n, &m);
  fail_unless_equals_int (n, 15);
  fail_unless_equals_int (m, 1);
  fail_unless_equals_int (count_caps_events (d->out[OUT_VIDEO]), 1);

  /* back to 30 fps, with live jitter of up to 8 ms on every timestamp: 30/1
   * and no caps change on the way */
  push_pictures_at (d, 40, 33333, 8, rand, &ts_us, &seq, &n, &m);
  fail_unless_equals_int (n, 30);
  fail_unless_equals_int (m, 1);
  count_caps_events (d->out[OUT_VIDEO]);
  push_pictures_at (d, 200, 33333, 8, rand, &ts_us, &seq, &n, &m);
  fail_unless_equals_int (n, 30);
  fail_unless_equals_int (count_caps_events (d->out[OUT_VIDEO]), 0);

  g_free (pic);
  g_rand_free (rand);
  depay_free (d);
}

GST_END_TEST;

/* The table of snapping: what the millisecond timestamps of a sender at
 * each rate measure to (a 1000/1001 rate is whole unless the timestamps
 * can tell it) */
static const struct
{
  guint64 interval_ns;
  gint n, d;
} measured_rates[] = {
  {GST_SECOND / 60, 60, 1},
  {GST_SECOND / 25, 25, 1},
  {GST_SECOND / 24, 24, 1},
  {GST_SECOND / 10, 10, 1},
  {GST_SECOND * 1001 / 24000, 24, 1},
  {GST_SECOND * 1001 / 60000, 60, 1},
  {GST_SECOND / 30, 30, 1},
  {GST_SECOND * 10 / 75, 15, 2},
};

GST_START_TEST (test_framerate_measured_rates)
{
  Depay *d = depay_new (NULL);
  GRand *rand = g_rand_new_with_seed (1);
  guint64 ts_us = 0;
  guint16 seq = 0;
  gint n, m;

  push_pictures_at (d, 17, measured_rates[__i__].interval_ns / 1000, 0, rand,
      &ts_us, &seq, &n, &m);
  fail_unless (n == measured_rates[__i__].n && m == measured_rates[__i__].d,
      "%d/%d measured instead of %d/%d", n, m, measured_rates[__i__].n,
      measured_rates[__i__].d);

  g_rand_free (rand);
  depay_free (d);
}

GST_END_TEST;

/* Nothing linked at all: NOT_LINKED goes upstream like from a demuxer,
 * once a video or audio pad exists (a sparse signal pad alone does not
 * stop the stream: a channel's catch-up starts with a SignalSync before
 * the first picture, see test_delayed_linking) */
GST_START_TEST (test_not_linked)
{
  GstHarness *h = gst_harness_new_with_padnames ("dsdepay", "sink", NULL);
  guint8 *pic = make_picture (2, 2, 1);
  GstPad *video;

  gst_harness_set_src_caps_str (h, GST_DS_STREAM_MEDIA_TYPE);
  fail_unless_equals_int (gst_harness_push (h,
          signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"a\":1}")), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h,
          frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 2, 2, pic, 16)),
      GST_FLOW_NOT_LINKED);
  fail_unless_equals_int (gst_harness_push (h,
          signal_frame (DS_FRAME_SIGNAL_DIFF, 1, 10, "{\"a\":2}")),
      GST_FLOW_NOT_LINKED);

  /* one pad linked: the stream goes on */
  video = gst_element_get_static_pad (h->element, "video");
  fail_unless (video != NULL);
  {
    GstHarness *out = gst_harness_new_with_element (h->element, NULL, NULL);

    gst_harness_add_element_src_pad (out, video);
    fail_unless_equals_int (gst_harness_push (h,
            frame_buffer (DS_FRAME_PIXELS, 2, 1, 33, 2, 2, pic, 16)),
        GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (out));
    fail_unless_equals_int (gst_harness_push (h,
            signal_frame (DS_FRAME_SIGNAL_DIFF, 2, 40, "{\"a\":3}")),
        GST_FLOW_OK);
    gst_harness_teardown (out);
  }
  gst_object_unref (video);

  g_free (pic);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A byte stream with junk in it: a garbage prefix, a stray byte between
 * two frames, random junk between frames. Every header is checked before
 * its payload is waited for, so no bogus length swallows the stream: every
 * good frame after the junk comes out, with one warning per junk run. */
static GByteArray *
insert_junk (GByteArray * stream, const guint * before_frame,
    const guint8 * const *junk, const gsize * junk_len, guint n_junk)
{
  GByteArray *out = g_byte_array_new ();
  gsize offset = 0;
  guint frame = 0, j = 0;

  while (TRUE) {
    DsHeader hdr;

    for (; j < n_junk && before_frame[j] == frame; j++)
      g_byte_array_append (out, junk[j], junk_len[j]);
    if (offset >= stream->len)
      break;
    fail_unless (ds_header_parse (stream->data + offset, 16, &hdr, NULL));
    g_byte_array_append (out, stream->data + offset, 16 + hdr.payload_len);
    offset += 16 + hdr.payload_len;
    frame++;
  }
  return out;
}

GST_START_TEST (test_byte_stream_junk)
{
  GRand *rand = g_rand_new_with_seed (4242);
  guint n_frames, i, round;
  GByteArray *stream = make_stream (&n_frames);
  gchar *reference, *output;
  guint8 random_junk[3][37];
  Depay *d;

  d = depay_new (NULL);
  push (d, bytes_buffer (stream->data, stream->len));
  reference = collect_output (d);
  depay_free (d);

  for (i = 0; i < 3; i++) {
    guint j;

    for (j = 0; j < sizeof (random_junk[i]); j++)
      random_junk[i][j] = g_rand_int_range (rand, 0, 256);
  }

  for (round = 0; round < 3; round++) {
    static const guint8 one_byte[1] = { 0xab };
    /* a garbage prefix; a stray byte between frames 3 and 4; random junk
     * in front of frames 1, 4 and 6 */
    const guint before[3][3] = { {0}, {4}, {1, 4, 6} };
    const guint8 *junk[3][3] = {
      {one_byte}, {one_byte},
      {random_junk[0], random_junk[1], random_junk[2]}
    };
    const gsize junk_len[3][3] = {
      {1}, {1}, {sizeof (random_junk[0]), sizeof (random_junk[1]),
          sizeof (random_junk[2])}
    };
    const guint n_junk[3] = { 1, 1, 3 };
    GByteArray *damaged = insert_junk (stream, before[round], junk[round],
        junk_len[round], n_junk[round]);
    gsize offset;

    GST_INFO ("round %u", round);
    /* in one buffer, and in pieces of 7 bytes */
    d = depay_new (NULL);
    push (d, bytes_buffer (damaged->data, damaged->len));
    output = collect_output (d);
    fail_unless_equals_string (output, reference);
    fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING),
        n_junk[round]);
    g_free (output);
    depay_free (d);

    d = depay_new (NULL);
    for (offset = 0; offset < damaged->len; offset += 7)
      push (d, bytes_buffer (damaged->data + offset, MIN (7,
                  damaged->len - offset)));
    output = collect_output (d);
    fail_unless_equals_string (output, reference);
    g_free (output);
    depay_free (d);

    g_byte_array_unref (damaged);
  }

  g_free (reference);
  g_byte_array_unref (stream);
  g_rand_free (rand);
}

GST_END_TEST;

/* seq counts per sender per stream, and a stream is one kind of media
 * (docs/protocol.md §2): pictures (Pixels, DeltaPixels, CompressedPixels
 * share one counter), audio, signals (with SchemaAnnounce), other (Haptic,
 * Neural*). Interleaved counters are no gaps. */
GST_START_TEST (test_seq_per_stream)
{
  Depay *d = depay_new (NULL);
  guint8 *p0 = make_picture (2, 2, 0), *p1 = make_picture (2, 2, 1);
  gfloat samples[2] = { 0, 0 };
  guint8 haptic[3] = { 10, 0, 99 };
  guint n = 0;
  GstBuffer *out;

  push (d, frame_buffer (DS_FRAME_PIXELS, 2, 0, 0, 2, 2, p0, 16));
  push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0, 0, 1, 1, 8000, samples, 8));
  push (d, frame_buffer (DS_FRAME_SCHEMA_ANNOUNCE, 0, 0, 1, 0, 0,
          "{\"signals\":[\"a\"]}", 17));
  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 1, 2, "{\"a\":1}"));
  push (d, frame_buffer (DS_FRAME_COMPRESSED_PIXELS, 2, 1, 3, 1, 1, png_data,
          sizeof (png_data)));
  push (d, frame_buffer (DS_FRAME_HAPTIC, 0, 0, 4, 0, 0, haptic, 3));
  push (d, delta_frame (0, 2, 2, 2, p1, p0));
  push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0, 1, 5, 1, 8000, samples, 8));
  push (d, frame_buffer (DS_FRAME_NEURAL_LATENT, 0, 1, 6, 0, 0, "z", 1));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 2, 7, "{\"a\":2}"));
  push (d, frame_buffer (DS_FRAME_SCHEMA_ANNOUNCE, 0, 3, 8, 0, 0,
          "{\"signals\":[\"a\"]}", 17));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 4, 9, "{\"a\":3}"));
  push (d, delta_frame (0, 3, 2, 2, p0, p1));
  push (d, frame_buffer (DS_FRAME_HAPTIC, 0, 2, 10, 0, 0, haptic, 3));

  fail_unless_equals_uint64 (get_stat (d, "gaps"), 0);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 0);
  fail_unless_equals_int (count_force_key_units (d), 0);
  while ((out = gst_harness_try_pull (d->out[OUT_VIDEO]))) {
    fail_unless (n > 0 || GST_BUFFER_FLAG_IS_SET (out,
            GST_BUFFER_FLAG_DISCONT));
    fail_unless (n == 0 || !GST_BUFFER_FLAG_IS_SET (out,
            GST_BUFFER_FLAG_DISCONT));
    assert_buffer_equals (out, n % 2 ? p1 : p0, 16);
    gst_buffer_unref (out);
    n++;
  }
  fail_unless_equals_int (n, 3);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);

  /* a gap on one stream is that stream's only */
  push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0, 5, 11, 1, 8000, samples, 8));
  fail_unless_equals_uint64 (get_stat (d, "gaps"), 3);
  push (d, delta_frame (0, 4, 2, 2, p1, p0));
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 0);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, p1, 16);
  gst_buffer_unref (out);

  g_free (p0);
  g_free (p1);
  depay_free (d);
}

GST_END_TEST;

static gboolean
pull_signal (Depay * d, const gchar * key, gint64 value, gboolean corrupted)
{
  GstBuffer *out = gst_harness_pull (d->out[OUT_SIGNAL]);
  JsonObject *obj;
  gboolean ok;

  fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (out,
          GST_BUFFER_FLAG_CORRUPTED), corrupted);
  obj = parse_line (out);
  ok = json_object_has_member (obj, key) &&
      json_object_get_int_member (obj, key) == value;
  json_object_unref (obj);
  return ok;
}

/* A gap on the signal stream followed by a SignalDiff, or a flush: the
 * merged state may be stale. dsdepay goes on outputting it, flagged
 * CORRUPTED, posts a warning, counts it, and asks upstream for a
 * SignalSync (ForceKeyUnit), which makes it whole again. A SignalSync
 * right after a gap is fine. */
GST_START_TEST (test_signal_incomplete)
{
  Depay *d = depay_new (NULL);
  GstSegment segment;

  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 0, "{\"a\":1,\"b\":1}"));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 1, 1, "{\"a\":2}"));
  fail_unless (pull_signal (d, "b", 1, FALSE));
  fail_unless (pull_signal (d, "a", 2, FALSE));
  fail_unless_equals_int (count_force_key_units (d), 0);

  /* seq 2 lost: the diff after it merges onto a state that may be stale */
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 3, 3, "{\"b\":5}"));
  fail_unless (pull_signal (d, "b", 5, TRUE));
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);
  fail_unless_equals_int (count_force_key_units (d), 1);
  fail_unless_equals_uint64 (get_stat (d, "signal-incomplete"), 1);
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 4, 4, "{\"b\":6}"));
  fail_unless (pull_signal (d, "b", 6, TRUE));
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  fail_unless_equals_int (count_force_key_units (d), 0);

  /* the SignalSync that answers makes it whole */
  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 5, 5, "{\"a\":9}"));
  fail_unless (pull_signal (d, "a", 9, FALSE));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 6, 6, "{\"b\":7}"));
  fail_unless (pull_signal (d, "b", 7, FALSE));

  /* a SignalSync after a gap (what the relay sends a slow receiver) */
  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 9, 9, "{\"c\":1}"));
  fail_unless (pull_signal (d, "c", 1, FALSE));
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 10, 10, "{\"c\":2}"));
  fail_unless (pull_signal (d, "c", 2, FALSE));
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  fail_unless_equals_int (count_force_key_units (d), 0);

  /* a flush: what comes after is somewhere else in the stream */
  fail_unless (gst_harness_push_event (d->h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (d->h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (d->h, gst_event_new_segment (&segment)));
  {
    GstEvent *event;

    while ((event = gst_harness_try_pull_event (d->out[OUT_SIGNAL])))
      gst_event_unref (event);
  }
  push (d, signal_frame (DS_FRAME_SIGNAL_DIFF, 40, 40, "{\"d\":1}"));
  {
    GstBuffer *out = gst_harness_pull (d->out[OUT_SIGNAL]);
    JsonObject *obj;

    fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_CORRUPTED));
    obj = parse_line (out);
    /* the state from before the flush is gone */
    fail_if (json_object_has_member (obj, "c"));
    fail_unless_equals_int (json_object_get_int_member (obj, "d"), 1);
    json_object_unref (obj);
  }
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);
  fail_unless_equals_int (count_force_key_units (d), 1);
  fail_unless_equals_uint64 (get_stat (d, "signal-incomplete"), 2);
  push (d, signal_frame (DS_FRAME_SIGNAL_SYNC, 41, 41, "{\"e\":1}"));
  fail_unless (pull_signal (d, "e", 1, FALSE));

  depay_free (d);
}

GST_END_TEST;

/* The pipeline clock stands still (an audio sink's clock in PAUSED): the
 * keyframe requests repeat all the same, on the system clock */
GST_START_TEST (test_keyframe_request_clock_stopped)
{
  Depay *d = depay_new (NULL);
  guint8 *p0 = make_picture (4, 4, 0), *p1 = make_picture (4, 4, 1);
  GstTestClock *system_clock = GST_TEST_CLOCK (gst_test_clock_new ());
  GstClock *pipeline_clock = GST_CLOCK (gst_harness_get_testclock (d->h));
  GstClockTime pipeline_time = gst_clock_get_time (pipeline_clock);

  gst_system_clock_set_default (GST_CLOCK (system_clock));

  push (d, delta_frame (0, 0, 4, 4, p1, p0));
  fail_unless_equals_int (count_force_key_units (d), 1);
  /* the repeat waits on the system clock, not on the pipeline's */
  fail_unless_equals_int (gst_test_clock_peek_id_count (system_clock), 1);
  fail_unless_equals_int (gst_test_clock_peek_id_count (GST_TEST_CLOCK
          (pipeline_clock)), 0);
  fail_unless (gst_test_clock_crank (system_clock));
  fail_unless_equals_int (count_force_key_units (d), 1);
  fail_unless (gst_test_clock_crank (system_clock));
  fail_unless_equals_int (count_force_key_units (d), 1);
  fail_unless_equals_uint64 (gst_clock_get_time (pipeline_clock),
      pipeline_time);

  depay_free (d);
  gst_system_clock_set_default (NULL);
  gst_object_unref (system_clock);
  gst_object_unref (pipeline_clock);
  g_free (p0);
  g_free (p1);
}

GST_END_TEST;

/* Junk that holds something looking like a frame header (a Neural frame
 * claiming 4000 bytes): while looking for the next frame, a header counts
 * only when another plausible header follows its frame (or its frame ends
 * the stream), so the fake one does not swallow the good frames after it */
GST_START_TEST (test_byte_stream_fake_header_in_junk)
{
  guint n_frames;
  GByteArray *stream = make_stream (&n_frames);
  GByteArray *damaged = g_byte_array_new ();
  DsHeader fake = { DS_FRAME_NEURAL_LATENT, 0, 0, 0, 0, 0, 4000 };
  guint8 raw[DS_HEADER_SIZE];
  gchar *reference, *output;
  gsize offset;
  Depay *d;

  d = depay_new (NULL);
  push (d, bytes_buffer (stream->data, stream->len));
  reference = collect_output (d);
  depay_free (d);

  ds_header_pack (&fake, raw);
  g_byte_array_append (damaged, (const guint8 *) "\xff\xfe", 2);
  g_byte_array_append (damaged, raw, DS_HEADER_SIZE);
  g_byte_array_append (damaged, stream->data, stream->len);

  d = depay_new (NULL);
  push (d, bytes_buffer (damaged->data, damaged->len));
  gst_harness_push_event (d->h, gst_event_new_eos ());
  output = collect_output (d);
  fail_unless_equals_string (output, reference);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 1);
  g_free (output);
  depay_free (d);

  /* in small pieces */
  d = depay_new (NULL);
  for (offset = 0; offset < damaged->len; offset += 5)
    push (d, bytes_buffer (damaged->data + offset, MIN (5,
                damaged->len - offset)));
  gst_harness_push_event (d->h, gst_event_new_eos ());
  output = collect_output (d);
  fail_unless_equals_string (output, reference);
  g_free (output);
  depay_free (d);

  /* junk, then a last frame that ends the stream: taken at EOS */
  g_byte_array_set_size (damaged, 0);
  g_byte_array_append (damaged, (const guint8 *) "\xff\xfe", 2);
  {
    GBytes *last = frame_bytes (DS_FRAME_SIGNAL_SYNC, 0, 0, 0, 0, 0,
        "{\"z\":1}", 7);
    gsize len;
    const guint8 *data = g_bytes_get_data (last, &len);

    g_byte_array_append (damaged, data, len);
    g_bytes_unref (last);
  }
  d = depay_new (NULL);
  push (d, bytes_buffer (damaged->data, damaged->len));
  gst_harness_push_event (d->h, gst_event_new_eos ());
  fail_unless (d->out[OUT_SIGNAL] != NULL);
  {
    JsonObject *obj = parse_line (gst_harness_pull (d->out[OUT_SIGNAL]));

    fail_unless_equals_int (json_object_get_int_member (obj, "z"), 1);
    json_object_unref (obj);
  }
  depay_free (d);

  g_byte_array_unref (damaged);
  g_free (reference);
  g_byte_array_unref (stream);
}

GST_END_TEST;

/* Allocation */

/* The video harness's answer to an ALLOCATION query: a new pool each
 * time, configured for the caps as a sink does before it offers one,
 * with padded rows when the case asks for them */
static gboolean
offer_pool_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  Depay *d = g_object_get_data (G_OBJECT (pad), "depay");
  GstStructure *config;
  GstVideoInfo info;
  GstCaps *caps;
  guint size;

  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return d->harness_query (pad, parent, query);

  gst_query_parse_allocation (query, &caps, NULL);
  fail_unless (caps != NULL);
  fail_unless (gst_video_info_from_caps (&info, caps));
  d->allocation_queries++;

  gst_clear_object (&d->offered_pool);
  d->offered_pool = gst_video_buffer_pool_new ();
  config = gst_buffer_pool_get_config (d->offered_pool);
  gst_buffer_pool_config_set_params (config, caps, info.size, 0, 0);
  if (d->offer->video_meta)
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (d->offer->padding > 0) {
    GstVideoAlignment align;

    gst_video_alignment_reset (&align);
    align.padding_right = d->offer->padding;
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
    gst_buffer_pool_config_set_video_alignment (config, &align);
  }
  fail_unless (gst_buffer_pool_set_config (d->offered_pool, config));
  config = gst_buffer_pool_get_config (d->offered_pool);
  fail_unless (gst_buffer_pool_config_get_params (config, NULL, &size, NULL,
          NULL));
  gst_structure_free (config);

  gst_query_add_allocation_pool (query, d->offered_pool, size, 0, 0);
  if (d->offer->video_meta)
    gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return TRUE;
}

/* @out is the RGBA picture @want, with a GstVideoMeta of @stride */
static void
assert_picture (GstBuffer * out, const guint8 * want, guint w, guint h,
    gint stride)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (out);
  GstVideoFrame frame;
  GstVideoInfo info;
  guint y;

  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->stride[0], stride);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGBA, w, h);
  fail_unless (gst_video_frame_map (&frame, &info, out, GST_MAP_READ));
  for (y = 0; y < h; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame,
        0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    fail_unless (memcmp (row, want + y * w * 4, w * 4) == 0, "row %u", y);
  }
  gst_video_frame_unmap (&frame);
}

static const AllocationCase allocation_cases[] = {
  {"pool with GstVideoMeta, tight rows", TRUE, 0},
  {"pool with GstVideoMeta, rows padded by 64 bytes", TRUE, 16},
  {"pool without GstVideoMeta", FALSE, 0},
};

/* dsdepay asks downstream for a pool (ALLOCATION query) and decodes its
 * delta pictures into the pool offered when downstream reads
 * GstVideoMeta, whatever its stride (rows are copied one by one into a
 * padded picture, and the reference stays tight); without GstVideoMeta
 * it uses a pool of its own. Pixels frames stay without a copy. */
GST_START_TEST (test_allocation)
{
  const AllocationCase *c = &allocation_cases[__i__];
  const guint w = 5, h = 3;
  const gsize n = w * h * 4;
  const gint pool_stride = (w + c->padding) * 4;
  Depay *d = depay_new (NULL);
  guint8 *p[4];
  struct
  {
    guint picture;
    gboolean from_pool;
  } expected[] = {
    {0, TRUE}, {1, TRUE}, {2, TRUE}, {3, FALSE}, {0, TRUE}, {1, TRUE},
  };
  GstBuffer *out;
  guint i;

  GST_INFO ("case: %s", c->name);
  d->offer = c;
  for (i = 0; i < G_N_ELEMENTS (p); i++)
    p[i] = make_picture (w, h, i + 1);

  /* a keyframe delta, the first picture of its caps, then deltas */
  push (d, delta_frame (DS_FLAG_KEYFRAME, 0, w, h, p[0], NULL));
  push (d, delta_frame (0, 1, w, h, p[1], p[0]));
  push (d, delta_frame (0, 2, w, h, p[2], p[1]));
  /* a Pixels frame goes out without a copy, and is the next reference */
  push (d, frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 3, 30, w, h, p[3],
          n));
  push (d, delta_frame (0, 4, w, h, p[0], p[3]));
  push (d, delta_frame (0, 5, w, h, p[1], p[0]));

  for (i = 0; i < G_N_ELEMENTS (expected); i++) {
    out = gst_harness_pull (d->out[OUT_VIDEO]);
    fail_unless (out != NULL);
    if (!expected[i].from_pool) {
      fail_if (out->pool != NULL && out->pool == d->offered_pool);
      assert_picture (out, p[expected[i].picture], w, h, w * 4);
    } else if (c->video_meta) {
      fail_unless (out->pool == d->offered_pool, "picture %u is not from "
          "the pool downstream offered", i);
      assert_picture (out, p[expected[i].picture], w, h, pool_stride);
    } else {
      fail_unless (out->pool != NULL && out->pool != d->offered_pool);
      assert_picture (out, p[expected[i].picture], w, h, w * 4);
    }
    gst_buffer_unref (out);
  }

  fail_unless (d->allocation_queries > 0);
  fail_unless_equals_uint64 (get_stat (d, "dropped"), 0);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_ERROR), 0);

  for (i = 0; i < G_N_ELEMENTS (p); i++)
    g_free (p[i]);
  depay_free (d);
}

GST_END_TEST;

/* The pool is decided when the video caps are new, before a picture
 * goes out with them: a query behind a picture would wait for a sink
 * waiting for its preroll, while the other sink waits for the signal
 * frame behind the query */
GST_START_TEST (test_allocation_during_preroll)
{
  GstElement *pipeline, *src, *video, *signal;
  guint8 *p0 = make_picture (4, 2, 1), *p1 = make_picture (4, 2, 2);
  GstBuffer *frames[3];
  GstSample *sample;
  GError *error = NULL;
  guint i;

  pipeline = gst_parse_launch ("appsrc name=src format=time caps="
      GST_DS_STREAM_MEDIA_TYPE " ! dsdepay name=d "
      "d.video ! queue ! appsink name=v sync=false "
      "d.signal ! queue ! appsink name=s sync=false", &error);
  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  video = gst_bin_get_by_name (GST_BIN (pipeline), "v");
  signal = gst_bin_get_by_name (GST_BIN (pipeline), "s");
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_ASYNC);

  frames[0] = frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 4, 2, p0,
      32);
  frames[1] = delta_frame (0, 1, 4, 2, p1, p0);
  frames[2] = signal_frame (DS_FRAME_SIGNAL_SYNC, 0, 20, "{\"a\":1}");
  for (i = 0; i < G_N_ELEMENTS (frames); i++) {
    GST_BUFFER_PTS (frames[i]) = i * 10 * GST_MSECOND;
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
            frames[i]), GST_FLOW_OK);
  }

  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  for (i = 0; i < 2; i++) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (video),
        10 * GST_SECOND);
    fail_unless (sample != NULL, "picture %u did not arrive", i);
    assert_buffer_equals (gst_sample_get_buffer (sample), i ? p1 : p0, 32);
    gst_sample_unref (sample);
  }
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (signal),
      10 * GST_SECOND);
  fail_unless (sample != NULL);
  gst_sample_unref (sample);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (video);
  gst_object_unref (signal);
  gst_object_unref (pipeline);
  g_free (p0);
  g_free (p1);
}

GST_END_TEST;

/* A warning says in words what happened to the user's stream (the
 * translated message) and gives the detail for the developer */
GST_START_TEST (test_warning_message)
{
  Depay *d = depay_new (NULL);
  guint8 payload[10] = { 0, };
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;

  /* a Pixels frame whose payload is not width x height x 4 */
  push (d, frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 2, 2,
          payload, sizeof (payload)));
  msg = gst_bus_pop_filtered (d->bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &error, &debug);
  fail_unless (g_error_matches (error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE));
  fail_unless_equals_string (error->message,
      "Malformed data in the ds-stream was skipped.");
  fail_unless (debug != NULL && strstr (debug, "Pixels") != NULL, "%s", debug);
  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);

  depay_free (d);
}

GST_END_TEST;

/* EncodedVideo (issue 14) */

/* An EncodedVideo frame of @codec with a short made-up unit; @reserved
 * and @unit_len (0: no unit at all) make bad ones */
static GstBuffer *
encoded_frame (guint8 codec, guint8 reserved, gboolean key, guint16 seq,
    guint16 w, guint16 h, guint8 unit_byte, gsize unit_len)
{
  guint8 payload[16] = { codec, reserved, 0, 0, 0, 1, unit_byte };

  g_assert (unit_len <= sizeof (payload) - 2);
  return frame_buffer (DS_FRAME_ENCODED_VIDEO, key ? DS_FLAG_KEYFRAME : 0,
      seq, seq * 33, w, h, payload, 2 + unit_len);
}

/* the unit of encoded_frame() with @unit_byte, @unit_len 5 */
static void
assert_unit (GstBuffer * buffer, guint8 unit_byte, gboolean key)
{
  const guint8 unit[5] = { 0, 0, 0, 1, unit_byte };

  assert_buffer_equals (buffer, unit, sizeof (unit));
  fail_unless_equals_int (!GST_BUFFER_FLAG_IS_SET (buffer,
          GST_BUFFER_FLAG_DELTA_UNIT), key);
  gst_buffer_unref (buffer);
}

/* One buffer per unit, the delta flag from FLAG_KEYFRAME, caps of the
 * codec with the size and the input framerate; a delta unit before the
 * first keyframe or after a gap is skipped until the next keyframe; a new
 * codec or size renegotiates */
GST_START_TEST (test_encoded_video)
{
  Depay *d = depay_new (NULL);

  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE
      ",media=video,framerate=30/1");
  /* a delta before any keyframe: skipped */
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_H264, 0, FALSE, 0,
              64, 48, 0x41, 5)), GST_FLOW_OK);
  fail_unless (d->out[OUT_VIDEO] == NULL);
  fail_unless_equals_int (get_stat (d, "dropped"), 1);

  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_H264, 0, TRUE, 1,
              64, 48, 0x65, 5)), GST_FLOW_OK);
  fail_unless (d->out[OUT_VIDEO] != NULL);
  assert_caps (d->out[OUT_VIDEO], "video/x-h264, stream-format=byte-stream, "
      "alignment=au, width=64, height=48, framerate=30/1");
  assert_unit (gst_harness_pull (d->out[OUT_VIDEO]), 0x65, TRUE);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_H264, 0, FALSE, 2,
              64, 48, 0x41, 5)), GST_FLOW_OK);
  assert_unit (gst_harness_pull (d->out[OUT_VIDEO]), 0x41, FALSE);

  /* seq 3 lost: skipped until the next keyframe */
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_H264, 0, FALSE, 4,
              64, 48, 0x41, 5)), GST_FLOW_OK);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_H264, 0, FALSE, 5,
              64, 48, 0x41, 5)), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_int (get_stat (d, "dropped"), 3);
  /* the receiver asks for one */
  fail_unless (count_force_key_units (d) >= 1);

  /* a new codec and size: new caps */
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP8, 0, TRUE, 6,
              32, 16, 0x10, 5)), GST_FLOW_OK);
  assert_caps (d->out[OUT_VIDEO], "video/x-vp8, width=32, height=16, "
      "framerate=30/1");
  assert_unit (gst_harness_pull (d->out[OUT_VIDEO]), 0x10, TRUE);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP8, 0, FALSE, 7,
              32, 16, 0x11, 5)), GST_FLOW_OK);
  assert_unit (gst_harness_pull (d->out[OUT_VIDEO]), 0x11, FALSE);
  /* a Keyframe frame (0xF0) resets: deltas wait for the next keyframe */
  fail_unless_equals_int (push (d, frame_buffer (DS_FRAME_KEYFRAME, 0, 0, 300,
              0, 0, NULL, 0)), GST_FLOW_OK);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP8, 0, FALSE, 8,
              32, 16, 0x12, 5)), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_AV1, 0, TRUE, 9,
              32, 16, 0x12, 5)), GST_FLOW_OK);
  assert_caps (d->out[OUT_VIDEO], "video/x-av1, stream-format=obu-stream, "
      "alignment=tu, width=32, height=16, framerate=30/1");
  assert_unit (gst_harness_pull (d->out[OUT_VIDEO]), 0x12, TRUE);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 0);

  depay_free (d);
}

GST_END_TEST;

/* An H.264 keyframe unit with SPS (profile_idc, constraint flags,
 * level_idc) @sps; the caps get that profile and level (openh264dec
 * links only with a profile it knows), kept for the delta units and
 * renegotiated when a new SPS says otherwise */
static GstBuffer *
h264_keyframe (guint16 seq, const guint8 sps[3])
{
  guint8 payload[] = { DS_CODEC_H264, 0, 0, 0, 0, 1, 0x67, sps[0], sps[1],
    sps[2], 0xac, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88
  };

  return frame_buffer (DS_FRAME_ENCODED_VIDEO, DS_FLAG_KEYFRAME, seq,
      seq * 33, 64, 48, payload, sizeof (payload));
}

GST_START_TEST (test_encoded_h264_profile)
{
  const guint8 constrained_baseline_3[3] = { 66, 0xc0, 30 };
  const guint8 high_4[3] = { 100, 0, 40 };
  Depay *d = depay_new (NULL);
  GstBuffer *out;

  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE
      ",media=video,framerate=30/1");
  fail_unless_equals_int (push (d, h264_keyframe (0, constrained_baseline_3)),
      GST_FLOW_OK);
  assert_caps (d->out[OUT_VIDEO], "video/x-h264, stream-format=byte-stream, "
      "alignment=au, profile=constrained-baseline, level=(string)3, "
      "width=64, height=48, framerate=30/1");
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  fail_unless_equals_int (gst_buffer_get_size (out), 19);
  gst_buffer_unref (out);
  /* a delta unit keeps them */
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_H264, 0, FALSE, 1,
              64, 48, 0x41, 5)), GST_FLOW_OK);
  assert_unit (gst_harness_pull (d->out[OUT_VIDEO]), 0x41, FALSE);
  assert_caps (d->out[OUT_VIDEO], "video/x-h264, stream-format=byte-stream, "
      "alignment=au, profile=constrained-baseline, level=(string)3, "
      "width=64, height=48, framerate=30/1");
  /* another SPS: new caps */
  fail_unless_equals_int (push (d, h264_keyframe (2, high_4)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (d->out[OUT_VIDEO]));
  assert_caps (d->out[OUT_VIDEO], "video/x-h264, stream-format=byte-stream, "
      "alignment=au, profile=high, level=(string)4, width=64, height=48, "
      "framerate=30/1");
  depay_free (d);
}

GST_END_TEST;

/* Units that are not units (unknown codec, reserved byte set, no unit
 * after the prefix, FLAG_COMPRESSED) are logged and skipped, never
 * pushed; the units after them wait for a keyframe */
GST_START_TEST (test_encoded_video_malformed)
{
  Depay *d = depay_new (NULL);
  GstBuffer *compressed;

  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP9, 0, TRUE, 0,
              64, 48, 0x82, 5)), GST_FLOW_OK);
  assert_unit (gst_harness_pull (d->out[OUT_VIDEO]), 0x82, TRUE);

  fail_unless_equals_int (push (d, encoded_frame (9, 0, FALSE, 1, 64, 48,
              0x86, 5)), GST_FLOW_OK);
  fail_unless_equals_int (push (d, encoded_frame (0, 0, TRUE, 2, 64, 48,
              0x82, 5)), GST_FLOW_OK);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP9, 1, TRUE, 3,
              64, 48, 0x82, 5)), GST_FLOW_OK);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP9, 0, TRUE, 4,
              64, 48, 0x82, 0)), GST_FLOW_OK);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP9, 0, TRUE, 5,
              0, 48, 0x82, 5)), GST_FLOW_OK);
  compressed = encoded_frame (DS_CODEC_VP9, 0, TRUE, 6, 64, 48, 0x82, 5);
  gst_buffer_memset (compressed, 1, DS_FLAG_KEYFRAME | DS_FLAG_COMPRESSED, 1);
  fail_unless_equals_int (push (d, compressed), GST_FLOW_OK);
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING), 6);
  fail_unless_equals_int (get_stat (d, "malformed"), 6);
  /* the unit after a bad one may depend on it */
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP9, 0, FALSE, 7,
              64, 48, 0x86, 5)), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (d->out[OUT_VIDEO]) == NULL);
  fail_unless_equals_int (push (d, encoded_frame (DS_CODEC_VP9, 0, TRUE, 8,
              64, 48, 0x82, 5)), GST_FLOW_OK);
  assert_unit (gst_harness_pull (d->out[OUT_VIDEO]), 0x82, TRUE);

  depay_free (d);
}

GST_END_TEST;

/* A recording's pads are discovered before anything flows out (parsed
 * input, as dsparse sends it): what is held until no-more-pads */

static Depay *
depay_new_parsed (void)
{
  Depay *d = depay_new (NULL);

  gst_harness_set_src_caps_str (d->h, GST_DS_STREAM_MEDIA_TYPE
      ", parsed=(boolean)true");
  return d;
}

/* What reaches the video harness: each picture fits the caps before it */
typedef struct
{
  GstVideoInfo info;
  gboolean have_caps;
  guint pictures;
} PictureCheck;

static GstPadProbeReturn
check_picture_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  PictureCheck *check = user_data;
  GstVideoMeta *meta;
  GstBuffer *buffer;
  guint width, height;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    GstCaps *caps;

    if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
      gst_event_parse_caps (event, &caps);
      fail_unless (gst_video_info_from_caps (&check->info, caps));
      check->have_caps = TRUE;
    }
    return GST_PAD_PROBE_OK;
  }

  buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  fail_unless (check->have_caps, "a picture before its caps");
  width = GST_VIDEO_INFO_WIDTH (&check->info);
  height = GST_VIDEO_INFO_HEIGHT (&check->info);
  meta = gst_buffer_get_video_meta (buffer);
  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->width, width);
  fail_unless_equals_int (meta->height, height);
  fail_unless (meta->stride[0] >= (gint) width * 4);
  fail_unless (meta->offset[0] + (gsize) meta->stride[0] * (height - 1) +
      width * 4 <= gst_buffer_get_size (buffer),
      "a %ux%u picture in a buffer of %" G_GSIZE_FORMAT " bytes", width,
      height, gst_buffer_get_size (buffer));
  check->pictures++;
  return GST_PAD_PROBE_OK;
}

static void
add_picture_check (Depay * d, PictureCheck * check)
{
  fail_unless (d->out[OUT_VIDEO] != NULL);
  gst_pad_add_probe (d->out[OUT_VIDEO]->sinkpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, check_picture_probe, check, NULL);
}

/* A new picture size while the pads are discovered: the pool is decided
 * for the new size although its caps are still held */
GST_START_TEST (test_discovery_size_change)
{
  Depay *d = depay_new_parsed ();
  guint8 *small = make_picture (4, 4, 1), *large = make_picture (8, 8, 2);
  PictureCheck check = { 0, };
  GstBuffer *out;

  fail_unless_equals_int (push (d, delta_frame (DS_FLAG_KEYFRAME, 0, 4, 4,
              small, NULL)), GST_FLOW_OK);
  add_picture_check (d, &check);
  fail_unless_equals_int (push (d, delta_frame (DS_FLAG_KEYFRAME, 1, 8, 8,
              large, NULL)), GST_FLOW_OK);
  /* held until no-more-pads */
  fail_unless_equals_int (gst_harness_buffers_received (d->out[OUT_VIDEO]), 0);
  fail_unless (gst_harness_push_event (d->h, gst_event_new_eos ()));

  fail_unless_equals_int (check.pictures, 2);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, small, 64);
  gst_buffer_unref (out);
  out = gst_harness_pull (d->out[OUT_VIDEO]);
  assert_buffer_equals (out, large, 256);
  gst_buffer_unref (out);
  assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=8,height=8,"
      "framerate=0/1");
  fail_unless_equals_int (count_messages (d, GST_MESSAGE_WARNING |
          GST_MESSAGE_ERROR), 0);

  g_free (small);
  g_free (large);
  depay_free (d);
}

GST_END_TEST;

/* A short recording goes out at its End or EOS: downstream's flow error
 * there is not lost */
GST_START_TEST (test_discovery_flow_error)
{
  guint8 *pic = make_picture (2, 2, 1);
  gint ending;

  for (ending = 0; ending < 2; ending++) {
    Depay *d = depay_new_parsed ();

    fail_unless_equals_int (push (d, frame_buffer (DS_FRAME_PIXELS,
                DS_FLAG_KEYFRAME, 0, 0, 2, 2, pic, 16)), GST_FLOW_OK);
    /* caps it does not take */
    gst_harness_set_sink_caps_str (d->out[OUT_VIDEO], "video/x-other");
    if (ending == 0) {
      /* an End frame: the chain returns the error */
      fail_unless_equals_int (push (d, frame_buffer (DS_FRAME_END, 0, 1, 100,
                  0, 0, NULL, 0)), GST_FLOW_NOT_NEGOTIATED);
    } else {
      /* EOS: posted, as a source or demuxer does */
      gst_harness_push_event (d->h, gst_event_new_eos ());
      fail_unless_equals_int (count_messages (d, GST_MESSAGE_ERROR), 1);
    }
    fail_unless_equals_int (gst_harness_buffers_received (d->out[OUT_VIDEO]),
        0);
    depay_free (d);
  }
  g_free (pic);
}

GST_END_TEST;

/* Caps that were held when a flush dropped them go out again before the
 * next picture; so does what was held and met a pad already flushing (a
 * flushing pad keeps caps, not a segment) */
GST_START_TEST (test_discovery_flush)
{
  guint8 *small = make_picture (4, 4, 1), *large = make_picture (8, 8, 2);
  gint refused;

  for (refused = 0; refused < 2; refused++) {
    Depay *d = depay_new_parsed ();
    PictureCheck check = { 0, };
    GstSegment segment;
    GstPad *video;

    push (d, frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 4, 4,
            small, 64));
    add_picture_check (d, &check);
    /* the caps of 8x8 are held behind the first picture */
    push (d, frame_buffer (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 1, 10, 8, 8,
            large, 256));
    if (refused) {
      /* the video pad flushes first (FLUSH_START on its way from
       * upstream): at EOS, what was held meets a flushing pad */
      video = gst_element_get_static_pad (d->h->element, "video");
      fail_unless (gst_pad_push_event (video, gst_event_new_flush_start ()));
      gst_object_unref (video);
      gst_harness_push_event (d->h, gst_event_new_eos ());
    }
    /* a seek (when refused, the video pad had its FLUSH_START already) */
    gst_harness_push_event (d->h, gst_event_new_flush_start ());
    fail_unless (gst_harness_push_event (d->h,
            gst_event_new_flush_stop (TRUE)));
    gst_segment_init (&segment, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (d->h,
            gst_event_new_segment (&segment)));
    fail_unless_equals_int (push (d, frame_buffer (DS_FRAME_PIXELS,
                DS_FLAG_KEYFRAME, 0, 10, 8, 8, large, 256)), GST_FLOW_OK);
    fail_unless_equals_int (push (d, frame_buffer (DS_FRAME_PIXELS,
                DS_FLAG_KEYFRAME, 1, 20, 8, 8, large, 256)), GST_FLOW_OK);
    gst_harness_push_event (d->h, gst_event_new_eos ());

    fail_unless_equals_int (check.pictures, 2);
    assert_caps (d->out[OUT_VIDEO], "video/x-raw,format=RGBA,width=8,"
        "height=8,framerate=0/1");
    depay_free (d);
  }
  g_free (small);
  g_free (large);
}

GST_END_TEST;

static void
no_more_pads_cb (GstElement * element, guint * at)
{
  *at = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (element), "pushed"));
}

/* A recording of tiny frames that all have the same timestamp: what is
 * held is bounded by its number too, not only by its bytes */
GST_START_TEST (test_discovery_bounded)
{
  Depay *d = depay_new_parsed ();
  gfloat sample = 0.5f;
  guint i, no_more_pads_at = 0;

  g_signal_connect (d->h->element, "no-more-pads",
      G_CALLBACK (no_more_pads_cb), &no_more_pads_at);
  for (i = 1; i <= 10000; i++) {
    g_object_set_data (G_OBJECT (d->h->element), "pushed",
        GUINT_TO_POINTER (i));
    fail_unless_equals_int (push (d, frame_buffer (DS_FRAME_AUDIO_PCM, 0,
                i, 0, 1, 48000, &sample, sizeof (sample))), GST_FLOW_OK);
  }
  fail_unless (no_more_pads_at > 0, "10000 frames are still held");
  fail_unless (no_more_pads_at <= 4096, "no-more-pads after %u frames",
      no_more_pads_at);
  fail_unless_equals_int (gst_harness_buffers_received (d->out[OUT_AUDIO]),
      10000);
  depay_free (d);
}

GST_END_TEST;

static Suite *
dsdepay_suite (void)
{
  Suite *s = suite_create ("dsdepay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_pixels_zero_copy);
  tcase_add_test (tc, test_opaque_pictures);
  tcase_add_test (tc, test_renegotiation);
  tcase_add_test (tc, test_framerate_from_input_caps);
  tcase_add_test (tc, test_image);
  tcase_add_test (tc, test_audio);
  tcase_add_test (tc, test_signals);
  tcase_add_test (tc, test_haptic_and_skipped);
  tcase_add_test (tc, test_byte_stream_split);
  tcase_add_test (tc, test_damaged_streams);
  tcase_add_loop_test (tc, test_malformed, 0, G_N_ELEMENTS (malformed_cases));
  tcase_add_test (tc, test_warning_message);
  tcase_add_test (tc, test_hostile_signal_json);
  tcase_add_test (tc, test_resync_after_oversized_header);
  tcase_add_test (tc, test_eos_mid_frame_and_no_media);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_timestamps);
  tcase_add_test (tc, test_seq_gaps);
  tcase_add_test (tc, test_keyframe_reset);
  tcase_add_test (tc, test_end);
  tcase_add_test (tc, test_navigation);
  tcase_add_test (tc, test_delayed_linking);
  tcase_add_test (tc, test_round_trip_dspay);
  tcase_add_test (tc, test_round_trip_dsdelta);
  tcase_add_test (tc, test_delta_chain);
  tcase_add_test (tc, test_delta_handmade);
  tcase_add_test (tc, test_delta_missing_reference);
  tcase_add_test (tc, test_delta_seq_gap);
  tcase_add_test (tc, test_delta_wait_for_keyframe_off);
  tcase_add_test (tc, test_shared_input_buffers);
  tcase_add_test (tc, test_pushed_picture_writable);
  tcase_add_loop_test (tc, test_allocation, 0, G_N_ELEMENTS (allocation_cases));
  tcase_add_test (tc, test_allocation_during_preroll);
  tcase_add_test (tc, test_framerate_change);
  tcase_add_test (tc, test_framerate_measured);
  tcase_add_loop_test (tc, test_framerate_measured_rates, 0,
      G_N_ELEMENTS (measured_rates));
  tcase_add_test (tc, test_not_linked);
  tcase_add_test (tc, test_byte_stream_junk);
  tcase_add_test (tc, test_seq_per_stream);
  tcase_add_test (tc, test_signal_incomplete);
  tcase_add_test (tc, test_keyframe_request_clock_stopped);
  tcase_add_test (tc, test_byte_stream_fake_header_in_junk);
  tcase_add_test (tc, test_discovery_size_change);
  tcase_add_test (tc, test_discovery_flow_error);
  tcase_add_test (tc, test_discovery_flush);
  tcase_add_test (tc, test_discovery_bounded);
#ifdef HAVE_ZSTD
  tcase_add_test (tc, test_delta_compressed);
  tcase_add_test (tc, test_motion_delta);
  tcase_add_test (tc, test_encoded_video);
  tcase_add_test (tc, test_encoded_h264_profile);
  tcase_add_test (tc, test_encoded_video_malformed);
#endif

  return s;
}

GST_CHECK_MAIN (dsdepay);
