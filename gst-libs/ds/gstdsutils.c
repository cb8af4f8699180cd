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
 * SECTION:gstdsutils
 * @title: GstDsUtils
 * @short_description: GStreamer helpers for ds-stream elements
 *
 * Frame buffers (one frame per #GstBuffer: the 16-byte header in a memory
 * of its own, the payload's memories shared), the "GstDsInput" custom
 * upstream event, and the mapping between #GstNavigation events and
 * ds-stream input events.
 *
 * Navigation mapping decisions:
 *
 * - Buttons: GStreamer numbers them 1 = left, 2 = middle, 3 = right; the
 *   wire has bits (bit0 left, bit1 right, bit2 middle). Other buttons have
 *   no equivalent. A PointerDown/PointerUp carries the buttons held after
 *   the event, as a browser's PointerEvent.buttons does; the button that
 *   changed is found by comparing with the tracked state.
 * - Keys: navigation key names are X keysym names, mapped with
 *   ds_keycode_from_name() / ds_keycode_to_name(); names with no keyCode
 *   have no equivalent. Modifiers: Shift, Control, Mod1 (Alt) and
 *   Meta/Super map to the wire's shift, ctrl, alt and meta bits.
 * - Scroll: one navigation delta unit is one wire unit (clamped to i16).
 *   The wire follows the browser's WheelEvent (about 100 per wheel notch,
 *   dy > 0 scrolls down); GStreamer's delta_y > 0 is up (GTK sinks send 20
 *   per notch, Qt 120), so dy is negated and dx kept. The wire carries no
 *   position: scroll events are made at (0, 0).
 * - Touch: the wire's Touch (id, x, y) has no phase. Navigation touch-down
 *   and touch-motion both become Touch; touch-up, touch-frame and
 *   touch-cancel have no equivalent. A Touch becomes a touch-motion event
 *   (pressure NAN, "not available").
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>               /* isnan, NAN */
#include <string.h>

#include <gst/video/navigation.h>
#include <gst/video/video.h>

#include "gstdsutils.h"

#define DS_BUTTONS_MASK (DS_BUTTON_LEFT | DS_BUTTON_RIGHT | DS_BUTTON_MIDDLE)

static GstMemory *
header_memory_new (DsHeader * header)
{
  GstMemory *mem;
  GstMapInfo map;

  mem = gst_allocator_alloc (NULL, DS_HEADER_SIZE, NULL);
  gst_memory_map (mem, &map, GST_MAP_WRITE);
  ds_header_pack (header, map.data);
  gst_memory_unmap (mem, &map);

  return mem;
}

/**
 * gst_ds_frame_buffer_new:
 * @header: the frame's header; its payload_len is set from @payload
 * @payload: (transfer none) (nullable): the payload, or %NULL for none
 *
 * Builds a frame buffer: memory 0 is the 16-byte header, the following
 * memories are @payload's, shared (referenced, not copied). The caller
 * keeps its reference to @payload. Timestamps and flags are not set.
 *
 * Returns: (transfer full): the frame buffer
 */
GstBuffer *
gst_ds_frame_buffer_new (DsHeader * header, GstBuffer * payload)
{
  GstBuffer *buffer;
  gsize size = 0;

  g_return_val_if_fail (header != NULL, NULL);

  if (payload != NULL)
    size = gst_buffer_get_size (payload);
  g_return_val_if_fail ((guint64) size <= G_MAXUINT32, NULL);

  header->payload_len = (guint32) size;

  buffer = gst_buffer_new ();
  gst_buffer_append_memory (buffer, header_memory_new (header));

  if (size > 0) {
    guint i, n = gst_buffer_n_memory (payload);

    if (n + 1 <= gst_buffer_get_max_memory ()) {
      for (i = 0; i < n; i++)
        gst_buffer_append_memory (buffer,
            gst_memory_ref (gst_buffer_peek_memory (payload, i)));
    } else {
      /* more memories than a buffer holds: merge them (this copies) */
      gst_buffer_append_memory (buffer, gst_buffer_get_all_memory (payload));
    }
  }

  return buffer;
}

