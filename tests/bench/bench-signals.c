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
/* Signal JSON (issue 11 items 1 and 6): what hostile and huge signal
 * frames cost the protocol library, bounded (the defaults every element
 * and the relay use) against unbounded (limits 0: what the code did
 * before the bounds, the peer of this run), and what one late joiner's
 * catch-up costs when it is serialised per joiner (before) and when the
 * serialised frame is shared (now). Prints medians; asserts nothing. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "dsjson.h"
#include "dsprotocol.h"
#include "dssignal.h"

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

static gdouble
median (gdouble * v, guint n)
{
  qsort (v, n, sizeof (gdouble), compare_doubles);
  return v[n / 2];
}

/* {"k0":0,"k1":1,...} of @n_keys keys */
static GString *
many_keys (guint n_keys)
{
  GString *s = g_string_sized_new (n_keys * 16);
  guint i;

  g_string_append_c (s, '{');
  for (i = 0; i < n_keys; i++)
    g_string_append_printf (s, "%s\"k%u\":%u", i ? "," : "", i, i);
  g_string_append_c (s, '}');
  return s;
}

/* Milliseconds of one apply of @json as a SignalSync with @limits */
static gdouble
time_apply (const GString * json, const DsSignalLimits * limits, gboolean * ok)
{
  DsSignalState *state = ds_signal_state_new ();
  gint64 start = g_get_monotonic_time ();

  *ok = ds_signal_state_apply_full (state, TRUE, json->str, json->len, limits,
      NULL);
  start = g_get_monotonic_time () - start;
  ds_signal_state_free (state);
  return start / 1000.0;
}

int
main (int argc, char **argv)
{
  DsSignalLimits bounded, unbounded = { 0, 0 };
  GString *nested, *huge, *dashboard;
  gdouble t[9], bounded_ms, unbounded_ms;
  DsSignalState *state;
  guint i, huge_keys = 3000000;
  gboolean ok = FALSE;

  if (argc > 1)
    huge_keys = (guint) g_ascii_strtoull (argv[1], NULL, 10);
  ds_signal_limits_init (&bounded);

  /* 1. the reproduction of item 1: a comment holding a quote, 1e6 '[' */
  nested = g_string_new ("/*\"*/");
  for (i = 0; i < 1000000; i++)
    g_string_append_c (nested, '[');
  for (i = 0; i < G_N_ELEMENTS (t); i++)
    t[i] = time_apply (nested, &bounded, &ok);
  printf ("comment + 1e6 '[' (%zu bytes): refused=%s in %.3f ms (median of "
      "%u); the old pre-scan let it through to json-glib: stack overflow\n",
      nested->len, ok ? "no" : "yes", median (t, G_N_ELEMENTS (t)),
      (guint) G_N_ELEMENTS (t));
  g_string_erase (nested, 0, 5);
  for (i = 0; i < G_N_ELEMENTS (t); i++)
    t[i] = time_apply (nested, &bounded, &ok);
  printf ("1e6 '[' alone: refused=%s in %.3f ms\n", ok ? "no" : "yes",
      median (t, G_N_ELEMENTS (t)));
  g_string_free (nested, TRUE);

  /* 2. item 6: a huge SignalSync, bounded and not */
  huge = many_keys (huge_keys);
  bounded_ms = time_apply (huge, &bounded, &ok);
  printf ("SignalSync of %u keys, %.1f MB: bounded: refused=%s in %.3f ms\n",
      huge_keys, huge->len / 1e6, ok ? "no" : "yes", bounded_ms);
  unbounded_ms = time_apply (huge, &unbounded, &ok);
  printf ("  unbounded (before): applied=%s in %.1f ms; ratio %.0fx\n",
      ok ? "yes" : "no", unbounded_ms, unbounded_ms / MAX (bounded_ms, 0.001));
  /* and what each joiner cost before: serialising that state */
  state = ds_signal_state_new ();
  ds_signal_state_apply_full (state, TRUE, huge->str, huge->len, &unbounded,
      NULL);
  {
    gint64 start = g_get_monotonic_time ();
    gsize len;
    gchar *text = ds_signal_state_to_json (state, NULL, &len);

    printf ("  its catch-up, serialised per joiner before: %.1f ms "
        "(%zu bytes)\n", (g_get_monotonic_time () - start) / 1000.0, len);
    g_free (text);
  }
  ds_signal_state_free (state);
  g_string_free (huge, TRUE);

  /* 3. per joiner at the bound: 10000 keys, under 1 MiB */
  dashboard = many_keys (DS_SIGNAL_DEFAULT_MAX_KEYS);
  state = ds_signal_state_new ();
  if (!ds_signal_state_apply_full (state, TRUE, dashboard->str,
          dashboard->len, &bounded, NULL)) {
    printf ("state at the bound refused?\n");
    return 1;
  }
  {
    GBytes *cached = NULL;
    gdouble per_joiner[9], shared[9];

    for (i = 0; i < G_N_ELEMENTS (per_joiner); i++) {
      gint64 start = g_get_monotonic_time ();
      gsize len;
      gchar *text = ds_signal_state_to_json (state, NULL, &len);

      per_joiner[i] = (g_get_monotonic_time () - start) / 1000.0;
      g_free (text);
    }
    for (i = 0; i < G_N_ELEMENTS (shared); i++) {
      gint64 start = g_get_monotonic_time ();
      GBytes *ref;

      /* the relay's cache: serialised on the first joiner after a change,
       * then shared */
      if (cached == NULL) {
        gsize len;
        gchar *text = ds_signal_state_to_json (state, NULL, &len);

        cached = g_bytes_new_take (text, len);
      }
      ref = g_bytes_ref (cached);
      shared[i] = (g_get_monotonic_time () - start) / 1000.0;
      g_bytes_unref (ref);
    }
    printf ("catch-up of a %u-key state (%zu bytes) per joiner: serialised "
        "each time (before) %.3f ms, shared (now) %.4f ms (median of %u; "
        "the first joiner after a change pays one serialisation)\n",
        DS_SIGNAL_DEFAULT_MAX_KEYS, dashboard->len,
        median (per_joiner, G_N_ELEMENTS (per_joiner)),
        median (shared, G_N_ELEMENTS (shared)), (guint) G_N_ELEMENTS (shared));
    g_bytes_unref (cached);
  }
  ds_signal_state_free (state);
  g_string_free (dashboard, TRUE);

  return 0;
}
