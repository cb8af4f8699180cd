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

/* The time the channel logic sees: now, and one-shot timeouts. The
 * program uses the system clock (the monotonic clock and the default main
 * context); tests pass a clock of their own that they advance by hand. */

#ifndef __RELAY_CLOCK_H__
#define __RELAY_CLOCK_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _RelayClock RelayClock;

typedef struct
{
  /* monotonic time in microseconds */
  gint64        (*now)            (RelayClock * clock);
  /* calls @func once after @delay microseconds; returns an id > 0 */
  guint         (*add_timeout)    (RelayClock * clock,
                                   gint64 delay,
                                   GSourceFunc func,
                                   gpointer user_data);
  /* cancels a pending timeout */
  void          (*remove_timeout) (RelayClock * clock,
                                   guint id);
} RelayClockFuncs;

struct _RelayClock
{
  const RelayClockFuncs *funcs;
};

/* g_get_monotonic_time() and g_timeout_add() (rounded up to ms) */
RelayClock *    relay_clock_get_system      (void);

static inline gint64
relay_clock_now (RelayClock * clock)
{
  return clock->funcs->now (clock);
}

static inline guint
relay_clock_add_timeout (RelayClock * clock, gint64 delay, GSourceFunc func,
    gpointer user_data)
{
  return clock->funcs->add_timeout (clock, delay, func, user_data);
}

/* Cancels the timeout *@id, if any, and sets it to 0 */
static inline void
relay_clock_clear_timeout (RelayClock * clock, guint * id)
{
  if (*id != 0) {
    clock->funcs->remove_timeout (clock, *id);
    *id = 0;
  }
}

G_END_DECLS

#endif /* __RELAY_CLOCK_H__ */
