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
 * The stream model (dsstream.h, dsframequeue.h), table-driven: each row
 * is a sequence of frames in and what must come out. Deterministic: no
 * sockets, no clocks.
 *
 * Frames are written as space-separated tokens (see stream_parse()):
 *   S{json}  SignalSync          D{json}  SignalDiff
 *   C{json}  SchemaAnnounce      X        Ping
 *   P<n>     Pixels of picture n K<n>     keyframe DeltaPixels of n
 *   d<n>     DeltaPixels from the source's current picture to n
 *   z<n>     the same with FLAG_COMPRESSED (one zstd frame); in a
 *            catch-up, Z is a compressed keyframe DeltaPixels (a chain
 *            with compressed frames is rebuilt compressed when only that
 *            fits)
 *   j<n>     a DeltaPixels with FLAG_COMPRESSED whose payload is not zstd
 *   v<n>     MotionDeltaPixels from the source's current picture to n (two
 *            moves, each overlapping itself, the second reading what the
 *            first overwrites)
 *   V<n>     the same with FLAG_COMPRESSED
 *   w<n>     MotionDeltaPixels with two whole-picture moves (the most
 *            area allowed: it weighs four pictures of work)
 *   o<n>     MotionDeltaPixels whose move leaves the picture
 *   m<n>     a DeltaPixels whose code decodes to half its picture
 *   I        CompressedPixels (a PNG header)
 *   H, h     EncodedVideo (H.264): an access unit with FLAG_KEYFRAME, one
 *            without; G a delta unit of VP8; x one with an unknown codec
 *   A<n>     AudioPcm of n bytes F        Keyframe frame
 *   E        End
 * A picture token may end in @WxH (default: the row's size). A token may
 * end in #SEQ to set its seq (else each seq stream counts from 0).
 * Pictures n < 100 differ from each other in a few pixels; n >= 100 in
 * every pixel (their deltas are larger than the picture).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/check/gstcheck.h>

#include <zstd.h>

#include "dscompress.h"
#include "dsframequeue.h"
#include "dsmotion.h"
#include "dsrle.h"
#include "dsstream.h"

/* fail_unless_equals_int() that names the row */
#define assert_row_int(got, want, fmt, ...) G_STMT_START {              \
    gint _got = (got), _want = (want);                                  \
    fail_unless (_got == _want, fmt ": %d, expected %d", __VA_ARGS__,   \
        _got, _want);                                                   \
  } G_STMT_END

#define DEFAULT_W 16
#define DEFAULT_H 8

/* Pictures */

static guint8
picture_byte (guint n, gsize i)
{
  if (n >= 100)
    return (guint8) (i * 13 + n * 101 + (i >> 3));
  /* a few pixels of their own on a common background */
  if ((i / 4) % 29 == n % 29)
    return (guint8) (n * 7 + 1);
  return (guint8) (i >> 4);
}

static guint8 *
picture_new (guint n, guint w, guint h)
{
  gsize size = (gsize) w * h * 4, i;
  guint8 *p = g_malloc (size);

  for (i = 0; i < size; i++)
    p[i] = picture_byte (n, i);
  return p;
}

/* Frames from tokens */

typedef struct
{
  guint16 seq[DS_SEQ_N_STREAMS];
  guint w, h;                   /* the row's picture size */
  gint current;                 /* the source's picture, -1: none */
  guint cur_w, cur_h;
} Source;

static void
source_init (Source * s, guint w, guint h)
{
  memset (s, 0, sizeof (*s));
  s->w = w ? w : DEFAULT_W;
  s->h = h ? h : DEFAULT_H;
  s->current = -1;
}

static GBytes *
rle_frame (DsHeader * header, const guint8 * cur, const guint8 * ref,
    gsize size)
{
  guint8 *code = g_malloc (DS_RLE_MAX_ENCODED_SIZE (size));
  gsize len = ds_rle_encode_xor (cur, ref, size, code,
      DS_RLE_MAX_ENCODED_SIZE (size));
  GBytes *frame;

  fail_unless (len > 0);
  frame = ds_frame_pack (header, code, len);
  g_free (code);
  return frame;
}

/* @payload as one zstd frame */
static GBytes *
zstd_frame (DsHeader * header, const guint8 * payload, gsize len)
{
  gsize cap = ZSTD_compressBound (len), zlen;
  guint8 *z = g_malloc (cap);
  GBytes *frame;

  zlen = ZSTD_compress (z, cap, payload, len, 1);
  fail_if (ZSTD_isError (zlen));
  frame = ds_frame_pack (header, z, zlen);
  g_free (z);
  return frame;
}

/* A MotionDeltaPixels frame from @ref to @cur, compressed or not */
static GBytes *
motion_frame (DsHeader * header, const guint8 * cur, const guint8 * ref,
    guint w, guint h, gchar kind)
{
  /* inside the first four pixels of each row, where the background of
   * picture_byte() is one colour: small deltas */
  DsMotionMove moves[2] = { {0, 0, 1, 0, 3, h}, {1, 0, 2, 0, 2, h} };
  gsize size = (gsize) w * h * 4;
  gsize cap = DS_MOTION_TABLE_SIZE (2) + DS_RLE_MAX_ENCODED_SIZE (size);
  guint8 *payload = g_malloc (cap);
  gsize len;
  GBytes *frame;

  if (kind == 'w') {
    moves[0] = moves[1] = (DsMotionMove) {
    0, 0, 0, 0, w, h};
  }
  len = ds_motion_encode (cur, ref, w, h, moves, 2, payload, cap);
  fail_unless (len > 0);
  if (kind == 'o') {
    /* the first move (3 wide) one pixel to the right of what fits */
    payload[DS_MOTION_TABLE_SIZE (0) + 4] = w - 2;
  }
  if (kind == 'V')
    frame = zstd_frame (header, payload, len);
  else
    frame = ds_frame_pack (header, payload, len);
  g_free (payload);
  return frame;
}

