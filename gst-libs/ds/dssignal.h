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
 * Signal state (SPEC §3 "Signals"): a JSON object of named values merged
 * from SignalSync (replace all) and SignalDiff (set each key given)
 * frames. JSON null is a value. Keys starting with '_' are reserved and
 * dropped, except "_v", an object mapping a signal name to an integer
 * version: an incoming key whose version is lower than the one held is
 * ignored, and the state keeps the highest version of each key.
 *
 * Versions in detail (the behaviour the relay's catch-up relies on):
 * - SignalDiff: a key whose incoming "_v" version is lower than the one
 *   held is left as it is; otherwise the value is set and the held version
 *   becomes the higher of the two. A key with no incoming version is
 *   always set and keeps its held version. Equal versions are set.
 * - SignalSync: replace all. The state becomes the sync's values and its
 *   version map the sync's "_v" (entries of keys that carry a value), so a
 *   source that restarts its counters is followed.
 * - Catch-up: apply the last sync and every diff since (or only diffs)
 *   to one state and send ds_signal_state_to_json() as ONE SignalSync; a
 *   receiver applying it holds the same values and versions, and stale
 *   diffs that follow are still refused.
 */

#ifndef __DS_SIGNAL_H__
#define __DS_SIGNAL_H__

#include <glib.h>
#include <json-glib/json-glib.h>

#include "dsjson.h"

G_BEGIN_DECLS

typedef struct _DsSignalState DsSignalState;

/* Defaults of ds_signal_limits_init(): what ds_signal_state_apply(),
 * ds_signal_parse_object() and the elements use */
#define DS_SIGNAL_DEFAULT_MAX_BYTES (1024 * 1024)
#define DS_SIGNAL_DEFAULT_MAX_KEYS 10000

/* Bounds of one signal payload and of a merged state: bytes of JSON
 * (max_bytes), keys of the top-level object (max_keys); 0: no limit */
typedef struct
{
  gsize max_bytes;
  guint max_keys;
} DsSignalLimits;

void            ds_signal_limits_init     (DsSignalLimits * limits);

DsSignalState * ds_signal_state_new       (void);
void            ds_signal_state_free      (DsSignalState * state);
void            ds_signal_state_clear     (DsSignalState * state);
gboolean        ds_signal_state_is_empty  (DsSignalState * state);
guint           ds_signal_state_n_values  (DsSignalState * state);

/* The values held (not counting "_v"), owned by @state */
JsonObject *    ds_signal_state_get_values (DsSignalState * state);

/* Parses @len bytes of UTF-8 JSON with ds_json_parse() (plain RFC 8259
 * JSON, bounded); fails (BAD_JSON, or TOO_LARGE for a bound) unless it is
 * an object. @limits NULL: the defaults. */
JsonObject *    ds_signal_parse_object    (const gchar * json,
                                           gsize len,
                                           GError ** error);
JsonObject *    ds_signal_parse_object_full (const gchar * json,
                                           gsize len,
                                           const DsSignalLimits * limits,
                                           GError ** error);

/* Merges a SignalSync (@sync TRUE: replaces every value, versions are
 * then those of the sync) or a SignalDiff (@sync FALSE: sets each key,
 * subject to "_v"). Returns FALSE with BAD_JSON if @json is not an
 * object; the state is unchanged then. */
gboolean        ds_signal_state_apply     (DsSignalState * state,
                                           gboolean sync,
                                           const gchar * json,
                                           gsize len,
                                           GError ** error);
/* The same, refusing (TOO_LARGE) a payload or a merged state beyond
 * @limits (NULL: the defaults); the state is unchanged then */
gboolean        ds_signal_state_apply_full (DsSignalState * state,
                                           gboolean sync,
                                           const gchar * json,
                                           gsize len,
                                           const DsSignalLimits * limits,
                                           GError ** error);
/* About the bytes of ds_signal_state_to_json() of the whole state */
gsize           ds_signal_state_get_size  (DsSignalState * state);
void            ds_signal_state_apply_object (DsSignalState * state,
                                           gboolean sync,
                                           JsonObject * object);

/* The source side: applies @updates (keys not in @allowed are skipped
 * when @allowed is non-NULL and non-empty; reserved keys are skipped) and
 * returns a new object with only the keys whose value changed (compared
 * with json_node_equal), or NULL when nothing changed. */
JsonObject *    ds_signal_state_update    (DsSignalState * state,
                                           JsonObject * updates,
                                           const gchar * const * allowed);

/* Serialises the whole state (with "_v" when any version is held),
 * keeping only the keys in @select when it is non-NULL and non-empty.
 * Compact JSON, no trailing newline. */
gchar *         ds_signal_state_to_json   (DsSignalState * state,
                                           const gchar * const * select,
                                           gsize * len);

/* Serialises an object (compact) */
gchar *         ds_signal_object_to_json  (JsonObject * object,
                                           gsize * len);

/* Strips a signal payload down to the keys in @select (and their "_v"
 * entries). Returns NULL, without error, when nothing selected is left
 * (a diff that becomes empty is not sent); NULL with BAD_JSON on bad
 * input. @select NULL or empty: returns a copy. */
gchar *         ds_signal_filter          (const gchar * json,
                                           gsize len,
                                           const gchar * const * select,
                                           gsize * out_len,
                                           GError ** error);

gchar *         ds_signal_filter_full     (const gchar * json,
                                           gsize len,
                                           const gchar * const * select,
                                           const DsSignalLimits * limits,
                                           gsize * out_len,
                                           GError ** error);

/* Parses a SubscribeFilter payload {"select": [...]} into a
 * NULL-terminated array (empty array = everything). */
gchar **        ds_subscribe_filter_parse (const gchar * json,
                                           gsize len,
                                           GError ** error);
gchar *         ds_subscribe_filter_build (const gchar * const * select,
                                           gsize * len);

/* SchemaAnnounce {"signals": [...], "mode": "signal"} */
gchar **        ds_schema_parse           (const gchar * json,
                                           gsize len,
                                           GError ** error);
gchar *         ds_schema_build           (const gchar * const * signals,
                                           const gchar * mode,
                                           gsize * len);

/* ds_signal_state_update() honouring the "_v" of @updates as a
 * SignalDiff merge does (a stale version leaves the key as it is); the
 * returned object carries "_v" for the changed keys that hold a version.
 * For a source that forwards versioned signals. */
JsonObject *    ds_signal_state_update_versioned (DsSignalState * state,
                                           JsonObject * updates,
                                           const gchar * const * allowed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsSignalState, ds_signal_state_free)

G_END_DECLS

#endif /* __DS_SIGNAL_H__ */
