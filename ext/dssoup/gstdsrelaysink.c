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
 * SECTION:element-dsrelaysink
 * @title: dsrelaysink
 * @see_also: dsstreamsrc, dspay, dsdelta, ds-relay
 *
 * Publishes ds-stream frames to a ds-relay channel over WebSocket
 * (`ws://` or `wss://HOST:PORT/peer/CHANNEL`). Every receiver of the
 * channel gets the frames; input from the receivers comes back upstream.
 *
 * dsrelaysink is a #GstBaseSink with one sink pad taking one ds-stream.
 * One channel carries a screencast, its sound and its signals together:
 * join them into one ds-stream with `dsmux` first (each stream keeps the
 * sequence numbers its dspay gave it; receivers check them per stream).
 * End frames from upstream are not passed on: dsrelaysink sends one End
 * frame at EOS, and posts EOS once the relay has acknowledged it (a Ping
 * sent after the End frame came back), or after 5 s. If the connection
 * breaks before that answer, the End frame is sent again on the next
 * connection.
 *
 * As a #GstBaseSink it prerolls, and has #GstBaseSink:sync (off by
 * default here: frames are queued as they come; turn it on to publish a
 * recording, `filesrc ! dsparse`, at its own pace), #GstBaseSink:qos,
 * #GstBaseSink:last-sample and the latency handling of every sink;
 * #GstDsRelaySink:stats holds the base sink's figures too.
 *
 * The relay being down at start or going away later does not stop the
 * pipeline: dsrelaysink reconnects with a capped exponential backoff with
 * jitter, up to #GstDsRelaySink:retries times in a row (forever by
 * default), and posts a warning for each failed attempt saying why; when
 * the retries run out it posts an error. Only what may pass is retried
 * (network failures, timeouts, HTTP 5xx); an HTTP 4xx answer (401: the
 * token, 403: forbidden, 404: the path, 400: the channel name), a
 * certificate that does not validate, and a location of another role
 * (checked at start: a `/stream/` URL is refused with the `/peer/` URL in
 * the message) are errors at once; a relay that hangs up during the TLS
 * handshake (at its handshake limits, restarting) is a network failure,
 * retried. A connection that the relay closes
 * within 5 s is replaced after the backoff, not at once.
 *
 * Several relays of one cluster (docs/cluster.md) can serve the channel:
 * #GstDsRelaySink:locations lists them (`location` is a list of one).
 * dsrelaysink connects to the first; a network failure or an HTTP 5xx
 * (503: the relay is full or shutting down) moves it to the next one at
 * once, round robin, and a pass over all of them is one retry round of
 * the backoff and of #GstDsRelaySink:retries. An HTTP 4xx is a
 * configuration error and ends as with one location: the others are not
 * tried. After a lost connection the same location is tried first. The
 * source keeps its stream on the new relay as after a reconnect to the
 * same one (the schema, the whole signal state and a keyframe go first;
 * sequence numbers go on). Every warning of a failed attempt names the
 * location tried, and the `ds-connected` element message (`location`,
 * `reconnect`) the location in use; #GstDsRelaySink:location reads the
 * first of the list.
 *
 * A channel has one source. When another source connects to the channel,
 * the relay closes this one with code 4000: dsrelaysink then posts a
 * `RESOURCE/BUSY` error naming the channel and does not reconnect (taking
 * the channel back would make the two take it from each other for ever).
 * An application that wants to publish again restarts the pipeline.
 *
 * Meanwhile, and whenever the
 * uplink is slower than the stream, frames wait in a queue of at most
 * #GstDsRelaySink:max-queue-bytes: a frame is handed to libsoup only when
 * libsoup has written the ones before into the socket, so libsoup's own
 * (unbounded) queue holds about one frame at most. When the queue is
 * full, the drop policy of SPEC §6.5 applies (the stream model's
 * DsFrameQueue, as in the relay and dsstreamsrc): the oldest delta
 * pictures and audio go first (the following deltas up to the next
 * keyframe too, and a keyframe is asked for upstream), queued signal
 * frames are merged into one (signal state is never lost), and then the
 * oldest other frames. After a reconnect the
 * cached SchemaAnnounce and one SignalSync of the current state go first,
 * and upstream is asked for a keyframe (GstForceKeyUnit); queued delta
 * pictures up to that keyframe are dropped, since frames may have been lost
 * with the old connection.
 *
 * Input frames from the receivers become upstream events: KeyframeRequest
 * a GstForceKeyUnit event (dsdelta answers it with a keyframe; the relay
 * sends one when it holds signal diffs and no SignalSync, after a
 * restart), and dsrelaysink itself answers it with one SignalSync of the
 * signal state it holds, ahead of the queued signal frames; pointer,
 * buttons, keys, scroll and touch GstNavigation events (unless the input
 * caps say `media=audio` or `signal`; dsmux passes them to its video
 * pads); every other type a custom upstream `GstDsInput` event. Every input is also posted as an
 * element message named `ds-input` carrying `type`, `code` and its fields,
 * so an application can react to it without a navigation-aware source:
 * pointer `x`, `y`, `buttons`; keys `keycode`, `modifiers`, `key`; touch
 * `id`, `x`, `y`; gamepad-axis `axis` (gamepad * 32 + axis) and `value`
 * (double, -1..1); gamepad-button `button` (gamepad * 32 + button),
 * `pressed` (boolean) and `value` (double, 0..1: an analog trigger's
 * travel); midi `status`, `data1`, `data2` (one MIDI channel message);
 * scroll `dx`, `dy`; resize `width`, `height`. A GamepadAxis value that
 * is not a number in -1..1 (NaN, infinite) is dropped with a warning.
 *
 * Element messages: `ds-connected` (`location`, `reconnect`),
 * `ds-disconnected` (`reason`), `ds-receivers` (`receivers`, when the
 * relay's receiver count changes), `ds-receiver-report` (`receivers`,
 * `kbps-min`, `kbps-median`, `kbps-max`, `dropped`, all guint: the
 * relay's ReceiverReport, once a second while one of the channel's
 * receivers is congested: an application can lower its encoder's bitrate
 * towards `kbps-median` or `kbps-min`; a report that does not parse is
 * dropped with a warning), `ds-input`, and `ds-stats` every 5 s
 * (the fields of #GstDsRelaySink:stats), and once more before EOS.
 *
 * Copies: queued frames are references to the upstream buffers. When a
 * frame is sent, a buffer of one memory is handed to libsoup as it is;
 * a buffer of several memories (dspay's header + payload) is made
 * contiguous once (one copy). libsoup then copies the frame once more
 * into the masked WebSocket frame it writes (RFC 6455 requires clients
 * to mask; libsoup 3 has no way around this).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,format=RGBA,width=320,height=240 ! dspay ! dsdelta ! dsrelaysink location=ws://127.0.0.1:9100/peer/demo
 * ]| Publishes a test picture on channel "demo".
 * |[
 * gst-launch-1.0 dsmux name=m ! dsrelaysink location=ws://127.0.0.1:9100/peer/demo \
 *     videotestsrc is-live=true ! video/x-raw,format=RGBA,width=320,height=240 ! dspay ! dsdelta ! m. \
 *     audiotestsrc is-live=true ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! dspay ! m.
 * ]| Publishes a picture and a tone on one channel.
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,format=RGBA,width=320,height=240 ! dspay ! dsdelta ! dsrelaysink locations="<ws://relay-a:9100/peer/demo, ws://relay-b:9100/peer/demo>"
 * ]| Publishes on relay-a, or on relay-b while relay-a cannot be reached
 * or is full.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
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
#include "gstdsrelaysink.h"

