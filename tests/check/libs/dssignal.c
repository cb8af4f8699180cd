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
/* Unit tests of signal-state merging (SPEC §3 "Signals", §6.4 catch-up) */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>

#include "dsjson.h"
#include "dsprotocol.h"
#include "dssignal.h"

static void
apply (DsSignalState * state, gboolean sync, const gchar * json)
{
  GError *error = NULL;

  fail_unless (ds_signal_state_apply (state, sync, json, strlen (json),
          &error), "%s: %s", json, error ? error->message : "");
  g_assert_no_error (error);
}

static void
assert_state_json (DsSignalState * state, const gchar * const *select,
    const gchar * expected)
{
  gchar *json;
  gsize len = 0;

  json = ds_signal_state_to_json (state, select, &len);
  fail_unless_equals_string (json, expected);
  fail_unless_equals_int (len, strlen (expected));
  g_free (json);
}

static JsonObject *
parse (const gchar * json)
{
  JsonObject *object = ds_signal_parse_object (json, strlen (json), NULL);

  fail_unless (object != NULL, "%s", json);
  return object;
}

static gint64
int_value (DsSignalState * state, const gchar * key)
{
  JsonObject *values = ds_signal_state_get_values (state);

  fail_unless (json_object_has_member (values, key), "no %s", key);
  return json_object_get_int_member (values, key);
}

GST_START_TEST (test_sync_replaces_diff_sets)
{
  DsSignalState *state = ds_signal_state_new ();

  fail_unless (ds_signal_state_is_empty (state));
  apply (state, TRUE, "{\"a\":1,\"b\":\"x\"}");
  fail_unless_equals_int (ds_signal_state_n_values (state), 2);
  apply (state, FALSE, "{\"b\":\"y\",\"c\":[1,2]}");
  assert_state_json (state, NULL, "{\"a\":1,\"b\":\"y\",\"c\":[1,2]}");

  /* a sync replaces everything: "a" and "c" are gone */
  apply (state, TRUE, "{\"b\":true}");
  assert_state_json (state, NULL, "{\"b\":true}");
  fail_unless_equals_int (ds_signal_state_n_values (state), 1);

  ds_signal_state_clear (state);
  fail_unless (ds_signal_state_is_empty (state));
  assert_state_json (state, NULL, "{}");

  ds_signal_state_free (state);
}

GST_END_TEST;

GST_START_TEST (test_null_is_a_value)
{
  DsSignalState *state = ds_signal_state_new ();
  JsonObject *values;

  apply (state, TRUE, "{\"a\":1,\"b\":2}");
  apply (state, FALSE, "{\"a\":null}");

  values = ds_signal_state_get_values (state);
  fail_unless (json_object_has_member (values, "a"));
  fail_unless (json_object_get_null_member (values, "a"));
  fail_unless_equals_int (ds_signal_state_n_values (state), 2);
  assert_state_json (state, NULL, "{\"a\":null,\"b\":2}");

  ds_signal_state_free (state);
}

GST_END_TEST;

GST_START_TEST (test_reserved_keys_dropped)
{
  DsSignalState *state = ds_signal_state_new ();

  apply (state, TRUE, "{\"a\":1,\"_connected\":true,\"_private\":5}");
  apply (state, FALSE, "{\"_latency\":12,\"b\":2}");
  assert_state_json (state, NULL, "{\"a\":1,\"b\":2}");
  fail_unless_equals_int (ds_signal_state_n_values (state), 2);

  ds_signal_state_free (state);
}

GST_END_TEST;

GST_START_TEST (test_versions_in_diffs)
{
  DsSignalState *state = ds_signal_state_new ();

  apply (state, FALSE, "{\"a\":1,\"_v\":{\"a\":3}}");
  /* lower version: left as it is */
  apply (state, FALSE, "{\"a\":2,\"_v\":{\"a\":2}}");
  fail_unless_equals_int (int_value (state, "a"), 1);
  /* equal version: set */
  apply (state, FALSE, "{\"a\":4,\"_v\":{\"a\":3}}");
  fail_unless_equals_int (int_value (state, "a"), 4);
  /* no version: set, version kept */
  apply (state, FALSE, "{\"a\":5}");
  fail_unless_equals_int (int_value (state, "a"), 5);
  assert_state_json (state, NULL, "{\"a\":5,\"_v\":{\"a\":3}}");
  /* higher version: set and kept */
  apply (state, FALSE, "{\"a\":6,\"_v\":{\"a\":9}}");
  assert_state_json (state, NULL, "{\"a\":6,\"_v\":{\"a\":9}}");
  /* per key: "b" has no held version, "a" is stale */
  apply (state, FALSE, "{\"a\":0,\"b\":1,\"_v\":{\"a\":8,\"b\":1}}");
  assert_state_json (state, NULL, "{\"a\":6,\"b\":1,\"_v\":{\"a\":9,\"b\":1}}");
  /* versions that are not integers, and a "_v" that is not an object,
   * are ignored */
  apply (state, FALSE, "{\"a\":7,\"_v\":{\"a\":\"100\"}}");
  apply (state, FALSE, "{\"b\":2,\"_v\":[5]}");
  assert_state_json (state, NULL, "{\"a\":7,\"b\":2,\"_v\":{\"a\":9,\"b\":1}}");

  ds_signal_state_free (state);
}

GST_END_TEST;

