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

/* POLLRDHUP */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <string.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "relay-log.h"
#include "relay-http-request.h"
#include "relay-server.h"

/* Longest any connection may take from accept to its answer, whatever
 * --handshake-timeout says (0 included) */
#define RELAY_SERVER_MAX_DEADLINE 60.0
#define ACCEPT_BATCH 64
#define ACCEPT_PAUSE_MS 100
#define READ_START 1024
#define REFUSED_LOG_INTERVAL_US G_TIME_SPAN_SECOND
/* TLS record header; the largest record a ClientHello may come in */
#define TLS_RECORD_HEADER 5
#define TLS_MAX_RECORD (16384 + 2048)

typedef enum
{
  CONN_TLS_HELLO,               /* waiting for a whole first TLS record */
  CONN_TLS_QUEUED,              /* waiting for a free handshake slot */
  CONN_TLS_HANDSHAKE,           /* in glib-networking's handshake */
  CONN_READING,
  CONN_HANDLING,                /* in the request callback */
  CONN_WRITING,
} RelayConnectionState;

/* What is known of one client address */
typedef struct
{
  guint connections;            /* accepted and not yet closed */
  guint tls_pending;            /* of which in CONN_TLS_HANDSHAKE */
} RelayAddress;

/* An upgraded connection, counted for its address until it is finalized */
typedef struct
{
  RelayServer *server;
  GObject *stream;
  gchar *address;
} RelayUpgraded;

struct _RelayServer
{
  RelayServerLimits limits;
  GSocket *listener;
  GSource *accept_source;
  guint accept_pause_id;
  GTlsCertificate *certificate;
  guint8 *peek;                 /* TLS_MAX_RECORD bytes, for MSG_PEEK */
  RelayServerRequestFunc request_func;
  RelayServerRefusedFunc refused_func;
  gpointer user_data;

  GHashTable *addresses;        /* address text -> RelayAddress */
  GQueue connections;           /* RelayConnection, not yet handed over */
  GQueue tls_pending;           /* RelayConnection in CONN_TLS_HANDSHAKE,
                                 * oldest first */
  GQueue tls_queued;            /* RelayConnection in CONN_TLS_QUEUED */
  GHashTable *upgraded;         /* RelayUpgraded set */
  gboolean stopped;

  guint64 refused_logged_at;
  guint refused_since_log;
};

struct _RelayConnection
{
  RelayServer *server;
  RelayConnectionState state;
  GSocket *socket;
  GSocketConnection *base;
  GIOStream *stream;            /* base, or the TLS connection over it */
  gchar *address;
  gchar *peer;
  gint64 accepted;
  GList link;                   /* in server->connections */
  GList tls_link;               /* in server->tls_pending or tls_queued */
  guint deadline_id;
  GSource *io_source;

  /* TLS */
  GCancellable *cancellable;
  gboolean evicted;             /* closed while in its handshake */

  /* request head */
  gchar *buf;
  gsize len;
  gsize cap;

  /* answer */
  GBytes *out;
  gsize out_pos;
  RelayConnectionUpgradeFunc upgrade_func;
  gpointer upgrade_data;
  GDestroyNotify upgrade_notify;
};

static void relay_connection_close (RelayConnection * conn);
static void relay_connection_start_reading (RelayConnection * conn);

/* Per-address accounting */

static RelayAddress *
relay_server_address (RelayServer * server, const gchar * address)
{
  RelayAddress *entry = g_hash_table_lookup (server->addresses, address);

  if (entry == NULL) {
    entry = g_new0 (RelayAddress, 1);
    g_hash_table_insert (server->addresses, g_strdup (address), entry);
  }
  return entry;
}

static void
relay_server_address_release (RelayServer * server, const gchar * address)
{
  RelayAddress *entry = g_hash_table_lookup (server->addresses, address);

  g_return_if_fail (entry != NULL && entry->connections > 0);
  entry->connections--;
  if (entry->connections == 0)
    g_hash_table_remove (server->addresses, address);
}

