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
 * The ds-stream wire protocol (docs/protocol.md): the 16-byte frame header,
 * frame/input/flag codes, per-type payload validation, input-event
 * payloads, timestamp unwrapping and seq arithmetic, and the key-code table.
 *
 * This library depends on GLib only (plus json-glib for dssignal.h) and is
 * shared by the GStreamer elements and by ds-relay. Every parser takes a
 * length and never reads past it; malformed input is reported through a
 * GError in the DS_PROTOCOL_ERROR domain.
 */

#ifndef __DS_PROTOCOL_H__
#define __DS_PROTOCOL_H__

#include <glib.h>

G_BEGIN_DECLS

#define DS_HEADER_SIZE 16

/* The largest payload a u32 length can express; elements and the relay
 * apply their own, smaller limits. */
#define DS_MAX_PAYLOAD_LEN G_MAXUINT32

/* Default limit on one frame's payload: a 4K (3840x2160) RGBA picture is
 * 33177600 bytes; 64 MiB leaves room for 4K plus run-length worst cases. */
#define DS_DEFAULT_MAX_FRAME_BYTES (64 * 1024 * 1024)

typedef enum
{
  DS_FRAME_PIXELS = 0x01,
  DS_FRAME_COMPRESSED_PIXELS = 0x02,
  DS_FRAME_DELTA_PIXELS = 0x03,
  DS_FRAME_MOTION_DELTA_PIXELS = 0x04,
  DS_FRAME_ENCODED_VIDEO = 0x05,
  DS_FRAME_AUDIO_PCM = 0x10,
  DS_FRAME_AUDIO_COMPRESSED = 0x11,
  DS_FRAME_HAPTIC = 0x20,
  DS_FRAME_SIGNAL_SYNC = 0x30,
  DS_FRAME_SIGNAL_DIFF = 0x31,
  DS_FRAME_SCHEMA_ANNOUNCE = 0x32,
  DS_FRAME_SUBSCRIBE_FILTER = 0x33,
  DS_FRAME_NEURAL_FRAME = 0x40,
  DS_FRAME_NEURAL_AUDIO = 0x41,
  DS_FRAME_NEURAL_ACTUATOR = 0x42,
  DS_FRAME_NEURAL_LATENT = 0x43,
  DS_FRAME_KEYFRAME = 0xF0,
  DS_FRAME_PING = 0xFE,
  DS_FRAME_END = 0xFF,
} DsFrameType;

/* Input types: the header's type byte when DS_FLAG_INPUT is set. */
typedef enum
{
  DS_INPUT_POINTER = 0x01,
  DS_INPUT_POINTER_DOWN = 0x02,
  DS_INPUT_POINTER_UP = 0x03,
  DS_INPUT_KEY_DOWN = 0x10,
  DS_INPUT_KEY_UP = 0x11,
  DS_INPUT_TOUCH = 0x20,
  DS_INPUT_GAMEPAD_AXIS = 0x30,
  DS_INPUT_GAMEPAD_BUTTON = 0x31,
  DS_INPUT_MIDI = 0x40,
  DS_INPUT_SCROLL = 0x50,
  DS_INPUT_RESIZE = 0x60,
  DS_INPUT_KEYFRAME_REQUEST = 0x70,
  DS_INPUT_RECEIVER_COUNT = 0x71,
  DS_INPUT_RECEIVER_REPORT = 0x72,
  DS_INPUT_BCI = 0x90,
} DsInputType;

typedef enum
{
  DS_FLAG_INPUT = 1 << 0,
  DS_FLAG_KEYFRAME = 1 << 1,
  DS_FLAG_COMPRESSED = 1 << 2,
} DsFlags;

/* EncodedVideo (0x05) payload: u8 codec, u8 reserved (0), then one
 * access unit in decode order (docs/protocol.md §3) */
typedef enum
{
  DS_CODEC_H264 = 1,            /* Annex B access unit */
  DS_CODEC_H265 = 2,            /* Annex B access unit */
  DS_CODEC_VP8 = 3,             /* one frame */
  DS_CODEC_VP9 = 4,             /* one frame (a superframe as one) */
  DS_CODEC_AV1 = 5,             /* one temporal unit, low-overhead OBUs */
} DsCodec;

