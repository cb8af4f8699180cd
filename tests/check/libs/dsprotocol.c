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
/* Unit tests of the ds-stream protocol library: header, frame validation,
 * input events, timestamps, seq numbers and key codes. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>

#include "dsprotocol.h"
#include "dssignal.h"

GST_START_TEST (test_header_round_trip)
{
  DsHeader in = { 0, }, out = { 0, };
  guint8 bytes[DS_HEADER_SIZE];
  GError *error = NULL;

  in.type = DS_FRAME_PIXELS;
  in.flags = DS_FLAG_KEYFRAME | DS_FLAG_COMPRESSED;
  in.seq = 0xBEEF;
  in.timestamp = 0xDEADBEEF;
  in.width = 1920;
  in.height = 0x1234;
  in.payload_len = 0x01020304;

  ds_header_pack (&in, bytes);
  fail_unless (ds_header_parse (bytes, sizeof (bytes), &out, &error));
  g_assert_no_error (error);

  fail_unless_equals_int (out.type, in.type);
  fail_unless_equals_int (out.flags, in.flags);
  fail_unless_equals_int (out.seq, in.seq);
  fail_unless_equals_uint64 (out.timestamp, in.timestamp);
  fail_unless_equals_int (out.width, in.width);
  fail_unless_equals_int (out.height, in.height);
  fail_unless_equals_uint64 (out.payload_len, in.payload_len);
}

GST_END_TEST;

GST_START_TEST (test_header_byte_order)
{
  /* every multi-byte field little-endian, at its SPEC §2 offset */
  static const guint8 expected[DS_HEADER_SIZE] = {
    0x31, 0x06,                 /* type, flags */
    0x02, 0x01,                 /* seq 0x0102 */
    0x06, 0x05, 0x04, 0x03,     /* timestamp 0x03040506 */
    0x08, 0x07,                 /* width 0x0708 */
    0x0a, 0x09,                 /* height 0x090a */
    0x0e, 0x0d, 0x0c, 0x0b,     /* payload_len 0x0b0c0d0e */
  };
  DsHeader h = { 0, };
  guint8 bytes[DS_HEADER_SIZE];

  h.type = DS_FRAME_SIGNAL_DIFF;
  h.flags = DS_FLAG_KEYFRAME | DS_FLAG_COMPRESSED;
  h.seq = 0x0102;
  h.timestamp = 0x03040506;
  h.width = 0x0708;
  h.height = 0x090a;
  h.payload_len = 0x0b0c0d0e;

  ds_header_pack (&h, bytes);
  fail_unless (memcmp (bytes, expected, DS_HEADER_SIZE) == 0);

  memset (&h, 0, sizeof (h));
  fail_unless (ds_header_parse (expected, sizeof (expected), &h, NULL));
  fail_unless_equals_int (h.seq, 0x0102);
  fail_unless_equals_uint64 (h.timestamp, 0x03040506);
  fail_unless_equals_int (h.width, 0x0708);
  fail_unless_equals_int (h.height, 0x090a);
  fail_unless_equals_uint64 (h.payload_len, 0x0b0c0d0e);
}

GST_END_TEST;