static void
relay_upgraded_finalized_cb (gpointer user_data, GObject * where)
{
  RelayUpgraded *upgraded = user_data;

  relay_server_address_release (upgraded->server, upgraded->address);
  g_hash_table_remove (upgraded->server->upgraded, upgraded);
}

static void
relay_upgraded_free (RelayUpgraded * upgraded)
{
  g_free (upgraded->address);
  g_free (upgraded);
}

/* Connections */

static gboolean
relay_connection_deadline_cb (gpointer user_data)
{
  RelayConnection *conn = user_data;

  conn->deadline_id = 0;
  g_debug ("%s: no request in time, closing", conn->peer);
  relay_connection_close (conn);
  return G_SOURCE_REMOVE;
}

static void
relay_connection_set_deadline (RelayConnection * conn, gdouble seconds)
{
  gint64 end = conn->accepted + (gint64) (seconds * G_TIME_SPAN_SECOND);
  gint64 left_ms = (end - g_get_monotonic_time ()) / 1000;

  g_clear_handle_id (&conn->deadline_id, g_source_remove);
  conn->deadline_id = g_timeout_add (MAX (left_ms, 0),
      relay_connection_deadline_cb, conn);
}

static void
relay_connection_clear_io (RelayConnection * conn)
{
  if (conn->io_source) {
    g_source_destroy (conn->io_source);
    g_source_unref (conn->io_source);
    conn->io_source = NULL;
  }
}

static void
relay_connection_free (RelayConnection * conn)
{
  relay_connection_clear_io (conn);
  g_clear_handle_id (&conn->deadline_id, g_source_remove);
  g_clear_object (&conn->stream);
  g_clear_object (&conn->base);
  g_clear_object (&conn->socket);
  g_clear_object (&conn->cancellable);
  g_clear_pointer (&conn->out, g_bytes_unref);
  if (conn->upgrade_notify)
    conn->upgrade_notify (conn->upgrade_data);
  g_free (conn->buf);
  g_free (conn->address);
  g_free (conn->peer);
  g_free (conn);
}

static void relay_server_next_handshake (RelayServer * server);

/* Takes @conn out of the handshakes in progress (glib-networking may
 * still hold it until its handshake returns) */
static void
relay_connection_leave_tls_pending (RelayConnection * conn)
{
  RelayServer *server = conn->server;
  RelayAddress *entry;

  if (conn->evicted)
    return;
  conn->evicted = TRUE;
  g_queue_unlink (&server->tls_pending, &conn->tls_link);
  entry = g_hash_table_lookup (server->addresses, conn->address);
  if (entry)
    entry->tls_pending--;
}

/* Closes the connection and forgets it. A connection in its TLS handshake
 * is cancelled, and freed when the handshake returns. */
static void
relay_connection_close (RelayConnection * conn)
{
  RelayServer *server = conn->server;

  if (conn->state == CONN_TLS_HANDSHAKE) {
    if (conn->evicted)
      return;
    relay_connection_leave_tls_pending (conn);
    g_clear_handle_id (&conn->deadline_id, g_source_remove);
    relay_connection_clear_io (conn);
    g_cancellable_cancel (conn->cancellable);
    /* also ends a read that does not watch the cancellable */
    g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
    relay_server_next_handshake (server);
    return;
  }
  if (conn->state == CONN_TLS_QUEUED)
    g_queue_unlink (&server->tls_queued, &conn->tls_link);
  g_queue_unlink (&server->connections, &conn->link);
  relay_server_address_release (server, conn->address);
  /* TLS: no close_notify; a blocking write of it could stall the loop,
   * and every answer says how long it is */
  g_socket_close (conn->socket, NULL);
  relay_connection_free (conn);
}

/* TLS handshakes. glib-networking 2.74 runs every handshake, the blocking
 * one too, as a task in GLib's shared thread pool (10 threads, grown by
 * one every 100 ms or more when they are all taken), where a stalled
 * handshake holds a thread until it fails. So a connection only gets a
 * handshake once its whole first TLS record (the ClientHello) is there,
 * waited for on the main loop, and at most max_tls_handshakes run at once;
 * from one address at most max_tls_handshakes_per_address, a new one
 * dropping the oldest of that address. */

