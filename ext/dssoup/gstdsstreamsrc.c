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

/**
 * SECTION:element-dsstreamsrc
 * @title: dsstreamsrc
 * @see_also: dsrelaysink, dsdepay, ds-relay
 *
 * Receives a ds-relay channel over WebSocket (`ws://` or
 * `wss://HOST:PORT/stream/CHANNEL`) and outputs its frames as
 * `application/x-ds-stream`, one frame per buffer (no `media` field: a
 * channel mixes video, audio and signals; dsdepay splits them).
 *
 * dsstreamsrc is a live source. Buffers are timestamped by mapping the
 * frame timestamps (milliseconds on the sender's clock) onto the running
 * time: the offset between the two is the lowest seen (the frame that
 * came with the least delay), and #GstDsStreamSrc:latency is added so
 * that frames delayed by network jitter still reach `sync=true` sinks in
 * time. Audio and video frames with the same timestamp get the same
 * running time, so they play in sync. Once the mapping has settled
 * (500 ms), a frame with less delay than any before lowers the offset by
 * at most 1 ms, and within one kind of media the timestamps never go
 * back. The mapping starts again after a reconnect or lost frames, an End
 * frame, and when frames come more than 1 s later than it predicts or
 * their times go back by more than 1 s (a new sender stream). Latency
 * queries are answered with #GstDsStreamSrc:latency as the minimum.
 *
 * The relay going away costs a short gap, not an error: dsstreamsrc
 * reconnects with a capped exponential backoff with jitter and posts a
 * warning for each failed attempt saying why (connection refused, cannot
 * resolve host, timeout, HTTP 503); only when #GstDsStreamSrc:retries are
 * exhausted is an error posted, and it is the only error: the element
 * then stops pushing, without EOS (the stream failed, it did not end),
 * so no element downstream reports an empty stream. What retrying cannot mend is an error at
 * once: an HTTP 4xx answer (401: the token, 403: forbidden, 404: the
 * path, 400: the channel name), a certificate that does not validate, and
 * a location of another role (checked at start: a `/peer/` URL would
 * make dsstreamsrc the channel's source and throw the real one out, so it
 * is refused with the `/stream/` URL in the message). A relay that hangs
 * up during the TLS handshake (at its handshake limits, restarting) is a
 * network failure, retried. The
 * #GstDsStreamSrc:select filter is sent again after every reconnect.
 *
 * Several relays of one cluster (docs/cluster.md) can serve the channel:
 * #GstDsStreamSrc:locations lists them (`location` is a list of one).
 * dsstreamsrc connects to the first; a network failure or an HTTP 5xx
 * (503: the relay is full or shutting down) moves it to the next one at
 * once, round robin, and a pass over all of them is one retry round of
 * the backoff and of #GstDsStreamSrc:retries. An HTTP 4xx is a
 * configuration error and ends as with one location: the others are not
 * tried. After a lost connection the same location is tried first. The
 * receiver goes on as after a reconnect to the same relay (the relay
 * sends the cached schema, signal state and keyframe; the select filter
 * is sent again). Every warning of a failed attempt names the
 * location tried, and the `ds-connected` element message (`location`,
 * `reconnect`) the location in use; #GstDsStreamSrc:location reads the
 * first of the list.
 *
 * An End frame is output and followed by EOS, unless
 * #GstDsStreamSrc:eos-on-end is %FALSE: then the End frame is not output
 * (dsdepay would end on it), an element message `ds-end` is posted and the
 * element waits for the channel's next stream, as a long-running receiver
 * wants.
 *
 * Upstream events from downstream become input frames sent to the relay,
 * which passes them to the channel's source: `GstDsInput` events (dsdepay
 * turns the video sink's navigation events into those, in the source
 * picture's coordinates), navigation events that reach dsstreamsrc
 * directly, and GstForceKeyUnit events (as a KeyframeRequest).
 *
 * Element messages: `ds-connected` (`location`, `reconnect`),
 * `ds-disconnected` (`reason`), `ds-schema` (`signals`, a string array,
 * and `mode`) for every SchemaAnnounce frame (which is output too),
 * `ds-end`, and `ds-stats` every 5 s and at the End of the stream (the
 * fields of #GstDsStreamSrc:stats).
 *
 * Frames are not copied: a buffer's two memories (header, payload) share
 * the message libsoup received. (Signal frames are rewritten when
 * #GstDsStreamSrc:select is set: the relay applies the filter too, but not
 * to what it sent before the filter arrived.)
 *
 * dsstreamsrc handles `ws://` and `wss://` URIs (#GstURIHandler; the URI
 * is #GstDsStreamSrc:location) with rank primary, as souphttpsrc does
 * `http://`: `playbin uri=ws://127.0.0.1:9100/stream/demo` and
 * `gst-play-1.0 ws://127.0.0.1:9100/stream/demo` play a channel (decodebin
 * plugs dsparse and dsdepay). Any application that opens a ws:// URL
 * through GStreamer's URI handlers gets dsstreamsrc; a ws:// server that
 * is not a ds-relay fails with the relay's error.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 dsstreamsrc location=ws://127.0.0.1:9100/stream/demo ! dsdepay ! videoconvert ! autovideosink
 * ]| Shows the pictures of channel "demo".
 * |[
 * gst-launch-1.0 dsstreamsrc locations="<ws://relay-a:9100/stream/demo, ws://relay-b:9100/stream/demo>" ! dsdepay ! videoconvert ! autovideosink
 * ]| The same from relay-a, or from relay-b while relay-a cannot be
 * reached or is full (both relays of one cluster).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/video/video.h>
#include <glib/gi18n-lib.h>
#include <ds/dsframequeue.h>
#include <ds/dsprotocol.h>
#include <ds/dssignal.h>
#include <ds/dsstream.h>
#include <ds/gstdsutils.h>

#include "gstdssoupelements.h"
#include "gstdssoupconnection.h"
#include "gstdsstreamsrc.h"

GST_DEBUG_CATEGORY_STATIC (gst_ds_stream_src_debug);
#define GST_CAT_DEFAULT gst_ds_stream_src_debug

#define DEFAULT_LATENCY 200
#define DEFAULT_MAX_QUEUE_BYTES (32 * 1024 * 1024)
#define DEFAULT_MAX_FRAME_BYTES DS_DEFAULT_MAX_FRAME_BYTES
#define DEFAULT_EOS_ON_END TRUE

/* Frames later than the mapping predicts, or older than the newest frame
 * time, by more than this restart it */
