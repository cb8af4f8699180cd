/* ds-relay viewer: the viewer page (view.html)
 *
 * Connects to /stream/{channel} on the relay that served the page, runs
 * every frame through the stream model (core/decoder.js), draws the
 * pictures, plays the sound, shows the signal state and the connection
 * status (_connected, _latency, _frames, _reconnects), asks for keyframes
 * when the picture is lost, and sends input back to the source.
 * EncodedVideo is decoded by WebCodecs (core/video.js) and presented
 * against the audio clock while sound plays; the stats overlay (the
 * "stats" button, Alt+S, or S outside the picture) shows codec, size,
 * rates and counters. Gamepads and (when the person asks: the MIDI
 * button or ?midi=1) MIDI inputs are sent too while the page is visible
 * and focused. Given a list of relays (?relays=, core/relays.js), it
 * moves to the next when its connection fails or is lost, and says which
 * relay it is on.
 */

import { FRAME, INPUT, SEQ_STREAM, frameSeqStream } from '../core/protocol.js';
import { StreamDecoder } from '../core/decoder.js';
import { Connection, now32 } from '../core/websock.js';
import {
  parseRelayList, pageRelay, startingWith, relayStreamUrl, relayChannelUrl,
} from '../core/relays.js';
import { Display } from '../core/display.js';
import { AudioPlayer, missingMediaFeatures } from '../core/audio.js';
import { VideoPlayer, FramePresenter } from '../core/video.js';
import { Input } from '../core/input.js';
import { GamepadInput } from '../core/gamepad.js';
import { MidiInput } from '../core/midi.js';
/* the npm package fzstd, or a stand-in whose decompress is null in a
 * relay built without it (relay/meson.build) */
import { decompress as zstdDecompress } from '../vendor/fzstd.mjs';

const KEYFRAME_RETRY_MIN_MS = 250;
const KEYFRAME_RETRY_MAX_MS = 4000;
const STATS_INTERVAL_MS = 500;
/* after the catch-up: Pings sent to measure the first RTT shown, the
 * lowest answer of them shown (onMessage) */
const PROBE_PINGS = 3;
const PROBE_SPACING_MS = 150;
const PROBE_WAIT_MS = 2000;
/* how often the page asks the relay whether the channel has a source
 * (GET /channels/{name}), while it shows no live picture */
const SOURCE_POLL_MS = 2000;
const SOURCE_POLL_MAX_MS = 30000;
const SOURCE_POLL_TIMEOUT_MS = 5000;
/* frames while the relay said "no source": asked again, at most this
 * often (and at most every pollDelay / 8: the relay may keep saying so,
 * a catch-up of a source that left) */
const SOURCE_REPOLL_MS = 250;
/* offsets (audio clock − picture timestamp) kept for tests */
const SYNC_SAMPLES = 300;

const utf8enc = new TextEncoder();

/* what a frame's seq stream says a channel carries (for the notice; a
 * picture frame counts even when it cannot be drawn yet) */
const SEQ_KIND = {
  [SEQ_STREAM.PICTURES]: 'picture',
  [SEQ_STREAM.AUDIO]: 'audio',
  [SEQ_STREAM.SIGNALS]: 'signals',
};

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

/* The relays to use, and where the list comes from: ?relays= as given
 * ('query'), else the relay's --viewer-relay list (<meta name=ds-relays>)
 * starting with the page's own relay ('relay'), else the page's relay
 * alone ('page'). Checked whole: { error } if any entry is wrong. */
