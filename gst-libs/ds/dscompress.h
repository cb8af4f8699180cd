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
 * FLAG_COMPRESSED payloads (docs/protocol.md §5): exactly one zstd frame
 * whose content is the payload the frame type would normally have.
 */

#ifndef __DS_COMPRESS_H__
#define __DS_COMPRESS_H__

#include <glib.h>

G_BEGIN_DECLS

/* The content size the zstd frame @data announces in its header, without
 * decompressing; G_MAXUINT64 when it does not say or @data is not one
 * zstd frame. */
guint64   ds_payload_content_size (const guint8 * data,
                                   gsize len);

/* Decompresses @data, which must be exactly one zstd frame whose content
 * is at most @limit bytes, into *@buf (of *@buf_size bytes, grown with
 * g_try_realloc() when needed; the caller g_free()s it) and sets
 * @out_len. Fails with BAD_PAYLOAD (not one frame, corrupt) or TOO_LARGE
 * (content over @limit, or no memory); never allocates more than @limit
 * (at least 1) bytes. */
gboolean  ds_payload_decompress   (const guint8 * data,
                                   gsize len,
                                   gsize limit,
                                   guint8 ** buf,
                                   gsize * buf_size,
                                   gsize * out_len,
                                   GError ** error);

G_END_DECLS

#endif /* __DS_COMPRESS_H__ */
