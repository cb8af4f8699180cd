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
/* Unit tests of the GStreamer-side helpers: frame buffers, the GstDsInput
 * event and the navigation <-> input mapping. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/video/navigation.h>

#include "gstdsutils.h"

GST_START_TEST (test_frame_buffer_zero_copy)
{
  GstBuffer *payload, *frame;
  GstMemory *mem0, *mem1;
  DsHeader h = { 0, }, parsed;
  GError *error = NULL;
  guint8 header_bytes[DS_HEADER_SIZE];
  guint8 *data;

  data = g_malloc (16);
  memset (data, 0x5a, 16);
  payload = gst_buffer_new_wrapped (data, 16);
  mem0 = gst_buffer_peek_memory (payload, 0);

  h.type = DS_FRAME_PIXELS;
  h.flags = DS_FLAG_KEYFRAME;
  h.seq = 3;
  h.timestamp = 40;
  h.width = 2;
  h.height = 2;
  frame = gst_ds_frame_buffer_new (&h, payload);

  fail_unless_equals_uint64 (h.payload_len, 16);
  fail_unless_equals_int (gst_buffer_n_memory (frame), 2);
  fail_unless_equals_int (gst_memory_get_sizes (gst_buffer_peek_memory (frame,
              0), NULL, NULL), DS_HEADER_SIZE);
  /* the very same memory, not a copy */
  fail_unless (gst_buffer_peek_memory (frame, 1) == mem0);
  fail_unless_equals_int (gst_buffer_get_size (frame), DS_HEADER_SIZE + 16);

  gst_buffer_extract (frame, 0, header_bytes, DS_HEADER_SIZE);
  fail_unless (ds_header_parse (header_bytes, DS_HEADER_SIZE, &parsed, NULL));
  fail_unless_equals_int (parsed.type, DS_FRAME_PIXELS);
  fail_unless_equals_int (parsed.seq, 3);
  fail_unless_equals_uint64 (parsed.payload_len, 16);

  fail_unless (gst_ds_frame_buffer_parse (frame, &parsed, &error));
  g_assert_no_error (error);
  fail_unless_equals_int (parsed.width, 2);

  /* the payload is still ours */
  gst_buffer_unref (payload);
  fail_unless (gst_buffer_peek_memory (frame, 1) == mem0);
  gst_buffer_unref (frame);

  /* a payload of several memories keeps them all */
  payload = gst_buffer_new ();
  mem0 = gst_allocator_alloc (NULL, 5, NULL);
  mem1 = gst_allocator_alloc (NULL, 7, NULL);
  gst_buffer_append_memory (payload, mem0);
  gst_buffer_append_memory (payload, mem1);
  frame = gst_ds_frame_buffer_new (&h, payload);
  fail_unless_equals_uint64 (h.payload_len, 12);
  fail_unless_equals_int (gst_buffer_n_memory (frame), 3);
  fail_unless (gst_buffer_peek_memory (frame, 1) == mem0);
  fail_unless (gst_buffer_peek_memory (frame, 2) == mem1);
  fail_unless (gst_ds_frame_buffer_parse (frame, &parsed, NULL));
  gst_buffer_unref (payload);
  gst_buffer_unref (frame);
}

GST_END_TEST;

