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
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <ds/dsframequeue.h>
#include <ds/dsprotocol.h>
#include <ds/dssignal.h>
#include <ds/dsstream.h>

#include "relay-channel.h"
#include "relay-cluster.h"
#include "relay-metrics.h"

/* Memory is given back to the system (malloc_trim) once the queues shrank
 * by this much since their peak */
#define TRIM_THRESHOLD (8 * 1024 * 1024)
/* ... and once this many clients left since the last trim */
#define TRIM_CLIENTS 256

/* KeyframeRequests forwarded to a source: at most one per this interval */

/* Bytes a receiver's frames may take in its connection (the WebSocket
 * layer) ahead of the socket; the rest waits in its DsFrameQueue, where
 * the drop policy applies (a frame handed to the connection is sent
 * whole) */
#define WS_LOW_WATER (256 * 1024)

/* ReceiverReports: receivers measured over this interval; a report to the
 * source after each one in which a receiver was congested */
#define REPORT_INTERVAL_US G_TIME_SPAN_SECOND

/* Refused pictures are logged at most once per this interval per channel */
#define REFUSAL_LOG_INTERVAL_MS 1000

struct _RelayChannel
{
  DsRelay *relay;
  gchar *name;

  RelayClient *source;
  gint64 source_since;          /* real time it joined */
  GQueue receivers;             /* RelayClient */
  GQueue signaling;             /* RelayClient */

  /* what a late joiner needs (SPEC §6.4): the stream model */
  DsStreamState *stream;
  /* refused frames: logged at most once per interval */
  gint64 last_refusal_log;
  guint refused_unlogged;
  gint64 signals_refused_logged;

  /* keyframe requests to the source */
  gint64 last_keyframe_request;
  guint keyframe_request_id;
  gboolean keyframe_wanted;     /* asked while no source was connected */
  guint16 input_seq;

  guint last_receiver_count;
  gboolean receiver_count_sent;

  /* grace timers */
  guint source_grace_id;
  gint64 empty_since;           /* 0 while somebody is connected */

  RelayChannelCounters counters;
  gint64 last_frame_time;

  /* its local receivers over the last report interval */
  RelayReceiverFigures figures;
};

struct _RelayClient
{
  DsRelay *relay;
  RelayChannel *channel;
  RelayRole role;
  /* the connection, and how to reach it */
  const RelayClientFuncs *funcs;
  gpointer conn;
  guint id;
  gchar *peer;
  gboolean view_only;
  gchar **select;               /* NULL: everything */
  /* a receiver's frames beyond what the connection holds, with the
   * drop policy of SPEC §6.5 (the stream model's DsFrameQueue) */
  DsFrameQueue *queue;
  /* it lost deltas: the cached picture goes out once the queue drained */
  gboolean want_picture;
  /* frames are being dropped (logged once per episode) */
  gboolean dropping;
  /* joined while the origin node's catch-up was on its way */
  gboolean awaiting_catchup;
  gboolean closing;
  guint64 frames_out;
  guint64 dropped;
  /* since the last report tick: bytes handed to its connection, frames
   * dropped for it */
  guint64 window_bytes;
  guint64 window_dropped;
  /* in channel->receivers or channel->signaling: leaving is O(1) */
  GList link;
};

static const gchar *role_names[RELAY_N_ROLES] = {
  "source", "receiver", "signaling"
};

const gchar *
relay_role_name (RelayRole role)
{
  return role_names[role];
}

gboolean
relay_channel_name_is_valid (const gchar * name)
{
  gsize i;

  if (name == NULL || name[0] == '\0')
    return FALSE;
  for (i = 0; name[i]; i++) {
    gchar c = name[i];

    if (i >= 64)
      return FALSE;
    if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '-')
      return FALSE;
  }
  return TRUE;
}

/* Channel caches */

/* glibc keeps freed memory in its arenas: give a large cache back */
static void
relay_channel_released (gsize bytes)
{
#ifdef __GLIBC__
  if (bytes >= TRIM_THRESHOLD)
    malloc_trim (0);
#endif
}

static void
relay_channel_clear_caches (RelayChannel * channel)
{
  gsize bytes = ds_stream_state_get_cache_bytes (channel->stream);

  ds_stream_state_clear (channel->stream);
  relay_channel_released (bytes);
}

static void
relay_channel_free (RelayChannel * channel)
{
  RelayClock *clock = channel->relay->clock;

  if (channel->relay->cluster)
    relay_cluster_channel_removed (channel->relay->cluster, channel);
  ds_stream_state_free (channel->stream);
  relay_clock_clear_timeout (clock, &channel->keyframe_request_id);
  relay_clock_clear_timeout (clock, &channel->source_grace_id);
  g_free (channel->name);
  g_free (channel);
}

static void
relay_stream_limits (DsRelay * relay, DsStreamSettings * limits)
{
  ds_stream_settings_init (limits);
  limits->max_picture_pixels = (guint64) relay->settings.max_picture_pixels;
  limits->max_cache_bytes = (gsize) relay->settings.max_channel_cache_bytes;
  limits->max_frame_bytes = (gsize) relay->settings.max_frame_bytes;
  limits->signal_limits.max_bytes = relay->settings.max_signal_bytes;
  limits->signal_limits.max_keys = relay->settings.max_signal_keys;
}

RelayAdmission
relay_admit (DsRelay * relay, const gchar * name)
{
  if (relay->settings.max_clients > 0 &&
      relay->n_clients >= (guint) relay->settings.max_clients)
    return RELAY_ADMIT_TOO_MANY_CLIENTS;
  if (relay_channel_get (relay, name, FALSE) == NULL &&
      relay->settings.max_channels > 0 &&
      g_hash_table_size (relay->channels) >=
      (guint) relay->settings.max_channels)
    return RELAY_ADMIT_TOO_MANY_CHANNELS;
  return RELAY_ADMIT_OK;
}

RelayChannel *
relay_channel_get (DsRelay * relay, const gchar * name, gboolean create)
{
  RelayChannel *channel = g_hash_table_lookup (relay->channels, name);

  if (channel || !create)
    return channel;
  if (relay->settings.max_channels > 0 &&
      g_hash_table_size (relay->channels) >=
      (guint) relay->settings.max_channels)
    return NULL;

  channel = g_new0 (RelayChannel, 1);
  channel->relay = relay;
  channel->name = g_strdup (name);
  g_queue_init (&channel->receivers);
  g_queue_init (&channel->signaling);
  {
    DsStreamSettings limits;

    relay_stream_limits (relay, &limits);
    channel->stream = ds_stream_state_new (&limits);
  }
  channel->empty_since = relay_clock_now (relay->clock);
  g_hash_table_insert (relay->channels, channel->name, channel);
  relay_log ("channel %s created", name);
  return channel;
}

static gboolean
relay_channel_is_empty (RelayChannel * channel)
{
  return channel->source == NULL && channel->receivers.length == 0 &&
      channel->signaling.length == 0;
}

static gboolean relay_channel_has_any_source (RelayChannel * channel);

static gboolean
relay_channel_source_grace_cb (gpointer user_data)
{
  RelayChannel *channel = user_data;

  channel->source_grace_id = 0;
  if (channel->source != NULL)
    return G_SOURCE_REMOVE;
  /* a source back on another node of the cluster: this node plays its
   * frames on the state it kept, while it has receivers (without, it
   * does not watch, and the state goes stale) */
  if (!relay_channel_has_any_source (channel) || channel->receivers.length == 0) {
    relay_log ("channel %s: source did not come back within %.1f s, "
        "dropping its cached state", channel->name,
        channel->relay->settings.source_grace);
    relay_channel_clear_caches (channel);
  }
  return G_SOURCE_REMOVE;
}

