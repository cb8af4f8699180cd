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

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ds/dsprotocol.h>

#include "relay-channel.h"
#include "relay-http.h"

#define VIEWER_RESOURCE_PREFIX "/org/dsstream/relay/viewer/"

typedef struct
{
  DsRelay *relay;
  RelayRole role;
  gchar *channel;
  gchar *peer;
  gboolean view_only;
} RelayUpgrade;

static void
relay_upgrade_free (RelayUpgrade * upgrade)
{
  g_free (upgrade->channel);
  g_free (upgrade->peer);
  g_free (upgrade);
}

static void
relay_http_respond (SoupServerMessage * msg, guint status,
    const gchar * content_type, const gchar * body, gsize len)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body,
      len);
}

static void
relay_http_error (SoupServerMessage * msg, guint status, const gchar * text)
{
  gchar *body = g_strdup_printf ("%s\n", text);

  relay_http_respond (msg, status, "text/plain; charset=utf-8", body,
      strlen (body));
  g_free (body);
}

/* Compares without leaking the position of the first difference */
static gboolean
relay_token_equal (const gchar * given, const gchar * expected)
{
  gsize given_len, expected_len, i;
  guint8 diff;

  if (given == NULL || expected == NULL)
    return FALSE;
  given_len = strlen (given);
  expected_len = strlen (expected);
  diff = given_len != expected_len;
  for (i = 0; i < expected_len; i++)
    diff |= (guint8) expected[i] ^ (guint8) (i < given_len ? given[i] : 0);
  return diff == 0;
}

/* The token from "Authorization: Bearer X" or from "?token=X" */
static gchar *
relay_request_token (SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *auth = soup_message_headers_get_one (headers, "Authorization");
  const gchar *query = g_uri_get_query (soup_server_message_get_uri (msg));

  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
    return g_strstrip (g_strdup (auth + 7));
  if (query) {
    GHashTable *form = soup_form_decode (query);
    gchar *token = g_strdup (g_hash_table_lookup (form, "token"));

    g_hash_table_unref (form);
    return token;
  }
  return NULL;
}

/* A browser names the page that opened the WebSocket in Origin; any web
 * page could otherwise publish to (or read from) a relay on the user's
 * machine. Allowed: no Origin (not a browser), the relay's own pages (the
 * Origin's host[:port] is the Host the request was made to), and the
 * --allowed-origin list. */
static gboolean
relay_origin_allowed (DsRelay * relay, SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *origin = soup_message_headers_get_one (headers, "Origin");
  const gchar *host = soup_message_headers_get_one (headers, "Host");
  const gchar *authority;
  gchar **allowed;

  if (origin == NULL)
    return TRUE;
  for (allowed = relay->settings.allowed_origins; allowed && *allowed;
      allowed++) {
    if (strcmp (*allowed, "*") == 0 ||
        g_ascii_strcasecmp (*allowed, origin) == 0)
      return TRUE;
  }
  if (g_ascii_strncasecmp (origin, "http://", 7) == 0)
    authority = origin + 7;
  else if (g_ascii_strncasecmp (origin, "https://", 8) == 0)
    authority = origin + 8;
  else
    return FALSE;
  return host != NULL && host[0] != '\0' &&
      g_ascii_strcasecmp (authority, host) == 0;
}

/* Decides whether the request may connect in @role; sets *view_only */
static gboolean
relay_authorize (DsRelay * relay, SoupServerMessage * msg, RelayRole role,
    gboolean * view_only)
{
  RelaySettings *settings = &relay->settings;
  gchar *token = relay_request_token (msg);
  gboolean ok = FALSE;

  *view_only = settings->view_only;
  switch (role) {
    case RELAY_ROLE_SOURCE:
      ok = settings->publish_token == NULL ||
          relay_token_equal (token, settings->publish_token);
      break;
    case RELAY_ROLE_RECEIVER:
      if (settings->view_token && relay_token_equal (token,
              settings->view_token)) {
        *view_only = TRUE;
        ok = TRUE;
      } else if (settings->subscribe_token) {
        ok = relay_token_equal (token, settings->subscribe_token);
      } else {
        /* with only a view token set, anonymous receivers are view-only */
        ok = TRUE;
        if (settings->view_token)
          *view_only = TRUE;
      }
      break;
    case RELAY_ROLE_SIGNALING:
      if (settings->publish_token == NULL && settings->subscribe_token == NULL)
        ok = TRUE;
      else
        ok = relay_token_equal (token, settings->publish_token) ||
            relay_token_equal (token, settings->subscribe_token);
      break;
    default:
      break;
  }
  g_free (token);
  return ok;
}

