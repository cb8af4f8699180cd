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
 * A WebSocket test client for the relay tests (tests/check/relay),
 * header-only, on libsoup's client API: every client of a test runs on
 * one private GMainContext that setup () pushes and teardown () pops.
 *
 *   #define WAIT_MS 5000      // before the include: how long a wait lasts
 *   #include "../ds-test-wsclient.h"
 *
 *   tcase_add_checked_fixture (tc, setup, teardown);
 *   source = client_connect_channel (relay, "peer", "demo");  // fails if refused
 *   client_send (source, make_signal (DS_FRAME_SIGNAL_SYNC, 1, "{}"));
 *   frame = expect_frame (receiver, DS_FRAME_SIGNAL_SYNC);
 *   WAIT_UNTIL (source->closed, WAIT_MS);
 *   client_free (source);
 *
 * A client keeps what it receives: binary messages in ->messages, text
 * messages in ->texts (GBytes, oldest first), and once closed ->closed,
 * ->close_code and ->close_reason. client_connect () returns a client
 * whose ->conn is NULL and ->status the HTTP status when the relay
 * refused the upgrade. Every wait is bounded; failures go through the
 * check framework (fail_unless...).
 *
 * For gst-check test programs only. The short names (setup, pump,
 * client_send...) are kept as the tests use them; don't include this next
 * to code that has its own.
 */

#ifndef __DS_TEST_WSCLIENT_H__
#define __DS_TEST_WSCLIENT_H__

#include <string.h>
#include <sys/socket.h>
#include <glib.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>
#include <ds/dsprotocol.h>

#include "ds-test-relay.h"
#include "ds-test-frames.h"

#ifndef WAIT_MS
#error "define WAIT_MS (milliseconds) before including ds-test-wsclient.h"
#endif

G_BEGIN_DECLS

static GMainContext *context;
static SoupSession *session;

typedef struct
{
  SoupWebsocketConnection *conn;
  GQueue messages;              /* GBytes, binary */
  GQueue texts;                 /* GBytes, text */
  gboolean closed;
  gushort close_code;
  gchar *close_reason;
  guint status;                 /* HTTP status when the upgrade failed */
} TestClient;

static G_GNUC_UNUSED void
setup (void)
{
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  session = soup_session_new ();
}

static G_GNUC_UNUSED void
teardown (void)
{
  g_clear_object (&session);
  while (g_main_context_iteration (context, FALSE));
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  context = NULL;
}

/* Runs the context for @ms milliseconds */
static G_GNUC_UNUSED void
pump (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end) {
    if (!g_main_context_iteration (context, FALSE))
      g_usleep (500);
  }
}

/* Runs the context until @cond holds, for @ms milliseconds at the most */
#define WAIT_UNTIL(cond, ms) G_STMT_START {                              \
  gint64 _end = g_get_monotonic_time () + (ms) * 1000;                  \
  while (!(cond) && g_get_monotonic_time () < _end) {                   \
    if (!g_main_context_iteration (context, FALSE))                     \
      g_usleep (500);                                                   \
  }                                                                     \
} G_STMT_END

static void
client_message_cb (SoupWebsocketConnection * conn, gint type, GBytes * message,
    TestClient * client)
{
  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    g_queue_push_tail (&client->messages, g_bytes_ref (message));
  else
    g_queue_push_tail (&client->texts, g_bytes_ref (message));
}

static void
client_closed_cb (SoupWebsocketConnection * conn, TestClient * client)
{
  client->closed = TRUE;
  client->close_code = soup_websocket_connection_get_close_code (conn);
  client->close_reason =
      g_strdup (soup_websocket_connection_get_close_data (conn));
}

typedef struct
{
  gboolean done;
  SoupWebsocketConnection *conn;
} ConnectResult;

static void
connect_done_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  ConnectResult *result = user_data;

  result->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source),
      res, NULL);
  result->done = TRUE;
}

static gboolean
accept_any_certificate_cb (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

/* Connects to @uri (ws:// or wss://, any certificate), with
 * "Authorization: Bearer @bearer" unless @bearer is NULL; the client has
 * ->conn NULL and ->status set when the server refused the upgrade */
static G_GNUC_UNUSED TestClient *
client_connect_uri (const gchar * uri, const gchar * bearer)
{
  TestClient *client = g_new0 (TestClient, 1);
  SoupMessage *msg = soup_message_new ("GET", uri);
  ConnectResult result = { FALSE, NULL };

  g_queue_init (&client->messages);
  g_queue_init (&client->texts);
  if (bearer) {
    gchar *value = g_strdup_printf ("Bearer %s", bearer);

    soup_message_headers_append (soup_message_get_request_headers (msg),
        "Authorization", value);
    g_free (value);
  }
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (accept_any_certificate_cb), NULL);
  soup_session_websocket_connect_async (session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, connect_done_cb, &result);
  WAIT_UNTIL (result.done, WAIT_MS);
  fail_unless (result.done, "connecting to %s timed out", uri);
  client->status = soup_message_get_status (msg);
  client->conn = result.conn;
  if (client->conn) {
    soup_websocket_connection_set_max_incoming_payload_size (client->conn,
        128 * 1024 * 1024);
    g_signal_connect (client->conn, "message",
        G_CALLBACK (client_message_cb), client);
    g_signal_connect (client->conn, "closed", G_CALLBACK (client_closed_cb),
        client);
  }
  g_object_unref (msg);
  return client;
}