GST_START_TEST (test_sync_replaces_versions)
{
  DsSignalState *state = ds_signal_state_new ();

  apply (state, TRUE, "{\"a\":1,\"_v\":{\"a\":50}}");
  /* a restarted source: the sync's (lower) versions are followed */
  apply (state, TRUE, "{\"a\":2,\"_v\":{\"a\":1}}");
  assert_state_json (state, NULL, "{\"a\":2,\"_v\":{\"a\":1}}");
  apply (state, FALSE, "{\"a\":3,\"_v\":{\"a\":2}}");
  fail_unless_equals_int (int_value (state, "a"), 3);
  /* versions without a value are not kept */
  apply (state, TRUE, "{\"b\":1,\"_v\":{\"a\":5}}");
  assert_state_json (state, NULL, "{\"b\":1}");

  ds_signal_state_free (state);
}

GST_END_TEST;

/* The relay's catch-up (SPEC §6.4): it applies the last sync and every diff
 * since to one state and sends that state to a late joiner as ONE
 * SignalSync. The receiver must hold what a receiver that saw every frame
 * holds. */
static DsSignalState *
catch_up (DsSignalState * relay_state)
{
  DsSignalState *joiner = ds_signal_state_new ();
  gchar *sync;
  gsize len;

  sync = ds_signal_state_to_json (relay_state, NULL, &len);
  fail_unless (ds_signal_state_apply (joiner, TRUE, sync, len, NULL));
  g_free (sync);

  return joiner;
}

static void
assert_same_state (DsSignalState * a, DsSignalState * b)
{
  gchar *ja = ds_signal_state_to_json (a, NULL, NULL);
  gchar *jb = ds_signal_state_to_json (b, NULL, NULL);

  fail_unless_equals_string (ja, jb);
  g_free (ja);
  g_free (jb);
}

GST_START_TEST (catchup_merges_multiple_diffs)
{
  static const struct
  {
    gboolean sync;
    const gchar *json;
  } frames[] = {
    {TRUE, "{\"count\":0,\"doubled\":0,\"label\":\"start\"}"},
    {FALSE, "{\"count\":1,\"doubled\":2}"},
    {FALSE, "{\"count\":2,\"doubled\":4}"},
    {FALSE, "{\"label\":null}"},
    {FALSE, "{\"count\":3,\"extra\":{\"x\":1}}"},
  };
  DsSignalState *relay = ds_signal_state_new ();
  DsSignalState *live = ds_signal_state_new ();
  DsSignalState *joiner;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (frames); i++) {
    apply (relay, frames[i].sync, frames[i].json);
    apply (live, frames[i].sync, frames[i].json);
  }

  joiner = catch_up (relay);
  assert_state_json (joiner, NULL,
      "{\"count\":3,\"doubled\":4,\"label\":null,\"extra\":{\"x\":1}}");
  assert_same_state (joiner, live);

  /* the next live diff lands the same on both */
  apply (joiner, FALSE, "{\"count\":4}");
  apply (live, FALSE, "{\"count\":4}");
  assert_same_state (joiner, live);

  ds_signal_state_free (joiner);
  ds_signal_state_free (live);
  ds_signal_state_free (relay);
}

GST_END_TEST;

GST_START_TEST (catchup_diffs_only_no_sync)
{
  DsSignalState *relay = ds_signal_state_new ();
  DsSignalState *joiner;

  apply (relay, FALSE, "{\"a\":1}");
  apply (relay, FALSE, "{\"b\":2}");
  apply (relay, FALSE, "{\"a\":3}");

  joiner = catch_up (relay);
  assert_state_json (joiner, NULL, "{\"a\":3,\"b\":2}");

  ds_signal_state_free (joiner);
  ds_signal_state_free (relay);
}

GST_END_TEST;

GST_START_TEST (catchup_preserves_version_counters)
{
  DsSignalState *relay = ds_signal_state_new ();
  DsSignalState *live = ds_signal_state_new ();
  DsSignalState *joiner;
  static const gchar *frames[] = {
    "{\"a\":1,\"b\":1,\"_v\":{\"a\":1,\"b\":1}}",
    "{\"a\":2,\"_v\":{\"a\":2}}",
    "{\"a\":5,\"b\":7,\"_v\":{\"a\":5,\"b\":7}}",
    /* stale: refused by the relay's state */
    "{\"a\":3,\"_v\":{\"a\":3}}",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (frames); i++) {
    apply (relay, i == 0, frames[i]);
    apply (live, i == 0, frames[i]);
  }

  joiner = catch_up (relay);
  assert_state_json (joiner, NULL,
      "{\"a\":5,\"b\":7,\"_v\":{\"a\":5,\"b\":7}}");
  assert_same_state (joiner, live);

  /* the counters came along: a stale diff is still refused ... */
  apply (joiner, FALSE, "{\"a\":4,\"_v\":{\"a\":4}}");
  fail_unless_equals_int (int_value (joiner, "a"), 5);
  /* ... and a newer one accepted */
  apply (joiner, FALSE, "{\"a\":6,\"_v\":{\"a\":6}}");
  fail_unless_equals_int (int_value (joiner, "a"), 6);

  /* a second catch-up, after more diffs, keeps the highest versions */
  apply (relay, FALSE, "{\"b\":8,\"_v\":{\"b\":8}}");
  apply (relay, FALSE, "{\"b\":0,\"_v\":{\"b\":2}}");
  ds_signal_state_free (joiner);
  joiner = catch_up (relay);
  assert_state_json (joiner, NULL,
      "{\"a\":5,\"b\":8,\"_v\":{\"a\":5,\"b\":8}}");

  ds_signal_state_free (joiner);
  ds_signal_state_free (live);
  ds_signal_state_free (relay);
}

