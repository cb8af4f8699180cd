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
#include <string.h>
#include <sys/epoll.h>

#include "relay-log.h"
#include "relay-ws.h"

/* Reads go into a buffer that starts at READ_START bytes (most clients
 * only send small frames) and grows, when a read or a partial frame fills
 * it, up to READ_CHUNK; a frame larger than this is read
 * straight into its own allocation, which starts at BIG_START bytes and
 * grows as the bytes arrive (an announced length costs nothing before the
 * bytes come). */
#define READ_START (4 * 1024)
/* Readiness events taken from the shared epoll set per wake-up */
#define POLLER_EVENTS 256
#define READ_CHUNK (256 * 1024)
#define BIG_START (1024 * 1024)
/* At most this many reads per wake-up, so one busy peer cannot starve the
 * others */
#define READS_PER_WAKEUP 16
#define MAX_VECTORS 1024
/* Messages up to this size are gathered into a staging buffer */
#define SMALL_MESSAGE 512
#define STAGING_SIZE (256 * 1024)
#define CLOSE_TIMEOUT_MS 2000
/* Memory per queued message besides its bytes: RelayWsOut, list link,
 * GBytes, malloc headers (measured as ~120 bytes) */
#define RELAY_WS_MESSAGE_OVERHEAD 128

typedef enum
{
  STATE_NEW,
  STATE_OPEN,
  STATE_CLOSING,                /* our close frame is queued or sent */
  STATE_CLOSED,
} RelayWsState;

typedef struct
{
  guint8 header[10];
  guint header_len;
  GBytes *payload;
  const guint8 *data;
  gsize data_len;
  gsize written;                /* of header + data */
  gboolean droppable;
  gboolean is_close;
  /* part of a write that would block: a TLS layer may hold its bytes in
   * a pending record, so it must go out unchanged */
  gboolean pinned;
} RelayWsOut;

struct _RelayWs
{
  GIOStream *stream;
  GPollableInputStream *in;
  GPollableOutputStream *out;
  gsize max_message;
  guint keepalive_seconds;
  gboolean is_tls;

  RelayWsMessageFunc message_func;
  RelayWsClosedFunc closed_func;
  RelayWsDrainedFunc drained_func;
  gpointer user_data;

  RelayWsState state;
  GSource *read_source;
  GSource *write_source;
  guint flush_id;
  guint closed_id;
  guint close_timeout_id;

  /* the socket's descriptor, when known: reading is then watched by the
   * one shared poller (see below), not by a GSource of its own */
  gint fd;
  gboolean polled;              /* fd is in the poller's epoll set */
  GList again_link;             /* in poller->again */
  GList keepalive_link;         /* in poller->keepalive */
  gint64 next_ping;
  /* listed by relay_ws_list_queued() while something is queued */
  gboolean listed;
  GList queued_link;            /* in queued_list */

  GQueue out_queue;
  gsize queued_bytes;
  gsize droppable_bytes;        /* of queued_bytes, in droppable messages */
  /* the one Pong not yet started (RFC 6455 §5.5.3: answering the latest
   * Ping is enough) */
  RelayWsOut *pending_pong;
  /* reading stops while more than this is queued (0: no limit) */
  gsize read_limit;
  gboolean read_paused;
  guint resume_id;
  gint64 last_progress;
  gint64 last_activity;

  /* input */
  guint8 *inbuf;
  gsize in_len;
  gsize in_cap;
  /* a large frame read directly into its own buffer */
  guint8 *big;
  gsize big_len;
  gsize big_cap;
  gsize big_have;
  guint8 big_mask[4];
  guint8 big_opcode;
  gboolean big_fin;
  /* a fragmented message */
  GByteArray *frag;
  guint8 frag_opcode;

  gboolean close_received;
  gushort peer_close_code;
  /* the peer broke the protocol: nothing more is read from it */
  gboolean failed;

  guint64 bytes_in;
  guint64 bytes_out;
};

static void relay_ws_teardown (RelayWs * ws);
static void relay_ws_check_resume (RelayWs * ws);
static void relay_ws_protocol_close (RelayWs * ws, gushort code,
    const gchar * reason);
static gboolean relay_ws_readable_cb (GObject * stream, gpointer user_data);
static void relay_ws_keepalive (RelayWs * ws, gint64 now);

/* The poller: one GSource for every connection of the process.
 *
 * GLib's main loop visits each attached source at every iteration
 * (prepare, check, and one pollfd each in poll()), so with a GSource per
 * connection (a socket source and a keepalive timer each) every wake-up
 * of the relay cost O(connections), and N clients joining cost O(N²): 77 s
 * for 10,000 receivers. Here the sockets of open connections are in one
 * epoll set, whose descriptor is the only one GLib polls, and the
 * keepalive deadlines are in one queue ordered by time; a wake-up costs
 * O(ready connections). Writes that would block still wait on a GSource
 * of their own: that is transient, and only for slow peers.
 *
 * A stream whose socket is not known (relay_ws_set_socket() not called,
 * and not a GSocketConnection or GTlsConnection) is read through a
 * GSource as before. */

typedef struct
{
  GSource source;
  gpointer tag;
  gint epoll_fd;
  /* connections that stopped reading after READS_PER_WAKEUP reads: bytes
   * may wait inside a TLS layer, where epoll does not see them */
  GQueue again;
  /* connections with keepalive, earliest next_ping first */
  GQueue keepalive;
  /* the events being dispatched: a connection freed meanwhile is removed
   * from them */
  struct epoll_event *events;
  gint n_events;
} RelayWsPoller;

static RelayWsPoller *poller;

/* The listed connections that have something queued: housekeeping looks
 * for stuck peers among these only, not among every connection */
static GQueue queued_list = G_QUEUE_INIT;

