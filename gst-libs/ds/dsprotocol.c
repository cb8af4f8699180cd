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
 * SECTION:dsprotocol
 * @title: DsProtocol
 * @short_description: ds-stream frame header, frame and input types
 *
 * The wire protocol of ds-stream (see docs/protocol.md): a 16-byte
 * little-endian header followed by payload_len bytes of payload. The
 * functions here pack and parse headers and input-event payloads and check
 * that a payload fits its type. Every parser is given a length and never
 * reads past it; malformed input is reported with a #GError in the
 * %DS_PROTOCOL_ERROR domain.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dsprotocol.h"
#include "dsjson.h"
#include "dsmotion.h"

/**
 * ds_protocol_error_quark:
 *
 * Returns: the #GQuark of the %DS_PROTOCOL_ERROR error domain
 */
GQuark
ds_protocol_error_quark (void)
{
  return g_quark_from_static_string ("ds-protocol-error-quark");
}

/* Little-endian accessors: byte by byte, so alignment never matters */
static inline guint16
read_u16 (const guint8 * p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
read_u32 (const guint8 * p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) |
      ((guint32) p[3] << 24);
}

static inline void
write_u16 (guint8 * p, guint16 v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static inline void
write_u32 (guint8 * p, guint32 v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = v >> 24;
}

/**
 * ds_header_pack:
 * @header: the header to write
 * @out: (out caller-allocates): 16 bytes
 *
 * Writes @header in its wire form (little-endian) into @out.
 */
void
ds_header_pack (const DsHeader * header, guint8 out[DS_HEADER_SIZE])
{
  g_return_if_fail (header != NULL);
  g_return_if_fail (out != NULL);

  out[0] = header->type;
  out[1] = header->flags;
  write_u16 (out + 2, header->seq);
  write_u32 (out + 4, header->timestamp);
  write_u16 (out + 8, header->width);
  write_u16 (out + 10, header->height);
  write_u32 (out + 12, header->payload_len);
}

/**
 * ds_header_parse:
 * @data: (array length=len): bytes starting with a header
 * @len: number of bytes available at @data
 * @header: (out): the parsed header
 * @error: return location for a #GError, or %NULL
 *
 * Parses the first %DS_HEADER_SIZE bytes of @data. The payload is not
 * looked at; flag bits not defined by the protocol are kept as read.
 *
 * Returns: %TRUE on success, %FALSE (%DS_PROTOCOL_ERROR_TRUNCATED) when
 * @len is smaller than a header.
 */
gboolean
ds_header_parse (const guint8 * data, gsize len, DsHeader * header,
    GError ** error)
{
  g_return_val_if_fail (header != NULL, FALSE);

  if (data == NULL || len < DS_HEADER_SIZE)
    goto truncated;

  header->type = data[0];
  header->flags = data[1];
  header->seq = read_u16 (data + 2);
  header->timestamp = read_u32 (data + 4);
  header->width = read_u16 (data + 8);
  header->height = read_u16 (data + 10);
  header->payload_len = read_u32 (data + 12);

  return TRUE;

  /* ERRORS */
truncated:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED,
        "%" G_GSIZE_FORMAT " bytes are fewer than a %d-byte header", len,
        DS_HEADER_SIZE);
    return FALSE;
  }
}

/**
 * ds_frame_parse_message:
 * @data: (array length=len): one complete message (header + payload)
 * @len: length of the message
 * @max_payload: the largest payload accepted, 0 for no limit
 * @header: (out): the parsed header
 * @error: return location for a #GError, or %NULL
 *
 * Parses the header of a message that holds exactly one frame, as a
 * WebSocket message does, and checks that payload_len is @len - 16
 * (%DS_PROTOCOL_ERROR_LENGTH_MISMATCH) and at most @max_payload
 * (%DS_PROTOCOL_ERROR_TOO_LARGE).
 *
 * Returns: %TRUE when the message is one well-framed frame
 */
gboolean
ds_frame_parse_message (const guint8 * data, gsize len, gsize max_payload,
    DsHeader * header, GError ** error)
{
  g_return_val_if_fail (header != NULL, FALSE);

  if (!ds_header_parse (data, len, header, error))
    return FALSE;

  if ((guint64) header->payload_len != (guint64) (len - DS_HEADER_SIZE))
    goto length_mismatch;

  if (max_payload != 0 && header->payload_len > max_payload)
    goto too_large;

  return TRUE;

  /* ERRORS */
length_mismatch:
  {
    g_set_error (error, DS_PROTOCOL_ERROR,
        DS_PROTOCOL_ERROR_LENGTH_MISMATCH,
        "header says %u payload bytes, message has %" G_GSIZE_FORMAT,
        header->payload_len, len - DS_HEADER_SIZE);
    return FALSE;
  }
too_large:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "payload of %u bytes is over the limit of %" G_GSIZE_FORMAT,
        header->payload_len, max_payload);
    return FALSE;
  }
}

/**
 * ds_input_payload_size:
 * @type: an input type code
 *
 * Returns: the payload size of a fixed-size input type, or -1 for unknown
 * types, for BciInput (opaque, any size) and for ReceiverReport (JSON)
 */
gssize
ds_input_payload_size (guint8 type)
{
  switch (type) {
    case DS_INPUT_POINTER:
    case DS_INPUT_POINTER_DOWN:
    case DS_INPUT_POINTER_UP:
      return 5;
    case DS_INPUT_KEY_DOWN:
    case DS_INPUT_KEY_UP:
      return 3;
    case DS_INPUT_TOUCH:
      return 5;
    case DS_INPUT_GAMEPAD_AXIS:
      return 5;
    case DS_INPUT_GAMEPAD_BUTTON:
      return 2;
    case DS_INPUT_MIDI:
      return 3;
    case DS_INPUT_SCROLL:
    case DS_INPUT_RESIZE:
      return 4;
    case DS_INPUT_KEYFRAME_REQUEST:
      return 0;
    case DS_INPUT_RECEIVER_COUNT:
      return 4;
    case DS_INPUT_BCI:
    default:
      return -1;
  }
}

/* A GamepadAxis value is a number in -1..1, as the Gamepad API's; NaN
 * fails both comparisons */
static gboolean
gamepad_axis_value_is_valid (gfloat value)
{
  return value >= -1.0f && value <= 1.0f;
}

static gfloat
read_f32 (const guint8 * p)
{
  union
  {
    gfloat f;
    guint32 u;
  } v;

  v.u = read_u32 (p);
  return v.f;
}

