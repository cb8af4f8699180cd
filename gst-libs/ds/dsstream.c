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

/* The stream model (dsstream.h): seq continuity and the catch-up state of
 * a source's stream. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <zstd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "dsstream.h"
#include "dscompress.h"
#include "dsmotion.h"
#include "dsrle.h"

/* Seq streams */

DsSeqStream
ds_frame_type_seq_stream (guint8 type)
{
  switch (type) {
    case DS_FRAME_PIXELS:
    case DS_FRAME_DELTA_PIXELS:
    case DS_FRAME_MOTION_DELTA_PIXELS:
    case DS_FRAME_COMPRESSED_PIXELS:
    case DS_FRAME_ENCODED_VIDEO:
      return DS_SEQ_PICTURES;
    case DS_FRAME_AUDIO_PCM:
    case DS_FRAME_AUDIO_COMPRESSED:
      return DS_SEQ_AUDIO;
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
    case DS_FRAME_SCHEMA_ANNOUNCE:
      return DS_SEQ_SIGNALS;
    case DS_FRAME_HAPTIC:
    case DS_FRAME_NEURAL_FRAME:
    case DS_FRAME_NEURAL_AUDIO:
    case DS_FRAME_NEURAL_ACTUATOR:
    case DS_FRAME_NEURAL_LATENT:
      return DS_SEQ_OTHER;
    default:
      return DS_SEQ_NONE;
  }
}

const gchar *
ds_seq_stream_name (DsSeqStream stream)
{
  static const gchar *const names[DS_SEQ_N_STREAMS] = {
    "pictures", "audio", "signals", "other"
  };

  return stream < DS_SEQ_N_STREAMS ? names[stream] : "none";
}

void
ds_seq_tracker_init (DsSeqTracker * tracker)
{
  memset (tracker, 0, sizeof (*tracker));
}

void
ds_seq_tracker_reset (DsSeqTracker * tracker)
{
  guint i;

  for (i = 0; i < DS_SEQ_N_STREAMS; i++)
    tracker->have_seq[i] = FALSE;
}

gint
ds_seq_tracker_push (DsSeqTracker * tracker, const DsHeader * header)
{
  DsSeqStream id;
  gint distance;

  if (header->type == DS_FRAME_KEYFRAME || header->type == DS_FRAME_END) {
    ds_seq_tracker_reset (tracker);
    return 0;
  }
  id = ds_frame_type_seq_stream (header->type);
  if (id == DS_SEQ_NONE)
    return 0;

  if (!tracker->have_seq[id]) {
    tracker->have_seq[id] = TRUE;
    tracker->seq[id] = header->seq;
    return 0;
  }
  distance = ds_seq_distance (tracker->seq[id], header->seq);
  if (distance <= 0) {
    tracker->late++;
    return -1;
  }
  tracker->seq[id] = header->seq;
  tracker->missing += distance - 1;
  return distance - 1;
}

/* Limits */

void
ds_stream_settings_init (DsStreamSettings * settings)
{
  settings->max_picture_pixels = DS_STREAM_DEFAULT_MAX_PICTURE_PIXELS;
  settings->max_cache_bytes = DS_STREAM_DEFAULT_MAX_CACHE_BYTES;
  settings->max_frame_bytes = DS_DEFAULT_MAX_FRAME_BYTES;
  ds_signal_limits_init (&settings->signal_limits);
  settings->cache_pictures = TRUE;
  settings->origin = FALSE;
}

gboolean
ds_frame_needs_reference (const DsHeader * header)
{
  if (header->flags & DS_FLAG_INPUT)
    return FALSE;
  return header->type == DS_FRAME_MOTION_DELTA_PIXELS ||
      ((header->type == DS_FRAME_DELTA_PIXELS ||
          header->type == DS_FRAME_ENCODED_VIDEO) &&
      !ds_header_is_picture_keyframe (header));
}

/* A receiver of encoded video */

void
ds_encoded_video_state_init (DsEncodedVideoState * state)
{
  memset (state, 0, sizeof (*state));
}

void
ds_encoded_video_state_lose (DsEncodedVideoState * state)
{
  state->have_keyframe = FALSE;
}

gboolean
ds_encoded_video_state_push (DsEncodedVideoState * state,
    const DsHeader * header, guint8 codec, gint missing)
{
  if (header->flags & DS_FLAG_INPUT)
    return FALSE;
  if (header->type == DS_FRAME_KEYFRAME || header->type == DS_FRAME_END) {
    state->have_keyframe = FALSE;
    return FALSE;
  }
  /* a lost picture frame may have been a unit */
  if (missing > 0 && ds_frame_type_seq_stream (header->type) == DS_SEQ_PICTURES)
    state->have_keyframe = FALSE;
  if (header->type != DS_FRAME_ENCODED_VIDEO)
    return FALSE;

  if (header->flags & DS_FLAG_KEYFRAME) {
    state->have_keyframe = TRUE;
    state->codec = codec;
    state->width = header->width;
    state->height = header->height;
    return TRUE;
  }
  if (state->have_keyframe && codec == state->codec &&
      header->width == state->width && header->height == state->height)
    return TRUE;
  state->have_keyframe = FALSE;
  state->skipped++;
  return FALSE;
}