#define RESYNC_THRESHOLD (1 * GST_SECOND)
/* For this long after the mapping (re)starts, a frame that came with less
 * delay than any before moves it at once (a catch-up burst) */
#define SETTLE_TIME (500 * GST_MSECOND)
/* Afterwards the offset goes down by at most this much per frame */
#define MAX_OFFSET_STEP (1 * GST_MSECOND)
/* Input frames waiting to be sent, at most */
#define MAX_PENDING_INPUT 256
/* ds-stats messages, in ticks of 1 s */
#define STATS_INTERVAL_S 5

enum
{
  PROP_0,
  PROP_SELECT,
  PROP_LATENCY,
  PROP_MAX_QUEUE_BYTES,
  PROP_MAX_FRAME_BYTES,
  PROP_EOS_ON_END,
  PROP_CONNECTED,
  PROP_STATS,
  /* location, token, retries, ... (gstdssoupconnection) */
  PROP_CONNECTION,
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

#define N_MEDIA (DS_MEDIA_OPAQUE + 1)

struct _GstDsStreamSrc
{
  GstPushSrc parent;

  /* settings, under the object lock */
  GstDsSoupSettings settings;
  gchar **select;               /* NULL: all signals */
  guint latency;
  guint64 max_queue_bytes;
  gboolean eos_on_end;

  /* state shared with the connection thread, under self->lock */
  GMutex lock;
  GCond cond;
  GstDsSoupConnection *conn;
  gboolean flushing;
  gboolean failed;
  gboolean connected;
  /* frames for the streaming thread, with the drop policy of SPEC §6.5;
   * their tag is the arrival running time (or NONE) */
  DsFrameQueue *queue;
  GQueue outgoing;              /* of GBytes: input frames */
  DsSeqTracker seq;             /* gaps */
  guint64 frames;
  guint64 bytes;
  guint64 frames_dropped;
  guint16 input_seq;
  guint8 buttons_state;
  guint ticks;

  /* streaming thread */
  gchar **select_names;         /* NULL: all signals */
  DsTimestampUnwrapper unwrapper;
  gboolean have_offset;
  GstClockTimeDiff offset;      /* running time - frame time */
  GstClockTime settle_until;    /* running time */
  GstClockTime newest_frame_time;
  GstClockTime last_pts[N_MEDIA];       /* NONE: nothing output yet */
  gboolean eos_pending;
};

static void gst_ds_stream_src_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

#define gst_ds_stream_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstDsStreamSrc, gst_ds_stream_src,
    GST_TYPE_PUSH_SRC, G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_ds_stream_src_uri_handler_init));
/* primary: the ws:// and wss:// URI source (playbin, uridecodebin,
 * gst-play-1.0), as souphttpsrc is for http:// and rtspsrc for rtsp:// */
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dsstreamsrc, "dsstreamsrc",
    GST_RANK_PRIMARY, GST_TYPE_DS_STREAM_SRC, ds_soup_element_init (plugin));

static void gst_ds_stream_src_finalize (GObject * object);
static void gst_ds_stream_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ds_stream_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_ds_stream_src_start (GstBaseSrc * src);
static gboolean gst_ds_stream_src_stop (GstBaseSrc * src);
static gboolean gst_ds_stream_src_unlock (GstBaseSrc * src);
static gboolean gst_ds_stream_src_unlock_stop (GstBaseSrc * src);
static gboolean gst_ds_stream_src_query (GstBaseSrc * src, GstQuery * query);
static gboolean gst_ds_stream_src_event (GstBaseSrc * src, GstEvent * event);
static GstFlowReturn gst_ds_stream_src_create (GstPushSrc * src,
    GstBuffer ** buffer);

