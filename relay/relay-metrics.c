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

#include <json-glib/json-glib.h>

#include "relay-channel.h"
#include "relay-metrics.h"
#include "relay-cluster.h"

/* GET /channels and /channels/{name} */

/* @channel: NULL for a channel whose source is on another node of the
 * cluster and that this node has no client for (@name): listed so that
 * every node's list shows every channel (a viewer opened here gets it
 * through NATS), with this node's counters at 0 */
static void
add_channel_object (JsonBuilder * builder, RelayChannel * channel,
    const gchar * name)
{
  RelayChannelStats stats = { 0, };

  if (channel != NULL) {
    relay_channel_get_stats (channel, &stats);
  } else {
    stats.name = name;
    stats.has_remote_source = TRUE;
    stats.last_frame_age_ms = -1;
  }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, stats.name);
  /* a source on any node; remote_source: on another node of the
   * cluster (a watching node's viewers see its frames too) */
  json_builder_set_member_name (builder, "source");
  json_builder_add_boolean_value (builder, stats.has_source
      || stats.has_remote_source);
  json_builder_set_member_name (builder, "remote_source");
  json_builder_add_boolean_value (builder, stats.has_remote_source);
  json_builder_set_member_name (builder, "receivers");
  json_builder_add_int_value (builder, stats.receivers);
  json_builder_set_member_name (builder, "signaling");
  json_builder_add_int_value (builder, stats.signaling);
  json_builder_set_member_name (builder, "frames");
  json_builder_add_int_value (builder, stats.counters.frames_in);
  json_builder_set_member_name (builder, "bytes");
  json_builder_add_int_value (builder, stats.counters.bytes_in);
  json_builder_set_member_name (builder, "frames_out");
  json_builder_add_int_value (builder, stats.counters.frames_out);
  json_builder_set_member_name (builder, "bytes_out");
  json_builder_add_int_value (builder, stats.counters.bytes_out);
  json_builder_set_member_name (builder, "dropped");
  json_builder_add_int_value (builder, stats.counters.dropped);
  json_builder_set_member_name (builder, "queued_bytes");
  json_builder_add_int_value (builder, stats.queued_bytes);
  json_builder_set_member_name (builder, "last_frame_age_ms");
  if (stats.last_frame_age_ms >= 0)
    json_builder_add_int_value (builder, stats.last_frame_age_ms);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "schema");
  json_builder_add_boolean_value (builder, stats.has_schema);
  json_builder_set_member_name (builder, "signals");
  json_builder_add_int_value (builder, stats.signals);
  json_builder_set_member_name (builder, "cached_deltas");
  json_builder_add_int_value (builder, stats.cached_deltas);
  json_builder_set_member_name (builder, "cache_bytes");
  json_builder_add_int_value (builder, stats.cache_bytes);
  json_builder_set_member_name (builder, "ended");
  json_builder_add_boolean_value (builder, stats.ended);
  json_builder_end_object (builder);
}

static gchar *
builder_to_json (JsonBuilder * builder)
{
  JsonGenerator *generator;
  JsonNode *root;
  gchar *json;

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json = json_generator_to_data (generator, NULL);
  json_node_unref (root);
  g_object_unref (generator);
  g_object_unref (builder);
  return json;
}

gchar *
relay_channels_json (DsRelay * relay)
{
  JsonBuilder *builder = json_builder_new ();
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  GHashTableIter iter;
  gpointer key;
  GList *names, *l;

  g_hash_table_iter_init (&iter, relay->channels);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (set, g_strdup (key));
  if (relay->cluster != NULL)
    relay_cluster_add_remote_channels (relay->cluster, set);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "channels");
  json_builder_begin_array (builder);
  names = g_hash_table_get_keys (set);
  names = g_list_sort (names, (GCompareFunc) g_strcmp0);
  for (l = names; l; l = l->next)
    add_channel_object (builder, g_hash_table_lookup (relay->channels,
            l->data), l->data);
  g_list_free (names);
  g_hash_table_unref (set);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return builder_to_json (builder);
}

gchar *
relay_channel_json (DsRelay * relay, const gchar * name)
{
  RelayChannel *channel = g_hash_table_lookup (relay->channels, name);
  JsonBuilder *builder;

  if (channel == NULL && (relay->cluster == NULL ||
          !relay_cluster_name_has_remote_source (relay->cluster, name)))
    return NULL;
  builder = json_builder_new ();
  add_channel_object (builder, channel, name);
  return builder_to_json (builder);
}