GST_END_TEST;

GST_START_TEST (test_update_only_changed_keys)
{
  static const gchar *const allowed[] = { "count", "doubled", "n", NULL };
  DsSignalState *state = ds_signal_state_new ();
  JsonObject *updates, *changed;
  gchar *json;

  updates = parse ("{\"count\":1,\"doubled\":2,\"secret\":\"pw\",\"_x\":1}");
  changed = ds_signal_state_update (state, updates, allowed);
  json = ds_signal_object_to_json (changed, NULL);
  fail_unless_equals_string (json, "{\"count\":1,\"doubled\":2}");
  g_free (json);
  json_object_unref (changed);
  json_object_unref (updates);

  /* same values: nothing changed */
  updates = parse ("{\"count\":1,\"secret\":\"x\"}");
  fail_unless (ds_signal_state_update (state, updates, allowed) == NULL);
  json_object_unref (updates);

  /* one changed, one equal; null is a change */
  updates = parse ("{\"count\":1,\"doubled\":3,\"n\":null}");
  changed = ds_signal_state_update (state, updates, allowed);
  json = ds_signal_object_to_json (changed, NULL);
  fail_unless_equals_string (json, "{\"doubled\":3,\"n\":null}");
  g_free (json);
  json_object_unref (changed);
  json_object_unref (updates);

  /* private keys never appear in the state's output */
  json = ds_signal_state_to_json (state, NULL, NULL);
  fail_unless_equals_string (json, "{\"count\":1,\"doubled\":3,\"n\":null}");
  fail_unless (strstr (json, "secret") == NULL);
  g_free (json);

  /* no allow-list: every public key */
  updates = parse ("{\"other\":[1],\"_p\":2}");
  changed = ds_signal_state_update (state, updates, NULL);
  json = ds_signal_object_to_json (changed, NULL);
  fail_unless_equals_string (json, "{\"other\":[1]}");
  g_free (json);
  json_object_unref (changed);
  json_object_unref (updates);

  ds_signal_state_free (state);
}

GST_END_TEST;

typedef struct
{
  const gchar *json;
  const gchar *select[4];
  const gchar *expected;        /* NULL: nothing left */
} FilterCase;

static const FilterCase filter_cases[] = {
  {"{\"a\":1,\"b\":2}", {"a"}, "{\"a\":1}"},
  {"{\"a\":1,\"b\":2}", {"b", "a"}, "{\"a\":1,\"b\":2}"},
  {"{\"a\":1,\"b\":2}", {"c"}, NULL},
  {"{\"a\":1,\"b\":2,\"_v\":{\"a\":3,\"b\":4}}", {"b"},
      "{\"b\":2,\"_v\":{\"b\":4}}"},
  {"{\"a\":1,\"_v\":{\"a\":3,\"b\":4}}", {"b"}, NULL},
  {"{\"a\":null,\"_x\":1}", {"a", "_x"}, "{\"a\":null}"},
  {"{}", {"a"}, NULL},
  /* nothing selected: everything, unchanged */
  {"{\"a\":1, \"b\":2}", {NULL}, "{\"a\":1, \"b\":2}"},
};

GST_START_TEST (test_filter)
{
  const FilterCase *c = &filter_cases[__i__];
  GError *error = NULL;
  gchar *out;
  gsize len = 12345;

  out = ds_signal_filter (c->json, strlen (c->json), c->select, &len, &error);
  g_assert_no_error (error);
  if (c->expected == NULL) {
    fail_unless (out == NULL, "%s: got %s", c->json, out);
  } else {
    fail_unless_equals_string (out, c->expected);
    fail_unless_equals_int (len, strlen (c->expected));
  }
  g_free (out);
}

GST_END_TEST;

GST_START_TEST (test_state_to_json_select)
{
  static const gchar *const select[] = { "b", "zz", NULL };
  static const gchar *const none[] = { NULL };
  DsSignalState *state = ds_signal_state_new ();

  apply (state, TRUE, "{\"a\":1,\"b\":2,\"_v\":{\"a\":1,\"b\":2}}");
  assert_state_json (state, select, "{\"b\":2,\"_v\":{\"b\":2}}");
  assert_state_json (state, none, "{\"a\":1,\"b\":2,\"_v\":{\"a\":1,\"b\":2}}");

  ds_signal_state_free (state);
}

GST_END_TEST;

/* Payloads that must be refused with BAD_JSON and leave the state alone */
static const struct
{
  const gchar *json;
  gssize len;                   /* -1: strlen */
} bad_json_cases[] = {
  {"", 0},
  {"{", -1},
  {"{\"a\":}", -1},
  {"{\"a\":1,}", -1},
  {"[1,2]", -1},
  {"\"string\"", -1},
  {"42", -1},
  {"null", -1},
  {"true", -1},
  {"\xff\xfe{}", -1},
  {"{\"a\":\"\xc3\x28\"}", -1},
  {"{\"a\":1}\0{\"b\":2}", 15},
  {"   ", -1},
  /* json-glib alone takes the first object and drops the second */
  {"{\"a\":1} {\"b\":2}", -1},
  {"{\"a\":1}\n{\"b\":2}", -1},
  {"{\"a\":1}[]", -1},
  /* numbers a double cannot hold: no JSON text could carry them back */
  {"{\"a\":1e999}", -1},
  {"{\"a\":[0,{\"b\":-1e400}]}", -1},
};