/* The scanner's bounds for a ReceiverReport: 4 KiB, flat enough for
 * {"kbps":{..}} and a few more levels a later version may add */
static void
receiver_report_limits (DsJsonLimits * limits)
{
  ds_json_limits_init (limits);
  limits->max_bytes = DS_RECEIVER_REPORT_MAX_PAYLOAD;
  limits->max_depth = 4;
  limits->max_members = 64;
}

/* ReceiverReport: 1..4096 bytes of one JSON object (the scanner only; its
 * members are ds_receiver_report_parse()'s business). @payload NULL: the
 * size alone. */
static gboolean
validate_receiver_report (const DsHeader * header, const guint8 * payload,
    GError ** error)
{
  DsJsonLimits limits;
  gsize i = 0;

  if (header->payload_len == 0 ||
      header->payload_len > DS_RECEIVER_REPORT_MAX_PAYLOAD) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "ReceiverReport input needs 1..%d payload bytes, not %u",
        DS_RECEIVER_REPORT_MAX_PAYLOAD, header->payload_len);
    return FALSE;
  }
  if (payload == NULL)
    return TRUE;

  receiver_report_limits (&limits);
  if (!ds_json_check ((const gchar *) payload, header->payload_len, &limits,
          NULL, error))
    return FALSE;

  /* the scanner accepted one value: an object when its first byte (after
   * a byte order mark and white space) is '{' */
  if (header->payload_len >= 3 && payload[0] == 0xef && payload[1] == 0xbb
      && payload[2] == 0xbf)
    i = 3;
  while (i < header->payload_len && (payload[i] == ' ' || payload[i] == '\t'
          || payload[i] == '\n' || payload[i] == '\r'))
    i++;
  if (i >= header->payload_len || payload[i] != '{') {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "ReceiverReport payload is not a JSON object");
    return FALSE;
  }
  return TRUE;
}

/* @payload NULL: the header's checks alone */
static gboolean
validate_input (const DsHeader * header, const guint8 * payload,
    GError ** error)
{
  gssize size;

  if (!ds_input_type_is_known (header->type)) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_UNKNOWN_TYPE,
        "unknown input type 0x%02x", header->type);
    return FALSE;
  }

  if (header->type == DS_INPUT_RECEIVER_REPORT)
    return validate_receiver_report (header, payload, error);

  size = ds_input_payload_size (header->type);
  if (size >= 0 && (gsize) size != header->payload_len) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "%s input needs a %" G_GSSIZE_FORMAT "-byte payload, not %u",
        ds_input_type_name (header->type), size, header->payload_len);
    return FALSE;
  }

  if (payload != NULL && header->type == DS_INPUT_GAMEPAD_AXIS &&
      !gamepad_axis_value_is_valid (read_f32 (payload + 1))) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "GamepadAxis value %g is not a number in -1..1",
        (gdouble) read_f32 (payload + 1));
    return FALSE;
  }

  return TRUE;
}

static gboolean validate_frame (const DsHeader * header,
    const guint8 * payload, GError ** error);

/**
 * ds_frame_validate:
 * @header: a parsed header
 * @payload: (array) (nullable): header->payload_len bytes of payload
 * @error: return location for a #GError, or %NULL
 *
 * Checks that the payload fits the frame type (or, with %DS_FLAG_INPUT, the
 * input type):
 *
 * - Pixels: width and height > 0 and payload_len == width * height * 4
 *   (%DS_PROTOCOL_ERROR_SIZE_MISMATCH otherwise);
 * - CompressedPixels: a non-empty payload; DeltaPixels: width and
 *   height > 0 and a non-empty payload (the code is not decoded here);
 * - EncodedVideo: width and height > 0, no %DS_FLAG_COMPRESSED (an access
 *   unit is compressed already), at least 3 bytes, and (with the payload)
 *   a known codec byte and a reserved byte of 0;
 * - MotionDeltaPixels: width and height > 0, no %DS_FLAG_KEYFRAME, and
 *   (unless %DS_FLAG_COMPRESSED) a move table that ds_motion_parse_moves()
 *   accepts followed by a non-empty code (not decoded here);
 * - AudioPcm: channels (width) > 0, rate (height) > 0, length a multiple
 *   of 4 * channels (unless %DS_FLAG_COMPRESSED);
 * - AudioCompressed: channels > 0, rate > 0, a non-empty packet;
 * - Haptic: at least 3 bytes (u16 duration, u8 intensity);
 * - SignalSync, SignalDiff, SchemaAnnounce, SubscribeFilter: a non-empty
 *   payload (the JSON is not parsed here);
 * - Neural*, Ping, Keyframe, End: anything, empty included;
 * - input frames: a known input type whose payload has exactly the size
 *   of its layout (BciInput: any size), and (with the payload) a
 *   GamepadAxis value that is a number in -1..1 (not NaN, not infinite).
 *
 * Unknown types fail with %DS_PROTOCOL_ERROR_UNKNOWN_TYPE, other mismatches
 * with %DS_PROTOCOL_ERROR_BAD_PAYLOAD. With %DS_FLAG_COMPRESSED set, sizes
 * that depend on the decompressed payload are not checked.
 *
 * Returns: %TRUE when the payload fits its type
 */
gboolean
ds_frame_validate (const DsHeader * header, const guint8 * payload,
    GError ** error)
{
  g_return_val_if_fail (header != NULL, FALSE);

  if (payload == NULL && header->payload_len != 0) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED,
        "no payload given for %u payload bytes", header->payload_len);
    return FALSE;
  }
  return validate_frame (header, payload, error);
}

/* The checks of ds_frame_validate(); @payload NULL: those of the header
 * alone (ds_header_validate()) */
