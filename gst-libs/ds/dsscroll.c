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

#include <string.h>

#include "dsscroll.h"

#define BYTES_PER_PIXEL 4
/* Rows of a probe that must have changed before hashes are made */
#define PROBE_MIN_CHANGED 2
/* Narrowest band, in pixels: narrower pictures get fewer bands */
#define MIN_BAND_WIDTH 64
/* A move covers at least this many rows */
#define MIN_RUN 2
/* An offset needs this many distinctive rows voting for it */
#define MIN_VOTES 2
/* After this many searches in a row that found nothing (video, a dragged
 * window), search only one picture in BACKOFF_PERIOD until one finds */
#define BACKOFF_MISSES 3
#define BACKOFF_PERIOD 8

struct _DsScrollDetector
{
  guint width;
  guint height;
  guint n_bands;
  guint64 *cur_hash;            /* [y * n_bands + band] */
  guint64 *ref_hash;
  /* ref_hash holds the hashes of the last call's @cur */
  gboolean ref_hash_valid;
  guint misses;                 /* searches in a row that found nothing */
  guint skipped;                /* pictures skipped since the last search */
  /* open addressing table of the reference hashes of one band */
  guint table_mask;
  guint64 *table_hash;
  gint32 *table_row;            /* -1 empty, -2 a hash seen twice */
  guint32 *votes;               /* per offset + height / 2 */
  guint8 *covered;              /* per row of one band */
};

DsScrollDetector *
ds_scroll_detector_new (void)
{
  return g_new0 (DsScrollDetector, 1);
}

static void
free_state (DsScrollDetector * d)
{
  g_clear_pointer (&d->cur_hash, g_free);
  g_clear_pointer (&d->ref_hash, g_free);
  g_clear_pointer (&d->table_hash, g_free);
  g_clear_pointer (&d->table_row, g_free);
  g_clear_pointer (&d->votes, g_free);
  g_clear_pointer (&d->covered, g_free);
  d->width = d->height = 0;
  d->ref_hash_valid = FALSE;
}

void
ds_scroll_detector_reset (DsScrollDetector * detector)
{
  g_return_if_fail (detector != NULL);
  detector->ref_hash_valid = FALSE;
  detector->misses = 0;
  detector->skipped = 0;
}

void
ds_scroll_detector_free (DsScrollDetector * detector)
{
  if (detector == NULL)
    return;
  free_state (detector);
  g_free (detector);
}

static void
set_size (DsScrollDetector * d, guint width, guint height)
{
  guint table_size = 1;

  free_state (d);
  d->width = width;
  d->height = height;
  d->n_bands = CLAMP (width / MIN_BAND_WIDTH, 1, DS_SCROLL_BANDS);
  d->cur_hash = g_new (guint64, (gsize) height * d->n_bands);
  d->ref_hash = g_new (guint64, (gsize) height * d->n_bands);
  while (table_size < 2 * height)
    table_size <<= 1;
  d->table_mask = table_size - 1;
  d->table_hash = g_new (guint64, table_size);
  d->table_row = g_new (gint32, table_size);
  d->votes = g_new (guint32, height + 1);
  d->covered = g_new (guint8, height);
}

/* A fast 64-bit hash of a span: four independent lanes of
 * multiply-add-rotate rounds, mixed at the end. Not a strong hash: a
 * collision costs bytes, never correctness */
#define PRIME1 G_GUINT64_CONSTANT (0x9e3779b185ebca87)
#define PRIME2 G_GUINT64_CONSTANT (0xc2b2ae3d27d4eb4f)
#define PRIME3 G_GUINT64_CONSTANT (0x165667b19e3779f9)

static inline guint64
rotl64 (guint64 v, guint s)
{
  return (v << s) | (v >> (64 - s));
}

static inline guint64
read64 (const guint8 * p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return v;
}

/* the multiplication is off the chain of each lane: a round costs an add
 * and a rotation of latency, so the hash runs at about memory speed */
static inline guint64
lane (guint64 acc, guint64 v)
{
  return rotl64 (acc + v * PRIME2, 31);
}

