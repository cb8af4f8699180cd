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
 * One channel carries a screencast, its sound and its signals together:
 * dsrelaysink has request sink pads (`sink_%u`), one per stream, and sends
 * the frames of all of them on one connection, in the order they arrive.
 * Each stream keeps the sequence numbers its dspay gave it (the receiver
 * checks them per stream). An End frame from one stream is not passed on:
 * dsrelaysink sends one End frame when every pad has received EOS, and
 * posts EOS once the relay has acknowledged it (a Ping sent after the End
 * frame came back), or after 5 s. If the connection breaks before that
 * answer, the End frame is sent again on the next connection.
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
 * the message) are errors at once. A connection that the relay closes
 * within 5 s is replaced after the backoff, not at once.
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
 * buttons, keys, scroll and touch GstNavigation events (on the pads whose
 * caps say `media=video` or `image`, or say nothing); every other type a
 * custom upstream `GstDsInput` event. Every input is also posted as an
 * element message named `ds-input` carrying its fields, so an application
 * can react to it without a navigation-aware source.
 *
 * Element messages: `ds-connected` (`location`, `reconnect`),
 * `ds-disconnected` (`reason`), `ds-receivers` (`receivers`, when the
 * relay's receiver count changes), `ds-input`, and `ds-stats` every 5 s
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
 * gst-launch-1.0 dsrelaysink name=s location=ws://127.0.0.1:9100/peer/demo \
 *     videotestsrc is-live=true ! video/x-raw,format=RGBA,width=320,height=240 ! dspay ! dsdelta ! s. \
 *     audiotestsrc is-live=true ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! dspay ! s.
 * ]| Publishes a picture and a tone on one channel.
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

GST_DEBUG_CATEGORY_STATIC (gst_ds_relaysink_debug);
#define GST_CAT_DEFAULT gst_ds_relaysink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_TOKEN NULL
#define DEFAULT_RETRIES -1
#define DEFAULT_RETRY_DELAY 1000
#define DEFAULT_MAX_RETRY_DELAY 10000
#define DEFAULT_TIMEOUT 10
#define DEFAULT_MAX_QUEUE_BYTES (32 * 1024 * 1024)
#define DEFAULT_SSL_STRICT TRUE
#define DEFAULT_SSL_CA_FILE NULL
#define DEFAULT_SYNC FALSE

/* How long EOS waits for the End frame to reach the relay */
#define EOS_TIMEOUT_MS 5000
/* ds-stats messages, in ticks of 1 s */
#define STATS_INTERVAL_S 5

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_TOKEN,
  PROP_RETRIES,
  PROP_RETRY_DELAY,
  PROP_MAX_RETRY_DELAY,
  PROP_TIMEOUT,
  PROP_MAX_QUEUE_BYTES,
  PROP_SSL_STRICT,
  PROP_SSL_CA_FILE,
  PROP_SYNC,
  PROP_CONNECTED,
  PROP_RECEIVERS,
  PROP_STATS,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

/* A sink pad: one stream of frames */

#define GST_TYPE_DS_RELAY_SINK_PAD (gst_ds_relaysink_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstDsRelaySinkPad, gst_ds_relaysink_pad, GST,
    DS_RELAY_SINK_PAD, GstPad);

struct _GstDsRelaySinkPad
{
  GstPad parent;

  /* under the element's lock */
  GstSegment segment;
  gboolean eos;
  gboolean flushing;
  GstClockID clock_id;
  DsMedia media;                /* from the caps; NONE: not said */
};

G_DEFINE_TYPE (GstDsRelaySinkPad, gst_ds_relaysink_pad, GST_TYPE_PAD);

static void
gst_ds_relaysink_pad_class_init (GstDsRelaySinkPadClass * klass)
{
}

static void
gst_ds_relaysink_pad_init (GstDsRelaySinkPad * pad)
{
  gst_segment_init (&pad->segment, GST_FORMAT_TIME);
}

typedef enum
{
  EOS_NONE,
  EOS_QUEUED,                   /* End frame in the queue */
  EOS_SENT,                     /* End frame sent, Ping after it */
  EOS_DONE,                     /* the Ping came back */
} EosState;

