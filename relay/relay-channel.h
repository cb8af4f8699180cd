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

/* Channels (SPEC §6.2-6.7) and the clients attached to them: fan-out,
 * caches for late joiners, input routing, slow-receiver handling, limits.
 *
 * This is the relay's logic; it knows no socket and no WebSocket. It
 * reaches a client's connection through RelayClientFuncs (relay-ws-client.c
 * on a real WebSocket, a fake in tests/check/relay/channel.c), hears from
 * it through relay_client_receive(), relay_client_drained() and
 * relay_client_remove(), and takes its time from the relay's RelayClock. */

#ifndef __RELAY_CHANNEL_H__
#define __RELAY_CHANNEL_H__

#include "relay.h"
#include "relay-metrics.h"

G_BEGIN_DECLS

/* What the logic asks of a client's connection */
typedef struct
{
  /* queues a message (@binary: a ds-stream frame; else text) */
  void          (*send)              (gpointer conn,
                                      gboolean binary,
                                      GBytes * message);
  /* starts closing; relay_client_remove() follows once it is gone */
  void          (*close)             (gpointer conn,
                                      gushort code,
                                      const gchar * reason);
  /* bytes queued and not yet written */
  gsize         (*get_queued_bytes)  (gpointer conn);
  /* time (the relay clock's) of the last write progress, or of the
   * moment the queue became non-empty */
  gint64        (*get_last_progress) (gpointer conn);
} RelayClientFuncs;

/* A channel's gauges and counters, for /metrics and /channels */
typedef struct
{
  const gchar *name;
  gboolean has_source;
  gboolean has_remote_source;   /* on another node of the cluster */
  guint receivers;
  guint signaling;
  RelayChannelCounters counters;
  gsize queued_bytes;           /* to its receivers, not yet written */
  gsize queued_max;             /* the largest of one receiver */
  gint64 last_frame_age_ms;     /* -1: no frame yet */
  gboolean has_schema;
  guint signals;
  guint cached_deltas;
  gsize cache_bytes;
  gboolean ended;
} RelayChannelStats;

/* Before anything else: the channel table, the counters, @clock */
/* A channel's local receivers over the last second (relay_channel_get_figures())
 * or, combined over the nodes, what a ReceiverReport says */
typedef struct
{
  guint receivers;
  gboolean congested;           /* one dropped frames or held more than half
                                 * of --max-queue-bytes */
  guint32 kbps_min;             /* handed to their connections */
  guint32 kbps_median;
  guint32 kbps_max;
  guint32 dropped;              /* frames dropped for them */
} RelayReceiverFigures;

void            relay_channels_init         (DsRelay * relay,
                                             RelayClock * clock);
/* At exit, once no client is left: frees every channel, the table and
 * the counters */
void            relay_channels_free         (DsRelay * relay);
/* A failure the relay cannot serve through: logged by the caller; the
 * main loop ends and ds-relay exits with @code */
void            relay_exit                  (DsRelay * relay,
                                             gint code);

/* 1-64 of [A-Za-z0-9._-] */
gboolean        relay_channel_name_is_valid (const gchar * name);

typedef enum
{
  RELAY_ADMIT_OK,
  RELAY_ADMIT_TOO_MANY_CLIENTS,       /* --max-clients */
  RELAY_ADMIT_TOO_MANY_CHANNELS,      /* --max-channels */
} RelayAdmission;

/* Whether one more client may join channel @name (the limits, checked
 * before the upgrade) */
RelayAdmission  relay_admit                 (DsRelay * relay,
                                             const gchar * name);

/* Finds or creates a channel (NULL when --max-channels is reached) */
RelayChannel *  relay_channel_get           (DsRelay * relay,
                                             const gchar * name,
                                             gboolean create);
void            relay_channel_get_stats     (RelayChannel * channel,
                                             RelayChannelStats * stats);

/* A new client of @channel on the connection @conn; nothing is sent
 * before relay_client_join() */
