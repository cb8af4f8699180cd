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

/* FLAG_COMPRESSED payloads (dscompress.h) */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <zstd.h>

#include "dscompress.h"
#include "dsprotocol.h"

guint64
ds_payload_content_size (const guint8 * data, gsize len)
{
  unsigned long long size;

  g_return_val_if_fail (len == 0 || data != NULL, G_MAXUINT64);

  size = ZSTD_getFrameContentSize (data, len);
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
    return G_MAXUINT64;
  return size;
}

gboolean
ds_payload_decompress (const guint8 * data, gsize len, gsize limit,
    guint8 ** buf, gsize * buf_size, gsize * out_len, GError ** error)
{
  unsigned long long content_size;
  size_t frame_len, res;
  gsize capacity;

  g_return_val_if_fail (len == 0 || data != NULL, FALSE);
  g_return_val_if_fail (buf != NULL && buf_size != NULL, FALSE);
  g_return_val_if_fail (out_len != NULL, FALSE);

  frame_len = ZSTD_findFrameCompressedSize (data, len);
  if (ZSTD_isError (frame_len) || frame_len != len)
    goto not_one_frame;
  content_size = ZSTD_getFrameContentSize (data, len);
  if (content_size == ZSTD_CONTENTSIZE_ERROR)
    goto not_one_frame;
  if (content_size != ZSTD_CONTENTSIZE_UNKNOWN && content_size > limit)
    goto too_large;

  capacity = content_size == ZSTD_CONTENTSIZE_UNKNOWN ? limit :
      (gsize) content_size;
  capacity = MAX (capacity, 1);
  if (*buf_size < capacity) {
    guint8 *grown = g_try_realloc (*buf, capacity);

    if (grown == NULL)
      goto no_memory;
    *buf = grown;
    *buf_size = capacity;
  }

  res = ZSTD_decompress (*buf, capacity, data, len);
  if (ZSTD_isError (res))
    goto decode_failed;
  *out_len = res;
  return TRUE;

  /* ERRORS */
not_one_frame:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "compressed payload is not one zstd frame");
    return FALSE;
  }
too_large:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "compressed payload expands to more than %" G_GSIZE_FORMAT " bytes",
        limit);
    return FALSE;
  }
no_memory:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_TOO_LARGE,
        "no memory for %" G_GSIZE_FORMAT " decompressed bytes", capacity);
    return FALSE;
  }
decode_failed:
  {
    g_set_error (error, DS_PROTOCOL_ERROR, DS_PROTOCOL_ERROR_BAD_PAYLOAD,
        "zstd: %s", ZSTD_getErrorName (res));
    return FALSE;
  }
}