GST_DEBUG_CATEGORY_STATIC (gst_ds_relay_sink_debug);
#define GST_CAT_DEFAULT gst_ds_relay_sink_debug

#define DEFAULT_MAX_QUEUE_BYTES (32 * 1024 * 1024)
#define DEFAULT_SYNC FALSE

/* How long EOS waits for the End frame to reach the relay */
#define EOS_TIMEOUT_MS 5000
/* ds-stats messages, in ticks of 1 s */
#define STATS_INTERVAL_S 5

enum
{
  PROP_0,
  PROP_MAX_QUEUE_BYTES,
  PROP_CONNECTED,
  PROP_RECEIVERS,
  PROP_STATS,
  /* location, token, retries, ... (gstdssoupconnection) */
  PROP_CONNECTION,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

typedef enum
{
  EOS_NONE,
  EOS_QUEUED,                   /* End frame in the queue */
  EOS_SENT,                     /* End frame sent, Ping after it */
  EOS_DONE,                     /* the Ping came back */
} EosState;

struct _GstDsRelaySink
{
  GstBaseSink parent;

  /* settings, under the object lock */
  GstDsSoupSettings settings;
  guint64 max_queue_bytes;
  DsMedia media;                /* from the caps; NONE: not said */

  /* state, under self->lock */
  GMutex lock;
  GCond cond;
  GstDsSoupConnection *conn;
  gboolean flushing;            /* unlock(): stop waiting */
  gboolean failed;
  /* frames waiting for the uplink, with the drop policy of SPEC §6.5 */
  DsFrameQueue *queue;
  /* what the relay needs after a reconnect: the schema and the whole
   * signal state (the stream model, as the relay keeps it) */
  DsStreamState *stream;
  gboolean resync_pending;      /* reconnected: schema + SignalSync first */
  gboolean signal_sync_pending; /* a KeyframeRequest: SignalSync first */
  guint32 last_timestamp;
  EosState eos_state;
  guint16 eos_ping_seq;
  guint8 buttons_state;
  guint ticks;

