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

/* The WebSocket client shared by dsrelaysink and dsstreamsrc: see
 * gstdssoupconnection.h. Everything libsoup runs on conn->context in
 * conn->thread; other threads only touch the atomics, the stats under
 * conn->lock, and g_main_context_invoke()/g_cancellable_cancel(). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <libsoup/soup.h>
#include <glib/gi18n-lib.h>
#ifdef __linux__
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#endif
#include <ds/dsprotocol.h>

#include "gstdssoupconnection.h"

GST_DEBUG_CATEGORY_STATIC (ds_soup_connection_debug);
#define GST_CAT_DEFAULT ds_soup_connection_debug

struct _GstDsSoupConnection
{
  GstObject *parent;            /* for logging; not owned */
  GstDsSoupSettings settings;
  GstDsSoupCallbacks callbacks;
  gpointer user_data;

  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GCancellable *cancellable;
  gint stopping;                /* atomic */
  gint wakeup_pending;          /* atomic */
  gint64 epoch_us;              /* monotonic time of creation */

  /* connection thread only */
  SoupSession *session;
  SoupMessage *msg;             /* the handshake in progress */
  SoupWebsocketConnection *ws;
  GSocket *socket;
  GSource *retry_source;
  GSource *tick_source;
  GSource *writable_source;
  guint pending_ops;
  guint failures;               /* consecutive failed attempts */
  guint attempt;                /* attempts since the last success */
  guint index;                  /* of the location connected or tried */
  guint pass_start;             /* where the current pass began */
  gboolean ever_connected;
  gboolean given_up;
  gint64 connected_us;          /* when the current connection opened */
  guint short_lived;            /* connections in a row closed early */
  gint64 last_rx_us;            /* something came, or the peer took data */
  guint64 last_acked;           /* bytes the peer acknowledged, last tick */
  gint64 last_ping_us;
  guint16 ping_seq;
  gchar *error_reason;          /* from the "error" signal */
  guint64 handed_bytes;         /* WebSocket bytes given to libsoup */
  guint64 written_base;         /* bytes in the socket before the first */
  gboolean written_known;       /* the kernel tells what the socket took */

  /* stats, any thread */
  GMutex lock;
  gint rtt_ms;
  guint reconnects;
};

static void gst_ds_soup_connection_attempt (GstDsSoupConnection * conn);

static void
gst_ds_soup_init_debug (void)
{
  static gsize debug_once = 0;

  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (ds_soup_connection_debug, "dssoupconnection", 0,
        "ds-stream WebSocket client connection");
    g_once_init_leave (&debug_once, 1);
  }
}

static void gst_ds_soup_connection_drop (GstDsSoupConnection * conn,
    GstDsSoupFailure failure, const gchar * reason);

const gchar *
gst_ds_soup_failure_name (GstDsSoupFailure failure)
{
  switch (failure) {
    case GST_DS_SOUP_FAILURE_NONE:
      return "none";
    case GST_DS_SOUP_FAILURE_BAD_URL:
      return "bad URL";
    case GST_DS_SOUP_FAILURE_UNAUTHORIZED:
      return "unauthorized";
    case GST_DS_SOUP_FAILURE_FORBIDDEN:
      return "forbidden";
    case GST_DS_SOUP_FAILURE_NOT_FOUND:
      return "not found";
    case GST_DS_SOUP_FAILURE_BAD_REQUEST:
      return "bad request";
    case GST_DS_SOUP_FAILURE_REJECTED:
      return "rejected";
    case GST_DS_SOUP_FAILURE_TLS:
      return "TLS";
    case GST_DS_SOUP_FAILURE_PROTOCOL:
      return "not a WebSocket endpoint";
    case GST_DS_SOUP_FAILURE_TAKEN_OVER:
      return "taken over";
    case GST_DS_SOUP_FAILURE_CLOSED:
      return "closed by the relay";
    case GST_DS_SOUP_FAILURE_WRONG_ROLE:
      return "wrong role";
    case GST_DS_SOUP_FAILURE_RESOLVE:
      return "cannot resolve host";
    case GST_DS_SOUP_FAILURE_REFUSED:
      return "refused";
    case GST_DS_SOUP_FAILURE_NETWORK:
      return "network";
    case GST_DS_SOUP_FAILURE_TIMEOUT:
      return "timeout";
    case GST_DS_SOUP_FAILURE_UNAVAILABLE:
      return "unavailable";
  }
  return "unknown";
}

gboolean
gst_ds_soup_failure_is_final (GstDsSoupFailure failure)
{
  switch (failure) {
    case GST_DS_SOUP_FAILURE_RESOLVE:
    case GST_DS_SOUP_FAILURE_REFUSED:
    case GST_DS_SOUP_FAILURE_NETWORK:
    case GST_DS_SOUP_FAILURE_TIMEOUT:
    case GST_DS_SOUP_FAILURE_UNAVAILABLE:
      return FALSE;
    default:
      return TRUE;
  }
}

/* Locations */

/* The relay's path segment before the channel name, per role */
typedef enum
{
  PATH_UNKNOWN,
  PATH_SOURCE,                  /* /peer/ */
  PATH_RECEIVER,                /* /stream/ */
  PATH_SIGNALING,               /* /signal/ */
  PATH_VIEWER,                  /* /view/, the web page */
} PathRole;

static PathRole
path_role_from_segment (const gchar * segment)
{
  if (g_strcmp0 (segment, "peer") == 0)
    return PATH_SOURCE;
  if (g_strcmp0 (segment, "stream") == 0)
    return PATH_RECEIVER;
  if (g_strcmp0 (segment, "signal") == 0)
    return PATH_SIGNALING;
  if (g_strcmp0 (segment, "view") == 0)
    return PATH_VIEWER;
  return PATH_UNKNOWN;
}

/* @uri with the role segment of its path (the one before the channel
 * name, @segment_index of @segments) made that of @role when it is that
 * of another role, and http(s) made ws(s) */
static gchar *
location_for_role (GUri * uri, gchar ** segments, guint segment_index,
    GstDsSoupRole role)
{
  const gchar *scheme = g_uri_get_scheme (uri);
  gchar *path, *text;
  GUri *fixed;

  if (g_ascii_strcasecmp (scheme, "https") == 0 ||
      g_ascii_strcasecmp (scheme, "wss") == 0)
    scheme = "wss";
  else
    scheme = "ws";

  /* a segment of no role of the relay may be a reverse proxy's: kept */
  if (path_role_from_segment (segments[segment_index]) != PATH_UNKNOWN) {
    g_free (segments[segment_index]);
    segments[segment_index] =
        g_strdup (role == GST_DS_SOUP_ROLE_SOURCE ? "peer" : "stream");
  }
  path = g_strjoinv ("/", segments);
  fixed = g_uri_build (g_uri_get_flags (uri), scheme, g_uri_get_userinfo (uri),
      g_uri_get_host (uri), g_uri_get_port (uri), path, g_uri_get_query (uri),
      g_uri_get_fragment (uri));
  text = g_uri_to_string (fixed);
  g_uri_unref (fixed);
  g_free (path);
  return text;
}

/* Posts the error for a location of another role: two sentences, what
 * the location is and where this element connects */
static void
post_wrong_role (GstElement * element, GstDsSoupRole role, PathRole found,
    const gchar * location, const gchar * suggestion, const gchar * reason)
{
  gchar *first, *second;

  switch (found) {
    case PATH_SOURCE:
      first = g_strdup_printf (_("%s is a publishing URL."), location);
      break;
    case PATH_RECEIVER:
      first = g_strdup_printf (_("%s is a receiver URL."), location);
      break;
    case PATH_SIGNALING:
      first = g_strdup_printf (_("%s is a signaling URL."), location);
      break;
    case PATH_VIEWER:
      first = g_strdup_printf (_("%s is the web viewer's page."), location);
      break;
    default:
      first = g_strdup_printf (_("%s is not a WebSocket URL."), location);
      break;
  }
  if (role == GST_DS_SOUP_ROLE_SOURCE)
    second = g_strdup_printf (_("dsrelaysink publishes on %s."), suggestion);
  else
    second = g_strdup_printf (_("dsstreamsrc receives on %s."), suggestion);

  GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS, ("%s %s", first, second),
      ("%s", reason));
  g_free (first);
  g_free (second);
}

