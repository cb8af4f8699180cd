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
 * SECTION:dssignal
 * @title: DsSignalState
 * @short_description: merging ds-stream signal frames
 *
 * A #DsSignalState holds the named values of a signal stream: the merge of
 * a SignalSync (which replaces everything) and the SignalDiffs after it
 * (which set each key they carry). JSON null is a value like any other.
 * Keys starting with '_' are reserved: they are dropped, except "_v", an
 * object mapping a signal name to an integer version.
 *
 * Versions, as decided for SPEC §3 and the relay's catch-up (§6.4):
 *
 * - diff: a key whose incoming version is lower than the version held is
 *   left as it is; otherwise its value is set and the version held becomes
 *   the higher of the two. A key without an incoming version is always
 *   set and keeps the version held.
 * - sync: the state becomes exactly the sync's values, and the version map
 *   becomes the sync's "_v" (entries of keys that have a value). A sync is
 *   "replace all": a source that restarts its counters is followed.
 *
 * So a relay that applies the last sync and every diff since, then sends
 * ds_signal_state_to_json() as ONE SignalSync, gives a late joiner exactly
 * its own state, version counters included, and stale diffs after it are
 * still refused.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "dsjson.h"
#include "dsprotocol.h"
#include "dssignal.h"

#define VERSIONS_KEY "_v"

struct _DsSignalState
{
  JsonObject *values;
  /* signal name -> gint64 version, kept in a JsonObject for its insertion
   * order */
  JsonObject *versions;
  /* for the size bound: name -> bytes of its "name":value, in the
   * serialised state, and the total (with the "_v" entries) */
  GHashTable *sizes;
  gsize size;
  GString *scratch;
};

/* Serialisation, below */
static void append_json_string (GString * out, const gchar * str);
static void append_json_node (GString * out, JsonNode * node);

/* "{}", and "," ":" around a member */
#define EMPTY_STATE_SIZE 2
/* a "_v" entry: the name, quotes, ':', ',' and up to 20 digits */
#define VERSION_ENTRY_SIZE(key) (strlen (key) + 24)

static inline gboolean
is_reserved (const gchar * key)
{
  return key[0] == '_';
}

static gboolean
strv_is_empty (const gchar * const *strv)
{
  return strv == NULL || strv[0] == NULL;
}

static gboolean
strv_has (const gchar * const *strv, const gchar * str)
{
  for (; *strv != NULL; strv++) {
    if (strcmp (*strv, str) == 0)
      return TRUE;
  }
  return FALSE;
}

/* A selected key: @select NULL or empty selects everything */
static gboolean
is_selected (const gchar * const *select, const gchar * key)
{
  return strv_is_empty (select) || strv_has (select, key);
}

/**
 * ds_signal_state_new:
 *
 * Returns: (transfer full): a new, empty signal state
 */
DsSignalState *
ds_signal_state_new (void)
{
  DsSignalState *state = g_new0 (DsSignalState, 1);

  state->values = json_object_new ();
  state->versions = json_object_new ();
  state->sizes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->size = EMPTY_STATE_SIZE;
  state->scratch = g_string_new (NULL);

  return state;
}

/**
 * ds_signal_state_free:
 * @state: (nullable) (transfer full): a signal state
 *
 * Frees @state.
 */
void
ds_signal_state_free (DsSignalState * state)
{
  if (state == NULL)
    return;

  json_object_unref (state->values);
  json_object_unref (state->versions);
  g_hash_table_unref (state->sizes);
  g_string_free (state->scratch, TRUE);
  g_free (state);
}

/**
 * ds_signal_state_clear:
 * @state: a signal state
 *
 * Forgets every value and version (a Keyframe frame does this).
 */
void
ds_signal_state_clear (DsSignalState * state)
{
  g_return_if_fail (state != NULL);

  json_object_unref (state->values);
  json_object_unref (state->versions);
  state->values = json_object_new ();
  state->versions = json_object_new ();
  g_hash_table_remove_all (state->sizes);
  state->size = EMPTY_STATE_SIZE;
}