/**
 * gst_ds_frame_buffer_new_data:
 * @header: the frame's header; its payload_len is set from @len
 * @data: (array length=len) (nullable): the payload
 * @len: length of @data
 *
 * Like gst_ds_frame_buffer_new() with a copy of @data as the payload.
 *
 * Returns: (transfer full): the frame buffer
 */
GstBuffer *
gst_ds_frame_buffer_new_data (DsHeader * header, gconstpointer data, gsize len)
{
  GstBuffer *buffer, *payload = NULL;

  g_return_val_if_fail (header != NULL, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > 0)
    payload = gst_buffer_new_memdup (data, len);

  buffer = gst_ds_frame_buffer_new (header, payload);
  gst_clear_buffer (&payload);

  return buffer;
}

static void
gst_ds_buffer_unmap (GstMapInfo * map)
{
  GstBuffer *buffer = map->user_data[0];

  gst_buffer_unmap (buffer, map);
  gst_buffer_unref (buffer);
  g_free (map);
}

/**
 * gst_ds_buffer_to_bytes:
 * @buffer: a buffer
 *
 * The bytes of @buffer without a copy when it has one memory (several are
 * merged by gst_buffer_map(), one copy), kept mapped and referenced for
 * as long as the returned #GBytes lives.
 *
 * Returns: (transfer full) (nullable): the bytes, %NULL when @buffer
 * cannot be mapped
 */
GBytes *
gst_ds_buffer_to_bytes (GstBuffer * buffer)
{
  GstMapInfo *map = g_new0 (GstMapInfo, 1);

  if (!gst_buffer_map (buffer, map, GST_MAP_READ)) {
    g_free (map);
    return NULL;
  }
  map->user_data[0] = gst_buffer_ref (buffer);
  return g_bytes_new_with_free_func (map->data, map->size,
      (GDestroyNotify) gst_ds_buffer_unmap, map);
}

/**
 * gst_ds_frame_buffer_parse:
 * @buffer: a buffer holding exactly one frame
 * @header: (out): the parsed header
 * @error: return location for a #GError, or %NULL
 *
 * Parses the header of @buffer and checks that payload_len is the size of
 * @buffer minus 16 (%DS_PROTOCOL_ERROR_LENGTH_MISMATCH).
 *
 * Returns: %TRUE when @buffer is one well-framed frame
 */
gboolean
gst_ds_frame_buffer_parse (GstBuffer * buffer, DsHeader * header,
    GError ** error)
{
  guint8 data[DS_HEADER_SIZE];
  gsize size, got;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), FALSE);
  g_return_val_if_fail (header != NULL, FALSE);

  size = gst_buffer_get_size (buffer);
  got = gst_buffer_extract (buffer, 0, data, DS_HEADER_SIZE);

  if (!ds_header_parse (data, got, header, error))
    return FALSE;

  if ((guint64) header->payload_len != (guint64) (size - DS_HEADER_SIZE)) {
    g_set_error (error, DS_PROTOCOL_ERROR,
        DS_PROTOCOL_ERROR_LENGTH_MISMATCH,
        "header says %u payload bytes, buffer has %" G_GSIZE_FORMAT,
        header->payload_len, size - DS_HEADER_SIZE);
    return FALSE;
  }

  return TRUE;
}

/**
 * gst_ds_input_event_new:
 * @event: an input event
 *
 * Returns: (transfer full): a custom upstream event named
 * %GST_DS_INPUT_EVENT_NAME carrying @event's type and packed payload
 */
GstEvent *
gst_ds_input_event_new (const DsInputEvent * event)
{
  guint8 payload[DS_INPUT_MAX_PAYLOAD];
  GBytes *bytes;
  GstEvent *ev;
  gsize len;

  g_return_val_if_fail (event != NULL, NULL);

  len = ds_input_event_pack (event, payload);
  bytes = g_bytes_new (payload, len);
  ev = gst_ds_input_event_new_raw (event->type, bytes);
  g_bytes_unref (bytes);

  return ev;
}

/**
 * gst_ds_input_event_new_raw:
 * @type: the input type
 * @payload: (transfer none) (nullable): the input frame's payload
 *
 * Returns: (transfer full): a custom upstream event named
 * %GST_DS_INPUT_EVENT_NAME with fields "type" (guint) and "payload"
 * (#GBytes, empty when @payload is %NULL)
 */