static void
relay_connection_handshake_done_cb (GObject * source, GAsyncResult * result,
    gpointer user_data)
{
  RelayConnection *conn = user_data;
  RelayServer *server = conn->server;
  GError *error = NULL;
  gboolean ok;

  ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result,
      &error);
  if (conn->evicted || !ok || server->stopped) {
    g_debug ("%s: TLS handshake failed: %s", conn->peer,
        error ? error->message : "dropped");
    g_clear_error (&error);
    relay_connection_leave_tls_pending (conn);
    conn->state = CONN_READING;
    relay_connection_close (conn);
    relay_server_next_handshake (server);
    return;
  }
  relay_connection_leave_tls_pending (conn);
  conn->state = CONN_READING;
  relay_connection_set_deadline (conn, server->limits.handshake_timeout);
  relay_connection_start_reading (conn);
  relay_server_next_handshake (server);
}

static void
relay_connection_start_handshake (RelayConnection * conn)
{
  RelayServer *server = conn->server;
  RelayAddress *entry = g_hash_table_lookup (server->addresses,
      conn->address);

  conn->state = CONN_TLS_HANDSHAKE;
  g_queue_push_tail_link (&server->tls_pending, &conn->tls_link);
  entry->tls_pending++;
  g_tls_connection_handshake_async (G_TLS_CONNECTION (conn->stream),
      G_PRIORITY_DEFAULT, conn->cancellable,
      relay_connection_handshake_done_cb, conn);
}

/* Starts queued handshakes while there is room */
static void
relay_server_next_handshake (RelayServer * server)
{
  while (!server->stopped && server->tls_queued.length > 0 &&
      server->tls_pending.length < server->limits.max_tls_handshakes) {
    GList *link = g_queue_pop_head_link (&server->tls_queued);

    relay_connection_start_handshake (link->data);
  }
}

/* The ClientHello is there: a handshake now, or a place in the queue */
static void
relay_connection_hello_complete (RelayConnection * conn)
{
  RelayServer *server = conn->server;
  RelayAddress *entry = g_hash_table_lookup (server->addresses,
      conn->address);
  GList *l;

  g_socket_set_option (conn->socket, SOL_SOCKET, SO_RCVLOWAT, 1, NULL);
  if (entry->tls_pending >= server->limits.max_tls_handshakes_per_address) {
    for (l = server->tls_pending.head; l; l = l->next) {
      RelayConnection *c = l->data;

      if (strcmp (c->address, conn->address) == 0) {
        g_debug ("%s: too many TLS handshakes from %s, dropping the oldest",
            c->peer, c->address);
        relay_connection_close (c);
        break;
      }
    }
  }
  if (server->tls_pending.length < server->limits.max_tls_handshakes) {
    relay_connection_start_handshake (conn);
    return;
  }
  conn->state = CONN_TLS_QUEUED;
  g_queue_push_tail_link (&server->tls_queued, &conn->tls_link);
}

/* TRUE once the peer has shut its side: with bytes still unread, a
 * readable socket says nothing else about it */
static gboolean
relay_socket_peer_closed (GSocket * socket)
{
  struct pollfd pfd = { g_socket_get_fd (socket), POLLRDHUP, 0 };

  return poll (&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP |
          POLLERR)) != 0;
}

/* Waits (without reading) until the first TLS record is complete;
 * SO_RCVLOWAT makes the socket readable only then */