GST_START_TEST (test_frame_buffer_empty_and_data)
{
  static const guint8 bytes[] = { 'h', 'i', '!' };
  DsHeader h = { 0, }, parsed;
  GstBuffer *frame;
  GstMapInfo map;

  h.type = DS_FRAME_END;
  h.payload_len = 99;
  frame = gst_ds_frame_buffer_new (&h, NULL);
  fail_unless_equals_uint64 (h.payload_len, 0);
  fail_unless_equals_int (gst_buffer_get_size (frame), DS_HEADER_SIZE);
  fail_unless (gst_ds_frame_buffer_parse (frame, &parsed, NULL));
  fail_unless_equals_int (parsed.type, DS_FRAME_END);
  gst_buffer_unref (frame);

  h.type = DS_FRAME_HAPTIC;
  frame = gst_ds_frame_buffer_new_data (&h, bytes, sizeof (bytes));
  fail_unless_equals_uint64 (h.payload_len, 3);
  fail_unless (gst_buffer_map (frame, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, DS_HEADER_SIZE + 3);
  fail_unless (memcmp (map.data + DS_HEADER_SIZE, bytes, 3) == 0);
  gst_buffer_unmap (frame, &map);
  gst_buffer_unref (frame);
}

GST_END_TEST;

GST_START_TEST (test_frame_buffer_parse_errors)
{
  DsHeader h = { 0, }, parsed;
  GError *error = NULL;
  GstBuffer *buf;
  guint8 bytes[DS_HEADER_SIZE];

  buf = gst_buffer_new_allocate (NULL, 10, NULL);
  fail_if (gst_ds_frame_buffer_parse (buf, &parsed, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TRUNCATED);
  g_clear_error (&error);
  gst_buffer_unref (buf);

  h.type = DS_FRAME_NEURAL_FRAME;
  h.payload_len = 5;
  ds_header_pack (&h, bytes);
  buf = gst_buffer_new_memdup (bytes, sizeof (bytes));
  fail_if (gst_ds_frame_buffer_parse (buf, &parsed, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_LENGTH_MISMATCH);
  g_clear_error (&error);
  gst_buffer_unref (buf);
}

GST_END_TEST;

GST_START_TEST (test_input_event)
{
  DsInputEvent in = { 0, }, out;
  GstEvent *event;
  const GstStructure *s;
  GBytes *payload = NULL;
  guint8 type = 0;
  const guint8 *data;
  gsize len;

  in.type = DS_INPUT_POINTER_DOWN;
  in.pointer.x = 300;
  in.pointer.y = 200;
  in.pointer.buttons = DS_BUTTON_LEFT;

  event = gst_ds_input_event_new (&in);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_CUSTOM_UPSTREAM);
  s = gst_event_get_structure (event);
  fail_unless (gst_structure_has_name (s, GST_DS_INPUT_EVENT_NAME));
  fail_unless (gst_structure_has_field_typed (s, "type", G_TYPE_UINT));
  fail_unless (gst_structure_has_field_typed (s, "payload", G_TYPE_BYTES));

  fail_unless (gst_ds_input_event_parse (event, &type, &payload));
  fail_unless_equals_int (type, DS_INPUT_POINTER_DOWN);
  data = g_bytes_get_data (payload, &len);
  fail_unless_equals_int (len, 5);
  fail_unless (ds_input_event_parse (type, data, len, &out, NULL));
  fail_unless_equals_int (out.pointer.x, 300);
  fail_unless_equals_int (out.pointer.y, 200);
  fail_unless_equals_int (out.pointer.buttons, DS_BUTTON_LEFT);
  g_bytes_unref (payload);
  gst_event_unref (event);

  /* raw, with no payload */
  event = gst_ds_input_event_new_raw (DS_INPUT_KEYFRAME_REQUEST, NULL);
  fail_unless (gst_ds_input_event_parse (event, &type, &payload));
  fail_unless_equals_int (type, DS_INPUT_KEYFRAME_REQUEST);
  fail_unless_equals_int (g_bytes_get_size (payload), 0);
  g_bytes_unref (payload);
  fail_unless (gst_ds_input_event_parse (event, NULL, NULL));
  gst_event_unref (event);

  /* not ours */
  event = gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
      gst_structure_new_empty ("other"));
  fail_if (gst_ds_input_event_parse (event, &type, &payload));
  gst_event_unref (event);
  event = gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
      gst_structure_new (GST_DS_INPUT_EVENT_NAME, "type", G_TYPE_UINT, 300,
          NULL));
  fail_if (gst_ds_input_event_parse (event, &type, &payload));
  gst_event_unref (event);
  event = gst_event_new_eos ();
  fail_if (gst_ds_input_event_parse (event, &type, &payload));
  gst_event_unref (event);
}