static void
gst_ds_stream_src_class_init (GstDsStreamSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->finalize = gst_ds_stream_src_finalize;
  gobject_class->set_property = gst_ds_stream_src_set_property;
  gobject_class->get_property = gst_ds_stream_src_get_property;

  /* location, token, retries, retry-delay, max-retry-delay, timeout,
   * ssl-strict, ssl-ca-file: declared and documented in
   * gstdssoupconnection.c, shared with dsrelaysink */
  gst_ds_soup_install_properties (gobject_class, PROP_CONNECTION,
      GST_DS_SOUP_ROLE_RECEIVER);

  /**
   * GstDsStreamSrc:select:
   *
   * The names of the signals to receive (a SubscribeFilter, sent after
   * every connect); the relay strips the other signals. Empty, the
   * default: all signals. A list, as dspay's #GstDsPay:signals: on the
   * command line `select="<cursor,count>"`.
   */
  g_object_class_install_property (gobject_class, PROP_SELECT,
      gst_param_spec_array ("select", "Select",
          "Names of the signals to receive (empty = all)",
          g_param_spec_string ("signal", "Signal", "A signal name", NULL,
              G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsStreamSrc:latency:
   *
   * Milliseconds added to every timestamp (a jitter buffer): frames
   * delayed by the network up to this much still play on time.
   */
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Jitter buffer in ms, added to the timestamps", 0, 60000,
          DEFAULT_LATENCY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsStreamSrc:max-queue-bytes:
   *
   * The most bytes of received frames waiting for downstream (192 bytes
   * of bookkeeping counted per frame). On overflow the drop policy of
   * SPEC §6.5 applies: the oldest delta pictures and audio are dropped
   * first (and a keyframe asked for), then the queued signal frames are
   * merged into one (never lost), then the oldest other frames.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64 ("max-queue-bytes", "Maximum queue bytes",
          "Most bytes of received frames waiting for downstream", 0,
          G_MAXUINT64, DEFAULT_MAX_QUEUE_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsStreamSrc:max-frame-bytes:
   *
   * The largest frame accepted, in bytes (libsoup's own limit of 128 KiB
   * is raised to this). The default takes a 4K RGBA picture.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FRAME_BYTES,
      g_param_spec_uint64 ("max-frame-bytes", "Maximum frame bytes",
          "Largest frame accepted in bytes", DS_HEADER_SIZE,
          (guint64) G_MAXUINT32 + DS_HEADER_SIZE, DEFAULT_MAX_FRAME_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsStreamSrc:eos-on-end:
   *
   * Output an End frame and EOS when the channel's source ends its
   * stream. When %FALSE the element keeps running and waits for the
   * channel's next stream (it posts a `ds-end` message instead).
   */
  g_object_class_install_property (gobject_class, PROP_EOS_ON_END,
      g_param_spec_boolean ("eos-on-end", "EOS on End",
          "Send EOS when the source ends its stream (FALSE: keep waiting "
          "for the next one)", DEFAULT_EOS_ON_END,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsStreamSrc:connected:
   *
   * Whether the connection to the relay is open (`_connected`).
   */
  g_object_class_install_property (gobject_class, PROP_CONNECTED,
      g_param_spec_boolean ("connected", "Connected",
          "Whether the connection to the relay is open", FALSE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstDsStreamSrc:stats:
   *
   * A `dsstreamsrc-stats` structure with the receiver status of SPEC
   * §6.6: `connected` (boolean, `_connected`), `latency-ms` (gint,
   * round-trip time of the last Ping, -1 before the first: `_latency`),
   * `frames` (guint64, `_frames`), `reconnects` (guint, `_reconnects`),
   * and `bytes`, `gaps` (frames missing according to the sequence
   * numbers), `frames-dropped`, `queued-bytes` (guint64).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Connection status, round-trip time in ms, frames, bytes, "
          "reconnects, gaps", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);

  gst_element_class_set_static_metadata (element_class,
      "ds-stream relay source", "Source/Network",
      "Receives the ds-stream frames of a ds-relay channel over WebSocket",
      "gst-ds-stream developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_ds_stream_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_ds_stream_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_ds_stream_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_ds_stream_src_unlock_stop);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_ds_stream_src_query);
  basesrc_class->event = GST_DEBUG_FUNCPTR (gst_ds_stream_src_event);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_ds_stream_src_create);

  GST_DEBUG_CATEGORY_INIT (gst_ds_stream_src_debug, "dsstreamsrc", 0,
      "ds-stream relay source");
}

/* The relay bounded the signal frames it sent: merges are not bounded
 * again here (a relay with larger limits would make every merge fail) */
static DsFrameQueue *
gst_ds_stream_src_queue_new (void)
{
  DsFrameQueue *queue = ds_frame_queue_new (DEFAULT_MAX_QUEUE_BYTES, 0);
  DsSignalLimits no_limits = { 0, 0 };

  ds_frame_queue_set_signal_limits (queue, &no_limits);
  return queue;
}

static void
gst_ds_stream_src_init (GstDsStreamSrc * self)
{
  gst_ds_soup_settings_init (&self->settings);
  self->settings.max_message_size = DEFAULT_MAX_FRAME_BYTES;
  self->latency = DEFAULT_LATENCY;
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  self->eos_on_end = DEFAULT_EOS_ON_END;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->queue = gst_ds_stream_src_queue_new ();
  g_queue_init (&self->outgoing);

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), FALSE);
}

static void
gst_ds_stream_src_finalize (GObject * object)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (object);

  gst_ds_soup_settings_clear (&self->settings);
  g_strfreev (self->select);
  g_strfreev (self->select_names);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  ds_frame_queue_free (self->queue);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_ds_stream_src_get_stats (GstDsStreamSrc * self, const gchar * name)
{
  GstStructure *s;
  gint rtt = -1;
  guint reconnects = 0;

  g_mutex_lock (&self->lock);
  if (self->conn) {
    rtt = gst_ds_soup_connection_get_rtt (self->conn);
    reconnects = gst_ds_soup_connection_get_reconnects (self->conn);
  }
  s = gst_structure_new (name,
      "connected", G_TYPE_BOOLEAN, self->connected,
      "latency-ms", G_TYPE_INT, rtt,
      "frames", G_TYPE_UINT64, self->frames,
      "bytes", G_TYPE_UINT64, self->bytes,
      "reconnects", G_TYPE_UINT, reconnects,
      "gaps", G_TYPE_UINT64, self->seq.missing,
      "frames-dropped", G_TYPE_UINT64, self->frames_dropped +
      ds_frame_queue_get_dropped (self->queue),
      "queued-bytes", G_TYPE_UINT64,
      (guint64) ds_frame_queue_get_bytes (self->queue), NULL);
  g_mutex_unlock (&self->lock);

  return s;
}

static void
gst_ds_stream_src_post (GstDsStreamSrc * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Input frames to the relay: any thread */

static void
gst_ds_stream_src_queue_input (GstDsStreamSrc * self, guint8 type,
    const guint8 * payload, gsize len)
{
  DsHeader header = { 0, };
  GBytes *frame;

  g_mutex_lock (&self->lock);
  header.type = type;
  header.flags = DS_FLAG_INPUT;
  header.seq = self->input_seq++;
  if (self->conn)
    header.timestamp = gst_ds_soup_connection_now_ms (self->conn);
  frame = ds_frame_pack (&header, payload, len);

  if (type == DS_INPUT_KEYFRAME_REQUEST) {
    GList *l;

    /* one pending request is enough */
    for (l = self->outgoing.head; l != NULL; l = l->next) {
      if (((const guint8 *) g_bytes_get_data (l->data, NULL))[0] == type) {
        g_bytes_unref (frame);
        g_mutex_unlock (&self->lock);
        return;
      }
    }
  }

  g_queue_push_tail (&self->outgoing, frame);
  while (g_queue_get_length (&self->outgoing) > MAX_PENDING_INPUT)
    g_bytes_unref (g_queue_pop_head (&self->outgoing));
  if (self->conn)
    gst_ds_soup_connection_wakeup (self->conn);
  g_mutex_unlock (&self->lock);

  GST_LOG_OBJECT (self, "queued %s input", ds_input_type_name (type));
}

/* Connection callbacks: all on the connection thread */

static void
gst_ds_stream_src_writable (GstDsSoupConnection * conn, gpointer user_data)
{
  GstDsStreamSrc *self = user_data;

  g_mutex_lock (&self->lock);
  while (!g_queue_is_empty (&self->outgoing) &&
      gst_ds_soup_connection_can_send (conn)) {
    GBytes *frame = g_queue_pop_head (&self->outgoing);

    g_mutex_unlock (&self->lock);
    gst_ds_soup_connection_send (conn, frame);
    g_bytes_unref (frame);
    g_mutex_lock (&self->lock);
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_ds_stream_src_connected (GstDsSoupConnection * conn, gboolean reconnect,
    gpointer user_data)
{
  GstDsStreamSrc *self = user_data;
  gchar *location, **select;

  GST_OBJECT_LOCK (self);
  location = g_strdup (gst_ds_soup_connection_get_location (conn));
  select = g_strdupv (self->select);
  GST_OBJECT_UNLOCK (self);

  if (select != NULL) {
    DsHeader header = { 0, };
    gchar *json;
    gsize len;
    GBytes *frame;

    json = ds_subscribe_filter_build ((const gchar * const *) select, &len);
    header.type = DS_FRAME_SUBSCRIBE_FILTER;
    frame = ds_frame_pack (&header, json, len);
    GST_DEBUG_OBJECT (self, "sending SubscribeFilter %s", json);
    gst_ds_soup_connection_send (conn, frame);
    g_bytes_unref (frame);
    g_free (json);
  }
  g_strfreev (select);

  g_mutex_lock (&self->lock);
  self->connected = TRUE;
  /* a new connection: sequence numbers and timing start again */
  ds_seq_tracker_reset (&self->seq);
  ds_frame_queue_mark_discont (self->queue);
  g_mutex_unlock (&self->lock);

  GST_INFO_OBJECT (self, "%s to %s", reconnect ? "reconnected" : "connected",
      location);
  g_object_notify (G_OBJECT (self), "connected");
  gst_ds_stream_src_post (self, gst_structure_new ("ds-connected",
          "location", G_TYPE_STRING, location,
          "reconnect", G_TYPE_BOOLEAN, reconnect, NULL));
  g_free (location);
}

static void
gst_ds_stream_src_disconnected (GstDsSoupConnection * conn,
    const gchar * reason, gpointer user_data)
{
  GstDsStreamSrc *self = user_data;

  g_mutex_lock (&self->lock);
  self->connected = FALSE;
  g_mutex_unlock (&self->lock);

  GST_WARNING_OBJECT (self, "disconnected: %s", reason);
  g_object_notify (G_OBJECT (self), "connected");
  gst_ds_stream_src_post (self, gst_structure_new ("ds-disconnected",
          "reason", G_TYPE_STRING, reason, NULL));
}

static void
gst_ds_stream_src_attempt_failed (GstDsSoupConnection * conn,
    GstDsSoupFailure failure, const gchar * reason, guint attempt,
    guint delay_ms, gpointer user_data)
{
  GstDsStreamSrc *self = user_data;

  gst_ds_soup_post_retry (GST_ELEMENT (self), GST_DS_SOUP_ROLE_RECEIVER,
      gst_ds_soup_connection_get_location (conn),
      failure, reason, attempt, delay_ms);
}

static void
gst_ds_stream_src_failed (GstDsSoupConnection * conn, GstDsSoupFailure failure,
    const gchar * reason, gpointer user_data)
{
  GstDsStreamSrc *self = user_data;
  gchar *location;

  GST_OBJECT_LOCK (self);
  location = g_strdup (gst_ds_soup_connection_get_location (conn));
  GST_OBJECT_UNLOCK (self);

  gst_ds_soup_post_failure (GST_ELEMENT (self), GST_DS_SOUP_ROLE_RECEIVER,
      failure, location, reason);
  g_free (location);

  g_mutex_lock (&self->lock);
  self->failed = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
gst_ds_stream_src_message (GstDsSoupConnection * conn, GBytes * message,
    gpointer user_data)
{
  GstDsStreamSrc *self = user_data;
  DsHeader header;
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);
  GError *error = NULL;
  GstClock *clock;
  GstClockTime arrival = GST_CLOCK_TIME_NONE;
  guint64 limit;
  gboolean want_keyframe;

  if (!ds_frame_parse_message (data, size, 0, &header, &error)) {
    GST_WARNING_OBJECT (self, "bad message from the relay: %s", error->message);
    g_error_free (error);
    return;
  }
  if (header.flags & DS_FLAG_INPUT) {
    if (header.type == DS_INPUT_RECEIVER_COUNT) {
      /* the relay sends this to the channel's source only: the location
       * is a publishing one behind a path we did not recognise */
      gst_ds_soup_connection_give_up (conn, GST_DS_SOUP_FAILURE_WRONG_ROLE,
          "the relay sent a ReceiverCount, as to the channel's source");
      return;
    }
    GST_DEBUG_OBJECT (self, "ignoring an input frame from the relay");
    return;
  }

  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock != NULL) {
    GstClockTime now = gst_clock_get_time (clock);
    GstClockTime base_time = gst_element_get_base_time (GST_ELEMENT (self));

    if (now >= base_time)
      arrival = now - base_time;
    gst_object_unref (clock);
  }

  GST_LOG_OBJECT (self, "received %s seq %u, %" G_GSIZE_FORMAT " bytes",
      ds_frame_type_name (header.type), header.seq, size);

  GST_OBJECT_LOCK (self);
  limit = self->max_queue_bytes;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->frames++;
  self->bytes += size;

  ds_seq_tracker_push (&self->seq, &header);
  ds_frame_queue_set_limits (self->queue, limit, 0);
  want_keyframe = (ds_frame_queue_push (self->queue, message, &header,
          (gint64) arrival) & DS_FRAME_QUEUE_WANT_KEYFRAME) != 0;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (want_keyframe) {
    GST_DEBUG_OBJECT (self, "dropped pictures: asking for a keyframe");
    gst_ds_stream_src_queue_input (self, DS_INPUT_KEYFRAME_REQUEST, NULL, 0);
  }
}

static void
gst_ds_stream_src_tick (GstDsSoupConnection * conn, gpointer user_data)
{
  GstDsStreamSrc *self = user_data;

  if (++self->ticks % STATS_INTERVAL_S == 0)
    gst_ds_stream_src_post (self, gst_ds_stream_src_get_stats (self,
            "ds-stats"));
}

static const GstDsSoupCallbacks gst_ds_stream_src_callbacks = {
  gst_ds_stream_src_connected,
  gst_ds_stream_src_disconnected,
  gst_ds_stream_src_attempt_failed,
  gst_ds_stream_src_failed,
  gst_ds_stream_src_message,
  NULL,
  gst_ds_stream_src_writable,
  gst_ds_stream_src_tick,
};

/* GstBaseSrc */

static gboolean
gst_ds_stream_src_start (GstBaseSrc * src)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (src);
  GstDsSoupSettings settings;
  GstDsSoupConnection *conn;
  guint i;

  gst_ds_soup_settings_copy_locked (GST_OBJECT (self), &self->settings,
      &settings);

  /* a publishing location would connect as the channel's source and
   * throw the real one out: refuse it now, naming the receiver URL */
  if (!gst_ds_soup_check_locations (GST_ELEMENT (self),
          GST_DS_SOUP_ROLE_RECEIVER, &settings)) {
    gst_ds_soup_settings_clear (&settings);
    return FALSE;
  }

  g_mutex_lock (&self->lock);
  self->failed = FALSE;
  self->connected = FALSE;
  ds_frame_queue_free (self->queue);
  self->queue = gst_ds_stream_src_queue_new ();
  ds_frame_queue_mark_discont (self->queue);
  ds_seq_tracker_init (&self->seq);
  self->frames = self->bytes = self->frames_dropped = 0;
  self->input_seq = 0;
  self->buttons_state = 0;
  self->ticks = 0;
  g_mutex_unlock (&self->lock);

  ds_timestamp_unwrapper_init (&self->unwrapper);
  self->have_offset = FALSE;
  for (i = 0; i < N_MEDIA; i++)
    self->last_pts[i] = GST_CLOCK_TIME_NONE;
  self->eos_pending = FALSE;
  g_clear_pointer (&self->select_names, g_strfreev);
  GST_OBJECT_LOCK (self);
  self->select_names = g_strdupv (self->select);
  GST_OBJECT_UNLOCK (self);

  conn = gst_ds_soup_connection_new (GST_OBJECT (self), &settings,
      &gst_ds_stream_src_callbacks, self);
  gst_ds_soup_settings_clear (&settings);

  g_mutex_lock (&self->lock);
  self->conn = conn;
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static gboolean
gst_ds_stream_src_stop (GstBaseSrc * src)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (src);
  GstDsSoupConnection *conn;

  g_mutex_lock (&self->lock);
  conn = self->conn;
  self->conn = NULL;
  g_mutex_unlock (&self->lock);

  gst_ds_soup_connection_free (conn);

  g_mutex_lock (&self->lock);
  ds_frame_queue_clear (self->queue);
  g_queue_clear_full (&self->outgoing, (GDestroyNotify) g_bytes_unref);
  self->connected = FALSE;
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static gboolean
gst_ds_stream_src_unlock (GstBaseSrc * src)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (src);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static gboolean
gst_ds_stream_src_unlock_stop (GstBaseSrc * src)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (src);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static gboolean
gst_ds_stream_src_query (GstBaseSrc * src, GstQuery * query)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (src);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    guint latency;

    GST_OBJECT_LOCK (self);
    latency = self->latency;
    GST_OBJECT_UNLOCK (self);

    gst_query_set_latency (query, TRUE, latency * GST_MSECOND,
        GST_CLOCK_TIME_NONE);
    return TRUE;
  }

  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

static gboolean
gst_ds_stream_src_event (GstBaseSrc * src, GstEvent * event)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (src);
  DsInputEvent input;
  guint8 payload[DS_INPUT_MAX_PAYLOAD];
  gsize len;

  if (gst_video_event_is_force_key_unit (event)) {
    gst_ds_stream_src_queue_input (self, DS_INPUT_KEYFRAME_REQUEST, NULL, 0);
    return TRUE;
  }

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CUSTOM_UPSTREAM:{
      guint8 type;
      GBytes *bytes = NULL;

      if (!gst_ds_input_event_parse (event, &type, &bytes))
        break;
      if (bytes != NULL) {
        gsize size;
        const guint8 *data = g_bytes_get_data (bytes, &size);

        gst_ds_stream_src_queue_input (self, type, data, size);
        g_bytes_unref (bytes);
      } else {
        gst_ds_stream_src_queue_input (self, type, NULL, 0);
      }
      return TRUE;
    }
    case GST_EVENT_NAVIGATION:{
      gboolean ok;

      g_mutex_lock (&self->lock);
      ok = gst_ds_navigation_to_input (event, &self->buttons_state, &input);
      g_mutex_unlock (&self->lock);
      if (!ok)
        break;
      len = ds_input_event_pack (&input, payload);
      gst_ds_stream_src_queue_input (self, input.type, payload, len);
      return TRUE;
    }
    default:
      break;
  }

  return GST_BASE_SRC_CLASS (parent_class)->event (src, event);
}

/* Maps a frame timestamp onto the running time (see the section doc) */
static GstClockTime
gst_ds_stream_src_map_time (GstDsStreamSrc * self, DsQueuedFrame * frame,
    gboolean restart)
{
  GstClockTime frame_time, arrival = (GstClockTime) frame->tag;
  GstClockTimeDiff candidate, pts;
  guint latency;
  DsMedia media;

  GST_OBJECT_LOCK (self);
  latency = self->latency;
  GST_OBJECT_UNLOCK (self);

  if (!GST_CLOCK_TIME_IS_VALID (arrival)) {
    /* came before PLAYING: it is released now */
    GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));

    if (clock == NULL)
      return GST_CLOCK_TIME_NONE;
    arrival = gst_clock_get_time (clock) -
        gst_element_get_base_time (GST_ELEMENT (self));
    gst_object_unref (clock);
  }

  if (restart || !self->have_offset)
    ds_timestamp_unwrapper_init (&self->unwrapper);
  frame_time = ds_timestamp_unwrap (&self->unwrapper,
      frame->header.timestamp) * GST_MSECOND;
  candidate = GST_CLOCK_DIFF (frame_time, arrival);

  if (self->have_offset && !restart) {
    if (candidate - self->offset > RESYNC_THRESHOLD) {
      GST_DEBUG_OBJECT (self, "frame %" GST_STIME_FORMAT " late: timing "
          "starts again", GST_STIME_ARGS (candidate - self->offset));
      restart = TRUE;
    } else if (frame_time + RESYNC_THRESHOLD < self->newest_frame_time) {
      GST_DEBUG_OBJECT (self, "frame time %" GST_TIME_FORMAT " went back "
          "from %" GST_TIME_FORMAT ": timing starts again",
          GST_TIME_ARGS (frame_time), GST_TIME_ARGS (self->newest_frame_time));
      restart = TRUE;
    }
  }

  if (restart || !self->have_offset) {
    GST_DEBUG_OBJECT (self, "timing starts: frame %" GST_TIME_FORMAT
        " arrived at %" GST_TIME_FORMAT, GST_TIME_ARGS (frame_time),
        GST_TIME_ARGS (arrival));
    self->offset = candidate;
    self->have_offset = TRUE;
    self->settle_until = arrival + SETTLE_TIME;
    self->newest_frame_time = frame_time;
  } else if (candidate < self->offset) {
    /* came with less delay than any frame before: right after a start
     * (a catch-up burst) follow it at once, later only step by step, so
     * that one early frame does not pull the other media back */
    if (arrival < self->settle_until)
      self->offset = candidate;
    else
      self->offset = MAX (candidate, self->offset - MAX_OFFSET_STEP);
  }
  self->newest_frame_time = MAX (self->newest_frame_time, frame_time);

  pts = (GstClockTimeDiff) frame_time + self->offset +
      (GstClockTimeDiff) latency *GST_MSECOND;
  if (pts < 0)
    pts = 0;

  /* never back in time within one kind of media */
  media = ds_frame_type_media (frame->header.type);
  if (GST_CLOCK_TIME_IS_VALID (self->last_pts[media]) &&
      pts < (GstClockTimeDiff) self->last_pts[media]) {
    GST_LOG_OBJECT (self, "%s frame %" GST_STIME_FORMAT " before the one "
        "before: held", ds_frame_type_name (frame->header.type),
        GST_STIME_ARGS ((GstClockTimeDiff) self->last_pts[media] - pts));
    pts = self->last_pts[media];
  }
  self->last_pts[media] = pts;

  return (GstClockTime) pts;
}

static GstBuffer *
gst_ds_stream_src_wrap (GBytes * message)
{
  GstBuffer *buffer;
  GstMemory *memory;
  gsize size;
  gconstpointer data = g_bytes_get_data (message, &size);

  memory = gst_memory_new_wrapped (GST_MEMORY_FLAG_READONLY,
      (gpointer) data, size, 0, size, g_bytes_ref (message),
      (GDestroyNotify) g_bytes_unref);
  buffer = gst_buffer_new ();
  gst_buffer_append_memory (buffer, gst_memory_share (memory, 0,
          DS_HEADER_SIZE));
  if (size > DS_HEADER_SIZE)
    gst_buffer_append_memory (buffer, gst_memory_share (memory,
            DS_HEADER_SIZE, size - DS_HEADER_SIZE));
  gst_memory_unref (memory);

  return buffer;
}

static void
gst_ds_stream_src_post_schema (GstDsStreamSrc * self, DsQueuedFrame * frame)
{
  const gchar *json = (const gchar *) g_bytes_get_data (frame->frame, NULL) +
      DS_HEADER_SIZE;
  GError *error = NULL;
  gchar **signals;
  GstStructure *s;
  JsonObject *object;

  signals = ds_schema_parse (json, frame->header.payload_len, &error);
  if (signals == NULL) {
    GST_WARNING_OBJECT (self, "bad SchemaAnnounce: %s",
        error ? error->message : "?");
    g_clear_error (&error);
    return;
  }

  s = gst_structure_new ("ds-schema", "signals", G_TYPE_STRV, signals, NULL);
  object = ds_signal_parse_object (json, frame->header.payload_len, NULL);
  if (object != NULL) {
    if (json_object_has_member (object, "mode") &&
        JSON_NODE_HOLDS_VALUE (json_object_get_member (object, "mode")))
      gst_structure_set (s, "mode", G_TYPE_STRING,
          json_object_get_string_member (object, "mode"), NULL);
    json_object_unref (object);
  }
  gst_ds_stream_src_post (self, s);
  g_strfreev (signals);
}

/* The relay filters signal frames by the SubscribeFilter, but what it
 * sends between the handshake and the filter's arrival (a late joiner's
 * catch-up) is not: filter here too, so that `select` always holds.
 * Returns a new buffer, or NULL when nothing selected is left. */
static GstBuffer *
gst_ds_stream_src_filter_signals (GstDsStreamSrc * self, DsQueuedFrame * frame)
{
  DsHeader header = frame->header;
  const gchar *json = (const gchar *) g_bytes_get_data (frame->frame,
      NULL) + DS_HEADER_SIZE;
  GError *error = NULL;
  GstBuffer *buffer;
  gchar *filtered;
  gsize len = 0;

  filtered = ds_signal_filter (json, header.payload_len,
      (const gchar * const *) self->select_names, &len, &error);
  if (filtered == NULL) {
    if (error != NULL) {
      GST_WARNING_OBJECT (self, "bad signal frame: %s", error->message);
      g_error_free (error);
    }
    return NULL;
  }
  buffer = gst_ds_frame_buffer_new_data (&header, filtered, len);
  g_free (filtered);

  return buffer;
}

static GstFlowReturn
gst_ds_stream_src_create (GstPushSrc * src, GstBuffer ** outbuf)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (src);
  DsQueuedFrame *frame;
  GstBuffer *buffer;
  gboolean eos_on_end, restart;
  GstClockTime pts;

  if (self->eos_pending)
    return GST_FLOW_EOS;

  GST_OBJECT_LOCK (self);
  eos_on_end = self->eos_on_end;
  GST_OBJECT_UNLOCK (self);

again:
  g_mutex_lock (&self->lock);
  while (ds_frame_queue_get_length (self->queue) == 0 && !self->flushing &&
      !self->failed)
    g_cond_wait (&self->cond, &self->lock);
  if (self->flushing)
    goto flushing;
  if (self->failed)
    goto failed;
  frame = ds_frame_queue_pop (self->queue);
  g_mutex_unlock (&self->lock);

  /* timing starts again after a reconnect (restart), after an End
   * (have_offset), and on a big jump (see map_time); not for frames lost
   * on one seq stream (discont: the sender's clock did not change) */
  restart = frame->restart;

  switch (frame->header.type) {
    case DS_FRAME_END:
      self->have_offset = FALSE;
      if (!eos_on_end) {
        GST_INFO_OBJECT (self, "the source ended its stream; waiting for "
            "the next");
        gst_ds_stream_src_post (self, gst_structure_new_empty ("ds-end"));
        ds_queued_frame_free (frame);
        goto again;
      }
      GST_INFO_OBJECT (self, "the source ended its stream: EOS");
      self->eos_pending = TRUE;
      /* the final figures */
      gst_ds_stream_src_post (self, gst_ds_stream_src_get_stats (self,
              "ds-stats"));
      break;
    case DS_FRAME_SCHEMA_ANNOUNCE:
      gst_ds_stream_src_post_schema (self, frame);
      break;
    default:
      break;
  }

  pts = gst_ds_stream_src_map_time (self, frame, restart);
  if (self->select_names != NULL &&
      (frame->header.type == DS_FRAME_SIGNAL_SYNC ||
          frame->header.type == DS_FRAME_SIGNAL_DIFF)) {
    buffer = gst_ds_stream_src_filter_signals (self, frame);
    if (buffer == NULL) {
      GST_LOG_OBJECT (self, "nothing selected in a signal frame");
      ds_queued_frame_free (frame);
      goto again;
    }
  } else {
    buffer = gst_ds_stream_src_wrap (frame->frame);
  }
  GST_BUFFER_PTS (buffer) = pts;
  if (ds_frame_needs_reference (&frame->header) ||
      frame->header.type == DS_FRAME_SIGNAL_DIFF)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (frame->discont)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);

  GST_LOG_OBJECT (self, "%s seq %u ts %u -> %" GST_TIME_FORMAT,
      ds_frame_type_name (frame->header.type), frame->header.seq,
      frame->header.timestamp, GST_TIME_ARGS (pts));

  ds_queued_frame_free (frame);
  *outbuf = buffer;

  return GST_FLOW_OK;

  /* ERRORS */
flushing:
  {
    g_mutex_unlock (&self->lock);
    GST_DEBUG_OBJECT (self, "flushing");
    return GST_FLOW_FLUSHING;
  }
failed:
  {
    /* The error was posted when the retries ran out, and it is the only
     * one: GST_FLOW_ERROR would make GstBaseSrc post a second, generic
     * one and push EOS, on which dsdepay would post a third (nothing
     * found in the stream). FLUSHING stops the streaming thread without
     * either; the stream failed, it did not end, so no EOS goes out and
     * the application acts on the error. */
    g_mutex_unlock (&self->lock);
    GST_DEBUG_OBJECT (self, "connection failed: streaming stops");
    return GST_FLOW_FLUSHING;
  }
}

static GstURIType
gst_ds_stream_src_uri_get_type (GType type)
{
  return GST_URI_SRC;
}

static const gchar *const *
gst_ds_stream_src_uri_get_protocols (GType type)
{
  static const gchar *protocols[] = { "ws", "wss", NULL };

  return protocols;
}

static gchar *
gst_ds_stream_src_uri_get_uri (GstURIHandler * handler)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (handler);
  gchar *uri;

  GST_OBJECT_LOCK (self);
  uri = g_strdup (self->settings.location);
  GST_OBJECT_UNLOCK (self);

  return uri;
}