static void
post_bad_location (GstElement * element, GstDsSoupRole role,
    const gchar * reason)
{
  if (role == GST_DS_SOUP_ROLE_SOURCE)
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
        (_("The relay location is not valid. Use a URL like "
                "ws://HOST:PORT/peer/CHANNEL.")), ("%s", reason));
  else
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
        (_("The relay location is not valid. Use a URL like "
                "ws://HOST:PORT/stream/CHANNEL.")), ("%s", reason));
}

/* Checks what can be checked without connecting: the scheme, a host, a
 * path. Returns the parsed URL, or NULL with @reason set. */
static GUri *
parse_location (const gchar * location, gchar ** reason)
{
  GUri *uri;
  const gchar *scheme;
  GError *error = NULL;

  if (location == NULL || *location == '\0') {
    *reason = g_strdup ("no location set");
    return NULL;
  }

  uri = g_uri_parse (location, SOUP_HTTP_URI_FLAGS, &error);
  if (uri == NULL) {
    *reason = g_strdup_printf ("'%s' is not a URL: %s", location,
        error->message);
    g_error_free (error);
    return NULL;
  }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "ws") != 0 &&
      g_ascii_strcasecmp (scheme, "wss") != 0 &&
      g_ascii_strcasecmp (scheme, "http") != 0 &&
      g_ascii_strcasecmp (scheme, "https") != 0) {
    *reason = g_strdup_printf ("'%s' is not a ws:// or wss:// URL", location);
    g_uri_unref (uri);
    return NULL;
  }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0') {
    *reason = g_strdup_printf ("'%s' has no host", location);
    g_uri_unref (uri);
    return NULL;
  }

  return uri;
}

gboolean
gst_ds_soup_check_location (GstElement * element, GstDsSoupRole role,
    const gchar * location)
{
  PathRole wanted = role == GST_DS_SOUP_ROLE_SOURCE ? PATH_SOURCE :
      PATH_RECEIVER;
  PathRole found = PATH_UNKNOWN;
  gboolean websocket;
  gchar **segments;
  gchar *reason = NULL, *suggestion;
  guint n;
  GUri *uri;

  gst_ds_soup_init_debug ();
  uri = parse_location (location, &reason);
  if (uri == NULL) {
    post_bad_location (element, role, reason);
    g_free (reason);
    return FALSE;
  }
  websocket = g_ascii_strncasecmp (g_uri_get_scheme (uri), "ws", 2) == 0;

  /* the channel name is the last segment ("/peer/NAME"), the role the one
   * before it; a reverse proxy may put more in front */
  segments = g_strsplit (g_uri_get_path (uri), "/", -1);
  n = g_strv_length (segments);
  if (n >= 3)
    found = path_role_from_segment (segments[n - 2]);

  if (n < 2 || (n == 2 && *segments[1] == '\0')) {
    post_bad_location (element, role, "the location has no channel path");
    goto failed;
  }

  if (websocket && (found == wanted || found == PATH_UNKNOWN)) {
    /* a path of no role of ds-relay: a reverse proxy may map it, and an
     * HTTP 4xx answer will say if not */
    if (found == PATH_UNKNOWN)
      GST_INFO_OBJECT (element, "%s has no /peer/ or /stream/ path: "
          "assuming a reverse proxy maps it to ds-relay", location);
    g_strfreev (segments);
    g_uri_unref (uri);
    return TRUE;
  }

  if (n < 3) {
    post_bad_location (element, role, "not a ws:// or wss:// URL");
    goto failed;
  }

  if (!websocket && (found == wanted || found == PATH_UNKNOWN))
    reason = g_strdup_printf ("the scheme of %s is not ws:// or wss://",
        location);
  else
    reason = g_strdup_printf ("the path of %s is ds-relay's %s path, not "
        "/%s/", location, segments[n - 2],
        role == GST_DS_SOUP_ROLE_SOURCE ? "peer" : "stream");
  suggestion = location_for_role (uri, segments, n - 2, role);
  post_wrong_role (element, role, websocket ? found : PATH_UNKNOWN, location,
      suggestion, reason);
  g_free (suggestion);
  g_free (reason);

failed:
  g_strfreev (segments);
  g_uri_unref (uri);
  return FALSE;
}

/* The last segment of the path: the channel name */
gboolean
gst_ds_soup_check_locations (GstElement * element, GstDsSoupRole role,
    const GstDsSoupSettings * settings)
{
  guint i;

  if (settings->locations == NULL || settings->locations[0] == NULL)
    return gst_ds_soup_check_location (element, role, NULL);
  for (i = 0; settings->locations[i] != NULL; i++)
    if (!gst_ds_soup_check_location (element, role, settings->locations[i]))
      return FALSE;
  return TRUE;
}

static gchar *
location_channel (const gchar * location)
{
  GUri *uri = g_uri_parse (location, SOUP_HTTP_URI_FLAGS, NULL);
  const gchar *path, *slash;
  gchar *name;

  if (uri == NULL)
    return g_strdup ("?");
  path = g_uri_get_path (uri);
  slash = strrchr (path, '/');
  name = g_uri_unescape_string (slash ? slash + 1 : path, NULL);
  g_uri_unref (uri);
  return name ? name : g_strdup ("?");
}

