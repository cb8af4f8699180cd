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

/* dspay: frames are read back with the protocol library; the round trips
 * through dsdepay are at the end. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/app/app.h>

#include "dsprotocol.h"
#include "dssignal.h"
#include "gstdsutils.h"

#define MS GST_MSECOND

/* dspay in a harness, with a bus to catch its warnings. @props is
 * "name=value name=value", as on the command line. */
static GstHarness *
pay_new (const gchar * caps, const gchar * props)
{
  GstHarness *h = gst_harness_new ("dspay");
  gchar **settings, **setting;
  GstBus *bus;

  settings = g_strsplit (props ? props : "", " ", -1);
  for (setting = settings; *setting; setting++) {
    gchar **kv = g_strsplit (*setting, "=", 2);

    if (kv[0] && kv[1])
      gst_util_set_object_arg (G_OBJECT (h->element), kv[0], kv[1]);
    g_strfreev (kv);
  }
  g_strfreev (settings);

  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  gst_object_unref (bus);

  if (caps)
    gst_harness_set_src_caps_str (h, caps);

  return h;
}

static void
pay_free (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);

  gst_harness_teardown (h);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

static guint
count_warnings (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    n++;
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return n;
}

static GstBuffer *
bytes_buffer (gconstpointer data, gsize len, GstClockTime pts)
{
  GstBuffer *buffer = gst_buffer_new_memdup (data, len);

  GST_BUFFER_PTS (buffer) = pts;
  return buffer;
}

static guint8 *
make_picture (guint w, guint h, guint seed)
{
  guint8 *p = g_malloc (w * h * 4);
  guint i;

  for (i = 0; i < w * h * 4; i++)
    p[i] = (guint8) (i * 31 + seed * 17);
  return p;
}

/* Checks the layout of a frame buffer (header memory of 16 bytes, length
 * matching) and returns its header */
static DsHeader
frame_header (GstBuffer * frame)
{
  DsHeader header;
  GError *error = NULL;

  fail_unless (frame != NULL);
  fail_unless (gst_buffer_n_memory (frame) >= 1);
  fail_unless_equals_uint64 (gst_buffer_peek_memory (frame, 0)->size,
      DS_HEADER_SIZE);
  fail_unless (gst_ds_frame_buffer_parse (frame, &header, &error),
      "not a frame: %s", error ? error->message : "");
  fail_unless_equals_uint64 (gst_buffer_get_size (frame),
      DS_HEADER_SIZE + header.payload_len);
  return header;
}

/* Pulls a frame and returns its header */
static DsHeader
pull_header (GstHarness * h)
{
  GstBuffer *frame = gst_harness_pull (h);
  DsHeader header = frame_header (frame);

  gst_buffer_unref (frame);
  return header;
}

/* The payload of a frame, as a new string */
static gchar *
frame_payload (GstBuffer * frame)
{
  gsize len = gst_buffer_get_size (frame) - DS_HEADER_SIZE;
  gchar *payload = g_malloc (len + 1);

  fail_unless_equals_uint64 (gst_buffer_extract (frame, DS_HEADER_SIZE,
          payload, len), len);
  payload[len] = '\0';
  return payload;
}

static void
assert_payload (GstBuffer * frame, gconstpointer data, gsize len)
{
  gchar *payload = frame_payload (frame);

  fail_unless_equals_uint64 (gst_buffer_get_size (frame) - DS_HEADER_SIZE, len);
  fail_unless (memcmp (payload, data, len) == 0, "payload differs");
  g_free (payload);
}

/* Pulls a frame and checks its type and payload (a string) */
static DsHeader
pull_json_frame (GstHarness * h, guint8 type, const gchar * json)
{
  GstBuffer *frame = gst_harness_pull (h);
  DsHeader header = frame_header (frame);
  gchar *payload = frame_payload (frame);

  fail_unless_equals_string (ds_frame_type_name (header.type),
      ds_frame_type_name (type));
  fail_unless_equals_string (payload, json);
  if (type == DS_FRAME_SIGNAL_DIFF) {
    fail_unless (GST_BUFFER_FLAG_IS_SET (frame, GST_BUFFER_FLAG_DELTA_UNIT));
    fail_unless_equals_int (header.flags, 0);
  } else {
    fail_if (GST_BUFFER_FLAG_IS_SET (frame, GST_BUFFER_FLAG_DELTA_UNIT));
  }
  if (type == DS_FRAME_SIGNAL_SYNC)
    fail_unless_equals_int (header.flags, DS_FLAG_KEYFRAME);
  g_free (payload);
  gst_buffer_unref (frame);
  return header;
}

static void
assert_src_caps (GstHarness * h, const gchar * expected)
{
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  GstCaps *want = gst_caps_from_string (expected);

  fail_unless (caps != NULL);
  fail_unless (gst_caps_is_equal (caps, want), "caps %" GST_PTR_FORMAT
      " instead of %" GST_PTR_FORMAT, caps, want);
  gst_caps_unref (caps);
  gst_caps_unref (want);
}

/* Media kinds: what goes in, the header and caps that come out */

/* A PNG signature and IHDR chunk of a 300x200 picture (the rest of the
 * image does not matter to dspay) */
static const guint8 png_300x200[] = {
  0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a,
  0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0x01, 0x2c, 0, 0, 0, 200,
  8, 6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78
};

/* WebP: lossy (VP8), 640x480 */
static const guint8 webp_vp8_640x480[] = {
  'R', 'I', 'F', 'F', 36, 0, 0, 0, 'W', 'E', 'B', 'P',
  'V', 'P', '8', ' ', 24, 0, 0, 0, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a,
  0x80, 0x02, 0xe0, 0x01, 0, 0, 0, 0
};

/* WebP: lossless (VP8L), 100x50: 14 bits 99, 14 bits 49 */
static const guint8 webp_vp8l_100x50[] = {
  'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W', 'E', 'B', 'P',
  'V', 'P', '8', 'L', 10, 0, 0, 0, 0x2f,
  99 & 0xff, ((99 >> 8) & 0x3f) | ((49 & 0x3) << 6), (49 >> 2) & 0xff,
  (49 >> 10) & 0xf, 0, 0, 0, 0, 0
};

/* WebP: extended (VP8X), 1000x70000 is beyond u16: size 0 */
static const guint8 webp_vp8x_1000x70000[] = {
  'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W', 'E', 'B', 'P',
  'V', 'P', '8', 'X', 10, 0, 0, 0, 0x10, 0, 0, 0,
  (999 & 0xff), (999 >> 8), 0, (69999 & 0xff), ((69999 >> 8) & 0xff),
  (69999 >> 16), 0, 0
};

/* WebP: extended (VP8X), 1920x1080 */
static const guint8 webp_vp8x_1920x1080[] = {
  'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W', 'E', 'B', 'P',
  'V', 'P', '8', 'X', 10, 0, 0, 0, 0x10, 0, 0, 0,
  (1919 & 0xff), (1919 >> 8), 0, (1079 & 0xff), (1079 >> 8), 0, 0, 0
};

static const guint8 opus_packet[] = { 0xfc, 0xff, 0xfe, 0x01, 0x02, 0x03 };

static const gfloat pcm_samples[] = {
  0.0f, 0.5f, -0.5f, 1.0f, -1.0f, 0.25f, 0.125f, -0.75f
};

typedef struct
{
  const gchar *name;
  const gchar *caps;
  const guint8 *data;           /* NULL: a 16x8 picture */
  gsize len;
  guint8 type;
  guint8 flags;
  guint16 width;
  guint16 height;
  const gchar *src_caps;
} MediaCase;

