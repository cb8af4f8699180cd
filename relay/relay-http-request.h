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
 * An HTTP/1.1 request head, parsed strictly (RFC 9112) by a pure
 * function: bytes in, method, target, query and headers out. Nothing is
 * read from a socket here; the caller bounds the head's size. What is
 * refused: bare LF, obs-fold, NUL and other control bytes, whitespace
 * before a header's colon, more than RELAY_HTTP_MAX_HEADERS header lines,
 * a target that is not origin-form, a version other than HTTP/1.0 or
 * HTTP/1.1, and repeated Host, Content-Length or Transfer-Encoding.
 */

#ifndef __RELAY_HTTP_REQUEST_H__
#define __RELAY_HTTP_REQUEST_H__

#include <glib.h>

G_BEGIN_DECLS

/* The largest request head read (request line, headers, final CRLF) */
#define RELAY_HTTP_MAX_HEAD (16 * 1024)
#define RELAY_HTTP_MAX_HEADERS 64

typedef struct
{
  gchar *name;
  gchar *value;
} RelayHttpHeader;

typedef struct
{
  gchar *method;
  gchar *path;                  /* the target before '?', not decoded */
  gchar *query;                 /* after '?', not decoded; NULL if none */
  guint minor_version;          /* HTTP/1.x */
  guint n_headers;
  RelayHttpHeader headers[RELAY_HTTP_MAX_HEADERS];
} RelayHttpRequest;

/* Length of the head in @data (up to and including the empty line), or 0
 * if @data holds no complete head yet. A byte that no head may hold (NUL,
 * LF without CR) ends the head too, so that it is refused at once. Only
 * bytes from @from on are looked at (those before were, and said 0). */
gsize               relay_http_head_length      (const gchar * data,
                                                 gsize len,
                                                 gsize from);

/* Parses the head @data[0..@len) (as found by relay_http_head_length()).
 * Returns NULL and sets *@status to the HTTP status to answer (400, 431,
 * 501, 505) when the head is malformed. */
RelayHttpRequest *  relay_http_request_parse    (const gchar * data,
                                                 gsize len,
                                                 guint * status);
void                relay_http_request_free     (RelayHttpRequest * request);

/* The value of header @name (case-insensitive), or NULL */
const gchar *       relay_http_request_get_header (RelayHttpRequest * request,
                                                 const gchar * name);

/* TRUE if the comma-separated list @value holds @token (case-insensitive) */
gboolean            relay_http_list_has_token   (const gchar * value,
                                                 const gchar * token);

/* Looks up @key in the query string @query (application/x-www-form-
 * urlencoded: '+' is a space, %XX a byte). Returns TRUE with *@value
 * (NULL if @key is absent) when the query is well formed; FALSE if it
 * holds a bad escape, or if the decoded value of @key holds a NUL. */
gboolean            relay_http_query_lookup     (const gchar * query,
                                                 const gchar * key,
                                                 gchar ** value);

/* The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2);
 * NULL unless @key is base64 of exactly 16 bytes */
gchar *             relay_http_websocket_accept (const gchar * key);

G_END_DECLS

#endif /* __RELAY_HTTP_REQUEST_H__ */
