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


/* dsdepay's inside, shared by the files of the element:
 *
 * - gstdsdepay.c: the element: pads, chain, events, states, properties,
 *   the frame dispatch, audio, haptic and End frames
 * - gstdsdepay-timing.c: timestamps, segments, framerate
 * - gstdsdepay-picture.c: Pixels, DeltaPixels, MotionDeltaPixels,
 *   CompressedPixels and EncodedVideo, the
 *   reference picture, the buffer pool, keyframe requests
 * - gstdsdepay-signal.c: the signal state (SignalSync, SignalDiff) and
 *   SchemaAnnounce
 * - gstdsdepay-input.c: navigation events from downstream to ds-stream
 *   input upstream
 */

#ifndef __GST_DS_DEPAY_PRIVATE_H__
#define __GST_DS_DEPAY_PRIVATE_H__

#include <gst/gst.h>
#include <gst/base/base.h>
#include <gst/video/video.h>

#include "dsprotocol.h"
#include "dssignal.h"
#include "dsstream.h"
#include "gstdsutils.h"

#include "gstdsdepay.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_ds_depay_debug);
#define GST_CAT_DEFAULT gst_ds_depay_debug

/**
 * GstDsDepayTimestampMode:
 * @GST_DS_DEPAY_TIMESTAMP_MODE_AUTO: input timestamps and segment when the
 *   input has a TIME segment, frame timestamps otherwise
 * @GST_DS_DEPAY_TIMESTAMP_MODE_FRAME: always the frame timestamps,
 *   relative to the first frame, in a segment starting at 0
 * @GST_DS_DEPAY_TIMESTAMP_MODE_INPUT: always the input buffer timestamps
 *
 * Where dsdepay takes the timestamps of its output buffers from.
 */
typedef enum
{
  GST_DS_DEPAY_TIMESTAMP_MODE_AUTO,
  GST_DS_DEPAY_TIMESTAMP_MODE_FRAME,
  GST_DS_DEPAY_TIMESTAMP_MODE_INPUT,
} GstDsDepayTimestampMode;

#define GST_TYPE_DS_DEPAY_TIMESTAMP_MODE (gst_ds_depay_timestamp_mode_get_type ())
G_GNUC_INTERNAL
GType gst_ds_depay_timestamp_mode_get_type (void);

/* Keyframe requests are repeated with a doubling interval between these */
#define KEYFRAME_REQUEST_FIRST_INTERVAL (100 * GST_MSECOND)
#define KEYFRAME_REQUEST_MAX_INTERVAL (2 * GST_SECOND)
/* frame time of a recording (from its first media frame) after which
 * its pads are all there */
#define DS_DEPAY_PAD_DISCOVERY_MS 1000
/* what a recording's discovery holds back at most (bytes of output
 * buffers, and DS_DEPAY_HELD_OBJECT_BYTES for each buffer or event held):
 * while it prerolls, decodebin2 lets each queue of its multiqueue take
 * 8 MiB (AUTO_PREROLL_SIZE_BYTES, since GStreamer 1.20; 2 MiB before)
 * and shows the pads it has when one is full. Held here for all the pads
 * together, 8 MiB are reached no later than that. */
#define DS_DEPAY_PAD_DISCOVERY_BYTES (8 * 1024 * 1024)
/* ... and how many buffers and events: a recording of tiny frames with
 * one timestamp (time does not end the discovery) or of a new picture
 * size each frame (a caps event each) is held back no further. Each
 * held buffer or event also counts as this many bytes: the object and
 * its place in the queue. */
#define DS_DEPAY_PAD_DISCOVERY_OBJECTS 4096
#define DS_DEPAY_HELD_OBJECT_BYTES 256
/* inside a player, a parsed stream of nothing but signals for this long
 * (frame time) is an error: nothing to play */
#define DS_DEPAY_SIGNALS_ONLY_MS 5000

/* the measured framerate is made of the intervals between this many
 * pictures at most */
#define DS_DEPAY_FPS_WINDOW 16

typedef enum
{
  STREAM_VIDEO,
  STREAM_IMAGE,
  STREAM_AUDIO,
  STREAM_SIGNAL,
  N_STREAMS
} GstDsDepayStreamKind;

typedef struct
{
  GstPad *pad;
  /* what the current caps were made from, to build caps only on change */
  gboolean have_caps;
  guint caps_key[4];
  /* the caps made from them: while a recording's pads are discovered
   * they may still be held, and the pad has those before */
  GstCaps *caps;

  gboolean need_stream_start;
  gboolean need_segment;
  gboolean discont;
  gboolean eos;
} GstDsDepayStream;

struct _GstDsDepay
{
  GstElement parent;

  GstPad *sinkpad;

