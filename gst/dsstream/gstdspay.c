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
 * SECTION:element-dspay
 * @title: dspay
 * @see_also: dsdepay, dsdelta, dsrelaysink
 *
 * dspay turns one media stream into a ds-stream (`application/x-ds-stream`):
 * every output buffer is one frame, a 16-byte header in a memory of its
 * own followed by the payload. The payload is the input's memory, shared,
 * not copied, whenever the input is laid out as the wire wants it (memory
 * flagged #GST_MEMORY_FLAG_NO_SHARE, which its pool wants back, is
 * copied).
 *
 * What goes in and what comes out:
 *
 * * `video/x-raw,format=RGBA` (1×1 up to 65535×65535, any framerate):
 *   Pixels frames with FLAG_KEYFRAME, width and height in the header. Rows
 *   travel without padding: a picture whose rows are padded (a stride
 *   larger than width×4, told by its #GstVideoMeta) is repacked into a new
 *   buffer; any other picture is sent without a copy.
 * * `video/x-raw` in the other four-byte RGB formats, `RGBx`, `BGRx`,
 *   `xRGB`, `xBGR` (what `ximagesrc` captures of a 24-bit X screen) and
 *   `BGRA`, `ARGB`, `ABGR`: the same Pixels frames, converted to RGBA in
 *   one pass with every alpha byte 255. Pictures on the wire are opaque
 *   (docs/protocol.md §3): the padding byte of an X screen (0 in black
 *   areas) never reaches a receiver as alpha. RGBA input is sent as it
 *   is, and receivers ignore its alpha; a screencast should give dspay
 *   the capture's own format (`ximagesrc ! videoconvert ! dspay`), not
 *   `video/x-raw,format=RGBA`, which `videoconvert` makes by copying the
 *   padding byte into alpha.
 * * `image/png`, `image/webp`: CompressedPixels frames with FLAG_KEYFRAME.
 *   The header's width and height are read from the image itself (the PNG
 *   IHDR chunk, the WebP VP8/VP8L/VP8X header), else taken from the caps,
 *   else 0. A buffer that is neither a PNG nor a WebP image is skipped with
 *   a warning.
 * * `audio/x-raw,format=F32LE,layout=interleaved` (rate 1–65535 Hz):
 *   AudioPcm frames; the header's width is the channel count, its height
 *   the sample rate.
 * * `audio/x-opus` (channel mapping family 0: mono or stereo, the only
 *   layout a receiver can decode without stream headers): one Opus packet
 *   per AudioCompressed frame; width is the channel count, height 48000.
 * * `application/x-ds-signal`: a byte stream of JSON Lines, cut anywhere
 *   (so `filesrc` and `fdsrc` work), each line a JSON object of signal
 *   updates. The first frame of a stream, and then one frame in
 *   #GstDsPay:sync-interval, is a SignalSync (the full state, with
 *   FLAG_KEYFRAME); the others are SignalDiff frames with only the keys
 *   whose value changed (#GST_BUFFER_FLAG_DELTA_UNIT set). A line that
 *   changes nothing sends nothing. Only the signals named in
 *   #GstDsPay:signals leave the element; keys starting with `_` are
 *   reserved and never sent, except `_v`: versions of public signals
 *   (`{"_v":{"count":9},"count":3}`) are kept as a receiver keeps them
 *   (a line whose version of a key is lower than the one held leaves
 *   that key as it is) and sent with the values, a SignalDiff carrying
 *   the versions of its own keys only. A line that is not a JSON object, or longer
 *   than #GstDsPay:max-line-length, is skipped with a warning on the bus.
 *   When #GstDsPay:signals is set, a SchemaAnnounce frame naming the
 *   public signals goes before the first SignalSync of each stream (and
 *   again when the list changes), which the relay caches for late
 *   joiners.
 *
 * * Encoded video, one access unit per buffer (issue 14): `video/x-h264`
 *   and `video/x-h265` in `stream-format=byte-stream,alignment=au` (Annex
 *   B, parameter sets in band), `video/x-vp8`, `video/x-vp9` (a superframe
 *   as one frame) and `video/x-av1` temporal units of OBUs
 *   (`stream-format=obu-stream,alignment=tu`, what av1enc and av1parse
 *   make), with a width and height (1–65535): one EncodedVideo frame per
 *   unit (codec byte, reserved byte, the unit shared without a copy),
 *   FLAG_KEYFRAME when the buffer has no #GST_BUFFER_FLAG_DELTA_UNIT, the
 *   size from the caps. The protocol has no decode time: the encoder must
 *   not make B-frames (`x264enc bframes=0` or `tune=zerolatency`); dspay
 *   warns once when a presentation time goes back. Caps dspay can tell are
 *   wrong (`stream-format=avc`, `alignment=nal`, AV1 Annex B, VP9 frames
 *   without their superframe) are refused in negotiation with a warning
 *   that says what to put before dspay (`h264parse ! video/x-h264,
 *   stream-format=byte-stream,alignment=au`). An empty buffer is skipped.
 *
 * The source caps are `application/x-ds-stream` with a `media` field
 * (`video`, `image`, `audio` or `signal`) and, for video, the width,
 * height and framerate, for audio the rate and channels. New input caps
 * (a new picture size, say) give new source caps at once.
 *
 * ## Timestamps and sequence numbers
 *
 * The header's timestamp is the running time of the input buffer in
 * milliseconds, wrapping at 2^32. A buffer without a timestamp, or in a
 * segment that is not in time (a file read by filesrc), gets the running
 * time of the pipeline clock when the element is playing, else the
 * timestamp of the frame before (0 for the first). The output buffers keep
 * the input's PTS, DTS and duration; when the input segment is not in
 * time, a time segment starting at 0 is sent downstream instead.
 *
 * The sequence number counts every frame sent, +1 per frame, wrapping at
 * 65536, from 0 when the element goes from READY to PAUSED. Flushes and new
 * streams do not reset it, so receivers see no false gap.
 *
 * A new stream (a stream-start event) starts the signal state afresh: the
 * next signal frame is a SignalSync of the new stream's values (preceded
 * by the schema). After a flush the partial line is dropped and the next
 * signal frame is a SignalSync of the state held.
 *
 * EOS sends an End frame (0xFF) before the EOS event, so receivers across
 * a relay learn that the stream is over.
 *
 * ## Keyframe requests
 *
 * An upstream `GstForceKeyUnit` event, or a `GstDsInput` event of type
 * KeyframeRequest, makes the next signal line send a SignalSync, even when
 * it changes nothing. For raw video and images every frame is a keyframe
 * already: the request is answered by the next frame and goes no further.
 * For encoded video it goes on upstream to the encoder as a
 * `GstForceKeyUnit` event (all headers), so a receiver that joins or lost
 * units through dsrelaysink gets a keyframe unit soon.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=RGBA,width=320,height=240 ! dspay ! filesink location=x.ds
 * ]| Records 100 test pictures as a ds-stream file.
 * |[
 * gst-launch-1.0 videotestsrc ! video/x-raw,format=RGBA,width=640,height=480 ! dspay ! dsdepay ! videoconvert ! autovideosink
 * ]| Payloads a test pattern and shows it again.
 * |[
 * gst-launch-1.0 ximagesrc ! videoconvert ! dspay ! dsdelta ! dsrelaysink location=ws://127.0.0.1:9100/peer/desktop
 * ]| Publishes the X screen: ximagesrc's BGRx goes to dspay as it is and
 * leaves it as opaque RGBA.
 * |[
 * gst-launch-1.0 audiotestsrc num-buffers=100 ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! dspay ! filesink location=tone.ds
 * ]| Records a tone as AudioPcm frames.
 * |[
 * printf '{"count":1,"secret":7}\n{"count":2}\n' > signals.jsonl
 * gst-launch-1.0 filesrc location=signals.jsonl ! application/x-ds-signal ! dspay signals="<count>" ! filesink location=signals.ds
 * ]| Records the public signal `count` (a SchemaAnnounce, a SignalSync
 * and a SignalDiff, then End); `secret` never leaves the element.
 * |[
 * gst-launch-1.0 ximagesrc use-damage=false ! videoconvert ! video/x-raw,framerate=30/1 ! x264enc tune=zerolatency bframes=0 key-int-max=60 speed-preset=ultrafast ! h264parse config-interval=-1 ! dspay ! dsrelaysink location=ws://127.0.0.1:9100/peer/desktop
 * ]| Publishes the X screen as H.264: no B-frames, a keyframe every 2 s
 * with SPS and PPS in it, and one at once when a receiver asks.
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 ! vp8enc deadline=1 ! dspay ! dsrelaysink location=ws://127.0.0.1:9100/peer/vp8
 * ]| Publishes a test pattern as VP8, encoded in real time.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gst/video/video.h>
