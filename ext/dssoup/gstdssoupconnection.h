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
 * The WebSocket client side shared by dsrelaysink and dsstreamsrc
 * (internal): one thread per element running a private GMainContext, on
 * which all libsoup objects live; connecting with a timeout (to a list of
 * locations, round robin), reconnecting with capped exponential backoff
 * and jitter after network failures and HTTP 503 only (an HTTP 4xx answer, a refused certificate or a take-over
 * by another source ends the retries), classifying failures so the
 * elements can tell the user what to do, a Ping every 5 s (round-trip
 * time) and a liveness check, and a prompt, leak-free shutdown.
 *
 * Every callback runs on the connection thread. The element hands work to
 * that thread with gst_ds_soup_connection_wakeup(), which calls the
 * writable callback there; the send functions may only be called on the
 * connection thread (from a callback).
 */

#ifndef __GST_DS_SOUP_CONNECTION_H__
#define __GST_DS_SOUP_CONNECTION_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* A Ping every 5 s (SPEC §6.6) */
#define GST_DS_SOUP_PING_INTERVAL_MS 5000
/* A connection on which nothing arrived (not even a Ping echo) for this
 * long, and which did not take any of the data waiting to be sent either,
 * is considered dead and replaced. */
#define GST_DS_SOUP_LIVENESS_TIMEOUT_MS 15000
/* How often a sender looks again while libsoup still holds bytes */
#define GST_DS_SOUP_BACKLOG_POLL_MS 2
/* The longest a shutdown waits for libsoup to finish closing */
#define GST_DS_SOUP_SHUTDOWN_TIMEOUT_MS 300
/* A connection that the relay closes sooner than this after the
 * handshake is not reconnected at once but after the backoff (growing
 * with every such short connection in a row), so that a relay that keeps
 * closing what it accepts is not hammered */
#define GST_DS_SOUP_STABLE_MS 5000
/* The close code of ds-relay for a source that another source took the
 * channel from (docs/relay.md) */
#define GST_DS_SOUP_CLOSE_TAKEN_OVER 4000

typedef struct _GstDsSoupConnection GstDsSoupConnection;

typedef enum
{
  GST_DS_SOUP_FAILURE_NONE = 0,
  /* final: retrying cannot help */
  GST_DS_SOUP_FAILURE_BAD_URL,          /* not a ws:// or wss:// URL */
  GST_DS_SOUP_FAILURE_UNAUTHORIZED,     /* HTTP 401: token */
  GST_DS_SOUP_FAILURE_FORBIDDEN,        /* HTTP 403: Origin, forbidden */
  GST_DS_SOUP_FAILURE_NOT_FOUND,        /* HTTP 404: path */
  GST_DS_SOUP_FAILURE_BAD_REQUEST,      /* HTTP 400: channel name */
  GST_DS_SOUP_FAILURE_REJECTED,         /* any other HTTP 4xx */
  GST_DS_SOUP_FAILURE_TLS,              /* certificate not accepted */
  GST_DS_SOUP_FAILURE_PROTOCOL,         /* no WebSocket there (2xx, 3xx) */
  GST_DS_SOUP_FAILURE_TAKEN_OVER,       /* closed 4000: another source */
  GST_DS_SOUP_FAILURE_CLOSED,           /* closed for what was sent */
  GST_DS_SOUP_FAILURE_WRONG_ROLE,       /* the relay took us for another role */
  /* retried with backoff */
  GST_DS_SOUP_FAILURE_RESOLVE,          /* the host name does not resolve */
  GST_DS_SOUP_FAILURE_REFUSED,          /* connection refused */
  GST_DS_SOUP_FAILURE_NETWORK,          /* unreachable, reset, lost */
  GST_DS_SOUP_FAILURE_TIMEOUT,          /* connect or handshake timed out */
  GST_DS_SOUP_FAILURE_UNAVAILABLE,      /* HTTP 503 (and 500, 502, 504) */
} GstDsSoupFailure;

/* What a location is for: the relay's path of that role is /peer/CHANNEL
 * for a source and /stream/CHANNEL for a receiver */
typedef enum
{
  GST_DS_SOUP_ROLE_SOURCE,
  GST_DS_SOUP_ROLE_RECEIVER,
} GstDsSoupRole;

