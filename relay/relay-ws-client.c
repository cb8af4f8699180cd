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

#include "relay-ws-client.h"

/* The logic's side: what a client asks of its WebSocket */

static void
relay_ws_client_send (gpointer conn, gboolean binary, GBytes * message)
{
  relay_ws_send (conn, binary ? RELAY_WS_OPCODE_BINARY : RELAY_WS_OPCODE_TEXT,
      message, FALSE);
}

static void
relay_ws_client_close (gpointer conn, gushort code, const gchar * reason)
{
  relay_ws_close (conn, code, reason);
}

static gsize
relay_ws_client_get_queued_bytes (gpointer conn)
{
  return relay_ws_get_queued_bytes (conn);
}

static gint64
relay_ws_client_get_last_progress (gpointer conn)
{
  return relay_ws_get_last_progress (conn);
}

static const RelayClientFuncs ws_client_funcs = {
  relay_ws_client_send,
  relay_ws_client_close,
  relay_ws_client_get_queued_bytes,
  relay_ws_client_get_last_progress,
};

/* The transport's side: what the WebSocket tells the client */

static void
relay_ws_client_message_cb (RelayWs * ws, gboolean binary, GBytes * message,
    gpointer user_data)
{
  relay_client_receive (user_data, binary, message);
}

static void
relay_ws_client_drained_cb (RelayWs * ws, gpointer user_data)
{
  relay_client_drained (user_data);
}

static void
relay_ws_client_closed_cb (RelayWs * ws, gpointer user_data)
{
  relay_client_remove (user_data, relay_ws_get_peer_close_code (ws));
  relay_ws_free (ws);
}

RelayClient *
relay_client_attach (DsRelay * relay, RelayChannel * channel, RelayRole role,
    RelayWs * ws, const gchar * peer, gboolean view_only)
{
  RelayClient *client;

  client = relay_client_new (channel, role, &ws_client_funcs, ws, peer,
      view_only);
  relay_ws_set_callbacks (ws, relay_ws_client_message_cb,
      relay_ws_client_closed_cb,
      role == RELAY_ROLE_RECEIVER ? relay_ws_client_drained_cb : NULL, client);
  /* backpressure for every role: a client whose own queue is over the
   * bound is not read until it reads */
  relay_ws_set_read_limit (ws, relay->settings.max_queue_bytes);
  /* housekeeping finds it among the connections with something queued */
  relay_ws_set_listed (ws, TRUE);
  relay_client_join (client);
  /* only now: bytes already buffered may be handled at once */
  relay_ws_start (ws);
  return client;
}

void
relay_ws_client_housekeeping (DsRelay * relay)
{
  GPtrArray *busy;
  gsize queued = 0;
  guint i;

  /* every listed connection belongs to a client */
  busy = relay_ws_list_queued (&queued);
  for (i = 0; i < busy->len; i++)
    busy->pdata[i] = relay_ws_get_user_data (busy->pdata[i]);
  relay_housekeeping (relay, busy, queued);
  g_ptr_array_unref (busy);
}
