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
 * Writes the shared test vectors (tests/vectors/README.md): for each
 * vector NAME, NAME.ds (the frames, one message after the other) and
 * NAME.json (where each message is, and what a receiver makes of it).
 *
 *   make-vectors OUTDIR
 *
 * The expected results come from the protocol library (gst-libs/ds):
 * frames are built with ds_frame_pack() and ds_rle_encode_xor(); a
 * receiver model written on ds_frame_validate(), DsSeqTracker,
 * ds_rle_decode_xor() and DsSignalState decides each frame the way
 * dsdepay does; DsStreamState gives what a late joiner gets (the
 * catch-up), which is run through the same model. tests/check/vectors.c
 * checks dsdepay against these files, tests/browser/vectors.test.mjs the
 * viewer's decoder.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <json-glib/json-glib.h>

#include "dsmotion.h"
#include "dscompress.h"
#include "dsprotocol.h"
#include "dsrle.h"
#include "dssignal.h"
#include "dsstream.h"

/* FNV-1a 32 of a picture as shown: RGBA with every alpha byte taken as
 * 255 (pictures are opaque, docs/protocol.md §3) */
static guint32
picture_checksum (const guint8 * rgba, gsize len)
{
  guint32 hash = 0x811c9dc5;
  gsize i;

  for (i = 0; i < len; i++) {
    hash ^= (i & 3) == 3 ? 0xff : rgba[i];
    hash *= 0x01000193;
  }
  return hash;
}

/* FNV-1a 32 of bytes as they are (an access unit) */
static guint32
bytes_checksum (const guint8 * data, gsize len)
{
  guint32 hash = 0x811c9dc5;
  gsize i;

  for (i = 0; i < len; i++) {
    hash ^= data[i];
    hash *= 0x01000193;
  }
  return hash;
}

/* Vectors */

typedef struct
{
  gchar *name;
  gchar *description;
  gboolean needs_zstd;
  const gchar *browser_skip;    /* why the browser skips it, else NULL */
  GByteArray *bytes;            /* NAME.ds */
  GArray *offsets;              /* gsize pairs: offset, length */
  guint32 timestamp;
  GPtrArray *selects;           /* catch-ups to write: gchar ** or NULL */
} Vector;

static Vector *
vector_new (const gchar * name, const gchar * description)
{
  Vector *v = g_new0 (Vector, 1);

  v->name = g_strdup (name);
  v->description = g_strdup (description);
  v->bytes = g_byte_array_new ();
  v->offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  v->selects = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_ptr_array_add (v->selects, NULL);
  return v;
}

static void
vector_free (Vector * v)
{
  g_free (v->name);
  g_free (v->description);
  g_byte_array_unref (v->bytes);
  g_array_unref (v->offsets);
  g_ptr_array_unref (v->selects);
  g_free (v);
}

/* One message as it is, well formed or not */
static void
add_message (Vector * v, const guint8 * data, gsize len)
{
  gsize at[2] = { v->bytes->len, len };

  g_byte_array_append (v->bytes, data, len);
  g_array_append_vals (v->offsets, at, 2);
}

static void
add_frame (Vector * v, guint8 type, guint8 flags, guint16 seq, guint16 width,
    guint16 height, gconstpointer payload, gsize len)
{
  DsHeader header = { 0, };
  GBytes *frame;
  gsize size;
  gconstpointer data;

  header.type = type;
  header.flags = flags;
  header.seq = seq;
  header.timestamp = v->timestamp;
  header.width = width;
  header.height = height;
  v->timestamp += 33;
  frame = ds_frame_pack (&header, payload, len);
  data = g_bytes_get_data (frame, &size);
  add_message (v, data, size);
  g_bytes_unref (frame);
}

static void
add_text (Vector * v, guint8 type, guint16 seq, const gchar * text)
{
  add_frame (v, type, 0, seq, 0, 0, text, strlen (text));
}

/* A test picture: bands and a box that move with @k */
static guint8 *
make_picture (guint w, guint h, guint k)
{
  guint8 *p = g_malloc (w * h * 4);
  guint x, y;

  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++) {
      guint8 *px = p + (y * w + x) * 4;
      gboolean box = x >= k % w && x < k % w + 3 && y >= 1 && y < 4;

      px[0] = box ? 250 : (guint8) (x * 16);
      px[1] = box ? 20 : (guint8) (y * 30 + k);
      px[2] = (guint8) (x < w / 2 ? 40 : 200);
      /* alpha on the wire is not transparency: 0 here and there */
      px[3] = (x + y) % 5 == 0 ? 0 : 255;
    }
  }
  return p;
}

/* RLE(cur XOR ref), or RLE(cur) for a NULL @ref */
static GBytes *
rle (const guint8 * cur, const guint8 * ref, gsize n)
{
  guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (n));
  gsize len = ds_rle_encode_xor (cur, ref, n, code,
      DS_RLE_MAX_ENCODED_SIZE (n));

  g_assert (len > 0);
  return g_bytes_new_take (g_realloc (code, len), len);
}

/* One zstd frame holding @data in raw (stored) blocks: valid for any
 * zstd decoder, and the same bytes whatever libzstd is installed */
#define ZSTD_MAGIC 0xFD2FB528u
#define ZSTD_MAX_BLOCK (128 * 1024)

static GBytes *
zstd_stored (GBytes * data)
{
  gsize len, done = 0;
  const guint8 *in = g_bytes_get_data (data, &len);
  GByteArray *out = g_byte_array_new ();
  guint8 head[4 + 1 + 8];
  guint i;

  for (i = 0; i < 4; i++)
    head[i] = (guint8) (ZSTD_MAGIC >> (8 * i));
  /* Single_Segment, Frame_Content_Size on 8 bytes, no checksum */
  head[4] = (3 << 6) | (1 << 5);
  for (i = 0; i < 8; i++)
    head[5 + i] = (guint8) (((guint64) len) >> (8 * i));
  g_byte_array_append (out, head, sizeof (head));
  do {
    gsize n = MIN (len - done, ZSTD_MAX_BLOCK);
    guint32 block = (n << 3) | (done + n == len ? 1 : 0);
    guint8 bh[3] = { block & 0xff, (block >> 8) & 0xff, (block >> 16) & 0xff };

    g_byte_array_append (out, bh, 3);
    g_byte_array_append (out, in + done, n);
    done += n;
  } while (done < len);
  return g_byte_array_free_to_bytes (out);
}

