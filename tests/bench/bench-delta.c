/* gst-ds-stream
 * Copyright (C) 2026 gst-ds-stream developers
 *
 * bench-delta: the DeltaPixels run-length code (encode, decode) against
 * memcpy of the same picture, and zstd and lz4 on the same deltas
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
 * Usage: build/tests/bench/bench-delta [--frames N] [--repeats R]
 *            [--cold] [--levels] [--content NAME]
 *    or: meson test -C build --benchmark delta --verbose
 *
 * Contents, 1920x1080 RGBA: videotestsrc ball, smpte with
 * horizontal-speed=4, snow, and a synthetic desktop (desktop-scene.c: a
 * terminal scrolling a line every other frame, a window dragged across
 * the screen, a clock, static text windows). For each pair of consecutive
 * pictures (reference, current) it times, on one thread:
 *
 *  - memcpy of the current picture (the yardstick, same run, same data);
 *  - ds_rle_encode_xor() with dst_cap = raw size, as dsdelta calls it
 *    (on noise it gives up when the code passes the raw size);
 *  - ds_rle_encode_xor_update(), what dsdelta really runs on deltas (it
 *    also brings the reference up to date);
 *  - ds_rle_decode_xor() onto a separate picture (out = ref ^ code) and
 *    in place (the receiver's one picture updated);
 *  - zstd level 1 and lz4 on the run-length code and on the raw XOR.
 *
 * Every timed call runs R times (default 3) and the fastest counts, then
 * the median over the frames is printed. GB/s are bytes of raw picture
 * (8294400 per frame) per second. With --cold, a 256 MiB buffer is read
 * before every timed call, so the pictures come from memory, not cache.
 * Every decoded picture is checked against the original.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <zstd.h>
#ifdef HAVE_LZ4
#include <lz4.h>
#endif

#include "dsprotocol.h"
#include "dsrle.h"
#include "dsscroll.h"
#include "desktop-scene.h"

#define WIDTH 1920
#define HEIGHT 1080
#define RAW_SIZE ((gsize) WIDTH * HEIGHT * 4)

#define DEFAULT_FRAMES 30
#define DEFAULT_REPEATS 3
#define EVICT_SIZE (256 * 1024 * 1024)

static guint n_repeats = DEFAULT_REPEATS;
static gboolean cold = FALSE;
static gboolean levels = FALSE;
static guint8 *evict_buffer;
static volatile guint64 evict_sink;

typedef struct
{
  const gchar *name;
  const gchar *source;          /* videotestsrc description, or NULL */
  DesktopSceneVariant variant;  /* of the desktop, when source is NULL */
} Content;

static const Content contents[] = {
  {"ball", "videotestsrc pattern=ball"},
  {"smpte-hspeed", "videotestsrc pattern=smpte horizontal-speed=4"},
  {"snow", "videotestsrc pattern=snow"},
  {"desktop", NULL, DESKTOP_SCENE_FULL},
  {"desktop-scroll", NULL, DESKTOP_SCENE_SCROLL},
  {"desktop-typing", NULL, DESKTOP_SCENE_TYPING},
};

static gdouble
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
evict_caches (void)
{
  guint64 sum = 0;
  gsize i;

  if (!cold)
    return;
  for (i = 0; i < EVICT_SIZE; i += 64)
    sum += evict_buffer[i];
  evict_sink += sum;
}

