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
 * libFuzzer harness for ds-relay's HTTP request handling
 * (relay/relay-http-request.c), driven in-process. The input is used as:
 * - the bytes a client sent: the head is found as the relay finds it
 *   (relay_http_head_length() within RELAY_HTTP_MAX_HEAD), then parsed;
 *   every header of a parsed request is looked up, the Connection and
 *   Upgrade lists are searched, the token is decoded from the query and
 *   Sec-WebSocket-Key is checked and answered;
 * - the whole input as a query string and as a WebSocket key.
 *
 * Build (the sources it needs):
 *   clang -fsanitize=fuzzer,address,undefined -Irelay \
 *     tests/fuzz/fuzz-relay-http.c relay/relay-http-request.c \
 *     $(pkg-config --cflags --libs glib-2.0)
 * Seeds: tests/fuzz/corpus/relay-http/.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "relay-http-request.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static void
fuzz_request (const gchar * data, gsize size)
{
  RelayHttpRequest *request;
  gsize head_len = relay_http_head_length (data, MIN (size,
          RELAY_HTTP_MAX_HEAD), 0);
  guint status = 0;
  gchar *token = NULL;
  gchar *accept;
  guint i;

  /* found in two steps, as bytes arrive, it is the same */
  if (size > 1)
    g_assert (head_len == (relay_http_head_length (data, size / 2, 0) ?
            relay_http_head_length (data, size / 2, 0) :
            relay_http_head_length (data, MIN (size, RELAY_HTTP_MAX_HEAD),
                size / 2)));
  /* also the head as it would be cut: what is there, unfinished */
  request = relay_http_request_parse (data, head_len ? head_len :
      MIN (size, RELAY_HTTP_MAX_HEAD + 1), &status);
  if (request == NULL) {
    g_assert (status == 400 || status == 431 || status == 505);
    return;
  }
  g_assert (status == 0);
  g_assert (request->path[0] == '/');
  g_assert (strchr (request->path, '?') == NULL);
  g_assert (request->n_headers <= RELAY_HTTP_MAX_HEADERS);
  for (i = 0; i < request->n_headers; i++) {
    const RelayHttpHeader *h = &request->headers[i];

    g_assert (h->name[0] != '\0');
    g_assert (relay_http_request_get_header (request, h->name) != NULL);
    g_assert (strchr (h->value, '\r') == NULL);
    g_assert (strchr (h->value, '\n') == NULL);
  }
  relay_http_list_has_token (relay_http_request_get_header (request,
          "Connection"), "upgrade");
  relay_http_list_has_token (relay_http_request_get_header (request,
          "Upgrade"), "websocket");
  if (relay_http_query_lookup (request->query, "token", &token) && token) {
    /* a decoded token is never cut by a NUL */
    g_assert (memchr (token, '\0', strlen (token)) == NULL);
    g_free (token);
  } else {
    g_assert (token == NULL);
  }
  accept = relay_http_websocket_accept (relay_http_request_get_header
      (request, "Sec-WebSocket-Key"));
  if (accept)
    g_assert (strlen (accept) == 28);
  g_free (accept);
  relay_http_request_free (request);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  gchar *text;
  gchar *value = NULL;
  gchar *accept;

  fuzz_request ((const gchar *) data, size);

  /* as a query string and a key (C strings: up to the first NUL) */
  text = g_strndup ((const gchar *) data, size);
  if (relay_http_query_lookup (text, "token", &value))
    g_free (value);
  else
    g_assert (value == NULL);
  accept = relay_http_websocket_accept (text);
  g_free (accept);
  g_free (text);
  return 0;
}
