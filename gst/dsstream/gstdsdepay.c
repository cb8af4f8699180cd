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
 * SECTION:element-dsdepay
 * @title: dsdepay
 * @see_also: dspay, dsdelta, dsstreamsrc
 *
 * dsdepay turns a ds-stream (`application/x-ds-stream`) back into media.
 * The input is either one frame per buffer (from dspay, dsdelta or
 * dsstreamsrc) or any byte stream of concatenated frames split and merged
 * anywhere (a `.ds` recording read by filesrc, a TCP stream); both are
 * handled the same way, and a buffer that holds exactly one frame is
 * depayloaded without copying.
 *
 * One sometimes pad is added per kind of media met, so a channel that
 * carries everything can be split with one element. More kinds may appear
 * at any time, so dsdepay never signals no-more-pads, and what goes to a
 * pad nobody linked is dropped without an error as long as another pad
 * is linked (`... ! dsdepay ! videoconvert ! ...` links the video pad by
 * itself when it appears and ignores the others). When no source pad is
 * linked at all, dsdepay returns `not-linked` upstream like a demuxer,
 * except while the only pads are the sparse `signal` and `image` ones (a
 * channel's catch-up sends its signal state before the first picture):
 *
 * * `video`: `video/x-raw,format=RGBA` from Pixels frames (a sub-buffer of
 *   the input, no copy, when the picture is opaque), DeltaPixels frames
 *   (decoded against the last picture, with or without FLAG_KEYFRAME and
 *   FLAG_COMPRESSED, i.e. one zstd frame of the run-length code) and
 *   MotionDeltaPixels frames (rectangles of the last picture moved, then
 *   the run-length code; with or without FLAG_COMPRESSED) into
 *   buffers of the pool decided with downstream (an ALLOCATION query:
 *   downstream's pool when it reads #GstVideoMeta, whatever its row
 *   stride, else a #GstVideoBufferPool of dsdepay's own). The caps change
 *   with the picture size. The framerate is taken from the input caps when they carry one,
 *   else it is measured from the frame timestamps (the protocol has no
 *   framerate field): 0/1 (variable) for the first 8 pictures, which are
 *   not held back, then the measured rate (the regular intervals of the
 *   last 16 pictures, snapped to a common rate: 30/1, 25/1, 60/1...);
 *   a different rate that lasts 8 pictures gives new caps, jitter does
 *   not. A framerate change in the input caps gives new caps at the next
 *   picture. Pictures are opaque (docs/protocol.md
 *   §3): every picture leaves with alpha 255, whatever the alpha bytes on
 *   the wire (a screencast sent as `video/x-raw,format=RGBA` after
 *   `videoconvert` carries the X screen's padding byte there, 0 in black
 *   areas), so `dsdepay ! pngenc` writes what the source showed.
 *   EncodedVideo frames (issue 14) go to the same pad with the caps of
 *   their codec: `video/x-h264` or `video/x-h265`
 *   (`stream-format=byte-stream,alignment=au`), `video/x-vp8`,
 *   `video/x-vp9`, `video/x-av1` (`stream-format=obu-stream,alignment=tu`),
 *   with the width, height and input framerate (H.264: also the profile
 *   and level of the keyframe's SPS, so `dsdepay ! openh264dec` links);
 *   one buffer per access
 *   unit (no copy), #GST_BUFFER_FLAG_DELTA_UNIT on units that are not
 *   keyframes. Delta units before the first keyframe unit, after a gap on
 *   the picture stream, a Keyframe frame or a malformed picture are
 *   skipped (counted as dropped, a keyframe requested upstream) until the
 *   next keyframe unit; a new codec or size gives new caps. Link a
 *   decoder: `dsdepay ! decodebin`, or `dsdepay ! h264parse ! avdec_h264`.
 * * `image`: `image/png` or `image/webp` from CompressedPixels frames,
 *   told apart by their signature. They are not a delta reference.
 * * `audio`: `audio/x-raw,format=F32LE,layout=interleaved` from AudioPcm
 *   frames, `audio/x-opus` (mono or stereo) from AudioCompressed frames.
 * * `signal`: `application/x-ds-signal`: for every SignalSync or
 *   SignalDiff frame, the whole merged signal state as one JSON object and
 *   a newline (JSON Lines), with `_v` versions when the source sends them.
 *
 * dsdepay is plugged by decodebin (rank secondary, after dsparse), so
 * playbin and gst-play-1.0 play a recording or a channel by its URL
 * (dsstreamsrc is the ws:// source). Inside a decodebin, uridecodebin or
 * parsebin the `signal` pad is not added: no player takes signals, and a
 * decodebin would warn that no decoder exists for them. A channel that
 * carries signals only (5 s of frame time with no picture or sound)
 * posts one clear error there instead of decodebin's "missing plug-in".
 *
 * A SchemaAnnounce frame is posted as an element message named
 * `ds-schema` with a `signals` field (array of strings); a Haptic frame as
 * an element message named `ds-haptic` (`duration` in ms, `intensity`
 * 0-255, `timestamp`). Neural frames, SubscribeFilter, input frames and
 * Ping are skipped. A Keyframe frame (0xF0) resets the picture reference
 * and the signal state.
 *
 * An End frame sends EOS on every source pad. The stream may go on (a
 * live channel gets a new stream after End): the next media frame starts
 * a new stream on the same pads, with a new stream-start (new group id),
 * caps and segment, and the picture, signal and sequence state start
 * again from scratch; frame timestamps go on from the End frame's time.
 * (gst-launch-1.0 stops at the first EOS; an application may keep its
 * pipeline running.) The same happens when upstream starts a new stream
 * (stream-start) after an EOS. A recording made by funnelling several
 * dspay into one file holds one End per dspay, and the first one ends
 * every pad: record each dspay into a file of its own.
 *
 * When the input ends before any picture, sound or signal came (so no
 * source pad exists), dsdepay posts an error, like a demuxer that found
 * no streams, and drops the EOS, which has nowhere to go. (gst-launch-1.0
 * 1.22 may then hang now and then, with dsdepay as with qtdemux or
 * matroskademux: an error posted before its main loop runs is lost.)
 *
 * ## Lost frames and keyframe requests
 *
 * A sender's seq counts per stream, and a stream is one kind of media
 * (docs/protocol.md §2): pictures (Pixels, DeltaPixels and
 * CompressedPixels share one counter), audio, signals (SignalSync,
 * SignalDiff, SchemaAnnounce) and other (Haptic, Neural*); Keyframe, Ping
 * and End are not counted. dsdepay tracks the four counters apart, so
 * interleaved streams are no gap, and counts and logs the frames missing
 * on each. A DeltaPixels frame that cannot be decoded into a correct
 * picture (no reference, a size other than the reference's, a decoding
 * error, or a sequence gap on the picture stream before it) is never shown: pictures are dropped
 * until the next keyframe (Pixels, or DeltaPixels with FLAG_KEYFRAME). With
 * #GstDsDepay:request-keyframe, a `GstForceKeyUnit` event is sent upstream
 * (dsstreamsrc turns it into a KeyframeRequest for the source) and
 * repeated after 100 ms, 200 ms, ... up to every 2 s, by a timer on the
 * system clock (not the pipeline clock, which may stand still), so
 * requests go on even when no more frames arrive or the pipeline is
 * paused, until a keyframe comes.
 *
 * The signal state is never silently wrong: a SignalDiff after lost
 * frames on the signal stream, or after a flush (which also forgets the
 * state), merges onto a state that may be stale. dsdepay then posts a
 * warning, counts it (`signal-incomplete` in #GstDsDepay:stats), asks
 * upstream for a SignalSync with a `GstForceKeyUnit` event (dspay answers
 * it with a SignalSync, dsstreamsrc turns it into a KeyframeRequest), and
 * goes on outputting the merged state, each line flagged
 * %GST_BUFFER_FLAG_CORRUPTED, until the next SignalSync makes it whole. A
 * SignalSync after a gap (what the relay sends a slow receiver) is no
 * problem.
 *
 * ## Timestamps
 *
 * With #GstDsDepay:timestamp-mode `auto` (the default), when the input
 * has a TIME segment (dsstreamsrc, dspay, dsdelta), the input segment is
 * kept and the PTS of each frame is the PTS of the input buffer it starts
 * in; frames that start inside a buffer keep the same offset between
 * input PTS and frame timestamp as the last frame that started a buffer.
 * When the input has no TIME segment (filesrc), or no timestamps at all,
 * the PTS is the frame timestamp (u32 milliseconds, unwrapped to 64 bits)
 * relative to the first frame, in a segment starting at 0.
 *
 * ## Malformed input
 *
 * A frame that is malformed (truncated, unknown type, payload not fitting
 * its type, width×height×4 not matching, bad JSON, bad run-length code,
 * ...: every header goes through the protocol library's checks) or
 * larger than #GstDsDepay:max-frame-size is skipped with a warning on the
 * bus, and the stream goes on. So is a frame with FLAG_COMPRESSED whose
 * type dsdepay cannot decompress (anything but DeltaPixels and
 * MotionDeltaPixels). Signal JSON
 * is read with the library's bounded parser (ds_json_parse(): plain RFC
 * 8259 JSON only, no comments, nested at most 64 levels) within the
 * library's default signal bounds (1 MiB of JSON and 10000 keys, per
 * frame and in the merged state): a signal frame beyond them is skipped
 * the same way, and the next SignalDiff is treated as after lost signal
 * frames (see above). When a buffer that holds exactly
 * one frame arrives while an incomplete frame is pending, the pending
 * bytes were a truncated frame and are dropped. In a byte stream every
 * header is checked before dsdepay waits for its payload: a header that
 * cannot be a frame's (unknown type, undefined flag bits, a length that
 * does not fit the type, e.g. a Pixels payload other than width×height×4,
 * audio without channels or rate, or more than
 * #GstDsDepay:max-frame-size bytes) is not trusted. dsdepay then looks,
 * byte by byte, for the next plausible frame header (one that another
 * plausible header follows, or whose frame ends the stream, since junk
 * can look like a header) and goes on from there, with one warning per
 * run of skipped bytes, so junk in a
 * recording loses only the frames it damaged. Counters are in
 * #GstDsDepay:stats.
 *
 * ## Input
 *
 * Navigation events arriving on the `video` (or `image`) pad, for
 * instance from a video sink through videoconvert, are turned into
 * ds-stream input events (coordinates clamped to the picture) and sent
 * upstream as a `GstDsInput` custom event, which dsstreamsrc sends to the
 * source.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc ! video/x-raw,format=RGBA,width=640,height=480 ! dspay ! dsdepay ! videoconvert ! autovideosink
 * ]| Payloads a test pattern and shows it again.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=RGBA,width=320,height=240 ! dspay ! filesink location=x.ds
 * gst-launch-1.0 filesrc location=x.ds ! dsdepay ! videoconvert ! autovideosink
 * ]| Records a ds-stream into a file, then plays the file.
 * |[
 * gst-launch-1.0 filesrc location=x.ds ! dsdepay name=d \
 *     d.video ! queue ! videoconvert ! autovideosink \
 *     d.audio ! queue ! audioconvert ! autoaudiosink \
 *     d.signal ! queue ! fdsink fd=1
 * ]| Plays the picture and the sound of a recording and prints its signal
 * state as JSON Lines.
 * |[
 * gst-launch-1.0 dsstreamsrc location=ws://127.0.0.1:9100/stream/desktop ! dsdepay ! decodebin ! videoconvert ! autovideosink
 * ]| Plays a channel of encoded video (H.264, VP8, ... as dspay sent it);
 * a receiver that joins asks for a keyframe and shows pictures from it on.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=300 ! video/x-raw,width=640,height=360,framerate=30/1 ! x264enc tune=zerolatency bframes=0 key-int-max=60 ! h264parse config-interval=-1 ! dspay ! dsdepay ! h264parse ! avdec_h264 ! videoconvert ! autovideosink
 * ]| H.264 through a ds-stream and back to the decoder.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gi18n-lib.h>

#include "gstdsstreamelements.h"
#include "gstdsdepay-private.h"

GST_DEBUG_CATEGORY (gst_ds_depay_debug);


enum
{
  PROP_0,
  PROP_MAX_FRAME_SIZE,
  PROP_REQUEST_KEYFRAME,
  PROP_WAIT_FOR_KEYFRAME,
  PROP_TIMESTAMP_MODE,
  PROP_STATS,
};
#define DEFAULT_MAX_FRAME_SIZE DS_DEFAULT_MAX_FRAME_BYTES
#define DEFAULT_REQUEST_KEYFRAME TRUE
#define DEFAULT_WAIT_FOR_KEYFRAME TRUE
#define DEFAULT_TIMESTAMP_MODE GST_DS_DEPAY_TIMESTAMP_MODE_AUTO

static const gchar *const stream_names[N_STREAMS] = {
  "video", "image", "audio", "signal"
};


/**
 * GstDsDepay!sink:
 *
 * `application/x-ds-stream`, with or without a `media` field: one frame
 * per buffer (dspay, dsdelta, dsstreamsrc) or any byte stream of
 * concatenated frames (filesrc of a `.ds` recording, TCP). A `framerate`
 * in caps with `media=video` becomes the framerate of the video caps.
 * Upstream events go out here: `GstForceKeyUnit` (keyframe or SignalSync
 * wanted) and `GstDsInput` (navigation from the `video` or `image` pad).
 */
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_DS_STREAM_MEDIA_TYPE));