static gboolean
validate_frame (const DsHeader * header, const guint8 * payload,
    GError ** error)
{
  gboolean compressed;
  guint64 expected;
  guint n_moves;

  if (header->flags & DS_FLAG_INPUT)
    return validate_input (header, payload, error);

  compressed = (header->flags & DS_FLAG_COMPRESSED) != 0;

  switch (header->type) {
    case DS_FRAME_PIXELS:
      if (header->width == 0 || header->height == 0)
        goto no_size;
      if (compressed)
        break;
      /* u16 * u16 * 4 < 2^34: exact in 64 bits */
      expected = (guint64) header->width * (guint64) header->height * 4;
      if (expected != header->payload_len)
        goto size_mismatch;
      break;
    case DS_FRAME_COMPRESSED_PIXELS:
      if (header->payload_len == 0)
        goto empty;
      break;
    case DS_FRAME_DELTA_PIXELS:
      if (header->width == 0 || header->height == 0)
        goto no_size;
      if (header->payload_len == 0)
        goto empty;
      break;
    case DS_FRAME_MOTION_DELTA_PIXELS:
      if (header->width == 0 || header->height == 0)
        goto no_size;
      if (header->flags & DS_FLAG_KEYFRAME)
        goto motion_keyframe;
      if (compressed) {
        if (header->payload_len == 0)
          goto empty;
        break;
      }
      if (header->payload_len < DS_MOTION_TABLE_SIZE (0) + 1)
        goto motion_short;
      if (payload == NULL)
        break;
      if (!ds_motion_parse_moves (payload, header->payload_len, header->width,
              header->height, &n_moves, NULL, error))
        return FALSE;
      if (DS_MOTION_TABLE_SIZE (n_moves) == header->payload_len)
        goto motion_short;
      break;
    case DS_FRAME_ENCODED_VIDEO:
      if (header->width == 0 || header->height == 0)
        goto no_size;
      if (compressed)
        goto encoded_compressed;
      if (header->payload_len < DS_ENCODED_VIDEO_PREFIX_SIZE + 1)
        goto encoded_short;
      if (payload == NULL)
        break;
      if (!ds_encoded_video_parse (payload, header->payload_len, NULL, NULL,
              NULL, error))
        return FALSE;
      break;
    case DS_FRAME_AUDIO_PCM:
      if (header->width == 0 || header->height == 0)
        goto no_audio_format;
      if (!compressed && header->payload_len % (4u * header->width) != 0)
        goto audio_misaligned;
      break;
    case DS_FRAME_AUDIO_COMPRESSED:
      if (header->width == 0 || header->height == 0)
        goto no_audio_format;
      if (header->payload_len == 0)
        goto empty;
      break;
    case DS_FRAME_HAPTIC:
      if (header->payload_len < 3 && !compressed)
        goto haptic_short;
      break;
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
    case DS_FRAME_SCHEMA_ANNOUNCE:
    case DS_FRAME_SUBSCRIBE_FILTER:
      if (header->payload_len == 0)
        goto empty;
      break;
    case DS_FRAME_NEURAL_FRAME:
    case DS_FRAME_NEURAL_AUDIO:
    case DS_FRAME_NEURAL_ACTUATOR:
    case DS_FRAME_NEURAL_LATENT:
    case DS_FRAME_KEYFRAME:
    case DS_FRAME_PING:
    case DS_FRAME_END:
      break;
    default:
      goto unknown_type;
  }

  return TRUE;

  /* ERRORS */
no_size:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "%s frame of %ux%u pixels", ds_frame_type_name (header->type),
        header->width, header->height);
    return FALSE;
  }
size_mismatch:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_SIZE_MISMATCH,
        "Pixels frame of %ux%u needs %" G_GUINT64_FORMAT " bytes, has %u",
        header->width, header->height, expected, header->payload_len);
    return FALSE;
  }
empty:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "%s frame with an empty payload", ds_frame_type_name (header->type));
    return FALSE;
  }
no_audio_format:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "%s frame with %u channels at %u Hz",
        ds_frame_type_name (header->type), header->width, header->height);
    return FALSE;
  }
motion_keyframe:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "MotionDeltaPixels frame with FLAG_KEYFRAME (a keyframe has no "
        "reference to move)");
    return FALSE;
  }
motion_short:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED,
        "MotionDeltaPixels payload of %u bytes has no run-length code "
        "after its move table", header->payload_len);
    return FALSE;
  }
encoded_compressed:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "EncodedVideo frame with FLAG_COMPRESSED (an access unit is "
        "compressed already)");
    return FALSE;
  }
encoded_short:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "EncodedVideo payload of %u bytes: needs the codec, the reserved "
        "byte and at least one byte of access unit", header->payload_len);
    return FALSE;
  }
audio_misaligned:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "AudioPcm payload of %u bytes is not whole frames of %u channels",
        header->payload_len, header->width);
    return FALSE;
  }
haptic_short:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "Haptic payload of %u bytes, needs 3", header->payload_len);
    return FALSE;
  }
unknown_type:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_UNKNOWN_TYPE,
        "unknown frame type 0x%02x", header->type);
    return FALSE;
  }
}

/**
 * ds_frame_pack:
 * @header: the header; its payload_len is ignored
 * @payload: (array length=payload_len) (nullable): the payload
 * @payload_len: length of @payload, at most %G_MAXUINT32
 *
 * Builds one frame (header followed by a copy of the payload) in a newly
 * allocated block; payload_len in it is @payload_len.
 *
 * Returns: (transfer full): the frame
 */
GBytes *
ds_frame_pack (const DsHeader * header, gconstpointer payload,
    gsize payload_len)
{
  DsHeader h;
  guint8 *data;

  g_return_val_if_fail (header != NULL, NULL);
  g_return_val_if_fail (payload != NULL || payload_len == 0, NULL);
  g_return_val_if_fail ((guint64) payload_len <= G_MAXUINT32, NULL);

  h = *header;
  h.payload_len = (guint32) payload_len;

  data = g_malloc (DS_HEADER_SIZE + payload_len);
  ds_header_pack (&h, data);
  if (payload_len > 0)
    memcpy (data + DS_HEADER_SIZE, payload, payload_len);

  return g_bytes_new_take (data, DS_HEADER_SIZE + payload_len);
}

/**
 * ds_frame_type_is_known:
 * @type: a frame type code
 *
 * Returns: %TRUE when @type is one of #DsFrameType
 */
gboolean
ds_frame_type_is_known (guint8 type)
{
  switch (type) {
    case DS_FRAME_PIXELS:
    case DS_FRAME_COMPRESSED_PIXELS:
    case DS_FRAME_DELTA_PIXELS:
    case DS_FRAME_MOTION_DELTA_PIXELS:
    case DS_FRAME_ENCODED_VIDEO:
    case DS_FRAME_AUDIO_PCM:
    case DS_FRAME_AUDIO_COMPRESSED:
    case DS_FRAME_HAPTIC:
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
    case DS_FRAME_SCHEMA_ANNOUNCE:
    case DS_FRAME_SUBSCRIBE_FILTER:
    case DS_FRAME_NEURAL_FRAME:
    case DS_FRAME_NEURAL_AUDIO:
    case DS_FRAME_NEURAL_ACTUATOR:
    case DS_FRAME_NEURAL_LATENT:
    case DS_FRAME_KEYFRAME:
    case DS_FRAME_PING:
    case DS_FRAME_END:
      return TRUE;
    default:
      return FALSE;
  }
}

