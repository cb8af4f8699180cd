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
 * ds-aggregator: a receiver and a source at once (docs/protocol.md, §7
 * "Composition"). It receives the signals of two channels, derives new
 * values from them and publishes those on a channel of its own:
 *
 *   dsstreamsrc (A) ! dsdepay ! appsink ─┐
 *                                        ├─ derive ─ appsrc ! dspay ! dsrelaysink (OUT)
 *   dsstreamsrc (B) ! dsdepay ! appsink ─┘
 *
 * dsdepay hands over the whole merged signal state of a channel as one JSON
 * object per line; the aggregator publishes one JSON object per change and
 * once a second (for the uptime), and dspay sends only what changed.
 *
 * Usage:
 *   ds-aggregator [--relay ws://127.0.0.1:9100] [--out aggregate] CHANNEL_A CHANNEL_B
 *
 * Published signals: "sum" (the sum of every numeric signal of both
 * inputs), "events" (input updates received), "updates_a"/"updates_b",
 * "uptime_s", and "status" ("ok" once both inputs have sent state, else
 * "waiting for …").
 */

#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <json-glib/json-glib.h>

#include "dssignal.h"

typedef struct
{
  const gchar *name;
  JsonObject *state;            /* latest merged state, or NULL */
  guint64 updates;
} Input;

typedef struct
{
  GMutex lock;
  Input inputs[2];
  guint64 events;
  gint64 start_time;
  gchar *last_published;
  GstAppSrc *out;
  GMainLoop *loop;
  GstElement *pipeline;
} Aggregator;

static gdouble
sum_numbers (JsonObject * state)
{
  GList *members, *l;
  gdouble sum = 0.0;

  if (state == NULL)
    return 0.0;

  members = json_object_get_members (state);
  for (l = members; l != NULL; l = l->next) {
    const gchar *key = l->data;
    JsonNode *node = json_object_get_member (state, key);
    GType type;

    if (key[0] == '_' || !JSON_NODE_HOLDS_VALUE (node))
      continue;
    type = json_node_get_value_type (node);
    if (type == G_TYPE_INT64)
      sum += (gdouble) json_node_get_int (node);
    else if (type == G_TYPE_DOUBLE)
      sum += json_node_get_double (node);
  }
  g_list_free (members);
  return sum;
}

/* Builds the derived state and pushes it as one JSON line when it differs
 * from the last one. Called with the lock held. */
static void
publish_locked (Aggregator * agg)
{
  JsonBuilder *builder;
  JsonGenerator *gen;
  JsonNode *root;
  gchar *json, *line;
  gdouble sum;
  GString *status;
  gint i;

  sum = sum_numbers (agg->inputs[0].state) + sum_numbers (agg->inputs[1].state);

  status = g_string_new (NULL);
  for (i = 0; i < 2; i++) {
    if (agg->inputs[i].state == NULL)
      g_string_append_printf (status, "%s%s",
          status->len ? ", " : "waiting for ", agg->inputs[i].name);
  }
  if (status->len == 0)
    g_string_assign (status, "ok");

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sum");
  json_builder_add_double_value (builder, sum);
  json_builder_set_member_name (builder, "events");
  json_builder_add_int_value (builder, agg->events);
  json_builder_set_member_name (builder, "updates_a");
  json_builder_add_int_value (builder, agg->inputs[0].updates);
  json_builder_set_member_name (builder, "updates_b");
  json_builder_add_int_value (builder, agg->inputs[1].updates);
  json_builder_set_member_name (builder, "uptime_s");
  json_builder_add_int_value (builder,
      (g_get_monotonic_time () - agg->start_time) / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status->str);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, NULL);

  if (g_strcmp0 (json, agg->last_published) != 0) {
    line = g_strconcat (json, "\n", NULL);
    /* the buffer takes the line */
    gst_app_src_push_buffer (agg->out,
        gst_buffer_new_wrapped (line, strlen (line)));
    g_free (agg->last_published);
    agg->last_published = json;
  } else {
    g_free (json);
  }

  g_object_unref (gen);
  json_node_unref (root);
  g_object_unref (builder);
  g_string_free (status, TRUE);
}