GST_START_TEST (test_frame_pack_parse_message)
{
  static const guint8 payload[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  DsHeader h = { 0, }, out;
  GError *error = NULL;
  GBytes *frame;
  const guint8 *data;
  gsize len;

  h.type = DS_FRAME_PIXELS;
  h.flags = DS_FLAG_KEYFRAME;
  h.width = 2;
  h.height = 1;
  h.payload_len = 12345;        /* ignored: taken from the length */

  frame = ds_frame_pack (&h, payload, sizeof (payload));
  data = g_bytes_get_data (frame, &len);
  fail_unless_equals_int (len, DS_HEADER_SIZE + sizeof (payload));
  fail_unless (memcmp (data + DS_HEADER_SIZE, payload, sizeof (payload)) == 0);

  fail_unless (ds_frame_parse_message (data, len, 0, &out, &error));
  g_assert_no_error (error);
  fail_unless_equals_uint64 (out.payload_len, sizeof (payload));
  fail_unless (ds_frame_validate (&out, data + DS_HEADER_SIZE, &error));
  g_assert_no_error (error);

  /* the limit: equal passes, one less fails */
  fail_unless (ds_frame_parse_message (data, len, sizeof (payload), &out,
          NULL));
  fail_if (ds_frame_parse_message (data, len, sizeof (payload) - 1, &out,
          &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);

  g_bytes_unref (frame);

  /* an empty payload */
  h.type = DS_FRAME_END;
  frame = ds_frame_pack (&h, NULL, 0);
  data = g_bytes_get_data (frame, &len);
  fail_unless_equals_int (len, DS_HEADER_SIZE);
  fail_unless (ds_frame_parse_message (data, len, 0, &out, NULL));
  fail_unless (ds_frame_validate (&out, NULL, NULL));
  g_bytes_unref (frame);
}

GST_END_TEST;

/* A frame described by its header fields and payload length; the payload
 * bytes are zeros unless @payload is given. */
typedef struct
{
  const gchar *name;
  guint8 type;
  guint8 flags;
  guint16 width;
  guint16 height;
  guint32 payload_len;          /* what the header says */
  gint actual_len;              /* payload bytes really present; -1:
                                 * payload_len; SHORT(n): a message of n
                                 * bytes, shorter than a header */
  gsize max_payload;
  const gchar *payload;
  gint error_code;              /* -1: valid */
  gboolean fails_in_parse;      /* fails in ds_frame_parse_message */
  gboolean fails_in_json;       /* fails when the signal JSON is read */
} FrameCase;

#define ERR(e) DS_PROTOCOL_ERROR_##e
#define SHORT(n) (-100 - (n))
/* a signal frame carrying the JSON text @str */
#define SIGNAL(name, type, str, err) \
  {name, type, 0, 0, 0, sizeof (str) - 1, -1, 0, str, err, FALSE, err >= 0}

/* a ReceiverReport input frame carrying the JSON text @str */
#define REPORT(name, str, err) \
  {name, DS_INPUT_RECEIVER_REPORT, DS_FLAG_INPUT, 0, 0, sizeof (str) - 1, -1, \
      0, str, err, FALSE, FALSE}

static const FrameCase frame_cases[] = {
  /* well-formed frames: must pass */
  {"pixels 2x2", DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 2, 2, 16, -1, 0, NULL,
      -1},
  {"pixels 1x1", DS_FRAME_PIXELS, 0, 1, 1, 4, -1, 0, NULL, -1},
  {"compressed pixels", DS_FRAME_COMPRESSED_PIXELS, 0, 0, 0, 8, -1, 0, NULL,
      -1},
  {"delta pixels", DS_FRAME_DELTA_PIXELS, 0, 4, 4, 3, -1, 0, NULL, -1},
  {"motion no moves", DS_FRAME_MOTION_DELTA_PIXELS, 0, 2, 2, 5, -1, 0,
      "\0\0\0\x10\0", -1},
  {"motion one move", DS_FRAME_MOTION_DELTA_PIXELS, 0, 4, 4, 17, -1, 0,
      "\1\0\0\0\0\0\1\0\1\0\3\0\3\0\0\x40\0", -1},
  {"motion two whole-picture moves", DS_FRAME_MOTION_DELTA_PIXELS, 0, 1, 1,
      29, -1, 0, "\2\0" "\0\0\0\0\0\0\0\0\1\0\1\0"
        "\0\0\0\0\0\0\0\0\1\0\1\0" "\0\4\0", -1},
  {"motion compressed: table not read", DS_FRAME_MOTION_DELTA_PIXELS,
      DS_FLAG_COMPRESSED, 4, 4, 2, -1, 0, "\xff\xff", -1},
  /* EncodedVideo: codec, reserved 0, at least one byte of access unit */
  {"encoded h264 keyframe", DS_FRAME_ENCODED_VIDEO, DS_FLAG_KEYFRAME, 64, 48,
      7, -1, 0, "\1\0\0\0\0\1\x65", -1},
  {"encoded h265", DS_FRAME_ENCODED_VIDEO, 0, 64, 48, 3, -1, 0, "\2\0\x26",
      -1},
  {"encoded vp8 one byte", DS_FRAME_ENCODED_VIDEO, 0, 1, 1, 3, -1, 0,
      "\3\0\x01", -1},
  {"encoded vp9", DS_FRAME_ENCODED_VIDEO, DS_FLAG_KEYFRAME, 320, 240, 4, -1, 0,
      "\4\0\x82\x49", -1},
  {"encoded av1", DS_FRAME_ENCODED_VIDEO, DS_FLAG_KEYFRAME, 320, 240, 4, -1, 0,
      "\5\0\x12\0", -1},
  {"encoded codec 0", DS_FRAME_ENCODED_VIDEO, 0, 64, 48, 3, -1, 0,
      "\0\0\1", ERR (BAD_PAYLOAD)},
  {"encoded codec 6", DS_FRAME_ENCODED_VIDEO, 0, 64, 48, 3, -1, 0,
      "\6\0\1", ERR (BAD_PAYLOAD)},
  {"encoded codec 255", DS_FRAME_ENCODED_VIDEO, 0, 64, 48, 3, -1, 0,
      "\xff\0\1", ERR (BAD_PAYLOAD)},
  {"encoded reserved 1", DS_FRAME_ENCODED_VIDEO, 0, 64, 48, 3, -1, 0,
      "\1\1\1", ERR (BAD_PAYLOAD)},
  {"encoded empty unit", DS_FRAME_ENCODED_VIDEO, 0, 64, 48, 2, -1, 0,
      "\1\0", ERR (BAD_PAYLOAD)},
  {"encoded codec only", DS_FRAME_ENCODED_VIDEO, 0, 64, 48, 1, -1, 0,
      "\1", ERR (BAD_PAYLOAD)},
  {"encoded empty", DS_FRAME_ENCODED_VIDEO, DS_FLAG_KEYFRAME, 64, 48, 0, -1,
      0, NULL, ERR (BAD_PAYLOAD)},
  {"encoded no width", DS_FRAME_ENCODED_VIDEO, 0, 0, 48, 3, -1, 0,
      "\1\0\1", ERR (BAD_PAYLOAD)},
  {"encoded no height", DS_FRAME_ENCODED_VIDEO, 0, 64, 0, 3, -1, 0,
      "\1\0\1", ERR (BAD_PAYLOAD)},
  {"encoded compressed", DS_FRAME_ENCODED_VIDEO, DS_FLAG_COMPRESSED, 64, 48,
      3, -1, 0, "\1\0\1", ERR (BAD_PAYLOAD)},
  {"audio pcm stereo", DS_FRAME_AUDIO_PCM, 0, 2, 48000, 64, -1, 0, NULL, -1},
  {"audio pcm empty", DS_FRAME_AUDIO_PCM, 0, 1, 8000, 0, -1, 0, NULL, -1},
  {"audio opus", DS_FRAME_AUDIO_COMPRESSED, 0, 2, 48000, 7, -1, 0, NULL, -1},
  {"haptic", DS_FRAME_HAPTIC, 0, 0, 0, 3, -1, 0, NULL, -1},
  {"signal sync", DS_FRAME_SIGNAL_SYNC, 0, 0, 0, 2, -1, 0, "{}", -1},
  {"signal diff", DS_FRAME_SIGNAL_DIFF, 0, 0, 0, 7, -1, 0, "{\"a\":1}", -1},
  {"neural empty", DS_FRAME_NEURAL_LATENT, 0, 0, 0, 0, -1, 0, NULL, -1},
  {"keyframe empty", DS_FRAME_KEYFRAME, 0, 0, 0, 0, -1, 0, NULL, -1},
  {"end empty", DS_FRAME_END, 0, 0, 0, 0, -1, 0, NULL, -1},
  {"ping", DS_FRAME_PING, 0, 0, 0, 4, -1, 0, NULL, -1},
  {"input pointer", DS_INPUT_POINTER, DS_FLAG_INPUT, 0, 0, 5, -1, 0, NULL,
      -1},
  {"input key", DS_INPUT_KEY_DOWN, DS_FLAG_INPUT, 0, 0, 3, -1, 0, NULL, -1},
  {"input keyframe request", DS_INPUT_KEYFRAME_REQUEST, DS_FLAG_INPUT, 0, 0,
      0, -1, 0, NULL, -1},
  {"input bci any size", DS_INPUT_BCI, DS_FLAG_INPUT, 0, 0, 17, -1, 0, NULL,
      -1},
  REPORT ("input receiver report", "{\"receivers\":2,\"kbps\":{\"min\":1,"
      "\"median\":2,\"max\":3},\"dropped\":4}", -1),
  /* members are the parser's business: any object passes validation */
  REPORT ("input receiver report other object", " \r\n{\"later\":[1]}", -1),
  {"unknown flag bits ignored", DS_FRAME_END, 0xf8, 0, 0, 0, -1, 0, NULL, -1},

  /* malformed: framing */
  {"empty message", DS_FRAME_END, 0, 0, 0, 0, SHORT (0), 0, NULL,
        ERR (TRUNCATED),
      TRUE},
  {"short header 15", DS_FRAME_END, 0, 0, 0, 0, SHORT (15), 0, NULL,
      ERR (TRUNCATED), TRUE},
  {"short header 1", DS_FRAME_END, 0, 0, 0, 0, SHORT (1), 0, NULL,
        ERR (TRUNCATED),
      TRUE},
  {"payload shorter than header says", DS_FRAME_PIXELS, 0, 2, 2, 16, 15, 0,
      NULL, ERR (LENGTH_MISMATCH), TRUE},
  {"payload longer than header says", DS_FRAME_PIXELS, 0, 2, 2, 16, 17, 0,
      NULL, ERR (LENGTH_MISMATCH), TRUE},
  {"huge payload_len", DS_FRAME_NEURAL_FRAME, 0, 0, 0, G_MAXUINT32, 10, 0,
      NULL, ERR (LENGTH_MISMATCH), TRUE},
  {"over the limit", DS_FRAME_NEURAL_FRAME, 0, 0, 0, 1025, -1, 1024, NULL,
      ERR (TOO_LARGE), TRUE},

  /* malformed: pictures */
  {"pixels size mismatch", DS_FRAME_PIXELS, 0, 2, 2, 12, -1, 0, NULL,
      ERR (SIZE_MISMATCH)},
  {"pixels zero width", DS_FRAME_PIXELS, 0, 0, 2, 0, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"pixels zero height", DS_FRAME_PIXELS, 0, 2, 0, 0, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  /* 65535 * 65535 * 4 = 0x3fff80004 needs more than a u32: no payload_len
   * can match. 32768 * 32768 * 4 = 2^32 wraps to 0 in 32-bit arithmetic,
   * which would wrongly accept an empty payload. */
  {"pixels w*h*4 overflow", DS_FRAME_PIXELS, 0, 65535, 65535, 4, -1, 0,
      NULL, ERR (SIZE_MISMATCH)},
  {"pixels 32768x32768 wraps to 0", DS_FRAME_PIXELS, 0, 32768, 32768, 0, -1,
      0, NULL, ERR (SIZE_MISMATCH)},
  {"compressed pixels empty", DS_FRAME_COMPRESSED_PIXELS, 0, 0, 0, 0, -1, 0,
      NULL, ERR (BAD_PAYLOAD)},
  {"delta without size", DS_FRAME_DELTA_PIXELS, 0, 0, 0, 3, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"delta empty", DS_FRAME_DELTA_PIXELS, 0, 4, 4, 0, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},

  /* malformed: audio */
  {"audio misaligned", DS_FRAME_AUDIO_PCM, 0, 2, 48000, 12, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"audio odd bytes", DS_FRAME_AUDIO_PCM, 0, 1, 48000, 5, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"audio zero channels", DS_FRAME_AUDIO_PCM, 0, 0, 48000, 8, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"audio zero rate", DS_FRAME_AUDIO_PCM, 0, 2, 0, 8, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"opus zero channels", DS_FRAME_AUDIO_COMPRESSED, 0, 0, 48000, 8, -1, 0,
      NULL, ERR (BAD_PAYLOAD)},
  {"opus empty", DS_FRAME_AUDIO_COMPRESSED, 0, 2, 48000, 0, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},

  /* malformed: others */
  {"haptic short", DS_FRAME_HAPTIC, 0, 0, 0, 2, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"signal sync empty", DS_FRAME_SIGNAL_SYNC, 0, 0, 0, 0, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"signal diff empty", DS_FRAME_SIGNAL_DIFF, 0, 0, 0, 0, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"subscribe filter empty", DS_FRAME_SUBSCRIBE_FILTER, 0, 0, 0, 0, -1, 0,
      NULL, ERR (BAD_PAYLOAD)},
  {"unknown type 0x00", 0x00, 0, 0, 0, 0, -1, 0, NULL, ERR (UNKNOWN_TYPE)},
  {"unknown type 0x06", 0x06, 0, 0, 0, 4, -1, 0, NULL, ERR (UNKNOWN_TYPE)},

  /* MotionDeltaPixels: u16 count, moves of six u16, then the code */
  {"motion no size", DS_FRAME_MOTION_DELTA_PIXELS, 0, 0, 2, 5, -1, 0,
      "\0\0\0\x10\0", ERR (BAD_PAYLOAD)},
  {"motion keyframe flag", DS_FRAME_MOTION_DELTA_PIXELS, DS_FLAG_KEYFRAME, 2,
      2, 5, -1, 0, "\0\0\0\x10\0", ERR (BAD_PAYLOAD)},
  {"motion keyframe flag compressed", DS_FRAME_MOTION_DELTA_PIXELS,
        DS_FLAG_KEYFRAME | DS_FLAG_COMPRESSED, 2, 2, 5, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"motion empty", DS_FRAME_MOTION_DELTA_PIXELS, 0, 2, 2, 0, -1, 0, NULL,
      ERR (TRUNCATED)},
  {"motion count only", DS_FRAME_MOTION_DELTA_PIXELS, 0, 2, 2, 2, -1, 0,
      "\0\0", ERR (TRUNCATED)},
  {"motion table without code", DS_FRAME_MOTION_DELTA_PIXELS, 0, 4, 4, 14,
      -1, 0, "\1\0\0\0\0\0\1\0\1\0\2\0\2\0", ERR (TRUNCATED)},
  {"motion truncated table", DS_FRAME_MOTION_DELTA_PIXELS, 0, 4, 4, 17, -1,
      0, "\2\0\0\0\0\0\1\0\1\0\2\0\2\0\0\x40\0", ERR (TRUNCATED)},
  {"motion move leaves the picture", DS_FRAME_MOTION_DELTA_PIXELS, 0, 4, 4,
        17, -1, 0, "\1\0\0\0\0\0\1\0\0\0\4\0\1\0\0\x40\0",
      ERR (BAD_PAYLOAD)},
  {"motion source leaves the picture", DS_FRAME_MOTION_DELTA_PIXELS, 0, 4, 4,
        17, -1, 0, "\1\0\0\0\3\0\0\0\0\0\1\0\2\0\0\x40\0",
      ERR (BAD_PAYLOAD)},
  {"motion empty move", DS_FRAME_MOTION_DELTA_PIXELS, 0, 4, 4, 17, -1, 0,
      "\1\0\0\0\0\0\1\0\1\0\0\0\2\0\0\x40\0", ERR (BAD_PAYLOAD)},
  {"motion moves over two pictures", DS_FRAME_MOTION_DELTA_PIXELS, 0, 1, 1,
      41, -1, 0, "\3\0" "\0\0\0\0\0\0\0\0\1\0\1\0"
        "\0\0\0\0\0\0\0\0\1\0\1\0" "\0\0\0\0\0\0\0\0\1\0\1\0"
        "\0\4\0", ERR (BAD_PAYLOAD)},
  {"unknown type 0x90 without input flag", 0x90, 0, 0, 0, 0, -1, 0, NULL,
      ERR (UNKNOWN_TYPE)},

  /* signal JSON: read with dssignal.h after validation */
  SIGNAL ("sync object", DS_FRAME_SIGNAL_SYNC, "{\"a\":[1,null]}", -1),
  SIGNAL ("schema", DS_FRAME_SCHEMA_ANNOUNCE,
      "{\"signals\":[\"count\"],\"mode\":\"signal\"}", -1),
  SIGNAL ("filter", DS_FRAME_SUBSCRIBE_FILTER, "{\"select\":[\"a\"]}", -1),
  SIGNAL ("sync not an object", DS_FRAME_SIGNAL_SYNC, "[1,2]", ERR (BAD_JSON)),
  SIGNAL ("diff a string", DS_FRAME_SIGNAL_DIFF, "\"a\"", ERR (BAD_JSON)),
  SIGNAL ("diff truncated", DS_FRAME_SIGNAL_DIFF, "{\"a\":", ERR (BAD_JSON)),
  SIGNAL ("diff not UTF-8", DS_FRAME_SIGNAL_DIFF, "{\"a\":\"\xff\"}",
      ERR (BAD_JSON)),
  SIGNAL ("diff with a NUL", DS_FRAME_SIGNAL_DIFF, "{}\0{}", ERR (BAD_JSON)),
  SIGNAL ("schema signals not an array", DS_FRAME_SCHEMA_ANNOUNCE,
      "{\"signals\":3}", ERR (BAD_JSON)),
  SIGNAL ("filter select of numbers", DS_FRAME_SUBSCRIBE_FILTER,
      "{\"select\":[1]}", ERR (BAD_JSON)),

  /* malformed: input */
  {"input pointer short", DS_INPUT_POINTER, DS_FLAG_INPUT, 0, 0, 4, -1, 0,
      NULL, ERR (BAD_PAYLOAD)},
  {"input pointer long", DS_INPUT_POINTER_UP, DS_FLAG_INPUT, 0, 0, 6, -1, 0,
      NULL, ERR (BAD_PAYLOAD)},
  {"input key short", DS_INPUT_KEY_UP, DS_FLAG_INPUT, 0, 0, 2, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"input gamepad axis short", DS_INPUT_GAMEPAD_AXIS, DS_FLAG_INPUT, 0, 0, 4,
      -1, 0, NULL, ERR (BAD_PAYLOAD)},
  {"input scroll empty", DS_INPUT_SCROLL, DS_FLAG_INPUT, 0, 0, 0, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  {"input keyframe request with payload", DS_INPUT_KEYFRAME_REQUEST,
      DS_FLAG_INPUT, 0, 0, 1, -1, 0, NULL, ERR (BAD_PAYLOAD)},
  {"input receiver count short", DS_INPUT_RECEIVER_COUNT, DS_FLAG_INPUT, 0,
      0, 3, -1, 0, NULL, ERR (BAD_PAYLOAD)},
  {"input receiver report empty", DS_INPUT_RECEIVER_REPORT, DS_FLAG_INPUT, 0,
      0, 0, -1, 0, NULL, ERR (BAD_PAYLOAD)},
  {"input receiver report over 4 KiB", DS_INPUT_RECEIVER_REPORT,
        DS_FLAG_INPUT, 0, 0, DS_RECEIVER_REPORT_MAX_PAYLOAD + 1, -1, 0, NULL,
      ERR (BAD_PAYLOAD)},
  REPORT ("input receiver report array", "[1]", ERR (BAD_JSON)),
  REPORT ("input receiver report number", "3", ERR (BAD_JSON)),
  REPORT ("input receiver report truncated", "{\"receivers\":", ERR (BAD_JSON)),
  REPORT ("input receiver report comment", "{/**/}", ERR (BAD_JSON)),
  REPORT ("input receiver report not UTF-8", "{\"a\":\"\xff\"}",
      ERR (BAD_JSON)),
  REPORT ("input receiver report NUL", "{}\0", ERR (BAD_JSON)),
  REPORT ("input receiver report too deep", "{\"a\":[[[[1]]]]}",
      ERR (TOO_LARGE)),
  {"input unknown type", 0x05, DS_FLAG_INPUT, 0, 0, 0, -1, 0, NULL,
      ERR (UNKNOWN_TYPE)},
  {"input Pixels code is Pointer", DS_FRAME_PIXELS, DS_FLAG_INPUT, 2, 2, 16,
      -1, 0, NULL, ERR (BAD_PAYLOAD)},
};

/* Reads the JSON of signal frames the way dsdepay and the relay do */
static gboolean
read_signal_json (const DsHeader * h, const guint8 * payload, GError ** error)
{
  const gchar *json = (const gchar *) payload;
  DsSignalState *state;
  gchar **strv;
  gboolean ok;

  switch (h->type) {
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
      state = ds_signal_state_new ();
      ok = ds_signal_state_apply (state, h->type == DS_FRAME_SIGNAL_SYNC,
          json, h->payload_len, error);
      ds_signal_state_free (state);
      return ok;
    case DS_FRAME_SCHEMA_ANNOUNCE:
      strv = ds_schema_parse (json, h->payload_len, error);
      break;
    case DS_FRAME_SUBSCRIBE_FILTER:
      strv = ds_subscribe_filter_parse (json, h->payload_len, error);
      break;
    default:
      return TRUE;
  }

  ok = strv != NULL;
  g_strfreev (strv);
  return ok;
}

GST_START_TEST (test_frame_table)
{
  const FrameCase *c = &frame_cases[__i__];
  DsHeader h = { 0, }, parsed = { 0, };
  GError *error = NULL;
  guint8 *message;
  gsize actual, message_len;
  gboolean ok;

  GST_INFO ("case %d: %s", __i__, c->name);

  h.type = c->type;
  h.flags = c->flags;
  h.seq = 7;
  h.timestamp = 1000;
  h.width = c->width;
  h.height = c->height;
  h.payload_len = c->payload_len;

  if (c->actual_len <= SHORT (0)) {
    actual = 0;
    message_len = -(c->actual_len + 100);
  } else {
    actual = c->actual_len == -1 ? c->payload_len : (guint32) c->actual_len;
    message_len = DS_HEADER_SIZE + actual;
  }

  /* exact-size heap block so that valgrind/ASan see any over-read */
  message = g_malloc0 (MAX (message_len, 1));
  if (message_len >= DS_HEADER_SIZE)
    ds_header_pack (&h, message);
  if (c->payload != NULL)
    memcpy (message + DS_HEADER_SIZE, c->payload, actual);

  ok = ds_frame_parse_message (message, message_len, c->max_payload, &parsed,
      &error);
  if (c->fails_in_parse) {
    fail_if (ok, "%s: parsed", c->name);
    fail_unless (error != NULL);
    fail_unless_equals_int (error->code, c->error_code);
    g_clear_error (&error);
    g_free (message);
    return;
  }
  fail_unless (ok, "%s: %s", c->name, error ? error->message : "");

  ok = ds_frame_validate (&parsed, message + DS_HEADER_SIZE, &error);
  if (ok && parsed.payload_len > 0)
    ok = read_signal_json (&parsed, message + DS_HEADER_SIZE, &error);
  if (c->fails_in_json)
    fail_unless (error != NULL && error->code == DS_PROTOCOL_ERROR_BAD_JSON);
  if (c->error_code < 0) {
    fail_unless (ok, "%s: %s", c->name, error ? error->message : "");
    g_assert_no_error (error);
  } else {
    fail_if (ok, "%s: valid", c->name);
    fail_unless (error != NULL);
    fail_unless (error->domain == DS_PROTOCOL_ERROR);
    fail_unless_equals_int (error->code, c->error_code);
    g_clear_error (&error);
  }

  g_free (message);
}

GST_END_TEST;

static const struct
{
  const gchar *json;
  gboolean ok;
  DsReceiverReport report;
} report_cases[] = {
  {"{\"receivers\":3,\"kbps\":{\"min\":0,\"median\":12,\"max\":900},"
        "\"dropped\":7}", TRUE, {3, 0, 12, 900, 7}},
  /* members in any order, unknown ones ignored, kbps fractions rounded */
  {"{\"dropped\":0,\"x\":{\"y\":1},\"kbps\":{\"max\":2.5,\"min\":0.4,"
        "\"median\":1.5},\"receivers\":1}", TRUE, {1, 0, 2, 3, 0}},
  {"{\"receivers\":4294967295,\"kbps\":{\"min\":4294967295,"
        "\"median\":4294967295,\"max\":4294967295},"
        "\"dropped\":4294967295}", TRUE,
      {G_MAXUINT32, G_MAXUINT32, G_MAXUINT32, G_MAXUINT32, G_MAXUINT32}},
  {"{\"receivers\":4294967296,\"kbps\":{\"min\":0,\"median\":0,"
        "\"max\":0},\"dropped\":0}", FALSE},
  {"{\"receivers\":-1,\"kbps\":{\"min\":0,\"median\":0,\"max\":0},"
        "\"dropped\":0}", FALSE},
  {"{\"receivers\":1.5,\"kbps\":{\"min\":0,\"median\":0,\"max\":0},"
        "\"dropped\":0}", FALSE},
  {"{\"receivers\":1,\"kbps\":{\"min\":0,\"median\":0,\"max\":0},"
        "\"dropped\":\"1\"}", FALSE},
  {"{\"receivers\":1,\"kbps\":{\"min\":0,\"median\":0,\"max\":0}}",
      FALSE},
  {"{\"receivers\":1,\"kbps\":[0,0,0],\"dropped\":0}", FALSE},
  {"{\"receivers\":1,\"kbps\":{\"min\":0,\"max\":0},\"dropped\":0}",
      FALSE},
  {"{\"receivers\":1,\"kbps\":{\"min\":5,\"median\":4,\"max\":9},"
        "\"dropped\":0}", FALSE},
  {"{\"receivers\":1,\"kbps\":{\"min\":1,\"median\":4,\"max\":3},"
        "\"dropped\":0}", FALSE},
  {"{\"receivers\":1,\"kbps\":{\"min\":-0.1,\"median\":0,\"max\":0},"
        "\"dropped\":0}", FALSE},
  {"{\"receivers\":1,\"kbps\":{\"min\":0,\"median\":0,\"max\":1e300},"
        "\"dropped\":0}", FALSE},
  {"{\"receivers\":1,\"kbps\":{\"min\":0,\"median\":0,\"max\":null},"
        "\"dropped\":0}", FALSE},
  {"[]", FALSE},
  {"", FALSE},
  {"{\"receivers\":1,}", FALSE},
};

GST_START_TEST (test_receiver_report_parse)
{
  DsReceiverReport r;
  GError *error = NULL;
  const gchar *json = report_cases[__i__].json;
  gboolean ok;

  memset (&r, 0xaa, sizeof (r));
  ok = ds_receiver_report_parse ((const guint8 *) json, strlen (json), &r,
      &error);
  fail_unless_equals_int (ok, report_cases[__i__].ok);
  if (!ok) {
    fail_unless (error != NULL && error->domain == DS_PROTOCOL_ERROR);
    g_clear_error (&error);
    return;
  }
  g_assert_no_error (error);
  fail_unless (memcmp (&r, &report_cases[__i__].report, sizeof (r)) == 0,
      "%s: %u %u/%u/%u %u", json, r.receivers, r.kbps_min, r.kbps_median,
      r.kbps_max, r.dropped);
}

GST_END_TEST;

/* The builder's frame validates and parses back to the same report; the
 * JSON is SPEC §4's shape */
GST_START_TEST (test_receiver_report_round_trip)
{
  DsReceiverReport in = { 5, 100, 2000, 30000, 12 }, out;
  DsHeader h;
  GBytes *frame;
  const guint8 *data;
  gsize len;
  gchar *json;
  DsInputEvent ev;
  GError *error = NULL;

  json = ds_receiver_report_to_json (&in);
  fail_unless_equals_string (json, "{\"receivers\":5,\"kbps\":{\"min\":100,"
      "\"median\":2000,\"max\":30000},\"dropped\":12}");
  g_free (json);

  frame = ds_receiver_report_to_frame (&in, 9, 1234);
  data = g_bytes_get_data (frame, &len);
  fail_unless (ds_frame_parse_message (data, len, 0, &h, NULL));
  fail_unless_equals_int (h.type, DS_INPUT_RECEIVER_REPORT);
  fail_unless_equals_int (h.flags, DS_FLAG_INPUT);
  fail_unless_equals_int (h.seq, 9);
  fail_unless (ds_header_validate (&h, NULL));
  fail_unless (ds_frame_validate (&h, data + DS_HEADER_SIZE, NULL));
  fail_unless (ds_receiver_report_parse (data + DS_HEADER_SIZE,
          h.payload_len, &out, NULL));
  fail_unless (memcmp (&in, &out, sizeof (in)) == 0);

  /* not a fixed-layout event */
  fail_if (ds_input_event_parse (DS_INPUT_RECEIVER_REPORT,
          data + DS_HEADER_SIZE, h.payload_len, &ev, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* over 4 KiB: refused before any parsing */
  fail_if (ds_receiver_report_parse (data + DS_HEADER_SIZE,
          DS_RECEIVER_REPORT_MAX_PAYLOAD + 1, &out, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_bytes_unref (frame);
}

GST_END_TEST;

GST_START_TEST (test_validate_no_payload_pointer)
{
  DsHeader h = { 0, };
  GError *error = NULL;

  h.type = DS_FRAME_NEURAL_FRAME;
  h.payload_len = 10;
  fail_if (ds_frame_validate (&h, NULL, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED);
  g_clear_error (&error);
}

GST_END_TEST;

GST_START_TEST (test_type_tables)
{
  guint t;
  guint n_frames = 0, n_inputs = 0;

  for (t = 0; t < 256; t++) {
    if (ds_frame_type_is_known (t)) {
      n_frames++;
      fail_if (g_str_equal (ds_frame_type_name (t), "Unknown"));
    } else {
      fail_unless_equals_string (ds_frame_type_name (t), "Unknown");
      fail_unless_equals_int (ds_frame_type_media (t), DS_MEDIA_NONE);
    }
    if (ds_input_type_is_known (t)) {
      n_inputs++;
      fail_if (g_str_equal (ds_input_type_name (t), "Unknown"));
      if (t != DS_INPUT_BCI && t != DS_INPUT_RECEIVER_REPORT)
        fail_unless (ds_input_payload_size (t) >= 0);
    } else {
      fail_unless_equals_int (ds_input_payload_size (t), -1);
    }
  }
  fail_unless_equals_int (n_frames, 19);
  fail_unless_equals_int (n_inputs, 15);
  fail_unless_equals_int (ds_input_payload_size (DS_INPUT_BCI), -1);
  fail_unless_equals_int (ds_input_payload_size (DS_INPUT_RECEIVER_REPORT), -1);
  fail_unless_equals_string (ds_input_type_name (DS_INPUT_RECEIVER_REPORT),
      "ReceiverReport");

  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_PIXELS),
      DS_MEDIA_VIDEO);
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_DELTA_PIXELS),
      DS_MEDIA_VIDEO);
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_MOTION_DELTA_PIXELS),
      DS_MEDIA_VIDEO);
  fail_unless_equals_string (ds_frame_type_name
      (DS_FRAME_MOTION_DELTA_PIXELS), "MotionDeltaPixels");
  /* an access unit is a picture of the picture stream */
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_ENCODED_VIDEO),
      DS_MEDIA_VIDEO);
  fail_unless_equals_string (ds_frame_type_name (DS_FRAME_ENCODED_VIDEO),
      "EncodedVideo");
  for (t = 0; t < 256; t++) {
    fail_unless_equals_int (ds_codec_is_known (t), t >= 1 && t <= 5);
    fail_unless_equals_int (g_str_equal (ds_codec_name (t), "Unknown"),
        !ds_codec_is_known (t));
  }
  fail_unless_equals_string (ds_codec_name (DS_CODEC_AV1), "AV1");
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_COMPRESSED_PIXELS),
      DS_MEDIA_IMAGE);
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_AUDIO_COMPRESSED),
      DS_MEDIA_AUDIO);
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_SIGNAL_DIFF),
      DS_MEDIA_SIGNAL);
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_SCHEMA_ANNOUNCE),
      DS_MEDIA_SIGNAL);
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_HAPTIC),
      DS_MEDIA_OPAQUE);
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_NEURAL_LATENT),
      DS_MEDIA_OPAQUE);
  fail_unless_equals_int (ds_frame_type_media (DS_FRAME_KEYFRAME),
      DS_MEDIA_NONE);
  fail_unless_equals_string (ds_frame_type_name (DS_FRAME_SIGNAL_SYNC),
      "SignalSync");
  fail_unless_equals_string (ds_input_type_name (DS_INPUT_POINTER_DOWN),
      "PointerDown");
}