static const MediaCase media_cases[] = {
  {"video", "video/x-raw,format=RGBA,width=16,height=8,framerate=25/1",
        NULL, 16 * 8 * 4, DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 16, 8,
      "application/x-ds-stream,media=video,width=16,height=8,"
        "framerate=25/1"},
  {"png", "image/png", png_300x200, sizeof (png_300x200),
        DS_FRAME_COMPRESSED_PIXELS, DS_FLAG_KEYFRAME, 300, 200,
      "application/x-ds-stream,media=image"},
  {"webp-vp8", "image/webp", webp_vp8_640x480, sizeof (webp_vp8_640x480),
        DS_FRAME_COMPRESSED_PIXELS, DS_FLAG_KEYFRAME, 640, 480,
      "application/x-ds-stream,media=image"},
  {"webp-vp8l", "image/webp", webp_vp8l_100x50, sizeof (webp_vp8l_100x50),
        DS_FRAME_COMPRESSED_PIXELS, DS_FLAG_KEYFRAME, 100, 50,
      "application/x-ds-stream,media=image"},
  {"webp-vp8x", "image/webp,framerate=1/1", webp_vp8x_1920x1080,
        sizeof (webp_vp8x_1920x1080), DS_FRAME_COMPRESSED_PIXELS,
        DS_FLAG_KEYFRAME, 1920, 1080,
      "application/x-ds-stream,media=image,framerate=1/1"},
  {"webp-too-large", "image/webp", webp_vp8x_1000x70000,
        sizeof (webp_vp8x_1000x70000), DS_FRAME_COMPRESSED_PIXELS,
        DS_FLAG_KEYFRAME, 0, 0,
      "application/x-ds-stream,media=image"},
  {"pcm", "audio/x-raw,format=F32LE,layout=interleaved,rate=44100,"
        "channels=2", (const guint8 *) pcm_samples, sizeof (pcm_samples),
        DS_FRAME_AUDIO_PCM, 0, 2, 44100,
      "application/x-ds-stream,media=audio,rate=44100,channels=2"},
  {"pcm-8k-mono", "audio/x-raw,format=F32LE,layout=interleaved,rate=8000,"
        "channels=1", (const guint8 *) pcm_samples, sizeof (pcm_samples),
        DS_FRAME_AUDIO_PCM, 0, 1, 8000,
      "application/x-ds-stream,media=audio,rate=8000,channels=1"},
  {"opus", "audio/x-opus,channel-mapping-family=0,channels=1,rate=48000",
        opus_packet, sizeof (opus_packet), DS_FRAME_AUDIO_COMPRESSED, 0, 1,
        48000,
      "application/x-ds-stream,media=audio,rate=48000,channels=1"},
};

/* Each kind: header fields, payload byte-exact and shared with the
 * input (the same GstMemory), timestamps kept, caps */
GST_START_TEST (test_media_kinds)
{
  const MediaCase *c = &media_cases[__i__];
  GstHarness *h = pay_new (c->caps, NULL);
  guint8 *data = c->data ? g_memdup2 (c->data, c->len) : make_picture (16, 8,
      3);
  GstBuffer *in, *out;
  DsHeader header;

  GST_INFO ("case %s", c->name);

  in = gst_buffer_new_wrapped (data, c->len);
  GST_BUFFER_PTS (in) = 1500 * MS;
  GST_BUFFER_DTS (in) = 1400 * MS;
  GST_BUFFER_DURATION (in) = 40 * MS;
  gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);

  out = gst_harness_pull (h);
  header = frame_header (out);
  fail_unless_equals_int (header.type, c->type);
  fail_unless_equals_int (header.flags, c->flags);
  fail_unless_equals_int (header.seq, 0);
  fail_unless_equals_int (header.timestamp, 1500);
  fail_unless_equals_int (header.width, c->width);
  fail_unless_equals_int (header.height, c->height);
  fail_unless_equals_int (header.payload_len, c->len);
  assert_payload (out, data, c->len);

  /* zero copy: the input's memory itself */
  fail_unless_equals_int (gst_buffer_n_memory (out), 2);
  fail_unless (gst_buffer_peek_memory (out, 1) ==
      gst_buffer_peek_memory (in, 0));

  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 1500 * MS);
  fail_unless_equals_uint64 (GST_BUFFER_DTS (out), 1400 * MS);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 40 * MS);
  fail_if (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DELTA_UNIT));

  assert_src_caps (h, c->src_caps);
  fail_unless_equals_int (count_warnings (h), 0);

  gst_buffer_unref (out);
  gst_buffer_unref (in);
  pay_free (h);
}

GST_END_TEST;

/* A picture in two memories is sent without merging them */
GST_START_TEST (test_video_memories_shared)
{
  GstHarness *h = pay_new ("video/x-raw,format=RGBA,width=4,height=4,"
      "framerate=0/1", NULL);
  guint8 *pic = make_picture (4, 4, 1);
  guint8 *head = g_memdup2 (pic, 24), *tail = g_memdup2 (pic + 24, 40);
  GstBuffer *in = gst_buffer_new (), *out;

  gst_buffer_append_memory (in, gst_memory_new_wrapped (0, head, 24, 0, 24,
          head, g_free));
  gst_buffer_append_memory (in, gst_memory_new_wrapped (0, tail, 40, 0,
          40, tail, g_free));
  gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);

  out = gst_harness_pull (h);
  frame_header (out);
  fail_unless_equals_int (gst_buffer_n_memory (out), 3);
  fail_unless (gst_buffer_peek_memory (out, 1) ==
      gst_buffer_peek_memory (in, 0));
  fail_unless (gst_buffer_peek_memory (out, 2) ==
      gst_buffer_peek_memory (in, 1));
  assert_payload (out, pic, 64);

  gst_buffer_unref (out);
  gst_buffer_unref (in);
  g_free (pic);
  pay_free (h);
}

GST_END_TEST;

/* Memory flagged NO_SHARE (a pool wants it back) is copied, not held */
GST_START_TEST (test_unshareable_memory)
{
  GstHarness *h = pay_new ("audio/x-raw,format=F32LE,layout=interleaved,"
      "rate=8000,channels=2", NULL);
  guint8 *data = g_memdup2 (pcm_samples, sizeof (pcm_samples));
  GstBuffer *in = gst_buffer_new (), *out;

  gst_buffer_append_memory (in,
      gst_memory_new_wrapped (GST_MEMORY_FLAG_NO_SHARE, data,
          sizeof (pcm_samples), 0, sizeof (pcm_samples), data, g_free));
  gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);

  out = gst_harness_pull (h);
  fail_unless_equals_int (frame_header (out).payload_len, sizeof (pcm_samples));
  assert_payload (out, pcm_samples, sizeof (pcm_samples));
  fail_unless (gst_buffer_peek_memory (out, 1) !=
      gst_buffer_peek_memory (in, 0));

  gst_buffer_unref (out);
  gst_buffer_unref (in);
  pay_free (h);
}

GST_END_TEST;

/* Padded rows (GstVideoMeta stride > width*4) are repacked; a tight
 * picture at an offset is shared, not copied */
GST_START_TEST (test_video_stride)
{
  GstHarness *h = pay_new ("video/x-raw,format=RGBA,width=5,height=3,"
      "framerate=30/1", NULL);
  guint8 *pic = make_picture (5, 3, 7);
  gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, };
  gint strides[GST_VIDEO_MAX_PLANES] = { 0, };
  GstBuffer *in, *out;
  GstMapInfo map;
  GstMemory *in_mem, *out_mem;
  guint row;

  /* a stride of 32 bytes for rows of 20 */
  in = gst_buffer_new_allocate (NULL, 8 + 32 * 3, NULL);
  gst_buffer_memset (in, 0, 0xee, 8 + 32 * 3);
  fail_unless (gst_buffer_map (in, &map, GST_MAP_WRITE));
  for (row = 0; row < 3; row++)
    memcpy (map.data + 8 + row * 32, pic + row * 20, 20);
  gst_buffer_unmap (in, &map);
  offsets[0] = 8;
  strides[0] = 32;
  gst_buffer_add_video_meta_full (in, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_RGBA, 5, 3, 1, offsets, strides);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);

  out = gst_harness_pull (h);
  fail_unless_equals_int (frame_header (out).payload_len, 60);
  assert_payload (out, pic, 60);
  gst_buffer_unref (out);

  /* tight rows 12 bytes into a buffer with 4 bytes after the picture */
  in = gst_buffer_new_allocate (NULL, 12 + 60 + 4, NULL);
  gst_buffer_memset (in, 0, 0xee, 76);
  gst_buffer_fill (in, 12, pic, 60);
  offsets[0] = 12;
  strides[0] = 20;
  gst_buffer_add_video_meta_full (in, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_RGBA, 5, 3, 1, offsets, strides);
  gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);

  out = gst_harness_pull (h);
  fail_unless_equals_int (frame_header (out).payload_len, 60);
  assert_payload (out, pic, 60);
  fail_unless_equals_int (gst_buffer_n_memory (out), 2);
  in_mem = gst_buffer_peek_memory (in, 0);
  out_mem = gst_buffer_peek_memory (out, 1);
  /* a sub-memory of the input's memory */
  fail_unless (out_mem == in_mem || out_mem->parent == in_mem
      || out_mem->parent == in_mem->parent);
  fail_unless (gst_memory_is_span (in_mem, out_mem, NULL)
      || out_mem->parent != NULL);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  /* too small for its meta: skipped with a warning */
  in = gst_buffer_new_allocate (NULL, 50, NULL);
  offsets[0] = 0;
  strides[0] = 20;
  gst_buffer_add_video_meta_full (in, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_RGBA, 5, 3, 1, offsets, strides);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_int (count_warnings (h), 1);

  /* too small without a meta */
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate (NULL,
              59, NULL)), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_int (count_warnings (h), 1);

  g_free (pic);
  pay_free (h);
}

