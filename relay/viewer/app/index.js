/* ds-relay viewer: the channel list (index.html)
 *
 * Polls /channels every 2 s and lists the live channels with links to
 * their viewer.
 */

import { isObject } from '../core/signals.js';

function $ (id) {
  return document.getElementById(id);
}

/* /channels may be an array of channel objects, an object with a
 * "channels" array, or a map name → stats; field names vary a little. */
function normaliseChannels (json) {
  let list = [];
  if (Array.isArray(json))
    list = json;
  else if (isObject(json) && Array.isArray(json.channels))
    list = json.channels;
  else if (isObject(json) && isObject(json.channels))
    list = Object.entries(json.channels).map(([name, c]) => Object.assign({ name }, c));
  else if (isObject(json))
    list = Object.entries(json).map(([name, c]) => Object.assign({ name }, isObject(c) ? c : {}));

  const pick = (c, ...keys) => {
    for (const k of keys)
      if (c[k] !== undefined && c[k] !== null)
        return c[k];
    return undefined;
  };
  return list.map((c) => {
    if (typeof c === 'string')
      c = { name: c };
    let sources = pick(c, 'sources', 'source', 'has_source', 'publishers');
    if (typeof sources === 'boolean')
      sources = sources ? 1 : 0;
    else if (isObject(sources))
      sources = 1;
    const frames = pick(c, 'frames', 'frames_in', 'frames_out');
    const bytes = pick(c, 'bytes', 'bytes_in', 'bytes_out');
    let age = pick(c, 'last_frame_age_ms', 'last_frame_ms', 'last_frame_age');
    if (age === undefined) {
      const s = pick(c, 'last_frame_age_s', 'last_frame_age_seconds');
      if (typeof s === 'number')
        age = s * 1000;
    }
    return {
      name: String(pick(c, 'name', 'channel', 'id') || ''),
      sources: typeof sources === 'number' ? sources : null,
      receivers: pick(c, 'receivers', 'receiver_count', 'subscribers'),
      frames,
      bytes,
      ageMs: typeof age === 'number' ? age : null,
    };
  }).filter((c) => c.name !== '');
}

function formatBytes (n) {
  if (typeof n !== 'number')
    return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return (u === 0 ? n : n.toFixed(1)) + ' ' + units[u];
}

function formatAge (ms) {
  if (typeof ms !== 'number' || ms < 0)
    return '–';
  if (ms < 1000)
    return Math.round(ms) + ' ms ago';
  if (ms < 120000)
    return (ms / 1000).toFixed(1) + ' s ago';
  return Math.round(ms / 60000) + ' min ago';
}

function cell (tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls)
    td.className = cls;
  tr.appendChild(td);
  return td;
}

async function refreshChannels (state) {
  const status = $('index-status');
  try {
    const res = await fetch('/channels', { cache: 'no-store' });
    if (!res.ok)
      throw new Error('HTTP ' + res.status);
    const channels = normaliseChannels(await res.json());
    channels.sort((a, b) => a.name.localeCompare(b.name));
    state.channels = channels;

    const body = $('channels').tBodies[0];
    body.textContent = '';
    for (const c of channels) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      const a = document.createElement('a');
      a.href = '/view/' + encodeURIComponent(c.name);
      a.textContent = c.name;
      td.appendChild(a);
      tr.appendChild(td);
      if (c.sources === null)
        cell(tr, '–');
      else
        cell(tr, c.sources > 0 ? 'live' : 'no source', c.sources > 0 ? 'live' : 'idle');
      cell(tr, c.receivers !== undefined ? String(c.receivers) : '–', 'num');
      cell(tr, c.frames !== undefined ? String(c.frames) : '–', 'num');
      cell(tr, formatBytes(c.bytes), 'num');
      cell(tr, formatAge(c.ageMs), 'num');
      body.appendChild(tr);
    }
    $('no-channels').hidden = channels.length > 0;
    status.textContent = channels.length + (channels.length === 1 ? ' channel' : ' channels');
    status.classList.add('connected');
  } catch (e) {
    status.textContent = 'relay unreachable';
    status.classList.remove('connected');
  }
}

/** Starts the index page; @state is window.dsViewer */
export function startIndex (state) {
  const hint = document.querySelector('#no-channels code');
  if (hint)
    hint.textContent = hint.textContent.replace('HOST', location.host);
  $('open-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('open-name').value.trim();
    if (name)
      location.href = '/view/' + encodeURIComponent(name);
  });
  refreshChannels(state);
  setInterval(() => refreshChannels(state), 2000);
}
