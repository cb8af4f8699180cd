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
#include "relay-http-request.h"
#include "relay-metrics.h"
#include "relay-cluster.h"
#include "relay-server.h"
#include "relay-ws-client.h"

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

/* Answers */

static const gchar *
relay_http_reason (guint status)
{
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

/* Every answer but the 101 closes the connection: no keep-alive */
static void
relay_http_respond_full (RelayConnection * conn, gboolean head_only,
    guint status, const gchar * extra_headers, const gchar * content_type,
    const gchar * body, gsize len)
{
  GString *response = g_string_sized_new (256 + (head_only ? 0 : len));

  g_string_append_printf (response, "HTTP/1.1 %u %s\r\n"
      "Server: ds-relay/" VERSION "\r\n"
      "Content-Type: %s\r\n"
      "Content-Length: %" G_GSIZE_FORMAT "\r\n"
      "Cache-Control: no-cache\r\n"
      "Connection: close\r\n%s\r\n", status, relay_http_reason (status),
      content_type, len, extra_headers ? extra_headers : "");
  if (!head_only)
    g_string_append_len (response, body, len);
  relay_connection_respond (conn,
      g_bytes_new_take (response->str, response->len));
  g_string_free (response, FALSE);
}

static void
relay_http_respond (RelayConnection * conn, RelayHttpRequest * request,
    guint status, const gchar * content_type, const gchar * body, gsize len)
{
  relay_http_respond_full (conn, request &&
      strcmp (request->method, "HEAD") == 0, status, NULL, content_type, body,
      len);
}

static void
relay_http_error_full (RelayConnection * conn, RelayHttpRequest * request,
    guint status, const gchar * extra_headers, const gchar * text)
{
  gchar *body = g_strdup_printf ("%s\n", text);

  relay_http_respond_full (conn, request &&
      strcmp (request->method, "HEAD") == 0, status, extra_headers,
      "text/plain; charset=utf-8", body, strlen (body));
  g_free (body);
}

static void
relay_http_error (RelayConnection * conn, RelayHttpRequest * request,
    guint status, const gchar * text)
{
  relay_http_error_full (conn, request, status, NULL, text);
}

/* Tokens */

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

/* The token from "Authorization: Bearer X" or from "?token=X". FALSE when
 * the query is malformed or the token holds a NUL (which would cut it). */
static gboolean
relay_request_token (RelayHttpRequest * request, gchar ** token)
{
  const gchar *auth = relay_http_request_get_header (request,
      "Authorization");

  *token = NULL;
  if (auth && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0) {
    *token = g_strstrip (g_strdup (auth + 7));
    return TRUE;
  }
  return relay_http_query_lookup (request->query, "token", token);
}

/* Origin and Host */

/* Splits "name[:port]" or "[v6][:port]" into a name without brackets and
 * a port (0 if none); FALSE if malformed */
static gboolean
relay_split_host (const gchar * host, gchar ** name, guint * port)
{
  const gchar *colon;
  guint64 value;

  *name = NULL;
  *port = 0;
  if (host == NULL || host[0] == '\0')
    return FALSE;
  if (host[0] == '[') {
    const gchar *close = strchr (host, ']');

    if (close == NULL || close == host + 1)
      return FALSE;
    colon = close[1] == ':' ? close + 1 : NULL;
    if (close[1] != '\0' && colon == NULL)
      return FALSE;
    *name = g_strndup (host + 1, close - host - 1);
  } else {
    colon = strchr (host, ':');
    if (colon && strchr (colon + 1, ':'))
      return FALSE;
    *name = colon ? g_strndup (host, colon - host) : g_strdup (host);
  }
  if (colon) {
    if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &value, NULL)) {
      g_clear_pointer (name, g_free);
      return FALSE;
    }
    *port = (guint) value;
  }
  if ((*name)[0] == '\0') {
    g_clear_pointer (name, g_free);
    return FALSE;
  }
  return TRUE;
}