static void
relay_ws_update_queued_list (RelayWs * ws)
{
  gboolean want = ws->listed && ws->state != STATE_CLOSED &&
      !g_queue_is_empty (&ws->out_queue);

  if (want && ws->queued_link.data == NULL) {
    ws->queued_link.data = ws;
    g_queue_push_tail_link (&queued_list, &ws->queued_link);
  } else if (!want && ws->queued_link.data != NULL) {
    g_queue_unlink (&queued_list, &ws->queued_link);
    ws->queued_link.data = NULL;
  }
}

static gint64
relay_ws_poller_next_deadline (RelayWsPoller * p)
{
  RelayWs *first = g_queue_peek_head (&p->keepalive);

  return first ? first->next_ping : -1;
}

static gboolean
relay_ws_poller_prepare (GSource * source, gint * timeout)
{
  RelayWsPoller *p = (RelayWsPoller *) source;
  gint64 deadline, now;

  *timeout = -1;
  if (!g_queue_is_empty (&p->again)) {
    *timeout = 0;
    return TRUE;
  }
  deadline = relay_ws_poller_next_deadline (p);
  if (deadline < 0)
    return FALSE;
  now = g_source_get_time (source);
  if (deadline <= now) {
    *timeout = 0;
    return TRUE;
  }
  *timeout = (gint) MIN ((deadline - now + 999) / 1000, G_MAXINT);
  return FALSE;
}

static gboolean
relay_ws_poller_check (GSource * source)
{
  RelayWsPoller *p = (RelayWsPoller *) source;
  gint64 deadline;

  if (!g_queue_is_empty (&p->again))
    return TRUE;
  if (g_source_query_unix_fd (source, p->tag) & G_IO_IN)
    return TRUE;
  deadline = relay_ws_poller_next_deadline (p);
  return deadline >= 0 && deadline <= g_source_get_time (source);
}

static gboolean
relay_ws_poller_dispatch (GSource * source, GSourceFunc callback,
    gpointer user_data)
{
  RelayWsPoller *p = (RelayWsPoller *) source;
  struct epoll_event events[POLLER_EVENTS];
  guint left = p->again.length;
  GList *link;
  gint64 now;
  gint i, n;
  RelayWs *ws;

  /* those that were cut short last time first; readable_cb puts them
   * back if they still have more (and a connection freed meanwhile
   * leaves the queue itself) */
  while (left-- > 0 && (link = g_queue_pop_head_link (&p->again))) {
    ws = link->data;
    link->data = NULL;
    relay_ws_readable_cb (G_OBJECT (ws->in), ws);
  }

  n = epoll_wait (p->epoll_fd, events, POLLER_EVENTS, 0);
  p->events = events;
  p->n_events = MAX (n, 0);
  for (i = 0; i < p->n_events; i++) {
    ws = events[i].data.ptr;
    /* NULL: freed by an earlier callback of this round */
    if (ws == NULL || !ws->polled)
      continue;
    relay_ws_readable_cb (G_OBJECT (ws->in), ws);
  }
  p->events = NULL;
  p->n_events = 0;

  now = g_get_monotonic_time ();
  while ((ws = g_queue_peek_head (&p->keepalive)) && ws->next_ping <= now) {
    g_queue_unlink (&p->keepalive, &ws->keepalive_link);
    ws->keepalive_link.data = NULL;
    relay_ws_keepalive (ws, now);
  }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs relay_ws_poller_funcs = {
  relay_ws_poller_prepare,
  relay_ws_poller_check,
  relay_ws_poller_dispatch,
  NULL,
};

static RelayWsPoller *
relay_ws_poller_get (void)
{
  gint fd;

  if (poller)
    return poller;
  fd = epoll_create1 (EPOLL_CLOEXEC);
  if (fd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));
  poller = (RelayWsPoller *) g_source_new (&relay_ws_poller_funcs,
      sizeof (RelayWsPoller));
  poller->epoll_fd = fd;
  g_queue_init (&poller->again);
  g_queue_init (&poller->keepalive);
  poller->tag = g_source_add_unix_fd (&poller->source, fd, G_IO_IN);
  g_source_set_name (&poller->source, "relay-ws poller");
  g_source_attach (&poller->source, NULL);
  return poller;
}

/* Adds @ws to the keepalive queue, @seconds from @now; the queue stays
 * sorted by walking from its tail, where a new deadline almost always
 * belongs (every connection of a relay has the same interval) */
static void
relay_ws_schedule_keepalive (RelayWs * ws, gint64 now)
{
  RelayWsPoller *p = relay_ws_poller_get ();
  GList *l;

  ws->next_ping = now + (gint64) ws->keepalive_seconds * G_TIME_SPAN_SECOND;
  for (l = p->keepalive.tail; l; l = l->prev)
    if (((RelayWs *) l->data)->next_ping <= ws->next_ping)
      break;
  ws->keepalive_link.data = ws;
  if (l == NULL)
    g_queue_push_head_link (&p->keepalive, &ws->keepalive_link);
  else
    g_queue_insert_after_link (&p->keepalive, l, &ws->keepalive_link);
}

static void
relay_ws_unwatch_readable (RelayWs * ws)
{
  if (ws->read_source) {
    g_source_destroy (ws->read_source);
    g_source_unref (ws->read_source);
    ws->read_source = NULL;
  }
  if (ws->polled) {
    gint i;

    epoll_ctl (poller->epoll_fd, EPOLL_CTL_DEL, ws->fd, NULL);
    ws->polled = FALSE;
    for (i = 0; i < poller->n_events; i++)
      if (poller->events[i].data.ptr == ws)
        poller->events[i].data.ptr = NULL;
  }
  if (ws->again_link.data) {
    g_queue_unlink (&poller->again, &ws->again_link);
    ws->again_link.data = NULL;
  }
}

/* The socket under a GSocketConnection, or under a GTlsConnection over
 * one; -1 otherwise */
