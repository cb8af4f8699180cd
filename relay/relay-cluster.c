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

/* The cluster over NATS (docs/cluster.md has the subjects and the message
 * layout).
 *
 * Roles, per channel and per node: the node holding the channel's source
 * is its origin; it subscribes to the channel's input and catch-up
 * subjects and publishes the source's frames while another node's
 * heartbeat says it watches the channel. A node with receivers on the
 * channel and no source of its own watches it: it subscribes to the
 * frames, asks the origin for its catch-up, and plays the frames through
 * the channel's stream model as if a local source sent them.
 *
 * Threads: libnats calls on_message() and the connection handlers on its
 * own threads; they only queue (bounded by MAX_PENDING_BYTES) and wake the
 * main loop, whose dispatch drains the queue. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <ds/dsjson.h>
#include <ds/dsprotocol.h>

#include "relay-channel.h"
#include "relay-cluster.h"
#include "relay-log.h"

#ifdef DS_HAVE_NATS
#include <json-glib/json-glib.h>
#include <nats/nats.h>
#endif

#define DEFAULT_CLUSTER_NAME "ds"
#define MAX_CLUSTER_NAME 64

/* 1-64 of [A-Za-z0-9_-] separated by single dots */
static gboolean
relay_cluster_name_is_valid (const gchar * name)
{
  gsize i;

  if (name == NULL || name[0] == '\0' || name[0] == '.')
    return FALSE;
  for (i = 0; name[i]; i++) {
    gchar c = name[i];

    if (i >= MAX_CLUSTER_NAME)
      return FALSE;
    if (c == '.') {
      if (name[i + 1] == '.' || name[i + 1] == '\0')
        return FALSE;
      continue;
    }
    if (!g_ascii_isalnum (c) && c != '_' && c != '-')
      return FALSE;
  }
  return TRUE;
}

gboolean
relay_cluster_check_settings (const RelaySettings * s, GError ** error)
{
  gboolean any = s->cluster_user || s->cluster_password || s->cluster_token
      || s->cluster_ca || s->cluster_cert || s->cluster_key ||
      s->cluster_name || s->node_id;

  if (s->cluster == NULL) {
    if (any) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--cluster-* and --node-id need --cluster");
      return FALSE;
    }
    return TRUE;
  }
  if (!relay_cluster_supported ()) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
        "--cluster: this ds-relay was built without NATS support (libnats); "
        "rebuild with -Dnats=enabled");
    return FALSE;
  }
  if ((s->cluster_user == NULL) != (s->cluster_password == NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--cluster-user and --cluster-password go together");
    return FALSE;
  }
  if (s->cluster_user && s->cluster_token) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--cluster-token and --cluster-user are exclusive");
    return FALSE;
  }
  if ((s->cluster_cert == NULL) != (s->cluster_key == NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--cluster-cert and --cluster-key go together");
    return FALSE;
  }
  if (s->cluster_name && !relay_cluster_name_is_valid (s->cluster_name)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--cluster-name takes 1-64 of [A-Za-z0-9_-] and single dots, "
        "not \"%s\"", s->cluster_name);
    return FALSE;
  }
  if (s->node_id) {
    gsize len = strlen (s->node_id), i;

    for (i = 0; i < len; i++)
      if (!g_ascii_isxdigit (s->node_id[i]))
        break;
    if (len == 0 || len > 16 || i < len ||
        g_ascii_strtoull (s->node_id, NULL, 16) == 0) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--node-id takes 1-16 hexadecimal digits, not all zero, not "
          "\"%s\"", s->node_id);
      return FALSE;
    }
  }
  return TRUE;
}

#ifndef DS_HAVE_NATS

/* Built without libnats: --cluster is refused at start
 * (relay_cluster_check_settings()), nothing below is reached */

gboolean
relay_cluster_supported (void)
{
  return FALSE;
}

RelayCluster *
relay_cluster_new (DsRelay * relay, GError ** error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
      "this ds-relay was built without NATS support (libnats); rebuild "
      "with -Dnats=enabled");
  return NULL;
}

void
relay_cluster_free (RelayCluster * cluster)
{
}

gboolean
relay_cluster_is_connected (RelayCluster * cluster)
{
  return FALSE;
}

void
relay_cluster_metrics_text (RelayCluster * cluster, GString * s)
{
}

void
relay_cluster_channel_changed (RelayCluster * cluster, RelayChannel * channel)
{
}

void
relay_cluster_channel_removed (RelayCluster * cluster, RelayChannel * channel)
{
}

void
relay_cluster_source_frame (RelayCluster * cluster, RelayChannel * channel,
    GBytes * frame)
{
}

gboolean
relay_cluster_send_input (RelayCluster * cluster, RelayChannel * channel,
    GBytes * frame)
{
  return FALSE;
}

void
relay_cluster_signaling (RelayCluster * cluster, RelayChannel * channel,
    gboolean binary, GBytes * message)
{
}

guint
relay_cluster_remote_receivers (RelayCluster * cluster, RelayChannel * channel)
{
  return 0;
}

void
relay_cluster_combine_figures (RelayCluster * cluster, RelayChannel * channel,
    RelayReceiverFigures * figures)
{
}

gboolean
relay_cluster_has_remote_source (RelayCluster * cluster, RelayChannel * channel)
{
  return FALSE;
}

void
relay_cluster_add_remote_channels (RelayCluster * cluster, GHashTable * names)
{
}

gboolean
relay_cluster_name_has_remote_source (RelayCluster * cluster,
    const gchar * name)
{
  return FALSE;
}

gboolean
relay_cluster_catchup_pending (RelayCluster * cluster, RelayChannel * channel)
{
  return FALSE;
}

#else /* DS_HAVE_NATS */

/* The message layout: a fixed header, then a piece of the payload */
#define HEADER_SIZE 32
#define HEADER_MAGIC0 'd'
#define HEADER_MAGIC1 's'
#define HEADER_VERSION 1

typedef enum
{
  KIND_FRAME = 1,               /* <prefix>.ch.<hex>.f: a source frame */
  KIND_INPUT = 2,               /* <prefix>.ch.<hex>.in: a receiver's input */
  KIND_CATCHUP = 3,             /* to a request's reply subject */
  KIND_CATCHUP_REQUEST = 4,     /* <prefix>.ch.<hex>.cu */
  KIND_HEARTBEAT = 5,           /* <prefix>.nodes, JSON */
  KIND_SIGNALING = 6,           /* <prefix>.ch.<hex>.sig: a /signal/ message */
} MessageKind;

/* KIND_SIGNALING: the header's seq says whether it was a binary (1) or a
 * text (0) WebSocket message */
#define SIGNALING_BINARY 1

typedef struct
{
  guint8 kind;
  guint64 node;
  guint64 seq;
  guint32 total;                /* of the whole payload, all chunks */
  guint16 index;
  guint16 count;
} MessageHeader;

/* Pieces of at most this many bytes, header included (and at most the
 * server's max_payload) */
#define DEFAULT_CHUNK_BYTES (512 * 1024)
#define MIN_CHUNK_BYTES 4096
#define TICK_MS 250
/* The longest a publish may block the main loop */
#define WRITE_DEADLINE_MS 500
#define HEARTBEAT_INTERVAL_US (1 * G_TIME_SPAN_SECOND)
#define HEARTBEAT_SOON_MS 50
#define NODE_TIMEOUT_US (3 * G_TIME_SPAN_SECOND)
/* After connecting to NATS, a node has not heard every other node's
 * heartbeat yet: its sources' frames are published whether or not it
 * knows of a node watching, for one heartbeat interval and a margin */
#define PUBLISH_ALL_US (HEARTBEAT_INTERVAL_US + G_TIME_SPAN_SECOND / 2)
#define CATCHUP_TIMEOUT_US (3 * G_TIME_SPAN_SECOND)
#define REASSEMBLY_TIMEOUT_US (5 * G_TIME_SPAN_SECOND)
/* Messages handed to the main loop and not yet read */
#define MAX_PENDING_BYTES (256 * 1024 * 1024)
/* Messages the main loop reads per dispatch (then other sources run) */
#define MAX_DISPATCH_MESSAGES 256
#define MAX_HEARTBEAT_BYTES (512 * 1024)
#define MAX_NODES 1024
#define MAX_NODE_CHANNELS 8192

/* One message being put together from its chunks */
typedef struct
{
  GByteArray *data;             /* NULL: none */
  guint64 node;
  guint64 seq;
  guint32 total;
  guint16 count;
  guint16 next;
  gint64 started;
} Reassembly;

typedef struct
{
  guint64 origin;
  guint64 seq;
  GBytes *frame;
} BufferedFrame;

/* What this node does about a channel */
typedef struct
{
  gchar *name;
  gchar *hex;
  RelayChannel *channel;
  guint receivers;              /* local, as last announced */
  guint signaling;              /* local /signal/ clients, as announced */
  natsSubscription *signaling_sub;

  /* origin: it holds the channel's source */
  gboolean holds_source;
  gint64 source_since;          /* real time, for take-overs */
  natsSubscription *input_sub;
  natsSubscription *catchup_sub;
  /* frames accepted from the source, counted from the real time (µs)
   * the channel began here: a channel that ends and begins again on this
   * node, or on this node restarted with the same --node-id, goes on
   * above the numbers it used before */
  guint64 out_seq;
  guint64 bytes_published;

  /* another node holds the source (as the main loop last saw it) */
  gboolean remote_source;

  /* watcher: local receivers, no local source */
  gboolean watching;
  natsSubscription *frames_sub;
  gboolean have_seq;
  guint64 origin;
  guint64 last_seq;
  gboolean need_catchup;        /* none applied since it watches */
  gchar *catchup_inbox;         /* a catch-up is on its way */
  gint64 catchup_deadline;
  GQueue buffered;              /* BufferedFrame, while it is */
  gsize buffered_bytes;
  Reassembly frame_in;
  Reassembly catchup_in;
} ClusterChannel;

/* Another node's last heartbeat, per channel */
typedef struct
{
  guint receivers;
  /* its receivers over its last second ("report"), when it has some */
  gboolean has_report;
  RelayReceiverFigures report;
  guint signaling;
  gboolean watching;
  gboolean source;
  gint64 source_since;
  guint64 seq;                  /* its source's last frame, 0: not said */
} NodeChannel;

typedef struct
{
  guint64 id;
  gint64 last_seen;
  guint64 heartbeat_seq;
  GHashTable *channels;         /* name -> NodeChannel */
} RemoteNode;

