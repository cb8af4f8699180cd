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
 * Sanitizer builds only: writes the GStreamer registry that every test
 * then reads ($GST_REGISTRY), once, at build time. Under ASan the plugins
 * must be loaded in an instrumented process (GST_REGISTRY_FORK=no), and a
 * scan loads every system plugin into that process: done here, with
 * LeakSanitizer off, the tests load only the plugins they use.
 */

#include <gst/gst.h>

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (gst_registry_find_plugin (gst_registry_get (), "dsstream") == NULL)
    g_printerr ("registry-scan: the dsstream plugin was not found\n");
  return 0;
}