static gint
relay_ws_stream_fd (GIOStream * stream)
{
  GIOStream *base = NULL;
  gint fd = -1;

  if (G_IS_SOCKET_CONNECTION (stream))
    return g_socket_get_fd (g_socket_connection_get_socket
        (G_SOCKET_CONNECTION (stream)));
  if (G_IS_TLS_CONNECTION (stream)) {
    g_object_get (stream, "base-io-stream", &base, NULL);
    if (base && G_IS_SOCKET_CONNECTION (base))
      fd = g_socket_get_fd (g_socket_connection_get_socket
          (G_SOCKET_CONNECTION (base)));
    g_clear_object (&base);
  }
  return fd;
}

RelayWs *
relay_ws_new (GIOStream * stream, gsize max_message, guint keepalive_seconds)
{
  RelayWs *ws = g_new0 (RelayWs, 1);

  ws->stream = g_object_ref (stream);
  ws->in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
  ws->out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
  ws->max_message = max_message;
  ws->keepalive_seconds = keepalive_seconds;
  ws->state = STATE_NEW;
  g_queue_init (&ws->out_queue);
  ws->fd = relay_ws_stream_fd (stream);
  ws->last_activity = g_get_monotonic_time ();
  ws->last_progress = ws->last_activity;
  return ws;
}

void
relay_ws_set_socket (RelayWs * ws, GSocket * socket)
{
  g_return_if_fail (ws->state == STATE_NEW);
  ws->fd = socket ? g_socket_get_fd (socket) : -1;
}

void
relay_ws_set_callbacks (RelayWs * ws, RelayWsMessageFunc message,
    RelayWsClosedFunc closed, RelayWsDrainedFunc drained, gpointer user_data)
{
  ws->message_func = message;
  ws->closed_func = closed;
  ws->drained_func = drained;
  ws->user_data = user_data;
}

static void
relay_ws_out_free (RelayWsOut * out)
{
  if (out->payload)
    g_bytes_unref (out->payload);
  g_free (out);
}

static void
relay_ws_clear_sources (RelayWs * ws)
{
  relay_ws_unwatch_readable (ws);
  if (ws->keepalive_link.data) {
    g_queue_unlink (&poller->keepalive, &ws->keepalive_link);
    ws->keepalive_link.data = NULL;
  }
  if (ws->write_source) {
    g_source_destroy (ws->write_source);
    g_source_unref (ws->write_source);
    ws->write_source = NULL;
  }
  g_clear_handle_id (&ws->flush_id, g_source_remove);
  g_clear_handle_id (&ws->resume_id, g_source_remove);
  g_clear_handle_id (&ws->close_timeout_id, g_source_remove);
}

void
relay_ws_free (RelayWs * ws)
{
  if (ws == NULL)
    return;
  relay_ws_clear_sources (ws);
  g_clear_handle_id (&ws->closed_id, g_source_remove);
  if (ws->state != STATE_CLOSED && ws->stream)
    g_io_stream_close (ws->stream, NULL, NULL);
  g_queue_clear_full (&ws->out_queue, (GDestroyNotify) relay_ws_out_free);
  ws->listed = FALSE;
  relay_ws_update_queued_list (ws);
  g_clear_object (&ws->stream);
  g_free (ws->inbuf);
  g_free (ws->big);
  if (ws->frag)
    g_byte_array_unref (ws->frag);
  g_free (ws);
}

/* Output */

static gboolean relay_ws_writable_cb (GObject * stream, gpointer user_data);

static void
relay_ws_wait_writable (RelayWs * ws)
{
  if (ws->write_source)
    return;
  ws->write_source = g_pollable_output_stream_create_source (ws->out, NULL);
  g_source_set_callback (ws->write_source,
      (GSourceFunc) (void (*)(void)) relay_ws_writable_cb, ws, NULL);
  g_source_attach (ws->write_source, NULL);
}

static void
relay_ws_after_close_written (RelayWs * ws)
{
  /* Our close frame is out: done if the peer already sent its own or
   * broke the protocol, otherwise the timeout started in relay_ws_close()
   * ends it */
  if (ws->close_received || ws->failed)
    relay_ws_teardown (ws);
}

/* Shared by all connections: only used during one writev() call (one
 * thread) */
static guint8 staging[STAGING_SIZE];

