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
 * SECTION:element-dsparse
 * @title: dsparse
 * @see_also: dsdepay, dsmux, dsrelaysink
 *
 * Cuts a byte stream of ds-stream frames (a `.ds` recording read by
 * `filesrc`, a TCP stream) back into frames, one per buffer, as every
 * element that takes `application/x-ds-stream` expects. A #GstBaseParse:
 * the frames keep their bytes; each buffer gets the frame's timestamp
 * (its header's milliseconds, from the first frame on) as PTS, and delta
 * pictures are marked #GST_BUFFER_FLAG_DELTA_UNIT.
 *
 * A header is trusted only when it is one a sender could have written (a
 * known type, a length that fits it, no undefined flag, a payload of at
 * most #GstDsParse:max-frame-bytes) and, after a loss of sync (at the
 * start, after junk), when the next header is one too (or the stream
 * ends there). Bytes that are not a frame are skipped with a warning
 * saying how many, and the stream goes on at the next frame: a damaged
 * header cannot make the element wait for, or allocate, the length it
 * claims.
 *
 * A typefinder for `.ds` files comes with it (`application/x-ds-stream`),
 * so `decodebin` and `parsebin` play a recording:
 * `filesrc location=x.ds ! decodebin ! …`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=demo.ds ! dsparse ! dsdepay ! videoconvert ! autovideosink
 * ]| Plays the pictures of a recording.
 * |[
 * gst-launch-1.0 filesrc location=demo.ds ! dsparse ! dsrelaysink sync=true location=ws://127.0.0.1:9100/peer/replay
 * ]| Publishes a recording at its own pace.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>
#include <ds/dsprotocol.h>
#include <ds/gstdsutils.h>

#include "gstdsstreamelements.h"
#include "gstdsparse.h"

GST_DEBUG_CATEGORY_STATIC (gst_ds_parse_debug);
#define GST_CAT_DEFAULT gst_ds_parse_debug

#define DEFAULT_MAX_FRAME_BYTES DS_DEFAULT_MAX_FRAME_BYTES

enum
{
  PROP_0,
  PROP_MAX_FRAME_BYTES,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE ", parsed = (boolean) true"));

struct _GstDsParse
{
  GstBaseParse parent;

  /* settings, under the object lock */
  guint64 max_frame_bytes;

  /* state, on the streaming thread */
  gboolean caps_sent;
  DsTimestampUnwrapper unwrapper;
  gboolean have_first;
  guint64 first_ms;
  guint64 junk;                 /* bytes skipped since the last frame */
};

#define gst_ds_parse_parent_class parent_class
G_DEFINE_TYPE (GstDsParse, gst_ds_parse, GST_TYPE_BASE_PARSE);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dsparse, "dsparse",
    GST_RANK_PRIMARY + 1, GST_TYPE_DS_PARSE, ds_stream_element_init (plugin));

static void gst_ds_parse_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ds_parse_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_ds_parse_start (GstBaseParse * parse);
static GstFlowReturn gst_ds_parse_handle_frame (GstBaseParse * parse,
    GstBaseParseFrame * frame, gint * skipsize);
static GstFlowReturn gst_ds_parse_pre_push_frame (GstBaseParse * parse,
    GstBaseParseFrame * frame);

static void
gst_ds_parse_class_init (GstDsParseClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseParseClass *parse_class = GST_BASE_PARSE_CLASS (klass);

  gobject_class->set_property = gst_ds_parse_set_property;
  gobject_class->get_property = gst_ds_parse_get_property;

  /**
   * GstDsParse:max-frame-bytes:
   *
   * The largest frame payload trusted, in bytes: a header that claims
   * more is taken for junk (it is never waited for).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FRAME_BYTES,
      g_param_spec_uint64 ("max-frame-bytes", "Maximum frame bytes",
          "Largest frame payload trusted in bytes (a header claiming more "
          "is junk)", 0, G_MAXUINT32 - 2 * DS_HEADER_SIZE,
          DEFAULT_MAX_FRAME_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "ds-stream parser", "Codec/Parser",
      "Cuts a byte stream of ds-stream frames (a .ds file) into frames",
      "gst-ds-stream developers");

  parse_class->start = GST_DEBUG_FUNCPTR (gst_ds_parse_start);
  parse_class->handle_frame = GST_DEBUG_FUNCPTR (gst_ds_parse_handle_frame);
  parse_class->pre_push_frame = GST_DEBUG_FUNCPTR (gst_ds_parse_pre_push_frame);

  GST_DEBUG_CATEGORY_INIT (gst_ds_parse_debug, "dsparse", 0,
      "ds-stream parser");
}

static void
gst_ds_parse_init (GstDsParse * self)
{
  self->max_frame_bytes = DEFAULT_MAX_FRAME_BYTES;
  gst_base_parse_set_min_frame_size (GST_BASE_PARSE (self), DS_HEADER_SIZE);
  /* every frame carries its own time */
  gst_base_parse_set_pts_interpolation (GST_BASE_PARSE (self), FALSE);
  gst_base_parse_set_infer_ts (GST_BASE_PARSE (self), FALSE);
  GST_PAD_SET_ACCEPT_INTERSECT (GST_BASE_PARSE_SINK_PAD (self));
  GST_PAD_SET_ACCEPT_TEMPLATE (GST_BASE_PARSE_SINK_PAD (self));
}