typedef enum
{
  EVENT_MESSAGE,
  EVENT_CONNECTED,
  EVENT_DISCONNECTED,
  EVENT_CLOSED,
} EventType;

typedef struct
{
  EventType type;
  natsMsg *msg;
} Event;

typedef struct
{
  GSource source;
  RelayCluster *cluster;
} WakeSource;

struct _RelayCluster
{
  DsRelay *relay;
  guint64 node_id;
  gchar node_hex[17];
  gchar *prefix;
  gchar *nodes_subject;
  gchar *inbox_prefix;
  guint64 next_inbox;

  natsOptions *options;
  natsConnection *conn;
  natsSubscription *nodes_sub;
  natsSubscription *inbox_sub;

  GHashTable *channels;         /* name -> ClusterChannel */
  GHashTable *nodes;            /* &id -> RemoteNode */

  /* from libnats's threads */
  GAsyncQueue *queue;           /* Event */
  GSource *wake;
  gint pending_bytes;           /* atomic */
  gint connected;               /* atomic */
  guint queue_drops;            /* atomic */
  gboolean was_connected;       /* main loop's view, for the log */
  gchar *last_error;            /* libnats's, as last logged */

  gint64 publish_all_until;     /* monotonic */

  guint tick_id;
  guint heartbeat_soon_id;
  gint64 last_heartbeat;
  guint64 heartbeat_seq;

  /* counters */
  guint64 bytes_out;
  guint64 bytes_in;
  guint64 messages_out;
  guint64 messages_in;
  guint64 malformed;
  guint64 gaps;
  guint64 publish_errors;
  guint64 signaling_out;
  guint64 signaling_in;
  guint64 signaling_too_big;
  guint64 catchups_served;
  guint64 catchups_received;
  guint64 takeovers;
  gint connects;                /* atomic */
};

gboolean
relay_cluster_supported (void)
{
  return TRUE;
}

/* Headers */

static void
put_be (guint8 * out, guint64 value, guint bytes)
{
  guint i;

  for (i = 0; i < bytes; i++)
    out[i] = (guint8) (value >> (8 * (bytes - 1 - i)));
}

static guint64
get_be (const guint8 * in, guint bytes)
{
  guint64 value = 0;
  guint i;

  for (i = 0; i < bytes; i++)
    value = (value << 8) | in[i];
  return value;
}

static void
header_write (guint8 * out, const MessageHeader * h)
{
  out[0] = HEADER_MAGIC0;
  out[1] = HEADER_MAGIC1;
  out[2] = HEADER_VERSION;
  out[3] = h->kind;
  put_be (out + 4, h->node, 8);
  put_be (out + 12, h->seq, 8);
  put_be (out + 20, h->total, 4);
  put_be (out + 24, h->index, 2);
  put_be (out + 26, h->count, 2);
  put_be (out + 28, 0, 4);
}

static gboolean
header_parse (const guint8 * data, gsize len, MessageHeader * h)
{
  if (len < HEADER_SIZE || data[0] != HEADER_MAGIC0 ||
      data[1] != HEADER_MAGIC1 || data[2] != HEADER_VERSION)
    return FALSE;
  h->kind = data[3];
  h->node = get_be (data + 4, 8);
  h->seq = get_be (data + 12, 8);
  h->total = (guint32) get_be (data + 20, 4);
  h->index = (guint16) get_be (data + 24, 2);
  h->count = (guint16) get_be (data + 26, 2);
  return h->count > 0 && h->index < h->count;
}

/* Subjects */

static gchar *
hex_encode (const gchar * name)
{
  gsize len = strlen (name), i;
  gchar *hex = g_malloc (len * 2 + 1);

  for (i = 0; i < len; i++)
    g_snprintf (hex + i * 2, 3, "%02x", (guint8) name[i]);
  hex[len * 2] = '\0';
  return hex;
}

/* A valid channel name, or NULL */
static gchar *
hex_decode (const gchar * hex, gsize len)
{
  gchar *name;
  gsize i;

  if (len == 0 || len % 2 != 0 || len > 128)
    return NULL;
  name = g_malloc (len / 2 + 1);
  for (i = 0; i < len / 2; i++) {
    gint hi = g_ascii_xdigit_value (hex[i * 2]);
    gint lo = g_ascii_xdigit_value (hex[i * 2 + 1]);

    if (hi < 0 || lo < 0 || g_ascii_isupper (hex[i * 2]) ||
        g_ascii_isupper (hex[i * 2 + 1])) {
      g_free (name);
      return NULL;
    }
    name[i] = (gchar) (hi * 16 + lo);
  }
  name[len / 2] = '\0';
  if (!relay_channel_name_is_valid (name)) {
    g_free (name);
    return NULL;
  }
  return name;
}

static gchar *
channel_subject (RelayCluster * cluster, ClusterChannel * cc,
    const gchar * what)
{
  return g_strdup_printf ("%s.ch.%s.%s", cluster->prefix, cc->hex, what);
}

/* Publishing */

static gsize
cluster_chunk_bytes (RelayCluster * cluster)
{
  gint64 max_payload = natsConnection_GetMaxPayload (cluster->conn);
  gsize chunk = DEFAULT_CHUNK_BYTES;

  if (max_payload > 0 && (guint64) max_payload < chunk)
    chunk = (gsize) max_payload;
  return MAX (chunk, MIN_CHUNK_BYTES);
}

/* Publishes @data in chunks; the bytes sent (headers included), 0 when
 * it could not */
static gsize
cluster_publish (RelayCluster * cluster, const gchar * subject,
    const gchar * reply, MessageKind kind, guint64 seq, const guint8 * data,
    gsize len)
{
  gsize piece = cluster_chunk_bytes (cluster) - HEADER_SIZE;
  gsize count = len == 0 ? 1 : (len + piece - 1) / piece;
  MessageHeader h = { 0, };
  guint8 *buf;
  gsize i, sent = 0;

  if (count > G_MAXUINT16 || len > G_MAXUINT32) {
    cluster->publish_errors++;
    return 0;
  }
  h.kind = kind;
  h.node = cluster->node_id;
  h.seq = seq;
  h.total = (guint32) len;
  h.count = (guint16) count;
  buf = g_malloc (HEADER_SIZE + MIN (len, piece));
  for (i = 0; i < count; i++) {
    gsize offset = i * piece;
    gsize n = MIN (piece, len - offset);
    natsStatus status;

    h.index = (guint16) i;
    header_write (buf, &h);
    if (n > 0)
      memcpy (buf + HEADER_SIZE, data + offset, n);
    if (reply)
      status = natsConnection_PublishRequest (cluster->conn, subject, reply,
          buf, (int) (HEADER_SIZE + n));
    else
      status = natsConnection_Publish (cluster->conn, subject, buf,
          (int) (HEADER_SIZE + n));
    if (status != NATS_OK) {
      cluster->publish_errors++;
      relay_verbose ("cluster: publishing on %s failed: %s", subject,
          natsStatus_GetText (status));
      break;
    }
    sent += HEADER_SIZE + n;
    cluster->messages_out++;
  }
  g_free (buf);
  cluster->bytes_out += sent;
  return sent;
}

/* Heartbeats */

/* "report": the node's receivers of the channel over the last second */
static void
cluster_add_report (JsonBuilder * builder, ClusterChannel * cc)
{
  RelayReceiverFigures f;

  relay_channel_get_figures (cc->channel, &f);
  if (f.receivers == 0)
    return;
  json_builder_set_member_name (builder, "report");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "congested");
  json_builder_add_boolean_value (builder, f.congested);
  json_builder_set_member_name (builder, "min");
  json_builder_add_int_value (builder, f.kbps_min);
  json_builder_set_member_name (builder, "median");
  json_builder_add_int_value (builder, f.kbps_median);
  json_builder_set_member_name (builder, "max");
  json_builder_add_int_value (builder, f.kbps_max);
  json_builder_set_member_name (builder, "dropped");
  json_builder_add_int_value (builder, f.dropped);
  json_builder_end_object (builder);
}

/* @reports: with each channel's "report" (left out when the heartbeat
 * would not fit MAX_HEARTBEAT_BYTES with them) */
static gchar *
cluster_heartbeat_text (RelayCluster * cluster, gboolean reports, gsize * len)
{
  JsonBuilder *builder = json_builder_new ();
  JsonGenerator *generator;
  JsonNode *root;
  GHashTableIter iter;
  gpointer value;
  gchar *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "channels");
  json_builder_begin_array (builder);
  g_hash_table_iter_init (&iter, cluster->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    ClusterChannel *cc = value;

    if (cc->receivers == 0 && !cc->holds_source && !cc->watching &&
        cc->signaling == 0)
      continue;
    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "name");
    json_builder_add_string_value (builder, cc->name);
    json_builder_set_member_name (builder, "receivers");
    json_builder_add_int_value (builder, cc->receivers);
    json_builder_set_member_name (builder, "watching");
    json_builder_add_boolean_value (builder, cc->watching);
    if (cc->signaling > 0) {
      json_builder_set_member_name (builder, "signaling");
      json_builder_add_int_value (builder, cc->signaling);
    }
    json_builder_set_member_name (builder, "source");
    json_builder_add_boolean_value (builder, cc->holds_source);
    if (cc->holds_source) {
      json_builder_set_member_name (builder, "source_since");
      json_builder_add_int_value (builder, cc->source_since);
      json_builder_set_member_name (builder, "seq");
      json_builder_add_int_value (builder, (gint64) cc->out_seq);
    }
    if (reports && cc->receivers > 0 && cc->channel)
      cluster_add_report (builder, cc);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, len);
  g_object_unref (generator);
  json_node_unref (root);
  g_object_unref (builder);
  return text;
}

static void
cluster_send_heartbeat (RelayCluster * cluster)
{
  gchar *text;
  gsize len;

  cluster->last_heartbeat = g_get_monotonic_time ();
  text = cluster_heartbeat_text (cluster, TRUE, &len);
  if (len > MAX_HEARTBEAT_BYTES) {
    g_free (text);
    text = cluster_heartbeat_text (cluster, FALSE, &len);
  }
  if (len <= MAX_HEARTBEAT_BYTES)
    cluster_publish (cluster, cluster->nodes_subject, NULL, KIND_HEARTBEAT,
        ++cluster->heartbeat_seq, (const guint8 *) text, len);
  else
    relay_log ("cluster: heartbeat of %" G_GSIZE_FORMAT " bytes is over "
        "%d, not sent", len, MAX_HEARTBEAT_BYTES);
  g_free (text);
}

