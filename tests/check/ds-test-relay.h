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
 * A test helper that runs the real ds-relay program (header-only, GLib and
 * GIO only, no GStreamer needed).
 *
 *   DsTestRelay *relay;
 *
 *   // the suite adds its relay tests only if ds_test_relay_available ();
 *   // DS_TEST_RELAY_CHECK_MAIN (name) makes the binary SKIP (exit 77)
 *   // when $DS_RELAY is missing
 *   relay = ds_test_relay_start ("--source-grace", "1", NULL);
 *   fail_unless (relay != NULL);
 *   relay = ds_test_relay_start_ok ("--source-grace", "1", NULL);  // the same,
 *                                     // failing the test itself (gst-check)
 *   uri = ds_test_relay_ws_uri (relay, "/peer/demo");  // ws://127.0.0.1:PORT/peer/demo
 *   ...
 *   ds_test_relay_stop (relay);       // SIGTERM, waits; exit code returned
 *   ds_test_relay_restart (relay);    // same args, same port
 *   ds_test_relay_free (relay);       // stops it if still running
 *
 * The relay is started with the extra arguments plus "--port 0" (or the
 * previous port on restart); the helper reads the first stdout line,
 * "ds-relay: listening on http://127.0.0.1:PORT/", to learn the port and
 * then waits until GET /healthz answers 200. Every wait is bounded
 * (DS_TEST_RELAY_TIMEOUT_MS). The relay's stderr (its log) is inherited, so
 * it shows up in the test log.
 */

#ifndef __DS_TEST_RELAY_H__
#define __DS_TEST_RELAY_H__

#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <stdarg.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

G_BEGIN_DECLS

#define DS_TEST_RELAY_TIMEOUT_MS 10000
#define DS_TEST_RELAY_LISTEN_PREFIX "ds-relay: listening on http://"

typedef struct
{
  GSubprocess *process;
  GPtrArray *extra_args;        /* gchar *, without --port */
  guint port;
  gchar *host;                  /* as printed by the relay */
  gchar *first_line;
  gint exit_status;             /* of the last stop, -1 if unknown */
  gboolean unhealthy;           /* do not wait for /healthz 200 */
} DsTestRelay;

/* A "Vm...:" line of process @pid's /proc status, in kB ("VmRSS:" now,
 * "VmHWM:" the peak, "VmSize:"); 0 when unknown */
static G_GNUC_UNUSED gsize
ds_test_proc_status_kb (GPid pid, const gchar * field)
{
  gchar *path = g_strdup_printf ("/proc/%d/status", (gint) pid);
  gchar *text = NULL;
  const gchar *line;
  gsize kb = 0;

  if (g_file_get_contents (path, &text, NULL, NULL) &&
      (line = strstr (text, field)))
    kb = g_ascii_strtoull (line + strlen (field), NULL, 10);
  g_free (text);
  g_free (path);
  return kb;
}

/* Open file descriptors of process @pid */
static G_GNUC_UNUSED guint
ds_test_proc_count_fds (GPid pid)
{
  gchar *path = g_strdup_printf ("/proc/%d/fd", (gint) pid);
  GDir *dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_free (path);
  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n;
}

/* Memory bounds (RSS of the relay) hold in plain builds only: under
 * AddressSanitizer freed memory waits in a quarantine and its shadow
 * stays mapped. There ds_test_memory_bound() logs a bound it would have
 * failed instead of failing; everything else is still checked. */
#if defined (__SANITIZE_ADDRESS__)
#define DS_TEST_SANITIZED TRUE
#elif defined (__has_feature)
#if __has_feature (address_sanitizer)
#define DS_TEST_SANITIZED TRUE
#endif
#endif
#ifndef DS_TEST_SANITIZED
#define DS_TEST_SANITIZED FALSE
#endif
#define DS_TEST_CHECK_MEMORY (!DS_TEST_SANITIZED)

#define ds_test_memory_bound(expr, ...) G_STMT_START {                  \
  if (DS_TEST_CHECK_MEMORY)                                             \
    fail_unless (expr, __VA_ARGS__);                                    \
  else if (!(expr))                                                     \
    g_printerr ("memory bound not asserted under AddressSanitizer: %s\n", \
        #expr);                                                         \
} G_STMT_END

/* A fresh folder under the temporary one for files a relay reads (its
 * secrets); ds_test_tmp_dir_remove () removes it */