/* Bytes of "key":value, in a serialised state */
static gsize
member_size (DsSignalState * state, const gchar * key, JsonNode * value)
{
  g_string_truncate (state->scratch, 0);
  append_json_string (state->scratch, key);
  append_json_node (state->scratch, value);

  return state->scratch->len + 2;
}

/* Every value is set through here: takes @value */
static void
state_set_value (DsSignalState * state, const gchar * key, JsonNode * value)
{
  gpointer old;
  gsize size = member_size (state, key, value);

  if (g_hash_table_lookup_extended (state->sizes, key, NULL, &old))
    state->size -= GPOINTER_TO_SIZE (old);
  g_hash_table_insert (state->sizes, g_strdup (key), GSIZE_TO_POINTER (size));
  state->size += size;
  json_object_set_member (state->values, key, value);
}

static void
state_set_version (DsSignalState * state, const gchar * key, gint64 version)
{
  if (!json_object_has_member (state->versions, key))
    state->size += VERSION_ENTRY_SIZE (key);
  json_object_set_int_member (state->versions, key, version);
}

/**
 * ds_signal_state_get_size:
 * @state: a signal state
 *
 * Returns: about the length of ds_signal_state_to_json() of the whole
 * state (exact for the values, an upper estimate for the "_v" entries),
 * kept up to date as the state changes
 */
gsize
ds_signal_state_get_size (DsSignalState * state)
{
  g_return_val_if_fail (state != NULL, 0);

  /* each member counted one ',' and there is one less */
  return json_object_get_size (state->values) > 0 ? state->size - 1 :
      state->size;
}

/**
 * ds_signal_state_is_empty:
 * @state: a signal state
 *
 * Returns: %TRUE when @state holds no value
 */
gboolean
ds_signal_state_is_empty (DsSignalState * state)
{
  g_return_val_if_fail (state != NULL, TRUE);

  return json_object_get_size (state->values) == 0;
}

/**
 * ds_signal_state_n_values:
 * @state: a signal state
 *
 * Returns: the number of values held ("_v" not counted)
 */
guint
ds_signal_state_n_values (DsSignalState * state)
{
  g_return_val_if_fail (state != NULL, 0);

  return json_object_get_size (state->values);
}

/**
 * ds_signal_state_get_values:
 * @state: a signal state
 *
 * Returns: (transfer none): the values held, without "_v"; owned by @state
 * and valid until the next call that changes it
 */
JsonObject *
ds_signal_state_get_values (DsSignalState * state)
{
  g_return_val_if_fail (state != NULL, NULL);

  return state->values;
}

/**
 * ds_signal_limits_init:
 * @limits: (out caller-allocates): limits to fill
 *
 * Fills @limits with the defaults: %DS_SIGNAL_DEFAULT_MAX_BYTES (1 MiB)
 * and %DS_SIGNAL_DEFAULT_MAX_KEYS (10000). A dashboard's signals are a
 * few dozen to a few hundred keys and a few KiB of JSON; the defaults
 * leave two orders of magnitude of room while keeping one frame's parse
 * and one late joiner's catch-up in the milliseconds.
 */
void
ds_signal_limits_init (DsSignalLimits * limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_bytes = DS_SIGNAL_DEFAULT_MAX_BYTES;
  limits->max_keys = DS_SIGNAL_DEFAULT_MAX_KEYS;
}

/**
 * ds_signal_parse_object_full:
 * @json: (array length=len): UTF-8 JSON text, not necessarily
 *   nul-terminated
 * @len: length of @json in bytes
 * @limits: (nullable): bounds; %NULL: ds_signal_limits_init()'s defaults
 * @error: return location for a #GError, or %NULL
 *
 * Parses a JSON object with ds_json_parse(): plain JSON only (RFC 8259:
 * no comments, no single quotes), at most @limits->max_bytes long, nested
 * at most %DS_JSON_DEFAULT_MAX_DEPTH levels, with at most
 * %DS_JSON_DEFAULT_MAX_MEMBERS members and elements in all (or
 * @limits->max_keys, when larger) and at most @limits->max_keys members
 * in the object itself. Integers beyond the int64 range are read as
 * doubles; numbers out of the range of a double (1e999) are refused.
 *
 * Returns: (transfer full) (nullable): the object, or %NULL with
 * %DS_PROTOCOL_ERROR_TOO_LARGE (a bound) or %DS_PROTOCOL_ERROR_BAD_JSON
 * (anything else, and any value other than an object)
 */