/* One token into a frame; @header gets its header */
static GBytes *
token_frame (Source * s, const gchar * token, DsHeader * header)
{
  gchar kind = token[0];
  const gchar *arg = token + 1, *at, *hash;
  gchar *json = NULL;
  guint n = 0, w = s->w, h = s->h;
  gboolean explicit_seq = FALSE;
  guint16 seq = 0;
  GBytes *frame = NULL;
  DsSeqStream id;

  memset (header, 0, sizeof (*header));
  hash = strrchr (token, '#');
  if (hash && kind != 'S' && kind != 'D' && kind != 'C') {
    explicit_seq = TRUE;
    seq = (guint16) atoi (hash + 1);
  } else if (hash && strrchr (token, '}') < hash) {
    explicit_seq = TRUE;
    seq = (guint16) atoi (hash + 1);
  }
  at = strchr (token, '@');
  if (at && kind != 'S' && kind != 'D' && kind != 'C')
    fail_unless (sscanf (at + 1, "%ux%u", &w, &h) == 2, "bad size %s", token);
  if (g_ascii_isdigit (*arg))
    n = atoi (arg);

  switch (kind) {
    case 'S':
    case 'D':
    case 'C':{
      const gchar *end = strrchr (token, '}');

      fail_unless (arg[0] == '{' && end != NULL, "bad token %s", token);
      json = g_strndup (arg, end - arg + 1);
      header->type = kind == 'S' ? DS_FRAME_SIGNAL_SYNC : kind == 'D' ?
          DS_FRAME_SIGNAL_DIFF : DS_FRAME_SCHEMA_ANNOUNCE;
      header->flags = kind == 'S' ? DS_FLAG_KEYFRAME : 0;
      break;
    }
    case 'P':
    case 'K':
    case 'd':
    case 'z':
    case 'j':
    case 'm':
    case 'v':
    case 'V':
    case 'w':
    case 'o':
      header->type = kind == 'P' ? DS_FRAME_PIXELS : DS_FRAME_DELTA_PIXELS;
      if (strchr ("vVwo", kind))
        header->type = DS_FRAME_MOTION_DELTA_PIXELS;
      header->width = w;
      header->height = h;
      if (kind == 'K')
        header->flags = DS_FLAG_KEYFRAME;
      if (kind == 'z' || kind == 'j' || kind == 'V')
        header->flags = DS_FLAG_COMPRESSED;
      break;
    case 'I':
      header->type = DS_FRAME_COMPRESSED_PIXELS;
      header->width = w;
      header->height = h;
      break;
    case 'H':
    case 'h':
    case 'G':
    case 'x':
      header->type = DS_FRAME_ENCODED_VIDEO;
      header->width = w;
      header->height = h;
      if (kind == 'H')
        header->flags = DS_FLAG_KEYFRAME;
      break;
    case 'A':
      header->type = DS_FRAME_AUDIO_PCM;
      header->width = 1;
      header->height = 48000;
      break;
    case 'F':
      header->type = DS_FRAME_KEYFRAME;
      break;
    case 'E':
      header->type = DS_FRAME_END;
      break;
    case 'X':
      header->type = DS_FRAME_PING;
      break;
    default:
      fail ("unknown token %s", token);
  }

  id = ds_frame_type_seq_stream (header->type);
  if (explicit_seq)
    header->seq = seq;
  else if (id != DS_SEQ_NONE)
    header->seq = s->seq[id];
  if (id != DS_SEQ_NONE)
    s->seq[id] = header->seq + 1;
  header->timestamp = 1000 + header->seq;

  switch (kind) {
    case 'S':
    case 'D':
    case 'C':
      frame = ds_frame_pack (header, json, strlen (json));
      break;
    case 'P':{
      guint8 *p = picture_new (n, w, h);

      frame = ds_frame_pack (header, p, (gsize) w * h * 4);
      g_free (p);
      break;
    }
    case 'K':{
      guint8 *p = picture_new (n, w, h);

      frame = rle_frame (header, p, NULL, (gsize) w * h * 4);
      g_free (p);
      break;
    }
    case 'd':
    case 'z':{
      guint8 *p = picture_new (n, w, h);
      guint8 *r = picture_new (s->current < 0 ? 0 : s->current, w, h);

      frame = rle_frame (header, p, r, (gsize) w * h * 4);
      if (kind == 'z') {
        GBytes *code = frame;

        frame = zstd_frame (header, (const guint8 *) g_bytes_get_data (code,
                NULL) + DS_HEADER_SIZE, g_bytes_get_size (code) -
            DS_HEADER_SIZE);
        g_bytes_unref (code);
      }
      g_free (p);
      g_free (r);
      break;
    }
    case 'v':
    case 'V':
    case 'w':
    case 'o':{
      guint8 *p = picture_new (n, w, h);
      guint8 *r = picture_new (s->current < 0 ? 0 : s->current, w, h);

      frame = motion_frame (header, p, r, w, h, kind);
      g_free (p);
      g_free (r);
      break;
    }
    case 'm':{
      guint8 *p = picture_new (n, w, h);

      frame = rle_frame (header, p, NULL, (gsize) w * h * 2);
      g_free (p);
      break;
    }
    case 'j':{
      static const guint8 junk[] = { 0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0 };

      frame = ds_frame_pack (header, junk, sizeof (junk));
      break;
    }
    case 'I':{
      guint8 png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
        0, 0, 0, 13, 'I', 'H', 'D', 'R'
      };

      GST_WRITE_UINT32_BE (png + 16, w);
      GST_WRITE_UINT32_BE (png + 20, h);
      png[24] = 8;
      png[25] = 6;
      frame = ds_frame_pack (header, png, sizeof (png));
      break;
    }
    case 'H':
    case 'h':
    case 'G':
    case 'x':{
      guint8 unit[6] = { DS_CODEC_H264, 0, 0, 0, 1, 0x41 };

      if (kind == 'H')
        unit[5] = 0x65;
      else if (kind == 'G')
        unit[0] = DS_CODEC_VP8;
      else if (kind == 'x')
        unit[0] = 9;
      frame = ds_frame_pack (header, unit, sizeof (unit));
      break;
    }
    case 'A':{
      guint8 *pcm = g_malloc0 (n ? n : 4);

      frame = ds_frame_pack (header, pcm, n ? n : 4);
      g_free (pcm);
      break;
    }
    default:
      frame = ds_frame_pack (header, NULL, 0);
      break;
  }
  if (strchr ("PKdzvVw", kind)) {
    s->current = n;
    s->cur_w = w;
    s->cur_h = h;
  }
  g_free (json);
  /* the header as packed (payload_len) */
  fail_unless (ds_header_parse (g_bytes_get_data (frame, NULL),
          g_bytes_get_size (frame), header, NULL));
  return frame;
}