GST_END_TEST;

/* Input events: one of each type, with the bytes SPEC §4 gives */
typedef struct
{
  DsInputEvent event;
  guint8 bytes[DS_INPUT_MAX_PAYLOAD];
  gsize len;
} InputCase;

static InputCase input_cases[] = {
  {{.type = DS_INPUT_POINTER,.pointer = {0x0102, 0x0304, DS_BUTTON_LEFT}},
      {0x02, 0x01, 0x04, 0x03, 0x01}, 5},
  {{.type = DS_INPUT_POINTER_DOWN,.pointer = {65535, 0, DS_BUTTON_RIGHT}},
      {0xff, 0xff, 0x00, 0x00, 0x02}, 5},
  {{.type = DS_INPUT_POINTER_UP,.pointer = {10, 20, 0}},
      {10, 0, 20, 0, 0}, 5},
  {{.type = DS_INPUT_KEY_DOWN,.key = {65, DS_MOD_SHIFT | DS_MOD_META}},
      {65, 0, 0x09}, 3},
  {{.type = DS_INPUT_KEY_UP,.key = {0x1234, 0}}, {0x34, 0x12, 0}, 3},
  {{.type = DS_INPUT_TOUCH,.touch = {3, 0x0102, 0x0304}},
      {3, 0x02, 0x01, 0x04, 0x03}, 5},
  /* 1.0f is 0x3f800000, -0.5f is 0xbf000000 */
  {{.type = DS_INPUT_GAMEPAD_AXIS,.gamepad_axis = {2, 1.0f}},
      {2, 0x00, 0x00, 0x80, 0x3f}, 5},
  {{.type = DS_INPUT_GAMEPAD_AXIS,.gamepad_axis = {0, -0.5f}},
      {0, 0x00, 0x00, 0x00, 0xbf}, 5},
  {{.type = DS_INPUT_GAMEPAD_BUTTON,.gamepad_button = {7, 1}}, {7, 1}, 2},
  {{.type = DS_INPUT_MIDI,.midi = {0x90, 60, 127}}, {0x90, 60, 127}, 3},
  {{.type = DS_INPUT_SCROLL,.scroll = {-1, 300}},
      {0xff, 0xff, 0x2c, 0x01}, 4},
  {{.type = DS_INPUT_SCROLL,.scroll = {G_MININT16, G_MAXINT16}},
      {0x00, 0x80, 0xff, 0x7f}, 4},
  {{.type = DS_INPUT_RESIZE,.resize = {1920, 1080}},
      {0x80, 0x07, 0x38, 0x04}, 4},
  {{.type = DS_INPUT_KEYFRAME_REQUEST}, {0}, 0},
  {{.type = DS_INPUT_RECEIVER_COUNT,.receiver_count = {0x01020304}},
      {0x04, 0x03, 0x02, 0x01}, 4},
};