struct _GstDsRelaySink
{
  GstElement parent;

  /* settings, under the object lock */
  GstDsSoupSettings settings;
  guint64 max_queue_bytes;
  gboolean sync;

  /* state, under self->lock */
  GMutex lock;
  GCond cond;
  GstDsSoupConnection *conn;
  gboolean running;
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
  guint sink_pad_count;
};

#define gst_ds_relaysink_parent_class parent_class
G_DEFINE_TYPE (GstDsRelaySink, gst_ds_relaysink, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dsrelaysink, "dsrelaysink",
    GST_RANK_NONE, GST_TYPE_DS_RELAY_SINK, ds_soup_element_init (plugin));

static void gst_ds_relaysink_finalize (GObject * object);
static void gst_ds_relaysink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ds_relaysink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_ds_relaysink_change_state (GstElement *
    element, GstStateChange transition);
static GstPad *gst_ds_relaysink_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_ds_relaysink_release_pad (GstElement * element, GstPad * pad);
static GstFlowReturn gst_ds_relaysink_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static gboolean gst_ds_relaysink_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);

static void
gst_ds_relaysink_class_init (GstDsRelaySinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_ds_relaysink_finalize;
  gobject_class->set_property = gst_ds_relaysink_set_property;
  gobject_class->get_property = gst_ds_relaysink_get_property;

  /**
   * GstDsRelaySink:location:
   *
   * The relay's peer URL: `ws://HOST:PORT/peer/CHANNEL` or `wss://…`.
   * A location of another role of the relay (`/stream/`, `/signal/`,
   * `/view/`, or `http://`) is an error at start that names the peer URL
   * meant; a path of no role (`/pub/CHANNEL`) is accepted, for a reverse
   * proxy that maps it. If the relay then sends this element the channel's
   * frames (as to a receiver), it stops with an error.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "URL of the relay's peer endpoint (ws://HOST:PORT/peer/CHANNEL or "
          "wss://...)", DEFAULT_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsRelaySink:token:
   *
   * Sent as `Authorization: Bearer TOKEN` when connecting.
   */
  g_object_class_install_property (gobject_class, PROP_TOKEN,
      g_param_spec_string ("token", "Token",
          "Access token, sent as 'Authorization: Bearer TOKEN'",
          DEFAULT_TOKEN,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsRelaySink:retries:
   *
   * How many failed connection attempts in a row are retried before an
   * error is posted; -1 retries forever. Counting starts again after every
   * successful connection. Only failures that may pass are retried: the
   * network (refused, unreachable, a host name that does not resolve,
   * timeouts) and HTTP 500, 502, 503 and 504 (a busy or restarting relay,
   * a proxy without its relay). Any other HTTP answer (400, 401, 403,
   * 404, ...), a certificate that does not validate, and a take-over
   * by another source are an error at once, whatever this is.
   */
  g_object_class_install_property (gobject_class, PROP_RETRIES,
      g_param_spec_int ("retries", "Retries",
          "Failed connection attempts in a row retried before giving up "
          "(-1 = forever; network failures and HTTP 5xx only)", -1, G_MAXINT,
          DEFAULT_RETRIES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsRelaySink:retry-delay:
   *
   * Delay before the first retry, in milliseconds. It doubles with every
   * further failed attempt up to #GstDsRelaySink:max-retry-delay; each
   * wait is randomised between half and all of it (jitter). When a
   * connection that lasted is lost, the first attempt is made at once and
   * the first two retries both wait this long before the doubling starts
   * (a restarting relay is found again within about a second).
   */
  g_object_class_install_property (gobject_class, PROP_RETRY_DELAY,
      g_param_spec_uint ("retry-delay", "Retry delay",
          "Delay before the first retry in ms (doubles per failed attempt, "
          "with jitter)", 1, G_MAXINT, DEFAULT_RETRY_DELAY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsRelaySink:max-retry-delay:
   *
   * The cap of the exponential backoff, in milliseconds.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_RETRY_DELAY,
      g_param_spec_uint ("max-retry-delay", "Maximum retry delay",
          "Longest delay between connection attempts in ms", 1, G_MAXINT,
          DEFAULT_MAX_RETRY_DELAY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsRelaySink:timeout:
   *
   * Seconds a connection attempt (TCP connect, TLS and WebSocket
   * handshakes) may take.
   */
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Seconds a connection attempt may take", 1, 3600, DEFAULT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

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
   * GstDsRelaySink:ssl-strict:
   *
   * Refuse a wss:// relay whose certificate does not validate.
   */
  g_object_class_install_property (gobject_class, PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict",
          "Refuse a relay whose TLS certificate does not validate",
          DEFAULT_SSL_STRICT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsRelaySink:ssl-ca-file:
   *
   * A PEM file of the certificate authorities to trust for wss://,
   * instead of the system's.
   */
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of the certificate authorities to trust (instead of the "
          "system's)", DEFAULT_SSL_CA_FILE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsRelaySink:sync:
   *
   * Wait for each frame's running time on the clock before queueing it.
   * Live sources need not; set it to publish a recording (filesrc of a
   * .ds file) at its own pace instead of as fast as it can be read.
   */
  g_object_class_install_property (gobject_class, PROP_SYNC,
      g_param_spec_boolean ("sync", "Sync",
          "Send each frame at its running time on the clock",
          DEFAULT_SYNC,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

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
   * first).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Frames and bytes sent, frames dropped, reconnects, receivers, "
          "round-trip time in ms", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);

  gst_element_class_set_static_metadata (element_class,
      "ds-stream relay sink", "Sink/Network",
      "Publishes ds-stream frames to a ds-relay channel over WebSocket",
      "gst-ds-stream developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_ds_relaysink_change_state);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_ds_relaysink_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_ds_relaysink_release_pad);

  GST_DEBUG_CATEGORY_INIT (gst_ds_relaysink_debug, "dsrelaysink", 0,
      "ds-stream relay sink");
}

static DsFrameQueue *gst_ds_relaysink_queue_new (void);

static void
gst_ds_relaysink_init (GstDsRelaySink * self)
{
  self->settings.location = g_strdup (DEFAULT_LOCATION);
  self->settings.token = g_strdup (DEFAULT_TOKEN);
  self->settings.retries = DEFAULT_RETRIES;
  self->settings.retry_delay = DEFAULT_RETRY_DELAY;
  self->settings.max_retry_delay = DEFAULT_MAX_RETRY_DELAY;
  self->settings.timeout = DEFAULT_TIMEOUT;
  self->settings.ssl_strict = DEFAULT_SSL_STRICT;
  self->settings.ssl_ca_file = g_strdup (DEFAULT_SSL_CA_FILE);
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  self->sync = DEFAULT_SYNC;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->queue = gst_ds_relaysink_queue_new ();
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

  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

static void
gst_ds_relaysink_finalize (GObject * object)
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
gst_ds_relaysink_queue_new (void)
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
gst_ds_relaysink_enqueue_end (GstDsRelaySink * self)
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

static void
gst_ds_relaysink_push_upstream (GstDsRelaySink * self, GstEvent * event,
    gboolean video_only)
{
  GList *pads = NULL, *l;

  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l != NULL; l = l->next) {
    GstDsRelaySinkPad *pad = l->data;

    if (video_only && pad->media != DS_MEDIA_NONE &&
        pad->media != DS_MEDIA_VIDEO && pad->media != DS_MEDIA_IMAGE)
      continue;
    pads = g_list_prepend (pads, gst_object_ref (pad));
  }
  GST_OBJECT_UNLOCK (self);

  for (l = pads; l != NULL; l = l->next) {
    GST_DEBUG_OBJECT (l->data, "sending %" GST_PTR_FORMAT " upstream", event);
    gst_pad_push_event (GST_PAD (l->data), gst_event_ref (event));
  }
  g_list_free_full (pads, gst_object_unref);
  gst_event_unref (event);
}

static void
gst_ds_relaysink_request_keyframe (GstDsRelaySink * self)
{
  gst_ds_relaysink_push_upstream (self,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          0), TRUE);
}

/* Stats */

static GstStructure *
gst_ds_relaysink_get_stats (GstDsRelaySink * self, const gchar * name)
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
      "frames-sent", G_TYPE_UINT64, self->frames_sent,
      "bytes-sent", G_TYPE_UINT64, self->bytes_sent,
      "frames-dropped", G_TYPE_UINT64, self->frames_dropped +
      ds_frame_queue_get_dropped (self->queue),
      "queued-bytes", G_TYPE_UINT64,
      (guint64) ds_frame_queue_get_bytes (self->queue),
      "reconnects", G_TYPE_UINT, reconnects,
      "receivers", G_TYPE_UINT, self->receivers,
      "rtt-ms", G_TYPE_INT, rtt, NULL);
  g_mutex_unlock (&self->lock);

  return s;
}

static void
gst_ds_relaysink_post (GstDsRelaySink * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Connection callbacks: all on the connection thread */

/* Sends catch-up frames (schema, signal state) ahead of the queue and
 * drops the queued signal frames they supersede */
static void
gst_ds_relaysink_send_catchup (GstDsRelaySink * self,
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
gst_ds_relaysink_writable (GstDsSoupConnection * conn, gpointer user_data)
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
    gst_ds_relaysink_send_catchup (self, conn, frames);
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
    gst_ds_relaysink_send_catchup (self, conn, frames);
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
    gst_ds_relaysink_request_keyframe (self);
}

static void
gst_ds_relaysink_connected (GstDsSoupConnection * conn, gboolean reconnect,
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
    gst_ds_relaysink_enqueue_end (self);
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->settings.location);
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "%s to %s", reconnect ? "reconnected" : "connected",
      location);
  g_object_notify (G_OBJECT (self), "connected");
  gst_ds_relaysink_post (self, gst_structure_new ("ds-connected",
          "location", G_TYPE_STRING, location,
          "reconnect", G_TYPE_BOOLEAN, reconnect, NULL));
  g_free (location);
}

static void
gst_ds_relaysink_disconnected (GstDsSoupConnection * conn,
    const gchar * reason, gpointer user_data)
{
  GstDsRelaySink *self = user_data;

  g_mutex_lock (&self->lock);
  self->connected = FALSE;
  g_mutex_unlock (&self->lock);

  GST_WARNING_OBJECT (self, "disconnected: %s", reason);
  g_object_notify (G_OBJECT (self), "connected");
  gst_ds_relaysink_post (self, gst_structure_new ("ds-disconnected",
          "reason", G_TYPE_STRING, reason, NULL));
}

static void
gst_ds_relaysink_attempt_failed (GstDsSoupConnection * conn,
    GstDsSoupFailure failure, const gchar * reason, guint attempt,
    guint delay_ms, gpointer user_data)
{
  GstDsRelaySink *self = user_data;

  GST_ELEMENT_WARNING (self, RESOURCE, OPEN_WRITE,
      ("Could not connect to the relay (attempt %u, %s): %s; retrying in "
          "%u ms", attempt, gst_ds_soup_failure_name (failure), reason,
          delay_ms), (NULL));
}

static void
gst_ds_relaysink_failed (GstDsSoupConnection * conn, GstDsSoupFailure failure,
    const gchar * reason, gpointer user_data)
{
  GstDsRelaySink *self = user_data;
  gchar *location;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->settings.location);
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
gst_ds_relaysink_handle_input (GstDsRelaySink * self, const DsHeader * header,
    const guint8 * payload)
{
  DsInputEvent event;
  GstEvent *navigation;

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
      gst_ds_relaysink_post (self, gst_structure_new ("ds-receivers",
              "receivers", G_TYPE_UINT, event.receiver_count.count, NULL));
    }
    return;
  }

  if (!ds_input_event_parse (header->type, payload, header->payload_len,
          &event, NULL)) {
    /* opaque (BCI) or unknown: passed on as it is */
    GBytes *bytes = g_bytes_new (payload, header->payload_len);

    gst_ds_relaysink_post (self, gst_structure_new ("ds-input",
            "type", G_TYPE_STRING, ds_input_type_name (header->type),
            "code", G_TYPE_UINT, (guint) header->type,
            "payload", G_TYPE_BYTES, bytes, NULL));
    gst_ds_relaysink_push_upstream (self,
        gst_ds_input_event_new_raw (header->type, bytes), FALSE);
    g_bytes_unref (bytes);
    return;
  }

  GST_LOG_OBJECT (self, "input %s", ds_input_type_name (header->type));
  gst_ds_relaysink_post (self, gst_ds_input_to_structure (&event));

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
    gst_ds_relaysink_request_keyframe (self);
    return;
  }

  navigation = gst_ds_input_to_navigation (&event, &self->buttons_state);
  if (navigation != NULL)
    gst_ds_relaysink_push_upstream (self, navigation, TRUE);
  else
    gst_ds_relaysink_push_upstream (self, gst_ds_input_event_new (&event),
        FALSE);
}

static void
gst_ds_relaysink_message (GstDsSoupConnection * conn, GBytes * message,
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

  gst_ds_relaysink_handle_input (self, &header, data + DS_HEADER_SIZE);
}

static void
gst_ds_relaysink_pong (GstDsSoupConnection * conn, guint16 seq, guint rtt_ms,
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
gst_ds_relaysink_tick (GstDsSoupConnection * conn, gpointer user_data)
{
  GstDsRelaySink *self = user_data;

  if (++self->ticks % STATS_INTERVAL_S == 0)
    gst_ds_relaysink_post (self, gst_ds_relaysink_get_stats (self, "ds-stats"));
}

static const GstDsSoupCallbacks gst_ds_relaysink_callbacks = {
  gst_ds_relaysink_connected,
  gst_ds_relaysink_disconnected,
  gst_ds_relaysink_attempt_failed,
  gst_ds_relaysink_failed,
  gst_ds_relaysink_message,
  gst_ds_relaysink_pong,
  gst_ds_relaysink_writable,
  gst_ds_relaysink_tick,
};

/* Start / stop */

static gboolean
gst_ds_relaysink_start (GstDsRelaySink * self)
{
  GstDsSoupSettings settings;
  GstDsSoupConnection *conn;

  GST_OBJECT_LOCK (self);
  settings = self->settings;
  settings.location = g_strdup (self->settings.location);
  settings.token = g_strdup (self->settings.token);
  settings.ssl_ca_file = g_strdup (self->settings.ssl_ca_file);
  GST_OBJECT_UNLOCK (self);
  /* input frames only come this way: small */
  settings.max_message_size = 64 * 1024;

  /* a receiver's location would connect, be dropped and reconnect for
   * ever: refuse it now, naming the publishing URL */
  if (!gst_ds_soup_check_location (GST_ELEMENT (self),
          GST_DS_SOUP_ROLE_SOURCE, settings.location)) {
    gst_ds_soup_settings_clear (&settings);
    return FALSE;
  }

  g_mutex_lock (&self->lock);
  self->running = TRUE;
  self->failed = FALSE;
  self->connected = FALSE;
  ds_frame_queue_free (self->queue);
  self->queue = gst_ds_relaysink_queue_new ();
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
      &gst_ds_relaysink_callbacks, self);
  gst_ds_soup_settings_clear (&settings);

  g_mutex_lock (&self->lock);
  self->conn = conn;
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static void
gst_ds_relaysink_set_flushing (GstDsRelaySink * self, gboolean flushing)
{
  GList *l;

  GST_OBJECT_LOCK (self);
  g_mutex_lock (&self->lock);
  self->running = !flushing;
  for (l = GST_ELEMENT (self)->sinkpads; l != NULL; l = l->next) {
    GstDsRelaySinkPad *pad = l->data;

    pad->flushing = flushing;
    if (flushing && pad->clock_id)
      gst_clock_id_unschedule (pad->clock_id);
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ds_relaysink_stop (GstDsRelaySink * self)
{
  GstDsSoupConnection *conn;

  gst_ds_relaysink_set_flushing (self, TRUE);

  g_mutex_lock (&self->lock);
  conn = self->conn;
  self->conn = NULL;
  g_mutex_unlock (&self->lock);

  gst_ds_soup_connection_free (conn);

  g_mutex_lock (&self->lock);
  ds_frame_queue_clear (self->queue);
  ds_stream_state_clear (self->stream);
  self->connected = FALSE;
  g_mutex_unlock (&self->lock);
}

static GstStateChangeReturn
gst_ds_relaysink_change_state (GstElement * element, GstStateChange transition)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (element);
  GstStateChangeReturn ret;
  GList *l;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      GST_OBJECT_LOCK (self);
      for (l = element->sinkpads; l != NULL; l = l->next) {
        GstDsRelaySinkPad *pad = l->data;

        pad->eos = FALSE;
        pad->flushing = FALSE;
        gst_segment_init (&pad->segment, GST_FORMAT_TIME);
      }
      GST_OBJECT_UNLOCK (self);
      if (!gst_ds_relaysink_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* unblock the streaming threads before the pads deactivate */
      gst_ds_relaysink_set_flushing (self, TRUE);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_ds_relaysink_stop (self);
      break;
    default:
      break;
  }

  return ret;
}

/* Pads */

static GstPad *
gst_ds_relaysink_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (element);
  GstPad *pad;
  gchar *pad_name;
  guint index;

  GST_OBJECT_LOCK (self);
  if (name != NULL && sscanf (name, "sink_%u", &index) == 1) {
    self->sink_pad_count = MAX (self->sink_pad_count, index + 1);
    pad_name = g_strdup (name);
  } else {
    pad_name = g_strdup_printf ("sink_%u", self->sink_pad_count++);
  }
  GST_OBJECT_UNLOCK (self);

  pad = g_object_new (GST_TYPE_DS_RELAY_SINK_PAD, "name", pad_name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  g_free (pad_name);

  gst_pad_set_chain_function (pad, GST_DEBUG_FUNCPTR (gst_ds_relaysink_chain));
  gst_pad_set_event_function (pad,
      GST_DEBUG_FUNCPTR (gst_ds_relaysink_sink_event));

  if (GST_STATE (element) > GST_STATE_READY)
    gst_pad_set_active (pad, TRUE);

  if (!gst_element_add_pad (element, pad)) {
    gst_object_unref (pad);
    return NULL;
  }

  return pad;
}

static void
gst_ds_relaysink_release_pad (GstElement * element, GstPad * pad)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (element);

  g_mutex_lock (&self->lock);
  if (GST_DS_RELAY_SINK_PAD (pad)->clock_id)
    gst_clock_id_unschedule (GST_DS_RELAY_SINK_PAD (pad)->clock_id);
  g_mutex_unlock (&self->lock);

  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

/* Waits for the frame's running time when sync is on. FALSE: flushing. */
static gboolean
gst_ds_relaysink_wait (GstDsRelaySink * self, GstDsRelaySinkPad * pad,
    GstBuffer * buffer)
{
  GstClock *clock;
  GstClockTime running_time, base_time;
  GstClockID id;
  GstClockReturn ret;

  if (!GST_BUFFER_PTS_IS_VALID (buffer))
    return TRUE;

  running_time = gst_segment_to_running_time (&pad->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buffer));
  if (!GST_CLOCK_TIME_IS_VALID (running_time))
    return TRUE;

  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock == NULL)
    return TRUE;
  base_time = gst_element_get_base_time (GST_ELEMENT (self));

  id = gst_clock_new_single_shot_id (clock, base_time + running_time);
  gst_object_unref (clock);

  g_mutex_lock (&self->lock);
  if (pad->flushing) {
    g_mutex_unlock (&self->lock);
    gst_clock_id_unref (id);
    return FALSE;
  }
  pad->clock_id = id;
  g_mutex_unlock (&self->lock);

  ret = gst_clock_id_wait (id, NULL);

  g_mutex_lock (&self->lock);
  pad->clock_id = NULL;
  g_mutex_unlock (&self->lock);
  gst_clock_id_unref (id);

  return ret != GST_CLOCK_UNSCHEDULED;
}

static GstFlowReturn
gst_ds_relaysink_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (parent);
  GstDsRelaySinkPad *dspad = GST_DS_RELAY_SINK_PAD (pad);
  DsHeader header;
  GError *error = NULL;
  GstDsSoupConnection *conn;
  gboolean sync, want_keyframe = FALSE;
  guint64 limit;
  GBytes *bytes;
  DsStreamVerdict verdict;
  DsMedia media;
  guint queued;

  if (!gst_ds_frame_buffer_parse (buffer, &header, &error))
    goto not_a_frame;

  GST_OBJECT_LOCK (self);
  sync = self->sync;
  limit = self->max_queue_bytes;
  GST_OBJECT_UNLOCK (self);

  if (sync && !gst_ds_relaysink_wait (self, dspad, buffer))
    goto flushing_unlocked;

  if (header.type == DS_FRAME_END) {
    /* one End for the channel, when every pad has ended */
    GST_DEBUG_OBJECT (pad, "End frame of one stream, not passed on");
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }

  g_mutex_lock (&self->lock);
  if (!self->running || dspad->flushing)
    goto flushing;
  if (self->failed)
    goto failed;

  self->last_timestamp = header.timestamp;

  ds_frame_queue_set_limits (self->queue, limit, 0);
  media = ds_frame_type_media (header.type);
  if (media == DS_MEDIA_SIGNAL || media == DS_MEDIA_NONE) {
    /* small frames the stream model keeps for a resync: schema and
     * signal state (and Keyframe, which resets it) */
    bytes = gst_ds_buffer_to_bytes (buffer);
    gst_buffer_unref (buffer);
    if (bytes == NULL)
      goto not_mapped;
    verdict = ds_stream_state_push (self->stream, bytes, &header, NULL, &error);
    if (verdict != DS_STREAM_FORWARD) {
      g_bytes_unref (bytes);
      goto not_sent;
    }
    queued = ds_frame_queue_push_full (self->queue, bytes,
        g_bytes_get_size (bytes), &header, 0, NULL, NULL, FALSE);
    g_bytes_unref (bytes);
  } else {
    /* media: queued as the buffer it is, made contiguous only if sent */
    if (!ds_header_validate (&header, &error)) {
      gst_buffer_unref (buffer);
      goto not_sent;
    }
    queued = ds_frame_queue_push_full (self->queue, NULL,
        gst_buffer_get_size (buffer), &header, 0, buffer,
        (GDestroyNotify) gst_buffer_unref, FALSE);
  }
  if (queued & DS_FRAME_QUEUE_WANT_KEYFRAME)
    want_keyframe = TRUE;
  conn = self->conn;
  if (conn)
    gst_ds_soup_connection_wakeup (conn);
  g_mutex_unlock (&self->lock);

  if (want_keyframe)
    gst_ds_relaysink_request_keyframe (self);

  return GST_FLOW_OK;

  /* ERRORS */
not_a_frame:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("The input is not ds-stream frames.")), ("%s", error->message));
    g_error_free (error);
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
not_sent:
  {
    self->frames_dropped++;
    g_mutex_unlock (&self->lock);
    GST_WARNING_OBJECT (pad, "%s frame seq %u not sent: %s",
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
flushing:
  {
    g_mutex_unlock (&self->lock);
  }
flushing_unlocked:
  {
    GST_DEBUG_OBJECT (pad, "flushing");
    gst_buffer_unref (buffer);
    return GST_FLOW_FLUSHING;
  }
failed:
  {
    /* the error was posted when the retries ran out */
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
}

static DsMedia
media_from_caps (GstCaps * caps)
{
  const gchar *media;

  if (gst_caps_get_size (caps) == 0)
    return DS_MEDIA_NONE;
  media = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");
  if (media == NULL)
    return DS_MEDIA_NONE;
  if (g_str_equal (media, "video"))
    return DS_MEDIA_VIDEO;
  if (g_str_equal (media, "image"))
    return DS_MEDIA_IMAGE;
  if (g_str_equal (media, "audio"))
    return DS_MEDIA_AUDIO;
  if (g_str_equal (media, "signal"))
    return DS_MEDIA_SIGNAL;
  return DS_MEDIA_OPAQUE;
}

/* Called on the EOS of the last pad: sends the End frame and waits until
 * the relay has it (or EOS_TIMEOUT_MS). */
static void
gst_ds_relaysink_drain (GstDsRelaySink * self)
{
  gint64 deadline;

  g_mutex_lock (&self->lock);
  gst_ds_relaysink_enqueue_end (self);
  if (self->conn)
    gst_ds_soup_connection_wakeup (self->conn);

  deadline = g_get_monotonic_time () + EOS_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  while (self->eos_state != EOS_DONE && self->running && !self->failed) {
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
gst_ds_relaysink_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (parent);
  GstDsRelaySinkPad *dspad = GST_DS_RELAY_SINK_PAD (pad);
  gboolean all_eos = TRUE;
  GList *l;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      GST_OBJECT_LOCK (self);
      dspad->media = media_from_caps (caps);
      GST_OBJECT_UNLOCK (self);
      break;
    }
    case GST_EVENT_SEGMENT:
      g_mutex_lock (&self->lock);
      gst_event_copy_segment (event, &dspad->segment);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->lock);
      dspad->flushing = TRUE;
      if (dspad->clock_id)
        gst_clock_id_unschedule (dspad->clock_id);
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      dspad->flushing = FALSE;
      dspad->eos = FALSE;
      gst_segment_init (&dspad->segment, GST_FORMAT_TIME);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_EOS:
      GST_OBJECT_LOCK (self);
      dspad->eos = TRUE;
      for (l = GST_ELEMENT (self)->sinkpads; l != NULL; l = l->next)
        all_eos &= GST_DS_RELAY_SINK_PAD (l->data)->eos;
      GST_OBJECT_UNLOCK (self);

      if (all_eos) {
        GST_INFO_OBJECT (self, "all streams ended: sending End");
        gst_ds_relaysink_drain (self);
        /* the final figures, then EOS */
        gst_ds_relaysink_post (self, gst_ds_relaysink_get_stats (self,
                "ds-stats"));
        gst_element_post_message (GST_ELEMENT (self),
            gst_message_new_eos (GST_OBJECT (self)));
      }
      break;
    default:
      break;
  }

  gst_event_unref (event);
  return TRUE;
}

static void
gst_ds_relaysink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->settings.location);
      self->settings.location = g_value_dup_string (value);
      break;
    case PROP_TOKEN:
      g_free (self->settings.token);
      self->settings.token = g_value_dup_string (value);
      break;
    case PROP_RETRIES:
      self->settings.retries = g_value_get_int (value);
      break;
    case PROP_RETRY_DELAY:
      self->settings.retry_delay = g_value_get_uint (value);
      break;
    case PROP_MAX_RETRY_DELAY:
      self->settings.max_retry_delay = g_value_get_uint (value);
      break;
    case PROP_TIMEOUT:
      self->settings.timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint64 (value);
      break;
    case PROP_SSL_STRICT:
      self->settings.ssl_strict = g_value_get_boolean (value);
      break;
    case PROP_SSL_CA_FILE:
      g_free (self->settings.ssl_ca_file);
      self->settings.ssl_ca_file = g_value_dup_string (value);
      break;
    case PROP_SYNC:
      self->sync = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ds_relaysink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDsRelaySink *self = GST_DS_RELAY_SINK (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.location);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TOKEN:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.token);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RETRIES:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->settings.retries);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RETRY_DELAY:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->settings.retry_delay);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_RETRY_DELAY:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->settings.max_retry_delay);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TIMEOUT:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->settings.timeout);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_QUEUE_BYTES:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->max_queue_bytes);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SSL_STRICT:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->settings.ssl_strict);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SSL_CA_FILE:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->settings.ssl_ca_file);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SYNC:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->sync);
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
      g_value_take_boxed (value, gst_ds_relaysink_get_stats (self,
              "dsrelaysink-stats"));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}