#include <gst/audio/audio.h>

#include "dsprotocol.h"
#include "dssignal.h"
#include "dsstream.h"
#include "gstdsutils.h"

#include "gstdsstreamelements.h"
#include "gstdspay.h"

GST_DEBUG_CATEGORY_STATIC (ds_pay_debug);
#define GST_CAT_DEFAULT ds_pay_debug

enum
{
  PROP_0,
  PROP_SYNC_INTERVAL,
  PROP_SIGNALS,
  PROP_MAX_LINE_LENGTH,
};

#define DEFAULT_SYNC_INTERVAL 100
#define DEFAULT_MAX_LINE_LENGTH (1024 * 1024)

/* Opus packets are always decoded at 48 kHz (RFC 6716); the header says so */
#define OPUS_RATE 48000

typedef enum
{
  GST_DS_PAY_MEDIA_NONE,
  GST_DS_PAY_MEDIA_VIDEO,
  GST_DS_PAY_MEDIA_IMAGE,
  GST_DS_PAY_MEDIA_AUDIO_PCM,
  GST_DS_PAY_MEDIA_AUDIO_OPUS,
  GST_DS_PAY_MEDIA_SIGNAL,
  GST_DS_PAY_MEDIA_ENCODED,
} GstDsPayMedia;

struct _GstDsPay
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* settings, under the object lock */
  guint sync_interval;
  gchar **signals;              /* NULL = every signal is public */
  guint max_line_length;

  /* set by upstream keyframe requests, under the object lock */
  gboolean sync_requested;
  /* the input is encoded video: keyframe requests go on to the encoder
   * (under the object lock: read by upstream events) */
  gboolean encoded;

  /* streaming state: reset when going to PAUSED, wiped in READY */
  GstDsPayMedia media;
  GstVideoInfo vinfo;
  guint16 width;                /* header width and height of the media */
  guint16 height;
  gboolean have_caps;
  GstSegment segment;
  guint16 seq;
  guint32 timestamp;            /* of the frame being made, or the last */

  /* encoded video */
  guint8 codec;                 /* DsCodec of the caps */
  GstClockTime last_running_time;       /* of the last access unit */
  gboolean warned_reorder;      /* a PTS that went back was reported */

  /* signals */
  DsSignalState *signal_state;
  GString *line;
  gboolean skipping_line;       /* the line is too long: drop to its end */
  guint64 line_number;
  gboolean synced;              /* a SignalSync went out in this stream */
  guint diffs_since_sync;
  gboolean announced;           /* public names of the last frame are known */
  gchar **announced_signals;    /* those names (NULL = all) */
};

/**
 * GstDsPay!sink:
 *
 * One kind of media per stream: `video/x-raw` RGBA pictures, or RGBx,
 * BGRx, xRGB, xBGR, BGRA, ARGB, ABGR pictures sent as opaque RGBA (padded
 * rows allowed, told by #GstVideoMeta), whole `image/png` or `image/webp`
 * images (one per buffer), `audio/x-raw` F32LE interleaved samples,
 * `audio/x-opus` packets (one per buffer, mono or stereo),
 * `application/x-ds-signal`: JSON Lines bytes, cut anywhere, or encoded
 * video, one access unit per buffer: `video/x-h264` and `video/x-h265` in
 * byte-stream format aligned on access units, `video/x-vp8`, `video/x-vp9`
 * (whole frames, a superframe as one) and `video/x-av1` temporal units of
 * OBUs (what av1enc and av1parse make), all with a width and height.
 * Caps must come before data; new caps (a new picture size) apply from
 * the next buffer.
 */
#define ENCODED_SIZE "width = (int) [ 1, 65535 ], height = (int) [ 1, 65535 ]"
#define ENCODED_VIDEO_CAPS \
    "video/x-h264, stream-format = (string) byte-stream, " \
    "alignment = (string) au, " ENCODED_SIZE "; " \
    "video/x-h265, stream-format = (string) byte-stream, " \
    "alignment = (string) au, " ENCODED_SIZE "; " \
    "video/x-vp8, " ENCODED_SIZE "; " \
    "video/x-vp9, " ENCODED_SIZE "; " \
    "video/x-av1, stream-format = (string) obu-stream, " \
    "alignment = (string) tu, " ENCODED_SIZE "; " \
    "video/x-av1, alignment = (string) tu, " ENCODED_SIZE

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw, format = (string) { RGBA, RGBx, BGRx, "
        "xRGB, xBGR, BGRA, ARGB, ABGR }, "
        "width = (int) [ 1, 65535 ], height = (int) [ 1, 65535 ], "
        "framerate = (fraction) [ 0/1, MAX ]; "
        "image/png; "
        "image/webp; "
        "audio/x-raw, format = (string) F32LE, "
        "layout = (string) interleaved, rate = (int) [ 1, 65535 ], "
        "channels = (int) [ 1, 65535 ]; "
        "audio/x-opus, channel-mapping-family = (int) 0, "
        "channels = (int) [ 1, 2 ]; " GST_DS_SIGNAL_MEDIA_TYPE "; "
        ENCODED_VIDEO_CAPS));

/**
 * GstDsPay!src:
 *
 * `application/x-ds-stream` with `media` set to the input's kind (and
 * width, height and framerate for video, rate and channels for audio).
 * Each buffer is one frame: memory 0 the 16-byte header, then the
 * payload, shared with the input when it can be. Pixels,
 * CompressedPixels and SignalSync frames are keyframes; SignalDiff frames
 * and EncodedVideo frames of units that are not keyframes carry
 * #GST_BUFFER_FLAG_DELTA_UNIT. Encoded video is `media=video` with a
 * `codec` field (`h264`, `h265`, `vp8`, `vp9`, `av1`). EOS is preceded by
 * an End frame.
 */
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE ", "
        "media = (string) { video, image, audio, signal }"));

#define gst_ds_pay_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstDsPay, gst_ds_pay, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (ds_pay_debug, "dspay", 0, "ds-stream payloader"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dspay, "dspay", GST_RANK_NONE,
    GST_TYPE_DS_PAY, ds_stream_element_init (plugin));

static void gst_ds_pay_finalize (GObject * object);
static void gst_ds_pay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ds_pay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_ds_pay_change_state (GstElement * element,
    GstStateChange transition);
static GstFlowReturn gst_ds_pay_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static gboolean gst_ds_pay_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_ds_pay_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_ds_pay_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event);

