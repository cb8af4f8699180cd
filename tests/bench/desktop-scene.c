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

#include "desktop-scene.h"

#define GLYPH_W 7
#define GLYPH_H 14
#define N_GLYPHS 94

typedef struct
{
  guint8 *rgba;
  gint width, height;
} Canvas;

/* 5x9 glyph bitmaps inside a 7x14 cell, made once from a fixed seed:
 * strokes rather than noise, so text compresses as text does */
static guint16 glyphs[N_GLYPHS][9];

static void
make_glyphs (void)
{
  static gsize done = 0;
  GRand *rand;
  guint g, r;

  if (!g_once_init_enter (&done))
    return;

  rand = g_rand_new_with_seed (1234);
  for (g = 0; g < N_GLYPHS; g++) {
    guint16 vertical = g_rand_int_range (rand, 1, 32);
    guint16 bars = g_rand_int_range (rand, 0, 512);

    for (r = 0; r < 9; r++) {
      guint16 row = vertical & (0x11 | g_rand_int_range (rand, 0, 32));

      if (bars & (1 << r))
        row |= 0x1f & ~(g_rand_int_range (rand, 0, 4) << 3);
      glyphs[g][r] = row;
    }
  }
  g_rand_free (rand);
  g_once_init_leave (&done, 1);
}

static inline void
put_pixel (Canvas * c, gint x, gint y, guint32 rgb)
{
  guint8 *p;

  if (x < 0 || y < 0 || x >= c->width || y >= c->height)
    return;
  p = c->rgba + ((gsize) y * c->width + x) * 4;
  p[0] = rgb >> 16;
  p[1] = rgb >> 8;
  p[2] = rgb;
  p[3] = 0xff;
}

static void
fill_rect (Canvas * c, gint x0, gint y0, gint w, gint h, guint32 rgb)
{
  gint x, y;

  for (y = MAX (y0, 0); y < MIN (y0 + h, c->height); y++)
    for (x = MAX (x0, 0); x < MIN (x0 + w, c->width); x++)
      put_pixel (c, x, y, rgb);
}

static void
draw_glyph (Canvas * c, gint x0, gint y0, guint glyph, guint32 fg)
{
  guint r, b;

  for (r = 0; r < 9; r++)
    for (b = 0; b < 5; b++)
      if (glyphs[glyph % N_GLYPHS][r] & (1 << b))
        put_pixel (c, x0 + 1 + b, y0 + 3 + r, fg);
}

/* One line of text-like glyphs: words of 2-9 glyphs, chosen by @seed */
static void
draw_text_line (Canvas * c, gint x0, gint y0, gint max_w, guint32 seed,
    guint32 fg)
{
  guint32 state = seed * 2654435761u + 12345;
  gint x = x0;
  gint line_len = max_w * (40 + (seed * 7919) % 60) / 100;

  while (x + GLYPH_W <= x0 + line_len) {
    guint word, k;

    state = state * 1103515245u + 12345;
    word = 2 + (state >> 16) % 8;
    for (k = 0; k < word && x + GLYPH_W <= x0 + line_len; k++) {
      state = state * 1103515245u + 12345;
      draw_glyph (c, x, y0, (state >> 16) % N_GLYPHS, fg);
      x += GLYPH_W;
    }
    x += GLYPH_W;
  }
}

static void
draw_window (Canvas * c, gint x, gint y, gint w, gint h, const gchar * kind,
    guint32 seed, guint first_line)
{
  gboolean terminal = g_str_equal (kind, "terminal");
  guint32 bg = terminal ? 0x1e1e1e : 0xfafafa;
  guint32 fg = terminal ? 0xd0d0d0 : 0x202020;
  gint line, lines;

  /* shadow, frame, title bar with title and buttons */
  fill_rect (c, x + 4, y + 4, w, h, 0x303030);
  fill_rect (c, x, y, w, h, 0x8a8a8a);
  fill_rect (c, x + 1, y + 1, w - 2, 28, 0xe8e8e8);
  draw_text_line (c, x + 12, y + 7, MIN (w / 3, 300), seed, 0x333333);
  fill_rect (c, x + w - 26, y + 8, 14, 14, 0xe05050);
  fill_rect (c, x + w - 46, y + 8, 14, 14, 0xe0c050);
  fill_rect (c, x + 1, y + 29, w - 2, h - 30, bg);

  lines = (h - 36) / GLYPH_H;
  for (line = 0; line < lines; line++) {
    guint32 line_seed = seed * 1000 + first_line + line;
    /* every 7th line of a document is a heading in another color */
    guint32 color = (!terminal && line_seed % 7 == 0) ? 0x1a4f9c : fg;

    if (!terminal && line_seed % 11 == 0)
      continue;                 /* paragraph break */
    draw_text_line (c, x + 8, y + 32 + line * GLYPH_H, w - 24, line_seed,
        color);
  }
}