static G_GNUC_UNUSED gchar *
ds_test_tmp_dir_new (void)
{
  GError *error = NULL;
  gchar *dir = g_dir_make_tmp ("ds-relay-test-XXXXXX", &error);

  if (dir == NULL)
    g_error ("cannot make a temporary folder: %s", error->message);
  return dir;
}

/* Writes @len bytes of @data (-1: a string) to @dir/@name; returns its
 * path */
static G_GNUC_UNUSED gchar *
ds_test_tmp_file (const gchar * dir, const gchar * name, const gchar * data,
    gssize len)
{
  gchar *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;

  if (!g_file_set_contents (path, data, len, &error))
    g_error ("cannot write %s: %s", path, error->message);
  return path;
}

/* Removes @dir with the files in it, and frees @dir */
static G_GNUC_UNUSED void
ds_test_tmp_dir_remove (gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)) != NULL) {
    gchar *path = g_build_filename (dir, name, NULL);

    g_unlink (path);
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

/* TRUE when $DS_RELAY names an executable */
static G_GNUC_UNUSED gboolean
ds_test_relay_available (void)
{
  const gchar *path = g_getenv ("DS_RELAY");

  return path != NULL && g_file_test (path, G_FILE_TEST_IS_EXECUTABLE);
}

#ifdef __GST_CHECK_H__
/* GST_CHECK_MAIN for a suite whose tests need the relay (the suite adds
 * them only when ds_test_relay_available ()): when $DS_RELAY is missing
 * the binary runs what it has and then exits 77, which meson reports as
 * SKIP, so a build without the relay never passes its relay tests
 * vacuously */
#define DS_TEST_RELAY_CHECK_MAIN(name)                                  \
int                                                                     \
main (int argc, char **argv)                                            \
{                                                                       \
  Suite *s;                                                             \
  int failed;                                                           \
                                                                        \
  gst_check_init (&argc, &argv);                                        \
  s = name ## _suite ();                                                \
  failed = gst_check_run_suite (s, #name, __FILE__);                    \
  if (failed == 0 && !ds_test_relay_available ()) {                     \
    g_print ("SKIP: the tests that need ds-relay did not run "          \
        "($DS_RELAY=%s is not an executable)\n",                        \
        GST_STR_NULL (g_getenv ("DS_RELAY")));                          \
    return 77;                                                          \
  }                                                                     \
  return failed;                                                        \
}
#endif

typedef struct
{
  gboolean done;
  gboolean timed_out;
} DsTestRelayWait;

static gboolean
ds_test_relay_wait_timeout_cb (gpointer user_data)
{
  DsTestRelayWait *wait = user_data;

  wait->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
ds_test_relay_readable_cb (GObject * stream, gpointer user_data)
{
  DsTestRelayWait *wait = user_data;

  wait->done = TRUE;
  return G_SOURCE_REMOVE;
}

/* Reads the first line of @stream (pollable) within @timeout_ms. */
static gchar *
ds_test_relay_read_line (GInputStream * stream, guint timeout_ms)
{
  GPollableInputStream *pollable = G_POLLABLE_INPUT_STREAM (stream);
  GMainContext *context = g_main_context_new ();
  GString *line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ok = FALSE;

  while (g_get_monotonic_time () < deadline) {
    gchar c;
    GError *error = NULL;
    gssize n;

    n = g_pollable_input_stream_read_nonblocking (pollable, &c, 1, NULL,
        &error);
    if (n == 1) {
      if (c == '\n') {
        ok = TRUE;
        break;
      }
      g_string_append_c (line, c);
      if (line->len > 4096)
        break;
      continue;
    }
    if (n == 0)
      break;                    /* EOF: the relay exited */
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&error);
      break;
    }
    g_clear_error (&error);

    {
      DsTestRelayWait wait = { FALSE, FALSE };
      GSource *readable = g_pollable_input_stream_create_source (pollable,
          NULL);
      GSource *timer;
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;

      if (left_ms <= 0)
        left_ms = 1;
      timer = g_timeout_source_new ((guint) left_ms);
      g_source_set_callback (readable,
          (GSourceFunc) (void (*)(void)) ds_test_relay_readable_cb, &wait,
          NULL);
      g_source_set_callback (timer, ds_test_relay_wait_timeout_cb, &wait,
          NULL);
      g_source_attach (readable, context);
      g_source_attach (timer, context);
      while (!wait.done && !wait.timed_out)
        g_main_context_iteration (context, TRUE);
      g_source_destroy (readable);
      g_source_destroy (timer);
      g_source_unref (readable);
      g_source_unref (timer);
    }
  }
  g_main_context_unref (context);

  if (!ok) {
    g_string_free (line, TRUE);
    return NULL;
  }
  return g_string_free (line, FALSE);
}

/* Sends "GET @path" over plain HTTP/1.0 and returns the status code (0 on
 * failure). The body, if @body is non-NULL, is returned there. */
static G_GNUC_UNUSED guint
ds_test_relay_http_get_full (DsTestRelay * relay, const gchar * path,
    const gchar * extra_headers, gchar ** body)
{
  GSocketClient *client;
  GSocketConnection *conn;
  GOutputStream *out;
  GInputStream *in;
  GString *reply;
  gchar *request;
  gchar buf[4096];
  gssize n;
  guint status = 0;

  if (body)
    *body = NULL;
  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 5);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", relay->port,
      NULL, NULL);
  g_object_unref (client);
  if (conn == NULL)
    return 0;

  request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%u\r\n%s\r\n",
      path, relay->port, extra_headers ? extra_headers : "");
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  if (!g_output_stream_write_all (out, request, strlen (request), NULL, NULL,
          NULL)) {
    g_free (request);
    g_object_unref (conn);
    return 0;
  }
  g_free (request);

  reply = g_string_new (NULL);
  while ((n = g_input_stream_read (in, buf, sizeof (buf), NULL, NULL)) > 0)
    g_string_append_len (reply, buf, n);
  g_object_unref (conn);

  if (g_str_has_prefix (reply->str, "HTTP/1.")) {
    const gchar *sp = strchr (reply->str, ' ');

    if (sp)
      status = (guint) g_ascii_strtoull (sp + 1, NULL, 10);
  }
  if (body) {
    const gchar *sep = strstr (reply->str, "\r\n\r\n");

    *body = g_strdup (sep ? sep + 4 : "");
  }
  g_string_free (reply, TRUE);
  return status;
}

