/* ds-relay viewer: the relays a viewer may use for its channel
 *
 * Relays clustered with `ds-relay --cluster` serve every channel from
 * every node (docs/cluster.md). The viewer can be given several, in
 * `?relays=ws://n2:9102,ws://n1:9101`: each a relay's base URL, ws:// or
 * wss://, host, optional port and optional path prefix (a reverse proxy's
 * /relay2), nothing else. The page connects to the first and moves to
 * the next when a connection fails or is lost (core/websock.js).
 *
 * The list comes from a URL anybody may craft: it is checked whole, and a
 * list with one bad entry is refused, saying which and why, rather than
 * used in part. Pure: node imports it for the tests.
 */

export const MAX_RELAYS = 16;
export const MAX_RELAY_URL_LENGTH = 256;
const MAX_PARAMETER_LENGTH = MAX_RELAYS * (MAX_RELAY_URL_LENGTH + 1);

/* the endpoints of a relay, not its base: a common mistake */
const ENDPOINT_PATH = /(^|\/)(stream|peer|signal|view|channels)(\/|$)/;

function quote (s) {
  const shown = s.length > 60 ? s.slice(0, 57) + '…' : s;
  return '"' + shown + '"';
}

/**
 * Parses one base URL; returns { base, ws, http } or { error }.
 * @pageSecure: the page is https (it may then use wss:// only).
 */
export function parseRelayUrl (text, pageSecure) {
  if (text.length > MAX_RELAY_URL_LENGTH)
    return { error: 'longer than ' + MAX_RELAY_URL_LENGTH + ' characters' };
  if (/[\s\u0000-\u001f\u007f]/.test(text))
    return { error: 'holds spaces or control characters' };
  if (text.includes('?') || text.includes('#'))
    return { error: 'has a query or fragment (?, #): give the relay\'s base only' };
  let url;
  try {
    url = new URL(text);
  } catch (e) {
    return { error: 'is not a URL (write ws://HOST:PORT or wss://HOST:PORT)' };
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    return { error: 'is not a ws:// or wss:// URL' };
  if (url.username !== '' || url.password !== '')
    return { error: 'holds a user name or password' };
  if (url.hostname === '')
    return { error: 'has no host' };
  if (pageSecure && url.protocol === 'ws:')
    return { error: 'is ws://: a page served over https may only connect to wss://' };
  const path = url.pathname.replace(/\/+$/, '');
  if (ENDPOINT_PATH.test(path))
    return { error: 'names an endpoint (' + url.pathname + '): give the relay\'s base, ' +
        'ws://HOST:PORT, the viewer adds /stream/CHANNEL' };
  const base = url.protocol + '//' + url.host + path;
  const http = (url.protocol === 'wss:' ? 'https:' : 'http:') + '//' + url.host + path;
  return { base, ws: base, http };
}

/**
 * Parses the `relays` parameter (comma-separated base URLs); returns
 * { relays: [{ base, ws, http }] } or { error } naming the first problem.
 */
export function parseRelayList (param, pageSecure) {
  if (typeof param !== 'string')
    return { error: 'the relays parameter is not text' };
  if (param.length > MAX_PARAMETER_LENGTH)
    return { error: 'the relays parameter is longer than ' + MAX_PARAMETER_LENGTH + ' characters' };
  const entries = param.split(',').map((s) => s.trim());
  if (entries.length === 1 && entries[0] === '')
    return { error: 'the relays parameter is empty: give one or more ws://HOST:PORT, ' +
        'separated by commas' };
  if (entries.length > MAX_RELAYS)
    return { error: 'the relays parameter lists ' + entries.length + ' relays, at most ' +
        MAX_RELAYS + ' are taken' };
  const relays = [];
  const seen = new Set();
  for (let i = 0; i < entries.length; i++) {
    const what = 'relay ' + (i + 1) + ' of ' + entries.length;
    if (entries[i] === '')
      return { error: what + ' is empty (two commas, or one at an end)' };
    const r = parseRelayUrl(entries[i], pageSecure);
    if (r.error)
      return { error: what + ', ' + quote(entries[i]) + ', ' + r.error };
    if (seen.has(r.base))
      return { error: what + ', ' + quote(entries[i]) + ', is listed twice' };
    seen.add(r.base);
    relays.push(r);
  }
  return { relays };
}

/** The relay that served the page, as a list entry; @loc is a Location */
export function pageRelay (loc) {
  const secure = loc.protocol === 'https:';
  const base = (secure ? 'wss:' : 'ws:') + '//' + loc.host;
  return { base, ws: base, http: loc.protocol + '//' + loc.host };
}

/**
 * The list a relay hands out (ds-relay --viewer-relay, the same on every
 * node) as the page served by @own uses it: @own first, then the others
 * in the list's order after it (rotated: the viewers of each node move to
 * a different next node); @own first and the list after it when it is
 * not in the list (a name of its own, a proxy).
 */
export function startingWith (own, list) {
  const i = list.findIndex((r) => r.base === own.base);
  if (i >= 0)
    return list.slice(i).concat(list.slice(0, i));
  return [own].concat(list).slice(0, MAX_RELAYS);
}

/** The WebSocket URL of @channel on @relay, with the page's token if any */
export function relayStreamUrl (relay, channel, token) {
  let url = relay.ws + '/stream/' + encodeURIComponent(channel);
  if (token)
    url += '?token=' + encodeURIComponent(token);
  return url;
}

/** GET /channels/{name} on @relay */
export function relayChannelUrl (relay, channel) {
  return relay.http + '/channels/' + encodeURIComponent(channel);
}