static guint64
hash_span (const guint8 * p, gsize n)
{
  guint64 a = PRIME1 + PRIME2, b = PRIME2, c = 0, e = -PRIME1, h;
  gsize i = 0;

  for (; i + 32 <= n; i += 32) {
    a = lane (a, read64 (p + i));
    b = lane (b, read64 (p + i + 8));
    c = lane (c, read64 (p + i + 16));
    e = lane (e, read64 (p + i + 24));
  }
  for (; i + 8 <= n; i += 8)
    a = lane (a, read64 (p + i));
  for (; i < n; i++)
    b = lane (b, p[i]);

  h = rotl64 (a, 1) + rotl64 (b, 7) + rotl64 (c, 12) + rotl64 (e, 18) + n;
  h ^= h >> 33;
  h *= PRIME2;
  h ^= h >> 29;
  h *= PRIME3;
  h ^= h >> 32;
  return h;
}

static inline guint
band_x (const DsScrollDetector * d, guint band)
{
  return (guint) ((guint64) d->width * band / d->n_bands);
}

static void
hash_picture (const DsScrollDetector * d, const guint8 * pic, guint64 * out)
{
  gsize stride = (gsize) d->width * BYTES_PER_PIXEL;
  guint y, b;

  for (y = 0; y < d->height; y++) {
    const guint8 *row = pic + y * stride;

    for (b = 0; b < d->n_bands; b++) {
      guint x0 = band_x (d, b), x1 = band_x (d, b + 1);

      out[(gsize) y * d->n_bands + b] = hash_span (row + (gsize) x0 *
          BYTES_PER_PIXEL, (gsize) (x1 - x0) * BYTES_PER_PIXEL);
    }
  }
}

/* Whether a probed row differs: one cache line in PROBE_LINE_STRIDE
 * bytes is compared (a changed text row differs almost everywhere), so a
 * still picture costs a few cache lines per probed row */
#define PROBE_CHUNK 64
#define PROBE_LINE_STRIDE 256

static gboolean
probe_row_differs (const guint8 * a, const guint8 * b, gsize len)
{
  gsize x;

  for (x = 0; x + PROBE_CHUNK <= len; x += PROBE_LINE_STRIDE)
    if (memcmp (a + x, b + x, PROBE_CHUNK) != 0)
      return TRUE;
  /* the end of the row */
  x = len > PROBE_CHUNK ? len - PROBE_CHUNK : 0;
  return memcmp (a + x, b + x, len - x) != 0;
}

/* Fewer than PROBE_MIN_CHANGED probed rows changed in place: nothing
 * worth looking for */
static gboolean
probe_changed (const guint8 * cur, const guint8 * ref, guint width,
    guint height)
{
  gsize stride = (gsize) width * BYTES_PER_PIXEL;
  guint y, changed = 0;
  guint step = MAX (height / DS_SCROLL_PROBE_ROWS, 1);

  for (y = step / 2; y < height; y += step) {
    if (probe_row_differs (cur + y * stride, ref + y * stride, stride)
        && ++changed >= PROBE_MIN_CHANGED)
      return TRUE;
  }
  return FALSE;
}

static void
table_build (DsScrollDetector * d, guint band)
{
  guint y;

  memset (d->table_row, 0xff, (d->table_mask + 1) * sizeof (gint32));
  for (y = 0; y < d->height; y++) {
    guint64 h = d->ref_hash[(gsize) y * d->n_bands + band];
    guint slot = (guint) (h ^ (h >> 32)) & d->table_mask;

    while (d->table_row[slot] != -1 && d->table_hash[slot] != h)
      slot = (slot + 1) & d->table_mask;
    if (d->table_row[slot] == -1) {
      d->table_hash[slot] = h;
      d->table_row[slot] = y;
    } else {
      d->table_row[slot] = -2;
    }
  }
}

/* The row of the reference with hash @h when it is the only one, else -1 */
static gint
table_lookup (const DsScrollDetector * d, guint64 h)
{
  guint slot = (guint) (h ^ (h >> 32)) & d->table_mask;

  while (d->table_row[slot] != -1) {
    if (d->table_hash[slot] == h)
      return d->table_row[slot] >= 0 ? d->table_row[slot] : -1;
    slot = (slot + 1) & d->table_mask;
  }
  return -1;
}