/* Reads back zstd_stored(): the model's side of FLAG_COMPRESSED */
static GBytes *
zstd_stored_read (const guint8 * data, gsize len)
{
  GByteArray *out = g_byte_array_new ();
  gsize at = 13;

  if (len < 13 || (data[0] | (data[1] << 8) | (data[2] << 16) |
          ((guint32) data[3] << 24)) != ZSTD_MAGIC)
    goto bad;
  while (at + 3 <= len) {
    guint32 block = data[at] | (data[at + 1] << 8) | (data[at + 2] << 16);
    gsize n = block >> 3;

    at += 3;
    if (((block >> 1) & 3) != 0 || at + n > len)
      goto bad;
    g_byte_array_append (out, data + at, n);
    at += n;
    if (block & 1)
      return g_byte_array_free_to_bytes (out);
  }
bad:
  g_byte_array_unref (out);
  return NULL;
}

static void
add_delta (Vector * v, guint8 flags, guint16 seq, guint w, guint h,
    const guint8 * cur, const guint8 * ref)
{
  GBytes *code = rle (cur, (flags & DS_FLAG_KEYFRAME) ? NULL : ref, w * h * 4);
  gsize len;
  gconstpointer data;

  if (flags & DS_FLAG_COMPRESSED) {
    GBytes *packed = zstd_stored (code);

    g_bytes_unref (code);
    code = packed;
  }
  data = g_bytes_get_data (code, &len);
  add_frame (v, DS_FRAME_DELTA_PIXELS, flags, seq, w, h, data, len);
  g_bytes_unref (code);
}

/* add_motion(): make the first move leave the picture (not a wire flag) */
#define BAD_MOVE 0x80

/* A MotionDeltaPixels from @ref to @cur with @moves */
static void
add_motion (Vector * v, guint8 flags, guint16 seq, guint w, guint h,
    const guint8 * cur, const guint8 * ref, const DsMotionMove * moves, guint n)
{
  gsize cap = DS_MOTION_TABLE_SIZE (n) + DS_RLE_MAX_ENCODED_SIZE (w * h * 4);
  guint8 *payload = g_malloc (cap);
  gsize len = ds_motion_encode (cur, ref, w, h, moves, n, payload, cap);
  GBytes *bytes;
  gconstpointer data;

  g_assert (len > 0);
  if (flags & BAD_MOVE) {
    /* the first move one pixel wider than the picture */
    payload[DS_MOTION_TABLE_SIZE (0) + 8] = (w + 1) & 0xff;
    payload[DS_MOTION_TABLE_SIZE (0) + 9] = (w + 1) >> 8;
    flags &= ~BAD_MOVE;
  }
  bytes = g_bytes_new_take (payload, len);
  if (flags & DS_FLAG_COMPRESSED) {
    GBytes *packed = zstd_stored (bytes);

    g_bytes_unref (bytes);
    bytes = packed;
  }
  data = g_bytes_get_data (bytes, &len);
  add_frame (v, DS_FRAME_MOTION_DELTA_PIXELS, flags, seq, w, h, data, len);
  g_bytes_unref (bytes);
}

/* The prediction of @moves on @ref (SPEC §3), pixel by pixel */
static guint8 *
predict (const guint8 * ref, guint w, guint h, const DsMotionMove * moves,
    guint n)
{
  guint8 *out = g_memdup2 (ref, (gsize) w * h * 4);
  guint i, x, y;

  for (i = 0; i < n; i++)
    for (y = 0; y < moves[i].height; y++)
      for (x = 0; x < moves[i].width; x++)
        memcpy (out + ((moves[i].dst_y + y) * w + moves[i].dst_x + x) * 4,
            ref + ((moves[i].src_y + y) * w + moves[i].src_x + x) * 4, 4);
  return out;
}

static void
add_pixels (Vector * v, guint16 seq, guint w, guint h, const guint8 * pic)
{
  add_frame (v, DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, seq, w, h, pic, w * h * 4);
}

static void
add_audio (Vector * v, guint16 seq, guint channels, guint rate, guint frames)
{
  gfloat *pcm = g_new (gfloat, channels * frames);
  guint i;

  for (i = 0; i < channels * frames; i++)
    pcm[i] = (gfloat) ((gint) (i % 17) - 8) / 16.0f;
  /* little-endian on the wire: the machines we run on */
  G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);
  add_frame (v, DS_FRAME_AUDIO_PCM, 0, seq, channels, rate, pcm,
      channels * frames * sizeof (gfloat));
  g_free (pcm);
}

/* The receiver model: what dsdepay decides for each frame
 * (gst_ds_depay_handle_frame() and its handlers) */

typedef struct
{
  DsSeqTracker seqs;
  guint8 *reference;
  guint width, height;
  gboolean waiting;
  DsSignalState *signals;
  gboolean ended;
  gboolean have_shown;
  guint32 shown;                /* checksum of the last picture out */
  guint malformed, dropped;
  DsEncodedVideoState encoded;
} Receiver;

static void
receiver_init (Receiver * r)
{
  memset (r, 0, sizeof (*r));
  ds_seq_tracker_init (&r->seqs);
  ds_encoded_video_state_init (&r->encoded);
  r->signals = ds_signal_state_new ();
}

static void
receiver_clear (Receiver * r)
{
  g_free (r->reference);
  ds_signal_state_free (r->signals);
}

static void
receiver_set_reference (Receiver * r, guint8 * picture, guint w, guint h)
{
  g_free (r->reference);
  r->reference = picture;
  r->width = w;
  r->height = h;
}

static gboolean
can_decompress (guint8 type)
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

static void
set_picture (JsonBuilder * b, Receiver * r, guint w, guint h)
{
  gchar hex[9];

  r->shown = picture_checksum (r->reference, (gsize) w * h * 4);
  r->have_shown = TRUE;
  g_snprintf (hex, sizeof (hex), "%08x", r->shown);
  json_builder_set_member_name (b, "picture");
  json_builder_add_string_value (b, hex);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, h);
}

static void
add_signal_state (JsonBuilder * b, const gchar * member, DsSignalState * s)
{
  gsize len;
  gchar *json = ds_signal_state_to_json (s, NULL, &len);
  JsonNode *node = json_from_string (json, NULL);

  g_assert (node != NULL);
  json_builder_set_member_name (b, member);
  json_builder_add_value (b, node);
  g_free (json);
}

