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

/**
 * SECTION:element-dsmux
 * @title: dsmux
 * @see_also: dspay, dsdelta, dsrelaysink, dsparse, dsdepay
 *
 * Joins several ds-streams (a screencast from `dspay ! dsdelta`, its
 * sound and its signals, each from its own dspay) into one ds-stream, in
 * the order of their running times, as `mpegtsmux` joins elementary
 * streams: `dsmux ! dsrelaysink` publishes them on one channel, and
 * `dsmux ! filesink` records them in one `.ds` file.
 *
 * Frames pass unchanged: each input keeps the sequence numbers its dspay
 * gave it (receivers check them per kind of frame, SPEC §6), so one
 * input of each kind (pictures, sound, signals) is joined: a second
 * input of a kind already present is an error. The output buffers are
 * timestamped with their running time; GAP events send nothing. The End frame of each input
 * is not passed on: dsmux sends one End frame when every input has ended,
 * then EOS.
 *
 * Upstream events from downstream (the input that dsrelaysink turns into
 * events) go where they mean something: GstNavigation events and
 * GstForceKeyUnit (a keyframe request) to the picture inputs only (those
 * whose caps say `media=video` or `image`, or say nothing), every other
 * event (GstDsInput, ...) to all inputs.
 *
 * dsmux is a #GstAggregator. With live sources (a screen, a microphone) an
 * input that has nothing to say, such as signals that did not change,
 * does not hold the others back longer than the pipeline latency (plus
 * #GstAggregator:latency). When every input is not live, dsmux waits for
 * each to have a frame before it can order them: a sparse input (signals
 * read from a pipe by `fdsrc`) then holds back the others; make such an
 * input live (`appsrc is-live=true do-timestamp=true`) or have one live
 * source in the pipeline.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 dsmux name=m ! dsrelaysink location=ws://127.0.0.1:9100/peer/demo \
 *     videotestsrc is-live=true ! video/x-raw,format=RGBA,width=320,height=240 ! dspay ! dsdelta ! m. \
 *     audiotestsrc is-live=true ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! dspay ! m.
 * ]| Publishes a picture and a tone on one channel.
 * |[
 * gst-launch-1.0 -e dsmux name=m ! filesink location=demo.ds \
 *     videotestsrc is-live=true num-buffers=90 ! video/x-raw,format=RGBA,width=320,height=240 ! dspay ! dsdelta ! m. \
 *     audiotestsrc is-live=true num-buffers=150 ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! dspay ! m.
 * ]| Records a picture and its sound in one file (play it back with
 * `filesrc location=demo.ds ! dsparse ! dsdepay`).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>
#include <string.h>
#include <ds/dsprotocol.h>
#include <ds/dsstream.h>
#include <ds/gstdsutils.h>

#include "gstdsstreamelements.h"
#include "gstdsmux.h"

GST_DEBUG_CATEGORY_STATIC (gst_ds_mux_debug);
#define GST_CAT_DEFAULT gst_ds_mux_debug

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

/* An input: one ds-stream */
struct _GstDsMuxPad
{
  GstAggregatorPad parent;

  DsMedia media;                /* from the caps, under the object lock */
};

G_DEFINE_TYPE (GstDsMuxPad, gst_ds_mux_pad, GST_TYPE_AGGREGATOR_PAD);

static void
gst_ds_mux_pad_class_init (GstDsMuxPadClass * klass)
{
}

static void
gst_ds_mux_pad_init (GstDsMuxPad * pad)
{
  pad->media = DS_MEDIA_NONE;
}

struct _GstDsMux
{
  GstAggregator parent;

  /* state, on the aggregate thread */
  gboolean caps_sent;
  guint32 last_timestamp;       /* of the last frame, for the End frame */
  GstClockTime last_running_time;
  /* the input of each seq stream (not a ref: compared only, cleared
   * when the pad goes) */
  GstAggregatorPad *owner[DS_SEQ_N_STREAMS];
};