/* GET /metrics */

static void
metric_header (GString * s, const gchar * name, const gchar * type,
    const gchar * help)
{
  g_string_append_printf (s, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
      type);
}

/* The per-channel counters of /metrics */
static const struct
{
  const gchar *name;
  const gchar *help;
  glong offset;
} channel_counters[] = {
  {"ds_relay_channel_frames_in_total",
        "Frames accepted from the source, per channel.",
      G_STRUCT_OFFSET (RelayChannelCounters, frames_in)},
  {"ds_relay_channel_bytes_in_total",
        "Bytes accepted from the source, per channel.",
      G_STRUCT_OFFSET (RelayChannelCounters, bytes_in)},
  {"ds_relay_channel_frames_out_total",
        "Frames queued to clients, per channel.",
      G_STRUCT_OFFSET (RelayChannelCounters, frames_out)},
  {"ds_relay_channel_bytes_out_total",
        "Bytes queued to clients, per channel.",
      G_STRUCT_OFFSET (RelayChannelCounters, bytes_out)},
  {"ds_relay_channel_dropped_frames_total",
        "Frames not delivered to slow receivers, per channel.",
      G_STRUCT_OFFSET (RelayChannelCounters, dropped)},
  {"ds_relay_channel_catchups_total",
        "Catch-ups sent, per channel.",
      G_STRUCT_OFFSET (RelayChannelCounters, catchups)},
  {"ds_relay_channel_pictures_refused_total",
        "Picture frames refused by --max-picture-pixels, per channel.",
      G_STRUCT_OFFSET (RelayChannelCounters, pictures_refused)},
};