/* Writes as much as the socket takes; returns FALSE if @ws was torn down */
static gboolean
relay_ws_write_some (RelayWs * ws)
{
  while (!g_queue_is_empty (&ws->out_queue)) {
    GOutputVector vectors[MAX_VECTORS];
    guint n_vectors = 0;
    GList *l;
    gsize written = 0;
    GPollableReturn res;
    GError *error = NULL;

    gsize staged = 0;
    gint staging_vector = -1;   /* the vector that ends at staged */

    for (l = ws->out_queue.head; l && n_vectors + 2 <= MAX_VECTORS; l = l->next) {
      RelayWsOut *out = l->data;
      gsize skip = out->written;
      gsize left = out->header_len + out->data_len - skip;

      /* Small messages are copied into one staging buffer: one vector for
       * a run of them instead of two each */
      if (left <= SMALL_MESSAGE && staged + left <= sizeof (staging)) {
        guint8 *dst = staging + staged;

        if (skip < out->header_len) {
          memcpy (dst, out->header + skip, out->header_len - skip);
          dst += out->header_len - skip;
          skip = 0;
        } else {
          skip -= out->header_len;
        }
        if (out->data_len > skip)
          memcpy (dst, out->data + skip, out->data_len - skip);
        if (staging_vector >= 0 && staging_vector == (gint) n_vectors - 1) {
          vectors[staging_vector].size += left;
        } else {
          vectors[n_vectors].buffer = staging + staged;
          vectors[n_vectors].size = left;
          staging_vector = n_vectors;
          n_vectors++;
        }
        staged += left;
        continue;
      }

      if (skip < out->header_len) {
        vectors[n_vectors].buffer = out->header + skip;
        vectors[n_vectors].size = out->header_len - skip;
        n_vectors++;
        skip = 0;
      } else {
        skip -= out->header_len;
      }
      if (out->data_len > skip) {
        vectors[n_vectors].buffer = out->data + skip;
        vectors[n_vectors].size = out->data_len - skip;
        n_vectors++;
      }
    }

    res = g_pollable_output_stream_writev_nonblocking (ws->out, vectors,
        n_vectors, &written, NULL, &error);
    if (res == G_POLLABLE_RETURN_WOULD_BLOCK) {
      GList *p;

      /* A TLS layer may hold what was offered in a pending record: it
       * must be offered again as it is (a plain socket took nothing) */
      if (ws->is_tls)
        for (p = ws->out_queue.head; p != l; p = p->next)
          ((RelayWsOut *) p->data)->pinned = TRUE;
      relay_ws_wait_writable (ws);
      return TRUE;
    }
    if (res == G_POLLABLE_RETURN_FAILED) {
      g_debug ("write failed: %s", error ? error->message : "?");
      g_clear_error (&error);
      relay_ws_teardown (ws);
      return FALSE;
    }

    ws->bytes_out += written;
    ws->queued_bytes -= written;
    ws->last_progress = g_get_monotonic_time ();
    while (written > 0) {
      RelayWsOut *out = g_queue_peek_head (&ws->out_queue);
      gsize left = out->header_len + out->data_len - out->written;

      if (out == ws->pending_pong)
        ws->pending_pong = NULL;
      if (written < left) {
        out->written += written;
        break;
      }
      written -= left;
      g_queue_pop_head (&ws->out_queue);
      if (out->droppable)
        ws->droppable_bytes -= out->header_len + out->data_len;
      if (out->is_close) {
        relay_ws_out_free (out);
        relay_ws_after_close_written (ws);
        if (ws->state == STATE_CLOSED)
          return FALSE;
      } else {
        relay_ws_out_free (out);
      }
    }
    relay_ws_update_queued_list (ws);
    relay_ws_check_resume (ws);
  }
  return TRUE;
}

static void
relay_ws_do_flush (RelayWs * ws)
{
  if (ws->state == STATE_CLOSED || ws->state == STATE_NEW)
    return;
  if (!relay_ws_write_some (ws))
    return;
  if (g_queue_is_empty (&ws->out_queue) && ws->drained_func)
    ws->drained_func (ws, ws->user_data);
}

static gboolean
relay_ws_writable_cb (GObject * stream, gpointer user_data)
{
  RelayWs *ws = user_data;

  g_source_unref (ws->write_source);
  ws->write_source = NULL;
  relay_ws_do_flush (ws);
  return G_SOURCE_REMOVE;
}

static gboolean
relay_ws_flush_idle_cb (gpointer user_data)
{
  RelayWs *ws = user_data;

  ws->flush_id = 0;
  relay_ws_do_flush (ws);
  return G_SOURCE_REMOVE;
}

void
relay_ws_flush (RelayWs * ws)
{
  g_clear_handle_id (&ws->flush_id, g_source_remove);
  if (ws->write_source == NULL)
    relay_ws_do_flush (ws);
}

static void
relay_ws_queue (RelayWs * ws, RelayWsOpcode opcode, GBytes * payload,
    const guint8 * data, gsize len, gboolean droppable)
{
  RelayWsOut *out = g_new0 (RelayWsOut, 1);

  if (payload)
    len = g_bytes_get_size (payload);
  out->header[0] = 0x80 | opcode;
  if (len < 126) {
    out->header[1] = (guint8) len;
    out->header_len = 2;
  } else if (len <= G_MAXUINT16) {
    out->header[1] = 126;
    out->header[2] = (guint8) (len >> 8);
    out->header[3] = (guint8) len;
    out->header_len = 4;
  } else {
    guint64 l = len;
    gint i;

    out->header[1] = 127;
    for (i = 0; i < 8; i++)
      out->header[2 + i] = (guint8) (l >> (56 - 8 * i));
    out->header_len = 10;
  }
  if (payload) {
    out->payload = g_bytes_ref (payload);
    out->data = g_bytes_get_data (payload, &out->data_len);
  } else if (len > 0) {
    out->payload = g_bytes_new (data, len);
    out->data = g_bytes_get_data (out->payload, &out->data_len);
  }
  out->droppable = droppable;
  out->is_close = (opcode == RELAY_WS_OPCODE_CLOSE);

  if (g_queue_is_empty (&ws->out_queue))
    ws->last_progress = g_get_monotonic_time ();
  g_queue_push_tail (&ws->out_queue, out);
  ws->queued_bytes += out->header_len + out->data_len;
  if (droppable)
    ws->droppable_bytes += out->header_len + out->data_len;
  relay_ws_update_queued_list (ws);

  if (ws->flush_id == 0 && ws->write_source == NULL)
    ws->flush_id =
        g_idle_add_full (G_PRIORITY_DEFAULT, relay_ws_flush_idle_cb, ws, NULL);
}

void
relay_ws_send (RelayWs * ws, RelayWsOpcode opcode, GBytes * payload,
    gboolean droppable)
{
  /* before relay_ws_start() messages are queued, written once started */
  if (ws->state != STATE_OPEN && ws->state != STATE_NEW)
    return;
  relay_ws_queue (ws, opcode, payload, NULL, 0, droppable);
}

gsize
relay_ws_get_queued_bytes (RelayWs * ws)
{
  /* what the queue holds in memory: the wire bytes plus the bookkeeping
   * of each message, which dominates for small frames */
  return ws->queued_bytes +
      g_queue_get_length (&ws->out_queue) * RELAY_WS_MESSAGE_OVERHEAD;
}

