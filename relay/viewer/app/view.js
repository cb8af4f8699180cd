/* ds-relay viewer: the viewer page (view.html)
 *
 * Connects to /stream/{channel} on the relay that served the page, runs
 * every frame through the stream model (core/decoder.js), draws the
 * pictures, plays the sound, shows the signal state and the connection
 * status (_connected, _latency, _frames, _reconnects), asks for keyframes
 * when the picture is lost, and sends input back to the source.
 */

import { FRAME, INPUT } from '../core/protocol.js';
import { StreamDecoder } from '../core/decoder.js';
import { Connection, now32 } from '../core/websock.js';
import { Display } from '../core/display.js';
import { AudioPlayer } from '../core/audio.js';
import { Input } from '../core/input.js';
/* the npm package fzstd, or a stand-in whose decompress is null in a
 * relay built without it (relay/meson.build) */
import { decompress as zstdDecompress } from '../vendor/fzstd.mjs';

const KEYFRAME_RETRY_MIN_MS = 250;
const KEYFRAME_RETRY_MAX_MS = 4000;

const utf8enc = new TextEncoder();

function $ (id) {
  return document.getElementById(id);
}

function formatValue (v) {
  if (typeof v === 'string')
    return v;
  return JSON.stringify(v);
}

function channelFromLocation () {
  const q = new URLSearchParams(location.search).get('channel');
  if (q)
    return q;
  const m = location.pathname.match(/\/view\/([^/]+)\/?$/);
  return m ? decodeURIComponent(m[1]) : 'demo';
}

function streamUrl (channel) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let url = proto + '//' + location.host + '/stream/' + encodeURIComponent(channel);
  const token = new URLSearchParams(location.search).get('token');
  if (token)
    url += '?token=' + encodeURIComponent(token);
  return url;
}

class ViewerPage {
  constructor (state) {
    this.state = state;
    this.decoder = new StreamDecoder({ zstd: zstdDecompress });
    state.zstd = !!zstdDecompress;
    this.select = null;
    this.keyframeTimer = 0;
    this.keyframeDelay = KEYFRAME_RETRY_MIN_MS;
    this.statusPending = false;
  }

  start () {
    const state = this.state;
    state.channel = channelFromLocation();
    document.title = state.channel + ' · ds-relay';
    $('channel').textContent = state.channel;

    const sel = new URLSearchParams(location.search).get('select');
    if (sel !== null)
      this.select = sel.split(',').map((s) => s.trim()).filter((s) => s !== '');
    state.select = this.select;

    const canvas = $('picture');
    this.display = new Display(canvas, {
      onSize: (w, h, changed) => this.onPictureSize(w, h, changed),
      onDrawn: (kind) => {
        state.pictures++;
        if (kind === 'compressed')
          state.pictureType = 'compressed';
        this.setPictureStale(false);
      },
      onImageError: () => state.decodeErrors++,
    });
    this.audio = new AudioPlayer(state.audio, () => this.updateSoundButton());
    this.input = new Input(canvas, {
      toSource: (x, y) => this.display.toSource(x, y),
      send: (type, payload) => this.sendInput(type, payload),
      canSend: () => this.connection.open,
    });
    this.input.install();
    /* browsers start audio only after a user gesture */
    const gesture = () => this.audio.start();
    window.addEventListener('pointerdown', gesture, true);
    window.addEventListener('keydown', gesture, true);
    $('sound').addEventListener('click', gesture);

    state.url = streamUrl(state.channel);
    this.connection = new Connection(state.url, {
      onOpen: () => this.onOpen(),
      onMessage: (buf) => this.onMessage(buf),
      onClose: () => this.onClose(),
      onReconnecting: () => {
        state.reconnects++;
        this.showStatus();
      },
    }, state.sent);
    canvas.focus();
    this.notice('Connecting…');
    this.showSignals();
    this.showStatus();
    this.connection.connect();
  }

  /* ---- connection ---- */

  onOpen () {
    const state = this.state;
    state.connected = true;
    state.ended = false;
    /* what we hold may not match what the relay sends: start over from a
     * keyframe (the relay's catch-up begins with one) */
    this.decoder.newConnection();
    state.waitingForKeyframe = true;
    if (this.select !== null && this.connection.send(FRAME.SUBSCRIBE_FILTER, 0,
        utf8enc.encode(JSON.stringify({ select: this.select }))))
      state.sent.filters++;
    this.input.sendResize();
    if (!state.width)
      this.notice('Connected. Waiting for the source…');
    this.showStatus();
  }

  onClose () {
    const state = this.state;
    state.connected = false;
    /* what is on the page is from the connection that ended */
    if (state.pictures > 0)
      this.setPictureStale(true);
    if (Object.keys(state.signals).length > 0)
      this.setSignalsStale(true);
    if (this.keyframeTimer) {
      clearTimeout(this.keyframeTimer);
      this.keyframeTimer = 0;
    }
    this.showStatus();
  }

  sendInput (type, payload) {
    if (this.connection.sendInput(type, payload)) {
      this.state.sent.input++;
      return true;
    }
    return false;
  }

  /* ---- frames ---- */