/* The source left (here, or its node in the cluster): the cached state
 * waits --source-grace for it to come back */
static void
relay_channel_start_source_grace (RelayChannel * channel)
{
  DsRelay *relay = channel->relay;

  relay_clock_clear_timeout (relay->clock, &channel->source_grace_id);
  channel->source_grace_id = relay_clock_add_timeout (relay->clock,
      (gint64) (relay->settings.source_grace * G_TIME_SPAN_SECOND),
      relay_channel_source_grace_cb, channel);
}

/* Sending */

/* Bytes its connection holds, not yet written */
static gsize
relay_client_transport_bytes (RelayClient * client)
{
  return client->funcs->get_queued_bytes (client->conn);
}

static void
relay_client_close (RelayClient * client, gushort code, const gchar * reason)
{
  client->closing = TRUE;
  client->funcs->close (client->conn, code, reason);
}

/* In the connection and in the client's queue */
static gsize
relay_client_get_queued_bytes (RelayClient * client)
{
  return relay_client_transport_bytes (client) +
      ds_frame_queue_get_bytes (client->queue);
}

/* Hands @frame to the client's connection */
static void
relay_client_send (RelayClient * client, GBytes * frame)
{
  RelayChannel *channel = client->channel;
  gsize size = g_bytes_get_size (frame);

  client->funcs->send (client->conn, TRUE, frame);
  client->frames_out++;
  client->window_bytes += size;
  channel->counters.frames_out++;
  channel->counters.bytes_out += size;
  client->relay->metrics->frames_out++;
  client->relay->metrics->bytes_out += size;
}

static void relay_client_send_picture (RelayClient * client);
static void relay_channel_request_keyframe (RelayChannel * channel);

/* Counts what a queue operation other than a push dropped (the relay's
 * totals follow each receiver's queue) */
static void
relay_client_account (RelayClient * client, gsize bytes_before,
    guint64 dropped_before)
{
  DsRelay *relay = client->relay;
  guint64 dropped = ds_frame_queue_get_dropped (client->queue) - dropped_before;

  relay->frame_queue_bytes += ds_frame_queue_get_bytes (client->queue);
  relay->frame_queue_bytes -= bytes_before;
  client->dropped += dropped;
  client->window_dropped += dropped;
  client->channel->counters.dropped += dropped;
  relay->metrics->dropped += dropped;
}

/* No delta until the next keyframe: the queued ones go */
static void
relay_client_lose_reference (RelayClient * client)
{
  gsize bytes = ds_frame_queue_get_bytes (client->queue);
  guint64 dropped = ds_frame_queue_get_dropped (client->queue);

  ds_frame_queue_lose_reference (client->queue);
  relay_client_account (client, bytes, dropped);
}

/* Moves a receiver's queued frames to its connection while that holds
 * less than WS_LOW_WATER; once the queue is empty, a receiver that lost
 * deltas gets the cached picture (so it is current, and at most one
 * catch-up picture waits at a time) */
static void
relay_client_flush (RelayClient * client)
{
  DsQueuedFrame *frame;

  if (client->closing)
    return;
  while (relay_client_transport_bytes (client) < WS_LOW_WATER &&
      (frame = ds_frame_queue_pop (client->queue)) != NULL) {
    client->relay->frame_queue_bytes -= frame->size;
    relay_client_send (client, frame->frame);
    ds_queued_frame_free (frame);
  }
  if (ds_frame_queue_get_length (client->queue) > 0)
    return;
  if (client->dropping) {
    client->dropping = FALSE;
    relay_verbose ("channel %s: receiver #%u caught up",
        client->channel->name, client->id);
  }
  if (client->want_picture) {
    client->want_picture = FALSE;
    if (!ds_frame_queue_needs_keyframe (client->queue))
      return;
    if (ds_stream_state_is_encoded (client->channel->stream)) {
      /* the cached units are older than the ones it got: it skips to the
       * next keyframe unit (its queue drops units until then) */
      client->relay->metrics->encoded_skips++;
      relay_verbose ("channel %s: receiver #%u lost units: waiting for "
          "the next keyframe", client->channel->name, client->id);
      relay_channel_request_keyframe (client->channel);
      return;
    }
    client->relay->metrics->resyncs++;
    relay_client_send_picture (client);
  }
}

/* Fan-out to one receiver (SPEC §6.5): at once when nothing waits, else
 * through its bounded queue. @pinned: a catch-up, never dropped. */
static void
relay_client_queue (RelayClient * client, GBytes * frame,
    const DsHeader * header, gboolean pinned)
{
  DsRelay *relay = client->relay;
  guint64 dropped;
  gsize bytes;
  guint events;

  if (client->closing)
    return;
  if (!pinned && relay_client_transport_bytes (client) < WS_LOW_WATER &&
      ds_frame_queue_pass (client->queue, header)) {
    relay_client_send (client, frame);
    return;
  }

  dropped = ds_frame_queue_get_dropped (client->queue);
  bytes = ds_frame_queue_get_bytes (client->queue);
  if (pinned)
    events = ds_frame_queue_push_pinned (client->queue, frame, header, 0);
  else
    events = ds_frame_queue_push (client->queue, frame, header, 0);
  relay_client_account (client, bytes, dropped);
  if ((events & DS_FRAME_QUEUE_DROPPED) && !client->dropping) {
    client->dropping = TRUE;
    relay->metrics->overflows++;
    relay_log ("channel %s: receiver #%u (%s) is slow: %" G_GSIZE_FORMAT
        " bytes waiting, limit %" G_GINT64_FORMAT "; dropping deltas and "
        "audio first, merging signals", client->channel->name, client->id,
        client->peer, ds_frame_queue_get_bytes (client->queue),
        relay->settings.max_queue_bytes);
  }
  if (events & DS_FRAME_QUEUE_WANT_KEYFRAME)
    client->want_picture = TRUE;
  relay_client_flush (client);
}

static void
relay_client_queue_bytes (RelayClient * client, GBytes * frame, gboolean pinned)
{
  DsHeader header;

  if (ds_header_parse (g_bytes_get_data (frame, NULL),
          g_bytes_get_size (frame), &header, NULL))
    relay_client_queue (client, frame, &header, pinned);
}

/* For replies nobody else depends on (Ping echoes, input, signaling):
 * dropped when the peer's queue is already over --max-queue-bytes, so a
 * client that sends but never reads cannot grow the relay's memory */
static gboolean
relay_client_send_bounded (RelayClient * client, GBytes * frame)
{
  if (relay_client_transport_bytes (client) >
      (gsize) client->relay->settings.max_queue_bytes) {
    client->relay->metrics->dropped++;
    return FALSE;
  }
  relay_client_send (client, frame);
  return TRUE;
}

static void
relay_client_send_input (RelayClient * source, guint8 type,
    const DsInputEvent * event)
{
  RelayChannel *channel = source->channel;
  GBytes *frame;

  frame = ds_input_event_to_frame (event, channel->input_seq++,
      (guint32) ((relay_clock_now (source->relay->clock) -
              source->relay->started) / 1000));
  relay_client_send (source, frame);
  g_bytes_unref (frame);
}