typedef struct
{
  gchar *location;              /* the first of locations */
  gchar **locations;            /* tried in turn (round robin) */
  gchar *token;                 /* sent as "Authorization: Bearer TOKEN" */
  gint retries;                 /* -1: forever */
  guint retry_delay;            /* ms, first retry */
  guint max_retry_delay;        /* ms, cap of the backoff */
  guint timeout;                /* s, connect + handshake */
  gboolean ssl_strict;
  gchar *ssl_ca_file;
  guint64 max_message_size;     /* bytes, incoming */
} GstDsSoupSettings;

typedef struct
{
  void (*connected) (GstDsSoupConnection * conn, gboolean reconnect,
      gpointer user_data);
  void (*disconnected) (GstDsSoupConnection * conn, const gchar * reason,
      gpointer user_data);
  /* one attempt failed; another follows after @delay_ms */
  void (*attempt_failed) (GstDsSoupConnection * conn,
      GstDsSoupFailure failure, const gchar * reason, guint attempt,
      guint delay_ms, gpointer user_data);
  /* a final failure (see gst_ds_soup_failure_is_final()), or the
   * retries ran out: the connection stays down */
  void (*failed) (GstDsSoupConnection * conn, GstDsSoupFailure failure,
      const gchar * reason, gpointer user_data);
  /* one binary message (Ping echoes are handled here, not passed on) */
  void (*message) (GstDsSoupConnection * conn, GBytes * message,
      gpointer user_data);
  /* the answer to a Ping sent with gst_ds_soup_connection_send_ping() */
  void (*pong) (GstDsSoupConnection * conn, guint16 seq, guint rtt_ms,
      gpointer user_data);
  /* connected and work may be pending: send what can be sent */
  void (*writable) (GstDsSoupConnection * conn, gpointer user_data);
  /* once a second */
  void (*tick) (GstDsSoupConnection * conn, gpointer user_data);
} GstDsSoupCallbacks;

const gchar *         gst_ds_soup_failure_name          (GstDsSoupFailure failure);
/* TRUE for the failures that end the retries at once */
gboolean              gst_ds_soup_failure_is_final      (GstDsSoupFailure failure);

/* Checks @location before connecting: a ws:// or wss:// URL with a host
 * and a channel path, whose path is not that of another role of ds-relay
 * (/peer/, /stream/, /signal/ or /view/ before the channel name). A path
 * of no role is accepted (a reverse proxy may map it). Otherwise posts an
 * error on @element that names the URL of @role that was probably meant,
 * and returns FALSE. */
gboolean              gst_ds_soup_check_location        (GstElement * element,
                                                         GstDsSoupRole role,
                                                         const gchar * location);
/* gst_ds_soup_check_location() for each of the locations of @settings
 * (an error when there is none) */
gboolean              gst_ds_soup_check_locations       (GstElement * element,
                                                         GstDsSoupRole role,
                                                         const GstDsSoupSettings * settings);

/* Posts the error for a final @failure (or retries run out) on @element:
 * a translated message saying what to do, and @location and @reason as
 * the untranslated details. */
void                  gst_ds_soup_post_failure          (GstElement * element,
                                                         GstDsSoupRole role,
                                                         GstDsSoupFailure failure,
                                                         const gchar * location,
                                                         const gchar * reason);

/* The connection properties both network elements have, declared and
 * documented once: location, token, retries, retry-delay,
 * max-retry-delay, timeout, ssl-strict, ssl-ca-file */
typedef enum
{
  GST_DS_SOUP_PROP_LOCATION,
  GST_DS_SOUP_PROP_TOKEN,
  GST_DS_SOUP_PROP_RETRIES,
  GST_DS_SOUP_PROP_RETRY_DELAY,
  GST_DS_SOUP_PROP_MAX_RETRY_DELAY,
  GST_DS_SOUP_PROP_TIMEOUT,
  GST_DS_SOUP_PROP_SSL_STRICT,
  GST_DS_SOUP_PROP_SSL_CA_FILE,
  GST_DS_SOUP_PROP_LOCATIONS,
  GST_DS_SOUP_N_PROPS
} GstDsSoupProperty;