/* Splits at spaces outside {} */
static gchar **
tokens_split (const gchar * frames)
{
  GPtrArray *out = g_ptr_array_new ();
  const gchar *p = frames;

  while (*p) {
    const gchar *start;
    gint depth = 0;

    while (*p == ' ')
      p++;
    if (!*p)
      break;
    start = p;
    while (*p && (depth > 0 || *p != ' ')) {
      if (*p == '{' || *p == '[')
        depth++;
      else if (*p == '}' || *p == ']')
        depth--;
      p++;
    }
    g_ptr_array_add (out, g_strndup (start, p - start));
  }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

/* Describes frames as tokens, for comparing with a row: S{json} D{json} C
 * P K d z I A F E; with @discont, '!' before a discont frame */
static gchar
frame_letter (const DsHeader * h)
{
  switch (h->type) {
    case DS_FRAME_SIGNAL_SYNC:
      return 'S';
    case DS_FRAME_SIGNAL_DIFF:
      return 'D';
    case DS_FRAME_SCHEMA_ANNOUNCE:
      return 'C';
    case DS_FRAME_PIXELS:
      return 'P';
    case DS_FRAME_DELTA_PIXELS:
      if (h->flags & DS_FLAG_COMPRESSED)
        return (h->flags & DS_FLAG_KEYFRAME) ? 'Z' : 'z';
      return (h->flags & DS_FLAG_KEYFRAME) ? 'K' : 'd';
    case DS_FRAME_MOTION_DELTA_PIXELS:
      return (h->flags & DS_FLAG_COMPRESSED) ? 'V' : 'v';
    case DS_FRAME_COMPRESSED_PIXELS:
      return 'I';
    case DS_FRAME_ENCODED_VIDEO:
      return (h->flags & DS_FLAG_KEYFRAME) ? 'H' : 'h';
    case DS_FRAME_AUDIO_PCM:
      return 'A';
    case DS_FRAME_KEYFRAME:
      return 'F';
    case DS_FRAME_END:
      return 'E';
    case DS_FRAME_PING:
      return 'X';
    default:
      return '?';
  }
}

static void
describe (GString * s, GBytes * frame, gboolean discont, gboolean with_seq)
{
  const guint8 *data;
  gsize len;
  DsHeader h;

  data = g_bytes_get_data (frame, &len);
  fail_unless (ds_header_parse (data, len, &h, NULL));
  if (s->len)
    g_string_append_c (s, ' ');
  if (discont)
    g_string_append_c (s, '!');
  g_string_append_c (s, frame_letter (&h));
  if (h.type == DS_FRAME_SIGNAL_SYNC || h.type == DS_FRAME_SIGNAL_DIFF)
    g_string_append_len (s, (const gchar *) data + DS_HEADER_SIZE,
        h.payload_len);
  if (with_seq)
    g_string_append_printf (s, "#%u", h.seq);
}

/* Decodes picture frames in order; returns the picture number the result
 * equals (searching 0..299), -1 for none, -2 for a picture matching none */
static gint
decode_pictures (GPtrArray * frames, guint w, guint h)
{
  gsize size = (gsize) w * h * 4;
  guint8 *picture = g_malloc0 (size);
  guint8 *buf = NULL;
  gsize buf_size = 0;
  gboolean have = FALSE;
  guint i, n;
  gint result = -2;

  for (i = 0; i < frames->len; i++) {
    const guint8 *data;
    gsize len;
    DsHeader hd;

    data = g_bytes_get_data (g_ptr_array_index (frames, i), &len);
    fail_unless (ds_header_parse (data, len, &hd, NULL));
    if (hd.type == DS_FRAME_PIXELS) {
      fail_unless_equals_int (hd.payload_len, size);
      memcpy (picture, data + DS_HEADER_SIZE, size);
      have = TRUE;
    } else if (hd.type == DS_FRAME_DELTA_PIXELS ||
        hd.type == DS_FRAME_MOTION_DELTA_PIXELS) {
      gboolean key = (hd.flags & DS_FLAG_KEYFRAME) != 0;
      const guint8 *payload = data + DS_HEADER_SIZE;
      gsize payload_len = hd.payload_len;

      if (hd.flags & DS_FLAG_COMPRESSED) {
        fail_unless (ds_payload_decompress (payload, payload_len, 4 * size +
                DS_MOTION_TABLE_SIZE (2), &buf, &buf_size, &payload_len, NULL));
        payload = buf;
      }
      fail_unless (key || have, "a delta with no picture before it");
      if (hd.type == DS_FRAME_MOTION_DELTA_PIXELS)
        fail_unless (ds_motion_decode (payload, payload_len, picture, picture,
                w, h, NULL));
      else
        fail_unless (ds_rle_decode_xor (payload, payload_len,
                key ? NULL : picture, picture, size, NULL));
      have = TRUE;
    }
  }
  g_free (buf);
  if (!have) {
    g_free (picture);
    return -1;
  }
  for (n = 0; n < 300; n++) {
    guint8 *p = picture_new (n, w, h);
    gboolean same = memcmp (p, picture, size) == 0;

    g_free (p);
    if (same) {
      result = n;
      break;
    }
  }
  g_free (picture);
  return result;
}

/* DsSeqTracker */

typedef struct
{
  const gchar *name;
  const gchar *frames;
  const gint missing[12];       /* per frame */
} SeqRow;

static const SeqRow seq_rows[] = {
  {"in order", "P1 d2 d3 S{} D{}", {0, 0, 0, 0, 0}},
  {"gap of two on pictures", "P1#0 d2#3", {0, 2}},
  {"streams count apart", "P1#5 S{}#0 d2#6 D{}#1 A4#9 A4#10",
      {0, 0, 0, 0, 0, 0}},
  {"duplicate and reordered", "P1#4 d2#4 d3#3 d4#5", {0, -1, -1, 0}},
  {"wrap", "P1#65534 d2#65535 d3#0 d4#2", {0, 0, 0, 1}},
  {"Keyframe frame starts a new stream", "P1#10 F d2#0 d3#1", {0, 0, 0, 0}},
  {"End starts a new stream", "S{}#7 E S{}#0 D{}#1", {0, 0, 0, 0}},
  {"control frames are on no stream", "P1#0 X#9 E#3", {0, 0, 0}},
  {"images share the picture stream", "P1#0 I#1 d2#3", {0, 0, 1}},
  {"access units share the picture stream", "P1#0 H#1 h#2 I#4", {0, 0, 0, 1}},
};

GST_START_TEST (test_seq_table)
{
  guint r, i;

  for (r = 0; r < G_N_ELEMENTS (seq_rows); r++) {
    const SeqRow *row = &seq_rows[r];
    gchar **tokens = tokens_split (row->frames);
    DsSeqTracker tracker;
    Source s;

    source_init (&s, 0, 0);
    ds_seq_tracker_init (&tracker);
    for (i = 0; tokens[i]; i++) {
      DsHeader h;
      GBytes *frame = token_frame (&s, tokens[i], &h);
      gint got = ds_seq_tracker_push (&tracker, &h);

      assert_row_int (got, row->missing[i],
          "row '%s' frame %u (%s)", row->name, i, tokens[i]);
      g_bytes_unref (frame);
    }
    g_strfreev (tokens);
  }
}

GST_END_TEST;

/* DsEncodedVideoState: which access units a receiver can decode */

typedef struct
{
  const gchar *name;
  const gchar *frames;
  /* one letter per frame: o decoded, s skipped, - not a unit */
  const gchar *out;
  guint skipped;
} UnitRow;

static const UnitRow unit_rows[] = {
  {"a keyframe and the units after it", "H h h", "ooo", 0},
  {"units before the first keyframe are skipped", "h h H h", "ssoo", 2},
  {"a gap loses the keyframe", "H#0 h#1 h#3 h#4 H#5 h#6", "oossoo", 2},
  {"a gap before a keyframe does not matter", "H#0 h#1 H#5 h#6", "oooo", 0},
  {"a lost picture of another type may have been a unit",
      "H#0 I#2 h#3", "o-s", 1},
  {"a Keyframe frame resets", "H h F h H h", "oo-soo", 1},
  {"End resets", "H E h", "o-s", 1},
  {"a unit of another size is skipped, and the ones after it",
      "H h@8x8 h", "oss", 2},
  {"a unit of another codec is skipped", "H G h", "oss", 2},
  {"audio gaps do not matter", "H A4#0 A4#5 h", "o--o", 0},
  {"raw pictures are not units", "P1 d2 h", "--s", 1},
};

GST_START_TEST (test_encoded_video_state)
{
  guint r, i;

  for (r = 0; r < G_N_ELEMENTS (unit_rows); r++) {
    const UnitRow *row = &unit_rows[r];
    gchar **tokens = tokens_split (row->frames);
    DsEncodedVideoState state;
    DsSeqTracker tracker;
    GString *got = g_string_new (NULL);
    Source s;

    source_init (&s, 0, 0);
    ds_seq_tracker_init (&tracker);
    ds_encoded_video_state_init (&state);
    for (i = 0; tokens[i]; i++) {
      DsHeader h;
      GBytes *frame = token_frame (&s, tokens[i], &h);
      const guint8 *data = g_bytes_get_data (frame, NULL);
      guint8 codec = 0;
      gint missing = ds_seq_tracker_push (&tracker, &h);

      if (h.type == DS_FRAME_ENCODED_VIDEO)
        codec = data[DS_HEADER_SIZE];
      if (ds_encoded_video_state_push (&state, &h, codec, missing))
        g_string_append_c (got, 'o');
      else
        g_string_append_c (got, h.type == DS_FRAME_ENCODED_VIDEO ? 's' : '-');
      g_bytes_unref (frame);
    }
    fail_unless (strcmp (got->str, row->out) == 0, "row '%s': '%s', "
        "expected '%s'", row->name, got->str, row->out);
    assert_row_int (state.skipped, row->skipped, "row '%s': skipped",
        row->name);
    g_string_free (got, TRUE);
    g_strfreev (tokens);
  }
}

GST_END_TEST;

GST_START_TEST (test_encoded_video_state_lose)
{
  DsHeader key = { DS_FRAME_ENCODED_VIDEO, DS_FLAG_KEYFRAME, 0, 0, 64, 48, 3 };
  DsHeader delta = { DS_FRAME_ENCODED_VIDEO, 0, 1, 0, 64, 48, 3 };
  DsEncodedVideoState state;

  ds_encoded_video_state_init (&state);
  fail_unless (ds_encoded_video_state_push (&state, &key, DS_CODEC_VP9, 0));
  fail_unless (ds_encoded_video_state_push (&state, &delta, DS_CODEC_VP9, 0));
  ds_encoded_video_state_lose (&state);
  fail_if (ds_encoded_video_state_push (&state, &delta, DS_CODEC_VP9, 0));
  fail_unless (ds_encoded_video_state_push (&state, &key, DS_CODEC_VP9, 0));
  /* the flags of an input frame are not those of a unit */
  delta.flags = DS_FLAG_INPUT;
  fail_if (ds_encoded_video_state_push (&state, &delta, DS_CODEC_VP9, 0));
  fail_unless_equals_int (state.skipped, 1);
}

GST_END_TEST;

/* DsStreamState: frames in, verdicts, catch-up out */

typedef struct
{
  const gchar *name;
  const gchar *frames;
  /* one letter per frame: F forward, S skip, R refused, M malformed */
  const gchar *verdicts;
  /* the catch-up as tokens (JSON compared as text) */
  const gchar *catchup;
  /* the picture the catch-up decodes to: -1 none */
  gint picture;
  gboolean want_keyframe;       /* the catch-up asks for one */
  gboolean has_reference;
  /* limits (0: default) */
  gsize max_cache_bytes;
  guint64 max_picture_pixels;
  /* select (SubscribeFilter), comma-separated, or NULL */
  const gchar *select;
  /* events OR-ed over all frames that must be there */
  guint events;
  /* settings: the source's own state; no picture cache */
  gboolean origin;
  gboolean no_picture_cache;
} StateRow;

#define PIC (DEFAULT_W * DEFAULT_H * 4 + DS_HEADER_SIZE)

static const StateRow state_rows[] = {
  /* signals (SPEC §6.4, the relay's catchup_* tests) */
  {"empty", "", "", "", -1},
  {"catchup_merges_multiple_diffs", "S{\"a\":1} D{\"b\":2} D{\"a\":3}",
      "FFF", "S{\"a\":3,\"b\":2}", -1},
  {"a sync replaces what came before", "S{\"a\":1} D{\"b\":2} S{\"c\":3}",
      "FFF", "S{\"c\":3}", -1},
  {"catchup_diffs_only_no_sync", "D{\"a\":1} D{\"b\":2}", "FF",
        "D{\"a\":1,\"b\":2}", -1, TRUE, FALSE, 0, 0, NULL,
      DS_STREAM_WANT_KEYFRAME | DS_STREAM_SIGNALS_PARTIAL},
  {"catchup_preserves_version_counters",
        "S{\"a\":1,\"_v\":{\"a\":5}} D{\"a\":2,\"_v\":{\"a\":4}} "
        "D{\"b\":1,\"_v\":{\"b\":2}}", "FFF",
      "S{\"a\":1,\"b\":1,\"_v\":{\"a\":5,\"b\":2}}", -1},
  {"schema first", "S{\"a\":1} C{\"signals\":[\"a\"]}", "FF",
      "C S{\"a\":1}", -1},
  {"SubscribeFilter strips the catch-up",
        "S{\"a\":1,\"b\":2,\"c\":3}", "F", "S{\"a\":1,\"c\":3}", -1, FALSE,
      FALSE, 0, 0, "a,c"},
  {"not JSON is malformed, the state kept", "S{\"a\":1} D{\"a\":}", "FM",
      "S{\"a\":1}", -1},
  {"a Keyframe frame resets signals and pictures",
      "S{\"a\":1} P1 F D{\"b\":2}", "FFFF", "S{\"b\":2}", -1},
  /* pictures */
  {"picture chain", "P1 d2 d3", "FFF", "P d d", 3, FALSE, TRUE},
  {"keyframe delta chain", "K1 d2", "FF", "K d", 2, FALSE, TRUE},
  {"a new keyframe restarts the chain", "P1 d2 P5 d6", "FFFF", "P d", 6,
      FALSE, TRUE},
  {"rebuild when the deltas outweigh the picture",
        "P100 d101 d102 d103", "FFFF", "P", 103, FALSE, TRUE, 0, 0, NULL,
      DS_STREAM_REBUILT},
  {"a delta of another size is skipped", "P1 d2@8x8", "FS", "P", 1, FALSE,
      TRUE, 0, 0, NULL, DS_STREAM_WANT_KEYFRAME},
  {"a delta before any picture is skipped", "d2", "S", "", -1},
  {"too large a picture is refused and the reference lost",
        "P1 P2@64x64 d3", "FRS", "", -1, FALSE, FALSE, 0, 1024, NULL,
      DS_STREAM_REFERENCE_LOST},
  {"an image too large by its own header is refused",
      "I@8x8 I@200x200", "FR", "I", -1, FALSE, FALSE, 0, 10000},
  {"a keyframe over the cache bound is not cached; joiners ask",
        "P1 d2", "FF", "", -1, TRUE, FALSE, 100, 0, NULL,
      DS_STREAM_CACHE_DROPPED},
  {"a chain over the cache bound is rebuilt", "P1 d2 d3 d4 d5 d6 d7 d8",
        "FFFFFFFF", "K d", 8, FALSE, TRUE, PIC + 200, 0, NULL,
      DS_STREAM_REBUILT},
  {"compressed chains rebuild", "P1 z2 z3 z4 z5 z6 z7 z8",
        "FFFFFFFF", "Z z z z z", 8, FALSE, TRUE, PIC + 200, 0, NULL,
      DS_STREAM_REBUILT},
  {"a compressed keyframe delta rebuilds",
        "K1 z2 z3 z4 z5 z6 z7 z8", "FFFFFFFF", "Z z z z z", 8, FALSE, TRUE,
      PIC + 200, 0, NULL, DS_STREAM_REBUILT},
  {"junk compressed chains are dropped on overflow and a keyframe asked",
        "P100 j101 j102 j103 j104 j105 j106 j107 j108 j109 j110 j111 j112 j113 j114 j115 j116 j117 j118 j119 j120 j121 j122 j123 j124 j125",
        "FFFFFFFFFFFFFFFFFFFFFFFFFF", "", -1, TRUE, FALSE, 0, 0, NULL,
      DS_STREAM_CACHE_DROPPED | DS_STREAM_WANT_KEYFRAME},
  {"a malformed run-length code", "P1 m2", "FM", "P", 1, FALSE, TRUE},
  /* MotionDeltaPixels (issue 13) */
  {"motion chain", "P1 v2 v3", "FFF", "P v v", 3, FALSE, TRUE},
  {"motion and plain deltas mix", "K1 v2 d3 V4", "FFFF", "K v d V", 4,
      FALSE, TRUE},
  {"a motion delta of another size is skipped", "P1 v2@8x8", "FS", "P", 1,
      FALSE, TRUE, 0, 0, NULL, DS_STREAM_WANT_KEYFRAME},
  {"a motion delta before any picture is skipped", "v2", "S", "", -1},
  {"a move leaving the picture is malformed", "P1 o2 v3", "FMF", "P v", 3,
      FALSE, TRUE},
  {"a motion chain that outweighs the picture is rebuilt",
        "P100 v101 v102 v103", "FFFF", "P", 103, FALSE, TRUE, 0, 0, NULL,
      DS_STREAM_REBUILT},
  {"compressed motion chains rebuild", "P1 V2 V3 V4 V5 V6 V7 V8",
        "FFFFFFFF", "Z V", 8, FALSE, TRUE, PIC + 200, 0, NULL,
      DS_STREAM_REBUILT},
  {"moves weigh their area: a chain of 8 pictures of work is rebuilt",
        "P1 w2 w3 w4", "FFFF", "K v", 4, FALSE, TRUE, 0, 0, NULL,
      DS_STREAM_REBUILT},
  {"an image after the picture goes last", "P1 d2 I", "FFF", "P d I", 2,
      FALSE, TRUE},
  {"a picture after the image hides it", "I P1", "FF", "P", 1, FALSE, TRUE},
  {"an image alone", "I", "F", "I", -1},
  /* EncodedVideo (issue 14): the keyframe unit and every unit since are
   * cached for joiners, replayed as they came */
  {"a joiner gets the keyframe unit and every unit since",
      "H h h", "FFF", "H h h", -1, FALSE, TRUE},
  {"a new keyframe unit replaces the chain", "H h h H h", "FFFFF", "H h",
      -1, FALSE, TRUE},
  {"an image after units keeps their chain", "H h I", "FFF", "H h I",
      -1, FALSE, TRUE},
  {"a unit after the image hides it", "H h I h", "FFFF", "H h h", -1,
      FALSE, TRUE},
  {"a unit before any keyframe is skipped", "h", "S", "", -1, FALSE, FALSE,
      0, 0, NULL, DS_STREAM_WANT_KEYFRAME},
  {"a unit of another size than its keyframe is skipped", "H h@8x8", "FS",
      "H", -1, FALSE, TRUE, 0, 0, NULL, DS_STREAM_WANT_KEYFRAME},
  {"an encoded keyframe makes the raw picture cached stale", "P1 d2 H h",
      "FFFF", "H h", -1, FALSE, TRUE},
  {"a chain over the bound is dropped once and a keyframe asked for; "
        "joiners wait for the next one", "H h h h h", "FFFFF", "", -1, TRUE,
        FALSE, 3 * (DS_HEADER_SIZE + 6), 0, NULL,
      DS_STREAM_WANT_KEYFRAME | DS_STREAM_CACHE_DROPPED},
  {"after a dropped chain the cache starts at the next keyframe unit",
        "H h h h h H h", "FFFFFFF", "H h", -1, FALSE, TRUE,
        3 * (DS_HEADER_SIZE + 6), 0, NULL,
      DS_STREAM_WANT_KEYFRAME | DS_STREAM_CACHE_DROPPED},
  {"raw pictures after units are cached again", "H h P3 d4", "FFFF", "P d",
      4, FALSE, TRUE},
  {"a unit of an unknown codec is malformed", "H x h", "FMF", "H h", -1,
      FALSE, TRUE},
  {"a unit over the picture bound is refused and the reference lost",
        "H H@64x64 h", "FRS", "", -1, FALSE, FALSE, 0, 1024, NULL,
      DS_STREAM_REFERENCE_LOST},
  {"a source follows the size of its units", "H h h@8x8", "FFS", "", -1,
      TRUE, FALSE, 0, 0, NULL, DS_STREAM_WANT_KEYFRAME, TRUE, TRUE},
  /* End */
  {"End forgets the ended stream, and is kept while it is over",
      "S{\"a\":1} P1 E", "FFF", "E", -1},
  {"a new stream after End starts empty", "S{\"a\":1} E D{\"b\":2}",
      "FFF", "S{\"b\":2}", -1},
  {"a frame after End clears it", "E S{\"a\":1}", "FF", "S{\"a\":1}", -1},
  /* not for receivers */
  {"Ping is skipped", "X", "S", "", -1},
  /* a source's own state (dsrelaysink) */
  {"a source's own diffs are its whole state", "D{\"a\":1} D{\"b\":2}",
        "FF", "S{\"a\":1,\"b\":2}", -1, FALSE, FALSE, 0, 0, NULL, 0,
      TRUE},
  {"a Keyframe frame keeps a source's state whole", "D{\"a\":1} F "
        "D{\"b\":2}", "FFF", "S{\"b\":2}", -1, FALSE, FALSE, 0, 0, NULL, 0,
      TRUE},
  {"without a picture cache only the size is followed", "P1 d2 d3@8x8",
        "FFS", "", -1, TRUE, FALSE, 0, 0, NULL, DS_STREAM_WANT_KEYFRAME, TRUE,
      TRUE},
};

static void
check_state_row (const StateRow * row)
{
  gchar **tokens = tokens_split (row->frames);
  DsStreamSettings limits;
  DsStreamState *state;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  gchar **select = row->select ? g_strsplit (row->select, ",", -1) : NULL;
  GString *got = g_string_new (NULL);
  guint i, events, all_events = 0;
  gboolean has_reference = FALSE;
  Source s;

  source_init (&s, 0, 0);
  ds_stream_settings_init (&limits);
  if (row->max_cache_bytes)
    limits.max_cache_bytes = row->max_cache_bytes;
  if (row->max_picture_pixels)
    limits.max_picture_pixels = row->max_picture_pixels;
  limits.origin = row->origin;
  limits.cache_pictures = !row->no_picture_cache;
  state = ds_stream_state_new (&limits);

  for (i = 0; tokens[i]; i++) {
    DsHeader h;
    GBytes *frame = token_frame (&s, tokens[i], &h);
    GError *error = NULL;
    DsStreamVerdict v = ds_stream_state_push (state, frame, &h, &events,
        &error);
    static const gchar letters[] = "FSRM";

    fail_unless (row->verdicts[i] != '\0', "row '%s': more frames than "
        "verdicts", row->name);
    fail_unless (letters[v] == row->verdicts[i], "row '%s' frame %u (%s): "
        "verdict %c, expected %c (%s)", row->name, i, tokens[i], letters[v],
        row->verdicts[i], error ? error->message : "no error");
    /* refused and malformed frames say why */
    fail_unless ((v == DS_STREAM_REFUSED || v == DS_STREAM_MALFORMED) ==
        (error != NULL && v != DS_STREAM_SKIP) || v == DS_STREAM_SKIP,
        "row '%s' frame %u", row->name, i);
    g_clear_error (&error);
    all_events |= events;
    g_bytes_unref (frame);
  }
  assert_row_int (strlen (row->verdicts), i, "row '%s'", row->name);

  events = ds_stream_state_catchup (state, (const gchar * const *) select,
      out, &has_reference);
  for (i = 0; i < out->len; i++)
    describe (got, g_ptr_array_index (out, i), FALSE, FALSE);
  fail_unless (strcmp (got->str, row->catchup) == 0,
      "row '%s': catch-up '%s', expected '%s'", row->name, got->str,
      row->catchup);
  assert_row_int (decode_pictures (out, s.w, s.h),
      row->picture, "row '%s': the picture", row->name);
  assert_row_int (!!(events & DS_STREAM_WANT_KEYFRAME),
      row->want_keyframe, "row '%s': catch-up asks for a keyframe", row->name);
  assert_row_int (has_reference, row->has_reference,
      "row '%s': has_reference", row->name);
  fail_unless ((all_events & row->events) == row->events,
      "row '%s': events 0x%x, expected 0x%x among them", row->name,
      all_events, row->events);
  fail_unless (ds_stream_state_get_cache_bytes (state) <=
      limits.max_cache_bytes, "row '%s': cache over its bound", row->name);
  assert_row_int (ds_stream_state_is_empty (state),
      row->catchup[0] == '\0', "row '%s': is_empty", row->name);

  ds_stream_state_free (state);
  g_ptr_array_unref (out);
  g_string_free (got, TRUE);
  g_strfreev (select);
  g_strfreev (tokens);
}

GST_START_TEST (test_state_table)
{
  guint r;

  for (r = 0; r < G_N_ELEMENTS (state_rows); r++) {
    GST_INFO ("row '%s'", state_rows[r].name);
    check_state_row (&state_rows[r]);
  }
}

GST_END_TEST;

/* The catch-up signal frame is serialised once per change */
GST_START_TEST (test_state_signal_catchup_cached)
{
  DsStreamState *state = ds_stream_state_new (NULL);
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  GPtrArray *b = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  Source s;
  DsHeader h;
  GBytes *frame;

  source_init (&s, 0, 0);
  frame = token_frame (&s, "S{\"a\":1}", &h);
  fail_unless_equals_int (ds_stream_state_push (state, frame, &h, NULL, NULL),
      DS_STREAM_FORWARD);
  g_bytes_unref (frame);
  ds_stream_state_catchup (state, NULL, a, NULL);
  ds_stream_state_catchup (state, NULL, b, NULL);
  fail_unless_equals_int (a->len, 1);
  fail_unless (g_ptr_array_index (a, 0) == g_ptr_array_index (b, 0));

  /* a change makes a new one */
  frame = token_frame (&s, "D{\"a\":2}", &h);
  ds_stream_state_push (state, frame, &h, NULL, NULL);
  g_bytes_unref (frame);
  g_ptr_array_set_size (b, 0);
  ds_stream_state_catchup (state, NULL, b, NULL);
  fail_unless (g_ptr_array_index (a, 0) != g_ptr_array_index (b, 0));

  g_ptr_array_unref (a);
  g_ptr_array_unref (b);
  ds_stream_state_free (state);
}

GST_END_TEST;

/* DsFrameQueue: frames pushed under limits, what comes out */

typedef struct
{
  const gchar *name;
  gsize max_bytes;
  guint max_frames;
  const gchar *frames;
  /* what pops out, '!' before a discont frame, with #seq */
  const gchar *out;
  guint events;                 /* OR-ed over the pushes */
  gboolean needs_keyframe;      /* after the pushes */
} QueueRow;

/* room for n raw pictures, bookkeeping included */
#define F(n) ((n) * (DEFAULT_W * DEFAULT_H * 4 + DS_HEADER_SIZE + \
        DS_FRAME_QUEUE_FRAME_OVERHEAD))