static void
relay_channel_send_receiver_count (RelayChannel * channel, gboolean force)
{
  DsInputEvent event = { 0, };
  guint count = channel->receivers.length;

  if (channel->source == NULL)
    return;
  if (channel->relay->cluster)
    count += relay_cluster_remote_receivers (channel->relay->cluster, channel);
  if (!force && channel->receiver_count_sent &&
      count == channel->last_receiver_count)
    return;
  event.type = DS_INPUT_RECEIVER_COUNT;
  event.receiver_count.count = count;
  relay_client_send_input (channel->source, DS_INPUT_RECEIVER_COUNT, &event);
  channel->last_receiver_count = count;
  channel->receiver_count_sent = TRUE;
  relay_verbose ("channel %s: ReceiverCount %u to source",
      channel->name, count);
}

static void
relay_channel_send_keyframe_request_now (RelayChannel * channel)
{
  DsInputEvent event = { 0, };

  event.type = DS_INPUT_KEYFRAME_REQUEST;
  if (channel->source) {
    relay_client_send_input (channel->source, DS_INPUT_KEYFRAME_REQUEST,
        &event);
  } else {
    /* to the source's node, which coalesces the nodes' requests */
    GBytes *frame = ds_input_event_to_frame (&event, channel->input_seq++,
        (guint32) ((relay_clock_now (channel->relay->clock) -
                channel->relay->started) / 1000));

    relay_cluster_send_input (channel->relay->cluster, channel, frame);
    g_bytes_unref (frame);
  }
  channel->last_keyframe_request = relay_clock_now (channel->relay->clock);
  channel->keyframe_wanted = FALSE;
  channel->relay->metrics->keyframe_requests_forwarded++;
  relay_log ("channel %s: KeyframeRequest forwarded to source%s",
      channel->name, channel->source ? "" : " on another node");
}

/* A source here, or on another node of the cluster */
static gboolean
relay_channel_has_any_source (RelayChannel * channel)
{
  return channel->source != NULL || (channel->relay->cluster &&
      relay_cluster_has_remote_source (channel->relay->cluster, channel));
}

static gboolean
relay_channel_keyframe_request_cb (gpointer user_data)
{
  RelayChannel *channel = user_data;

  channel->keyframe_request_id = 0;
  if (relay_channel_has_any_source (channel))
    relay_channel_send_keyframe_request_now (channel);
  return G_SOURCE_REMOVE;
}

/* Coalesced and rate-limited: at most one per --keyframe-request-interval
 * (requests in between make one more request when it is over) */
static void
relay_channel_request_keyframe (RelayChannel * channel)
{
  gint64 now = relay_clock_now (channel->relay->clock);
  gint64 next;

  if (!relay_channel_has_any_source (channel)) {
    channel->keyframe_wanted = TRUE;
    return;
  }
  if (channel->keyframe_request_id) {
    channel->relay->metrics->keyframe_requests_coalesced++;
    return;
  }
  next = channel->last_keyframe_request +
      (gint64) (channel->relay->settings.keyframe_request_interval *
      G_TIME_SPAN_SECOND);
  if (channel->last_keyframe_request == 0 || now >= next) {
    relay_channel_send_keyframe_request_now (channel);
    return;
  }
  channel->relay->metrics->keyframe_requests_coalesced++;
  channel->keyframe_request_id = relay_clock_add_timeout (channel->relay->clock,
      next - now, relay_channel_keyframe_request_cb, channel);
}

/* Queues catch-up frames: pinned, never dropped */
static void
relay_client_send_frames (RelayClient * client, GPtrArray * frames)
{
  guint i;

  for (i = 0; i < frames->len; i++)
    relay_client_queue_bytes (client, g_ptr_array_index (frames, i), TRUE);
}

/* Without the picture the source's deltas apply to, a receiver gets no
 * delta until the next keyframe, which the source is asked for */
static void
relay_client_wait_for_keyframe (RelayClient * client)
{
  if (!ds_stream_state_get_picture_size (client->channel->stream, NULL, NULL))
    return;
  relay_client_lose_reference (client);
  relay_channel_request_keyframe (client->channel);
}

/* What a receiver needs for a correct picture now */
static void
relay_client_send_picture (RelayClient * client)
{
  RelayChannel *channel = client->channel;
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  gboolean has_reference = FALSE;

  ds_stream_state_picture_catchup (channel->stream, frames, &has_reference);
  relay_client_send_frames (client, frames);
  if (!has_reference)
    relay_client_wait_for_keyframe (client);
  g_ptr_array_unref (frames);
}

/* The merged signal state, stripped to the client's SubscribeFilter */
static void
relay_client_send_signal_sync (RelayClient * client)
{
  RelayChannel *channel = client->channel;
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  gsize bytes = ds_frame_queue_get_bytes (client->queue);
  guint64 dropped = ds_frame_queue_get_dropped (client->queue);

  /* it replaces the signal frames still queued (so requests in a loop
   * keep one at most) */
  ds_frame_queue_drop_signals (client->queue);
  relay_client_account (client, bytes, dropped);
  /* until the state is whole, a SignalSync is asked for (coalesced with
   * the other KeyframeRequests) */
  if (ds_stream_state_signal_catchup (channel->stream,
          (const gchar * const *) client->select, frames) &
      DS_STREAM_WANT_KEYFRAME)
    relay_channel_request_keyframe (channel);
  relay_client_send_frames (client, frames);
  g_ptr_array_unref (frames);
}

/* Catch-up for late joiners and resynced receivers (SPEC §6.4): the
 * schema, ONE merged signal frame, a correct picture, End */
static void
relay_client_send_catchup (RelayClient * client)
{
  RelayChannel *channel = client->channel;
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  gboolean has_reference = FALSE;
  guint events;

  events = ds_stream_state_catchup (channel->stream,
      (const gchar * const *) client->select, frames, &has_reference);
  relay_client_send_frames (client, frames);
  if (!has_reference)
    relay_client_wait_for_keyframe (client);
  if (events & DS_STREAM_WANT_KEYFRAME)
    relay_channel_request_keyframe (channel);
  if (has_reference && ds_stream_state_is_encoded (channel->stream))
    client->relay->metrics->encoded_catchups++;
  if (frames->len > 0) {
    channel->counters.catchups++;
    client->relay->metrics->catchups++;
    relay_verbose ("channel %s: catch-up sent to receiver #%u "
        "(%" G_GSIZE_FORMAT " bytes queued)", channel->name, client->id,
        relay_client_transport_bytes (client));
  }
  g_ptr_array_unref (frames);
}

static void
relay_client_deliver_signal (RelayClient * client, GBytes * frame,
    const DsHeader * header)
{
  const guint8 *data;
  gsize len;
  gchar *filtered;
  gsize filtered_len = 0;
  GBytes *out;
  DsSignalLimits limits;

  if (client->select == NULL) {
    relay_client_queue (client, frame, header, FALSE);
    return;
  }
  data = g_bytes_get_data (frame, &len);
  /* within the bounds the frame was accepted with */
  limits.max_bytes = client->relay->settings.max_signal_bytes;
  limits.max_keys = client->relay->settings.max_signal_keys;
  filtered = ds_signal_filter_full ((const gchar *) data + DS_HEADER_SIZE,
      header->payload_len, (const gchar * const *) client->select, &limits,
      &filtered_len, NULL);
  if (filtered == NULL) {
    /* a SignalSync always goes out (it replaces the state); an empty diff
     * does not */
    if (header->type != DS_FRAME_SIGNAL_SYNC)
      return;
    filtered = g_strdup ("{}");
    filtered_len = 2;
  }
  out = ds_frame_pack (header, filtered, filtered_len);
  relay_client_queue_bytes (client, out, FALSE);
  g_bytes_unref (out);
  g_free (filtered);
}