static void
gst_ds_pay_class_init (GstDsPayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_ds_pay_finalize;
  gobject_class->set_property = gst_ds_pay_set_property;
  gobject_class->get_property = gst_ds_pay_get_property;

  /**
   * GstDsPay:sync-interval:
   *
   * For signal input: one signal frame in this many is a SignalSync (the
   * full state), the others are SignalDiff frames. 1 sends only
   * SignalSync frames; 0 sends a SignalSync only for the first frame of a
   * stream, after a flush and on request. A receiver that missed a diff
   * (a recording played from the middle, a lossy link) holds the right
   * state again at the next SignalSync; a relay merges diffs for late
   * joiners by itself.
   */
  g_object_class_install_property (gobject_class, PROP_SYNC_INTERVAL,
      g_param_spec_uint ("sync-interval", "Sync interval",
          "One signal frame in this many is a full-state SignalSync, in "
          "frames (0 = only the first of a stream and on request)", 0,
          G_MAXUINT, DEFAULT_SYNC_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsPay:signals:
   *
   * For signal input: the names of the public signals, the only ones sent
   * (the source's "output" list). Empty, the default, makes every signal
   * public. Updates of other keys are ignored: they never leave the
   * element and do not cause a frame. When set, a SchemaAnnounce frame
   * with these names goes before the first SignalSync of a stream.
   * On the command line: `signals="<count,doubled>"`.
   */
  g_object_class_install_property (gobject_class, PROP_SIGNALS,
      gst_param_spec_array ("signals", "Signals",
          "Names of the public signals, the only ones sent (empty = all)",
          g_param_spec_string ("signal", "Signal", "A signal name", NULL,
              G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsPay:max-line-length:
   *
   * For signal input: the longest JSON line accepted, in bytes (without
   * its newline). A longer line is dropped up to its end with a warning
   * on the bus, so a stream without newlines cannot make the element
   * buffer without bound.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_LINE_LENGTH,
      g_param_spec_uint ("max-line-length", "Maximum line length",
          "Longest signal line accepted, in bytes; longer lines are dropped "
          "with a warning", 1, G_MAXINT, DEFAULT_MAX_LINE_LENGTH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "ds-stream payloader", "Codec/Payloader/Network",
      "Payloads RGBA video, PNG/WebP images, F32 or Opus audio and JSON "
      "Lines signals into ds-stream frames", "gst-ds-stream developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_ds_pay_change_state);
}

static void
gst_ds_pay_init (GstDsPay * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ds_pay_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ds_pay_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ds_pay_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_ds_pay_src_event));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->sync_interval = DEFAULT_SYNC_INTERVAL;
  self->signals = NULL;
  self->max_line_length = DEFAULT_MAX_LINE_LENGTH;

  self->signal_state = ds_signal_state_new ();
  self->line = g_string_new (NULL);
  gst_video_info_init (&self->vinfo);
  gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
}

/* Forgets what the signals of the current stream were: the next signal
 * frame is a SignalSync (after the schema) */
static void
gst_ds_pay_reset_signals (GstDsPay * self)
{
  ds_signal_state_clear (self->signal_state);
  g_string_truncate (self->line, 0);
  self->skipping_line = FALSE;
  self->line_number = 0;
  self->synced = FALSE;
  self->diffs_since_sync = 0;
  self->announced = FALSE;
  g_clear_pointer (&self->announced_signals, g_strfreev);
}

static void
gst_ds_pay_reset (GstDsPay * self)
{
  self->media = GST_DS_PAY_MEDIA_NONE;
  gst_video_info_init (&self->vinfo);
  self->width = self->height = 0;
  self->have_caps = FALSE;
  gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
  self->seq = 0;
  self->timestamp = 0;
  self->codec = 0;
  self->last_running_time = GST_CLOCK_TIME_NONE;
  self->warned_reorder = FALSE;
  gst_ds_pay_reset_signals (self);

  GST_OBJECT_LOCK (self);
  self->sync_requested = FALSE;
  self->encoded = FALSE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ds_pay_finalize (GObject * object)
{
  GstDsPay *self = GST_DS_PAY (object);

  gst_ds_pay_reset_signals (self);
  ds_signal_state_free (self->signal_state);
  g_string_free (self->line, TRUE);
  g_strfreev (self->signals);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* Time */

/* The running time of the pipeline clock, or GST_CLOCK_TIME_NONE when
 * the element is not playing */
static GstClockTime
gst_ds_pay_clock_running_time (GstDsPay * self)
{
  GstClock *clock = NULL;
  GstClockTime base_time = GST_CLOCK_TIME_NONE, now;

  GST_OBJECT_LOCK (self);
  if (GST_STATE (self) == GST_STATE_PLAYING && GST_ELEMENT_CLOCK (self)) {
    clock = gst_object_ref (GST_ELEMENT_CLOCK (self));
    base_time = GST_ELEMENT_CAST (self)->base_time;
  }
  GST_OBJECT_UNLOCK (self);

  if (clock == NULL)
    return GST_CLOCK_TIME_NONE;

  now = gst_clock_get_time (clock);
  gst_object_unref (clock);

  if (!GST_CLOCK_TIME_IS_VALID (now) || !GST_CLOCK_TIME_IS_VALID (base_time)
      || now < base_time)
    return GST_CLOCK_TIME_NONE;
  return now - base_time;
}

/* Sets self->timestamp for the frames made from @buffer: its running time
 * in ms (wrapping), else the clock's, else the previous frame's */
static void
gst_ds_pay_update_timestamp (GstDsPay * self, GstBuffer * buffer)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstClockTime running_time = GST_CLOCK_TIME_NONE;

  if (self->segment.format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID (pts))
    running_time = gst_segment_to_running_time (&self->segment,
        GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (running_time))
    running_time = gst_ds_pay_clock_running_time (self);

  if (GST_CLOCK_TIME_IS_VALID (running_time))
    self->timestamp = (guint32) (running_time / GST_MSECOND);
}

/* Frames */

/* Whether some memory of @buffer must not be shared with another buffer
 * (memory a pool wants back, for instance) */
static gboolean
has_unshareable_memory (GstBuffer * buffer)
{
  guint i, n = gst_buffer_n_memory (buffer);

  for (i = 0; i < n; i++)
    if (GST_MEMORY_FLAG_IS_SET (gst_buffer_peek_memory (buffer, i),
            GST_MEMORY_FLAG_NO_SHARE))
      return TRUE;
  return FALSE;
}

/* Sends one frame of @type with @payload (transfer none, may be NULL),
 * with the timestamps of @input when given */
static GstFlowReturn
gst_ds_pay_push_frame (GstDsPay * self, GstBuffer * input, guint8 type,
    guint8 flags, guint16 width, guint16 height, GstBuffer * payload)
{
  DsHeader header = { 0, };
  GstBuffer *frame;

  if (payload != NULL && gst_buffer_get_size (payload) > DS_MAX_PAYLOAD_LEN)
    goto too_large;

  header.type = type;
  header.flags = flags;
  header.seq = self->seq++;
  header.timestamp = self->timestamp;
  header.width = width;
  header.height = height;

  if (payload != NULL && has_unshareable_memory (payload)) {
    /* copies the memories that cannot be shared, shares the others */
    GstBuffer *copy = gst_buffer_copy_region (payload, GST_BUFFER_COPY_MEMORY,
        0, -1);

    GST_LOG_OBJECT (self, "payload memory not shareable: copied");
    frame = gst_ds_frame_buffer_new (&header, copy);
    gst_buffer_unref (copy);
  } else {
    frame = gst_ds_frame_buffer_new (&header, payload);
  }

  if (input != NULL) {
    GST_BUFFER_PTS (frame) = GST_BUFFER_PTS (input);
    GST_BUFFER_DTS (frame) = GST_BUFFER_DTS (input);
    GST_BUFFER_DURATION (frame) = GST_BUFFER_DURATION (input);
    if (GST_BUFFER_FLAG_IS_SET (input, GST_BUFFER_FLAG_DISCONT))
      GST_BUFFER_FLAG_SET (frame, GST_BUFFER_FLAG_DISCONT);
  }
  if (type == DS_FRAME_SIGNAL_DIFF || ds_frame_needs_reference (&header))
    GST_BUFFER_FLAG_SET (frame, GST_BUFFER_FLAG_DELTA_UNIT);

  GST_LOG_OBJECT (self, "%s seq %u ts %u %ux%u, %u bytes",
      ds_frame_type_name (type), header.seq, header.timestamp, width, height,
      header.payload_len);

  return gst_pad_push (self->srcpad, frame);

  /* ERRORS */
too_large:
  {
    GST_ELEMENT_WARNING (self, STREAM, ENCODE,
        (_("A buffer too large for a ds-stream frame was skipped.")),
        ("buffer of %" G_GSIZE_FORMAT " bytes does not fit in a frame; "
            "skipped", gst_buffer_get_size (payload)));
    return GST_FLOW_OK;
  }
}

/* Video */

/* Byte offsets of red, green and blue in a pixel of a four-byte RGB
 * format; the fourth byte is alpha or padding. */
static void
gst_ds_pay_component_offsets (GstVideoFormat format, guint offsets[3])
{
  const GstVideoFormatInfo *finfo = gst_video_format_get_info (format);
  guint c;

  for (c = 0; c < 3; c++)
    offsets[c] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, c);
}

/* @buffer with its memories merged into one (a new reference): a
 * GstVideoFrame maps a plane in the one memory where it starts, so a
 * picture spread over several memories is merged first, as
 * gst_buffer_map() would */
static GstBuffer *
gst_ds_pay_merge_memories (GstBuffer * buffer)
{
  GstVideoMeta *meta;
  GstBuffer *merged;

  if (gst_buffer_n_memory (buffer) <= 1)
    return gst_buffer_ref (buffer);

  merged = gst_buffer_new ();
  gst_buffer_append_memory (merged, gst_buffer_get_all_memory (buffer));
  meta = gst_buffer_get_video_meta (buffer);
  if (meta)
    gst_buffer_add_video_meta_full (merged, meta->flags, meta->format,
        meta->width, meta->height, meta->n_planes, meta->offset, meta->stride);
  return merged;
}

/* A tight RGBA copy of @buffer, a picture of the caps (rows at the
 * strides and offset of its GstVideoMeta, if any) in any of the
 * four-byte RGB formats of the sink template, with every alpha byte 255:
 * pictures are opaque (docs/protocol.md §3). */
static GstBuffer *
gst_ds_pay_convert (GstDsPay * self, GstBuffer * buffer, GstVideoFormat format,
    guint width, guint rows)
{
  GstBuffer *packed, *merged;
  GstVideoFrame in;
  GstMapInfo out;
  gsize row = (gsize) width * 4;
  guint offsets[3];
  guint x, y;

  packed = gst_buffer_new_allocate (NULL, row * rows, NULL);
  if (packed == NULL)
    return NULL;

  merged = gst_ds_pay_merge_memories (buffer);
  if (!gst_video_frame_map (&in, &self->vinfo, merged, GST_MAP_READ)) {
    gst_buffer_unref (merged);
    gst_buffer_unref (packed);
    return NULL;
  }
  if (!gst_buffer_map (packed, &out, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&in);
    gst_buffer_unref (merged);
    gst_buffer_unref (packed);
    return NULL;
  }

  gst_ds_pay_component_offsets (format, offsets);
  for (y = 0; y < rows; y++) {
    const guint8 *src = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&in, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0);
    guint8 *dst = out.data + y * row;

    for (x = 0; x < width; x++, src += 4, dst += 4) {
      dst[0] = src[offsets[0]];
      dst[1] = src[offsets[1]];
      dst[2] = src[offsets[2]];
      dst[3] = 0xff;
    }
  }

  gst_buffer_unmap (packed, &out);
  GST_LOG_OBJECT (self, "converted %u rows of %s, stride %d", rows,
      gst_video_format_to_string (format),
      GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0));
  gst_video_frame_unmap (&in);
  gst_buffer_unref (merged);
  return packed;
}

/* A tight copy of an RGBA picture whose rows are padded: the input is
 * mapped as a GstVideoFrame (so with the strides and offsets of its
 * GstVideoMeta) and copied row by row into a picture of the caps' size */
static GstBuffer *
gst_ds_pay_repack (GstDsPay * self, GstBuffer * buffer, guint width,
    guint height)
{
  GstVideoInfo tight;
  GstVideoFrame in, out;
  GstBuffer *packed, *merged;
  gboolean ok = FALSE;

  gst_video_info_set_format (&tight, GST_VIDEO_FORMAT_RGBA, width, height);
  packed = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&tight), NULL);
  if (packed == NULL)
    return NULL;

  merged = gst_ds_pay_merge_memories (buffer);
  if (gst_video_frame_map (&in, &self->vinfo, merged, GST_MAP_READ)) {
    if (gst_video_frame_map (&out, &tight, packed, GST_MAP_WRITE)) {
      ok = gst_video_frame_copy (&out, &in);
      gst_video_frame_unmap (&out);
    }
    GST_LOG_OBJECT (self, "repacked %u rows of stride %d", height,
        GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0));
    gst_video_frame_unmap (&in);
  }
  gst_buffer_unref (merged);
  if (!ok)
    gst_clear_buffer (&packed);
  return packed;
}

