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
 * libFuzzer target: the dsparse element (a .ds byte stream cut into
 * frames) and the .ds typefinder. The input is pushed in pieces whose
 * sizes come from the input, then EOS; every buffer that comes out must
 * be one whole frame with a plausible header. Replayed by
 * `meson test fuzz-parse`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/base/gsttypefindhelper.h>
#include <gst/check/gstharness.h>

#include "dsprotocol.h"
#include "gstdsutils.h"
#include "gstdsparse.h"
#include "gstdsstreamelements.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static gboolean
plugin_init (GstPlugin * plugin)
{
  return GST_ELEMENT_REGISTER (dsparse, plugin) &&
      gst_ds_stream_typefind_register (plugin);
}

static void
setup (void)
{
  static gboolean done = FALSE;

  if (done)
    return;
  done = TRUE;
  gst_init (NULL, NULL);
  gst_plugin_register_static (GST_VERSION_MAJOR, GST_VERSION_MINOR,
      "dsparsefuzz", "dsparse for the fuzzer", plugin_init, "0",
      "LGPL", "gst-ds-stream", "gst-ds-stream", "fuzz");
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  GstHarness *h;
  GstBuffer *buffer;
  GstCaps *caps;
  gsize off = 0, step;

  setup ();

  caps = gst_type_find_helper_for_data (NULL, data, size, NULL);
  if (caps)
    gst_caps_unref (caps);

  h = gst_harness_new ("dsparse");
  gst_harness_set_src_caps_str (h, GST_DS_STREAM_MEDIA_TYPE);
  step = size > 0 ? (data[0] % 97) + 1 : 1;
  while (off < size) {
    gsize n = MIN (step, size - off);

    gst_harness_push (h, gst_buffer_new_memdup (data + off, n));
    off += n;
    step = step * 3 % 4099 + 1;
  }
  gst_harness_push_event (h, gst_event_new_eos ());

  while ((buffer = gst_harness_try_pull (h)) != NULL) {
    DsHeader header;

    if (!gst_ds_frame_buffer_parse (buffer, &header, NULL) ||
        !gst_ds_header_is_plausible (&header, DS_DEFAULT_MAX_FRAME_BYTES))
      g_error ("dsparse let out a buffer that is not a plausible frame");
    gst_buffer_unref (buffer);
  }
  gst_harness_teardown (h);
  return 0;
}