static const QueueRow queue_rows[] = {
  {"within the limits nothing is dropped", 0, 0, "P1 d2 A8 S{\"a\":1}",
      "P#0 d#1 A#0 S{\"a\":1}#0"},
  {"deltas and audio go first", F (2), 0, "P1 A512 d2 A512 P3",
      "P#0 !P#2", DS_FRAME_QUEUE_DROPPED | DS_FRAME_QUEUE_WANT_KEYFRAME},
  {"signals are merged, never lost", 0, 2,
        "S{\"a\":1} D{\"b\":2} D{\"a\":3}",
      "S{\"a\":3,\"b\":2}#2", DS_FRAME_QUEUE_MERGED},
  {"signals merge before a picture goes", 200, 0,
        "S{\"a\":1} D{\"b\":2} P1 D{\"a\":3}",
        "S{\"a\":3,\"b\":2}#2",
      DS_FRAME_QUEUE_MERGED | DS_FRAME_QUEUE_DROPPED |
        DS_FRAME_QUEUE_WANT_KEYFRAME, TRUE},
  {"no merge across a Keyframe frame, which reset what came before", 0, 3,
        "S{\"a\":1} F D{\"c\":3} D{\"d\":4}",
      "S{\"a\":1}#0 F#0 D{\"c\":3,\"d\":4}#2", DS_FRAME_QUEUE_MERGED},
  {"diffs alone merge into a diff", 0, 2,
        "D{\"a\":1} D{\"b\":2} D{\"c\":3}",
      "D{\"a\":1,\"b\":2,\"c\":3}#2", DS_FRAME_QUEUE_MERGED},
  {"merged diffs keep versions", 0, 2,
        "D{\"a\":1,\"_v\":{\"a\":3}} D{\"a\":2,\"_v\":{\"a\":2}} " "D{\"b\":1}",
      "D{\"a\":1,\"b\":1,\"_v\":{\"a\":3}}#2", DS_FRAME_QUEUE_MERGED},
  {"a keyframe precedes any delta after a drop", 0, 3,
      "P1 d2 d3 K4 d5", "P#0 !K#3 d#4", DS_FRAME_QUEUE_DROPPED},
  {"noisy deltas over the bytes limit", F (2), 0,
        "P100 d101 d102 d103", "P#0",
      DS_FRAME_QUEUE_DROPPED | DS_FRAME_QUEUE_WANT_KEYFRAME, TRUE},
  {"a delta after a dropped one goes too; a keyframe ends the wait",
        F (1) + 300, 0, "P1 d2 P3 d4 d5 K6 d7", "!K#5 d#6",
      DS_FRAME_QUEUE_DROPPED | DS_FRAME_QUEUE_WANT_KEYFRAME},
  {"still waiting for a keyframe", F (1), 0, "P1 P2 d3",
      "!P#1", DS_FRAME_QUEUE_DROPPED | DS_FRAME_QUEUE_WANT_KEYFRAME, TRUE},
  {"control and signals survive", 64, 0, "S{\"a\":1} P1 E",
        "S{\"a\":1}#0 E",
      DS_FRAME_QUEUE_DROPPED | DS_FRAME_QUEUE_WANT_KEYFRAME, TRUE},
  {"frame limit", 0, 3, "A4 A4 A4 A4 S{\"a\":1}",
      "!A#2 A#3 S{\"a\":1}#0", DS_FRAME_QUEUE_DROPPED},
  {"the discont mark waits for the next frame of its stream", 0, 2,
      "A4 A4 S{} A4", "S{}#0 !A#2", DS_FRAME_QUEUE_DROPPED},
};