#define DS_ENCODED_VIDEO_PREFIX_SIZE 2

/* Pointer button bits (SPEC §4) */
#define DS_BUTTON_LEFT   (1 << 0)
#define DS_BUTTON_RIGHT  (1 << 1)
#define DS_BUTTON_MIDDLE (1 << 2)

/* Key modifier bits (SPEC §4) */
#define DS_MOD_SHIFT (1 << 0)
#define DS_MOD_CTRL  (1 << 1)
#define DS_MOD_ALT   (1 << 2)
#define DS_MOD_META  (1 << 3)

/* What kind of media a frame carries; decides pads, drop policy and
 * catch-up. */
typedef enum
{
  DS_MEDIA_NONE = 0,            /* control frames: Keyframe, Ping, End, ... */
  DS_MEDIA_VIDEO,               /* Pixels, DeltaPixels, MotionDeltaPixels,
                                 * EncodedVideo */
  DS_MEDIA_IMAGE,               /* CompressedPixels */
  DS_MEDIA_AUDIO,               /* AudioPcm, AudioCompressed */
  DS_MEDIA_SIGNAL,              /* SignalSync, SignalDiff, SchemaAnnounce */
  DS_MEDIA_OPAQUE,              /* Haptic, Neural* */
} DsMedia;

typedef struct
{
  guint8 type;
  guint8 flags;
  guint16 seq;
  guint32 timestamp;
  guint16 width;
  guint16 height;
  guint32 payload_len;
} DsHeader;

#define DS_PROTOCOL_ERROR (ds_protocol_error_quark ())
GQuark ds_protocol_error_quark (void);

typedef enum
{
  DS_PROTOCOL_ERROR_TRUNCATED,        /* fewer bytes than the header says */
  DS_PROTOCOL_ERROR_LENGTH_MISMATCH,  /* message length != 16 + payload_len */
  DS_PROTOCOL_ERROR_TOO_LARGE,        /* over a configured limit */
  DS_PROTOCOL_ERROR_UNKNOWN_TYPE,     /* type code not in SPEC */
  DS_PROTOCOL_ERROR_BAD_PAYLOAD,      /* payload does not fit its type */
  DS_PROTOCOL_ERROR_BAD_JSON,         /* signal payload is not a JSON object */
  DS_PROTOCOL_ERROR_SIZE_MISMATCH,    /* decoded size != width*height*4 */
  DS_PROTOCOL_ERROR_NO_REFERENCE,     /* delta without a reference picture */
  DS_PROTOCOL_ERROR_UNSUPPORTED,      /* e.g. FLAG_COMPRESSED without zstd */
} DsProtocolError;

/* Header */
void          ds_header_pack          (const DsHeader * header,
                                       guint8 out[DS_HEADER_SIZE]);

/* Parses the first 16 bytes of @data. Fails (TRUNCATED) if @len < 16. Does
 * not look at the payload. */
gboolean      ds_header_parse         (const guint8 * data,
                                       gsize len,
                                       DsHeader * header,
                                       GError ** error);

/* For one complete message (WebSocket): parses the header and checks
 * payload_len == @len - 16 (LENGTH_MISMATCH) and payload_len <=
 * @max_payload (TOO_LARGE; 0 = no limit). */
gboolean      ds_frame_parse_message  (const guint8 * data,
                                       gsize len,
                                       gsize max_payload,
                                       DsHeader * header,
                                       GError ** error);