static G_GNUC_UNUSED guint
ds_test_relay_http_get (DsTestRelay * relay, const gchar * path, gchar ** body)
{
  return ds_test_relay_http_get_full (relay, path, NULL, body);
}

/* The value of one line of GET /metrics, @name with its labels as the
 * relay writes them ("ds_relay_takeovers_total",
 * "ds_relay_connections_total{role=\"source\"}"); -1 when missing. */
static G_GNUC_UNUSED gint64
ds_test_relay_metric (DsTestRelay * relay, const gchar * name)
{
  gchar *body = NULL, **lines;
  gint64 value = -1;
  gsize len = strlen (name);
  guint i;

  if (ds_test_relay_http_get (relay, "/metrics", &body) != 200) {
    g_free (body);
    return -1;
  }
  lines = g_strsplit (body, "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    if (strncmp (lines[i], name, len) == 0 && lines[i][len] == ' ')
      value = g_ascii_strtoll (lines[i] + len + 1, NULL, 10);
  g_strfreev (lines);
  g_free (body);
  return value;
}

/* Polls GET /metrics every 10 ms until @name (as for
 * ds_test_relay_metric ()) is @value, within @timeout_ms; returns the last
 * value read (-1 when missing) */
static G_GNUC_UNUSED gint64
ds_test_relay_wait_metric (DsTestRelay * relay, const gchar * name,
    gint64 value, guint timeout_ms)
{
  gint64 deadline =
      g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gint64 current;

  while ((current = ds_test_relay_metric (relay, name)) != value &&
      g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  return current;
}

/* Polls /healthz until it answers 200, within @timeout_ms */
static G_GNUC_UNUSED gboolean
ds_test_relay_wait_healthy (DsTestRelay * relay, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < deadline) {
    if (ds_test_relay_http_get (relay, "/healthz", NULL) == 200)
      return TRUE;
    g_usleep (20 * 1000);
  }
  return FALSE;
}

static gboolean
ds_test_relay_spawn (DsTestRelay * relay, guint port)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  gchar *line;
  const gchar *rest;
  const gchar *colon;
  guint i;

  g_ptr_array_add (argv, g_strdup (g_getenv ("DS_RELAY")));
  for (i = 0; i < relay->extra_args->len; i++)
    g_ptr_array_add (argv, g_strdup (g_ptr_array_index (relay->extra_args, i)));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", port));
  g_ptr_array_add (argv, NULL);

  relay->process = g_subprocess_newv ((const gchar * const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_ptr_array_unref (argv);
  if (relay->process == NULL) {
    g_printerr ("ds-test-relay: cannot start %s: %s\n", g_getenv ("DS_RELAY"),
        error->message);
    g_clear_error (&error);
    return FALSE;
  }

  line = ds_test_relay_read_line (g_subprocess_get_stdout_pipe
      (relay->process), DS_TEST_RELAY_TIMEOUT_MS);
  if (line == NULL || !g_str_has_prefix (line, DS_TEST_RELAY_LISTEN_PREFIX)) {
    g_printerr ("ds-test-relay: unexpected first line: %s\n",
        line ? line : "(none)");
    g_free (line);
    goto failed;
  }
  g_free (relay->first_line);
  relay->first_line = line;
  rest = line + strlen (DS_TEST_RELAY_LISTEN_PREFIX);
  colon = strrchr (rest, ':');
  if (colon == NULL)
    goto failed;
  g_free (relay->host);
  relay->host = g_strndup (rest, colon - rest);
  relay->port = (guint) g_ascii_strtoull (colon + 1, NULL, 10);
  if (relay->port == 0)
    goto failed;

  if (!relay->unhealthy &&
      !ds_test_relay_wait_healthy (relay, DS_TEST_RELAY_TIMEOUT_MS)) {
    g_printerr ("ds-test-relay: /healthz did not answer on port %u\n",
        relay->port);
    goto failed;
  }
  return TRUE;

failed:
  g_subprocess_force_exit (relay->process);
  g_subprocess_wait (relay->process, NULL, NULL);
  g_clear_object (&relay->process);
  return FALSE;
}

/* Starts the relay with the given extra arguments (a NULL-terminated
 * array, may be NULL) and "--port 0"; @wait_healthy: until /healthz
 * answers 200 (else only until it listens). Returns NULL on failure. */
static G_GNUC_UNUSED DsTestRelay *
ds_test_relay_startv_full (const gchar * const *args, gboolean wait_healthy)
{
  DsTestRelay *relay;
  guint i;

  if (!ds_test_relay_available ())
    return NULL;

  relay = g_new0 (DsTestRelay, 1);
  relay->extra_args = g_ptr_array_new_with_free_func (g_free);
  relay->exit_status = -1;
  relay->unhealthy = !wait_healthy;
  for (i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (relay->extra_args, g_strdup (args[i]));

  if (!ds_test_relay_spawn (relay, 0)) {
    g_ptr_array_unref (relay->extra_args);
    g_free (relay);
    return NULL;
  }
  return relay;
}

static G_GNUC_UNUSED DsTestRelay *
ds_test_relay_startv (const gchar * const *args)
{
  return ds_test_relay_startv_full (args, TRUE);
}

/* Starts the relay with the extra arguments of @prefix (NULL-terminated,
 * may be NULL) followed by @first_arg and the rest of @ap up to NULL */
static G_GNUC_UNUSED DsTestRelay *
ds_test_relay_start_valist (const gchar * const *prefix,
    const gchar * first_arg, va_list ap)
{
  GPtrArray *args = g_ptr_array_new ();
  DsTestRelay *relay;
  const gchar *arg;
  guint i;

  for (i = 0; prefix != NULL && prefix[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) prefix[i]);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const gchar *))
    g_ptr_array_add (args, (gpointer) arg);
  g_ptr_array_add (args, NULL);

  relay = ds_test_relay_startv ((const gchar * const *) args->pdata);
  g_ptr_array_unref (args);
  return relay;
}

/* Starts the relay with extra arguments given as a NULL-terminated list */
static G_GNUC_UNUSED G_GNUC_NULL_TERMINATED DsTestRelay *
ds_test_relay_start (const gchar * first_arg, ...)
{
  DsTestRelay *relay;
  va_list ap;

  va_start (ap, first_arg);
  relay = ds_test_relay_start_valist (NULL, first_arg, ap);
  va_end (ap);
  return relay;
}

#ifdef __GST_CHECK_H__
/* Fails the test unless @relay started */
static G_GNUC_UNUSED DsTestRelay *
ds_test_relay_started (DsTestRelay * relay)
{
  fail_unless (relay != NULL, "could not start ds-relay ($DS_RELAY=%s)",
      GST_STR_NULL (g_getenv ("DS_RELAY")));
  return relay;
}

/* ds_test_relay_start_ok (arg..., NULL): ds_test_relay_start () that
 * fails the test when the relay does not start; (NULL) for no extra
 * argument */
#define ds_test_relay_start_ok(...) \
    ds_test_relay_started (ds_test_relay_startv ( \
            (const gchar * const[]) { __VA_ARGS__ }))
#endif

static G_GNUC_UNUSED guint
ds_test_relay_get_port (DsTestRelay * relay)
{
  return relay->port;
}

static G_GNUC_UNUSED GPid
ds_test_relay_get_pid (DsTestRelay * relay)
{
  const gchar *id;

  if (relay->process == NULL)
    return 0;
  id = g_subprocess_get_identifier (relay->process);
  return id ? (GPid) atoi (id) : 0;
}

/* "ws://127.0.0.1:PORT@path"; free with g_free() */
static G_GNUC_UNUSED gchar *
ds_test_relay_ws_uri (DsTestRelay * relay, const gchar * path)
{
  return g_strdup_printf ("ws://127.0.0.1:%u%s", relay->port, path);
}

/* "http://127.0.0.1:PORT@path"; free with g_free() */
static G_GNUC_UNUSED gchar *
ds_test_relay_http_uri (DsTestRelay * relay, const gchar * path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", relay->port, path);
}

static void
ds_test_relay_wait_done_cb (GObject * source, GAsyncResult * res,
    gpointer user_data)
{
  DsTestRelayWait *wait = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  wait->done = TRUE;
}

/* Waits up to @timeout_ms for the relay process to exit by itself. */
static G_GNUC_UNUSED gboolean
ds_test_relay_wait_exit (DsTestRelay * relay, guint timeout_ms)
{
  GMainContext *context;
  DsTestRelayWait wait = { FALSE, FALSE };
  GSource *timer;

  if (relay->process == NULL)
    return TRUE;

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  g_subprocess_wait_async (relay->process, NULL, ds_test_relay_wait_done_cb,
      &wait);
  timer = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timer, ds_test_relay_wait_timeout_cb, &wait, NULL);
  g_source_attach (timer, context);
  while (!wait.done && !wait.timed_out)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  if (!wait.done) {
    /* let the pending wait complete before the context goes away */
    g_subprocess_force_exit (relay->process);
    while (!wait.done)
      g_main_context_iteration (context, TRUE);
  }
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  if (g_subprocess_get_if_exited (relay->process))
    relay->exit_status = g_subprocess_get_exit_status (relay->process);
  else
    relay->exit_status = -1;
  g_clear_object (&relay->process);
  return !wait.timed_out;
}

