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
 * Helpers shared by the network element tests (elements/dsrelaysink.c and
 * elements/dsstreamsrc.c), header-only: frames and pictures to send, pipelines
 * built with gst_parse_launch (an appsrc "src" into dsrelaysink "sink", or
 * dsstreamsrc "src" into an appsink "sink"), bounded waits on properties, bus
 * messages and upstream events, signal state from received frames, and
 * loopback sockets that are closed or never answer. Every wait is bounded by
 * its timeout; failures go through the check framework (fail_unless...).
 *
 * For gst-check test programs only; start_relay() wraps ds-test-relay.h,
 * which it includes. The short names (get, push, pull, stop...) are kept
 * as the tests use them; don't include this next to code that has its own.
 */

#ifndef __DS_TEST_NET_H__
#define __DS_TEST_NET_H__

#include <string.h>
#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <ds/dsprotocol.h>
#include <ds/dsrle.h>
#include <ds/dssignal.h>
#include <ds/gstdsutils.h>

#include "ds-test-relay.h"

G_BEGIN_DECLS

/* How long the tests wait for something that should come: longer under
 * AddressSanitizer, where a wss:// handshake took over 10 s on a loaded
 * 2-core machine */
#define WAIT_MS (DS_TEST_SANITIZED ? 30000 : 10000)
/* Quick reconnects for the elements under test */
#define RETRY_ARGS "retry-delay=50 max-retry-delay=300"

static G_GNUC_UNUSED GstBuffer *
make_frame (guint8 type, guint8 flags, guint16 seq, guint32 ts, guint16 width,
    guint16 height, gconstpointer payload, gsize len)
{
  DsHeader header = { 0, };
  GstBuffer *buffer;

  header.type = type;
  header.flags = flags;
  header.seq = seq;
  header.timestamp = ts;
  header.width = width;
  header.height = height;
  buffer = gst_ds_frame_buffer_new_data (&header, payload, len);
  GST_BUFFER_PTS (buffer) = ts * GST_MSECOND;
  return buffer;
}

static G_GNUC_UNUSED GstBuffer *
make_signal (guint8 type, guint16 seq, guint32 ts, const gchar * json)
{
  return make_frame (type, type == DS_FRAME_SIGNAL_SYNC ? DS_FLAG_KEYFRAME : 0,
      seq, ts, 0, 0, json, strlen (json));
}

static G_GNUC_UNUSED gboolean
wait_for_boolean (GstElement * element, const gchar * property,
    gboolean wanted, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  gboolean value = !wanted;

  do {
    g_object_get (element, property, &value, NULL);
    if (value == wanted)
      return TRUE;
    g_usleep (10 * 1000);
  } while (g_get_monotonic_time () < deadline);
  return FALSE;
}

/* Pops messages until an element message named @name (or a message of
 * @type when @name is NULL); fails on an error message unless the
 * error is what is waited for. */
static G_GNUC_UNUSED GstMessage *
wait_for_message (GstElement * pipeline, GstMessageType type,
    const gchar * name, guint timeout_ms)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  GstMessage *msg = NULL;

  while (g_get_monotonic_time () < deadline) {
    gint64 left = deadline - g_get_monotonic_time ();

    msg = gst_bus_timed_pop (bus, MAX (left, 0) * GST_USECOND);
    if (msg == NULL)
      break;
    if (GST_MESSAGE_TYPE (msg) == type && (name == NULL ||
            (gst_message_get_structure (msg) &&
                gst_message_has_name (msg, name))))
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR
        && type != GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      fail ("unexpected error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
          err->message, dbg);
    }
    gst_message_unref (msg);
    msg = NULL;
  }
  gst_object_unref (bus);
  return msg;
}

/* The first error or warning message from @pipeline within @timeout_ms
 * (NULL if none) */
static G_GNUC_UNUSED GstMessage *
wait_for_error_or_warning (GstElement * pipeline, guint timeout_ms)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, timeout_ms * GST_MSECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);

  gst_object_unref (bus);
  return msg;
}