static GstFlowReturn
gst_ds_pay_handle_video (GstDsPay * self, GstBuffer * buffer)
{
  guint width = GST_VIDEO_INFO_WIDTH (&self->vinfo);
  guint height = GST_VIDEO_INFO_HEIGHT (&self->vinfo);
  gsize row = (gsize) width * 4, size = row * height;
  gsize buffer_size = gst_buffer_get_size (buffer);
  GstVideoFormat format = GST_VIDEO_INFO_FORMAT (&self->vinfo);
  GstVideoMeta *meta = gst_buffer_get_video_meta (buffer);
  GstBuffer *payload;
  GstFlowReturn ret;
  gsize offset;
  gint stride;

  if (meta != NULL) {
    if (meta->format != format || meta->width != width
        || meta->height != height)
      goto meta_mismatch;
    offset = meta->offset[0];
    stride = meta->stride[0];
  } else {
    offset = GST_VIDEO_INFO_PLANE_OFFSET (&self->vinfo, 0);
    stride = GST_VIDEO_INFO_PLANE_STRIDE (&self->vinfo, 0);
  }

  if (stride <= 0 || (gsize) stride < row)
    goto bad_stride;
  if (offset > buffer_size || buffer_size - offset < row
      || (buffer_size - offset - row) / stride < height - 1)
    goto too_small;

  if (format != GST_VIDEO_FORMAT_RGBA) {
    /* BGRx, xRGB, BGRA…: RGBA with alpha 255, in one pass */
    payload = gst_ds_pay_convert (self, buffer, format, width, height);
  } else if ((gsize) stride == row || height == 1) {
    /* the rows are already tight: share the memory */
    if (offset == 0 && buffer_size == size)
      payload = gst_buffer_ref (buffer);
    else
      payload = gst_buffer_copy_region (buffer, GST_BUFFER_COPY_MEMORY,
          offset, size);
  } else {
    payload = gst_ds_pay_repack (self, buffer, width, height);
  }
  if (payload == NULL)
    goto no_payload;

  ret = gst_ds_pay_push_frame (self, buffer, DS_FRAME_PIXELS,
      DS_FLAG_KEYFRAME, self->width, self->height, payload);
  gst_buffer_unref (payload);
  gst_buffer_unref (buffer);

  return ret;

  /* ERRORS */
meta_mismatch:
  {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        (_("A picture that does not match the negotiated format was "
                "skipped.")),
        ("picture of %ux%u %s does not match the caps (%ux%u %s); skipped",
            meta->width, meta->height, gst_video_format_to_string
            (meta->format), width, height,
            gst_video_format_to_string (format)));
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
bad_stride:
  {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        (_("A picture with an invalid memory layout was skipped.")),
        ("stride %d is smaller than a row of %" G_GSIZE_FORMAT " bytes; "
            "skipped", stride, row));
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
too_small:
  {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        (_("A picture with an invalid memory layout was skipped.")),
        ("buffer of %" G_GSIZE_FORMAT " bytes is too small for a %ux%u "
            "picture (offset %" G_GSIZE_FORMAT ", stride %d); skipped",
            buffer_size, width, height, offset, stride));
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
no_payload:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        (_("Could not allocate memory for a picture.")),
        ("could not map or allocate a %ux%u picture", width, height));
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
}

