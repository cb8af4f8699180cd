/* gst-ds-stream
 * Copyright (C) 2026 gst-ds-stream developers
 *
 * bench-desktop-codecs: encodes one raw screen recording with dsdelta
 * (four configurations) and with peer video encoders, one GstHarness per
 * encoder, and prints machine-readable results for bench-desktop.py
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
 * Usage: build/tests/bench/bench-desktop-codecs --raw FILE --width W
 *            --height H [--format BGRx] [--frames N] [--scene NAME]
 *            [--only CONFIG,...]
 *    normally run by tests/bench/bench-desktop.py (see there), which
 *    records the scenes and prints the table.
 *
 * FILE holds N pictures of W×H×4 bytes back to back, as ximagesrc made
 * them (BGRx on a 24-bit X screen). Every picture gets pts i/30 s.
 *
 * Our configurations: each picture goes through a harness holding
 * `dspay` (BGRx to RGBA, not timed), then through a harness holding only
 * `dsdelta keyframe-interval=0 ...` (gst_harness_push timed: the encode),
 * then each output frame through a harness holding only `dsdepay`
 * (gst_harness_push timed: the decode). The decoded RGBA picture is
 * compared with the captured one: R, G and B must equal the capture's
 * colour bytes exactly and alpha must be 255 (the capture's x byte is
 * padding and is not compared). Any difference, a missing or an extra
 * picture counts as a mismatch.
 *
 * Peers: a harness holding `videoconvert` to the encoder's input format
 * (not timed), then a harness holding only the encoder (gst_harness_push
 * timed); EOS at the end drains encoders that hold frames back, and
 * every output buffer counts. Sizes are the encoded access units alone,
 * without a container.
 *
 * Output, one line each, tab-separated:
 *   config NAME DESCRIPTION
 *   result SCENE NAME FRAMES OUTPUTS MEDIAN_BYTES MEAN_BYTES_AFTER_FIRST
 *          MEDIAN_MS MEDIAN_DECODE_MS MISMATCHES KINDS
 *   skip SCENE NAME REASON
 *   mismatch SCENE NAME FRAME DETAIL
 * MEDIAN_DECODE_MS is -1 for peers (not decoded). KINDS counts the frame
 * types dsdelta sent (P Pixels, K keyframe DeltaPixels, D DeltaPixels,
 * M MotionDeltaPixels, z of them compressed), "-" for peers.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <glib/gstdio.h>

#include "dsprotocol.h"

/* gstdsutils.h GST_DS_STREAM_MEDIA_TYPE */
#define DS_STREAM_CAPS "application/x-ds-stream"

#define MAX_MISMATCH_LINES 5

typedef struct
{
  const gchar *name;
  /* dsdelta properties, or NULL for a peer */
  const gchar *delta_props;
  /* peer: encoder input format and launch description */
  const gchar *peer_format;
  const gchar *peer_launch;
  /* peer: its keyframe distance property and its factory */
  const gchar *peer_keyframe_prop;
  const gchar *peer_factory;
} Config;

/* Peers' settings are printed by the "config" lines; their keyframe
 * distance is set larger than the recording: frame 0 is the only
 * keyframe, as for dsdelta keyframe-interval=0. */
static const Config configs[] = {
  {"delta", "compression=none motion=false", NULL, NULL, NULL, NULL},
  {"delta-zstd", "compression=zstd motion=false", NULL, NULL, NULL, NULL},
  {"motion", "compression=none motion=true", NULL, NULL, NULL, NULL},
  {"motion-zstd", "compression=zstd motion=true", NULL, NULL, NULL, NULL},
  {"x264-lossless-444", NULL, "Y444",
      "x264enc pass=quant quantizer=0 speed-preset=ultrafast "
        "tune=zerolatency", "key-int-max", "x264enc"},
  {"x264-qp18", NULL, "I420",
      "x264enc pass=quant quantizer=18 speed-preset=ultrafast "
        "tune=zerolatency", "key-int-max", "x264enc"},
  {"vp8", NULL, "I420",
      "vp8enc deadline=1 cpu-used=6 threads=2 lag-in-frames=0 "
        "end-usage=cq cq-level=10 min-quantizer=4 max-quantizer=20 "
        "target-bitrate=100000000", "keyframe-max-dist", "vp8enc"},
  {"x264rgb-lossless", NULL, "RGB",
      "avenc_libx264rgb", "gop-size", "avenc_libx264rgb"},
};

