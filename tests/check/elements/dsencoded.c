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

/* Encoded video (EncodedVideo, 0x05) through dspay and dsdepay with a
 * real encoder: the one named by DS_ENCODER (x264enc, openh264enc,
 * x265enc, vp8enc, vp9enc, av1enc). meson runs this program once per
 * encoder; when the encoder's plugin is not installed the program exits
 * 77, which meson reports as skipped, naming the missing plugin. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/app.h>
#include <gst/video/video.h>

#include "dsprotocol.h"
#include "gstdsutils.h"

#define WIDTH 320
#define HEIGHT 240
#define N_FRAMES 24

typedef struct
{
  const gchar *encoder;
  const gchar *settings;        /* for a live screen */
  const gchar *keyframe_interval;       /* its property */
  const gchar *parser;          /* before dspay, or NULL */
  const gchar *decoder;         /* the matching decoder */
  const gchar *media_type;
  DsCodec codec;
  /* the encoder makes no keyframe on a GstForceKeyUnit event (av1enc
   * of GStreamer 1.22 does not look at it): only that the event reaches
   * it is checked */
  gboolean ignores_force_key_unit;
} Codec;

static const Codec codecs[] = {
  {"x264enc", "tune=zerolatency bframes=0 speed-preset=ultrafast",
        "key-int-max", "h264parse config-interval=-1", "avdec_h264",
      "video/x-h264", DS_CODEC_H264},
  {"openh264enc", "", "gop-size", "h264parse", "openh264dec", "video/x-h264",
      DS_CODEC_H264},
  {"x265enc", "tune=zerolatency speed-preset=ultrafast", "key-int-max",
        "h265parse config-interval=-1", "avdec_h265", "video/x-h265",
      DS_CODEC_H265},
  {"vp8enc", "deadline=1 lag-in-frames=0", "keyframe-max-dist", NULL,
      "vp8dec", "video/x-vp8", DS_CODEC_VP8},
  {"vp9enc", "deadline=1 lag-in-frames=0", "keyframe-max-dist", NULL,
      "vp9dec", "video/x-vp9", DS_CODEC_VP9},
  {"av1enc", "usage-profile=realtime cpu-used=8 lag-in-frames=0",
        "keyframe-max-dist", NULL, "av1dec", "video/x-av1", DS_CODEC_AV1,
      TRUE},
};

static const Codec *codec;

static gchar *
encoder_description (guint keyframe_interval)
{
  return g_strdup_printf ("%s %s %s=%u%s%s", codec->encoder,
      codec->settings, codec->keyframe_interval, keyframe_interval,
      codec->parser ? " ! " : "", codec->parser ? codec->parser : "");
}

/* The access units the encoder makes of N_FRAMES test pictures, with
 * their caps */
static GList *
encode (GstCaps ** caps)
{
  gchar *enc = encoder_description (10);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%u pattern=smpte "
      "! video/x-raw,width=%u,height=%u,framerate=30/1 ! %s ! appsink "
      "name=units sync=false", N_FRAMES, WIDTH, HEIGHT, enc);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *sink, *pay = gst_element_factory_make ("dspay", NULL);
  GstPad *pay_sink = gst_element_get_static_pad (pay, "sink");
  GstCaps *pay_caps = gst_pad_get_pad_template_caps (pay_sink);
  GstSample *sample;
  GList *units = NULL;

  fail_unless (pipeline != NULL, "cannot make %s", desc);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "units");
  /* what dspay would negotiate */
  g_object_set (sink, "caps", pay_caps, NULL);
  gst_caps_unref (pay_caps);
  gst_object_unref (pay_sink);
  gst_object_unref (pay);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
  *caps = NULL;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink))) != NULL) {
    if (*caps == NULL)
      *caps = gst_caps_ref (gst_sample_get_caps (sample));
    units = g_list_append (units, gst_buffer_ref (gst_sample_get_buffer
            (sample)));
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (enc);
  fail_unless (*caps != NULL, "%s made nothing", codec->encoder);
  return units;
}

/* dsdepay with a harness on its video pad, made when the pad appears */
typedef struct
{
  GstHarness *h;
  GstHarness *video;
} Depay;

