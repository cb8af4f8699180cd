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

/* Several relays, one channel (SPEC §8, docs/cluster.md): the nodes of a
 * cluster meet on NATS. Every NATS call is in relay-cluster.c; the channel
 * logic (relay-channel.c) tells it what happens on this node (a frame
 * from a local source, receivers coming and going, input for a source on
 * another node) and hears from it through relay_channel_remote_*().
 *
 * libnats calls back on threads of its own: the messages are handed to
 * the main loop through a bounded queue, and nothing of the relay is
 * touched on those threads. */

#ifndef __RELAY_CLUSTER_H__
#define __RELAY_CLUSTER_H__

#include "relay.h"
#include "relay-channel.h"

G_BEGIN_DECLS

typedef struct _RelayCluster RelayCluster;

/* Whether this ds-relay was built with libnats */
gboolean        relay_cluster_supported     (void);

/* Checks the --cluster* and --node-id settings */
gboolean        relay_cluster_check_settings (const RelaySettings * settings,
                                              GError ** error);

/* Connects to the NATS servers of relay->settings.cluster in the
 * background (an unreachable server is retried; relay_cluster_is_connected()
 * says when it is up). NULL and @error for a bad setting, or when built
 * without libnats. */
RelayCluster *  relay_cluster_new           (DsRelay * relay,
                                             GError ** error);
void            relay_cluster_free          (RelayCluster * cluster);

gboolean        relay_cluster_is_connected  (RelayCluster * cluster);
/* Appends the cluster's gauges and counters to a /metrics body */
void            relay_cluster_metrics_text  (RelayCluster * cluster,
                                             GString * s);

/* From the channel logic */

/* @channel's local source or receivers came or went */
void            relay_cluster_channel_changed (RelayCluster * cluster,
                                             RelayChannel * channel);
/* @channel is about to be freed */
void            relay_cluster_channel_removed (RelayCluster * cluster,
                                             RelayChannel * channel);
/* A frame the local source sent and the channel accepted */
void            relay_cluster_source_frame  (RelayCluster * cluster,
                                             RelayChannel * channel,
                                             GBytes * frame);
/* Input (FLAG_INPUT) for the channel's source on another node; FALSE
 * when no node holds a source for it */
gboolean        relay_cluster_send_input    (RelayCluster * cluster,
                                             RelayChannel * channel,
                                             GBytes * frame);
/* A message of a local /signal/ client, for the channel's signaling
 * clients on the other nodes (published only when a node has some) */
void            relay_cluster_signaling     (RelayCluster * cluster,
                                             RelayChannel * channel,
                                             gboolean binary,
                                             GBytes * message);
/* Receivers of @channel on the other nodes (their last heartbeats) */
guint           relay_cluster_remote_receivers (RelayCluster * cluster,
                                             RelayChannel * channel);
/* Adds the other nodes' figures for @channel (their last heartbeats, up
 * to about a second old) to @figures, the local ones: receivers and
 * dropped summed, min of mins, max of maxes, congested if one is, the
 * median the receiver-weighted median of the nodes' medians */
void            relay_cluster_combine_figures (RelayCluster * cluster,
                                             RelayChannel * channel,
                                             RelayReceiverFigures * figures);
/* Whether another node holds a source for @channel */
gboolean        relay_cluster_has_remote_source (RelayCluster * cluster,
                                             RelayChannel * channel);
/* The same by the channel's @name (a channel this node may not have) */
gboolean        relay_cluster_name_has_remote_source (RelayCluster * cluster,
                                             const gchar * name);
/* Adds to @names (a set of names, owned by the caller) every channel
 * whose source is on another node, whether or not this node has it */
void            relay_cluster_add_remote_channels (RelayCluster * cluster,
                                             GHashTable * names);
/* Whether the catch-up for @channel is still on its way from the origin
 * node (a joiner gets it when it arrives) */
gboolean        relay_cluster_catchup_pending (RelayCluster * cluster,
                                             RelayChannel * channel);

G_END_DECLS

#endif /* __RELAY_CLUSTER_H__ */
