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
 * libFuzzer target: the relay's own RFC 6455 framing (relay/relay-ws.c),
 * in-process. The input is what a client sends after the upgrade: it is
 * read by a RelayWs from a GMemoryInputStream (through a
 * GSimpleIOStream whose output is a GMemoryOutputStream), messages are
 * echoed back, and the default main context is iterated without
 * blocking until nothing is left to do. No socket, no timer waited for:
 * deterministic. Replayed by `meson test fuzz-relay-ws`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gio/gio.h>

#include "relay-ws.h"

/* below the relay's default, so that the too-big path is reachable too */
#define MAX_MESSAGE (1024 * 1024)

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

typedef struct
{
  gboolean closed;
  guint messages;
} FuzzState;

static void
on_message (RelayWs * ws, gboolean binary, GBytes * message, gpointer user_data)
{
  FuzzState *st = user_data;

  st->messages++;
  /* echo the first few, as the relay forwards them */
  if (st->messages <= 4)
    relay_ws_send (ws, binary ? RELAY_WS_OPCODE_BINARY : RELAY_WS_OPCODE_TEXT,
        message, st->messages % 2);
}

static void
on_closed (RelayWs * ws, gpointer user_data)
{
  FuzzState *st = user_data;

  st->closed = TRUE;
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  GInputStream *in;
  GOutputStream *out;
  GIOStream *io;
  RelayWs *ws;
  FuzzState st = { FALSE, 0 };
  guint i;

  in = g_memory_input_stream_new_from_data (g_memdup2 (data, size), size,
      g_free);
  out = g_memory_output_stream_new_resizable ();
  io = g_simple_io_stream_new (in, out);

  ws = relay_ws_new (io, MAX_MESSAGE, 0);
  relay_ws_set_callbacks (ws, on_message, on_closed, NULL, &st);
  relay_ws_start (ws);

  /* bounded: every iteration consumes input or drains output */
  for (i = 0; i < 100000 && !st.closed; i++) {
    if (!g_main_context_iteration (NULL, FALSE))
      break;
  }
  if (!st.closed)
    relay_ws_close (ws, RELAY_WS_CLOSE_GOING_AWAY, "fuzz end");
  for (i = 0; i < 1000; i++) {
    if (!g_main_context_iteration (NULL, FALSE))
      break;
  }
  relay_ws_get_bytes_in (ws);
  relay_ws_get_bytes_out (ws);
  relay_ws_free (ws);
  /* sources a closed RelayWs left behind run now, not in the next input */
  while (g_main_context_iteration (NULL, FALSE));

  g_object_unref (io);
  g_object_unref (in);
  g_object_unref (out);
  return 0;
}