static gboolean
cluster_heartbeat_soon_cb (gpointer user_data)
{
  RelayCluster *cluster = user_data;

  cluster->heartbeat_soon_id = 0;
  cluster_send_heartbeat (cluster);
  return G_SOURCE_REMOVE;
}

/* Receiver counts changed: a heartbeat soon (many joins make one) */
static void
cluster_heartbeat_soon (RelayCluster * cluster)
{
  if (cluster->heartbeat_soon_id == 0)
    cluster->heartbeat_soon_id = g_timeout_add (HEARTBEAT_SOON_MS,
        cluster_heartbeat_soon_cb, cluster);
}

static void
cluster_heartbeat_now (RelayCluster * cluster)
{
  g_clear_handle_id (&cluster->heartbeat_soon_id, g_source_remove);
  cluster_send_heartbeat (cluster);
}

/* Channels */

static void
reassembly_clear (Reassembly * r)
{
  if (r->data)
    g_byte_array_unref (r->data);
  memset (r, 0, sizeof (*r));
}

static void
buffered_frame_free (BufferedFrame * b)
{
  g_bytes_unref (b->frame);
  g_free (b);
}

static void
cluster_channel_clear_buffer (ClusterChannel * cc)
{
  g_queue_clear_full (&cc->buffered, (GDestroyNotify) buffered_frame_free);
  cc->buffered_bytes = 0;
}

static void
cluster_channel_free (ClusterChannel * cc)
{
  g_clear_pointer (&cc->signaling_sub, natsSubscription_Destroy);
  g_clear_pointer (&cc->input_sub, natsSubscription_Destroy);
  g_clear_pointer (&cc->catchup_sub, natsSubscription_Destroy);
  g_clear_pointer (&cc->frames_sub, natsSubscription_Destroy);
  cluster_channel_clear_buffer (cc);
  reassembly_clear (&cc->frame_in);
  reassembly_clear (&cc->catchup_in);
  g_free (cc->catchup_inbox);
  g_free (cc->hex);
  g_free (cc->name);
  g_free (cc);
}

static void on_message (natsConnection * nc, natsSubscription * sub,
    natsMsg * msg, void *closure);

static natsSubscription *
cluster_subscribe (RelayCluster * cluster, ClusterChannel * cc,
    const gchar * what)
{
  gchar *subject = channel_subject (cluster, cc, what);
  natsSubscription *sub = NULL;
  natsStatus status;

  status = natsConnection_Subscribe (&sub, cluster->conn, subject,
      on_message, cluster);
  if (status != NATS_OK) {
    relay_log ("cluster: cannot subscribe to %s: %s", subject,
        natsStatus_GetText (status));
    sub = NULL;
  }
  g_free (subject);
  return sub;
}

static ClusterChannel *
cluster_channel_lookup (RelayCluster * cluster, RelayChannel * channel)
{
  const gchar *name = relay_channel_get_name (channel);
  ClusterChannel *cc = g_hash_table_lookup (cluster->channels, name);

  if (cc == NULL) {
    cc = g_new0 (ClusterChannel, 1);
    cc->name = g_strdup (name);
    cc->hex = hex_encode (name);
    cc->channel = channel;
    g_queue_init (&cc->buffered);
    g_hash_table_insert (cluster->channels, cc->name, cc);
    cc->remote_source = relay_cluster_has_remote_source (cluster, channel);
    cc->out_seq = (guint64) MAX (g_get_real_time (), 0);
  }
  return cc;
}

/* Asks the origin for the channel's catch-up; live frames wait until it
 * is there */
static void
cluster_request_catchup (RelayCluster * cluster, ClusterChannel * cc)
{
  gchar *subject = channel_subject (cluster, cc, "cu");

  g_free (cc->catchup_inbox);
  cc->catchup_inbox = g_strdup_printf ("%s.%" G_GUINT64_FORMAT,
      cluster->inbox_prefix, ++cluster->next_inbox);
  cc->catchup_deadline = g_get_monotonic_time () + CATCHUP_TIMEOUT_US;
  reassembly_clear (&cc->catchup_in);
  cluster_publish (cluster, subject, cc->catchup_inbox, KIND_CATCHUP_REQUEST,
      0, NULL, 0);
  relay_verbose ("cluster: channel %s: catch-up asked for", cc->name);
  g_free (subject);
}

static void cluster_channel_frame (RelayCluster * cluster,
    ClusterChannel * cc, guint64 origin, guint64 seq, GBytes * frame);

/* The catch-up arrived (@frames, ending at @origin's @seq), or did not
 * (@frames NULL: no origin answered); the live frames that waited follow,
 * those it already holds dropped */
static void
cluster_channel_catchup_done (RelayCluster * cluster, ClusterChannel * cc,
    GPtrArray * frames, guint64 origin, guint64 seq)
{
  GQueue waiting = G_QUEUE_INIT;
  BufferedFrame *b;
  guint64 dropped = 0;

  g_clear_pointer (&cc->catchup_inbox, g_free);
  reassembly_clear (&cc->catchup_in);
  if (frames) {
    relay_channel_remote_catchup (cc->channel, frames);
    cc->need_catchup = FALSE;
    cc->have_seq = TRUE;
    cc->origin = origin;
    cc->last_seq = seq;
    cluster->catchups_received++;
    relay_log ("cluster: channel %s: catch-up of %u frames from node "
        "%016" G_GINT64_MODIFIER "x up to seq %" G_GUINT64_FORMAT,
        cc->name, frames->len, origin, seq);
  } else {
    /* asked again once a node says it holds the source */
    cc->have_seq = FALSE;
    relay_channel_remote_catchup (cc->channel, NULL);
  }

  /* cluster_channel_frame() may ask again and buffer anew */
  waiting = cc->buffered;
  g_queue_init (&cc->buffered);
  cc->buffered_bytes = 0;
  while ((b = g_queue_pop_head (&waiting))) {
    if (cc->have_seq && b->origin == cc->origin && b->seq <= cc->last_seq)
      dropped++;
    else
      cluster_channel_frame (cluster, cc, b->origin, b->seq, b->frame);
    buffered_frame_free (b);
  }
  if (dropped)
    relay_verbose ("cluster: channel %s: %" G_GUINT64_FORMAT " live frames "
        "were in the catch-up", cc->name, dropped);
}

/* A whole frame from the origin, in its order */
static void
cluster_channel_frame (RelayCluster * cluster, ClusterChannel * cc,
    guint64 origin, guint64 seq, GBytes * frame)
{
  /* frames from an origin whose state this node never had (its first
   * request found none, and nothing is cached here): that state first */
  if (cc->need_catchup && !cc->have_seq && cc->catchup_inbox == NULL &&
      !relay_channel_has_cached_state (cc->channel))
    cluster_request_catchup (cluster, cc);
  if (cc->catchup_inbox) {
    gsize size = g_bytes_get_size (frame);
    gsize bound = (gsize) cluster->relay->settings.max_channel_cache_bytes +
        (gsize) cluster->relay->settings.max_frame_bytes;
    BufferedFrame *b;

    if (cc->buffered_bytes + size > bound) {
      /* the catch-up is late: what waited goes, the catch-up covers it or
       * the gap shows */
      relay_log ("cluster: channel %s: over %" G_GSIZE_FORMAT " bytes of "
          "live frames waiting for the catch-up: dropped", cc->name, bound);
      cluster_channel_clear_buffer (cc);
    }
    b = g_new0 (BufferedFrame, 1);
    b->origin = origin;
    b->seq = seq;
    b->frame = g_bytes_ref (frame);
    g_queue_push_tail (&cc->buffered, b);
    cc->buffered_bytes += size;
    return;
  }
  if (cc->have_seq && origin == cc->origin && seq != cc->last_seq + 1) {
    if (seq <= cc->last_seq) {
      relay_verbose ("cluster: channel %s: seq %" G_GUINT64_FORMAT
          " again, dropped", cc->name, seq);
      return;
    }
    cluster->gaps++;
    relay_log ("cluster: channel %s: seq %" G_GUINT64_FORMAT " after %"
        G_GUINT64_FORMAT " from node %016" G_GINT64_MODIFIER "x (frames "
        "lost, or the channel began again there): asking for a catch-up",
        cc->name, seq, cc->last_seq, origin);
    cluster_request_catchup (cluster, cc);
    cluster_channel_frame (cluster, cc, origin, seq, frame);
    return;
  }
  if (cc->have_seq && origin != cc->origin)
    relay_log ("cluster: channel %s: frames now from node %016"
        G_GINT64_MODIFIER "x", cc->name, origin);
  cc->have_seq = TRUE;
  cc->origin = origin;
  cc->last_seq = seq;
  relay_channel_remote_frame (cc->channel, frame);
}

static void
cluster_set_watching (RelayCluster * cluster, ClusterChannel * cc,
    gboolean watching)
{
  cc->watching = watching;
  if (watching) {
    cc->frames_sub = cluster_subscribe (cluster, cc, "f");
    cc->have_seq = FALSE;
    cc->need_catchup = TRUE;
    /* the heartbeat first: the origin publishes from when it reads it */
    cluster_heartbeat_now (cluster);
    cluster_request_catchup (cluster, cc);
    relay_log ("cluster: channel %s: watching", cc->name);
  } else {
    g_clear_pointer (&cc->frames_sub, natsSubscription_Destroy);
    g_clear_pointer (&cc->catchup_inbox, g_free);
    cluster_channel_clear_buffer (cc);
    reassembly_clear (&cc->frame_in);
    reassembly_clear (&cc->catchup_in);
    cc->have_seq = FALSE;
    cc->need_catchup = FALSE;
    cluster_heartbeat_now (cluster);
    relay_log ("cluster: channel %s: no longer watching", cc->name);
  }
}

static void
cluster_set_holds_source (RelayCluster * cluster, ClusterChannel * cc,
    gboolean holds)
{
  cc->holds_source = holds;
  if (holds) {
    cc->input_sub = cluster_subscribe (cluster, cc, "in");
    cc->catchup_sub = cluster_subscribe (cluster, cc, "cu");
  } else {
    g_clear_pointer (&cc->input_sub, natsSubscription_Destroy);
    g_clear_pointer (&cc->catchup_sub, natsSubscription_Destroy);
  }
}