void
gst_ds_soup_post_failure (GstElement * element, GstDsSoupRole role,
    GstDsSoupFailure failure, const gchar * location, const gchar * reason)
{
  gboolean source = role == GST_DS_SOUP_ROLE_SOURCE;
  GstResourceError open_error = source ? GST_RESOURCE_ERROR_OPEN_WRITE :
      GST_RESOURCE_ERROR_OPEN_READ;
  gchar *debug = g_strdup_printf ("%s: %s", location, reason);
  gchar *text = NULL;

  switch (failure) {
    case GST_DS_SOUP_FAILURE_BAD_URL:
      post_bad_location (element, role, reason);
      break;
    case GST_DS_SOUP_FAILURE_UNAUTHORIZED:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_AUTHORIZED,
          (_("The relay refused the access token (HTTP 401). Check the token "
                  "property.")), ("%s", debug));
      break;
    case GST_DS_SOUP_FAILURE_FORBIDDEN:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_AUTHORIZED,
          (_("The relay, or a proxy in front of it, forbids this connection "
                  "(HTTP 403). Check its allowed origins and access "
                  "rules.")), ("%s", debug));
      break;
    case GST_DS_SOUP_FAILURE_NOT_FOUND:
      if (source)
        GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
            (_("The relay does not serve the path of the location (HTTP "
                    "404). Use ws://HOST:PORT/peer/CHANNEL, or the path a "
                    "reverse proxy maps to it.")), ("%s", debug));
      else
        GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
            (_("The relay does not serve the path of the location (HTTP "
                    "404). Use ws://HOST:PORT/stream/CHANNEL, or the path a "
                    "reverse proxy maps to it.")), ("%s", debug));
      break;
    case GST_DS_SOUP_FAILURE_BAD_REQUEST:
      GST_ELEMENT_ERROR (element, RESOURCE, NOT_FOUND,
          (_("The relay refused the channel (HTTP 400). A channel name is "
                  "1 to 64 letters, digits, '.', '_' or '-'.")), ("%s", debug));
      break;
    case GST_DS_SOUP_FAILURE_REJECTED:
      text = g_strdup_printf (_("The relay refused the connection (%s). "
              "Check the location and the token."), reason);
      GST_ELEMENT_ERROR (element, RESOURCE, FAILED, ("%s", text),
          ("%s", debug));
      break;
    case GST_DS_SOUP_FAILURE_TLS:
      gst_element_message_full (element, GST_MESSAGE_ERROR,
          GST_RESOURCE_ERROR, open_error,
          g_strdup (_("The relay's TLS certificate was not accepted. Set "
                  "ssl-ca-file to the certificate authority that signed "
                  "it.")), g_strdup (debug), __FILE__, GST_FUNCTION, __LINE__);
      break;
    case GST_DS_SOUP_FAILURE_PROTOCOL:
      text = g_strdup_printf (_("The location does not answer as a "
              "WebSocket endpoint (%s). Check that it points to ds-relay."),
          reason);
      gst_element_message_full (element, GST_MESSAGE_ERROR,
          GST_RESOURCE_ERROR, open_error, g_strdup (text), g_strdup (debug),
          __FILE__, GST_FUNCTION, __LINE__);
      break;
    case GST_DS_SOUP_FAILURE_TAKEN_OVER:{
      gchar *channel = location_channel (location);

      text = g_strdup_printf (_("Another source took over channel '%s' on "
              "the relay. This one stops: a channel has one source at a "
              "time."), channel);
      GST_ELEMENT_ERROR (element, RESOURCE, BUSY, ("%s", text), ("%s", debug));
      g_free (channel);
      break;
    }
    case GST_DS_SOUP_FAILURE_CLOSED:
      text = g_strdup_printf (_("The relay closed the connection because "
              "of what was sent (%s). Check that the location is a %s URL "
              "and the relay's limits."), reason,
          source ? "/peer/" : "/stream/");
      gst_element_message_full (element, GST_MESSAGE_ERROR,
          GST_RESOURCE_ERROR, source ? GST_RESOURCE_ERROR_WRITE :
          GST_RESOURCE_ERROR_READ, g_strdup (text), g_strdup (debug),
          __FILE__, GST_FUNCTION, __LINE__);
      break;
    case GST_DS_SOUP_FAILURE_WRONG_ROLE:
      if (source)
        GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
            (_("The relay sends this element the channel's frames: the "
                    "location is a receiver's (a path that a proxy maps to "
                    "/stream/?). dsrelaysink publishes on the channel's "
                    "/peer/ URL.")), ("%s", debug));
      else
        GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
            (_("The relay takes this element for the channel's source: the "
                    "location is a publishing one (a path that a proxy maps "
                    "to /peer/?). dsstreamsrc receives on the channel's "
                    "/stream/ URL.")), ("%s", debug));
      break;
    case GST_DS_SOUP_FAILURE_RESOLVE:
      gst_element_message_full (element, GST_MESSAGE_ERROR,
          GST_RESOURCE_ERROR, open_error,
          g_strdup (_("Cannot resolve the host name of the relay. Check "
                  "the host of the location.")), g_strdup (debug), __FILE__,
          GST_FUNCTION, __LINE__);
      break;
    case GST_DS_SOUP_FAILURE_TIMEOUT:
      gst_element_message_full (element, GST_MESSAGE_ERROR,
          GST_RESOURCE_ERROR, open_error,
          g_strdup (_("Connecting to the relay timed out. Check that the "
                  "address is right and that ds-relay is running there.")),
          g_strdup (debug), __FILE__, GST_FUNCTION, __LINE__);
      break;
    case GST_DS_SOUP_FAILURE_UNAVAILABLE:
      gst_element_message_full (element, GST_MESSAGE_ERROR,
          GST_RESOURCE_ERROR, open_error,
          g_strdup (_("The relay is unavailable or full (HTTP 5xx). Check "
                  "its log, --max-clients and --max-channels.")),
          g_strdup (debug), __FILE__, GST_FUNCTION, __LINE__);
      break;
    case GST_DS_SOUP_FAILURE_REFUSED:
    case GST_DS_SOUP_FAILURE_NETWORK:
    default:
      gst_element_message_full (element, GST_MESSAGE_ERROR,
          GST_RESOURCE_ERROR, open_error,
          g_strdup (_("Could not connect to the relay. Check that ds-relay "
                  "is running at the location's address.")),
          g_strdup (debug), __FILE__, GST_FUNCTION, __LINE__);
      break;
  }
  g_free (text);
  g_free (debug);
}

void
gst_ds_soup_post_retry (GstElement * element, GstDsSoupRole role,
    const gchar * location, GstDsSoupFailure failure, const gchar * reason,
    guint attempt, guint delay_ms)
{
  if (role == GST_DS_SOUP_ROLE_SOURCE)
    GST_ELEMENT_WARNING (element, RESOURCE, OPEN_WRITE,
        (_("Could not connect to the relay at %s (attempt %u, %s): %s; "
                "retrying in %u ms."), location, attempt,
            gst_ds_soup_failure_name (failure), reason, delay_ms),
        ("location: %s", location));
  else
    GST_ELEMENT_WARNING (element, RESOURCE, OPEN_READ,
        (_("Could not connect to the relay at %s (attempt %u, %s): %s; "
                "retrying in %u ms."), location, attempt,
            gst_ds_soup_failure_name (failure), reason, delay_ms),
        ("location: %s", location));
}

/* Connection properties */

#define DEFAULT_RETRIES -1
#define DEFAULT_RETRY_DELAY 1000
#define DEFAULT_MAX_RETRY_DELAY 10000
#define DEFAULT_TIMEOUT 10
#define DEFAULT_SSL_STRICT TRUE

/*
 * The connection properties of dsrelaysink and dsstreamsrc (documented
 * once here, and in docs/elements.md):
 *
 * location: the relay URL of the element's role, `ws://HOST:PORT/peer/CHANNEL`
 * for dsrelaysink and `ws://HOST:PORT/stream/CHANNEL` for dsstreamsrc (or
 * `wss://`). A location of another role of the relay (`/peer/`,
 * `/stream/`, `/signal/`, `/view/`, or `http://`) is an error at start
 * that names the URL meant; a path of no role is accepted, for a reverse
 * proxy that maps it. If the relay then treats the element as the other
 * role, it stops with an error. Setting location sets locations to a list
 * of that one URL; reading it gives the first of locations.
 *
 * locations: several such URLs (a GstValueArray of strings, in
 * gst-launch `locations="<ws://a:9100/peer/x, ws://b:9100/peer/x>"`),
 * relays of one cluster that serve the same channel. The element
 * connects to the first; when an attempt fails for a reason that may pass
 * (below) it tries the next one at once, round robin, and the list order
 * is kept. A pass over all locations is one retry round: retries counts
 * passes and the backoff delay is waited between passes, so one location
 * behaves as before. After a lost connection the element tries the same
 * location again first. Every URL is checked at start like location; an
 * empty list is an error.
 *
 * token: sent as `Authorization: Bearer TOKEN` when connecting.
 *
 * retries: how many failed connection attempts in a row (with
 * locations: passes over all of them) are retried before an error is
 * posted; -1 retries forever. Counting starts again
 * after every successful connection. Only failures that may pass are
 * retried: the network (refused, unreachable, a host name that does not
 * resolve, timeouts) and HTTP 500, 502, 503 and 504 (a busy or restarting
 * relay, a proxy without its relay). Any other HTTP answer (400, 401,
 * 403, 404, ...), a certificate that does not validate, and a take-over
 * by another source are an error at once, whatever this is.
 *
 * retry-delay: the delay before the first retry, in milliseconds. It
 * doubles with every further failed attempt up to max-retry-delay; each
 * wait is randomised between half and all of it (jitter). When a
 * connection that lasted is lost, the first attempt is made at once and
 * the first two retries both wait this long before the doubling starts
 * (a restarting relay is found again within about a second).
 *
 * max-retry-delay: the cap of the exponential backoff, in milliseconds.
 *
 * timeout: seconds a connection attempt (TCP connect, TLS and WebSocket
 * handshakes) may take.
 *
 * ssl-strict: refuse a wss:// relay whose certificate does not validate.
 *
 * ssl-ca-file: a PEM file of the certificate authorities to trust for
 * wss://, instead of the system's.
 */
void
gst_ds_soup_install_properties (GObjectClass * klass, guint first_prop_id,
    GstDsSoupRole role)
{
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          role == GST_DS_SOUP_ROLE_SOURCE ?
          "URL of the relay's peer endpoint (ws://HOST:PORT/peer/CHANNEL or "
          "wss://...)" :
          "URL of the relay's stream endpoint (ws://HOST:PORT/stream/CHANNEL "
          "or wss://...)", NULL, flags));
  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_LOCATIONS,
      gst_param_spec_array ("locations", "Locations",
          "URLs of relays of the channel, tried in turn (round robin) after "
          "network failures and HTTP 5xx; setting location sets a list of "
          "one", g_param_spec_string ("location", "Location",
              "One relay URL", NULL, G_PARAM_READWRITE |
              G_PARAM_STATIC_STRINGS), flags));
  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_TOKEN,
      g_param_spec_string ("token", "Token",
          "Access token, sent as 'Authorization: Bearer TOKEN'", NULL, flags));
  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_RETRIES,
      g_param_spec_int ("retries", "Retries",
          "Failed connection attempts in a row (passes over the locations) "
          "retried before giving up (-1 = forever; network failures and "
          "HTTP 5xx only)", -1, G_MAXINT, DEFAULT_RETRIES, flags));
  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_RETRY_DELAY,
      g_param_spec_uint ("retry-delay", "Retry delay",
          "Delay before the first retry in ms (doubles per failed attempt, "
          "with jitter)", 1, G_MAXINT, DEFAULT_RETRY_DELAY, flags));
  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_MAX_RETRY_DELAY,
      g_param_spec_uint ("max-retry-delay", "Maximum retry delay",
          "Longest delay between connection attempts in ms", 1, G_MAXINT,
          DEFAULT_MAX_RETRY_DELAY, flags));
  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Seconds a connection attempt may take", 1, 3600, DEFAULT_TIMEOUT,
          flags));
  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict",
          "Refuse a relay whose TLS certificate does not validate",
          DEFAULT_SSL_STRICT, flags));
  g_object_class_install_property (klass,
      first_prop_id + GST_DS_SOUP_PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of the certificate authorities to trust (instead of the "
          "system's)", NULL, flags));
}