/**
 * GstDsDepay!video:
 *
 * `video/x-raw,format=RGBA` with the width and height of the pictures and
 * the input's framerate, or when the input has none the one measured from
 * the frame timestamps (0/1 until 8 pictures are in). Appears with the
 * first Pixels or DeltaPixels frame; new caps when the size or the
 * framerate changes. Each buffer is one picture with a #GstVideoMeta: a Pixels
 * payload without a copy, or a DeltaPixels frame decoded against the last
 * picture into a buffer of the pool agreed with downstream (ALLOCATION
 * query; its rows may be padded when downstream reads #GstVideoMeta).
 * Pictures that cannot be decoded correctly are not pushed.
 *
 * EncodedVideo frames give the caps of their codec instead:
 * `video/x-h264` or `video/x-h265` (`stream-format=byte-stream`,
 * `alignment=au`), `video/x-vp8`, `video/x-vp9`, `video/x-av1`
 * (`stream-format=obu-stream`, `alignment=tu`), with the width, height and
 * framerate, and for H.264 the `profile` and `level` of the SPS in the last
 * keyframe unit (decoders such as openh264dec link only with a profile
 * they know); new caps when the codec, the size, the framerate or the
 * H.264 profile or level changes. Each
 * buffer is one access unit, the payload after its two-byte prefix without
 * a copy, with #GST_BUFFER_FLAG_DELTA_UNIT unless it is a keyframe. Units
 * that cannot be decoded (before the first keyframe, after lost frames
 * until the next keyframe) are not pushed.
 * Navigation events arriving here go upstream as ds-stream input.
 */
#define VIDEO_SIZE "width = (int) [ 1, 65535 ], height = (int) [ 1, 65535 ], " \
    "framerate = (fraction) [ 0/1, MAX ]"
static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE ("video",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-raw, format = (string) RGBA, " VIDEO_SIZE "; "
        "video/x-h264, stream-format = (string) byte-stream, "
        "alignment = (string) au, " VIDEO_SIZE "; "
        "video/x-h265, stream-format = (string) byte-stream, "
        "alignment = (string) au, " VIDEO_SIZE "; "
        "video/x-vp8, " VIDEO_SIZE "; "
        "video/x-vp9, " VIDEO_SIZE "; "
        "video/x-av1, stream-format = (string) obu-stream, "
        "alignment = (string) tu, " VIDEO_SIZE));

/**
 * GstDsDepay!image:
 *
 * `image/png` or `image/webp`, told by the signature of each image.
 * Appears with the first CompressedPixels frame. Each buffer is one whole
 * image, the frame's payload without a copy; the stream is sparse.
 * Navigation events arriving here go upstream as ds-stream input.
 */
static GstStaticPadTemplate image_template = GST_STATIC_PAD_TEMPLATE ("image",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("image/png; image/webp"));