JsonObject *
ds_signal_parse_object_full (const gchar * json, gsize len,
    const DsSignalLimits * limits, GError ** error)
{
  DsSignalLimits defaults;
  DsJsonLimits json_limits;
  JsonNode *root;
  JsonObject *object;

  if (limits == NULL) {
    ds_signal_limits_init (&defaults);
    limits = &defaults;
  }
  json_limits.max_bytes = limits->max_bytes;
  json_limits.max_depth = DS_JSON_DEFAULT_MAX_DEPTH;
  /* no key limit: no member limit either */
  json_limits.max_members = limits->max_keys == 0 ? 0 :
      MAX (DS_JSON_DEFAULT_MAX_MEMBERS, limits->max_keys);

  root = ds_json_parse (json, len, &json_limits, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    goto not_an_object;

  object = json_object_ref (json_node_get_object (root));
  json_node_unref (root);

  if (limits->max_keys > 0 && json_object_get_size (object) > limits->max_keys)
    goto too_many_keys;

  return object;

  /* ERRORS */
not_an_object:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "signal payload is not a JSON object");
    json_node_unref (root);
    return NULL;
  }
too_many_keys:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "signal payload of %u keys, more than the limit of %u",
        json_object_get_size (object), limits->max_keys);
    json_object_unref (object);
    return NULL;
  }
}

/**
 * ds_signal_parse_object:
 * @json: (array length=len): UTF-8 JSON text, not necessarily
 *   nul-terminated
 * @len: length of @json in bytes
 * @error: return location for a #GError, or %NULL
 *
 * ds_signal_parse_object_full() with the default limits.
 *
 * Returns: (transfer full) (nullable): the object, or %NULL on error
 */
JsonObject *
ds_signal_parse_object (const gchar * json, gsize len, GError ** error)
{
  return ds_signal_parse_object_full (json, len, NULL, error);
}

/* The integer version of @key in the "_v" object @versions (may be NULL) */
static gboolean
lookup_version (JsonObject * versions, const gchar * key, gint64 * version)
{
  JsonNode *node;

  if (versions == NULL)
    return FALSE;

  node = json_object_get_member (versions, key);
  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;

  *version = json_node_get_int (node);
  return TRUE;
}

static JsonObject *
get_versions_object (JsonObject * object)
{
  JsonNode *node = json_object_get_member (object, VERSIONS_KEY);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}

/**
 * ds_signal_state_apply_object:
 * @state: a signal state
 * @sync: %TRUE for a SignalSync, %FALSE for a SignalDiff
 * @object: (transfer none): the frame's JSON object
 *
 * Merges @object into @state, as described in the section above: a sync
 * replaces all values and versions, a diff sets each key unless its
 * incoming version is lower than the one held. Reserved keys other than
 * "_v" are dropped; a "_v" that is not an object, and entries of it that
 * are not integers, are ignored.
 */
void
ds_signal_state_apply_object (DsSignalState * state, gboolean sync,
    JsonObject * object)
{
  JsonObject *incoming_versions;
  JsonObjectIter iter;
  const gchar *key;
  JsonNode *value;

  g_return_if_fail (state != NULL);
  g_return_if_fail (object != NULL);

  if (sync)
    ds_signal_state_clear (state);

  incoming_versions = get_versions_object (object);

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &key, &value)) {
    gint64 incoming, held;
    gboolean has_incoming, has_held;

    if (is_reserved (key))
      continue;

    has_incoming = lookup_version (incoming_versions, key, &incoming);
    has_held = lookup_version (state->versions, key, &held);

    if (has_incoming && has_held && incoming < held)
      continue;

    state_set_value (state, key, json_node_copy (value));
    if (has_incoming && (!has_held || incoming > held))
      state_set_version (state, key, incoming);
  }
}