void
gst_ds_soup_settings_init (GstDsSoupSettings * settings)
{
  memset (settings, 0, sizeof (*settings));
  settings->retries = DEFAULT_RETRIES;
  settings->retry_delay = DEFAULT_RETRY_DELAY;
  settings->max_retry_delay = DEFAULT_MAX_RETRY_DELAY;
  settings->timeout = DEFAULT_TIMEOUT;
  settings->ssl_strict = DEFAULT_SSL_STRICT;
}

gboolean
gst_ds_soup_settings_set_property (GstDsSoupSettings * settings,
    guint first_prop_id, guint prop_id, const GValue * value)
{
  if (prop_id < first_prop_id || prop_id >= first_prop_id + GST_DS_SOUP_N_PROPS)
    return FALSE;

  switch ((GstDsSoupProperty) (prop_id - first_prop_id)) {
    case GST_DS_SOUP_PROP_LOCATION:
      g_free (settings->location);
      settings->location = g_value_dup_string (value);
      g_strfreev (settings->locations);
      settings->locations = NULL;
      if (settings->location != NULL) {
        settings->locations = g_new0 (gchar *, 2);
        settings->locations[0] = g_strdup (settings->location);
      }
      break;
    case GST_DS_SOUP_PROP_LOCATIONS:{
      guint i, n = gst_value_array_get_size (value);

      g_strfreev (settings->locations);
      settings->locations = g_new0 (gchar *, n + 1);
      for (i = 0; i < n; i++) {
        const GValue *v = gst_value_array_get_value (value, i);

        settings->locations[i] = g_strdup (G_VALUE_HOLDS_STRING (v) ?
            g_value_get_string (v) : NULL);
        if (settings->locations[i] == NULL)
          settings->locations[i] = g_strdup ("");
      }
      g_free (settings->location);
      settings->location = g_strdup (settings->locations[0]);
      break;
    }
    case GST_DS_SOUP_PROP_TOKEN:
      g_free (settings->token);
      settings->token = g_value_dup_string (value);
      break;
    case GST_DS_SOUP_PROP_RETRIES:
      settings->retries = g_value_get_int (value);
      break;
    case GST_DS_SOUP_PROP_RETRY_DELAY:
      settings->retry_delay = g_value_get_uint (value);
      break;
    case GST_DS_SOUP_PROP_MAX_RETRY_DELAY:
      settings->max_retry_delay = g_value_get_uint (value);
      break;
    case GST_DS_SOUP_PROP_TIMEOUT:
      settings->timeout = g_value_get_uint (value);
      break;
    case GST_DS_SOUP_PROP_SSL_STRICT:
      settings->ssl_strict = g_value_get_boolean (value);
      break;
    case GST_DS_SOUP_PROP_SSL_CA_FILE:
      g_free (settings->ssl_ca_file);
      settings->ssl_ca_file = g_value_dup_string (value);
      break;
    case GST_DS_SOUP_N_PROPS:
      return FALSE;
  }
  return TRUE;
}

gboolean
gst_ds_soup_settings_get_property (const GstDsSoupSettings * settings,
    guint first_prop_id, guint prop_id, GValue * value)
{
  if (prop_id < first_prop_id || prop_id >= first_prop_id + GST_DS_SOUP_N_PROPS)
    return FALSE;

  switch ((GstDsSoupProperty) (prop_id - first_prop_id)) {
    case GST_DS_SOUP_PROP_LOCATION:
      g_value_set_string (value, settings->location);
      break;
    case GST_DS_SOUP_PROP_LOCATIONS:{
      guint i;

      for (i = 0; settings->locations && settings->locations[i]; i++) {
        GValue v = G_VALUE_INIT;

        g_value_init (&v, G_TYPE_STRING);
        g_value_set_string (&v, settings->locations[i]);
        gst_value_array_append_and_take_value (value, &v);
      }
      break;
    }
    case GST_DS_SOUP_PROP_TOKEN:
      g_value_set_string (value, settings->token);
      break;
    case GST_DS_SOUP_PROP_RETRIES:
      g_value_set_int (value, settings->retries);
      break;
    case GST_DS_SOUP_PROP_RETRY_DELAY:
      g_value_set_uint (value, settings->retry_delay);
      break;
    case GST_DS_SOUP_PROP_MAX_RETRY_DELAY:
      g_value_set_uint (value, settings->max_retry_delay);
      break;
    case GST_DS_SOUP_PROP_TIMEOUT:
      g_value_set_uint (value, settings->timeout);
      break;
    case GST_DS_SOUP_PROP_SSL_STRICT:
      g_value_set_boolean (value, settings->ssl_strict);
      break;
    case GST_DS_SOUP_PROP_SSL_CA_FILE:
      g_value_set_string (value, settings->ssl_ca_file);
      break;
    case GST_DS_SOUP_N_PROPS:
      return FALSE;
  }
  return TRUE;
}

static void gst_ds_soup_settings_copy (GstDsSoupSettings * dest,
    const GstDsSoupSettings * src);

void
gst_ds_soup_settings_copy_locked (GstObject * object,
    const GstDsSoupSettings * settings, GstDsSoupSettings * copy)
{
  GST_OBJECT_LOCK (object);
  gst_ds_soup_settings_copy (copy, settings);
  GST_OBJECT_UNLOCK (object);
}

void
gst_ds_soup_settings_clear (GstDsSoupSettings * settings)
{
  g_clear_pointer (&settings->location, g_free);
  g_clear_pointer (&settings->locations, g_strfreev);
  g_clear_pointer (&settings->token, g_free);
  g_clear_pointer (&settings->ssl_ca_file, g_free);
}

static void
gst_ds_soup_settings_copy (GstDsSoupSettings * dest,
    const GstDsSoupSettings * src)
{
  *dest = *src;
  dest->location = g_strdup (src->location);
  dest->locations = g_strdupv (src->locations);
  dest->token = g_strdup (src->token);
  dest->ssl_ca_file = g_strdup (src->ssl_ca_file);
}

guint32
gst_ds_soup_connection_now_ms (GstDsSoupConnection * conn)
{
  return (guint32) ((g_get_monotonic_time () - conn->epoch_us) / 1000);
}

gint
gst_ds_soup_connection_get_rtt (GstDsSoupConnection * conn)
{
  gint rtt;

  g_mutex_lock (&conn->lock);
  rtt = conn->rtt_ms;
  g_mutex_unlock (&conn->lock);
  return rtt;
}

guint
gst_ds_soup_connection_get_reconnects (GstDsSoupConnection * conn)
{
  guint reconnects;

  g_mutex_lock (&conn->lock);
  reconnects = conn->reconnects;
  g_mutex_unlock (&conn->lock);
  return reconnects;
}