/* The catch-up state */

/* A delta chain is collapsed into one picture only when applying it
 * costs at least 1/REBUILD_MIN_SHARE of a pass over the raw picture: a
 * rebuild costs a few passes over the picture, so this bounds the work per
 * unit of work received */
#define REBUILD_MIN_SHARE 8

/* A chain whose application costs more than this many passes over the
 * picture is collapsed (what a joiner applies, and a rebuild, stay
 * bounded). The work of a delta (delta_work()) is its payload, plus what
 * it decompresses to and the bytes its moves copy */
#define REBUILD_MAX_WORK_PICTURES 8

/* glibc keeps freed memory in its arenas: a large cache is given back */
#define TRIM_THRESHOLD (4 * 1024 * 1024)

struct _DsStreamState
{
  DsStreamSettings settings;

  GBytes *schema;               /* last SchemaAnnounce frame */

  DsSignalState *signals;
  gboolean have_signals;
  /* the merged state is the source's whole state: a SignalSync (or a
   * Keyframe, which resets receivers too) came since the state began.
   * Else it merges diffs only: a joiner gets a SignalDiff */
  gboolean signals_whole;
  gboolean signal_sync_asked;
  guint16 signal_seq;
  guint32 signal_ts;
  /* the catch-up frame of the whole state (no SubscribeFilter),
   * serialised once per change, not once per joiner */
  GBytes *signal_catchup;

  GBytes *keyframe;             /* Pixels, keyframe DeltaPixels or unit */
  /* DeltaPixels and MotionDeltaPixels since keyframe, or the EncodedVideo
   * units since the keyframe unit */
  GPtrArray *deltas;
  /* the source's last picture frame was EncodedVideo: the chain holds
   * access units, replayed as they came, never rebuilt */
  gboolean encoded;
  gsize deltas_bytes;
  guint64 deltas_work;          /* what applying them costs (delta_work()) */
  GBytes *image;                /* last CompressedPixels */
  gboolean image_is_newest;     /* it came after the last picture frame */
  GBytes *end;                  /* the End frame, while the stream is over */

  /* size of the picture the source's deltas apply to (its last Pixels or
   * keyframe DeltaPixels); 0 when unknown */
  guint16 ref_width;
  guint16 ref_height;

  DsStreamStats stats;
};

static gsize
bytes_size (GBytes * bytes)
{
  return bytes ? g_bytes_get_size (bytes) : 0;
}

static GBytes *
frame_new (guint8 type, guint8 flags, guint16 seq, guint32 ts,
    gconstpointer payload, gsize len)
{
  DsHeader header = { 0, };

  header.type = type;
  header.flags = flags;
  header.seq = seq;
  header.timestamp = ts;
  return ds_frame_pack (&header, payload, len);
}

static void
released (gsize bytes)
{
#ifdef __GLIBC__
  if (bytes >= TRIM_THRESHOLD)
    malloc_trim (0);
#endif
}

/* What the picture chain may not use: schema, image, End */
static gsize
other_cache_bytes (DsStreamState * state)
{
  return bytes_size (state->schema) + bytes_size (state->image) +
      bytes_size (state->end);
}

gsize
ds_stream_state_get_cache_bytes (DsStreamState * state)
{
  return other_cache_bytes (state) + bytes_size (state->keyframe) +
      state->deltas_bytes;
}

static void
clear_chain (DsStreamState * state)
{
  g_clear_pointer (&state->keyframe, g_bytes_unref);
  g_ptr_array_set_size (state->deltas, 0);
  state->deltas_bytes = 0;
  state->deltas_work = 0;
}

static void
clear_picture (DsStreamState * state)
{
  gsize bytes = bytes_size (state->keyframe) + state->deltas_bytes +
      bytes_size (state->image);

  clear_chain (state);
  g_clear_pointer (&state->image, g_bytes_unref);
  state->image_is_newest = FALSE;
  released (bytes);
}

static void
clear_signals (DsStreamState * state)
{
  ds_signal_state_clear (state->signals);
  state->have_signals = FALSE;
  /* a source's own state is whole from its first frame */
  state->signals_whole = state->settings.origin;
  state->signal_sync_asked = FALSE;
  g_clear_pointer (&state->signal_catchup, g_bytes_unref);
}

DsStreamState *
ds_stream_state_new (const DsStreamSettings * settings)
{
  DsStreamState *state = g_new0 (DsStreamState, 1);

  state->signals = ds_signal_state_new ();
  ds_stream_state_set_settings (state, settings);
  state->deltas = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  return state;
}