function relaysFromLocation () {
  const secure = location.protocol === 'https:';
  const param = new URLSearchParams(location.search).get('relays');
  if (param !== null)
    return { ...parseRelayList(param, secure), from: 'query' };
  const own = pageRelay(location);
  const meta = document.querySelector('meta[name="ds-relays"]');
  if (meta === null)
    return { relays: [own], from: 'page' };
  const list = parseRelayList(meta.content, secure);
  if (list.error)
    return { error: list.error, from: 'relay' };
  return { relays: startingWith(own, list.relays), from: 'relay' };
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
    this.warning = null;        /* a notice that stays: see updateNotice */
    this.pollTimer = 0;
    this.polling = false;
    this.polledAt = 0;
    this.pollDelay = SOURCE_POLL_MS;
    this.opened = 0;            /* connections opened: a poll's answer is for one */
    this.lastFrameAt = 0;
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
      onDrawn: (kind, timestamp) => {
        state.pictures++;
        if (kind === 'compressed')
          state.pictureType = 'compressed';
        if (kind === 'video') {
          state.video.lastDrawn = timestamp;
          state.video.drawWay = this.display.videoWay;
        }
        this.setPictureStale(false);
      },
      onImageError: () => state.decodeErrors++,
    });
    this.audio = new AudioPlayer(state.audio, () => this.audioChanged());
    this.presenter = new FramePresenter({
      draw: (frame) => this.display.drawVideoFrame(frame),
      clock: () => this.audio.clockMs(),
      behind: (frame) => this.video.behind(frame.timestamp),
      stats: state.video,
      onPresented: (ts, clock) => {
        state.video.lastTimestamp = ts;
        if (clock !== null) {
          state.video.sync.push(clock - ts);
          if (state.video.sync.length > SYNC_SAMPLES)
            state.video.sync.shift();
        }
      },
    });
    this.video = new VideoPlayer(state.video, {
      onFrame: (frame) => this.presenter.push(frame),
      onUnsupported: (why, name, codec) => this.videoUnsupported(why, name, codec),
      onNeedKeyframe: () => this.pictureLost(),
    });
    this.showMissingFeatures();
    this.installStats();
    this.input = new Input(canvas, {
      toSource: (x, y) => this.display.toSource(x, y),
      send: (type, payload) => this.sendInput(type, payload),
      canSend: () => this.connection.open,
    });
    this.input.install();
    this.installDevices();
    /* browsers start audio only after a user gesture */
    const gesture = () => this.audio.start();
    window.addEventListener('pointerdown', gesture, true);
    window.addEventListener('keydown', gesture, true);
    $('sound').addEventListener('click', gesture);

    const list = relaysFromLocation();
    this.relays = list.relays || [];
    state.relays = this.relays.map((r) => r.base);
    state.relaysFrom = list.from;
    state.relayError = list.error || null;
    const token = new URLSearchParams(location.search).get('token');
    this.connection = new Connection(
      this.relays.map((r) => relayStreamUrl(r, state.channel, token)), {
        onOpen: () => this.onOpen(),
        onMessage: (buf) => this.onMessage(buf),
        onClose: () => this.onClose(),
        onReconnecting: () => {
          state.reconnects++;
          this.relayChanged();
          this.updateNotice();
          this.showStatus();
        },
      }, state.sent);
    this.relayChanged();
    canvas.focus();
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.state.connected && !this.polling)
        this.pollSource();
    });
    state.source = null;        /* not asked yet */
    state.seen = { picture: false, audio: false, signals: false };
    if (state.relayError) {
      /* a configuration error: said, and nothing is tried */
      this.warning = state.relaysFrom === 'query' ?
        'This page\'s address is wrong: ' + state.relayError + '. Nothing is ' +
          'connected. Fix the relays parameter (comma-separated ws://HOST:PORT ' +
          'or wss://HOST:PORT, at most 16) or leave it out.' :
        'The list of relays this relay hands out (ds-relay --viewer-relay) is ' +
          'wrong: ' + state.relayError + '. Nothing is connected. Add ?relays= ' +
          'to the address, or ask the relay\'s administrator.';
    }
    this.updateNotice();
    this.showSignals();
    this.showStatus();
    if (!state.relayError)
      this.connection.connect();
  }

  /* the relay in use (or being tried) changed: state.relay, relayIndex */
  relayChanged () {
    const state = this.state;
    const i = this.connection.index;
    state.relayIndex = i;
    state.relay = this.relays.length ? this.relays[i].base : null;
    state.url = this.relays.length ? this.connection.url : null;
  }

  /* ---- gamepads and MIDI ---- */

  /* Like keys, which reach the picture only while it has the focus:
   * gamepads and MIDI while the page is visible and focused */
  inputActive () {
    return document.visibilityState === 'visible' && document.hasFocus();
  }

  installDevices () {
    const state = this.state;
    const send = (type, payload) => this.sendInput(type, payload);
    this.gamepads = new GamepadInput({
      getGamepads: () => (navigator.getGamepads ? navigator.getGamepads() : []),
      send,
      active: () => this.inputActive(),
      requestFrame: (cb) => requestAnimationFrame(cb),
      cancelFrame: (id) => cancelAnimationFrame(id),
      stats: state.gamepad,
    });
    /* no events for sticks and buttons: polled while a pad is connected;
     * what is held goes back to 0 when the page loses the focus */
    window.addEventListener('gamepadconnected', () => this.gamepads.wake());
    window.addEventListener('gamepaddisconnected', () => this.gamepads.wake());
    window.addEventListener('focus', () => this.gamepads.wake());
    window.addEventListener('blur', () => this.gamepads.release());
    document.addEventListener('visibilitychange', () => this.gamepads.release());
    this.gamepads.wake();

    this.midi = new MidiInput({
      requestMIDIAccess: navigator.requestMIDIAccess ?
        (opts) => navigator.requestMIDIAccess(opts) : undefined,
      send,
      active: () => this.inputActive(),
      now: () => performance.now(),
      onChange: () => this.updateMidiButton(),
      stats: state.midi,
    });
    const button = $('midi');
    button.hidden = !this.midi.available;
    button.addEventListener('click', () => this.midi.enable());
    if (new URLSearchParams(location.search).get('midi') === '1')
      this.midi.enable();
    this.updateMidiButton();
  }

  updateMidiButton () {
    const m = this.state.midi;
    const button = $('midi');
    const text = {
      off: 'MIDI',
      unavailable: 'MIDI',
      requesting: 'MIDI…',
      on: 'MIDI · ' + m.inputs,
      denied: 'MIDI denied',
    };
    button.textContent = text[m.state] || 'MIDI';
    button.classList.toggle('on', m.state === 'on');
    button.title = m.state === 'on' ? m.inputs + ' MIDI input(s) sent to the source' :
      m.state === 'denied' ? 'MIDI access refused: ' + m.error :
        'send MIDI input to the source (the browser may ask)';
  }

  /* ---- connection ---- */

  onOpen () {
    const state = this.state;
    state.connected = true;
    state.everConnected = true;
    state.ended = false;
    /* what this connection brings is told apart from what the page
     * still shows of the last one */
    state.seen = { picture: false, audio: false, signals: false };
    state.source = null;
    /* what we hold may not match what the relay sends: start over from a
     * keyframe (the relay's catch-up begins with one) */
    this.decoder.newConnection();
    this.video.reset(null);
    this.presenter.clear();
    state.waitingForKeyframe = true;
    if (this.select !== null && this.connection.send(FRAME.SUBSCRIBE_FILTER, 0,
        utf8enc.encode(JSON.stringify({ select: this.select }))))
      state.sent.filters++;
    this.input.sendResize();
    this.framesSinceOpen = 0;
    this.firstPong = true;
    this.probing = 0;           /* probe answers still to come */
    this.probeMin = null;       /* the lowest probe answer so far */
    clearTimeout(this.probeTimer);
    this.opened++;
    this.openedRelay = state.relay;
    this.pollDelay = SOURCE_POLL_MS;
    this.pollSource();
    this.updateNotice();
    this.showStatus();
  }

  /* @n Pings PROBE_SPACING_MS apart on connection @opened (none once
   * it has closed) */
  probe (opened, n) {
    if (opened !== this.opened || !this.state.connected)
      return;
    if (n <= 0) {
      /* an answer the relay never sent (it drops what it cannot take)
       * does not keep the reading away */
      this.probeTimer = setTimeout(() => this.probeDone(), PROBE_WAIT_MS);
      return;
    }
    this.connection.sendPing();
    setTimeout(() => this.probe(opened, n - 1), PROBE_SPACING_MS);
  }

  /* the probes are answered: the lowest answer is the RTT shown */
  probeDone () {
    clearTimeout(this.probeTimer);
    this.probing = 0;
    if (this.probeMin !== null) {
      this.state.latency = this.probeMin;
      this.probeMin = null;
      this.scheduleStatus();
    }
  }

  onClose () {
    const state = this.state;
    state.connected = false;
    clearTimeout(this.probeTimer);
    this.probing = 0;
    this.probeMin = null;
    if (this.openedRelay) {
      state.lostRelay = this.openedRelay;
      this.openedRelay = null;
    }
    this.relayChanged();        /* the one tried next */
    /* what is on the page is from the connection that ended */
    if (state.pictures > 0)
      this.setPictureStale(true);
    if (Object.keys(state.signals).length > 0)
      this.setSignalsStale(true);
    if (this.keyframeTimer) {
      clearTimeout(this.keyframeTimer);
      this.keyframeTimer = 0;
    }
    clearTimeout(this.pollTimer);
    this.pollTimer = 0;
    this.updateNotice();
    this.showStatus();
  }

  /* The stream alone cannot tell "no source" from "a source that has
   * sent nothing yet" or "one that sends no picture": the relay's
   * /channels/{name} can. Asked at once on open, then while no frame of
   * a known source came in the last 2 s (a channel whose frames flow is
   * not asked: they say enough): every 2 s, doubling up to 30 s while
   * the answer stays the same, never while the page is hidden. An
   * answer that takes over 5 s, or comes for a connection that has
   * ended, is not used. */
  pollSource () {
    clearTimeout(this.pollTimer);
    this.pollTimer = 0;
    const state = this.state;
    if (!state.connected)
      return;
    const live = state.source === true && !state.ended &&
        performance.now() - this.lastFrameAt < SOURCE_POLL_MS;
    if (!live && !this.polling && !document.hidden) {
      this.polling = true;
      this.polledAt = performance.now();
      const opened = this.opened;
      const slower = () => {
        this.pollDelay = Math.min(this.pollDelay * 2, SOURCE_POLL_MAX_MS);
      };
      /* the relay of this connection (another than the page's: it
       * answers pages of the origins given in its --allowed-origin) */
      fetch(relayChannelUrl(this.relays[this.connection.index], state.channel),
          { cache: 'no-store', signal: AbortSignal.timeout(SOURCE_POLL_TIMEOUT_MS) })
        .then((res) => res.status === 404 ? { source: false } : res.ok ? res.json() : null)
        .then((info) => {
          if (opened !== this.opened || !state.connected ||
              !info || typeof info.source !== 'boolean')
            return slower();
          if (state.source === info.source)
            return slower();
          state.source = info.source;
          this.pollDelay = SOURCE_POLL_MS;
          this.updateNotice();
        })
        .catch(slower)          /* an older relay, or one going away */
        .finally(() => { this.polling = false; });
    }
    this.pollTimer = setTimeout(() => this.pollSource(), live ? SOURCE_POLL_MS : this.pollDelay);
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
    state.bytes += buf.byteLength;

    if (r.kind === 'ping') {
      const rtt = (now32() - r.header.timestamp) >>> 0;
      if (this.firstPong) {
        this.firstPong = false;
        /* the relay answers the Ping sent on open behind the catch-up it
         * queued first (a whole picture, megabytes perhaps), which we
         * decoded and drew before reading the answer: that reading is
         * the catch-up's, not the network's (without a catch-up it is
         * one of the samples). And while a new page
         * starts (its first pictures decoded and drawn, its layout) an
         * answer waits for the page, not the network: 100-150 ms in a
         * new page, 2-5 ms later. So PROBE_PINGS Pings go out,
         * PROBE_SPACING_MS apart, and the lowest answer is shown once
         * they are all answered (or PROBE_WAIT_MS after the last). */
        this.probing = PROBE_PINGS;
        this.probeMin = this.framesSinceOpen > 0 || rtt >= 60000 ? null : rtt;
        this.probe(this.opened, PROBE_PINGS);
        return;
      }
      if (this.probing > 0) {
        this.probing--;
        if (rtt < 60000 && (this.probeMin === null || rtt < this.probeMin))
          this.probeMin = rtt;
        if (this.probing === 0)
          this.probeDone();
        return;
      }
      if (rtt < 60000) {
        state.latency = rtt;
        this.scheduleStatus();
      }
      return;
    }
    this.framesSinceOpen++;
    if (r.kind === 'input')
      return;                   /* input is for sources */
    this.lastFrameAt = performance.now();
    if (r.kind === 'malformed' && !r.header) {
      state.decodeErrors++;     /* not even a frame */
      return;
    }

    state.frames++;
    state.lastType = r.header.type;
    if (r.newStream) {
      state.ended = false;      /* a new stream follows */
      this.warning = null;
    }
    /* frames come from a source (the relay's catch-up of one that left
     * is asked about by pollSource) */
    if (state.source === null)
      state.source = true;
    else if (state.source === false && !this.polling &&
        performance.now() - this.polledAt > Math.max(SOURCE_REPOLL_MS, this.pollDelay / 8))
      this.pollSource();        /* a catch-up, or a source that came */
    const kind = SEQ_KIND[frameSeqStream(r.header.type)];
    if (kind)
      state.seen[kind] = true;
    this.scheduleStatus();
    state.gaps = this.decoder.stats.gaps;
    state.inflated = this.decoder.stats.inflated;

    if (r.compressed) {
      state.compressedSkipped++;
      const t = r.header.type;
      if (t === FRAME.PIXELS || t === FRAME.DELTA_PIXELS ||
          t === FRAME.MOTION_DELTA_PIXELS || t === FRAME.COMPRESSED_PIXELS)
        this.warning = 'This stream is compressed with zstd, and this relay was built ' +
            'without the viewer\'s zstd decoder (fzstd: npm ci in relay/viewer). ' +
            'Publish it with dsdelta compression=none (the default).';
    }

    switch (r.kind) {
      case 'malformed':
        state.decodeErrors++;
        state.lastError = r.error;
        if (r.header.type === FRAME.ENCODED_VIDEO)
          this.onUnitDropped(r);  /* what follows refers to it */
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
      case 'unit':
        this.onVideo(r);
        break;
      case 'dropped':
        if (r.header.type === FRAME.ENCODED_VIDEO)
          this.onUnitDropped(r);
        break;
      case 'audio':
        if (r.codec === 'pcm')
          this.audio.play(r.channels, r.rate, r.payload, r.header.timestamp);
        else
          this.audio.playOpus(r.channels, r.payload, r.header.timestamp);
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
        this.video.reset('keyframe');
        break;
      case 'end':
        this.video.reset(null);
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
    state.waitingForKeyframe = this.waitingForKeyframe();
    this.updateNotice();
  }

  /* ---- encoded video ---- */

  onVideo (r) {
    const state = this.state;
    this.videoStream = true;
    state.pictureType = 'video';
    if (r.missing > 0) {
      /* a unit is lost: what follows refers to it */
      this.video.reset('gap');
      if (!r.keyframe)
        this.pictureLost();
    }
    this.video.push({
      codec: r.codec,
      keyframe: r.keyframe,
      unit: r.unit,
      timestamp: r.header.timestamp,
      width: r.header.width,
      height: r.header.height,
    });
    if (r.keyframe && !this.video.waitingForKeyframe)
      this.gotKeyframe();
    else if (this.waitingForKeyframe())
      this.requestKeyframe();
  }

  /* A unit the stream model dropped or found malformed: no keyframe
   * before it (at the start, after a seq gap, a Keyframe or End frame,
   * another codec or size), or what follows refers to it. The decoder
   * waits for the next keyframe, which pictureLost() asks for. */
  onUnitDropped (r) {
    this.videoStream = true;
    this.state.video.skipped++;
    if (!this.video.waitingForKeyframe)
      this.video.reset(r.missing > 0 ? 'gap' : 'dropped');
  }

  videoUnsupported (why, name, codec) {
    const state = this.state;
    if (why === 'no-webcodecs') {
      state.video.cannotDecode = name;
      this.warning = 'This page cannot decode ' + name + ' video: WebCodecs exists only in a ' +
          'secure context. Open it over https (ds-relay --tls-cert/--tls-key, see ' +
          'docs/relay.md) or on localhost.';
      this.updateNotice();
      return;
    }
    state.video.cannotDecode = codec || name;
    this.warning = why === 'unknown' ?
      'This viewer does not know the video ' + name + ' of this stream.' :
      'This browser cannot decode ' + name + ' (codec ' + codec + ').';
    this.updateNotice();
  }

  waitingForKeyframe () {
    /* a stream this browser cannot decode: no keyframe would help */
    if (this.videoStream)
      return this.video.waitingForKeyframe && !this.video.unsupported;
    return this.decoder.waitingForKeyframe;
  }

  /* WebCodecs and AudioWorklet exist only in a secure context: say what
   * cannot play here and how to fix it (what can play still does) */
  showMissingFeatures () {
    const missing = missingMediaFeatures();
    this.state.missingFeatures = missing;
    this.state.secureContext = window.isSecureContext;
    if (missing.length === 0)
      return;
    const why = window.isSecureContext ? 'this browser has no ' + missing.join(', ') :
      'this page is not a secure context, so the browser hides ' + missing.join(', ');
    $('secure-notice').textContent = 'Encoded video (H.264, VP8, VP9, AV1) and Opus sound ' +
        'cannot play here: ' + why + '. Pictures, PCM sound and signals still play. ' +
        (window.isSecureContext ? 'Use a recent Chromium, Firefox or Safari.' :
          'Open it over https (ds-relay --tls-cert/--tls-key, see docs/relay.md) or on localhost.');
    $('secure-notice').hidden = false;
  }

  audioChanged () {
    this.updateSoundButton();
    if (this.state.audio.unsupported > 0 && $('secure-notice').hidden)
      this.showMissingFeatures();
  }

  /* ---- stats overlay ---- */

  installStats () {
    $('stats-button').addEventListener('click', () => this.toggleStats());
    /* S toggles it unless the picture has the keys (they are the
     * source's then); Alt+S anywhere */
    window.addEventListener('keydown', (e) => {
      if (e.code !== 'KeyS' || e.ctrlKey || e.metaKey || e.repeat)
        return;
      if (!e.altKey && (e.target === this.display.canvas || e.shiftKey))
        return;
      if (e.target instanceof HTMLInputElement)
        return;
      e.preventDefault();
      e.stopPropagation();      /* not sent to the source */
      this.toggleStats();
    }, true);
    this.statsLast = null;
  }

  toggleStats () {
    const el = $('stats');
    el.hidden = !el.hidden;
    this.state.statsShown = !el.hidden;
    $('stats-button').classList.toggle('on', !el.hidden);
    clearInterval(this.statsTimer);
    this.statsTimer = 0;
    this.statsLast = null;
    if (!el.hidden) {
      this.updateStats();
      this.statsTimer = setInterval(() => this.updateStats(), STATS_INTERVAL_MS);
    }
  }

  updateStats () {
    const state = this.state;
    const v = state.video;
    const a = state.audio;
    const now = performance.now();
    const cur = { t: now, pictures: state.pictures, bytes: state.bytes };
    const last = this.statsLast;
    if (!last || now - last.t >= 900) {
      if (last) {
        const dt = (now - last.t) / 1000;
        state.fps = (cur.pictures - last.pictures) / dt;
        state.kbps = (cur.bytes - last.bytes) * 8 / 1000 / dt;
      }
      this.statsLast = cur;
    }
    const codec = this.videoStream ?
      v.codec + (v.codecString ? ' (' + v.codecString + ')' : '') +
        (v.cannotDecode ? ' — cannot decode here' : '') :
      (state.pictureType || '–');
    const rows = [
      ['relay', (state.relay || '–') + (this.relays.length > 1 ?
        ' (' + (state.relayIndex + 1) + ' of ' + this.relays.length + ')' : '') +
        (state.connected ? '' : ', not connected')],
      ['codec', codec],
      ['size', state.width ? state.width + '×' + state.height : '–'],
      ['fps', state.fps === null ? '–' : state.fps.toFixed(1)],
      ['bitrate', state.kbps === null ? '–' : state.kbps.toFixed(0) + ' kbit/s'],
      ['RTT', state.latency === null ? '–' : state.latency + ' ms'],
      ['dropped', String(v.dropped + v.skipped + this.decoder.stats.dropped)],
      ['late', String(v.late)],
      ['decode', v.decodeMs === null ? '–' : v.decodeMs.toFixed(1) + ' ms'],
      ['audio', a.frames === 0 ? '–' : (a.opus ? 'Opus' : 'PCM') + ', ' + a.path +
        (a.path === 'worklet' ? ', ' + a.queuedMs + ' ms queued, ' + a.underruns + ' underruns, ' +
          a.overruns + ' overruns' : '')],
      ['A/V', v.sync.length ? (v.sync[v.sync.length - 1]).toFixed(0) + ' ms' : '–'],
    ];
    const body = $('stats').tBodies[0];
    rows.forEach(([name, value], i) => {
      let tr = body.rows[i];
      if (!tr) {
        tr = body.insertRow();
        tr.insertCell().textContent = name;
        tr.insertCell();
        tr.dataset.name = name;
      }
      tr.cells[1].textContent = value;
    });
  }

  currentPicture () {
    const d = this.decoder;
    return d.reference ? { bytes: d.reference, width: d.width, height: d.height } : null;
  }

  /* ---- picture ---- */

  onPictureSize (w, h, changed) {
    const state = this.state;
    if (changed) {
      state.width = w;
      state.height = h;
      this.input.sendResize();
      /* a decoded VideoFrame may come after the last message */
      this.scheduleStatus();
      this.updateNotice();
    }
  }

  requestKeyframe () {
    if (this.keyframeTimer)
      return;
    const ask = () => {
      if (!this.waitingForKeyframe()) {
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
    this.updateNotice();
  }

  setSignalsStale (stale) {
    if (this.state.signalsStale === stale)
      return;
    this.state.signalsStale = stale;
    $('signals').classList.toggle('stale', stale);
    this.updateNotice();
  }

  /* ---- status display ---- */

  showStatus () {
    const state = this.state;
    const pill = $('st-connected');
    pill.classList.toggle('connected', state.connected);
    pill.lastElementChild.textContent = state.relayError ? 'not connected' :
      state.connected ? 'live' : (state.ended ? 'ended' : 'reconnecting');
    $('st-latency').textContent = state.latency === null ? '– ms' : state.latency + ' ms';
    $('st-size').textContent = state.width ? state.width + '×' + state.height : 'no picture';
    $('s-connected').textContent = String(state.connected);
    $('s-latency').textContent = state.latency === null ? '–' : state.latency + ' ms';
    $('s-frames').textContent = String(state.frames);
    $('s-reconnects').textContent = String(state.reconnects);
    $('s-relay').textContent = state.relay || '–';
    /* the relay is named in the top bar when it may not be the page's
     * (a list, or one relay from the address) */
    const relayPill = $('st-relay');
    relayPill.hidden = this.relays.length < 2 && state.relaysFrom !== 'query' &&
      !state.relayError;
    relayPill.textContent = state.relayError ? 'relays: wrong' :
      (state.relay || '').replace(/^wss?:\/\//, '') +
        ' · ' + (state.relayIndex + 1) + '/' + this.relays.length;
    relayPill.title = state.relayError ? state.relayError :
      'relay in use: ' + state.relay + ' (' + (state.relayIndex + 1) + ' of ' +
        this.relays.length + ': ' + state.relays.join(', ') + ')';
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

  /* What the channel is doing, as far as this page can tell: one of
   * connecting, reconnecting, connected (the relay not asked yet),
   * no-source, waiting-frames (a source that has sent nothing yet),
   * no-picture (a source that sends signals or sound, no picture so far),
   * waiting-picture (pictures come, none drawable yet: a delta before
   * its keyframe), picture, picture-no-source (the last picture of a
   * source that left), ended and bad-relays (?relays= is wrong, nothing
   * is tried). state.view holds it, for tests. */
  viewState () {
    const s = this.state;
    if (s.relayError)
      return 'bad-relays';
    if (!s.connected)
      return s.everConnected ? 'reconnecting' : 'connecting';
    if (s.ended)
      return 'ended';
    if (s.width)
      return s.source === false ? 'picture-no-source' : 'picture';
    if (s.source === null)
      return 'connected';
    if (s.source === false)
      return 'no-source';
    if (s.seen.picture)
      return 'waiting-picture';
    if (s.seen.signals || s.seen.audio)
      return 'no-picture';
    return 'waiting-frames';
  }

  updateNotice () {
    const state = this.state;
    const view = this.viewState();
    state.view = view;
    if (this.warning) {
      this.notice(this.warning, 'warn');
      return;
    }
    const held = Object.keys(state.signals).length > 0;
    const stale = state.pictureStale || state.signalsStale;
    let text = null;
    let kind = null;
    /* with several relays, which one */
    const several = this.relays.length > 1;
    const which = several ? state.relay + ', ' + (state.relayIndex + 1) + ' of ' +
      this.relays.length : '';
    switch (view) {
      case 'connecting':
        text = several ? 'Connecting to ' + which + '…' : 'Connecting…';
        break;
      case 'reconnecting':
        text = 'The connection to the relay is lost' +
          (several ? (state.lostRelay ? ' (' + state.lostRelay + ')' : '') +
            '. Trying ' + which + '…' : '. Reconnecting…') +
          (stale ? ' What is shown (greyed) is from before.' : '');
        kind = state.width ? 'top' : null;
        break;
      case 'connected':
        text = several ? 'Connected to ' + which + '.' : 'Connected.';
        break;
      case 'no-source':
        text = 'No source on this channel: the picture appears as soon as one publishes.';
        if (held)
          text += stale ? ' The values shown (greyed) are from before.' :
            ' The values shown are the last it sent.';
        break;
      case 'waiting-frames':
        text = 'The source is connected. Waiting for its first frame…';
        break;
      case 'no-picture': {
        const what = [state.seen.audio ? 'sound' : null, state.seen.signals ? 'signals' : null]
          .filter((w) => w).join(' and ');
        text = 'The source is connected and sends ' + what + ', no picture.';
        break;
      }
      case 'waiting-picture':
        text = 'Waiting for the first picture…';
        break;
      case 'picture-no-source':
        text = 'No source on this channel now: this is the last picture it sent.';
        kind = 'top';
        break;
      case 'ended':
        text = 'The source ended its stream. A new one may follow.';
        kind = state.width ? 'top' : null;
        break;
      default:
        break;                  /* a live picture speaks for itself */
    }
    this.notice(text, kind);
  }

  notice (text, kind) {
    const el = $('notice');
    if (el.textContent !== (text || ''))
      el.textContent = text || '';
    el.hidden = !text;
    el.classList.toggle('warn', kind === 'warn');
    el.classList.toggle('top', kind === 'top');
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
  /* for tests: the players (an AnalyserNode on hooks.audio.node) */
  state.hooks = { audio: page.audio, video: page.video, presenter: page.presenter };
  return page;
}