static gboolean
relay_connection_hello_cb (GSocket * socket, GIOCondition condition,
    gpointer user_data)
{
  RelayConnection *conn = user_data;
  RelayServer *server = conn->server;
  gssize n;
  gsize record;

  /* GIO has no peek: recv() on the fd, which GIO keeps non-blocking */
  n = recv (g_socket_get_fd (socket), server->peek, TLS_MAX_RECORD,
      MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return G_SOURCE_CONTINUE;
    goto drop;
  }
  if (n < TLS_RECORD_HEADER) {
    if (relay_socket_peer_closed (socket))
      goto drop;
    return G_SOURCE_CONTINUE;
  }
  /* a handshake record of TLS 1.x */
  if (server->peek[0] != 0x16 || server->peek[1] != 0x03)
    goto drop;
  record = TLS_RECORD_HEADER + ((server->peek[3] << 8) | server->peek[4]);
  if (record > TLS_MAX_RECORD)
    goto drop;
  if ((gsize) n < record) {
    if (relay_socket_peer_closed (socket))
      goto drop;
    g_socket_set_option (socket, SOL_SOCKET, SO_RCVLOWAT, (gint) record, NULL);
    return G_SOURCE_CONTINUE;
  }
  g_source_unref (conn->io_source);
  conn->io_source = NULL;
  relay_connection_hello_complete (conn);
  return G_SOURCE_REMOVE;

drop:
  g_debug ("%s: not a TLS ClientHello", conn->peer);
  g_source_unref (conn->io_source);
  conn->io_source = NULL;
  relay_connection_close (conn);
  return G_SOURCE_REMOVE;
}

static void
relay_connection_start_tls (RelayConnection * conn)
{
  RelayServer *server = conn->server;
  GError *error = NULL;
  GIOStream *tls;

  /* No trust database: no client certificate is asked for, and the
   * default one would parse every system CA for each connection (about
   * 7 ms of CPU each with glib-networking 2.74, on the main loop) */
  tls = g_initable_new (g_tls_backend_get_server_connection_type
      (g_tls_backend_get_default ()), NULL, &error,
      "base-io-stream", conn->base, "certificate", server->certificate,
      "database", NULL, NULL);
  if (tls == NULL) {
    g_warning ("TLS: %s", error->message);
    g_clear_error (&error);
    conn->state = CONN_READING;
    relay_connection_close (conn);
    return;
  }
  conn->stream = tls;
  conn->cancellable = g_cancellable_new ();
  conn->state = CONN_TLS_HELLO;
  conn->tls_link.data = conn;
  relay_connection_set_deadline (conn,
      MIN (server->limits.tls_handshake_timeout,
          server->limits.handshake_timeout));
  g_socket_set_option (conn->socket, SOL_SOCKET, SO_RCVLOWAT,
      TLS_RECORD_HEADER, NULL);
  conn->io_source = g_socket_create_source (conn->socket, G_IO_IN, NULL);
  g_source_set_callback (conn->io_source,
      (GSourceFunc) (void (*)(void)) relay_connection_hello_cb, conn, NULL);
  g_source_attach (conn->io_source, NULL);
}

/* Reading the request head */

static gboolean relay_connection_readable_cb (GObject * stream,
    gpointer user_data);

static void
relay_connection_wait_readable (RelayConnection * conn)
{
  GPollableInputStream *in =
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (conn->stream));

  relay_connection_clear_io (conn);
  conn->io_source = g_pollable_input_stream_create_source (in, NULL);
  g_source_set_callback (conn->io_source,
      (GSourceFunc) (void (*)(void)) relay_connection_readable_cb, conn, NULL);
  g_source_attach (conn->io_source, NULL);
}

static void
relay_connection_start_reading (RelayConnection * conn)
{
  relay_connection_wait_readable (conn);
}

static gboolean
relay_connection_readable_cb (GObject * stream, gpointer user_data)
{
  RelayConnection *conn = user_data;
  RelayServer *server = conn->server;
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM (stream);
  GError *error = NULL;
  gsize start, head_len;
  gssize n;

  if (conn->len == conn->cap) {
    conn->cap = MIN (MAX (conn->cap * 2, READ_START), RELAY_HTTP_MAX_HEAD);
    conn->buf = g_realloc (conn->buf, conn->cap);
  }
  n = g_pollable_input_stream_read_nonblocking (in, conn->buf + conn->len,
      conn->cap - conn->len, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
    g_clear_error (&error);
    return G_SOURCE_CONTINUE;
  }
  if (n <= 0) {
    g_debug ("%s: %s before a request", conn->peer,
        error ? error->message : "closed");
    g_clear_error (&error);
    conn->io_source = (g_source_unref (conn->io_source), NULL);
    relay_connection_close (conn);
    return G_SOURCE_REMOVE;
  }

  start = conn->len;
  conn->len += n;
  head_len = relay_http_head_length (conn->buf, conn->len, start);
  if (head_len == 0 && conn->len < RELAY_HTTP_MAX_HEAD)
    return G_SOURCE_CONTINUE;

  g_source_unref (conn->io_source);
  conn->io_source = NULL;
  conn->state = CONN_HANDLING;
  /* answers at once; @conn may be gone after this */
  server->request_func (conn, conn->buf, head_len,
      head_len ? conn->len - head_len : 0, server->user_data);
  return G_SOURCE_REMOVE;
}