void
ds_stream_state_set_settings (DsStreamState * state,
    const DsStreamSettings * settings)
{
  if (settings)
    state->settings = *settings;
  else
    ds_stream_settings_init (&state->settings);
  if (state->settings.origin && !state->have_signals)
    state->signals_whole = TRUE;
}

void
ds_stream_state_clear (DsStreamState * state)
{
  clear_picture (state);
  g_clear_pointer (&state->schema, g_bytes_unref);
  g_clear_pointer (&state->end, g_bytes_unref);
  clear_signals (state);
  state->ref_width = state->ref_height = 0;
  state->encoded = FALSE;
}

void
ds_stream_state_free (DsStreamState * state)
{
  if (state == NULL)
    return;
  ds_stream_state_clear (state);
  g_ptr_array_unref (state->deltas);
  ds_signal_state_free (state->signals);
  g_free (state);
}

gboolean
ds_stream_state_is_empty (DsStreamState * state)
{
  return state->schema == NULL && !state->have_signals &&
      state->keyframe == NULL && state->image == NULL && state->end == NULL;
}

gboolean
ds_stream_state_has_picture (DsStreamState * state)
{
  return state->keyframe != NULL || state->image != NULL;
}

gboolean
ds_stream_state_has_schema (DsStreamState * state)
{
  return state->schema != NULL;
}

guint
ds_stream_state_get_n_deltas (DsStreamState * state)
{
  return state->deltas->len;
}

DsSignalState *
ds_stream_state_get_signals (DsStreamState * state, gboolean * whole)
{
  if (whole)
    *whole = state->signals_whole;
  return state->signals;
}

gboolean
ds_stream_state_get_picture_size (DsStreamState * state, guint * width,
    guint * height)
{
  if (width)
    *width = state->ref_width;
  if (height)
    *height = state->ref_height;
  return state->ref_width != 0;
}

gboolean
ds_stream_state_is_encoded (DsStreamState * state)
{
  return state->encoded;
}

gboolean
ds_stream_state_has_ended (DsStreamState * state)
{
  return state->end != NULL;
}

void
ds_stream_state_get_stats (DsStreamState * state, DsStreamStats * stats)
{
  *stats = state->stats;
}

/* The source's picture changed in a way receivers cannot follow */
static void
forget_reference (DsStreamState * state, guint * events)
{
  gsize bytes = bytes_size (state->keyframe) + state->deltas_bytes;

  state->ref_width = state->ref_height = 0;
  clear_chain (state);
  released (bytes);
  *events |= DS_STREAM_REFERENCE_LOST;
}

/* Checks a picture frame before it is cached or forwarded, in O(payload)
 * and without allocating: the picture size against max_picture_pixels
 * (for images also the size their own header gives), the decoded size of
 * a run-length code, and that a delta applies to the source's current
 * picture. */
static DsStreamVerdict
accept_picture (DsStreamState * state, const DsHeader * header,
    const guint8 * payload, guint * events, GError ** error)
{
  guint64 pixels = (guint64) header->width * header->height;
  gint image_width = 0, image_height = 0;

  if (header->type == DS_FRAME_COMPRESSED_PIXELS &&
      ds_image_sniff (payload, header->payload_len, &image_width,
          &image_height) != NULL && image_width > 0 && image_height > 0)
    pixels = MAX (pixels, (guint64) image_width * (guint64) image_height);
  if (pixels > state->settings.max_picture_pixels) {
    state->stats.pictures_refused++;
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "a %s frame of %" G_GUINT64_FORMAT " pixels (header %ux%u) is over "
        "the limit of %" G_GUINT64_FORMAT " pixels",
        ds_frame_type_name (header->type), pixels, header->width,
        header->height, state->settings.max_picture_pixels);
    /* an image is no delta reference; anything else replaced the picture
     * receivers hold by one they will never get */
    if (header->type != DS_FRAME_COMPRESSED_PIXELS)
      forget_reference (state, events);
    return DS_STREAM_REFUSED;
  }
  if (header->type == DS_FRAME_ENCODED_VIDEO)
    goto check_reference;
  if (header->type != DS_FRAME_DELTA_PIXELS &&
      header->type != DS_FRAME_MOTION_DELTA_PIXELS)
    return DS_STREAM_FORWARD;

  /* a zstd payload is not decoded here; its header size is bounded above.
   * The move table of a MotionDeltaPixels was checked by
   * ds_frame_validate(). */
  if (!(header->flags & DS_FLAG_COMPRESSED)) {
    gsize table = 0;
    gssize decoded;

    if (header->type == DS_FRAME_MOTION_DELTA_PIXELS)
      table = DS_MOTION_TABLE_SIZE (payload[0] | (payload[1] << 8));
    decoded = ds_rle_decoded_size (payload + table,
        header->payload_len - table);
    if (decoded < 0 || (guint64) decoded != pixels * 4) {
      state->stats.malformed++;
      g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_SIZE_MISMATCH,
          "%s of %ux%u whose run-length code decodes to %"
          G_GSSIZE_FORMAT " bytes, not %" G_GUINT64_FORMAT,
          ds_frame_type_name (header->type), header->width,
          header->height, decoded, pixels * 4);
      return DS_STREAM_MALFORMED;
    }
  }