#define gst_ds_mux_parent_class parent_class
G_DEFINE_TYPE (GstDsMux, gst_ds_mux, GST_TYPE_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dsmux, "dsmux", GST_RANK_NONE,
    GST_TYPE_DS_MUX, ds_stream_element_init (plugin));

static gboolean gst_ds_mux_start (GstAggregator * agg);
static GstFlowReturn gst_ds_mux_flush (GstAggregator * agg);
static GstFlowReturn gst_ds_mux_aggregate (GstAggregator * agg,
    gboolean timeout);
static GstClockTime gst_ds_mux_get_next_time (GstAggregator * agg);
static gboolean gst_ds_mux_sink_event (GstAggregator * agg,
    GstAggregatorPad * pad, GstEvent * event);
static gboolean gst_ds_mux_src_event (GstAggregator * agg, GstEvent * event);
static void gst_ds_mux_release_pad (GstElement * element, GstPad * pad);

static void
gst_ds_mux_class_init (GstDsMuxClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &src_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_DS_MUX_PAD);

  gst_element_class_set_static_metadata (element_class,
      "ds-stream muxer", "Codec/Muxer",
      "Joins ds-streams (pictures, sound, signals) into one, in running-time "
      "order", "gst-ds-stream developers");

  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_ds_mux_release_pad);
  agg_class->start = GST_DEBUG_FUNCPTR (gst_ds_mux_start);
  agg_class->flush = GST_DEBUG_FUNCPTR (gst_ds_mux_flush);
  agg_class->aggregate = GST_DEBUG_FUNCPTR (gst_ds_mux_aggregate);
  agg_class->get_next_time = GST_DEBUG_FUNCPTR (gst_ds_mux_get_next_time);
  agg_class->sink_event = GST_DEBUG_FUNCPTR (gst_ds_mux_sink_event);
  agg_class->src_event = GST_DEBUG_FUNCPTR (gst_ds_mux_src_event);

  gst_type_mark_as_plugin_api (GST_TYPE_DS_MUX_PAD, 0);

  GST_DEBUG_CATEGORY_INIT (gst_ds_mux_debug, "dsmux", 0, "ds-stream muxer");
}

static void
gst_ds_mux_init (GstDsMux * self)
{
  self->last_running_time = GST_CLOCK_TIME_NONE;
}

static void
gst_ds_mux_reset (GstDsMux * self)
{
  memset (self->owner, 0, sizeof (self->owner));
  self->caps_sent = FALSE;
  self->last_timestamp = 0;
  self->last_running_time = GST_CLOCK_TIME_NONE;
}

/* A released input no longer owns its kind of frames */
static void
gst_ds_mux_release_pad (GstElement * element, GstPad * pad)
{
  GstDsMux *self = GST_DS_MUX (element);
  guint i;

  GST_OBJECT_LOCK (self);
  for (i = 0; i < DS_SEQ_N_STREAMS; i++) {
    if (self->owner[i] == (GstAggregatorPad *) pad)
      self->owner[i] = NULL;
  }
  GST_OBJECT_UNLOCK (self);

  GST_ELEMENT_CLASS (parent_class)->release_pad (element, pad);
}

static gboolean
gst_ds_mux_start (GstAggregator * agg)
{
  gst_ds_mux_reset (GST_DS_MUX (agg));
  return TRUE;
}

static GstFlowReturn
gst_ds_mux_flush (GstAggregator * agg)
{
  GstDsMux *self = GST_DS_MUX (agg);

  self->last_timestamp = 0;
  self->last_running_time = GST_CLOCK_TIME_NONE;
  return GST_FLOW_OK;
}

/* The running time of @buffer on @pad; 0 (at once) when it has none */
static GstClockTime
gst_ds_mux_running_time (GstAggregatorPad * pad, GstBuffer * buffer)
{
  GstClockTime running_time;

  if (!GST_BUFFER_PTS_IS_VALID (buffer))
    return 0;
  running_time = gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buffer));
  return GST_CLOCK_TIME_IS_VALID (running_time) ? running_time : 0;
}

/* The input whose next frame is the earliest (a ref), or NULL when no
 * input has a frame; @all_eos: every input has ended */