/* The URI is the location: a ws:// or wss:// URL with a host (which
 * relay path it names is checked at start, as for the property) */
static gboolean
gst_ds_stream_src_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (handler);
  GstUri *parsed;
  gboolean ok;

  if (GST_STATE (self) == GST_STATE_PLAYING ||
      GST_STATE (self) == GST_STATE_PAUSED) {
    g_set_error_literal (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "The location can only be changed in the NULL or READY state");
    return FALSE;
  }

  parsed = gst_uri_from_string (uri);
  ok = parsed != NULL && gst_uri_get_host (parsed) != NULL &&
      gst_uri_get_host (parsed)[0] != '\0' &&
      (g_ascii_strcasecmp (gst_uri_get_scheme (parsed), "ws") == 0 ||
      g_ascii_strcasecmp (gst_uri_get_scheme (parsed), "wss") == 0);
  if (parsed != NULL)
    gst_uri_unref (parsed);
  if (!ok) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "Not a ws:// or wss:// URL with a host: %s", uri);
    return FALSE;
  }

  g_object_set (self, "location", uri, NULL);
  return TRUE;
}

static void
gst_ds_stream_src_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = (GstURIHandlerInterface *) g_iface;

  iface->get_type = gst_ds_stream_src_uri_get_type;
  iface->get_protocols = gst_ds_stream_src_uri_get_protocols;
  iface->get_uri = gst_ds_stream_src_uri_get_uri;
  iface->set_uri = gst_ds_stream_src_uri_set_uri;
}