GST_END_TEST;

/* A picture whose rows are padded by 64 bytes (GstVideoMeta stride
 * width*4+64, as a pool with padding gives), in one memory or with every
 * row in a memory of its own: the payload is the tightly packed picture,
 * none of the padding */
GST_START_TEST (test_video_padded_stride)
{
  const guint w = 7, h = 4, row = w * 4, stride = w * 4 + 64;
  GstHarness *hr = pay_new ("video/x-raw,format=RGBA,width=7,height=4,"
      "framerate=30/1", NULL);
  guint8 *pic = make_picture (w, h, 11);
  gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, };
  gint strides[GST_VIDEO_MAX_PLANES] = { 0, };
  guint pass, y;

  strides[0] = stride;
  for (pass = 0; pass < 2; pass++) {
    GstBuffer *in, *out;

    if (pass == 0) {
      in = gst_buffer_new_allocate (NULL, stride * h, NULL);
      gst_buffer_memset (in, 0, 0xee, stride * h);
      for (y = 0; y < h; y++)
        gst_buffer_fill (in, y * stride, pic + y * row, row);
    } else {
      in = gst_buffer_new ();
      for (y = 0; y < h; y++) {
        guint8 *line = g_malloc (stride);

        memset (line, 0xee, stride);
        memcpy (line, pic + y * row, row);
        gst_buffer_append_memory (in, gst_memory_new_wrapped (0, line,
                stride, 0, stride, line, g_free));
      }
    }
    gst_buffer_add_video_meta_full (in, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_FORMAT_RGBA, w, h, 1, offsets, strides);
    fail_unless_equals_int (gst_harness_push (hr, in), GST_FLOW_OK);

    out = gst_harness_pull (hr);
    fail_unless_equals_int (frame_header (out).payload_len, row * h);
    assert_payload (out, pic, row * h);
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (count_warnings (hr), 0);

  g_free (pic);
  pay_free (hr);
}

GST_END_TEST;

/* dspay tells upstream that it reads GstVideoMeta (strides) */
GST_START_TEST (test_allocation_video_meta)
{
  GstHarness *h = pay_new ("video/x-raw,format=RGBA,width=5,height=3,"
      "framerate=30/1", NULL);
  GstCaps *caps = gst_caps_from_string ("video/x-raw,format=RGBA,width=5,"
      "height=3,framerate=30/1");
  GstQuery *query = gst_query_new_allocation (caps, TRUE);

  fail_unless (gst_pad_peer_query (h->srcpad, query));
  fail_unless (gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE,
          NULL));

  gst_query_unref (query);
  gst_caps_unref (caps);
  pay_free (h);
}

GST_END_TEST;

/* Only video has a use for GstVideoMeta: the query for other media gets
 * no meta */
GST_START_TEST (test_allocation_no_video_meta_for_audio)
{
  static const gchar *const caps_strings[] = {
    "audio/x-raw,format=F32LE,layout=interleaved,rate=48000,channels=2",
    "image/png", GST_DS_SIGNAL_MEDIA_TYPE,
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (caps_strings); i++) {
    GstHarness *h = pay_new (caps_strings[i], NULL);
    GstCaps *caps = gst_caps_from_string (caps_strings[i]);
    GstQuery *query = gst_query_new_allocation (caps, TRUE);

    fail_unless (gst_pad_peer_query (h->srcpad, query));
    fail_if (gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE,
            NULL), "video meta for %s", caps_strings[i]);

    gst_query_unref (query);
    gst_caps_unref (caps);
    pay_free (h);
  }
}

GST_END_TEST;

/* Data before caps: an error a user can read, naming the caps */
GST_START_TEST (test_data_before_caps_error)
{
  GstHarness *h = pay_new (NULL, NULL);
  GstBus *bus = gst_element_get_bus (h->element);
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_stream_start ("no-caps")));
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  fail_unless_equals_int (gst_harness_push (h, bytes_buffer ("x", 1, 0)),
      GST_FLOW_NOT_NEGOTIATED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, &debug);
  fail_unless (g_error_matches (error, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION));
  fail_unless_equals_string (error->message,
      "No caps set before data: the input format is unknown.");
  fail_unless (debug != NULL && strstr (debug, "caps") != NULL);

  g_error_free (error);
  g_free (debug);
  gst_message_unref (msg);
  gst_object_unref (bus);
  pay_free (h);
}

GST_END_TEST;

/* Downstream's media field narrows what dspay accepts */
GST_START_TEST (test_caps_query)
{
  static const struct
  {
    const gchar *downstream;
    const gchar *accepted;
  } cases[] = {
    {"application/x-ds-stream", "video/x-raw;image/png;image/webp;"
          "audio/x-raw;audio/x-opus;application/x-ds-signal;video/x-h264;"
          "video/x-h265;video/x-vp8;video/x-vp9;video/x-av1;video/x-av1"},
    {"application/x-ds-stream,media=audio", "audio/x-raw;audio/x-opus"},
    {"application/x-ds-stream,media={image,signal}",
        "image/png;image/webp;application/x-ds-signal"},
    {"application/x-ds-stream,media=video,width=320", "video/x-raw;"
          "video/x-h264;video/x-h265;video/x-vp8;video/x-vp9;video/x-av1;"
          "video/x-av1"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *launch = g_strdup_printf ("dspay ! capsfilter caps=\"%s\"",
        cases[i].downstream);
    GstHarness *h = gst_harness_new_parse (launch);
    GstCaps *caps = gst_pad_peer_query_caps (h->srcpad, NULL);
    GstCaps *want = gst_caps_from_string (cases[i].accepted);
    guint j;

    fail_unless_equals_int (gst_caps_get_size (caps), gst_caps_get_size (want));
    for (j = 0; j < gst_caps_get_size (want); j++)
      fail_unless_equals_string (gst_structure_get_name
          (gst_caps_get_structure (caps, j)),
          gst_structure_get_name (gst_caps_get_structure (want, j)));

    gst_caps_unref (want);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
    g_free (launch);
  }
}

GST_END_TEST;

/* The four-byte RGB formats without alpha (what ximagesrc captures of an
 * X screen, whose padding byte is 0 in black areas) and with it leave
 * as opaque RGBA: the same red, green and blue, alpha 255, rows tight */
static const struct
{
  const gchar *format;
  guint r, g, b;                /* byte offsets in a pixel */
} opaque_cases[] = {
  {"BGRx", 2, 1, 0},
  {"xRGB", 1, 2, 3},
  {"RGBx", 0, 1, 2},
  {"xBGR", 3, 2, 1},
  {"BGRA", 2, 1, 0},
  {"ARGB", 1, 2, 3},
  {"ABGR", 3, 2, 1},
};

GST_START_TEST (test_opaque_formats)
{
  const guint w = 5, h = 3, stride = 5 * 4 + 8;
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%u,height=%u,"
      "framerate=10/1", opaque_cases[__i__].format, w, h);
  GstHarness *hr = pay_new (caps, NULL);
  gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, };
  gint strides[GST_VIDEO_MAX_PLANES] = { 0, };
  guint8 *want = g_malloc (w * h * 4);
  GstBuffer *in, *out;
  GstMapInfo map;
  DsHeader header;
  guint x, y, pass;

  /* twice: tight rows, then rows padded (told by a GstVideoMeta) */
  for (pass = 0; pass < 2; pass++) {
    guint row = pass ? stride : w * 4;

    in = gst_buffer_new_allocate (NULL, row * h, NULL);
    fail_unless (gst_buffer_map (in, &map, GST_MAP_WRITE));
    memset (map.data, 0xaa, map.size);
    for (y = 0; y < h; y++) {
      for (x = 0; x < w; x++) {
        guint8 *px = map.data + y * row + x * 4;
        guint8 *rgba = want + (y * w + x) * 4;

        /* padding or alpha 0 everywhere, as on a black X screen */
        px[0] = px[1] = px[2] = px[3] = 0;
        rgba[0] = px[opaque_cases[__i__].r] = 10 * y + x + 1;
        rgba[1] = px[opaque_cases[__i__].g] = 100 + x;
        rgba[2] = px[opaque_cases[__i__].b] = 200 + y;
        rgba[3] = 0xff;
      }
    }
    gst_buffer_unmap (in, &map);
    if (pass) {
      strides[0] = stride;
      gst_buffer_add_video_meta_full (in, GST_VIDEO_FRAME_FLAG_NONE,
          gst_video_format_from_string (opaque_cases[__i__].format), w, h, 1,
          offsets, strides);
    }

    fail_unless_equals_int (gst_harness_push (hr, in), GST_FLOW_OK);
    out = gst_harness_pull (hr);
    header = frame_header (out);
    fail_unless_equals_int (header.type, DS_FRAME_PIXELS);
    fail_unless_equals_int (header.flags, DS_FLAG_KEYFRAME);
    fail_unless_equals_int (header.width, w);
    fail_unless_equals_int (header.height, h);
    assert_payload (out, want, w * h * 4);
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (count_warnings (hr), 0);

  g_free (want);
  g_free (caps);
  pay_free (hr);
}