static int
compare_doubles (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

static gdouble
median (gdouble * values, guint n)
{
  if (n == 0)
    return 0;
  qsort (values, n, sizeof (gdouble), compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static GPtrArray *
make_pictures (const Content * content, guint n)
{
  GPtrArray *pictures = g_ptr_array_new_with_free_func (g_free);
  GstElement *pipeline, *sink;
  GstSample *sample;
  gchar *desc;
  guint i;

  if (content->source == NULL) {
    for (i = 0; i < n; i++) {
      guint8 *p = g_malloc (RAW_SIZE);

      desktop_scene_render_variant (p, WIDTH, HEIGHT, i, content->variant);
      g_ptr_array_add (pictures, p);
    }
    return pictures;
  }

  desc = g_strdup_printf ("%s num-buffers=%u ! video/x-raw,format=RGBA,"
      "width=%u,height=%u,framerate=30/1 ! appsink name=sink sync=false",
      content->source, n, WIDTH, HEIGHT);
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  g_assert (pipeline != NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstBuffer *buf = gst_sample_get_buffer (sample);
    guint8 *p = g_malloc (RAW_SIZE);

    g_assert (gst_buffer_get_size (buf) == RAW_SIZE);
    gst_buffer_extract (buf, 0, p, RAW_SIZE);
    g_ptr_array_add (pictures, p);
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_assert (pictures->len == n);

  return pictures;
}

/* Runs @code n_repeats times (after @setup each time, untimed) and
 * stores the fastest time in seconds in @out */
#define TIME_BEST(out, setup, code) \
  G_STMT_START { \
    guint _r; \
    gdouble _best = G_MAXDOUBLE; \
    for (_r = 0; _r < n_repeats; _r++) { \
      gdouble _t0; \
      setup; \
      evict_caches (); \
      _t0 = now_seconds (); \
      code; \
      _best = MIN (_best, now_seconds () - _t0); \
    } \
    (out) = _best; \
  } G_STMT_END

typedef enum
{
  M_MEMCPY,
  M_ENCODE,
  M_ENCODE_UPDATE,
  M_DECODE,
  M_DECODE_IN_PLACE,
  M_RLE_SIZE,
  M_ZSTD_RLE_SIZE,
  M_ZSTD_RLE_TIME,
  M_ZSTD_XOR_SIZE,
  M_ZSTD_XOR_TIME,
  M_LZ4_RLE_SIZE,
  M_LZ4_RLE_TIME,
  M_LZ4_XOR_SIZE,
  M_LZ4_XOR_TIME,
  M_ELEMENT_ZSTD_TIME,
  M_SCROLL_TIME,
  M_SCROLL_MOVES,
  N_MEASURES
} Measure;

#define N_LEVELS 6
static const gint zstd_levels[N_LEVELS] = { -5, -1, 1, 2, 3, 6 };

/* The dsdelta element itself, driven by hand (no thread): every picture
 * pushed as a Pixels frame, the time of each push and the payload sizes
 * of what comes out */
static gsize element_out_len;

static GstFlowReturn
element_sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  element_out_len = gst_buffer_get_size (buffer) - DS_HEADER_SIZE;
  gst_buffer_unref (buffer);
  return GST_FLOW_OK;
}

static void
run_element (GPtrArray * pictures, guint n_frames, const gchar * properties,
    gdouble * bytes_per_frame, gdouble * ms_per_frame)
{
  gdouble *best = g_new (gdouble, n_frames);
  guint64 total = 0;
  guint r, i;

  for (i = 0; i < n_frames; i++)
    best[i] = G_MAXDOUBLE;

  for (r = 0; r < n_repeats; r++) {
    gchar *desc = g_strdup_printf ("dsdelta keyframe-interval=0 %s",
        properties);
    GstElement *delta = gst_parse_launch (desc, NULL);
    GstPad *src = gst_pad_new ("src", GST_PAD_SRC);
    GstPad *sink = gst_pad_new ("sink", GST_PAD_SINK);
    GstPad *delta_sink, *delta_src;
    GstSegment segment;

    g_free (desc);
    g_assert (delta != NULL);
    delta_sink = gst_element_get_static_pad (delta, "sink");
    delta_src = gst_element_get_static_pad (delta, "src");
    gst_pad_set_chain_function (sink, element_sink_chain);
    g_assert (gst_pad_link (src, delta_sink) == GST_PAD_LINK_OK);
    g_assert (gst_pad_link (delta_src, sink) == GST_PAD_LINK_OK);
    gst_pad_set_active (src, TRUE);
    gst_pad_set_active (sink, TRUE);
    gst_element_set_state (delta, GST_STATE_PLAYING);
    gst_pad_push_event (src, gst_event_new_stream_start ("bench"));
    gst_pad_push_event (src, gst_event_new_caps (gst_caps_from_string
            ("application/x-ds-stream,media=video")));
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (src, gst_event_new_segment (&segment));

    total = 0;
    for (i = 0; i <= n_frames; i++) {
      DsHeader header = { 0, };
      GstBuffer *frame = gst_buffer_new_allocate (NULL, DS_HEADER_SIZE, NULL);
      GstMapInfo map;
      gdouble t0, t;

      header.type = DS_FRAME_PIXELS;
      header.flags = DS_FLAG_KEYFRAME;
      header.seq = i;
      header.width = WIDTH;
      header.height = HEIGHT;
      header.payload_len = RAW_SIZE;
      gst_buffer_map (frame, &map, GST_MAP_WRITE);
      ds_header_pack (&header, map.data);
      gst_buffer_unmap (frame, &map);
      gst_buffer_append_memory (frame,
          gst_memory_new_wrapped (GST_MEMORY_FLAG_READONLY,
              g_ptr_array_index (pictures, i), RAW_SIZE, 0, RAW_SIZE, NULL,
              NULL));
      GST_BUFFER_PTS (frame) = i * GST_SECOND / 30;

      evict_caches ();
      t0 = now_seconds ();
      g_assert (gst_pad_push (src, frame) == GST_FLOW_OK);
      t = now_seconds () - t0;
      /* the first picture is the keyframe */
      if (i == 0)
        continue;
      best[i - 1] = MIN (best[i - 1], t);
      total += element_out_len;
    }

    gst_element_set_state (delta, GST_STATE_NULL);
    gst_object_unref (delta_sink);
    gst_object_unref (delta_src);
    gst_object_unref (src);
    gst_object_unref (sink);
    gst_object_unref (delta);
  }

  *bytes_per_frame = (gdouble) total / n_frames;
  *ms_per_frame = median (best, n_frames) * 1e3;
  g_free (best);
}

static void
print_element (GPtrArray * pictures, guint n_frames)
{
  static const gchar *compressions[] = { "none", "zstd" };
  GstElement *probe = gst_element_factory_make ("dsdelta", NULL);
  gboolean has_motion;
  guint c;

  /* an older plugin (GST_PLUGIN_PATH) for a baseline: without motion */
  g_assert (probe != NULL);
  has_motion = g_object_class_find_property (G_OBJECT_GET_CLASS (probe),
      "motion") != NULL;
  gst_object_unref (probe);

  for (c = 0; c < G_N_ELEMENTS (compressions); c++) {
    gdouble bytes[2] = { 0, }, ms[2] = { 0, };
    guint m;

    for (m = has_motion ? 2 : 1; m-- > 0;) {
      gchar *props = g_strdup_printf ("compression=%s%s", compressions[c],
          has_motion ? (m ? " motion=true" : " motion=false") : "");

      run_element (pictures, n_frames, props, &bytes[m], &ms[m]);
      g_free (props);
    }
    printf ("  dsdelta compression=%-4s  motion=false %10.1f KB/frame "
        "%7.3f ms | motion=true %10.1f KB/frame %7.3f ms\n", compressions[c],
        bytes[0] / 1000, ms[0], bytes[1] / 1000, ms[1]);
  }
}

static void
run_content (const Content * content, guint n_frames)
{
  GPtrArray *pictures = make_pictures (content, n_frames + 1);
  guint8 *dst = g_malloc (RAW_SIZE);
  guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (RAW_SIZE));
  guint8 *work = g_malloc (RAW_SIZE);
  guint8 *xored = g_malloc (RAW_SIZE);
  gsize zcap = ZSTD_compressBound (DS_RLE_MAX_ENCODED_SIZE (RAW_SIZE));
  guint8 *zbuf = g_malloc (zcap);
  ZSTD_CCtx *zctx = ZSTD_createCCtx ();
  DsScrollDetector *scroll = ds_scroll_detector_new ();
  DsMotionMove moves[DS_SCROLL_MAX_MOVES];
  gdouble *values[N_MEASURES];
  gdouble *level_sizes[2][N_LEVELS], *level_times[2][N_LEVELS];
  guint fallbacks = 0, i, m, l, v;
  gdouble med[N_MEASURES];
  gdouble raw_gb = RAW_SIZE / 1e9;

  for (m = 0; m < N_MEASURES; m++)
    values[m] = g_new0 (gdouble, n_frames);
  for (v = 0; v < 2; v++)
    for (l = 0; l < N_LEVELS; l++) {
      level_sizes[v][l] = g_new0 (gdouble, n_frames);
      level_times[v][l] = g_new0 (gdouble, n_frames);
    }

  /* touch every buffer once */
  memset (dst, 1, RAW_SIZE);
  memset (work, 1, RAW_SIZE);
  memset (code, 1, DS_RLE_MAX_ENCODED_SIZE (RAW_SIZE));
  memset (zbuf, 1, zcap);

  for (i = 0; i < n_frames; i++) {
    const guint8 *ref = g_ptr_array_index (pictures, i);
    const guint8 *cur = g_ptr_array_index (pictures, i + 1);
    gsize len = 0, full_len, k;
    gsize zlen = 0;
    gdouble t;

    TIME_BEST (t, (void) 0, memcpy (dst, cur, RAW_SIZE));
    values[M_MEMCPY][i] = t;

    /* the worst case: both pictures hashed */
    TIME_BEST (t, ds_scroll_detector_reset (scroll), k =
        ds_scroll_detect (scroll, cur, ref, WIDTH, HEIGHT, moves));
    values[M_SCROLL_TIME][i] = t;
    values[M_SCROLL_MOVES][i] = k;

    TIME_BEST (t, (void) 0, len = ds_rle_encode_xor (cur, ref, RAW_SIZE, dst,
            RAW_SIZE));
    values[M_ENCODE][i] = t;
    if (len == 0)
      fallbacks++;

    TIME_BEST (t, memcpy (work, ref, RAW_SIZE),
        len = ds_rle_encode_xor_update (cur, work, RAW_SIZE, dst, RAW_SIZE));
    values[M_ENCODE_UPDATE][i] = t;
    g_assert (memcmp (work, cur, RAW_SIZE) == 0);

    /* the whole code, whatever its size, for the size figures */
    full_len = ds_rle_encode_xor (cur, ref, RAW_SIZE, code,
        DS_RLE_MAX_ENCODED_SIZE (RAW_SIZE));
    g_assert (full_len > 0);
    values[M_RLE_SIZE][i] = full_len;

    TIME_BEST (t, (void) 0, ds_rle_decode_xor (code, full_len, ref, work,
            RAW_SIZE, NULL));
    values[M_DECODE][i] = t;
    g_assert (memcmp (work, cur, RAW_SIZE) == 0);

    TIME_BEST (t, memcpy (work, ref, RAW_SIZE), ds_rle_decode_xor (code,
            full_len, work, work, RAW_SIZE, NULL));
    values[M_DECODE_IN_PLACE][i] = t;
    g_assert (memcmp (work, cur, RAW_SIZE) == 0);

    for (k = 0; k < RAW_SIZE; k++)
      xored[k] = cur[k] ^ ref[k];

    TIME_BEST (t, (void) 0, zlen = ZSTD_compressCCtx (zctx, zbuf, zcap, code,
            full_len, 1));
    g_assert (!ZSTD_isError (zlen));
    values[M_ZSTD_RLE_SIZE][i] = zlen;
    values[M_ZSTD_RLE_TIME][i] = t;

    /* what dsdelta compression=zstd costs per frame: code, then zstd */
    values[M_ELEMENT_ZSTD_TIME][i] = values[M_ENCODE_UPDATE][i] + t;

    TIME_BEST (t, (void) 0, zlen = ZSTD_compressCCtx (zctx, zbuf, zcap, xored,
            RAW_SIZE, 1));
    g_assert (!ZSTD_isError (zlen));
    values[M_ZSTD_XOR_SIZE][i] = zlen;
    values[M_ZSTD_XOR_TIME][i] = t;

#ifdef HAVE_LZ4
    {
      gint l4 = 0;

      TIME_BEST (t, (void) 0, l4 = LZ4_compress_default ((const char *) code,
              (char *) zbuf, full_len, zcap));
      g_assert (l4 > 0);
      values[M_LZ4_RLE_SIZE][i] = l4;
      values[M_LZ4_RLE_TIME][i] = t;
      TIME_BEST (t, (void) 0, l4 = LZ4_compress_default ((const char *) xored,
              (char *) zbuf, RAW_SIZE, zcap));
      g_assert (l4 > 0);
      values[M_LZ4_XOR_SIZE][i] = l4;
      values[M_LZ4_XOR_TIME][i] = t;
    }
#endif

    if (levels) {
      for (l = 0; l < N_LEVELS; l++) {
        TIME_BEST (t, (void) 0, zlen = ZSTD_compressCCtx (zctx, zbuf, zcap,
                code, full_len, zstd_levels[l]));
        level_sizes[0][l][i] = zlen;
        level_times[0][l][i] = t;
        TIME_BEST (t, (void) 0, zlen = ZSTD_compressCCtx (zctx, zbuf, zcap,
                xored, RAW_SIZE, zstd_levels[l]));
        level_sizes[1][l][i] = zlen;
        level_times[1][l][i] = t;
      }
    }
  }

  for (m = 0; m < N_MEASURES; m++)
    med[m] = median (values[m], n_frames);

  printf ("\n== %s: %u deltas of 1920x1080 RGBA (%" G_GSIZE_FORMAT
      " bytes raw)%s\n", content->name, n_frames, RAW_SIZE,
      cold ? ", caches evicted before each call" : "");
  printf ("  run-length code, median   %10.1f KB/frame  %8.1fx smaller "
      "than raw%s\n", med[M_RLE_SIZE] / 1000, RAW_SIZE / med[M_RLE_SIZE],
      med[M_RLE_SIZE] > RAW_SIZE ? "  (LARGER: sent raw)" : "");
  printf ("  deltas sent raw (code > raw)  %u of %u\n", fallbacks, n_frames);
  printf ("  memcpy                    %8.2f GB/s  %7.3f ms\n",
      raw_gb / med[M_MEMCPY], med[M_MEMCPY] * 1e3);
  printf ("  encode (cap = raw)        %8.2f GB/s  %7.3f ms  %5.2fx memcpy "
      "time\n", raw_gb / med[M_ENCODE], med[M_ENCODE] * 1e3,
      med[M_ENCODE] / med[M_MEMCPY]);
  printf ("  encode + ref update       %8.2f GB/s  %7.3f ms  %5.2fx memcpy "
      "time\n", raw_gb / med[M_ENCODE_UPDATE], med[M_ENCODE_UPDATE] * 1e3,
      med[M_ENCODE_UPDATE] / med[M_MEMCPY]);
  printf ("  scroll detection, cold    %8.2f GB/s  %7.3f ms  %5.2fx memcpy "
      "time, %.0f moves\n", raw_gb / med[M_SCROLL_TIME],
      med[M_SCROLL_TIME] * 1e3, med[M_SCROLL_TIME] / med[M_MEMCPY],
      med[M_SCROLL_MOVES]);
  printf ("  decode (out = ref ^ code) %8.2f GB/s  %7.3f ms  %5.2fx memcpy "
      "time\n", raw_gb / med[M_DECODE], med[M_DECODE] * 1e3,
      med[M_DECODE] / med[M_MEMCPY]);
  printf ("  decode in place           %8.2f GB/s  %7.3f ms  %5.2fx memcpy "
      "time\n", raw_gb / med[M_DECODE_IN_PLACE],
      med[M_DECODE_IN_PLACE] * 1e3, med[M_DECODE_IN_PLACE] / med[M_MEMCPY]);
  printf ("  zstd-1 on the code        %10.1f KB/frame  %8.1fx  %7.3f ms\n",
      med[M_ZSTD_RLE_SIZE] / 1000, RAW_SIZE / med[M_ZSTD_RLE_SIZE],
      med[M_ZSTD_RLE_TIME] * 1e3);
  printf ("  zstd-1 on the raw XOR     %10.1f KB/frame  %8.1fx  %7.3f ms\n",
      med[M_ZSTD_XOR_SIZE] / 1000, RAW_SIZE / med[M_ZSTD_XOR_SIZE],
      med[M_ZSTD_XOR_TIME] * 1e3);
#ifdef HAVE_LZ4
  printf ("  lz4 on the code           %10.1f KB/frame  %8.1fx  %7.3f ms\n",
      med[M_LZ4_RLE_SIZE] / 1000, RAW_SIZE / med[M_LZ4_RLE_SIZE],
      med[M_LZ4_RLE_TIME] * 1e3);
  printf ("  lz4 on the raw XOR        %10.1f KB/frame  %8.1fx  %7.3f ms\n",
      med[M_LZ4_XOR_SIZE] / 1000, RAW_SIZE / med[M_LZ4_XOR_SIZE],
      med[M_LZ4_XOR_TIME] * 1e3);
#endif
  printf ("  compression=zstd (level 1), code + zstd: %7.3f ms/frame\n",
      med[M_ELEMENT_ZSTD_TIME] * 1e3);

  print_element (pictures, n_frames);

  if (levels) {
    static const gchar *what[2] = { "code", "raw XOR" };

    for (v = 0; v < 2; v++)
      for (l = 0; l < N_LEVELS; l++) {
        gdouble size = median (level_sizes[v][l], n_frames);
        gdouble time = median (level_times[v][l], n_frames);

        printf ("  zstd %3d on the %-8s %10.1f KB/frame  %8.1fx  %7.3f ms\n",
            zstd_levels[l], what[v], size / 1000, RAW_SIZE / size, time * 1e3);
      }
  }
  fflush (stdout);

  for (m = 0; m < N_MEASURES; m++)
    g_free (values[m]);
  for (v = 0; v < 2; v++)
    for (l = 0; l < N_LEVELS; l++) {
      g_free (level_sizes[v][l]);
      g_free (level_times[v][l]);
    }
  ZSTD_freeCCtx (zctx);
  ds_scroll_detector_free (scroll);
  g_free (zbuf);
  g_free (xored);
  g_free (work);
  g_free (code);
  g_free (dst);
  g_ptr_array_unref (pictures);
}

int
main (int argc, char **argv)
{
  guint n_frames = DEFAULT_FRAMES;
  const gchar *only = NULL;
  gint a;
  guint c;

  for (a = 1; a < argc; a++) {
    if (g_str_equal (argv[a], "--frames") && a + 1 < argc)
      n_frames = atoi (argv[++a]);
    else if (g_str_equal (argv[a], "--repeats") && a + 1 < argc)
      n_repeats = atoi (argv[++a]);
    else if (g_str_equal (argv[a], "--cold"))
      cold = TRUE;
    else if (g_str_equal (argv[a], "--levels"))
      levels = TRUE;
    else if (g_str_equal (argv[a], "--content") && a + 1 < argc)
      only = argv[++a];
    else {
      fprintf (stderr, "usage: %s [--frames N] [--repeats R] [--cold] "
          "[--levels] [--content ball|smpte-hspeed|snow|desktop|desktop-scroll|"
          "desktop-typing]\n", argv[0]);
      return 2;
    }
  }

  n_frames = MAX (n_frames, 1);
  n_repeats = MAX (n_repeats, 1);
  gst_init (NULL, NULL);

  if (cold) {
    evict_buffer = g_malloc (EVICT_SIZE);
    memset (evict_buffer, 1, EVICT_SIZE);
  }

  printf ("bench-delta: %u deltas per content, best of %u per call, "
      "medians over frames\n", n_frames, n_repeats);
  for (c = 0; c < G_N_ELEMENTS (contents); c++)
    if (only == NULL || g_str_equal (only, contents[c].name))
      run_content (&contents[c], n_frames);

  g_free (evict_buffer);
  return 0;
}