void
relay_cluster_channel_changed (RelayCluster * cluster, RelayChannel * channel)
{
  ClusterChannel *cc = cluster_channel_lookup (cluster, channel);
  gboolean holds = relay_channel_has_source (channel);
  guint receivers = relay_channel_get_n_receivers (channel);
  guint signaling = relay_channel_get_n_signaling (channel);
  gboolean watching = receivers > 0 && !holds;
  gint64 since = relay_channel_get_source_since (channel);

  if (holds != cc->holds_source)
    cluster_set_holds_source (cluster, cc, holds);
  if (holds && since != cc->source_since) {
    /* a new source: the other nodes hear of it at once (take-over) */
    cc->source_since = since;
    cluster_heartbeat_now (cluster);
  }
  if (watching != cc->watching)
    cluster_set_watching (cluster, cc, watching);
  if (receivers != cc->receivers) {
    cc->receivers = receivers;
    cluster_heartbeat_soon (cluster);
  }
  if (signaling != cc->signaling) {
    if (signaling > 0 && cc->signaling_sub == NULL)
      cc->signaling_sub = cluster_subscribe (cluster, cc, "sig");
    else if (signaling == 0)
      g_clear_pointer (&cc->signaling_sub, natsSubscription_Destroy);
    cc->signaling = signaling;
    cluster_heartbeat_soon (cluster);
  }
}

void
relay_cluster_channel_removed (RelayCluster * cluster, RelayChannel * channel)
{
  ClusterChannel *cc = g_hash_table_lookup (cluster->channels,
      relay_channel_get_name (channel));

  if (cc == NULL)
    return;
  g_hash_table_steal (cluster->channels, cc->name);
  cluster_channel_free (cc);
}

/* Whether another node's last heartbeat has @name with @match */
static gboolean
cluster_any_node (RelayCluster * cluster, const gchar * name,
    gboolean (*match) (const NodeChannel * nch))
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, cluster->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RemoteNode *node = value;
    NodeChannel *nch = g_hash_table_lookup (node->channels, name);

    if (nch && match (nch))
      return TRUE;
  }
  return FALSE;
}

static gboolean
node_channel_watching (const NodeChannel * nch)
{
  return nch->watching;
}

static gboolean
node_channel_signaling (const NodeChannel * nch)
{
  return nch->signaling > 0;
}

void
relay_cluster_source_frame (RelayCluster * cluster, RelayChannel * channel,
    GBytes * frame)
{
  ClusterChannel *cc = cluster_channel_lookup (cluster, channel);
  gchar *subject;
  gsize len;
  const guint8 *data;

  cc->out_seq++;
  if (!cluster_any_node (cluster, cc->name, node_channel_watching) &&
      g_get_monotonic_time () >= cluster->publish_all_until)
    return;
  subject = channel_subject (cluster, cc, "f");
  data = g_bytes_get_data (frame, &len);
  cc->bytes_published += cluster_publish (cluster, subject, NULL, KIND_FRAME,
      cc->out_seq, data, len);
  g_free (subject);
}

void
relay_cluster_signaling (RelayCluster * cluster, RelayChannel * channel,
    gboolean binary, GBytes * message)
{
  ClusterChannel *cc;
  gchar *subject;
  gsize len;
  const guint8 *data;

  if (!cluster_any_node (cluster, relay_channel_get_name (channel),
          node_channel_signaling))
    return;
  cc = cluster_channel_lookup (cluster, channel);
  data = g_bytes_get_data (message, &len);
  /* one NATS message: signaling (SDP, candidates) is small, and pieces
   * from several nodes at once would need one reassembly per node */
  if (len > cluster_chunk_bytes (cluster) - HEADER_SIZE) {
    cluster->signaling_too_big++;
    relay_verbose ("cluster: channel %s: a signaling message of %"
        G_GSIZE_FORMAT " bytes stays on this node (over one NATS message)",
        cc->name, len);
    return;
  }
  subject = channel_subject (cluster, cc, "sig");
  if (cluster_publish (cluster, subject, NULL, KIND_SIGNALING,
          binary ? SIGNALING_BINARY : 0, data, len) > 0)
    cluster->signaling_out++;
  g_free (subject);
}

gboolean
relay_cluster_send_input (RelayCluster * cluster, RelayChannel * channel,
    GBytes * frame)
{
  ClusterChannel *cc;
  gchar *subject;
  gsize len;
  const guint8 *data;

  if (!relay_cluster_has_remote_source (cluster, channel))
    return FALSE;
  cc = cluster_channel_lookup (cluster, channel);
  subject = channel_subject (cluster, cc, "in");
  data = g_bytes_get_data (frame, &len);
  cluster_publish (cluster, subject, NULL, KIND_INPUT, 0, data, len);
  g_free (subject);
  return TRUE;
}

guint
relay_cluster_remote_receivers (RelayCluster * cluster, RelayChannel * channel)
{
  const gchar *name = relay_channel_get_name (channel);
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, cluster->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RemoteNode *node = value;
    NodeChannel *nch = g_hash_table_lookup (node->channels, name);

    if (nch)
      n += nch->receivers;
  }
  return n;
}

void
relay_cluster_combine_figures (RelayCluster * cluster, RelayChannel * channel,
    RelayReceiverFigures * figures)
{
  const gchar *name = relay_channel_get_name (channel);
  GArray *others = g_array_new (FALSE, FALSE, sizeof (RelayReceiverFigures));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, cluster->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RemoteNode *node = value;
    NodeChannel *nch = g_hash_table_lookup (node->channels, name);

    if (nch != NULL && nch->has_report)
      g_array_append_val (others, nch->report);
  }
  relay_receiver_figures_combine (figures,
      (const RelayReceiverFigures *) (gpointer) others->data, others->len);
  g_array_unref (others);
}

gboolean
relay_cluster_has_remote_source (RelayCluster * cluster, RelayChannel * channel)
{
  return relay_cluster_name_has_remote_source (cluster,
      relay_channel_get_name (channel));
}

gboolean
relay_cluster_name_has_remote_source (RelayCluster * cluster,
    const gchar * name)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, cluster->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RemoteNode *node = value;
    NodeChannel *nch = g_hash_table_lookup (node->channels, name);

    if (nch && nch->source)
      return TRUE;
  }
  return FALSE;
}

void
relay_cluster_add_remote_channels (RelayCluster * cluster, GHashTable * names)
{
  GHashTableIter iter, chans;
  gpointer value, key, nch;

  g_hash_table_iter_init (&iter, cluster->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RemoteNode *node = value;

    g_hash_table_iter_init (&chans, node->channels);
    while (g_hash_table_iter_next (&chans, &key, &nch))
      if (((NodeChannel *) nch)->source)
        g_hash_table_add (names, g_strdup (key));
  }
}

gboolean
relay_cluster_catchup_pending (RelayCluster * cluster, RelayChannel * channel)
{
  ClusterChannel *cc = g_hash_table_lookup (cluster->channels,
      relay_channel_get_name (channel));

  return cc != NULL && cc->catchup_inbox != NULL;
}

gboolean
relay_cluster_is_connected (RelayCluster * cluster)
{
  return g_atomic_int_get (&cluster->connected) != 0;
}

/* Nodes */

static void
remote_node_free (RemoteNode * node)
{
  g_hash_table_unref (node->channels);
  g_free (node);
}

/* The last frame the origin of @cc's frames says it has (its last
 * heartbeat); 0 when it does not hold the source any more */
static guint64
cluster_origin_seq (RelayCluster * cluster, ClusterChannel * cc)
{
  RemoteNode *node = g_hash_table_lookup (cluster->nodes, &cc->origin);
  NodeChannel *nch = node ? g_hash_table_lookup (node->channels, cc->name) :
      NULL;

  return nch && nch->source ? nch->seq : 0;
}

/* @node's heartbeat just came, after every frame it published before it:
 * a channel whose frames come from @node and whose last frame here is
 * after the one the heartbeat says has seen its numbers go back (@node
 * restarted with the same --node-id on a clock that is behind, or its
 * clock stepped back): its new frames would all be taken for ones seen
 * before. The channel starts again from @node's catch-up. */
static void
cluster_origin_numbers_back (RelayCluster * cluster, RemoteNode * node)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, cluster->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    ClusterChannel *cc = value;
    guint64 seq;

    if (!cc->watching || !cc->have_seq || cc->origin != node->id ||
        cc->catchup_inbox != NULL)
      continue;
    seq = cluster_origin_seq (cluster, cc);
    if (seq == 0 || seq >= cc->last_seq)
      continue;
    cluster->gaps++;
    relay_log ("cluster: channel %s: node %016" G_GINT64_MODIFIER "x is at "
        "seq %" G_GUINT64_FORMAT ", before %" G_GUINT64_FORMAT ": its "
        "numbers went back, asking for a catch-up", cc->name, cc->origin,
        seq, cc->last_seq);
    cc->have_seq = FALSE;
    cluster_request_catchup (cluster, cc);
  }
}

/* The source of each channel held here: ReceiverCount with the other
 * nodes' receivers; a newer source on another node takes over. A source
 * on another node appearing or going (its node's heartbeat, or the node
 * gone): the channel hears of it (the reconnect grace) */
