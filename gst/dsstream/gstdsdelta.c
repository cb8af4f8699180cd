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
 * SECTION:element-dsdelta
 * @title: dsdelta
 * @see_also: dspay, dsdepay, dsrelaysink
 *
 * dsdelta turns the Pixels frames of a ds-stream into DeltaPixels frames:
 * the XOR of each picture with the previous one, run-length coded (one
 * zero byte and a 16-bit count stand for a run of unchanged bytes). A
 * screen that barely changes then costs a few bytes per frame instead of
 * width×height×4. The code is lossless: dsdepay rebuilds every picture
 * byte for byte. Every other frame (audio, signals, input, ...) passes
 * through untouched and in order, so dsdelta can sit on a channel that
 * carries everything.
 *
 * ## Keyframes
 *
 * A keyframe is a picture that decodes on its own. dsdelta sends one for
 * the first picture, after a size change, after a Keyframe (0xF0), End
 * (0xFF) or DeltaPixels frame passed through from upstream (receivers
 * reset their picture on the first two), after a flush, every
 * #GstDsDelta:keyframe-interval pictures, and when asked: by an upstream
 * `GstForceKeyUnit` event (what dsdepay sends when it lost a delta) or by
 * an upstream `GstDsInput` event of type KeyframeRequest (0x70), which is
 * what dsrelaysink makes of a receiver's KeyframeRequest.
 *
 * Requests are coalesced and rate-limited: any number of requests between
 * two pictures make one keyframe, a request is dropped once any keyframe
 * went out, and keyframes on request are at least
 * #GstDsDelta:min-keyframe-distance apart (measured on the running time of
 * the pictures when the first picture of the stream has one, else on the
 * monotonic clock; one time base per stream, never both); a request that
 * comes sooner waits for that distance. A
 * crowd of receivers joining at once thus costs one keyframe.
 *
 * A keyframe is whichever is smaller: the Pixels frame itself (passed on
 * without a copy) or a DeltaPixels frame with FLAG_KEYFRAME (the
 * run-length code of the picture alone, smaller when it has many zero
 * bytes). A delta that would be larger than the raw picture (full motion,
 * noise) is sent as the Pixels frame instead, so the stream never costs
 * more than raw pictures plus their 16-byte headers.
 *
 * ## Compression
 *
 * With #GstDsDelta:compression `zstd`, the payload of a DeltaPixels frame
 * is ONE zstd frame whose content is the normal DeltaPixels payload (the
 * run-length code), and FLAG_COMPRESSED is set. dsdepay decodes both; a
 * receiver that knows only the original protocol needs `protocol=original`. On a
 * screen-like 1080p stream zstd level 1 makes the deltas about 13 times
 * smaller again (about 280 times smaller than raw) for about a
 * millisecond per frame; zstd on the run-length code is both smaller and
 * 3 times faster than zstd on the raw XOR (docs/benchmarks.md). Sizes
 * are compared after compression: a delta whose code is larger than raw
 * (a flat colour change: every byte changes) is compressed when zstd of
 * a sample of its code (eight pieces of 4 KiB spread over it) promises
 * under a quarter of the raw size, else sent raw (noise, full motion video), which spares
 * the tens of milliseconds zstd would spend on it; keyframes are tried
 * with zstd whatever their code's size, since a screen picture has few
 * zero bytes but compresses well.
 *
 * ## Motion
 *
 * With #GstDsDelta:motion (on by default), dsdelta looks for what moved
 * between the reference and each new picture: vertical scrolls by row
 * hashes in four column bands, then, when those do not explain the
 * change, moves in any direction (a dragged window, a sideways scroll) by
 * samples of the new picture searched for in the reference. It sends a
 * MotionDeltaPixels frame (the moved rectangles, then the run-length code
 * of what they miss) when it is smaller as sent, after zstd when
 * compression is on, than the DeltaPixels frame and the raw picture. A
 * terminal or a page scrolling then costs about the rows scrolled into
 * view, a dragged window about the strip it uncovers. Still or typed-on
 * pictures cost a probe of 16 rows and come out exactly as without
 * motion.
 *
 * ## Receivers
 *
 * The defaults (`compression=zstd motion=true`) are for the receivers of
 * this project: dsdepay, ds-relay (its catch-up for late joiners) and
 * the browser viewer decode zstd and MotionDeltaPixels. For receivers
 * that know only the original protocol, set `protocol=original`: dsdelta
 * then sends Pixels and uncompressed DeltaPixels only, whatever
 * #GstDsDelta:compression and #GstDsDelta:motion say.
 *
 * ## Byte streams
 *
 * A buffer that holds exactly one frame, as dspay, dsstreamsrc and
 * dsdelta itself make them, is handled as it is, without a copy. Anything
 * else is a byte stream (a `.ds` recording read by filesrc, a TCP
 * connection): its bytes are cut into frames wherever they are split or
 * merged, one frame per output buffer (memory 0 the header, the payload
 * shared with the input where it lies in one memory). Bytes that cannot
 * be a frame header (unknown type or flags, a payload larger than
 * #GstDsDelta:max-picture-bytes and 64 MiB) are skipped with a warning
 * up to the next plausible header; an unfinished frame at the end of the
 * stream is dropped with a warning.
 *
 * ## Buffers
 *
 * The reference picture is one buffer of the picture's size, kept up to
 * date by the encoder itself (only changed blocks are written). Output
 * frames come from a buffer pool (a 16-byte header memory and a payload
 * memory of raw size, shrunk to the code): no allocation per frame once
 * the pool is warm. Keyframes sent as Pixels are the input buffer.
 *
 * Counters are in #GstDsDelta:stats and, every
 * #GstDsDelta:stats-interval pictures, in an element message.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc pattern=ball ! video/x-raw,format=RGBA,width=640,height=480 ! dspay ! dsdelta ! dsdepay ! videoconvert ! autovideosink
 * ]| Delta-codes a moving ball and shows it again.
 * |[
 * gst-launch-1.0 videotestsrc pattern=ball num-buffers=300 ! video/x-raw,format=RGBA,width=640,height=480 ! dspay ! dsdelta compression=zstd ! filesink location=ball.ds
 * gst-launch-1.0 filesrc location=ball.ds ! dsdepay ! videoconvert ! autovideosink
 * ]| Records a compressed delta stream, then plays it back.
 * |[
 * gst-launch-1.0 videotestsrc pattern=ball num-buffers=300 ! video/x-raw,format=RGBA,width=640,height=480 ! dspay ! filesink location=raw.ds
 * gst-launch-1.0 filesrc location=raw.ds ! dsdelta ! filesink location=delta.ds
 * ]| Delta-codes a recording of raw pictures.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gst/base/gstadapter.h>
#include <gst/video/video.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#include "dsprotocol.h"
#include "dsstream.h"
#include "dsrle.h"
#include "dsscroll.h"
#include "gstdsutils.h"

#include "gstdsstreamelements.h"
#include "gstdsdelta.h"

GST_DEBUG_CATEGORY_STATIC (ds_delta_debug);
#define GST_CAT_DEFAULT ds_delta_debug