check_reference:
  if (ds_header_is_picture_keyframe (header))
    return DS_STREAM_FORWARD;
  if (header->width != state->ref_width || header->height != state->ref_height) {
    state->stats.no_reference++;
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_NO_REFERENCE,
        "a %s of %ux%u on a picture of %ux%u",
        ds_frame_type_name (header->type), header->width,
        header->height, state->ref_width, state->ref_height);
    *events |= DS_STREAM_WANT_KEYFRAME;
    return DS_STREAM_SKIP;
  }
  return DS_STREAM_FORWARD;
}

/* The largest payload a picture frame of @size picture bytes may
 * decompress to */
static gsize
content_limit (DsStreamState * state, guint8 type, gsize size)
{
  gsize limit;

  if (type == DS_FRAME_PIXELS)
    limit = size;
  else if (type == DS_FRAME_MOTION_DELTA_PIXELS)
    limit = DS_RLE_MAX_ENCODED_SIZE (size) +
        DS_MOTION_TABLE_SIZE (DS_MOTION_MAX_MOVES);
  else
    limit = DS_RLE_MAX_ENCODED_SIZE (size);
  return MIN (limit, state->settings.max_frame_bytes);
}

/* What applying a delta costs, in bytes passed over: its payload, what it
 * decompresses to (the header's content size, else the most it may), and
 * twice the bytes its moves copy (at most one picture copy and the moved
 * area, dsmotion.c), all of them for a compressed table */
static guint64
delta_work (DsStreamState * state, const DsHeader * header,
    const guint8 * payload)
{
  gsize size = (gsize) header->width * header->height * 4;
  guint64 work = header->payload_len;
  guint64 moved = 0;

  if (header->flags & DS_FLAG_COMPRESSED) {
    guint64 content = ds_payload_content_size (payload, header->payload_len);

    work += MIN (content, content_limit (state, header->type, size));
    if (header->type == DS_FRAME_MOTION_DELTA_PIXELS)
      moved = (guint64) header->width * header->height *
          DS_MOTION_MAX_AREA_PICTURES;
  } else if (header->type == DS_FRAME_MOTION_DELTA_PIXELS) {
    ds_motion_parse_moves (payload, header->payload_len, header->width,
        header->height, NULL, &moved, NULL);
  }
  return work + moved * 4 * 2;
}

/* The payload of a cached frame (@data, a whole frame with header @h),
 * decompressed into *@buf when it has FLAG_COMPRESSED */
static const guint8 *
frame_payload (DsStreamState * state, const guint8 * data, const DsHeader * h,
    gsize size, guint8 ** buf, gsize * buf_size, gsize * len, GError ** error)
{
  const guint8 *payload = data + DS_HEADER_SIZE;

  if (!(h->flags & DS_FLAG_COMPRESSED)) {
    *len = h->payload_len;
    return payload;
  }
  if (!ds_payload_decompress (payload, h->payload_len,
          content_limit (state, h->type, size), buf, buf_size, len, error))
    return NULL;
  return *buf;
}

/* @picture as a keyframe DeltaPixels with FLAG_COMPRESSED (zstd level 1
 * of its run-length code) of at most @budget bytes, or NULL when it does
 * not fit (or the code is over 1.5 times the picture: noise, which zstd
 * would not shrink). @out: the header, but for type, flags and length. */
static GBytes *
compress_picture (const guint8 * picture, gsize size, gsize budget,
    DsHeader * out)
{
  gsize cap = size + size / 2, code_len, zcap, zlen;
  guint8 *code, *frame;

  if (budget <= DS_HEADER_SIZE)
    return NULL;
  code = g_try_malloc (cap);
  if (code == NULL)
    return NULL;
  code_len = ds_rle_encode_xor (picture, NULL, size, code, cap);
  zcap = MIN (ZSTD_compressBound (code_len), budget - DS_HEADER_SIZE);
  frame = code_len > 0 ? g_try_malloc (DS_HEADER_SIZE + zcap) : NULL;
  if (frame == NULL) {
    g_free (code);
    return NULL;
  }
  zlen = ZSTD_compress (frame + DS_HEADER_SIZE, zcap, code, code_len, 1);
  g_free (code);
  if (ZSTD_isError (zlen)) {
    g_free (frame);
    return NULL;
  }
  out->type = DS_FRAME_DELTA_PIXELS;
  out->flags = DS_FLAG_KEYFRAME | DS_FLAG_COMPRESSED;
  out->payload_len = zlen;
  ds_header_pack (out, frame);
  frame = g_realloc (frame, DS_HEADER_SIZE + zlen);
  return g_bytes_new_take (frame, DS_HEADER_SIZE + zlen);
}