static void
cluster_nodes_changed (RelayCluster * cluster)
{
  GHashTableIter iter;
  gpointer value;
  GPtrArray *taken = g_ptr_array_new ();
  GPtrArray *moved = g_ptr_array_new ();
  guint i;

  g_hash_table_iter_init (&iter, cluster->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    ClusterChannel *cc = value;
    GHashTableIter nodes;
    gpointer node_value;
    gboolean remote = relay_cluster_has_remote_source (cluster, cc->channel);

    if (remote != cc->remote_source) {
      cc->remote_source = remote;
      g_ptr_array_add (moved, cc);
    }

    /* frames of the origin this node never got (lost, or not published
     * while the origin did not know this node watched: it restarted):
     * its heartbeat, which follows its frames, says a later one */
    if (cc->watching && cc->have_seq && cc->catchup_inbox == NULL &&
        cluster_origin_seq (cluster, cc) > cc->last_seq) {
      cluster->gaps++;
      relay_log ("cluster: channel %s: node %016" G_GINT64_MODIFIER "x is "
          "at seq %" G_GUINT64_FORMAT ", frames after %" G_GUINT64_FORMAT
          " did not come: asking for a catch-up", cc->name, cc->origin,
          cluster_origin_seq (cluster, cc), cc->last_seq);
      cluster_request_catchup (cluster, cc);
    }
    /* a watching node still without the origin's state: a node announced
     * the source (its heartbeat follows its subscriptions: it answers) */
    if (cc->watching && cc->need_catchup && !cc->have_seq &&
        cc->catchup_inbox == NULL &&
        !relay_channel_has_cached_state (cc->channel) &&
        relay_cluster_has_remote_source (cluster, cc->channel))
      cluster_request_catchup (cluster, cc);
    if (!cc->holds_source)
      continue;
    relay_channel_update_receiver_count (cc->channel);
    g_hash_table_iter_init (&nodes, cluster->nodes);
    while (g_hash_table_iter_next (&nodes, NULL, &node_value)) {
      RemoteNode *node = node_value;
      NodeChannel *nch = g_hash_table_lookup (node->channels, cc->name);

      if (nch && nch->source && (nch->source_since > cc->source_since ||
              (nch->source_since == cc->source_since &&
                  node->id > cluster->node_id))) {
        relay_log ("cluster: channel %s: a newer source on node %016"
            G_GINT64_MODIFIER "x takes over", cc->name, node->id);
        g_ptr_array_add (taken, cc->channel);
        break;
      }
    }
  }
  for (i = 0; i < moved->len; i++) {
    ClusterChannel *cc = g_ptr_array_index (moved, i);

    relay_channel_remote_source_changed (cc->channel, cc->remote_source);
  }
  g_ptr_array_unref (moved);
  /* closing changes the table */
  for (i = 0; i < taken->len; i++) {
    cluster->takeovers++;
    relay_channel_remote_takeover (g_ptr_array_index (taken, i));
  }
  g_ptr_array_unref (taken);
}

/* A heartbeat channel's "report", for its @receivers; FALSE (ignored)
 * when absent or out of bounds */
static gboolean
cluster_parse_report (JsonObject * o, guint receivers, RelayReceiverFigures * f)
{
  JsonNode *node = json_object_get_member (o, "report");
  JsonObject *r;
  JsonNode *congested;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  r = json_node_get_object (node);
  congested = json_object_get_member (r, "congested");
  if (congested == NULL || !JSON_NODE_HOLDS_VALUE (congested) ||
      json_node_get_value_type (congested) != G_TYPE_BOOLEAN)
    return FALSE;
  memset (f, 0, sizeof (*f));
  f->receivers = receivers;
  f->congested = json_node_get_boolean (congested);
  return ds_json_object_get_u32 (r, "min", FALSE, &f->kbps_min) &&
      ds_json_object_get_u32 (r, "median", FALSE, &f->kbps_median) &&
      ds_json_object_get_u32 (r, "max", FALSE, &f->kbps_max) &&
      ds_json_object_get_u32 (r, "dropped", FALSE, &f->dropped) &&
      f->kbps_min <= f->kbps_median && f->kbps_median <= f->kbps_max;
}

static void
cluster_heartbeat_in (RelayCluster * cluster, const MessageHeader * h,
    const guint8 * body, gsize len)
{
  DsJsonLimits limits;
  JsonNode *root;
  JsonArray *array;
  RemoteNode *node;
  GHashTable *channels;
  guint i, n;

  if (h->count != 1 || len > MAX_HEARTBEAT_BYTES || len != h->total)
    goto malformed;
  /* the strict, bounded scan first (json-glib parses recursively) */
  ds_json_limits_init (&limits);
  limits.max_bytes = MAX_HEARTBEAT_BYTES;
  limits.max_depth = 4;
  /* a channel: 6 members and a "report" of 5 */
  limits.max_members = MAX_NODE_CHANNELS * 16;
  root = ds_json_parse ((const gchar *) body, len, &limits, NULL);
  if (root == NULL)
    goto malformed;
  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (json_node_get_object (root), "channels") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object
              (root), "channels"))) {
    json_node_unref (root);
    goto malformed;
  }
  array = json_object_get_array_member (json_node_get_object (root),
      "channels");
  n = MIN (json_array_get_length (array), MAX_NODE_CHANNELS);
  channels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (i = 0; i < n; i++) {
    JsonNode *element = json_array_get_element (array, i);
    JsonObject *o;
    const gchar *name;
    NodeChannel *nch;
    gint64 receivers;

    if (!JSON_NODE_HOLDS_OBJECT (element))
      continue;
    o = json_node_get_object (element);
    name = json_object_get_string_member_with_default (o, "name", NULL);
    if (!relay_channel_name_is_valid (name))
      continue;
    receivers = json_object_get_int_member_with_default (o, "receivers", 0);
    nch = g_new0 (NodeChannel, 1);
    nch->receivers = (guint) CLAMP (receivers, 0, G_MAXINT32);
    nch->signaling = (guint) CLAMP (json_object_get_int_member_with_default (o,
            "signaling", 0), 0, G_MAXINT32);
    nch->watching = json_object_get_boolean_member_with_default (o,
        "watching", FALSE);
    nch->source = json_object_get_boolean_member_with_default (o, "source",
        FALSE);
    nch->source_since = json_object_get_int_member_with_default (o,
        "source_since", 0);
    nch->seq = (guint64) MAX (json_object_get_int_member_with_default (o,
            "seq", 0), 0);
    if (nch->receivers > 0)
      nch->has_report = cluster_parse_report (o, nch->receivers, &nch->report);
    g_hash_table_replace (channels, g_strdup (name), nch);
  }
  json_node_unref (root);

  node = g_hash_table_lookup (cluster->nodes, &h->node);
  if (node == NULL) {
    if (g_hash_table_size (cluster->nodes) >= MAX_NODES) {
      g_hash_table_unref (channels);
      relay_verbose ("cluster: more than %d nodes, one ignored", MAX_NODES);
      return;
    }
    node = g_new0 (RemoteNode, 1);
    node->id = h->node;
    g_hash_table_insert (cluster->nodes, &node->id, node);
    relay_log ("cluster: node %016" G_GINT64_MODIFIER "x joined, %u nodes "
        "seen", node->id, g_hash_table_size (cluster->nodes));
    /* it learns of this node's sources and watching at once */
    cluster_heartbeat_soon (cluster);
  } else {
    g_hash_table_unref (node->channels);
    if (h->seq <= node->heartbeat_seq) {
      /* its heartbeats count from 1 again: restarted (same --node-id)
       * within the node timeout; it knows nothing of this node yet */
      relay_log ("cluster: node %016" G_GINT64_MODIFIER "x restarted",
          node->id);
      cluster_heartbeat_soon (cluster);
    }
  }
  node->heartbeat_seq = h->seq;
  node->channels = channels;
  node->last_seen = g_get_monotonic_time ();
  cluster_origin_numbers_back (cluster, node);
  cluster_nodes_changed (cluster);
  return;

malformed:
  cluster->malformed++;
  relay_verbose ("cluster: malformed heartbeat from node %016"
      G_GINT64_MODIFIER "x", h->node);
}

/* Messages, on the main loop */

/* Adds one chunk; the whole payload once complete */
static GBytes *
reassembly_add (RelayCluster * cluster, Reassembly * r,
    const MessageHeader * h, const guint8 * piece, gsize len,
    gsize max_total, gboolean * bad)
{
  *bad = FALSE;
  if (h->total > max_total || len > h->total) {
    *bad = TRUE;
    return NULL;
  }
  if (h->count == 1) {
    reassembly_clear (r);
    if (len != h->total) {
      *bad = TRUE;
      return NULL;
    }
    return g_bytes_new (piece, len);
  }
  if (h->index == 0) {
    if (r->data)
      cluster->gaps++;
    reassembly_clear (r);
    r->data = g_byte_array_sized_new (MIN (h->total, 4 * 1024 * 1024));
    r->node = h->node;
    r->seq = h->seq;
    r->total = h->total;
    r->count = h->count;
    r->started = g_get_monotonic_time ();
  } else if (r->data == NULL || r->node != h->node || r->seq != h->seq ||
      r->total != h->total || r->count != h->count || r->next != h->index) {
    /* a chunk lost or out of place: the message is */
    if (r->data)
      cluster->gaps++;
    reassembly_clear (r);
    return NULL;
  }
  if (r->data->len + len > r->total) {
    reassembly_clear (r);
    *bad = TRUE;
    return NULL;
  }
  g_byte_array_append (r->data, piece, len);
  r->next++;
  if (r->next < r->count)
    return NULL;
  if (r->data->len != r->total) {
    reassembly_clear (r);
    *bad = TRUE;
    return NULL;
  }
  {
    GBytes *whole = g_byte_array_free_to_bytes (r->data);

    r->data = NULL;
    reassembly_clear (r);
    return whole;
  }
}

/* Splits a catch-up into its frames; NULL when they do not add up */
static GPtrArray *
catchup_split (GBytes * blob, gsize max_frame_bytes)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  gsize len, offset = 0;
  const guint8 *data = g_bytes_get_data (blob, &len);

  while (offset < len) {
    DsHeader header;
    gsize size;

    if (!ds_header_parse (data + offset, len - offset, &header, NULL) ||
        header.payload_len > max_frame_bytes ||
        header.payload_len > len - offset - DS_HEADER_SIZE) {
      g_ptr_array_unref (frames);
      return NULL;
    }
    size = DS_HEADER_SIZE + header.payload_len;
    g_ptr_array_add (frames, g_bytes_new_from_bytes (blob, offset, size));
    offset += size;
  }
  return frames;
}

static gsize
cluster_max_catchup_bytes (RelayCluster * cluster)
{
  RelaySettings *s = &cluster->relay->settings;

  return MIN ((guint64) G_MAXUINT32, (guint64) s->max_channel_cache_bytes +
      (guint64) s->max_frame_bytes + 2 * (guint64) s->max_signal_bytes +
      64 * 1024);
}

