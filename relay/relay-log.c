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

#include <stdio.h>
#include <string.h>

#include "relay-log.h"

static gboolean verbose;

void
relay_log_set_verbose (gboolean enable)
{
  verbose = enable;
}

gboolean
relay_log_get_verbose (void)
{
  return verbose;
}

void
relay_log (const gchar * format, ...)
{
  gchar *text;
  va_list ap;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_log_structured (RELAY_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE", "%s", text);
  g_free (text);
}

GLogWriterOutput
relay_log_writer (GLogLevelFlags log_level, const GLogField * fields,
    gsize n_fields, gpointer user_data)
{
  const gchar *domain = NULL, *message = NULL;
  GDateTime *now;
  gchar *stamp;
  gsize i;

  for (i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
    else if (strcmp (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  }
  if (g_strcmp0 (domain, RELAY_LOG_DOMAIN) != 0 || message == NULL)
    return g_log_writer_default (log_level, fields, n_fields, user_data);

  now = g_date_time_new_now_utc ();
  stamp = g_date_time_format (now, "%H:%M:%S");
  fprintf (stderr, "ds-relay %s.%03d %s\n", stamp,
      g_date_time_get_microsecond (now) / 1000, message);
  g_free (stamp);
  g_date_time_unref (now);
  return G_LOG_WRITER_HANDLED;
}