static gboolean
gst_ds_parse_start (GstBaseParse * parse)
{
  GstDsParse *self = GST_DS_PARSE (parse);

  self->caps_sent = FALSE;
  ds_timestamp_unwrapper_init (&self->unwrapper);
  self->have_first = FALSE;
  self->junk = 0;
  return TRUE;
}

/* A plausible header at @data (at least DS_HEADER_SIZE bytes) */
static gboolean
header_at (const guint8 * data, guint64 max_payload, DsHeader * header)
{
  return ds_header_parse (data, DS_HEADER_SIZE, header, NULL) &&
      gst_ds_header_is_plausible (header, max_payload);
}

static GstFlowReturn
gst_ds_parse_handle_frame (GstBaseParse * parse, GstBaseParseFrame * frame,
    gint * skipsize)
{
  GstDsParse *self = GST_DS_PARSE (parse);
  GstMapInfo map;
  DsHeader header, next;
  guint64 max_payload, size = 0;
  gsize i;
  gboolean decided;
  gboolean draining = GST_BASE_PARSE_DRAINING (parse);

  GST_OBJECT_LOCK (self);
  max_payload = self->max_frame_bytes;
  GST_OBJECT_UNLOCK (self);

  if (!gst_buffer_map (frame->buffer, &map, GST_MAP_READ))
    return GST_FLOW_ERROR;

  if (map.size < DS_HEADER_SIZE) {
    /* only at the end of the stream: not a frame */
    gst_buffer_unmap (frame->buffer, &map);
    if (draining) {
      self->junk += map.size;
      *skipsize = (gint) map.size;
    } else {
      *skipsize = 0;
    }
    return GST_FLOW_OK;
  }

  /* The frame at the start of the data, or where the next one starts.
   * In sync, the header there is trusted (a live stream's last frame is
   * not held back). Out of sync (at the start, after junk, or a header
   * that cannot be a frame), junk can look like a header: a candidate
   * counts when the next header is plausible too, or when its frame ends
   * the stream exactly. Every candidate the data in hand refutes is
   * passed over in this one call, so a run of bytes that each look like
   * a header costs one pass, not one call per byte. */
  decided = FALSE;
  for (i = 0; i + DS_HEADER_SIZE <= map.size; i++) {
    guint64 end;

    if (!header_at (map.data + i, max_payload, &header))
      continue;
    size = DS_HEADER_SIZE + (guint64) header.payload_len;
    end = i + size;
    if (i == 0 && !GST_BASE_PARSE_LOST_SYNC (parse) &&
        (!draining || end <= map.size)) {
      decided = TRUE;           /* in sync: trusted */
      break;
    }
    if (end + DS_HEADER_SIZE <= map.size) {
      if (header_at (map.data + end, max_payload, &next)) {
        decided = TRUE;
        break;
      }
      continue;                 /* refuted by what follows it */
    }
    if (draining) {
      if (end == map.size) {
        decided = TRUE;         /* the last frame of the stream */
        break;
      }
      continue;                 /* runs past the end: not a frame */
    }
    break;                      /* cannot tell yet: more data */
  }

  if (i > 0) {
    /* junk before the frame (or before the last bytes that could start
     * one) */
    if (i + DS_HEADER_SIZE > map.size)
      i = map.size - DS_HEADER_SIZE + 1;
    GST_LOG_OBJECT (self, "skipping %" G_GSIZE_FORMAT " bytes of junk", i);
    self->junk += i;
    *skipsize = (gint) i;
    gst_buffer_unmap (frame->buffer, &map);
    gst_base_parse_set_min_frame_size (parse, DS_HEADER_SIZE);
    return GST_FLOW_OK;
  }
  gst_buffer_unmap (frame->buffer, &map);

  if (decided && size > map.size) {
    /* a trusted frame not all here yet */
    gst_base_parse_set_min_frame_size (parse, (guint) size);
    *skipsize = 0;
    return GST_FLOW_OK;
  }
  if (!decided) {
    /* a candidate at 0 that needs more data to be decided (its frame,
     * and out of sync the next header too) */
    gst_base_parse_set_min_frame_size (parse, (guint)
        MIN (size + (GST_BASE_PARSE_LOST_SYNC (parse) ? DS_HEADER_SIZE : 0),
            G_MAXUINT));
    *skipsize = 0;
    return GST_FLOW_OK;
  }
  gst_base_parse_set_min_frame_size (parse, DS_HEADER_SIZE);

  if (self->junk > 0) {
    gchar *count = g_strdup_printf ("%" G_GUINT64_FORMAT, self->junk);

    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        (_("Skipped %s bytes that are not ds-stream frames."), count), (NULL));
    g_free (count);
    self->junk = 0;
  }

  if (!self->caps_sent) {
    GstCaps *caps = gst_caps_new_simple (GST_DS_STREAM_MEDIA_TYPE,
        "parsed", G_TYPE_BOOLEAN, TRUE, NULL);

    gst_pad_set_caps (GST_BASE_PARSE_SRC_PAD (parse), caps);
    gst_caps_unref (caps);
    self->caps_sent = TRUE;
  }

  GST_LOG_OBJECT (self, "%s seq %u, %" G_GUINT64_FORMAT " bytes",
      ds_frame_type_name (header.type), header.seq, size);
  return gst_base_parse_finish_frame (parse, frame, (guint) size);
}