/* TRUE if a browser that sent "Host: @host" was talking to this relay by
 * a name it serves. A DNS rebinding page makes the browser send its own
 * name (evil.example) in Host and Origin alike; an IP address cannot be
 * rebound, localhost names resolve to this machine, and other names must
 * be listed with --allowed-host. */
static gboolean
relay_host_allowed (DsRelay * relay, const gchar * host)
{
  RelaySettings *settings = &relay->settings;
  gchar **allowed;
  gchar *name;
  guint port;
  gboolean ok = FALSE;

  if (!relay_split_host (host, &name, &port))
    return FALSE;
  if (g_hostname_is_ip_address (name)) {
    ok = TRUE;
  } else if (relay->serves_loopback &&
      (g_ascii_strcasecmp (name, "localhost") == 0 ||
          g_str_has_suffix (name, ".localhost"))) {
    ok = TRUE;
  } else if (g_ascii_strcasecmp (name, settings->host) == 0 &&
      (port == 0 || port == relay->port)) {
    ok = TRUE;
  } else if (relay->serves_any && g_ascii_strcasecmp (name,
          g_get_host_name ()) == 0) {
    ok = TRUE;
  }
  for (allowed = settings->allowed_hosts; !ok && allowed && *allowed; allowed++) {
    gchar *allowed_name;
    guint allowed_port;

    if (strcmp (*allowed, "*") == 0) {
      ok = TRUE;
    } else if (relay_split_host (*allowed, &allowed_name, &allowed_port)) {
      ok = g_ascii_strcasecmp (allowed_name, name) == 0 &&
          (allowed_port == 0 || allowed_port == port);
      g_free (allowed_name);
    }
  }
  g_free (name);
  return ok;
}

typedef enum
{
  RELAY_ORIGIN_OK,
  RELAY_ORIGIN_FOREIGN,         /* another site's page */
  RELAY_ORIGIN_UNKNOWN_HOST,    /* "own" page under a name not served */
} RelayOriginCheck;

/* A host name of letters, digits, '-', '_' and '.' (lowercase already), or
 * an IPv6 literal (as GUri gives it: without the brackets) */
