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
 * GStreamer-side helpers shared by the ds-stream elements (gst/dsstream and
 * ext/dssoup): the caps name, frame buffers (header memory + shared payload
 * memory), the "GstDsInput" custom upstream event that carries input frames
 * between dsdepay, dsdelta, dsstreamsrc and dsrelaysink, and the mapping
 * between GstNavigation events and ds-stream input events.
 */

#ifndef __GST_DS_UTILS_H__
#define __GST_DS_UTILS_H__

#include <gst/gst.h>
#include <gst/base/gstadapter.h>
#include "dsprotocol.h"

G_BEGIN_DECLS

#define GST_DS_STREAM_MEDIA_TYPE "application/x-ds-stream"
#define GST_DS_SIGNAL_MEDIA_TYPE "application/x-ds-signal"

/* The structure name of the custom upstream event carrying one input
 * frame: fields "type" (guint, DsInputType), "payload" (GBytes). */
#define GST_DS_INPUT_EVENT_NAME "GstDsInput"

/* A frame buffer: memory 0 is the 16-byte header (its own memory), the
 * following memories are @payload's, shared (no copy). @payload may be
 * NULL (empty payload). header->payload_len is set from @payload.
 * @payload is not consumed: the caller keeps (and drops) its reference.
 * Timestamps/flags of the returned buffer are not set. */
GstBuffer *   gst_ds_frame_buffer_new      (DsHeader * header,
                                            GstBuffer * payload);

/* Same with the payload taken from @data (copied) */
GstBuffer *   gst_ds_frame_buffer_new_data (DsHeader * header,
                                            gconstpointer data,
                                            gsize len);

/* Parses the header of a buffer holding exactly one frame (checks
 * payload_len == size - 16). */
gboolean      gst_ds_frame_buffer_parse    (GstBuffer * buffer,
                                            DsHeader * header,
                                            GError ** error);

/* The bytes of a frame buffer, mapped for as long as the GBytes lives: no
 * copy for a buffer of one memory, one for several. NULL when it cannot
 * be mapped. */
GBytes *      gst_ds_buffer_to_bytes       (GstBuffer * buffer);

/* What a ds-stream's caps say it carries (their `media` field, as dspay
 * sets it): DS_MEDIA_NONE when they do not say (a mixed stream) */
DsMedia       gst_ds_caps_get_media        (const GstCaps * caps);

/* TRUE when @event may go upstream to a stream of @media: navigation
 * and GstForceKeyUnit go to pictures only (video, image, or a stream
 * whose caps do not say), every other event to any stream */
gboolean      gst_ds_media_takes_event     (DsMedia media,
                                            GstEvent * event);

/* A GstValueArray of strings (a list property, `"<a,b>"` on the command
 * line) to a NULL-terminated array without the empty strings: NULL when
 * none is left */
gchar **      gst_ds_value_array_to_strv   (const GValue * value);
/* and back: appends @strv (may be NULL) to the GstValueArray @value */
void          gst_ds_value_array_set_strv  (GValue * value,
                                            const gchar * const * strv);

/* The custom upstream event carrying an input frame */
GstEvent *    gst_ds_input_event_new       (const DsInputEvent * event);
GstEvent *    gst_ds_input_event_new_raw   (guint8 type,
                                            GBytes * payload);
gboolean      gst_ds_input_event_parse     (GstEvent * event,
                                            guint8 * type,
                                            GBytes ** payload);