/* Images */

static GstFlowReturn
gst_ds_pay_handle_image (GstDsPay * self, GstBuffer * buffer)
{
  guint8 head[32];
  gsize len;
  gint width = 0, height = 0;
  guint16 header_width = self->width, header_height = self->height;
  GstFlowReturn ret;

  /* the size from the PNG IHDR chunk or the WebP VP8/VP8L/VP8X header;
   * 0 when the first bytes do not tell */
  len = gst_buffer_extract (buffer, 0, head, sizeof (head));
  if (ds_image_sniff (head, len, &width, &height) == NULL)
    goto not_an_image;

  if (width > 0 && height > 0) {
    if (width <= G_MAXUINT16 && height <= G_MAXUINT16) {
      header_width = width;
      header_height = height;
    } else {
      GST_DEBUG_OBJECT (self, "image of %dx%d: size not in the header",
          width, height);
      header_width = header_height = 0;
    }
  }

  ret = gst_ds_pay_push_frame (self, buffer, DS_FRAME_COMPRESSED_PIXELS,
      DS_FLAG_KEYFRAME, header_width, header_height, buffer);
  gst_buffer_unref (buffer);

  return ret;

  /* ERRORS */
not_an_image:
  {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        (_("An image that is neither PNG nor WebP was skipped.")),
        ("buffer of %" G_GSIZE_FORMAT " bytes is neither a PNG nor a WebP "
            "image; skipped", gst_buffer_get_size (buffer)));
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
}

/* Audio */

static GstFlowReturn
gst_ds_pay_handle_audio (GstDsPay * self, GstBuffer * buffer)
{
  gsize size = gst_buffer_get_size (buffer);
  GstFlowReturn ret;
  guint8 type;

  if (self->media == GST_DS_PAY_MEDIA_AUDIO_PCM) {
    if (size % (4 * (gsize) self->width) != 0)
      goto misaligned;
    type = DS_FRAME_AUDIO_PCM;
  } else {
    type = DS_FRAME_AUDIO_COMPRESSED;
  }

  ret = gst_ds_pay_push_frame (self, buffer, type, 0, self->width,
      self->height, buffer);
  gst_buffer_unref (buffer);

  return ret;

  /* ERRORS */
misaligned:
  {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        (_("An audio buffer that does not hold whole samples was skipped.")),
        ("audio buffer of %" G_GSIZE_FORMAT " bytes is not a whole number "
            "of %u-channel float samples; skipped", size, self->width));
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
}

/* Encoded video */

/* One access unit per EncodedVideo frame: the codec byte and the reserved
 * byte in a memory of their own, then the unit's memories, shared */
static GstFlowReturn
gst_ds_pay_handle_encoded (GstDsPay * self, GstBuffer * buffer)
{
  gboolean keyframe = !GST_BUFFER_FLAG_IS_SET (buffer,
      GST_BUFFER_FLAG_DELTA_UNIT);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstBuffer *payload;
  GstFlowReturn ret;
  guint8 prefix[DS_ENCODED_VIDEO_PREFIX_SIZE] = { self->codec, 0 };

  if (gst_buffer_get_size (buffer) == 0)
    goto empty;

  /* the protocol carries no decode time: units go in decode order and
   * are shown in it, so a presentation time that goes back (B-frames)
   * is shown out of order */
  if (self->segment.format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID (pts)) {
    GstClockTime running_time = gst_segment_to_running_time (&self->segment,
        GST_FORMAT_TIME, pts);

    if (GST_CLOCK_TIME_IS_VALID (running_time)) {
      if (GST_CLOCK_TIME_IS_VALID (self->last_running_time) &&
          running_time < self->last_running_time && !self->warned_reorder) {
        self->warned_reorder = TRUE;
        GST_ELEMENT_WARNING (self, STREAM, FORMAT,
            (_("The encoded video has frames out of order (B-frames), "
                    "which a ds-stream cannot carry: receivers will show "
                    "them in the wrong order.")),
            ("presentation time %" GST_TIME_FORMAT " after %" GST_TIME_FORMAT
                "; the protocol has no decode time: configure the encoder "
                "without B-frames (x264enc bframes=0, x265enc "
                "option-string=bframes=0)", GST_TIME_ARGS (running_time),
                GST_TIME_ARGS (self->last_running_time)));
      }
      self->last_running_time = running_time;
    }
  }

  payload = gst_buffer_new_memdup (prefix, sizeof (prefix));
  payload = gst_buffer_append (payload, gst_buffer_ref (buffer));
  ret = gst_ds_pay_push_frame (self, buffer, DS_FRAME_ENCODED_VIDEO,
      keyframe ? DS_FLAG_KEYFRAME : 0, self->width, self->height, payload);
  gst_buffer_unref (payload);
  gst_buffer_unref (buffer);

  return ret;

  /* ERRORS */
empty:
  {
    GST_DEBUG_OBJECT (self, "empty access unit skipped");
    gst_buffer_unref (buffer);
    return GST_FLOW_OK;
  }
}

/* Signals */

static gboolean
strv_equal (gchar ** a, gchar ** b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_strv_equal ((const gchar * const *) a, (const gchar * const *) b);
}

static GstFlowReturn
gst_ds_pay_push_json (GstDsPay * self, GstBuffer * input, guint8 type,
    guint8 flags, gchar * json, gsize len)
{
  GstBuffer *payload = gst_buffer_new_wrapped (json, len);
  GstFlowReturn ret;

  ret = gst_ds_pay_push_frame (self, input, type, flags, 0, 0, payload);
  gst_buffer_unref (payload);

  return ret;
}

