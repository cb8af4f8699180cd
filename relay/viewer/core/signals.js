/* ds-relay viewer: the signal state (SPEC §3 "Signals")
 *
 * Pure: no DOM, so that node can import it (tests/vectors).
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function isObject (v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The JSON object of a signal payload (UTF-8), or null when it is not
 * one. */
export function parseSignalObject (payload) {
  let obj;
  try {
    obj = JSON.parse(utf8.decode(payload));
  } catch (e) {
    return null;
  }
  return isObject(obj) ? obj : null;
}

/**
 * Merges an incoming signal object into @state and returns the new state
 * (@state is not changed). Mirrors ds_signal_state_apply_object()
 * (gst-libs/ds/dssignal.c): a SignalSync (@replace) starts from nothing,
 * versions included; then each key of @incoming, in order, except the
 * reserved ones (starting with "_"), is set unless both it and the state
 * hold an integer "_v" version and the incoming one is lower; a set key
 * takes the incoming version when it is higher than the one held (or
 * none is held). "_v" entries of keys that carry no value, and versions
 * that are not integers, are ignored. The state keeps "_v" only when it
 * holds a version.
 */
export function mergeSignals (state, incoming, replace) {
  const values = {};
  let versions = {};
  if (!replace) {
    for (const key of Object.keys(state))
      if (key !== '_v')
        values[key] = state[key];
    if (isObject(state._v))
      versions = Object.assign({}, state._v);
  }
  const inV = isObject(incoming._v) ? incoming._v : {};

  for (const key of Object.keys(incoming)) {
    if (key.startsWith('_'))
      continue;
    const vNew = Number.isInteger(inV[key]) ? inV[key] : null;
    const vOld = Number.isInteger(versions[key]) ? versions[key] : null;
    if (vNew !== null && vOld !== null && vNew < vOld)
      continue;
    values[key] = incoming[key];
    if (vNew !== null && (vOld === null || vNew > vOld))
      versions[key] = vNew;
  }
  if (Object.keys(versions).length > 0)
    values._v = versions;
  return values;
}
