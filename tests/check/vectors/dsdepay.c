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
 * The shared test vectors (tests/vectors/README.md) through the real
 * dsdepay: every vector's frames, and each of its catch-ups, one message
 * per buffer as dsstreamsrc pushes them. After each frame, what came out
 * of the pads must be what the vector says: a picture with the expected
 * checksum and size, the merged signal state, the audio, the image, or
 * nothing; at the end dsdepay's malformed, dropped and gaps counters.
 * The viewer's decoder runs the same files (tests/browser/vectors*.mjs).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <json-glib/json-glib.h>

#include "dsprotocol.h"
#include "gstdsutils.h"

enum
{
  OUT_VIDEO,
  OUT_IMAGE,
  OUT_AUDIO,
  OUT_SIGNAL,
  N_OUTS
};

static const gchar *const out_names[N_OUTS] = {
  "video", "image", "audio", "signal"
};

#ifdef HAVE_ZSTD
#define DEPAY_HAS_ZSTD TRUE
#else
#define DEPAY_HAS_ZSTD FALSE
#endif

/* The vectors' JSON files, found when the suite is made */
static GPtrArray *vector_files;

typedef struct
{
  GstHarness *in;
  GstHarness *out[N_OUTS];
} Depay;

static void
on_pad_added (GstElement * element, GstPad * pad, Depay * d)
{
  guint i;

  for (i = 0; i < N_OUTS; i++) {
    if (strcmp (GST_PAD_NAME (pad), out_names[i]) == 0) {
      d->out[i] = gst_harness_new_with_element (element, NULL, NULL);
      gst_harness_add_element_src_pad (d->out[i], pad);
      return;
    }
  }
  fail ("dsdepay added an unknown pad %s", GST_PAD_NAME (pad));
}

static Depay *
depay_new (void)
{
  Depay *d = g_new0 (Depay, 1);

  d->in = gst_harness_new_with_padnames ("dsdepay", "sink", NULL);
  g_signal_connect (d->in->element, "pad-added", G_CALLBACK (on_pad_added), d);
  gst_harness_set_src_caps_str (d->in, GST_DS_STREAM_MEDIA_TYPE);
  return d;
}

static void
depay_free (Depay * d)
{
  guint i;

  for (i = 0; i < N_OUTS; i++) {
    if (d->out[i])
      gst_harness_teardown (d->out[i]);
  }
  gst_harness_teardown (d->in);
  g_free (d);
}

/* The buffers that came out of @out since the last call (a new list) */
static GList *
take_buffers (Depay * d, guint out)
{
  GList *list = NULL;
  GstBuffer *buf;

  if (d->out[out] == NULL)
    return NULL;
  while ((buf = gst_harness_try_pull (d->out[out])))
    list = g_list_append (list, buf);
  return list;
}

static guint64
get_stat (Depay * d, const gchar * name)
{
  GstStructure *stats = NULL;
  guint64 value = 0;

  g_object_get (d->in->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, name, &value));
  gst_structure_free (stats);
  return value;
}

/* FNV-1a 32 of RGBA with every alpha byte taken as 255, as hex */
static gchar *
picture_checksum (GstBuffer * buf)
{
  GstMapInfo map;
  guint32 hash = 0x811c9dc5;
  gsize i;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  for (i = 0; i < map.size; i++) {
    hash ^= (i & 3) == 3 ? 0xff : map.data[i];
    hash *= 0x01000193;
  }
  gst_buffer_unmap (buf, &map);
  return g_strdup_printf ("%08x", hash);
}

/* FNV-1a 32 of the bytes as they are (an access unit), as hex */
static gchar *
unit_checksum (GstBuffer * buf)
{
  GstMapInfo map;
  guint32 hash = 0x811c9dc5;
  gsize i;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  for (i = 0; i < map.size; i++) {
    hash ^= map.data[i];
    hash *= 0x01000193;
  }
  gst_buffer_unmap (buf, &map);
  return g_strdup_printf ("%08x", hash);
}

static const gchar *
member_string (JsonObject * o, const gchar * name)
{
  JsonNode *node = json_object_get_member (o, name);

  return node && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_string (node) :
      NULL;
}

/* Checks the buffers one step gave: as many as expected on each pad (one
 * or none), with the expected contents */