static const gchar *raw_path;
static const gchar *scene = "scene";
static const gchar *format_name = "BGRx";
static guint width, height, n_frames;
static gchar **only;

static gdouble
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
compare_doubles (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

static gdouble
median (gdouble * values, guint n)
{
  gdouble *sorted;
  gdouble m;

  if (n == 0)
    return -1;
  sorted = g_memdup2 (values, n * sizeof (gdouble));
  qsort (sorted, n, sizeof (gdouble), compare_doubles);
  m = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  g_free (sorted);
  return m;
}

static GstBuffer *
read_picture (FILE * f, guint index)
{
  gsize size = (gsize) width * height * 4;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;
  gsize got;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  got = fread (map.data, 1, size, f);
  gst_buffer_unmap (buf, &map);
  if (got != size) {
    gst_buffer_unref (buf);
    return NULL;
  }
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (index, GST_SECOND, 30);
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static gchar *
raw_caps_string (const gchar * format)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%u,height=%u,"
      "framerate=30/1,pixel-aspect-ratio=1/1", format, width, height);
}

/* Byte offsets of R, G and B in the capture's format */
static gboolean
colour_offsets (guint offsets[3])
{
  GstVideoFormat format = gst_video_format_from_string (format_name);
  const GstVideoFormatInfo *finfo = gst_video_format_get_info (format);
  guint i;

  if (format == GST_VIDEO_FORMAT_UNKNOWN
      || !GST_VIDEO_FORMAT_INFO_IS_RGB (finfo)
      || GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, 0) != 4)
    return FALSE;
  for (i = 0; i < 3; i++)
    offsets[i] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, i);
  return TRUE;
}

/* Compares a decoded RGBA picture with the captured one; returns TRUE
 * when equal, else fills @detail with the first difference. */
static gboolean
compare_picture (GstBuffer * decoded, GstBuffer * captured,
    const guint offsets[3], GString * detail)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (decoded);
  gsize stride = meta ? (gsize) meta->stride[0] : (gsize) width * 4;
  gsize offset = meta ? meta->offset[0] : 0;
  GstMapInfo dmap, cmap;
  gboolean equal = TRUE;
  guint x, y;

  if (meta && (meta->width != width || meta->height != height)) {
    g_string_printf (detail, "decoded picture is %ux%u", meta->width,
        meta->height);
    return FALSE;
  }
  gst_buffer_map (decoded, &dmap, GST_MAP_READ);
  gst_buffer_map (captured, &cmap, GST_MAP_READ);
  if (dmap.size < offset + stride * (height - 1) + width * 4) {
    g_string_printf (detail, "decoded picture has %" G_GSIZE_FORMAT
        " bytes", dmap.size);
    equal = FALSE;
    goto done;
  }
  for (y = 0; y < height && equal; y++) {
    const guint8 *d = dmap.data + offset + y * stride;
    const guint8 *c = cmap.data + (gsize) y * width * 4;

    for (x = 0; x < width; x++, d += 4, c += 4) {
      if (d[0] != c[offsets[0]] || d[1] != c[offsets[1]]
          || d[2] != c[offsets[2]] || d[3] != 255) {
        g_string_printf (detail, "pixel (%u,%u): decoded RGBA %02x%02x%02x%02x,"
            " captured RGB %02x%02x%02x", x, y, d[0], d[1], d[2], d[3],
            c[offsets[0]], c[offsets[1]], c[offsets[2]]);
        equal = FALSE;
        break;
      }
    }
  }