GST_END_TEST;

static GstNavigationModifierType
nav_state (GstEvent * event)
{
  GstNavigationModifierType state = 0;

  fail_unless (gst_navigation_event_parse_modifier_state (event, &state));
  return state;
}

GST_START_TEST (test_navigation_pointer)
{
  guint8 src_buttons = 0, sink_buttons = 0;
  DsInputEvent in;
  GstEvent *nav, *back;
  gdouble x, y;
  gint button;

  /* receiver side: move, press left, press right, move, release left */
  nav = gst_navigation_event_new_mouse_move (10.4, 20.6, 0);
  fail_unless (gst_ds_navigation_to_input (nav, &src_buttons, &in));
  fail_unless_equals_int (in.type, DS_INPUT_POINTER);
  fail_unless_equals_int (in.pointer.x, 10);
  fail_unless_equals_int (in.pointer.y, 21);
  fail_unless_equals_int (in.pointer.buttons, 0);
  gst_event_unref (nav);

  /* source side */
  back = gst_ds_input_to_navigation (&in, &sink_buttons);
  fail_unless_equals_int (gst_navigation_event_get_type (back),
      GST_NAVIGATION_EVENT_MOUSE_MOVE);
  fail_unless (gst_navigation_event_parse_mouse_move_event (back, &x, &y));
  fail_unless_equals_float (x, 10);
  fail_unless_equals_float (y, 21);
  gst_event_unref (back);

  nav = gst_navigation_event_new_mouse_button_press (1, 10, 21, 0);
  fail_unless (gst_ds_navigation_to_input (nav, &src_buttons, &in));
  fail_unless_equals_int (in.type, DS_INPUT_POINTER_DOWN);
  fail_unless_equals_int (in.pointer.buttons, DS_BUTTON_LEFT);
  gst_event_unref (nav);
  back = gst_ds_input_to_navigation (&in, &sink_buttons);
  fail_unless_equals_int (gst_navigation_event_get_type (back),
      GST_NAVIGATION_EVENT_MOUSE_BUTTON_PRESS);
  fail_unless (gst_navigation_event_parse_mouse_button_event (back, &button,
          &x, &y));
  fail_unless_equals_int (button, 1);
  fail_unless_equals_int (sink_buttons, DS_BUTTON_LEFT);
  gst_event_unref (back);

  /* GStreamer's button 3 is the right button: wire bit 1 */
  nav = gst_navigation_event_new_mouse_button_press (3, 11, 22,
      GST_NAVIGATION_MODIFIER_BUTTON1_MASK);
  fail_unless (gst_ds_navigation_to_input (nav, &src_buttons, &in));
  fail_unless_equals_int (in.type, DS_INPUT_POINTER_DOWN);
  fail_unless_equals_int (in.pointer.buttons, DS_BUTTON_LEFT | DS_BUTTON_RIGHT);
  gst_event_unref (nav);
  back = gst_ds_input_to_navigation (&in, &sink_buttons);
  fail_unless (gst_navigation_event_parse_mouse_button_event (back, &button,
          &x, &y));
  fail_unless_equals_int (button, 3);
  fail_unless_equals_float (x, 11);
  fail_unless_equals_float (y, 22);
  /* the state is the one before the press */
  fail_unless_equals_int (nav_state (back) &
      GST_NAVIGATION_MODIFIER_BUTTON1_MASK,
      GST_NAVIGATION_MODIFIER_BUTTON1_MASK);
  fail_unless_equals_int (nav_state (back) &
      GST_NAVIGATION_MODIFIER_BUTTON3_MASK, 0);
  gst_event_unref (back);

  /* a move with two buttons held */
  nav = gst_navigation_event_new_mouse_move (12, 23, 0);
  fail_unless (gst_ds_navigation_to_input (nav, &src_buttons, &in));
  fail_unless_equals_int (in.pointer.buttons, DS_BUTTON_LEFT | DS_BUTTON_RIGHT);
  gst_event_unref (nav);
  back = gst_ds_input_to_navigation (&in, &sink_buttons);
  fail_unless_equals_int (nav_state (back) &
      (GST_NAVIGATION_MODIFIER_BUTTON1_MASK |
          GST_NAVIGATION_MODIFIER_BUTTON3_MASK),
      GST_NAVIGATION_MODIFIER_BUTTON1_MASK |
      GST_NAVIGATION_MODIFIER_BUTTON3_MASK);
  gst_event_unref (back);

  /* release left: the right button is still held */
  nav = gst_navigation_event_new_mouse_button_release (1, 12, 23, 0);
  fail_unless (gst_ds_navigation_to_input (nav, &src_buttons, &in));
  fail_unless_equals_int (in.type, DS_INPUT_POINTER_UP);
  fail_unless_equals_int (in.pointer.buttons, DS_BUTTON_RIGHT);
  gst_event_unref (nav);
  back = gst_ds_input_to_navigation (&in, &sink_buttons);
  fail_unless_equals_int (gst_navigation_event_get_type (back),
      GST_NAVIGATION_EVENT_MOUSE_BUTTON_RELEASE);
  fail_unless (gst_navigation_event_parse_mouse_button_event (back, &button,
          &x, &y));
  fail_unless_equals_int (button, 1);
  fail_unless_equals_int (sink_buttons, DS_BUTTON_RIGHT);
  gst_event_unref (back);

  /* middle (GStreamer 2) is wire bit 2 */
  nav = gst_navigation_event_new_mouse_button_press (2, 0, 0, 0);
  fail_unless (gst_ds_navigation_to_input (nav, NULL, &in));
  fail_unless_equals_int (in.pointer.buttons, DS_BUTTON_MIDDLE);
  gst_event_unref (nav);

  /* buttons with no wire equivalent */
  nav = gst_navigation_event_new_mouse_button_press (4, 0, 0, 0);
  fail_if (gst_ds_navigation_to_input (nav, &src_buttons, &in));
  gst_event_unref (nav);

  /* coordinates are clamped */
  nav = gst_navigation_event_new_mouse_move (-5, 1e9, 0);
  fail_unless (gst_ds_navigation_to_input (nav, NULL, &in));
  fail_unless_equals_int (in.pointer.x, 0);
  fail_unless_equals_int (in.pointer.y, 65535);
  gst_event_unref (nav);

  /* with no tracked state, buttons come from the modifier state */
  nav = gst_navigation_event_new_mouse_move (1, 1,
      GST_NAVIGATION_MODIFIER_BUTTON2_MASK);
  fail_unless (gst_ds_navigation_to_input (nav, NULL, &in));
  fail_unless_equals_int (in.pointer.buttons, DS_BUTTON_MIDDLE);
  gst_event_unref (nav);
}

