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
 * libFuzzer harness for the ds-stream protocol library: every parser that
 * reads bytes from the network gets the fuzzer's input. Build and run it
 * with tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
 *
 * The input is used whole by each parser:
 * - as one WebSocket message: ds_frame_parse_message() then
 *   ds_frame_validate(), and for input frames ds_input_event_parse();
 * - byte 0 as an input type and the rest as its payload;
 * - byte 0 bit 0 as sync/diff and the rest as a signal payload, applied to
 *   a fresh state and to one that already holds versions, then
 *   serialised, filtered and parsed as SubscribeFilter and SchemaAnnounce;
 * - as DeltaPixels run-length code (when dsrle.c is built in);
 * - as a sequence of u32 timestamps and u16 seqs;
 * - as a key name.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "dsprotocol.h"
#include "dssignal.h"
#ifdef DS_FUZZ_RLE
#include "dsrle.h"
#endif

#define SEED_STATE "{\"a\":1,\"count\":2,\"_v\":{\"a\":5,\"count\":1}}"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static void
fuzz_frame (const guint8 * data, gsize size)
{
  DsHeader h;
  DsInputEvent ev;

  if (!ds_frame_parse_message (data, size, DS_DEFAULT_MAX_FRAME_BYTES, &h,
          NULL))
    return;

  ds_frame_validate (&h, data + DS_HEADER_SIZE, NULL);
  ds_frame_type_media (h.type);
  ds_frame_type_name (h.type);

  if (h.flags & DS_FLAG_INPUT) {
    if (ds_input_event_parse (h.type, data + DS_HEADER_SIZE, h.payload_len,
            &ev, NULL)) {
      GBytes *frame = ds_input_event_to_frame (&ev, h.seq, h.timestamp);
      g_bytes_unref (frame);
    }
  }
}

static void
fuzz_input (const guint8 * data, gsize size)
{
  DsInputEvent ev, again;
  guint8 packed[DS_INPUT_MAX_PAYLOAD];
  gsize len;

  if (size < 1)
    return;

  if (!ds_input_event_parse (data[0], data + 1, size - 1, &ev, NULL))
    return;

  /* what parses packs back to the same bytes */
  len = ds_input_event_pack (&ev, packed);
  g_assert (len == (gsize) ds_input_payload_size (data[0]));
  g_assert (memcmp (packed, data + 1, len) == 0);
  g_assert (ds_input_event_parse (data[0], packed, len, &again, NULL));
}

static void
fuzz_signal (const guint8 * data, gsize size)
{
  static const gchar *const select[] = { "a", "count", "_v", NULL };
  DsSignalState *state, *copy;
  const gchar *json;
  gchar *out, **strv;
  gsize len, out_len;
  gboolean sync;

  if (size < 1)
    return;

  sync = data[0] & 1;
  json = (const gchar *) data + 1;
  len = size - 1;

  state = ds_signal_state_new ();
  if (ds_signal_state_apply (state, sync, json, len, NULL)) {
    /* the state's serialisation is itself a valid sync giving the same
     * state */
    out = ds_signal_state_to_json (state, NULL, &out_len);
    copy = ds_signal_state_new ();
    g_assert (ds_signal_state_apply (copy, TRUE, out, out_len, NULL));
    g_assert (ds_signal_state_n_values (copy) ==
        ds_signal_state_n_values (state));
    ds_signal_state_free (copy);
    g_free (out);

    out = ds_signal_state_to_json (state, select, NULL);
    g_free (out);
  }
  ds_signal_state_free (state);

  state = ds_signal_state_new ();
  g_assert (ds_signal_state_apply (state, TRUE,
          SEED_STATE, strlen (SEED_STATE), NULL));
  ds_signal_state_apply (state, !sync, json, len, NULL);
  ds_signal_state_free (state);

  out = ds_signal_filter (json, len, select, &out_len, NULL);
  if (out != NULL) {
    g_assert (strlen (out) == out_len);
    g_free (out);
  }

  strv = ds_subscribe_filter_parse (json, len, NULL);
  g_strfreev (strv);
  strv = ds_schema_parse (json, len, NULL);
  g_strfreev (strv);
}