done:
  gst_buffer_unmap (captured, &cmap);
  gst_buffer_unmap (decoded, &dmap);
  return equal;
}

static void
depay_pad_added (GstElement * element, GstPad * pad, GstHarness ** out)
{
  if (g_strcmp0 (GST_PAD_NAME (pad), "video") != 0 || *out)
    return;
  *out = gst_harness_new_with_element (element, NULL, NULL);
  gst_harness_add_element_src_pad (*out, pad);
}

static void
print_result (const Config * config, guint frames, guint outputs,
    gdouble * bytes, guint n_bytes, gdouble * ms, gdouble * decode_ms,
    guint mismatches, const gchar * kinds)
{
  gdouble sum = 0;
  guint i;

  for (i = 1; i < n_bytes; i++)
    sum += bytes[i];
  printf ("result\t%s\t%s\t%u\t%u\t%.0f\t%.0f\t%.3f\t%.3f\t%u\t%s\n", scene,
      config->name, frames, outputs, median (bytes, n_bytes),
      n_bytes > 1 ? sum / (n_bytes - 1) : -1, median (ms, frames),
      decode_ms ? median (decode_ms, frames) : -1, mismatches, kinds);
  fflush (stdout);
}

static gboolean
run_delta (const Config * config)
{
  GstHarness *pay, *delta, *depay, *out = NULL;
  gdouble *bytes = g_new0 (gdouble, n_frames);
  gdouble *ms = g_new0 (gdouble, n_frames);
  gdouble *decode_ms = g_new0 (gdouble, n_frames);
  guint kinds[5] = { 0 }, kinds_z[5] = { 0 };
  guint offsets[3], mismatches = 0, outputs = 0, i;
  GString *detail = g_string_new (NULL);
  gchar *caps, *props, *kind_str;
  gchar **settings, **setting;
  FILE *f;

  if (!colour_offsets (offsets)) {
    printf ("skip\t%s\t%s\tcapture format %s is not 4-byte RGB\n", scene,
        config->name, format_name);
    return FALSE;
  }
  f = fopen (raw_path, "rb");
  if (!f) {
    g_printerr ("cannot open %s\n", raw_path);
    exit (2);
  }

  pay = gst_harness_new ("dspay");
  caps = raw_caps_string (format_name);
  gst_harness_set_src_caps_str (pay, caps);
  g_free (caps);

  delta = gst_harness_new ("dsdelta");
  props = g_strdup_printf ("keyframe-interval=0 %s", config->delta_props);
  settings = g_strsplit (props, " ", -1);
  for (setting = settings; *setting; setting++) {
    gchar **kv = g_strsplit (*setting, "=", 2);

    gst_util_set_object_arg (G_OBJECT (delta->element), kv[0], kv[1]);
    g_strfreev (kv);
  }
  g_strfreev (settings);
  printf ("config\t%s\tdspay (untimed) ! dsdelta %s ! dsdepay\n",
      config->name, props);
  g_free (props);
  gst_harness_set_src_caps_str (delta, DS_STREAM_CAPS);

  depay = gst_harness_new_with_padnames ("dsdepay", "sink", NULL);
  g_signal_connect (depay->element, "pad-added",
      G_CALLBACK (depay_pad_added), &out);
  gst_harness_set_src_caps_str (depay, DS_STREAM_CAPS);

  for (i = 0; i < n_frames; i++) {
    GstBuffer *captured = read_picture (f, i);
    GstBuffer *frame, *coded, *decoded;
    guint got = 0;
    gdouble t0;

    if (!captured) {
      g_printerr ("%s: short recording: %u pictures\n", raw_path, i);
      exit (2);
    }
    gst_harness_push (pay, gst_buffer_ref (captured));
    frame = gst_harness_pull (pay);

    t0 = now_ms ();
    if (gst_harness_push (delta, frame) != GST_FLOW_OK) {
      g_printerr ("%s: dsdelta refused picture %u\n", config->name, i);
      exit (2);
    }
    ms[i] = now_ms () - t0;

    while ((coded = gst_harness_try_pull (delta))) {
      guint8 head[2];

      bytes[i] += gst_buffer_get_size (coded);
      outputs++;
      if (gst_buffer_extract (coded, 0, head, 2) == 2 && head[0] >= 1
          && head[0] <= 4) {
        guint k = head[0] == DS_FRAME_PIXELS ? 0 :
            head[0] == DS_FRAME_MOTION_DELTA_PIXELS ? 3 :
            head[0] == DS_FRAME_DELTA_PIXELS ?
            ((head[1] & DS_FLAG_KEYFRAME) ? 1 : 2) : 4;

        kinds[k]++;
        if (head[1] & DS_FLAG_COMPRESSED)
          kinds_z[k]++;
      }
      t0 = now_ms ();
      gst_harness_push (depay, coded);
      decode_ms[i] += now_ms () - t0;
    }

    while (out && (decoded = gst_harness_try_pull (out))) {
      got++;
      if (got == 1 && !compare_picture (decoded, captured, offsets, detail)) {
        if (mismatches < MAX_MISMATCH_LINES)
          printf ("mismatch\t%s\t%s\t%u\t%s\n", scene, config->name, i,
              detail->str);
        mismatches++;
      }
      gst_buffer_unref (decoded);
    }
    if (got != 1) {
      if (mismatches < MAX_MISMATCH_LINES)
        printf ("mismatch\t%s\t%s\t%u\t%u decoded pictures for one input\n",
            scene, config->name, i, got);
      mismatches++;
    }
    gst_buffer_unref (captured);
  }
  fclose (f);

  kind_str = g_strdup_printf ("P%u(z%u) K%u(z%u) D%u(z%u) M%u(z%u)",
      kinds[0], kinds_z[0], kinds[1], kinds_z[1], kinds[2], kinds_z[2],
      kinds[3], kinds_z[3]);
  print_result (config, n_frames, outputs, bytes, n_frames, ms, decode_ms,
      mismatches, kind_str);
  g_free (kind_str);

  if (out)
    gst_harness_teardown (out);
  gst_harness_teardown (depay);
  gst_harness_teardown (delta);
  gst_harness_teardown (pay);
  g_string_free (detail, TRUE);
  g_free (bytes);
  g_free (ms);
  g_free (decode_ms);
  return mismatches == 0;
}