/* Applies one line of updates and sends what it changed */
static GstFlowReturn
gst_ds_pay_send_signals (GstDsPay * self, GstBuffer * input,
    JsonObject * updates)
{
  gchar **signals;
  guint sync_interval;
  gboolean requested, sync, names_changed;
  JsonObject *changed;
  GstFlowReturn ret = GST_FLOW_OK;
  gchar *json;
  gsize len;

  GST_OBJECT_LOCK (self);
  signals = g_strdupv (self->signals);
  sync_interval = self->sync_interval;
  requested = self->sync_requested;
  GST_OBJECT_UNLOCK (self);

  changed = ds_signal_state_update_versioned (self->signal_state, updates,
      (const gchar * const *) signals);
  if (changed == NULL && !requested) {
    GST_LOG_OBJECT (self, "line %" G_GUINT64_FORMAT " changes nothing",
        self->line_number);
    goto done;
  }

  names_changed = !self->announced
      || !strv_equal (self->announced_signals, signals);
  sync = !self->synced || requested || names_changed
      || (sync_interval > 0 && self->diffs_since_sync + 1 >= sync_interval);

  if (names_changed) {
    g_strfreev (self->announced_signals);
    self->announced_signals = g_strdupv (signals);
    self->announced = TRUE;
    if (signals != NULL) {
      json = ds_schema_build ((const gchar * const *) signals, "signal", &len);
      ret = gst_ds_pay_push_json (self, input, DS_FRAME_SCHEMA_ANNOUNCE, 0,
          json, len);
      if (ret != GST_FLOW_OK)
        goto done;
    }
  }

  if (sync) {
    json = ds_signal_state_to_json (self->signal_state,
        (const gchar * const *) signals, &len);
    self->synced = TRUE;
    self->diffs_since_sync = 0;
    GST_OBJECT_LOCK (self);
    self->sync_requested = FALSE;
    GST_OBJECT_UNLOCK (self);
    ret = gst_ds_pay_push_json (self, input, DS_FRAME_SIGNAL_SYNC,
        DS_FLAG_KEYFRAME, json, len);
  } else {
    json = ds_signal_object_to_json (changed, &len);
    self->diffs_since_sync++;
    ret = gst_ds_pay_push_json (self, input, DS_FRAME_SIGNAL_DIFF, 0, json,
        len);
  }

done:
  if (changed != NULL)
    json_object_unref (changed);
  g_strfreev (signals);

  return ret;
}

/* Parses the complete line held in self->line and sends what it changed */
static GstFlowReturn
gst_ds_pay_handle_line (GstDsPay * self, GstBuffer * input)
{
  JsonObject *updates;
  GError *error = NULL;
  GstFlowReturn ret;
  const gchar *text = self->line->str;
  gsize len = self->line->len;

  self->line_number++;

  /* blanks around the object (a '\r' before the newline, say) are not
   * part of it; a NUL byte is, and makes the line bad */
  while (len > 0 && g_ascii_isspace (text[0])) {
    text++;
    len--;
  }
  while (len > 0 && g_ascii_isspace (text[len - 1]))
    len--;
  if (len == 0)
    return GST_FLOW_OK;

  updates = ds_signal_parse_object (text, len, &error);
  if (updates == NULL)
    goto bad_line;

  ret = gst_ds_pay_send_signals (self, input, updates);
  json_object_unref (updates);

  return ret;

  /* ERRORS */
bad_line:
  {
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        (_("A line of signal data that is not a JSON object was skipped.")),
        ("signal line %" G_GUINT64_FORMAT " is not a JSON object (%s); "
            "skipped", self->line_number, error->message));
    g_clear_error (&error);
    return GST_FLOW_OK;
  }
}

/* Cuts the bytes of @buffer into lines; @buffer is the input the frames
 * of lines ending in it take their timestamps from */
static GstFlowReturn
gst_ds_pay_handle_signal_bytes (GstDsPay * self, GstBuffer * buffer)
{
  GstFlowReturn ret = GST_FLOW_OK;
  guint max_line_length;
  GstMapInfo map;
  const guint8 *data;
  gsize left;

  GST_OBJECT_LOCK (self);
  max_line_length = self->max_line_length;
  GST_OBJECT_UNLOCK (self);

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    goto map_failed;

  data = map.data;
  left = map.size;
  while (left > 0 && ret == GST_FLOW_OK) {
    const guint8 *newline = memchr (data, '\n', left);
    gsize chunk = newline ? (gsize) (newline - data) : left;

    if (!self->skipping_line) {
      if (chunk > max_line_length || self->line->len > max_line_length - chunk) {
        GST_ELEMENT_WARNING (self, STREAM, DECODE,
            (_("A line of signal data that is too long was skipped.")),
            ("signal line %" G_GUINT64_FORMAT " is longer than %u bytes; "
                "skipped", self->line_number + 1, max_line_length));
        self->skipping_line = TRUE;
        g_string_truncate (self->line, 0);
      } else {
        g_string_append_len (self->line, (const gchar *) data, chunk);
      }
    }

    if (newline == NULL)
      break;

    if (self->skipping_line) {
      self->line_number++;
      self->skipping_line = FALSE;
    } else {
      ret = gst_ds_pay_handle_line (self, buffer);
    }
    g_string_truncate (self->line, 0);
    data = newline + 1;
    left -= chunk + 1;
  }

  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);

  return ret;

  /* ERRORS */
map_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, READ,
        (_("Could not read the signal data.")),
        ("could not map a signal buffer of %" G_GSIZE_FORMAT " bytes",
            gst_buffer_get_size (buffer)));
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
}

static GstFlowReturn
gst_ds_pay_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstDsPay *self = GST_DS_PAY (parent);

  if (!self->have_caps)
    goto not_negotiated;

  gst_ds_pay_update_timestamp (self, buffer);

  switch (self->media) {
    case GST_DS_PAY_MEDIA_VIDEO:
      return gst_ds_pay_handle_video (self, buffer);
    case GST_DS_PAY_MEDIA_IMAGE:
      return gst_ds_pay_handle_image (self, buffer);
    case GST_DS_PAY_MEDIA_AUDIO_PCM:
    case GST_DS_PAY_MEDIA_AUDIO_OPUS:
      if (gst_buffer_get_size (buffer) == 0) {
        gst_buffer_unref (buffer);
        return GST_FLOW_OK;
      }
      return gst_ds_pay_handle_audio (self, buffer);
    case GST_DS_PAY_MEDIA_SIGNAL:
      return gst_ds_pay_handle_signal_bytes (self, buffer);
    case GST_DS_PAY_MEDIA_ENCODED:
      return gst_ds_pay_handle_encoded (self, buffer);
    case GST_DS_PAY_MEDIA_NONE:
      break;
  }

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("No caps set before data: the input format is unknown.")),
        ("a buffer of %" G_GSIZE_FORMAT " bytes came before any usable caps "
            "event", gst_buffer_get_size (buffer)));
    gst_buffer_unref (buffer);
    return GST_FLOW_NOT_NEGOTIATED;
  }
}

/* Caps */

static const struct
{
  const gchar *media_type;
  const gchar *name;            /* the `codec` field of the source caps */
  DsCodec codec;
} encoded_formats[] = {
  {"video/x-h264", "h264", DS_CODEC_H264},
  {"video/x-h265", "h265", DS_CODEC_H265},
  {"video/x-vp8", "vp8", DS_CODEC_VP8},
  {"video/x-vp9", "vp9", DS_CODEC_VP9},
  {"video/x-av1", "av1", DS_CODEC_AV1},
};

static gint
encoded_format_index (const gchar * media_type)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (encoded_formats); i++)
    if (g_str_equal (media_type, encoded_formats[i].media_type))
      return i;
  return -1;
}

/* What is wrong with encoded video caps @s that dspay cannot take, with
 * what to do about it (newly allocated), or NULL when nothing dspay can
 * tell is */
