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

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <gst/gst.h>

#include "bench-net.h"

guint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

gint
bench_tcp_connect (guint port)
{
  struct sockaddr_in addr = { 0, };
  gint fd = socket (AF_INET, SOCK_STREAM, 0);
  gint one = 1;

  if (fd < 0)
    return -1;
  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0) {
    close (fd);
    return -1;
  }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  return fd;
}

gboolean
bench_write_all (gint fd, const guint8 * data, gsize len)
{
  while (len > 0) {
    gssize n = write (fd, data, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}

gint
bench_ws_connect (guint port, const gchar * path)
{
  gint fd = bench_tcp_connect (port);
  gchar *request;
  gchar reply[4096];
  gsize got = 0;

  if (fd < 0)
    return -1;
  request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", path, port);
  bench_write_all (fd, (const guint8 *) request, strlen (request));
  g_free (request);
  reply[0] = '\0';
  while (got < sizeof (reply) - 1) {
    if (read (fd, reply + got, 1) != 1)
      break;
    got++;
    reply[got] = '\0';
    if (g_str_has_suffix (reply, "\r\n\r\n"))
      break;
  }
  if (!g_str_has_prefix (reply, "HTTP/1.1 101")) {
    g_printerr ("bench: upgrade refused: %s\n", reply);
    close (fd);
    return -1;
  }
  return fd;
}

gsize
bench_ws_client_header (guint8 * out, gsize len)
{
  out[0] = 0x82;
  if (len < 126) {
    out[1] = 0x80 | len;
    memset (out + 2, 0, 4);
    return 6;
  } else if (len <= 65535) {
    out[1] = 0x80 | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
    memset (out + 4, 0, 4);
    return 8;
  } else {
    gint i;

    out[1] = 0x80 | 127;
    for (i = 0; i < 8; i++)
      out[2 + i] = (guint8) ((guint64) len >> (56 - 8 * i));
    memset (out + 10, 0, 4);
    return 14;
  }
}

gboolean
bench_ws_parse (const guint8 * p, gsize avail, guint8 * opcode,
    gsize * header_len, guint64 * payload_len)
{
  guint64 len;
  gsize hlen = 2;

  if (avail < 2)
    return FALSE;
  len = p[1] & 0x7f;
  if (len == 126) {
    if (avail < 4)
      return FALSE;
    len = GST_READ_UINT16_BE (p + 2);
    hlen = 4;
  } else if (len == 127) {
    if (avail < 10)
      return FALSE;
    len = GST_READ_UINT64_BE (p + 2);
    hlen = 10;
  }
  if (len > G_MAXSIZE - hlen || avail < hlen + len)
    return FALSE;
  *opcode = p[0] & 0x0f;
  *header_len = hlen;
  *payload_len = len;
  return TRUE;
}

guint64
bench_proc_cpu_ticks (GPid pid)
{
  gchar *path = g_strdup_printf ("/proc/%d/stat", (gint) pid);
  gchar *text = NULL;
  guint64 ticks = 0;

  if (g_file_get_contents (path, &text, NULL, NULL)) {
    const gchar *p = strrchr (text, ')');
    gchar **fields = p ? g_strsplit (p + 2, " ", 0) : NULL;

    /* fields[0] is state (field 3); utime = field 14, stime = 15 */
    if (fields && g_strv_length (fields) > 13)
      ticks = g_ascii_strtoull (fields[11], NULL, 10) +
          g_ascii_strtoull (fields[12], NULL, 10);
    g_strfreev (fields);
  }
  g_free (text);
  g_free (path);
  return ticks;
}

gsize
bench_proc_status_kb (GPid pid, const gchar * key)
{
  gchar *path = g_strdup_printf ("/proc/%d/status", (gint) pid);
  gchar *text = NULL;
  const gchar *line;
  gsize kb = 0;

  if (g_file_get_contents (path, &text, NULL, NULL) &&
      (line = strstr (text, key)))
    kb = g_ascii_strtoull (line + strlen (key), NULL, 10);
  g_free (text);
  g_free (path);
  return kb;
}

gint
bench_compare_u32 (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

gint
bench_compare_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}
