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
 * ds-relay's own HTTP layer: unit tests of the request parser
 * (relay/relay-http-request.c) and tests of the real ds-relay program
 * driven by a client speaking raw bytes on a free loopback port: request
 * bodies, deadlines, closed keep-alive connections, the Host check,
 * tokens with a NUL, connections per address and stalled TLS handshakes.
 * Every wait is bounded.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "relay-http-request.h"
#include "../ds-test-relay.h"

#define WAIT_S 5

/* The parser */

static RelayHttpRequest *
parse (const gchar * head, guint * status)
{
  return relay_http_request_parse (head, strlen (head), status);
}

GST_START_TEST (test_parse_request)
{
  const gchar *head = "GET /stream/demo?token=a%20b&x HTTP/1.1\r\n"
      "Host: 127.0.0.1:9100\r\nConnection:  keep-alive, Upgrade \r\n"
      "X-Empty:\r\n\r\n";
  RelayHttpRequest *request;
  guint status = 1;

  fail_unless_equals_int (relay_http_head_length (head, strlen (head), 0),
      strlen (head));
  fail_unless_equals_int (relay_http_head_length (head, strlen (head) - 1, 0),
      0);
  /* in pieces */
  fail_unless_equals_int (relay_http_head_length (head, strlen (head),
          strlen (head) - 1), strlen (head));
  fail_unless_equals_int (relay_http_head_length (head, strlen (head), 17),
      strlen (head));
  /* cut at a byte no head holds */
  fail_unless_equals_int (relay_http_head_length ("GET /\nHost", 10, 0), 6);
  fail_unless_equals_int (relay_http_head_length ("GET /\r\nHost", 11, 6), 0);
  fail_unless_equals_int (relay_http_head_length ("GET\0/", 5, 2), 4);
  request = parse (head, &status);
  fail_unless (request != NULL);
  fail_unless_equals_int (status, 0);
  fail_unless_equals_string (request->method, "GET");
  fail_unless_equals_string (request->path, "/stream/demo");
  fail_unless_equals_string (request->query, "token=a%20b&x");
  fail_unless_equals_int (request->minor_version, 1);
  fail_unless_equals_int (request->n_headers, 3);
  fail_unless_equals_string (relay_http_request_get_header (request, "host"),
      "127.0.0.1:9100");
  fail_unless_equals_string (relay_http_request_get_header (request,
          "CONNECTION"), "keep-alive, Upgrade");
  fail_unless_equals_string (relay_http_request_get_header (request,
          "X-Empty"), "");
  fail_unless (relay_http_request_get_header (request, "Origin") == NULL);
  fail_unless (relay_http_list_has_token (relay_http_request_get_header
          (request, "Connection"), "upgrade"));
  fail_if (relay_http_list_has_token ("keep-alive, upgrades", "upgrade"));
  fail_if (relay_http_list_has_token (NULL, "upgrade"));
  relay_http_request_free (request);

  /* HTTP/1.0 needs no Host */
  request = parse ("HEAD /healthz HTTP/1.0\r\n\r\n", &status);
  fail_unless (request != NULL);
  fail_unless (request->query == NULL);
  relay_http_request_free (request);
}

GST_END_TEST;