static gchar *
gst_ds_pay_encoded_caps_problem (const GstStructure * s)
{
  const gchar *name = gst_structure_get_name (s);
  const gchar *format = gst_structure_get_string (s, "stream-format");
  const gchar *alignment = gst_structure_get_string (s, "alignment");
  gint width = 0, height = 0;

  if (g_str_equal (name, "video/x-h264") || g_str_equal (name, "video/x-h265")) {
    const gchar *codec = g_str_equal (name, "video/x-h264") ? "h264" : "h265";

    if ((format && !g_str_equal (format, "byte-stream")) ||
        (alignment && !g_str_equal (alignment, "au")))
      return g_strdup_printf ("%s in stream-format %s, alignment %s: dspay "
          "takes Annex B access units with their parameter sets in band; "
          "use %sparse config-interval=-1 ! %s,stream-format=byte-stream,"
          "alignment=au", name, format ? format : "(any)",
          alignment ? alignment : "(any)", codec, name);
  } else if (g_str_equal (name, "video/x-av1")) {
    if ((format && !g_str_equal (format, "obu-stream")) ||
        (alignment && !g_str_equal (alignment, "tu")))
      return g_strdup_printf ("video/x-av1 in stream-format %s, alignment "
          "%s: dspay takes temporal units of low-overhead OBUs; use av1parse "
          "! video/x-av1,stream-format=obu-stream,alignment=tu",
          format ? format : "(any)", alignment ? alignment : "(any)");
  } else if (g_str_equal (name, "video/x-vp9")) {
    if (alignment && !g_str_equal (alignment, "super-frame"))
      return g_strdup_printf ("video/x-vp9 in alignment %s: dspay takes "
          "whole frames (a superframe as one); use vp9parse ! "
          "video/x-vp9,alignment=super-frame", alignment);
  } else if (!g_str_equal (name, "video/x-vp8")) {
    return NULL;
  }
  if (gst_structure_get_int (s, "width", &width) &&
      gst_structure_get_int (s, "height", &height) &&
      (width < 1 || width > G_MAXUINT16 || height < 1 || height > G_MAXUINT16))
    return g_strdup_printf ("%s of %dx%d: the frame header holds 1 to "
        "65535 pixels each way", name, width, height);
  return NULL;
}

/* Reports encoded video caps dspay cannot take (once per negotiation
 * attempt that reaches it), saying what to use instead */
static void
gst_ds_pay_refuse_encoded_caps (GstDsPay * self, const gchar * problem)
{
  GST_ELEMENT_WARNING (self, CORE, NEGOTIATION,
      (_("This encoded video cannot be sent as a ds-stream.")),
      ("%s", problem));
}

static gboolean
gst_ds_pay_set_caps (GstDsPay * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_name (s);
  GstDsPayMedia media;
  GstCaps *src_caps;
  gint width = 0, height = 0, rate = 0, channels = 0, fps_n = 0, fps_d = 1;
  gboolean ret;

  if (g_str_equal (name, "video/x-raw")) {
    if (!gst_video_info_from_caps (&self->vinfo, caps))
      goto bad_caps;
    media = GST_DS_PAY_MEDIA_VIDEO;
    width = GST_VIDEO_INFO_WIDTH (&self->vinfo);
    height = GST_VIDEO_INFO_HEIGHT (&self->vinfo);
    fps_n = GST_VIDEO_INFO_FPS_N (&self->vinfo);
    fps_d = GST_VIDEO_INFO_FPS_D (&self->vinfo);
    src_caps = gst_caps_new_simple (GST_DS_STREAM_MEDIA_TYPE,
        "media", G_TYPE_STRING, "video", "width", G_TYPE_INT, width,
        "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, fps_n,
        fps_d, NULL);
  } else if (g_str_equal (name, "image/png")
      || g_str_equal (name, "image/webp")) {
    media = GST_DS_PAY_MEDIA_IMAGE;
    gst_structure_get_int (s, "width", &width);
    gst_structure_get_int (s, "height", &height);
    if (width < 0 || width > G_MAXUINT16 || height < 0 || height > G_MAXUINT16)
      width = height = 0;
    src_caps = gst_caps_new_simple (GST_DS_STREAM_MEDIA_TYPE,
        "media", G_TYPE_STRING, "image", NULL);
    if (gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d))
      gst_caps_set_simple (src_caps, "framerate", GST_TYPE_FRACTION, fps_n,
          fps_d, NULL);
  } else if (g_str_equal (name, "audio/x-raw")) {
    if (!gst_structure_get_int (s, "rate", &rate)
        || !gst_structure_get_int (s, "channels", &channels))
      goto bad_caps;
    media = GST_DS_PAY_MEDIA_AUDIO_PCM;
    width = channels;
    height = rate;
  } else if (g_str_equal (name, "audio/x-opus")) {
    if (!gst_structure_get_int (s, "channels", &channels))
      goto bad_caps;
    media = GST_DS_PAY_MEDIA_AUDIO_OPUS;
    rate = OPUS_RATE;
    width = channels;
    height = rate;
  } else if (g_str_equal (name, GST_DS_SIGNAL_MEDIA_TYPE)) {
    media = GST_DS_PAY_MEDIA_SIGNAL;
    src_caps = gst_caps_new_simple (GST_DS_STREAM_MEDIA_TYPE,
        "media", G_TYPE_STRING, "signal", NULL);
  } else if (encoded_format_index (name) >= 0) {
    gint i = encoded_format_index (name);
    gchar *problem = gst_ds_pay_encoded_caps_problem (s);

    if (problem != NULL) {
      gst_ds_pay_refuse_encoded_caps (self, problem);
      g_free (problem);
      goto bad_caps;
    }
    if (!gst_structure_get_int (s, "width", &width) ||
        !gst_structure_get_int (s, "height", &height))
      goto no_size;
    media = GST_DS_PAY_MEDIA_ENCODED;
    self->codec = encoded_formats[i].codec;
    if (!gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d)) {
      fps_n = 0;
      fps_d = 1;
    }
    src_caps = gst_caps_new_simple (GST_DS_STREAM_MEDIA_TYPE,
        "media", G_TYPE_STRING, "video", "codec", G_TYPE_STRING,
        encoded_formats[i].name, "width", G_TYPE_INT, width,
        "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, fps_n,
        fps_d, NULL);
  } else {
    goto bad_caps;
  }

  if (media == GST_DS_PAY_MEDIA_AUDIO_PCM
      || media == GST_DS_PAY_MEDIA_AUDIO_OPUS) {
    if (channels < 1 || channels > G_MAXUINT16 || rate < 1
        || rate > G_MAXUINT16)
      goto bad_caps;
    src_caps = gst_caps_new_simple (GST_DS_STREAM_MEDIA_TYPE,
        "media", G_TYPE_STRING, "audio", "rate", G_TYPE_INT, rate,
        "channels", G_TYPE_INT, channels, NULL);
  }

  if (media != self->media && media == GST_DS_PAY_MEDIA_SIGNAL)
    gst_ds_pay_reset_signals (self);

  GST_DEBUG_OBJECT (self, "%" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, caps,
      src_caps);

  self->media = media;
  self->width = width;
  self->height = height;
  GST_OBJECT_LOCK (self);
  self->encoded = media == GST_DS_PAY_MEDIA_ENCODED;
  GST_OBJECT_UNLOCK (self);

  ret = gst_pad_set_caps (self->srcpad, src_caps);
  gst_caps_unref (src_caps);
  self->have_caps = ret;

  return ret;

  /* ERRORS */
