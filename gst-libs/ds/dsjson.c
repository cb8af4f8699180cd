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
 * SECTION:dsjson
 * @title: Bounded JSON
 * @short_description: the one entry for JSON from a socket or a file
 *
 * Every JSON text the project takes from outside (signal frames,
 * SubscribeFilter, SchemaAnnounce, JSON Lines into dspay) is read with
 * ds_json_parse(). It first runs a strict RFC 8259 scanner over the text,
 * iteratively (no recursion, one pass, no allocation but for integers
 * out of range, see below), and refuses:
 *
 * - a text longer than #DsJsonLimits.max_bytes, before reading it;
 * - nesting deeper than #DsJsonLimits.max_depth;
 * - more than #DsJsonLimits.max_members object members and array
 *   elements, counted at every level;
 * - anything that is not plain JSON: comments, single-quoted strings,
 *   trailing commas, bare words, control characters in strings, bad
 *   escapes, "\u0000" (the C strings json-glib builds would be cut
 *   there), invalid UTF-8, NUL bytes, anything after the value.
 *
 * One UTF-8 byte order mark at the start is skipped, as json-glib does;
 * json-glib is then given the text after it. So json-glib (whose parser
 * is recursive and which accepts comments) only ever parses a text the
 * scanner understood completely, within the bounds.
 *
 * Integers beyond the int64 range, which json-glib 1.6 silently wraps
 * (12345678901234567890 reads as a negative number), are read as doubles
 * as in JavaScript; numbers a double cannot hold (1e999) are refused.
 *
 * Errors: %DS_PROTOCOL_ERROR_TOO_LARGE when a bound is broken,
 * %DS_PROTOCOL_ERROR_BAD_JSON otherwise.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "dsprotocol.h"
#include "dsjson.h"

/**
 * ds_json_limits_init:
 * @limits: (out caller-allocates): limits to fill
 *
 * Fills @limits with the defaults: %DS_JSON_DEFAULT_MAX_BYTES (1 MiB),
 * %DS_JSON_DEFAULT_MAX_DEPTH (64) and %DS_JSON_DEFAULT_MAX_MEMBERS
 * (100000).
 */
void
ds_json_limits_init (DsJsonLimits * limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_bytes = DS_JSON_DEFAULT_MAX_BYTES;
  limits->max_depth = DS_JSON_DEFAULT_MAX_DEPTH;
  limits->max_members = DS_JSON_DEFAULT_MAX_MEMBERS;
}

typedef enum
{
  SCAN_VALUE,                   /* a value must follow */
  SCAN_VALUE_OR_CLOSE,          /* after '[' */
  SCAN_KEY,                     /* after ',' in an object */
  SCAN_KEY_OR_CLOSE,            /* after '{' */
  SCAN_AFTER_VALUE,
} ScanState;

typedef struct
{
  const gchar *json;
  gsize len;
  gsize pos;
  /* integer literals beyond int64: offsets of their ends, or NULL */
  GArray *bigints;
} Scanner;