static void
draw_pointer (Canvas * c, gint x0, gint y0)
{
  gint r;

  for (r = 0; r < 19; r++) {
    gint len = MIN (r, 12);

    put_pixel (c, x0, y0 + r, 0x000000);
    fill_rect (c, x0 + 1, y0 + r, len - 1, 1, 0xffffff);
    put_pixel (c, x0 + len, y0 + r, 0x000000);
  }
}

void
desktop_scene_render (guint8 * rgba, guint width, guint height, guint index)
{
  desktop_scene_render_variant (rgba, width, height, index, DESKTOP_SCENE_FULL);
}

void
desktop_scene_render_variant (guint8 * rgba, guint width, guint height,
    guint index, DesktopSceneVariant variant)
{
  Canvas c = { rgba, width, height };
  gint x, y, drag_x, drag_y, term_x, term_y;
  guint seconds = index / 30, scene_index = index, term_line = index / 2;
  guint32 clock_seed;

  make_glyphs ();

  /* the other variants hold everything still but what they show */
  if (variant != DESKTOP_SCENE_FULL) {
    seconds = 0;
    scene_index = 0;
    term_line = variant == DESKTOP_SCENE_SCROLL ? index : 0;
  }

  /* wallpaper: a smooth diagonal gradient */
  for (y = 0; y < c.height; y++) {
    guint8 *row = rgba + (gsize) y * width * 4;

    for (x = 0; x < c.width; x++) {
      row[4 * x] = 20 + (x + y) * 60 / (c.width + c.height);
      row[4 * x + 1] = 40 + y * 80 / c.height;
      row[4 * x + 2] = 90 + x * 100 / c.width;
      row[4 * x + 3] = 0xff;
    }
  }

  /* panel with a clock that changes every second */
  fill_rect (&c, 0, 0, c.width, 30, 0x2b2b2b);
  draw_text_line (&c, 10, 8, 400, 77, 0xdddddd);
  clock_seed = 1000 + seconds;
  draw_text_line (&c, c.width - 120, 8, 110, clock_seed, 0xffffff);

  /* static windows: a browser and an editor */
  draw_window (&c, 60, 60, c.width * 45 / 100, c.height * 80 / 100, "document",
      3, 0);
  draw_window (&c, c.width * 48 / 100, 90, c.width * 48 / 100,
      c.height * 45 / 100, "document", 5, 0);

  /* a terminal scrolling one line every other frame (every frame in the
   * scroll variant) */
  term_x = c.width * 50 / 100;
  term_y = c.height * 52 / 100;
  draw_window (&c, term_x, term_y, c.width * 45 / 100, c.height * 42 / 100,
      "terminal", 9, term_line);

  /* typing: one more glyph a frame on a line of the editor */
  if (variant == DESKTOP_SCENE_TYPING) {
    guint k, n = index % 80;

    for (k = 0; k < n; k++)
      draw_glyph (&c, c.width * 48 / 100 + 8 + (gint) k * GLYPH_W, 90 + 32
          + 3 * GLYPH_H, k * 31 + 5, 0x202020);
  }

  /* a window dragged across the screen, the pointer on its title bar */
  drag_x = 200 + (gint) ((scene_index * 9) % (c.width / 2));
  drag_y = 300 + (gint) ((scene_index * 4) % (c.height / 3));
  draw_window (&c, drag_x, drag_y, c.width / 4, c.height / 4, "document", 11,
      0);
  draw_pointer (&c, drag_x + 60, drag_y + 12);
}