GstEvent *
gst_ds_input_event_new_raw (guint8 type, GBytes * payload)
{
  GstStructure *s;
  GBytes *empty = NULL;

  if (payload == NULL)
    payload = empty = g_bytes_new (NULL, 0);

  s = gst_structure_new (GST_DS_INPUT_EVENT_NAME,
      "type", G_TYPE_UINT, (guint) type, "payload", G_TYPE_BYTES, payload,
      NULL);

  if (empty != NULL)
    g_bytes_unref (empty);

  return gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, s);
}

/**
 * gst_ds_input_event_parse:
 * @event: an event
 * @type: (out) (optional): the input type
 * @payload: (out) (optional) (transfer full): the payload
 *
 * Returns: %TRUE when @event is a well-formed "GstDsInput" event
 */
gboolean
gst_ds_input_event_parse (GstEvent * event, guint8 * type, GBytes ** payload)
{
  const GstStructure *s;
  const GValue *value;
  guint t;

  g_return_val_if_fail (GST_IS_EVENT (event), FALSE);

  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_UPSTREAM)
    return FALSE;

  s = gst_event_get_structure (event);
  if (s == NULL || !gst_structure_has_name (s, GST_DS_INPUT_EVENT_NAME))
    return FALSE;

  if (!gst_structure_get_uint (s, "type", &t) || t > G_MAXUINT8)
    return FALSE;

  value = gst_structure_get_value (s, "payload");
  if (value == NULL || !G_VALUE_HOLDS (value, G_TYPE_BYTES) ||
      g_value_get_boxed (value) == NULL)
    return FALSE;

  if (type)
    *type = (guint8) t;
  if (payload)
    *payload = g_bytes_ref (g_value_get_boxed (value));

  return TRUE;
}

static guint16
coord_to_u16 (gdouble v)
{
  if (isnan (v) || v <= 0)
    return 0;
  if (v >= G_MAXUINT16)
    return G_MAXUINT16;
  return (guint16) (v + 0.5);
}

static gint16
delta_to_i16 (gdouble v)
{
  if (isnan (v))
    return 0;
  if (v <= G_MININT16)
    return G_MININT16;
  if (v >= G_MAXINT16)
    return G_MAXINT16;
  /* the cast truncates toward zero: round half away from zero */
  return (gint16) (v >= 0 ? v + 0.5 : v - 0.5);
}

static guint8
button_bit_from_gst (gint button)
{
  switch (button) {
    case 1:
      return DS_BUTTON_LEFT;
    case 2:
      return DS_BUTTON_MIDDLE;
    case 3:
      return DS_BUTTON_RIGHT;
    default:
      return 0;
  }
}

static gint
button_bit_to_gst (guint8 bit)
{
  if (bit & DS_BUTTON_LEFT)
    return 1;
  if (bit & DS_BUTTON_MIDDLE)
    return 2;
  if (bit & DS_BUTTON_RIGHT)
    return 3;
  return 0;
}

static guint8
buttons_from_modifiers (GstNavigationModifierType state)
{
  guint8 buttons = 0;

  if (state & GST_NAVIGATION_MODIFIER_BUTTON1_MASK)
    buttons |= DS_BUTTON_LEFT;
  if (state & GST_NAVIGATION_MODIFIER_BUTTON2_MASK)
    buttons |= DS_BUTTON_MIDDLE;
  if (state & GST_NAVIGATION_MODIFIER_BUTTON3_MASK)
    buttons |= DS_BUTTON_RIGHT;

  return buttons;
}

static GstNavigationModifierType
buttons_to_modifiers (guint8 buttons)
{
  GstNavigationModifierType state = 0;

  if (buttons & DS_BUTTON_LEFT)
    state |= GST_NAVIGATION_MODIFIER_BUTTON1_MASK;
  if (buttons & DS_BUTTON_MIDDLE)
    state |= GST_NAVIGATION_MODIFIER_BUTTON2_MASK;
  if (buttons & DS_BUTTON_RIGHT)
    state |= GST_NAVIGATION_MODIFIER_BUTTON3_MASK;

  return state;
}

