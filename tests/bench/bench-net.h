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
 * Plain-socket helpers shared by the relay benchmarks (bench-relay.c,
 * bench-cluster.c): blocking TCP and WebSocket connects to 127.0.0.1, the
 * client side of RFC 6455 framing as a benchmark needs it (binary
 * messages, mask key 0), and a process's CPU time and memory from /proc.
 * Not for production: the peer is a relay the benchmark started itself.
 */

#ifndef __BENCH_NET_H__
#define __BENCH_NET_H__

#include <glib.h>

G_BEGIN_DECLS
/* CLOCK_MONOTONIC in nanoseconds */
    guint64 bench_now_ns (void);

/* A blocking TCP connection to 127.0.0.1:@port (TCP_NODELAY); -1 on
 * failure */
gint bench_tcp_connect (guint port);

gboolean bench_write_all (gint fd, const guint8 * data, gsize len);

/* A blocking WebSocket connection to ws://127.0.0.1:@port@path; the
 * response is read byte by byte so that no frame byte is consumed; -1
 * when the connection or the upgrade fails (the reply is printed) */
gint bench_ws_connect (guint port, const gchar * path);

/* Writes the header of a masked binary client message of @len bytes
 * (mask key 0) into @out (at least 14 bytes); returns its size */
gsize bench_ws_client_header (guint8 * out, gsize len);

/* Whether a whole server message starts at @data (@avail bytes); if so
 * its opcode, header size and payload size */
gboolean bench_ws_parse (const guint8 * data,
    gsize avail, guint8 * opcode, gsize * header_len, guint64 * payload_len);

/* utime + stime of process @pid in clock ticks (sysconf (_SC_CLK_TCK)) */
guint64 bench_proc_cpu_ticks (GPid pid);

/* A "Key:" line of /proc/PID/status in kB ("VmRSS:"); 0 when unknown */
gsize bench_proc_status_kb (GPid pid, const gchar * key);

/* qsort () comparators */
gint bench_compare_u32 (const void *a, const void *b);
gint bench_compare_i64 (const void *a, const void *b);

G_END_DECLS
#endif /* __BENCH_NET_H__ */