GST_END_TEST;

typedef struct
{
  const gchar *key;
  GstNavigationModifierType state;
  guint16 keycode;
  guint8 modifiers;
  const gchar *back_key;        /* NULL: @key */
  GstNavigationModifierType back_state;
} KeyNavCase;

static const KeyNavCase key_nav_cases[] = {
  {"a", 0, 65, 0, NULL, 0},
  {"A", GST_NAVIGATION_MODIFIER_SHIFT_MASK, 65, DS_MOD_SHIFT, "a",
      GST_NAVIGATION_MODIFIER_SHIFT_MASK},
  {"Return", GST_NAVIGATION_MODIFIER_CONTROL_MASK, 13, DS_MOD_CTRL, NULL,
      GST_NAVIGATION_MODIFIER_CONTROL_MASK},
  {"Left", GST_NAVIGATION_MODIFIER_MOD1_MASK, 37, DS_MOD_ALT, NULL,
      GST_NAVIGATION_MODIFIER_MOD1_MASK},
  {"F5", GST_NAVIGATION_MODIFIER_META_MASK, 116, DS_MOD_META, NULL,
      GST_NAVIGATION_MODIFIER_META_MASK},
  {"space", GST_NAVIGATION_MODIFIER_SUPER_MASK, 32, DS_MOD_META, NULL,
      GST_NAVIGATION_MODIFIER_META_MASK},
  {"7", GST_NAVIGATION_MODIFIER_SHIFT_MASK |
        GST_NAVIGATION_MODIFIER_CONTROL_MASK |
        GST_NAVIGATION_MODIFIER_MOD1_MASK | GST_NAVIGATION_MODIFIER_META_MASK,
        55, DS_MOD_SHIFT | DS_MOD_CTRL | DS_MOD_ALT | DS_MOD_META, NULL,
      GST_NAVIGATION_MODIFIER_SHIFT_MASK |
        GST_NAVIGATION_MODIFIER_CONTROL_MASK |
        GST_NAVIGATION_MODIFIER_MOD1_MASK | GST_NAVIGATION_MODIFIER_META_MASK},
  /* Caps Lock state and buttons are not key modifiers */
  {"Escape", GST_NAVIGATION_MODIFIER_LOCK_MASK |
        GST_NAVIGATION_MODIFIER_BUTTON1_MASK, 27, 0, NULL, 0},
};