/* Adds a move of rows [y0, y0 + h) of band @band at offset @off, merged
 * with a move of the band on its left when it has the same rows */
static guint
add_move (const DsScrollDetector * d, DsMotionMove * moves, guint n_moves,
    guint band, guint y0, guint h, gint off)
{
  guint x0 = band_x (d, band), x1 = band_x (d, band + 1), i;
  guint src_y = (guint) ((gint) y0 - off);

  for (i = 0; i < n_moves; i++) {
    DsMotionMove *m = &moves[i];

    if (m->dst_y == y0 && m->src_y == src_y && m->height == h
        && m->dst_x + m->width == x0) {
      m->width += x1 - x0;
      return n_moves;
    }
  }
  if (n_moves >= DS_SCROLL_MAX_MOVES)
    return n_moves;
  moves[n_moves].src_x = moves[n_moves].dst_x = x0;
  moves[n_moves].width = x1 - x0;
  moves[n_moves].src_y = src_y;
  moves[n_moves].dst_y = y0;
  moves[n_moves].height = h;
  return n_moves + 1;
}

static guint
detect_band (DsScrollDetector * d, guint band, DsMotionMove * moves,
    guint n_moves)
{
  guint nb = d->n_bands, height = d->height, max_off = height / 2;
  const guint64 *ch = d->cur_hash + band, *rh = d->ref_hash + band;
  gint offsets[DS_SCROLL_MAX_OFFSETS];
  guint n_offsets = 0, y, i, changed = 0;

  /* votes of the rows changed in place */
  memset (d->votes, 0, (2 * max_off + 1) * sizeof (guint32));
  for (y = 0; y < height; y++) {
    gint src;

    if (ch[(gsize) y * nb] == rh[(gsize) y * nb])
      continue;
    changed++;
    src = table_lookup (d, ch[(gsize) y * nb]);
    if (src >= 0 && (guint) ABS ((gint) y - src) <= max_off)
      d->votes[(gint) y - src + (gint) max_off]++;
  }
  if (changed < MIN_RUN)
    return n_moves;

  /* the best offsets */
  for (i = 0; i < DS_SCROLL_MAX_OFFSETS; i++) {
    guint best = 0, best_votes = MIN_VOTES - 1, k;

    for (k = 0; k <= 2 * max_off; k++)
      if (d->votes[k] > best_votes) {
        best_votes = d->votes[k];
        best = k;
      }
    if (best_votes < MIN_VOTES)
      break;
    d->votes[best] = 0;
    offsets[n_offsets++] = (gint) best - (gint) max_off;
  }

  /* each offset claims the runs of rows matching at it */
  memset (d->covered, 0, height);
  for (i = 0; i < n_offsets; i++) {
    gint off = offsets[i];
    guint y_start = off > 0 ? (guint) off : 0;
    guint y_end = off < 0 ? height - (guint) - off : height;
    guint run = 0, run_changed = 0;

    for (y = y_start; y <= y_end; y++) {
      gboolean match = y < y_end && !d->covered[y]
          && ch[(gsize) y * nb] == rh[(gsize) (y - off) * nb];

      if (match) {
        run++;
        if (ch[(gsize) y * nb] != rh[(gsize) y * nb])
          run_changed++;
        continue;
      }
      if (run >= MIN_RUN && run_changed > 0) {
        memset (d->covered + y - run, 1, run);
        n_moves = add_move (d, moves, n_moves, band, y - run, run, off);
      }
      run = run_changed = 0;
    }
  }

  return n_moves;
}

/* Whether columns [@x, @x + @w) of the rows of @m match in @cur and at
 * the move's source in @ref */
static gboolean
columns_match (const DsScrollDetector * d, const guint8 * cur,
    const guint8 * ref, const DsMotionMove * m, guint x, guint w)
{
  gsize stride = (gsize) d->width * BYTES_PER_PIXEL;
  guint r;

  for (r = 0; r < m->height; r++)
    if (memcmp (cur + (m->dst_y + r) * stride + (gsize) x * BYTES_PER_PIXEL,
            ref + (m->src_y + r) * stride + (gsize) x * BYTES_PER_PIXEL,
            (gsize) w * BYTES_PER_PIXEL) != 0)
      return FALSE;
  return TRUE;
}