GST_START_TEST (test_bad_json)
{
  const gchar *json = bad_json_cases[__i__].json;
  gsize len = bad_json_cases[__i__].len < 0 ? strlen (json) :
      (gsize) bad_json_cases[__i__].len;
  DsSignalState *state = ds_signal_state_new ();
  GError *error = NULL;
  gchar *copy;

  apply (state, TRUE, "{\"keep\":1}");

  /* an exact-size heap copy, not nul-terminated */
  copy = g_memdup2 (json, MAX (len, 1));

  fail_if (ds_signal_state_apply (state, FALSE, copy, len, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON);
  g_clear_error (&error);
  fail_if (ds_signal_state_apply (state, TRUE, copy, len, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON);
  g_clear_error (&error);
  assert_state_json (state, NULL, "{\"keep\":1}");

  fail_unless (ds_signal_filter (copy, len, NULL, NULL, &error) == NULL);
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON);
  g_clear_error (&error);
  fail_unless (ds_subscribe_filter_parse (copy, len, &error) == NULL);
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON);
  g_clear_error (&error);

  g_free (copy);
  ds_signal_state_free (state);
}

GST_END_TEST;

GST_START_TEST (test_deep_nesting_refused)
{
  GString *s = g_string_new ("{\"a\":");
  GError *error = NULL;
  DsSignalState *state = ds_signal_state_new ();
  guint i;

  for (i = 0; i < 100000; i++)
    g_string_append_c (s, '[');
  for (i = 0; i < 100000; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');

  fail_if (ds_signal_state_apply (state, TRUE, s->str, s->len, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_string_free (s, TRUE);

  /* moderate nesting and brackets inside strings are fine */
  apply (state, TRUE, "{\"a\":[[[{\"b\":[1]}]]],\"s\":\"[[[[\\\"{{{{\"}");
  fail_unless_equals_int (ds_signal_state_n_values (state), 2);

  ds_signal_state_free (state);
}

GST_END_TEST;

GST_START_TEST (test_subscribe_filter)
{
  static const gchar *const select[] = { "count", "doubled", NULL };
  GError *error = NULL;
  gchar *json, **parsed;
  gsize len;

  json = ds_subscribe_filter_build (select, &len);
  fail_unless_equals_string (json, "{\"select\":[\"count\",\"doubled\"]}");
  parsed = ds_subscribe_filter_parse (json, len, &error);
  g_assert_no_error (error);
  fail_unless_equals_int (g_strv_length (parsed), 2);
  fail_unless_equals_string (parsed[0], "count");
  fail_unless_equals_string (parsed[1], "doubled");
  g_strfreev (parsed);
  g_free (json);

  /* empty and missing select: everything */
  parsed = ds_subscribe_filter_parse ("{\"select\":[]}", 13, &error);
  g_assert_no_error (error);
  fail_unless_equals_int (g_strv_length (parsed), 0);
  g_strfreev (parsed);
  parsed = ds_subscribe_filter_parse ("{}", 2, &error);
  g_assert_no_error (error);
  fail_unless_equals_int (g_strv_length (parsed), 0);
  g_strfreev (parsed);

  /* wrong shapes */
  fail_unless (ds_subscribe_filter_parse ("{\"select\":\"count\"}", 18,
          &error) == NULL);
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON);
  g_clear_error (&error);
  fail_unless (ds_subscribe_filter_parse ("{\"select\":[1]}", 14,
          &error) == NULL);
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON);
  g_clear_error (&error);
}

GST_END_TEST;

GST_START_TEST (test_schema)
{
  static const gchar *const signals[] = { "count", "doubled", NULL };
  GError *error = NULL;
  gchar *json, **parsed;
  gsize len;

  json = ds_schema_build (signals, NULL, &len);
  fail_unless_equals_string (json,
      "{\"signals\":[\"count\",\"doubled\"],\"mode\":\"signal\"}");
  parsed = ds_schema_parse (json, len, &error);
  g_assert_no_error (error);
  fail_unless_equals_int (g_strv_length (parsed), 2);
  fail_unless_equals_string (parsed[1], "doubled");
  g_strfreev (parsed);
  g_free (json);

  json = ds_schema_build (NULL, "pixel", NULL);
  fail_unless_equals_string (json, "{\"signals\":[],\"mode\":\"pixel\"}");
  g_free (json);

  fail_unless (ds_schema_parse ("[\"count\"]", 9, &error) == NULL);
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_JSON);
  g_clear_error (&error);
}

GST_END_TEST;

typedef struct
{
  const gchar *in;
  const gchar *out;
} SerialiseCase;