  onMessage (buf) {
    const state = this.state;
    const r = this.decoder.push(buf, true);

    if (r.kind === 'ping') {
      const rtt = (now32() - r.header.timestamp) >>> 0;
      if (rtt < 60000) {
        state.latency = rtt;
        this.scheduleStatus();
      }
      return;
    }
    if (r.kind === 'input')
      return;                   /* input is for sources */
    if (r.kind === 'malformed' && !r.header) {
      state.decodeErrors++;     /* not even a frame */
      return;
    }

    state.frames++;
    state.lastType = r.header.type;
    if (r.newStream) {
      state.ended = false;      /* a new stream follows */
      this.notice(null);
    }
    this.scheduleStatus();
    state.gaps = this.decoder.stats.gaps;
    state.inflated = this.decoder.stats.inflated;

    if (r.compressed) {
      state.compressedSkipped++;
      const t = r.header.type;
      if (t === FRAME.PIXELS || t === FRAME.DELTA_PIXELS ||
          t === FRAME.MOTION_DELTA_PIXELS || t === FRAME.COMPRESSED_PIXELS)
        this.notice('This stream is compressed with zstd, and this relay was built ' +
            'without the viewer\'s zstd decoder (fzstd: npm ci in relay/viewer). ' +
            'Publish it with dsdelta compression=none (the default).', true);
    }

    switch (r.kind) {
      case 'malformed':
        state.decodeErrors++;
        state.lastError = r.error;
        break;
      case 'picture':
        this.gotKeyframe();
        state.pictureType = r.header.type === FRAME.PIXELS ? 'pixels' :
          r.header.type === FRAME.MOTION_DELTA_PIXELS ? 'motion' : 'delta';
        this.display.schedulePicture(() => this.currentPicture());
        break;
      case 'image':
        this.display.drawImage(r.payload);
        break;
      case 'audio':
        if (r.codec === 'pcm')
          this.audio.play(r.channels, r.rate, r.payload);
        break;
      case 'signals':
        state.signals = r.signals;
        if (r.sync)
          this.setSignalsStale(false);
        this.showSignals();
        break;
      case 'schema':
        state.schema = r.schema;
        this.showSignals();
        break;
      case 'haptic':
        if (navigator.vibrate)
          navigator.vibrate(r.duration);
        break;
      case 'keyframe':
        /* Keyframe (0xF0): reset picture and signal state */
        state.signals = {};
        this.showSignals();
        break;
      case 'end':
        /* the decoder starts the next stream from scratch; what the
         * page shows stays until it comes */
        state.ended = true;
        this.scheduleStatus();
        break;
      default:
        break;                  /* dropped, unsupported, skipped */
    }
    if (r.lost)
      this.pictureLost();
    state.waitingForKeyframe = this.decoder.waitingForKeyframe;
    if (state.ended)
      this.notice('The source ended its stream. A new one may follow.');
  }

  currentPicture () {
    const d = this.decoder;
    return d.reference ? { bytes: d.reference, width: d.width, height: d.height } : null;
  }

  /* ---- picture ---- */

  onPictureSize (w, h, changed) {
    const state = this.state;
    if (!state.ended)
      this.notice(null);
    if (changed) {
      state.width = w;
      state.height = h;
      this.input.sendResize();
    }
  }

  requestKeyframe () {
    if (this.keyframeTimer)
      return;
    const ask = () => {
      if (!this.decoder.waitingForKeyframe) {
        this.keyframeTimer = 0;
        this.keyframeDelay = KEYFRAME_RETRY_MIN_MS;
        return;
      }
      this.sendInput(INPUT.KEYFRAME_REQUEST, null);
      this.state.keyframeRequests++;
      /* a still screen may send nothing for a long while: ask again, with
       * backoff, until a keyframe arrives */
      this.keyframeTimer = setTimeout(ask, this.keyframeDelay);
      this.keyframeDelay = Math.min(this.keyframeDelay * 2, KEYFRAME_RETRY_MAX_MS);
    };
    ask();
  }

  pictureLost () {
    this.state.waitingForKeyframe = true;
    this.requestKeyframe();
  }

  gotKeyframe () {
    if (this.keyframeTimer) {
      clearTimeout(this.keyframeTimer);
      this.keyframeTimer = 0;
    }
    this.keyframeDelay = KEYFRAME_RETRY_MIN_MS;
  }

  /* Greys out what came before a lost connection until fresh data comes */
  setPictureStale (stale) {
    if (this.state.pictureStale === stale)
      return;
    this.state.pictureStale = stale;
    this.display.setStale(stale);
  }

  setSignalsStale (stale) {
    if (this.state.signalsStale === stale)
      return;
    this.state.signalsStale = stale;
    $('signals').classList.toggle('stale', stale);
  }

  /* ---- status display ---- */

  showStatus () {
    const state = this.state;
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

  scheduleStatus () {
    if (this.statusPending)
      return;
    this.statusPending = true;
    setTimeout(() => {
      this.statusPending = false;
      this.showStatus();
    }, 100);
  }

  notice (text, warn) {
    const el = $('notice');
    el.hidden = !text;
    el.textContent = text || '';
    el.classList.toggle('warn', !!warn);
  }

  updateSoundButton () {
    $('sound').hidden = this.state.audio.frames === 0 || this.audio.running;
  }

  /* ---- signals ---- */

  showSignals () {
    const state = this.state;
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
}

/** Starts the viewer page; @state is window.dsViewer */
export function startViewer (state) {
  const page = new ViewerPage(state);
  state.decoder = page.decoder;
  page.start();
  return page;
}