/* Whether column @x of the rows of move @i is free of the other moves */
static gboolean
column_free (const DsMotionMove * moves, guint n_moves, guint i, guint x)
{
  const DsMotionMove *m = &moves[i];
  guint k;

  for (k = 0; k < n_moves; k++) {
    const DsMotionMove *o = &moves[k];

    if (k != i && x >= o->dst_x && x < o->dst_x + o->width
        && m->dst_y < o->dst_y + o->height && o->dst_y < m->dst_y + m->height)
      return FALSE;
  }
  return TRUE;
}

/* Widens each move over the columns beside it that moved with it: a
 * scrolled window rarely fills whole bands. Chunks of EXTEND_CHUNK
 * columns, then single columns; never over another move, so the moves
 * stay disjoint. Reads at most the moved rows of both pictures. */
#define EXTEND_CHUNK 16

static void
extend_moves (const DsScrollDetector * d, const guint8 * cur,
    const guint8 * ref, DsMotionMove * moves, guint n_moves)
{
  guint i;

  for (i = 0; i < n_moves; i++) {
    DsMotionMove *m = &moves[i];
    guint step;

    /* to the right */
    for (step = EXTEND_CHUNK; step > 0; step = step > 1 ? 1 : 0) {
      while (m->dst_x + m->width + step <= d->width
          && column_free (moves, n_moves, i, m->dst_x + m->width)
          && column_free (moves, n_moves, i, m->dst_x + m->width + step - 1)
          && columns_match (d, cur, ref, m, m->dst_x + m->width, step))
        m->width += step;
    }
    /* to the left */
    for (step = EXTEND_CHUNK; step > 0; step = step > 1 ? 1 : 0) {
      while (m->dst_x >= step
          && column_free (moves, n_moves, i, m->dst_x - step)
          && column_free (moves, n_moves, i, m->dst_x - 1)
          && columns_match (d, cur, ref, m, m->dst_x - step, step)) {
        m->dst_x -= step;
        m->src_x -= step;
        m->width += step;
      }
    }
  }
}

/**
 * ds_scroll_detect:
 * @detector: a #DsScrollDetector
 * @cur: the new picture
 * @ref: the reference
 * @width: picture width
 * @height: picture height
 * @moves: (out caller-allocates) (array fixed-size=256): the moves found
 *
 * Returns: how many moves were found
 */
guint
ds_scroll_detect (DsScrollDetector * detector, const guint8 * cur,
    const guint8 * ref, guint width, guint height, DsMotionMove * moves)
{
  guint n_moves = 0, b;
  guint64 *tmp;

  g_return_val_if_fail (detector != NULL, 0);
  g_return_val_if_fail (cur != NULL && ref != NULL && moves != NULL, 0);

  if (width == 0 || height < 2 * MIN_RUN || width > G_MAXUINT16
      || height > G_MAXUINT16)
    return 0;
  if (!probe_changed (cur, ref, width, height))
    goto not_searched;
  if (detector->misses >= BACKOFF_MISSES
      && ++detector->skipped < BACKOFF_PERIOD)
    goto not_searched;
  detector->skipped = 0;

  if (detector->width != width || detector->height != height) {
    set_size (detector, width, height);
  }
  hash_picture (detector, cur, detector->cur_hash);
  if (!detector->ref_hash_valid)
    hash_picture (detector, ref, detector->ref_hash);

  for (b = 0; b < detector->n_bands; b++) {
    table_build (detector, b);
    n_moves = detect_band (detector, b, moves, n_moves);
  }

  extend_moves (detector, cur, ref, moves, n_moves);
  detector->misses = n_moves > 0 ? 0 : detector->misses + 1;

  /* @cur is the next reference */
  tmp = detector->ref_hash;
  detector->ref_hash = detector->cur_hash;
  detector->cur_hash = tmp;
  detector->ref_hash_valid = TRUE;

  return n_moves;

not_searched:
  /* @cur is not hashed: the next call hashes its reference */
  detector->ref_hash_valid = FALSE;
  return 0;
}
