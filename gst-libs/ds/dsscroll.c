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

/* The shift search: SHIFT_GRID x SHIFT_GRID samples of SHIFT_SPAN
 * pixels of the changed box of the new picture are looked for at every
 * position of the changed box of the reference; the offsets they are
 * found at vote */
#define SHIFT_SPAN 16
#define SHIFT_GRID 16
#define SHIFT_MAX_SAMPLES (SHIFT_GRID * SHIFT_GRID)
#define SHIFT_KEY_BITS 12
/* a sample found in more places than this (a repeated glyph, a flat
 * run) does not vote */
#define SHIFT_MAX_HITS 8
/* changes between neighbouring pixels a sample needs */
#define SHIFT_MIN_EDGES 3
#define SHIFT_VOTE_SLOTS 1024
#define SHIFT_MIN_VOTES 3
#define SHIFT_MAX_VECTORS 4
/* the smallest shifted rectangle worth a move, in pixels */
#define SHIFT_MIN_AREA 1024
/* a strip of a growing rectangle is taken when at most one chunk of
 * SHIFT_SPAN pixels in SHIFT_TOLERANCE differs */
#define SHIFT_TOLERANCE 8

typedef struct
{
  guint x, y;
  guint64 a, b;                 /* its first four pixels */
  gint16 next;                  /* the next sample with the same key slot */
  guint16 hits;                 /* > SHIFT_MAX_HITS: ambiguous, no vote */
  gint32 hit_dx[SHIFT_MAX_HITS];
  gint32 hit_dy[SHIFT_MAX_HITS];
} DsShiftSample;

typedef struct
{
  gint32 dx, dy;
  guint32 count;                /* 0: a free slot */
} DsShiftVote;

typedef struct
{
  guint x0, y0, x1, y1;
} DsBox;

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
  /* shift search (dragged windows, horizontal scrolls) */
  DsShiftSample samples[SHIFT_MAX_SAMPLES];
  gint16 sample_head[1 << SHIFT_KEY_BITS];
  DsShiftVote votes2d[SHIFT_VOTE_SLOTS];
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