/* No error message posted so far */
static G_GNUC_UNUSED void
assert_no_error (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  while ((msg = gst_bus_pop (bus)) != NULL) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      fail ("unexpected error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
          err->message, dbg);
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

static G_GNUC_UNUSED GstElement *
launch (const gchar * description)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  fail_unless (pipeline != NULL, "cannot launch '%s': %s", description,
      error ? error->message : "?");
  if (error)
    g_error_free (error);
  return pipeline;
}

static G_GNUC_UNUSED void
set_state (GstElement * pipeline, GstState state)
{
  GstStateChangeReturn ret = gst_element_set_state (pipeline, state);

  /* live pipelines: sinks preroll when data comes, so no waiting here */
  fail_if (ret == GST_STATE_CHANGE_FAILURE);
}

static G_GNUC_UNUSED GstElement *
get (GstElement * pipeline, const gchar * name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);

  fail_unless (e != NULL, "no element %s", name);
  gst_object_unref (e);         /* the pipeline holds it */
  return e;
}

/* A guint64 field of the "stats" of the element "sink" of @pipeline */
static G_GNUC_UNUSED guint64
sink_stat (GstElement * pipeline, const gchar * field)
{
  GstStructure *stats;
  guint64 value = 0;

  g_object_get (get (pipeline, "sink"), "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, field, &value), "no %s",
      field);
  gst_structure_free (stats);
  return value;
}

/* Waits until the element "sink" of @pipeline has taken @n buffers (its
 * render () returned: GstBaseSink's "rendered"); FALSE after @timeout_ms */
static G_GNUC_UNUSED gboolean
wait_rendered (GstElement * pipeline, guint64 n, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (sink_stat (pipeline, "rendered") < n) {
    if (g_get_monotonic_time () >= deadline)
      return FALSE;
    g_usleep (5 * 1000);
  }
  return TRUE;
}

/* A publishing pipeline fed by appsrc, and a receiving one into appsink */
static G_GNUC_UNUSED GstElement *
sender_new (const gchar * uri, const gchar * extra)
{
  gchar *desc = g_strdup_printf ("appsrc name=src is-live=true format=time "
      "caps=" GST_DS_STREAM_MEDIA_TYPE " ! dsrelaysink name=sink "
      "location=%s " RETRY_ARGS " %s", uri, extra ? extra : "");
  GstElement *pipeline = launch (desc);

  g_free (desc);
  return pipeline;
}

static G_GNUC_UNUSED GstElement *
receiver_new (const gchar * uri, const gchar * extra)
{
  gchar *desc = g_strdup_printf ("dsstreamsrc name=src location=%s "
      RETRY_ARGS " %s ! appsink name=sink sync=false", uri,
      extra ? extra : "");
  GstElement *pipeline = launch (desc);

  g_free (desc);
  return pipeline;
}

static G_GNUC_UNUSED void
push (GstElement * pipeline, GstBuffer * buffer)
{
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (get (pipeline,
                  "src")), buffer), GST_FLOW_OK);
}

/* The next frame at the receiver (NULL after @timeout_ms) */
static G_GNUC_UNUSED GstBuffer *
pull (GstElement * pipeline, guint timeout_ms)
{
  GstSample *sample =
      gst_app_sink_try_pull_sample (GST_APP_SINK (get (pipeline, "sink")),
      timeout_ms * GST_MSECOND);
  GstBuffer *buffer;

  if (sample == NULL)
    return NULL;
  buffer = gst_buffer_ref (gst_sample_get_buffer (sample));
  gst_sample_unref (sample);
  return buffer;
}

/* The next frame of one of @types (0-terminated), skipping others */
static G_GNUC_UNUSED GstBuffer *
pull_type (GstElement * pipeline, const guint8 * types, guint timeout_ms,
    DsHeader * header)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline) {
    GstBuffer *buffer = pull (pipeline,
        MAX (1, (deadline - g_get_monotonic_time ()) / 1000));
    guint i;

    if (buffer == NULL)
      return NULL;
    fail_unless (gst_ds_frame_buffer_parse (buffer, header, NULL));
    for (i = 0; types[i] != 0; i++)
      if (header->type == types[i])
        return buffer;
    gst_buffer_unref (buffer);
  }
  return NULL;
}