/* The connection wrote all it held: more from the receiver's queue */
void
relay_client_drained (RelayClient * client)
{
  relay_client_flush (client);
}

/* The source's picture changed in a way receivers cannot follow (a reset,
 * a refused picture): no delta goes out until the next keyframe */
static void
relay_channel_forget_reference (RelayChannel * channel)
{
  GList *l;

  for (l = channel->receivers.head; l; l = l->next)
    relay_client_lose_reference (l->data);
}

/* Source frames */

static void
relay_channel_fan_out (RelayChannel * channel, GBytes * frame,
    const DsHeader * header)
{
  gboolean is_signal = header->type == DS_FRAME_SIGNAL_SYNC ||
      header->type == DS_FRAME_SIGNAL_DIFF;
  GList *l;

  /* a receiver without the picture a delta applies to does not get it:
   * its queue waits for a keyframe (see relay_client_queue()) */
  for (l = channel->receivers.head; l; l = l->next) {
    RelayClient *client = l->data;

    if (is_signal)
      relay_client_deliver_signal (client, frame, header);
    else
      relay_client_queue (client, frame, header, FALSE);
  }
}

/* Logged at most once per REFUSAL_LOG_INTERVAL_MS per channel (pictures)
 * or per 10 s (signals), with how many were refused since */
static void
relay_channel_log_refusal (RelayChannel * channel, const DsHeader * header,
    const GError * error)
{
  gint64 now = relay_clock_now (channel->relay->clock);
  gboolean signal = ds_frame_type_media (header->type) == DS_MEDIA_SIGNAL;
  gint64 *logged = signal ? &channel->signals_refused_logged :
      &channel->last_refusal_log;
  gint64 interval = signal ? 10 * G_TIME_SPAN_SECOND :
      REFUSAL_LOG_INTERVAL_MS * G_TIME_SPAN_MILLISECOND;

  if (*logged != 0 && now - *logged < interval) {
    channel->refused_unlogged++;
    return;
  }
  relay_log ("channel %s: refused a %s from the source: %s (over %s; not "
      "cached, not forwarded; %u more refused since the last message)",
      channel->name, ds_frame_type_name (header->type), error->message,
      signal ? "--max-signal-bytes or --max-signal-keys" :
      "--max-picture-pixels", channel->refused_unlogged);
  *logged = now;
  channel->refused_unlogged = 0;
}

/* A source's frame (@header parsed), from the local source or from the
 * origin node: into the stream model, then out to the receivers. TRUE
 * when it was taken */
static gboolean
relay_channel_push_frame (RelayChannel * channel, GBytes * frame,
    const DsHeader * header)
{
  DsRelay *relay = channel->relay;
  gsize len = g_bytes_get_size (frame);
  GError *error = NULL;
  DsStreamVerdict verdict;
  guint events = 0;

  relay_verbose ("channel %s: %s seq %u ts %u %u bytes",
      channel->name, ds_frame_type_name (header->type), header->seq,
      header->timestamp, header->payload_len);

  verdict = ds_stream_state_push (channel->stream, frame, header, &events,
      &error);

  if (events & DS_STREAM_REFERENCE_LOST)
    relay_channel_forget_reference (channel);
  if (events & DS_STREAM_SIGNALS_PARTIAL)
    relay_log ("channel %s: signal diffs without a SignalSync (the relay "
        "restarted?): asking the source for one", channel->name);
  if (events & DS_STREAM_REBUILT) {
    relay->metrics->picture_rebuilds++;
    relay_verbose ("channel %s: rebuilt the cached picture into one "
        "keyframe", channel->name);
  }
  if (events & DS_STREAM_CACHE_DROPPED) {
    relay->metrics->cache_drops++;
    relay_log ("channel %s: a cached frame did not fit "
        "--max-channel-cache-bytes %" G_GINT64_FORMAT " (%" G_GSIZE_FORMAT
        " bytes cached): dropped; joiners wait for a keyframe", channel->name,
        relay->settings.max_channel_cache_bytes,
        ds_stream_state_get_cache_bytes (channel->stream));
  }
  if (events & DS_STREAM_WANT_KEYFRAME)
    relay_channel_request_keyframe (channel);

  switch (verdict) {
    case DS_STREAM_FORWARD:
      break;
    case DS_STREAM_SKIP:
      /* a delta on a picture receivers do not have; SubscribeFilter */
      relay->metrics->dropped++;
      channel->counters.dropped++;
      if (error)
        relay_verbose ("channel %s: dropped %s: %s", channel->name,
            ds_frame_type_name (header->type), error->message);
      g_clear_error (&error);
      return FALSE;
    case DS_STREAM_REFUSED:
      if (ds_frame_type_media (header->type) == DS_MEDIA_SIGNAL) {
        relay->metrics->signals_refused++;
        channel->counters.signals_refused++;
      } else {
        relay->metrics->pictures_refused++;
        channel->counters.pictures_refused++;
      }
      relay_channel_log_refusal (channel, header, error);
      g_clear_error (&error);
      return FALSE;
    case DS_STREAM_MALFORMED:
      relay->metrics->malformed++;
      relay_log ("channel %s: dropped a malformed frame from the source: %s",
          channel->name, error ? error->message : "?");
      g_clear_error (&error);
      return FALSE;
  }

  if (header->type == DS_FRAME_END)
    relay_log ("channel %s: End from the source", channel->name);

  channel->counters.frames_in++;
  channel->counters.bytes_in += len;
  channel->last_frame_time = relay_clock_now (relay->clock);
  relay->metrics->frames_in++;
  relay->metrics->bytes_in += len;
  relay_channel_fan_out (channel, frame, header);
  return TRUE;
}

static void
relay_source_frame (RelayClient * client, GBytes * frame)
{
  RelayChannel *channel = client->channel;
  DsRelay *relay = client->relay;
  const guint8 *data;
  gsize len;
  DsHeader header;
  GError *error = NULL;

  data = g_bytes_get_data (frame, &len);
  if (!ds_frame_parse_message (data, len, relay->settings.max_frame_bytes,
          &header, &error))
    goto malformed;

  if (header.flags & DS_FLAG_INPUT) {
    relay_verbose ("channel %s: dropped input frame 0x%02x from the "
        "source", channel->name, header.type);
    relay->metrics->dropped++;
    return;
  }
  if (header.type == DS_FRAME_PING) {
    if (ds_frame_validate (&header, data + DS_HEADER_SIZE, &error))
      relay_client_send_bounded (client, frame);
    else
      goto malformed;
    return;
  }

  if (relay_channel_push_frame (channel, frame, &header) && relay->cluster)
    relay_cluster_source_frame (relay->cluster, channel, frame);
  return;

  /* ERRORS */
malformed:
  {
    relay->metrics->malformed++;
    relay_log ("channel %s: dropped a malformed frame from the source: %s",
        channel->name, error ? error->message : "?");
    g_clear_error (&error);
    return;
  }
}

/* Receiver frames: input, SubscribeFilter, Ping; nothing else */