static void
pad_added_cb (GstElement * element, GstPad * pad, Depay * d)
{
  fail_unless_equals_string (GST_PAD_NAME (pad), "video");
  d->video = gst_harness_new_with_element (element, NULL, NULL);
  gst_harness_add_element_src_pad (d->video, pad);
}

static guint8
frame_flags (GstBuffer * frame)
{
  guint8 header[DS_HEADER_SIZE];

  fail_unless_equals_int (gst_buffer_extract (frame, 0, header,
          DS_HEADER_SIZE), DS_HEADER_SIZE);
  return header[1];
}

/* Every access unit comes out of dspay ! dsdepay with the same bytes,
 * in the same number, with the same keyframe flags, and with caps of the
 * same codec and size */
GST_START_TEST (test_round_trip_bit_exact)
{
  GstCaps *caps, *out_caps;
  GList *units = encode (&caps), *l;
  GstHarness *pay = gst_harness_new ("dspay");
  Depay d = { NULL, };
  guint n = 0, keyframes = 0;
  GstStructure *s;
  gint width = 0, height = 0;

  d.h = gst_harness_new_with_padnames ("dsdepay", "sink", NULL);
  g_signal_connect (d.h->element, "pad-added", G_CALLBACK (pad_added_cb), &d);
  gst_harness_set_src_caps (pay, gst_caps_ref (caps));
  fail_unless (g_list_length (units) >= N_FRAMES - 2, "%u units",
      g_list_length (units));

  for (l = units; l; l = l->next) {
    GstBuffer *unit = l->data, *frame, *out;
    GstMapInfo map;
    gboolean key = !GST_BUFFER_FLAG_IS_SET (unit, GST_BUFFER_FLAG_DELTA_UNIT);

    fail_unless_equals_int (gst_harness_push (pay, gst_buffer_ref (unit)),
        GST_FLOW_OK);
    frame = gst_harness_pull (pay);
    fail_unless_equals_int (!!(frame_flags (frame) & DS_FLAG_KEYFRAME), key);
    if (n == 0) {
      GstCaps *frame_caps = gst_pad_get_current_caps (pay->sinkpad);

      gst_harness_set_src_caps (d.h, frame_caps);
    }
    fail_unless_equals_int (gst_harness_push (d.h, frame), GST_FLOW_OK);
    fail_unless (d.video != NULL);
    out = gst_harness_pull (d.video);
    fail_unless (gst_buffer_get_size (out) == gst_buffer_get_size (unit));
    fail_unless (gst_buffer_map (unit, &map, GST_MAP_READ));
    fail_unless (gst_buffer_memcmp (out, 0, map.data, map.size) == 0,
        "unit %u differs", n);
    gst_buffer_unmap (unit, &map);
    fail_unless_equals_int (!GST_BUFFER_FLAG_IS_SET (out,
            GST_BUFFER_FLAG_DELTA_UNIT), key);
    keyframes += key;
    gst_buffer_unref (out);
    n++;
  }
  fail_unless_equals_int (n, g_list_length (units));
  fail_unless (keyframes >= 2, "%u keyframes", keyframes);
  /* nothing more, nothing less */
  fail_unless (gst_harness_try_pull (d.video) == NULL);

  out_caps = gst_pad_get_current_caps (d.video->sinkpad);
  s = gst_caps_get_structure (out_caps, 0);
  fail_unless_equals_string (gst_structure_get_name (s), codec->media_type);
  fail_unless (gst_structure_get_int (s, "width", &width));
  fail_unless (gst_structure_get_int (s, "height", &height));
  fail_unless_equals_int (width, WIDTH);
  fail_unless_equals_int (height, HEIGHT);
  /* H.264: the encoder's profile and level, read from the SPS */
  if (codec->codec == DS_CODEC_H264) {
    GstStructure *in = gst_caps_get_structure (caps, 0);

    fail_unless_equals_string (gst_structure_get_string (s, "profile"),
        gst_structure_get_string (in, "profile"));
    fail_unless_equals_string (gst_structure_get_string (s, "level"),
        gst_structure_get_string (in, "level"));
  }
  gst_caps_unref (out_caps);

  gst_harness_teardown (d.video);
  gst_harness_teardown (d.h);
  gst_harness_teardown (pay);
  gst_caps_unref (caps);
  g_list_free_full (units, (GDestroyNotify) gst_buffer_unref);
}