gchar *
relay_metrics_text (DsRelay * relay)
{
  GString *s = g_string_new (NULL);
  GHashTableIter iter;
  gpointer value;
  gsize queue_total = 0, queue_max = 0, cache_total = 0;
  GArray *stats;
  gint r;
  guint i, c;

  metric_header (s, "ds_relay_connections", "gauge",
      "Open WebSocket connections by role.");
  for (r = 0; r < RELAY_N_ROLES; r++)
    g_string_append_printf (s, "ds_relay_connections{role=\"%s\"} %u\n",
        relay_role_name (r), relay->n_by_role[r]);
  metric_header (s, "ds_relay_connections_total", "counter",
      "WebSocket connections accepted since start, by role.");
  for (r = 0; r < RELAY_N_ROLES; r++)
    g_string_append_printf (s, "ds_relay_connections_total{role=\"%s\"} %"
        G_GUINT64_FORMAT "\n", relay_role_name (r),
        relay->metrics->connections_total[r]);
  metric_header (s, "ds_relay_rejected_total", "counter",
      "Upgrade requests refused, by reason.");
  g_string_append_printf (s,
      "ds_relay_rejected_total{reason=\"auth\"} %" G_GUINT64_FORMAT "\n",
      relay->metrics->rejected_auth);
  g_string_append_printf (s,
      "ds_relay_rejected_total{reason=\"name\"} %" G_GUINT64_FORMAT "\n",
      relay->metrics->rejected_name);
  g_string_append_printf (s,
      "ds_relay_rejected_total{reason=\"limit\"} %" G_GUINT64_FORMAT "\n",
      relay->metrics->rejected_limit);
  g_string_append_printf (s,
      "ds_relay_rejected_total{reason=\"origin\"} %" G_GUINT64_FORMAT "\n",
      relay->metrics->rejected_origin);
  metric_header (s, "ds_relay_channels", "gauge", "Channels that exist.");
  g_string_append_printf (s, "ds_relay_channels %u\n",
      g_hash_table_size (relay->channels));

  metric_header (s, "ds_relay_frames_in_total", "counter",
      "Frames accepted from sources, all channels.");
  g_string_append_printf (s, "ds_relay_frames_in_total %" G_GUINT64_FORMAT
      "\n", relay->metrics->frames_in);
  metric_header (s, "ds_relay_bytes_in_total", "counter",
      "Frame bytes accepted from sources, all channels.");
  g_string_append_printf (s, "ds_relay_bytes_in_total %" G_GUINT64_FORMAT
      "\n", relay->metrics->bytes_in);
  metric_header (s, "ds_relay_frames_out_total", "counter",
      "Frames queued to clients, all channels.");
  g_string_append_printf (s, "ds_relay_frames_out_total %" G_GUINT64_FORMAT
      "\n", relay->metrics->frames_out);
  metric_header (s, "ds_relay_bytes_out_total", "counter",
      "Frame bytes queued to clients, all channels.");
  g_string_append_printf (s, "ds_relay_bytes_out_total %" G_GUINT64_FORMAT
      "\n", relay->metrics->bytes_out);
  metric_header (s, "ds_relay_malformed_frames_total", "counter",
      "Malformed frames or messages dropped.");
  g_string_append_printf (s, "ds_relay_malformed_frames_total %"
      G_GUINT64_FORMAT "\n", relay->metrics->malformed);
  metric_header (s, "ds_relay_signal_frames_refused_total", "counter",
      "Signal frames from sources over --max-signal-bytes or "
      "--max-signal-keys (frame or merged state), dropped.");
  g_string_append_printf (s, "ds_relay_signal_frames_refused_total %"
      G_GUINT64_FORMAT "\n", relay->metrics->signals_refused);
  metric_header (s, "ds_relay_dropped_frames_total", "counter",
      "Frames dropped by policy (slow receivers, receivers publishing, "
      "view-only input).");
  g_string_append_printf (s, "ds_relay_dropped_frames_total %"
      G_GUINT64_FORMAT "\n", relay->metrics->dropped);
  metric_header (s, "ds_relay_queue_overflows_total", "counter",
      "Times a receiver's queue overflowed --max-queue-bytes.");
  g_string_append_printf (s, "ds_relay_queue_overflows_total %"
      G_GUINT64_FORMAT "\n", relay->metrics->overflows);
  metric_header (s, "ds_relay_resyncs_total", "counter",
      "Cached pictures sent to receivers that lost deltas.");
  g_string_append_printf (s, "ds_relay_resyncs_total %" G_GUINT64_FORMAT
      "\n", relay->metrics->resyncs);
  metric_header (s, "ds_relay_receiver_reports_total", "counter",
      "ReceiverReports sent to sources (a receiver was congested).");
  g_string_append_printf (s, "ds_relay_receiver_reports_total %"
      G_GUINT64_FORMAT "\n", relay->metrics->receiver_reports);
  metric_header (s, "ds_relay_slow_closes_total", "counter",
      "Receivers closed because they stayed stuck.");
  g_string_append_printf (s, "ds_relay_slow_closes_total %" G_GUINT64_FORMAT
      "\n", relay->metrics->slow_closes);
  metric_header (s, "ds_relay_takeovers_total", "counter",
      "Sources replaced by a new source.");
  g_string_append_printf (s, "ds_relay_takeovers_total %" G_GUINT64_FORMAT
      "\n", relay->metrics->takeovers);
  metric_header (s, "ds_relay_catchups_total", "counter",
      "Catch-ups sent to late joiners and resynced receivers.");
  g_string_append_printf (s, "ds_relay_catchups_total %" G_GUINT64_FORMAT
      "\n", relay->metrics->catchups);
  metric_header (s, "ds_relay_keyframe_requests_total", "counter",
      "KeyframeRequests from receivers by outcome.");
  g_string_append_printf (s, "ds_relay_keyframe_requests_total{result="
      "\"cache\"} %" G_GUINT64_FORMAT "\n",
      relay->metrics->keyframe_requests_cache);
  g_string_append_printf (s,
      "ds_relay_keyframe_requests_total{result=" "\"forwarded\"} %"
      G_GUINT64_FORMAT "\n", relay->metrics->keyframe_requests_forwarded);
  g_string_append_printf (s,
      "ds_relay_keyframe_requests_total{result=" "\"coalesced\"} %"
      G_GUINT64_FORMAT "\n", relay->metrics->keyframe_requests_coalesced);
  metric_header (s, "ds_relay_pictures_refused_total", "counter",
      "Picture frames refused (not cached, not forwarded) because they "
      "announce more than --max-picture-pixels.");
  g_string_append_printf (s,
      "ds_relay_pictures_refused_total %" G_GUINT64_FORMAT "\n",
      relay->metrics->pictures_refused);
  metric_header (s, "ds_relay_picture_rebuilds_total", "counter",
      "Delta chains collapsed into one cached picture.");
  g_string_append_printf (s,
      "ds_relay_picture_rebuilds_total %" G_GUINT64_FORMAT "\n",
      relay->metrics->picture_rebuilds);
  metric_header (s, "ds_relay_cache_drops_total", "counter",
      "Cached pictures (or images, schemas) dropped or not cached because "
      "of --max-channel-cache-bytes.");
  g_string_append_printf (s,
      "ds_relay_cache_drops_total %" G_GUINT64_FORMAT "\n",
      relay->metrics->cache_drops);
  metric_header (s, "ds_relay_encoded_catchups_total", "counter",
      "Joiners of an EncodedVideo channel sent the cached keyframe unit "
      "and the units since.");
  g_string_append_printf (s,
      "ds_relay_encoded_catchups_total %" G_GUINT64_FORMAT "\n",
      relay->metrics->encoded_catchups);
  metric_header (s, "ds_relay_encoded_skips_total", "counter",
      "Receivers of an EncodedVideo channel that lost units and were "
      "skipped to the next keyframe unit.");
  g_string_append_printf (s,
      "ds_relay_encoded_skips_total %" G_GUINT64_FORMAT "\n",
      relay->metrics->encoded_skips);

  /* per channel, in the table's order */
  stats = g_array_sized_new (FALSE, FALSE, sizeof (RelayChannelStats),
      g_hash_table_size (relay->channels));
  g_hash_table_iter_init (&iter, relay->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RelayChannelStats one;

    relay_channel_get_stats (value, &one);
    g_array_append_val (stats, one);
  }

  metric_header (s, "ds_relay_channel_receivers", "gauge",
      "Receivers per channel.");
  for (c = 0; c < stats->len; c++) {
    RelayChannelStats *st = &g_array_index (stats, RelayChannelStats, c);

    g_string_append_printf (s, "ds_relay_channel_receivers{channel=\"%s\"} "
        "%u\n", st->name, st->receivers);
  }
  for (i = 0; i < G_N_ELEMENTS (channel_counters); i++) {
    metric_header (s, channel_counters[i].name, "counter",
        channel_counters[i].help);
    for (c = 0; c < stats->len; c++) {
      RelayChannelStats *st = &g_array_index (stats, RelayChannelStats, c);

      g_string_append_printf (s, "%s{channel=\"%s\"} %" G_GUINT64_FORMAT "\n",
          channel_counters[i].name, st->name,
          G_STRUCT_MEMBER (guint64, &st->counters, channel_counters[i].offset));
    }
  }
  metric_header (s, "ds_relay_channel_queue_bytes", "gauge",
      "Bytes queued to the receivers of a channel, not yet written.");
  for (c = 0; c < stats->len; c++) {
    RelayChannelStats *st = &g_array_index (stats, RelayChannelStats, c);

    queue_total += st->queued_bytes;
    queue_max = MAX (queue_max, st->queued_max);
    g_string_append_printf (s, "ds_relay_channel_queue_bytes{channel=\"%s\"} "
        "%" G_GSIZE_FORMAT "\n", st->name, st->queued_bytes);
  }
  metric_header (s, "ds_relay_channel_cache_bytes", "gauge",
      "Bytes a channel keeps for late joiners (keyframe, deltas, image, "
      "schema, End).");
  for (c = 0; c < stats->len; c++) {
    RelayChannelStats *st = &g_array_index (stats, RelayChannelStats, c);

    cache_total += st->cache_bytes;
    g_string_append_printf (s, "ds_relay_channel_cache_bytes{channel=\"%s\"} "
        "%" G_GSIZE_FORMAT "\n", st->name, st->cache_bytes);
  }
  g_array_unref (stats);
  metric_header (s, "ds_relay_cache_bytes", "gauge",
      "Bytes all channels keep for late joiners.");
  g_string_append_printf (s, "ds_relay_cache_bytes %" G_GSIZE_FORMAT "\n",
      cache_total);
  metric_header (s, "ds_relay_queue_bytes", "gauge",
      "Bytes queued to all receivers, not yet written.");
  g_string_append_printf (s, "ds_relay_queue_bytes %" G_GSIZE_FORMAT "\n",
      queue_total);
  metric_header (s, "ds_relay_queue_bytes_max", "gauge",
      "The largest queue of any one receiver, in bytes.");
  g_string_append_printf (s, "ds_relay_queue_bytes_max %" G_GSIZE_FORMAT "\n",
      queue_max);
  if (relay->cluster)
    relay_cluster_metrics_text (relay->cluster, s);
  return g_string_free (s, FALSE);
}