void
relay_ws_set_listed (RelayWs * ws, gboolean listed)
{
  ws->listed = listed;
  relay_ws_update_queued_list (ws);
}

GPtrArray *
relay_ws_list_queued (gsize * total_bytes)
{
  GPtrArray *list = g_ptr_array_sized_new (queued_list.length);
  gsize total = 0;
  GList *l;

  for (l = queued_list.head; l; l = l->next) {
    g_ptr_array_add (list, l->data);
    total += relay_ws_get_queued_bytes (l->data);
  }
  if (total_bytes)
    *total_bytes = total;
  return list;
}

gpointer
relay_ws_get_user_data (RelayWs * ws)
{
  return ws->user_data;
}

gsize
relay_ws_get_droppable_bytes (RelayWs * ws)
{
  return ws->droppable_bytes;
}

guint
relay_ws_get_queued_messages (RelayWs * ws)
{
  return g_queue_get_length (&ws->out_queue);
}

gint64
relay_ws_get_last_progress (RelayWs * ws)
{
  return ws->last_progress;
}

gsize
relay_ws_discard_unsent (RelayWs * ws)
{
  GList *l, *next;
  gsize dropped = 0;

  for (l = ws->out_queue.head; l; l = next) {
    RelayWsOut *out = l->data;

    next = l->next;
    if (out->written > 0 || out->pinned || !out->droppable)
      continue;
    dropped += out->header_len + out->data_len;
    ws->droppable_bytes -= out->header_len + out->data_len;
    g_queue_delete_link (&ws->out_queue, l);
    relay_ws_out_free (out);
  }
  ws->queued_bytes -= dropped;
  relay_ws_update_queued_list (ws);
  relay_ws_check_resume (ws);
  return dropped;
}

/* Closing */

static gboolean
relay_ws_closed_idle_cb (gpointer user_data)
{
  RelayWs *ws = user_data;

  ws->closed_id = 0;
  if (ws->closed_func)
    ws->closed_func (ws, ws->user_data);
  return G_SOURCE_REMOVE;
}

static void
relay_ws_stream_closed_cb (GObject * source, GAsyncResult * res,
    gpointer user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (source), res, NULL);
  g_object_unref (source);
}

static void
relay_ws_teardown (RelayWs * ws)
{
  if (ws->state == STATE_CLOSED)
    return;
  ws->state = STATE_CLOSED;
  relay_ws_clear_sources (ws);
  g_queue_clear_full (&ws->out_queue, (GDestroyNotify) relay_ws_out_free);
  ws->queued_bytes = 0;
  ws->droppable_bytes = 0;
  ws->pending_pong = NULL;
  relay_ws_update_queued_list (ws);
  g_io_stream_close_async (g_object_ref (ws->stream), G_PRIORITY_DEFAULT,
      NULL, relay_ws_stream_closed_cb, NULL);
  /* Tell the owner from the main loop, never from inside its own call */
  ws->closed_id = g_idle_add (relay_ws_closed_idle_cb, ws);
}

static gboolean
relay_ws_close_timeout_cb (gpointer user_data)
{
  RelayWs *ws = user_data;

  ws->close_timeout_id = 0;
  relay_ws_teardown (ws);
  return G_SOURCE_REMOVE;
}

void
relay_ws_close (RelayWs * ws, gushort code, const gchar * reason)
{
  guint8 payload[125];
  gsize reason_len = reason ? strlen (reason) : 0;

  if (ws->state == STATE_CLOSED || ws->state == STATE_CLOSING)
    return;
  if (ws->state == STATE_NEW) {
    relay_ws_teardown (ws);
    return;
  }
  ws->state = STATE_CLOSING;

  /* Nobody waits for the rest of the stream now */
  relay_ws_discard_unsent (ws);

  if (reason_len > sizeof (payload) - 2)
    reason_len = sizeof (payload) - 2;
  /* keep the reason valid UTF-8 when it is cut */
  while (reason_len > 0 && (((guint8) reason[reason_len]) & 0xC0) == 0x80)
    reason_len--;
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  if (reason_len)
    memcpy (payload + 2, reason, reason_len);
  relay_ws_queue (ws, RELAY_WS_OPCODE_CLOSE, NULL, payload, reason_len + 2,
      FALSE);
  ws->close_timeout_id = g_timeout_add (CLOSE_TIMEOUT_MS,
      relay_ws_close_timeout_cb, ws);
}

static void
relay_ws_protocol_close (RelayWs * ws, gushort code, const gchar * reason)
{
  g_debug ("closing: %u %s", code, reason);
  /* Stop reading: what follows is not parsed (RFC 6455 §7.1.7), and the
   * connection ends once our close frame is written */
  ws->failed = TRUE;
  ws->in_len = 0;
  g_clear_pointer (&ws->big, g_free);
  if (ws->frag) {
    g_byte_array_unref (ws->frag);
    ws->frag = NULL;
  }
  relay_ws_unwatch_readable (ws);
  relay_ws_close (ws, code, reason);
}

gboolean
relay_ws_is_open (RelayWs * ws)
{
  return ws->state == STATE_OPEN;
}

gushort
relay_ws_get_peer_close_code (RelayWs * ws)
{
  return ws->peer_close_code;
}

guint64
relay_ws_get_bytes_in (RelayWs * ws)
{
  return ws->bytes_in;
}

guint64
relay_ws_get_bytes_out (RelayWs * ws)
{
  return ws->bytes_out;
}

/* Input */