/* Writing the answer */

static gboolean relay_connection_writable_cb (GObject * stream,
    gpointer user_data);

static void
relay_connection_handover (RelayConnection * conn)
{
  RelayServer *server = conn->server;
  RelayUpgraded *upgraded = g_new0 (RelayUpgraded, 1);
  GIOStream *stream = g_object_ref (conn->stream);

  /* the address keeps counting this connection until it is gone */
  upgraded->server = server;
  upgraded->stream = G_OBJECT (stream);
  upgraded->address = g_strdup (conn->address);
  g_object_weak_ref (upgraded->stream, relay_upgraded_finalized_cb, upgraded);
  g_hash_table_add (server->upgraded, upgraded);

  g_queue_unlink (&server->connections, &conn->link);
  conn->upgrade_func (conn, stream, conn->upgrade_data);
  g_object_unref (stream);
  relay_connection_free (conn);
}

/* Writes what is left, then closes or hands over @conn */
static void
relay_connection_write (RelayConnection * conn)
{
  GPollableOutputStream *out =
      G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (conn->stream));
  gsize size;
  const guint8 *data = g_bytes_get_data (conn->out, &size);

  while (conn->out_pos < size) {
    GError *error = NULL;
    gssize n = g_pollable_output_stream_write_nonblocking (out,
        data + conn->out_pos, size - conn->out_pos, NULL, &error);

    if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&error);
      relay_connection_clear_io (conn);
      conn->io_source = g_pollable_output_stream_create_source (out, NULL);
      g_source_set_callback (conn->io_source,
          (GSourceFunc) (void (*)(void)) relay_connection_writable_cb, conn,
          NULL);
      g_source_attach (conn->io_source, NULL);
      return;
    }
    if (n <= 0) {
      g_debug ("%s: write failed: %s", conn->peer,
          error ? error->message : "?");
      g_clear_error (&error);
      relay_connection_close (conn);
      return;
    }
    conn->out_pos += n;
  }

  relay_connection_clear_io (conn);
  if (conn->upgrade_func)
    relay_connection_handover (conn);
  else
    relay_connection_close (conn);
}

static gboolean
relay_connection_writable_cb (GObject * stream, gpointer user_data)
{
  RelayConnection *conn = user_data;
  GSource *source = conn->io_source;

  /* this source is done; relay_connection_write() may make another */
  conn->io_source = NULL;
  relay_connection_write (conn);
  g_source_unref (source);
  return G_SOURCE_REMOVE;
}

void
relay_connection_respond (RelayConnection * conn, GBytes * response)
{
  g_return_if_fail (conn->state == CONN_HANDLING);
  conn->state = CONN_WRITING;
  conn->out = response;
  relay_connection_write (conn);
}

void
relay_connection_upgrade (RelayConnection * conn, GBytes * response,
    RelayConnectionUpgradeFunc func, gpointer user_data, GDestroyNotify notify)
{
  g_return_if_fail (conn->state == CONN_HANDLING);
  conn->upgrade_func = func;
  conn->upgrade_data = user_data;
  conn->upgrade_notify = notify;
  relay_connection_respond (conn, response);
}

const gchar *
relay_connection_get_peer (RelayConnection * conn)
{
  return conn->peer;
}

GSocket *
relay_connection_get_socket (RelayConnection * conn)
{
  return conn->socket;
}