static void
check_step (Depay * d, JsonObject * step, const gchar * where)
{
  const gchar *result = member_string (step, "result");
  GList *got[N_OUTS];
  guint i, want[N_OUTS] = { 0, };

  if (g_strcmp0 (result, "picture") == 0 || g_strcmp0 (result, "unit") == 0)
    want[OUT_VIDEO] = 1;
  else if (g_strcmp0 (result, "image") == 0)
    want[OUT_IMAGE] = 1;
  else if (g_strcmp0 (result, "audio") == 0)
    want[OUT_AUDIO] = 1;
  else if (g_strcmp0 (result, "signals") == 0)
    want[OUT_SIGNAL] = 1;

  for (i = 0; i < N_OUTS; i++) {
    got[i] = take_buffers (d, i);
    fail_unless (g_list_length (got[i]) == want[i],
        "%s (%s): %u %s buffers, expected %u", where, result,
        g_list_length (got[i]), out_names[i], want[i]);
  }

  if (want[OUT_VIDEO] && g_strcmp0 (result, "unit") == 0) {
    GstBuffer *buf = got[OUT_VIDEO]->data;
    gchar *sum = unit_checksum (buf);
    GstCaps *caps = gst_pad_get_current_caps (d->out[OUT_VIDEO]->sinkpad);
    GstStructure *s = gst_caps_get_structure (caps, 0);
    gint width = 0, height = 0;

    fail_unless (gst_buffer_get_size (buf) ==
        (gsize) json_object_get_int_member (step, "bytes"),
        "%s: unit of %" G_GSIZE_FORMAT " bytes", where,
        gst_buffer_get_size (buf));
    fail_unless (g_strcmp0 (sum, member_string (step, "unit")) == 0,
        "%s: unit checksum %s, expected %s", where, sum,
        member_string (step, "unit"));
    fail_unless_equals_int (!GST_BUFFER_FLAG_IS_SET (buf,
            GST_BUFFER_FLAG_DELTA_UNIT), json_object_get_boolean_member (step,
            "keyframe"));
    /* the only codec of the vectors */
    fail_unless_equals_string (member_string (step, "codec"), "H.264");
    fail_unless (gst_structure_has_name (s, "video/x-h264"), "%s: caps %"
        GST_PTR_FORMAT, where, caps);
    fail_unless (gst_structure_get_int (s, "width", &width) &&
        gst_structure_get_int (s, "height", &height));
    fail_unless_equals_int (width, json_object_get_int_member (step, "width"));
    fail_unless_equals_int (height, json_object_get_int_member (step,
            "height"));
    gst_caps_unref (caps);
    g_free (sum);
  } else if (want[OUT_VIDEO]) {
    GstBuffer *buf = got[OUT_VIDEO]->data;
    gchar *sum = picture_checksum (buf);
    gsize size = json_object_get_int_member (step, "width") *
        json_object_get_int_member (step, "height") * 4;

    fail_unless (gst_buffer_get_size (buf) == size,
        "%s: picture of %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT,
        where, gst_buffer_get_size (buf), size);
    fail_unless (g_strcmp0 (sum, member_string (step, "picture")) == 0,
        "%s: picture checksum %s, expected %s", where, sum,
        member_string (step, "picture"));
    g_free (sum);
  }
  if (want[OUT_AUDIO]) {
    fail_unless (gst_buffer_get_size (got[OUT_AUDIO]->data) ==
        (gsize) json_object_get_int_member (step, "bytes"), "%s: audio size",
        where);
  }
  if (want[OUT_SIGNAL]) {
    GstMapInfo map;
    JsonNode *line, *expected = json_object_get_member (step, "signals");
    gchar *text;

    fail_unless (gst_buffer_map (got[OUT_SIGNAL]->data, &map, GST_MAP_READ));
    text = g_strndup ((const gchar *) map.data, map.size);
    gst_buffer_unmap (got[OUT_SIGNAL]->data, &map);
    line = json_from_string (text, NULL);
    fail_unless (line != NULL, "%s: signal line %s is not JSON", where, text);
    fail_unless (json_node_equal (line, expected),
        "%s: signal state %s, expected %s", where, g_strstrip (text),
        json_to_string (expected, FALSE));
    json_node_unref (line);
    g_free (text);
  }

  for (i = 0; i < N_OUTS; i++)
    g_list_free_full (got[i], (GDestroyNotify) gst_buffer_unref);
}

/* Runs one frame sequence (@expected: steps and final) of @bytes through
 * a new dsdepay */