/* dsdepay's signal pad: each buffer holds one or more lines, each the whole
 * merged state of the channel. The last complete one wins. */
static GstFlowReturn
on_new_sample (GstAppSink * sink, gpointer user_data)
{
  Aggregator *agg = user_data;
  Input *input = g_object_get_data (G_OBJECT (sink), "ds-input");
  GstSample *sample;
  GstBuffer *buffer;
  GstMapInfo map;
  gchar *text, **lines;
  gint i;

  sample = gst_app_sink_pull_sample (sink);
  if (sample == NULL)
    return GST_FLOW_EOS;

  buffer = gst_sample_get_buffer (sample);
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    gst_sample_unref (sample);
    return GST_FLOW_OK;
  }

  /* the data is not NUL-terminated: split a copy */
  text = g_strndup ((const gchar *) map.data, map.size);
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  gst_buffer_unmap (buffer, &map);
  gst_sample_unref (sample);

  g_mutex_lock (&agg->lock);
  for (i = 0; lines[i] != NULL; i++) {
    JsonObject *object;
    GError *error = NULL;

    if (lines[i][0] == '\0')
      continue;
    /* the project's bounded JSON reader, as for anything from outside */
    object = ds_signal_parse_object (lines[i], strlen (lines[i]), &error);
    if (object == NULL) {
      g_printerr ("ds-aggregator: %s: skipping a line: %s\n", input->name,
          error->message);
      g_clear_error (&error);
      continue;
    }
    if (input->state)
      json_object_unref (input->state);
    input->state = object;
    input->updates++;
    agg->events++;
  }
  publish_locked (agg);
  g_mutex_unlock (&agg->lock);

  g_strfreev (lines);
  return GST_FLOW_OK;
}