GST_START_TEST (test_navigation_keys)
{
  const KeyNavCase *c = &key_nav_cases[__i__];
  DsInputEvent in;
  GstEvent *nav, *back;
  const gchar *key;
  guint pass;

  for (pass = 0; pass < 2; pass++) {
    gboolean press = pass == 0;

    nav = press ? gst_navigation_event_new_key_press (c->key, c->state) :
        gst_navigation_event_new_key_release (c->key, c->state);
    fail_unless (gst_ds_navigation_to_input (nav, NULL, &in));
    fail_unless_equals_int (in.type, press ? DS_INPUT_KEY_DOWN :
        DS_INPUT_KEY_UP);
    fail_unless_equals_int (in.key.keycode, c->keycode);
    fail_unless_equals_int (in.key.modifiers, c->modifiers);
    gst_event_unref (nav);

    back = gst_ds_input_to_navigation (&in, NULL);
    fail_unless (back != NULL);
    fail_unless_equals_int (gst_navigation_event_get_type (back),
        press ? GST_NAVIGATION_EVENT_KEY_PRESS :
        GST_NAVIGATION_EVENT_KEY_RELEASE);
    fail_unless (gst_navigation_event_parse_key_event (back, &key));
    fail_unless_equals_string (key, c->back_key ? c->back_key : c->key);
    fail_unless_equals_int (nav_state (back), c->back_state);
    gst_event_unref (back);
  }
}

GST_END_TEST;