static void
relay_ws_unmask (guint8 * dst, const guint8 * src, gsize len,
    const guint8 mask[4])
{
  guint64 mask64;
  guint32 mask32;
  gsize i = 0;

  memcpy (&mask32, mask, 4);
  mask64 = ((guint64) mask32 << 32) | mask32;
  for (; i + 8 <= len; i += 8) {
    guint64 v;

    memcpy (&v, src + i, 8);
    v ^= mask64;
    memcpy (dst + i, &v, 8);
  }
  for (; i < len; i++)
    dst[i] = src[i] ^ mask[i & 3];
}

static void
relay_ws_deliver (RelayWs * ws, guint8 opcode, guint8 * data, gsize len)
{
  GBytes *message;

  if (ws->state != STATE_OPEN) {
    g_free (data);
    return;
  }
  if (opcode == RELAY_WS_OPCODE_TEXT && !g_utf8_validate ((const gchar *) data,
          len, NULL)) {
    g_free (data);
    relay_ws_protocol_close (ws, RELAY_WS_CLOSE_BAD_DATA,
        "text message is not valid UTF-8");
    return;
  }
  message = g_bytes_new_take (data, len);
  if (ws->message_func)
    ws->message_func (ws, opcode == RELAY_WS_OPCODE_BINARY, message,
        ws->user_data);
  g_bytes_unref (message);
}

/* Codes a peer may send (RFC 6455 §7.4; 1005, 1006 and 1015 never go on
 * the wire) */
static gboolean
relay_ws_close_code_is_valid (gushort code)
{
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code <= 4999);
}

static void
relay_ws_handle_close_frame (RelayWs * ws, const guint8 * data, gsize len)
{
  ws->close_received = TRUE;
  if (len >= 2)
    ws->peer_close_code = (data[0] << 8) | data[1];

  if (ws->state == STATE_OPEN) {
    if (len == 1 || (len >= 2 &&
            !relay_ws_close_code_is_valid (ws->peer_close_code))) {
      relay_ws_protocol_close (ws, RELAY_WS_CLOSE_PROTOCOL_ERROR,
          "invalid close frame");
      return;
    }
    if (len > 2 && !g_utf8_validate ((const gchar *) data + 2, len - 2, NULL)) {
      relay_ws_protocol_close (ws, RELAY_WS_CLOSE_BAD_DATA,
          "close reason is not valid UTF-8");
      return;
    }
  }

  if (ws->state == STATE_OPEN) {
    guint8 echo[2];
    gushort code = ws->peer_close_code;

    ws->state = STATE_CLOSING;
    relay_ws_discard_unsent (ws);
    echo[0] = code >> 8;
    echo[1] = code & 0xff;
    /* the peer's code, or an empty close for an empty one */
    relay_ws_queue (ws, RELAY_WS_OPCODE_CLOSE, NULL, echo, len >= 2 ? 2 : 0,
        FALSE);
    ws->close_timeout_id = g_timeout_add (CLOSE_TIMEOUT_MS,
        relay_ws_close_timeout_cb, ws);
  } else if (ws->state == STATE_CLOSING) {
    /* Answer to our close: done once ours is written */
    gboolean ours_pending = FALSE;
    GList *l;

    for (l = ws->out_queue.head; l; l = l->next)
      if (((RelayWsOut *) l->data)->is_close)
        ours_pending = TRUE;
    if (!ours_pending)
      relay_ws_teardown (ws);
  }
}

/* At most one Pong waits in the queue: a newer Ping replaces the payload
 * of the one not yet started, so a client that sends Pings and does not
 * read costs one Pong */
static void
relay_ws_queue_pong (RelayWs * ws, const guint8 * data, gsize len)
{
  RelayWsOut *out = ws->pending_pong;

  if (out && out->written == 0 && !out->pinned) {
    ws->queued_bytes -= out->data_len;
    g_clear_pointer (&out->payload, g_bytes_unref);
    out->data = NULL;
    out->data_len = len;
    if (len > 0) {
      out->payload = g_bytes_new (data, len);
      out->data = g_bytes_get_data (out->payload, NULL);
    }
    out->header[1] = (guint8) len;
    ws->queued_bytes += len;
    return;
  }
  relay_ws_queue (ws, RELAY_WS_OPCODE_PONG, NULL, data, len, FALSE);
  ws->pending_pong = g_queue_peek_tail (&ws->out_queue);
}

/* One whole frame; takes @data */
static void
relay_ws_handle_frame (RelayWs * ws, gboolean fin, guint8 opcode,
    guint8 * data, gsize len)
{
  switch (opcode) {
    case RELAY_WS_OPCODE_PING:
      if (ws->state == STATE_OPEN)
        relay_ws_queue_pong (ws, data, len);
      g_free (data);
      return;
    case RELAY_WS_OPCODE_PONG:
      g_free (data);
      return;
    case RELAY_WS_OPCODE_CLOSE:
      relay_ws_handle_close_frame (ws, data, len);
      g_free (data);
      return;
    case 0:                    /* continuation */
      g_byte_array_append (ws->frag, data, len);
      g_free (data);
      if (fin) {
        gsize total = ws->frag->len;
        guint8 *whole = g_byte_array_free (ws->frag, FALSE);

        ws->frag = NULL;
        relay_ws_deliver (ws, ws->frag_opcode, whole, total);
      }
      return;
    default:
      if (fin) {
        relay_ws_deliver (ws, opcode, data, len);
      } else {
        ws->frag = g_byte_array_new_take (data, len);
        ws->frag_opcode = opcode;
      }
      return;
  }
}

/* Parses complete frames at the start of inbuf; returns FALSE if the
 * connection failed */
