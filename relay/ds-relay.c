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
 * ds-relay: the ds-stream WebSocket relay (SPEC §6, docs/relay.md).
 *
 *   ds-relay [--host 127.0.0.1] [--port 9100] [options]
 *
 * Sources publish on ws://HOST:PORT/peer/{channel}, receivers read
 * ws://HOST:PORT/stream/{channel}, signaling clients talk on
 * ws://HOST:PORT/signal/{channel}. The first line on stdout is
 * "ds-relay: listening on http://HOST:PORT/"; the log goes to stderr.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include <ds/dsprotocol.h>
#include <ds/dssignal.h>

#include "relay.h"
#include "relay-channel.h"
#include "relay-cluster.h"
#include "relay-http.h"
#include "relay-log.h"
#include "relay-ws-client.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 9100
#define DEFAULT_MAX_FRAME_BYTES DS_DEFAULT_MAX_FRAME_BYTES
#define DEFAULT_MAX_QUEUE_BYTES (32 * 1024 * 1024)
#define DEFAULT_MAX_SIGNAL_BYTES DS_SIGNAL_DEFAULT_MAX_BYTES
#define DEFAULT_MAX_SIGNAL_KEYS DS_SIGNAL_DEFAULT_MAX_KEYS
/* 8K UHD (7680x4320) */
#define DEFAULT_MAX_PICTURE_PIXELS (7680 * 4320)
/* A 4K picture's keyframe plus a chain of deltas as large as the raw
 * picture (2 x 33 MB) fits; see docs/relay.md */
#define DEFAULT_MAX_CHANNEL_CACHE_BYTES (64 * 1024 * 1024)
#define MIN_MAX_CHANNEL_CACHE_BYTES 1024
#define DEFAULT_IDLE_GRACE 60.0
#define DEFAULT_SOURCE_GRACE 30.0
#define DEFAULT_STUCK_TIMEOUT 30.0
#define DEFAULT_KEYFRAME_REQUEST_INTERVAL 0.5
#define DEFAULT_HANDSHAKE_TIMEOUT 10.0
#define DEFAULT_TLS_HANDSHAKE_TIMEOUT 5.0
#define MAX_HANDSHAKE_TIMEOUT 60.0
#define DEFAULT_MAX_CLIENTS_PER_ADDRESS 256
/* below the 10 threads of GLib's shared pool, where glib-networking runs
 * every handshake */
#define DEFAULT_MAX_TLS_HANDSHAKES 8
#define DEFAULT_MAX_TLS_HANDSHAKES_PER_ADDRESS 4
#define DEFAULT_KEEPALIVE 30
#define DEFAULT_MAX_CHANNELS 1024
#define DEFAULT_MAX_CLIENTS 4096
#define LISTEN_BACKLOG 1024
/* as the viewer's ?relays= (relay/viewer/core/relays.js) */
#define MAX_VIEWER_RELAYS 16
#define MAX_VIEWER_RELAY_LENGTH 256
#define SHUTDOWN_TIMEOUT_MS 3000
#define HOUSEKEEPING_INTERVAL_MS 100