static const SerialiseCase serialise_cases[] = {
  {"{\"i\":-9223372036854775808,\"j\":9223372036854775807}",
      "{\"i\":-9223372036854775808,\"j\":9223372036854775807}"},
  {"{\"d\":2.0,\"e\":0.5,\"f\":-1.25e-7}",
      "{\"d\":2.0,\"e\":0.5,\"f\":-1.25e-07}"},
  /* json-glib 1.6 writes "1e+141.0" here, which is not JSON */
  {"{\"big\":1e141}", "{\"big\":1e+141}"},
  {"{\"b\":true,\"c\":false,\"n\":null,\"a\":[],\"o\":{}}",
      "{\"b\":true,\"c\":false,\"n\":null,\"a\":[],\"o\":{}}"},
  {"{\"s\":\"q\\\"b\\\\n\\n\\t\\u0001\\u001f/\"}",
      "{\"s\":\"q\\\"b\\\\n\\n\\t\\u0001\\u001f/\"}"},
  {"{\"\\u00e9t\u00e9\":\"\u2603\"}", "{\"\u00e9t\u00e9\":\"\u2603\"}"},
  {"{\"nested\":{\"x\":[1,[2,{\"y\":\"z\"}]]}}",
      "{\"nested\":{\"x\":[1,[2,{\"y\":\"z\"}]]}}"},
  /* integers beyond int64 read as doubles (json-glib alone wraps them to
   * negative numbers); digits in strings are left alone */
  {"{\"u\":12345678901234567890,\"v\":[-9223372036854775809],"
        "\"w\":\"12345678901234567890\"}",
      "{\"u\":1.2345678901234567e+19,\"v\":[-9.223372036854776e+18],"
        "\"w\":\"12345678901234567890\"}"},
};

GST_START_TEST (test_serialise)
{
  const SerialiseCase *c = &serialise_cases[__i__];
  JsonObject *object, *again;
  gchar *json;
  gsize len;

  object = parse (c->in);
  json = ds_signal_object_to_json (object, &len);
  fail_unless_equals_string (json, c->out);
  fail_unless_equals_int (len, strlen (c->out));

  /* and it reads back to an equal object */
  again = parse (json);
  {
    JsonNode *a = json_node_init_object (json_node_alloc (), object);
    JsonNode *b = json_node_init_object (json_node_alloc (), again);

    fail_unless (json_node_equal (a, b));
    json_node_unref (a);
    json_node_unref (b);
  }
  json_object_unref (again);
  json_object_unref (object);
  g_free (json);
}

GST_END_TEST;

GST_START_TEST (test_serialise_lone_surrogate)
{
  /* json-glib decodes a lone surrogate escape into bytes that are not
   * UTF-8; the output must still be valid JSON */
  JsonObject *object = parse ("{\"s\":\"a\\ud800b\"}");
  gchar *json = ds_signal_object_to_json (object, NULL);
  JsonObject *again = parse (json);

  fail_unless (g_utf8_validate (json, -1, NULL));
  json_object_unref (again);
  json_object_unref (object);
  g_free (json);
}

GST_END_TEST;

/* A source forwarding versioned signals: stale versions change nothing,
 * a diff carries "_v" for its own keys only, a sync all of them */
GST_START_TEST (test_update_versioned)
{
  static const gchar *const allowed[] = { "count", "label", NULL };
  DsSignalState *state = ds_signal_state_new ();
  JsonObject *updates, *changed;
  gchar *json;

  updates = parse ("{\"_v\":{\"count\":9,\"secret\":4},\"count\":3,"
      "\"label\":\"a\",\"secret\":1}");
  changed = ds_signal_state_update_versioned (state, updates, allowed);
  json = ds_signal_object_to_json (changed, NULL);
  fail_unless_equals_string (json,
      "{\"count\":3,\"label\":\"a\",\"_v\":{\"count\":9}}");
  g_free (json);
  json_object_unref (changed);
  json_object_unref (updates);

  /* stale: nothing changes */
  updates = parse ("{\"_v\":{\"count\":8},\"count\":100}");
  fail_unless (ds_signal_state_update_versioned (state, updates,
          allowed) == NULL);
  json_object_unref (updates);

  /* a diff carries the versions of its own keys only */
  updates = parse ("{\"label\":\"b\"}");
  changed = ds_signal_state_update_versioned (state, updates, allowed);
  json = ds_signal_object_to_json (changed, NULL);
  fail_unless_equals_string (json, "{\"label\":\"b\"}");
  g_free (json);
  json_object_unref (changed);
  json_object_unref (updates);

  /* no incoming version: set, the held version is kept and sent */
  updates = parse ("{\"count\":4}");
  changed = ds_signal_state_update_versioned (state, updates, allowed);
  json = ds_signal_object_to_json (changed, NULL);
  fail_unless_equals_string (json, "{\"count\":4,\"_v\":{\"count\":9}}");
  g_free (json);
  json_object_unref (changed);
  json_object_unref (updates);

  /* equal value, higher version: a change of version */
  updates = parse ("{\"_v\":{\"count\":10},\"count\":4}");
  changed = ds_signal_state_update_versioned (state, updates, allowed);
  json = ds_signal_object_to_json (changed, NULL);
  fail_unless_equals_string (json, "{\"count\":4,\"_v\":{\"count\":10}}");
  g_free (json);
  json_object_unref (changed);
  json_object_unref (updates);

  json = ds_signal_state_to_json (state, NULL, NULL);
  fail_unless_equals_string (json,
      "{\"count\":4,\"label\":\"b\",\"_v\":{\"count\":10}}");
  g_free (json);

  ds_signal_state_free (state);
}

GST_END_TEST;


/* Hostile texts (issue 11 item 1): each is refused by the scanner before
 * json-glib sees it, whatever hides a bracket from a naive pre-scan
 * (comments, quotes, escapes, byte order marks) */

#define MANY (1000 * 1000)

typedef struct
{
  const gchar *name;
  const gchar *head;            /* text, then @n_repeat times @repeat */
  const gchar *repeat;
  guint n_repeat;
  const gchar *tail;
  gint code;                    /* the error expected */
  gboolean signal_only;         /* plain JSON within ds_json's defaults,
                                 * refused by the signal bounds only */
} HostileCase;