static void
cluster_catchup_in (RelayCluster * cluster, const gchar * subject,
    natsMsg * msg)
{
  ClusterChannel *cc = NULL;
  GHashTableIter iter;
  gpointer value;
  const guint8 *data = (const guint8 *) natsMsg_GetData (msg);
  gsize len = natsMsg_GetDataLength (msg);
  MessageHeader h;
  GBytes *blob;
  GPtrArray *frames;
  gboolean bad;

  g_hash_table_iter_init (&iter, cluster->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    ClusterChannel *one = value;

    if (one->catchup_inbox && strcmp (one->catchup_inbox, subject) == 0) {
      cc = one;
      break;
    }
  }
  if (cc == NULL)
    return;
  if (len == 0) {
    /* the server's "no responders": no node holds the source */
    relay_verbose ("cluster: channel %s: no origin to ask for a catch-up",
        cc->name);
    cluster_channel_catchup_done (cluster, cc, NULL, 0, 0);
    return;
  }
  if (!header_parse (data, len, &h) || h.kind != KIND_CATCHUP ||
      h.node == cluster->node_id)
    goto malformed;
  blob = reassembly_add (cluster, &cc->catchup_in, &h, data + HEADER_SIZE,
      len - HEADER_SIZE, cluster_max_catchup_bytes (cluster), &bad);
  if (bad)
    goto malformed;
  if (blob == NULL)
    return;
  frames = catchup_split (blob,
      (gsize) cluster->relay->settings.max_frame_bytes);
  g_bytes_unref (blob);
  if (frames == NULL)
    goto malformed;
  cluster_channel_catchup_done (cluster, cc, frames, h.node, h.seq);
  g_ptr_array_unref (frames);
  return;

malformed:
  cluster->malformed++;
  relay_log ("cluster: channel %s: malformed catch-up message dropped",
      cc->name);
}

/* The origin answers a catch-up request: the requester watches */
static void
cluster_catchup_request_in (RelayCluster * cluster, ClusterChannel * cc,
    const MessageHeader * h, const gchar * reply)
{
  GPtrArray *frames;
  GByteArray *blob;
  RemoteNode *node;
  guint i;

  if (reply == NULL || reply[0] == '\0' || strlen (reply) > 256 ||
      h->count != 1 || h->total != 0) {
    cluster->malformed++;
    return;
  }
  /* from now on its frames go out (its heartbeat said so, or will) */
  node = g_hash_table_lookup (cluster->nodes, &h->node);
  if (node) {
    NodeChannel *nch = g_hash_table_lookup (node->channels, cc->name);

    if (nch == NULL) {
      nch = g_new0 (NodeChannel, 1);
      g_hash_table_replace (node->channels, g_strdup (cc->name), nch);
    }
    nch->watching = TRUE;
  }

  frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  relay_channel_get_catchup (cc->channel, frames);
  blob = g_byte_array_new ();
  for (i = 0; i < frames->len; i++) {
    gsize size;
    const guint8 *data = g_bytes_get_data (g_ptr_array_index (frames, i),
        &size);

    g_byte_array_append (blob, data, size);
  }
  if (blob->len <= cluster_max_catchup_bytes (cluster)) {
    cluster_publish (cluster, reply, NULL, KIND_CATCHUP, cc->out_seq,
        blob->data, blob->len);
    cluster->catchups_served++;
    relay_log ("cluster: channel %s: catch-up of %u frames (%u bytes, up to "
        "seq %" G_GUINT64_FORMAT ") to node %016" G_GINT64_MODIFIER "x",
        cc->name, frames->len, blob->len, cc->out_seq, h->node);
  }
  g_byte_array_unref (blob);
  g_ptr_array_unref (frames);
}

static gboolean
cluster_node_holds_source (RelayCluster * cluster, guint64 id,
    const gchar * name)
{
  RemoteNode *node = g_hash_table_lookup (cluster->nodes, &id);
  NodeChannel *nch = node ? g_hash_table_lookup (node->channels, name) : NULL;

  return nch != NULL && nch->source;
}

static void
cluster_channel_message (RelayCluster * cluster, const gchar * rest,
    natsMsg * msg)
{
  const gchar *dot = strchr (rest, '.');
  const guint8 *data = (const guint8 *) natsMsg_GetData (msg);
  gsize len = natsMsg_GetDataLength (msg);
  const gchar *what;
  gchar *name;
  RelayChannel *channel;
  ClusterChannel *cc;
  MessageHeader h;
  GBytes *payload;
  gboolean bad;

  if (dot == NULL)
    goto malformed;
  name = hex_decode (rest, dot - rest);
  if (name == NULL)
    goto malformed;
  what = dot + 1;
  channel = relay_channel_get (cluster->relay, name, FALSE);
  cc = g_hash_table_lookup (cluster->channels, name);
  g_free (name);
  if (channel == NULL || cc == NULL)
    return;                     /* it left since */
  if (!header_parse (data, len, &h) || h.node == cluster->node_id)
    goto malformed;

  if (strcmp (what, "f") == 0 && h.kind == KIND_FRAME) {
    if (!cc->watching)
      return;
    /* only from the node whose heartbeat says it holds the source */
    if (!cluster_node_holds_source (cluster, h.node, cc->name))
      goto malformed;
    payload = reassembly_add (cluster, &cc->frame_in, &h, data + HEADER_SIZE,
        len - HEADER_SIZE, (gsize) cluster->relay->settings.max_frame_bytes +
        DS_HEADER_SIZE, &bad);
    if (bad)
      goto malformed;
    if (payload) {
      cluster_channel_frame (cluster, cc, h.node, h.seq, payload);
      g_bytes_unref (payload);
    }
  } else if (strcmp (what, "in") == 0 && h.kind == KIND_INPUT) {
    if (!cc->holds_source)
      return;
    if (h.count != 1 || h.total != len - HEADER_SIZE ||
        h.total > RELAY_MAX_RECEIVER_MESSAGE)
      goto malformed;
    payload = g_bytes_new (data + HEADER_SIZE, len - HEADER_SIZE);
    relay_channel_remote_input (cc->channel, payload);
    g_bytes_unref (payload);
  } else if (strcmp (what, "sig") == 0 && h.kind == KIND_SIGNALING) {
    if (cc->signaling == 0)
      return;
    if (h.count != 1 || h.index != 0 || h.total != len - HEADER_SIZE ||
        h.total > RELAY_MAX_SIGNALING_MESSAGE || h.seq > SIGNALING_BINARY)
      goto malformed;
    /* a text message is UTF-8 (RFC 6455), whoever published it */
    if (h.seq != SIGNALING_BINARY &&
        !g_utf8_validate_len ((const gchar *) data + HEADER_SIZE,
            len - HEADER_SIZE, NULL))
      goto malformed;
    cluster->signaling_in++;
    payload = g_bytes_new (data + HEADER_SIZE, len - HEADER_SIZE);
    relay_channel_remote_signaling (cc->channel, h.seq == SIGNALING_BINARY,
        payload);
    g_bytes_unref (payload);
  } else if (strcmp (what, "cu") == 0 && h.kind == KIND_CATCHUP_REQUEST) {
    if (!cc->holds_source)
      return;
    cluster_catchup_request_in (cluster, cc, &h, natsMsg_GetReply (msg));
  } else {
    goto malformed;
  }
  return;

malformed:
  cluster->malformed++;
  relay_verbose ("cluster: malformed message on %s dropped",
      natsMsg_GetSubject (msg));
}

static void
cluster_message (RelayCluster * cluster, natsMsg * msg)
{
  const gchar *subject = natsMsg_GetSubject (msg);
  gsize prefix_len = strlen (cluster->prefix);
  gsize inbox_len = strlen (cluster->inbox_prefix);

  cluster->messages_in++;
  cluster->bytes_in += natsMsg_GetDataLength (msg);
  if (strcmp (subject, cluster->nodes_subject) == 0) {
    MessageHeader h;
    const guint8 *data = (const guint8 *) natsMsg_GetData (msg);
    gsize len = natsMsg_GetDataLength (msg);

    if (!header_parse (data, len, &h) || h.kind != KIND_HEARTBEAT) {
      cluster->malformed++;
      return;
    }
    if (h.node != cluster->node_id)
      cluster_heartbeat_in (cluster, &h, data + HEADER_SIZE, len - HEADER_SIZE);
  } else if (strncmp (subject, cluster->inbox_prefix, inbox_len) == 0 &&
      subject[inbox_len] == '.') {
    cluster_catchup_in (cluster, subject, msg);
  } else if (strncmp (subject, cluster->prefix, prefix_len) == 0 &&
      strncmp (subject + prefix_len, ".ch.", 4) == 0) {
    cluster_channel_message (cluster, subject + prefix_len + 4, msg);
  } else {
    cluster->malformed++;
  }
}

/* Why libnats is not connected, as it says, logged when it changes */
static void
cluster_log_last_error (RelayCluster * cluster)
{
  const char *text = NULL;

  natsConnection_GetLastError (cluster->conn, &text);
  if (text == NULL || text[0] == '\0' ||
      g_strcmp0 (text, cluster->last_error) == 0)
    return;
  g_free (cluster->last_error);
  cluster->last_error = g_strdup (text);
  relay_log ("cluster: NATS: %s", text);
}

static gboolean cluster_set_options (RelayCluster * cluster, GError ** error);

/* Connects once, without retries, with this node's options: why that
 * fails (NATS's own words: "Authorization Violation" ...) */
static gchar *
cluster_connect_once (RelayCluster * cluster)
{
  natsOptions *saved = cluster->options, *options;
  natsConnection *conn = NULL;
  natsStatus status;
  const char *text;
  gchar *why;
  gboolean ok;

  /* the same options, built again, without retries or callbacks */
  cluster->options = NULL;
  ok = cluster_set_options (cluster, NULL);
  options = cluster->options;
  cluster->options = saved;
  if (!ok ||
      natsOptions_SetRetryOnFailedConnect (options, false, NULL,
          NULL) != NATS_OK ||
      natsOptions_SetClosedCB (options, NULL, NULL) != NATS_OK ||
      natsOptions_SetDisconnectedCB (options, NULL, NULL) != NATS_OK ||
      natsOptions_SetReconnectedCB (options, NULL, NULL) != NATS_OK) {
    natsOptions_Destroy (options);
    return g_strdup ("no reason given");
  }
  status = natsConnection_Connect (&conn, options);
  text = nats_GetLastError (NULL);
  if (status == NATS_OK)
    why = g_strdup ("closed, then accepted it");
  else if (text != NULL && text[0] != '\0') {
    /* without libnats's "(conn.c:1905): " */
    const gchar *end = text[0] == '(' ? strstr (text, "): ") : NULL;

    why = g_strdup (end ? end + 3 : text);
  } else
    why = g_strdup (natsStatus_GetText (status));
  natsConnection_Destroy (conn);
  natsOptions_Destroy (options);
  return why;
}

