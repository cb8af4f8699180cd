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


/* dsdepay's timing: where output timestamps come from
 * (#GstDsDepay:timestamp-mode), the output segment, the framerate of the
 * video caps and the duration of a picture. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdsdepay-private.h"

GType
gst_ds_depay_timestamp_mode_get_type (void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {GST_DS_DEPAY_TIMESTAMP_MODE_AUTO,
          "Input timestamps on a TIME segment, frame timestamps otherwise",
        "auto"},
    {GST_DS_DEPAY_TIMESTAMP_MODE_FRAME,
        "Frame timestamps relative to the first frame", "frame"},
    {GST_DS_DEPAY_TIMESTAMP_MODE_INPUT, "Input buffer timestamps", "input"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDsDepayTimestampMode", values);
    g_once_init_leave (&type, t);
  }
  return (GType) type;
}

static gboolean
gst_ds_depay_uses_input_timing (GstDsDepay * self, GstDsDepayTimestampMode mode)
{
  if (mode == GST_DS_DEPAY_TIMESTAMP_MODE_INPUT)
    return TRUE;
  return mode == GST_DS_DEPAY_TIMESTAMP_MODE_AUTO &&
      self->in_segment.format == GST_FORMAT_TIME;
}

void
gst_ds_depay_update_out_segment (GstDsDepay * self)
{
  GstDsDepayTimestampMode mode;
  gint i;

  GST_OBJECT_LOCK (self);
  mode = self->timestamp_mode;
  GST_OBJECT_UNLOCK (self);

  if (self->in_segment.format == GST_FORMAT_TIME &&
      gst_ds_depay_uses_input_timing (self, mode))
    gst_segment_copy_into (&self->in_segment, &self->out_segment);
  else
    gst_segment_init (&self->out_segment, GST_FORMAT_TIME);

  for (i = 0; i < N_STREAMS; i++)
    self->streams[i].need_segment = TRUE;
}

/* @in_pts: the PTS of the input buffer the frame starts at the beginning
 * of, or NONE */
GstClockTime
gst_ds_depay_frame_pts (GstDsDepay * self, const DsHeader * header,
    GstClockTime in_pts, GstDsDepayTimestampMode mode)
{
  guint64 ms = ds_timestamp_unwrap (&self->unwrapper, header->timestamp);
  GstClockTime frame_time;

  if (!self->have_first_ts) {
    self->first_ts = ms;
    self->have_first_ts = TRUE;
  }
  frame_time = self->time_base;
  if (ms > self->first_ts)
    frame_time += (ms - self->first_ts) * GST_MSECOND;
  self->last_frame_time = MAX (self->last_frame_time, frame_time);

  if (!gst_ds_depay_uses_input_timing (self, mode))
    return frame_time;

  if (GST_CLOCK_TIME_IS_VALID (in_pts)) {
    self->pts_offset = (gint64) in_pts - (gint64) frame_time;
    self->have_pts_offset = TRUE;
    return in_pts;
  }
  if (self->have_pts_offset) {
    gint64 pts = (gint64) frame_time + self->pts_offset;
    return pts > 0 ? (GstClockTime) pts : 0;
  }
  return mode == GST_DS_DEPAY_TIMESTAMP_MODE_INPUT ?
      GST_CLOCK_TIME_NONE : frame_time;
}

/* At start and stop */
void
gst_ds_depay_reset_timing (GstDsDepay * self)
{
  self->in_fps_n = 0;
  self->in_fps_d = 1;
  self->time_base = self->last_frame_time = 0;
  gst_segment_init (&self->in_segment, GST_FORMAT_UNDEFINED);
  gst_segment_init (&self->out_segment, GST_FORMAT_TIME);
  gst_ds_depay_reset_stream_timing (self);
}

/* When the sender's stream starts again: frame timestamps count from the
 * next frame */
void
gst_ds_depay_reset_stream_timing (GstDsDepay * self)
{
  ds_timestamp_unwrapper_init (&self->unwrapper);
  self->have_first_ts = FALSE;
  self->have_pts_offset = FALSE;
}

/* The framerate of a video-only ds-stream (dspay, dsdelta) */
void
gst_ds_depay_set_input_caps (GstDsDepay * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *media = gst_structure_get_string (s, "media");
  gboolean parsed = FALSE;

  self->parsed_input = gst_structure_get_boolean (s, "parsed", &parsed) &&
      parsed;

  if (g_strcmp0 (media, "video") != 0 ||
      !gst_structure_get_fraction (s, "framerate", &self->in_fps_n,
          &self->in_fps_d) || self->in_fps_d == 0) {
    self->in_fps_n = 0;
    self->in_fps_d = 1;
  }
}

/* A picture lasts one frame of the input framerate, when it is known */
GstClockTime
gst_ds_depay_picture_duration (GstDsDepay * self)
{
  if (self->in_fps_n <= 0)
    return GST_CLOCK_TIME_NONE;
  return gst_util_uint64_scale_int (GST_SECOND, self->in_fps_d, self->in_fps_n);
}

/* An End frame: in frame timing, a stream that follows goes on from the
 * End's time */
void
gst_ds_depay_end_timing (GstDsDepay * self, const DsHeader * header)
{
  if (self->have_first_ts) {
    guint64 ms = ds_timestamp_unwrap (&self->unwrapper, header->timestamp);

    if (ms > self->first_ts)
      self->last_frame_time = MAX (self->last_frame_time,
          self->time_base + (ms - self->first_ts) * GST_MSECOND);
  }
  self->time_base = self->last_frame_time;
}