/* GstNavigation event -> input event. Returns FALSE for navigation events
 * with no ds-stream equivalent (commands, ...). Coordinates are rounded
 * and clamped to 0..65535; @buttons_state tracks held buttons across
 * calls (may be NULL: buttons then come from the event's modifier state).
 *
 * Mapping: GStreamer buttons 1/2/3 (left/middle/right) <-> DS_BUTTON_LEFT/
 * MIDDLE/RIGHT; PointerDown/Up carry the buttons held AFTER the event (as
 * PointerEvent.buttons). Key names <-> keycodes with ds_keycode_*();
 * modifiers Shift/Control/Mod1/(Meta|Super) <-> DS_MOD_SHIFT/CTRL/ALT/META.
 * Scroll: 1 navigation delta unit = 1 wire unit (browsers send ~100 per
 * wheel notch, GTK sinks 20, Qt 120), clamped to i16; wire dy > 0 means
 * down (WheelEvent) while GStreamer delta_y > 0 means up, so dy is
 * negated, dx kept. Touch: touch-down and touch-motion -> Touch (the wire
 * has no touch phase; touch-up/frame/cancel have no equivalent). */
gboolean      gst_ds_navigation_to_input   (GstEvent * navigation,
                                            guint8 * buttons_state,
                                            DsInputEvent * out);

/* Input event -> GstNavigation event (pointer, buttons, keys, scroll,
 * touch), or NULL when it has none (resize, gamepad, midi, ...). Scroll
 * events are made at (0, 0) (the wire has no position); Touch becomes a
 * touch-motion event with pressure NAN. */
GstEvent *    gst_ds_input_to_navigation   (const DsInputEvent * event,
                                            guint8 * buttons_state);

/* An element-message structure ("ds-input") carrying the event's fields,
 * for apps that react to input without a navigation-aware source. */
GstStructure * gst_ds_input_to_structure   (const DsInputEvent * event);

/* Byte streams of concatenated frames (a .ds recording read by filesrc, a
 * TCP stream), split and merged anywhere, cut back into frames. Used by
 * every element that accepts such a stream.
 *
 * Every header is checked with gst_ds_header_is_plausible() before its
 * payload is waited for, so a damaged or misaligned header cannot swallow
 * payload_len bytes of good frames; on an implausible header the framer
 * skips one byte at a time ("resyncing"). While resyncing, junk can look
 * like a header: a candidate counts only when another plausible header
 * follows its frame, or when its frame ends the stream (@at_eos). */
typedef struct
{
  GstAdapter *adapter;
  gboolean resyncing;           /* skipping bytes that are not a frame */
} GstDsFramer;

typedef enum
{
  GST_DS_FRAMER_NEED_DATA,      /* no complete frame held */
  GST_DS_FRAMER_FRAME,          /* *header, *payload and *pts are set */
  GST_DS_FRAMER_JUNK,           /* a run of non-frame bytes starts here:
                                 * *header is the rejected header; call
                                 * again to go on */
} GstDsFramerResult;

/* A header a sender could have written: a known type with a length that
 * fits it (ds_header_validate()), no undefined flag bit, and a payload of
 * at most @max_payload bytes. */
gboolean      gst_ds_header_is_plausible   (const DsHeader * header,
                                            gsize max_payload);

void          gst_ds_framer_init           (GstDsFramer * framer);
void          gst_ds_framer_clear          (GstDsFramer * framer);

/* Drops the bytes held (an unfinished frame or junk) and leaves the
 * resyncing state; returns how many bytes were held. */
gsize         gst_ds_framer_flush          (GstDsFramer * framer);
gsize         gst_ds_framer_available      (GstDsFramer * framer);
void          gst_ds_framer_push           (GstDsFramer * framer,
                                            GstBuffer * buffer);

/* The next frame: *payload (NULL for an empty payload; the memory is
 * shared with the input where it lies in one input buffer) and *pts (the
 * PTS of the input buffer the frame starts at the beginning of, else
 * GST_CLOCK_TIME_NONE). @at_eos: no more bytes will come. */
GstDsFramerResult gst_ds_framer_next       (GstDsFramer * framer,
                                            gsize max_payload,
                                            gboolean at_eos,
                                            DsHeader * header,
                                            GstBuffer ** payload,
                                            GstClockTime * pts);

G_END_DECLS

#endif /* __GST_DS_UTILS_H__ */