/* Installs the connection properties on @klass with the ids
 * @first_prop_id + GstDsSoupProperty; @role says which relay URL
 * `location` takes */
void                  gst_ds_soup_install_properties    (GObjectClass * klass,
                                                         guint first_prop_id,
                                                         GstDsSoupRole role);
/* The defaults of those properties (max_message_size is the caller's) */
void                  gst_ds_soup_settings_init         (GstDsSoupSettings * settings);
/* Sets or gets a connection property, with the object lock held: TRUE
 * when @prop_id is one (from @first_prop_id on), FALSE otherwise */
gboolean              gst_ds_soup_settings_set_property (GstDsSoupSettings * settings,
                                                         guint first_prop_id,
                                                         guint prop_id,
                                                         const GValue * value);
gboolean              gst_ds_soup_settings_get_property (const GstDsSoupSettings * settings,
                                                         guint first_prop_id,
                                                         guint prop_id,
                                                         GValue * value);
/* A copy of @settings taken under @object's lock, to connect with */
void                  gst_ds_soup_settings_copy_locked  (GstObject * object,
                                                         const GstDsSoupSettings * settings,
                                                         GstDsSoupSettings * copy);
void                  gst_ds_soup_settings_clear        (GstDsSoupSettings * settings);

/* Posts the warning for one failed connection attempt to @location that
 * is retried after @delay_ms (translated, with the cause) */
void                  gst_ds_soup_post_retry            (GstElement * element,
                                                         GstDsSoupRole role,
                                                         const gchar * location,
                                                         GstDsSoupFailure failure,
                                                         const gchar * reason,
                                                         guint attempt,
                                                         guint delay_ms);

/* Starts the thread and the first connection attempt. Takes a copy of
 * @settings. */
GstDsSoupConnection * gst_ds_soup_connection_new        (GstObject * parent,
                                                         const GstDsSoupSettings * settings,
                                                         const GstDsSoupCallbacks * callbacks,
                                                         gpointer user_data);

/* Cancels everything, closes the connection, joins the thread. Returns
 * within about GST_DS_SOUP_SHUTDOWN_TIMEOUT_MS whatever the peer does. */
void                  gst_ds_soup_connection_free       (GstDsSoupConnection * conn);

/* Any thread: calls the writable callback on the connection thread soon
 * (when connected). */
void                  gst_ds_soup_connection_wakeup     (GstDsSoupConnection * conn);

/* Connection thread only */
gboolean              gst_ds_soup_connection_is_connected (GstDsSoupConnection * conn);
/* TRUE when connected, libsoup has written into the socket everything it
 * was given, and the socket takes more data now; otherwise the writable
 * callback runs again once that is so. */
gboolean              gst_ds_soup_connection_can_send   (GstDsSoupConnection * conn);
/* Bytes handed to libsoup and not yet written into the socket (0 when
 * the kernel cannot tell) */
guint64               gst_ds_soup_connection_get_backlog (GstDsSoupConnection * conn);
/* Sends one binary message; @bytes is not kept (libsoup frames it) */
void                  gst_ds_soup_connection_send       (GstDsSoupConnection * conn,
                                                         GBytes * bytes);
/* Sends a Ping frame now; returns its seq */
guint16               gst_ds_soup_connection_send_ping  (GstDsSoupConnection * conn);
/* Milliseconds since the connection object was made, as a frame
 * timestamp */
guint32               gst_ds_soup_connection_now_ms     (GstDsSoupConnection * conn);

/* Connection thread only: closes the connection and ends it with a final
 * @failure (the failed callback runs), for what the element sees in the
 * messages, such as frames of the other role */
void                  gst_ds_soup_connection_give_up    (GstDsSoupConnection * conn,
                                                         GstDsSoupFailure failure,
                                                         const gchar * reason);

/* Connection thread only: the location connected to, being tried, or
 * last tried */
const gchar *         gst_ds_soup_connection_get_location (GstDsSoupConnection * conn);

/* Any thread */
gint                  gst_ds_soup_connection_get_rtt    (GstDsSoupConnection * conn);
guint                 gst_ds_soup_connection_get_reconnects (GstDsSoupConnection * conn);

G_END_DECLS

#endif /* __GST_DS_SOUP_CONNECTION_H__ */