/**
 * GstDsDeltaCompression:
 * @GST_DS_DELTA_COMPRESSION_NONE: the run-length code only, readable by
 *   every ds-stream receiver
 * @GST_DS_DELTA_COMPRESSION_ZSTD: one zstd frame of the run-length code,
 *   with FLAG_COMPRESSED (only when built with zstd)
 *
 * How dsdelta compresses the payload of DeltaPixels frames.
 */
typedef enum
{
  GST_DS_DELTA_COMPRESSION_NONE,
  GST_DS_DELTA_COMPRESSION_ZSTD,
} GstDsDeltaCompression;

#define GST_TYPE_DS_DELTA_COMPRESSION (gst_ds_delta_compression_get_type ())
static GType gst_ds_delta_compression_get_type (void);

/**
 * GstDsDeltaProtocol:
 * @GST_DS_DELTA_PROTOCOL_EXTENDED: every frame type and flag the receivers
 *   of this project decode (dsdepay, ds-relay, the browser viewer):
 *   #GstDsDelta:compression and #GstDsDelta:motion apply
 * @GST_DS_DELTA_PROTOCOL_ORIGINAL: only what the original protocol's
 *   receivers decode: Pixels and uncompressed DeltaPixels, whatever
 *   #GstDsDelta:compression and #GstDsDelta:motion say
 *
 * Which receivers the frames of dsdelta are for.
 */
typedef enum
{
  GST_DS_DELTA_PROTOCOL_EXTENDED,
  GST_DS_DELTA_PROTOCOL_ORIGINAL,
} GstDsDeltaProtocol;

#define GST_TYPE_DS_DELTA_PROTOCOL (gst_ds_delta_protocol_get_type ())
static GType gst_ds_delta_protocol_get_type (void);

enum
{
  PROP_0,
  PROP_KEYFRAME_INTERVAL,
  PROP_MIN_KEYFRAME_DISTANCE,
  PROP_COMPRESSION,
  PROP_COMPRESSION_LEVEL,
  PROP_STATS_INTERVAL,
  PROP_MAX_PICTURE_BYTES,
  PROP_MOTION,
  PROP_PROTOCOL,
  PROP_STATS,
};

#define DEFAULT_KEYFRAME_INTERVAL 150
#define DEFAULT_MIN_KEYFRAME_DISTANCE (500 * GST_MSECOND)
#define DEFAULT_COMPRESSION GST_DS_DELTA_COMPRESSION_ZSTD
#define DEFAULT_COMPRESSION_LEVEL 1
#define DEFAULT_STATS_INTERVAL 0
#define DEFAULT_MAX_PICTURE_BYTES DS_DEFAULT_MAX_FRAME_BYTES
#define DEFAULT_MOTION TRUE
#define DEFAULT_PROTOCOL GST_DS_DELTA_PROTOCOL_EXTENDED

/* The largest picture a frame buffer of the pool can hold: its size
 * (header + payload) is a guint */
#define MAX_PICTURE_BYTES (G_MAXUINT - DS_HEADER_SIZE)

/* zstd's own bounds (ZSTD_minCLevel () and ZSTD_maxCLevel () of 1.5) */
#define MIN_COMPRESSION_LEVEL (-131072)
#define MAX_COMPRESSION_LEVEL 22

/* A pool of frame buffers laid out as every ds-stream buffer is: memory 0
 * the 16-byte header, memory 1 the payload, with room for a raw picture.
 * The payload memory is shrunk to the code before the buffer is pushed;
 * the base class grows it back when the buffer returns, so buffers are
 * reused as long as downstream does not keep their memory. */
typedef struct
{
  GstBufferPool parent;
  gsize payload_size;
} GstDsDeltaPool;

typedef GstBufferPoolClass GstDsDeltaPoolClass;

/* static: the plugin exports its element types only */
static GType gst_ds_delta_pool_get_type (void);
G_DEFINE_TYPE (GstDsDeltaPool, gst_ds_delta_pool, GST_TYPE_BUFFER_POOL);

/* What keyframe distances are measured in, decided by the first picture
 * of a stream: its running time when it has one, else the monotonic
 * clock. The two are never compared with each other. */
typedef enum
{
  GST_DS_DELTA_TIME_BASE_UNDECIDED,
  GST_DS_DELTA_TIME_BASE_RUNNING_TIME,
  GST_DS_DELTA_TIME_BASE_MONOTONIC,
} GstDsDeltaTimeBase;

struct _GstDsDelta
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* settings, under the object lock */
  guint keyframe_interval;
  GstClockTime min_keyframe_distance;
  GstDsDeltaCompression compression;
  gint compression_level;
  guint stats_interval;
  guint max_picture_bytes;
  gboolean motion;
  GstDsDeltaProtocol protocol;

  /* keyframe requests from upstream events, under the object lock */
  gboolean keyframe_requested;
  guint64 keyframe_requests;

  /* counters, under the object lock */
  guint64 frames_in;
  guint64 pictures_in;
  guint64 keyframes_out;
  guint64 pixels_keyframes_out;
  guint64 requested_keyframes_out;
  guint64 deltas_out;
  guint64 motion_deltas_out;
  guint64 raw_fallbacks;
  guint64 compressed_out;
  guint64 picture_bytes_in;
  guint64 picture_bytes_out;
  guint64 oversized_pictures;

  /* streaming state: built on the first picture, wiped in stop () */
  GstDsFramer framer;           /* a byte stream being cut into frames */
  GstSegment segment;
  guint width;
  guint height;
  guint8 *reference;            /* width * height * 4 bytes */
  gboolean have_reference;
  guint pictures_since_keyframe;
  GstDsDeltaTimeBase time_base;
  GstClockTime last_picture_time;
  GstClockTime last_keyframe_time;
  GstBufferPool *pool;
  guint8 *scratch;              /* the run-length code before zstd */
  guint8 *scratch2;             /* the motion code before zstd */
  gsize last_motion_code;       /* the last frame's motion code, 0: none */
  DsScrollDetector *scroll;
#ifdef HAVE_ZSTD
  ZSTD_CCtx *zstd;
  gint zstd_level;
#endif
};

/**
 * GstDsDelta!sink:
 *
 * A ds-stream, `application/x-ds-stream` with any `media` or none (a
 * channel carrying everything): one frame per buffer, as dspay,
 * dsstreamsrc and dsdepay's peers make them. Pixels frames are delta
 * coded; every other frame, input frames included, passes through.
 */
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

/**
 * GstDsDelta!src:
 *
 * The same ds-stream with the same caps (they are proxied), one frame
 * per buffer (memory 0 the 16-byte header), in the input's order and
 * with its timestamps: DeltaPixels frames (#GST_BUFFER_FLAG_DELTA_UNIT
 * unless FLAG_KEYFRAME is set), Pixels keyframes, and the other frames
 * untouched.
 */
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

