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

/* A channel's client on a real connection: the RelayClientFuncs of the
 * channel logic (relay-channel.c) implemented with a RelayWs
 * (relay-ws.c), and the WebSocket's callbacks passed on to the logic.
 * The only file that knows both. */

#ifndef __RELAY_WS_CLIENT_H__
#define __RELAY_WS_CLIENT_H__

#include "relay-channel.h"
#include "relay-ws.h"

G_BEGIN_DECLS

/* Attaches a freshly upgraded connection to @channel (the client owns
 * @ws from now on and frees it once it closed). The relay runs on the
 * system clock, whose times are the WebSocket's. */
RelayClient *   relay_client_attach         (DsRelay * relay,
                                             RelayChannel * channel,
                                             RelayRole role,
                                             RelayWs * ws,
                                             const gchar * peer,
                                             gboolean view_only);

/* Once per 100 ms: stuck clients and idle channels (relay_housekeeping()
 * on the clients whose WebSockets have something queued) */
void            relay_ws_client_housekeeping (DsRelay * relay);

G_END_DECLS

#endif /* __RELAY_WS_CLIENT_H__ */