static G_GNUC_UNUSED void
stop (GstElement * pipeline)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* A test picture that changes a little per frame */
static G_GNUC_UNUSED void
fill_picture (guint8 * pixels, guint width, guint height, guint n)
{
  guint x, y;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      guint8 *p = pixels + (y * width + x) * 4;
      gboolean box = x >= n % width && x < n % width + 4 && y < 8;

      p[0] = box ? 255 : x;
      p[1] = box ? 0 : y;
      p[2] = (x + y) / 2;
      p[3] = 255;
    }
}

/* Pixels for a keyframe, else DeltaPixels against @prev */
static G_GNUC_UNUSED GstBuffer *
make_picture_frame (guint n, guint width, guint height, guint8 * prev,
    guint keyframe_interval)
{
  gsize size = width * height * 4;
  guint8 *cur = g_malloc (size);
  GstBuffer *buffer;

  fill_picture (cur, width, height, n);
  if (n % keyframe_interval == 0) {
    buffer = make_frame (DS_FRAME_PIXELS, DS_FLAG_KEYFRAME, n, n * 33, width,
        height, cur, size);
  } else {
    guint8 *rle = g_malloc (DS_RLE_MAX_ENCODED_SIZE (size));
    gsize len = ds_rle_encode_xor (cur, prev, size, rle,
        DS_RLE_MAX_ENCODED_SIZE (size));

    fail_unless (len > 0);
    buffer = make_frame (DS_FRAME_DELTA_PIXELS, 0, n, n * 33, width, height,
        rle, len);
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    g_free (rle);
  }
  memcpy (prev, cur, size);
  g_free (cur);
  return buffer;
}

/* Fails the test unless @relay (from ds_test_relay_startv ()) started */
static G_GNUC_UNUSED DsTestRelay *
ds_test_net_relay_started (DsTestRelay * relay)
{
  fail_unless (relay != NULL, "cannot start ds-relay");
  return relay;
}

/* start_relay (arg..., NULL): ds-relay with these extra arguments (the
 * list ends with NULL, as for ds_test_relay_start ()); fails the test when
 * it does not start */
#define start_relay(...) \
    ds_test_net_relay_started (ds_test_relay_startv ( \
            (const gchar * const[]) { __VA_ARGS__ }))

/* Upstream events reaching the appsrc of a sender */
typedef struct
{
  GMutex lock;
  GList *events;
} EventLog;

static G_GNUC_UNUSED GstPadProbeReturn
log_upstream_event (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  EventLog *log = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  g_mutex_lock (&log->lock);
  log->events = g_list_append (log->events, gst_event_ref (event));
  g_mutex_unlock (&log->lock);
  return GST_PAD_PROBE_OK;
}

static G_GNUC_UNUSED void
event_log_attach (EventLog * log, GstElement * pipeline, const gchar * name)
{
  GstPad *pad = gst_element_get_static_pad (get (pipeline, name), "src");

  g_mutex_init (&log->lock);
  log->events = NULL;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      log_upstream_event, log, NULL);
  gst_object_unref (pad);
}

/* Waits for an upstream event matching @match; returns a ref */
static G_GNUC_UNUSED GstEvent *
event_log_wait (EventLog * log, gboolean (*match) (GstEvent *),
    guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline) {
    GList *l;

    g_mutex_lock (&log->lock);
    for (l = log->events; l != NULL; l = l->next) {
      if (match (l->data)) {
        GstEvent *event = l->data;

        log->events = g_list_delete_link (log->events, l);
        g_mutex_unlock (&log->lock);
        return event;
      }
    }
    g_mutex_unlock (&log->lock);
    g_usleep (10 * 1000);
  }
  return NULL;
}

static G_GNUC_UNUSED void
event_log_clear (EventLog * log)
{
  g_list_free_full (log->events, (GDestroyNotify) gst_event_unref);
  log->events = NULL;
  g_mutex_clear (&log->lock);
}