static void
run_peer (const Config * config)
{
  GstHarness *convert, *enc;
  GArray *bytes = g_array_new (FALSE, FALSE, sizeof (gdouble));
  gdouble *ms = g_new0 (gdouble, n_frames);
  GstElementFactory *factory;
  gchar *caps, *launch;
  GstBuffer *coded;
  guint i;
  FILE *f;

  factory = gst_element_factory_find (config->peer_factory);
  if (!factory) {
    printf ("skip\t%s\t%s\tno element %s (gst-inspect-1.0 %s)\n", scene,
        config->name, config->peer_factory, config->peer_factory);
    g_array_free (bytes, TRUE);
    g_free (ms);
    return;
  }
  gst_object_unref (factory);

  f = fopen (raw_path, "rb");
  if (!f) {
    g_printerr ("cannot open %s\n", raw_path);
    exit (2);
  }
  launch = g_strdup_printf ("%s %s=%u", config->peer_launch,
      config->peer_keyframe_prop, n_frames + 1);
  printf ("config\t%s\tvideoconvert ! video/x-raw,format=%s (untimed) ! %s\n",
      config->name, config->peer_format, launch);

  convert = gst_harness_new ("videoconvert");
  caps = raw_caps_string (format_name);
  gst_harness_set_src_caps_str (convert, caps);
  g_free (caps);
  caps = raw_caps_string (config->peer_format);
  gst_harness_set_sink_caps_str (convert, caps);

  enc = gst_harness_new_parse (launch);
  gst_harness_set_src_caps_str (enc, caps);
  g_free (caps);
  g_free (launch);

  for (i = 0; i < n_frames; i++) {
    GstBuffer *captured = read_picture (f, i);
    GstBuffer *converted;
    gdouble t0;

    if (!captured) {
      g_printerr ("%s: short recording: %u pictures\n", raw_path, i);
      exit (2);
    }
    gst_harness_push (convert, captured);
    converted = gst_harness_pull (convert);

    t0 = now_ms ();
    if (gst_harness_push (enc, converted) != GST_FLOW_OK) {
      g_printerr ("%s: encoder refused picture %u\n", config->name, i);
      exit (2);
    }
    ms[i] = now_ms () - t0;

    while ((coded = gst_harness_try_pull (enc))) {
      gdouble size = gst_buffer_get_size (coded);

      g_array_append_val (bytes, size);
      gst_buffer_unref (coded);
    }
  }
  fclose (f);

  /* encoders that hold pictures back give them up at EOS */
  gst_harness_push_event (enc, gst_event_new_eos ());
  while ((coded = gst_harness_try_pull (enc))) {
    gdouble size = gst_buffer_get_size (coded);

    g_array_append_val (bytes, size);
    gst_buffer_unref (coded);
  }

  print_result (config, n_frames, bytes->len, (gdouble *) bytes->data,
      bytes->len, ms, NULL, 0, "-");

  gst_harness_teardown (enc);
  gst_harness_teardown (convert);
  g_array_free (bytes, TRUE);
  g_free (ms);
}