/* Connection state, logged on the main loop */
static void
cluster_connection_event (RelayCluster * cluster, EventType type)
{
  gboolean connected = type == EVENT_CONNECTED;
  gchar url[256] = "";

  if (type == EVENT_CLOSED && g_atomic_int_get (&cluster->connects) == 0) {
    /* libnats gave up before it ever connected (it keeps trying a
     * server it cannot reach): the server refused this node, a mistake
     * no retry mends. What libnats keeps of it is "No server available";
     * one more try without retries tells why */
    gchar *why = cluster_connect_once (cluster);

    relay_log ("cluster: NATS refused this node: %s: check --cluster-user "
        "and --cluster-password, or --cluster-token, and the TLS options; "
        "exiting", why);
    g_free (why);
    relay_exit (cluster->relay, 1);
    return;
  }
  if (connected)
    g_clear_pointer (&cluster->last_error, g_free);
  if (connected == cluster->was_connected)
    return;
  cluster->was_connected = connected;
  if (connected) {
    natsConnection_GetConnectedUrl (cluster->conn, url, sizeof (url));
    relay_log ("cluster: connected to NATS at %s", url);
    cluster->publish_all_until = g_get_monotonic_time () + PUBLISH_ALL_US;
    cluster_heartbeat_now (cluster);
  } else {
    relay_log ("cluster: lost NATS (%s); /healthz answers 503 until it is "
        "back", type == EVENT_CLOSED ? "closed" : "reconnecting");
  }
}

static gboolean
wake_dispatch (GSource * source, GSourceFunc func, gpointer user_data)
{
  RelayCluster *cluster = ((WakeSource *) source)->cluster;
  Event *event;
  guint n = 0;

  g_source_set_ready_time (source, -1);
  while (n < MAX_DISPATCH_MESSAGES &&
      (event = g_async_queue_try_pop (cluster->queue)) != NULL) {
    n++;
    if (event->type == EVENT_MESSAGE) {
      g_atomic_int_add (&cluster->pending_bytes,
          -natsMsg_GetDataLength (event->msg));
      cluster_message (cluster, event->msg);
      natsMsg_Destroy (event->msg);
    } else {
      cluster_connection_event (cluster, event->type);
    }
    g_free (event);
  }
  if (n == MAX_DISPATCH_MESSAGES)
    g_source_set_ready_time (source, 0);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs wake_funcs = {
  NULL, NULL, wake_dispatch, NULL,
};

/* On libnats's threads: queue and wake, nothing else */

static void
cluster_push (RelayCluster * cluster, EventType type, natsMsg * msg)
{
  Event *event = g_new0 (Event, 1);

  event->type = type;
  event->msg = msg;
  g_async_queue_push (cluster->queue, event);
  g_source_set_ready_time (cluster->wake, 0);
}

static void
on_message (natsConnection * nc, natsSubscription * sub, natsMsg * msg,
    void *closure)
{
  RelayCluster *cluster = closure;
  gint len = natsMsg_GetDataLength (msg);

  if (g_atomic_int_add (&cluster->pending_bytes, len) + len > MAX_PENDING_BYTES) {
    g_atomic_int_add (&cluster->pending_bytes, -len);
    g_atomic_int_inc (&cluster->queue_drops);
    natsMsg_Destroy (msg);
    return;
  }
  cluster_push (cluster, EVENT_MESSAGE, msg);
}

static void
on_connected (natsConnection * nc, void *closure)
{
  RelayCluster *cluster = closure;

  g_atomic_int_set (&cluster->connected, 1);
  g_atomic_int_inc (&cluster->connects);
  cluster_push (cluster, EVENT_CONNECTED, NULL);
}

static void
on_disconnected (natsConnection * nc, void *closure)
{
  RelayCluster *cluster = closure;

  g_atomic_int_set (&cluster->connected, 0);
  cluster_push (cluster, EVENT_DISCONNECTED, NULL);
}

static void
on_closed (natsConnection * nc, void *closure)
{
  RelayCluster *cluster = closure;

  g_atomic_int_set (&cluster->connected, 0);
  cluster_push (cluster, EVENT_CLOSED, NULL);
}

/* Timers */

static gboolean
cluster_tick_cb (gpointer user_data)
{
  RelayCluster *cluster = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;
  gboolean nodes_changed = FALSE;
  GPtrArray *late = g_ptr_array_new ();
  guint i;

  if (now - cluster->last_heartbeat >= HEARTBEAT_INTERVAL_US)
    cluster_send_heartbeat (cluster);
  if (!g_atomic_int_get (&cluster->connected))
    cluster_log_last_error (cluster);

  g_hash_table_iter_init (&iter, cluster->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    RemoteNode *node = value;

    if (now - node->last_seen > NODE_TIMEOUT_US) {
      relay_log ("cluster: node %016" G_GINT64_MODIFIER "x gone (no "
          "heartbeat for %d s)", node->id,
          (gint) (NODE_TIMEOUT_US / G_TIME_SPAN_SECOND));
      g_hash_table_iter_remove (&iter);
      nodes_changed = TRUE;
    }
  }
  if (nodes_changed)
    cluster_nodes_changed (cluster);

  g_hash_table_iter_init (&iter, cluster->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    ClusterChannel *cc = value;

    if (cc->catchup_inbox && now > cc->catchup_deadline)
      g_ptr_array_add (late, cc);
    if (cc->frame_in.data && now - cc->frame_in.started > REASSEMBLY_TIMEOUT_US) {
      cluster->gaps++;
      relay_log ("cluster: channel %s: a frame's chunks did not all come "
          "within %d s: dropped", cc->name,
          (gint) (REASSEMBLY_TIMEOUT_US / G_TIME_SPAN_SECOND));
      reassembly_clear (&cc->frame_in);
    }
  }
  for (i = 0; i < late->len; i++) {
    ClusterChannel *cc = g_ptr_array_index (late, i);

    relay_log ("cluster: channel %s: no catch-up within %d s (no origin?): "
        "going on with the live frames", cc->name,
        (gint) (CATCHUP_TIMEOUT_US / G_TIME_SPAN_SECOND));
    cluster_channel_catchup_done (cluster, cc, NULL, 0, 0);
  }
  g_ptr_array_unref (late);
  return G_SOURCE_CONTINUE;
}

/* Setup */

static gboolean
nats_check (natsStatus status, const gchar * what, GError ** error)
{
  if (status == NATS_OK)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what,
      nats_GetLastError (NULL) ? nats_GetLastError (NULL) :
      natsStatus_GetText (status));
  return FALSE;
}

static gboolean
cluster_set_options (RelayCluster * cluster, GError ** error)
{
  RelaySettings *s = &cluster->relay->settings;
  gchar **servers = g_strsplit (s->cluster, ",", -1);
  gchar *name;
  guint n = 0, i;
  gboolean ok;

  for (i = 0; servers[i]; i++) {
    g_strstrip (servers[i]);
    if (servers[i][0] != '\0')
      servers[n++] = servers[i];
    else
      g_free (servers[i]);
  }
  servers[n] = NULL;
  if (n == 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--cluster takes nats://HOST:PORT[,nats://HOST:PORT...]");
    g_strfreev (servers);
    return FALSE;
  }
  name = g_strdup_printf ("ds-relay %s", cluster->node_hex);
  ok = nats_check (natsOptions_Create (&cluster->options), "NATS options",
      error) &&
      nats_check (natsOptions_SetServers (cluster->options,
          (const char **) servers, (int) n), "--cluster", error) &&
      nats_check (natsOptions_SetName (cluster->options, name), "name", error)
      && nats_check (natsOptions_SetNoRandomize (cluster->options, true),
      "server order", error)
      && nats_check (natsOptions_SetNoEcho (cluster->options, true),
      "no echo", error) &&
      nats_check (natsOptions_SetMaxReconnect (cluster->options, -1),
      "reconnect", error) &&
      nats_check (natsOptions_SetReconnectWait (cluster->options, 250),
      "reconnect", error) &&
      nats_check (natsOptions_SetTimeout (cluster->options, 2000),
      "timeout", error) &&
      /* each publish is written at once (from the main loop): libnats's
       * flusher thread otherwise waits 1 ms for more before it writes
       * (libnats 3.4), which every frame paid on its way to the other
       * nodes (tests/bench/bench-cluster.c) */
      nats_check (natsOptions_SetSendAsap (cluster->options, true),
      "send asap", error) &&
      /* a NATS server that stops reading must not stall the main loop in
       * a blocking write (the socket buffers fill in a few frames): a
       * write that cannot finish within WRITE_DEADLINE_MS fails, libnats
       * counts the connection as lost and reconnects, and what is
       * published meanwhile goes to its reconnect buffer or is refused
       * (ds_relay_cluster_publish_errors_total) */
      nats_check (natsOptions_SetWriteDeadline (cluster->options,
          WRITE_DEADLINE_MS), "write deadline", error) &&
      nats_check (natsOptions_UseGlobalMessageDelivery (cluster->options,
          true), "delivery", error) &&
      nats_check (natsOptions_SetRetryOnFailedConnect (cluster->options,
          true, on_connected, cluster), "retry", error) &&
      nats_check (natsOptions_SetDisconnectedCB (cluster->options,
          on_disconnected, cluster), "callback", error) &&
      nats_check (natsOptions_SetReconnectedCB (cluster->options,
          on_connected, cluster), "callback", error) &&
      nats_check (natsOptions_SetClosedCB (cluster->options, on_closed,
          cluster), "callback", error);
  g_free (name);
  g_strfreev (servers);
  if (!ok)
    return FALSE;

  if (s->cluster_user && !nats_check (natsOptions_SetUserInfo
          (cluster->options, s->cluster_user, s->cluster_password),
          "--cluster-user", error))
    return FALSE;
  if (s->cluster_token && !nats_check (natsOptions_SetToken (cluster->options,
              s->cluster_token), "--cluster-token", error))
    return FALSE;
  if (s->cluster_ca && !(nats_check (natsOptions_SetSecure (cluster->options,
                  true), "TLS", error) &&
          nats_check (natsOptions_LoadCATrustedCertificates (cluster->options,
                  s->cluster_ca), "--cluster-ca", error)))
    return FALSE;
  if (s->cluster_cert && !(nats_check (natsOptions_SetSecure
              (cluster->options, true), "TLS", error) &&
          nats_check (natsOptions_LoadCertificatesChain (cluster->options,
                  s->cluster_cert, s->cluster_key), "--cluster-cert", error)))
    return FALSE;
  return TRUE;
}

