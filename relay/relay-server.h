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
 * The server side of ds-relay's transport: it accepts connections on the
 * main loop from a listening socket, runs their TLS handshakes, reads each request head into a bounded buffer and hands it to the
 * HTTP layer (relay-http.c), which answers or upgrades the connection.
 *
 * Every connection has a deadline from accept until its request is
 * answered or upgraded, and a shorter one for its TLS handshake. A TLS
 * handshake starts only once the whole ClientHello record is there (waited
 * for on the main loop, no thread held), and handshakes in progress are
 * bounded in total (more wait their turn) and per client address (a new
 * one drops the oldest of that address), so that stalled handshakes cannot
 * lock out an honest client. Connections are counted per client address from accept until
 * they close, upgraded ones included.
 *
 * Non-upgrade answers always close the connection: there is no keep-alive,
 * and no request body is ever read.
 */

#ifndef __RELAY_SERVER_H__
#define __RELAY_SERVER_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _RelayServer RelayServer;
typedef struct _RelayConnection RelayConnection;

typedef struct
{
  gdouble handshake_timeout;    /* seconds from accept to answer/upgrade */
  gdouble tls_handshake_timeout;        /* seconds from accept to TLS up */
  guint max_per_address;        /* connections per client address; 0: any */
  guint max_tls_handshakes;     /* TLS handshakes in progress; more wait */
  guint max_tls_handshakes_per_address; /* more drop the oldest */
} RelayServerLimits;

/* A request head arrived: @head[0..@len) ends with its empty line and
 * @extra more bytes followed it. @len is 0 when no head was complete
 * within RELAY_HTTP_MAX_HEAD bytes. The callee answers with
 * relay_connection_respond() or relay_connection_upgrade(), at once. */
typedef void (*RelayServerRequestFunc) (RelayConnection * conn,
    const gchar * head, gsize len, gsize extra, gpointer user_data);
/* A connection was refused before its request (too many from @address) */
typedef void (*RelayServerRefusedFunc) (const gchar * address,
    gpointer user_data);
/* The 101 went out: @stream is now the callee's (take a reference) */
typedef void (*RelayConnectionUpgradeFunc) (RelayConnection * conn,
    GIOStream * stream, gpointer user_data);

RelayServer *   relay_server_new            (GSocket * listener,
                                             GTlsCertificate * certificate,
                                             const RelayServerLimits * limits,
                                             RelayServerRequestFunc request,
                                             RelayServerRefusedFunc refused,
                                             gpointer user_data);
/* Stops accepting and closes every connection not yet upgraded */
void            relay_server_stop           (RelayServer * server);
void            relay_server_free           (RelayServer * server);
/* Connections accepted and not yet answered or upgraded */
guint           relay_server_get_pending    (RelayServer * server);

/* "ADDRESS:PORT" ("[ADDRESS]:PORT" for IPv6) */
const gchar *   relay_connection_get_peer   (RelayConnection * conn);
GSocket *       relay_connection_get_socket (RelayConnection * conn);
gboolean        relay_connection_is_tls     (RelayConnection * conn);

/* Writes @response (a complete HTTP response, taken) and closes the
 * connection */
void            relay_connection_respond    (RelayConnection * conn,
                                             GBytes * response);
/* Writes @response (a 101, taken) and hands the connection over to @func */
void            relay_connection_upgrade    (RelayConnection * conn,
                                             GBytes * response,
                                             RelayConnectionUpgradeFunc func,
                                             gpointer user_data,
                                             GDestroyNotify notify);

G_END_DECLS

#endif /* __RELAY_SERVER_H__ */
