/* gst-ds-stream
 * Copyright (C) 2026 gst-ds-stream developers
 *
 * bench-payload: what dspay ! dsdepay adds per buffer, next to
 * gdppay ! gdpdepay, over the bare cost of pushing a buffer
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
 * Usage: GST_PLUGIN_PATH=build build/tests/bench/bench-payload [REPEATS]
 *        [--cold-allocator]
 *    or: meson test -C build --benchmark payload --verbose
 *
 * Each chain runs in a pipeline between two pads of this program: buffers
 * are pushed from the calling thread and counted at the far end, so every
 * push goes through the whole chain before the next one starts and the
 * time measured is the chain's own work. The "floor" links the two pads
 * directly: what is left once the chain's work is taken away (creating,
 * pushing and freeing a buffer).
 *
 * Two kinds of buffer:
 *  - 1080p: one 1920x1080 RGBA picture (8294400 bytes), video/x-raw;
 *  - 64 B: 16 mono F32LE samples at 48 kHz, audio/x-raw (a 64-byte
 *    payload that is a real AudioPcm frame; a signal line would measure
 *    JSON work instead of framing).
 *
 * Each repetition runs the floor and both chains once, one after the
 * other; the overhead of a chain in that repetition is its time per
 * buffer minus the floor's. The figures printed are the medians over the
 * repetitions. Every output buffer is counted and its size checked.
 *
 * The allocator is kept warm: with glibc's defaults, a program that
 * allocates and frees an 8 MB block per frame on its main thread gets
 * fresh pages from the kernel every time, and a copying element then
 * pays ~8 ms of page faults per 1080p frame on top of its copy. Pipelines
 * stream on other threads, whose arenas keep their memory, so the
 * benchmark raises the mmap and trim thresholds to measure the copy and
 * not the page faults (which makes gdp look better, not worse). Pass
 * --cold-allocator to keep glibc's defaults.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <gst/gst.h>

#define DEFAULT_REPEATS 9
#define MAX_REPEATS 64

typedef struct
{
  const gchar *label;
  const gchar *caps;
  gsize size;
  GstClockTime duration;
  guint warmup;
  guint n_buffers;
} Media;

typedef struct
{
  const gchar *label;
  const gchar *factories[3];    /* NULL-terminated; none = the floor */
} Chain;

static const Media media_kinds[] = {
  {"1080p RGBA", "video/x-raw,format=RGBA,width=1920,height=1080,"
        "framerate=30/1", 1920 * 1080 * 4, GST_SECOND / 30, 10, 150},
  {"64 B (16 F32 samples)", "audio/x-raw,format=F32LE,layout=interleaved,"
        "rate=48000,channels=1", 64, GST_SECOND * 16 / 48000, 1000, 20000},
};

enum
{
  CHAIN_FLOOR,
  CHAIN_DS,
  CHAIN_GDP,
  N_CHAINS
};

static const Chain chains[N_CHAINS] = {
  {"floor", {NULL}},
  {"dspay ! dsdepay", {"dspay", "dsdepay", NULL}},
  {"gdppay ! gdpdepay", {"gdppay", "gdpdepay", NULL}},
};

typedef struct
{
  GstElement *pipeline;
  GstPad *srcpad;
  GstPad *sinkpad;
  gsize expected_size;
  guint64 received;
  guint64 wrong_size;
} Run;

static GstFlowReturn
sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  Run *run = gst_pad_get_element_private (pad);

  run->received++;
  if (gst_buffer_get_size (buffer) != run->expected_size)
    run->wrong_size++;
  gst_buffer_unref (buffer);

  return GST_FLOW_OK;
}

static gboolean
sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  gst_event_unref (event);
  return TRUE;
}

static void
on_pad_added (GstElement * element, GstPad * pad, Run * run)
{
  if (GST_PAD_IS_SRC (pad) && !gst_pad_is_linked (run->sinkpad))
    gst_pad_link (pad, run->sinkpad);
}