gboolean
gst_ds_soup_connection_is_connected (GstDsSoupConnection * conn)
{
  return conn->ws != NULL &&
      soup_websocket_connection_get_state (conn->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN;
}

/* Sending */

static gboolean
gst_ds_soup_connection_writable_cb (GSocket * socket, GIOCondition condition,
    gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;

  GST_LOG_OBJECT (conn->parent, "may send again");
  g_clear_pointer (&conn->writable_source, g_source_unref);
  if (gst_ds_soup_connection_is_connected (conn) && conn->callbacks.writable)
    conn->callbacks.writable (conn, conn->user_data);

  return G_SOURCE_REMOVE;
}

/* What the kernel says about the socket: bytes the peer acknowledged and
 * bytes still in the send queue (not sent or not acknowledged); their sum
 * is what the application wrote into it. FALSE when it cannot tell. */
static gboolean
gst_ds_soup_connection_socket_counts (GstDsSoupConnection * conn,
    guint64 * acked, guint64 * unacked)
{
#if defined(__linux__) && defined(SIOCOUTQ)
  struct tcp_info info;
  socklen_t len = sizeof (info);
  gint fd, outq = 0;

  if (conn->socket == NULL)
    return FALSE;
  fd = g_socket_get_fd (conn->socket);
  memset (&info, 0, sizeof (info));
  if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < G_STRUCT_OFFSET (struct tcp_info, tcpi_bytes_acked) +
      sizeof (info.tcpi_bytes_acked))
      return FALSE;
  if (ioctl (fd, SIOCOUTQ, &outq) != 0 || outq < 0)
    return FALSE;
  *acked = info.tcpi_bytes_acked;
  *unacked = outq;
  return TRUE;
#else
  return FALSE;
#endif
}

static gboolean
gst_ds_soup_connection_socket_written (GstDsSoupConnection * conn,
    guint64 * written)
{
  guint64 acked, unacked;

  if (!gst_ds_soup_connection_socket_counts (conn, &acked, &unacked))
    return FALSE;
  *written = acked + unacked;
  return TRUE;
}

/* The size of a client WebSocket frame carrying @payload bytes */
static guint64
gst_ds_soup_connection_frame_size (gsize payload)
{
  /* 2 bytes + extended length + 4 bytes of mask */
  if (payload < 126)
    return payload + 6;
  if (payload < 65536)
    return payload + 8;
  return payload + 14;
}

guint64
gst_ds_soup_connection_get_backlog (GstDsSoupConnection * conn)
{
  guint64 written;

  if (!conn->written_known ||
      !gst_ds_soup_connection_socket_written (conn, &written))
    return 0;
  written -= MIN (written, conn->written_base);
  /* libsoup's own frames (Pong, Close) and TLS records make the socket
   * take a little more than we handed: that only errs on the low side */
  return conn->handed_bytes > written ? conn->handed_bytes - written : 0;
}

static gboolean
gst_ds_soup_connection_backlog_cb (gpointer user_data)
{
  return gst_ds_soup_connection_writable_cb (NULL, G_IO_OUT, user_data);
}

gboolean
gst_ds_soup_connection_can_send (GstDsSoupConnection * conn)
{
  gboolean socket_writable;
  guint64 backlog;

  if (!gst_ds_soup_connection_is_connected (conn))
    return FALSE;
  if (conn->socket == NULL)
    return TRUE;

  /* libsoup writes a message at once as far as the socket takes it and
   * keeps the rest in an unbounded queue of its own: hand it the next
   * message only when it has written everything it was given and the
   * socket takes more, so that frames wait in the element's bounded queue
   * instead (where they can be dropped or merged). */
  socket_writable =
      (g_socket_condition_check (conn->socket, G_IO_OUT) & G_IO_OUT) != 0;
  backlog = gst_ds_soup_connection_get_backlog (conn);
  if (socket_writable && backlog == 0)
    return TRUE;

  GST_LOG_OBJECT (conn->parent, "waiting: socket %swritable, %"
      G_GUINT64_FORMAT " bytes in libsoup", socket_writable ? "" : "not ",
      backlog);

  if (conn->writable_source == NULL) {
    if (socket_writable) {
      /* libsoup writes the rest on its next turn; look again soon */
      conn->writable_source =
          g_timeout_source_new (GST_DS_SOUP_BACKLOG_POLL_MS);
      g_source_set_callback (conn->writable_source,
          gst_ds_soup_connection_backlog_cb, conn, NULL);
    } else {
      conn->writable_source = g_socket_create_source (conn->socket, G_IO_OUT,
          NULL);
      g_source_set_callback (conn->writable_source,
          (GSourceFunc) gst_ds_soup_connection_writable_cb, conn, NULL);
    }
    g_source_attach (conn->writable_source, conn->context);
  }
  return FALSE;
}

void
gst_ds_soup_connection_send (GstDsSoupConnection * conn, GBytes * bytes)
{
  if (!gst_ds_soup_connection_is_connected (conn))
    return;
  conn->handed_bytes +=
      gst_ds_soup_connection_frame_size (g_bytes_get_size (bytes));
  soup_websocket_connection_send_message (conn->ws,
      SOUP_WEBSOCKET_DATA_BINARY, bytes);
}

guint16
gst_ds_soup_connection_send_ping (GstDsSoupConnection * conn)
{
  DsHeader header = { 0, };
  guint8 data[DS_HEADER_SIZE];
  guint16 seq = conn->ping_seq++;

  header.type = DS_FRAME_PING;
  header.seq = seq;
  header.timestamp = gst_ds_soup_connection_now_ms (conn);
  ds_header_pack (&header, data);

  if (gst_ds_soup_connection_is_connected (conn)) {
    conn->handed_bytes += gst_ds_soup_connection_frame_size (sizeof (data));
    soup_websocket_connection_send_binary (conn->ws, data, sizeof (data));
  }
  conn->last_ping_us = g_get_monotonic_time ();

  return seq;
}

static gboolean
gst_ds_soup_connection_wakeup_cb (gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;

  g_atomic_int_set (&conn->wakeup_pending, 0);
  if (gst_ds_soup_connection_is_connected (conn) && conn->callbacks.writable)
    conn->callbacks.writable (conn, conn->user_data);

  return G_SOURCE_REMOVE;
}

void
gst_ds_soup_connection_wakeup (GstDsSoupConnection * conn)
{
  GSource *source;

  if (!g_atomic_int_compare_and_exchange (&conn->wakeup_pending, 0, 1))
    return;

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, gst_ds_soup_connection_wakeup_cb, conn, NULL);
  g_source_attach (source, conn->context);
  g_source_unref (source);
}

/* Receiving */

static void
gst_ds_soup_connection_message_cb (SoupWebsocketConnection * ws, gint type,
    GBytes * message, gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;
  DsHeader header;
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);

  conn->last_rx_us = g_get_monotonic_time ();

  if (type != SOUP_WEBSOCKET_DATA_BINARY) {
    GST_DEBUG_OBJECT (conn->parent, "ignoring a text message");
    return;
  }

  if (ds_header_parse (data, size, &header, NULL) &&
      header.type == DS_FRAME_PING && !(header.flags & DS_FLAG_INPUT)) {
    guint rtt = gst_ds_soup_connection_now_ms (conn) - header.timestamp;

    GST_LOG_OBJECT (conn->parent, "Ping %u answered after %u ms", header.seq,
        rtt);
    g_mutex_lock (&conn->lock);
    conn->rtt_ms = rtt;
    g_mutex_unlock (&conn->lock);
    if (conn->callbacks.pong)
      conn->callbacks.pong (conn, header.seq, rtt, conn->user_data);
    return;
  }

  if (conn->callbacks.message)
    conn->callbacks.message (conn, message, conn->user_data);
}

static void
gst_ds_soup_connection_error_cb (SoupWebsocketConnection * ws, GError * error,
    gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;

  GST_WARNING_OBJECT (conn->parent, "WebSocket error: %s", error->message);
  g_free (conn->error_reason);
  conn->error_reason = g_strdup (error->message);
}

static void
gst_ds_soup_connection_closed_cb (SoupWebsocketConnection * ws,
    gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;
  GstDsSoupFailure failure = GST_DS_SOUP_FAILURE_NONE;
  gchar *reason;
  gushort code = soup_websocket_connection_get_close_code (ws);
  const gchar *data = soup_websocket_connection_get_close_data (ws);

  if (code != 0)
    reason = g_strdup_printf ("closed by the relay (%u%s%s)", code,
        data && *data ? ": " : "", data ? data : "");
  else
    reason = g_strdup ("connection lost");

  switch (code) {
    case GST_DS_SOUP_CLOSE_TAKEN_OVER:
      /* another source has the channel now: taking it back would make the
       * two take it from each other for ever */
      failure = GST_DS_SOUP_FAILURE_TAKEN_OVER;
      break;
    case SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR:
    case SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA:
    case SOUP_WEBSOCKET_CLOSE_BAD_DATA:
    case SOUP_WEBSOCKET_CLOSE_TOO_BIG:
      /* what was sent is not accepted there (a frame over the relay's
       * limit, or a location of another role behind a proxy): the next
       * connection would send it again */
      if (conn->error_reason == NULL)
        failure = GST_DS_SOUP_FAILURE_CLOSED;
      break;
    default:
      break;
  }
  if (failure == GST_DS_SOUP_FAILURE_NONE && conn->error_reason != NULL) {
    g_free (reason);
    reason = g_strdup (conn->error_reason);
  }

  gst_ds_soup_connection_drop (conn, failure, reason);
  g_free (reason);
}