/**
 * ds_signal_state_apply:
 * @state: a signal state
 * @sync: %TRUE for a SignalSync, %FALSE for a SignalDiff
 * @json: (array length=len): the frame's payload
 * @len: length of @json
 * @error: return location for a #GError, or %NULL
 *
 * ds_signal_state_apply_full() with the default limits.
 *
 * Returns: %TRUE on success; %FALSE with %DS_PROTOCOL_ERROR_BAD_JSON when
 * @json is not a JSON object, or %DS_PROTOCOL_ERROR_TOO_LARGE when it
 * breaks a default bound; @state is unchanged then
 */
gboolean
ds_signal_state_apply (DsSignalState * state, gboolean sync,
    const gchar * json, gsize len, GError ** error)
{
  return ds_signal_state_apply_full (state, sync, json, len, NULL, error);
}

/* Whether merging @object keeps @state within @limits: counts the keys
 * and bytes the state would hold, before anything changes */
static gboolean
check_merge (DsSignalState * state, gboolean sync, JsonObject * object,
    const DsSignalLimits * limits, GError ** error)
{
  JsonObject *incoming_versions = get_versions_object (object);
  JsonObjectIter iter;
  const gchar *key;
  JsonNode *value;
  guint n_keys = sync ? 0 : json_object_get_size (state->values);
  gsize size = sync ? EMPTY_STATE_SIZE : state->size;

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &key, &value)) {
    gint64 incoming, held;
    gboolean has_incoming;
    gpointer old;

    if (is_reserved (key))
      continue;

    has_incoming = lookup_version (incoming_versions, key, &incoming);
    if (!sync) {
      if (has_incoming && lookup_version (state->versions, key, &held) &&
          incoming < held)
        continue;
      if (g_hash_table_lookup_extended (state->sizes, key, NULL, &old))
        size -= GPOINTER_TO_SIZE (old);
      else
        n_keys++;
    } else {
      n_keys++;
    }
    size += member_size (state, key, value);
    if (has_incoming && (sync || !json_object_has_member (state->versions,
                key)))
      size += VERSION_ENTRY_SIZE (key);
  }

  if (limits->max_keys > 0 && n_keys > limits->max_keys)
    goto too_many_keys;
  if (n_keys > 0)
    size--;
  if (limits->max_bytes > 0 && size > limits->max_bytes)
    goto too_large;

  return TRUE;

  /* ERRORS */
too_many_keys:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "the signal state would hold %u keys, more than the limit of %u",
        n_keys, limits->max_keys);
    return FALSE;
  }
too_large:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "the signal state would take about %" G_GSIZE_FORMAT " bytes, more "
        "than the limit of %" G_GSIZE_FORMAT, size, limits->max_bytes);
    return FALSE;
  }
}

/**
 * ds_signal_state_apply_full:
 * @state: a signal state
 * @sync: %TRUE for a SignalSync, %FALSE for a SignalDiff
 * @json: (array length=len): the frame's payload
 * @len: length of @json
 * @limits: (nullable): bounds of the frame and of the merged state;
 *   %NULL: ds_signal_limits_init()'s defaults
 * @error: return location for a #GError, or %NULL
 *
 * Parses @json with ds_signal_parse_object_full() and merges it with
 * ds_signal_state_apply_object(), unless the merged state would hold
 * more than @limits->max_keys keys or take more than @limits->max_bytes
 * bytes serialised (ds_signal_state_get_size()).
 *
 * Returns: %TRUE on success; %FALSE with %DS_PROTOCOL_ERROR_TOO_LARGE
 * (a bound) or %DS_PROTOCOL_ERROR_BAD_JSON, @state is unchanged then
 */
gboolean
ds_signal_state_apply_full (DsSignalState * state, gboolean sync,
    const gchar * json, gsize len, const DsSignalLimits * limits,
    GError ** error)
{
  DsSignalLimits defaults;
  JsonObject *object;

  g_return_val_if_fail (state != NULL, FALSE);

  if (limits == NULL) {
    ds_signal_limits_init (&defaults);
    limits = &defaults;
  }

  object = ds_signal_parse_object_full (json, len, limits, error);
  if (object == NULL)
    return FALSE;

  if (!check_merge (state, sync, object, limits, error)) {
    json_object_unref (object);
    return FALSE;
  }

  ds_signal_state_apply_object (state, sync, object);
  json_object_unref (object);

  return TRUE;
}