RelayClient *   relay_client_new            (RelayChannel * channel,
                                             RelayRole role,
                                             const RelayClientFuncs * funcs,
                                             gpointer conn,
                                             const gchar * peer,
                                             gboolean view_only);
/* Joins the channel in its role: a source takes over, a receiver gets
 * its catch-up */
void            relay_client_join           (RelayClient * client);
/* A message from the client */
void            relay_client_receive        (RelayClient * client,
                                             gboolean binary,
                                             GBytes * message);
/* The connection wrote all it held: a receiver gets more of its queue */
void            relay_client_drained        (RelayClient * client);
/* The connection is gone (@peer_close_code: what the peer sent, or 0):
 * the client leaves its channel and is freed; the connection stays the
 * caller's */
void            relay_client_remove         (RelayClient * client,
                                             gushort peer_close_code);
guint           relay_client_get_id         (RelayClient * client);

/* Closes every client with @code and @reason */
void            relay_close_all             (DsRelay * relay,
                                             gushort code,
                                             const gchar * reason);

/* Every 100 ms: stuck clients, idle channels, memory. @busy holds the
 * clients whose connections have something queued (the others cannot be
 * stuck), @transport_bytes what they hold in all; @busy NULL: every
 * client is looked at */
void            relay_housekeeping          (DsRelay * relay,
                                             GPtrArray * busy,
                                             gsize transport_bytes);

const gchar *   relay_role_name             (RelayRole role);

/* For the cluster (relay-cluster.c) */
const gchar *   relay_channel_get_name      (RelayChannel * channel);
/* a source connected to this node */
gboolean        relay_channel_has_source    (RelayChannel * channel);
/* real time (µs) the local source joined; 0 without one */
gint64          relay_channel_get_source_since (RelayChannel * channel);
guint           relay_channel_get_n_receivers (RelayChannel * channel);
guint           relay_channel_get_n_signaling (RelayChannel * channel);
/* something cached for joiners (a source's state, here or from the
 * origin node) */
gboolean        relay_channel_has_cached_state (RelayChannel * channel);
/* A frame of the channel's source on another node, in order */
void            relay_channel_remote_frame  (RelayChannel * channel,
                                             GBytes * frame);
/* A /signal/ message of a client on another node: to every local
 * signaling client of the channel */
void            relay_channel_remote_signaling (RelayChannel * channel,
                                             gboolean binary,
                                             GBytes * message);
/* Input for the local source from a receiver on another node */
void            relay_channel_remote_input  (RelayChannel * channel,
                                             GBytes * frame);
/* The origin node's catch-up replaces the channel's state; every
 * receiver gets it */
void            relay_channel_remote_catchup (RelayChannel * channel,
                                             GPtrArray * frames);
/* The whole catch-up (no SubscribeFilter) for another node */
void            relay_channel_get_catchup   (RelayChannel * channel,
                                             GPtrArray * frames);
/* The other nodes' receivers changed: ReceiverCount to the source */
void            relay_channel_update_receiver_count (RelayChannel * channel);
/* Whether another node holds the channel's source changed (its
 * heartbeat said so, or the node is gone): gone, the cached state waits
 * --source-grace as after a local source left; there, that grace ends
 * and a KeyframeRequest held for want of a source goes to it */
void            relay_channel_remote_source_changed (RelayChannel * channel,
                                             gboolean present);
void            relay_channel_get_figures   (RelayChannel * channel,
                                             RelayReceiverFigures * figures);
/* Adds @n_others nodes' figures to @figures: receivers and dropped
 * summed, min of the minima, max of the maxima, congested if one is, the
 * median the receiver-weighted median of the medians (the smallest with
 * at least half of the receivers at or below it: approximate) */
void            relay_receiver_figures_combine (RelayReceiverFigures * figures,
                                             const RelayReceiverFigures * others,
                                             guint n_others);
/* A newer source on another node: the local one is closed */
void            relay_channel_remote_takeover (RelayChannel * channel);

G_END_DECLS

#endif /* __RELAY_CHANNEL_H__ */
