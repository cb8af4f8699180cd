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


#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "relay-http-request.h"

#define WEBSOCKET_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* RFC 9110 §5.6.2 token characters */
static gboolean
relay_http_is_tchar (guchar c)
{
  if (g_ascii_isalnum (c))
    return TRUE;
  return c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed in a header value: VCHAR, SP, HTAB and obs-text */
static gboolean
relay_http_is_value_char (guchar c)
{
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

gsize
relay_http_head_length (const gchar * data, gsize len, gsize from)
{
  gsize i;

  for (i = from; i < len; i++) {
    /* never part of a head: cut here, for the parser to refuse at once */
    if (data[i] == '\0' || (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')))
      return i + 1;
    if (i >= 3 && data[i] == '\n' && data[i - 2] == '\n' && data[i - 3] == '\r')
      return i + 1;
  }
  return 0;
}

void
relay_http_request_free (RelayHttpRequest * request)
{
  guint i;

  if (request == NULL)
    return;
  g_free (request->method);
  g_free (request->path);
  g_free (request->query);
  for (i = 0; i < request->n_headers; i++) {
    g_free (request->headers[i].name);
    g_free (request->headers[i].value);
  }
  g_free (request);
}

const gchar *
relay_http_request_get_header (RelayHttpRequest * request, const gchar * name)
{
  guint i;

  for (i = 0; i < request->n_headers; i++) {
    if (g_ascii_strcasecmp (request->headers[i].name, name) == 0)
      return request->headers[i].value;
  }
  return NULL;
}

/* "METHOD SP origin-form SP HTTP/1.x"; @line has no CR or LF */
static gboolean
relay_http_parse_request_line (RelayHttpRequest * request, const gchar * line,
    gsize len, guint * status)
{
  gsize i = 0, start;
  const gchar *target, *question;
  gsize target_len;

  while (i < len && relay_http_is_tchar (line[i]))
    i++;
  if (i == 0 || i > 32 || i >= len || line[i] != ' ')
    goto bad_request;
  request->method = g_strndup (line, i);

  start = ++i;
  while (i < len && (guchar) line[i] > 0x20 && (guchar) line[i] < 0x7f)
    i++;
  if (i == start || i >= len || line[i] != ' ' || line[start] != '/')
    goto bad_request;
  target = line + start;
  target_len = i - start;
  i++;

  if (len - i != 8 || strncmp (line + i, "HTTP/", 5) != 0 ||
      !g_ascii_isdigit (line[i + 5]) || line[i + 6] != '.' ||
      !g_ascii_isdigit (line[i + 7]))
    goto bad_request;
  if (line[i + 5] != '1' || (line[i + 7] != '0' && line[i + 7] != '1')) {
    *status = 505;
    return FALSE;
  }
  request->minor_version = line[i + 7] - '0';

  question = memchr (target, '?', target_len);
  if (question) {
    request->path = g_strndup (target, question - target);
    request->query = g_strndup (question + 1,
        target_len - (question - target) - 1);
  } else {
    request->path = g_strndup (target, target_len);
  }
  return TRUE;

bad_request:
  *status = 400;
  return FALSE;
}

/* "name:OWS value OWS"; @line has no CR or LF */
static gboolean
relay_http_parse_header (RelayHttpRequest * request, const gchar * line,
    gsize len, guint * status)
{
  static const gchar *const single[] = { "Host", "Content-Length",
    "Transfer-Encoding"
  };
  gsize i = 0, value_start, value_end;
  RelayHttpHeader *header;
  guint k;

  while (i < len && relay_http_is_tchar (line[i]))
    i++;
  /* an empty name, whitespace before the colon, or an obs-fold line */
  if (i == 0 || i >= len || line[i] != ':') {
    *status = 400;
    return FALSE;
  }
  value_start = i + 1;
  while (value_start < len && (line[value_start] == ' ' ||
          line[value_start] == '\t'))
    value_start++;
  value_end = len;
  while (value_end > value_start && (line[value_end - 1] == ' ' ||
          line[value_end - 1] == '\t'))
    value_end--;
  for (k = value_start; k < value_end; k++) {
    if (!relay_http_is_value_char (line[k])) {
      *status = 400;
      return FALSE;
    }
  }

  if (request->n_headers == RELAY_HTTP_MAX_HEADERS) {
    *status = 431;
    return FALSE;
  }
  header = &request->headers[request->n_headers];
  header->name = g_strndup (line, i);
  for (k = 0; k < G_N_ELEMENTS (single); k++) {
    if (g_ascii_strcasecmp (header->name, single[k]) == 0 &&
        relay_http_request_get_header (request, single[k]) != NULL) {
      g_free (header->name);
      header->name = NULL;
      *status = 400;
      return FALSE;
    }
  }
  header->value = g_strndup (line + value_start, value_end - value_start);
  request->n_headers++;
  return TRUE;
}

RelayHttpRequest *
relay_http_request_parse (const gchar * data, gsize len, guint * status)
{
  RelayHttpRequest *request;
  gsize pos = 0, i;
  gboolean first = TRUE;

  *status = 400;
  if (len < 4 || len > RELAY_HTTP_MAX_HEAD) {
    if (len > RELAY_HTTP_MAX_HEAD)
      *status = 431;
    return NULL;
  }
  if (memcmp (data + len - 4, "\r\n\r\n", 4) != 0)
    return NULL;
  /* no NUL or other control byte but HTAB; CR only before LF, LF only
   * after CR */
  for (i = 0; i < len; i++) {
    guchar c = data[i];

    if (c == '\r') {
      if (i + 1 >= len || data[i + 1] != '\n')
        return NULL;
    } else if (c == '\n') {
      if (i == 0 || data[i - 1] != '\r')
        return NULL;
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return NULL;
    }
  }

  request = g_new0 (RelayHttpRequest, 1);
  while (pos < len - 2) {
    const gchar *line = data + pos;
    const gchar *end = memchr (line, '\r', len - pos);
    gsize line_len = end - line;
    gboolean ok;

    if (first)
      ok = relay_http_parse_request_line (request, line, line_len, status);
    else
      ok = relay_http_parse_header (request, line, line_len, status);
    if (!ok) {
      relay_http_request_free (request);
      return NULL;
    }
    first = FALSE;
    pos += line_len + 2;
  }
  /* HTTP/1.1 requires Host (RFC 9112 §3.2) */
  if (first || (request->minor_version == 1 &&
          relay_http_request_get_header (request, "Host") == NULL)) {
    *status = 400;
    relay_http_request_free (request);
    return NULL;
  }
  *status = 0;
  return request;
}

gboolean
relay_http_list_has_token (const gchar * value, const gchar * token)
{
  gsize token_len = strlen (token);
  const gchar *p = value;

  if (value == NULL)
    return FALSE;
  while (*p) {
    const gchar *end;
    gsize n;

    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    end = p;
    while (*end && *end != ',')
      end++;
    n = end - p;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
      n--;
    if (n == token_len && g_ascii_strncasecmp (p, token, n) == 0)
      return TRUE;
    p = end;
  }
  return FALSE;
}

/* Decodes @len bytes of a form component into a new string; NULL on a bad
 * escape. *@nul is set when the result holds a NUL. */
static gchar *
relay_http_form_decode (const gchar * text, gsize len, gboolean * nul)
{
  gchar *out = g_malloc (len + 1);
  gsize i, o = 0;

  *nul = FALSE;
  for (i = 0; i < len; i++) {
    gchar c = text[i];

    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (len - i < 3 || !g_ascii_isxdigit (text[i + 1]) ||
          !g_ascii_isxdigit (text[i + 2])) {
        g_free (out);
        return NULL;
      }
      c = (gchar) ((g_ascii_xdigit_value (text[i + 1]) << 4) |
          g_ascii_xdigit_value (text[i + 2]));
      i += 2;
      if (c == '\0')
        *nul = TRUE;
    }
    out[o++] = c;
  }
  out[o] = '\0';
  return out;
}

gboolean
relay_http_query_lookup (const gchar * query, const gchar * key, gchar ** value)
{
  const gchar *p = query;

  *value = NULL;
  if (query == NULL)
    return TRUE;
  while (*p) {
    const gchar *end = strchr (p, '&');
    const gchar *equals;
    gsize pair_len;
    gchar *name;
    gboolean nul;

    if (end == NULL)
      end = p + strlen (p);
    pair_len = end - p;
    equals = memchr (p, '=', pair_len);
    name = relay_http_form_decode (p, equals ? (gsize) (equals - p) : pair_len,
        &nul);
    if (name == NULL)
      goto bad;
    if (!nul && strcmp (name, key) == 0) {
      gchar *decoded;

      g_free (name);
      if (*value != NULL)
        goto bad;               /* twice: ambiguous */
      decoded = equals ? relay_http_form_decode (equals + 1,
          end - equals - 1, &nul) : g_strdup ("");
      if (decoded == NULL || nul) {
        g_free (decoded);
        goto bad;
      }
      *value = decoded;
    } else {
      gchar *other = equals ? relay_http_form_decode (equals + 1,
          end - equals - 1, &nul) : NULL;

      g_free (name);
      /* every escape is checked, not only those of @key */
      if (equals && other == NULL)
        goto bad;
      g_free (other);
    }
    p = *end ? end + 1 : end;
  }
  return TRUE;

bad:
  g_clear_pointer (value, g_free);
  return FALSE;
}

gchar *
relay_http_websocket_accept (const gchar * key)
{
  GChecksum *sha1;
  guint8 digest[20];
  gsize digest_len = sizeof (digest);
  gsize i;

  /* base64 of 16 bytes: 22 characters and "==" */
  if (key == NULL || strlen (key) != 24 || strcmp (key + 22, "==") != 0)
    return NULL;
  for (i = 0; i < 22; i++) {
    if (!g_ascii_isalnum (key[i]) && key[i] != '+' && key[i] != '/')
      return NULL;
  }
  /* the last character carries 2 bits: the 4 unused ones must be 0 */
  if (strchr ("AQgw", key[21]) == NULL)
    return NULL;

  sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, (const guchar *) key, 24);
  g_checksum_update (sha1, (const guchar *) WEBSOCKET_GUID,
      strlen (WEBSOCKET_GUID));
  g_checksum_get_digest (sha1, digest, &digest_len);
  g_checksum_free (sha1);
  return g_base64_encode (digest, digest_len);
}