/* Decodes the cached keyframe and applies the deltas (DeltaPixels and
 * MotionDeltaPixels, compressed or not) into one new keyframe of at most
 * @budget bytes: a keyframe DeltaPixels when its code is smaller than the
 * raw picture, else Pixels. The sizes were checked on arrival (and are
 * checked again before the one allocation); compressed payloads are
 * checked as they are decompressed, and a chain with any is rebuilt
 * compressed (compress_picture()), as its joiners decode zstd. NULL with
 * @error set when a frame of
 * the chain does not decode or the result would not fit. */
static GBytes *
rebuild_picture (DsStreamState * state, gsize budget, GError ** error)
{
  const guint8 *data, *payload;
  gsize len, size, cap, coded_len = 0;
  DsHeader kh, dh, out = { 0, };
  guint8 *pixels_frame, *picture, *coded = NULL;
  guint8 *buf = NULL;
  gsize buf_size = 0;
  gboolean compressed;
  guint i;

  data = g_bytes_get_data (state->keyframe, &len);
  if (!ds_header_parse (data, len, &kh, error))
    return NULL;
  if (kh.width == 0 || kh.height == 0 || (guint64) kh.width * kh.height >
      state->settings.max_picture_pixels)
    goto inconsistent;
  size = (gsize) kh.width * kh.height * 4;
  if (kh.type == DS_FRAME_PIXELS && !(kh.flags & DS_FLAG_COMPRESSED) &&
      kh.payload_len != size)
    goto inconsistent;
  dh = kh;
  compressed = (kh.flags & DS_FLAG_COMPRESSED) != 0;
  for (i = 0; i < state->deltas->len; i++) {
    data = g_bytes_get_data (g_ptr_array_index (state->deltas, i), &len);
    if (!ds_header_parse (data, len, &dh, error))
      return NULL;
    if (dh.width != kh.width || dh.height != kh.height)
      goto inconsistent;
    compressed |= (dh.flags & DS_FLAG_COMPRESSED) != 0;
  }

  /* room for a Pixels frame: the picture is decoded in place */
  pixels_frame = g_try_malloc (DS_HEADER_SIZE + size);
  if (pixels_frame == NULL)
    goto no_memory;
  picture = pixels_frame + DS_HEADER_SIZE;
  data = g_bytes_get_data (state->keyframe, NULL);
  payload = frame_payload (state, data, &kh, size, &buf, &buf_size, &len,
      error);
  if (payload == NULL)
    goto failed;
  if (kh.type == DS_FRAME_PIXELS) {
    if (len != size)
      goto inconsistent_decoded;
    memcpy (picture, payload, size);
  } else if (!ds_rle_decode_xor (payload, len, NULL, picture, size, error)) {
    goto failed;
  }
  for (i = 0; i < state->deltas->len; i++) {
    gboolean ok;

    data = g_bytes_get_data (g_ptr_array_index (state->deltas, i), NULL);
    ds_header_parse (data, DS_HEADER_SIZE, &dh, NULL);
    payload = frame_payload (state, data, &dh, size, &buf, &buf_size, &len,
        error);
    if (payload == NULL)
      goto failed;
    if (dh.type == DS_FRAME_MOTION_DELTA_PIXELS)
      ok = ds_motion_decode (payload, len, picture, picture, kh.width,
          kh.height, error);
    else
      ok = ds_rle_decode_xor (payload, len, picture, picture, size, error);
    if (!ok)
      goto failed;
  }
  g_clear_pointer (&buf, g_free);

  out.flags = DS_FLAG_KEYFRAME;
  out.seq = dh.seq;
  out.timestamp = dh.timestamp;
  out.width = kh.width;
  out.height = kh.height;

  /* a source that compresses has receivers that decompress: the picture
   * travels compressed too (the run-length code in one zstd frame) */
  if (compressed) {
    GBytes *packed = compress_picture (picture, size, budget, &out);

    if (packed != NULL) {
      g_free (pixels_frame);
      return packed;
    }
  }

  /* the run-length code when it is smaller than the picture */
  cap = budget > DS_HEADER_SIZE ? MIN (budget - DS_HEADER_SIZE, size - 1) : 0;
  if (cap > 0 && (coded = g_try_malloc (DS_HEADER_SIZE + cap)) != NULL)
    coded_len = ds_rle_encode_xor (picture, NULL, size, coded +
        DS_HEADER_SIZE, cap);
  if (coded_len > 0) {
    g_free (pixels_frame);
    out.type = DS_FRAME_DELTA_PIXELS;
    out.payload_len = coded_len;
    ds_header_pack (&out, coded);
    coded = g_realloc (coded, DS_HEADER_SIZE + coded_len);
    return g_bytes_new_take (coded, DS_HEADER_SIZE + coded_len);
  }
  g_free (coded);
  if (DS_HEADER_SIZE + size > budget) {
    g_free (pixels_frame);
    goto too_large;
  }
  out.type = DS_FRAME_PIXELS;
  out.payload_len = size;
  ds_header_pack (&out, pixels_frame);
  return g_bytes_new_take (pixels_frame, DS_HEADER_SIZE + size);

  /* ERRORS */
inconsistent:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_SIZE_MISMATCH,
        "inconsistent picture sizes in the chain");
    return NULL;
  }
