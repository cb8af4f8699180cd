/* ds-relay viewer: playing AudioPcm and AudioCompressed (Opus)
 *
 * Both go through one AudioWorkletNode (core/audio-processor.js) with a
 * small jitter buffer: PCM as it comes (interleaved float32, resampled
 * to the context's rate when it differs), Opus through WebCodecs'
 * AudioDecoder (48000 Hz, the header's channel count). The worklet
 * reports which stream timestamp it plays: clockMs() is the audio clock
 * pictures are presented against.
 *
 * Browsers start audio only after a user gesture: start() is called from
 * one. Outside a secure context there is no AudioWorklet and no
 * AudioDecoder: PCM is then played the old way, one AudioBufferSourceNode
 * per frame, and Opus cannot be played (unsupported is counted).
 */

const CONTEXT_RATE = 48000;
const JITTER_TARGET_MS = 80;
const JITTER_MAX_MS = 300;
/* chunks kept while the worklet module loads */
const MAX_EARLY_CHUNKS = 50;
/* a worklet report older than this: the sound stalled, no clock */
const CLOCK_STALE_S = 0.25;

/* the old path (no worklet) */
const BUFFER_JITTER_S = 0.1;
const BUFFER_MAX_AHEAD_S = 0.5;

export const WORKLET_URL = '/core/audio-processor.js';

/** The features this page lacks to play everything (WebCodecs and
 * AudioWorklet exist only in a secure context): a list of names */
export function missingMediaFeatures () {
  const missing = [];
  if (typeof VideoDecoder === 'undefined')
    missing.push('VideoDecoder');
  if (typeof AudioDecoder === 'undefined')
    missing.push('AudioDecoder');
  const Base = window.BaseAudioContext || window.AudioContext;
  if (typeof AudioWorkletNode === 'undefined' || !Base || !('audioWorklet' in Base.prototype))
    missing.push('AudioWorklet');
  return missing;
}

/* linear interpolation from @from Hz to @to Hz */
function resample (plane, from, to) {
  const n = Math.max(1, Math.round(plane.length * to / from));
  const out = new Float32Array(n);
  const step = from / to;
  for (let i = 0; i < n; i++) {
    const x = i * step;
    const j = Math.floor(x);
    const a = plane[Math.min(j, plane.length - 1)];
    const b = plane[Math.min(j + 1, plane.length - 1)];
    out[i] = a + (b - a) * (x - j);
  }
  return out;
}

export class AudioPlayer {
  /** @stats: see viewer.js state.audio, updated in place;
   * @onChange(): the context's state changed, or what can be played */
  constructor (stats, onChange) {
    this.stats = stats;
    this.onChange = onChange;
    this.ctx = null;
    this.node = null;           /* the worklet's node, once loaded */
    this.early = [];            /* chunks before it loaded */
    this.next = 0;              /* the old path's schedule */
    this.report = null;         /* the worklet's last report */
    this.opus = null;           /* AudioDecoder */
    this.opusChannels = 0;
  }

  get running () {
    return this.ctx !== null && this.ctx.state === 'running';
  }