static void
check_queue_row (const QueueRow * row)
{
  gchar **tokens = tokens_split (row->frames);
  DsFrameQueue *queue = ds_frame_queue_new (row->max_bytes, row->max_frames);
  GString *got = g_string_new (NULL);
  DsQueuedFrame *f;
  guint i, events = 0;
  gsize bytes = 0;
  Source s;

  source_init (&s, 0, 0);
  for (i = 0; tokens[i]; i++) {
    DsHeader h;
    GBytes *frame = token_frame (&s, tokens[i], &h);

    events |= ds_frame_queue_push (queue, frame, &h, i);
    g_bytes_unref (frame);
    if (row->max_frames)
      fail_unless (ds_frame_queue_get_length (queue) <= row->max_frames);
  }
  assert_row_int (ds_frame_queue_needs_keyframe (queue),
      row->needs_keyframe, "row '%s': needs_keyframe", row->name);
  while ((f = ds_frame_queue_pop (queue)) != NULL) {
    describe (got, f->frame, f->discont, f->header.type != DS_FRAME_END);
    bytes += g_bytes_get_size (f->frame);
    ds_queued_frame_free (f);
  }
  fail_unless (strcmp (got->str, row->out) == 0,
      "row '%s': out '%s', expected '%s'", row->name, got->str, row->out);
  fail_unless (events == row->events, "row '%s': events 0x%x, expected 0x%x",
      row->name, events, row->events);
  fail_unless_equals_int (ds_frame_queue_get_bytes (queue), 0);

  ds_frame_queue_free (queue);
  g_string_free (got, TRUE);
  g_strfreev (tokens);
}