/**
 * ds_input_type_is_known:
 * @type: an input type code
 *
 * Returns: %TRUE when @type is one of #DsInputType
 */
gboolean
ds_input_type_is_known (guint8 type)
{
  return type == DS_INPUT_BCI || type == DS_INPUT_RECEIVER_REPORT ||
      ds_input_payload_size (type) >= 0;
}

/**
 * ds_frame_type_media:
 * @type: a frame type code
 *
 * Returns: the kind of media a frame of @type carries; %DS_MEDIA_NONE for
 * control frames (Keyframe, Ping, End, SubscribeFilter) and unknown types
 */
DsMedia
ds_frame_type_media (guint8 type)
{
  switch (type) {
    case DS_FRAME_PIXELS:
    case DS_FRAME_DELTA_PIXELS:
    case DS_FRAME_MOTION_DELTA_PIXELS:
    case DS_FRAME_ENCODED_VIDEO:
      return DS_MEDIA_VIDEO;
    case DS_FRAME_COMPRESSED_PIXELS:
      return DS_MEDIA_IMAGE;
    case DS_FRAME_AUDIO_PCM:
    case DS_FRAME_AUDIO_COMPRESSED:
      return DS_MEDIA_AUDIO;
    case DS_FRAME_SIGNAL_SYNC:
    case DS_FRAME_SIGNAL_DIFF:
    case DS_FRAME_SCHEMA_ANNOUNCE:
      return DS_MEDIA_SIGNAL;
    case DS_FRAME_HAPTIC:
    case DS_FRAME_NEURAL_FRAME:
    case DS_FRAME_NEURAL_AUDIO:
    case DS_FRAME_NEURAL_ACTUATOR:
    case DS_FRAME_NEURAL_LATENT:
      return DS_MEDIA_OPAQUE;
    default:
      return DS_MEDIA_NONE;
  }
}

/**
 * ds_frame_type_name:
 * @type: a frame type code
 *
 * Returns: the static name of the frame type ("Pixels", "SignalDiff", ...)
 * or "Unknown"
 */
const gchar *
ds_frame_type_name (guint8 type)
{
  switch (type) {
    case DS_FRAME_PIXELS:
      return "Pixels";
    case DS_FRAME_COMPRESSED_PIXELS:
      return "CompressedPixels";
    case DS_FRAME_DELTA_PIXELS:
      return "DeltaPixels";
    case DS_FRAME_MOTION_DELTA_PIXELS:
      return "MotionDeltaPixels";
    case DS_FRAME_ENCODED_VIDEO:
      return "EncodedVideo";
    case DS_FRAME_AUDIO_PCM:
      return "AudioPcm";
    case DS_FRAME_AUDIO_COMPRESSED:
      return "AudioCompressed";
    case DS_FRAME_HAPTIC:
      return "Haptic";
    case DS_FRAME_SIGNAL_SYNC:
      return "SignalSync";
    case DS_FRAME_SIGNAL_DIFF:
      return "SignalDiff";
    case DS_FRAME_SCHEMA_ANNOUNCE:
      return "SchemaAnnounce";
    case DS_FRAME_SUBSCRIBE_FILTER:
      return "SubscribeFilter";
    case DS_FRAME_NEURAL_FRAME:
      return "NeuralFrame";
    case DS_FRAME_NEURAL_AUDIO:
      return "NeuralAudio";
    case DS_FRAME_NEURAL_ACTUATOR:
      return "NeuralActuator";
    case DS_FRAME_NEURAL_LATENT:
      return "NeuralLatent";
    case DS_FRAME_KEYFRAME:
      return "Keyframe";
    case DS_FRAME_PING:
      return "Ping";
    case DS_FRAME_END:
      return "End";
    default:
      return "Unknown";
  }
}

/**
 * ds_input_type_name:
 * @type: an input type code
 *
 * Returns: the static name of the input type ("Pointer", "KeyDown", ...)
 * or "Unknown"
 */
const gchar *
ds_input_type_name (guint8 type)
{
  switch (type) {
    case DS_INPUT_POINTER:
      return "Pointer";
    case DS_INPUT_POINTER_DOWN:
      return "PointerDown";
    case DS_INPUT_POINTER_UP:
      return "PointerUp";
    case DS_INPUT_KEY_DOWN:
      return "KeyDown";
    case DS_INPUT_KEY_UP:
      return "KeyUp";
    case DS_INPUT_TOUCH:
      return "Touch";
    case DS_INPUT_GAMEPAD_AXIS:
      return "GamepadAxis";
    case DS_INPUT_GAMEPAD_BUTTON:
      return "GamepadButton";
    case DS_INPUT_MIDI:
      return "Midi";
    case DS_INPUT_SCROLL:
      return "Scroll";
    case DS_INPUT_RESIZE:
      return "Resize";
    case DS_INPUT_KEYFRAME_REQUEST:
      return "KeyframeRequest";
    case DS_INPUT_RECEIVER_COUNT:
      return "ReceiverCount";
    case DS_INPUT_RECEIVER_REPORT:
      return "ReceiverReport";
    case DS_INPUT_BCI:
      return "BciInput";
    default:
      return "Unknown";
  }
}

/**
 * ds_input_event_pack:
 * @event: the event
 * @out: (out caller-allocates): at least %DS_INPUT_MAX_PAYLOAD bytes
 *
 * Writes the payload of @event (SPEC §4 layouts, little-endian; the
 * gamepad axis value as an IEEE-754 float32) into @out.
 *
 * Returns: the payload length; 0 for KeyframeRequest, BciInput (no fixed
 * layout) and unknown types
 */