static gboolean
relay_ws_parse (RelayWs * ws)
{
  gsize pos = 0;

  while (ws->state != STATE_CLOSED && !ws->failed) {
    const guint8 *p = ws->inbuf + pos;
    gsize avail = ws->in_len - pos;
    gboolean fin, masked;

    /* Backpressure: what this peer's messages queued (Pongs, Ping
     * echoes, pictures it asked for) is not written yet; read no more
     * from it until it is */
    if (ws->read_limit > 0 && relay_ws_get_queued_bytes (ws) > ws->read_limit) {
      ws->read_paused = TRUE;
      break;
    }
    guint8 opcode;
    guint64 len;
    gsize hlen;
    const guint8 *mask;

    if (avail < 2)
      break;
    fin = (p[0] & 0x80) != 0;
    opcode = p[0] & 0x0f;
    masked = (p[1] & 0x80) != 0;
    len = p[1] & 0x7f;
    /* refused as soon as the first two bytes tell, not once the rest of
     * the header arrived */
    if ((p[0] & 0x70) != 0) {
      relay_ws_protocol_close (ws, RELAY_WS_CLOSE_PROTOCOL_ERROR,
          "reserved bits set");
      return FALSE;
    }
    if (!masked) {
      relay_ws_protocol_close (ws, RELAY_WS_CLOSE_PROTOCOL_ERROR,
          "client frames must be masked");
      return FALSE;
    }
    hlen = 2 + (len == 126 ? 2 : len == 127 ? 8 : 0) + 4;
    if (avail < hlen)
      break;
    if (len == 126) {
      len = (p[2] << 8) | p[3];
    } else if (len == 127) {
      gint i;

      len = 0;
      for (i = 0; i < 8; i++)
        len = (len << 8) | p[2 + i];
    }
    mask = p + hlen - 4;

    if (opcode >= 0x8) {
      if (!fin || len > 125 || (opcode != RELAY_WS_OPCODE_CLOSE &&
              opcode != RELAY_WS_OPCODE_PING
              && opcode != RELAY_WS_OPCODE_PONG)) {
        relay_ws_protocol_close (ws, RELAY_WS_CLOSE_PROTOCOL_ERROR,
            "bad control frame");
        return FALSE;
      }
    } else {
      gsize so_far = ws->frag ? ws->frag->len : 0;

      if ((opcode == 0) != (ws->frag != NULL) || (opcode != 0 &&
              opcode != RELAY_WS_OPCODE_TEXT
              && opcode != RELAY_WS_OPCODE_BINARY)) {
        relay_ws_protocol_close (ws, RELAY_WS_CLOSE_PROTOCOL_ERROR,
            "bad data frame sequence");
        return FALSE;
      }
      if (ws->max_message > 0 && (len > ws->max_message ||
              so_far + len > ws->max_message)) {
        gchar *reason = g_strdup_printf ("message larger than %"
            G_GSIZE_FORMAT " bytes", ws->max_message);

        relay_ws_protocol_close (ws, RELAY_WS_CLOSE_TOO_BIG, reason);
        g_free (reason);
        return FALSE;
      }
    }

    if (avail >= hlen + len) {
      guint8 *data = g_malloc (len ? len : 1);

      relay_ws_unmask (data, p + hlen, len, mask);
      pos += hlen + len;
      relay_ws_handle_frame (ws, fin, opcode, data, len);
      continue;
    }

    if (hlen + len > READ_CHUNK) {
      /* Too large for the buffer: read the rest straight into its own
       * allocation */
      ws->big_len = len;
      ws->big_cap = MIN (len, MAX (BIG_START, avail - hlen));
      ws->big = g_malloc (ws->big_cap);
      ws->big_have = avail - hlen;
      memcpy (ws->big, p + hlen, ws->big_have);
      memcpy (ws->big_mask, mask, 4);
      ws->big_opcode = opcode;
      ws->big_fin = fin;
      pos = ws->in_len;
    }
    break;
  }

  if (ws->failed)
    return FALSE;
  if (pos > 0) {
    memmove (ws->inbuf, ws->inbuf + pos, ws->in_len - pos);
    ws->in_len -= pos;
  }
  return ws->state != STATE_CLOSED;
}

static gboolean
relay_ws_readable_cb (GObject * stream, gpointer user_data)
{
  RelayWs *ws = user_data;
  /* an idle connection holds no input buffer: a read goes here first */
  guint8 small[READ_START];
  guint i;

  for (i = 0; i < READS_PER_WAKEUP; i++) {
    GError *error = NULL;
    gssize n;

    if (ws->failed)
      return G_SOURCE_REMOVE;
    if (ws->read_paused || (ws->read_limit > 0 &&
            relay_ws_get_queued_bytes (ws) > ws->read_limit)) {
      ws->read_paused = TRUE;
      relay_ws_unwatch_readable (ws);
      return G_SOURCE_REMOVE;
    }

    if (ws->big) {
      if (ws->big_have == ws->big_cap) {
        ws->big_cap = MIN (ws->big_len, ws->big_cap * 2);
        ws->big = g_realloc (ws->big, ws->big_cap);
      }
      n = g_pollable_input_stream_read_nonblocking (ws->in,
          ws->big + ws->big_have, ws->big_cap - ws->big_have, NULL, &error);
    } else if (ws->inbuf == NULL) {
      n = g_pollable_input_stream_read_nonblocking (ws->in, small,
          sizeof (small), NULL, &error);
      if (n > 0) {
        ws->in_cap = READ_START;
        ws->inbuf = g_malloc (ws->in_cap);
        memcpy (ws->inbuf, small, n);
      }
    } else {
      if (ws->in_len == ws->in_cap) {
        /* a partial frame fills the buffer (never past READ_CHUNK: larger
         * frames take the path above) */
        ws->in_cap = MIN (ws->in_cap * 2, READ_CHUNK);
        ws->inbuf = g_realloc (ws->inbuf, ws->in_cap);
      }
      n = g_pollable_input_stream_read_nonblocking (ws->in,
          ws->inbuf + ws->in_len, ws->in_cap - ws->in_len, NULL, &error);
    }

    if (n < 0) {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_clear_error (&error);
        return G_SOURCE_CONTINUE;
      }
      g_debug ("read failed: %s", error->message);
      g_clear_error (&error);
      relay_ws_teardown (ws);
      return G_SOURCE_REMOVE;
    }
    if (n == 0) {
      relay_ws_teardown (ws);
      return G_SOURCE_REMOVE;
    }
    ws->bytes_in += n;
    ws->last_activity = g_get_monotonic_time ();

    if (ws->big) {
      ws->big_have += n;
      if (ws->big_have == ws->big_len) {
        guint8 *data = ws->big;
        gsize len = ws->big_len;

        ws->big = NULL;
        relay_ws_unmask (data, data, len, ws->big_mask);
        relay_ws_handle_frame (ws, ws->big_fin, ws->big_opcode, data, len);
      }
    } else {
      gboolean filled = ws->in_len + n == ws->in_cap;

      ws->in_len += n;
      relay_ws_parse (ws);
      /* a busy peer: more is waiting, read it in larger pieces */
      if (filled && ws->in_cap < READ_CHUNK && ws->state != STATE_CLOSED &&
          !ws->failed) {
        ws->in_cap = MIN (ws->in_cap * 2, READ_CHUNK);
        ws->inbuf = g_realloc (ws->inbuf, ws->in_cap);
      } else if (ws->in_len == 0 && ws->in_cap <= READ_START) {
        /* everything parsed: give the small buffer back */
        g_clear_pointer (&ws->inbuf, g_free);
        ws->in_cap = 0;
      }
    }
    if (ws->state == STATE_CLOSED)
      return G_SOURCE_REMOVE;
  }
  /* more may be waiting (in a TLS layer epoll does not see): the poller
   * comes back to it at its next wake-up */
  if (ws->polled && ws->again_link.data == NULL) {
    ws->again_link.data = ws;
    g_queue_push_tail_link (&poller->again, &ws->again_link);
  }
  return G_SOURCE_CONTINUE;
}