/* Decides a DeltaPixels or MotionDeltaPixels frame; returns the result
 * name */
static const gchar *
receiver_delta (Receiver * r, JsonBuilder * b, const DsHeader * header,
    const guint8 * payload, gint missing)
{
  gboolean keyframe = (header->flags & DS_FLAG_KEYFRAME) != 0;
  gsize size = (gsize) header->width * header->height * 4;
  GBytes *unpacked = NULL;
  const guint8 *code = payload;
  gsize code_len = header->payload_len;
  guint8 *out;
  gboolean ok;

  if (!keyframe) {
    if (missing > 0 || r->reference == NULL || r->width != header->width ||
        r->height != header->height)
      r->waiting = TRUE;
    if (r->waiting) {
      r->dropped++;
      return "dropped";
    }
  }
  if (header->flags & DS_FLAG_COMPRESSED) {
    unpacked = zstd_stored_read (payload, header->payload_len);
    /* a catch-up's rebuilt picture is compressed by libzstd (the relay
     * compresses it when its chain was compressed) */
    if (unpacked == NULL) {
      guint8 *buf = NULL;
      gsize buf_size = 0, len = 0;

      g_assert (ds_payload_decompress (payload, header->payload_len,
              3 * size, &buf, &buf_size, &len, NULL));
      unpacked = g_bytes_new_take (buf, len);
    }
    code = g_bytes_get_data (unpacked, &code_len);
  }
  out = g_malloc (size);
  if (header->type == DS_FRAME_MOTION_DELTA_PIXELS)
    ok = ds_motion_decode (code, code_len, r->reference, out, header->width,
        header->height, NULL);
  else
    ok = ds_rle_decode_xor (code, code_len, keyframe ? NULL : r->reference,
        out, size, NULL);
  g_clear_pointer (&unpacked, g_bytes_unref);
  if (!ok) {
    g_free (out);
    r->malformed++;
    r->dropped++;
    r->waiting = TRUE;
    return "malformed";
  }
  receiver_set_reference (r, out, header->width, header->height);
  if (keyframe)
    r->waiting = FALSE;
  set_picture (b, r, header->width, header->height);
  return "picture";
}

/* Takes one message; adds the members of its step to @b */
static void
receiver_push (Receiver * r, JsonBuilder * b, const guint8 * data, gsize len)
{
  DsHeader header;
  const guint8 *payload = data + DS_HEADER_SIZE;
  const gchar *result = NULL;
  gint missing;
  gboolean decodable;

  if (!ds_frame_parse_message (data, len, 0, &header, NULL)) {
    r->malformed++;
    result = "malformed";
    goto done;
  }
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, (header.flags & DS_FLAG_INPUT) ?
      ds_input_type_name (header.type) : ds_frame_type_name (header.type));
  json_builder_set_member_name (b, "seq");
  json_builder_add_int_value (b, header.seq);

  if (header.flags & DS_FLAG_INPUT) {
    result = "input";
    goto done;
  }
  if (header.type == DS_FRAME_PING) {
    result = "ping";
    goto done;
  }
  if (!ds_frame_validate (&header, payload, NULL) ||
      ((header.flags & DS_FLAG_COMPRESSED) && !can_decompress (header.type))) {
    r->malformed++;
    if (ds_frame_type_media (header.type) == DS_MEDIA_VIDEO) {
      r->waiting = TRUE;
      ds_encoded_video_state_lose (&r->encoded);
    }
    result = "malformed";
    goto done;
  }
  switch (ds_frame_type_media (header.type)) {
    case DS_MEDIA_VIDEO:
    case DS_MEDIA_IMAGE:
    case DS_MEDIA_AUDIO:
    case DS_MEDIA_SIGNAL:
      r->ended = FALSE;
      break;
    default:
      break;
  }
  missing = ds_seq_tracker_push (&r->seqs, &header);
  json_builder_set_member_name (b, "missing");
  json_builder_add_int_value (b, missing);
  decodable = ds_encoded_video_state_push (&r->encoded, &header,
      header.type == DS_FRAME_ENCODED_VIDEO ? payload[0] : 0, missing);

  switch (header.type) {
    case DS_FRAME_PIXELS:
      receiver_set_reference (r, g_memdup2 (payload, header.payload_len),
          header.width, header.height);
      r->waiting = FALSE;
      set_picture (b, r, header.width, header.height);
      result = "picture";
      break;
    case DS_FRAME_DELTA_PIXELS:
    case DS_FRAME_MOTION_DELTA_PIXELS:
      result = receiver_delta (r, b, &header, payload, missing);
      break;
    case DS_FRAME_ENCODED_VIDEO:{
      gchar hex[9];

      if (!decodable) {
        r->dropped++;
        result = "dropped";
        break;
      }
      if (header.flags & DS_FLAG_KEYFRAME) {
        /* the raw picture before is not what the sender shows now */
        receiver_set_reference (r, NULL, 0, 0);
        r->waiting = FALSE;
      }
      json_builder_set_member_name (b, "codec");
      json_builder_add_string_value (b, ds_codec_name (payload[0]));
      json_builder_set_member_name (b, "keyframe");
      json_builder_add_boolean_value (b, header.flags & DS_FLAG_KEYFRAME);
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, header.width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, header.height);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, header.payload_len -
          DS_ENCODED_VIDEO_PREFIX_SIZE);
      g_snprintf (hex, sizeof (hex), "%08x", bytes_checksum (payload +
              DS_ENCODED_VIDEO_PREFIX_SIZE, header.payload_len -
              DS_ENCODED_VIDEO_PREFIX_SIZE));
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, hex);
      result = "unit";
      break;
    }
    case DS_FRAME_COMPRESSED_PIXELS:{
      const gchar *type = ds_image_sniff (payload, header.payload_len, NULL,
          NULL);

      if (type == NULL) {
        r->malformed++;
        result = "malformed";
        break;
      }
      json_builder_set_member_name (b, "image");
      json_builder_add_string_value (b, type);
      result = "image";
      break;
    }
    case DS_FRAME_AUDIO_PCM:
      json_builder_set_member_name (b, "channels");
      json_builder_add_int_value (b, header.width);
      json_builder_set_member_name (b, "rate");
      json_builder_add_int_value (b, header.height);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, header.payload_len);
      result = "audio";
      break;
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
      if (!ds_signal_state_apply (r->signals,
              header.type == DS_FRAME_SIGNAL_SYNC, (const gchar *) payload,
              header.payload_len, NULL)) {
        r->malformed++;
        result = "malformed";
        break;
      }
      add_signal_state (b, "signals", r->signals);
      result = "signals";
      break;
    case DS_FRAME_SCHEMA_ANNOUNCE:{
      gchar **names = ds_schema_parse ((const gchar *) payload,
          header.payload_len, NULL);

      if (names == NULL) {
        r->malformed++;
        result = "malformed";
        break;
      }
      g_strfreev (names);
      result = "schema";
      break;
    }
    case DS_FRAME_HAPTIC:{
      guint16 duration;
      guint8 intensity;

      g_assert (ds_haptic_parse (payload, header.payload_len, &duration,
              &intensity, NULL));
      json_builder_set_member_name (b, "duration");
      json_builder_add_int_value (b, duration);
      json_builder_set_member_name (b, "intensity");
      json_builder_add_int_value (b, intensity);
      result = "haptic";
      break;
    }
    case DS_FRAME_KEYFRAME:
      receiver_set_reference (r, NULL, 0, 0);
      ds_signal_state_clear (r->signals);
      result = "keyframe";
      break;
    case DS_FRAME_END:
      receiver_set_reference (r, NULL, 0, 0);
      ds_signal_state_clear (r->signals);
      r->waiting = FALSE;
      r->ended = TRUE;
      result = "end";
      break;
    default:
      result = "skipped";
      break;
  }