static G_GNUC_UNUSED gboolean
is_navigation (GstEvent * event)
{
  return GST_EVENT_TYPE (event) == GST_EVENT_NAVIGATION;
}

/* Applies every signal frame in @buffer to @state; TRUE if it was one */
static G_GNUC_UNUSED gboolean
apply_signal (DsSignalState * state, GstBuffer * buffer)
{
  DsHeader header;
  GstMapInfo map;

  fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
  if (header.type != DS_FRAME_SIGNAL_SYNC &&
      header.type != DS_FRAME_SIGNAL_DIFF)
    return FALSE;
  fail_unless (gst_buffer_map (buffer, &map, GST_MAP_READ));
  fail_unless (ds_signal_state_apply (state,
          header.type == DS_FRAME_SIGNAL_SYNC,
          (const gchar *) map.data + DS_HEADER_SIZE, header.payload_len, NULL));
  gst_buffer_unmap (buffer, &map);
  return TRUE;
}

static G_GNUC_UNUSED gint64
state_get (DsSignalState * state, const gchar * name)
{
  JsonObject *values = ds_signal_state_get_values (state);

  if (!json_object_has_member (values, name))
    return -1;
  return json_object_get_int_member (values, name);
}

/* Pulls from @pipeline, applying signals to @state, until signal @name
 * is @value and a Pixels frame came, or WAIT_MS passed; TRUE when a
 * Pixels frame came */
static G_GNUC_UNUSED gboolean
receive_signal_and_picture (GstElement * pipeline, DsSignalState * state,
    const gchar * name, gint64 value)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gboolean picture = FALSE;
  GstBuffer *buffer;

  while ((state_get (state, name) != value || !picture) &&
      g_get_monotonic_time () < deadline) {
    buffer = pull (pipeline, 100);
    if (buffer) {
      DsHeader header;

      fail_unless (gst_ds_frame_buffer_parse (buffer, &header, NULL));
      if (!apply_signal (state, buffer) && header.type == DS_FRAME_PIXELS)
        picture = TRUE;
      gst_buffer_unref (buffer);
    }
  }
  return picture;
}

/* An error message from @pipeline within @timeout_ms; returns its GError */
static G_GNUC_UNUSED GError *
wait_for_error (GstElement * pipeline, guint timeout_ms, gchar ** debug)
{
  GstMessage *msg = wait_for_message (pipeline, GST_MESSAGE_ERROR, NULL,
      timeout_ms);
  GError *error = NULL;

  fail_unless (msg != NULL, "no error posted");
  gst_message_parse_error (msg, &error, debug);
  gst_message_unref (msg);
  GST_INFO ("error: %s (%s)", error->message, debug ? *debug : "");
  return error;
}

/* A port nothing listens on */
static G_GNUC_UNUSED guint
closed_port (void)
{
  GSocketListener *listener = g_socket_listener_new ();
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (loopback, 0);
  GSocketAddress *effective = NULL;
  guint port;

  fail_unless (g_socket_listener_add_address (listener, addr,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective, NULL));
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_socket_listener_close (listener);
  g_object_unref (listener);
  g_object_unref (effective);
  g_object_unref (addr);
  g_object_unref (loopback);
  return port;
}

/* A TCP listener that accepts (in the kernel's backlog) and never
 * answers: a stalled relay */
