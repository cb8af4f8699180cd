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


/* dsdepay's input: navigation events arriving on the video or image pad
 * become ds-stream input events, sent upstream (dsstreamsrc sends them to
 * the source). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdsdepay-private.h"

static void
gst_ds_depay_clamp (guint16 * x, guint16 * y, guint width, guint height)
{
  if (width > 0 && *x >= width)
    *x = width - 1;
  if (height > 0 && *y >= height)
    *y = height - 1;
}

/* Navigation from downstream (a video sink through videoconvert) becomes
 * a GstDsInput event upstream, its coordinates clamped to the picture of
 * the pad it arrived on */
gboolean
gst_ds_depay_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstDsDepay *self = GST_DS_DEPAY (parent);
  DsInputEvent input;
  guint width, height;
  gboolean ok;

  if (GST_EVENT_TYPE (event) != GST_EVENT_NAVIGATION)
    return gst_pad_event_default (pad, parent, event);

  GST_OBJECT_LOCK (self);
  ok = gst_ds_navigation_to_input (event, &self->nav_buttons, &input);
  if (pad == self->streams[STREAM_VIDEO].pad) {
    width = self->video_width;
    height = self->video_height;
  } else {
    width = self->image_width;
    height = self->image_height;
  }
  GST_OBJECT_UNLOCK (self);
  gst_event_unref (event);

  if (!ok)
    return FALSE;

  switch (input.type) {
    case DS_INPUT_POINTER:
    case DS_INPUT_POINTER_DOWN:
    case DS_INPUT_POINTER_UP:
      gst_ds_depay_clamp (&input.pointer.x, &input.pointer.y, width, height);
      break;
    case DS_INPUT_TOUCH:
      gst_ds_depay_clamp (&input.touch.x, &input.touch.y, width, height);
      break;
    default:
      break;
  }

  GST_LOG_OBJECT (self, "navigation -> %s input",
      ds_input_type_name (input.type));
  return gst_pad_push_event (self->sinkpad, gst_ds_input_event_new (&input));
}