static void
run_sequence (GBytes * bytes, JsonObject * expected, const gchar * label)
{
  JsonArray *steps = json_object_get_array_member (expected, "steps");
  JsonObject *final = json_object_get_object_member (expected, "final");
  Depay *d = depay_new ();
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint k;

  for (k = 0; k < json_array_get_length (steps); k++) {
    JsonObject *step = json_array_get_object_element (steps, k);
    gsize at = json_object_get_int_member (step, "offset");
    gsize len = json_object_get_int_member (step, "length");
    GstBuffer *buf;
    gchar *where;

    fail_unless (at + len <= size, "%s: frame %u is outside the file", label,
        k);
    buf = gst_buffer_new_memdup (data + at, len);
    GST_BUFFER_PTS (buf) = k * GST_MSECOND;
    fail_unless_equals_int (gst_harness_push (d->in, buf), GST_FLOW_OK);
    where = g_strdup_printf ("%s frame %u (%s seq %" G_GINT64_FORMAT ")",
        label, k, member_string (step, "type") ? member_string (step,
            "type") : "not a frame", json_object_has_member (step, "seq") ?
        json_object_get_int_member (step, "seq") : -1);
    check_step (d, step, where);
    g_free (where);
  }

  fail_unless_equals_uint64 (get_stat (d, "malformed"),
      json_object_get_int_member (final, "malformed"));
  fail_unless_equals_uint64 (get_stat (d, "dropped"),
      json_object_get_int_member (final, "dropped"));
  fail_unless_equals_uint64 (get_stat (d, "gaps"),
      json_object_get_int_member (final, "missing"));
  depay_free (d);
}

static GBytes *
read_vector_file (const gchar * dir, const gchar * name)
{
  gchar *path = g_build_filename (dir, name, NULL);
  gchar *contents;
  gsize len;

  fail_unless (g_file_get_contents (path, &contents, &len, NULL),
      "cannot read %s", path);
  g_free (path);
  return g_bytes_new_take (contents, len);
}

static gboolean
vector_needs (JsonObject * vector, const gchar * what)
{
  JsonArray *needs;
  guint i;

  if (!json_object_has_member (vector, "needs"))
    return FALSE;
  needs = json_object_get_array_member (vector, "needs");
  for (i = 0; i < json_array_get_length (needs); i++) {
    if (g_strcmp0 (json_array_get_string_element (needs, i), what) == 0)
      return TRUE;
  }
  return FALSE;
}

GST_START_TEST (test_vector)
{
  const gchar *path = g_ptr_array_index (vector_files, __i__);
  gchar *dir = g_path_get_dirname (path);
  JsonParser *parser = json_parser_new ();
  JsonObject *vector;
  JsonArray *catchups;
  GBytes *frames, *catchup_frames;
  const gchar *name;
  guint i;

  fail_unless (json_parser_load_from_file (parser, path, NULL), "%s", path);
  vector = json_node_get_object (json_parser_get_root (parser));
  name = member_string (vector, "name");
  if (!DEPAY_HAS_ZSTD && vector_needs (vector, "zstd")) {
    GST_INFO ("vector %s skipped: dsdepay built without zstd", name);
    goto done;
  }
  frames = read_vector_file (dir, member_string (vector, "file"));
  catchup_frames = read_vector_file (dir, member_string (vector,
          "catchup_file"));

  run_sequence (frames, vector, name);
  catchups = json_object_get_array_member (vector, "catchups");
  for (i = 0; i < json_array_get_length (catchups); i++) {
    gchar *label = g_strdup_printf ("%s catch-up %u", name, i);

    run_sequence (catchup_frames, json_array_get_object_element (catchups, i),
        label);
    g_free (label);
  }
  g_bytes_unref (frames);
  g_bytes_unref (catchup_frames);

done:
  g_object_unref (parser);
  g_free (dir);
}

GST_END_TEST;

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

static void
find_vectors (void)
{
  const gchar *root = g_getenv ("DS_SOURCE_ROOT");
  gchar *dir = g_build_filename (root ? root : ".", "tests", "vectors", NULL);
  GDir *listing = g_dir_open (dir, 0, NULL);
  const gchar *name;

  vector_files = g_ptr_array_new_with_free_func (g_free);
  while (listing && (name = g_dir_read_name (listing))) {
    if (g_str_has_suffix (name, ".json"))
      g_ptr_array_add (vector_files, g_build_filename (dir, name, NULL));
  }
  g_ptr_array_sort (vector_files, compare_paths);
  if (listing)
    g_dir_close (listing);
  g_free (dir);
}

GST_START_TEST (test_vectors_found)
{
  fail_unless (vector_files->len >= 10, "only %u vectors in tests/vectors",
      vector_files->len);
}

GST_END_TEST;

static Suite *
vectors_suite (void)
{
  Suite *s = suite_create ("vectors");
  TCase *tc = tcase_create ("dsdepay");

  find_vectors ();
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_vectors_found);
  tcase_add_loop_test (tc, test_vector, 0, vector_files->len);
  return s;
}

GST_CHECK_MAIN (vectors);