static const struct
{
  const gchar *head;
  guint status;
} bad_heads[] = {
  {"GET / HTTP/1.1\nHost: a\n\n", 400}, /* bare LF */
  {"GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
  {"GET / HTTP/1.1\r\nHost: a\r\rX: b\r\n\r\n", 400},   /* bare CR */
  {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400},     /* obs-fold */
  {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},  /* space before colon */
  {"GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400},    /* empty name */
  {"GET / HTTP/1.1\r\nHost: a\r\nX: a\001b\r\n\r\n", 400},      /* control */
  {"GET / HTTP/1.1\r\nHost: a\r\nX: a\177\r\n\r\n", 400},
  {"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},   /* absolute-form */
  {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
  {"GET /\r\n\r\n", 400},       /* HTTP/0.9 */
  {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  {"GET / HTTP/1.1\r\n\r\n", 400},      /* no Host */
  {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
  {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\ncontent-length: 0\r\n"
        "\r\n", 400},
  {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: a\r\n"
        "Transfer-Encoding: b\r\n\r\n", 400},
  {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
  {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
  {"GET / HTTP/1.2x\r\nHost: a\r\n\r\n", 400},
  {"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
};

GST_START_TEST (test_parse_bad_requests)
{
  guint status = 0;

  fail_if (parse (bad_heads[__i__].head, &status) != NULL, "accepted %s",
      bad_heads[__i__].head);
  fail_unless_equals_int (status, bad_heads[__i__].status);
}

GST_END_TEST;

GST_START_TEST (test_parse_limits)
{
  GString *head = g_string_new ("GET / HTTP/1.1\r\nHost: a\r\n");
  RelayHttpRequest *request;
  guint status = 0;
  guint i;

  /* a NUL byte anywhere */
  fail_if (relay_http_request_parse ("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n",
          28, &status) != NULL);
  fail_unless_equals_int (status, 400);

  for (i = 1; i < RELAY_HTTP_MAX_HEADERS; i++)
    g_string_append_printf (head, "X-%u: %u\r\n", i, i);
  g_string_append (head, "\r\n");
  request = parse (head->str, &status);
  fail_unless (request != NULL);
  fail_unless_equals_int (request->n_headers, RELAY_HTTP_MAX_HEADERS);
  relay_http_request_free (request);

  g_string_truncate (head, head->len - 2);
  g_string_append (head, "X-more: 1\r\n\r\n");
  fail_if (parse (head->str, &status) != NULL);
  fail_unless_equals_int (status, 431);

  /* larger than RELAY_HTTP_MAX_HEAD */
  g_string_assign (head, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
  while (head->len < RELAY_HTTP_MAX_HEAD)
    g_string_append_c (head, 'x');
  g_string_append (head, "\r\n\r\n");
  fail_if (parse (head->str, &status) != NULL);
  fail_unless_equals_int (status, 431);
  g_string_free (head, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_query_lookup)
{
  gchar *value = NULL;

  fail_unless (relay_http_query_lookup (NULL, "token", &value));
  fail_unless (value == NULL);
  fail_unless (relay_http_query_lookup ("a=1&b=2", "token", &value));
  fail_unless (value == NULL);
  fail_unless (relay_http_query_lookup ("a=1&token=P%55B+x%2b&b", "token",
          &value));
  fail_unless_equals_string (value, "PUB x+");
  g_free (value);
  fail_unless (relay_http_query_lookup ("token", "token", &value));
  fail_unless_equals_string (value, "");
  g_free (value);
  fail_unless (relay_http_query_lookup ("to%6Ben=x", "token", &value));
  fail_unless_equals_string (value, "x");
  g_free (value);

  /* refused: a NUL would cut the token; bad escapes; ambiguity */
  fail_if (relay_http_query_lookup ("token=PUB%00x", "token", &value));
  fail_unless (value == NULL);
  fail_if (relay_http_query_lookup ("token=PUB%0", "token", &value));
  fail_if (relay_http_query_lookup ("token=%zz", "token", &value));
  fail_if (relay_http_query_lookup ("x=%&token=a", "token", &value));
  fail_if (relay_http_query_lookup ("token=a&token=b", "token", &value));
  fail_unless (value == NULL);
}

GST_END_TEST;

GST_START_TEST (test_websocket_accept)
{
  gchar *accept;

  /* RFC 6455 §1.3 */
  accept = relay_http_websocket_accept ("dGhlIHNhbXBsZSBub25jZQ==");
  fail_unless_equals_string (accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  g_free (accept);

  fail_unless (relay_http_websocket_accept (NULL) == NULL);
  fail_unless (relay_http_websocket_accept ("") == NULL);
  fail_unless (relay_http_websocket_accept ("dGhlIHNhbXBsZSBub25jZQ=") == NULL);
  fail_unless (relay_http_websocket_accept ("dGhlIHNhbXBsZSBub25jZR==") ==
      NULL);
  fail_unless (relay_http_websocket_accept ("dGhlIHNhbXBsZSBub2 jZQ==") ==
      NULL);
  fail_unless (relay_http_websocket_accept ("dGhlIHNhbXBsZSBub25jZQ==x") ==
      NULL);
}

GST_END_TEST;

/* Raw clients against the real relay */

static gboolean
accept_any_cb (GTlsConnection * conn, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

static void
client_event_cb (GSocketClient * client, GSocketClientEvent event,
    GSocketConnectable * connectable, GIOStream * connection,
    gpointer user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate",
        G_CALLBACK (accept_any_cb), NULL);
}

static GIOStream *
raw_open (guint port, gboolean tls)
{
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *conn;

  g_socket_client_set_tls (client, tls);
  g_socket_client_set_timeout (client, WAIT_S);
  g_signal_connect (client, "event", G_CALLBACK (client_event_cb), NULL);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL,
      NULL);
  g_object_unref (client);
  if (conn)
    g_socket_set_timeout (g_socket_connection_get_socket (conn), WAIT_S);
  return G_IO_STREAM (conn);
}

static gboolean
raw_write (GIOStream * stream, const gchar * text)
{
  return g_output_stream_write_all (g_io_stream_get_output_stream (stream),
      text, strlen (text), NULL, NULL, NULL);
}

/* Reads a response head; returns the status (0 on EOF or error) and the
 * head in *@head */
static guint
raw_read_head (GIOStream * stream, gchar ** head)
{
  GInputStream *in = g_io_stream_get_input_stream (stream);
  GString *reply = g_string_new (NULL);
  guint status = 0;
  gchar c;

  while (!g_str_has_suffix (reply->str, "\r\n\r\n") && reply->len < 65536) {
    if (g_input_stream_read (in, &c, 1, NULL, NULL) != 1)
      break;
    g_string_append_c (reply, c);
  }
  if (g_str_has_prefix (reply->str, "HTTP/1.1 ") &&
      g_str_has_suffix (reply->str, "\r\n\r\n"))
    status = (guint) g_ascii_strtoull (reply->str + 9, NULL, 10);
  if (head)
    *head = g_string_free (reply, FALSE);
  else
    g_string_free (reply, TRUE);
  return status;
}

/* TRUE when the relay closes within @seconds (EOF or reset after any data) */
static gboolean
raw_closed_within (GIOStream * stream, guint seconds)
{
  GInputStream *in = g_io_stream_get_input_stream (stream);
  gint64 end = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;
  gchar buf[4096];

  while (g_get_monotonic_time () < end) {
    GError *error = NULL;
    gssize n = g_input_stream_read (in, buf, sizeof (buf), NULL, &error);

    if (n == 0)
      return TRUE;
    if (n < 0) {
      gboolean timed_out = g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_TIMED_OUT);

      g_clear_error (&error);
      return !timed_out;
    }
  }
  return FALSE;
}

static gchar *
upgrade_request (const gchar * path, const gchar * host, const gchar * origin)
{
  return g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s\r\n%s%s%s"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", path, host,
      origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "");
}

/* Sends a WebSocket upgrade; returns the status, the stream in *@stream */
static guint
raw_upgrade (guint port, gboolean tls, const gchar * path, const gchar * host,
    const gchar * origin, GIOStream ** stream)
{
  GIOStream *conn = raw_open (port, tls);
  gchar *request = upgrade_request (path, host, origin);
  gchar *head = NULL;
  guint status;

  fail_unless (conn != NULL);
  fail_unless (raw_write (conn, request));
  g_free (request);
  status = raw_read_head (conn, &head);
  if (status == 101)
    fail_unless (strstr (head, "Sec-WebSocket-Accept: "
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL, "%s", head);
  g_free (head);
  if (stream)
    *stream = conn;
  else
    g_object_unref (conn);
  return status;
}

/* One request, answered and closed by the relay: the status */
static guint
raw_request (guint port, const gchar * request, gchar ** head)
{
  GIOStream *conn = raw_open (port, FALSE);
  guint status;

  fail_unless (conn != NULL);
  fail_unless (raw_write (conn, request));
  status = raw_read_head (conn, head);
  fail_unless (raw_closed_within (conn, WAIT_S),
      "the relay kept the connection open");
  g_object_unref (conn);
  return status;
}

GST_START_TEST (test_http_answers)
{
  DsTestRelay *relay = ds_test_relay_start_ok (NULL);
  guint port = ds_test_relay_get_port (relay);
  GString *big = g_string_new ("GET /healthz HTTP/1.1\r\nHost: a\r\n");
  gchar *head = NULL;

  /* every answer says Connection: close, and closes */
  fail_unless_equals_int (raw_request (port,
          "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &head), 200);
  fail_unless (strstr (head, "\r\nConnection: close\r\n") != NULL, "%s", head);
  g_free (head);
  fail_unless_equals_int (raw_request (port,
          "HEAD /view/demo HTTP/1.0\r\n\r\n", NULL), 200);
  fail_unless_equals_int (raw_request (port,
          "GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n", NULL), 404);
  fail_unless_equals_int (raw_request (port,
          "DELETE /healthz HTTP/1.1\r\nHost: a\r\n\r\n", &head), 405);
  fail_unless (strstr (head, "\r\nAllow: GET, HEAD\r\n") != NULL, "%s", head);
  g_free (head);
  fail_unless_equals_int (raw_request (port,
          "GET /healthz HTTP/1.1\nHost: a\n\n", NULL), 400);
  fail_unless_equals_int (raw_request (port,
          "GET /healthz HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", NULL), 400);
  fail_unless_equals_int (raw_request (port,
          "GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n", NULL), 505);
  /* a head larger than 16 KiB */
  while (big->len < 20000)
    g_string_append (big, "X-Filler: 0123456789abcdef0123456789abcdef\r\n");
  g_string_append (big, "\r\n");
  fail_unless_equals_int (raw_request (port, big->str, NULL), 431);
  g_string_free (big, TRUE);
  /* a plain GET of a WebSocket path */
  fail_unless_equals_int (raw_request (port,
          "GET /stream/demo HTTP/1.1\r\nHost: a\r\n\r\n", NULL), 400);
  fail_unless_equals_int (raw_upgrade (port, FALSE, "/stream/demo", "a",
          NULL, NULL), 101);

  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      200);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Item 2: a body is refused at the headers, never read or stored */
#define BODY_BYTES (256 * 1024 * 1024)
#define BODY_CHUNK (1024 * 1024)

GST_START_TEST (test_body_refused)
{
  DsTestRelay *relay =
      ds_test_relay_start_ok ("--publish-token", "secret", NULL);
  guint port = ds_test_relay_get_port (relay);
  GPid pid = ds_test_relay_get_pid (relay);
  const gchar *paths[] = { "/healthz", "/peer/body" };
  gchar *chunk = g_malloc0 (BODY_CHUNK);
  gsize rss_before, rss_after;
  guint i;

  rss_before = ds_test_proc_status_kb (pid, "VmRSS:");
  for (i = 0; i < G_N_ELEMENTS (paths); i++) {
    GIOStream *conn = raw_open (port, FALSE);
    GOutputStream *out = g_io_stream_get_output_stream (conn);
    gchar *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: a\r\n"
        "Content-Length: %u\r\n\r\n", paths[i], BODY_BYTES);
    gint64 end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
    gsize sent = 0;

    fail_unless (raw_write (conn, request));
    g_free (request);
    while (sent < BODY_BYTES && g_get_monotonic_time () < end) {
      gssize n = g_output_stream_write (out, chunk, BODY_CHUNK, NULL, NULL);

      if (n <= 0)
        break;
      sent += n;
    }
    GST_INFO ("%s: %" G_GSIZE_FORMAT " body bytes taken before the relay "
        "closed", paths[i], sent);
    /* the relay closed: it did not take (nearly) all of it */
    fail_unless (sent < BODY_BYTES / 2, "the relay read %" G_GSIZE_FORMAT
        " bytes of body", sent);
    g_object_unref (conn);
  }
  rss_after = ds_test_proc_status_kb (pid, "VmRSS:");
  GST_INFO ("relay RSS %" G_GSIZE_FORMAT " -> %" G_GSIZE_FORMAT " kB",
      rss_before, rss_after);
  ds_test_memory_bound (rss_after < rss_before + 16 * 1024,
      "relay RSS grew from %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " kB",
      rss_before, rss_after);

  /* answered at the headers: 413, then closed */
  fail_unless_equals_int (raw_request (port,
          "GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
          NULL), 413);
  fail_unless_equals_int (raw_request (port,
          "GET /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
          "\r\n", NULL), 413);
  fail_unless_equals_int (raw_request (port,
          "GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
          NULL), 200);
  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      200);
  g_free (chunk);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Item 2: a request announcing a body that never comes is closed at once,
 * and one that never finishes its head within --handshake-timeout */
GST_START_TEST (test_announced_body_closed)
{
  DsTestRelay *relay =
      ds_test_relay_start_ok ("--handshake-timeout", "0.5", NULL);
  guint port = ds_test_relay_get_port (relay);
  GIOStream *conn, *silent;

  conn = raw_open (port, FALSE);
  fail_unless (raw_write (conn, "GET /healthz HTTP/1.1\r\nHost: a\r\n"
          "Content-Length: 100\r\n\r\n"));
  fail_unless_equals_int (raw_read_head (conn, NULL), 413);
  fail_unless (raw_closed_within (conn, WAIT_S));
  g_object_unref (conn);

  /* half a head, then silence, and a connection that says nothing at
   * all (at the same time): both closed by the deadline (0.5 s) */
  conn = raw_open (port, FALSE);
  silent = raw_open (port, FALSE);
  fail_unless (raw_write (conn, "GET /healthz HTTP/1.1\r\nHo"));
  fail_unless (raw_closed_within (conn, WAIT_S));
  fail_unless (raw_closed_within (silent, WAIT_S));
  g_object_unref (conn);
  g_object_unref (silent);

  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      200);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Item 3: keep-alive requests closed by the client leave no fd behind */
#define KEEPALIVE_REQUESTS 300

GST_START_TEST (test_keepalive_no_fd_leak)
{
  DsTestRelay *relay = ds_test_relay_start_ok (NULL);
  guint port = ds_test_relay_get_port (relay);
  GPid pid = ds_test_relay_get_pid (relay);
  guint fds_before, fds_after, i;
  gint64 end;

  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      200);
  fds_before = ds_test_proc_count_fds (pid);
  for (i = 0; i < KEEPALIVE_REQUESTS; i++) {
    GIOStream *conn = raw_open (port, FALSE);
    GInputStream *in = g_io_stream_get_input_stream (conn);
    gchar body[3];

    fail_unless (raw_write (conn, "GET /healthz HTTP/1.1\r\nHost: a\r\n"
            "Connection: keep-alive\r\n\r\n"));
    fail_unless_equals_int (raw_read_head (conn, NULL), 200);
    fail_unless (g_input_stream_read_all (in, body, 3, NULL, NULL, NULL));
    /* the client closes, as a browser or a load balancer does */
    g_object_unref (conn);
  }
  end = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  do {
    fds_after = ds_test_proc_count_fds (pid);
    if (fds_after <= fds_before)
      break;
    g_usleep (20000);
  } while (g_get_monotonic_time () < end);
  GST_INFO ("relay fds: %u before, %u after %u keep-alive requests",
      fds_before, fds_after, KEEPALIVE_REQUESTS);
  fail_unless (fds_after <= fds_before, "relay fds: %u before, %u after",
      fds_before, fds_after);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* "PORT" in @text replaced by @port */
static gchar *
with_port (const gchar * text, guint port)
{
  gchar **parts = g_strsplit (text, "PORT", -1);
  gchar *number = g_strdup_printf ("%u", port);
  gchar *result = g_strjoinv (number, parts);

  g_strfreev (parts);
  g_free (number);
  return result;
}

static void
check_host (guint port, const gchar * host, const gchar * origin,
    guint expected)
{
  gchar *h = with_port (host, port);
  gchar *o = origin ? with_port (origin, port) : NULL;

  fail_unless_equals_int (raw_upgrade (port, FALSE, "/stream/dns", h, o,
          NULL), expected);
  g_free (h);
  g_free (o);
}

/* Item 7: a DNS rebinding page sets Host and Origin alike */
GST_START_TEST (test_host_check)
{
  DsTestRelay *relay = ds_test_relay_start_ok (NULL);
  guint port = ds_test_relay_get_port (relay);

  /* defaults: rebinding refused, the relay's own names served */
  check_host (port, "evil.example:PORT", "http://evil.example:PORT", 403);
  check_host (port, "127.0.0.1:PORT", "http://127.0.0.1:PORT", 101);
  check_host (port, "localhost:PORT", "http://localhost:PORT", 101);
  check_host (port, "evil.example:PORT", NULL, 101);
  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      200);
  ds_test_relay_free (relay);

  relay = ds_test_relay_start_ok ("--allowed-host", "relay.example",
      "--allowed-host", "proxy.example:443",
      "--allowed-origin", "https://app.example", NULL);
  port = ds_test_relay_get_port (relay);
  /* rebinding: refused */
  check_host (port, "evil.example:PORT", "http://evil.example:PORT", 403);
  check_host (port, "evil.example", "http://evil.example", 403);
  check_host (port, "proxy.example:PORT", "http://proxy.example:PORT", 403);
  /* the relay's own pages under the names it serves */
  check_host (port, "127.0.0.1:PORT", "http://127.0.0.1:PORT", 101);
  check_host (port, "localhost:PORT", "http://localhost:PORT", 101);
  check_host (port, "[::1]:PORT", "http://[::1]:PORT", 101);
  check_host (port, "relay.example:PORT", "http://relay.example:PORT", 101);
  check_host (port, "RELAY.example", "https://RELAY.example", 101);
  check_host (port, "proxy.example:443", "https://proxy.example:443", 101);
  /* origins compared with default ports filled in (RFC 6454) */
  check_host (port, "relay.example:80", "http://relay.example", 101);
  check_host (port, "relay.example", "http://relay.example:80", 101);
  check_host (port, "relay.example", "https://relay.example:443", 101);
  check_host (port, "relay.example", "http://relay.example:8080", 403);
  check_host (port, "relay.example:PORT", "ftp://relay.example:PORT", 403);
  check_host (port, "relay.example:PORT", "null", 403);
  check_host (port, "relay.example:PORT",
      "http://relay.example:PORT/path", 403);
  check_host (port, "127.0.0.1:PORT", "https://app.example:443", 101);
  check_host (port, "127.0.0.1:PORT", "https://APP.example", 101);
  check_host (port, "127.0.0.1:PORT", "http://app.example", 403);
  /* a foreign page is still refused by the Origin check */
  check_host (port, "127.0.0.1:PORT", "http://relay.example:PORT", 403);
  /* not a browser (no Origin): any Host */
  check_host (port, "evil.example:PORT", NULL, 101);

  fail_unless_equals_int (ds_test_relay_http_get (relay, "/healthz", NULL),
      200);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Item 7: the decoded token must not be cut at a NUL */
GST_START_TEST (test_nul_token)
{
  DsTestRelay *relay = ds_test_relay_start_ok ("--publish-token", "PUB", NULL);
  guint port = ds_test_relay_get_port (relay);
  const gchar *nul_token = "/peer/nul?token=PUB%00x";
  const gchar *bad_escape = "/peer/nul?token=PUB%0";

  fail_unless_equals_int (raw_upgrade (port, FALSE, nul_token, "a", NULL,
          NULL), 400);
  fail_unless_equals_int (raw_upgrade (port, FALSE, bad_escape, "a", NULL,
          NULL), 400);
  fail_unless_equals_int (raw_upgrade (port, FALSE, "/peer/nul?token=PUBx",
          "a", NULL, NULL), 401);
  fail_unless_equals_int (raw_upgrade (port, FALSE, "/peer/nul?token=P%55B",
          "a", NULL, NULL), 101);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* Polls the open fds of process @pid every 5 ms until there are at
 * least @n; FALSE after WAIT_S */
static gboolean
wait_fds (GPid pid, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  while (ds_test_proc_count_fds (pid) < n) {
    if (g_get_monotonic_time () >= end)
      return FALSE;
    g_usleep (5000);
  }
  return TRUE;
}

/* Item 7: connections per client address, counted from accept */
GST_START_TEST (test_clients_per_address)
{
  DsTestRelay *relay =
      ds_test_relay_start_ok ("--max-clients-per-address", "4", NULL);
  guint port = ds_test_relay_get_port (relay);
  GPid pid = ds_test_relay_get_pid (relay);
  GIOStream *upgraded[2], *idle[2], *extra;
  gint64 end;
  guint status = 0;
  guint i, fds;

  for (i = 0; i < 2; i++)
    fail_unless_equals_int (raw_upgrade (port, FALSE, "/stream/cap", "a",
            NULL, &upgraded[i]), 101);
  fds = ds_test_proc_count_fds (pid);
  for (i = 0; i < 2; i++)
    idle[i] = raw_open (port, FALSE);
  /* the relay accepted the idle ones */
  fail_unless (wait_fds (pid, fds + 2));

  /* the fifth: refused before any request */
  fail_unless_equals_int (raw_upgrade (port, FALSE, "/stream/cap", "a", NULL,
          NULL), 503);

  /* one leaves: there is room again */
  g_object_unref (upgraded[0]);
  end = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  do {
    status = raw_upgrade (port, FALSE, "/stream/cap", "a", NULL, &extra);
    if (status == 101)
      break;
    g_object_unref (extra);
    g_usleep (50000);
  } while (g_get_monotonic_time () < end);
  fail_unless_equals_int (status, 101);

  g_object_unref (extra);
  g_object_unref (upgraded[1]);
  for (i = 0; i < 2; i++)
    g_object_unref (idle[i]);
  ds_test_relay_free (relay);
}

GST_END_TEST;

/* TLS */

typedef struct
{
  GSubprocess *process;
  guint port;
  gchar *dir;
  gchar *cert;
  gchar *key;
} TlsRelay;

static GPid
tls_relay_pid (TlsRelay * relay)
{
  return (GPid) atoi (g_subprocess_get_identifier (relay->process));
}

static void
tls_relay_free (TlsRelay * relay)
{
  if (relay->process) {
    g_subprocess_send_signal (relay->process, SIGKILL);
    g_subprocess_wait (relay->process, NULL, NULL);
    g_object_unref (relay->process);
  }
  if (relay->cert)
    g_remove (relay->cert);
  if (relay->key)
    g_remove (relay->key);
  if (relay->dir)
    g_remove (relay->dir);
  g_free (relay->cert);
  g_free (relay->key);
  g_free (relay->dir);
  g_free (relay);
}

/* A relay serving wss:// with a self-signed certificate; NULL without
 * openssl */
static TlsRelay *
tls_relay_start (const gchar * first_arg, ...)
{
  TlsRelay *relay = g_new0 (TlsRelay, 1);
  GPtrArray *args = g_ptr_array_new ();
  const gchar *arg;
  gchar *cmd, *line;
  gint status = -1;
  va_list ap;

  relay->dir = g_dir_make_tmp ("ds-relay-http-XXXXXX", NULL);
  relay->cert = g_build_filename (relay->dir, "cert.pem", NULL);
  relay->key = g_build_filename (relay->dir, "key.pem", NULL);
  cmd = g_strdup_printf ("openssl req -x509 -newkey ec "
      "-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -keyout %s -out %s", relay->key, relay->cert);
  if (!g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL) ||
      status != 0) {
    g_free (cmd);
    tls_relay_free (relay);
    return NULL;
  }
  g_free (cmd);

  g_ptr_array_add (args, (gpointer) g_getenv ("DS_RELAY"));
  g_ptr_array_add (args, (gpointer) "--port");
  g_ptr_array_add (args, (gpointer) "0");
  g_ptr_array_add (args, (gpointer) "--tls-cert");
  g_ptr_array_add (args, relay->cert);
  g_ptr_array_add (args, (gpointer) "--tls-key");
  g_ptr_array_add (args, relay->key);
  va_start (ap, first_arg);
  for (arg = first_arg; arg; arg = va_arg (ap, const gchar *))
      g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  relay->process = g_subprocess_newv ((const gchar * const *) args->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
  g_ptr_array_unref (args);
  fail_unless (relay->process != NULL);
  line = ds_test_relay_read_line (g_subprocess_get_stdout_pipe
      (relay->process), 10000);
  fail_unless (line != NULL && g_str_has_prefix (line,
          "ds-relay: listening on https://"), "%s", line);
  relay->port = (guint) g_ascii_strtoull (strrchr (line, ':') + 1, NULL, 10);
  g_free (line);
  return relay;
}

/* A TCP connection that sends the start of a ClientHello (a handshake
 * record announcing 512 bytes, 5 of them sent) and stops */
static GSocket *
stalled_handshake (guint port)
{
  static const guint8 hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00,
    0x01, 0xfc, 0x03
  };
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, port);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);

  fail_unless (socket != NULL);
  fail_unless (g_socket_connect (socket, address, NULL, NULL));
  fail_unless (g_socket_send (socket, (const gchar *) hello, sizeof (hello),
          NULL, NULL) == sizeof (hello));
  g_object_unref (address);
  g_object_unref (loopback);
  return socket;
}

/* Item 8: stalled handshakes do not hold up an honest wss:// client */
#define STALLED_HANDSHAKES 200

GST_START_TEST (test_stalled_tls_handshakes)
{
  /* a TLS deadline far from the bound below: a client that waited for
   * the stalled handshakes to time out would take 30 s */
  TlsRelay *relay = tls_relay_start ("--tls-handshake-timeout", "30",
      "--handshake-timeout", "60", NULL);
  GSocket *stalled[STALLED_HANDSHAKES];
  GIOStream *conn;
  gint64 start, elapsed;
  guint i, fds;

  if (relay == NULL) {
    GST_WARNING ("openssl not available, skipping");
    return;
  }
  fds = ds_test_proc_count_fds (tls_relay_pid (relay));
  for (i = 0; i < STALLED_HANDSHAKES; i++)
    stalled[i] = stalled_handshake (relay->port);
  /* the relay took them all */
  fail_unless (wait_fds (tls_relay_pid (relay), fds + STALLED_HANDSHAKES));

  start = g_get_monotonic_time ();
  fail_unless_equals_int (raw_upgrade (relay->port, TRUE, "/stream/tls",
          "127.0.0.1", NULL, &conn), 101);
  elapsed = g_get_monotonic_time () - start;
  GST_INFO ("honest wss:// client connected in %.1f ms behind %u stalled "
      "handshakes", elapsed / 1000.0, STALLED_HANDSHAKES);
  /* far from the 30 s TLS deadline, which the old relay waited out (the
   * acceptance figure, 47.5 ms, is docs/benchmarks.md's; under ASan the
   * relay's TLS work is several times slower: 13.5 s at load 14) */
  fail_unless (elapsed < (DS_TEST_SANITIZED ? 20 : 3) * G_TIME_SPAN_SECOND,
      "honest client took %.1f s", elapsed / 1e6);
  g_object_unref (conn);
  for (i = 0; i < STALLED_HANDSHAKES; i++)
    g_object_unref (stalled[i]);
  tls_relay_free (relay);
}

GST_END_TEST;

/* Item 8: a stalled handshake is closed by the TLS deadline */
GST_START_TEST (test_tls_handshake_deadline)
{
  TlsRelay *relay = tls_relay_start ("--tls-handshake-timeout", "0.5",
      "--handshake-timeout", "0", NULL);
  GSocket *socket;
  gchar buf[64];
  gssize n;

  if (relay == NULL) {
    GST_WARNING ("openssl not available, skipping");
    return;
  }
  socket = stalled_handshake (relay->port);
  g_socket_set_timeout (socket, WAIT_S);
  n = g_socket_receive (socket, buf, sizeof (buf), NULL, NULL);
  /* EOF or a reset, not the 5 s receive timeout */
  fail_unless (n <= 0);
  g_object_unref (socket);
  tls_relay_free (relay);

  /* a client that gives up half-way through its ClientHello is closed at
   * once, not at the deadline (nor spun on until then) */
  relay = tls_relay_start ("--tls-handshake-timeout", "30", NULL);
  socket = stalled_handshake (relay->port);
  g_socket_set_timeout (socket, WAIT_S);
  fail_unless (g_socket_shutdown (socket, FALSE, TRUE, NULL));
  n = g_socket_receive (socket, buf, sizeof (buf), NULL, NULL);
  fail_unless (n <= 0);
  g_object_unref (socket);
  tls_relay_free (relay);
}

GST_END_TEST;

static Suite *
relay_http_suite (void)
{
  Suite *s = suite_create ("relay-http");
  TCase *tc = tcase_create ("parser");
  TCase *tc_relay;

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse_request);
  tcase_add_loop_test (tc, test_parse_bad_requests, 0,
      G_N_ELEMENTS (bad_heads));
  tcase_add_test (tc, test_parse_limits);
  tcase_add_test (tc, test_query_lookup);
  tcase_add_test (tc, test_websocket_accept);

  if (ds_test_relay_available ()) {
    tc_relay = tcase_create ("relay");
    suite_add_tcase (s, tc_relay);
    tcase_set_timeout (tc_relay, 120);
    tcase_add_test (tc_relay, test_http_answers);
    tcase_add_test (tc_relay, test_body_refused);
    tcase_add_test (tc_relay, test_announced_body_closed);
    tcase_add_test (tc_relay, test_keepalive_no_fd_leak);
    tcase_add_test (tc_relay, test_host_check);
    tcase_add_test (tc_relay, test_nul_token);
    tcase_add_test (tc_relay, test_clients_per_address);
    tcase_add_test (tc_relay, test_stalled_tls_handshakes);
    tcase_add_test (tc_relay, test_tls_handshake_deadline);
  }
  return s;
}

DS_TEST_RELAY_CHECK_MAIN (relay_http);