/**
 * GstDsDepay!audio:
 *
 * `audio/x-raw,format=F32LE,layout=interleaved` with the frame's channels
 * and rate (AudioPcm), or `audio/x-opus` with one or two channels
 * (AudioCompressed). Appears with the first audio frame; new caps when the
 * format changes. Each buffer is one frame's payload without a copy, with
 * a duration for PCM.
 */
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("audio/x-raw, format = (string) F32LE, "
        "layout = (string) interleaved, rate = (int) [ 1, 65535 ], "
        "channels = (int) [ 1, 65535 ]; "
        "audio/x-opus, channel-mapping-family = (int) 0, "
        "channels = (int) [ 1, 2 ], rate = (int) [ 1, 65535 ]"));

/**
 * GstDsDepay!signal:
 *
 * `application/x-ds-signal`: JSON Lines. Appears with the first SignalSync
 * or SignalDiff frame. For each of them one buffer: the whole merged
 * signal state as one JSON object and a newline (with `_v` versions when
 * the source sends them), flagged %GST_BUFFER_FLAG_CORRUPTED while the
 * state may be stale (a SignalDiff after lost signal frames or a flush,
 * until the next SignalSync). The stream is sparse.
 */
static GstStaticPadTemplate signal_template = GST_STATIC_PAD_TEMPLATE ("signal",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS (GST_DS_SIGNAL_MEDIA_TYPE));

#define gst_ds_depay_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstDsDepay, gst_ds_depay, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (gst_ds_depay_debug, "dsdepay", 0,
        "ds-stream depayloader"));
/* ranked for decodebin and parsebin (after dsparse) */
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (dsdepay, "dsdepay", GST_RANK_SECONDARY,
    GST_TYPE_DS_DEPAY, ds_stream_element_init (plugin));

static void gst_ds_depay_finalize (GObject * object);
static void gst_ds_depay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_ds_depay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_ds_depay_is_in_player (GstDsDepay * self);
static void gst_ds_depay_drop_held (GstDsDepay * self);
static GstFlowReturn gst_ds_depay_finish_discovery (GstDsDepay * self);
static GstStateChangeReturn gst_ds_depay_change_state (GstElement * element,
    GstStateChange transition);
static GstFlowReturn gst_ds_depay_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static gboolean gst_ds_depay_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);


