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
 * The one way the project reads JSON that comes from a socket or a file:
 * a strict RFC 8259 scanner checks the whole text against size, depth and
 * member bounds first, and json-glib only ever parses text the scanner
 * fully understood (no comments, no single quotes, no trailing commas;
 * json-glib 1.6 accepts those and parses recursively).
 */

#ifndef __DS_JSON_H__
#define __DS_JSON_H__

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Defaults of ds_json_limits_init() */
#define DS_JSON_DEFAULT_MAX_BYTES (1024 * 1024)
#define DS_JSON_DEFAULT_MAX_DEPTH 64
#define DS_JSON_DEFAULT_MAX_MEMBERS 100000

/* The deepest nesting a caller may allow */
#define DS_JSON_MAX_DEPTH_CAP 256

typedef struct
{
  gsize max_bytes;              /* of the text; 0: no limit */
  guint max_depth;              /* objects and arrays; 1..DS_JSON_MAX_DEPTH_CAP */
  guint max_members;            /* object members + array elements, all
                                 * levels; 0: no limit */
} DsJsonLimits;

void            ds_json_limits_init       (DsJsonLimits * limits);

gboolean        ds_json_check             (const gchar * json,
                                           gsize len,
                                           const DsJsonLimits * limits,
                                           guint * n_members,
                                           GError ** error);

JsonNode *      ds_json_parse             (const gchar * json,
                                           gsize len,
                                           const DsJsonLimits * limits,
                                           GError ** error);

gboolean        ds_json_object_get_u32    (JsonObject * object,
                                           const gchar * name,
                                           gboolean fraction_ok,
                                           guint32 * out);

G_END_DECLS

#endif /* __DS_JSON_H__ */