no_memory:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "no memory for a picture of %ux%u", kh.width, kh.height);
    return NULL;
  }
inconsistent_decoded:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_SIZE_MISMATCH,
        "a compressed Pixels frame of %ux%u decompresses to %" G_GSIZE_FORMAT
        " bytes", kh.width, kh.height, len);
    g_free (buf);
    g_free (pixels_frame);
    return NULL;
  }
failed:
  {
    g_free (buf);
    g_free (pixels_frame);
    return NULL;
  }
too_large:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "the %ux%u picture does not fit the %" G_GSIZE_FORMAT
        " bytes left in the cache", kh.width, kh.height, budget);
    return NULL;
  }
}

/* The picture chain outgrew its bound: one picture instead, or nothing.
 * When the chain could not be rebuilt the source is asked for a keyframe
 * so the cache fills again; when the keyframe alone leaves no room, a new
 * one would not either: joiners then ask for one */
static void
collapse_picture (DsStreamState * state, gsize picture_bytes, guint * events)
{
  gsize bound = state->settings.max_cache_bytes;
  gsize other = other_cache_bytes (state);
  gsize budget = bound > other ? bound - other : 0;
  gsize before = bytes_size (state->keyframe) + state->deltas_bytes;
  GBytes *rebuilt = NULL;
  GError *error = NULL;
  gboolean tried = FALSE;

  /* a frame larger than a source may send is never cached nor sent */
  budget = MIN (budget, state->settings.max_frame_bytes + DS_HEADER_SIZE);
  if (state->deltas_work >= picture_bytes / REBUILD_MIN_SHARE) {
    rebuilt = rebuild_picture (state, budget, &error);
    tried = TRUE;
    g_clear_error (&error);
  }

  clear_chain (state);
  if (rebuilt) {
    state->keyframe = rebuilt;
    state->stats.rebuilds++;
    *events |= DS_STREAM_REBUILT;
  } else {
    state->stats.cache_drops++;
    *events |= DS_STREAM_CACHE_DROPPED;
    if (tried)
      *events |= DS_STREAM_WANT_KEYFRAME;
  }
  released (before);
}

/* Room for @size more bytes of image, schema or End (the caller dropped
 * the one it replaces): the picture chain, older, goes first. FALSE when
 * they do not fit at all. */
static gboolean
make_room (DsStreamState * state, gsize size, guint * events)
{
  gsize bound = state->settings.max_cache_bytes;

  if (ds_stream_state_get_cache_bytes (state) + size <= bound)
    return TRUE;
  clear_chain (state);
  if (ds_stream_state_get_cache_bytes (state) + size <= bound)
    return TRUE;
  state->stats.cache_drops++;
  *events |= DS_STREAM_CACHE_DROPPED;
  return FALSE;
}

/* An EncodedVideo access unit: the keyframe unit starts a new chain (a new
 * codec or size too), every later unit is appended in decode order. The
 * relay cannot decode them, so a chain over the bound is not rebuilt: it
 * is dropped, the source is asked for a keyframe once, and the cache (and
 * joiners, which ask again) start at the next keyframe unit. */
static void
cache_unit (DsStreamState * state, GBytes * frame, const DsHeader * header,
    guint * events)
{
  gsize bound = state->settings.max_cache_bytes;
  gsize size = g_bytes_get_size (frame);

  state->encoded = TRUE;
  /* an image before it is hidden by it */
  state->image_is_newest = FALSE;
  if (ds_header_is_picture_keyframe (header)) {
    /* the raw pictures cached before are not what receivers show any
     * more, nor is the previous chain */
    clear_picture (state);
    state->ref_width = header->width;
    state->ref_height = header->height;
    if (!state->settings.cache_pictures)
      return;
    if (ds_stream_state_get_cache_bytes (state) + size > bound) {
      state->stats.cache_drops++;
      *events |= DS_STREAM_CACHE_DROPPED;
      return;
    }
    state->keyframe = g_bytes_ref (frame);
    return;
  }

  /* no chain (not cached, or dropped): wait for the next keyframe unit */
  if (state->keyframe == NULL)
    return;
  if (ds_stream_state_get_cache_bytes (state) + size > bound) {
    gsize before = bytes_size (state->keyframe) + state->deltas_bytes;

    clear_chain (state);
    released (before);
    state->stats.cache_drops++;
    *events |= DS_STREAM_CACHE_DROPPED | DS_STREAM_WANT_KEYFRAME;
    return;
  }
  g_ptr_array_add (state->deltas, g_bytes_ref (frame));
  state->deltas_bytes += size;
}