static void
assert_input_equal (const DsInputEvent * a, const DsInputEvent * b)
{
  fail_unless_equals_int (a->type, b->type);
  switch (a->type) {
    case DS_INPUT_POINTER:
    case DS_INPUT_POINTER_DOWN:
    case DS_INPUT_POINTER_UP:
      fail_unless_equals_int (a->pointer.x, b->pointer.x);
      fail_unless_equals_int (a->pointer.y, b->pointer.y);
      fail_unless_equals_int (a->pointer.buttons, b->pointer.buttons);
      break;
    case DS_INPUT_KEY_DOWN:
    case DS_INPUT_KEY_UP:
      fail_unless_equals_int (a->key.keycode, b->key.keycode);
      fail_unless_equals_int (a->key.modifiers, b->key.modifiers);
      break;
    case DS_INPUT_TOUCH:
      fail_unless_equals_int (a->touch.id, b->touch.id);
      fail_unless_equals_int (a->touch.x, b->touch.x);
      fail_unless_equals_int (a->touch.y, b->touch.y);
      break;
    case DS_INPUT_GAMEPAD_AXIS:
      fail_unless_equals_int (a->gamepad_axis.axis, b->gamepad_axis.axis);
      fail_unless_equals_float (a->gamepad_axis.value, b->gamepad_axis.value);
      break;
    case DS_INPUT_GAMEPAD_BUTTON:
      fail_unless_equals_int (a->gamepad_button.button,
          b->gamepad_button.button);
      fail_unless_equals_int (a->gamepad_button.pressed,
          b->gamepad_button.pressed);
      break;
    case DS_INPUT_MIDI:
      fail_unless_equals_int (a->midi.status, b->midi.status);
      fail_unless_equals_int (a->midi.data1, b->midi.data1);
      fail_unless_equals_int (a->midi.data2, b->midi.data2);
      break;
    case DS_INPUT_SCROLL:
      fail_unless_equals_int (a->scroll.dx, b->scroll.dx);
      fail_unless_equals_int (a->scroll.dy, b->scroll.dy);
      break;
    case DS_INPUT_RESIZE:
      fail_unless_equals_int (a->resize.width, b->resize.width);
      fail_unless_equals_int (a->resize.height, b->resize.height);
      break;
    case DS_INPUT_RECEIVER_COUNT:
      fail_unless_equals_uint64 (a->receiver_count.count,
          b->receiver_count.count);
      break;
    default:
      break;
  }
}