/* Connecting */

const gchar *
gst_ds_soup_connection_get_location (GstDsSoupConnection * conn)
{
  if (conn->settings.locations == NULL || conn->settings.locations[0] == NULL)
    return conn->settings.location;
  return conn->settings.locations[conn->index];
}

/* The number of locations (at least 1) */
static guint
gst_ds_soup_connection_n_locations (GstDsSoupConnection * conn)
{
  guint n = conn->settings.locations ?
      g_strv_length (conn->settings.locations) : 0;

  return MAX (n, 1);
}

static gboolean
gst_ds_soup_connection_retry_cb (gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;

  g_clear_pointer (&conn->retry_source, g_source_unref);
  gst_ds_soup_connection_attempt (conn);

  return G_SOURCE_REMOVE;
}

static void
gst_ds_soup_connection_schedule (GstDsSoupConnection * conn, guint delay_ms)
{
  if (conn->retry_source != NULL || g_atomic_int_get (&conn->stopping))
    return;

  conn->retry_source = g_timeout_source_new (delay_ms);
  g_source_set_callback (conn->retry_source, gst_ds_soup_connection_retry_cb,
      conn, NULL);
  g_source_attach (conn->retry_source, conn->context);
}

/* The n-th retry (n >= 1) waits between half and all of
 * min (retry-delay * 2^(n-1), max-retry-delay): exponential, capped, with
 * jitter so that many clients of a restarted relay do not come back in
 * step. */
static guint
gst_ds_soup_connection_backoff (GstDsSoupConnection * conn, guint n)
{
  guint64 delay = MAX (conn->settings.retry_delay, 1);
  guint cap = MAX (conn->settings.max_retry_delay, conn->settings.retry_delay);

  while (n > 1 && delay < cap) {
    delay *= 2;
    n--;
  }
  delay = MIN (delay, cap);

  return (guint) (delay / 2 + g_random_int_range (0, delay / 2 + 1));
}

static void
gst_ds_soup_connection_failed (GstDsSoupConnection * conn,
    GstDsSoupFailure failure, const gchar * reason)
{
  gint retries = conn->settings.retries;
  guint delay, next;

  if (gst_ds_soup_failure_is_final (failure)) {
    conn->failures++;
    GST_WARNING_OBJECT (conn->parent, "not retrying: %s", reason);
    conn->given_up = TRUE;
    if (conn->callbacks.failed)
      conn->callbacks.failed (conn, failure, reason, conn->user_data);
    return;
  }

  /* with several locations, the next one is tried at once until a pass
   * over all of them is over: a pass is one retry round */
  next = (conn->index + 1) % gst_ds_soup_connection_n_locations (conn);
  if (next != conn->pass_start) {
    GST_INFO_OBJECT (conn->parent, "attempt %u failed (%s), trying the "
        "next location", conn->attempt, reason);
    if (conn->callbacks.attempt_failed)
      conn->callbacks.attempt_failed (conn, failure, reason, conn->attempt,
          0, conn->user_data);
    conn->index = next;
    gst_ds_soup_connection_schedule (conn, 0);
    return;
  }

  conn->failures++;

  if (retries >= 0 && conn->failures > (guint) retries) {
    GST_WARNING_OBJECT (conn->parent, "giving up after %u attempt(s): %s",
        conn->failures, reason);
    conn->given_up = TRUE;
    if (conn->callbacks.failed)
      conn->callbacks.failed (conn, failure, reason, conn->user_data);
    return;
  }

  /* after a lost connection the relay is most likely restarting: the
   * first two retries both wait retry-delay, so that a relay back within
   * a second or two is found at once, then the delay doubles */
  delay = gst_ds_soup_connection_backoff (conn, conn->ever_connected &&
      conn->failures > 1 ? conn->failures - 1 : conn->failures);
  GST_INFO_OBJECT (conn->parent, "attempt %u failed (%s), retrying in %u ms",
      conn->attempt, reason, delay);
  if (conn->callbacks.attempt_failed)
    conn->callbacks.attempt_failed (conn, failure, reason, conn->attempt,
        delay, conn->user_data);
  conn->index = next;
  gst_ds_soup_connection_schedule (conn, delay);
}

static GstDsSoupFailure
gst_ds_soup_connection_classify_status (guint status)
{
  switch (status) {
    case SOUP_STATUS_BAD_REQUEST:
      return GST_DS_SOUP_FAILURE_BAD_REQUEST;
    case SOUP_STATUS_UNAUTHORIZED:
      return GST_DS_SOUP_FAILURE_UNAUTHORIZED;
    case SOUP_STATUS_FORBIDDEN:
      return GST_DS_SOUP_FAILURE_FORBIDDEN;
    case SOUP_STATUS_NOT_FOUND:
      return GST_DS_SOUP_FAILURE_NOT_FOUND;
    case SOUP_STATUS_INTERNAL_SERVER_ERROR:
    case SOUP_STATUS_BAD_GATEWAY:
    case SOUP_STATUS_SERVICE_UNAVAILABLE:
    case SOUP_STATUS_GATEWAY_TIMEOUT:
      /* busy, shutting down, or a proxy whose relay is not there (yet) */
      return GST_DS_SOUP_FAILURE_UNAVAILABLE;
    default:
      if (status >= 400 && status < 500)
        return GST_DS_SOUP_FAILURE_REJECTED;
      /* a web server, a redirect, or a WebSocket handshake gone wrong */
      return GST_DS_SOUP_FAILURE_PROTOCOL;
  }
}

static GstDsSoupFailure
gst_ds_soup_connection_classify (GstDsSoupConnection * conn, SoupMessage * msg,
    GError * error, gchar ** reason)
{
  guint status = soup_message_get_status (msg);

  if (soup_message_get_tls_peer_certificate_errors (msg) != 0 ||
      g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) ||
      g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED)) {
    *reason = g_strdup_printf ("TLS failure: %s", error->message);
    return GST_DS_SOUP_FAILURE_TLS;
  }
  /* glib-networking says "not TLS" when the peer closes the connection
   * before its first answer: a relay at its --max-tls-handshakes or
   * --tls-handshake-timeout, restarting, or behind a proxy that lost it.
   * That is a network failure (retried, the next location), not a
   * certificate to fix; a server that answers in plain HTTP fails
   * otherwise ("unexpected TLS packet"). */
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS)) {
    *reason = g_strdup_printf ("the connection was closed during the TLS "
        "handshake: %s", error->message);
    return GST_DS_SOUP_FAILURE_NETWORK;
  }

  if (status >= 100 && status != SOUP_STATUS_SWITCHING_PROTOCOLS) {
    *reason = g_strdup_printf ("HTTP %u %s", status,
        soup_message_get_reason_phrase (msg) ?
        soup_message_get_reason_phrase (msg) : "");
    return gst_ds_soup_connection_classify_status (status);
  }
  if (status == SOUP_STATUS_SWITCHING_PROTOCOLS) {
    *reason = g_strdup_printf ("bad WebSocket handshake: %s", error->message);
    return GST_DS_SOUP_FAILURE_PROTOCOL;
  }

  if (error->domain == G_RESOLVER_ERROR) {
    GUri *uri = soup_message_get_uri (msg);

    *reason = g_strdup_printf ("cannot resolve host '%s': %s",
        uri ? g_uri_get_host (uri) : "?", error->message);
    return GST_DS_SOUP_FAILURE_RESOLVE;
  }

  *reason = g_strdup (error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return GST_DS_SOUP_FAILURE_TIMEOUT;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return GST_DS_SOUP_FAILURE_REFUSED;
  if (error->domain == G_IO_ERROR || error->domain == G_TLS_ERROR)
    return GST_DS_SOUP_FAILURE_NETWORK;

  return GST_DS_SOUP_FAILURE_PROTOCOL;
}