gsize
ds_input_event_pack (const DsInputEvent * event, guint8 * out)
{
  union
  {
    gfloat f;
    guint32 u;
  } axis;

  g_return_val_if_fail (event != NULL, 0);
  g_return_val_if_fail (out != NULL, 0);

  switch (event->type) {
    case DS_INPUT_POINTER:
    case DS_INPUT_POINTER_DOWN:
    case DS_INPUT_POINTER_UP:
      write_u16 (out, event->pointer.x);
      write_u16 (out + 2, event->pointer.y);
      out[4] = event->pointer.buttons;
      return 5;
    case DS_INPUT_KEY_DOWN:
    case DS_INPUT_KEY_UP:
      write_u16 (out, event->key.keycode);
      out[2] = event->key.modifiers;
      return 3;
    case DS_INPUT_TOUCH:
      out[0] = event->touch.id;
      write_u16 (out + 1, event->touch.x);
      write_u16 (out + 3, event->touch.y);
      return 5;
    case DS_INPUT_GAMEPAD_AXIS:
      out[0] = event->gamepad_axis.axis;
      axis.f = event->gamepad_axis.value;
      write_u32 (out + 1, axis.u);
      return 5;
    case DS_INPUT_GAMEPAD_BUTTON:
      out[0] = event->gamepad_button.button;
      out[1] = event->gamepad_button.pressed;
      return 2;
    case DS_INPUT_MIDI:
      out[0] = event->midi.status;
      out[1] = event->midi.data1;
      out[2] = event->midi.data2;
      return 3;
    case DS_INPUT_SCROLL:
      write_u16 (out, (guint16) event->scroll.dx);
      write_u16 (out + 2, (guint16) event->scroll.dy);
      return 4;
    case DS_INPUT_RESIZE:
      write_u16 (out, event->resize.width);
      write_u16 (out + 2, event->resize.height);
      return 4;
    case DS_INPUT_RECEIVER_COUNT:
      write_u32 (out, event->receiver_count.count);
      return 4;
    case DS_INPUT_KEYFRAME_REQUEST:
    case DS_INPUT_BCI:
    default:
      return 0;
  }
}

/**
 * ds_input_event_parse:
 * @type: the input type (the header's type byte)
 * @payload: (array length=len) (nullable): the payload
 * @len: length of @payload
 * @event: (out): the parsed event
 * @error: return location for a #GError, or %NULL
 *
 * Parses an input payload. Bytes after the type's layout are ignored
 * (forward compatibility); ds_frame_validate() is the strict check.
 *
 * Returns: %TRUE on success; %FALSE with %DS_PROTOCOL_ERROR_UNKNOWN_TYPE
 * for unknown types, %DS_PROTOCOL_ERROR_UNSUPPORTED for BciInput (opaque)
 * and ReceiverReport (JSON: ds_receiver_report_parse())
 * and %DS_PROTOCOL_ERROR_TRUNCATED for a payload shorter than the layout,
 * %DS_PROTOCOL_ERROR_BAD_PAYLOAD for a GamepadAxis value that is not a
 * number in -1..1 (NaN, infinities)
 */
gboolean
ds_input_event_parse (guint8 type, const guint8 * payload, gsize len,
    DsInputEvent * event, GError ** error)
{
  gssize size;

  g_return_val_if_fail (event != NULL, FALSE);

  if (type == DS_INPUT_BCI)
    goto opaque;
  if (type == DS_INPUT_RECEIVER_REPORT)
    goto json;

  size = ds_input_payload_size (type);
  if (size < 0)
    goto unknown_type;

  if (len < (gsize) size || (payload == NULL && size > 0))
    goto truncated;

  memset (event, 0, sizeof (*event));
  event->type = type;

  switch (type) {
    case DS_INPUT_POINTER:
    case DS_INPUT_POINTER_DOWN:
    case DS_INPUT_POINTER_UP:
      event->pointer.x = read_u16 (payload);
      event->pointer.y = read_u16 (payload + 2);
      event->pointer.buttons = payload[4];
      break;
    case DS_INPUT_KEY_DOWN:
    case DS_INPUT_KEY_UP:
      event->key.keycode = read_u16 (payload);
      event->key.modifiers = payload[2];
      break;
    case DS_INPUT_TOUCH:
      event->touch.id = payload[0];
      event->touch.x = read_u16 (payload + 1);
      event->touch.y = read_u16 (payload + 3);
      break;
    case DS_INPUT_GAMEPAD_AXIS:
      event->gamepad_axis.axis = payload[0];
      event->gamepad_axis.value = read_f32 (payload + 1);
      if (!gamepad_axis_value_is_valid (event->gamepad_axis.value))
        goto bad_axis;
      break;
    case DS_INPUT_GAMEPAD_BUTTON:
      event->gamepad_button.button = payload[0];
      event->gamepad_button.pressed = payload[1];
      break;
    case DS_INPUT_MIDI:
      event->midi.status = payload[0];
      event->midi.data1 = payload[1];
      event->midi.data2 = payload[2];
      break;
    case DS_INPUT_SCROLL:
      event->scroll.dx = (gint16) read_u16 (payload);
      event->scroll.dy = (gint16) read_u16 (payload + 2);
      break;
    case DS_INPUT_RESIZE:
      event->resize.width = read_u16 (payload);
      event->resize.height = read_u16 (payload + 2);
      break;
    case DS_INPUT_RECEIVER_COUNT:
      event->receiver_count.count = read_u32 (payload);
      break;
    case DS_INPUT_KEYFRAME_REQUEST:
    default:
      break;
  }

  return TRUE;

  /* ERRORS */
opaque:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_UNSUPPORTED,
        "BciInput payloads are opaque");
    return FALSE;
  }
json:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_UNSUPPORTED,
        "ReceiverReport payloads are JSON: ds_receiver_report_parse()");
    return FALSE;
  }
unknown_type:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_UNKNOWN_TYPE,
        "unknown input type 0x%02x", type);
    return FALSE;
  }
truncated:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED,
        "%s input needs %" G_GSSIZE_FORMAT " bytes, has %" G_GSIZE_FORMAT,
        ds_input_type_name (type), size, len);
    return FALSE;
  }
bad_axis:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "GamepadAxis value %g is not a number in -1..1",
        (gdouble) event->gamepad_axis.value);
    return FALSE;
  }
}

/**
 * ds_input_event_to_frame:
 * @event: the event
 * @seq: the frame's sequence number
 * @timestamp: the frame's timestamp in ms
 *
 * Builds a complete input frame: a header with %DS_FLAG_INPUT, type
 * event->type, width and height 0, followed by the packed payload.
 *
 * Returns: (transfer full): the frame
 */
GBytes *
ds_input_event_to_frame (const DsInputEvent * event, guint16 seq,
    guint32 timestamp)
{
  DsHeader header = { 0, };
  guint8 payload[DS_INPUT_MAX_PAYLOAD];
  gsize len;

  g_return_val_if_fail (event != NULL, NULL);

  len = ds_input_event_pack (event, payload);

  header.type = event->type;
  header.flags = DS_FLAG_INPUT;
  header.seq = seq;
  header.timestamp = timestamp;

  return ds_frame_pack (&header, payload, len);
}

