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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "relay-clock.h"

static gint64
relay_system_clock_now (RelayClock * clock)
{
  return g_get_monotonic_time ();
}

static guint
relay_system_clock_add_timeout (RelayClock * clock, gint64 delay,
    GSourceFunc func, gpointer user_data)
{
  gint64 ms = (MAX (delay, 0) + 999) / 1000;

  return g_timeout_add ((guint) MIN (ms, G_MAXUINT), func, user_data);
}

static void
relay_system_clock_remove_timeout (RelayClock * clock, guint id)
{
  g_source_remove (id);
}

static const RelayClockFuncs system_clock_funcs = {
  relay_system_clock_now,
  relay_system_clock_add_timeout,
  relay_system_clock_remove_timeout,
};

static RelayClock system_clock = { &system_clock_funcs };

RelayClock *
relay_clock_get_system (void)
{
  return &system_clock;
}