static void
cache_picture (DsStreamState * state, GBytes * frame, const DsHeader * header,
    guint * events)
{
  gsize bound = state->settings.max_cache_bytes;
  gsize size = g_bytes_get_size (frame);
  gsize picture_bytes;

  if (header->type == DS_FRAME_ENCODED_VIDEO) {
    cache_unit (state, frame, header, events);
    return;
  }
  /* a raw picture after encoded video: the units are no reference for
   * it (an image is no reference: the chain stays) */
  if (state->encoded && header->type != DS_FRAME_COMPRESSED_PIXELS) {
    state->encoded = FALSE;
    clear_chain (state);
  }
  if (!state->settings.cache_pictures) {
    if (ds_header_is_picture_keyframe (header)) {
      state->ref_width = header->width;
      state->ref_height = header->height;
    }
    return;
  }
  if (header->type == DS_FRAME_COMPRESSED_PIXELS) {
    g_clear_pointer (&state->image, g_bytes_unref);
    state->image_is_newest = FALSE;
    if (!make_room (state, size, events))
      return;
    state->image = g_bytes_ref (frame);
    state->image_is_newest = TRUE;
    return;
  }

  state->image_is_newest = FALSE;
  if (ds_header_is_picture_keyframe (header)) {
    clear_chain (state);
    state->ref_width = header->width;
    state->ref_height = header->height;
    if (ds_stream_state_get_cache_bytes (state) + size > bound) {
      state->stats.cache_drops++;
      *events |= DS_STREAM_CACHE_DROPPED;
      return;
    }
    state->keyframe = g_bytes_ref (frame);
    return;
  }

  /* a delta on the source's current picture (see accept_picture()) */
  if (state->keyframe == NULL)
    return;
  g_ptr_array_add (state->deltas, g_bytes_ref (frame));
  state->deltas_bytes += size;
  state->deltas_work += delta_work (state, header,
      (const guint8 *) g_bytes_get_data (frame, NULL) + DS_HEADER_SIZE);
  picture_bytes = (gsize) header->width * header->height * 4;
  if (state->deltas_bytes > picture_bytes ||
      state->deltas_work > (guint64) picture_bytes * REBUILD_MAX_WORK_PICTURES
      || ds_stream_state_get_cache_bytes (state) > bound)
    collapse_picture (state, picture_bytes, events);
}

static DsStreamVerdict
push_signal (DsStreamState * state, const DsHeader * header,
    const guint8 * payload, guint * events, GError ** error)
{
  gboolean sync = header->type == DS_FRAME_SIGNAL_SYNC;

  if (!ds_signal_state_apply_full (state->signals, sync,
          (const gchar *) payload, header->payload_len,
          &state->settings.signal_limits, error)) {
    if (error && g_error_matches (*error, DS_PROTOCOL_ERROR,
            DS_PROTOCOL_ERROR_TOO_LARGE)) {
      state->stats.signals_refused++;
      return DS_STREAM_REFUSED;
    }
    state->stats.malformed++;
    return DS_STREAM_MALFORMED;
  }
  state->have_signals = TRUE;
  state->signal_seq = header->seq;
  state->signal_ts = header->timestamp;
  g_clear_pointer (&state->signal_catchup, g_bytes_unref);
  if (sync) {
    state->signals_whole = TRUE;
    state->signal_sync_asked = FALSE;
  } else if (!state->signals_whole && !state->signal_sync_asked) {
    state->signal_sync_asked = TRUE;
    *events |= DS_STREAM_WANT_KEYFRAME | DS_STREAM_SIGNALS_PARTIAL;
  }
  return DS_STREAM_FORWARD;
}