GST_END_TEST;

/* An X screencast through the wire and back: `dspay ! dsdepay` gives the
 * screen's colours, opaque, for pngenc and every other consumer */
GST_START_TEST (test_opaque_round_trip)
{
  static const guint8 bgrx[16] = {
    0, 0, 0, 0, 0x10, 0x20, 0x30, 0, 0xff, 0xff, 0xff, 0, 1, 2, 3, 0x80,
  };
  static const guint8 want[16] = {
    0, 0, 0, 0xff, 0x30, 0x20, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 3, 2, 1,
    0xff,
  };
  GstElement *pipeline, *src, *sink;
  GstCaps *caps;
  GstSample *sample;
  GstBuffer *in;

  pipeline = gst_parse_launch ("appsrc name=src format=time ! dspay ! "
      "dsdepay ! appsink name=sink sync=false", NULL);
  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  caps = gst_caps_from_string ("video/x-raw,format=BGRx,width=2,height=2,"
      "framerate=0/1");
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  in = gst_buffer_new_memdup (bgrx, sizeof (bgrx));
  GST_BUFFER_PTS (in) = 0;
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), in),
      GST_FLOW_OK);
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 5 * GST_SECOND);
  fail_unless (sample != NULL);
  fail_unless_equals_uint64 (gst_buffer_get_size (gst_sample_get_buffer
          (sample)), sizeof (want));
  fail_unless (gst_buffer_memcmp (gst_sample_get_buffer (sample), 0, want,
          sizeof (want)) == 0);
  gst_sample_unref (sample);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Pictures that are not images, audio that is not whole samples */
GST_START_TEST (test_bad_media_buffers)
{
  GstHarness *h = pay_new ("image/png", NULL);
  static const guint8 junk[] = "this is not an image at all";

  fail_unless_equals_int (gst_harness_push (h, bytes_buffer (junk,
              sizeof (junk), 0)), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_int (count_warnings (h), 1);
  pay_free (h);

  h = pay_new ("audio/x-raw,format=F32LE,layout=interleaved,rate=8000,"
      "channels=2", NULL);
  /* 3 floats: not a whole number of stereo samples */
  fail_unless_equals_int (gst_harness_push (h, bytes_buffer (pcm_samples,
              12, 0)), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_int (count_warnings (h), 1);
  fail_unless_equals_int (gst_harness_push (h, bytes_buffer (pcm_samples,
              16, 0)), GST_FLOW_OK);
  fail_unless_equals_int (pull_header (h).seq, 0);
  pay_free (h);
}

GST_END_TEST;

/* A new picture size mid-stream: new source caps, new header size */
GST_START_TEST (test_renegotiation)
{
  GstHarness *h = pay_new ("video/x-raw,format=RGBA,width=16,height=8,"
      "framerate=30/1", NULL);
  guint8 *pic = make_picture (16, 8, 1);
  GstBuffer *out;
  DsHeader header;

  gst_harness_push (h, bytes_buffer (pic, 16 * 8 * 4, 0));
  out = gst_harness_pull (h);
  header = frame_header (out);
  fail_unless_equals_int (header.width, 16);
  gst_buffer_unref (out);
  assert_src_caps (h, "application/x-ds-stream,media=video,width=16,"
      "height=8,framerate=30/1");

  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGBA,width=8,"
      "height=4,framerate=15/1");
  gst_harness_push (h, bytes_buffer (pic, 8 * 4 * 4, 40 * MS));
  out = gst_harness_pull (h);
  header = frame_header (out);
  fail_unless_equals_int (header.width, 8);
  fail_unless_equals_int (header.height, 4);
  fail_unless_equals_int (header.seq, 1);
  fail_unless_equals_int (header.payload_len, 8 * 4 * 4);
  gst_buffer_unref (out);
  assert_src_caps (h, "application/x-ds-stream,media=video,width=8,"
      "height=4,framerate=15/1");

  /* another kind of media on the same element */
  gst_harness_set_src_caps_str (h, "audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=16000,channels=1");
  gst_harness_push (h, bytes_buffer (pcm_samples, 16, 80 * MS));
  out = gst_harness_pull (h);
  header = frame_header (out);
  fail_unless_equals_int (header.type, DS_FRAME_AUDIO_PCM);
  fail_unless_equals_int (header.width, 1);
  fail_unless_equals_int (header.height, 16000);
  gst_buffer_unref (out);
  assert_src_caps (h, "application/x-ds-stream,media=audio,rate=16000,"
      "channels=1");

  g_free (pic);
  pay_free (h);
}

GST_END_TEST;

/* seq +1 per frame, wrapping after 65535 */
GST_START_TEST (test_seq_wrap)
{
  GstHarness *h = pay_new ("audio/x-raw,format=F32LE,layout=interleaved,"
      "rate=8000,channels=1", NULL);
  GstBuffer *in = bytes_buffer (pcm_samples, 4, 0);
  guint i;

  for (i = 0; i < 65540; i++) {
    GstBuffer *out;

    fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
        GST_FLOW_OK);
    out = gst_harness_pull (h);
    if (frame_header (out).seq != (i & 0xffff))
      fail ("frame %u has seq %u", i, frame_header (out).seq);
    gst_buffer_unref (out);
  }
  gst_buffer_unref (in);

  pay_free (h);
}

GST_END_TEST;

/* The timestamp is the running time in ms, wrapping at 2^32 */
GST_START_TEST (test_timestamp_wrap)
{
  GstHarness *h = pay_new (NULL, NULL);
  GstSegment segment;
  const GstClockTime base = (G_GUINT64_CONSTANT (1) << 32) - 10;
  static const struct
  {
    GstClockTime pts;
    guint32 timestamp;
  } steps[] = {
    {5 * GST_SECOND, G_MAXUINT32 - 9},
    {5 * GST_SECOND + 9 * MS, G_MAXUINT32},
    {5 * GST_SECOND + 10 * MS, 0},
    {5 * GST_SECOND + 25 * MS + 700 * GST_USECOND, 15},
    {5 * GST_SECOND + 3000 * MS, 2990},
  };
  guint i;

  gst_harness_set_src_caps_str (h, "audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=8000,channels=1");
  /* running time = pts - 5 s + base */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = 5 * GST_SECOND;
  segment.time = 5 * GST_SECOND;
  segment.base = base * MS;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));

  for (i = 0; i < G_N_ELEMENTS (steps); i++) {
    GstBuffer *out;

    gst_harness_push (h, bytes_buffer (pcm_samples, 4, steps[i].pts));
    out = gst_harness_pull (h);
    fail_unless_equals_uint64 (frame_header (out).timestamp,
        steps[i].timestamp);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), steps[i].pts);
    gst_buffer_unref (out);
  }

  /* a buffer without a timestamp: the running time of the clock (the
   * harness plays with a test clock and base time 0) */
  gst_harness_set_time (h, 1234 * MS + 500 * GST_USECOND);
  gst_harness_push (h, bytes_buffer (pcm_samples, 4, GST_CLOCK_TIME_NONE));
  fail_unless_equals_uint64 (pull_header (h).timestamp, 1234);

  /* not playing: the timestamp of the frame before */
  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_PAUSED), GST_STATE_CHANGE_SUCCESS);
  gst_harness_set_time (h, 5000 * MS);
  gst_harness_push (h, bytes_buffer (pcm_samples, 4, GST_CLOCK_TIME_NONE));
  fail_unless_equals_uint64 (pull_header (h).timestamp, 1234);

  pay_free (h);
}

GST_END_TEST;

/* A byte segment (filesrc) becomes a time segment downstream */
GST_START_TEST (test_byte_segment)
{
  GstHarness *h = pay_new (NULL, NULL);
  GstSegment segment;
  GstEvent *event;
  const GstSegment *out_segment;
  gboolean seen = FALSE;

  gst_harness_set_src_caps_str (h, GST_DS_SIGNAL_MEDIA_TYPE);
  gst_segment_init (&segment, GST_FORMAT_BYTES);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_memdup
          ("{\"a\":1}\n", 8)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));

  while ((event = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
      gst_event_parse_segment (event, &out_segment);
      /* the harness's own time segment, then ours */
      fail_unless_equals_int (out_segment->format, GST_FORMAT_TIME);
      seen = TRUE;
    }
    gst_event_unref (event);
  }
  fail_unless (seen);

  pay_free (h);
}