static guint8
keymods_from_modifiers (GstNavigationModifierType state)
{
  guint8 mods = 0;

  if (state & GST_NAVIGATION_MODIFIER_SHIFT_MASK)
    mods |= DS_MOD_SHIFT;
  if (state & GST_NAVIGATION_MODIFIER_CONTROL_MASK)
    mods |= DS_MOD_CTRL;
  if (state & GST_NAVIGATION_MODIFIER_MOD1_MASK)
    mods |= DS_MOD_ALT;
  if (state & (GST_NAVIGATION_MODIFIER_META_MASK |
          GST_NAVIGATION_MODIFIER_SUPER_MASK))
    mods |= DS_MOD_META;

  return mods;
}

static GstNavigationModifierType
keymods_to_modifiers (guint8 mods)
{
  GstNavigationModifierType state = 0;

  if (mods & DS_MOD_SHIFT)
    state |= GST_NAVIGATION_MODIFIER_SHIFT_MASK;
  if (mods & DS_MOD_CTRL)
    state |= GST_NAVIGATION_MODIFIER_CONTROL_MASK;
  if (mods & DS_MOD_ALT)
    state |= GST_NAVIGATION_MODIFIER_MOD1_MASK;
  if (mods & DS_MOD_META)
    state |= GST_NAVIGATION_MODIFIER_META_MASK;

  return state;
}

/**
 * gst_ds_navigation_to_input:
 * @navigation: a #GstNavigation event
 * @buttons_state: (inout) (nullable): the buttons held (DS_BUTTON_* bits),
 *   updated by pointer events; %NULL to take them from the event's
 *   modifier state instead
 * @out: (out): the input event
 *
 * Maps a navigation event to a ds-stream input event (see the section
 * documentation for the details). Coordinates are rounded and clamped to
 * 0..65535.
 *
 * Returns: %TRUE when @navigation has a ds-stream equivalent, written to
 * @out
 */
