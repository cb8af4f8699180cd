/* gst-ds-stream
 * Copyright (C) 2026 gst-ds-stream developers
 *
 * generic/states: every element of the dsstream and dssoup plugins
 * through every state change
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
 * The elements are found in the registry (the build folder is the plugin
 * path), so an element added to a plugin is tested without touching this
 * file; the ones the module must have are checked by name first.
 *
 * Elements with a "location" or "uri" property are network elements:
 * they are pointed at a 127.0.0.1 port that was just closed, so nothing
 * answers. Going up may then fail (they cannot connect), but going back
 * to NULL must succeed and must not block.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gio/gio.h>
#include <gst/check/gstcheck.h>

/* How long a state change back to NULL may take before it counts as
 * blocked. Generous: this detects hangs, it does not time anything. */
#define TO_NULL_LIMIT_US (10 * G_USEC_PER_SEC)

/* How long to let an asynchronous state change settle: a sink alone
 * never prerolls, so this is not a wait for completion */
#define ASYNC_WAIT (200 * GST_MSECOND)

static const gchar *required_elements[] = {
#ifdef DS_HAVE_DSSTREAM
  "dspay", "dsdepay", "dsdelta", "dsmux", "dsparse",
#endif
#ifdef DS_HAVE_DSSOUP
  "dsrelaysink", "dsstreamsrc",
#endif
  NULL
};

static const gchar *plugin_names[] = { "dsstream", "dssoup", NULL };

/* Factory names of every element of our plugins, filled in by the suite */
static GPtrArray *element_names;

static guint closed_port;

/* A port on 127.0.0.1 that nothing listens on: bound, then closed */
static guint
find_closed_port (void)
{
  GSocket *socket;
  GInetAddress *loopback;
  GSocketAddress *address, *bound;
  guint port;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (socket != NULL);
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  g_assert_true (bound != NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);

  g_object_unref (bound);
  g_object_unref (address);
  g_object_unref (loopback);
  g_object_unref (socket);

  return port;
}

static const gchar *
network_property (GstElement * element)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (element);

  if (g_object_class_find_property (klass, "location") != NULL)
    return "location";
  if (g_object_class_find_property (klass, "uri") != NULL)
    return "uri";
  return NULL;
}

/* Creates the element; a network element is pointed at the closed port.
 * Returns whether it is one. */
static GstElement *
make_element (const gchar * name, gboolean * is_network)
{
  GstElement *element;
  const gchar *property;

  /* Criticals fail the test with their own text: say whose they are */
  g_printerr ("states: %s\n", name);
  element = gst_element_factory_make (name, NULL);
  fail_unless (element != NULL, "could not create %s", name);

  property = network_property (element);
  *is_network = (property != NULL);
  if (property != NULL) {
    const gchar *klass;
    gchar *location;

    /* A receiver (a source element) asks for /stream/, a publisher (a
     * sink element) for /peer/ */
    klass = gst_element_class_get_metadata (GST_ELEMENT_GET_CLASS (element),
        GST_ELEMENT_METADATA_KLASS);
    location = g_strdup_printf ("ws://127.0.0.1:%u/%s/states", closed_port,
        strstr (klass, "Sink") != NULL ? "peer" : "stream");
    g_object_set (element, property, location, NULL);
    g_free (location);
  }

  return element;
}

/* Sets @state and waits (bounded) for it; returns the outcome */
static GstStateChangeReturn
change_state (GstElement * element, GstState state)
{
  GstStateChangeReturn ret;

  ret = gst_element_set_state (element, state);
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (element, NULL, NULL, ASYNC_WAIT);

  return ret;
}

static void
go_up (GstElement * element, const gchar * name, GstState state,
    gboolean may_fail)
{
  GstStateChangeReturn ret;

  ret = change_state (element, state);
  /* A sink with nothing upstream never prerolls: ASYNC is fine */
  if (!may_fail)
    fail_if (ret == GST_STATE_CHANGE_FAILURE, "%s: could not go to %s",
        name, gst_element_state_get_name (state));
}