GST_END_TEST;

/* Signals */

/* Feeds @text to a signal dspay in pieces cut at @cuts (ascending, may be
 * empty), then EOS; returns "TYPE payload" of every frame before End,
 * one per line */
static gchar *
run_signals (const gchar * props, const gchar * text, const gsize * cuts,
    guint n_cuts)
{
  GstHarness *h = pay_new (GST_DS_SIGNAL_MEDIA_TYPE, props);
  GString *result = g_string_new (NULL);
  gsize len = strlen (text), start = 0;
  GstBuffer *out;
  guint i;
  guint16 expected_seq = 0;
  gboolean ended = FALSE;

  for (i = 0; i <= n_cuts; i++) {
    gsize end = i < n_cuts ? cuts[i] : len;

    fail_unless_equals_int (gst_harness_push (h, bytes_buffer (text + start,
                end - start, 0)), GST_FLOW_OK);
    start = end;
  }
  gst_harness_push_event (h, gst_event_new_eos ());

  while ((out = gst_harness_try_pull (h))) {
    DsHeader header = frame_header (out);
    gchar *payload = frame_payload (out);

    fail_if (ended, "frame after End");
    fail_unless_equals_int (header.seq, expected_seq);
    expected_seq++;
    if (header.type == DS_FRAME_END) {
      ended = TRUE;
    } else {
      g_string_append_printf (result, "%s %s\n",
          ds_frame_type_name (header.type), payload);
    }
    g_free (payload);
    gst_buffer_unref (out);
  }
  fail_unless (ended);

  pay_free (h);
  return g_string_free (result, FALSE);
}

static const gchar signal_lines[] =
    "{\"count\":1,\"label\":\"a\\nb\",\"secret\":7}\n"
    "{\"count\":2}\r\n"
    "\n"
    "{\"count\":2,\"secret\":8}\n"
    "   \n"
    "{\"label\":\"\\u00e9t\\u00e9\",\"list\":[1,{\"x\":null}]}\n"
    "{\"count\":3}";

/* Split at every offset (and at every pair of offsets), a JSON Lines
 * stream gives the same frames */
GST_START_TEST (test_signals_any_chunking)
{
  gchar *expected = run_signals (NULL, signal_lines, NULL, 0);
  gsize len = strlen (signal_lines), a, b;

  fail_unless_equals_string (expected,
      "SignalSync {\"count\":1,\"label\":\"a\\nb\",\"secret\":7}\n"
      "SignalDiff {\"count\":2}\n"
      "SignalDiff {\"secret\":8}\n"
      "SignalDiff {\"label\":\"\xc3\xa9t\xc3\xa9\",\"list\":[1,{\"x\":null}]}\n"
      "SignalDiff {\"count\":3}\n");

  for (a = 1; a < len; a++) {
    gchar *got = run_signals (NULL, signal_lines, &a, 1);

    fail_unless_equals_string (got, expected);
    g_free (got);
  }
  for (a = 1; a < len; a += 3) {
    for (b = a + 1; b < len; b += 5) {
      gsize cuts[2] = { a, b };
      gchar *got = run_signals (NULL, signal_lines, cuts, 2);

      fail_unless_equals_string (got, expected);
      g_free (got);
    }
  }
  g_free (expected);
}

GST_END_TEST;

/* Byte by byte */
GST_START_TEST (test_signals_byte_by_byte)
{
  gsize len = strlen (signal_lines), i;
  gsize *cuts = g_new (gsize, len - 1);
  gchar *expected = run_signals (NULL, signal_lines, NULL, 0), *got;

  for (i = 0; i < len - 1; i++)
    cuts[i] = i + 1;
  got = run_signals (NULL, signal_lines, cuts, len - 1);
  fail_unless_equals_string (got, expected);

  g_free (got);
  g_free (expected);
  g_free (cuts);
}

GST_END_TEST;

typedef struct
{
  const gchar *name;
  const gchar *props;
  const gchar *lines;
  const gchar *frames;
} SignalCase;

static const SignalCase signal_cases[] = {
  {"only changed keys", NULL,
        "{\"a\":1,\"b\":2}\n{\"a\":1,\"b\":3}\n{\"a\":1}\n{\"b\":3}\n"
        "{\"c\":null}\n{\"c\":null,\"a\":[1]}\n",
      "SignalSync {\"a\":1,\"b\":2}\n"
        "SignalDiff {\"b\":3}\n"
        "SignalDiff {\"c\":null}\n" "SignalDiff {\"a\":[1]}\n"},
  {"reserved keys dropped, versions kept", NULL,
        "{\"_v\":{\"a\":3},\"a\":1,\"_private\":2}\n{\"_x\":1}\n{\"a\":2}\n",
      "SignalSync {\"a\":1,\"_v\":{\"a\":3}}\n"
        "SignalDiff {\"a\":2,\"_v\":{\"a\":3}}\n"},
  {"versions", "signals=<count,label>",
        "{\"_v\":{\"count\":9,\"secret\":2},\"count\":3,\"secret\":1}\n"
        "{\"_v\":{\"count\":8},\"count\":100}\n"
        "{\"label\":\"x\"}\n"
        "{\"_v\":{\"count\":10,\"label\":1},\"count\":4}\n",
      "SchemaAnnounce {\"signals\":[\"count\",\"label\"],\"mode\":\"signal\"}\n"
        "SignalSync {\"count\":3,\"_v\":{\"count\":9}}\n"
        "SignalDiff {\"label\":\"x\"}\n"
        "SignalDiff {\"count\":4,\"_v\":{\"count\":10}}\n"},
  {"private keys never sent", "signals=<a,c>",
        "{\"a\":1,\"b\":\"secret\"}\n{\"b\":\"other secret\"}\n"
        "{\"b\":1,\"c\":true}\n{\"a\":2,\"b\":2}\n",
      "SchemaAnnounce {\"signals\":[\"a\",\"c\"],\"mode\":\"signal\"}\n"
        "SignalSync {\"a\":1}\n"
        "SignalDiff {\"c\":true}\n" "SignalDiff {\"a\":2}\n"},
  {"sync-interval 3", "sync-interval=3",
        "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":3}\n{\"a\":4}\n{\"b\":5}\n"
        "{\"a\":6}\n{\"a\":7}\n",
      "SignalSync {\"a\":1}\n"
        "SignalDiff {\"a\":2}\n"
        "SignalDiff {\"a\":3}\n"
        "SignalSync {\"a\":4}\n"
        "SignalDiff {\"b\":5}\n"
        "SignalDiff {\"a\":6}\n" "SignalSync {\"a\":7,\"b\":5}\n"},
  {"sync-interval 1", "sync-interval=1",
        "{\"a\":1}\n{\"a\":1}\n{\"b\":2}\n",
      "SignalSync {\"a\":1}\nSignalSync {\"a\":1,\"b\":2}\n"},
  {"sync-interval 0", "sync-interval=0",
        "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n",
      "SignalSync {\"a\":1}\nSignalDiff {\"a\":2}\nSignalDiff {\"a\":3}\n"
        "SignalDiff {\"a\":4}\n"},
  {"bad lines skipped", NULL,
        "{\"a\":1}\nnot json\n[1,2]\n{\"a\":\n\"str\"\n{\"a\":2}\n",
      "SignalSync {\"a\":1}\nSignalDiff {\"a\":2}\n"},
  {"long line skipped", "max-line-length=20",
        "{\"a\":1}\n{\"a\":\"0123456789012345\"}\n{\"a\":\"0123456789\"}\n"
        "{\"b\":2}",
      "SignalSync {\"a\":1}\nSignalDiff {\"a\":\"0123456789\"}\n"
        "SignalDiff {\"b\":2}\n"},
  {"nothing changes", NULL, "{}\n\n{}\n", ""},
};

static const guint signal_case_warnings[] = { 0, 0, 0, 0, 0, 0, 0, 4, 1, 0 };

G_STATIC_ASSERT (G_N_ELEMENTS (signal_case_warnings) ==
    G_N_ELEMENTS (signal_cases));

GST_START_TEST (test_signal_cases)
{
  const SignalCase *c = &signal_cases[__i__];
  gchar *got;

  GST_INFO ("case %s", c->name);
  got = run_signals (c->props, c->lines, NULL, 0);
  fail_unless_equals_string (got, c->frames);
  g_free (got);
}

GST_END_TEST;

/* Bad lines and long lines are warnings on the bus, and the stream goes
 * on */