/* Each frame's timestamp from its header, from the first frame on, and
 * the delta flag of pictures that need a reference */
static GstFlowReturn
gst_ds_parse_pre_push_frame (GstBaseParse * parse, GstBaseParseFrame * frame)
{
  GstDsParse *self = GST_DS_PARSE (parse);
  GstBuffer *buffer = frame->out_buffer ? frame->out_buffer : frame->buffer;
  DsHeader header;
  guint64 ms;

  if (!gst_ds_frame_buffer_parse (buffer, &header, NULL))
    return GST_FLOW_OK;

  ms = ds_timestamp_unwrap (&self->unwrapper, header.timestamp);
  if (!self->have_first) {
    self->first_ms = ms;
    self->have_first = TRUE;
  }
  GST_BUFFER_PTS (buffer) = ms >= self->first_ms ?
      (ms - self->first_ms) * GST_MSECOND : 0;
  GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buffer) = GST_CLOCK_TIME_NONE;
  if (ds_frame_type_media (header.type) == DS_MEDIA_VIDEO &&
      !ds_header_is_picture_keyframe (&header))
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  else
    GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  return GST_FLOW_OK;
}

static void
gst_ds_parse_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDsParse *self = GST_DS_PARSE (object);

  switch (prop_id) {
    case PROP_MAX_FRAME_BYTES:
      GST_OBJECT_LOCK (self);
      self->max_frame_bytes = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_ds_parse_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDsParse *self = GST_DS_PARSE (object);

  switch (prop_id) {
    case PROP_MAX_FRAME_BYTES:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->max_frame_bytes);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* Typefinder: a .ds byte stream starts with a chain of plausible headers,
 * each at the end of the previous frame */

#define TYPEFIND_MAX_PAYLOAD (64 * 1024 * 1024)

static void
gst_ds_stream_typefind (GstTypeFind * tf, gpointer user_data)
{
  GstCaps *caps = user_data;
  guint64 offset = 0;
  guint found = 0;
  gboolean media = FALSE;

  while (found < 3) {
    const guint8 *data = gst_type_find_peek (tf, offset, DS_HEADER_SIZE);
    DsHeader header;

    if (data == NULL || !header_at (data, TYPEFIND_MAX_PAYLOAD, &header))
      break;
    found++;
    /* empty control frames (a run of F0 00 ... or FF 00 ...) prove
     * little: a recording has pictures, sound or signals */
    if (ds_frame_type_media (header.type) != DS_MEDIA_NONE)
      media = TRUE;
    offset += DS_HEADER_SIZE + header.payload_len;
  }

  if (found == 3 && media)
    gst_type_find_suggest (tf, GST_TYPE_FIND_MAXIMUM, caps);
  else if (found >= 2 && media)
    gst_type_find_suggest (tf, GST_TYPE_FIND_LIKELY, caps);
  else if (found >= 1 && media && gst_type_find_get_length (tf) == offset)
    /* one frame, the whole file */
    gst_type_find_suggest (tf, GST_TYPE_FIND_POSSIBLE, caps);
}

gboolean
gst_ds_stream_typefind_register (GstPlugin * plugin)
{
  static GstStaticCaps caps = GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE);

  return gst_type_find_register (plugin, GST_DS_STREAM_MEDIA_TYPE,
      GST_RANK_PRIMARY, gst_ds_stream_typefind, "ds",
      gst_static_caps_get (&caps), gst_static_caps_get (&caps), NULL);
}