static GstAggregatorPad *
gst_ds_mux_find_earliest (GstDsMux * self, GstClockTime * running_time,
    gboolean * all_eos)
{
  GstAggregatorPad *best = NULL;
  GstClockTime best_time = GST_CLOCK_TIME_NONE;
  GList *l;

  *all_eos = TRUE;
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l != NULL; l = l->next) {
    GstAggregatorPad *pad = l->data;
    GstBuffer *buffer = gst_aggregator_pad_peek_buffer (pad);
    GstClockTime t;

    if (buffer == NULL) {
      if (!gst_aggregator_pad_is_eos (pad))
        *all_eos = FALSE;
      continue;
    }
    *all_eos = FALSE;
    t = gst_ds_mux_running_time (pad, buffer);
    gst_buffer_unref (buffer);
    if (best == NULL || t < best_time) {
      best = pad;
      best_time = t;
    }
  }
  if (best)
    gst_object_ref (best);
  GST_OBJECT_UNLOCK (self);

  *running_time = best_time;
  return best;
}

static GstClockTime
gst_ds_mux_get_next_time (GstAggregator * agg)
{
  GstClockTime running_time;
  GstAggregatorPad *pad;
  gboolean all_eos;

  pad = gst_ds_mux_find_earliest (GST_DS_MUX (agg), &running_time, &all_eos);
  if (pad == NULL)
    return GST_CLOCK_TIME_NONE;
  gst_object_unref (pad);
  return running_time;
}

static void
gst_ds_mux_ensure_caps (GstDsMux * self)
{
  GstCaps *caps;

  if (self->caps_sent)
    return;
  caps = gst_caps_new_empty_simple (GST_DS_STREAM_MEDIA_TYPE);
  gst_aggregator_set_src_caps (GST_AGGREGATOR (self), caps);
  gst_caps_unref (caps);
  self->caps_sent = TRUE;
}

/* Every input has ended: one End frame for the joined stream */
static GstFlowReturn
gst_ds_mux_finish (GstDsMux * self)
{
  DsHeader header = { 0, };
  GstBuffer *end;
  GstFlowReturn ret;

  gst_ds_mux_ensure_caps (self);
  header.type = DS_FRAME_END;
  header.timestamp = self->last_timestamp;
  end = gst_ds_frame_buffer_new_data (&header, NULL, 0);
  GST_BUFFER_PTS (end) = self->last_running_time;
  GST_DEBUG_OBJECT (self, "every input ended: sending End");
  ret = gst_aggregator_finish_buffer (GST_AGGREGATOR (self), end);
  return ret == GST_FLOW_OK ? GST_FLOW_EOS : ret;
}