GST_END_TEST;

/* The units decode: through decodebin, and through the codec's decoder */
static void
check_decode (const gchar * decode)
{
  gchar *enc = encoder_description (10);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%u pattern=white "
      "! video/x-raw,width=%u,height=%u,framerate=30/1 ! %s ! dspay ! "
      "dsdepay ! %s ! videoconvert ! video/x-raw,format=RGBA ! appsink "
      "name=out sync=false", N_FRAMES, WIDTH, HEIGHT, enc, decode);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *sink;
  GstSample *sample;
  guint n = 0;

  GST_INFO ("%s", desc);
  fail_unless (pipeline != NULL, "cannot make %s", desc);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink))) != NULL) {
    GstBuffer *buffer = gst_sample_get_buffer (sample);
    GstVideoInfo info;
    GstVideoFrame frame;

    fail_unless (gst_video_info_from_caps (&info, gst_sample_get_caps
            (sample)));
    fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&info), WIDTH);
    fail_unless (gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ));
    /* a white picture, lossy: the middle pixel is light */
    {
      const guint8 *p = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame,
          0) + (HEIGHT / 2) * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) +
          (WIDTH / 2) * 4;

      fail_unless (p[0] > 200 && p[1] > 200 && p[2] > 200, "pixel %u,%u,%u",
          p[0], p[1], p[2]);
    }
    gst_video_frame_unmap (&frame);
    gst_sample_unref (sample);
    n++;
  }
  fail_unless_equals_int (n, N_FRAMES);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (enc);
}

GST_START_TEST (test_decodebin)
{
  check_decode ("decodebin");
}

GST_END_TEST;

GST_START_TEST (test_decoder)
{
  const gchar *parser = codec->codec == DS_CODEC_H264 ? "h264parse ! " :
      codec->codec == DS_CODEC_H265 ? "h265parse ! " : "";
  gchar *decode;
  GstPluginFeature *feature = GST_PLUGIN_FEATURE (gst_element_factory_find
      (codec->decoder));

  if (feature == NULL) {
    /* decodebin found another one above */
    g_printerr ("SKIP part: no %s here\n", codec->decoder);
    return;
  }
  gst_object_unref (feature);
  decode = g_strdup_printf ("%s%s", parser, codec->decoder);
  check_decode (decode);
  g_free (decode);
  /* H.264 straight from dsdepay, no parser: its caps carry the profile
   * and level of the SPS, which openh264dec needs to link */
  if (codec->codec == DS_CODEC_H264)
    check_decode (codec->decoder);
}

GST_END_TEST;

/* Pushes one picture into @h (the encoder and dspay) and returns the
 * frames out of dspay so far, appended to @frames */
static void
push_picture (GstHarness * h, guint i, GPtrArray * frames)
{
  GstBuffer *out;

  fail_unless_equals_int (gst_harness_push_from_src (h), GST_FLOW_OK);
  while ((out = gst_harness_try_pull (h)) != NULL) {
    GST_DEBUG ("picture %u: frame flags 0x%x", i, frame_flags (out));
    g_ptr_array_add (frames, out);
  }
}

/* Whether a frame of @frames from @from on, within @within frames, is a
 * keyframe */
static gboolean
has_keyframe (GPtrArray * frames, guint from, guint within)
{
  guint i;

  for (i = from; i < frames->len && i < from + within; i++)
    if (frame_flags (g_ptr_array_index (frames, i)) & DS_FLAG_KEYFRAME)
      return TRUE;
  return FALSE;
}