GST_START_TEST (test_navigation_unmapped)
{
  DsInputEvent in = { 0, };
  GstEvent *nav;

  nav = gst_navigation_event_new_key_press ("XF86AudioPlay", 0);
  fail_if (gst_ds_navigation_to_input (nav, NULL, &in));
  gst_event_unref (nav);

  nav = gst_navigation_event_new_command (GST_NAVIGATION_COMMAND_MENU1);
  fail_if (gst_ds_navigation_to_input (nav, NULL, &in));
  gst_event_unref (nav);

  nav = gst_navigation_event_new_touch_frame (0);
  fail_if (gst_ds_navigation_to_input (nav, NULL, &in));
  gst_event_unref (nav);

  nav = gst_navigation_event_new_touch_up (1, 5, 5, 0);
  fail_if (gst_ds_navigation_to_input (nav, NULL, &in));
  gst_event_unref (nav);

  nav = gst_event_new_eos ();
  fail_if (gst_ds_navigation_to_input (nav, NULL, &in));
  gst_event_unref (nav);

  /* inputs with no navigation equivalent */
  in.type = DS_INPUT_RESIZE;
  fail_unless (gst_ds_input_to_navigation (&in, NULL) == NULL);
  in.type = DS_INPUT_GAMEPAD_AXIS;
  fail_unless (gst_ds_input_to_navigation (&in, NULL) == NULL);
  in.type = DS_INPUT_MIDI;
  fail_unless (gst_ds_input_to_navigation (&in, NULL) == NULL);
  in.type = DS_INPUT_KEYFRAME_REQUEST;
  fail_unless (gst_ds_input_to_navigation (&in, NULL) == NULL);
  in.type = DS_INPUT_KEY_DOWN;
  in.key.keycode = 255;
  fail_unless (gst_ds_input_to_navigation (&in, NULL) == NULL);
}

GST_END_TEST;

typedef struct
{
  gdouble nav_dx, nav_dy;
  gint16 dx, dy;
  gdouble back_dx, back_dy;
} ScrollCase;

static const ScrollCase scroll_cases[] = {
  /* GTK: 20 per notch, delta_y > 0 is up; the wire's dy > 0 is down */
  {0, 20, 0, -20, 0, 20},
  {0, -20, 0, 20, 0, -20},
  {20, 0, 20, 0, 20, 0},
  /* Qt: 120 per notch */
  {-120, 120, -120, -120, -120, 120},
  /* rounding */
  {0.4, -0.6, 0, 1, 0, -1},
  /* clamping */
  {1e6, 1e6, G_MAXINT16, G_MININT16, G_MAXINT16, -(gdouble) G_MININT16},
};

GST_START_TEST (test_navigation_scroll)
{
  const ScrollCase *c = &scroll_cases[__i__];
  DsInputEvent in;
  GstEvent *nav, *back;
  gdouble x, y, dx, dy;

  nav = gst_navigation_event_new_mouse_scroll (5, 6, c->nav_dx, c->nav_dy, 0);
  fail_unless (gst_ds_navigation_to_input (nav, NULL, &in));
  fail_unless_equals_int (in.type, DS_INPUT_SCROLL);
  fail_unless_equals_int (in.scroll.dx, c->dx);
  fail_unless_equals_int (in.scroll.dy, c->dy);
  gst_event_unref (nav);

  back = gst_ds_input_to_navigation (&in, NULL);
  fail_unless_equals_int (gst_navigation_event_get_type (back),
      GST_NAVIGATION_EVENT_MOUSE_SCROLL);
  fail_unless (gst_navigation_event_parse_mouse_scroll_event (back, &x, &y,
          &dx, &dy));
  fail_unless_equals_float (dx, c->back_dx);
  fail_unless_equals_float (dy, c->back_dy);
  gst_event_unref (back);
}

GST_END_TEST;