static gchar *
relay_peer_name (SoupServerMessage * msg)
{
  GSocketAddress *addr = soup_server_message_get_remote_address (msg);

  if (G_IS_INET_SOCKET_ADDRESS (addr)) {
    GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (addr);
    gchar *ip =
        g_inet_address_to_string (g_inet_socket_address_get_address (inet));
    gchar *name = g_strdup_printf ("%s:%u", ip,
        g_inet_socket_address_get_port (inet));

    g_free (ip);
    return name;
  }
  return g_strdup ("?");
}

/* The largest message each role may send: only sources send large
 * frames; receivers send input, Ping and SubscribeFilter; signaling
 * clients send SDP and candidates */
static gsize
relay_max_message (DsRelay * relay, RelayRole role)
{
  switch (role) {
    case RELAY_ROLE_SOURCE:
      return relay->settings.max_frame_bytes + DS_HEADER_SIZE;
    case RELAY_ROLE_RECEIVER:
      return RELAY_MAX_RECEIVER_MESSAGE;
    default:
      return RELAY_MAX_SIGNALING_MESSAGE;
  }
}

static void
relay_refused_ws_closed_cb (RelayWs * ws, gpointer user_data)
{
  relay_ws_free (ws);
}

static void
relay_upgrade_complete_cb (SoupServerMessage * msg, gpointer user_data)
{
  RelayUpgrade *upgrade = user_data;
  DsRelay *relay = upgrade->relay;
  GIOStream *stream;
  RelayChannel *channel;
  RelayWs *ws;
  GSocket *socket = soup_server_message_get_socket (msg);

  if (socket) {
    GError *error = NULL;

    if (!g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, &error)) {
      g_debug ("TCP_NODELAY: %s", error->message);
      g_clear_error (&error);
    }
  }

  stream = soup_server_message_steal_connection (msg);
  ws = relay_ws_new (stream, relay_max_message (relay, upgrade->role),
      relay->settings.keepalive);
  relay_ws_set_tls (ws, relay->settings.tls_cert != NULL);
  relay_ws_set_socket (ws, socket);
  g_object_unref (stream);

  channel = relay_channel_get (relay, upgrade->channel, TRUE);
  if (channel == NULL || relay->shutting_down) {
    /* The limit was reached between the check and the upgrade */
    relay->rejected_limit++;
    relay_ws_set_callbacks (ws, NULL, relay_refused_ws_closed_cb, NULL, NULL);
    relay_ws_start (ws);
    relay_ws_close (ws, RELAY_WS_CLOSE_POLICY_VIOLATION,
        relay->shutting_down ? "ds-relay shutting down" :
        "ds-relay: too many channels");
    return;
  }
  relay_client_attach (relay, channel, upgrade->role, ws, upgrade->peer,
      upgrade->view_only);
}