/**
 * ds_signal_state_update:
 * @state: a signal state (the source's own)
 * @updates: (transfer none): new values
 * @allowed: (nullable) (array zero-terminated=1): the public signal names;
 *   %NULL or empty allows every name
 *
 * Sets each allowed, non-reserved key of @updates in @state.
 *
 * Returns: (transfer full) (nullable): a new object with only the keys
 * whose value changed (json_node_equal()), or %NULL when nothing changed
 */
JsonObject *
ds_signal_state_update (DsSignalState * state, JsonObject * updates,
    const gchar * const *allowed)
{
  JsonObject *changed;
  JsonObjectIter iter;
  const gchar *key;
  JsonNode *value;

  g_return_val_if_fail (state != NULL, NULL);
  g_return_val_if_fail (updates != NULL, NULL);

  changed = json_object_new ();

  json_object_iter_init_ordered (&iter, updates);
  while (json_object_iter_next_ordered (&iter, &key, &value)) {
    JsonNode *old;

    if (is_reserved (key) || !is_selected (allowed, key))
      continue;

    old = json_object_get_member (state->values, key);
    if (old != NULL && json_node_equal (old, value))
      continue;

    state_set_value (state, key, json_node_copy (value));
    json_object_set_member (changed, key, json_node_copy (value));
  }

  if (json_object_get_size (changed) == 0) {
    json_object_unref (changed);
    return NULL;
  }

  return changed;
}

/* A new object with the selected values of @values and, when any is left,
 * the selected entries of @versions under "_v". */
static JsonObject *
build_selected (JsonObject * values, JsonObject * versions,
    const gchar * const *select)
{
  JsonObject *out = json_object_new ();
  JsonObject *out_versions = json_object_new ();
  JsonObjectIter iter;
  const gchar *key;
  JsonNode *value;

  json_object_iter_init_ordered (&iter, values);
  while (json_object_iter_next_ordered (&iter, &key, &value)) {
    gint64 version;

    if (is_reserved (key) || !is_selected (select, key))
      continue;

    json_object_set_member (out, key, json_node_copy (value));
    if (lookup_version (versions, key, &version))
      json_object_set_int_member (out_versions, key, version);
  }

  if (json_object_get_size (out_versions) > 0)
    json_object_set_object_member (out, VERSIONS_KEY, out_versions);
  else
    json_object_unref (out_versions);

  return out;
}

/* JSON text of a string: UTF-8 kept, '"', '\\' and control characters
 * escaped; bytes that are not UTF-8 (json-glib turns a lone \ud800 escape
 * into such bytes) become U+FFFD, so the output is always valid JSON. */
static void
append_json_string (GString * out, const gchar * str)
{
  const gchar *p = str;

  g_string_append_c (out, '"');
  while (*p != '\0') {
    guchar c = *p;
    gunichar u;

    if (c < 0x80) {
      switch (c) {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        case '\b':
          g_string_append (out, "\\b");
          break;
        case '\f':
          g_string_append (out, "\\f");
          break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, c);
          break;
      }
      p++;
      continue;
    }

    u = g_utf8_get_char_validated (p, -1);
    if (u == (gunichar) - 1 || u == (gunichar) - 2) {
      g_string_append (out, "\\ufffd");
      p++;
      continue;
    }
    g_string_append_len (out, p, g_utf8_next_char (p) - p);
    p = g_utf8_next_char (p);
  }
  g_string_append_c (out, '"');
}

/* The shortest of %.15g, %.16g and %.17g that reads back as @d */
static void
format_double (gchar * buf, gsize size, gdouble d)
{
  static const gchar *const formats[] = { "%.15g", "%.16g", "%.17g" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    g_ascii_formatd (buf, size, formats[i], d);
    if (g_ascii_strtod (buf, NULL) == d)
      return;
  }
}


static void
append_json_object (GString * out, JsonObject * object)
{
  JsonObjectIter iter;
  const gchar *key;
  JsonNode *member;
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &key, &member)) {
    if (!first)
      g_string_append_c (out, ',');
    first = FALSE;
    append_json_string (out, key);
    g_string_append_c (out, ':');
    append_json_node (out, member);
  }
  g_string_append_c (out, '}');
}