gboolean
gst_ds_navigation_to_input (GstEvent * navigation, guint8 * buttons_state,
    DsInputEvent * out)
{
  GstNavigationModifierType state = 0;
  gdouble x = 0, y = 0, dx = 0, dy = 0;
  const gchar *key = NULL;
  gint button = 0;
  guint id = 0;
  guint8 held, bit;

  g_return_val_if_fail (GST_IS_EVENT (navigation), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (GST_EVENT_TYPE (navigation) != GST_EVENT_NAVIGATION)
    return FALSE;

  gst_navigation_event_parse_modifier_state (navigation, &state);
  held = buttons_state ? *buttons_state : buttons_from_modifiers (state);

  memset (out, 0, sizeof (*out));

  switch (gst_navigation_event_get_type (navigation)) {
    case GST_NAVIGATION_EVENT_MOUSE_MOVE:
      if (!gst_navigation_event_parse_mouse_move_event (navigation, &x, &y))
        return FALSE;
      out->type = DS_INPUT_POINTER;
      out->pointer.x = coord_to_u16 (x);
      out->pointer.y = coord_to_u16 (y);
      out->pointer.buttons = held;
      return TRUE;
    case GST_NAVIGATION_EVENT_MOUSE_BUTTON_PRESS:
    case GST_NAVIGATION_EVENT_MOUSE_BUTTON_RELEASE:
      if (!gst_navigation_event_parse_mouse_button_event (navigation,
              &button, &x, &y))
        return FALSE;
      bit = button_bit_from_gst (button);
      if (bit == 0)
        return FALSE;
      if (gst_navigation_event_get_type (navigation) ==
          GST_NAVIGATION_EVENT_MOUSE_BUTTON_PRESS) {
        out->type = DS_INPUT_POINTER_DOWN;
        held |= bit;
      } else {
        out->type = DS_INPUT_POINTER_UP;
        held &= ~bit;
      }
      out->pointer.x = coord_to_u16 (x);
      out->pointer.y = coord_to_u16 (y);
      out->pointer.buttons = held;
      if (buttons_state)
        *buttons_state = held;
      return TRUE;
    case GST_NAVIGATION_EVENT_KEY_PRESS:
    case GST_NAVIGATION_EVENT_KEY_RELEASE:
      if (!gst_navigation_event_parse_key_event (navigation, &key))
        return FALSE;
      out->key.keycode = ds_keycode_from_name (key);
      if (out->key.keycode == 0)
        return FALSE;
      out->type = gst_navigation_event_get_type (navigation) ==
          GST_NAVIGATION_EVENT_KEY_PRESS ? DS_INPUT_KEY_DOWN : DS_INPUT_KEY_UP;
      out->key.modifiers = keymods_from_modifiers (state);
      return TRUE;
    case GST_NAVIGATION_EVENT_MOUSE_SCROLL:
      if (!gst_navigation_event_parse_mouse_scroll_event (navigation, &x, &y,
              &dx, &dy))
        return FALSE;
      out->type = DS_INPUT_SCROLL;
      out->scroll.dx = delta_to_i16 (dx);
      out->scroll.dy = delta_to_i16 (-dy);
      return TRUE;
    case GST_NAVIGATION_EVENT_TOUCH_DOWN:
    case GST_NAVIGATION_EVENT_TOUCH_MOTION:
      if (!gst_navigation_event_parse_touch_event (navigation, &id, &x, &y,
              NULL))
        return FALSE;
      out->type = DS_INPUT_TOUCH;
      out->touch.id = (guint8) MIN (id, G_MAXUINT8);
      out->touch.x = coord_to_u16 (x);
      out->touch.y = coord_to_u16 (y);
      return TRUE;
    default:
      return FALSE;
  }
}

/**
 * gst_ds_input_to_navigation:
 * @event: an input event
 * @buttons_state: (inout) (nullable): the buttons held (DS_BUTTON_* bits),
 *   used to find which button a PointerDown/PointerUp changed and updated
 *   by pointer events
 *
 * Maps a ds-stream input event to a #GstNavigation event (see the section
 * documentation for the details).
 *
 * Returns: (transfer full) (nullable): the navigation event, or %NULL for
 * input with no navigation equivalent (resize, gamepad, midi, keys with no
 * name, ...)
 */
GstEvent *
gst_ds_input_to_navigation (const DsInputEvent * event, guint8 * buttons_state)
{
  GstEvent *nav = NULL;
  const gchar *name;
  guint8 held, buttons, changed;
  gint button;

  g_return_val_if_fail (event != NULL, NULL);

  held = buttons_state ? *buttons_state : 0;

  switch (event->type) {
    case DS_INPUT_POINTER:
      buttons = event->pointer.buttons & DS_BUTTONS_MASK;
      nav = gst_navigation_event_new_mouse_move (event->pointer.x,
          event->pointer.y, buttons_to_modifiers (buttons));
      break;
    case DS_INPUT_POINTER_DOWN:
      buttons = event->pointer.buttons & DS_BUTTONS_MASK;
      changed = buttons & ~held;
      if (changed == 0)
        changed = buttons;
      button = button_bit_to_gst (changed);
      if (button == 0)
        button = 1;
      /* the state is the one before the press, as X and GDK report it */
      nav = gst_navigation_event_new_mouse_button_press (button,
          event->pointer.x, event->pointer.y, buttons_to_modifiers (held));
      break;
    case DS_INPUT_POINTER_UP:
      buttons = event->pointer.buttons & DS_BUTTONS_MASK;
      changed = held & ~buttons;
      button = button_bit_to_gst (changed);
      if (button == 0)
        button = 1;
      nav = gst_navigation_event_new_mouse_button_release (button,
          event->pointer.x, event->pointer.y, buttons_to_modifiers (held));
      break;
    case DS_INPUT_KEY_DOWN:
    case DS_INPUT_KEY_UP:
      name = ds_keycode_to_name (event->key.keycode);
      if (name == NULL)
        return NULL;
      if (event->type == DS_INPUT_KEY_DOWN)
        nav = gst_navigation_event_new_key_press (name,
            keymods_to_modifiers (event->key.modifiers));
      else
        nav = gst_navigation_event_new_key_release (name,
            keymods_to_modifiers (event->key.modifiers));
      return nav;
    case DS_INPUT_SCROLL:
      return gst_navigation_event_new_mouse_scroll (0, 0, event->scroll.dx,
          -(gdouble) event->scroll.dy, 0);
    case DS_INPUT_TOUCH:
      return gst_navigation_event_new_touch_motion (event->touch.id,
          event->touch.x, event->touch.y, NAN, 0);
    default:
      return NULL;
  }

  if (buttons_state)
    *buttons_state = buttons;

  return nav;
}

/* Names of the "type" field of "ds-input" messages */
static const gchar *
input_type_nick (DsInputType type)
{
  switch (type) {
    case DS_INPUT_POINTER:
      return "pointer";
    case DS_INPUT_POINTER_DOWN:
      return "pointer-down";
    case DS_INPUT_POINTER_UP:
      return "pointer-up";
    case DS_INPUT_KEY_DOWN:
      return "key-down";
    case DS_INPUT_KEY_UP:
      return "key-up";
    case DS_INPUT_TOUCH:
      return "touch";
    case DS_INPUT_GAMEPAD_AXIS:
      return "gamepad-axis";
    case DS_INPUT_GAMEPAD_BUTTON:
      return "gamepad-button";
    case DS_INPUT_MIDI:
      return "midi";
    case DS_INPUT_SCROLL:
      return "scroll";
    case DS_INPUT_RESIZE:
      return "resize";
    case DS_INPUT_KEYFRAME_REQUEST:
      return "keyframe-request";
    case DS_INPUT_RECEIVER_COUNT:
      return "receiver-count";
    case DS_INPUT_RECEIVER_REPORT:
      return "receiver-report";
    case DS_INPUT_BCI:
      return "bci";
    default:
      return "unknown";
  }
}

/**
 * gst_ds_input_to_structure:
 * @event: an input event
 *
 * Builds the structure of a "ds-input" element message: "type" (string:
 * "pointer", "pointer-down", "pointer-up", "key-down", "key-up", "touch",
 * "gamepad-axis", "gamepad-button", "midi", "scroll", "resize",
 * "keyframe-request", "receiver-count", "receiver-report", "bci"), "code" (guint, the wire
 * code) and the event's fields:
 *
 * - pointer*: "x", "y", "buttons" (guint);
 * - key-*: "keycode", "modifiers" (guint) and "key" (string, the keysym
 *   name, when the code has one);
 * - touch: "id", "x", "y" (guint);
 * - gamepad-axis: "axis" (guint: gamepad * 32 + axis, from the browser
 *   viewer), "value" (gdouble, -1..1);
 * - gamepad-button: "button" (guint: gamepad * 32 + button), "pressed"
 *   (gboolean: the wire byte is not 0), "value" (gdouble: the wire byte
 *   / 255, an analog trigger's travel; 1 for a digital button);
 * - midi: "status", "data1", "data2" (guint: a MIDI channel message,
 *   data2 0 for program change and channel pressure);
 * - scroll: "dx", "dy" (gint, wire units);
 * - resize: "width", "height" (guint);
 * - receiver-count: "count" (guint).
 *
 * Returns: (transfer full): the structure
 */
GstStructure *
gst_ds_input_to_structure (const DsInputEvent * event)
{
  GstStructure *s;
  const gchar *name;

  g_return_val_if_fail (event != NULL, NULL);

  s = gst_structure_new ("ds-input",
      "type", G_TYPE_STRING, input_type_nick (event->type),
      "code", G_TYPE_UINT, (guint) event->type, NULL);

  switch (event->type) {
    case DS_INPUT_POINTER:
    case DS_INPUT_POINTER_DOWN:
    case DS_INPUT_POINTER_UP:
      gst_structure_set (s, "x", G_TYPE_UINT, (guint) event->pointer.x,
          "y", G_TYPE_UINT, (guint) event->pointer.y,
          "buttons", G_TYPE_UINT, (guint) event->pointer.buttons, NULL);
      break;
    case DS_INPUT_KEY_DOWN:
    case DS_INPUT_KEY_UP:
      gst_structure_set (s, "keycode", G_TYPE_UINT, (guint) event->key.keycode,
          "modifiers", G_TYPE_UINT, (guint) event->key.modifiers, NULL);
      name = ds_keycode_to_name (event->key.keycode);
      if (name != NULL)
        gst_structure_set (s, "key", G_TYPE_STRING, name, NULL);
      break;
    case DS_INPUT_TOUCH:
      gst_structure_set (s, "id", G_TYPE_UINT, (guint) event->touch.id,
          "x", G_TYPE_UINT, (guint) event->touch.x,
          "y", G_TYPE_UINT, (guint) event->touch.y, NULL);
      break;
    case DS_INPUT_GAMEPAD_AXIS:
      gst_structure_set (s, "axis", G_TYPE_UINT,
          (guint) event->gamepad_axis.axis, "value", G_TYPE_DOUBLE,
          (gdouble) event->gamepad_axis.value, NULL);
      break;
    case DS_INPUT_GAMEPAD_BUTTON:
      gst_structure_set (s, "button", G_TYPE_UINT,
          (guint) event->gamepad_button.button, "pressed", G_TYPE_BOOLEAN,
          event->gamepad_button.pressed != 0, "value", G_TYPE_DOUBLE,
          event->gamepad_button.pressed / 255.0, NULL);
      break;
    case DS_INPUT_MIDI:
      gst_structure_set (s, "status", G_TYPE_UINT, (guint) event->midi.status,
          "data1", G_TYPE_UINT, (guint) event->midi.data1,
          "data2", G_TYPE_UINT, (guint) event->midi.data2, NULL);
      break;
    case DS_INPUT_SCROLL:
      gst_structure_set (s, "dx", G_TYPE_INT, (gint) event->scroll.dx,
          "dy", G_TYPE_INT, (gint) event->scroll.dy, NULL);
      break;
    case DS_INPUT_RESIZE:
      gst_structure_set (s, "width", G_TYPE_UINT,
          (guint) event->resize.width, "height", G_TYPE_UINT,
          (guint) event->resize.height, NULL);
      break;
    case DS_INPUT_RECEIVER_COUNT:
      gst_structure_set (s, "count", G_TYPE_UINT,
          (guint) event->receiver_count.count, NULL);
      break;
    case DS_INPUT_KEYFRAME_REQUEST:
    case DS_INPUT_BCI:
    default:
      break;
  }

  return s;
}

/* Byte-stream framing */

#define DS_KNOWN_FLAGS (DS_FLAG_INPUT | DS_FLAG_KEYFRAME | DS_FLAG_COMPRESSED)

gboolean
gst_ds_header_is_plausible (const DsHeader * header, gsize max_payload)
{
  g_return_val_if_fail (header != NULL, FALSE);

  if (header->payload_len > max_payload)
    return FALSE;
  if (header->flags & ~DS_KNOWN_FLAGS)
    return FALSE;
  return ds_header_validate (header, NULL);
}

void
gst_ds_framer_init (GstDsFramer * framer)
{
  framer->adapter = gst_adapter_new ();
  framer->resyncing = FALSE;
}

void
gst_ds_framer_clear (GstDsFramer * framer)
{
  g_clear_object (&framer->adapter);
  framer->resyncing = FALSE;
}

gsize
gst_ds_framer_flush (GstDsFramer * framer)
{
  gsize held = gst_adapter_available (framer->adapter);

  gst_adapter_clear (framer->adapter);
  framer->resyncing = FALSE;
  return held;
}

gsize
gst_ds_framer_available (GstDsFramer * framer)
{
  return gst_adapter_available (framer->adapter);
}

void
gst_ds_framer_push (GstDsFramer * framer, GstBuffer * buffer)
{
  gst_adapter_push (framer->adapter, buffer);
}

static void
framer_peek_header (GstDsFramer * framer, gsize offset, DsHeader * header)
{
  guint8 raw[DS_HEADER_SIZE];

  gst_adapter_copy (framer->adapter, raw, offset, DS_HEADER_SIZE);
  ds_header_parse (raw, DS_HEADER_SIZE, header, NULL);
}

GstDsFramerResult
gst_ds_framer_next (GstDsFramer * framer, gsize max_payload,
    gboolean at_eos, DsHeader * header, GstBuffer ** payload,
    GstClockTime * pts)
{
  GstAdapter *adapter = framer->adapter;

  g_return_val_if_fail (header != NULL && payload != NULL && pts != NULL,
      GST_DS_FRAMER_NEED_DATA);

  *payload = NULL;
  *pts = GST_CLOCK_TIME_NONE;

  for (;;) {
    gsize available = gst_adapter_available (adapter);
    gsize frame_size;
    guint64 distance;

    if (available < DS_HEADER_SIZE)
      return GST_DS_FRAMER_NEED_DATA;

    framer_peek_header (framer, 0, header);
    if (!gst_ds_header_is_plausible (header, max_payload)) {
      gboolean starts_junk = !framer->resyncing;

      framer->resyncing = TRUE;
      gst_adapter_flush (adapter, 1);
      if (starts_junk)
        return GST_DS_FRAMER_JUNK;
      continue;
    }

    frame_size = DS_HEADER_SIZE + (gsize) header->payload_len;
    if (framer->resyncing) {
      if (available >= frame_size + DS_HEADER_SIZE) {
        DsHeader next;

        framer_peek_header (framer, frame_size, &next);
        if (!gst_ds_header_is_plausible (&next, max_payload)) {
          gst_adapter_flush (adapter, 1);
          continue;
        }
      } else if (!at_eos) {
        /* wait for the header after this frame */
        return GST_DS_FRAMER_NEED_DATA;
      } else if (available != frame_size) {
        gst_adapter_flush (adapter, 1);
        continue;
      }
      framer->resyncing = FALSE;
    }

    if (available < frame_size)
      return GST_DS_FRAMER_NEED_DATA;

    *pts = gst_adapter_prev_pts (adapter, &distance);
    if (distance != 0)
      *pts = GST_CLOCK_TIME_NONE;
    gst_adapter_flush (adapter, DS_HEADER_SIZE);
    if (header->payload_len > 0)
      *payload = gst_adapter_take_buffer (adapter, header->payload_len);
    return GST_DS_FRAMER_FRAME;
  }
}

DsMedia
gst_ds_caps_get_media (const GstCaps * caps)
{
  const gchar *media;

  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return DS_MEDIA_NONE;
  media = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");
  if (media == NULL)
    return DS_MEDIA_NONE;
  if (g_str_equal (media, "video"))
    return DS_MEDIA_VIDEO;
  if (g_str_equal (media, "image"))
    return DS_MEDIA_IMAGE;
  if (g_str_equal (media, "audio"))
    return DS_MEDIA_AUDIO;
  if (g_str_equal (media, "signal"))
    return DS_MEDIA_SIGNAL;
  return DS_MEDIA_OPAQUE;
}

gboolean
gst_ds_media_takes_event (DsMedia media, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) != GST_EVENT_NAVIGATION &&
      !gst_video_event_is_force_key_unit (event))
    return TRUE;
  return media == DS_MEDIA_NONE || media == DS_MEDIA_VIDEO ||
      media == DS_MEDIA_IMAGE;
}

gchar **
gst_ds_value_array_to_strv (const GValue * value)
{
  guint i, n = gst_value_array_get_size (value);
  GPtrArray *names = g_ptr_array_new ();

  for (i = 0; i < n; i++) {
    const GValue *item = gst_value_array_get_value (value, i);
    const gchar *name = G_VALUE_HOLDS_STRING (item) ?
        g_value_get_string (item) : NULL;

    if (name != NULL && *name != '\0')
      g_ptr_array_add (names, g_strdup (name));
  }
  if (names->len == 0) {
    g_ptr_array_free (names, TRUE);
    return NULL;
  }
  g_ptr_array_add (names, NULL);
  return (gchar **) g_ptr_array_free (names, FALSE);
}

void
gst_ds_value_array_set_strv (GValue * value, const gchar * const *strv)
{
  for (; strv != NULL && *strv != NULL; strv++) {
    GValue item = G_VALUE_INIT;

    g_value_init (&item, G_TYPE_STRING);
    g_value_set_string (&item, *strv);
    gst_value_array_append_and_take_value (value, &item);
  }
}
