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

/* The HTTP side of ds-relay: WebSocket upgrades for /peer/, /stream/ and
 * /signal/ (names, Origin and Host, tokens and limits checked before the
 * upgrade), /healthz, /channels, /metrics and the viewer pages. Requests
 * come from relay-server.c, parsed by relay-http-request.c; the relay has
 * its own HTTP layer so that no request body is ever read, every answer
 * closes its connection and every connection has a deadline (see
 * docs/relay.md). */

#ifndef __RELAY_HTTP_H__
#define __RELAY_HTTP_H__

#include "relay.h"

G_BEGIN_DECLS

/* Serves on @listener (wss:// and https:// with @certificate) */
void      relay_http_start    (DsRelay * relay,
                               GSocket * listener,
                               GTlsCertificate * certificate);
/* Stops accepting; closes connections not yet upgraded */
void      relay_http_stop     (DsRelay * relay);
void      relay_http_free     (DsRelay * relay);

G_END_DECLS

#endif /* __RELAY_HTTP_H__ */
