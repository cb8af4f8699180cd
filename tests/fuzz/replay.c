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
 * Replays fuzz inputs without libFuzzer (compilers other than clang):
 * every file named on the command line, or found in a directory named
 * there, goes once through the target's LLVMFuzzerTestOneInput(). Options
 * starting with '-' (libFuzzer's) are ignored, so meson runs both kinds
 * of binary the same way.
 */

#include <stdio.h>
#include <glib.h>

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static guint
replay_path (const gchar * path)
{
  gchar *contents;
  gsize len;
  GError *err = NULL;
  guint n = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    GDir *dir = g_dir_open (path, 0, &err);
    const gchar *name;

    if (dir == NULL)
      g_error ("%s", err->message);
    while ((name = g_dir_read_name (dir)) != NULL) {
      gchar *child = g_build_filename (path, name, NULL);

      n += replay_path (child);
      g_free (child);
    }
    g_dir_close (dir);
    return n;
  }
  if (!g_file_get_contents (path, &contents, &len, &err))
    g_error ("%s", err->message);
  LLVMFuzzerTestOneInput ((const guint8 *) contents, len);
  g_free (contents);
  return 1;
}

int
main (int argc, char **argv)
{
  guint n = 0;
  int i;

  for (i = 1; i < argc; i++) {
    if (argv[i][0] != '-')
      n += replay_path (argv[i]);
  }
  printf ("replayed %u inputs\n", n);
  return 0;
}