static gboolean
relay_origin_host_is_valid (const gchar * host)
{
  gboolean v6 = strchr (host, ':') != NULL;
  const gchar *p;

  if (host[0] == '\0' || strlen (host) > 253)
    return FALSE;
  for (p = host; *p; p++) {
    if (v6 ? !(g_ascii_isxdigit (*p) || *p == ':' || *p == '.') :
        !(g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.'))
      return FALSE;
  }
  return TRUE;
}

/* An origin ("scheme://host[:port]", RFC 6454) as scheme, host and port,
 * the port filled in from the scheme when absent (80 for http, 443 for
 * https); FALSE for anything else ("null", other schemes, paths) */
static gboolean
relay_origin_parse (const gchar * origin, gchar ** scheme, gchar ** host,
    gint * port)
{
  GUri *uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  const gchar *path;

  *scheme = *host = NULL;
  *port = -1;
  if (uri == NULL)
    return FALSE;
  path = g_uri_get_path (uri);
  if (g_uri_get_host (uri) == NULL || g_uri_get_userinfo (uri) != NULL ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL ||
      (path[0] != '\0' && strcmp (path, "/") != 0)) {
    g_uri_unref (uri);
    return FALSE;
  }
  *scheme = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  *host = g_ascii_strdown (g_uri_get_host (uri), -1);
  *port = g_uri_get_port (uri);
  g_uri_unref (uri);
  /* g_uri_parse() percent-decodes the host ("%0d%0a" is CR LF): only
   * what a browser sends (an ASCII name, punycode included, or an IP
   * literal), since the host is compared and echoed in a header */
  if (!relay_origin_host_is_valid (*host)) {
    g_clear_pointer (scheme, g_free);
    g_clear_pointer (host, g_free);
    return FALSE;
  }
  if (*port == -1) {
    if (strcmp (*scheme, "http") == 0)
      *port = 80;
    else if (strcmp (*scheme, "https") == 0)
      *port = 443;
  }
  if (*port == -1 || (strcmp (*scheme, "http") != 0 &&
          strcmp (*scheme, "https") != 0)) {
    g_clear_pointer (scheme, g_free);
    g_clear_pointer (host, g_free);
    return FALSE;
  }
  return TRUE;
}

/* TRUE when the origins @a and @b are the same: scheme, host and port,
 * with default ports filled in ("http://h" and "http://h:80" are one) */
static gboolean
relay_origin_equal (const gchar * a, const gchar * b)
{
  gchar *scheme_a, *host_a, *scheme_b, *host_b;
  gint port_a, port_b;
  gboolean equal = FALSE;

  if (relay_origin_parse (a, &scheme_a, &host_a, &port_a)) {
    if (relay_origin_parse (b, &scheme_b, &host_b, &port_b)) {
      equal = strcmp (scheme_a, scheme_b) == 0 &&
          strcmp (host_a, host_b) == 0 && port_a == port_b;
      g_free (scheme_b);
      g_free (host_b);
    }
    g_free (scheme_a);
    g_free (host_a);
  }
  return equal;
}

/* A browser names the page that opened the WebSocket in Origin; any web
 * page could otherwise publish to (or read from) a relay on the user's
 * machine. Allowed: no Origin (not a browser), the --allowed-origin list
 * (compared as origins: scheme, host and port, default ports filled in),
 * and the relay's own pages: an http or https Origin with the host and
 * port of the Host header the request was made to, a port left out on
 * either side being the default of the Origin's scheme (a TLS-terminating
 * proxy in front of a plain relay serves https pages with Host: name),
 * and that Host is a name the relay serves. */
static RelayOriginCheck
relay_origin_check (DsRelay * relay, RelayHttpRequest * request)
{
  const gchar *origin = relay_http_request_get_header (request, "Origin");
  const gchar *host = relay_http_request_get_header (request, "Host");
  gchar **allowed, *origin_scheme, *origin_host, *host_name;
  gint origin_port;
  guint host_port;
  gboolean same;

  if (origin == NULL)
    return RELAY_ORIGIN_OK;
  for (allowed = relay->settings.allowed_origins; allowed && *allowed;
      allowed++) {
    if (strcmp (*allowed, "*") == 0 || relay_origin_equal (*allowed, origin))
      return RELAY_ORIGIN_OK;
  }
  if (!relay_origin_parse (origin, &origin_scheme, &origin_host, &origin_port))
    return RELAY_ORIGIN_FOREIGN;
  if (!relay_split_host (host, &host_name, &host_port)) {
    g_free (origin_scheme);
    g_free (origin_host);
    return RELAY_ORIGIN_FOREIGN;
  }
  if (host_port == 0)
    host_port = strcmp (origin_scheme, "https") == 0 ? 443 : 80;
  same = g_ascii_strcasecmp (origin_host, host_name) == 0 &&
      (guint) origin_port == host_port;
  g_free (origin_scheme);
  g_free (origin_host);
  g_free (host_name);
  if (!same)
    return RELAY_ORIGIN_FOREIGN;
  if (!relay_host_allowed (relay, host))
    return RELAY_ORIGIN_UNKNOWN_HOST;
  return RELAY_ORIGIN_OK;
}

/* The headers letting a page of another origin read a JSON answer
 * (/channels, /channels/{name}): a viewer given several relays
 * (?relays=) asks the relay it is connected to, which need not be the one
 * that served it. Only for an Origin of the --allowed-origin list (the
 * pages that may connect at all); NULL otherwise (own pages need none). The
 * Origin is echoed as the relay parsed and rebuilt it, never as sent. */
static gchar *
relay_cors_headers (DsRelay * relay, RelayHttpRequest * request)
{
  const gchar *origin = relay_http_request_get_header (request, "Origin");
  gchar **allowed, *scheme, *host, *headers = NULL;
  gint port;

  if (origin == NULL || !relay_origin_parse (origin, &scheme, &host, &port))
    return NULL;
  for (allowed = relay->settings.allowed_origins; allowed && *allowed;
      allowed++) {
    if (strcmp (*allowed, "*") == 0 || relay_origin_equal (*allowed, origin)) {
      gboolean v6 = strchr (host, ':') != NULL;
      /* serialised as browsers do (RFC 6454 §6.2): the scheme's default
       * port left out, which a browser compares as a string */
      gboolean default_port =
          port == (strcmp (scheme, "https") == 0 ? 443 : 80);
      gchar *port_text =
          default_port ? g_strdup ("") : g_strdup_printf (":%d", port);

      headers = g_strdup_printf ("Access-Control-Allow-Origin: %s://%s%s%s%s"
          "\r\nVary: Origin\r\n", scheme, v6 ? "[" : "", host, v6 ? "]" : "",
          port_text);
      g_free (port_text);
      break;
    }
  }
  g_free (scheme);
  g_free (host);
  return headers;
}

/* Decides whether the request may connect in @role; sets *view_only */
static gboolean
relay_authorize (DsRelay * relay, const gchar * token, RelayRole role,
    gboolean * view_only)
{
  RelaySettings *settings = &relay->settings;
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
  return ok;
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

/* WebSocket upgrades */

static void
relay_refused_ws_closed_cb (RelayWs * ws, gpointer user_data)
{
  relay_ws_free (ws);
}

static void
relay_upgrade_complete_cb (RelayConnection * conn, GIOStream * stream,
    gpointer user_data)
{
  RelayUpgrade *upgrade = user_data;
  DsRelay *relay = upgrade->relay;
  RelayChannel *channel;
  RelayWs *ws;
  GError *error = NULL;

  if (!g_socket_set_option (relay_connection_get_socket (conn), IPPROTO_TCP,
          TCP_NODELAY, 1, &error)) {
    g_debug ("TCP_NODELAY: %s", error->message);
    g_clear_error (&error);
  }

  ws = relay_ws_new (stream, relay_max_message (relay, upgrade->role),
      relay->settings.keepalive);
  relay_ws_set_tls (ws, relay_connection_is_tls (conn));
  relay_ws_set_socket (ws, relay_connection_get_socket (conn));

  channel = relay_channel_get (relay, upgrade->channel, TRUE);
  if (channel == NULL || relay->shutting_down) {
    /* The limit was reached between the check and the upgrade */
    relay->metrics->rejected_limit++;
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

/* RFC 6455 §4.2.1; returns the Sec-WebSocket-Accept value, or NULL with
 * *@problem set */
static gchar *
relay_websocket_check (RelayHttpRequest * request, const gchar ** problem)
{
  const gchar *version;
  gchar *accept;

  if (strcmp (request->method, "GET") != 0) {
    *problem = "the method must be GET";
    return NULL;
  }
  if (!relay_http_list_has_token (relay_http_request_get_header (request,
              "Upgrade"), "websocket")) {
    *problem = "no \"Upgrade: websocket\"";
    return NULL;
  }
  if (!relay_http_list_has_token (relay_http_request_get_header (request,
              "Connection"), "upgrade")) {
    *problem = "no \"Connection: Upgrade\"";
    return NULL;
  }
  version = relay_http_request_get_header (request, "Sec-WebSocket-Version");
  if (g_strcmp0 (version, "13") != 0) {
    *problem = "Sec-WebSocket-Version must be 13";
    return NULL;
  }
  accept = relay_http_websocket_accept (relay_http_request_get_header (request,
          "Sec-WebSocket-Key"));
  if (accept == NULL)
    *problem = "Sec-WebSocket-Key must be the base64 of 16 bytes";
  return accept;
}

static void
relay_handle_upgrade (DsRelay * relay, RelayConnection * conn,
    RelayHttpRequest * request, gsize extra, RelayRole role, const gchar * name)
{
  RelayUpgrade *upgrade;
  RelayOriginCheck origin;
  gboolean view_only = FALSE;
  const gchar *peer = relay_connection_get_peer (conn);
  const gchar *problem = NULL;
  gchar *token = NULL;
  gchar *accept;
  gchar *text;

  if (!relay_channel_name_is_valid (name)) {
    relay->metrics->rejected_name++;
    relay_http_error (conn, request, 400,
        "invalid channel name: use 1-64 of A-Z a-z 0-9 . _ -");
    return;
  }
  if (relay->shutting_down) {
    relay_http_error (conn, request, 503, "ds-relay is shutting down");
    return;
  }
  origin = relay_origin_check (relay, request);
  if (origin == RELAY_ORIGIN_FOREIGN) {
    relay->metrics->rejected_origin++;
    relay_log ("refused %s for channel %s from %s: Origin %s is not allowed "
        "(see --allowed-origin)", relay_role_name (role), name, peer,
        relay_http_request_get_header (request, "Origin"));
    relay_http_error (conn, request, 403,
        "this web page's origin may not connect to ds-relay (see "
        "--allowed-origin)");
    return;
  }
  if (origin == RELAY_ORIGIN_UNKNOWN_HOST) {
    relay->metrics->rejected_origin++;
    relay_log ("refused %s for channel %s from %s: Host %s is not a name of "
        "this relay (see --allowed-host)", relay_role_name (role), name, peer,
        relay_http_request_get_header (request, "Host"));
    relay_http_error (conn, request, 403,
        "ds-relay does not serve this host name (see --allowed-host)");
    return;
  }
  if (!relay_request_token (request, &token)) {
    relay->metrics->rejected_auth++;
    relay_log ("refused %s for channel %s from %s: malformed query or token",
        relay_role_name (role), name, peer);
    relay_http_error (conn, request, 400, "malformed query or token");
    return;
  }
  if (!relay_authorize (relay, token, role, &view_only)) {
    g_free (token);
    relay->metrics->rejected_auth++;
    relay_log ("refused %s for channel %s from %s: bad or missing token",
        relay_role_name (role), name, peer);
    relay_http_error_full (conn, request, 401,
        "WWW-Authenticate: Bearer realm=\"ds-relay\"\r\n",
        "a valid token is required (Authorization: Bearer <token> or "
        "?token=<token>)");
    return;
  }
  g_free (token);
  if (relay_admit (relay, name) == RELAY_ADMIT_TOO_MANY_CLIENTS) {
    relay->metrics->rejected_limit++;
    relay_log ("refused %s for channel %s from %s: --max-clients %d reached",
        relay_role_name (role), name, peer, relay->settings.max_clients);
    relay_http_error (conn, request, 503, "too many clients");
    return;
  }
  if (relay_admit (relay, name) == RELAY_ADMIT_TOO_MANY_CHANNELS) {
    relay->metrics->rejected_limit++;
    relay_log ("refused %s for channel %s from %s: --max-channels %d reached",
        relay_role_name (role), name, peer, relay->settings.max_channels);
    relay_http_error (conn, request, 503, "too many channels");
    return;
  }
  accept = relay_websocket_check (request, &problem);
  if (accept == NULL) {
    text = g_strdup_printf ("expected a WebSocket upgrade: %s", problem);
    relay_http_error_full (conn, request, 400,
        "Sec-WebSocket-Version: 13\r\n", text);
    g_free (text);
    return;
  }
  /* RFC 6455 §4.1: a client sends nothing more before the 101 */
  if (extra > 0) {
    g_free (accept);
    relay_http_error (conn, request, 400,
        "data after the upgrade request, before the 101");
    return;
  }

  upgrade = g_new0 (RelayUpgrade, 1);
  upgrade->relay = relay;
  upgrade->role = role;
  upgrade->channel = g_strdup (name);
  upgrade->peer = g_strdup (peer);
  upgrade->view_only = view_only;
  /* no Sec-WebSocket-Extensions and no subprotocol are offered */
  text = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
  g_free (accept);
  relay_connection_upgrade (conn, g_bytes_new_take (text, strlen (text)),
      relay_upgrade_complete_cb, upgrade, (GDestroyNotify) relay_upgrade_free);
}

/* Plain HTTP */

static void
relay_serve_resource (RelayConnection * conn, RelayHttpRequest * request,
    const gchar * file, const gchar * content_type)
{
  gchar *path = g_strconcat (VIEWER_RESOURCE_PREFIX, file, NULL);
  GBytes *data = g_resources_lookup_data (path, 0, NULL);
  gsize len;
  const gchar *body;

  g_free (path);
  if (data == NULL) {
    relay_http_error (conn, request, 404, "not found");
    return;
  }
  body = g_bytes_get_data (data, &len);
  relay_http_respond (conn, request, 200, content_type, body, len);
  g_bytes_unref (data);
}

/* The viewer page, with the --viewer-relay list in
 * <meta name="ds-relays" content="URL,URL"> before </head> when there is
 * one (ds-relay.c let in only characters that need no escaping there;
 * escaped all the same) */
static void
relay_serve_view_page (DsRelay * relay, RelayConnection * conn,
    RelayHttpRequest * request)
{
  gchar **relays = relay->settings.viewer_relays;
  GBytes *data;
  const gchar *page, *head_end;
  gsize len;
  gchar *list, *escaped;
  GString *out;

  if (relays == NULL || relays[0] == NULL) {
    relay_serve_resource (conn, request, "view.html",
        "text/html; charset=utf-8");
    return;
  }
  data = g_resources_lookup_data (VIEWER_RESOURCE_PREFIX "view.html", 0, NULL);
  if (data == NULL) {
    relay_http_error (conn, request, 404, "not found");
    return;
  }
  page = g_bytes_get_data (data, &len);
  head_end = g_strstr_len (page, len, "</head>");
  if (head_end == NULL)
    head_end = page;
  list = g_strjoinv (",", relays);
  escaped = g_markup_escape_text (list, -1);
  out = g_string_sized_new (len + strlen (escaped) + 64);
  g_string_append_len (out, page, head_end - page);
  g_string_append_printf (out, "  <meta name=\"ds-relays\" content=\"%s\">\n",
      escaped);
  g_string_append_len (out, head_end, len - (head_end - page));
  relay_http_respond (conn, request, 200, "text/html; charset=utf-8", out->str,
      out->len);
  g_string_free (out, TRUE);
  g_free (escaped);
  g_free (list);
  g_bytes_unref (data);
}

/* The viewer's script and style, by URL path: its ES modules are served
 * as text/javascript (browsers refuse a module of another type); every
 * file of viewer/viewer.gresource.xml but the pages */
typedef struct
{
  const gchar *name;
  const gchar *content_type;
} RelayViewerFile;

static const RelayViewerFile *
relay_viewer_file (const gchar * path)
{
  static const RelayViewerFile files[] = {
    {"viewer.js", "text/javascript; charset=utf-8"},
    {"viewer.css", "text/css; charset=utf-8"},
    {"favicon.svg", "image/svg+xml"},
    {"core/protocol.js", "text/javascript; charset=utf-8"},
    {"core/rle.js", "text/javascript; charset=utf-8"},
    {"core/motion.js", "text/javascript; charset=utf-8"},
    {"core/signals.js", "text/javascript; charset=utf-8"},
    {"core/zstd.js", "text/javascript; charset=utf-8"},
    {"core/decoder.js", "text/javascript; charset=utf-8"},
    {"core/websock.js", "text/javascript; charset=utf-8"},
    {"core/relays.js", "text/javascript; charset=utf-8"},
    {"core/display.js", "text/javascript; charset=utf-8"},
    {"core/video.js", "text/javascript; charset=utf-8"},
    {"core/audio.js", "text/javascript; charset=utf-8"},
    {"core/audio-processor.js", "text/javascript; charset=utf-8"},
    {"core/input.js", "text/javascript; charset=utf-8"},
    {"core/gamepad.js", "text/javascript; charset=utf-8"},
    {"core/midi.js", "text/javascript; charset=utf-8"},
    {"app/index.js", "text/javascript; charset=utf-8"},
    {"app/view.js", "text/javascript; charset=utf-8"},
    /* the npm package fzstd (relay/meson.build), with its licence */
    {"vendor/fzstd.mjs", "text/javascript; charset=utf-8"},
    {"vendor/fzstd.LICENSE.txt", "text/plain; charset=utf-8"},
  };
  guint i;

  if (path[0] != '/')
    return NULL;
  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    if (strcmp (path + 1, files[i].name) == 0)
      return &files[i];
  }
  return NULL;
}

/* No endpoint takes a body: one announced is refused before it is read */
static gboolean
relay_http_has_body (RelayHttpRequest * request, guint * status)
{
  const gchar *length = relay_http_request_get_header (request,
      "Content-Length");
  guint64 value;

  if (relay_http_request_get_header (request, "Transfer-Encoding")) {
    *status = 413;
    return TRUE;
  }
  if (length == NULL)
    return FALSE;
  if (!g_ascii_string_to_unsigned (length, 10, 0, G_MAXUINT64, &value, NULL)) {
    *status = 400;
    return TRUE;
  }
  *status = 413;
  return value > 0;
}

static void
relay_http_request_cb (RelayConnection * conn, const gchar * head, gsize len,
    gsize extra, gpointer user_data)
{
  DsRelay *relay = user_data;
  RelayHttpRequest *request;
  const RelayViewerFile *file;
  const gchar *path;
  guint status = 0;

  if (len == 0) {
    relay_http_error (conn, NULL, 431, "request head too large");
    return;
  }
  request = relay_http_request_parse (head, len, &status);
  if (request == NULL) {
    relay_http_error (conn, NULL, status, status == 505 ?
        "only HTTP/1.0 and HTTP/1.1 are served" : status == 431 ?
        "too many header lines" : "malformed request");
    return;
  }
  if (strcmp (request->method, "GET") != 0 &&
      strcmp (request->method, "HEAD") != 0) {
    relay_http_error_full (conn, NULL, 405, "Allow: GET, HEAD\r\n",
        "only GET and HEAD are served");
    goto done;
  }
  if (relay_http_has_body (request, &status)) {
    relay_http_error (conn, request, status, status == 413 ?
        "ds-relay takes no request body" : "malformed Content-Length");
    goto done;
  }

  path = request->path;
  if (g_str_has_prefix (path, "/peer/")) {
    relay_handle_upgrade (relay, conn, request, extra, RELAY_ROLE_SOURCE,
        path + 6);
  } else if (g_str_has_prefix (path, "/stream/")) {
    relay_handle_upgrade (relay, conn, request, extra, RELAY_ROLE_RECEIVER,
        path + 8);
  } else if (g_str_has_prefix (path, "/signal/")) {
    relay_handle_upgrade (relay, conn, request, extra, RELAY_ROLE_SIGNALING,
        path + 8);
  } else if (strcmp (path, "/healthz") == 0) {
    if (relay->cluster && !relay_cluster_is_connected (relay->cluster))
      relay_http_respond (conn, request, 503, "text/plain; charset=utf-8",
          "NATS connection lost\n", 21);
    else
      relay_http_respond (conn, request, 200, "text/plain; charset=utf-8",
          "ok\n", 3);
  } else if (strcmp (path, "/channels") == 0) {
    gchar *json = relay_channels_json (relay);
    gchar *cors = relay_cors_headers (relay, request);

    relay_http_respond_full (conn, strcmp (request->method, "HEAD") == 0, 200,
        cors, "application/json", json, strlen (json));
    g_free (cors);
    g_free (json);
  } else if (g_str_has_prefix (path, "/channels/")) {
    /* one channel: what the viewer asks while it has no picture, to
     * tell "no source" from "a source that sends no picture" */
    gchar *json = NULL;
    gchar *cors = relay_cors_headers (relay, request);

    if (relay_channel_name_is_valid (path + 10))
      json = relay_channel_json (relay, path + 10);
    if (json == NULL) {
      relay_http_error_full (conn, request, 404, cors, "no such channel");
    } else {
      relay_http_respond_full (conn, strcmp (request->method, "HEAD") == 0,
          200, cors, "application/json", json, strlen (json));
      g_free (json);
    }
    g_free (cors);
  } else if (strcmp (path, "/metrics") == 0) {
    gchar *text = relay_metrics_text (relay);

    relay_http_respond (conn, request, 200,
        "text/plain; version=0.0.4; charset=utf-8", text, strlen (text));
    g_free (text);
  } else if (strcmp (path, "/") == 0 || strcmp (path, "/index.html") == 0) {
    relay_serve_resource (conn, request, "index.html",
        "text/html; charset=utf-8");
  } else if (g_str_has_prefix (path, "/view/")) {
    if (!relay_channel_name_is_valid (path + 6))
      relay_http_error (conn, request, 404, "invalid channel name");
    else
      relay_serve_view_page (relay, conn, request);
  } else if (strcmp (path, "/favicon.ico") == 0) {
    /* what browsers ask for before they read a page's <link rel=icon>:
     * the same icon, not a 404 in every console */
    relay_serve_resource (conn, request, "favicon.svg", "image/svg+xml");
  } else if ((file = relay_viewer_file (path)) != NULL) {
    relay_serve_resource (conn, request, file->name, file->content_type);
  } else {
    relay_http_error (conn, request, 404, "not found");
  }

done:
  relay_http_request_free (request);
}

static void
relay_http_refused_cb (const gchar * address, gpointer user_data)
{
  DsRelay *relay = user_data;

  relay->metrics->rejected_limit++;
}

void
relay_http_start (DsRelay * relay, GSocket * listener,
    GTlsCertificate * certificate)
{
  RelaySettings *s = &relay->settings;
  RelayServerLimits limits = { 0, };
  GSocketAddress *local = g_socket_get_local_address (listener, NULL);

  if (G_IS_INET_SOCKET_ADDRESS (local)) {
    GInetAddress *address =
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));

    relay->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
        (local));
    relay->serves_any = g_inet_address_get_is_any (address);
    relay->serves_loopback = relay->serves_any ||
        g_inet_address_get_is_loopback (address);
  }
  g_clear_object (&local);

  limits.handshake_timeout = s->handshake_timeout;
  limits.tls_handshake_timeout = s->tls_handshake_timeout;
  limits.max_per_address = s->max_clients_per_address;
  limits.max_tls_handshakes = s->max_tls_handshakes;
  limits.max_tls_handshakes_per_address = s->max_tls_handshakes_per_address;
  relay->server = relay_server_new (listener, certificate, &limits,
      relay_http_request_cb, relay_http_refused_cb, relay);
}

void
relay_http_stop (DsRelay * relay)
{
  if (relay->server)
    relay_server_stop (relay->server);
}

void
relay_http_free (DsRelay * relay)
{
  g_clear_pointer (&relay->server, relay_server_free);
}
