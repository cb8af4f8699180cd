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
 * libFuzzer target: signal JSON through the library's public entries
 * (dssignal.c): byte 0 bit 0 chooses sync or diff, the rest is the
 * payload, applied to a fresh state and to one that holds versions,
 * serialised back, filtered, and parsed as SubscribeFilter and
 * SchemaAnnounce. Inputs up to -max_len (4 MiB): the nesting and size
 * attacks of issue 11 need more than 1 MB. Replayed by
 * `meson test fuzz-signal`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dssignal.h"

#define SEED_STATE "{\"a\":1,\"count\":2,\"_v\":{\"a\":5,\"count\":1}}"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static void
fuzz_signal (const guint8 * data, gsize size)
{
  static const gchar *const select[] = { "a", "count", "_v", NULL };
  DsSignalState *state, *copy;
  const gchar *json;
  gchar *out, **strv;
  gsize len, out_len;
  gboolean sync;

  if (size < 1)
    return;

  sync = data[0] & 1;
  json = (const gchar *) data + 1;
  len = size - 1;

  state = ds_signal_state_new ();
  if (ds_signal_state_apply (state, sync, json, len, NULL)) {
    /* the state's serialisation is itself a valid sync giving the same
     * state */
    out = ds_signal_state_to_json (state, NULL, &out_len);
    copy = ds_signal_state_new ();
    g_assert (ds_signal_state_apply (copy, TRUE, out, out_len, NULL));
    g_assert (ds_signal_state_n_values (copy) ==
        ds_signal_state_n_values (state));
    ds_signal_state_free (copy);
    g_free (out);

    out = ds_signal_state_to_json (state, select, NULL);
    g_free (out);
  }
  ds_signal_state_free (state);

  state = ds_signal_state_new ();
  g_assert (ds_signal_state_apply (state, TRUE,
          SEED_STATE, strlen (SEED_STATE), NULL));
  ds_signal_state_apply (state, !sync, json, len, NULL);
  ds_signal_state_free (state);

  out = ds_signal_filter (json, len, select, &out_len, NULL);
  if (out != NULL) {
    g_assert (strlen (out) == out_len);
    g_free (out);
  }

  strv = ds_subscribe_filter_parse (json, len, NULL);
  g_strfreev (strv);
  strv = ds_schema_parse (json, len, NULL);
  g_strfreev (strv);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  fuzz_signal (data, size);
  return 0;
}