static const HostileCase hostile_cases[] = {
  /* the reproduction: a comment holding a quote, then 1e6 '[' */
  {"comment-quote-brackets", "/*\"*/", "[", MANY, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"object-comment-quote-brackets", "{\"a\":/*\"*/", "[", MANY, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"line-comment-quote", "//\"\n{\"a\":", "[", MANY, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"comment-only", "/**/{}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"trailing-comment", "{\"a\":1}/**/", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"comment-in-object", "{\"a\"/**/:1}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"single-quote-brackets", "{'a\"':", "[", MANY, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"single-quoted", "{'a':1}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  /* plain nesting, arrays and objects */
  {"brackets", NULL, "[", MANY, NULL, DS_PROTOCOL_ERROR_TOO_LARGE},
  {"braces", NULL, "{\"a\":", MANY / 5, NULL, DS_PROTOCOL_ERROR_TOO_LARGE},
  {"object-brackets", "{\"a\":", "[", MANY, NULL,
      DS_PROTOCOL_ERROR_TOO_LARGE},
  {"closed-brackets", "{\"a\":", "[", 65, "1]]]", DS_PROTOCOL_ERROR_TOO_LARGE},
  /* escapes that end a string early for a naive scanner */
  {"escaped-quote-brackets", "{\"a\":\"\\\"", "[", MANY, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"backslash-at-end", "{\"a\":\"\\", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"bad-escape", "{\"a\":\"\\x\"}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"short-unicode", "{\"a\":\"\\u00\"}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"bad-unicode", "{\"a\":\"\\u00g0\"}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"nul-escape", "{\"a\\u0000b\":1}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"raw-control", "{\"a\":\"\t\"}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"raw-newline", "{\"a\":\"\n\"}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  /* byte order marks */
  {"bom-comment-brackets", "\xef\xbb\xbf/*\"*/", "[", MANY, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"two-boms", "\xef\xbb\xbf\xef\xbb\xbf{}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"bom-after", "{}\xef\xbb\xbf", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"bom-inside", "{\xef\xbb\xbf}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"utf16-bom", "\xff\xfe{\0}\0", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  /* UTF-8 */
  {"overlong", "{\"a\":\"\xc0\xaf\"}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"utf8-surrogate", "{\"a\":\"\xed\xa0\x80\"}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"truncated-utf8", "{\"a\":\"\xe2\x98\"}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"latin1", "{\"\xe9\":1}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  /* size and counts */
  {"huge-string", "{\"a\":\"", "x", 2 * 1024 * 1024, "\"}",
      DS_PROTOCOL_ERROR_TOO_LARGE},
  {"many-elements", "{\"a\":[0", ",0", 200000, "]}",
      DS_PROTOCOL_ERROR_TOO_LARGE},
  {"many-keys", "{\"k\":0", ",\"k%u\":0", 20000, "}",
      DS_PROTOCOL_ERROR_TOO_LARGE, TRUE},
  /* not JSON, json-glib 1.6 being lenient or not */
  {"trailing-comma", "{\"a\":1,}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"trailing-comma-array", "{\"a\":[1,]}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"missing-comma", "{\"a\":1 \"b\":2}", NULL, 0, NULL,
      DS_PROTOCOL_ERROR_BAD_JSON},
  {"bare-key", "{a:1}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"bare-word", "{\"a\":tru}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"nan", "{\"a\":NaN}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"infinity", "{\"a\":-Infinity}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"leading-zero", "{\"a\":01}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"bare-dot", "{\"a\":1.}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"dot-first", "{\"a\":.5}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"plus", "{\"a\":+1}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"hex", "{\"a\":0x10}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"bad-exponent", "{\"a\":1e}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"form-feed", "\f{}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"unclosed", "{\"a\":[1,2", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"mismatched", "{\"a\":[1}]", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
  {"two-values", "{} {}", NULL, 0, NULL, DS_PROTOCOL_ERROR_BAD_JSON},
};

static GString *
build_case (const gchar * head, const gchar * repeat, guint n_repeat,
    const gchar * tail)
{
  GString *s = g_string_new (head);
  /* "%u" in @repeat: numbered, for distinct keys */
  gchar **parts = repeat ? g_strsplit (repeat, "%u", 2) : NULL;
  guint i;

  for (i = 0; i < n_repeat; i++) {
    g_string_append (s, parts[0]);
    if (parts[1] != NULL) {
      g_string_append_printf (s, "%u", i);
      g_string_append (s, parts[1]);
    }
  }
  g_strfreev (parts);
  if (tail)
    g_string_append (s, tail);
  return s;
}

GST_START_TEST (test_hostile_json)
{
  const HostileCase *c = &hostile_cases[__i__];
  GString *text = build_case (c->head ? c->head : "", c->repeat,
      c->n_repeat, c->tail);
  DsSignalState *state = ds_signal_state_new ();
  GError *error = NULL;
  JsonNode *node;
  gchar *copy;
  gsize len = text->len;

  /* "utf16-bom" holds NUL bytes */
  if (strcmp (c->name, "utf16-bom") == 0)
    len = 6;
  /* an exact-size heap copy, not nul-terminated */
  copy = g_memdup2 (text->str, len);

  apply (state, TRUE, "{\"keep\":1}");

  if (c->signal_only) {
    fail_unless (ds_json_check (copy, len, NULL, NULL, &error), "%s: %s",
        c->name, error ? error->message : "");
  } else {
    fail_if (ds_json_check (copy, len, NULL, NULL, &error), "%s", c->name);
    fail_unless (error != NULL && error->code == c->code, "%s: %s", c->name,
        error ? error->message : "");
    g_clear_error (&error);
    node = ds_json_parse (copy, len, NULL, &error);
    fail_unless (node == NULL, "%s", c->name);
    g_clear_error (&error);
  }

  fail_unless (ds_signal_parse_object (copy, len, &error) == NULL, "%s",
      c->name);
  fail_unless (error != NULL && error->code == c->code, "%s: %s", c->name,
      error ? error->message : "");
  g_clear_error (&error);
  fail_if (ds_signal_state_apply (state, FALSE, copy, len, &error), "%s",
      c->name);
  g_clear_error (&error);
  fail_if (ds_signal_state_apply (state, TRUE, copy, len, &error), "%s",
      c->name);
  g_clear_error (&error);
  fail_unless (ds_subscribe_filter_parse (copy, len, &error) == NULL);
  g_clear_error (&error);
  fail_unless (ds_schema_parse (copy, len, &error) == NULL);
  g_clear_error (&error);
  fail_unless (ds_signal_filter (copy, len, NULL, NULL, &error) == NULL);
  g_clear_error (&error);
  assert_state_json (state, NULL, "{\"keep\":1}");

  g_free (copy);
  g_string_free (text, TRUE);
  ds_signal_state_free (state);
}

GST_END_TEST;

/* Plain JSON at the edges of the grammar and of the bounds: accepted,
 * and read as json-glib reads it */
static const struct
{
  const gchar *in;
  const gchar *out;             /* ds_signal_object_to_json () */
} edge_cases[] = {
  {"{}", "{}"},
  {" \t\r\n{ \"a\" : [ ] , \"b\" : { } }\r\n ", "{\"a\":[],\"b\":{}}"},
  /* one byte order mark is skipped, as json-glib does */
  {"\xef\xbb\xbf{\"a\":1}", "{\"a\":1}"},
  {"{\"\":1}", "{\"\":1}"},
  {"{\"a\":1,\"a\":2}", "{\"a\":2}"},
  {"{\"s\":\"/*not a comment*/ // \\\"[[[{{{\"}",
      "{\"s\":\"/*not a comment*/ // \\\"[[[{{{\"}"},
  {"{\"e\":\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\"}",
      "{\"e\":\"\u00e9\xf0\x9f\x98\x80/\\b\\f\\n\\r\\t\\\"\\\\\"}"},
  {"{\"n\":[-0,0.5,-1.5e-3,1E5,2e+2,0e0]}",
      "{\"n\":[0,0.5,-0.0015,100000.0,200.0,0.0]}"},
  {"{\"t\":true,\"f\":false,\"z\":null}",
      "{\"t\":true,\"f\":false,\"z\":null}"},
  {"{\"u\":\"\xe2\x98\x83\xf4\x8f\xbf\xbf\"}",
      "{\"u\":\"\xe2\x98\x83\xf4\x8f\xbf\xbf\"}"},
};

GST_START_TEST (test_json_edge_cases)
{
  JsonObject *object;
  gchar *json;

  object = parse (edge_cases[__i__].in);
  json = ds_signal_object_to_json (object, NULL);
  fail_unless_equals_string (json, edge_cases[__i__].out);
  g_free (json);
  json_object_unref (object);
}

GST_END_TEST;

GST_START_TEST (test_json_bounds_edges)
{
  DsJsonLimits limits;
  GString *s;
  GError *error = NULL;
  guint n_members = 0;
  JsonObject *object;
  guint i;

  /* 64 levels are fine, 65 are not (the signal object is one) */
  s = build_case ("{\"a\":", "[", 63, NULL);
  for (i = 0; i < 63; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  object = parse (s->str);
  json_object_unref (object);
  g_string_insert_c (s, 5, '[');
  g_string_insert_c (s, s->len - 1, ']');
  fail_unless (ds_signal_parse_object (s->str, s->len, &error) == NULL);
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_string_free (s, TRUE);

  /* exactly the default number of keys */
  s = build_case ("{\"k0\":0", NULL, 0, NULL);
  for (i = 1; i < DS_SIGNAL_DEFAULT_MAX_KEYS; i++)
    g_string_append_printf (s, ",\"k%u\":0", i);
  g_string_append_c (s, '}');
  object = parse (s->str);
  fail_unless_equals_int (json_object_get_size (object),
      DS_SIGNAL_DEFAULT_MAX_KEYS);
  json_object_unref (object);
  g_string_truncate (s, s->len - 1);
  g_string_append (s, ",\"one-more\":0}");
  fail_unless (ds_signal_parse_object (s->str, s->len, &error) == NULL);
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_string_free (s, TRUE);

  /* counting members and elements; limits given */
  ds_json_limits_init (&limits);
  fail_unless (ds_json_check ("{\"a\":[1,2,{\"b\":3}],\"c\":[]}", 26,
          &limits, &n_members, NULL));
  fail_unless_equals_int (n_members, 6);
  limits.max_members = 4;
  fail_if (ds_json_check ("{\"a\":[1,2,{\"b\":3}],\"c\":[]}", 26, &limits,
          NULL, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);
  limits.max_members = 0;
  limits.max_bytes = 25;
  fail_if (ds_json_check ("{\"a\":[1,2,{\"b\":3}],\"c\":[]}", 26, &limits,
          NULL, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* any JSON value for ds_json_parse(), objects only for signals */
  {
    JsonNode *node = ds_json_parse ("[1, \"x\"]", 8, NULL, &error);

    g_assert_no_error (error);
    fail_unless (JSON_NODE_HOLDS_ARRAY (node));
    json_node_unref (node);
  }
}

GST_END_TEST;

/* The merged state is bounded too (issue 11 item 6): a frame that would
 * take it over a bound is refused and changes nothing */
GST_START_TEST (test_state_bounds)
{
  DsSignalState *state = ds_signal_state_new ();
  DsSignalLimits limits = { 0, 3 };
  GError *error = NULL;
  gchar *json;

  fail_unless_equals_int (ds_signal_state_get_size (state), 2);
  fail_unless (ds_signal_state_apply_full (state, TRUE,
          "{\"a\":1,\"b\":2}", 13, &limits, NULL));
  fail_unless (ds_signal_state_apply_full (state, FALSE, "{\"c\":3}", 7,
          &limits, NULL));
  /* a fourth key, alone or with known ones */
  fail_if (ds_signal_state_apply_full (state, FALSE, "{\"a\":5,\"d\":4}", 13,
          &limits, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);
  assert_state_json (state, NULL, "{\"a\":1,\"b\":2,\"c\":3}");
  /* known keys only: fine; a sync replaces, so its own keys count */
  fail_unless (ds_signal_state_apply_full (state, FALSE,
          "{\"a\":5,\"b\":6,\"c\":7}", 19, &limits, NULL));
  fail_unless (ds_signal_state_apply_full (state, TRUE,
          "{\"x\":1,\"y\":2,\"z\":3}", 19, &limits, NULL));
  fail_if (ds_signal_state_apply_full (state, TRUE,
          "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", 25, &limits, NULL));
  assert_state_json (state, NULL, "{\"x\":1,\"y\":2,\"z\":3}");

  /* bytes: the size follows the serialised state exactly without "_v" */
  json = ds_signal_state_to_json (state, NULL, NULL);
  fail_unless_equals_int (ds_signal_state_get_size (state), strlen (json));
  g_free (json);
  limits.max_keys = 0;
  limits.max_bytes = 40;
  fail_unless (ds_signal_state_apply_full (state, FALSE,
          "{\"long\":\"0123456789\"}", 21, &limits, NULL));
  json = ds_signal_state_to_json (state, NULL, NULL);
  fail_unless_equals_int (ds_signal_state_get_size (state), strlen (json));
  g_free (json);
  fail_if (ds_signal_state_apply_full (state, FALSE,
          "{\"more\":\"0123456789\"}", 21, &limits, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);
  /* a shorter value of a known key makes room */
  fail_unless (ds_signal_state_apply_full (state, FALSE,
          "{\"long\":0,\"more\":1}", 19, &limits, NULL));
  /* a frame over the byte bound is refused before it is parsed */
  fail_if (ds_signal_state_apply_full (state, TRUE,
          "{\"a\":\"01234567890123456789012345678901234567890\"}", 49,
          &limits, &error));
  g_assert_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* versions count in the estimate, which stays above the real size */
  ds_signal_state_clear (state);
  fail_unless_equals_int (ds_signal_state_get_size (state), 2);
  limits.max_bytes = 0;
  fail_unless (ds_signal_state_apply_full (state, FALSE,
          "{\"a\":1,\"_v\":{\"a\":12345}}", 24, &limits, NULL));
  json = ds_signal_state_to_json (state, NULL, NULL);
  fail_unless (ds_signal_state_get_size (state) >= strlen (json));
  g_free (json);

  ds_signal_state_free (state);
}

GST_END_TEST;

static Suite *
dssignal_suite (void)
{
  Suite *s = suite_create ("dssignal");
  TCase *tc;

  tc = tcase_create ("merge");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sync_replaces_diff_sets);
  tcase_add_test (tc, test_null_is_a_value);
  tcase_add_test (tc, test_reserved_keys_dropped);
  tcase_add_test (tc, test_versions_in_diffs);
  tcase_add_test (tc, test_sync_replaces_versions);

  tc = tcase_create ("catchup");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, catchup_merges_multiple_diffs);
  tcase_add_test (tc, catchup_diffs_only_no_sync);
  tcase_add_test (tc, catchup_preserves_version_counters);

  tc = tcase_create ("source");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_update_only_changed_keys);
  tcase_add_test (tc, test_update_versioned);

  tc = tcase_create ("select");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_filter, 0, G_N_ELEMENTS (filter_cases));
  tcase_add_test (tc, test_state_to_json_select);
  tcase_add_test (tc, test_subscribe_filter);
  tcase_add_test (tc, test_schema);

  tc = tcase_create ("serialise");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_serialise, 0, G_N_ELEMENTS (serialise_cases));
  tcase_add_test (tc, test_serialise_lone_surrogate);

  tc = tcase_create ("malformed");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_bad_json, 0, G_N_ELEMENTS (bad_json_cases));
  tcase_add_test (tc, test_deep_nesting_refused);
  tcase_add_loop_test (tc, test_hostile_json, 0, G_N_ELEMENTS (hostile_cases));
  tcase_add_loop_test (tc, test_json_edge_cases, 0, G_N_ELEMENTS (edge_cases));
  tcase_add_test (tc, test_json_bounds_edges);
  tcase_add_test (tc, test_state_bounds);

  return s;
}

GST_CHECK_MAIN (dssignal);