done:
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, result);
}

/* Runs @messages (offset/length pairs into @bytes) through a new
 * receiver: the "steps" and "final" members */
static void
run_receiver (JsonBuilder * b, const guint8 * bytes, GArray * offsets)
{
  Receiver r;
  guint i;
  gchar hex[9];

  receiver_init (&r);
  json_builder_set_member_name (b, "steps");
  json_builder_begin_array (b);
  for (i = 0; i + 1 < offsets->len; i += 2) {
    gsize at = g_array_index (offsets, gsize, i);
    gsize len = g_array_index (offsets, gsize, i + 1);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "offset");
    json_builder_add_int_value (b, at);
    json_builder_set_member_name (b, "length");
    json_builder_add_int_value (b, len);
    receiver_push (&r, b, bytes + at, len);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "final");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "picture");
  if (r.have_shown) {
    g_snprintf (hex, sizeof (hex), "%08x", r.shown);
    json_builder_add_string_value (b, hex);
  } else {
    json_builder_add_null_value (b);
  }
  add_signal_state (b, "signals", r.signals);
  json_builder_set_member_name (b, "ended");
  json_builder_add_boolean_value (b, r.ended);
  json_builder_set_member_name (b, "malformed");
  json_builder_add_int_value (b, r.malformed);
  json_builder_set_member_name (b, "dropped");
  json_builder_add_int_value (b, r.dropped);
  json_builder_set_member_name (b, "missing");
  json_builder_add_int_value (b, r.seqs.missing);
  json_builder_set_member_name (b, "late");
  json_builder_add_int_value (b, r.seqs.late);
  json_builder_end_object (b);
  receiver_clear (&r);
}

/* What a late joiner gets after the whole vector (DsStreamState of a
 * relay), as messages in @out */
static gboolean
run_catchup (Vector * v, const gchar * const *select, GByteArray * out,
    GArray * offsets, gboolean * want_keyframe)
{
  DsStreamSettings settings;
  DsStreamState *state;
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  gboolean has_reference = FALSE;
  guint i;

  ds_stream_settings_init (&settings);
  state = ds_stream_state_new (&settings);
  for (i = 0; i + 1 < v->offsets->len; i += 2) {
    gsize at = g_array_index (v->offsets, gsize, i);
    gsize len = g_array_index (v->offsets, gsize, i + 1);
    GBytes *frame;
    DsHeader header;

    if (!ds_frame_parse_message (v->bytes->data + at, len, 0, &header, NULL))
      continue;
    frame = g_bytes_new (v->bytes->data + at, len);
    ds_stream_state_push (state, frame, &header, NULL, NULL);
    g_bytes_unref (frame);
  }
  *want_keyframe = (ds_stream_state_catchup (state, select, frames,
          &has_reference) & DS_STREAM_WANT_KEYFRAME) != 0;
  for (i = 0; i < frames->len; i++) {
    gsize len;
    const guint8 *data = g_bytes_get_data (frames->pdata[i], &len);
    gsize at[2] = { out->len, len };

    g_byte_array_append (out, data, len);
    g_array_append_vals (offsets, at, 2);
  }
  g_ptr_array_unref (frames);
  ds_stream_state_free (state);
  return has_reference;
}

static gboolean
write_file (const gchar * dir, const gchar * name, const gchar * suffix,
    gconstpointer data, gsize len)
{
  gchar *base = g_strconcat (name, suffix, NULL);
  gchar *path = g_build_filename (dir, base, NULL);
  GError *error = NULL;
  gboolean ok = g_file_set_contents (path, data, len, &error);

  if (!ok) {
    g_printerr ("%s\n", error->message);
    g_error_free (error);
  }
  g_free (path);
  g_free (base);
  return ok;
}