static void
relay_receiver_keyframe_request (RelayClient * client)
{
  RelayChannel *channel = client->channel;

  /* the receiver lost frames: the whole signal state too (a seq gap makes
   * dsdepay mark its state incomplete until a SignalSync) */
  relay_client_send_signal_sync (client);
  if (ds_stream_state_is_encoded (channel->stream)) {
    /* the cached units go back before what it got: no delta unit until
     * the next keyframe unit, which the source is asked for */
    relay_client_lose_reference (client);
    relay_channel_request_keyframe (channel);
    return;
  }
  if (ds_stream_state_has_picture (channel->stream)) {
    /* once its queue drained (at most one catch-up picture waits) */
    relay_client_lose_reference (client);
    client->want_picture = TRUE;
    relay_client_flush (client);
    client->relay->metrics->keyframe_requests_cache++;
    relay_verbose ("channel %s: KeyframeRequest from "
        "receiver #%u answered from the cache", channel->name, client->id);
    return;
  }
  relay_channel_request_keyframe (channel);
}

static void
relay_receiver_frame (RelayClient * client, GBytes * frame)
{
  RelayChannel *channel = client->channel;
  DsRelay *relay = client->relay;
  const guint8 *data;
  gsize len;
  DsHeader header;
  GError *error = NULL;
  const guint8 *payload;

  data = g_bytes_get_data (frame, &len);
  if (!ds_frame_parse_message (data, len, relay->settings.max_frame_bytes,
          &header, &error))
    goto malformed;
  payload = data + DS_HEADER_SIZE;
  if (!ds_frame_validate (&header, payload, &error))
    goto malformed;

  if (header.flags & DS_FLAG_INPUT) {
    if (header.type == DS_INPUT_KEYFRAME_REQUEST) {
      relay_receiver_keyframe_request (client);
      return;
    }
    if (client->view_only || header.type == DS_INPUT_RECEIVER_COUNT ||
        header.type == DS_INPUT_RECEIVER_REPORT) {
      relay_verbose ("channel %s: dropped input 0x%02x from %s "
          "receiver #%u", channel->name, header.type,
          client->view_only ? "view-only" : "", client->id);
      relay->metrics->dropped++;
      return;
    }
    if (channel->source == NULL) {
      if (relay->cluster &&
          relay_cluster_send_input (relay->cluster, channel, frame)) {
        relay_verbose ("channel %s: input %s from receiver #%u to the "
            "source's node", channel->name, ds_input_type_name (header.type),
            client->id);
        return;
      }
      relay->metrics->dropped++;
      return;
    }
    relay_verbose ("channel %s: input %s from receiver #%u",
        channel->name, ds_input_type_name (header.type), client->id);
    relay_client_send_bounded (channel->source, frame);
    return;
  }

  switch (header.type) {
    case DS_FRAME_PING:
      relay_client_send_bounded (client, frame);
      return;
    case DS_FRAME_SUBSCRIBE_FILTER:{
      gchar **select = ds_subscribe_filter_parse ((const gchar *) payload,
          header.payload_len, &error);

      if (select == NULL)
        goto malformed;
      g_strfreev (client->select);
      client->select = NULL;
      if (select[0] != NULL)
        client->select = select;
      else
        g_strfreev (select);
      relay_verbose ("channel %s: receiver #%u subscribed to %s",
          channel->name, client->id, client->select ? "a selection" : "all");
      /* what it holds now may have other keys: replace it */
      relay_client_send_signal_sync (client);
      return;
    }
    default:
      relay_verbose ("channel %s: dropped %s from receiver #%u: "
          "receivers cannot publish", channel->name,
          ds_frame_type_name (header.type), client->id);
      relay->metrics->dropped++;
      return;
  }

  /* ERRORS */
malformed:
  {
    relay->metrics->malformed++;
    relay_log ("channel %s: dropped a malformed frame from receiver #%u: %s",
        channel->name, client->id, error ? error->message : "?");
    g_clear_error (&error);
  }
}

/* To every signaling client of @channel but @from (NULL: all) */
static void
relay_channel_send_signaling (RelayChannel * channel, RelayClient * from,
    gboolean binary, GBytes * message)
{
  GList *l;

  for (l = channel->signaling.head; l; l = l->next) {
    RelayClient *other = l->data;

    if (other == from || other->closing)
      continue;
    if (relay_client_transport_bytes (other) >
        (gsize) channel->relay->settings.max_queue_bytes) {
      channel->relay->metrics->dropped++;
      continue;
    }
    other->funcs->send (other->conn, binary, message);
  }
}

static void
relay_signaling_message (RelayClient * client, gboolean binary,
    GBytes * message)
{
  relay_channel_send_signaling (client->channel, client, binary, message);
  if (client->relay->cluster)
    relay_cluster_signaling (client->relay->cluster, client->channel,
        binary, message);
}

void
relay_client_receive (RelayClient * client, gboolean binary, GBytes * message)
{
  if (client->closing)
    return;
  if (client->role == RELAY_ROLE_SIGNALING) {
    relay_signaling_message (client, binary, message);
    return;
  }
  if (!binary) {
    client->relay->metrics->malformed++;
    relay_log ("channel %s: %s #%u sent a text message, closing",
        client->channel->name, relay_role_name (client->role), client->id);
    relay_client_close (client, RELAY_WS_CLOSE_UNSUPPORTED_DATA,
        "ds-stream frames are binary messages");
    return;
  }
  if (client->role == RELAY_ROLE_SOURCE)
    relay_source_frame (client, message);
  else
    relay_receiver_frame (client, message);
}

/* Detaching */

static void
relay_client_free (RelayClient * client)
{
  client->relay->frame_queue_bytes -= ds_frame_queue_get_bytes (client->queue);
  ds_frame_queue_free (client->queue);
  g_strfreev (client->select);
  g_free (client->peer);
  g_free (client);
}

void
relay_client_remove (RelayClient * client, gushort peer_close_code)
{
  RelayChannel *channel = client->channel;
  DsRelay *relay = client->relay;

  switch (client->role) {
    case RELAY_ROLE_SOURCE:
      if (channel->source == client) {
        channel->source = NULL;
        relay_clock_clear_timeout (relay->clock, &channel->keyframe_request_id);
        if (!relay->shutting_down)
          relay_channel_start_source_grace (channel);
      }
      break;
    case RELAY_ROLE_RECEIVER:
      g_queue_unlink (&channel->receivers, &client->link);
      relay_channel_send_receiver_count (channel, FALSE);
      /* what the origin node sent goes stale from now on */
      if (relay->cluster && channel->receivers.length == 0 &&
          channel->source == NULL && channel->source_grace_id == 0)
        relay_channel_clear_caches (channel);
      break;
    case RELAY_ROLE_SIGNALING:
      g_queue_unlink (&channel->signaling, &client->link);
      break;
    default:
      break;
  }
  if (relay->cluster)
    relay_cluster_channel_changed (relay->cluster, channel);
  relay->n_clients--;
  relay->n_by_role[client->role]--;
  relay_log ("channel %s: %s #%u (%s) disconnected (peer close code %u)",
      channel->name, relay_role_name (client->role), client->id, client->peer,
      peer_close_code);
  if (relay_channel_is_empty (channel))
    channel->empty_since = relay_clock_now (relay->clock);
  relay_client_free (client);

  if (relay->shutting_down && relay->n_clients == 0 && relay->loop)
    g_main_loop_quit (relay->loop);
}

/* Attaching */