static GstPadProbeReturn
count_force_key_unit (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

/* Counts the GstForceKeyUnit events that reach the encoder in @bin */
static void
watch_encoder (GstElement * bin, gint * count)
{
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (bin));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *element = g_value_get_object (&item);
    GstElementFactory *factory = gst_element_get_factory (element);

    if (factory && g_str_equal (GST_OBJECT_NAME (factory), codec->encoder)) {
      GstPad *pad = gst_element_get_static_pad (element, "src");

      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
          count_force_key_unit, count, NULL);
      gst_object_unref (pad);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

/* Keyframes on demand: a GstForceKeyUnit event and a ds-stream
 * KeyframeRequest reaching dspay from downstream (what dsrelaysink sends
 * upstream on a receiver's KeyframeRequest) go on to the encoder, and the
 * next or a near-next frame out of dspay is a keyframe */
GST_START_TEST (test_keyframe_on_demand)
{
  gchar *enc = encoder_description (1000);
  gchar *desc = g_strdup_printf ("%s ! dspay", enc);
  GstHarness *h = gst_harness_new_parse (desc);
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  guint i, mark;
  gint reached = 0;

  watch_encoder (h->element, &reached);
  gst_harness_add_src_parse (h, "videotestsrc pattern=ball ! capsfilter "
      "caps=video/x-raw,format=I420,width=320,height=240,framerate=30/1",
      FALSE);
  for (i = 0; i < 6; i++)
    push_picture (h, i, frames);
  fail_unless (frames->len >= 3, "%u frames out", frames->len);
  fail_unless (frame_flags (g_ptr_array_index (frames, 0)) & DS_FLAG_KEYFRAME);
  /* no keyframe of its own after the first: what follows is asked for */
  fail_if (has_keyframe (frames, 1, frames->len));

  mark = frames->len;
  fail_unless (gst_harness_push_upstream_event (h,
          gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
              TRUE, 1)));
  for (i = 0; i < 6; i++)
    push_picture (h, 6 + i, frames);
  fail_unless_equals_int (g_atomic_int_get (&reached), 1);
  if (codec->ignores_force_key_unit) {
    gchar *version = gst_version_string ();

    g_printerr ("NOTE: the GstForceKeyUnit event reached %s, which makes "
        "no keyframe of it in %s\n", codec->encoder, version);
    g_free (version);
    goto done;
  }
  fail_unless (has_keyframe (frames, mark, 3), "no keyframe in the 3 "
      "frames after a GstForceKeyUnit (%u frames)", frames->len - mark);

  for (i = 0; i < 6; i++)
    push_picture (h, 12 + i, frames);
  mark = frames->len;
  fail_if (has_keyframe (frames, mark - 3, 3));
  fail_unless (gst_harness_push_upstream_event (h,
          gst_ds_input_event_new_raw (DS_INPUT_KEYFRAME_REQUEST, NULL)));
  for (i = 0; i < 6; i++)
    push_picture (h, 18 + i, frames);
  fail_unless (has_keyframe (frames, mark, 3), "no keyframe in the 3 "
      "frames after a KeyframeRequest (%u frames)", frames->len - mark);
  fail_unless_equals_int (g_atomic_int_get (&reached), 2);

done:
  g_ptr_array_unref (frames);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (enc);
}

GST_END_TEST;

static Suite *
dsencoded_suite (void)
{
  Suite *s = suite_create ("dsencoded");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_round_trip_bit_exact);
  tcase_add_test (tc, test_decodebin);
  tcase_add_test (tc, test_decoder);
  tcase_add_test (tc, test_keyframe_on_demand);

  return s;
}

int
main (int argc, char **argv)
{
  const gchar *name = g_getenv ("DS_ENCODER");
  GstElementFactory *factory;
  Suite *s;
  guint i;

  gst_check_init (&argc, &argv);

  for (i = 0; name && i < G_N_ELEMENTS (codecs); i++)
    if (g_str_equal (name, codecs[i].encoder))
      codec = &codecs[i];
  if (codec == NULL) {
    g_printerr ("DS_ENCODER must name one of the encoders of the table\n");
    return 1;
  }
  factory = gst_element_factory_find (codec->encoder);
  if (factory == NULL) {
    g_printerr ("SKIP: no %s element here (install its GStreamer plugin: "
        "scripts/apt-packages.txt)\n", codec->encoder);
    return 77;
  }
  gst_object_unref (factory);

  s = dsencoded_suite ();
  return gst_check_run_suite (s, "dsencoded", codec->encoder);
}
