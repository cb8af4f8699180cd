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


/*
 * ds-stream frames for the relay tests (tests/check/relay), header-only:
 * build a frame (make_frame, make_signal for a signal's JSON, make_input
 * for an input frame) and read back its header (frame_header fails the
 * test on a frame that does not parse).
 *
 * For gst-check test programs only. The short names are kept as the tests
 * use them; don't include this next to code that has its own (nor next to
 * ds-test-net.h, whose make_frame builds a GstBuffer).
 */

#ifndef __DS_TEST_FRAMES_H__
#define __DS_TEST_FRAMES_H__

#include <string.h>
#include <glib.h>
#include <gst/check/gstcheck.h>
#include <ds/dsprotocol.h>

G_BEGIN_DECLS

/* A frame with this header (timestamp seq * 10) and payload */
static G_GNUC_UNUSED GBytes *
make_frame (guint8 type, guint8 flags, guint16 seq, guint16 width,
    guint16 height, const void *payload, gsize len)
{
  DsHeader header = { 0, };

  header.type = type;
  header.flags = flags;
  header.seq = seq;
  header.timestamp = seq * 10;
  header.width = width;
  header.height = height;
  return ds_frame_pack (&header, payload, len);
}

/* A signal frame carrying @json (a Sync is a keyframe) */
static G_GNUC_UNUSED GBytes *
make_signal (guint8 type, guint16 seq, const gchar * json)
{
  return make_frame (type, type == DS_FRAME_SIGNAL_SYNC ? DS_FLAG_KEYFRAME : 0,
      seq, 0, 0, json, strlen (json));
}

/* An input frame (DS_FLAG_INPUT) */
static G_GNUC_UNUSED GBytes *
make_input (guint8 type, const void *payload, gsize len)
{
  return make_frame (type, DS_FLAG_INPUT, 1, 0, 0, payload, len);
}

/* The header of @frame; fails the test when it does not parse */
static G_GNUC_UNUSED DsHeader
frame_header (GBytes * frame)
{
  DsHeader header;
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);

  fail_unless (ds_frame_parse_message (data, len, 0, &header, NULL));
  return header;
}

G_END_DECLS

#endif /* __DS_TEST_FRAMES_H__ */