GST_START_TEST (test_input_round_trip)
{
  const InputCase *c = &input_cases[__i__];
  guint8 out[DS_INPUT_MAX_PAYLOAD];
  DsInputEvent parsed;
  GError *error = NULL;
  DsHeader h;
  GBytes *frame;
  const guint8 *data;
  gsize len, n;
  guint8 *exact;

  memset (out, 0xaa, sizeof (out));
  n = ds_input_event_pack (&c->event, out);
  fail_unless_equals_int (n, c->len);
  fail_unless_equals_int (n, ds_input_payload_size (c->event.type));
  fail_unless (memcmp (out, c->bytes, n) == 0, "%s: bytes differ",
      ds_input_type_name (c->event.type));

  /* parse from an exact-size copy so an over-read is caught by valgrind */
  exact = g_memdup2 (c->bytes, MAX (n, 1));
  fail_unless (ds_input_event_parse (c->event.type, exact, n, &parsed, &error));
  g_assert_no_error (error);
  assert_input_equal (&c->event, &parsed);

  /* trailing bytes are ignored */
  fail_unless (ds_input_event_parse (c->event.type, out, sizeof (out),
          &parsed, NULL));
  assert_input_equal (&c->event, &parsed);

  /* one byte short fails */
  if (n > 0) {
    fail_if (ds_input_event_parse (c->event.type, exact, n - 1, &parsed,
            &error));
    g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED);
    g_clear_error (&error);
  }
  g_free (exact);

  /* a complete frame */
  frame = ds_input_event_to_frame (&c->event, 65535, 0xfffffffe);
  data = g_bytes_get_data (frame, &len);
  fail_unless (ds_frame_parse_message (data, len, 0, &h, &error));
  g_assert_no_error (error);
  fail_unless_equals_int (h.type, c->event.type);
  fail_unless_equals_int (h.flags, DS_FLAG_INPUT);
  fail_unless_equals_int (h.seq, 65535);
  fail_unless_equals_uint64 (h.timestamp, 0xfffffffe);
  fail_unless_equals_int (h.width, 0);
  fail_unless_equals_int (h.height, 0);
  fail_unless (ds_frame_validate (&h, data + DS_HEADER_SIZE, &error));
  g_assert_no_error (error);
  fail_unless (ds_input_event_parse (h.type, data + DS_HEADER_SIZE,
          h.payload_len, &parsed, NULL));
  assert_input_equal (&c->event, &parsed);
  g_bytes_unref (frame);
}