static void
gst_ds_soup_connection_network_event_cb (SoupMessage * msg,
    GSocketClientEvent event, GIOStream * stream, gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;

  if (event == G_SOCKET_CLIENT_CONNECTED && G_IS_SOCKET_CONNECTION (stream)) {
    g_clear_object (&conn->socket);
    conn->socket = g_object_ref (g_socket_connection_get_socket
        (G_SOCKET_CONNECTION (stream)));
  }
}

static gboolean
gst_ds_soup_connection_accept_certificate_cb (SoupMessage * msg,
    GTlsCertificate * certificate, GTlsCertificateFlags errors,
    gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;

  GST_WARNING_OBJECT (conn->parent, "accepting a certificate that does not "
      "validate (0x%x) because ssl-strict is FALSE", errors);
  return TRUE;
}

static void
gst_ds_soup_connection_connect_done (GObject * source, GAsyncResult * result,
    gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;
  SoupWebsocketConnection *ws;
  SoupMessage *msg = conn->msg;
  GError *error = NULL;
  gchar *reason = NULL;
  GstDsSoupFailure failure;
  gboolean reconnect;

  conn->pending_ops--;
  conn->msg = NULL;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);

  if (g_atomic_int_get (&conn->stopping)) {
    g_clear_object (&ws);
    g_clear_error (&error);
    g_clear_object (&msg);
    return;
  }

  if (ws == NULL) {
    failure = gst_ds_soup_connection_classify (conn, msg, error, &reason);
    g_clear_object (&conn->socket);
    g_clear_error (&error);
    g_clear_object (&msg);
    gst_ds_soup_connection_failed (conn, failure, reason);
    g_free (reason);
    return;
  }
  g_clear_object (&msg);

  GST_INFO_OBJECT (conn->parent, "connected to %s",
      gst_ds_soup_connection_get_location (conn));

  conn->ws = ws;
  conn->handed_bytes = 0;
  /* compressed frames would make the socket take less than was handed
   * over: then only the socket's writability can be checked (the session
   * offers no extension, see the thread) */
  conn->written_known = soup_websocket_connection_get_extensions (ws) == NULL
      && gst_ds_soup_connection_socket_written (conn, &conn->written_base);
  soup_websocket_connection_set_max_incoming_payload_size (ws,
      conn->settings.max_message_size);
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  g_signal_connect (ws, "message",
      G_CALLBACK (gst_ds_soup_connection_message_cb), conn);
  g_signal_connect (ws, "error", G_CALLBACK (gst_ds_soup_connection_error_cb),
      conn);
  g_signal_connect (ws, "closed",
      G_CALLBACK (gst_ds_soup_connection_closed_cb), conn);

  reconnect = conn->ever_connected;
  conn->ever_connected = TRUE;
  conn->failures = 0;
  conn->attempt = 0;
  /* after a lost connection, this location is tried again first */
  conn->pass_start = conn->index;
  conn->last_rx_us = conn->connected_us = g_get_monotonic_time ();
  conn->last_acked = 0;
  g_clear_pointer (&conn->error_reason, g_free);

  if (conn->callbacks.connected)
    conn->callbacks.connected (conn, reconnect, conn->user_data);

  /* a first Ping right away, so the round-trip time is known early */
  if (gst_ds_soup_connection_is_connected (conn))
    gst_ds_soup_connection_send_ping (conn);
  if (gst_ds_soup_connection_is_connected (conn) && conn->callbacks.writable)
    conn->callbacks.writable (conn, conn->user_data);
}

static void
gst_ds_soup_connection_attempt (GstDsSoupConnection * conn)
{
  SoupMessage *msg;
  gchar *reason = NULL;
  const gchar *location;
  GUri *uri;

  if (g_atomic_int_get (&conn->stopping) || conn->ws != NULL ||
      conn->msg != NULL)
    return;

  location = gst_ds_soup_connection_get_location (conn);
  uri = parse_location (location, &reason);
  if (uri != NULL && g_ascii_strncasecmp (g_uri_get_scheme (uri), "ws", 2)) {
    reason = g_strdup_printf ("'%s' is not a ws:// or wss:// URL", location);
    g_clear_pointer (&uri, g_uri_unref);
  }
  if (uri == NULL) {
    /* retrying cannot help */
    conn->given_up = TRUE;
    if (conn->callbacks.failed)
      conn->callbacks.failed (conn, GST_DS_SOUP_FAILURE_BAD_URL, reason,
          conn->user_data);
    g_free (reason);
    return;
  }
  g_uri_unref (uri);

  conn->attempt++;
  if (conn->ever_connected) {
    g_mutex_lock (&conn->lock);
    conn->reconnects++;
    g_mutex_unlock (&conn->lock);
  }

  GST_DEBUG_OBJECT (conn->parent, "connecting to %s (attempt %u)",
      location, conn->attempt);

  msg = soup_message_new ("GET", location);
  if (msg == NULL) {
    gst_ds_soup_connection_failed (conn, GST_DS_SOUP_FAILURE_BAD_URL,
        "libsoup refused the URL");
    return;
  }
  soup_message_add_flags (msg, SOUP_MESSAGE_NEW_CONNECTION);
  if (conn->settings.token != NULL && *conn->settings.token != '\0') {
    gchar *value = g_strdup_printf ("Bearer %s", conn->settings.token);

    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", value);
    g_free (value);
  }
  g_signal_connect (msg, "network-event",
      G_CALLBACK (gst_ds_soup_connection_network_event_cb), conn);
  if (!conn->settings.ssl_strict)
    g_signal_connect (msg, "accept-certificate",
        G_CALLBACK (gst_ds_soup_connection_accept_certificate_cb), conn);

  conn->msg = msg;
  conn->pending_ops++;
  soup_session_websocket_connect_async (conn->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, conn->cancellable,
      gst_ds_soup_connection_connect_done, conn);
}

/* Drops the current connection (closed by the peer, dead, or failed) and
 * schedules a reconnect: at once after a connection that lasted, after
 * the backoff when the relay closes connections soon after accepting
 * them, never after a final @failure (then the failed callback runs). */
static void
gst_ds_soup_connection_drop (GstDsSoupConnection * conn,
    GstDsSoupFailure failure, const gchar * reason)
{
  SoupWebsocketConnection *ws = conn->ws;
  gint64 lifetime_ms;
  guint delay = 0;

  if (ws == NULL)
    return;

  GST_INFO_OBJECT (conn->parent, "disconnected: %s", reason);

  conn->ws = NULL;
  g_signal_handlers_disconnect_by_data (ws, conn);
  if (conn->writable_source) {
    g_source_destroy (conn->writable_source);
    g_clear_pointer (&conn->writable_source, g_source_unref);
  }
  if (conn->socket)
    g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  g_clear_object (&conn->socket);
  /* disposing closes the stream; the shut-down socket makes that quick */
  g_object_unref (ws);
  g_clear_pointer (&conn->error_reason, g_free);

  if (conn->callbacks.disconnected)
    conn->callbacks.disconnected (conn, reason, conn->user_data);

  if (g_atomic_int_get (&conn->stopping))
    return;

  if (failure != GST_DS_SOUP_FAILURE_NONE &&
      gst_ds_soup_failure_is_final (failure)) {
    GST_WARNING_OBJECT (conn->parent, "not reconnecting: %s", reason);
    conn->given_up = TRUE;
    if (conn->callbacks.failed)
      conn->callbacks.failed (conn, failure, reason, conn->user_data);
    return;
  }

  lifetime_ms = (g_get_monotonic_time () - conn->connected_us) / 1000;
  if (lifetime_ms < GST_DS_SOUP_STABLE_MS) {
    conn->short_lived++;
    delay = gst_ds_soup_connection_backoff (conn, conn->short_lived);
    GST_INFO_OBJECT (conn->parent, "the connection lasted %" G_GINT64_FORMAT
        " ms (%u such in a row): reconnecting in %u ms", lifetime_ms,
        conn->short_lived, delay);
  } else {
    conn->short_lived = 0;
  }
  gst_ds_soup_connection_schedule (conn, delay);
}

typedef struct
{
  GstDsSoupConnection *conn;
  GstDsSoupFailure failure;
  gchar *reason;
} GiveUp;

