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

#include <stdlib.h>
#include <string.h>

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

static void
gst_ds_depay_reset_framerate (GstDsDepay * self)
{
  self->fps_n = 0;
  self->fps_d = 1;
  self->fps_have_last = FALSE;
  self->fps_n_intervals = 0;
  self->fps_next = 0;
  self->fps_candidate_count = 0;
}

/* At start and stop */
void
gst_ds_depay_reset_timing (GstDsDepay * self)
{
  self->in_fps_n = 0;
  self->in_fps_d = 1;
  gst_ds_depay_reset_framerate (self);
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
  /* the rate measured so far stays; the next interval is of the new
   * stream */
  self->fps_have_last = FALSE;
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
          &self->in_fps_d) || self->in_fps_d == 0 || self->in_fps_n < 0) {
    self->in_fps_n = 0;
    self->in_fps_d = 1;
  }
  if (self->in_fps_n > 0) {
    self->fps_n = self->in_fps_n;
    self->fps_d = self->in_fps_d;
  } else if (self->fps_n > 0 && self->fps_n_intervals == 0) {
    /* the input stopped telling the rate and nothing was measured */
    self->fps_n = 0;
    self->fps_d = 1;
  }
}

/* A picture lasts one frame of the framerate, when it is known */
GstClockTime
gst_ds_depay_picture_duration (GstDsDepay * self)
{
  if (self->fps_n <= 0)
    return GST_CLOCK_TIME_NONE;
  return gst_util_uint64_scale_int (GST_SECOND, self->fps_d, self->fps_n);
}

/* Framerate measurement. The protocol carries no framerate, only frame
 * timestamps in milliseconds, so when the input caps do not tell it
 * (dsstreamsrc, a recording) the rate of the video caps is measured:
 *
 * - the intervals between the last DS_DEPAY_FPS_WINDOW pictures are kept
 *   (an interval of 0 or over FPS_MAX_INTERVAL_MS, a pause or a new
 *   stream, is not);
 * - with FPS_MIN_INTERVALS of them, their median says which intervals are
 *   regular (within 0.6x-1.6x of it: a lost or doubled picture is not);
 *   the rate is their number over their sum, so jitter in single
 *   timestamps cancels out;
 * - the rate is snapped to a common one within FPS_SNAP_TOLERANCE, else
 *   rounded to a whole rate when that is as close, else to a tenth; a
 *   1000/1001 rate (29.97) only when the whole one (30) is further off
 *   than the millisecond timestamps and their spread can blur, which
 *   with jitter or a short window means the whole rate;
 * - the caps say 0/1 (variable, legitimate) until the first measurement,
 *   FPS_MIN_INTERVALS pictures in: no picture waits for it (no latency
 *   is added), and the caps change once then;
 * - afterwards only a rate more than FPS_CHANGE off the announced one and
 *   measured for FPS_HOLD pictures in a row gives new caps: a live
 *   stream's jitter does not renegotiate. */
#define FPS_MIN_INTERVALS 8
#define FPS_MAX_INTERVAL_MS 2000
#define FPS_SNAP_TOLERANCE 0.03
#define FPS_CHANGE 0.05
#define FPS_HOLD 8

static const gint common_framerates[][2] = {
  {24000, 1001}, {24, 1}, {25, 1}, {30000, 1001}, {30, 1}, {50, 1},
  {60000, 1001}, {60, 1}, {5, 1}, {10, 1}, {12, 1}, {15, 1}, {20, 1},
  {48, 1}, {72, 1}, {75, 1}, {90, 1}, {100, 1}, {120, 1}, {144, 1},
  {240, 1},
};

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

/* @rate measured over @span_ms: the closest common rate, a whole one
 * when the millisecond timestamps cannot tell it from a 1000/1001 one */