static inline gboolean
is_ws (gchar c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void
skip_ws (Scanner * s)
{
  while (s->pos < s->len && is_ws (s->json[s->pos]))
    s->pos++;
}

static gint
hex_value (gchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* A string at s->pos (the opening quote). The text is known to be valid
 * UTF-8 without NUL bytes, so bytes >= 0x80 need no further check. */
static gboolean
scan_string (Scanner * s, const gchar ** why)
{
  gsize i = s->pos + 1;

  while (i < s->len) {
    guchar c = s->json[i];

    if (c == '"') {
      s->pos = i + 1;
      return TRUE;
    }
    if (c < 0x20) {
      *why = "control character in a string";
      return FALSE;
    }
    if (c != '\\') {
      i++;
      continue;
    }
    if (i + 1 >= s->len)
      break;
    switch (s->json[i + 1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        i += 2;
        break;
      case 'u':{
        guint code = 0, k;

        if (i + 6 > s->len)
          goto unterminated;
        for (k = 0; k < 4; k++) {
          gint h = hex_value (s->json[i + 2 + k]);

          if (h < 0) {
            *why = "bad \\u escape";
            return FALSE;
          }
          code = code * 16 + h;
        }
        if (code == 0) {
          *why = "\\u0000 in a string";
          return FALSE;
        }
        i += 6;
        break;
      }
      default:
        *why = "bad escape in a string";
        return FALSE;
    }
  }

unterminated:
  *why = "unterminated string";
  return FALSE;
}

/* TRUE when the integer literal of @n_digits digits at @digits (no sign,
 * no leading zeros) is beyond the int64 range */
static gboolean
integer_overflows (const gchar * digits, gsize n_digits, gboolean negative)
{
  const gchar *limit = negative ? "9223372036854775808" : "9223372036854775807";

  if (n_digits != 19)
    return n_digits > 19;

  return memcmp (digits, limit, 19) > 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean
scan_number (Scanner * s, const gchar ** why)
{
  const gchar *j = s->json;
  gsize i = s->pos, int_start, int_end;
  gboolean negative = FALSE, is_double = FALSE;

  if (j[i] == '-') {
    negative = TRUE;
    i++;
  }
  int_start = i;
  if (i < s->len && j[i] == '0') {
    i++;
  } else if (i < s->len && j[i] >= '1' && j[i] <= '9') {
    while (i < s->len && g_ascii_isdigit (j[i]))
      i++;
  } else {
    goto bad;
  }
  int_end = i;
  if (i < s->len && j[i] == '.') {
    is_double = TRUE;
    i++;
    if (i >= s->len || !g_ascii_isdigit (j[i]))
      goto bad;
    while (i < s->len && g_ascii_isdigit (j[i]))
      i++;
  }
  if (i < s->len && (j[i] == 'e' || j[i] == 'E')) {
    is_double = TRUE;
    i++;
    if (i < s->len && (j[i] == '+' || j[i] == '-'))
      i++;
    if (i >= s->len || !g_ascii_isdigit (j[i]))
      goto bad;
    while (i < s->len && g_ascii_isdigit (j[i]))
      i++;
  }

  if (!is_double && integer_overflows (j + int_start, int_end - int_start,
          negative) && s->bigints != NULL)
    g_array_append_val (s->bigints, i);

  s->pos = i;
  return TRUE;

bad:
  *why = "bad number";
  return FALSE;
}

static gboolean
scan_literal (Scanner * s, const gchar * word)
{
  gsize n = strlen (word);

  if (s->len - s->pos < n || memcmp (s->json + s->pos, word, n) != 0)
    return FALSE;
  s->pos += n;
  return TRUE;
}

typedef enum
{
  SCAN_OK,
  SCAN_BAD,
  SCAN_TOO_DEEP,
  SCAN_TOO_MANY,
} ScanResult;

/* The whole scan; *@why says what is wrong on SCAN_BAD */
static ScanResult
scan (Scanner * s, guint max_depth, guint max_members, guint * n_members,
    const gchar ** why)
{
  /* TRUE: object, FALSE: array */
  gboolean is_object[DS_JSON_MAX_DEPTH_CAP];
  ScanState state = SCAN_VALUE;
  guint depth = 0, members = 0;

  for (;;) {
    gchar c;

    skip_ws (s);
    if (s->pos >= s->len) {
      if (state == SCAN_AFTER_VALUE && depth == 0)
        break;
      *why = "unexpected end of the text";
      return SCAN_BAD;
    }
    c = s->json[s->pos];

    switch (state) {
      case SCAN_VALUE_OR_CLOSE:
        if (c == ']') {
          s->pos++;
          depth--;
          state = SCAN_AFTER_VALUE;
          continue;
        }
        /* fall through */
      case SCAN_VALUE:
        if (depth > 0 && !is_object[depth - 1]) {
          if (max_members > 0 && members >= max_members)
            return SCAN_TOO_MANY;
          members++;
        }
        if (c == '{' || c == '[') {
          if (depth >= max_depth)
            return SCAN_TOO_DEEP;
          is_object[depth++] = c == '{';
          s->pos++;
          state = c == '{' ? SCAN_KEY_OR_CLOSE : SCAN_VALUE_OR_CLOSE;
          continue;
        }
        if (c == '"') {
          if (!scan_string (s, why))
            return SCAN_BAD;
        } else if (c == '-' || g_ascii_isdigit (c)) {
          if (!scan_number (s, why))
            return SCAN_BAD;
        } else if (!scan_literal (s, "true") && !scan_literal (s, "false")
            && !scan_literal (s, "null")) {
          *why = c == '/' ? "comments are not JSON" : c == '\'' ?
              "single-quoted strings are not JSON" : "unexpected character";
          return SCAN_BAD;
        }
        state = SCAN_AFTER_VALUE;
        continue;
      case SCAN_KEY_OR_CLOSE:
        if (c == '}') {
          s->pos++;
          depth--;
          state = SCAN_AFTER_VALUE;
          continue;
        }
        /* fall through */
      case SCAN_KEY:
        if (c != '"') {
          *why = c == '/' ? "comments are not JSON" : "expected a member name";
          return SCAN_BAD;
        }
        if (max_members > 0 && members >= max_members)
          return SCAN_TOO_MANY;
        members++;
        if (!scan_string (s, why))
          return SCAN_BAD;
        skip_ws (s);
        if (s->pos >= s->len || s->json[s->pos] != ':') {
          *why = "expected ':'";
          return SCAN_BAD;
        }
        s->pos++;
        /* its value is not counted again (SCAN_VALUE counts array
         * elements only) */
        state = SCAN_VALUE;
        continue;
      case SCAN_AFTER_VALUE:
        if (depth == 0) {
          *why = c == '/' ? "comments are not JSON" :
              "text after the JSON value";
          return SCAN_BAD;
        }
        if (c == ',') {
          s->pos++;
          state = is_object[depth - 1] ? SCAN_KEY : SCAN_VALUE;
          continue;
        }
        if (c == (is_object[depth - 1] ? '}' : ']')) {
          s->pos++;
          depth--;
          continue;
        }
        *why = c == '/' ? "comments are not JSON" : "expected ',' or a close";
        return SCAN_BAD;
    }
  }

  if (n_members)
    *n_members = members;
  return SCAN_OK;
}

/* Checks everything but the scan itself; skips a BOM */
static gboolean
check_text (const gchar ** json, gsize * len, const DsJsonLimits * limits,
    GError ** error)
{
  if (limits->max_bytes > 0 && *len > limits->max_bytes)
    goto too_large;

  if (*len >= 3 && memcmp (*json, "\xef\xbb\xbf", 3) == 0) {
    *json += 3;
    *len -= 3;
  }

  if (*len == 0)
    goto empty;

  /* also refuses NUL bytes */
  if (*len > G_MAXSSIZE || !g_utf8_validate (*json, *len, NULL))
    goto bad_utf8;

  return TRUE;

  /* ERRORS */
too_large:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "JSON text of %" G_GSIZE_FORMAT " bytes is larger than the limit "
        "of %" G_GSIZE_FORMAT, *len, limits->max_bytes);
    return FALSE;
  }
empty:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "empty JSON text");
    return FALSE;
  }
bad_utf8:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "JSON text is not UTF-8 (or holds a NUL byte)");
    return FALSE;
  }
}