static gboolean
relay_housekeeping_cb (gpointer user_data)
{
  relay_ws_client_housekeeping (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
relay_shutdown_timeout_cb (gpointer user_data)
{
  DsRelay *relay = user_data;

  relay_log ("%u clients did not close in time, exiting", relay->n_clients);
  g_main_loop_quit (relay->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
relay_signal_cb (gpointer user_data)
{
  DsRelay *relay = user_data;

  if (relay->shutting_down) {
    g_main_loop_quit (relay->loop);
    return G_SOURCE_CONTINUE;
  }
  relay->shutting_down = TRUE;
  relay_log ("shutting down: closing %u clients", relay->n_clients);
  relay_close_all (relay, RELAY_WS_CLOSE_GOING_AWAY, "ds-relay shutting down");
  relay_http_stop (relay);
  if (relay->n_clients == 0)
    g_main_loop_quit (relay->loop);
  else
    g_timeout_add (SHUTDOWN_TIMEOUT_MS, relay_shutdown_timeout_cb, relay);
  return G_SOURCE_CONTINUE;
}

static void
relay_raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit (RLIMIT_NOFILE, &limit);
  }
}

/* Frees the strings the option parser allocated */
static void
relay_settings_clear (RelaySettings * s)
{
  g_clear_pointer (&s->host, g_free);
  g_clear_pointer (&s->tls_cert, g_free);
  g_clear_pointer (&s->tls_key, g_free);
  g_clear_pointer (&s->publish_token, g_free);
  g_clear_pointer (&s->subscribe_token, g_free);
  g_clear_pointer (&s->view_token, g_free);
  g_clear_pointer (&s->allowed_origins, g_strfreev);
  g_clear_pointer (&s->allowed_hosts, g_strfreev);
  g_clear_pointer (&s->viewer_relays, g_strfreev);
  g_clear_pointer (&s->cluster, g_free);
  g_clear_pointer (&s->cluster_user, g_free);
  g_clear_pointer (&s->cluster_password, g_free);
  g_clear_pointer (&s->cluster_token, g_free);
  g_clear_pointer (&s->publish_token_file, g_free);
  g_clear_pointer (&s->subscribe_token_file, g_free);
  g_clear_pointer (&s->view_token_file, g_free);
  g_clear_pointer (&s->cluster_password_file, g_free);
  g_clear_pointer (&s->cluster_token_file, g_free);
  g_clear_pointer (&s->cluster_ca, g_free);
  g_clear_pointer (&s->cluster_cert, g_free);
  g_clear_pointer (&s->cluster_key, g_free);
  g_clear_pointer (&s->cluster_name, g_free);
  g_clear_pointer (&s->node_id, g_free);
}

/* A --viewer-relay: a relay's base as the viewer takes it in ?relays=
 * (relay/viewer/core/relays.js), written into its page: ws:// or wss://,
 * a host, an optional port and path prefix, nothing the page would have
 * to escape or the viewer would refuse */
static gboolean
relay_check_viewer_relay (const gchar * url, GError ** error)
{
  static const gchar *const endpoints[] = { "stream", "peer", "signal", "view",
    "channels"
  };
  const gchar *why = NULL;
  GUri *uri = NULL;
  gchar **parts;
  guint i;

  if (strlen (url) > MAX_VIEWER_RELAY_LENGTH)
    why = "longer than 256 characters";
  else if (url[strspn (url, "abcdefghijklmnopqrstuvwxyz"
              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~:/[]%")] != '\0')
    why = "only letters, digits and . - _ ~ : / [ ] % are taken";
  else if (!g_str_has_prefix (url, "ws://") && !g_str_has_prefix (url,
          "wss://"))
    why = "not a ws:// or wss:// URL";
  else if ((uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL)) == NULL ||
      g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    why = "not a URL with a host";
  if (why == NULL) {
    parts = g_strsplit (g_uri_get_path (uri), "/", -1);
    for (i = 0; why == NULL && parts[i]; i++) {
      guint j;

      for (j = 0; j < G_N_ELEMENTS (endpoints); j++) {
        if (strcmp (parts[i], endpoints[j]) == 0)
          why = "a relay's base (ws://HOST:PORT), not an endpoint: the viewer "
              "adds /stream/CHANNEL";
      }
    }
    g_strfreev (parts);
  }
  if (uri)
    g_uri_unref (uri);
  if (why != NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--viewer-relay \"%s\": %s", url, why);
    return FALSE;
  }
  return TRUE;
}

/* The largest secret file read: tokens and passwords are short */
#define MAX_SECRET_FILE_BYTES 4096

/* --OPTION-file @path: the secret in it, without one trailing newline
 * (CR LF too), into *@value; the value must not also be given as --OPTION
 * (@option), must not be empty and must hold no control character (it
 * goes into HTTP headers, URLs and the NATS protocol). Keeps secrets out
 * of the command line, which every user of the machine can read in /proc
 * (systemd: LoadCredential= and %d, docs/cluster.md). */
static gboolean
relay_read_secret_file (const gchar * option, const gchar * path,
    gchar ** value, GError ** error)
{
  gchar buf[MAX_SECRET_FILE_BYTES + 1];
  const gchar *why = NULL;
  struct stat st;
  gsize len = 0, i;
  gint fd, saved = 0;

  if (path == NULL)
    return TRUE;
  if (*value != NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--%s and --%s-file: give one of them", option, option);
    return FALSE;
  }
  /* not blocking in open() on a FIFO nobody writes to; a pipe (a
   * process substitution, /dev/stdin) is read to its end */
  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) {
    saved = errno;
  } else if (fstat (fd, &st) != 0) {
    saved = errno;
  } else if (!S_ISREG (st.st_mode) && !S_ISFIFO (st.st_mode)) {
    why = "not a file or a pipe";
  } else if (fcntl (fd, F_SETFL, 0) != 0) {
    saved = errno;
  } else {
    while (len < sizeof (buf)) {
      gssize n = read (fd, buf + len, sizeof (buf) - len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        saved = errno;
        break;
      }
      if (n == 0)
        break;
      len += n;
    }
    if (saved == 0 && len > MAX_SECRET_FILE_BYTES)
      why = "more than " G_STRINGIFY (MAX_SECRET_FILE_BYTES) " bytes (a token "
          "or password, not a key file)";
  }
  if (fd >= 0)
    close (fd);
  if (saved != 0)
    why = g_strerror (saved);
  if (why == NULL) {
    if (len > 0 && buf[len - 1] == '\n')
      len--;
    if (len > 0 && buf[len - 1] == '\r')
      len--;
    for (i = 0; i < len; i++)
      if ((guchar) buf[i] < 0x20 || buf[i] == 0x7f)
        break;
    if (len == 0)
      why = "empty";
    else if (i < len)
      why = "a control character (a line break, NUL ...) before its end: "
          "one line, the secret alone";
  }
  if (why != NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--%s-file \"%s\": %s", option, path, why);
    explicit_bzero (buf, sizeof (buf));
    return FALSE;
  }
  *value = g_strndup (buf, len);
  explicit_bzero (buf, sizeof (buf));
  return TRUE;
}

static gboolean
relay_check_settings (RelaySettings * s, GError ** error)
{
  guint n, i;

  if (s->port < 0 || s->port > 65535) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--port must be 0-65535 (0 = any free port), not %d", s->port);
    return FALSE;
  }
  if ((s->tls_cert == NULL) != (s->tls_key == NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--tls-cert and --tls-key go together");
    return FALSE;
  }
  if (s->max_frame_bytes < DS_HEADER_SIZE || s->max_frame_bytes > G_MAXUINT32) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--max-frame-bytes must be %d-%u, not %" G_GINT64_FORMAT,
        DS_HEADER_SIZE, G_MAXUINT32, s->max_frame_bytes);
    return FALSE;
  }
  if (s->max_queue_bytes < 1024) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--max-queue-bytes must be at least 1024, not %" G_GINT64_FORMAT,
        s->max_queue_bytes);
    return FALSE;
  }
  if (s->max_signal_bytes < 2 || s->max_signal_bytes > G_MAXUINT32) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--max-signal-bytes must be 2-%u, not %" G_GINT64_FORMAT,
        G_MAXUINT32, s->max_signal_bytes);
    return FALSE;
  }
  if (s->max_picture_pixels < 1 ||
      s->max_picture_pixels > (gint64) G_MAXUINT16 * G_MAXUINT16) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--max-picture-pixels must be 1-%" G_GINT64_FORMAT ", not %"
        G_GINT64_FORMAT, (gint64) G_MAXUINT16 * G_MAXUINT16,
        s->max_picture_pixels);
    return FALSE;
  }
  if (s->max_channel_cache_bytes < MIN_MAX_CHANNEL_CACHE_BYTES) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--max-channel-cache-bytes must be at least %d, not %"
        G_GINT64_FORMAT, MIN_MAX_CHANNEL_CACHE_BYTES,
        s->max_channel_cache_bytes);
    return FALSE;
  }
  n = s->viewer_relays ? g_strv_length (s->viewer_relays) : 0;
  if (n > MAX_VIEWER_RELAYS) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--viewer-relay given %u times, at most %d", n, MAX_VIEWER_RELAYS);
    return FALSE;
  }
  for (i = 0; i < n; i++) {
    if (!relay_check_viewer_relay (s->viewer_relays[i], error))
      return FALSE;
  }
  if (s->max_signal_keys < 1) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--max-signal-keys must be at least 1, not %d", s->max_signal_keys);
    return FALSE;
  }
  if (!(s->keyframe_request_interval >= 0 &&
          s->keyframe_request_interval <= 60)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--keyframe-request-interval must be 0-60 seconds, not %g",
        s->keyframe_request_interval);
    return FALSE;
  }
  if (s->idle_grace < 0 || s->source_grace < 0 || s->stuck_timeout <= 0 ||
      s->idle_grace > 86400 || s->source_grace > 86400 ||
      s->stuck_timeout > 86400) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--idle-grace, --source-grace must be 0-86400 seconds and "
        "--stuck-timeout more than 0");
    return FALSE;
  }
  if (s->handshake_timeout < 0 || s->handshake_timeout > MAX_HANDSHAKE_TIMEOUT
      || s->tls_handshake_timeout <= 0 ||
      s->tls_handshake_timeout > MAX_HANDSHAKE_TIMEOUT) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--handshake-timeout must be 0-60 seconds (0 = 60) and "
        "--tls-handshake-timeout more than 0, at most 60");
    return FALSE;
  }
  if (s->keepalive < 0 || s->max_channels < 0 || s->max_clients < 0 ||
      s->max_clients_per_address < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--keepalive, --max-channels, --max-clients and "
        "--max-clients-per-address cannot be negative");
    return FALSE;
  }
  if (s->max_tls_handshakes < 1 || s->max_tls_handshakes > 4096 ||
      s->max_tls_handshakes_per_address < 1 ||
      s->max_tls_handshakes_per_address > s->max_tls_handshakes) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--max-tls-handshakes must be 1-4096 and "
        "--max-tls-handshakes-per-address 1 to --max-tls-handshakes");
    return FALSE;
  }
  if (s->allowed_hosts) {
    gchar **host;

    for (host = s->allowed_hosts; *host; host++) {
      if ((*host)[0] == '\0' || strchr (*host, '/') || strchr (*host, ' ')) {
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
            "--allowed-host takes NAME or NAME:PORT, not \"%s\"", *host);
        return FALSE;
      }
    }
  }
  if (s->host == NULL || s->host[0] == '\0') {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--host cannot be empty");
    return FALSE;
  }
  return relay_cluster_check_settings (s, error);
}