  gboolean connected;
  guint receivers;
  guint64 frames_sent;
  guint64 bytes_sent;
  guint64 frames_dropped;
};

#define gst_ds_relay_sink_parent_class parent_class
G_DEFINE_TYPE (GstDsRelaySink, gst_ds_relay_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dsrelaysink, "dsrelaysink",
    GST_RANK_NONE, GST_TYPE_DS_RELAY_SINK, ds_soup_element_init (plugin));

static void gst_ds_relay_sink_finalize (GObject * object);
static void gst_ds_relay_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ds_relay_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_ds_relay_sink_start (GstBaseSink * sink);
static gboolean gst_ds_relay_sink_stop (GstBaseSink * sink);
static gboolean gst_ds_relay_sink_unlock (GstBaseSink * sink);
static gboolean gst_ds_relay_sink_unlock_stop (GstBaseSink * sink);
static gboolean gst_ds_relay_sink_set_caps (GstBaseSink * sink, GstCaps * caps);
static gboolean gst_ds_relay_sink_event (GstBaseSink * sink, GstEvent * event);
static GstFlowReturn gst_ds_relay_sink_render (GstBaseSink * sink,
    GstBuffer * buffer);

static void
gst_ds_relay_sink_class_init (GstDsRelaySinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_ds_relay_sink_finalize;
  gobject_class->set_property = gst_ds_relay_sink_set_property;
  gobject_class->get_property = gst_ds_relay_sink_get_property;

  /* location, token, retries, retry-delay, max-retry-delay, timeout,
   * ssl-strict, ssl-ca-file: declared and documented in
   * gstdssoupconnection.c, shared with dsstreamsrc */
  gst_ds_soup_install_properties (gobject_class, PROP_CONNECTION,
      GST_DS_SOUP_ROLE_SOURCE);

  /**
   * GstDsRelaySink:max-queue-bytes:
   *
   * The most bytes of frames waiting to be sent (while disconnected or
   * when the network is slower than the stream). On overflow delta
   * pictures and audio are dropped first and signal frames merged.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64 ("max-queue-bytes", "Maximum queue bytes",
          "Most bytes of frames waiting to be sent (then deltas and audio "
          "are dropped, signals merged)", 0, G_MAXUINT64,
          DEFAULT_MAX_QUEUE_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsRelaySink:connected:
   *
   * Whether the connection to the relay is open.
   */
  g_object_class_install_property (gobject_class, PROP_CONNECTED,
      g_param_spec_boolean ("connected", "Connected",
          "Whether the connection to the relay is open", FALSE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstDsRelaySink:receivers:
   *
   * The number of receivers of the channel, as the relay last reported
   * it. A `ds-receivers` element message is posted when it changes.
   */
  g_object_class_install_property (gobject_class, PROP_RECEIVERS,
      g_param_spec_uint ("receivers", "Receivers",
          "Number of receivers of the channel (reported by the relay)", 0,
          G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstDsRelaySink:stats:
   *
   * A `dsrelaysink-stats` structure: `connected` (boolean),
   * `frames-sent`, `bytes-sent`, `frames-dropped` (guint64),
   * `queued-bytes` (guint64), `reconnects` (guint), `receivers` (guint),
   * `rtt-ms` (gint, round-trip time of the last Ping, -1 before the
   * first), and the base sink's `average-rate` (gdouble), `dropped` and
   * `rendered` (guint64: buffers dropped by #GstBaseSink:sync or QoS, and
   * handed to the queue).
   */
  g_object_class_override_property (gobject_class, PROP_STATS, "stats");

  gst_element_class_add_static_pad_template (element_class, &sink_template);

  gst_element_class_set_static_metadata (element_class,
      "ds-stream relay sink", "Sink/Network",
      "Publishes ds-stream frames to a ds-relay channel over WebSocket",
      "gst-ds-stream developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_ds_relay_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_ds_relay_sink_stop);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_ds_relay_sink_unlock);
  basesink_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_ds_relay_sink_unlock_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_ds_relay_sink_set_caps);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_ds_relay_sink_event);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_ds_relay_sink_render);

  GST_DEBUG_CATEGORY_INIT (gst_ds_relay_sink_debug, "dsrelaysink", 0,
      "ds-stream relay sink");
}

static DsFrameQueue *gst_ds_relay_sink_queue_new (void);

static void
gst_ds_relay_sink_init (GstDsRelaySink * self)
{
  gst_ds_soup_settings_init (&self->settings);
  /* input frames only come this way: small */
  self->settings.max_message_size = 64 * 1024;
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  /* frames are queued as they come; sync=true paces a recording */
  gst_base_sink_set_sync (GST_BASE_SINK (self), DEFAULT_SYNC);
  /* every frame counts, in the segment or not: a signal diff or a
   * Keyframe outside it still changes what receivers hold */
  gst_base_sink_set_drop_out_of_segment (GST_BASE_SINK (self), FALSE);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->queue = gst_ds_relay_sink_queue_new ();
  {
    DsStreamSettings settings;

    /* our own stream: whole from its first frame; the pictures come again
     * from upstream on request, and the relay applies its own bounds */
    ds_stream_settings_init (&settings);
    settings.origin = TRUE;
    settings.cache_pictures = FALSE;
    settings.max_picture_pixels = G_MAXUINT64;
    settings.signal_limits.max_bytes = 0;
    settings.signal_limits.max_keys = 0;
    self->stream = ds_stream_state_new (&settings);
  }
  /* merged signal frames: one SignalSync of our whole state */
  ds_frame_queue_set_whole_signals (self->queue,
      ds_stream_state_get_signals (self->stream, NULL));
}

static void
gst_ds_relay_sink_finalize (GObject * object)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (object);

  gst_ds_soup_settings_clear (&self->settings);
  ds_frame_queue_free (self->queue);
  ds_stream_state_free (self->stream);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* Queue */

static DsFrameQueue *
gst_ds_relay_sink_queue_new (void)
{
  DsFrameQueue *queue = ds_frame_queue_new (DEFAULT_MAX_QUEUE_BYTES, 0);
  DsSignalLimits no_limits = { 0, 0 };

  /* signal frames are merged whatever their size: the relay bounds them */
  ds_frame_queue_set_signal_limits (queue, &no_limits);
  return queue;
}

/* Called with self->lock: the End frame of the channel, after everything
 * queued (it is never dropped) */
static void
gst_ds_relay_sink_enqueue_end (GstDsRelaySink * self)
{
  DsHeader header = { 0, };
  GBytes *end;

  header.type = DS_FRAME_END;
  header.timestamp = self->last_timestamp;
  end = ds_frame_pack (&header, NULL, 0);
  ds_frame_queue_push (self->queue, end, &header, 0);
  g_bytes_unref (end);
  self->eos_state = EOS_QUEUED;
}

/* Upstream events */

/* Sends @event upstream, unless the input caps say it is a stream that
 * cannot take it (navigation to sound; dsmux passes such events to its
 * picture inputs) */
static void
gst_ds_relay_sink_push_upstream (GstDsRelaySink * self, GstEvent * event)
{
  DsMedia media;

  GST_OBJECT_LOCK (self);
  media = self->media;
  GST_OBJECT_UNLOCK (self);

  if (!gst_ds_media_takes_event (media, event)) {
    gst_event_unref (event);
    return;
  }
  GST_DEBUG_OBJECT (self, "sending %" GST_PTR_FORMAT " upstream", event);
  gst_pad_push_event (GST_BASE_SINK_PAD (self), event);
}

static void
gst_ds_relay_sink_request_keyframe (GstDsRelaySink * self)
{
  gst_ds_relay_sink_push_upstream (self,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          0));
}

/* Stats */

static GstStructure *
gst_ds_relay_sink_get_stats (GstDsRelaySink * self, const gchar * name)
{
  GstStructure *s, *base;
  gint rtt = -1;
  guint reconnects = 0;
  gdouble average_rate = 0.0;
  guint64 dropped = 0, rendered = 0;

  base = gst_base_sink_get_stats (GST_BASE_SINK (self));
  gst_structure_get (base, "average-rate", G_TYPE_DOUBLE, &average_rate,
      "dropped", G_TYPE_UINT64, &dropped, "rendered", G_TYPE_UINT64,
      &rendered, NULL);
  gst_structure_free (base);

  g_mutex_lock (&self->lock);
  if (self->conn) {
    rtt = gst_ds_soup_connection_get_rtt (self->conn);
    reconnects = gst_ds_soup_connection_get_reconnects (self->conn);
  }
  s = gst_structure_new (name,
      "connected", G_TYPE_BOOLEAN, self->connected,
      "frames-sent", G_TYPE_UINT64, self->frames_sent,
      "bytes-sent", G_TYPE_UINT64, self->bytes_sent,
      "frames-dropped", G_TYPE_UINT64, self->frames_dropped +
      ds_frame_queue_get_dropped (self->queue),
      "queued-bytes", G_TYPE_UINT64,
      (guint64) ds_frame_queue_get_bytes (self->queue),
      "reconnects", G_TYPE_UINT, reconnects,
      "receivers", G_TYPE_UINT, self->receivers,
      "rtt-ms", G_TYPE_INT, rtt,
      "average-rate", G_TYPE_DOUBLE, average_rate,
      "dropped", G_TYPE_UINT64, dropped,
      "rendered", G_TYPE_UINT64, rendered, NULL);
  g_mutex_unlock (&self->lock);

  return s;
}

static void
gst_ds_relay_sink_post (GstDsRelaySink * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Connection callbacks: all on the connection thread */

/* Sends catch-up frames (schema, signal state) ahead of the queue and
 * drops the queued signal frames they supersede */
static void
gst_ds_relay_sink_send_catchup (GstDsRelaySink * self,
    GstDsSoupConnection * conn, GPtrArray * frames)
{
  guint i;

  if (frames->len == 0)
    return;
  for (i = 0; i < frames->len; i++)
    gst_ds_soup_connection_send (conn, g_ptr_array_index (frames, i));
  ds_frame_queue_drop_signals (self->queue);
}

static void
gst_ds_relay_sink_writable (GstDsSoupConnection * conn, gpointer user_data)
{
  GstDsRelaySink *self = user_data;
  gboolean want_keyframe = FALSE;

  g_mutex_lock (&self->lock);

  if (self->resync_pending) {
    GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
        g_bytes_unref);

    /* what a receiver needs first after we were away: the schema and the
     * whole signal state, which supersedes the queued signal frames; the
     * picture comes from upstream */
    self->resync_pending = FALSE;
    ds_stream_state_catchup (self->stream, NULL, frames, NULL);
    gst_ds_relay_sink_send_catchup (self, conn, frames);
    g_ptr_array_unref (frames);
    want_keyframe = TRUE;
    self->signal_sync_pending = FALSE;
  }

  if (self->signal_sync_pending) {
    GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
        g_bytes_unref);

    /* a KeyframeRequest (a relay that holds signal diffs and no sync, a
     * receiver): the whole state now, superseding the queued signal
     * frames (the state already holds them) */
    self->signal_sync_pending = FALSE;
    ds_stream_state_signal_catchup (self->stream, NULL, frames);
    gst_ds_relay_sink_send_catchup (self, conn, frames);
    g_ptr_array_unref (frames);
  }

  while (ds_frame_queue_get_length (self->queue) > 0 &&
      gst_ds_soup_connection_can_send (conn)) {
    DsQueuedFrame *frame = ds_frame_queue_pop (self->queue);
    gsize size = frame->size;
    GBytes *bytes;

    g_mutex_unlock (&self->lock);

    /* one memory: no copy; several (dspay's header and payload): one */
    bytes = frame->frame ? g_bytes_ref (frame->frame) :
        gst_ds_buffer_to_bytes (frame->owner_data);
    if (bytes) {
      gst_ds_soup_connection_send (conn, bytes);
      g_bytes_unref (bytes);
    } else {
      GST_WARNING_OBJECT (self, "cannot map a frame, not sent");
    }

    g_mutex_lock (&self->lock);
    self->frames_sent++;
    self->bytes_sent += size;
    if (frame->header.type == DS_FRAME_END && self->eos_state == EOS_QUEUED) {
      /* the relay answers Pings in order: its answer means it has
       * received everything before, the End frame included */
      self->eos_state = EOS_SENT;
      self->eos_ping_seq = gst_ds_soup_connection_send_ping (conn);
    }
    ds_queued_frame_free (frame);
  }
  g_mutex_unlock (&self->lock);

  if (want_keyframe)
    gst_ds_relay_sink_request_keyframe (self);
}

static void
gst_ds_relay_sink_connected (GstDsSoupConnection * conn, gboolean reconnect,
    gpointer user_data)
{
  GstDsRelaySink *self = user_data;
  gchar *location;

  g_mutex_lock (&self->lock);
  self->connected = TRUE;
  self->resync_pending = reconnect;
  if (reconnect) {
    /* frames may have been lost with the old connection: the queued
     * deltas up to the next keyframe could be drawn on a wrong picture */
    ds_frame_queue_lose_reference (self->queue);
  }
  if (self->eos_state == EOS_SENT) {
    /* the old connection may have gone before the relay read the End
     * frame: send it again (after the resync) and wait for the answer to
     * the Ping that follows it on this connection */
    GST_DEBUG_OBJECT (self, "sending the End frame again");
    gst_ds_relay_sink_enqueue_end (self);
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  GST_OBJECT_LOCK (self);
  location = g_strdup (gst_ds_soup_connection_get_location (conn));
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "%s to %s", reconnect ? "reconnected" : "connected",
      location);
  g_object_notify (G_OBJECT (self), "connected");
  gst_ds_relay_sink_post (self, gst_structure_new ("ds-connected",
          "location", G_TYPE_STRING, location,
          "reconnect", G_TYPE_BOOLEAN, reconnect, NULL));
  g_free (location);
}

static void
gst_ds_relay_sink_disconnected (GstDsSoupConnection * conn,
    const gchar * reason, gpointer user_data)
{
  GstDsRelaySink *self = user_data;

  g_mutex_lock (&self->lock);
  self->connected = FALSE;
  g_mutex_unlock (&self->lock);

  GST_WARNING_OBJECT (self, "disconnected: %s", reason);
  g_object_notify (G_OBJECT (self), "connected");
  gst_ds_relay_sink_post (self, gst_structure_new ("ds-disconnected",
          "reason", G_TYPE_STRING, reason, NULL));
}

static void
gst_ds_relay_sink_attempt_failed (GstDsSoupConnection * conn,
    GstDsSoupFailure failure, const gchar * reason, guint attempt,
    guint delay_ms, gpointer user_data)
{
  GstDsRelaySink *self = user_data;

  gst_ds_soup_post_retry (GST_ELEMENT (self), GST_DS_SOUP_ROLE_SOURCE,
      gst_ds_soup_connection_get_location (conn), failure,
      reason, attempt, delay_ms);
}

static void
gst_ds_relay_sink_failed (GstDsSoupConnection * conn, GstDsSoupFailure failure,
    const gchar * reason, gpointer user_data)
{
  GstDsRelaySink *self = user_data;
  gchar *location;

  GST_OBJECT_LOCK (self);
  location = g_strdup (gst_ds_soup_connection_get_location (conn));
  GST_OBJECT_UNLOCK (self);

  /* the error first: the streaming thread returns GST_FLOW_ERROR once
   * failed is set, and its upstream's "Internal data stream error" must
   * not be the first error on the bus */
  gst_ds_soup_post_failure (GST_ELEMENT (self), GST_DS_SOUP_ROLE_SOURCE,
      failure, location, reason);
  g_free (location);

  g_mutex_lock (&self->lock);
  self->failed = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
gst_ds_relay_sink_handle_input (GstDsRelaySink * self, const DsHeader * header,
    const guint8 * payload)
{
  DsInputEvent event;
  GstEvent *navigation;
  GError *error = NULL;

  if (header->type == DS_INPUT_RECEIVER_COUNT) {
    gboolean changed;

    if (!ds_input_event_parse (header->type, payload, header->payload_len,
            &event, NULL))
      return;
    g_mutex_lock (&self->lock);
    changed = self->receivers != event.receiver_count.count;
    self->receivers = event.receiver_count.count;
    g_mutex_unlock (&self->lock);
    if (changed) {
      GST_INFO_OBJECT (self, "%u receiver(s)", event.receiver_count.count);
      g_object_notify (G_OBJECT (self), "receivers");
      gst_ds_relay_sink_post (self, gst_structure_new ("ds-receivers",
              "receivers", G_TYPE_UINT, event.receiver_count.count, NULL));
    }
    return;
  }

  if (header->type == DS_INPUT_RECEIVER_REPORT) {
    DsReceiverReport report;

    if (!ds_receiver_report_parse (payload, header->payload_len, &report,
            &error)) {
      GST_WARNING_OBJECT (self, "dropped a ReceiverReport: %s", error->message);
      g_error_free (error);
      return;
    }
    GST_DEBUG_OBJECT (self, "ReceiverReport: %u receivers, %u/%u/%u kbps, "
        "%u dropped", report.receivers, report.kbps_min, report.kbps_median,
        report.kbps_max, report.dropped);
    gst_ds_relay_sink_post (self, gst_structure_new ("ds-receiver-report",
            "receivers", G_TYPE_UINT, report.receivers,
            "kbps-min", G_TYPE_UINT, report.kbps_min,
            "kbps-median", G_TYPE_UINT, report.kbps_median,
            "kbps-max", G_TYPE_UINT, report.kbps_max,
            "dropped", G_TYPE_UINT, report.dropped, NULL));
    return;
  }

  if (!ds_input_event_parse (header->type, payload, header->payload_len,
          &event, &error)) {
    GBytes *bytes;

    if (g_error_matches (error, DS_PROTOCOL_ERROR,
            DS_PROTOCOL_ERROR_BAD_PAYLOAD)) {
      /* a known type with a value it cannot have (a GamepadAxis NaN) */
      GST_WARNING_OBJECT (self, "dropped input: %s", error->message);
      g_error_free (error);
      return;
    }
    g_clear_error (&error);
    /* opaque (BCI) or unknown: passed on as it is */
    bytes = g_bytes_new (payload, header->payload_len);

    gst_ds_relay_sink_post (self, gst_structure_new ("ds-input",
            "type", G_TYPE_STRING, ds_input_type_name (header->type),
            "code", G_TYPE_UINT, (guint) header->type,
            "payload", G_TYPE_BYTES, bytes, NULL));
    gst_ds_relay_sink_push_upstream (self,
        gst_ds_input_event_new_raw (header->type, bytes));
    g_bytes_unref (bytes);
    return;
  }

  GST_LOG_OBJECT (self, "input %s", ds_input_type_name (header->type));
  gst_ds_relay_sink_post (self, gst_ds_input_to_structure (&event));

  if (event.type == DS_INPUT_KEYFRAME_REQUEST) {
    /* signals: answered here with the state we hold; pictures: by
     * upstream (dsdelta) */
    g_mutex_lock (&self->lock);
    if (!ds_signal_state_is_empty (ds_stream_state_get_signals (self->stream,
                NULL))) {
      self->signal_sync_pending = TRUE;
      if (self->conn)
        gst_ds_soup_connection_wakeup (self->conn);
    }
    g_mutex_unlock (&self->lock);
    gst_ds_relay_sink_request_keyframe (self);
    return;
  }

  navigation = gst_ds_input_to_navigation (&event, &self->buttons_state);
  if (navigation != NULL)
    gst_ds_relay_sink_push_upstream (self, navigation);
  else
    gst_ds_relay_sink_push_upstream (self, gst_ds_input_event_new (&event));
}

static void
gst_ds_relay_sink_message (GstDsSoupConnection * conn, GBytes * message,
    gpointer user_data)
{
  GstDsRelaySink *self = user_data;
  DsHeader header;
  gsize size;
  const guint8 *data = g_bytes_get_data (message, &size);
  GError *error = NULL;

  if (!ds_frame_parse_message (data, size, 0, &header, &error)) {
    GST_WARNING_OBJECT (self, "bad message from the relay: %s", error->message);
    g_error_free (error);
    return;
  }

  if (!(header.flags & DS_FLAG_INPUT)) {
    gchar *reason;

    if (ds_frame_type_media (header.type) == DS_MEDIA_NONE) {
      GST_DEBUG_OBJECT (self, "ignoring a %s frame from the relay",
          ds_frame_type_name (header.type));
      return;
    }
    /* the relay sends pictures, sound and signals to receivers only: the
     * location is a receiver's behind a path we did not recognise */
    reason = g_strdup_printf ("the relay sent a %s frame, as to a receiver",
        ds_frame_type_name (header.type));
    gst_ds_soup_connection_give_up (conn, GST_DS_SOUP_FAILURE_WRONG_ROLE,
        reason);
    g_free (reason);
    return;
  }

  gst_ds_relay_sink_handle_input (self, &header, data + DS_HEADER_SIZE);
}

static void
gst_ds_relay_sink_pong (GstDsSoupConnection * conn, guint16 seq, guint rtt_ms,
    gpointer user_data)
{
  GstDsRelaySink *self = user_data;

  g_mutex_lock (&self->lock);
  if (self->eos_state == EOS_SENT && seq == self->eos_ping_seq) {
    GST_DEBUG_OBJECT (self, "the relay has the End frame");
    self->eos_state = EOS_DONE;
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_ds_relay_sink_tick (GstDsSoupConnection * conn, gpointer user_data)
{
  GstDsRelaySink *self = user_data;

  if (++self->ticks % STATS_INTERVAL_S == 0)
    gst_ds_relay_sink_post (self, gst_ds_relay_sink_get_stats (self,
            "ds-stats"));
}

static const GstDsSoupCallbacks gst_ds_relay_sink_callbacks = {
  gst_ds_relay_sink_connected,
  gst_ds_relay_sink_disconnected,
  gst_ds_relay_sink_attempt_failed,
  gst_ds_relay_sink_failed,
  gst_ds_relay_sink_message,
  gst_ds_relay_sink_pong,
  gst_ds_relay_sink_writable,
  gst_ds_relay_sink_tick,
};

/* Start / stop */

static gboolean
gst_ds_relay_sink_start (GstBaseSink * sink)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (sink);
  GstDsSoupSettings settings;
  GstDsSoupConnection *conn;

  gst_ds_soup_settings_copy_locked (GST_OBJECT (self), &self->settings,
      &settings);

  /* a receiver's location would connect, be dropped and reconnect for
   * ever: refuse it now, naming the publishing URL */
  if (!gst_ds_soup_check_locations (GST_ELEMENT (self),
          GST_DS_SOUP_ROLE_SOURCE, &settings)) {
    gst_ds_soup_settings_clear (&settings);
    return FALSE;
  }

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  self->failed = FALSE;
  self->connected = FALSE;
  ds_frame_queue_free (self->queue);
  self->queue = gst_ds_relay_sink_queue_new ();
  ds_stream_state_clear (self->stream);
  ds_frame_queue_set_whole_signals (self->queue,
      ds_stream_state_get_signals (self->stream, NULL));
  self->resync_pending = FALSE;
  self->signal_sync_pending = FALSE;
  self->eos_state = EOS_NONE;
  self->receivers = 0;
  self->frames_sent = self->bytes_sent = self->frames_dropped = 0;
  self->ticks = 0;
  self->buttons_state = 0;
  g_mutex_unlock (&self->lock);

  conn = gst_ds_soup_connection_new (GST_OBJECT (self), &settings,
      &gst_ds_relay_sink_callbacks, self);
  gst_ds_soup_settings_clear (&settings);

  g_mutex_lock (&self->lock);
  self->conn = conn;
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static gboolean
gst_ds_relay_sink_stop (GstBaseSink * sink)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (sink);
  GstDsSoupConnection *conn;

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  conn = self->conn;
  self->conn = NULL;
  g_mutex_unlock (&self->lock);

  gst_ds_soup_connection_free (conn);

  g_mutex_lock (&self->lock);
  ds_frame_queue_clear (self->queue);
  ds_stream_state_clear (self->stream);
  self->connected = FALSE;
  g_mutex_unlock (&self->lock);

  return TRUE;
}

/* A flush or a state change: the EOS drain stops waiting */
static gboolean
gst_ds_relay_sink_unlock (GstBaseSink * sink)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (sink);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static gboolean
gst_ds_relay_sink_unlock_stop (GstBaseSink * sink)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (sink);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static gboolean
gst_ds_relay_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (sink);

  GST_OBJECT_LOCK (self);
  self->media = gst_ds_caps_get_media (caps);
  GST_OBJECT_UNLOCK (self);

  return TRUE;
}

static GstFlowReturn
gst_ds_relay_sink_render (GstBaseSink * sink, GstBuffer * buffer)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (sink);
  DsHeader header;
  GError *error = NULL;
  GstDsSoupConnection *conn;
  gboolean want_keyframe = FALSE;
  guint64 limit;
  GBytes *bytes;
  DsStreamVerdict verdict;
  DsMedia media;
  guint queued;

  if (!gst_ds_frame_buffer_parse (buffer, &header, &error))
    goto not_a_frame;

  if (header.type == DS_FRAME_END) {
    /* one End for the channel, at EOS */
    GST_DEBUG_OBJECT (self, "End frame from upstream, not passed on");
    return GST_FLOW_OK;
  }

  GST_OBJECT_LOCK (self);
  limit = self->max_queue_bytes;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  if (self->failed)
    goto failed;

  self->last_timestamp = header.timestamp;

  ds_frame_queue_set_limits (self->queue, limit, 0);
  media = ds_frame_type_media (header.type);
  if (media == DS_MEDIA_SIGNAL || media == DS_MEDIA_NONE) {
    /* small frames the stream model keeps for a resync: schema and
     * signal state (and Keyframe, which resets it) */
    bytes = gst_ds_buffer_to_bytes (buffer);
    if (bytes == NULL)
      goto not_mapped;
    verdict = ds_stream_state_push (self->stream, bytes, &header, NULL, &error);
    if (verdict == DS_STREAM_SKIP) {
      /* not for the relay (a Ping, a SubscribeFilter of a recording):
       * the connection has its own */
      g_mutex_unlock (&self->lock);
      g_bytes_unref (bytes);
      GST_DEBUG_OBJECT (self, "%s frame not sent: not for the relay",
          ds_frame_type_name (header.type));
      return GST_FLOW_OK;
    }
    if (verdict != DS_STREAM_FORWARD) {
      g_bytes_unref (bytes);
      goto not_sent;
    }
    queued = ds_frame_queue_push_full (self->queue, bytes,
        g_bytes_get_size (bytes), &header, 0, NULL, NULL, FALSE);
    g_bytes_unref (bytes);
  } else {
    /* media: queued as the buffer it is, made contiguous only if sent */
    if (!ds_header_validate (&header, &error))
      goto not_sent;
    queued = ds_frame_queue_push_full (self->queue, NULL,
        gst_buffer_get_size (buffer), &header, 0, gst_buffer_ref (buffer),
        (GDestroyNotify) gst_buffer_unref, FALSE);
  }
  if (queued & DS_FRAME_QUEUE_WANT_KEYFRAME)
    want_keyframe = TRUE;
  conn = self->conn;
  if (conn)
    gst_ds_soup_connection_wakeup (conn);
  g_mutex_unlock (&self->lock);

  if (want_keyframe)
    gst_ds_relay_sink_request_keyframe (self);

  return GST_FLOW_OK;

  /* ERRORS */
not_a_frame:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("The input is not ds-stream frames.")), ("%s", error->message));
    g_error_free (error);
    return GST_FLOW_ERROR;
  }