static void
relay_handle_upgrade (DsRelay * relay, SoupServerMessage * msg,
    RelayRole role, const gchar * name)
{
  GError *error = NULL;
  RelayUpgrade *upgrade;
  gboolean view_only = FALSE;
  gchar *peer;

  if (!relay_channel_name_is_valid (name)) {
    relay->rejected_name++;
    relay_http_error (msg, SOUP_STATUS_BAD_REQUEST,
        "invalid channel name: use 1-64 of A-Z a-z 0-9 . _ -");
    return;
  }
  if (relay->shutting_down) {
    relay_http_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "ds-relay is shutting down");
    return;
  }
  peer = relay_peer_name (msg);
  if (!relay_origin_allowed (relay, msg)) {
    relay->rejected_origin++;
    relay_log ("refused %s for channel %s from %s: Origin %s is not allowed "
        "(see --allowed-origin)", relay_role_name (role), name, peer,
        soup_message_headers_get_one (soup_server_message_get_request_headers
            (msg), "Origin"));
    relay_http_error (msg, SOUP_STATUS_FORBIDDEN,
        "this web page's origin may not connect to ds-relay (see "
        "--allowed-origin)");
    g_free (peer);
    return;
  }
  if (!relay_authorize (relay, msg, role, &view_only)) {
    relay->rejected_auth++;
    relay_log ("refused %s for channel %s from %s: bad or missing token",
        relay_role_name (role), name, peer);
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "WWW-Authenticate", "Bearer realm=\"ds-relay\"");
    relay_http_error (msg, SOUP_STATUS_UNAUTHORIZED,
        "a valid token is required (Authorization: Bearer <token> or "
        "?token=<token>)");
    g_free (peer);
    return;
  }
  if (relay->settings.max_clients > 0 &&
      relay->n_clients >= (guint) relay->settings.max_clients) {
    relay->rejected_limit++;
    relay_log ("refused %s for channel %s from %s: --max-clients %d reached",
        relay_role_name (role), name, peer, relay->settings.max_clients);
    relay_http_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too many clients");
    g_free (peer);
    return;
  }
  if (relay_channel_get (relay, name, FALSE) == NULL &&
      relay->settings.max_channels > 0 &&
      g_hash_table_size (relay->channels) >=
      (guint) relay->settings.max_channels) {
    relay->rejected_limit++;
    relay_log ("refused %s for channel %s from %s: --max-channels %d reached",
        relay_role_name (role), name, peer, relay->settings.max_channels);
    relay_http_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "too many channels");
    g_free (peer);
    return;
  }
  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error)) {
    gchar *text = g_strdup_printf ("expected a WebSocket upgrade: %s",
        error->message);

    relay_http_error (msg, SOUP_STATUS_BAD_REQUEST, text);
    g_free (text);
    g_clear_error (&error);
    g_free (peer);
    return;
  }
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL)) {
    g_free (peer);
    return;
  }

  upgrade = g_new0 (RelayUpgrade, 1);
  upgrade->relay = relay;
  upgrade->role = role;
  upgrade->channel = g_strdup (name);
  upgrade->peer = peer;
  upgrade->view_only = view_only;
  g_signal_connect_data (msg, "wrote-informational",
      G_CALLBACK (relay_upgrade_complete_cb), upgrade,
      (GClosureNotify) (void (*)(void)) relay_upgrade_free, 0);
}