static void
gst_ds_stream_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (object);

  GST_OBJECT_LOCK (self);
  if (gst_ds_soup_settings_set_property (&self->settings, PROP_CONNECTION,
          prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_SELECT:
      g_strfreev (self->select);
      self->select = gst_ds_value_array_to_strv (value);
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_uint (value);
      break;
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_FRAME_BYTES:
      self->settings.max_message_size = g_value_get_uint64 (value);
      break;
    case PROP_EOS_ON_END:
      self->eos_on_end = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ds_stream_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDsStreamSrc *self = GST_DS_STREAM_SRC (object);

  switch (prop_id) {
    case PROP_CONNECTED:
      g_mutex_lock (&self->lock);
      g_value_set_boolean (value, self->connected);
      g_mutex_unlock (&self->lock);
      return;
    case PROP_STATS:
      g_value_take_boxed (value, gst_ds_stream_src_get_stats (self,
              "dsstreamsrc-stats"));
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  if (gst_ds_soup_settings_get_property (&self->settings, PROP_CONNECTION,
          prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_SELECT:
      gst_ds_value_array_set_strv (value, (const gchar * const *) self->select);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint64 (value, self->max_queue_bytes);
      break;
    case PROP_MAX_FRAME_BYTES:
      g_value_set_uint64 (value, self->settings.max_message_size);
      break;
    case PROP_EOS_ON_END:
      g_value_set_boolean (value, self->eos_on_end);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