GST_START_TEST (test_queue_table)
{
  guint r;

  for (r = 0; r < G_N_ELEMENTS (queue_rows); r++) {
    GST_INFO ("row '%s'", queue_rows[r].name);
    check_queue_row (&queue_rows[r]);
  }
}

GST_END_TEST;

/* Pinned frames (a catch-up) are never dropped and not counted in the
 * limits: live frames are bounded on their own */
GST_START_TEST (test_queue_pinned)
{
  DsFrameQueue *queue = ds_frame_queue_new (F (1), 0);
  DsQueuedFrame *f;
  Source s;
  DsHeader h;
  GBytes *frame;
  guint events, i;
  const gchar *const pinned[] = { "P1", "d2", "d3", NULL };
  const guint8 expect[] = { DS_FRAME_PIXELS, DS_FRAME_DELTA_PIXELS,
    DS_FRAME_DELTA_PIXELS, DS_FRAME_AUDIO_PCM
  };

  source_init (&s, 0, 0);
  for (i = 0; pinned[i]; i++) {
    frame = token_frame (&s, pinned[i], &h);
    fail_unless_equals_int (ds_frame_queue_push_pinned (queue, frame, &h, 0),
        0);
    g_bytes_unref (frame);
  }
  /* over the bound with the pinned frames, not counting them */
  frame = token_frame (&s, "d4", &h);
  fail_unless_equals_int (ds_frame_queue_push (queue, frame, &h, 0), 0);
  g_bytes_unref (frame);
  fail_unless_equals_int (ds_frame_queue_get_length (queue), 4);
  /* live frames over the bound: the live delta goes, never a pinned one */
  frame = token_frame (&s, "A512", &h);
  events = ds_frame_queue_push (queue, frame, &h, 0);
  g_bytes_unref (frame);
  fail_unless (events & DS_FRAME_QUEUE_DROPPED);
  fail_unless_equals_int (ds_frame_queue_get_length (queue), 4);

  for (i = 0; i < G_N_ELEMENTS (expect); i++) {
    f = ds_frame_queue_pop (queue);
    fail_unless_equals_int (f->header.type, expect[i]);
    ds_queued_frame_free (f);
  }
  fail_unless_equals_int (ds_frame_queue_get_bytes (queue), 0);
  ds_frame_queue_free (queue);
}