G_DEFINE_TYPE_WITH_CODE (GstDsDelta, gst_ds_delta, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (ds_delta_debug, "dsdelta", 0,
        "ds-stream delta encoder"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dsdelta, "dsdelta", GST_RANK_NONE,
    GST_TYPE_DS_DELTA, ds_stream_element_init (plugin));

static void gst_ds_delta_finalize (GObject * object);
static void gst_ds_delta_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ds_delta_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_ds_delta_change_state (GstElement * element,
    GstStateChange transition);
static GstFlowReturn gst_ds_delta_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static gboolean gst_ds_delta_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_ds_delta_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static void gst_ds_delta_reset_time_base (GstDsDelta * self);
static void gst_ds_delta_drop_pending_bytes (GstDsDelta * self,
    const gchar * why);
static GstFlowReturn gst_ds_delta_drain_framer (GstDsDelta * self,
    gboolean at_eos);

static GType
gst_ds_delta_compression_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DS_DELTA_COMPRESSION_NONE, "Run-length code only", "none"},
#ifdef HAVE_ZSTD
    {GST_DS_DELTA_COMPRESSION_ZSTD, "zstd frame of the run-length code",
        "zstd"},
#endif
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDsDeltaCompression", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GType
gst_ds_delta_protocol_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_DS_DELTA_PROTOCOL_EXTENDED,
        "zstd and MotionDeltaPixels as the properties say", "extended"},
    {GST_DS_DELTA_PROTOCOL_ORIGINAL,
        "Pixels and uncompressed DeltaPixels only", "original"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDsDeltaProtocol", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* The frame pool */

static gboolean
gst_ds_delta_pool_set_config (GstBufferPool * pool, GstStructure * config)
{
  GstDsDeltaPool *self = (GstDsDeltaPool *) pool;
  guint size;

  if (!gst_buffer_pool_config_get_params (config, NULL, &size, NULL, NULL)
      || size <= DS_HEADER_SIZE)
    return FALSE;
  self->payload_size = size - DS_HEADER_SIZE;

  return GST_BUFFER_POOL_CLASS (gst_ds_delta_pool_parent_class)->set_config
      (pool, config);
}

static GstFlowReturn
gst_ds_delta_pool_alloc_buffer (GstBufferPool * pool, GstBuffer ** buffer,
    GstBufferPoolAcquireParams * params)
{
  GstDsDeltaPool *self = (GstDsDeltaPool *) pool;
  GstMemory *payload;

  payload = gst_allocator_alloc (NULL, self->payload_size, NULL);
  if (payload == NULL)
    return GST_FLOW_ERROR;

  *buffer = gst_buffer_new ();
  gst_buffer_append_memory (*buffer,
      gst_allocator_alloc (NULL, DS_HEADER_SIZE, NULL));
  gst_buffer_append_memory (*buffer, payload);

  return GST_FLOW_OK;
}

static void
gst_ds_delta_pool_class_init (GstDsDeltaPoolClass * klass)
{
  klass->set_config = gst_ds_delta_pool_set_config;
  klass->alloc_buffer = gst_ds_delta_pool_alloc_buffer;
}

static void
gst_ds_delta_pool_init (GstDsDeltaPool * pool)
{
}

static GstBufferPool *
gst_ds_delta_pool_new (gsize payload_size)
{
  GstBufferPool *pool;
  GstStructure *config;

  /* the buffer size (header + payload) is a guint */
  g_return_val_if_fail (payload_size <= MAX_PICTURE_BYTES, NULL);

  pool = g_object_new (gst_ds_delta_pool_get_type (), NULL);

  gst_object_ref_sink (pool);
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, NULL,
      (guint) (DS_HEADER_SIZE + payload_size), 0, 0);
  if (!gst_buffer_pool_set_config (pool, config)
      || !gst_buffer_pool_set_active (pool, TRUE)) {
    gst_object_unref (pool);
    return NULL;
  }
  return pool;
}

/* The element */