static void
gst_ds_depay_snap_framerate (gdouble rate, guint span_ms, guint spread_ms,
    gint * n, gint * d)
{
  gdouble best_error = G_MAXDOUBLE, whole;
  /* timestamps are whole milliseconds and may jitter: the span is known
   * to 2 ms plus the spread of the intervals */
  gdouble uncertainty = (2.0 + spread_ms) / span_ms;
  guint i, best = 0;

  for (i = 0; i < G_N_ELEMENTS (common_framerates); i++) {
    gdouble common = (gdouble) common_framerates[i][0] /
        common_framerates[i][1];
    gdouble error = ABS (rate - common) / common;

    if (error < best_error) {
      best_error = error;
      best = i;
    }
  }

  if (best_error <= FPS_SNAP_TOLERANCE) {
    *n = common_framerates[best][0];
    *d = common_framerates[best][1];
    if (*d == 1001) {
      whole = (gdouble) * n / 1000;
      if (ABS (rate - whole) / whole <= MAX (uncertainty, best_error)) {
        *n /= 1000;
        *d = 1;
      }
    }
    return;
  }

  whole = MAX (1, (gint) (rate + 0.5));
  if (ABS (rate - whole) / whole <= FPS_SNAP_TOLERANCE) {
    *n = (gint) whole;
    *d = 1;
  } else {
    *n = MAX (1, (gint) (rate * 10 + 0.5));
    *d = 10;
    if (*n % 5 == 0) {
      *n /= 5;
      *d /= 5;
    }
    if (*n % 2 == 0) {
      *n /= 2;
      *d /= 2;
    }
  }
}

/* Called for every picture frame (all kinds of video) */
void
gst_ds_depay_measure_framerate (GstDsDepay * self, const DsHeader * header)
{
  guint sorted[DS_DEPAY_FPS_WINDOW];
  guint interval, median, sum = 0, used = 0, shortest = 0, longest = 0, i;
  gint n, d;
  gdouble change;

  interval = header->timestamp - self->fps_last_ts;
  if (!self->fps_have_last) {
    self->fps_have_last = TRUE;
    self->fps_last_ts = header->timestamp;
    return;
  }
  self->fps_last_ts = header->timestamp;
  /* the input caps tell the rate */
  if (self->in_fps_n > 0)
    return;
  if (interval == 0 || interval > FPS_MAX_INTERVAL_MS)
    return;

  self->fps_intervals[self->fps_next] = interval;
  self->fps_next = (self->fps_next + 1) % DS_DEPAY_FPS_WINDOW;
  if (self->fps_n_intervals < DS_DEPAY_FPS_WINDOW)
    self->fps_n_intervals++;
  if (self->fps_n_intervals < FPS_MIN_INTERVALS)
    return;

  memcpy (sorted, self->fps_intervals, self->fps_n_intervals * sizeof (guint));
  qsort (sorted, self->fps_n_intervals, sizeof (guint), compare_uint);
  median = sorted[self->fps_n_intervals / 2];
  for (i = 0; i < self->fps_n_intervals; i++) {
    if (sorted[i] * 10 >= median * 6 && sorted[i] * 10 <= median * 16) {
      if (used == 0)
        shortest = sorted[i];
      longest = sorted[i];
      sum += sorted[i];
      used++;
    }
  }
  gst_ds_depay_snap_framerate (used * 1000.0 / sum, sum, longest - shortest,
      &n, &d);
  GST_LOG_OBJECT (self, "interval %u ms, median %u ms, %u regular over "
      "%u ms: %d/%d", interval, median, used, sum, n, d);

  if (self->fps_n == 0) {
    GST_INFO_OBJECT (self, "measured framerate %d/%d", n, d);
    self->fps_n = n;
    self->fps_d = d;
    self->fps_candidate_count = 0;
    return;
  }

  change = ABS ((gdouble) n / d - (gdouble) self->fps_n / self->fps_d) /
      ((gdouble) self->fps_n / self->fps_d);
  if (change <= FPS_CHANGE) {
    self->fps_candidate_count = 0;
    return;
  }
  if (self->fps_candidate_count > 0 && ABS ((gdouble) n / d -
          (gdouble) self->fps_candidate_n / self->fps_candidate_d) <=
      FPS_CHANGE * self->fps_candidate_n / self->fps_candidate_d) {
    self->fps_candidate_count++;
  } else {
    self->fps_candidate_n = n;
    self->fps_candidate_d = d;
    self->fps_candidate_count = 1;
  }
  if (self->fps_candidate_count >= FPS_HOLD) {
    GST_INFO_OBJECT (self, "framerate changed from %d/%d to %d/%d",
        self->fps_n, self->fps_d, n, d);
    self->fps_n = n;
    self->fps_d = d;
    self->fps_candidate_count = 0;
  }
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