static gboolean
wanted (const Config * config)
{
  return !only || g_strv_contains ((const gchar * const *) only, config->name);
}

int
main (int argc, char **argv)
{
  gchar *only_list = NULL;
  gint w = 0, h = 0, frames = 0;
  gboolean ok = TRUE;
  GOptionEntry entries[] = {
    {"raw", 0, 0, G_OPTION_ARG_FILENAME, &raw_path, "Raw recording", "FILE"},
    {"width", 0, 0, G_OPTION_ARG_INT, &w, "Picture width", "W"},
    {"height", 0, 0, G_OPTION_ARG_INT, &h, "Picture height", "H"},
    {"format", 0, 0, G_OPTION_ARG_STRING, &format_name,
        "Capture format (default BGRx)", "FORMAT"},
    {"frames", 0, 0, G_OPTION_ARG_INT, &frames,
        "Pictures to encode (default: all in the file)", "N"},
    {"scene", 0, 0, G_OPTION_ARG_STRING, &scene, "Scene name", "NAME"},
    {"only", 0, 0, G_OPTION_ARG_STRING, &only_list,
        "Comma-separated configurations to run", "LIST"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- encode a screen recording");
  GError *error = NULL;
  guint i;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (!raw_path || w <= 0 || h <= 0) {
    g_printerr ("--raw, --width and --height are needed\n");
    return 2;
  }
  width = w;
  height = h;
  if (frames <= 0) {
    GStatBuf st;

    if (g_stat (raw_path, &st) != 0) {
      g_printerr ("cannot stat %s\n", raw_path);
      return 2;
    }
    frames = st.st_size / ((gsize) width * height * 4);
  }
  n_frames = frames;
  if (only_list)
    only = g_strsplit (only_list, ",", -1);

  for (i = 0; i < G_N_ELEMENTS (configs); i++) {
    if (!wanted (&configs[i]))
      continue;
    if (configs[i].delta_props)
      ok &= run_delta (&configs[i]);
    else
      run_peer (&configs[i]);
  }
  g_strfreev (only);
  return ok ? 0 : 1;
}