static gboolean
run_setup (Run * run, const Chain * chain, const Media * media)
{
  GstElement *first = NULL, *last = NULL;
  GstSegment segment;
  guint i;

  memset (run, 0, sizeof (Run));
  run->expected_size = media->size;
  run->pipeline = gst_pipeline_new (chain->label);
  run->srcpad = gst_pad_new ("src", GST_PAD_SRC);
  run->sinkpad = gst_pad_new ("sink", GST_PAD_SINK);
  gst_pad_set_element_private (run->sinkpad, run);
  gst_pad_set_chain_function (run->sinkpad, sink_chain);
  gst_pad_set_event_function (run->sinkpad, sink_event);

  for (i = 0; chain->factories[i] != NULL; i++) {
    GstElement *element = gst_element_factory_make (chain->factories[i], NULL);

    if (element == NULL) {
      g_printerr ("element %s not found\n", chain->factories[i]);
      return FALSE;
    }
    gst_bin_add (GST_BIN (run->pipeline), element);
    if (last != NULL && !gst_element_link (last, element)) {
      g_printerr ("could not link %s\n", chain->label);
      return FALSE;
    }
    if (first == NULL)
      first = element;
    last = element;
  }

  if (first == NULL) {
    gst_pad_link (run->srcpad, run->sinkpad);
  } else {
    GstPad *pad = gst_element_get_static_pad (first, "sink");

    gst_pad_link (run->srcpad, pad);
    gst_object_unref (pad);
    pad = gst_element_get_static_pad (last, "src");
    if (pad != NULL) {
      gst_pad_link (pad, run->sinkpad);
      gst_object_unref (pad);
    } else {
      /* dsdepay's pads come when it meets a kind of media */
      g_signal_connect (last, "pad-added", G_CALLBACK (on_pad_added), run);
    }
  }

  gst_pad_set_active (run->sinkpad, TRUE);
  gst_pad_set_active (run->srcpad, TRUE);
  if (gst_element_set_state (run->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("%s does not start\n", chain->label);
    return FALSE;
  }

  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (run->srcpad, gst_event_new_stream_start ("bench"));
  gst_pad_push_event (run->srcpad,
      gst_event_new_caps (gst_caps_from_string (media->caps)));
  gst_pad_push_event (run->srcpad, gst_event_new_segment (&segment));

  return TRUE;
}

static void
run_teardown (Run * run)
{
  gst_element_set_state (run->pipeline, GST_STATE_NULL);
  gst_pad_set_active (run->srcpad, FALSE);
  gst_pad_set_active (run->sinkpad, FALSE);
  gst_object_unref (run->pipeline);
  gst_object_unref (run->srcpad);
  gst_object_unref (run->sinkpad);
}

/* Pushes @count buffers sharing @payload's memory from @first on */
static gboolean
push_buffers (Run * run, const Media * media, GstBuffer * payload,
    guint64 first, guint count)
{
  guint64 i;

  for (i = first; i < first + count; i++) {
    GstBuffer *buffer = gst_buffer_copy (payload);

    GST_BUFFER_PTS (buffer) = i * media->duration;
    GST_BUFFER_DURATION (buffer) = media->duration;
    if (gst_pad_push (run->srcpad, buffer) != GST_FLOW_OK)
      return FALSE;
  }

  return TRUE;
}

/* Time per buffer in µs of one run of @chain, or a negative value when
 * the chain did not deliver every buffer intact */
static gdouble
time_chain (const Chain * chain, const Media * media, GstBuffer * payload)
{
  Run run;
  gint64 start, end;
  gboolean ok;

  if (!run_setup (&run, chain, media)) {
    run_teardown (&run);
    return -1;
  }

  ok = push_buffers (&run, media, payload, 0, media->warmup);
  start = g_get_monotonic_time ();
  ok = ok && push_buffers (&run, media, payload, media->warmup,
      media->n_buffers);
  end = g_get_monotonic_time ();

  if (!ok || run.received != media->warmup + media->n_buffers
      || run.wrong_size != 0) {
    g_printerr ("%s with %s: pushed %u, received %" G_GUINT64_FORMAT
        ", %" G_GUINT64_FORMAT " of the wrong size\n", chain->label,
        media->label, media->warmup + media->n_buffers, run.received,
        run.wrong_size);
    ok = FALSE;
  }
  run_teardown (&run);

  return ok ? (gdouble) (end - start) / media->n_buffers : -1;
}

static gint
compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

static gdouble
median (gdouble * values, guint n)
{
  qsort (values, n, sizeof (gdouble), compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static gboolean
chain_available (const Chain * chain)
{
  guint i;

  for (i = 0; chain->factories[i] != NULL; i++) {
    GstElementFactory *factory = gst_element_factory_find (chain->factories[i]);

    if (factory == NULL)
      return FALSE;
    gst_object_unref (factory);
  }
  return TRUE;
}

/* Benchmarks one kind of media; returns FALSE when a chain failed */
static gboolean
bench_media (const Media * media, guint repeats, const gboolean * available)
{
  gdouble per_buffer[N_CHAINS][MAX_REPEATS] = { {0} };
  gdouble overhead[N_CHAINS][MAX_REPEATS] = { {0} };
  gdouble floor_us, result[N_CHAINS];
  GstBuffer *payload;
  GstMapInfo map;
  guint r, c;

  payload = gst_buffer_new_allocate (NULL, media->size, NULL);
  gst_buffer_map (payload, &map, GST_MAP_WRITE);
  for (r = 0; r < map.size; r++)
    map.data[r] = (guint8) (r * 7 + 1);
  gst_buffer_unmap (payload, &map);

  for (r = 0; r < repeats; r++) {
    for (c = 0; c < N_CHAINS; c++) {
      if (!available[c])
        continue;
      per_buffer[c][r] = time_chain (&chains[c], media, payload);
      if (per_buffer[c][r] < 0) {
        gst_buffer_unref (payload);
        return FALSE;
      }
    }
    for (c = CHAIN_DS; c < N_CHAINS; c++)
      overhead[c][r] = per_buffer[c][r] - per_buffer[CHAIN_FLOOR][r];
  }
  gst_buffer_unref (payload);

  floor_us = median (per_buffer[CHAIN_FLOOR], repeats);
  for (c = CHAIN_DS; c < N_CHAINS; c++)
    result[c] = available[c] ? median (overhead[c], repeats) : 0;

  g_print ("%s, %u buffers x %u runs (medians):\n", media->label,
      media->n_buffers, repeats);
  g_print ("  %-20s %10.3f us/buffer\n", "floor", floor_us);
  for (c = CHAIN_DS; c < N_CHAINS; c++) {
    if (available[c])
      g_print ("  %-20s %10.3f us/buffer over the floor\n", chains[c].label,
          result[c]);
    else
      g_print ("  %-20s (not available)\n", chains[c].label);
  }
  if (available[CHAIN_DS] && available[CHAIN_GDP] && result[CHAIN_GDP] > 0)
    g_print ("  %-20s %10.4f (ds overhead / gdp overhead = 1/%.1f)\n",
        "ratio", result[CHAIN_DS] / result[CHAIN_GDP],
        result[CHAIN_GDP] / MAX (result[CHAIN_DS], 0.001));

  return TRUE;
}

int
main (int argc, char **argv)
{
  gboolean available[N_CHAINS];
  guint repeats = DEFAULT_REPEATS, i;
  gboolean ok = TRUE, warm_allocator = TRUE;

  gst_init (&argc, &argv);

  for (i = 1; i < (guint) argc; i++) {
    if (strcmp (argv[i], "--cold-allocator") == 0)
      warm_allocator = FALSE;
    else
      repeats = CLAMP (atoi (argv[i]), 1, MAX_REPEATS);
  }
#ifdef __GLIBC__
  if (warm_allocator) {
    mallopt (M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt (M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  }
#endif
  g_print ("allocator: %s\n", warm_allocator ? "warm" : "cold (defaults)");

  for (i = 0; i < N_CHAINS; i++)
    available[i] = chain_available (&chains[i]);
  if (!available[CHAIN_DS])
    g_printerr ("dspay/dsdepay not found: set GST_PLUGIN_PATH to the build "
        "folder\n");
  if (!available[CHAIN_GDP])
    g_printerr ("gdppay/gdpdepay not found: install "
        "gstreamer1.0-plugins-bad\n");

  for (i = 0; i < G_N_ELEMENTS (media_kinds); i++)
    ok = bench_media (&media_kinds[i], repeats, available) && ok;

  return ok && available[CHAIN_DS] ? 0 : 1;
}