static void
append_json_node (GString * out, JsonNode * node)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  JsonArray *array;
  guint i, n;
  gdouble d;

  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:
      append_json_object (out, json_node_get_object (node));
      break;
    case JSON_NODE_ARRAY:
      array = json_node_get_array (node);
      n = json_array_get_length (array);
      g_string_append_c (out, '[');
      for (i = 0; i < n; i++) {
        if (i > 0)
          g_string_append_c (out, ',');
        append_json_node (out, json_array_get_element (array, i));
      }
      g_string_append_c (out, ']');
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node)) {
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT,
              json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          d = json_node_get_double (node);
          if (!isfinite (d)) {
            g_string_append (out, "null");
            break;
          }
          /* shortest text that reads back as the same double; keep it a
           * double ("2.0", not "2") */
          format_double (buf, sizeof (buf), d);
          g_string_append (out, buf);
          if (strpbrk (buf, ".eE") == NULL)
            g_string_append (out, ".0");
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out,
              json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_STRING:
          append_json_string (out, json_node_get_string (node));
          break;
        default:
          g_string_append (out, "null");
          break;
      }
      break;
    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
  }
}

/**
 * ds_signal_object_to_json:
 * @object: a JSON object
 * @len: (out) (optional): the length of the returned text
 *
 * Serialises @object as compact JSON, members in insertion order. Unlike
 * json-glib 1.6's generator it always writes valid JSON: large doubles
 * ("1e+141"), strings holding bytes that are not UTF-8.
 *
 * Returns: (transfer full): @object as compact JSON text
 */
gchar *
ds_signal_object_to_json (JsonObject * object, gsize * len)
{
  GString *out;

  g_return_val_if_fail (object != NULL, NULL);

  out = g_string_sized_new (64);
  append_json_object (out, object);

  if (len)
    *len = out->len;

  return g_string_free (out, FALSE);
}

/**
 * ds_signal_state_to_json:
 * @state: a signal state
 * @select: (nullable) (array zero-terminated=1): the names to keep; %NULL
 *   or empty keeps everything
 * @len: (out) (optional): the length of the returned text
 *
 * Serialises the state as one JSON object, with a "_v" member when any
 * kept key has a version: the payload of a SignalSync that gives a
 * receiver this exact state.
 *
 * Returns: (transfer full): compact JSON, no trailing newline
 */
gchar *
ds_signal_state_to_json (DsSignalState * state, const gchar * const *select,
    gsize * len)
{
  JsonObject *out;
  gchar *text;

  g_return_val_if_fail (state != NULL, NULL);

  out = build_selected (state->values, state->versions, select);
  text = ds_signal_object_to_json (out, len);
  json_object_unref (out);

  return text;
}

/**
 * ds_signal_filter:
 * @json: (array length=len): a SignalSync or SignalDiff payload
 * @len: length of @json
 * @select: (nullable) (array zero-terminated=1): the names a receiver
 *   selected; %NULL or empty selects everything
 * @out_len: (out) (optional): length of the returned text
 * @error: return location for a #GError, or %NULL
 *
 * Strips a signal payload down to the selected keys and their "_v"
 * entries; other reserved keys are dropped. With no selection the payload
 * is returned as it is (a copy).
 *
 * Returns: (transfer full) (nullable): the filtered payload; %NULL without
 * error when no selected key is left (the caller decides whether an empty
 * SignalSync is still worth sending: "{}"), %NULL with
 * %DS_PROTOCOL_ERROR_BAD_JSON when @json is not a JSON object
 */
gchar *
ds_signal_filter (const gchar * json, gsize len,
    const gchar * const *select, gsize * out_len, GError ** error)
{
  return ds_signal_filter_full (json, len, select, NULL, out_len, error);
}

/**
 * ds_signal_filter_full:
 * @json: (array length=len): a SignalSync or SignalDiff payload
 * @len: length of @json
 * @select: (nullable) (array zero-terminated=1): the names a receiver
 *   selected; %NULL or empty selects everything
 * @limits: (nullable): bounds of @json; %NULL: the defaults
 * @out_len: (out) (optional): length of the returned text
 * @error: return location for a #GError, or %NULL
 *
 * ds_signal_filter() reading @json within @limits (a relay passes the
 * bounds it accepted the frame with).
 *
 * Returns: (transfer full) (nullable): as ds_signal_filter()
 */
