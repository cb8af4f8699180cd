/* ds-relay viewer: the AudioWorklet processor that plays the sound
 *
 * Loaded by core/audio.js with audioWorklet.addModule() (it runs on the
 * audio thread: no imports, no DOM). The page posts chunks of planar
 * float32 samples at the context's rate, each with the stream timestamp
 * (ms) of its first sample; they queue here (the ring of chunks) and are
 * played through a small jitter buffer:
 *  - it starts playing when `targetMs` of sound is queued, and starts
 *    over (buffering again) after an underrun, which plays silence and
 *    is counted;
 *  - more than `maxMs` queued is an overrun: the oldest sound is dropped
 *    down to the target, and counted.
 * Every few render quanta it posts the stream timestamp of the sample it
 * just played with the context time it plays at, the audio clock that
 * pictures are presented against (core/video.js), and its counters.
 */

const REPORT_EVERY_QUANTA = 4;

class DsAudioProcessor extends AudioWorkletProcessor {
  constructor (options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.target = Math.round(sampleRate * (o.targetMs || 80) / 1000);
    this.max = Math.round(sampleRate * (o.maxMs || 300) / 1000);
    this.chunks = [];           /* { planes, ts, offset } */
    this.queued = 0;            /* sample frames queued */
    this.playing = false;
    this.quanta = 0;
    this.counts = { underruns: 0, overruns: 0, droppedMs: 0, silenceMs: 0, chunks: 0 };
    this.port.onmessage = (e) => this.take(e.data);
  }

  take (m) {
    if (m.reset) {
      this.chunks = [];
      this.queued = 0;
      this.playing = false;
      return;
    }
    const len = m.planes[0].length;
    if (len === 0)
      return;
    this.chunks.push({ planes: m.planes, ts: m.ts, offset: 0 });
    this.queued += len;
    this.counts.chunks++;
    if (this.queued > this.max) {
      /* too much sound waits: the oldest goes, down to the target */
      this.counts.overruns++;
      let drop = this.queued - this.target;
      while (drop > 0 && this.chunks.length > 0) {
        const c = this.chunks[0];
        const k = Math.min(drop, c.planes[0].length - c.offset);
        c.offset += k;
        drop -= k;
        this.queued -= k;
        this.counts.droppedMs += k * 1000 / sampleRate;
        if (c.offset === c.planes[0].length)
          this.chunks.shift();
      }
    }
  }

  process (inputs, outputs) {
    const out = outputs[0];
    const n = out[0].length;
    let filled = 0;
    let ts = null;

    if (!this.playing && this.queued >= this.target)
      this.playing = true;
    if (this.playing) {
      while (filled < n && this.chunks.length > 0) {
        const c = this.chunks[0];
        const len = c.planes[0].length;
        if (ts === null)
          ts = c.ts + (c.offset - filled) * 1000 / sampleRate;
        const k = Math.min(n - filled, len - c.offset);
        for (let ch = 0; ch < out.length; ch++) {
          const src = c.planes[Math.min(ch, c.planes.length - 1)];
          out[ch].set(src.subarray(c.offset, c.offset + k), filled);
        }
        filled += k;
        c.offset += k;
        this.queued -= k;
        if (c.offset === len)
          this.chunks.shift();
      }
      if (filled < n) {
        /* underrun: silence, and buffer up to the target again */
        this.counts.underruns++;
        this.playing = false;
      }
    }
    if (filled < n) {
      for (let ch = 0; ch < out.length; ch++)
        out[ch].fill(0, filled);
      if (this.counts.chunks > 0)
        this.counts.silenceMs += (n - filled) * 1000 / sampleRate;
    }
    if (++this.quanta % REPORT_EVERY_QUANTA === 0 || (ts !== null && this.quanta < REPORT_EVERY_QUANTA)) {
      this.port.postMessage({
        ts,                     /* stream ms of this quantum's first sample, or null */
        time: currentTime,      /* when it plays, on the context's clock */
        queuedMs: this.queued * 1000 / sampleRate,
        counts: this.counts,
      });
    }
    return true;
  }
}

registerProcessor('ds-audio', DsAudioProcessor);
