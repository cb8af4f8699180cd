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
 * /signal/ (names and tokens checked before the upgrade), /healthz,
 * /channels, /metrics and the viewer pages. */

#ifndef __RELAY_HTTP_H__
#define __RELAY_HTTP_H__

#include "relay.h"

G_BEGIN_DECLS

void      relay_http_setup    (DsRelay * relay);

G_END_DECLS

#endif /* __RELAY_HTTP_H__ */
