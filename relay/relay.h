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

/* ds-relay's shared state: settings (from the command line, fixed after
 * start) and the live state (channels, clients; the counters are in
 * relay-metrics.h). Everything runs on the default main context in one
 * thread, on the time of its RelayClock. */

#ifndef __RELAY_H__
#define __RELAY_H__

#include <gio/gio.h>

#include "relay-clock.h"
#include "relay-log.h"
#include "relay-ws.h"

G_BEGIN_DECLS

/* The largest WebSocket message a receiver (input, Ping,
 * SubscribeFilter) or a signaling client may send; sources may send
 * --max-frame-bytes plus the header */
#define RELAY_MAX_RECEIVER_MESSAGE (64 * 1024)
#define RELAY_MAX_SIGNALING_MESSAGE (1024 * 1024)

typedef struct _RelayChannel RelayChannel;
typedef struct _RelayClient RelayClient;
typedef struct _RelayMetrics RelayMetrics;

typedef enum
{
  RELAY_ROLE_SOURCE,
  RELAY_ROLE_RECEIVER,
  RELAY_ROLE_SIGNALING,
  RELAY_N_ROLES,
} RelayRole;

typedef struct
{
  gchar *host;
  gint port;
  gchar *tls_cert;
  gchar *tls_key;
  gchar *publish_token;
  gchar *subscribe_token;
  gchar *view_token;
  gboolean view_only;
  gchar **allowed_origins;      /* besides the relay's own; "*": any */
  gchar **allowed_hosts;        /* NAME[:PORT] besides its own; "*": any */
  gchar **viewer_relays;        /* ws(s):// bases put in the viewer page */
  gint64 max_frame_bytes;
  gint64 max_queue_bytes;
  gint64 max_signal_bytes;      /* a signal frame and a merged state */
  gint max_signal_keys;
  gint64 max_picture_pixels;    /* width * height of one picture frame */
  gint64 max_channel_cache_bytes;       /* all cached frames of a channel */
  gdouble idle_grace;           /* seconds */
  gdouble source_grace;         /* seconds */
  gdouble stuck_timeout;        /* seconds */
  gdouble keyframe_request_interval;    /* seconds; 0: not coalesced */
  gdouble handshake_timeout;    /* seconds */
  gdouble tls_handshake_timeout;        /* seconds */
  gint max_clients_per_address;
  gint max_tls_handshakes;
  gint max_tls_handshakes_per_address;
  gint keepalive;               /* seconds */
  gint max_channels;
  gint max_clients;
  gboolean verbose;
  /* several relays (relay-cluster.c, docs/cluster.md) */
  gchar *cluster;               /* nats://HOST:PORT[,...]; NULL: alone */
  gchar *cluster_user;
  gchar *cluster_password;
  gchar *cluster_token;
  /* --OPTION-file: where the secrets above came from (ds-relay.c) */
  gchar *publish_token_file;
  gchar *subscribe_token_file;
  gchar *view_token_file;
  gchar *cluster_password_file;
  gchar *cluster_token_file;
  gchar *cluster_ca;
  gchar *cluster_cert;
  gchar *cluster_key;
  gchar *cluster_name;          /* subject prefix; NULL: "ds" */
  gchar *node_id;               /* hex; NULL: random */
} RelaySettings;

typedef struct
{
  RelaySettings settings;

  struct _RelayServer *server;
  guint port;                   /* the port listened on */
  gboolean serves_loopback;     /* listens on a loopback or any address */
  gboolean serves_any;          /* listens on 0.0.0.0 or :: */
  GMainLoop *loop;
  gint exit_code;                /* main()'s status once the loop ends */
  GHashTable *channels;         /* name -> RelayChannel */
  guint n_clients;
  guint n_clients_peak;         /* since the last trim */
  guint n_by_role[RELAY_N_ROLES];
  guint next_client_id;
  gboolean shutting_down;
  guint housekeeping_id;
  gsize frame_queue_bytes;      /* in the receivers' DsFrameQueues */
  gsize queued_peak;            /* bytes queued to all clients, since the
                                 * last trim */
  gint64 started;               /* on the clock */
  guint report_id;              /* the ReceiverReport tick */
  gint64 report_last;           /* on the clock: the last tick */

  RelayClock *clock;
  RelayMetrics *metrics;        /* counters since start */
  struct _RelayCluster *cluster;        /* NULL: not in a cluster */
} DsRelay;

G_END_DECLS

#endif /* __RELAY_H__ */