/* Connects to @path of @relay, as client_connect_uri () */
static G_GNUC_UNUSED TestClient *
client_connect (DsTestRelay * relay, const gchar * path, const gchar * bearer)
{
  gchar *uri = ds_test_relay_ws_uri (relay, path);
  TestClient *client = client_connect_uri (uri, bearer);

  g_free (uri);
  return client;
}

/* Connects to @path of @relay; fails the test when refused */
static G_GNUC_UNUSED TestClient *
client_connect_ok (DsTestRelay * relay, const gchar * path)
{
  TestClient *client = client_connect (relay, path, NULL);

  fail_unless (client->conn != NULL, "could not connect to %s (status %u)",
      path, client->status);
  return client;
}

/* Connects to /@role/@channel ("peer", "stream"...) of @relay; fails the
 * test when refused */
static G_GNUC_UNUSED TestClient *
client_connect_channel (DsTestRelay * relay, const gchar * role,
    const gchar * channel)
{
  gchar *path = g_strdup_printf ("/%s/%s", role, channel);
  TestClient *client = client_connect_ok (relay, path);

  g_free (path);
  return client;
}

/* Closes the connection (code 1000) if open and frees what arrived */
static G_GNUC_UNUSED void
client_free (TestClient * client)
{
  if (client->conn) {
    g_signal_handlers_disconnect_by_data (client->conn, client);
    if (soup_websocket_connection_get_state (client->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (client->conn, 1000, NULL);
    g_object_unref (client->conn);
  }
  g_queue_clear_full (&client->messages, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&client->texts, (GDestroyNotify) g_bytes_unref);
  g_free (client->close_reason);
  g_free (client);
}

/* Sends and takes @frame */
static G_GNUC_UNUSED void
client_send (TestClient * client, GBytes * frame)
{
  soup_websocket_connection_send_message (client->conn,
      SOUP_WEBSOCKET_DATA_BINARY, frame);
  g_bytes_unref (frame);
}

/* Sends @len bytes of @data as one binary message */
static G_GNUC_UNUSED void
client_send_raw (TestClient * client, const void *data, gsize len)
{
  soup_websocket_connection_send_binary (client->conn, data, len);
}

/* Pops the next binary message, waiting up to @ms; NULL on timeout */
static G_GNUC_UNUSED GBytes *
client_pop (TestClient * client, guint ms)
{
  WAIT_UNTIL (!g_queue_is_empty (&client->messages), ms);
  return g_queue_pop_head (&client->messages);
}

/* Pops the next frame (within WAIT_MS); fails unless it has @type */
static G_GNUC_UNUSED GBytes *
expect_frame (TestClient * client, guint8 type)
{
  GBytes *frame = client_pop (client, WAIT_MS);
  DsHeader header;

  fail_unless (frame != NULL, "no frame of type 0x%02x arrived", type);
  header = frame_header (frame);
  fail_unless_equals_int (header.type, type);
  return frame;
}

/* Runs the context for @ms; fails when a binary message arrived */
static G_GNUC_UNUSED void
expect_nothing (TestClient * client, guint ms)
{
  GBytes *frame;

  pump (ms);
  frame = g_queue_pop_head (&client->messages);
  if (frame) {
    DsHeader header = frame_header (frame);

    fail ("unexpected frame of type 0x%02x flags 0x%02x", header.type,
        header.flags);
  }
}

/* A receiver that completes the handshake and then never reads */
static G_GNUC_UNUSED GSocketConnection *
connect_stuck_receiver (DsTestRelay * relay, const gchar * channel)
{
  GSocketClient *socket_client = g_socket_client_new ();
  GSocketConnection *conn;
  gchar *request;
  GInputStream *in;
  GString *reply = g_string_new (NULL);
  gchar c;
  GSocket *socket;

  conn = g_socket_client_connect_to_host (socket_client, "127.0.0.1",
      ds_test_relay_get_port (relay), NULL, NULL);
  g_object_unref (socket_client);
  fail_unless (conn != NULL);
  socket = g_socket_connection_get_socket (conn);
  /* a small receive buffer, so the relay feels it soon */
  g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 16384, NULL);
  request = g_strdup_printf ("GET /stream/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", channel);
  fail_unless (g_output_stream_write_all (g_io_stream_get_output_stream
          (G_IO_STREAM (conn)), request, strlen (request), NULL, NULL, NULL));
  g_free (request);
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  while (!g_str_has_suffix (reply->str, "\r\n\r\n")) {
    fail_unless (g_input_stream_read (in, &c, 1, NULL, NULL) == 1);
    g_string_append_c (reply, c);
  }
  fail_unless (g_str_has_prefix (reply->str, "HTTP/1.1 101"), "%s", reply->str);
  g_string_free (reply, TRUE);
  return conn;
}

G_END_DECLS

#endif /* __DS_TEST_WSCLIENT_H__ */