static void
relay_ws_watch_readable (RelayWs * ws)
{
  if (ws->read_source || ws->polled)
    return;
  if (ws->fd >= 0) {
    RelayWsPoller *p = relay_ws_poller_get ();
    struct epoll_event ev = { 0, };

    ev.events = EPOLLIN;
    ev.data.ptr = ws;
    if (epoll_ctl (p->epoll_fd, EPOLL_CTL_ADD, ws->fd, &ev) == 0) {
      ws->polled = TRUE;
      return;
    }
    g_debug ("epoll_ctl (%d): %s; reading through a GSource", ws->fd,
        g_strerror (errno));
    ws->fd = -1;
  }
  ws->read_source = g_pollable_input_stream_create_source (ws->in, NULL);
  g_source_set_callback (ws->read_source,
      (GSourceFunc) (void (*)(void)) relay_ws_readable_cb, ws, NULL);
  g_source_attach (ws->read_source, NULL);
}

static gboolean
relay_ws_resume_cb (gpointer user_data)
{
  RelayWs *ws = user_data;

  ws->resume_id = 0;
  if (ws->state == STATE_CLOSED || ws->read_paused || ws->failed)
    return G_SOURCE_REMOVE;
  /* the frames already read first */
  if (!ws->big && ws->in_len > 0 && !relay_ws_parse (ws))
    return G_SOURCE_REMOVE;
  if (ws->read_paused)
    return G_SOURCE_REMOVE;
  relay_ws_watch_readable (ws);
  /* bytes may wait in a TLS layer, where polling does not see them */
  relay_ws_readable_cb (G_OBJECT (ws->in), ws);
  return G_SOURCE_REMOVE;
}

/* Reading starts again once the queue is back under the limit */
static void
relay_ws_check_resume (RelayWs * ws)
{
  if (!ws->read_paused || ws->state == STATE_CLOSED)
    return;
  if (relay_ws_get_queued_bytes (ws) > ws->read_limit)
    return;
  ws->read_paused = FALSE;
  if (ws->resume_id == 0)
    ws->resume_id = g_idle_add (relay_ws_resume_cb, ws);
}

void
relay_ws_set_tls (RelayWs * ws, gboolean tls)
{
  ws->is_tls = tls;
}

void
relay_ws_set_read_limit (RelayWs * ws, gsize limit)
{
  ws->read_limit = limit;
}

/* Every keepalive_seconds: a Ping, or the end for a peer silent for three
 * intervals */
static void
relay_ws_keepalive (RelayWs * ws, gint64 now)
{
  gint64 idle = now - ws->last_activity;

  if (idle > 3 * (gint64) ws->keepalive_seconds * G_TIME_SPAN_SECOND) {
    relay_log ("a peer did not answer keepalive pings for %" G_GINT64_FORMAT
        " s, closing it", idle / G_TIME_SPAN_SECOND);
    relay_ws_teardown (ws);
    return;
  }
  if (ws->state == STATE_OPEN)
    relay_ws_queue (ws, RELAY_WS_OPCODE_PING, NULL, NULL, 0, FALSE);
  if (ws->state != STATE_CLOSED)
    relay_ws_schedule_keepalive (ws, now);
}

void
relay_ws_start (RelayWs * ws)
{
  if (ws->state != STATE_NEW)
    return;
  ws->state = STATE_OPEN;
  relay_ws_watch_readable (ws);
  if (ws->keepalive_seconds > 0)
    relay_ws_schedule_keepalive (ws, g_get_monotonic_time ());
  /* Messages queued before the start go out now */
  if (!g_queue_is_empty (&ws->out_queue) && ws->flush_id == 0)
    ws->flush_id = g_idle_add_full (G_PRIORITY_DEFAULT,
        relay_ws_flush_idle_cb, ws, NULL);
  /* Bytes may already be buffered by the HTTP layer */
  relay_ws_readable_cb (G_OBJECT (ws->in), ws);
}