bad_caps:
  {
    GST_WARNING_OBJECT (self, "caps not usable: %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
no_size:
  {
    GST_ELEMENT_WARNING (self, CORE, NEGOTIATION,
        (_("This encoded video cannot be sent as a ds-stream.")),
        ("%s caps without a width and height, which every EncodedVideo "
            "frame carries; put the codec's parser (h264parse, vp9parse, "
            "av1parse...) before dspay", name));
    return FALSE;
  }
}

/* Events and queries */

static GstFlowReturn
gst_ds_pay_finish (GstDsPay * self)
{
  GstFlowReturn ret = GST_FLOW_OK;

  /* a last line without its newline */
  if (self->media == GST_DS_PAY_MEDIA_SIGNAL && !self->skipping_line
      && self->line->len > 0)
    ret = gst_ds_pay_handle_line (self, NULL);
  g_string_truncate (self->line, 0);
  self->skipping_line = FALSE;

  if (!self->have_caps)
    return ret;

  GST_DEBUG_OBJECT (self, "sending End");
  return gst_ds_pay_push_frame (self, NULL, DS_FRAME_END, 0, 0, 0, NULL);
}

static gboolean
gst_ds_pay_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstDsPay *self = GST_DS_PAY (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gboolean ret;

      gst_event_parse_caps (event, &caps);
      ret = gst_ds_pay_set_caps (self, caps);
      gst_event_unref (event);
      return ret;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      if (self->segment.format != GST_FORMAT_TIME) {
        GstSegment segment;
        guint32 seqnum = gst_event_get_seqnum (event);

        /* frames carry time, whatever the input is counted in */
        GST_DEBUG_OBJECT (self, "%s segment, sending a time segment",
            gst_format_get_name (self->segment.format));
        gst_segment_init (&segment, GST_FORMAT_TIME);
        gst_event_unref (event);
        event = gst_event_new_segment (&segment);
        gst_event_set_seqnum (event, seqnum);
      }
      break;
    case GST_EVENT_STREAM_START:
      /* a new stream: its receivers start from nothing */
      gst_ds_pay_reset_signals (self);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init (&self->segment, GST_FORMAT_UNDEFINED);
      g_string_truncate (self->line, 0);
      self->skipping_line = FALSE;
      self->synced = FALSE;
      break;
    case GST_EVENT_EOS:
      gst_ds_pay_finish (self);
      break;
    default:
      break;
  }

  return gst_pad_event_default (pad, parent, event);
}

/* The media of each structure of the sink template, in its order */
static const gchar *const sink_template_media[] = {
  "video", "image", "image", "audio", "audio", "signal",
  "video", "video", "video", "video", "video", "video"
};

/* The sink template, less the kinds of media downstream refuses (a
 * capsfilter with media=audio after dspay makes upstream pick audio) */
static GstCaps *
gst_ds_pay_sink_caps (GstDsPay * self, GstPad * pad, GstCaps * filter)
{
  GstCaps *template_caps = gst_pad_get_pad_template_caps (pad);
  GstCaps *peer_caps = NULL, *caps;
  GstQuery *peer_query = gst_query_new_caps (NULL);
  guint i, n;

  if (gst_pad_peer_query (self->srcpad, peer_query))
    gst_query_parse_caps_result (peer_query, &peer_caps);

  if (peer_caps == NULL || gst_caps_is_any (peer_caps)) {
    caps = gst_caps_ref (template_caps);
  } else {
    caps = gst_caps_new_empty ();
    n = MIN (gst_caps_get_size (template_caps),
        G_N_ELEMENTS (sink_template_media));
    for (i = 0; i < n; i++) {
      GstCaps *kind = gst_caps_new_simple (GST_DS_STREAM_MEDIA_TYPE,
          "media", G_TYPE_STRING, sink_template_media[i], NULL);

      if (gst_caps_can_intersect (peer_caps, kind))
        gst_caps_append_structure (caps,
            gst_structure_copy (gst_caps_get_structure (template_caps, i)));
      gst_caps_unref (kind);
    }
  }
  gst_query_unref (peer_query);
  gst_caps_unref (template_caps);

  if (filter != NULL) {
    GstCaps *filtered = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = filtered;
  }

  return caps;
}

static gboolean
gst_ds_pay_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstDsPay *self = GST_DS_PAY (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps;

      gst_query_parse_caps (query, &filter);
      caps = gst_ds_pay_sink_caps (self, pad, filter);
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:{
      GstCaps *caps;
      gchar *problem = NULL;

      /* encoded video in a layout dspay cannot take: say what to use */
      gst_query_parse_accept_caps (query, &caps);
      if (gst_caps_is_fixed (caps))
        problem = gst_ds_pay_encoded_caps_problem (gst_caps_get_structure
            (caps, 0));
      if (problem == NULL)
        return gst_pad_query_default (pad, parent, query);
      gst_ds_pay_refuse_encoded_caps (self, problem);
      gst_query_set_accept_caps_result (query, FALSE);
      g_free (problem);
      return TRUE;
    }
    case GST_QUERY_ALLOCATION:{
      GstCaps *caps;

      /* padded pictures are fine: they are repacked here rather than
       * copied upstream. Other media have no use for video meta */
      gst_query_parse_allocation (query, &caps, NULL);
      if (caps != NULL && !gst_caps_is_empty (caps)
          && gst_structure_has_name (gst_caps_get_structure (caps, 0),
              "video/x-raw"))
        gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static void
gst_ds_pay_request_sync (GstDsPay * self, const gchar * why)
{
  GST_DEBUG_OBJECT (self, "keyframe requested (%s)", why);

  GST_OBJECT_LOCK (self);
  self->sync_requested = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_ds_pay_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstDsPay *self = GST_DS_PAY (parent);
  gboolean keyframe_request = FALSE, encoded;
  const gchar *why = NULL;
  guint8 input_type;

  if (gst_video_event_is_force_key_unit (event)
      && gst_video_event_parse_upstream_force_key_unit (event, NULL, NULL,
          NULL)) {
    keyframe_request = TRUE;
    why = "GstForceKeyUnit";
  } else if (gst_ds_input_event_parse (event, &input_type, NULL)
      && input_type == DS_INPUT_KEYFRAME_REQUEST) {
    keyframe_request = TRUE;
    why = "KeyframeRequest";
  }

  GST_OBJECT_LOCK (self);
  encoded = self->encoded;
  GST_OBJECT_UNLOCK (self);
  if (keyframe_request && encoded) {
    /* the encoder makes keyframes: the request goes on to it */
    GST_DEBUG_OBJECT (self, "keyframe requested (%s): asking the encoder", why);
    if (!gst_video_event_is_force_key_unit (event)) {
      gst_event_unref (event);
      event = gst_video_event_new_upstream_force_key_unit
          (GST_CLOCK_TIME_NONE, TRUE, 0);
    }
    return gst_pad_push_event (self->sinkpad, event);
  }
  if (keyframe_request) {
    /* every picture is a keyframe; for signals the next line sends the
     * full state */
    gst_ds_pay_request_sync (self, why);
    gst_event_unref (event);
    return TRUE;
  }

  return gst_pad_event_default (pad, parent, event);
}

static GstStateChangeReturn
gst_ds_pay_change_state (GstElement * element, GstStateChange transition)
{
  GstDsPay *self = GST_DS_PAY (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      gst_ds_pay_reset (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_ds_pay_reset (self);
      break;
    default:
      break;
  }

  return ret;
}

/* Properties */

static void
gst_ds_pay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDsPay *self = GST_DS_PAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SYNC_INTERVAL:
      self->sync_interval = g_value_get_uint (value);
      break;
    case PROP_SIGNALS:
      g_strfreev (self->signals);
      self->signals = gst_ds_value_array_to_strv (value);
      break;
    case PROP_MAX_LINE_LENGTH:
      self->max_line_length = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ds_pay_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstDsPay *self = GST_DS_PAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SYNC_INTERVAL:
      g_value_set_uint (value, self->sync_interval);
      break;
    case PROP_SIGNALS:
      gst_ds_value_array_set_strv (value,
          (const gchar * const *) self->signals);
      break;
    case PROP_MAX_LINE_LENGTH:
      g_value_set_uint (value, self->max_line_length);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}