/**
 * ds_receiver_report_to_json:
 * @report: a report
 *
 * Returns: (transfer full): the JSON text of @report, as SPEC §4 has it:
 * {"receivers":N,"kbps":{"min":..,"median":..,"max":..},"dropped":..}
 */
gchar *
ds_receiver_report_to_json (const DsReceiverReport * report)
{
  g_return_val_if_fail (report != NULL, NULL);

  return g_strdup_printf ("{\"receivers\":%u,\"kbps\":{\"min\":%u,"
      "\"median\":%u,\"max\":%u},\"dropped\":%u}", report->receivers,
      report->kbps_min, report->kbps_median, report->kbps_max, report->dropped);
}

/**
 * ds_receiver_report_to_frame:
 * @report: a report
 * @seq: the header's sequence number
 * @timestamp: the header's timestamp
 *
 * Returns: (transfer full): a complete ReceiverReport input frame
 */
GBytes *
ds_receiver_report_to_frame (const DsReceiverReport * report, guint16 seq,
    guint32 timestamp)
{
  DsHeader header = { 0, };
  gchar *json;
  GBytes *frame;

  g_return_val_if_fail (report != NULL, NULL);

  json = ds_receiver_report_to_json (report);
  header.type = DS_INPUT_RECEIVER_REPORT;
  header.flags = DS_FLAG_INPUT;
  header.seq = seq;
  header.timestamp = timestamp;
  frame = ds_frame_pack (&header, json, strlen (json));
  g_free (json);
  return frame;
}

/**
 * ds_receiver_report_parse:
 * @payload: (array length=len): a ReceiverReport payload
 * @len: its length
 * @report: (out): the report
 * @error: return location for a #GError, or %NULL
 *
 * Parses a ReceiverReport payload with ds_json_parse() (at most
 * %DS_RECEIVER_REPORT_MAX_PAYLOAD bytes, depth 4, 64 members): an object
 * with "receivers" and "dropped" (whole numbers) and "kbps", an object
 * with "min", "median" and "max" (numbers, a fraction rounded), all in
 * 0..G_MAXUINT32 and min <= median <= max. Other members are ignored.
 *
 * Returns: %TRUE on success; %FALSE with %DS_PROTOCOL_ERROR_BAD_JSON (not
 * a JSON object), %DS_PROTOCOL_ERROR_TOO_LARGE or
 * %DS_PROTOCOL_ERROR_BAD_PAYLOAD (a member missing or out of range)
 */
gboolean
ds_receiver_report_parse (const guint8 * payload, gsize len,
    DsReceiverReport * report, GError ** error)
{
  DsJsonLimits limits;
  JsonNode *root;
  JsonObject *object, *kbps;
  JsonNode *kbps_node;
  DsReceiverReport r = { 0, };
  gboolean ok;

  g_return_val_if_fail (report != NULL, FALSE);

  if (payload == NULL)
    goto bad_json;
  if (len > DS_RECEIVER_REPORT_MAX_PAYLOAD) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "ReceiverReport of %" G_GSIZE_FORMAT " bytes, over %d", len,
        DS_RECEIVER_REPORT_MAX_PAYLOAD);
    return FALSE;
  }

  receiver_report_limits (&limits);
  root = ds_json_parse ((const gchar *) payload, len, &limits, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    json_node_unref (root);
    goto bad_json;
  }

  object = json_node_get_object (root);
  kbps_node = json_object_get_member (object, "kbps");
  ok = kbps_node != NULL && JSON_NODE_HOLDS_OBJECT (kbps_node);
  if (ok) {
    kbps = json_node_get_object (kbps_node);
    ok = ds_json_object_get_u32 (object, "receivers", FALSE, &r.receivers) &&
        ds_json_object_get_u32 (object, "dropped", FALSE, &r.dropped) &&
        ds_json_object_get_u32 (kbps, "min", TRUE, &r.kbps_min) &&
        ds_json_object_get_u32 (kbps, "median", TRUE, &r.kbps_median) &&
        ds_json_object_get_u32 (kbps, "max", TRUE, &r.kbps_max) &&
        r.kbps_min <= r.kbps_median && r.kbps_median <= r.kbps_max;
  }
  json_node_unref (root);
  if (!ok)
    goto bad_payload;

  *report = r;
  return TRUE;

  /* ERRORS */
bad_json:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "ReceiverReport payload is not a JSON object");
    return FALSE;
  }
bad_payload:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "ReceiverReport needs receivers, dropped and kbps min <= median <= "
        "max, numbers in 0..%u", G_MAXUINT32);
    return FALSE;
  }
}

/**
 * ds_timestamp_unwrapper_init:
 * @u: an unwrapper
 *
 * Resets @u: the next timestamp starts a new timeline.
 */
void
ds_timestamp_unwrapper_init (DsTimestampUnwrapper * u)
{
  g_return_if_fail (u != NULL);

  u->started = FALSE;
  u->last = 0;
  u->epoch = 0;
}

/**
 * ds_timestamp_unwrap:
 * @u: an unwrapper
 * @ts: a wrapping u32 timestamp in ms
 *
 * Extends @ts to 64 bits. A step forward of up to 2^31 ms (across the wrap
 * included) advances the timeline; a step back of less than 2^31 ms is
 * taken as reordering: the older time is returned and the timeline does
 * not move. A reordered time from before the first one and before a wrap
 * that never happened is clamped to 0.
 *
 * Returns: the unwrapped timestamp in ms
 */
guint64
ds_timestamp_unwrap (DsTimestampUnwrapper * u, guint32 ts)
{
  guint32 back;

  g_return_val_if_fail (u != NULL, ts);

  if (!u->started) {
    u->started = TRUE;
    u->last = ts;
    u->epoch = 0;
    return ts;
  }

  back = u->last - ts;
  if (back != 0 && back < 0x80000000u) {
    /* reordered: older than the last one */
    if (ts <= u->last)
      return u->epoch + ts;
    /* older and before the last wrap */
    if (u->epoch == 0)
      return 0;
    return u->epoch - G_GUINT64_CONSTANT (0x100000000) + ts;
  }

  if (ts < u->last)
    u->epoch += G_GUINT64_CONSTANT (0x100000000);
  u->last = ts;

  return u->epoch + ts;
}

/**
 * ds_seq_distance:
 * @prev: the previous sequence number
 * @cur: the current one
 *
 * Returns: the signed distance from @prev to @cur modulo 2^16, in
 * -32768..32767: 1 for the next frame, 0 for a duplicate, > 1 when frames
 * were lost, < 0 for an old or reordered frame
 */