static gboolean
run_scan (Scanner * s, const DsJsonLimits * limits, guint * n_members,
    GError ** error)
{
  const gchar *why = "?";
  guint max_depth = CLAMP (limits->max_depth, 1, DS_JSON_MAX_DEPTH_CAP);

  switch (scan (s, max_depth, limits->max_members, n_members, &why)) {
    case SCAN_OK:
      return TRUE;
    case SCAN_TOO_DEEP:
      g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
          "JSON nested deeper than %u levels", max_depth);
      return FALSE;
    case SCAN_TOO_MANY:
      g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
          "JSON with more than %u members and elements", limits->max_members);
      return FALSE;
    case SCAN_BAD:
    default:
      g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
          "bad JSON at byte %" G_GSIZE_FORMAT ": %s", s->pos, why);
      return FALSE;
  }
}

/**
 * ds_json_check:
 * @json: (array length=len): the text, not necessarily nul-terminated
 * @len: length of @json in bytes
 * @limits: (nullable): bounds; %NULL: ds_json_limits_init()'s defaults
 * @n_members: (out) (optional): object members and array elements
 * @error: return location for a #GError, or %NULL
 *
 * Runs the scanner of ds_json_parse() alone: whether @json is one plain
 * JSON value (RFC 8259) within @limits. Linear in @len, no recursion.
 *
 * Returns: %TRUE when ds_json_parse() would hand @json to json-glib
 */
gboolean
ds_json_check (const gchar * json, gsize len, const DsJsonLimits * limits,
    guint * n_members, GError ** error)
{
  DsJsonLimits defaults;
  Scanner s = { 0, };

  if (limits == NULL) {
    ds_json_limits_init (&defaults);
    limits = &defaults;
  }
  if (json == NULL)
    len = 0;
  if (!check_text (&json, &len, limits, error))
    return FALSE;

  s.json = json;
  s.len = len;
  return run_scan (&s, limits, n_members, error);
}

/* FALSE when @node holds a number that is not finite (json-glib reads
 * 1e999 as infinity, which no JSON text can carry back). Recursive: the
 * depth is bounded by the scan. */