DsStreamVerdict
ds_stream_state_push (DsStreamState * state, GBytes * frame,
    const DsHeader * header, guint * events, GError ** error)
{
  const guint8 *payload;
  gsize len;
  guint ev = 0;
  DsStreamVerdict verdict = DS_STREAM_FORWARD;

  payload = (const guint8 *) g_bytes_get_data (frame, &len) + DS_HEADER_SIZE;
  state->stats.frames++;

  if (len != DS_HEADER_SIZE + (gsize) header->payload_len) {
    state->stats.malformed++;
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_LENGTH_MISMATCH,
        "a frame of %" G_GSIZE_FORMAT " bytes whose header says %u",
        len, DS_HEADER_SIZE + header->payload_len);
    verdict = DS_STREAM_MALFORMED;
    goto done;
  }
  if (header->flags & DS_FLAG_INPUT) {
    verdict = DS_STREAM_SKIP;
    goto done;
  }
  if (!ds_frame_validate (header, payload, error)) {
    state->stats.malformed++;
    verdict = DS_STREAM_MALFORMED;
    goto done;
  }

  switch (header->type) {
    case DS_FRAME_PING:
    case DS_FRAME_SUBSCRIBE_FILTER:
      /* between one peer and the relay, never part of the stream */
      verdict = DS_STREAM_SKIP;
      goto done;
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
      verdict = push_signal (state, header, payload, &ev, error);
      if (verdict != DS_STREAM_FORWARD)
        goto done;
      break;
    case DS_FRAME_SCHEMA_ANNOUNCE:{
      gchar **signals = ds_schema_parse ((const gchar *) payload,
          header->payload_len, error);

      if (signals == NULL) {
        state->stats.malformed++;
        verdict = DS_STREAM_MALFORMED;
        goto done;
      }
      g_strfreev (signals);
      g_clear_pointer (&state->schema, g_bytes_unref);
      if (make_room (state, len, &ev))
        state->schema = g_bytes_ref (frame);
      break;
    }
    case DS_FRAME_PIXELS:
    case DS_FRAME_DELTA_PIXELS:
    case DS_FRAME_MOTION_DELTA_PIXELS:
    case DS_FRAME_COMPRESSED_PIXELS:
    case DS_FRAME_ENCODED_VIDEO:
      verdict = accept_picture (state, header, payload, &ev, error);
      if (verdict != DS_STREAM_FORWARD)
        goto done;
      cache_picture (state, frame, header, &ev);
      break;
    case DS_FRAME_KEYFRAME:
    case DS_FRAME_END:
      /* receivers reset their picture and signal state (Keyframe), or
       * forget the ended stream's (End, SPEC §6.7: a new stream may
       * follow): so does the cache, and what comes next is whole */
      forget_reference (state, &ev);
      clear_picture (state);
      state->encoded = FALSE;
      clear_signals (state);
      state->signals_whole = TRUE;
      break;
    default:
      break;
  }

  if (header->type == DS_FRAME_END) {
    g_clear_pointer (&state->end, g_bytes_unref);
    if (make_room (state, len, &ev))
      state->end = g_bytes_ref (frame);
    else                        /* joiners still learn that it ended */
      state->end = frame_new (DS_FRAME_END, header->flags, header->seq,
          header->timestamp, NULL, 0);
  } else if (state->end) {
    g_clear_pointer (&state->end, g_bytes_unref);
  }

done:
  if (events)
    *events = ev;
  return verdict;
}

/* Catch-up */

/* The merged signal state as one frame: a SignalSync when it is the
 * source's whole state, else a SignalDiff (the keys known, which the
 * receiver merges into what it holds, so it is never told a part is the
 * whole) */
static GBytes *
signal_frame (DsStreamState * state, const gchar * const *select)
{
  gchar *json;
  gsize len = 0;
  GBytes *frame;

  json = ds_signal_state_to_json (state->signals, select, &len);
  if (state->signals_whole)
    frame = frame_new (DS_FRAME_SIGNAL_SYNC, DS_FLAG_KEYFRAME,
        state->signal_seq, state->signal_ts, json, len);
  else
    frame = frame_new (DS_FRAME_SIGNAL_DIFF, 0, state->signal_seq,
        state->signal_ts, json, len);
  g_free (json);

  return frame;
}

guint
ds_stream_state_picture_catchup (DsStreamState * state, GPtrArray * frames,
    gboolean * has_reference)
{
  guint events = 0;
  gboolean reference = FALSE;
  guint i;

  if (state->keyframe) {
    g_ptr_array_add (frames, g_bytes_ref (state->keyframe));
    for (i = 0; i < state->deltas->len; i++)
      g_ptr_array_add (frames,
          g_bytes_ref (g_ptr_array_index (state->deltas, i)));
    reference = TRUE;
  } else if (state->ref_width != 0) {
    /* the source streams deltas and the cache holds no keyframe (it did
     * not fit the cache bound) */
    events |= DS_STREAM_WANT_KEYFRAME;
  }
  if (state->image && (state->image_is_newest || !state->keyframe))
    g_ptr_array_add (frames, g_bytes_ref (state->image));
  if (has_reference)
    *has_reference = reference;
  return events;
}

guint
ds_stream_state_signal_catchup (DsStreamState * state,
    const gchar * const *select, GPtrArray * frames)
{
  if (!state->have_signals)
    return 0;
  if (select != NULL) {
    g_ptr_array_add (frames, signal_frame (state, select));
  } else {
    if (state->signal_catchup == NULL)
      state->signal_catchup = signal_frame (state, NULL);
    g_ptr_array_add (frames, g_bytes_ref (state->signal_catchup));
  }
  /* a SignalSync is asked for until the state is whole */
  return state->signals_whole ? 0 : DS_STREAM_WANT_KEYFRAME;
}

guint
ds_stream_state_catchup (DsStreamState * state, const gchar * const *select,
    GPtrArray * frames, gboolean * has_reference)
{
  guint events = 0;

  if (state->schema)
    g_ptr_array_add (frames, g_bytes_ref (state->schema));
  events |= ds_stream_state_signal_catchup (state, select, frames);
  events |= ds_stream_state_picture_catchup (state, frames, has_reference);
  if (state->end)
    g_ptr_array_add (frames, g_bytes_ref (state->end));
  return events;
}