static gboolean
boxes_intersect (const DsBox * a, const DsBox * b)
{
  return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Whether @b may be a move's destination at offset (@dx, @dy): inside the
 * picture at both ends, clear of the moves found so far */
static gboolean
box_allowed (const DsScrollDetector * d, const DsBox * b, gint dx, gint dy,
    const DsMotionMove * moves, guint n_moves)
{
  guint i;

  if (b->x1 > d->width || b->y1 > d->height
      || (gint) b->x0 - dx < 0 || (gint) b->x1 - dx > (gint) d->width
      || (gint) b->y0 - dy < 0 || (gint) b->y1 - dy > (gint) d->height)
    return FALSE;
  for (i = 0; i < n_moves; i++) {
    DsBox m = { moves[i].dst_x, moves[i].dst_y,
      moves[i].dst_x + moves[i].width, moves[i].dst_y + moves[i].height
    };

    if (boxes_intersect (b, &m))
      return FALSE;
  }
  return TRUE;
}

/* The box of the pixels that changed in place, from the row hashes (rows,
 * bands), then narrowed to the first and last changed pixel of the
 * changed rows. FALSE when nothing changed. */
static gboolean
changed_box (const DsScrollDetector * d, const guint8 * cur,
    const guint8 * ref, DsBox * box)
{
  gsize stride = (gsize) d->width * BYTES_PER_PIXEL;
  guint nb = d->n_bands, y, b, b0 = nb, b1 = 0, xa, xb, x0, x1;

  box->y0 = d->height;
  box->y1 = 0;
  for (y = 0; y < d->height; y++)
    for (b = 0; b < nb; b++)
      if (d->cur_hash[(gsize) y * nb + b] != d->ref_hash[(gsize) y * nb + b]) {
        box->y0 = MIN (box->y0, y);
        box->y1 = y + 1;
        b0 = MIN (b0, b);
        b1 = MAX (b1, b + 1);
      }
  if (box->y1 == 0)
    return FALSE;

  /* from the band edges inwards, each changed row only searched where
   * it could widen the box */
  xa = band_x (d, b0);
  xb = band_x (d, b1);
  x0 = xb;
  x1 = xa;
  for (y = box->y0; y < box->y1; y++) {
    const guint8 *c = cur + y * stride, *r = ref + y * stride;
    guint x;

    for (x = xa; x < x0; x++)
      if (memcmp (c + (gsize) x * BYTES_PER_PIXEL,
              r + (gsize) x * BYTES_PER_PIXEL, BYTES_PER_PIXEL) != 0) {
        x0 = x;
        break;
      }
    for (x = xb; x > MAX (x1, x0); x--)
      if (memcmp (c + (gsize) (x - 1) * BYTES_PER_PIXEL,
              r + (gsize) (x - 1) * BYTES_PER_PIXEL, BYTES_PER_PIXEL) != 0) {
        x1 = x;
        break;
      }
  }
  if (x1 <= x0)
    return FALSE;
  box->x0 = x0;
  box->x1 = x1;
  return TRUE;
}

/* Changes between neighbouring pixels of a span: a span with few says
 * little about where it came from */
static guint
count_edges (const guint8 * span)
{
  guint32 prev, px;
  guint i, edges = 0;

  memcpy (&prev, span, 4);
  for (i = 1; i < SHIFT_SPAN; i++) {
    memcpy (&px, span + 4 * i, 4);
    edges += px != prev;
    prev = px;
  }
  return edges;
}

static inline guint
shift_key (guint64 a, guint64 b)
{
  return (guint) (((a ^ rotl64 (b, 29)) * PRIME1) >> (64 - SHIFT_KEY_BITS));
}

/* Up to SHIFT_MAX_SAMPLES spans of the new picture on a grid over @box,
 * each changed in place and not flat in its first four pixels (the key
 * the reference is searched for) */
static guint
pick_samples (DsScrollDetector * d, const guint8 * cur, const guint8 * ref,
    const DsBox * box, const DsMotionMove * moves, guint n_moves)
{
  gsize stride = (gsize) d->width * BYTES_PER_PIXEL;
  guint nb = d->n_bands, rows[SHIFT_GRID], n_rows = 0, n_changed = 0, y;
  guint gx, gy, n = 0;

  memset (d->sample_head, 0xff, sizeof (d->sample_head));
  /* SHIFT_GRID rows evenly spread over the rows that changed */
  for (y = box->y0; y < box->y1; y++)
    if (memcmp (d->cur_hash + (gsize) y * nb, d->ref_hash + (gsize) y * nb,
            nb * sizeof (guint64)) != 0)
      n_changed++;
  for (y = box->y0, gy = 0; y < box->y1 && n_rows < SHIFT_GRID; y++) {
    if (memcmp (d->cur_hash + (gsize) y * nb, d->ref_hash + (gsize) y * nb,
            nb * sizeof (guint64)) == 0)
      continue;
    if (gy++ >= (2 * n_rows + 1) * n_changed / (2 * SHIFT_GRID))
      rows[n_rows++] = y;
  }

  for (gy = 0; gy < n_rows; gy++) {
    y = rows[gy];

    for (gx = 0; gx < SHIFT_GRID; gx++) {
      guint x = box->x0 + (guint) ((guint64) (2 * gx + 1) * (box->x1 -
              box->x0) / (2 * SHIFT_GRID));
      guint k;

      /* a few places along the row until one is worth searching */
      for (k = 0; k < 8; k++, x += SHIFT_SPAN / 2) {
        guint xs = MIN (x, d->width - SHIFT_SPAN);
        const guint8 *c = cur + y * stride + (gsize) xs * BYTES_PER_PIXEL;
        const guint8 *r = ref + y * stride + (gsize) xs * BYTES_PER_PIXEL;
        guint32 p[4];
        DsShiftSample *s;
        guint key;

        memcpy (p, c, sizeof (p));
        if ((p[0] == p[1] && p[1] == p[2] && p[2] == p[3])
            || count_edges (c) < SHIFT_MIN_EDGES)
          continue;
        if (memcmp (c, r, SHIFT_SPAN * BYTES_PER_PIXEL) == 0)
          continue;
        {
          DsBox sb = { xs, y, xs + SHIFT_SPAN, y + 1 };

          /* already predicted by a move */
          if (!box_allowed (d, &sb, 0, 0, moves, n_moves))
            break;
        }
        s = &d->samples[n];
        s->x = xs;
        s->y = y;
        s->a = read64 (c);
        s->b = read64 (c + 8);
        s->hits = 0;
        key = shift_key (s->a, s->b);
        s->next = d->sample_head[key];
        d->sample_head[key] = (gint16) n;
        n++;
        break;
      }
    }
  }
  return n;
}

static void
vote (DsScrollDetector * d, gint dx, gint dy)
{
  guint slot = ((guint) dx * 2654435761u ^ (guint) dy * 40503u)
      & (SHIFT_VOTE_SLOTS - 1);
  guint i;

  for (i = 0; i < SHIFT_VOTE_SLOTS; i++) {
    DsShiftVote *v = &d->votes2d[(slot + i) & (SHIFT_VOTE_SLOTS - 1)];

    if (v->count == 0) {
      v->dx = dx;
      v->dy = dy;
      v->count = 1;
      return;
    }
    if (v->dx == dx && v->dy == dy) {
      v->count++;
      return;
    }
  }
}

/* Every position of the reference's changed box is looked up by its key:
 * a sample found there votes for the offset. Bounded: one key per
 * position of the box, SHIFT_MAX_HITS full compares per sample. */
static void
search_samples (DsScrollDetector * d, const guint8 * cur, const guint8 * ref,
    const DsBox * box, guint n_samples)
{
  gsize stride = (gsize) d->width * BYTES_PER_PIXEL;
  guint x_end = MIN (box->x1, d->width - SHIFT_SPAN + 1), x, y, i;

  memset (d->votes2d, 0, sizeof (d->votes2d));
  for (y = box->y0; y < box->y1; y++) {
    const guint8 *row = ref + y * stride;

    for (x = box->x0; x < x_end; x++) {
      const guint8 *p = row + (gsize) x * BYTES_PER_PIXEL;
      guint64 a = read64 (p), b = read64 (p + 8);
      gint k = d->sample_head[shift_key (a, b)];

      for (; k >= 0; k = d->samples[k].next) {
        DsShiftSample *s = &d->samples[k];

        if (s->a != a || s->b != b || s->hits > SHIFT_MAX_HITS)
          continue;
        if (memcmp (p + 16, cur + s->y * stride + (gsize) s->x *
                BYTES_PER_PIXEL + 16, SHIFT_SPAN * BYTES_PER_PIXEL - 16) != 0)
          continue;
        if (s->hits < SHIFT_MAX_HITS) {
          s->hit_dx[s->hits] = (gint) s->x - (gint) x;
          s->hit_dy[s->hits] = (gint) s->y - (gint) y;
        }
        s->hits++;
      }
    }
  }

  /* a sample found in many places says nothing */
  for (i = 0; i < n_samples; i++) {
    const DsShiftSample *s = &d->samples[i];
    guint h;

    if (s->hits > SHIFT_MAX_HITS)
      continue;
    for (h = 0; h < s->hits; h++)
      if (s->hit_dx[h] != 0 || s->hit_dy[h] != 0)
        vote (d, s->hit_dx[h], s->hit_dy[h]);
  }
}

/* Whether the @w x @h rectangle at (@x, @y) of @cur matches the same
 * rectangle moved by -(@dx, @dy) in @ref, but for at most one chunk in
 * SHIFT_TOLERANCE (the residual codes what differs). The caller keeps
 * both rectangles inside the pictures. */
static gboolean
region_matches (const DsScrollDetector * d, const guint8 * cur,
    const guint8 * ref, guint x, guint y, guint w, guint h, gint dx, gint dy)
{
  gsize stride = (gsize) d->width * BYTES_PER_PIXEL;
  guint n_chunks = 0, n_diff = 0, r, cx;

  for (r = 0; r < h; r++) {
    const guint8 *c = cur + (y + r) * stride + (gsize) x * BYTES_PER_PIXEL;
    const guint8 *s = ref + (gsize) ((gint) (y + r) - dy) * stride +
        (gsize) ((gint) x - dx) * BYTES_PER_PIXEL;

    for (cx = 0; cx < w; cx += SHIFT_SPAN) {
      guint n = MIN (SHIFT_SPAN, w - cx);

      n_chunks++;
      if (memcmp (c + (gsize) cx * BYTES_PER_PIXEL,
              s + (gsize) cx * BYTES_PER_PIXEL,
              (gsize) n * BYTES_PER_PIXEL) != 0)
        n_diff++;
    }
  }
  return n_diff * SHIFT_TOLERANCE <= n_chunks;
}

/* Whether @t may join a rectangle moved by (@dx, @dy): allowed there and
 * matching at the offset */
static gboolean
strip_matches (const DsScrollDetector * d, const guint8 * cur,
    const guint8 * ref, const DsBox * t, gint dx, gint dy,
    const DsMotionMove * moves, guint n_moves)
{
  return box_allowed (d, t, dx, dy, moves, n_moves)
      && region_matches (d, cur, ref, t->x0, t->y0, t->x1 - t->x0,
      t->y1 - t->y0, dx, dy);
}

static inline void
box_set (DsBox * b, guint x0, guint y0, guint x1, guint y1)
{
  b->x0 = x0;
  b->y0 = y0;
  b->x1 = x1;
  b->y1 = y1;
}

/* Grows @b, an edge at a time (SHIFT_SPAN pixels, then one), while the
 * strip it would take matches at the offset */
static void
grow_box (const DsScrollDetector * d, const guint8 * cur, const guint8 * ref,
    DsBox * b, gint dx, gint dy, const DsMotionMove * moves, guint n_moves)
{
  gboolean grew = TRUE;

  while (grew) {
    guint step;

    grew = FALSE;
    for (step = SHIFT_SPAN; step > 0 && !grew; step = step > 1 ? 1 : 0) {
      DsBox t;

      /* each strip from the box as it is now: a strip built before
       * another edge moved would leave its corner unchecked */
      box_set (&t, b->x0, b->y0 - MIN (step, b->y0), b->x1, b->y0);
      if (b->y0 >= step && strip_matches (d, cur, ref, &t, dx, dy, moves,
              n_moves)) {
        b->y0 = t.y0;
        grew = TRUE;
      }
      box_set (&t, b->x0, b->y1, b->x1, b->y1 + step);
      if (strip_matches (d, cur, ref, &t, dx, dy, moves, n_moves)) {
        b->y1 = t.y1;
        grew = TRUE;
      }
      box_set (&t, b->x0 - MIN (step, b->x0), b->y0, b->x0, b->y1);
      if (b->x0 >= step && strip_matches (d, cur, ref, &t, dx, dy,
              moves, n_moves)) {
        b->x0 = t.x0;
        grew = TRUE;
      }
      box_set (&t, b->x1, b->y0, b->x1 + step, b->y1);
      if (strip_matches (d, cur, ref, &t, dx, dy, moves, n_moves)) {
        b->x1 = t.x1;
        grew = TRUE;
      }
    }
  }
}

static gboolean
moves_intersect (const DsMotionMove * a, const DsMotionMove * b)
{
  return a->dst_x < b->dst_x + b->width && b->dst_x < a->dst_x + a->width
      && a->dst_y < b->dst_y + b->height && b->dst_y < a->dst_y + a->height;
}

/* The @n_rows row moves of @moves, then @n_found rectangles: a rectangle
 * replaces the row moves it overlaps when it is larger than all of them
 * (they were pieces of it), else it is dropped; the moves stay disjoint.
 * Returns how many are left, in place. */
static guint
merge_moves (DsMotionMove * moves, guint n_rows, guint n_found)
{
  const DsMotionMove *found = moves + n_rows;
  guint8 drop[DS_SCROLL_MAX_MOVES] = { 0, };
  guint i, j, n = 0;

  for (j = 0; j < n_found; j++) {
    guint64 area = (guint64) found[j].width * found[j].height, rows = 0;

    for (i = 0; i < n_rows; i++)
      if (!drop[i] && moves_intersect (&moves[i], &found[j]))
        rows += (guint64) moves[i].width * moves[i].height;
    if (area < rows) {
      drop[n_rows + j] = 1;
      continue;
    }
    for (i = 0; i < n_rows; i++)
      if (moves_intersect (&moves[i], &found[j]))
        drop[i] = 1;
  }
  for (i = 0; i < n_rows + n_found; i++)
    if (!drop[i])
      moves[n++] = moves[i];
  return n;
}

/* The rectangles of @cur that are rectangles of @ref moved in any
 * direction (a dragged window, a horizontal scroll), as up to
 * SHIFT_MAX_VECTORS moves appended to @moves */
static guint
detect_shifts (DsScrollDetector * d, const guint8 * cur, const guint8 * ref,
    DsMotionMove * moves, guint n_moves)
{
  DsBox box;
  guint n_samples, v_i, n_rows = n_moves, n_found = 0;
  /* the rectangles found here go after the row moves */
  DsMotionMove *found = moves + n_rows;
  guint64 covered = 0;

  if (d->width < SHIFT_SPAN || !changed_box (d, cur, ref, &box))
    return n_moves;
  /* a scroll found by the row hashes covers nearly all of the change */
  for (v_i = 0; v_i < n_rows; v_i++)
    covered += (guint64) moves[v_i].width * moves[v_i].height;
  if (10 * covered >= 9 * (guint64) (box.x1 - box.x0) * (box.y1 - box.y0))
    return n_moves;
  /* samples anywhere: the row moves may be pieces of a dragged window
   * that happened to match at its vertical offset */
  n_samples = pick_samples (d, cur, ref, &box, NULL, 0);
  if (n_samples < SHIFT_MIN_VOTES)
    return n_moves;
  search_samples (d, cur, ref, &box, n_samples);

  for (v_i = 0; v_i < SHIFT_MAX_VECTORS
      && n_rows + n_found < DS_SCROLL_MAX_MOVES; v_i++) {
    DsShiftVote *best = NULL;
    DsBox seed = { G_MAXUINT, G_MAXUINT, 0, 0 }, one = { 0, };
    gsize stride = (gsize) d->width * BYTES_PER_PIXEL;
    guint i, support = 0;
    gint dx, dy;

    for (i = 0; i < SHIFT_VOTE_SLOTS; i++)
      if (d->votes2d[i].count >= SHIFT_MIN_VOTES
          && (best == NULL || d->votes2d[i].count > best->count))
        best = &d->votes2d[i];
    if (best == NULL)
      break;
    dx = best->dx;
    dy = best->dy;
    best->count = 0;

    /* the samples that moved by this offset, outside the moves found */
    for (i = 0; i < n_samples; i++) {
      const DsShiftSample *s = &d->samples[i];
      DsBox sb = { s->x, s->y, s->x + SHIFT_SPAN, s->y + 1 };

      if (!box_allowed (d, &sb, dx, dy, found, n_found)
          || memcmp (cur + s->y * stride + (gsize) s->x * BYTES_PER_PIXEL,
              ref + (gsize) ((gint) s->y - dy) * stride +
              (gsize) ((gint) s->x - dx) * BYTES_PER_PIXEL,
              SHIFT_SPAN * BYTES_PER_PIXEL) != 0)
        continue;
      if (support++ == 0)
        one = sb;
      seed.x0 = MIN (seed.x0, sb.x0);
      seed.y0 = MIN (seed.y0, sb.y0);
      seed.x1 = MAX (seed.x1, sb.x1);
      seed.y1 = MAX (seed.y1, sb.y1);
    }
    if (support < 2)
      continue;
    /* the box of the samples when it moved as a whole, else one sample */
    if (!strip_matches (d, cur, ref, &seed, dx, dy, found, n_found))
      seed = one;
    grow_box (d, cur, ref, &seed, dx, dy, found, n_found);
    if ((guint64) (seed.x1 - seed.x0) * (seed.y1 - seed.y0) < SHIFT_MIN_AREA)
      continue;

    found[n_found].dst_x = seed.x0;
    found[n_found].dst_y = seed.y0;
    found[n_found].src_x = (guint) ((gint) seed.x0 - dx);
    found[n_found].src_y = (guint) ((gint) seed.y0 - dy);
    found[n_found].width = seed.x1 - seed.x0;
    found[n_found].height = seed.y1 - seed.y0;
    n_found++;
  }
  return merge_moves (moves, n_rows, n_found);
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
  n_moves = detect_shifts (detector, cur, ref, moves, n_moves);
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