RelayCluster *
relay_cluster_new (DsRelay * relay, GError ** error)
{
  RelaySettings *s = &relay->settings;
  RelayCluster *cluster;
  natsInbox *inbox = NULL;
  natsStatus status;
  gchar *subject;

  if (!relay_cluster_check_settings (s, error))
    return NULL;
  if (!nats_check (nats_Open (-1), "NATS library", error))
    return NULL;

  cluster = g_new0 (RelayCluster, 1);
  cluster->relay = relay;
  if (s->node_id)
    cluster->node_id = g_ascii_strtoull (s->node_id, NULL, 16);
  while (cluster->node_id == 0)
    cluster->node_id = ((guint64) g_random_int () << 32) | g_random_int ();
  g_snprintf (cluster->node_hex, sizeof (cluster->node_hex),
      "%016" G_GINT64_MODIFIER "x", cluster->node_id);
  cluster->prefix = g_strdup (s->cluster_name ? s->cluster_name :
      DEFAULT_CLUSTER_NAME);
  cluster->nodes_subject = g_strdup_printf ("%s.nodes", cluster->prefix);
  cluster->channels = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) cluster_channel_free);
  cluster->nodes = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
      (GDestroyNotify) remote_node_free);
  cluster->queue = g_async_queue_new ();
  cluster->wake = g_source_new (&wake_funcs, sizeof (WakeSource));
  ((WakeSource *) cluster->wake)->cluster = cluster;
  g_source_set_name (cluster->wake, "ds-relay cluster");
  g_source_attach (cluster->wake, NULL);

  natsInbox_Create (&inbox);
  cluster->inbox_prefix = g_strdup ((const gchar *) inbox);
  natsInbox_Destroy (inbox);

  if (!cluster_set_options (cluster, error))
    goto failed;
  status = natsConnection_Connect (&cluster->conn, cluster->options);
  if (status == NATS_OK) {
    g_atomic_int_set (&cluster->connected, 1);
    g_atomic_int_inc (&cluster->connects);
    cluster_push (cluster, EVENT_CONNECTED, NULL);
  } else if (status == NATS_NOT_YET_CONNECTED) {
    relay_log ("cluster: NATS at %s not reachable yet: retrying; /healthz "
        "answers 503 until it is", s->cluster);
  } else {
    nats_check (status, "cannot connect to NATS", error);
    goto failed;
  }

  if (natsConnection_Subscribe (&cluster->nodes_sub, cluster->conn,
          cluster->nodes_subject, on_message, cluster) != NATS_OK) {
    /* closed already: NATS refused this node (its credentials) */
    gchar *why = cluster_connect_once (cluster);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "NATS refused this node: %s: check --cluster-user and "
        "--cluster-password, or --cluster-token, and the TLS options", why);
    g_free (why);
    goto failed;
  }
  subject = g_strdup_printf ("%s.*", cluster->inbox_prefix);
  status = natsConnection_Subscribe (&cluster->inbox_sub, cluster->conn,
      subject, on_message, cluster);
  g_free (subject);
  if (status != NATS_OK) {
    nats_check (status, "subscribing to the inbox", error);
    goto failed;
  }

  cluster->tick_id = g_timeout_add (TICK_MS, cluster_tick_cb, cluster);
  relay_log ("cluster: node %s, subjects %s.*, NATS %s", cluster->node_hex,
      cluster->prefix, s->cluster);
  return cluster;

failed:
  relay_cluster_free (cluster);
  return NULL;
}

void
relay_cluster_free (RelayCluster * cluster)
{
  Event *event;

  if (cluster == NULL)
    return;
  g_clear_handle_id (&cluster->tick_id, g_source_remove);
  g_clear_handle_id (&cluster->heartbeat_soon_id, g_source_remove);
  g_hash_table_remove_all (cluster->channels);
  /* closing the connection closes its subscriptions: nothing is
   * delivered after it */
  if (cluster->conn)
    natsConnection_Close (cluster->conn);
  g_clear_pointer (&cluster->nodes_sub, natsSubscription_Destroy);
  g_clear_pointer (&cluster->inbox_sub, natsSubscription_Destroy);
  g_clear_pointer (&cluster->conn, natsConnection_Destroy);
  g_clear_pointer (&cluster->options, natsOptions_Destroy);

  /* messages handed over and not read: freed while the library is still
   * open (natsMsg_Destroy uses its garbage collector, gone after
   * nats_CloseAndWait(): a relay stopping with messages queued crashed
   * there under ASan) */
  while ((event = g_async_queue_try_pop (cluster->queue)) != NULL) {
    if (event->msg)
      natsMsg_Destroy (event->msg);
    g_free (event);
  }
  /* no callback runs after this */
  nats_CloseAndWait (2000);
  /* one that ran between the two: its message cannot be freed any more */
  while ((event = g_async_queue_try_pop (cluster->queue)) != NULL)
    g_free (event);
  g_async_queue_unref (cluster->queue);
  g_source_destroy (cluster->wake);
  g_source_unref (cluster->wake);
  g_hash_table_unref (cluster->channels);
  g_hash_table_unref (cluster->nodes);
  g_free (cluster->inbox_prefix);
  g_free (cluster->nodes_subject);
  g_free (cluster->prefix);
  g_free (cluster->last_error);
  g_free (cluster);
}

/* /metrics */

void
relay_cluster_metrics_text (RelayCluster * cluster, GString * s)
{
  GHashTableIter iter;
  gpointer value;

  g_string_append_printf (s,
      "# HELP ds_relay_cluster_connected 1 while the node is connected to "
      "NATS.\n# TYPE ds_relay_cluster_connected gauge\n"
      "ds_relay_cluster_connected %d\n", relay_cluster_is_connected (cluster));
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_reconnects_total Connections to NATS after "
      "the first (a server lost, the same or another one reached).\n"
      "# TYPE ds_relay_cluster_reconnects_total counter\n"
      "ds_relay_cluster_reconnects_total %d\n",
      MAX (g_atomic_int_get (&cluster->connects) - 1, 0));
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_nodes Other nodes seen (a heartbeat in the "
      "last 3 s).\n# TYPE ds_relay_cluster_nodes gauge\n"
      "ds_relay_cluster_nodes %u\n", g_hash_table_size (cluster->nodes));
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_bytes_out_total Bytes published to NATS.\n"
      "# TYPE ds_relay_cluster_bytes_out_total counter\n"
      "ds_relay_cluster_bytes_out_total %" G_GUINT64_FORMAT "\n",
      cluster->bytes_out);
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_bytes_in_total Bytes received from NATS.\n"
      "# TYPE ds_relay_cluster_bytes_in_total counter\n"
      "ds_relay_cluster_bytes_in_total %" G_GUINT64_FORMAT "\n",
      cluster->bytes_in);
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_messages_dropped_total Messages from NATS "
      "dropped: malformed, or over the hand-off bound.\n"
      "# TYPE ds_relay_cluster_messages_dropped_total counter\n"
      "ds_relay_cluster_messages_dropped_total{reason=\"malformed\"} %"
      G_GUINT64_FORMAT "\n"
      "ds_relay_cluster_messages_dropped_total{reason=\"queue\"} %u\n",
      cluster->malformed, g_atomic_int_get (&cluster->queue_drops));
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_publish_errors_total Messages libnats "
      "refused to publish (no connection and its reconnect buffer full).\n"
      "# TYPE ds_relay_cluster_publish_errors_total counter\n"
      "ds_relay_cluster_publish_errors_total %" G_GUINT64_FORMAT "\n",
      cluster->publish_errors);
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_gaps_total Frames lost between nodes (a "
      "catch-up follows).\n# TYPE ds_relay_cluster_gaps_total counter\n"
      "ds_relay_cluster_gaps_total %" G_GUINT64_FORMAT "\n", cluster->gaps);
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_catchups_total Catch-ups between nodes.\n"
      "# TYPE ds_relay_cluster_catchups_total counter\n"
      "ds_relay_cluster_catchups_total{direction=\"served\"} %"
      G_GUINT64_FORMAT "\n"
      "ds_relay_cluster_catchups_total{direction=\"received\"} %"
      G_GUINT64_FORMAT "\n", cluster->catchups_served,
      cluster->catchups_received);
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_signaling_messages_total /signal/ messages "
      "between nodes (too_big: over one NATS message, kept on this node).\n"
      "# TYPE ds_relay_cluster_signaling_messages_total counter\n"
      "ds_relay_cluster_signaling_messages_total{direction=\"out\"} %"
      G_GUINT64_FORMAT "\n"
      "ds_relay_cluster_signaling_messages_total{direction=\"in\"} %"
      G_GUINT64_FORMAT "\n"
      "ds_relay_cluster_signaling_messages_total{direction=\"too_big\"} %"
      G_GUINT64_FORMAT "\n", cluster->signaling_out, cluster->signaling_in,
      cluster->signaling_too_big);
  g_string_append_printf (s,
      "# HELP ds_relay_cluster_takeovers_total Local sources closed for a "
      "newer one on another node.\n"
      "# TYPE ds_relay_cluster_takeovers_total counter\n"
      "ds_relay_cluster_takeovers_total %" G_GUINT64_FORMAT "\n",
      cluster->takeovers);
  g_string_append (s, "# HELP ds_relay_cluster_channel_remote_receivers "
      "Receivers of a channel on the other nodes.\n"
      "# TYPE ds_relay_cluster_channel_remote_receivers gauge\n");
  g_hash_table_iter_init (&iter, cluster->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    ClusterChannel *cc = value;

    g_string_append_printf (s, "ds_relay_cluster_channel_remote_receivers"
        "{channel=\"%s\"} %u\n", cc->name,
        relay_cluster_remote_receivers (cluster, cc->channel));
  }
  g_string_append (s, "# HELP ds_relay_cluster_channel_bytes_published_total "
      "Bytes of a channel's frames published to NATS by this node.\n"
      "# TYPE ds_relay_cluster_channel_bytes_published_total counter\n");
  g_hash_table_iter_init (&iter, cluster->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    ClusterChannel *cc = value;

    g_string_append_printf (s,
        "ds_relay_cluster_channel_bytes_published_total{channel=\"%s\"} %"
        G_GUINT64_FORMAT "\n", cc->name, cc->bytes_published);
  }
}

#endif /* DS_HAVE_NATS */
