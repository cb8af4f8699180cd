/* ds-relay viewer
 *
 * The browser side of a ds-stream receiver (docs/protocol.md): the channel
 * list (index.html) and the viewer (view.html), which connects to
 * /stream/{channel} on the relay that served the page, draws Pixels,
 * DeltaPixels and CompressedPixels, plays AudioPcm, shows the signal state
 * and the connection status, and sends input back to the source.
 *
 * Plain ES2020, no dependencies, no build step. window.dsViewer exposes the
 * state for tests and for the curious (open the console).
 */
(function () {
  'use strict';

  /* ---------------------------------------------------------------------
   * Protocol (SPEC §2–§5): constants, header, run-length code, signals
   * ------------------------------------------------------------------- */

  const HEADER_SIZE = 16;
  const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

  const FRAME = {
    PIXELS: 0x01,
    COMPRESSED_PIXELS: 0x02,
    DELTA_PIXELS: 0x03,
    AUDIO_PCM: 0x10,
    AUDIO_COMPRESSED: 0x11,
    HAPTIC: 0x20,
    SIGNAL_SYNC: 0x30,
    SIGNAL_DIFF: 0x31,
    SCHEMA_ANNOUNCE: 0x32,
    SUBSCRIBE_FILTER: 0x33,
    KEYFRAME: 0xf0,
    PING: 0xfe,
    END: 0xff,
  };

  const INPUT = {
    POINTER: 0x01,
    POINTER_DOWN: 0x02,
    POINTER_UP: 0x03,
    KEY_DOWN: 0x10,
    KEY_UP: 0x11,
    TOUCH: 0x20,
    SCROLL: 0x50,
    RESIZE: 0x60,
    KEYFRAME_REQUEST: 0x70,
  };

  const FLAG_INPUT = 1 << 0;
  const FLAG_KEYFRAME = 1 << 1;
  const FLAG_COMPRESSED = 1 << 2;

  /** Parses the 16-byte little-endian header at the start of @buf. */
  function parseHeader (buf) {
    if (buf.byteLength < HEADER_SIZE)
      throw new Error('frame shorter than its header');
    const v = new DataView(buf, 0, HEADER_SIZE);
    return {
      type: v.getUint8(0),
      flags: v.getUint8(1),
      seq: v.getUint16(2, true),
      timestamp: v.getUint32(4, true),
      width: v.getUint16(8, true),
      height: v.getUint16(10, true),
      payloadLen: v.getUint32(12, true),
    };
  }

  /** Builds one frame: header + @payload (Uint8Array or null). */
  function packFrame (type, flags, seq, timestamp, width, height, payload) {
    const len = payload ? payload.byteLength : 0;
    const out = new Uint8Array(HEADER_SIZE + len);
    const v = new DataView(out.buffer);
    v.setUint8(0, type);
    v.setUint8(1, flags);
    v.setUint16(2, seq & 0xffff, true);
    v.setUint32(4, timestamp >>> 0, true);
    v.setUint16(8, width, true);
    v.setUint16(10, height, true);
    v.setUint32(12, len, true);
    if (payload)
      out.set(payload, HEADER_SIZE);
    return out;
  }

  /** Signed distance from @prev to @cur modulo 2^16 (1 = next frame). */
  function seqDistance (prev, cur) {
    return ((cur - prev + 0x8000) & 0xffff) - 0x8000;
  }

  /* scratch space for XOR-ing long literal runs a word at a time */
  let scratch = new Uint32Array(0);

  /* ref[pos..] ^= code[i..end) */
  function xorLiterals (ref, ref32, code, i, end, pos) {
    if (end - i < 64 || ref32 === null) {
      for (let k = i; k < end; k++)
        ref[pos++] ^= code[k];
      return;
    }
    while (pos & 3) {
      ref[pos++] ^= code[i++];
    }
    const words = (end - i) >> 2;
    if (scratch.length < words)
      scratch = new Uint32Array(Math.max(words, scratch.length * 2));
    /* an aligned copy of the code (a memcpy), then 4 bytes per XOR */
    new Uint8Array(scratch.buffer, 0, words * 4).set(code.subarray(i, i + words * 4));
    const w0 = pos >> 2;
    for (let w = 0; w < words; w++)
      ref32[w0 + w] ^= scratch[w];
    pos += words * 4;
    i += words * 4;
    while (i < end)
      ref[pos++] ^= code[i++];
  }

  /**
   * XORs the run-length code in @code into @ref (both Uint8Array). A zero
   * byte is followed by a u16 LE count of zero bytes (nothing to XOR: the
   * position skips); every other byte XORs itself into the reference.
   * When @refIsZero (a keyframe), XOR is a plain copy. Returns true when
   * the code covers exactly ref.length bytes; on false the reference is
   * damaged and must wait for a keyframe.
   */
  /* Index of the next zero byte of @code from @i, or -1: four bytes at a
   * time where the code is aligned (a word has a zero byte when
   * (w - 0x01010101) & ~w & 0x80808080 is not 0). */
  function findZero (code, code32, i) {
    const n = code.length;
    if (code32 === null)
      return code.indexOf(0, i);
    while (i < n && ((code.byteOffset + i) & 3) !== 0) {
      if (code[i] === 0)
        return i;
      i++;
    }
    let w = (code.byteOffset + i) >> 2;
    const wEnd = (code.byteOffset + n) >> 2;
    while (w < wEnd) {
      const v = code32[w];
      if (((v - 0x01010101) & ~v & 0x80808080) !== 0)
        break;
      w++;
    }
    i = (w << 2) - code.byteOffset;
    while (i < n) {
      if (code[i] === 0)
        return i;
      i++;
    }
    return -1;
  }

  function rleDecodeXor (code, ref, refIsZero) {
    const n = code.length;
    const size = ref.length;
    const ref32 = (ref.byteOffset & 3) === 0 ?
        new Uint32Array(ref.buffer, ref.byteOffset, size >> 2) : null;
    /* whole words of the buffer holding the code (the payload of a
     * message starts at byte 16, so it is aligned) */
    const code32 = n >= 64 ?
        new Uint32Array(code.buffer, 0, (code.byteOffset + n) >> 2) : null;
    let i = 0;
    let pos = 0;
    while (i < n) {
      const zero = findZero(code, code32, i);
      const end = zero < 0 ? n : zero;
      /* literal bytes up to the next zero */
      if (end > i) {
        if (pos + (end - i) > size)
          return false;
        if (refIsZero)
          ref.set(code.subarray(i, end), pos);
        else
          xorLiterals(ref, ref32, code, i, end, pos);
        pos += end - i;
        i = end;
      }
      if (zero < 0)
        break;
      if (i + 2 >= n)
        return false;           /* truncated run */
      const count = code[i + 1] | (code[i + 2] << 8);
      if (count === 0)
        return false;
      pos += count;
      if (pos > size)
        return false;
      i += 3;
    }
    return pos === size;
  }

  function isObject (v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  /**
   * Merges an incoming signal object into @state (SPEC §3) and returns the
   * new state. SignalSync (@replace) starts from nothing; a diff sets each
   * key given. A key whose incoming `_v` version is lower than the one held
   * keeps its value; the state keeps the highest version of each key.
   */
  function mergeSignals (state, incoming, replace) {
    const out = replace ? {} : Object.assign({}, state);
    const held = (!replace && isObject(state._v)) ? state._v : {};
    const inV = isObject(incoming._v) ? incoming._v : {};
    const versions = Object.assign({}, held);

    for (const key of Object.keys(incoming)) {
      if (key === '_v')
        continue;
      const vNew = inV[key];
      const vOld = held[key];
      if (Number.isInteger(vNew) && Number.isInteger(vOld) && vNew < vOld)
        continue;
      out[key] = incoming[key];
    }
    for (const key of Object.keys(inV)) {
      const v = inV[key];
      if (!Number.isInteger(v))
        continue;
      if (!Number.isInteger(versions[key]) || v > versions[key])
        versions[key] = v;
    }
    if (Object.keys(versions).length > 0)
      out._v = versions;
    else
      delete out._v;
    return out;
  }

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const utf8enc = new TextEncoder();

  /* ---------------------------------------------------------------------
   * Shared state, exposed for tests
   * ------------------------------------------------------------------- */

  const state = {
    page: null,
    channel: null,
    url: null,
    connected: false,   /* _connected */
    latency: null,      /* _latency, ms */
    frames: 0,          /* _frames */
    reconnects: 0,      /* _reconnects */
    width: 0,           /* last picture size */
    height: 0,
    pictures: 0,        /* pictures drawn */
    pictureType: null,  /* 'pixels' | 'delta' | 'compressed' */
    waitingForKeyframe: true,
    /* what is shown is from before the connection was lost: the picture
     * until the next one is drawn, the signals until the next SignalSync */
    pictureStale: false,
    signalsStale: false,
    keyframeRequests: 0,
    decodeErrors: 0,
    gaps: 0,
    compressedSkipped: 0,
    signals: {},
    schema: null,
    audio: { frames: 0, scheduled: 0, dropped: 0, context: 'none' },
    ended: false,
    sent: { input: 0, pings: 0, filters: 0 },
    codec: { parseHeader, packFrame, rleDecodeXor, mergeSignals, seqDistance },
  };
  window.dsViewer = state;

  function $ (id) {
    return document.getElementById(id);
  }

  /* ---------------------------------------------------------------------
   * Index page: the live channels
   * ------------------------------------------------------------------- */

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

  async function refreshChannels () {
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

  function startIndex () {
    const hint = document.querySelector('#no-channels code');
    if (hint)
      hint.textContent = hint.textContent.replace('HOST', location.host);
    $('open-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const name = $('open-name').value.trim();
      if (name)
        location.href = '/view/' + encodeURIComponent(name);
    });
    refreshChannels();
    setInterval(refreshChannels, 2000);
  }

  /* ---------------------------------------------------------------------
   * Viewer page
   * ------------------------------------------------------------------- */

  const PING_INTERVAL_MS = 5000;
  /* Reconnecting: the first try 250 ms after the loss, then every 500 ms
   * while the outage is younger than 10 s (a restarted relay is back
   * within a second or two), then doubling up to 10 s; each delay ±25 %
   * so that many viewers do not come back in step. */
  const RECONNECT_MIN_MS = 250;
  const RECONNECT_FAST_MAX_MS = 500;
  const RECONNECT_FAST_PERIOD_MS = 10000;
  const RECONNECT_MAX_MS = 10000;
  /* a connection not open after this long is given up and tried again */
  const CONNECT_TIMEOUT_MS = 3000;
  const KEYFRAME_RETRY_MIN_MS = 250;
  const KEYFRAME_RETRY_MAX_MS = 4000;
  const AUDIO_JITTER_S = 0.1;
  const AUDIO_MAX_AHEAD_S = 0.5;

  let socket = null;
  let sendSeq = 0;
  let startTime = 0;
  let reconnectDelay = RECONNECT_MIN_MS;
  let reconnectTimer = 0;
  let connectTimer = 0;
  let outageStart = 0;
  let pingTimer = 0;
  let select = null;
  let canvas = null;
  let ctx2d = null;

  /* picture state */
  let reference = null;         /* Uint8Array, width*height*4 RGBA */
  let refWidth = 0;
  let refHeight = 0;
  let lastPixelSeq = -1;
  let lastSeq = -1;
  let keyframeTimer = 0;
  let keyframeDelay = KEYFRAME_RETRY_MIN_MS;
  let drawPending = false;
  let bitmapGeneration = 0;

  /* audio state */
  let audioCtx = null;
  let audioNext = 0;

  function now32 () {
    return Math.floor(performance.now()) >>> 0;
  }

  function send (type, flags, payload) {
    if (!socket || socket.readyState !== WebSocket.OPEN)
      return false;
    const ts = Math.floor(performance.now() - startTime) >>> 0;
    socket.send(packFrame(type, flags, sendSeq, ts, 0, 0, payload));
    sendSeq = (sendSeq + 1) & 0xffff;
    return true;
  }

  function sendInput (type, payload) {
    if (send(type, FLAG_INPUT, payload))
      state.sent.input++;
  }

  function u16 (v) {
    return Math.max(0, Math.min(0xffff, Math.round(v)));
  }

  function i16 (v) {
    return Math.max(-0x8000, Math.min(0x7fff, Math.round(v)));
  }

  /* ---- status display ---- */

  function showStatus () {
    const pill = $('st-connected');
    pill.classList.toggle('connected', state.connected);
    pill.lastElementChild.textContent = state.connected ? 'live' :
        (state.ended ? 'ended' : 'reconnecting');
    $('st-latency').textContent = state.latency === null ? '– ms' : state.latency + ' ms';
    $('st-size').textContent = state.width ? state.width + '×' + state.height : 'no picture';
    $('s-connected').textContent = String(state.connected);
    $('s-latency').textContent = state.latency === null ? '–' : state.latency + ' ms';
    $('s-frames').textContent = String(state.frames);
    $('s-reconnects').textContent = String(state.reconnects);
  }

  let statusPending = false;
  function scheduleStatus () {
    if (statusPending)
      return;
    statusPending = true;
    setTimeout(() => {
      statusPending = false;
      showStatus();
    }, 100);
  }

  function notice (text, warn) {
    const el = $('notice');
    el.hidden = !text;
    el.textContent = text || '';
    el.classList.toggle('warn', !!warn);
  }

  /* ---- signals ---- */

  function formatValue (v) {
    if (typeof v === 'string')
      return v;
    return JSON.stringify(v);
  }

  function showSignals () {
    const body = $('signals').tBodies[0];
    const rows = new Map();
    for (const tr of body.rows)
      rows.set(tr.dataset.name, tr);

    const names = new Set(Object.keys(state.signals).filter((k) => !k.startsWith('_')));
    if (state.schema && Array.isArray(state.schema.signals))
      for (const n of state.schema.signals)
        if (typeof n === 'string' && !n.startsWith('_'))
          names.add(n);
    const sorted = Array.from(names).sort();

    for (const [name, tr] of rows)
      if (!names.has(name))
        tr.remove();
    for (const name of sorted) {
      let tr = rows.get(name);
      const text = name in state.signals ? formatValue(state.signals[name]) : '–';
      if (!tr) {
        tr = document.createElement('tr');
        tr.dataset.name = name;
        const th = document.createElement('th');
        th.textContent = name;
        tr.appendChild(th);
        tr.appendChild(document.createElement('td'));
      }
      body.appendChild(tr);   /* keeps sorted order */
      const td = tr.cells[1];
      if (td.textContent !== text) {
        td.textContent = text;
        tr.classList.remove('changed');
        void tr.offsetWidth;  /* restart the highlight */
        tr.classList.add('changed');
      }
    }
    $('no-signals').hidden = sorted.length > 0;
  }

  function onSignals (header, payload, replace) {
    let obj;
    try {
      obj = JSON.parse(utf8.decode(payload));
    } catch (e) {
      state.decodeErrors++;
      return;
    }
    if (!isObject(obj)) {
      state.decodeErrors++;
      return;
    }
    state.signals = mergeSignals(state.signals, obj, replace);
    if (replace)
      setSignalsStale(false);
    showSignals();
  }

  /* Greys out what came before a lost connection until fresh data comes */
  function setPictureStale (stale) {
    if (state.pictureStale === stale)
      return;
    state.pictureStale = stale;
    if (canvas)
      canvas.classList.toggle('stale', stale);
  }

  function setSignalsStale (stale) {
    if (state.signalsStale === stale)
      return;
    state.signalsStale = stale;
    $('signals').classList.toggle('stale', stale);
  }

  function onSchema (payload) {
    try {
      const obj = JSON.parse(utf8.decode(payload));
      if (isObject(obj)) {
        state.schema = obj;
        showSignals();
      }
    } catch (e) {
      state.decodeErrors++;
    }
  }

  /* ---- picture ---- */

  function setCanvasSize (w, h) {
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    if (!state.ended)
      notice(null);
    if (state.width !== w || state.height !== h) {
      state.width = w;
      state.height = h;
      sendResize();
    }
  }

  /* Pictures are opaque (docs/protocol.md §3): the alpha byte on the wire
   * is not transparency (a screencast sent as RGBA may carry the X
   * screen's padding byte there, 0 in black areas), so it is set to 255
   * before drawing. Deltas XOR each byte on its own, so the reference's
   * red, green and blue stay exact; only the alpha the next delta decodes
   * to changes, and it is set again. */
  function makeOpaque (bytes) {
    if ((bytes.byteOffset & 3) !== 0) {
      for (let i = 3; i < bytes.length; i += 4)
        bytes[i] = 255;
      return;
    }
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    const alpha = LITTLE_ENDIAN ? 0xff000000 : 0xff;
    for (let i = 0; i < words.length; i++)
      words[i] |= alpha;
  }

  function drawReference () {
    drawPending = false;
    if (!reference)
      return;
    setCanvasSize(refWidth, refHeight);
    makeOpaque(reference);
    const pixels = new Uint8ClampedArray(reference.buffer, reference.byteOffset, reference.byteLength);
    ctx2d.putImageData(new ImageData(pixels, refWidth, refHeight), 0, 0);
    state.pictures++;
    setPictureStale(false);
  }

  function scheduleDraw () {
    if (drawPending)
      return;
    drawPending = true;
    /* one draw per display frame, however many frames arrive */
    if (document.hidden)
      setTimeout(drawReference, 0);
    else
      requestAnimationFrame(drawReference);
  }

  function requestKeyframe () {
    if (keyframeTimer)
      return;
    const ask = () => {
      if (!state.waitingForKeyframe) {
        keyframeTimer = 0;
        keyframeDelay = KEYFRAME_RETRY_MIN_MS;
        return;
      }
      sendInput(INPUT.KEYFRAME_REQUEST, null);
      state.keyframeRequests++;
      /* a still screen may send nothing for a long while: ask again, with
       * backoff, until a keyframe arrives */
      keyframeTimer = setTimeout(ask, keyframeDelay);
      keyframeDelay = Math.min(keyframeDelay * 2, KEYFRAME_RETRY_MAX_MS);
    };
    ask();
  }

  function pictureLost () {
    state.waitingForKeyframe = true;
    reference = null;
    requestKeyframe();
  }

  function gotKeyframe () {
    state.waitingForKeyframe = false;
    if (keyframeTimer) {
      clearTimeout(keyframeTimer);
      keyframeTimer = 0;
    }
    keyframeDelay = KEYFRAME_RETRY_MIN_MS;
  }

  function onPixels (h, payload, buf) {
    const size = h.width * h.height * 4;
    if (h.width === 0 || h.height === 0 || payload.length !== size) {
      state.decodeErrors++;
      pictureLost();
      return;
    }
    /* the picture becomes the reference: the message's buffer is ours
     * alone, so keep it instead of a copy (its payload starts at byte 16,
     * aligned for the word-at-a-time decoder) */
    reference = payload;
    refWidth = h.width;
    refHeight = h.height;
    gotKeyframe();
    state.pictureType = 'pixels';
    scheduleDraw();
  }

  function onDelta (h, payload) {
    const size = h.width * h.height * 4;
    const keyframe = (h.flags & FLAG_KEYFRAME) !== 0;
    if (h.width === 0 || h.height === 0) {
      state.decodeErrors++;
      pictureLost();
      return;
    }
    if (keyframe) {
      if (!reference || reference.length !== size)
        reference = new Uint8Array(size);
      else
        reference.fill(0);
      refWidth = h.width;
      refHeight = h.height;
    } else if (state.waitingForKeyframe || !reference ||
        refWidth !== h.width || refHeight !== h.height) {
      /* a delta without a (matching) reference */
      pictureLost();
      return;
    }
    if (!rleDecodeXor(payload, reference, keyframe)) {
      state.decodeErrors++;
      pictureLost();
      return;
    }
    if (keyframe)
      gotKeyframe();
    state.pictureType = 'delta';
    scheduleDraw();
  }

  function onCompressedPixels (h, payload) {
    const generation = ++bitmapGeneration;
    createImageBitmap(new Blob([payload])).then((bitmap) => {
      if (generation !== bitmapGeneration) {
        bitmap.close();
        return;                 /* a newer picture came first */
      }
      setCanvasSize(bitmap.width, bitmap.height);
      /* an image with transparency is drawn over black, not over the
       * picture before it */
      ctx2d.fillStyle = '#000';
      ctx2d.fillRect(0, 0, bitmap.width, bitmap.height);
      ctx2d.drawImage(bitmap, 0, 0);
      bitmap.close();
      state.pictures++;
      setPictureStale(false);
      state.pictureType = 'compressed';
    }, () => {
      state.decodeErrors++;
    });
  }

  function onKeyframeReset () {
    /* Keyframe (0xF0): reset picture and signal state */
    state.signals = {};
    showSignals();
    state.waitingForKeyframe = true;
    reference = null;
  }

  /* ---- audio ---- */

  function startAudio () {
    if (audioCtx) {
      if (audioCtx.state === 'suspended')
        audioCtx.resume();
      return;
    }
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx)
      return;
    audioCtx = new Ctx({ latencyHint: 'interactive' });
    audioCtx.onstatechange = () => {
      state.audio.context = audioCtx.state;
      updateSoundButton();
    };
    state.audio.context = audioCtx.state;
    audioNext = 0;
    updateSoundButton();
  }

  function updateSoundButton () {
    const button = $('sound');
    button.hidden = state.audio.frames === 0 ||
        (audioCtx !== null && audioCtx.state === 'running');
  }

  function onAudio (h, payload, buf) {
    const channels = h.width;
    const rate = h.height;
    state.audio.frames++;
    if (state.audio.frames === 1)
      updateSoundButton();
    if (!audioCtx || audioCtx.state !== 'running' || channels === 0 || rate === 0 ||
        payload.length % (4 * channels) !== 0) {
      state.audio.dropped++;
      return;
    }
    const frames = payload.length / (4 * channels);
    if (frames === 0)
      return;
    /* payload starts at byte 16 of the message: 4-byte aligned */
    const samples = new Float32Array(buf, HEADER_SIZE, frames * channels);
    const abuf = audioCtx.createBuffer(channels, frames, rate);
    for (let c = 0; c < channels; c++) {
      const out = abuf.getChannelData(c);
      for (let i = 0, j = c; i < frames; i++, j += channels)
        out[i] = samples[j];
    }
    const t = audioCtx.currentTime;
    /* a small jitter buffer: restart it on underrun, drop when too late */
    if (audioNext < t + 0.01)
      audioNext = t + AUDIO_JITTER_S;
    else if (audioNext > t + AUDIO_MAX_AHEAD_S) {
      state.audio.dropped++;
      return;
    }
    const src = audioCtx.createBufferSource();
    src.buffer = abuf;
    src.connect(audioCtx.destination);
    src.start(audioNext);
    audioNext += abuf.duration;
    state.audio.scheduled++;
  }

  /* ---- frames ---- */

  function onMessage (ev) {
    if (!(ev.data instanceof ArrayBuffer))
      return;                   /* text messages are not part of the protocol */
    const buf = ev.data;
    let h;
    try {
      h = parseHeader(buf);
    } catch (e) {
      state.decodeErrors++;
      return;
    }
    if (h.payloadLen !== buf.byteLength - HEADER_SIZE) {
      state.decodeErrors++;
      return;
    }
    const payload = new Uint8Array(buf, HEADER_SIZE);

    if (h.type === FRAME.PING) {
      const rtt = (now32() - h.timestamp) >>> 0;
      if (rtt < 60000) {
        state.latency = rtt;
        scheduleStatus();
      }
      return;
    }
    if (h.flags & FLAG_INPUT)
      return;                   /* input is for sources */

    state.frames++;
    state.lastType = h.type;
    if (state.ended && h.type !== FRAME.END) {
      state.ended = false;      /* a new stream follows */
      notice(null);
    }
    scheduleStatus();

    const isPixel = h.type === FRAME.PIXELS || h.type === FRAME.DELTA_PIXELS;
    if (isPixel) {
      /* A gap: the frame is not the next one after the previous pixel
       * frame, nor after the previous frame of any kind (senders may count
       * all of a channel's frames or each stream's on its own). */
      if (lastPixelSeq >= 0 && seqDistance(lastPixelSeq, h.seq) !== 1 &&
          (lastSeq < 0 || seqDistance(lastSeq, h.seq) !== 1) &&
          !(h.flags & FLAG_KEYFRAME) && h.type !== FRAME.PIXELS) {
        state.gaps++;
        pictureLost();
      }
      lastPixelSeq = h.seq;
    }
    lastSeq = h.seq;

    if (h.flags & FLAG_COMPRESSED) {
      state.compressedSkipped++;
      if (isPixel || h.type === FRAME.COMPRESSED_PIXELS)
        notice('This stream is compressed with zstd, which the browser viewer ' +
            'cannot decode. Publish it with dsdelta compression=none (the default).', true);
      return;
    }

    switch (h.type) {
      case FRAME.PIXELS:
        onPixels(h, payload, buf);
        break;
      case FRAME.DELTA_PIXELS:
        onDelta(h, payload);
        break;
      case FRAME.COMPRESSED_PIXELS:
        onCompressedPixels(h, payload);
        break;
      case FRAME.AUDIO_PCM:
        onAudio(h, payload, buf);
        break;
      case FRAME.SIGNAL_SYNC:
        onSignals(h, payload, true);
        break;
      case FRAME.SIGNAL_DIFF:
        onSignals(h, payload, false);
        break;
      case FRAME.SCHEMA_ANNOUNCE:
        onSchema(payload);
        break;
      case FRAME.HAPTIC:
        if (payload.length >= 2 && navigator.vibrate)
          navigator.vibrate(payload[0] | (payload[1] << 8));
        break;
      case FRAME.KEYFRAME:
        onKeyframeReset();
        break;
      case FRAME.END:
        state.ended = true;
        scheduleStatus();
        break;
      default:
        break;                  /* AudioCompressed, neural, …: not shown */
    }
    if (state.ended)
      notice('The source ended its stream. A new one may follow.');
  }

  /* ---- connection ---- */

  function streamUrl () {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let url = proto + '//' + location.host + '/stream/' + encodeURIComponent(state.channel);
    const token = new URLSearchParams(location.search).get('token');
    if (token)
      url += '?token=' + encodeURIComponent(token);
    return url;
  }

  function sendPing () {
    /* the timestamp is our own clock (ms, u32); the relay echoes it */
    if (!socket || socket.readyState !== WebSocket.OPEN)
      return;
    socket.send(packFrame(FRAME.PING, 0, sendSeq, now32(), 0, 0, null));
    sendSeq = (sendSeq + 1) & 0xffff;
    state.sent.pings++;
  }

  function connect () {
    reconnectTimer = 0;
    state.url = streamUrl();
    let ws;
    try {
      ws = new WebSocket(state.url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    socket = ws;
    connectTimer = setTimeout(() => {
      connectTimer = 0;
      if (socket === ws && ws.readyState === WebSocket.CONNECTING)
        ws.close();             /* onclose schedules the next try */
    }, CONNECT_TIMEOUT_MS);

    ws.onopen = () => {
      clearTimeout(connectTimer);
      connectTimer = 0;
      outageStart = 0;
      state.connected = true;
      state.ended = false;
      reconnectDelay = RECONNECT_MIN_MS;
      startTime = performance.now();
      /* what we hold may not match what the relay sends: start over from a
       * keyframe (the relay's catch-up begins with one) */
      lastPixelSeq = -1;
      lastSeq = -1;
      state.waitingForKeyframe = true;
      reference = null;
      if (select !== null && send(FRAME.SUBSCRIBE_FILTER, 0,
          utf8enc.encode(JSON.stringify({ select }))))
        state.sent.filters++;
      sendResize();
      sendPing();
      pingTimer = setInterval(sendPing, PING_INTERVAL_MS);
      if (!state.width)
        notice('Connected. Waiting for the source…');
      showStatus();
    };
    ws.onmessage = onMessage;
    ws.onclose = () => {
      if (socket !== ws)
        return;
      clearTimeout(connectTimer);
      connectTimer = 0;
      socket = null;
      if (state.connected || !outageStart)
        outageStart = performance.now();
      state.connected = false;
      /* what is on the page is from the connection that ended */
      if (state.pictures > 0)
        setPictureStale(true);
      if (Object.keys(state.signals).length > 0)
        setSignalsStale(true);
      clearInterval(pingTimer);
      if (keyframeTimer) {
        clearTimeout(keyframeTimer);
        keyframeTimer = 0;
      }
      showStatus();
      scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  function scheduleReconnect () {
    if (reconnectTimer)
      return;
    const delay = reconnectDelay * (0.75 + Math.random() * 0.5);
    const fast = performance.now() - outageStart < RECONNECT_FAST_PERIOD_MS;
    reconnectDelay = Math.min(reconnectDelay * 2,
        fast ? RECONNECT_FAST_MAX_MS : RECONNECT_MAX_MS);
    reconnectTimer = setTimeout(() => {
      state.reconnects++;
      showStatus();
      connect();
    }, delay);
  }

  /* ---- input ---- */

  /* Maps a point in CSS pixels (client coordinates) to the source picture's
   * pixel space, undoing object-fit: contain. Returns null outside. */
  function toSource (clientX, clientY) {
    if (!state.width)
      return null;
    const box = canvas.getBoundingClientRect();
    const scale = Math.min(box.width / state.width, box.height / state.height);
    if (!(scale > 0))
      return null;
    const offX = (box.width - state.width * scale) / 2;
    const offY = (box.height - state.height * scale) / 2;
    const x = (clientX - box.left - offX) / scale;
    const y = (clientY - box.top - offY) / scale;
    if (x < 0 || y < 0 || x >= state.width || y >= state.height)
      return null;
    return { x: Math.floor(x), y: Math.floor(y) };
  }

  function pointerPayload (p, buttons) {
    const out = new Uint8Array(5);
    const v = new DataView(out.buffer);
    v.setUint16(0, u16(p.x), true);
    v.setUint16(2, u16(p.y), true);
    v.setUint8(4, buttons & 0x07);
    return out;
  }

  function onPointer (type, e) {
    const p = toSource(e.clientX, e.clientY);
    if (!p)
      return;
    if (e.pointerType === 'touch' && !e.isPrimary && type === INPUT.POINTER_UP)
      return;
    if (e.pointerType === 'touch' && type !== INPUT.POINTER_UP) {
      const t = new Uint8Array(5);
      const v = new DataView(t.buffer);
      v.setUint8(0, e.pointerId & 0xff);
      v.setUint16(1, u16(p.x), true);
      v.setUint16(3, u16(p.y), true);
      sendInput(INPUT.TOUCH, t);
      if (!e.isPrimary || type === INPUT.POINTER)
        return;
    }
    /* PointerEvent.buttons already has the wire's bits: 1 left, 2 right,
     * 4 middle, held after the event */
    sendInput(type, pointerPayload(p, e.buttons));
  }

  function modifiers (e) {
    return (e.shiftKey ? 1 : 0) | (e.ctrlKey ? 2 : 0) | (e.altKey ? 4 : 0) | (e.metaKey ? 8 : 0);
  }

  function onKey (type, e) {
    if (!e.keyCode)
      return;
    const out = new Uint8Array(3);
    const v = new DataView(out.buffer);
    v.setUint16(0, e.keyCode, true);
    v.setUint8(2, modifiers(e));
    sendInput(type, out);
    /* keep keys for the source, except the browser's own reload/devtools */
    if (!(e.keyCode === 116 || e.keyCode === 123 || (e.ctrlKey && e.keyCode === 82)))
      e.preventDefault();
  }

  function onWheel (e) {
    e.preventDefault();
    /* wire units follow WheelEvent pixels (about 100 per notch) */
    let k = 1;
    if (e.deltaMode === 1)
      k = 40;
    else if (e.deltaMode === 2)
      k = 800;
    const out = new Uint8Array(4);
    const v = new DataView(out.buffer);
    v.setInt16(0, i16(e.deltaX * k), true);
    v.setInt16(2, i16(e.deltaY * k), true);
    sendInput(INPUT.SCROLL, out);
  }

  let lastResize = '';
  function sendResize () {
    if (!canvas)
      return;
    const box = canvas.getBoundingClientRect();
    const w = u16(box.width);
    const h = u16(box.height);
    const key = w + 'x' + h;
    if (socket && socket.readyState === WebSocket.OPEN && key !== lastResize) {
      const out = new Uint8Array(4);
      const v = new DataView(out.buffer);
      v.setUint16(0, w, true);
      v.setUint16(2, h, true);
      sendInput(INPUT.RESIZE, out);
      lastResize = key;
    }
  }

  function installInput () {
    canvas.addEventListener('pointermove', (e) => {
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      onPointer(INPUT.POINTER, events.length ? events[events.length - 1] : e);
    });
    canvas.addEventListener('pointerdown', (e) => {
      canvas.focus();
      canvas.setPointerCapture(e.pointerId);
      onPointer(INPUT.POINTER_DOWN, e);
    });
    canvas.addEventListener('pointerup', (e) => onPointer(INPUT.POINTER_UP, e));
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    canvas.addEventListener('wheel', onWheel, { passive: false });
    canvas.addEventListener('keydown', (e) => onKey(INPUT.KEY_DOWN, e));
    canvas.addEventListener('keyup', (e) => onKey(INPUT.KEY_UP, e));

    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(sendResize, 150);
    });

    /* browsers start audio only after a user gesture */
    const gesture = () => startAudio();
    window.addEventListener('pointerdown', gesture, true);
    window.addEventListener('keydown', gesture, true);
    $('sound').addEventListener('click', gesture);
  }

  function channelFromLocation () {
    const q = new URLSearchParams(location.search).get('channel');
    if (q)
      return q;
    const m = location.pathname.match(/\/view\/([^/]+)\/?$/);
    return m ? decodeURIComponent(m[1]) : 'demo';
  }

  function startViewer () {
    state.channel = channelFromLocation();
    document.title = state.channel + ' · ds-relay';
    $('channel').textContent = state.channel;

    const sel = new URLSearchParams(location.search).get('select');
    if (sel !== null)
      select = sel.split(',').map((s) => s.trim()).filter((s) => s !== '');
    state.select = select;

    canvas = $('picture');
    ctx2d = canvas.getContext('2d', { alpha: false });
    installInput();
    canvas.focus();
    notice('Connecting…');
    showSignals();
    showStatus();
    connect();
  }

  function start () {
    state.page = document.body.dataset.page;
    if (state.page === 'index')
      startIndex();
    else if (state.page === 'view')
      startViewer();
  }

  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', start);
  else
    start();
})();