static gboolean
vector_write (Vector * v, const gchar * dir)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen;
  JsonNode *root;
  GByteArray *catchup_bytes = g_byte_array_new ();
  gchar *text, *file;
  gboolean ok;
  guint i;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, v->name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, v->description);
  json_builder_set_member_name (b, "checksum");
  json_builder_add_string_value (b, "FNV-1a 32 of the picture's RGBA bytes, "
      "every alpha byte taken as 255");
  if (v->needs_zstd) {
    json_builder_set_member_name (b, "needs");
    json_builder_begin_array (b);
    json_builder_add_string_value (b, "zstd");
    json_builder_end_array (b);
  }
  if (v->browser_skip) {
    json_builder_set_member_name (b, "browser_skip");
    json_builder_add_string_value (b, v->browser_skip);
  }
  json_builder_set_member_name (b, "file");
  file = g_strconcat (v->name, ".ds", NULL);
  json_builder_add_string_value (b, file);
  g_free (file);
  run_receiver (b, v->bytes->data, v->offsets);

  /* the catch-ups follow the stream's frames in NAME.catchup.ds */
  json_builder_set_member_name (b, "catchups");
  json_builder_begin_array (b);
  for (i = 0; i < v->selects->len; i++) {
    const gchar *const *select = v->selects->pdata[i];
    GArray *offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
    gboolean has_reference, want_keyframe;

    has_reference = run_catchup (v, select, catchup_bytes, offsets,
        &want_keyframe);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "select");
    if (select) {
      json_builder_begin_array (b);
      for (; *select; select++)
        json_builder_add_string_value (b, *select);
      json_builder_end_array (b);
    } else {
      json_builder_add_null_value (b);
    }
    json_builder_set_member_name (b, "has_reference");
    json_builder_add_boolean_value (b, has_reference);
    json_builder_set_member_name (b, "want_keyframe");
    json_builder_add_boolean_value (b, want_keyframe);
    run_receiver (b, catchup_bytes->data, offsets);
    json_builder_end_object (b);
    g_array_unref (offsets);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "catchup_file");
  file = g_strconcat (v->name, ".catchup.ds", NULL);
  json_builder_add_string_value (b, file);
  g_free (file);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 1);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  text = g_realloc (text, strlen (text) + 2);
  strcat (text, "\n");

  ok = write_file (dir, v->name, ".ds", v->bytes->data, v->bytes->len) &&
      write_file (dir, v->name, ".catchup.ds", catchup_bytes->data,
      catchup_bytes->len) &&
      write_file (dir, v->name, ".json", text, strlen (text));

  g_free (text);
  g_object_unref (gen);
  json_node_unref (root);
  g_object_unref (b);
  g_byte_array_unref (catchup_bytes);
  return ok;
}

/* The vectors */

#define W 16
#define H 8
#define SIZE (W * H * 4)

static Vector *
vector_pixels (void)
{
  Vector *v = vector_new ("pixels", "Pixels keyframes, a size change");
  guint8 *a = make_picture (W, H, 0), *b = make_picture (W, H, 5);
  guint8 *c = make_picture (6, 3, 2);

  add_pixels (v, 0, W, H, a);
  add_pixels (v, 1, W, H, b);
  add_pixels (v, 2, 6, 3, c);
  g_free (a);
  g_free (b);
  g_free (c);
  return v;
}

static Vector *
delta_chain (const gchar * name, const gchar * description, guint8 flags)
{
  Vector *v = vector_new (name, description);
  guint8 *p[8];
  guint k;

  for (k = 0; k < G_N_ELEMENTS (p); k++)
    p[k] = make_picture (W, H, k * 2);
  add_delta (v, flags | DS_FLAG_KEYFRAME, 0, W, H, p[0], NULL);
  for (k = 1; k < 5; k++)
    add_delta (v, flags, k, W, H, p[k], p[k - 1]);
  /* a Pixels keyframe in the chain, deltas against it */
  add_pixels (v, 5, W, H, p[5]);
  add_delta (v, flags, 6, W, H, p[6], p[5]);
  add_delta (v, flags, 7, W, H, p[7], p[6]);
  for (k = 0; k < G_N_ELEMENTS (p); k++)
    g_free (p[k]);
  return v;
}

/* MotionDeltaPixels: a scroll, moves overlapping themselves and each
 * other, no moves, a DeltaPixels in between, a move leaving the picture
 * (malformed: the deltas after it are dropped until the Pixels
 * keyframe) */
static Vector *
motion_chain (const gchar * name, const gchar * description, guint8 flags)
{
  static const DsMotionMove scroll[] = {
    {0, 0, 0, 2, W, H - 2},
  };
  static const DsMotionMove windows[] = {
    {0, 0, 1, 0, 4, 3},
    {1, 0, 3, 1, 4, 3},
    {W - 3, H - 2, 0, H - 2, 3, 2},
  };
  Vector *v = vector_new (name, description);
  guint8 *p[8], *pred;
  guint k;

  for (k = 0; k < G_N_ELEMENTS (p); k++)
    p[k] = make_picture (W, H, k * 3 + 1);
  add_pixels (v, 0, W, H, p[0]);
  /* p1: p0 scrolled, new rows at the top */
  pred = predict (p[0], W, H, scroll, 1);
  memcpy (pred, p[1], W * 2 * 4);
  add_motion (v, flags, 1, W, H, pred, p[0], scroll, 1);
  g_free (p[1]);
  p[1] = pred;
  /* p2: windows moved over it, and a few pixels changed */
  pred = predict (p[1], W, H, windows, 3);
  pred[5] ^= 0x11;
  add_motion (v, flags, 2, W, H, pred, p[1], windows, 3);
  g_free (p[2]);
  p[2] = pred;
  /* no moves: the code alone */
  add_motion (v, flags, 3, W, H, p[3], p[2], NULL, 0);
  add_delta (v, flags, 4, W, H, p[4], p[3]);
  add_motion (v, flags, 5, W, H, p[5], p[4], windows, 3);
  /* malformed: the scroll one pixel wider than the picture (in the
   * compressed frame too: the table is read once decompressed) */
  add_motion (v, flags | BAD_MOVE, 6, W, H, p[6], p[5], scroll, 1);
  add_motion (v, flags, 7, W, H, p[7], p[6], windows, 3);
  add_pixels (v, 8, W, H, p[0]);
  add_motion (v, flags, 9, W, H, p[2], p[0], windows, 3);
  for (k = 0; k < G_N_ELEMENTS (p); k++)
    g_free (p[k]);
  return v;
}

static Vector *
vector_seq_gap (void)
{
  Vector *v = vector_new ("seq-gap", "a DeltaPixels gap: deltas are dropped "
      "until a keyframe");
  guint8 *p[8];
  guint k;

  for (k = 0; k < G_N_ELEMENTS (p); k++)
    p[k] = make_picture (W, H, k * 3);
  add_delta (v, DS_FLAG_KEYFRAME, 10, W, H, p[0], NULL);
  add_delta (v, 0, 11, W, H, p[1], p[0]);
  /* 12 is lost */
  add_delta (v, 0, 13, W, H, p[3], p[2]);
  add_delta (v, 0, 14, W, H, p[4], p[3]);
  add_pixels (v, 15, W, H, p[5]);
  add_delta (v, 0, 16, W, H, p[6], p[5]);
  /* a keyframe delta after a gap of 2 is shown */
  add_delta (v, DS_FLAG_KEYFRAME, 19, W, H, p[7], NULL);
  for (k = 0; k < G_N_ELEMENTS (p); k++)
    g_free (p[k]);
  return v;
}

