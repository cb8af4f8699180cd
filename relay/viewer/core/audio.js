/* ds-relay viewer: playing AudioPcm
 *
 * Interleaved float32 samples into a Web Audio context, through a small
 * jitter buffer. Browsers start audio only after a user gesture: start()
 * is called from one.
 */

const AUDIO_JITTER_S = 0.1;
const AUDIO_MAX_AHEAD_S = 0.5;

export class AudioPlayer {
  /** @stats: { frames, scheduled, dropped, context }, updated in place;
   * @onChange(): the context's state changed */
  constructor (stats, onChange) {
    this.stats = stats;
    this.onChange = onChange;
    this.ctx = null;
    this.next = 0;
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
    this.ctx = new Ctx({ latencyHint: 'interactive' });
    this.ctx.onstatechange = () => {
      this.stats.context = this.ctx.state;
      this.onChange();
    };
    this.stats.context = this.ctx.state;
    this.next = 0;
    this.onChange();
  }

  /** Plays @payload (a Uint8Array at a 4-byte aligned offset) of
   * @channels interleaved float32 channels at @rate Hz */
  play (channels, rate, payload) {
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
    const abuf = this.ctx.createBuffer(channels, frames, rate);
    for (let c = 0; c < channels; c++) {
      const out = abuf.getChannelData(c);
      for (let i = 0, j = c; i < frames; i++, j += channels)
        out[i] = samples[j];
    }
    const t = this.ctx.currentTime;
    /* a small jitter buffer: restart it on underrun, drop when too late */
    if (this.next < t + 0.01)
      this.next = t + AUDIO_JITTER_S;
    else if (this.next > t + AUDIO_MAX_AHEAD_S) {
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
}
