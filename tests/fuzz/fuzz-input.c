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
 * libFuzzer target: input events (dsprotocol.c): byte 0 as an input
 * type and the rest as its payload (parse, pack back, parse again), a
 * key name, and the rest as a Haptic payload and an image to sniff.
 * Replayed by `meson test fuzz-input`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dsprotocol.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static void
fuzz_input (const guint8 * data, gsize size)
{
  DsInputEvent ev, again;
  guint8 packed[DS_INPUT_MAX_PAYLOAD];
  gsize len;

  if (size < 1)
    return;

  if (!ds_input_event_parse (data[0], data + 1, size - 1, &ev, NULL))
    return;

  /* what parses packs back to the same bytes */
  len = ds_input_event_pack (&ev, packed);
  g_assert (len == (gsize) ds_input_payload_size (data[0]));
  g_assert (memcmp (packed, data + 1, len) == 0);
  g_assert (ds_input_event_parse (data[0], packed, len, &again, NULL));
}

/* ReceiverReport (JSON): what parses builds a frame that validates and
 * parses back to the same report */
static void
fuzz_report (const guint8 * data, gsize size)
{
  DsReceiverReport report, again;
  DsHeader header = { 0, };
  GBytes *frame;
  const guint8 *bytes;
  gsize len;

  header.type = DS_INPUT_RECEIVER_REPORT;
  header.flags = DS_FLAG_INPUT;
  header.payload_len = (guint32) MIN (size, G_MAXUINT32);
  ds_frame_validate (&header, data, NULL);

  if (!ds_receiver_report_parse (data, size, &report, NULL))
    return;
  g_assert (report.kbps_min <= report.kbps_median);
  g_assert (report.kbps_median <= report.kbps_max);
  frame = ds_receiver_report_to_frame (&report, 0, 0);
  bytes = g_bytes_get_data (frame, &len);
  g_assert (ds_frame_parse_message (bytes, len, 0, &header, NULL));
  g_assert (ds_frame_validate (&header, bytes + DS_HEADER_SIZE, NULL));
  g_assert (ds_receiver_report_parse (bytes + DS_HEADER_SIZE,
          header.payload_len, &again, NULL));
  g_assert (memcmp (&report, &again, sizeof (report)) == 0);
  g_bytes_unref (frame);
}

static void
fuzz_keys (const guint8 * data, gsize size)
{
  gchar *name = g_strndup ((const gchar *) data, MIN (size, 64));
  guint16 code = ds_keycode_from_name (name);

  if (code != 0)
    g_assert (ds_keycode_to_name (code) != NULL);
  if (size >= 2)
    ds_keycode_to_name (data[0] | (data[1] << 8));
  g_free (name);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  fuzz_input (data, size);
  fuzz_keys (data, size);
  fuzz_report (data, size);
  if (size > 0) {
    guint16 ms;
    guint8 intensity;
    gint w, h;

    ds_haptic_parse (data + 1, size - 1, &ms, &intensity, NULL);
    ds_image_sniff (data + 1, size - 1, &w, &h);
  }
  return 0;
}