static Vector *
vector_seq_wrap (void)
{
  Vector *v = vector_new ("seq-wrap", "seq wraps from 65535 to 0 without a "
      "gap (audio, signals); a gap across the wrap (pictures)");
  guint8 *p[6];
  guint k;

  for (k = 0; k < G_N_ELEMENTS (p); k++)
    p[k] = make_picture (W, H, k * 4 + 1);
  add_audio (v, 65534, 1, 16000, 8);
  add_delta (v, DS_FLAG_KEYFRAME, 65532, W, H, p[0], NULL);
  add_text (v, DS_FRAME_SIGNAL_SYNC, 65535, "{\"n\":1}");
  add_audio (v, 65535, 1, 16000, 8);
  add_delta (v, 0, 65533, W, H, p[1], p[0]);
  add_text (v, DS_FRAME_SIGNAL_DIFF, 0, "{\"n\":2}");
  add_audio (v, 0, 1, 16000, 8);
  add_delta (v, 0, 65534, W, H, p[2], p[1]);
  add_audio (v, 1, 1, 16000, 8);
  /* 65535 lost */
  add_delta (v, 0, 0, W, H, p[4], p[3]);
  add_delta (v, DS_FLAG_KEYFRAME, 1, W, H, p[4], NULL);
  add_delta (v, 0, 2, W, H, p[5], p[4]);
  for (k = 0; k < G_N_ELEMENTS (p); k++)
    g_free (p[k]);
  return v;
}

/* A bigger picture where only a small box moves: the deltas stay small,
 * so a late joiner gets the keyframe and the deltas since */
static guint8 *
make_still_picture (guint w, guint h, guint k)
{
  guint8 *p = make_picture (w, h, 0);
  guint x, y;

  for (y = 10; y < 13; y++) {
    for (x = k; x < k + 3 && x < w; x++) {
      p[(y * w + x) * 4] = 255;
      p[(y * w + x) * 4 + 1] = (guint8) (k * 40);
    }
  }
  return p;
}

static Vector *
vector_low_motion (void)
{
  Vector *v = vector_new ("delta-low-motion", "small deltas on a 64x32 "
      "picture: the catch-up is the keyframe and the deltas since");
  guint8 *p[5];
  guint k;

  for (k = 0; k < G_N_ELEMENTS (p); k++)
    p[k] = make_still_picture (64, 32, k * 5);
  add_delta (v, DS_FLAG_KEYFRAME, 0, 64, 32, p[0], NULL);
  for (k = 1; k < G_N_ELEMENTS (p); k++)
    add_delta (v, 0, k, 64, 32, p[k], p[k - 1]);
  for (k = 0; k < G_N_ELEMENTS (p); k++)
    g_free (p[k]);
  return v;
}

static Vector *
vector_end_new_stream (void)
{
  Vector *v = vector_new ("end-new-stream", "End, then a new stream whose "
      "seq starts again: no gap, but no reference and no signal state "
      "either");
  guint8 *a = make_picture (W, H, 1), *b = make_picture (W, H, 2);
  guint8 *c = make_picture (W, H, 9), *d = make_picture (W, H, 10);

  add_delta (v, DS_FLAG_KEYFRAME, 100, W, H, a, NULL);
  add_text (v, DS_FRAME_SIGNAL_SYNC, 40, "{\"count\":1,\"name\":\"first\"}");
  add_delta (v, 0, 101, W, H, b, a);
  add_frame (v, DS_FRAME_END, 0, 0, 0, 0, NULL, 0);
  /* the new source's first delta refers to a picture we never had */
  add_delta (v, 0, 0, W, H, d, c);
  add_text (v, DS_FRAME_SIGNAL_DIFF, 0, "{\"count\":2}");
  add_delta (v, DS_FLAG_KEYFRAME, 1, W, H, c, NULL);
  add_delta (v, 0, 2, W, H, d, c);
  g_free (a);
  g_free (b);
  g_free (c);
  g_free (d);
  return v;
}

static Vector *
vector_keyframe_reset (void)
{
  Vector *v = vector_new ("keyframe-reset", "a Keyframe frame (0xF0) resets "
      "the picture and the signal state and every seq stream");
  guint8 *a = make_picture (W, H, 3), *b = make_picture (W, H, 4);

  add_pixels (v, 7, W, H, a);
  add_text (v, DS_FRAME_SIGNAL_SYNC, 3, "{\"x\":1,\"y\":2}");
  add_frame (v, DS_FRAME_KEYFRAME, 0, 0, 0, 0, NULL, 0);
  add_delta (v, 0, 20, W, H, b, a);
  add_text (v, DS_FRAME_SIGNAL_DIFF, 9, "{\"y\":3}");
  add_pixels (v, 21, W, H, b);
  g_free (a);
  g_free (b);
  return v;
}