  /* settings, under the object lock */
  guint max_frame_size;
  gboolean request_keyframe;
  gboolean wait_for_keyframe;
  GstDsDepayTimestampMode timestamp_mode;

  /* statistics, under the object lock */
  guint64 stat_frames;
  guint64 stat_bytes;
  guint64 stat_gaps;
  guint64 stat_dropped;
  guint64 stat_malformed;
  guint64 stat_keyframe_requests;
  guint64 stat_signal_incomplete;

  /* picture size for clamping navigation, under the object lock */
  guint video_width;
  guint video_height;
  guint image_width;
  guint image_height;
  guint8 nav_buttons;

  /* streaming state */
  GstDsFramer framer;
  GstFlowCombiner *flow_combiner;
  GstDsDepayStream streams[N_STREAMS];
  DsSeqTracker seqs;            /* seq continuity (the stream model) */
  guint group_id;
  guint generation;
  gboolean ended;
  GstSegment in_segment;
  GstSegment out_segment;
  gint in_fps_n;
  gint in_fps_d;
  /* the framerate of the video caps: the input's when it has one, else
   * the one measured from the picture timestamps (0/1 until known) */
  gint fps_n;
  gint fps_d;
  /* the measurement: the last picture's frame timestamp (ms) and a ring
   * of the intervals between pictures (ms) */
  gboolean fps_have_last;
  guint32 fps_last_ts;
  guint fps_intervals[DS_DEPAY_FPS_WINDOW];
  guint fps_n_intervals;
  guint fps_next;
  /* a materially different measured rate, and for how many pictures in
   * a row it was measured */
  gint fps_candidate_n;
  gint fps_candidate_d;
  guint fps_candidate_count;
  /* a parsed byte stream (dsparse: a recording, decodebin): the pads are
   * known after DS_DEPAY_PAD_DISCOVERY_MS of its frame time */
  gboolean parsed_input;
  gboolean no_more_pads;
  gboolean have_discovery_start;
  guint32 discovery_start;
  /* what went to the pads during the discovery, in order (buffers and the
   * events after them), sent after no-more-pads */
  GQueue held;
  gsize held_bytes;             /* with DS_DEPAY_HELD_OBJECT_BYTES each */
  gboolean pool_unqueried;      /* decided without asking downstream */
  /* inside a decodebin (playbin, gst-play-1.0): the signal stream is not
   * exposed, as no player can take it; whether signals came */
  gboolean in_player;
  gboolean player_dropped_signals;
  gboolean have_signals_only_start;
  guint32 signals_only_start;

  DsTimestampUnwrapper unwrapper;
  gboolean have_first_ts;
  guint64 first_ts;
  /* frame times of a stream that follows an End go on from there */
  GstClockTime time_base;
  GstClockTime last_frame_time;
  gboolean have_pts_offset;
  gint64 pts_offset;

  /* the last picture, as the next delta's reference: its memory, held
   * like a buffer holds it (locked exclusive, so whoever else maps it for
   * writing gets a copy), not the buffer that was pushed */
  GstMemory *reference;
  guint ref_width;
  guint ref_height;
  /* EncodedVideo: whether the next delta unit can be decoded */
  DsEncodedVideoState encoded;
  /* H.264: profile_idc, constraint flags and level_idc of the last SPS
   * seen in a keyframe unit, for the caps (profile, level); all 0 before */
  guint8 h264_profile[3];
  /* the pool of decoded pictures, decided with downstream (ALLOCATION
   * query) for the video caps it was made for, and their layout */
  GstBufferPool *pool;
  GstCaps *pool_caps;
  GstVideoInfo pool_info;
  /* tight pictures to decode into when the pool's are not (padded rows):
   * the run-length code and the reference are whole pictures */
  GstBufferPool *tight_pool;
  gsize tight_size;
  guint8 *scratch;
  gsize scratch_size;

  DsSignalState *signals;
  /* a signal frame was seen since the stream started */
  gboolean have_signal_state;
  /* frames of the signal stream were lost (or a flush) since the last
   * SignalSync: a SignalDiff now merges onto a state that may be stale */
  gboolean signal_gap;
  /* the state may be stale until the next SignalSync */
  gboolean signal_incomplete;

  /* keyframe requests, under kf_lock */
  GMutex kf_lock;
  gboolean waiting_for_keyframe;
  GstClockID kf_clock_id;
  GstClockTime kf_interval;
};

/* gstdsdepay.c: pads and output */

typedef GstCaps *(*GstDsDepayMakeCaps) (GstDsDepay * self, guint key0,
    guint key1, guint key2, guint key3);

G_GNUC_INTERNAL
GstPad *gst_ds_depay_prepare_pad (GstDsDepay * self,
    GstDsDepayStreamKind kind, guint key0, guint key1, guint key2,
    guint key3, GstDsDepayMakeCaps make_caps);
