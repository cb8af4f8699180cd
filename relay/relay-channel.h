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

/* Channels (SPEC §6.2-6.7) and the clients attached to them: fan-out,
 * caches for late joiners, input routing, slow-receiver handling. */

#ifndef __RELAY_CHANNEL_H__
#define __RELAY_CHANNEL_H__

#include "relay.h"

G_BEGIN_DECLS

/* 1-64 of [A-Za-z0-9._-] */
gboolean        relay_channel_name_is_valid (const gchar * name);

/* Finds or creates a channel (NULL when --max-channels is reached) */
RelayChannel *  relay_channel_get           (DsRelay * relay,
                                             const gchar * name,
                                             gboolean create);

/* Attaches a freshly upgraded connection to @channel */
RelayClient *   relay_client_attach         (DsRelay * relay,
                                             RelayChannel * channel,
                                             RelayRole role,
                                             RelayWs * ws,
                                             const gchar * peer,
                                             gboolean view_only);

/* Closes every client with @code and @reason */
void            relay_close_all             (DsRelay * relay,
                                             gushort code,
                                             const gchar * reason);

/* Once a second: stuck receivers, idle channels */
void            relay_housekeeping          (DsRelay * relay);
/* At exit, once no client is left: frees every channel and the table */
void            relay_channels_free         (DsRelay * relay);

/* /channels and /metrics bodies */
gchar *         relay_channels_json         (DsRelay * relay);
gchar *         relay_metrics_text          (DsRelay * relay);

const gchar *   relay_role_name             (RelayRole role);

G_END_DECLS

#endif /* __RELAY_CHANNEL_H__ */