gboolean
relay_connection_is_tls (RelayConnection * conn)
{
  return G_IS_TLS_CONNECTION (conn->stream);
}

/* Accepting */

static gchar *
relay_socket_address_text (GSocketAddress * address, gchar ** peer)
{
  GInetSocketAddress *inet;
  gchar *text;

  if (!G_IS_INET_SOCKET_ADDRESS (address)) {
    *peer = g_strdup ("?");
    return g_strdup ("?");
  }
  inet = G_INET_SOCKET_ADDRESS (address);
  text = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  if (strchr (text, ':'))
    *peer = g_strdup_printf ("[%s]:%u", text,
        g_inet_socket_address_get_port (inet));
  else
    *peer = g_strdup_printf ("%s:%u", text,
        g_inet_socket_address_get_port (inet));
  return text;
}

static void
relay_server_refuse (RelayServer * server, GSocket * socket,
    const gchar * address)
{
  static const gchar busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 45\r\n"
      "Connection: close\r\n\r\ntoo many connections from this address (503)\n";
  gint64 now = g_get_monotonic_time ();

  /* best effort, never waits; a TLS client learns nothing */
  if (server->certificate == NULL)
    g_socket_send (socket, busy, sizeof (busy) - 1, NULL, NULL);
  g_socket_close (socket, NULL);
  server->refused_since_log++;
  if (now - (gint64) server->refused_logged_at >= REFUSED_LOG_INTERVAL_US) {
    relay_log ("refused %u connection(s) from %s: --max-clients-per-address "
        "%u reached", server->refused_since_log, address,
        server->limits.max_per_address);
    server->refused_logged_at = now;
    server->refused_since_log = 0;
  }
  if (server->refused_func)
    server->refused_func (address, server->user_data);
}

static void
relay_server_add_connection (RelayServer * server, GSocket * socket)
{
  RelayConnection *conn;
  RelayAddress *entry;
  GSocketAddress *remote;
  gchar *peer = NULL;
  gchar *address;

  remote = g_socket_get_remote_address (socket, NULL);
  if (remote == NULL) {
    g_socket_close (socket, NULL);
    return;
  }
  address = relay_socket_address_text (remote, &peer);
  g_object_unref (remote);

  entry = relay_server_address (server, address);
  if (server->limits.max_per_address > 0 &&
      entry->connections >= server->limits.max_per_address) {
    relay_server_refuse (server, socket, address);
    g_free (address);
    g_free (peer);
    return;
  }
  entry->connections++;

  conn = g_new0 (RelayConnection, 1);
  conn->server = server;
  conn->socket = g_object_ref (socket);
  conn->base = g_socket_connection_factory_create_connection (socket);
  conn->address = address;
  conn->peer = peer;
  conn->accepted = g_get_monotonic_time ();
  conn->link.data = conn;
  g_queue_push_tail_link (&server->connections, &conn->link);

  if (server->certificate) {
    relay_connection_start_tls (conn);
    return;
  }
  conn->stream = G_IO_STREAM (g_object_ref (conn->base));
  conn->state = CONN_READING;
  relay_connection_set_deadline (conn, server->limits.handshake_timeout);
  relay_connection_start_reading (conn);
}

static gboolean relay_server_accept_cb (GSocket * listener,
    GIOCondition condition, gpointer user_data);

static void
relay_server_watch_listener (RelayServer * server)
{
  server->accept_source = g_socket_create_source (server->listener, G_IO_IN,
      NULL);
  g_source_set_callback (server->accept_source,
      (GSourceFunc) (void (*)(void)) relay_server_accept_cb, server, NULL);
  g_source_attach (server->accept_source, NULL);
}

static gboolean
relay_server_accept_resume_cb (gpointer user_data)
{
  RelayServer *server = user_data;

  server->accept_pause_id = 0;
  relay_server_watch_listener (server);
  return G_SOURCE_REMOVE;
}