#ifdef DS_FUZZ_RLE
static void
fuzz_rle (const guint8 * data, gsize size)
{
  gssize decoded;
  guint8 *out, *ref;
  gsize n;

  decoded = ds_rle_decoded_size (data, size);
  n = decoded > 0 ? MIN ((gsize) decoded, 1 << 20) : 64;

  out = g_malloc (n);
  ref = g_malloc0 (n);
  ds_rle_decode_xor (data, size, NULL, out, n, NULL);
  ds_rle_decode_xor (data, size, ref, out, n, NULL);
  /* in place */
  ds_rle_decode_xor (data, size, ref, ref, n, NULL);
  /* a wrong size must fail, never overflow */
  if (n > 1)
    ds_rle_decode_xor (data, size, NULL, out, n - 1, NULL);
  g_free (ref);
  g_free (out);

  /* the input as a picture: encode (against a reference) and decode back */
  if (size > 0) {
    guint8 *enc = g_malloc (DS_RLE_MAX_ENCODED_SIZE (size));
    guint8 *refp = g_malloc (size);
    guint8 *dec = g_malloc (size);
    gsize i, enc_len;

    for (i = 0; i < size; i++)
      refp[i] = data[size - 1 - i];

    enc_len = ds_rle_encode_xor (data, NULL, size, enc,
        DS_RLE_MAX_ENCODED_SIZE (size));
    g_assert (enc_len > 0);
    g_assert (ds_rle_decoded_size (enc, enc_len) == (gssize) size);
    g_assert (ds_rle_decode_xor (enc, enc_len, NULL, dec, size, NULL));
    g_assert (memcmp (dec, data, size) == 0);

    enc_len = ds_rle_encode_xor (data, refp, size, enc,
        DS_RLE_MAX_ENCODED_SIZE (size));
    g_assert (enc_len > 0);
    g_assert (ds_rle_decode_xor (enc, enc_len, refp, dec, size, NULL));
    g_assert (memcmp (dec, data, size) == 0);

    /* a cap too small fails cleanly */
    ds_rle_encode_xor (data, refp, size, enc, enc_len - 1);

    /* the updating encoder leaves @ref equal to the picture, also when it
     * gives up (a cap of size / 2) */
    enc_len = ds_rle_encode_xor_update (data, refp, size, enc,
        DS_RLE_MAX_ENCODED_SIZE (size));
    g_assert (memcmp (refp, data, size) == 0);
    for (i = 0; i < size; i++)
      refp[i] = data[i] ^ (guint8) i;
    ds_rle_encode_xor_update (data, refp, size, enc, size / 2);
    g_assert (memcmp (refp, data, size) == 0);

    g_free (dec);
    g_free (refp);
    g_free (enc);
  }
}
#endif

static void
fuzz_time (const guint8 * data, gsize size)
{
  DsTimestampUnwrapper u;
  guint64 prev = 0;
  gsize i;

  ds_timestamp_unwrapper_init (&u);
  for (i = 0; i + 4 <= size; i += 4) {
    guint32 ts = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) |
        ((guint32) data[i + 3] << 24);
    guint64 t = ds_timestamp_unwrap (&u, ts);

    /* the low 32 bits are the timestamp, unless clamped to 0 */
    g_assert (t == 0 || (guint32) t == ts);
    prev = t;
  }
  (void) prev;

  for (i = 0; i + 4 <= size; i += 4) {
    guint16 a = data[i] | (data[i + 1] << 8);
    guint16 b = data[i + 2] | (data[i + 3] << 8);
    gint d = ds_seq_distance (a, b);

    g_assert (d >= -32768 && d <= 32767);
    g_assert ((guint16) (a + d) == b);
  }
}

static void
fuzz_keys (const guint8 * data, gsize size)
{
  gchar *name = g_strndup ((const gchar *) data, MIN (size, 64));
  guint16 code = ds_keycode_from_name (name);

  if (code != 0)
    g_assert (ds_keycode_to_name (code) != NULL);
  if (size >= 2)
    ds_keycode_to_name (data[0] | (data[1] << 8));
  g_free (name);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  fuzz_frame (data, size);
  fuzz_input (data, size);
  fuzz_signal (data, size);
#ifdef DS_FUZZ_RLE
  fuzz_rle (data, size);
#endif
  fuzz_time (data, size);
  fuzz_keys (data, size);

  return 0;
}