GST_END_TEST;

GST_START_TEST (test_input_parse_errors)
{
  static const guint8 bytes[8] = { 0, };
  DsInputEvent ev;
  GError *error = NULL;

  fail_if (ds_input_event_parse (0x05, bytes, sizeof (bytes), &ev, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_UNKNOWN_TYPE);
  g_clear_error (&error);

  fail_if (ds_input_event_parse (DS_INPUT_BCI, bytes, sizeof (bytes), &ev,
          &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  fail_if (ds_input_event_parse (DS_INPUT_MIDI, NULL, 0, &ev, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED);
  g_clear_error (&error);

  fail_unless (ds_input_event_parse (DS_INPUT_KEYFRAME_REQUEST, NULL, 0, &ev,
          &error));
  g_assert_no_error (error);
  fail_unless_equals_int (ev.type, DS_INPUT_KEYFRAME_REQUEST);
}

GST_END_TEST;

/* A GamepadAxis value from a peer is a number in -1..1: NaN, the
 * infinities and values out of range are refused by ds_frame_validate()
 * (the relay drops the frame) and by ds_input_event_parse() (dsrelaysink
 * drops it) */
GST_START_TEST (test_input_gamepad_axis_value)
{
  static const struct
  {
    guint32 bits;
    gboolean valid;
  } cases[] = {
    {0x00000000, TRUE},         /* 0 */
    {0x80000000, TRUE},         /* -0 */
    {0x3f800000, TRUE},         /* 1 */
    {0xbf800000, TRUE},         /* -1 */
    {0xbf000000, TRUE},         /* -0.5 */
    {0x3f800001, FALSE},        /* just over 1 */
    {0x40000000, FALSE},        /* 2 */
    {0xc2c80000, FALSE},        /* -100 */
    {0x7fc00000, FALSE},        /* NaN */
    {0xffc00001, FALSE},        /* a negative NaN with a payload */
    {0x7f800000, FALSE},        /* +inf */
    {0xff800000, FALSE},        /* -inf */
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    guint8 frame[DS_HEADER_SIZE + 5];
    DsHeader h = { 0, };
    DsInputEvent ev;
    GError *error = NULL;

    h.type = DS_INPUT_GAMEPAD_AXIS;
    h.flags = DS_FLAG_INPUT;
    h.payload_len = 5;
    ds_header_pack (&h, frame);
    frame[DS_HEADER_SIZE] = 3;
    /* byte by byte: frame + 17 is not aligned for GST_WRITE_UINT32_LE's
     * 32-bit store (UBSan) */
    frame[DS_HEADER_SIZE + 1] = cases[i].bits & 0xff;
    frame[DS_HEADER_SIZE + 2] = (cases[i].bits >> 8) & 0xff;
    frame[DS_HEADER_SIZE + 3] = (cases[i].bits >> 16) & 0xff;
    frame[DS_HEADER_SIZE + 4] = cases[i].bits >> 24;

    fail_unless_equals_int (ds_frame_validate (&h, frame + DS_HEADER_SIZE,
            &error), cases[i].valid);
    if (!cases[i].valid)
      g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD);
    g_clear_error (&error);

    fail_unless_equals_int (ds_input_event_parse (h.type,
            frame + DS_HEADER_SIZE, 5, &ev, &error), cases[i].valid);
    if (cases[i].valid) {
      fail_unless_equals_int (ev.gamepad_axis.axis, 3);
    } else {
      g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD);
      g_clear_error (&error);
    }
  }
}

GST_END_TEST;

typedef struct
{
  guint32 ts;
  guint64 expected;
} TsStep;

GST_START_TEST (test_timestamp_unwrap)
{
  static const TsStep steps[] = {
    {0xfffffff0u, 0xfffffff0u},
    {0xfffffffeu, 0xfffffffeu},
    /* wraps */
    {0x00000005u, G_GUINT64_CONSTANT (0x100000005)},
    /* reordered across the wrap: the older time, timeline unchanged */
    {0xfffffffau, 0xfffffffau},
    {0x00000010u, G_GUINT64_CONSTANT (0x100000010)},
    /* reordered within the epoch */
    {0x00000008u, G_GUINT64_CONSTANT (0x100000008)},
    /* a forward jump of exactly 2^31 is forward */
    {0x80000010u, G_GUINT64_CONSTANT (0x180000010)},
    {0xffffffffu, G_GUINT64_CONSTANT (0x1ffffffff)},
    /* wraps a second time */
    {0x00000000u, G_GUINT64_CONSTANT (0x200000000)},
    {0x7fffffffu, G_GUINT64_CONSTANT (0x27fffffff)},
  };
  DsTimestampUnwrapper u;
  guint i;

  ds_timestamp_unwrapper_init (&u);
  for (i = 0; i < G_N_ELEMENTS (steps); i++) {
    guint64 got = ds_timestamp_unwrap (&u, steps[i].ts);
    fail_unless_equals_uint64 (got, steps[i].expected);
  }

  /* a reordered time from before the start and before any wrap */
  ds_timestamp_unwrapper_init (&u);
  fail_unless_equals_uint64 (ds_timestamp_unwrap (&u, 5), 5);
  fail_unless_equals_uint64 (ds_timestamp_unwrap (&u, 0xfffffff0u), 0);
  fail_unless_equals_uint64 (ds_timestamp_unwrap (&u, 6), 6);

  /* duplicates stay put */
  ds_timestamp_unwrapper_init (&u);
  fail_unless_equals_uint64 (ds_timestamp_unwrap (&u, 100), 100);
  fail_unless_equals_uint64 (ds_timestamp_unwrap (&u, 100), 100);

  /* init resets */
  ds_timestamp_unwrapper_init (&u);
  fail_unless_equals_uint64 (ds_timestamp_unwrap (&u, 0xffffff00u),
      0xffffff00u);
}

GST_END_TEST;

typedef struct
{
  guint16 prev, cur;
  gint distance;
} SeqCase;

static const SeqCase seq_cases[] = {
  {0, 1, 1},
  {41, 41, 0},
  {10, 15, 5},
  {15, 10, -5},
  {65535, 0, 1},
  {65534, 2, 4},
  {2, 65534, -4},
  {0, 32767, 32767},
  {0, 32768, -32768},
  {32768, 0, -32768},
};

GST_START_TEST (test_seq_distance)
{
  const SeqCase *c = &seq_cases[__i__];

  fail_unless_equals_int (ds_seq_distance (c->prev, c->cur), c->distance);
}

GST_END_TEST;

typedef struct
{
  const gchar *name;
  guint16 code;
  const gchar *canonical;       /* NULL: @name itself */
} KeyCase;

static const KeyCase key_cases[] = {
  {"a", 65}, {"m", 77}, {"z", 90},
  {"A", 65, "a"}, {"Z", 90, "z"},
  {"0", 48}, {"9", 57},
  {"BackSpace", 8}, {"Tab", 9}, {"ISO_Left_Tab", 9, "Tab"},
  {"Return", 13}, {"KP_Enter", 13, "Return"},
  {"Shift_L", 16}, {"Shift_R", 16, "Shift_L"},
  {"Control_L", 17}, {"Control_R", 17, "Control_L"},
  {"Alt_L", 18}, {"Alt_R", 18, "Alt_L"},
  {"Escape", 27}, {"space", 32},
  {"Page_Up", 33}, {"Prior", 33, "Page_Up"},
  {"Page_Down", 34}, {"Next", 34, "Page_Down"},
  {"End", 35}, {"Home", 36},
  {"Left", 37}, {"Up", 38}, {"Right", 39}, {"Down", 40},
  {"Insert", 45}, {"Delete", 46},
  {"Super_L", 91}, {"Meta_L", 91, "Super_L"},
  {"F1", 112}, {"F5", 116}, {"F12", 123},
  {"KP_0", 96}, {"KP_Add", 107},
  {"semicolon", 186}, {"equal", 187}, {"comma", 188}, {"minus", 189},
  {"period", 190}, {"slash", 191}, {"grave", 192},
  {"bracketleft", 219}, {"backslash", 220}, {"bracketright", 221},
  {"apostrophe", 222},
};

GST_START_TEST (test_keycodes)
{
  const KeyCase *c = &key_cases[__i__];

  fail_unless_equals_int (ds_keycode_from_name (c->name), c->code);
  fail_unless_equals_string (ds_keycode_to_name (c->code),
      c->canonical ? c->canonical : c->name);
}

GST_END_TEST;

GST_START_TEST (test_keycodes_unknown)
{
  guint code;

  fail_unless_equals_int (ds_keycode_from_name (NULL), 0);
  fail_unless_equals_int (ds_keycode_from_name (""), 0);
  fail_unless_equals_int (ds_keycode_from_name ("NoSuchKey"), 0);
  fail_unless_equals_int (ds_keycode_from_name ("aa"), 0);
  fail_unless_equals_int (ds_keycode_from_name ("F13"), 0);
  fail_unless (ds_keycode_to_name (0) == NULL);
  fail_unless (ds_keycode_to_name (255) == NULL);
  fail_unless (ds_keycode_to_name (65535) == NULL);

  /* every code that has a name maps back to itself */
  for (code = 0; code <= G_MAXUINT16; code++) {
    const gchar *name = ds_keycode_to_name (code);

    if (name != NULL)
      fail_unless_equals_int (ds_keycode_from_name (name), code);
  }
}

GST_END_TEST;

GST_START_TEST (test_image_sniff)
{
  /* signature, IHDR length, "IHDR", width 640, height 480 */
  static const guint8 png[24] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
    'I', 'H', 'D', 'R', 0, 0, 0x02, 0x80, 0, 0, 0x01, 0xe0
  };
  /* RIFF, size, WEBP, VP8X chunk: flags, width - 1 = 319, height - 1 = 199 */
  static const guint8 webp_vp8x[30] = {
    'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P',
    'V', 'P', '8', 'X', 10, 0, 0, 0, 0, 0, 0, 0,
    0x3f, 0x01, 0x00, 0xc7, 0x00, 0x00
  };
  /* VP8L: signature 0x2f, then (w - 1) | (h - 1) << 14: 99 and 49 */
  static const guint8 webp_vp8l[25] = {
    'R', 'I', 'F', 'F', 17, 0, 0, 0, 'W', 'E', 'B', 'P',
    'V', 'P', '8', 'L', 5, 0, 0, 0, 0x2f, 0x63, 0x40, 0x0c, 0x00
  };
  /* VP8: frame tag, start code, width 160, height 90 */
  static const guint8 webp_vp8[30] = {
    'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P',
    'V', 'P', '8', ' ', 10, 0, 0, 0, 0x10, 0x02, 0x00,
    0x9d, 0x01, 0x2a, 0xa0, 0x00, 0x5a, 0x00
  };
  static const guint8 jpeg[12] = { 0xff, 0xd8, 0xff, 0xe0 };
  gint width = -1, height = -1;

  fail_unless_equals_string (ds_image_sniff (png, sizeof (png), &width,
          &height), "image/png");
  fail_unless_equals_int (width, 640);
  fail_unless_equals_int (height, 480);

  /* the signature alone tells the type; the size is then unknown */
  fail_unless_equals_string (ds_image_sniff (png, 8, &width, &height),
      "image/png");
  fail_unless_equals_int (width, 0);
  fail_unless_equals_int (height, 0);
  fail_unless (ds_image_sniff (png, 7, NULL, NULL) == NULL);

  fail_unless_equals_string (ds_image_sniff (webp_vp8x, sizeof (webp_vp8x),
          &width, &height), "image/webp");
  fail_unless_equals_int (width, 320);
  fail_unless_equals_int (height, 200);
  fail_unless_equals_string (ds_image_sniff (webp_vp8l, sizeof (webp_vp8l),
          &width, &height), "image/webp");
  fail_unless_equals_int (width, 100);
  fail_unless_equals_int (height, 50);
  fail_unless_equals_string (ds_image_sniff (webp_vp8, sizeof (webp_vp8),
          &width, &height), "image/webp");
  fail_unless_equals_int (width, 160);
  fail_unless_equals_int (height, 90);
  fail_unless_equals_string (ds_image_sniff (webp_vp8, 12, NULL, NULL),
      "image/webp");
  fail_unless (ds_image_sniff (webp_vp8, 11, NULL, NULL) == NULL);

  fail_unless (ds_image_sniff (jpeg, sizeof (jpeg), &width, &height) == NULL);
  fail_unless_equals_int (width, 0);
  fail_unless (ds_image_sniff (NULL, 0, NULL, NULL) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_picture_keyframe)
{
  DsHeader h = { 0, };

  h.type = DS_FRAME_PIXELS;
  fail_unless (ds_header_is_picture_keyframe (&h));
  h.type = DS_FRAME_DELTA_PIXELS;
  fail_if (ds_header_is_picture_keyframe (&h));
  h.flags = DS_FLAG_KEYFRAME;
  fail_unless (ds_header_is_picture_keyframe (&h));
  h.flags = DS_FLAG_KEYFRAME | DS_FLAG_COMPRESSED;
  fail_unless (ds_header_is_picture_keyframe (&h));
  /* a CompressedPixels image is no delta reference (SPEC §3) */
  h.type = DS_FRAME_COMPRESSED_PIXELS;
  fail_if (ds_header_is_picture_keyframe (&h));
  h.type = DS_FRAME_SIGNAL_SYNC;
  fail_if (ds_header_is_picture_keyframe (&h));
  /* an access unit a decoder can start from */
  h.type = DS_FRAME_ENCODED_VIDEO;
  h.flags = DS_FLAG_KEYFRAME;
  fail_unless (ds_header_is_picture_keyframe (&h));
  h.flags = 0;
  fail_if (ds_header_is_picture_keyframe (&h));
  /* input type 0x01 (Pointer) is not a Pixels frame */
  h.type = DS_INPUT_POINTER;
  h.flags = DS_FLAG_INPUT;
  fail_if (ds_header_is_picture_keyframe (&h));
}

GST_END_TEST;

GST_START_TEST (test_haptic_parse)
{
  static const guint8 payload[4] = { 0xf4, 0x01, 200, 0xaa };
  guint16 duration = 0;
  guint8 intensity = 0;
  GError *error = NULL;

  fail_unless (ds_haptic_parse (payload, sizeof (payload), &duration,
          &intensity, &error));
  fail_unless_equals_int (duration, 500);
  fail_unless_equals_int (intensity, 200);
  fail_unless (ds_haptic_parse (payload, 3, NULL, NULL, NULL));

  fail_if (ds_haptic_parse (payload, 2, &duration, &intensity, &error));
  fail_unless (g_error_matches (error, DS_PROTOCOL_ERROR,
          DS_PROTOCOL_ERROR_TRUNCATED));
  g_clear_error (&error);
  fail_if (ds_haptic_parse (NULL, 3, NULL, NULL, NULL));
}

GST_END_TEST;

GST_START_TEST (test_encoded_video_parse)
{
  static const guint8 payload[] = { DS_CODEC_VP9, 0, 0x82, 0x49, 0x83 };
  DsHeader header = { DS_FRAME_ENCODED_VIDEO, 0, 0, 0, 64, 48, 2 };
  const guint8 *unit = NULL;
  gsize unit_len = 0;
  guint8 codec = 0;
  GError *error = NULL;

  fail_unless (ds_encoded_video_parse (payload, sizeof (payload), &codec,
          &unit, &unit_len, &error));
  g_assert_no_error (error);
  fail_unless_equals_int (codec, DS_CODEC_VP9);
  fail_unless (unit == payload + 2);
  fail_unless_equals_int (unit_len, 3);
  fail_unless (ds_encoded_video_parse (payload, 3, NULL, NULL, NULL, NULL));
  fail_if (ds_encoded_video_parse (payload, 2, &codec, &unit, &unit_len,
          &error));
  fail_unless (g_error_matches (error, DS_PROTOCOL_ERROR,
          DS_PROTOCOL_ERROR_BAD_PAYLOAD));
  g_clear_error (&error);

  /* the header alone: what a byte-stream reader can check */
  fail_if (ds_header_validate (&header, NULL));
  header.payload_len = 3;
  fail_unless (ds_header_validate (&header, NULL));
  header.flags = DS_FLAG_COMPRESSED;
  fail_if (ds_header_validate (&header, NULL));
}

GST_END_TEST;

GST_START_TEST (test_header_validate)
{
  DsHeader pixels = { DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, 0, 0, 4, 2, 32 };
  DsHeader audio = { DS_FRAME_AUDIO_PCM, 0, 0, 0, 2, 48000, 16 };
  DsHeader unknown = { 0x77, 0, 0, 0, 0, 0, 3 };
  GError *error = NULL;

  fail_unless (ds_header_validate (&pixels, NULL));
  pixels.payload_len = 31;
  fail_if (ds_header_validate (&pixels, &error));
  fail_unless (g_error_matches (error, DS_PROTOCOL_ERROR,
          DS_PROTOCOL_ERROR_SIZE_MISMATCH));
  g_clear_error (&error);

  fail_unless (ds_header_validate (&audio, NULL));
  audio.width = 0;
  fail_if (ds_header_validate (&audio, NULL));

  fail_if (ds_header_validate (&unknown, &error));
  fail_unless (g_error_matches (error, DS_PROTOCOL_ERROR,
          DS_PROTOCOL_ERROR_UNKNOWN_TYPE));
  g_clear_error (&error);
}

GST_END_TEST;

static Suite *
dsprotocol_suite (void)
{
  Suite *s = suite_create ("dsprotocol");
  TCase *tc;

  tc = tcase_create ("header");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_header_round_trip);
  tcase_add_test (tc, test_header_byte_order);
  tcase_add_test (tc, test_frame_pack_parse_message);

  tc = tcase_create ("validate");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_frame_table, 0, G_N_ELEMENTS (frame_cases));
  tcase_add_test (tc, test_validate_no_payload_pointer);
  tcase_add_test (tc, test_type_tables);

  tc = tcase_create ("input");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_input_round_trip, 0,
      G_N_ELEMENTS (input_cases));
  tcase_add_test (tc, test_input_parse_errors);
  tcase_add_test (tc, test_input_gamepad_axis_value);

  tc = tcase_create ("time");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_timestamp_unwrap);
  tcase_add_loop_test (tc, test_seq_distance, 0, G_N_ELEMENTS (seq_cases));

  tc = tcase_create ("keys");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_keycodes, 0, G_N_ELEMENTS (key_cases));
  tcase_add_test (tc, test_keycodes_unknown);

  tc = tcase_create ("payloads");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_image_sniff);
  tcase_add_test (tc, test_haptic_parse);
  tcase_add_test (tc, test_header_validate);
  tcase_add_test (tc, test_encoded_video_parse);
  tcase_add_test (tc, test_picture_keyframe);
  tcase_add_loop_test (tc, test_receiver_report_parse, 0,
      G_N_ELEMENTS (report_cases));
  tcase_add_test (tc, test_receiver_report_round_trip);

  return s;
}

GST_CHECK_MAIN (dsprotocol);
