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

/* ds-relay's log: one line per decision, frames only when verbose. Every
 * relay file logs through here (GLib's structured log, domain "ds-relay");
 * the program installs relay_log_writer() to print the lines on stderr as
 * "ds-relay HH:MM:SS.mmm TEXT". Without it (tests, fuzz targets) the lines
 * go to GLib's default writer as info messages, shown only with
 * G_MESSAGES_DEBUG=ds-relay. */

#ifndef __RELAY_LOG_H__
#define __RELAY_LOG_H__

#include <glib.h>

G_BEGIN_DECLS

#define RELAY_LOG_DOMAIN "ds-relay"

void            relay_log                   (const gchar * format,
                                             ...) G_GNUC_PRINTF (1, 2);

void            relay_log_set_verbose       (gboolean verbose);
gboolean        relay_log_get_verbose       (void);

/* Prints the relay's lines on stderr, passes other domains to GLib's
 * default writer (for g_log_set_writer_func()) */
GLogWriterOutput relay_log_writer           (GLogLevelFlags log_level,
                                             const GLogField * fields,
                                             gsize n_fields,
                                             gpointer user_data);

/* Logs only when verbose (--verbose): per-frame details */
#define relay_verbose(...) G_STMT_START {                               \
  if (relay_log_get_verbose ())                                         \
    relay_log (__VA_ARGS__);                                            \
} G_STMT_END

G_END_DECLS

#endif /* __RELAY_LOG_H__ */
