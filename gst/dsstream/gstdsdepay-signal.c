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


/* dsdepay's signals: SignalSync and SignalDiff frames merged into one
 * signal state, output as JSON Lines on the signal pad, with a SignalSync
 * asked for while the state may be stale; SchemaAnnounce frames as
 * element messages. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>

#include "gstdsdepay-private.h"


/* The stream starts again: no state */
void
gst_ds_depay_reset_signals (GstDsDepay * self)
{
  ds_signal_state_clear (self->signals);
  self->have_signal_state = FALSE;
  self->signal_gap = FALSE;
  self->signal_incomplete = FALSE;
}

static GstCaps *
gst_ds_depay_signal_caps (GstDsDepay * self, guint unused0, guint unused1,
    guint unused2, guint unused3)
{
  return gst_caps_new_empty_simple (GST_DS_SIGNAL_MEDIA_TYPE);
}

/* A SignalDiff after a gap on the signal stream or a flush: what it
 * merges onto may be stale. The merged state still goes out (the keys
 * received are current, and a dashboard keeps moving), flagged CORRUPTED,
 * and a SignalSync is asked for: the upstream ForceKeyUnit, which dspay
 * answers with a SignalSync and dsstreamsrc turns into a KeyframeRequest
 * for the source. */
static void
gst_ds_depay_signal_state_incomplete (GstDsDepay * self,
    const DsHeader * header)
{
  self->signal_gap = FALSE;

  if (!self->signal_incomplete) {
    self->signal_incomplete = TRUE;
    GST_OBJECT_LOCK (self);
    self->stat_signal_incomplete++;
    GST_OBJECT_UNLOCK (self);
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        (_("Signal frames were lost: the signal state may be out of date "
                "until the next complete state arrives.")),
        ("SignalDiff seq %u after lost signal frames or a flush: the signal "
            "state may be stale until the next SignalSync; asking upstream "
            "for one", header->seq));
  }
  gst_ds_depay_send_keyframe_request (self);
}

GstFlowReturn
gst_ds_depay_handle_signal (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload, GstClockTime pts)
{
  gboolean sync = header->type == DS_FRAME_SIGNAL_SYNC;
  GstMapInfo map;
  GError *error = NULL;
  gchar *json, *line;
  gsize len = 0;
  gboolean ok;
  GstBuffer *out;

  if (!gst_buffer_map (payload, &map, GST_MAP_READ))
    goto bad_json;
  ok = ds_signal_state_apply (self->signals, sync, (const gchar *) map.data,
      map.size, &error);
  gst_buffer_unmap (payload, &map);
  gst_buffer_unref (payload);
  payload = NULL;
  if (!ok)
    goto bad_json;

  self->have_signal_state = TRUE;
  if (sync) {
    if (self->signal_incomplete)
      GST_INFO_OBJECT (self, "SignalSync seq %u: signal state whole again",
          header->seq);
    self->signal_gap = FALSE;
    self->signal_incomplete = FALSE;
  } else if (self->signal_gap) {
    gst_ds_depay_signal_state_incomplete (self, header);
  }

  if (self->in_player) {
    /* no player takes signals: the state is kept, nothing is pushed */
    self->player_dropped_signals = TRUE;
    return GST_FLOW_OK;
  }

  json = ds_signal_state_to_json (self->signals, NULL, &len);
  line = g_realloc (json, len + 1);
  line[len] = '\n';
  out = gst_buffer_new_wrapped (line, len + 1);
  if (self->signal_incomplete)
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_CORRUPTED);

  gst_ds_depay_prepare_pad (self, STREAM_SIGNAL, 0, 0, 0, 0,
      gst_ds_depay_signal_caps);

  return gst_ds_depay_push (self, STREAM_SIGNAL, out, pts, GST_CLOCK_TIME_NONE);

  /* ERRORS */
bad_json:
  {
    /* not JSON, or over a bound of ds_signal_state_apply(): skipped like
     * any malformed frame; what it carried is lost, so the next diff is
     * flagged and a SignalSync asked for, as after a gap */
    gst_ds_depay_skip_malformed (self, "%s frame seq %u: %s",
        ds_frame_type_name (header->type), header->seq,
        error ? error->message : "empty payload");
    g_clear_error (&error);
    self->signal_gap = TRUE;
    gst_buffer_replace (&payload, NULL);
    return GST_FLOW_OK;
  }
}

void
gst_ds_depay_handle_schema (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload)
{
  GstMapInfo map;
  GError *error = NULL;
  gchar **names = NULL;
  GValue array = G_VALUE_INIT;
  GstStructure *s;
  gchar **name;

  if (payload && gst_buffer_map (payload, &map, GST_MAP_READ)) {
    names = ds_schema_parse ((const gchar *) map.data, map.size, &error);
    gst_buffer_unmap (payload, &map);
  }
  gst_buffer_replace (&payload, NULL);
  if (names == NULL)
    goto bad_schema;

  g_value_init (&array, GST_TYPE_ARRAY);
  for (name = names; *name; name++) {
    GValue value = G_VALUE_INIT;

    g_value_init (&value, G_TYPE_STRING);
    g_value_set_string (&value, *name);
    gst_value_array_append_and_take_value (&array, &value);
  }
  g_strfreev (names);

  s = gst_structure_new_empty ("ds-schema");
  gst_structure_take_value (s, "signals", &array);
  GST_DEBUG_OBJECT (self, "schema %" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  return;

  /* ERRORS */
bad_schema:
  {
    gst_ds_depay_skip_malformed (self, "SchemaAnnounce frame seq %u: %s",
        header->seq, error ? error->message : "empty payload");
    g_clear_error (&error);
  }
}