static gboolean
numbers_finite (JsonNode * node)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:{
      JsonObjectIter iter;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, NULL, &member)) {
        if (!numbers_finite (member))
          return FALSE;
      }
      return TRUE;
    }
    case JSON_NODE_ARRAY:{
      JsonArray *array = json_node_get_array (node);
      guint i, n = json_array_get_length (array);

      for (i = 0; i < n; i++) {
        if (!numbers_finite (json_array_get_element (array, i)))
          return FALSE;
      }
      return TRUE;
    }
    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
        return isfinite (json_node_get_double (node));
      return TRUE;
    case JSON_NODE_NULL:
    default:
      return TRUE;
  }
}

/**
 * ds_json_parse:
 * @json: (array length=len): the text, not necessarily nul-terminated
 * @len: length of @json in bytes
 * @limits: (nullable): bounds; %NULL: ds_json_limits_init()'s defaults
 * @error: return location for a #GError, or %NULL
 *
 * Parses one JSON value from outside, as described above: the bounded,
 * strict scan first, then json-glib. Integers beyond int64 become
 * doubles; numbers out of the range of a double are refused.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with
 * %DS_PROTOCOL_ERROR_TOO_LARGE or %DS_PROTOCOL_ERROR_BAD_JSON
 */
JsonNode *
ds_json_parse (const gchar * json, gsize len, const DsJsonLimits * limits,
    GError ** error)
{
  DsJsonLimits defaults;
  Scanner s = { 0, };
  GString *fixed = NULL;
  JsonParser *parser;
  JsonNode *root;
  GError *parse_error = NULL;
  gboolean parsed;

  if (limits == NULL) {
    ds_json_limits_init (&defaults);
    limits = &defaults;
  }
  if (json == NULL)
    len = 0;
  if (!check_text (&json, &len, limits, error))
    return NULL;

  s.json = json;
  s.len = len;
  s.bigints = g_array_new (FALSE, FALSE, sizeof (gsize));
  if (!run_scan (&s, limits, NULL, error)) {
    g_array_free (s.bigints, TRUE);
    return NULL;
  }

  if (s.bigints->len > 0) {
    gsize copied = 0;
    guint i;

    /* read them as doubles: "1234...890" -> "1234...890.0" */
    fixed = g_string_sized_new (len + 2 * s.bigints->len);
    for (i = 0; i < s.bigints->len; i++) {
      gsize end = g_array_index (s.bigints, gsize, i);

      g_string_append_len (fixed, json + copied, end - copied);
      g_string_append (fixed, ".0");
      copied = end;
    }
    g_string_append_len (fixed, json + copied, len - copied);
    json = fixed->str;
    len = fixed->len;
  }
  g_array_free (s.bigints, TRUE);

  parser = json_parser_new_immutable ();
  parsed = json_parser_load_from_data (parser, json, (gssize) len,
      &parse_error);
  if (fixed != NULL)
    g_string_free (fixed, TRUE);
  if (!parsed)
    goto bad_json;

  root = json_parser_get_root (parser);
  if (root == NULL)
    goto bad_json;
  if (!numbers_finite (root))
    goto not_finite;

  root = json_node_ref (root);
  g_object_unref (parser);

  return root;

  /* ERRORS */
bad_json:
  {
    /* the scanner let through something json-glib refuses */
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "bad JSON: %s", parse_error ? parse_error->message : "no value");
    g_clear_error (&parse_error);
    g_object_unref (parser);
    return NULL;
  }
not_finite:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "JSON number out of range");
    g_object_unref (parser);
    return NULL;
  }
}

/**
 * ds_json_object_get_u32:
 * @object: a JSON object (from ds_json_parse())
 * @name: the member
 * @fraction_ok: whether a number with a fraction is taken (rounded)
 * @out: (out): the value
 *
 * Reads a member that must be a number 0..%G_MAXUINT32: whole, unless
 * @fraction_ok (then rounded to the nearest). NaN, negative, too large,
 * another type or no such member: %FALSE and @out untouched.
 *
 * Returns: whether @out was set
 */
gboolean
ds_json_object_get_u32 (JsonObject * object, const gchar * name,
    gboolean fraction_ok, guint32 * out)
{
  JsonNode *node = json_object_get_member (object, name);
  gint64 i;
  gdouble d;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  switch (json_node_get_value_type (node)) {
    case G_TYPE_INT64:
      i = json_node_get_int (node);
      if (i < 0 || i > G_MAXUINT32)
        return FALSE;
      *out = (guint32) i;
      return TRUE;
    case G_TYPE_DOUBLE:
      d = json_node_get_double (node);
      /* NaN fails both comparisons */
      if (!fraction_ok || !(d >= 0.0 && d <= (gdouble) G_MAXUINT32))
        return FALSE;
      *out = (guint32) MIN (d + 0.5, (gdouble) G_MAXUINT32);
      return TRUE;
    default:
      return FALSE;
  }
}