/* Checks that @payload (of header->payload_len bytes) fits the frame or
 * input type: known type (else UNKNOWN_TYPE), Pixels size ==
 * width*height*4 computed in 64 bits with width and height > 0 (else
 * SIZE_MISMATCH / BAD_PAYLOAD), AudioPcm channels/rate > 0 and length a
 * multiple of 4*channels, AudioCompressed channels/rate > 0 and non-empty,
 * Haptic >= 3 bytes, CompressedPixels, DeltaPixels and the four signal types
 * non-empty, EncodedVideo width and height > 0, no FLAG_COMPRESSED, a
 * known codec, reserved byte 0 and at least one byte of access unit,
 * MotionDeltaPixels without FLAG_KEYFRAME and with a valid move
 * table (ds_motion_parse_moves(): O(move_count)), input frames
 * (FLAG_INPUT) exactly their layout's size (BCI: any; ReceiverReport:
 * 1..DS_RECEIVER_REPORT_MAX_PAYLOAD bytes of one UTF-8 JSON object,
 * checked with ds_json_check(), its members not); Neural*, Ping,
 * Keyframe and End may be empty. With FLAG_COMPRESSED sizes and tables
 * that depend on the decompressed payload are not checked. It does not
 * parse JSON (but for ReceiverReport's scan) and does not decode
 * run-length codes. */
gboolean      ds_frame_validate       (const DsHeader * header,
                                       const guint8 * payload,
                                       GError ** error);

/* Builds header + payload into one newly allocated block. header->payload_len
 * is taken from @payload_len. */
GBytes *      ds_frame_pack           (const DsHeader * header,
                                       gconstpointer payload,
                                       gsize payload_len);

gboolean      ds_frame_type_is_known  (guint8 type);
gboolean      ds_input_type_is_known  (guint8 type);
DsMedia       ds_frame_type_media     (guint8 type);

/* Static names ("Pixels", "PointerDown", ...), or "Unknown" */
const gchar * ds_frame_type_name      (guint8 type);
const gchar * ds_input_type_name      (guint8 type);

/* Input events (SPEC §4) */
typedef struct
{
  DsInputType type;
  union
  {
    struct { guint16 x, y; guint8 buttons; } pointer;  /* Pointer, PointerDown, PointerUp */
    struct { guint16 keycode; guint8 modifiers; } key; /* KeyDown, KeyUp */
    struct { guint8 id; guint16 x, y; } touch;
    struct { guint8 axis; gfloat value; } gamepad_axis;
    struct { guint8 button; guint8 pressed; } gamepad_button;
    struct { guint8 status, data1, data2; } midi;
    struct { gint16 dx, dy; } scroll;
    struct { guint16 width, height; } resize;
    struct { guint32 count; } receiver_count;
  };
} DsInputEvent;

#define DS_INPUT_MAX_PAYLOAD 8

/* Payload size of a fixed-size input type; -1 for unknown or opaque (BCI) */
gssize        ds_input_payload_size   (guint8 type);

/* Writes the payload of @event into @out (at least DS_INPUT_MAX_PAYLOAD
 * bytes) and returns its length. BCI has no fixed layout: returns 0. */
gsize         ds_input_event_pack     (const DsInputEvent * event,
                                       guint8 * out);

/* Parses an input payload. Fails for unknown types (UNKNOWN_TYPE), BCI
 * (opaque: UNSUPPORTED) and payloads shorter than the type's layout
 * (TRUNCATED), and a gamepad axis value that is not a number in -1..1
 * (BAD_PAYLOAD: NaN, infinities); extra trailing bytes are ignored
 * (forward compatibility; ds_frame_validate() is the strict check). The
 * gamepad axis value is an IEEE-754 float32, little-endian. */
gboolean      ds_input_event_parse    (guint8 type,
                                       const guint8 * payload,
                                       gsize len,
                                       DsInputEvent * event,
                                       GError ** error);

/* Builds a complete input frame (header with FLAG_INPUT + payload). */
GBytes *      ds_input_event_to_frame (const DsInputEvent * event,
                                       guint16 seq,
                                       guint32 timestamp);

/* ReceiverReport (0x72, relay -> source): a JSON object of at most
 * DS_RECEIVER_REPORT_MAX_PAYLOAD bytes, {"receivers":N,"kbps":{"min":..,
 * "median":..,"max":..},"dropped":..}; not a DsInputEvent (no fixed
 * layout): ds_input_event_parse() fails on it with UNSUPPORTED */
#define DS_RECEIVER_REPORT_MAX_PAYLOAD 4096

