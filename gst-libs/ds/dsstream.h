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

/*
 * The stream model: what a ds-stream means, written once for the
 * elements, the relay and (through tests/vectors) the browser viewer.
 * Plain C objects with no sockets and no GStreamer in them.
 *
 * - DsSeqTracker: seq continuity per seq stream (docs/protocol.md §2):
 *   gaps, duplicates, wraps, and a new stream after End or Keyframe.
 * - DsStreamState: consumes a source's frames in order and holds what a
 *   receiver needs to rejoin now (SPEC §6.4): the schema, ONE merged
 *   signal frame, the picture chain (keyframe and deltas since, collapsed
 *   into one rebuilt picture when it outgrows its bound; for EncodedVideo
 *   the keyframe unit and every unit since, dropped until the next
 *   keyframe unit when it outgrows its bound), the last image and End,
 *   every part bounded in bytes.
 * - DsFrameQueue (dsframequeue.h): the bounded send queue and its one
 *   drop policy (SPEC §6.5).
 */

#ifndef __DS_STREAM_H__
#define __DS_STREAM_H__

#include <glib.h>

#include "dsprotocol.h"
#include "dssignal.h"

G_BEGIN_DECLS

/* Seq streams (docs/protocol.md §2): a sender's seq counts per kind of
 * media. Keyframe, Ping, End and SubscribeFilter are on none. */
typedef enum
{
  DS_SEQ_PICTURES,              /* Pixels, DeltaPixels, MotionDeltaPixels,
                                 * CompressedPixels, EncodedVideo */
  DS_SEQ_AUDIO,                 /* AudioPcm, AudioCompressed */
  DS_SEQ_SIGNALS,               /* SignalSync, SignalDiff, SchemaAnnounce */
  DS_SEQ_OTHER,                 /* Haptic, Neural* */
  DS_SEQ_N_STREAMS,
  DS_SEQ_NONE = DS_SEQ_N_STREAMS
} DsSeqStream;

DsSeqStream     ds_frame_type_seq_stream  (guint8 type);
const gchar *   ds_seq_stream_name        (DsSeqStream stream);

typedef struct
{
  gboolean have_seq[DS_SEQ_N_STREAMS];
  guint16 seq[DS_SEQ_N_STREAMS];
  guint64 missing;              /* frames missing, all streams */
  guint64 late;                 /* duplicates and reordered frames */
} DsSeqTracker;

void            ds_seq_tracker_init       (DsSeqTracker * tracker);
/* Forgets every stream's position (a flush, a new connection) */
void            ds_seq_tracker_reset      (DsSeqTracker * tracker);
/* Takes the next frame. Returns how many frames of its seq stream are
 * missing before it (0: in order or the first of its stream), or -1 for a
 * duplicate or reordered frame (its stream's position is kept). A
 * Keyframe or End frame starts a new stream for every kind: what follows
 * it is never counted as a gap. */
gint            ds_seq_tracker_push       (DsSeqTracker * tracker,
                                           const DsHeader * header);

/* A receiver of EncodedVideo (docs/protocol.md §3): a unit without
 * FLAG_KEYFRAME is decodable only after the keyframe it follows and every
 * unit since. Nothing is decodable at the start, after a gap in the
 * picture seq stream, a Keyframe (0xF0) or End frame, until the next unit
 * with FLAG_KEYFRAME; a delta unit of another codec or size than that
 * keyframe is not decodable either. */
typedef struct
{
  gboolean have_keyframe;       /* units since a keyframe are decodable */
  guint8 codec;                 /* of that keyframe */
  guint16 width;
  guint16 height;
  guint64 skipped;              /* delta units skipped */
} DsEncodedVideoState;

void            ds_encoded_video_state_init (DsEncodedVideoState * state);
/* The next delta units cannot be decoded (a flush, a lost or undecodable
 * unit): they are skipped until a keyframe */