static gboolean
on_tick (gpointer user_data)
{
  Aggregator *agg = user_data;

  g_mutex_lock (&agg->lock);
  publish_locked (agg);
  g_mutex_unlock (&agg->lock);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_interrupt (gpointer user_data)
{
  Aggregator *agg = user_data;

  g_printerr ("ds-aggregator: interrupted, stopping\n");
  g_main_loop_quit (agg->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Aggregator *agg = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      g_printerr ("ds-aggregator: error from %s: %s\n%s\n",
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
          debug ? debug : "");
      g_clear_error (&err);
      g_free (debug);
      g_main_loop_quit (agg->loop);
      break;
    }
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      g_printerr ("ds-aggregator: warning from %s: %s\n",
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (agg->loop);
      break;
    default:
      break;
  }
  return TRUE;
}

static gboolean
channel_name_is_valid (const gchar * name)
{
  gsize len = strlen (name), i;

  if (len < 1 || len > 64)
    return FALSE;
  for (i = 0; i < len; i++) {
    if (!g_ascii_isalnum (name[i]) && name[i] != '.' && name[i] != '_'
        && name[i] != '-')
      return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  static gchar *relay = NULL;
  static gchar *out = NULL;
  static gchar *select = NULL;
  GOptionEntry entries[] = {
    {"relay", 'r', 0, G_OPTION_ARG_STRING, &relay,
        "Relay base URL (default ws://127.0.0.1:9100)", "URL"},
    {"out", 'o', 0, G_OPTION_ARG_STRING, &out,
        "Channel to publish on (default aggregate)", "CHANNEL"},
    {"select", 's', 0, G_OPTION_ARG_STRING, &select,
        "Only these input signals, comma-separated (default all)", "NAMES"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  Aggregator agg = { 0 };
  gchar *description, *select_prop;
  GstElement *sink_a, *sink_b, *src;
  GstBus *bus;
  gint i;

  ctx = g_option_context_new ("CHANNEL_A CHANNEL_B - derive signals from "
      "two ds-stream channels and publish them");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("ds-aggregator: %s\n", error->message);
    g_clear_error (&error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);

  if (argc != 3) {
    g_printerr ("usage: ds-aggregator [--relay URL] [--out CHANNEL] "
        "CHANNEL_A CHANNEL_B\n");
    return 2;
  }
  if (relay == NULL)
    relay = g_strdup ("ws://127.0.0.1:9100");
  if (out == NULL)
    out = g_strdup ("aggregate");
  for (i = 1; i < 3; i++) {
    if (!channel_name_is_valid (argv[i])) {
      g_printerr ("ds-aggregator: bad channel name '%s' (1-64 of A-Z a-z "
          "0-9 . _ -)\n", argv[i]);
      return 2;
    }
  }
  if (!channel_name_is_valid (out)) {
    g_printerr ("ds-aggregator: bad channel name '%s'\n", out);
    return 2;
  }

  select_prop = select ? g_strdup_printf (" select=\"<%s>\"", select) :
      g_strdup ("");
  description = g_strdup_printf
      ("dsstreamsrc location=%s/stream/%s%s ! dsdepay "
      "! application/x-ds-signal ! appsink name=a sync=false "
      "dsstreamsrc location=%s/stream/%s%s ! dsdepay "
      "! application/x-ds-signal ! appsink name=b sync=false "
      "appsrc name=out is-live=true do-timestamp=true format=time "
      "caps=application/x-ds-signal ! dspay "
      "! dsrelaysink location=%s/peer/%s",
      relay, argv[1], select_prop, relay, argv[2], select_prop, relay, out);
  g_free (select_prop);

  agg.pipeline = gst_parse_launch (description, &error);
  g_free (description);
  if (agg.pipeline == NULL) {
    g_printerr ("ds-aggregator: %s\n", error->message);
    g_clear_error (&error);
    return 1;
  }

  g_mutex_init (&agg.lock);
  agg.inputs[0].name = argv[1];
  agg.inputs[1].name = argv[2];
  agg.start_time = g_get_monotonic_time ();
  agg.loop = g_main_loop_new (NULL, FALSE);

  sink_a = gst_bin_get_by_name (GST_BIN (agg.pipeline), "a");
  sink_b = gst_bin_get_by_name (GST_BIN (agg.pipeline), "b");
  src = gst_bin_get_by_name (GST_BIN (agg.pipeline), "out");
  agg.out = GST_APP_SRC (src);

  g_object_set_data (G_OBJECT (sink_a), "ds-input", &agg.inputs[0]);
  g_object_set_data (G_OBJECT (sink_b), "ds-input", &agg.inputs[1]);
  {
    GstAppSinkCallbacks callbacks = { 0 };

    callbacks.new_sample = on_new_sample;
    gst_app_sink_set_callbacks (GST_APP_SINK (sink_a), &callbacks, &agg, NULL);
    gst_app_sink_set_callbacks (GST_APP_SINK (sink_b), &callbacks, &agg, NULL);
  }

  bus = gst_element_get_bus (agg.pipeline);
  gst_bus_add_watch (bus, on_bus_message, &agg);
  g_unix_signal_add (SIGINT, on_interrupt, &agg);
  g_unix_signal_add (SIGTERM, on_interrupt, &agg);
  g_timeout_add_seconds (1, on_tick, &agg);

  if (gst_element_set_state (agg.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("ds-aggregator: the pipeline does not start\n");
    return 1;
  }
  g_print ("ds-aggregator: %s + %s -> %s/peer/%s\n", argv[1], argv[2], relay,
      out);

  /* the first state, "waiting for …", right away */
  on_tick (&agg);
  g_main_loop_run (agg.loop);

  gst_element_set_state (agg.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (sink_a);
  gst_object_unref (sink_b);
  gst_object_unref (src);
  gst_object_unref (agg.pipeline);
  g_main_loop_unref (agg.loop);
  for (i = 0; i < 2; i++) {
    if (agg.inputs[i].state)
      json_object_unref (agg.inputs[i].state);
  }
  g_free (agg.last_published);
  g_mutex_clear (&agg.lock);
  g_free (relay);
  g_free (out);
  g_free (select);
  return 0;
}