typedef struct
{
  guint32 receivers;            /* the channel's receivers */
  guint32 kbps_min;             /* delivered in the last second, kbit/s */
  guint32 kbps_median;
  guint32 kbps_max;
  guint32 dropped;              /* frames dropped for them in that second */
} DsReceiverReport;

/* The JSON text of @report (newly allocated, NUL-terminated) */
gchar *       ds_receiver_report_to_json   (const DsReceiverReport * report);

/* A complete ReceiverReport input frame */
GBytes *      ds_receiver_report_to_frame  (const DsReceiverReport * report,
                                            guint16 seq,
                                            guint32 timestamp);

/* Parses a ReceiverReport payload (ds_json_parse(), bounded): the four
 * members required, whole numbers 0..G_MAXUINT32 (kbps may have a
 * fraction: rounded), min <= median <= max; other members are ignored
 * (forward compatibility). BAD_JSON / BAD_PAYLOAD / TOO_LARGE otherwise. */
gboolean      ds_receiver_report_parse     (const guint8 * payload,
                                            gsize len,
                                            DsReceiverReport * report,
                                            GError ** error);

/* Timestamps: u32 milliseconds that wrap; unwrapped to 64 bits by
 * tracking the last value (a step back of less than 2^31 ms is treated as
 * reordering, not as a wrap). */
typedef struct
{
  gboolean started;
  guint32 last;
  guint64 epoch;                /* multiples of 2^32 added so far */
} DsTimestampUnwrapper;

void          ds_timestamp_unwrapper_init  (DsTimestampUnwrapper * u);
guint64       ds_timestamp_unwrap          (DsTimestampUnwrapper * u,
                                            guint32 ts);

/* Signed distance from @prev to @cur modulo 2^16: 1 means "next frame",
 * 0 a duplicate, > 1 frames lost, < 0 reordered/old. */
gint          ds_seq_distance              (guint16 prev,
                                            guint16 cur);

/* Key codes (SPEC §4: KeyboardEvent.keyCode) <-> X keysym names as used by
 * GstNavigation ("a", "Return", "Left", "F1", ...). Letters map to
 * lowercase names; unknown names give 0, unknown codes NULL. */
guint16       ds_keycode_from_name         (const gchar * name);
const gchar * ds_keycode_to_name           (guint16 keycode);

/* CompressedPixels: "image/png" or "image/webp" by signature, else NULL;
 * @width/@height (optional) get the picture size read from the PNG IHDR or
 * the first WebP chunk, or 0 when @len is too short to tell. */
const gchar * ds_image_sniff               (const guint8 * data,
                                            gsize len,
                                            gint * width,
                                            gint * height);

/* Haptic payload (u16 duration in ms, u8 intensity); fails (TRUNCATED)
 * when @len < 3, ignores bytes after the third. */
gboolean      ds_haptic_parse              (const guint8 * payload,
                                            gsize len,
                                            guint16 * duration_ms,
                                            guint8 * intensity,
                                            GError ** error);

/* The header-level checks of ds_frame_validate() (all of them: it reads
 * no payload bytes), for a byte-stream reader deciding whether 16 bytes
 * can be a frame header. */
gboolean      ds_header_validate           (const DsHeader * header,
                                            GError ** error);

/* A picture a receiver can show without any frame before it: Pixels,
 * DeltaPixels with FLAG_KEYFRAME, or EncodedVideo with FLAG_KEYFRAME */
gboolean      ds_header_is_picture_keyframe (const DsHeader * header);

/* EncodedVideo: TRUE for a known DsCodec */
gboolean      ds_codec_is_known            (guint8 codec);
/* Static names ("H.264", "VP8", ...), or "Unknown" */
const gchar * ds_codec_name                (guint8 codec);
/* Splits a validated EncodedVideo payload of @len bytes (ds_frame_validate())
 * into its codec and access unit; FALSE (BAD_PAYLOAD) when it is not one */
gboolean      ds_encoded_video_parse       (const guint8 * payload,
                                            gsize len,
                                            guint8 * codec,
                                            const guint8 ** unit,
                                            gsize * unit_len,
                                            GError ** error);

G_END_DECLS

#endif /* __DS_PROTOCOL_H__ */