static G_GNUC_UNUSED GSocket *
stalled_listener_new (guint * port)
{
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (loopback, 0);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GSocketAddress *local;

  fail_unless (g_socket_bind (socket, addr, TRUE, NULL));
  fail_unless (g_socket_listen (socket, NULL));
  local = g_socket_get_local_address (socket, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  g_object_unref (addr);
  g_object_unref (loopback);
  return socket;
}

/* A TCP server that accepts, reads what the client sends and hangs up
 * without a word: a relay that drops a connection during its (TLS)
 * handshake */
typedef struct
{
  GSocket *socket;
  GThread *thread;
  gint stop;
  guint port;
  gint accepted;
} HangupListener;

static gpointer
hangup_listener_thread (gpointer user_data)
{
  HangupListener *h = user_data;

  while (!g_atomic_int_get (&h->stop)) {
    GSocket *client;
    gchar buf[4096];

    if (!g_socket_condition_timed_wait (h->socket, G_IO_IN, 50 * 1000, NULL,
            NULL))
      continue;
    client = g_socket_accept (h->socket, NULL, NULL);
    if (client == NULL)
      continue;
    g_atomic_int_inc (&h->accepted);
    g_socket_set_timeout (client, 5);
    g_socket_receive (client, buf, sizeof (buf), NULL, NULL);
    g_socket_close (client, NULL);
    g_object_unref (client);
  }
  return NULL;
}

static G_GNUC_UNUSED HangupListener *
hangup_listener_start (void)
{
  HangupListener *h = g_new0 (HangupListener, 1);

  h->socket = stalled_listener_new (&h->port);
  h->thread = g_thread_new ("hangup", hangup_listener_thread, h);
  return h;
}

static G_GNUC_UNUSED void
hangup_listener_free (HangupListener * h)
{
  g_atomic_int_set (&h->stop, 1);
  g_thread_join (h->thread);
  g_socket_close (h->socket, NULL);
  g_object_unref (h->socket);
  g_free (h);
}

static G_GNUC_UNUSED gint64
time_to_null (GstElement * pipeline)
{
  gint64 start = g_get_monotonic_time ();

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  return (g_get_monotonic_time () - start) / 1000;
}

static G_GNUC_UNUSED guint
count_threads (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);
  return n;
}

/* The threads of this process once they stop going away: sampled every
 * 20 ms until a sample is not lower than the one before, or is at most
 * @enough; within WAIT_MS */
static G_GNUC_UNUSED guint
settled_thread_count (guint enough)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  guint n = count_threads (), last;

  do {
    if (n <= enough)
      break;
    g_usleep (20 * 1000);
    last = n;
    n = count_threads ();
  } while (n < last && g_get_monotonic_time () < deadline);
  return n;
}

/* Waits until a connection to the stalled listener on @port holds
 * unread bytes (the client's handshake request, which nobody reads),
 * from /proc/net/tcp; FALSE after @timeout_ms */
static G_GNUC_UNUSED gboolean
wait_stalled_request (guint port, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  gchar *local = g_strdup_printf ("0100007F:%04X 0100007F:", port);
  gboolean found = FALSE;

  while (!found && g_get_monotonic_time () < deadline) {
    gchar *text = NULL, **lines;
    guint i;

    fail_unless (g_file_get_contents ("/proc/net/tcp", &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
    for (i = 0; lines[i] != NULL && !found; i++) {
      const gchar *at = strstr (lines[i], local);
      const gchar *colon;

      /* "local remote st tx_queue:rx_queue": established, bytes queued */
      if (at == NULL || (colon = strchr (at + strlen (local), ' ')) == NULL ||
          strncmp (colon, " 01 ", 4) != 0 ||
          (colon = strchr (colon + 4, ':')) == NULL)
        continue;
      found = g_ascii_strtoll (colon + 1, NULL, 16) > 0;
    }
    g_strfreev (lines);
    g_free (text);
    if (!found)
      g_usleep (5 * 1000);
  }
  g_free (local);
  return found;
}

/* Waits until process @pid is stopped (SIGSTOP: state T in
 * /proc/PID/stat); FALSE after @timeout_ms */
static G_GNUC_UNUSED gboolean
wait_process_stopped (GPid pid, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  gchar *path = g_strdup_printf ("/proc/%d/stat", (gint) pid);
  gboolean stopped = FALSE;

  while (!stopped && g_get_monotonic_time () < deadline) {
    gchar *text = NULL;
    const gchar *paren;

    /* "PID (COMM) STATE ..." */
    if (g_file_get_contents (path, &text, NULL, NULL) &&
        (paren = strrchr (text, ')')) != NULL)
      stopped = paren[1] == ' ' && paren[2] == 'T';
    g_free (text);
    if (!stopped)
      g_usleep (1000);
  }
  g_free (path);
  return stopped;
}

G_END_DECLS

#endif /* __DS_TEST_NET_H__ */