GST_START_TEST (test_signal_warnings)
{
  const SignalCase *c = &signal_cases[__i__];
  GstHarness *h = pay_new (GST_DS_SIGNAL_MEDIA_TYPE, c->props);
  GstBus *bus = gst_element_get_bus (h->element);
  GstMessage *msg;
  guint n = 0;

  GST_INFO ("case %s", c->name);
  fail_unless_equals_int (gst_harness_push (h, bytes_buffer (c->lines,
              strlen (c->lines), 0)), GST_FLOW_OK);
  gst_harness_push_event (h, gst_event_new_eos ());

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *error = NULL;
    gchar *debug = NULL;

    gst_message_parse_warning (msg, &error, &debug);
    fail_unless (error != NULL);
    fail_unless (debug != NULL && strstr (debug, "skipped") != NULL);
    fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (h->element));
    g_clear_error (&error);
    g_free (debug);
    gst_message_unref (msg);
    n++;
  }
  fail_unless_equals_int (n, signal_case_warnings[__i__]);

  gst_object_unref (bus);
  pay_free (h);
}

GST_END_TEST;

/* Lines built to hurt a parser: deep nesting, bytes that are not UTF-8,
 * NUL bytes. Warnings, no crash, the stream goes on. */
GST_START_TEST (test_signal_hostile_lines)
{
  GstHarness *h = pay_new (GST_DS_SIGNAL_MEDIA_TYPE, NULL);
  GString *text = g_string_new ("{\"a\":");
  static const gchar nul_lines[] = "{\"a\":\"x\0y\"}\n{\"a\":2}\0junk\n";
  guint i;

  for (i = 0; i < 100000; i++)
    g_string_append_c (text, '[');
  for (i = 0; i < 100000; i++)
    g_string_append_c (text, ']');
  g_string_append (text, "}\n{\"a\":\"\xff\xfe\"}\n");
  gst_harness_push (h, bytes_buffer (text->str, text->len, 0));
  gst_harness_push (h, bytes_buffer (nul_lines, sizeof (nul_lines) - 1, 0));
  gst_harness_push (h, bytes_buffer ("{\"a\":1}\n", 8, 0));

  pull_json_frame (h, DS_FRAME_SIGNAL_SYNC, "{\"a\":1}");
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_int (count_warnings (h), 4);

  g_string_free (text, TRUE);
  pay_free (h);
}

GST_END_TEST;

/* A long line cut across many buffers is dropped as a whole, and the
 * line after it is read */
GST_START_TEST (test_signal_long_line_chunks)
{
  GstHarness *h = pay_new (GST_DS_SIGNAL_MEDIA_TYPE, "max-line-length=64");
  gchar *chunk = g_strnfill (50, 'x');
  guint i;

  gst_harness_push (h, bytes_buffer ("{\"a\":1}\n{\"a\":\"", 14, 0));
  for (i = 0; i < 10; i++)
    gst_harness_push (h, bytes_buffer (chunk, 50, 0));
  gst_harness_push (h, bytes_buffer ("\"}\n{\"a\":2}\n", 11, 0));

  pull_json_frame (h, DS_FRAME_SIGNAL_SYNC, "{\"a\":1}");
  pull_json_frame (h, DS_FRAME_SIGNAL_DIFF, "{\"a\":2}");
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_int (count_warnings (h), 1);

  g_free (chunk);
  pay_free (h);
}

GST_END_TEST;

/* A new stream starts from nothing: schema and SignalSync again; a
 * keyframe request makes the next line send a SignalSync */
GST_START_TEST (test_signal_stream_start_and_requests)
{
  GstHarness *h = pay_new (GST_DS_SIGNAL_MEDIA_TYPE, "signals=<a,b>");
  GstSegment segment;

  gst_harness_push (h, bytes_buffer ("{\"a\":1}\n{\"b\":2}\n", 16, 0));
  pull_json_frame (h, DS_FRAME_SCHEMA_ANNOUNCE,
      "{\"signals\":[\"a\",\"b\"],\"mode\":\"signal\"}");
  pull_json_frame (h, DS_FRAME_SIGNAL_SYNC, "{\"a\":1}");
  pull_json_frame (h, DS_FRAME_SIGNAL_DIFF, "{\"b\":2}");

  /* an upstream GstForceKeyUnit: the next line, even one that changes
   * nothing, sends the whole state; the event goes no further */
  fail_unless (gst_harness_push_upstream_event (h,
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 0)));
  gst_harness_push (h, bytes_buffer ("{\"a\":1}\n{\"a\":5}\n", 16, 0));
  pull_json_frame (h, DS_FRAME_SIGNAL_SYNC, "{\"a\":1,\"b\":2}");
  pull_json_frame (h, DS_FRAME_SIGNAL_DIFF, "{\"a\":5}");

  /* a KeyframeRequest input event does the same */
  {
    DsInputEvent request = { DS_INPUT_KEYFRAME_REQUEST, };

    fail_unless (gst_harness_push_upstream_event (h,
            gst_ds_input_event_new (&request)));
  }
  gst_harness_push (h, bytes_buffer ("{\"b\":3}\n", 8, 0));
  pull_json_frame (h, DS_FRAME_SIGNAL_SYNC, "{\"a\":5,\"b\":3}");

  /* a new stream: the old values are gone */
  gst_harness_push_event (h, gst_event_new_stream_start ("other"));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_harness_push_event (h, gst_event_new_segment (&segment));
  gst_harness_push (h, bytes_buffer ("{\"b\":3}\n{\"a\":6}\n", 16, 0));
  pull_json_frame (h, DS_FRAME_SCHEMA_ANNOUNCE,
      "{\"signals\":[\"a\",\"b\"],\"mode\":\"signal\"}");
  pull_json_frame (h, DS_FRAME_SIGNAL_SYNC, "{\"b\":3}");
  pull_json_frame (h, DS_FRAME_SIGNAL_DIFF, "{\"a\":6}");

  /* a new list of public signals: announced, then a SignalSync */
  gst_util_set_object_arg (G_OBJECT (h->element), "signals", "<a>");
  gst_harness_push (h, bytes_buffer ("{\"a\":7,\"b\":8}\n", 14, 0));
  pull_json_frame (h, DS_FRAME_SCHEMA_ANNOUNCE,
      "{\"signals\":[\"a\"],\"mode\":\"signal\"}");
  pull_json_frame (h, DS_FRAME_SIGNAL_SYNC, "{\"a\":7}");

  /* a flush drops the partial line; the next frame is a SignalSync */
  gst_harness_push (h, bytes_buffer ("{\"a\":", 5, 0));
  gst_harness_push_event (h, gst_event_new_flush_start ());
  gst_harness_push_event (h, gst_event_new_flush_stop (TRUE));
  gst_harness_push_event (h, gst_event_new_segment (&segment));
  gst_harness_push (h, bytes_buffer ("{\"a\":9}\n", 8, 0));
  pull_json_frame (h, DS_FRAME_SIGNAL_SYNC, "{\"a\":9}");
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_int (count_warnings (h), 0);

  pay_free (h);
}

GST_END_TEST;

/* The signals property as an array */
GST_START_TEST (test_signals_property)
{
  GstElement *pay = gst_element_factory_make ("dspay", NULL);
  GValue value = G_VALUE_INIT;

  g_object_get_property (G_OBJECT (pay), "signals", &value);
  fail_unless_equals_int (gst_value_array_get_size (&value), 0);
  g_value_unset (&value);

  gst_util_set_object_arg (G_OBJECT (pay), "signals", "<count, doubled>");
  g_value_init (&value, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (pay), "signals", &value);
  fail_unless_equals_int (gst_value_array_get_size (&value), 2);
  fail_unless_equals_string (g_value_get_string (gst_value_array_get_value
          (&value, 0)), "count");
  fail_unless_equals_string (g_value_get_string (gst_value_array_get_value
          (&value, 1)), "doubled");
  g_value_unset (&value);

  gst_object_unref (pay);
}

GST_END_TEST;