RelayClient *
relay_client_new (RelayChannel * channel, RelayRole role,
    const RelayClientFuncs * funcs, gpointer conn, const gchar * peer,
    gboolean view_only)
{
  DsRelay *relay = channel->relay;
  RelayClient *client = g_new0 (RelayClient, 1);
  DsSignalLimits limits;

  client->relay = relay;
  client->channel = channel;
  client->role = role;
  client->funcs = funcs;
  client->conn = conn;
  client->id = ++relay->next_client_id;
  client->peer = g_strdup (peer);
  client->view_only = view_only;
  client->link.data = client;
  client->queue = ds_frame_queue_new ((gsize) relay->settings.max_queue_bytes,
      0);
  /* a merge within the bounds the frames were accepted with */
  limits.max_bytes = relay->settings.max_signal_bytes;
  limits.max_keys = relay->settings.max_signal_keys;
  ds_frame_queue_set_signal_limits (client->queue, &limits);

  relay->n_clients++;
  relay->n_clients_peak = MAX (relay->n_clients_peak, relay->n_clients);
  relay->n_by_role[role]++;
  relay->metrics->connections_total[role]++;
  channel->empty_since = 0;
  return client;
}

void
relay_client_join (RelayClient * client)
{
  RelayChannel *channel = client->channel;
  DsRelay *relay = client->relay;

  switch (client->role) {
    case RELAY_ROLE_SOURCE:
      relay_clock_clear_timeout (relay->clock, &channel->source_grace_id);
      if (channel->source) {
        RelayClient *old = channel->source;

        relay->metrics->takeovers++;
        relay_log ("channel %s: source #%u (%s) takes over from source #%u "
            "(%s)", channel->name, client->id, client->peer, old->id,
            old->peer);
        /* the old one no longer is the source; its removal must not start
         * the grace timer */
        channel->source = NULL;
        relay_client_close (old, RELAY_WS_CLOSE_TAKEN_OVER,
            "ds-relay: another source took over this channel");
      }
      channel->source = client;
      channel->source_since = g_get_real_time ();
      relay_log ("channel %s: source #%u (%s) connected", channel->name,
          client->id, client->peer);
      if (relay->cluster)
        relay_cluster_channel_changed (relay->cluster, channel);
      relay_channel_send_receiver_count (channel, TRUE);
      if (channel->keyframe_wanted)
        relay_channel_request_keyframe (channel);
      break;
    case RELAY_ROLE_RECEIVER:
      g_queue_push_tail_link (&channel->receivers, &client->link);
      relay_log ("channel %s: receiver #%u (%s)%s connected, %u receivers",
          channel->name, client->id, client->peer,
          client->view_only ? " view-only" : "", channel->receivers.length);
      if (relay->cluster)
        relay_cluster_channel_changed (relay->cluster, channel);
      /* the catch-up the origin node sends is the one it gets */
      if (relay->cluster &&
          relay_cluster_catchup_pending (relay->cluster, channel))
        client->awaiting_catchup = TRUE;
      else
        relay_client_send_catchup (client);
      relay_channel_send_receiver_count (channel, FALSE);
      break;
    case RELAY_ROLE_SIGNALING:
      g_queue_push_tail_link (&channel->signaling, &client->link);
      relay_log ("channel %s: signaling #%u (%s) connected", channel->name,
          client->id, client->peer);
      if (relay->cluster)
        relay_cluster_channel_changed (relay->cluster, channel);
      break;
    default:
      break;
  }
}

guint
relay_client_get_id (RelayClient * client)
{
  return client->id;
}

void
relay_close_all (DsRelay * relay, gushort code, const gchar * reason)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, relay->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RelayChannel *channel = value;
    GList *l;

    if (channel->source)
      relay_client_close (channel->source, code, reason);
    for (l = channel->receivers.head; l; l = l->next)
      relay_client_close (l->data, code, reason);
    for (l = channel->signaling.head; l; l = l->next)
      relay_client_close (l->data, code, reason);
  }
}

/* Housekeeping */

/* Any client (source, receiver, signaling) whose queue made no progress
 * for --stuck-timeout is closed */
static void
relay_client_check_stuck (RelayClient * client, gint64 now, gint64 stuck)
{
  DsRelay *relay = client->relay;
  gchar *reason;

  if (client->closing || relay_client_transport_bytes (client) == 0)
    return;
  if (now - client->funcs->get_last_progress (client->conn) <= stuck)
    return;
  reason = g_strdup_printf ("ds-relay: %s too slow, no progress for %.0f s",
      relay_role_name (client->role), relay->settings.stuck_timeout);
  relay->metrics->slow_closes++;
  relay_log ("channel %s: closing %s #%u (%s): stuck with %" G_GSIZE_FORMAT
      " bytes queued", client->channel->name, relay_role_name (client->role),
      client->id, client->peer, relay_client_transport_bytes (client));
  relay_client_close (client, RELAY_WS_CLOSE_TOO_SLOW, reason);
  g_free (reason);
}

/* Every client, when the transport does not list the busy ones */
static GPtrArray *
relay_list_clients (DsRelay * relay, gsize * transport_bytes)
{
  GPtrArray *clients = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  guint n;

  *transport_bytes = 0;
  g_hash_table_iter_init (&iter, relay->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RelayChannel *channel = value;
    GQueue *lists[2] = { &channel->receivers, &channel->signaling };
    GList *l;
    guint i;

    if (channel->source)
      g_ptr_array_add (clients, channel->source);
    for (i = 0; i < G_N_ELEMENTS (lists); i++)
      for (l = lists[i]->head; l; l = l->next)
        g_ptr_array_add (clients, l->data);
  }
  for (n = 0; n < clients->len; n++)
    *transport_bytes +=
        relay_client_transport_bytes (g_ptr_array_index (clients, n));
  return clients;
}

/* Receiver reports */

static gint
compare_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

/* The median of @n sorted values (n > 0): the mean of the middle two for
 * an even @n */
static guint32
median_u32 (const guint32 * sorted, guint n)
{
  if (n % 2)
    return sorted[n / 2];
  return (guint32) (((guint64) sorted[n / 2 - 1] + sorted[n / 2]) / 2);
}

/* Measures the channel's local receivers over the last @elapsed µs and
 * starts the next interval. @kbps: room for all of them. O(n log n). */
static void
relay_channel_measure (RelayChannel * channel, gint64 elapsed, guint32 * kbps)
{
  RelayReceiverFigures *f = &channel->figures;
  gsize half_queue = (gsize) channel->relay->settings.max_queue_bytes / 2;
  guint64 dropped = 0;
  guint n = 0;
  GList *l;

  memset (f, 0, sizeof (*f));
  for (l = channel->receivers.head; l; l = l->next) {
    RelayClient *client = l->data;
    guint64 k = client->window_bytes * 8000 / (guint64) MAX (elapsed, 1);

    kbps[n++] = (guint32) MIN (k, G_MAXUINT32);
    dropped += client->window_dropped;
    if (client->window_dropped > 0 ||
        relay_client_get_queued_bytes (client) > half_queue)
      f->congested = TRUE;
    client->window_bytes = 0;
    client->window_dropped = 0;
  }
  if (n == 0)
    return;
  qsort (kbps, n, sizeof (guint32), compare_u32);
  f->receivers = n;
  f->kbps_min = kbps[0];
  f->kbps_median = median_u32 (kbps, n);
  f->kbps_max = kbps[n - 1];
  f->dropped = (guint32) MIN (dropped, G_MAXUINT32);
}

/* A ReceiverReport to the channel's source when a receiver (of any node)
 * was congested in the last interval */
