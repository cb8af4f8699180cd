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

/* ds-relay's counters and their views: GET /metrics (the Prometheus text
 * format) and GET /channels (JSON). The channel logic counts (it holds the
 * RelayMetrics, from relay_channels_init()); this file only reads (the
 * gauges come from relay_channel_get_stats()). */

#ifndef __RELAY_METRICS_H__
#define __RELAY_METRICS_H__

#include "relay.h"

G_BEGIN_DECLS

/* Counters since start, all channels */
struct _RelayMetrics
{
  guint64 connections_total[RELAY_N_ROLES];
  guint64 rejected_auth;
  guint64 rejected_name;
  guint64 rejected_limit;
  guint64 rejected_origin;
  guint64 frames_in;
  guint64 bytes_in;
  guint64 frames_out;
  guint64 bytes_out;
  guint64 malformed;
  guint64 signals_refused;
  guint64 dropped;
  guint64 overflows;
  guint64 resyncs;
  guint64 receiver_reports;     /* ReceiverReports sent to sources */
  guint64 slow_closes;
  guint64 takeovers;
  guint64 catchups;
  guint64 keyframe_requests_cache;
  guint64 keyframe_requests_forwarded;
  guint64 keyframe_requests_coalesced;
  guint64 pictures_refused;     /* over --max-picture-pixels */
  guint64 picture_rebuilds;
  guint64 cache_drops;          /* picture caches dropped for the bound */
  guint64 encoded_catchups;     /* joiners sent a cached chain of units */
  guint64 encoded_skips;        /* receivers that lost units, skipped to
                                 * the next keyframe unit */
};

/* Counters of one channel since it was created */
typedef struct
{
  guint64 frames_in;
  guint64 bytes_in;
  guint64 frames_out;
  guint64 bytes_out;
  guint64 dropped;
  guint64 catchups;
  guint64 pictures_refused;
  guint64 signals_refused;
} RelayChannelCounters;

/* The /metrics, /channels and /channels/{name} bodies (the last NULL
 * when the relay has no such channel) */
gchar *         relay_metrics_text          (DsRelay * relay);
gchar *         relay_channels_json         (DsRelay * relay);
gchar *         relay_channel_json          (DsRelay * relay,
                                             const gchar * name);

G_END_DECLS

#endif /* __RELAY_METRICS_H__ */