/* EOS: an End frame, then EOS */
static GstPadProbeReturn
record_cb (GstPad * pad, GstPadProbeInfo * info, GString * log)
{
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    DsHeader header = frame_header (GST_PAD_PROBE_INFO_BUFFER (info));

    g_string_append_printf (log, "%s:%u ", ds_frame_type_name (header.type),
        header.seq);
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    g_string_append (log, "EOS");
  }
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_end_before_eos)
{
  GstHarness *h = pay_new ("video/x-raw,format=RGBA,width=2,height=2,"
      "framerate=30/1", NULL);
  GString *log = g_string_new (NULL);
  GstPad *src = gst_element_get_static_pad (h->element, "src");
  guint8 *pic = make_picture (2, 2, 0);
  GstBuffer *end;
  DsHeader header;

  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, (GstPadProbeCallback) record_cb,
      log, NULL);
  gst_harness_push (h, bytes_buffer (pic, 16, 0));
  gst_harness_push (h, bytes_buffer (pic, 16, 2 * GST_SECOND));
  gst_harness_push_event (h, gst_event_new_eos ());

  fail_unless_equals_string (log->str, "Pixels:0 Pixels:1 End:2 EOS");
  gst_buffer_unref (gst_harness_pull (h));
  gst_buffer_unref (gst_harness_pull (h));
  end = gst_harness_pull (h);
  header = frame_header (end);
  fail_unless_equals_int (header.type, DS_FRAME_END);
  fail_unless_equals_int (header.payload_len, 0);
  fail_unless_equals_int (header.timestamp, 2000);
  fail_unless_equals_int (header.width, 0);
  gst_buffer_unref (end);

  gst_object_unref (src);
  g_string_free (log, TRUE);
  g_free (pic);
  pay_free (h);
}

GST_END_TEST;

/* Round trips: appsrc ! dspay ! dsdepay ! appsink, byte-exact */

typedef struct
{
  const gchar *name;
  const gchar *caps;
  const gchar *out_caps;
  gsize size;                   /* of each buffer */
  gsize stride;                 /* video: row stride; 0 = tight */
} RoundTripCase;

static const RoundTripCase round_trip_cases[] = {
  {"video", "video/x-raw,format=RGBA,width=33,height=7,framerate=30/1",
        "video/x-raw,format=RGBA,width=33,height=7,framerate=30/1", 33 * 7 * 4,
      0},
  {"video-padded",
        "video/x-raw,format=RGBA,width=33,height=7," "framerate=30/1",
        "video/x-raw,format=RGBA,width=33,height=7,framerate=30/1", 33 * 7 * 4,
      33 * 4 + 12},
  {"png", "image/png", "image/png", 100, 0},
  {"webp", "image/webp", "image/webp", 100, 0},
  {"pcm", "audio/x-raw,format=F32LE,layout=interleaved,rate=22050,"
        "channels=3",
        "audio/x-raw,format=F32LE,layout=interleaved,rate=22050,channels=3",
      3 * 4 * 100, 0},
  {"opus", "audio/x-opus,channel-mapping-family=0,channels=2,rate=48000",
      "audio/x-opus,channel-mapping-family=0,channels=2", 60, 0},
};

static guint8 *
round_trip_data (const RoundTripCase * c, guint i)
{
  guint8 *data = make_picture (c->size, 1, i + 1);

  if (g_str_has_prefix (c->name, "video")) {
    guint j;

    /* pictures are opaque: dsdepay sends alpha 255 (test_opaque_formats) */
    for (j = 3; j < c->size; j += 4)
      data[j] = 0xff;
  } else if (g_str_equal (c->name, "png"))
    memcpy (data, png_300x200, sizeof (png_300x200));
  else if (g_str_equal (c->name, "webp"))
    memcpy (data, webp_vp8_640x480, sizeof (webp_vp8_640x480));
  return data;
}

static GstBuffer *
round_trip_buffer (const RoundTripCase * c, const guint8 * data)
{
  GstBuffer *buffer;
  gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, };
  gint strides[GST_VIDEO_MAX_PLANES] = { 0, };
  guint row, rows = 7;
  gsize row_size = c->size / rows;
  GstMapInfo map;

  if (c->stride == 0)
    return gst_buffer_new_memdup (data, c->size);

  buffer = gst_buffer_new_allocate (NULL, c->stride * rows, NULL);
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_WRITE));
  memset (map.data, 0xaa, map.size);
  for (row = 0; row < rows; row++)
    memcpy (map.data + row * c->stride, data + row * row_size, row_size);
  gst_buffer_unmap (buffer, &map);
  strides[0] = c->stride;
  gst_buffer_add_video_meta_full (buffer, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_FORMAT_RGBA, 33, rows, 1, offsets, strides);
  return buffer;
}

GST_START_TEST (test_round_trip)
{
  const RoundTripCase *c = &round_trip_cases[__i__];
  GstElement *pipeline, *src, *sink;
  GstCaps *caps, *want;
  GstSample *sample;
  GstMessage *msg;
  GstBus *bus;
  guint i;

  GST_INFO ("case %s", c->name);

  pipeline = gst_parse_launch ("appsrc name=src format=time ! dspay ! "
      "dsdepay ! appsink name=sink sync=false", NULL);
  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  caps = gst_caps_from_string (c->caps);
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  for (i = 0; i < 4; i++) {
    guint8 *data = round_trip_data (c, i);
    GstBuffer *in = round_trip_buffer (c, data);
    GstBuffer *out;

    GST_BUFFER_PTS (in) = i * 20 * MS;
    GST_BUFFER_DURATION (in) = 20 * MS;
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), in),
        GST_FLOW_OK);

    sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    fail_unless (sample != NULL);
    out = gst_sample_get_buffer (sample);
    fail_unless_equals_uint64 (gst_buffer_get_size (out), c->size);
    fail_unless (gst_buffer_memcmp (out, 0, data, c->size) == 0,
        "buffer %u differs", i);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * 20 * MS);

    caps = gst_sample_get_caps (sample);
    want = gst_caps_from_string (c->out_caps);
    fail_unless (gst_caps_is_subset (caps, want), "caps %" GST_PTR_FORMAT
        " not in %" GST_PTR_FORMAT, caps, want);
    gst_caps_unref (want);
    gst_sample_unref (sample);
    g_free (data);
  }

  /* End reaches dsdepay, which ends its pads: EOS at the sink */
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  fail_unless_equals_string (GST_MESSAGE_TYPE_NAME (msg), "eos");
  gst_message_unref (msg);
  gst_object_unref (bus);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Signals through dspay ! dsdepay: the merged public state per line */
GST_START_TEST (test_round_trip_signals)
{
  GstElement *pipeline, *src, *sink;
  GstCaps *caps;
  static const gchar *const lines[] = {
    "{\"a\":1,\"hidden\":0,\"b\":\"x\"}\n{\"a\"", ":2}\n{\"b\":null}\n",
    "{\"a\":2}\n{\"c\":[1,2]}\n"
  };
  static const gchar *const states[] = {
    "{\"a\":1,\"b\":\"x\"}\n", "{\"a\":2,\"b\":\"x\"}\n",
    "{\"a\":2,\"b\":null}\n", "{\"a\":2,\"b\":null,\"c\":[1,2]}\n",
  };
  guint i;

  pipeline = gst_parse_launch ("appsrc name=src format=time ! "
      "dspay signals=\"<a,b,c>\" sync-interval=2 ! dsdepay ! "
      "appsink name=sink sync=false", NULL);
  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  caps = gst_caps_from_string (GST_DS_SIGNAL_MEDIA_TYPE);
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  for (i = 0; i < G_N_ELEMENTS (lines); i++)
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
            bytes_buffer (lines[i], strlen (lines[i]), i * MS)), GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  for (i = 0; i < G_N_ELEMENTS (states); i++) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    GstBuffer *out;
    gchar *text;
    gsize len;

    fail_unless (sample != NULL, "state %u missing", i);
    out = gst_sample_get_buffer (sample);
    len = gst_buffer_get_size (out);
    text = g_malloc0 (len + 1);
    gst_buffer_extract (out, 0, text, len);
    fail_unless_equals_string (text, states[i]);
    g_free (text);
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_pull_sample (GST_APP_SINK (sink)) == NULL);
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)));

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Versioned signals through dspay ! dsdepay: the receiver holds the
 * versions; a stale version line changes nothing */
GST_START_TEST (test_round_trip_versions)
{
  GstElement *pipeline, *src, *sink;
  GstCaps *caps;
  static const gchar lines[] =
      "{\"_v\":{\"count\":9},\"count\":3}\n"
      "{\"_v\":{\"count\":8},\"count\":100}\n"
      "{\"label\":\"x\"}\n" "{\"_v\":{\"count\":12},\"count\":5}\n";
  static const gchar *const states[] = {
    "{\"count\":3,\"_v\":{\"count\":9}}\n",
    "{\"count\":3,\"label\":\"x\",\"_v\":{\"count\":9}}\n",
    "{\"count\":5,\"label\":\"x\",\"_v\":{\"count\":12}}\n",
  };
  guint i;

  pipeline = gst_parse_launch ("appsrc name=src format=time ! "
      "dspay sync-interval=0 ! dsdepay ! appsink name=sink sync=false", NULL);
  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  caps = gst_caps_from_string (GST_DS_SIGNAL_MEDIA_TYPE);
  g_object_set (src, "caps", caps, NULL);
  gst_caps_unref (caps);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
          bytes_buffer (lines, strlen (lines), 0)), GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  for (i = 0; i < G_N_ELEMENTS (states); i++) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    GstBuffer *out;
    gchar *text;
    gsize len;

    fail_unless (sample != NULL, "state %u missing", i);
    out = gst_sample_get_buffer (sample);
    len = gst_buffer_get_size (out);
    text = g_malloc0 (len + 1);
    gst_buffer_extract (out, 0, text, len);
    fail_unless_equals_string (text, states[i]);
    g_free (text);
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_pull_sample (GST_APP_SINK (sink)) == NULL);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* EncodedVideo (issue 14) */