static GstFlowReturn
gst_ds_mux_aggregate (GstAggregator * agg, gboolean timeout)
{
  GstDsMux *self = GST_DS_MUX (agg);
  GstAggregatorPad *pad;
  GstClockTime running_time;
  GstBuffer *buffer;
  DsHeader header;
  GError *error = NULL;
  gboolean all_eos;
  DsSeqStream id;
  gchar *other = NULL;

  pad = gst_ds_mux_find_earliest (self, &running_time, &all_eos);
  if (pad == NULL)
    return all_eos ? gst_ds_mux_finish (self) : GST_AGGREGATOR_FLOW_NEED_DATA;

  buffer = gst_aggregator_pad_pop_buffer (pad);
  if (buffer == NULL) {
    gst_object_unref (pad);
    return GST_AGGREGATOR_FLOW_NEED_DATA;
  }

  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP) ||
      gst_buffer_get_size (buffer) == 0) {
    /* a GAP event (the aggregator makes it an empty GAP buffer): that
     * input has nothing until then, nothing to send */
    GST_LOG_OBJECT (pad, "gap at %" GST_TIME_FORMAT,
        GST_TIME_ARGS (running_time));
    gst_buffer_unref (buffer);
    gst_object_unref (pad);
    return GST_FLOW_OK;
  }

  if (!gst_ds_frame_buffer_parse (buffer, &header, &error))
    goto not_a_frame;

  id = ds_frame_type_seq_stream (header.type);
  if (id != DS_SEQ_NONE) {
    gboolean clash;

    /* receivers check seq per kind of frame (SPEC §6): one input of
     * each, or their numbers would mix */
    GST_OBJECT_LOCK (self);
    if (self->owner[id] == NULL)
      self->owner[id] = pad;
    clash = self->owner[id] != pad;
    if (clash)
      other = g_strdup (GST_PAD_NAME (self->owner[id]));
    GST_OBJECT_UNLOCK (self);
    if (clash)
      goto same_kind;
  }

  if (header.type == DS_FRAME_END) {
    /* one End for the joined stream, when every input has ended */
    GST_DEBUG_OBJECT (pad, "End frame of one input, not passed on");
    gst_buffer_unref (buffer);
    gst_object_unref (pad);
    return GST_FLOW_OK;
  }

  GST_LOG_OBJECT (pad, "%s seq %u at %" GST_TIME_FORMAT,
      ds_frame_type_name (header.type), header.seq,
      GST_TIME_ARGS (running_time));
  gst_object_unref (pad);

  self->last_timestamp = header.timestamp;
  if (GST_BUFFER_PTS_IS_VALID (buffer)) {
    /* a shallow copy when shared: the memories are not copied */
    buffer = gst_buffer_make_writable (buffer);
    GST_BUFFER_PTS (buffer) = running_time;
    GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
    self->last_running_time = running_time;
  }

  gst_ds_mux_ensure_caps (self);
  return gst_aggregator_finish_buffer (agg, buffer);

  /* ERRORS */
same_kind:
  {
    GST_ELEMENT_ERROR (self, STREAM, MUX,
        (_("Two inputs carry the same kind of frames.")),
        ("%s and %s both carry %s frames: dsmux joins one stream of each "
            "kind (pictures, sound, signals), whose sequence numbers "
            "receivers check", other, GST_PAD_NAME (pad),
            ds_frame_type_name (header.type)));
    g_free (other);
    gst_buffer_unref (buffer);
    gst_object_unref (pad);
    return GST_FLOW_ERROR;
  }
not_a_frame:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("The input is not ds-stream frames.")),
        ("%s: %s (a byte stream of frames, such as a .ds file, goes through "
            "dsparse first)", GST_PAD_NAME (pad), error->message));
    g_error_free (error);
    gst_buffer_unref (buffer);
    gst_object_unref (pad);
    return GST_FLOW_ERROR;
  }
}

static gboolean
gst_ds_mux_sink_event (GstAggregator * agg, GstAggregatorPad * pad,
    GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    GST_OBJECT_LOCK (agg);
    GST_DS_MUX_PAD (pad)->media = gst_ds_caps_get_media (caps);
    GST_OBJECT_UNLOCK (agg);
  }

  return GST_AGGREGATOR_CLASS (parent_class)->sink_event (agg, pad, event);
}

static gboolean
gst_ds_mux_src_event (GstAggregator * agg, GstEvent * event)
{
  GList *pads = NULL, *l;
  gboolean handled = FALSE;

  /* an event that even a sound input takes goes to every input */
  if (gst_ds_media_takes_event (DS_MEDIA_AUDIO, event))
    return GST_AGGREGATOR_CLASS (parent_class)->src_event (agg, event);

  /* navigation and keyframe requests: to the picture inputs */
  GST_OBJECT_LOCK (agg);
  for (l = GST_ELEMENT (agg)->sinkpads; l != NULL; l = l->next) {
    DsMedia media = GST_DS_MUX_PAD (l->data)->media;

    if (gst_ds_media_takes_event (media, event))
      pads = g_list_prepend (pads, gst_object_ref (l->data));
  }
  GST_OBJECT_UNLOCK (agg);

  for (l = pads; l != NULL; l = l->next) {
    GST_DEBUG_OBJECT (l->data, "sending %" GST_PTR_FORMAT " upstream", event);
    handled |= gst_pad_push_event (GST_PAD (l->data), gst_event_ref (event));
  }
  g_list_free_full (pads, gst_object_unref);
  gst_event_unref (event);

  return handled;
}