/* Sends SIGTERM and waits (bounded; SIGKILL after the timeout). Returns
 * the exit status (0 for a clean shutdown), or -1 when the relay had to be
 * killed or died of a signal. */
static G_GNUC_UNUSED gint
ds_test_relay_stop (DsTestRelay * relay)
{
  if (relay->process == NULL)
    return relay->exit_status;
  g_subprocess_send_signal (relay->process, SIGTERM);
  ds_test_relay_wait_exit (relay, DS_TEST_RELAY_TIMEOUT_MS);
  return relay->exit_status;
}

/* Stops the relay if it runs, then starts it again with the same
 * arguments on the same port. */
static G_GNUC_UNUSED gboolean
ds_test_relay_restart (DsTestRelay * relay)
{
  gint64 deadline;

  ds_test_relay_stop (relay);
  /* The port may briefly stay busy; retry for a while */
  deadline = g_get_monotonic_time () +
      DS_TEST_RELAY_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < deadline) {
    guint port = relay->port;

    if (ds_test_relay_spawn (relay, port))
      return TRUE;
    relay->port = port;
    g_usleep (100 * 1000);
  }
  return FALSE;
}

static G_GNUC_UNUSED void
ds_test_relay_free (DsTestRelay * relay)
{
  if (relay == NULL)
    return;
  ds_test_relay_stop (relay);
  g_ptr_array_unref (relay->extra_args);
  g_free (relay->host);
  g_free (relay->first_line);
  g_free (relay);
}

G_END_DECLS

#endif /* __DS_TEST_RELAY_H__ */