gchar *
ds_signal_filter_full (const gchar * json, gsize len,
    const gchar * const *select, const DsSignalLimits * limits,
    gsize * out_len, GError ** error)
{
  JsonObject *object, *out;
  gchar *text;

  object = ds_signal_parse_object_full (json, len, limits, error);
  if (object == NULL)
    return NULL;

  if (strv_is_empty (select)) {
    json_object_unref (object);
    if (out_len)
      *out_len = len;
    return g_strndup (json, len);
  }

  out = build_selected (object, get_versions_object (object), select);
  json_object_unref (object);

  /* "_v" alone carries nothing */
  if (json_object_get_size (out) == 0 ||
      (json_object_get_size (out) == 1 &&
          json_object_has_member (out, VERSIONS_KEY))) {
    json_object_unref (out);
    if (out_len)
      *out_len = 0;
    return NULL;
  }

  text = ds_signal_object_to_json (out, out_len);
  json_object_unref (out);

  return text;
}

/* The strings of array member @name of @object; a missing member gives an
 * empty array. */
static gchar **
parse_string_array (JsonObject * object, const gchar * name, GError ** error)
{
  JsonNode *node;
  JsonArray *array;
  GPtrArray *strings;
  guint i, n;

  node = json_object_get_member (object, name);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_new0 (gchar *, 1);

  if (!JSON_NODE_HOLDS_ARRAY (node))
    goto not_an_array;

  array = json_node_get_array (node);
  n = json_array_get_length (array);
  strings = g_ptr_array_new_full (n + 1, g_free);

  for (i = 0; i < n; i++) {
    JsonNode *element = json_array_get_element (array, i);

    if (JSON_NODE_TYPE (element) != JSON_NODE_VALUE ||
        json_node_get_value_type (element) != G_TYPE_STRING)
      goto not_a_string;

    g_ptr_array_add (strings, g_strdup (json_node_get_string (element)));
  }
  g_ptr_array_add (strings, NULL);

  return (gchar **) g_ptr_array_free (strings, FALSE);

  /* ERRORS */
not_an_array:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "\"%s\" is not an array", name);
    return NULL;
  }
not_a_string:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON,
        "\"%s\" holds something other than strings", name);
    g_ptr_array_free (strings, TRUE);
    return NULL;
  }
}

static gchar *
build_string_array_object (const gchar * name,
    const gchar * const *strings, const gchar * mode, gsize * len)
{
  JsonObject *object = json_object_new ();
  JsonArray *array = json_array_new ();
  gchar *text;

  for (; strings != NULL && *strings != NULL; strings++)
    json_array_add_string_element (array, *strings);

  json_object_set_array_member (object, name, array);
  if (mode != NULL)
    json_object_set_string_member (object, "mode", mode);

  text = ds_signal_object_to_json (object, len);
  json_object_unref (object);

  return text;
}

/**
 * ds_subscribe_filter_parse:
 * @json: (array length=len): a SubscribeFilter payload
 * @len: length of @json
 * @error: return location for a #GError, or %NULL
 *
 * Parses {"select": ["a", "b"]}. A missing or null "select" and an empty
 * array give an empty array, meaning "everything".
 *
 * Returns: (transfer full) (nullable): a %NULL-terminated array, or %NULL
 * with %DS_PROTOCOL_ERROR_BAD_JSON
 */
gchar **
ds_subscribe_filter_parse (const gchar * json, gsize len, GError ** error)
{
  JsonObject *object;
  gchar **select;

  object = ds_signal_parse_object (json, len, error);
  if (object == NULL)
    return NULL;

  select = parse_string_array (object, "select", error);
  json_object_unref (object);

  return select;
}

/**
 * ds_subscribe_filter_build:
 * @select: (nullable) (array zero-terminated=1): the names to select
 * @len: (out) (optional): length of the returned text
 *
 * Returns: (transfer full): the SubscribeFilter payload {"select": [...]}
 */