static void
relay_serve_resource (SoupServerMessage * msg, const gchar * file,
    const gchar * content_type)
{
  gchar *path = g_strconcat (VIEWER_RESOURCE_PREFIX, file, NULL);
  GBytes *data = g_resources_lookup_data (path, 0, NULL);
  gsize len;
  const gchar *body;

  g_free (path);
  if (data == NULL) {
    relay_http_error (msg, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  body = g_bytes_get_data (data, &len);
  relay_http_respond (msg, SOUP_STATUS_OK, content_type, body, len);
  g_bytes_unref (data);
}

static void
relay_http_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  DsRelay *relay = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  gboolean head = g_strcmp0 (method, "HEAD") == 0;

  if (g_strcmp0 (method, "GET") != 0 && !head) {
    relay_http_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "only GET is served");
    return;
  }

  if (g_str_has_prefix (path, "/peer/")) {
    relay_handle_upgrade (relay, msg, RELAY_ROLE_SOURCE, path + 6);
  } else if (g_str_has_prefix (path, "/stream/")) {
    relay_handle_upgrade (relay, msg, RELAY_ROLE_RECEIVER, path + 8);
  } else if (g_str_has_prefix (path, "/signal/")) {
    relay_handle_upgrade (relay, msg, RELAY_ROLE_SIGNALING, path + 8);
  } else if (strcmp (path, "/healthz") == 0) {
    relay_http_respond (msg, SOUP_STATUS_OK, "text/plain; charset=utf-8",
        "ok\n", 3);
  } else if (strcmp (path, "/channels") == 0) {
    gchar *json = relay_channels_json (relay);

    relay_http_respond (msg, SOUP_STATUS_OK, "application/json", json,
        strlen (json));
    g_free (json);
  } else if (strcmp (path, "/metrics") == 0) {
    gchar *text = relay_metrics_text (relay);

    relay_http_respond (msg, SOUP_STATUS_OK,
        "text/plain; version=0.0.4; charset=utf-8", text, strlen (text));
    g_free (text);
  } else if (strcmp (path, "/") == 0 || strcmp (path, "/index.html") == 0) {
    relay_serve_resource (msg, "index.html", "text/html; charset=utf-8");
  } else if (g_str_has_prefix (path, "/view/")) {
    if (!relay_channel_name_is_valid (path + 6))
      relay_http_error (msg, SOUP_STATUS_NOT_FOUND, "invalid channel name");
    else
      relay_serve_resource (msg, "view.html", "text/html; charset=utf-8");
  } else if (strcmp (path, "/viewer.js") == 0) {
    relay_serve_resource (msg, "viewer.js", "text/javascript; charset=utf-8");
  } else if (strcmp (path, "/viewer.css") == 0) {
    relay_serve_resource (msg, "viewer.css", "text/css; charset=utf-8");
  } else {
    relay_http_error (msg, SOUP_STATUS_NOT_FOUND, "not found");
  }
}

/* Handshake timeout: a connection must complete its request headers in
 * time; idle keep-alive HTTP connections are closed the same way. */

typedef struct
{
  GWeakRef msg;
  guint timeout_id;
} RelayPendingRequest;

static void
relay_pending_request_free (RelayPendingRequest * pending)
{
  g_clear_handle_id (&pending->timeout_id, g_source_remove);
  g_weak_ref_clear (&pending->msg);
  g_free (pending);
}

static gboolean
relay_handshake_timeout_cb (gpointer user_data)
{
  RelayPendingRequest *pending = user_data;
  SoupServerMessage *msg = g_weak_ref_get (&pending->msg);

  pending->timeout_id = 0;
  if (msg) {
    GSocket *socket = soup_server_message_get_socket (msg);

    if (socket) {
      g_debug ("handshake timeout, closing connection");
      g_socket_shutdown (socket, TRUE, TRUE, NULL);
    }
    g_object_set_data (G_OBJECT (msg), "relay-pending", NULL);
    g_object_unref (msg);
  }
  return G_SOURCE_REMOVE;
}

static void
relay_got_headers_cb (SoupServerMessage * msg, gpointer user_data)
{
  g_object_set_data (G_OBJECT (msg), "relay-pending", NULL);
}

static void
relay_request_started_cb (SoupServer * server, SoupServerMessage * msg,
    gpointer user_data)
{
  DsRelay *relay = user_data;
  RelayPendingRequest *pending;

  if (relay->settings.handshake_timeout <= 0)
    return;
  pending = g_new0 (RelayPendingRequest, 1);
  g_weak_ref_init (&pending->msg, msg);
  pending->timeout_id =
      g_timeout_add ((guint) (relay->settings.handshake_timeout * 1000),
      relay_handshake_timeout_cb, pending);
  g_object_set_data_full (G_OBJECT (msg), "relay-pending", pending,
      (GDestroyNotify) relay_pending_request_free);
  g_signal_connect (msg, "got-headers", G_CALLBACK (relay_got_headers_cb),
      NULL);
}

void
relay_http_setup (DsRelay * relay)
{
  soup_server_add_handler (relay->server, NULL, relay_http_handler, relay,
      NULL);
  g_signal_connect (relay->server, "request-started",
      G_CALLBACK (relay_request_started_cb), relay);
}