void            ds_encoded_video_state_lose (DsEncodedVideoState * state);
/* Takes every frame a receiver gets, in order, with the number of frames
 * its seq stream misses before it (ds_seq_tracker_push(); 0 when
 * unknown) and, for EncodedVideo, the payload's @codec byte. Returns TRUE for an EncodedVideo frame @header that can be
 * decoded (a keyframe, or a delta unit that follows one), FALSE for one
 * to skip (counted in skipped) and for every other frame (a gap in the
 * picture stream, Keyframe and End make the state lose its keyframe). */
gboolean        ds_encoded_video_state_push (DsEncodedVideoState * state,
                                           const DsHeader * header,
                                           guint8 codec,
                                           gint missing);

/* Bounds and role of a DsStreamState; ds_stream_settings_init() gives
 * the defaults */
#define DS_STREAM_DEFAULT_MAX_PICTURE_PIXELS (7680 * 4320)
#define DS_STREAM_DEFAULT_MAX_CACHE_BYTES (64 * 1024 * 1024)

typedef struct
{
  guint64 max_picture_pixels;   /* width x height of any picture */
  gsize max_cache_bytes;        /* schema + picture chain (or chain of
                                 * access units) + image + End */
  gsize max_frame_bytes;        /* largest frame a rebuilt picture may be */
  DsSignalLimits signal_limits; /* each signal payload and the merge */
  /* keep the picture chain and image for joiners (default TRUE); FALSE:
   * only the picture size is followed (a source asks its encoder for a
   * keyframe instead) */
  gboolean cache_pictures;
  /* the state sees the stream from its first frame (a source): its
   * signal state is whole from the start (default FALSE: a relay that
   * may join a running stream) */
  gboolean origin;
} DsStreamSettings;

void            ds_stream_settings_init   (DsStreamSettings * settings);

typedef struct _DsStreamState DsStreamState;

/* What ds_stream_state_push() decided for a frame */
typedef enum
{
  DS_STREAM_FORWARD,            /* taken: pass it on to receivers */
  DS_STREAM_SKIP,               /* not for receivers (a delta without
                                 * reference; Ping; SubscribeFilter) */
  DS_STREAM_REFUSED,            /* over a bound: @error says which */
  DS_STREAM_MALFORMED,          /* not a valid frame: @error says why */
} DsStreamVerdict;

/* What the owner should do after a frame (bit flags) */
typedef enum
{
  /* ask the source for a keyframe (and a SignalSync); the owner
   * coalesces and rate-limits */
  DS_STREAM_WANT_KEYFRAME = 1 << 0,
  /* the source's picture changed in a way receivers cannot follow (a
   * Keyframe frame, a refused picture): no receiver gets a delta until
   * the next picture keyframe */
  DS_STREAM_REFERENCE_LOST = 1 << 1,
  /* the picture chain was collapsed into one rebuilt picture */
  DS_STREAM_REBUILT = 1 << 2,
  /* a cached part was dropped or not cached for max_cache_bytes */
  DS_STREAM_CACHE_DROPPED = 1 << 3,
  /* the first SignalDiff without a SignalSync (a relay restarted under a
   * diffs-only source): a SignalSync is asked for */
  DS_STREAM_SIGNALS_PARTIAL = 1 << 4,
} DsStreamEvents;

/* Counters of a DsStreamState, for logs and metrics */
typedef struct
{
  guint64 frames;               /* frames pushed */
  guint64 pictures_refused;     /* over max_picture_pixels */
  guint64 signals_refused;      /* over the signal limits */
  guint64 malformed;
  guint64 no_reference;         /* deltas on a picture of another size */
  guint64 rebuilds;
  guint64 cache_drops;
} DsStreamStats;

DsStreamState * ds_stream_state_new       (const DsStreamSettings * settings);
void            ds_stream_state_free      (DsStreamState * state);
/* Forgets everything held (stats are kept) */
void            ds_stream_state_clear     (DsStreamState * state);
void            ds_stream_state_set_settings (DsStreamState * state,
                                           const DsStreamSettings * settings);

