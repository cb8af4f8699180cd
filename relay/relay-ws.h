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
 * The server side of RFC 6455 on a connection stolen from SoupServer after
 * the 101 response. libsoup 3.2's SoupWebsocketConnection copies every
 * outgoing message and does not tell how many bytes it still holds, so the
 * relay frames messages itself: every queued message keeps a reference to
 * the shared payload (no copy per receiver), queued bytes are counted
 * exactly, and queued messages go out in one writev() per wake-up.
 */

#ifndef __RELAY_WS_H__
#define __RELAY_WS_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _RelayWs RelayWs;

typedef enum
{
  RELAY_WS_OPCODE_TEXT = 0x1,
  RELAY_WS_OPCODE_BINARY = 0x2,
  RELAY_WS_OPCODE_CLOSE = 0x8,
  RELAY_WS_OPCODE_PING = 0x9,
  RELAY_WS_OPCODE_PONG = 0xA,
} RelayWsOpcode;

/* Close codes used by the relay (RFC 6455 §7.4) */
#define RELAY_WS_CLOSE_NORMAL 1000
#define RELAY_WS_CLOSE_GOING_AWAY 1001
#define RELAY_WS_CLOSE_PROTOCOL_ERROR 1002
#define RELAY_WS_CLOSE_UNSUPPORTED_DATA 1003
#define RELAY_WS_CLOSE_BAD_DATA 1007
#define RELAY_WS_CLOSE_POLICY_VIOLATION 1008
#define RELAY_WS_CLOSE_TOO_BIG 1009
/* Application codes: the relay's own decisions */
#define RELAY_WS_CLOSE_TAKEN_OVER 4000
#define RELAY_WS_CLOSE_TOO_SLOW 4001

/* A complete message arrived (control frames are handled inside). */
typedef void (*RelayWsMessageFunc) (RelayWs * ws, gboolean binary,
    GBytes * message, gpointer user_data);
/* The connection is gone (closed by either side or failed); the callee
 * usually frees @ws. */
typedef void (*RelayWsClosedFunc) (RelayWs * ws, gpointer user_data);
/* Everything queued has been written */
typedef void (*RelayWsDrainedFunc) (RelayWs * ws, gpointer user_data);

RelayWs *       relay_ws_new                (GIOStream * stream,
                                             gsize max_message,
                                             guint keepalive_seconds);
/* The socket under @stream, when relay_ws_new() cannot find it (a
 * wrapper stream such as libsoup's): reading is then watched by one epoll
 * set shared by every connection, not by a GSource per connection (whose
 * cost GLib pays for each connection at every main-loop iteration).
 * Before relay_ws_start(). */
void            relay_ws_set_socket         (RelayWs * ws,
                                             GSocket * socket);
void            relay_ws_set_callbacks      (RelayWs * ws,
                                             RelayWsMessageFunc message,
                                             RelayWsClosedFunc closed,
                                             RelayWsDrainedFunc drained,
                                             gpointer user_data);
/* The stream is TLS (hidden inside libsoup's wrapper): what a write that
 * would block offered is then never discarded, as the TLS layer may hold
 * it in a pending record */
void            relay_ws_set_tls            (RelayWs * ws,
                                             gboolean tls);
/* Reading pauses while more than @limit bytes (as
 * relay_ws_get_queued_bytes()) are queued, and resumes once they are
 * written or discarded; 0 = never pause */
void            relay_ws_set_read_limit     (RelayWs * ws,
                                             gsize limit);
/* Starts reading */
void            relay_ws_start              (RelayWs * ws);
void            relay_ws_free               (RelayWs * ws);

/* Queues one message; @payload is referenced, not copied. @droppable
 * messages may be discarded by relay_ws_discard_unsent(). */
void            relay_ws_send               (RelayWs * ws,
                                             RelayWsOpcode opcode,
                                             GBytes * payload,
                                             gboolean droppable);
/* Writes what is queued now (otherwise done from an idle callback, so
 * that messages queued in one main-loop turn go out in one writev()). */
void            relay_ws_flush              (RelayWs * ws);

/* Bytes queued and not yet written (headers included), plus a fixed
 * bookkeeping cost of 128 bytes per queued message */
gsize           relay_ws_get_queued_bytes   (RelayWs * ws);
guint           relay_ws_get_queued_messages (RelayWs * ws);
/* A listed connection is in relay_ws_list_queued() while it has
 * something queued */
void            relay_ws_set_listed         (RelayWs * ws,
                                             gboolean listed);
/* The listed connections that have something queued (the others cannot
 * be stuck), in a new array, and their relay_ws_get_queued_bytes() summed
 * in @total_bytes: costs O(such connections), not O(connections) */
GPtrArray *     relay_ws_list_queued        (gsize * total_bytes);
gpointer        relay_ws_get_user_data      (RelayWs * ws);
/* Bytes (headers included) of the droppable messages queued */
gsize           relay_ws_get_droppable_bytes (RelayWs * ws);
/* Drops droppable messages not yet started; returns the bytes dropped */
gsize           relay_ws_discard_unsent     (RelayWs * ws);
/* Monotonic time (us) of the last write progress, or of the moment the
 * queue became non-empty */
gint64          relay_ws_get_last_progress  (RelayWs * ws);

/* Starts the closing handshake (idempotent). The connection is torn down
 * when the peer answers, or after a short timeout. */
void            relay_ws_close              (RelayWs * ws,
                                             gushort code,
                                             const gchar * reason);
gboolean        relay_ws_is_open            (RelayWs * ws);
/* The close code/reason the peer sent (0/NULL if none) */
gushort         relay_ws_get_peer_close_code (RelayWs * ws);

guint64         relay_ws_get_bytes_in       (RelayWs * ws);
guint64         relay_ws_get_bytes_out      (RelayWs * ws);

G_END_DECLS

#endif /* __RELAY_WS_H__ */