GST_START_TEST (test_navigation_touch)
{
  DsInputEvent in;
  GstEvent *nav, *back;
  gdouble x, y, pressure;
  guint id;

  nav = gst_navigation_event_new_touch_down (3, 100.2, 200.7, 0.5, 0);
  fail_unless (gst_ds_navigation_to_input (nav, NULL, &in));
  fail_unless_equals_int (in.type, DS_INPUT_TOUCH);
  fail_unless_equals_int (in.touch.id, 3);
  fail_unless_equals_int (in.touch.x, 100);
  fail_unless_equals_int (in.touch.y, 201);
  gst_event_unref (nav);

  back = gst_ds_input_to_navigation (&in, NULL);
  fail_unless_equals_int (gst_navigation_event_get_type (back),
      GST_NAVIGATION_EVENT_TOUCH_MOTION);
  fail_unless (gst_navigation_event_parse_touch_event (back, &id, &x, &y,
          &pressure));
  fail_unless_equals_int (id, 3);
  fail_unless_equals_float (x, 100);
  fail_unless_equals_float (y, 201);
  fail_unless (isnan (pressure));
  gst_event_unref (back);

  nav = gst_navigation_event_new_touch_motion (7, 1, 2, 1.0, 0);
  fail_unless (gst_ds_navigation_to_input (nav, NULL, &in));
  fail_unless_equals_int (in.type, DS_INPUT_TOUCH);
  fail_unless_equals_int (in.touch.id, 7);
  fail_unless_equals_int (in.touch.x, 1);
  fail_unless_equals_int (in.touch.y, 2);
  gst_event_unref (nav);

  /* identifiers beyond a u8 saturate */
  nav = gst_navigation_event_new_touch_motion (1000, 1, 2, 1.0, 0);
  fail_unless (gst_ds_navigation_to_input (nav, NULL, &in));
  fail_unless_equals_int (in.touch.id, 255);
  gst_event_unref (nav);
}

GST_END_TEST;