static void
relay_channel_report (RelayChannel * channel)
{
  DsRelay *relay = channel->relay;
  RelayReceiverFigures f = channel->figures;
  DsReceiverReport report;
  GBytes *frame;

  if (channel->source == NULL || channel->source->closing)
    return;
  if (relay->cluster)
    relay_cluster_combine_figures (relay->cluster, channel, &f);
  if (!f.congested || f.receivers == 0)
    return;

  report.receivers = f.receivers;
  report.kbps_min = f.kbps_min;
  report.kbps_median = f.kbps_median;
  report.kbps_max = f.kbps_max;
  report.dropped = f.dropped;
  frame = ds_receiver_report_to_frame (&report, channel->input_seq++,
      (guint32) ((relay_clock_now (relay->clock) - relay->started) / 1000));
  if (relay_client_send_bounded (channel->source, frame)) {
    relay->metrics->receiver_reports++;
    relay_verbose ("channel %s: ReceiverReport to source: %u receivers, "
        "%u/%u/%u kbps, %u dropped", channel->name, report.receivers,
        report.kbps_min, report.kbps_median, report.kbps_max, report.dropped);
  }
  g_bytes_unref (frame);
}

/* Once per REPORT_INTERVAL_US for the whole relay: O(receivers) plus a
 * sort per channel */
static gboolean
relay_report_cb (gpointer user_data)
{
  DsRelay *relay = user_data;
  gint64 now = relay_clock_now (relay->clock);
  gint64 elapsed = now - relay->report_last;
  GHashTableIter iter;
  gpointer value;
  guint32 *kbps = NULL;
  guint kbps_size = 0;

  relay->report_last = now;
  relay->report_id = relay_clock_add_timeout (relay->clock,
      REPORT_INTERVAL_US, relay_report_cb, relay);

  g_hash_table_iter_init (&iter, relay->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RelayChannel *channel = value;

    if (channel->receivers.length > kbps_size) {
      kbps_size = channel->receivers.length;
      kbps = g_renew (guint32, kbps, kbps_size);
    }
    relay_channel_measure (channel, elapsed, kbps);
  }
  g_free (kbps);

  g_hash_table_iter_init (&iter, relay->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    relay_channel_report (value);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  guint32 median;
  guint weight;
} WeightedMedian;

static gint
compare_weighted (gconstpointer a, gconstpointer b)
{
  guint32 x = ((const WeightedMedian *) a)->median;
  guint32 y = ((const WeightedMedian *) b)->median;

  return x < y ? -1 : x > y;
}

/* The smallest of the medians with at least half of the weight at or
 * below it */
static guint32
weighted_median (WeightedMedian * medians, guint n)
{
  guint64 total = 0, sum = 0;
  guint i;

  qsort (medians, n, sizeof (WeightedMedian), compare_weighted);
  for (i = 0; i < n; i++)
    total += medians[i].weight;
  for (i = 0; i < n; i++) {
    sum += medians[i].weight;
    if (sum * 2 >= total)
      return medians[i].median;
  }
  return 0;
}

void
relay_receiver_figures_combine (RelayReceiverFigures * figures,
    const RelayReceiverFigures * others, guint n_others)
{
  WeightedMedian *medians = g_new (WeightedMedian, n_others + 1);
  guint64 receivers = figures->receivers, dropped = figures->dropped;
  guint i, n = 0;

  if (figures->receivers > 0) {
    medians[n].median = figures->kbps_median;
    medians[n++].weight = figures->receivers;
  }
  for (i = 0; i < n_others; i++) {
    const RelayReceiverFigures *r = &others[i];

    if (r->receivers == 0)
      continue;
    if (n == 0) {
      figures->kbps_min = r->kbps_min;
      figures->kbps_max = r->kbps_max;
    } else {
      figures->kbps_min = MIN (figures->kbps_min, r->kbps_min);
      figures->kbps_max = MAX (figures->kbps_max, r->kbps_max);
    }
    receivers += r->receivers;
    dropped += r->dropped;
    figures->congested |= r->congested;
    medians[n].median = r->kbps_median;
    medians[n++].weight = r->receivers;
  }
  figures->receivers = (guint) MIN (receivers, G_MAXUINT32);
  figures->dropped = (guint32) MIN (dropped, G_MAXUINT32);
  if (n > 0)
    figures->kbps_median = weighted_median (medians, n);
  g_free (medians);
}

void
relay_channel_get_figures (RelayChannel * channel,
    RelayReceiverFigures * figures)
{
  *figures = channel->figures;
}

void
relay_channels_init (DsRelay * relay, RelayClock * clock)
{
  relay->clock = clock;
  relay->channels = g_hash_table_new (g_str_hash, g_str_equal);
  relay->metrics = g_new0 (RelayMetrics, 1);
  relay->started = relay_clock_now (clock);
  relay->report_last = relay->started;
  relay->report_id = relay_clock_add_timeout (clock, REPORT_INTERVAL_US,
      relay_report_cb, relay);
}

void
relay_exit (DsRelay * relay, gint code)
{
  relay->exit_code = code;
  if (relay->loop != NULL)
    g_main_loop_quit (relay->loop);
}

void
relay_channels_free (DsRelay * relay)
{
  GHashTableIter iter;
  gpointer value;

  if (relay->clock)
    relay_clock_clear_timeout (relay->clock, &relay->report_id);
  if (relay->channels) {
    g_hash_table_iter_init (&iter, relay->channels);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      g_hash_table_iter_steal (&iter);
      relay_channel_free (value);
    }
  }
  g_clear_pointer (&relay->channels, g_hash_table_unref);
  g_clear_pointer (&relay->metrics, g_free);
}

/* Runs every 100 ms: its cost must not grow with the number of idle
 * clients, so it looks only at the clients with something queued (the
 * others cannot be stuck) and at the channels */
void
relay_housekeeping (DsRelay * relay, GPtrArray * busy, gsize transport_bytes)
{
  GHashTableIter iter;
  gpointer value;
  gint64 now = relay_clock_now (relay->clock);
  gint64 stuck = (gint64) (relay->settings.stuck_timeout * G_TIME_SPAN_SECOND);
  gint64 idle = (gint64) (relay->settings.idle_grace * G_TIME_SPAN_SECOND);
  gsize queued = transport_bytes;
  gboolean trim = FALSE;
  GPtrArray *all = NULL;
  guint i;

  if (busy == NULL)
    busy = all = relay_list_clients (relay, &queued);
  for (i = 0; i < busy->len; i++)
    relay_client_check_stuck (g_ptr_array_index (busy, i), now, stuck);
  if (all)
    g_ptr_array_unref (all);

  g_hash_table_iter_init (&iter, relay->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RelayChannel *channel = value;

    if (relay_channel_is_empty (channel) && channel->empty_since != 0 &&
        now - channel->empty_since >= idle) {
      relay_log ("channel %s removed after %.1f s idle", channel->name,
          relay->settings.idle_grace);
      g_hash_table_iter_steal (&iter);
      relay_channel_free (channel);
    }
  }

  /* Large queues (or the clients holding them) went away: glibc keeps
   * freed memory in its arenas, give it back */
  queued += relay->frame_queue_bytes;
  relay->queued_peak = MAX (relay->queued_peak, queued);
  if (relay->queued_peak - queued >= TRIM_THRESHOLD) {
    trim = TRUE;
    relay_verbose ("queues shrank from %" G_GSIZE_FORMAT " to %"
        G_GSIZE_FORMAT " bytes: memory trimmed", relay->queued_peak, queued);
  }
  if (relay->queued_peak - queued >= TRIM_THRESHOLD || queued == 0)
    relay->queued_peak = queued;
  /* so did many clients (each left some kilobytes of small allocations in
   * the heap, which glibc does not give back by itself) */
  if (relay->n_clients_peak - relay->n_clients >= TRIM_CLIENTS) {
    trim = TRUE;
    relay_verbose ("clients went from %u to %u: memory trimmed",
        relay->n_clients_peak, relay->n_clients);
    relay->n_clients_peak = relay->n_clients;
  }
#ifdef __GLIBC__
  if (trim)
    malloc_trim (0);
#endif
}