static void
go_to_null (GstElement * element, const gchar * name)
{
  GstStateChangeReturn ret;
  GstState current = GST_STATE_VOID_PENDING;
  gint64 start, took;

  start = g_get_monotonic_time ();
  ret = gst_element_set_state (element, GST_STATE_NULL);
  took = g_get_monotonic_time () - start;

  fail_unless_equals_int (ret, GST_STATE_CHANGE_SUCCESS);
  fail_unless (took < TO_NULL_LIMIT_US, "%s: going to NULL blocked for "
      "%" G_GINT64_FORMAT " ms", name, took / 1000);
  fail_unless_equals_int (gst_element_get_state (element, &current, NULL, 0),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (current, GST_STATE_NULL);
}

static void
drain_bus (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);

  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

/* Every element of the module is in the registry, from our build */
GST_START_TEST (test_elements_present)
{
  guint i;

  for (i = 0; required_elements[i] != NULL; i++) {
    GstElementFactory *factory;

    factory = gst_element_factory_find (required_elements[i]);
    fail_unless (factory != NULL, "element %s is not in the registry",
        required_elements[i]);
    gst_object_unref (factory);
  }
}

GST_END_TEST;

/* NULL -> READY -> PAUSED -> PLAYING -> PAUSED -> READY -> NULL, one step
 * at a time, then straight up and straight down */
GST_START_TEST (test_state_changes_up_and_down)
{
  const gchar *name = g_ptr_array_index (element_names, __i__);
  GstElement *element;
  gboolean network;

  element = make_element (name, &network);

  go_up (element, name, GST_STATE_READY, FALSE);
  go_up (element, name, GST_STATE_PAUSED, network);
  go_up (element, name, GST_STATE_PLAYING, network);
  go_up (element, name, GST_STATE_PAUSED, network);
  go_up (element, name, GST_STATE_READY, network);
  go_to_null (element, name);

  /* A second round reuses the element: state must be rebuilt cleanly */
  go_up (element, name, GST_STATE_READY, FALSE);
  go_up (element, name, GST_STATE_PAUSED, network);
  go_to_null (element, name);

  gst_object_unref (element);
}

GST_END_TEST;

/* Straight to PLAYING and straight back to NULL, several times */
GST_START_TEST (test_state_changes_jumps)
{
  const gchar *name = g_ptr_array_index (element_names, __i__);
  GstElement *element;
  gboolean network;
  guint round;

  element = make_element (name, &network);

  for (round = 0; round < 3; round++) {
    go_up (element, name, GST_STATE_PLAYING, network);
    go_to_null (element, name);
    go_up (element, name, GST_STATE_PAUSED, network);
    go_to_null (element, name);
  }

  gst_object_unref (element);
}

GST_END_TEST;

/* The same inside a pipeline, which distributes the changes and collects
 * the messages (errors from network elements that cannot connect) */
GST_START_TEST (test_state_changes_in_pipeline)
{
  const gchar *name = g_ptr_array_index (element_names, __i__);
  GstElement *pipeline, *element;
  gboolean network;
  guint round;

  pipeline = gst_pipeline_new ("states");
  element = make_element (name, &network);
  fail_unless (gst_bin_add (GST_BIN (pipeline), element));

  for (round = 0; round < 2; round++) {
    go_up (pipeline, name, GST_STATE_READY, FALSE);
    go_up (pipeline, name, GST_STATE_PLAYING, network);
    go_to_null (pipeline, name);
    fail_unless_equals_int (GST_STATE (element), GST_STATE_NULL);
  }

  drain_bus (pipeline);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static void
collect_element_names (void)
{
  GstRegistry *registry = gst_registry_get ();
  const gchar *ignore_env = g_getenv ("GST_STATE_IGNORE_ELEMENTS");
  gchar **ignore;
  guint i;

  /* As upstream: elements listed there (space or comma separated) are
   * not state-tested, for a machine where one cannot work */
  ignore = g_strsplit_set (ignore_env != NULL ? ignore_env : "", " ,", -1);
  element_names = g_ptr_array_new_with_free_func (g_free);

  for (i = 0; plugin_names[i] != NULL; i++) {
    GList *features, *l;

    features = gst_registry_get_feature_list_by_plugin (registry,
        plugin_names[i]);
    for (l = features; l != NULL; l = l->next) {
      const gchar *name = gst_plugin_feature_get_name (l->data);

      if (!GST_IS_ELEMENT_FACTORY (l->data))
        continue;
      if (g_strv_contains ((const gchar * const *) ignore, name)) {
        g_printerr ("states: %s ignored (GST_STATE_IGNORE_ELEMENTS)\n", name);
        continue;
      }
      g_ptr_array_add (element_names, g_strdup (name));
    }
    gst_plugin_feature_list_free (features);
  }
  g_strfreev (ignore);
}

static Suite *
states_suite (void)
{
  Suite *s = suite_create ("states");
  TCase *tc_chain = tcase_create ("general");

  collect_element_names ();
  closed_port = find_closed_port ();

  suite_add_tcase (s, tc_chain);
  tcase_add_test (tc_chain, test_elements_present);
  tcase_add_loop_test (tc_chain, test_state_changes_up_and_down, 0,
      element_names->len);
  tcase_add_loop_test (tc_chain, test_state_changes_jumps, 0,
      element_names->len);
  tcase_add_loop_test (tc_chain, test_state_changes_in_pipeline, 0,
      element_names->len);

  return s;
}

GST_CHECK_MAIN (states);