gchar *
ds_subscribe_filter_build (const gchar * const *select, gsize * len)
{
  return build_string_array_object ("select", select, NULL, len);
}

/**
 * ds_schema_parse:
 * @json: (array length=len): a SchemaAnnounce payload
 * @len: length of @json
 * @error: return location for a #GError, or %NULL
 *
 * Parses {"signals": ["count", "doubled"], "mode": "signal"} into the
 * signal names; a missing "signals" gives an empty array.
 *
 * Returns: (transfer full) (nullable): a %NULL-terminated array, or %NULL
 * with %DS_PROTOCOL_ERROR_BAD_JSON
 */
gchar **
ds_schema_parse (const gchar * json, gsize len, GError ** error)
{
  JsonObject *object;
  gchar **signals;

  object = ds_signal_parse_object (json, len, error);
  if (object == NULL)
    return NULL;

  signals = parse_string_array (object, "signals", error);
  json_object_unref (object);

  return signals;
}

/**
 * ds_schema_build:
 * @signals: (nullable) (array zero-terminated=1): the public signal names
 * @mode: (nullable): the stream's mode; %NULL means "signal"
 * @len: (out) (optional): length of the returned text
 *
 * Returns: (transfer full): the SchemaAnnounce payload
 */
gchar *
ds_schema_build (const gchar * const *signals, const gchar * mode, gsize * len)
{
  return build_string_array_object ("signals", signals,
      mode != NULL ? mode : "signal", len);
}

/**
 * ds_signal_state_update_versioned:
 * @state: a signal state (the source's own)
 * @updates: (transfer none): new values, with an optional "_v" object of
 *   versions
 * @allowed: (nullable) (array zero-terminated=1): the public signal names;
 *   %NULL or empty allows every name
 *
 * Like ds_signal_state_update(), but honours the "_v" versions of
 * @updates as a receiver merging a SignalDiff does: a key whose incoming
 * version is lower than the one held is left as it is; otherwise the
 * value is set and the held version becomes the higher of the two. A key
 * whose value is equal but whose version went up counts as changed (its
 * version changed). Versions of keys that are not allowed, or that carry
 * no value in @updates, are ignored.
 *
 * Returns: (transfer full) (nullable): a new object with only the keys
 * that changed and, under "_v", the versions held for those keys (none
 * for keys without a version); %NULL when nothing changed
 */
JsonObject *
ds_signal_state_update_versioned (DsSignalState * state, JsonObject * updates,
    const gchar * const *allowed)
{
  JsonObject *incoming_versions, *changed, *changed_versions;
  JsonObjectIter iter;
  const gchar *key;
  JsonNode *value;

  g_return_val_if_fail (state != NULL, NULL);
  g_return_val_if_fail (updates != NULL, NULL);

  incoming_versions = get_versions_object (updates);
  changed = json_object_new ();
  changed_versions = json_object_new ();

  json_object_iter_init_ordered (&iter, updates);
  while (json_object_iter_next_ordered (&iter, &key, &value)) {
    gint64 incoming = 0, held = 0;
    gboolean has_incoming, has_held, version_up;
    JsonNode *old;

    if (is_reserved (key) || !is_selected (allowed, key))
      continue;

    has_incoming = lookup_version (incoming_versions, key, &incoming);
    has_held = lookup_version (state->versions, key, &held);
    if (has_incoming && has_held && incoming < held)
      continue;
    version_up = has_incoming && (!has_held || incoming > held);

    old = json_object_get_member (state->values, key);
    if (old != NULL && json_node_equal (old, value) && !version_up)
      continue;

    state_set_value (state, key, json_node_copy (value));
    json_object_set_member (changed, key, json_node_copy (value));
    if (version_up) {
      state_set_version (state, key, incoming);
      held = incoming;
      has_held = TRUE;
    }
    if (has_held)
      json_object_set_int_member (changed_versions, key, held);
  }

  if (json_object_get_size (changed) == 0) {
    json_object_unref (changed_versions);
    json_object_unref (changed);
    return NULL;
  }

  if (json_object_get_size (changed_versions) > 0)
    json_object_set_object_member (changed, VERSIONS_KEY, changed_versions);
  else
    json_object_unref (changed_versions);

  return changed;
}