static gboolean
relay_server_accept_cb (GSocket * listener, GIOCondition condition,
    gpointer user_data)
{
  RelayServer *server = user_data;
  guint i;

  for (i = 0; i < ACCEPT_BATCH; i++) {
    GError *error = NULL;
    GSocket *socket = g_socket_accept (listener, NULL, &error);

    if (socket == NULL) {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_clear_error (&error);
        break;
      }
      /* out of file descriptors, most likely: let others finish */
      relay_log ("accept: %s", error->message);
      g_clear_error (&error);
      g_source_destroy (server->accept_source);
      g_clear_pointer (&server->accept_source, g_source_unref);
      server->accept_pause_id = g_timeout_add (ACCEPT_PAUSE_MS,
          relay_server_accept_resume_cb, server);
      return G_SOURCE_REMOVE;
    }
    g_socket_set_blocking (socket, FALSE);
    relay_server_add_connection (server, socket);
    g_object_unref (socket);
  }
  return G_SOURCE_CONTINUE;
}

RelayServer *
relay_server_new (GSocket * listener, GTlsCertificate * certificate,
    const RelayServerLimits * limits, RelayServerRequestFunc request,
    RelayServerRefusedFunc refused, gpointer user_data)
{
  RelayServer *server = g_new0 (RelayServer, 1);

  server->limits = *limits;
  if (server->limits.handshake_timeout <= 0 ||
      server->limits.handshake_timeout > RELAY_SERVER_MAX_DEADLINE)
    server->limits.handshake_timeout = RELAY_SERVER_MAX_DEADLINE;
  if (server->limits.tls_handshake_timeout <= 0 ||
      server->limits.tls_handshake_timeout > RELAY_SERVER_MAX_DEADLINE)
    server->limits.tls_handshake_timeout = RELAY_SERVER_MAX_DEADLINE;
  server->listener = g_object_ref (listener);
  server->certificate = certificate ? g_object_ref (certificate) : NULL;
  server->request_func = request;
  server->refused_func = refused;
  server->user_data = user_data;
  server->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  server->upgraded = g_hash_table_new_full (NULL, NULL,
      (GDestroyNotify) relay_upgraded_free, NULL);
  g_queue_init (&server->connections);
  g_queue_init (&server->tls_pending);
  g_queue_init (&server->tls_queued);
  if (certificate)
    server->peek = g_malloc (TLS_MAX_RECORD);
  if (server->limits.max_tls_handshakes == 0)
    server->limits.max_tls_handshakes = 1;
  if (server->limits.max_tls_handshakes_per_address == 0)
    server->limits.max_tls_handshakes_per_address = 1;
  g_socket_set_blocking (listener, FALSE);
  relay_server_watch_listener (server);
  return server;
}

guint
relay_server_get_pending (RelayServer * server)
{
  return server->connections.length;
}

void
relay_server_stop (RelayServer * server)
{
  GList *l, *next;

  if (server->stopped)
    return;
  server->stopped = TRUE;
  if (server->accept_source) {
    g_source_destroy (server->accept_source);
    g_clear_pointer (&server->accept_source, g_source_unref);
  }
  g_clear_handle_id (&server->accept_pause_id, g_source_remove);
  g_socket_close (server->listener, NULL);
  for (l = server->connections.head; l; l = next) {
    RelayConnection *conn = l->data;

    next = l->next;
    relay_connection_close (conn);
  }
}

void
relay_server_free (RelayServer * server)
{
  GHashTableIter iter;
  RelayUpgraded *upgraded;
  gint64 end;

  if (server == NULL)
    return;
  relay_server_stop (server);
  /* cancelled handshakes return soon */
  end = g_get_monotonic_time () + 2 * G_TIME_SPAN_SECOND;
  while (server->connections.length > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_hash_table_iter_init (&iter, server->upgraded);
  while (g_hash_table_iter_next (&iter, (gpointer *) & upgraded, NULL))
    g_object_weak_unref (upgraded->stream, relay_upgraded_finalized_cb,
        upgraded);
  g_hash_table_unref (server->upgraded);
  g_hash_table_unref (server->addresses);
  g_clear_object (&server->certificate);
  g_object_unref (server->listener);
  g_free (server->peek);
  g_free (server);
}
