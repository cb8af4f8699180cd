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
 * The run-length code of DeltaPixels (SPEC §3): a zero byte is followed by
 * a little-endian u16 count (1-65535) of the zero bytes it stands for;
 * every other byte stands for itself; longer zero runs are split.
 *
 * The encoder fuses the XOR with the reference and the run-length code in
 * one pass; with a NULL reference it codes the picture itself (a keyframe
 * delta). Decoders never write or read out of bounds and fail on any
 * payload that does not decode to exactly the expected size.
 */

#ifndef __DS_RLE_H__
#define __DS_RLE_H__

#include <glib.h>

G_BEGIN_DECLS

/* Worst case of the encoding of @n bytes: every isolated zero becomes 3
 * bytes, so 3*n bounds it. */
#define DS_RLE_MAX_ENCODED_SIZE(n) ((gsize) (n) * 3)

/* Encodes (@cur XOR @ref) -- or @cur alone when @ref is NULL -- into @dst.
 * Returns the encoded length, or 0 when the encoding would exceed
 * @dst_cap bytes (the encoder stops early then, so passing @dst_cap =
 * raw size makes "is a delta worth it?" cheap). @n may be 0 (returns 0).
 * The code is canonical (maximal runs, split at 65535), so equal inputs
 * give equal codes. The encoder stores whole blocks ahead of what is
 * valid: @dst may be written anywhere below @dst_cap, beyond the returned
 * length too. No allocation; one pass; about memcpy speed on unchanged
 * areas (docs/benchmarks.md). */
gsize     ds_rle_encode_xor    (const guint8 * cur,
                                const guint8 * ref,
                                gsize n,
                                guint8 * dst,
                                gsize dst_cap);

/* Same as ds_rle_encode_xor() with a reference, and on return @ref
 * equals @cur (also when it returns 0): only changed blocks are written,
 * so an encoder keeps its reference picture without copying the frame.
 * @ref and @cur must not overlap. */
gsize     ds_rle_encode_xor_update (const guint8 * cur,
                                    guint8 * ref,
                                    gsize n,
                                    guint8 * dst,
                                    gsize dst_cap);

/* Decodes @src into @out of exactly @out_len bytes, XORing with @ref when
 * it is not NULL (out = ref ^ decoded). @ref and @out may be the same
 * buffer (in place: unchanged bytes are not even touched, the fastest
 * way), else they must not overlap. Fails (BAD_PAYLOAD) on a truncated
 * zero run or a zero count, and (SIZE_MISMATCH) when the decoded size is
 * not @out_len. Never reads @src or writes @out out of bounds. On failure
 * @out holds garbage: never show it. */
gboolean  ds_rle_decode_xor    (const guint8 * src,
                                gsize src_len,
                                const guint8 * ref,
                                guint8 * out,
                                gsize out_len,
                                GError ** error);

/* The decoded size of @src without decoding it (-1 when malformed). */
gssize    ds_rle_decoded_size  (const guint8 * src,
                                gsize src_len);

G_END_DECLS

#endif /* __DS_RLE_H__ */