static Vector *
vector_signals (void)
{
  Vector *v = vector_new ("signals", "SchemaAnnounce, SignalSync and "
      "SignalDiffs with _v versions (lower refused, equal and higher taken), "
      "null values, reserved keys, a SubscribeFilter; catch-ups with and "
      "without a select");
  gchar **select = g_new0 (gchar *, 3);

  add_text (v, DS_FRAME_SCHEMA_ANNOUNCE, 0,
      "{\"signals\":[\"count\",\"doubled\",\"label\"],\"mode\":\"signal\"}");
  add_text (v, DS_FRAME_SIGNAL_SYNC, 1, "{\"count\":1,\"doubled\":2,"
      "\"label\":\"one\",\"_private\":true,\"_v\":{\"count\":5,\"gone\":9}}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 2,
      "{\"count\":2,\"doubled\":4,\"_v\":{\"count\":6,\"doubled\":1}}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 3, "{\"count\":99,\"_v\":{\"count\":3}}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 4,
      "{\"doubled\":40,\"_v\":{\"doubled\":1}}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 5,
      "{\"label\":null,\"nested\":{\"a\":[1,2,{\"b\":false}]}}");
  add_text (v, DS_FRAME_SUBSCRIBE_FILTER, 0, "{\"select\":[\"count\"]}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 6,
      "{\"count\":7,\"_v\":{\"count\":\"8\"}}");
  /* a sync replaces everything, versions too */
  add_text (v, DS_FRAME_SIGNAL_SYNC, 7,
      "{\"count\":1,\"other\":\"x\",\"_v\":{\"count\":2}}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 8, "{\"count\":0,\"_v\":{\"count\":1}}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 9,
      "{\"count\":3,\"doubled\":6,\"_v\":{\"count\":2}}");

  select[0] = g_strdup ("count");
  select[1] = g_strdup ("label");
  g_ptr_array_add (v->selects, select);
  return v;
}

static Vector *
vector_signals_diffs_only (void)
{
  Vector *v = vector_new ("signals-diffs-only", "SignalDiffs and no "
      "SignalSync (catchup_diffs_only_no_sync): the catch-up merges them");

  add_text (v, DS_FRAME_SIGNAL_DIFF, 50, "{\"a\":1,\"_v\":{\"a\":1}}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 51, "{\"b\":\"two\"}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 52, "{\"a\":3,\"_v\":{\"a\":3}}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 53, "{\"a\":2,\"_v\":{\"a\":2}}");
  return v;
}

static Vector *
vector_interleaved (void)
{
  Vector *v = vector_new ("interleaved", "pictures, audio, signals and "
      "other frames interleaved, each on its own seq counter: no gap; then a "
      "gap on the audio stream only, and a late audio frame");
  guint8 *p[4];
  const guint8 haptic[3] = { 0x2c, 0x01, 200 };
  const guint8 neural[5] = { 1, 2, 3, 4, 5 };
  guint k;

  for (k = 0; k < G_N_ELEMENTS (p); k++)
    p[k] = make_picture (W, H, k + 7);
  add_delta (v, DS_FLAG_KEYFRAME, 0, W, H, p[0], NULL);
  add_audio (v, 500, 2, 48000, 32);
  add_text (v, DS_FRAME_SIGNAL_SYNC, 9, "{\"t\":0}");
  add_audio (v, 501, 2, 48000, 32);
  add_delta (v, 0, 1, W, H, p[1], p[0]);
  add_frame (v, DS_FRAME_HAPTIC, 0, 30, 0, 0, haptic, sizeof (haptic));
  add_text (v, DS_FRAME_SIGNAL_DIFF, 10, "{\"t\":1}");
  add_frame (v, DS_FRAME_NEURAL_LATENT, 0, 31, 0, 0, neural, sizeof (neural));
  add_frame (v, DS_FRAME_PING, 0, 77, 0, 0, NULL, 0);
  add_audio (v, 502, 1, 8000, 10);
  add_delta (v, 0, 2, W, H, p[2], p[1]);
  /* 503 and 504 lost: sound only */
  add_audio (v, 505, 2, 48000, 32);
  /* 504 after all, late: played, no gap, the position stays at 505 */
  add_audio (v, 504, 2, 48000, 32);
  add_delta (v, 0, 3, W, H, p[3], p[2]);
  add_text (v, DS_FRAME_SIGNAL_DIFF, 11, "{\"t\":2}");
  for (k = 0; k < G_N_ELEMENTS (p); k++)
    g_free (p[k]);
  return v;
}

static Vector *
vector_malformed (void)
{
  Vector *v = vector_new ("malformed", "malformed frames are skipped and "
      "counted; a damaged picture waits for the next keyframe");
  guint8 *a = make_picture (W, H, 0), *b = make_picture (W, H, 1);
  guint8 *c = make_picture (W, H, 2);
  const guint8 short_message[5] = { 0x01, 0x00, 0x01, 0x00, 0x00 };
  const guint8 bad_rle[4] = { 7, 7, 0, 1 };
  const guint8 not_png[8] = { 'n', 'o', 't', ' ', 'a', 'p', 'n', 'g' };
  const guint8 png_head[24] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 4, 0, 0, 0, 2
  };
  const guint8 pcm_odd[6] = { 0, };
  GBytes *frame;
  DsHeader header = { 0, };
  guint8 *truncated;
  gconstpointer data;
  gsize len;

  /* a message that is not a frame or not all of one is followed by a
   * whole one here: a byte-stream reader (dsdepay) knows only then */
  add_delta (v, DS_FLAG_KEYFRAME, 0, W, H, a, NULL);
  /* shorter than a header */
  add_message (v, short_message, sizeof (short_message));
  add_delta (v, 0, 1, W, H, b, a);
  /* a header announcing more payload than the message holds */
  header.type = DS_FRAME_DELTA_PIXELS;
  header.seq = 2;
  header.width = W;
  header.height = H;
  frame = ds_frame_pack (&header, bad_rle, sizeof (bad_rle));
  data = g_bytes_get_data (frame, &len);
  truncated = g_memdup2 (data, len);
  add_message (v, truncated, len - 2);
  g_free (truncated);
  g_bytes_unref (frame);
  add_delta (v, 0, 2, W, H, c, b);
  /* unknown type */
  add_frame (v, 0x77, 0, 1, 0, 0, bad_rle, sizeof (bad_rle));
  /* a run-length code that does not decode: wait for a keyframe */
  add_frame (v, DS_FRAME_DELTA_PIXELS, 0, 3, W, H, bad_rle, sizeof (bad_rle));
  add_delta (v, 0, 4, W, H, a, c);
  /* a Pixels frame of the wrong size */
  add_frame (v, DS_FRAME_PIXELS, 0, 5, W, H, a, SIZE - 4);
  /* a delta without a size, an empty one */
  add_frame (v, DS_FRAME_DELTA_PIXELS, DS_FLAG_KEYFRAME, 5, 0, 0, bad_rle,
      sizeof (bad_rle));
  add_frame (v, DS_FRAME_DELTA_PIXELS, 0, 5, W, H, NULL, 0);
  /* Pixels with FLAG_COMPRESSED: nobody decompresses a Pixels frame */
  add_frame (v, DS_FRAME_PIXELS, DS_FLAG_COMPRESSED, 5, W, H, a, 16);
  add_delta (v, DS_FLAG_KEYFRAME, 5, W, H, c, NULL);
  /* signals that are not JSON objects */
  add_text (v, DS_FRAME_SIGNAL_SYNC, 0, "{\"ok\":true}");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 1, "not json");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 2, "[1,2]");
  add_text (v, DS_FRAME_SIGNAL_DIFF, 3, "{\"ok\":false}");
  add_text (v, DS_FRAME_SCHEMA_ANNOUNCE, 4, "{\"signals\":[1]}");
  add_frame (v, DS_FRAME_SIGNAL_DIFF, 0, 5, 0, 0, NULL, 0);
  /* audio that is not whole sample frames, audio without a rate */
  add_frame (v, DS_FRAME_AUDIO_PCM, 0, 0, 1, 8000, pcm_odd, sizeof (pcm_odd));
  add_frame (v, DS_FRAME_AUDIO_PCM, 0, 0, 1, 0, pcm_odd, 4);
  /* a Haptic frame that is too short */
  add_frame (v, DS_FRAME_HAPTIC, 0, 0, 0, 0, pcm_odd, 2);
  /* images: one that is not PNG or WebP, one that is */
  add_frame (v, DS_FRAME_COMPRESSED_PIXELS, 0, 6, 4, 2, not_png,
      sizeof (not_png));
  add_frame (v, DS_FRAME_COMPRESSED_PIXELS, 0, 7, 4, 2, png_head,
      sizeof (png_head));
  add_delta (v, 0, 8, W, H, a, c);
  g_free (a);
  g_free (b);
  g_free (c);
  return v;
}

/* Made-up H.264 access units (Annex B start codes and NAL headers, not
 * decodable pictures): @key an SPS, a PPS and an IDR slice, else a
 * non-IDR slice; @n makes each one's bytes differ */
static void
add_unit (Vector * v, gboolean key, guint16 seq, guint w, guint h, guint n)
{
  static const guint8 idr[] = {
    DS_CODEC_H264, 0,
    0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x0a, 0xd9, 0x1e, 0x84,
    0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80,
    0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x00
  };
  static const guint8 slice[] = {
    DS_CODEC_H264, 0, 0, 0, 0, 1, 0x41, 0x9a, 0x00, 0x00
  };
  guint8 unit[sizeof (idr)];
  gsize len = key ? sizeof (idr) : sizeof (slice);

  memcpy (unit, key ? idr : slice, len);
  unit[len - 2] = (guint8) n;
  unit[len - 1] = (guint8) (n * 7 + 1);
  add_frame (v, DS_FRAME_ENCODED_VIDEO, key ? DS_FLAG_KEYFRAME : 0, seq, w, h,
      unit, len);
}

static Vector *
vector_encoded_h264 (void)
{
  Vector *v = vector_new ("encoded-h264", "EncodedVideo (H.264, made-up "
      "units): delta units before the first keyframe and after a gap are "
      "dropped until the next keyframe, as after a Keyframe frame; a raw "
      "picture before a keyframe unit; malformed units (unknown codec, "
      "reserved byte set, no unit, FLAG_COMPRESSED) and the deltas after "
      "them dropped");
  guint8 *p = make_picture (W, H, 3);
  guint8 bad[] = { 9, 0, 0, 0, 0, 1, 0x41 };

  add_unit (v, FALSE, 0, 64, 48, 0);
  add_pixels (v, 1, W, H, p);
  add_unit (v, TRUE, 2, 64, 48, 1);
  add_unit (v, FALSE, 3, 64, 48, 2);
  add_unit (v, FALSE, 4, 64, 48, 3);
  /* 5 is lost */
  add_unit (v, FALSE, 6, 64, 48, 4);
  add_unit (v, TRUE, 7, 64, 48, 5);
  add_unit (v, FALSE, 8, 64, 48, 6);
  /* a unit of another size without a keyframe */
  add_unit (v, FALSE, 9, 32, 16, 7);
  add_unit (v, TRUE, 10, 32, 16, 8);
  add_frame (v, DS_FRAME_KEYFRAME, 0, 0, 0, 0, NULL, 0);
  add_unit (v, FALSE, 11, 32, 16, 9);
  add_unit (v, TRUE, 12, 32, 16, 10);
  add_frame (v, DS_FRAME_ENCODED_VIDEO, 0, 13, 32, 16, bad, sizeof (bad));
  bad[0] = DS_CODEC_H264;
  bad[1] = 1;
  add_frame (v, DS_FRAME_ENCODED_VIDEO, 0, 14, 32, 16, bad, sizeof (bad));
  add_frame (v, DS_FRAME_ENCODED_VIDEO, 0, 15, 32, 16, bad, 2);
  bad[1] = 0;
  add_frame (v, DS_FRAME_ENCODED_VIDEO, DS_FLAG_COMPRESSED, 16, 32, 16, bad,
      sizeof (bad));
  add_unit (v, FALSE, 17, 32, 16, 11);
  add_unit (v, TRUE, 18, 32, 16, 12);
  add_unit (v, FALSE, 19, 32, 16, 13);
  g_free (p);
  return v;
}

int
main (int argc, char **argv)
{
  Vector *vectors[15];
  guint i, n = 0;
  gboolean ok = TRUE;

  if (argc != 2) {
    g_printerr ("usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  if (g_mkdir_with_parents (argv[1], 0755) != 0) {
    g_printerr ("cannot create %s\n", argv[1]);
    return 1;
  }

  vectors[n++] = vector_pixels ();
  vectors[n++] = delta_chain ("delta-chain", "a DeltaPixels keyframe, "
      "deltas, a Pixels keyframe in the chain and deltas against it", 0);
  vectors[n++] = delta_chain ("delta-zstd", "the same chain with "
      "FLAG_COMPRESSED: each payload one zstd frame (stored blocks)",
      DS_FLAG_COMPRESSED);
  vectors[n - 1]->needs_zstd = TRUE;
  vectors[n++] = motion_chain ("motion", "MotionDeltaPixels: a scroll, "
      "moves overlapping themselves and each other, no moves, a DeltaPixels "
      "between them, then a move leaving the picture (malformed) and the "
      "deltas after it dropped until a Pixels keyframe", 0);
  vectors[n++] = motion_chain ("motion-zstd", "the motion chain with "
      "FLAG_COMPRESSED: each payload one zstd frame (stored blocks)",
      DS_FLAG_COMPRESSED);
  vectors[n - 1]->needs_zstd = TRUE;
  vectors[n++] = vector_low_motion ();
  vectors[n++] = vector_seq_gap ();
  vectors[n++] = vector_seq_wrap ();
  vectors[n++] = vector_end_new_stream ();
  vectors[n++] = vector_keyframe_reset ();
  vectors[n++] = vector_signals ();
  vectors[n++] = vector_signals_diffs_only ();
  vectors[n++] = vector_interleaved ();
  vectors[n++] = vector_malformed ();
  vectors[n++] = vector_encoded_h264 ();
  g_assert (n <= G_N_ELEMENTS (vectors));

  for (i = 0; i < n; i++) {
    ok = vector_write (vectors[i], argv[1]) && ok;
    vector_free (vectors[i]);
  }
  return ok ? 0 : 1;
}