G_GNUC_INTERNAL
GstFlowReturn gst_ds_depay_push (GstDsDepay * self, GstDsDepayStreamKind kind,
    GstBuffer * buffer, GstClockTime pts, GstClockTime duration);
G_GNUC_INTERNAL
GstFlowReturn gst_ds_depay_push_full (GstDsDepay * self,
    GstDsDepayStreamKind kind, GstBuffer * buffer, GstClockTime pts,
    GstClockTime duration, gboolean delta_unit);
G_GNUC_INTERNAL
void gst_ds_depay_skip_malformed (GstDsDepay * self, const gchar * format,
    ...) G_GNUC_PRINTF (2, 3);
G_GNUC_INTERNAL
void gst_ds_depay_count_dropped (GstDsDepay * self);

/* gstdsdepay-timing.c */

G_GNUC_INTERNAL
void gst_ds_depay_reset_timing (GstDsDepay * self);
G_GNUC_INTERNAL
void gst_ds_depay_reset_stream_timing (GstDsDepay * self);
G_GNUC_INTERNAL
void gst_ds_depay_set_input_caps (GstDsDepay * self, GstCaps * caps);
G_GNUC_INTERNAL
void gst_ds_depay_update_out_segment (GstDsDepay * self);
G_GNUC_INTERNAL
GstClockTime gst_ds_depay_frame_pts (GstDsDepay * self,
    const DsHeader * header, GstClockTime in_pts,
    GstDsDepayTimestampMode mode);
G_GNUC_INTERNAL
void gst_ds_depay_end_timing (GstDsDepay * self, const DsHeader * header);
G_GNUC_INTERNAL
GstClockTime gst_ds_depay_picture_duration (GstDsDepay * self);
G_GNUC_INTERNAL
void gst_ds_depay_post_signals_only (GstDsDepay * self);
G_GNUC_INTERNAL
void gst_ds_depay_measure_framerate (GstDsDepay * self,
    const DsHeader * header);

/* gstdsdepay-picture.c. Pixels, DeltaPixels, MotionDeltaPixels,
 * CompressedPixels, AudioPcm,
 * AudioCompressed, Haptic and the signal types reach their handler
 * validated by ds_header_validate(): sizes fit the type, a payload is
 * there when the type needs one. */

G_GNUC_INTERNAL
GstFlowReturn gst_ds_depay_handle_pixels (GstDsDepay * self,
    const DsHeader * header, GstBuffer * payload, GstClockTime pts);
G_GNUC_INTERNAL
GstFlowReturn gst_ds_depay_handle_delta (GstDsDepay * self,
    const DsHeader * header, GstBuffer * payload, GstClockTime pts,
    guint missing, guint max_size);
G_GNUC_INTERNAL
GstFlowReturn gst_ds_depay_handle_image (GstDsDepay * self,
    const DsHeader * header, GstBuffer * payload, GstClockTime pts);
/* @decodable: ds_encoded_video_state_push() said so; @codec: the
 * payload's, checked */
G_GNUC_INTERNAL
GstFlowReturn gst_ds_depay_handle_encoded (GstDsDepay * self,
    const DsHeader * header, GstBuffer * payload, GstClockTime pts,
    guint8 codec, gboolean decodable);
G_GNUC_INTERNAL
void gst_ds_depay_skip_picture (GstDsDepay * self, const DsHeader * header);
G_GNUC_INTERNAL
void gst_ds_depay_reset_picture (GstDsDepay * self);
G_GNUC_INTERNAL
void gst_ds_depay_release_pool (GstDsDepay * self);
G_GNUC_INTERNAL
void gst_ds_depay_free_pictures (GstDsDepay * self);
G_GNUC_INTERNAL
void gst_ds_depay_send_keyframe_request (GstDsDepay * self);
G_GNUC_INTERNAL
void gst_ds_depay_reset_keyframe_requests (GstDsDepay * self);

/* gstdsdepay-signal.c */

G_GNUC_INTERNAL
GstFlowReturn gst_ds_depay_handle_signal (GstDsDepay * self,
    const DsHeader * header, GstBuffer * payload, GstClockTime pts);
G_GNUC_INTERNAL
void gst_ds_depay_handle_schema (GstDsDepay * self, const DsHeader * header,
    GstBuffer * payload);
G_GNUC_INTERNAL
void gst_ds_depay_reset_signals (GstDsDepay * self);

/* gstdsdepay-input.c */

G_GNUC_INTERNAL
gboolean gst_ds_depay_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event);

G_END_DECLS

#endif /* __GST_DS_DEPAY_PRIVATE_H__ */