GST_START_TEST (test_input_structure)
{
  DsInputEvent in = { 0, };
  GstStructure *s;
  const gchar *str;
  guint u;
  gint i;
  gdouble d;
  gboolean b;

  in.type = DS_INPUT_POINTER_DOWN;
  in.pointer.x = 1;
  in.pointer.y = 2;
  in.pointer.buttons = DS_BUTTON_RIGHT;
  s = gst_ds_input_to_structure (&in);
  fail_unless (gst_structure_has_name (s, "ds-input"));
  fail_unless_equals_string (gst_structure_get_string (s, "type"),
      "pointer-down");
  fail_unless (gst_structure_get_uint (s, "code", &u));
  fail_unless_equals_int (u, DS_INPUT_POINTER_DOWN);
  fail_unless (gst_structure_get_uint (s, "x", &u) && u == 1);
  fail_unless (gst_structure_get_uint (s, "y", &u) && u == 2);
  fail_unless (gst_structure_get_uint (s, "buttons", &u) && u == 2);
  gst_structure_free (s);

  in.type = DS_INPUT_KEY_UP;
  in.key.keycode = 13;
  in.key.modifiers = DS_MOD_CTRL;
  s = gst_ds_input_to_structure (&in);
  fail_unless_equals_string (gst_structure_get_string (s, "type"), "key-up");
  fail_unless (gst_structure_get_uint (s, "keycode", &u) && u == 13);
  fail_unless (gst_structure_get_uint (s, "modifiers", &u) && u == 2);
  str = gst_structure_get_string (s, "key");
  fail_unless_equals_string (str, "Return");
  gst_structure_free (s);

  memset (&in, 0, sizeof (in));
  in.type = DS_INPUT_SCROLL;
  in.scroll.dx = -3;
  in.scroll.dy = 100;
  s = gst_ds_input_to_structure (&in);
  fail_unless (gst_structure_get_int (s, "dx", &i) && i == -3);
  fail_unless (gst_structure_get_int (s, "dy", &i) && i == 100);
  gst_structure_free (s);

  in.type = DS_INPUT_GAMEPAD_AXIS;
  in.gamepad_axis.axis = 1;
  in.gamepad_axis.value = -0.25f;
  s = gst_ds_input_to_structure (&in);
  fail_unless_equals_string (gst_structure_get_string (s, "type"),
      "gamepad-axis");
  fail_unless (gst_structure_get_double (s, "value", &d));
  fail_unless_equals_float (d, -0.25);
  gst_structure_free (s);

  in.type = DS_INPUT_GAMEPAD_BUTTON;
  in.gamepad_button.button = 4;
  in.gamepad_button.pressed = 1;
  s = gst_ds_input_to_structure (&in);
  fail_unless (gst_structure_get_boolean (s, "pressed", &b) && b);
  gst_structure_free (s);

  /* an analog trigger half way: pressed, value the byte / 255 */
  in.gamepad_button.pressed = 128;
  s = gst_ds_input_to_structure (&in);
  fail_unless (gst_structure_get_boolean (s, "pressed", &b) && b);
  fail_unless (gst_structure_get_double (s, "value", &d));
  fail_unless_equals_float (d, 128 / 255.0);
  gst_structure_free (s);
  in.gamepad_button.pressed = 255;
  s = gst_ds_input_to_structure (&in);
  fail_unless (gst_structure_get_double (s, "value", &d));
  fail_unless_equals_float (d, 1.0);
  gst_structure_free (s);
  in.gamepad_button.pressed = 0;
  s = gst_ds_input_to_structure (&in);
  fail_unless (gst_structure_get_boolean (s, "pressed", &b) && !b);
  fail_unless (gst_structure_get_double (s, "value", &d));
  fail_unless_equals_float (d, 0.0);
  gst_structure_free (s);

  memset (&in, 0, sizeof (in));
  in.type = DS_INPUT_RESIZE;
  in.resize.width = 800;
  in.resize.height = 600;
  s = gst_ds_input_to_structure (&in);
  fail_unless_equals_string (gst_structure_get_string (s, "type"), "resize");
  fail_unless (gst_structure_get_uint (s, "width", &u) && u == 800);
  fail_unless (gst_structure_get_uint (s, "height", &u) && u == 600);
  gst_structure_free (s);

  in.type = DS_INPUT_RECEIVER_COUNT;
  in.receiver_count.count = 42;
  s = gst_ds_input_to_structure (&in);
  fail_unless_equals_string (gst_structure_get_string (s, "type"),
      "receiver-count");
  fail_unless (gst_structure_get_uint (s, "count", &u) && u == 42);
  gst_structure_free (s);

  in.type = DS_INPUT_TOUCH;
  in.touch.id = 2;
  in.touch.x = 5;
  in.touch.y = 6;
  s = gst_ds_input_to_structure (&in);
  fail_unless (gst_structure_get_uint (s, "id", &u) && u == 2);
  gst_structure_free (s);

  memset (&in, 0, sizeof (in));
  in.type = DS_INPUT_MIDI;
  in.midi.status = 0x90;
  in.midi.data1 = 60;
  in.midi.data2 = 100;
  s = gst_ds_input_to_structure (&in);
  fail_unless (gst_structure_get_uint (s, "status", &u) && u == 0x90);
  fail_unless (gst_structure_get_uint (s, "data2", &u) && u == 100);
  gst_structure_free (s);

  in.type = DS_INPUT_KEYFRAME_REQUEST;
  s = gst_ds_input_to_structure (&in);
  fail_unless_equals_string (gst_structure_get_string (s, "type"),
      "keyframe-request");
  fail_unless_equals_int (gst_structure_n_fields (s), 2);
  gst_structure_free (s);
}

GST_END_TEST;

static Suite *
gstdsutils_suite (void)
{
  Suite *s = suite_create ("gstdsutils");
  TCase *tc;

  tc = tcase_create ("buffers");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_frame_buffer_zero_copy);
  tcase_add_test (tc, test_frame_buffer_empty_and_data);
  tcase_add_test (tc, test_frame_buffer_parse_errors);

  tc = tcase_create ("events");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_input_event);
  tcase_add_test (tc, test_input_structure);

  tc = tcase_create ("navigation");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_navigation_pointer);
  tcase_add_loop_test (tc, test_navigation_keys, 0,
      G_N_ELEMENTS (key_nav_cases));
  tcase_add_loop_test (tc, test_navigation_scroll, 0,
      G_N_ELEMENTS (scroll_cases));
  tcase_add_test (tc, test_navigation_touch);
  tcase_add_test (tc, test_navigation_unmapped);

  return s;
}

GST_CHECK_MAIN (gstdsutils);