gint
ds_seq_distance (guint16 prev, guint16 cur)
{
  return (gint16) (guint16) (cur - prev);
}

typedef struct
{
  guint16 keycode;
  const gchar *name;
} DsKeyName;

/* Browser KeyboardEvent.keyCode <-> X keysym name. Letters and digits are
 * computed; the first entry of a code is its canonical name, later
 * entries with the same code are aliases accepted by
 * ds_keycode_from_name(). */
static const DsKeyName key_names[] = {
  {8, "BackSpace"},
  {9, "Tab"},
  {9, "ISO_Left_Tab"},
  {13, "Return"},
  {13, "KP_Enter"},
  {16, "Shift_L"},
  {16, "Shift_R"},
  {17, "Control_L"},
  {17, "Control_R"},
  {18, "Alt_L"},
  {18, "Alt_R"},
  {19, "Pause"},
  {20, "Caps_Lock"},
  {27, "Escape"},
  {32, "space"},
  {33, "Page_Up"},
  {33, "Prior"},
  {34, "Page_Down"},
  {34, "Next"},
  {35, "End"},
  {36, "Home"},
  {37, "Left"},
  {38, "Up"},
  {39, "Right"},
  {40, "Down"},
  {45, "Insert"},
  {46, "Delete"},
  {91, "Super_L"},
  {91, "Meta_L"},
  {92, "Super_R"},
  {92, "Meta_R"},
  {93, "Menu"},
  {96, "KP_0"},
  {97, "KP_1"},
  {98, "KP_2"},
  {99, "KP_3"},
  {100, "KP_4"},
  {101, "KP_5"},
  {102, "KP_6"},
  {103, "KP_7"},
  {104, "KP_8"},
  {105, "KP_9"},
  {106, "KP_Multiply"},
  {107, "KP_Add"},
  {109, "KP_Subtract"},
  {110, "KP_Decimal"},
  {111, "KP_Divide"},
  {112, "F1"},
  {113, "F2"},
  {114, "F3"},
  {115, "F4"},
  {116, "F5"},
  {117, "F6"},
  {118, "F7"},
  {119, "F8"},
  {120, "F9"},
  {121, "F10"},
  {122, "F11"},
  {123, "F12"},
  {144, "Num_Lock"},
  {145, "Scroll_Lock"},
  {186, "semicolon"},
  {187, "equal"},
  {188, "comma"},
  {189, "minus"},
  {190, "period"},
  {191, "slash"},
  {192, "grave"},
  {219, "bracketleft"},
  {220, "backslash"},
  {221, "bracketright"},
  {222, "apostrophe"},
};

static const gchar *const digit_names[] = {
  "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"
};

static const gchar *const letter_names[] = {
  "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
  "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z"
};

/**
 * ds_keycode_from_name:
 * @name: an X keysym name as carried by GstNavigation key events
 *
 * Maps a key name to the browser keyCode of SPEC §4: "a".."z" and
 * "A".."Z" to 65..90, "0".."9" to 48..57, "Return" to 13, "Left" to 37,
 * "F1" to 112, ... (aliases such as "Prior", "KP_Enter" or "Meta_L" are
 * accepted).
 *
 * Returns: the keycode, or 0 for an unknown or %NULL name
 */
guint16
ds_keycode_from_name (const gchar * name)
{
  guint i;

  if (name == NULL || name[0] == '\0')
    return 0;

  if (name[1] == '\0') {
    if (name[0] >= 'a' && name[0] <= 'z')
      return 65 + (name[0] - 'a');
    if (name[0] >= 'A' && name[0] <= 'Z')
      return 65 + (name[0] - 'A');
    if (name[0] >= '0' && name[0] <= '9')
      return 48 + (name[0] - '0');
  }

  for (i = 0; i < G_N_ELEMENTS (key_names); i++) {
    if (strcmp (key_names[i].name, name) == 0)
      return key_names[i].keycode;
  }

  return 0;
}

/**
 * ds_keycode_to_name:
 * @keycode: a browser keyCode
 *
 * Maps a keyCode to its X keysym name; letters give lowercase names.
 *
 * Returns: (nullable): a static name, or %NULL for an unknown code
 */
const gchar *
ds_keycode_to_name (guint16 keycode)
{
  guint i;

  if (keycode >= 65 && keycode <= 90)
    return letter_names[keycode - 65];
  if (keycode >= 48 && keycode <= 57)
    return digit_names[keycode - 48];

  for (i = 0; i < G_N_ELEMENTS (key_names); i++) {
    if (key_names[i].keycode == keycode)
      return key_names[i].name;
  }

  return NULL;
}

/* Image signatures and Haptic payloads (CompressedPixels, Haptic) */

static guint32
read_u32_be (const guint8 * p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
      ((guint32) p[2] << 8) | (guint32) p[3];
}

/* WebP: the first chunk after "RIFF" size "WEBP" tells the size */
static void
sniff_webp_size (const guint8 * data, gsize len, gint * width, gint * height)
{
  if (len >= 30 && memcmp (data + 12, "VP8 ", 4) == 0 &&
      data[23] == 0x9d && data[24] == 0x01 && data[25] == 0x2a) {
    /* lossy: 14-bit sizes after the key frame start code */
    *width = (data[26] | (data[27] << 8)) & 0x3fff;
    *height = (data[28] | (data[29] << 8)) & 0x3fff;
  } else if (len >= 25 && memcmp (data + 12, "VP8L", 4) == 0 &&
      data[20] == 0x2f) {
    /* lossless: 14-bit width - 1 and height - 1 packed LSB first */
    guint32 bits = read_u32 (data + 21);

    *width = (bits & 0x3fff) + 1;
    *height = ((bits >> 14) & 0x3fff) + 1;
  } else if (len >= 30 && memcmp (data + 12, "VP8X", 4) == 0) {
    /* extended: 24-bit canvas width - 1 and height - 1 */
    *width = (data[24] | (data[25] << 8) | (data[26] << 16)) + 1;
    *height = (data[27] | (data[28] << 8) | (data[29] << 16)) + 1;
  }
}