  start () {
    if (this.ctx) {
      if (this.ctx.state === 'suspended')
        this.ctx.resume();
      return;
    }
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx)
      return;
    try {
      this.ctx = new Ctx({ latencyHint: 'interactive', sampleRate: CONTEXT_RATE });
    } catch (e) {
      this.ctx = new Ctx({ latencyHint: 'interactive' });
    }
    this.ctx.onstatechange = () => {
      this.stats.context = this.ctx.state;
      this.onChange();
    };
    this.stats.context = this.ctx.state;
    this.next = 0;
    if (this.ctx.audioWorklet && typeof AudioWorkletNode !== 'undefined') {
      this.stats.path = 'loading';
      this.ctx.audioWorklet.addModule(WORKLET_URL).then(() => this.workletLoaded(), (e) => {
        this.stats.path = 'buffers';
        this.stats.lastError = 'AudioWorklet: ' + e.message;
        this.early = [];
        this.onChange();
      });
    } else {
      this.stats.path = 'buffers';
    }
    this.onChange();
  }

  workletLoaded () {
    const node = new AudioWorkletNode(this.ctx, 'ds-audio', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [2],
      processorOptions: { targetMs: JITTER_TARGET_MS, maxMs: JITTER_MAX_MS },
    });
    node.port.onmessage = (e) => {
      const m = e.data;
      if (m.ts !== null)
        this.report = m;
      const s = this.stats;
      s.queuedMs = Math.round(m.queuedMs);
      s.underruns = m.counts.underruns;
      s.overruns = m.counts.overruns;
      s.droppedMs = Math.round(m.counts.droppedMs);
      s.silenceMs = Math.round(m.counts.silenceMs);
    };
    node.connect(this.ctx.destination);
    this.node = node;
    this.stats.path = 'worklet';
    for (const c of this.early)
      this.post(c.planes, c.ts);
    this.early = [];
    this.onChange();
  }

  /** The stream timestamp (ms) heard now, or null when no sound plays */
  clockMs () {
    const r = this.report;
    if (!r || !this.running)
      return null;
    const ctx = this.ctx;
    if (ctx.currentTime - r.time > CLOCK_STALE_S)
      return null;
    /* the context time the listener hears now: from the output's own
     * timestamp where the browser gives one, else the render time less
     * the latencies */
    let heard;
    const out = ctx.getOutputTimestamp ? ctx.getOutputTimestamp() : null;
    if (out && out.contextTime > 0 && out.performanceTime > 0)
      heard = out.contextTime + (performance.now() - out.performanceTime) / 1000;
    else
      heard = ctx.currentTime - (ctx.outputLatency || 0) - (ctx.baseLatency || 0);
    return r.ts + (heard - r.time) * 1000;
  }

  /** Plays @payload (a Uint8Array at a 4-byte aligned offset) of
   * @channels interleaved float32 channels at @rate Hz, stream time
   * @timestamp ms */
  play (channels, rate, payload, timestamp = 0) {
    this.stats.frames++;
    if (this.stats.frames === 1)
      this.onChange();
    if (!this.running || channels === 0 || rate === 0 ||
        payload.length % (4 * channels) !== 0) {
      this.stats.dropped++;
      return;
    }
    const frames = payload.length / (4 * channels);
    if (frames === 0)
      return;
    const samples = new Float32Array(payload.buffer, payload.byteOffset, frames * channels);
    const planes = [];
    for (let c = 0; c < channels; c++) {
      const plane = new Float32Array(frames);
      for (let i = 0, j = c; i < frames; i++, j += channels)
        plane[i] = samples[j];
      planes.push(plane);
    }
    this.playPlanes(planes, rate, timestamp);
  }

  playPlanes (planes, rate, timestamp) {
    if (this.stats.path === 'buffers') {
      this.playBuffer(planes, rate);
      return;
    }
    const to = this.ctx.sampleRate;
    if (rate !== to)
      planes = planes.map((p) => resample(p, rate, to));
    if (!this.node) {
      if (this.early.length >= MAX_EARLY_CHUNKS) {
        this.stats.dropped++;
        return;
      }
      this.early.push({ planes, ts: timestamp });
      return;
    }
    this.post(planes, timestamp);
  }

  post (planes, ts) {
    this.node.port.postMessage({ planes, ts }, planes.map((p) => p.buffer));
    this.stats.scheduled++;
  }

  /* Without a worklet: one AudioBufferSourceNode per frame, scheduled
   * back to back behind a small jitter buffer */
  playBuffer (planes, rate) {
    const frames = planes[0].length;
    const abuf = this.ctx.createBuffer(planes.length, frames, rate);
    planes.forEach((p, c) => abuf.getChannelData(c).set(p));
    const t = this.ctx.currentTime;
    /* restart the buffer on underrun, drop when too far ahead */
    if (this.next < t + 0.01)
      this.next = t + BUFFER_JITTER_S;
    else if (this.next > t + BUFFER_MAX_AHEAD_S) {
      this.stats.dropped++;
      return;
    }
    const src = this.ctx.createBufferSource();
    src.buffer = abuf;
    src.connect(this.ctx.destination);
    src.start(this.next);
    this.next += abuf.duration;
    this.stats.scheduled++;
  }

  /** One Opus packet (AudioCompressed) of @channels channels, stream
   * time @timestamp ms */
  playOpus (channels, payload, timestamp) {
    const s = this.stats;
    s.frames++;
    s.opus++;
    if (s.frames === 1)
      this.onChange();
    if (typeof AudioDecoder === 'undefined') {
      s.unsupported++;
      if (s.unsupported === 1)
        this.onChange();
      return;
    }
    if (!this.running || channels === 0) {
      s.dropped++;
      return;
    }
    if (!this.opus || this.opus.state === 'closed' || this.opusChannels !== channels) {
      if (this.opus && this.opus.state !== 'closed')
        this.opus.close();
      this.opus = new AudioDecoder({
        output: (data) => this.opusOutput(data),
        error: (e) => {
          s.opusErrors++;
          s.lastError = 'Opus: ' + e.message;
          this.opus = null;
        },
      });
      this.opus.configure({ codec: 'opus', sampleRate: 48000, numberOfChannels: channels });
      this.opusChannels = channels;
    }
    try {
      this.opus.decode(new EncodedAudioChunk({ type: 'key', timestamp: timestamp * 1000, data: payload }));
    } catch (e) {
      s.opusErrors++;
      s.lastError = 'Opus: ' + e.message;
    }
  }

  opusOutput (data) {
    try {
      const planes = [];
      for (let c = 0; c < data.numberOfChannels; c++) {
        const plane = new Float32Array(data.numberOfFrames);
        data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
        planes.push(plane);
      }
      this.stats.opusDecoded++;
      if (this.running)
        this.playPlanes(planes, data.sampleRate, data.timestamp / 1000);
    } finally {
      data.close();
    }
  }
}