static void
give_up_free (gpointer data)
{
  GiveUp *give_up = data;

  g_free (give_up->reason);
  g_free (give_up);
}

static gboolean
gst_ds_soup_connection_give_up_cb (gpointer data)
{
  GiveUp *give_up = data;

  if (!g_atomic_int_get (&give_up->conn->stopping) && give_up->conn->ws)
    gst_ds_soup_connection_drop (give_up->conn, give_up->failure,
        give_up->reason);
  return G_SOURCE_REMOVE;
}

void
gst_ds_soup_connection_give_up (GstDsSoupConnection * conn,
    GstDsSoupFailure failure, const gchar * reason)
{
  GiveUp *give_up = g_new0 (GiveUp, 1);
  GSource *source;

  /* not from inside a signal of the WebSocket connection that dropping
   * disposes of: from the main loop, soon */
  give_up->conn = conn;
  give_up->failure = failure;
  give_up->reason = g_strdup (reason);
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, gst_ds_soup_connection_give_up_cb, give_up,
      give_up_free);
  g_source_attach (source, conn->context);
  g_source_unref (source);
}

static gboolean
gst_ds_soup_connection_tick_cb (gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;
  gint64 now = g_get_monotonic_time ();

  if (gst_ds_soup_connection_is_connected (conn)) {
    guint64 acked, unacked;

    /* the answer to a Ping waits behind what we still send: while the
     * peer keeps taking our bytes, the connection is alive */
    if (gst_ds_soup_connection_socket_counts (conn, &acked, &unacked)) {
      if (unacked > 0 && acked != conn->last_acked)
        conn->last_rx_us = now;
      conn->last_acked = acked;
    }

    if (now - conn->last_rx_us > GST_DS_SOUP_LIVENESS_TIMEOUT_MS * 1000) {
      gchar *reason = g_strdup_printf ("nothing from the relay for %u s",
          GST_DS_SOUP_LIVENESS_TIMEOUT_MS / 1000);

      gst_ds_soup_connection_drop (conn, GST_DS_SOUP_FAILURE_NONE, reason);
      g_free (reason);
    } else if (now - conn->last_ping_us >= GST_DS_SOUP_PING_INTERVAL_MS * 1000) {
      gst_ds_soup_connection_send_ping (conn);
    }
  }

  if (conn->callbacks.tick)
    conn->callbacks.tick (conn, conn->user_data);

  return G_SOURCE_CONTINUE;
}

/* The thread */

static gboolean
gst_ds_soup_connection_deadline_cb (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

static void
gst_ds_soup_connection_ws_gone (gpointer data, GObject * where)
{
  guint *alive = data;

  (*alive)--;
}

static gpointer
gst_ds_soup_connection_thread (gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;
  GSource *deadline;
  gboolean expired = FALSE;
  guint alive = 0;

  g_main_context_push_thread_default (conn->context);

  conn->session = soup_session_new_with_options ("timeout",
      conn->settings.timeout, "user-agent", "gst-ds-stream/" VERSION, NULL);
  /* no permessage-deflate: frames are sent as they are (pictures are
   * compressed already), and the bytes handed to libsoup are the bytes it
   * writes (see gst_ds_soup_connection_get_backlog()) */
  soup_session_remove_feature_by_type (conn->session,
      SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);

  if (conn->settings.ssl_ca_file != NULL && *conn->settings.ssl_ca_file) {
    GError *error = NULL;
    GTlsDatabase *db = g_tls_file_database_new (conn->settings.ssl_ca_file,
        &error);

    if (db == NULL) {
      gchar *reason = g_strdup_printf ("cannot read ssl-ca-file '%s': %s",
          conn->settings.ssl_ca_file, error->message);

      g_error_free (error);
      conn->given_up = TRUE;
      if (conn->callbacks.failed)
        conn->callbacks.failed (conn, GST_DS_SOUP_FAILURE_TLS, reason,
            conn->user_data);
      g_free (reason);
    } else {
      soup_session_set_tls_database (conn->session, db);
      g_object_unref (db);
    }
  }

  conn->tick_source = g_timeout_source_new (1000);
  g_source_set_callback (conn->tick_source, gst_ds_soup_connection_tick_cb,
      conn, NULL);
  g_source_attach (conn->tick_source, conn->context);

  if (!conn->given_up)
    gst_ds_soup_connection_attempt (conn);

  if (!g_atomic_int_get (&conn->stopping))
    g_main_loop_run (conn->loop);

  /* Shutting down: cancel the handshake, cut the socket so that nothing
   * waits on the peer, and let libsoup finish its callbacks, within a
   * bounded time. */
  g_cancellable_cancel (conn->cancellable);
  g_source_destroy (conn->tick_source);
  g_clear_pointer (&conn->tick_source, g_source_unref);
  if (conn->retry_source) {
    g_source_destroy (conn->retry_source);
    g_clear_pointer (&conn->retry_source, g_source_unref);
  }
  if (conn->writable_source) {
    g_source_destroy (conn->writable_source);
    g_clear_pointer (&conn->writable_source, g_source_unref);
  }
  if (conn->ws) {
    SoupWebsocketConnection *ws = conn->ws;

    conn->ws = NULL;
    g_signal_handlers_disconnect_by_data (ws, conn);
    alive++;
    g_object_weak_ref (G_OBJECT (ws), gst_ds_soup_connection_ws_gone, &alive);
    if (conn->socket)
      g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
    g_object_unref (ws);
  }
  soup_session_abort (conn->session);

  deadline = g_timeout_source_new (GST_DS_SOUP_SHUTDOWN_TIMEOUT_MS);
  g_source_set_callback (deadline, gst_ds_soup_connection_deadline_cb,
      &expired, NULL);
  g_source_attach (deadline, conn->context);
  while ((conn->pending_ops > 0 || alive > 0) && !expired)
    g_main_context_iteration (conn->context, TRUE);
  g_source_destroy (deadline);
  g_source_unref (deadline);

  if (conn->pending_ops > 0 || alive > 0)
    GST_WARNING_OBJECT (conn->parent, "libsoup did not finish closing in "
        "%u ms", GST_DS_SOUP_SHUTDOWN_TIMEOUT_MS);

  g_clear_object (&conn->socket);
  g_clear_object (&conn->session);
  /* run what the session's disposal queued */
  while (g_main_context_iteration (conn->context, FALSE));

  g_main_context_pop_thread_default (conn->context);

  return NULL;
}

GstDsSoupConnection *
gst_ds_soup_connection_new (GstObject * parent,
    const GstDsSoupSettings * settings, const GstDsSoupCallbacks * callbacks,
    gpointer user_data)
{
  GstDsSoupConnection *conn;

  gst_ds_soup_init_debug ();

  conn = g_new0 (GstDsSoupConnection, 1);
  conn->parent = parent;
  gst_ds_soup_settings_copy (&conn->settings, settings);
  conn->callbacks = *callbacks;
  conn->user_data = user_data;
  conn->epoch_us = g_get_monotonic_time ();
  conn->rtt_ms = -1;
  g_mutex_init (&conn->lock);

  conn->context = g_main_context_new ();
  conn->loop = g_main_loop_new (conn->context, FALSE);
  conn->cancellable = g_cancellable_new ();
  conn->thread = g_thread_new ("dssoup", gst_ds_soup_connection_thread, conn);

  return conn;
}

static gboolean
gst_ds_soup_connection_quit_cb (gpointer user_data)
{
  GstDsSoupConnection *conn = user_data;

  g_main_loop_quit (conn->loop);
  return G_SOURCE_REMOVE;
}

void
gst_ds_soup_connection_free (GstDsSoupConnection * conn)
{
  GSource *source;

  if (conn == NULL)
    return;

  g_atomic_int_set (&conn->stopping, 1);
  g_cancellable_cancel (conn->cancellable);

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, gst_ds_soup_connection_quit_cb, conn, NULL);
  g_source_attach (source, conn->context);
  g_source_unref (source);

  g_thread_join (conn->thread);

  g_main_loop_unref (conn->loop);
  g_main_context_unref (conn->context);
  g_object_unref (conn->cancellable);
  g_free (conn->error_reason);
  gst_ds_soup_settings_clear (&conn->settings);
  g_mutex_clear (&conn->lock);
  g_free (conn);
}
