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
 * nats-server processes for the cluster tests (relay/cluster.c,
 * relay/failover.c), header-only: nats_server_start () runs
 * $NATS_SERVER (Debian's /usr/sbin/nats-server) on a free loopback port,
 * nats_server_spawn () also as one server of a NATS cluster (routes to
 * the others' cluster ports), nats_server_kill () is kill -9. Waits are
 * bounded by DS_TEST_NATS_WAIT_MS; failures go through the check
 * framework (fail_unless...). For gst-check test programs only.
 */

#ifndef __DS_TEST_NATS_H__
#define __DS_TEST_NATS_H__

#include <signal.h>
#include <gio/gio.h>
#include <gst/check/gstcheck.h>

#include "ds-test-relay.h"

G_BEGIN_DECLS

#define DS_TEST_NATS_WAIT_MS (DS_TEST_SANITIZED ? 20000 : 8000)

typedef struct
{
  GSubprocess *process;
  guint port;
  guint cluster_port;
  gchar *url;
  /* set before nats_server_spawn (): clients must log in with them */
  const gchar *user, *password, *token;
} NatsServer;

static G_GNUC_UNUSED const gchar *
nats_server_path (void)
{
  const gchar *path = g_getenv ("NATS_SERVER");

  if (path && g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    return path;
  return NULL;
}

static G_GNUC_UNUSED guint
free_port (void)
{
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new (loopback, 0);
  GSocketAddress *bound;
  guint port = 0;

  if (g_socket_bind (socket, address, TRUE, NULL) &&
      (bound = g_socket_get_local_address (socket, NULL))) {
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    g_object_unref (bound);
  }
  g_object_unref (address);
  g_object_unref (loopback);
  g_object_unref (socket);
  fail_unless (port != 0);
  return port;
}

static G_GNUC_UNUSED gboolean
port_accepts (guint port)
{
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *conn;

  g_socket_client_set_timeout (client, 1);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL,
      NULL);
  g_object_unref (client);
  if (conn == NULL)
    return FALSE;
  g_object_unref (conn);
  return TRUE;
}

/* Starts nats-server on @server->port (0: a free one); @routes: the
 * cluster ports of the others, when it is one of a NATS cluster */
static G_GNUC_UNUSED void
nats_server_spawn (NatsServer * server, const guint * routes, guint n_routes)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;
  gint64 deadline;
  guint i;

  if (server->port == 0)
    server->port = free_port ();
  g_ptr_array_add (argv, g_strdup (nats_server_path ()));
  g_ptr_array_add (argv, g_strdup ("-a"));
  g_ptr_array_add (argv, g_strdup ("127.0.0.1"));
  g_ptr_array_add (argv, g_strdup ("-p"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", server->port));
  if (server->user) {
    g_ptr_array_add (argv, g_strdup ("--user"));
    g_ptr_array_add (argv, g_strdup (server->user));
    g_ptr_array_add (argv, g_strdup ("--pass"));
    g_ptr_array_add (argv, g_strdup (server->password));
  } else if (server->token) {
    g_ptr_array_add (argv, g_strdup ("--auth"));
    g_ptr_array_add (argv, g_strdup (server->token));
  }
  if (server->cluster_port) {
    GString *list = g_string_new (NULL);

    g_ptr_array_add (argv, g_strdup ("--cluster_name"));
    g_ptr_array_add (argv, g_strdup ("dstest"));
    g_ptr_array_add (argv, g_strdup ("--cluster"));
    g_ptr_array_add (argv, g_strdup_printf ("nats://127.0.0.1:%u",
            server->cluster_port));
    for (i = 0; i < n_routes; i++)
      g_string_append_printf (list, "%snats://127.0.0.1:%u", i ? "," : "",
          routes[i]);
    if (n_routes) {
      g_ptr_array_add (argv, g_strdup ("--routes"));
      g_ptr_array_add (argv, g_string_free (list, FALSE));
    } else {
      g_string_free (list, TRUE);
    }
  }
  g_ptr_array_add (argv, NULL);
  server->process = g_subprocess_newv ((const gchar * const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
      &error);
  g_ptr_array_unref (argv);
  fail_unless (server->process != NULL, "cannot start nats-server: %s",
      error ? error->message : "?");
  deadline = g_get_monotonic_time () + DS_TEST_NATS_WAIT_MS * 1000;
  while (!port_accepts (server->port) && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  fail_unless (port_accepts (server->port), "nats-server did not listen on "
      "port %u", server->port);
  g_free (server->url);
  server->url = g_strdup_printf ("nats://127.0.0.1:%u", server->port);
}

static G_GNUC_UNUSED NatsServer *
nats_server_start (void)
{
  NatsServer *server = g_new0 (NatsServer, 1);

  nats_server_spawn (server, NULL, 0);
  return server;
}

static G_GNUC_UNUSED void
nats_server_kill (NatsServer * server)
{
  if (server->process == NULL)
    return;
  g_subprocess_send_signal (server->process, SIGKILL);
  g_subprocess_wait (server->process, NULL, NULL);
  g_clear_object (&server->process);
}

static G_GNUC_UNUSED void
nats_server_free (NatsServer * server)
{
  nats_server_kill (server);
  g_free (server->url);
  g_free (server);
}

G_END_DECLS

#endif /* __DS_TEST_NATS_H__ */