not_sent:
  {
    self->frames_dropped++;
    g_mutex_unlock (&self->lock);
    GST_WARNING_OBJECT (self, "%s frame seq %u not sent: %s",
        ds_frame_type_name (header.type), header.seq,
        error ? error->message : "?");
    g_clear_error (&error);
    return GST_FLOW_OK;
  }
not_mapped:
  {
    g_mutex_unlock (&self->lock);
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
        ("cannot map a frame buffer"));
    return GST_FLOW_ERROR;
  }
failed:
  {
    /* the error was posted when the retries ran out */
    g_mutex_unlock (&self->lock);
    return GST_FLOW_ERROR;
  }
}

/* At EOS: sends the End frame and waits until the relay has it (or
 * EOS_TIMEOUT_MS, or a flush) */
static void
gst_ds_relay_sink_drain (GstDsRelaySink * self)
{
  gint64 deadline;

  g_mutex_lock (&self->lock);
  gst_ds_relay_sink_enqueue_end (self);
  if (self->conn)
    gst_ds_soup_connection_wakeup (self->conn);

  deadline = g_get_monotonic_time () + EOS_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  while (self->eos_state != EOS_DONE && !self->flushing && !self->failed) {
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline)) {
      GST_WARNING_OBJECT (self, "the End frame did not reach the relay in "
          "%u ms (%" G_GSIZE_FORMAT " bytes still queued)", EOS_TIMEOUT_MS,
          ds_frame_queue_get_bytes (self->queue));
      break;
    }
  }
  g_mutex_unlock (&self->lock);
}

static gboolean
gst_ds_relay_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_INFO_OBJECT (self, "EOS: sending End");
    gst_ds_relay_sink_drain (self);
    /* the final figures, then EOS (posted by the base class) */
    gst_ds_relay_sink_post (self, gst_ds_relay_sink_get_stats (self,
            "ds-stats"));
  }

  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static void
gst_ds_relay_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (object);

  GST_OBJECT_LOCK (self);
  if (gst_ds_soup_settings_set_property (&self->settings, PROP_CONNECTION,
          prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ds_relay_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (object);
  gboolean done;

  GST_OBJECT_LOCK (self);
  done = gst_ds_soup_settings_get_property (&self->settings, PROP_CONNECTION,
      prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (done)
    return;

  switch (prop_id) {
    case PROP_MAX_QUEUE_BYTES:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->max_queue_bytes);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_CONNECTED:
      g_mutex_lock (&self->lock);
      g_value_set_boolean (value, self->connected);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_RECEIVERS:
      g_mutex_lock (&self->lock);
      g_value_set_uint (value, self->receivers);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_ds_relay_sink_get_stats (self,
              "dsrelaysink-stats"));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}
