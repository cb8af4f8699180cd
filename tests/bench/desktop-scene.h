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
 * A synthetic, reproducible desktop for benchmarks: a gradient wallpaper,
 * a panel with a clock, static windows full of text-like glyphs, a
 * terminal that scrolls one line every other frame, a window dragged
 * across the screen and a mouse pointer. Frame @index of a given size is
 * always the same picture (no randomness beyond a fixed-seed generator).
 */

#ifndef __DESKTOP_SCENE_H__
#define __DESKTOP_SCENE_H__

#include <glib.h>

G_BEGIN_DECLS

/* Draws frame @index into @rgba (@width x @height x 4 bytes, RGBA, no
 * padding). */
void desktop_scene_render (guint8 * rgba, guint width, guint height,
    guint index);

typedef enum
{
  DESKTOP_SCENE_FULL,           /* all of the above */
  DESKTOP_SCENE_SCROLL,         /* only the terminal moves: a line a frame */
  DESKTOP_SCENE_TYPING,         /* only a glyph typed a frame */
} DesktopSceneVariant;

/* desktop_scene_render() of one @variant */
void desktop_scene_render_variant (guint8 * rgba, guint width,
    guint height, guint index, DesktopSceneVariant variant);

G_END_DECLS

#endif /* __DESKTOP_SCENE_H__ */