static GSocket *
relay_listen_socket (RelaySettings * s, guint * port, GError ** error)
{
  GInetAddress *address = g_inet_address_new_from_string (s->host);
  GSocketAddress *socket_address;
  GSocket *socket;

  if (address == NULL) {
    GResolver *resolver = g_resolver_get_default ();
    GList *addresses = g_resolver_lookup_by_name (resolver, s->host, NULL,
        error);

    g_object_unref (resolver);
    if (addresses == NULL)
      return NULL;
    address = g_object_ref (addresses->data);
    g_resolver_free_addresses (addresses);
  }

  socket = g_socket_new (g_inet_address_get_family (address),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL) {
    g_object_unref (address);
    return NULL;
  }
  socket_address = g_inet_socket_address_new (address, s->port);
  g_object_unref (address);
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, socket_address, TRUE, error) ||
      !g_socket_listen (socket, error)) {
    g_object_unref (socket_address);
    g_object_unref (socket);
    return NULL;
  }
  g_object_unref (socket_address);

  socket_address = g_socket_get_local_address (socket, error);
  if (socket_address == NULL) {
    g_object_unref (socket);
    return NULL;
  }
  *port =
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (socket_address));
  g_object_unref (socket_address);
  return socket;
}

int
main (int argc, char **argv)
{
  DsRelay relay = { 0, };
  RelaySettings *s = &relay.settings;
  GOptionContext *context;
  GError *error = NULL;
  GTlsCertificate *certificate = NULL;
  GSocket *socket;
  guint port = 0;
  gchar *host_text;
  gint64 max_frame_bytes = DEFAULT_MAX_FRAME_BYTES;
  gint64 max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  gint64 max_signal_bytes = DEFAULT_MAX_SIGNAL_BYTES;
  gint max_signal_keys = DEFAULT_MAX_SIGNAL_KEYS;
  gint64 max_picture_pixels = DEFAULT_MAX_PICTURE_PIXELS;
  gint64 max_channel_cache_bytes = DEFAULT_MAX_CHANNEL_CACHE_BYTES;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &s->host,
          "Address to listen on (default " DEFAULT_HOST
          ", loopback only; use 0.0.0.0 or :: to accept other machines)",
        "ADDRESS"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &s->port,
          "TCP port (default 9100; 0 = any free port, printed on stdout)",
        "PORT"},
    {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &s->tls_cert,
          "PEM certificate: serve wss:// and https:// (needs --tls-key)",
        "FILE"},
    {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &s->tls_key,
        "PEM private key of --tls-cert", "FILE"},
    {"publish-token", 0, 0, G_OPTION_ARG_STRING, &s->publish_token,
        "Token sources need on /peer/ (Authorization: Bearer TOKEN or "
          "?token=TOKEN); wrong or missing: 401", "TOKEN"},
    {"subscribe-token", 0, 0, G_OPTION_ARG_STRING, &s->subscribe_token,
        "Token receivers need on /stream/ (and signaling clients on "
          "/signal/)", "TOKEN"},
    {"view-token", 0, 0, G_OPTION_ARG_STRING, &s->view_token,
          "Read-only token for /stream/: such receivers are view-only",
        "TOKEN"},
    {"publish-token-file", 0, 0, G_OPTION_ARG_FILENAME,
          &s->publish_token_file,
        "--publish-token read from FILE (one line), kept off the command "
          "line", "FILE"},
    {"subscribe-token-file", 0, 0, G_OPTION_ARG_FILENAME,
          &s->subscribe_token_file, "--subscribe-token read from FILE",
        "FILE"},
    {"view-token-file", 0, 0, G_OPTION_ARG_FILENAME, &s->view_token_file,
        "--view-token read from FILE", "FILE"},
    {"view-only", 0, 0, G_OPTION_ARG_NONE, &s->view_only,
        "Every receiver is view-only: its input is dropped", NULL},
    {"allowed-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &s->allowed_origins,
        "A web page origin (scheme://host[:port]) whose pages may connect; "
          "repeatable; \"*\" = any. Always allowed: requests without Origin "
          "(non-browser clients) and pages served by the relay itself; "
          "others get 403", "ORIGIN"},
    {"allowed-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &s->allowed_hosts,
        "A host name (NAME or NAME:PORT) browsers may use to reach the relay, "
          "for its own pages' WebSockets (DNS names, reverse proxies); "
          "repeatable; \"*\" = any. Always served: IP addresses, and "
          "localhost names when listening on loopback or on all addresses; "
          "others get 403 when the request has an Origin", "HOST"},
    {"viewer-relay", 0, 0, G_OPTION_ARG_STRING_ARRAY, &s->viewer_relays,
        "A relay of the cluster (ws://HOST:PORT or wss://HOST:PORT) the "
          "viewer page moves to when its connection fails; repeatable, in "
          "order, at most 16 (docs/cluster.md)", "URL"},
    {"max-frame-bytes", 0, 0, G_OPTION_ARG_INT64, &max_frame_bytes,
        "Largest frame payload accepted from a source, in bytes (default "
          "67108864); a larger message closes the sender with 1009 "
          "(receivers may send 64 KiB, signaling clients 1 MiB)", "BYTES"},
    {"max-queue-bytes", 0, 0, G_OPTION_ARG_INT64, &max_queue_bytes,
        "Bytes queued per client before it is treated as slow and no longer "
          "read from until it reads (default 33554432)", "BYTES"},
    {"max-signal-bytes", 0, 0, G_OPTION_ARG_INT64, &max_signal_bytes,
        "Largest signal frame (SignalSync, SignalDiff) and largest merged "
          "signal state of a channel, in bytes of JSON (default 1048576); "
          "a frame over it, or one that would take the state over it, is "
          "dropped and counted", "BYTES"},
    {"max-signal-keys", 0, 0, G_OPTION_ARG_INT, &max_signal_keys,
        "Most signals (top-level keys) in a signal frame and in a "
          "channel's merged state (default 10000); beyond: dropped and "
          "counted", "N"},
    {"max-picture-pixels", 0, 0, G_OPTION_ARG_INT64, &max_picture_pixels,
        "Largest picture (width x height) a source may send; a picture "
          "frame announcing more is dropped, not cached nor forwarded "
          "(default 33177600, 8K: 7680x4320)", "PIXELS"},
    {"max-channel-cache-bytes", 0, 0, G_OPTION_ARG_INT64,
          &max_channel_cache_bytes,
        "Bytes a channel may keep for late joiners (keyframe, deltas, "
          "image, schema, End); a longer delta chain is collapsed into one "
          "picture or dropped (default 67108864)", "BYTES"},
    {"idle-grace", 0, 0, G_OPTION_ARG_DOUBLE, &s->idle_grace,
          "Seconds an empty channel is kept before it is removed (default 60)",
        "SECONDS"},
    {"source-grace", 0, 0, G_OPTION_ARG_DOUBLE, &s->source_grace,
        "Seconds a channel keeps its cached state after its source left "
          "(default 30)", "SECONDS"},
    {"keyframe-request-interval", 0, 0, G_OPTION_ARG_DOUBLE,
          &s->keyframe_request_interval,
        "Seconds between two KeyframeRequests the relay sends a source; "
          "requests in between are coalesced into one sent when the "
          "interval is over (default 0.5; 0 = each at once)", "SECONDS"},
    {"stuck-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &s->stuck_timeout,
        "Seconds without write progress before a client (any role) is "
          "closed as too slow (default 30)", "SECONDS"},
    {"handshake-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &s->handshake_timeout,
        "Seconds a connection has from accept until its request is answered "
          "or upgraded, TLS handshake included (default 10, at most 60; "
          "0 = 60)", "SECONDS"},
    {"tls-handshake-timeout", 0, 0, G_OPTION_ARG_DOUBLE,
          &s->tls_handshake_timeout,
          "Seconds a connection has for its TLS handshake (default 5)",
        "SECONDS"},
    {"max-tls-handshakes", 0, 0, G_OPTION_ARG_INT, &s->max_tls_handshakes,
        "Most TLS handshakes in progress at once, counted from a complete "
          "ClientHello; more wait their turn (default 8)", "N"},
    {"max-tls-handshakes-per-address", 0, 0, G_OPTION_ARG_INT,
          &s->max_tls_handshakes_per_address,
        "Most TLS handshakes in progress from one client address; a new "
          "one drops that address's oldest (default 4)", "N"},
    {"max-clients-per-address", 0, 0, G_OPTION_ARG_INT,
          &s->max_clients_per_address,
        "Most connections from one client address, counted from accept "
          "(default 256; 0 = no limit; behind a reverse proxy every client "
          "has the proxy's address)", "N"},
    {"keepalive", 0, 0, G_OPTION_ARG_INT, &s->keepalive,
        "Seconds between WebSocket pings; silent peers are closed after "
          "three intervals (default 30; 0 = off)", "SECONDS"},
    {"max-channels", 0, 0, G_OPTION_ARG_INT, &s->max_channels,
        "Most channels at once (default 1024; 0 = no limit)", "N"},
    {"max-clients", 0, 0, G_OPTION_ARG_INT, &s->max_clients,
        "Most WebSocket clients at once (default 4096; 0 = no limit)", "N"},
    {"cluster", 0, 0, G_OPTION_ARG_STRING, &s->cluster,
        "Serve channels together with the other relays on these NATS "
          "servers (docs/cluster.md)", "nats://HOST:PORT[,nats://...]"},
    {"cluster-user", 0, 0, G_OPTION_ARG_STRING, &s->cluster_user,
        "NATS user (with --cluster-password)", "USER"},
    {"cluster-password", 0, 0, G_OPTION_ARG_STRING, &s->cluster_password,
        "NATS password of --cluster-user", "PASSWORD"},
    {"cluster-token", 0, 0, G_OPTION_ARG_STRING, &s->cluster_token,
        "NATS token", "TOKEN"},
    {"cluster-password-file", 0, 0, G_OPTION_ARG_FILENAME,
          &s->cluster_password_file, "--cluster-password read from FILE",
        "FILE"},
    {"cluster-token-file", 0, 0, G_OPTION_ARG_FILENAME,
        &s->cluster_token_file, "--cluster-token read from FILE", "FILE"},
    {"cluster-ca", 0, 0, G_OPTION_ARG_FILENAME, &s->cluster_ca,
        "PEM CA certificates: TLS to NATS, verified against them", "FILE"},
    {"cluster-cert", 0, 0, G_OPTION_ARG_FILENAME, &s->cluster_cert,
        "PEM client certificate for NATS (needs --cluster-key)", "FILE"},
    {"cluster-key", 0, 0, G_OPTION_ARG_FILENAME, &s->cluster_key,
        "PEM private key of --cluster-cert", "FILE"},
    {"cluster-name", 0, 0, G_OPTION_ARG_STRING, &s->cluster_name,
        "Prefix of the cluster's NATS subjects (default ds): relays with "
          "the same one serve the same channels", "NAME"},
    {"node-id", 0, 0, G_OPTION_ARG_STRING, &s->node_id,
        "This node's id in the cluster, 1-16 hex digits (default: random "
          "at start, in the log)", "HEX"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &s->verbose,
        "Log every frame", NULL},
    {NULL}
  };

  g_log_set_writer_func (relay_log_writer, NULL, NULL);

  s->port = DEFAULT_PORT;
  s->idle_grace = DEFAULT_IDLE_GRACE;
  s->source_grace = DEFAULT_SOURCE_GRACE;
  s->stuck_timeout = DEFAULT_STUCK_TIMEOUT;
  s->keyframe_request_interval = DEFAULT_KEYFRAME_REQUEST_INTERVAL;
  s->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
  s->tls_handshake_timeout = DEFAULT_TLS_HANDSHAKE_TIMEOUT;
  s->max_clients_per_address = DEFAULT_MAX_CLIENTS_PER_ADDRESS;
  s->max_tls_handshakes = DEFAULT_MAX_TLS_HANDSHAKES;
  s->max_tls_handshakes_per_address = DEFAULT_MAX_TLS_HANDSHAKES_PER_ADDRESS;
  s->keepalive = DEFAULT_KEEPALIVE;
  s->max_channels = DEFAULT_MAX_CHANNELS;
  s->max_clients = DEFAULT_MAX_CLIENTS;

  context = g_option_context_new ("- the ds-stream WebSocket relay");
  g_option_context_set_summary (context,
      "Sources publish on ws://HOST:PORT/peer/CHANNEL, receivers read "
      "ws://HOST:PORT/stream/CHANNEL,\nsignaling clients use "
      "ws://HOST:PORT/signal/CHANNEL. HTTP: /healthz, /channels, /metrics,\n"
      "and a browser viewer at / and /view/CHANNEL.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    goto bad_option;
  g_option_context_free (context);
  context = NULL;
  if (argc > 1) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "unexpected argument \"%s\"", argv[1]);
    goto bad_option;
  }
  if (s->host == NULL)
    s->host = g_strdup (DEFAULT_HOST);
  s->max_frame_bytes = max_frame_bytes;
  s->max_queue_bytes = max_queue_bytes;
  s->max_signal_bytes = max_signal_bytes;
  s->max_signal_keys = max_signal_keys;
  s->max_picture_pixels = max_picture_pixels;
  s->max_channel_cache_bytes = max_channel_cache_bytes;
  if (!relay_read_secret_file ("publish-token", s->publish_token_file,
          &s->publish_token, &error)
      || !relay_read_secret_file ("subscribe-token", s->subscribe_token_file,
          &s->subscribe_token, &error)
      || !relay_read_secret_file ("view-token", s->view_token_file,
          &s->view_token, &error)
      || !relay_read_secret_file ("cluster-password",
          s->cluster_password_file, &s->cluster_password, &error)
      || !relay_read_secret_file ("cluster-token", s->cluster_token_file,
          &s->cluster_token, &error))
    goto bad_option;
  if (!relay_check_settings (s, &error))
    goto bad_option;

  if (s->tls_cert) {
    certificate = g_tls_certificate_new_from_files (s->tls_cert, s->tls_key,
        &error);
    if (certificate == NULL)
      goto bad_option;
  }

  signal (SIGPIPE, SIG_IGN);
  relay_raise_fd_limit ();
  relay_log_set_verbose (s->verbose);

  relay.loop = g_main_loop_new (NULL, FALSE);
  relay_channels_init (&relay, relay_clock_get_system ());

  socket = relay_listen_socket (s, &port, &error);
  if (socket == NULL) {
    g_clear_object (&certificate);
    goto listen_failed;
  }
  relay_http_start (&relay, socket, certificate);
  g_object_unref (socket);
  g_clear_object (&certificate);

  if (strchr (s->host, ':'))
    host_text = g_strdup_printf ("[%s]", s->host);
  else
    host_text = g_strdup (s->host);
  fprintf (stdout, "ds-relay: listening on %s://%s:%u/\n",
      s->tls_cert ? "https" : "http", host_text, port);
  fflush (stdout);
  relay_log ("version %s, max frame %" G_GINT64_FORMAT " bytes, max queue %"
      G_GINT64_FORMAT " bytes per receiver%s%s%s", VERSION,
      s->max_frame_bytes, s->max_queue_bytes,
      s->publish_token ? ", publish token set" : "",
      s->subscribe_token ? ", subscribe token set" : "",
      s->view_only ? ", view-only" : "");
  g_free (host_text);
  relay_log ("max picture %" G_GINT64_FORMAT " pixels, max cache %"
      G_GINT64_FORMAT " bytes per channel", s->max_picture_pixels,
      s->max_channel_cache_bytes);
  if (s->cluster) {
    relay.cluster = relay_cluster_new (&relay, &error);
    if (relay.cluster == NULL)
      goto cluster_failed;
  }

  g_unix_signal_add (SIGINT, relay_signal_cb, &relay);
  g_unix_signal_add (SIGTERM, relay_signal_cb, &relay);
  relay.housekeeping_id = g_timeout_add (HOUSEKEEPING_INTERVAL_MS,
      relay_housekeeping_cb, &relay);

  g_main_loop_run (relay.loop);

  relay_log ("stopped");
  g_clear_handle_id (&relay.housekeeping_id, g_source_remove);
  g_clear_pointer (&relay.cluster, relay_cluster_free);
  relay_http_free (&relay);
  relay_channels_free (&relay);
  g_main_loop_unref (relay.loop);
  relay_settings_clear (s);
  return relay.exit_code;

  /* ERRORS */
bad_option:
  {
    fprintf (stderr, "ds-relay: %s (see --help)\n", error->message);
    g_clear_error (&error);
    if (context)
      g_option_context_free (context);
    relay_settings_clear (s);
    return 2;
  }
cluster_failed:
  {
    fprintf (stderr, "ds-relay: --cluster: %s\n", error->message);
    g_clear_error (&error);
    relay_http_free (&relay);
    relay_channels_free (&relay);
    g_main_loop_unref (relay.loop);
    relay_settings_clear (s);
    return 1;
  }
listen_failed:
  {
    fprintf (stderr, "ds-relay: cannot listen on %s port %d: %s\n", s->host,
        s->port, error->message);
    g_clear_error (&error);
    relay_channels_free (&relay);
    g_main_loop_unref (relay.loop);
    relay_settings_clear (s);
    return 1;
  }
}