GST_END_TEST;

/* The direct path: a frame passes only when nothing is queued and no
 * keyframe is awaited (or it is one) */
GST_START_TEST (test_queue_pass)
{
  DsFrameQueue *queue = ds_frame_queue_new (0, 0);
  Source s;
  DsHeader h;
  GBytes *frame;
  DsQueuedFrame *f;

  source_init (&s, 0, 0);
  frame = token_frame (&s, "d1", &h);
  fail_unless (ds_frame_queue_pass (queue, &h));
  /* queued: what follows waits its turn */
  ds_frame_queue_push (queue, frame, &h, 0);
  g_bytes_unref (frame);
  frame = token_frame (&s, "S{}", &h);
  fail_if (ds_frame_queue_pass (queue, &h));
  g_bytes_unref (frame);
  f = ds_frame_queue_pop (queue);
  ds_queued_frame_free (f);

  /* waiting for a keyframe: deltas do not pass, a keyframe does */
  fail_unless_equals_int (ds_frame_queue_lose_reference (queue),
      DS_FRAME_QUEUE_WANT_KEYFRAME);
  frame = token_frame (&s, "d2", &h);
  fail_if (ds_frame_queue_pass (queue, &h));
  g_bytes_unref (frame);
  frame = token_frame (&s, "A4", &h);
  fail_unless (ds_frame_queue_pass (queue, &h));
  g_bytes_unref (frame);
  frame = token_frame (&s, "K3", &h);
  fail_unless (ds_frame_queue_pass (queue, &h));
  g_bytes_unref (frame);
  fail_if (ds_frame_queue_needs_keyframe (queue));
  frame = token_frame (&s, "d4", &h);
  fail_unless (ds_frame_queue_pass (queue, &h));
  g_bytes_unref (frame);

  /* after a new connection, the next frame is pushed to be marked */
  ds_frame_queue_mark_discont (queue);
  frame = token_frame (&s, "d5", &h);
  fail_if (ds_frame_queue_pass (queue, &h));
  ds_frame_queue_push (queue, frame, &h, 0);
  g_bytes_unref (frame);
  f = ds_frame_queue_pop (queue);
  fail_unless (f->discont);
  ds_queued_frame_free (f);
  ds_frame_queue_free (queue);
}

GST_END_TEST;

/* Each drop is O(1): a queue at its bound of ~70,000 small opaque frames
 * (nothing expendable, signal frames merged) takes 300,000 more in about
 * a second; with a walk of the queue per push (the first version) it took
 * about 10^10 steps, minutes */
GST_START_TEST (test_queue_many_small)
{
  DsFrameQueue *queue = ds_frame_queue_new (16 * 1024 * 1024, 0);
  guint8 payload[48] = { 0, };
  DsHeader h = { 0, };
  GBytes *frame;
  guint i;

  /* 16 MiB hold about 65000 such frames (with their bookkeeping): the
   * rest is dropped, each drop O(1) (a drop that walked the queue would
   * take minutes here) */
  h.type = DS_FRAME_NEURAL_FRAME;
  for (i = 0; i < 120000; i++) {
    h.seq = i;
    frame = ds_frame_pack (&h, payload, sizeof (payload));
    ds_frame_queue_push (queue, frame, &h, 0);
    g_bytes_unref (frame);
    if (i % 1000 == 0) {
      DsHeader sh = { 0, };
      gchar json[32];

      sh.type = DS_FRAME_SIGNAL_DIFF;
      sh.seq = i / 1000;
      g_snprintf (json, sizeof (json), "{\"n\":%u}", i);
      frame = ds_frame_pack (&sh, json, strlen (json));
      ds_frame_queue_push (queue, frame, &sh, 0);
      g_bytes_unref (frame);
    }
  }
  fail_unless (ds_frame_queue_get_dropped (queue) > 50000);
  fail_unless (ds_frame_queue_get_length (queue) < 16 * 1024 * 1024 /
      DS_FRAME_QUEUE_FRAME_OVERHEAD);
  ds_frame_queue_free (queue);
}