#define H264_CAPS "video/x-h264,stream-format=byte-stream,alignment=au," \
  "width=64,height=48,framerate=25/1"

/* One access unit per frame: codec byte, reserved 0, the unit's bytes
 * shared; FLAG_KEYFRAME when the buffer is no delta unit; the size from
 * the caps; the timestamp from the PTS */
GST_START_TEST (test_encoded_units)
{
  static const guint8 idr[] = { 0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x65 };
  static const guint8 p[] = { 0, 0, 0, 1, 0x41, 0x9a };
  GstHarness *h = pay_new (H264_CAPS, NULL);
  GstBuffer *in, *out;
  GstCaps *caps, *want;
  DsHeader hdr;
  GstMapInfo map;

  in = bytes_buffer (idr, sizeof (idr), 40 * MS);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  hdr = frame_header (out);
  fail_unless_equals_int (hdr.type, DS_FRAME_ENCODED_VIDEO);
  fail_unless_equals_int (hdr.flags, DS_FLAG_KEYFRAME);
  fail_unless_equals_int (hdr.width, 64);
  fail_unless_equals_int (hdr.height, 48);
  fail_unless_equals_int (hdr.timestamp, 40);
  fail_unless_equals_int (hdr.payload_len, 2 + sizeof (idr));
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  fail_unless_equals_int (map.data[DS_HEADER_SIZE], DS_CODEC_H264);
  fail_unless_equals_int (map.data[DS_HEADER_SIZE + 1], 0);
  fail_unless (memcmp (map.data + DS_HEADER_SIZE + 2, idr, sizeof (idr)) == 0);
  gst_buffer_unmap (out, &map);
  fail_if (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DELTA_UNIT));
  gst_buffer_unref (out);

  caps = gst_pad_get_current_caps (h->sinkpad);
  want = gst_caps_from_string (GST_DS_STREAM_MEDIA_TYPE ",media=video,"
      "codec=h264,width=64,height=48,framerate=25/1");
  fail_unless (gst_caps_is_equal (caps, want), "%" GST_PTR_FORMAT, caps);
  gst_caps_unref (want);
  gst_caps_unref (caps);

  in = bytes_buffer (p, sizeof (p), 80 * MS);
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DELTA_UNIT);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  hdr = frame_header (out);
  fail_unless_equals_int (hdr.flags, 0);
  fail_unless_equals_int (hdr.timestamp, 80);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DELTA_UNIT));
  gst_buffer_unref (out);

  /* an empty buffer is no unit */
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new ()), GST_FLOW_OK);
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_int (count_warnings (h), 0);

  /* a presentation time that goes back (B-frames): warned about once */
  in = bytes_buffer (p, sizeof (p), 60 * MS);
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DELTA_UNIT);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  fail_unless_equals_int (count_warnings (h), 1);
  in = bytes_buffer (p, sizeof (p), 50 * MS);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  fail_unless_equals_int (count_warnings (h), 0);

  pay_free (h);
}

GST_END_TEST;

/* What dspay cannot carry is refused in negotiation with what to use */
static const gchar *const refused_caps[] = {
  "video/x-h264,stream-format=avc,alignment=au,width=64,height=48",
  "video/x-h264,stream-format=byte-stream,alignment=nal,width=64,height=48",
  "video/x-h265,stream-format=hvc1,alignment=au,width=64,height=48",
  "video/x-av1,stream-format=annexb,alignment=tu,width=64,height=48",
  "video/x-vp9,alignment=frame,width=64,height=48",
};

GST_START_TEST (test_encoded_caps_refused)
{
  GstHarness *h = pay_new (NULL, NULL);
  GstCaps *caps = gst_caps_from_string (refused_caps[__i__]);
  GstBus *bus = gst_element_get_bus (h->element);
  GstMessage *msg;
  GError *error = NULL;
  gchar *debug = NULL;
  GstPad *sinkpad;

  fail_if (gst_pad_peer_query_accept_caps (h->srcpad, caps));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning for %s", refused_caps[__i__]);
  gst_message_parse_warning (msg, &error, &debug);
  fail_unless (strstr (debug, "parse") != NULL, "%s", debug);
  GST_INFO ("%s: %s", refused_caps[__i__], debug);
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
  /* and the caps event too, when it comes without a query */
  sinkpad = gst_element_get_static_pad (h->element, "sink");
  fail_if (gst_pad_send_event (sinkpad, gst_event_new_caps (caps)));
  gst_object_unref (sinkpad);
  fail_unless_equals_int (count_warnings (h), 1);
  gst_caps_unref (caps);
  gst_object_unref (bus);
  pay_free (h);
}

GST_END_TEST;

/* Keyframe requests from downstream go upstream to the encoder as a
 * GstForceKeyUnit event (a KeyframeRequest input event becomes one) */
GST_START_TEST (test_encoded_keyframe_request_upstream)
{
  GstHarness *h = pay_new ("video/x-vp8,width=64,height=48", NULL);
  GstEvent *event;
  gboolean all_headers = FALSE;

  fail_unless (gst_harness_push_upstream_event (h,
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 3)));
  while ((event = gst_harness_pull_upstream_event (h)) &&
      !gst_video_event_is_force_key_unit (event))
    gst_event_unref (event);
  fail_unless (event != NULL);
  gst_event_unref (event);

  fail_unless (gst_harness_push_upstream_event (h,
          gst_ds_input_event_new_raw (DS_INPUT_KEYFRAME_REQUEST, NULL)));
  while ((event = gst_harness_pull_upstream_event (h)) &&
      !gst_video_event_is_force_key_unit (event))
    gst_event_unref (event);
  fail_unless (event != NULL);
  fail_unless (gst_video_event_parse_upstream_force_key_unit (event, NULL,
          &all_headers, NULL));
  fail_unless (all_headers);
  gst_event_unref (event);

  pay_free (h);
}

GST_END_TEST;

static Suite *
dspay_suite (void)
{
  Suite *s = suite_create ("dspay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_media_kinds, 0, G_N_ELEMENTS (media_cases));
  tcase_add_test (tc, test_video_memories_shared);
  tcase_add_test (tc, test_unshareable_memory);
  tcase_add_test (tc, test_video_stride);
  tcase_add_test (tc, test_video_padded_stride);
  tcase_add_loop_test (tc, test_opaque_formats, 0, G_N_ELEMENTS (opaque_cases));
  tcase_add_test (tc, test_opaque_round_trip);
  tcase_add_test (tc, test_allocation_video_meta);
  tcase_add_test (tc, test_allocation_no_video_meta_for_audio);
  tcase_add_test (tc, test_data_before_caps_error);
  tcase_add_test (tc, test_caps_query);
  tcase_add_test (tc, test_bad_media_buffers);
  tcase_add_test (tc, test_renegotiation);
  tcase_add_test (tc, test_seq_wrap);
  tcase_add_test (tc, test_timestamp_wrap);
  tcase_add_test (tc, test_byte_segment);
  tcase_add_test (tc, test_signals_any_chunking);
  tcase_add_test (tc, test_signals_byte_by_byte);
  tcase_add_loop_test (tc, test_signal_cases, 0, G_N_ELEMENTS (signal_cases));
  tcase_add_loop_test (tc, test_signal_warnings, 0,
      G_N_ELEMENTS (signal_cases));
  tcase_add_test (tc, test_signal_hostile_lines);
  tcase_add_test (tc, test_signal_long_line_chunks);
  tcase_add_test (tc, test_signal_stream_start_and_requests);
  tcase_add_test (tc, test_signals_property);
  tcase_add_test (tc, test_end_before_eos);
  tcase_add_loop_test (tc, test_round_trip, 0, G_N_ELEMENTS (round_trip_cases));
  tcase_add_test (tc, test_round_trip_signals);
  tcase_add_test (tc, test_round_trip_versions);
  tcase_add_test (tc, test_encoded_units);
  tcase_add_loop_test (tc, test_encoded_caps_refused, 0,
      G_N_ELEMENTS (refused_caps));
  tcase_add_test (tc, test_encoded_keyframe_request_upstream);

  return s;
}

GST_CHECK_MAIN (dspay);