static void
gst_ds_delta_class_init (GstDsDeltaClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_ds_delta_finalize;
  gobject_class->set_property = gst_ds_delta_set_property;
  gobject_class->get_property = gst_ds_delta_get_property;

  /**
   * GstDsDelta:keyframe-interval:
   *
   * A keyframe every this many pictures; 0 sends keyframes only for the
   * first picture, size changes and requests. The default, 150 (5 s at 30
   * fps), bounds how long a receiver that joined late or lost a delta
   * waits when nothing answers its KeyframeRequest (a relay without a
   * picture cache, a recording played from the middle), at the cost of
   * one picture in 150: under 1 % of the raw rate on screen content.
   */
  g_object_class_install_property (gobject_class, PROP_KEYFRAME_INTERVAL,
      g_param_spec_uint ("keyframe-interval", "Keyframe interval",
          "A keyframe every this many pictures (0 = only the first, on size "
          "changes and on request)", 0, G_MAXUINT, DEFAULT_KEYFRAME_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDelta:min-keyframe-distance:
   *
   * Smallest running time, in nanoseconds, between a keyframe and a
   * keyframe sent on request (`GstForceKeyUnit` or KeyframeRequest). A
   * request that comes sooner is kept and served once the distance has
   * passed, unless another keyframe went out meanwhile. The default, half
   * a second, turns a storm of requests from many receivers into two
   * keyframes a second at most while a single lost delta is repaired
   * within a blink.
   */
  g_object_class_install_property (gobject_class, PROP_MIN_KEYFRAME_DISTANCE,
      g_param_spec_uint64 ("min-keyframe-distance", "Minimum keyframe distance",
          "Smallest time between a keyframe and a requested keyframe, in "
          "nanoseconds (0 = serve every request at once)", 0, G_MAXUINT64,
          DEFAULT_MIN_KEYFRAME_DISTANCE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDelta:compression:
   *
   * `none`: DeltaPixels payloads are the run-length code, as the original
   * protocol defines them. `zstd` (the default): each payload is one zstd
   * frame of that code and FLAG_COMPRESSED is set; dsdepay, ds-relay and
   * the browser viewer decode it, receivers of the original protocol do
   * not (see #GstDsDelta:protocol).
   */
  g_object_class_install_property (gobject_class, PROP_COMPRESSION,
      g_param_spec_enum ("compression", "Compression",
          "Compression of delta payloads", GST_TYPE_DS_DELTA_COMPRESSION,
          DEFAULT_COMPRESSION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDelta:compression-level:
   *
   * The zstd level with #GstDsDelta:compression `zstd`: 1 is fast, higher
   * is smaller and slower, negative levels faster still.
   */
  g_object_class_install_property (gobject_class, PROP_COMPRESSION_LEVEL,
      g_param_spec_int ("compression-level", "Compression level",
          "zstd compression level (negative = faster, higher = smaller)",
          MIN_COMPRESSION_LEVEL, MAX_COMPRESSION_LEVEL,
          DEFAULT_COMPRESSION_LEVEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDelta:stats-interval:
   *
   * Every this many pictures, post an element message named
   * `dsdelta-stats` holding the same fields as #GstDsDelta:stats; 0 posts
   * none.
   */
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Stats interval",
          "Post a dsdelta-stats element message every this many pictures "
          "(0 = never)", 0, G_MAXUINT, DEFAULT_STATS_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDelta:max-picture-bytes:
   *
   * The largest picture dsdelta codes, in bytes (width × height × 4). A
   * larger Pixels frame is passed on as it is, with a warning on the bus,
   * and the next picture within the limit is a keyframe: the reference,
   * the frame pool and the code of such a picture would take several
   * times its size in memory. The default, 64 MiB, holds a 4K picture.
   * At most 4294967279 (a frame buffer's size is 32 bits).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_PICTURE_BYTES,
      g_param_spec_uint ("max-picture-bytes", "Maximum picture bytes",
          "Largest picture delta coded, in bytes (width x height x 4); "
          "larger pictures pass through with a warning", 4,
          MAX_PICTURE_BYTES, DEFAULT_MAX_PICTURE_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDelta:motion:
   *
   * Look for what moved between the reference and each new picture
   * (vertical scrolls of a terminal or a page, each of up to four column
   * bands on its own; dragged windows and sideways scrolls), and send a
   * MotionDeltaPixels frame (moved rectangles, then the run-length code of
   * what the moves miss) when it is smaller as sent than the DeltaPixels
   * frame and the raw picture. Receivers must know MotionDeltaPixels
   * (0x04): dsdepay, ds-relay and the browser viewer do (else see
   * #GstDsDelta:protocol). A still or typed-on picture costs a probe of 16
   * rows; a picture that changed in many rows costs one hash pass (the
   * reference's hashes are kept from the picture before), a search of the
   * changed box when rows alone do not explain it, and a second code when
   * a move is found.
   */
  g_object_class_install_property (gobject_class, PROP_MOTION,
      g_param_spec_boolean ("motion", "Motion",
          "Send scrolls and moved windows as MotionDeltaPixels frames when smaller "
          "(receivers must know MotionDeltaPixels)", DEFAULT_MOTION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDelta:protocol:
   *
   * Which receivers the stream is for. `extended` (the default): dsdepay,
   * ds-relay and the browser viewer of this project, which decode zstd
   * (FLAG_COMPRESSED) and MotionDeltaPixels; #GstDsDelta:compression and
   * #GstDsDelta:motion apply. `original`: receivers that know only the
   * original protocol (Pixels and DeltaPixels, uncompressed); dsdelta then
   * sends nothing else, whatever #GstDsDelta:compression and
   * #GstDsDelta:motion say. One setting for compatibility, so a pipeline
   * written for old receivers needs no other change.
   */
  g_object_class_install_property (gobject_class, PROP_PROTOCOL,
      g_param_spec_enum ("protocol", "Protocol",
          "Receivers the frames are for: 'original' sends only Pixels and "
          "uncompressed DeltaPixels", GST_TYPE_DS_DELTA_PROTOCOL,
          DEFAULT_PROTOCOL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDelta:stats:
   *
   * Counters since the element was created, in a structure named
   * `dsdelta-stats` (all #guint64): `frames` (every frame in), `pictures`
   * (Pixels frames in), `keyframes` (keyframes out, whatever the reason),
   * `pixels-keyframes` (of which sent as Pixels), `requested-keyframes`
   * (of which asked for by a request), `keyframe-requests` (requests
   * received), `deltas` (DeltaPixels frames out without FLAG_KEYFRAME),
   * `raw-fallbacks` (pictures sent as Pixels because the delta would have
   * been larger), `motion-deltas` (MotionDeltaPixels frames out, not
   * counted in `deltas`), `compressed` (payloads with FLAG_COMPRESSED),
   * `bytes-in` (picture payload bytes in), `bytes-out` (picture payload
   * bytes out; headers are not counted) and `oversized` (pictures over
   * #GstDsDelta:max-picture-bytes, passed through).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Frame, keyframe and byte counters", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "ds-stream delta encoder", "Codec/Encoder/Video/Network",
      "Codes ds-stream pictures as run-length coded XOR deltas with "
      "keyframes on demand, passing other frames through",
      "gst-ds-stream developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_ds_delta_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_DS_DELTA_COMPRESSION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_DS_DELTA_PROTOCOL, 0);
}

static void
gst_ds_delta_init (GstDsDelta * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ds_delta_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ds_delta_sink_event));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_ds_delta_src_event));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->keyframe_interval = DEFAULT_KEYFRAME_INTERVAL;
  self->min_keyframe_distance = DEFAULT_MIN_KEYFRAME_DISTANCE;
  self->compression = DEFAULT_COMPRESSION;
  self->compression_level = DEFAULT_COMPRESSION_LEVEL;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->max_picture_bytes = DEFAULT_MAX_PICTURE_BYTES;
  self->motion = DEFAULT_MOTION;
  self->protocol = DEFAULT_PROTOCOL;

  gst_ds_framer_init (&self->framer);

  gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
  gst_ds_delta_reset_time_base (self);
}

/* A new stream: its first picture decides the time base anew */
static void
gst_ds_delta_reset_time_base (GstDsDelta * self)
{
  self->time_base = GST_DS_DELTA_TIME_BASE_UNDECIDED;
  self->last_picture_time = GST_CLOCK_TIME_NONE;
  self->last_keyframe_time = GST_CLOCK_TIME_NONE;
}

/* Forgets the reference: the next picture is a keyframe */
static void
gst_ds_delta_drop_reference (GstDsDelta * self)
{
  self->have_reference = FALSE;
}

static void
gst_ds_delta_free_picture_state (GstDsDelta * self)
{
  g_clear_pointer (&self->reference, g_free);
  g_clear_pointer (&self->scratch, g_free);
  g_clear_pointer (&self->scratch2, g_free);
  g_clear_pointer (&self->scroll, ds_scroll_detector_free);
  if (self->pool) {
    gst_buffer_pool_set_active (self->pool, FALSE);
    gst_clear_object (&self->pool);
  }
  self->width = self->height = 0;
  self->have_reference = FALSE;
  self->last_motion_code = 0;
}

static void
gst_ds_delta_stop (GstDsDelta * self)
{
  gst_ds_delta_free_picture_state (self);
#ifdef HAVE_ZSTD
  g_clear_pointer (&self->zstd, ZSTD_freeCCtx);
#endif
  gst_ds_framer_flush (&self->framer);
  gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
  self->pictures_since_keyframe = 0;
  gst_ds_delta_reset_time_base (self);

  GST_OBJECT_LOCK (self);
  self->keyframe_requested = FALSE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ds_delta_finalize (GObject * object)
{
  GstDsDelta *self = GST_DS_DELTA (object);

  gst_ds_delta_stop (self);
  gst_ds_framer_clear (&self->framer);

  G_OBJECT_CLASS (gst_ds_delta_parent_class)->finalize (object);
}

static GstStructure *
gst_ds_delta_get_stats (GstDsDelta * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("dsdelta-stats",
      "frames", G_TYPE_UINT64, self->frames_in,
      "pictures", G_TYPE_UINT64, self->pictures_in,
      "keyframes", G_TYPE_UINT64, self->keyframes_out,
      "pixels-keyframes", G_TYPE_UINT64, self->pixels_keyframes_out,
      "requested-keyframes", G_TYPE_UINT64, self->requested_keyframes_out,
      "keyframe-requests", G_TYPE_UINT64, self->keyframe_requests,
      "deltas", G_TYPE_UINT64, self->deltas_out,
      "motion-deltas", G_TYPE_UINT64, self->motion_deltas_out,
      "raw-fallbacks", G_TYPE_UINT64, self->raw_fallbacks,
      "compressed", G_TYPE_UINT64, self->compressed_out,
      "bytes-in", G_TYPE_UINT64, self->picture_bytes_in,
      "bytes-out", G_TYPE_UINT64, self->picture_bytes_out,
      "oversized", G_TYPE_UINT64, self->oversized_pictures, NULL);
  GST_OBJECT_UNLOCK (self);

  return s;
}

static void
gst_ds_delta_request_keyframe (GstDsDelta * self, const gchar * why)
{
  GST_DEBUG_OBJECT (self, "keyframe requested (%s)", why);

  GST_OBJECT_LOCK (self);
  self->keyframe_requested = TRUE;
  self->keyframe_requests++;
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_ds_delta_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstDsDelta *self = GST_DS_DELTA (parent);
  guint8 input_type;

  if (gst_video_event_is_force_key_unit (event)) {
    if (gst_video_event_parse_upstream_force_key_unit (event, NULL, NULL, NULL)) {
      gst_ds_delta_request_keyframe (self, "GstForceKeyUnit");
      gst_event_unref (event);
      return TRUE;
    }
  } else if (gst_ds_input_event_parse (event, &input_type, NULL)
      && input_type == DS_INPUT_KEYFRAME_REQUEST) {
    gst_ds_delta_request_keyframe (self, "KeyframeRequest");
    gst_event_unref (event);
    return TRUE;
  }

  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_ds_delta_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstDsDelta *self = GST_DS_DELTA (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      break;
    case GST_EVENT_STREAM_START:
      /* a new stream: its receivers start from nothing */
      gst_ds_delta_drop_pending_bytes (self, "new stream");
      gst_ds_delta_drop_reference (self);
      gst_ds_delta_reset_time_base (self);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_ds_framer_flush (&self->framer);
      gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
      gst_ds_delta_drop_reference (self);
      break;
    case GST_EVENT_EOS:
      /* while looking for the next frame, a frame that ends the stream
       * still counts */
      if (self->framer.resyncing)
        gst_ds_delta_drain_framer (self, TRUE);
      gst_ds_delta_drop_pending_bytes (self, "end of stream");
      break;
    default:
      break;
  }

  return gst_pad_event_default (pad, parent, event);
}

/* The time keyframe distances are measured in, on the stream's time
 * base: the running time of the picture when the stream's first picture
 * had one (a later picture without one counts as the picture before),
 * else the monotonic clock */
static GstClockTime
gst_ds_delta_picture_time (GstDsDelta * self, GstBuffer * buffer)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstClockTime running_time = GST_CLOCK_TIME_NONE;

  if (self->time_base != GST_DS_DELTA_TIME_BASE_MONOTONIC
      && self->segment.format == GST_FORMAT_TIME
      && GST_CLOCK_TIME_IS_VALID (pts))
    running_time = gst_segment_to_running_time (&self->segment,
        GST_FORMAT_TIME, pts);

  if (self->time_base == GST_DS_DELTA_TIME_BASE_UNDECIDED) {
    self->time_base = GST_CLOCK_TIME_IS_VALID (running_time) ?
        GST_DS_DELTA_TIME_BASE_RUNNING_TIME : GST_DS_DELTA_TIME_BASE_MONOTONIC;
    GST_DEBUG_OBJECT (self, "keyframe distances in %s",
        self->time_base == GST_DS_DELTA_TIME_BASE_RUNNING_TIME ?
        "running time" : "monotonic time");
  }

  if (self->time_base == GST_DS_DELTA_TIME_BASE_MONOTONIC)
    self->last_picture_time = g_get_monotonic_time () * GST_USECOND;
  else if (GST_CLOCK_TIME_IS_VALID (running_time))
    self->last_picture_time = running_time;

  return self->last_picture_time;
}

/* (Re)builds the picture state for @width x @height */
static gboolean
gst_ds_delta_set_picture_size (GstDsDelta * self, guint width, guint height)
{
  gsize size = (gsize) width * height * 4;

  gst_ds_delta_free_picture_state (self);

  self->pool = gst_ds_delta_pool_new (size);
  if (self->pool == NULL)
    return FALSE;
  self->reference = g_malloc (size);
  self->width = width;
  self->height = height;

  GST_INFO_OBJECT (self, "pictures of %ux%u", width, height);
  return TRUE;
}

/* Compresses @len bytes of @code into @dst (@dst_cap bytes); 0 when the
 * result would not fit */
static gsize
gst_ds_delta_compress (GstDsDelta * self, gint level, const guint8 * code,
    gsize len, guint8 * dst, gsize dst_cap)
{
#ifdef HAVE_ZSTD
  gsize res;

  if (self->zstd == NULL) {
    self->zstd = ZSTD_createCCtx ();
    self->zstd_level = G_MININT;
    if (self->zstd == NULL)
      return 0;
  }
  if (self->zstd_level != level) {
    ZSTD_CCtx_setParameter (self->zstd, ZSTD_c_compressionLevel, level);
    self->zstd_level = level;
  }
  res = ZSTD_compress2 (self->zstd, dst, dst_cap, code, len);
  if (ZSTD_isError (res)) {
    GST_LOG_OBJECT (self, "zstd: %s", ZSTD_getErrorName (res));
    return 0;
  }
  return res;
#else
  return 0;
#endif
}

/* A code larger than @cap of @len bytes is compressed whole only when
 * SAMPLE_PIECES pieces of SAMPLE_PIECE bytes spread over it compress, pro
 * rata, under 1/SAMPLE_GAIN of @size: a flat colour change (its code
 * larger than raw, its zstd tiny) goes out compressed, noise goes out raw
 * without tens of milliseconds of zstd for a few tens of percent */
#define SAMPLE_PIECES 8
#define SAMPLE_PIECE 4096
#define SAMPLE_GAIN 4

static gboolean
gst_ds_delta_worth_compressing (GstDsDelta * self, gint level,
    const guint8 * code, gsize len, guint8 * out, gsize size)
{
  guint64 zsum = 0;
  guint k;

  if (len <= SAMPLE_PIECES * SAMPLE_PIECE)
    return TRUE;
  for (k = 0; k < SAMPLE_PIECES; k++) {
    gsize offset = (len - SAMPLE_PIECE) / (SAMPLE_PIECES - 1) * k;
    gsize zlen = gst_ds_delta_compress (self, level, code + offset,
        SAMPLE_PIECE, out, SAMPLE_PIECE);

    /* 0: it did not compress */
    zsum += zlen > 0 ? zlen : SAMPLE_PIECE;
  }
  return zsum * len / (SAMPLE_PIECES * SAMPLE_PIECE) < size / SAMPLE_GAIN;
}

/* Sends @len bytes of @code as they are or compressed into @out: returns
 * the payload length, at most @cap, and sets @compressed; 0 when neither
 * fits. zstd is kept only when smaller than the plain code. A code
 * larger than @cap is tried with zstd when @sample says so only. */
static gsize
gst_ds_delta_finish (GstDsDelta * self, gint level, const guint8 * code,
    gsize len, guint8 * out, gsize cap, gboolean sample, gsize size,
    gboolean * compressed)
{
  gsize zcap, zlen = 0;

  *compressed = FALSE;
  if (len == 0)
    return 0;
  zcap = MIN (len - 1, cap);
  if (sample && len > cap && !gst_ds_delta_worth_compressing (self, level,
          code, len, out, size))
    return 0;
  if (zcap > 0)
    zlen = gst_ds_delta_compress (self, level, code, len, out, zcap);
  if (zlen > 0) {
    *compressed = TRUE;
    return zlen;
  }
  if (len > cap)
    return 0;
  memcpy (out, code, len);
  return len;
}

/* A delta of @cur against the reference and a MotionDeltaPixels frame
 * with @moves, whichever is smaller as sent, into @dst (room: the raw
 * size). The reference is brought up to date. */
#define MOTION_CLEAR_WIN 8

static gsize
gst_ds_delta_code_motion (GstDsDelta * self, const guint8 * cur, gsize size,
    const DsMotionMove * moves, guint n_moves, gboolean zstd, gint level,
    guint8 * dst, gboolean * compressed, gboolean * motion)
{
  gsize delta_len, delta_cap, motion_len, sent;
  gboolean motion_compressed;

  if (!zstd) {
    /* the delta without touching the reference, then the motion frame
     * that must beat it */
    delta_len = ds_rle_encode_xor (cur, self->reference, size, self->scratch,
        size - 1);
    motion_len = ds_motion_encode_update (cur, self->reference, self->width,
        self->height, moves, n_moves, dst, (delta_len ? delta_len : size) - 1);
    if (motion_len > 0) {
      *motion = TRUE;
      return motion_len;
    }
    if (delta_len > 0)
      memcpy (dst, self->scratch, delta_len);
    return delta_len;
  }

  /* both codes, then both compressed: the smaller as sent wins, the
   * delta on a tie. A delta code more than MOTION_CLEAR_WIN times the
   * motion code is not compressed (at 1080p that is 2 ms of zstd for a
   * frame that would not be sent): zstd does not gain such a factor on
   * a code the moves already shrank. While the content keeps moving, the
   * delta code is not even finished past MOTION_CLEAR_WIN times the last
   * frame's motion code (the run-length coder gives up there, sparing
   * most of a pass over the picture); a delta that gave up loses to the
   * motion code whatever its size. */
  if (self->scratch2 == NULL)
    self->scratch2 = g_malloc (2 * size);
  delta_cap = 2 * size;
  if (self->last_motion_code > 0 &&
      self->last_motion_code < delta_cap / MOTION_CLEAR_WIN)
    delta_cap = MOTION_CLEAR_WIN * self->last_motion_code;
  delta_len = ds_rle_encode_xor (cur, self->reference, size, self->scratch,
      delta_cap);
  motion_len = ds_motion_encode_update (cur, self->reference, self->width,
      self->height, moves, n_moves, self->scratch2, 2 * size);
  self->last_motion_code = motion_len;
  if (motion_len > 0 && (delta_len == 0 ||
          delta_len > MOTION_CLEAR_WIN * motion_len))
    sent = 0;
  else
    sent = gst_ds_delta_finish (self, level, self->scratch, delta_len, dst,
        size - 1, TRUE, size, compressed);
  motion_len = gst_ds_delta_finish (self, level, self->scratch2, motion_len,
      self->scratch, (sent ? sent : size) - 1, TRUE, size, &motion_compressed);
  if (motion_len > 0) {
    memcpy (dst, self->scratch, motion_len);
    *compressed = motion_compressed;
    *motion = TRUE;
    return motion_len;
  }
  return sent;
}

/* Codes @cur against the reference (or alone when @keyframe) into @dst,
 * whose room is the raw size: returns the payload length and sets
 * @compressed and @motion (a MotionDeltaPixels payload), or 0 when the
 * payload would not be smaller than raw */
static gsize
gst_ds_delta_code_picture (GstDsDelta * self, const guint8 * cur, gsize size,
    gboolean keyframe, GstDsDeltaCompression compression, gint level,
    gboolean use_motion, guint8 * dst, gboolean * compressed, gboolean * motion)
{
  gboolean zstd = compression == GST_DS_DELTA_COMPRESSION_ZSTD;
  DsMotionMove moves[DS_SCROLL_MAX_MOVES];
  guint n_moves = 0;
  gsize len;

  *compressed = FALSE;
  *motion = FALSE;

  /* with zstd, a code larger than raw may still compress far below it: a
   * keyframe (a picture has few zero bytes), a flat colour change (every
   * byte changes), so it gets room up to twice the picture (noise codes
   * to 1.5 times) */
  if (zstd && self->scratch == NULL)
    self->scratch = g_malloc (2 * size);

  if (!keyframe && use_motion) {
    if (self->scroll == NULL)
      self->scroll = ds_scroll_detector_new ();
    n_moves = ds_scroll_detect (self->scroll, cur, self->reference,
        self->width, self->height, moves);
    /* the detector promises moves the codec takes; should it ever fail,
     * a plain delta keeps encoder and receivers on the same reference */
    if (n_moves > 0 && !ds_motion_moves_check (moves, n_moves, self->width,
            self->height, NULL)) {
      GST_WARNING_OBJECT (self, "the motion detector gave %u moves the "
          "codec refuses: sending a plain delta", n_moves);
      n_moves = 0;
    }
  } else if (self->scroll) {
    /* the next reference is a picture the detector has not seen */
    ds_scroll_detector_reset (self->scroll);
  }
  if (n_moves == 0)
    self->last_motion_code = 0;
  if (n_moves > 0) {
    if (self->scratch == NULL)
      self->scratch = g_malloc (2 * size);
    len = gst_ds_delta_code_motion (self, cur, size, moves, n_moves, zstd,
        level, dst, compressed, motion);
    GST_LOG_OBJECT (self, "%u moves found: %s of %" G_GSIZE_FORMAT " bytes",
        n_moves, *motion ? "motion" : "delta", len);
  } else if (keyframe) {
    len = ds_rle_encode_xor (cur, NULL, size, zstd ? self->scratch : dst,
        zstd ? 2 * size : size - 1);
    memcpy (self->reference, cur, size);
  } else {
    len = ds_rle_encode_xor_update (cur, self->reference, size,
        zstd ? self->scratch : dst, zstd ? 2 * size : size - 1);
  }
  self->have_reference = TRUE;

  if (n_moves > 0 || !zstd)
    return len;

  /* keyframes are compressed whatever their code's size: a picture
   * compresses well */
  return gst_ds_delta_finish (self, level, self->scratch, len, dst, size - 1,
      !keyframe, size, compressed);
}

static GstFlowReturn
gst_ds_delta_push_pixels (GstDsDelta * self, GstBuffer * buffer)
{
  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);

  return gst_pad_push (self->srcpad, buffer);
}

static void
gst_ds_delta_post_stats (GstDsDelta * self)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_ds_delta_get_stats (self)));
}

static GstFlowReturn
gst_ds_delta_handle_picture (GstDsDelta * self, GstBuffer * buffer,
    const DsHeader * in_header)
{
  GstDsDeltaCompression compression;
  guint keyframe_interval, stats_interval;
  GstClockTime min_distance, now;
  gboolean keyframe, requested = FALSE, compressed = FALSE, motion = FALSE;
  gboolean use_motion;
  const gchar *reason = NULL;
  gsize size = (gsize) in_header->width * in_header->height * 4;
  guint max_picture_bytes;
  GstBuffer *out = NULL;
  GstMapInfo in_map, out_map, header_map;
  GstMemory *payload_mem, *header_mem;
  DsHeader header;
  gsize len, in_offset;
  GstFlowReturn flow;
  gint level;
  guint64 pictures;

  if (size == 0 || in_header->payload_len != size)
    goto bad_pixels;

  /* checked before anything of that size is allocated */
  GST_OBJECT_LOCK (self);
  max_picture_bytes = self->max_picture_bytes;
  GST_OBJECT_UNLOCK (self);
  if (size > max_picture_bytes || size > MAX_PICTURE_BYTES)
    goto too_large;

  if (in_header->width != self->width || in_header->height != self->height
      || self->pool == NULL) {
    if (!gst_ds_delta_set_picture_size (self, in_header->width,
            in_header->height))
      goto no_pool;
    reason = "new picture size";
  } else if (!self->have_reference) {
    reason = "no reference";
  }

  now = gst_ds_delta_picture_time (self, buffer);

  GST_OBJECT_LOCK (self);
  compression = self->compression;
  level = self->compression_level;
  keyframe_interval = self->keyframe_interval;
  min_distance = self->min_keyframe_distance;
  stats_interval = self->stats_interval;
  use_motion = self->motion;
  if (self->protocol == GST_DS_DELTA_PROTOCOL_ORIGINAL) {
    compression = GST_DS_DELTA_COMPRESSION_NONE;
    use_motion = FALSE;
  }

  if (reason == NULL && keyframe_interval > 0
      && self->pictures_since_keyframe + 1 >= keyframe_interval)
    reason = "keyframe interval";
  if (self->keyframe_requested && (!GST_CLOCK_TIME_IS_VALID
          (self->last_keyframe_time) || now < self->last_keyframe_time
          || now - self->last_keyframe_time >= min_distance)) {
    requested = TRUE;
    if (reason == NULL)
      reason = "requested";
  }
  keyframe = reason != NULL;
  /* any keyframe answers every request made so far */
  if (keyframe)
    self->keyframe_requested = FALSE;
  GST_OBJECT_UNLOCK (self);

  /* the payload: memories 1.. of a frame buffer, or after the header in
   * a single memory */
  if (gst_buffer_n_memory (buffer) >= 2
      && gst_buffer_peek_memory (buffer, 0)->size == DS_HEADER_SIZE) {
    if (!gst_buffer_map_range (buffer, 1, -1, &in_map, GST_MAP_READ))
      goto map_failed;
    in_offset = 0;
  } else {
    if (!gst_buffer_map (buffer, &in_map, GST_MAP_READ))
      goto map_failed;
    in_offset = DS_HEADER_SIZE;
  }

  flow = gst_buffer_pool_acquire_buffer (self->pool, &out, NULL);
  if (flow != GST_FLOW_OK) {
    gst_buffer_unmap (buffer, &in_map);
    goto no_buffer;
  }
  payload_mem = gst_buffer_peek_memory (out, 1);
  if (!gst_memory_map (payload_mem, &out_map, GST_MAP_WRITE)) {
    gst_buffer_unmap (buffer, &in_map);
    goto map_failed;
  }

  len = gst_ds_delta_code_picture (self, in_map.data + in_offset, size,
      keyframe, compression, level, use_motion, out_map.data, &compressed,
      &motion);

  gst_memory_unmap (payload_mem, &out_map);
  gst_buffer_unmap (buffer, &in_map);

  self->pictures_since_keyframe = keyframe ? 0 : self->pictures_since_keyframe
      + 1;

  GST_OBJECT_LOCK (self);
  /* a Pixels frame answers pending requests as a keyframe delta does */
  if (len == 0)
    self->keyframe_requested = FALSE;
  self->pictures_in++;
  self->picture_bytes_in += size;
  pictures = self->pictures_in;
  if (keyframe) {
    self->keyframes_out++;
    if (requested)
      self->requested_keyframes_out++;
  }
  if (len == 0) {
    /* the code is no smaller than the raw picture */
    if (!keyframe) {
      self->raw_fallbacks++;
      self->keyframes_out++;
    }
    self->pixels_keyframes_out++;
    self->picture_bytes_out += size;
  } else {
    if (motion)
      self->motion_deltas_out++;
    else if (!keyframe)
      self->deltas_out++;
    if (compressed)
      self->compressed_out++;
    self->picture_bytes_out += len;
  }
  GST_OBJECT_UNLOCK (self);

  if (len == 0) {
    /* a Pixels frame is a keyframe too */
    GST_LOG_OBJECT (self, "picture sent as Pixels (%s)",
        keyframe ? reason : "delta larger than raw");
    self->last_keyframe_time = now;
    self->pictures_since_keyframe = 0;
    gst_buffer_unref (out);
    if (stats_interval > 0 && pictures % stats_interval == 0)
      gst_ds_delta_post_stats (self);
    return gst_ds_delta_push_pixels (self, buffer);
  }

  if (keyframe)
    self->last_keyframe_time = now;

  GST_LOG_OBJECT (self, "%s of %" G_GSIZE_FORMAT " bytes%s%s%s",
      keyframe ? "keyframe delta" : motion ? "motion delta" : "delta", len,
      compressed ? " (zstd)" : "", keyframe ? ", " : "",
      keyframe ? reason : "");

  header = *in_header;
  header.type = motion ? DS_FRAME_MOTION_DELTA_PIXELS : DS_FRAME_DELTA_PIXELS;
  header.flags &= ~(DS_FLAG_KEYFRAME | DS_FLAG_COMPRESSED | DS_FLAG_INPUT);
  if (keyframe)
    header.flags |= DS_FLAG_KEYFRAME;
  if (compressed)
    header.flags |= DS_FLAG_COMPRESSED;
  header.payload_len = (guint32) len;

  gst_memory_resize (payload_mem, 0, len);
  header_mem = gst_buffer_peek_memory (out, 0);
  if (!gst_memory_map (header_mem, &header_map, GST_MAP_WRITE))
    goto map_failed;
  ds_header_pack (&header, header_map.data);
  gst_memory_unmap (header_mem, &header_map);

  gst_buffer_copy_into (out, buffer,
      GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
  if (keyframe)
    GST_BUFFER_FLAG_UNSET (out, GST_BUFFER_FLAG_DELTA_UNIT);
  else
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DELTA_UNIT);
  gst_buffer_unref (buffer);

  if (stats_interval > 0 && pictures % stats_interval == 0)
    gst_ds_delta_post_stats (self);

  return gst_pad_push (self->srcpad, out);

  /* ERRORS */
bad_pixels:
  {
    GST_WARNING_OBJECT (self, "Pixels frame of %ux%u with %u payload bytes, "
        "passed through", in_header->width, in_header->height,
        in_header->payload_len);
    gst_ds_delta_drop_reference (self);
    return gst_pad_push (self->srcpad, buffer);
  }
too_large:
  {
    GST_ELEMENT_WARNING (self, STREAM, ENCODE,
        (_("A picture too large to be delta coded was sent whole.")),
        ("Pixels frame of %ux%u (%" G_GSIZE_FORMAT " bytes) is larger than "
            "max-picture-bytes (%u): passed through without delta coding",
            in_header->width, in_header->height, size, max_picture_bytes));
    GST_OBJECT_LOCK (self);
    self->oversized_pictures++;
    GST_OBJECT_UNLOCK (self);
    gst_ds_delta_drop_reference (self);
    return gst_ds_delta_push_pixels (self, buffer);
  }
no_pool:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        (_("Could not allocate memory for a picture.")),
        ("could not set up a buffer pool for %ux%u pictures",
            in_header->width, in_header->height));
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
no_buffer:
  {
    GST_DEBUG_OBJECT (self, "no output buffer: %s", gst_flow_get_name (flow));
    gst_buffer_unref (buffer);
    return flow;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        (_("Could not read or write a picture in memory.")),
        ("could not map a picture or an output frame"));
    gst_clear_buffer (&out);
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
}

/* One frame, in a buffer of its own */
static GstFlowReturn
gst_ds_delta_handle_frame (GstDsDelta * self, GstBuffer * buffer,
    const DsHeader * header)
{
  GST_OBJECT_LOCK (self);
  self->frames_in++;
  GST_OBJECT_UNLOCK (self);

  if (header->flags & DS_FLAG_INPUT)
    return gst_pad_push (self->srcpad, buffer);

  switch (header->type) {
    case DS_FRAME_PIXELS:
      return gst_ds_delta_handle_picture (self, buffer, header);
    case DS_FRAME_KEYFRAME:
    case DS_FRAME_DELTA_PIXELS:
    case DS_FRAME_MOTION_DELTA_PIXELS:
    case DS_FRAME_END:
      /* receivers reset or change their picture (End: the stream is over,
       * a new one starts from nothing): our reference no longer matches
       * theirs */
      GST_DEBUG_OBJECT (self, "%s frame passed through, next picture is a "
          "keyframe", ds_frame_type_name (header->type));
      gst_ds_delta_drop_reference (self);
      break;
    default:
      break;
  }

  return gst_pad_push (self->srcpad, buffer);
}

/* The largest frame accepted from a byte stream */
static guint
gst_ds_delta_max_frame_bytes (GstDsDelta * self)
{
  guint max_picture_bytes;

  GST_OBJECT_LOCK (self);
  max_picture_bytes = self->max_picture_bytes;
  GST_OBJECT_UNLOCK (self);

  return MAX (max_picture_bytes, DS_DEFAULT_MAX_FRAME_BYTES);
}

static void
gst_ds_delta_drop_pending_bytes (GstDsDelta * self, const gchar * why)
{
  gboolean was_resyncing = self->framer.resyncing;
  gsize pending = gst_ds_framer_flush (&self->framer);

  if (pending > 0 && !was_resyncing)
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        (_("An incomplete frame was dropped.")),
        ("%s: dropping %" G_GSIZE_FORMAT " bytes of an unfinished frame",
            why, pending));
}

/* Cuts the bytes held into frames, each a buffer of its own (memory 0
 * the header), and handles them. @at_eos: no more bytes will come. */
static GstFlowReturn
gst_ds_delta_drain_framer (GstDsDelta * self, gboolean at_eos)
{
  guint max_frame_bytes = gst_ds_delta_max_frame_bytes (self);
  GstFlowReturn ret = GST_FLOW_OK;

  while (ret == GST_FLOW_OK) {
    GstBuffer *payload, *frame;
    DsHeader header;
    GstClockTime pts;

    switch (gst_ds_framer_next (&self->framer, max_frame_bytes, at_eos,
            &header, &payload, &pts)) {
      case GST_DS_FRAMER_NEED_DATA:
        return ret;
      case GST_DS_FRAMER_JUNK:
        GST_ELEMENT_WARNING (self, STREAM, DECODE,
            (_("Malformed data in the ds-stream was skipped.")),
            ("not a frame header (type 0x%02x, flags 0x%02x, %u payload "
                "bytes; limit %u): looking for the next frame", header.type,
                header.flags, header.payload_len, max_frame_bytes));
        break;
      case GST_DS_FRAMER_FRAME:
        frame = gst_ds_frame_buffer_new (&header, payload);
        if (payload)
          gst_buffer_unref (payload);
        GST_BUFFER_PTS (frame) = pts;
        /* as dspay and dsdelta flag the frames they make */
        if (ds_frame_needs_reference (&header) ||
            (header.type == DS_FRAME_SIGNAL_DIFF &&
                !(header.flags & DS_FLAG_INPUT)))
          GST_BUFFER_FLAG_SET (frame, GST_BUFFER_FLAG_DELTA_UNIT);
        ret = gst_ds_delta_handle_frame (self, frame, &header);
        break;
    }
  }

  return ret;
}

static GstFlowReturn
gst_ds_delta_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstDsDelta *self = GST_DS_DELTA (parent);
  DsHeader header;

  if (GST_BUFFER_IS_DISCONT (buffer)
      && gst_ds_framer_available (&self->framer) > 0)
    gst_ds_delta_drop_pending_bytes (self, "discontinuity");

  /* the usual case, a buffer that is one frame: no adapter, no copy */
  if (gst_ds_framer_available (&self->framer) == 0
      && gst_ds_frame_buffer_parse (buffer, &header, NULL))
    return gst_ds_delta_handle_frame (self, buffer, &header);

  /* a byte stream (a recording, TCP): frames split and merged anywhere */
  gst_ds_framer_push (&self->framer, buffer);
  return gst_ds_delta_drain_framer (self, FALSE);
}

static GstStateChangeReturn
gst_ds_delta_change_state (GstElement * element, GstStateChange transition)
{
  GstDsDelta *self = GST_DS_DELTA (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      gst_ds_delta_stop (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (gst_ds_delta_parent_class)->change_state (element,
      transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_ds_delta_stop (self);
      break;
    default:
      break;
  }

  return ret;
}

static void
gst_ds_delta_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDsDelta *self = GST_DS_DELTA (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_KEYFRAME_INTERVAL:
      self->keyframe_interval = g_value_get_uint (value);
      break;
    case PROP_MIN_KEYFRAME_DISTANCE:
      self->min_keyframe_distance = g_value_get_uint64 (value);
      break;
    case PROP_COMPRESSION:
      self->compression = g_value_get_enum (value);
      break;
    case PROP_COMPRESSION_LEVEL:
      self->compression_level = g_value_get_int (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint (value);
      break;
    case PROP_MAX_PICTURE_BYTES:
      self->max_picture_bytes = g_value_get_uint (value);
      break;
    case PROP_PROTOCOL:
      self->protocol = g_value_get_enum (value);
      break;
    case PROP_MOTION:
      self->motion = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ds_delta_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstDsDelta *self = GST_DS_DELTA (object);

  switch (prop_id) {
    case PROP_KEYFRAME_INTERVAL:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->keyframe_interval);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MIN_KEYFRAME_DISTANCE:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->min_keyframe_distance);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_COMPRESSION:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->compression);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_COMPRESSION_LEVEL:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->compression_level);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS_INTERVAL:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->stats_interval);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_PICTURE_BYTES:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->max_picture_bytes);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_PROTOCOL:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->protocol);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MOTION:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->motion);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_ds_delta_get_stats (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}