GST_END_TEST;

/* A source's queue merges into a SignalSync of its whole state */
GST_START_TEST (test_queue_whole_signals)
{
  DsFrameQueue *queue = ds_frame_queue_new (0, 1);
  DsSignalState *whole = ds_signal_state_new ();
  const gchar *const diffs[] = { "D{\"a\":1}", "D{\"b\":2}", NULL };
  GString *got = g_string_new (NULL);
  DsQueuedFrame *f;
  Source s;
  DsHeader h;
  GBytes *frame;
  guint i;

  source_init (&s, 0, 0);
  ds_frame_queue_set_whole_signals (queue, whole);
  fail_unless (ds_signal_state_apply (whole, TRUE, "{\"z\":0}", 7, NULL));
  for (i = 0; diffs[i]; i++) {
    const guint8 *d;

    frame = token_frame (&s, diffs[i], &h);
    d = g_bytes_get_data (frame, NULL);
    fail_unless (ds_signal_state_apply (whole, FALSE,
            (const gchar *) d + DS_HEADER_SIZE, h.payload_len, NULL));
    ds_frame_queue_push (queue, frame, &h, 0);
    g_bytes_unref (frame);
  }
  f = ds_frame_queue_pop (queue);
  describe (got, f->frame, FALSE, TRUE);
  fail_unless_equals_string (got->str, "S{\"z\":0,\"a\":1,\"b\":2}#1");
  ds_queued_frame_free (f);
  g_string_free (got, TRUE);
  ds_frame_queue_free (queue);
  ds_signal_state_free (whole);
}

GST_END_TEST;

/* A loss outside the queue (a reconnection) */
GST_START_TEST (test_queue_lose_reference)
{
  DsFrameQueue *queue = ds_frame_queue_new (0, 0);
  Source s;
  DsHeader h;
  GBytes *frame;
  const gchar *const seq[] = { "d1", "S{\"a\":1}", "d2", NULL };
  guint i;
  DsQueuedFrame *f;

  source_init (&s, 0, 0);
  for (i = 0; seq[i]; i++) {
    frame = token_frame (&s, seq[i], &h);
    ds_frame_queue_push (queue, frame, &h, 0);
    g_bytes_unref (frame);
  }
  fail_unless_equals_int (ds_frame_queue_lose_reference (queue),
      DS_FRAME_QUEUE_WANT_KEYFRAME);
  fail_unless (ds_frame_queue_needs_keyframe (queue));
  f = ds_frame_queue_pop (queue);
  fail_unless_equals_int (f->header.type, DS_FRAME_SIGNAL_SYNC);
  ds_queued_frame_free (f);
  fail_unless (ds_frame_queue_pop (queue) == NULL);

  /* with a keyframe queued, nothing is asked */
  frame = token_frame (&s, "K3", &h);
  ds_frame_queue_push (queue, frame, &h, 0);
  g_bytes_unref (frame);
  frame = token_frame (&s, "d4", &h);
  ds_frame_queue_push (queue, frame, &h, 0);
  g_bytes_unref (frame);
  fail_unless_equals_int (ds_frame_queue_lose_reference (queue), 0);
  fail_unless_equals_int (ds_frame_queue_get_length (queue), 2);

  ds_frame_queue_drop_signals (queue);
  fail_unless_equals_int (ds_frame_queue_get_length (queue), 2);
  ds_frame_queue_free (queue);

  /* the owner's whole state replaces the queued signal frames up to a
   * queued Keyframe frame; those after it rebuild the state it resets */
  queue = ds_frame_queue_new (0, 0);
  for (i = 0; i < 4; i++) {
    static const gchar *tokens[] = { "D{\"a\":1}", "S{\"a\":2}", "F",
      "D{\"b\":3}"
    };

    frame = token_frame (&s, tokens[i], &h);
    ds_frame_queue_push (queue, frame, &h, 0);
    g_bytes_unref (frame);
  }
  ds_frame_queue_drop_signals (queue);
  fail_unless_equals_int (ds_frame_queue_get_length (queue), 2);
  f = ds_frame_queue_pop (queue);
  fail_unless_equals_int (f->header.type, DS_FRAME_KEYFRAME);
  ds_queued_frame_free (f);
  f = ds_frame_queue_pop (queue);
  fail_unless_equals_int (f->header.type, DS_FRAME_SIGNAL_DIFF);
  ds_queued_frame_free (f);
  ds_frame_queue_free (queue);
}

GST_END_TEST;

/* Timing starts again at a new connection (restart), not when one seq
 * stream lost frames (discont only) */
GST_START_TEST (test_queue_restart)
{
  DsFrameQueue *queue = ds_frame_queue_new (0, 0);
  Source s;
  DsQueuedFrame *f;
  GBytes *frame;
  DsHeader h;
  guint i;

  source_init (&s, 8, 8);
  ds_frame_queue_mark_discont (queue);
  for (i = 0; i < 3; i++) {
    static const gchar *tokens[] = { "D{\"a\":1}", "A", "A" };

    frame = token_frame (&s, tokens[i], &h);
    ds_frame_queue_push (queue, frame, &h, 0);
    g_bytes_unref (frame);
  }
  /* the first frame after the connection goes: the next one restarts */
  ds_frame_queue_drop_signals (queue);
  f = ds_frame_queue_pop (queue);
  fail_unless (f->restart && f->discont);
  ds_queued_frame_free (f);
  f = ds_frame_queue_pop (queue);
  fail_unless (!f->restart && !f->discont);
  ds_queued_frame_free (f);

  /* audio lost to the bound: discont, no restart */
  ds_frame_queue_set_limits (queue, 1, 0);
  for (i = 0; i < 3; i++) {
    frame = token_frame (&s, "A", &h);
    ds_frame_queue_push (queue, frame, &h, 0);
    g_bytes_unref (frame);
  }
  fail_unless (ds_frame_queue_get_dropped (queue) > 0);
  ds_frame_queue_set_limits (queue, 0, 0);
  frame = token_frame (&s, "A", &h);
  ds_frame_queue_push (queue, frame, &h, 0);
  g_bytes_unref (frame);
  while ((f = ds_frame_queue_pop (queue)) != NULL) {
    if (f->header.seq == s.seq[DS_SEQ_AUDIO] - 1)
      fail_unless (f->discont && !f->restart);
    else
      fail_unless (!f->restart);
    ds_queued_frame_free (f);
  }
  ds_frame_queue_free (queue);
}

GST_END_TEST;

static Suite *
dsstream_suite (void)
{
  Suite *s = suite_create ("dsstream");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_seq_table);
  tcase_add_test (tc, test_state_table);
  tcase_add_test (tc, test_encoded_video_state);
  tcase_add_test (tc, test_encoded_video_state_lose);
  tcase_add_test (tc, test_state_signal_catchup_cached);
  tcase_add_test (tc, test_queue_table);
  tcase_add_test (tc, test_queue_pinned);
  tcase_add_test (tc, test_queue_pass);
  tcase_add_test (tc, test_queue_restart);
  tcase_add_test (tc, test_queue_whole_signals);
  tcase_add_test (tc, test_queue_many_small);
  tcase_add_test (tc, test_queue_lose_reference);
  return s;
}

GST_CHECK_MAIN (dsstream);