/* Views */

void
relay_channel_get_stats (RelayChannel * channel, RelayChannelStats * stats)
{
  GList *l;

  memset (stats, 0, sizeof (*stats));
  stats->name = channel->name;
  stats->has_source = channel->source != NULL;
  stats->has_remote_source = channel->relay->cluster != NULL &&
      relay_cluster_has_remote_source (channel->relay->cluster, channel);
  stats->receivers = channel->receivers.length;
  stats->signaling = channel->signaling.length;
  stats->counters = channel->counters;
  for (l = channel->receivers.head; l; l = l->next) {
    gsize queued = relay_client_get_queued_bytes (l->data);

    stats->queued_bytes += queued;
    stats->queued_max = MAX (stats->queued_max, queued);
  }
  stats->last_frame_age_ms = -1;
  if (channel->last_frame_time)
    stats->last_frame_age_ms = (relay_clock_now (channel->relay->clock) -
        channel->last_frame_time) / 1000;
  stats->has_schema = ds_stream_state_has_schema (channel->stream);
  stats->signals = ds_signal_state_n_values (ds_stream_state_get_signals
      (channel->stream, NULL));
  stats->cached_deltas = ds_stream_state_get_n_deltas (channel->stream);
  stats->cache_bytes = ds_stream_state_get_cache_bytes (channel->stream);
  stats->ended = ds_stream_state_has_ended (channel->stream);
}

/* The cluster */

const gchar *
relay_channel_get_name (RelayChannel * channel)
{
  return channel->name;
}

gboolean
relay_channel_has_source (RelayChannel * channel)
{
  return channel->source != NULL;
}

gint64
relay_channel_get_source_since (RelayChannel * channel)
{
  return channel->source ? channel->source_since : 0;
}

guint
relay_channel_get_n_receivers (RelayChannel * channel)
{
  return channel->receivers.length;
}

guint
relay_channel_get_n_signaling (RelayChannel * channel)
{
  return channel->signaling.length;
}

void
relay_channel_remote_signaling (RelayChannel * channel, gboolean binary,
    GBytes * message)
{
  relay_channel_send_signaling (channel, NULL, binary, message);
}

gboolean
relay_channel_has_cached_state (RelayChannel * channel)
{
  return !ds_stream_state_is_empty (channel->stream);
}

void
relay_channel_remote_frame (RelayChannel * channel, GBytes * frame)
{
  DsRelay *relay = channel->relay;
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  DsHeader header;
  GError *error = NULL;

  if (!ds_frame_parse_message (data, len, relay->settings.max_frame_bytes,
          &header, &error) || (header.flags & DS_FLAG_INPUT) ||
      header.type == DS_FRAME_PING) {
    relay->metrics->malformed++;
    relay_log ("channel %s: dropped a malformed frame from the source's "
        "node: %s", channel->name, error ? error->message : "not a source "
        "frame");
    g_clear_error (&error);
    return;
  }
  relay_channel_push_frame (channel, frame, &header);
}

void
relay_channel_remote_input (RelayChannel * channel, GBytes * frame)
{
  DsRelay *relay = channel->relay;
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  DsHeader header;
  GError *error = NULL;

  if (!ds_frame_parse_message (data, len, RELAY_MAX_RECEIVER_MESSAGE,
          &header, &error) ||
      !ds_frame_validate (&header, data + DS_HEADER_SIZE, &error) ||
      !(header.flags & DS_FLAG_INPUT) ||
      header.type == DS_INPUT_RECEIVER_COUNT ||
      header.type == DS_INPUT_RECEIVER_REPORT) {
    relay->metrics->malformed++;
    relay_log ("channel %s: dropped a malformed input frame from another "
        "node: %s", channel->name, error ? error->message : "not input");
    g_clear_error (&error);
    return;
  }
  if (channel->source == NULL) {
    relay->metrics->dropped++;
    return;
  }
  if (header.type == DS_INPUT_KEYFRAME_REQUEST) {
    relay_channel_request_keyframe (channel);
    return;
  }
  relay_verbose ("channel %s: input %s from another node", channel->name,
      ds_input_type_name (header.type));
  relay_client_send_bounded (channel->source, frame);
}

void
relay_channel_remote_catchup (RelayChannel * channel, GPtrArray * frames)
{
  GList *l;
  guint i;

  if (frames) {
    relay_channel_clear_caches (channel);
    for (i = 0; i < frames->len; i++) {
      GBytes *frame = g_ptr_array_index (frames, i);
      gsize len;
      const guint8 *data = g_bytes_get_data (frame, &len);
      DsHeader header;

      if (ds_frame_parse_message (data, len,
              channel->relay->settings.max_frame_bytes, &header, NULL))
        ds_stream_state_push (channel->stream, frame, &header, NULL, NULL);
    }
  }
  /* with a catch-up, every receiver (a resync for those that lost
   * frames); without, those that waited get what is here */
  for (l = channel->receivers.head; l; l = l->next) {
    RelayClient *client = l->data;

    if (frames || client->awaiting_catchup)
      relay_client_send_catchup (client);
    client->awaiting_catchup = FALSE;
  }
}

void
relay_channel_get_catchup (RelayChannel * channel, GPtrArray * frames)
{
  ds_stream_state_catchup (channel->stream, NULL, frames, NULL);
}

void
relay_channel_update_receiver_count (RelayChannel * channel)
{
  relay_channel_send_receiver_count (channel, FALSE);
}

void
relay_channel_remote_takeover (RelayChannel * channel)
{
  RelayClient *old = channel->source;
  DsRelay *relay = channel->relay;

  if (old == NULL)
    return;
  relay->metrics->takeovers++;
  relay_log ("channel %s: source #%u (%s) closed: a source on another node "
      "took over", channel->name, old->id, old->peer);
  /* no grace timer: the channel's source is on the other node */
  channel->source = NULL;
  relay_clock_clear_timeout (relay->clock, &channel->keyframe_request_id);
  relay_client_close (old, RELAY_WS_CLOSE_TAKEN_OVER,
      "ds-relay: another source took over this channel");
  relay_cluster_channel_changed (relay->cluster, channel);
}

void
relay_channel_remote_source_changed (RelayChannel * channel, gboolean present)
{
  DsRelay *relay = channel->relay;

  if (channel->source != NULL)
    return;
  if (present) {
    /* back on another node, as a source back here: the state goes on */
    if (channel->source_grace_id) {
      relay_clock_clear_timeout (relay->clock, &channel->source_grace_id);
      relay_log ("channel %s: a source is back on another node: its cached "
          "state goes on", channel->name);
    }
    /* what receivers asked while no source was anywhere */
    if (channel->keyframe_wanted)
      relay_channel_request_keyframe (channel);
    return;
  }
  if (relay->shutting_down || ds_stream_state_is_empty (channel->stream))
    return;
  relay_log ("channel %s: the source's node left or its source did: the "
      "cached state is kept for %.1f s", channel->name,
      relay->settings.source_grace);
  relay_channel_start_source_grace (channel);
}