static void
gst_ds_depay_class_init (GstDsDepayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_ds_depay_finalize;
  gobject_class->set_property = gst_ds_depay_set_property;
  gobject_class->get_property = gst_ds_depay_get_property;

  /**
   * GstDsDepay:max-frame-size:
   *
   * The largest frame payload accepted, in bytes. Larger frames are
   * skipped with a warning; in a byte stream, dsdepay then looks for the
   * next plausible frame header. The default fits a 4K RGBA picture and
   * run-length worst cases. It also bounds the size of a decompressed
   * (FLAG_COMPRESSED) delta.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FRAME_SIZE,
      g_param_spec_uint ("max-frame-size", "Maximum frame size",
          "Largest frame payload accepted, in bytes; larger frames are "
          "skipped", 1, DS_MAX_PAYLOAD_LEN, DEFAULT_MAX_FRAME_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDepay:request-keyframe:
   *
   * Send a `GstForceKeyUnit` event upstream when a delta picture cannot be
   * decoded, and repeat it (every 100 ms, doubling up to every 2 s) until
   * a keyframe arrives.
   */
  g_object_class_install_property (gobject_class, PROP_REQUEST_KEYFRAME,
      g_param_spec_boolean ("request-keyframe", "Request keyframe",
          "Ask upstream for a keyframe, repeatedly with backoff, when a "
          "delta picture cannot be decoded", DEFAULT_REQUEST_KEYFRAME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDepay:wait-for-keyframe:
   *
   * After a sequence gap on the picture stream, drop delta pictures until
   * the next keyframe. When %FALSE, a gap alone does not stop decoding
   * (for senders whose sequence numbers are not per stream); deltas
   * that cannot be decoded (no reference, size mismatch, bad payload) are
   * dropped in any case.
   */
  g_object_class_install_property (gobject_class, PROP_WAIT_FOR_KEYFRAME,
      g_param_spec_boolean ("wait-for-keyframe", "Wait for keyframe",
          "Drop delta pictures after a sequence gap until the next keyframe",
          DEFAULT_WAIT_FOR_KEYFRAME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstDsDepay:timestamp-mode:
   *
   * Where output timestamps come from: `auto` uses the input timestamps
   * and segment when the input has a TIME segment (a live source that
   * already mapped frames onto the running time) and the frame
   * timestamps otherwise (a file); `frame` always uses the frame
   * timestamps, relative to the first frame, in a segment starting at 0;
   * `input` always uses the input buffer timestamps.
   */
  g_object_class_install_property (gobject_class, PROP_TIMESTAMP_MODE,
      g_param_spec_enum ("timestamp-mode", "Timestamp mode",
          "Where output timestamps come from",
          GST_TYPE_DS_DEPAY_TIMESTAMP_MODE, DEFAULT_TIMESTAMP_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstDsDepay:stats:
   *
   * Counters since the element started, as a structure with the guint64
   * fields `frames` (frames read), `bytes` (input bytes), `gaps` (frames
   * missing according to sequence numbers, summed over the sender's
   * streams: pictures, audio, signals, other, each with its own counter),
   * `dropped` (pictures not shown
   * while waiting for a keyframe), `malformed` (frames skipped as
   * malformed or too large), `keyframe-requests` (ForceKeyUnit events
   * sent upstream, for pictures and for signal state) and
   * `signal-incomplete` (times the signal state became possibly stale: a
   * SignalDiff after lost signal frames or a flush).
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters: frames, bytes, gaps, dropped, malformed, "
          "keyframe-requests, signal-incomplete", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &image_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_add_static_pad_template (element_class, &signal_template);

  gst_element_class_set_static_metadata (element_class,
      "ds-stream depayloader", "Codec/Demuxer/Depayloader/Network",
      "Extracts pictures, images, audio and signal state from a ds-stream",
      "gst-ds-stream developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_ds_depay_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_DS_DEPAY_TIMESTAMP_MODE, 0);
}

static void
gst_ds_depay_init (GstDsDepay * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ds_depay_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_ds_depay_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->max_frame_size = DEFAULT_MAX_FRAME_SIZE;
  self->request_keyframe = DEFAULT_REQUEST_KEYFRAME;
  self->wait_for_keyframe = DEFAULT_WAIT_FOR_KEYFRAME;
  self->timestamp_mode = DEFAULT_TIMESTAMP_MODE;

  gst_ds_framer_init (&self->framer);
  self->flow_combiner = gst_flow_combiner_new ();
  g_queue_init (&self->held);
  self->signals = ds_signal_state_new ();
  g_mutex_init (&self->kf_lock);
  self->kf_interval = KEYFRAME_REQUEST_FIRST_INTERVAL;
  gst_segment_init (&self->in_segment, GST_FORMAT_UNDEFINED);
  gst_segment_init (&self->out_segment, GST_FORMAT_TIME);
  ds_timestamp_unwrapper_init (&self->unwrapper);
}

static void
gst_ds_depay_finalize (GObject * object)
{
  GstDsDepay *self = GST_DS_DEPAY (object);
  gint i;

  gst_ds_framer_clear (&self->framer);
  gst_ds_depay_drop_held (self);
  for (i = 0; i < N_STREAMS; i++)
    gst_clear_caps (&self->streams[i].caps);
  gst_flow_combiner_free (self->flow_combiner);
  ds_signal_state_free (self->signals);
  gst_ds_depay_free_pictures (self);
  g_mutex_clear (&self->kf_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}


/* State */

static void
gst_ds_depay_reset_seqs (GstDsDepay * self)
{
  ds_seq_tracker_reset (&self->seqs);
}

/* Forgets everything about the sender's stream: used at start, stop and
 * after an End frame. */
static void
gst_ds_depay_reset_stream (GstDsDepay * self)
{
  gst_ds_depay_reset_picture (self);
  gst_ds_depay_reset_signals (self);
  gst_ds_depay_reset_stream_timing (self);
  gst_ds_depay_reset_seqs (self);
  gst_ds_depay_reset_keyframe_requests (self);
}

static void
gst_ds_depay_reset (GstDsDepay * self)
{
  gint i;

  gst_ds_framer_flush (&self->framer);
  self->ended = FALSE;
  gst_ds_depay_drop_held (self);
  self->no_more_pads = FALSE;
  self->have_discovery_start = FALSE;
  self->have_signals_only_start = FALSE;
  self->generation = 0;
  self->group_id = gst_util_group_id_next ();
  memset (self->h264_profile, 0, sizeof (self->h264_profile));
  gst_ds_depay_reset_timing (self);
  gst_ds_depay_reset_stream (self);

  for (i = 0; i < N_STREAMS; i++) {
    GstDsDepayStream *stream = &self->streams[i];

    if (stream->pad) {
      gst_flow_combiner_remove_pad (self->flow_combiner, stream->pad);
      gst_element_remove_pad (GST_ELEMENT (self), stream->pad);
    }
    gst_clear_caps (&stream->caps);
    memset (stream, 0, sizeof (*stream));
  }
  gst_flow_combiner_reset (self->flow_combiner);

  gst_ds_depay_release_pool (self);

  GST_OBJECT_LOCK (self);
  self->stat_frames = self->stat_bytes = self->stat_gaps = 0;
  self->stat_dropped = self->stat_malformed = 0;
  self->stat_keyframe_requests = 0;
  self->stat_signal_incomplete = 0;
  self->video_width = self->video_height = 0;
  self->image_width = self->image_height = 0;
  self->nav_buttons = 0;
  GST_OBJECT_UNLOCK (self);
}

static GstStateChangeReturn
gst_ds_depay_change_state (GstElement * element, GstStateChange transition)
{
  GstDsDepay *self = GST_DS_DEPAY (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      gst_ds_depay_reset (self);
      self->in_player = gst_ds_depay_is_in_player (self);
      self->player_dropped_signals = FALSE;
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_ds_depay_reset (self);
      break;
    default:
      break;
  }

  return ret;
}

/* Malformed frames: a warning on the bus, and the stream goes on */
void
gst_ds_depay_skip_malformed (GstDsDepay * self, const gchar * format, ...)
{
  va_list args;
  gchar *detail;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  GST_OBJECT_LOCK (self);
  self->stat_malformed++;
  GST_OBJECT_UNLOCK (self);

  GST_ELEMENT_WARNING (self, STREAM, DECODE,
      (_("Malformed data in the ds-stream was skipped.")),
      ("%s; skipped", detail));
  g_free (detail);
}

void
gst_ds_depay_count_dropped (GstDsDepay * self)
{
  GST_OBJECT_LOCK (self);
  self->stat_dropped++;
  GST_OBJECT_UNLOCK (self);
}


/* Sequence numbers */

/* Returns the number of frames missing before the frame of @header on its
 * seq stream (the stream model's DsSeqTracker), and marks the pads the
 * stream's media goes to discontinuous when some are */
static guint
gst_ds_depay_check_seq (GstDsDepay * self, const DsHeader * header)
{
  DsSeqStream id = ds_frame_type_seq_stream (header->type);
  gint missing = ds_seq_tracker_push (&self->seqs, header);

  if (missing < 0) {
    GST_DEBUG_OBJECT (self, "%s: seq %u duplicate or reordered",
        ds_seq_stream_name (id), header->seq);
    return 0;
  }
  if (missing == 0)
    return 0;

  GST_WARNING_OBJECT (self, "%s: %d frame(s) missing before seq %u",
      ds_seq_stream_name (id), missing, header->seq);
  GST_OBJECT_LOCK (self);
  self->stat_gaps += missing;
  GST_OBJECT_UNLOCK (self);

  switch (id) {
    case DS_SEQ_PICTURES:
      self->streams[STREAM_VIDEO].discont = TRUE;
      self->streams[STREAM_IMAGE].discont = TRUE;
      break;
    case DS_SEQ_AUDIO:
      self->streams[STREAM_AUDIO].discont = TRUE;
      break;
    case DS_SEQ_SIGNALS:
      self->streams[STREAM_SIGNAL].discont = TRUE;
      break;
    default:
      break;
  }

  return missing;
}

/* Pads */

/* What a recording's discovery holds back: a buffer or an event for the
 * pad of @kind */
typedef struct
{
  GstDsDepayStreamKind kind;
  GstMiniObject *object;
} GstDsDepayHeld;

/* While a recording's pads are discovered (parsed input, before
 * no-more-pads), nothing flows out: decodebin then shows the pads at
 * no-more-pads, before any data reaches its multiqueue, as it does for a
 * demuxer that reads its header first, and its preroll ends with the
 * sinks' (see gst_ds_depay_check_no_more_pads()) */
static gboolean
gst_ds_depay_is_discovering (GstDsDepay * self)
{
  return self->parsed_input && !self->no_more_pads;
}

static void
gst_ds_depay_hold (GstDsDepay * self, GstDsDepayStreamKind kind,
    GstMiniObject * object)
{
  GstDsDepayHeld *held = g_new (GstDsDepayHeld, 1);

  held->kind = kind;
  held->object = object;
  g_queue_push_tail (&self->held, held);
  self->held_bytes += DS_DEPAY_HELD_OBJECT_BYTES;
  if (GST_IS_BUFFER (object))
    self->held_bytes += gst_buffer_get_size (GST_BUFFER_CAST (object));
}

/* A sticky event of @type that the pad of @kind did not get (dropped
 * while held, or refused by the flushing pad): made again before the
 * next buffer */
static void
gst_ds_depay_forget_sticky (GstDsDepay * self, GstDsDepayStreamKind kind,
    GstEventType type)
{
  GstDsDepayStream *stream = &self->streams[kind];

  switch (type) {
    case GST_EVENT_STREAM_START:
      stream->need_stream_start = TRUE;
      break;
    case GST_EVENT_CAPS:
      stream->have_caps = FALSE;
      break;
    case GST_EVENT_SEGMENT:
      stream->need_segment = TRUE;
      break;
    default:
      break;
  }
}

static void
gst_ds_depay_drop_held (GstDsDepay * self)
{
  GstDsDepayHeld *held;

  while ((held = g_queue_pop_head (&self->held)) != NULL) {
    if (GST_IS_EVENT (held->object))
      gst_ds_depay_forget_sticky (self, held->kind,
          GST_EVENT_TYPE (held->object));
    gst_mini_object_unref (held->object);
    g_free (held);
  }
  self->held_bytes = 0;
}

/* Sends @event on the pad of @kind. A flushing pad (FLUSH_START on its
 * way while what was held goes out) does not keep every sticky event (a
 * segment): one it did not keep is made again after the flush. */
static void
gst_ds_depay_send_event (GstDsDepay * self, GstDsDepayStreamKind kind,
    GstEvent * event)
{
  GstPad *pad = self->streams[kind].pad;
  GstEventType type = GST_EVENT_TYPE (event);
  GstEvent *kept;

  if (!GST_EVENT_IS_STICKY (event)) {
    gst_pad_push_event (pad, event);
    return;
  }
  gst_event_ref (event);
  if (!gst_pad_push_event (pad, event) && GST_PAD_IS_FLUSHING (pad)) {
    kept = gst_pad_get_sticky_event (pad, type, 0);
    if (kept != event) {
      GST_DEBUG_OBJECT (pad, "flushing: %s to be sent again",
          gst_event_type_get_name (type));
      gst_ds_depay_forget_sticky (self, kind, type);
    }
    if (kept)
      gst_event_unref (kept);
  }
  gst_event_unref (event);
}

/* Sends @event on the pad of @kind, or holds it behind the buffers held
 * for the pads. A pad not added yet keeps its events (sticky) for the
 * element that links it: decodebin looks at its caps when it is added. */
static void
gst_ds_depay_push_stream_event (GstDsDepay * self, GstDsDepayStreamKind kind,
    GstEvent * event, gboolean added)
{
  if (!added && gst_ds_depay_is_discovering (self) &&
      !g_queue_is_empty (&self->held))
    gst_ds_depay_hold (self, kind, GST_MINI_OBJECT_CAST (event));
  else
    gst_ds_depay_send_event (self, kind, event);
}

static GstFlowReturn
gst_ds_depay_push_out (GstDsDepay * self, GstDsDepayStream * stream,
    GstBuffer * buffer)
{
  GstFlowReturn ret;

  ret = gst_pad_push (stream->pad, buffer);
  ret = gst_flow_combiner_update_pad_flow (self->flow_combiner, stream->pad,
      ret);
  /* Like a demuxer: NOT_LINKED when no source pad is linked. But a
   * channel's catch-up starts with a SignalSync before the first picture,
   * and gst-launch links a pad only when it appears: while only the sparse
   * signal and image pads exist, not being linked stops nothing. */
  if (ret == GST_FLOW_NOT_LINKED && self->streams[STREAM_VIDEO].pad == NULL &&
      self->streams[STREAM_AUDIO].pad == NULL)
    ret = GST_FLOW_OK;

  return ret;
}

/* After no-more-pads: what the discovery held, in order. After a flow
 * error the buffers left are dropped; the events still go. */
static GstFlowReturn
gst_ds_depay_push_held (GstDsDepay * self)
{
  GstFlowReturn ret = GST_FLOW_OK;
  GstDsDepayHeld *held;

  GST_DEBUG_OBJECT (self, "sending %u held buffers and events (%"
      G_GSIZE_FORMAT " bytes)", g_queue_get_length (&self->held),
      self->held_bytes);
  self->held_bytes = 0;
  while ((held = g_queue_pop_head (&self->held)) != NULL) {
    GstDsDepayStream *stream = &self->streams[held->kind];

    if (GST_IS_EVENT (held->object))
      gst_ds_depay_send_event (self, held->kind, GST_EVENT_CAST (held->object));
    else if (ret == GST_FLOW_OK)
      ret = gst_ds_depay_push_out (self, stream,
          GST_BUFFER_CAST (held->object));
    else
      gst_mini_object_unref (held->object);
    g_free (held);
  }

  return ret;
}

static void
gst_ds_depay_start_new_stream (GstDsDepay * self)
{
  gint i;

  GST_INFO_OBJECT (self, "a new stream starts after End");
  self->ended = FALSE;
  self->generation++;
  self->group_id = gst_util_group_id_next ();
  for (i = 0; i < N_STREAMS; i++) {
    GstDsDepayStream *stream = &self->streams[i];

    stream->need_stream_start = TRUE;
    stream->need_segment = TRUE;
    stream->have_caps = FALSE;
    stream->discont = TRUE;
  }
  gst_flow_combiner_reset (self->flow_combiner);
}

/* Makes sure the pad of @kind exists and has stream-start, the caps made
 * by @make_caps when a key (what the caps are made from: the video size
 * and framerate, ...) changed, and a segment. */
GstPad *
gst_ds_depay_prepare_pad (GstDsDepay * self, GstDsDepayStreamKind kind,
    guint key0, guint key1, guint key2, guint key3,
    GstDsDepayMakeCaps make_caps)
{
  GstDsDepayStream *stream = &self->streams[kind];
  gboolean added = FALSE;

  if (stream->pad == NULL) {
    GstElementClass *klass = GST_ELEMENT_GET_CLASS (self);
    GstPad *pad;

    pad = gst_pad_new_from_template (gst_element_class_get_pad_template (klass,
            stream_names[kind]), stream_names[kind]);
    gst_pad_set_event_function (pad,
        GST_DEBUG_FUNCPTR (gst_ds_depay_src_event));
    gst_pad_use_fixed_caps (pad);
    gst_pad_set_active (pad, TRUE);
    stream->pad = pad;
    stream->need_stream_start = TRUE;
    stream->need_segment = TRUE;
    stream->discont = TRUE;
    added = TRUE;
  }

  if (stream->need_stream_start) {
    GstEvent *event;
    gchar *stream_id;

    if (self->generation == 0)
      stream_id = gst_pad_create_stream_id (stream->pad, GST_ELEMENT (self),
          stream_names[kind]);
    else
      stream_id = gst_pad_create_stream_id_printf (stream->pad,
          GST_ELEMENT (self), "%s-%u", stream_names[kind], self->generation);
    event = gst_event_new_stream_start (stream_id);
    gst_event_set_group_id (event, self->group_id);
    if (kind == STREAM_SIGNAL || kind == STREAM_IMAGE)
      gst_event_set_stream_flags (event, GST_STREAM_FLAG_SPARSE);
    stream->eos = FALSE;
    stream->need_stream_start = FALSE;
    stream->have_caps = FALSE;
    gst_ds_depay_send_event (self, kind, event);
    g_free (stream_id);
  }

  if (!stream->have_caps || stream->caps_key[0] != key0 ||
      stream->caps_key[1] != key1 || stream->caps_key[2] != key2 ||
      stream->caps_key[3] != key3) {
    GstCaps *caps = make_caps (self, key0, key1, key2, key3);

    GST_DEBUG_OBJECT (stream->pad, "caps %" GST_PTR_FORMAT, caps);
    stream->have_caps = TRUE;
    stream->caps_key[0] = key0;
    stream->caps_key[1] = key1;
    stream->caps_key[2] = key2;
    stream->caps_key[3] = key3;
    gst_ds_depay_push_stream_event (self, kind, gst_event_new_caps (caps),
        added);
    gst_caps_take (&stream->caps, caps);
  }

  if (stream->need_segment) {
    stream->need_segment = FALSE;
    gst_ds_depay_push_stream_event (self, kind,
        gst_event_new_segment (&self->out_segment), added);
  }

  if (added) {
    GST_INFO_OBJECT (self, "adding pad %s", stream_names[kind]);
    gst_flow_combiner_add_pad (self->flow_combiner, stream->pad);
    gst_element_add_pad (GST_ELEMENT (self), stream->pad);
  }

  return stream->pad;
}

GstFlowReturn
gst_ds_depay_push (GstDsDepay * self, GstDsDepayStreamKind kind,
    GstBuffer * buffer, GstClockTime pts, GstClockTime duration)
{
  return gst_ds_depay_push_full (self, kind, buffer, pts, duration, FALSE);
}

/* @delta_unit: the buffer is not decodable on its own (an access unit
 * that is no keyframe) */
GstFlowReturn
gst_ds_depay_push_full (GstDsDepay * self, GstDsDepayStreamKind kind,
    GstBuffer * buffer, GstClockTime pts, GstClockTime duration,
    gboolean delta_unit)
{
  GstDsDepayStream *stream = &self->streams[kind];

  /* the payload may still be upstream's buffer (a sub-buffer the adapter
   * handed over as it was): a copy of the metadata, the memory stays
   * shared */
  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buffer) = duration;
  GST_BUFFER_OFFSET (buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END (buffer) = GST_BUFFER_OFFSET_NONE;
  if (delta_unit)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  else
    GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (stream->discont) {
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
    stream->discont = FALSE;
  } else {
    GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_DISCONT);
  }

  if (gst_ds_depay_is_discovering (self)) {
    /* every event held comes before a buffer: the bound is checked here */
    gst_ds_depay_hold (self, kind, GST_MINI_OBJECT_CAST (buffer));
    if (self->held_bytes < DS_DEPAY_PAD_DISCOVERY_BYTES &&
        g_queue_get_length (&self->held) < DS_DEPAY_PAD_DISCOVERY_OBJECTS)
      return GST_FLOW_OK;
    /* decodebin would show the pads it has now anyway */
    GST_DEBUG_OBJECT (self, "%u buffers and events (%" G_GSIZE_FORMAT
        " bytes) held: pads known", g_queue_get_length (&self->held),
        self->held_bytes);
    return gst_ds_depay_finish_discovery (self);
  }

  return gst_ds_depay_push_out (self, stream, buffer);
}

static GstCaps *
gst_ds_depay_audio_caps (GstDsDepay * self, guint type, guint channels,
    guint rate, guint unused)
{
  GstCaps *caps;

  if (type == DS_FRAME_AUDIO_COMPRESSED)
    return gst_caps_new_simple ("audio/x-opus",
        "channel-mapping-family", G_TYPE_INT, 0,
        "channels", G_TYPE_INT, (gint) channels,
        "rate", G_TYPE_INT, (gint) rate, NULL);

  caps = gst_caps_new_simple ("audio/x-raw",
      "format", G_TYPE_STRING, "F32LE",
      "layout", G_TYPE_STRING, "interleaved",
      "rate", G_TYPE_INT, (gint) rate,
      "channels", G_TYPE_INT, (gint) channels, NULL);
  /* beyond stereo the protocol says nothing of positions */
  if (channels > 2)
    gst_caps_set_simple (caps, "channel-mask", GST_TYPE_BITMASK,
        (guint64) 0, NULL);
  return caps;
}


static GstFlowReturn
gst_ds_depay_handle_audio (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload, GstClockTime pts)
{
  guint channels = header->width;
  guint rate = header->height;
  GstClockTime duration = GST_CLOCK_TIME_NONE;

  if (header->type == DS_FRAME_AUDIO_PCM) {
    guint64 frame_bytes = 4 * (guint64) channels;

    duration = gst_util_uint64_scale_int (header->payload_len / frame_bytes,
        GST_SECOND, rate);
  } else if (channels > 2) {
    /* the header cannot carry an Opus multichannel mapping */
    goto opus_multichannel;
  }

  gst_ds_depay_prepare_pad (self, STREAM_AUDIO, header->type, channels, rate, 0,
      gst_ds_depay_audio_caps);

  return gst_ds_depay_push (self, STREAM_AUDIO, payload, pts, duration);

  /* ERRORS */
opus_multichannel:
  {
    gst_ds_depay_skip_malformed (self, "AudioCompressed frame seq %u: %u "
        "channels need an Opus channel mapping the header cannot carry",
        header->seq, channels);
    gst_buffer_replace (&payload, NULL);
    return GST_FLOW_OK;
  }
}


static void
gst_ds_depay_handle_haptic (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload, GstClockTime pts)
{
  guint8 data[3];
  gsize len = 0;
  guint16 duration;
  guint8 intensity;
  GError *error = NULL;
  GstStructure *s;

  if (payload) {
    len = gst_buffer_extract (payload, 0, data, sizeof (data));
    gst_buffer_unref (payload);
  }
  if (!ds_haptic_parse (data, len, &duration, &intensity, &error))
    goto bad_payload;

  s = gst_structure_new ("ds-haptic",
      "duration", G_TYPE_UINT, (guint) duration,
      "intensity", G_TYPE_UINT, (guint) intensity,
      "timestamp", G_TYPE_UINT64, pts, NULL);
  GST_DEBUG_OBJECT (self, "haptic %" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  return;

  /* ERRORS */
bad_payload:
  {
    gst_ds_depay_skip_malformed (self, "Haptic frame seq %u: %s",
        header->seq, error->message);
    g_clear_error (&error);
  }
}

/* A recording (parsed input: dsparse, so decodebin and parsebin) has
 * shown which kinds of media it holds once DS_DEPAY_PAD_DISCOVERY_MS of
 * its frame time have passed since its first media frame (a muxer
 * orders frames by time: every kind starts within it), or at End or
 * EOS, or once every kind has a pad: no-more-pads then lets decodebin
 * expose them all. Until then nothing flows out (up to
 * DS_DEPAY_PAD_DISCOVERY_BYTES or DS_DEPAY_PAD_DISCOVERY_OBJECTS are
 * held, after which the pads are taken as known, as decodebin shows them
 * when a queue of its multiqueue is full): decodebin shows the pads
 * before any data reaches it, as for a demuxer that reads its header
 * first, so its preroll is done before the sinks'. When data came first,
 * the sinks prerolled from what the multiqueue held and decodebin's own
 * preroll ended last, in this streaming thread, which raced an
 * application that sets PLAYING when the pipeline says PAUSED
 * (gst-launch-1.0): GstBin then never posted the EOS of the sinks. A
 * kind that starts later gets its pad, which decodebin does not show.
 * Live input never signals it: a kind may start at any time (and a
 * gst-launch delayed link to it must stay). */
static GstFlowReturn
gst_ds_depay_check_no_more_pads (GstDsDepay * self, const DsHeader * header,
    gboolean ending)
{
  gint i, n = 0;

  if (!self->parsed_input || self->no_more_pads)
    return GST_FLOW_OK;
  if (self->in_player && !ending &&
      ds_frame_type_media (header->type) == DS_MEDIA_SIGNAL) {
    /* a player takes no signals: its window starts at the first picture
     * or sound, and a channel that has had signals only for a while
     * is said to have nothing to play */
    if (!self->have_signals_only_start) {
      self->signals_only_start = header->timestamp;
      self->have_signals_only_start = TRUE;
    } else if (!self->have_discovery_start &&
        (guint32) (header->timestamp - self->signals_only_start) >=
        DS_DEPAY_SIGNALS_ONLY_MS) {
      self->no_more_pads = TRUE;
      gst_ds_depay_post_signals_only (self);
    }
    return GST_FLOW_OK;
  }
  for (i = 0; i < N_STREAMS; i++)
    n += self->streams[i].pad != NULL;
  if (!ending && n < N_STREAMS) {
    if (!self->have_discovery_start) {
      self->discovery_start = header->timestamp;
      self->have_discovery_start = TRUE;
      return GST_FLOW_OK;
    }
    if ((guint32) (header->timestamp - self->discovery_start) <
        DS_DEPAY_PAD_DISCOVERY_MS)
      return GST_FLOW_OK;
  }
  return gst_ds_depay_finish_discovery (self);
}

/* no-more-pads, then what was held while the pads were discovered */
static GstFlowReturn
gst_ds_depay_finish_discovery (GstDsDepay * self)
{
  gint i, n = 0;

  for (i = 0; i < N_STREAMS; i++)
    n += self->streams[i].pad != NULL;
  GST_INFO_OBJECT (self, "%d pad(s): no more pads", n);
  self->no_more_pads = TRUE;
  if (n == 0 && self->in_player && self->player_dropped_signals) {
    gst_ds_depay_drop_held (self);
    gst_ds_depay_post_signals_only (self);
    return GST_FLOW_OK;
  }
  gst_element_no_more_pads (GST_ELEMENT (self));
  return gst_ds_depay_push_held (self);
}

/* A player's decodebin has nothing to play in a channel of signals only:
 * say so, rather than the decodebin's "missing plug-in" */
void
gst_ds_depay_post_signals_only (GstDsDepay * self)
{
  GST_ELEMENT_ERROR (self, STREAM, WRONG_TYPE,
      (_("This channel carries signals only: there are no pictures or "
              "sound to play.")),
      ("dsdepay does not expose its signal pad inside a decodebin; "
          "receive the signals with dsstreamsrc ! dsdepay"));
}

/* Inside a decodebin, parsebin or uridecodebin: a player (playbin,
 * gst-play-1.0) plugged dsdepay by its rank */
static gboolean
gst_ds_depay_is_in_player (GstDsDepay * self)
{
  static const gchar *const players[] = {
    "GstDecodeBin", "GstDecodebin3", "GstParseBin", "GstURIDecodeBin",
    "GstURIDecodeBin3", NULL
  };
  GstObject *parent = gst_object_get_parent (GST_OBJECT (self));
  gboolean found = FALSE;

  while (parent != NULL && !found) {
    GstObject *next;

    found = g_strv_contains (players, G_OBJECT_TYPE_NAME (parent));
    next = gst_object_get_parent (parent);
    gst_object_unref (parent);
    parent = next;
  }
  if (parent != NULL)
    gst_object_unref (parent);

  return found;
}

/* A short recording is sent at its End, all of it: what downstream
 * returned to it is the chain's return */
static GstFlowReturn
gst_ds_depay_handle_end (GstDsDepay * self, const DsHeader * header)
{
  GstFlowReturn ret;
  gint i;

  GST_INFO_OBJECT (self, "End frame: EOS on every pad");
  ret = gst_ds_depay_check_no_more_pads (self, NULL, TRUE);

  gst_ds_depay_end_timing (self, header);

  for (i = 0; i < N_STREAMS; i++) {
    GstDsDepayStream *stream = &self->streams[i];

    if (stream->pad && !stream->eos) {
      gst_pad_push_event (stream->pad, gst_event_new_eos ());
      stream->eos = TRUE;
    }
  }
  self->ended = TRUE;
  gst_ds_depay_reset_stream (self);

  return ret;
}

/* FLAG_COMPRESSED: only a DeltaPixels or MotionDeltaPixels payload (one
 * zstd frame of the normal payload) can be decompressed; the payload of the other types
 * dsdepay reads or outputs would be garbage. Types whose payload is not
 * looked at (Neural*, Ping, ...) do not care. */
static gboolean
gst_ds_depay_can_decompress (guint8 type)
{
  switch (type) {
    case DS_FRAME_PIXELS:
    case DS_FRAME_COMPRESSED_PIXELS:
    case DS_FRAME_AUDIO_PCM:
    case DS_FRAME_AUDIO_COMPRESSED:
    case DS_FRAME_HAPTIC:
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
    case DS_FRAME_SCHEMA_ANNOUNCE:
      return FALSE;
    default:
      return TRUE;
  }
}


/* One complete frame. @payload (transfer full) is NULL for an empty
 * payload; @in_pts is the PTS of the input buffer when the frame starts
 * at the beginning of one. */
static GstFlowReturn
gst_ds_depay_handle_frame (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload, GstClockTime in_pts)
{
  GstDsDepayTimestampMode mode;
  guint max_size;
  GstClockTime pts;
  guint missing = 0;
  GError *error = NULL;
  gboolean wait_for_keyframe, decodable;
  guint8 codec = 0;

  GST_OBJECT_LOCK (self);
  self->stat_frames++;
  mode = self->timestamp_mode;
  max_size = self->max_frame_size;
  wait_for_keyframe = self->wait_for_keyframe;
  GST_OBJECT_UNLOCK (self);

  GST_LOG_OBJECT (self, "%s frame seq %u ts %u %ux%u, %u bytes",
      ds_frame_type_name (header->type), header->seq, header->timestamp,
      header->width, header->height, header->payload_len);

  if (header->flags & DS_FLAG_INPUT)
    goto input_frame;
  if (header->payload_len > max_size)
    goto too_large;
  /* the protocol's rules, once: known type, sizes that fit the type */
  if (!ds_header_validate (header, &error))
    goto invalid;
  /* the move table of a MotionDeltaPixels is part of its checks
   * (O(moves)): a bad one is malformed before seq tracking, as a bad
   * header is */
  if (header->type == DS_FRAME_MOTION_DELTA_PIXELS && payload != NULL &&
      !(header->flags & DS_FLAG_COMPRESSED)) {
    GstMapInfo map;
    gboolean valid = TRUE;

    if (gst_buffer_map (payload, &map, GST_MAP_READ)) {
      DsHeader h = *header;

      h.payload_len = map.size;
      valid = ds_frame_validate (&h, map.data, &error);
      gst_buffer_unmap (payload, &map);
    }
    if (!valid)
      goto invalid;
  }
  /* so is the codec and reserved byte of an EncodedVideo */
  if (header->type == DS_FRAME_ENCODED_VIDEO && payload != NULL) {
    guint8 head[DS_ENCODED_VIDEO_PREFIX_SIZE + 1];
    gsize len = gst_buffer_extract (payload, 0, head, sizeof (head));

    if (!ds_encoded_video_parse (head, len, &codec, NULL, NULL, &error))
      goto invalid;
  }
  if ((header->flags & DS_FLAG_COMPRESSED) &&
      !gst_ds_depay_can_decompress (header->type))
    goto cannot_decompress;

  switch (ds_frame_type_media (header->type)) {
    case DS_MEDIA_VIDEO:
    case DS_MEDIA_IMAGE:
    case DS_MEDIA_AUDIO:
    case DS_MEDIA_SIGNAL:
    {
      GstFlowReturn ret;

      if (self->ended)
        gst_ds_depay_start_new_stream (self);
      ret = gst_ds_depay_check_no_more_pads (self, header, FALSE);
      if (ret != GST_FLOW_OK) {
        gst_buffer_replace (&payload, NULL);
        return ret;
      }
      break;
    }
    default:
      break;
  }

  missing = gst_ds_depay_check_seq (self, header);
  if (missing > 0 && ds_frame_type_seq_stream (header->type) == DS_SEQ_SIGNALS)
    self->signal_gap = TRUE;
  /* an access unit follows its keyframe and every unit since */
  decodable = ds_encoded_video_state_push (&self->encoded, header, codec,
      wait_for_keyframe ? missing : 0);

  switch (header->type) {
    case DS_FRAME_PIXELS:
    case DS_FRAME_DELTA_PIXELS:
    case DS_FRAME_MOTION_DELTA_PIXELS:
      pts = gst_ds_depay_frame_pts (self, header, in_pts, mode);
      gst_ds_depay_measure_framerate (self, header);
      if (header->type == DS_FRAME_PIXELS)
        return gst_ds_depay_handle_pixels (self, header, payload, pts);
      return gst_ds_depay_handle_delta (self, header, payload, pts, missing,
          max_size);
    case DS_FRAME_COMPRESSED_PIXELS:
      pts = gst_ds_depay_frame_pts (self, header, in_pts, mode);
      return gst_ds_depay_handle_image (self, header, payload, pts);
    case DS_FRAME_ENCODED_VIDEO:
      pts = gst_ds_depay_frame_pts (self, header, in_pts, mode);
      gst_ds_depay_measure_framerate (self, header);
      return gst_ds_depay_handle_encoded (self, header, payload, pts, codec,
          decodable);
    case DS_FRAME_AUDIO_PCM:
    case DS_FRAME_AUDIO_COMPRESSED:
      pts = gst_ds_depay_frame_pts (self, header, in_pts, mode);
      return gst_ds_depay_handle_audio (self, header, payload, pts);
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
      pts = gst_ds_depay_frame_pts (self, header, in_pts, mode);
      return gst_ds_depay_handle_signal (self, header, payload, pts);
    case DS_FRAME_SCHEMA_ANNOUNCE:
      gst_ds_depay_handle_schema (self, header, payload);
      return GST_FLOW_OK;
    case DS_FRAME_HAPTIC:
      pts = gst_ds_depay_frame_pts (self, header, in_pts, mode);
      gst_ds_depay_handle_haptic (self, header, payload, pts);
      return GST_FLOW_OK;
    case DS_FRAME_KEYFRAME:
      GST_DEBUG_OBJECT (self, "Keyframe: resetting picture and signal state");
      gst_ds_depay_reset_picture (self);
      ds_signal_state_clear (self->signals);
      break;
    case DS_FRAME_END:
      gst_buffer_replace (&payload, NULL);
      return gst_ds_depay_handle_end (self, header);
    default:
      /* Ping, SubscribeFilter (receiver to relay), Neural*: nothing to
       * output */
      GST_DEBUG_OBJECT (self, "skipping %s frame",
          ds_frame_type_name (header->type));
      break;
  }

  gst_buffer_replace (&payload, NULL);
  return GST_FLOW_OK;

  /* ERRORS */
input_frame:
  {
    GST_DEBUG_OBJECT (self, "skipping input frame %s",
        ds_input_type_name (header->type));
    gst_buffer_replace (&payload, NULL);
    return GST_FLOW_OK;
  }
too_large:
  {
    gst_ds_depay_skip_malformed (self, "%s frame seq %u of %u bytes is "
        "larger than max-frame-size (%u)", ds_frame_type_name (header->type),
        header->seq, header->payload_len, max_size);
    gst_buffer_replace (&payload, NULL);
    return GST_FLOW_OK;
  }
invalid:
  {
    gst_ds_depay_skip_malformed (self, "%s frame seq %u: %s",
        ds_frame_type_name (header->type), header->seq, error->message);
    g_clear_error (&error);
    gst_buffer_replace (&payload, NULL);
    gst_ds_depay_skip_picture (self, header);
    return GST_FLOW_OK;
  }
cannot_decompress:
  {
    gst_ds_depay_skip_malformed (self, "%s frame seq %u has FLAG_COMPRESSED, "
        "which dsdepay cannot decompress for this type",
        ds_frame_type_name (header->type), header->seq);
    gst_buffer_replace (&payload, NULL);
    gst_ds_depay_skip_picture (self, header);
    return GST_FLOW_OK;
  }
}

/* Takes the complete frames out of the framer. @at_eos: no more bytes
 * will come. */
static GstFlowReturn
gst_ds_depay_parse_byte_stream (GstDsDepay * self, guint max_size,
    gboolean at_eos)
{
  GstFlowReturn ret = GST_FLOW_OK;

  while (ret == GST_FLOW_OK) {
    GstBuffer *payload;
    GstClockTime in_pts;
    DsHeader header;

    switch (gst_ds_framer_next (&self->framer, max_size, at_eos, &header,
            &payload, &in_pts)) {
      case GST_DS_FRAMER_NEED_DATA:
        return ret;
      case GST_DS_FRAMER_JUNK:
        /* one warning per run of bytes that are not a frame */
        gst_ds_depay_skip_malformed (self, "not a plausible frame header "
            "(type 0x%02x, flags 0x%02x, %ux%u, %u bytes): looking for the "
            "next frame", header.type, header.flags, header.width,
            header.height, header.payload_len);
        break;
      case GST_DS_FRAMER_FRAME:
        ret = gst_ds_depay_handle_frame (self, &header, payload, in_pts);
        break;
    }
  }

  return ret;
}

static GstFlowReturn
gst_ds_depay_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstDsDepay *self = GST_DS_DEPAY (parent);
  GstFlowReturn ret = GST_FLOW_OK;
  gsize size = gst_buffer_get_size (buffer);
  guint8 raw[DS_HEADER_SIZE];
  DsHeader header;
  guint max_size;

  GST_OBJECT_LOCK (self);
  self->stat_bytes += size;
  max_size = self->max_frame_size;
  GST_OBJECT_UNLOCK (self);

  if (GST_BUFFER_IS_DISCONT (buffer) &&
      gst_ds_framer_available (&self->framer) > 0) {
    GST_DEBUG_OBJECT (self, "discontinuity: dropping %" G_GSIZE_FORMAT
        " pending bytes", gst_ds_framer_flush (&self->framer));
  }

  /* The usual case: a buffer that holds exactly one frame is handled
   * without the adapter and without copying. */
  if (size >= DS_HEADER_SIZE &&
      gst_buffer_extract (buffer, 0, raw, DS_HEADER_SIZE) == DS_HEADER_SIZE &&
      ds_header_parse (raw, DS_HEADER_SIZE, &header, NULL) &&
      (gsize) header.payload_len == size - DS_HEADER_SIZE &&
      (gst_ds_framer_available (&self->framer) == 0 ||
          ds_frame_type_is_known (header.type))) {
    GstBuffer *payload = NULL;
    gboolean was_resyncing = self->framer.resyncing;
    gsize pending = gst_ds_framer_flush (&self->framer);

    /* what was pending can only have been a truncated frame */
    if (pending > 0 && !was_resyncing)
      gst_ds_depay_skip_malformed (self, "truncated frame (%"
          G_GSIZE_FORMAT " bytes) before a complete one", pending);

    if (header.payload_len > 0)
      payload = gst_buffer_copy_region (buffer, GST_BUFFER_COPY_MEMORY,
          DS_HEADER_SIZE, header.payload_len);
    ret = gst_ds_depay_handle_frame (self, &header, payload,
        GST_BUFFER_PTS (buffer));
    gst_buffer_unref (buffer);
    return ret;
  }

  /* A byte stream: frames split and merged anywhere */
  gst_ds_framer_push (&self->framer, buffer);

  return gst_ds_depay_parse_byte_stream (self, max_size, FALSE);
}

static gboolean
gst_ds_depay_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstDsDepay *self = GST_DS_DEPAY (parent);
  gint i;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
    {
      guint group_id;

      /* each src pad gets a stream-start of its own */
      if (gst_event_parse_group_id (event, &group_id))
        self->group_id = group_id;
      gst_event_unref (event);

      /* a new stream after an EOS from upstream (concat, a playlist):
       * the pads start again like after an End frame */
      for (i = 0; i < N_STREAMS; i++) {
        if (self->streams[i].pad && self->streams[i].eos && !self->ended) {
          GST_INFO_OBJECT (self, "new input stream after EOS");
          gst_ds_framer_flush (&self->framer);
          self->ended = TRUE;
          self->time_base = self->last_frame_time = 0;
          gst_ds_depay_reset_stream (self);
        }
      }
      return TRUE;
    }
    case GST_EVENT_CAPS:
    {
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      gst_ds_depay_set_input_caps (self, caps);
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->in_segment);
      gst_ds_depay_update_out_segment (self);
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_EOS:
    {
      GstFlowReturn ret = GST_FLOW_OK;
      gboolean have_pads = FALSE;
      gsize pending;
      guint max_size;

      /* while looking for the next frame, a frame that ends the stream
       * still counts */
      GST_OBJECT_LOCK (self);
      max_size = self->max_frame_size;
      GST_OBJECT_UNLOCK (self);
      if (self->framer.resyncing)
        ret = gst_ds_depay_parse_byte_stream (self, max_size, TRUE);
      pending = gst_ds_framer_available (&self->framer);

      if (pending > 0 && !self->framer.resyncing)
        gst_ds_depay_skip_malformed (self, "stream ends in the middle of a "
            "frame (%" G_GSIZE_FORMAT " bytes)", pending);
      gst_ds_framer_flush (&self->framer);
      if (ret == GST_FLOW_OK)
        ret = gst_ds_depay_check_no_more_pads (self, NULL, TRUE);
      /* a short recording went out just now, all of it: nobody else
       * would see downstream's error (GstBaseSrc posts it so too) */
      if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)
        GST_ELEMENT_FLOW_ERROR (self, ret);

      for (i = 0; i < N_STREAMS; i++) {
        GstDsDepayStream *stream = &self->streams[i];

        if (stream->pad == NULL)
          continue;
        have_pads = TRUE;
        /* pads still waiting for a new stream had EOS at End */
        if (!stream->eos && !stream->need_stream_start) {
          gst_pad_push_event (stream->pad, gst_event_ref (event));
          stream->eos = TRUE;
        }
      }
      gst_event_unref (event);
      if (!have_pads)
        goto no_media;
      return TRUE;
    }
    case GST_EVENT_FLUSH_STOP:
      gst_ds_framer_flush (&self->framer);
      gst_ds_depay_drop_held (self);
      self->have_pts_offset = FALSE;
      gst_ds_depay_reset_picture (self);
      gst_ds_depay_reset_seqs (self);
      /* the signal state was of another place in the stream */
      ds_signal_state_clear (self->signals);
      if (self->have_signal_state)
        self->signal_gap = TRUE;
      for (i = 0; i < N_STREAMS; i++) {
        self->streams[i].eos = FALSE;
        self->streams[i].discont = TRUE;
      }
      gst_flow_combiner_reset (self->flow_combiner);
      return gst_pad_event_default (pad, parent, event);
    default:
      return gst_pad_event_default (pad, parent, event);
  }

  /* ERRORS */
no_media:
  {
    if (self->in_player && self->player_dropped_signals) {
      gst_ds_depay_post_signals_only (self);
      return TRUE;
    }
    GST_ELEMENT_ERROR (self, STREAM, DEMUX,
        (_("No pictures, sound or signals found in the ds-stream.")),
        ("EOS before any media frame"));
    /* like a demuxer with no streams: the error says it all, the EOS has
     * nowhere to go and is dropped, the event itself was handled */
    return TRUE;
  }
}


static GstStructure *
gst_ds_depay_get_stats (GstDsDepay * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("application/x-ds-depay-stats",
      "frames", G_TYPE_UINT64, self->stat_frames,
      "bytes", G_TYPE_UINT64, self->stat_bytes,
      "gaps", G_TYPE_UINT64, self->stat_gaps,
      "dropped", G_TYPE_UINT64, self->stat_dropped,
      "malformed", G_TYPE_UINT64, self->stat_malformed,
      "keyframe-requests", G_TYPE_UINT64, self->stat_keyframe_requests,
      "signal-incomplete", G_TYPE_UINT64, self->stat_signal_incomplete, NULL);
  GST_OBJECT_UNLOCK (self);

  return s;
}

static void
gst_ds_depay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDsDepay *self = GST_DS_DEPAY (object);

  switch (prop_id) {
    case PROP_MAX_FRAME_SIZE:
      GST_OBJECT_LOCK (self);
      self->max_frame_size = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_REQUEST_KEYFRAME:
      GST_OBJECT_LOCK (self);
      self->request_keyframe = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WAIT_FOR_KEYFRAME:
      GST_OBJECT_LOCK (self);
      self->wait_for_keyframe = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TIMESTAMP_MODE:
      GST_OBJECT_LOCK (self);
      self->timestamp_mode = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_ds_depay_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstDsDepay *self = GST_DS_DEPAY (object);

  switch (prop_id) {
    case PROP_MAX_FRAME_SIZE:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->max_frame_size);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_REQUEST_KEYFRAME:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->request_keyframe);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WAIT_FOR_KEYFRAME:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->wait_for_keyframe);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TIMESTAMP_MODE:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->timestamp_mode);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_ds_depay_get_stats (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}