/**
 * ds_image_sniff:
 * @data: (array length=len): the start of a CompressedPixels payload
 * @len: bytes available at @data
 * @width: (out) (optional): the picture width, or 0 if it cannot be read
 * @height: (out) (optional): the picture height, or 0 if it cannot be read
 *
 * Tells PNG and WebP apart by their signatures (SPEC §3, CompressedPixels)
 * and reads the picture size from the PNG IHDR chunk or from the first
 * WebP chunk (VP8, VP8L or VP8X) when enough bytes are given (24 for PNG,
 * 30 for WebP). Reads no more than @len bytes.
 *
 * Returns: (nullable): "image/png", "image/webp", or %NULL when @data is
 * neither
 */
const gchar *
ds_image_sniff (const guint8 * data, gsize len, gint * width, gint * height)
{
  static const guint8 png_signature[8] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
  };
  const gchar *media_type = NULL;
  gint w = 0, h = 0;

  if (data == NULL)
    len = 0;

  if (len >= 8 && memcmp (data, png_signature, 8) == 0) {
    media_type = "image/png";
    if (len >= 24 && memcmp (data + 12, "IHDR", 4) == 0 &&
        read_u32_be (data + 16) <= G_MAXINT &&
        read_u32_be (data + 20) <= G_MAXINT) {
      w = read_u32_be (data + 16);
      h = read_u32_be (data + 20);
    }
  } else if (len >= 12 && memcmp (data, "RIFF", 4) == 0 &&
      memcmp (data + 8, "WEBP", 4) == 0) {
    media_type = "image/webp";
    sniff_webp_size (data, len, &w, &h);
  }

  if (width)
    *width = w;
  if (height)
    *height = h;
  return media_type;
}

/**
 * ds_haptic_parse:
 * @payload: (array length=len) (nullable): a Haptic payload
 * @len: its length
 * @duration_ms: (out) (optional): the duration in milliseconds
 * @intensity: (out) (optional): the intensity, 0-255
 * @error: return location for a #GError, or %NULL
 *
 * Parses a Haptic payload (SPEC §3: u16 duration in ms, u8 intensity);
 * bytes after the third are ignored.
 *
 * Returns: %TRUE on success; %FALSE (%DS_PROTOCOL_ERROR_TRUNCATED) when
 * @len < 3
 */
gboolean
ds_haptic_parse (const guint8 * payload, gsize len, guint16 * duration_ms,
    guint8 * intensity, GError ** error)
{
  if (payload == NULL || len < 3)
    goto too_short;

  if (duration_ms)
    *duration_ms = read_u16 (payload);
  if (intensity)
    *intensity = payload[2];
  return TRUE;

  /* ERRORS */
too_short:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED,
        "Haptic payload of %" G_GSIZE_FORMAT " bytes, needs 3",
        payload ? len : 0);
    return FALSE;
  }
}

/**
 * ds_header_validate:
 * @header: a parsed header
 * @error: return location for a #GError, or %NULL
 *
 * The checks of ds_frame_validate() that need only the header: every one
 * of them, since ds_frame_validate() looks at the payload's length, never
 * at its bytes. A byte-stream reader uses it to tell whether the 16 bytes
 * in front of it can be a frame header before it waits for payload_len
 * bytes.
 *
 * Returns: %TRUE when the header is a valid one
 */
gboolean
ds_header_validate (const DsHeader * header, GError ** error)
{
  g_return_val_if_fail (header != NULL, FALSE);

  return validate_frame (header, NULL, error);
}

/**
 * ds_header_is_picture_keyframe:
 * @header: a parsed header
 *
 * Returns: %TRUE for a Pixels frame and for a DeltaPixels or EncodedVideo
 * frame with FLAG_KEYFRAME (decodable without a reference)
 */
gboolean
ds_header_is_picture_keyframe (const DsHeader * header)
{
  g_return_val_if_fail (header != NULL, FALSE);

  if (header->flags & DS_FLAG_INPUT)
    return FALSE;
  return header->type == DS_FRAME_PIXELS ||
      ((header->type == DS_FRAME_DELTA_PIXELS ||
          header->type == DS_FRAME_ENCODED_VIDEO) &&
      (header->flags & DS_FLAG_KEYFRAME) != 0);
}

/**
 * ds_codec_is_known:
 * @codec: the codec byte of an EncodedVideo payload
 *
 * Returns: %TRUE when @codec is one of #DsCodec
 */
gboolean
ds_codec_is_known (guint8 codec)
{
  return codec >= DS_CODEC_H264 && codec <= DS_CODEC_AV1;
}

/**
 * ds_codec_name:
 * @codec: the codec byte of an EncodedVideo payload
 *
 * Returns: the static name of the codec ("H.264", "AV1", ...) or "Unknown"
 */
const gchar *
ds_codec_name (guint8 codec)
{
  switch (codec) {
    case DS_CODEC_H264:
      return "H.264";
    case DS_CODEC_H265:
      return "H.265";
    case DS_CODEC_VP8:
      return "VP8";
    case DS_CODEC_VP9:
      return "VP9";
    case DS_CODEC_AV1:
      return "AV1";
    default:
      return "Unknown";
  }
}

/**
 * ds_encoded_video_parse:
 * @payload: (array length=len): an EncodedVideo payload
 * @len: its length
 * @codec: (out) (optional): the codec byte
 * @unit: (out) (optional) (transfer none): the access unit, inside @payload
 * @unit_len: (out) (optional): its length, at least 1
 * @error: return location for a #GError, or %NULL
 *
 * Reads the two-byte prefix of an EncodedVideo payload: a known codec, a
 * reserved byte of 0, and at least one byte of access unit after them.
 *
 * Returns: %TRUE when the payload is one (%DS_PROTOCOL_ERROR_BAD_PAYLOAD
 * otherwise)
 */
gboolean
ds_encoded_video_parse (const guint8 * payload, gsize len, guint8 * codec,
    const guint8 ** unit, gsize * unit_len, GError ** error)
{
  if (len < DS_ENCODED_VIDEO_PREFIX_SIZE + 1) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "EncodedVideo payload of %" G_GSIZE_FORMAT " bytes: needs the codec, "
        "the reserved byte and at least one byte of access unit", len);
    return FALSE;
  }
  if (!ds_codec_is_known (payload[0])) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "EncodedVideo with unknown codec %u", payload[0]);
    return FALSE;
  }
  if (payload[1] != 0) {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "EncodedVideo with reserved byte %u (must be 0)", payload[1]);
    return FALSE;
  }
  if (codec)
    *codec = payload[0];
  if (unit)
    *unit = payload + DS_ENCODED_VIDEO_PREFIX_SIZE;
  if (unit_len)
    *unit_len = len - DS_ENCODED_VIDEO_PREFIX_SIZE;
  return TRUE;
}