/* Consumes the source's next frame: @frame is the whole message (header
 * and payload), @header its parsed header (ds_frame_parse_message()).
 * Validates it (ds_frame_validate(), the picture bounds, the run-length
 * code's decoded size, the signal bounds) before anything is allocated
 * from it, updates the catch-up state, and returns what to do with it;
 * @events (optional) gets DsStreamEvents. */
DsStreamVerdict ds_stream_state_push      (DsStreamState * state,
                                           GBytes * frame,
                                           const DsHeader * header,
                                           guint * events,
                                           GError ** error);

/* What a receiver needs to rejoin now, appended to @frames (new
 * references, in order): the schema, ONE signal frame (a SignalSync when
 * the state is the source's whole state, else a SignalDiff of the keys
 * known; stripped to @select, a SubscribeFilter, when non-NULL), the
 * picture (the keyframe and the deltas since, or the rebuilt picture,
 * or the keyframe unit and every EncodedVideo unit since, in order; and
 * the last image when it is newer), then End when the stream is
 * over. Returns DsStreamEvents: DS_STREAM_WANT_KEYFRAME when the signal
 * state is not whole or the source streams deltas that the cache holds no
 * keyframe for. @has_reference (optional): whether the frames give the
 * receiver the picture the source's next delta applies to. */
guint           ds_stream_state_catchup   (DsStreamState * state,
                                           const gchar * const * select,
                                           GPtrArray * frames,
                                           gboolean * has_reference);
/* Just the signal part of the catch-up (a receiver whose SubscribeFilter
 * changed); the same events */
guint           ds_stream_state_signal_catchup (DsStreamState * state,
                                           const gchar * const * select,
                                           GPtrArray * frames);
/* Just the picture part of the catch-up (a receiver that lost deltas;
 * not one that lost EncodedVideo units: ds_stream_state_is_encoded()) */
guint           ds_stream_state_picture_catchup (DsStreamState * state,
                                           GPtrArray * frames,
                                           gboolean * has_reference);

/* Nothing to send a joiner */
gboolean        ds_stream_state_is_empty  (DsStreamState * state);
/* A picture (keyframe or image) to send a joiner */
gboolean        ds_stream_state_has_picture (DsStreamState * state);
gboolean        ds_stream_state_has_schema (DsStreamState * state);
/* Deltas cached after the keyframe */
guint           ds_stream_state_get_n_deltas (DsStreamState * state);
/* Bytes held for joiners (the merged signal state is bounded apart) */
gsize           ds_stream_state_get_cache_bytes (DsStreamState * state);
/* The merged signal state; whole = from a SignalSync (or Keyframe) on */
DsSignalState * ds_stream_state_get_signals (DsStreamState * state,
                                           gboolean * whole);
/* The size the source's deltas apply to; FALSE when unknown */
gboolean        ds_stream_state_get_picture_size (DsStreamState * state,
                                           guint * width,
                                           guint * height);
gboolean        ds_stream_state_has_ended (DsStreamState * state);
/* The source's pictures are EncodedVideo: the cached chain is the keyframe
 * unit and every unit since, which only a receiver that has none of them
 * (a joiner) can take; a receiver that lost units waits for the next
 * keyframe unit instead (their seq would go back) */
gboolean        ds_stream_state_is_encoded (DsStreamState * state);
void            ds_stream_state_get_stats (DsStreamState * state,
                                           DsStreamStats * stats);

/* A delta picture (DeltaPixels without FLAG_KEYFRAME, MotionDeltaPixels,
 * EncodedVideo without FLAG_KEYFRAME) needs the picture before it; a
 * picture keyframe is one. For routing frames to receivers. */
gboolean        ds_frame_needs_reference  (const DsHeader * header);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsStreamState, ds_stream_state_free)

G_END_DECLS

#endif /* __DS_STREAM_H__ */
